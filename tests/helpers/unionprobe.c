/*
 * unionprobe: one file system call for the union directory tests; prints
 * "ok" or the errno name (EXDEV, EPERM, ...), so a test sees exactly what
 * the kernel returned (mv, touch and friends retry or copy on some errors).
 *	unionprobe create PATH		open O_WRONLY|O_CREAT, mode 0644
 *	unionprobe excl PATH		open O_WRONLY|O_CREAT|O_EXCL
 *	unionprobe put PATH TEXT	open O_WRONLY|O_CREAT|O_TRUNC, write TEXT
 *	unionprobe mkdir PATH
 *	unionprobe mkfifo PATH
 *	unionprobe symlink TARGET PATH
 *	unionprobe link OLD NEW
 *	unionprobe rename OLD NEW
 *	unionprobe unlink PATH
 *	unionprobe rmdir PATH
 *	unionprobe chmod OCTAL PATH
 *	unionprobe rdonly SRC DST	bind SRC onto DST, read-only (mount(2),
 *					usable where mount(8) refuses a non-root uid)
 *	unionprobe readloop DIR FILE	read DIR to its end and FILE, again and
 *					again, until one fails: print that errno
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

static int
report(int r)
{
	if(r < 0)
		printf("%s\n", strerrorname_np(errno));
	else
		printf("ok\n");
	return 0;
}

static int
openclose(const char *path, int flags, const char *text)
{
	int fd;
	size_t n;

	fd = open(path, flags | O_CLOEXEC, 0644);
	if(fd < 0)
		return -1;
	if(text != NULL){
		n = strlen(text);
		if(write(fd, text, n) != (ssize_t)n){
			close(fd);
			return -1;
		}
	}
	return close(fd);
}

/* One pass: the directory to its end, then the file to its end. */
static int
readonce(const char *dir, const char *file)
{
	char buf[8192];
	DIR *d;
	ssize_t n;
	int fd;

	if((d = opendir(dir)) == NULL)
		return -1;
	errno = 0;
	while(readdir(d) != NULL)
		;
	if(errno != 0){
		n = errno;
		closedir(d);
		errno = n;
		return -1;
	}
	closedir(d);
	if((fd = open(file, O_RDONLY | O_CLOEXEC)) < 0)
		return -1;
	while((n = read(fd, buf, sizeof buf)) > 0)
		;
	if(n < 0){
		n = errno;
		close(fd);
		errno = n;
		return -1;
	}
	close(fd);
	return 0;
}

static int
rdonly(const char *src, const char *dst)
{
	if(mount(src, dst, NULL, MS_BIND, NULL) < 0)
		return -1;
	if(mount(NULL, dst, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL) < 0){
		umount2(dst, MNT_DETACH);
		return -1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	const char *op;

	if(argc < 3)
		goto usage;
	op = argv[1];
	if(argc == 3 && strcmp(op, "create") == 0)
		return report(openclose(argv[2], O_WRONLY | O_CREAT, NULL));
	if(argc == 3 && strcmp(op, "excl") == 0)
		return report(openclose(argv[2], O_WRONLY | O_CREAT | O_EXCL, NULL));
	if(argc == 4 && strcmp(op, "put") == 0)
		return report(openclose(argv[2], O_WRONLY | O_CREAT | O_TRUNC, argv[3]));
	if(argc == 3 && strcmp(op, "mkdir") == 0)
		return report(mkdir(argv[2], 0755));
	if(argc == 3 && strcmp(op, "mkfifo") == 0)
		return report(mkfifo(argv[2], 0644));
	if(argc == 4 && strcmp(op, "symlink") == 0)
		return report(symlink(argv[2], argv[3]));
	if(argc == 4 && strcmp(op, "link") == 0)
		return report(link(argv[2], argv[3]));
	if(argc == 4 && strcmp(op, "rename") == 0)
		return report(rename(argv[2], argv[3]));
	if(argc == 3 && strcmp(op, "unlink") == 0)
		return report(unlink(argv[2]));
	if(argc == 3 && strcmp(op, "rmdir") == 0)
		return report(rmdir(argv[2]));
	if(argc == 4 && strcmp(op, "chmod") == 0)
		return report(chmod(argv[3], strtol(argv[2], NULL, 8)));
	if(argc == 4 && strcmp(op, "rdonly") == 0)
		return report(rdonly(argv[2], argv[3]));
	if(argc == 4 && strcmp(op, "readloop") == 0){
		while(readonce(argv[2], argv[3]) == 0)
			;
		return report(-1);
	}
usage:
	fprintf(stderr, "usage: unionprobe op args (see the source)\n");
	return 2;
}
