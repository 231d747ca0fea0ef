# cpu.sh: ns9 cpu over a real sshd the test starts on loopback: the far
# side runs the command in a new name space with the caller's at /mnt/term;
# streams, exit status, a pty, ^C; root and an unprivileged uid; faults.
# The "far side" is this machine, so the checks look at what only the
# caller's name space has: a tmpfs bound in a name space the caller made.
. "$(dirname "$0")/../lib.sh"
# (the far side's forwarded socket of the no-ns9 case stays, as ns9(1) says: removed here)
SSHTEST_CLEANUP='find /tmp -maxdepth 1 -name "ns9cpu.*.sock" -newer "$TD/start" -delete 2>/dev/null'
sshtest
RSSH="ssh -i $S/rootkey $SSHOPTS"
USSH="ssh -i $UHOME/key $SSHOPTS"
# what cpu leaves behind: its exportfs, the far side, its private directories
touch "$TD/start"
strays() {
	n=$(pgrep -f "^[^ ]*ns9 exportfs -f -r / -s cpu\.|^[^ ]*ns9 cpuserve " | wc -l)
	n=$((n + $(find "$UHOME/run/ns9/srv" /run/ns9/srv -maxdepth 1 -name 'cpu.*' 2>/dev/null | wc -l)))
	echo "$n"
}
# the far side's forwarded sockets made since the test started (cpuserve removes its own)
socks() { find /tmp -maxdepth 1 -name 'ns9cpu.*.sock' -newer "$TD/start" | wc -l | tr -d ' '; }
# (a post named cpu.* in the srv directory is cpu's own, gone when it ends)
settle() { i=0; while [ $i -lt 50 ] && [ "$(strays)" != 0 ]; do sleep 0.1; i=$((i + 1)); done; }

# ---- root: the caller's name space at /mnt/term ----
L=$SCR/only-here
mkdir -p "$L"
timeout 60 env NS9SSH="$RSSH" "$NS9" rfork -n sh -c '
	'"$NS9"' bind "#T" '"$L"' && echo local >'"$L"'/mark || exit 9
	'"$NS9"' cpu -h root@127.0.0.1 sh -c "cat /mnt/term'"$L"'/mark; test -e '"$L"'/mark || echo \"not in the far root\"; echo err >&2; exit 3"' \
	>"$TD/o" 2>"$TD/e"
is "$?:$(cat "$TD/o"):$(cat "$TD/e")" "3:local
not in the far root:err" "root: the command sees the caller's name space at /mnt/term, not its own; stdout, stderr and the exit status come back"
settle
is "$(strays):$(socks)" 0:0 "root: no exportfs, far side, directory or forwarded socket left"
[ "$(strays)" = 0 ] || { pgrep -af "ns9 exportfs|ns9 cpuserve"; ls /run/ns9/srv; } 2>&1 | sed "s/^/# /"

# the caller's srv directory at /mnt/term/srv: its posts listed, and mounted there
# (the far side's ns9 is the caller's, run from /mnt/term: the far root has no /tmp/ns9t.*)
"$NS9" ramfs -s cpupost
timeout 60 env NS9SSH="$RSSH" "$NS9" cpu -h root@127.0.0.1 ls -l /mnt/term/srv >"$TD/o" 2>"$TD/e"
is "$?:$(grep -c '^-[-rwx]*[tT] .* 0 .* cpupost$' "$TD/o")" "0:1" \
	"root: a service posted here is listed in /mnt/term/srv on the far side, as an empty file"
timeout 60 env NS9SSH="$RSSH" "$NS9" cpu -h root@127.0.0.1 sh -c '
	n=/mnt/term'"$NS9"'
	mkdir /tmp/cp && $n mount /mnt/term/srv/cpupost /tmp/cp && echo far >/tmp/cp/f && cat /tmp/cp/f &&
	$n ns | grep " /tmp/cp\$" && $n unmount /tmp/cp && ls /tmp/cp' >"$TD/o" 2>"$TD/e"
