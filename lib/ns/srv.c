/*
 * srv.c: posted services.  A post is a listening Unix socket in the srv
 * directory (ns_srvdir).  Each post has a watcher: a tiny process, forked
 * (twice, so it is nobody's child and never a zombie of the server) and
 * in a session of its own (a ^C to the server's terminal does not reach
 * it).  It blocks on a pipe whose write end only the server holds, and on
 * inotify of the srv directory:
 *	end of file on the pipe: the server is gone (kill -9 included): the
 *		watcher removes the post if it is still the same socket inode;
 *	the post removed or replaced: the watcher sends the server SIGTERM.
 * It holds nothing else: no fd of the server, not even the directory (it
 * would pin the mount), only paths.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/pidfd.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "9p.h"
#include "ns9.h"
#include "impl.h"

enum {
	Namemax = 128,	/* 9front devsrv: names of 128 bytes or more are refused */
};

/* ns_post binds here first; listings skip these names. */
#define TMPPREFIX ".ns9post."

static int
checkname(const char *name, const char *ctx)
{
	const unsigned char *p;

	if(name == NULL || name[0] == 0)
		return seterr(EINVAL, "%s: empty name", ctx);
	if(strlen(name) >= Namemax)
		return seterr(ENAMETOOLONG, "%s %.40s...: name too long (128 bytes or more)", ctx, name);
	if(strchr(name, '/') != NULL)
		return seterr(EINVAL, "%s %s: bad name: it holds '/'", ctx, name);
	if(strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return seterr(EINVAL, "%s %s: bad name", ctx, name);
	/* ns_post's own temporary names: another post would remove it as its own. */
	if(strncmp(name, TMPPREFIX, strlen(TMPPREFIX)) == 0)
		return seterr(EINVAL, "%s %s: bad name: it starts with %s", ctx, name, TMPPREFIX);
	/* One name a line in listings. */
	for(p = (const unsigned char *)name; *p; p++)
		if(*p < 0x20 || *p == 0x7f)
			return seterr(EINVAL, "%s: bad name: it holds a control character", ctx);
	return 0;
}

/*
 * Connect to the Unix socket at path, non-blocking when probe is set (a
 * live server that does not accept is still live).  Paths longer than
 * sun_path go through /proc/self/fd.  Returns the fd, or -1 with errno.
 */
static int
unixconnect(const char *path, int probe)
{
	struct sockaddr_un sun;
	int fd, pfd, e;

	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	pfd = -1;
	if(strlen(path) < sizeof sun.sun_path)
		strcpy(sun.sun_path, path);
	else{
		pfd = open(path, O_PATH | O_CLOEXEC);
		if(pfd < 0)
			return -1;
		snprintf(sun.sun_path, sizeof sun.sun_path, "/proc/self/fd/%d", pfd);
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | (probe ? SOCK_NONBLOCK : 0), 0);
	if(fd >= 0 && connect(fd, (struct sockaddr *)&sun, sizeof sun) < 0){
		e = errno;
		close(fd);
		errno = e;
		fd = -1;
		/* A full backlog: someone listens. */
		if(probe && (e == EAGAIN || e == EINPROGRESS))
			fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	}
	e = errno;
	if(pfd >= 0)
		close(pfd);
	errno = e;
	return fd;
}

/* Whether a socket at dir/name is live: 1 live (or not ours to judge), 0 stale, removed. */
static int
probe(int dirfd, const char *dir, const char *name)
{
	struct stat st, st2;
	char *path;
	int fd, live;

	if(fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return 0;
	if(!S_ISSOCK(st.st_mode))
		return 1;
	path = esmprint("%s/%s", dir, name);
	fd = unixconnect(path, 1);
	live = 1;
	if(fd >= 0)
		close(fd);
	else if(errno == ECONNREFUSED){
		live = 0;
		/* Remove it only if it is still the socket found stale. */
		if(fstatat(dirfd, name, &st2, AT_SYMLINK_NOFOLLOW) == 0 && st2.st_dev == st.st_dev &&
		   st2.st_ino == st.st_ino)
			unlinkat(dirfd, name, 0);
	}
	free(path);
	return live;
}

/* --- the watcher --- */

typedef struct Watch Watch;
struct Watch {
	int rfd;	/* the pipe's read end: end of file when the server is gone */
	int infd;	/* inotify on the srv directory, or -1 */
	int pidfd;	/* the server, to signal it without a pid race; or -1 */
	pid_t pid;
	const char *path;	/* of the post */
	const char *name;
	dev_t dev;	/* of the post's socket */
	ino_t ino;
	char *title;	/* the process's argument area, to rename it */
	size_t ntitle;
};

/* Whether path is still the socket we posted. */
static int
ours(const Watch *w)
{
	struct stat st;

	return lstat(w->path, &st) == 0 && st.st_dev == w->dev && st.st_ino == w->ino;
}

/* Move the fds we keep to 0, 1, 2 and close every other. */
static void
keepfds(Watch *w)
{
	int *fds[3] = {&w->rfd, &w->infd, &w->pidfd};
	int i, j, tmp;

	/* First above every target, then down into place. */
	for(i = 0; i < 3; i++)
		if(*fds[i] >= 0){
			tmp = fcntl(*fds[i], F_DUPFD, 3);
			*fds[i] = tmp;
		}
	for(i = 0, j = 0; i < 3; i++)
		if(*fds[i] >= 0){
			dup2(*fds[i], j);
			*fds[i] = j++;
		}
	close_range(j, ~0U, 0);
}

/*
 * The watcher's body.  It runs in a child forked from a process that may
 * have threads, so only async-signal-safe calls are made here: nothing
 * allocates.
 */
static void __attribute__((noreturn))
watcher(Watch *w)
{
	union {
		struct inotify_event ev;
		char buf[4096];
	} u;
	struct sigaction sa;
	struct pollfd pfd[2];
	const struct inotify_event *ev;
	char namebuf[Namemax];
	sigset_t none;
	ssize_t n;
	char *p;
	int sig, check;
	size_t i;

	keepfds(w);
	/* name may lie in the argument area, which the title below overwrites. */
	for(i = 0; w->name[i] != 0 && i < sizeof namebuf - 1; i++)
		namebuf[i] = w->name[i];
	namebuf[i] = 0;
	w->name = namebuf;
	if(chdir("/") < 0)
		_exit(1);
	memset(&sa, 0, sizeof sa);
	for(sig = 1; sig < NSIG; sig++){
		sa.sa_handler = sig == SIGINT || sig == SIGHUP || sig == SIGQUIT || sig == SIGPIPE ||
					sig == SIGTTIN || sig == SIGTTOU || sig == SIGTSTP
				? SIG_IGN
				: SIG_DFL;
		sigaction(sig, &sa, NULL);
	}
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	/* Show as "ns9-watch NAME" in ps, not as a second copy of the server. */
	if(w->title != NULL){
		memset(w->title, 0, w->ntitle);
		i = 0;
		for(p = "ns9-watch "; *p && i + 1 < w->ntitle; p++)
			w->title[i++] = *p;
		for(p = (char *)w->name; *p && i + 1 < w->ntitle; p++)
			w->title[i++] = *p;
	}
	prctl(PR_SET_NAME, "ns9-watch", 0, 0, 0);

	for(;;){
		pfd[0].fd = w->rfd;
		pfd[0].events = POLLIN;
		pfd[1].fd = w->infd;
		pfd[1].events = POLLIN;
		if(poll(pfd, w->infd >= 0 ? 2 : 1, -1) < 0)
			continue;
		if(pfd[0].revents != 0){
			n = read(w->rfd, u.buf, sizeof u.buf);
			if(n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN)){
				if(ours(w))
					unlink(w->path);
				_exit(0);
			}
			continue;
		}
		if(w->infd < 0 || pfd[1].revents == 0)
			continue;
		n = read(w->infd, u.buf, sizeof u.buf);
		if(n <= 0)
			continue;
		check = 0;
		for(p = u.buf; p < u.buf + n; p += sizeof *ev + ev->len){
			ev = (const struct inotify_event *)p;
			if(ev->mask & (IN_Q_OVERFLOW | IN_DELETE_SELF | IN_MOVE_SELF | IN_UNMOUNT | IN_IGNORED))
				check = 1;
			if(ev->len > 0 && strcmp(ev->name, w->name) == 0)
				check = 1;
			if(ev->mask & IN_IGNORED){
				/* The directory is gone: no more events will come. */
				close(w->infd);
				w->infd = -1;
			}
		}
		if(!check || ours(w))
			continue;
		/*
		 * Removed or replaced: stop the server, unless it is gone
		 * already.  Through the pidfd only, when there is one: if it
		 * says the server is gone (a child forked without exec keeps
		 * the post), the pid may be another process's by now.
		 */
		pfd[0].fd = w->rfd;
		pfd[0].events = POLLIN;
		if(poll(pfd, 1, 0) == 0){
			if(w->pidfd >= 0)
				pidfd_send_signal(w->pidfd, SIGTERM, NULL, 0);
			else
				kill(w->pid, SIGTERM);
		}
		_exit(0);
	}
}

/* The area of /proc/self/cmdline (arg_start, arg_end of /proc/self/stat). */
static void
argarea(Watch *w)
{
	char buf[2048], *p;
	unsigned long start, end;
	ssize_t n;
	int fd, i;

	fd = open("/proc/self/stat", O_RDONLY | O_CLOEXEC);
	if(fd < 0)
		return;
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if(n <= 0)
		return;
	buf[n] = 0;
	p = strrchr(buf, ')');
	if(p == NULL)
		return;
	/* After ") ": field 3 (state) onwards; arg_start is field 48. */
	p += 2;
	for(i = 3; i < 48 && p != NULL; i++){
		p = strchr(p, ' ');
		if(p != NULL)
			p++;
	}
	if(p == NULL || sscanf(p, "%lu %lu", &start, &end) != 2 || end <= start ||
	   end - start > 1 << 20)
		return;
	w->title = (char *)start;
	w->ntitle = end - start;
}

/* Start the watcher for the post at w->path.  Returns 0 or -1. */
static int
startwatch(Watch *w, const char *dir)
{
	int p[2], st;
	pid_t pid, r;

	if(pipe2(p, O_CLOEXEC) < 0)
		return syserr("post %s: pipe", w->name);
	w->rfd = p[0];
	w->pid = getpid();
	w->pidfd = pidfd_open(w->pid, 0);
	/* Without inotify (the per-user limit reached) a removal no longer stops the server. */
	w->infd = inotify_init1(IN_CLOEXEC);
	if(w->infd >= 0 && inotify_add_watch(w->infd, dir,
					     IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_CREATE |
						     IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR) < 0){
		close(w->infd);
		w->infd = -1;
	}
	argarea(w);
	pid = fork();
	if(pid == 0){
		setsid();
		if(fork() == 0)
			watcher(w);
		_exit(0);
	}
	st = 0;
	if(pid > 0)
		while((r = waitpid(pid, &st, 0)) < 0 && errno == EINTR)
			;
	close(p[0]);
	if(w->infd >= 0)
		close(w->infd);
	if(w->pidfd >= 0)
		close(w->pidfd);
	if(pid < 0){
		close(p[1]);
		return syserr("post %s: fork", w->name);
	}
	/*
	 * The write end stays open, unused, for the life of this process and
	 * of any child forked without exec (close-on-exec).
	 */
	return 0;
}

int
ns_post(const char *name, char **pathp)
{
	static int seq;
	struct stat st;
	Watch w;
	const char *dir;
	char *tmp, *tmppath, *path, *addr;
	int fd, dirfd, tries;

	if(pathp != NULL)
		*pathp = NULL;
	if(checkname(name, "post") < 0)
		return -1;
	dir = ns_srvdir();
	if(dir == NULL)
		return adderr("post %s", name);
	dirfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if(dirfd < 0)
		return syserrpath(dir, "post %s", name);
	fd = -1;
	path = esmprint("%s/%s", dir, name);
	tmp = esmprint(TMPPREFIX "%d.%d", (int)getpid(), __atomic_fetch_add(&seq, 1, __ATOMIC_RELAXED));
	tmppath = esmprint("%s/%s", dir, tmp);
	addr = esmprint("unix!%s", tmppath);

	/*
	 * Bind under a temporary name, set its mode, then rename it into
	 * place: the mode is 0600 before anyone can see the name, whatever
	 * the umask, and the umask (process-wide, threads) is never touched.
	 * The srv directory is 0700, so nobody else reaches the temporary
	 * name meanwhile.  RENAME_NOREPLACE keeps a live post of the same
	 * name that appears meanwhile.
	 */
	unlinkat(dirfd, tmp, 0);
	fd = p9_announce(addr);
	if(fd < 0){
		adderr("post %s", name);
		goto out;
	}
	if(fchmodat(dirfd, tmp, 0600, 0) < 0 || fstatat(dirfd, tmp, &st, AT_SYMLINK_NOFOLLOW) < 0){
		syserr("post %s", name);
		goto bad;
	}
	for(tries = 0;; tries++){
		if(renameat2(dirfd, tmp, dirfd, name, RENAME_NOREPLACE) == 0)
			break;
		if(errno != EEXIST || tries >= 5){
			syserr("post %s", name);
			goto bad;
		}
		if(probe(dirfd, dir, name)){
			perr(Eexist, "post %s", name);
			goto bad;
		}
	}

	memset(&w, 0, sizeof w);
	w.path = path;
	w.name = name;
	w.dev = st.st_dev;
	w.ino = st.st_ino;
	if(startwatch(&w, dir) < 0){
		unlinkat(dirfd, name, 0);
		goto bad;
	}
	if(pathp != NULL){
		*pathp = path;
		path = NULL;
	}
	goto out;
bad:
	unlinkat(dirfd, tmp, 0);
	close(fd);
	fd = -1;
out:
	close(dirfd);
	free(addr);
	free(tmppath);
	free(tmp);
	free(path);
	return fd;
}

/* Whether the directory holding path is the srv directory. */
static int
insrvdir(const char *path)
{
	struct stat a, b;
	const char *dir;
	char *d, *s;
	int r;

	dir = ns_srvdir();
	if(dir == NULL){
		clearerr9();
		return 0;
	}
	d = estrdup(path);
	s = strrchr(d, '/');
	if(s == NULL)
		r = 0;
	else{
		if(s == d)
			s++;
		*s = 0;
		r = stat(d, &a) == 0 && stat(dir, &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino;
	}
	free(d);
	return r;
}

/*
 * "fd!N": a connection this process already holds (ns9 cpuserve's to the
 * caller's name space), a stream socket; never in a helper acting in a
 * target, whose fds are its daemon's.
 */
static int
fddial(const char *srv)
{
	char *e;
	long n;
	int t, fd;
	socklen_t l;

	if(ns_intarget())
		return seterr(EPERM, "%s: not through ctl", srv);
	n = strtol(srv + 3, &e, 10);
	l = sizeof t;
	if(e == srv + 3 || *e != 0 || n < 0 || n > 1 << 20 ||
	   getsockopt((int)n, SOL_SOCKET, SO_TYPE, &t, &l) < 0 || t != SOCK_STREAM)
		return seterr(EINVAL, "%s: not a stream socket of this process", srv);
	fd = fcntl((int)n, F_DUPFD_CLOEXEC, 0);
	if(fd < 0)
		return syserr("%s", srv);
	return fd;
}

/*
 * A service the far side of a 9P mount posted (9pfuse shows its socket
 * as an empty regular file with the sticky bit, and ns9's exportfs
 * connects to it when it is opened, as Plan 9's exportfs opens a /srv
 * file): the open file is the connection.  Only such a file of one of
 * ns9's own 9P mounts is opened, so 9P is never written into a file.
 * Returns the fd; -1 with errno ECONNREFUSED for no such file.
 */
static int
servicefile(const char *srv, const char *path, const struct stat *st)
{
	struct stat st2;
	char buf[64], *fstype;
	int pfd, fd, ok;

	if(!S_ISREG(st->st_mode) || !(st->st_mode & S_ISVTX) || st->st_size != 0)
		return seterr(ECONNREFUSED, "%s: not a service (no socket)", srv);
	pfd = open(path, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if(pfd < 0)
		return syserrpath(srv, NULL);
	ok = 0;
	if(fstat(pfd, &st2) == 0 && st2.st_dev == st->st_dev && st2.st_ino == st->st_ino &&
	   ns_fdmount(pfd, &fstype, NULL, NULL, NULL) == 0){
		ok = strcmp(fstype, "fuse.9p") == 0 || strcmp(fstype, "fuse.9pC") == 0;
		free(fstype);
	}
	clearerr9();
	if(!ok){
		close(pfd);
		return seterr(ECONNREFUSED, "%s: not a service (no socket)", srv);
	}
	snprintf(buf, sizeof buf, "/proc/self/fd/%d", pfd);
	fd = open(buf, O_RDWR | O_CLOEXEC | O_NOCTTY);
	if(fd < 0)
		syserrpath(srv, NULL);
	close(pfd);
	return fd;
}

int
ns_srvdial(const char *srv)
{
	struct stat st, st2;
	const char *dir;
	char *path;
	int fd, tree, e;

	if(srv == NULL || srv[0] == 0)
		return seterr(EINVAL, "srv: empty name");
	if(strncmp(srv, "ssh!", 4) == 0)
		return ns_sshdial(srv);
	if(strncmp(srv, "fd!", 3) == 0)
		return fddial(srv);
	if(strchr(srv, '!') != NULL && srv[0] != '/' && srv[0] != '#')
		return p9_dial(srv);
	path = NULL;
	if(strncmp(srv, "/srv/", 5) == 0 && lstat(srv, &st) < 0){
		if(checkname(srv + 5, "srv") < 0){
			errno = ENOENT;
			return syserrpath(srv, NULL);
		}
		dir = ns_srvdir();
		if(dir == NULL)
			return adderr("%s", srv);
		path = esmprint("%s/%s", dir, srv + 5);
	}else if(srv[0] == '#'){
		if(ns_devresolve(srv, &path, &tree) < 0)
			return -1;
		if(tree >= 0){
			close(tree);
			return seterr(ECONNREFUSED, "%s: not a service", srv);
		}
	}else
		path = estrdup(srv);

	fd = -1;
	if(lstat(path, &st) < 0){
		syserrpath(srv, NULL);
		goto out;
	}
	if(!S_ISSOCK(st.st_mode)){
		fd = servicefile(srv, path, &st);
		goto out;
	}
	fd = unixconnect(path, 0);
	if(fd >= 0)
		goto out;
	e = errno;
	if(e != ECONNREFUSED){
		errno = e;
		syserrpath(srv, NULL);
		goto out;
	}
	if(insrvdir(path) && lstat(path, &st2) == 0 && st2.st_dev == st.st_dev && st2.st_ino == st.st_ino)
		unlink(path);
	seterr(ECONNREFUSED, "%s: service is gone (stale post)", srv);
out:
	free(path);
	return fd;
}

static int
cmpstr(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int
ns_srvlist(char ***namesp)
{
	struct dirent *de;
	struct stat st;
	const char *dir;
	char **v;
	DIR *d;
	int n, cap;

	*namesp = NULL;
	dir = ns_srvdir();
	if(dir == NULL)
		return -1;
	d = opendir(dir);
	if(d == NULL)
		return syserrpath(dir, "srv directory");
	n = 0;
	cap = 16;
	v = emalloc(cap * sizeof v[0]);
	while((de = readdir(d)) != NULL){
		if(strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0 ||
		   strncmp(de->d_name, TMPPREFIX, strlen(TMPPREFIX)) == 0)
			continue;
		if(fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISSOCK(st.st_mode))
			continue;
		if(!probe(dirfd(d), dir, de->d_name))
			continue;
		if(n + 1 >= cap){
			cap *= 2;
			v = erealloc(v, cap * sizeof v[0]);
		}
		v[n++] = estrdup(de->d_name);
	}
	closedir(d);
	v[n] = NULL;
	qsort(v, n, sizeof v[0], cmpstr);
	*namesp = v;
	return n;
}

void
ns_freelist(char **v)
{
	char **p;

	if(v == NULL)
		return;
	for(p = v; *p != NULL; p++)
		free(*p);
	free(v);
}

static int selffd = -1;
static int selferr;
static struct stat selfst;

static void
openself(void)
{
	selffd = open("/proc/self/exe", O_PATH | O_CLOEXEC);
	if(selffd < 0)
		selferr = errno;
	else if(fstat(selffd, &selfst) < 0){
		selferr = errno;
		close(selffd);
		selffd = -1;
	}
}

static int
isself(int fd)
{
	struct stat st;

	return fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_dev == selfst.st_dev &&
	       st.st_ino == selfst.st_ino;
}

int
ns_selfexe(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	int fd;

	pthread_once(&once, openself);
	if(selffd < 0){
		errno = selferr;
		return syserrpath("/proc/self/exe", "ns9 binary");
	}
	if(isself(selffd))
		return selffd;
	/*
	 * The number names another file: a helper acting for another user
	 * (ns_as) closes what it inherited.  Open the binary again (in the
	 * root it is in now) and take it only if it is the same file; the
	 * fd is the helper's, gone when it exits (selffd, shared with the
	 * server's memory, stays as it is).
	 */
	fd = open("/proc/self/exe", O_PATH | O_CLOEXEC);
	if(fd < 0)
		return syserrpath("/proc/self/exe", "ns9 binary");
	if(!isself(fd)){
		close(fd);
		return seterr(ENOENT, "ns9 binary: /proc/self/exe is not the running binary");
	}
	return fd;
}
