# exportfs.sh: ns9 exportfs and srvfs, driven by p9raw (raw 9P messages
# packed with ns9's codec, replies printed by its trace formatter): over
# stdin/stdout and posted in the srv directory.  Confinement beneath the
# root in both dialects (.., names with '/', links leading out, absolute
# links, a directory swapped for a link between walk and open, links,
# renames and creations aimed out): nothing outside is read or changed.
# Read-only mode, both dialects' operations, 30,000 fids under a small fd
# limit, bad messages, the server's credentials, the post's life.
. "$(dirname "$0")/../lib.sh"
setup
P9R=$SCR/bin/p9raw
cp "$HD/p9raw" "$P9R" || { echo "1..0 # SKIP no p9raw helper"; exit 0; }
SRVD=/run/ns9/srv
PIDS=
trap '[ -n "$PIDS" ] && kill $PIDS 2>/dev/null; killall_waited
	cd /; umount -l "$SCR" 2>/dev/null; rmdir "$SCR" 2>/dev/null' EXIT

# n: replies without tags and qid numbers ("Rwalk nwqid 1 0:(d)").
n() { sed -e 's/ tag [0-9]*//' -e 's/([0-9a-f]\{16\} [0-9]* \([a-zA-Z]*\))/(\1)/g'; }
# x ARGS <SCRIPT: exportfs ARGS on p9raw's stdin/stdout; normalised replies.
x() { "$P9R" -c "$NS9" exportfs "$@" 2>&1 | n; }
# gone PATH, gonepid PID: until it is gone, at most 5 s.
gone() {
	i=0
	while [ $i -lt 50 ] && [ -e "$1" ]; do sleep 0.1; i=$((i + 1)); done
	! [ -e "$1" ]
}
gonepid() {
	i=0
	while [ $i -lt 50 ] && kill -0 "$1" 2>/dev/null; do sleep 0.1; i=$((i + 1)); done
	! kill -0 "$1" 2>/dev/null
}
# serverpid PATTERN: the newest server whose command line ends so; recorded for the trap.
serverpid() {
	p=$(pgrep -n -f "ns9 .*$1\$")
	[ -n "$p" ] && PIDS="$p $PIDS"
	echo "$p"
}

# The exported tree, and beside it what must stay out of reach.
R=$SCR/t/root
O=$SCR/t/out
mkdir -p "$R/sub" "$R/dd" "$R/mnt" "$O/d"
echo hello >"$R/f"
echo subfile >"$R/sub/g"
echo x >"$R/dd/x"
echo secret >"$O/s"
echo 'outside g' >"$O/g"
chmod 640 "$O/s"
ln -s ../out/s "$R/esc"
ln -s /etc "$R/abs"
ln -s "$O/s" "$R/absout"
ln -s ../out "$R/dirout"
ln -s sub "$R/in"
ln -s "$O/created" "$R/dangle"
ln -s ../out/created2 "$R/dangle2"
# outstate: everything about the outside (names, modes, sizes, times, contents).
outstate() { (cd "$O" && find . | sort && stat -c '%n %a %s %Y %U' s g && cat s g; ls "$SCR/t"); }
OUT0=$(outstate)
# tree: everything about the exported tree.
tree() { (cd "$R" && find . -printf '%p %y %m %s %l\n' | sort && cat f sub/g dd/x); }

# --- 9P2000 over stdin/stdout ---
is "$(x -r "$R" <<EOF
Tversion 8192 9P2000
Tattach 0 -1 me ''
Twalk 0 1 f
Topen 1 0
cat 1
Twalk 0 2 sub g
Tclunk 2
Twalk 0 3
Topen 3 0
ls 3
Tread 1 0 0xffffffff
EOF
)" "Rversion msize 8192 version 9P2000
Rattach qid (d)
Rwalk nwqid 1 0:()
Ropen qid () iounit 8168
cat 1: 'hello\n'
Rwalk nwqid 2 0:(d) 1:()
Rclunk
Rwalk nwqid 0
Ropen qid (d) iounit 8168
ls 3: abs absout dangle dangle2 dd dirout esc f in mnt sub
Rread count 6 'hello\n'
exit 0" "9P2000: version, attach, walk, open, read, a directory's stat records, a huge count; exit 0 at end of file"

echo old >"$R/victim"
is "$(x -r "$R" <<EOF
Tversion 8192 9P2000
Tattach 0 -1 me ''
Twalk 0 1
Tcreate 1 new 0644 1
Twrite 1 0 'written via 9p'
Tclunk 1
Twalk 0 2 new
Twstat 2 name=renamed mode=0600
Tstat 2
Tclunk 2
Twalk 0 3 new
Twalk 0 3
Tcreate 3 nd 0x800001ed 0
Tclunk 3
Twalk 0 4
Tcreate 4 tmp 0644 0x41
!test -f $R/tmp && echo tmp is there
Tclunk 4
!test -e $R/tmp || echo tmp is gone at clunk
Twalk 0 5 nd
Tremove 5
Twalk 0 5 renamed
Tcreate 5 x 0644 1
Twalk 0 6
Tcreate 6 renamed 0644 1
Twalk 0 7 renamed
Twstat 7 name=victim
EOF
)" "Rversion msize 8192 version 9P2000
Rattach qid (d)
Rwalk nwqid 0
Rcreate qid () iounit 8168
Rwrite count 14
Rclunk
Rwalk nwqid 1 0:()
Rwstat
Rstat stat type 0 dev 0 qid () mode 0600 atime $(stat -c %X "$R/victim") mtime $(stat -c %Y "$R/victim") length 14 name renamed uid root gid root muid root
Rclunk
Rerror ename 'file does not exist'
Rwalk nwqid 0
Rcreate qid (d) iounit 8168
Rclunk
Rwalk nwqid 0
Rcreate qid () iounit 8168
tmp is there
Rclunk
tmp is gone at clunk
Rwalk nwqid 1 0:(d)
Rremove
Rwalk nwqid 1 0:()
Rerror ename 'create in non-directory'
Rwalk nwqid 0
Rerror ename 'file already exists'
Rwalk nwqid 1 0:()
Rwstat
exit 0" "9P2000: create, write, wstat (name and mode; the fid follows), ORCLOSE, mkdir, remove; creating an existing name fails, renaming onto one replaces it"
is "$(cat "$R/victim"; echo; stat -c %a "$R/victim"; ls "$R" | grep -c -e '^nd$' -e '^new$' -e '^renamed$')" "written via 9p
600
0" "the changes are on disk"
rm -f "$R/victim"