is "$?:$(cat "$TD/o"):$(cat "$TD/e")" "0:far
mount  /mnt/term/srv/cpupost /tmp/cp:" \
	"root: the far side mounts the caller's posted service through /mnt/term/srv, writes, reads, sees it in ns, unmounts"
mkdir -p "$SCR/cp"
"$NS9" rfork -n sh -c "$NS9 mount /srv/cpupost $SCR/cp && cat $SCR/cp/f" >"$TD/o" 2>&1
is "$?:$(cat "$TD/o")" "0:far" "root: what the far side wrote is in the service here"
timeout 60 env NS9SSH="$RSSH" "$NS9" cpu -h root@127.0.0.1 sh -c '
	mkdir /tmp/cp; /mnt/term'"$NS9"' mount /mnt/term/etc/hostname /tmp/cp' >"$TD/o" 2>"$TD/e"
is "$?:$(grep -c 'not a service' "$TD/e")" "1:1" "root: a plain file through /mnt/term is not dialled (no 9P written into it)"

# the service killed while the far side has it mounted: an error there, within bounds
timeout 60 env NS9SSH="$RSSH" "$NS9" cpu -h root@127.0.0.1 sh -c '
	mkdir /tmp/cp && /mnt/term'"$NS9"' mount /mnt/term/srv/cpupost /tmp/cp || exit 9
	echo mounted; i=0
	while [ $i -lt 150 ] && cat /tmp/cp/f >/dev/null 2>&1; do sleep 0.1; i=$((i + 1)); done
	cat /tmp/cp/f 2>/dev/null && echo "still read" || echo gone' >"$TD/o" 2>"$TD/e" &
C=$!
i=0; while [ $i -lt 200 ] && ! grep -q mounted "$TD/o"; do sleep 0.1; i=$((i + 1)); done
pkill -9 -f '^([^ ]*/)?ns9 ramfs -s cpupost$'
wait $C
is "$?:$(cat "$TD/o")" "0:mounted
gone" "root: the service killed under the far side's mount: reads there fail, in bounded time"
settle
is "$(strays):$(socks)" 0:0 "root: after the far side's service mounts: nothing left"

# a clean name space on the far side, from a namespace file
printf '%s\n' "bind '#r/usr' /usr" "bind '#r/bin' /bin" "bind '#r/lib' /lib" "bind '#r/lib64' /lib64" \
	"bind '#c' /dev" "bind '#p' /proc" "bind -c '#T' /tmp" >"$SCR/cpu.ns"
timeout 60 env NS9SSH="$RSSH" "$NS9" cpu -h root@127.0.0.1 -n "$SCR/cpu.ns" sh -c \
	'ls /etc 2>/dev/null | wc -l; ls /mnt/term/etc/os-release' >"$TD/o" 2>"$TD/e"
is "$?:$(cat "$TD/o"):$(cat "$TD/e")" "0:0
/mnt/term/etc/os-release:" "root: -n: the far name space is the file's (no /etc), with /mnt/term"

# ---- a pty, ^C ----
if command -v script >/dev/null; then
	( sleep 3; printf 'tty\n'; sleep 1; printf 'sleep 30\n'; sleep 2; printf '\003'; sleep 1
	  printf 'echo alive\n'; sleep 1; printf 'exit 4\n' ) |
		env NS9SSH="$RSSH" SHELL=/bin/sh timeout 60 script -qec "$NS9 cpu -h root@127.0.0.1" /dev/null >"$TD/o" 2>&1
	rc=$?
	# the terminal's output without CRs and escape sequences (a shell's bracketed paste)
	tr -d '\r' <"$TD/o" | sed 's/\x1b\[[0-9;?]*[a-zA-Z]//g' >"$TD/o2"
	grep -qx '/dev/pts/[0-9]*' "$TD/o2" && pty=pty || pty="no pty"
	grep -qx 'alive' "$TD/o2" && alive=alive || alive="no echo after ^C"
	is "$rc:$pty:$alive" "4:pty:alive" "interactive: a pty on the far side, ^C interrupts the command there, the exit status comes back"
