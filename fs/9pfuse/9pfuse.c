/*
 * 9pfuse.c: serve a FUSE mount from a 9P server (plan9port 9pfuse for
 * the libfuse 3 lowlevel API), in 9P2000.L or 9P2000.  Each known inode
 * holds a fid walked to its file; each open file or directory a fid of
 * its own, opened.
 *
 * Process structure: Nworker threads take FUSE requests (poll on
 * /dev/fuse, non-blocking, and on a wake-up eventfd) and make 9P calls
 * through one shared client (lib/9p/client.c), whose reader thread hands
 * back the replies.  When the 9P server hangs up, the client fails every
 * call with EIO and the reader detaches this mount everywhere it is
 * attached in the name space and wakes the workers, which end.  When the
 * mount goes away, /dev/fuse reports it and the workers end.
 */
#define FUSE_USE_VERSION 314
#include <errno.h>
#include <fcntl.h>
#include <fuse_lowlevel.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "9p.h"
#include "9pfuse.h"

enum {
	Nworker = 2,	/* measured: 1 and 2 alike for serial stats, 2 best for parallel reads, 4 slower */
	Maxio = 1 << 20,	/* FUSE max_read/max_write; 9P data per message */
	Msize = Maxio + P9_IOHDRSZ,
	Nhash = 4096,
	Maxents = 1 << 22,	/* entries of one 9P2000 directory listing */
	Atflagsdir = 0x200,	/* AT_REMOVEDIR */
};

/*
 * A fid an inode holds, counted: a lookup that finds the inode again
 * gives it the fid just walked (a server whose fids name paths, like
 * diod, leaves an old fid behind when its name is renamed or removed),
 * and the old one is clunked when the last call using it is done.
 */
typedef struct Ref Ref;
struct Ref {
	uint32_t fid;
	int ref;
};

typedef struct Node Node;
struct Node {
	Ref *ref;
	P9Qid qid;
	uint64_t nlookup;	/* FUSE's lookup count (passthrough_ll) */
	Node *next;	/* hash chain, by qid.path */
};

/* A 9P2000 directory entry, buffered: directory offsets must be sequential (read(5)). */
typedef struct Dent Dent;
struct Dent {
	char *name;
	uint64_t ino;
	mode_t mode;
};

typedef struct Handle Handle;
struct Handle {
	uint32_t fid;
	uint32_t iounit;
	pthread_mutex_t lk;	/* the listing */
	Dent *ents;
	size_t nents, cap;
	uint64_t roff;	/* next 9P2000 directory read offset */
	int eof;
};

typedef struct Fs Fs;
struct Fs {
	const P9FuseOpt *o;
	P9Client *c;
	int dialect;
	size_t iomax;	/* largest count of one Tread/Twrite */
	double tmo;	/* entry and attribute timeout */
	uid_t uid;
	gid_t gid;
	Node root;
	pthread_mutex_t lk;	/* the hash */
	Node *hash[Nhash];
	struct fuse_session *se;
	int fusefd;
	atomic_int dead;	/* the 9P server hung up */
};

static int wakefd = -1;	/* eventfd: readable means stop (a signal handler writes it) */

static __thread uint8_t *rbuf;	/* a worker's receive buffer, msize bytes */
static __thread uint8_t *abuf;	/* a worker's buffer for replies built from several messages */

static void
wake(void)
{
	uint64_t one = 1;
	ssize_t n;

	n = write(wakefd, &one, sizeof one);
	(void)n;
}

static int
code(void)
{
	int e;

	e = errcode();
	return e > 0 ? e : EIO;
}

static uint8_t *
recvbuf(Fs *fs)
{
	if(rbuf == NULL)
		rbuf = emalloc(p9_client_msize(fs->c));
	return rbuf;
}

static uint8_t *
asmbuf(void)
{
	if(abuf == NULL)
		abuf = emalloc(Maxio);
	return abuf;
}

static Fs *
fsof(fuse_req_t req)
{
	return fuse_req_userdata(req);
}

static Node *
nodeof(Fs *fs, fuse_ino_t ino)
{
	return ino == FUSE_ROOT_ID ? &fs->root : (Node *)(uintptr_t)ino;
}

static fuse_ino_t
inoof(Fs *fs, Node *n)
{
	return n == &fs->root ? FUSE_ROOT_ID : (fuse_ino_t)(uintptr_t)n;
}

/* --- 9P calls --- */

static int
rpc(Fs *fs, P9Fcall *t, P9Fcall *r)
{
	return p9_client_rpc(fs->c, t, r, NULL, 0);
}

static Ref *getref(Fs *fs, Node *n);
static void putref(Fs *fs, Ref *r);

/* An rpc naming n's fid in *fidp. */
static int
rpcref(Fs *fs, Node *n, uint32_t *fidp, P9Fcall *t, P9Fcall *r)
{
	Ref *ref;
	int rv;

	ref = getref(fs, n);
	*fidp = ref->fid;
	rv = rpc(fs, t, r);
	putref(fs, ref);
	return rv;
}

static void
clunk(Fs *fs, uint32_t fid)
{
	P9Fcall t, r;

	memset(&t, 0, sizeof t);
	t.type = P9_TCLUNK;
	t.fid = fid;
	if(rpc(fs, &t, &r) == 0)
		p9_freefcall(&r);
	/*
	 * clunk(5): the fid is gone even when the clunk fails; after a
	 * hangup nothing is reused anyway.
	 */
	p9_client_putfid(fs->c, fid);
}

