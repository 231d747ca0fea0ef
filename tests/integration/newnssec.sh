# newnssec.sh: the security and robustness of namespace files and clean
# name spaces (issue 6: lib/ns/nsfile.c, dev.c, rfork.c, text.c,
# cmd/ns9/newns.c).  The rule (design.md §3): nothing ns9 does lets anyone
# read or change a file, mount or name space they could not themselves;
# ns9 is often run by root, so root building a name space (newns, #m, #p)
# or reading a user's (ns9 ns) must not hand the user more than the user
# had, and text from a user's process must not make root bind what the
# user only claims.  Bad input is reported and changes nothing; nothing
# hangs (every ns9 runs under timeout: a hang is a failure).
#
# At the commit that added it, 16 of 26 checks fail, each a finding of
# the review of issue 6: #m keeps set-id bits on root's copy of a user's
# file, drops the owner and the mode of the directory above; #m of a link
# to a file fails; #p made by root drops hidepid; an include or -n naming
# a FIFO waits for ever; a failing line leaves the mount points made for
# it; #r/PATH resolves absolute links in the clean root being built;
# reroot's #r/.. and links climbing out reach outside NEWROOT; root's #s
# follows NS9SRV into a user's directory; ns text of a clean name space
# believes tmpfs sources and the NS9NAMES of a non-dumpable process.
. "$(dirname "$0")/../lib.sh"
setup
export LC_ALL=C
unset NS9SRV
H=$SCR/bin/newnssec
cp "$HD/newnssec" "$H" 2>/dev/null || { echo "not ok 1 - no newnssec helper"; exit 1; }

N() { timeout 30 "$NS9" "$@"; }
# hung RC: "hung" if RC is what timeout gives a command it had to kill
hung() { case $1 in 124|137) echo hung ;; *) echo "finished" ;; esac; }
# as4242 CMD...: inside a root name space, run CMD as the unprivileged uid
AS="setpriv --reuid $TUID --regid $TUID --clear-groups --inh-caps=-all"
# waitfile FILE: until FILE is not empty, at most 20 s
waitfile() {
	i=0
	while [ $i -lt 200 ] && ! [ -s "$1" ]; do sleep 0.1; i=$((i + 1)); done
	[ -s "$1" ]
}
alive() { [ -e /proc/"$1" ] && [ "$(sed 's/.*) //' /proc/"$1"/stat 2>/dev/null | cut -c1)" != Z ]; }
PIDS=
cleanup() {
	for p in $PIDS; do kill -9 "$p" 2>/dev/null; done
	killall_waited
	cd /
	umount -l "$SCR" 2>/dev/null
	rmdir "$SCR" 2>/dev/null
}
trap cleanup EXIT

S=$SCR/s
mkdir -p "$S"
# What every root name space here needs: the host's programs, and the scratch tree.
BASE="bind '#r/usr' /usr
bind '#r/bin' /bin
bind '#r/sbin' /sbin
bind '#r/lib' /lib
bind '#r/lib64' /lib64
bind '#r/etc' /etc
bind '#c' /dev
bind '#r$SCR' $SCR"
before=$(cat /proc/self/mountinfo | wc -l)

# ---- 1. #m copies made by root ----
# A user's setuid program copied by root (bind '#m/dir' with a user's
# directory in it) must not become a setuid-root program.
mkdir -p "$S/m"
cp /usr/bin/id "$S/m/id" && chown "$TUID:$TUID" "$S/m/id" && chmod 4755 "$S/m/id"
printf '%s\n' "$BASE" "bind '#m$S/m' /opt" >"$S/m.ns"
out=$(N newns -n "$S/m.ns" sh -c "$AS /opt/id -u" 2>&1)
is "$out" "$TUID" "#m: a user's setuid file copied by root does not run as root (dev.c copyfile keeps S_ISUID, the copy is root's, the tmpfs is suid)"
out=$(N newns -n "$S/m.ns" stat -c '%u:%g %a' /opt/id 2>&1)
is "$(echo "$out" | awk -v u="$TUID:$TUID" '{ print ($1 == u || $2 !~ /^[2467]...$/) ? "safe" : $0 }')" "safe" \
	"#m: root's copy of a user's setuid file keeps its owner or drops the set-id bits"

# What a directory of root's kept from other users (mode 0700) stays
# theirs in the copy: the copy's root is a tmpfs of mode 0755.
mkdir -p "$S/priv" && chmod 700 "$S/priv" && echo secret >"$S/priv/secret" && chmod 644 "$S/priv/secret"
printf '%s\n' "$BASE" "bind '#m$S/priv' /opt" "bind '#m$S/priv/secret' /mnt" >"$S/priv.ns"
is "$($AS cat "$S/priv/secret" 2>&1 >/dev/null | sed 's/.*: //')" "Permission denied" "#m: the user cannot read the file outside (control)"
out=$(N newns -n "$S/priv.ns" sh -c "$AS cat /opt/secret 2>&1; $AS cat /mnt/secret 2>&1" | grep -c '^secret$')
is "$out" 0 "#m: a copy of a directory (or a file in it) of mode 0700 does not let other users read what it held"

