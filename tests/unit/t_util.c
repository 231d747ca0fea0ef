/*
 * t_util.c: lib/util: cleanname as Plan 9's cleanname(2), the per-thread
 * error record and its canonical strings (9front port/error.h), the
 * allocation helpers and Buf.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"
#include "tap.h"

/* --- cleanname --- */

static const struct {
	const char *in;
	const char *want;
} cleantab[] = {
	{"/a/b/../c", "/a/c"},
	{"a//b/./c/", "a/b/c"},
	{"/..", "/"},
	{"../x", "../x"},
	{"", "."},
	{".", "."},
	{"/", "/"},
	{"a/..", "."},
	{"//", "/"},
	{"///a///b///", "/a/b"},
	{"/./", "/"},
	{"./", "."},
	{"./a", "a"},
	{"a/./b", "a/b"},
	{"a/b/..", "a"},
	{"/a/..", "/"},
	{"/a/b/c/../../d", "/a/d"},
	{"a/b/../../..", ".."},
	{"..", ".."},
	{"../..", "../.."},
	{"./..", ".."},
	{"../../a", "../../a"},
	{"../a/..", ".."},
	{"a/../../b", "../b"},
	{"/../../a", "/a"},
	{"/a/../../b", "/b"},
	{".a", ".a"},
	{"..a", "..a"},
	{"a..", "a.."},
	{"a/..b/.c", "a/..b/.c"},
	{"...", "..."},
	{"/usr/glenda/λ/../bin", "/usr/glenda/bin"},
	{"#c", "#c"},
	{"#c/./cons", "#c/cons"},
	{"/#c", "/#c"},
	/* A "#" name the cleaning exposed must not turn into a device path. */
	{"./#c", "./#c"},
	{"a/../#c", "./#c"},
	{"./#c/../#d", "./#d"},
	{"#c/../x", "x"},
};

static void
testcleanname(void)
{
	char buf[64], name[128];
	size_t i;

	for(i = 0; i < nelem(cleantab); i++){
		/* Room past the input: cleanname("") writes ".". */
		memset(buf, 0, sizeof buf);
		strcpy(buf, cleantab[i].in);
		snprintf(name, sizeof name, "cleanname \"%s\"", cleantab[i].in);
		ok(cleanname(buf) == buf, "%s returns its argument", name);
		is_str(buf, cleantab[i].want, name);
		/* Clean names are fixed points. */
		cleanname(buf);
		snprintf(name, sizeof name, "cleanname twice \"%s\"", cleantab[i].in);
		is_str(buf, cleantab[i].want, name);
	}
}

/*
 * Random names over "a#./": cleaning never lengthens a name (but "" gives
 * "."), never writes past it, is idempotent, and never makes a name that
 * did not start with '#' start with one.
 */

static void
testcleanrandom(void)
{
	static const char alpha[] = "a#./";
	char in[32], buf[64], again[64];
	size_t n, j;
	int i, nlong, nover, nidem, nsharp;

	nlong = nover = nidem = nsharp = 0;
	for(i = 0; i < 100000; i++){
		n = rnd() % 16;
		for(j = 0; j < n; j++)
			in[j] = alpha[rnd() % 4];
		in[n] = 0;
		memset(buf, 0x55, sizeof buf);
		memcpy(buf, in, n + 1);
		cleanname(buf);
		if(strlen(buf) > (n > 0 ? n : 1) && nlong++ < 3)
			diag("longer: \"%s\" -> \"%s\"", in, buf);
		for(j = n > 0 ? n + 1 : 2; j < sizeof buf; j++)
			if((unsigned char)buf[j] != 0x55){
				if(nover++ < 3)
					diag("wrote past \"%s\"", in);
				break;
			}
		strcpy(again, buf);
		if(strcmp(cleanname(again), buf) != 0 && nidem++ < 3)
			diag("not idempotent: \"%s\" -> \"%s\" -> \"%s\"", in, buf, again);
		if(buf[0] == '#' && in[0] != '#' && nsharp++ < 3)
			diag("made a device name: \"%s\" -> \"%s\"", in, buf);
	}
	ok(nlong == 0, "100000 random names: none lengthened");
	ok(nover == 0, "100000 random names: no write past the name");
	ok(nidem == 0, "100000 random names: cleanname is idempotent");
	ok(nsharp == 0, "100000 random names: no '#' name exposed");
}

