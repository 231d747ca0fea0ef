/*
 * dial.c: dial strings.  "tcp!host!port" (getaddrinfo: names or
 * addresses, port numbers or service names; "*" as the host of an
 * announce is any address), "unix!path", or the path of a Unix socket.
 * A Unix socket path longer than sun_path is reached through
 * /proc/self/fd, so a long srv directory still works.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "9p.h"

enum {
	Backlog = 128,
};

typedef struct Addr Addr;
struct Addr {
	int tcp;
	char *host;	/* tcp: host, NULL for "*" */
	char *port;	/* tcp */
	const char *path;	/* unix: points into the dial string */
	char *mem;
};

/* Split a dial string.  The default port is 564 (9fs), as Plan 9's srv has it. */
static int
parseaddr(const char *addr, Addr *a, const char *what)
{
	char *p, *q;

	memset(a, 0, sizeof *a);
	if(addr == NULL || addr[0] == 0)
		return seterr(EINVAL, "%s: empty address", what);
	if(strncmp(addr, "unix!", 5) == 0){
		a->path = addr + 5;
		if(a->path[0] == 0)
			return seterr(EINVAL, "%s %s: empty path", what, addr);
		return 0;
	}
	if(strchr(addr, '!') == NULL){
		a->path = addr;
		return 0;
	}
	if(strncmp(addr, "tcp!", 4) != 0 && strncmp(addr, "net!", 4) != 0)
		return seterr(EINVAL, "%s %s: unknown network (tcp, unix)", what, addr);
	a->tcp = 1;
	a->mem = estrdup(addr + 4);
	p = a->mem;
	q = strchr(p, '!');
	if(q != NULL){
		*q++ = 0;
		if(q[0] == 0 || strchr(q, '!') != NULL){
			free(a->mem);
			return seterr(EINVAL, "%s %s: bad port", what, addr);
		}
		a->port = q;
	}else
		a->port = "564";
	if(p[0] == 0){
		free(a->mem);
		return seterr(EINVAL, "%s %s: empty host", what, addr);
	}
	a->host = strcmp(p, "*") == 0 ? NULL : p;
	return 0;
}

static int
lookup(const char *addr, Addr *a, int passive, struct addrinfo **res, const char *what)
{
	struct addrinfo hints;
	int e;

	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = passive ? AI_PASSIVE : AI_ADDRCONFIG;
	e = getaddrinfo(a->host, a->port, &hints, res);
	if(e == 0)
		return 0;
	if(e == EAI_SYSTEM)
		return syserr("%s %s", what, addr);
	return seterr(e == EAI_NONAME || e == EAI_SERVICE ? ENOENT : EHOSTUNREACH, "%s %s: %s", what,
		      addr, gai_strerror(e));
}

