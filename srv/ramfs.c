/*
 * ramfs.c: the Plan 9 in-memory file server (ramfs(4)) on the server
 * framework of 9p.h: 9P2000, 9P2000.u and 9P2000.L (no links, no device
 * files, no extended attributes).  One lock guards the tree.  A
 * file is freed when nothing refers to it any more: its directory, a fid,
 * a child (a removed directory stays while a fid or a child holds it, so
 * ".." from inside it still works).  Replies never point into the tree:
 * data is copied into the reply buffer and strings into per-thread
 * storage, because the reply is packed after the lock is dropped.
 */
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "9p.h"
#include "ramfs.h"

enum {
	Maxfile = 1 << 30,	/* bytes in one file */
	Maxname = 255,	/* bytes in a name, a user or a group name */
	Minalloc = 4096,
};

#define DMTYPE (P9_DMDIR | P9_DMAPPEND | P9_DMEXCL | P9_DMTMP)

typedef struct File File;
struct File {
	char *name;
	char *uid;
	char *gid;
	char *muid;
	uint32_t mode;	/* P9_DMDIR, DMAPPEND, DMEXCL, DMTMP | 0777 */
	uint32_t nuid;	/* numeric ids for .u and .L */
	uint32_t ngid;
	P9Qid qid;
	uint32_t atime;
	uint32_t mtime;
	uint8_t *data;
	size_t len;
	size_t cap;
	File *parent;	/* NULL for the root */
	File *child;	/* in ascending qid.path: directory reads resume by path */
	File *lastchild;
	File *next;
	int ref;	/* the tree, fids, children */
	int nopen;	/* fids open on it (DMEXCL) */
	int removed;
};

/*
 * What a file costs beside its data, counted against the limit as data
 * is: at most this (its strings are Maxname bytes at most), so a client
 * making empty files runs out of room too, not the machine out of memory.
 */
#define FILECOST (sizeof(File) + 4 * (Maxname + 1))

typedef struct Ram Ram;
struct Ram {
	pthread_mutex_t lk;
	File *root;
	uint64_t path;	/* the last qid.path given out */
	uint64_t total;	/* bytes allocated for file data, and FILECOST a file */
	uint64_t maxtotal;
};

/* A fid's aux. */
typedef struct Rfid Rfid;
struct Rfid {
	Ram *fs;	/* clone and destroyfid see only the fid */
	File *f;
	int opened;	/* counted in f->nopen */
	int rclose;	/* ORCLOSE */
	uint64_t dirlast;	/* the qid.path of the last entry a directory read gave */
};

/* Strings of an Rstat or Rgetlock: the reply is packed after the lock is dropped. */
static __thread char tstr[4][Maxname + 1];
static __thread char tlockid[256];

static uint32_t
now(void)
{
	return (uint32_t)time(NULL);
}

static void
setqidtype(File *f)
{
	f->qid.type = (f->mode >> 24) & (P9_QTDIR | P9_QTAPPEND | P9_QTEXCL | P9_QTTMP);
}

static void
incref(File *f)
{
	f->ref++;
}

static void
freefile(Ram *fs, File *f)
{
	fs->total -= f->cap + FILECOST;
	free(f->data);
	free(f->name);
	free(f->uid);
	free(f->gid);
	free(f->muid);
	free(f);
}

/* Drop a reference; a file that nothing holds is freed, then its directory's reference. */
static void
decref(Ram *fs, File *f)
{
	File *p;

	while(f != NULL && --f->ref == 0){
		p = f->parent;
		freefile(fs, f);
		f = p;
	}
}

static File *
lookup(File *d, const char *name)
{
	File *c;

	for(c = d->child; c != NULL; c = c->next)
		if(strcmp(c->name, name) == 0)
			return c;
	return NULL;
}

/* Put f in directory d, in qid.path order, and make f hold d. */
static void
linkchild(File *d, File *f)
{
	File **l;

	for(l = &d->child; *l != NULL && (*l)->qid.path < f->qid.path; l = &(*l)->next)
		;
	f->next = *l;
	*l = f;
	if(f->next == NULL)
		d->lastchild = f;
	f->parent = d;
	incref(d);
}

/* Take f out of its directory's list (f keeps its reference to d). */
static void
unlinkchild(File *f)
{
	File *d, **l, *prev;

	d = f->parent;
	prev = NULL;
	for(l = &d->child; *l != NULL; l = &(*l)->next){
		if(*l == f){
			*l = f->next;
			break;
		}
		prev = *l;
	}
	if(d->lastchild == f)
		d->lastchild = prev;
	f->next = NULL;
}

static File *
newfile(Ram *fs, File *d, const char *name, uint32_t mode, const char *uid, const char *gid)
{
	File *f;

	fs->total += FILECOST;
	f = emalloc(sizeof *f);
	f->name = estrdup(name);
	f->uid = estrdup(uid);
	f->gid = estrdup(gid);
	f->muid = estrdup(uid);
	f->mode = mode;
	f->qid.path = ++fs->path;
	setqidtype(f);
	f->atime = f->mtime = now();
	f->ref = 1;	/* the tree's */
	if(d != NULL){
		f->nuid = d->nuid;
		f->ngid = d->ngid;
		linkchild(d, f);
	}
	return f;
}