# A FIFO in a directory copied is left out and nothing waits for it; a
# link is copied as a link, never followed.
mkdir -p "$S/fd" && mkfifo "$S/fd/fifo" && echo f >"$S/fd/file" && ln -s "$S/priv/secret" "$S/fd/link"
printf '%s\n' "$BASE" "bind '#m$S/fd' /opt" >"$S/fd.ns"
out=$(N newns -n "$S/fd.ns" sh -c 'ls /opt; readlink /opt/link' 2>&1)
rc=$?
is "$(hung $rc):$out" "finished:file
link
$S/priv/secret" "#m: a FIFO is left out without waiting, a link copied as a link"

# #m of a file named by a link: the file (fstatat follows the link, the copy then refuses it: ELOOP)
echo linked >"$S/real" && ln -s "$S/real" "$S/lnk"
printf '%s\n' "$BASE" "bind '#m$S/lnk' /opt" >"$S/lnk.ns"
out=$(N newns -n "$S/lnk.ns" cat /opt/lnk 2>&1)
is "$out" "linked" "#m/PATH where PATH is a link to a file copies the file (dev.c devram: O_NOFOLLOW after a stat that followed)"

# ---- 2. #p made by root keeps /proc's hidepid ----
# (the test's own proc instance, from unshare --mount-proc; restored below)
sleep 60 &
SP=$!
PIDS="$PIDS $SP"
if mount -o remount,hidepid=invisible /proc 2>/dev/null; then
	is "$($AS sh -c "test -e /proc/$SP && echo seen || echo hidden")" "hidden" "#p: hidepid=invisible hides root's process from the user outside (control)"
	printf '%s\n' "$BASE" "bind '#p' /proc" >"$S/p.ns"
	out=$(N newns -n "$S/p.ns" $AS sh -c "test -e /proc/$SP && echo seen || echo hidden" 2>&1)
	is "$out" "hidden" "#p: a fresh proc made by root keeps the caller's hidepid (dev.c devproc mounts one with defaults)"
	mount -o remount,hidepid=off /proc
else
	skip "#p: no hidepid on this /proc"
	skip "#p: no hidepid on this /proc"
fi

# ---- 3. include and file robustness ----
mkfifo "$S/fifo"
printf '%s\n' ". $S/fifo" "bind $S/m $S/priv" >"$S/incfifo.ns"
timeout 10 "$NS9" rfork -n "$NS9" addns "$S/incfifo.ns" >/dev/null 2>"$S/e"
rc=$?
is "$(hung $rc)" "finished" "an include naming a FIFO does not wait for a writer (nsfile.c readall opens without O_NONBLOCK)"
timeout 10 "$NS9" newns -n "$S/fifo" true >/dev/null 2>"$S/e"
rc=$?
is "$(hung $rc)" "finished" "newns -n naming a FIFO does not wait for a writer"
# an include loop ends with an error
echo ". $S/loop.ns" >"$S/loop.ns"
timeout 20 "$NS9" rfork -n "$NS9" addns "$S/loop.ns" >/dev/null 2>"$S/e"
rc=$?
is "$rc:$(grep -c 'nested more than' "$S/e")" "1:1" "an include loop ends with one error"

# ---- 4. nothing half-applied: a failing line leaves nothing made ----
printf '%s\n' "$BASE" "bind /nonexistent-newnssec-src /made/by/a/failing/line" >"$S/half.ns"
out=$(N newns -n "$S/half.ns" sh -c 'test -e /made && echo left || echo none' 2>/dev/null)
is "$out" "none" "a bind that fails leaves no mount point made for it (nsfile.c runline: ns_mkmntpt before ns_apply)"
printf '%s\n' "$BASE" "mount /nonexistent-newnssec-srv /made2/x" >"$S/half2.ns"
out=$(N newns -n "$S/half2.ns" sh -c 'test -e /made2 && echo left || echo none' 2>/dev/null)
is "$out" "none" "a mount that fails leaves no mount point made for it"

