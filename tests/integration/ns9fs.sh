# ns9fs.sh: the control file system: PID/ns read and write, PID/root, self;
# writers' credentials; bad input; many writers at once.
. "$(dirname "$0")/../lib.sh"
setup
mkdir -p a b c m
echo A >a/f
chmod -R a+rwX "$SCR"
trap 'killall_waited; umount /run/ns9/proc 2>/dev/null; cd /; umount -l "$SCR" 2>/dev/null; rmdir "$SCR" 2>/dev/null' EXIT

# Root's service on the default mount point (the test's private /run).
"$NS9" fs
P=/run/ns9/proc
i=0; while [ $i -lt 50 ] && ! grep -q " $P .* fuse.ns9 " /proc/self/mountinfo; do sleep 0.1; i=$((i + 1)); done
ok "ns9 fs mounts /run/ns9/proc" grep -q " $P .* fuse.ns9 " /proc/self/mountinfo
D=$(pgrep -n -f "$NS9 fs")

"$NS9" rfork -n sleep 2001 &
T=$(waitfor "sleep 2001")
is "$(cat $P/$T/ns)" "$("$NS9" ns "$T")" "PID/ns reads as ns9 ns PID"
is "$(sh -c "echo \$\$; exec readlink $P/self" | sort -u | wc -l)" "1" "self is the reader"
is "$(ls $P/$T)" "ns
root" "PID holds ns and root"
ok "echo 'bind ...' > PID/ns" sh -c "echo 'bind $SCR/a $SCR/b' > $P/$T/ns"
is "$(cat $P/$T/root$SCR/b/f)" "A" "PID/root walks the target's name space"
is "$(ls "$SCR/b")" "" "the writer's name space is unchanged"
is "$(grep "^bind.*$SCR/b" $P/$T/ns)" "bind  $SCR/a $SCR/b" "the ns file shows the change"

# Bad input: the errno from write(2), the text at offset 0, nothing changed.
before=$(cat /proc/$T/mountinfo)
is "$("$CW" $P/$T/ns "bind /nonexistent $SCR/c")" "ENOENT
bind /nonexistent $SCR/c: file does not exist: '/nonexistent'" "a failed write: errno, then its text at offset 0"
is "$("$CW" $P/$T/ns "" | head -1)" "ok" "a write(2) of no bytes is nothing"
is "$("$CW" $P/$T/ns " ")" "EINVAL
empty command" "a blank command"
is "$("$CW" $P/$T/ns "frob x")" "EINVAL
frob: unknown command" "an unknown verb"
is "$("$CW" $P/$T/ns "bind a")" "EINVAL
bind: usage: bind [-abcC] new old" "wrong arity"
is "$("$CW" $P/$T/ns "bind -q a b")" "EINVAL
bind: unknown flag -q; usage: bind [-abcC] new old" "a bad flag"
is "$("$CW" $P/$T/ns "$(printf 'bind a b\nbind c d')")" "EINVAL
one command per write" "two commands in one write"
is "$("$CW" -z $P/$T/ns)" "EINVAL
a NUL byte in a command" "a NUL byte"
is "$(cat /proc/$T/mountinfo)" "$before" "the bad writes changed nothing"
sh -c 'exit 0' & gone=$!; wait $gone
is "$("$CW" $P/$gone/ns "bind $SCR/a $SCR/c" | head -1)" "open: ENOENT" "a process that is gone: its files are gone"
ok "the daemon still serves" cat $P/$T/ns

# Credentials: the writer's, never the daemon's.
asuser "$UNS9" rfork -n sleep 2002 &
U=$(waitfor "sleep 2002")
is "$(asuser "$CW" $P/$U/ns "bind $SCR/a $SCR/c" | head -1)" "ok" "a user writes to a name space it owns"
is "$(cat /proc/$U/root$SCR/c/f)" "A" "and it took effect"
is "$(asuser "$CW" $P/$T/ns "unmount $SCR/b" | head -1)" "EACCES" "a user cannot write to root's process"
asuser sleep 2003 &
I=$(waitfor "sleep 2003")
is "$(asuser "$CW" $P/$I/ns "bind $SCR/a $SCR/c" | head -1)" "EACCES" "nor to its own process in the initial name space"
setpriv --reuid 4343 --regid 4343 --clear-groups "$UNS9" rfork -n sleep 2004 &
O=$(waitfor "sleep 2004")
is "$(asuser "$CW" $P/$O/ns "bind $SCR/a $SCR/c" | head -1)" "EACCES" "nor to another user's"
is "$(grep -c "^bind.*$SCR" /proc/$T/mountinfo /proc/$O/mountinfo 2>/dev/null | sed 's/.*://' | tr '\n' ' ')" "0 0 " \
	"the refused writes changed nothing"

# No more than the writer has: root without CAP_SYS_ADMIN, and a writer
# under rfork -m, get nothing from the root server they could not do.
is "$(setpriv --bounding-set=-sys_admin --inh-caps=-sys_admin "$CW" $P/$T/ns "bind $SCR/a $SCR/c" | head -1)" "EACCES" \
	"root without CAP_SYS_ADMIN: permission denied"
