/*
 * 9pfuse.h: the 9P client mount server.  ns_mount (lib/ns/mount9p.c) dials
 * the service, creates the FUSE mount (fsopen "fuse", its /dev/fuse fd)
 * and starts `ns9 9pfuse` with both fds and a status pipe; the server
 * negotiates, attaches, reports on the pipe and then serves the mount
 * until it is unmounted or the 9P server hangs up.
 */
#ifndef NS9_9PFUSE_H
#define NS9_9PFUSE_H

#include <stdint.h>

typedef struct P9FuseOpt P9FuseOpt;
struct P9FuseOpt {
	const char *aname;	/* attach name (mount's spec); NULL: "" */
	const char *uname;	/* attach user name */
	uint32_t n_uname;	/* attach uid (.u, .L) */
	int cache;	/* -C: kernel caches entries, attributes and data */
	int debug;	/* -D: trace 9P on stderr */
	int dialect;	/* -1: negotiate (.L first); else P9_9P2000... */
};

/*
 * Serve the FUSE mount whose /dev/fuse fd is fusefd over the 9P
 * connection connfd (both consumed).  Before serving, write one line to
 * statusfd and close it: "0\\n" when the attach succeeded, else
 * "ERRNO TEXT\\n" and return -1.  Returns 0 when the mount is gone, -1
 * when the 9P server hung up (after detaching the mount where it can) or
 * on error.
 */
int p9fuse_serve(int fusefd, int connfd, int statusfd, const P9FuseOpt *o);

#endif
