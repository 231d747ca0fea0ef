/*
 * dev.c: kernel devices in # form.  A name '#' + rune + spec [/ rest]
 * names a device; ns9 maps each to a Linux object (the table of ns9(1)):
 *	#/PATH	PATH under the host root: the root ns9 newns started from
 *		(reroot: the new root), else the caller's root
 *	#r/PATH	the same, read-only
 *	#s	the srv directory (ns_srvdir)
 *	#p	a proc file system: a fresh one where allowed, else a clone
 *	#c	a minimal /dev: a tmpfs with null, zero, full, random, urandom
 *		and tty bound from the caller's /dev, its terminal as cons
 *		and at its own path, fd and std{in,out,err} as links to /proc
 *	#T	a fresh, empty tmpfs, mode 0755, owned by the caller
 *	#m/PATH	a copy of PATH in RAM: a fresh tmpfs holding the copy (a
 *		directory's contents, or the file under its own name)
 * All but #s (a path, outside newns) are trees: detached mounts.  Under
 * RFNOMNT every device is refused, as Plan 9 refuses all but |decp.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <linux/openat2.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "ns9.h"
#include "impl.h"

/* Make dir (mode) unless it exists; the last one must be ours and private. */
static int
mkpriv(const char *dir, int mode, int check)
{
	struct stat st;

	if(mkdir(dir, mode) < 0 && errno != EEXIST)
		return syserrpath(dir, "srv directory");
	if(lstat(dir, &st) < 0)
		return syserrpath(dir, "srv directory");
	if(!S_ISDIR(st.st_mode))
		return perr(Enotdir, "srv directory %s", dir);
	if(check && (st.st_uid != geteuid() || (st.st_mode & 077) != 0))
		return seterr(EACCES, "srv directory %s: not owned by uid %d with mode 0700", dir,
			      (int)geteuid());
	return 0;
}

const char *
ns_srvdir(void)
{
	static __thread char path[4096];
	const char *xdg, *env;
	char base[3800];
	struct stat st;

	/*
	 * Worked out on every call, never cached: the answer depends on the
	 * effective uid, and a helper acting for another user (ns_as) shares
	 * its server thread's storage: a cache would hand one user's srv
	 * directory to the next caller on that thread.
	 */
	path[0] = 0;
	env = getenv("NS9SRV");
	if(env != NULL && env[0] == '/'){
		if(stat(env, &st) < 0)
			return syserrpath(env, "srv directory $NS9SRV"), NULL;
		/* root's services are posted only where nobody else may reach them */
		if(geteuid() == 0 && (st.st_uid != 0 || (st.st_mode & 022) != 0 || !S_ISDIR(st.st_mode)))
			return seterr(EACCES, "srv directory $NS9SRV %s: not root's, or writable by others", env), NULL;
		snprintf(path, sizeof path, "%s", env);
		return path;
	}
	if(geteuid() == 0){
		if(mkpriv("/run/ns9", 0755, 0) < 0 || mkpriv("/run/ns9/srv", 0700, 1) < 0)
			return NULL;
		snprintf(path, sizeof path, "/run/ns9/srv");
		return path;
	}
	xdg = getenv("XDG_RUNTIME_DIR");
	if(xdg != NULL && xdg[0] == '/' && stat(xdg, &st) == 0 && st.st_uid == geteuid())
		snprintf(base, sizeof base, "%s/ns9", xdg);
	else
		snprintf(base, sizeof base, "/tmp/ns9.%d", (int)geteuid());
	if(mkpriv(base, 0700, 1) < 0)
		return NULL;
	snprintf(path, sizeof path, "%s/srv", base);
	if(mkpriv(path, 0700, 1) < 0){
		path[0] = 0;
		return NULL;
	}
	return path;
}

/* While ns_newns builds a clean name space: the roots devices reach through. */
static int hostroot = -1;	/* #/ and #r */
static int selfroot = -1;	/* #s, #c, #p */
static char *hostsrv;		/* the srv directory, looked up in selfroot */
static char *hosttty;		/* the caller's terminal (stdin's), a path in selfroot */
static Buf names;		/* ns_hostnames */
static char *hostsrverr;	/* why there is no hostsrv */