/* Room for one more file: -1 (ENOSPC) when the limit says no. */
static int
roomforfile(Ram *fs)
{
	if(fs->total + FILECOST > fs->maxtotal)
		return seterr(ENOSPC, "no space left: ramfs holds %llu bytes at most",
			(unsigned long long)fs->maxtotal);
	return 0;
}

/* A directory's contents changed. */
static void
touchdir(File *d)
{
	d->qid.vers++;
	d->mtime = now();
}

/* Take f out of its directory; it lives on while fids or children hold it. */
static void
unlinkfile(Ram *fs, File *f)
{
	unlinkchild(f);
	f->removed = 1;
	touchdir(f->parent);
	decref(fs, f);
}

/* Plan 9's rule: other, then owner, then group (a group is a user of that name). */
static int
hasperm(File *f, const char *uname, uint32_t p)
{
	uint32_t m;

	m = f->mode & 7;
	if(strcmp(uname, f->uid) == 0)
		m |= (f->mode >> 6) & 7;
	if(strcmp(uname, f->gid) == 0)
		m |= (f->mode >> 3) & 7;
	return (m & p) == p;
}

static int
checkname(const char *name)
{
	if(name[0] == 0 || strcmp(name, ".") == 0 || strcmp(name, "..") == 0 || strchr(name, '/') != NULL)
		return seterr(EINVAL, "bad file name '%.64s'", name);
	if(strlen(name) > Maxname)
		return seterr(ENAMETOOLONG, "file name too long");
	return 0;
}

/* Room for need bytes of data.  Returns -1 (ENOSPC) when memory or the limit say no. */
static int
grow(Ram *fs, File *f, size_t need)
{
	size_t cap;
	uint8_t *p;

	if(need <= f->cap)
		return 0;
	cap = f->cap + f->cap / 2;
	if(cap < need)
		cap = need;
	if(cap < Minalloc)
		cap = Minalloc;
	if(cap > Maxfile)
		cap = Maxfile;
	if(fs->total - f->cap + cap > fs->maxtotal)
		return seterr(ENOSPC, "no space left: ramfs holds %llu bytes at most",
			(unsigned long long)fs->maxtotal);
	p = realloc(f->data, cap);
	if(p == NULL)
		return seterr(ENOSPC, "no space left: out of memory");
	fs->total = fs->total - f->cap + cap;
	f->data = p;
	f->cap = cap;
	return 0;
}

/* Set the length: zeros when it grows; memory goes back when it shrinks a lot. */
static int
setlength(Ram *fs, File *f, uint64_t n)
{
	uint8_t *p;

	if(n > Maxfile)
		return seterr(EFBIG, "file too large: ramfs files hold 1 GiB at most");
	if(n > f->len){
		if(grow(fs, f, n) < 0)
			return -1;
		memset(f->data + f->len, 0, n - f->len);
	}else if(n == 0){
		fs->total -= f->cap;
		free(f->data);
		f->data = NULL;
		f->cap = 0;
	}else if(n < f->cap / 4 && (p = realloc(f->data, n)) != NULL){
		fs->total = fs->total - f->cap + n;
		f->data = p;
		f->cap = n;
	}
	f->len = n;
	return 0;
}

static void
setmuid(File *f, const char *uname)
{
	if(strcmp(f->muid, uname) != 0){
		free(f->muid);
		f->muid = estrdup(uname);
	}
}

/* f's stat record; strings point into the tree (pack it under the lock). */
static void
statof(File *f, P9Stat *st)
{
	memset(st, 0, sizeof *st);
	st->qid = f->qid;
	st->mode = f->mode;
	st->atime = f->atime;
	st->mtime = f->mtime;
	st->length = (f->mode & P9_DMDIR) ? 0 : f->len;
	st->name = f->parent == NULL ? "/" : f->name;
	st->uid = f->uid;
	st->gid = f->gid;
	st->muid = f->muid;
	st->extension = "";
	st->n_uid = f->nuid;
	st->n_gid = f->ngid;
	st->n_muid = P9_NONUNAME;
}

static char *
keep(int i, const char *s)
{
	snprintf(tstr[i], sizeof tstr[i], "%s", s);
	return tstr[i];
}

/* --- the messages; fs->lk is held --- */

static int
rattach(Ram *fs, P9Req *r)
{
	Rfid *rf;

	if(strlen(r->ifcall.uname) > Maxname)
		return seterr(EINVAL, "attach: user name too long");
	if(r->fid->uname[0] == 0 && r->fid->n_uname != P9_NONUNAME){
		/* a numeric attach (the Linux kernel's): the name is what permissions compare */
		struct passwd pw, *pp;
		char buf[1024];

		free(r->fid->uname);
		if(getpwuid_r(r->fid->n_uname, &pw, buf, sizeof buf, &pp) == 0 && pp != NULL)
			r->fid->uname = estrdup(pp->pw_name);
		else
			r->fid->uname = esmprint("%u", r->fid->n_uname);
	}
	rf = emalloc(sizeof *rf);
	rf->fs = fs;
	rf->f = fs->root;
	incref(rf->f);
	r->fid->aux = rf;
	r->fid->qid = rf->f->qid;
	r->ofcall.qid = rf->f->qid;
	return 0;
}

