# unionsec.sh: the security of union directories (fs/union, lib/ns/union.c)
# against an unprivileged user of a union root made (its server runs as
# root: FUSE, allow_other, default_permissions), and against hostile
# clients of the control socket.  The rule (design.md §3): a union never
# lets anyone do what they could not do through the members' real paths;
# every path, message and length from outside is hostile.
#
# Some requests, once the server has them, wait uninterruptibly in the
# kernel (FUSE): timeout(1) cannot end them.  Those run in the background,
# are polled for a bounded time, and are released by what they wait for
# (a writer on a FIFO, SIGCONT of a stopped server), or at the latest by
# the cleanup's kill -9 of the servers (their requests then fail).
. "$(dirname "$0")/../lib.sh"
setup
US=$SCR/bin/unionsec
cp "$HD/unionsec" "$US" 2>/dev/null || { echo "not ok 1 - no unionsec helper"; exit 1; }

N() { timeout 30 "$NS9" "$@"; }
U() { asuser timeout 20 "$@" 2>&1; }
# upid DIR: the server's pid from the source ns9union!PID!COOKIE of the union at DIR
upid() {
	awk -v d="$1" '$5 == d { for (i = 7; $i != "-"; i++) ; if ($(i+1) == "fuse.ns9union") s = $(i+2) }
		END { split(s, f, "!"); print f[2] }' /proc/self/mountinfo
}
alive() { [ -e /proc/"$1" ] && [ "$(sed 's/.*) //' /proc/"$1"/stat 2>/dev/null | cut -c1)" != Z ]; }
# gone PID: "exited" once PID has exited (at most 10 s), else "running"
gone() {
	i=0
	while [ $i -lt 100 ] && alive "$1"; do sleep 0.1; i=$((i + 1)); done
	if alive "$1"; then echo running; else echo exited; fi
}
# finished FILE: "done" once FILE ends with a line "done" (at most 10 s), else "waiting"
finished() {
	i=0
	while [ $i -lt 100 ] && [ "$(tail -n 1 "$1" 2>/dev/null)" != done ]; do sleep 0.1; i=$((i + 1)); done
	if [ "$(tail -n 1 "$1" 2>/dev/null)" = done ]; then echo done; else echo waiting; fi
}
nfd() { ls /proc/"$1"/fd 2>/dev/null | wc -l | tr -d ' '; }
rss() { awk '/^VmRSS/ { print $2 }' /proc/"$1"/status; }

# What the cleanup must end so nothing waits for ever in the kernel: a
# request a server holds ends (ENOTCONN) when the server dies.
STOPPED=
SERVERS=
cleanup() {
	for p in $STOPPED; do kill -CONT "$p" 2>/dev/null; kill -9 "$p" 2>/dev/null; done
	for p in $SERVERS; do kill -9 "$p" 2>/dev/null; done
	killall_waited
	cd /
	umount -l "$SCR" 2>/dev/null
	rmdir "$SCR" 2>/dev/null
}
# release FIFO...: a writer for each (an O_RDWR open never waits), with a
# line to read, so an open or read of it waiting in a server ends
release() {
	for f; do
		[ -p "$f" ] && (exec 3<>"$f" && echo x >&3 && sleep 15) 2>/dev/null &
	done
}
# count FILE: how many lines "done" FILE has
count() { cat "$1" 2>/dev/null | grep -c '^done$'; }
trap cleanup EXIT

S=$SCR/s
mkdir "$S"

# ---- 1. the control socket ----
mkdir "$S/ca" "$S/cu"
echo c >"$S/ca/f"
N bind -a "$S/ca" "$S/cu"
P=$(upid "$S/cu")
SERVERS="$SERVERS $P"
hello=$("$US" hello "$P")
is "$(U "$US" getfd "$P")" "EPERM" "control: a user cannot take the socket of root's union server"
fds=$(nfd "$P")
for k in short len nul version fds; do
	is "$("$US" bad "$P" $k)" "eof" "control: a malformed request ($k) is dropped"
