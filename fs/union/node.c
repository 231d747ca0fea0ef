/*
 * node.c: the union server's file operations.  The root is the union
 * (plan9.md §2.6-2.9): a name is looked up in each member in order and
 * the first that has it wins; a create goes to the first member marked
 * MCREATE, or fails; remove, rename and setattr act on the file the name
 * resolves to.  Below the root a node is one member's file, reached from
 * its parent directory's fd by one name (*at calls, no symlink followed),
 * so nothing here resolves a path through this mount or through a link.
 *
 * Nodes are the kernel's inodes: the node id is the Node's address (1
 * for the root), counted by lookups and forgets.  Directory nodes keep
 * an O_PATH fd, files none: a file is named by (parent fd, name).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/mman.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "ns9.h"
#include "union.h"
#include "impl.h"

enum {
	Wmask = IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_MODIFY | IN_ATTRIB |
		IN_DELETE_SELF | IN_MOVE_SELF | IN_EXCL_UNLINK | IN_ONLYDIR,
	Entrychange = IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO,
};

/* --- members --- */

Members *
ugetms(void)
{
	Members *ms;

	pthread_mutex_lock(&ufs.lk);
	ms = ufs.ms;
	ms->ref++;
	pthread_mutex_unlock(&ufs.lk);
	return ms;
}

static void unwatch(int wd, Node *n, int member);
static void putdirlocked(Dir *d);
static int locate(Node *n, char *name);
static int backing(Node *n, int fd);
static void unbacking(Node *n);

/* Called with ufs.lk held. */
static void
putmemberlocked(Member *m)
{
	if(--m->ref > 0)
		return;
	if(m->wd >= 0)
		unwatch(m->wd, NULL, 1);
	close(m->fd);
	free(m->name);
	free(m->spec);
	free(m);
}

void
uputmember(Member *m)
{
	pthread_mutex_lock(&ufs.lk);
	putmemberlocked(m);
	pthread_mutex_unlock(&ufs.lk);
}

void
uputms(Members *ms)
{
	int i;

	pthread_mutex_lock(&ufs.lk);
	if(--ms->ref == 0){
		for(i = 0; i < ms->n; i++)
			putmemberlocked(ms->m[i]);
		free(ms);
	}
	pthread_mutex_unlock(&ufs.lk);
}

/* Whether inotify sees every change to a file system of this type. */
static int
localfs(int fd)
{
	struct statfs sf;

	if(fstatfs(fd, &sf) < 0)
		return 0;
	switch((unsigned long)sf.f_type){
	case 0xEF53:		/* ext2/3/4 */
	case 0x01021994:	/* tmpfs */
	case 0x58465342:	/* xfs */
	case 0x9123683E:	/* btrfs */
	case 0xF2F52010:	/* f2fs */
		return 1;
	}
	return 0;
}

/* --- inotify watches, shared by every node and member on one directory --- */

typedef struct Watch Watch;
struct Watch {
	int wd;
	int members;	/* member directories: changes are the union's */
	Node *nodes;	/* directory nodes */
	Watch *next;
};

static Watch *watches[Nwhash];

static Watch *
findwatch(int wd)
{
	Watch *w;

	for(w = watches[(unsigned)wd % Nwhash]; w != NULL; w = w->next)
		if(w->wd == wd)
			return w;
	return NULL;
}

/* Watch the directory fd for node n or a member; with ufs.lk held.  Returns the wd or -1. */
static int
watch(int fd, Node *n, int member)
{
	char path[64];
	Watch *w;
	int wd;

	if(ufs.ifd < 0 || !ufs.procok)
		return -1;
	snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
	wd = inotify_add_watch(ufs.ifd, path, Wmask);
	if(wd < 0)
		return -1;
	w = findwatch(wd);
	if(w == NULL){
		w = emalloc(sizeof *w);
		w->wd = wd;
		w->next = watches[(unsigned)wd % Nwhash];
		watches[(unsigned)wd % Nwhash] = w;
	}
	if(member)
		w->members++;
	else{
		n->wnext = w->nodes;
		w->nodes = n;
	}
	return wd;
}

static void
unwatch(int wd, Node *n, int member)
{
	Watch *w, **l;
	Node **np;

	w = findwatch(wd);
	if(w == NULL)
		return;
	if(member)
		w->members--;
	else
		for(np = &w->nodes; *np != NULL; np = &(*np)->wnext)
			if(*np == n){
				*np = n->wnext;
				break;
			}
	if(w->members > 0 || w->nodes != NULL)
		return;
	inotify_rm_watch(ufs.ifd, wd);
	for(l = &watches[(unsigned)wd % Nwhash]; *l != NULL; l = &(*l)->next)
		if(*l == w){
			*l = w->next;
			break;
		}
	free(w);
}

Member *
unewmember(int fd, int flag, int verb, const char *name, const char *spec)
{
	struct stat st;
	Member *m;

	if(fstat(fd, &st) < 0){
		syserr("member");
		return NULL;
	}
	if(!S_ISDIR(st.st_mode)){
		perr(Emount, "member %s", name);
		return NULL;
	}
	m = emalloc(sizeof *m);
	m->ref = 1;
	m->fd = fd;
	m->flag = flag;
	m->verb = verb;
	m->name = estrdup(name);
	m->spec = spec != NULL ? estrdup(spec) : NULL;
	m->dev = st.st_dev;
	m->ino = st.st_ino;
	m->wd = -1;
	pthread_mutex_lock(&ufs.lk);
	/*
	 * The kernel's caches serve every user alike and check only the
	 * root's attributes (the first member's): a member others may not
	 * read is asked each time, as each caller.
	 */
	if(localfs(fd) && (st.st_mode & 0005) == 0005){
		m->wd = watch(fd, NULL, 1);
		m->cache = m->wd >= 0;
	}
	pthread_mutex_unlock(&ufs.lk);
	return m;
}

/* --- nodes --- */

static Node *
getnode(fuse_ino_t ino)
{
	if(ino == FUSE_ROOT_ID)
		return &ufs.root;
	return (Node *)(uintptr_t)ino;
}

uint64_t
unodeid(Node *n)
{
	if(n == &ufs.root)
		return FUSE_ROOT_ID;
	return (uint64_t)(uintptr_t)n;
}

/* FNV-1a of the parent's address and the name. */
static uint32_t
hashof(Node *parent, const char *name)
{
	uintptr_t p;
	uint32_t h;
	size_t i;

	h = 2166136261u;
	p = (uintptr_t)parent >> 4;
	for(i = 0; i < sizeof p; i++){
		h ^= (p >> (8 * i)) & 0xff;
		h *= 16777619u;
	}
	while(*name){
		h ^= (unsigned char)*name++;
		h *= 16777619u;
	}
	return h;
}