/* --- the canonical strings --- */

static const struct {
	P9err e;
	const char *s;	/* NULL: ns9's own wording, not checked */
	int code;
} p9tab[] = {
	{Enonexist, "file does not exist", ENOENT},
	{Eperm, "permission denied", EACCES},
	{Emount, "inconsistent mount", EINVAL},
	{Eunmount, "not mounted", EINVAL},
	{Eunion, "not in union", EINVAL},
	{Enocreate, "mounted directory forbids creation", EPERM},
	{Enoattach, "mount/attach disallowed", EPERM},
	{Ebadsharp, "unknown device in # filename", ENODEV},
	{Enotdir, "not a directory", ENOTDIR},
	{Eisdir, "is a directory", EISDIR},
	{Eexist, "file already exists", EEXIST},
	{Ebadarg, "bad arg in system call", EINVAL},
	{Eprocdied, "process exited", ESRCH},
	{Eshutdown, "device shut down", ENOTCONN},
	{Elocked, NULL, EPERM},
};

static void
testp9err(void)
{
	char name[64];
	size_t i;

	is_int(nelem(p9tab), Nerrs, "every P9err has a case");
	for(i = 0; i < nelem(p9tab); i++){
		snprintf(name, sizeof name, "p9errcode %zu", i);
		is_int(p9errcode(p9tab[i].e), p9tab[i].code, name);
		snprintf(name, sizeof name, "p9errstr %zu", i);
		if(p9tab[i].s != NULL)
			is_str(p9errstr(p9tab[i].e), p9tab[i].s, name);
		else
			ok(p9errstr(p9tab[i].e) != NULL && p9errstr(p9tab[i].e)[0] != 0,
			   "%s is not empty", name);
	}
}

static const struct {
	int code;
	const char *want;	/* NULL: strerror */
} errnotab[] = {
	{ENOENT, "file does not exist"},
	{EACCES, "permission denied"},
	{EPERM, "permission denied"},
	{ENOTDIR, "not a directory"},
	{EISDIR, "is a directory"},
	{EEXIST, "file already exists"},
	{ESRCH, "process exited"},
	{ENOTCONN, "device shut down"},
	{EINVAL, NULL},
	{EBUSY, NULL},
};

static void
testerrnostr(void)
{
	char name[64];
	size_t i;

	for(i = 0; i < nelem(errnotab); i++){
		snprintf(name, sizeof name, "errnostr %d", errnotab[i].code);
		is_str(errnostr(errnotab[i].code),
		       errnotab[i].want != NULL ? errnotab[i].want : strerror(errnotab[i].code),
		       name);
	}
}

/* --- the error record --- */