# no descriptor of ns9's (roots, trees, copies) reaches the command, with or without a failing line
fdsout=$(sh -c 'ls /proc/$$/fd' | sort | tr '\n' ' ')
printf '%s\n' "$BASE" "bind '#p' /proc" "bind '#T' /tmp" "bind '#m/etc/hostname' /opt" "bind '#s' /srv" >"$S/fds.ns"
is "$(N newns -n "$S/fds.ns" sh -c 'ls /proc/$$/fd' 2>&1 | sort | tr '\n' ' ')" "$fdsout" "no descriptor of ns9's is left to the command"
echo "bind /nonexistent-newnssec-src /x" >>"$S/fds.ns"
is "$(N newns -n "$S/fds.ns" sh -c 'ls /proc/$$/fd' 2>/dev/null | sort | tr '\n' ' ')" "$fdsout" "no descriptor of ns9's is left to the command after a failing line"

# ---- 5. #/ paths resolve in the host root ----
mkdir -p "$S/realdir" && echo abs >"$S/realdir/f" && ln -s "$S/realdir" "$S/absl"
# (bound before the scratch tree is, so the link's target is not in the clean root)
printf '%s\n' "bind '#r$S/absl' /opt" "$BASE" >"$S/abs.ns"
out=$(N newns -n "$S/abs.ns" cat /opt/f 2>&1)
is "$out" "abs" "#r/PATH through an absolute link resolves it in the host root, not the clean root being built"

# ---- 6. reroot stays inside NEWROOT ----
if [ -x /bin/busybox ]; then
	NR=$S/nr
	mkdir -p "$NR/usr/bin" "$NR/etc" "$NR/lib" "$NR/lib64" "$NR/sbin" "$S/outside"
	cp /bin/busybox "$NR/usr/bin/busybox" && ln -s busybox "$NR/usr/bin/sh" && ln -s usr/bin "$NR/bin"
	echo outside-secret >"$S/outside/secret"
	# a hostile tree: a relative link that climbs out of it
	ln -s ../outside "$NR/up"
	printf '%s\n' "bind '#r/..' /mnt" "bind '#r/up' /opt" "bind '#r/usr' /usr" "bind '#r/bin' /bin" >"$S/rr.ns"
	out=$(printf '%s\n' 'busybox cat /mnt/outside/secret /opt/secret 2>/dev/null' 'echo done' |
		env SHELL=/bin/sh timeout 30 "$NS9" reroot "$NR" "$S/rr.ns" 2>/dev/null)
	is "$out" "done" "reroot: #r/.. and a link climbing out of NEWROOT do not reach outside it (dev.c clonefrom: no RESOLVE_IN_ROOT)"
	# $user with $USER and $LOGNAME unset is looked up in the caller's root before the
	# file runs, never by NSS inside NEWROOT (whose nsswitch.conf could name any code)
	printf '%s\n' 'mallory:x:0:0:not root:/:/bin/sh' >"$NR/etc/passwd"
	printf '%s\n' 'passwd: files' 'group: files' >"$NR/etc/nsswitch.conf"
	printf '%s\n' "bind '#r/etc' /etc" "bind '#r/usr' /usr" "bind '#r/bin' /bin" "bind '#T' /n/\$user" >"$S/who.ns"
	out=$(echo 'busybox ls /n' | env -u USER -u LOGNAME SHELL=/bin/sh timeout 30 "$NS9" reroot "$NR" "$S/who.ns" 2>&1)
	is "$out" "$(id -un)" "reroot: \$user is the caller's name from its own root, not what NEWROOT's passwd says through NSS"
else
	skip "reroot: no /bin/busybox"
	skip "reroot: no /bin/busybox"
fi

# ---- 7. a hostile environment ----
# root's #s is root's srv directory, never a directory NS9SRV names that another user owns
mkdir -p "$UHOME/fakesrv" && chown "$TUID:$TUID" "$UHOME/fakesrv" && echo planted >"$UHOME/fakesrv/planted"
printf '%s\n' "$BASE" "bind '#s' /srv" >"$S/srv.ns"
out=$(env NS9SRV="$UHOME/fakesrv" timeout 30 "$NS9" newns -n "$S/srv.ns" ls /srv 2>&1)
case $out in
*planted*) r="the user's directory: $out" ;;
*"bind #s /srv"*NS9SRV*"not root's"*) r=refused ;;
*) r="$out" ;;
esac
is "$r" refused "#s: root refuses a srv directory NS9SRV names that another user owns (a clear error, nothing bound)"
# a user whose HOME names /etc gets a writable #/etc but still cannot write the host's /etc
printf '%s\n' "bind '#r/usr' /usr" "bind '#r/bin' /bin" "bind '#r/lib' /lib" "bind '#r/lib64' /lib64" \
	"bind '#/'\$home \$home" >"$S/home.ns"
