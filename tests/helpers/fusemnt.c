/*
 * fusemnt.c: a test driver that mounts a 9P server through `ns9 9pfuse`
 * the way ns9 mount does: connect, make a detached FUSE mount (fsopen,
 * fsconfig, fsmount), start the server with both fds and a status pipe,
 * and attach the mount (move_mount) only when it reports "0".
 *
 *	fusemnt [-CD] [-V version] [-u uname] [-n uid] ns9 addr mountpoint [aname]
 *
 * addr: a Unix socket path, or tcp!host!port.  Prints the server's pid on
 * success; on failure the server's status line, exit 1.
 *
 *	fusemnt -B path
 *	fusemnt -H path
 *
 * are 9P servers that misbehave, for the tests.  On the Unix socket path
 * they answer Tversion (9P2000.L) and Tattach well.  -B then answers
 * every other request with a message of no known type; -H serves a root
 * directory in which every name is a file of 10 bytes, and answers no
 * Tread (only its Tflush).  Both keep the connection open until the client closes it.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

/* <linux/mount.h> values */
enum {
	FSOPEN_CLOEXEC_ = 1,
	FSCONFIG_SET_STRING_ = 1,
	FSCONFIG_SET_FLAG_ = 0,
	FSCONFIG_CMD_CREATE_ = 6,
	FSMOUNT_CLOEXEC_ = 1,
	MOVE_MOUNT_F_EMPTY_PATH_ = 4,
};

static int
dial(const char *addr)
{
	struct sockaddr_un un;
	struct sockaddr_in in;
	char host[64];
	int fd, port;

	if(strncmp(addr, "tcp!", 4) == 0){
		if(sscanf(addr + 4, "%63[^!]!%d", host, &port) != 2)
			return -1;
		memset(&in, 0, sizeof in);
		in.sin_family = AF_INET;
		in.sin_port = htons(port);
		if(inet_pton(AF_INET, host, &in.sin_addr) != 1)
			return -1;
		fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if(fd < 0 || connect(fd, (struct sockaddr *)&in, sizeof in) < 0)
			return -1;
		return fd;
	}
	memset(&un, 0, sizeof un);
	un.sun_family = AF_UNIX;
	if(strlen(addr) >= sizeof un.sun_path)
		return -1;
	strcpy(un.sun_path, addr);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if(fd < 0 || connect(fd, (struct sockaddr *)&un, sizeof un) < 0)
		return -1;
	return fd;
}

static void
die(const char *what)
{
	fprintf(stderr, "fusemnt: %s: %s\n", what, strerror(errno));
	exit(1);
}

static int
readn(int fd, unsigned char *p, size_t n)
{
	ssize_t m;

	while(n > 0){
		m = read(fd, p, n);
		if(m <= 0)
			return -1;
		p += m;
		n -= m;
	}
	return 0;
}

static void
put(unsigned char *p, unsigned long v, int n)
{
	while(n-- > 0){
		*p++ = v;
		v >>= 8;
	}
}

