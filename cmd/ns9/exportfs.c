/* placeholder until exportfs is written */
#include "cmd.h"

int
cmdexportfs(int argc, char **argv)
{
	return usage();
}
