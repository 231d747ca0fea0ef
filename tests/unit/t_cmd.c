/*
 * t_cmd.c: the namespace command language: tokenizer, parser, formatter,
 * quoting and flag letters (lib/ns/cmd.c, lib/ns/quote.c).  Expected text
 * is what 9front's /proc/n/ns prints (devproc.c readns1, %q), plus ns9's
 * quoting of '$'.  Every valid command must survive parse -> format ->
 * parse unchanged.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ns9.h"
#include "tap.h"

enum { MAXTOK = 8 };


static int
streq(const char *a, const char *b)
{
	return a == NULL || b == NULL ? a == b : strcmp(a, b) == 0;
}

static void
showcmd(const char *label, const NsCmd *c)
{
	char fl[8];

	diag("%s: verb %d flag %#x (%s)", label, c->verb, c->flag, ns_flagstr(c->flag, fl));
	tapshow("  new", c->new);
	tapshow("  old", c->old);
	tapshow("  spec", c->spec);
}

/*
 * The round-trip property for a parsed command c: format it, parse the
 * text again, and get c back; formatting that gives the same text.  On
 * failure *whyp says which step broke.
 */
static int
roundtrip(const NsCmd *c, char **textp, const char **whyp)
{
	NsCmd d;
	char *t1, *t2;
	int r, good;

	t1 = ns_fmtcmd(c);
	*textp = t1;
	r = ns_parseline(&d, t1);
	if(r != 1){
		*whyp = r == 0 ? "reparse saw a blank or comment line" : errtext();
		return 0;
	}
	good = ns_cmdeq(c, &d);
	if(!good)
		*whyp = "reparsed command differs";
	t2 = ns_fmtcmd(&d);
	if(good && strcmp(t1, t2) != 0){
		*whyp = "second format differs";
		good = 0;
	}
	free(t2);
	ns_freecmd(&d);
	return good;
}

/* --- ns_flagstr --- */

static const struct {
	int flag;
	const char *want;
} flagtab[] = {
	{NS_MREPL, ""},
	{NS_MAFTER, "-a"},
	{NS_MBEFORE, "-b"},
	{NS_MCREATE, "-c"},
	{NS_MCACHE, "-C"},
	{NS_MAFTER | NS_MCREATE, "-ac"},
	{NS_MBEFORE | NS_MCREATE, "-bc"},
	{NS_MAFTER | NS_MCACHE, "-aC"},
	{NS_MCREATE | NS_MCACHE, "-cC"},
	{NS_MAFTER | NS_MCREATE | NS_MCACHE, "-acC"},
	{NS_MBEFORE | NS_MCREATE | NS_MCACHE, "-bcC"},
	{NS_MORDER, "-ab"},	/* never parsed, but int2flag prints it so */
	{NS_MMASK, "-abcC"},
};

static void
testflagstr(void)
{
	char buf[8], name[64];
	size_t i;

	for(i = 0; i < nelem(flagtab); i++){
		memset(buf, 'x', sizeof buf);
		snprintf(name, sizeof name, "flagstr %#x", flagtab[i].flag);
		ok(ns_flagstr(flagtab[i].flag, buf) == buf, "%s returns buf", name);
		is_str(buf, flagtab[i].want, name);
	}
}

/* --- quoting --- */

static const struct {
	const char *s;
	const char *want;	/* quoted form */
} quotetab[] = {
	{"abc", "abc"},
	{"/usr/glenda/bin", "/usr/glenda/bin"},
	{"", "''"},
	{"a b", "'a b'"},
	{" ", "' '"},
	{"a\tb", "'a\tb'"},
	{"a\nb", "'a\nb'"},
	{"a\rb", "'a\rb'"},
	{"it's", "'it''s'"},
	{"'", "''''"},
	{"''", "''''''"},
	{"a'b c'd", "'a''b c''d'"},
	{"#c", "#c"},
	{"#|", "#|"},
	{"#", "#"},
	{"$home", "'$home'"},	/* ns9: namespace files expand $var */
	{"a$", "'a$'"},
	{"/usr/glenda/λ", "/usr/glenda/λ"},
	{"λ λ", "'λ λ'"},
	{"\xff\xfe", "\xff\xfe"},	/* not UTF-8: bytes > 0x7f pass */
	{"a\\b", "a\\b"},
	{"a|b", "a|b"},
	{"!\"%&()*+,.:;<=>?@[]^`{}~", "!\"%&()*+,.:;<=>?@[]^`{}~"},
	{"-x", "-x"},	/* the formatter, not the quoter, handles '-' */
	{"a\x7f", "'a\x7f'"},
	{"\x01", "'\x01'"},
	{"\x1f", "'\x1f'"},
	{"\v\f", "'\v\f'"},
};

