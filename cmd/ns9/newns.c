/*
 * newns.c: namespace files.
 *	ns9 newns [-v] [-n nsfile] [cmd [arg...]]
 *	ns9 addns [-v] nsfile
 *	ns9 reroot [-v] newroot [nsfile]
 * newns builds a clean name space from nsfile (ns_newns) and runs cmd in
 * it (default $SHELL, else /bin/sh, else /bin/busybox sh); addns runs a
 * file against the caller's name space; reroot is newns over another
 * root, keeping the caller's terminal and standard streams (ANTS
 * rerootwin).  Each failing line is reported as "ns9: FILE:LINE: error";
 * the rest still run, and the exit status says a line failed.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cmd.h"

static void
report(const char *file, int line, const char *msg, int verbose, void *arg)
{
	if(verbose)
		fprintf(stderr, "%s:%d: %s\n", file, line, msg);
	else
		fprintf(stderr, "ns9: %s:%d: %s\n", file, line, msg);
}

/*
 * Flags, ARGBEGIN style: -v, and -n nsfile (or -nnsfile) where allowed;
 * returns the index of the first operand, -1 for usage.
 */
static int
flags(int argc, char **argv, int *fl, const char **nsfile)
{
	const char *a;
	int i;

	for(i = 1; i < argc && argv[i][0] == '-' && argv[i][1] != 0; i++){
		if(strcmp(argv[i], "--") == 0)
			return i + 1;
		for(a = argv[i] + 1; *a; a++)
			if(*a == 'v')
				*fl |= NS_FVERBOSE;
			else if(*a == 'n' && nsfile != NULL){
				if(a[1] != 0)
					*nsfile = a + 1;
				else if(i + 1 < argc)
					*nsfile = argv[++i];
				else
					return -1;
				break;
			}else
				return -1;
	}
	return i;
}

/*
 * Run cmd (NULL: the shell) in the name space made.  With every line
 * done, ns9 becomes cmd; otherwise cmd runs as a child and the exit
 * status is cmd's if it failed, else 1.
 */
static int
run(char **cmd, int failed)
{
	char *sh[3];
	pid_t pid;
	int st;

	if(cmd == NULL)
		cmd = defaultshell(sh);
	if(failed == 0)
		return execcmd(cmd, "exec");
	fflush(stderr);
	pid = fork();
	if(pid < 0){
		syserr("fork");
		return fail();
	}
	if(pid == 0)
		_exit(execcmd(cmd, "exec"));
	/* The child has the terminal's signals; ns9 only waits. */
	signal(SIGINT, SIG_IGN);
	signal(SIGQUIT, SIG_IGN);
	while(waitpid(pid, &st, 0) < 0)
		if(errno != EINTR){
			st = 1 << 8;
			break;
		}
	/*
	 * This process is in the name space it built, which may have no
	 * /proc: nothing that runs at exit may need one (a sanitizer's leak
	 * check does), so it ends here.
	 */
	fflush(NULL);
	if(WIFSIGNALED(st))
		_exit(128 + WTERMSIG(st));
	_exit(WEXITSTATUS(st) != 0 ? WEXITSTATUS(st) : 1);
}

int
cmdnewns(int argc, char **argv)
{
	const char *nsfile;
	int i, fl, failed;

	nsfile = NULL;
	fl = 0;
	if((i = flags(argc, argv, &fl, &nsfile)) < 0)
		return usage();
	if(ns_newns(nsfile, NULL, NULL, fl, report, NULL, &failed) < 0)
		return fail();
	return run(i < argc ? argv + i : NULL, failed);
}

int
cmdaddns(int argc, char **argv)
{
	int i, fl, n;

	fl = 0;
	if((i = flags(argc, argv, &fl, NULL)) < 0 || i != argc - 1)
		return usage();
	n = ns_runfile(argv[i], NULL, fl | NS_FNOSKIP, report, NULL);
	if(n < 0)
		return fail();
	return n == 0 ? 0 : 1;
}

int
cmdreroot(int argc, char **argv)
{
	int i, fl, failed;

	fl = 0;
	if((i = flags(argc, argv, &fl, NULL)) < 0 || i >= argc || argc - i > 2)
		return usage();
	if(ns_newns(i + 1 < argc ? argv[i + 1] : NULL, NULL, argv[i], fl, report, NULL, &failed) < 0)
		return fail();
	return run(NULL, failed);
}

/* ns9 rfork -N: newns with the default file, its lines reported. */
int
ns9cleanfork(void)
{
	int failed;

	return ns_newns(NULL, NULL, NULL, 0, report, NULL, &failed);
}
