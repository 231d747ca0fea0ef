/*
 * exportfs.c: ns9 exportfs [-DfR] [-V version] [-r root] [-s name]: serve
 * the tree at root (default /) over 9P, on stdin/stdout (for ssh or a
 * pipe) until end of file, or posted in the srv directory as name.
 *
 * Posted, the command forks: the child starts a session of its own,
 * posts (ns_post), tells the parent through a pipe that the post is live
 * or why it is not, and serves every connection (p9_listen, a thread
 * each); the parent exits then (with -f nothing forks).  SIGTERM, SIGINT
 * and SIGHUP are taken by one thread, which removes the post (if it is
 * still ours) and exits; ns_post's watcher removes it after any other
 * death, and stops the server when someone removes the post.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd.h"
#include "9p.h"
#include "../../srv/exportfs.h"

enum {
	Nthread = 4,	/* workers per conversation */
};

static sigset_t stopsigs;
static char *postpath;
static struct stat postst;

/* Remove the post if it is still the socket we posted. */
static void
unpost(void)
{
	struct stat st;

	if(postpath != NULL && stat(postpath, &st) == 0 && st.st_dev == postst.st_dev &&
	   st.st_ino == postst.st_ino)
		unlink(postpath);
}

static void *
sigwaiter(void *arg)
{
	int sig;

	while(sigwait(&stopsigs, &sig) != 0)
		;
	unpost();
	_exit(0);
}

/* Tell the waiting parent: "ok", or the error text. */
static void
report(int statusfd, const char *msg)
{
	size_t n;

	if(statusfd < 0){
		if(msg != NULL)
			fprintf(stderr, "ns9: %s\n", msg);
		return;
	}
	if(msg == NULL)
		msg = "ok";
	n = strlen(msg);
	if(write(statusfd, msg, n) != (ssize_t)n){
		/* the parent is gone: nobody is left to tell */
	}
	close(statusfd);
}

/* Post as name and serve; statusfd: the parent's pipe, or -1 in the foreground. */
static int
serveposted(P9Srv *s, const char *name, int statusfd)
{
	pthread_t t;
	int lfd, nfd;

	if(statusfd >= 0)
		setsid();
	/* Before any thread: every thread but the waiter blocks the stop signals. */
	pthread_sigmask(SIG_BLOCK, &stopsigs, NULL);
	lfd = ns_post(name, &postpath);
	if(lfd < 0){
		adderr("exportfs");
		report(statusfd, errtext());
		return 1;
	}
	if(stat(postpath, &postst) < 0 || pthread_create(&t, NULL, sigwaiter, NULL) != 0){
		syserr("exportfs: post %s", name);
		unpost();
		report(statusfd, errtext());
		return 1;
	}
	if(statusfd >= 0){
		if(chdir("/") < 0){
			/* no matter: the tree is held by its fd; a cwd would only pin a mount */
		}
		nfd = open("/dev/null", O_RDWR | O_CLOEXEC);
		if(nfd >= 0){
			dup2(nfd, 0);
			dup2(nfd, 1);
			if(!s->debug)
				dup2(nfd, 2);
			close(nfd);
		}
		report(statusfd, NULL);
	}
	p9_listen(s, lfd);
	unpost();
	if(statusfd < 0)
		fail();
	return 1;
}

/* Fork, post in the child, wait for its word. */
static int
posted(P9Srv *s, const char *name, int fg)
{
	char msg[ERRMAX + 1];
	size_t n;
	ssize_t m;
	int p[2], rc;
	pid_t pid;

	if(fg){
		rc = serveposted(s, name, -1);
		exportfs_free(s);
		return rc;
	}
	if(pipe2(p, O_CLOEXEC) < 0){
		syserr("exportfs: pipe");
		exportfs_free(s);
		return fail();
	}
	fflush(stderr);
	pid = fork();
	if(pid < 0){
		syserr("exportfs: fork");
		close(p[0]);
		close(p[1]);
		exportfs_free(s);
		return fail();
	}
	if(pid == 0){
		close(p[0]);
		_exit(serveposted(s, name, p[1]));
	}
	close(p[1]);
	/* The child serves; this copy of the tree's state is not needed here. */
	exportfs_free(s);
	n = 0;
	while(n < sizeof msg - 1 && (m = read(p[0], msg + n, sizeof msg - 1 - n)) != 0){
		if(m < 0){
			if(errno == EINTR)
				continue;
			break;
		}
		n += m;
	}
	msg[n] = 0;
	close(p[0]);
	if(strcmp(msg, "ok") == 0)
		return 0;
	if(n == 0)
		fprintf(stderr, "ns9: exportfs: the server exited before posting %s\n", name);
	else
		fprintf(stderr, "ns9: %s\n", msg);
	return 1;
}

int
cmdexportfs(int argc, char **argv)
{
	const char *root, *post, *version, *val;
	P9Srv s;
	char *a, c;
	int i, debug, fg, rdonly, d, rc;

	root = "/";
	post = version = NULL;
	debug = fg = rdonly = 0;
	for(i = 1; i < argc && argv[i][0] == '-' && argv[i][1] != 0; i++){
		if(strcmp(argv[i], "--") == 0){
			i++;
			break;
		}
		for(a = argv[i] + 1; *a != 0; a++){
			c = *a;
			if(c == 'D')
				debug = 1;
			else if(c == 'f')
				fg = 1;
			else if(c == 'R')
				rdonly = 1;
			else if(c == 'V' || c == 'r' || c == 's'){
				if(a[1] != 0)
					val = a + 1;
				else if(i + 1 < argc)
					val = argv[++i];
				else
					return usage();
				if(c == 'V')
					version = val;
				else if(c == 'r')
					root = val;
				else
					post = val;
				break;
			}else
				return usage();
		}
	}
	if(i != argc)
		return usage();
	memset(&s, 0, sizeof s);
	if(version != NULL){
		d = p9_dialect(version);
		if(d < 0){
			fprintf(stderr, "ns9: exportfs: unknown 9P version '%s' (9P2000, 9P2000.u, 9P2000.L)\n",
				version);
			return 2;
		}
		s.dialects = 1 << d;
	}
	if(root[0] == 0){
		fprintf(stderr, "ns9: exportfs: empty root\n");
		return 2;
	}
	if(exportfs_init(&s, root, rdonly ? EXPORTFS_RDONLY : 0) < 0)
		return fail();
	s.nthread = Nthread;
	s.quick = 1;
	s.debug = debug;
	s.name = "exportfs";
	/* Modes come from the client (9P2000.L: already masked by its umask) or Plan 9's rules. */
	umask(0);
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&stopsigs);
	sigaddset(&stopsigs, SIGTERM);
	sigaddset(&stopsigs, SIGINT);
	sigaddset(&stopsigs, SIGHUP);
	if(post == NULL){
		rc = p9_serve(&s, 0, 1);
		exportfs_free(&s);
		return rc < 0 ? fail() : 0;
	}
	return posted(&s, post, fg);
}
