# import.sh: ns9 import (9P over ssh: ssh HOST ns9 exportfs -r PATH) with a
# real sshd the test starts on a private loopback port with throwaway keys,
# as root and as an unprivileged uid; bad input and faults.
. "$(dirname "$0")/../lib.sh"
sshtest
N() { timeout 60 env NS9SSH="ssh -i $S/rootkey $SSHOPTS" "$NS9" "$@"; }
# the ssh and exportfs processes of this test (by the test's port or key)
strays() { pgrep -f "^ssh -i ($S|$UHOME)/|^[^ ]*/ns9 exportfs -r $SCR/" | wc -l | tr -d ' '; }

# ---- root ----
R=$SCR/r
mkdir -p "$R/exp/sub" "$R/n"
echo hello >"$R/exp/greeting"
N rfork -n sh -c '
	'"$NS9"' import root@127.0.0.1 '"$R/exp"' '"$R/n"' || exit 1
	cat '"$R/n/greeting"'
	echo written >'"$R/n/sub/new"'
	ls '"$R/n"' | tr "\n" " "; echo
	'"$NS9"' ns | grep -F " '"$R/n"'"
	'"$NS9"' unmount '"$R/n"' && echo unmounted' >"$TD/o" 2>"$TD/e"
is "$?:$(cat "$TD/o"):$(cat "$TD/e")" "0:hello
greeting sub 
mount  ssh!root@127.0.0.1!$R/exp $R/n
unmounted:" "root: import reads and writes the remote tree; ns shows it as a mount of ssh!HOST!PATH"
is "$(cat "$R/exp/sub/new")" "written" "root: what was written through the import is in the remote tree"
i=0; while [ $i -lt 50 ] && [ "$(strays)" != 0 ]; do sleep 0.1; i=$((i + 1)); done
is "$(strays)" 0 "root: after unmount, no ssh and no remote exportfs left"

# the ns text replays; a namespace file's import line; a union member
mkdir -p "$R/u" "$R/exp2" && echo two >"$R/exp2/second"
printf 'import root@127.0.0.1 %s %s\nimport -a root@127.0.0.1 %s %s\n' "$R/exp" "$R/n" "$R/exp2" "$R/u" >"$R/imp.ns"
N rfork -n sh -c '
	'"$NS9"' addns '"$R/imp.ns"' || exit 1
	cat '"$R/n/greeting"' '"$R/u/second"'
	'"$NS9"' ns | grep -F " '"$R/"'" >'"$R/saved"'
	'"$NS9"' unmount '"$R/n"'; '"$NS9"' unmount '"$R/u"'
	sed "s/^/ /" '"$R/saved"' | grep -c ssh!' >"$TD/o" 2>"$TD/e"
is "$?:$(cat "$TD/o"):$(cat "$TD/e")" "0:hello
two
2:" "root: import lines in a namespace file (addns), one as a union member (-a)"
N rfork -n sh -c ''"$NS9"' addns '"$R/saved"' && cat '"$R/n/greeting"' && '"$NS9"' unmount '"$R/n"'; '"$NS9"' unmount '"$R/u"' 2>/dev/null; true' >"$TD/o" 2>"$TD/e"
is "$(cat "$TD/o"):$(cat "$TD/e")" "hello:" "root: the ns text of an import replays"

# ---- an unprivileged user in its own name space ----
U=$UHOME/u
mkdir -p "$U/exp" "$U/n" && echo mine >"$U/exp/f" && chown -R "$TUID:$TUID" "$U"
asuser env NS9SSH="ssh -i $UHOME/key $SSHOPTS" "$UNS9" rfork -n sh -c '
	'"$UNS9"' import ns9test@127.0.0.1 '"$U/exp"' '"$U/n"' || exit 1
	cat '"$U/n/f"'; echo more >'"$U/n/g"'
	'"$UNS9"' unmount '"$U/n"' && echo unmounted' >"$TD/o" 2>"$TD/e"
