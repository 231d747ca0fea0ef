/*
 * cmd.c: parse and format namespace commands: bind, mount, unmount, cd,
 * and import (a mount of ssh!HOST!PATH).
 * One parser serves argv, control-file writes and namespace files, so a
 * command means the same wherever it is written (9front libauth/newns.c).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ns9.h"

static const struct {
	const char *name;
	NsVerb verb;
	const char *flags;	/* letters accepted */
	int min, max;		/* operands */
	const char *usage;
} verbs[] = {
	{"bind", NS_BIND, "abcC", 2, 2, "bind [-abcC] new old"},
	{"mount", NS_MOUNT, "abcC", 2, 3, "mount [-abcC] srvname old [spec]"},
	{"unmount", NS_UNMOUNT, "", 1, 2, "unmount [new] old"},
	{"cd", NS_CD, "", 1, 1, "cd dir"},
	/* Plan 9's import(4): a mount of the service ssh!HOST!PATH (import.c) */
	{"import", NS_MOUNT, "abcC", 2, 3, "import [-abcC] [user@]host [remotepath] mountpoint"},
};

static int
flagbit(int c)
{
	switch(c){
	case 'a':
		return NS_MAFTER;
	case 'b':
		return NS_MBEFORE;
	case 'c':
		return NS_MCREATE;
	case 'C':
		return NS_MCACHE;
	}
	return 0;
}

char *
ns_flagstr(int flag, char *buf)
{
	char *p;

	p = buf;
	if(flag & (NS_MAFTER | NS_MBEFORE | NS_MCREATE | NS_MCACHE)){
		*p++ = '-';
		if(flag & NS_MAFTER)
			*p++ = 'a';
		if(flag & NS_MBEFORE)
			*p++ = 'b';
		if(flag & NS_MCREATE)
			*p++ = 'c';
		if(flag & NS_MCACHE)
			*p++ = 'C';
	}
	*p = 0;
	return buf;
}

static int
streq(const char *a, const char *b)
{
	if(a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

int
ns_cmdeq(const NsCmd *a, const NsCmd *b)
{
	return a->verb == b->verb && a->flag == b->flag && streq(a->new, b->new) &&
	       streq(a->old, b->old) && streq(a->spec, b->spec);
}

void
ns_freecmd(NsCmd *c)
{
	free(c->new);
	free(c->old);
	free(c->spec);
	memset(c, 0, sizeof *c);
}

int
ns_parse(NsCmd *c, int argc, char **argv)
{
	const char *a, *verb;
	size_t v;
	int i, nop, flag;
	char **op;

	memset(c, 0, sizeof *c);
	if(argc < 1)
		return seterr(EINVAL, "empty command");
	verb = argv[0];
	for(v = 0; v < nelem(verbs); v++)
		if(strcmp(verb, verbs[v].name) == 0)
			break;
	if(v == nelem(verbs))
		return seterr(EINVAL, "%s: unknown command", verb);

	/* Flags, ARGBEGIN style: -ac or -a -c; "--" ends them. */
	flag = 0;
	for(i = 1; i < argc; i++){
		a = argv[i];
		if(a[0] != '-' || a[1] == 0)
			break;
		if(strcmp(a, "--") == 0){
			i++;
			break;
		}
		for(a++; *a; a++){
			if(strchr(verbs[v].flags, *a) == NULL)
				return seterr(EINVAL, "%s: unknown flag -%c; usage: %s", verb, *a,
					      verbs[v].usage);
			flag |= flagbit(*a);
		}
	}
	if((flag & NS_MORDER) == NS_MORDER)
		return seterr(EINVAL, "%s: -a and -b together", verb);
	op = argv + i;
	nop = argc - i;
	if(nop < verbs[v].min || nop > verbs[v].max)
		return seterr(EINVAL, "%s: usage: %s", verb, verbs[v].usage);

	c->verb = verbs[v].verb;
	c->flag = flag;
	switch(c->verb){
	case NS_BIND:
		c->new = estrdup(op[0]);
		c->old = estrdup(op[1]);
		break;
	case NS_MOUNT:
		if(strcmp(verb, "import") == 0){
			/* with no remote path, the remote path is the mount point (import(4)) */
			if(!ns_sshhostok(op[0]))
				return seterr(EINVAL, "import: bad host '%s'; usage: %s", op[0], verbs[v].usage);
			c->new = esmprint("ssh!%s!%s", op[0], op[1]);
			c->old = estrdup(op[nop - 1]);
			break;
		}
		c->new = estrdup(op[0]);
		c->old = estrdup(op[1]);
		/* An empty spec is no spec, as in the kernel's listing. */
		if(nop == 3 && op[2][0] != 0)
			c->spec = estrdup(op[2]);
		break;
	case NS_UNMOUNT:
		if(nop == 2){
			c->new = estrdup(op[0]);
			c->old = estrdup(op[1]);
		}else
			c->old = estrdup(op[0]);
		break;
	case NS_CD:
		c->old = estrdup(op[0]);
		break;
	}
	return 0;
}

int
ns_parseline(NsCmd *c, const char *line)
{
	const char *p;
	char **tok;
	int n, r;

	memset(c, 0, sizeof *c);
	for(p = line; *p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'; p++)
		;
	if(*p == 0 || *p == '#')
		return 0;
	n = ns_tokenize(p, &tok);
	if(n < 0)
		return -1;
	r = ns_parse(c, n, tok);
	free(tok);
	return r < 0 ? -1 : 1;
}

/* An operand that begins with '-' would read as flags: put "--" first. */
static void
operands(Buf *b, const char *first)
{
	if(first[0] == '-')
		bufputs(b, " --");
}

char *
ns_fmtcmd(const NsCmd *c)
{
	char fl[8];
	Buf b = {0};

	switch(c->verb){
	case NS_BIND:
	case NS_MOUNT:
		bufprint(&b, "%s %s", c->verb == NS_BIND ? "bind" : "mount",
			 ns_flagstr(c->flag, fl));
		operands(&b, c->new);
		bufputc(&b, ' ');
		ns_quote(&b, c->new);
		bufputc(&b, ' ');
		ns_quote(&b, c->old);
		if(c->verb == NS_MOUNT && c->spec != NULL && c->spec[0] != 0){
			bufputc(&b, ' ');
			ns_quote(&b, c->spec);
		}
		break;
	case NS_UNMOUNT:
		bufputs(&b, "unmount");
		operands(&b, c->new != NULL ? c->new : c->old);
		if(c->new != NULL){
			bufputc(&b, ' ');
			ns_quote(&b, c->new);
		}
		bufputc(&b, ' ');
		ns_quote(&b, c->old);
		break;
	case NS_CD:
		bufputs(&b, "cd");
		operands(&b, c->old);
		bufputc(&b, ' ');
		ns_quote(&b, c->old);
		break;
	}
	return bufdetach(&b);
}