static void
testquote(void)
{
	char name[128], **tok;
	size_t i;
	Buf b = {0};
	char *s;
	int n, nq;

	for(i = 0; i < nelem(quotetab); i++){
		nq = strcmp(quotetab[i].s, quotetab[i].want) != 0;
		snprintf(name, sizeof name, "needquote case %zu is %d", i, nq);
		is_int(ns_needquote(quotetab[i].s) != 0, nq, name);

		bufputs(&b, "x=");
		ns_quote(&b, quotetab[i].s);
		s = bufdetach(&b);
		snprintf(name, sizeof name, "quote case %zu appends", i);
		ok(strncmp(s, "x=", 2) == 0, "%s", name);
		snprintf(name, sizeof name, "quote case %zu", i);
		is_str(s + 2, quotetab[i].want, name);

		/* And the tokenizer undoes it: one token, the original string. */
		n = ns_tokenize(s + 2, &tok);
		snprintf(name, sizeof name, "quote case %zu tokenizes back", i);
		if(!ok(n == 1 && strcmp(tok[0], quotetab[i].s) == 0 && tok[1] == NULL, "%s", name))
			diag("%d tokens", n);
		if(n >= 0)
			free(tok);
		free(s);
	}
}

/* --- ns_tokenize --- */

static const struct {
	const char *s;
	int n;	/* -1: unmatched quote */
	const char *tok[MAXTOK];
} toktab[] = {
	{"", 0, {NULL}},
	{"   ", 0, {NULL}},
	{" \t\r\n ", 0, {NULL}},
	{"a", 1, {"a"}},
	{"bind a b", 3, {"bind", "a", "b"}},
	{"  lead", 1, {"lead"}},
	{"trail  ", 1, {"trail"}},
	{"\t a \t b \t", 2, {"a", "b"}},
	{"a\tb\rc\nd", 4, {"a", "b", "c", "d"}},
	{"bind a b\r\n", 3, {"bind", "a", "b"}},
	{"a'b c'd", 1, {"ab cd"}},
	{"'a b'c d", 2, {"a bc", "d"}},
	{"x'y'", 1, {"xy"}},
	{"'x'y", 1, {"xy"}},
	{"'it''s'", 1, {"it's"}},
	{"'a''b' c", 2, {"a'b", "c"}},
	{"''", 1, {""}},
	{"'' ''", 2, {"", ""}},
	{"a ''", 2, {"a", ""}},
	{"a''b", 1, {"ab"}},
	{"''''", 1, {"'"}},
	{"''''''", 1, {"''"}},
	{"'a\tb\nc'", 1, {"a\tb\nc"}},
	{"'#c' #d", 2, {"#c", "#d"}},
	{"$x '$y'", 2, {"$x", "$y"}},
	{"a\x01" "b \x7f", 2, {"a\x01" "b", "\x7f"}},
	{"\v", 1, {"\v"}},	/* only space, tab, CR and newline separate */
	{"λ 'λ λ'", 2, {"λ", "λ λ"}},
	{"a b c d e f g", 7, {"a", "b", "c", "d", "e", "f", "g"}},
	{"'", -1, {NULL}},
	{"a'b", -1, {NULL}},
	{"'a''", -1, {NULL}},
	{"'''", -1, {NULL}},
	{"bind 'a b", -1, {NULL}},
	{"bind a b '", -1, {NULL}},
};

