# newns.sh: namespace files and clean name spaces (issue 6): ns9 newns,
# addns, reroot and rfork -N, as root and as an unprivileged uid.
#  - the default file (the tree's etc/namespace, and the one built in)
#    gives a shell where ~, /etc/os-release, a private /tmp and /srv work;
#  - a file with bad lines reports exactly those (FILE:LINE), builds the
#    rest, and the exit status is the command's if non-zero, else 1;
#    addns runs a file against the current name space; -v echoes lines;
#  - a clean name space has none of the host's other mounts and no way
#    back to the host's root;
#  - the escape pod keeps working when the FUSE file system its pieces
#    were copied from hangs (its server stopped), while the same reads
#    outside hang; the shipped etc/namespace.pod;
#  - reroot over a prepared tree, standard streams and a terminal working;
#  - ns9 ns of a clean name space replays to the same text;
#  - bad input: unreadable files, usage, include loops, a missing newroot.
#
# Each part is a function run by this script as "sh newns.sh part NAME DIR
# T_N" (as root, or as the uid through asuser; addns and the pod inside a
# name space made with ns9 rfork -n), which leaves its counts in
# DIR/.counts.  Every ns9 runs under timeout, so a hang is a failure.
if [ "$1" = part ]; then
	. "$(dirname "$0")/lib.sh"
	SCR=$(cd "$(dirname "$0")/.." && pwd)
else
	. "$(dirname "$0")/../lib.sh"
fi
export LC_ALL=C
unset NS9SRV

# --- helpers (all bounded) ---
N() { timeout 60 "$NS9" "$@"; }
# alive PID: PID exists and is not a zombie
alive() { [ -e /proc/"$1" ] && [ "$(sed 's/.*) //' /proc/"$1"/stat 2>/dev/null | cut -c1)" != Z ]; }
# gonepid PID: until PID has exited, at most 10 s
gonepid() {
	i=0
	while [ $i -lt 100 ] && alive "$1"; do sleep 0.1; i=$((i + 1)); done
	! alive "$1"
}
# waitsock PATH: until PATH is a socket, at most 5 s
waitsock() {
	i=0
	while [ $i -lt 50 ] && ! [ -S "$1" ]; do sleep 0.1; i=$((i + 1)); done
	[ -S "$1" ]
}
# waitline FILE LINE: until FILE holds the line LINE, at most 20 s
waitline() {
	i=0
	while [ $i -lt 200 ] && ! grep -qx "$2" "$1" 2>/dev/null; do sleep 0.1; i=$((i + 1)); done
	grep -qx "$2" "$1" 2>/dev/null
}
# hung RC: "hung" if RC is what timeout gives a command it had to kill
hung() { case $1 in 124|137) echo hung ;; *) echo "finished, exit $1" ;; esac; }
# prefixes FILE: each line of FILE cut after "ns9: FILE:LINE" (other lines as they are)
prefixes() { sed 's/^\(ns9: [^:]*:[0-9]*\): .*/\1/' "$1"; }
# top DIR: "fstype source" of the top mount at DIR
top() {
	awk -v d="$1" '$5 == d { for (i = 7; $i != "-"; i++) ; s = $(i+1) " " $(i+2) } END { print s }' \
		/proc/self/mountinfo
}
# upid DIR: the server's pid in the source ns9union!PID!COOKIE of the union at DIR
upid() { top "$1" | awk '$1 == "fuse.ns9union" { split($2, f, "!"); print f[2] }'; }

# init DIR: the variables every part uses; cd DIR.
init() {
	R=$1
	cd "$R" || { T_FAIL=$((T_FAIL + 1)); return 1; }
	TD=$R/.td
	mkdir -p "$TD"
	me=$(id -u)
	who=$([ "$me" -eq 0 ] && echo root || echo user)
	if [ "$me" -eq 0 ]; then SRVD=/run/ns9/srv; else SRVD=$XDG_RUNTIME_DIR/ns9/srv; fi
	NEWNSBIN=$SCR/bin
	export NEWNSBIN
}

# probescript PROBE SRV: what a user does first in a new shell.
probescript() {
	cat <<EOF
echo "\$(ls -A /tmp | wc -l) \$(stat -f -c %T /tmp)"
ls ~
cat /etc/os-release
echo x >/tmp/$1 && cat /tmp/$1
ls /srv | grep -cx $2
pwd
echo "NS9SRV=\$NS9SRV"
id -u
EOF
}

