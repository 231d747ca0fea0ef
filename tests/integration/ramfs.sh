# ramfs.sh: ns9 ramfs, the in-memory 9P file server, driven by p9call (a
# small 9P2000 client with a codec of its own): over stdin/stdout, and
# posted in the srv directory (as root and as a user); files, directories,
# wstat, limits, bad messages, the post's life.
. "$(dirname "$0")/../lib.sh"
setup
P9=$SCR/bin/p9call
cp "$HD/p9call" "$P9" || { echo "1..0 # SKIP no p9call helper"; exit 0; }
SRVD=/run/ns9/srv
trap 'killall_waited; [ -n "$PIDS" ] && kill $PIDS 2>/dev/null
	cd /; umount -l "$SCR" 2>/dev/null; rmdir "$SCR" 2>/dev/null' EXIT
PIDS=

# r OP...: a fresh ramfs on p9call's stdin/stdout, version and attach done.
r() { "$P9" -e "$NS9 ramfs" version attach "$@" 2>&1; }
# gone PATH: until PATH is gone, at most 5 s.
gone() {
	i=0
	while [ $i -lt 50 ] && [ -e "$1" ]; do sleep 0.1; i=$((i + 1)); done
	! [ -e "$1" ]
}
# gonepid PID: until PID has exited, at most 5 s.
gonepid() {
	i=0
	while [ $i -lt 50 ] && kill -0 "$1" 2>/dev/null; do sleep 0.1; i=$((i + 1)); done
	! kill -0 "$1" 2>/dev/null
}
# waitsock PATH: until PATH is a socket, at most 5 s.
waitsock() {
	i=0
	while [ $i -lt 50 ] && ! [ -S "$1" ]; do sleep 0.1; i=$((i + 1)); done
	[ -S "$1" ]
}

me=$(id -un)

# --- over stdin and stdout ---
is "$(r)" "version 9P2000 msize 8192" "version and attach; ramfs exits 0 at end of file"
is "$("$P9" -V 9P2000.L -e "$NS9 ramfs" version 2>&1)" "version 9P2000.L msize 8192" "9P2000.L is served"
is "$("$P9" -V 9P2000.x -e "$NS9 ramfs" version 2>&1)" "version 9P2000 msize 8192" "9P2000.x asked: 9P2000 answered"
is "$("$P9" -V 9P2000.u -e "$NS9 ramfs" version 2>&1)" "version 9P2000.u msize 8192" "9P2000.u is served"
is "$("$P9" -V 9P2001 -e "$NS9 ramfs" version 2>&1)" "version unknown msize 8192" "an unknown version: unknown"
is "$("$P9" -m 3000000 -e "$NS9 ramfs" version 2>&1)" "version 9P2000 msize 1048600" "msize: at most 1 MiB of data"

is "$(r mkdir d create d/f write d/f hello read d/f)" "$(printf 'version 9P2000 msize 8192\nhello')" \
	"mkdir, create, write, read"
is "$(r create f stat f write f abc stat f writeat f 3 de stat f | tail -n 3)" \
	"$(printf 'f 644 0 glenda %s glenda 0\nf 644 3 glenda %s glenda 1\nf 644 5 glenda %s glenda 2' "$me" "$me" "$me")" \
	"stat: owner is the attach name, group the directory's, qid.vers counts writes"
is "$(r stat / | tail -n 1)" "/ d777 0 $me $me $me 0" "the root: mode 777, owned by the server's user"
is "$(r mkdir d create d/a create d/b mkdir d/c ls d | tail -n 3)" "$(printf 'a\nb\nc')" "ls lists in creation order"
is "$(r create f writeat f 5 x read f | tail -c 6 | od -An -c | tr -s ' ')" " \0 \0 \0 \0 \0 x" \
	"a write past the end leaves zeros"
is "$(r create f write f 'one two' mv f g try stat f stat g ls / | tail -n 3)" \
	"$(printf "error: 'f': file does not exist\ng 644 7 glenda %s glenda 1\ng" "$me")" \
	"wstat renames"
is "$(r create f chmod f 600 stat f mkdir d create d/x 777 stat d/x chmod d d700 stat d | tail -n 3)" \
	"$(printf 'f 600 0 glenda %s glenda 0\nx 755 0 glenda %s glenda 0\nd d700 0 glenda %s glenda 1' "$me" "$me" "$me")" \
	"chmod; create perm is limited by the directory's (777 in a 755 directory: 755)"
is "$(r create f write f 0123456789 truncate f 4 read f truncate f 6 stat f read f | tail -n 2 | od -An -c | tr -s ' ')" \
	"$(printf '0123f 644 6 glenda %s glenda 3\n0123\0\0' "$me" | od -An -c | tr -s ' ')" \
	"truncate shrinks, and grows with zeros"
