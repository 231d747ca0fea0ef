# linkcut.sh: a link cut under an import and under cpu.  Two "hosts" on
# this machine: the test's network namespace and one it makes, joined by a
# veth pair; sshd runs in the far one.  The link is dropped mid-transfer:
# the readers get an error within a bounded time, nothing hangs, and no
# ssh, 9P client, exportfs or cpuserve is left on either side.  ssh's and
# sshd's keepalives are set short here (1 s, 3 tries); ns9 asks ssh for
# 15 s and 4 tries by default, so a dead link is found within a minute.
. "$(dirname "$0")/../lib.sh"
[ -x /usr/sbin/sshd ] || { echo "ok 1 # SKIP no sshd (sh mk/deps: openssh-server)"; echo "1..1"; exit 0; }
command -v ip >/dev/null || { echo "ok 1 # SKIP no ip(8)"; echo "1..1"; exit 0; }
# our own network namespace for the near side too, so nothing of the host's network changes
if [ -z "${LINKCUT_INNER:-}" ]; then
	exec env LINKCUT_INNER=1 unshare -n sh "$0" "$@"
fi
setup
username
userfuse
FAR=ns9far$$
ip link set lo up
ip netns add "$FAR" || { echo "not ok 1 - ip netns add"; exit 1; }
ip link add ns9near type veth peer name ns9far || { echo "not ok 1 - veth"; ip netns del "$FAR"; exit 1; }
ip link set ns9far netns "$FAR"
ip addr add 10.99.0.1/24 dev ns9near && ip link set ns9near up
ip netns exec "$FAR" sh -c 'ip addr add 10.99.0.2/24 dev ns9far && ip link set ns9far up && ip link set lo up'
SSHD_ADDR=10.99.0.2 SSHD_PORT=22 SSHD_PREFIX="ip netns exec $FAR" SSHD_EXTRA="ClientAliveInterval 1
ClientAliveCountMax 3"
sshd_start || { echo "not ok 1 - sshd"; cat "$S/sshd.log" 2>/dev/null; exit 1; }
trap 'kill $SSHD 2>/dev/null; ip netns del '"$FAR"' 2>/dev/null; ip link del ns9near 2>/dev/null; killall_waited; cd /; umount -l "$SCR" 2>/dev/null; rmdir "$SCR" 2>/dev/null' EXIT
export NS9REMOTE="$UNS9"
export NS9SSH="ssh -i $S/rootkey -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o BatchMode=yes -o LogLevel=ERROR -o ConnectTimeout=5 -o ServerAliveInterval=1 -o ServerAliveCountMax=3"
# everything of this test on either side (both are this machine's processes)
strays() {
	pgrep -f "^ssh -i $S/|^[^ ]*ns9 exportfs (-f )?-r ($SCR|/)|^[^ ]*ns9 cpuserve |^ns9 9pfuse" | wc -l | tr -d ' '
}
settle() { i=0; while [ $i -lt 150 ] && [ "$(strays)" != 0 ]; do sleep 0.1; i=$((i + 1)); done; }
linkup() { ip link set ns9near up; }
linkdown() { ip link set ns9near down; }

# ---- an import, the link dropped while a file is read ----
mkdir -p "$SCR/exp" "$SCR/n"
dd if=/dev/zero of="$SCR/exp/big" bs=1M count=256 2>/dev/null
timeout 120 "$NS9" rfork -n sh -c '
	'"$NS9"' import root@10.99.0.2 '"$SCR/exp"' '"$SCR/n"' || exit 9
	( while cat '"$SCR/n/big"' >/dev/null 2>&1; do :; done; date +%s >'"$TD/failed"' ) &
	sleep 1
	date +%s >'"$TD/cut"'
	ip link set ns9near down
	i=0; while [ $i -lt 300 ] && [ ! -s '"$TD/failed"' ]; do sleep 0.1; i=$((i + 1)); done
	# the 9P client, seeing its connection end, detaches its mount
	i=0; while [ $i -lt 50 ] && mountpoint -q '"$SCR/n"'; do sleep 0.1; i=$((i + 1)); done
	mountpoint -q '"$SCR/n"' && echo "still mounted" || echo gone
	wait' >"$TD/o" 2>"$TD/e"
rc=$?
s=$(( $(cat "$TD/failed" 2>/dev/null || echo 99999999999) - $(cat "$TD/cut") ))
[ "$rc" = 0 ] && [ "$s" -le 20 ] && r=ok || r="rc $rc, $s s"
is "$r:$(cat "$TD/o")" "ok:gone" "import: the link dropped mid-read: the reader fails within 20 s and the mount goes"
settle
is "$(strays)" 0 "import: no ssh, 9P client or exportfs left on either side"
linkup

# ---- cpu, the link dropped while the far command runs ----
timeout 120 "$NS9" cpu -h root@10.99.0.2 sh -c 'while cat /mnt/term'"$SCR/exp/big"' >/dev/null; do :; done; echo "the loop ended"' \
	>"$TD/o" 2>"$TD/e" &
C=$!
sleep 3
date +%s >"$TD/cut"
linkdown
i=0; while [ $i -lt 300 ] && kill -0 $C 2>/dev/null; do sleep 0.1; i=$((i + 1)); done
s=$(( $(date +%s) - $(cat "$TD/cut") ))
kill -0 $C 2>/dev/null && r="still running after $s s" || { wait $C; r="exit $?"; }
[ "$s" -le 25 ] || r="$r, after $s s"
is "$r" "exit 255" "cpu: the link dropped: cpu ends with ssh's 255 within 25 s"
settle
is "$(strays)" 0 "cpu: no ssh, exportfs, cpuserve or 9P client left on either side"
linkup
done_testing