static int
rwalk(Ram *fs, P9Req *r)
{
	Rfid *rf, *nrf;
	File *f, *next;
	const char *name;
	int i;

	rf = r->fid->aux;
	f = rf->f;
	for(i = 0; i < r->ifcall.nwname; i++){
		name = r->ifcall.wname[i];
		if(!(f->mode & P9_DMDIR)){
			if(i == 0)
				return seterr(ENOTDIR, "walk in non-directory");
			break;
		}
		if(!hasperm(f, r->fid->uname, P9_DMEXEC)){
			if(i == 0)
				return perr(Eperm, "walk %s", name);
			break;
		}
		if(strlen(name) > Maxname){
			if(i == 0)
				return seterr(ENAMETOOLONG, "file name too long");
			break;
		}
		if(strcmp(name, "..") == 0)
			next = f->parent != NULL ? f->parent : f;
		else
			next = lookup(f, name);
		if(next == NULL){
			if(i == 0)
				return perr(Enonexist, "'%.64s'", name);
			break;
		}
		f = next;
		r->ofcall.wqid[i] = f->qid;
	}
	r->ofcall.nwqid = i;
	if(i < r->ifcall.nwname)
		return 0;
	incref(f);
	if(r->newfid == r->fid){
		decref(fs, rf->f);
		rf->f = f;
	}else{
		nrf = emalloc(sizeof *nrf);
		nrf->fs = fs;
		nrf->f = f;
		r->newfid->aux = nrf;
	}
	r->newfid->qid = f->qid;
	return 0;
}

/* The permission bits an open mode needs. */
static uint32_t
needperm(uint8_t mode)
{
	static const uint32_t p[4] = {P9_DMREAD, P9_DMWRITE, P9_DMREAD | P9_DMWRITE, P9_DMEXEC};
	uint32_t need;

	need = p[mode & 3];
	if(mode & P9_OTRUNC)
		need |= P9_DMWRITE;
	return need;
}

static void
markopen(P9Req *r, Rfid *rf)
{
	rf->opened = 1;
	rf->f->nopen++;
	rf->rclose = (r->ifcall.mode & P9_ORCLOSE) != 0;
	rf->dirlast = 0;
	r->fid->diroffset = 0;
	r->ofcall.qid = rf->f->qid;
	r->ofcall.iounit = 0;
}

static int
ropen(Ram *fs, P9Req *r)
{
	Rfid *rf;
	File *f;
	uint32_t need;
	uint8_t mode;

	rf = r->fid->aux;
	f = rf->f;
	mode = r->ifcall.mode;
	need = needperm(mode);
	if((f->mode & P9_DMDIR) && (need & P9_DMWRITE))
		return perr(Eisdir, "open for writing");
	if(!hasperm(f, r->fid->uname, need))
		return perr(Eperm, "open");
	if(mode & P9_ORCLOSE){
		if(f->parent == NULL || !hasperm(f->parent, r->fid->uname, P9_DMWRITE))
			return perr(Eperm, "open with remove on close");
	}
	if((f->mode & P9_DMEXCL) && f->nopen > 0)
		return seterr(EBUSY, "exclusive use file already open");
	if((mode & P9_OTRUNC) && !(f->mode & P9_DMAPPEND) && f->len > 0){
		setlength(fs, f, 0);
		f->qid.vers++;
		f->mtime = f->atime = now();
		setmuid(f, r->fid->uname);
	}
	markopen(r, rf);
	return 0;
}

static int
rcreate(Ram *fs, P9Req *r)
{
	Rfid *rf;
	File *d, *f;
	uint32_t perm, mode;

	rf = r->fid->aux;
	d = rf->f;
	perm = r->ifcall.perm;
	if(!(d->mode & P9_DMDIR))
		return seterr(ENOTDIR, "create in non-directory");
	if(d->removed)
		return perr(Enonexist, "create in a removed directory");
	if(!hasperm(d, r->fid->uname, P9_DMWRITE))
		return perr(Eperm, "create '%.64s'", r->ifcall.name);
	if(checkname(r->ifcall.name) < 0)
		return -1;
	if(perm & ~(DMTYPE | 0777U) & 0xff000000U)
		return seterr(EOPNOTSUPP, "create '%.64s': ramfs makes no special files", r->ifcall.name);
	if(lookup(d, r->ifcall.name) != NULL)
		return perr(Eexist, "'%.64s'", r->ifcall.name);
	if((perm & P9_DMDIR) && (needperm(r->ifcall.mode) & P9_DMWRITE))
		return perr(Eisdir, "create a directory for writing");
	if(roomforfile(fs) < 0)
		return -1;
	/* create(5): the directory's permissions limit the new file's */
	if(perm & P9_DMDIR)
		mode = (perm & DMTYPE) | (perm & d->mode & 0777);
	else
		mode = (perm & DMTYPE) | (perm & (~0666U | (d->mode & 0666)) & 0777);
	f = newfile(fs, d, r->ifcall.name, mode, r->fid->uname, d->gid);
	if(r->fid->n_uname != P9_NONUNAME)
		f->nuid = r->fid->n_uname;
	touchdir(d);
	incref(f);
	decref(fs, d);
	rf->f = f;
	r->fid->qid = f->qid;
	markopen(r, rf);
	return 0;
}

