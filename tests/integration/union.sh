# union.sh: union directories (bind/mount -a, -b, -c; unmount of one
# member) against Plan 9's rules (plan9.md §1.5, §2.3-2.12) and the
# contract of issue 5: lookup order, create, remove, rename, chmod,
# readdir, changes made outside, members that go away, live membership,
# unmount, ns text and its replay, unions of unions and copies, a union
# over its own mount point, a 9P member, ctl and the ns file, bad input,
# kill -9 of the server.
#
# The checks are one function, body, run here as root in the test's own
# name space, and by unionuser.sh as an unprivileged uid inside a name
# space it made with ns9 rfork -n (sh union.sh body DIR T_N); the ctl
# part (ctlpart) the user runs from outside its name spaces, as ctl.sh
# does (sh union.sh ctl DIR T_N CTLFS).  Every operation on a union runs
# under timeout, so a hang is a failure, not a stuck test.
if [ "$1" = body ] || [ "$1" = ctl ]; then
	. "$(dirname "$0")/lib.sh"
	SCR=$(cd "$(dirname "$0")/.." && pwd)
else
	. "$(dirname "$0")/../lib.sh"
fi

# --- helpers (all bounded) ---
N() { timeout 30 "$NS9" "$@"; }
P() { timeout 10 "$PROBE" "$@" 2>&1; }
rd() { timeout 10 cat "$1" 2>&1; }
# ex PATH: "yes" if PATH exists (a lookup through the union), else "no"
ex() { if timeout 10 test -e "$1"; then echo yes; else echo no; fi; }
# lsa DIR: sorted names on one line; lsu DIR: the same in readdir order
lsa() { timeout 10 ls -A "$1" 2>&1 | paste -sd' '; }
lsu() { timeout 10 ls -A -U "$1" 2>&1 | paste -sd' '; }
# want DIR...: what a union of the DIRs lists, members in order, each name once
want() { for d in "$@"; do ls -A -U "$d"; done | awk '!seen[$0]++' | paste -sd' '; }
# top DIR: "fstype source" of the top mount at DIR (empty if none)
top() {
	awk -v d="$1" '$5 == d { for (i = 7; $i != "-"; i++) ; s = $(i+1) " " $(i+2) } END { print s }' \
		/proc/self/mountinfo
}
# upid DIR: the server's pid in the source ns9union!PID!COOKIE of the union at DIR
upid() { top "$1" | awk '$1 == "fuse.ns9union" { split($2, f, "!"); print f[2] }'; }
# mid DIR: the mount id of the top mount at DIR
mid() { awk -v d="$1" '$5 == d { m = $1 } END { print m }' /proc/self/mountinfo; }
# nunion DIR: how many union mounts sit exactly at DIR
nunion() { awk -v d="$1" '$5 == d && / - fuse\.ns9union /' /proc/self/mountinfo | wc -l | tr -d ' '; }
# gonepid PID: until PID has exited, at most 10 s
# (a zombie has exited: this shell may be its parent or, as pid 1, its reaper)
alive() { [ -e /proc/"$1" ] && [ "$(sed 's/.*) //' /proc/"$1"/stat 2>/dev/null | cut -c1)" != Z ]; }
gonepid() {
	[ -n "$1" ] || { echo "no pid"; return; }
	i=0
	while [ $i -lt 100 ] && alive "$1"; do sleep 0.1; i=$((i + 1)); done
	if alive "$1"; then echo running; else echo exited; fi
}
# nsl DIR: the lines of ns9 ns whose mount point is DIR
nsl() { N ns | awk -v d="$1" '($1 == "bind" || $1 == "mount") && ($(NF) == d || $(NF-1) == d && $1 == "mount")'; }
# isserver PID: "ns9 unionfs" if PID's command line is that
isserver() { [ -n "$1" ] && tr '\0' ' ' </proc/"$1"/cmdline 2>/dev/null | awk '{ n = $1; sub(".*/", "", n); print n, $2 }'; }
# badcmd DESC WANT CMD...: expect_fail, and the listing of $BAD unchanged
badcmd() {
	l0=$(lsu "$BAD")
	expect_fail "$@"
	is "$(lsu "$BAD")" "$l0" "$1: listing unchanged"
}

# init DIR: the variables every part uses; cd DIR.
init() {
	R=$1
	mkdir -p "$R" && cd "$R" || { T_FAIL=$((T_FAIL + 1)); return 1; }
	TD=$R/.td
	mkdir -p "$TD"
	PROBE=$SCR/bin/unionprobe
	CW=$SCR/bin/ctlwrite
	me=$(id -u)
	who=$([ "$me" -eq 0 ] && echo root || echo user)
}

