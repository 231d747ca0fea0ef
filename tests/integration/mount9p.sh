# mount9p.sh: mount of 9P services (lib/ns/mount9p.c): every way of naming
# a service, into one's own and into other processes' name spaces (ctl,
# the ns file), ns text and its replay, errors that change nothing, the
# server's lifetime, kill -9 of the service under a busy mount, and an
# unprivileged user in a name space of its own.
. "$(dirname "$0")/../lib.sh"
setup
mkdir -p n/a n/b n/c n/d n/e n/f ctl
SRVD=/run/ns9/srv

nfuse() { pgrep -c -f '^ns9 9pfuse' 2>/dev/null || echo 0; }
# gone COND...: wait (at most 5 s) until COND fails.
gone() { i=0; while "$@" 2>/dev/null; do [ $i -ge 50 ] && return 1; sleep 0.1; i=$((i + 1)); done; }
mounted() { grep -q " $1 " /proc/self/mountinfo; }

ok "ramfs posted" "$NS9" ramfs -s ram
RAM=$(pgrep -n -f '^([^ ]*/)?ns9 ramfs -s ram')
echo "$RAM" >>"$TD/.pids"

# Every name for a service.
ok "mount /srv/NAME (the srv directory, /srv not bound)" "$NS9" mount /srv/ram $SCR/n/a
ok "mount '#s/NAME'" "$NS9" mount '#s/ram' $SCR/n/b
ok "mount of a socket path" "$NS9" mount $SRVD/ram $SCR/n/c
ok "mount unix!path" "$NS9" mount "unix!$SRVD/ram" $SCR/n/d
mkdir -p /srv && "$NS9" bind '#s' /srv
ok "mount /srv/NAME with #s bound on /srv" "$NS9" mount -C /srv/ram $SCR/n/e spec
echo hello >$SCR/n/a/f
is "$(cat $SCR/n/b/f)" "hello" "written through one mount, read through another"
is "$(cat $SCR/n/e/f)" "hello" "and through a cached one"
is "$(mounts $SCR/n | awk '{print $1, $2, $3}' | sed 's/\\/%/g')" "$SCR/n/a fuse.9p /srv/ram
$SCR/n/b fuse.9p %043s/ram
$SCR/n/c fuse.9p $SRVD/ram
$SCR/n/d fuse.9p unix!$SRVD/ram
$SCR/n/e fuse.9pC /srv/ram%040spec" "mountinfo: subtype 9p (9pC cached), the service as source"
is "$("$NS9" ns | grep -F " $SCR/n/")" "mount  /srv/ram $SCR/n/a
mount  #s/ram $SCR/n/b
mount  $SRVD/ram $SCR/n/c
mount  unix!$SRVD/ram $SCR/n/d
mount -C /srv/ram $SCR/n/e spec" "ns text names each mount as it was made"
is "$(nfuse)" 5 "one 9pfuse server a mount"

# Replay: the text applied in a fresh name space makes the same text.
"$NS9" ns | grep -F " $SCR/n/" >$TD/ns.txt
is "$("$NS9" rfork -n sh -c "for d in a b c d e; do umount $SCR/n/\$d; done
	$NS9 ctl \$\$ <$TD/ns.txt || exit 1
	$NS9 ns | grep -F ' $SCR/n/'; cat $SCR/n/c/f")" "$(cat $TD/ns.txt)
hello" "ns text replays to the same name space"

# The replay's servers end with its name space (a little later under ASan).
gone sh -c "[ \$(pgrep -c -f '^ns9 9pfuse') -gt 5 ]"

# Unmount ends the server.
n0=$(nfuse)
ok "unmount" "$NS9" unmount $SCR/n/d
gone sh -c "[ \$(pgrep -c -f '^ns9 9pfuse') -ge $n0 ]"
is "$(nfuse)" $((n0 - 1)) "the server of an unmounted mount exits"

# A name space whose last process exits takes its 9P mounts, and their servers, with it.
n0=$(nfuse)
ok "a mount in a name space that then ends" "$NS9" rfork -n sh -c "$NS9 mount /srv/ram $SCR/n/d && ls $SCR/n/d >/dev/null &&
	[ \$(pgrep -c -f '^ns9 9pfuse') -gt $n0 ]"
gone sh -c "[ \$(pgrep -c -f '^ns9 9pfuse') -gt $n0 ]"
is "$(nfuse)" $n0 "its server exits with the name space (it does not keep it alive)"

