/*
 * ramfs.h: the Plan 9 in-memory file server (ramfs(4)) as a P9Srv, for
 * ns9 ramfs.  It answers 9P2000, 9P2000.u and 9P2000.L (no symbolic or
 * hard links, device files or extended attributes) through the server
 * framework of 9p.h.  Files live in memory: one of up to 1 GiB (EFBIG beyond), all
 * of them together up to half the machine's memory (ENOSPC beyond).
 */
#ifndef NS9_RAMFS_H
#define NS9_RAMFS_H

#include "9p.h"

/*
 * Make s serve an empty tree whose root (mode 0777) belongs to owner (and
 * numerically to the caller's euid and egid): sets s->serve, clone,
 * destroyfid, aux and dialects (all three), and leaves msize, nthread,
 * debug and name to the caller.
 */
void ramfs_init(P9Srv *s, const char *owner);

/* Free the tree (after the last conversation ended). */
void ramfs_free(P9Srv *s);

#endif
