/* placeholder until srv is written */
#include "cmd.h"

int
cmdsrv(int argc, char **argv)
{
	return usage();
}
