#!/bin/sh
# srv: ns9 srv posts 9P services (dial strings, -e commands) and
# multiplexes every client onto one conversation; posts are listed live
# only, removed when their server dies, and stop their server when removed.
# Upstreams: p9echo (a 9P2000 responder, tests/helpers) and diod (9P2000.L).
. "$(dirname "$0")/../lib.sh"
setup

for h in p9echo p9mux; do cp "$HD/$h" "$SCR/bin/$h" && chmod 755 "$SCR/bin/$h"; done
ECHO=$SCR/bin/p9echo
MUX=$SCR/bin/p9mux
S=/run/ns9/srv
trap 'killall_waited; pkill -KILL -f "^([^ ]*/)?ns9 srv" 2>/dev/null; pkill -KILL diod 2>/dev/null;
	cd /; umount -l "$SCR" 2>/dev/null; rmdir "$SCR" 2>/dev/null' EXIT

# gone PATH: wait (bounded) until PATH does not exist.
gone() {
	i=0
	while [ -e "$1" ] || [ -S "$1" ]; do
		[ $i -ge 50 ] && return 1
		sleep 0.1; i=$((i + 1))
	done
}
# srvpid NAME: the pid of the ns9 srv serving NAME.
srvpid() { pgrep -f "^([^ ]*/)?ns9 srv .* $1\$" | head -1; }
# deadpid PID: wait (bounded) until PID has exited.
deadpid() {
	[ -n "$1" ] || return 1
	i=0
	while kill -0 "$1" 2>/dev/null; do
		[ $i -ge 50 ] && return 1
		sleep 0.1; i=$((i + 1))
	done
}
# logwait FILE PATTERN N: wait (bounded) until FILE has N lines matching PATTERN.
logwait() {
	i=0
	while [ "$(grep -c "$2" "$1")" -lt "$3" ]; do
		[ $i -ge 50 ] && return 1
		sleep 0.1; i=$((i + 1))
	done
}

# --- posting and listing ---
is "$($NS9 srv; echo rc=$?)" "rc=0" "no posts: an empty list"
ok "srv -e p9echo echo" $NS9 srv -e "$ECHO -l $SCR/echo.log" echo
is "$($NS9 srv)" "echo" "the list shows the post"
is "$(stat -c '%F %a' $S/echo)" "socket 600" "the post is a socket, mode 0600"
is "$(pgrep -c -f '^ns9-watch echo$')" "1" "one watcher, named ns9-watch in ps"
is "$($MUX cat $S/echo hello)" "hello, world" "a client reads through the post"

# --- multiplexing ---
is "$($MUX overlap $S/echo hello who | sort)" "A: clone ok
A: hello, world
B: bob
B: clone ok" "two clients, same tags and fids, requests in flight on both"
is "$($MUX ver $S/echo 9P2000.L 8192)" "9P2000 8192" "Tversion 9P2000.L to a 9P2000 server: 9P2000"
is "$($MUX ver $S/echo 9P2000.u 2000000)" "9P2000 1048600" "Tversion 9P2000.u: 9P2000, msize the server's"
is "$($MUX ver $S/echo 9P3000 8192)" "unknown 8192" "Tversion of an unknown version: unknown"
is "$($MUX flush $S/echo)" "Rflush tag 6
Rflush tag 5
flushed" "Tflush of a read in flight, and of a tag not in flight"
is "$($MUX errors $S/echo)" "attach before version: version not negotiated
walk from an unknown fid: unknown fid
attach to a fid in use: fid in use
walk to a fid in use: fid in use
walk of 17 names: 9P: Twalk: nwname 17 > 16
a tag in flight: tag 7 in use
flush: ok
read of a clunked fid: unknown fid
oversized: hung up
after: hello, world" "bad requests are answered by the multiplexer; an unframable client is dropped alone"

# A client that leaves with a read in flight: flushed, and its 4 fids clunked.
n0=$(grep -c '^T108 ' $SCR/echo.log)
c0=$(grep -c '^T120 ' $SCR/echo.log)
is "$($MUX hang $S/echo)" "leaving" "a client leaves with a read in flight"
logwait $SCR/echo.log '^T108 ' $((n0 + 1)); logwait $SCR/echo.log '^T120 ' $((c0 + 4))
is "$(grep -c '^T108 ' $SCR/echo.log)" "$((n0 + 1))" "... its read is flushed upstream"
is "$(grep -c '^T120 ' $SCR/echo.log)" "$((c0 + 4))" "... its 4 fids are clunked upstream"
is "$($MUX cat $S/echo hello)" "hello, world" "... and the server still serves others"