/* The node table in nb buckets; with ufs.lk held. */
static void
rehash(size_t nb)
{
	Node **t, *n, *next;
	size_t i;

	t = emalloc(nb * sizeof t[0]);
	for(i = 0; i < ufs.nhash; i++)
		for(n = ufs.hash[i]; n != NULL; n = next){
			next = n->hnext;
			n->hnext = t[n->h & (nb - 1)];
			t[n->h & (nb - 1)] = n;
		}
	free(ufs.hash);
	ufs.hash = t;
	ufs.nhash = nb;
}

static Node *
findchild(Node *parent, const char *name)
{
	uint32_t h;
	Node *n;

	if(ufs.nhash == 0)
		return NULL;
	h = hashof(parent, name);
	for(n = ufs.hash[h & (ufs.nhash - 1)]; n != NULL; n = n->hnext)
		if(n->h == h && n->parent == parent && strcmp(n->name, name) == 0)
			return n;
	return NULL;
}

/* Enter n under its (parent, name); with ufs.lk held. */
static void
hashin(Node *n)
{
	Node **b;

	if(ufs.nnodes >= ufs.nhash)
		rehash(ufs.nhash ? 2 * ufs.nhash : Minhash);
	n->h = hashof(n->parent, n->name);
	b = &ufs.hash[n->h & (ufs.nhash - 1)];
	n->hnext = *b;
	*b = n;
	n->hashed = 1;
	ufs.nnodes++;
}

static void
unhash(Node *n)
{
	Node **l;

	if(!n->hashed)
		return;
	for(l = &ufs.hash[n->h & (ufs.nhash - 1)]; *l != NULL; l = &(*l)->hnext)
		if(*l == n){
			*l = n->hnext;
			break;
		}
	n->hashed = 0;
	ufs.nnodes--;
	/* the kernel forgot most of them: give the table back */
	if(ufs.nhash > Minhash && ufs.nnodes < ufs.nhash / 8)
		rehash(ufs.nhash / 4);
}

/* Drop a reference; with ufs.lk held. */
static void
unref(Node *n)
{
	Node *p;

	while(n != NULL && n != &ufs.root && --n->ref == 0){
		unhash(n);
		if(n->wd >= 0)
			unwatch(n->wd, n, 0);
		if(n->fd >= 0){
			close(n->fd);
			ufs.ndirfd--;
		}
		putdirlocked(n->ls);
		putmemberlocked(n->m);
		p = n->parent;
		free(n->name);
		free(n);
		n = p;
	}
}

/* The fd in an open file's fh; the backing id is above it. */
static int
fhfd(struct fuse_file_info *fi)
{
	return (int)(fi->fh & 0xffffffff);
}

/* The directory fd a node's name lives in. */
static int
pfd(Node *n)
{
	return n->parent == &ufs.root ? n->m->fd : n->parent->fd;
}

/* A name from the kernel: one component, never "." or "..". */
static int
badname(const char *name)
{
	return name[0] == 0 || strchr(name, '/') != NULL || strcmp(name, ".") == 0 || strcmp(name, "..") == 0;
}

/* st_ino through the union: distinct for distinct (dev, ino). */
static void
fixstat(struct stat *st)
{
	st->st_ino ^= (uint64_t)st->st_dev << 40;
}

/* Whether every member is cached (the root's entries may be kept). */
static int
allcached(Members *ms)
{
	int i;

	for(i = 0; i < ms->n; i++)
		if(!ms->m[i]->cache)
			return 0;
	return 1;
}

/*
 * The node for name in parent, found in member m at dirfd with st: the
 * known one if it is the same file, else a new one.  Counts a lookup.
 */
static Node *
child(Node *parent, Member *m, int dirfd, const char *name, struct stat *st)
{
	Node *n, *old;
	int fd;

	fd = -1;
	pthread_mutex_lock(&ufs.lk);
	old = findchild(parent, name);
	if(old != NULL && old->m == m && old->dev == st->st_dev && old->ino == st->st_ino){
		old->nlookup++;
		if(old->nlookup == 1)
			old->ref++;
		pthread_mutex_unlock(&ufs.lk);
		return old;
	}
	pthread_mutex_unlock(&ufs.lk);
	if(S_ISDIR(st->st_mode)){
		struct stat fst;

		/*
		 * Directory nodes hold fds, at most Maxdirfd of them: a walk of many
		 * directories must not take the fds every other request needs.
		 * Beyond that, a directory can be looked up but not entered (EMFILE).
		 */
		pthread_mutex_lock(&ufs.lk);
		if(ufs.ndirfd >= ufs.maxdirfd){
			pthread_mutex_unlock(&ufs.lk);
			errno = EMFILE;
			return NULL;
		}
		ufs.ndirfd++;
		pthread_mutex_unlock(&ufs.lk);
		fd = openat(dirfd, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if(fd < 0){
			pthread_mutex_lock(&ufs.lk);
			ufs.ndirfd--;
			pthread_mutex_unlock(&ufs.lk);
			return NULL;
		}
		if(fstat(fd, &fst) < 0 || fst.st_dev != st->st_dev || fst.st_ino != st->st_ino){
			/* replaced between the stat and the open: the caller looks again */
			close(fd);
			pthread_mutex_lock(&ufs.lk);
			ufs.ndirfd--;
			pthread_mutex_unlock(&ufs.lk);
			errno = ESTALE;
			return NULL;
		}
	}
	n = emalloc(sizeof *n);
	n->nlookup = 1;
	n->ref = 1;
	n->parent = parent;
	n->m = m;
	n->name = estrdup(name);
	n->dev = st->st_dev;
	n->ino = st->st_ino;
	n->type = st->st_mode & S_IFMT;
	n->fd = fd;
	n->wd = -1;
	pthread_mutex_lock(&ufs.lk);
	m->ref++;
	parent->ref++;
	old = findchild(parent, name);
	if(old != NULL)
		unhash(old);	/* a stale name: the new file has it now */
	hashin(n);
	if(fd >= 0 && m->cache)
		n->wd = watch(fd, n, 0);
	pthread_mutex_unlock(&ufs.lk);
	return n;
}

/*
 * Whether the kernel may keep what a directory holds: the root's if every
 * member is watched, another's if it is (a watch may be refused: the
 * user's inotify limit, no read permission).
 */
static int
dircached(Node *d, Members *ms)
{
	if(d == &ufs.root)
		return ms != NULL && allcached(ms);
	return d->wd >= 0;
}

/* Whether the kernel may keep n's attributes and pages: its directory's watch reports n's changes. */
static int
nodecached(Node *n)
{
	int c;

	/* under the lock: a rename may change the parent */
	pthread_mutex_lock(&ufs.lk);
	c = n->parent == &ufs.root ? n->m->cache : n->parent->wd >= 0;
	pthread_mutex_unlock(&ufs.lk);
	return c;
}

static double
entrytmo(Node *parent, Member *m, Members *ms)
{
	return dircached(parent, ms) ? ufs.tmo : 0;
}

/* Find name in parent: the member and the stat.  Returns the dir fd, or -1 with errno. */
static int
resolve(Node *parent, Members *ms, const char *name, Member **mp, struct stat *st)
{
	int i;

	if(parent != &ufs.root){
		if(fstatat(parent->fd, name, st, AT_SYMLINK_NOFOLLOW) < 0)
			return -1;
		*mp = parent->m;
		return parent->fd;
	}
	/* Plan 9's walk: the first member that has it; errors of the others are swallowed. */
	for(i = 0; i < ms->n; i++)
		if(fstatat(ms->m[i]->fd, name, st, AT_SYMLINK_NOFOLLOW) == 0){
			*mp = ms->m[i];
			return ms->m[i]->fd;
		}
	errno = ENOENT;
	return -1;
}

static void
replyentry(fuse_req_t req, Node *parent, Members *ms, Node *n, struct stat *st)
{
	struct fuse_entry_param e;

	memset(&e, 0, sizeof e);
	e.ino = unodeid(n);
	e.attr = *st;
	fixstat(&e.attr);
	e.attr_timeout = nodecached(n) ? ufs.tmo : 0;
	e.entry_timeout = entrytmo(parent, n->m, ms);
	if(fuse_reply_entry(req, &e) != 0){
		/* the kernel did not take it: the lookup did not happen */
		pthread_mutex_lock(&ufs.lk);
		if(--n->nlookup == 0)
			unref(n);
		pthread_mutex_unlock(&ufs.lk);
	}
}

static void
ulookup(fuse_req_t req, fuse_ino_t pino, const char *name)
{
	struct fuse_entry_param e;
	struct stat st;
	Node *parent, *n;
	Members *ms;
	Member *m;
	int fd, tries;

	parent = getnode(pino);
	if(badname(name)){
		fuse_reply_err(req, ENOENT);
		return;
	}
	ms = ugetms();
	for(tries = 0; tries < 3; tries++){
		fd = resolve(parent, ms, name, &m, &st);
		if(fd < 0){
			if(errno == ENOENT && parent != &ufs.root && parent->wd >= 0){
				/* a negative entry: the watch on parent expires it */
				memset(&e, 0, sizeof e);
				e.entry_timeout = ufs.tmo;
				fuse_reply_entry(req, &e);
			}else
				fuse_reply_err(req, errno);
			goto out;
		}
		n = child(parent, m, fd, name, &st);
		if(n != NULL){
			replyentry(req, parent, ms, n, &st);
			goto out;
		}
		if(errno != ESTALE)
			break;
	}
	fuse_reply_err(req, errno);
out:
	uputms(ms);
}

static void
forgetone(fuse_ino_t ino, uint64_t nlookup)
{
	Node *n;

	n = getnode(ino);
	if(n == &ufs.root)
		return;
	if(nlookup > n->nlookup)
		nlookup = n->nlookup;
	n->nlookup -= nlookup;
	if(n->nlookup == 0)
		unref(n);
}

static void
uforget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
	pthread_mutex_lock(&ufs.lk);
	forgetone(ino, nlookup);
	pthread_mutex_unlock(&ufs.lk);
	fuse_reply_none(req);
}

