/*
 * exportimpl.h: inside exportfs (srv/export*.c).  exportfs.c holds the
 * server state, the path table, confinement (every resolution is openat2
 * beneath the root fd), attach and walk, file i/o and the dispatch;
 * export9.c the 9P2000/.u messages, exportl.c the 9P2000.L ones.
 */
#ifndef NS9_EXPORTIMPL_H
#define NS9_EXPORTIMPL_H

#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "9p.h"
#include "exportfs.h"

/*
 * A fid names a file by its path relative to the root, cleaned ("." is the
 * root, else "a/b"), never by an fd held while unopened: the fd limit
 * (20000 here) would cap the fids.  Fids with one path share one Xpath, so
 * a rename moves every fid at or below the old name with it.
 */
typedef struct Xpath Xpath;
struct Xpath {
	char *s;
	uint32_t hash;
	int ref;
	/*
	 * The name was unlinked or replaced while fids named it: the inode
	 * is kept (an O_PATH fd) and the Xpath leaves the table, so those
	 * fids still reach their file (a hard link's other name, an open
	 * file) and never the next file of that name.
	 */
	int fd;
	int gone;
	int nopen;	/* fids open on it: an unlinked open file is worth keeping */
	Xpath *next;
};

/* A uid or gid with its name from the passwd or group file. */
typedef struct Xid Xid;
struct Xid {
	uint32_t id;
	char *name;
};

typedef struct Xfs Xfs;
struct Xfs {
	int rootfd;	/* O_PATH, the only start of every resolution */
	dev_t rootdev;
	ino_t rootino;
	int rdonly;
	pthread_mutex_t lk;	/* the path table and every Xfid's path */
	Xpath **tab;
	size_t ntab;
	size_t npath;
	int npinned;	/* Xpaths holding an fd: at most Maxpinned */
	Xid *users;
	int nusers;
	Xid *groups;
	int ngroups;
};

typedef struct Xfid Xfid;
struct Xfid {
	Xfs *fs;
	Xpath *path;	/* under fs->lk */
	pthread_mutex_t lk;	/* the directory position: requests on one fid may run at once */
	int fd;	/* once open, else -1 */
	int isdir;
	dev_t dev;	/* of the open file */
	int seekable;	/* pread/pwrite; else read/write (fifo, socket, tty) */
	int nonblock;	/* the client opened it O_NONBLOCK: EAGAIN is its answer */
	int rclose;	/* 9P2000 ORCLOSE: remove at clunk */
	uint64_t dirpos;	/* 9P2000 directory read: getdents cookie of the next entry */
};

#ifndef SYS_fchmodat2
#define SYS_fchmodat2 452	/* Linux 6.6; same on every architecture */
#endif

/* Scratch for strings a reply points at: valid until the thread's next request. */
typedef struct Xscratch Xscratch;
struct Xscratch {
	char name[NAME_MAX + 1];
	char uid[16];
	char gid[16];
	char ext[PATH_MAX];
};
extern __thread Xscratch xscratch;

/* exportfs.c */
Xfid *xnewfid(Xfs *fs, const char *path);
Xfid *xdupfid(Xfid *f);
int xgetpath(Xfid *f, char *buf);	/* buf: PATH_MAX */
void xsetpath(Xfid *f, const char *path);
void xrenamed(Xfs *fs, const char *old, const char *new);
int xprepin(Xfs *fs, const char *path, int dfd, const char *name);
void xpin(Xfs *fs, const char *path, int fd, int unlinked);
int xgone(Xfid *f);
int xopenfid(Xfid *f, const char *path, int oflags, int follow);
int xresolve(Xfs *fs, const char *path, int oflags, int follow);
int xparent(Xfs *fs, const char *path, int follow, const char **basep);
int xopenat(int dirfd, const char *name, int oflags, mode_t mode);
int xgoodname(const char *name);
int xnodevice(void);
int xjoin(char *path, const char *name);
const char *xbase(const char *path);
P9Qid xqid(Xfs *fs, const struct stat *st, int dialect);
P9Qid xqidt(Xfs *fs, dev_t dev, ino_t ino, int type, int dialect);
uint32_t xvers(int64_t sec, uint32_t nsec, uint64_t size);
const char *xuname(Xfs *fs, uint32_t uid, char *buf);
const char *xgname(Xfs *fs, uint32_t gid, char *buf);
int xunum(Xfs *fs, const char *name, uint32_t *id);
int xgnum(Xfs *fs, const char *name, uint32_t *id);
int xchmod(int fd, mode_t mode);
int xtruncate(Xfs *fs, Xfid *f, const char *path, int follow, uint64_t len);
void xsetgid(int dirfd, const char *name, uint32_t gid);
int xsetopen(Xfid *f, int fd, struct stat *st);
uint32_t xiounit(P9Req *r);
int xread(P9Req *r);
int xwrite(P9Req *r);

/* export9.c: 9P2000 and 9P2000.u */
int x9open(P9Req *r);
int x9create(P9Req *r);
int x9dirread(P9Req *r);
int x9remove(P9Req *r);
int x9stat(P9Req *r);
int x9wstat(P9Req *r);

/* exportl.c: 9P2000.L */
int xlopen(P9Req *r);
int xlcreate(P9Req *r);
int xlreaddir(P9Req *r);
int xlgetattr(P9Req *r);
int xlsetattr(P9Req *r);
int xlmkdir(P9Req *r);
int xlsymlink(P9Req *r);
int xlmknod(P9Req *r);
int xlreadlink(P9Req *r);
int xllink(P9Req *r);
int xlrename(P9Req *r);
int xlrenameat(P9Req *r);
int xlunlinkat(P9Req *r);
int xlstatfs(P9Req *r);
int xlfsync(P9Req *r);
int xllock(P9Req *r);
int xlgetlock(P9Req *r);

#endif