# 1. The default file, the built-in one, rfork -N, the default command.
part_default() {
	init "$1" || return
	srv=newns$who
	"$NS9" ramfs -f -s "$srv" &
	echo $! >>"$TD/.pids"
	ok "$who: a ramfs posted as $srv" waitsock "$SRVD/$srv"
	want="$(ls ~)
$(cat /etc/os-release)
x
1
$HOME
NS9SRV=/srv
$(id -u)"
	for how in "newns -n etc/namespace" "newns (built-in file)" "rfork -N" "newns -n etc/namespace, default command"; do
		probe=newns-probe.$who.$NEWNSID
		S=$(probescript "$probe" "$srv")
		case $how in
		"newns -n etc/namespace")
			N newns -n "$SCR/etc/namespace" sh -c "$S" ;;
		"newns (built-in file)")
			N newns sh -c "$S" ;;
		"rfork -N")
			N rfork -N sh -c "$S" ;;
		*)
			printf '%s\n' "$S" | env SHELL=/bin/sh timeout 60 "$NS9" newns -n "$SCR/etc/namespace" ;;
		esac >"$TD/o" 2>"$TD/e"
		rc=$?
		is "$rc:$(cat "$TD/e")" "0:" "$who: $how: exit 0, nothing on stderr"
		is "$(sed 1d "$TD/o")" "$want" \
			"$who: $how: ls ~, /etc/os-release, /tmp takes a file, /srv has the post, cwd \$home, NS9SRV, uid"
		is "$(sed -n 1p "$TD/o")" "0 tmpfs" "$who: $how: /tmp is a fresh, empty tmpfs"
		if [ -e "/tmp/$probe" ]; then seen=yes; rm -f "/tmp/$probe"; else seen=no; fi
		is "$seen" no "$who: $how: the host's /tmp does not see the file written in /tmp"
	done
}

# 1b. A home below /tmp: the default file binds $home after the fresh /tmp.
part_tmphome() {
	init "$1" || return
	mkdir "$R/home" && echo x >"$R/home/tmphomemark"
	env HOME="$R/home" timeout 60 "$NS9" newns -n "$SCR/etc/namespace" sh -c 'ls ~; pwd' >"$TD/o" 2>"$TD/e"
	is "$?:$(cat "$TD/e")" "0:" "$who: a home below /tmp: exit 0, no report"
	is "$(cat "$TD/o")" "tmphomemark
$R/home" "$who: a home below /tmp: ls ~ and the cwd are the home"
}