chmod 644 "$S"/*.ns
out=$(asuser env HOME=/etc timeout 30 "$UNS9" newns -n "$S/home.ns" sh -c '{ echo x >/etc/newnssec-planted; } 2>/dev/null && echo wrote || echo refused' 2>&1)
is "$out:$(test -e /etc/newnssec-planted && echo planted)" "refused:" "a user's HOME=/etc: the host's /etc stays unwritable"
rm -f /etc/newnssec-planted

# ---- 8. ns9 ns of a user's clean name space, read by root ----
# The user builds a clean name space, then mounts tmpfs file systems of
# its own whose sources claim to be devices (#m/PATH, a host path), and
# runs a process that is not dumpable (its /proc files become root's)
# with a forged NS9NAMES.  Root's ns9 ns of those processes must not name
# the user's mounts by devices that would bind root's files on replay.
chown "$TUID:$TUID" "$S" 2>/dev/null
UD=$UHOME/ud
mkdir -p "$UD" && chown "$TUID:$TUID" "$UD"
printf '%s\n' "bind '#r/usr' /usr" "bind '#r/bin' /bin" "bind '#r/lib' /lib" "bind '#r/lib64' /lib64" \
	"bind '#r/etc' /etc" "bind '#c' /dev" "bind '#p' /proc" "bind -c '#T' /tmp" "bind '#r$SCR/bin' $SCR/bin" "bind '#/'\$home \$home" >"$S/user.ns"
chmod 644 "$S/user.ns"
cat >"$SCR/bin/userns.sh" <<EOF
mkdir -p /tmp/x /tmp/y /tmp/z
echo "\$($H tmpfs '#m$S/priv' /tmp/x) \$($H tmpfs none /tmp/y) \$($H tmpfs '#T' /tmp/z)" >$UD/mounted
mi=\$(awk '\$5 == "/tmp/z" { print \$1, \$3 }' /proc/self/mountinfo)
env NS9NAMES="\$mi /etc #r/etc" $H nodump 60 >$UD/nodump &
echo \$! >$UD/nodumppid
env NS9NAMES="\$mi /etc #r/etc" sleep 60 &
echo \$! >$UD/dumppid
echo \$\$ >$UD/pid
wait
EOF
chmod 755 "$SCR/bin/userns.sh"
asuser timeout -k 5 60 "$UNS9" newns -n "$S/user.ns" sh "$SCR/bin/userns.sh" >"$S/user.out" 2>&1 &
UP=$!
PIDS="$PIDS $UP"
if waitfile "$UD/pid" && waitfile "$UD/nodump" && waitfile "$UD/dumppid"; then
	is "$(cat "$UD/mounted")" "ok ok ok" "ns text: the user mounted its own tmpfs file systems (control)"
	PU=$(cat "$UD/pid") PN=$(cat "$UD/nodumppid") PD=$(cat "$UD/dumppid")
	PIDS="$PIDS $PU $PN $PD"
	N ns "$PU" >"$S/ns.pu" 2>&1
	# (it may show as the tmpfs it is, mount fs!tmpfs!#m..., which makes an empty one)
	is "$(grep -c "^bind .*#m$S/priv" "$S/ns.pu")" 0 "ns text: a user's tmpfs whose source is '#m/PATH' is not printed as a #m copy (text.c cleanline trusts the source)"
	is "$(grep -E -c "^bind +'?#//'? '?/tmp/y" "$S/ns.pu")" 0 "ns text: a user's own tmpfs is not printed as the host's root (text.c cleanline: #/ + m->root)"
	N ns "$PD" >"$S/ns.pd" 2>&1
	is "$(grep -c "#r/etc.*/tmp/z" "$S/ns.pd")" 0 "ns text: NS9NAMES of a user's (dumpable) process is not believed by root"
	N ns "$PN" >"$S/ns.pn" 2>&1
	is "$(grep -c "#r/etc.*/tmp/z" "$S/ns.pn")" 0 "ns text: NS9NAMES of a user's process made non-dumpable (its environ then root's) is not believed by root (text.c envnames: owner of /proc/PID/environ)"
	# replayed by root, that text would bind root's files for the user
	grep -v '^cd ' "$S/ns.pu" >"$S/replay.ns"
	out=$(N newns -n "$S/replay.ns" $AS cat /tmp/x/secret 2>/dev/null)
	is "$out" "" "ns text: root's replay of a user's name space does not give the user root's files"
else
	for k in 1 2 3 4 5 6; do is "no" "yes" "ns text: the user's clean name space did not start: $(head -c 300 "$S/user.out")"; done
fi
kill -9 $PIDS 2>/dev/null
i=0
while [ $i -lt 100 ] && alive "$UP"; do sleep 0.1; i=$((i + 1)); done
PIDS=

is "$(cat /proc/self/mountinfo | wc -l)" "$before" "nothing reached the test's name space"
done_testing
