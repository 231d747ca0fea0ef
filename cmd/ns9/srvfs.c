/* placeholder until srvfs is written */
#include "cmd.h"

int
cmdsrvfs(int argc, char **argv)
{
	return usage();
}