# 2. Bad lines: reported as FILE:LINE, the rest built, the exit status.
part_badline() {
	init "$1" || return
	F=$R/bad.ns
	cat >"$F" <<'EOF'
# a file with bad lines: 6, 7 and 8 fail, the rest build
bind '#r/usr' /usr
bind '#r/bin' /bin
bind '#r/lib' /lib
bind '#r/lib64' /lib64
bind /nonexistent-newns-source /mnt
frob /a /b
bind -z '#T' /n
bind -c '#T' /tmp
bind '#r/etc' /etc
EOF
	grep -v -e '^#' -e nonexistent -e frob -e -z "$F" >"$R/good.ns"
	G=$R/good.ns
	osr=$(head -1 /etc/os-release)

	N newns -n "$F" sh -c 'echo y >/tmp/z && cat /tmp/z && head -1 /etc/os-release' >"$TD/o" 2>"$TD/e"
	is "$?" 1 "$who: bad lines, command exits 0: exit status 1"
	is "$(cat "$TD/o")" "y
$osr" "$who: bad lines: the command ran, with the later binds (/tmp, /etc) made"
	is "$(prefixes "$TD/e")" "ns9: $F:6
ns9: $F:7
ns9: $F:8" "$who: bad lines: reported as ns9: FILE:LINE, exactly lines 6, 7, 8"
	is "$(grep -c "^ns9: $F:6: .*file does not exist" "$TD/e")" 1 "$who: a missing bind source: file does not exist"
	is "$(grep "^ns9: $F:7: " "$TD/e")" "ns9: $F:7: frob: unknown command" \
		"$who: an unknown command: frob: unknown command"
	N newns -n "$F" sh -c 'exit 3' >/dev/null 2>"$TD/e"
	is "$?:$(prefixes "$TD/e" | paste -sd' ')" "3:ns9: $F:6 ns9: $F:7 ns9: $F:8" \
		"$who: bad lines, command exits 3: exit status 3, the same reports"
	N newns -n "$G" sh -c 'head -1 /etc/os-release' >"$TD/o" 2>"$TD/e"
	is "$?:$(cat "$TD/o"):$(cat "$TD/e")" "0:$osr:" "$who: a good file, command exits 0: exit 0, no report"
	N newns -n "$G" sh -c 'exit 5' 2>"$TD/e"
	is "$?:$(cat "$TD/e")" "5:" "$who: a good file, command exits 5: exit status 5"

	# -v: each line echoed as FILE:LINE: COMMAND, after $ expansion.
	V=$R/verbose.ns
	cat >"$V" <<'EOF'
bind #r/usr /usr
bind #r/lib /lib
bind #r/lib64 /lib64
bind -c #T $NEWNSTMP
EOF
	export NEWNSTMP=/tmp
	N newns -v -n "$V" /usr/bin/stat -f -c %T /tmp >"$TD/o" 2>"$TD/e"
	is "$?:$(cat "$TD/o")" "0:tmpfs" "$who: newns -v: the file built (\$NEWNSTMP expanded)"
	is "$(cat "$TD/e")" "$V:1: bind #r/usr /usr
$V:2: bind #r/lib /lib
$V:3: bind #r/lib64 /lib64
$V:4: bind -c #T /tmp" "$who: newns -v: each line echoed as FILE:LINE: COMMAND, \$var expanded"

	# bind without flags replaces what the file bound before (MREPL).
	RB=$R/rebind.ns
	printf '%s\n' "bind '#r/usr' /usr" "bind '#r/bin' /bin" "bind '#r/lib' /lib" "bind '#r/lib64' /lib64" \
		"bind '#r/etc' /n" "bind '#r/usr' /n" "bind -c '#T' /tmp" "bind -c '#T' /tmp" >"$RB"
	N newns -n "$RB" sh -c 'test -d /n/bin && echo usr-on-n; test -e /n/os-release && echo etc-on-n
		echo x >/tmp/x && cat /tmp/x' >"$TD/o" 2>"$TD/e"
	is "$?:$(cat "$TD/o"):$(cat "$TD/e")" "0:usr-on-n
x:" "$who: a second bind on the same point replaces the first (/n, /tmp), no report"

	# A line longer than 64 KiB is reported and skipped; one of 60000
	# bytes runs; a last line without a newline runs.
	L=$R/long.ns
	{
		printf '%s\n' "bind '#r/usr' /usr" "bind '#r/lib' /lib" "bind '#r/lib64' /lib64"
		printf 'bind /%s /mnt\n' "$(head -c 70000 /dev/zero | tr '\0' x)"
		printf "bind '#r/bin' /bin%s\n" "$(head -c 60000 /dev/zero | tr '\0' ' ')"
		printf "bind '#r/etc' /etc"
	} >"$L"
	N newns -n "$L" sh -c 'head -1 /etc/os-release' >"$TD/o" 2>"$TD/e"
	is "$?:$(cat "$TD/o")" "1:$osr" \
		"$who: long lines: a 60000-byte line and a last line without newline run; exit 1 for the long one"
	is "$(grep -c "^ns9: $L:4: .*line too long" "$TD/e"):$(wc -l <"$TD/e" | tr -d ' ')" "1:1" \
		"$who: a line over 64 KiB: reported as line too long, alone"
}

# 2b. addns, inside a name space this part made with ns9 rfork -n.
part_addns() {
	init "$1" || return
	mkdir a b c t && echo A >a/f
	NEWNSD=$R
	export NEWNSD
	G=$R/add.ns
	cat >"$G" <<'EOF'
# bind into the current name space
bind $NEWNSD/a $NEWNSD/b
bind '#T' $NEWNSD/t
EOF
	N addns "$G" >"$TD/o" 2>"$TD/e"
	is "$?:$(cat "$TD/o" "$TD/e")" "0:" "$who: addns of a good file: exit 0, silent"
	is "$(cat b/f 2>&1):$(stat -f -c %T t):$(ls -A t | wc -l | tr -d ' ')" "A:tmpfs:0" \
		"$who: addns: the binds are in the current name space"
	N unmount "$R/b" && N unmount "$R/t"

	B=$R/addbad.ns
	cat >"$B" <<'EOF'
bind $NEWNSD/a $NEWNSD/b
bind $NEWNSD/nonexistent $NEWNSD/c
frob
bind '#T' $NEWNSD/t
EOF
	N addns "$B" >/dev/null 2>"$TD/e"
	is "$?" 1 "$who: addns with failing lines: exit 1"
	is "$(prefixes "$TD/e")" "ns9: $B:2
ns9: $B:3" "$who: addns: the failing lines reported as FILE:LINE"
	is "$(cat b/f 2>&1):$(stat -f -c %T t)" "A:tmpfs" "$who: addns: the other lines applied"
	N unmount "$R/b" && N unmount "$R/t"

	C=$R/addclear.ns
	printf '%s\n' 'clear' 'bind $NEWNSD/a $NEWNSD/c' >"$C"
	N addns "$C" >/dev/null 2>"$TD/e"
	is "$?:$(prefixes "$TD/e")" "1:ns9: $C:1" "$who: addns refuses clear (reported, exit 1)"
	is "$(cat c/f 2>&1):$(test -e /usr/bin/env && echo host-root)" "A:host-root" \
		"$who: addns: the line after clear applied, the root untouched"
	N unmount "$R/c"

	printf '%s\n' 'bind $NEWNSD/a $NEWNSD/b' >"$R/addv.ns"
	N addns -v "$R/addv.ns" >"$TD/o" 2>"$TD/e"
	is "$?:$(cat "$TD/o"):$(cat "$TD/e")" "0::$R/addv.ns:1: bind $R/a $R/b" "$who: addns -v echoes the line, \$var expanded"
	N unmount "$R/b"
}

