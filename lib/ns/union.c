/*
 * union.c: union directories (plan9.md §2.4-2.12), the client side.  A
 * union is a FUSE mount served by `ns9 unionfs` (fs/union); its members
 * are detached trees (or, for old itself, an O_PATH fd of what was at
 * old) handed to the server as fds, so the server never resolves a path
 * through any mount, its own included.
 *
 * The first -a or -b onto a directory that is not a union makes one of
 * [old itself, new] and mounts it on top of old.  Later ones are sent to
 * the union's server, which changes its member list in place: no remount,
 * open files and cwds inside carry on.  The server is reached through
 * the socket it holds at UFD_PEER, copied with pidfd_getfd(2): only who
 * may ptrace the server may change its union.  A union copied into
 * another mount namespace (rfork) still has the first one's server; a
 * change made there builds that namespace its own union instead.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "kern.h"
#include "ns9.h"
#include "union.h"
#include "impl.h"

enum {
	Waitms = 30000,
};

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_getfd
#define SYS_pidfd_getfd 438
#endif
#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal 424
#endif

void
ns_freemembers(NsMember *m, int n)
{
	int i;

	for(i = 0; i < n; i++){
		free(m[i].name);
		free(m[i].spec);
		if(m[i].fd >= 0)
			close(m[i].fd);
	}
	free(m);
}

static char *
strndupe(const char *s, size_t n)
{
	char *p;

	p = emalloc(n + 1);
	memcpy(p, s, n);
	return p;
}

/* --- messages with fds (both ends) --- */

long
usend(int sock, const struct iovec *iov, int niov, const int *fds, int nfd, int flags)
{
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(UMAXFD * sizeof(int))];
	} cm;
	struct msghdr msg;
	struct cmsghdr *c;

	if(nfd < 0 || nfd > UMAXFD){
		errno = EINVAL;
		return -1;
	}
	memset(&msg, 0, sizeof msg);
	msg.msg_iov = (struct iovec *)iov;
	msg.msg_iovlen = niov;
	if(nfd > 0){
		memset(&cm, 0, sizeof cm);
		msg.msg_control = cm.b;
		msg.msg_controllen = CMSG_SPACE(nfd * sizeof(int));
		c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(nfd * sizeof(int));
		memcpy(CMSG_DATA(c), fds, nfd * sizeof(int));
	}
	return sendmsg(sock, &msg, flags | MSG_NOSIGNAL);
}

long
urecv(int sock, void *buf, unsigned long len, int *fds, int maxfd, int *nfdp, int flags)
{
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(UMAXFD * sizeof(int))];
	} cm;
	struct msghdr msg;
	struct iovec iov;
	struct cmsghdr *c;
	int i, k, fd, n;
	ssize_t r;

	*nfdp = 0;
	iov.iov_base = buf;
	iov.iov_len = len;
	memset(&msg, 0, sizeof msg);
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = cm.b;
	msg.msg_controllen = sizeof cm.b;
	r = recvmsg(sock, &msg, flags | MSG_CMSG_CLOEXEC);
	if(r < 0)
		return -1;
	n = 0;
	for(c = CMSG_FIRSTHDR(&msg); c != NULL; c = CMSG_NXTHDR(&msg, c)){
		if(c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for(i = 0; i < k; i++){
			memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
			if(n < maxfd)
				fds[n] = fd;
			else
				close(fd);
			n++;
		}
	}
	*nfdp = n;
	if(msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)){
		for(i = 0; i < n && i < maxfd; i++)
			close(fds[i]);
		*nfdp = 0;
		errno = EMSGSIZE;
		return -1;
	}
	return r;
}

/* --- talking to a server --- */

static int
sendreq(int sock, int op, int flag, int verb, const char *name, const char *spec, int fd, const char *ctx)
{
	struct iovec iov[3];
	int fds[2], rp[2];
	UReq q;

	name = name != NULL ? name : "";
	spec = spec != NULL ? spec : "";
	memset(&q, 0, sizeof q);
	q.version = UVERSION;
	q.op = op;
	q.flag = flag;
	q.verb = verb;
	q.nname = strlen(name);
	q.nspec = strlen(spec);
	if(sizeof q + q.nname + q.nspec > UMAXMSG)
		return seterr(ENAMETOOLONG, "%s: name too long for a union member", ctx);
	if(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, rp) < 0)
		return syserr("%s", ctx);
	iov[0].iov_base = &q;
	iov[0].iov_len = sizeof q;
	iov[1].iov_base = (void *)name;
	iov[1].iov_len = q.nname;
	iov[2].iov_base = (void *)spec;
	iov[2].iov_len = q.nspec;
	fds[0] = rp[1];
	fds[1] = fd;
	if(usend(sock, iov, 3, fds, fd >= 0 ? 2 : 1, 0) < 0){
		syserr("%s: union server", ctx);
		close(rp[0]);
		close(rp[1]);
		return -1;
	}
	close(rp[1]);
	return rp[0];
}

