/*
 * fsconform: a file-operations conformance suite (POSIX behaviour as Linux
 * gives it) run inside a scratch directory it makes under DIR; prints TAP,
 * one line per check, and exits 1 when any check failed.
 *	fsconform [-nqx] DIR
 *	-n	no symbolic or hard links (9P2000): those checks are skipped
 *	-q	print only the failures and the plan
 *	-x	a rename into another directory may answer EXDEV (skipped then)
 * It removes its scratch directory at the end and checks that DIR holds
 * what it held before.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

enum {
	MiB = 1024 * 1024,
	NMANY = 1000,	/* entries in the readdir check */
};

static int ntest, nfail, quiet, nolinks, xdev;

static const char *
ename(int e)
{
	static char buf[32];
	const char *s;

	if(e == 0)
		return "0 (success)";
	s = strerrorname_np(e);
	if(s != NULL)
		return s;
	snprintf(buf, sizeof buf, "%d", e);
	return buf;
}


static void
report(int good, const char *why, const char *fmt, va_list ap)
{
	ntest++;
	if(!good)
		nfail++;
	if(good && quiet)
		return;
	printf("%sok %d - ", good ? "" : "not ", ntest);
	vprintf(fmt, ap);
	if(!good && why != NULL)
		printf(": %s", why);
	putchar('\n');
	fflush(stdout);
}