/* Walk fid to a new fid by name (NULL: a clone).  Returns the new fid or -1. */
static int
walk(Fs *fs, uint32_t fid, const char *name, uint32_t *newfid, P9Qid *qid)
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
	if(rpc(fs, &t, &r) < 0){
		p9_client_putfid(fs->c, nf);
		return -1;
	}
	if(r.nwqid != t.nwname){
		/* walk(5): a partial walk makes no newfid */
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

/* --- attributes --- */

static void
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
}

/*
 * A 9P2000 stat has user names, not numbers: every file belongs to the
 * mounter (the uid the conversation was attached as).
 */
static void
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
}

static int
getattr(Fs *fs, uint32_t fid, struct stat *st)
{
	P9Fcall t, r;

	memset(&t, 0, sizeof t);
	t.fid = fid;
	if(fs->dialect == P9_9P2000L){
		t.type = P9_TGETATTR;
		t.mask = P9_GETATTR_BASIC;
		if(rpc(fs, &t, &r) < 0)
			return -1;
		attrtostat(&r.attr, st);
	}else{
		t.type = P9_TSTAT;
		if(rpc(fs, &t, &r) < 0)
			return -1;
		dirtostat(fs, &r.stat, st);
	}
	p9_freefcall(&r);
	return 0;
}

/* --- inodes --- */

static Ref *
newref(uint32_t fid)
{
	Ref *r;

	r = emalloc(sizeof *r);
	r->fid = fid;
	r->ref = 1;
	return r;
}

/* The fid of n, held until putref. */
static Ref *
getref(Fs *fs, Node *n)
{
	Ref *r;

	pthread_mutex_lock(&fs->lk);
	r = n->ref;
	r->ref++;
	pthread_mutex_unlock(&fs->lk);
	return r;
}

static void
putref(Fs *fs, Ref *r)
{
	int n;

	pthread_mutex_lock(&fs->lk);
	n = --r->ref;
	pthread_mutex_unlock(&fs->lk);
	if(n == 0){
		clunk(fs, r->fid);
		free(r);
	}
}

/*
 * The inode for a fid just walked to qid: the known one for qid.path,
 * which takes the fresh fid, or a new one holding it.  Counts one lookup.
 */
static Node *
getnode(Fs *fs, uint32_t fid, P9Qid qid)
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
		clunk(fs, fid);
		return &fs->root;
	}
	for(n = fs->hash[h]; n != NULL; n = n->next)
		if(n->qid.path == qid.path){
			n->nlookup++;
			n->qid = qid;
			old = n->ref;
			n->ref = newref(fid);
			pthread_mutex_unlock(&fs->lk);
			putref(fs, old);
			return n;
		}
	n = emalloc(sizeof *n);
	n->ref = newref(fid);
	n->qid = qid;
	n->nlookup = 1;
	n->next = fs->hash[h];
	fs->hash[h] = n;
	pthread_mutex_unlock(&fs->lk);
	return n;
}

static void
forget(Fs *fs, fuse_ino_t ino, uint64_t nlookup)
{
	Node *n, **l;

	n = nodeof(fs, ino);
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
	putref(fs, n->ref);
	free(n);
}

/* Walk from parent to name, stat it, and fill e.  Counts one lookup. */
static int
dolookup(Fs *fs, Node *parent, const char *name, struct fuse_entry_param *e)
{
	uint32_t fid;
	P9Qid qid;
	Node *n;
	Ref *pr;
	int rv;

	memset(e, 0, sizeof *e);
	pr = getref(fs, parent);
	rv = walk(fs, pr->fid, name, &fid, &qid);
	putref(fs, pr);
	if(rv < 0)
		return -1;
	if(getattr(fs, fid, &e->attr) < 0){
		clunk(fs, fid);
		return -1;
	}
	n = getnode(fs, fid, qid);
	e->ino = inoof(fs, n);
	e->attr_timeout = fs->tmo;
	e->entry_timeout = fs->tmo;
	return 0;
}

/* Reply to a request that made name in parent: look it up. */
static void
replynew(fuse_req_t req, Fs *fs, Node *parent, const char *name)
{
	struct fuse_entry_param e;

	if(dolookup(fs, parent, name, &e) < 0)
		fuse_reply_err(req, code());
	else
		fuse_reply_entry(req, &e);
}

static void
fs_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	replynew(req, fsof(req), nodeof(fsof(req), parent), name);
}

static void
fs_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
	forget(fsof(req), ino, nlookup);
	fuse_reply_none(req);
}

static void
fs_forget_multi(fuse_req_t req, size_t count, struct fuse_forget_data *fd)
{
	size_t i;

	for(i = 0; i < count; i++)
		forget(fsof(req), fd[i].ino, fd[i].nlookup);
	fuse_reply_none(req);
}

static void
fs_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	Fs *fs;
	struct stat st;
	Ref *r;
	int rv;

	fs = fsof(req);
	r = getref(fs, nodeof(fs, ino));
	rv = getattr(fs, r->fid, &st);
	putref(fs, r);
	if(rv < 0)
		fuse_reply_err(req, code());
	else
		fuse_reply_attr(req, &st, fs->tmo);
}

