/*
 * unionsec: what the union security tests (tests/integration/unionsec.sh)
 * cannot do from the shell.  Every wait is bounded (Waitms).
 *
 *	unionsec reopen [-w | -m MODE | -t] PATH CMD
 *		open PATH with O_PATH, run `sh -c CMD`, then use the same file
 *		again through /proc/self/fd (no lookup, no revalidation: the
 *		permission check is the kernel's on the inode it already has):
 *		open and read it and print what it read; -w: open and write
 *		"written\n"; -m: chmod it to MODE (octal); -t: truncate it to
 *		0.  Prints what it read or "ok"; an error prints its errno name
 *	unionsec sys OP ARGS
 *		one system call: unlink PATH, rmdir PATH, rename OLD NEW,
 *		chmod OCTAL PATH, mknod PATH (a character device 1,3); prints
 *		"ok" or the errno name
 *	unionsec getfd PID
 *		pidfd_getfd(2) of the union server's control socket (UFD_PEER):
 *		"ok" or the errno name
 *	unionsec hello PID
 *		a well-formed Uhello: prints "PID COOKIE" (hex), or what went wrong
 *	unionsec bad PID KIND [ARG]
 *		one malformed or hostile request, then what came back on the
 *		reply socket: "eof" (dropped), "reply ERRNO TEXT", "reply ok N",
 *		"timeout", or, for KIND die, "sent".  KIND: short (fewer bytes
 *		than a header), len (nname larger than what was sent), nul (a
 *		NUL inside the name), version, fds (five fds), nofd (no reply
 *		socket), notsock (the reply "socket" a pipe), full (a reply
 *		socket whose buffer is full and blocking), die (send, exit
 *		without reading), addfile FILE (Uadd of a regular file),
 *		unknown (op 99), list (Ulist with fds: prints the count)
 *	unionsec flood PID N
 *		N Uhello requests, each reply socket closed unread; "ok"
 *	unionsec race DIR SECONDS
 *		rename DIR/a and DIR/b into each other in one thread while
 *		another opens and stats whichever exists, for SECONDS; "ok"
 *	unionsec fakeunion DIR SOURCE SECONDS
 *		a FUSE mount at DIR whose type is fuse.ns9union and whose
 *		source is SOURCE (both are the mounter's to choose), served by
 *		nobody: prints "ok" and holds /dev/fuse for SECONDS
 *	unionsec holddirs DIR N SECONDS
 *		open DIR N times (each an opendir of the file system) and read
 *		the first block of each listing, print "ok", and hold them open
 *		for SECONDS
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "union.h"

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_getfd
#define SYS_pidfd_getfd 438
#endif

enum {
	Waitms = 5000,
};

static int
errname(void)
{
	printf("%s\n", strerrorname_np(errno));
	return 1;
}

static int
reopen(int argc, char **argv)
{
	char path[64], buf[4096];
	int fd, rfd, op, st;
	mode_t mode;
	ssize_t n;
	pid_t pid;

	op = 'r';
	mode = 0;
	if(argc > 0 && strcmp(argv[0], "-w") == 0){
		op = 'w';
		argc--;
		argv++;
	}else if(argc > 0 && strcmp(argv[0], "-t") == 0){
		op = 't';
		argc--;
		argv++;
	}else if(argc > 1 && strcmp(argv[0], "-m") == 0){
		op = 'm';
		mode = strtol(argv[1], NULL, 8);
		argc -= 2;
		argv += 2;
	}
	if(argc != 2){
		fprintf(stderr, "usage: unionsec reopen [-w | -m MODE | -t] PATH CMD\n");
		return 2;
	}
	fd = open(argv[0], O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if(fd < 0)
		return errname();
	pid = fork();
	if(pid < 0)
		return errname();
	if(pid == 0){
		execl("/bin/sh", "sh", "-c", argv[1], (char *)NULL);
		_exit(127);
	}
	if(waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0){
		printf("swap failed\n");
		return 1;
	}
	snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
	switch(op){
	case 'm':
		if(chmod(path, mode) < 0)
			return errname();
		printf("ok\n");
		return 0;
	case 't':
		if(truncate(path, 0) < 0)
			return errname();
		printf("ok\n");
		return 0;
	}
	rfd = open(path, (op == 'w' ? O_WRONLY : O_RDONLY) | O_CLOEXEC);
	if(rfd < 0)
		return errname();
	if(op == 'w'){
		if(write(rfd, "written\n", 8) != 8)
			return errname();
		printf("ok\n");
	}else{
		n = read(rfd, buf, sizeof buf);
		if(n < 0)
			return errname();
		fwrite(buf, 1, n, stdout);
	}
	close(rfd);
	close(fd);
	return 0;
}

static int
sys(int argc, char **argv)
{
	int r;

	r = -2;
	if(argc == 2 && strcmp(argv[0], "unlink") == 0)
		r = unlink(argv[1]);
	else if(argc == 2 && strcmp(argv[0], "rmdir") == 0)
		r = rmdir(argv[1]);
	else if(argc == 3 && strcmp(argv[0], "rename") == 0)
		r = rename(argv[1], argv[2]);
	else if(argc == 3 && strcmp(argv[0], "chmod") == 0)
		r = chmod(argv[2], strtol(argv[1], NULL, 8));
	else if(argc == 2 && strcmp(argv[0], "mknod") == 0)
		r = mknod(argv[1], S_IFCHR | 0666, makedev(1, 3));
	if(r == -2){
		fprintf(stderr, "usage: unionsec sys unlink|rmdir|rename|chmod|mknod ARGS\n");
		return 2;
	}
	if(r < 0)
		return errname();
	printf("ok\n");
	return 0;
}

static int
getpeer(const char *spid)
{
	int pidfd, sock;

	pidfd = syscall(SYS_pidfd_open, atoi(spid), 0);
	if(pidfd < 0)
		return -1;
	sock = syscall(SYS_pidfd_getfd, pidfd, UFD_PEER, 0);
	close(pidfd);
	if(sock >= 0)
		fcntl(sock, F_SETFD, FD_CLOEXEC);
	return sock;
}

/* Send one message of n bytes with the fds; returns 0 or -1. */
static int
sendraw(int sock, const void *b, size_t n, const int *fds, int nfd)
{
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(8 * sizeof(int))];
	} cm;
	struct msghdr msg;
	struct iovec iov;
	struct cmsghdr *c;

	iov.iov_base = (void *)b;
	iov.iov_len = n;
	memset(&msg, 0, sizeof msg);
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
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
	return sendmsg(sock, &msg, MSG_NOSIGNAL) < 0 ? -1 : 0;
}