/* A directory read: whole stat records; read(5)'s offset rule. */
static int
rdirread(Ram *fs, P9Req *r, File *d, Rfid *rf)
{
	P9Stat st;
	File *c;
	uint8_t *p;
	uint32_t n;
	int k;

	if(r->ifcall.offset == 0)
		rf->dirlast = 0;
	else if(r->ifcall.offset != r->fid->diroffset)
		return seterr(EINVAL, "bad offset in directory read");
	p = r->obuf + P9_RREADHDRSZ;
	n = 0;
	for(c = d->child; c != NULL && c->qid.path <= rf->dirlast; c = c->next)
		;
	for(; c != NULL; c = c->next){
		statof(c, &st);
		k = p9_packstat(&st, r->dialect, p + n, r->ifcall.count - n);
		if(k < 0)
			return -1;
		if(k == 0)
			break;
		n += k;
		rf->dirlast = c->qid.path;
	}
	if(n == 0 && c != NULL)
		return seterr(EINVAL, "directory read: count %u too small for an entry", r->ifcall.count);
	r->fid->diroffset = r->ifcall.offset + n;
	d->atime = now();
	r->ofcall.data = p;
	r->ofcall.count = n;
	return 0;
}

static int
rread(Ram *fs, P9Req *r)
{
	Rfid *rf;
	File *f;
	uint64_t off;
	uint32_t n;

	rf = r->fid->aux;
	f = rf->f;
	if((r->fid->omode & 3) == P9_OWRITE)
		return seterr(EBADF, "file not open for reading");
	if(f->mode & P9_DMDIR)
		return rdirread(fs, r, f, rf);
	off = r->ifcall.offset;
	n = 0;
	if(off < f->len){
		n = r->ifcall.count;
		if(n > f->len - off)
			n = f->len - off;
		memcpy(r->obuf + P9_RREADHDRSZ, f->data + off, n);
	}
	f->atime = now();
	r->ofcall.data = r->obuf + P9_RREADHDRSZ;
	r->ofcall.count = n;
	return 0;
}

static int
rwrite(Ram *fs, P9Req *r)
{
	Rfid *rf;
	File *f;
	uint64_t off;
	uint32_t n;

	rf = r->fid->aux;
	f = rf->f;
	if((r->fid->omode & 3) != P9_OWRITE && (r->fid->omode & 3) != P9_ORDWR)
		return seterr(EBADF, "file not open for writing");
	if(f->mode & P9_DMDIR)
		return perr(Eisdir, "write");
	n = r->ifcall.count;
	off = r->ifcall.offset;
	if((f->mode & P9_DMAPPEND) || (r->dialect == P9_9P2000L && (r->fid->omode & P9_DOTL_APPEND)))
		off = f->len;
	if(off > Maxfile || n > Maxfile - off)
		return seterr(EFBIG, "file too large: ramfs files hold 1 GiB at most");
	if(off + n > f->len){
		if(grow(fs, f, off + n) < 0)
			return -1;
		if(off > f->len)
			memset(f->data + f->len, 0, off - f->len);
		f->len = off + n;
	}
	memcpy(f->data + off, r->ifcall.data, n);
	f->qid.vers++;
	f->mtime = f->atime = now();
	setmuid(f, r->fid->uname);
	r->ofcall.count = n;
	return 0;
}

static int
rstat(Ram *fs, P9Req *r)
{
	Rfid *rf;
	P9Stat *st;

	rf = r->fid->aux;
	st = &r->ofcall.stat;
	statof(rf->f, st);
	st->name = keep(0, st->name);
	st->uid = keep(1, st->uid);
	st->gid = keep(2, st->gid);
	st->muid = keep(3, st->muid);
	return 0;
}

