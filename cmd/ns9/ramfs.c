/*
 * ramfs.c: ns9 ramfs [-Df] [-s name]: the in-memory file server
 * (srv/ramfs.c).  Without -s it serves one conversation on stdin and
 * stdout.  With -s it posts NAME in the srv directory and serves every
 * connection there; it goes into the background once the post is live
 * (the parent exits 0 then, so a script may use the post at once), unless
 * -f.  The process: the main thread accepts (or reads stdin), one thread
 * per connection reads it, two workers per connection serve, and a
 * signal thread ends everything on SIGTERM or SIGINT.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "9p.h"
#include "../../srv/ramfs.h"

static sigset_t stopsigs;

/* SIGTERM or SIGINT: exit at once (the post's watcher removes the post). */
static void *
sigproc(void *arg)
{
	int sig;

	while(sigwait(&stopsigs, &sig) != 0)
		;
	_exit(0);
	return NULL;
}

/* Stop signals go to one thread; every later thread inherits the mask. */
static void
catchstop(void)
{
	pthread_t t;

	sigemptyset(&stopsigs);
	sigaddset(&stopsigs, SIGTERM);
	sigaddset(&stopsigs, SIGINT);
	/* a background job of sh starts with SIGINT ignored; ramfs means to stop on it */
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	pthread_sigmask(SIG_BLOCK, &stopsigs, NULL);
	if(pthread_create(&t, NULL, sigproc, NULL) == 0)
		pthread_detach(t);
}

/*
 * The stdio of a daemon: /dev/null, so that nobody waiting for the end of
 * a pipe it was started with waits forever (stderr stays for -D).
 */
static void
nullio(int debug)
{
	int fd;

	fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	if(fd < 0)
		return;
	dup2(fd, 0);
	dup2(fd, 1);
	if(!debug)
		dup2(fd, 2);
	if(fd > 2)
		close(fd);
}

/*
 * Post name and serve it.  statusfd, when not -1, hears "ok" once the
 * post is live, or the error text; it is closed either way.
 */
static int
postandserve(P9Srv *s, const char *name, int statusfd)
{
	char *path;
	int lfd, n;

	path = NULL;
	/*
	 * A copy: the post's watcher rewrites the argument area (its ps
	 * title), and name may lie there.
	 */
	name = estrdup(name);
	lfd = ns_post(name, &path);
	free((char *)name);
	if(lfd < 0){
		if(statusfd >= 0){
			n = write(statusfd, errtext(), strlen(errtext()));
			(void)n;
			close(statusfd);
		}
		return -1;
	}
	free(path);
	if(statusfd >= 0){
		n = write(statusfd, "ok", 2);
		(void)n;
		close(statusfd);
		nullio(s->debug);
	}
	catchstop();
	if(p9_listen(s, lfd) < 0){
		if(statusfd >= 0)	/* the parent has gone: say it here */
			fail();
		return -1;
	}
	return 0;
}

/* Fork: the child posts and serves; the parent waits for the post, then exits. */
static int
background(P9Srv *s, const char *name)
{
	char buf[ERRMAX];
	int p[2];
	ssize_t n;
	pid_t pid;

	if(pipe2(p, O_CLOEXEC) < 0)
		return syserr("ramfs: pipe");
	pid = fork();
	if(pid < 0){
		close(p[0]);
		close(p[1]);
		return syserr("ramfs: fork");
	}
	if(pid == 0){
		close(p[0]);
		/* a session of its own: the terminal's ^C and hangup are not for it */
		setsid();
		_exit(postandserve(s, name, p[1]) < 0 ? 1 : 0);
	}
	close(p[1]);
	while((n = read(p[0], buf, sizeof buf - 1)) < 0 && errno == EINTR)
		;
	close(p[0]);
	if(n == 2 && memcmp(buf, "ok", 2) == 0)
		return 0;
	if(n <= 0)
		return seterr(EIO, "ramfs: the server exited before posting %s", name);
	buf[n] = 0;
	return seterr(EIO, "%s", buf);
}

int
cmdramfs(int argc, char **argv)
{
	P9Srv s;
	struct passwd *pw;
	char uidname[32];
	const char *srvname, *owner;
	int i, j, fg, rc;

	memset(&s, 0, sizeof s);
	srvname = NULL;
	fg = 0;
	for(i = 1; i < argc && argv[i][0] == '-' && argv[i][1] != 0; i++){
		if(strcmp(argv[i], "--") == 0){
			i++;
			break;
		}
		for(j = 1; argv[i][j] != 0; j++){
			switch(argv[i][j]){
			case 'D':
				s.debug = 1;
				break;
			case 'f':
				fg = 1;
				break;
			case 's':
				if(argv[i][j + 1] != 0)
					srvname = &argv[i][j + 1];
				else if(i + 1 < argc)
					srvname = argv[++i];
				else
					return usage();
				goto Next;
			default:
				return usage();
			}
		}
	Next:;
	}
	if(i != argc)
		return usage();

	pw = getpwuid(geteuid());
	if(pw != NULL)
		owner = pw->pw_name;
	else{
		snprintf(uidname, sizeof uidname, "%u", (unsigned)geteuid());
		owner = uidname;
	}
	ramfs_init(&s, owner);
	s.nthread = 2;
	s.name = "ramfs";
	signal(SIGPIPE, SIG_IGN);

	if(srvname == NULL){
		catchstop();
		rc = p9_serve(&s, 0, 1);
		ramfs_free(&s);
		return rc < 0 ? fail() : 0;
	}
	if(fg)
		rc = postandserve(&s, srvname, -1);
	else
		rc = background(&s, srvname);
	ramfs_free(&s);
	return rc < 0 ? fail() : 0;
}
