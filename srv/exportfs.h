/*
 * exportfs.h: a 9P file server of a directory tree (srv/export*.c), for
 * ns9 exportfs and srvfs.  It answers 9P2000, 9P2000.u and 9P2000.L
 * through the server framework of 9p.h, and every name it resolves stays
 * beneath the exported root (openat2 RESOLVE_BENEATH from one O_PATH fd).
 */
#ifndef NS9_EXPORTFS_H
#define NS9_EXPORTFS_H

#include "9p.h"

enum {
	EXPORTFS_RDONLY = 1,	/* refuse every change: "read-only file system" (EROFS) */
};

/*
 * Make s serve the directory tree at root: sets s->serve, clone,
 * destroyfid and aux, and leaves the rest (msize, dialects, nthread,
 * debug, name) to the caller.  The server acts with the credentials of
 * the process that runs it.  Returns 0, or -1 when root cannot be opened
 * or is not a directory.
 */
int exportfs_init(P9Srv *s, const char *root, int flags);

/* Release what exportfs_init set up (after the last conversation ended). */
void exportfs_free(P9Srv *s);

#endif
