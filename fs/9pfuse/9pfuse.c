/*
 * 9pfuse.c: serve a FUSE mount from a 9P server (plan9port 9pfuse for
 * the libfuse 3 lowlevel API), in 9P2000.L or 9P2000: the session, its
 * workers and its end.  Inodes are node.c's, open files file.c's, and
 * operations on names name.c's.
 *
 * Process structure: worker threads (Nworker, more while all are busy)
 * take FUSE requests (poll on /dev/fuse, non-blocking, and on a wake-up
 * eventfd) and make 9P calls through one shared client (lib/9p/client.c),
 * whose reader thread hands back the replies.  When the 9P server hangs up, the client fails every
 * call with EIO and the reader detaches this mount everywhere it is
 * attached in the name space and wakes the workers, which end.  When the
 * mount goes away, /dev/fuse reports it and the workers end.
 */
#define FUSE_USE_VERSION 314
#include <dirent.h>
#include <errno.h>
#include <sched.h>
#include <fcntl.h>
#include <fuse_lowlevel.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "9p.h"
#include "ns9.h"
#include "9pfuse.h"
#include "impl.h"

enum {
	Nworker = 2,	/* measured: 1 and 2 alike for serial stats, 2 best for parallel reads, 4 slower */
	Maxworker = 16,
};

/*
 * The workers.  When none is idle another starts, up to Maxworker: a
 * read that blocks in the 9P server (a pipe, a Plan 9 event file) holds
 * its worker, and must not hold the mount.
 */
static struct {
	pthread_mutex_t lk;
	pthread_t th[Maxworker];
	int n;	/* started */
	int idle;	/* waiting for a request */
} pool = {.lk = PTHREAD_MUTEX_INITIALIZER};

static void *worker(void *arg);

/* Start a worker; called with pool.lk held. */
static void
spawn(Fs *fs)
{
	if(pool.n < Maxworker && pthread_create(&pool.th[pool.n], NULL, worker, fs) == 0){
		pool.n++;
		pool.idle++;
	}
}

static int wakefd = -1;	/* eventfd: readable means stop (a signal handler writes it) */

static void
wake(void)
{
	uint64_t one = 1;
	ssize_t n;

	n = write(wakefd, &one, sizeof one);
	(void)n;
}

static void
fs_init(void *userdata, struct fuse_conn_info *conn)
{
	Fs *fs;

	fs = userdata;
	conn->max_write = Maxio;
	if(conn->capable & FUSE_CAP_ATOMIC_O_TRUNC)
		conn->want |= FUSE_CAP_ATOMIC_O_TRUNC;
	/* Lookups are answered one by one; data comes from our buffers, not pipes. */
	conn->want &= ~(FUSE_CAP_READDIRPLUS | FUSE_CAP_READDIRPLUS_AUTO | FUSE_CAP_SPLICE_READ |
			FUSE_CAP_SPLICE_WRITE | FUSE_CAP_SPLICE_MOVE);
	if(!fs->o->cache)
		conn->want &= ~(FUSE_CAP_AUTO_INVAL_DATA | FUSE_CAP_WRITEBACK_CACHE);
}

/* mountinfo escapes blanks, tabs, newlines and backslashes as \ooo. */
static void
unoctal(char *s)
{
	char *d;

	for(d = s; *s; s++, d++){
		if(s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' && s[3] >= '0' &&
		   s[3] <= '7'){
			*d = (s[1] - '0') << 6 | (s[2] - '0') << 3 | (s[3] - '0');
			s += 3;
		}else
			*d = *s;
	}
	*d = 0;
}

/*
 * Enter (this thread only) the mount namespace the mount is in, which
 * the server left (ns_isolate): through a process still in it.  None
 * left means the name space, and the mount with it, is gone.
 */
