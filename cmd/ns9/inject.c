/*
 * inject.c: ns9 inject PID SRC DST: bind SRC from the caller's name space
 * onto DST in PID's (a private recursive clone, attached with move_mount).
 */
#include <stdio.h>
#include <stdlib.h>

#include "cmd.h"

int
cmdinject(int argc, char **argv)
{
	pid_t pid;

	if(argc != 4)
		return usage();
	if(pidarg(argv[1], &pid) < 0)
		return 2;
	if(ns_inject(pid, argv[2], argv[3]) < 0)
		return fail();
	return 0;
}
