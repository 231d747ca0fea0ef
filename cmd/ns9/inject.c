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
	char *end;
	long pid;

	if(argc != 4)
		return usage();
	pid = strtol(argv[1], &end, 10);
	if(*end != 0 || pid <= 0 || pid > 0x7fffffff){
		fprintf(stderr, "ns9: inject: bad pid '%s'\n", argv[1]);
		return 2;
	}
	if(ns_inject((pid_t)pid, argv[2], argv[3]) < 0)
		return fail();
	return 0;
}
