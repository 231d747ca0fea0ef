/*
 * quote.c: rc tokenising and quoting.  Tokens are split on blanks and
 * '...' groups characters, with '' standing for one quote (Plan 9
 * tokenize(2)).  Quoting follows the 9front kernel's %q: a string is
 * quoted when it is empty or holds a blank, a control character or a
 * quote.  ns9 also quotes '$', because namespace files expand $var outside
 * quotes and ns text must replay unchanged.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ns9.h"
#include "util.h"

static int
isblank9(int c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

int
ns_tokenize(const char *s, char ***tokp)
{
	return ns_tokenizevars(s, tokp, NULL, NULL);
}

/* Where a variable's name ends (plan9.md §3.2), blanks and quotes too. */
static int
endsname(int c)
{
	return c == 0 || isblank9(c) || c == '\'' || c == '/' || c == '.' || c == '!' || c == '$';
}

int
ns_tokenizevars(const char *s, char ***tokp, const char *(*get)(const char *name, void *arg), void *arg)
{
	Buf w = {0};
	size_t *off, n, cap, i, k;
	const char *p, *v;
	char **tok, *name, *strs;
	int inq;

	*tokp = NULL;
	off = NULL;
	n = cap = 0;
	p = s;
	for(;;){
		while(isblank9(*p))
			p++;
		if(*p == 0)
			break;
		if(n == cap){
			cap = cap ? 2 * cap : 16;
			off = erealloc(off, cap * sizeof off[0]);
		}
		off[n++] = w.n;
		inq = 0;
		for(; *p != 0; p++){
			if(inq){
				if(*p == '\''){
					if(p[1] == '\''){
						bufputc(&w, '\'');
						p++;
					}else
						inq = 0;
				}else
					bufputc(&w, *p);
			}else if(*p == '\'')
				inq = 1;
			else if(isblank9(*p))
				break;
			else if(*p == '$' && get != NULL){
				for(k = 1; !endsname(p[k]); k++)
					;
				if(k > 1){
					name = estrdup(p + 1);
					name[k - 1] = 0;
					v = get(name, arg);
					free(name);
					if(v != NULL)
						bufputs(&w, v);
				}
				p += k - 1;
			}else
				bufputc(&w, *p);
		}
		if(inq){
			free(off);
			buffree(&w);
			return seterr(EINVAL, "unmatched quote");
		}
		bufputc(&w, 0);
	}
	tok = emalloc((n + 1) * sizeof(char *) + w.n + 1);
	strs = (char *)(tok + n + 1);
	if(w.n != 0)
		memcpy(strs, w.s, w.n);
	for(i = 0; i < n; i++)
		tok[i] = strs + off[i];
	tok[n] = NULL;
	free(off);
	buffree(&w);
	*tokp = tok;
	return (int)n;
}

int
ns_needquote(const char *s)
{
	const unsigned char *p;

	if(*s == 0)
		return 1;
	for(p = (const unsigned char *)s; *p; p++)
		if(*p <= ' ' || *p == '\'' || *p == '$' || *p == 0x7f)
			return 1;
	return 0;
}

void
ns_quote(Buf *b, const char *s)
{
	if(!ns_needquote(s)){
		bufputs(b, s);
		return;
	}
	bufputc(b, '\'');
	for(; *s; s++){
		if(*s == '\'')
			bufputc(b, '\'');
		bufputc(b, *s);
	}
	bufputc(b, '\'');
}