static void
testtokenize(void)
{
	char name[128], **tok;
	size_t i;
	int n, j, same;

	for(i = 0; i < nelem(toktab); i++){
		tok = (char **)&tok;	/* must be overwritten */
		clearerr9();
		n = ns_tokenize(toktab[i].s, &tok);
		snprintf(name, sizeof name, "tokenize case %zu: count", i);
		if(!is_int(n, toktab[i].n, name))
			tapshow("input", toktab[i].s);
		if(toktab[i].n < 0){
			snprintf(name, sizeof name, "tokenize case %zu: error", i);
			is_str(errtext(), "unmatched quote", name);
			ok(tok == NULL && errcode() == EINVAL,
			   "tokenize case %zu: NULL vector, EINVAL", i);
			if(n >= 0)
				free(tok);
			continue;
		}
		if(n < 0)
			continue;
		same = tok[n] == NULL;
		for(j = 0; j < n && j < toktab[i].n && same; j++)
			if(strcmp(tok[j], toktab[i].tok[j]) != 0){
				tapshow("got", tok[j]);
				tapshow("want", toktab[i].tok[j]);
				same = 0;
			}
		ok(same, "tokenize case %zu: tokens", i);
		free(tok);
	}
}

/* Many tokens: the single allocation's size bound is tight here. */
static void
testtokenizebig(void)
{
	Buf b = {0};
	char *s, **tok;
	int i, n, good;

	for(i = 0; i < 1000; i++)
		bufputs(&b, "x ");
	s = bufdetach(&b);
	n = ns_tokenize(s, &tok);
	good = n == 1000 && tok[1000] == NULL;
	for(i = 0; good && i < n; i++)
		good = strcmp(tok[i], "x") == 0;
	ok(good, "tokenize 1000 one-byte tokens");
	free(tok);
	free(s);

	for(i = 0; i < 1000; i++)
		bufputs(&b, i ? " ''" : "''");
	s = bufdetach(&b);
	n = ns_tokenize(s, &tok);
	good = n == 1000 && tok[1000] == NULL;
	for(i = 0; good && i < n; i++)
		good = tok[i][0] == 0;
	ok(good, "tokenize 1000 empty tokens");
	free(tok);
	free(s);
}

/* --- valid commands through ns_parseline --- */