# Directory reads: whole records; the offset is 0 or where the last read ended (read(5)).
is "$(x -r "$R" <<EOF | sed 's/^\(Rread count\) [1-9][0-9]* .*/\1 N/'
Tversion 8192 9P2000
Tattach 0 -1 me ''
Twalk 0 1
Topen 1 0
Tread 1 0 100
Tread 1 5 100
Tread 1 0 100
Tread 1 0 10
EOF
)" "Rversion msize 8192 version 9P2000
Rattach qid (d)
Rwalk nwqid 0
Ropen qid (d) iounit 8168
Rread count N
Rerror ename 'bad offset in directory read'
Rread count N
Rerror ename 'read count too small for a directory entry'
exit 0" "9P2000 directory reads: a bad offset is refused, offset 0 starts again"

chown 4242:4242 "$R/dd/x"
is "$(x -r "$R" <<EOF | sed -n 's/.* name \(.*\)/\1/p'
Tversion 8192 9P2000
Tattach 0 -1 me ''
Twalk 0 1 dd x
Tstat 1
Tstat 0
EOF
)" "x uid 4242 gid 4242 muid 4242
/ uid root gid root muid root" "stat: names from the passwd and group files, else the number; the root is /"
chown 0:0 "$R/dd/x"

# Owners, lengths and times; the root cannot be removed.
echo 0123456789 >"$R/own"
is "$(x -r "$R" <<EOF
Tversion 8192 9P2000
Tattach 0 -1 me ''
Twalk 0 1 own
Twstat 1 uid=4242 gid=4243 length=4 mtime=1234567890
Twstat 1 uid=nosuchuser
Twstat 1 mode=0x800001ff
Tremove 0
EOF
)" "Rversion msize 8192 version 9P2000
Rattach qid (d)
Rwalk nwqid 1 0:()
Rwstat
Rerror ename 'unknown user or group ''nosuchuser'''
Rerror ename 'wstat can''t convert between files and directories'
Rerror ename 'file in use: the root of the tree'
exit 0" "9P2000 wstat: owner and group (a number when no name), length, mtime; bad values refused"
is "$(stat -c '%u %g %s %Y' "$R/own"; ls -d "$R")" "4242 4243 4 1234567890
$R" "the wstat is on disk; the root is still there"
is "$(x -r "$R" <<EOF
Tversion 8192 9P2000.L
Tattach 0 -1 me '' 0
Twalk 0 1 own
Tsetattr 1 uid=0 gid=0 atime=1000 mtime=now
EOF
)" "Rversion msize 8192 version 9P2000.L
Rattach qid (d)
Rwalk nwqid 1 0:()
Rsetattr
exit 0" "9P2000.L setattr: owner, group, atime, mtime now"
is "$(stat -c '%u %g %X' "$R/own"; [ "$(stat -c %Y "$R/own")" -gt 1234567890 ] && echo mtime is now)" "0 0 1000
mtime is now" "the setattr is on disk"
rm -f "$R/own"

# --- 9P2000.L over stdin/stdout ---
got=$(x -r "$R" <<EOF
Tversion 65536 9P2000.L
Tattach 0 -1 me '' 0
Twalk 0 1 f
Tlopen 1 0
cat 1
Tgetattr 1 0x7ff
Twalk 0 2
Tlcreate 2 lc 0101 0640 0
Twrite 2 0 lcdata
Tfsync 2 0
Tlock 2 1 0 0 0 1 me
Tgetlock 2 1 0 0 1 me
Tclunk 2
Tmkdir 0 ld 0750 0
Tsymlink 0 ls lc 0
Tmknod 0 lf 010600 0 0 0
Tlink 0 1 lh
Twalk 0 3 ls
Treadlink 3
Twalk 0 4 ld
Trenameat 0 lc 4 lc2
Twalk 4 5 lc2
Trename 5 0 lc3
Tsetattr 5 mode=0604 size=2 mtime=1000000000
Tstatfs 0
Txattrwalk 0 9 user.x
Twalk 0 6
Tlopen 6 0
ls 6
Tunlinkat 0 ld 0
Tunlinkat 0 ld 0x200
Tunlinkat 0 lh 0
EOF
)
is "$(printf '%s\n' "$got" | sed -e 's/\(Rgetattr valid 0x[0-9a-f]* qid ([a-zA-Z]*) mode [0-7]* uid 0 gid 0 nlink 1 rdev 0 size 6\).*/\1/' -e 's/\(Rstatfs\) type .*namelen 255$/\1 OK/')" \
"Rversion msize 65536 version 9P2000.L
Rattach qid (d)
Rwalk nwqid 1 0:()
Rlopen qid () iounit 65512
cat 1: 'hello\n'
Rgetattr valid 0xfff qid () mode 0100644 uid 0 gid 0 nlink 1 rdev 0 size 6
Rwalk nwqid 0
Rlcreate qid () iounit 65512
Rwrite count 6
Rfsync
Rlock status 0
Rgetlock type 2 start 0 length 0 proc_id 1 client_id me
Rclunk
Rmkdir qid (d)
Rsymlink qid (L)
Rmknod qid ()
Rlink
Rwalk nwqid 1 0:(L)
Rreadlink target lc
Rwalk nwqid 1 0:(d)
Rrenameat
Rwalk nwqid 1 0:()
Rrename
Rsetattr
Rstatfs OK
Rlerror ecode 95
Rwalk nwqid 0
Rlopen qid (d) iounit 65512
ls 6: abs absout dangle dangle2 dd dirout esc f in lc3 ld lf lh ls mnt sub
Rlerror ecode 21
Runlinkat
Runlinkat
exit 0" "9P2000.L: getattr, lcreate, write, fsync, lock, getlock, mkdir, symlink, mknod, link, readlink, renameat, rename, setattr, statfs, readdir, unlinkat; xattrs: EOPNOTSUPP"
is "$(cat "$R/lc3"; echo; stat -c '%a %s %Y' "$R/lc3"; readlink "$R/ls"; stat -c %F "$R/lf"; ls "$R" | grep -c -e '^lc$' -e '^lh$' -e '^ld$')" \
"lc
604 2 1000000000
lc
fifo
0" "the .L changes are on disk"
rm -f "$R/lc3" "$R/ls" "$R/lf"

