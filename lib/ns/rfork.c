/*
 * rfork.c: new name spaces for the calling process (Plan 9 rfork(2)'s
 * RFNAMEG, RFCNAMEG and RFNOMNT).
 *  - RFNAMEG: a new mount namespace, made recursively private at once so
 *    nothing leaks either way (linux.md §5).  A caller without
 *    CAP_SYS_ADMIN also gets a new user namespace that maps it to itself,
 *    and CAP_SYS_ADMIN becomes ambient so the programs it runs can bind.
 *  - RFCNAMEG: the same, then a fresh tmpfs becomes the root, holding only
 *    the built-in recipe (see recipe[] and ns9(1)).
 *  - RFNOMNT: a seccomp filter refuses every new file system (fsopen,
 *    fspick, mount(2) without MS_BIND/MS_MOVE/MS_REMOUNT/propagation),
 *    while bind and unmount of what is reachable stay allowed, as in
 *    Plan 9.  The filter is inherited by every child and cannot be lifted.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/audit.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "kern.h"
#include "ns9.h"

static int
capeffective(int cap)
{
	struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
	struct __user_cap_data_struct d[2];

	if(syscall(SYS_capget, &h, d) < 0)
		return 0;
	return (d[cap / 32].effective >> (cap % 32)) & 1;
}

/* Put cap in the inheritable and ambient sets so it survives execve. */
static int
ambient(int cap)
{
	struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
	struct __user_cap_data_struct d[2];

	if(syscall(SYS_capget, &h, d) < 0)
		return syserr("rfork: capget");
	d[cap / 32].inheritable |= 1U << (cap % 32);
	if(syscall(SYS_capset, &h, d) < 0)
		return syserr("rfork: capset");
	if(prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) < 0)
		return syserr("rfork: ambient capability");
	return 0;
}

static int
writefile(const char *path, const char *s)
{
	int fd, n;

	fd = open(path, O_WRONLY | O_CLOEXEC);
	if(fd < 0)
		return syserrpath(path, "rfork");
	n = write(fd, s, strlen(s));
	close(fd);
	if(n != (int)strlen(s))
		return syserrpath(path, "rfork: write");
	return 0;
}