static const struct {
	const char *line;
	NsVerb verb;
	int flag;
	const char *new, *old, *spec;
	const char *fmt;	/* as 9front prints it */
} goodtab[] = {
	{"bind new old", NS_BIND, 0, "new", "old", NULL, "bind  new old"},
	{"bind -a new old", NS_BIND, NS_MAFTER, "new", "old", NULL, "bind -a new old"},
	{"bind -b new old", NS_BIND, NS_MBEFORE, "new", "old", NULL, "bind -b new old"},
	{"bind -c new old", NS_BIND, NS_MCREATE, "new", "old", NULL, "bind -c new old"},
	{"bind -C new old", NS_BIND, NS_MCACHE, "new", "old", NULL, "bind -C new old"},
	{"bind -ac new old", NS_BIND, NS_MAFTER | NS_MCREATE, "new", "old", NULL,
	 "bind -ac new old"},
	{"bind -bc new old", NS_BIND, NS_MBEFORE | NS_MCREATE, "new", "old", NULL,
	 "bind -bc new old"},
	{"bind -bcC new old", NS_BIND, NS_MBEFORE | NS_MCREATE | NS_MCACHE, "new", "old", NULL,
	 "bind -bcC new old"},
	{"bind -Ccb new old", NS_BIND, NS_MBEFORE | NS_MCREATE | NS_MCACHE, "new", "old", NULL,
	 "bind -bcC new old"},
	{"bind -a -c new old", NS_BIND, NS_MAFTER | NS_MCREATE, "new", "old", NULL,
	 "bind -ac new old"},
	{"bind -c -C -a new old", NS_BIND, NS_MAFTER | NS_MCREATE | NS_MCACHE, "new", "old", NULL,
	 "bind -acC new old"},
	{"bind -aa new old", NS_BIND, NS_MAFTER, "new", "old", NULL, "bind -a new old"},
	{"bind #c /dev", NS_BIND, 0, "#c", "/dev", NULL, "bind  #c /dev"},
	{"bind -a #| /n/pipe", NS_BIND, NS_MAFTER, "#|", "/n/pipe", NULL,
	 "bind -a #| /n/pipe"},
	{"bind -b '/usr/glenda/my bin' /bin", NS_BIND, NS_MBEFORE, "/usr/glenda/my bin", "/bin",
	 NULL, "bind -b '/usr/glenda/my bin' /bin"},
	{"bind -- a b", NS_BIND, 0, "a", "b", NULL, "bind  a b"},
	{"bind -- -x old", NS_BIND, 0, "-x", "old", NULL, "bind  -- -x old"},
	{"bind -a -- -x old", NS_BIND, NS_MAFTER, "-x", "old", NULL, "bind -a -- -x old"},
	{"bind -c -- -- old", NS_BIND, NS_MCREATE, "--", "old", NULL, "bind -c -- -- old"},
	{"bind - old", NS_BIND, 0, "-", "old", NULL, "bind  -- - old"},
	{"bind a -b", NS_BIND, 0, "a", "-b", NULL, "bind  a -b"},
	{"bind '' old", NS_BIND, 0, "", "old", NULL, "bind  '' old"},
	{"bind 'it''s' old", NS_BIND, 0, "it's", "old", NULL, "bind  'it''s' old"},
	{"bind a'b c'd x", NS_BIND, 0, "ab cd", "x", NULL, "bind  'ab cd' x"},
	{"bind $home/bin /bin", NS_BIND, 0, "$home/bin", "/bin", NULL,
	 "bind  '$home/bin' /bin"},
	{"bind /usr/glenda/λ /n/λ", NS_BIND, 0, "/usr/glenda/λ", "/n/λ", NULL,
	 "bind  /usr/glenda/λ /n/λ"},
	{"bind a\\b a|b", NS_BIND, 0, "a\\b", "a|b", NULL, "bind  a\\b a|b"},
	{"bind 'a\tb' 'c\nd'", NS_BIND, 0, "a\tb", "c\nd", NULL, "bind  'a\tb' 'c\nd'"},
	{"bind a\x7f" "b x", NS_BIND, 0, "a\x7f" "b", "x", NULL, "bind  'a\x7f" "b' x"},
	{"  \tbind   a\t\tb  \r\n", NS_BIND, 0, "a", "b", NULL, "bind  a b"},
	{"'bind' 'a' 'b'", NS_BIND, 0, "a", "b", NULL, "bind  a b"},
	{"mount /srv/boot /root", NS_MOUNT, 0, "/srv/boot", "/root", NULL,
	 "mount  /srv/boot /root"},
	{"mount -C /srv/boot /root", NS_MOUNT, NS_MCACHE, "/srv/boot", "/root", NULL,
	 "mount -C /srv/boot /root"},
	{"mount /srv/boot /n/other other", NS_MOUNT, 0, "/srv/boot", "/n/other", "other",
	 "mount  /srv/boot /n/other other"},
	{"mount -aC /srv/boot / ''", NS_MOUNT, NS_MAFTER | NS_MCACHE, "/srv/boot", "/", NULL,
	 "mount -aC /srv/boot /"},
	{"mount /srv/boot /n/x ''", NS_MOUNT, 0, "/srv/boot", "/n/x", NULL,
	 "mount  /srv/boot /n/x"},
	{"mount -b -c /srv/x /n/x 'a b'", NS_MOUNT, NS_MBEFORE | NS_MCREATE, "/srv/x", "/n/x",
	 "a b", "mount -bc /srv/x /n/x 'a b'"},
	{"mount /srv/x /n/x ''''", NS_MOUNT, 0, "/srv/x", "/n/x", "'",
	 "mount  /srv/x /n/x ''''"},
	{"mount /srv/x /n/x -spec", NS_MOUNT, 0, "/srv/x", "/n/x", "-spec",
	 "mount  /srv/x /n/x -spec"},
	{"mount -- -srv /n/x", NS_MOUNT, 0, "-srv", "/n/x", NULL, "mount  -- -srv /n/x"},
	{"mount /net/tcp/3/data /n/x $spec", NS_MOUNT, 0, "/net/tcp/3/data", "/n/x", "$spec",
	 "mount  /net/tcp/3/data /n/x '$spec'"},
	{"unmount old", NS_UNMOUNT, 0, NULL, "old", NULL, "unmount old"},
	{"unmount new old", NS_UNMOUNT, 0, "new", "old", NULL, "unmount new old"},
	{"unmount -- -x", NS_UNMOUNT, 0, NULL, "-x", NULL, "unmount -- -x"},
	{"unmount -- -x old", NS_UNMOUNT, 0, "-x", "old", NULL, "unmount -- -x old"},
	{"unmount x -y", NS_UNMOUNT, 0, "x", "-y", NULL, "unmount x -y"},
	{"unmount '' '/n/a b'", NS_UNMOUNT, 0, "", "/n/a b", NULL, "unmount '' '/n/a b'"},
	{"cd dir", NS_CD, 0, NULL, "dir", NULL, "cd dir"},
	{"cd /usr/glenda", NS_CD, 0, NULL, "/usr/glenda", NULL, "cd /usr/glenda"},
	{"cd '/a b'", NS_CD, 0, NULL, "/a b", NULL, "cd '/a b'"},
	{"cd -- -x", NS_CD, 0, NULL, "-x", NULL, "cd -- -x"},
	{"cd -", NS_CD, 0, NULL, "-", NULL, "cd -- -"},
	{"cd #c", NS_CD, 0, NULL, "#c", NULL, "cd #c"},
};