is "$(r create f mtime f 1000000000 times f | tail -n 1 | sed 's/atime [0-9]* //')" "mtime 1000000000" "wstat sets mtime"
is "$(r create f openrm f try stat f | tail -n 1)" "error: 'f': file does not exist" "ORCLOSE removes at clunk"

# errors change nothing
is "$(r create f try create f try read nosuch try mkdir f/x try stat f/x try write / x mkdir d create d/f \
	try rm d try rm / try create .. try create . ls / | tail -n 11)" \
	"$(printf "error: 'f': file already exists\nerror: 'nosuch': file does not exist\nerror: create in non-directory\nerror: file does not exist (walked 1 of 2)\nerror: open for writing: is a directory\nerror: directory not empty\nerror: remove of the root: permission denied\nerror: bad file name '..'\nerror: bad file name '.'\nf\nd")" \
	"errors: exists, missing, create or walk in a file, write a directory, rm non-empty, rm root, bad names"
long=$(printf '%0300d' 0)
is "$(r try create "$long" | tail -n 1)" "error: file name too long" "a name of 300 bytes: too long"

# directory reads: whole entries, offsets 0 or where the last read ended
# a stat record: 49 bytes and the strings (name, uid, gid, muid)
rec=$((49 + 4 + 6 + ${#me} + 6))
is "$(r mkdir d create d/aaaa create d/bbbb dirread d $((rec + 10)) 0 try dirread d 10 0 dirread d 1000 0 | tail -n 3)" \
	"$(printf 'count %d: aaaa\nerror: directory read: count 10 too small for an entry\ncount %d: aaaa bbbb' $rec $((2 * rec)))" \
	"a directory read gives whole entries"
is "$(r mkdir d create d/aaaa try dirread d 100 5 | tail -n 1)" "error: bad offset in directory read" \
	"a directory read at another offset: error"

# big files and limits
yes abcdefghijklmnopqrstuvwxyz | tr -d '\n' | head -c 3000000 >"$SCR/big.want"
"$P9" -m 65536 -e "$NS9 ramfs" version attach create big fill big 3000000 stat big read big >"$SCR/big.got" 2>&1
is "$(sed -n 2p "$SCR/big.got")" "big 644 3000000 glenda $me glenda $(( (3000000 + 65511) / 65512 ))" \
	"3 MB in 64 KiB writes: length and version"
tail -n +3 "$SCR/big.got" >"$SCR/big.data"
ok "3 MB read back intact" cmp "$SCR/big.want" "$SCR/big.data"
is "$(r create f try writeat f 1073741824 x try truncate f 2000000000 try writeat f 1073741823 xy stat f | tail -n 4)" \
	"$(printf 'error: file too large: ramfs files hold 1 GiB at most\nerror: file too large: ramfs files hold 1 GiB at most\nerror: file too large: ramfs files hold 1 GiB at most\nf 644 0 glenda %s glenda 0' "$me")" \
	"past 1 GiB: file too large, and nothing changes"

# Files cost room beside their data: empty ones too fill the limit (statfs shows it).
if cp "$HD/p9raw" "$SCR/bin/p9raw" 2>/dev/null; then
	{ echo "Tversion 8192 9P2000.L"; echo "Tattach 0 -1 me '' 0"; echo "Tstatfs 0"
	  i=0; while [ $i -lt 100 ]; do echo "Tmkdir 0 d$i 0755 0"; i=$((i + 1)); done; echo "Tstatfs 0"; } |
		"$SCR/bin/p9raw" -c "$NS9" ramfs 2>&1 | sed -n 's/^Rstatfs .* bfree \([0-9]*\) .*/\1/p' >"$SCR/bfree"
	b0=$(sed -n 1p "$SCR/bfree") b1=$(sed -n 2p "$SCR/bfree")
	[ -n "$b0" ] && [ -n "$b1" ] && [ $((b0 - b1)) -ge 25 ] && r=yes || r="no ($b0 -> $b1)"
	is "$r" yes "100 empty directories take room (at least 25 blocks of 4 KiB)"
else
	skip "no p9raw helper"
fi

# 9P2000.L: the messages Linux clients use
rl() { "$P9" -V 9P2000.L -e "$NS9 ramfs" version attach "$@" 2>&1; }
is "$(rl mkdir d create d/f write d/f hello read d/f stat d/f ls d)" \
	"$(printf 'version 9P2000.L msize 8192\nhellomode 100644 size 5 uid %d gid %d nlink 1 vers 1\nf' "$(id -u)" "$(id -g)")" \
	".L: mkdir, lcreate, lopen, write, read, getattr, readdir"
is "$(rl mkdir d mkdir e create d/f write d/f moved mv d/f e/g ls d ls e read e/g | tail -n 2)" "$(printf 'g\nmoved')" \
	".L: renameat moves a file into another directory"
is "$(rl create a write a one create b write b two mv a b ls / read b | tail -n 2)" "$(printf 'b\none')" \
	".L: renameat replaces an existing file"
is "$(rl mkdir d mkdir d/s try mv d d/s/x try mv d/s d/s ls d | tail -n 2)" "$(printf 'error: EINVAL\ns')" \
	".L: a directory cannot move into itself; a rename onto itself changes nothing"
is "$(rl create f write f 0123456789 truncate f 3 chmod f 600 stat f read f | tail -n 1)" \
	"$(printf 'mode 100600 size 3 uid %d gid %d nlink 1 vers 2\n012' "$(id -u)" "$(id -g)" | tail -n 1)" \
	".L: setattr truncates and changes the mode"
is "$(rl mkdir d create d/f try rmdir d/f try rm d try rmdir d rm d/f rmdir d ls / try stat d | tail -n 4)" \
	"$(printf 'error: ENOTDIR\nerror: EISDIR\nerror: ENOTEMPTY\nerror: ENOENT')" \
	".L: unlinkat checks the kind and emptiness"
is "$(rl mkdir d create d/a create d/b create d/c rm d/b create d/d ls d | tail -n 3)" "$(printf 'a\nc\nd')" \
	".L: readdir after a remove and a create"

# directories that take several reads: 9P2000 offsets and .L cookies
ops=$(i=0; while [ $i -lt 100 ]; do printf 'create d/f%03d ' $i; i=$((i + 1)); done)
want=$(i=0; while [ $i -lt 100 ]; do printf 'f%03d\n' $i; i=$((i + 1)); done)
is "$("$P9" -m 1024 -e "$NS9 ramfs" version attach mkdir d $ops ls d 2>&1 | tail -n +2)" "$want" \
	"9P2000: 100 entries read 1 KiB at a time, each once, in order"
is "$("$P9" -m 1024 -V 9P2000.L -e "$NS9 ramfs" version attach mkdir d $ops ls d 2>&1 | tail -n +2)" "$want" \
	".L: 100 entries read 1 KiB at a time, each once, in order"

# the -D trace
"$P9" -e "$NS9 ramfs -D 2>$SCR/trace" version attach stat / >/dev/null 2>&1
# version, attach, walk, stat, clunk: 5 in, 5 out
is "$(grep -c '^ramfs [<-][>-] T\|^ramfs [<-][>-] R' "$SCR/trace")" 10 "-D: one line per message in and out"
ok "-D: the Tattach is traced" grep -q "^ramfs <- Tattach tag [0-9]* fid 0 afid -1 uname glenda aname ''" "$SCR/trace"

# bad messages: an undecodable one is answered, one that cannot be framed ends it
# Twalk tag 9 fid 0 newfid 1 nwname 2 with one name
badwalk=140000006e0900000000000100000002000100""61
is "$(r raw $badwalk stat / | tail -n 2 | sed 's/: 9P: .*/: 9P: .../')" \
	"$(printf 'Rerror tag 9: 9P: ...\n/ d777 0 %s %s %s 0' "$me" "$me" "$me")" \
	"an undecodable Twalk gets Rerror with its tag, then the conversation goes on"
is "$(r raw $badwalk try stat 1 | tail -n 1)" "error: '1': file does not exist" "  and made no fid"
is "$(r raw ffffff7f7501000000)" "$(printf 'version 9P2000 msize 8192\nns9: 9P: message size 2147483647 > msize 8192\nhangup\np9call: the server exited with status 1')" \
	"size > msize: ramfs hangs up, exit 1"
is "$(r raw 06000000)" "$(printf 'version 9P2000 msize 8192\nns9: 9P: message size 6 < 7\nhangup\np9call: the server exited with status 1')" \
	"size < 7: ramfs hangs up, exit 1"
is "$("$P9" -e "$NS9 ramfs" raw 0b0000007c010000000000 2>&1)" "Rerror tag 1: 9P: Tstat before Tversion" \
	"a message before Tversion: Rerror"
is "$(r raw 0b0000007c0100ff000000 | tail -n 1)" "Rerror tag 1: unknown fid 255" "an unknown fid: Rerror"
is "$(r raw 0b0000007cffff00000000 | tail -n 1)" "Rerror tag 65535: 9P: NOTAG on Tstat" "NOTAG on a Tstat: Rerror"
is "$(r raw 07000000790100 | tail -n 1)" "Rerror tag 1: 9P: unexpected Rclunk" "an R-message: Rerror"
is "$(r raw 0b00000000010000000000 | tail -n 1 | sed 's/: .*//')" "Rerror tag 1" "type 0: Rerror"
# a fid walked 1000 times, then the connection ends: ramfs exits 0 (leaks show under make asan)
is "$(r walkfids 1000 stat / | tail -n 1)" "/ d777 0 $me $me $me 0" "1000 fids at the hangup"

# --- posted: root ---
"$NS9" ramfs -s ram
is "$?" 0 "ramfs -s ram: the parent exits 0"
ok "the post exists as soon as the parent has exited" test -S "$SRVD/ram"
rp=$(waitfor "$SCR/bin/ns9 ramfs -s ram|ns9 ramfs -s ram")
[ -n "$rp" ] || rp=$(pgrep -n -f "ramfs -s ram")
ok "and ramfs runs in the background" kill -0 "$rp"
is "$("$P9" "$SRVD/ram" version attach mkdir d create d/f write d/f shared 2>&1)" "version 9P2000 msize 8192" \
	"a client makes d/f"
is "$("$P9" "$SRVD/ram" version attach read d/f 2>&1)" "$(printf 'version 9P2000 msize 8192\nshared')" \
	"a second connection sees it: one tree for all"
is "$("$P9" -u other "$SRVD/ram" version attach try create d/x try write d/f no read d/f 2>&1 | tail -n 3)" \
	"$(printf "error: create 'x': permission denied\nerror: open: permission denied\nshared")" \
	"another user name may read but not write glenda's 755 directory and 644 file"
"$NS9" ramfs -s ram 2>"$SCR/err"
is "$?" 1 "a second ramfs -s ram fails"
ok "  saying file already exists" grep -q "file already exists" "$SCR/err"
is "$("$P9" "$SRVD/ram" version attach read d/f 2>&1 | tail -n 1)" "shared" "the first still serves"
# a conversation that goes wrong does not stop the server
"$P9" "$SRVD/ram" raw ffffff7f7501000000 >/dev/null 2>&1
is "$("$P9" "$SRVD/ram" version attach read d/f 2>&1 | tail -n 1)" "shared" "a hung-up connection does not stop the server"
kill "$rp"
ok "SIGTERM ends ramfs" gonepid "$rp"
ok "and the post goes away" gone "$SRVD/ram"

# -f stays in the foreground; SIGINT ends it
"$NS9" ramfs -f -s fg &
fp=$!
PIDS="$fp"
ok "ramfs -f -s fg posts" waitsock "$SRVD/fg"
ok "  and is the process started" kill -0 "$fp"
kill -INT "$fp"
ok "SIGINT ends it" gonepid "$fp"
ok "  and the post goes away" gone "$SRVD/fg"
PIDS=

# rm of the post stops the server (the watcher's SIGTERM)
"$NS9" ramfs -s rmme
rp=$(pgrep -n -f "ramfs -s rmme")
rm -f "$SRVD/rmme"
ok "removing the post stops ramfs" gonepid "$rp"

# bad names
"$NS9" ramfs -s 'a/b' 2>"$SCR/err"
is "$?" 1 "ramfs -s a/b: exit 1"
ok "  bad name" grep -q "bad name" "$SCR/err"
"$NS9" ramfs -x >/dev/null 2>&1
is "$?" 2 "an unknown flag: usage, exit 2"

# only the server's uid or root is served: a post others can reach
mkdir -m 755 "$SCR/pub"
NS9SRV=$SCR/pub "$NS9" ramfs -s pub
chmod 666 "$SCR/pub/pub"
is "$(asuser "$P9" "$SCR/pub/pub" version 2>&1)" "p9call: version: hangup" "another uid is hung up on (SO_PEERCRED)"
is "$("$P9" "$SCR/pub/pub" version 2>&1)" "version 9P2000 msize 8192" "root still served"
pkill -f "ramfs -s pub"

# --- posted: a user ---
asuser "$UNS9" ramfs -s uram
is "$?" 0 "a user's ramfs -s uram"
ok "posted in the user's srv directory" test -S "$UHOME/run/ns9/srv/uram"
is "$(asuser "$P9" "$UHOME/run/ns9/srv/uram" version attach create f write f mine read f 2>&1)" \
	"$(printf 'version 9P2000 msize 8192\nmine')" "the user uses it"
is "$("$P9" "$UHOME/run/ns9/srv/uram" version attach read f 2>&1)" "$(printf 'version 9P2000 msize 8192\nmine')" \
	"root may use it too"
up=$(pgrep -n -f "ramfs -s uram")
kill "$up"
ok "the user's ramfs ends on SIGTERM" gonepid "$up"
ok "  and its post goes away" gone "$UHOME/run/ns9/srv/uram"

done_testing
