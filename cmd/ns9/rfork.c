/*
 * rfork.c: ns9 rfork [-n|-N] [-m] [cmd [arg...]]: run cmd (default
 * $SHELL, else /bin/sh) in a new name space.  ns9 becomes cmd (execvp), so
 * cmd's exit status is ns9's.  With no flag at all, -n is meant (rc's
 * rfork default includes n); -m alone restricts without a new name space.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"

int
cmdrfork(int argc, char **argv)
{
	char *sh[2];
	char **cmd;
	const char *a;
	int i, flags;

	flags = 0;
	for(i = 1; i < argc && argv[i][0] == '-' && argv[i][1] != 0; i++){
		if(strcmp(argv[i], "--") == 0){
			i++;
			break;
		}
		for(a = argv[i] + 1; *a; a++)
			switch(*a){
			case 'n':
				flags |= NS_RFNAMEG;
				break;
			case 'N':
				flags |= NS_RFCNAMEG;
				break;
			case 'm':
				flags |= NS_RFNOMNT;
				break;
			default:
				return usage();
			}
	}
	if(flags == 0)
		flags = NS_RFNAMEG;
	if((flags & NS_RFNAMEG) && (flags & NS_RFCNAMEG))
		return usage();
	if(i < argc)
		cmd = argv + i;
	else{
		sh[0] = getenv("SHELL");
		if(sh[0] == NULL || sh[0][0] == 0)
			sh[0] = "/bin/sh";
		sh[1] = NULL;
		cmd = sh;
	}
	if(flags & NS_RFCNAMEG){
		if(ns9cleanfork() < 0 || ns_rfork(flags & ~NS_RFCNAMEG) < 0)
			return fail();
	}else if(ns_rfork(flags) < 0)
		return fail();
	return execcmd(cmd, "rfork: exec");
}