static void
uforgetmulti(fuse_req_t req, size_t count, struct fuse_forget_data *f)
{
	size_t i;

	pthread_mutex_lock(&ufs.lk);
	for(i = 0; i < count; i++)
		forgetone(f[i].ino, f[i].nlookup);
	pthread_mutex_unlock(&ufs.lk);
	fuse_reply_none(req);
}

/* The root's attributes are its first member's, as Plan 9's stat of a union. */
static int
rootstat(struct stat *st)
{
	Members *ms;
	int i, r;

	ms = ugetms();
	r = -1;
	errno = ENOENT;
	for(i = 0; i < ms->n && r < 0; i++)
		r = fstat(ms->m[i]->fd, st);
	uputms(ms);
	if(r == 0){
		fixstat(st);
		st->st_ino = FUSE_ROOT_ID;
	}
	return r;
}

static int
nodestat(Node *n, struct fuse_file_info *fi, struct stat *st)
{
	int r;

	if(n == &ufs.root)
		return rootstat(st);
	if(fi != NULL && fi->fh != 0 && n->type != S_IFDIR)
		r = fstat(fhfd(fi), st);
	else if(n->fd >= 0)
		r = fstat(n->fd, st);
	else{
		char name[NAME_MAX + 1];
		int dfd;

		dfd = locate(n, name);
		r = dfd < 0 ? -1 : fstatat(dfd, name, st, AT_SYMLINK_NOFOLLOW);
		if(dfd >= 0)
			close(dfd);
	}
	if(r == 0)
		fixstat(st);
	return r;
}

static double
attrtmo(Node *n)
{
	Members *ms;
	double t;

	if(n != &ufs.root)
		return nodecached(n) ? ufs.tmo : 0;
	ms = ugetms();
	t = allcached(ms) ? ufs.tmo : 0;
	uputms(ms);
	return t;
}

static void
ugetattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct stat st;
	Node *n;

	n = getnode(ino);
	if(nodestat(n, fi, &st) < 0){
		fuse_reply_err(req, errno);
		return;
	}
	fuse_reply_attr(req, &st, attrtmo(n));
}

/*
 * The directory fd (a dup, to close) and the name of node n, copied under
 * the lock: a rename changes both, and may free the old ones meanwhile.
 */
static int
locate(Node *n, char *name)
{
	int fd;

	pthread_mutex_lock(&ufs.lk);
	fd = fcntl(pfd(n), F_DUPFD_CLOEXEC, 0);
	snprintf(name, NAME_MAX + 1, "%s", n->name);
	pthread_mutex_unlock(&ufs.lk);
	return fd;
}

/* The directory and name a node is changed through; not the root. */
static int
where(Node *n, char *name)
{
	if(n == &ufs.root){
		errno = EPERM;
		return -1;
	}
	return locate(n, name);
}

