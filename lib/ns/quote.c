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

static int
isblank9(int c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

int
ns_tokenize(const char *s, char ***tokp)
{
	size_t len, ntok;
	const char *p;
	char **tok, *w;
	int n, inq;

	/* Upper bound on tokens: every other byte. */
	len = strlen(s);
	ntok = len / 2 + 2;
	tok = emalloc(ntok * sizeof(char *) + len + ntok);
	w = (char *)(tok + ntok);
	n = 0;
	p = s;
	for(;;){
		while(isblank9(*p))
			p++;
		if(*p == 0)
			break;
		tok[n++] = w;
		inq = 0;
		for(; *p != 0; p++){
			if(inq){
				if(*p == '\''){
					if(p[1] == '\''){
						*w++ = '\'';
						p++;
					}else
						inq = 0;
				}else
					*w++ = *p;
			}else if(*p == '\'')
				inq = 1;
			else if(isblank9(*p))
				break;
			else
				*w++ = *p;
		}
		if(inq){
			free(tok);
			*tokp = NULL;
			return seterr(EINVAL, "unmatched quote");
		}
		*w++ = 0;
	}
	tok[n] = NULL;
	*tokp = tok;
	return n;
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
