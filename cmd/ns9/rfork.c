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
	char *sh[3];
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
	if(flags & NS_RFCNAMEG){
		if(ns9cleanfork() < 0 || ns_rfork(flags & ~NS_RFCNAMEG) < 0)
			return fail();
	}else if(ns_rfork(flags) < 0)
		return fail();
	/* the shell is found in the new name space, where it runs */
	cmd = i < argc ? argv + i : defaultshell(sh);
	return execcmd(cmd, "rfork: exec");
}
