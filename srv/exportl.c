/*
 * exportl.c: exportfs's 9P2000.L messages.  No symbolic link is followed
 * (the client reads them with Treadlink); creations are *at calls on a
 * directory fd opened beneath the root with a single-component name;
 * readdir offsets are getdents64 d_off cookies; locks are OFD locks on
 * the fid's open file.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "exportimpl.h"

enum {
	Dirbuf = 32768,	/* getdents64 buffer */
	Lremovedir = 0x200,	/* Tunlinkat flags: AT_REMOVEDIR */
};

/* Tlopen/Tlcreate flags to open(2) flags; -1 for an access mode of 3. */
static int
lflags(uint32_t fl)
{
	static const struct {
		uint32_t p9;
		int o;
	} map[] = {
		{P9_DOTL_TRUNC, O_TRUNC}, {P9_DOTL_APPEND, O_APPEND}, {P9_DOTL_NONBLOCK, O_NONBLOCK},
		{P9_DOTL_DSYNC, O_DSYNC}, {P9_DOTL_SYNC, O_SYNC}, {P9_DOTL_DIRECTORY, O_DIRECTORY},
		{P9_DOTL_EXCL, O_EXCL},
	};
	size_t i;
	int o;

	switch(fl & 3){
	case P9_DOTL_RDONLY:
		o = O_RDONLY;
		break;
	case P9_DOTL_WRONLY:
		o = O_WRONLY;
		break;
	case P9_DOTL_RDWR:
		o = O_RDWR;
		break;
	default:
		return -1;
	}
	for(i = 0; i < nelem(map); i++)
		if(fl & map[i].p9)
			o |= map[i].o;
	return o;
}

int
xlopen(P9Req *r)
{
	Xfs *fs;
	Xfid *f;
	char path[PATH_MAX];
	struct stat st;
	int oflags, fd, ret;

	fs = r->srv->aux;
	f = r->fid->aux;
	oflags = lflags(r->ifcall.flags & ~P9_DOTL_EXCL);
	if(oflags < 0)
		return seterr(EINVAL, "bad open mode");
	if(fs->rdonly && ((oflags & O_ACCMODE) != O_RDONLY || (oflags & O_TRUNC)))
		return seterr(EROFS, "read-only file system");
	if(xgetpath(f, path) < 0)
		return -1;
	ret = -1;
	pthread_mutex_lock(&f->lk);
	if(f->fd >= 0){
		seterr(EBADF, "fid already open");
		goto out;
	}
	fd = xopenfid(f, path, oflags, 0);
	if(fd < 0 || xsetopen(f, fd, &st) < 0)
		goto out;
	/* a service's connection keeps the posted file's qid */
	if(!S_ISSOCK(st.st_mode))
		r->fid->qid = xqid(fs, &st, r->dialect);
	r->ofcall.qid = r->fid->qid;
	r->ofcall.iounit = xiounit(r);
	ret = 0;
out:
	pthread_mutex_unlock(&f->lk);
	return ret;
}

/* The directory fid's path and an O_PATH fd of it; name checked and joined into path. */
static int
dirat(Xfs *fs, P9Fid *dfid, const char *name, char *dir, char *path)
{
	if(dfid == NULL || dfid->aux == NULL)
		return seterr(EBADF, "unknown fid");
	if(!(dfid->qid.type & P9_QTDIR))
		return seterr(ENOTDIR, "not a directory");
	if(xgoodname(name) < 0 || xgone(dfid->aux) < 0 || xgetpath(dfid->aux, dir) < 0)
		return -1;
	if(path != NULL){
		strcpy(path, dir);
		if(xjoin(path, name) < 0)
			return -1;
	}
	return xresolve(fs, dir, O_PATH | O_DIRECTORY, 0);
}

