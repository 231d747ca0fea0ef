/*
 * mnt.c: small pieces every mount-making file of lib/ns needs: a private
 * recursive clone of a tree, a fresh tmpfs, the caller's capabilities,
 * /proc/PID files, and the permission error the Plan 9 way.
 */
#include <errno.h>
#include <sched.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "kern.h"
#include "ns9.h"
#include "impl.h"

int
ns_permerr(const char *ctx)
{
	/* The kernel says EPERM where Plan 9 says "permission denied" (EACCES). */
	if(errno == EPERM)
		errno = EACCES;
	return ctx != NULL ? syserr("%s", ctx) : syserr(NULL);
}

int
ns_clonetree(const char *path, int ro, const char *ctx)
{
	int fd;

	fd = open_tree(AT_FDCWD, path, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);
	if(fd < 0){
		if(errno == ENOENT || errno == ENOTDIR)
			return syserrpath(path, "%s", ctx);
		return ns_permerr(ctx);
	}
	if(ns_private(fd, ro, ctx) < 0){
		close(fd);
		return -1;
	}
	return fd;
}

int
ns_private(int tree, int ro, const char *ctx)
{
	struct mount_attr attr;

	memset(&attr, 0, sizeof attr);
	attr.propagation = MS_PRIVATE;
	if(ro)
		attr.attr_set = MOUNT_ATTR_RDONLY;
	if(mount_setattr(tree, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof attr) < 0)
		return ns_permerr(ctx);
	return 0;
}

int
ns_freshtmpfs(const char *source, const char *mode, const char *ctx)
{
	int fs, mnt;

	fs = fsopen("tmpfs", FSOPEN_CLOEXEC);
	if(fs < 0)
		return syserr("%s", ctx);
	mnt = -1;
	if(fsconfig(fs, FSCONFIG_SET_STRING, "source", source, 0) < 0 ||
	   fsconfig(fs, FSCONFIG_SET_STRING, "mode", mode, 0) < 0 ||
	   fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0 ||
	   (mnt = fsmount(fs, FSMOUNT_CLOEXEC, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV)) < 0)
		syserr("%s", ctx);
	close(fs);
	return mnt;
}

uint64_t
ns_capeff(void)
{
	struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
	struct __user_cap_data_struct d[2];

	if(syscall(SYS_capget, &h, d) < 0)
		return 0;
	return (uint64_t)d[1].effective << 32 | d[0].effective;
}

int
ns_procopen(pid_t pid, const char *name, int flags)
{
	char path[64];
	int fd;

	if(pid == 0)
		snprintf(path, sizeof path, "/proc/self/%s", name);
	else
		snprintf(path, sizeof path, "/proc/%d/%s", (int)pid, name);
	fd = open(path, flags | O_CLOEXEC);
	if(fd < 0){
		if(errno == ENOENT || errno == ESRCH)
			return perr(Eprocdied, NULL);
		return syserr(NULL);
	}
	return fd;
}

/*
 * A server of a mount (a union, a 9P client) needs no path of the name
 * space its mount is in, and staying there would keep that name space
 * alive, and with it the mount, after its last process exits: the server
 * would never see its mount go.  So it moves to a name space of its own
 * holding only a tmpfs and /proc.  Without the privilege (CAP_SYS_ADMIN)
 * it stays; whatever fails after the unshare leaves it in a private copy,
 * still serving.
 */
void
ns_isolate(void)
{
	int fs, tmp, proc;

	if(unshare(CLONE_NEWNS) < 0)
		return;
	if(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return;
	fs = fsopen("tmpfs", FSOPEN_CLOEXEC);
	if(fs < 0)
		return;
	tmp = -1;
	if(fsconfig(fs, FSCONFIG_SET_STRING, "mode", "0700", 0) == 0 &&
	   fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) == 0)
		tmp = fsmount(fs, FSMOUNT_CLOEXEC, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC);
	close(fs);
	if(tmp < 0)
		return;
	proc = open_tree(AT_FDCWD, "/proc", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
	if(proc >= 0){
		if(mkdirat(tmp, "proc", 0555) < 0 || move_mount(proc, "", tmp, "proc", MOVE_MOUNT_F_EMPTY_PATH) < 0){
			/* no /proc: a union then caches nothing (no inotify) */
		}
		close(proc);
	}
	/* The tmpfs over /, then pivot_root(".", ".") and the old root detached. */
	if(move_mount(tmp, "", AT_FDCWD, "/", MOVE_MOUNT_F_EMPTY_PATH) < 0 || fchdir(tmp) < 0 ||
	   syscall(SYS_pivot_root, ".", ".") < 0 || umount2(".", MNT_DETACH) < 0 || chdir("/") < 0){
	}
	close(tmp);
}

int
ns_fusedev(int fusefd, unsigned *maj, unsigned *min)
{
	char path[64], line[256];
	unsigned long v;
	FILE *f;
	int rv;

	snprintf(path, sizeof path, "/proc/self/fdinfo/%d", fusefd);
	f = fopen(path, "re");
	if(f == NULL)
		return -1;
	rv = -1;
	while(fgets(line, sizeof line, f) != NULL)
		if(sscanf(line, "fuse_connection: %lu", &v) == 1){
			/* the kernel's dev_t: major << 20 | minor */
			*maj = v >> 20;
			*min = v & 0xfffff;
			rv = 0;
			break;
		}
	fclose(f);
	return rv;
}

int
ns_fdmount(int fd, char **fstypep, char **sourcep, unsigned *maj, unsigned *min)
{
	struct statx sx;
	NsTable t;
	int i, r;

	if(statx(fd, "", AT_EMPTY_PATH, STATX_MNT_ID, &sx) < 0 || !(sx.stx_mask & STATX_MNT_ID))
		return -1;
	if(ns_readtable(0, &t) < 0)
		return -1;
	r = -1;
	for(i = 0; i < t.n; i++)
		if((uint64_t)t.m[i].id == sx.stx_mnt_id){
			*fstypep = estrdup(t.m[i].fstype);
			if(sourcep != NULL)
				*sourcep = estrdup(t.m[i].source);
			if(maj != NULL)
				*maj = t.m[i].major;
			if(min != NULL)
				*min = t.m[i].minor;
			r = 0;
			break;
		}
	ns_freetable(&t);
	return r;
}