done
for k in nofd notsock full die; do
	"$US" bad "$P" $k >/dev/null
	is "$("$US" hello "$P")" "$hello" "control: the server still answers after a request with $k"
done
is "$("$US" bad "$P" addfile "$S/ca/f" | cut -d' ' -f1-2)" "reply EINVAL" \
	"control: a regular file is not added as a member"
is "$("$US" bad "$P" unknown | cut -d' ' -f1-2)" "reply EINVAL" "control: an unknown request is an error"
is "$("$US" bad "$P" list)" "reply ok 2 members, 2 received" "control: the members are unchanged"
r0=$(rss "$P")
is "$("$US" flood "$P" 20000)" "ok" "control: 20000 requests whose replies nobody reads"
is "$("$US" hello "$P")" "$hello" "control: the server answers after the flood"
is "$(nfd "$P")" "$fds" "control: no fd left behind by bad requests and the flood"
r1=$(rss "$P")
is "$([ $((r1 - r0)) -lt 2048 ] && echo flat || echo "grew from $r0 to $r1 kB")" flat \
	"control: the server's memory is flat after the flood"
is "$(cat "$S/cu/f")" "c" "control: the union still serves"

# ---- 2. remove and rename act with the caller's rights ----
# Root puts a directory the user owns in front of one of root's.  The
# union's root shows the first member's attributes (the user's), so the
# kernel lets the user write it; the server must not then remove or
# rename, as root, what lives in root's directory.
mkdir "$S/ud" "$S/rd" "$S/rd/emptydir"
chown "$TUID:$TUID" "$S/ud"
echo root >"$S/rd/victim"
echo root >"$S/rd/victim2"
N bind -b "$S/ud" "$S/rd"
SERVERS="$SERVERS $(upid "$S/rd")"
is "$(U "$US" sys unlink "$S/rd/victim")" "EACCES" "caller's rights: a user cannot remove root's file in root's member"
is "$(U "$US" sys rename "$S/rd/victim2" "$S/rd/moved")" "EACCES" \
	"caller's rights: a user cannot rename root's file in root's member"
is "$(U "$US" sys rmdir "$S/rd/emptydir")" "EACCES" \
	"caller's rights: a user cannot remove root's directory in root's member"
N unmount "$S/rd"
is "$(ls "$S/rd" | paste -sd' ')" "emptydir victim victim2" "caller's rights: root's directory is as it was"

# Fine: creates go to the -c member as the caller.
mkdir "$S/cd" "$S/cu2"
chown "$TUID:$TUID" "$S/cd"
N bind -b -c "$S/cd" "$S/cu2"
SERVERS="$SERVERS $(upid "$S/cu2")"
U sh -c "echo x >'$S/cu2/uf' && mkdir '$S/cu2/udir' && ln -s /etc/shadow '$S/cu2/ul' && mkfifo '$S/cu2/up'" >/dev/null
is "$(stat -c '%u %n' "$S/cd/uf" "$S/cd/udir" "$S/cd/ul" "$S/cd/up" | sed "s|$S/cd/||" | paste -sd' ')" \
	"$TUID uf $TUID udir $TUID ul $TUID up" "creates: files, directories, links and FIFOs are the caller's"
is "$(U "$US" sys mknod "$S/cu2/dev")" "EPERM" "creates: a user cannot make a device node"
U sh -c "umask 0; echo x >'$S/cu2/sg'; chmod 6777 '$S/cu2/sg'" >/dev/null
is "$(stat -c '%u:%g %a' "$S/cd/sg")" "$TUID:$TUID 6777" "creates: a set-id file is the caller's own"
is "$(U "$US" sys chmod 700 "$S/cu2")" "EPERM" "setattr: the union's root cannot be changed"
echo root >"$S/cu2/rootonly"
chmod 600 "$S/cu2/rootonly"
is "$(U ln "$S/cu2/rootonly" "$S/cu2/mylink")" \
	"ln: failed to create hard link '$S/cu2/mylink' => '$S/cu2/rootonly': Operation not permitted" \
	"creates: a user cannot hard-link root's private file into its member"
