# lib.sh: helpers for integration tests.  Each test runs (under tests/run)
# in its own private mount namespace; setup puts a tmpfs scratch directory
# and a private /run there, so nothing reaches the host.  Output is TAP.
NS9=${NS9:-$(cd "$(dirname "$0")/../.." && pwd)/ns9}
LIBSH=$(cd "$(dirname "$0")/.." && pwd)/lib.sh
TUID=${TUID:-4242}	# the unprivileged uid
T_N=0
T_FAIL=0

ok() {	# ok DESC CMD...: the command succeeds
	d=$1; shift
	T_N=$((T_N + 1))
	if "$@" >$TD/.t.out 2>&1; then echo "ok $T_N - $d"
	else echo "not ok $T_N - $d"; sed 's/^/# /' $TD/.t.out; T_FAIL=$((T_FAIL + 1)); fi
}
is() {	# is GOT WANT DESC
	T_N=$((T_N + 1))
	if [ "$1" = "$2" ]; then echo "ok $T_N - $3"
	else echo "not ok $T_N - $3"; echo "# got:  $(printf %s "$1" | sed '2,$s/^/#       /')"
		echo "# want: $(printf %s "$2" | sed '2,$s/^/#       /')"; T_FAIL=$((T_FAIL + 1)); fi
}
skip() { T_N=$((T_N + 1)); echo "ok $T_N # SKIP $1"; }
done_testing() { echo "1..$T_N"; [ "$T_FAIL" -eq 0 ]; }

# asuser CMD...: run as the unprivileged uid, with a home and runtime dir of its own.
asuser() {
	env HOME="$UHOME" XDG_RUNTIME_DIR="$UHOME/run" NS9="$UNS9" \
		setpriv --reuid "$TUID" --regid "$TUID" --clear-groups --inh-caps=-all "$@"
}

# Private scratch: a tmpfs the test owns, and a private /run for /run/ns9/srv.
setup() {
	SCR=$(mktemp -d /tmp/ns9t.XXXXXX)
	TD=$SCR
	mount -t tmpfs -o mode=0755 ns9test "$SCR" || exit 1
	mount -t tmpfs -o mode=0755 ns9run /run || exit 1
	UHOME=$SCR/home
	mkdir -p "$UHOME/run" && chown -R "$TUID:$TUID" "$UHOME" && chmod 700 "$UHOME/run"

	trap 'cd /; umount -l "$SCR" 2>/dev/null; rmdir "$SCR" 2>/dev/null' EXIT
	# A copy the unprivileged uid can run wherever the tree lives.
	mkdir "$SCR/bin" && cp "$NS9" "$SCR/bin/ns9" && chmod 755 "$SCR/bin/ns9"
	UNS9=$SCR/bin/ns9
	cp "$LIBSH" "$SCR/bin/lib.sh"
	MC=$SCR/bin/mountcall
	HD=${HELPERDIR:-$(dirname "$LIBSH")/../build/tests/helpers}
	cp "$HD/mountcall" "$MC" 2>/dev/null
	CW=$SCR/bin/ctlwrite
	cp "$HD/ctlwrite" "$CW" 2>/dev/null
	cd "$SCR" || exit 1
}

# expect_fail DESC WANT_STDERR CMD...: fails with exit 1, says exactly WANT
# on stderr, and leaves the mount table byte-identical.
expect_fail() {
	d=$1 want=$2; shift 2
	cat /proc/self/mountinfo >$TD/.t.before
	"$@" >/dev/null 2>$TD/.t.err
	rc=$?
	is "$rc" 1 "$d: exit status 1"
	is "$(cat $TD/.t.err)" "$want" "$d: error text"
	T_N=$((T_N + 1))
	cat /proc/self/mountinfo >$TD/.t.after
	if cmp -s $TD/.t.before $TD/.t.after; then echo "ok $T_N - $d: mount table unchanged"
	else echo "not ok $T_N - $d: mount table changed"; T_FAIL=$((T_FAIL + 1)); fi
}

# mounts DIR: "point fstype source root" of every mount under DIR, sorted.
mounts() {
	awk -v d="$1" '{ for (i = 7; $i != "-"; i++) ; if (index($5, d) == 1) print $5, $(i+1), $(i+2), $4 }' \
		/proc/self/mountinfo | sort
}

