/*
 * union.h: the control protocol between ns9 (lib/ns/union.c) and a union
 * server (fs/union, `ns9 unionfs`).  Both ends are the same binary.
 *
 * A union server holds one end of a SOCK_SEQPACKET pair at UFD_CTL and
 * the other at UFD_PEER, which it never reads.  A client takes a copy of
 * UFD_PEER with pidfd_getfd(2), so only a process that may ptrace the
 * server (its owner, or root) can talk to it: the kernel decides, as for
 * every other change of a name space.  Each request is one message: a
 * UReq header, then nname bytes of name and nspec bytes of spec, with
 * SCM_RIGHTS carrying the reply socket first (a SOCK_SEQPACKET end made
 * by the client) and, for Uadd and Udel, one directory fd.  Replies are
 * URep messages on the reply socket: the header, then the error text, or
 * name and spec; a Ulist reply is a header with n members, then one
 * message per member (carrying the member's fd when asked).
 *
 * The mount's source is "ns9union!PID!COOKIE" (fstype fuse.ns9union);
 * anyone can make a FUSE mount that says so, so a client checks what
 * Uhello returns: the pid, the cookie, and the device of the mount it
 * found, which only the real server serves.
 */
#ifndef NS9_UNION_H
#define NS9_UNION_H

#include <stdint.h>

enum {
	UFD_FUSE = 3,	/* the server's /dev/fuse */
	UFD_CTL,	/* requests are read here */
	UFD_PEER,	/* clients take a copy of this one */

	UMAXMSG = 16384,	/* header + name + spec */
	UMAXMEMBER = 128,
	UVERSION = 1,
};

enum {
	Uhello = 1,	/* -> n: pid, cookie, flag and verb: major and minor of the union's
			 * device (0 before Ustart), name: "DEV INO" of its mount namespace or "" */
	Uadd,		/* flag (NS_MBEFORE/NS_MAFTER/NS_MCREATE/NS_MCACHE), verb, name, spec; fd */
	Udel,		/* fd (identity) or name (a 9P member's service) -> n: members left */
	Ulist,		/* flag 1: with fds -> n, then n member replies */
	Ustart,		/* serve: the mount exists */
	Uresolve,	/* fd: a directory of this union's mount -> the member directory it is (fd) */
};

/* verb of a member: what made it (NS_BIND, NS_MOUNT), or USELF for old itself. */
enum {
	USELF = 100,
};

typedef struct UReq UReq;
struct UReq {
	uint32_t version;
	uint32_t op;
	uint32_t flag;
	uint32_t verb;
	uint32_t nname;
	uint32_t nspec;
};

typedef struct URep URep;
struct URep {
	int32_t err;	/* 0 or an errno; the text follows */
	uint32_t n;
	uint32_t flag;
	uint32_t verb;
	uint32_t nname;
	uint32_t nspec;
	uint64_t cookie;
};

/*
 * One SOCK_SEQPACKET message with fds, for both ends (lib/ns/union.c).
 * usend: iov[0..niov-1] and fds[0..nfd-1] (nfd <= UMAXFD).  urecv: the
 * message into buf, and its first maxfd fds into fds (close-on-exec); any
 * beyond are closed, and *nfdp says how many came.  A message or fd list
 * cut short closes every fd and is EMSGSIZE.  Both return the length or -1.
 */
enum { UMAXFD = 8 };
struct iovec;
long usend(int sock, const struct iovec *iov, int niov, const int *fds, int nfd, int flags);
long urecv(int sock, void *buf, unsigned long len, int *fds, int maxfd, int *nfdp, int flags);

#endif