/* A stat that changes nothing (stat(5)): every field ~0 or "". */
static void
nullstat(P9Stat *d)
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
dosetattr(Fs *fs, Node *n, uint32_t fid, struct stat *a, int set)
{
	P9Fcall t, r;

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
		nullstat(&t.stat);
		if(set & FUSE_SET_ATTR_MODE)
			t.stat.mode = (a->st_mode & 0777) | (n->qid.type & P9_QTDIR ? P9_DMDIR : 0);
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
	if(rpc(fs, &t, &r) < 0)
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
	int rv;

	fs = fsof(req);
	n = nodeof(fs, ino);
	r = getref(fs, n);
	rv = dosetattr(fs, n, r->fid, attr, set) < 0 || getattr(fs, r->fid, &st) < 0 ? -1 : 0;
	putref(fs, r);
	if(rv < 0)
		fuse_reply_err(req, code());
	else
		fuse_reply_attr(req, &st, fs->tmo);
}

/* --- open files --- */

static uint32_t
lflags(int flags)
{
	/* The .L flags are Linux's open(2) values; O_DIRECT is the client's business. */
	return flags & (O_ACCMODE | O_TRUNC | O_APPEND | O_EXCL | O_NONBLOCK | O_DSYNC | O_SYNC |
			O_NOATIME | O_DIRECTORY | O_NOFOLLOW | O_LARGEFILE);
}

static uint8_t
omode(int flags)
{
	uint8_t m;

	switch(flags & O_ACCMODE){
	case O_WRONLY:
		m = P9_OWRITE;
		break;
	case O_RDWR:
		m = P9_ORDWR;
		break;
	default:
		m = P9_OREAD;
		break;
	}
	if(flags & O_TRUNC)
		m |= P9_OTRUNC;
	return m;
}

static Handle *
newhandle(uint32_t fid, uint32_t iounit)
{
	Handle *h;

	h = emalloc(sizeof *h);
	h->fid = fid;
	h->iounit = iounit;
	pthread_mutex_init(&h->lk, NULL);
	return h;
}

static void
freehandle(Fs *fs, Handle *h)
{
	size_t i;

	clunk(fs, h->fid);
	for(i = 0; i < h->nents; i++)
		free(h->ents[i].name);
	free(h->ents);
	pthread_mutex_destroy(&h->lk);
	free(h);
}

/* A new fid for n, opened with flags. */
static Handle *
doopen(Fs *fs, Node *n, int flags)
{
	P9Fcall t, r;
	uint32_t fid;
	Ref *nr;
	int rv;

	nr = getref(fs, n);
	rv = walk(fs, nr->fid, NULL, &fid, NULL);
	putref(fs, nr);
	if(rv < 0)
		return NULL;
	memset(&t, 0, sizeof t);
	t.fid = fid;
	if(fs->dialect == P9_9P2000L){
		t.type = P9_TLOPEN;
		t.flags = lflags(flags);
	}else{
		t.type = P9_TOPEN;
		t.mode = omode(flags);
	}
	if(rpc(fs, &t, &r) < 0){
		clunk(fs, fid);
		return NULL;
	}
	p9_freefcall(&r);
	return newhandle(fid, r.iounit);
}

static void
setopen(Fs *fs, struct fuse_file_info *fi, Handle *h)
{
	fi->fh = (uintptr_t)h;
	if(fs->o->cache)
		fi->keep_cache = 1;
	else
		fi->direct_io = 1;
}

static void
fs_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	Fs *fs;
	Handle *h;

	fs = fsof(req);
	h = doopen(fs, nodeof(fs, ino), fi->flags);
	if(h == NULL){
		fuse_reply_err(req, code());
		return;
	}
	setopen(fs, fi, h);
	if(fuse_reply_open(req, fi) != 0)
		freehandle(fs, h);	/* the opener was interrupted */
}

static void
fs_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	freehandle(fsof(req), (Handle *)(uintptr_t)fi->fh);
	fuse_reply_err(req, 0);
}

static void
fs_create(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode, struct fuse_file_info *fi)
{
	Fs *fs;
	Node *p;
	P9Fcall t, r;
	uint32_t fid;
	Handle *h;
	Ref *pr;
	struct fuse_entry_param e;
	int rv;

	fs = fsof(req);
	p = nodeof(fs, parent);
	pr = getref(fs, p);
	rv = walk(fs, pr->fid, NULL, &fid, NULL);
	putref(fs, pr);
	if(rv < 0)
		goto err;
	memset(&t, 0, sizeof t);
	t.fid = fid;
	t.name = (char *)name;
	if(fs->dialect == P9_9P2000L){
		t.type = P9_TLCREATE;
		t.flags = lflags(fi->flags);
		t.perm = mode & 07777;
		t.gid = fuse_req_ctx(req)->gid;
	}else{
		t.type = P9_TCREATE;
		t.perm = mode & 0777;
		t.mode = omode(fi->flags);
	}
	if(rpc(fs, &t, &r) < 0){
		clunk(fs, fid);
		goto err;
	}
	p9_freefcall(&r);
	h = newhandle(fid, r.iounit);
	if(dolookup(fs, p, name, &e) < 0){
		freehandle(fs, h);
		goto err;
	}
	setopen(fs, fi, h);
	if(fuse_reply_create(req, &e, fi) != 0){
		freehandle(fs, h);
		forget(fs, e.ino, 1);
	}
	return;
err:
	fuse_reply_err(req, code());
}

