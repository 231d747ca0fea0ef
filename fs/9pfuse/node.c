/*
 * node.c: 9pfuse's inodes.  Each known inode holds a fid walked to its
 * file (counted: a lookup that finds the inode again gives it the fresh
 * fid), found by qid.path; FUSE's lookup counts are kept as
 * passthrough_ll keeps them.  Also the 9P helpers the other files share,
 * and lookup, forget, getattr and setattr.
 */
#define FUSE_USE_VERSION 314
#include <errno.h>
#include <fuse_lowlevel.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "9p.h"
#include "9pfuse.h"
#include "impl.h"

static __thread uint8_t *rbuf;	/* a worker's receive buffer, msize bytes */
static __thread uint8_t *abuf;	/* a worker's buffer for replies built from several messages */

int
pferrno(void)
{
	int e;

	e = errcode();
	return e > 0 ? e : EIO;
}

uint8_t *
pfrecvbuf(Fs *fs)
{
	if(rbuf == NULL)
		rbuf = emalloc(p9_client_msize(fs->c));
	return rbuf;
}

uint8_t *
pfasmbuf(void)
{
	if(abuf == NULL)
		abuf = emalloc(Maxio);
	return abuf;
}

void
pffreebufs(void)
{
	free(rbuf);
	rbuf = NULL;
	free(abuf);
	abuf = NULL;
}

Fs *
pffs(fuse_req_t req)
{
	return fuse_req_userdata(req);
}

Node *
pfnode(Fs *fs, fuse_ino_t ino)
{
	return ino == FUSE_ROOT_ID ? &fs->root : (Node *)(uintptr_t)ino;
}

fuse_ino_t
pfino(Fs *fs, Node *n)
{
	return n == &fs->root ? FUSE_ROOT_ID : (fuse_ino_t)(uintptr_t)n;
}

int
pfrpc(Fs *fs, P9Fcall *t, P9Fcall *r)
{
	return p9_client_rpc(fs->c, t, r, NULL, 0);
}

/* An rpc naming n's fid in *fidp. */
typedef struct Intr Intr;
struct Intr {
	P9Client *c;
	P9Intr in;
};

/* libfuse calls this, under the request's lock, when the kernel interrupts it. */
static void
onintr(fuse_req_t req, void *arg)
{
	Intr *x;

	x = arg;
	p9_client_interrupt(x->c, &x->in);
}

int
pfrpcintr(Fs *fs, fuse_req_t req, P9Fcall *t, P9Fcall *r, uint8_t *buf, size_t len)
{
	Intr x;
	int rv;

	memset(&x, 0, sizeof x);
	x.c = fs->c;
	fuse_req_interrupt_func(req, onintr, &x);
	rv = p9_client_rpcintr(fs->c, t, r, buf, len, &x.in);
	/* Unregistered: a late interrupt finds nothing (this waits for one in progress). */
	fuse_req_interrupt_func(req, NULL, NULL);
	return rv;
}

int
pfrpcref(Fs *fs, Node *n, uint32_t *fidp, P9Fcall *t, P9Fcall *r)
{
	Ref *ref;
	int rv;

	ref = pfgetref(fs, n);
	*fidp = ref->fid;
	rv = pfrpc(fs, t, r);
	pfputref(fs, ref);
	return rv;
}

void
pfclunk(Fs *fs, uint32_t fid)
{
	P9Fcall t, r;

	memset(&t, 0, sizeof t);
	t.type = P9_TCLUNK;
	t.fid = fid;
	if(pfrpc(fs, &t, &r) == 0)
		p9_freefcall(&r);
	/*
	 * pfclunk(5): the fid is gone even when the clunk fails; after a
	 * hangup nothing is reused anyway.
	 */
	p9_client_putfid(fs->c, fid);
}

/* Walk fid to a new fid by name (NULL: a clone).  Returns the new fid or -1. */
int
pfwalk(Fs *fs, uint32_t fid, const char *name, uint32_t *newfid, P9Qid *qid)
{
	P9Fcall t, r;
	uint32_t nf;

	nf = p9_client_newfid(fs->c);
	memset(&t, 0, sizeof t);
	t.type = P9_TWALK;
	t.fid = fid;
	t.newfid = nf;
	if(name != NULL){
		t.nwname = 1;
		t.wname[0] = (char *)name;
	}
	if(pfrpc(fs, &t, &r) < 0){
		p9_client_putfid(fs->c, nf);
		return -1;
	}
	if(r.nwqid != t.nwname){
		/* pfwalk(5): a partial walk makes no newfid */
		p9_freefcall(&r);
		p9_client_putfid(fs->c, nf);
		return seterr(ENOENT, "file does not exist");
	}
	if(qid != NULL && name != NULL)
		*qid = r.wqid[0];
	p9_freefcall(&r);
	*newfid = nf;
	return 0;
}