static void
testrecord(void)
{
	char big[1000];
	int r;

	clearerr9();
	is_int(errcode(), 0, "clearerr9 code");
	is_str(errtext(), "", "clearerr9 text");

	r = seterr(ENOTDIR, "bind %s %s: %s", "/a", "/b", "not a directory");
	is_int(r, -1, "seterr returns -1");
	is_str(errtext(), "bind /a /b: not a directory", "seterr text");
	is_int(errcode(), ENOTDIR, "seterr code");

	r = perr(Eunion, "unmount %s %s", "/n/a", "/n/b");
	is_int(r, -1, "perr returns -1");
	is_str(errtext(), "unmount /n/a /n/b: not in union", "perr text ctx: reason");
	is_int(errcode(), EINVAL, "perr(Eunion) code EINVAL");

	perr(Eunion, NULL);
	is_str(errtext(), "not in union", "perr NULL context");
	is_int(errcode(), EINVAL, "perr NULL context code");
	perr(Ebadsharp, "%s", "");
	is_str(errtext(), "unknown device in # filename", "perr empty context");
	is_int(errcode(), ENODEV, "perr(Ebadsharp) code ENODEV");
	perr(Enonexist, "walk %s", "100%");
	is_str(errtext(), "walk 100%: file does not exist", "perr context holding %");

	errno = ENOENT;
	r = syserr("open %s", "/x");
	is_int(r, -1, "syserr returns -1");
	is_str(errtext(), "open /x: file does not exist", "syserr ENOENT text");
	is_int(errcode(), ENOENT, "syserr ENOENT code");

	errno = EPERM;
	syserr(NULL);
	is_str(errtext(), "permission denied", "syserr EPERM, no context");
	is_int(errcode(), EPERM, "syserr keeps EPERM, not EACCES");

	errno = EINVAL;
	syserr("mount");
	{
		char want[ERRMAX];

		snprintf(want, sizeof want, "mount: %s", strerror(EINVAL));
		is_str(errtext(), want, "syserr EINVAL uses strerror");
	}

	errno = ENOENT;
	r = syserrpath("/x", NULL);
	is_int(r, -1, "syserrpath returns -1");
	is_str(errtext(), "file does not exist: '/x'", "syserrpath ENOENT");
	is_int(errcode(), ENOENT, "syserrpath code");

	errno = ENOTDIR;
	syserrpath("/a/b", "bind %s %s", "/a/b", "/c");
	is_str(errtext(), "bind /a/b /c: not a directory: '/a/b'", "syserrpath with context");
	is_int(errcode(), ENOTDIR, "syserrpath ENOTDIR code");

	errno = ENOENT;
	syserrpath("/it's", NULL);
	is_str(errtext(), "file does not exist: '/it''s'", "syserrpath doubles a quote in the name");

	/* adderr prefixes and keeps the code (werrstr("...: %r")). */
	errno = ENOENT;
	syserrpath("/x", NULL);
	errno = 0;
	r = adderr("bind %s %s", "/x", "/y");
	is_int(r, -1, "adderr returns -1");
	is_str(errtext(), "bind /x /y: file does not exist: '/x'", "adderr text");
	is_int(errcode(), ENOENT, "adderr keeps the code");
	adderr("ns9");
	is_str(errtext(), "ns9: bind /x /y: file does not exist: '/x'", "adderr twice");
	is_int(errcode(), ENOENT, "adderr twice keeps the code");

	perr(Eunion, NULL);
	seterr(EBUSY, "busy");
	is_str(errtext(), "busy", "a later setter replaces the record");
	is_int(errcode(), EBUSY, "a later setter replaces the code");

	/* Long text is cut to ERRMAX-1 bytes, never overflowing. */
	memset(big, 'x', sizeof big - 1);
	big[sizeof big - 1] = 0;
	seterr(EINVAL, "%s", big);
	is_int(strlen(errtext()), ERRMAX - 1, "seterr cuts long text");
	perr(Eunion, "%s", big);
	is_int(strlen(errtext()), ERRMAX - 1, "perr cuts long text");
	ok(strncmp(errtext(), big, ERRMAX - 1) == 0, "perr keeps the start of long text");
	perr(Eunion, "ctx");
	adderr("%s", big);
	is_int(strlen(errtext()), ERRMAX - 1, "adderr cuts long text");
	is_int(errcode(), EINVAL, "adderr on long text keeps the code");
	errno = ENOENT;
	syserrpath(big, NULL);
	is_int(strlen(errtext()), ERRMAX - 1, "syserrpath cuts a long path");
	ok(strncmp(errtext(), "file does not exist: '", 22) == 0,
	   "syserrpath long path keeps the reason");
}

/* The record is per thread: another thread starts empty and leaves ours alone. */
static void *
thread(void *arg)
{
	int *res = arg;

	res[0] = errcode() == 0 && errtext()[0] == 0;
	seterr(EPERM, "in thread");
	res[1] = errcode() == EPERM && strcmp(errtext(), "in thread") == 0;
	return NULL;
}

static void
testthread(void)
{
	pthread_t t;
	int res[2] = {0, 0};

	perr(Eunion, "main");
	if(!ok(pthread_create(&t, NULL, thread, res) == 0, "pthread_create")){
		ok(0, "thread starts with an empty record");
		ok(0, "thread sets its own record");
		ok(0, "main's record untouched");
		return;
	}
	pthread_join(t, NULL);
	ok(res[0], "thread starts with an empty record");
	ok(res[1], "thread sets its own record");
	ok(errcode() == EINVAL && strcmp(errtext(), "main: not in union") == 0,
	   "main's record untouched");
}