is "$?:$(cat "$TD/o"):$(cat "$TD/e")" "0:mine
unmounted:" "user: import in its own name space, read and write"
is "$(stat -c %U "$U/exp/g" 2>&1):$(cat "$U/exp/g" 2>&1)" "ns9test:more" "user: the file written is the user's, on the far side"

# ---- bad input and faults ----
cat /proc/self/mountinfo >"$TD/before"
N import root@nonexistent.invalid "$R/exp" "$R/n" >"$TD/o" 2>"$TD/e"
is "$?:$(grep -c 'ssh could not connect or log in' "$TD/e")" "1:1" "unknown host: exit 1, ssh's message and ours"
timeout 60 env NS9SSH="ssh -i $S/otherkey $SSHOPTS" "$NS9" import root@127.0.0.1 "$R/exp" "$R/n" >"$TD/o" 2>"$TD/e"
is "$?:$(grep -c 'ssh could not connect or log in' "$TD/e")" "1:1" "refused authentication: exit 1, a clear error"
NS9REMOTE=/nonexistent/ns9 N import root@127.0.0.1 "$R/exp" "$R/n" >"$TD/o" 2>"$TD/e"
is "$?:$(grep -c 'the remote side has no ns9' "$TD/e")" "1:1" "a remote without ns9: exit 1, said so"
N import root@127.0.0.1 "$R/nonexistent" "$R/n" >"$TD/o" 2>"$TD/e"
is "$?" 1 "a remote path that does not exist: exit 1"
N import -- -oProxyCommand=x "$R/exp" "$R/n" >"$TD/o" 2>"$TD/e"
is "$?:$(grep -c 'bad host' "$TD/e")" "2:1" "a host that reads as an ssh option is refused (a usage error)"
N import 'root@127.0.0.1' relative/path "$R/n" >"$TD/o" 2>"$TD/e"
is "$?:$(grep -c 'must be absolute' "$TD/e")" "1:1" "a relative remote path is refused"
cat /proc/self/mountinfo >"$TD/after"
cmp -s "$TD/before" "$TD/after" && r=same || r=changed
is "$r" same "the failed imports changed no mount"
i=0; while [ $i -lt 50 ] && [ "$(strays)" != 0 ]; do sleep 0.1; i=$((i + 1)); done
is "$(strays)" 0 "no ssh or remote exportfs left after the failures"

# through ctl the import is refused (ssh would be found in the target's root)
N rfork -n sleep 60 &
T=$(waitfor "sleep 60")
N ctl "$T" import root@127.0.0.1 "$R/exp" "$R/n" >"$TD/o" 2>"$TD/e"
is "$?:$(grep -c "not through ctl" "$TD/e")" "1:1" "import through ctl is refused with a clear error"
kill "$T" 2>/dev/null

# the far side dies under a reader: errors within a bounded time, nothing hangs, the mount goes
dd if=/dev/zero of="$R/exp/big" bs=1M count=64 2>/dev/null
N rfork -n sh -c '
	'"$NS9"' import root@127.0.0.1 '"$R/exp"' '"$R/n"' || exit 1
	( while cat '"$R/n/big"' >/dev/null 2>&1; do :; done; echo failed >'"$TD/failed"' ) &
	sleep 1
	pkill -9 -f "^[^ ]*/ns9 exportfs -r '"$R/exp"'"
	i=0; while [ $i -lt 100 ] && [ ! -s '"$TD/failed"' ]; do sleep 0.1; i=$((i + 1)); done
	cat '"$TD/failed"' 2>/dev/null || echo "no error"
	wait' >"$TD/o" 2>"$TD/e"
is "$(cat "$TD/o")" "failed" "the remote exportfs killed under a reader: the reader gets an error within 10 s"
i=0; while [ $i -lt 50 ] && [ "$(strays)" != 0 ]; do sleep 0.1; i=$((i + 1)); done
is "$(strays)" 0 "and no ssh or exportfs is left"
done_testing