static void
usetattr(fuse_req_t req, fuse_ino_t ino, struct stat *a, int set, struct fuse_file_info *fi)
{
	struct timespec ts[2];
	struct stat st;
	char name[NAME_MAX + 1];
	Node *n;
	int dfd, fd, r;

	n = getnode(ino);
	dfd = where(n, name);
	if(dfd < 0){
		fuse_reply_err(req, errno);
		return;
	}
	r = 0;
	if(set & FUSE_SET_ATTR_MODE){
		if(fi != NULL && fi->fh != 0 && n->type != S_IFDIR)
			r = fchmod(fhfd(fi), a->st_mode & 07777);
		else{
			/* fchmodat2 (Linux 6.6) does not follow a link swapped in; without it, the type we know is checked */
			r = syscall(452, dfd, name, a->st_mode & 07777, AT_SYMLINK_NOFOLLOW);
			if(r < 0 && (errno == ENOSYS || errno == EINVAL)){
				struct stat cur;

				if(fstatat(dfd, name, &cur, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(cur.st_mode))
					errno = EOPNOTSUPP;
				else
					r = fchmodat(dfd, name, a->st_mode & 07777, 0);
			}
		}
	}
	if(r == 0 && (set & (FUSE_SET_ATTR_UID | FUSE_SET_ATTR_GID)))
		r = fchownat(dfd, name, (set & FUSE_SET_ATTR_UID) ? a->st_uid : (uid_t)-1,
			     (set & FUSE_SET_ATTR_GID) ? a->st_gid : (gid_t)-1, AT_SYMLINK_NOFOLLOW);
	if(r == 0 && (set & FUSE_SET_ATTR_SIZE)){
		if(fi != NULL && fi->fh != 0)
			r = ftruncate(fhfd(fi), a->st_size);
		else{
			fd = openat(dfd, name, O_WRONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
			r = fd < 0 ? -1 : ftruncate(fd, a->st_size);
			if(fd >= 0)
				close(fd);
		}
	}
	if(r == 0 && (set & (FUSE_SET_ATTR_ATIME | FUSE_SET_ATTR_MTIME | FUSE_SET_ATTR_ATIME_NOW |
			     FUSE_SET_ATTR_MTIME_NOW))){
		ts[0].tv_nsec = ts[1].tv_nsec = UTIME_OMIT;
		if(set & FUSE_SET_ATTR_ATIME_NOW)
			ts[0].tv_nsec = UTIME_NOW;
		else if(set & FUSE_SET_ATTR_ATIME)
			ts[0] = a->st_atim;
		if(set & FUSE_SET_ATTR_MTIME_NOW)
			ts[1].tv_nsec = UTIME_NOW;
		else if(set & FUSE_SET_ATTR_MTIME)
			ts[1] = a->st_mtim;
		if(fi != NULL && fi->fh != 0 && n->type != S_IFDIR)
			r = futimens(fhfd(fi), ts);
		else
			r = utimensat(dfd, name, ts, AT_SYMLINK_NOFOLLOW);
	}
	if(r < 0){
		fuse_reply_err(req, errno);
		close(dfd);
		return;
	}
	close(dfd);
	if(nodestat(n, fi, &st) < 0){
		fuse_reply_err(req, errno);
		return;
	}
	fuse_reply_attr(req, &st, attrtmo(n));
}

static void
ureadlink(fuse_req_t req, fuse_ino_t ino)
{
	char buf[PATH_MAX + 1], name[NAME_MAX + 1];
	Node *n;
	ssize_t r;
	int dfd;

	n = getnode(ino);
	dfd = where(n, name);
	if(dfd < 0){
		fuse_reply_err(req, EINVAL);
		return;
	}
	r = readlinkat(dfd, name, buf, sizeof buf - 1);
	close(dfd);
	if(r < 0){
		fuse_reply_err(req, errno);
		return;
	}
	buf[r] = 0;
	fuse_reply_readlink(req, buf);
}

/* --- making names: the directory a new name goes in (plan9.md §2.7) --- */

typedef struct Made Made;
struct Made {
	Members *ms;
	Member *m;
	int dfd;
};

/*
 * The directory a create in parent goes to: below the root, parent's own;
 * in the root, the first MCREATE member, and no other.
 */
static int
target(Node *parent, Made *mk)
{
	int i;

	mk->ms = ugetms();
	if(parent != &ufs.root){
		mk->m = parent->m;
		mk->dfd = parent->fd;
		return 0;
	}
	for(i = 0; i < mk->ms->n; i++)
		if(mk->ms->m[i]->flag & NS_MCREATE){
			mk->m = mk->ms->m[i];
			mk->dfd = mk->m->fd;
			return 0;
		}
	errno = EPERM;	/* Plan 9: mounted directory forbids creation */
	return -1;
}

/* After a name was made in mk's directory: its entry. */
static void
made(fuse_req_t req, Node *parent, Made *mk, const char *name, struct fuse_file_info *fi)
{
	struct fuse_entry_param e;
	struct stat st;
	Node *n;
	int id;

	if(fstatat(mk->dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
	   (n = child(parent, mk->m, mk->dfd, name, &st)) == NULL){
		if(fi != NULL)
			close(fhfd(fi));
		fuse_reply_err(req, errno);
		return;
	}
	memset(&e, 0, sizeof e);
	e.ino = unodeid(n);
	e.attr = st;
	fixstat(&e.attr);
	e.attr_timeout = nodecached(n) ? ufs.tmo : 0;
	e.entry_timeout = entrytmo(parent, mk->m, mk->ms);
	id = fi != NULL ? backing(n, fhfd(fi)) : -1;
	if(id > 0)
		fi->fh |= (uint64_t)id << 32;
	if((id > 0 ? ureplycreatept(req, &e, fi, id) :
	    fi != NULL ? fuse_reply_create(req, &e, fi) : fuse_reply_entry(req, &e)) != 0){
		if(fi != NULL)
			close(fhfd(fi));
		if(id > 0)
			unbacking(n);
		pthread_mutex_lock(&ufs.lk);
		if(--n->nlookup == 0)
			unref(n);
		pthread_mutex_unlock(&ufs.lk);
	}
}

enum { Mknod, Symlink, Link };

/* mknod, mkdir, symlink and link: the directory a new name goes in, the call, its entry. */
static void
makename(fuse_req_t req, fuse_ino_t pino, const char *name, int kind, mode_t mode, dev_t rdev,
	 const char *link, Node *src)
{
	char old[NAME_MAX + 1];
	Made mk;
	Node *parent;
	int r, dfd;

	parent = getnode(pino);
	if(badname(name) || src == &ufs.root){
		fuse_reply_err(req, EINVAL);
		return;
	}
	if(target(parent, &mk) < 0){
		fuse_reply_err(req, errno);
		goto out;
	}
	switch(kind){
	case Mknod:
		r = S_ISDIR(mode) ? mkdirat(mk.dfd, name, mode & 07777) : mknodat(mk.dfd, name, mode, rdev);
		break;
	case Symlink:
		r = symlinkat(link, mk.dfd, name);
		break;
	default:
		dfd = locate(src, old);
		r = dfd < 0 ? -1 : linkat(dfd, old, mk.dfd, name, 0);
		if(dfd >= 0)
			close(dfd);
	}
	if(r < 0)
		fuse_reply_err(req, errno);
	else
		made(req, parent, &mk, name, NULL);
out:
	uputms(mk.ms);
}

static void
umknod(fuse_req_t req, fuse_ino_t pino, const char *name, mode_t mode, dev_t rdev)
{
	makename(req, pino, name, Mknod, mode, rdev, NULL, NULL);
}

static void
umkdir(fuse_req_t req, fuse_ino_t pino, const char *name, mode_t mode)
{
	makename(req, pino, name, Mknod, S_IFDIR | (mode & 07777), 0, NULL, NULL);
}

static void
usymlink(fuse_req_t req, const char *link, fuse_ino_t pino, const char *name)
{
	makename(req, pino, name, Symlink, 0, 0, link, NULL);
}

static void
ulink(fuse_req_t req, fuse_ino_t ino, fuse_ino_t pino, const char *name)
{
	makename(req, pino, name, Link, 0, 0, NULL, getnode(ino));
}

static void
ucreate(fuse_req_t req, fuse_ino_t pino, const char *name, mode_t mode, struct fuse_file_info *fi)
{
	Made mk;
	Node *parent;
	int fd;

	parent = getnode(pino);
	if(badname(name)){
		fuse_reply_err(req, EINVAL);
		return;
	}
	if(target(parent, &mk) < 0){
		fuse_reply_err(req, errno);
		goto out;
	}
	fd = openat(mk.dfd, name, (fi->flags & ~O_NOCTTY) | O_CREAT | O_NOFOLLOW | O_CLOEXEC, mode & 07777);
	if(fd < 0){
		fuse_reply_err(req, errno);
		goto out;
	}
	fi->fh = fd;
	fi->keep_cache = parent == &ufs.root ? mk.m->cache : parent->wd >= 0;
	made(req, parent, &mk, name, fi);
out:
	uputms(mk.ms);
}

/* --- removing and renaming: the file the name resolves to (plan9.md §2.9) --- */

static void
uremove(fuse_req_t req, fuse_ino_t pino, const char *name, int flags)
{
	struct stat st;
	Node *parent, *n;
	Members *ms;
	Member *m;
	int dfd;

	parent = getnode(pino);
	if(badname(name)){
		fuse_reply_err(req, EINVAL);
		return;
	}
	ms = ugetms();
	dfd = resolve(parent, ms, name, &m, &st);
	if(dfd < 0 || unlinkat(dfd, name, flags) < 0){
		fuse_reply_err(req, errno);
		goto out;
	}
	pthread_mutex_lock(&ufs.lk);
	n = findchild(parent, name);
	if(n != NULL && n->m == m)
		unhash(n);
	pthread_mutex_unlock(&ufs.lk);
	fuse_reply_err(req, 0);
out:
	uputms(ms);
}

static void
uunlink(fuse_req_t req, fuse_ino_t pino, const char *name)
{
	uremove(req, pino, name, 0);
}

static void
urmdir(fuse_req_t req, fuse_ino_t pino, const char *name)
{
	uremove(req, pino, name, AT_REMOVEDIR);
}

static void
urename(fuse_req_t req, fuse_ino_t pino, const char *name, fuse_ino_t npino, const char *newname,
	unsigned int flags)
{
	struct stat st;
	Node *parent, *nparent, *n, *old;
	Members *ms;
	Member *m;
	int sfd, dfd;

	parent = getnode(pino);
	nparent = getnode(npino);
	if(badname(name) || badname(newname)){
		fuse_reply_err(req, EINVAL);
		return;
	}
	ms = ugetms();
	sfd = resolve(parent, ms, name, &m, &st);
	if(sfd < 0){
		fuse_reply_err(req, errno);
		goto out;
	}
	/* Within the member the file is in: nothing moves between members. */
	if(nparent == &ufs.root)
		dfd = m->fd;
	else if(nparent->m != m){
		fuse_reply_err(req, EXDEV);
		goto out;
	}else
		dfd = nparent->fd;
	if(syscall(SYS_renameat2, sfd, name, dfd, newname, flags) < 0){
		fuse_reply_err(req, errno);
		goto out;
	}
	pthread_mutex_lock(&ufs.lk);
	n = findchild(parent, name);
	if(n != NULL && n->m == m){
		old = findchild(nparent, newname);
		if(old != NULL)
			unhash(old);
		unhash(n);
		if(flags & RENAME_EXCHANGE && old != NULL){
			free(old->name);
			old->name = estrdup(name);
			if(old->parent != parent){
				parent->ref++;
				unref(old->parent);
				old->parent = parent;
			}
			hashin(old);
		}
		free(n->name);
		n->name = estrdup(newname);
		if(n->parent != nparent){
			nparent->ref++;
			unref(n->parent);
			n->parent = nparent;
		}
		hashin(n);
	}
	pthread_mutex_unlock(&ufs.lk);
	fuse_reply_err(req, 0);
out:
	uputms(ms);
}

/* --- files --- */

/*
 * Passthrough (serve.c): every open of a file uses one backing id, the
 * kernel's rule, registered at its first open and given back at its last
 * release.  -1: none (the file is served as usual).
 */
static int
backing(Node *n, int fd)
{
	int id, other;

	if(!ufs.passthrough || n->type != S_IFREG)
		return -1;
	pthread_mutex_lock(&ufs.lk);
	if(n->nbid > 0){
		n->nbid++;
		id = n->bid;
		pthread_mutex_unlock(&ufs.lk);
		return id;
	}
	pthread_mutex_unlock(&ufs.lk);
	id = ubackingopen(fd);
	if(id < 0)
		return -1;
	pthread_mutex_lock(&ufs.lk);
	if(n->nbid > 0){	/* another open registered it meanwhile */
		n->nbid++;
		other = n->bid;
		pthread_mutex_unlock(&ufs.lk);
		ubackingclose(id);
		return other;
	}
	n->bid = id;
	n->nbid = 1;
	pthread_mutex_unlock(&ufs.lk);
	return id;
}

static void
unbacking(Node *n)
{
	int id;

	pthread_mutex_lock(&ufs.lk);
	id = 0;
	if(n->nbid > 0 && --n->nbid == 0){
		id = n->bid;
		n->bid = 0;
	}
	pthread_mutex_unlock(&ufs.lk);
	ubackingclose(id);
}

static void
uopen(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	Node *n;
	int fd, id;

	n = getnode(ino);
	if(n == &ufs.root){
		fuse_reply_err(req, EISDIR);
		return;
	}
	/*
	 * Never wait in open (a name swapped for a FIFO beside the union would
	 * hold a worker), and open only the file the node is: a name that now
	 * holds another file is ESTALE, and the kernel looks it up again.
	 */
	{
		char name[NAME_MAX + 1];
		int dfd;

		dfd = locate(n, name);
		fd = dfd < 0 ? -1 : openat(dfd, name, (fi->flags & ~(O_CREAT | O_EXCL | O_NOCTTY)) | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
		if(dfd >= 0)
			close(dfd);
	}
	if(fd < 0){
		fuse_reply_err(req, errno == ELOOP ? ESTALE : errno);
		return;
	}
	{
		struct stat st;

		if(fstat(fd, &st) < 0 || st.st_dev != n->dev || st.st_ino != n->ino || !S_ISREG(st.st_mode)){
			close(fd);
			fuse_reply_err(req, ESTALE);
			return;
		}
	}
	if(!(fi->flags & O_NONBLOCK))
		fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	fi->fh = fd;
	fi->keep_cache = nodecached(n);
	/*
	 * The kernel's readahead sends reads of a file in several requests at
	 * once, served by several workers: the member must not take them for
	 * random ones and shrink its own readahead.
	 */
	if(n->type == S_IFREG && (fi->flags & O_ACCMODE) != O_WRONLY)
		posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	if((id = backing(n, fd)) > 0){
		fi->fh |= (uint64_t)id << 32;
		if(ureplyopenpt(req, fi, id) < 0){
			close(fd);
			unbacking(n);
		}
		return;
	}
	if(fuse_reply_open(req, fi) != 0)
		close(fd);
}

static __thread char *iobuf;

/* A worker's buffer of Maxio bytes for one answer. */
static char *
scratch(void)
{
	if(iobuf == NULL)
		iobuf = erealloc(NULL, Maxio);	/* not zeroed: only what is written is sent */
	return iobuf;
}

static void
uread(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi)
{
	ssize_t r;

	if(size > Maxio)
		size = Maxio;
	r = pread(fhfd(fi), scratch(), size, off);
	if(r < 0){
		fuse_reply_err(req, errno);
		return;
	}
	fuse_reply_buf(req, iobuf, r);
	/*
	 * The member's next pages, asked for now, after the answer: the disk
	 * works while the kernel copies this piece (a cold read 0.3-0.4x the
	 * member's own without it, docs/perf.md).
	 */
	if((size_t)r == size && size >= 65536)
		readahead(fhfd(fi), off + r, 4 * (off_t)size);
}

static void
uwrite(fuse_req_t req, fuse_ino_t ino, const char *buf, size_t size, off_t off, struct fuse_file_info *fi)
{
	ssize_t r;

	r = pwrite(fhfd(fi), buf, size, off);
	if(r < 0)
		fuse_reply_err(req, errno);
	else
		fuse_reply_write(req, r);
}

static void
uflush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	fuse_reply_err(req, 0);
}

static void
urelease(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	close(fhfd(fi));
	if(fi->fh >> 32)
		unbacking(getnode(ino));
	fuse_reply_err(req, 0);
}

static void
ufsync(fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi)
{
	fuse_reply_err(req, (datasync ? fdatasync(fhfd(fi)) : fsync(fhfd(fi))) < 0 ? errno : 0);
}

/* --- directories: the root's listing is its members', in order, each name once --- */

typedef struct Ent Ent;
struct Ent {
	uint64_t ino;
	uint32_t off;	/* of the name in names */
	uint32_t type : 4;	/* DT_*, all below 16 */
	uint32_t hash : 28;	/* of the name, in the root (seen()) */
};

/*
 * A directory's listing.  The last one of a directory the kernel may
 * cache (a watch covers it) is kept on its node and shared by every open
 * of it until the directory changes (gen): a hundred opens of a large
 * directory hold one copy, not a hundred.
 */
struct Dir {
	int ref;
	uint64_t gen;	/* the node's when it was read */
	Ent *e;
	size_t n, cap;
	Buf names;
	uint32_t *set;	/* the root's names seen (seen()): entry index + 1, open addressing; NULL below */
	size_t setcap;
};

/* An open directory. */
typedef struct Handle Handle;
struct Handle {
	Node *node;
	Dir *d;
};

static const char *
entname(Dir *d, size_t i)
{
	return d->names.s + d->e[i].off;
}

/* FNV-1a: names like f0 ... f9999 spread well. */
static uint32_t
namehash(const char *s, size_t n)
{
	uint32_t h;
	size_t i;

	h = 2166136261u;
	for(i = 0; i < n; i++){
		h ^= (unsigned char)s[i];
		h *= 16777619u;
	}
	return h;
}

/*
 * Fault in the whole pages of [p, p+n) with one call (MADV_POPULATE_WRITE,
 * Linux 5.14) rather than a fault a page as the listing is written: a
 * listing's arrays are fresh memory, and a fault costs microseconds on a
 * virtual machine.  Only a hint: nothing is changed, errors are ignored.
 */
static void
prefault(void *p, size_t n)
{
	uintptr_t a, b;

	a = ((uintptr_t)p + 4095) & ~(uintptr_t)4095;
	b = ((uintptr_t)p + n) & ~(uintptr_t)4095;
	if(b > a)
		madvise((void *)a, b - a, MADV_POPULATE_WRITE);
}

/*
 * Room for the set to hold n names at three quarters load (a power of
 * 2).  Its slots are 4 bytes and the hashes are kept in the entries, so
 * that a fresh listing zeroes and faults in little memory, and no name
 * is hashed twice.
 */
static void
setroom(Dir *d, size_t n)
{
	size_t i, j, oc, mask;
	uint32_t *os, x;

	if(4 * n <= 3 * d->setcap)
		return;
	os = d->set;
	oc = d->setcap;
	if(d->setcap == 0)
		d->setcap = 1024;
	while(4 * n > 3 * d->setcap)
		d->setcap *= 2;
	mask = d->setcap - 1;
	d->set = erealloc(NULL, d->setcap * sizeof d->set[0]);
	prefault(d->set, d->setcap * sizeof d->set[0]);
	memset(d->set, 0, d->setcap * sizeof d->set[0]);
	for(j = 0; j < oc; j++)
		if((x = os[j]) != 0){
			for(i = d->e[x - 1].hash & mask; d->set[i] != 0; i = (i + 1) & mask)
				;
			d->set[i] = x;
		}
	free(os);
}

/* Whether name is in the set; if not, it will be entry d->n, whose hash is *hp. */
static int
seen(Dir *d, const char *name, size_t len, uint32_t *hp)
{
	uint32_t h, x;
	size_t i, mask;

	setroom(d, d->n + 1);
	mask = d->setcap - 1;
	h = namehash(name, len) & 0x0fffffff;
	for(i = h & mask; (x = d->set[i]) != 0; i = (i + 1) & mask)
		if(d->e[x - 1].hash == h && strcmp(entname(d, x - 1), name) == 0)
			return 1;
	d->set[i] = d->n + 1;
	*hp = h;
	return 0;
}

static void
addent(Dir *d, uint64_t ino, unsigned char type, const char *name, size_t len, uint32_t hash)
{
	if(d->n == d->cap){
		d->cap = d->cap ? 2 * d->cap : 256;
		d->e = erealloc(d->e, d->cap * sizeof d->e[0]);
	}
	d->e[d->n].ino = ino;
	d->e[d->n].type = type & 15;
	d->e[d->n].hash = hash;
	d->e[d->n].off = d->names.n;
	if(d->names.n + len + 2 > d->names.cap){
		d->names.cap = d->names.cap ? 2 * d->names.cap : 4096;
		while(d->names.n + len + 2 > d->names.cap)
			d->names.cap *= 2;
		d->names.s = erealloc(d->names.s, d->names.cap);
	}
	memcpy(d->names.s + d->names.n, name, len + 1);
	d->names.n += len + 1;
	d->n++;
}

/*
 * Room for a listing of about what the members' directory sizes say
 * (ext4 gives 16 bytes or more an entry, tmpfs 20), so that reading it
 * grows no array; what is left over is given back when it is read.
 */
static void
presize(Dir *d, off_t size)
{
	size_t n;

	if(size <= 0)
		return;
	n = (size_t)size / 16 + 16;
	if(n > (1 << 20))
		n = 1 << 20;
	if(n > d->cap){
		d->cap = n;
		d->e = erealloc(d->e, d->cap * sizeof d->e[0]);
		prefault(d->e, d->cap * sizeof d->e[0]);
	}
	if(8 * n > d->names.cap){
		d->names.cap = 8 * n;
		d->names.s = erealloc(d->names.s, d->names.cap);
		prefault(d->names.s, d->names.cap);
	}
	if(d->set != NULL)
		setroom(d, n);
}

static void
fitdir(Dir *d)
{
	if(d->cap > d->n + 64){
		d->cap = d->n;
		d->e = erealloc(d->e, (d->cap ? d->cap : 1) * sizeof d->e[0]);
	}
	if(d->names.cap > d->names.n + 4096){
		d->names.cap = d->names.n + 1;
		d->names.s = erealloc(d->names.s, d->names.cap);
	}
}

static __thread char *dentbuf;

/* Add the entries of directory dfd; with dedup in the root. Errors end this member only. */
static void
readmember(Dir *d, int dfd, dev_t dev)
{
	struct {
		uint64_t ino;
		int64_t off;
		unsigned short reclen;
		unsigned char type;
		char name[];
	} *de;
	size_t len;
	long n, i;
	uint32_t h;
	int fd;

	fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if(fd < 0)
		return;
	if(dentbuf == NULL)
		dentbuf = erealloc(NULL, 65536);
	while((n = syscall(SYS_getdents64, fd, dentbuf, 65536)) > 0)
		for(i = 0; i < n; i += de->reclen){
			de = (void *)(dentbuf + i);
			if(de->name[0] == '.' && (de->name[1] == 0 || (de->name[1] == '.' && de->name[2] == 0)))
				continue;
			len = strlen(de->name);
			h = 0;
			if(d->set != NULL && seen(d, de->name, len, &h))
				continue;
			addent(d, de->ino ^ ((uint64_t)dev << 40), de->type, de->name, len, h);
		}
	close(fd);
}

/* (Re)read the listing of node n into d. */
static void
builddir(Dir *d, Node *n)
{
	struct stat st;
	Members *ms;
	int j;

	off_t size;

	d->n = 0;
	d->names.n = 0;
	if(n == &ufs.root){
		ms = ugetms();
		size = 0;
		for(j = 0; j < ms->n; j++)
			if(fstat(ms->m[j]->fd, &st) == 0)
				size += st.st_size;
		/* . and .. are not in the set: members' own are skipped */
		setroom(d, 512);
		presize(d, size);
		addent(d, unodeid(n), DT_DIR, ".", 1, 0);
		addent(d, unodeid(n), DT_DIR, "..", 2, 0);
		for(j = 0; j < ms->n; j++)
			if(fstat(ms->m[j]->fd, &st) == 0)
				readmember(d, ms->m[j]->fd, st.st_dev);
		uputms(ms);
		free(d->set);
		d->set = NULL;
		d->setcap = 0;
	}else{
		if(fstat(n->fd, &st) == 0)
			presize(d, st.st_size);
		addent(d, unodeid(n), DT_DIR, ".", 1, 0);
		addent(d, unodeid(n), DT_DIR, "..", 2, 0);
		readmember(d, n->fd, n->dev);
	}
	fitdir(d);
}

/* Drop a reference; with ufs.lk held. */
static void
putdirlocked(Dir *d)
{
	if(d == NULL || --d->ref > 0)
		return;
	free(d->e);
	buffree(&d->names);
	free(d);
}

static void
putdir(Dir *d)
{
	pthread_mutex_lock(&ufs.lk);
	putdirlocked(d);
	pthread_mutex_unlock(&ufs.lk);
}

/* The listing of n: the shared one if it is still good, else read afresh. */
static Dir *
getdir(Node *n)
{
	Members *ms;
	Dir *d;
	uint64_t gen;
	int share;

	ms = ugetms();
	share = dircached(n, ms);
	uputms(ms);
	pthread_mutex_lock(&ufs.lk);
	gen = n->gen;
	if(share && n->ls != NULL && n->ls->gen == gen){
		d = n->ls;
		d->ref++;
		pthread_mutex_unlock(&ufs.lk);
		return d;
	}
	pthread_mutex_unlock(&ufs.lk);
	d = emalloc(sizeof *d);
	d->ref = 1;
	d->gen = gen;	/* a change while it is read makes it stale at once */
	builddir(d, n);
	if(share){
		pthread_mutex_lock(&ufs.lk);
		putdirlocked(n->ls);
		n->ls = d;
		d->ref++;
		pthread_mutex_unlock(&ufs.lk);
	}
	return d;
}

/*
 * The listing is read at the first readdir, not here: when the kernel
 * has it cached (a watched member), it asks for none.
 */
static void
uopendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	Members *ms;
	Node *n;
	Handle *h;
	int cache;

	n = getnode(ino);
	if(n != &ufs.root && n->fd < 0){
		fuse_reply_err(req, ENOTDIR);
		return;
	}
	if(n == &ufs.root){
		ms = ugetms();
		cache = allcached(ms);
		uputms(ms);
	}else
		cache = n->wd >= 0;
	h = emalloc(sizeof *h);
	h->node = n;
	fi->fh = (uintptr_t)h;
	/*
	 * The kernel keeps a listing (filling its cache as it is read) only
	 * from the second time the directory is listed unchanged: filling it
	 * costs the first listing a third of its time, and most directories
	 * are listed once.
	 */
	pthread_mutex_lock(&ufs.lk);
	fi->cache_readdir = cache && n->ls != NULL && n->ls->gen == n->gen;
	pthread_mutex_unlock(&ufs.lk);
	fi->keep_cache = cache;
	if(fuse_reply_open(req, fi) != 0)
		free(h);
}

static void
ureaddir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi)
{
	struct stat st;
	Handle *h;
	Dir *d;
	char *buf;
	size_t pos, k;
	off_t i;

	h = (Handle *)(uintptr_t)fi->fh;
	/* Offset 0 reads the members again, as Plan 9 rewinds a union. */
	if(off == 0 || h->d == NULL){
		putdir(h->d);
		h->d = getdir(h->node);
	}
	d = h->d;
	if(size > Maxio)
		size = Maxio;
	buf = scratch();
	pos = 0;
	memset(&st, 0, sizeof st);
	for(i = off; i >= 0 && (size_t)i < d->n; i++){
		st.st_ino = d->e[i].ino;
		st.st_mode = (mode_t)d->e[i].type << 12;
		k = fuse_add_direntry(req, buf + pos, size - pos, entname(d, i), &st, i + 1);
		if(k > size - pos)
			break;
		pos += k;
	}
	fuse_reply_buf(req, buf, pos);
}

static void
ureleasedir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	Handle *h;

	h = (Handle *)(uintptr_t)fi->fh;
	putdir(h->d);
	free(h);
	fuse_reply_err(req, 0);
}

