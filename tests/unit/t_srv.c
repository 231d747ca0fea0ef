/*
 * t_srv.c: dial strings (lib/9p/dial.c) and posted services
 * (lib/ns/srv.c) with real sockets: tcp and unix dial/announce, stale and
 * live sockets, long paths; ns_post's checks, mode and watcher (a server
 * killed with -9 loses its post, a removed post stops its server),
 * ns_srvdial's forms and stale posts, ns_srvlist, ns_selfexe.  The srv
 * directory is a scratch one ($NS9SRV).  Every post is made by a child,
 * since removing a post signals its poster.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "9p.h"
#include "ns9.h"
#include "tap.h"

static char dir[256];

static void
sleepms(int ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

/* Wait (at most 5 s) until path exists (want 1) or not (want 0). */
static int
waitpath(const char *path, int want)
{
	struct stat st;
	int i;

	for(i = 0; i < 500; i++){
		if((lstat(path, &st) == 0) == want)
			return 1;
		sleepms(10);
	}
	return 0;
}

/* A socket file nobody listens on: bound, then closed. */
static void
mkstale(const char *path)
{
	struct sockaddr_un sun;
	int fd;

	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof sun.sun_path, "%s", path);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if(bind(fd, (struct sockaddr *)&sun, sizeof sun) < 0)
		diag("mkstale %s: %s", path, strerror(errno));
	close(fd);
}

/*
 * A child that posts name and then accepts (and closes) connections until
 * killed.  Returns its pid, or -1 with the child's error in err.
 */
static pid_t
poster(const char *name, char *err, size_t nerr)
{
	char buf[ERRMAX + 16];
	int p[2], fd, c;
	ssize_t n;
	pid_t pid;

	if(pipe2(p, O_CLOEXEC) < 0)
		return -1;
	pid = fork();
	if(pid == 0){
		close(p[0]);
		fd = ns_post(name, NULL);
		if(fd < 0){
			snprintf(buf, sizeof buf, "%d %s", errcode(), errtext());
			(void)!write(p[1], buf, strlen(buf));
			_exit(1);
		}
		(void)!write(p[1], "ok", 2);
		close(p[1]);
		for(;;){
			c = accept(fd, NULL, NULL);
			if(c >= 0)
				close(c);
		}
	}
	close(p[1]);
	n = read(p[0], buf, sizeof buf - 1);
	close(p[0]);
	buf[n > 0 ? n : 0] = 0;
	if(strcmp(buf, "ok") == 0)
		return pid;
	snprintf(err, nerr, "%s", buf);
	waitpid(pid, NULL, 0);
	return -1;
}

static void
killwait(pid_t pid)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

