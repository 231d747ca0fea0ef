/*
 * tap.h: a header-only TAP producer for the unit tests (after bubblewrap's
 * tests/test-utils.c).  plan(n) up front or done_testing() at the end;
 * main returns done_testing(): 0 when every case passed and the count
 * matches the plan, 1 otherwise.
 */
#ifndef NS9_TAP_H
#define NS9_TAP_H

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define TAPFN static __attribute__((unused))

static int tapn, tapfailed, tapplan = -1;

TAPFN void diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
TAPFN int ok(int cond, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

TAPFN void
plan(int n)
{
	tapplan = n;
	printf("1..%d\n", n);
}

TAPFN void
diag(const char *fmt, ...)
{
	va_list ap;

	fputs("# ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
}

/* s on one line, control bytes escaped, so TAP stays line-structured. */
TAPFN void
tapshow(const char *label, const char *s)
{
	const unsigned char *p;

	printf("# %s: ", label);
	if(s == NULL){
		printf("(null)\n");
		return;
	}
	putchar('"');
	for(p = (const unsigned char *)s; *p; p++){
		if(*p == '\n')
			printf("\\n");
		else if(*p == '\\' || *p == '"')
			printf("\\%c", *p);
		else if(*p < ' ' || *p == 0x7f)
			printf("\\x%02x", *p);
		else
			putchar(*p);
	}
	printf("\"\n");
}

/* The description stays on one line; '#' would start a TAP directive. */
TAPFN int
ok(int cond, const char *fmt, ...)
{
	char buf[512];
	unsigned char *p;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	printf("%sok %d - ", cond ? "" : "not ", ++tapn);
	for(p = (unsigned char *)buf; *p; p++){
		if(*p == '#' || *p == '\\')
			printf("\\%c", *p);
		else if(*p < ' ' || *p == 0x7f)
			printf("\\x%02x", *p);
		else
			putchar(*p);
	}
	putchar('\n');
	if(!cond)
		tapfailed++;
	return cond;
}

TAPFN int
is_str(const char *got, const char *want, const char *name)
{
	int same;

	same = got != NULL && want != NULL ? strcmp(got, want) == 0 : got == want;
	if(!ok(same, "%s", name)){
		tapshow("got", got);
		tapshow("want", want);
	}
	return same;
}

TAPFN int
is_int(long got, long want, const char *name)
{
	if(!ok(got == want, "%s", name)){
		diag("got: %ld", got);
		diag("want: %ld", want);
		return 0;
	}
	return 1;
}

TAPFN int
done_testing(void)
{
	if(tapplan < 0)
		printf("1..%d\n", tapn);
	else if(tapplan != tapn){
		diag("planned %d tests but ran %d", tapplan, tapn);
		return 1;
	}
	fflush(stdout);
	return tapfailed != 0;
}

/* A fixed-seed pseudo-random sequence, the same on every run. */
static unsigned int rstate = 9;

static unsigned int __attribute__((unused))
rnd(void)
{
	rstate = rstate * 1103515245u + 12345u;
	return rstate >> 16;
}

#endif