static void
ustatfs(fuse_req_t req, fuse_ino_t ino)
{
	struct statvfs sv;
	Members *ms;
	Node *n;
	int r;

	n = getnode(ino);
	if(n != &ufs.root && n->fd >= 0)
		r = fstatvfs(n->fd, &sv);
	else if(n != &ufs.root)
		{
			char name[NAME_MAX + 1];
			int dfd;

			dfd = locate(n, name);
			r = dfd < 0 ? -1 : fstatvfs(dfd, &sv);
			if(dfd >= 0)
				close(dfd);
		}
	else{
		ms = ugetms();
		r = -1;
		errno = ENOENT;
		if(ms->n > 0)
			r = fstatvfs(ms->m[0]->fd, &sv);
		uputms(ms);
	}
	if(r < 0)
		fuse_reply_err(req, errno);
	else
		fuse_reply_statfs(req, &sv);
}

void
uexpireroot(Member *m, int hard)
{
	char **names;
	size_t i, n, cap;
	Node *x;

	names = NULL;
	n = cap = 0;
	pthread_mutex_lock(&ufs.lk);
	for(i = 0; i < ufs.nhash; i++)
		for(x = ufs.hash[i]; x != NULL; x = x->hnext)
			if(x->parent == &ufs.root && (m == NULL || x->m == m)){
				if(n == cap){
					cap = cap ? 2 * cap : 64;
					names = erealloc(names, cap * sizeof names[0]);
				}
				names[n++] = estrdup(x->name);
			}
	pthread_mutex_unlock(&ufs.lk);
	for(i = 0; i < n; i++){
		if(hard)
			uinvalentry(FUSE_ROOT_ID, names[i]);
		else
			uexpire(FUSE_ROOT_ID, names[i]);
		free(names[i]);
	}
	free(names);
	uinvalinode(FUSE_ROOT_ID);
}

