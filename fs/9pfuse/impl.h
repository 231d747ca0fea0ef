/*
 * impl.h: inside fs/9pfuse.  The server's state, inodes and open files,
 * and the helpers node.c gives the other files.  Each of node.c, file.c
 * and name.c fills its part of the FUSE operations table.
 */
#ifndef NS9_9PFUSE_IMPL_H
#define NS9_9PFUSE_IMPL_H

#include <fuse_lowlevel.h>	/* FUSE_USE_VERSION defined before, as in every file here */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "9p.h"
#include "9pfuse.h"

enum {
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
	int service;	/* a socket on the server's side: opened, it is a connection */
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
	Handle *prev, *next;	/* Fs.handles */
};

typedef struct Fs Fs;
struct Fs {
	const P9FuseOpt *o;
	dev_t nsdev;	/* the mount namespace the mount is in (we leave it) */
	ino_t nsino;
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
	Handle *handles;	/* open, under lk: freed at the end if never released */
	atomic_int dead;	/* the 9P server hung up */
	atomic_int ending;	/* the session is over: a hangup now is ours */
	int connfd;	/* a duplicate of the client's: shut down to end calls in flight */
};

/* node.c: calls and replies */
int pferrno(void);	/* the error record's code, EIO for none */
uint8_t *pfrecvbuf(Fs *fs);	/* the worker's msize-byte receive buffer */
uint8_t *pfasmbuf(void);	/* the worker's Maxio-byte reply buffer */
void pffreebufs(void);	/* at a worker's end */
Fs *pffs(fuse_req_t req);
Node *pfnode(Fs *fs, fuse_ino_t ino);
fuse_ino_t pfino(Fs *fs, Node *n);
int pfrpc(Fs *fs, P9Fcall *t, P9Fcall *r);
/*
 * An rpc the kernel may interrupt (a read the server holds, an open of a
 * pipe): the request is flushed and the call fails with EINTR.
 */
int pfrpcintr(Fs *fs, fuse_req_t req, P9Fcall *t, P9Fcall *r, uint8_t *buf, size_t len);
/* An rpc naming n's fid in *fidp, held while it runs. */
int pfrpcref(Fs *fs, Node *n, uint32_t *fidp, P9Fcall *t, P9Fcall *r);
void pfclunk(Fs *fs, uint32_t fid);
/* A new fid walked from fid by name (NULL: a clone); ENOENT on a partial walk. */
int pfwalk(Fs *fs, uint32_t fid, const char *name, uint32_t *newfid, P9Qid *qid);
/* 1 for a service (a socket there, an empty sticky file here), 0 for any other file. */
int pfgetattr(Fs *fs, uint32_t fid, struct stat *st);
Ref *pfnewref(uint32_t fid);	/* one reference */
Ref *pfgetref(Fs *fs, Node *n);
void pfputref(Fs *fs, Ref *r);
void pfforget(Fs *fs, fuse_ino_t ino, uint64_t nlookup);
/* Walk from parent to name and fill e; counts one lookup. */
int pflookup(Fs *fs, Node *parent, const char *name, struct fuse_entry_param *e);
void pfreplynew(fuse_req_t req, Fs *fs, Node *parent, const char *name);
/* A 9P2000 stat that changes nothing (stat(5)). */
void pfnullstat(P9Stat *d);

/* file.c: free what no release came for (the fids go with the connection). */
void pffreehandles(Fs *fs);

/* The operations table, a part each. */
void pfnodeops(struct fuse_lowlevel_ops *o);
void pffileops(struct fuse_lowlevel_ops *o);
void pfnameops(struct fuse_lowlevel_ops *o);

#endif