static int
enterns(Fs *fs)
{
	char path[300];
	struct dirent *de;
	struct stat st;
	DIR *d;
	int fd;

	if(fs->nsino == 0)
		return 0;	/* never left */
	d = opendir("/proc");
	if(d == NULL)
		return -1;
	fd = -1;
	while(fd < 0 && (de = readdir(d)) != NULL){
		if(de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		snprintf(path, sizeof path, "/proc/%s/ns/mnt", de->d_name);
		if(stat(path, &st) == 0 && st.st_dev == fs->nsdev && st.st_ino == fs->nsino)
			fd = open(path, O_RDONLY | O_CLOEXEC);
	}
	closedir(d);
	if(fd < 0)
		return -1;
	if(unshare(CLONE_FS) < 0 || setns(fd, CLONE_NEWNS) < 0){
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

/* Detach every mount of this connection from the name space, deepest first. */
static void
detach(Fs *fs)
{
	unsigned maj, min, m1, m2;
	char *line, *pt, **pts;
	size_t cap, npts;
	FILE *f;

	if(ns_fusedev(fs->fusefd, &maj, &min) < 0 || enterns(fs) < 0)
		return;
	f = fopen("/proc/thread-self/mountinfo", "re");
	if(f == NULL)
		return;
	line = NULL;
	cap = 0;
	pts = NULL;
	npts = 0;
	while(getline(&line, &cap, f) > 0){
		pt = NULL;
		if(sscanf(line, "%*d %*d %u:%u %*s %ms", &m1, &m2, &pt) == 3 && m1 == maj && m2 == min){
			unoctal(pt);
			pts = erealloc(pts, (npts + 1) * sizeof pts[0]);
			pts[npts++] = pt;
		}else
			free(pt);
	}
	free(line);
	fclose(f);
	while(npts > 0){
		npts--;
		umount2(pts[npts], MNT_DETACH);
		free(pts[npts]);
	}
	free(pts);
}

static void
onhangup(void *arg)
{
	Fs *fs;

	fs = arg;
	if(fs->ending)
		return;	/* our own shutdown at the end */
	fs->dead = 1;
	detach(fs);
	fuse_session_exit(fs->se);
	wake();
}

static void
onsignal(int sig)
{
	wake();
}

static void *
worker(void *arg)
{
	Fs *fs;
	struct fuse_buf fb;
	struct pollfd pfd[2];
	int n;

	fs = arg;
	memset(&fb, 0, sizeof fb);
	pfd[0].fd = fs->fusefd;
	pfd[0].events = POLLIN;
	pfd[1].fd = wakefd;
	pfd[1].events = POLLIN;
	while(!fuse_session_exited(fs->se)){
		if(poll(pfd, 2, -1) < 0){
			if(errno == EINTR)
				continue;
			break;
		}
		if(pfd[1].revents != 0)
			break;
		if(pfd[0].revents & (POLLERR | POLLHUP | POLLNVAL))
			break;	/* the mount is gone */
		n = fuse_session_receive_buf(fs->se, &fb);
		if(n == -EINTR || n == -EAGAIN)
			continue;	/* another worker took it */
		if(n <= 0)
			break;
		pthread_mutex_lock(&pool.lk);
		if(--pool.idle == 0)
			spawn(fs);
		pthread_mutex_unlock(&pool.lk);
		fuse_session_process_buf(fs->se, &fb);
		pthread_mutex_lock(&pool.lk);
		pool.idle++;
		pthread_mutex_unlock(&pool.lk);
	}
	pthread_mutex_lock(&pool.lk);
	pool.idle--;
	pthread_mutex_unlock(&pool.lk);
	free(fb.mem);
	pffreebufs();
	/* One ends, all end. */
	wake();
	return NULL;
}

static void
status(int fd, int ok)
{
	char line[ERRMAX + 32];
	char *p;
	int n;

	if(ok)
		n = snprintf(line, sizeof line, "0\n");
	else{
		n = snprintf(line, sizeof line, "%d %s\n", pferrno(), errtext());
		for(p = line; p < line + n - 1; p++)
			if(*p == '\n')
				*p = ' ';
	}
	if(n > (int)sizeof line - 1)
		n = sizeof line - 1;
	if(write(fd, line, n) < 0){
		/* the mounter has gone: it will not attach the mount */
	}
	close(fd);
}

static int
attach(Fs *fs)
{
	P9Fcall t, r;

	fs->root.ref = pfnewref(p9_client_newfid(fs->c));
	memset(&t, 0, sizeof t);
	t.type = P9_TATTACH;
	t.fid = fs->root.ref->fid;
	t.afid = P9_NOFID;
	t.uname = (char *)(fs->o->uname != NULL ? fs->o->uname : "");
	t.aname = (char *)(fs->o->aname != NULL ? fs->o->aname : "");
	t.n_uname = fs->o->n_uname;
	if(pfrpc(fs, &t, &r) < 0)
		return adderr("attach");
	fs->root.qid = r.qid;
	fs->root.nlookup = 1;
	p9_freefcall(&r);
	if(!(fs->root.qid.type & P9_QTDIR))
		return seterr(ENOTDIR, "attach: the root is not a directory");
	return 0;
}

int
p9fuse_serve(int fusefd, int connfd, int statusfd, const P9FuseOpt *o)
{
	static Fs fsmem;
	Fs *fs;
	struct fuse_args args = FUSE_ARGS_INIT(0, NULL);
	struct fuse_lowlevel_ops ops;
	struct sigaction sa;
	struct pollfd pw;
	pthread_t t;
	char mnt[32];
	int i, n, rv;
	size_t j;
	Node *nd, *next;

	fs = &fsmem;
	memset(fs, 0, sizeof *fs);
	fs->o = o;
	fs->fusefd = fusefd;
	fs->uid = getuid();
	fs->gid = getgid();
	fs->tmo = o->cache ? 1.0 : 0.0;
	pthread_mutex_init(&fs->lk, NULL);
	rv = -1;
	n = 0;
	wakefd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if(wakefd < 0){
		close(connfd);
		syserr("eventfd");
		status(statusfd, 0);
		close(fusefd);
		return -1;
	}
	{
		struct stat st;

		if(stat("/proc/self/ns/mnt", &st) == 0){
			fs->nsdev = st.st_dev;
			fs->nsino = st.st_ino;
		}
	}
	ns_isolate();
	{
		struct stat st;

		/* Did we leave?  If not, the mounts are in our own name space. */
		if(stat("/proc/self/ns/mnt", &st) == 0 && st.st_dev == fs->nsdev && st.st_ino == fs->nsino)
			fs->nsino = 0;
	}
	fs->connfd = fcntl(connfd, F_DUPFD_CLOEXEC, 0);
	fs->c = p9_client_new(connfd, Msize, o->dialect);
	if(fs->c == NULL){
		status(statusfd, 0);
		close(fusefd);
		goto out;
	}
	fs->dialect = p9_client_dialect(fs->c);
	fs->iomax = p9_client_msize(fs->c) - P9_IOHDRSZ;
	if(o->debug){
		/* The Tversion went before tracing could: say what it agreed. */
		fprintf(stderr, "9pfuse version %s msize %zu\n", p9_versionstr(fs->dialect), p9_client_msize(fs->c));
		p9_client_trace(fs->c, "9pfuse");
	}
	if(attach(fs) < 0){
		status(statusfd, 0);
		close(fusefd);
		goto out;
	}
	memset(&ops, 0, sizeof ops);
	ops.init = fs_init;
	pfnodeops(&ops);
	pffileops(&ops);
	pfnameops(&ops);
	fuse_opt_add_arg(&args, "ns9");
	fs->se = fuse_session_new(&args, &ops, sizeof ops, fs);
	fuse_opt_free_args(&args);
	snprintf(mnt, sizeof mnt, "/dev/fd/%d", fusefd);
	if(fs->se == NULL || fuse_session_mount(fs->se, mnt) < 0){
		seterr(EIO, "9pfuse: cannot start a FUSE session on fd %d", fusefd);
		status(statusfd, 0);
		close(fusefd);
		goto out;
	}
	/* Non-blocking, so that a worker that lost the race for a request returns to poll. */
	fcntl(fusefd, F_SETFL, fcntl(fusefd, F_GETFL) | O_NONBLOCK);
	fcntl(fusefd, F_SETFD, FD_CLOEXEC);

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = onsignal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);

	p9_client_onhangup(fs->c, onhangup, fs);
	status(statusfd, 1);
	pthread_mutex_lock(&pool.lk);
	for(i = 0; i < Nworker; i++)
		spawn(fs);
	pthread_mutex_unlock(&pool.lk);
	/*
	 * The end (the mount gone, a signal, a hangup) wakes us.  Calls still
	 * waiting for the 9P server (a read it holds) fail once the
	 * connection is shut down, so every worker returns.
	 */
	pw.fd = wakefd;
	pw.events = POLLIN;
	while(poll(&pw, 1, -1) < 0 && errno == EINTR)
		;
	fs->ending = 1;
	fuse_session_exit(fs->se);
	shutdown(fs->connfd, SHUT_RDWR);
	/* Workers may start workers: join until none is left that could. */
	for(i = 0;; i++){
		pthread_mutex_lock(&pool.lk);
		n = pool.n;
		if(i < n)
			t = pool.th[i];
		pthread_mutex_unlock(&pool.lk);
		if(i >= n)
			break;
		pthread_join(t, NULL);
	}
	rv = fs->dead ? seterr(EIO, "9pfuse: the 9P server hung up") : 0;
out:
	/* The connection just closes: the server drops every fid with it. */
	if(fs->se != NULL)
		fuse_session_destroy(fs->se);
	p9_client_free(fs->c);
	for(j = 0; j < Nhash; j++)
		for(nd = fs->hash[j]; nd != NULL; nd = next){
			next = nd->next;
			free(nd->ref);
			free(nd);
		}
	free(fs->root.ref);
	pffreehandles(fs);
	if(fs->connfd >= 0)
		close(fs->connfd);
	close(wakefd);
	wakefd = -1;
	return rv;
}