/*
 * The inotify events: a name made, removed or renamed beside the union
 * expires its entry; a file changed expires its attributes and pages.
 * Notifications go out without the lock: the kernel may wait, in them,
 * for a request a worker is serving.
 */
void
uwatchevents(void)
{
	char buf[65536] __attribute__((aligned(8)));
	struct inotify_event *ev;
	typedef struct { uint64_t parent; char *name; uint64_t ino; } Note;
	Note *notes;
	size_t nn, cap, i;
	ssize_t r, k;
	Watch *w;
	Node *x, *c;

	r = read(ufs.ifd, buf, sizeof buf);
	if(r <= 0)
		return;
	notes = NULL;
	nn = cap = 0;
#define NOTE(p, s, i) do { \
		if(nn == cap){ cap = cap ? 2 * cap : 64; notes = erealloc(notes, cap * sizeof notes[0]); } \
		notes[nn].parent = (p); notes[nn].name = (s) != NULL ? estrdup(s) : NULL; notes[nn].ino = (i); nn++; \
	} while(0)
	pthread_mutex_lock(&ufs.lk);
	for(k = 0; k < r; k += sizeof *ev + ev->len){
		ev = (struct inotify_event *)(buf + k);
		if(ev->mask & IN_Q_OVERFLOW){
			/* events lost: forget everything cached */
			ufs.root.gen++;
			for(i = 0; i < ufs.nhash; i++)
				for(x = ufs.hash[i]; x != NULL; x = x->hnext){
					x->gen++;
					NOTE(unodeid(x->parent), x->name, unodeid(x));
				}
			NOTE(0, NULL, FUSE_ROOT_ID);
			continue;
		}
		w = findwatch(ev->wd);
		if(w == NULL)
			continue;
		if(ev->len == 0 || ev->name[0] == 0){
			/* the directory itself */
			for(x = w->nodes; x != NULL; x = x->wnext)
				NOTE(0, NULL, unodeid(x));
			if(w->members)
				NOTE(0, NULL, FUSE_ROOT_ID);
			continue;
		}
		if(w->members){
			if(ev->mask & Entrychange){
				ufs.root.gen++;
				NOTE(FUSE_ROOT_ID, ev->name, FUSE_ROOT_ID);
			}else if((c = findchild(&ufs.root, ev->name)) != NULL)
				NOTE(0, NULL, unodeid(c));
		}
		for(x = w->nodes; x != NULL; x = x->wnext){
			if(ev->mask & Entrychange){
				x->gen++;
				NOTE(unodeid(x), ev->name, unodeid(x));
			}else if((c = findchild(x, ev->name)) != NULL)
				NOTE(0, NULL, unodeid(c));
		}
	}
	pthread_mutex_unlock(&ufs.lk);
