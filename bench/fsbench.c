/*
 * fsbench.c: the timed loops of bench/9p, each printing one line of
 * numbers (wall time from CLOCK_MONOTONIC):
 *	fsbench write FILE MIB		create FILE, write MIB 1 MiB blocks, close: "seconds bytes"
 *	fsbench read FILE		read FILE in 1 MiB blocks to its end: "seconds bytes"
 *	fsbench small DIR FILES ROUNDS	ROUNDS times, over FILES files in DIR: create+write 100
 *		bytes+close, stat, open+read+close, unlink (4 operations a file):
 *		"seconds operations create_us stat_us read_us unlink_us" (µs per operation)
 *	fsbench evict FILE...		drop each FILE's pages from the page cache
 *		(POSIX_FADV_DONTNEED): a cold read of its data, with nothing else of
 *		the machine's caches thrown away; then touch and free as much memory
 *		as the largest FILE holds, so that the read finds memory its virtual
 *		machine has backed (a guest with free page reporting gives freed
 *		memory back to its host, and the next use of it faults there: here a
 *		cold 1 GiB read took 0.15 s or 0.48 s as that happened); prints nothing
 * Every result is checked (sizes, bytes read back); a failure exits 1.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

enum {
	MiB = 1024 * 1024,
	SMALL = 100,	/* bytes in each small file */
};

static void
usage(void)
{
	fprintf(stderr, "usage: fsbench write FILE MIB | read FILE | small DIR FILES ROUNDS | evict FILE...\n");
	exit(2);
}

static void
die(const char *what, const char *path)
{
	fprintf(stderr, "fsbench: %s %s: %s\n", what, path, strerror(errno));
	exit(1);
}

static long
number(const char *s, long max)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if(errno != 0 || *end != 0 || end == s || v < 1 || v > max)
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

static char *
buffer(size_t n)
{
	char *p;
	size_t i;

	p = malloc(n);
	if(p == NULL){
		fprintf(stderr, "fsbench: out of memory\n");
		exit(1);
	}
	/* Not zeros, and touched, so no page is faulted in while timing. */
	for(i = 0; i < n; i++)
		p[i] = i * 131 + 7;
	return p;
}

static int
seqwrite(const char *path, long mib)
{
	double t0, t1;
	ssize_t n;
	char *buf;
	long i;
	size_t off;
	int fd;

	buf = buffer(MiB);
	t0 = now();
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if(fd < 0)
		die("create", path);
	for(i = 0; i < mib; i++)
		for(off = 0; off < MiB; off += n){
			n = write(fd, buf + off, MiB - off);
			if(n < 0 && errno == EINTR){
				n = 0;
				continue;
			}
			if(n <= 0)
				die("write", path);
		}
	if(close(fd) < 0)
		die("close", path);
	t1 = now();
	printf("%.6f %lld\n", t1 - t0, (long long)mib * MiB);
	free(buf);
	return 0;
}

static int
seqread(const char *path)
{
	double t0, t1;
	long long total;
	struct stat st;
	ssize_t n;
	char *buf;
	int fd;

	buf = buffer(MiB);
	total = 0;
	t0 = now();
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if(fd < 0)
		die("open", path);
	while((n = read(fd, buf, MiB)) != 0){
		if(n < 0 && errno == EINTR)
			continue;
		if(n < 0)
			die("read", path);
		total += n;
	}
	t1 = now();
	if(fstat(fd, &st) < 0)
		die("fstat", path);
	close(fd);
	if(total != st.st_size){
		fprintf(stderr, "fsbench: read %s: %lld bytes, size %lld\n", path, total, (long long)st.st_size);
		return 1;
	}
	printf("%.6f %lld\n", t1 - t0, total);
	free(buf);
	return 0;
}

static int
small(const char *dir, long files, long rounds)
{
	double t[5], phase[4];
	char path[4096], data[SMALL], back[SMALL + 1];
	struct stat st;
	long i, r;
	int fd, k;

	for(i = 0; i < SMALL; i++)
		data[i] = 'a' + i % 26;
	memset(phase, 0, sizeof phase);
	for(r = 0; r < rounds; r++){
		t[0] = now();
		for(i = 0; i < files; i++){
			snprintf(path, sizeof path, "%s/f%ld", dir, i);
			fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
			if(fd < 0)
				die("create", path);
			if(write(fd, data, SMALL) != SMALL)
				die("write", path);
			if(close(fd) < 0)
				die("close", path);
		}
		t[1] = now();
		for(i = 0; i < files; i++){
			snprintf(path, sizeof path, "%s/f%ld", dir, i);
			if(stat(path, &st) < 0)
				die("stat", path);
			if(st.st_size != SMALL){
				fprintf(stderr, "fsbench: stat %s: size %lld\n", path, (long long)st.st_size);
				return 1;
			}
		}
		t[2] = now();
		for(i = 0; i < files; i++){
			snprintf(path, sizeof path, "%s/f%ld", dir, i);
			fd = open(path, O_RDONLY | O_CLOEXEC);
			if(fd < 0)
				die("open", path);
			if(read(fd, back, SMALL + 1) != SMALL || memcmp(back, data, SMALL) != 0){
				fprintf(stderr, "fsbench: read %s: not the bytes written\n", path);
				return 1;
			}
			close(fd);
		}
		t[3] = now();
		for(i = 0; i < files; i++){
			snprintf(path, sizeof path, "%s/f%ld", dir, i);
			if(unlink(path) < 0)
				die("unlink", path);
		}
		t[4] = now();
		for(k = 0; k < 4; k++)
			phase[k] += t[k + 1] - t[k];
	}
	printf("%.6f %ld", phase[0] + phase[1] + phase[2] + phase[3], 4 * files * rounds);
	for(k = 0; k < 4; k++)
		printf(" %.2f", phase[k] * 1e6 / (files * rounds));
	printf("\n");
	return 0;
}

/* Through a union, the union's file and its member's each have pages: both are named. */
static int
evict(int n, char **files)
{
	struct stat st;
	size_t max, off;
	char *p;
	int i, fd, e;

	max = 0;
	for(i = 0; i < n; i++){
		fd = open(files[i], O_RDONLY | O_CLOEXEC);
		if(fd < 0 || fstat(fd, &st) < 0)
			die("open", files[i]);
		if((e = posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED)) != 0){
			errno = e;
			die("posix_fadvise", files[i]);
		}
		if((size_t)st.st_size > max)
			max = st.st_size;
		close(fd);
	}
	max += max / 8;
	p = mmap(NULL, max ? max : 1, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if(p == MAP_FAILED)
		die("mmap", "memory");
	for(off = 0; off < max; off += 4096)
		p[off] = 1;
	munmap(p, max ? max : 1);
	return 0;
}

int
main(int argc, char **argv)
{
	if(argc == 4 && strcmp(argv[1], "write") == 0)
		return seqwrite(argv[2], number(argv[3], 1 << 20));
	if(argc == 3 && strcmp(argv[1], "read") == 0)
		return seqread(argv[2]);
	if(argc >= 3 && strcmp(argv[1], "evict") == 0)
		return evict(argc - 2, argv + 2);
	if(argc == 5 && strcmp(argv[1], "small") == 0)
		return small(argv[2], number(argv[3], 10000000), number(argv[4], 1000000));
	usage();
	return 2;
}
