/*
 * unionfs.h: the union server's entry point (fs/union), for `ns9 unionfs`.
 */
#ifndef NS9_UNIONFS_H
#define NS9_UNIONFS_H

#include <stdint.h>

/*
 * Serve the union whose /dev/fuse fd is fusefd, taking requests on the
 * control socket ctl (include/union.h), until the mount is gone or a
 * SIGTERM.  cookie is the one in the mount's source.
 */
int userve(int fusefd, int ctl, uint64_t cookie, int debug);
#endif