/*
 * One reply from rs: the header, the text (error, or name and spec) and
 * any fd.  An error reply sets the error record and returns -1.
 */
static int
recvrep(int rs, URep *r, char **name, char **spec, int *fd, const char *ctx)
{
	char buf[UMAXMSG + 1];
	struct pollfd p;
	long n;
	int got, nfd;

	if(fd != NULL)
		*fd = -1;
	p.fd = rs;
	p.events = POLLIN;
	while((n = poll(&p, 1, Waitms)) < 0 && errno == EINTR)
		;
	if(n == 0)
		return seterr(ETIMEDOUT, "%s: the union server did not answer", ctx);
	got = -1;
	n = urecv(rs, buf, UMAXMSG, &got, 1, &nfd, 0);
	if(nfd == 0)
		got = -1;
	if(n <= 0 || (size_t)n < sizeof *r){
		if(got >= 0)
			close(got);
		return seterr(ENOTCONN, "%s: the union server is gone", ctx);
	}
	memcpy(r, buf, sizeof *r);
	buf[n] = 0;
	if(r->err != 0){
		if(got >= 0)
			close(got);
		return seterr(r->err, "%s: %.*s", ctx, (int)(n - sizeof *r), buf + sizeof *r);
	}
	if(sizeof *r + r->nname + r->nspec != (size_t)n){
		if(got >= 0)
			close(got);
		return seterr(EIO, "%s: a bad reply from the union server", ctx);
	}
	if(name != NULL)
		*name = strndupe(buf + sizeof *r, r->nname);
	if(spec != NULL)
		*spec = r->nspec ? strndupe(buf + sizeof *r + r->nname, r->nspec) : NULL;
	if(fd != NULL)
		*fd = got;
	else if(got >= 0)
		close(got);
	return 0;
}

/* A request with a one-message reply; *n from it. */
static int
rpc(int sock, int op, int flag, int verb, const char *name, const char *spec, int fd, uint32_t *n,
    const char *ctx)
{
	URep r;
	int rs, rv;

	rs = sendreq(sock, op, flag, verb, name, spec, fd, ctx);
	if(rs < 0)
		return -1;
	rv = recvrep(rs, &r, NULL, NULL, NULL, ctx);
	close(rs);
	if(rv == 0 && n != NULL)
		*n = r.n;
	return rv;
}

/* The members of the union served on sock, with their fds if withfds. */
static int
listmembers(int sock, int withfds, NsMember **mp, int *np, const char *ctx)
{
	NsMember *m;
	URep r;
	int rs, i, n;

	rs = sendreq(sock, Ulist, withfds, 0, NULL, NULL, -1, ctx);
	if(rs < 0)
		return -1;
	if(recvrep(rs, &r, NULL, NULL, NULL, ctx) < 0){
		close(rs);
		return -1;
	}
	n = r.n > UMAXMEMBER ? UMAXMEMBER : r.n;
	m = emalloc((n + 1) * sizeof m[0]);
	for(i = 0; i < n; i++){
		if(recvrep(rs, &r, &m[i].name, &m[i].spec, &m[i].fd, ctx) < 0){
			close(rs);
			ns_freemembers(m, i);
			return -1;
		}
		m[i].flag = r.flag;
		m[i].verb = r.verb;
		if(withfds && m[i].fd < 0){
			close(rs);
			ns_freemembers(m, i + 1);
			return seterr(EIO, "%s: the union server sent no member fd", ctx);
		}
	}
	close(rs);
	*mp = m;
	*np = n;
	return 0;
}

/* "ns9union!PID!COOKIE" */
static int
parsesource(const char *s, pid_t *pid, uint64_t *cookie)
{
	unsigned long long c;
	long p;
	char *e;

	if(strncmp(s, "ns9union!", 9) != 0)
		return -1;
	p = strtol(s + 9, &e, 10);
	if(e == s + 9 || *e != '!' || p <= 0)
		return -1;
	c = strtoull(e + 1, &e, 16);
	if(*e != 0)
		return -1;
	*pid = p;
	*cookie = c;
	return 0;
}