# A rename moves every fid at and below the old name.
is "$(x -r "$R" <<EOF
Tversion 65536 9P2000.L
Tattach 0 -1 me '' 0
Twalk 0 1 dd x
Trenameat 0 dd 0 ee
Tlopen 1 0
cat 1
EOF
)" "Rversion msize 65536 version 9P2000.L
Rattach qid (d)
Rwalk nwqid 2 0:(d) 1:()
Rrenameat
Rlopen qid () iounit 65512
cat 1: 'x\n'
exit 0" "9P2000.L: a fid below a renamed directory follows the rename"
mv "$R/ee" "$R/dd"

# A fid keeps its file when its name goes: a hard link's other name, or a replaced file.
is "$(x -r "$R" <<EOF | sed 's/\(Rgetattr valid 0x[0-9a-f]* qid () mode [0-7]* uid 0 gid 0 nlink [0-9]*\).*/\1/'
Tversion 65536 9P2000.L
Tattach 0 -1 me '' 0
Tlcreate 0 l1 0101 0644 0
Twrite 0 0 linked
Tclunk 0
Tattach 0 -1 me '' 0
Twalk 0 1 l1
Tlink 0 1 l2
Tunlinkat 0 l1 0
Tgetattr 1 0x7ff
Tlopen 1 0
cat 1
Twalk 0 2 l1
Tlcreate 0 l1 0101 0644 0
Twrite 0 0 new
Tclunk 0
Tattach 0 -1 me '' 0
Twalk 0 3 l2
Tlink 0 3 l3
Trenameat 0 l1 0 l2
Tlopen 3 0
cat 3
Trename 3 0 moved
Twalk 0 4 l2
Tlopen 4 0
cat 4
EOF
)" "Rversion msize 65536 version 9P2000.L
Rattach qid (d)
Rlcreate qid () iounit 65512
Rwrite count 6
Rclunk
Rattach qid (d)
Rwalk nwqid 1 0:()
Rlink
Runlinkat
Rgetattr valid 0xfff qid () mode 0100644 uid 0 gid 0 nlink 1
Rlopen qid () iounit 65512
cat 1: linked
Rlerror ecode 2
Rlcreate qid () iounit 65512
Rwrite count 3
Rclunk
Rattach qid (d)
Rwalk nwqid 1 0:()
Rlink
Rrenameat
Rlopen qid () iounit 65512
cat 3: linked
Rlerror ecode 2
Rwalk nwqid 1 0:()
Rlopen qid () iounit 65512
cat 4: new
exit 0" "a fid whose name was unlinked, or replaced by a rename, keeps its file; it cannot be renamed by its old name"
is "$(cat "$R/l2" "$R/l3"; ls "$R" | grep -c -e '^l1$' -e '^moved$')" "newlinked0" "and the names are as the client left them"
rm -f "$R/l2" "$R/l3"
is "$(x -r "$R" <<EOF | sed 's/\(Rgetattr valid 0x[0-9a-f]* qid () mode [0-7]* uid 0 gid 0 nlink [0-9]*\).*/\1/'
Tversion 65536 9P2000.L
Tattach 0 -1 me '' 0
Tmkdir 0 ud 0755 0
Tlcreate 0 u 0101 0644 0
Tclunk 0
Tattach 0 -1 me '' 0
Twalk 0 1 u
Twalk 0 2 u
Tlopen 2 0
Twalk 0 3 ud
Tunlinkat 0 u 0
Tunlinkat 0 ud 0x200
Tgetattr 1 0x7ff
Tlcreate 0 u 0101 0644 0
Tclunk 0
Tattach 0 -1 me '' 0
Tmkdir 0 ud 0755 0
Tclunk 2
Tgetattr 1 0x7ff
Twalk 3 4 x
Tmkdir 3 x 0755 0
EOF
)" "Rversion msize 65536 version 9P2000.L
Rattach qid (d)
Rmkdir qid (d)
Rlcreate qid () iounit 65512
Rclunk
Rattach qid (d)
Rwalk nwqid 1 0:()
Rwalk nwqid 1 0:()
Rlopen qid () iounit 65512
Rwalk nwqid 1 0:(d)
Runlinkat
Runlinkat
Rgetattr valid 0xfff qid () mode 0100644 uid 0 gid 0 nlink 0
Rlcreate qid () iounit 65512
Rclunk
Rattach qid (d)
Rmkdir qid (d)
Rclunk
Rgetattr valid 0xfff qid () mode 0100644 uid 0 gid 0 nlink 0
Rlerror ecode 2
Rlerror ecode 2
exit 0" "an unlinked file open through a fid is kept for the other fids naming it; a removed directory's fids never reach its successor"
is "$(ls "$R/ud"; stat -c %s "$R/u")" "0" "the successors are untouched"
rmdir "$R/ud"; rm -f "$R/u"