#undef NOTE
	for(i = 0; i < nn; i++){
		if(notes[i].name != NULL)
			uexpire(notes[i].parent, notes[i].name);
		if(notes[i].ino != 0)
			uinvalinode(notes[i].ino);
		free(notes[i].name);
	}
	free(notes);
}

int
uownfd(int fd)
{
	struct stat st;
	Node *x;
	size_t i;
	int r;

	if(!ufs.started || ufs.dev == 0 || fstat(fd, &st) < 0 || st.st_dev != ufs.dev)
		return -1;
	if(st.st_ino == FUSE_ROOT_ID)
		return -2;
	r = -1;
	pthread_mutex_lock(&ufs.lk);
	for(i = 0; i < ufs.nhash && r < 0; i++)
		for(x = ufs.hash[i]; x != NULL; x = x->hnext)
			if(x->fd >= 0 && (x->ino ^ (uint64_t)x->dev << 40) == st.st_ino){
				r = fcntl(x->fd, F_DUPFD_CLOEXEC, 0);
				break;
			}
	pthread_mutex_unlock(&ufs.lk);
	return r;
}

void
urootchanged(void)
{
	pthread_mutex_lock(&ufs.lk);
	ufs.root.gen++;
	pthread_mutex_unlock(&ufs.lk);
}