# 3. Clean means clean.
part_clean() {
	init "$1" || return
	C=$R/clean.ns
	cat >"$C" <<'EOF'
bind '#r/usr' /usr
bind '#r/bin' /bin
bind '#r/lib' /lib
bind '#r/lib64' /lib64
bind '#p' /proc
bind -c '#T' /tmp
bind '#r'$NEWNSBIN /opt
EOF
	skel="bin boot dev etc home lib lib32 lib64 libx32 media mnt n opt proc root run sbin srv sys tmp usr var"
	N newns -n "$C" sh -c '
		grep -c newnsmarker /proc/self/mountinfo
		test -e "$0/hostmnt/m" && echo "host tmpfs visible"
		test -e "$0/host-only" && echo "host file visible"
		test -e /var/lib/dpkg && echo "host /var visible"
		test -e "$HOME/homemark" && echo "host home visible"
		cut -d" " -f5 /proc/self/mountinfo | grep -v "^/proc/" | sort | paste -sd" "
		ls -A / | paste -sd" "
		cd / && cd .. && pwd -P && ls -A | paste -sd" "
		readlink /proc/self/root
		stat -f -c %T /
		touch /usr/newns-ro 2>/dev/null && echo "usr writable"
		/opt/newnsescape chroot /tmp/esc "$0/host-only"' "$SCR" >"$TD/o" 2>"$TD/e"
	is "$?:$(cat "$TD/e")" "0:" "$who: clean: exit 0, no report"
	is "$(sed -n 1,2p "$TD/o")" "0
/ /bin /lib /lib64 /opt /proc /tmp /usr" "$who: clean: mountinfo lists only the file's mounts (no tmpfs the host had)"
	is "$(sed -n '3,$p' "$TD/o")" "$skel
/
$skel
/
tmpfs
contained" "$who: clean: / is the skeleton only, /.. is /, /usr read-only, no way out by chroot"
	"$SCR/bin/newnsescape" exec timeout 60 "$NS9" newns -n "$C" /opt/newnsescape fds >"$TD/o" 2>&1
	is "$(cat "$TD/o")" "" "$who: clean: the command gets no fd beyond its caller's (none)"
}