/* A request: header q, then the bytes of body. */
static size_t
mkreq(char *buf, int op, uint32_t flag, uint32_t verb, const char *name, size_t nname)
{
	UReq q;

	memset(&q, 0, sizeof q);
	q.version = UVERSION;
	q.op = op;
	q.flag = flag;
	q.verb = verb;
	q.nname = nname;
	memcpy(buf, &q, sizeof q);
	memcpy(buf + sizeof q, name, nname);
	return sizeof q + nname;
}

/* What came back on rs: eof, timeout, or the first reply. */
static void
showreply(int rs, int count)
{
	char buf[UMAXMSG + 1];
	struct pollfd p;
	URep r;
	ssize_t n;
	int k;

	p.fd = rs;
	p.events = POLLIN;
	if(poll(&p, 1, Waitms) == 0){
		printf("timeout\n");
		return;
	}
	n = recv(rs, buf, UMAXMSG, 0);
	if(n <= 0){
		printf("eof\n");
		return;
	}
	if((size_t)n < sizeof r){
		printf("short reply\n");
		return;
	}
	memcpy(&r, buf, sizeof r);
	buf[n] = 0;
	if(r.err != 0){
		printf("reply %s %s\n", strerrorname_np(r.err), buf + sizeof r);
		return;
	}
	if(!count){
		printf("reply ok %u\n", r.n);
		return;
	}
	/* a list: the header's count, then as many member replies */
	for(k = 0; k < (int)r.n; k++){
		if(poll(&p, 1, Waitms) == 0)
			break;
		n = recv(rs, buf, UMAXMSG, 0);
		if(n <= 0)
			break;
	}
	printf("reply ok %u members, %d received\n", r.n, k);
}

static int
hello(const char *spid)
{
	char buf[256];
	int sock, rp[2];
	struct pollfd p;
	URep r;
	size_t n;

	sock = getpeer(spid);
	if(sock < 0)
		return errname();
	if(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, rp) < 0)
		return errname();
	n = mkreq(buf, Uhello, 0, 0, "", 0);
	if(sendraw(sock, buf, n, &rp[1], 1) < 0)
		return errname();
	close(rp[1]);
	p.fd = rp[0];
	p.events = POLLIN;
	if(poll(&p, 1, Waitms) == 0){
		printf("timeout\n");
		return 1;
	}
	if(recv(rp[0], &r, sizeof r, 0) != sizeof r){
		printf("eof\n");
		return 1;
	}
	printf("%u %016llx\n", r.n, (unsigned long long)r.cookie);
	return 0;
}

