/*
 * unionbench.c: the set-up and the timed loops of bench/union (wall time
 * from CLOCK_MONOTONIC); names are "f" and a decimal number:
 *	unionbench mk DIR FIRST END STEP [LINKDIR]
 *		create the empty files DIR/fI for I = FIRST, FIRST+STEP, ... < END,
 *		each also linked as LINKDIR/fI unless that name is there already
 *	unionbench warm DIR...
 *		read each DIR and stat every entry in it (puts the members'
 *		directory blocks, inodes and dentries in the caches)
 *	unionbench stat DIR N PASSES
 *		PASSES times: stat DIR/f0 ... DIR/fN-1 (each must be a regular
 *		file): "seconds ..." one number a pass
 *	unionbench readdir DIR N PASSES
 *		PASSES times: opendir, readdir to the end, closedir; the names
 *		must be exactly f0 ... fN-1, each once ("." and ".." aside):
 *		"seconds ..." one number a pass
 * Every result is checked; a failure exits 1.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

enum {
	MAXN = 10000000,	/* names in one test */
	MAXPASS = 1000,
};

static void
usage(void)
{
	fprintf(stderr, "usage: unionbench mk DIR FIRST END STEP [LINKDIR] | warm DIR... |\n"
	    "\tstat DIR N PASSES | readdir DIR N PASSES\n");
	exit(2);
}

static void
die(const char *what, const char *path)
{
	fprintf(stderr, "unionbench: %s %s: %s\n", what, path, strerror(errno));
	exit(1);
}

static long
number(const char *s, long min, long max)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if(errno != 0 || *end != 0 || end == s || v < min || v > max)
		usage();
	return v;
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int
mk(const char *dir, long first, long end, long step, const char *linkdir)
{
	char path[4096], link2[4096];
	long i;
	int fd;

	for(i = first; i < end; i += step){
		snprintf(path, sizeof path, "%s/f%ld", dir, i);
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
		if(fd < 0)
			die("create", path);
		if(close(fd) < 0)
			die("close", path);
		if(linkdir == NULL)
			continue;
		snprintf(link2, sizeof link2, "%s/f%ld", linkdir, i);
		if(link(path, link2) < 0 && errno != EEXIST)
			die("link", link2);
	}
	return 0;
}

static int
warm(const char *dir)
{
	struct dirent *d;
	struct stat st;
	DIR *dp;

	dp = opendir(dir);
	if(dp == NULL)
		die("opendir", dir);
	errno = 0;
	while((d = readdir(dp)) != NULL){
		if(fstatat(dirfd(dp), d->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			die("stat in", dir);
		errno = 0;
	}
	if(errno != 0)
		die("readdir", dir);
	closedir(dp);
	return 0;
}

static int
statpass(const char *dir, long n)
{
	char path[4096];
	struct stat st;
	long i;

	for(i = 0; i < n; i++){
		snprintf(path, sizeof path, "%s/f%ld", dir, i);
		if(stat(path, &st) < 0)
			die("stat", path);
		if(!S_ISREG(st.st_mode)){
			fprintf(stderr, "unionbench: %s: not a regular file\n", path);
			exit(1);
		}
	}
	return 0;
}

/* The index of name fI, or -1 if it is not one of f0 ... fN-1. */
static long
nameindex(const char *name, long n)
{
	char *end;
	long v;

	if(name[0] != 'f' || name[1] < '0' || name[1] > '9' || (name[1] == '0' && name[2] != 0))
		return -1;
	errno = 0;
	v = strtol(name + 1, &end, 10);
	if(errno != 0 || *end != 0 || v < 0 || v >= n)
		return -1;
	return v;
}

static int
readpass(const char *dir, long n, unsigned char *seen)
{
	struct dirent *d;
	long count, i;
	DIR *dp;

	memset(seen, 0, n);
	count = 0;
	dp = opendir(dir);
	if(dp == NULL)
		die("opendir", dir);
	errno = 0;
	while((d = readdir(dp)) != NULL){
		errno = 0;
		if(strcmp(d->d_name, ".") == 0 || strcmp(d->d_name, "..") == 0)
			continue;
		i = nameindex(d->d_name, n);
		if(i < 0){
			fprintf(stderr, "unionbench: readdir %s: unexpected name '%s'\n", dir, d->d_name);
			exit(1);
		}
		if(seen[i]){
			fprintf(stderr, "unionbench: readdir %s: '%s' listed twice\n", dir, d->d_name);
			exit(1);
		}
		seen[i] = 1;
		count++;
	}
	if(errno != 0)
		die("readdir", dir);
	closedir(dp);
	if(count != n){
		fprintf(stderr, "unionbench: readdir %s: %ld names, expected %ld\n", dir, count, n);
		exit(1);
	}
	return 0;
}

static int
timed(int isstat, const char *dir, long n, long passes)
{
	unsigned char *seen;
	double t0;
	long p;

	seen = NULL;
	if(!isstat){
		seen = malloc(n);
		if(seen == NULL){
			fprintf(stderr, "unionbench: out of memory\n");
			exit(1);
		}
	}
	for(p = 0; p < passes; p++){
		t0 = now();
		if(isstat)
			statpass(dir, n);
		else
			readpass(dir, n, seen);
		printf("%s%.6f", p > 0 ? " " : "", now() - t0);
	}
	printf("\n");
	free(seen);
	return 0;
}

int
main(int argc, char **argv)
{
	int i;

	if((argc == 6 || argc == 7) && strcmp(argv[1], "mk") == 0)
		return mk(argv[2], number(argv[3], 0, MAXN), number(argv[4], 0, MAXN),
		    number(argv[5], 1, MAXN), argc == 7 ? argv[6] : NULL);
	if(argc >= 3 && strcmp(argv[1], "warm") == 0){
		for(i = 2; i < argc; i++)
			warm(argv[i]);
		return 0;
	}
	if(argc == 5 && strcmp(argv[1], "stat") == 0)
		return timed(1, argv[2], number(argv[3], 1, MAXN), number(argv[4], 1, MAXPASS));
	if(argc == 5 && strcmp(argv[1], "readdir") == 0)
		return timed(0, argv[2], number(argv[3], 1, MAXN), number(argv[4], 1, MAXPASS));
	usage();
	return 2;
}