static void
testgood(void)
{
	NsCmd c, want;
	const char *why;
	char *text;
	size_t i;
	int r;

	for(i = 0; i < nelem(goodtab); i++){
		want.verb = goodtab[i].verb;
		want.flag = goodtab[i].flag;
		want.new = (char *)goodtab[i].new;
		want.old = (char *)goodtab[i].old;
		want.spec = (char *)goodtab[i].spec;
		r = ns_parseline(&c, goodtab[i].line);
		if(!ok(r == 1 && ns_cmdeq(&c, &want), "parse %s", goodtab[i].fmt)){
			tapshow("line", goodtab[i].line);
			diag("returned %d: %s", r, r < 0 ? errtext() : "");
			showcmd("got", &c);
			showcmd("want", &want);
			ns_freecmd(&c);
			continue;
		}
		text = ns_fmtcmd(&c);
		is_str(text, goodtab[i].fmt, "format");
		free(text);
		if(!ok(roundtrip(&c, &text, &why), "round trip %s", goodtab[i].fmt)){
			diag("%s", why);
			tapshow("text", text);
		}
		free(text);
		ns_freecmd(&c);
	}
}

/* --- ns_parse on argv: operands need no quoting there --- */

static const struct {
	int argc;
	const char *argv[MAXTOK];
	NsVerb verb;
	int flag;
	const char *new, *old, *spec;
} argvtab[] = {
	{3, {"bind", "a b", "c d"}, NS_BIND, 0, "a b", "c d", NULL},
	{4, {"bind", "-bc", "'", "$x"}, NS_BIND, NS_MBEFORE | NS_MCREATE, "'", "$x", NULL},
	{5, {"bind", "-a", "--", "-", "/x"}, NS_BIND, NS_MAFTER, "-", "/x", NULL},
	{3, {"bind", "", ""}, NS_BIND, 0, "", "", NULL},
	{4, {"mount", "/srv/boot", "/n/x", ""}, NS_MOUNT, 0, "/srv/boot", "/n/x", NULL},
	{4, {"mount", "/srv/boot", "/n/x", " "}, NS_MOUNT, 0, "/srv/boot", "/n/x", " "},
	{6, {"mount", "-a", "-C", "/srv/boot", "/", "main/active"}, NS_MOUNT,
	 NS_MAFTER | NS_MCACHE, "/srv/boot", "/", "main/active"},
	{2, {"unmount", "/n/x"}, NS_UNMOUNT, 0, NULL, "/n/x", NULL},
	{3, {"unmount", "#c", "/dev"}, NS_UNMOUNT, 0, "#c", "/dev", NULL},
	{2, {"cd", "a\nb"}, NS_CD, 0, NULL, "a\nb", NULL},
};

static void
testargv(void)
{
	char *argv[MAXTOK + 1], *text;
	const char *why;
	NsCmd c, want;
	size_t i;
	int j, r;

	for(i = 0; i < nelem(argvtab); i++){
		for(j = 0; j < argvtab[i].argc; j++)
			argv[j] = (char *)argvtab[i].argv[j];
		argv[j] = NULL;
		want.verb = argvtab[i].verb;
		want.flag = argvtab[i].flag;
		want.new = (char *)argvtab[i].new;
		want.old = (char *)argvtab[i].old;
		want.spec = (char *)argvtab[i].spec;
		r = ns_parse(&c, argvtab[i].argc, argv);
		if(!ok(r == 0 && ns_cmdeq(&c, &want), "ns_parse argv case %zu", i)){
			diag("returned %d: %s", r, r < 0 ? errtext() : "");
			showcmd("got", &c);
			showcmd("want", &want);
			ns_freecmd(&c);
			continue;
		}
		/* The NsCmd owns copies, not the argv strings. */
		ok((c.new == NULL || c.new != argv[argvtab[i].argc - 2]) &&
		       c.old != argv[argvtab[i].argc - 1] && c.old != argv[argvtab[i].argc - 2],
		   "ns_parse argv case %zu copies its strings", i);
		if(!ok(roundtrip(&c, &text, &why), "round trip argv case %zu", i)){
			diag("%s", why);
			tapshow("text", text);
		}
		free(text);
		ns_freecmd(&c);
		ok(c.new == NULL && c.old == NULL && c.spec == NULL && c.verb == 0,
		   "ns_freecmd clears argv case %zu", i);
	}
}