/* wstat(5): every change is checked before any is made, so it is all or nothing. */
static int
rwstat(Ram *fs, P9Req *r)
{
	Rfid *rf;
	File *f;
	P9Stat *st;
	const char *u;
	int owner, rename, mode, mtime, atime, length, gid;

	rf = r->fid->aux;
	f = rf->f;
	st = &r->ifcall.stat;
	u = r->fid->uname;
	owner = strcmp(u, f->uid) == 0 || strcmp(u, f->gid) == 0;
	if((st->type != (uint16_t)~0 && st->type != 0) || (st->dev != ~0U && st->dev != 0))
		return perr(Eperm, "wstat: type or dev");
	if((st->qid.type != (uint8_t)~0 && st->qid.type != f->qid.type) ||
			(st->qid.vers != ~0U && st->qid.vers != f->qid.vers) ||
			(st->qid.path != ~0ULL && st->qid.path != f->qid.path))
		return perr(Eperm, "wstat: qid");
	if(st->uid[0] != 0 && strcmp(st->uid, f->uid) != 0)
		return perr(Eperm, "wstat: owner");

	rename = st->name[0] != 0 && strcmp(st->name, f->name) != 0;
	if(rename){
		if(f->parent == NULL || f->removed)
			return perr(Eperm, "wstat: rename");
		if(checkname(st->name) < 0)
			return -1;
		if(!hasperm(f->parent, u, P9_DMWRITE))
			return perr(Eperm, "wstat: rename");
		if(lookup(f->parent, st->name) != NULL)
			return perr(Eexist, "'%.64s'", st->name);
	}
	mode = st->mode != ~0U && st->mode != f->mode;
	if(mode){
		if(!owner)
			return perr(Eperm, "wstat: mode");
		if((st->mode ^ f->mode) & P9_DMDIR)
			return seterr(EINVAL, "wstat: cannot change the directory bit");
		if(st->mode & ~(DMTYPE | 0777U))
			return seterr(EINVAL, "wstat: mode %#o not supported", st->mode);
	}
	mtime = st->mtime != ~0U;
	atime = st->atime != ~0U;
	if((mtime || atime) && !owner && !hasperm(f, u, P9_DMWRITE))
		return perr(Eperm, "wstat: times");
	length = st->length != ~0ULL && st->length != ((f->mode & P9_DMDIR) ? 0 : f->len);
	if(length){
		if(f->mode & P9_DMDIR)
			return perr(Eisdir, "wstat: length");
		if(!hasperm(f, u, P9_DMWRITE))
			return perr(Eperm, "wstat: length");
		if(st->length > Maxfile)
			return seterr(EFBIG, "file too large: ramfs files hold 1 GiB at most");
	}
	gid = st->gid[0] != 0 && strcmp(st->gid, f->gid) != 0;
	if(gid){
		if(!owner)
			return perr(Eperm, "wstat: group");
		if(strlen(st->gid) > Maxname)
			return seterr(EINVAL, "wstat: group name too long");
	}

	/* the one change that can fail goes first */
	if(length){
		if(st->length > f->len && grow(fs, f, st->length) < 0)
			return -1;
		setlength(fs, f, st->length);
		f->qid.vers++;
		f->mtime = now();
		setmuid(f, u);
	}
	if(rename){
		free(f->name);
		f->name = estrdup(st->name);
		touchdir(f->parent);
	}
	if(mode){
		f->mode = st->mode;
		setqidtype(f);
	}
	if(mtime)
		f->mtime = st->mtime;
	if(atime)
		f->atime = st->atime;
	if(gid){
		free(f->gid);
		f->gid = estrdup(st->gid);
	}
	return 0;
}

static int
rremove(Ram *fs, P9Req *r)
{
	Rfid *rf;
	File *f;

	rf = r->fid->aux;
	f = rf->f;
	if(f->parent == NULL)
		return perr(Eperm, "remove of the root");
	if(f->removed)
		return perr(Enonexist, "remove");
	if(!hasperm(f->parent, r->fid->uname, P9_DMWRITE))
		return perr(Eperm, "remove");
	if(f->child != NULL)
		return seterr(ENOTEMPTY, "directory not empty");
	unlinkfile(fs, f);
	return 0;
}

/* --- 9P2000.L --- */

enum {
	AT_REMOVEDIR_ = 0x200,	/* Tunlinkat flags: Linux's AT_REMOVEDIR */
	V9fsmagic = 0x01021997,	/* statfs f_type of v9fs */
};

/* The Linux mode of f. */
static uint32_t
lmode(File *f)
{
	return ((f->mode & P9_DMDIR) ? 0040000 : 0100000) | (f->mode & 0777);
}

/* Tlopen, Tlcreate flags as Plan 9 permission bits. */
static uint32_t
lneedperm(uint32_t flags)
{
	static const uint32_t p[4] = {P9_DMREAD, P9_DMWRITE, P9_DMREAD | P9_DMWRITE, 0};
	uint32_t need;

	need = p[flags & 3];
	if(flags & P9_DOTL_TRUNC)
		need |= P9_DMWRITE;
	return need;
}

static void
lmarkopen(P9Req *r, Rfid *rf)
{
	rf->opened = 1;
	rf->f->nopen++;
	rf->dirlast = 0;
	r->ofcall.qid = rf->f->qid;
	r->ofcall.iounit = 0;
}

static int
rlopen(Ram *fs, P9Req *r)
{
	Rfid *rf;
	File *f;
	uint32_t need, flags;

	rf = r->fid->aux;
	f = rf->f;
	flags = r->ifcall.flags;
	need = lneedperm(flags);
	if((f->mode & P9_DMDIR) && (need & P9_DMWRITE))
		return perr(Eisdir, "open for writing");
	if(!hasperm(f, r->fid->uname, need))
		return perr(Eperm, "open");
	if((flags & P9_DOTL_TRUNC) && f->len > 0){
		setlength(fs, f, 0);
		f->qid.vers++;
		f->mtime = f->atime = now();
		setmuid(f, r->fid->uname);
	}
	lmarkopen(r, rf);
	return 0;
}

