# 9pfuse.sh: the 9P mount server (fs/9pfuse, ns9 9pfuse) through ns9 mount,
# on diod (9P2000.L), ns9 exportfs (9P2000.L and 9P2000) and ns9 ramfs:
# file operations, a directory of 10,000 names, a 200 MiB file
# written and read back, a refused attach, the server's end when its
# mount is unmounted, and kill -9 of the 9P server under a busy mount.
. "$(dirname "$0")/../lib.sh"
setup
SRVD=/run/ns9/srv
PIDS=
MNTS=
trap 'for m in $MNTS; do umount -l "$m" 2>/dev/null; done; [ -n "$PIDS" ] && kill -9 $PIDS 2>/dev/null
	cd /; umount -l "$SCR" 2>/dev/null; rmdir "$SCR" 2>/dev/null' EXIT

# waitsock PATH PID: until PATH is a socket, at most 5 s, while PID lives.
waitsock() {
	i=0
	while [ $i -lt 50 ] && ! [ -S "$1" ] && kill -0 "$2" 2>/dev/null; do sleep 0.1; i=$((i + 1)); done
	[ -S "$1" ]
}
# gone CMD...: until CMD fails, at most 10 s.
gone() {
	i=0
	while "$@" 2>/dev/null; do [ $i -ge 100 ] && return 1; sleep 0.1; i=$((i + 1)); done
}
alive() { kill -0 "$1" 2>/dev/null; }
mounted() { grep -q " $1 " /proc/self/mountinfo; }
nfuse() { pgrep -c -f '^([^ ]*/)?ns9 9pfuse' 2>/dev/null || echo 0; }
newfuse() { pgrep -n -f '^([^ ]*/)?ns9 9pfuse'; }
# errno CMD...: the text of the error a perl call dies with.
perlerr() { perl -e "$1" 2>&1; }

# startsrv NAME SOCK CMD...: a server in the background; SP its pid.
startsrv() {
	name=$1 sock=$2; shift 2
	"$@" >"$TD/.srv.$name" 2>&1 &
	SP=$!
	PIDS="$SP $PIDS"
	waitsock "$sock" $SP && return 0
	ok "$name: the server starts" sh -c 'cat "$1"; false' sh "$TD/.srv.$name"
	return 1
}

# 200 MiB of data, made once.
head -c 200M /dev/urandom >"$SCR/src"
seq -f 'n%05g' 1 10000 >"$SCR/names"