static int
bad(const char *spid, const char *kind, const char *arg)
{
	char buf[UMAXMSG + 64];
	int sock, rp[2], fds[8], pp[2], i, nfd, fd, count;
	size_t n;
	UReq q;

	sock = getpeer(spid);
	if(sock < 0)
		return errname();
	if(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, rp) < 0)
		return errname();
	fds[0] = rp[1];
	nfd = 1;
	count = 0;
	n = mkreq(buf, Uhello, 0, 0, "", 0);
	if(strcmp(kind, "short") == 0)
		n = sizeof q - 1;
	else if(strcmp(kind, "len") == 0){
		n = mkreq(buf, Udel, 0, 0, "abc", 3);
		memcpy(&q, buf, sizeof q);
		q.nname = 1000;
		memcpy(buf, &q, sizeof q);
	}else if(strcmp(kind, "nul") == 0)
		n = mkreq(buf, Udel, 0, 0, "a\0b", 3);
	else if(strcmp(kind, "version") == 0){
		memcpy(&q, buf, sizeof q);
		q.version = 99;
		memcpy(buf, &q, sizeof q);
	}else if(strcmp(kind, "fds") == 0){
		for(i = 1; i < 5; i++)
			fds[nfd++] = open("/", O_PATH | O_CLOEXEC);
	}else if(strcmp(kind, "nofd") == 0)
		nfd = 0;
	else if(strcmp(kind, "notsock") == 0){
		if(pipe2(pp, O_CLOEXEC) < 0)
			return errname();
		fds[0] = pp[1];
	}else if(strcmp(kind, "full") == 0){
		/* fill the reply socket so a blocking send would wait */
		memset(buf, 'x', 4096);
		fcntl(rp[1], F_SETFL, fcntl(rp[1], F_GETFL) | O_NONBLOCK);
		while(send(rp[1], buf, 4096, MSG_DONTWAIT) > 0)
			;
		fcntl(rp[1], F_SETFL, fcntl(rp[1], F_GETFL) & ~O_NONBLOCK);
		n = mkreq(buf, Ulist, 1, 0, "", 0);
	}else if(strcmp(kind, "die") == 0)
		n = mkreq(buf, Ulist, 1, 0, "", 0);
	else if(strcmp(kind, "addfile") == 0){
		if(arg == NULL)
			return 2;
		fd = open(arg, O_PATH | O_CLOEXEC);
		if(fd < 0)
			return errname();
		fds[nfd++] = fd;
		n = mkreq(buf, Uadd, 2, 1, arg, strlen(arg));
	}else if(strcmp(kind, "unknown") == 0)
		n = mkreq(buf, 99, 0, 0, "", 0);
	else if(strcmp(kind, "list") == 0){
		n = mkreq(buf, Ulist, 1, 0, "", 0);
		count = 1;
	}else{
		fprintf(stderr, "unionsec: unknown kind %s\n", kind);
		return 2;
	}
	if(sendraw(sock, buf, n, fds, nfd) < 0)
		return errname();
	for(i = 0; i < nfd; i++)
		close(fds[i]);
	if(strcmp(kind, "die") == 0){
		printf("sent\n");
		return 0;
	}
	if(strcmp(kind, "notsock") == 0 || strcmp(kind, "full") == 0 || strcmp(kind, "nofd") == 0){
		/* nothing can come back on rp[0]: the server must still answer */
		close(rp[0]);
		printf("sent\n");
		return 0;
	}
	showreply(rp[0], count);
	return 0;
}

static int
flood(const char *spid, int n)
{
	char buf[64];
	int sock, rp[2], i;
	size_t k;

	sock = getpeer(spid);
	if(sock < 0)
		return errname();
	k = mkreq(buf, Uhello, 0, 0, "", 0);
	for(i = 0; i < n; i++){
		if(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, rp) < 0)
			return errname();
		if(sendraw(sock, buf, k, &rp[1], 1) < 0)
			return errname();
		close(rp[0]);
		close(rp[1]);
	}
	printf("ok\n");
	return 0;
}

static const char *racedir;
static volatile int racing = 1;

static void *
renamer(void *arg)
{
	char a[4096], b[4096];

	snprintf(a, sizeof a, "%s/a", racedir);
	snprintf(b, sizeof b, "%s/b", racedir);
	while(racing){
		rename(a, b);
		rename(b, a);
	}
	return NULL;
}

