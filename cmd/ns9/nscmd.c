/*
 * nscmd.c: ns9 bind, ns9 mount, ns9 unmount: the namespace commands run
 * against the caller's own name space.  The arguments go through the one
 * command parser (ns_parse), so they mean what they mean in a ctl write
 * or a namespace file.
 */
#include <stdio.h>

#include "cmd.h"

int
cmdnscmd(int argc, char **argv)
{
	NsCmd c;
	int r;

	if(ns_parse(&c, argc, argv) < 0){
		fprintf(stderr, "ns9: %s\n", errtext());
		return 2;
	}
	r = ns_apply(&c);
	ns_freecmd(&c);
	return r < 0 ? fail() : 0;
}