/* A new file or directory named name in d (Tlcreate, Tmkdir), made by who's user. */
static File *
lnew(Ram *fs, P9Fid *who, File *d, const char *name, uint32_t perm, uint32_t gid, int dir)
{
	File *f;

	if(!(d->mode & P9_DMDIR)){
		seterr(ENOTDIR, "create in non-directory");
		return NULL;
	}
	if(d->removed){
		perr(Enonexist, "create in a removed directory");
		return NULL;
	}
	if(!hasperm(d, who->uname, P9_DMWRITE | P9_DMEXEC)){
		perr(Eperm, "create '%.64s'", name);
		return NULL;
	}
	if(checkname(name) < 0)
		return NULL;
	if(lookup(d, name) != NULL){
		perr(Eexist, "'%.64s'", name);
		return NULL;
	}
	if(roomforfile(fs) < 0)
		return NULL;
	f = newfile(fs, d, name, (dir ? P9_DMDIR : 0) | (perm & 0777), who->uname, d->gid);
	if(who->n_uname != P9_NONUNAME)
		f->nuid = who->n_uname;
	if(gid != P9_NONUNAME)
		f->ngid = gid;
	touchdir(d);
	return f;
}

static int
rlcreate(Ram *fs, P9Req *r)
{
	Rfid *rf;
	File *f;

	rf = r->fid->aux;
	f = lnew(fs, r->fid, rf->f, r->ifcall.name, r->ifcall.perm, r->ifcall.gid, 0);
	if(f == NULL)
		return -1;
	incref(f);
	decref(fs, rf->f);
	rf->f = f;
	r->fid->qid = f->qid;
	lmarkopen(r, rf);
	return 0;
}

static int
rmkdir(Ram *fs, P9Req *r)
{
	Rfid *rf;
	File *f;

	rf = r->dfid->aux;
	f = lnew(fs, r->dfid, rf->f, r->ifcall.name, r->ifcall.perm, r->ifcall.gid, 1);
	if(f == NULL)
		return -1;
	r->ofcall.qid = f->qid;
	return 0;
}

/* Whether a is d or beneath it. */
static int
within(File *a, File *d)
{
	for(; a != NULL; a = a->parent)
		if(a == d)
			return 1;
	return 0;
}

/*
 * Move f into directory nd as name (rename(2)): an existing target is
 * replaced when the kinds agree and a directory target is empty.
 */
static int
lmove(Ram *fs, const char *uname, File *f, File *nd, const char *name)
{
	File *old, *t;

	if(f->parent == NULL || f->removed)
		return perr(Enonexist, "rename");
	if(!(nd->mode & P9_DMDIR))
		return seterr(ENOTDIR, "rename: target is not a directory");
	if(nd->removed)
		return perr(Enonexist, "rename into a removed directory");
	if(checkname(name) < 0)
		return -1;
	old = f->parent;
	if(!hasperm(old, uname, P9_DMWRITE | P9_DMEXEC) || !hasperm(nd, uname, P9_DMWRITE | P9_DMEXEC))
		return perr(Eperm, "rename");
	if((f->mode & P9_DMDIR) && within(nd, f))
		return seterr(EINVAL, "rename: a directory into itself");
	t = lookup(nd, name);
	if(t == f)
		return 0;
	if(t != NULL){
		if((f->mode & P9_DMDIR) && !(t->mode & P9_DMDIR))
			return perr(Enotdir, "rename: over a file");
		if(!(f->mode & P9_DMDIR) && (t->mode & P9_DMDIR))
			return perr(Eisdir, "rename: over a directory");
		if(t->child != NULL)
			return seterr(ENOTEMPTY, "directory not empty");
		unlinkfile(fs, t);
	}
	if(strcmp(f->name, name) != 0){
		free(f->name);
		f->name = estrdup(name);
	}
	if(nd != old){
		unlinkchild(f);
		linkchild(nd, f);
		touchdir(old);
		decref(fs, old);	/* f's reference to its old directory */
	}
	touchdir(nd);
	return 0;
}

static int
rrenameat(Ram *fs, P9Req *r)
{
	Rfid *od, *nd;
	File *f;

	od = r->dfid->aux;
	nd = r->newdfid->aux;
	if(!(od->f->mode & P9_DMDIR))
		return seterr(ENOTDIR, "rename: not a directory");
	f = lookup(od->f, r->ifcall.name);
	if(f == NULL)
		return perr(Enonexist, "'%.64s'", r->ifcall.name);
	return lmove(fs, r->dfid->uname, f, nd->f, r->ifcall.newname);
}

static int
rrename(Ram *fs, P9Req *r)
{
	Rfid *rf, *nd;

	rf = r->fid->aux;
	nd = r->dfid->aux;
	return lmove(fs, r->fid->uname, rf->f, nd->f, r->ifcall.name);
}

static int
runlinkat(Ram *fs, P9Req *r)
{
	Rfid *rd;
	File *d, *f;

	rd = r->dfid->aux;
	d = rd->f;
	if(!(d->mode & P9_DMDIR))
		return seterr(ENOTDIR, "unlink: not a directory");
	f = lookup(d, r->ifcall.name);
	if(f == NULL)
		return perr(Enonexist, "'%.64s'", r->ifcall.name);
	if(!hasperm(d, r->dfid->uname, P9_DMWRITE | P9_DMEXEC))
		return perr(Eperm, "unlink");
	if((r->ifcall.flags & AT_REMOVEDIR_) && !(f->mode & P9_DMDIR))
		return perr(Enotdir, "rmdir");
	if(!(r->ifcall.flags & AT_REMOVEDIR_) && (f->mode & P9_DMDIR))
		return perr(Eisdir, "unlink");
	if(f->child != NULL)
		return seterr(ENOTEMPTY, "directory not empty");
	unlinkfile(fs, f);
	return 0;
}

