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

/*
 * The mount fd is on, from the caller's mount table (by statx's mount id):
 * its file system type, and if asked its source and device, allocated.
 * 0, or -1 when it cannot be told (no /proc, an old kernel).
 */
int ns_fdmount(int fd, char **fstypep, char **sourcep, unsigned *maj, unsigned *min);

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
/* old's path (*pathp, malloc'd) and an O_PATH fd of what is there (the top mount). */
int ns_openold(const char *old, const char *ctx, char **pathp);
/* mount of a 9P service (mount9p.c): dial, FUSE mount, 9pfuse server, attach. */
int ns_mount9p(const char *srv, const char *old, int flag, const char *spec, const char *ctx);
/* The same, but the serving mount is returned detached (a union member). */
int ns_mount9ptree(const char *srv, int flag, const char *spec, const char *ctx);
/* A detached FUSE mount on the /dev/fuse fd fuse, with allow_other and default_permissions. */
int ns_fusemount(int fuse, const char *source, const char *subtype, const char *ctx);
/* Start a server (argv of ns9) with fds[0..n-1] at fds 3, 4, ..., in its own session, nobody's child. */
int ns_spawnserver(char **argv, const int *fds, int n, int debug, const char *ctx);

/* --- namespace files (nsfile.c, rfork.c) --- */
/* A namespace file's text (NUL-terminated, malloc'd), or NULL with the error set. */
char *ns_readnsfile(const char *path);
/* Whether an absolute cd succeeded since the last reset (ns_newns's cwd). */
void ns_nscdreset(void);
/*
 * on: look $user up now (getpwuid_r, in the caller's own root) and never
 * again until off: a clean name space's file runs chrooted in a root it
 * builds, whose nsswitch.conf may be anyone's (reroot's newroot), and NSS
 * would load code named there.
 */
void ns_nsuserfix(int on);
int ns_nscddone(void);
/*
 * The file systems ns9 made for a clean name space being built (its root,
 * each #T): a missing mount point on one of them is made (nsfile.c).
 */
void ns_ownfs(dev_t dev);
int ns_isownfs(dev_t dev);
void ns_ownfsreset(void);
/* Make the missing mount point path (a directory if dir, else a file) where ns_isownfs allows. */
int ns_mkmntpt(const char *path, int dir);
/* The pieces of the host root bound while a clean name space was built: "ID MAJ:MIN PATH NAME" lines. */
const char *ns_hostnames(void);
/* clear: a fresh clean root, entered (chroot) while it is built. */
int ns_clearroot(void);

/* --- 9P over ssh (import.c) --- */
/* Dial "ssh!HOST!PATH": ssh HOST ns9 exportfs -r PATH on a socket pair; the caller's end, or -1. */
int ns_sshdial(const char *srv);
/* After a mount over the last ssh dialled: if it failed, what ssh said becomes the error. */
void ns_sshend(int ok, const char *ctx);
/* Whether this is a helper acting in a target's name space (target.c). */
int ns_intarget(void);

/* --- unions (union.c) --- */

/* A union member: what made it (NS_BIND, NS_MOUNT, USELF), its flags, names and directory fd. */
typedef struct NsMember NsMember;
struct NsMember {
	int flag;
	int verb;
	char *name;
	char *spec;
	int fd;
};
void ns_freemembers(NsMember *m, int n);
/* A name made absolute against the cwd; # names as they are. */
char *ns_absname(const char *s);
/* Whether path is an ns9 union: 1 with its members (and fds), 0 not, -1 error. */
int ns_unionof(const char *path, NsMember **mp, int *np, const char *ctx);
/* add[] (consumed) join the union at old, or make one of [old, add...] (-a) or [add..., old] (-b). */
int ns_unionadd(NsMember *add, int nadd, const char *old, int flag, const char *ctx);
/*
 * If path is a directory below the root of an ns9 union: the member
 * directory it is (an O_PATH fd from that union's server), so that a union
 * never holds another's mount (two holding each other would never end).
 * -2: not in a union; -1: error.
 */
int ns_uniondir(const char *path, const char *ctx);
/* A new union of m[] (consumed) replaces what is at old (MREPL of a union: Plan 9's copy). */
int ns_unioncopy(NsMember *m, int n, const char *old, const char *ctx);
/* unmount new old where old is a union: 1 done, 0 old is not a union, -1 error. */
int ns_unionremove(const char *new, const char *old, const char *ctx);
/* The members of the union mount with this source and device (no fds). */
int ns_unionlist(const char *source, unsigned maj, unsigned min, NsMember **mp, int *np);
#endif
