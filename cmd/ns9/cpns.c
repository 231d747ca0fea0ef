/*
 * cpns.c: ns9 cpns [-n] MODEL TARGET: make TARGET's name space match
 * MODEL's (ANTS cpns).  Each command of the plan is applied on its own, so
 * one that fails (reported) does not stop the rest; the exit status is 1
 * if any failed.  -n prints the plan.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"

int
cmdcpns(int argc, char **argv)
{
	NsCmd *cmd;
	pid_t model, target;
	int i, n, dry, bad, applied;
	char *s;

	dry = 0;
	i = 1;
	if(i < argc && strcmp(argv[i], "-n") == 0){
		dry = 1;
		i++;
	}
	if(argc - i != 2)
		return usage();
	if(pidarg(argv[i], &model) < 0 || pidarg(argv[i + 1], &target) < 0)
		return 2;
	if(ns_cpnsplan(model, target, &cmd, &n) < 0)
		return fail();
	bad = 0;
	for(i = 0; i < n; i++){
		s = ns_fmtcmd(&cmd[i]);
		if(dry)
			printf("%s\n", s);
		else if(ns_ctl(target, &cmd[i], 1, &applied) < 0){
			fprintf(stderr, "ns9: cpns: %s\n", errtext());
			bad++;
		}
		free(s);
		ns_freecmd(&cmd[i]);
	}
	free(cmd);
	return bad ? 1 : 0;
}