# Into a running process's name space: ns9 ctl and the ns file.
"$NS9" rfork -n sleep 300 &
P=$(waitfor "sleep 300")
ok "ns9 ctl PID mount" "$NS9" ctl $P mount /srv/ram $SCR/n/f
is "$(cat /proc/$P/root$SCR/n/f/f)" "hello" "the target sees the service"
mounted $SCR/n/f && r=yes || r=no
is "$r" "no" "the writer's name space is unchanged"
env NS9MARK=server "$NS9" fs $SCR/ctl
i=0; while [ $i -lt 50 ] && ! mounted $SCR/ctl; do sleep 0.1; i=$((i + 1)); done
ok "echo mount > PID/ns" sh -c "echo 'mount -C #s/ram $SCR/n/a' >$SCR/ctl/$P/ns"
echo again >>$SCR/n/b/f
is "$(cat /proc/$P/root$SCR/n/a/f)" "hello
again" "a write here is read there"
is "$(grep -F " $SCR/n/" $SCR/ctl/$P/ns)" "mount  #s/ram $SCR/n/b
mount  $SRVD/ram $SCR/n/c
mount -C /srv/ram $SCR/n/e spec
mount  /srv/ram $SCR/n/f
mount -C #s/ram $SCR/n/a" "the ns file shows the mounts (a replaced in place)"
is "$("$CW" $SCR/ctl/$P/ns "mount /srv/nope $SCR/n/a")" "ENOENT
mount /srv/nope $SCR/n/a: file does not exist: '/srv/nope'" "a missing service through the ns file: ENOENT and the text"

# Errors change nothing.
expect_fail "a missing post" "ns9: mount /srv/nope $SCR/n/b: file does not exist: '/srv/nope'" \
	"$NS9" mount /srv/nope $SCR/n/b
expect_fail "a missing mount point" "ns9: mount /srv/ram $SCR/n/zz: file does not exist: '$SCR/n/zz'" \
	"$NS9" mount /srv/ram $SCR/n/zz
expect_fail "a host name in a dial string" \
	"ns9: mount tcp!localhost!564 $SCR/n/b: mount dials numeric addresses only (tcp!ADDR!PORT); post a service by name with ns9 srv" \
	"$NS9" mount 'tcp!localhost!564' $SCR/n/b
# Every form p9_dial would resolve by name: "net!" is "tcp!", no port is 564.
expect_fail "a host name after net!" \
	"ns9: mount net!localhost!564 $SCR/n/b: mount dials numeric addresses only (tcp!ADDR!PORT); post a service by name with ns9 srv" \
	"$NS9" mount 'net!localhost!564' $SCR/n/b
expect_fail "a host name and no port" \
	"ns9: mount tcp!localhost $SCR/n/b: mount dials numeric addresses only (tcp!ADDR!PORT); post a service by name with ns9 srv" \
	"$NS9" mount 'tcp!localhost' $SCR/n/b
expect_fail "a service name as the port" \
	"ns9: mount net!127.0.0.1!9fs $SCR/n/b: mount dials numeric addresses only (tcp!ADDR!PORT); post a service by name with ns9 srv" \
	"$NS9" mount 'net!127.0.0.1!9fs' $SCR/n/b
expect_fail "nobody listening (numeric, no port)" "ns9: mount net!127.0.0.1 $SCR/n/b: dial net!127.0.0.1: Connection refused" \
	"$NS9" mount 'net!127.0.0.1' $SCR/n/b
expect_fail "nobody listening" "ns9: mount tcp!127.0.0.1!1 $SCR/n/b: dial tcp!127.0.0.1!1: Connection refused" \
	"$NS9" mount 'tcp!127.0.0.1!1' $SCR/n/b
echo x >$SCR/notsock
expect_fail "a file that is no service" "ns9: mount $SCR/notsock $SCR/n/b: $SCR/notsock: not a service (no socket)" \
	"$NS9" mount $SCR/notsock $SCR/n/b
n0=$(nfuse)
# A server that hangs up at once: the attach fails, nothing is mounted, no server stays.
"$NS9" srv -e 'exec true' nothing >/dev/null 2>&1
expect_fail "a service that is not 9P" "ns9: mount /srv/nothing $SCR/n/b: file does not exist: '/srv/nothing'" \
	"$NS9" mount /srv/nothing $SCR/n/b
python3 -c '
import socket, os, sys
s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.listen(4)
while True:
    c, _ = s.accept(); c.recv(100); c.send(b"\x07\x00\x00\x00garbage"); c.close()
' $SCR/junk &
JUNK=$!
i=0; while [ $i -lt 50 ] && [ ! -S $SCR/junk ]; do sleep 0.1; i=$((i + 1)); done
mkdir -p $SCR/n/g
"$NS9" mount $SCR/junk $SCR/n/g 2>$TD/junk.err
is "$?" 1 "a peer that answers garbage: mount fails"
mounts $SCR/n/g | grep -q . && r=mounted || r=clean
is "$r" clean "and nothing is mounted"
kill $JUNK 2>/dev/null
is "$(nfuse)" "$n0" "failed mounts leave no server behind"

