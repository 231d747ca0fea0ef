/*
 * fs.c: ns9 fs [-f] [mountpoint]: serve the control file system (ns9fs).
 * The default mount point is /run/ns9/proc for root (open to every user,
 * who may still change only what the kernel lets it) and
 * $XDG_RUNTIME_DIR/ns9/proc for a user.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd.h"
#include "../../fs/ctl/ns9fs.h"

int
cmdfs(int argc, char **argv)
{
	char def[4096];
	const char *mp, *xdg;
	int i, fg;

	fg = 0;
	for(i = 1; i < argc && argv[i][0] == '-'; i++){
		if(strcmp(argv[i], "-f") == 0)
			fg = 1;
		else
			return usage();
	}
	if(argc - i > 1)
		return usage();
	if(argc - i == 1)
		mp = argv[i];
	else{
		if(geteuid() == 0)
			snprintf(def, sizeof def, "/run/ns9");
		else{
			xdg = getenv("XDG_RUNTIME_DIR");
			if(xdg == NULL || xdg[0] != '/'){
				fprintf(stderr, "ns9: fs: no $XDG_RUNTIME_DIR; name a mount point\n");
				return 1;
			}
			snprintf(def, sizeof def, "%s/ns9", xdg);
		}
		if((mkdir(def, 0755) < 0 && errno != EEXIST) ||
		   (strlen(def) + 6 < sizeof def && (strcat(def, "/proc"), mkdir(def, 0755) < 0) &&
		    errno != EEXIST)){
			syserrpath(def, "fs");
			return fail();
		}
		mp = def;
	}
	if(ns9fs_serve(mp, fg, geteuid() == 0) < 0)
		return fail();
	return 0;
}