# ctlpart DIR CTLFS: bind -a and unmount of a member in a running
# process's name space, by ns9 ctl and by writes to its ns file (served by
# ns9fs at CTLFS, or one started here when CTLFS is empty).
ctlpart() {
	init "$1"
	mkdir ct cta ctb ctc ctfs && echo a >cta/fa && echo b >ctb/fb && echo c >ctc/fc
	(cd "$R" && exec "$NS9" rfork -n sleep 1013) &
	T=$(waitfor "sleep 1013")
	ok "$who: ctl PID bind -a" N ctl "$T" bind -a "$R/cta" "$R/ct"
	is "$(N cross "$T" ls -A "$R/ct" 2>&1 | paste -sd' ')" "fa" "$who: the target has the union"
	is "$(ex ct/fa)" "no" "$who: the writer's name space does not"
	ok "$who: ctl PID 'bind -b' with relative names (the target's cwd)" N ctl "$T" "bind -b ctb ct"
	F=$2
	if [ -z "$F" ]; then
		F=$R/ctfs
		N fs "$F"
	fi
	i=0; while [ $i -lt 50 ] && ! [ -e "$F/$T/ns" ]; do sleep 0.1; i=$((i + 1)); done
	is "$(timeout 10 "$CW" "$F/$T/ns" "bind -a $R/ctc $R/ct" | head -1)" "ok" "$who: bind -a written to PID/ns"
	is "$(N cross "$T" ls -A -U "$R/ct" 2>&1 | paste -sd' ')" "$(want ctb ct cta ctc)" \
		"$who: the target's union has the three members in order"
	is "$(N ns "$T" | awk -v d="$R/ct" '$1 == "bind" && $NF == d')" "bind -b $R/ctb $R/ct
bind -a $R/cta $R/ct
bind -a $R/ctc $R/ct" "$who: ns PID shows them"
	is "$(timeout 10 "$CW" "$F/$T/ns" "unmount $R/cta $R/ct" | head -1)" "ok" "$who: unmount of a member written to PID/ns"
	is "$(N cross "$T" ls -A "$R/ct" 2>&1 | paste -sd' ')" "fb fc" "$who: it is gone there"
	is "$(timeout 10 "$CW" "$F/$T/ns" "unmount $R/cta $R/ct")" "EINVAL
unmount $R/cta $R/ct: not in union" "$who: a non-member through the ns file: EINVAL and the text"
	ok "$who: ctl PID unmount OLD" N ctl "$T" unmount "$R/ct"
	is "$(N cross "$T" ls -A "$R/ct" 2>&1 | paste -sd' ')" "" "$who: the target's directory is its own again"
	kill "$T" 2>/dev/null
	[ -z "$2" ] && { N unmount "$F" 2>/dev/null || umount -l "$F" 2>/dev/null; }
}

