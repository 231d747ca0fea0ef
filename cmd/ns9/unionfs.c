/*
 * unionfs.c: ns9 unionfs, the union directory server (fs/union), an
 * internal subcommand: bind and mount -a/-b (lib/ns/union.c) start it
 * with the /dev/fuse fd of the union's mount and its control socket at
 * the fds union.h names.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ns9.h"
#include "union.h"
#include "cmd.h"
#include "../../fs/union/unionfs.h"

int
cmdunionfs(int argc, char **argv)
{
	unsigned long long cookie;
	char *end;
	int c, debug, havecookie;

	debug = 0;
	havecookie = 0;
	cookie = 0;
	while((c = getopt(argc, argv, "+Dk:")) != -1)
		switch(c){
		case 'D':
			debug = 1;
			break;
		case 'k':
			cookie = strtoull(optarg, &end, 16);
			if(end == optarg || *end != 0)
				return usage();
			havecookie = 1;
			break;
		default:
			return usage();
		}
	if(argc != optind || !havecookie)
		return usage();
	if(fcntl(UFD_FUSE, F_GETFD) < 0 || fcntl(UFD_CTL, F_GETFD) < 0 || fcntl(UFD_PEER, F_GETFD) < 0){
		fprintf(stderr, "ns9: unionfs: started without its fds %d, %d, %d\n", UFD_FUSE, UFD_CTL, UFD_PEER);
		return 2;
	}
	if(userve(UFD_FUSE, UFD_CTL, cookie, debug) < 0)
		return fail();
	return 0;
}
