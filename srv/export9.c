/*
 * export9.c: exportfs's 9P2000 and 9P2000.u messages: open, create,
 * directory reads (whole stat records, read(5) offset rules), remove,
 * stat and wstat.  In 9P2000 symbolic links are followed while they stay
 * beneath the root; .u shows them (DMSYMLINK) and its client reads them.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "exportimpl.h"

enum {
	Dirbuf = 16384,	/* getdents64 buffer */
};

static int
openflags(int mode, int dialect)
{
	int oflags;

	switch(mode & 3){
	case P9_OWRITE:
		oflags = O_WRONLY;
		break;
	case P9_ORDWR:
		oflags = O_RDWR;
		break;
	default:	/* OREAD, OEXEC */
		oflags = O_RDONLY;
		break;
	}
	if(mode & P9_OTRUNC)
		oflags |= O_TRUNC;
	if(dialect == P9_9P2000U && (mode & P9_OAPPEND))
		oflags |= O_APPEND;
	return oflags;
}

/*
 * A stat record for st, named name.  Strings point at xscratch and the
 * id tables: pack it before this thread's next request.  For a .u
 * symbolic link the target is read from lname in lfd.
 */
static void
mkstat(Xfs *fs, const struct stat *st, const char *name, int dialect, int lfd, const char *lname, P9Stat *d)
{
	uint32_t mode;
	ssize_t n;

	memset(d, 0, sizeof *d);
	d->qid = xqid(fs, st, dialect);
	mode = st->st_mode & 0777;
	if(S_ISDIR(st->st_mode))
		mode |= P9_DMDIR;
	if(dialect == P9_9P2000U){
		if(S_ISLNK(st->st_mode))
			mode |= P9_DMSYMLINK;
		else if(S_ISCHR(st->st_mode) || S_ISBLK(st->st_mode))
			mode |= P9_DMDEVICE;
		else if(S_ISFIFO(st->st_mode))
			mode |= P9_DMNAMEDPIPE;
		else if(S_ISSOCK(st->st_mode))
			mode |= P9_DMSOCKET;
		if(st->st_mode & S_ISUID)
			mode |= P9_DMSETUID;
		if(st->st_mode & S_ISGID)
			mode |= P9_DMSETGID;
		if(st->st_mode & S_ISVTX)
			mode |= P9_DMSETVTX;
	}
	d->mode = mode;
	d->atime = st->st_atim.tv_sec;
	d->mtime = st->st_mtim.tv_sec;
	d->length = S_ISDIR(st->st_mode) ? 0 : st->st_size;
	d->name = (char *)name;
	d->uid = (char *)xuname(fs, st->st_uid, xscratch.uid);
	d->gid = (char *)xgname(fs, st->st_gid, xscratch.gid);
	d->muid = d->uid;
	d->n_uid = P9_NONUNAME;
	d->n_gid = P9_NONUNAME;
	d->n_muid = P9_NONUNAME;
	if(dialect != P9_9P2000U)
		return;
	d->n_uid = st->st_uid;
	d->n_gid = st->st_gid;
	d->n_muid = st->st_uid;
	xscratch.ext[0] = 0;
	if(S_ISLNK(st->st_mode)){
		n = readlinkat(lfd, lname, xscratch.ext, sizeof xscratch.ext - 1);
		xscratch.ext[n > 0 ? n : 0] = 0;
	}else if(S_ISCHR(st->st_mode) || S_ISBLK(st->st_mode))
		snprintf(xscratch.ext, sizeof xscratch.ext, "%c %u %u", S_ISCHR(st->st_mode) ? 'c' : 'b',
			major(st->st_rdev), minor(st->st_rdev));
	d->extension = xscratch.ext;
}