# /etc/passwd (read as data for the attach's uname, perhaps in another's
# root) that is a fifo or /dev/zero: not read, the uname is the number.
mkfifo $SCR/fifo
for f in $SCR/fifo /dev/zero; do
	mount --bind $f /etc/passwd
	timeout 10 "$NS9" mount /srv/ram $SCR/n/b 2>&1
	is "$?" 0 "mount with $f as /etc/passwd: neither hangs nor spins"
	umount /etc/passwd
	"$NS9" unmount $SCR/n/b 2>/dev/null
done

# kill -9 of the service under a busy mount: errors within 1 s, no hang, the mount goes.
"$NS9" ramfs -s ram2
R2=$(pgrep -n -f '^([^ ]*/)?ns9 ramfs -s ram2')
"$NS9" mount /srv/ram2 $SCR/n/b
dd if=/dev/zero of=$SCR/n/b/big bs=64k count=64 2>/dev/null
F2=$(pgrep -n -f '^ns9 9pfuse')
( while cat $SCR/n/b/big >/dev/null 2>&1; do :; done; date +%s%N >$TD/failed ) &
BUSY=$!
sleep 0.3
date +%s%N >$TD/killed
kill -9 $R2
i=0; while [ $i -lt 50 ] && [ ! -s $TD/failed ]; do sleep 0.1; i=$((i + 1)); done
ms=$(( ($(cat $TD/failed 2>/dev/null || echo 99999999999999999) - $(cat $TD/killed)) / 1000000 ))
[ "$ms" -lt 1000 ] && r=yes || r="no ($ms ms)"
is "$r" yes "the busy reader gets an error within 1 s"
gone kill -0 $F2
kill -0 $F2 2>/dev/null && r=running || r=exited
is "$r" exited "the 9pfuse server exits"
gone mounted $SCR/n/b
mounted $SCR/n/b && r=mounted || r=gone
is "$r" gone "the mount is gone"
gone test -S $SRVD/ram2
[ -e $SRVD/ram2 ] && r=there || r=gone
is "$r" gone "the post is gone"
kill $BUSY 2>/dev/null

# An unprivileged user: posts, mounts in a name space it made, reads and writes;
# another user cannot reach its posts.
username
userfuse
USRV=$UHOME/run/ns9/srv
ok "a user posts a ramfs" asuser "$UNS9" ramfs -s uram
is "$(stat -c '%a %U' $USRV/uram)" "600 ns9test" "the post is the user's, mode 0600"
mkdir -p $SCR/u && chown $TUID $SCR/u
is "$(asuser "$UNS9" rfork -n sh -c "\"$UNS9\" mount /srv/uram $SCR/u && echo mine >$SCR/u/f && cat $SCR/u/f &&
	\"$UNS9\" ns | grep -F ' $SCR/u'" 2>&1)" "mine
mount  /srv/uram $SCR/u" "the user mounts its post in its own name space, writes and reads"
is "$(asuser "$UNS9" mount /srv/uram $SCR/u 2>&1)" "ns9: mount /srv/uram $SCR/u: permission denied" \
	"not in the host's name space"
is "$(setpriv --reuid 4243 --regid 4243 --clear-groups --inh-caps=-all "$UNS9" rfork -n \
	"$UNS9" mount $USRV/uram /tmp 2>&1)" \
	"ns9: mount $USRV/uram /tmp: permission denied: '$USRV/uram'" "another user cannot connect to the post"
