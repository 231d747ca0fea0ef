/*
 * cmd.h: what the subcommands of the ns9 tool share.  Each
 * subcommand parses its own flags and returns the exit status: 0 ok,
 * 1 failure, 2 usage.
 */
#ifndef NS9_CMDH
#define NS9_CMDH

#include "ns9.h"

typedef struct Subcmd Subcmd;
struct Subcmd {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *synopsis;
};

int cmdnscmd(int argc, char **argv);	/* bind, mount, unmount */
int cmdns(int argc, char **argv);
int cmdrfork(int argc, char **argv);
int cmdnewns(int argc, char **argv);
int cmdaddns(int argc, char **argv);
int cmdreroot(int argc, char **argv);
int cmdcpu(int argc, char **argv);
int cmdcpuserve(int argc, char **argv);	/* internal: the far side of cpu */
/* rfork -N: a clean name space from the default file, failing lines reported (newns.c). */
int ns9cleanfork(void);
int cmdctl(int argc, char **argv);
int cmdcross(int argc, char **argv);
int cmdinject(int argc, char **argv);
int cmdcpns(int argc, char **argv);
int cmdfs(int argc, char **argv);
int cmdsrv(int argc, char **argv);
int cmdramfs(int argc, char **argv);
int cmdexportfs(int argc, char **argv);
int cmdsrvfs(int argc, char **argv);
int cmd9pfuse(int argc, char **argv);	/* internal: started by mount */
int cmdunionfs(int argc, char **argv);	/* internal: started by bind and mount -a/-b */

/* Print "ns9: <error text>" on stderr; returns 1. */
int fail(void);
/*
 * The command run when none is given, in the name space it will run in:
 * $SHELL if it is an absolute path that can run, else /bin/sh, else
 * busybox's sh.  v has three slots; returns v.
 */
char **defaultshell(char **v);
/* execvp cmd; if that fails, print why (ctx first) and return 127 (not found) or 126. */
int execcmd(char **cmd, const char *ctx);
/* Parse a pid argument; -1 after printing "ns9: CMD: bad pid 'S'". */
int pidarg(const char *s, pid_t *pid);
/* Print the usage line of the running subcommand; returns 2. */
int usage(void);

extern const char *argv0;	/* the subcommand's name */

#endif