int
x9open(P9Req *r)
{
	Xfs *fs;
	Xfid *f;
	char path[PATH_MAX];
	struct stat st;
	int mode, oflags, fd, ret;

	fs = r->srv->aux;
	f = r->fid->aux;
	mode = r->ifcall.mode;
	oflags = openflags(mode, r->dialect);
	if(fs->rdonly && ((oflags & O_ACCMODE) != O_RDONLY || (mode & (P9_OTRUNC | P9_ORCLOSE))))
		return seterr(EROFS, "read-only file system");
	if((r->fid->qid.type & P9_QTDIR) && ((oflags & O_ACCMODE) != O_RDONLY || (mode & P9_OTRUNC)))
		return seterr(EISDIR, "is a directory");
	if(xgetpath(f, path) < 0)
		return -1;
	ret = -1;
	pthread_mutex_lock(&f->lk);
	if(f->fd >= 0){
		seterr(EBADF, "fid already open");
		goto out;
	}
	fd = xopenfid(f, path, oflags, r->dialect == P9_9P2000);
	if(fd < 0 || xsetopen(f, fd, &st) < 0)
		goto out;
	f->rclose = (mode & P9_ORCLOSE) != 0;
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

/* .u special files: a symbolic link, a fifo, a socket or a device. */
static int
mkspecial(int dfd, const char *name, uint32_t perm, const char *ext)
{
	unsigned int maj, min;
	char type;
	int n;

	if(ext == NULL)
		ext = "";
	if(perm & P9_DMSYMLINK){
		if(symlinkat(ext, dfd, name) < 0)
			return syserr(NULL);
		return 0;
	}
	if(perm & P9_DMLINK)
		return seterr(EOPNOTSUPP, "hard links through create are not supported");
	if(!(perm & (P9_DMNAMEDPIPE | P9_DMSOCKET)))
		return xnodevice();
	if(perm & P9_DMNAMEDPIPE)
		return mknodat(dfd, name, S_IFIFO | (perm & 0777), 0) < 0 ? syserr(NULL) : 0;
	if(perm & P9_DMSOCKET)
		return mknodat(dfd, name, S_IFSOCK | (perm & 0777), 0) < 0 ? syserr(NULL) : 0;
	n = 0;
	if(sscanf(ext, "%c %u %u%n", &type, &maj, &min, &n) != 3 || ext[n] != 0 || (type != 'c' && type != 'b'))
		return seterr(EINVAL, "bad device specification '%s'", ext);
	if(mknodat(dfd, name, (type == 'c' ? S_IFCHR : S_IFBLK) | (perm & 0777), makedev(maj, min)) < 0)
		return syserr(NULL);
	return 0;
}

int
x9create(P9Req *r)
{
	Xfs *fs;
	Xfid *f;
	P9Fcall *t;
	char dir[PATH_MAX], path[PATH_MAX];
	struct stat dst, st;
	uint32_t perm, m;
	int oflags, follow, dfd, fd, ret;

	fs = r->srv->aux;
	f = r->fid->aux;
	t = &r->ifcall;
	follow = r->dialect == P9_9P2000;
	if(!(r->fid->qid.type & P9_QTDIR))
		return seterr(ENOTDIR, "create in non-directory");
	if(xgoodname(t->name) < 0)
		return -1;
	perm = t->perm;
	oflags = openflags(t->mode, r->dialect);
	if((perm & P9_DMDIR) && ((oflags & O_ACCMODE) != O_RDONLY || (t->mode & P9_OTRUNC)))
		return seterr(EISDIR, "is a directory");
	if(xgone(f) < 0 || xgetpath(f, dir) < 0)
		return -1;
	strcpy(path, dir);
	if(xjoin(path, t->name) < 0)
		return -1;
	ret = -1;
	dfd = -1;
	pthread_mutex_lock(&f->lk);
	if(f->fd >= 0){
		seterr(EBADF, "fid already open");
		goto out;
	}
	dfd = xresolve(fs, dir, O_PATH | O_DIRECTORY, follow);
	if(dfd < 0)
		goto out;
	if(fstat(dfd, &dst) < 0){
		syserr(NULL);
		goto out;
	}
	if(perm & P9_DMDIR){
		/* Plan 9: the directory's permissions mask the new one's. */
		m = perm & (~0777U | (dst.st_mode & 0777)) & 0777;
		if(mkdirat(dfd, t->name, m) < 0){
			syserr(NULL);
			goto out;
		}
		fd = xopenat(dfd, t->name, O_RDONLY | O_DIRECTORY, 0);
	}else if(r->dialect == P9_9P2000U &&
		 (perm & (P9_DMSYMLINK | P9_DMLINK | P9_DMDEVICE | P9_DMNAMEDPIPE | P9_DMSOCKET))){
		if(mkspecial(dfd, t->name, perm, t->extension) < 0)
			goto out;
		if(fstatat(dfd, t->name, &st, AT_SYMLINK_NOFOLLOW) < 0){
			syserr(NULL);
			goto out;
		}
		fd = -2;
	}else{
		m = perm & (~0666U | (dst.st_mode & 0666)) & 0777;
		if(r->dialect == P9_9P2000U)
			m |= (perm & P9_DMSETUID ? S_ISUID : 0) | (perm & P9_DMSETGID ? S_ISGID : 0) |
			     (perm & P9_DMSETVTX ? S_ISVTX : 0);
		/* 9P: creating an existing name fails (the client truncates by open). */
		fd = xopenat(dfd, t->name, oflags | O_CREAT | O_EXCL, m);
	}
	if(fd == -1 || (fd >= 0 && xsetopen(f, fd, &st) < 0))
		goto out;
	f->rclose = (t->mode & P9_ORCLOSE) != 0;
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

/* The stat record of name in the directory dirfd (at path dir). */
static int
statat(Xfs *fs, int dialect, int dirfd, const char *dir, const char *name, P9Stat *d)
{
	char path[PATH_MAX];
	struct stat st, lst;
	int fd;

	if(fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return syserr(NULL);
	if(S_ISLNK(st.st_mode) && dialect == P9_9P2000){
		/* Show what the link leads to, if that is beneath the root; else the link. */
		strcpy(path, dir);
		if(xjoin(path, name) == 0 && (fd = xresolve(fs, path, O_PATH, 1)) >= 0){
			if(fstat(fd, &lst) == 0)
				st = lst;
			close(fd);
		}
		clearerr9();
	}
	mkstat(fs, &st, name, dialect, dirfd, name, d);
	return 0;
}

/*
 * A 9P2000 directory read: whole stat records, no . or ..; the offset is
 * 0 (start again) or where the previous read ended (read(5)).  The
 * getdents cookie of the next entry is kept in the fid.
 */
int
x9dirread(P9Req *r)
{
	Xfs *fs;
	Xfid *f;
	char dir[PATH_MAX], *dbuf;
	struct dirent64 *de;
	uint8_t *out;
	uint32_t count, n;
	int64_t pos;
	ssize_t nb, off;
	P9Stat st;
	int m, full, ret;

	fs = r->srv->aux;
	f = r->fid->aux;
	count = r->ifcall.count;
	if(count > r->msize - P9_RREADHDRSZ)
		count = r->msize - P9_RREADHDRSZ;
	out = r->obuf + P9_RREADHDRSZ;
	if(xgetpath(f, dir) < 0)
		return -1;
	dbuf = emalloc(Dirbuf);
	ret = -1;
	pthread_mutex_lock(&f->lk);
	if(r->ifcall.offset == 0){
		f->dirpos = 0;
		r->fid->diroffset = 0;
	}else if(r->ifcall.offset != r->fid->diroffset){
		seterr(EINVAL, "bad offset in directory read");
		goto out;
	}
	pos = f->dirpos;
	if(lseek(f->fd, pos, SEEK_SET) < 0){
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
			if(strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0 ||
			   statat(fs, r->dialect, f->fd, dir, de->d_name, &st) < 0){
				/* Gone since getdents (or . and ..): not listed. */
				pos = de->d_off;
				continue;
			}
			m = p9_packstat(&st, r->dialect, out + n, count - n);
			if(m == 0){
				full = 1;
				break;
			}
			if(m > 0)
				n += m;
			pos = de->d_off;
		}
	}
	if(n == 0 && full){
		seterr(EINVAL, "read count too small for a directory entry");
		goto out;
	}
	clearerr9();
	f->dirpos = pos;
	r->fid->diroffset = r->ifcall.offset + n;
	r->ofcall.count = n;
	r->ofcall.data = out;
	ret = 0;
out:
	pthread_mutex_unlock(&f->lk);
	free(dbuf);
	return ret;
}

int
x9remove(P9Req *r)
{
	Xfs *fs;
	Xfid *f;
	char path[PATH_MAX];
	const char *base;
	int dfd, pfd, ret;

	fs = r->srv->aux;
	f = r->fid->aux;
	f->rclose = 0;
	if(xgone(f) < 0 || xgetpath(f, path) < 0)
		return -1;
	dfd = xparent(fs, path, r->dialect == P9_9P2000, &base);
	if(dfd < 0)
		return -1;
	pfd = xprepin(fs, path, dfd, base);
	ret = unlinkat(dfd, base, 0);
	if(ret < 0 && errno == EISDIR)
		ret = unlinkat(dfd, base, AT_REMOVEDIR);
	if(ret < 0)
		syserr(NULL);
	xpin(fs, path, pfd, ret == 0);
	close(dfd);
	return ret;
}

int
x9stat(P9Req *r)
{
	Xfs *fs;
	Xfid *f;
	char path[PATH_MAX];
	struct stat st;
	int fd;

	fs = r->srv->aux;
	f = r->fid->aux;
	if(xgetpath(f, path) < 0)
		return -1;
	if(f->fd >= 0)
		fd = fcntl(f->fd, F_DUPFD_CLOEXEC, 0);
	else
		fd = xopenfid(f, path, O_PATH, r->dialect == P9_9P2000);
	if(fd < 0)
		return f->fd >= 0 ? syserr(NULL) : -1;
	if(fstat(fd, &st) < 0){
		syserr(NULL);
		close(fd);
		return -1;
	}
	snprintf(xscratch.name, sizeof xscratch.name, "%s", strcmp(path, ".") == 0 ? "/" : xbase(path));
	mkstat(fs, &st, xscratch.name, r->dialect, fd, "", &r->ofcall.stat);
	close(fd);
	return 0;
}

/*
 * wstat: every field is checked before any is changed; then owner, mode,
 * length, times and last the name.  A stat of all "don't touch" values
 * asks for the file to be committed to stable storage.
 */
int
x9wstat(P9Req *r)
{
	Xfs *fs;
	Xfid *f;
	P9Stat *s;
	char path[PATH_MAX], npath[PATH_MAX];
	const char *newname, *base;
	struct timespec ts[2];
	struct stat st;
	uint32_t uid, gid;
	mode_t mode;
	int follow, fd, dfd, pfd, ret, any, e;

	fs = r->srv->aux;
	f = r->fid->aux;
	s = &r->ifcall.stat;
	follow = r->dialect == P9_9P2000;
	if(xgetpath(f, path) < 0)
		return -1;
	uid = gid = (uint32_t)-1;
	if(s->uid != NULL && s->uid[0] != 0){
		if(xunum(fs, s->uid, &uid) < 0)
			return -1;
	}else if(r->dialect == P9_9P2000U && s->n_uid != P9_NONUNAME)
		uid = s->n_uid;
	if(s->gid != NULL && s->gid[0] != 0){
		if(xgnum(fs, s->gid, &gid) < 0)
			return -1;
	}else if(r->dialect == P9_9P2000U && s->n_gid != P9_NONUNAME)
		gid = s->n_gid;
	newname = s->name != NULL && s->name[0] != 0 ? s->name : NULL;
	if(newname != NULL && strcmp(newname, xbase(path)) == 0)
		newname = NULL;
	if(newname != NULL){
		if(xgoodname(newname) < 0)
			return -1;
		if(strcmp(path, ".") == 0)
			return seterr(EBUSY, "file in use: the root of the tree");
		if(xgone(f) < 0)
			return -1;
		strcpy(npath, path);
		*(char *)xbase(npath) = 0;
		if(strlen(npath) + strlen(newname) >= PATH_MAX)
			return seterr(ENAMETOOLONG, "file name too long");
		strcat(npath, newname);
	}
	fd = xopenfid(f, path, O_PATH, follow);
	if(fd < 0)
		return -1;
	ret = -1;
	dfd = -1;
	if(fstat(fd, &st) < 0){
		syserr(NULL);
		goto out;
	}
	if(s->mode != ~0U && ((s->mode & P9_DMDIR) != 0) != S_ISDIR(st.st_mode)){
		seterr(EPERM, "wstat can't convert between files and directories");
		goto out;
	}
	if(s->length != ~0ULL && S_ISDIR(st.st_mode) && s->length != 0){
		seterr(EISDIR, "is a directory");
		goto out;
	}
	any = 0;
	if(uid != (uint32_t)-1 || gid != (uint32_t)-1){
		any = 1;
		if(fchownat(fd, "", uid, gid, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) < 0){
			syserr(NULL);
			goto out;
		}
	}
	if(s->mode != ~0U){
		any = 1;
		mode = s->mode & 0777;
		if(r->dialect == P9_9P2000U)
			mode |= (s->mode & P9_DMSETUID ? S_ISUID : 0) | (s->mode & P9_DMSETGID ? S_ISGID : 0) |
				(s->mode & P9_DMSETVTX ? S_ISVTX : 0);
		if(xchmod(fd, mode) < 0)
			goto out;
	}
	if(s->length != ~0ULL && !S_ISDIR(st.st_mode)){
		any = 1;
		if(xtruncate(fs, f, path, follow, s->length) < 0)
			goto out;
	}
	if(s->atime != ~0U || s->mtime != ~0U){
		any = 1;
		ts[0].tv_sec = s->atime;
		ts[0].tv_nsec = s->atime != ~0U ? 0 : UTIME_OMIT;
		ts[1].tv_sec = s->mtime;
		ts[1].tv_nsec = s->mtime != ~0U ? 0 : UTIME_OMIT;
		if(utimensat(fd, "", ts, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) < 0){
			syserr(NULL);
			goto out;
		}
	}
	if(newname != NULL){
		any = 1;
		dfd = xparent(fs, path, follow, &base);
		if(dfd < 0)
			goto out;
		/*
		 * Onto an existing name, the rename replaces it, as rename(2)
		 * and u9fs do (Plan 9's own servers refuse; its mv removes the
		 * target first); fids naming the replaced file keep it.
		 */
		pfd = xprepin(fs, npath, dfd, newname);
		e = renameat(dfd, base, dfd, newname);
		if(e < 0)
			syserr(NULL);
		xpin(fs, npath, pfd, e == 0);
		if(e < 0)
			goto out;
		xrenamed(fs, path, npath);
	}
	if(!any && f->fd >= 0 && fsync(f->fd) < 0 && errno != EINVAL){
		syserr(NULL);
		goto out;
	}
	ret = 0;
out:
	if(dfd >= 0)
		close(dfd);
	close(fd);
	return ret;
}
