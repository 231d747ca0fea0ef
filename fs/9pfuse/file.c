/*
 * file.c: 9pfuse's open files and directories.  An open is a fid of its
 * own, walked from the inode's and opened; reads land in the worker's
 * buffer and go to FUSE from there, writes go to the 9P server from
 * FUSE's buffer.  A 9P2000 directory is read whole, in order, into a
 * listing served by FUSE offset.
 */
#define FUSE_USE_VERSION 314
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fuse_lowlevel.h>
#include <linux/fuse.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "9p.h"
#include "9pfuse.h"
#include "impl.h"

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
newhandle(Fs *fs, uint32_t fid, uint32_t iounit)
{
	Handle *h;

	h = emalloc(sizeof *h);
	h->fid = fid;
	h->iounit = iounit;
	pthread_mutex_init(&h->lk, NULL);
	pthread_mutex_lock(&fs->lk);
	h->next = fs->handles;
	if(h->next != NULL)
		h->next->prev = h;
	fs->handles = h;
	pthread_mutex_unlock(&fs->lk);
	return h;
}

static void
unlinkhandle(Fs *fs, Handle *h)
{
	pthread_mutex_lock(&fs->lk);
	if(h->prev != NULL)
		h->prev->next = h->next;
	else
		fs->handles = h->next;
	if(h->next != NULL)
		h->next->prev = h->prev;
	pthread_mutex_unlock(&fs->lk);
}

static void
releasehandle(Handle *h)
{
	size_t i;

	/*
	 * The kernel releases a file after its last read was answered; the
	 * lock shows that order to a checker that cannot see the kernel.
	 */
	pthread_mutex_lock(&h->lk);
	pthread_mutex_unlock(&h->lk);

	for(i = 0; i < h->nents; i++)
		free(h->ents[i].name);
	free(h->ents);
	pthread_mutex_destroy(&h->lk);
	free(h);
}

void
pffreehandles(Fs *fs)
{
	Handle *h;

	while((h = fs->handles) != NULL){
		unlinkhandle(fs, h);
		releasehandle(h);
	}
}

static void
freehandle(Fs *fs, Handle *h)
{
	unlinkhandle(fs, h);
	pfclunk(fs, h->fid);
	releasehandle(h);
}

/* A new fid for n, opened with flags. */
static Handle *
doopen(Fs *fs, fuse_req_t req, Node *n, int flags)
{
	P9Fcall t, r;
	uint32_t fid;
	Ref *nr;
	int rv;

	nr = pfgetref(fs, n);
	rv = pfwalk(fs, nr->fid, NULL, &fid, NULL);
	pfputref(fs, nr);
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
	if(pfrpcintr(fs, req, &t, &r, NULL, 0) < 0){
		pfclunk(fs, fid);
		return NULL;
	}
	p9_freefcall(&r);
	return newhandle(fs, fid, r.iounit);
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

/*
 * Answer the open of a service file: a conversation, each read what the
 * service sent, and a stream with no file position, so that a reader
 * waiting in read(2) does not hold the position lock a writer needs
 * (FOPEN_STREAM, which libfuse 3.14 cannot ask for).
 */
static int
replyservice(fuse_req_t req, Handle *h)
{
	struct fuse_open_out o;
	struct iovec iov;

	memset(&o, 0, sizeof o);
	o.fh = (uintptr_t)h;
	o.open_flags = FOPEN_DIRECT_IO | FOPEN_NONSEEKABLE | FOPEN_STREAM;
	iov.iov_base = &o;
	iov.iov_len = sizeof o;
	return fuse_reply_iov(req, &iov, 1);
}

static void
fs_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	Fs *fs;
	Handle *h;
	Node *n;

	fs = pffs(req);
	n = pfnode(fs, ino);
	h = doopen(fs, req, n, fi->flags);
	if(h == NULL){
		fuse_reply_err(req, pferrno());
		return;
	}
	setopen(fs, fi, h);
	if((n->service ? replyservice(req, h) : fuse_reply_open(req, fi)) != 0)
		freehandle(fs, h);	/* the opener was interrupted */
}