# suite NAME SRV SPEC MNT EXP DIALECT: mount SRV (SPEC) on MNT and exercise
# it; EXP is the exported directory (empty for ramfs), DIALECT L (9P2000.L),
# R (9P2000.L without links) or 0 (9P2000).
suite() {
	name=$1 srv=$2 spec=$3 m=$4 exp=$5 dl=$6
	mkdir -p "$m"
	"$NS9" mount "$srv" "$m" $spec 2>"$TD/.err"
	rc=$?
	is "$rc$(cat "$TD/.err")" 0 "$name: ns9 mount"
	[ $rc -eq 0 ] || return
	MNTS="$m $MNTS"
	fp=$(newfuse)
	ok "$name: mounted (fuse.9p)" sh -c "grep -q ' $m .* - fuse.9p ' /proc/self/mountinfo"

	# Files.
	echo hello >"$m/f"
	is "$(cat "$m/f")" "hello" "$name: write and read back"
	[ -n "$exp" ] && is "$(cat "$exp/f")" "hello" "$name: the file is in the exported directory"
	echo more >>"$m/f"
	is "$(cat "$m/f")" "hello
more" "$name: append"
	is "$(stat -c %s "$m/f")" 11 "$name: size"
	truncate -s 3 "$m/f"
	is "$(cat "$m/f")" "hel" "$name: truncate"
	chmod 600 "$m/f"
	is "$(stat -c %a "$m/f")" 600 "$name: chmod"
	touch -m -d @1000000000 "$m/f"
	is "$(stat -c %Y "$m/f")" 1000000000 "$name: mtime set"
	is "$(cat "$m/nonesuch" 2>&1)" "cat: $m/nonesuch: No such file or directory" "$name: a missing file is ENOENT"
	echo hello >"$m/u"
	if [ "$name" = diod ]; then
		skip "$name: an open file outlives its name: diod truncates by path"
		rm -f "$m/u"
	else is "$(perl -e 'open(my $f, "+<", $ARGV[0]) or die "$!\n"; unlink($ARGV[0]) or die "$!\n";
		truncate($f, 2) or die "$!\n"; seek($f, 0, 0); read($f, my $b, 10); print $b' "$m/u" 2>&1)" "he" \
		"$name: an open file outlives its name: ftruncate and read"
	fi

	# Directories and names.
	mkdir "$m/d"
	echo x >"$m/d/g"
	is "$(ls "$m/d")" "g" "$name: mkdir, create inside"
	is "$(stat -c %F "$m/d")" "directory" "$name: a directory is a directory"
	mv "$m/d/g" "$m/d/h"
	is "$(ls "$m/d"; cat "$m/d/h")" "h
x" "$name: rename within a directory"
	is "$(rmdir "$m/d" 2>&1)" "rmdir: failed to remove '$m/d': Directory not empty" "$name: rmdir of a full directory"
	if [ "$dl" != 0 ]; then
		mv "$m/d/h" "$m/h"
		is "$(ls "$m/d"; cat "$m/h")" "x" "$name: rename across directories"
		echo y >"$m/d/h"
	fi
	if [ "$dl" = L ]; then
		ln -s h "$m/l"
		is "$(readlink "$m/l"; cat "$m/l")" "h
x" "$name: symlink, readlink, follow"
		ln "$m/h" "$m/hh"
		is "$(stat -c %h "$m/h"; cat "$m/hh")" "2
x" "$name: hard link"
		rm "$m/l" "$m/hh"
	elif [ "$dl" = 0 ]; then
		is "$(perlerr "rename('$m/d/h', '$m/h') or die \"\$!\\n\"")" "Invalid cross-device link" \
			"$name: 9P2000 renames within a directory only (EXDEV)"
		is "$(ln -s f "$m/l" 2>&1)" "ln: failed to create symbolic link '$m/l': Operation not permitted" \
			"$name: 9P2000 has no symlinks"
		mv "$m/d/h" "$m/h"
		is "$(ls "$m/d"; cat "$m/h")" "x" "$name: mv across directories copies"
	fi
	rm "$m/h" "$m/d/h" 2>/dev/null
	rmdir "$m/d"
	is "$(ls "$m")" "f" "$name: remove, rmdir"
	ok "$name: statfs" stat -f "$m"

	# A directory of 10,000 names.
	mkdir "$m/big"
	if [ -n "$exp" ]; then
		(cd "$exp/big" && xargs touch <"$SCR/names")
	else
		(cd "$m/big" && xargs touch <"$SCR/names")
	fi
	ls "$m/big" >"$TD/.ls"
	ok "$name: readdir of 10,000 names" cmp "$SCR/names" "$TD/.ls"
	is "$(ls -f "$m/big" | grep -c '^n')" 10000 "$name: unsorted, each name once"
	rm -r "$m/big"
	ok "$name: 10,000 names removed" test ! -e "$m/big"

	# 200 MiB each way.
	ok "$name: 200 MiB written" cp "$SCR/src" "$m/big"
	ok "$name: 200 MiB read back" cmp "$SCR/src" "$m/big"
	[ -n "$exp" ] && ok "$name: 200 MiB in the exported directory" cmp "$SCR/src" "$exp/big"
	rm -f "$m/big"
	rm -f "$m/f"

	ok "$name: unmount" umount "$m"
	if [ -n "$fp" ]; then
		ok "$name: the 9pfuse server exits after the unmount" gone alive "$fp"
	else
		ok "$name: a 9pfuse server served the mount" false
	fi
}

# busy NAME SRV SPEC PID: kill -9 of the 9P server PID under a busy mount:
# the reader gets errors, nothing hangs, the 9pfuse server exits and the
# mount goes.
busy() {
	name=$1 srv=$2 spec=$3 pid=$4
	b=$SCR/busy.$pid
	mkdir -p "$b"
	"$NS9" mount "$srv" "$b" $spec 2>"$TD/.err"
	rc=$?
	is "$rc$(cat "$TD/.err")" 0 "$name: mount for the fault test"
	[ $rc -eq 0 ] || return
	MNTS="$b $MNTS"
	fp=$(newfuse)
	head -c 1M /dev/zero >"$b/z"
	(while cat "$b/z" >/dev/null; do :; done 2>"$TD/.reader") &
	RD=$!
	PIDS="$RD $PIDS"
	ok "$name: the reader is busy" alive "$RD"
	kill -9 "$pid"
	ok "$name: the reader stops on an error" gone alive "$RD"
	is "$(grep -c . "$TD/.reader")" 1 "$name: the reader saw one error ($(head -1 "$TD/.reader"))"
	ok "$name: the 9pfuse server exits" gone alive "$fp"
	ok "$name: the mount is gone" gone mounted "$b"
	is "$(timeout 5 ls "$b" 2>&1)" "" "$name: the mount point is its plain directory again"
}

