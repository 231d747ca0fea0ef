/*
 * cpns.c: the plan that makes one name space match another (ANTS
 * cpns = subns + addns, plan9.md §4.7), from their ns text compared line
 * by line exactly (not as regular expressions): the target's lines the
 * model lacks are undone in reverse order, then the model's lines the
 * target lacks are added in order.  cd lines and comments take no part.
 */
#include <stdlib.h>
#include <string.h>

#include "ns9.h"

typedef struct Lines Lines;
struct Lines {
	char *text;
	char **l;	/* command lines, in order */
	int n;
	char **sorted;
};

static int
cmpstr(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int
split(Lines *ls, char *text)
{
	char *p, *nl;
	int cap;

	memset(ls, 0, sizeof *ls);
	ls->text = text;
	cap = 0;
	for(p = text; *p; p = nl){
		nl = strchr(p, '\n');
		if(nl != NULL)
			*nl++ = 0;
		else
			nl = p + strlen(p);
		if(p[0] == 0 || p[0] == '#' || strncmp(p, "cd ", 3) == 0)
			continue;
		if(ls->n == cap){
			cap = cap ? 2 * cap : 64;
			ls->l = erealloc(ls->l, cap * sizeof(char *));
		}
		ls->l[ls->n++] = p;
	}
	ls->sorted = emalloc((ls->n + 1) * sizeof(char *));
	if(ls->n > 0)
		memcpy(ls->sorted, ls->l, ls->n * sizeof(char *));
	qsort(ls->sorted, ls->n, sizeof(char *), cmpstr);
	return 0;
}

static int
has(Lines *ls, const char *s)
{
	return bsearch(&s, ls->sorted, ls->n, sizeof(char *), cmpstr) != NULL;
}

static void
freelines(Lines *ls)
{
	free(ls->text);
	free(ls->l);
	free(ls->sorted);
}

static void
add(NsCmd **cmd, int *n, int *cap, NsCmd *c)
{
	if(*n == *cap){
		*cap = *cap ? 2 * *cap : 16;
		*cmd = erealloc(*cmd, *cap * sizeof(NsCmd));
	}
	(*cmd)[(*n)++] = *c;
}

int
ns_cpnsplan(pid_t model, pid_t target, NsCmd **cmdp, int *np)
{
	Lines m, t;
	NsCmd c, u;
	char *mt, *tt;
	int i, n, cap;

	*cmdp = NULL;
	*np = 0;
	if((mt = ns_text(model, 0)) == NULL)
		return adderr("cpns: model");
	if((tt = ns_text(target, 0)) == NULL){
		free(mt);
		return adderr("cpns: target");
	}
	split(&m, mt);
	split(&t, tt);
	n = cap = 0;
	/* subns: undo what only the target has, last first. */
	for(i = t.n - 1; i >= 0; i--){
		if(has(&m, t.l[i]) || ns_parseline(&c, t.l[i]) != 1)
			continue;
		memset(&u, 0, sizeof u);
		u.verb = NS_UNMOUNT;
		u.old = c.old;
		/*
		 * A bind of a path names its member, as does a union's mount (by
		 * its service); any other mount or a device, the whole point.
		 */
		if((c.verb == NS_BIND && c.new[0] != '#') || (c.verb == NS_MOUNT && (c.flag & NS_MORDER)))
			u.new = c.new;
		else
			free(c.new);
		free(c.spec);
		add(cmdp, &n, &cap, &u);
	}
	/* addns: add what only the model has, in order. */
	for(i = 0; i < m.n; i++){
		if(has(&t, m.l[i]) || ns_parseline(&c, m.l[i]) != 1)
			continue;
		add(cmdp, &n, &cap, &c);
	}
	freelines(&m);
	freelines(&t);
	*np = n;
	return 0;
}