# waitfor PATTERN: the pid of the newest process whose command line starts
# with PATTERN (after an optional directory), bounded wait; recorded so
# killall_waited can end them.  Anchored so that "ns9 rfork -n sleep 5" does
# not match before it has made its name space and become "sleep 5".
waitfor() {
	i=0
	while [ $i -lt 50 ]; do
		p=$(pgrep -n -f "^([^ ]*/)?$1") && { echo "$p"; echo "$p" >>"$TD/.pids"; return; }
		sleep 0.1; i=$((i + 1))
	done
}
killall_waited() { [ -f "$TD/.pids" ] && kill $(cat "$TD/.pids") 2>/dev/null; rm -f "$TD/.pids"; }

# A name for the unprivileged uid (fusermount3 wants one), in this name space only.
username() {
	getent passwd "$TUID" >/dev/null && return
	cp /etc/passwd "$SCR/passwd" && echo "ns9test:x:$TUID:$TUID::$UHOME:/bin/sh" >>"$SCR/passwd" &&
		mount --bind "$SCR/passwd" /etc/passwd
}

# A /dev/fuse every user may open, for this name space only (the host's
# stays as it is: distributions ship 0666, this machine 0600).
userfuse() {
	mkdir -p "$SCR/dev" && mknod -m 666 "$SCR/dev/fuse" c 10 229 && mount --bind "$SCR/dev/fuse" /dev/fuse
}

# sshd_start: a throwaway sshd on a free loopback port, keys for root
# ($S/rootkey) and the unprivileged uid ($UHOME/key), both authorized,
# $S/otherkey authorized for nobody.  Sets S, PORT, SSHD (its pid) and
# SSHOPTS (ssh options without a key).  Call after setup and username.
# SSHD_ADDR and SSHD_PORT choose where it listens, SSHD_PREFIX runs it
# (ip netns exec NAME), SSHD_EXTRA adds lines to its configuration.
sshd_start() {
	S=$SCR/ssh
	mkdir -p "$S/keys" /run/sshd
	for k in hostkey rootkey userkey otherkey; do
		ssh-keygen -q -t ed25519 -N '' -f "$S/$k" || return 1
	done
	cp "$S/rootkey.pub" "$S/keys/root"
	cp "$S/userkey.pub" "$S/keys/ns9test"
	cp "$S/userkey" "$UHOME/key" && chown "$TUID:$TUID" "$UHOME/key" && chmod 600 "$UHOME/key"
	chmod 755 "$S" "$S/keys" && chmod 644 "$S/keys"/*
	PORT=${SSHD_PORT:-}
	[ -n "$PORT" ] || for PORT in 2222 2322 2422 2522 2622; do
		ss -ltn 2>/dev/null | grep -q ":$PORT " || break
	done
	cat >"$S/sshd_config" <<EOF
Port $PORT
ListenAddress ${SSHD_ADDR:-127.0.0.1}
HostKey $S/hostkey
AuthorizedKeysFile $S/keys/%u
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
PermitRootLogin prohibit-password
StrictModes no
PidFile $S/sshd.pid
${SSHD_EXTRA:-}
EOF
	${SSHD_PREFIX:-} /usr/sbin/sshd -f "$S/sshd_config" -E "$S/sshd.log" || return 1
	i=0; while [ $i -lt 50 ] && [ ! -s "$S/sshd.pid" ]; do sleep 0.1; i=$((i + 1)); done
	SSHD=$(cat "$S/sshd.pid")
	SSHOPTS="-p $PORT -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o BatchMode=yes -o LogLevel=ERROR -o ConnectTimeout=10"
}

# sshtest: the start of a test over ssh: skipped without sshd, then setup,
# a name and a /dev/fuse for the unprivileged uid, sshd_start, a trap that
# ends it all (running $SSHTEST_CLEANUP first), and NS9REMOTE set to the
# ns9 both uids can run.
sshtest() {
	[ -x /usr/sbin/sshd ] || { echo "ok 1 # SKIP no sshd (sh mk/deps: openssh-server)"; echo "1..1"; exit 0; }
	setup
	username
	userfuse
	sshd_start || { echo "not ok 1 - sshd starts"; cat "$S/sshd.log" 2>/dev/null; exit 1; }
	trap 'kill $SSHD 2>/dev/null; killall_waited; eval "${SSHTEST_CLEANUP:-}"; cd /; umount -l "$SCR" 2>/dev/null; rmdir "$SCR" 2>/dev/null' EXIT
	export NS9REMOTE="$UNS9"
}