static int
badserver(const char *path, int hold)
{
	struct sockaddr_un un;
	unsigned char m[8192], r[256], isdir[4096];
	unsigned long size, fid, newfid;
	int lfd, fd, n, dir;

	memset(&un, 0, sizeof un);
	un.sun_family = AF_UNIX;
	if(strlen(path) >= sizeof un.sun_path)
		return 1;
	strcpy(un.sun_path, path);
	lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if(lfd < 0 || bind(lfd, (struct sockaddr *)&un, sizeof un) < 0 || listen(lfd, 1) < 0)
		die(path);
	fd = accept(lfd, NULL, NULL);
	if(fd < 0)
		die("accept");
	memset(isdir, 0, sizeof isdir);
	while(readn(fd, m, 4) == 0){
		size = m[0] | m[1] << 8 | m[2] << 16 | (unsigned long)m[3] << 24;
		if(size < 7 || size > sizeof m || readn(fd, m + 4, size - 4) < 0)
			break;
		memset(r, 0, sizeof r);
		r[5] = m[5];	/* tag */
		r[6] = m[6];
		switch(m[4]){
		case 100:	/* Tversion: Rversion msize 8192 "9P2000.L" */
			r[4] = 101;
			put(r + 7, 8192, 4);
			put(r + 11, 8, 2);
			memcpy(r + 13, "9P2000.L", 8);
			n = 21;
			break;
		case 104:	/* Tattach: Rattach, a directory */
			r[4] = 105;
			r[7] = 0x80;
			put(r + 12, 1, 8);
			n = 20;
			if((fid = m[7] | m[8] << 8 | m[9] << 16 | (unsigned long)m[10] << 24) < sizeof isdir)
				isdir[fid] = 1;
			break;
		default:
			if(!hold){	/* no such message */
				r[4] = 255;
				n = 7;
				break;
			}
			fid = m[7] | m[8] << 8 | m[9] << 16 | (unsigned long)m[10] << 24;
			dir = fid < sizeof isdir && isdir[fid];
			switch(m[4]){
			case 110:	/* Twalk: a clone keeps the kind, a name is a file */
				newfid = m[11] | m[12] << 8 | m[13] << 16 | (unsigned long)m[14] << 24;
				r[4] = 111;
				n = 9;
				if(m[15] | m[16] << 8){
					r[7] = 1;
					put(r + 9 + 5, 2, 8);
					n += 13;
					dir = 0;
				}
				if(newfid < sizeof isdir)
					isdir[newfid] = dir;
				break;
			case 24:	/* Tgetattr: valid qid mode uid gid nlink rdev size ... */
				r[4] = 25;
				put(r + 7, 0x7ff, 8);
				r[15] = dir ? 0x80 : 0;
				put(r + 20, dir ? 1 : 2, 8);
				put(r + 28, dir ? 040755 : 0100644, 4);
				put(r + 40, 1, 8);
				put(r + 56, dir ? 0 : 10, 8);
				put(r + 64, 4096, 8);
				n = 7 + 153;
				break;
			case 12:	/* Tlopen */
				r[4] = 13;
				r[7] = dir ? 0x80 : 0;
				put(r + 12, dir ? 1 : 2, 8);
				n = 7 + 17;
				break;
			case 40:	/* Treaddir: empty */
				r[4] = 41;
				n = 11;
				break;
			case 116:	/* Tread: held until flushed */
				continue;
			case 108:	/* Tflush: the read is forgotten */
				r[4] = 109;
				n = 7;
				break;
			case 120:	/* Tclunk */
				r[4] = 121;
				n = 7;
				break;
			default:	/* Rlerror ENOSYS */
				r[4] = 7;
				put(r + 7, ENOSYS, 4);
				n = 11;
				break;
			}
			break;
		}
		put(r, n, 4);
		if(write(fd, r, n) != n)
			break;
	}
	return 0;
}

static int
cfgstr(int fs, const char *k, const char *v)
{
	return syscall(SYS_fsconfig, fs, FSCONFIG_SET_STRING_, k, v, 0);
}

