/*
 * text.c: a name space as Plan 9 text (/proc/n/ns): one line per mount in
 * mount order, then "cd DIR".
 *
 * Linux records for a mount only its file system and the path within it
 * (mountinfo's root), not the name it was bound from, so the source of a
 * bind is rebuilt (linux.md §6): another mount of the same file system
 * whose root is a prefix of this one's, still visible at its mount point,
 * with no mount point on the way down from it, names the source as its
 * mount point plus the rest of the path.  Shortest root first, then the
 * shortest mount point; mounts made earlier are preferred, so replaying
 * the text in order finds each source in place.  The structural check
 * stands in for comparing inodes: it needs no system call per mount, and
 * it fails exactly where a path would reach another mount.
 *
 * The first mount of a file system at its root is printed as a mount:
 *	bind  #T /x			a tmpfs made by ns9 ('#T')
 *	mount [-C] SRV /x [SPEC]	a 9P service mounted by ns9
 *	mount  fs!TYPE!SOURCE /x OPTS	any other Linux file system
 * A mount whose source cannot be named is a comment line, so the text
 * still parses and replays.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ns9.h"
#include "union.h"
#include "impl.h"

enum { MAXCAND = 64, MAXDEPTH = 256 };

typedef struct Tab Tab;
struct Tab {
	int *slot;	/* index + 1; 0 empty */
	int *next;	/* chain of equal keys, in insertion order */
	int *tail;	/* last of each chain, indexed by its head */
	size_t mask;
};

typedef struct Ctx Ctx;
struct Ctx {
	NsTable *t;
	Tab pts;	/* mount point -> mounts at it, in order */
	Tab srcs;	/* (dev, root) -> mounts, in order */
	Tab ids;	/* id -> mount */
	Tab prim;	/* dev -> first mount at "/" */
};

