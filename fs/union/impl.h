/*
 * impl.h: the union server's internals (fs/union).
 *
 * Only the root of the mount is a union: its members are directories
 * held by fd (Member), searched in order.  Every other inode is one
 * member's own file (Node), reached from its parent's directory fd by a
 * single name, never by a path through this mount.
 *
 * Caching: a member on a local file system (ext4, xfs, btrfs, tmpfs, f2fs)
 * is watched with inotify, so the kernel may keep its entries, attributes,
 * pages and directory listings for long; a change made beside the union
 * expires them at once.  Members elsewhere (FUSE, 9P, NFS, proc) are
 * uncached: every lookup and stat asks the member.
 */
#ifndef NS9_UNION_IMPL_H
#define NS9_UNION_IMPL_H

#define FUSE_USE_VERSION 314
#include <fuse_lowlevel.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/stat.h>

#include "util.h"

typedef struct Member Member;
struct Member {
	int ref;	/* the member list's, and each node's in it */
	int fd;		/* O_PATH directory */
	int flag;	/* NS_M* */
	int verb;	/* NS_BIND, NS_MOUNT, USELF */
	char *name;
	char *spec;
	dev_t dev;
	ino_t ino;
	int cache;	/* on a watched local file system */
	int wd;		/* inotify watch of its directory, -1 */
};

/* An immutable member list; replaced whole on a change. */
typedef struct Members Members;
struct Members {
	int ref;
	int n;
	Member *m[];
};

typedef struct Dir Dir;
typedef struct Node Node;
struct Node {
	uint64_t nlookup;	/* the kernel's */
	int ref;		/* nlookup != 0, and each child node */
	Node *parent;		/* NULL for the root */
	Member *m;		/* NULL for the root */
	char *name;
	dev_t dev;
	ino_t ino;
	mode_t type;
	int fd;		/* O_PATH fd of a directory, -1 */
	int wd;		/* inotify watch of a directory, -1 */
	Node *hnext;	/* by (parent, name) */
	uint32_t h;	/* hash of (parent, name) */
	int hashed;	/* in ufs.hash (a stale name is not) */
	Node *wnext;	/* on the same watch */
	Dir *ls;	/* its last listing, shared while gen is unchanged */
	int bid;	/* passthrough: the backing id of its open files, 0 */
	int nbid;	/* its opens using bid */
	uint64_t gen;	/* counts changes of the directory */
};

enum {
	Minhash = 1024,	/* buckets of ufs.hash, at least; grown and shrunk with the nodes */
	Nwhash = 1024,
	Maxio = 1 << 20,
	Maxgroups = 256,	/* a caller's supplementary groups taken */
};

typedef struct Fs Fs;
struct Fs {
	pthread_mutex_t lk;	/* the member list, the node tables */
	Members *ms;
	Node root;
	Node **hash;
	size_t nhash;	/* a power of 2 */
	size_t nnodes;	/* in hash */
	Node *whash[Nwhash];	/* watched directory nodes, by wd */
	struct fuse_session *se;
	int fusefd;
	int ifd;	/* inotify, -1 */
	int procok;	/* /proc/self/fd usable for inotify_add_watch */
	int ndirfd;	/* directory nodes' fds, at most maxdirfd */
	int maxdirfd;
	int isroot;	/* acts as the caller of each request */
	gid_t selfgroups[Maxgroups];
	int nselfgroups;
	double tmo;	/* entry and attribute timeout of cached nodes */
	uint64_t cookie;
	char nsid[48];	/* "dev ino" of the mount namespace it was started in; "" unknown */
	dev_t dev;	/* this mount's, once started */
	int debug;
	int started;
	int ending;
	int passthrough;	/* the kernel reads and writes open member files itself */
};

extern Fs ufs;

/* node.c */
void uopsinit(struct fuse_lowlevel_ops *ops);
Members *ugetms(void);
void uputms(Members *ms);
void uputmember(Member *m);
Member *unewmember(int fd, int flag, int verb, const char *name, const char *spec);
/* The member list changed: the root's listing is stale. */
void urootchanged(void);
/* Expire root entries found in member m (all of them if m is NULL); hard: drop them. */
void uexpireroot(Member *m, int hard);
void uwatchevents(void);
/* If fd is a directory of this mount: an fd of the member directory it is (-2: the root), else -1. */
int uownfd(int fd);
void ufreeall(void);

/* serve.c: notifications to the kernel (expire-only, so mounts on the entry stay). */
void uexpire(uint64_t parent, const char *name);
void uinvalentry(uint64_t parent, const char *name);
void uinvalinode(uint64_t ino);
uint64_t unodeid(Node *n);
int ubackingopen(int fd);
void ubackingclose(int id);
int ureplyopenpt(fuse_req_t req, struct fuse_file_info *fi, int id);
int ureplycreatept(fuse_req_t req, const struct fuse_entry_param *e, struct fuse_file_info *fi, int id);
#endif
