/*
 * 9pfuse.c: ns9 9pfuse, the 9P mount server (fs/9pfuse), an internal
 * subcommand: mount (lib/ns/mount9p.c) starts it with the /dev/fuse fd of
 * a mount it has made, the connected 9P fd and a status pipe.
 */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "9p.h"
#include "cmd.h"
#include "../../fs/9pfuse/9pfuse.h"

static int
fdarg(const char *s, int *fd)
{
	char *end;
	long v;

	v = strtol(s, &end, 10);
	if(end == s || *end != 0 || v < 0 || v > 0x7fffffff || fcntl((int)v, F_GETFD) < 0){
		fprintf(stderr, "ns9: 9pfuse: bad file descriptor '%s'\n", s);
		return -1;
	}
	*fd = v;
	return 0;
}

int
cmd9pfuse(int argc, char **argv)
{
	P9FuseOpt o;
	struct passwd *pw;
	char *end, uidname[16];
	unsigned long v;
	int c, fusefd, connfd, statusfd, nset;

	memset(&o, 0, sizeof o);
	o.dialect = -1;
	o.n_uname = getuid();
	nset = 0;
	while((c = getopt(argc, argv, "+CDa:u:n:V:")) != -1)
		switch(c){
		case 'C':
			o.cache = 1;
			break;
		case 'D':
			o.debug = 1;
			break;
		case 'a':
			o.aname = optarg;
			break;
		case 'u':
			o.uname = optarg;
			break;
		case 'n':
			v = strtoul(optarg, &end, 10);
			if(end == optarg || *end != 0 || v > 0xffffffffUL)
				return usage();
			o.n_uname = v;
			nset = 1;
			break;
		case 'V':
			o.dialect = p9_dialect(optarg);
			if(o.dialect < 0 || o.dialect == P9_9P2000U){
				fprintf(stderr, "ns9: 9pfuse: unknown version '%s'\n", optarg);
				return 2;
			}
			break;
		default:
			return usage();
		}
	if(argc - optind != 3)
		return usage();
	if(fdarg(argv[optind], &fusefd) < 0 || fdarg(argv[optind + 1], &connfd) < 0 ||
	   fdarg(argv[optind + 2], &statusfd) < 0)
		return 2;
	if(o.uname == NULL){
		pw = getpwuid(nset ? o.n_uname : getuid());
		if(pw != NULL)
			o.uname = pw->pw_name;
		else{
			snprintf(uidname, sizeof uidname, "%u", (unsigned)(nset ? o.n_uname : getuid()));
			o.uname = uidname;
		}
	}
	if(p9fuse_serve(fusefd, connfd, statusfd, &o) < 0)
		return fail();
	return 0;
}