else
	skip "interactive: no script(1)"
fi
settle

# ---- an unprivileged user, both sides ----
mkdir -p "$UHOME/lu" && chown "$TUID:$TUID" "$UHOME/lu"
asuser env NS9SSH="$USSH" "$UNS9" rfork -n sh -c '
	'"$UNS9"' bind "#T" '"$UHOME/lu"' && echo userlocal >'"$UHOME/lu"'/mark || exit 9
	'"$UNS9"' cpu -h ns9test@127.0.0.1 sh -c "id -u; cat /mnt/term'"$UHOME/lu"'/mark"' >"$TD/o" 2>"$TD/e"
is "$?:$(cat "$TD/o"):$(cat "$TD/e")" "0:$TUID
userlocal:" "user: cpu as an unprivileged user on both sides, /mnt/term is its name space"
asuser "$UNS9" ramfs -s upost
asuser env NS9SSH="$USSH" "$UNS9" cpu -h ns9test@127.0.0.1 sh -c '
	n=/mnt/term'"$UNS9"'
	mkdir /tmp/cp && $n mount /mnt/term/srv/upost /tmp/cp && echo ufar >/tmp/cp/f && cat /tmp/cp/f' >"$TD/o" 2>"$TD/e"
is "$?:$(cat "$TD/o"):$(cat "$TD/e")" "0:ufar:" "user: the far side mounts the user's posted service through /mnt/term/srv"
pkill -u $TUID -f '^([^ ]*/)?ns9 ramfs -s upost$'
settle
is "$(strays):$(socks)" 0:0 "user: nothing left"

# ---- cpu killed (kill -9) mid-session: its server and ssh end with it, and the far side after ----
env NS9SSH="$RSSH" "$NS9" cpu -h root@127.0.0.1 sh -c 'while :; do echo tick; sleep 0.2; done' >/dev/null 2>&1 &
C=$!	# env execs ns9: this is cpu itself
sleep 3
kill -9 $C
wait $C 2>/dev/null
settle
# the far command ends at its next write, once sshd has closed the session
i=0; while [ $i -lt 100 ] && pgrep -f "while :; do echo tick" >/dev/null; do sleep 0.1; i=$((i + 1)); done
is "$(pgrep -f "^[^ ]*ns9 exportfs -f -r / -s cpu\.|^ssh -i $S/rootkey" | wc -l | tr -d ' '):$(pgrep -f "while :; do echo tick" | wc -l | tr -d ' '):$(strays)" "0:0:0" \
	"cpu killed: its exportfs and ssh end with it, and the far command ends"
pkill -f "while :; do echo tick" 2>/dev/null

# ---- faults ----
timeout 60 env NS9SSH="$RSSH" "$NS9" cpu -h root@nonexistent.invalid true >"$TD/o" 2>"$TD/e"
is "$?" 255 "unknown host: ssh's exit status (255)"
timeout 60 env NS9SSH="ssh -i $S/otherkey $SSHOPTS" "$NS9" cpu -h root@127.0.0.1 true >"$TD/o" 2>"$TD/e"
is "$?" 255 "refused authentication: 255"
timeout 60 env NS9SSH="$RSSH" NS9REMOTE=/nonexistent/ns9 "$NS9" cpu -h root@127.0.0.1 true >"$TD/o" 2>"$TD/e"
is "$?" 127 "a far side without ns9: 127"
"$NS9" cpu true >"$TD/o" 2>"$TD/e"
is "$?:$(grep -c 'no host' "$TD/e")" "2:1" "no host: a usage error"
settle
is "$(strays)" 0 "after the faults: no exportfs, far side or directory left"
[ "$(strays)" = 0 ] || { pgrep -af "ns9 exportfs|ns9 cpuserve"; ls /run/ns9/srv; } 2>&1 | sed 's/^/# /'
done_testing
