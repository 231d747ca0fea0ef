/*
 * exportfs.c: a 9P server of a directory tree, confined beneath its root.
 * The root is opened once as an O_PATH fd and every name is resolved from
 * it with openat2(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS), plus
 * RESOLVE_NO_SYMLINKS where the dialect does not follow links (.u, .L:
 * the client reads them); changes use *at calls on a directory fd opened
 * that way and a single-component name, never a path resolved from "/".
 * Fids are paths (exportimpl.h); an fd is held only while a fid is open.
 *
 * Credentials: the server acts as the user who runs it, as Plan 9's
 * exportfs does: the attach uname is recorded (P9Fid.uname) but no id is
 * switched, and the kernel checks every access against the server's ids.
 *
 * The framework runs serve in several threads per conversation, and one
 * Xfs is shared by every conversation: fs->lk guards the path table,
 * Xfid.lk a fid's directory position.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <unistd.h>

#include "exportimpl.h"

__thread Xscratch xscratch;

enum {
	Maxpinned = 1024,	/* inodes kept for fids whose name went: well below the fd limit */
	Pollms = 100,	/* a read or write that waits looks for a flush this often */
};

/* --- the path table --- */

static uint32_t
hashstr(const char *s)
{
	uint32_t h;

	h = 2166136261U;
	for(; *s != 0; s++)
		h = (h ^ (uint8_t)*s) * 16777619U;
	return h;
}

static void
tabinsert(Xfs *fs, Xpath *p)
{
	Xpath **tab, *q, *next;
	size_t i, n;

	if(fs->npath + 1 > 2 * fs->ntab){
		n = fs->ntab ? 2 * fs->ntab : 256;
		tab = emalloc(n * sizeof tab[0]);
		for(i = 0; i < fs->ntab; i++)
			for(q = fs->tab[i]; q != NULL; q = next){
				next = q->next;
				q->next = tab[q->hash % n];
				tab[q->hash % n] = q;
			}
		free(fs->tab);
		fs->tab = tab;
		fs->ntab = n;
	}
	p->next = fs->tab[p->hash % fs->ntab];
	fs->tab[p->hash % fs->ntab] = p;
	fs->npath++;
}

static void
tabremove(Xfs *fs, Xpath *p)
{
	Xpath **l;

	for(l = &fs->tab[p->hash % fs->ntab]; *l != NULL; l = &(*l)->next)
		if(*l == p){
			*l = p->next;
			fs->npath--;
			return;
		}
}

/* Called with fs->lk held. */
static Xpath *
pathget(Xfs *fs, const char *s)
{
	Xpath *p;
	uint32_t h;

	h = hashstr(s);
	if(fs->ntab > 0)
		for(p = fs->tab[h % fs->ntab]; p != NULL; p = p->next)
			if(p->hash == h && strcmp(p->s, s) == 0){
				p->ref++;
				return p;
			}
	p = emalloc(sizeof *p);
	p->s = estrdup(s);
	p->hash = h;
	p->ref = 1;
	p->fd = -1;
	tabinsert(fs, p);
	return p;
}

/* Called with fs->lk held. */
static void
pathput(Xfs *fs, Xpath *p)
{
	if(p == NULL || --p->ref > 0)
		return;
	if(!p->gone)
		tabremove(fs, p);
	if(p->fd >= 0){
		close(p->fd);
		fs->npinned--;
	}
	free(p->s);
	free(p);
}

Xfid *
xnewfid(Xfs *fs, const char *path)
{
	Xfid *f;

	f = emalloc(sizeof *f);
	f->fs = fs;
	f->fd = -1;
	pthread_mutex_init(&f->lk, NULL);
	pthread_mutex_lock(&fs->lk);
	f->path = pathget(fs, path);
	pthread_mutex_unlock(&fs->lk);
	return f;
}

/* A new fid naming what f names (the same Xpath: a clone). */
Xfid *
xdupfid(Xfid *f)
{
	Xfid *n;

	n = emalloc(sizeof *n);
	n->fs = f->fs;
	n->fd = -1;
	pthread_mutex_init(&n->lk, NULL);
	pthread_mutex_lock(&f->fs->lk);
	n->path = f->path;
	n->path->ref++;
	pthread_mutex_unlock(&f->fs->lk);
	return n;
}

int
xgetpath(Xfid *f, char *buf)
{
	size_t n;

	pthread_mutex_lock(&f->fs->lk);
	n = strlen(f->path->s);
	if(n < PATH_MAX)
		memcpy(buf, f->path->s, n + 1);
	pthread_mutex_unlock(&f->fs->lk);
	if(n >= PATH_MAX)
		return seterr(ENAMETOOLONG, "file name too long");
	return 0;
}

