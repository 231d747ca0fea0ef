/*
 * impl.h: lib/ns internals shared between its files; not part of the API.
 */
#ifndef NS9_NS_IMPL_H
#define NS9_NS_IMPL_H

#include <stdint.h>

#include "ns9.h"

/* The mount table by listmount/statmount (Linux 6.8+); see statmount.c. */
int ns_readtable_statmount(pid_t pid, NsTable *t);

/*
 * Open /proc/PID/name (pid 0: /proc/self) with flags|O_CLOEXEC.  A process
 * that is gone is "process exited"; other failures keep their errno.  No
 * context: callers add it.
 */
int ns_procopen(pid_t pid, const char *name, int flags);

/* From errno, with EPERM reported as Plan 9's "permission denied" (EACCES). */
int ns_permerr(const char *ctx);

/*
 * A detached, recursive clone of path, made private (and read-only if ro)
 * before anyone can attach it.  Returns the tree fd, or -1: a missing path
 * is "file does not exist: 'path'", anything else ns_permerr.
 */
int ns_clonetree(const char *path, int ro, const char *ctx);
/* Make a detached tree private (and read-only if ro), recursively. */
int ns_private(int tree, int ro, const char *ctx);

/* A fresh tmpfs as a detached mount, its mount source named source. */
int ns_freshtmpfs(const char *source, const char *mode, const char *ctx);

/* The caller's effective capabilities as a bit mask. */
uint64_t ns_capeff(void);

/*
 * Attach the detached tree (consumed) at old, replacing what is there
 * (apply.c; MREPL as Plan 9 does it).
 */
int ns_attach(int tree, const char *old, const char *ctx);
/* mount of a 9P service (mount9p.c): dial, FUSE mount, 9pfuse server, attach. */
int ns_mount9p(const char *srv, const char *old, int flag, const char *spec, const char *ctx);
#endif