int
xlcreate(P9Req *r)
{
	Xfs *fs;
	Xfid *f;
	P9Fcall *t;
	char dir[PATH_MAX], path[PATH_MAX];
	struct stat st;
	int oflags, dfd, fd, ret;

	fs = r->srv->aux;
	f = r->fid->aux;
	t = &r->ifcall;
	oflags = lflags(t->flags);
	if(oflags < 0)
		return seterr(EINVAL, "bad open mode");
	ret = -1;
	pthread_mutex_lock(&f->lk);
	dfd = -1;
	if(f->fd >= 0){
		seterr(EBADF, "fid already open");
		goto out;
	}
	dfd = dirat(fs, r->fid, t->name, dir, path);
	if(dfd < 0)
		goto out;
	fd = xopenat(dfd, t->name, oflags | O_CREAT, t->perm);
	if(fd < 0)
		goto out;
	xsetgid(dfd, t->name, t->gid);
	if(xsetopen(f, fd, &st) < 0)
		goto out;
	xsetpath(f, path);
	r->fid->qid = xqid(fs, &st, r->dialect);
	r->ofcall.qid = r->fid->qid;
	r->ofcall.iounit = xiounit(r);
	ret = 0;
out:
	pthread_mutex_unlock(&f->lk);
	if(dfd >= 0)
		close(dfd);
	return ret;
}

static int
dtmode(int dtype)
{
	switch(dtype){
	case DT_DIR:
		return S_IFDIR;
	case DT_LNK:
		return S_IFLNK;
	}
	return S_IFREG;
}

/*
 * Rreaddir: entries from getdents64 packed in place; each entry's offset
 * is its d_off, the cookie the next Treaddir passes back.  No stat: the
 * qid comes from d_ino and d_type.
 */
int
xlreaddir(P9Req *r)
{
	Xfs *fs;
	Xfid *f;
	char dir[PATH_MAX], *dbuf;
	struct dirent64 *de;
	uint8_t *out;
	uint32_t count, n;
	ssize_t nb, off;
	P9Dirent d;
	int m, full, ret, atroot;

	fs = r->srv->aux;
	f = r->fid->aux;
	if(f->fd < 0)
		return seterr(EBADF, "file not open for i/o");
	if(!f->isdir)
		return seterr(ENOTDIR, "not a directory");
	if(r->ifcall.offset > INT64_MAX)
		return seterr(EINVAL, "bad offset");
	if(xgetpath(f, dir) < 0)
		return -1;
	atroot = strcmp(dir, ".") == 0;
	count = r->ifcall.count;
	if(count > r->msize - P9_RREADHDRSZ)
		count = r->msize - P9_RREADHDRSZ;
	out = r->obuf + P9_RREADHDRSZ;
	dbuf = emalloc(Dirbuf);
	ret = -1;
	pthread_mutex_lock(&f->lk);
	if(lseek(f->fd, r->ifcall.offset, SEEK_SET) < 0){
		syserr(NULL);
		goto out;
	}
	n = 0;
	full = 0;
	while(!full){
		nb = getdents64(f->fd, dbuf, Dirbuf);
		if(nb < 0){
			syserr(NULL);
			goto out;
		}
		if(nb == 0)
			break;
		for(off = 0; off < nb; off += de->d_reclen){
			de = (struct dirent64 *)(dbuf + off);
			memset(&d, 0, sizeof d);
			if(atroot && strcmp(de->d_name, "..") == 0)	/* the root's parent is the root */
				d.qid = xqidt(fs, fs->rootdev, fs->rootino, S_IFDIR, r->dialect);
			else
				d.qid = xqidt(fs, f->dev, de->d_ino, dtmode(de->d_type), r->dialect);
			d.offset = de->d_off;
			d.type = de->d_type;
			d.name = de->d_name;
			m = p9_packdirent(&d, out + n, count - n);
			if(m == 0){
				full = 1;
				break;
			}
			if(m > 0)
				n += m;
		}
	}
	if(n == 0 && full){
		seterr(EINVAL, "readdir count too small for an entry");
		goto out;
	}
	r->ofcall.count = n;
	r->ofcall.data = out;
	ret = 0;
out:
	pthread_mutex_unlock(&f->lk);
	free(dbuf);
	return ret;
}

