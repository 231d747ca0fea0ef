# roundtrip.sh: ns text replays.  A name space is made of binds (dirs,
# files, names with spaces and quotes, a bind of a bind, #T); replaying
# every line of its ns9 ns output, in order, into a fresh copy of the
# starting name space gives the same set of mounts.  As root and as an
# unprivileged uid.
. "$(dirname "$0")/../lib.sh"
setup
mkdir -p src/a/deep src/b "src/sp ace" "src/it's" dst/1 dst/2 dst/3 dst/4 dst/5 dst/6 dst/7 dst/8
echo f >src/file; : >dst/file
chmod -R a+rwX "$SCR/src" "$SCR/dst"

cat >"$SCR/build.sh" <<'EOS'
S=$1
"$NS9" bind "$S/src/a" "$S/dst/1" &&
"$NS9" bind "$S/src/sp ace" "$S/dst/2" &&
"$NS9" bind "$S/src/it's" "$S/dst/3" &&
"$NS9" bind "$S/dst/1/deep" "$S/dst/4" &&
"$NS9" bind "$S/src/file" "$S/dst/file" &&
"$NS9" bind '#T' "$S/dst/5" &&
"$NS9" bind "$S/dst/1" "$S/dst/6" &&
"$NS9" bind "$S/dst/7" "$S/dst/7" &&
"$NS9" bind "$S/dst/7" "$S/dst/8"
EOS
# snap: the mounts under the scratch directory, as a sorted set.
cat >"$SCR/snap.sh" <<'EOS'
awk -v d="$1/dst" '{ for (i = 7; $i != "-"; i++) ; if (index($5, d) == 1) print $5, $(i+1), $(i+2), $4 }' \
	/proc/self/mountinfo | sort
EOS
# replay TEXT PREFIX: every line of TEXT, in order, as an ns9 command; cd,
# comments, and lines the fresh copy already has (its own ns text) are
# skipped: a mount line of a memory file system (the scratch tmpfs) would
# otherwise replace it with a new, empty instance.
cat >"$SCR/replay.sh" <<'EOS'
fails=0 text=$1 pre=$2
"$NS9" ns >"$pre.base"
while IFS= read -r line; do
	case $line in ''|'#'*|'cd '*) continue ;; esac
	grep -qxF -- "$line" "$pre.base" && continue
	# rc quoting to sh quoting: '' inside quotes is one quote, and a
	# word that starts with # is not a comment in rc.
	eval "set -- $(printf '%s\n' "$line" | sed "s/''/'\\\\''/g; s/ #/ '#'/g")"
	"$NS9" "$@" 2>>"$pre.err" || fails=$((fails + 1))
done <"$text"
echo "$fails"
EOS

roundtrip() {	# roundtrip WHO RUN...
	who=$1; shift
	rm -f "$TD/$who".*
	"$@" "$NS9" rfork -n sh -c '
		sh "$0/build.sh" "$0" || exit 1
		"$NS9" ns >"$1.ns"
		sh "$0/snap.sh" "$0" >"$1.a"' "$SCR" "$TD/$who"
	"$@" "$NS9" rfork -n sh -c '
		n=$(sh "$0/replay.sh" "$1.ns" "$1")
		echo "$n" >"$1.fails"
		sh "$0/snap.sh" "$0" >"$1.b"' "$SCR" "$TD/$who"
	is "$(cat "$TD/$who.fails")" "0" "$who: every bind line replays"
	is "$(grep "dst" "$TD/$who.ns" | grep -v '^bind')" "" "$who: every bind is named (no comment lines)"
	is "$(cat "$TD/$who.b")" "$(cat "$TD/$who.a")" "$who: replay gives the same set of mounts"
	is "$(wc -l <"$TD/$who.a")" "9" "$who: nine mounts were made"
}
roundtrip root env
chown "$TUID" "$TD"
TD=$UHOME
roundtrip user asuser
done_testing