enum { Maxown = 64 };
static dev_t owndev[Maxown];
static int nown;

void
ns_ownfs(dev_t dev)
{
	if(nown < Maxown)
		owndev[nown++] = dev;
}

int
ns_isownfs(dev_t dev)
{
	int i;

	for(i = 0; i < nown; i++)
		if(owndev[i] == dev)
			return 1;
	return 0;
}

void
ns_ownfsreset(void)
{
	nown = 0;
}

int
ns_sethostroot(int host, int self)
{
	char tty[PATH_MAX];
	const char *d;

	if(hostroot >= 0)
		close(hostroot);
	if(selfroot >= 0)
		close(selfroot);
	free(hostsrv);
	free(hosttty);
	free(hostsrverr);
	hostsrv = hosttty = hostsrverr = NULL;
	hostroot = host;
	selfroot = self;
	buffree(&names);
	if(self >= 0){
		d = ns_srvdir();
		if(d != NULL)
			hostsrv = estrdup(d);
		else{
			hostsrverr = estrdup(errtext());
			clearerr9();
		}
		if(ttyname_r(0, tty, sizeof tty) == 0 && strncmp(tty, "/dev/", 5) == 0)
			hosttty = estrdup(tty);
	}
	return 0;
}

/*
 * While a clean name space is built, each piece of the host root is
 * recorded as "ID MAJ:MIN HOSTPATH NAME" lines (ns_hostnames), so that
 * its text can name it by the device again (text.c; NS9NAMES).
 */
const char *
ns_hostnames(void)
{
	return names.s != NULL ? names.s : "";
}

static void
notename(int tree, const char *rel, const char *name)
{
	struct statx sx;

	if(selfroot < 0 || strpbrk(name, "\n ") != NULL || strpbrk(rel, "\n ") != NULL)
		return;
	if(statx(tree, "", AT_EMPTY_PATH, STATX_MNT_ID, &sx) < 0 || !(sx.stx_mask & STATX_MNT_ID))
		return;
	bufprint(&names, "%llu %u:%u /%s %s\n", (unsigned long long)sx.stx_mnt_id, sx.stx_dev_major,
		 sx.stx_dev_minor, rel, name);
}

/*
 * rel, a path under root fd (-1: the caller's root), opened with flags
 * (O_PATH to name it).  Under an fd, the path is confined there as if it
 * were the root: ".." stops at it and absolute links resolve in it, not in
 * the clean root being built (RESOLVE_IN_ROOT); reroot's new root is not
 * left by either.
 */
static int
openin(int root, const char *rel, int flags)
{
	struct open_how how;
	char *abs;
	int fd;

	while(*rel == '/')
		rel++;
	if(root < 0){
		abs = esmprint("/%s", rel);
		fd = open(abs, flags | O_CLOEXEC);
		free(abs);
		return fd;
	}
	memset(&how, 0, sizeof how);
	how.flags = flags | O_CLOEXEC;
	how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
	return syscall(SYS_openat2, root, *rel ? rel : ".", &how, sizeof how);
}

/* A recursive private clone of rel (a path in root fd; -1: the caller's root). */
static int
clonefrom(int root, const char *rel, int ro, const char *name)
{
	int fd, tree;

	while(*rel == '/')
		rel++;
	fd = openin(root, rel, O_PATH);
	tree = fd < 0 ? -1 : open_tree(fd, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE | AT_EMPTY_PATH);
	if(tree < 0){
		if(fd >= 0)
			close(fd);
		if(errno == ENOENT || errno == ENOTDIR)
			return syserrpath(name, NULL);
		return ns_permerr(name);
	}
	close(fd);
	if(ns_private(tree, ro, name) < 0){
		close(tree);
		return -1;
	}
	if(root == hostroot)
		notename(tree, rel, name);
	return tree;
}

/*
 * #p: the caller's /proc, cloned: the same instance with its options
 * (hidepid, subset), which a fresh one made by root would drop.
 */
static int
devproc(const char *name)
{
	return clonefrom(selfroot, "proc", 0, name);
}