/* New user (if needed) and mount namespaces, recursively private. */
static int
newmntns(void)
{
	char map[64];
	uid_t uid;
	gid_t gid;

	if(capeffective(CAP_SYS_ADMIN)){
		if(unshare(CLONE_NEWNS) < 0)
			return syserr("rfork: new mount namespace");
	}else{
		uid = geteuid();
		gid = getegid();
		if(unshare(CLONE_NEWUSER | CLONE_NEWNS) < 0)
			return syserr("rfork: new user namespace (are unprivileged user namespaces allowed?)");
		snprintf(map, sizeof map, "%d %d 1\n", (int)uid, (int)uid);
		if(writefile("/proc/self/uid_map", map) < 0)
			return -1;
		if(writefile("/proc/self/setgroups", "deny") < 0)
			return -1;
		snprintf(map, sizeof map, "%d %d 1\n", (int)gid, (int)gid);
		if(writefile("/proc/self/gid_map", map) < 0)
			return -1;
		if(ambient(CAP_SYS_ADMIN) < 0)
			return -1;
	}
	if(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return syserr("rfork: make the name space private");
	return 0;
}

/*
 * The clean name space recipe.  Host paths are cloned first (so a source
 * under /tmp still works), then a fresh tmpfs is attached over /tmp,
 * filled, and made the root with pivot_root(".", ".").
 */
enum { RO = 1, TMP = 2, SYMLINK = 4, OPTIONAL = 8 };
static const struct {
	const char *path;
	int how;
} recipe[] = {
	{"/usr", RO},
	{"/etc", RO},
	{"/bin", RO | OPTIONAL},
	{"/sbin", RO | OPTIONAL},
	{"/lib", RO | OPTIONAL},
	{"/lib32", RO | OPTIONAL},
	{"/lib64", RO | OPTIONAL},
	{"/libx32", RO | OPTIONAL},
	{"/dev", 0},
	{"/proc", 0},
	{"/tmp", TMP},
};

typedef struct Piece Piece;
struct Piece {
	char *dst;	/* path in the new root */
	int fd;		/* detached tree, or -1 */
	char *link;	/* symlink target, or NULL */
	int dir;
};

static int
clonepath(const char *src, int ro, Piece *p)
{
	struct mount_attr attr;
	struct stat st;

	memset(&attr, 0, sizeof attr);
	attr.propagation = MS_PRIVATE;
	if(ro)
		attr.attr_set = MOUNT_ATTR_RDONLY;
	p->fd = open_tree(AT_FDCWD, src, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);
	if(p->fd < 0)
		return syserrpath(src, "rfork -N");
	if(mount_setattr(p->fd, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof attr) < 0 ||
	   fstat(p->fd, &st) < 0)
		return syserrpath(src, "rfork -N");
	p->dir = S_ISDIR(st.st_mode);
	return 0;
}

static int
mkdirs(const char *path)
{
	char buf[PATH_MAX], *p;

	snprintf(buf, sizeof buf, "%s", path);
	for(p = buf + 1; *p; p++)
		if(*p == '/'){
			*p = 0;
			if(mkdir(buf, 0755) < 0 && errno != EEXIST)
				return -1;
			*p = '/';
		}
	if(mkdir(buf, 0755) < 0 && errno != EEXIST)
		return -1;
	return 0;
}

static int
cleanroot(void)
{
	Piece pc[nelem(recipe) + 4];
	char exe[PATH_MAX], home[PATH_MAX], *p;
	const char *srv, *h;
	struct stat st;
	size_t i, n;
	int fs, root, r, havehome;
	ssize_t len;

	memset(pc, 0, sizeof pc);
	n = 0;
	r = -1;
	root = -1;
	havehome = 0;
	for(i = 0; i < nelem(recipe); i++){
		pc[n].dst = estrdup(recipe[i].path);
		pc[n].fd = -1;
		if(recipe[i].how & TMP){
			n++;
			continue;
		}
		if(lstat(recipe[i].path, &st) < 0){
			free(pc[n].dst);
			if(recipe[i].how & OPTIONAL)
				continue;
			syserrpath(recipe[i].path, "rfork -N");
			goto out;
		}
		if(S_ISLNK(st.st_mode)){
			/* Merged /usr: /bin -> usr/bin.  Keep the link, not a copy. */
			pc[n].link = emalloc(PATH_MAX);
			len = readlink(recipe[i].path, pc[n].link, PATH_MAX - 1);
			if(len < 0){
				syserrpath(recipe[i].path, "rfork -N");
				goto out;
			}
			n++;
			continue;
		}
		if(clonepath(recipe[i].path, recipe[i].how & RO, &pc[n++]) < 0)
			goto out;
	}
	/* The srv directory on /srv. */
	srv = ns_srvdir();
	if(srv != NULL){
		pc[n].dst = estrdup("/srv");
		if(clonepath(srv, 0, &pc[n++]) < 0)
			goto out;
	}
	/* The home directory at its own path. */
	h = getenv("HOME");
	if(h != NULL && h[0] == '/' && strcmp(h, "/") != 0 && stat(h, &st) == 0 && S_ISDIR(st.st_mode)){
		snprintf(home, sizeof home, "%s", h);
		pc[n].dst = estrdup(home);
		if(clonepath(home, 0, &pc[n++]) < 0)
			goto out;
		havehome = 1;
	}
	/* The directory holding ns9 itself, read-only, unless /usr has it. */
	len = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if(len > 0){
		exe[len] = 0;
		p = strrchr(exe, '/');
		if(p != NULL && p != exe){
			*p = 0;
			if(strncmp(exe, "/usr/", 5) != 0 && strcmp(exe, "/bin") != 0 &&
			   (!havehome || strncmp(exe, home, strlen(home)) != 0)){
				pc[n].dst = estrdup(exe);
				if(clonepath(exe, 1, &pc[n++]) < 0)
					goto out;
			}
		}
	}

	/* The fresh root. */
	fs = fsopen("tmpfs", FSOPEN_CLOEXEC);
	if(fs < 0){
		syserr("rfork -N: tmpfs");
		goto out;
	}
	if(fsconfig(fs, FSCONFIG_SET_STRING, "source", "ns9root", 0) < 0 ||
	   fsconfig(fs, FSCONFIG_SET_STRING, "mode", "0755", 0) < 0 ||
	   fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0 ||
	   (root = fsmount(fs, FSMOUNT_CLOEXEC, 0)) < 0){
		syserr("rfork -N: tmpfs");
		close(fs);
		goto out;
	}
	close(fs);
	if(move_mount(root, "", AT_FDCWD, "/tmp", MOVE_MOUNT_F_EMPTY_PATH) < 0 || chdir("/tmp") < 0){
		syserr("rfork -N: attach the new root on /tmp");
		goto out;
	}
	for(i = 0; i < n; i++){
		const char *rel = pc[i].dst + 1;

		if(pc[i].link != NULL){
			if(symlink(pc[i].link, rel) < 0){
				syserrpath(pc[i].dst, "rfork -N: symlink");
				goto out;
			}
			continue;
		}
		if(pc[i].fd < 0){
			/* A fresh /tmp. */
			if(mkdirs(rel) < 0 || mount("tmpfs", rel, "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777") < 0){
				syserrpath(pc[i].dst, "rfork -N: tmpfs");
				goto out;
			}
			continue;
		}
		if(pc[i].dir){
			if(mkdirs(rel) < 0){
				syserrpath(pc[i].dst, "rfork -N: mkdir");
				goto out;
			}
		}else{
			int f = open(rel, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
			if(f >= 0)
				close(f);
		}
		if(move_mount(pc[i].fd, "", AT_FDCWD, rel, MOVE_MOUNT_F_EMPTY_PATH) < 0){
			syserrpath(pc[i].dst, "rfork -N: attach");
			goto out;
		}
	}
	if(syscall(SYS_pivot_root, ".", ".") < 0){
		syserr("rfork -N: pivot_root");
		goto out;
	}
	if(umount2(".", MNT_DETACH) < 0){
		syserr("rfork -N: detach the old root");
		goto out;
	}
	if(chdir(havehome ? home : "/") < 0 && chdir("/") < 0){
		syserr("rfork -N: chdir");
		goto out;
	}
	if(srv != NULL)
		setenv("NS9SRV", "/srv", 1);
	r = 0;
out:
	for(i = 0; i < n; i++){
		if(pc[i].fd >= 0)
			close(pc[i].fd);
		free(pc[i].dst);
		free(pc[i].link);
	}
	if(root >= 0)
		close(root);
	return r;
}

/* Architecture of this build, for the seccomp filter. */
#if defined(__x86_64__)
#define AUDITARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define AUDITARCH AUDIT_ARCH_AARCH64
#else
#error "ns9: add the AUDIT_ARCH of this architecture"
#endif

static int
nomntfilter(void)
{
	enum { BINDLIKE = MS_BIND | MS_MOVE | MS_REMOUNT | MS_SHARED | MS_PRIVATE | MS_SLAVE | MS_UNBINDABLE };
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDITARCH, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),	/* foreign ABI */
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
#ifdef __x86_64__
		BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, 0x40000000, 0, 1),	/* x32 */
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
#endif
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_fsopen, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_fspick, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_mount, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		/* mount(2): allowed only when it binds, moves, remounts or sets propagation. */
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[3])),
		BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, BINDLIKE, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
	};
	struct sock_fprog prog = {nelem(f), f};

	if(!capeffective(CAP_SYS_ADMIN) && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return syserr("rfork -m: no_new_privs");
	if(prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) < 0)
		return syserr("rfork -m: seccomp");
	return 0;
}

int
ns_nomnt(void)
{
	int fd;

	/*
	 * Probe: fsopen of a type that does not exist gives ENODEV to a caller
	 * that may mount, and the filter's EPERM under RFNOMNT.
	 */
	if(!capeffective(CAP_SYS_ADMIN))
		return 0;
	fd = fsopen("ns9-nomnt-probe", FSOPEN_CLOEXEC);
	if(fd >= 0){
		close(fd);
		return 0;
	}
	return errno == EPERM;
}

int
ns_rfork(int flags)
{
	if((flags & NS_RFNAMEG) && (flags & NS_RFCNAMEG))
		return perr(Ebadarg, "rfork: -n and -N together");
	if(flags & (NS_RFNAMEG | NS_RFCNAMEG)){
		if(newmntns() < 0)
			return -1;
		if((flags & NS_RFCNAMEG) && cleanroot() < 0)
			return -1;
	}
	if((flags & NS_RFNOMNT) && nomntfilter() < 0)
		return -1;
	return 0;
}
