# ctl.sh: changing a running process's name space from outside (ns9 ctl),
# looking into it (cross), copying one (cpns) and injecting into one, as
# root and as an unprivileged uid, with the permission matrix.
. "$(dirname "$0")/../lib.sh"
setup
mkdir -p a b c d e jail/mnt jail/a host-only
echo A >a/f; echo J >jail/a/f; echo H >host-only/h; : >file; : >jail/file
chmod -R a+rwX "$SCR"
# The jail: /usr from the host, made before any target so all share it.
mkdir -p jail/usr && mount --rbind /usr "$SCR/jail/usr" && ln -s usr/lib jail/lib && ln -s usr/lib64 jail/lib64

# nsb PID: the bind lines under the scratch directory, less the jail's /usr.
nsb() { "$NS9" ns "$1" | grep "^bind.*$SCR" | grep -v "jail/usr"; }
trap 'killall_waited; cd /; umount -l "$SCR" 2>/dev/null; rmdir "$SCR" 2>/dev/null' EXIT

# A root target in its own name space, with its cwd at $SCR/d.
(cd "$SCR/d" && exec "$NS9" rfork -n sleep 1001) &
T=$(waitfor "sleep 1001")
ok "ctl: bind in the target (argv form)" "$NS9" ctl "$T" bind "$SCR/a" "$SCR/b"
is "$(cat /proc/$T/root$SCR/b/f)" "A" "the target sees it"
is "$(ls "$SCR/b")" "" "the writer does not"
is "$(nsb "$T")" "bind  $SCR/a $SCR/b" "ns of the target shows it"
ok "ctl: a relative path resolves against the target's cwd" "$NS9" ctl "$T" "bind ../a ."
is "$(ls /proc/$T/root$SCR/d)" "f" "relative names are the target's"
ok "ctl: unmount" "$NS9" ctl "$T" "unmount $SCR/d" "unmount $SCR/a $SCR/b"
is "$(nsb "$T" | wc -l)" "0" "both gone"
printf 'bind %s/a %s/c\n# a comment\n\nbind %s/a %s/e\n' "$SCR" "$SCR" "$SCR" "$SCR" | "$NS9" ctl "$T"
is "$(nsb "$T" | wc -l)" "2" "ctl reads commands from stdin, one per line"
is "$("$NS9" ctl -n "$T" "bind -a x y" "unmount 'a b'")" "bind -a x y
unmount 'a b'" "ctl -n prints the plan"

# Bad input: a clear error, nothing changed.
expect_fail "ctl: a failing command stops the batch" "ns9: ctl $T: bind /nonexistent $SCR/b: file does not exist: '/nonexistent'
ns9: ctl $T: command 2 of 3 failed; 1 applied" "$NS9" ctl "$T" "unmount $SCR/e" "bind /nonexistent $SCR/b" "bind $SCR/a $SCR/b"
is "$(nsb "$T")" "bind  $SCR/a $SCR/c" "what applied before the failure stays; nothing after"
before=$(cat /proc/$T/mountinfo)
"$NS9" ctl "$T" "frob x" 2>"$TD/.t.err"; is "$?:$(cat "$TD/.t.err")" "2:ns9: ctl: line 1: frob: unknown command" "ctl: unknown verb"
"$NS9" ctl "$T" bind a 2>"$TD/.t.err"; is "$?:$(cat "$TD/.t.err")" "2:ns9: ctl: bind: usage: bind [-abcC] new old" "ctl: wrong arity"
"$NS9" ctl "$T" bind -q a b 2>"$TD/.t.err"; is "$?:$(cat "$TD/.t.err")" "2:ns9: ctl: bind: unknown flag -q; usage: bind [-abcC] new old" "ctl: bad flag"
expect_fail "ctl: cd" "ns9: ctl $T: cd: a process's current directory cannot be changed from outside" "$NS9" ctl "$T" cd /
sh -c 'exit 0' & gone=$!; wait $gone
expect_fail "ctl: a process that is gone" "ns9: ctl $gone: process exited" "$NS9" ctl "$gone" bind "$SCR/a" "$SCR/b"
is "$(cat /proc/$T/mountinfo)" "$before" "the target's mount table is unchanged by the bad input"