/* --- formatting NsCmds built by hand --- */

static const struct {
	NsCmd c;
	const char *want;
} fmttab[] = {
	{{NS_BIND, NS_MREPL, "#c", "/dev", NULL}, "bind  #c /dev"},
	{{NS_BIND, NS_MBEFORE, "/usr/glenda/my bin", "/bin", NULL},
	 "bind -b '/usr/glenda/my bin' /bin"},
	{{NS_BIND, NS_MAFTER | NS_MCREATE, "/a", "/b", "ignored"}, "bind -ac /a /b"},
	{{NS_MOUNT, NS_MREPL, "/srv/boot", "/n/other", "other"}, "mount  /srv/boot /n/other other"},
	{{NS_MOUNT, NS_MREPL, "/srv/boot", "/n/x", ""}, "mount  /srv/boot /n/x"},
	{{NS_MOUNT, NS_MCACHE, "/srv/boot", "/root", NULL}, "mount -C /srv/boot /root"},
	{{NS_MOUNT, NS_MAFTER, "/srv/boot", "/", NULL}, "mount -a /srv/boot /"},
	{{NS_MOUNT, NS_MBEFORE, "-s", "/n/x", "-t"}, "mount -b -- -s /n/x -t"},
	{{NS_UNMOUNT, 0, NULL, "old", NULL}, "unmount old"},
	{{NS_UNMOUNT, 0, "new", "old", NULL}, "unmount new old"},
	{{NS_UNMOUNT, 0, NULL, "", NULL}, "unmount ''"},
	{{NS_CD, 0, NULL, "dir", NULL}, "cd dir"},
	{{NS_CD, 0, NULL, "it's", NULL}, "cd 'it''s'"},
};

static void
testfmt(void)
{
	char *s;
	size_t i;

	for(i = 0; i < nelem(fmttab); i++){
		s = ns_fmtcmd(&fmttab[i].c);
		is_str(s, fmttab[i].want, "format by hand");
		free(s);
	}
}

/* --- errors --- */

static const struct {
	const char *line;
	const char *err;
} badtab[] = {
	{"frob x y", "frob: unknown command"},
	{"Bind a b", "Bind: unknown command"},
	{"'' a b", ": unknown command"},
	{"bind -x a b", "bind: unknown flag -x; usage: bind [-abcC] new old"},
	{"bind -aX a b", "bind: unknown flag -X; usage: bind [-abcC] new old"},
	{"bind -a- a b", "bind: unknown flag --; usage: bind [-abcC] new old"},
	{"bind -q a b", "bind: unknown flag -q; usage: bind [-abcC] new old"},
	/* Quotes do not make an operand: rc removes them before ARGBEGIN. */
	{"bind '-x' old", "bind: unknown flag -x; usage: bind [-abcC] new old"},
	{"mount -n /srv/x /n/x", "mount: unknown flag -n; usage: mount [-abcC] srvname old [spec]"},
	{"bind -ab a b", "bind: -a and -b together"},
	{"bind -a -b a b", "bind: -a and -b together"},
	{"bind -b -ca a b", "bind: -a and -b together"},
	{"mount -ba /srv/x /n/x", "mount: -a and -b together"},
	{"bind", "bind: usage: bind [-abcC] new old"},
	{"bind a", "bind: usage: bind [-abcC] new old"},
	{"bind -a a", "bind: usage: bind [-abcC] new old"},
	{"bind a b c", "bind: usage: bind [-abcC] new old"},
	{"bind -- a", "bind: usage: bind [-abcC] new old"},
	{"bind -a", "bind: usage: bind [-abcC] new old"},
	{"mount", "mount: usage: mount [-abcC] srvname old [spec]"},
	{"mount /srv/x", "mount: usage: mount [-abcC] srvname old [spec]"},
	{"mount /srv/x /n/x spec more", "mount: usage: mount [-abcC] srvname old [spec]"},
	{"mount -C /srv/x", "mount: usage: mount [-abcC] srvname old [spec]"},
	{"unmount", "unmount: usage: unmount [new] old"},
	{"unmount a b c", "unmount: usage: unmount [new] old"},
	{"unmount --", "unmount: usage: unmount [new] old"},
	{"cd", "cd: usage: cd dir"},
	{"cd a b", "cd: usage: cd dir"},
	{"unmount -a x", "unmount: unknown flag -a; usage: unmount [new] old"},
	{"unmount -b new old", "unmount: unknown flag -b; usage: unmount [new] old"},
	{"unmount -C x", "unmount: unknown flag -C; usage: unmount [new] old"},
	{"cd -c dir", "cd: unknown flag -c; usage: cd dir"},
	{"cd -a dir", "cd: unknown flag -a; usage: cd dir"},
	{"bind 'a b", "unmatched quote"},
	{"bind a 'b''", "unmatched quote"},
	{"'", "unmatched quote"},
	{"cd 'x", "unmatched quote"},
};