# 4. The escape pod: its pieces come from a union (FUSE) whose server is
# then stopped.
part_pod() {
	init "$1" || return
	if ! [ -x /bin/busybox ]; then
		skip "$who: the escape pod: no /bin/busybox (Debian's busybox-static, mk/deps)"
		return
	fi
	trap '[ -s "$TD/.stopped" ] && kill -CONT $(cat "$TD/.stopped") 2>/dev/null
		[ -s "$TD/.pod" ] && kill -KILL $(cat "$TD/.pod") 2>/dev/null' EXIT
	mkdir real other src && cp /bin/busybox real/busybox && echo o >other/o
	N bind "$R/real" "$R/src" && N bind -a "$R/other" "$R/src"
	u=$(upid "$R/src")
	is "$(top "$R/src" | cut -d' ' -f1):$(tr '\0' ' ' </proc/"$u"/cmdline 2>/dev/null | cut -d' ' -f2)" \
		"fuse.ns9union:unionfs" "$who: pod: the sources are a union served by ns9 unionfs (pid $u)"
	NEWNSPOD=$R/src
	export NEWNSPOD HOSTDEV
	P=$R/pod.ns
	cat >"$P" <<'EOF'
# an escape pod: busybox in RAM, devices, nothing from the host's root
bind '#m'$NEWNSPOD/busybox /bin
bind '#c' /dev
bind '#p' /proc
bind -c '#T' /tmp
cd /
EOF
	mkfifo "$R/go"
	exec 3<>"$R/go"
	"$NS9" newns -n "$P" /bin/busybox sh -c 'echo ready; read go
		ls /bin
		echo x >/tmp/y; cat /tmp/y
		grep -c ^Pid: /proc/self/status
		echo z >/dev/null && echo devnull
		pwd
		cut -d" " -f3 /proc/self/mountinfo | grep -cx "$HOSTDEV"
		echo end' <&3 >"$TD/pod.out" 2>"$TD/pod.err" &
	pod=$!
	echo "$pod" >"$TD/.pod"
	ok "$who: pod: built and waiting" waitline "$TD/pod.out" ready
	kill -STOP "$u" && echo "$u" >"$TD/.stopped"
	is "$(sed 's/.*) //' /proc/"$u"/stat | cut -c1)" T "$who: pod: the union's server is stopped"
	echo go >&3
	gonepid "$pod"
	is "$(alive "$pod" && echo running || echo finished)" finished "$who: pod: the commands finished with the server stopped"
	kill -KILL "$pod" 2>/dev/null
	wait "$pod"
	rc=$?
	is "$rc:$(cat "$TD/pod.err")" "0:" "$who: pod: exit 0, nothing on stderr"
	is "$(cat "$TD/pod.out")" "ready
busybox
x
1
devnull
/
0
end" "$who: pod: ls /bin, /tmp, /proc, /dev work; no mount of the host root's file system"
	timeout -s KILL 3 ls "$R/src" >/dev/null 2>&1
	is "$(hung $?)" hung "$who: pod: outside, ls of the sources hangs (killed after 3 s)"
	timeout -s KILL 3 cat "$R/src/o" >/dev/null 2>&1
	is "$(hung $?)" hung "$who: pod: outside, reading a file of the sources hangs"
	kill -CONT "$u" && : >"$TD/.stopped"
	is "$(timeout 10 ls "$R/src" | paste -sd' ')" "busybox o" "$who: pod: the server continued: the union lists again"
	exec 3>&-
	N unmount "$R/src"
	ok "$who: pod: the union's server exits with its mount" gonepid "$u"
	: >"$TD/.pod"
}

# 4b. The shipped etc/namespace.pod.
part_shippedpod() {
	init "$1" || return
	if ! [ -x /bin/busybox ]; then
		skip "$who: etc/namespace.pod: no /bin/busybox (Debian's busybox-static, mk/deps)"
		return
	fi
	if ! [ -f "$SCR/etc/namespace.pod" ]; then
		T_N=$((T_N + 1)); T_FAIL=$((T_FAIL + 1)); echo "not ok $T_N - $who: etc/namespace.pod is not in the tree"
		return
	fi
	export HOSTDEV
	printf '%s\n' 'ls /bin' 'echo x >/tmp/y' 'cat /tmp/y' 'pwd' 'ls /srv >/dev/null && echo srv' \
		'grep -c ^Pid: /proc/self/status' 'cut -d" " -f3 /proc/self/mountinfo | grep -cx "$HOSTDEV"' \
		'echo z >/dev/null && echo devnull' |
		env SHELL=/bin/bash timeout 60 "$NS9" newns -n "$SCR/etc/namespace.pod" >"$TD/o" 2>"$TD/e"
	is "$?:$(cat "$TD/e")" "0:" "$who: etc/namespace.pod: exit 0, no report"
	is "$(cat "$TD/o")" "busybox
x
/
srv
1
0
devnull" "$who: etc/namespace.pod: /bin/busybox sh (no \$SHELL there), /tmp, /srv, /proc, /dev; nothing on the host root's file system"
}

