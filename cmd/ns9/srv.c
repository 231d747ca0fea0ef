/*
 * srv.c: ns9 srv.
 *	ns9 srv				list the live posts, one name a line
 *	ns9 srv [-Df] dialstring [name]	dial a 9P server and post it as name
 *	ns9 srv [-Df] -e cmd name	run cmd (sh -c) speaking 9P on its stdin/stdout
 * The connection is negotiated once (9P2000.L, else 9P2000) and every
 * client of the post is multiplexed onto it (srvmux.c).  Processes: unless
 * -f, ns9 forks at once; the child dials, negotiates and posts, then tells
 * the parent, which exits 0 only once the post is live.  The child is the
 * server for the rest of its life (it is what ns_post's watcher stops when
 * the post is removed) and exits when the server hangs up.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "9p.h"
#include "cmd.h"
#include "srvmux.h"

static int
list(void)
{
	char **v;
	int i, n;

	n = ns_srvlist(&v);
	if(n < 0)
		return fail();
	for(i = 0; i < n; i++)
		printf("%s\n", v[i]);
	ns_freelist(v);
	return fflush(stdout) == 0 ? 0 : 1;
}

/* Run cmd with one end of a socketpair on its stdin and stdout; the other end is returned. */
static int
spawn(const char *cmd)
{
	int sv[2];
	pid_t pid;

	if(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return syserr("srv -e: socketpair");
	pid = fork();
	if(pid < 0){
		close(sv[0]);
		close(sv[1]);
		return syserr("srv -e: fork");
	}
	if(pid == 0){
		signal(SIGPIPE, SIG_DFL);
		if(dup2(sv[1], 0) < 0 || dup2(sv[1], 1) < 0)
			_exit(127);
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	close(sv[1]);
	return sv[0];
}

/* The default name: the host of tcp!host!port, else the last element of the path. */
static char *
defname(const char *addr)
{
	const char *p, *q;

	if(strncmp(addr, "tcp!", 4) == 0 || strncmp(addr, "net!", 4) == 0){
		p = addr + 4;
		q = strchr(p, '!');
		return q != NULL ? strndup(p, q - p) : estrdup(p);
	}
	if(strncmp(addr, "unix!", 5) == 0)
		addr += 5;
	p = strrchr(addr, '/');
	return estrdup(p != NULL ? p + 1 : addr);
}

/* Tell the waiting parent: "" is success, else the error text. */
static void
report(int fd, const char *text)
{
	size_t n;

	if(fd < 0)
		return;
	n = strlen(text);
	/* A parent that is gone hears nothing, and needs to. */
	(void)!write(fd, text, n);
	close(fd);
}

/* The parent of -f-less srv: exit as the child reports. */
static int
waitchild(int fd, pid_t pid)
{
	char buf[ERRMAX + 16];
	ssize_t n, k;
	int st;

	n = 0;
	while(n < (ssize_t)sizeof buf - 1 && (k = read(fd, buf + n, sizeof buf - 1 - n)) != 0){
		if(k < 0 && errno == EINTR)
			continue;
		if(k < 0)
			break;
		n += k;
	}
	buf[n] = 0;
	close(fd);
	if(n > 1 && strcmp(buf, "ok") == 0)
		return 0;
	if(n == 0){
		/* Died without a word: its status says why. */
		waitpid(pid, &st, 0);
		fprintf(stderr, "ns9: srv: the server exited before posting\n");
		return 1;
	}
	waitpid(pid, &st, 0);
	fprintf(stderr, "ns9: %s\n", buf);
	return 1;
}

int
cmdsrv(int argc, char **argv)
{
	const char *cmd, *addr;
	char *name, *path;
	int i, debug, fg, ufd, lfd, dialect, status[2], r, devnull;
	size_t msize;
	pid_t pid;

	debug = fg = 0;
	cmd = NULL;
	for(i = 1; i < argc && argv[i][0] == '-' && argv[i][1] != 0; i++){
		if(strcmp(argv[i], "--") == 0){
			i++;
			break;
		}
		if(strcmp(argv[i], "-e") == 0){
			if(++i >= argc)
				return usage();
			cmd = argv[i];
			continue;
		}
		for(addr = argv[i] + 1; *addr; addr++)
			switch(*addr){
			case 'D':
				debug = 1;
				break;
			case 'f':
				fg = 1;
				break;
			default:
				return usage();
			}
	}
	argc -= i;
	argv += i;
	if(argc == 0 && cmd == NULL && !debug && !fg)
		return list();
	if(cmd != NULL ? argc != 1 : argc < 1 || argc > 2)
		return usage();
	addr = cmd != NULL ? NULL : argv[0];
	name = estrdup(cmd != NULL ? argv[0] : argc == 2 ? argv[1] : "");
	if(name[0] == 0){
		free(name);
		name = defname(addr);
	}

	status[0] = status[1] = -1;
	if(!fg){
		if(pipe2(status, O_CLOEXEC) < 0){
			syserr("srv: pipe");
			free(name);
			return fail();
		}
		pid = fork();
		if(pid < 0){
			syserr("srv: fork");
			free(name);
			return fail();
		}
		if(pid > 0){
			close(status[1]);
			free(name);
			return waitchild(status[0], pid);
		}
		close(status[0]);
		setsid();
	}
	signal(SIGPIPE, SIG_IGN);
	ufd = cmd != NULL ? spawn(cmd) : p9_dial(addr);
	if(ufd < 0)
		goto bad;
	if(srvversion(ufd, P9_SRVMSIZE, &dialect, &msize) < 0){
		adderr("srv %s", cmd != NULL ? cmd : addr);
		goto bad;
	}
	lfd = ns_post(name, &path);
	if(lfd < 0)
		goto bad;
	if(debug)
		fprintf(stderr, "srv: %s posted as %s: %s, msize %zu\n", cmd != NULL ? cmd : addr, path,
			p9_versionstr(dialect), msize);
	free(path);
	if(!fg){
		devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
		if(devnull >= 0){
			dup2(devnull, 0);
			dup2(devnull, 1);
			if(!debug)
				dup2(devnull, 2);
			close(devnull);
		}
		(void)!chdir("/");
		report(status[1], "ok");
	}
	r = srvmux(ufd, lfd, dialect, msize, debug);
	close(lfd);
	close(ufd);
	free(name);
	if(r < 0 && fg)
		return fail();
	return r < 0 ? 1 : 0;
bad:
	free(name);
	if(!fg){
		report(status[1], errtext());
		_exit(1);
	}
	return fail();
}
