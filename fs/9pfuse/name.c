/*
 * name.c: 9pfuse's operations on names: make (mkdir, mknod, symlink,
 * link), remove, rename, and statfs, in 9P2000.L with fallbacks for
 * servers without Tunlinkat and Trenameat, and in 9P2000 (create with
 * DMDIR, remove, wstat rename within a directory).
 */
#define FUSE_USE_VERSION 314
#include <errno.h>
#include <fuse_lowlevel.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>

#include "9p.h"
#include "9pfuse.h"
#include "impl.h"

/* 9P2000: create name in p with perm and omode, and clunk the result. */
static int
create9(Fs *fs, Node *p, const char *name, uint32_t perm, uint8_t mode)
{
	P9Fcall t, r;
	uint32_t fid;
	Ref *pr;
	int rv;

	pr = pfgetref(fs, p);
	rv = pfwalk(fs, pr->fid, NULL, &fid, NULL);
	pfputref(fs, pr);
	if(rv < 0)
		return -1;
	memset(&t, 0, sizeof t);
	t.type = P9_TCREATE;
	t.fid = fid;
	t.name = (char *)name;
	t.perm = perm;
	t.mode = mode;
	if(pfrpc(fs, &t, &r) < 0){
		pfclunk(fs, fid);
		return -1;
	}
	p9_freefcall(&r);
	pfclunk(fs, fid);
	return 0;
}

static void
fs_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode)
{
	Fs *fs;
	Node *p;
	P9Fcall t, r;

	fs = pffs(req);
	p = pfnode(fs, parent);
	if(fs->dialect == P9_9P2000L){
		memset(&t, 0, sizeof t);
		t.type = P9_TMKDIR;
		t.name = (char *)name;
		t.perm = mode & 07777;
		t.gid = fuse_req_ctx(req)->gid;
		if(pfrpcref(fs, p, &t.dfid, &t, &r) < 0){
			fuse_reply_err(req, pferrno());
			return;
		}
		p9_freefcall(&r);
	}else if(create9(fs, p, name, P9_DMDIR | (mode & 0777), P9_OREAD) < 0){
		fuse_reply_err(req, pferrno());
		return;
	}
	pfreplynew(req, fs, p, name);
}

static void
fs_mknod(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode, dev_t rdev)
{
	Fs *fs;
	Node *p;
	P9Fcall t, r;

	fs = pffs(req);
	p = pfnode(fs, parent);
	if(fs->dialect == P9_9P2000L){
		memset(&t, 0, sizeof t);
		t.type = P9_TMKNOD;
		t.name = (char *)name;
		t.perm = mode;
		t.major = major(rdev);
		t.minor = minor(rdev);
		t.gid = fuse_req_ctx(req)->gid;
		if(pfrpcref(fs, p, &t.dfid, &t, &r) < 0){
			fuse_reply_err(req, pferrno());
			return;
		}
		p9_freefcall(&r);
	}else if(!S_ISREG(mode)){
		fuse_reply_err(req, EPERM);
		return;
	}else if(create9(fs, p, name, mode & 0777, P9_OREAD) < 0){
		fuse_reply_err(req, pferrno());
		return;
	}
	pfreplynew(req, fs, p, name);
}

static void
fs_symlink(fuse_req_t req, const char *target, fuse_ino_t parent, const char *name)
{
	Fs *fs;
	Node *p;
	P9Fcall t, r;

	fs = pffs(req);
	p = pfnode(fs, parent);
	if(fs->dialect != P9_9P2000L){
		fuse_reply_err(req, EPERM);
		return;
	}
	memset(&t, 0, sizeof t);
	t.type = P9_TSYMLINK;
	t.name = (char *)name;
	t.target = (char *)target;
	t.gid = fuse_req_ctx(req)->gid;
	if(pfrpcref(fs, p, &t.fid, &t, &r) < 0){
		fuse_reply_err(req, pferrno());
		return;
	}
	p9_freefcall(&r);
	pfreplynew(req, fs, p, name);
}

static void
fs_readlink(fuse_req_t req, fuse_ino_t ino)
{
	Fs *fs;
	P9Fcall t, r;

	fs = pffs(req);
	if(fs->dialect != P9_9P2000L){
		fuse_reply_err(req, EINVAL);
		return;
	}
	memset(&t, 0, sizeof t);
	t.type = P9_TREADLINK;
	if(pfrpcref(fs, pfnode(fs, ino), &t.fid, &t, &r) < 0){
		fuse_reply_err(req, pferrno());
		return;
	}
	fuse_reply_readlink(req, r.target);
	p9_freefcall(&r);
}

static void
fs_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent, const char *name)
{
	Fs *fs;
	P9Fcall t, r;
	Ref *nr, *pr;
	int rv;

	fs = pffs(req);
	if(fs->dialect != P9_9P2000L){
		fuse_reply_err(req, EPERM);
		return;
	}
	nr = pfgetref(fs, pfnode(fs, ino));
	pr = pfgetref(fs, pfnode(fs, newparent));
	memset(&t, 0, sizeof t);
	t.type = P9_TLINK;
	t.dfid = pr->fid;
	t.fid = nr->fid;
	t.name = (char *)name;
	rv = pfrpc(fs, &t, &r);
	pfputref(fs, nr);
	pfputref(fs, pr);
	if(rv < 0){
		fuse_reply_err(req, pferrno());
		return;
	}
	p9_freefcall(&r);
	pfreplynew(req, fs, pfnode(fs, newparent), name);
}