# 9P2000.u: links are shown, not followed; special files by create.
is "$(x -r "$R" <<EOF | sed 's/ atime [0-9]* mtime [0-9]*//'
Tversion 8192 9P2000.u
Tattach 0 -1 me '' -1
Twalk 0 1 esc
Tstat 1
Topen 1 0
Twalk 0 2
Tcreate 2 ulink 0x020001ff 0 target
Twalk 0 3
Tcreate 3 ufifo 0x002001a4 0
EOF
)" "Rversion msize 8192 version 9P2000.u
Rattach qid (d)
Rwalk nwqid 1 0:(L)
Rstat stat type 0 dev 0 qid (L) mode 0200000777 length 8 name esc uid root gid root muid root extension ../out/s n_uid 0 n_gid 0 n_muid 0
Rerror ename 'Too many levels of symbolic links' errno 40
Rwalk nwqid 0
Rcreate qid (L) iounit 8168
Rwalk nwqid 0
Rcreate qid () iounit 8168
exit 0" "9P2000.u: stat of a link (DMSYMLINK, extension), open refuses it, create makes a link and a fifo"
is "$(readlink "$R/ulink"; stat -c %F "$R/ufifo")" "target
fifo" "the .u link and fifo are on disk"
rm -f "$R/ulink" "$R/ufifo"

# Device files are never made (through one, a server running as root would
# read a disk); a fifo opens at once, ENXIO for a writer while nobody
# reads, and a reader reads the end of file while nobody writes.
mkfifo "$R/pipe"
is "$(x -r "$R" <<EOF
Tversion 8192 9P2000.L
Tattach 0 -1 me '' 0
Tmknod 0 null 020666 1 3 0
Tmknod 0 sda 060600 8 0 0
Twalk 0 1 pipe
Tlopen 1 1
Twalk 0 2 pipe
Tlopen 2 0
Tread 2 0 100
Twalk 0 4
Tlcreate 4 pipe 1 0644 0
Twalk 0 3 pipe
Tlopen 3 1
Twrite 3 0 hi
Tread 2 0 100
EOF
)" "Rversion msize 8192 version 9P2000.L
Rattach qid (d)
Rlerror ecode 1
Rlerror ecode 1
Rwalk nwqid 1 0:()
Rlerror ecode 6
Rwalk nwqid 1 0:()
Rlopen qid () iounit 8168
Rread count 0
Rwalk nwqid 0
Rlcreate qid () iounit 8168
Rwalk nwqid 1 0:()
Rlopen qid () iounit 8168
Rwrite count 2
Rread count 2 'hi'
exit 0" "9P2000.L: mknod of a character or block device EPERM; a fifo never blocks an open (lcreate of it neither)"
is "$(x -r "$R" <<EOF
Tversion 8192 9P2000.u
Tattach 0 -1 me '' -1
Twalk 0 1
Tcreate 1 null 0x008001b6 0 'c 1 3'
Tcreate 1 sda 0x008001b6 0 'b 8 0'
Twalk 0 2 pipe
Topen 2 1
EOF
)" "Rversion msize 8192 version 9P2000.u
Rattach qid (d)
Rwalk nwqid 0
Rerror ename 'operation not permitted: exportfs makes no device files' errno 1
Rerror ename 'operation not permitted: exportfs makes no device files' errno 1
Rwalk nwqid 1 0:()
Rerror ename 'No such device or address' errno 6
exit 0" "9P2000.u: create of a device EPERM; open of a fifo for writing ENXIO at once"
is "$(ls "$R" | grep -c -e '^null$' -e '^sda$')" 0 "no device file was made"
rm -f "$R/pipe"

# A read that waits on a fifo (a writer holds it, nothing written) ends
# when flushed, and when the client hangs up: the server then exits.
mkfifo "$R/pipe2"
sleep 60 <>"$R/pipe2" &
H=$!
is "$("$P9R" -t 5 -c "$NS9" exportfs -r "$R" <<EOF 2>&1 | n
Tversion 8192 9P2000
Tattach 0 -1 me ''
Twalk 0 1 pipe2
Topen 1 0
Twalk 0 2 pipe2
Topen 2 0
rawsend 17000000 74 6400 01000000 0000000000000000 0a000000
rawsend 17000000 74 6500 02000000 0000000000000000 0a000000
raw 09000000 6c 6600 6400
EOF
)" "Rversion msize 8192 version 9P2000
Rattach qid (d)
Rwalk nwqid 1 0:()
Ropen qid () iounit 8168
Rwalk nwqid 1 0:()
Ropen qid () iounit 8168
Rerror ename interrupted
exit 0" "a read waiting on a fifo: Tflush interrupts it; at hangup another gives up and exportfs exits 0"
kill $H 2>/dev/null
rm -f "$R/pipe2"

# -V: one dialect only.
is "$(x -V 9P2000 -r "$R" <<EOF
Tversion 8192 9P2000.L
EOF
)" "Rversion msize 8192 version 9P2000
exit 0" "-V 9P2000: a 9P2000.L client is answered 9P2000"
is "$(x -V 9P2000.L -r "$R" <<EOF
Tversion 8192 9P2000
EOF
)" "Rversion msize 8192 version unknown
exit 0" "-V 9P2000.L: a 9P2000 client is answered unknown"
is "$(x -D -r "$R" <<EOF | grep -c '^exportfs [<-]'
Tversion 8192 9P2000
EOF
)" 2 "-D traces every message on stderr"

