/*
 * ctl.c: ns9 ctl [-n] PID [command ...]: apply namespace commands to PID's
 * name space as if PID had issued them (ANTS's writable /proc/PID/ns).
 * The commands are the arguments (one command in argv form when the first
 * has no blank, else one command per argument) or, with none, one per line
 * of standard input.  The first failure stops; what applied before it
 * stays and is reported.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"

/* Parse one line into cmds; 0 ok (blank lines and comments are skipped), -1 bad. */
static int
addline(NsCmd **cmds, int *n, int *cap, const char *line, int lineno)
{
	NsCmd c;
	int r;

	r = ns_parseline(&c, line);
	if(r < 0)
		return adderr("line %d", lineno);
	if(r == 0)
		return 0;
	if(*n == *cap){
		*cap = *cap ? 2 * *cap : 16;
		*cmds = erealloc(*cmds, *cap * sizeof(NsCmd));
	}
	(*cmds)[(*n)++] = c;
	return 0;
}

int
cmdctl(int argc, char **argv)
{
	NsCmd *cmds;
	char *line, *s;
	size_t lcap;
	ssize_t len;
	int i, n, cap, applied, dry, r, lineno;
	pid_t pid;

	dry = 0;
	i = 1;
	if(i < argc && strcmp(argv[i], "-n") == 0){
		dry = 1;
		i++;
	}
	if(i >= argc)
		return usage();
	if(pidarg(argv[i], &pid) < 0)
		return 2;
	i++;
	cmds = NULL;
	n = cap = 0;
	if(i < argc && strpbrk(argv[i], " \t") == NULL){
		/* argv form: ns9 ctl PID bind -a /x /y */
		NsCmd c;

		if(ns_parse(&c, argc - i, argv + i) < 0){
			fprintf(stderr, "ns9: ctl: %s\n", errtext());
			return 2;
		}
		cmds = emalloc(sizeof(NsCmd));
		cmds[n++] = c;
	}else if(i < argc){
		for(; i < argc; i++)
			if(addline(&cmds, &n, &cap, argv[i], n + 1) < 0){
				fprintf(stderr, "ns9: ctl: %s\n", errtext());
				return 2;
			}
	}else{
		line = NULL;
		lcap = 0;
		lineno = 0;
		while((len = getline(&line, &lcap, stdin)) >= 0){
			lineno++;
			if(addline(&cmds, &n, &cap, line, lineno) < 0){
				fprintf(stderr, "ns9: ctl: %s\n", errtext());
				free(line);
				return 2;
			}
		}
		free(line);
	}
	if(dry){
		for(i = 0; i < n; i++){
			s = ns_fmtcmd(&cmds[i]);
			printf("%s\n", s);
			free(s);
		}
		r = 0;
	}else{
		r = ns_ctl(pid, cmds, n, &applied);
		if(r < 0){
			fprintf(stderr, "ns9: ctl %d: %s\n", (int)pid, errtext());
			if(n > 1)
				fprintf(stderr, "ns9: ctl %d: command %d of %d failed; %d applied\n", (int)pid,
					applied + 1, n, applied);
		}
	}
	for(i = 0; i < n; i++)
		ns_freecmd(&cmds[i]);
	free(cmds);
	return r < 0 ? 1 : 0;
}