static void
testbad(void)
{
	NsCmd c;
	size_t i;
	int r;

	for(i = 0; i < nelem(badtab); i++){
		clearerr9();
		r = ns_parseline(&c, badtab[i].line);
		if(!is_int(r, -1, badtab[i].line)){
			if(r == 1)
				ns_freecmd(&c);
			continue;
		}
		is_str(errtext(), badtab[i].err, badtab[i].line);
		is_int(errcode(), EINVAL, "errcode EINVAL");
	}

	clearerr9();
	r = ns_parse(&c, 0, (char *[]){NULL});
	is_int(r, -1, "ns_parse argc 0 fails");
	is_str(errtext(), "empty command", "argc 0 error text");
}

/* --- blank and comment lines --- */

static const char *const blanktab[] = {
	"",
	" ",
	"\t \r\n",
	"\n",
	"#",
	"# comment",
	"#bind a b",
	"   # bind a b",
	"\t#x",
	"\r\n# 'unmatched",
};

static void
testblank(void)
{
	NsCmd c;
	size_t i;
	char name[64];
	int r;

	for(i = 0; i < nelem(blanktab); i++){
		memset(&c, 0xff, sizeof c);
		r = ns_parseline(&c, blanktab[i]);
		snprintf(name, sizeof name, "blank/comment line %zu", i);
		if(!is_int(r, 0, name))
			tapshow("line", blanktab[i]);
		ok(c.verb == 0 && c.new == NULL && c.old == NULL && c.spec == NULL,
		   "blank/comment line %zu leaves an empty NsCmd", i);
		if(r == 1)
			ns_freecmd(&c);
	}
}

/* --- generated round trips over tricky strings --- */

static const char *const tricky[] = {
	"plain", "/usr/glenda", "", " ", "a b", "a\tb", "a\nb", "a\rb", "it's", "'", "''",
	"'quoted'", "a'b c'd", "#c", "#", "#|", "$x", "a$b", "/usr/glenda/λ", "λ λ",
	"a\\b", "a|b", "\x7f", "x\x01y", "-x", "-", "--", "-a", "-bc", " lead", "trail ",
	"\xff",
};

static const int trickyflags[] = {
	NS_MREPL, NS_MAFTER, NS_MBEFORE | NS_MCREATE | NS_MCACHE,
};

/*
 * Build argv for verb, flags, operands (NULL ends), parse it, check the
 * fields hold the operands, and round-trip it.  Returns 1 on success;
 * otherwise reports the first few failures.
 */