# --- confinement ---
is "$(x -r "$R" <<EOF
Tversion 8192 9P2000
Tattach 0 -1 me ''
Twalk 0 1 ..
Twalk 0 2 .. .. f
Topen 2 0
cat 2
Twalk 0 3 a/b
Twalk 0 3 ../out
Twalk 0 3 ''
Twalk 0 3 esc
Twalk 0 3 absout
Twalk 0 3 abs passwd
Twalk 0 3 dirout s
Twalk 0 3 dangle
Twalk 0 3 in g
Topen 3 0
cat 3
Twalk 0 4 in .. f
Twalk 0 5
Tcreate 5 dangle 0644 1
Tcreate 5 dangle2 0644 1
Tcreate 5 ../evil 0644 1
Twalk 0 6 f
Twstat 6 name=../f2
Twstat 6 name=x/y
Twstat 6 name=..
EOF
)" "Rversion msize 8192 version 9P2000
Rattach qid (d)
Rwalk nwqid 1 0:(d)
Rwalk nwqid 3 0:(d) 1:(d) 2:()
Ropen qid () iounit 8168
cat 2: 'hello\n'
Rerror ename 'bad character in file name'
Rerror ename 'bad character in file name'
Rerror ename 'bad file name'
Rerror ename 'file does not exist'
Rerror ename 'file does not exist'
Rerror ename 'file does not exist'
Rerror ename 'file does not exist'
Rerror ename 'file does not exist'
Rwalk nwqid 2 0:(d) 1:()
Ropen qid () iounit 8168
cat 3: 'subfile\n'
Rwalk nwqid 3 0:(d) 1:(d) 2:()
Rwalk nwqid 0
Rerror ename 'file already exists'
Rerror ename 'file already exists'
Rerror ename 'bad character in file name'
Rwalk nwqid 1 0:()
Rerror ename 'bad character in file name'
Rerror ename 'bad character in file name'
Rerror ename 'bad file name'
exit 0" "9P2000: .. stays at the root, '/' and '' are refused, links are followed only beneath the root, creating through a dangling link fails"
is "$("$P9R" -c "$NS9" exportfs -r "$R" <<EOF | grep -o '([0-9a-f]\{16\}' | sort | uniq -c | sed 's/^ *//'
Tversion 8192 9P2000.L
Tattach 0 -1 me '' 0
Twalk 0 1 ..
Twalk 0 2 .. .. ..
EOF
)" "5 (0000$(printf %012x "$(stat -c %i "$R")")" "the root's parent is the root: the same qid"

is "$(x -r "$R" <<EOF
Tversion 8192 9P2000.L
Tattach 0 -1 me '' 0
Twalk 0 1 a/b
Twalk 0 1 esc
Treadlink 1
Tlopen 1 0
Tsetattr 1 size=0
Tsetattr 1 mode=0666
Tsetattr 1 uid=4242 mtime=5
Twalk 0 2 abs passwd
Twalk 0 2 dirout s
Twalk 0 2 absout
Tlopen 2 2
Twalk 0 3
Tlcreate 3 dangle 0101 0644 0
Tlcreate 3 dangle2 0101 0644 0
Tlcreate 3 ../x 0101 0644 0
Tmkdir 0 ../x 0755 0
Tmknod 0 ../x 010644 0 0 0
Tsymlink 0 ../y t 0
Tsymlink 0 evil /etc/passwd 0
Twalk 0 4 evil
Tlopen 4 0
Tlink 0 1 hard
Tlink 0 1 ../out/h
Trenameat 0 f 0 ../f2
Trenameat 0 ../out/s 0 stolen
Tunlinkat 0 ../out/s 0
Tunlinkat 0 .. 0x200
Twalk 0 5 dirout
Tmkdir 5 x 0755 0
Tlcreate 5 x 0101 0644 0
EOF
)" "Rversion msize 8192 version 9P2000.L
Rattach qid (d)
Rlerror ecode 22
Rwalk nwqid 1 0:(L)
Rreadlink target ../out/s
Rlerror ecode 40
Rlerror ecode 40
Rlerror ecode 95
Rsetattr
Rwalk nwqid 1 0:(L)
Rwalk nwqid 1 0:(L)
Rwalk nwqid 1 0:(L)
Rlerror ecode 40
Rwalk nwqid 0
Rlerror ecode 40
Rlerror ecode 40
Rlerror ecode 22
Rlerror ecode 22
Rlerror ecode 22
Rlerror ecode 22
Rsymlink qid (L)
Rwalk nwqid 1 0:(L)
Rlerror ecode 40
Rlink
Rlerror ecode 22
Rlerror ecode 22
Rlerror ecode 22
Rlerror ecode 22
Rlerror ecode 22
Rwalk nwqid 1 0:(L)
Rlerror ecode 20
Rlerror ecode 20
exit 0" "9P2000.L: links are read, never followed (setattr changes the link itself); names with '/' or '..' are refused everywhere"
is "$(readlink "$R/hard"; readlink "$R/evil")" "../out/s
/etc/passwd" "a hard link to a link is a link; a symlink's target is only text"
rm -f "$R/hard" "$R/evil"