void
xsetpath(Xfid *f, const char *path)
{
	Xpath *old;

	pthread_mutex_lock(&f->fs->lk);
	old = f->path;
	f->path = pathget(f->fs, path);
	if(f->fd >= 0){
		old->nopen--;
		f->path->nopen++;
	}
	pathput(f->fs, old);
	pthread_mutex_unlock(&f->fs->lk);
}

/* old was renamed to new: every path at or below old follows it. */
void
xrenamed(Xfs *fs, const char *old, const char *new)
{
	Xpath *moved, *p, **l;
	size_t i, n;
	char *s;

	n = strlen(old);
	if(strcmp(old, ".") == 0 || strcmp(old, new) == 0)
		return;
	moved = NULL;
	pthread_mutex_lock(&fs->lk);
	for(i = 0; i < fs->ntab; i++)
		for(l = &fs->tab[i]; (p = *l) != NULL;){
			if(strncmp(p->s, old, n) == 0 && (p->s[n] == 0 || p->s[n] == '/')){
				*l = p->next;
				fs->npath--;
				p->next = moved;
				moved = p;
			}else
				l = &p->next;
		}
	while((p = moved) != NULL){
		moved = p->next;
		s = esmprint("%s%s", new, p->s + n);
		free(p->s);
		p->s = s;
		p->hash = hashstr(s);
		tabinsert(fs, p);
	}
	pthread_mutex_unlock(&fs->lk);
}

/*
 * Before name (path) in dfd is unlinked or replaced: when fids name it,
 * an O_PATH fd of what it is now, for xpin.  -1 when nobody names it
 * (or it is gone already).
 */
int
xprepin(Xfs *fs, const char *path, int dfd, const char *name)
{
	struct open_how how;
	Xpath *p;
	uint32_t h;
	int named, e;

	h = hashstr(path);
	named = 0;
	pthread_mutex_lock(&fs->lk);
	if(fs->ntab > 0)
		for(p = fs->tab[h % fs->ntab]; p != NULL && !named; p = p->next)
			named = p->hash == h && strcmp(p->s, path) == 0;
	pthread_mutex_unlock(&fs->lk);
	if(!named)
		return -1;
	memset(&how, 0, sizeof how);
	how.flags = O_PATH | O_NOFOLLOW | O_CLOEXEC;
	how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_SYMLINKS;
	e = errno;
	h = syscall(SYS_openat2, dfd, name, &how, sizeof how);
	errno = e;
	return (int)h;
}

/*
 * After the unlink (or replacement) of path: the fids that named it keep
 * their file through fd when it lives on, by another name (a hard link)
 * or open through one of them; not a directory or a link.  Either way
 * those fids leave the table, so they never reach a later file of that
 * name.  Consumes fd.
 */
void
xpin(Xfs *fs, const char *path, int fd, int unlinked)
{
	Xpath *p, **l;
	struct stat st;
	size_t i;
	int kept, keep;

	if(fd < 0)
		return;
	keep = unlinked && fstat(fd, &st) == 0 && !S_ISDIR(st.st_mode) && !S_ISLNK(st.st_mode);
	if(!unlinked){
		close(fd);
		return;
	}
	kept = 0;
	pthread_mutex_lock(&fs->lk);
	for(i = 0; i < fs->ntab; i++)
		for(l = &fs->tab[i]; (p = *l) != NULL;){
			if(strcmp(p->s, path) != 0){
				l = &p->next;
				continue;
			}
			*l = p->next;
			fs->npath--;
			p->next = NULL;
			p->gone = 1;
			if(keep && (st.st_nlink > 0 || p->nopen > 0) && fs->npinned < Maxpinned){
				p->fd = kept++ ? fcntl(fd, F_DUPFD_CLOEXEC, 0) : fd;
				if(p->fd >= 0)
					fs->npinned++;
			}
		}
	pthread_mutex_unlock(&fs->lk);
	if(!kept)
		close(fd);
}

/* 0, or -1 (ENOENT) when f's name is gone: it cannot be renamed, removed or linked by name. */
int
xgone(Xfid *f)
{
	int gone;

	pthread_mutex_lock(&f->fs->lk);
	gone = f->path->gone;
	pthread_mutex_unlock(&f->fs->lk);
	return gone ? seterr(ENOENT, "file does not exist: its name was removed") : 0;
}