/* Whether the union's mount namespace ("DEV INO", "" unknown) is the caller's. */
static int
samens(const char *nsid)
{
	unsigned long long dev, ino;
	struct stat st;

	if(sscanf(nsid, "%llu %llu", &dev, &ino) != 2 || stat("/proc/self/ns/mnt", &st) < 0)
		return 1;
	return st.st_dev == dev && st.st_ino == ino;
}

/*
 * Connect to the server named by a union mount's source.  *samensp (if
 * not NULL): whether the union is in the caller's mount namespace.
 */
static int
uconnect(const char *source, unsigned maj, unsigned min, int *samensp, const char *ctx)
{
	uint64_t cookie;
	socklen_t len;
	pid_t pid;
	int pidfd, sock, type;
	uint32_t n;
	char *nsid;
	URep r;
	int rs;

	if(parsesource(source, &pid, &cookie) < 0)
		return seterr(EINVAL, "%s: not an ns9 union: %s", ctx, source);
	pidfd = syscall(SYS_pidfd_open, pid, 0);
	if(pidfd < 0){
		if(errno == ESRCH)
			return seterr(ENOTCONN, "%s: the union server is gone", ctx);
		return syserr("%s: the union server", ctx);
	}
	sock = syscall(SYS_pidfd_getfd, pidfd, UFD_PEER, 0);
	if(sock < 0){
		if(errno == EPERM)
			seterr(EACCES, "%s: the union server is not yours: permission denied", ctx);
		else if(errno == ESRCH || errno == EBADF)
			seterr(ENOTCONN, "%s: the union server is gone", ctx);
		else
			syserr("%s: the union server", ctx);
		close(pidfd);
		return -1;
	}
	fcntl(sock, F_SETFD, FD_CLOEXEC);
	len = sizeof type;
	if(getsockopt(sock, SOL_SOCKET, SO_TYPE, &type, &len) < 0 || type != SOCK_SEQPACKET)
		goto notit;
	rs = sendreq(sock, Uhello, 0, 0, NULL, NULL, -1, ctx);
	if(rs < 0)
		goto bad;
	if(recvrep(rs, &r, &nsid, NULL, NULL, ctx) < 0){
		close(rs);
		goto bad;
	}
	close(rs);
	n = r.n;
	if(n != (uint32_t)pid || r.cookie != cookie || r.flag != maj || r.verb != min){
		free(nsid);
		goto notit;
	}
	if(samensp != NULL)
		*samensp = samens(nsid);
	free(nsid);
	close(pidfd);
	return sock;
notit:
	seterr(ENOTCONN, "%s: the union server is gone (pid %d does not serve this mount)", ctx, (int)pid);
bad:
	close(sock);
	close(pidfd);
	return -1;
}

/* Whether fd is the root of a mount. */
static int
mountroot(int fd)
{
	struct statx sx;

	if(statx(fd, "", AT_EMPTY_PATH | AT_STATX_DONT_SYNC, STATX_TYPE, &sx) < 0)
		return 0;
	return (sx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) && (sx.stx_attributes & STATX_ATTR_MOUNT_ROOT);
}

/* If fd is the root of an ns9 union mount: 1, its source and device; else 0. */
static int
unionsource(int fd, char **sourcep, unsigned *maj, unsigned *min)
{
	char *fstype, *source;

	if(!mountroot(fd) || ns_fdmount(fd, &fstype, &source, maj, min) < 0)
		return 0;
	if(strcmp(fstype, "fuse.ns9union") != 0){
		free(fstype);
		free(source);
		return 0;
	}
	free(fstype);
	*sourcep = source;
	return 1;
}

/*
 * Reads through the union come from the page cache in readahead-sized
 * requests; the kernel's default window (128 KiB) makes a cold 1 GiB read
 * 1-2.4 GB/s here, 1 MiB makes it 1.9-3.9 (docs/perf.md).  Only root may
 * set it (sysfs); for others the default stays.
 */
