/* placeholder until ramfs is written */
#include "cmd.h"

int
cmdramfs(int argc, char **argv)
{
	return usage();
}
