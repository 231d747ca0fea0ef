/*
 * main.c: the ns9 command: one binary, a dispatch table of subcommands,
 * each in its own file and parsing its own flags (plan9port 9p.c).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"

const char *argv0 = "ns9";

static const Subcmd cmds[] = {
	{"bind", cmdnscmd, "bind [-abcC] new old"},
	{"mount", cmdnscmd, "mount [-abcC] srvname old [spec]"},
	{"unmount", cmdnscmd, "unmount [new] old"},
	{"import", cmdnscmd, "import [-abcC] [user@]host [remotepath] mountpoint"},
	{"ns", cmdns, "ns [-r] [pid]"},
	{"rfork", cmdrfork, "rfork [-n|-N] [-m] [cmd [arg...]]"},
	{"newns", cmdnewns, "newns [-v] [-n nsfile] [cmd [arg...]]"},
	{"addns", cmdaddns, "addns [-v] nsfile"},
	{"reroot", cmdreroot, "reroot [-v] newroot [nsfile]"},
	{"cpu", cmdcpu, "cpu [-h [user@]host] [-n nsfile] [cmd [arg...]]"},
	{"cpuserve", cmdcpuserve, "cpuserve [-S srvdir] -s socket [-n nsfile] -- [cmd [arg...]]"},
	{"ctl", cmdctl, "ctl [-n] pid [command ...]"},
	{"cross", cmdcross, "cross pid cmd [arg...]"},
	{"cpns", cmdcpns, "cpns [-n] model target"},
	{"inject", cmdinject, "inject pid src dst"},
	{"fs", cmdfs, "fs [-f] [mountpoint]"},
	{"srv", cmdsrv, "srv [-Df] [-e cmd | dialstring] [name]"},
	{"ramfs", cmdramfs, "ramfs [-Df] [-s name]"},
	{"exportfs", cmdexportfs, "exportfs [-DfR] [-V version] [-r root] [-s name]"},
	{"srvfs", cmdsrvfs, "srvfs [-DfR] name path"},
	{"9pfuse", cmd9pfuse, "9pfuse [-CD] [-a aname] [-u uname] [-n uid] [-V version] fusefd connfd statusfd"},
	{"unionfs", cmdunionfs, "unionfs [-D] -k cookie"},
};

int
fail(void)
{
	fprintf(stderr, "ns9: %s\n", errtext());
	return 1;
}

char **
defaultshell(char **v)
{
	v[0] = getenv("SHELL");
	v[1] = v[2] = NULL;
	if(v[0] != NULL && v[0][0] == '/' && access(v[0], X_OK) == 0)
		return v;
	if(access("/bin/sh", X_OK) == 0 || access("/bin/busybox", X_OK) < 0){
		v[0] = "/bin/sh";
		return v;
	}
	v[0] = "/bin/busybox";
	v[1] = "sh";
	return v;
}

int
execcmd(char **cmd, const char *ctx)
{
	execvp(cmd[0], cmd);
	syserrpath(cmd[0], "%s", ctx);
	fail();
	return errcode() == ENOENT ? 127 : 126;
}

int
pidarg(const char *s, pid_t *pid)
{
	char *end;
	long v;

	v = strtol(s, &end, 10);
	if(end == s || *end != 0 || v <= 0 || v > 0x7fffffff){
		fprintf(stderr, "ns9: %s: bad pid '%s'\n", argv0, s);
		return -1;
	}
	*pid = v;
	return 0;
}

int
usage(void)
{
	size_t i;

	for(i = 0; i < nelem(cmds); i++)
		if(strcmp(cmds[i].name, argv0) == 0){
			fprintf(stderr, "usage: ns9 %s\n", cmds[i].synopsis);
			return 2;
		}
	fprintf(stderr, "usage: ns9 command [args...]\ncommands:\n");
	for(i = 0; i < nelem(cmds); i++)
		fprintf(stderr, "\tns9 %s\n", cmds[i].synopsis);
	return 2;
}

int
main(int argc, char **argv)
{
	size_t i;

	if(argc < 2)
		return usage();
	if(strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "help") == 0){
		usage();
		return 0;
	}
	/* Before any subcommand may enter another name space (see ns_selfexe). */
	ns_selfexe();
	for(i = 0; i < nelem(cmds); i++)
		if(strcmp(cmds[i].name, argv[1]) == 0){
			argv0 = cmds[i].name;
			return cmds[i].fn(argc - 1, argv + 1);
		}
	fprintf(stderr, "ns9: unknown command '%s'\n", argv[1]);
	return usage();
}