static void
testdial(void)
{
	struct sockaddr_in sin;
	socklen_t len;
	char addr[700], path[600], longdir[512];
	int l, c, one, i;

	/* tcp: an ephemeral port on the loopback. */
	l = p9_announce("tcp!127.0.0.1!0");
	ok(l >= 0, "announce tcp!127.0.0.1!0");
	len = sizeof sin;
	getsockname(l, (struct sockaddr *)&sin, &len);
	snprintf(addr, sizeof addr, "tcp!127.0.0.1!%d", ntohs(sin.sin_port));
	c = p9_dial(addr);
	ok(c >= 0, "dial %s", addr);
	len = sizeof one;
	one = 0;
	getsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, &len);
	ok(one != 0, "dialled tcp has TCP_NODELAY");
	ok((fcntl(c, F_GETFD) & FD_CLOEXEC) != 0, "dialled fd is close-on-exec");
	close(c);
	snprintf(addr, sizeof addr, "tcp!localhost!%d", ntohs(sin.sin_port));
	c = p9_dial(addr);
	ok(c >= 0, "dial by host name: %s", addr);
	close(c);
	snprintf(addr, sizeof addr, "tcp!127.0.0.1!%d", ntohs(sin.sin_port));
	is_int(p9_announce(addr), -1, "announce a tcp port in use");
	is_int(errcode(), EADDRINUSE, "... EADDRINUSE");
	ok(strstr(errtext(), addr) != NULL, "... the text names the address");
	close(l);
	c = p9_dial(addr);
	is_int(c, -1, "dial a closed tcp port");
	is_int(errcode(), ECONNREFUSED, "... ECONNREFUSED");
	ok(strstr(errtext(), addr) != NULL, "... the text names the address: %s", errtext());
	l = p9_announce("tcp!*!0");
	ok(l >= 0, "announce tcp!*!0 (any address)");
	close(l);
	is_int(p9_dial("tcp!127.0.0.1!nosuchservice9"), -1, "dial an unknown service name");
	ok(strstr(errtext(), "nosuchservice9") != NULL, "... the text names it: %s", errtext());
	is_int(p9_dial("udp!x!1"), -1, "an unknown network is refused");
	is_int(p9_dial("tcp!!1"), -1, "an empty host is refused");
	is_int(p9_dial("tcp!a!1!2"), -1, "a dial string with 4 fields is refused");
	is_int(p9_dial(""), -1, "an empty dial string is refused");

	/* unix */
	snprintf(path, sizeof path, "%s/u", dir);
	snprintf(addr, sizeof addr, "unix!%s", path);
	l = p9_announce(addr);
	ok(l >= 0, "announce %s", addr);
	c = p9_dial(path);
	ok(c >= 0, "dial a bare path");
	close(c);
	c = p9_dial(addr);
	ok(c >= 0, "dial unix!path");
	close(c);
	is_int(p9_announce(path), -1, "announce a live unix socket");
	is_int(errcode(), EADDRINUSE, "... EADDRINUSE");
	ok(strstr(errtext(), "address already in use") && strstr(errtext(), path), "... says so: %s",
	   errtext());
	close(l);
	l = p9_announce(path);
	ok(l >= 0, "announce over a stale unix socket (its listener closed)");
	close(l);
	unlink(path);
	mkstale(path);
	l = p9_announce(path);
	ok(l >= 0, "announce over a socket nobody ever listened on");
	close(l);
	unlink(path);
	snprintf(path, sizeof path, "%s/nosuch", dir);
	is_int(p9_dial(path), -1, "dial a missing path");
	is_int(errcode(), ENOENT, "... ENOENT");
	ok(strstr(errtext(), path) != NULL, "... the text names it: %s", errtext());

	/* A path longer than sun_path. */
	snprintf(longdir, sizeof longdir, "%s/", dir);
	for(i = 0; i < 3; i++){
		strcat(longdir, "dddddddddddddddddddddddddddddddddddddddddddd");
		mkdir(longdir, 0700);
		strcat(longdir, "/");
	}
	snprintf(path, sizeof path, "%ssock", longdir);
	ok(strlen(path) > 108, "a socket path of %zu bytes", strlen(path));
	l = p9_announce(path);
	ok(l >= 0, "announce at it");
	c = p9_dial(path);
	ok(c >= 0, "dial it");
	close(c);
	close(l);
	unlink(path);
}