static void
fs_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	freehandle(pffs(req), (Handle *)(uintptr_t)fi->fh);
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

	fs = pffs(req);
	p = pfnode(fs, parent);
	pr = pfgetref(fs, p);
	rv = pfwalk(fs, pr->fid, NULL, &fid, NULL);
	pfputref(fs, pr);
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
	if(pfrpc(fs, &t, &r) < 0){
		pfclunk(fs, fid);
		goto err;
	}
	p9_freefcall(&r);
	h = newhandle(fs, fid, r.iounit);
	if(pflookup(fs, p, name, &e) < 0){
		freehandle(fs, h);
		goto err;
	}
	setopen(fs, fi, h);
	if(fuse_reply_create(req, &e, fi) != 0){
		freehandle(fs, h);
		pfforget(fs, e.ino, 1);
	}
	return;
err:
	fuse_reply_err(req, pferrno());
}

static void
fs_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi)
{
	Fs *fs;
	Handle *h;
	P9Fcall t, r;
	uint8_t *buf, *out;
	size_t max, got;

	fs = pffs(req);
	h = (Handle *)(uintptr_t)fi->fh;
	buf = pfrecvbuf(fs);
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
		if(pfrpcintr(fs, req, &t, &r, buf, p9_client_msize(fs->c)) < 0){
			fuse_reply_err(req, pferrno());
			return;
		}
		/* read(5): never more than asked */
		fuse_reply_buf(req, (const char *)r.data, r.count < t.count ? r.count : t.count);
		p9_freefcall(&r);
		return;
	}
	out = pfasmbuf();
	for(got = 0; got < size; got += r.count){
		t.offset = off + got;
		t.count = size - got < max ? size - got : max;
		if(pfrpcintr(fs, req, &t, &r, buf, p9_client_msize(fs->c)) < 0){
			if(got == 0){
				fuse_reply_err(req, pferrno());
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

	fs = pffs(req);
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
		if(pfrpcintr(fs, req, &t, &r, NULL, 0) < 0){
			if(done == 0){
				fuse_reply_err(req, pferrno());
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
		pfnullstat(&t.stat);
	}
	if(pfrpc(fs, &t, &r) < 0)
		return -1;
	p9_freefcall(&r);
	return 0;
}

static void
fs_fsync(fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi)
{
	Fs *fs;

	fs = pffs(req);
	if(dofsync(fs, ((Handle *)(uintptr_t)fi->fh)->fid, datasync) < 0)
		fuse_reply_err(req, pferrno());
	else
		fuse_reply_err(req, 0);
}

static void
fs_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	Fs *fs;
	Handle *h;

	fs = pffs(req);
	h = doopen(fs, req, pfnode(fs, ino), O_RDONLY | (fs->dialect == P9_9P2000L ? O_DIRECTORY : 0));
	if(h == NULL){
		fuse_reply_err(req, pferrno());
		return;
	}
	fi->fh = (uintptr_t)h;
	if(fuse_reply_open(req, fi) != 0)
		freehandle(fs, h);
}

static void
fs_releasedir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	freehandle(pffs(req), (Handle *)(uintptr_t)fi->fh);
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
	if(pfrpcintr(fs, req, &t, &r, pfrecvbuf(fs), p9_client_msize(fs->c)) < 0){
		fuse_reply_err(req, pferrno());
		return;
	}
	out = pfasmbuf();
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
		/* a socket is a service file here (pfgetattr) */
		st.st_mode = d.type == DT_SOCK ? S_IFREG : (mode_t)d.type << 12;
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
readmore(Fs *fs, fuse_req_t req, Handle *h)
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
	if(pfrpcintr(fs, req, &t, &r, pfrecvbuf(fs), p9_client_msize(fs->c)) < 0)
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
	out = pfasmbuf();
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
			if(readmore(fs, req, h) < 0){
				pthread_mutex_unlock(&h->lk);
				if(pos == 0)
					fuse_reply_err(req, pferrno());
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

	fs = pffs(req);
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

void
pffileops(struct fuse_lowlevel_ops *o)
{
	o->open = fs_open;
	o->read = fs_read;
	o->write = fs_write;
	o->flush = fs_flush;
	o->release = fs_release;
	o->fsync = fs_fsync;
	o->opendir = fs_opendir;
	o->readdir = fs_readdir;
	o->releasedir = fs_releasedir;
	o->fsyncdir = fs_fsyncdir;
	o->create = fs_create;
}