static void
fs_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi)
{
	Fs *fs;
	Handle *h;
	P9Fcall t, r;
	uint8_t *buf, *out;
	size_t max, got;

	fs = fsof(req);
	h = (Handle *)(uintptr_t)fi->fh;
	buf = recvbuf(fs);
	max = fs->iomax;
	if(h->iounit != 0 && h->iounit < max)
		max = h->iounit;
	if(size > Maxio)
		size = Maxio;
	memset(&t, 0, sizeof t);
	t.type = P9_TREAD;
	t.fid = h->fid;
	t.offset = off;
	if(size <= max){
		/* The common case: the reply's data goes to FUSE from where it landed. */
		t.count = size;
		if(p9_client_rpc(fs->c, &t, &r, buf, p9_client_msize(fs->c)) < 0){
			fuse_reply_err(req, code());
			return;
		}
		/* read(5): never more than asked */
		fuse_reply_buf(req, (const char *)r.data, r.count < t.count ? r.count : t.count);
		p9_freefcall(&r);
		return;
	}
	out = asmbuf();
	for(got = 0; got < size; got += r.count){
		t.offset = off + got;
		t.count = size - got < max ? size - got : max;
		if(p9_client_rpc(fs->c, &t, &r, buf, p9_client_msize(fs->c)) < 0){
			if(got == 0){
				fuse_reply_err(req, code());
				return;
			}
			break;
		}
		if(r.count > t.count)
			r.count = t.count;
		memcpy(out + got, r.data, r.count);
		p9_freefcall(&r);
		if(r.count < t.count){
			got += r.count;
			break;
		}
	}
	fuse_reply_buf(req, (const char *)out, got);
}

static void
fs_write(fuse_req_t req, fuse_ino_t ino, const char *data, size_t size, off_t off, struct fuse_file_info *fi)
{
	Fs *fs;
	Handle *h;
	P9Fcall t, r;
	size_t max, done;

	fs = fsof(req);
	h = (Handle *)(uintptr_t)fi->fh;
	max = fs->iomax;
	if(h->iounit != 0 && h->iounit < max)
		max = h->iounit;
	memset(&t, 0, sizeof t);
	t.type = P9_TWRITE;
	t.fid = h->fid;
	for(done = 0; done < size;){
		t.offset = off + done;
		t.count = size - done < max ? size - done : max;
		/* The client sends the data from here: no copy. */
		t.data = (const uint8_t *)data + done;
		if(rpc(fs, &t, &r) < 0){
			if(done == 0){
				fuse_reply_err(req, code());
				return;
			}
			break;
		}
		p9_freefcall(&r);
		if(r.count > t.count)
			r.count = t.count;
		done += r.count;
		if(r.count < t.count)
			break;
	}
	fuse_reply_write(req, done);
}

static void
fs_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	fuse_reply_err(req, 0);
}

static int
dofsync(Fs *fs, uint32_t fid, int datasync)
{
	P9Fcall t, r;

	memset(&t, 0, sizeof t);
	t.fid = fid;
	if(fs->dialect == P9_9P2000L){
		t.type = P9_TFSYNC;
		t.datasync = datasync;
	}else{
		/* stat(5): a wstat that changes nothing asks the server to commit the file */
		t.type = P9_TWSTAT;
		nullstat(&t.stat);
	}
	if(rpc(fs, &t, &r) < 0)
		return -1;
	p9_freefcall(&r);
	return 0;
}

static void
fs_fsync(fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi)
{
	Fs *fs;

	fs = fsof(req);
	if(dofsync(fs, ((Handle *)(uintptr_t)fi->fh)->fid, datasync) < 0)
		fuse_reply_err(req, code());
	else
		fuse_reply_err(req, 0);
}

/* --- directories --- */

static void
fs_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	Fs *fs;
	Handle *h;

	fs = fsof(req);
	h = doopen(fs, nodeof(fs, ino), O_RDONLY | (fs->dialect == P9_9P2000L ? O_DIRECTORY : 0));
	if(h == NULL){
		fuse_reply_err(req, code());
		return;
	}
	fi->fh = (uintptr_t)h;
	if(fuse_reply_open(req, fi) != 0)
		freehandle(fs, h);
}

static void
fs_releasedir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	freehandle(fsof(req), (Handle *)(uintptr_t)fi->fh);
	fuse_reply_err(req, 0);
}

/* A name FUSE can take in a directory listing (it fails the whole read on a bad one). */
static int
goodname(const char *s)
{
	return s[0] != 0 && strchr(s, '/') == NULL && strlen(s) <= 1024;
}

/* 9P2000.L: Treaddir entries carry their own resume offsets. */
static void
readdirl(fuse_req_t req, Fs *fs, Handle *h, size_t size, off_t off)
{
	P9Fcall t, r;
	P9Dirent d;
	struct stat st;
	uint8_t *out;
	size_t pos, need;
	uint32_t i;
	int n;

	if(size > Maxio)
		size = Maxio;
	memset(&t, 0, sizeof t);
	t.type = P9_TREADDIR;
	t.fid = h->fid;
	t.offset = off;
	t.count = size < fs->iomax ? size : fs->iomax;
	if(p9_client_rpc(fs->c, &t, &r, recvbuf(fs), p9_client_msize(fs->c)) < 0){
		fuse_reply_err(req, code());
		return;
	}
	out = asmbuf();
	pos = 0;
	for(i = 0; i < r.count; i += n){
		n = p9_unpackdirent(r.data + i, r.count - i, &d);
		if(n < 0){
			p9_freefcall(&r);
			fuse_reply_err(req, EIO);
			return;
		}
		if(!goodname(d.name)){
			p9_freedirent(&d);
			continue;
		}
		memset(&st, 0, sizeof st);
		st.st_ino = d.qid.path;
		st.st_mode = (mode_t)d.type << 12;
		need = fuse_add_direntry(req, (char *)out + pos, size - pos, d.name, &st, d.offset);
		p9_freedirent(&d);
		if(need > size - pos)
			break;
		pos += need;
	}
	p9_freefcall(&r);
	fuse_reply_buf(req, (const char *)out, pos);
}

