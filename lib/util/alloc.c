/*
 * alloc.c: allocation helpers that zero-fill and abort on exhaustion
 * (lib9p's emalloc9p), and the growable string buffer.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

static void
nomem(void)
{
	static const char msg[] = "ns9: out of memory\n";

	fwrite(msg, 1, sizeof msg - 1, stderr);
	abort();
}

void *
emalloc(size_t n)
{
	void *p;

	p = calloc(1, n ? n : 1);
	if(p == NULL)
		nomem();
	return p;
}

void *
erealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if(p == NULL)
		nomem();
	return p;
}

char *
estrdup(const char *s)
{
	char *p;

	p = strdup(s);
	if(p == NULL)
		nomem();
	return p;
}

char *
esmprint(const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	if(vasprintf(&s, fmt, ap) < 0)
		nomem();
	va_end(ap);
	return s;
}

static void
grow(Buf *b, size_t need)
{
	if(b->n + need + 1 <= b->cap)
		return;
	if(b->cap == 0)
		b->cap = 64;
	while(b->n + need + 1 > b->cap)
		b->cap *= 2;
	b->s = erealloc(b->s, b->cap);
}

void
bufputn(Buf *b, const char *s, size_t n)
{
	grow(b, n);
	memcpy(b->s + b->n, s, n);
	b->n += n;
	b->s[b->n] = 0;
}

void
bufputs(Buf *b, const char *s)
{
	bufputn(b, s, strlen(s));
}

void
bufputc(Buf *b, int c)
{
	char ch;

	ch = c;
	bufputn(b, &ch, 1);
}

void
bufprint(Buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if(n < 0)
		return;
	grow(b, n);
	va_start(ap, fmt);
	vsnprintf(b->s + b->n, n + 1, fmt, ap);
	va_end(ap);
	b->n += n;
}

char *
bufdetach(Buf *b)
{
	char *s;

	s = b->s != NULL ? b->s : estrdup("");
	b->s = NULL;
	b->n = b->cap = 0;
	return s;
}

void
buffree(Buf *b)
{
	free(b->s);
	b->s = NULL;
	b->n = b->cap = 0;
}