static void
testpost(void)
{
	char err[ERRMAX + 16], name[300], path[700], **v;
	struct stat st;
	pid_t a, b;
	int fd, n, status;

	/* Names. */
	is_int(ns_post("", NULL), -1, "post an empty name");
	is_int(ns_post("a/b", NULL), -1, "post a name with '/'");
	ok(strstr(errtext(), "'/'") != NULL, "... says why: %s", errtext());
	is_int(ns_post(".", NULL), -1, "post '.'");
	is_int(ns_post("..", NULL), -1, "post '..'");
	is_int(ns_post("a\nb", NULL), -1, "post a name with a newline");
	is_int(ns_post(".ns9post.1.0", NULL), -1, "post a name ns_post takes for a moment itself");
	memset(name, 'n', 128);
	name[128] = 0;
	is_int(ns_post(name, NULL), -1, "post a 128-byte name");
	is_int(errcode(), ENAMETOOLONG, "... ENAMETOOLONG");
	ok(waitpath(dir, 1), "nothing was made");

	/* A 127-byte name: its path is longer than sun_path. */
	name[127] = 0;
	umask(0);
	a = poster(name, err, sizeof err);
	umask(022);
	ok(a > 0, "post a 127-byte name (umask 0) %s", a > 0 ? "" : err);
	snprintf(path, sizeof path, "%s/%s", dir, name);
	ok(lstat(path, &st) == 0 && S_ISSOCK(st.st_mode), "the post is a socket");
	is_int(st.st_mode & 0777, 0600, "... mode 0600 whatever the umask");
	fd = ns_srvdial(path);
	ok(fd >= 0, "dial it by path");
	close(fd);
	killwait(a);
	ok(waitpath(path, 0), "killed -9, its post is removed by the watcher");

	a = poster("a", err, sizeof err);
	ok(a > 0, "post a %s", a > 0 ? "" : err);
	b = poster("a", err, sizeof err);
	is_int(b, -1, "post a live name again");
	is_str(err, "17 post a: file already exists", "... EEXIST, file already exists");

	fd = ns_srvdial("#s/a");
	ok(fd >= 0, "srvdial #s/a");
	close(fd);
	fd = ns_srvdial("/srv/a");
	ok(fd >= 0, "srvdial /srv/a (no /srv here: the srv directory)");
	close(fd);
	snprintf(path, sizeof path, "unix!%s/a", dir);
	fd = ns_srvdial(path);
	ok(fd >= 0, "srvdial a dial string");
	close(fd);
	is_int(ns_srvdial("/srv/nosuch"), -1, "srvdial a name not posted");
	is_int(errcode(), ENOENT, "... ENOENT");
	is_str(errtext(), "file does not exist: '/srv/nosuch'", "... says so");
	is_int(ns_srvdial("/srv/no/such"), -1, "srvdial /srv/a/b, not in this name space");
	is_int(errcode(), ENOENT, "... ENOENT");
	is_int(ns_srvdial("#s/.."), -1, "srvdial #s/.. (the srv directory's parent: no socket)");

	/* Stale posts: dial, list, repost. */
	snprintf(path, sizeof path, "%s/stale1", dir);
	mkstale(path);
	is_int(ns_srvdial("#s/stale1"), -1, "srvdial a stale post");
	is_int(errcode(), ECONNREFUSED, "... ECONNREFUSED");
	is_str(errtext(), "#s/stale1: service is gone (stale post)", "... says so");
	ok(lstat(path, &st) < 0, "... and removes it");
	mkstale(path);
	b = poster("b", err, sizeof err);
	ok(b > 0, "post b %s", b > 0 ? "" : err);
	snprintf(path, sizeof path, "%s/plainfile", dir);
	close(open(path, O_CREAT | O_WRONLY, 0600));
	n = ns_srvlist(&v);
	is_int(n, 2, "srvlist: the live posts only");
	if(n == 2){
		is_str(v[0], "a", "... sorted: a");
		is_str(v[1], "b", "... b");
	}
	ns_freelist(v);
	snprintf(path, sizeof path, "%s/stale1", dir);
	ok(lstat(path, &st) < 0, "srvlist removed the stale post");
	mkstale(path);
	killwait(b);
	b = poster("stale1", err, sizeof err);
	ok(b > 0, "post over a stale socket %s", b > 0 ? "" : err);

	/* rm of a post stops its server. */
	snprintf(path, sizeof path, "%s/stale1", dir);
	unlink(path);
	status = 0;
	waitpid(b, &status, 0);
	ok(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM, "rm of a post sends its server SIGTERM");

	/* A post replaced by another socket (renamed over it) also stops it. */
	b = poster("c", err, sizeof err);
	snprintf(path, sizeof path, "%s/tmpsock", dir);
	mkstale(path);
	snprintf(name, sizeof name, "%s/c", dir);
	rename(path, name);
	status = 0;
	waitpid(b, &status, 0);
	ok(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM, "a post replaced: its server gets SIGTERM");
	ok(lstat(name, &st) == 0, "... and the new socket is left alone");
	unlink(name);

	killwait(a);
	snprintf(path, sizeof path, "%s/a", dir);
	ok(waitpath(path, 0), "a's post is gone after a");
}

int
main(void)
{
	char cmd[600];
	int fd;

	snprintf(dir, sizeof dir, "/tmp/t_srv.XXXXXX");
	if(mkdtemp(dir) == NULL){
		perror("mkdtemp");
		return 1;
	}
	setenv("NS9SRV", dir, 1);
	signal(SIGPIPE, SIG_IGN);
	testdial();
	testpost();
	fd = ns_selfexe();
	ok(fd >= 0 && ns_selfexe() == fd, "ns_selfexe: one fd, cached");
	{
		struct stat a, b;
		int other, again;

		/* What ns_as's helper does: every inherited fd closed, the number reused. */
		stat("/proc/self/exe", &a);
		close(fd);
		other = open("/dev/null", O_RDONLY | O_CLOEXEC);
		again = ns_selfexe();
		ok(other == fd && again >= 0 && again != other && fstat(again, &b) == 0 && a.st_dev == b.st_dev &&
			   a.st_ino == b.st_ino,
		   "ns_selfexe after its fd was closed and the number reused: the binary, opened again");
	}
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	if(system(cmd) != 0)
		diag("cleanup of %s failed", dir);
	return done_testing();
}