body() {
	init "$1"

	# ---- 1. lookup order (plan9.md §2.4, §2.6) ----
	mkdir o oraw a b b2 c0 c
	echo O >o/same; echo o-only >o/onlyo
	echo AA >a/same; echo a-only >a/onlya; echo A1 >a/onlya2
	echo BBB >b/same; echo b-only >b/onlyb
	echo B2-longer >b2/same
	mkdir a/d b/d a/d2; echo x >a/d/x; echo y >b/d/y; echo z >a/d2/z
	echo mixfile >b/mix; mkdir a/mix; echo in >a/mix/in
	N bind "$R/o" "$R/oraw"	# the original o, to see it under the union

	ok "$who: bind -a onto a plain directory" N bind -a "$R/a" "$R/o"
	p=$(upid "$R/o")
	case "$(top "$R/o")" in
	"fuse.ns9union ns9union!$p!"?*) r=yes ;;
	*) r="no: $(top "$R/o")" ;;
	esac
	is "$r" yes "$who: mountinfo: fstype fuse.ns9union, source ns9union!PID!COOKIE"
	is "$(isserver "$p")" "ns9 unionfs" "$who: PID in the source is the ns9 unionfs server"
	m0=$(mid "$R/o")
	is "$(rd o/same)" "O" "$who: -a: OLD itself is first: its own file wins"
	is "$(rd o/onlya)" "a-only" "$who: a name only in the new member is found"
	is "$(lsu o)" "$(want oraw a)" "$who: readdir: OLD's names, then a's, each once"
	ok "$who: bind -b" N bind -b "$R/b" "$R/o"
	is "$(rd o/same)" "BBB" "$who: -b: the new member is first"
	is "$(lsu o)" "$(want b oraw a)" "$who: readdir: b, o, a"
	ok "$who: a second bind -b" N bind -b "$R/b2" "$R/o"
	is "$(rd o/same)" "B2-longer" "$who: the newest -b member is first"
	is "$(stat -c %s o/same)" "10" "$who: stat gives the first member's file"
	is "$(lsu o)" "$(want b2 b oraw a)" "$who: readdir: b2, b, o, a"
	is "$(mid "$R/o"):$(upid "$R/o")" "$m0:$p" "$who: members added live: the same mount, the same server"
	is "$(lsa o/d)" "y" "$who: not recursive: o/d is b's d only"
	is "$(ex o/d/x)" "no" "$who: not recursive: o/d/x (only in a's d) is not found"
	is "$(rd o/d2/z)" "z" "$who: a directory only in a later member is that member's"
	is "$(rd o/mix)" "mixfile" "$who: a file in an earlier member hides a later member's directory"
	is "$(ex o/mix/in)" "no" "$who: ... and nothing below that directory shows"

	# ---- create (plan9.md §2.7) ----
	for op in "create o/new" "mkdir o/new" "mkfifo o/new" "symlink x o/new" "link o/onlya o/new"; do
		is "$(P $op)" "EPERM" "$who: no -c member: ${op%% *} in the union fails with EPERM"
	done
	is "$(ls -A b2 b oraw a | grep -c '^new$')" "0" "$who: ... and nothing was made in any member"
	is "$(P create o/onlya)" "ok" "$who: create of an existing name opens it (a later member's)"
	is "$(P excl o/onlya)" "EEXIST" "$who: O_EXCL create of a name in a later member: EEXIST"
	is "$(P mkdir o/onlyb)" "EEXIST" "$who: mkdir of an existing name: EEXIST"
	is "$(P symlink x o/same)" "EEXIST" "$who: symlink onto an existing name: EEXIST"
	is "$(P put o/onlya2 A2)" "ok" "$who: O_TRUNC open of an existing name"
	is "$(cat a/onlya2)" "A2" "$who: ... wrote the file in the member that has it"
	is "$(P create o/d/new)" "ok" "$who: create below OLD is an ordinary create"
	is "$(ls -A b/d a/d | grep -c '^new$'):$(ex b/d/new)" "1:yes" "$who: ... in the found member's directory (b's d)"
	is "$(P mkdir o/d2/sub)" "ok" "$who: mkdir below OLD"
	is "$(ex a/d2/sub)" "yes" "$who: ... in a's d2"

	ok "$who: bind -a -c" N bind -a -c "$R/c" "$R/o"
	is "$(P create o/cnew)" "ok" "$who: create goes to the -c member"
	is "$(ex c/cnew):$(ls -A b2 b oraw a | grep -c '^cnew$')" "yes:0" "$who: ... only there"
	is "$(P mkdir o/cdir)" "ok" "$who: mkdir in the union"
	is "$(test -d c/cdir && echo dir)" "dir" "$who: ... made in the -c member"
	is "$(P symlink tgt o/csl):$(readlink c/csl)" "ok:tgt" "$who: symlink made in the -c member"
	is "$(P mkfifo o/cfifo):$(test -p c/cfifo && echo fifo)" "ok:fifo" "$who: mknod (fifo) made in the -c member"
	is "$(P link o/cnew o/clink):$(stat -c %h c/cnew)" "ok:2" "$who: link made in the -c member"
	is "$(P create o/same):$(ex c/same)" "ok:no" "$who: an existing name still opens the existing file, not a new one in -c"
	ok "$who: bind -b -c (a second -c member, first in order)" N bind -b -c "$R/c0" "$R/o"
	is "$(P create o/c0new)" "ok" "$who: create with two -c members"
	is "$(ex c0/c0new):$(ex c/c0new)" "yes:no" "$who: ... goes to the first -c member in order"

	# No fallback: the first -c member refuses, the later one is not tried.
	mkdir u3 w3 ro3
	is "$(P rdonly "$R/ro3" "$R/ro3")" "ok" "$who: a read-only directory for a member"
	N bind -a -c "$R/w3" "$R/u3"
	is "$(P create u3/x):$(ex w3/x)" "ok:yes" "$who: create in [u3, w3(-c)] goes to w3"
	ok "$who: bind -b -c of a read-only member" N bind -b -c "$R/ro3" "$R/u3"
	is "$(P create u3/y)" "EROFS" "$who: the first -c member is read-only: EROFS"
	is "$(P mkdir u3/yd)" "EROFS" "$who: mkdir too"
	is "$(ex w3/y):$(ex w3/yd)" "no:no" "$who: no fallback to the later -c member"
	if [ "$me" -ne 0 ]; then
		mkdir u4 w4 ro4 && chmod 555 ro4
		N bind -a -c "$R/w4" "$R/u4" && N bind -b -c "$R/ro4" "$R/u4"
		is "$(P create u4/y)" "EACCES" "$who: the first -c member is not writable by the user: EACCES"
		is "$(ex w4/y)" "no" "$who: no fallback to the later -c member"
	fi

	# ---- remove, rename, chmod (plan9.md §2.9) ----
	# o is [c0(-c), b2, b, o, a, c(-c)]; same is in b2, b, o and a.
	is "$(P unlink o/same):$(ex b2/same):$(rd o/same)" "ok:no:BBB" "$who: remove takes the first member's; b's shows"
	is "$(P unlink o/same):$(rd o/same)" "ok:O" "$who: remove again: OLD's own shows"
	is "$(P unlink o/same):$(ex oraw/same):$(rd o/same)" "ok:no:AA" "$who: remove again (OLD's own): a's shows"
	is "$(P unlink o/same):$(ex o/same):$(P unlink o/same)" "ok:no:ENOENT" "$who: remove the last: gone"
	mkdir b/rd a/rd && echo r >a/rd/r
	is "$(P rmdir o/rd):$(ex b/rd):$(rd o/rd/r)" "ok:no:r" "$who: rmdir takes b's (empty) rd; a's rd shows"
	is "$(P unlink o/d/y):$(ex b/d/y)" "ok:no" "$who: remove below OLD"
	is "$(P rename o/onlya o/renamed)" "ok" "$who: rename in OLD"
	is "$(ex a/renamed):$(ex a/onlya):$(rd o/renamed)" "yes:no:a-only" "$who: ... within the member the file is in"
	is "$(P rename o/renamed o/d/renamed)" "EXDEV" "$who: rename into another member's directory: EXDEV"
	is "$(ex a/renamed):$(ex b/d/renamed)" "yes:no" "$who: ... nothing moved"
	is "$(P rename o/renamed o/d2/renamed):$(ex a/d2/renamed)" "ok:yes" "$who: rename into the same member's directory"
	is "$(P rename o/onlyb o/onlyb2):$(ex b/onlyb2)" "ok:yes" "$who: rename of b's file, in b"
	echo dup >b/dup; echo dup >a/dup
	is "$(P chmod 600 o/dup):$(stat -c %a b/dup):$(stat -c %a a/dup)" "ok:600:644" \
		"$who: chmod acts on the first member's file only"
	is "$(P chmod 700 o/d2):$(stat -c %a a/d2)" "ok:700" "$who: chmod of a directory in a later member"
	is "$(stat -c %a o/dup)" "600" "$who: stat through the union sees the change"

	# ---- readdir (plan9.md §2.8, one deliberate difference: each name once) ----
	is "$(lsu o)" "$(want c0 b2 b oraw a c)" "$who: readdir: members in order, each name once"
	is "$(timeout 10 ls -A o | uniq -d)" "" "$who: no name listed twice"
	ok "$who: ls -l stats every entry" timeout 10 ls -l o
	mkdir big bigraw big1 big2 big3
	(cd big1 && seq -f n%03g 0 399 | xargs touch) && (cd big2 && seq -f n%03g 200 599 | xargs touch) &&
		(cd big3 && seq -f n%03g 400 799 | xargs touch && mkdir ddd)
	N bind "$R/big" "$R/bigraw"
	N bind -a "$R/big1" "$R/big" && N bind -a "$R/big2" "$R/big" && N bind -a "$R/big3" "$R/big"
	is "$(timeout 10 ls -A -U big | wc -l | tr -d ' ')" "801" "$who: a union of 3 x 400 names, overlapping: 801 listed"
	is "$(lsu big)" "$(want bigraw big1 big2 big3)" "$who: ... in member order, each once (several getdents calls)"
	is "$(timeout 10 find big -maxdepth 1 -type d | wc -l | tr -d ' ')" "2" "$who: entry types come through (find -type d)"

	# ---- changes made outside the union show at once ----
	echo fresh >a/fresh
	is "$(rd o/fresh)" "fresh" "$who: a file made in a member shows"
	is "$(lsu o)" "$(want c0 b2 b oraw a c)" "$who: ... and is listed"
	is "$(ex o/late)" "no" "$who: a missing name"
	echo late >c/late
	is "$(rd o/late)" "late" "$who: ... made in a member afterwards shows at once"
	printf one >a/content
	is "$(rd o/content)" "one" "$who: contents"
	printf two >a/content
	is "$(rd o/content)" "two" "$who: contents changed in the member (same size) show"
	echo more >>a/content
	is "$(rd o/content)" "twomore" "$who: contents appended in the member show"
	chmod 640 a/content
	is "$(stat -c %a o/content)" "640" "$who: a mode changed in the member shows"
	is "$(rd o/onlya2)" "A2" "$who: a name found in a later member"
	echo shadow >b/onlya2
	is "$(rd o/onlya2)" "shadow" "$who: the same name made in an earlier member shadows it at once"
	rm a/fresh
	is "$(ex o/fresh)" "no" "$who: a file removed in the member is gone"
	is "$(lsu o)" "$(want c0 b2 b oraw a c)" "$who: ... and not listed"
	echo sub >a/d2/subnew
	is "$(rd o/d2/subnew)" "sub" "$who: below OLD: a new file shows"
	printf X >a/d2/subnew
	is "$(rd o/d2/subnew)" "X" "$who: below OLD: changed contents show"
	chmod 600 a/d2/subnew
	is "$(stat -c %a o/d2/subnew)" "600" "$who: below OLD: a changed mode shows"
	rm a/d2/subnew
	is "$(ex o/d2/subnew)" "no" "$who: below OLD: a removed file is gone"

	# ---- a member removed from under the union is skipped (plan9.md §2.12) ----
	mkdir gone && echo g >gone/gfile
	N bind -b "$R/gone" "$R/o"
	is "$(rd o/gfile)" "g" "$who: a member's file"
	rm -r gone
	is "$(ex o/gfile)" "no" "$who: its directory removed: its names are gone"
	is "$(lsu o)" "$(want c0 b2 b oraw a c)" "$who: readdir skips the removed member"
	is "$(rd o/onlyb2)" "b-only" "$who: lookups in the other members work"
	is "$(P create o/afterrm):$(ex c0/afterrm)" "ok:yes" "$who: create still goes to the first -c member"

	# ---- 2. live membership: open files and cwds inside keep working ----
	mkdir lv lvraw lva lvb lvc lva/sub
	printf 'one\ntwo\n' >lva/lines; echo own >lv/own; echo subf >lva/sub/sf; echo cf >lvc/cfile; echo bf >lvb/bfile
	N bind "$R/lv" "$R/lvraw"
	N bind -a "$R/lva" "$R/lv"
	m0=$(mid "$R/lv") p=$(upid "$R/lv")
	(
		cd "$R/lv" || exit 1
		exec 3<lines 4>>own
		read -r l1 <&3
		N bind -a "$R/lvc" "$R/lv" || echo "bind -a failed"
		read -r l2 <&3
		echo "$l1 $l2"
		ls -A . | tr '\n' ' '; echo
		cat cfile
		echo appended >&4
		cd sub && N bind -b "$R/lvb" "$R/lv" && ls -A . && cat ../bfile
	) >"$TD/live.out" 2>&1
	is "$(cat "$TD/live.out")" "one two