mkdir "$S/rootc" "$S/cu3"
N bind -b -c "$S/rootc" "$S/cu3"
SERVERS="$SERVERS $(upid "$S/cu3")"
is "$(U sh -c "echo x >'$S/cu3/f'")" "sh: 1: cannot create $S/cu3/f: Permission denied" \
	"creates: a user cannot create in root's -c member"

# Fine: a directory swapped for a symlink after it was looked up: work
# in it stays in the directory looked up (the server holds it by fd).
mkdir "$S/ld" "$S/lu" "$S/ld/d" "$S/lroot"
chown -R "$TUID:$TUID" "$S/ld"
N bind -a "$S/ld" "$S/lu"
SERVERS="$SERVERS $(upid "$S/lu")"
U sh -c "cd '$S/lu/d' && mv '$S/ld/d' '$S/ld/d.old' && ln -s '$S/lroot' '$S/ld/d' && touch pwn" >/dev/null
is "$(ls "$S/lroot" | wc -l | tr -d ' ')/$(ls "$S/ld/d.old")" "0/pwn" \
	"symlink swap: a directory replaced by a link: the create stays in the directory looked up"
U sh -c "ln -s '$S/lroot' '$S/ld/l'" >/dev/null
is "$(U "$US" sys chmod 777 "$S/lu/l")" "EPERM" "symlink: chmod through a link in a member follows it in the caller's view"
is "$(stat -c %a "$S/lroot")" "755" "symlink: ... and root's directory is unchanged"

# ---- 3. a member the user cannot read through its real path ----
mkdir "$S/pub" "$S/priv"
echo pub >"$S/pub/pubfile"
echo secret >"$S/priv/secret"
chmod 644 "$S/priv/secret"
chmod 700 "$S/priv"
N bind -a "$S/priv" "$S/pub"
SERVERS="$SERVERS $(upid "$S/pub")"
is "$(U cat "$S/priv/secret")" "cat: $S/priv/secret: Permission denied" "private member: the real path is closed to the user"
is "$(U cat "$S/pub/secret" | grep -c "^secret$")" "0" "private member: the user cannot read its files through the union"
is "$(U ls "$S/pub" | paste -sd' ')" "pubfile" "private member: the user cannot list it through the union"

# ---- 4. a file node names whatever now has its name ----
# A shared directory the user may write (no sticky bit) holds root's
# private files; the user may rename them (that is all the real path
# allows).  Through the union, a file the user looked up (kept by an
# O_PATH fd) is opened or changed again by name: after the user moves
# root's file to that name, the server acts on root's file, as root, on a
# permission check made for the user's file.
mkdir "$S/share" "$S/su"
chmod 777 "$S/share"
for f in r w m t; do
	echo "root $f secret" >"$S/share/root$f"
	chmod 600 "$S/share/root$f"
	U sh -c "head -c 100 /dev/zero >'$S/share/mine$f'" >/dev/null
done
N bind -a "$S/share" "$S/su"
SERVERS="$SERVERS $(upid "$S/su")"
is "$(U cat "$S/share/rootr")" "cat: $S/share/rootr: Permission denied" "stale name: root's file is closed to the user"
got=$(U "$US" reopen "$S/su/miner" "mv '$S/share/rootr' '$S/share/miner'" | tr -d '\0')
is "$(echo "$got" | grep -c 'root r secret')" "0" "stale name: the user cannot read root's file moved under a name it opened"
U "$US" reopen -w "$S/su/minew" "mv '$S/share/rootw' '$S/share/minew'" >/dev/null
is "$(cat "$S/share/minew")" "root w secret" "stale name: the user cannot write root's file moved under a name it opened"
U "$US" reopen -m 666 "$S/su/minem" "mv '$S/share/rootm' '$S/share/minem'" >/dev/null
is "$(stat -c '%u %a' "$S/share/minem")" "0 600" "stale name: the user cannot chmod root's file moved under a name it opened"
U "$US" reopen -t "$S/su/minet" "mv '$S/share/roott' '$S/share/minet'" >/dev/null
is "$(cat "$S/share/minet")" "root t secret" "stale name: the user cannot truncate root's file moved under a name it opened"