static uint64_t
hstr(uint64_t h, const char *s, size_t n)
{
	size_t i;

	for(i = 0; i < n; i++){
		h ^= (unsigned char)s[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

static uint64_t
hdev(const NsMount *m)
{
	uint64_t h;

	h = 0xcbf29ce484222325ULL;
	h ^= m->major;
	h *= 0x100000001b3ULL;
	h ^= m->minor;
	h *= 0x100000001b3ULL;
	return h;
}

static void
tabinit(Tab *t, int n, int chained)
{
	size_t sz;

	sz = 16;
	while(sz < (size_t)n * 2)
		sz *= 2;
	t->slot = emalloc(sz * sizeof(int));
	t->next = chained ? emalloc((n + 1) * sizeof(int)) : NULL;
	t->tail = chained ? emalloc((n + 1) * sizeof(int)) : NULL;
	t->mask = sz - 1;
}

static void
tabfree(Tab *t)
{
	free(t->slot);
	free(t->next);
	free(t->tail);
}

static int
sameroot(const NsMount *m, const char *root, size_t n)
{
	return strncmp(m->root, root, n) == 0 && m->root[n] == 0;
}

/* Head of the srcs chain for (dev of d, root[0..n)) whose hash is h, or -1. */
static int
srcfind(Ctx *c, const NsMount *d, const char *root, size_t n, uint64_t h)
{
	size_t x;
	int k;
	NsMount *m;

	for(x = h & c->srcs.mask; (k = c->srcs.slot[x]) != 0; x = (x + 1) & c->srcs.mask){
		m = &c->t->m[k - 1];
		if(m->major == d->major && m->minor == d->minor && sameroot(m, root, n))
			return k - 1;
	}
	return -1;
}

/* Append i to a chain table keyed by a string of i (root with dev, or point). */
static void
chainadd(Ctx *c, Tab *tab, int i, uint64_t h, int head)
{
	size_t x;

	tab->next[i] = -1;
	if(head >= 0){
		tab->next[tab->tail[head]] = i;
		tab->tail[head] = i;
		return;
	}
	tab->tail[i] = i;
	for(x = h & tab->mask; tab->slot[x] != 0; x = (x + 1) & tab->mask)
		;
	tab->slot[x] = i + 1;
}

static void
srcadd(Ctx *c, int i)
{
	NsMount *d;
	uint64_t h;

	d = &c->t->m[i];
	h = hstr(hdev(d), d->root, strlen(d->root));
	chainadd(c, &c->srcs, i, h, srcfind(c, d, d->root, strlen(d->root), h));
}

enum { FNV = 0xcbf29ce484222325ULL };

/* Head of the chain of mounts at point p[0..n) (hash h), in mount order, or -1. */
static int
ptfind(Ctx *c, const char *p, size_t n, uint64_t h)
{
	size_t x;
	int k;
	NsMount *m;

	for(x = h & c->pts.mask; (k = c->pts.slot[x]) != 0; x = (x + 1) & c->pts.mask){
		m = &c->t->m[k - 1];
		if(strncmp(m->point, p, n) == 0 && m->point[n] == 0)
			return k - 1;
	}
	return -1;
}

static void
ptadd(Ctx *c, int i)
{
	NsMount *m;
	uint64_t h;

	m = &c->t->m[i];
	h = hstr(FNV, m->point, strlen(m->point));
	chainadd(c, &c->pts, i, h, ptfind(c, m->point, strlen(m->point), h));
}

/* The last mount made before i at point p[0..n), or -1. */
static int
latest(Ctx *c, const char *p, size_t n, uint64_t h, int i)
{
	int k, last;

	last = -1;
	for(k = ptfind(c, p, n, h); k >= 0 && k < i; k = c->pts.next[k])
		last = k;
	return last;
}

static int
idfind(Ctx *c, int id)
{
	size_t h;
	int k;

	for(h = ((uint64_t)id * 0x9e3779b97f4a7c15ULL) & c->ids.mask; (k = c->ids.slot[h]) != 0;
	    h = (h + 1) & c->ids.mask)
		if(c->t->m[k - 1].id == id)
			return k - 1;
	return -1;
}

static void
idadd(Ctx *c, int i)
{
	size_t h;

	for(h = ((uint64_t)c->t->m[i].id * 0x9e3779b97f4a7c15ULL) & c->ids.mask; c->ids.slot[h] != 0;
	    h = (h + 1) & c->ids.mask)
		;
	c->ids.slot[h] = i + 1;
}

static int
primfind(Ctx *c, const NsMount *d)
{
	size_t h;
	int k;
	NsMount *m;

	for(h = hdev(d) & c->prim.mask; (k = c->prim.slot[h]) != 0; h = (h + 1) & c->prim.mask){
		m = &c->t->m[k - 1];
		if(m->major == d->major && m->minor == d->minor)
			return k - 1;
	}
	return -1;
}

static void
primadd(Ctx *c, int i)
{
	size_t h;
	NsMount *d;

	d = &c->t->m[i];
	if(strcmp(d->root, "/") != 0 || primfind(c, d) >= 0)
		return;
	for(h = hdev(d) & c->prim.mask; c->prim.slot[h] != 0; h = (h + 1) & c->prim.mask)
		;
	c->prim.slot[h] = i + 1;
}

/* point(j) + rest, in b. */
static void
joinpath(Buf *b, const char *point, const char *rest)
{
	b->n = 0;
	if(strcmp(point, "/") != 0)
		bufputs(b, point);
	bufputs(b, rest);
	if(b->n == 0)
		bufputc(b, '/');
}

/*
 * Whether path s reaches mount j's directory at the moment mount i was
 * made, which is the moment its line is replayed: at every mount point
 * on the way down to j's point, the last mount made before i is one of
 * j's ancestors (or j), and below j's point there is none.
 */
static int
reaches(Ctx *c, const char *s, int j, int i)
{
	int anc[MAXDEPTH], na, a, k, l;
	size_t n, plen, q;
	uint64_t h;

	na = 0;
	for(a = j; a >= 0 && na < MAXDEPTH; a = idfind(c, c->t->m[a].parent)){
		anc[na++] = a;
		if(c->t->m[a].parent == c->t->m[a].id)
			break;
	}
	if(na == MAXDEPTH)
		return 0;
	plen = strlen(c->t->m[j].point);
	n = strlen(s);
	h = FNV;
	for(q = 0; q < n; q++){
		h = hstr(h, s + q, 1);
		/* A prefix ends at q+1 when it is "/" or the next byte starts a name. */
		if(q != 0 && s[q + 1] != '/' && s[q + 1] != 0)
			continue;
		l = latest(c, s, q + 1, h, i);
		if(q + 1 <= plen){
			if(l < 0)
				continue;
			for(k = 0; k < na && anc[k] != l; k++)
				;
			if(k == na)
				return 0;
		}else if(l >= 0)
			return 0;
	}
	return 1;
}

/*
 * Name the source of bind mount i in b; 0 if found.  Only mounts made
 * before i are candidates, so replaying the text in order finds each
 * source in place.
 */
static int
source(Ctx *c, int i, Buf *b)
{
	NsMount *m, *mj;
	const char *rest;
	size_t q, len, bestlen;
	uint64_t h;
	int j, best, nc;

	m = &c->t->m[i];
	len = strlen(m->root);
	/* A root the kernel marks deleted names nothing that exists. */
	if(len >= 9 && strcmp(m->root + len - 9, "//deleted") == 0)
		return -1;
	h = hdev(m);
	/* Each prefix of root at a '/' boundary, shortest first. */
	for(q = 1; q <= len; q++){
		h = hstr(h, m->root + q - 1, 1);
		if(q > 1 && q < len && m->root[q] != '/')
			continue;
		rest = q == 1 ? m->root : m->root + q;
		if(q == 1 && len == 1)
			rest = "";
		best = -1;
		bestlen = SIZE_MAX;
		nc = 0;
		for(j = srcfind(c, m, m->root, q, h); j >= 0 && j < i && nc < MAXCAND; j = c->srcs.next[j]){
			nc++;
			mj = &c->t->m[j];
			if(strlen(mj->point) >= bestlen)
				continue;
			joinpath(b, mj->point, rest);
			if(!reaches(c, b->s, j, i))
				continue;
			best = j;
			bestlen = strlen(mj->point);
		}
		if(best >= 0){
			joinpath(b, c->t->m[best].point, rest);
			return 0;
		}
	}
	return -1;
}

/* Whether s would break a line: text from outside must not forge a command. */
static int
breaksline(const char *s)
{
	return strpbrk(s, "\n\r") != NULL;
}

/* s with control characters, DEL and backslash as \ooo (for comments). */
static void
escape(Buf *b, const char *s)
{
	for(; *s; s++){
		unsigned char ch = *s;

		if(ch < ' ' || ch == 0x7f || ch == '\\')
			bufprint(b, "\\%03o", ch);
		else
			bufputc(b, ch);
	}
}

/* Append the strings (NULL-terminated list), escaped, separated by spaces. */
static void
escapes(Buf *b, const char *first, ...)
{
	const char *x;
	va_list ap;

	va_start(ap, first);
	for(x = first; x != NULL; x = va_arg(ap, const char *)){
		if(x != first)
			bufputc(b, ' ');
		escape(b, x);
	}
	va_end(ap);
}

static void
rawline(Buf *out, const NsMount *m)
{
	bufprint(out, "# %d %d %u:%u ", m->id, m->parent, m->major, m->minor);
	escapes(out, m->root, m->point, m->opts, "-", m->fstype, m->source, m->super, NULL);
	bufputc(out, '\n');
}

/* A comment for a mount that cannot be a command line. */
static void
noname(Buf *out, const NsMount *m, const char *why)
{
	bufprint(out, "# ns9: %s ", why);
	escape(out, m->point);
	bufputs(out, ": ");
	escapes(out, m->fstype, m->source, m->root, NULL);
	bufputc(out, '\n');
}

/*
 * A 9P mount by ns9 (lib/ns/mount9p.c): subtype 9p, or 9pC with -C; the
 * source is the service and spec as quoted words.  Returns 0 when m is
 * not one.
 */
static int
mount9pline(Buf *out, const NsMount *m)
{
	char **tok;
	int n, cache;

	if(strcmp(m->fstype, "fuse.9p") == 0)
		cache = 0;
	else if(strcmp(m->fstype, "fuse.9pC") == 0)
		cache = 1;
	else
		return 0;
	n = ns_tokenize(m->source, &tok);
	if(n < 1 || n > 2){
		if(n >= 0)
			free(tok);
		return 0;
	}
	if(strncmp(tok[0], "fd!", 3) == 0){
		/* a connection that process held (ns9 cpu's /mnt/term): nothing names it again */
		bufputs(out, "# ns9: a 9P connection the mounting process held (ns9 cpu's /mnt/term): ");
		escape(out, m->point);
		bufputc(out, '\n');
		free(tok);
		return 1;
	}
	bufputs(out, cache ? "mount -C " : "mount  ");
	ns_quote(out, tok[0]);
	bufputc(out, ' ');
	ns_quote(out, m->point);
	if(n == 2){
		bufputc(out, ' ');
		ns_quote(out, tok[1]);
	}
	bufputc(out, '\n');
	free(tok);
	return 1;
}

/* One member's line: bind or mount with flags, new, old, spec. */
static void
memberline(Buf *out, const NsMember *u, int order, const char *old)
{
	char fl[8];

	bufprint(out, "%s %s ", u->verb == NS_MOUNT ? "mount" : "bind",
		 ns_flagstr(order | (u->flag & (NS_MCREATE | NS_MCACHE)), fl));
	ns_quote(out, u->name);
	bufputc(out, ' ');
	ns_quote(out, old);
	if(u->verb == NS_MOUNT && u->spec != NULL){
		bufputc(out, ' ');
		ns_quote(out, u->spec);
	}
	bufputc(out, '\n');
}

/*
 * A union (lib/ns/union.c): one line per member, in an order that replays
 * to the same union.  Old itself is what is beneath (its own lines come
 * before): the members in front of it are prepended one by one, nearest
 * first, and those after it appended.  Without it, the first member
 * replaces and the rest are appended.
 */
static int
unionlines(Buf *out, const NsMount *m)
{
	NsMember *u;
	int n, i, self;

	if(strcmp(m->fstype, "fuse.ns9union") != 0)
		return 0;
	if(ns_unionlist(m->source, m->major, m->minor, &u, &n) < 0){
		bufprint(out, "# ns9: union, members unknown (%s) ", errtext());
		escape(out, m->point);
		bufputc(out, '\n');
		return 1;
	}
	self = -1;
	for(i = 0; i < n && self < 0; i++)
		if(u[i].verb == USELF)
			self = i;
	if(self >= 0){
		for(i = self - 1; i >= 0; i--)
			memberline(out, &u[i], NS_MBEFORE, m->point);
		for(i = self + 1; i < n; i++)
			memberline(out, &u[i], NS_MAFTER, m->point);
	}else
		for(i = 0; i < n; i++)
			memberline(out, &u[i], i == 0 ? NS_MREPL : NS_MAFTER, m->point);
	ns_freemembers(u, n);
	return 1;
}

/* Whether the comma-separated list opts holds o. */
static int
hasopt(const char *opts, const char *o)
{
	size_t n;
	const char *p;

	n = strlen(o);
	for(p = opts; (p = strstr(p, o)) != NULL; p += n)
		if((p == opts || p[-1] == ',') && (p[n] == ',' || p[n] == 0))
			return 1;
	return 0;
}

static void
mountline(Buf *out, const NsMount *m)
{
	if(mount9pline(out, m) || unionlines(out, m))
		return;
	if(strcmp(m->fstype, "tmpfs") == 0 && strcmp(m->source, "#T") == 0){
		bufputs(out, "bind  #T ");
		ns_quote(out, m->point);
		bufputc(out, '\n');
		return;
	}
	bufputs(out, "mount  ");
	{
		Buf s = {0};

		bufprint(&s, "fs!%s!%s", m->fstype, m->source);
		ns_quote(out, s.s);
		buffree(&s);
	}
	bufputc(out, ' ');
	ns_quote(out, m->point);
	{
		/* Superblock options, then the per-mount flags a fresh mount lacks. */
		static const char *mflags[] = {"nosuid", "nodev", "noexec", "noatime", "nodiratime"};
		Buf spec = {0};
		size_t i;

		bufputs(&spec, m->super);
		for(i = 0; i < nelem(mflags); i++)
			if(hasopt(m->opts, mflags[i]))
				bufprint(&spec, "%s%s", spec.n ? "," : "", mflags[i]);
		if(spec.n != 0){
			bufputc(out, ' ');
			ns_quote(out, spec.s);
		}
		buffree(&spec);
	}
	bufputc(out, '\n');
}

/*
 * A clean name space (ns9 newns: its root is the tmpfs "ns9root") names
 * its pieces by the devices that made them, so that its text replays in
 * another clean one: #c, #m/PATH, #p, #s, and for a piece of the root ns9
 * started from, #/PATH or (read-only) #r/PATH.  PATH is found in pid 1's
 * mount table where the reader may read it, else it is the path within
 * the file system (right for the root file system).
 */
typedef struct Clean Clean;
struct Clean {
	int on;
	int loaded;
	NsTable host;	/* pid 1's; n == 0 if unreadable */
	pid_t pid;
	int nloaded;
	char *names;	/* NS9NAMES of pid: what newns bound from the host root */
};

/*
 * Whether pid runs as the reader (real and effective uid, as /proc/PID/status
 * gives them; not the owner of its /proc files, which a process that is
 * not dumpable hands to root).
 */
static int
sameuser(pid_t pid)
{
	char line[256];
	unsigned long r, e;
	FILE *f;
	int fd, ok;

	fd = ns_procopen(pid, "status", O_RDONLY);
	if(fd < 0){
		clearerr9();
		return 0;
	}
	f = fdopen(fd, "r");
	if(f == NULL){
		close(fd);
		return 0;
	}
	ok = 0;
	while(fgets(line, sizeof line, f) != NULL)
		if(strncmp(line, "Uid:", 4) == 0){
			ok = sscanf(line + 4, "%lu %lu", &r, &e) == 2 && r == (unsigned long)geteuid() &&
			     e == (unsigned long)geteuid();
			break;
		}
	fclose(f);
	return ok;
}

/* pid's NS9NAMES (from its environment), or NULL. */
static char *
envnames(pid_t pid)
{
	const char *v;
	char *buf, *p, *e;
	ssize_t n;
	size_t len, cap;
	int fd;

	if(pid == 0 || pid == getpid()){
		v = getenv("NS9NAMES");
		return v != NULL ? estrdup(v) : NULL;
	}
	/*
	 * A process's environment is its own to write: names from it are
	 * believed only by the same user (root reading a user's process
	 * must not bind what that user claims its mounts are).
	 */
	fd = ns_procopen(pid, "environ", O_RDONLY);
	if(fd < 0){
		clearerr9();
		return NULL;
	}
	if(!sameuser(pid)){
		close(fd);
		return NULL;
	}
	cap = 65536;
	buf = emalloc(cap + 1);
	len = 0;
	while(len < cap && (n = read(fd, buf + len, cap - len)) > 0)
		len += n;
	close(fd);
	buf[len] = 0;
	for(p = buf; p < buf + len; p = e + 1){
		e = memchr(p, 0, buf + len - p);
		if(e == NULL)
			e = buf + len;
		if(strncmp(p, "NS9NAMES=", 9) == 0){
			p = estrdup(p + 9);
			free(buf);
			return p;
		}
	}
	free(buf);
	return NULL;
}

/* The name newns gave mount m (ID MAJ:MIN PATH NAME lines), in b; 0 if found. */
static int
recorded(Clean *cl, const NsMount *m, Buf *b)
{
	unsigned long long id;
	unsigned maj, min;
	const char *p, *e;
	char path[4096], name[4096];
	size_t pl, rl;

	if(!cl->nloaded){
		cl->nloaded = 1;
		cl->names = envnames(cl->pid);
	}
	if(cl->names == NULL)
		return -1;
	for(p = cl->names; *p; p = *e ? e + 1 : e){
		e = strchr(p, '\n');
		if(e == NULL)
			e = p + strlen(p);
		if((size_t)(e - p) >= sizeof path || sscanf(p, "%llu %u:%u %4095s %4095s", &id, &maj, &min, path, name) != 5)
			continue;
		if(id != (unsigned long long)m->id || maj != m->major || min != m->minor)
			continue;
		/* the path within the file system ends the host path */
		pl = strlen(path);
		rl = strlen(m->root);
		if(strcmp(m->root, "/") != 0 && (rl > pl || strcmp(path + pl - rl, m->root) != 0))
			continue;
		/* the name is #r, #m or #/ with that very path */
		if(!((strncmp(name, "#r", 2) == 0 || strncmp(name, "#m", 2) == 0) &&
		     (strcmp(name + 2, path) == 0 || (name[2] == 0 && strcmp(path, "/") == 0))) &&
		   !(strncmp(name, "#/", 2) == 0 && (strcmp(name + 2, path) == 0 || strcmp(name + 1, path) == 0)))
			continue;
		bufputs(b, name);
		return 0;
	}
	return -1;
}

static int
isclean(NsTable *t)
{
	int i;

	for(i = 0; i < t->n; i++)
		if(strcmp(t->m[i].point, "/") == 0)
			return strcmp(t->m[i].fstype, "tmpfs") == 0 && strcmp(t->m[i].source, "ns9root") == 0;
	return 0;
}

/* The host path of mount m's root, by pid 1's table; NULL if not found there. */
static char *
hostpath(Clean *cl, const NsMount *m)
{
	const NsMount *h, *best;
	size_t n, bestn;
	Buf b = {0};
	int j;

	if(!cl->loaded){
		cl->loaded = 1;
		if(ns_readtable(1, &cl->host) < 0){
			clearerr9();
			memset(&cl->host, 0, sizeof cl->host);
		}
	}
	best = NULL;
	bestn = 0;
	for(j = 0; j < cl->host.n; j++){
		h = &cl->host.m[j];
		if(h->major != m->major || h->minor != m->minor)
			continue;
		n = strlen(h->root);
		if(strcmp(h->root, "/") == 0)
			n = 0;
		else if(strncmp(m->root, h->root, n) != 0 || (m->root[n] != '/' && m->root[n] != 0))
			continue;
		/* the longest root, then the shortest mount point */
		if(best == NULL || n > bestn || (n == bestn && strlen(h->point) < strlen(best->point))){
			best = h;
			bestn = n;
		}
	}
	if(best == NULL)
		return NULL;
	joinpath(&b, best->point, m->root + bestn);
	return bufdetach(&b);
}

/* Whether m, of a clean name space, is named by a device; if so its line is in out. */
static int
cleanline(Clean *cl, Buf *out, Ctx *c, int i)
{
	const NsMount *m, *p;
	char *path;
	int j;
	Buf dev = {0}, skip = {0};

	m = &c->t->m[i];
	j = idfind(c, m->parent);
	p = j >= 0 && j != i ? &c->t->m[j] : NULL;
	/* what #c bound in its tmpfs comes with it, and what was mounted in the /proc #p cloned */
	if(p != NULL && ((strcmp(p->fstype, "tmpfs") == 0 && strcmp(p->source, "#c") == 0) ||
			 (strcmp(p->fstype, "proc") == 0 && strcmp(m->fstype, "proc") != 0)))
		return 1;
	if(strcmp(m->point, "/") == 0 && strcmp(m->fstype, "tmpfs") == 0 && strcmp(m->source, "ns9root") == 0){
		bufputs(out, "# ns9: a clean root (ns9 newns)\n");
		return 1;
	}
	if(strcmp(m->fstype, "tmpfs") == 0 && strcmp(m->source, "#c") == 0)
		bufputs(&dev, m->source);
	else if(strcmp(m->fstype, "proc") == 0 && strcmp(m->root, "/") == 0)
		bufputs(&dev, "#p");
	else if(recorded(cl, m, &dev) == 0)
		;
	else if(p != NULL && (p->source[0] == '/' || strcmp(p->fstype, "tmpfs") == 0) &&
		(m->source[0] == '/' || strcmp(m->fstype, "tmpfs") == 0) && strcmp(m->source, "#T") != 0 &&
		recorded(cl, p, &skip) == 0){
		/* came with the recursive bind of its parent, a piece newns bound */
		buffree(&skip);
		return 1;
	}else if(m->source[0] == '/' || strcmp(m->fstype, "tmpfs") == 0){
		/*
		 * A piece of the host's file systems, as pid 1's table has it.  A
		 * tmpfs that is not there (a #T made here, anyone's own) is left
		 * to the usual lines; only a disk's piece falls back to its path
		 * in the file system.
		 */
		path = hostpath(cl, m);
		if(path == NULL && m->source[0] != '/')
			return 0;
		if(path == NULL)
			path = estrdup(m->root);
		if(strlen(path) >= 8 && strcmp(path + strlen(path) - 8, "/ns9/srv") == 0)
			bufputs(&dev, "#s");
		else
			bufprint(&dev, "%s%s", hasopt(m->opts, "ro") ? "#r" : "#/", path);
		free(path);
	}else
		return 0;
	bufputs(out, "bind  ");
	ns_quote(out, dev.s);
	bufputc(out, ' ');
	ns_quote(out, m->point);
	bufputc(out, '\n');
	buffree(&dev);
	return 1;
}

/* A FUSE mount of ns9's own (a 9P mount or a union): printed as such. */
static int
isfuse9(const NsMount *m)
{
	return strncmp(m->fstype, "fuse", 4) == 0;
}

/* The cwd of pid, relative to its root. */
static char *
cwdof(pid_t pid)
{
	char path[64], cwd[PATH_MAX], root[PATH_MAX];
	ssize_t n, r;
	size_t rl;

	if(pid == 0){
		if(getcwd(cwd, sizeof cwd) == NULL)
			return estrdup("/");
		return estrdup(cwd);
	}
	snprintf(path, sizeof path, "/proc/%d/cwd", (int)pid);
	n = readlink(path, cwd, sizeof cwd - 1);
	if(n < 0){
		if(errno == ENOENT || errno == ESRCH)
			return NULL;
		/* The table is world-readable; the cwd needs ptrace access. */
		return esmprint("# ns9: cwd of %d: %s", (int)pid, errnostr(errno));
	}
	cwd[n] = 0;
	snprintf(path, sizeof path, "/proc/%d/root", (int)pid);
	r = readlink(path, root, sizeof root - 1);
	if(r > 1){
		root[r] = 0;
		rl = strlen(root);
		if(strncmp(cwd, root, rl) == 0 && (cwd[rl] == '/' || cwd[rl] == 0))
			return estrdup(cwd[rl] ? cwd + rl : "/");
	}
	return estrdup(cwd);
}

/*
 * Mount order, except that a mount never comes before its parent (a clone
 * made before the mount it is attached to), so the text replays in order.
 */
static int *
order(Ctx *c)
{
	int *out, *stack, *first, *last, *next, *done;
	int i, k, p, x, sp, n;

	n = c->t->n;
	out = emalloc((n + 1) * sizeof(int));
	stack = emalloc((n + 1) * sizeof(int));
	first = emalloc((n + 1) * sizeof(int));
	last = emalloc((n + 1) * sizeof(int));
	next = emalloc((n + 1) * sizeof(int));
	done = emalloc((n + 1) * sizeof(int));
	for(i = 0; i < n; i++)
		first[i] = last[i] = next[i] = -1;
	k = 0;
	for(i = 0; i < n; i++){
		p = idfind(c, c->t->m[i].parent);
		if(p >= 0 && p != i && !done[p]){
			/* Defer i until its parent is out. */
			if(last[p] >= 0)
				next[last[p]] = i;
			else
				first[p] = i;
			last[p] = i;
			continue;
		}
		sp = 0;
		stack[sp++] = i;
		while(sp > 0){
			x = stack[--sp];
			out[k++] = x;
			done[x] = 1;
			/* Push the deferred children so the first comes out first. */
			p = sp;
			for(int ch = first[x]; ch >= 0; ch = next[ch])
				stack[sp++] = ch;
			for(int a = p, b = sp - 1; a < b; a++, b--){
				x = stack[a];
				stack[a] = stack[b];
				stack[b] = x;
			}
		}
	}
	/* Anything left hangs off a cycle that cannot be; keep it in order. */
	for(i = 0; i < n; i++)
		if(!done[i])
			out[k++] = i;
	free(stack);
	free(first);
	free(last);
	free(next);
	free(done);
	return out;
}

char *
ns_text(pid_t pid, int flags)
{
	NsTable t;
	Ctx c;
	Clean cl;
	Buf out = {0}, src = {0};
	NsMount *m;
	char *cwd;
	int i, k, *ord;

	if(ns_readtable(pid, &t) < 0)
		return NULL;
	memset(&c, 0, sizeof c);
	c.t = &t;
	tabinit(&c.pts, t.n, 1);
	tabinit(&c.srcs, t.n, 1);
	tabinit(&c.ids, t.n, 0);
	tabinit(&c.prim, t.n, 0);
	for(i = 0; i < t.n; i++){
		ptadd(&c, i);
		srcadd(&c, i);
		idadd(&c, i);
		primadd(&c, i);
	}
	memset(&cl, 0, sizeof cl);
	cl.on = isclean(&t);
	cl.pid = pid;
	ord = order(&c);
	for(k = 0; k < t.n; k++){
		i = ord[k];
		m = &t.m[i];
		if(flags & NS_TEXTRAW)
			rawline(&out, m);
		if(breaksline(m->point) || breaksline(m->root) || breaksline(m->source) ||
		   breaksline(m->fstype) || breaksline(m->super)){
			noname(&out, m, "a name with a newline:");
			continue;
		}
		/* in a clean name space, what a device made is named by it (9P mounts and unions aside) */
		if(cl.on && !isfuse9(m) && cleanline(&cl, &out, &c, i))
			continue;
		if(primfind(&c, m) == i){
			mountline(&out, m);
			continue;
		}
		if(source(&c, i, &src) == 0){
			bufputs(&out, "bind  ");
			ns_quote(&out, src.s);
			bufputc(&out, ' ');
			ns_quote(&out, m->point);
			bufputc(&out, '\n');
		}else if(strcmp(m->root, "/") == 0)
			mountline(&out, m);
		else
			noname(&out, m, "no name for the source of");
	}
	cwd = cwdof(pid);
	if(cwd == NULL){
		perr(Eprocdied, "ns %d", (int)pid);
		buffree(&out);
	}else{
		if(cwd[0] == '#')
			bufputs(&out, cwd);
		else if(breaksline(cwd)){
			bufputs(&out, "# ns9: a cwd with a newline: ");
			escape(&out, cwd);
		}
		else{
			bufputs(&out, "cd ");
			ns_quote(&out, cwd);
		}
		bufputc(&out, '\n');
		free(cwd);
	}
	buffree(&src);
	tabfree(&c.pts);
	tabfree(&c.srcs);
	tabfree(&c.ids);
	tabfree(&c.prim);
	free(ord);
	if(cl.loaded)
		ns_freetable(&cl.host);
	free(cl.names);
	ns_freetable(&t);
	return cwd == NULL ? NULL : bufdetach(&out);
}