cfile lines own sub 
cf
sf
bf" "$who: an open file, a writer and cwds inside the union keep working while members are added"
	is "$(cat lv/own)" "own
appended" "$who: the write through the held fd reached the file"
	is "$(mid "$R/lv"):$(upid "$R/lv")" "$m0:$p" "$who: no remount: the same mount and server"

	# ---- 3. unmount ----
	ok "$who: unmount NEW OLD" N unmount "$R/lvc" "$R/lv"
	is "$(ex lv/cfile):$(lsu lv)" "no:$(want lvb lvraw lva)" "$who: the member is gone"
	is "$(nsl "$R/lv" | grep -c lvc)" "0" "$who: ... and not in ns"
	BAD=$R/lv
	badcmd "$who: unmount of a non-member" "ns9: unmount $R/c $R/lv: not in union" N unmount "$R/c" "$R/lv"
	command exec 5<"$R/lv/lines"
	ok "$who: unmount OLD with a file open in it" N unmount "$R/lv"
	is "$(nunion "$R/lv"):$(lsa lv)" "0:own" "$who: the original directory shows again"
	is "$(cat <&5)" "one
two" "$who: a file open in the union stays readable after unmount (plan9.md §2.11)"
	exec 5<&-
	is "$(gonepid "$p")" "exited" "$who: the union's server exits once its last file is closed"

	mkdir al alraw ala alb
	echo al >al/alf; echo a >ala/af; echo b >alb/bf
	N bind "$R/al" "$R/alraw"
	N bind -a "$R/ala" "$R/al" && N bind -a "$R/alb" "$R/al"
	p=$(upid "$R/al")
	ok "$who: unmount the first added member" N unmount "$R/ala" "$R/al"
	is "$(lsu al)" "$(want alraw alb)" "$who: [al, alb] left"
	ok "$who: unmount OLD itself as a member (named by its identity: another path to it)" N unmount "$R/alraw" "$R/al"
	is "$(lsu al)" "$(want alb)" "$who: [alb] left"
	is "$(nsl "$R/al")" "bind  $R/alb $R/al" "$who: ns: OLD is not a member: a plain bind line"
	ok "$who: unmount the last member" N unmount "$R/alb" "$R/al"
	is "$(nunion "$R/al"):$(lsa al)" "0:alf" "$who: the union is gone, the original directory shows"
	is "$(gonepid "$p")" "exited" "$who: its server exits"

	mkdir rp rpa rpc && echo rpa >rpa/f && echo rpc >rpc/g
	N bind -a "$R/rpa" "$R/rp"
	p=$(upid "$R/rp")
	ok "$who: bind (MREPL) onto a union" N bind "$R/rpc" "$R/rp"
	is "$(lsa rp):$(nunion "$R/rp")" "g:0" "$who: it replaces the union"
	is "$(nsl "$R/rp")" "bind  $R/rpc $R/rp" "$who: ns: one plain bind"
	is "$(gonepid "$p")" "exited" "$who: the replaced union's server exits"

	# ---- 5. a copy of the name space (rfork -n) has its own unions ----
	mkdir cu cuc && echo cu >cuc/cf
	N bind -a "$R/c0" "$R/cu"
	is "$(N rfork -n sh -c "'$NS9' bind -a '$R/cuc' '$R/cu' && ls -A '$R/cu'" 2>&1 | paste -sd' ')" "afterrm c0new cf" \
		"$who: rfork -n child: bind -a onto a union it copied"
	is "$(ex cu/cf)" "no" "$who: the parent's union is unchanged (plan9.md §2.2: only the caller's name space)"
	is "$(N rfork -n sh -c "'$NS9' unmount '$R/c0' '$R/cu' && ls -A '$R/cu'" 2>&1 | paste -sd' ')" "" \
		"$who: rfork -n child: unmount of a member of a copied union"
	is "$(lsa cu)" "afterrm c0new" "$who: the parent's union still has it"
	N rfork -n "$NS9" unmount "$R/cu"
	is "$(lsa cu):$(nunion "$R/cu")" "afterrm c0new:1" "$who: a child's unmount OLD leaves the parent's union"
	mkdir cux
	q=$(N rfork -n sh -c "'$NS9' bind -a '$R/cuc' '$R/cux' && cat /proc/self/mountinfo" |
		awk -v d="$R/cux" '$5 == d && / - fuse\.ns9union / { for (i = 7; $i != "-"; i++) ; split($(i+2), f, "!"); print f[2] }')
	is "$(gonepid "$q")" "exited" "$who: a union made in an rfork -n child: its server exits when the child's name space goes"

	# ---- 4. ns text and its replay ----
	mkdir nsA nsB nsD nsDraw nsE x y && echo x >x/xf && echo y >y/yf
	N bind -a "$R/a" "$R/nsA" && N bind -b "$R/b" "$R/nsA" && N bind -b -c "$R/b2" "$R/nsA" &&
		N bind -a -c "$R/c" "$R/nsA"
	is "$(nsl "$R/nsA")" "bind -b $R/b $R/nsA