out=$("$NS9" rfork -n -m sh -c '
	"$1" "$2/$$/ns" "bind $3/a $3/c" | head -1
	"$1" "$2/$$/ns" "bind #T $3/c" | head -2
	"$1" "$2/$$/ns" "mount fs!tmpfs!x $3/c" | head -2' sh "$CW" "$P" "$SCR")
is "$out" "ok
EPERM
mount/attach disallowed
EPERM
mount/attach disallowed" "rfork -m: through the server a bind works, a mount or a device is refused"

# A sandbox in the user's own user namespace, with no capabilities there,
# gets nothing through the server (the owner's rule would give it all).
out=$(asuser "$UNS9" rfork -n setpriv --inh-caps=-all --ambient-caps=-all sh -c \
	'grep CapEff /proc/self/status; "$1" "$2/$$/ns" "bind $3/a $3/c" | head -1' sh "$CW" "$P" "$SCR")
is "$out" "CapEff:	0000000000000000
EACCES" "a capability-less writer in its own user namespace: permission denied"
# Rights are the opener's: an open file handed to another gains nothing.
is "$("$CW" -u "$TUID" $P/$T/ns "bind $SCR/a $SCR/c" | head -1)" "EACCES" "opened by root, written by a user: refused"
is "$(asuser "$CW" $P/$U/ns "bind $SCR/a $SCR/c" | head -1)" "ok" "the same user's own write still works"
is "$("$CW" $P/$T/ns "$(head -c 70000 /dev/zero | tr '\0' a)" | head -1)" "E2BIG" "a command too long to be one FUSE write"

# Many writers at once: 8 x 1000 commands, to one target and to eight.
nfd() { ls /proc/$D/fd | wc -l; }
fd0=$(nfd)
mkdir -p "$SCR/m"
i=0; while [ $i -lt 8000 ]; do echo "$i"; i=$((i + 1)); done | sed "s|^|$SCR/m/|" | xargs mkdir
writer() {	# writer TARGET FIRST
	i=$2; end=$(($2 + 1000))
	while [ $i -lt $end ]; do echo "bind $SCR/a $SCR/m/$i"; i=$((i + 1)); done |
		while IFS= read -r l; do printf '%s\n' "$l" >"$P/$1/ns" || echo "failed: $l"; done
}
"$NS9" rfork -n sleep 2005 &
S=$(waitfor "sleep 2005")
wp=; w=0; while [ $w -lt 8 ]; do writer "$S" $((w * 1000)) >"$TD/w$w" & wp="$wp $!"; w=$((w + 1)); done; wait $wp
is "$(cat "$TD"/w*)" "" "8 writers x 1000 commands to one target: none failed"
is "$(awk -v d="$SCR/m/" 'index($5, d) == 1 { print $5 }' /proc/$S/mountinfo | sort -u | wc -l)" "8000" \
	"every command applied exactly once"
w=0; while [ $w -lt 8 ]; do "$NS9" rfork -n sleep 30$w & w=$((w + 1)); done
w=0; while [ $w -lt 8 ]; do eval "S$w=\$(waitfor 'sleep 30$w\$')"; w=$((w + 1)); done
wp=; w=0; while [ $w -lt 8 ]; do eval "writer \$S$w $((w * 1000))" >"$TD/v$w" & wp="$wp $!"; w=$((w + 1)); done; wait $wp
is "$(cat "$TD"/v*)" "" "8 writers x 1000 commands to eight targets: none failed"
n=0; w=0; per=; while [ $w -lt 8 ]; do
	eval "s=\$S$w"; k=$(awk -v d="$SCR/m/" 'index($5, d) == 1' /proc/$s/mountinfo | wc -l)
	n=$((n + k)); per="$per $s:$k"; w=$((w + 1))
done
echo "# per target:$per"
is "$n" "8000" "each applied once, in its own target"
is "$(nfd)" "$fd0" "the daemon holds no more file descriptors than before"
is "$(pgrep -c -f "$NS9 fs")" "1" "the daemon is still there"
ok "unmount the control file system" umount $P

# A user's own service, at $XDG_RUNTIME_DIR/ns9/proc (fusermount3 mounts it).
if command -v fusermount3 >/dev/null && [ -u "$(command -v fusermount3)" ]; then
	userfuse
	username
	asuser "$UNS9" fs
	UP=$UHOME/run/ns9/proc
	i=0; while [ $i -lt 50 ] && ! grep -q " $UP .* fuse.ns9 " /proc/self/mountinfo; do sleep 0.1; i=$((i + 1)); done
	ok "a user's ns9 fs mounts \$XDG_RUNTIME_DIR/ns9/proc" grep -q " $UP .* fuse.ns9 " /proc/self/mountinfo
	is "$(asuser "$CW" $UP/$U/ns "bind $SCR/a $SCR/m/0" | head -1)" "ok" "the user writes through its own service"
	is "$(cat /proc/$U/root$SCR/m/0/f)" "A" "and it took effect"
	is "$(asuser "$CW" $UP/$T/ns "unmount $SCR/b" | head -1)" "EACCES" "its service gives it no more than it has"
	umount "$UP"
else
	skip "no setuid fusermount3"; skip "no setuid fusermount3"; skip "no setuid fusermount3"; skip "no setuid fusermount3"
fi
done_testing