/* 9P2000: read more stat records into h's listing; 0 at the end. */
static int
readmore(Fs *fs, Handle *h)
{
	P9Fcall t, r;
	P9Stat d;
	uint32_t i;
	int n;
	Dent *e;

	memset(&t, 0, sizeof t);
	t.type = P9_TREAD;
	t.fid = h->fid;
	t.offset = h->roff;
	t.count = fs->iomax;
	if(p9_client_rpc(fs->c, &t, &r, recvbuf(fs), p9_client_msize(fs->c)) < 0)
		return -1;
	for(i = 0; i < r.count; i += n){
		n = p9_unpackstat(r.data + i, r.count - i, fs->dialect, &d);
		if(n < 0){
			p9_freefcall(&r);
			return seterr(EIO, "9P: bad directory entry");
		}
		if(!goodname(d.name)){
			p9_freestat(&d);
			continue;
		}
		if(h->nents >= Maxents){
			p9_freestat(&d);
			p9_freefcall(&r);
			return seterr(EFBIG, "9P: directory of more than %d entries", Maxents);
		}
		if(h->nents == h->cap){
			h->cap = h->cap == 0 ? 64 : h->cap * 2;
			h->ents = erealloc(h->ents, h->cap * sizeof h->ents[0]);
		}
		e = &h->ents[h->nents++];
		e->name = estrdup(d.name);
		e->ino = d.qid.path;
		e->mode = d.mode & P9_DMDIR ? S_IFDIR : S_IFREG;
		p9_freestat(&d);
	}
	h->roff += r.count;
	if(r.count == 0)
		h->eof = 1;
	p9_freefcall(&r);
	return r.count;
}

static void
readdir9(fuse_req_t req, Fs *fs, Handle *h, size_t size, off_t off)
{
	struct stat st;
	uint8_t *out;
	size_t pos, need, i;

	if(size > Maxio)
		size = Maxio;
	out = asmbuf();
	pos = 0;
	pthread_mutex_lock(&h->lk);
	if(off == 0 && (h->nents > 0 || h->eof)){
		/* rewinddir: read(5) allows offset 0 again */
		for(i = 0; i < h->nents; i++)
			free(h->ents[i].name);
		h->nents = 0;
		h->roff = 0;
		h->eof = 0;
	}
	for(i = off; ; i++){
		while(i >= h->nents && !h->eof)
			if(readmore(fs, h) < 0){
				pthread_mutex_unlock(&h->lk);
				if(pos == 0)
					fuse_reply_err(req, code());
				else
					fuse_reply_buf(req, (const char *)out, pos);
				return;
			}
		if(i >= h->nents)
			break;
		memset(&st, 0, sizeof st);
		st.st_ino = h->ents[i].ino;
		st.st_mode = h->ents[i].mode;
		need = fuse_add_direntry(req, (char *)out + pos, size - pos, h->ents[i].name, &st, i + 1);
		if(need > size - pos)
			break;
		pos += need;
	}
	pthread_mutex_unlock(&h->lk);
	fuse_reply_buf(req, (const char *)out, pos);
}

static void
fs_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi)
{
	Fs *fs;

	fs = fsof(req);
	if(fs->dialect == P9_9P2000L)
		readdirl(req, fs, (Handle *)(uintptr_t)fi->fh, size, off);
	else
		readdir9(req, fs, (Handle *)(uintptr_t)fi->fh, size, off);
}

static void
fs_fsyncdir(fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi)
{
	fs_fsync(req, ino, datasync, fi);
}

/* --- making and removing names --- */

/* 9P2000: create name in p with perm and omode, and clunk the result. */
static int
create9(Fs *fs, Node *p, const char *name, uint32_t perm, uint8_t mode)
{
	P9Fcall t, r;
	uint32_t fid;
	Ref *pr;
	int rv;

	pr = getref(fs, p);
	rv = walk(fs, pr->fid, NULL, &fid, NULL);
	putref(fs, pr);
	if(rv < 0)
		return -1;
	memset(&t, 0, sizeof t);
	t.type = P9_TCREATE;
	t.fid = fid;
	t.name = (char *)name;
	t.perm = perm;
	t.mode = mode;
	if(rpc(fs, &t, &r) < 0){
		clunk(fs, fid);
		return -1;
	}
	p9_freefcall(&r);
	clunk(fs, fid);
	return 0;
}

static void
fs_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode)
{
	Fs *fs;
	Node *p;
	P9Fcall t, r;

	fs = fsof(req);
	p = nodeof(fs, parent);
	if(fs->dialect == P9_9P2000L){
		memset(&t, 0, sizeof t);
		t.type = P9_TMKDIR;
		t.name = (char *)name;
		t.perm = mode & 07777;
		t.gid = fuse_req_ctx(req)->gid;
		if(rpcref(fs, p, &t.dfid, &t, &r) < 0){
			fuse_reply_err(req, code());
			return;
		}
		p9_freefcall(&r);
	}else if(create9(fs, p, name, P9_DMDIR | (mode & 0777), P9_OREAD) < 0){
		fuse_reply_err(req, code());
		return;
	}
	replynew(req, fs, p, name);
}