bind -bc $R/b2 $R/nsA
bind -a $R/a $R/nsA
bind -ac $R/c $R/nsA" "$who: ns: members before OLD reversed as -b, then -a, with c"
	N bind "$R/nsD" "$R/nsDraw"
	N bind -a -c "$R/x" "$R/nsD" && N bind -a "$R/y" "$R/nsD" && N unmount "$R/nsDraw" "$R/nsD"
	is "$(nsl "$R/nsD")" "bind -c $R/x $R/nsD
bind -a $R/y $R/nsD" "$who: ns: OLD not a member: the first as bind -c, the rest -a"
	(cd "$R" && N bind -a y nsE && N bind -b x nsE)
	is "$(nsl "$R/nsE")" "bind -b $R/x $R/nsE
bind -a $R/y $R/nsE" "$who: ns: relative names are made absolute against the cwd"
	ok "$who: ramfs posted" N ramfs -s uram
	RP=$(pgrep -n -u "$me" -f '^([^ ]*/)?ns9 ramfs -s uram$')
	ok "$who: mount -b -c of a 9P service onto a plain directory" N mount -b -c /srv/uram "$R/nsB"
	ok "$who: mount -a -C with a spec" N mount -a -C /srv/uram "$R/nsE" sp
	N bind -a "$R/a" "$R/nsB"
	is "$(nsl "$R/nsB")" "mount -bc /srv/uram $R/nsB