/* An fd for fid f: its open file, else an O_PATH one of its path; *closep when ours. */
static int
fidfd(Xfs *fs, Xfid *f, int *closep)
{
	char path[PATH_MAX];

	*closep = 0;
	if(f->fd >= 0)
		return f->fd;
	if(xgetpath(f, path) < 0)
		return -1;
	*closep = 1;
	return xopenfid(f, path, O_PATH, 0);
}

int
xlgetattr(P9Req *r)
{
	Xfs *fs;
	struct statx sx;
	P9Attr *a;
	int fd, cl, e;

	fs = r->srv->aux;
	fd = fidfd(fs, r->fid->aux, &cl);
	if(fd < 0)
		return -1;
	e = statx(fd, "", AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS | STATX_BTIME, &sx);
	if(e < 0)
		syserr(NULL);
	if(cl)
		close(fd);
	if(e < 0)
		return -1;
	a = &r->ofcall.attr;
	a->valid = P9_GETATTR_BASIC;
	a->qid = xqidt(fs, makedev(sx.stx_dev_major, sx.stx_dev_minor), sx.stx_ino, sx.stx_mode & S_IFMT,
		r->dialect);
	a->qid.vers = xvers(sx.stx_mtime.tv_sec, sx.stx_mtime.tv_nsec, sx.stx_size);
	a->mode = sx.stx_mode;
	a->uid = sx.stx_uid;
	a->gid = sx.stx_gid;
	a->nlink = sx.stx_nlink;
	a->rdev = makedev(sx.stx_rdev_major, sx.stx_rdev_minor);
	a->size = sx.stx_size;
	a->blksize = sx.stx_blksize;
	a->blocks = sx.stx_blocks;
	a->atime_sec = sx.stx_atime.tv_sec;
	a->atime_nsec = sx.stx_atime.tv_nsec;
	a->mtime_sec = sx.stx_mtime.tv_sec;
	a->mtime_nsec = sx.stx_mtime.tv_nsec;
	a->ctime_sec = sx.stx_ctime.tv_sec;
	a->ctime_nsec = sx.stx_ctime.tv_nsec;
	if(sx.stx_mask & STATX_BTIME){
		a->valid |= P9_GETATTR_BTIME;
		a->btime_sec = sx.stx_btime.tv_sec;
		a->btime_nsec = sx.stx_btime.tv_nsec;
	}
	return 0;
}

static void
settime(struct timespec *ts, uint64_t valid, int bit, int setbit, uint64_t sec, uint64_t nsec)
{
	if(!(valid & bit)){
		ts->tv_sec = 0;
		ts->tv_nsec = UTIME_OMIT;
	}else if(valid & setbit){
		ts->tv_sec = sec;
		ts->tv_nsec = nsec;
	}else{
		ts->tv_sec = 0;
		ts->tv_nsec = UTIME_NOW;
	}
}

/* Owner first (it clears set-id bits), then mode, size and last the times. */
int
xlsetattr(P9Req *r)
{
	Xfs *fs;
	Xfid *f;
	P9Attr *a;
	char path[PATH_MAX];
	struct timespec ts[2];
	uint64_t v;
	int fd, ret;

	fs = r->srv->aux;
	f = r->fid->aux;
	a = &r->ifcall.attr;
	v = a->valid;
	if(xgetpath(f, path) < 0)
		return -1;
	if((v & (P9_SETATTR_ATIME_SET | P9_SETATTR_MTIME_SET)) &&
	   (a->atime_sec > INT64_MAX || a->mtime_sec > INT64_MAX))
		return seterr(EINVAL, "bad time");
	fd = xopenfid(f, path, O_PATH, 0);
	if(fd < 0)
		return -1;
	ret = -1;
	if((v & (P9_SETATTR_UID | P9_SETATTR_GID)) &&
	   fchownat(fd, "", v & P9_SETATTR_UID ? a->uid : (uint32_t)-1, v & P9_SETATTR_GID ? a->gid : (uint32_t)-1,
		    AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) < 0){
		syserr(NULL);
		goto out;
	}
	if((v & P9_SETATTR_MODE) && xchmod(fd, a->mode) < 0)
		goto out;
	if((v & P9_SETATTR_SIZE) && xtruncate(fs, f, path, 0, a->size) < 0)
		goto out;
	if(v & (P9_SETATTR_ATIME | P9_SETATTR_MTIME)){
		settime(&ts[0], v, P9_SETATTR_ATIME, P9_SETATTR_ATIME_SET, a->atime_sec, a->atime_nsec);
		settime(&ts[1], v, P9_SETATTR_MTIME, P9_SETATTR_MTIME_SET, a->mtime_sec, a->mtime_nsec);
		if(utimensat(fd, "", ts, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) < 0){
			syserr(NULL);
			goto out;
		}
	}
	ret = 0;
out:
	close(fd);
	return ret;
}

