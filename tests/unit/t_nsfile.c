/*
 * t_nsfile.c: namespace files (lib/ns/nsfile.c): the tokenizer with $var
 * expansion, the variables of namespace files ($user, $home), and
 * ns_runfile: reading lines (comments, CRLF, long lines, a last line
 * without newline), reports with file:line, includes and their depth
 * limit, the return value, -v.  Runner tests watch their effect through
 * cd (getcwd) and, in a private mount namespace, through real binds.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <pwd.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "ns9.h"
#include "tap.h"

enum {
	MAXTOK = 8,
	MAXNAMES = 4,
	KiB = 1024,
	TMPFS = 0x01021994,	/* TMPFS_MAGIC */
};

static int
endswith(const char *s, const char *suffix)
{
	size_t n, m;

	n = strlen(s);
	m = strlen(suffix);
	return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* --- ns_tokenizevars with a table of variables --- */

static const struct {
	const char *name, *value;
} vartab[] = {
	{"a", "A"},
	{"b", "B"},
	{"e", ""},
	{"sp", "p q"},
	{"tab", "x\ty"},
	{"q", "it's"},
	{"d", "$a"},
	{"hash", "#c"},
	{"home", "/usr/glenda"},
	{"a-b", "AB"},
};

/* The names get was asked for, to check where a name ends. */
static char *asked[64];
static int nasked, emptyasked;
static int badarg;
static char *longvalue;

static const char *
get(const char *name, void *arg)
{
	size_t i;

	if(arg != (void *)vartab)
		badarg++;
	if(name[0] == 0){
		emptyasked++;
		return NULL;
	}
	if(nasked < (int)nelem(asked))
		asked[nasked++] = estrdup(name);
	if(strcmp(name, "long") == 0)
		return longvalue;
	for(i = 0; i < nelem(vartab); i++)
		if(strcmp(vartab[i].name, name) == 0)
			return vartab[i].value;
	return NULL;
}

static void
clearasked(void)
{
	while(nasked > 0)
		free(asked[--nasked]);
	emptyasked = 0;
}

static const struct {
	const char *s;
	int n;	/* -1: unmatched quote */
	const char *tok[MAXTOK];
	const char *names[MAXNAMES];	/* the names that must be looked up, and no others */
} vtoktab[] = {
	{"bind $a /x", 3, {"bind", "A", "/x"}, {"a"}},
	{"$a", 1, {"A"}, {"a"}},
	/* Quoting decides the tokens: an empty value leaves an empty token. */
	{"$unset", 1, {""}, {"unset"}},
	{"x $unset y", 3, {"x", "", "y"}, {"unset"}},
	{"$e", 1, {""}, {"e"}},
	{"$e$e", 1, {""}, {"e"}},
	/* A '$' without a name is dropped. */
	{"$", 1, {""}, {NULL}},
	{"$ a", 2, {"", "a"}, {NULL}},
	{"a$", 1, {"a"}, {NULL}},
	{"x$ y", 2, {"x", "y"}, {NULL}},
	{"$$", 1, {""}, {NULL}},
	{"$$a", 1, {"A"}, {"a"}},
	{"$a$", 1, {"A"}, {"a"}},
	{"$/x", 1, {"/x"}, {NULL}},
	{"$.x", 1, {".x"}, {NULL}},
	{"$!x", 1, {"!x"}, {NULL}},
	{"$'x'", 1, {"x"}, {NULL}},
	{"$''", 1, {""}, {NULL}},
	{"a$'b c'", 1, {"ab c"}, {NULL}},
	/* What ends a name: blank, quote, / . ! $ and the end. */
	{"$a$b", 1, {"AB"}, {"a", "b"}},
	{"$a/b", 1, {"A/b"}, {"a"}},
	{"$a.b", 1, {"A.b"}, {"a"}},
	{"$a!b", 1, {"A!b"}, {"a"}},
	{"$a..$b", 1, {"A..B"}, {"a", "b"}},
	{"$a'b'", 1, {"Ab"}, {"a"}},
	{"$a b", 2, {"A", "b"}, {"a"}},
	{"$a\tb", 2, {"A", "b"}, {"a"}},
	{"$a\r", 1, {"A"}, {"a"}},
	{"$a\r\n", 1, {"A"}, {"a"}},
	{"a$unset$b", 1, {"aB"}, {"unset", "b"}},
	{"$home/bin", 1, {"/usr/glenda/bin"}, {"home"}},
	{"'#/'$home $home", 2, {"#//usr/glenda", "/usr/glenda"}, {"home"}},
	/* Anything else is part of the name. */
	{"$a-b", 1, {"AB"}, {"a-b"}},
	{"$a-b/c", 1, {"AB/c"}, {"a-b"}},
	{"$a:b", 1, {""}, {"a:b"}},
	{"$a#b", 1, {""}, {"a#b"}},
	{"$A", 1, {""}, {"A"}},
	/* No expansion inside quotes. */
	{"'$a'", 1, {"$a"}, {NULL}},
	{"'x$a'y", 1, {"x$ay"}, {NULL}},
	{"x'$a'$b", 1, {"x$aB"}, {"b"}},
	{"$a'$b'", 1, {"A$b"}, {"a"}},
	{"'it''s $a'", 1, {"it's $a"}, {NULL}},
	/* A value is one token's text, never reparsed. */
	{"$sp", 1, {"p q"}, {"sp"}},
	{"bind $sp /x", 3, {"bind", "p q", "/x"}, {"sp"}},
	{"$sp$sp", 1, {"p qp q"}, {"sp"}},
	{"$tab", 1, {"x\ty"}, {"tab"}},
	{"$q", 1, {"it's"}, {"q"}},
	{"$d", 1, {"$a"}, {"d"}},
	{"$hash /dev", 2, {"#c", "/dev"}, {"hash"}},
	/* Plain rc quoting. */
	{"", 0, {NULL}, {NULL}},
	{" \t\r\n", 0, {NULL}, {NULL}},
	{"''", 1, {""}, {NULL}},
	{"a '' b", 3, {"a", "", "b"}, {NULL}},
	{"'it''s'", 1, {"it's"}, {NULL}},
	{"''''", 1, {"'"}, {NULL}},
	{"a'b c'd", 1, {"ab cd"}, {NULL}},
	{"'a b'c d", 2, {"a bc", "d"}, {NULL}},
	{"#c /dev", 2, {"#c", "/dev"}, {NULL}},
	{"'", -1, {NULL}, {NULL}},
	{"it's", -1, {NULL}, {NULL}},
	{"$a 'x", -1, {NULL}, {NULL}},
	{"'$a", -1, {NULL}, {NULL}},
	{"$a'", -1, {NULL}, {NULL}},
	{"'a''", -1, {NULL}, {NULL}},
};

/* Whether the names asked are exactly the set want (a name may be asked more than once). */
static int
namesok(const char *const *want)
{
	int i, j, found;

	for(i = 0; i < nasked; i++){
		found = 0;
		for(j = 0; j < MAXNAMES && want[j] != NULL; j++)
			found |= strcmp(asked[i], want[j]) == 0;
		if(!found)
			return 0;
	}
	for(j = 0; j < MAXNAMES && want[j] != NULL; j++){
		found = 0;
		for(i = 0; i < nasked; i++)
			found |= strcmp(asked[i], want[j]) == 0;
		if(!found)
			return 0;
	}
	return 1;
}

static void
testtokenizevars(void)
{
	char name[128], **tok;
	size_t i;
	int n, j, same;

	for(i = 0; i < nelem(vtoktab); i++){
		tok = (char **)&tok;	/* must be overwritten */
		clearasked();
		clearerr9();
		n = ns_tokenizevars(vtoktab[i].s, &tok, get, (void *)vartab);
		snprintf(name, sizeof name, "tokenizevars case %zu: count", i);
		if(!is_int(n, vtoktab[i].n, name))
			tapshow("input", vtoktab[i].s);
		if(vtoktab[i].n < 0){
			snprintf(name, sizeof name, "tokenizevars case %zu: error", i);
			is_str(errtext(), "unmatched quote", name);
			ok(tok == NULL, "tokenizevars case %zu: NULL vector", i);
			if(n >= 0)
				free(tok);
			continue;
		}
		if(n < 0)
			continue;
		same = tok[n] == NULL;
		for(j = 0; j < n && j < vtoktab[i].n && same; j++)
			if(strcmp(tok[j], vtoktab[i].tok[j]) != 0){
				tapshow("input", vtoktab[i].s);
				tapshow("got", tok[j]);
				tapshow("want", vtoktab[i].tok[j]);
				same = 0;
			}
		ok(same, "tokenizevars case %zu: tokens", i);
		if(!ok(namesok(vtoktab[i].names), "tokenizevars case %zu: names looked up", i)){
			tapshow("input", vtoktab[i].s);
			for(j = 0; j < nasked; j++)
				tapshow("asked", asked[j]);
		}
		free(tok);
	}
	clearasked();
	ok(badarg == 0, "get receives the arg given (%d wrong)", badarg);
	if(emptyasked)
		diag("note: get was asked for an empty name %d times", emptyasked);
}

/* Long values, long names, many expansions: the allocation must follow. */
static void
testtokenizevarsbig(void)
{
	Buf b = {0};
	char *s, **tok;
	int i, n, good;

	longvalue = emalloc(5001);
	for(i = 0; i < 5000; i++)
		longvalue[i] = 'a' + i % 26;

	n = ns_tokenizevars("x$long/y", &tok, get, (void *)vartab);
	s = esmprint("x%s/y", longvalue);
	ok(n == 1 && strcmp(tok[0], s) == 0 && tok[1] == NULL, "a 5000-byte value is kept whole");
	if(n >= 0)
		free(tok);
	free(s);

	for(i = 0; i < 200; i++)
		bufputs(&b, "$long ");
	s = bufdetach(&b);
	n = ns_tokenizevars(s, &tok, get, (void *)vartab);
	good = n == 200 && tok[200] == NULL;
	for(i = 0; good && i < n; i++)
		good = strcmp(tok[i], longvalue) == 0;
	ok(good, "200 tokens of a 5000-byte value each (%d tokens)", n);
	if(n >= 0)
		free(tok);
	free(s);

	for(i = 0; i < 2000; i++)
		bufputs(&b, "$a$b$$'$a'");
	s = bufdetach(&b);
	n = ns_tokenizevars(s, &tok, get, (void *)vartab);
	good = n == 1 && tok[1] == NULL && strlen(tok[0]) == 2000 * 4;
	for(i = 0; good && i < 2000; i++)
		good = memcmp(tok[0] + 4 * i, "AB$a", 4) == 0;
	ok(good, "one token of 2000 x $a$b$$'$a'");
	if(n >= 0)
		free(tok);
	free(s);

	clearasked();
	bufputc(&b, '$');
	for(i = 0; i < 10000; i++)
		bufputc(&b, 'n');
	bufputs(&b, "/z");
	s = bufdetach(&b);
	n = ns_tokenizevars(s, &tok, get, (void *)vartab);
	ok(n == 1 && strcmp(tok[0], "/z") == 0, "a 10000-byte unset name expands to nothing");
	ok(nasked >= 1 && strlen(asked[0]) == 10000, "the 10000-byte name is asked whole");
	if(n >= 0)
		free(tok);
	free(s);
	clearasked();

	for(i = 0; i < 1000; i++)
		bufputs(&b, "$e ");
	s = bufdetach(&b);
	n = ns_tokenizevars(s, &tok, get, (void *)vartab);
	good = n == 1000 && tok[1000] == NULL;
	for(i = 0; good && i < n; i++)
		good = tok[i][0] == 0;
	ok(good, "1000 tokens that expand to nothing stay 1000 empty tokens (%d)", n);
	if(n >= 0)
		free(tok);
	free(s);
	clearasked();

	free(longvalue);
	longvalue = NULL;
}

/* --- ns_nsvar --- */

static char *
saveenv(const char *name)
{
	const char *v;

	v = getenv(name);
	return v != NULL ? estrdup(v) : NULL;
}

static void
restoreenv(const char *name, char *v)
{
	if(v != NULL)
		setenv(name, v, 1);
	else
		unsetenv(name);
	free(v);
}

static void
testnsvar(void)
{
	char *ouser, *ohome, *oUSER, *oHOME, **tok;
	struct passwd *pw;
	const char *v;
	int n;

	ouser = saveenv("user");
	ohome = saveenv("home");
	oUSER = saveenv("USER");
	oHOME = saveenv("HOME");

	setenv("NS9T_X", "val ue", 1);
	is_str(ns_nsvar("NS9T_X", NULL), "val ue", "nsvar: an environment variable");
	unsetenv("NS9T_X");
	v = ns_nsvar("NS9T_X", NULL);
	ok(v == NULL || v[0] == 0, "nsvar: an unset variable is empty");
	setenv("NS9T_X", "", 1);
	v = ns_nsvar("NS9T_X", NULL);
	ok(v == NULL || v[0] == 0, "nsvar: an empty variable is empty");
	unsetenv("NS9T_X");

	unsetenv("user");
	setenv("USER", "ns9tester", 1);
	is_str(ns_nsvar("user", NULL), "ns9tester", "nsvar: $user defaults to $USER");
	unsetenv("USER");
	pw = getpwuid(getuid());
	is_str(ns_nsvar("user", NULL), pw != NULL ? pw->pw_name : "(no passwd entry)",
	       "nsvar: $user defaults to the passwd name without $USER");
	setenv("USER", "ns9tester", 1);
	setenv("user", "glenda", 1);
	is_str(ns_nsvar("user", NULL), "glenda", "nsvar: $user from the environment wins");

	unsetenv("home");
	setenv("HOME", "/home/ns9 tester", 1);
	is_str(ns_nsvar("home", NULL), "/home/ns9 tester", "nsvar: $home defaults to $HOME");
	setenv("home", "/usr/glenda", 1);
	is_str(ns_nsvar("home", NULL), "/usr/glenda", "nsvar: $home from the environment wins");

	/* Through the tokenizer, as a namespace file line sees them. */
	unsetenv("home");
	unsetenv("user");
	n = ns_tokenizevars("bind '#/'$home $home/$user", &tok, ns_nsvar, NULL);
	if(!ok(n == 3 && strcmp(tok[1], "#//home/ns9 tester") == 0 &&
		   strcmp(tok[2], "/home/ns9 tester/ns9tester") == 0,
	       "$home and $user defaults through ns_tokenizevars") &&
	   n == 3){
		tapshow("tok1", tok[1]);
		tapshow("tok2", tok[2]);
	}
	if(n >= 0)
		free(tok);

	restoreenv("user", ouser);
	restoreenv("home", ohome);
	restoreenv("USER", oUSER);
	restoreenv("HOME", oHOME);
}

/* --- ns_runfile --- */

typedef struct Rep Rep;
struct Rep {
	char *file;
	int line;
	char *msg;
	int verbose;
};

static Rep reps[4096];
static int nreps, lostreps, repbadarg;
static int repsentinel;

static void
record(const char *file, int line, const char *msg, int verbose, void *arg)
{
	Rep *r;

	if(arg != &repsentinel)
		repbadarg++;
	if(nreps >= (int)nelem(reps)){
		lostreps++;
		return;
	}
	r = &reps[nreps++];
	r->file = estrdup(file != NULL ? file : "(null)");
	r->msg = estrdup(msg != NULL ? msg : "(null)");
	r->line = line;
	r->verbose = verbose;
}

static void
clearreps(void)
{
	while(nreps > 0){
		nreps--;
		free(reps[nreps].file);
		free(reps[nreps].msg);
	}
	lostreps = 0;
}

static void
showreps(void)
{
	int i;

	if(nreps == 0)
		diag("no reports");
	for(i = 0; i < nreps; i++)
		diag("report %d: %s:%d: [%s] %.200s", i, reps[i].file, reps[i].line,
		     reps[i].verbose ? "verbose" : "error", reps[i].msg);
}

static int
nerrs(void)
{
	int i, n;

	n = 0;
	for(i = 0; i < nreps; i++)
		n += !reps[i].verbose;
	return n;
}

static int
nverbose(void)
{
	return nreps - nerrs();
}

/* The index of the first report of kind verbose at file (NULL: any) and line, or -1. */
static int
findrep(const char *file, int line, int verbose)
{
	int i;

	for(i = 0; i < nreps; i++)
		if(reps[i].verbose == verbose && reps[i].line == line &&
		   (file == NULL || strcmp(reps[i].file, file) == 0))
			return i;
	return -1;
}

/* Run a file from / with fresh reports. */
static int
run(const char *path, const char *text, int flags)
{
	clearreps();
	if(chdir("/") < 0)
		diag("chdir /: %s", strerror(errno));
	clearerr9();
	return ns_runfile(path, text, flags, record, &repsentinel);
}

/* The run returned want and reported exactly want failing lines. */
static void
expectfails(int r, int want, const char *name)
{
	int good;

	good = is_int(r, want, name);
	good &= ok(nerrs() == want, "%s: %d failing lines reported", name, want);
	if(!good)
		showreps();
}

/* An error report at file:line whose message holds sub (NULL: any non-empty message). */
static int
expecterr(const char *file, int line, const char *sub, const char *name)
{
	int i;

	i = findrep(file, line, 0);
	if(!ok(i >= 0 && reps[i].msg[0] != 0 && (sub == NULL || strstr(reps[i].msg, sub) != NULL),
	       "%s: reported at line %d", name, line)){
		diag("want %s:%d: ...%s...", file != NULL ? file : "*", line, sub != NULL ? sub : "");
		showreps();
		return -1;
	}
	return i;
}

static int
cwdis(const char *want, const char *name)
{
	char buf[PATH_MAX];

	if(getcwd(buf, sizeof buf) == NULL)
		snprintf(buf, sizeof buf, "(getcwd: %s)", strerror(errno));
	return is_str(buf, want, name);
}

static char *T;	/* the scratch directory */
static char *D1, *D2, *D3, *DEEP;
static int privns;

static char *
tpath(const char *name)
{
	return esmprint("%s/%s", T, name);
}

static void
writefile(const char *path, const char *data, size_t n)
{
	int fd;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if(fd < 0 || write(fd, data, n) != (ssize_t)n)
		diag("write %s: %s", path, strerror(errno));
	if(fd >= 0)
		close(fd);
}

static void
writestr(const char *path, const char *s)
{
	writefile(path, s, strlen(s));
}

static void
mkdirt(const char *path)
{
	if(mkdir(path, 0755) < 0 && errno != EEXIST)
		diag("mkdir %s: %s", path, strerror(errno));
}

static void
setup(void)
{
	static const char *const dirs[] = {
		"d1", "d2", "d3", "deep", "deep2", "sp ace", "it's", "a#b", "#x", "src", "dst",
		"tdir", "dirfile",
	};
	char tmpl[] = "/tmp/t_nsfile.XXXXXX", *p;
	size_t i;

	if(mkdtemp(tmpl) == NULL){
		diag("mkdtemp: %s", strerror(errno));
		exit(1);
	}
	T = realpath(tmpl, NULL);
	if(T == NULL){
		diag("realpath %s: %s", tmpl, strerror(errno));
		exit(1);
	}
	for(i = 0; i < nelem(dirs); i++){
		p = tpath(dirs[i]);
		mkdirt(p);
		free(p);
	}
	D1 = tpath("d1");
	D2 = tpath("d2");
	D3 = tpath("d3");
	DEEP = tpath("deep");
	p = tpath("src/marker");
	writestr(p, "marker\n");
	free(p);
}

static int
rmone(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	if(type == FTW_DP)
		rmdir(path);
	else
		unlink(path);
	return 0;
}

static void
cleanup(void)
{
	char *p;

	if(chdir("/") < 0)
		diag("chdir /: %s", strerror(errno));
	if(privns){
		p = tpath("dst");
		while(umount2(p, MNT_DETACH) == 0)
			;
		free(p);
		p = tpath("tdir");
		while(umount2(p, MNT_DETACH) == 0)
			;
		free(p);
	}
	nftw(T, rmone, 16, FTW_DEPTH | FTW_PHYS);
	if(access(T, F_OK) == 0)
		diag("could not remove %s", T);
}

/* Basic lines, comments, blanks, CRLF, the last line, '#' inside a line. */
static void
testlines(void)
{
	char *s, *p;
	int r;

	s = esmprint("cd %s\ncd %s\n", D1, D2);
	r = run("basic", s, 0);
	expectfails(r, 0, "two cd lines");
	cwdis(D2, "two cd lines: cwd is the second");
	ok(nreps == 0, "no reports without failures or -v");
	free(s);

	s = esmprint("cd %s\ncd %s", D1, D2);
	r = run("nonl", s, 0);
	expectfails(r, 0, "last line without newline (text)");
	cwdis(D2, "last line without newline runs (text)");
	p = tpath("nonl.ns");
	writestr(p, s);
	r = run(p, NULL, NS_FNOSKIP);
	expectfails(r, 0, "last line without newline (file)");
	cwdis(D2, "last line without newline runs (file)");
	free(p);
	free(s);

	s = esmprint("cd %s\r\ncd '%s'\r\n\r\ncd %s\r\n", D1, D2, D3);
	r = run("crlf", s, 0);
	expectfails(r, 0, "CRLF line ends");
	cwdis(D3, "CRLF line ends: every line runs");
	free(s);

	s = esmprint("cd %s\r\ncd %s\r", D1, D2);
	r = run("crlf2", s, 0);
	expectfails(r, 0, "CRLF, last line with a bare CR");
	cwdis(D2, "CRLF, last line with a bare CR runs");
	free(s);

	s = esmprint("# cd %s\n  \t# cd %s\n\n \t \n#\n# it's an unmatched quote\n"
		     "   \tcd %s\n#cd %s\n\t# frob\n",
		     D2, D2, D1, D3);
	r = run("comments", s, 0);
	expectfails(r, 0, "comments, blank lines, leading blanks");
	cwdis(D1, "comments are skipped, a line with leading blanks runs");
	free(s);

	s = esmprint("cd %s/a#b\n", T);
	r = run("hash", s, 0);
	expectfails(r, 0, "'#' inside a path");
	p = tpath("a#b");
	cwdis(p, "'#' inside a line is ordinary");
	free(p);
	free(s);

	s = esmprint("cd %s/#x\n", T);
	r = run("hash2", s, 0);
	expectfails(r, 0, "'#' starting a later token");
	p = tpath("#x");
	cwdis(p, "'#' starting a path component is ordinary");
	free(p);
	free(s);

	s = esmprint("cd %s #\n", D1);
	r = run("hash3", s, 0);
	is_int(r, 1, "a lone '#' after the operand is a token: cd gets two operands");
	expecterr("hash3", 1, "usage", "cd x #");
	free(s);

	s = esmprint("cd '%s/sp ace'\n", T);
	r = run("quote", s, 0);
	expectfails(r, 0, "a quoted name with a blank");
	p = tpath("sp ace");
	cwdis(p, "a quoted name with a blank");
	free(s);
	s = esmprint("cd %s/sp' 'ace\n", T);
	r = run("quote2", s, 0);
	expectfails(r, 0, "a quote in the middle of a token");
	cwdis(p, "a quote in the middle of a token");
	free(p);
	free(s);

	s = esmprint("cd '%s/it''s'\n", T);
	r = run("quote3", s, 0);
	expectfails(r, 0, "'' inside quotes");
	p = tpath("it's");
	cwdis(p, "'' inside quotes is one quote");
	free(p);
	free(s);

	s = esmprint("cd %s\ncd '%s\ncd %s\n", D1, D2, D3);
	r = run("unmatched", s, 0);
	expectfails(r, 1, "an unmatched quote");
	expecterr("unmatched", 2, "unmatched quote", "unmatched quote");
	cwdis(D3, "an unmatched quote fails its line only");
	free(s);

	s = esmprint("cd %s\ncd '%s\n%s'\n", D1, D2, D3);
	r = run("span", s, 0);
	expectfails(r, 2, "a quote does not span lines");
	expecterr("span", 2, "unmatched quote", "the line that opens the quote");
	expecterr("span", 3, "unmatched quote", "the line that closes it");
	cwdis(D1, "neither half of a quote across lines runs");
	free(s);

	s = esmprint("cd %s\ncd ''\n", D1);
	r = run("empty", s, 0);
	expectfails(r, 1, "cd to an empty '' name");
	expecterr("empty", 2, NULL, "cd ''");
	cwdis(D1, "cd '' changes nothing");
	free(s);

	s = esmprint("cd %s\ncd %s\n", T, "d1");
	r = run("rel", s, 0);
	expectfails(r, 0, "a relative cd");
	cwdis(D1, "a relative cd is relative to the previous one");
	free(s);

	r = run("empty", "", 0);
	expectfails(r, 0, "empty text");
	r = run("blank", "\n\n   \n\t\r\n", 0);
	expectfails(r, 0, "blank lines only");
	r = run("blank", "# only a comment", 0);
	expectfails(r, 0, "a comment without newline");
}

/* $var in lines. */
static void
testvars(void)
{
	char *s, *p, *ohome, *oHOME;
	int r;

	ohome = saveenv("home");
	oHOME = saveenv("HOME");

	setenv("NS9T_D1", D1, 1);
	setenv("NS9T_T", T, 1);
	r = run("vars", "cd $NS9T_D1\n", 0);
	expectfails(r, 0, "cd $var");
	cwdis(D1, "cd $var");

	r = run("vars", "cd $NS9T_T/d2\n", 0);
	expectfails(r, 0, "cd $var/name");
	cwdis(D2, "'/' ends a name");

	r = run("vars", "cd $NS9T_T/d2/..$NS9T_NONE/d3\n", 0);
	expectfails(r, 0, "cd $var/..$unset/name");
	cwdis(D3, "'.' ends a name; an unset variable is empty");

	r = run("vars", "cd $NS9T_T/'d1'\n", 0);
	expectfails(r, 0, "cd $var'quoted'");
	cwdis(D1, "a quote ends a name");

	s = esmprint("cd %s\ncd '$NS9T_D1'\n", T);
	p = tpath("$NS9T_D1");
	mkdirt(p);
	r = run("vars", s, 0);
	expectfails(r, 0, "cd '$var'");
	cwdis(p, "no expansion inside quotes");
	rmdir(p);
	free(p);
	free(s);

	p = esmprint("%s/sp ace", T);
	setenv("NS9T_SP", p, 1);
	r = run("vars", "cd $NS9T_SP\n", 0);
	expectfails(r, 0, "cd $var holding a blank");
	cwdis(p, "a value with a blank stays one token");
	free(p);

	setenv("NS9T_Q", "it's", 1);
	r = run("vars", "cd $NS9T_T/$NS9T_Q\n", 0);
	expectfails(r, 0, "cd $var holding a quote");
	p = tpath("it's");
	cwdis(p, "a value with a quote is taken as it is");
	free(p);

	r = run("vars", "cd $NS9T_T$/d1$\n", 0);
	expectfails(r, 0, "'$' before '/' and at the end");
	cwdis(D1, "a '$' with no name is dropped");

	setenv("NS9T_DD", "d2", 1);
	r = run("vars", "cd $NS9T_T/$$NS9T_DD\n", 0);
	expectfails(r, 0, "$$name");
	cwdis(D2, "$$name: the first '$' is dropped");

	unsetenv("home");
	setenv("HOME", D2, 1);
	r = run("vars", "cd $home\n", 0);
	expectfails(r, 0, "cd $home");
	cwdis(D2, "$home defaults to $HOME");
	r = run("vars", "cd $home/../d3\n", 0);
	expectfails(r, 0, "cd $home/../d3");
	cwdis(D3, "$home/../d3");
	setenv("home", D1, 1);
	r = run("vars", "cd $home\n", 0);
	expectfails(r, 0, "cd $home with home set");
	cwdis(D1, "$home from the environment wins over $HOME");

	unsetenv("NS9T_D1");
	unsetenv("NS9T_T");
	unsetenv("NS9T_SP");
	unsetenv("NS9T_Q");
	unsetenv("NS9T_DD");
	restoreenv("home", ohome);
	restoreenv("HOME", oHOME);
}

/* Lines of 60 KiB and more, and lines of many tokens. */
static void
testlong(void)
{
	Buf b = {0};
	char *s;
	int i, r;

	/* A 60 KiB line of blanks between cd and its operand. */
	bufputs(&b, "cd");
	for(i = 0; i < 60 * KiB; i++)
		bufputc(&b, i % 3 ? ' ' : '\t');
	bufprint(&b, "%s\ncd %s\n", D1, D2);
	s = bufdetach(&b);
	r = run("long", s, 0);
	expectfails(r, 0, "a 60 KiB line");
	cwdis(D2, "a 60 KiB line and the next line run");
	free(s);

	bufprint(&b, "cd %s\ncd", D2);
	for(i = 0; i < 60 * KiB; i++)
		bufputc(&b, ' ');
	bufputs(&b, D1);
	s = bufdetach(&b);
	r = run("long", s, 0);
	expectfails(r, 0, "a 60 KiB last line without newline");
	cwdis(D1, "a 60 KiB last line without newline runs");
	free(s);

	/* Just under 64 KiB. */
	bufputs(&b, "cd");
	for(i = 0; i < 64 * KiB - 64 - (int)strlen(D3); i++)
		bufputc(&b, ' ');
	bufprint(&b, "%s\n", D3);
	s = bufdetach(&b);
	r = run("long", s, 0);
	expectfails(r, 0, "a line 64 bytes under 64 KiB");
	cwdis(D3, "a line 64 bytes under 64 KiB runs");
	free(s);

	/* A 60 KiB comment. */
	bufputs(&b, "# ");
	for(i = 0; i < 60 * KiB; i++)
		bufputc(&b, 'a' + i % 26);
	bufprint(&b, "\ncd %s\nfrob\n", D1);
	s = bufdetach(&b);
	r = run("longcomment", s, 0);
	expectfails(r, 1, "a 60 KiB comment");
	expecterr("longcomment", 3, "frob: unknown command", "line numbers after a 60 KiB comment");
	cwdis(D1, "the line after a 60 KiB comment runs");
	free(s);

	/* 20000 tokens in 60 KiB: parsed, and bind fails on its source. */
	bufputs(&b, "bind");
	for(i = 0; i < 20000; i++)
		bufputs(&b, " -c");
	bufprint(&b, " %s/nonexistent %s\n", T, D1);
	s = bufdetach(&b);
	r = run("manyflags", s, 0);
	expectfails(r, 1, "a bind of 20003 tokens");
	expecterr("manyflags", 1, "file does not exist",
		  "a bind of 20000 flags is parsed and fails on its missing source");
	free(s);

	/* Over 64 KiB: reported, skipped, the rest runs, lines still counted. */
	bufprint(&b, "cd %s\ncd %s", D1, D2);
	for(i = 0; i < 70 * KiB; i++)
		bufputc(&b, ' ');
	bufprint(&b, "\nfrob\ncd %s\n", D3);
	s = bufdetach(&b);
	r = run("toolong", s, 0);
	expectfails(r, 2, "a 70 KiB line");
	expecterr("toolong", 2, "line too long", "a 70 KiB line is too long");
	expecterr("toolong", 3, "frob: unknown command", "the line after a long one is line 3");
	cwdis(D3, "lines after a too long line run");
	free(s);

	/* The tail of a too long line is not a line of its own. */
	bufprint(&b, "cd %s\n", D1);
	for(i = 0; i < 70 * KiB; i++)
		bufputc(&b, ' ');
	bufprint(&b, "cd %s\n", D2);
	s = bufdetach(&b);
	r = run("toolong2", s, 0);
	expectfails(r, 1, "a 70 KiB line ending in a command");
	expecterr("toolong2", 2, "line too long", "70 KiB of blanks then cd");
	cwdis(D1, "no part of a too long line runs");
	free(s);

	/* A too long last line without newline. */
	bufprint(&b, "cd %s\ncd %s", D1, D2);
	for(i = 0; i < 70 * KiB; i++)
		bufputc(&b, ' ');
	s = bufdetach(&b);
	r = run("toolong3", s, 0);
	expectfails(r, 1, "a too long last line without newline");
	expecterr("toolong3", 2, "line too long", "a too long last line without newline");
	cwdis(D1, "a too long last line does not run");
	free(s);

	/* The same from a file: the reader, not only the text splitter. */
	s = tpath("toolong.ns");
	bufprint(&b, "cd %s\n", D1);
	for(i = 0; i < 200 * KiB; i++)
		bufputc(&b, 'x');
	bufprint(&b, "\n\ncd %s\n", D2);
	writefile(s, b.s, b.n);
	buffree(&b);
	r = run(s, NULL, NS_FNOSKIP);
	expectfails(r, 1, "a 200 KiB line in a file");
	expecterr(s, 2, "line too long", "a 200 KiB line in a file");
	cwdis(D2, "the lines after a 200 KiB line in a file run");
	free(s);

	/* 15 tokens and more: parsed, not skipped. */
	r = run("tokens", "bind a b c d e f g h i j k l m n\n", 0);
	expectfails(r, 1, "a bind of 15 tokens");
	expecterr("tokens", 1, "usage", "a bind of 15 tokens is a usage error");
	s = esmprint("\nbind -c -c -c -c -c -c -c -c -c -c -c -c -c %s/nonexistent %s\n", T, D1);
	r = run("tokens", s, 0);
	expectfails(r, 1, "a bind of 16 tokens");
	expecterr("tokens", 2, "file does not exist",
		      "a valid bind of 16 tokens runs (and fails on its missing source)");
	free(s);
	s = esmprint("cd %s a b c d e f g h i j k l m n o p\ncd %s\n", D1, D2);
	r = run("tokens", s, 0);
	expectfails(r, 1, "a cd of 18 tokens");
	expecterr("tokens", 1, "usage", "a cd of 18 tokens is a usage error");
	cwdis(D2, "the line after 18 tokens runs");
	free(s);
}

/* Errors of each kind, with the right file:line, and the count. */
static void
testerrors(void)
{
	char *s;
	int r;

	s = esmprint("# errors\ncd %s\nfrob x y\n\nbind -x a b\n"
		     "bind %s/nonexistent %s\nmount %s/nonexistent %s\nunmount %s\n"
		     "import tcp!127.0.0.1!1 %s\ncd %s/nonexistent\ncd %s\n",
		     D1, T, D1, T, D1, D2, D3, T, D3);
	r = run("errs.ns", s, 0);
	expectfails(r, 7, "seven failing lines among good ones");
	expecterr("errs.ns", 3, "frob: unknown command", "unknown command");
	expecterr("errs.ns", 5, "unknown flag -x", "unknown flag");
	expecterr("errs.ns", 6, "file does not exist", "bind of a missing source");
	expecterr("errs.ns", 7, NULL, "mount of a missing service");
	expecterr("errs.ns", 8, "not mounted", "unmount of a directory that is no mount");
	r = expecterr("errs.ns", 9, NULL, "import");
	if(r >= 0)
		ok(strstr(reps[r].msg, "unknown command") == NULL,
		   "import is reported as not available, not as unknown: %s", reps[r].msg);
	expecterr("errs.ns", 10, "file does not exist", "cd to a missing directory");
	cwdis(D3, "every good line ran");
	ok(findrep(NULL, 1, 0) < 0 && findrep(NULL, 2, 0) < 0 && findrep(NULL, 4, 0) < 0 &&
	       findrep(NULL, 11, 0) < 0,
	   "good, blank and comment lines are not reported");
	free(s);

	r = run("flags", "bind -ab a b\nmount -q a b\nunmount -a a\ncd -c x\n", 0);
	expectfails(r, 4, "bad flags on every verb");
	expecterr("flags", 1, "-a and -b together", "bind -ab");
	expecterr("flags", 2, "unknown flag -q", "mount -q");
	expecterr("flags", 3, "unknown flag -a", "unmount -a");
	expecterr("flags", 4, "unknown flag -c", "cd -c");

	r = run("usage", ". \n. a b\nbind a\nmount a\nunmount\ncd\n''\n", 0);
	expectfails(r, 7, "wrong operand counts");
	ok(findrep("usage", 1, 0) >= 0 && findrep("usage", 2, 0) >= 0,
	   "'.' without a file and with two are reported");
	expecterr("usage", 7, NULL, "an empty command word");
}

/* Includes. */
static void
testincludes(void)
{
	char *s, *inc, *inc2, *self, *a, *b, *p, name[32];
	int i, r, n;

	inc = tpath("inc.ns");
	s = esmprint("cd %s\n\nfrob\n", D2);
	writestr(inc, s);
	free(s);

	s = esmprint("cd %s\n. %s\ncd ../d3\n", D1, inc);
	r = run("top", s, 0);
	expectfails(r, 1, "an absolute include");
	expecterr(inc, 3, "frob: unknown command", "an error in an include names its file and line");
	cwdis(D3, "the include ran (and the cd after it is relative to the include's cd)");
	free(s);

	inc2 = tpath("d1/inc2.ns");
	s = esmprint("cd ../d3\nfrob\n");
	writestr(inc2, s);
	free(s);
	s = esmprint("cd %s\n. inc2.ns\n", D1);
	r = run("top", s, 0);
	expectfails(r, 1, "a relative include");
	i = findrep(NULL, 2, 0);
	if(!ok(i >= 0 && endswith(reps[i].file, "inc2.ns"),
	       "an error in a relative include names its file"))
		showreps();
	cwdis(D3, "a relative include is found from the cwd the file set");
	free(s);

	setenv("NS9T_T", T, 1);
	r = run("top", ". $NS9T_T/inc.ns\n", 0);
	expectfails(r, 1, "an include named with $var");
	cwdis(D2, "an include named with $var runs");
	unsetenv("NS9T_T");

	s = esmprint(". %s/nonexistent.ns\n. %s/nodir/x.ns\n. nonexistent-relative.ns\ncd %s\n", T,
		     T, D1);
	r = run("top", s, 0);
	expectfails(r, 0, "missing includes");
	ok(nreps == 0, "missing includes are skipped silently");
	cwdis(D1, "the lines after missing includes run");
	r = run("top", s, NS_FNOSKIP);
	expectfails(r, 0, "missing includes with NS_FNOSKIP (only for the top file)");
	cwdis(D1, "missing includes with NS_FNOSKIP are skipped too");
	free(s);

	/* A file that includes itself terminates, with one error. */
	self = tpath("self.ns");
	s = esmprint("cd %s\n. %s\ncd %s\n", D1, self, D2);
	writestr(self, s);
	free(s);
	r = run(self, NULL, NS_FNOSKIP);
	expectfails(r, 1, "a file that includes itself");
	expecterr(self, 2, NULL, "the include too deep is reported on the including line");
	cwdis(D2, "the lines after the deepest include run");
	r = run(self, NULL, NS_FNOSKIP | NS_FVERBOSE);
	n = 0;
	for(i = 0; i < nreps; i++)
		n += reps[i].verbose && reps[i].line == 1 && strcmp(reps[i].file, self) == 0;
	is_int(n, 17, "a self-including file runs 17 times: the top and 16 nested");
	n = 0;
	for(i = 0; i < nreps; i++)
		n += reps[i].verbose && reps[i].line == 3 && strcmp(reps[i].file, self) == 0;
	is_int(n, 17, "and the line after its include, 17 times");
	is_int(nerrs(), 1, "one error for a self-including file under -v");

	/* Two files that include each other. */
	a = tpath("a.ns");
	b = tpath("b.ns");
	s = esmprint(". %s\n", b);
	writestr(a, s);
	free(s);
	s = esmprint("\n. %s\ncd %s\n", a, D3);
	writestr(b, s);
	free(s);
	s = esmprint("cd %s\n. %s\n", D1, a);
	r = run("top", s, 0);
	expectfails(r, 1, "two files that include each other");
	ok(nerrs() == 1 && (findrep(a, 1, 0) >= 0 || findrep(b, 2, 0) >= 0),
	   "the loop is reported on an including line");
	cwdis(D3, "the lines after a loop run");
	free(s);

	/* A chain: c1 includes c2 ... c16 includes c17, which cds to deep. */
	for(i = 1; i <= 17; i++){
		snprintf(name, sizeof name, "c%d.ns", i);
		p = tpath(name);
		if(i < 17)
			s = esmprint("# chain %d\n. %s/c%d.ns\n", i, T, i + 1);
		else
			s = esmprint("cd %s\n", DEEP);
		writestr(p, s);
		free(s);
		free(p);
	}
	s = esmprint("cd %s\n. %s/c2.ns\n", D1, T);
	r = run("top", s, 0);
	expectfails(r, 0, "includes nested 16 deep");
	cwdis(DEEP, "includes nested 16 deep run");
	free(s);
	s = esmprint("cd %s\n. %s/c1.ns\n", D1, T);
	r = run("top", s, 0);
	expectfails(r, 1, "includes nested 17 deep");
	p = tpath("c16.ns");
	expecterr(p, 2, NULL, "the 17th include is reported on c16's including line");
	free(p);
	cwdis(D1, "the include 17 deep does not run");
	free(s);

	free(inc);
	free(inc2);
	free(self);
	free(a);
	free(b);
}

/* The return value, the top file, text instead of the file. */
static void
testtop(void)
{
	Buf b = {0};
	char *p, *s, *q;
	int r;

	p = tpath("nonexistent.ns");
	r = run(p, NULL, NS_FNOSKIP);
	is_int(r, -1, "a missing top file with NS_FNOSKIP returns -1");
	ok(strstr(errtext(), "does not exist") != NULL, "with its error: %s", errtext());
	r = run(p, NULL, 0);
	is_int(r, 0, "a missing top file without NS_FNOSKIP is skipped");
	ok(nreps == 0, "and not reported");

	q = tpath("dirfile");
	r = run(q, NULL, NS_FNOSKIP);
	is_int(r, -1, "a directory as the top file returns -1");
	ok(errtext()[0] != 0, "with an error: %s", errtext());
	free(q);

	s = esmprint("cd %s\nfrob\n", D1);
	r = run(p, s, NS_FNOSKIP);
	expectfails(r, 1, "text for a missing path");
	expecterr(p, 2, "frob", "reports name the path given with text");
	cwdis(D1, "the text ran, not the (missing) file");
	free(s);

	q = tpath("real.ns");
	s = esmprint("cd %s\n", D2);
	writestr(q, s);
	free(s);
	s = esmprint("cd %s\n", D1);
	r = run(q, s, NS_FNOSKIP);
	expectfails(r, 0, "text for an existing path");
	cwdis(D1, "the text ran, not the file");
	free(s);
	r = run(q, NULL, NS_FNOSKIP);
	expectfails(r, 0, "the file itself");
	cwdis(D2, "without text the file is read");
	free(q);

	/* A NUL byte in a line does not end the file. */
	q = tpath("nul.ns");
	bufprint(&b, "cd %s\nfr", D1);
	bufputn(&b, "\0", 1);
	bufprint(&b, "ob\ncd %s\n", D2);
	if(b.n != strlen(D1) + strlen(D2) + 14)
		diag("the NUL file is %zu bytes", b.n);
	writefile(q, b.s, b.n);
	buffree(&b);
	r = run(q, NULL, NS_FNOSKIP);
	ok(r >= 0 && r == nerrs(), "a NUL in a line: returns the failing lines (%d)", r);
	cwdis(D2, "a NUL in a line: the next line runs");
	free(q);

	/* The count of failing lines. */
	s = esmprint("frob\ncd %s\nfrob\nfrob\ncd %s\nfrob\n", D1, D2);
	r = run("count", s, 0);
	expectfails(r, 4, "four failing lines");
	cwdis(D2, "among them, good lines run");
	free(s);
	free(p);

	ok(repbadarg == 0, "every report receives the arg given (%d wrong)", repbadarg);
	ok(lostreps == 0, "no report lost");
}

/* -v: each line, expanded, before it runs. */
static void
testverbose(void)
{
	char *s, *inc, *want;
	int r, i, e;

	setenv("NS9T_D1", D1, 1);
	s = esmprint("cd $NS9T_D1\n# comment\n\nfrob\nbind %s/nonexistent %s\n", T, D1);
	r = run("verbose", s, NS_FVERBOSE);
	expectfails(r, 2, "-v: two failing lines");
	want = esmprint("cd %s", D1);
	i = findrep("verbose", 1, 1);
	ok(i >= 0 && strcmp(reps[i].msg, want) == 0, "-v: line 1 reported expanded");
	if(i < 0 || strcmp(reps[i].msg, want) != 0){
		tapshow("want", want);
		showreps();
	}
	free(want);
	i = findrep("verbose", 5, 1);
	e = findrep("verbose", 5, 0);
	ok(i >= 0 && e >= 0 && i < e, "-v: a failing bind is echoed before its error");
	if(i >= 0)
		ok(strstr(reps[i].msg, "bind") != NULL && strstr(reps[i].msg, "nonexistent") != NULL,
		   "-v: the bind line's echo holds the command: %s", reps[i].msg);
	ok(findrep("verbose", 1, 1) < findrep("verbose", 5, 1), "-v: echoes in line order");
	i = findrep("verbose", 4, 1);
	e = findrep("verbose", 4, 0);
	ok(i < e, "-v: an unknown command is not echoed after its error");
	cwdis(D1, "-v: the lines ran");
	free(s);

	r = run("verbose", "cd $NS9T_D1\n", 0);
	expectfails(r, 0, "without -v");
	is_int(nverbose(), 0, "without -v nothing is echoed");

	s = esmprint("%s/sp ace", T);
	setenv("NS9T_SP", s, 1);
	free(s);
	r = run("verbose", "cd $NS9T_SP\n", NS_FVERBOSE);
	expectfails(r, 0, "-v of a value with a blank");
	i = findrep("verbose", 1, 1);
	ok(i >= 0 && strstr(reps[i].msg, "sp ace") != NULL && strstr(reps[i].msg, "$") == NULL,
	   "-v: the echo holds the expanded value");
	if(i < 0)
		showreps();
	unsetenv("NS9T_SP");

	inc = tpath("vinc.ns");
	s = esmprint("\ncd %s\n", D2);
	writestr(inc, s);
	free(s);
	s = esmprint(". %s\n", inc);
	r = run("verbose", s, NS_FVERBOSE);
	expectfails(r, 0, "-v with an include");
	want = esmprint("cd %s", D2);
	i = findrep(inc, 2, 1);
	ok(i >= 0 && strcmp(reps[i].msg, want) == 0, "-v: an included line is echoed with its file:line");
	if(i < 0)
		showreps();
	cwdis(D2, "-v: the include ran");
	free(want);
	free(s);
	free(inc);
	unsetenv("NS9T_D1");
}

/* Real binds and unmounts, in the private mount namespace. */
static void
testbinds(void)
{
	struct statfs sf;
	char *s, *src, *dst, *mk, *tdir;
	int r;

	src = tpath("src");
	dst = tpath("dst");
	mk = tpath("dst/marker");
	tdir = tpath("tdir");

	s = esmprint("bind %s %s\n", src, dst);
	r = run("binds", s, 0);
	expectfails(r, 0, "bind src dst");
	ok(access(mk, F_OK) == 0, "bind: the source's file shows at the target");
	free(s);
	s = esmprint("unmount %s\n", dst);
	r = run("binds", s, 0);
	expectfails(r, 0, "unmount dst");
	ok(access(mk, F_OK) < 0, "unmount: the file is gone from the target");
	free(s);

	s = esmprint("bind -c #T %s\n", tdir);
	r = run("binds", s, 0);
	expectfails(r, 0, "bind -c #T dir (unquoted #)");
	ok(statfs(tdir, &sf) == 0 && sf.f_type == TMPFS, "bind -c #T: the target is a tmpfs");
	free(s);
	s = esmprint("unmount %s\n", tdir);
	r = run("binds", s, 0);
	expectfails(r, 0, "unmount of the #T bind");
	ok(statfs(tdir, &sf) == 0 && sf.f_type != TMPFS, "unmount: the tmpfs is gone");
	free(s);

	/* After a failing line, a later bind still happens. */
	s = esmprint("bind %s/nonexistent %s\nbind %s %s\nunmount %s\n", T, dst, src, dst, dst);
	r = run("binds", s, 0);
	expectfails(r, 1, "a failing bind then bind and unmount");
	ok(access(mk, F_OK) < 0, "bind then unmount leaves the target as it was");
	free(s);

	free(src);
	free(dst);
	free(mk);
	free(tdir);
}

/* clear is for clean name spaces only (last: a wrong clear would empty ours). */
static void
testclear(void)
{
	char *s, *m;
	int r;

	s = esmprint("clear\ncd %s\n", D1);
	r = run("clear", s, 0);
	expectfails(r, 1, "clear without NS_FCLEAN");
	expecterr("clear", 1, NULL, "clear is refused without NS_FCLEAN");
	cwdis(D1, "the line after a refused clear runs");
	m = tpath("src/marker");
	ok(access(m, F_OK) == 0 && access("/proc/self/mountinfo", F_OK) == 0,
	   "a refused clear leaves the name space as it was");
	free(m);
	free(s);
}

int
main(void)
{
	testtokenizevars();
	testtokenizevarsbig();
	testnsvar();

	/* The runner acts on our name space: make it our own. */
	if(unshare(CLONE_NEWNS) == 0 && mount("none", "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0)
		privns = 1;
	else
		diag("no private mount namespace (%s): bind tests not run", strerror(errno));
	setup();
	testlines();
	testvars();
	testlong();
	testerrors();
	testincludes();
	testtop();
	testverbose();
	if(privns)
		testbinds();
	testclear();
	clearreps();
	cleanup();
	return done_testing();
}