int
main(int argc, char **argv)
{
	const char *ns9, *addr, *mnt, *aname;
	char buf[64], line[600], *fargv[16];
	int c, fsfd, fusefd, conn, mfd, pfd[2], nf, cache, debug;
	const char *version, *uname, *nuid;
	ssize_t n, m;
	pid_t pid;

	cache = debug = 0;
	version = uname = nuid = NULL;
	while((c = getopt(argc, argv, "B:H:CDV:u:n:")) != -1)
		switch(c){
		case 'B':
			return badserver(optarg, 0);
		case 'H':
			return badserver(optarg, 1);
		case 'C':
			cache = 1;
			break;
		case 'D':
			debug = 1;
			break;
		case 'V':
			version = optarg;
			break;
		case 'u':
			uname = optarg;
			break;
		case 'n':
			nuid = optarg;
			break;
		default:
			goto usage;
		}
	if(argc - optind < 3 || argc - optind > 4){
usage:
		fprintf(stderr, "usage: fusemnt [-CD] [-V version] [-u uname] [-n uid] ns9 addr mountpoint [aname]\n");
		return 2;
	}
	ns9 = argv[optind];
	addr = argv[optind + 1];
	mnt = argv[optind + 2];
	aname = argc - optind == 4 ? argv[optind + 3] : NULL;

	conn = dial(addr);
	if(conn < 0)
		die(addr);
	fusefd = open("/dev/fuse", O_RDWR | O_CLOEXEC);
	if(fusefd < 0)
		die("/dev/fuse");
	fsfd = syscall(SYS_fsopen, "fuse", FSOPEN_CLOEXEC_);
	if(fsfd < 0)
		die("fsopen");
	snprintf(buf, sizeof buf, "%d", fusefd);
	if(cfgstr(fsfd, "fd", buf) < 0 || cfgstr(fsfd, "rootmode", "40000") < 0)
		die("fsconfig fd");
	snprintf(buf, sizeof buf, "%d", (int)getuid());
	if(cfgstr(fsfd, "user_id", buf) < 0)
		die("fsconfig user_id");
	snprintf(buf, sizeof buf, "%d", (int)getgid());
	if(cfgstr(fsfd, "group_id", buf) < 0)
		die("fsconfig group_id");
	if(syscall(SYS_fsconfig, fsfd, FSCONFIG_SET_FLAG_, "allow_other", NULL, 0) < 0 ||
	   syscall(SYS_fsconfig, fsfd, FSCONFIG_SET_FLAG_, "default_permissions", NULL, 0) < 0)
		die("fsconfig flags");
	if(cfgstr(fsfd, "max_read", "1048576") < 0 || cfgstr(fsfd, "source", addr) < 0 ||
	   cfgstr(fsfd, "subtype", cache ? "9pC" : "9p") < 0)
		die("fsconfig");
	if(syscall(SYS_fsconfig, fsfd, FSCONFIG_CMD_CREATE_, NULL, NULL, 0) < 0)
		die("fsconfig create");
	mfd = syscall(SYS_fsmount, fsfd, FSMOUNT_CLOEXEC_, 0);
	if(mfd < 0)
		die("fsmount");
	close(fsfd);
	if(pipe2(pfd, O_CLOEXEC) < 0)
		die("pipe");

	pid = fork();
	if(pid < 0)
		die("fork");
	if(pid == 0){
		setsid();
		/* Not our stdout: a caller reading it waits for its end. */
		nf = open("/dev/null", O_RDWR);
		if(nf >= 0 && nf != 1){
			dup2(nf, 0);
			dup2(nf, 1);
			close(nf);
		}
		/* The three fds the server takes, inherited. */
		fcntl(fusefd, F_SETFD, 0);
		fcntl(conn, F_SETFD, 0);
		fcntl(pfd[1], F_SETFD, 0);
		nf = 0;
		fargv[nf++] = (char *)ns9;
		fargv[nf++] = "9pfuse";
		if(cache)
			fargv[nf++] = "-C";
		if(debug)
			fargv[nf++] = "-D";
		if(version != NULL){
			fargv[nf++] = "-V";
			fargv[nf++] = (char *)version;
		}
		if(uname != NULL){
			fargv[nf++] = "-u";
			fargv[nf++] = (char *)uname;
		}
		if(nuid != NULL){
			fargv[nf++] = "-n";
			fargv[nf++] = (char *)nuid;
		}
		if(aname != NULL){
			fargv[nf++] = "-a";
			fargv[nf++] = (char *)aname;
		}
		snprintf(buf, sizeof buf, "%d", fusefd);
		fargv[nf++] = strdup(buf);
		snprintf(buf, sizeof buf, "%d", conn);
		fargv[nf++] = strdup(buf);
		snprintf(buf, sizeof buf, "%d", pfd[1]);
		fargv[nf++] = strdup(buf);
		fargv[nf] = NULL;
		execv(ns9, fargv);
		_exit(127);
	}
	close(pfd[1]);
	close(fusefd);
	close(conn);
	n = 0;
	while(n < (ssize_t)sizeof line - 1 && (m = read(pfd[0], line + n, sizeof line - 1 - n)) > 0){
		n += m;
		if(line[n - 1] == '\n')
			break;
	}
	line[n] = 0;
	if(strcmp(line, "0\n") != 0){
		fprintf(stderr, "fusemnt: server says: %s%s", n > 0 ? line : "nothing", n > 0 && line[n - 1] == '\n' ? "" : "\n");
		close(mfd);
		waitpid(pid, NULL, 0);
		return 1;
	}
	if(syscall(SYS_move_mount, mfd, "", AT_FDCWD, mnt, MOVE_MOUNT_F_EMPTY_PATH_) < 0){
		fprintf(stderr, "fusemnt: move_mount %s: %s\n", mnt, strerror(errno));
		close(mfd);
		return 1;
	}
	close(mfd);
	printf("%d\n", (int)pid);
	return 0;
}
