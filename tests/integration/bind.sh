# bind.sh: bind, unmount and ns as root, in an ns9 rfork -n name space and
# in the test's own; Plan 9 error texts; failures change nothing.
. "$(dirname "$0")/../lib.sh"
setup
mkdir a b c e 'sp ace' d2
echo A >a/f; echo C >c/f; echo F >file; echo G >file2; : >target

# Directory and file binds inside rfork -n; the parent never sees them.
out=$("$NS9" rfork -n sh -c '
	"$NS9" bind "$0/a" "$0/b" && cat "$0/b/f"
	"$NS9" bind "$0/file" "$0/target" && cat "$0/target"
	"$NS9" ns | grep "^bind.*$0"
	"$NS9" unmount "$0/b" && "$NS9" unmount "$0/target"
	"$NS9" ns | grep -c "^bind.*$0"' "$SCR")
is "$out" "A
F
bind  $SCR/a $SCR/b
bind  $SCR/file $SCR/target
0" "rfork -n: bind dir and file, ns lines, unmount"
is "$(mounts "$SCR/")" "" "parent name space unchanged by the child"

# ns text: two spaces after a flagless verb, quoted names with spaces.
ok "bind into a name with a space" "$NS9" bind "$SCR/a" "$SCR/sp ace"
is "$("$NS9" ns | grep -F "$SCR/sp")" "bind  $SCR/a '$SCR/sp ace'" "ns quotes a name with a space"
ok "unmount it" "$NS9" unmount "$SCR/sp ace"

# MREPL replaces what is mounted, leaving one mount, not a stack.
"$NS9" bind a b && "$NS9" bind c b
is "$(cat b/f)" "C" "a second bind replaces the first"
is "$(mounts "$SCR/b" | wc -l)" "1" "one mount at the point after replacing"
is "$("$NS9" ns | grep -F "$SCR/b")" "bind  $SCR/c $SCR/b" "ns shows the replacement"
expect_fail "unmount of a non-member" "ns9: unmount $SCR/a $SCR/b: not in union" "$NS9" unmount "$SCR/a" "$SCR/b"
ok "unmount new old" "$NS9" unmount "$SCR/c" "$SCR/b"
is "$(mounts "$SCR/b")" "" "unmount new old removed it"
is "$(ls b)" "" "the original directory shows again"

# Plan 9 errors; each leaves the mount table byte-identical.
expect_fail "missing path" "ns9: bind /nonexistent $SCR/b: file does not exist: '/nonexistent'" \
	"$NS9" bind /nonexistent "$SCR/b"
expect_fail "missing mount point" "ns9: bind $SCR/a $SCR/nope: file does not exist: '$SCR/nope'" \
	"$NS9" bind "$SCR/a" "$SCR/nope"
expect_fail "directory onto file" "ns9: bind $SCR/a $SCR/file: inconsistent mount" "$NS9" bind "$SCR/a" "$SCR/file"
expect_fail "file onto directory" "ns9: bind $SCR/file $SCR/b: inconsistent mount" "$NS9" bind "$SCR/file" "$SCR/b"
expect_fail "unmount of nothing" "ns9: unmount $SCR/b: not mounted" "$NS9" unmount "$SCR/b"
expect_fail "unknown device" "ns9: bind #x $SCR/b: #x: unknown device in # filename" "$NS9" bind '#x' "$SCR/b"
expect_fail "device with a spec" "ns9: bind #Tfoo $SCR/b: #Tfoo: unknown device in # filename" "$NS9" bind '#Tfoo' "$SCR/b"
expect_fail "union of a file" "ns9: bind $SCR/file $SCR/b: inconsistent mount" "$NS9" bind -a "$SCR/file" "$SCR/b"
ok "bind -c alone is a plain bind (Linux mounts allow creation)" "$NS9" bind -c "$SCR/a" "$SCR/b"
is "$(cat b/f)" "A" "bind -c replaced b"
"$NS9" unmount "$SCR/b"
expect_fail "bind onto the root" "ns9: bind $SCR/a /: cannot replace the root of the name space" \
	"$NS9" bind "$SCR/a" /
ok "bind / / is a no-op" "$NS9" bind / /
expect_fail "9P mount before the client exists" "ns9: mount /srv/none $SCR/b: file does not exist: '/srv/none'" \
	"$NS9" mount /srv/none "$SCR/b"
"$NS9" bind -a -b a b 2>"$SCR/.t.err"
is "$?:$(cat "$SCR/.t.err")" "2:ns9: bind: -a and -b together" "-a and -b together is a usage error"
"$NS9" bind a 2>"$SCR/.t.err"
is "$?:$(cat "$SCR/.t.err")" "2:ns9: bind: usage: bind [-abcC] new old" "wrong arity is a usage error"

# Devices: #T is a fresh tmpfs, #s the srv directory.
ok "bind #T" "$NS9" bind '#T' "$SCR/e"
is "$(ls -A e):$(stat -c %a e)" ":755" "#T is empty, mode 0755"
is "$("$NS9" ns | grep -F "$SCR/e")" "bind  #T $SCR/e" "ns names it #T"
ok "bind #s" "$NS9" bind '#s' "$SCR/d2"
is "$(stat -c '%a %u' /run/ns9/srv)" "700 0" "the srv directory is /run/ns9/srv, mode 0700"
touch /run/ns9/srv/probe
is "$(ls d2)" "probe" "#s shows the srv directory"
is "$("$NS9" ns | grep -F "$SCR/d2")" "bind  /run/ns9/srv $SCR/d2" "ns names the srv directory by path"

# Linux file systems appear as replayable mount lines.
ok "mount fs!tmpfs!x" "$NS9" mount 'fs!tmpfs!x' "$SCR/c" 'size=1m,nosuid'
is "$("$NS9" ns | grep -F "$SCR/c")" "mount  fs!tmpfs!x $SCR/c rw,size=1024k,nosuid" "ns prints it as mount fs!TYPE!SOURCE"
expect_fail "unknown file system type" "ns9: mount fs!nofs!x $SCR/b: unknown file system type 'nofs'" \
	"$NS9" mount 'fs!nofs!x' "$SCR/b"

# Propagation: a clone of a shared tree is private both ways (linux.md §5).
mkdir sh shb && mount -t tmpfs shared "$SCR/sh" && mount --make-shared "$SCR/sh" && mkdir sh/x sh/y
ok "bind a shared tree" "$NS9" bind "$SCR/sh" "$SCR/shb"
mount -t tmpfs late "$SCR/sh/x"
is "$(mounts "$SCR/shb/x")" "" "a later mount in the source does not propagate to the bind"
"$NS9" bind '#T' "$SCR/shb/y"
is "$(mounts "$SCR/sh/y")" "" "a mount in the bind does not propagate back"
is "$(awk -v p="$SCR/shb" '$5 == p' /proc/self/mountinfo | grep -c shared:)" "0" "the bind is not in a peer group"

# rfork -n from a shared parent: nothing leaks back.
mount --make-rshared "$SCR"
"$NS9" rfork -n "$NS9" bind '#T' "$SCR/b"
is "$(mounts "$SCR/b")" "" "rfork -n: a bind in the child does not reach a shared parent"
mount --make-rprivate "$SCR"
# ns text on tricky tables.  A name with a newline cannot forge a line.
mkdir nl && mount -t tmpfs "$(printf 'x\nbind /etc /root')" "$SCR/nl"
is "$("$NS9" ns | grep -c '^bind /etc')" "0" "a newline in a source does not make a command line"
is "$("$NS9" ns | grep -F "$SCR/nl")" "# ns9: a name with a newline: $SCR/nl: tmpfs x\012bind /etc /root /" \
	"it is a comment with the name escaped"
umount "$SCR/nl"
# A deleted source names nothing.
mkdir -p del/x dm && "$NS9" bind "$SCR/del/x" "$SCR/dm" && rmdir del/x
is "$("$NS9" ns | grep -F "$SCR/dm")" "# ns9: no name for the source of $SCR/dm: tmpfs ns9test /del/x//deleted" \
	"a deleted source is a comment, not a path"
"$NS9" unmount "$SCR/dm"
# A source covered before the bind was made cannot be named by its path then.
mkdir -p cv/t cm && mount -t tmpfs TTT "$SCR/cv/t" && mkdir cv/t/d
(cd cv/t/d && mount -t tmpfs COVER "$SCR/cv" && "$NS9" bind . "$SCR/cm")
is "$("$NS9" ns | grep -F "$SCR/cm")" "# ns9: no name for the source of $SCR/cm: tmpfs TTT /d" \
	"a source hidden when the bind was made is not named by a path that no longer reaches it"
# A source covered after the bind is still named: replayed in order, it is there.
mkdir -p la lb && mount -t tmpfs XX "$SCR/la" && mkdir la/sub && "$NS9" bind "$SCR/la/sub" "$SCR/lb" &&
	mount -t tmpfs YY "$SCR/la"
is "$("$NS9" ns | grep -F "$SCR/lb")" "bind  $SCR/la/sub $SCR/lb" "a source covered later is still named"

# ns of a process that is gone, and of one whose cwd the reader may not see.
sh -c 'exit 0' & gone=$!; wait $gone
expect_fail "ns of an exited process" "ns9: ns $gone: process exited" "$NS9" ns $gone
"$NS9" ns x 2>"$TD/.t.err"
is "$?:$(cat "$TD/.t.err")" "2:ns9: ns: bad pid 'x'" "ns with a bad pid is a usage error"
is "$(asuser "$UNS9" ns 1 | tail -1)" "# ns9: cwd of 1: permission denied" "a user reads another's table, not its cwd"

# listmount/statmount read the same table as mountinfo.
if NS9_TABLE=statmount "$NS9" ns >/dev/null 2>&1; then
	is "$(NS9_TABLE=statmount "$NS9" ns)" "$("$NS9" ns)" "statmount and mountinfo give the same text"
	sleep 30 & sp=$!
	is "$(NS9_TABLE=statmount "$NS9" ns $sp)" "$("$NS9" ns $sp)" "... for another process too"
	kill $sp
else
	skip "listmount/statmount need Linux 6.11"
	skip "listmount/statmount need Linux 6.11"
fi
done_testing