static int check(int cond, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int checkwhy(int cond, const char *why, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int sysok(long rc, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int syserr(long rc, int want, int alt, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void skip(const char *reason, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A condition; returns it. */
static int
check(int cond, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	report(cond, NULL, fmt, ap);
	va_end(ap);
	return cond;
}

/* A condition with a "got ... want ..." explanation for a failure. */
static int
checkwhy(int cond, const char *why, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	report(cond, why, fmt, ap);
	va_end(ap);
	return cond;
}

/* A call that must succeed (rc >= 0); errno holds the reason when not. */
static int
sysok(long rc, const char *fmt, ...)
{
	char why[64];
	va_list ap;

	snprintf(why, sizeof why, "got errno %s want success", ename(errno));
	va_start(ap, fmt);
	report(rc >= 0, why, fmt, ap);
	va_end(ap);
	return rc >= 0;
}

/* A call that must fail with errno want (or alt when not 0). */
static int
syserr(long rc, int want, int alt, const char *fmt, ...)
{
	char why[96];
	int e, good;
	va_list ap;

	e = rc < 0 ? errno : 0;
	good = rc < 0 && (e == want || (alt != 0 && e == alt));
	if(alt != 0)
		snprintf(why, sizeof why, "got errno %s want %s or %s", ename(e), ename(want), ename(alt));
	else
		snprintf(why, sizeof why, "got errno %s want %s", ename(e), ename(want));
	va_start(ap, fmt);
	report(good, why, fmt, ap);
	va_end(ap);
	return good;
}

static void
skip(const char *reason, const char *fmt, ...)
{
	va_list ap;

	ntest++;
	if(quiet)
		return;
	printf("ok %d # SKIP ", ntest);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf(": %s\n", reason);
	fflush(stdout);
}

/* --- file helpers: -1 with errno on failure --- */

static long
writeall(int fd, const void *buf, size_t len)
{
	const char *p;
	ssize_t n;
	size_t done;

	p = buf;
	for(done = 0; done < len; done += n){
		n = write(fd, p + done, len - done);
		if(n < 0 && errno == EINTR){
			n = 0;
			continue;
		}
		if(n <= 0)
			return n < 0 ? -1 : (long)done;
	}
	return done;
}

/* Read up to len bytes at off (-1: at the file offset) with chunk-sized reads. */
static long
readall(int fd, void *buf, size_t len, off_t off, size_t chunk)
{
	char *p;
	ssize_t n;
	size_t done, want;

	p = buf;
	for(done = 0; done < len; done += n){
		want = len - done;
		if(want > chunk)
			want = chunk;
		if(off < 0)
			n = read(fd, p + done, want);
		else
			n = pread(fd, p + done, want, off + done);
		if(n < 0 && errno == EINTR){
			n = 0;
			continue;
		}
		if(n < 0)
			return -1;
		if(n == 0)
			break;
	}
	return done;
}

static long
putfile(const char *path, const char *s)
{
	long n;
	int fd, e;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if(fd < 0)
		return -1;
	n = writeall(fd, s, strlen(s));
	e = errno;
	if(close(fd) < 0 && n >= 0)
		return -1;
	errno = e;
	return n;
}

/* The whole of a small file as a string in buf, or NULL (errno set). */
static char *
getfile(const char *path, char *buf, size_t len)
{
	long n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if(fd < 0)
		return NULL;
	n = readall(fd, buf, len - 1, -1, len);
	close(fd);
	if(n < 0)
		return NULL;
	buf[n] = 0;
	return buf;
}

/* s quoted on one line, control bytes as \ooo, so TAP stays line-structured. */
static char *
quote(const char *s, char *buf, size_t len)
{
	size_t n;

	n = 0;
	buf[n++] = '"';
	for(; *s != 0 && n + 6 < len; s++)
		if((unsigned char)*s < ' ' || *s == 0x7f || *s == '"' || *s == '\\')
			n += snprintf(buf + n, len - n, "\\%03o", (unsigned char)*s);
		else
			buf[n++] = *s;
	buf[n++] = '"';
	buf[n] = 0;
	return buf;
}

/* Does the file at path hold exactly s? */
static void
content(const char *path, const char *s, const char *what)
{
	char buf[256], qs[256], qb[256], why[600];
	int good;

	good = 0;
	if(getfile(path, buf, sizeof buf) == NULL)
		snprintf(why, sizeof why, "got errno %s want %s", ename(errno), quote(s, qs, sizeof qs));
	else{
		good = strcmp(buf, s) == 0;
		snprintf(why, sizeof why, "got %s want %s", quote(buf, qb, sizeof qb), quote(s, qs, sizeof qs));
	}
	checkwhy(good, why, "%s: %s holds %s", what, path, quote(s, qs, sizeof qs));
}

static void
gone(const char *path, const char *what)
{
	struct stat st;

	syserr(lstat(path, &st), ENOENT, 0, "%s: %s is gone", what, path);
}

static int
allzero(const unsigned char *p, size_t n)
{
	size_t i;

	for(i = 0; i < n; i++)
		if(p[i] != 0)
			return 0;
	return 1;
}

static void
pattern(unsigned char *p, size_t n, uint32_t seed)
{
	size_t i;

	for(i = 0; i < n; i++){
		seed ^= seed << 13;
		seed ^= seed >> 17;
		seed ^= seed << 5;
		p[i] = seed;
	}
}

static int
cmpstr(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * The names in dir (sorted, malloc'd vector, count in *np), "." and ".."
 * counted apart in *dots; types of names in *types (same order) as d_type.
 * Returns 0 or -1 with errno.
 */
typedef struct Ent Ent;
struct Ent {
	char *name;
	unsigned char type;
};

static int
cmpent(const void *a, const void *b)
{
	return strcmp(((const Ent *)a)->name, ((const Ent *)b)->name);
}

static void
freeents(Ent *v, int n)
{
	while(n > 0)
		free(v[--n].name);
	free(v);
}

static int
listdir(const char *path, Ent **vp, int *np, int *dots)
{
	struct dirent *d;
	DIR *dp;
	Ent *v;
	int n, cap, e;

	dp = opendir(path);
	if(dp == NULL)
		return -1;
	v = NULL;
	n = cap = 0;
	*dots = 0;
	errno = 0;
	while((d = readdir(dp)) != NULL){
		if(strcmp(d->d_name, ".") == 0 || strcmp(d->d_name, "..") == 0){
			++*dots;
			continue;
		}
		if(n == cap){
			cap = cap ? 2 * cap : 64;
			v = realloc(v, cap * sizeof *v);
			if(v == NULL)
				abort();
		}
		v[n].name = strdup(d->d_name);
		if(v[n].name == NULL)
			abort();
		v[n].type = d->d_type;
		n++;
		errno = 0;
	}
	if(errno != 0){
		e = errno;
		closedir(dp);
		freeents(v, n);
		errno = e;
		return -1;
	}
	closedir(dp);
	if(n > 0)
		qsort(v, n, sizeof *v, cmpent);
	*vp = v;
	*np = n;
	return 0;
}

/*
 * Check that dir holds exactly the names want[0..nwant-1] (any order),
 * each once; names ending in '/' are directories (d_type DT_DIR when the
 * type is given), the others regular files.
 */
static void
exactdir(const char *dir, char **want, int nwant, const char *what)
{
	char why[512], name[300], **w;
	Ent *v;
	int i, n, a, b, c, isdir, dots, dup, miss, extra, badtype;
	size_t l;

	if(listdir(dir, &v, &n, &dots) < 0){
		sysok(-1, "%s: readdir %s", what, dir);
		return;
	}
	w = malloc((nwant + 1) * sizeof *w);
	if(w == NULL)
		abort();
	if(nwant > 0){
		memcpy(w, want, nwant * sizeof *w);
		qsort(w, nwant, sizeof *w, cmpstr);
	}
	dup = miss = extra = badtype = 0;
	why[0] = 0;
	for(i = 1; i < n; i++)
		if(strcmp(v[i - 1].name, v[i].name) == 0){
			if(dup++ == 0)
				snprintf(why, sizeof why, "got \"%s\" twice", v[i].name);
		}
	/* Merge the two sorted lists; a trailing '/' marks a directory. */
	a = b = 0;
	while(a < n || b < nwant){
		if(b < nwant){
			l = strlen(w[b]);
			snprintf(name, sizeof name, "%.*s", (int)(l > 0 && w[b][l - 1] == '/' ? l - 1 : l), w[b]);
		}
		c = a >= n ? 1 : b >= nwant ? -1 : strcmp(v[a].name, name);
		if(c < 0){
			if(extra++ == 0 && why[0] == 0)
				snprintf(why, sizeof why, "got unexpected \"%s\"", v[a].name);
			a++;
		}else if(c > 0){
			if(miss++ == 0 && why[0] == 0)
				snprintf(why, sizeof why, "\"%s\" missing", name);
			b++;
		}else{
			isdir = w[b][strlen(w[b]) - 1] == '/';
			if(v[a].type != DT_UNKNOWN && v[a].type != (isdir ? DT_DIR : DT_REG))
				if(badtype++ == 0 && why[0] == 0)
					snprintf(why, sizeof why, "\"%s\" has d_type %d want %d", name, v[a].type,
						isdir ? DT_DIR : DT_REG);
			a++;
			/* Skip the duplicates of this name, counted above. */
			while(a < n && strcmp(v[a].name, v[a - 1].name) == 0)
				a++;
			b++;
		}
	}
	if(why[0] != 0){
		l = strlen(why);
		snprintf(why + l, sizeof why - l, " (%d names: %d duplicated, %d missing, %d unexpected, %d mistyped)", n,
			dup, miss, extra, badtype);
	}
	checkwhy(why[0] == 0, why, "%s: %s lists exactly %d names, each once", what, dir, nwant);
	checkwhy(dots <= 2, "more than one . or ..", "%s: %s lists . and .. at most once each", what, dir);
	free(w);
	freeents(v, n);
}

static int
rmone(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	if(flag == FTW_DP)
		return rmdir(path);
	return unlink(path);
}

/* --- the checks --- */

static void
tcreate(void)
{
	struct stat st;
	int fd;

	fd = open("c", O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	sysok(fd, "create: O_CREAT|O_EXCL of a new name");
	if(fd >= 0){
		sysok(fstat(fd, &st), "create: fstat of the new file");
		check(S_ISREG(st.st_mode) && (st.st_mode & 07777) == 0644 && st.st_size == 0,
			"create: a regular file, mode 0644, size 0");
		close(fd);
	}
	fd = open("c", O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	syserr(fd, EEXIST, 0, "create: O_CREAT|O_EXCL of an existing name");
	if(fd >= 0)
		close(fd);
	fd = open("c", O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	sysok(fd, "create: O_CREAT without O_EXCL opens an existing file");
	if(fd >= 0)
		close(fd);
	sysok(unlink("c"), "create: unlink the file");
}

static void
trw(void)
{
	static const char small[] = "hello, 9P\n";
	unsigned char *big, *back, buf[64];
	struct stat st;
	long n;
	int fd, fd2;

	/* Small. */
	fd = open("s", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if(!sysok(fd, "write: create s"))
		return;
	n = writeall(fd, small, sizeof small - 1);
	checkwhy(n == sizeof small - 1, "short write or error", "write: %zu bytes", sizeof small - 1);
	sysok(close(fd), "write: close");
	fd = open("s", O_RDONLY | O_CLOEXEC);
	if(sysok(fd, "read: open s")){
		n = read(fd, buf, sizeof buf);
		check(n == sizeof small - 1 && memcmp(buf, small, n) == 0, "read: the same %zu bytes back",
			sizeof small - 1);
		check(read(fd, buf, sizeof buf) == 0, "read: then end of file (0)");
		close(fd);
	}

	/* 1 MiB in one write, read back in odd-sized pieces. */
	big = malloc(MiB);
	back = malloc(MiB + 1);
	if(big == NULL || back == NULL)
		abort();
	pattern(big, MiB, 12345);
	fd = open("big", O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if(!sysok(fd, "write: create big"))
		goto out;
	n = writeall(fd, big, MiB);
	checkwhy(n == MiB, "short write or error", "write: 1 MiB in one call");
	sysok(fsync(fd), "fsync: big");
	sysok(fstat(fd, &st), "stat: fstat big");
	checkwhy(st.st_size == MiB, "size differs", "stat: size of big is 1 MiB");
	close(fd);
	fd = open("big", O_RDONLY | O_CLOEXEC);
	if(sysok(fd, "read: open big")){
		n = readall(fd, back, MiB + 1, -1, 65537);
		check(n == MiB && memcmp(big, back, MiB) == 0, "read: 1 MiB back in 65537-byte reads, same bytes");
		n = readall(fd, back, MiB, 0, MiB);
		check(n == MiB && memcmp(big, back, MiB) == 0, "read: 1 MiB back in one pread, same bytes");
		close(fd);
	}

	/* At offsets: overwrite the middle, read around it, then near the end. */
	fd = open("big", O_RDWR | O_CLOEXEC);
	if(!sysok(fd, "pwrite: open big read-write"))
		goto out;
	memset(big + 300001, 'A', 4096);
	n = pwrite(fd, big + 300001, 4096, 300001);
	check(n == 4096, "pwrite: 4096 bytes at offset 300001");
	n = readall(fd, back, 4100, 299999, 4100);
	check(n == 4100 && memcmp(back, big + 299999, 4100) == 0,
		"pread: around offset 300001 shows the old bytes and the new");
	n = pread(fd, back, 100, MiB - 10);
	check(n == 10 && memcmp(back, big + MiB - 10, 10) == 0, "pread: 100 bytes at size-10 gives the last 10");
	check(pread(fd, back, 100, MiB) == 0, "pread: at the size gives 0");
	check(pread(fd, back, 100, 2 * MiB) == 0, "pread: beyond the size gives 0");
	fstat(fd, &st);
	check(st.st_size == MiB, "pwrite: inside the file leaves the size");
	/* A second open sees writes made through the first. */
	fd2 = open("big", O_RDONLY | O_CLOEXEC);
	if(sysok(fd2, "read: a second open of big")){
		pwrite(fd, "second", 6, 7);
		check(pread(fd2, back, 6, 7) == 6 && memcmp(back, "second", 6) == 0,
			"read: a second open file sees a write through the first");
		close(fd2);
	}
	close(fd);

	/* Append: always at the end, whatever the offset. */
	fd = open("s", O_WRONLY | O_APPEND | O_CLOEXEC);
	if(sysok(fd, "append: open s O_APPEND")){
		check(writeall(fd, "tail", 4) == 4, "append: write 4 bytes");
		lseek(fd, 0, SEEK_SET);
		check(writeall(fd, "more", 4) == 4, "append: write after a seek to 0");
		close(fd);
		content("s", "hello, 9P\ntailmore", "append");
	}
out:
	free(big);
	free(back);
	unlink("s");
	unlink("big");
}

static void
thole(void)
{
	unsigned char *buf;
	struct stat st;
	long n;
	int fd;

	fd = open("h", O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if(!sysok(fd, "hole: create h"))
		return;
	buf = malloc(100001);
	if(buf == NULL)
		abort();
	writeall(fd, "0123456789", 10);
	check(pwrite(fd, "Z", 1, 100000) == 1, "hole: pwrite 1 byte at 100000, past the end");
	fstat(fd, &st);
	checkwhy(st.st_size == 100001, "size differs", "hole: the size is 100001");
	memset(buf, 0xff, 100001);
	n = readall(fd, buf, 100001, 0, 100001);
	check(n == 100001 && memcmp(buf, "0123456789", 10) == 0 && allzero(buf + 10, 100000 - 10) &&
			buf[100000] == 'Z',
		"hole: reads as the data, zeros, then the byte");
	close(fd);
	unlink("h");
	free(buf);
}

static void
trename(void)
{
	struct stat st;
	int rc;

	putfile("r1", "one");
	sysok(rename("r1", "r2"), "rename: a file to a new name");
	gone("r1", "rename");
	content("r2", "one", "rename");

	putfile("r3", "three");
	sysok(rename("r2", "r3"), "rename: a file over an existing file");
	gone("r2", "rename over");
	content("r3", "one", "rename over");

	mkdir("rd", 0755);
	rc = rename("r3", "rd/r3");
	if(rc < 0 && errno == EXDEV && xdev)
		skip("EXDEV (-x)", "rename: a file into another directory");
	else{
		sysok(rc, "rename: a file into another directory");
		gone("r3", "rename into");
		content("rd/r3", "one", "rename into");
		rc = rename("rd/r3", "r3");
		sysok(rc, "rename: a file out of a directory");
		content("r3", "one", "rename out");
	}
	unlink("rd/r3");
	unlink("r3");
	rmdir("rd");

	mkdir("d1", 0755);
	putfile("d1/f", "in d1");
	sysok(rename("d1", "d2"), "rename: a directory");
	gone("d1", "rename dir");
	content("d2/f", "in d1", "rename dir");
	mkdir("d3", 0755);
	sysok(rename("d2", "d3"), "rename: a directory over an empty directory");
	gone("d2", "rename dir over");
	content("d3/f", "in d1", "rename dir over");
	mkdir("d4", 0755);
	putfile("d4/g", "g");
	syserr(rename("d3", "d4"), ENOTEMPTY, EEXIST, "rename: a directory over a non-empty directory");
	check(stat("d3/f", &st) == 0 && stat("d4/g", &st) == 0, "rename: both directories unchanged after that");
	putfile("rf", "rf");
	syserr(rename("rf", "d4"), EISDIR, 0, "rename: a file over a directory");
	syserr(rename("d4", "rf"), ENOTDIR, 0, "rename: a directory over a file");
	syserr(rename("d4", "d4/sub"), EINVAL, 0, "rename: a directory into itself");
	syserr(rename("missing", "r5"), ENOENT, 0, "rename: a missing file");
	gone("r5", "rename missing");
	sysok(rename("rf", "rf"), "rename: a file onto itself");
	content("rf", "rf", "rename onto itself");
	unlink("rf");
	unlink("d3/f");
	unlink("d4/g");
	rmdir("d3");
	rmdir("d4");
}

static void
tunlink(void)
{
	putfile("u", "u");
	sysok(unlink("u"), "unlink: a file");
	gone("u", "unlink");
	syserr(unlink("u"), ENOENT, 0, "unlink: a missing file");
	mkdir("ud", 0755);
	syserr(unlink("ud"), EISDIR, EPERM, "unlink: a directory");
	rmdir("ud");
}

static void
tmkdir(void)
{
	struct stat st;

	sysok(mkdir("m", 0755), "mkdir: a new directory");
	check(stat("m", &st) == 0 && S_ISDIR(st.st_mode) && (st.st_mode & 07777) == 0755,
		"mkdir: a directory, mode 0755");
	syserr(mkdir("m", 0755), EEXIST, 0, "mkdir: an existing directory");
	putfile("mf", "x");
	syserr(mkdir("mf", 0755), EEXIST, 0, "mkdir: the name of a file");
	syserr(mkdir("missing/m", 0755), ENOENT, 0, "mkdir: in a missing directory");
	syserr(mkdir("mf/m", 0755), ENOTDIR, 0, "mkdir: beneath a file");
	unlink("mf");

	putfile("m/f", "x");
	syserr(rmdir("m"), ENOTEMPTY, EEXIST, "rmdir: a non-empty directory");
	check(stat("m/f", &st) == 0, "rmdir: the non-empty directory keeps its file");
	syserr(rmdir("missing"), ENOENT, 0, "rmdir: a missing directory");
	syserr(rmdir("m/f"), ENOTDIR, 0, "rmdir: a file");
	unlink("m/f");
	sysok(rmdir("m"), "rmdir: an empty directory");
	gone("m", "rmdir");
}

static void
treaddir(void)
{
	char name[32], *want[NMANY + 20];
	int i, n, bad;

	if(!sysok(mkdir("many", 0755), "readdir: mkdir many"))
		return;
	exactdir("many", want, 0, "readdir empty");
	bad = 0;
	for(i = 0; i < NMANY; i++){
		snprintf(name, sizeof name, "many/f%04d", i);
		if(putfile(name, "") < 0 && bad++ == 0)
			sysok(-1, "readdir: create %s", name);
	}
	check(bad == 0, "readdir: create %d files", NMANY);
	mkdir("many/sub", 0755);
	n = 0;
	for(i = 0; i < NMANY; i++){
		want[n] = malloc(16);
		snprintf(want[n++], 16, "f%04d", i);
	}
	want[n++] = strdup("sub/");
	exactdir("many", want, n, "readdir");

	/* Remove every other file, add ten, list again. */
	for(i = 0; i < NMANY; i += 2){
		snprintf(name, sizeof name, "many/f%04d", i);
		if(unlink(name) < 0 && bad++ == 0)
			sysok(-1, "readdir: unlink %s", name);
	}
	for(i = 0; i < 10; i++){
		snprintf(name, sizeof name, "many/n%03d", i);
		if(putfile(name, "n") < 0 && bad++ == 0)
			sysok(-1, "readdir: create %s", name);
	}
	check(bad == 0, "readdir: remove %d files, create 10", NMANY / 2);
	for(i = 0; i < n; i++)
		free(want[i]);
	n = 0;
	for(i = 1; i < NMANY; i += 2){
		want[n] = malloc(16);
		snprintf(want[n++], 16, "f%04d", i);
	}
	for(i = 0; i < 10; i++){
		want[n] = malloc(16);
		snprintf(want[n++], 16, "n%03d", i);
	}
	want[n++] = strdup("sub/");
	exactdir("many", want, n, "readdir after create and remove");
	for(i = 0; i < n; i++)
		free(want[i]);
	nftw("many", rmone, 16, FTW_DEPTH | FTW_PHYS);
	gone("many", "readdir: remove the tree");
}

static void
tstat(void)
{
	struct timespec ts[2];
	struct stat st;
	char why[128];
	int fd;

	putfile("st", "0123456789");
	if(!sysok(stat("st", &st), "stat: a file"))
		return;
	check(S_ISREG(st.st_mode), "stat: type regular");
	checkwhy(st.st_size == 10, "size differs", "stat: size 10");
	check((st.st_mode & 07777) == 0644, "stat: mode 0644");
	snprintf(why, sizeof why, "got nlink %ju want 1", (uintmax_t)st.st_nlink);
	checkwhy(st.st_nlink == 1, why, "stat: nlink of a file is 1");

	mkdir("sd", 0755);
	mkdir("sd/a", 0755);
	mkdir("sd/b", 0755);
	putfile("sd/f", "");
	if(sysok(stat("sd", &st), "stat: a directory")){
		check(S_ISDIR(st.st_mode), "stat: type directory");
		/* 1 means "not counted" (btrfs, 9P2000 clients); else 2 + subdirectories. */
		snprintf(why, sizeof why, "got nlink %ju want 1 or 4", (uintmax_t)st.st_nlink);
		checkwhy(st.st_nlink == 1 || st.st_nlink == 4, why, "stat: nlink of a directory with 2 subdirectories");
	}
	unlink("sd/f");
	rmdir("sd/a");
	rmdir("sd/b");
	rmdir("sd");

	/* mtime: set one in the past, then write. */
	ts[0].tv_sec = ts[1].tv_sec = 1000000000;
	ts[0].tv_nsec = ts[1].tv_nsec = 0;
	sysok(utimensat(AT_FDCWD, "st", ts, 0), "stat: utimensat sets a time");
	stat("st", &st);
	snprintf(why, sizeof why, "got %jd want 1000000000", (intmax_t)st.st_mtim.tv_sec);
	checkwhy(st.st_mtim.tv_sec == 1000000000, why, "stat: mtime is the time set");
	fd = open("st", O_WRONLY | O_CLOEXEC);
	if(fd >= 0){
		writeall(fd, "x", 1);
		close(fd);
	}
	stat("st", &st);
	snprintf(why, sizeof why, "got %jd want later than 1000000000", (intmax_t)st.st_mtim.tv_sec);
	checkwhy(st.st_mtim.tv_sec > 1000000000, why, "stat: mtime changes after a write");
	unlink("st");
}

static void
tchmod(void)
{
	struct stat st;
	int fd;

	putfile("ch", "x");
	sysok(chmod("ch", 0600), "chmod: 0600");
	check(stat("ch", &st) == 0 && (st.st_mode & 07777) == 0600 && S_ISREG(st.st_mode), "chmod: mode is now 0600");
	sysok(chmod("ch", 0), "chmod: 0");
	check(stat("ch", &st) == 0 && (st.st_mode & 07777) == 0, "chmod: mode is now 0");
	chmod("ch", 0644);
	fd = open("ch", O_RDONLY | O_CLOEXEC);
	if(fd >= 0){
		sysok(fchmod(fd, 0755), "chmod: fchmod 0755");
		check(fstat(fd, &st) == 0 && (st.st_mode & 07777) == 0755, "chmod: mode is now 0755");
		close(fd);
	}
	mkdir("chd", 0755);
	sysok(chmod("chd", 0700), "chmod: a directory 0700");
	check(stat("chd", &st) == 0 && (st.st_mode & 07777) == 0700 && S_ISDIR(st.st_mode),
		"chmod: the directory's mode is now 0700");
	rmdir("chd");
	unlink("ch");
}

static void
ttrunc(void)
{
	unsigned char buf[100000];
	struct stat st;
	long n;
	int fd;

	putfile("t", "0123456789abc");
	sysok(truncate("t", 5), "truncate: shrink to 5");
	check(stat("t", &st) == 0 && st.st_size == 5, "truncate: size 5");
	content("t", "01234", "truncate");
	fd = open("t", O_RDWR | O_CLOEXEC);
	if(!sysok(fd, "ftruncate: open t"))
		return;
	sysok(ftruncate(fd, 100000), "ftruncate: grow to 100000");
	check(fstat(fd, &st) == 0 && st.st_size == 100000, "ftruncate: size 100000");
	memset(buf, 0xff, sizeof buf);
	n = readall(fd, buf, sizeof buf, 0, sizeof buf);
	check(n == 100000 && memcmp(buf, "01234", 5) == 0 && allzero(buf + 5, sizeof buf - 5),
		"ftruncate: the data, then zeros");
	sysok(ftruncate(fd, 0), "ftruncate: to 0");
	check(fstat(fd, &st) == 0 && st.st_size == 0 && pread(fd, buf, 10, 0) == 0, "ftruncate: size 0, reads nothing");
	close(fd);
	putfile("t", "again");
	fd = open("t", O_WRONLY | O_TRUNC | O_CLOEXEC);
	if(fd >= 0)
		close(fd);
	check(stat("t", &st) == 0 && st.st_size == 0, "truncate: open O_TRUNC empties a file");
	syserr(truncate("missing", 0), ENOENT, 0, "truncate: a missing file");
	unlink("t");
}

static void
tsymlink(void)
{
	char buf[256];
	struct stat st;
	ssize_t n;

	if(nolinks){
		skip("no links (-n)", "symlink, readlink, lstat");
		return;
	}
	putfile("tgt", "target");
	sysok(symlink("tgt", "sl"), "symlink: make sl -> tgt");
	n = readlink("sl", buf, sizeof buf);
	check(n == 3 && memcmp(buf, "tgt", 3) == 0, "readlink: tgt");
	check(lstat("sl", &st) == 0 && S_ISLNK(st.st_mode), "lstat: type S_IFLNK");
	check(stat("sl", &st) == 0 && S_ISREG(st.st_mode) && st.st_size == 6, "stat: through the link to the file");
	content("sl", "target", "symlink");
	syserr(symlink("tgt", "sl"), EEXIST, 0, "symlink: an existing name");
	syserr(readlink("tgt", buf, sizeof buf), EINVAL, 0, "readlink: a regular file");
	sysok(symlink("nowhere", "dangle"), "symlink: a dangling link");
	syserr(stat("dangle", &st), ENOENT, 0, "stat: a dangling link");
	check(lstat("dangle", &st) == 0 && S_ISLNK(st.st_mode), "lstat: a dangling link");
	sysok(unlink("sl"), "unlink: a symlink");
	check(stat("tgt", &st) == 0, "unlink: the symlink's target stays");
	unlink("dangle");
	unlink("tgt");
}

static void
tlink(void)
{
	struct stat st;
	char why[64];

	if(nolinks){
		skip("no links (-n)", "link");
		return;
	}
	putfile("l1", "linked");
	sysok(link("l1", "l2"), "link: a second name");
	content("l2", "linked", "link");
	stat("l1", &st);
	snprintf(why, sizeof why, "got nlink %ju want 2", (uintmax_t)st.st_nlink);
	checkwhy(st.st_nlink == 2, why, "link: nlink is 2");
	syserr(link("l1", "l2"), EEXIST, 0, "link: to an existing name");
	unlink("l1");
	stat("l2", &st);
	snprintf(why, sizeof why, "got nlink %ju want 1", (uintmax_t)st.st_nlink);
	checkwhy(st.st_nlink == 1, why, "link: nlink 1 after unlinking the first name");
	content("l2", "linked", "link");
	unlink("l2");
}

static void
topen(void)
{
	int fd;

	putfile("of", "x");
	mkdir("od", 0755);
	syserr(fd = open("missing", O_RDONLY | O_CLOEXEC), ENOENT, 0, "open: a missing file");
	if(fd >= 0)
		close(fd);
	syserr(fd = open("of/x", O_RDONLY | O_CLOEXEC), ENOTDIR, 0, "open: a path through a file");
	if(fd >= 0)
		close(fd);
	syserr(fd = open("of", O_RDONLY | O_DIRECTORY | O_CLOEXEC), ENOTDIR, 0, "open: O_DIRECTORY of a file");
	if(fd >= 0)
		close(fd);
	syserr(fd = open("od", O_WRONLY | O_CLOEXEC), EISDIR, 0, "open: a directory for writing");
	if(fd >= 0)
		close(fd);
	syserr(fd = open("missing/x", O_WRONLY | O_CREAT | O_CLOEXEC, 0644), ENOENT, 0,
		"open: O_CREAT in a missing directory");
	if(fd >= 0)
		close(fd);
	unlink("of");
	rmdir("od");
}

static void
tnamelen(void)
{
	char name[258];
	struct stat st;
	int fd;

	memset(name, 'n', 255);
	name[255] = 0;
	fd = open(name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	sysok(fd, "name: 255 bytes: create");
	if(fd >= 0)
		close(fd);
	sysok(stat(name, &st), "name: 255 bytes: stat");
	sysok(unlink(name), "name: 255 bytes: unlink");
	name[255] = 'n';
	name[256] = 0;
	syserr(fd = open(name, O_WRONLY | O_CREAT | O_CLOEXEC, 0644), ENAMETOOLONG, 0, "name: 256 bytes: create");
	if(fd >= 0)
		close(fd);
	syserr(stat(name, &st), ENAMETOOLONG, 0, "name: 256 bytes: stat");
	syserr(mkdir(name, 0755), ENAMETOOLONG, 0, "name: 256 bytes: mkdir");
}

static void
usage(void)
{
	fprintf(stderr, "usage: fsconform [-nqx] DIR\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	char work[64], why[300];
	Ent *before, *after;
	int c, nb, na, db, da, same, i;

	while((c = getopt(argc, argv, "nqx")) != -1)
		switch(c){
		case 'n':
			nolinks = 1;
			break;
		case 'q':
			quiet = 1;
			break;
		case 'x':
			xdev = 1;
			break;
		default:
			usage();
		}
	if(argc - optind != 1)
		usage();
	umask(022);
	if(chdir(argv[optind]) < 0){
		fprintf(stderr, "fsconform: %s: %s\n", argv[optind], strerror(errno));
		return 1;
	}
	if(listdir(".", &before, &nb, &db) < 0){
		fprintf(stderr, "fsconform: readdir %s: %s\n", argv[optind], strerror(errno));
		return 1;
	}
	snprintf(work, sizeof work, "fsconform.%d", (int)getpid());
	if(mkdir(work, 0755) < 0 || chdir(work) < 0){
		fprintf(stderr, "fsconform: %s/%s: %s\n", argv[optind], work, strerror(errno));
		return 1;
	}

	tcreate();
	trw();
	thole();
	trename();
	tunlink();
	tmkdir();
	treaddir();
	tstat();
	tchmod();
	ttrunc();
	tsymlink();
	tlink();
	topen();
	tnamelen();

	/* The scratch directory is empty now, and goes; DIR is as it was. */
	exactdir(".", NULL, 0, "cleanup");
	if(chdir("..") < 0){
		perror("fsconform: chdir ..");
		return 1;
	}
	nftw(work, rmone, 16, FTW_DEPTH | FTW_PHYS);
	if(listdir(".", &after, &na, &da) < 0){
		sysok(-1, "cleanup: readdir DIR");
	}else{
		same = na == nb;
		for(i = 0; same && i < na; i++)
			same = strcmp(before[i].name, after[i].name) == 0;
		snprintf(why, sizeof why, "got %d names want %d", na, nb);
		checkwhy(same, why, "cleanup: DIR holds what it held before");
		freeents(after, na);
	}
	freeents(before, nb);
	printf("1..%d\n", ntest);
	if(nfail > 0)
		printf("# %d of %d checks failed\n", nfail, ntest);
	return nfail > 0;
}
