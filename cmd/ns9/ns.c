/*
 * ns.c: ns9 ns [-r] [pid]: print a name space as Plan 9 text.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"

int
cmdns(int argc, char **argv)
{
	int i, flags;
	pid_t pid;
	char *text;

	flags = 0;
	pid = 0;
	for(i = 1; i < argc && argv[i][0] == '-' && argv[i][1] != 0; i++){
		if(strcmp(argv[i], "-r") == 0)
			flags |= NS_TEXTRAW;
		else if(strcmp(argv[i], "--") == 0){
			i++;
			break;
		}else
			return usage();
	}
	if(argc - i > 1)
		return usage();
	if(argc - i == 1 && pidarg(argv[i], &pid) < 0)
		return 2;
	text = ns_text(pid, flags);
	if(text == NULL)
		return fail();
	fputs(text, stdout);
	free(text);
	if(fflush(stdout) != 0 || ferror(stdout)){
		perror("ns9: ns: write");
		return 1;
	}
	return 0;
}
