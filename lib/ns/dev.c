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
#include <sys/sendfile.h>
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
	hostsrv = hosttty = NULL;
	hostroot = host;
	selfroot = self;
	buffree(&names);
	if(self >= 0){
		d = ns_srvdir();
		if(d != NULL)
			hostsrv = estrdup(d);
		else
			clearerr9();
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

/* A recursive private clone of rel (a path in root fd; -1: the caller's root). */
static int
clonefrom(int root, const char *rel, int ro, const char *name)
{
	char *abs;
	int tree;

	while(*rel == '/')
		rel++;
	if(root < 0){
		abs = esmprint("/%s", rel);
		tree = open_tree(AT_FDCWD, abs, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);
		free(abs);
	}else
		tree = open_tree(root, rel, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE |
						(*rel ? 0 : AT_EMPTY_PATH));
	if(tree < 0){
		if(errno == ENOENT || errno == ENOTDIR)
			return syserrpath(name, NULL);
		return ns_permerr(name);
	}
	if(ns_private(tree, ro, name) < 0){
		close(tree);
		return -1;
	}
	if(root == hostroot)
		notename(tree, rel, name);
	return tree;
}

/* #p: a fresh proc file system, else (a user without its own PID namespace) a clone. */
static int
devproc(const char *name)
{
	int fs, mnt;

	fs = fsopen("proc", FSOPEN_CLOEXEC);
	if(fs >= 0){
		mnt = -1;
		if(fsconfig(fs, FSCONFIG_SET_STRING, "source", "proc", 0) == 0 &&
		   fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) == 0)
			mnt = fsmount(fs, FSMOUNT_CLOEXEC, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC);
		close(fs);
		if(mnt >= 0)
			return mnt;
	}
	return clonefrom(selfroot, "proc", 0, name);
}

/* Bind the file rel of selfroot (the caller's) on name in tree t; a missing source is skipped. */
static int
devnode(int t, const char *rel, const char *name)
{
	int src, fd;

	src = selfroot >= 0 ? open_tree(selfroot, rel, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC)
			    : open_tree(AT_FDCWD, rel - 1, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
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
	static const char *nodes[] = {"null", "zero", "full", "random", "urandom", "tty"};
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
		if(devnode(t, tty + 1, nodes[i]) < 0)
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
			if(devnode(t, tty + 1, tty + 5) < 0 || devnode(t, tty + 1, "cons") < 0)
				goto bad;
		}
	}
	return t;
bad:
	syserr("%s", name);
	close(t);
	return -1;
}

enum { Maxcopydepth = 64 };

/* Copy the regular file name of directory sd into directory dd. */
static int
copyfile(int sd, int dd, const char *name, mode_t mode)
{
	char buf[65536];
	ssize_t n, w, k;
	int in, out, r;

	in = openat(sd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if(in < 0)
		return -1;
	out = openat(dd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if(out < 0){
		close(in);
		return -1;
	}
	r = 0;
	for(;;){
		n = copy_file_range(in, NULL, out, NULL, 1 << 30, 0);
		if(n > 0)
			continue;
		if(n == 0)
			break;
		if(errno != EXDEV && errno != ENOSYS && errno != EINVAL && errno != EOPNOTSUPP){
			r = -1;
			break;
		}
		/* no copy_file_range between these two: by hand */
		while((n = read(in, buf, sizeof buf)) > 0)
			for(w = 0; w < n; w += k)
				if((k = write(out, buf + w, n - w)) < 0){
					r = -1;
					goto done;
				}
		if(n < 0)
			r = -1;
		break;
	}
done:
	if(r == 0 && fchmod(out, mode & 07777) < 0)
		r = -1;
	close(in);
	close(out);
	return r;
}

/* Copy what directory sd holds into directory dd: files, directories, links. */
static int
copydir(int sd, int dd, int depth)
{
	struct dirent *de;
	struct stat st;
	char link[PATH_MAX];
	ssize_t n;
	DIR *d;
	int fd, s2, d2, r;

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
		if(S_ISREG(st.st_mode))
			r = copyfile(sd, dd, de->d_name, st.st_mode);
		else if(S_ISLNK(st.st_mode)){
			n = readlinkat(sd, de->d_name, link, sizeof link - 1);
			if(n < 0)
				r = -1;
			else{
				link[n] = 0;
				r = symlinkat(link, dd, de->d_name);
			}
		}else if(S_ISDIR(st.st_mode)){
			if(mkdirat(dd, de->d_name, 0700) < 0){
				r = -1;
				break;
			}
			s2 = openat(sd, de->d_name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			d2 = openat(dd, de->d_name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			r = s2 < 0 || d2 < 0 ? -1 : copydir(s2, d2, depth + 1);
			if(s2 >= 0)
				close(s2);
			if(d2 >= 0)
				close(d2);
			if(r == 0)
				r = fchmodat(dd, de->d_name, st.st_mode & 07777, 0);
		}
		/* devices, FIFOs and sockets are not copied */
	}
	closedir(d);
	return r;
}

/* #m/PATH: a RAM copy of PATH (under the host root). */
static int
devram(const char *rest, const char *name)
{
	struct stat st;
	const char *rel, *base;
	char *src;
	int root, sd, t, r;

	rel = rest;
	while(*rel == '/')
		rel++;
	if(*rel == 0)
		return perr(Ebadarg, "%s: #m needs a path to copy", name);
	root = hostroot >= 0 ? hostroot : AT_FDCWD;
	src = hostroot >= 0 ? estrdup(rel) : esmprint("/%s", rel);
	sd = -1;
	t = -1;
	r = -1;
	if(fstatat(root, src, &st, 0) < 0){
		syserrpath(name, NULL);
		goto out;
	}
	if(!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode)){
		seterr(EINVAL, "%s: not a file or a directory", name);
		goto out;
	}
	t = ns_freshtmpfs(name, "0755", name);
	if(t < 0)
		goto out;
	if(S_ISDIR(st.st_mode)){
		sd = openat(root, src, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if(sd < 0 || copydir(sd, t, 0) < 0){
			syserr("%s: copy", name);
			goto out;
		}
	}else{
		base = strrchr(src, '/');
		base = base != NULL ? base + 1 : src;
		if(base != src){
			char *dir = estrdup(src);

			dir[base - src - 1] = 0;
			sd = openat(root, *dir ? dir : "/", O_PATH | O_DIRECTORY | O_CLOEXEC);
			free(dir);
		}else
			sd = hostroot >= 0 ? fcntl(hostroot, F_DUPFD_CLOEXEC, 0) : open("/", O_PATH | O_CLOEXEC);
		if(sd < 0 || copyfile(sd, t, base, st.st_mode) < 0){
			syserr("%s: copy", name);
			goto out;
		}
	}
	r = 0;
out:
	if(sd >= 0)
		close(sd);
	free(src);
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
				return perr(Ebadsharp, "%s: no srv directory", name);
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
