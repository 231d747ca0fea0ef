# rfork.sh: ns9 rfork -n, -N and -m, as root and as an unprivileged uid.
. "$(dirname "$0")/../lib.sh"
setup
echo secret >"$SCR/host-only"
mkdir "$SCR/m"

# Exit status is the command's; a missing command is 127.
"$NS9" rfork -n sh -c 'exit 7'
is "$?" 7 "rfork -n: the exit status is the command's"
"$NS9" rfork -n /nonexistent-command 2>"$TD/.t.err"
is "$?:$(cat "$TD/.t.err")" "127:ns9: rfork: exec: file does not exist: '/nonexistent-command'" "rfork of a missing command"
is "$(SHELL=/bin/echo "$NS9" rfork -n)" "" "default command is \$SHELL"
"$NS9" rfork -n -N true 2>/dev/null
is "$?" 2 "-n and -N together is a usage error"

# -n is a new mount namespace; -m forbids mounts but not binds.
[ "$("$NS9" rfork -n readlink /proc/self/ns/mnt)" != "$(readlink /proc/self/ns/mnt)" ]
is "$?" 0 "rfork -n gives a new mount namespace"

out=$("$NS9" rfork -n -m sh -c '
	"$NS9" bind "#T" "$0/m" 2>&1; echo "rc=$?"
	mount -t tmpfs x "$0/m" 2>/dev/null; echo "mount(8) rc=$?"
	"$NS9" mount "fs!tmpfs!x" "$0/m" 2>&1; echo "rc=$?"
	"$NS9" bind /usr "$0/m" && echo "bind ok"
	"$NS9" unmount "$0/m" && echo "unmount ok"
	"$NS9" rfork -n "$NS9" bind "#T" "$0/m" 2>&1; echo "nested rc=$?"' "$SCR")
is "$out" "ns9: bind #T $SCR/m: #T: mount/attach disallowed
rc=1
mount(8) rc=32
ns9: mount fs!tmpfs!x $SCR/m: mount/attach disallowed
rc=1
bind ok
unmount ok
ns9: bind #T $SCR/m: #T: mount/attach disallowed
nested rc=1" "rfork -m: mounts refused (also in a new name space), binds allowed"

# The filter has no holes for the legacy MS_MGC_VAL flags, or for an
# fsopen context opened before the restriction.
out=$("$NS9" rfork -n -m sh -c '"$1" mgc "$0/m"; "$1" mgcbind /usr "$0/m"; umount "$0/m"' "$SCR" "$MC")
is "$out" "EPERM
ok" "rfork -m: mount(2) with MS_MGC_VAL is refused unless it binds"
out=$("$MC" fsopen-exec "$NS9" rfork -n -m "$MC" fsconfig 9)
is "$out" "EPERM" "rfork -m: an inherited fsopen context cannot create a file system"
out=$(asuser "$UNS9" rfork -n -m "$MC" mgc "$SCR/m")
is "$out" "EPERM" "rfork -m (user): MS_MGC_VAL refused"

# -N: a clean root on a fresh tmpfs; the host's files are absent.
out=$("$NS9" rfork -N sh -c '
	test -e "$0/host-only" && echo "host file visible"
	test -e /var/lib/dpkg && echo "host /var visible"
	test -e /root/.bashrc -a "$HOME" != /root && echo "root home visible"
	cat /etc/debian_version >/dev/null && echo "etc ok"
	echo x >/tmp/.rfork-probe && cat /tmp/.rfork-probe
	touch /usr/ro 2>/dev/null || echo "usr read-only"
	awk '\''$5 == "/" { for (i = 7; $i != "-"; i++); print $(i + 1), $(i + 2) }'\'' /proc/self/mountinfo' "$SCR")
is "$out" "etc ok
x
usr read-only
tmpfs ns9root" "rfork -N (root): clean root, /etc, writable /tmp, read-only /usr"

# The same for the unprivileged uid.
# (ns9 is reachable there only where the file binds it: the user's copy in its home)
cp "$UNS9" "$UHOME/ns9" && chown "$TUID:$TUID" "$UHOME/ns9"
out=$(asuser "$UNS9" rfork -N sh -c '
	test -e "$0/host-only" && echo "host file visible"
	test -e /var/lib/dpkg && echo "host /var visible"
	id -u; pwd
	echo x >/tmp/.rfork-probe && cat /tmp/.rfork-probe
	ls -d /srv
	"$HOME/ns9" bind "#T" /tmp && echo "bind in the clean name space"' "$SCR")
is "$out" "$TUID
$UHOME
x
/srv
bind in the clean name space" "rfork -N (user): clean root, home, /tmp, /srv, binds work"

out=$(asuser "$UNS9" rfork -n -m sh -c '"$NS9" bind "#T" "$0/m" 2>&1; unshare -Urm mount -t tmpfs x /tmp 2>/dev/null; echo "rc=$?"' "$SCR")
is "$out" "ns9: bind #T $SCR/m: #T: mount/attach disallowed
rc=32" "rfork -m (user): mounts refused, even in a new user namespace"
is "$(mounts "$SCR/")" "" "nothing reached the test's name space"
done_testing