/* --- allocation --- */

static void
testalloc(void)
{
	unsigned char *p;
	char *s, *t;
	int i, zero;

	p = emalloc(1000);
	zero = 1;
	for(i = 0; i < 1000; i++)
		zero = zero && p[i] == 0;
	ok(zero, "emalloc zero-fills");
	memset(p, 'z', 1000);
	p = erealloc(p, 5000);
	ok(p[0] == 'z' && p[999] == 'z', "erealloc keeps the contents");
	free(p);
	p = emalloc(0);
	ok(p != NULL, "emalloc(0) is not NULL");
	free(p);

	s = estrdup("/usr/glenda");
	is_str(s, "/usr/glenda", "estrdup");
	t = estrdup(s);
	ok(t != s, "estrdup copies");
	free(t);
	free(s);

	s = esmprint("%s/%d%%", "a", 42);
	is_str(s, "a/42%", "esmprint");
	free(s);
}

/* --- Buf --- */

static void
testbuf(void)
{
	Buf b = {0};
	char *s, want[20001];
	int i, good;

	s = bufdetach(&b);
	ok(s != NULL, "bufdetach of an empty Buf is not NULL");
	is_str(s, "", "bufdetach of an empty Buf is \"\"");
	free(s);

	bufputs(&b, "");
	ok(b.s != NULL && b.n == 0 && b.s[0] == 0, "bufputs \"\" gives an empty string");

	bufputc(&b, 'a');
	bufputs(&b, "bc");
	bufputn(&b, "defXYZ", 3);
	is_str(b.s, "abcdef", "bufputc, bufputs, bufputn");
	is_int(b.n, 6, "Buf n counts bytes");
	ok(b.cap > b.n, "Buf cap leaves room for the NUL");

	bufprint(&b, "[%d:%s]", 42, "x");
	is_str(b.s, "abcdef[42:x]", "bufprint appends");
	is_int(b.n, 12, "bufprint updates n");
	bufprint(&b, "%s", "");
	is_str(b.s, "abcdef[42:x]", "bufprint of nothing");
	is_int(b.n, 12, "bufprint of nothing keeps n");

	s = bufdetach(&b);
	is_str(s, "abcdef[42:x]", "bufdetach returns the string");
	ok(b.s == NULL && b.n == 0 && b.cap == 0, "bufdetach empties the Buf");
	free(s);

	bufputn(&b, "a\0b", 3);
	ok(b.n == 3 && memcmp(b.s, "a\0b", 4) == 0, "bufputn copies a NUL byte");
	buffree(&b);
	ok(b.s == NULL && b.n == 0 && b.cap == 0, "buffree empties the Buf");
	buffree(&b);
	ok(b.s == NULL, "buffree twice is harmless");

	/* Growth, one byte at a time and in one large step. */
	for(i = 0; i < 10000; i++){
		want[i] = 'a' + i % 26;
		bufputc(&b, want[i]);
	}
	want[i] = 0;
	ok(b.n == 10000 && strcmp(b.s, want) == 0, "10000 bufputc");
	bufprint(&b, "%s", want);
	good = b.n == 20000 && b.cap > b.n && strncmp(b.s, want, 10000) == 0 &&
	       strcmp(b.s + 10000, want) == 0;
	ok(good, "bufprint of 10000 bytes grows the Buf");
	buffree(&b);

	memset(want, 'q', 300);
	want[300] = 0;
	bufputs(&b, "x");
	bufputs(&b, want);
	ok(b.n == 301 && b.s[0] == 'x' && strcmp(b.s + 1, want) == 0 && b.cap > 301,
	   "bufputs past the first 64 bytes");
	buffree(&b);
}

int
main(void)
{
	testcleanname();
	testcleanrandom();
	testp9err();
	testerrnostr();
	testrecord();
	testthread();
	testalloc();
	testbuf();
	return done_testing();
}