static int
rgetattr(Ram *fs, P9Req *r)
{
	Rfid *rf;
	File *f, *c;
	P9Attr *a;

	rf = r->fid->aux;
	f = rf->f;
	a = &r->ofcall.attr;
	a->valid = P9_GETATTR_BASIC;
	a->qid = f->qid;
	a->mode = lmode(f);
	a->uid = f->nuid;
	a->gid = f->ngid;
	a->nlink = 1;
	if(f->mode & P9_DMDIR){
		a->nlink = 2;
		for(c = f->child; c != NULL; c = c->next)
			if(c->mode & P9_DMDIR)
				a->nlink++;
	}else
		a->size = f->len;
	if(f->removed)
		a->nlink = 0;
	a->blksize = 4096;
	a->blocks = (f->cap + 511) / 512;
	a->atime_sec = f->atime;
	a->mtime_sec = f->mtime;
	a->ctime_sec = f->mtime;
	return 0;
}

static int
rsetattr(Ram *fs, P9Req *r)
{
	Rfid *rf;
	File *f;
	P9Attr *a;
	const char *u;
	int owner;
	uint32_t t;

	rf = r->fid->aux;
	f = rf->f;
	a = &r->ifcall.attr;
	u = r->fid->uname;
	owner = strcmp(u, f->uid) == 0;
	if((a->valid & P9_SETATTR_MODE) && !owner)
		return perr(Eperm, "chmod");
	if((a->valid & P9_SETATTR_UID) && a->uid != f->nuid)
		return perr(Eperm, "chown");
	if((a->valid & P9_SETATTR_GID) && a->gid != f->ngid && !owner)
		return perr(Eperm, "chgrp");
	if(a->valid & P9_SETATTR_SIZE){
		if(f->mode & P9_DMDIR)
			return perr(Eisdir, "truncate");
		if(!owner && !hasperm(f, u, P9_DMWRITE))
			return perr(Eperm, "truncate");
		if(a->size > Maxfile)
			return seterr(EFBIG, "file too large: ramfs files hold 1 GiB at most");
		if(a->size > f->len && grow(fs, f, a->size) < 0)
			return -1;
	}
	if((a->valid & (P9_SETATTR_ATIME | P9_SETATTR_MTIME)) && !owner && !hasperm(f, u, P9_DMWRITE))
		return perr(Eperm, "utimes");

	t = now();
	if(a->valid & P9_SETATTR_SIZE){
		if(a->size != f->len){
			setlength(fs, f, a->size);
			f->qid.vers++;
			setmuid(f, u);
		}
		f->mtime = t;
	}
	if(a->valid & P9_SETATTR_MODE)
		f->mode = (f->mode & ~0777U) | (a->mode & 0777);
	if(a->valid & P9_SETATTR_GID)
		f->ngid = a->gid;
	if(a->valid & P9_SETATTR_ATIME)
		f->atime = (a->valid & P9_SETATTR_ATIME_SET) ? (uint32_t)a->atime_sec : t;
	if(a->valid & P9_SETATTR_MTIME)
		f->mtime = (a->valid & P9_SETATTR_MTIME_SET) ? (uint32_t)a->mtime_sec : t;
	return 0;
}

/* Treaddir: an entry's offset is its qid.path; the next read starts past it. */
static int
rreaddir(Ram *fs, P9Req *r)
{
	Rfid *rf;
	File *d, *c;
	P9Dirent e;
	uint8_t *p;
	uint32_t n;
	int k;

	rf = r->fid->aux;
	d = rf->f;
	if(!(d->mode & P9_DMDIR))
		return perr(Enotdir, "readdir");
	p = r->obuf + P9_RREADHDRSZ;
	n = 0;
	for(c = d->child; c != NULL && c->qid.path <= r->ifcall.offset; c = c->next)
		;
	for(; c != NULL; c = c->next){
		e.qid = c->qid;
		e.offset = c->qid.path;
		e.type = (c->mode & P9_DMDIR) ? DT_DIR : DT_REG;
		e.name = c->name;
		k = p9_packdirent(&e, p + n, r->ifcall.count - n);
		if(k < 0)
			return -1;
		if(k == 0)
			break;
		n += k;
	}
	if(n == 0 && c != NULL)
		return seterr(EINVAL, "readdir: count %u too small for an entry", r->ifcall.count);
	d->atime = now();
	r->ofcall.data = p;
	r->ofcall.count = n;
	return 0;
}

static int
rstatfs(Ram *fs, P9Req *r)
{
	P9Statfs *s;

	s = &r->ofcall.statfs;
	s->type = V9fsmagic;
	s->bsize = 4096;
	s->blocks = fs->maxtotal / 4096;
	s->bfree = s->bavail = fs->total < fs->maxtotal ? (fs->maxtotal - fs->total) / 4096 : 0;
	s->files = 1 << 30;
	s->ffree = (1 << 30) - (fs->path < (1 << 30) ? fs->path : 0);
	s->namelen = Maxname;
	return 0;
}

