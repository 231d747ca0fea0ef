/*
 * impl.h: lib/ns internals shared between its files; not part of the API.
 */
#ifndef NS9_NS_IMPL_H
#define NS9_NS_IMPL_H

#include "ns9.h"

/* The mount table by listmount/statmount (Linux 6.8+); see statmount.c. */
int ns_readtable_statmount(pid_t pid, NsTable *t);

/*
 * Open /proc/PID/name (pid 0: /proc/self) O_RDONLY|O_CLOEXEC.  A process
 * that is gone is "process exited"; other failures keep their errno.
 */
int ns_procopen(pid_t pid, const char *name);

#endif
