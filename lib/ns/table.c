/*
 * table.c: read a process's mount table from /proc/PID/mountinfo, in
 * mount order.  One read of the whole file, fields split and unescaped in
 * place.  (statmount costs one call per mount and measured about twice
 * the time of this for a whole table: linux.md §6.)
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ns9.h"
#include "impl.h"

/* Undo the kernel's octal escapes (\040 space, \011 tab, \012 newline, \134 backslash). */
static void
unescape(char *s)
{
	char *w;

	for(w = s; *s; s++){
		if(s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' &&
		   s[3] >= '0' && s[3] <= '7'){
			*w++ = (s[1] - '0') << 6 | (s[2] - '0') << 3 | (s[3] - '0');
			s += 3;
		}else
			*w++ = *s;
	}
	*w = 0;
}

/* Split the next space-separated field off *p. */
static char *
field(char **p)
{
	char *s, *e;

	s = *p;
	if(s == NULL || *s == 0)
		return NULL;
	e = strchr(s, ' ');
	if(e != NULL){
		*e = 0;
		*p = e + 1;
	}else
		*p = s + strlen(s);
	return s;
}

static int
parseline(char *line, NsMount *m)
{
	char *p, *f, *dev, *colon;

	p = line;
	if((f = field(&p)) == NULL)
		return -1;
	m->id = atoi(f);
	if((f = field(&p)) == NULL)
		return -1;
	m->parent = atoi(f);
	if((dev = field(&p)) == NULL || (colon = strchr(dev, ':')) == NULL)
		return -1;
	m->major = strtoul(dev, NULL, 10);
	m->minor = strtoul(colon + 1, NULL, 10);
	if((m->root = field(&p)) == NULL || (m->point = field(&p)) == NULL ||
	   (m->opts = field(&p)) == NULL)
		return -1;
	/* Optional fields up to "-". */
	while((f = field(&p)) != NULL && strcmp(f, "-") != 0)
		;
	if(f == NULL)
		return -1;
	if((m->fstype = field(&p)) == NULL || (m->source = field(&p)) == NULL)
		return -1;
	m->super = p;
	unescape(m->root);
	unescape(m->point);
	unescape(m->source);
	unescape(m->fstype);
	unescape(m->super);
	return 0;
}

int
ns_readtable(pid_t pid, NsTable *t)
{
	char *buf, *line, *nl;
	const char *how;
	size_t len, cap;
	ssize_t n;
	int fd, nm, mcap;

	how = getenv("NS9_TABLE");
	if(how != NULL && strcmp(how, "statmount") == 0)
		return ns_readtable_statmount(pid, t);
	memset(t, 0, sizeof *t);
	fd = ns_procopen(pid, "mountinfo", O_RDONLY);
	if(fd < 0)
		return adderr("ns %d", (int)pid);
	cap = 1 << 16;
	buf = emalloc(cap);
	len = 0;
	for(;;){
		if(cap - len < 4096){
			cap *= 2;
			buf = erealloc(buf, cap);
		}
		n = read(fd, buf + len, cap - len - 1);
		if(n < 0){
			if(errno == EINTR)
				continue;
			syserr("ns %d", (int)pid);
			if(errno == ESRCH)
				perr(Eprocdied, "ns %d", (int)pid);
			close(fd);
			free(buf);
			return -1;
		}
		if(n == 0)
			break;
		len += n;
	}
	close(fd);
	buf[len] = 0;
	if(len == 0){
		free(buf);
		return perr(Eprocdied, "ns %d", (int)pid);
	}

	mcap = 64;
	t->m = emalloc(mcap * sizeof(NsMount));
	nm = 0;
	for(line = buf; *line; line = nl){
		nl = strchr(line, '\n');
		if(nl != NULL)
			*nl++ = 0;
		else
			nl = line + strlen(line);
		if(nm == mcap){
			mcap *= 2;
			t->m = erealloc(t->m, mcap * sizeof(NsMount));
		}
		if(parseline(line, &t->m[nm]) < 0){
			free(t->m);
			free(buf);
			memset(t, 0, sizeof *t);
			return seterr(EINVAL, "ns %d: malformed mountinfo line", (int)pid);
		}
		nm++;
	}
	t->n = nm;
	t->data = buf;
	return 0;
}

void
ns_freetable(NsTable *t)
{
	free(t->m);
	free(t->data);
	memset(t, 0, sizeof *t);
}