/* Bind the file path (absolute) of the caller's root on name in tree t; a missing source is skipped. */
static int
devnode(int t, const char *path, const char *name)
{
	int src, fd;

	src = selfroot >= 0 ? open_tree(selfroot, path + 1, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC)
			    : open_tree(AT_FDCWD, path, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
	if(src < 0)
		return errno == ENOENT ? 0 : -1;
	fd = openat(t, name, O_CREAT | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0600);
	if(fd >= 0)
		close(fd);
	if(fd < 0 || move_mount(src, "", t, name, MOVE_MOUNT_F_EMPTY_PATH) < 0){
		close(src);
		return -1;
	}
	close(src);
	return 0;
}

/* #c: a minimal /dev. */
static int
devcons(const char *name)
{
	static const char *nodes[] = {"null", "zero", "full", "random", "urandom", "tty", "fuse"};
	static const char *links[][2] = {
		{"fd", "/proc/self/fd"},
		{"stdin", "/proc/self/fd/0"},
		{"stdout", "/proc/self/fd/1"},
		{"stderr", "/proc/self/fd/2"},
	};
	char tty[PATH_MAX], *p;
	size_t i;
	int t;

	t = ns_freshtmpfs("#c", "0755", name);
	if(t < 0)
		return -1;
	for(i = 0; i < nelem(nodes); i++){
		snprintf(tty, sizeof tty, "/dev/%s", nodes[i]);
		if(devnode(t, tty, nodes[i]) < 0)
			goto bad;
	}
	for(i = 0; i < nelem(links); i++)
		if(symlinkat(links[i][1], t, links[i][0]) < 0)
			goto bad;
	if(mkdirat(t, "shm", 0755) < 0 || fchmodat(t, "shm", 01777, 0) < 0)
		goto bad;
	/* The caller's terminal, at its own path (pts/N) and as cons. */
	if(hosttty != NULL || ttyname_r(0, tty, sizeof tty) == 0){
		if(hosttty != NULL)
			snprintf(tty, sizeof tty, "%s", hosttty);
		if(strncmp(tty, "/dev/", 5) == 0 && strstr(tty, "/..") == NULL){
			p = strrchr(tty + 5, '/');
			if(p != NULL){
				*p = 0;
				if(mkdirat(t, tty + 5, 0755) < 0 && errno != EEXIST)
					goto bad;
				*p = '/';
			}
			if(devnode(t, tty, tty + 5) < 0 || devnode(t, tty, "cons") < 0)
				goto bad;
		}
	}
	return t;
bad:
	syserr("%s", name);
	close(t);
	return -1;
}

enum {
	Maxcopydepth = 64,
	Maxcopy = 1 << 30,	/* bytes a RAM copy may hold */
};

typedef struct Copy Copy;
struct Copy {
	uint64_t bytes;
	int asroot;	/* root copies keep owners; others drop set-id bits */
};

/* Owner and mode of a copy, as the source had them (never set-id bits that root did not own). */
static int
keepattr(Copy *c, int fd, const char *name, int dd, const struct stat *st)
{
	mode_t mode;

	mode = st->st_mode & 07777;
	if(c->asroot){
		if((name != NULL ? fchownat(dd, name, st->st_uid, st->st_gid, AT_SYMLINK_NOFOLLOW)
				 : fchown(fd, st->st_uid, st->st_gid)) < 0)
			return -1;
	}else
		mode &= ~(S_ISUID | S_ISGID);
	if(S_ISLNK(st->st_mode))
		return 0;
	return name != NULL ? fchmodat(dd, name, mode, 0) : fchmod(fd, mode);
}

/* Copy the open regular file in to name in directory dd. */
static int
copyfd(Copy *c, int in, int dd, const char *name, const struct stat *st)
{
	char buf[65536];
	ssize_t n, w, k;
	int out, r;

	out = openat(dd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if(out < 0)
		return -1;
	r = 0;
	for(;;){
		if(c->bytes > Maxcopy){
			errno = EFBIG;
			r = -1;
			break;
		}
		n = copy_file_range(in, NULL, out, NULL, 1 << 24, 0);
		if(n > 0){
			c->bytes += n;
			continue;
		}
		if(n == 0)
			break;
		if(errno != EXDEV && errno != ENOSYS && errno != EINVAL && errno != EOPNOTSUPP){
			r = -1;
			break;
		}
		/* no copy_file_range between these two: by hand */
		while((n = read(in, buf, sizeof buf)) > 0){
			for(w = 0; w < n; w += k)
				if((k = write(out, buf + w, n - w)) < 0){
					r = -1;
					goto done;
				}
			c->bytes += n;
			if(c->bytes > Maxcopy){
				errno = EFBIG;
				r = -1;
				goto done;
			}
		}
		if(n < 0)
			r = -1;
		break;
	}
done:
	if(r == 0)
		r = keepattr(c, out, NULL, dd, st);
	close(out);
	return r;
}

/* Copy what directory sd holds into directory dd: files, directories, links. */
static int
copydir(Copy *c, int sd, int dd, int depth)
{
	struct dirent *de;
	struct stat st;
	char link[PATH_MAX];
	ssize_t n;
	DIR *d;
	int fd, s2, d2, in, r;

	if(depth > Maxcopydepth){
		errno = ELOOP;
		return -1;
	}
	fd = openat(sd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if(fd < 0 || (d = fdopendir(fd)) == NULL){
		if(fd >= 0)
			close(fd);
		return -1;
	}
	r = 0;
	while(r == 0 && (de = readdir(d)) != NULL){
		if(strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if(fstatat(sd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0){
			r = -1;
			break;
		}
		if(S_ISREG(st.st_mode)){
			/* never waits: a FIFO swapped in is not opened for reading */
			in = openat(sd, de->d_name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
			if(in < 0)
				r = -1;
			else{
				struct stat ist;

				r = fstat(in, &ist) < 0 || !S_ISREG(ist.st_mode) ? -1 : copyfd(c, in, dd, de->d_name, &ist);
				close(in);
			}
		}else if(S_ISLNK(st.st_mode)){
			n = readlinkat(sd, de->d_name, link, sizeof link - 1);
			if(n < 0)
				r = -1;
			else{
				link[n] = 0;
				r = symlinkat(link, dd, de->d_name);
				if(r == 0 && c->asroot)
					r = keepattr(c, -1, de->d_name, dd, &st);
			}
		}else if(S_ISDIR(st.st_mode)){
			if(mkdirat(dd, de->d_name, 0700) < 0){
				r = -1;
				break;
			}
			s2 = openat(sd, de->d_name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			d2 = openat(dd, de->d_name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			r = s2 < 0 || d2 < 0 ? -1 : copydir(c, s2, d2, depth + 1);
			if(s2 >= 0)
				close(s2);
			if(d2 >= 0)
				close(d2);
			if(r == 0)
				r = keepattr(c, -1, de->d_name, dd, &st);
		}
		/* devices, FIFOs and sockets are not copied */
	}
	closedir(d);
	return r;
}

/* Owner and mode of the copy's root (t: a mount's fd, which takes no fchmod). */
static int
keeprootattr(Copy *c, int t, const struct stat *st)
{
	int fd, r;

	fd = openat(t, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if(fd < 0)
		return -1;
	r = keepattr(c, fd, NULL, -1, st);
	close(fd);
	return r;
}

/*
 * #m/PATH: a RAM copy of PATH (under the host root), with the owners and
 * modes it had: the copy's root takes those of PATH, or for a file, of
 * the directory that holds it, so nothing is more open than it was.
 */
static int
devram(const char *rest, const char *name)
{
	struct stat st, dst;
	const char *rel, *base;
	char *dir;
	Copy c;
	int src, pd, t, r;

	rel = rest;
	while(*rel == '/')
		rel++;
	if(*rel == 0)
		return perr(Ebadarg, "%s: #m needs a path to copy", name);
	memset(&c, 0, sizeof c);
	c.asroot = geteuid() == 0;
	pd = t = -1;
	r = -1;
	src = openin(hostroot, rel, O_RDONLY | O_NONBLOCK | O_NOCTTY);
	if(src < 0 || fstat(src, &st) < 0){
		syserrpath(name, NULL);
		goto out;
	}
	if(!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode)){
		seterr(EINVAL, "%s: not a file or a directory", name);
		goto out;
	}
	t = ns_freshtmpfs(name, "0700", name);
	if(t < 0)
		goto out;
	if(S_ISDIR(st.st_mode)){
		if(copydir(&c, src, t, 0) < 0 || keeprootattr(&c, t, &st) < 0){
			syserr("%s: copy", name);
			goto out;
		}
	}else{
		/* the file under its own name; the root as the directory that held it */
		dir = estrdup(rel);
		base = strrchr(rel, '/');
		if(base != NULL)
			dir[base - rel] = 0;
		else
			strcpy(dir, ".");
		base = base != NULL ? base + 1 : rel;
		pd = openin(hostroot, dir, O_PATH | O_DIRECTORY);
		free(dir);
		if(pd < 0 || fstat(pd, &dst) < 0 || copyfd(&c, src, t, base, &st) < 0 ||
		   keeprootattr(&c, t, &dst) < 0){
			syserr("%s: copy", name);
			goto out;
		}
	}
	r = 0;
out:
	if(src >= 0)
		close(src);
	if(pd >= 0)
		close(pd);
	if(r < 0 && t >= 0){
		close(t);
		t = -1;
	}
	return t;
}

int
ns_devresolve(const char *name, char **pathp, int *treefd)
{
	const char *rest, *dir;
	char dev[8];
	size_t n;

	*pathp = NULL;
	*treefd = -1;
	if(name[0] != '#'){
		*pathp = estrdup(name);
		return 0;
	}
	/* The rune after '#' (UTF-8), then the spec up to the first '/'. */
	if(name[1] == 0)
		return perr(Ebadsharp, "%s", name);
	n = 1;
	while(n < 4 && ((unsigned char)name[1 + n] & 0xc0) == 0x80)
		n++;
	memcpy(dev, name + 1, n);
	dev[n] = 0;
	rest = name + 1 + n;
	/* #/ is the root: what follows is a path in it, '/' or not. */
	if(strcmp(dev, "/") == 0){
		if(ns_nomnt())
			return perr(Enoattach, "%s", name);
		*treefd = clonefrom(hostroot, rest, 0, name);
		return *treefd < 0 ? -1 : 0;
	}
	/* No other device takes a spec: the rest must start at '/' or be empty. */
	if(rest[0] != 0 && rest[0] != '/')
		return perr(Ebadsharp, "%s", name);
	if(strlen(dev) != 1 || strchr("srpcTm", dev[0]) == NULL)
		return perr(Ebadsharp, "%s", name);
	if(ns_nomnt())
		return perr(Enoattach, "%s", name);
	switch(dev[0]){
	case 's':
		if(selfroot >= 0){
			/* building a clean name space: the directory itself, as a tree */
			if(hostsrv == NULL)
				return seterr(EACCES, "%s: %s", name, hostsrverr != NULL ? hostsrverr : "no srv directory");
			if(rest[0] != 0 && strspn(rest, "/") != strlen(rest))
				return seterr(EINVAL, "%s: name the srv directory, then its posts through where it is bound", name);
			*treefd = clonefrom(selfroot, hostsrv, 0, name);
			return *treefd < 0 ? -1 : 0;
		}
		dir = ns_srvdir();
		if(dir == NULL)
			return -1;
		*pathp = esmprint("%s%s", dir, rest);
		return 0;
	case 'r':
		*treefd = clonefrom(hostroot, rest, 1, name);
		return *treefd < 0 ? -1 : 0;
	case 'm':
		*treefd = devram(rest, name);
		if(*treefd >= 0 && hostroot >= 0){
			const char *rel = rest;

			while(*rel == '/')
				rel++;
			notename(*treefd, rel, name);
		}
		return *treefd < 0 ? -1 : 0;
	}
	/* #T, #c, #p: made afresh, so only their root can be named. */
	if(rest[0] != 0 && strspn(rest, "/") != strlen(rest)){
		errno = ENOENT;
		return syserrpath(name, NULL);
	}
	switch(dev[0]){
	case 'p':
		*treefd = devproc(name);
		break;
	case 'c':
		*treefd = devcons(name);
		break;
	default:
		*treefd = ns_freshtmpfs("#T", "0755", name);
		if(*treefd >= 0 && selfroot >= 0){
			struct stat st;

			if(fstat(*treefd, &st) == 0)
				ns_ownfs(st.st_dev);
		}
	}
	return *treefd < 0 ? -1 : 0;
}