/* After a creation: the new name's qid. */
static int
newqid(P9Req *r, int dfd, const char *name)
{
	struct stat st;

	if(fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return syserr(NULL);
	r->ofcall.qid = xqid(r->srv->aux, &st, r->dialect);
	return 0;
}

/*
 * The end of a .L mkdir, symlink or mknod in dfd (consumed): rc is the
 * call's result; on success the new name takes the asked-for group and
 * its qid is the reply.
 */
static int
made(P9Req *r, int dfd, int rc)
{
	int ret;

	ret = -1;
	if(rc < 0)
		syserr(NULL);
	else{
		xsetgid(dfd, r->ifcall.name, r->ifcall.gid);
		ret = newqid(r, dfd, r->ifcall.name);
	}
	close(dfd);
	return ret;
}

int
xlmkdir(P9Req *r)
{
	char dir[PATH_MAX];
	int dfd;

	dfd = dirat(r->srv->aux, r->dfid, r->ifcall.name, dir, NULL);
	if(dfd < 0)
		return -1;
	return made(r, dfd, mkdirat(dfd, r->ifcall.name, r->ifcall.perm & 07777));
}

int
xlsymlink(P9Req *r)
{
	char dir[PATH_MAX];
	int dfd;

	if(r->ifcall.target == NULL || r->ifcall.target[0] == 0)
		return seterr(ENOENT, "file does not exist: empty link target");
	dfd = dirat(r->srv->aux, r->fid, r->ifcall.name, dir, NULL);
	if(dfd < 0)
		return -1;
	/* The target is only text: nothing here ever follows it out of the tree. */
	return made(r, dfd, symlinkat(r->ifcall.target, dfd, r->ifcall.name));
}

int
xlmknod(P9Req *r)
{
	char dir[PATH_MAX];
	int dfd;
	mode_t mode;

	mode = r->ifcall.perm & (S_IFMT | 07777);
	if(S_ISCHR(mode) || S_ISBLK(mode))
		return xnodevice();
	dfd = dirat(r->srv->aux, r->dfid, r->ifcall.name, dir, NULL);
	if(dfd < 0)
		return -1;
	return made(r, dfd, mknodat(dfd, r->ifcall.name, mode, makedev(r->ifcall.major, r->ifcall.minor)));
}

int
xlreadlink(P9Req *r)
{
	ssize_t n;
	int fd, cl;

	fd = fidfd(r->srv->aux, r->fid->aux, &cl);
	if(fd < 0)
		return -1;
	n = readlinkat(fd, "", xscratch.ext, sizeof xscratch.ext - 1);
	if(n < 0)
		syserr(NULL);
	if(cl)
		close(fd);
	if(n < 0)
		return -1;
	xscratch.ext[n] = 0;
	r->ofcall.target = xscratch.ext;
	return 0;
}

int
xllink(P9Req *r)
{
	Xfs *fs;
	char dir[PATH_MAX], src[PATH_MAX];
	const char *base;
	int dfd, sfd, ret;

	fs = r->srv->aux;
	if(xgetpath(r->fid->aux, src) < 0)
		return -1;
	dfd = dirat(fs, r->dfid, r->ifcall.name, dir, NULL);
	if(dfd < 0)
		return -1;
	ret = -1;
	if(xgone(r->fid->aux) < 0){
		/* Its name is gone: link the inode kept for it (a file of nlink 0 cannot be). */
		clearerr9();
		sfd = xopenfid(r->fid->aux, src, O_PATH, 0);
		if(sfd >= 0){
			snprintf(src, sizeof src, "/proc/self/fd/%d", sfd);
			if(linkat(AT_FDCWD, src, dfd, r->ifcall.name, AT_SYMLINK_FOLLOW) < 0)
				syserr(NULL);
			else
				ret = 0;
			close(sfd);
		}
		close(dfd);
		return ret;
	}
	sfd = xparent(fs, src, 0, &base);
	if(sfd >= 0){
		/* No AT_SYMLINK_FOLLOW: a link to a symbolic link is a link to the link. */
		if(linkat(sfd, base, dfd, r->ifcall.name, 0) < 0)
			syserr(NULL);
		else
			ret = 0;
		close(sfd);
	}
	close(dfd);
	return ret;
}

/* Rename name old (in the directory fd ofd) to newname in the directory fid ndfid. */
static int
renameto(Xfs *fs, const char *old, int ofd, const char *oldname, P9Fid *ndfid, const char *newname)
{
	char dir[PATH_MAX], path[PATH_MAX];
	int nfd, pfd, ret;

	nfd = dirat(fs, ndfid, newname, dir, path);
	if(nfd < 0)
		return -1;
	/* Fids naming a file this rename replaces keep that file. */
	pfd = strcmp(old, path) != 0 ? xprepin(fs, path, nfd, newname) : -1;
	ret = renameat(ofd, oldname, nfd, newname);
	if(ret < 0)
		syserr(NULL);
	xpin(fs, path, pfd, ret == 0);
	if(ret == 0)
		xrenamed(fs, old, path);
	close(nfd);
	return ret;
}

int
xlrename(P9Req *r)
{
	Xfs *fs;
	char old[PATH_MAX];
	const char *base;
	int ofd, ret;

	fs = r->srv->aux;
	if(xgone(r->fid->aux) < 0 || xgetpath(r->fid->aux, old) < 0)
		return -1;
	ofd = xparent(fs, old, 0, &base);
	if(ofd < 0)
		return -1;
	ret = renameto(fs, old, ofd, base, r->dfid, r->ifcall.name);
	close(ofd);
	return ret;
}

int
xlrenameat(P9Req *r)
{
	Xfs *fs;
	char dir[PATH_MAX], old[PATH_MAX];
	int ofd, ret;

	fs = r->srv->aux;
	ofd = dirat(fs, r->dfid, r->ifcall.name, dir, old);
	if(ofd < 0)
		return -1;
	ret = renameto(fs, old, ofd, r->ifcall.name, r->newdfid, r->ifcall.newname);
	close(ofd);
	return ret;
}

int
xlunlinkat(P9Req *r)
{
	char dir[PATH_MAX], path[PATH_MAX];
	int dfd, pfd, ret;

	if(r->ifcall.flags & ~Lremovedir)
		return seterr(EINVAL, "bad unlinkat flags");
	dfd = dirat(r->srv->aux, r->dfid, r->ifcall.name, dir, path);
	if(dfd < 0)
		return -1;
	pfd = xprepin(r->srv->aux, path, dfd, r->ifcall.name);
	ret = unlinkat(dfd, r->ifcall.name, r->ifcall.flags & Lremovedir ? AT_REMOVEDIR : 0);
	if(ret < 0)
		syserr(NULL);
	xpin(r->srv->aux, path, pfd, ret == 0);
	close(dfd);
	return ret;
}

int
xlstatfs(P9Req *r)
{
	struct statfs sf;
	P9Statfs *s;
	int fd, cl, e;

	fd = fidfd(r->srv->aux, r->fid->aux, &cl);
	if(fd < 0)
		return -1;
	e = fstatfs(fd, &sf);
	if(e < 0)
		syserr(NULL);
	if(cl)
		close(fd);
	if(e < 0)
		return -1;
	s = &r->ofcall.statfs;
	s->type = sf.f_type;
	s->bsize = sf.f_bsize;
	s->blocks = sf.f_blocks;
	s->bfree = sf.f_bfree;
	s->bavail = sf.f_bavail;
	s->files = sf.f_files;
	s->ffree = sf.f_ffree;
	s->fsid = (uint64_t)(uint32_t)sf.f_fsid.__val[0] | (uint64_t)(uint32_t)sf.f_fsid.__val[1] << 32;
	s->namelen = sf.f_namelen;
	return 0;
}

int
xlfsync(P9Req *r)
{
	Xfid *f;

	f = r->fid->aux;
	if(f->fd < 0)
		return seterr(EBADF, "file not open for i/o");
	if((r->ifcall.datasync ? fdatasync(f->fd) : fsync(f->fd)) < 0 && errno != EINVAL)
		return syserr(NULL);
	return 0;
}

/* A Tlock/Tgetlock range as a struct flock. */
static int
mkflock(const P9Lock *l, struct flock *fl)
{
	memset(fl, 0, sizeof *fl);
	switch(l->type){
	case P9_LOCK_TYPE_RDLCK:
		fl->l_type = F_RDLCK;
		break;
	case P9_LOCK_TYPE_WRLCK:
		fl->l_type = F_WRLCK;
		break;
	case P9_LOCK_TYPE_UNLCK:
		fl->l_type = F_UNLCK;
		break;
	default:
		return seterr(EINVAL, "bad lock type");
	}
	if(l->start > INT64_MAX || l->length > INT64_MAX)
		return seterr(EINVAL, "bad lock range");
	fl->l_whence = SEEK_SET;
	fl->l_start = l->start;
	fl->l_len = l->length;
	return 0;
}

/*
 * Locks are OFD locks on the fid's open file: one owner per open fid.  A
 * lock that would block is answered BLOCKED (the client retries), so no
 * worker thread ever waits on one.
 */
int
xllock(P9Req *r)
{
	struct flock fl;
	Xfid *f;

	f = r->fid->aux;
	if(f->fd < 0)
		return seterr(EBADF, "file not open for i/o");
	if(mkflock(&r->ifcall.lock, &fl) < 0)
		return -1;
	if(fcntl(f->fd, F_OFD_SETLK, &fl) < 0){
		if(errno != EAGAIN && errno != EACCES)
			return syserr(NULL);
		r->ofcall.status = P9_LOCK_BLOCKED;
		return 0;
	}
	r->ofcall.status = P9_LOCK_SUCCESS;
	return 0;
}

int
xlgetlock(P9Req *r)
{
	struct flock fl;
	P9Lock *o;
	Xfid *f;

	f = r->fid->aux;
	if(f->fd < 0)
		return seterr(EBADF, "file not open for i/o");
	if(mkflock(&r->ifcall.lock, &fl) < 0)
		return -1;
	if(fcntl(f->fd, F_OFD_GETLK, &fl) < 0)
		return syserr(NULL);
	o = &r->ofcall.lock;
	*o = r->ifcall.lock;
	snprintf(xscratch.ext, sizeof xscratch.ext, "%s", o->client_id != NULL ? o->client_id : "");
	o->client_id = xscratch.ext;
	if(fl.l_type == F_UNLCK){
		o->type = P9_LOCK_TYPE_UNLCK;
		return 0;
	}
	o->type = fl.l_type == F_RDLCK ? P9_LOCK_TYPE_RDLCK : P9_LOCK_TYPE_WRLCK;
	o->start = fl.l_start;
	o->length = fl.l_len;
	o->proc_id = fl.l_pid > 0 ? (uint32_t)fl.l_pid : 0;
	return 0;
}