# Through root's ns9fs into the user's name space: the helper acts as the
# user, and the 9P client it starts runs as the user without root's environment.
mkdir -p $SCR/u2 && chown $TUID $SCR/u2
asuser "$UNS9" rfork -n sleep 301 &
UP=$(waitfor "sleep 301")
is "$(asuser "$CW" $SCR/ctl/$UP/ns "mount $USRV/uram $SCR/u2" | head -1)" "ok" "the user mounts its post through root's ns9fs"
is "$(asuser nsenter -t $UP -U -m --preserve-credentials cat $SCR/u2/f)" "mine" "the user reads its file there"
F=$(pgrep -n -f '^ns9 9pfuse')
is "$(stat -c %u /proc/$F)" "$TUID" "the 9P client runs as the user"
grep -qz '^NS9MARK=' /proc/$F/environ && r=leaked || r=clean
is "$r" clean "and holds none of the server's environment"
# '#s' through root's ns9fs is the writer's srv directory, every time: a
# user's write must not leave its directory for root's next write on that
# server thread (the helper shares the thread's storage).  ns9fs has no
# XDG_RUNTIME_DIR, so the user's is /tmp/ns9.UID/srv there.
asuser env -u XDG_RUNTIME_DIR "$UNS9" ramfs -s ram
mkdir -p $SCR/u3 && chown $TUID $SCR/u3
bad=0
for i in 1 2 3 4 5 6 7 8; do
	asuser "$CW" $SCR/ctl/$UP/ns "mount #s/ram $SCR/u3" >/dev/null
	"$CW" $SCR/ctl/$P/ns "mount #s/ram $SCR/n/a" >/dev/null
	[ "$(cat /proc/$P/root$SCR/n/a/f 2>&1)" = "hello
again" ] || bad=$((bad + 1))
done
is "$bad" 0 "root's #s stays root's after users' writes on the same server"
asuser nsenter -t $UP -U -m --preserve-credentials ls $SCR/u3 >$TD/u3.out 2>&1
is "$(cat $TD/u3.out)" "" "and the user's #s/ram is the user's own (empty) ramfs"
pkill -u $TUID -f '^([^ ]*/)?ns9 ramfs -s ram' 2>/dev/null
ok "root can" "$NS9" mount $USRV/uram $SCR/n/b
is "$(cat $SCR/n/b/f)" "mine" "and reads the user's file"
"$NS9" unmount $SCR/n/b

# A service posted on the far side of a 9P mount (exportfs of a tree that
# holds its socket) is mounted through it: 9pfuse shows the socket as an
# empty sticky file, and opening that dials the service.
"$NS9" ramfs -s farram && "$NS9" exportfs -r $SRVD -s farsrv
mkdir -p $SCR/n/g $SCR/n/h
ok "mount of the exporter" "$NS9" mount /srv/farsrv $SCR/n/g
is "$(stat -c '%F %A %s' $SCR/n/g/farram)" "regular empty file -rw------T 0" "a socket through 9P: an empty file with the sticky bit"
ok "mount of the service through the 9P mount" "$NS9" mount $SCR/n/g/farram $SCR/n/h
head -c 3000000 /dev/urandom >$TD/big
echo far >$SCR/n/h/f && cp $TD/big $SCR/n/h/big
is "$(cat $SCR/n/h/f):$(cmp $TD/big $SCR/n/h/big 2>&1)" "far:" "written and read through both mounts (3 MB)"
is "$("$NS9" ns | grep -F " $SCR/n/h")" "mount  $SCR/n/g/farram $SCR/n/h" "ns text names the service file, which replays"
ok "unmount" "$NS9" unmount $SCR/n/h
"$NS9" rfork -n sh -c "$NS9 mount /srv/farram $SCR/n/h && cat $SCR/n/h/f && cmp $TD/big $SCR/n/h/big" >$TD/far.out 2>&1
is "$?:$(cat $TD/far.out)" "0:far" "what went through is in the service"
# not services: a sticky empty regular file exported (shown without the bit), one on a local file system
touch $SRVD/plain && chmod 1600 $SRVD/plain && touch $SCR/sticky && chmod 1600 $SCR/sticky
is "$(stat -c '%A' $SCR/n/g/plain)" "-rw-------" "a regular file's sticky bit is not shown through 9P"
expect_fail "an exported file that is no service" "ns9: mount $SCR/n/g/plain $SCR/n/h: $SCR/n/g/plain: not a service (no socket)" \
	"$NS9" mount $SCR/n/g/plain $SCR/n/h
expect_fail "a local sticky empty file" "ns9: mount $SCR/sticky $SCR/n/h: $SCR/sticky: not a service (no socket)" \
	"$NS9" mount $SCR/sticky $SCR/n/h
is "$(stat -c %s $SRVD/plain)" 0 "nothing was written into either"
# the service killed under the mount made through 9P: an error, no hang
ok "mounted again" "$NS9" mount $SCR/n/g/farram $SCR/n/h
pkill -9 -f '^([^ ]*/)?ns9 ramfs -s farram$'
timeout 20 cat $SCR/n/h/f >/dev/null 2>&1
is "$?" 1 "the service killed: a read fails at once"
ok "and the mount goes" gone mounted $SCR/n/h
"$NS9" unmount $SCR/n/h 2>/dev/null
"$NS9" unmount $SCR/n/g
pkill -f '^([^ ]*/)?ns9 exportfs -r [^ ]* -s farsrv$'

kill $P 2>/dev/null
umount $SCR/ctl 2>/dev/null
for d in a b c e f; do umount -l $SCR/n/$d 2>/dev/null; done
killall_waited
pkill -f '^([^ ]*/)?ns9 ramfs' 2>/dev/null
rm -rf /tmp/ns9.$TUID
done_testing
