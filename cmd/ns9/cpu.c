/*
 * cpu.c: ns9 cpu [-h [user@]host] [-n nsfile] [cmd [arg...]]: run cmd on
 * host (default $cpu) in a new name space built there from nsfile (default
 * /etc/ns9/namespace.cpu, else the default namespace file), with the
 * caller's name space at /mnt/term (Plan 9's cpu(1)).
 *
 * The caller's name space is served by ns9 exportfs, cpu's child, posted
 * in a private directory; ssh forwards a Unix socket on the far side to it (-R), so the
 * 9P of /mnt/term travels in the same ssh connection as the command's
 * standard streams.  ssh gives the terminal (a pty when the caller has
 * one and runs a shell), the window size, ^C and the exit status.  On the
 * far side, ns9 cpuserve connects to the forwarded socket, builds the
 * name space (a user namespace: no root needed), mounts the caller's on
 * /mnt/term, and runs cmd.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "9p.h"
#include "cmd.h"

enum { Maxwords = 32 };

static void
report(const char *file, int line, const char *msg, int verbose, void *arg)
{
	fprintf(stderr, "ns9: cpu: %s:%d: %s\n", file, line, msg);
}

int
cmdcpu(int argc, char **argv)
{
	char sock[4096], post[32], fwd[4200], *words, *p;
	char *av[Maxwords + 24];
	const char *host, *nsfile, *srvdir;
	unsigned char rnd[8];
	Buf cmd = {0};
	pid_t pid, srvpid = -1;
	int i, k, n, st, tty, rc;

	host = getenv("cpu");
	nsfile = NULL;
	for(i = 1; i < argc && argv[i][0] == '-' && argv[i][1] != 0; i++){
		if(strcmp(argv[i], "--") == 0){
			i++;
			break;
		}
		if(strcmp(argv[i], "-h") == 0 && i + 1 < argc)
			host = argv[++i];
		else if(strcmp(argv[i], "-n") == 0 && i + 1 < argc)
			nsfile = argv[++i];
		else
			return usage();
	}
	if(host == NULL || host[0] == 0){
		fprintf(stderr, "ns9: cpu: no host (-h host, or $cpu)\n");
		return usage();
	}
	if(!ns_sshhostok(host)){
		fprintf(stderr, "ns9: cpu: bad host '%s'\n", host);
		return usage();
	}
	/*
	 * The caller's name space, posted in its own srv directory (private)
	 * under a name nobody can guess; the far side's socket gets one too.
	 */
	if(getrandom(rnd, sizeof rnd, 0) != sizeof rnd){
		syserr("cpu: getrandom");
		return fail();
	}
	snprintf(post, sizeof post, "cpu.%02x%02x%02x%02x%02x%02x%02x%02x", rnd[0], rnd[1], rnd[2], rnd[3], rnd[4],
		 rnd[5], rnd[6], rnd[7]);
	srvdir = ns_srvdir();
	if(srvdir == NULL || snprintf(sock, sizeof sock, "%s/%s", srvdir, post) >= (int)sizeof sock)
		return fail();
	srvdir = estrdup(srvdir);
	rc = 1;
	/*
	 * The server is cpu's child, in the foreground, and ends with cpu
	 * however cpu ends (PR_SET_PDEATHSIG; its post goes with it); cpu
	 * waits for the post.
	 */
	srvpid = fork();
	if(srvpid < 0){
		syserr("cpu: fork");
		fail();
		goto out;
	}
	if(srvpid == 0){
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if(getppid() == 1)
			_exit(1);
		execl("/proc/self/exe", "ns9", "exportfs", "-f", "-r", "/", "-s", post, (char *)NULL);
		_exit(127);
	}
	for(k = 0; k < 250; k++){
		struct timespec ts = {0, 20 * 1000 * 1000};
		struct stat sst;

		if(stat(sock, &sst) == 0 && S_ISSOCK(sst.st_mode))
			break;
		if(waitpid(srvpid, &st, WNOHANG) == srvpid){
			srvpid = -1;
			break;
		}
		nanosleep(&ts, NULL);
	}
	if(srvpid < 0 || k == 250){
		fprintf(stderr, "ns9: cpu: could not serve this name space\n");
		goto out;
	}
	/* The far side's socket (sshd makes it, mode 0600): the same unguessable name. */
	snprintf(fwd, sizeof fwd, "/tmp/ns9%s.sock:%s", post, sock);
	n = ns_sshcmd(av, Maxwords, &words);
	/* A pty when the caller has a terminal and runs a shell, as ssh does. */
	tty = isatty(0) && isatty(1) && i >= argc;
	av[n++] = tty ? "-t" : "-T";
	av[n++] = "-o";
	av[n++] = "ExitOnForwardFailure=yes";
	av[n++] = "-R";
	av[n++] = fwd;
	av[n++] = "--";
	av[n++] = (char *)host;
	bufputs(&cmd, "exec ");
	ns_shquote(&cmd, ns_remotens9());
	bufputs(&cmd, " cpuserve -S ");
	ns_shquote(&cmd, srvdir);
	bufputs(&cmd, " -s ");
	p = estrdup(fwd);
	*strchr(p, ':') = 0;
	ns_shquote(&cmd, p);
	free(p);
	if(nsfile != NULL){
		bufputs(&cmd, " -n ");
		ns_shquote(&cmd, nsfile);
	}
	bufputs(&cmd, " --");
	for(; i < argc; i++){
		bufputc(&cmd, ' ');
		ns_shquote(&cmd, argv[i]);
	}
	av[n++] = cmd.s;
	av[n] = NULL;
	fflush(stderr);
	pid = fork();
	if(pid < 0){
		syserr("cpu: fork");
		fail();
		free(words);
		goto out;
	}
	if(pid == 0){
		/* ssh, and with it the far side, ends with cpu */
		prctl(PR_SET_PDEATHSIG, SIGHUP);
		execvp(av[0], av);
		fprintf(stderr, "ns9: cpu: %s: %s\n", av[0], strerror(errno));
		_exit(255);
	}
	/* ssh has the terminal's signals; the exit status is its (the command's). */
	signal(SIGINT, SIG_IGN);
	signal(SIGQUIT, SIG_IGN);
	while(waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	rc = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	free(words);
out:
	if(srvpid > 0){
		kill(srvpid, SIGTERM);
		while(waitpid(srvpid, &st, 0) < 0 && errno == EINTR)
			;
	}
	unlink(sock);
	free((char *)srvdir);
	buffree(&cmd);
	return rc;
}