/*
 * A socket (a service posted on the server's side) shows as an empty
 * regular file with the sticky bit, since open(2) of a socket inode
 * fails: opening it is dialling the service (exportfs(4)), and ns9 dials
 * such a file of a 9P mount (ns_srvdial).  A regular file's sticky bit,
 * which means nothing on Linux, is not shown, so that it marks only
 * services.  Returns 1 for a service, else 0.
 */
static int
servicefile(struct stat *st, int service)
{
	if(!service){
		if(S_ISREG(st->st_mode))
			st->st_mode &= ~S_ISVTX;
		return 0;
	}
	st->st_mode = S_IFREG | S_ISVTX | (st->st_mode & 0777);
	st->st_size = 0;
	st->st_blocks = 0;
	return 1;
}

static int
attrtostat(const P9Attr *a, struct stat *st)
{
	memset(st, 0, sizeof *st);
	st->st_ino = a->qid.path;
	st->st_mode = a->mode;
	st->st_nlink = a->nlink;
	st->st_uid = a->uid;
	st->st_gid = a->gid;
	st->st_rdev = a->rdev;
	st->st_size = a->size;
	st->st_blksize = a->blksize;
	st->st_blocks = a->blocks;
	st->st_atim.tv_sec = a->atime_sec;
	st->st_atim.tv_nsec = a->atime_nsec;
	st->st_mtim.tv_sec = a->mtime_sec;
	st->st_mtim.tv_nsec = a->mtime_nsec;
	st->st_ctim.tv_sec = a->ctime_sec;
	st->st_ctim.tv_nsec = a->ctime_nsec;
	return servicefile(st, S_ISSOCK(st->st_mode));
}

/*
 * A 9P2000 stat has user names, not numbers: every file belongs to the
 * mounter (the uid the conversation was attached as).
 */
static int
dirtostat(Fs *fs, const P9Stat *d, struct stat *st)
{
	memset(st, 0, sizeof *st);
	st->st_ino = d->qid.path;
	st->st_mode = d->mode & 0777;
	if(d->mode & P9_DMDIR){
		/* 1: the count of subdirectories is not known (find(1) and btrfs agree) */
		st->st_mode |= S_IFDIR;
		st->st_nlink = 1;
	}else{
		st->st_mode |= S_IFREG;
		st->st_nlink = 1;
		st->st_size = d->length;
	}
	st->st_uid = fs->uid;
	st->st_gid = fs->gid;
	st->st_blksize = 8192;
	st->st_blocks = (d->length + 511) / 512;
	st->st_atim.tv_sec = d->atime;
	st->st_mtim.tv_sec = d->mtime;
	st->st_ctim.tv_sec = d->mtime;
	return servicefile(st, (d->mode & P9_DMSOCKET) != 0);
}

int
pfgetattr(Fs *fs, uint32_t fid, struct stat *st)
{
	P9Fcall t, r;
	int svc;

	memset(&t, 0, sizeof t);
	t.fid = fid;
	if(fs->dialect == P9_9P2000L){
		t.type = P9_TGETATTR;
		t.mask = P9_GETATTR_BASIC;
		if(pfrpc(fs, &t, &r) < 0)
			return -1;
		svc = attrtostat(&r.attr, st);
	}else{
		t.type = P9_TSTAT;
		if(pfrpc(fs, &t, &r) < 0)
			return -1;
		svc = dirtostat(fs, &r.stat, st);
	}
	p9_freefcall(&r);
	return svc;
}

Ref *
pfnewref(uint32_t fid)
{
	Ref *r;

	r = emalloc(sizeof *r);
	r->fid = fid;
	r->ref = 1;
	return r;
}

/* The fid of n, held until putref. */
Ref *
pfgetref(Fs *fs, Node *n)
{
	Ref *r;

	pthread_mutex_lock(&fs->lk);
	r = n->ref;
	r->ref++;
	pthread_mutex_unlock(&fs->lk);
	return r;
}

void
pfputref(Fs *fs, Ref *r)
{
	int n;

	pthread_mutex_lock(&fs->lk);
	n = --r->ref;
	pthread_mutex_unlock(&fs->lk);
	if(n == 0){
		pfclunk(fs, r->fid);
		free(r);
	}
}

/*
 * The inode for a fid just walked to qid: the known one for qid.path,
 * which takes the fresh fid, or a new one holding it.  Counts one lookup.
 */
