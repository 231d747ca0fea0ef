/*
 * newnssec: probes for tests/integration/newnssec.sh (the security of
 * namespace files, clean name spaces and their devices).
 *	newnssec tmpfs SOURCE DIR	mount a tmpfs whose source is SOURCE on
 *					DIR; prints "ok" or the errno name
 *	newnssec nodump SECS		make this process not dumpable (its
 *					/proc files become root's), print
 *					"ready", then sleep SECS
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <unistd.h>

int
main(int argc, char **argv)
{
	if(argc == 4 && strcmp(argv[1], "tmpfs") == 0){
		if(mount(argv[2], argv[3], "tmpfs", 0, "mode=0755") < 0)
			printf("%s\n", strerrorname_np(errno));
		else
			printf("ok\n");
		return 0;
	}
	if(argc == 3 && strcmp(argv[1], "nodump") == 0){
		if(prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0){
			printf("%s\n", strerrorname_np(errno));
			return 1;
		}
		printf("ready\n");
		fflush(stdout);
		sleep(atoi(argv[2]));
		return 0;
	}
	fprintf(stderr, "usage: newnssec tmpfs SOURCE DIR | nodump SECS\n");
	return 2;
}
