/*
 * cross.c: ns9 cross PID cmd [arg...]: run cmd in PID's name space (its
 * mount namespace, root and cwd), as the caller (CMU's namespace
 * crossings).  Root keeps uid 0 (it needs no user namespace to enter);
 * a user entering a name space it owns joins that user namespace, where it
 * is mapped to itself.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "cmd.h"

int
cmdcross(int argc, char **argv)
{
	NsTarget t;
	pid_t pid;

	if(argc < 3)
		return usage();
	if(pidarg(argv[1], &pid) < 0)
		return 2;
	if(ns_target_open(&t, pid) < 0 || ns_target_enter(&t, 0) < 0){
		adderr("cross %d", (int)pid);
		return fail();
	}
	ns_target_close(&t);
	execvp(argv[2], argv + 2);
	syserrpath(argv[2], "cross: exec");
	fail();
	return errcode() == ENOENT ? 127 : 126;
}
