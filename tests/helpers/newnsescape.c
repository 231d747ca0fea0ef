/*
 * newnsescape.c: probes, for tests/integration/newns.sh, that a clean name
 * space made by ns9 newns has no way back to the root it was made from.
 *
 *	newnsescape chroot DIR PATH
 *
 * makes DIR, chroots into it and then tries the classic way out of a
 * chroot: chdir("..") many times from a cwd outside the new root, then
 * chroot("."), which lands on the root of the mount namespace.  Prints
 * "escaped" when PATH (a name that exists only outside the clean root)
 * can then be reached, "contained" when it cannot, or "contained: chroot:
 * ERROR" when chroot itself is refused (then there is no way out this way).
 *
 *	newnsescape fds
 *
 * prints "N -> TARGET" for every open fd from 3 up, other than the one
 * reading /proc/self/fd: what the command was given besides its standard
 * streams.
 *
 *	newnsescape exec CMD [ARG...]
 *
 * closes every fd from 3 up and execs CMD: a caller with only its
 * standard streams, so that what fds finds is what CMD's maker added.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int
escape(const char *dir, const char *path)
{
	int i;

	if(mkdir(dir, 0700) < 0 && errno != EEXIST){
		printf("mkdir: %s\n", strerror(errno));
		return 1;
	}
	if(chroot(dir) < 0){
		printf("contained: chroot: %s\n", strerror(errno));
		return 0;
	}
	/* The cwd is now outside the root: climb from it. */
	for(i = 0; i < 256; i++)
		if(chdir("..") < 0)
			break;
	if(chroot(".") < 0){
		printf("chroot .: %s\n", strerror(errno));
		return 1;
	}
	if(access(path, F_OK) == 0)
		printf("escaped\n");
	else
		printf("contained\n");
	return 0;
}

static int
fds(void)
{
	DIR *d;
	struct dirent *e;
	char p[64], buf[PATH_MAX];
	ssize_t n;
	int fd;

	d = opendir("/proc/self/fd");
	if(d == NULL){
		printf("opendir /proc/self/fd: %s\n", strerror(errno));
		return 1;
	}
	while((e = readdir(d)) != NULL){
		if(e->d_name[0] == '.')
			continue;
		fd = atoi(e->d_name);
		if(fd < 3 || fd == dirfd(d))
			continue;
		snprintf(p, sizeof p, "/proc/self/fd/%d", fd);
		n = readlink(p, buf, sizeof buf - 1);
		if(n < 0)
			n = 0;
		buf[n] = 0;
		printf("%d -> %s\n", fd, buf);
	}
	closedir(d);
	return 0;
}

static int
run(char **argv)
{
	int fd;

	for(fd = 3; fd < 4096; fd++)
		close(fd);
	execvp(argv[0], argv);
	fprintf(stderr, "newnsescape: exec %s: %s\n", argv[0], strerror(errno));
	return 127;
}

int
main(int argc, char **argv)
{
	if(argc == 4 && strcmp(argv[1], "chroot") == 0)
		return escape(argv[2], argv[3]);
	if(argc == 2 && strcmp(argv[1], "fds") == 0)
		return fds();
	if(argc >= 3 && strcmp(argv[1], "exec") == 0)
		return run(argv + 2);
	fprintf(stderr, "usage: newnsescape chroot DIR PATH | fds | exec CMD [ARG...]\n");
	return 2;
}