static int
doremove(Fs *fs, Node *p, const char *name, int dir)
{
	P9Fcall t, r;
	uint32_t fid;
	Ref *pr;
	int rv;

	memset(&t, 0, sizeof t);
	if(fs->dialect == P9_9P2000L){
		t.type = P9_TUNLINKAT;
		t.name = (char *)name;
		t.flags = dir ? Atflagsdir : 0;
		if(pfrpcref(fs, p, &t.dfid, &t, &r) == 0){
			p9_freefcall(&r);
			return 0;
		}
		if(errcode() != ENOSYS && errcode() != EOPNOTSUPP)
			return -1;
		/* A server without Tunlinkat (diod): walk to the file and remove it. */
		memset(&t, 0, sizeof t);
	}
	pr = pfgetref(fs, p);
	rv = pfwalk(fs, pr->fid, name, &fid, NULL);
	pfputref(fs, pr);
	if(rv < 0)
		return -1;
	t.type = P9_TREMOVE;
	t.fid = fid;
	/* remove(5): the fid is clunked whether or not the remove succeeds */
	if(pfrpc(fs, &t, &r) < 0){
		p9_client_putfid(fs->c, fid);
		return -1;
	}
	p9_freefcall(&r);
	p9_client_putfid(fs->c, fid);
	return 0;
}

static void
fs_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	Fs *fs;

	fs = pffs(req);
	fuse_reply_err(req, doremove(fs, pfnode(fs, parent), name, 0) < 0 ? pferrno() : 0);
}

static void
fs_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	Fs *fs;

	fs = pffs(req);
	fuse_reply_err(req, doremove(fs, pfnode(fs, parent), name, 1) < 0 ? pferrno() : 0);
}

static int
dorename(Fs *fs, Node *p, const char *name, Node *np, const char *newname)
{
	P9Fcall t, r;
	uint32_t fid;
	Ref *pr, *npr;
	int rv;

	if(fs->dialect != P9_9P2000L && p != np)
		return seterr(EXDEV, "cross-directory rename");	/* wstat(5) renames within the directory only */
	pr = pfgetref(fs, p);
	npr = pfgetref(fs, np);
	memset(&t, 0, sizeof t);
	if(fs->dialect == P9_9P2000L){
		t.type = P9_TRENAMEAT;
		t.dfid = pr->fid;
		t.name = (char *)name;
		t.newdfid = npr->fid;
		t.newname = (char *)newname;
		if(pfrpc(fs, &t, &r) == 0){
			p9_freefcall(&r);
			rv = 0;
			goto out;
		}
		rv = -1;
		if(errcode() != ENOSYS && errcode() != EOPNOTSUPP)
			goto out;
		/* An older server: Trename moves a fid. */
		if(pfwalk(fs, pr->fid, name, &fid, NULL) < 0)
			goto out;
		memset(&t, 0, sizeof t);
		t.type = P9_TRENAME;
		t.fid = fid;
		t.dfid = npr->fid;
		t.name = (char *)newname;
	}else{
		rv = -1;
		if(pfwalk(fs, pr->fid, name, &fid, NULL) < 0)
			goto out;
		t.type = P9_TWSTAT;
		t.fid = fid;
		pfnullstat(&t.stat);
		t.stat.name = (char *)newname;
	}
	rv = pfrpc(fs, &t, &r);
	if(rv == 0)
		p9_freefcall(&r);
	pfclunk(fs, fid);
out:
	pfputref(fs, pr);
	pfputref(fs, npr);
	return rv;
}

static void
fs_rename(fuse_req_t req, fuse_ino_t parent, const char *name, fuse_ino_t newparent, const char *newname,
	  unsigned int flags)
{
	Fs *fs;

	fs = pffs(req);
	if(flags != 0){
		fuse_reply_err(req, EINVAL);
		return;
	}
	if(dorename(fs, pfnode(fs, parent), name, pfnode(fs, newparent), newname) < 0)
		fuse_reply_err(req, pferrno());
	else
		fuse_reply_err(req, 0);
}

static void
fs_statfs(fuse_req_t req, fuse_ino_t ino)
{
	Fs *fs;
	P9Fcall t, r;
	struct statvfs sv;

	fs = pffs(req);
	memset(&sv, 0, sizeof sv);
	if(fs->dialect != P9_9P2000L){
		sv.f_bsize = 8192;
		sv.f_frsize = 8192;
		sv.f_namemax = 255;
		fuse_reply_statfs(req, &sv);
		return;
	}
	memset(&t, 0, sizeof t);
	t.type = P9_TSTATFS;
	if(pfrpcref(fs, pfnode(fs, ino), &t.fid, &t, &r) < 0){
		fuse_reply_err(req, pferrno());
		return;
	}
	sv.f_bsize = r.statfs.bsize;
	sv.f_frsize = r.statfs.bsize;
	sv.f_blocks = r.statfs.blocks;
	sv.f_bfree = r.statfs.bfree;
	sv.f_bavail = r.statfs.bavail;
	sv.f_files = r.statfs.files;
	sv.f_ffree = r.statfs.ffree;
	sv.f_favail = r.statfs.ffree;
	sv.f_fsid = r.statfs.fsid;
	sv.f_namemax = r.statfs.namelen;
	p9_freefcall(&r);
	fuse_reply_statfs(req, &sv);
}

void
pfnameops(struct fuse_lowlevel_ops *o)
{
	o->mkdir = fs_mkdir;
	o->mknod = fs_mknod;
	o->symlink = fs_symlink;
	o->readlink = fs_readlink;
	o->link = fs_link;
	o->unlink = fs_unlink;
	o->rmdir = fs_rmdir;
	o->rename = fs_rename;
	o->statfs = fs_statfs;
}