bind -a $R/a $R/nsB" "$who: ns: a 9P member is a mount line with its flags"
	is "$(nsl "$R/nsE")" "bind -b $R/x $R/nsE
bind -a $R/y $R/nsE
mount -aC /srv/uram $R/nsE sp" "$who: ns: a 9P member with -C and a spec"
	for d in nsA nsB nsD nsE; do nsl "$R/$d"; done >"$TD/ns.txt"
	for d in nsA nsB nsD nsE; do lsu "$d"; done >"$TD/ls.txt"
	# The replay: each line is an ns9 command (the ns text quotes as sh does).
	cat >"$TD/replay.sh" <<-EOS
	cd '$R' || exit 1
	for d in nsA nsB nsD nsE; do '$NS9' unmount '$R/'\$d || exit 1; done
	ls -A nsA nsB nsD nsE | tr -d '\n'; echo
	while IFS= read -r l; do eval "'$NS9' \$l" || exit 1; done <'$TD/ns.txt'
	for d in nsA nsB nsD nsE; do '$NS9' ns | awk -v d='$R/'\$d '(\$1 == "bind" || \$1 == "mount") &&
		(\$(NF) == d || \$(NF-1) == d && \$1 == "mount")'; done
	for d in nsA nsB nsD nsE; do ls -A -U \$d | paste -sd' '; done
	'$PROBE' create nsD/.made; rm -f x/.made
	EOS
	out=$(N rfork -n sh "$TD/replay.sh" 2>&1)
	# ns9(1) BUGS: a union without OLD among its members whose first member
	# is -c replays that line as a plain bind -c (Linux keeps no -c on a
	# mount), so the union it then becomes has OLD's mount with no -c.
	is "$out" "nsA:nsB:nsD:nsE:
$(sed "s|^bind -c $R/x $R/nsD\$|bind  $R/x $R/nsD|" "$TD/ns.txt")
$(cat "$TD/ls.txt")
EPERM" "$who: the ns text replayed in a fresh name space gives the same text and listings (but the -c of a union without OLD)"
	is "$(for d in nsA nsB nsD nsE; do lsu "$d"; done)" "$(cat "$TD/ls.txt")" "$who: the parent's unions are untouched by the child"

	# ---- 5. unions of unions, copies, a union over its own mount point ----
	mkdir uu1 uu1raw uu2 uu2raw uu3 uu3raw ua ub cp cpx
	echo 1 >uu1/one; echo a >ua/fa; echo b >ub/fb; echo 2 >uu2/two; echo s-a >ua/s; echo s-2 >uu2/s; echo cx >cpx/cx
	N bind "$R/uu1" "$R/uu1raw" && N bind "$R/uu2" "$R/uu2raw" && N bind "$R/uu3" "$R/uu3raw"
	N bind -a "$R/ua" "$R/uu1"
	ok "$who: bind -a of a union onto a directory" N bind -a "$R/uu1" "$R/uu2"
	is "$(lsu uu2)" "$(want uu2raw uu1raw ua)" "$who: union of unions: readdir"
	is "$(rd uu2/s):$(rd uu2/fa):$(rd uu2/one)" "s-2:a:1" "$who: union of unions: lookup, first member wins"
	ok "$who: bind -b of a union" N bind -b "$R/uu1" "$R/uu3"
	is "$(rd uu3/s):$(lsu uu3)" "s-a:$(want uu1raw ua uu3raw)" "$who: ... its members come first"
	ok "$who: unmount the outer union" N unmount "$R/uu2"
	is "$(lsu uu1)" "$(want uu1raw ua)" "$who: the inner union is intact"
	ok "$who: bind UNION OTHER" N bind "$R/uu1" "$R/cp"
	is "$(lsu cp)" "$(want uu1raw ua)" "$who: the copy lists the union"
	is "$(nsl "$R/cp")" "bind  $R/uu1 $R/cp