# diod, 9P2000.L, on a Unix socket; as root it lets root attach.
mkdir -p diod/exp
if startsrv diod "$SCR/diod/sock" diod -f -n -e "$SCR/diod/exp" -l "$SCR/diod/sock" -L stderr; then
	DIOD=$SP
	suite diod "$SCR/diod/sock" "$SCR/diod/exp" "$SCR/diod/mnt" "$SCR/diod/exp" L

	# A refused attach changes nothing and leaves no server.
	cat /proc/self/mountinfo >"$TD/.mi"
	n0=$(nfuse)
	"$NS9" mount "$SCR/diod/sock" "$SCR/diod/mnt" /nonesuch >/dev/null 2>"$TD/.err"
	is "$?" 1 "diod: a refused attach fails"
	ok "diod: the mount table is unchanged" sh -c "cat /proc/self/mountinfo | cmp -s - $TD/.mi"
	ok "diod: no 9pfuse server is left" gone sh -c "[ \$(pgrep -c -f '^([^ ]*/)?ns9 9pfuse') -ne $n0 ]"

	busy diod "$SCR/diod/sock" "$SCR/diod/exp" "$DIOD"
fi

# ns9 exportfs in each dialect, posted in the srv directory.
mkdir -p exl/exp ex9/exp
if startsrv "exportfs .L" "$SRVD/exl" "$NS9" exportfs -f -V 9P2000.L -r "$SCR/exl/exp" -s exl; then
	suite "exportfs 9P2000.L" "#s/exl" "" "$SCR/exl/mnt" "$SCR/exl/exp" L
	kill "$SP"
fi
if startsrv "exportfs 9P2000" "$SRVD/ex9" "$NS9" exportfs -f -V 9P2000 -r "$SCR/ex9/exp" -s ex9; then
	suite "exportfs 9P2000" "#s/ex9" "" "$SCR/ex9/mnt" "$SCR/ex9/exp" 0
	busy "exportfs 9P2000" "#s/ex9" "" "$SP"
fi

# Through the test driver (it mounts as ns9 mount does, and passes flags):
# -D traces every message, -V 9P2000 is kept to against a server that
# speaks both.
FM=$HD/fusemnt
mkdir -p exb/exp exb/mnt exb/mnt9
if startsrv "exportfs (both)" "$SRVD/exb" "$NS9" exportfs -f -r "$SCR/exb/exp" -s exb; then
	echo data >"$SCR/exb/exp/f"
	"$FM" -D "$NS9" "$SRVD/exb" "$SCR/exb/mnt" >/dev/null 2>"$TD/.trace"
	rc=$?
	is "$rc" 0 "9pfuse -D: mounted"
	if [ $rc -eq 0 ]; then
		MNTS="$SCR/exb/mnt $MNTS"
		fp=$(newfuse)
		is "$(cat "$SCR/exb/mnt/f")" "data" "9pfuse -D: read"
		ok "9pfuse -D: the attach is traced" grep -q '^9pfuse -> Tattach tag 0 fid 0 afid -1 uname root ' "$TD/.trace"
		ok "9pfuse -D: replies are traced" grep -q '^9pfuse <- Rread tag [0-9]* count 5 ' "$TD/.trace"
		ok "9pfuse -D: 9P2000.L agreed" grep -q '^9pfuse version 9P2000.L msize 1048600$' "$TD/.trace"
		ok "9pfuse -D: and spoken" grep -q '^9pfuse -> Tlopen ' "$TD/.trace"
		umount "$SCR/exb/mnt"
		ok "9pfuse -D: the server exits after the unmount" gone alive "$fp"
	fi
	"$FM" -D -V 9P2000 "$NS9" "$SRVD/exb" "$SCR/exb/mnt9" >/dev/null 2>"$TD/.trace9"
	rc=$?
	is "$rc" 0 "9pfuse -V 9P2000: mounted"
	if [ $rc -eq 0 ]; then
		MNTS="$SCR/exb/mnt9 $MNTS"
		is "$(cat "$SCR/exb/mnt9/f")" "data" "9pfuse -V 9P2000: read"
		ok "9pfuse -V 9P2000: Topen, not Tlopen" sh -c "grep -q '^9pfuse -> Topen ' $TD/.trace9 && ! grep -q Tlopen $TD/.trace9"
		umount "$SCR/exb/mnt9"
	fi
	kill "$SP"
fi

