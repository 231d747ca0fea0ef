/* placeholder until 9pfuse is written */
#include "cmd.h"

int
cmd9pfuse(int argc, char **argv)
{
	return usage();
}