# A target that exits during a batch: "process exited", and what applied stays.
"$NS9" rfork -n sleep 1010 &
X=$(waitfor "sleep 1010")
mkdir -p "$SCR/x"
i=0; while [ $i -lt 5000 ]; do echo "bind $SCR/a $SCR/x"; i=$((i + 1)); done >"$TD/batch"
"$NS9" ctl "$X" <"$TD/batch" 2>"$TD/.t.err" & c=$!
sleep 0.05; kill "$X"; wait $c; rc=$?
if [ $rc -eq 0 ]; then
	skip "the batch finished before the target was killed"
else
	is "$rc:$(head -1 "$TD/.t.err")" "1:ns9: ctl $X: process exited" "a target that exits mid-batch: process exited"
fi

# A chrooted target resolves names in its own root.
"$NS9" rfork -n chroot "$SCR/jail" /usr/bin/sleep 1002 &
J=$(waitfor "sleep 1002")
ok "ctl into a chrooted target" "$NS9" ctl "$J" bind /a /mnt
is "$(cat /proc/$J/root/mnt/f)" "J" "its / is its root"

# cross: look into the target's name space as oneself.
is "$("$NS9" cross "$T" ls "$SCR/c")" "f" "cross lists a directory that exists only in the target's name space"
is "$("$NS9" cross "$T" sh -c 'id -u; pwd')" "0
$SCR/d" "cross keeps root's identity and takes the target's cwd"

# cpns: make a second target match the first.
"$NS9" rfork -n sleep 1004 &
M=$(waitfor "sleep 1004")
"$NS9" ctl "$M" "bind $SCR/a $SCR/b" "bind $SCR/file $SCR/jail/file"
is "$("$NS9" cpns -n "$M" "$T")" "unmount $SCR/a $SCR/c
bind  $SCR/a $SCR/b
bind  $SCR/file $SCR/jail/file" "cpns -n: undo the target's extra lines, then add the model's"
ok "cpns" "$NS9" cpns "$M" "$T"
is "$("$NS9" ns "$T" | sed '$d')" "$("$NS9" ns "$M" | sed '$d')" "after cpns the two ns texts are equal"

# inject: a tree from the caller's view into the target.
ok "inject (root)" "$NS9" inject "$T" "$SCR/host-only" "$SCR/e"
is "$(cat /proc/$T/root$SCR/e/h)" "H" "the injected tree is there"
is "$(awk -v p="$SCR/e" '$5 == p' /proc/$T/mountinfo | grep -c shared:)" "0" "and private"

# As the unprivileged uid: its own name space yes; others no.
asuser "$UNS9" rfork -n sleep 1005 &
U=$(waitfor "sleep 1005")
ok "user ctl into a name space it owns" asuser "$UNS9" ctl "$U" bind "$SCR/a" "$SCR/b"
is "$(cat /proc/$U/root$SCR/b/f)" "A" "it took effect"
is "$(asuser "$UNS9" cross "$U" sh -c 'id -u; ls '"$SCR/b")" "$TUID
f" "user cross keeps the uid"
ok "user inject into a name space it owns" asuser "$UNS9" inject "$U" "$SCR/host-only" "$SCR/c"
is "$(cat /proc/$U/root$SCR/c/h)" "H" "the injected tree is there"
asuser sleep 1006 &
I=$(waitfor "sleep 1006")
setpriv --reuid 4343 --regid 4343 --clear-groups "$UNS9" rfork -n sleep 1007 &
O=$(waitfor "sleep 1007")
for v in "$I:its own process in the initial name space" "$T:a root-owned process" "$O:another user's process" "1:init"; do
	p=${v%%:*} d=${v#*:}
	expect_fail "user ctl into $d" "ns9: ctl $p: permission denied" asuser "$UNS9" ctl "$p" bind "$SCR/a" "$SCR/d"
	expect_fail "user inject into $d" "ns9: inject $p $SCR/a $SCR/d: permission denied" asuser "$UNS9" inject "$p" "$SCR/a" "$SCR/d"
done
is "$(mounts "$SCR/d")" "" "the test's name space saw none of it"
done_testing