# A directory swapped for a link between walk and open: every operation re-resolves beneath the root.
is "$(x -r "$R" <<EOF
Tversion 8192 9P2000.L
Tattach 0 -1 me '' 0
Twalk 0 1 sub g
Twalk 0 2 sub
!mv $R/sub $R/sub.real && ln -s $O $R/sub
Tlopen 1 0
Tgetattr 1 0x7ff
Tsetattr 1 size=0
Tlcreate 2 new 0101 0644 0
Tmkdir 2 nd 0755 0
Tunlinkat 2 g 0
Trename 1 0 stolen
!rm $R/sub && ln -s ../out $R/sub
Tlopen 1 0
Tlcreate 2 new 0101 0644 0
EOF
)" "Rversion msize 8192 version 9P2000.L
Rattach qid (d)
Rwalk nwqid 2 0:(d) 1:()
Rwalk nwqid 1 0:(d)
Rlerror ecode 40
Rlerror ecode 40
Rlerror ecode 40
Rlerror ecode 20
Rlerror ecode 20
Rlerror ecode 20
Rlerror ecode 20
Rlerror ecode 40
Rlerror ecode 20
exit 0" "9P2000.L: a directory swapped for a link (absolute, then relative) between walk and use: refused (ELOOP, or ENOTDIR where a directory is wanted)"
rm "$R/sub" && mv "$R/sub.real" "$R/sub"
is "$(x -r "$R" <<EOF
Tversion 8192 9P2000
Tattach 0 -1 me ''
Twalk 0 1 sub g
Twalk 0 2 sub
!mv $R/sub $R/sub.real && ln -s $O $R/sub
Topen 1 2
Tstat 1
Twstat 1 mode=0666
Tcreate 2 new 0644 1
!rm $R/sub && ln -s ../out $R/sub
Topen 1 0
Tremove 1
EOF
)" "Rversion msize 8192 version 9P2000
Rattach qid (d)
Rwalk nwqid 2 0:(d) 1:()
Rwalk nwqid 1 0:(d)
Rerror ename 'file does not exist'
Rerror ename 'file does not exist'
Rerror ename 'file does not exist'
Rerror ename 'file does not exist'
Rerror ename 'file does not exist'
Rerror ename 'file does not exist'
exit 0" "9P2000: the same swap: the link is followed only beneath the root, so nothing is found"
rm "$R/sub" && mv "$R/sub.real" "$R/sub"
is "$(outstate)" "$OUT0" "nothing outside the root was created, changed or removed"

# --- read-only ---
T0=$(tree)
is "$(x -R -r "$R" <<EOF
Tversion 8192 9P2000
Tattach 0 -1 me ''
Twalk 0 1 f
Topen 1 0
cat 1
Tclunk 1
Twalk 0 1 f
Topen 1 1
Topen 1 0x10
Topen 1 0x40
Twstat 1 mode=0777
Tremove 1
Twalk 0 2
Tcreate 2 new 0644 1
EOF
)" "Rversion msize 8192 version 9P2000
Rattach qid (d)
Rwalk nwqid 1 0:()
Ropen qid () iounit 8168
cat 1: 'hello\n'
Rclunk
Rwalk nwqid 1 0:()
Rerror ename 'read-only file system'
Rerror ename 'read-only file system'
Rerror ename 'read-only file system'
Rerror ename 'read-only file system'
Rerror ename 'read-only file system'
Rwalk nwqid 0
Rerror ename 'read-only file system'
exit 0" "-R, 9P2000: reads work; open for writing, truncate or remove-on-close, wstat, remove, create: refused"
is "$(x -R -r "$R" <<EOF
Tversion 8192 9P2000.L
Tattach 0 -1 me '' 0
Twalk 0 1 f
Tlopen 1 1
Tlopen 1 2
Tlopen 1 01000
Tsetattr 1 mode=0777
Twalk 0 2
Tlcreate 2 new 0101 0644 0
Tmkdir 0 nd 0755 0
Tsymlink 0 sl f 0
Tmknod 0 nf 010644 0 0 0
Tlink 0 1 hl
Trename 1 0 moved
Trenameat 0 f 0 moved
Tunlinkat 0 f 0
Txattrcreate 1 user.x 1 0
Tlopen 1 0
cat 1
EOF
)" "Rversion msize 8192 version 9P2000.L
Rattach qid (d)
Rwalk nwqid 1 0:()
Rlerror ecode 30
Rlerror ecode 30
Rlerror ecode 30
Rlerror ecode 30
Rwalk nwqid 0
Rlerror ecode 30
Rlerror ecode 30
Rlerror ecode 30
Rlerror ecode 30
Rlerror ecode 30
Rlerror ecode 30
Rlerror ecode 30
Rlerror ecode 30
Rlerror ecode 30
Rlopen qid () iounit 8168
cat 1: 'hello\n'
exit 0" "-R, 9P2000.L: every change is EROFS"
is "$(tree)" "$T0" "-R: the tree is unchanged"

# --- many fids, few fds: an unopened fid holds no fd ---
is "$("$P9R" -t 60 -c sh -c 'ulimit -n 64 && exec "$0" exportfs -r "$1"' "$NS9" "$R" <<EOF 2>&1 | n
Tversion 65536 9P2000.L
Tattach 0 -1 me '' 0
walkmany 30000 0 100 sub g
Twalk 0 1 f
Tlopen 1 0
cat 1
clunkmany 30000 100
EOF
)" "Rversion msize 65536 version 9P2000.L
Rattach qid (d)
walkmany: 30000 ok
Rwalk nwqid 1 0:()
Rlopen qid () iounit 65512
cat 1: 'hello\n'
clunkmany: 30000 ok
exit 0" "30,000 walked fids with a limit of 64 fds"

# --- bad input: a clear error, nothing changed, nothing hangs ---
T0=$(tree)
is "$(x -r "$R" <<EOF
Tversion 8192 9P2000.L
Tattach 0 -1 me '' 0
raw 07000000 6e 0100
raw 1b000000 76 0200 00000000 0000000000000000 00ffffff 61626364
raw 0c000000 78 0300 00000000 ff
Tlopen 99 0
Tattach 1 -1 me ../../.. 0
Twalk 1 2 f
Tattach 3 -1 me sub 0
Twalk 3 4 g
Tattach 5 -1 me nonexistent 0
Tattach 5 -1 me f 0
Tattach 0 -1 me '' 0
Twalk 0 6 f
Tlopen 6 0
cat 6
EOF
)" "Rversion msize 8192 version 9P2000.L
Rattach qid (d)
Rlerror ecode 71
Rlerror ecode 71
Rlerror ecode 71
Rlerror ecode 9
Rattach qid (d)
Rwalk nwqid 1 0:()
Rattach qid (d)
Rwalk nwqid 1 0:()
Rlerror ecode 2
Rlerror ecode 20
Rlerror ecode 9
Rwalk nwqid 1 0:()
Rlopen qid () iounit 8168
cat 6: 'hello\n'
exit 0" "malformed messages and unknown fids: errors, and the conversation goes on; an attach name stays beneath the root"
is "$("$P9R" -c sh -c 'exec "$0" exportfs -r "$1" 2>"$2"' "$NS9" "$R" "$TD/.srverr" <<EOF | n
Tversion 8192 9P2000
raw ffffff7f 6e 0100
EOF
)" "Rversion msize 8192 version 9P2000
eof
exit 1" "a message longer than msize: the server hangs up and exits 1"
is "$(cat "$TD/.srverr")" "ns9: 9P: message size 2147483647 > msize 8192" "and says why"
is "$(x -r "$R" <<EOF | tail -n 1
Tversion 8192 9P2000
rawsend 20000000 6e 01
EOF
)" "exit 1" "end of file inside a message: the server exits 1"
is "$(tree)" "$T0" "bad input changed nothing"