static void
fs_mknod(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode, dev_t rdev)
{
	Fs *fs;
	Node *p;
	P9Fcall t, r;

	fs = fsof(req);
	p = nodeof(fs, parent);
	if(fs->dialect == P9_9P2000L){
		memset(&t, 0, sizeof t);
		t.type = P9_TMKNOD;
		t.name = (char *)name;
		t.perm = mode;
		t.major = major(rdev);
		t.minor = minor(rdev);
		t.gid = fuse_req_ctx(req)->gid;
		if(rpcref(fs, p, &t.dfid, &t, &r) < 0){
			fuse_reply_err(req, code());
			return;
		}
		p9_freefcall(&r);
	}else if(!S_ISREG(mode)){
		fuse_reply_err(req, EPERM);
		return;
	}else if(create9(fs, p, name, mode & 0777, P9_OREAD) < 0){
		fuse_reply_err(req, code());
		return;
	}
	replynew(req, fs, p, name);
}

static void
fs_symlink(fuse_req_t req, const char *target, fuse_ino_t parent, const char *name)
{
	Fs *fs;
	Node *p;
	P9Fcall t, r;

	fs = fsof(req);
	p = nodeof(fs, parent);
	if(fs->dialect != P9_9P2000L){
		fuse_reply_err(req, EPERM);
		return;
	}
	memset(&t, 0, sizeof t);
	t.type = P9_TSYMLINK;
	t.name = (char *)name;
	t.target = (char *)target;
	t.gid = fuse_req_ctx(req)->gid;
	if(rpcref(fs, p, &t.fid, &t, &r) < 0){
		fuse_reply_err(req, code());
		return;
	}
	p9_freefcall(&r);
	replynew(req, fs, p, name);
}

static void
fs_readlink(fuse_req_t req, fuse_ino_t ino)
{
	Fs *fs;
	P9Fcall t, r;

	fs = fsof(req);
	if(fs->dialect != P9_9P2000L){
		fuse_reply_err(req, EINVAL);
		return;
	}
	memset(&t, 0, sizeof t);
	t.type = P9_TREADLINK;
	if(rpcref(fs, nodeof(fs, ino), &t.fid, &t, &r) < 0){
		fuse_reply_err(req, code());
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

	fs = fsof(req);
	if(fs->dialect != P9_9P2000L){
		fuse_reply_err(req, EPERM);
		return;
	}
	nr = getref(fs, nodeof(fs, ino));
	pr = getref(fs, nodeof(fs, newparent));
	memset(&t, 0, sizeof t);
	t.type = P9_TLINK;
	t.dfid = pr->fid;
	t.fid = nr->fid;
	t.name = (char *)name;
	rv = rpc(fs, &t, &r);
	putref(fs, nr);
	putref(fs, pr);
	if(rv < 0){
		fuse_reply_err(req, code());
		return;
	}
	p9_freefcall(&r);
	replynew(req, fs, nodeof(fs, newparent), name);
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
		if(rpcref(fs, p, &t.dfid, &t, &r) == 0){
			p9_freefcall(&r);
			return 0;
		}
		if(errcode() != ENOSYS && errcode() != EOPNOTSUPP)
			return -1;
		/* A server without Tunlinkat (diod): walk to the file and remove it. */
		memset(&t, 0, sizeof t);
	}
	pr = getref(fs, p);
	rv = walk(fs, pr->fid, name, &fid, NULL);
	putref(fs, pr);
	if(rv < 0)
		return -1;
	t.type = P9_TREMOVE;
	t.fid = fid;
	/* remove(5): the fid is clunked whether or not the remove succeeds */
	if(rpc(fs, &t, &r) < 0){
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

	fs = fsof(req);
	fuse_reply_err(req, doremove(fs, nodeof(fs, parent), name, 0) < 0 ? code() : 0);
}

static void
fs_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	Fs *fs;

	fs = fsof(req);
	fuse_reply_err(req, doremove(fs, nodeof(fs, parent), name, 1) < 0 ? code() : 0);
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
	pr = getref(fs, p);
	npr = getref(fs, np);
	memset(&t, 0, sizeof t);
	if(fs->dialect == P9_9P2000L){
		t.type = P9_TRENAMEAT;
		t.dfid = pr->fid;
		t.name = (char *)name;
		t.newdfid = npr->fid;
		t.newname = (char *)newname;
		if(rpc(fs, &t, &r) == 0){
			p9_freefcall(&r);
			rv = 0;
			goto out;
		}
		rv = -1;
		if(errcode() != ENOSYS && errcode() != EOPNOTSUPP)
			goto out;
		/* An older server: Trename moves a fid. */
		if(walk(fs, pr->fid, name, &fid, NULL) < 0)
			goto out;
		memset(&t, 0, sizeof t);
		t.type = P9_TRENAME;
		t.fid = fid;
		t.dfid = npr->fid;
		t.name = (char *)newname;
	}else{
		rv = -1;
		if(walk(fs, pr->fid, name, &fid, NULL) < 0)
			goto out;
		t.type = P9_TWSTAT;
		t.fid = fid;
		nullstat(&t.stat);
		t.stat.name = (char *)newname;
	}
	rv = rpc(fs, &t, &r);
	if(rv == 0)
		p9_freefcall(&r);
	clunk(fs, fid);
out:
	putref(fs, pr);
	putref(fs, npr);
	return rv;
}