# 5. reroot over a prepared tree.
part_reroot() {
	init "$1" || return
	if ! [ -x /bin/busybox ]; then
		skip "$who: reroot: no /bin/busybox to fill the new root with (Debian's busybox-static, mk/deps)"
		return
	fi
	NR=$R/newroot
	mkdir -p "$NR/usr/bin" "$NR/etc" "$NR/lib" "$NR/lib64" "$NR/sbin" "$NR$HOME"
	cp /bin/busybox "$NR/usr/bin/busybox" && ln -s busybox "$NR/usr/bin/sh" && ln -s usr/bin "$NR/bin"
	echo "NEWNS_REROOT_MARKER=$who" >"$NR/etc/os-release"
	echo x >"$NR$HOME/rerootmark"
	printf '%s\n' 'cat /etc/os-release' 'ls ~' 'pwd' 'echo to-stderr >&2' 'echo x >/dev/null && echo devnull' \
		'grep -c ^Pid: /proc/self/status' 'ls /usr/bin' 'echo done' |
		env SHELL=/bin/sh timeout 60 "$NS9" reroot "$NR" >"$TD/o" 2>"$TD/e"
	is "$?:$(cat "$TD/e")" "0:to-stderr" "$who: reroot NEWROOT: exit 0, stderr works, no report"
	is "$(cat "$TD/o")" "NEWNS_REROOT_MARKER=$who
rerootmark
$HOME
devnull
1
busybox
sh
done" "$who: reroot NEWROOT: /etc, ~ and /usr are NEWROOT's; /dev, /proc work; stdin and stdout work"

	F=$R/reroot.ns
	printf '%s\n' "bind '#r/usr' /usr" "bind '#r/bin' /bin" "bind '#r/etc' /etc" "bind '#c' /dev" "bind '#p' /proc" \
		"bind -c '#T' /tmp" >"$F"
	printf '%s\n' 'cat /etc/os-release' 'echo x >/tmp/y && cat /tmp/y' 'test -e /usr/bin/env || echo no-host-usr' \
		'echo to-stderr >&2' 'echo done' |
		env SHELL=/bin/sh timeout 60 "$NS9" reroot "$NR" "$F" >"$TD/o" 2>"$TD/e"
	is "$?:$(cat "$TD/e")" "0:to-stderr" "$who: reroot NEWROOT FILE: exit 0, stderr works"
	is "$(cat "$TD/o")" "NEWNS_REROOT_MARKER=$who
x
no-host-usr
done" "$who: reroot NEWROOT FILE: the file's binds, #r naming NEWROOT"

	# On a terminal: the shell's terminal is still its terminal.
	if command -v script >/dev/null; then
		printf '%s\n' 'tty' 'echo hi-on-tty >/dev/tty' 'exit' |
			env SHELL=/bin/sh timeout 60 script -qec "$NS9 reroot $NR" /dev/null >"$TD/o" 2>&1
		is "$(tr -d '\r' <"$TD/o" | grep -c -x -e '/dev/pts/[0-9]*' -e hi-on-tty)" 2 \
			"$who: reroot on a terminal: tty names it, /dev/tty writes to it"
	else
		skip "$who: reroot on a terminal: no script(1)"
	fi
}

# 6. ns9 ns of a clean name space replays to the same text and mounts.
part_replay() {
	init "$1" || return
	F=$R/replay.ns
	cat >"$F" <<'EOF'
bind '#r/usr' /usr
bind '#r/bin' /bin
bind '#r/lib' /lib
bind '#r/lib64' /lib64
bind '#r/etc' /etc
bind '#c' /dev
bind '#p' /proc
bind '#s' /srv
bind -c '#T' /tmp
bind '#r'$NEWNSBIN /opt
EOF
	mi='awk '\''{ for (i = 7; $i != "-"; i++) ; print $5, $(i+1), $6 }'\'' /proc/self/mountinfo'
	N newns -n "$F" sh -c "/opt/ns9 ns >/tmp/ns && cat /tmp/ns && echo ---- && $mi" >"$TD/o1" 2>"$TD/e"
	is "$?:$(cat "$TD/e")" "0:" "$who: replay: the first name space: exit 0, no report"
	sed '/^----$/,$d' "$TD/o1" >"$R/saved.ns"
	is "$(head -1 "$R/saved.ns" | cut -c1)" "#" "$who: replay: ns starts with a comment for the clean root"
	# A mount below a directory the file bound (lib.sh's username binds
	# one on /etc/passwd) came with that recursive bind: no line of its own.
	pw=
	is "$(sed "s/'//g" "$R/saved.ns" | awk '$1 == "bind" {
		src = $2; if (src ~ /^-/) src = src " " $3; print $NF, src }' | sort)" "/bin #r/usr/bin
/dev #c
/etc #r/etc$pw
/lib #r/usr/lib
/lib64 #r/usr/lib64
/opt #r$SCR/bin
/proc #p
/srv #s
/tmp #T
/usr #r/usr" "$who: replay: ns shows the host-root pieces (#r: read-only), #c, #p, #s, #T"
	N newns -n "$R/saved.ns" sh -c "/opt/ns9 ns && echo ---- && $mi" >"$TD/o2" 2>"$TD/e"
	is "$?:$(cat "$TD/e")" "0:" "$who: replay: newns -n of the saved text: exit 0, no report"
	is "$(sed '/^----$/,$d' "$TD/o2")" "$(cat "$R/saved.ns")" "$who: replay: ns9 ns prints the same text"
	is "$(sed '1,/^----$/d' "$TD/o2")" "$(sed '1,/^----$/d' "$TD/o1")" \
		"$who: replay: the same mounts (point, type, options) in the same order"
}