static void
setreadahead(int mnt)
{
	char path[64];
	struct stat st;
	int fd;

	if(fstat(mnt, &st) < 0)
		return;
	snprintf(path, sizeof path, "/sys/class/bdi/%u:%u/read_ahead_kb", major(st.st_dev), minor(st.st_dev));
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if(fd < 0)
		return;
	if(write(fd, "1024", 4) != 4){
		/* a kernel that refuses: the default stays */
	}
	close(fd);
}

/* --- a new union --- */

/*
 * Start a union server with members m[0..n-1] (their fds are sent, not
 * consumed) and return its mount, detached and serving.
 */
static int
newunion(NsMember *m, int n, const char *ctx)
{
	char cookiearg[32], source[64], *argv[6];
	uint64_t cookie;
	int fuse, sp[2], fds[3], mnt, pidfd, i, k, debug;
	uint32_t pid;

	fuse = mnt = pidfd = -1;
	sp[0] = sp[1] = -1;
	if(getrandom(&cookie, sizeof cookie, 0) != sizeof cookie)
		return syserr("%s: getrandom", ctx);
	fuse = open("/dev/fuse", O_RDWR | O_CLOEXEC);
	if(fuse < 0)
		return syserrpath("/dev/fuse", "%s", ctx);
	if(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0){
		syserr("%s", ctx);
		goto bad;
	}
	snprintf(cookiearg, sizeof cookiearg, "%016" PRIx64, cookie);
	k = 0;
	argv[k++] = "ns9";
	argv[k++] = "unionfs";
	debug = getenv("NS9DEBUGUNION") != NULL;
	if(debug)
		argv[k++] = "-D";
	argv[k++] = "-k";
	argv[k++] = cookiearg;
	argv[k] = NULL;
	fds[0] = fuse;
	fds[1] = sp[0];
	fds[2] = sp[1];
	if(ns_spawnserver(argv, fds, 3, debug, ctx) < 0)
		goto bad;
	close(sp[0]);
	sp[0] = -1;
	if(rpc(sp[1], Uhello, 0, 0, NULL, NULL, -1, &pid, ctx) < 0)
		goto bad;
	pidfd = syscall(SYS_pidfd_open, (pid_t)pid, 0);
	snprintf(source, sizeof source, "ns9union!%u!%016" PRIx64, pid, cookie);
	mnt = ns_fusemount(fuse, source, "ns9union", ctx);
	if(mnt < 0)
		goto bad;
	for(i = 0; i < n; i++)
		if(rpc(sp[1], Uadd, m[i].flag & ~NS_MBEFORE, m[i].verb, m[i].name, m[i].spec, m[i].fd, NULL, ctx) < 0)
			goto bad;
	if(rpc(sp[1], Ustart, 0, 0, NULL, NULL, -1, NULL, ctx) < 0)
		goto bad;
	/* Not before: until the server has started, the mount answers nothing. */
	setreadahead(mnt);
	close(sp[1]);
	close(fuse);
	if(pidfd >= 0)
		close(pidfd);
	return mnt;
bad:
	/* A server not started would wait for its start; it is ours to stop. */
	if(pidfd >= 0){
		syscall(SYS_pidfd_send_signal, pidfd, SIGTERM, NULL, 0);
		close(pidfd);
	}
	if(mnt >= 0)
		close(mnt);
	if(fuse >= 0)
		close(fuse);
	if(sp[0] >= 0)
		close(sp[0]);
	if(sp[1] >= 0)
		close(sp[1]);
	return -1;
}