# A client that never reads its replies is dropped; others go on meanwhile.
$MUX stuck $S/echo big 64 $SCR/go >$SCR/stuck.out 2>&1 &
sp=$!
i=0; while [ "$(cat $SCR/stuck.out)" != "sent 64" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
is "$($MUX cat $S/echo hello)" "hello, world" "a client is served while another does not read"
touch $SCR/go
wait $sp
is "$(cat $SCR/stuck.out)" "sent 64
hung up after some" "the client that did not read 64 MiB of replies was dropped"
is "$($MUX cat $S/echo who)" "p9mux" "... and the post still serves"

# --- refusals ---
expect_fail "post a name in use" "ns9: post echo: file already exists" $NS9 srv -e "$ECHO" echo
expect_fail "post a name with /" "ns9: post a/b: bad name: it holds '/'" $NS9 srv -e "$ECHO" a/b
expect_fail "post .." "ns9: post ..: bad name" $NS9 srv -e "$ECHO" ..
long=$(printf '%0128d' 0)
expect_fail "post a 128-byte name" \
	"ns9: post 0000000000000000000000000000000000000000...: name too long (128 bytes or more)" \
	$NS9 srv -e "$ECHO" "$long"
ok "post a 127-byte name" $NS9 srv -e "$ECHO" "${long#0}"
is "$($MUX cat "$S/${long#0}" hello 2>&1)" "hello, world" "... and use it"
expect_fail "dial a missing socket" "ns9: dial $SCR/nosuch: file does not exist" \
	$NS9 srv "$SCR/nosuch" x
expect_fail "a server that is no 9P server" "ns9: srv true: the server hung up during Tversion" \
	$NS9 srv -e true x
is "$($NS9 srv)" "${long#0}
echo" "the refusals posted nothing"
$NS9 srv a b c 2>/dev/null; is "$?" "2" "srv with too many arguments: usage, exit 2"

# --- the watcher ---
ok "post e2" $NS9 srv -e "$ECHO" e2
p=$(srvpid e2)
kill -9 "$p"
ok "a server killed -9 loses its post" gone $S/e2
is "$($NS9 srv)" "${long#0}
echo" "... and the list no longer shows it"
is "$(pgrep -c -f '^ns9-watch e2$')" "0" "... and its watcher is gone"

p=$(srvpid echo)
ep=$(pgrep -f "p9echo -l $SCR/echo.log")
rm $S/echo
ok "rm of a post stops its server" deadpid "$p"
ok "... and the server's server (its -e command)" deadpid "$ep"

# Stale: a post whose server is stopped (SIGSTOP keeps the socket, kill -9 of
# the watcher keeps the file): listing and dialing remove it.
ok "post st" $NS9 srv -e "$ECHO" st
p=$(srvpid st)
kill -9 $(pgrep -f '^ns9-watch st$') "$p"
deadpid "$p"
ok "a socket left by a server whose watcher was killed too" test -S $S/st
is "$($NS9 srv)" "${long#0}" "the list skips a stale post"
ok "... and removes it" gone $S/st

# The server gone but its post alive (a child forked without exec holds the
# watcher's pipe, here a process that opened it through /proc): rm of the
# post signals nobody, for the server's pid may be another process's now.
$NS9 srv -f -e "$ECHO" pr 2>/dev/null &
sp=$!
i=0; while [ ! -S $S/pr ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
(
	n=3
	for f in /proc/$sp/fd/*; do
		case $(readlink $f) in pipe:*) eval "exec $n>$f"; n=$((n + 1)) ;; esac
	done
	touch $SCR/held
	exec sleep 300
) &
holder=$!
i=0; while [ ! -e $SCR/held ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
kill -9 $sp; wait $sp 2>/dev/null
echo $((sp - 1)) >/proc/sys/kernel/ns_last_pid
sleep 300 &
victim=$!
if [ "$victim" = "$sp" ]; then
	rm $S/pr
	i=0; while pgrep -f '^ns9-watch pr$' >/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
	kill -0 $victim 2>/dev/null && r=alive || r=signalled
	is "$r" alive "rm of a post whose server is gone signals nobody (its pid is another process's)"
else
	skip "the server's pid was not given again"
fi
kill $holder $victim 2>/dev/null

# The server hangs up: ns9 srv ends, the post goes.
ok "post q (a server that hangs up after 3 messages)" $NS9 srv -e "$ECHO -q 3" q
p=$(srvpid q)
$MUX cat $S/q hello >$SCR/q.out 2>&1
is "$(cat $SCR/q.out)" "error: hung up" "the client sees the hangup"
ok "ns9 srv exits when its server hangs up" deadpid "$p"
ok "... and its post is removed" gone $S/q

# -f: in the foreground; SIGTERM ends it and the post goes.
$NS9 srv -D -f -e "$ECHO" fg 2>$SCR/fg.err &
fp=$!
i=0; while ! [ -S $S/fg ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
ok "srv -f posts" test -S $S/fg
is "$($MUX cat $S/fg hello)" "hello, world" "... and serves"
ok "srv -D traces the client's messages" grep -q "^srv c0 -> Twalk tag 1 fid 0 newfid 1 nwname 1 0:hello" $SCR/fg.err
ok "... and the server's" grep -q "^srv <- Rread tag 0 count 13 'hello, world" $SCR/fg.err
kill "$fp"
wait "$fp" 2>/dev/null
ok "srv -f killed: its post is removed" gone $S/fg

# --- diod (9P2000.L) by -e, unix dial string, tcp ---
if command -v diod >/dev/null; then
	mkdir -p $SCR/exp && echo one >$SCR/exp/f1 && echo two >$SCR/exp/f2
	ok "srv -e diod" $NS9 srv -e "diod -f -n -r 0 -w 1 -e $SCR/exp -L $SCR/diod.log" d
	is "$(ANAME=$SCR/exp $MUX ver $S/d 9P2000.L 1000000)" "9P2000.L 65536" "diod: 9P2000.L, its msize"
	is "$(ANAME=$SCR/exp $MUX overlap $S/d f1 f2 | sort)" "A: clone ok
A: one
B: clone ok
B: two" "diod: two clients, same tags and fids"
	is "$(ANAME=$SCR/exp $MUX ver $S/d 9P2000 8192)" "unknown 8192" "diod: a 9P2000 client of a .L server: unknown"
	diod -f -n -l $SCR/diod.sock -e $SCR/exp -L $SCR/diod2.log &
	echo $! >>$TD/.pids
	i=0; while ! [ -S $SCR/diod.sock ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
	ok "srv unix!path" $NS9 srv "unix!$SCR/diod.sock" du
	is "$(ANAME=$SCR/exp $MUX cat $S/du f2)" "two" "... serves"
	ok "srv path (the name defaults to its last element)" $NS9 srv "$SCR/diod.sock"
	is "$(ANAME=$SCR/exp $MUX cat $S/diod.sock f1)" "one" "... serves"
	port=$((20000 + $$ % 20000))
	diod -f -n -l 127.0.0.1:$port -e $SCR/exp -L $SCR/diod3.log &
	echo $! >>$TD/.pids
	i=0; while ! $NS9 srv "tcp!127.0.0.1!$port" dt 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
	is "$(ANAME=$SCR/exp $MUX cat $S/dt f1)" "one" "srv tcp!127.0.0.1!port"
	rm -f $S/d $S/du $S/dt $S/diod.sock
else
	skip "diod is not installed"
fi

# --- upstream tags run out ---
# A client holding more fids than there are upstream tags hangs up: the
# clunks past the 65535th wait for tags, and so does the flush of the
# request of a client that hangs up next.  That request is answered first;
# its flush is then not sent (its tag may be another client's by then), and
# the multiplexer lives on.  The upstream (Python) answers version, attach
# and walk at once and holds the rest until $SCR/trig exists.
cat >$SCR/up.py <<'EOF'
import os, struct, sys, select
trig, log = sys.argv[1], sys.argv[2]
buf, held, out, counts, triggered = b'', [], [], {}, False
def reply(t, tag, body=b''):
    out.append(struct.pack('<IBH', 7 + len(body), t, tag) + body)
def answer(t, tag, m):
    if t == 100:
        reply(101, tag, struct.pack('<IH', 65536, 6) + b'9P2000')
    elif t == 104:
        reply(105, tag, bytes([0x80]) + struct.pack('<IQ', 0, 1))
    elif t == 110:
        reply(111, tag, struct.pack('<H', 0))
    elif t in (108, 120):
        reply(t + 1, tag)
    else:
        reply(107, tag, struct.pack('<H', 2) + b'no')
def send():
    b = b''.join(out)
    del out[:]
    while b:
        b = b[os.write(1, b):]
while True:
    r = select.select([0], [], [], 0.05)[0]
    if not triggered and os.path.exists(trig):
        triggered = True
        for h in held:
            answer(*h)
        send()
    if not r:
        continue
    d = os.read(0, 1 << 20)
    if not d:
        break
    buf += d
    while len(buf) >= 4 and len(buf) >= struct.unpack('<I', buf[:4])[0]:
        n = struct.unpack('<I', buf[:4])[0]
        m, buf = buf[:n], buf[n:]
        t, tag = struct.unpack('<BH', m[4:7])
        counts[t] = counts.get(t, 0) + 1
        if triggered or t in (100, 104, 110):
            answer(t, tag, m)
        else:
            held.append((t, tag, m))
    send()
    with open(log + '.new', 'w') as f:
        f.write(''.join('%d %d\n' % (k, counts[k]) for k in sorted(counts)))
    os.rename(log + '.new', log)
EOF
# cli.py SOCK N|b FILE: attach, then N clones (or one Tstat the upstream
# holds), say so in FILE.ready, hang up once FILE exists.
cat >$SCR/cli.py <<'EOF'
import os, socket, struct, sys, threading, time
def msg(t, tag, body):
    return struct.pack('<IBH', 7 + len(body), t, tag) + body
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
def recv1():
    b = b''
    while len(b) < 4 or len(b) < struct.unpack('<I', b[:4])[0]:
        d = s.recv(struct.unpack('<I', b[:4])[0] - len(b) if len(b) >= 4 else 4 - len(b))
        if not d:
            sys.exit('hangup')
        b += d
    return b
s.sendall(msg(100, 0xffff, struct.pack('<IH', 8192, 6) + b'9P2000'))
recv1()
s.sendall(msg(104, 1, struct.pack('<IIH', 0, 0xffffffff, 1) + b'u' + struct.pack('<H', 0)))
recv1()
if sys.argv[2] == 'b':
    s.sendall(msg(124, 2, struct.pack('<I', 0)))
else:
    n = int(sys.argv[2])
    w = threading.Thread(target=s.sendall,
        args=(b''.join(msg(110, i % 60000 + 2, struct.pack('<IIH', 0, i + 1, 0)) for i in range(n)),))
    w.start()
    for i in range(n):
        recv1()
    w.join()
open(sys.argv[3] + '.ready', 'w').close()
while not os.path.exists(sys.argv[3]):
    time.sleep(0.05)
EOF
waitfile() { i=0; while [ ! -e "$1" ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done; }
$NS9 srv -D -f -e "python3 $SCR/up.py $SCR/trig $SCR/up.log" tags 2>$SCR/tags.trace &
TP=$!
waitfile $S/tags
python3 $SCR/cli.py $S/tags 65600 $SCR/a &
waitfile $SCR/a.ready
python3 $SCR/cli.py $S/tags b $SCR/b &
waitfile $SCR/b.ready
touch $SCR/a
logwait $SCR/tags.trace ': hung up$' 1
touch $SCR/b
logwait $SCR/tags.trace ': hung up$' 2
touch $SCR/trig
logwait $SCR/up.log '^120 65602$' 1
is "$(grep -c '^108 ' $SCR/up.log) $(grep '^120 ' $SCR/up.log)" "0 120 65602" \
	"the fids of the clients that left are all clunked, and no flush is sent for the answered request"
kill -0 $TP 2>/dev/null && r=alive || r=dead
is "$r" alive "the multiplexer lives on"
kill $TP 2>/dev/null

# --- an unprivileged user ---
U=$UHOME/run/ns9/srv
ok "a user posts" asuser $UNS9 srv -e "$ECHO" upost
is "$(stat -c '%u %a' $U/upost)" "$TUID 600" "... in \$XDG_RUNTIME_DIR/ns9/srv, its own, mode 0600"
is "$(asuser $UNS9 srv)" "upost" "the user lists its post"
is "$(asuser $MUX cat $U/upost who)" "p9mux" "the user reads through it"
is "$($NS9 srv)" "${long#0}" "root's list does not show the user's post"
is "$(asuser $MUX cat $S/${long#0} hello)" "error: dial $S/${long#0}: Permission denied" \
	"the user cannot reach root's post"
# Another user: its own runtime dir.
mkdir -p $SCR/home2/run && chown -R $((TUID + 1)):$((TUID + 1)) $SCR/home2 && chmod 700 $SCR/home2/run
asuser2() {
	env HOME=$SCR/home2 XDG_RUNTIME_DIR=$SCR/home2/run \
		setpriv --reuid $((TUID + 1)) --regid $((TUID + 1)) --clear-groups --inh-caps=-all "$@"
}
is "$(asuser2 $MUX cat $U/upost who)" "error: dial $U/upost: Permission denied" \
	"another user cannot connect to the user's post (EACCES)"
is "$(asuser2 $UNS9 srv)" "" "another user's list does not show it"
is "$(asuser2 ls $U 2>&1 >/dev/null | sed 's/.*: //')" "Permission denied" "... nor can it read the user's srv directory"
p=$(srvpid upost)
kill -9 "$p"
ok "the user's server killed -9: its post is removed" gone $U/upost

# One client may not use up the shared conversation's fids for the others.
ok "srv -e ramfs" $NS9 srv -e "$NS9 ramfs" rfid
is "$($MUX fids $S/rfid 262150)" "262143 fids, then: Too many open files" \
	"a client holds at most 2^18 fids (its root among them), then EMFILE"
is "$($MUX fids $S/rfid 10)" "10 fids, then: no refusal" "its fids are gone with it: the next client makes its own"

done_testing