# 7. Bad input.
part_bad() {
	init "$1" || return
	N newns -n /nonexistent-newns-file sh -c 'echo ran' >"$TD/o" 2>"$TD/e"
	is "$?:$(cat "$TD/o"):$(grep -c '^ns9: .*/nonexistent-newns-file' "$TD/e"):$(wc -l <"$TD/e" | tr -d ' ')" "1::1:1" \
		"$who: newns -n a missing file: one error naming it, exit 1, nothing run"
	N newns -n "$R" sh -c 'echo ran' >"$TD/o" 2>"$TD/e"
	is "$?:$(cat "$TD/o"):$(grep -c '^ns9: ' "$TD/e")" "1::1" "$who: newns -n a directory: an error, exit 1, nothing run"
	N newns -n >"$TD/o" 2>"$TD/e"
	is "$?:$(cat "$TD/o"):$(grep -c usage "$TD/e")" "2::1" "$who: newns -n without a file: usage, exit 2"
	N addns >"$TD/o" 2>"$TD/e"
	is "$?:$(cat "$TD/o"):$(grep -c usage "$TD/e")" "2::1" "$who: addns without a file: usage, exit 2"
	N addns /nonexistent-newns-file >"$TD/o" 2>"$TD/e"
	is "$?:$(grep -c '^ns9: .*/nonexistent-newns-file' "$TD/e")" "1:1" "$who: addns of a missing file: an error, exit 1"

	# Include loops terminate, reported on the including line.  An
	# include is resolved in the name space being built: the top file
	# binds the directory of the others at /n first.
	export NEWNSD=$R
	T=$R/looptop.ns
	printf '%s\n' "bind '#r/usr' /usr" "bind '#r/lib' /lib" "bind '#r/lib64' /lib64" "bind '#r'\$NEWNSD /n" \
		'. /n/loopself.ns' "bind '#r/etc' /etc" >"$T"
	printf '%s\n' '. /n/loopself.ns' >"$R/loopself.ns"
	N newns -n "$T" /usr/bin/head -1 /etc/os-release >"$TD/o" 2>"$TD/e"
	rc=$?
	is "$rc:$(cat "$TD/o")" "1:$(head -1 /etc/os-release)" "$who: a file including itself: ends, exit 1, the rest built"
	is "$(prefixes "$TD/e" | grep -v -x -e "ns9: $T:5" -e "ns9: /n/loopself.ns:1"):$([ -s "$TD/e" ] && echo reported)" ":reported" \
		"$who: a file including itself: reported, on the include lines only"
	printf '%s\n' "bind '#r/usr' /usr" "bind '#r/lib' /lib" "bind '#r/lib64' /lib64" "bind '#r'\$NEWNSD /n" \
		'. /n/loopa.ns' >"$T"
	printf '%s\n' '. /n/loopb.ns' >"$R/loopa.ns"
	printf '%s\n' '. /n/loopa.ns' >"$R/loopb.ns"
	N newns -n "$T" /usr/bin/true 2>"$TD/e"
	is "$?:$(prefixes "$TD/e" | grep -v -x -e "ns9: $T:5" -e "ns9: /n/loopa.ns:1" -e "ns9: /n/loopb.ns:1"):$([ -s "$TD/e" ] && echo reported)" \
		"1::reported" "$who: two files including each other: end, reported on include lines only, exit 1"
	mkdir "$R/lt"
	printf '%s\n' '. $NEWNSLOOP' >"$R/addloop.ns"
	export NEWNSLOOP=$R/addloop.ns
	N rfork -n "$NS9" addns "$R/addloop.ns" 2>"$TD/e"
	is "$?:$(prefixes "$TD/e" | sort -u)" "1:ns9: $R/addloop.ns:1" "$who: addns of a file including itself: ends, exit 1"

	echo 'echo ran' | env SHELL=/bin/sh timeout 60 "$NS9" reroot /nonexistent-newns-root >"$TD/o" 2>"$TD/e"
	is "$?:$(cat "$TD/o"):$(grep -c '^ns9: .*/nonexistent-newns-root' "$TD/e")" "1::1" \
		"$who: reroot of a missing directory: an error naming it, exit 1, no shell"
	: >"$R/plainfile"
	echo 'echo ran' | env SHELL=/bin/sh timeout 60 "$NS9" reroot "$R/plainfile" >"$TD/o" 2>"$TD/e"
	is "$?:$(cat "$TD/o"):$(grep -c '^ns9: ' "$TD/e")" "1::1" "$who: reroot of a file: an error, exit 1, no shell"
	N reroot >"$TD/o" 2>"$TD/e"
	is "$?:$(grep -c usage "$TD/e")" "2:1" "$who: reroot without a directory: usage, exit 2"
}