static void
fs_rename(fuse_req_t req, fuse_ino_t parent, const char *name, fuse_ino_t newparent, const char *newname,
	  unsigned int flags)
{
	Fs *fs;

	fs = fsof(req);
	if(flags != 0){
		fuse_reply_err(req, EINVAL);
		return;
	}
	if(dorename(fs, nodeof(fs, parent), name, nodeof(fs, newparent), newname) < 0)
		fuse_reply_err(req, code());
	else
		fuse_reply_err(req, 0);
}

static void
fs_statfs(fuse_req_t req, fuse_ino_t ino)
{
	Fs *fs;
	P9Fcall t, r;
	struct statvfs sv;

	fs = fsof(req);
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
	if(rpcref(fs, nodeof(fs, ino), &t.fid, &t, &r) < 0){
		fuse_reply_err(req, code());
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

static void
fs_init(void *userdata, struct fuse_conn_info *conn)
{
	Fs *fs;

	fs = userdata;
	conn->max_write = Maxio;
	if(conn->capable & FUSE_CAP_ATOMIC_O_TRUNC)
		conn->want |= FUSE_CAP_ATOMIC_O_TRUNC;
	/* Lookups are answered one by one; data comes from our buffers, not pipes. */
	conn->want &= ~(FUSE_CAP_READDIRPLUS | FUSE_CAP_READDIRPLUS_AUTO | FUSE_CAP_SPLICE_READ |
			FUSE_CAP_SPLICE_WRITE | FUSE_CAP_SPLICE_MOVE);
	if(!fs->o->cache)
		conn->want &= ~(FUSE_CAP_AUTO_INVAL_DATA | FUSE_CAP_WRITEBACK_CACHE);
}

static const struct fuse_lowlevel_ops ops = {
	.init = fs_init,
	.lookup = fs_lookup,
	.forget = fs_forget,
	.forget_multi = fs_forget_multi,
	.getattr = fs_getattr,
	.setattr = fs_setattr,
	.readlink = fs_readlink,
	.mknod = fs_mknod,
	.mkdir = fs_mkdir,
	.unlink = fs_unlink,
	.rmdir = fs_rmdir,
	.symlink = fs_symlink,
	.rename = fs_rename,
	.link = fs_link,
	.open = fs_open,
	.read = fs_read,
	.write = fs_write,
	.flush = fs_flush,
	.release = fs_release,
	.fsync = fs_fsync,
	.opendir = fs_opendir,
	.readdir = fs_readdir,
	.releasedir = fs_releasedir,
	.fsyncdir = fs_fsyncdir,
	.statfs = fs_statfs,
	.create = fs_create,
};

/* --- the end of the server --- */

/*
 * This mount's device: the kernel (6.x) names the connection in the
 * /dev/fuse fd's fdinfo, as the st_dev of the mount.
 */
static int
fusedev(int fd, unsigned *maj, unsigned *min)
{
	char path[64], line[256];
	unsigned long v;
	FILE *f;
	int rv;

	snprintf(path, sizeof path, "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "re");
	if(f == NULL)
		return -1;
	rv = -1;
	while(fgets(line, sizeof line, f) != NULL)
		if(sscanf(line, "fuse_connection: %lu", &v) == 1){
			/* the kernel's dev_t: major << 20 | minor */
			*maj = v >> 20;
			*min = v & 0xfffff;
			rv = 0;
			break;
		}
	fclose(f);
	return rv;
}

/* mountinfo escapes blanks, tabs, newlines and backslashes as \ooo. */
static void
unoctal(char *s)
{
	char *d;

	for(d = s; *s; s++, d++){
		if(s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' && s[3] >= '0' &&
		   s[3] <= '7'){
			*d = (s[1] - '0') << 6 | (s[2] - '0') << 3 | (s[3] - '0');
			s += 3;
		}else
			*d = *s;
	}
	*d = 0;
}

/* Detach every mount of this connection from the name space, deepest first. */
static void
detach(Fs *fs)
{
	unsigned maj, min, m1, m2;
	char *line, *pt, **pts;
	size_t cap, npts;
	FILE *f;

	if(fusedev(fs->fusefd, &maj, &min) < 0)
		return;
	f = fopen("/proc/self/mountinfo", "re");
	if(f == NULL)
		return;
	line = NULL;
	cap = 0;
	pts = NULL;
	npts = 0;
	while(getline(&line, &cap, f) > 0){
		pt = NULL;
		if(sscanf(line, "%*d %*d %u:%u %*s %ms", &m1, &m2, &pt) == 3 && m1 == maj && m2 == min){
			unoctal(pt);
			pts = erealloc(pts, (npts + 1) * sizeof pts[0]);
			pts[npts++] = pt;
		}else
			free(pt);
	}
	free(line);
	fclose(f);
	while(npts > 0){
		npts--;
		umount2(pts[npts], MNT_DETACH);
		free(pts[npts]);
	}
	free(pts);
}

static void
onhangup(void *arg)
{
	Fs *fs;

	fs = arg;
	fs->dead = 1;
	detach(fs);
	fuse_session_exit(fs->se);
	wake();
}

static void
onsignal(int sig)
{
	wake();
}

static void *
worker(void *arg)
{
	Fs *fs;
	struct fuse_buf fb;
	struct pollfd pfd[2];
	int n;

	fs = arg;
	memset(&fb, 0, sizeof fb);
	pfd[0].fd = fs->fusefd;
	pfd[0].events = POLLIN;
	pfd[1].fd = wakefd;
	pfd[1].events = POLLIN;
	while(!fuse_session_exited(fs->se)){
		if(poll(pfd, 2, -1) < 0){
			if(errno == EINTR)
				continue;
			break;
		}
		if(pfd[1].revents != 0)
			break;
		if(pfd[0].revents & (POLLERR | POLLHUP | POLLNVAL))
			break;	/* the mount is gone */
		n = fuse_session_receive_buf(fs->se, &fb);
		if(n == -EINTR || n == -EAGAIN)
			continue;	/* another worker took it */
		if(n <= 0)
			break;
		fuse_session_process_buf(fs->se, &fb);
	}
	free(fb.mem);
	free(rbuf);
	rbuf = NULL;
	free(abuf);
	abuf = NULL;
	/* One ends, all end. */
	wake();
	return NULL;
}

static void
status(int fd, int ok)
{
	char line[ERRMAX + 32];
	char *p;
	int n;

	if(ok)
		n = snprintf(line, sizeof line, "0\n");
	else{
		n = snprintf(line, sizeof line, "%d %s\n", code(), errtext());
		for(p = line; p < line + n - 1; p++)
			if(*p == '\n')
				*p = ' ';
	}
	if(n > (int)sizeof line - 1)
		n = sizeof line - 1;
	if(write(fd, line, n) < 0){
		/* the mounter has gone: it will not attach the mount */
	}
	close(fd);
}

static int
attach(Fs *fs)
{
	P9Fcall t, r;

	fs->root.ref = newref(p9_client_newfid(fs->c));
	memset(&t, 0, sizeof t);
	t.type = P9_TATTACH;
	t.fid = fs->root.ref->fid;
	t.afid = P9_NOFID;
	t.uname = (char *)(fs->o->uname != NULL ? fs->o->uname : "");
	t.aname = (char *)(fs->o->aname != NULL ? fs->o->aname : "");
	t.n_uname = fs->o->n_uname;
	if(rpc(fs, &t, &r) < 0)
		return adderr("attach");
	fs->root.qid = r.qid;
	fs->root.nlookup = 1;
	p9_freefcall(&r);
	if(!(fs->root.qid.type & P9_QTDIR))
		return seterr(ENOTDIR, "attach: the root is not a directory");
	return 0;
}

int
p9fuse_serve(int fusefd, int connfd, int statusfd, const P9FuseOpt *o)
{
	static Fs fsmem;
	Fs *fs;
	struct fuse_args args = FUSE_ARGS_INIT(0, NULL);
	struct sigaction sa;
	pthread_t th[Nworker];
	char mnt[32];
	int i, n, rv;
	size_t j;
	Node *nd, *next;

	fs = &fsmem;
	memset(fs, 0, sizeof *fs);
	fs->o = o;
	fs->fusefd = fusefd;
	fs->uid = getuid();
	fs->gid = getgid();
	fs->tmo = o->cache ? 1.0 : 0.0;
	pthread_mutex_init(&fs->lk, NULL);
	rv = -1;
	n = 0;
	wakefd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if(wakefd < 0){
		close(connfd);
		syserr("eventfd");
		status(statusfd, 0);
		close(fusefd);
		return -1;
	}
	fs->c = p9_client_new(connfd, Msize, o->dialect);
	if(fs->c == NULL){
		status(statusfd, 0);
		close(fusefd);
		goto out;
	}
	fs->dialect = p9_client_dialect(fs->c);
	fs->iomax = p9_client_msize(fs->c) - P9_IOHDRSZ;
	if(o->debug)
		p9_client_trace(fs->c, "9pfuse");
	if(attach(fs) < 0){
		status(statusfd, 0);
		close(fusefd);
		goto out;
	}
	fuse_opt_add_arg(&args, "ns9");
	fs->se = fuse_session_new(&args, &ops, sizeof ops, fs);
	fuse_opt_free_args(&args);
	snprintf(mnt, sizeof mnt, "/dev/fd/%d", fusefd);
	if(fs->se == NULL || fuse_session_mount(fs->se, mnt) < 0){
		seterr(EIO, "9pfuse: cannot start a FUSE session on fd %d", fusefd);
		status(statusfd, 0);
		close(fusefd);
		goto out;
	}
	/* Non-blocking, so that a worker that lost the race for a request returns to poll. */
	fcntl(fusefd, F_SETFL, fcntl(fusefd, F_GETFL) | O_NONBLOCK);
	fcntl(fusefd, F_SETFD, FD_CLOEXEC);

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = onsignal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);

	p9_client_onhangup(fs->c, onhangup, fs);
	status(statusfd, 1);
	for(n = 0; n < Nworker - 1; n++)
		if(pthread_create(&th[n], NULL, worker, fs) != 0)
			break;
	worker(fs);
	for(i = 0; i < n; i++)
		pthread_join(th[i], NULL);
	rv = fs->dead ? seterr(EIO, "9pfuse: the 9P server hung up") : 0;
out:
	/* The connection just closes: the server drops every fid with it. */
	if(fs->se != NULL)
		fuse_session_destroy(fs->se);
	p9_client_free(fs->c);
	for(j = 0; j < Nhash; j++)
		for(nd = fs->hash[j]; nd != NULL; nd = next){
			next = nd->next;
			free(nd->ref);
			free(nd);
		}
	free(fs->root.ref);
	close(wakefd);
	wakefd = -1;
	return rv;
}
