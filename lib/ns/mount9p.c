/*
 * mount9p.c: mount of a 9P service.  The service is dialled here, in the
 * caller's name space (so /srv/NAME means what it means to the caller);
 * a FUSE file system is made detached (fsopen), and `ns9 9pfuse` is
 * started with the /dev/fuse fd, the connection and a status pipe.  It
 * negotiates and attaches, and reports; only then is the mount attached
 * at old, so a refused attach changes nothing.  The server runs in its
 * own session with the caller's ids, outlives the caller, and exits when
 * the mount is gone or the service hangs up (fs/9pfuse).
 *
 * mountinfo keeps what ns text needs: the subtype is "9p" ("9pC" with
 * -C) and the source the service and spec as quoted words.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ns9.h"
#include "kern.h"
#include "impl.h"

enum {
	Fusefd = 3,	/* where the server finds its fds */
	Connfd,
	Statusfd,
	Waitms = 30000,	/* for the server's attach */
	Maxread = 1 << 20,
	Maxpasswd = 1 << 20,	/* bytes of /etc/passwd read at most */
	Maxsrvfd = 8,
};

extern char **environ;

/* A detached FUSE file system on fuse (the /dev/fuse fd). */
int
ns_fusemount(int fuse, const char *source, const char *subtype, const char *ctx)
{
	char num[32];
	int fs, mnt;

	fs = fsopen("fuse", FSOPEN_CLOEXEC);
	if(fs < 0)
		return ns_permerr(ctx);
	mnt = -1;
#define SET(k, v) fsconfig(fs, FSCONFIG_SET_STRING, k, v, 0)
	snprintf(num, sizeof num, "%d", fuse);
	if(SET("fd", num) < 0 || SET("rootmode", "40000") < 0)
		goto bad;
	snprintf(num, sizeof num, "%u", (unsigned)geteuid());
	if(SET("user_id", num) < 0)
		goto bad;
	snprintf(num, sizeof num, "%u", (unsigned)getegid());
	if(SET("group_id", num) < 0)
		goto bad;
	snprintf(num, sizeof num, "%d", Maxread);
	if(SET("max_read", num) < 0 || SET("source", source) < 0 || SET("subtype", subtype) < 0)
		goto bad;
#undef SET
	/*
	 * Everyone in the name space may use the mount, as in Plan 9; the
	 * kernel checks permissions against the attributes the server
	 * reports, since the server acts with its own ids for all.
	 */
	if(fsconfig(fs, FSCONFIG_SET_FLAG, "allow_other", NULL, 0) < 0 ||
	   fsconfig(fs, FSCONFIG_SET_FLAG, "default_permissions", NULL, 0) < 0 ||
	   fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
		goto bad;
	mnt = fsmount(fs, FSMOUNT_CLOEXEC, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV);
	if(mnt < 0)
		goto bad;
	close(fs);
	return mnt;
bad:
	ns_permerr(ctx);
	close(fs);
	return -1;
}

/*
 * Start a server (`ns9 9pfuse`, `ns9 unionfs`) with fds[0..n-1] at fds
 * 3, 4, ...  Raw clone rather than fork(): the caller may be a CLONE_VM
 * helper sharing a multithreaded server's memory, where glibc's fork
 * handlers must not run.  The middle child exits at once, so the server
 * is nobody's child to reap; it gets its own session and drops any ids
 * the caller only borrowed (ns_as keeps a different real uid).
 */
int
ns_spawnserver(char **argv, const int *fds, int n, int debug, const char *ctx)
{
	static char *noenv[] = {NULL};
	char **env;
	pid_t pid;
	int exe, st, null, i, moved[Maxsrvfd];
	uid_t uid;
	gid_t gid;

	if(n > Maxsrvfd)
		return seterr(EINVAL, "%s: too many fds for a server", ctx);
	exe = ns_selfexe();
	if(exe < 0)
		return adderr("%s", ctx);
	uid = geteuid();
	gid = getegid();
	/* Borrowed ids (an ns_as helper): the environment is the server's, not the writer's to read. */
	env = getuid() == uid && getgid() == gid ? environ : noenv;
	pid = syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0);
	if(pid < 0)
		return syserr("%s", ctx);
	if(pid == 0){
		if(syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0) != 0)
			_exit(0);
		setsid();
		if(setresgid(gid, gid, gid) < 0 || setresuid(uid, uid, uid) < 0)
			_exit(127);
		/* Out of the way first: any of them may sit on 3, 4, ... */
		for(i = 0; i < n; i++)
			if((moved[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, 3 + n)) < 0)
				_exit(127);
		exe = fcntl(exe, F_DUPFD_CLOEXEC, 3 + n);
		if(exe < 0)
			_exit(127);
		for(i = 0; i < n; i++)
			if(dup2(moved[i], 3 + i) < 0)
				_exit(127);
		/*
		 * A daemon must not hold the caller's stdio: a $(ns9 mount ...)
		 * would wait for it forever.  Traces (-D) keep stderr.
		 */
		null = open("/dev/null", O_RDWR | O_CLOEXEC);
		if(null < 0)
			null = memfd_create("null", MFD_CLOEXEC);
		if(null < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0 || (!debug && dup2(null, 2) < 0))
			_exit(127);
		/* exe stays open (close-on-exec) for execveat; every other fd goes. */
		if(exe > 3 + n)
			syscall(SYS_close_range, 3 + n, exe - 1, 0);
		syscall(SYS_close_range, exe + 1, ~0U, 0);
		signal(SIGPIPE, SIG_DFL);
		syscall(SYS_execveat, exe, "", argv, env, AT_EMPTY_PATH);
		_exit(127);
	}
	while(waitpid(pid, &st, __WALL) < 0)
		if(errno != EINTR)
			return syserr("%s", ctx);
	return 0;
}