if [ "$1" = part ]; then
	# sh newns.sh part NAME DIR T_N: the checks, then the counts in DIR/.counts.
	T_N=$4 T_FAIL=0
	TD=$3
	"part_$2" "$3"
	killall_waited
	echo "T_N=$T_N P_FAIL=$T_FAIL" >"$3/.counts"
	exit 0
fi

SELF=$(cd "$(dirname "$0")" && pwd)/$(basename "$0")
ROOT=${ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
setup
username
userfuse
NEWNSID=$$
export NEWNSID
trap 'killall_waited; rm -f /tmp/newns-probe.*.'"$NEWNSID"'
	cd /; umount -l "$SCR" 2>/dev/null; rmdir "$SCR" 2>/dev/null' EXIT
cp "$SELF" "$SCR/bin/newns.sh" || exit 1
cp "$HD/newnsescape" "$SCR/bin/newnsescape" || { echo "not ok 1 - no newnsescape helper (make)"; exit 1; }
mkdir "$SCR/etc" && cp "$ROOT/etc/namespace" "$SCR/etc/namespace" || { echo "not ok 1 - no etc/namespace in the tree"; exit 1; }
cp "$ROOT/etc/namespace.pod" "$SCR/etc/namespace.pod" 2>/dev/null
chmod 644 "$SCR"/etc/*

# The built-in file is used only if none is installed: hide an installed
# one (in this name space only).
[ -e /etc/ns9/namespace ] && mount -t tmpfs -o mode=0755 newnsetc /etc/ns9
# Homes where a machine has them, outside /tmp (part tmphome tries one
# below it), on a tmpfs of this name space only.
mount -t tmpfs -o mode=0755 newnshome /home || exit 1
mkdir /home/newnsroot /home/newnsuser && echo x >/home/newnsroot/homemark && echo x >/home/newnsuser/homemark
chown -R "$TUID:$TUID" /home/newnsuser
# What a clean name space must not show: a file, and a tmpfs mounted here.
echo secret >"$SCR/host-only"
mkdir "$SCR/hostmnt" && mount -t tmpfs newnsmarker "$SCR/hostmnt" && echo m >"$SCR/hostmnt/m"
is "$(grep -c ' newnsmarker ' /proc/self/mountinfo)" 1 "the marker tmpfs is mounted in the test's name space"
# The device of the host's root file system, to find its mounts in the pod.
HOSTDEV=$(awk '$5 == "/" { print $3; exit }' /proc/self/mountinfo)
export HOSTDEV

# runpart NAME AS [rfork]: part NAME as root or user, in a name space of
# its own (ns9 rfork -n) when asked.
runpart() {
	p=$1 a=$2
	d=$SCR/$a-$p
	mkdir -p "$d"
	[ "$a" = user ] && chown "$TUID:$TUID" "$d"
	if [ "$3" = rfork ]; then
		set -- "$UNS9" rfork -n sh "$SCR/bin/newns.sh" part "$p" "$d" "$T_N"
	else
		set -- sh "$SCR/bin/newns.sh" part "$p" "$d" "$T_N"
	fi
	if [ "$a" = user ]; then
		asuser env HOME=/home/newnsuser timeout -k 5 300 "$@"
	else
		env -u XDG_RUNTIME_DIR HOME=/home/newnsroot NS9="$UNS9" timeout -k 5 300 "$@"
	fi
	if [ -f "$d/.counts" ]; then
		P_FAIL=0
		eval "$(cat "$d/.counts")"
		T_FAIL=$((T_FAIL + P_FAIL))
	else
		T_N=$((T_N + 1)); T_FAIL=$((T_FAIL + 1)); echo "not ok $T_N - $a: part $p did not finish"
	fi
}

# NEWNSPARTS: the parts to run (all by default).
for who in root user; do
	for p in ${NEWNSPARTS:-default tmphome badline addns clean pod shippedpod reroot replay bad}; do
		case $p in
		addns|pod) runpart $p $who rfork ;;
		*) runpart $p $who ;;
		esac
	done
done

is "$(mounts "$SCR/")" "$SCR/hostmnt tmpfs newnsmarker /" "nothing reached the test's name space"
# No process is left: every ns9, server and pod ended.
i=0
while [ $i -lt 100 ] && pgrep -f '^([^ ]*/)?(ns9|busybox|ns9-watch)( |$)' >/dev/null; do sleep 0.1; i=$((i + 1)); done
is "$(pgrep -a -f '^([^ ]*/)?(ns9|busybox|ns9-watch)( |$)')" "" "no ns9, server or busybox left running"
done_testing