void
ufreeall(void)
{
	Node *x, *next;
	Watch *w, *wn;
	size_t i;

	for(i = 0; i < ufs.nhash; i++){
		for(x = ufs.hash[i]; x != NULL; x = next){
			next = x->hnext;
			if(x->fd >= 0)
				close(x->fd);
			putdirlocked(x->ls);
			free(x->name);
			free(x);
		}
		ufs.hash[i] = NULL;
	}
	free(ufs.hash);
	ufs.hash = NULL;
	ufs.nhash = ufs.nnodes = 0;
	for(i = 0; i < Nwhash; i++)
		for(w = watches[i]; w != NULL; w = wn){
			wn = w->next;
			free(w);
		}
}

void
uopsinit(struct fuse_lowlevel_ops *ops)
{
	ops->lookup = ulookup;
	ops->forget = uforget;
	ops->forget_multi = uforgetmulti;
	ops->getattr = ugetattr;
	ops->setattr = usetattr;
	ops->readlink = ureadlink;
	ops->mknod = umknod;
	ops->mkdir = umkdir;
	ops->symlink = usymlink;
	ops->link = ulink;
	ops->unlink = uunlink;
	ops->rmdir = urmdir;
	ops->rename = urename;
	ops->create = ucreate;
	ops->open = uopen;
	ops->read = uread;
	ops->write = uwrite;
	ops->flush = uflush;
	ops->release = urelease;
	ops->fsync = ufsync;
	ops->opendir = uopendir;
	ops->readdir = ureaddir;
	ops->releasedir = ureleasedir;
	ops->statfs = ustatfs;
}