/* Locks are the client kernel's business here: every request succeeds, no lock is held. */
static int
rlock(Ram *fs, P9Req *r)
{
	if(r->ifcall.type == P9_TLOCK){
		r->ofcall.status = P9_LOCK_SUCCESS;
		return 0;
	}
	r->ofcall.lock = r->ifcall.lock;
	r->ofcall.lock.type = P9_LOCK_TYPE_UNLCK;
	snprintf(tlockid, sizeof tlockid, "%s", r->ifcall.lock.client_id != NULL ? r->ifcall.lock.client_id : "");
	r->ofcall.lock.client_id = tlockid;
	return 0;
}

static int
serve(P9Req *r)
{
	Ram *fs;
	int rc;

	fs = r->srv->aux;
	pthread_mutex_lock(&fs->lk);
	switch(r->ifcall.type){
	case P9_TATTACH:
		rc = rattach(fs, r);
		break;
	case P9_TWALK:
		rc = rwalk(fs, r);
		break;
	case P9_TOPEN:
		rc = ropen(fs, r);
		break;
	case P9_TCREATE:
		rc = rcreate(fs, r);
		break;
	case P9_TREAD:
		rc = rread(fs, r);
		break;
	case P9_TWRITE:
		rc = rwrite(fs, r);
		break;
	case P9_TSTAT:
		rc = rstat(fs, r);
		break;
	case P9_TWSTAT:
		rc = rwstat(fs, r);
		break;
	case P9_TREMOVE:
		rc = rremove(fs, r);
		break;
	case P9_TLOPEN:
		rc = rlopen(fs, r);
		break;
	case P9_TLCREATE:
		rc = rlcreate(fs, r);
		break;
	case P9_TMKDIR:
		rc = rmkdir(fs, r);
		break;
	case P9_TRENAMEAT:
		rc = rrenameat(fs, r);
		break;
	case P9_TRENAME:
		rc = rrename(fs, r);
		break;
	case P9_TUNLINKAT:
		rc = runlinkat(fs, r);
		break;
	case P9_TGETATTR:
		rc = rgetattr(fs, r);
		break;
	case P9_TSETATTR:
		rc = rsetattr(fs, r);
		break;
	case P9_TREADDIR:
		rc = rreaddir(fs, r);
		break;
	case P9_TSTATFS:
		rc = rstatfs(fs, r);
		break;
	case P9_TFSYNC:
		rc = 0;
		break;
	case P9_TLOCK:
	case P9_TGETLOCK:
		rc = rlock(fs, r);
		break;
	default:
		rc = seterr(EOPNOTSUPP, "ramfs: %s not supported", p9_typename(r->ifcall.type));
		break;
	}
	pthread_mutex_unlock(&fs->lk);
	return rc;
}

static int
clonefid(P9Fid *old, P9Fid *new)
{
	Rfid *rf, *nrf;

	rf = old->aux;
	nrf = emalloc(sizeof *nrf);
	nrf->fs = rf->fs;
	pthread_mutex_lock(&rf->fs->lk);
	nrf->f = rf->f;
	incref(nrf->f);
	pthread_mutex_unlock(&rf->fs->lk);
	new->aux = nrf;
	return 0;
}

/* A fid is gone: ORCLOSE removes its file (create(5)), then the reference goes. */
static void
destroyfid(P9Fid *fid)
{
	Rfid *rf;
	Ram *fs;
	File *f;

	rf = fid->aux;
	if(rf == NULL)
		return;
	fs = rf->fs;
	pthread_mutex_lock(&fs->lk);
	f = rf->f;
	if(rf->opened)
		f->nopen--;
	if(rf->rclose && !f->removed && f->parent != NULL && f->child == NULL)
		unlinkfile(fs, f);
	decref(fs, f);
	pthread_mutex_unlock(&fs->lk);
	free(rf);
	fid->aux = NULL;
}

/* Free a tree nothing refers to but itself. */
static void
freetree(Ram *fs, File *f)
{
	File *c, *next;

	for(c = f->child; c != NULL; c = next){
		next = c->next;
		freetree(fs, c);
	}
	freefile(fs, f);
}

void
ramfs_init(P9Srv *s, const char *owner)
{
	Ram *fs;

	fs = emalloc(sizeof *fs);
	pthread_mutex_init(&fs->lk, NULL);
	fs->maxtotal = (uint64_t)sysconf(_SC_PHYS_PAGES) * (uint64_t)sysconf(_SC_PAGESIZE) / 2;
	if(fs->maxtotal < (uint64_t)Maxfile)
		fs->maxtotal = Maxfile;
	fs->root = newfile(fs, NULL, "/", P9_DMDIR | 0777, owner, owner);
	fs->root->nuid = geteuid();
	fs->root->ngid = getegid();
	s->aux = fs;
	s->serve = serve;
	s->clone = clonefid;
	s->destroyfid = destroyfid;
	s->dialects = 0;	/* all three */
}

void
ramfs_free(P9Srv *s)
{
	Ram *fs;

	fs = s->aux;
	if(fs == NULL)
		return;
	freetree(fs, fs->root);
	pthread_mutex_destroy(&fs->lk);
	free(fs);
	s->aux = NULL;
}
