/*
 * apply.c: bind, mount and unmount in the caller's own name space, with
 * Plan 9's rules mapped onto Linux mounts:
 *  - new is resolved with translation (a mount point gives what is mounted
 *    there); the tree bound is a recursive clone, made private before it
 *    is attached, so nothing propagates in or out (linux.md §5);
 *  - MREPL onto a mount point replaces what is there, atomically: the new
 *    tree goes beneath the old top mount, which is then detached
 *    (MOVE_MOUNT_BENEATH, linux.md §7).  Where the kernel refuses that (a
 *    locked mount, an old kernel) the new tree is stacked on top;
 *  - every check is made before the first change, so a failing command
 *    changes nothing.
 */
#include <errno.h>
#include <stdio.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kern.h"
#include "ns9.h"
#include "union.h"
#include "impl.h"

enum { CTXMAX = 300 };

static int
checkflag(int flag, const char *ctx)
{
	if((flag & ~NS_MMASK) != 0 || (flag & NS_MORDER) == NS_MORDER)
		return perr(Ebadarg, "%s", ctx);
	/*
	 * -c alone (MREPL|MCREATE) is a plain replacement: a Linux mount always
	 * allows creation, so it is honoured exactly.  -a and -b make unions
	 * (union.c).
	 */
	return 0;
}

/* Whether fd is the root of a mount. */
static int
ismountroot(int fd)
{
	struct statx sx;

	if(statx(fd, "", AT_EMPTY_PATH | AT_STATX_DONT_SYNC, STATX_TYPE, &sx) < 0)
		return 0;
	return (sx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) &&
	       (sx.stx_attributes & STATX_ATTR_MOUNT_ROOT);
}

/* Whether fd is the caller's root directory (the same mount and inode). */
static int
isnsroot(int fd)
{
	struct statx a, b;

	if(statx(fd, "", AT_EMPTY_PATH, STATX_INO | STATX_MNT_ID, &a) < 0 ||
	   statx(AT_FDCWD, "/", 0, STATX_INO | STATX_MNT_ID, &b) < 0)
		return 0;
	return a.stx_mnt_id == b.stx_mnt_id && a.stx_ino == b.stx_ino &&
	       a.stx_dev_major == b.stx_dev_major && a.stx_dev_minor == b.stx_dev_minor;
}

/* Open old for attaching (O_PATH); devices that are paths are allowed. */
int
ns_openold(const char *old, const char *ctx, char **pathp)
{
	char *path;
	int fd, tree;

	if(old[0] == 0)
		return seterr(ENOENT, "%s: empty file name", ctx);
	if(ns_devresolve(old, &path, &tree) < 0)
		return adderr("%s", ctx);
	if(tree >= 0){
		close(tree);
		return perr(Ebadarg, "%s: cannot mount on a fresh file system", ctx);
	}
	fd = open(path, O_PATH | O_CLOEXEC);
	if(fd < 0){
		syserrpath(path, "%s", ctx);
		free(path);
		return -1;
	}
	*pathp = path;
	return fd;
}