static int
race(const char *dir, int secs)
{
	char a[4096], b[4096];
	struct stat st;
	pthread_t t;
	time_t end;
	int fd;

	racedir = dir;
	snprintf(a, sizeof a, "%s/a", dir);
	snprintf(b, sizeof b, "%s/b", dir);
	if(pthread_create(&t, NULL, renamer, NULL) != 0)
		return errname();
	end = time(NULL) + secs;
	while(time(NULL) < end){
		fd = open(a, O_RDONLY | O_CLOEXEC);
		if(fd < 0)
			fd = open(b, O_RDONLY | O_CLOEXEC);
		if(fd >= 0){
			fstat(fd, &st);
			close(fd);
		}
		fd = open(a, O_PATH | O_CLOEXEC);
		if(fd >= 0){
			fstat(fd, &st);
			close(fd);
		}
	}
	racing = 0;
	pthread_join(t, NULL);
	printf("ok\n");
	return 0;
}

static int
fakeunion(const char *dir, const char *source, int secs)
{
	char opt[64];
	int fuse, fs, mnt;

	fuse = open("/dev/fuse", O_RDWR | O_CLOEXEC);
	if(fuse < 0)
		return errname();
	fs = syscall(SYS_fsopen, "fuse", 1);
	if(fs < 0)
		return errname();
	snprintf(opt, sizeof opt, "%d", fuse);
	if(syscall(SYS_fsconfig, fs, 1, "fd", opt, 0) < 0 ||
	   syscall(SYS_fsconfig, fs, 1, "rootmode", "40000", 0) < 0)
		return errname();
	snprintf(opt, sizeof opt, "%d", (int)getuid());
	if(syscall(SYS_fsconfig, fs, 1, "user_id", opt, 0) < 0)
		return errname();
	snprintf(opt, sizeof opt, "%d", (int)getgid());
	if(syscall(SYS_fsconfig, fs, 1, "group_id", opt, 0) < 0 ||
	   syscall(SYS_fsconfig, fs, 1, "source", source, 0) < 0 ||
	   syscall(SYS_fsconfig, fs, 1, "subtype", "ns9union", 0) < 0 ||
	   syscall(SYS_fsconfig, fs, 6, NULL, NULL, 0) < 0)
		return errname();
	mnt = syscall(SYS_fsmount, fs, 1, 0);
	if(mnt < 0 || syscall(SYS_move_mount, mnt, "", AT_FDCWD, dir, 4) < 0)
		return errname();
	printf("ok\n");
	fflush(stdout);
	sleep(secs);
	return 0;
}

static int
holddirs(const char *dir, int n, int secs)
{
	char buf[4096];
	int i, fd;

	for(i = 0; i < n; i++){
		fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if(fd < 0 || syscall(SYS_getdents64, fd, buf, sizeof buf) < 0)
			return errname();
	}
	printf("ok\n");
	fflush(stdout);
	sleep(secs);
	return 0;
}

int
main(int argc, char **argv)
{
	signal(SIGPIPE, SIG_IGN);
	if(argc >= 2 && strcmp(argv[1], "reopen") == 0)
		return reopen(argc - 2, argv + 2);
	if(argc >= 2 && strcmp(argv[1], "sys") == 0)
		return sys(argc - 2, argv + 2);
	if(argc == 3 && strcmp(argv[1], "getfd") == 0){
		if(getpeer(argv[2]) < 0)
			return errname();
		printf("ok\n");
		return 0;
	}
	if(argc == 3 && strcmp(argv[1], "hello") == 0)
		return hello(argv[2]);
	if((argc == 4 || argc == 5) && strcmp(argv[1], "bad") == 0)
		return bad(argv[2], argv[3], argc == 5 ? argv[4] : NULL);
	if(argc == 4 && strcmp(argv[1], "flood") == 0)
		return flood(argv[2], atoi(argv[3]));
	if(argc == 4 && strcmp(argv[1], "race") == 0)
		return race(argv[2], atoi(argv[3]));
	if(argc == 5 && strcmp(argv[1], "fakeunion") == 0)
		return fakeunion(argv[2], argv[3], atoi(argv[4]));
	if(argc == 5 && strcmp(argv[1], "holddirs") == 0)
		return holddirs(argv[2], atoi(argv[3]), atoi(argv[4]));
	fprintf(stderr, "usage: unionsec reopen|sys|getfd|hello|bad|flood|race|fakeunion|holddirs ...\n");
	return 2;
}
