/*
 * mountcall: make one mount-related system call for the RFNOMNT tests and
 * print "ok" or the errno name.
 *	mountcall mgc DIR		mount(2) of a tmpfs with the legacy MS_MGC_VAL flags
 *	mountcall mgcbind SRC DIR	the same with MS_BIND (a bind: allowed)
 *	mountcall fsopen-exec CMD...	fsopen("tmpfs") on fd 9 (inherited), then exec CMD
 *	mountcall fsconfig FD		FSCONFIG_CMD_CREATE on an inherited context
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <unistd.h>

static int
report(long r)
{
	if(r < 0)
		printf("%s\n", strerrorname_np(errno));
	else
		printf("ok\n");
	return 0;
}

int
main(int argc, char **argv)
{
	int fd;

	if(argc >= 3 && strcmp(argv[1], "mgc") == 0)
		return report(mount("mgc", argv[2], "tmpfs", 0xC0ED0000UL, NULL));
	if(argc >= 4 && strcmp(argv[1], "mgcbind") == 0)
		return report(mount(argv[2], argv[3], NULL, 0xC0ED0000UL | MS_BIND, NULL));
	if(argc >= 3 && strcmp(argv[1], "fsopen-exec") == 0){
		fd = syscall(SYS_fsopen, "tmpfs", 0);
		if(fd < 0 || dup2(fd, 9) < 0){
			perror("fsopen");
			return 1;
		}
		execvp(argv[2], argv + 2);
		perror(argv[2]);
		return 1;
	}
	if(argc >= 3 && strcmp(argv[1], "fsconfig") == 0)
		return report(syscall(SYS_fsconfig, atoi(argv[2]), FSCONFIG_CMD_CREATE, NULL, NULL, 0));
	fprintf(stderr, "usage: mountcall mgc DIR | mgcbind SRC DIR | fsopen-exec CMD... | fsconfig FD\n");
	return 2;
}