# A FIFO put in place of the file: the server's open must not wait for a
# writer (it holds a worker; 16 such hold them all, and every process
# that touches the union then waits, unkillable, in the kernel).
mkdir "$S/fd" "$S/fu"
chown "$TUID:$TUID" "$S/fd"
echo x >"$S/fu/x"
N bind -a "$S/fd" "$S/fu"
FP=$(upid "$S/fu")
SERVERS="$SERVERS $FP"
U sh -c "echo x >'$S/fd/p0'" >/dev/null
(asuser "$US" reopen "$S/fu/p0" "rm '$S/fd/p0' && mkfifo '$S/fd/p0'" >"$TD/fifo0" 2>&1; echo done >>"$TD/fifo0") &
is "$(finished "$TD/fifo0")" "done" "fifo: an open of a name now a FIFO does not wait for a writer"
release "$S/fd/p0"
finished "$TD/fifo0" >/dev/null
for i in $(seq 1 16); do
	U sh -c "echo x >'$S/fd/p$i'" >/dev/null
	(asuser "$US" reopen "$S/fu/p$i" "rm '$S/fd/p$i' && mkfifo '$S/fd/p$i'" >/dev/null 2>&1; echo done >>"$TD/fifos") &
done
# until each has its answer or the server holds it (at most 10 s)
i=0
while [ $i -lt 100 ] && [ $(($(count "$TD/fifos") +
	$(grep -l wait_for_partner /proc/"$FP"/task/*/wchan 2>/dev/null | wc -l))) -lt 16 ]; do
	sleep 0.1; i=$((i + 1))
done
(cat "$S/fu/x" >"$TD/fifox" 2>&1; echo done >>"$TD/fifox") &
is "$(finished "$TD/fifox")" "done" "fifo: with 16 such opens made, a file of another member still opens"
for i in $(seq 1 16); do release "$S/fd/p$i"; done
i=0; while [ $i -lt 100 ] && [ "$(count "$TD/fifos")" -lt 16 ]; do sleep 0.1; i=$((i + 1)); done
[ "$(count "$TD/fifos")" -lt 16 ] && kill -9 "$FP"
finished "$TD/fifox" >/dev/null

# ---- 5. denial of service ----
# 5a. A member whose server is stopped: a lookup that must ask it waits
# (Plan 9's order), but one answered by an earlier member must not.
mkdir "$S/hu"
echo y >"$S/hu/y"
echo z >"$S/hu/z"
if N ramfs -s uram && N mount -a /srv/uram "$S/hu"; then
	SERVERS="$SERVERS $(upid "$S/hu")"
	HP=$(pgrep -n -f '^([^ ]*/)?ns9 9pfuse')
	RP=$(pgrep -n -f '^([^ ]*/)?ns9 ramfs -s uram$')
	SERVERS="$SERVERS $RP"
	cat "$S/hu/z" >/dev/null
	kill -STOP "$HP"
	STOPPED="$STOPPED $HP"
	(stat "$S/hu/missing" >/dev/null 2>&1; echo done >>"$TD/hmiss") &
	sleep 1
	(cat "$S/hu/z" >"$TD/hz" 2>&1; echo done >>"$TD/hz") &
	is "$(finished "$TD/hz")" "done" "hung member: a file of OLD itself looked up before still opens"
	(stat -c %s "$S/hu/y" >"$TD/hy" 2>&1; echo done >>"$TD/hy") &
	# Known (ns9(1) BUGS): libfuse 3.14 does not pass on the request for
	# parallel directory operations, so the kernel takes lookups in one
	# directory one at a time, and this one waits behind the lookup stuck
	# in the stopped member.
	r=$(finished "$TD/hy")
	if [ "$r" = done ]; then
		ok "hung member: a first lookup of a name in OLD itself does not wait for it" true
	else
		skip "hung member: a first lookup of a name in OLD itself waits (known: lookups in one directory are serialized)"
	fi
	kill -CONT "$HP"
	finished "$TD/hy" >/dev/null
	finished "$TD/hmiss" >/dev/null
else
	skip "hung member: no ramfs member"
	skip "hung member: no ramfs member"
fi

# 5b. Directory nodes hold fds: a user's walk must not leave the union
# without fds for everyone else.  (A hard limit of 256 for the server,
# so 400 directories are enough.)
mkdir "$S/nd" "$S/nu"
chown "$TUID:$TUID" "$S/nd"
echo x >"$S/nu/x"
(ulimit -n 256 && ulimit -Hn 256 && N bind -a "$S/nd" "$S/nu")
SERVERS="$SERVERS $(upid "$S/nu")"
asuser sh -c "cd '$S/nd' && mkdir \$(seq -f d%g 1 400)"
asuser sh -c "cd '$S/nu' && for i in \$(seq 1 400); do stat d\$i/. >/dev/null 2>&1; done"
is "$(timeout 10 cat "$S/nu/x" 2>&1)" "x" "fds: after a user's walk of 400 directories, root still reads the union"
is "$(timeout 10 ls "$S/nu" | wc -l | tr -d ' ')" "401" "fds: ... and lists it"

# 5c. Many open listings: each open directory holds its own copy of the
# whole listing, so one user's open handles grow root's server without
# bound.  10,000 names of 200 bytes (2 MB), 100 handles, each read in
# part (a listing read to its end is cached by the kernel; one read in
# part is not).
mkdir "$S/md" "$S/mu"
chown "$TUID:$TUID" "$S/md"
L=$(printf '%0200d' 0)
asuser sh -c "cd '$S/md' && seq -f '${L}%g' 1 10000 | xargs touch"
N bind -a "$S/md" "$S/mu"
MP=$(upid "$S/mu")
SERVERS="$SERVERS $MP"
r0=$(rss "$MP")
(asuser "$US" holddirs "$S/mu" 100 10 >"$TD/hold" 2>&1) &
i=0; while [ $i -lt 100 ] && [ "$(cat "$TD/hold" 2>/dev/null)" != ok ]; do sleep 0.1; i=$((i + 1)); done
r1=$(rss "$MP")
is "$([ $((r1 - r0)) -lt 40960 ] && echo bounded || echo "grew by $(((r1 - r0) / 1024)) MB")" bounded \
	"listings: 100 open handles of a 2 MB listing do not hold 100 copies of it"

# 5d. Inotify watches run out (here: a user namespace whose limit is 20;
# on the host, root's 8192-192k watches are shared by every root process
# and a user's walk uses them up): what is not watched must not be kept.
mkdir "$S/wd" "$S/wu"
for i in $(seq 1 30); do mkdir "$S/wd/d$i"; echo old >"$S/wd/d$i/f"; chmod 644 "$S/wd/d$i/f"; done
cat >"$SCR/bin/inotify.sh" <<'EOF'
echo 20 >/proc/sys/user/max_inotify_watches || exit 1
timeout 30 "$NS9" bind -a "$S/wd" "$S/wu" || exit 1
for i in $(seq 1 30); do stat "$S/wu/d$i/f" "$S/wu/d$i/new" >/dev/null 2>&1; done
for i in $(seq 1 30); do echo new >"$S/wd/d$i/new"; chmod 600 "$S/wd/d$i/f"; done
sleep 1
for i in $(seq 1 30); do cat "$S/wu/d$i/new" 2>/dev/null; done | grep -c new | sed 's/^/new: /'
for i in $(seq 1 30); do setpriv --reuid "$TUID" --regid "$TUID" --clear-groups cat "$S/wu/d$i/f" 2>/dev/null; done |
	grep -c old | sed 's/^/readable: /'
timeout 30 "$NS9" unmount "$S/wu"
EOF
export NS9 S TUID
unshare -U -m --propagation private sh -c 'i=0
	while [ -z "$(cat /proc/self/uid_map)" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
	exec timeout 60 sh "$1"' sh "$SCR/bin/inotify.sh" >"$TD/inotify" 2>&1 &
C=$!
i=0; while [ $i -lt 50 ] && [ "$(readlink /proc/$C/ns/user)" = "$(readlink /proc/self/ns/user)" ]; do sleep 0.1; i=$((i + 1)); done
echo "0 0 65536" >/proc/$C/uid_map && echo "0 0 65536" >/proc/$C/gid_map
wait $C
is "$(grep '^new:' "$TD/inotify")" "new: 30" "watches: with none left, files made beside the union show in it (30 directories)"
is "$(grep '^readable:' "$TD/inotify")" "readable: 0" \
	"watches: with none left, root's chmod 600 beside the union is honoured (30 files)"

# ---- 6. leaks ----
# 6a. The last use of an unmounted union ends its server.
mkdir "$S/ea" "$S/eu"
echo e >"$S/ea/f"
N bind -a "$S/ea" "$S/eu"
EP=$(upid "$S/eu")
SERVERS="$SERVERS $EP"
exec 7<"$S/eu/f"
N unmount "$S/eu"
is "$(alive "$EP" && echo running)" "running" "leaks: a union unmounted while a file is open keeps its server"
exec 7<&-
is "$(gone "$EP")" "exited" "leaks: the last close ends it"

# 6b. Two unions holding a directory of each other: unmounting both must
# end both servers (each holds the other's mount through a member fd).
mkdir "$S/xa" "$S/xa/s" "$S/xb" "$S/xb/s" "$S/xu" "$S/xv"
N bind -a "$S/xa" "$S/xu"
N bind -a "$S/xb" "$S/xv"
X1=$(upid "$S/xu")
X2=$(upid "$S/xv")
SERVERS="$SERVERS $X1 $X2"
N bind -a "$S/xv/s" "$S/xu"
N bind -a "$S/xu/s" "$S/xv"
N unmount "$S/xu"
N unmount "$S/xv"
i=0; while [ $i -lt 100 ] && { alive "$X1" || alive "$X2"; }; do sleep 0.1; i=$((i + 1)); done
is "$(alive "$X1" || echo exited) $(alive "$X2" || echo exited)" "exited exited" \
	"leaks: two unions holding each other's directories both end once unmounted"

# 6c. A long loop: the server's fds and memory stay flat.
mkdir "$S/la" "$S/lu2"
N bind -a -c "$S/la" "$S/lu2"
LP=$(upid "$S/lu2")
SERVERS="$SERVERS $LP"
loop() {
	for i in $(seq 1 300); do
		echo "$i" >"$S/lu2/f$i"
		mkdir "$S/lu2/d$i"
		mv "$S/lu2/f$i" "$S/lu2/d$i/g"
		cat "$S/lu2/d$i/g" >/dev/null
		rm -r "$S/lu2/d$i"
	done
	ls "$S/lu2" >/dev/null
}
loop
f0=$(nfd "$LP")
r0=$(rss "$LP")
loop
loop
is "$(nfd "$LP")" "$f0" "leaks: the server's fds are flat over a long loop"
r1=$(rss "$LP")
if [ -n "${ASAN_OPTIONS:-}" ]; then
	# ASan keeps freed memory in its quarantine (256 MB): RSS says nothing there; its leak check does.
	skip "leaks: the server's memory is flat over a long loop (not measured under ASan)"
else
	is "$([ $((r1 - r0)) -lt 1024 ] && echo flat || echo "grew from $r0 to $r1 kB")" flat \
		"leaks: the server's memory is flat over a long loop"
fi

# ---- 7. odd names ----
mkdir "$S/oa" "$S/ou"
chown "$TUID:$TUID" "$S/oa"
N bind -b -c "$S/oa" "$S/ou"
SERVERS="$SERVERS $(upid "$S/ou")"
nl='a
b'
long=$(printf 'n%.0s' $(seq 1 255))
for n in "$nl" "$(printf 'x\377y')" "$long" "-rf" " lead"; do
	U sh -c 'echo v >"$1"' sh "$S/ou/$n" >/dev/null
done
is "$(ls -Aq "$S/oa" | wc -l | tr -d ' ')" "5" "odd names: made through the union, in the -c member"
is "$(ls -Aq "$S/ou" | wc -l | tr -d ' ')" "5" "odd names: listed once each"
is "$(U cat "$S/ou/$nl")" "v" "odd names: a newline in a name"
is "$(U "$US" sys unlink "$S/ou/$long")" "ok" "odd names: a 255-byte name removed"
is "$(U "$US" sys unlink "$S/ou/$(printf 'x\377y')")" "ok" "odd names: a name that is not UTF-8 removed"
is "$(U sh -c 'echo v >"$1"' sh "$S/ou/$long"x)" "sh: 1: cannot create $S/ou/${long}x: File name too long" \
	"odd names: a 256-byte name is refused"

# ---- 8. a union's member list is readable whatever its names ----
# 100 members whose names are 2.8 KB: the server's list reply must all
# arrive (it is sent without waiting, so a reply that does not fit in the
# socket's buffer is cut), or ns text, copies and unmount of a member
# from another name space fail.
D=$S
for i in $(seq 1 14); do D=$D/$(printf '%0200d' "$i"); done
mkdir -p "$D" "$S/bu"
for i in $(seq 1 100); do mkdir "$D/m$i"; done
(cd "$D" && for i in $(seq 1 100); do timeout 30 "$NS9" bind -a "m$i" "$S/bu" || break; done)
BP=$(upid "$S/bu")
SERVERS="$SERVERS $BP"
is "$(N ns | grep -c " $S/bu\$")" "100" "long names: ns lists all 100 members of a union"
# OLD itself and 100 members so far: 27 more make 128, the limit.
for i in $(seq 101 127); do mkdir "$S/bm$i" && N bind -a "$S/bm$i" "$S/bu" || break; done
mkdir "$S/bm128"
is "$(N bind -a "$S/bm128" "$S/bu" 2>&1; echo "exit $?")" "ns9: bind $S/bm128 $S/bu: a union has at most 128 members
exit 1" "many members: a 129th is refused"
is "$("$US" bad "$BP" list | cut -d' ' -f3)" "128" "many members: ... and the union keeps its 128"

# ---- 9. kill -9 of the server while a request waits in it ----
mkdir "$S/kd" "$S/ku"
chown "$TUID:$TUID" "$S/kd"
N bind -a "$S/kd" "$S/ku"
KP=$(upid "$S/ku")
SERVERS="$SERVERS $KP"
U sh -c "echo x >'$S/kd/p'" >/dev/null
(asuser "$US" reopen "$S/ku/p" "rm '$S/kd/p' && mkfifo '$S/kd/p'" >"$TD/kill" 2>&1; echo done >>"$TD/kill") &
i=0
while [ $i -lt 100 ] && [ "$(tail -n 1 "$TD/kill" 2>/dev/null)" != done ] &&
	! grep -q wait_for_partner /proc/"$KP"/task/*/wchan 2>/dev/null; do
	sleep 0.1; i=$((i + 1))
done
kill -9 "$KP"
is "$(finished "$TD/kill")" "done" "kill -9: a request the server held ends"
is "$(ls "$S/ku" 2>&1)" "ls: cannot access '$S/ku': Transport endpoint is not connected" "kill -9: the union says so"
ok "kill -9: unmount cleans up" N unmount "$S/ku"

# ---- 10. who serves a union is taken from its mount's source ----
# Anyone may make a FUSE mount (a user, in a name space of its own) and
# name its type and source; a root union's source (pid and cookie) is in
# every mountinfo.  Root's ns9, reading the user's name space, must not
# take the user's mount for root's union.
userfuse
mkdir "$S/fa" "$S/fu0" "$UHOME/fake"
chown "$TUID:$TUID" "$UHOME/fake"
N bind -a "$S/fa" "$S/fu0"
SERVERS="$SERVERS $(upid "$S/fu0")"
src=$(awk -v d="$S/fu0" '$5 == d { for (i = 7; $i != "-"; i++) ; print $(i+2) }' /proc/self/mountinfo)
(asuser "$UNS9" rfork -n "$US" fakeunion "$UHOME/fake" "$src" 20 >"$TD/fake" 2>&1) &
i=0; while [ $i -lt 100 ] && [ "$(cat "$TD/fake" 2>/dev/null)" != ok ]; do sleep 0.1; i=$((i + 1)); done
FK=$(pgrep -n -u "$TUID" -f 'unionsec fakeunion')
if [ "$(cat "$TD/fake" 2>/dev/null)" = ok ] && [ -n "$FK" ]; then
	is "$(N ns "$FK" | grep -c "^bind -a $S/fa $UHOME/fake\$")" "0" "forged source: a user's mount is not shown as root's union"
	kill "$FK" 2>/dev/null
else
	skip "forged source: no user FUSE mount ($(cat "$TD/fake" 2>/dev/null))"
fi

# ---- 11. a root server that cannot become the caller must not act at all ----
# A root server in a user namespace (a container's root) serving a caller
# that has a group this namespace does not map (it came in from outside
# with it): the caller's groups cannot be set, and the request must fail,
# not run as whoever the worker was before (root, after root's request).
mkdir "$S/gd" "$S/gr" "$S/gu"
chown "$TUID:$TUID" "$S/gd"
echo root >"$S/gr/victim"
cat >"$SCR/bin/groups.sh" <<'EOF'
timeout 30 "$NS9" bind -b "$S/gd" "$S/gr" && timeout 30 "$NS9" bind "$S/gr" "$S/gu" || exit 1
echo ready
sleep 60
EOF
export NS9 S
unshare -U -m --propagation private sh -c 'i=0
	while [ -z "$(cat /proc/self/uid_map)" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
	exec sh "$1"' sh "$SCR/bin/groups.sh" >"$TD/groups" 2>&1 &
G=$!
i=0; while [ $i -lt 50 ] && [ "$(readlink /proc/$G/ns/user)" = "$(readlink /proc/self/ns/user)" ]; do sleep 0.1; i=$((i + 1)); done
echo "0 0 5000" >/proc/$G/uid_map && echo "0 0 5000" >/proc/$G/gid_map
i=0; while [ $i -lt 100 ] && [ "$(cat "$TD/groups" 2>/dev/null)" != ready ]; do sleep 0.1; i=$((i + 1)); done
if [ "$(cat "$TD/groups" 2>/dev/null)" = ready ]; then
	GP=$(awk -v d="$S/gu" '$5 == d { for (i = 7; $i != "-"; i++) ; s = $(i+2) } END { split(s, f, "!"); print f[2] }' \
		/proc/$G/mountinfo)
	SERVERS="$SERVERS $GP"
	for k in 1 2 3; do
		timeout 10 nsenter -t "$G" -U -m --preserve-credentials stat "$S/gu/victim" >/dev/null 2>&1
		timeout 10 setpriv --groups "$TUID" --regid "$TUID" -- nsenter -t "$G" -U -m --preserve-credentials -- \
			setpriv --reuid "$TUID" --inh-caps=-all --bounding-set=-all -- rm -f "$S/gu/victim" 2>/dev/null
	done
	is "$(ls "$S/gr")" "victim" "groups: the caller itself may not remove root's file (its real path denies it)"
	for k in 1 2 3 4 5 6 7 8 9 10; do
		# root's requests (lookups of new names reach the server): every worker was last root
		timeout 10 nsenter -t "$G" -U -m --preserve-credentials sh -c \
			'for i in 1 2 3 4 5 6; do stat "$1/none$2.$i" >/dev/null 2>&1; done' sh "$S/gu" "$k"
		timeout 10 setpriv --groups "$TUID,60000" --regid "$TUID" -- nsenter -t "$G" -U -m --preserve-credentials -- \
			setpriv --reuid "$TUID" --inh-caps=-all --bounding-set=-all -- rm -f "$S/gu/victim" 2>/dev/null
		[ -e "$S/gr/victim" ] || break
	done
	is "$(ls "$S/gr")" "victim" "groups: a caller whose groups a root server cannot take does not act as root"
else
	skip "groups: no union in a user namespace ($(cat "$TD/groups" 2>/dev/null))"
fi
kill "$G" 2>/dev/null

done_testing