static void
nodelay(int fd)
{
	int one = 1;

	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

static int
dialtcp(const char *addr, Addr *a)
{
	struct addrinfo *res, *ai;
	int fd, err;

	if(lookup(addr, a, 0, &res, "dial") < 0)
		return -1;
	fd = -1;
	err = ECONNREFUSED;
	for(ai = res; ai != NULL; ai = ai->ai_next){
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
		if(fd < 0){
			err = errno;
			continue;
		}
		if(connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		err = errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if(fd < 0){
		errno = err;
		return syserr("dial %s", addr);
	}
	nodelay(fd);
	return fd;
}

/*
 * Fill sun with path.  A path too long for sun_path goes through
 * /proc/self/fd/N: of the socket itself (*pfd, O_PATH) to connect, of its
 * directory (+ last element) to bind.
 */
static int
sunpath(struct sockaddr_un *sun, socklen_t *len, const char *path, int forbind, int *pfd,
	const char *what, const char *addr)
{
	char *dir, *base;
	size_t n;

	memset(sun, 0, sizeof *sun);
	sun->sun_family = AF_UNIX;
	*pfd = -1;
	n = strlen(path);
	if(n < sizeof sun->sun_path){
		memcpy(sun->sun_path, path, n);
		*len = offsetof(struct sockaddr_un, sun_path) + n + 1;
		return 0;
	}
	if(!forbind){
		*pfd = open(path, O_PATH | O_CLOEXEC);
		if(*pfd < 0)
			return syserr("%s %s", what, addr);
		snprintf(sun->sun_path, sizeof sun->sun_path, "/proc/self/fd/%d", *pfd);
	}else{
		dir = estrdup(path);
		base = strrchr(dir, '/');
		if(base == NULL || strlen(base) + 24 >= sizeof sun->sun_path){
			free(dir);
			errno = ENAMETOOLONG;
			return syserr("%s %s", what, addr);
		}
		*base++ = 0;
		*pfd = open(dir[0] ? dir : "/", O_PATH | O_DIRECTORY | O_CLOEXEC);
		if(*pfd < 0){
			free(dir);
			return syserr("%s %s", what, addr);
		}
		snprintf(sun->sun_path, sizeof sun->sun_path, "/proc/self/fd/%d/%s", *pfd, base);
		free(dir);
	}
	*len = offsetof(struct sockaddr_un, sun_path) + strlen(sun->sun_path) + 1;
	return 0;
}

static int
dialunix(const char *addr, const char *path)
{
	struct sockaddr_un sun;
	socklen_t len = 0;
	int fd, pfd;

	if(sunpath(&sun, &len, path, 0, &pfd, "dial", addr) < 0)
		return -1;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if(fd < 0){
		syserr("dial %s", addr);
		goto out;
	}
	if(connect(fd, (struct sockaddr *)&sun, len) < 0){
		syserr("dial %s", addr);
		close(fd);
		fd = -1;
	}
out:
	if(pfd >= 0)
		close(pfd);
	return fd;
}

int
p9_dial(const char *addr)
{
	Addr a;
	int fd;

	if(parseaddr(addr, &a, "dial") < 0)
		return -1;
	if(a.tcp)
		fd = dialtcp(addr, &a);
	else
		fd = dialunix(addr, a.path);
	free(a.mem);
	return fd;
}

static int
announcetcp(const char *addr, Addr *a)
{
	struct addrinfo *res, *ai;
	int fd, err, one;

	if(lookup(addr, a, 1, &res, "announce") < 0)
		return -1;
	fd = -1;
	err = EADDRNOTAVAIL;
	for(ai = res; ai != NULL; ai = ai->ai_next){
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
		if(fd < 0){
			err = errno;
			continue;
		}
		one = 1;
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
		if(bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, Backlog) == 0)
			break;
		err = errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if(fd < 0){
		errno = err;
		if(err == EADDRINUSE)
			return seterr(EADDRINUSE, "announce %s: address already in use", addr);
		return syserr("announce %s", addr);
	}
	nodelay(fd);
	return fd;
}

/*
 * Whether the socket file at path is stale: nobody accepts on it.  Returns
 * 1 (stale), 0 (live, or not a socket: leave it alone), -1 on error.
 */
static int
stale(const char *path)
{
	struct stat st;
	int fd, e;

	if(lstat(path, &st) < 0)
		return errno == ENOENT ? 1 : -1;
	if(!S_ISSOCK(st.st_mode))
		return 0;
	fd = dialunix(path, path);
	if(fd >= 0){
		close(fd);
		return 0;
	}
	e = errcode();
	clearerr9();
	return e == ECONNREFUSED ? 1 : 0;
}

static int
announceunix(const char *addr, const char *path)
{
	struct sockaddr_un sun;
	socklen_t len = 0;
	int fd, pfd, tries;

	if(sunpath(&sun, &len, path, 1, &pfd, "announce", addr) < 0)
		return -1;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if(fd < 0){
		syserr("announce %s", addr);
		goto out;
	}
	for(tries = 0;; tries++){
		if(bind(fd, (struct sockaddr *)&sun, len) == 0)
			break;
		if(errno != EADDRINUSE || tries >= 3){
			syserr("announce %s", addr);
			goto bad;
		}
		switch(stale(path)){
		case 1:
			if(unlink(path) < 0 && errno != ENOENT){
				syserr("announce %s: removing the stale socket", addr);
				goto bad;
			}
			continue;
		case 0:
			seterr(EADDRINUSE, "announce %s: address already in use", addr);
			goto bad;
		default:
			syserr("announce %s", addr);
			goto bad;
		}
	}
	if(listen(fd, Backlog) < 0){
		syserr("announce %s", addr);
		goto bad;
	}
	goto out;
bad:
	close(fd);
	fd = -1;
out:
	if(pfd >= 0)
		close(pfd);
	return fd;
}

int
p9_announce(const char *addr)
{
	Addr a;
	int fd;

	if(parseaddr(addr, &a, "announce") < 0)
		return -1;
	if(a.tcp)
		fd = announcetcp(addr, &a);
	else
		fd = announceunix(addr, a.path);
	free(a.mem);
	return fd;
}