# --- whose credentials: the server's, whatever the attach name ---
echo root-only >"$R/ro" && chmod 600 "$R/ro"
is "$(x -r "$R" <<EOF
Tversion 8192 9P2000
Tattach 0 -1 nobody ''
Twalk 0 1 ro
Topen 1 0
cat 1
EOF
)" "Rversion msize 8192 version 9P2000
Rattach qid (d)
Rwalk nwqid 1 0:()
Ropen qid () iounit 8168
cat 1: 'root-only\n'
exit 0" "a root server attached as nobody reads a root-only file: the uname is not a credential"
chmod 755 "$SCR/t"
is "$(asuser "$P9R" -c "$UNS9" exportfs -r "$R" <<EOF 2>&1 | n
Tversion 8192 9P2000.L
Tattach 0 -1 root '' 0
Twalk 0 1 ro
Tlopen 1 0
Twalk 0 2 f
Tlopen 2 0
cat 2
EOF
)" "Rversion msize 8192 version 9P2000.L
Rattach qid (d)
Rwalk nwqid 1 0:()
Rlerror ecode 13
Rwalk nwqid 1 0:()
Rlopen qid () iounit 8168
cat 2: 'hello\n'
exit 0" "a user's server attached as root cannot read it: permission denied"
rm -f "$R/ro"

# --- usage ---
"$NS9" exportfs -q 2>"$TD/.err"; is "$?:$(cat "$TD/.err")" "2:usage: ns9 exportfs [-DfR] [-V version] [-r root] [-s name]" "exportfs: a bad flag"
"$NS9" exportfs -V 9P2001 2>"$TD/.err"; is "$?:$(cat "$TD/.err")" \
	"2:ns9: exportfs: unknown 9P version '9P2001' (9P2000, 9P2000.u, 9P2000.L)" "exportfs: an unknown version"
"$NS9" srvfs onlyname 2>"$TD/.err"; is "$?:$(cat "$TD/.err")" "2:usage: ns9 srvfs [-DfR] name path" "srvfs: one argument"
"$NS9" exportfs -r "$SCR/nonexistent" </dev/null 2>"$TD/.err"; is "$?:$(cat "$TD/.err")" \
	"1:ns9: exportfs: file does not exist: '$SCR/nonexistent'" "exportfs: a root that does not exist"
"$NS9" exportfs -r "$R/f" </dev/null 2>"$TD/.err"; is "$?:$(cat "$TD/.err")" \
	"1:ns9: exportfs: not a directory: '$R/f'" "exportfs: a root that is a file"

# --- posted ---
"$NS9" exportfs -r "$R" -s xp
is "$?:$(stat -c '%F %a' "$SRVD/xp" 2>&1)" "0:socket 600" "exportfs -s: exits 0 once the post is live, mode 0600"
XP=$(serverpid "-r $R -s xp")
ok "the server runs in the background" kill -0 "$XP"
is "$("$P9R" "$SRVD/xp" <<EOF | n
Tversion 65536 9P2000.L
Tattach 0 -1 me '' 0
Twalk 0 1 f
Tlopen 1 0
cat 1
EOF
)" "Rversion msize 65536 version 9P2000.L
Rattach qid (d)
Rwalk nwqid 1 0:()
Rlopen qid () iounit 65512
cat 1: 'hello\n'" "a client of the post"
is "$("$P9R" "$SRVD/xp" <<EOF | n
Tversion 8192 9P2000
Tattach 0 -1 me ''
Twalk 0 1 esc
Twalk 0 1 .. f
EOF
)" "Rversion msize 8192 version 9P2000
Rattach qid (d)
Rerror ename 'file does not exist'
Rwalk nwqid 2 0:(d) 1:()" "a second client, another dialect, the same confinement"
"$NS9" exportfs -r "$R" -s xp 2>"$TD/.err"
is "$?:$(cat "$TD/.err")" "1:ns9: exportfs: post xp: file already exists" "a second server of the same name: file already exists"
kill "$XP"
ok "SIGTERM: the post is removed" gone "$SRVD/xp"
ok "SIGTERM: the server exits" gonepid "$XP"

"$NS9" exportfs -r "$R" -s xr && XR=$(serverpid "-r $R -s xr")
rm -f "$SRVD/xr"
ok "removing the post stops the server" gonepid "$XR"
"$NS9" exportfs -r "$R" -s xk && XK=$(serverpid "-r $R -s xk")
kill -9 "$XK"
ok "kill -9: the post is removed all the same" gone "$SRVD/xk"

"$NS9" srvfs -R sx "$R"
is "$?:$(stat -c '%F %a' "$SRVD/sx" 2>&1)" "0:socket 600" "srvfs: posted, mode 0600"
SX=$(serverpid "srvfs -R sx $R")
is "$("$P9R" "$SRVD/sx" <<EOF | n
Tversion 8192 9P2000.L
Tattach 0 -1 me '' 0
Twalk 0 1 f
Tlopen 1 1
Tlopen 1 0
cat 1
EOF
)" "Rversion msize 8192 version 9P2000.L
Rattach qid (d)
Rwalk nwqid 1 0:()
Rlerror ecode 30
Rlopen qid () iounit 8168
cat 1: 'hello\n'" "srvfs -R: read-only"
kill "$SX"
ok "srvfs: SIGTERM removes the post" gone "$SRVD/sx"