bind -a $R/ua $R/cp" "$who: ns: the copy's members (OLD not among them)"
	[ "$(upid "$R/cp")" != "$(upid "$R/uu1")" ] && r=own || r=shared
	is "$r" own "$who: the copy has a server of its own"
	N bind -a "$R/cpx" "$R/uu1"
	is "$(rd uu1/cx):$(ex cp/cx)" "cx:no" "$who: a member added to the union does not show in the copy"
	N bind -a "$R/ub" "$R/cp"
	is "$(rd cp/fb):$(ex uu1/fb)" "b:no" "$who: a member added to the copy does not show in the union"

	mkdir sx sxraw sxa sxa/sub && echo s >sxa/sub/sfile && echo top >sxa/top && echo own >sx/own
	N bind "$R/sx" "$R/sxraw"
	N bind -a "$R/sxa" "$R/sx"
	ok "$who: bind -b of a directory inside the union onto the union" N bind -b "$R/sx/sub" "$R/sx"
	is "$(rd sx/sfile):$(rd sx/top):$(rd sx/own)" "s:top:own" "$who: the union over its own mount point resolves"
	is "$(lsu sx)" "$(want sxa/sub sxraw sxa)" "$who: ... and lists"
	cat /proc/self/mountinfo >"$TD/mi.before"
	timeout 30 "$NS9" bind -a "$R/sx" "$R/sx" >"$TD/self.out" 2>&1
	rc=$?
	is "$([ $rc -ne 124 ] && echo returned)" "returned" "$who: bind -a /u /u does not hang"
	if [ $rc -ne 0 ]; then
		is "$(cat /proc/self/mountinfo)" "$(cat "$TD/mi.before")" "$who: bind -a /u /u refused ($(cat "$TD/self.out")): nothing changed"
	fi
	timeout 10 ls -A sx >/dev/null 2>&1
	is "$?" "0" "$who: ... after it, ls of the union works"
	timeout 10 stat sx/nothere >/dev/null 2>&1
	is "$?" "1" "$who: ... a missing name fails and does not loop"
	is "$(rd sx/top)" "top" "$who: ... lookups work"

	# ---- 6. a 9P member ----
	mkdir n9 n9raw chk && echo own >n9/own
	N bind "$R/n9" "$R/n9raw"
	N mount /srv/uram "$R/chk"
	nf0=$(pgrep -c -u "$me" -f '^([^ ]*/)?ns9 9pfuse')
	ok "$who: mount -a -c of a 9P service onto a directory" N mount -a -c /srv/uram "$R/n9"
	is "$(P put n9/new hello):$(rd chk/new)" "ok:hello" "$who: create through the union lands in the 9P member"
	echo there >chk/there
	is "$(rd n9/there):$(rd n9/own)" "there:own" "$who: reads through the union from both members"
	echo more >>n9/new
	is "$(rd chk/new)" "hellomore" "$who: writes through the union"
	is "$(lsu n9)" "$(want n9raw chk)" "$who: readdir over a 9P member"
	BAD=$R/n9
	: >ofile
	badcmd "$who: mount -a onto a file" "ns9: mount /srv/uram $R/ofile: inconsistent mount" \
		N mount -a /srv/uram "$R/ofile"
	ok "$who: unmount of the 9P member by its SRV name" N unmount /srv/uram "$R/n9"
	# (before any lookup: names the kernel still caches must not keep the member)
	i=0; while [ $i -lt 100 ] && [ "$(pgrep -c -u "$me" -f '^([^ ]*/)?ns9 9pfuse')" -gt "$nf0" ]; do
		sleep 0.1; i=$((i + 1)); done
	is "$(pgrep -c -u "$me" -f '^([^ ]*/)?ns9 9pfuse')" "$nf0" "$who: no 9P client is left for it"
	is "$(ex n9/there):$(ex n9/new):$(lsu n9)" "no:no:$(want n9raw)" "$who: the 9P member is gone (a file made through the union too)"
	ok "$who: mount -a '#s/NAME'" N mount -a '#s/uram' "$R/n9"
	N bind -a "$R/x" "$R/n9"
	is "$(rd n9/there)" "there" "$who: a 9P member again"
	is "$(nsl "$R/n9")" "mount -a #s/uram $R/n9