# A server that answers garbage after the attach: the first call fails
# with EIO, the 9pfuse server detaches the mount and exits.
mkdir -p bad
"$FM" -B "$SCR/bad.sock" &
PIDS="$! $PIDS"
if waitsock "$SCR/bad.sock" $! && ok "bad server: mounted" "$FM" "$NS9" "$SCR/bad.sock" "$SCR/bad"; then
	MNTS="$SCR/bad $MNTS"
	fp=$(newfuse)
	timeout 10 ls "$SCR/bad" >"$TD/.bad" 2>&1
	rc=$?
	is "$rc $(grep -c 'Input/output error' "$TD/.bad")" "2 1" "bad server: ls fails with EIO at once"
	ok "bad server: the 9pfuse server exits" gone alive "$fp"
	ok "bad server: the mount is gone" gone mounted "$SCR/bad"
fi

# A server that holds every read: each blocked reader holds a worker, and
# another starts, so the mount still answers; unmounted, the server ends
# though calls are still waiting.
nthreads() { ls "/proc/$1/task" 2>/dev/null | wc -l; }
mkdir -p hold
"$FM" -H "$SCR/hold.sock" &
PIDS="$! $PIDS"
if waitsock "$SCR/hold.sock" $! && ok "holding server: mounted" "$FM" "$NS9" "$SCR/hold.sock" "$SCR/hold"; then
	MNTS="$SCR/hold $MNTS"
	fp=$(newfuse)
	RDS=
	for i in 1 2 3 4; do
		cat "$SCR/hold/x$i" >/dev/null 2>&1 &
		RDS="$RDS $!"
	done
	PIDS="$RDS $PIDS"
	# main, the 9P reader, 4 workers held and one more
	ok "holding server: a worker for each held read, and one more" gone sh -c "[ \$(ls /proc/$fp/task | wc -l) -lt 7 ]"
	is "$(timeout 5 stat -c %s "$SCR/hold/y" 2>&1)" 10 "holding server: the mount still answers"
	kill -9 $RDS
	ok "holding server: the readers are gone" gone sh -c "kill -0 $RDS 2>/dev/null"
	ok "holding server: unmount" umount "$SCR/hold"
	ok "holding server: the 9pfuse server exits after the unmount" gone alive "$fp"
fi
# SIGTERM with a read held: the server ends all the same, the reader gets
# an error, the mount is left dead (ENOTCONN), not hung.
mkdir -p hold2
"$FM" -H "$SCR/hold2.sock" &
PIDS="$! $PIDS"
if waitsock "$SCR/hold2.sock" $! && ok "holding server: mounted again" "$FM" "$NS9" "$SCR/hold2.sock" "$SCR/hold2"; then
	MNTS="$SCR/hold2 $MNTS"
	fp=$(newfuse)
	cat "$SCR/hold2/x" >/dev/null 2>"$TD/.held" &
	RD=$!
	PIDS="$RD $PIDS"
	ok "holding server: the reader waits in read(2)" gone sh -c "[ \"\$(cut -d' ' -f1 /proc/$RD/syscall)\" != 0 ]"
	kill -TERM "$fp"
	ok "holding server: SIGTERM ends the 9pfuse server with a read held" gone alive "$fp"
	ok "holding server: the reader gets an error" gone alive "$RD"
	is "$(timeout 5 stat -c %s "$SCR/hold2/x" 2>&1)" "stat: cannot statx '$SCR/hold2/x': Transport endpoint is not connected" \
		"holding server: the mount is dead, not hung"
	umount -l "$SCR/hold2"
fi

# ramfs (it agrees to 9P2000.L, without links): nothing behind it to look at.
if startsrv ramfs "$SRVD/ram" "$NS9" ramfs -f -s ram; then
	RAM=$SP
	suite ramfs "#s/ram" "" "$SCR/ram/mnt" "" R

	# -C: the kernel caches; a write is still seen through an uncached mount.
	mkdir -p ramc ramu
	"$NS9" mount -C "#s/ram" "$SCR/ramc" 2>"$TD/.err"
	rc=$?
	is "$rc$(cat "$TD/.err")" 0 "ramfs: ns9 mount -C"
	if [ $rc -eq 0 ]; then
		MNTS="$SCR/ramc $MNTS"
		"$NS9" mount "#s/ram" "$SCR/ramu" && MNTS="$SCR/ramu $MNTS"
		cp "$SCR/src" "$SCR/ramc/big"
		ok "ramfs -C: 200 MiB read back" cmp "$SCR/src" "$SCR/ramc/big"
		ok "ramfs -C: seen through the uncached mount" cmp "$SCR/src" "$SCR/ramu/big"
		rm -f "$SCR/ramc/big"
		umount "$SCR/ramc"
		umount "$SCR/ramu"
	fi

	busy ramfs "#s/ram" "" "$RAM"
fi

done_testing