# srvfs serves the caller's name space: a mount only it sees, and a mount inside the tree.
"$NS9" rfork -n sh -c 'mount -t tmpfs nsonly "$1/mnt" && echo only here >"$1/mnt/o" && exec "$2" srvfs nsx "$1"' \
	sh "$R" "$NS9"
NX=$(serverpid "srvfs nsx $R")
is "$(ls "$R/mnt")" "" "the mount is not in this name space"
got=$("$P9R" "$SRVD/nsx" <<EOF
Tversion 8192 9P2000.L
Tattach 0 -1 me '' 0
Twalk 0 1 mnt o
Tlopen 1 0
cat 1
Twalk 0 2 f
EOF
)
is "$(printf '%s\n' "$got" | n | tail -n 4)" "Rwalk nwqid 2 0:(d) 1:()
Rlopen qid () iounit 8168
cat 1: 'only here\n'
Rwalk nwqid 1 0:()" "srvfs serves the name space of its caller"
is "$(printf '%s\n' "$got" | sed -n 's/^Rwalk tag [0-9]* nwqid [12] .*:(\([0-9a-f]\{4\}\).*/\1/p' | tr '\n' ' ')" \
	"$(printf '%s\n' "$got" | sed -n 's/^Rwalk tag [0-9]* nwqid 2 .*1:(\([0-9a-f]\{4\}\).*/\1/p' | grep -v 0000) 0000 " \
	"qid.path: a file on another device has its device folded into the top bits"
kill "$NX"
ok "the name space's server exits on SIGTERM" gonepid "$NX"

# A socket in the tree (a posted service) is opened by connecting to it, as
# Plan 9's exportfs opens a /srv file: the fid's writes and reads are the
# conversation.  Here the service echoes: what is written comes back.
# (Perl, in Debian's perl-base, for a socket that speaks no 9P.)
perl -MIO::Socket::UNIX -e '$s = IO::Socket::UNIX->new(Type => SOCK_STREAM(), Local => $ARGV[0], Listen => 5) or die;
	$SIG{TERM} = sub { exit 0 }; print "up\n"; close STDOUT;
	while($c = $s->accept){ while(sysread($c, $b, 4096)){ syswrite($c, $b) } }' $SRVD/catsrv >"$TD/catup" &
CATSRV=$!
PIDS="$PIDS $CATSRV"
perl -MIO::Socket::UNIX -e 'IO::Socket::UNIX->new(Type => SOCK_STREAM(), Local => $ARGV[0], Listen => 1) or die' $SRVD/st
i=0; while [ $i -lt 50 ] && ! grep -q up "$TD/catup"; do sleep 0.1; i=$((i + 1)); done
ok "a socket nobody listens on (a stale post)" test -S $SRVD/st
got=$(x -r $SRVD <<EOF
Tversion 8192 9P2000.L
Tattach 0 -1 root ''
Twalk 0 1 catsrv
Tgetattr 1 0x7ff
Tlopen 1 2
Twrite 1 0 'through the service'
Tread 1 0 100
Twalk 0 2 st
Tlopen 2 2
Tclunk 1
EOF
)
is "$(printf '%s\n' "$got" | sed -e 's/ uid .*//' -e 's/ iounit.*//')" "Rversion msize 8192 version 9P2000.L
Rattach qid (d)
Rwalk nwqid 1 0:()
Rgetattr valid 0xfff qid () mode 0140755
Rlopen qid ()
Rwrite count 19
Rread count 19 'through the service'
Rwalk nwqid 1 0:()
Rlerror ecode 111
Rclunk
exit 0" ".L: a socket is a socket in getattr; Tlopen connects to it, and writes and reads go to the service; a stale one: ECONNREFUSED"
is "$(x -R -r $SRVD <<EOF
Tversion 8192 9P2000.L
Tattach 0 -1 root ''
Twalk 0 1 catsrv
Tlopen 1 2
Tlopen 1 0
EOF
)" "Rversion msize 8192 version 9P2000.L
Rattach qid (d)
Rwalk nwqid 1 0:()
Rlerror ecode 30
Rlerror ecode 30
exit 0" "read-only export: its services are not dialled, not even opened for reading"
is "$(x -r $SRVD <<EOF | sed 's/ iounit.*//'
Tversion 8192 9P2000
Tattach 0 -1 root ''
Twalk 0 1 catsrv
Topen 1 2
Twrite 1 0 'in 9P2000 too'
Tread 1 0 100
EOF
)" "Rversion msize 8192 version 9P2000
Rattach qid (d)
Rwalk nwqid 1 0:()
Ropen qid ()
Rwrite count 13
Rread count 13 'in 9P2000 too'
exit 0" "9P2000: Topen of a socket connects too"
kill $CATSRV

# A user's server, in the user's srv directory.
mkdir -p "$UHOME/ux" && echo mine >"$UHOME/ux/m" && chown -R "$TUID:$TUID" "$UHOME/ux"
asuser "$UNS9" exportfs -r "$UHOME/ux" -s ux
is "$?:$(stat -c '%F %a %u' "$UHOME/run/ns9/srv/ux" 2>&1)" "0:socket 600 $TUID" "a user's post"
UX=$(serverpid "-r $UHOME/ux -s ux")
is "$(asuser "$P9R" "$UHOME/run/ns9/srv/ux" <<EOF | n | tail -n 1
Tversion 8192 9P2000
Tattach 0 -1 me ''
Twalk 0 1 m
Topen 1 0
cat 1
EOF
)" "cat 1: 'mine\n'" "the user reads through it"
kill "$UX"
ok "the user's server exits on SIGTERM" gonepid "$UX"

done_testing