static int
genone(const char *verb, int flag, const char *a, const char *b, const char *s, int *nbad)
{
	char *argv[8], fl[8], *text;
	const char *why, *wantspec;
	NsCmd c;
	int n, good;

	n = 0;
	argv[n++] = (char *)verb;
	if(ns_flagstr(flag, fl)[0] != 0)
		argv[n++] = fl;
	argv[n++] = "--";
	argv[n++] = (char *)a;
	if(b != NULL)
		argv[n++] = (char *)b;
	if(s != NULL)
		argv[n++] = (char *)s;
	argv[n] = NULL;
	text = NULL;
	why = "parse failed";
	good = ns_parse(&c, n, argv) == 0;
	if(good){
		wantspec = s != NULL && s[0] != 0 ? s : NULL;
		if(strcmp(verb, "unmount") == 0 || strcmp(verb, "cd") == 0)
			good = b == NULL ? streq(c.new, NULL) && streq(c.old, a)
					 : streq(c.new, a) && streq(c.old, b);
		else
			good = streq(c.new, a) && streq(c.old, b) && streq(c.spec, wantspec);
		good = good && c.flag == flag;
		why = "fields differ from argv";
		if(good)
			good = roundtrip(&c, &text, &why);
	}
	if(!good && (*nbad)++ < 3){
		diag("%s %s: %s", verb, fl, why);
		tapshow("a", a);
		tapshow("b", b);
		tapshow("spec", s);
		if(text != NULL)
			tapshow("text", text);
	}
	free(text);
	ns_freecmd(&c);
	return good;
}

static void
testgenerated(void)
{
	size_t i, j, k, f, nt, ncase;
	int nbad;

	nt = nelem(tricky);
	for(f = 0; f < nelem(trickyflags); f++){
		nbad = 0;
		ncase = 0;
		for(i = 0; i < nt; i++)
			for(j = 0; j < nt; j++, ncase++)
				genone("bind", trickyflags[f], tricky[i], tricky[j], NULL, &nbad);
		ok(nbad == 0, "round trip %zu generated bind %#x commands (%d bad)", ncase,
		   trickyflags[f], nbad);

		nbad = 0;
		ncase = 0;
		for(i = 0; i < nt; i++)
			for(j = 0; j < nt; j++){
				genone("mount", trickyflags[f], tricky[i], tricky[j], NULL, &nbad);
				ncase++;
				for(k = 0; k < nt; k += 3, ncase++)
					genone("mount", trickyflags[f], tricky[i], tricky[j],
					       tricky[(i + j + k) % nt], &nbad);
			}
		ok(nbad == 0, "round trip %zu generated mount %#x commands (%d bad)", ncase,
		   trickyflags[f], nbad);
	}

	nbad = 0;
	ncase = 0;
	for(i = 0; i < nt; i++){
		genone("unmount", 0, tricky[i], NULL, NULL, &nbad);
		genone("cd", 0, tricky[i], NULL, NULL, &nbad);
		ncase += 2;
		for(j = 0; j < nt; j++, ncase++)
			genone("unmount", 0, tricky[i], tricky[j], NULL, &nbad);
	}
	ok(nbad == 0, "round trip %zu generated unmount and cd commands (%d bad)", ncase, nbad);
}

/* Pseudo-random strings over the bytes that matter, fixed seed. */

static void
randstr(char *s, int max)
{
	static const char alpha[] = " \t\n\r'$#-a/\\|\x7f\x01\xce\xbb";
	int i, n;

	n = rnd() % max;
	for(i = 0; i < n; i++)
		s[i] = alpha[rnd() % (sizeof alpha - 1)];
	s[n] = 0;
}

static void
testrandom(void)
{
	char a[16], b[16], s[16], **tok;
	Buf buf = {0};
	char *q;
	int i, n, nbad, qbad;

	nbad = qbad = 0;
	for(i = 0; i < 20000; i++){
		randstr(a, sizeof a);
		randstr(b, sizeof b);
		randstr(s, sizeof s);
		ns_quote(&buf, a);
		q = bufdetach(&buf);
		n = ns_tokenize(q, &tok);
		if(n != 1 || strcmp(tok[0], a) != 0){
			if(qbad++ < 3){
				tapshow("string", a);
				tapshow("quoted", q);
			}
		}
		if(n >= 0)
			free(tok);
		free(q);
		genone("bind", rnd() % 2 ? NS_MAFTER : 0, a, b, NULL, &nbad);
		genone("mount", NS_MCACHE, a, b, s, &nbad);
		genone("unmount", 0, a, i % 2 ? b : NULL, NULL, &nbad);
	}
	ok(qbad == 0, "20000 random strings: quote then tokenize gives the string (%d bad)", qbad);
	ok(nbad == 0, "60000 random commands round-trip (%d bad)", nbad);
}

int
main(void)
{
	testflagstr();
	testquote();
	testtokenize();
	testtokenizebig();
	testgood();
	testargv();
	testfmt();
	testbad();
	testblank();
	testgenerated();
	testrandom();
	return done_testing();
}