/*
 * The name of uid from /etc/passwd, read as data.  Not getpwuid: this may
 * run inside another process's root, where an nsswitch.conf of its
 * owner's choosing would have us load its code (the chroot NSS attack).
 * For the same reason the file is taken only if it is a regular file (a
 * fifo there would hang us, /dev/zero spin us), and only its first MiB.
 */
static void
username(uid_t uid, char *buf, size_t len)
{
	char line[1024], *name, *p, *end;
	struct stat st;
	FILE *f;
	unsigned long v;
	int fd;

	snprintf(buf, len, "%u", (unsigned)uid);
	fd = open("/etc/passwd", O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if(fd < 0)
		return;
	if(fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || (f = fdopen(fd, "r")) == NULL){
		close(fd);
		return;
	}
	/* The position, not strlen: a file of NULs moves it as well. */
	while(ftell(f) < Maxpasswd && fgets(line, sizeof line, f) != NULL){
		name = line;
		p = strchr(name, ':');
		if(p == NULL || p == name)
			continue;
		*p++ = 0;
		p = strchr(p, ':');
		if(p == NULL)
			continue;
		v = strtoul(p + 1, &end, 10);
		if(end == p + 1 || *end != ':' || v != uid)
			continue;
		if(strlen(name) < len && strpbrk(name, " \t\n") == NULL)
			memcpy(buf, name, strlen(name) + 1);
		break;
	}
	fclose(f);
}

/*
 * A dial string must not make us resolve names: that is NSS again (see
 * username).  Numeric hosts and ports only, whatever the network is
 * called (p9_dial takes "net!" as "tcp!", and no port as 564); ns9 srv
 * dials by name.
 */
static int
numericdial(const char *srv, const char *ctx)
{
	char host[64];
	unsigned char addr[16];
	const char *h, *port;
	size_t n;

	/* What ns_srvdial passes to p9_dial; any network but these it refuses unresolved. */
	if(srv[0] == '/' || srv[0] == '#' || (strncmp(srv, "tcp!", 4) != 0 && strncmp(srv, "net!", 4) != 0))
		return 0;
	h = srv + 4;
	port = strchr(h, '!');
	n = port != NULL ? (size_t)(port - h) : strlen(h);
	if(n < sizeof host){
		memcpy(host, h, n);
		host[n] = 0;
		if((inet_pton(AF_INET, host, addr) == 1 || inet_pton(AF_INET6, host, addr) == 1) &&
		   (port == NULL || (port[1] != 0 && strspn(port + 1, "0123456789") == strlen(port + 1))))
			return 0;
	}
	return seterr(EINVAL, "%s: mount dials numeric addresses only (tcp!ADDR!PORT); "
			      "post a service by name with ns9 srv", ctx);
}

/* Read the server's status line: "0" or "ERRNO TEXT". */
static int
readstatus(int fd, const char *ctx)
{
	char buf[1024], *p;
	struct pollfd pfd;
	size_t n;
	ssize_t r;
	long code;
	int left, ms;
	struct timespec t0, t1;

	n = 0;
	left = Waitms;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for(;;){
		pfd.fd = fd;
		pfd.events = POLLIN;
		r = poll(&pfd, 1, left);
		if(r < 0 && errno == EINTR)
			continue;
		if(r == 0)
			return seterr(ETIMEDOUT, "%s: the service did not answer the attach in %d s", ctx, Waitms / 1000);
		if(r < 0)
			return syserr("%s", ctx);
		r = read(fd, buf + n, sizeof buf - 1 - n);
		if(r < 0 && errno == EINTR)
			continue;
		if(r < 0)
			return syserr("%s", ctx);
		if(r == 0)
			break;
		n += r;
		if(memchr(buf, '\n', n) != NULL || n == sizeof buf - 1)
			break;
		clock_gettime(CLOCK_MONOTONIC, &t1);
		ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
		left = Waitms - ms;
		if(left < 0)
			left = 0;
	}
	buf[n] = 0;
	if(n == 0)
		return seterr(EIO, "%s: the 9P client exited without a word", ctx);
	p = strchr(buf, '\n');
	if(p != NULL)
		*p = 0;
	if(strcmp(buf, "0") == 0)
		return 0;
	code = strtol(buf, &p, 10);
	if(p == buf || code <= 0 || code > 4095)
		return seterr(EIO, "%s: %s", ctx, buf);
	if(*p == ' ')
		p++;
	return seterr((int)code, "%s: %s", ctx, p);
}

int
ns_mount9ptree(const char *srv, int flag, const char *spec, const char *ctx)
{
	char fdarg[3][16], uidarg[16], uname[256], *argv[16];
	Buf source = {0};
	int conn, fuse, mnt, pipefd[2], n, debug, fds[3];

	conn = fuse = mnt = -1;
	pipefd[0] = pipefd[1] = -1;
	if(numericdial(srv, ctx) < 0)
		goto bad;
	conn = ns_srvdial(srv);
	if(conn < 0){
		adderr("%s", ctx);
		goto bad;
	}
	fuse = open("/dev/fuse", O_RDWR | O_CLOEXEC);
	if(fuse < 0){
		syserrpath("/dev/fuse", "%s", ctx);
		goto bad;
	}
	ns_quote(&source, srv);
	if(spec != NULL && spec[0] != 0){
		bufputc(&source, ' ');
		ns_quote(&source, spec);
	}
	mnt = ns_fusemount(fuse, source.s, flag & NS_MCACHE ? "9pC" : "9p", ctx);
	if(mnt < 0)
		goto bad;
	if(pipe2(pipefd, O_CLOEXEC) < 0){
		syserr("%s", ctx);
		goto bad;
	}
	n = 0;
	argv[n++] = "ns9";
	argv[n++] = "9pfuse";
	if(flag & NS_MCACHE)
		argv[n++] = "-C";
	debug = getenv("NS9DEBUG9P") != NULL;
	if(debug)
		argv[n++] = "-D";
	if(spec != NULL && spec[0] != 0){
		argv[n++] = "-a";
		argv[n++] = (char *)spec;
	}
	/* The attach names the user as Plan 9's mount does (uname), and its uid for .L. */
	username(geteuid(), uname, sizeof uname);
	snprintf(uidarg, sizeof uidarg, "%u", (unsigned)geteuid());
	argv[n++] = "-u";
	argv[n++] = uname;
	argv[n++] = "-n";
	argv[n++] = uidarg;
	snprintf(fdarg[0], sizeof fdarg[0], "%d", Fusefd);
	snprintf(fdarg[1], sizeof fdarg[1], "%d", Connfd);
	snprintf(fdarg[2], sizeof fdarg[2], "%d", Statusfd);
	argv[n++] = fdarg[0];
	argv[n++] = fdarg[1];
	argv[n++] = fdarg[2];
	argv[n] = NULL;
	fds[0] = fuse;
	fds[1] = conn;
	fds[2] = pipefd[1];
	if(ns_spawnserver(argv, fds, 3, debug, ctx) < 0)
		goto bad;
	close(pipefd[1]);
	pipefd[1] = -1;
	close(fuse);
	fuse = -1;
	close(conn);
	conn = -1;
	/* an ssh dialled for it: what it said becomes the error (nothing when none was) */
	if(readstatus(pipefd[0], ctx) < 0){
		ns_sshend(0, ctx);
		goto bad;
	}
	ns_sshend(1, ctx);
	close(pipefd[0]);
	buffree(&source);
	return mnt;
bad:
	if(pipefd[0] >= 0)
		close(pipefd[0]);
	if(pipefd[1] >= 0)
		close(pipefd[1]);
	if(mnt >= 0)
		close(mnt);
	if(fuse >= 0)
		close(fuse);
	if(conn >= 0)
		close(conn);
	buffree(&source);
	return -1;
}

int
ns_mount9p(const char *srv, const char *old, int flag, const char *spec, const char *ctx)
{
	int mnt;

	mnt = ns_mount9ptree(srv, flag, spec, ctx);
	if(mnt < 0)
		return -1;
	/* The server is serving: attach.  Failing here drops the mount; the server sees ENODEV and exits. */
	return ns_attach(mnt, old, ctx);
}