/* Attach tree on old, replacing what is mounted there (MREPL). Consumes tree. */
int
ns_attach(int tree, const char *old, const char *ctx)
{
	struct stat tst, ost;
	char *opath;
	int ofd, r;

	opath = NULL;
	ofd = ns_openold(old, ctx, &opath);
	if(ofd < 0){
		close(tree);
		return -1;
	}
	r = -1;
	if(fstat(tree, &tst) < 0 || fstat(ofd, &ost) < 0){
		syserr("%s", ctx);
		goto out;
	}
	if(S_ISDIR(tst.st_mode) != S_ISDIR(ost.st_mode)){
		perr(Emount, "%s", ctx);
		goto out;
	}
	if(isnsroot(ofd)){
		/*
		 * Linux cannot replace the root in place (and a mount on a chroot
		 * directory would be seen by no one); an identical tree is a no-op.
		 */
		if(tst.st_dev == ost.st_dev && tst.st_ino == ost.st_ino)
			r = 0;
		else
			seterr(EBUSY, "%s: cannot replace the root of the name space", ctx);
		goto out;
	}
	if(ismountroot(ofd)){
		if(move_mount(tree, "", ofd, "",
			      MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH | MOVE_MOUNT_BENEATH) == 0){
			/* The old top is now above the new tree: detach it. */
			if(umount2(opath, MNT_DETACH) < 0)
				seterr(errno, "%s: the new tree is attached beneath the old mount, "
					      "which could not be detached: %s", ctx, errnostr(errno));
			else
				r = 0;
			goto out;
		}
		if(errno != EINVAL){
			ns_permerr(ctx);
			goto out;
		}
		/* Locked mount or no MOVE_MOUNT_BENEATH: stack on top. */
	}
	if(move_mount(tree, "", ofd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
		ns_permerr(ctx);
	else
		r = 0;
out:
	free(opath);
	close(ofd);
	close(tree);
	return r;
}

/*
 * bind of a union (new is one): the members m[] (consumed) are copied
 * (plan9.md §2.4): the first with the caller's flags, the rest after it,
 * none MCREATE; -c is allowed only for a union of one MCREATE member.
 */
static int
unioncopy(NsMember *m, int n, const char *old, int flag, const char *ctx)
{
	int i;

	if((flag & NS_MCREATE) && !(n == 1 && (m[0].flag & NS_MCREATE))){
		ns_freemembers(m, n);
		return perr(Emount, "%s", ctx);
	}
	for(i = 0; i < n; i++){
		m[i].flag = i == 0 ? flag & (NS_MCREATE | NS_MCACHE) : m[i].flag & NS_MCACHE;
		if(m[i].verb == USELF)
			m[i].verb = NS_BIND;
	}
	if(flag & NS_MORDER)
		return ns_unionadd(m, n, old, flag, ctx);
	return ns_unioncopy(m, n, old, ctx);
}

/*
 * new is resolved once: a # device that makes a file system, a union (its
 * members copied), a directory below a union's root (the member directory
 * it is), or else a path, bound as a detached, private, recursive clone.
 */
int
ns_bind(const char *new, const char *old, int flag)
{
	char ctx[CTXMAX], *path;
	NsMember *m;
	int tree, n, r;

	snprintf(ctx, sizeof ctx, "bind %s %s", new, old);
	if(checkflag(flag, ctx) < 0)
		return -1;
	if(new[0] == 0)
		return seterr(ENOENT, "%s: empty file name", ctx);
	if(ns_devresolve(new, &path, &tree) < 0)
		return adderr("%s", ctx);
	if(tree >= 0){
		free(path);
		if(ns_private(tree, 0, ctx) < 0){
			close(tree);
			return -1;
		}
	}else{
		r = ns_unionof(path, &m, &n, ctx);
		if(r != 0){
			free(path);
			return r < 0 ? -1 : unioncopy(m, n, old, flag, ctx);
		}
		tree = flag & NS_MORDER ? ns_uniondir(path, ctx) : -2;
		if(tree == -2)
			tree = ns_clonetree(path, 0, ctx);
		free(path);
		if(tree < 0)
			return -1;
	}
	if(!(flag & NS_MORDER))
		return ns_attach(tree, old, ctx);
	m = emalloc(sizeof m[0]);
	m->flag = flag & (NS_MCREATE | NS_MCACHE);
	m->verb = NS_BIND;
	m->name = ns_absname(new);
	m->spec = NULL;
	m->fd = tree;
	return ns_unionadd(m, 1, old, flag, ctx);
}

/* Mount a Linux file system named fs!TYPE!SOURCE with options spec. */
static int
fsmountlinux(const char *srv, const char *spec, const char *ctx)
{
	static const struct {
		const char *name;
		unsigned int attr;
	} mattr[] = {
		{"nosuid", MOUNT_ATTR_NOSUID},
		{"nodev", MOUNT_ATTR_NODEV},
		{"noexec", MOUNT_ATTR_NOEXEC},
		{"noatime", MOUNT_ATTR_NOATIME},
		{"nodiratime", MOUNT_ATTR_NODIRATIME},
	};
	char *s, *type, *source, *opt, *val, *save;
	unsigned int attrs;
	size_t k;
	int fs, mnt;

	s = estrdup(srv + 3);
	type = s;
	source = strchr(s, '!');
	if(source == NULL || type[0] == 0){
		free(s);
		return seterr(EINVAL, "%s: bad file system name: want fs!TYPE!SOURCE", ctx);
	}
	*source++ = 0;
	mnt = -1;
	attrs = 0;
	fs = fsopen(type, FSOPEN_CLOEXEC);
	if(fs < 0){
		if(errno == ENODEV)
			seterr(ENODEV, "%s: unknown file system type '%s'", ctx, type);
		else
			ns_permerr(ctx);
		goto out;
	}
	if(fsconfig(fs, FSCONFIG_SET_STRING, "source", source, 0) < 0){
		ns_permerr(ctx);
		goto out;
	}
	if(spec != NULL){
		opt = estrdup(spec);
		for(val = strtok_r(opt, ",", &save); val != NULL; val = strtok_r(NULL, ",", &save)){
			char *eq;
			int r;

			/* Per-mount flags go to fsmount, not to the file system. */
			for(k = 0; k < nelem(mattr); k++)
				if(strcmp(val, mattr[k].name) == 0)
					break;
			if(k < nelem(mattr)){
				attrs |= mattr[k].attr;
				continue;
			}
			eq = strchr(val, '=');
			if(eq != NULL){
				*eq = 0;
				r = fsconfig(fs, FSCONFIG_SET_STRING, val, eq + 1, 0);
			}else
				r = fsconfig(fs, FSCONFIG_SET_FLAG, val, NULL, 0);
			if(r < 0){
				seterr(errno, "%s: bad option '%s' for %s", ctx, val, type);
				free(opt);
				goto out;
			}
		}
		free(opt);
	}
	if(fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0){
		ns_permerr(ctx);
		goto out;
	}
	mnt = fsmount(fs, FSMOUNT_CLOEXEC, attrs);
	if(mnt < 0)
		ns_permerr(ctx);
out:
	if(fs >= 0)
		close(fs);
	free(s);
	return mnt;
}

int
ns_mount(const char *srv, const char *old, int flag, const char *spec)
{
	char ctx[CTXMAX];
	NsMember *m;
	int tree;

	snprintf(ctx, sizeof ctx, "mount %s %s", srv, old);
	if(checkflag(flag, ctx) < 0)
		return -1;
	if(ns_nomnt())
		return perr(Enoattach, "%s", ctx);
	if(flag & NS_MORDER){
		/* A union member: the file system, detached, goes to the union. */
		if(strncmp(srv, "fs!", 3) == 0)
			tree = fsmountlinux(srv, spec, ctx);
		else
			tree = ns_mount9ptree(srv, flag, spec, ctx);
		if(tree < 0)
			return -1;
		m = emalloc(sizeof m[0]);
		m->flag = flag & (NS_MCREATE | NS_MCACHE);
		m->verb = NS_MOUNT;
		m->name = estrdup(srv);
		m->spec = spec != NULL && spec[0] != 0 ? estrdup(spec) : NULL;
		m->fd = tree;
		return ns_unionadd(m, 1, old, flag, ctx);
	}
	if(strncmp(srv, "fs!", 3) == 0){
		tree = fsmountlinux(srv, spec, ctx);
		if(tree < 0)
			return -1;
		return ns_attach(tree, old, ctx);
	}
	/* A 9P service: a posted name, a socket path or a dial string. */
	return ns_mount9p(srv, old, flag, spec, ctx);
}

int
ns_unmount(const char *new, const char *old)
{
	char ctx[CTXMAX];
	struct stat nst, ost;
	char *opath, *npath;
	int ofd, tree, r, i;

	if(new != NULL)
		snprintf(ctx, sizeof ctx, "unmount %s %s", new, old);
	else
		snprintf(ctx, sizeof ctx, "unmount %s", old);
	if(new != NULL){
		/* One member of a union. */
		r = ns_unionremove(new, old, ctx);
		if(r != 0)
			return r < 0 ? -1 : 0;
	}
	opath = NULL;
	ofd = ns_openold(old, ctx, &opath);
	if(ofd < 0)
		return -1;
	r = -1;
	if(!ismountroot(ofd)){
		perr(Eunmount, "%s", ctx);
		goto out;
	}
	if(isnsroot(ofd)){
		seterr(EBUSY, "%s: cannot unmount the root of the name space", ctx);
		goto out;
	}
	if(new != NULL){
		/* The member is named by what new resolves to (Plan 9 opens it). */
		if(ns_devresolve(new, &npath, &tree) < 0){
			adderr("%s", ctx);
			goto out;
		}
		if(tree >= 0){
			close(tree);
			perr(Eunion, "%s", ctx);
			goto out;
		}
		if(stat(npath, &nst) < 0){
			syserrpath(npath, "%s", ctx);
			free(npath);
			goto out;
		}
		free(npath);
		if(fstat(ofd, &ost) < 0){
			syserr("%s", ctx);
			goto out;
		}
		if(nst.st_dev != ost.st_dev || nst.st_ino != ost.st_ino){
			perr(Eunion, "%s", ctx);
			goto out;
		}
	}
	if(umount2(opath, MNT_DETACH) < 0){
		if(errno == EINVAL)
			perr(Elocked, "%s", ctx);
		else
			ns_permerr(ctx);
		goto out;
	}
	r = 0;
	/*
	 * One argument removes the whole stack at old, as Plan 9 frees every
	 * record of the mount head.  Mounts the caller may not remove (locked
	 * ones inherited from a more privileged name space) end the loop.
	 */
	if(new == NULL){
		for(i = 0; i < 4096; i++){
			close(ofd);
			ofd = open(opath, O_PATH | O_CLOEXEC);
			if(ofd < 0 || !ismountroot(ofd) || isnsroot(ofd))
				break;
			if(umount2(opath, MNT_DETACH) < 0)
				break;
		}
	}
out:
	free(opath);
	if(ofd >= 0)
		close(ofd);
	return r;
}

int
ns_apply(const NsCmd *c)
{
	switch(c->verb){
	case NS_BIND:
		return ns_bind(c->new, c->old, c->flag);
	case NS_MOUNT:
		return ns_mount(c->new, c->old, c->flag, c->spec);
	case NS_UNMOUNT:
		return ns_unmount(c->new, c->old);
	case NS_CD:
		if(chdir(c->old) < 0)
			return syserrpath(c->old, "cd %s", c->old);
		return 0;
	}
	return seterr(EINVAL, "bad command");
}