bind -a $R/x $R/n9" "$who: ns names the service as it was given"
	kill -9 "$RP"
	is "$(lsu n9)" "$(want n9raw x)" "$who: its server killed: readdir skips the member"
	is "$(rd n9/own):$(rd n9/xf):$(ex n9/there)" "own:x:no" "$who: ... lookups skip it"
	ok "$who: unmount of the dead 9P member by its SRV string" N unmount '#s/uram' "$R/n9"
	is "$(nsl "$R/n9"):$(lsu n9)" "bind -a $R/x $R/n9:$(want n9raw x)" "$who: it is gone; the others stay"
	N unmount "$R/chk" 2>/dev/null

	# ---- 7. through ctl and the ns file (the user's run does it from outside: unionuser.sh) ----
	[ "$me" -eq 0 ] && ctlpart "$R" ""
	cd "$R" || return

	# ---- 8. bad input: clear errors, nothing changed ----
	mkdir bi bp bp2 && echo f >bfile && echo f >bfile2
	N bind -a "$R/a" "$R/bi"
	BAD=$R/bi
	badcmd "$who: -a with a file as NEW onto a union" "ns9: bind $R/bfile $R/bi: inconsistent mount" \
		N bind -a "$R/bfile" "$R/bi"
	badcmd "$who: -b with a file as NEW onto a directory" "ns9: bind $R/bfile $R/bp: inconsistent mount" \
		N bind -b "$R/bfile" "$R/bp"
	badcmd "$who: -a with a file as OLD" "ns9: bind $R/a $R/bfile: inconsistent mount" \
		N bind -a "$R/a" "$R/bfile"
	badcmd "$who: -a with files on both sides" "ns9: bind $R/bfile $R/bfile2: inconsistent mount" \
		N bind -a "$R/bfile" "$R/bfile2"
	badcmd "$who: a missing member" "ns9: bind $R/nope $R/bi: file does not exist: '$R/nope'" \
		N bind -a "$R/nope" "$R/bi"
	badcmd "$who: a missing OLD" "ns9: bind $R/a $R/nope: file does not exist: '$R/nope'" \
		N bind -b "$R/a" "$R/nope"
	badcmd "$who: unmount of a non-member" "ns9: unmount $R/bp2 $R/bi: not in union" \
		N unmount "$R/bp2" "$R/bi"
	badcmd "$who: unmount of a missing member name" "ns9: unmount $R/nope $R/bi: not in union" \
		N unmount "$R/nope" "$R/bi"
	badcmd "$who: unmount of a non-union (nothing mounted)" "ns9: unmount $R/a $R/bp: not mounted" \
		N unmount "$R/a" "$R/bp"
	badcmd "$who: mount -a of a missing service" "ns9: mount /srv/nope $R/bi: file does not exist: '/srv/nope'" \
		N mount -a /srv/nope "$R/bi"
	cat /proc/self/mountinfo >"$TD/mi.before"
	l0=$(lsu bi)
	N bind -a -b "$R/a" "$R/bi" >/dev/null 2>"$TD/ab.err"
	rc=$?
	case "$rc:$(cat "$TD/ab.err")" in
	"1:ns9: bind $R/a $R/bi: bad arg in system call" | "2:ns9: bind: -a and -b together" | 2:*usage*) r=ok ;;
	*) r="$rc:$(cat "$TD/ab.err")" ;;
	esac
	is "$r" ok "$who: -a and -b together: bad arg in system call or the usage text"
	is "$(cat /proc/self/mountinfo):$(lsu bi)" "$(cat "$TD/mi.before"):$l0" "$who: -a and -b together: nothing changed"

	# ---- 9. kill -9 of the union's server ----
	mkdir kf kfraw kfa && echo k >kfa/kfile && echo own >kf/own
	N bind "$R/kf" "$R/kfraw"
	N bind -a "$R/kfa" "$R/kf"
	p=$(upid "$R/kf")
	is "$(rd kf/kfile)" "k" "$who: a union to kill"
	"$PROBE" readloop "$R/kf" "$R/kf/kfile" >"$TD/loop.out" 2>&1 &
	L=$!
	kill -9 "$p"
	is "$(gonepid "$L")" "exited" "$who: a reader looping in the union stops within a bounded time"
	kill "$L" 2>/dev/null
	# ECONNABORTED for the request in flight when the server died, ENOTCONN after
	case "$(cat "$TD/loop.out")" in ENOTCONN | ECONNABORTED) r=ok ;; *) r=$(cat "$TD/loop.out") ;; esac
	is "$r" "ok" "$who: ... with ENOTCONN (or ECONNABORTED)"
	timeout 10 ls kf >"$TD/ls.out" 2>&1
	rc=$?
	case "$rc:$(cat "$TD/ls.out")" in
	"2:ls: cannot access 'kf': Transport endpoint is not connected" | \
	"2:ls: cannot open directory 'kf': Transport endpoint is not connected") r=ok ;;
	*) r="$rc:$(cat "$TD/ls.out")" ;;
	esac
	is "$r" "ok" "$who: ls of the union fails with ENOTCONN (not hangs)"
	timeout 30 "$NS9" ns >/dev/null 2>&1
	[ $? -ne 124 ] && r=returned || r=hung
	is "$r" "returned" "$who: ns9 ns with a dead union in the table does not hang"
	ok "$who: unmount OLD of a dead union" N unmount "$R/kf"
	is "$(nunion "$R/kf"):$(lsa kf)" "0:own" "$who: the original directory shows again"

	# ---- open files: one file open several times at once (a root server
	# passes them through to one backing file), mmap, a create kept open ----
	mkdir -p "$R/pt" "$R/pta"
	printf 'one\n' >"$R/pta/f"
	N bind -a -c "$R/pta" "$R/pt"
	exec 7<"$R/pt/f"
	is "$(cat "$R/pt/f")" "one" "$who: a file already open opens and reads again"
	printf 'two\n' >"$R/pt/f"
	is "$(cat <&7)" "two" "$who: the first open sees what the second wrote"
	exec 7<&-
	is "$(python3 -c 'import mmap, sys
f = open(sys.argv[1], "rb")
print(mmap.mmap(f.fileno(), 0, prot=mmap.PROT_READ)[:3].decode())' "$R/pt/f" 2>&1)" "two" "$who: mmap of a file in a union"
	exec 7>>"$R/pt/g"
	echo x >&7
	is "$(cat "$R/pt/g")" "x" "$who: a file created and still open reads through a second open"
	exec 7>&-
	is "$(cat "$R/pta/g")" "x" "$who: it was made in the -c member"
	N unmount "$R/pt"

	# ---- the end: every union unmounted, no server left ----
	kill "$T" 2>/dev/null
	for d in $(awk -v r="$R/" '/ - fuse\.ns9union / && index($5, r) == 1 { print $5 }' /proc/self/mountinfo | sort -r); do
		N unmount "$d" >/dev/null 2>&1 || umount -l "$d" 2>/dev/null
	done
	i=0; while [ $i -lt 100 ] && pgrep -u "$me" -f '^([^ ]*/)?ns9 unionfs' >/dev/null; do sleep 0.1; i=$((i + 1)); done
	is "$(pgrep -u "$me" -f '^([^ ]*/)?ns9 unionfs' | wc -l | tr -d ' ')" "0" "$who: every union unmounted: no ns9 unionfs left"
	pgrep -u "$me" -f '^([^ ]*/)?ns9 ramfs -s uram$' | while read -r q; do kill "$q"; done
}

if [ "$1" = body ] || [ "$1" = ctl ]; then
	# sh union.sh body DIR T_N, sh union.sh ctl DIR T_N CTLFS: the checks,
	# then the counts for the caller in DIR/.counts.
	T_N=$3
	TD=$2
	if [ "$1" = body ]; then body "$2"; else ctlpart "$2" "$4"; fi
	killall_waited
	echo "T_N=$T_N T_FAIL=$T_FAIL" >"$2/.counts"
	exit 0
fi

setup
NS9=$UNS9	# a copy: the tree's binary may be rebuilt while the test runs
PROBE=$SCR/bin/unionprobe
cp "$HD/unionprobe" "$PROBE" || { echo "not ok 1 - no unionprobe helper"; exit 1; }
trap 'killall_waited; cd /; umount -l "$SCR" 2>/dev/null; rmdir "$SCR" 2>/dev/null' EXIT
body "$SCR/r"
done_testing