/* The far side of cpu: ns9 cpuserve [-S srvdir] -s SOCK [-n nsfile] -- [cmd [arg...]]. */
int
cmdcpuserve(int argc, char **argv)
{
	struct timespec ts = {0, 20 * 1000 * 1000};
	const char *sock, *nsfile, *srvdir;
	char *sh[3], **cmd, srv[32], *path;
	int i, k, failed, termfd;

	sock = nsfile = srvdir = NULL;
	for(i = 1; i < argc && argv[i][0] == '-'; i++){
		if(strcmp(argv[i], "--") == 0){
			i++;
			break;
		}
		if(strcmp(argv[i], "-s") == 0 && i + 1 < argc)
			sock = argv[++i];
		else if(strcmp(argv[i], "-S") == 0 && i + 1 < argc)
			srvdir = argv[++i];
		else if(strcmp(argv[i], "-n") == 0 && i + 1 < argc)
			nsfile = argv[++i];
		else
			return usage();
	}
	if(sock == NULL)
		return usage();
	/* sshd makes the forwarded socket as the session starts: a bounded wait for it. */
	path = esmprint("unix!%s", sock);
	for(k = 0; (termfd = p9_dial(path)) < 0 && ++k < 500;)
		nanosleep(&ts, NULL);
	free(path);
	if(termfd < 0){
		adderr("cpuserve: the caller's name space");
		return fail();
	}
	unlink(sock);
	/* The cpu file, else the default one. */
	if(nsfile == NULL){
		struct stat st;

		nsfile = stat("/etc/ns9/namespace.cpu", &st) == 0 ? "/etc/ns9/namespace.cpu" : NULL;
	}
	if(ns_newns(nsfile, NULL, NULL, 0, report, NULL, &failed) < 0)
		return fail();
	/* Then the caller's name space on /mnt/term (the file gave the /dev it needs). */
	snprintf(srv, sizeof srv, "fd!%d", termfd);
	if(ns_mount(srv, "/mnt/term", 0, NULL) < 0)
		fail();
	else if(srvdir != NULL && srvdir[0] == '/' && strstr(srvdir, "/..") == NULL){
		/* the caller's srv directory: its posts are dialled through 9P (exportfs connects) */
		path = esmprint("/mnt/term%s", srvdir);
		if(access("/mnt/term/srv", F_OK) == 0 && ns_bind(path, "/mnt/term/srv", 0) < 0)
			fail();
		free(path);
	}
	close(termfd);
	cmd = i < argc ? argv + i : defaultshell(sh);
	return execcmd(cmd, "cpu: exec");
}
