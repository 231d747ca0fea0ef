/*
 * ctlwrite: one write(2) to a control file, then a read at offset 0 of the
 * same open file; prints "ok" or the errno name, then what the read gave.
 *	ctlwrite FILE TEXT	(TEXT is written as given, no newline added)
 *	ctlwrite -z FILE	a write holding a NUL byte
 *	ctlwrite -u UID FILE TEXT	open, then become UID, then write
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int
main(int argc, char **argv)
{
	char buf[4096];
	const char *file, *text;
	size_t len;
	ssize_t n;
	int fd, uid;

	uid = -1;
	if(argc == 5 && strcmp(argv[1], "-u") == 0){
		uid = atoi(argv[2]);
		argv += 2;
		argc -= 2;
	}
	if(argc == 3 && strcmp(argv[1], "-z") == 0){
		file = argv[2];
		text = "bind /a\0/b";
		len = 10;
	}else if(argc == 3){
		file = argv[1];
		text = argv[2];
		len = strlen(text);
	}else{
		fprintf(stderr, "usage: ctlwrite FILE TEXT | ctlwrite -z FILE\n");
		return 2;
	}
	fd = open(file, O_RDWR);
	if(fd < 0){
		printf("open: %s\n", strerrorname_np(errno));
		return 1;
	}
	if(uid >= 0 && setresuid(uid, uid, uid) < 0){
		printf("setresuid: %s\n", strerrorname_np(errno));
		return 1;
	}
	if(write(fd, text, len) < 0)
		printf("%s\n", strerrorname_np(errno));
	else
		printf("ok\n");
	n = pread(fd, buf, sizeof buf - 1, 0);
	if(n > 0){
		buf[n] = 0;
		fputs(buf, stdout);
	}
	close(fd);
	return 0;
}
