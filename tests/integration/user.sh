# user.sh: the same as an unprivileged uid.  It cannot change a name space
# owned by the initial user namespace (this test's), but can change the one
# it makes with ns9 rfork -n.
. "$(dirname "$0")/../lib.sh"
setup
mkdir a b c 'sp ace'
echo A >a/f; echo F >file; : >target
chown -R "$TUID:$TUID" "$SCR/b" "$SCR/target"

# The initial name space is not the user's to change.
expect_fail "user bind in a root-owned name space" "ns9: bind $SCR/a $SCR/b: permission denied" \
	asuser "$UNS9" bind "$SCR/a" "$SCR/b"
expect_fail "user bind #T in a root-owned name space" "ns9: bind #T $SCR/b: #T: permission denied" \
	asuser "$UNS9" bind '#T' "$SCR/b"
expect_fail "user unmount in a root-owned name space" "ns9: unmount $SCR: permission denied" \
	asuser "$UNS9" unmount "$SCR"

# Its own: rfork -n, then bind and unmount a directory and a file.
out=$(asuser "$UNS9" rfork -n sh -c '
	id -u
	grep CapAmb /proc/self/status
	"$NS9" bind "$0/a" "$0/b" && cat "$0/b/f"
	"$NS9" bind "$0/file" "$0/target" && cat "$0/target"
	"$NS9" bind "$0/a" "$0/sp ace"
	"$NS9" ns | grep "^bind.*$0"
	"$NS9" unmount "$0/b" && "$NS9" unmount "$0/target" && "$NS9" unmount "$0/sp ace"
	"$NS9" ns | grep -c "^bind.*$0"' "$SCR")
is "$out" "$TUID
CapAmb:	0000000000240000
A
F
bind  $SCR/a $SCR/b
bind  $SCR/file $SCR/target
bind  $SCR/a '$SCR/sp ace'
0" "user rfork -n: same uid, CAP_SYS_ADMIN and CAP_SYS_CHROOT ambient, bind dir and file, ns, unmount"
is "$(mounts "$SCR/")" "" "the user's changes stay in its name space"

# Errors inside its own name space: the same texts, nothing changed.
cat >"$SCR/errs.sh" <<'EOS'
. "$1/bin/lib.sh"
SCR=$1 T_N=$2 TD=$HOME
expect_fail "user: missing path" "ns9: bind /nonexistent $SCR/b: file does not exist: '/nonexistent'" \
	"$NS9" bind /nonexistent "$SCR/b"
expect_fail "user: directory onto file" "ns9: bind $SCR/a $SCR/file: inconsistent mount" "$NS9" bind "$SCR/a" "$SCR/file"
expect_fail "user: unmount of nothing" "ns9: unmount $SCR/b: not mounted" "$NS9" unmount "$SCR/b"
expect_fail "user: unknown device" "ns9: bind #x $SCR/b: #x: unknown device in # filename" "$NS9" bind '#x' "$SCR/b"
expect_fail "user: unmount of a locked mount" \
	"ns9: unmount $SCR: mount is locked: it belongs to a more privileged name space" "$NS9" unmount "$SCR"
"$NS9" bind '#T' "$SCR/b" && "$NS9" bind '#s' "$SCR/c"
is "$(stat -c %a "$SCR/b"):$(ls -A "$SCR/b")" "755:" "user: #T is a fresh tmpfs"
is "$("$NS9" ns | grep "^bind.*$SCR/c")" "bind  $SCR/home/run/ns9/srv $SCR/c" "user: #s is \$XDG_RUNTIME_DIR/ns9/srv"
is "$(stat -c %a "$SCR/home/run/ns9/srv")" "700" "user: the srv directory is mode 0700"
echo "T_N=$T_N T_FAIL=$T_FAIL" >"$SCR/home/counts"
EOS
asuser env NS9="$UNS9" "$UNS9" rfork -n sh "$SCR/errs.sh" "$SCR" "$T_N"
eval "$(cat "$SCR/home/counts" 2>/dev/null || echo 'T_FAIL=$((T_FAIL + 1))')"
done_testing
