# unionuser.sh: the checks of union.sh (its body function) run by an
# unprivileged uid inside a name space it made with ns9 rfork -n: the
# union servers run as that user, through a /dev/fuse it may open.
. "$(dirname "$0")/../lib.sh"
HERE=$(cd "$(dirname "$0")" && pwd)
setup
username
userfuse
cp "$HERE/union.sh" "$SCR/bin/union.sh" || exit 1
# addcounts FILE: a part's numbering goes on here, and its failures add to ours.
addcounts() {
	f0=$T_FAIL
	T_FAIL=0
	eval "$(cat "$1" 2>/dev/null || echo 'T_FAIL=1')"
	T_FAIL=$((f0 + T_FAIL))
}
cp "$HD/unionprobe" "$SCR/bin/unionprobe" || { echo "not ok 1 - no unionprobe helper"; exit 1; }
mkdir "$SCR/ru" && chown "$TUID:$TUID" "$SCR/ru"
trap 'killall_waited; umount -l "$SCR/ctl" 2>/dev/null; cd /; umount -l "$SCR" 2>/dev/null; rmdir "$SCR" 2>/dev/null' EXIT
asuser "$UNS9" rfork -n sh "$SCR/bin/union.sh" body "$SCR/ru" "$T_N"
addcounts "$SCR/ru/.counts"

# ctl and the ns file: the user changes a name space it made, from outside
# (its ns9 ctl; root's ns9fs, whose helper acts as the user).
mkdir "$SCR/ctl" && "$NS9" fs "$SCR/ctl"
mkdir "$SCR/ruc" && chown "$TUID:$TUID" "$SCR/ruc"
asuser sh "$SCR/bin/union.sh" ctl "$SCR/ruc" "$T_N" "$SCR/ctl"
addcounts "$SCR/ruc/.counts"
umount "$SCR/ctl"
i=0; while [ $i -lt 100 ] && pgrep -u "$TUID" -f '^([^ ]*/)?ns9 unionfs' >/dev/null; do sleep 0.1; i=$((i + 1)); done
is "$(pgrep -u "$TUID" -f '^([^ ]*/)?ns9 unionfs' | wc -l | tr -d ' ')" "0" "user: no ns9 unionfs left once its name space is gone"
done_testing
