/*
 * mkmounts.c: mkmounts N cmd [arg...]: fill the current mount namespace
 * with N bind mounts, then exec cmd.  A tmpfs goes on $MKMOUNTS_DIR (or a
 * new mkdtemp /tmp/mkmounts.XXXXXX, left behind empty), and its directory
 * s is bound on m/0 ... m/N-1 (N+2 mounts in all).  Run it only under
 * `unshare -m --propagation private`; it refuses the caller's namespace.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

static void
die(const char *what, const char *path)
{
	fprintf(stderr, "mkmounts: %s %s: %s\n", what, path, strerror(errno));
	exit(1);
}

/*
 * 1 if we share the mount namespace of our parent (unshare(1) execs us, so
 * its parent is the caller) or of pid 1, or cannot tell either.
 */
static int
hostns(void)
{
	struct stat self, other;
	char path[64];
	int known;

	if(stat("/proc/self/ns/mnt", &self) < 0)
		return 1;
	known = 0;
	snprintf(path, sizeof path, "/proc/%d/ns/mnt", (int)getppid());
	if(stat(path, &other) == 0){
		if(self.st_ino == other.st_ino && self.st_dev == other.st_dev)
			return 1;
		known = 1;
	}
	if(stat("/proc/1/ns/mnt", &other) == 0){
		if(self.st_ino == other.st_ino && self.st_dev == other.st_dev)
			return 1;
		known = 1;
	}
	return !known;
}

int
main(int argc, char **argv)
{
	char tmpl[] = "/tmp/mkmounts.XXXXXX";
	char path[4096], src[4096];
	const char *dir;
	char *end;
	long i, n;

	if(argc < 3){
		fprintf(stderr, "usage: unshare -m --propagation private mkmounts N cmd [arg...]\n");
		return 2;
	}
	errno = 0;
	n = strtol(argv[1], &end, 10);
	if(errno != 0 || *end != 0 || end == argv[1] || n < 0 || n > 1000000){
		fprintf(stderr, "mkmounts: bad count '%s'\n", argv[1]);
		return 2;
	}
	if(hostns()){
		fprintf(stderr, "mkmounts: refusing to run in the caller's mount namespace; "
			"use unshare -m --propagation private\n");
		return 1;
	}
	dir = getenv("MKMOUNTS_DIR");
	if(dir == NULL || dir[0] == 0){
		dir = mkdtemp(tmpl);
		if(dir == NULL)
			die("mkdtemp", tmpl);
	}
	if(mount("mkmounts", dir, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755") < 0)
		die("mount tmpfs on", dir);
	/* Belt and braces: nothing made below may propagate anywhere. */
	if(mount(NULL, dir, NULL, MS_PRIVATE, NULL) < 0)
		die("make private", dir);
	snprintf(src, sizeof src, "%s/s", dir);
	if(mkdir(src, 0755) < 0)
		die("mkdir", src);
	/*
	 * Bind s on itself first: a bind walks every child mount of its source
	 * mount (__do_loopback's has_locked_children), and the tmpfs itself
	 * collects all N binds, so binding straight from it is O(N^2).
	 */
	if(mount(src, src, NULL, MS_BIND, NULL) < 0)
		die("bind on", src);
	snprintf(path, sizeof path, "%s/m", dir);
	if(mkdir(path, 0755) < 0)
		die("mkdir", path);
	for(i = 0; i < n; i++){
		snprintf(path, sizeof path, "%s/m/%ld", dir, i);
		if(mkdir(path, 0755) < 0)
			die("mkdir", path);
		if(mount(src, path, NULL, MS_BIND, NULL) < 0)
			die("bind on", path);
	}
	execvp(argv[2], argv + 2);
	die("exec", argv[2]);
	return 1;
}