/*
 * An open for i/o is made O_NONBLOCK, so that no worker waits in it: a
 * fifo nobody has open at the other end (ENXIO for a writer, at once end
 * of file for a reader), a device waiting for carrier.  Once open, the fd
 * blocks again unless the client asked otherwise.
 */
static int
nbflags(int oflags)
{
	return (oflags & O_PATH) ? oflags : oflags | O_NONBLOCK;
}

static int
nbdone(int fd, int oflags)
{
	int fl;

	if(fd < 0 || (oflags & (O_PATH | O_NONBLOCK)))
		return fd;
	fl = fcntl(fd, F_GETFL);
	if(fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) < 0){
		syserr(NULL);
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * A Unix socket (a posted service) is opened by connecting to it, as
 * Plan 9's exportfs opens a /srv file: the fid's reads and writes are the
 * conversation.  Never in a read-only export.  pfd: an O_PATH fd of the
 * file, closed here.  The connect is the kernel's permission check
 * (write on the socket), and does not wait on a full backlog.
 */
static int
xconnect(Xfs *fs, int pfd)
{
	struct sockaddr_un sun;
	struct stat st;
	int fd, e;

	if(pfd < 0)
		return -1;
	fd = -1;
	if(fstat(pfd, &st) < 0)
		syserr(NULL);
	else if(!S_ISSOCK(st.st_mode)){
		errno = ENXIO;
		syserr(NULL);
	}else if(fs->rdonly)
		seterr(EROFS, "read-only file system: its services are not dialled");
	else{
		memset(&sun, 0, sizeof sun);
		sun.sun_family = AF_UNIX;
		snprintf(sun.sun_path, sizeof sun.sun_path, "/proc/self/fd/%d", pfd);
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		if(fd < 0)
			syserr(NULL);
		else if(connect(fd, (struct sockaddr *)&sun, sizeof sun) < 0){
			e = errno;
			close(fd);
			fd = -1;
			if(e == EAGAIN)
				seterr(EAGAIN, "service busy: its backlog is full");
			else if(e == ECONNREFUSED)
				seterr(ECONNREFUSED, "service is gone (stale post)");
			else{
				errno = e;
				syserr(NULL);
			}
		}
	}
	close(pfd);
	return fd;
}

/*
 * Open f's file: its path beneath the root, or when its name is gone the
 * inode kept for it (reopened through its /proc link, which is our own
 * fd, not a name from the tree).  A socket is connected to (xconnect).
 */
int
xopenfid(Xfid *f, const char *path, int oflags, int follow)
{
	char buf[64];
	int fd, pfd;

	pthread_mutex_lock(&f->fs->lk);
	pfd = f->path->fd >= 0 ? fcntl(f->path->fd, F_DUPFD_CLOEXEC, 0) : f->path->gone ? -3 : -2;
	pthread_mutex_unlock(&f->fs->lk);
	if(pfd == -2){
		fd = xresolve(f->fs, path, nbflags(oflags), follow);
		if(fd < 0 && errno == ENXIO && !(oflags & O_PATH))
			fd = xconnect(f->fs, xresolve(f->fs, path, O_PATH, follow));
		return nbdone(fd, oflags);
	}
	if(pfd == -3)
		return seterr(ENOENT, "file does not exist: its name was removed");
	if(pfd < 0)
		return syserr(NULL);
	if(oflags & O_PATH)
		return pfd;
	snprintf(buf, sizeof buf, "/proc/self/fd/%d", pfd);
	fd = open(buf, (nbflags(oflags) & ~O_NOFOLLOW) | O_CLOEXEC | O_NOCTTY);
	if(fd < 0 && errno == ENXIO)
		return nbdone(xconnect(f->fs, pfd), oflags);
	if(fd < 0)
		syserr(NULL);
	close(pfd);
	return nbdone(fd, oflags);
}

/* --- names and confinement --- */

/*
 * Device files are never made: one made by a client of a server that may
 * (root) would open a disk or memory the tree does not hold.  Those the
 * tree holds already are the exporter's business.
 */
int
xnodevice(void)
{
	return seterr(EPERM, "operation not permitted: exportfs makes no device files");
}

/* A name that may be created, removed or renamed: one component, not . or .. */
int
xgoodname(const char *name)
{
	if(name == NULL || name[0] == 0 || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return seterr(EINVAL, "bad file name");
	if(strchr(name, '/') != NULL)
		return seterr(EINVAL, "bad character in file name");
	if(strlen(name) > NAME_MAX)
		return seterr(ENAMETOOLONG, "file name too long");
	return 0;
}

/* path/name into path (PATH_MAX bytes); name is one good component. */
int
xjoin(char *path, const char *name)
{
	size_t n, m;

	if(strcmp(path, ".") == 0){
		path[0] = 0;
		n = 0;
	}else
		n = strlen(path);
	m = strlen(name);
	if(n + 1 + m >= PATH_MAX){
		if(n == 0)
			strcpy(path, ".");
		return seterr(ENAMETOOLONG, "file name too long");
	}
	if(n > 0)
		path[n++] = '/';
	memcpy(path + n, name, m + 1);
	return 0;
}

/* The lexical parent, in place; the root's parent is the root (Plan 9). */
static void
up(char *path)
{
	char *p;

	p = strrchr(path, '/');
	if(p == NULL)
		strcpy(path, ".");
	else
		*p = 0;
}

const char *
xbase(const char *path)
{
	const char *p;

	p = strrchr(path, '/');
	return p != NULL ? p + 1 : path;
}

static int
openat2(int dirfd, const char *path, struct open_how *how)
{
	int fd, i;

	/* EAGAIN: a rename or mount raced the resolution; the kernel asks for a retry. */
	for(i = 0; i < 16; i++){
		fd = syscall(SYS_openat2, dirfd, path, how, sizeof *how);
		if(fd >= 0 || errno != EAGAIN || (how->flags & O_NONBLOCK))
			break;
	}
	if(fd < 0){
		/* A name that would lead out of the tree does not exist in it. */
		if(errno == EXDEV)
			errno = ENOENT;
		return syserr(NULL);
	}
	return fd;
}

/*
 * Open path (relative to the root) beneath the root.  follow: symbolic
 * links are followed, but only while they stay beneath it (9P2000); else
 * no link is followed anywhere in the path (.u, .L).
 */
int
xresolve(Xfs *fs, const char *path, int oflags, int follow)
{
	struct open_how how;

	memset(&how, 0, sizeof how);
	how.flags = oflags | O_CLOEXEC;
	if(!(oflags & O_PATH))
		how.flags |= O_NOCTTY;
	how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
	if(!follow){
		how.flags |= O_NOFOLLOW;
		how.resolve |= RESOLVE_NO_SYMLINKS;
	}
	return openat2(fs->rootfd, path, &how);
}

/* The directory holding path, as an O_PATH fd; *basep: the last name. */
int
xparent(Xfs *fs, const char *path, int follow, const char **basep)
{
	char dir[PATH_MAX];
	size_t n;

	if(strcmp(path, ".") == 0)
		return seterr(EBUSY, "file in use: the root of the tree");
	*basep = xbase(path);
	n = *basep - path;
	if(n == 0)
		strcpy(dir, ".");
	else{
		memcpy(dir, path, n - 1);
		dir[n - 1] = 0;
	}
	return xresolve(fs, dir, O_PATH | O_DIRECTORY, follow);
}

/*
 * Open (or with O_CREAT create) the single name in dirfd, never through
 * a symbolic link: a dangling link there must not create its target.
 */
int
xopenat(int dirfd, const char *name, int oflags, mode_t mode)
{
	struct open_how how;

	memset(&how, 0, sizeof how);
	how.flags = nbflags(oflags) | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY;
	if(oflags & O_CREAT)
		how.mode = mode & 07777;
	how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_SYMLINKS;
	return nbdone(openat2(dirfd, name, &how), oflags);
}

/* --- identity --- */

/*
 * qid.path: the inode, with the device folded into the top 16 bits when
 * it is not the root's, so a mount inside the tree does not collide;
 * stable as long as the inodes are.  qid.vers changes with mtime and size.
 */
P9Qid
xqidt(Xfs *fs, dev_t dev, ino_t ino, int type, int dialect)
{
	P9Qid q;
	uint64_t h;

	memset(&q, 0, sizeof q);
	q.path = ino;
	if(dev != fs->rootdev){
		h = ((uint64_t)major(dev) << 32 | minor(dev)) * 0x9e3779b97f4a7c15ULL;
		h >>= 48;
		q.path ^= (h != 0 ? h : 1) << 48;
	}
	if(type == S_IFDIR)
		q.type = P9_QTDIR;
	else if(type == S_IFLNK && dialect != P9_9P2000)
		q.type = P9_QTSYMLINK;
	return q;
}

uint32_t
xvers(int64_t sec, uint32_t nsec, uint64_t size)
{
	return (uint32_t)sec * 1000003U ^ nsec ^ (uint32_t)size * 2654435761U;
}

P9Qid
xqid(Xfs *fs, const struct stat *st, int dialect)
{
	P9Qid q;

	q = xqidt(fs, st->st_dev, st->st_ino, st->st_mode & S_IFMT, dialect);
	q.vers = xvers(st->st_mtim.tv_sec, st->st_mtim.tv_nsec, st->st_size);
	return q;
}

static int
idcmp(const void *a, const void *b)
{
	const Xid *x, *y;

	x = a;
	y = b;
	if(x->id != y->id)
		return x->id < y->id ? -1 : 1;
	return x->name < y->name ? -1 : x->name > y->name;
}

/* "name:x:id:..." lines of /etc/passwd or /etc/group, sorted by id. */
static void
readids(const char *file, Xid **tabp, int *np)
{
	char *line, *p, *q, *end;
	size_t cap;
	unsigned long v;
	Xid *tab;
	FILE *fp;
	int n, max;

	*tabp = NULL;
	*np = 0;
	fp = fopen(file, "re");
	if(fp == NULL)
		return;
	line = NULL;
	cap = 0;
	tab = NULL;
	n = max = 0;
	while(getline(&line, &cap, fp) > 0){
		p = strchr(line, ':');
		if(p == NULL || p == line)
			continue;
		q = strchr(p + 1, ':');
		if(q == NULL)
			continue;
		errno = 0;
		v = strtoul(q + 1, &end, 10);
		if(errno != 0 || end == q + 1 || *end != ':' || v > 0xffffffffUL)
			continue;
		if(n == max){
			max = max ? 2 * max : 64;
			tab = erealloc(tab, max * sizeof tab[0]);
		}
		*p = 0;
		tab[n].id = v;
		tab[n].name = estrdup(line);
		n++;
	}
	free(line);
	fclose(fp);
	/* Names are allocated in file order, so the first line of an id sorts first. */
	qsort(tab, n, sizeof tab[0], idcmp);
	*tabp = tab;
	*np = n;
}

static const char *
idname(Xid *tab, int n, uint32_t id, char *buf)
{
	int lo, hi, m;

	lo = 0;
	hi = n;
	while(lo < hi){
		m = (lo + hi) / 2;
		if(tab[m].id < id)
			lo = m + 1;
		else
			hi = m;
	}
	if(lo < n && tab[lo].id == id)
		return tab[lo].name;
	snprintf(buf, 16, "%u", id);
	return buf;
}

static int
idnum(Xid *tab, int n, const char *name, uint32_t *id)
{
	unsigned long v;
	char *end;
	int i;

	for(i = 0; i < n; i++)
		if(strcmp(tab[i].name, name) == 0){
			*id = tab[i].id;
			return 0;
		}
	errno = 0;
	v = strtoul(name, &end, 10);
	if(name[0] < '0' || name[0] > '9' || *end != 0 || errno != 0 || v >= 0xffffffffUL)
		return seterr(EINVAL, "unknown user or group '%s'", name);
	*id = v;
	return 0;
}

const char *
xuname(Xfs *fs, uint32_t uid, char *buf)
{
	return idname(fs->users, fs->nusers, uid, buf);
}

const char *
xgname(Xfs *fs, uint32_t gid, char *buf)
{
	return idname(fs->groups, fs->ngroups, gid, buf);
}

int
xunum(Xfs *fs, const char *name, uint32_t *id)
{
	return idnum(fs->users, fs->nusers, name, id);
}

int
xgnum(Xfs *fs, const char *name, uint32_t *id)
{
	return idnum(fs->groups, fs->ngroups, name, id);
}

/* --- changes shared by both dialects --- */

/* chmod through an O_PATH fd: fchmodat2 (Linux 6.6), else its /proc link. */
int
xchmod(int fd, mode_t mode)
{
	char buf[64];

	if(syscall(SYS_fchmodat2, fd, "", mode & 07777, AT_EMPTY_PATH) == 0)
		return 0;
	if(errno != ENOSYS && errno != EINVAL)
		return syserr(NULL);
	snprintf(buf, sizeof buf, "/proc/self/fd/%d", fd);
	if(chmod(buf, mode & 07777) < 0)
		return syserr(NULL);
	return 0;
}

/* Set the length of f's file: through its fd when open for writing, else a new one. */
int
xtruncate(Xfs *fs, Xfid *f, const char *path, int follow, uint64_t len)
{
	int fd, r, acc;

	if(len > INT64_MAX)
		return seterr(EINVAL, "bad length");
	if(f->fd >= 0){
		acc = fcntl(f->fd, F_GETFL) & O_ACCMODE;
		if(acc == O_WRONLY || acc == O_RDWR){
			if(ftruncate(f->fd, len) < 0)
				return syserr(NULL);
			return 0;
		}
	}
	/* O_NONBLOCK: a fifo must not hang the server (ENXIO instead). */
	fd = xopenfid(f, path, O_WRONLY | O_NONBLOCK, follow);
	if(fd < 0)
		return -1;
	r = ftruncate(fd, len);
	if(r < 0)
		syserr(NULL);
	close(fd);
	return r;
}

/*
 * The group a 9P2000.L client asks a new file to have: set when the server
 * may (root, or a group it is in); otherwise the file keeps the group the
 * kernel gave it, as when the server's user makes a file.
 */
void
xsetgid(int dirfd, const char *name, uint32_t gid)
{
	int e;

	if(gid == P9_NONUNAME || gid == (uint32_t)getegid())
		return;
	e = errno;
	if(fchownat(dirfd, name, -1, gid, AT_SYMLINK_NOFOLLOW) < 0)
		errno = e;
}

/*
 * Record fd as f's open file.  A fifo's or a device's fd is made
 * nonblocking: a request that must wait for it polls (waitio), so a flush
 * or the client's hangup ends the wait.
 */
int
xsetopen(Xfid *f, int fd, struct stat *st)
{
	int fl;

	if(fstat(fd, st) < 0 || (fl = fcntl(fd, F_GETFL)) < 0){
		syserr(NULL);
		close(fd);
		return -1;
	}
	f->nonblock = (fl & O_NONBLOCK) != 0;
	if(!S_ISREG(st->st_mode) && !S_ISDIR(st->st_mode) && !f->nonblock && fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0){
		syserr(NULL);
		close(fd);
		return -1;
	}
	f->fd = fd;
	pthread_mutex_lock(&f->fs->lk);
	f->path->nopen++;
	pthread_mutex_unlock(&f->fs->lk);
	f->isdir = S_ISDIR(st->st_mode);
	f->dev = st->st_dev;
	f->seekable = S_ISREG(st->st_mode) || S_ISDIR(st->st_mode) || S_ISBLK(st->st_mode);
	f->dirpos = 0;
	return 0;
}

uint32_t
xiounit(P9Req *r)
{
	return r->msize > P9_IOHDRSZ ? r->msize - P9_IOHDRSZ : 0;
}

/* --- attach, walk, clone, clunk --- */

static int
xattach(P9Req *r)
{
	Xfs *fs;
	char path[PATH_MAX];
	struct stat st;
	int fd;

	fs = r->srv->aux;
	if(r->ifcall.afid != P9_NOFID)
		return seterr(EINVAL, "authentication not required");
	/*
	 * aname names a directory beneath the root to attach to; cleaned
	 * from "/", so it cannot climb out.  "" and "/" are the root.
	 */
	if(r->ifcall.aname != NULL && strlen(r->ifcall.aname) + 2 > PATH_MAX)
		return seterr(ENAMETOOLONG, "file name too long");
	snprintf(path, sizeof path, "/%s", r->ifcall.aname != NULL ? r->ifcall.aname : "");
	cleanname(path);
	if(strcmp(path, "/") == 0)
		strcpy(path, ".");
	else
		memmove(path, path + 1, strlen(path));
	fd = xresolve(fs, path, O_PATH | O_DIRECTORY, r->dialect == P9_9P2000);
	if(fd < 0)
		return -1;
	if(fstat(fd, &st) < 0){
		close(fd);
		return syserr(NULL);
	}
	close(fd);
	r->fid->qid = xqid(fs, &st, r->dialect);
	r->fid->aux = xnewfid(fs, path);
	r->ofcall.qid = r->fid->qid;
	return 0;
}

static int
xwalk(P9Req *r)
{
	Xfs *fs;
	Xfid *f;
	P9Fcall *t;
	char path[PATH_MAX];
	const char *name;
	struct stat st;
	int i, fd, follow;

	fs = r->srv->aux;
	f = r->fid->aux;
	t = &r->ifcall;
	follow = r->dialect == P9_9P2000;
	if(!(r->fid->qid.type & P9_QTDIR))
		return seterr(ENOTDIR, "walk in non-directory");
	if(xgone(f) < 0 || xgetpath(f, path) < 0)
		return -1;
	for(i = 0; i < t->nwname; i++){
		name = t->wname[i];
		if(strcmp(name, "..") == 0)
			up(path);
		else if(strcmp(name, ".") != 0 && (xgoodname(name) < 0 || xjoin(path, name) < 0))
			break;
		fd = xresolve(fs, path, O_PATH, follow);
		if(fd < 0)
			break;
		if(fstat(fd, &st) < 0){
			syserr(NULL);
			close(fd);
			break;
		}
		close(fd);
		r->ofcall.wqid[i] = xqid(fs, &st, r->dialect);
		if(i + 1 < t->nwname && !S_ISDIR(st.st_mode)){
			i++;
			seterr(ENOTDIR, "walk in non-directory");
			break;
		}
	}
	if(i == 0)
		return -1;
	r->ofcall.nwqid = i;
	if(i < t->nwname)
		return 0;
	clearerr9();
	if(r->newfid == r->fid)
		xsetpath(f, path);
	else
		r->newfid->aux = xnewfid(fs, path);
	r->newfid->qid = r->ofcall.wqid[i - 1];
	return 0;
}

static int
xclone(P9Fid *old, P9Fid *new)
{
	new->aux = xdupfid(old->aux);
	return 0;
}

static void
xdestroyfid(P9Fid *fid)
{
	Xfid *f;
	Xfs *fs;
	char path[PATH_MAX];
	const char *base;
	int dfd;

	f = fid->aux;
	if(f == NULL)
		return;
	fid->aux = NULL;
	fs = f->fs;
	if(f->fd >= 0)
		close(f->fd);
	if(f->rclose && !fs->rdonly && xgone(f) == 0 && xgetpath(f, path) == 0){
		/* ORCLOSE: nobody is told if this fails (Plan 9 neither). */
		dfd = xparent(fs, path, 1, &base);
		if(dfd >= 0){
			if(unlinkat(dfd, base, 0) < 0 && errno == EISDIR)
				unlinkat(dfd, base, AT_REMOVEDIR);
			close(dfd);
		}
		clearerr9();
	}
	pthread_mutex_lock(&fs->lk);
	if(f->fd >= 0)
		f->path->nopen--;
	pathput(fs, f->path);
	pthread_mutex_unlock(&fs->lk);
	pthread_mutex_destroy(&f->lk);
	free(f);
}

/* --- i/o on an open fid, both dialects --- */

/*
 * read or write on a fid that is no regular file (its fd does not block):
 * wait for it while the request is neither flushed nor its client gone.
 */
static ssize_t
waitio(P9Req *r, Xfid *f, void *rbuf, const void *wbuf, size_t n)
{
	struct pollfd p;
	ssize_t m;

	for(;;){
		m = wbuf != NULL ? write(f->fd, wbuf, n) : read(f->fd, rbuf, n);
		if(m >= 0)
			return m;
		if(errno != EAGAIN || f->nonblock)
			return syserr(NULL);
		p.fd = f->fd;
		p.events = wbuf != NULL ? POLLOUT : POLLIN;
		if(poll(&p, 1, Pollms) < 0 && errno != EINTR)
			return syserr(NULL);
		if(p9_interrupted(r))
			return seterr(EINTR, "interrupted");
	}
}

int
xread(P9Req *r)
{
	Xfid *f;
	uint8_t *buf;
	uint32_t count;
	ssize_t n;

	f = r->fid->aux;
	if(f->fd < 0)
		return seterr(EBADF, "file not open for i/o");
	if(f->isdir){
		if(r->dialect == P9_9P2000L)
			return seterr(EISDIR, "is a directory");
		return x9dirread(r);
	}
	count = r->ifcall.count;
	if(count > r->msize - P9_RREADHDRSZ)
		count = r->msize - P9_RREADHDRSZ;
	if(r->ifcall.offset > INT64_MAX)
		return seterr(EINVAL, "bad offset");
	buf = r->obuf + P9_RREADHDRSZ;
	if(f->seekable){
		n = pread(f->fd, buf, count, r->ifcall.offset);
		if(n < 0)
			return syserr(NULL);
	}else if((n = waitio(r, f, buf, NULL, count)) < 0)
		return -1;
	r->ofcall.count = n;
	r->ofcall.data = buf;
	return 0;
}

int
xwrite(P9Req *r)
{
	Xfid *f;
	ssize_t n;

	f = r->fid->aux;
	if(f->fd < 0)
		return seterr(EBADF, "file not open for i/o");
	if(f->isdir)
		return seterr(EISDIR, "is a directory");
	if(r->ifcall.offset > INT64_MAX)
		return seterr(EINVAL, "bad offset");
	if(f->seekable){
		n = pwrite(f->fd, r->ifcall.data, r->ifcall.count, r->ifcall.offset);
		if(n < 0)
			return syserr(NULL);
	}else if((n = waitio(r, f, NULL, r->ifcall.data, r->ifcall.count)) < 0)
		return -1;
	r->ofcall.count = n;
	return 0;
}

/* --- dispatch --- */

static int
modifies(int type)
{
	switch(type){
	case P9_TCREATE:
	case P9_TWRITE:
	case P9_TREMOVE:
	case P9_TWSTAT:
	case P9_TLCREATE:
	case P9_TSYMLINK:
	case P9_TMKNOD:
	case P9_TRENAME:
	case P9_TSETATTR:
	case P9_TXATTRCREATE:
	case P9_TLINK:
	case P9_TMKDIR:
	case P9_TRENAMEAT:
	case P9_TUNLINKAT:
		return 1;
	}
	return 0;
}

static int
xserve(P9Req *r)
{
	Xfs *fs;
	int type;

	fs = r->srv->aux;
	type = r->ifcall.type;
	if(fs->rdonly && modifies(type))
		return seterr(EROFS, "read-only file system");
	switch(type){
	case P9_TATTACH:
		return xattach(r);
	case P9_TWALK:
		return xwalk(r);
	case P9_TREAD:
		return xread(r);
	case P9_TWRITE:
		return xwrite(r);
	case P9_TOPEN:
		return x9open(r);
	case P9_TCREATE:
		return x9create(r);
	case P9_TREMOVE:
		return x9remove(r);
	case P9_TSTAT:
		return x9stat(r);
	case P9_TWSTAT:
		return x9wstat(r);
	case P9_TLOPEN:
		return xlopen(r);
	case P9_TLCREATE:
		return xlcreate(r);
	case P9_TREADDIR:
		return xlreaddir(r);
	case P9_TGETATTR:
		return xlgetattr(r);
	case P9_TSETATTR:
		return xlsetattr(r);
	case P9_TMKDIR:
		return xlmkdir(r);
	case P9_TSYMLINK:
		return xlsymlink(r);
	case P9_TMKNOD:
		return xlmknod(r);
	case P9_TREADLINK:
		return xlreadlink(r);
	case P9_TLINK:
		return xllink(r);
	case P9_TRENAME:
		return xlrename(r);
	case P9_TRENAMEAT:
		return xlrenameat(r);
	case P9_TUNLINKAT:
		return xlunlinkat(r);
	case P9_TSTATFS:
		return xlstatfs(r);
	case P9_TFSYNC:
		return xlfsync(r);
	case P9_TLOCK:
		return xllock(r);
	case P9_TGETLOCK:
		return xlgetlock(r);
	case P9_TXATTRWALK:
	case P9_TXATTRCREATE:
		return seterr(EOPNOTSUPP, "extended attributes are not supported");
	}
	return seterr(EOPNOTSUPP, "%s: operation not supported",
		p9_typename(type) != NULL ? p9_typename(type) : "message");
}

int
exportfs_init(P9Srv *s, const char *root, int flags)
{
	struct stat st;
	Xfs *fs;
	int fd;

	fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if(fd < 0)
		return syserrpath(root, "exportfs");
	if(fstat(fd, &st) < 0){
		syserrpath(root, "exportfs");
		close(fd);
		return -1;
	}
	fs = emalloc(sizeof *fs);
	fs->rootfd = fd;
	fs->rootdev = st.st_dev;
	fs->rootino = st.st_ino;
	fs->rdonly = (flags & EXPORTFS_RDONLY) != 0;
	pthread_mutex_init(&fs->lk, NULL);
	readids("/etc/passwd", &fs->users, &fs->nusers);
	readids("/etc/group", &fs->groups, &fs->ngroups);
	s->serve = xserve;
	s->clone = xclone;
	s->destroyfid = xdestroyfid;
	s->aux = fs;
	return 0;
}

void
exportfs_free(P9Srv *s)
{
	Xpath *p, *next;
	Xfs *fs;
	size_t i;
	int j;

	fs = s->aux;
	if(fs == NULL)
		return;
	for(i = 0; i < fs->ntab; i++)
		for(p = fs->tab[i]; p != NULL; p = next){
			next = p->next;
			free(p->s);
			free(p);
		}
	free(fs->tab);
	for(j = 0; j < fs->nusers; j++)
		free(fs->users[j].name);
	for(j = 0; j < fs->ngroups; j++)
		free(fs->groups[j].name);
	free(fs->users);
	free(fs->groups);
	close(fs->rootfd);
	pthread_mutex_destroy(&fs->lk);
	free(fs);
	s->aux = NULL;
}
