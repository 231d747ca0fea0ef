/*
 * srvfs.c: ns9 srvfs [-DfR] name path: serve path, as the caller's name
 * space shows it, posted as name (mode 0600, as Plan 9's srvfs): exactly
 * ns9 exportfs -r path -s name.  The server inherits the caller's mount
 * namespace, so unions and mounts under path are served as they are.
 */
#include <string.h>

#include "cmd.h"

int
cmdsrvfs(int argc, char **argv)
{
	char *av[10];
	const char *a;
	int i, n, debug, fg, rdonly;

	debug = fg = rdonly = 0;
	for(i = 1; i < argc && argv[i][0] == '-' && argv[i][1] != 0; i++){
		if(strcmp(argv[i], "--") == 0){
			i++;
			break;
		}
		for(a = argv[i] + 1; *a != 0; a++){
			if(*a == 'D')
				debug = 1;
			else if(*a == 'f')
				fg = 1;
			else if(*a == 'R')
				rdonly = 1;
			else
				return usage();
		}
	}
	if(argc - i != 2 || argv[i][0] == 0 || argv[i + 1][0] == 0)
		return usage();
	n = 0;
	av[n++] = "exportfs";
	if(debug)
		av[n++] = "-D";
	if(fg)
		av[n++] = "-f";
	if(rdonly)
		av[n++] = "-R";
	av[n++] = "-r";
	av[n++] = argv[i + 1];
	av[n++] = "-s";
	av[n++] = argv[i];
	av[n] = NULL;
	return cmdexportfs(n, av);
}