static Node *
getnode(Fs *fs, uint32_t fid, P9Qid qid, int service)
{
	Node *n;
	Ref *old;
	uint64_t h;

	h = qid.path % Nhash;
	pthread_mutex_lock(&fs->lk);
	if(qid.path == fs->root.qid.path){
		/* the attach fid stays */
		fs->root.nlookup++;
		pthread_mutex_unlock(&fs->lk);
		pfclunk(fs, fid);
		return &fs->root;
	}
	for(n = fs->hash[h]; n != NULL; n = n->next)
		if(n->qid.path == qid.path){
			n->nlookup++;
			n->qid = qid;
			n->service = service;
			old = n->ref;
			n->ref = pfnewref(fid);
			pthread_mutex_unlock(&fs->lk);
			pfputref(fs, old);
			return n;
		}
	n = emalloc(sizeof *n);
	n->ref = pfnewref(fid);
	n->qid = qid;
	n->service = service;
	n->nlookup = 1;
	n->next = fs->hash[h];
	fs->hash[h] = n;
	pthread_mutex_unlock(&fs->lk);
	return n;
}

void
pfforget(Fs *fs, fuse_ino_t ino, uint64_t nlookup)
{
	Node *n, **l;

	n = pfnode(fs, ino);
	pthread_mutex_lock(&fs->lk);
	if(n == &fs->root || n->nlookup > nlookup){
		n->nlookup -= n->nlookup > nlookup ? nlookup : n->nlookup;
		pthread_mutex_unlock(&fs->lk);
		return;
	}
	for(l = &fs->hash[n->qid.path % Nhash]; *l != NULL; l = &(*l)->next)
		if(*l == n){
			*l = n->next;
			break;
		}
	pthread_mutex_unlock(&fs->lk);
	pfputref(fs, n->ref);
	free(n);
}

/* Walk from parent to name, stat it, and fill e.  Counts one lookup. */
int
pflookup(Fs *fs, Node *parent, const char *name, struct fuse_entry_param *e)
{
	uint32_t fid;
	P9Qid qid;
	Node *n;
	Ref *pr;
	int rv, svc;

	memset(e, 0, sizeof *e);
	pr = pfgetref(fs, parent);
	rv = pfwalk(fs, pr->fid, name, &fid, &qid);
	pfputref(fs, pr);
	if(rv < 0)
		return -1;
	svc = pfgetattr(fs, fid, &e->attr);
	if(svc < 0){
		pfclunk(fs, fid);
		return -1;
	}
	n = getnode(fs, fid, qid, svc);
	e->ino = pfino(fs, n);
	e->attr_timeout = fs->tmo;
	e->entry_timeout = fs->tmo;
	return 0;
}

/* Reply to a request that made name in parent: look it up. */
void
pfreplynew(fuse_req_t req, Fs *fs, Node *parent, const char *name)
{
	struct fuse_entry_param e;

	if(pflookup(fs, parent, name, &e) < 0)
		fuse_reply_err(req, pferrno());
	else
		fuse_reply_entry(req, &e);
}

static void
fs_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	pfreplynew(req, pffs(req), pfnode(pffs(req), parent), name);
}

static void
fs_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
	pfforget(pffs(req), ino, nlookup);
	fuse_reply_none(req);
}

static void
fs_forget_multi(fuse_req_t req, size_t count, struct fuse_forget_data *fd)
{
	size_t i;

	for(i = 0; i < count; i++)
		pfforget(pffs(req), fd[i].ino, fd[i].nlookup);
	fuse_reply_none(req);
}

static void
fs_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	Fs *fs;
	struct stat st;
	Ref *r;
	int rv;

	fs = pffs(req);
	if(fi != NULL)	/* fstat: the open file, which may have lost its name */
		rv = pfgetattr(fs, ((Handle *)(uintptr_t)fi->fh)->fid, &st);
	else{
		r = pfgetref(fs, pfnode(fs, ino));
		rv = pfgetattr(fs, r->fid, &st);
		pfputref(fs, r);
	}
	if(rv < 0)
		fuse_reply_err(req, pferrno());
	else
		fuse_reply_attr(req, &st, fs->tmo);
}

/* A stat that changes nothing (stat(5)): every field ~0 or "". */
void
pfnullstat(P9Stat *d)
{
	memset(d, 0xff, sizeof *d);
	d->name = "";
	d->uid = "";
	d->gid = "";
	d->muid = "";
	d->extension = NULL;
	d->mem = NULL;
}