/* Attach a new union on top of what is at ofd (the old directory stays beneath). */
static int
stack(int mnt, int ofd, const char *ctx)
{
	if(move_mount(mnt, "", ofd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
		return ns_permerr(ctx);
	return 0;
}

/* A name as given, made absolute against the cwd (device names stay). */
char *
ns_absname(const char *s)
{
	char cwd[4096];
	Buf b = {0};

	if(s[0] == '/' || s[0] == '#' || getcwd(cwd, sizeof cwd) == NULL)
		return estrdup(s);
	bufprint(&b, "%s%s%s", cwd, strcmp(cwd, "/") == 0 ? "" : "/", s);
	return b.s;
}

int
ns_unionof(const char *path, NsMember **mp, int *np, const char *ctx)
{
	char *source;
	unsigned maj, min;
	int fd, sock, r;

	fd = open(path, O_PATH | O_CLOEXEC);
	if(fd < 0)
		return 0;
	source = NULL;
	r = unionsource(fd, &source, &maj, &min);
	close(fd);
	if(r <= 0)
		return 0;
	sock = uconnect(source, maj, min, NULL, ctx);
	free(source);
	if(sock < 0)
		return -1;
	r = listmembers(sock, 1, mp, np, ctx);
	close(sock);
	return r < 0 ? -1 : 1;
}

/*
 * Replace the union at old (served elsewhere: another namespace's copy)
 * by a new one of members; attach it in its place.
 */
static int
rebuild(NsMember *m, int n, const char *old, const char *ctx)
{
	int mnt;

	mnt = newunion(m, n, ctx);
	if(mnt < 0)
		return -1;
	return ns_attach(mnt, old, ctx);
}

/*
 * add[0..nadd-1] (fds consumed) join the union at old, or make one: -b
 * puts them in front as one block, -a at the end, in order.
 */
int
ns_unionadd(NsMember *add, int nadd, const char *old, int flag, const char *ctx)
{
	struct stat st;
	NsMember *m, *all;
	char *opath, *source;
	unsigned maj, min;
	int ofd, sock, i, j, n, r, mnt, same;

	opath = source = NULL;
	sock = -1;
	r = -1;
	m = NULL;
	n = 0;
	ofd = ns_openold(old, ctx, &opath);
	if(ofd < 0)
		goto out;
	if(fstat(ofd, &st) < 0){
		if(errno == ENOTCONN)
			seterr(ENOTCONN, "%s: %s: the union server is gone", ctx, opath);
		else
			syserrpath(opath, "%s", ctx);
		goto out;
	}
	if(!S_ISDIR(st.st_mode)){
		perr(Emount, "%s", ctx);
		goto out;
	}
	for(i = 0; i < nadd; i++)
		if(fstat(add[i].fd, &st) < 0 || !S_ISDIR(st.st_mode)){
			perr(Emount, "%s", ctx);
			goto out;
		}
	if(unionsource(ofd, &source, &maj, &min)){
		sock = uconnect(source, maj, min, &same, ctx);
		if(sock < 0)
			goto out;
		if(same){
			/* Live: in front, the block goes in reverse so it stays in order. */
			for(i = 0; i < nadd; i++){
				j = flag & NS_MBEFORE ? nadd - 1 - i : i;
				if(rpc(sock, Uadd, add[j].flag | (flag & NS_MORDER), add[j].verb, add[j].name, add[j].spec, add[j].fd, NULL, ctx) < 0)
					goto out;
			}
			r = 0;
			goto out;
		}
		/* A copy in this namespace: this namespace gets its own union. */
		if(listmembers(sock, 1, &m, &n, ctx) < 0)
			goto out;
	}else{
		struct stat rst;

		if(stat("/", &rst) == 0 && fstat(ofd, &st) == 0 && st.st_dev == rst.st_dev && st.st_ino == rst.st_ino){
			seterr(EBUSY, "%s: cannot make the root of the name space a union", ctx);
			goto out;
		}
		/* The first: old itself is a member, with no flags (Plan 9's self record). */
		m = emalloc(sizeof m[0]);
		m[0].flag = 0;
		m[0].verb = USELF;
		m[0].name = ns_absname(opath);
		m[0].spec = NULL;
		m[0].fd = fcntl(ofd, F_DUPFD_CLOEXEC, 0);
		n = 1;
		if(m[0].fd < 0){
			syserr("%s", ctx);
			goto out;
		}
	}
	if(n + nadd > UMAXMEMBER){
		seterr(ENOSPC, "%s: a union has at most %d members", ctx, UMAXMEMBER);
		goto out;
	}
	all = emalloc((n + nadd) * sizeof all[0]);
	j = 0;
	if(flag & NS_MBEFORE)
		for(i = 0; i < nadd; i++)
			all[j++] = add[i];
	for(i = 0; i < n; i++)
		all[j++] = m[i];
	if(!(flag & NS_MBEFORE))
		for(i = 0; i < nadd; i++)
			all[j++] = add[i];
	mnt = newunion(all, n + nadd, ctx);
	free(all);
	if(mnt < 0)
		goto out;
	if(source != NULL){
		close(ofd);
		ofd = -1;
		r = ns_attach(mnt, old, ctx);
	}else{
		r = stack(mnt, ofd, ctx);
		close(mnt);
	}
out:
	if(m != NULL)
		ns_freemembers(m, n);
	for(i = 0; i < nadd; i++){
		free(add[i].name);
		free(add[i].spec);
		if(add[i].fd >= 0)
			close(add[i].fd);
	}
	free(add);
	if(sock >= 0)
		close(sock);
	if(ofd >= 0)
		close(ofd);
	free(opath);
	free(source);
	return r;
}

int
ns_uniondir(const char *path, const char *ctx)
{
	char *fstype, *source;
	unsigned maj, min;
	int fd, sock, rs, got;
	URep r;

	fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if(fd < 0)
		return -2;	/* the caller's own open says what is wrong */
	/* a directory inside a union (not its root) */
	if(mountroot(fd) || ns_fdmount(fd, &fstype, &source, &maj, &min) < 0){
		close(fd);
		return -2;
	}
	if(strcmp(fstype, "fuse.ns9union") != 0){
		free(fstype);
		free(source);
		close(fd);
		return -2;
	}
	free(fstype);
	got = -1;
	sock = uconnect(source, maj, min, NULL, ctx);
	free(source);
	if(sock >= 0){
		rs = sendreq(sock, Uresolve, 0, 0, NULL, NULL, fd, ctx);
		if(rs >= 0){
			if(recvrep(rs, &r, NULL, NULL, &got, ctx) == 0 && got < 0)
				seterr(EIO, "%s: the union server sent no directory", ctx);
			close(rs);
		}
		close(sock);
	}
	close(fd);
	return got;
}

int
ns_unioncopy(NsMember *m, int n, const char *old, const char *ctx)
{
	int r;

	r = rebuild(m, n, old, ctx);
	ns_freemembers(m, n);
	return r;
}

int
ns_unionremove(const char *new, const char *old, const char *ctx)
{
	NsMember *m;
	char *opath, *source, *npath, *name;
	int ofd, sock, fd, tree, r, n, i, j, k, same;
	unsigned maj, min;
	struct stat st;
	uint32_t left;

	opath = source = name = NULL;
	sock = fd = -1;
	ofd = ns_openold(old, ctx, &opath);
	if(ofd < 0)
		return -1;
	r = 0;
	if(!unionsource(ofd, &source, &maj, &min))
		goto out;
	r = -1;
	sock = uconnect(source, maj, min, &same, ctx);
	if(sock < 0)
		goto out;
	/* The member: what new is now (Plan 9 opens it), or a service by its name. */
	if(ns_devresolve(new, &npath, &tree) == 0){
		if(tree >= 0)
			close(tree);
		else
			fd = open(npath, O_PATH | O_CLOEXEC);
		free(npath);
	}
	name = ns_absname(new);
	if(same){
		if(rpc(sock, Udel, 0, 0, name, NULL, fd, &left, ctx) < 0)
			goto out;
		/* The last member gone: so is the union. */
		if(left == 0 && umount2(opath, MNT_DETACH) < 0){
			ns_permerr(ctx);
			goto out;
		}
		r = 1;
		goto out;
	}
	if(listmembers(sock, 1, &m, &n, ctx) < 0)
		goto out;
	k = -1;
	if(fd >= 0 && fstat(fd, &st) == 0)
		for(i = 0; i < n && k < 0; i++){
			struct stat ms;

			if(fstat(m[i].fd, &ms) == 0 && ms.st_dev == st.st_dev && ms.st_ino == st.st_ino)
				k = i;
		}
	for(i = 0; i < n && k < 0; i++)
		if(strcmp(m[i].name, name) == 0)
			k = i;
	if(k < 0){
		perr(Eunion, "%s", ctx);
		ns_freemembers(m, n);
		goto out;
	}
	close(m[k].fd);
	free(m[k].name);
	free(m[k].spec);
	for(j = k; j < n - 1; j++)
		m[j] = m[j + 1];
	n--;
	if(n == 0)
		r = umount2(opath, MNT_DETACH) < 0 ? ns_permerr(ctx) : 1;
	else
		r = rebuild(m, n, old, ctx) < 0 ? -1 : 1;
	ns_freemembers(m, n);
out:
	if(fd >= 0)
		close(fd);
	if(sock >= 0)
		close(sock);
	close(ofd);
	free(opath);
	free(source);
	free(name);
	return r;
}

int
ns_unionlist(const char *source, unsigned maj, unsigned min, NsMember **mp, int *np)
{
	int sock, r;

	sock = uconnect(source, maj, min, NULL, "union");
	if(sock < 0)
		return -1;
	r = listmembers(sock, 0, mp, np, "union");
	close(sock);
	return r;
}