static int
dosetattr(Fs *fs, uint32_t fid, struct stat *a, int set)
{
	P9Fcall t, r, s;

	memset(&t, 0, sizeof t);
	t.fid = fid;
	if(fs->dialect == P9_9P2000L){
		t.type = P9_TSETATTR;
		if(set & FUSE_SET_ATTR_MODE){
			t.attr.valid |= P9_SETATTR_MODE;
			t.attr.mode = a->st_mode & 07777;
		}
		if(set & FUSE_SET_ATTR_UID){
			t.attr.valid |= P9_SETATTR_UID;
			t.attr.uid = a->st_uid;
		}
		if(set & FUSE_SET_ATTR_GID){
			t.attr.valid |= P9_SETATTR_GID;
			t.attr.gid = a->st_gid;
		}
		if(set & FUSE_SET_ATTR_SIZE){
			t.attr.valid |= P9_SETATTR_SIZE;
			t.attr.size = a->st_size;
		}
		if(set & FUSE_SET_ATTR_ATIME_NOW)
			t.attr.valid |= P9_SETATTR_ATIME;
		else if(set & FUSE_SET_ATTR_ATIME){
			t.attr.valid |= P9_SETATTR_ATIME | P9_SETATTR_ATIME_SET;
			t.attr.atime_sec = a->st_atim.tv_sec;
			t.attr.atime_nsec = a->st_atim.tv_nsec;
		}
		if(set & FUSE_SET_ATTR_MTIME_NOW)
			t.attr.valid |= P9_SETATTR_MTIME;
		else if(set & FUSE_SET_ATTR_MTIME){
			t.attr.valid |= P9_SETATTR_MTIME | P9_SETATTR_MTIME_SET;
			t.attr.mtime_sec = a->st_mtim.tv_sec;
			t.attr.mtime_nsec = a->st_mtim.tv_nsec;
		}
		if(set & FUSE_SET_ATTR_CTIME)
			t.attr.valid |= P9_SETATTR_CTIME;
	}else{
		/* No numbers to give a file to, and ownership is the server's affair. */
		if(set & (FUSE_SET_ATTR_UID | FUSE_SET_ATTR_GID))
			return seterr(EPERM, "permission denied");
		t.type = P9_TWSTAT;
		pfnullstat(&t.stat);
		if(set & FUSE_SET_ATTR_MODE){
			/* stat(5): DMDIR may not change; DMAPPEND and DMEXCL stay as they are */
			memset(&s, 0, sizeof s);
			s.type = P9_TSTAT;
			s.fid = fid;
			if(pfrpc(fs, &s, &r) < 0)
				return -1;
			t.stat.mode = (r.stat.mode & ~0777U) | (a->st_mode & 0777);
			p9_freefcall(&r);
		}
		if(set & FUSE_SET_ATTR_SIZE)
			t.stat.length = a->st_size;
		if(set & FUSE_SET_ATTR_MTIME_NOW)
			t.stat.mtime = time(NULL);
		else if(set & FUSE_SET_ATTR_MTIME)
			t.stat.mtime = a->st_mtim.tv_sec;
		if(set & FUSE_SET_ATTR_ATIME_NOW)
			t.stat.atime = time(NULL);
		else if(set & FUSE_SET_ATTR_ATIME)
			t.stat.atime = a->st_atim.tv_sec;
	}
	if(pfrpc(fs, &t, &r) < 0)
		return -1;
	p9_freefcall(&r);
	return 0;
}

static void
fs_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int set, struct fuse_file_info *fi)
{
	Fs *fs;
	Node *n;
	Ref *r;
	struct stat st;
	uint32_t fid;
	int rv;

	fs = pffs(req);
	n = pfnode(fs, ino);
	if(fi != NULL){
		/* ftruncate, fchmod: the open file, which may have lost its name */
		fid = ((Handle *)(uintptr_t)fi->fh)->fid;
		rv = dosetattr(fs, fid, attr, set) < 0 || pfgetattr(fs, fid, &st) < 0 ? -1 : 0;
	}else{
		r = pfgetref(fs, n);
		rv = dosetattr(fs, r->fid, attr, set) < 0 || pfgetattr(fs, r->fid, &st) < 0 ? -1 : 0;
		pfputref(fs, r);
	}
	if(rv < 0)
		fuse_reply_err(req, pferrno());
	else
		fuse_reply_attr(req, &st, fs->tmo);
}

void
pfnodeops(struct fuse_lowlevel_ops *o)
{
	o->lookup = fs_lookup;
	o->forget = fs_forget;
	o->forget_multi = fs_forget_multi;
	o->getattr = fs_getattr;
	o->setattr = fs_setattr;
}
