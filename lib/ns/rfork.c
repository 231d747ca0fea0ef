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
#include "impl.h"

static int
capeffective(int cap)
{
	return (ns_capeff() >> cap) & 1;
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
		if(ambient(CAP_SYS_ADMIN) < 0 || ambient(CAP_SYS_CHROOT) < 0)
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
enum { RO = 1, TMP = 2, OPTIONAL = 4 };
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
	struct stat st;

	p->fd = ns_clonetree(src, ro, "rfork -N");
	if(p->fd < 0)
		return -1;
	if(fstat(p->fd, &st) < 0)
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
	int root, r, havehome;
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
				n++;	/* so out: frees it */
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
			   (!havehome || strncmp(exe, home, strlen(home)) != 0 ||
			    (exe[strlen(home)] != '/' && exe[strlen(home)] != 0))){
				pc[n].dst = estrdup(exe);
				if(clonepath(exe, 1, &pc[n++]) < 0)
					goto out;
			}
		}
	}

	/* The fresh root. */
	root = ns_freshtmpfs("ns9root", "0755", "rfork -N: tmpfs");
	if(root < 0)
		goto out;
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

/*
 * A tiny assembler for the filter: jumps name absolute targets (ALLOW,
 * DENY or an instruction index) and are made relative at the end.
 */
enum { ALLOW = 1000, DENY = 1001, NEXT = 1002, MAXPROG = 64 };

typedef struct Prog Prog;
struct Prog {
	struct sock_filter f[MAXPROG];
	int jt[MAXPROG], jf[MAXPROG];
	int n;
};

static int
op(Prog *p, unsigned short code, unsigned int k, int jt, int jf)
{
	p->f[p->n] = (struct sock_filter)BPF_STMT(code, k);
	p->jt[p->n] = jt;
	p->jf[p->n] = jf;
	return p->n++;
}

static void
ld(Prog *p, unsigned int off)
{
	op(p, BPF_LD | BPF_W | BPF_ABS, off, -1, -1);
}

static void
jmp(Prog *p, unsigned short how, unsigned int k, int jt, int jf)
{
	op(p, BPF_JMP | how | BPF_K, k, jt, jf);
}

static int
assemble(Prog *p)
{
	int i, allow, deny, t;

	allow = op(p, BPF_RET | BPF_K, SECCOMP_RET_ALLOW, -1, -1);
	deny = op(p, BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM, -1, -1);
	for(i = 0; i < p->n; i++){
		if(BPF_CLASS(p->f[i].code) != BPF_JMP)
			continue;
		t = p->jt[i] == ALLOW ? allow : p->jt[i] == DENY ? deny : p->jt[i] == NEXT ? i + 1 : p->jt[i];
		p->f[i].jt = t - (i + 1);
		t = p->jf[i] == ALLOW ? allow : p->jf[i] == DENY ? deny : p->jf[i] == NEXT ? i + 1 : p->jf[i];
		p->f[i].jf = t - (i + 1);
	}
	return p->n;
}

/*
 * RFNOMNT.  Denied: fsopen, fspick, fsconfig, fsmount (every way to make a
 * new file system), and mount(2) unless it binds, moves, remounts or sets
 * propagation.  The legacy magic MS_MGC_VAL in the top half of the flags
 * overlaps the propagation bits and is stripped by the kernel, so with it
 * only MS_BIND, MS_MOVE or MS_REMOUNT count.  On x86_64 the i386 ABI may
 * not mount at all and x32 may make no call.
 */
static int
nomntfilter(void)
{
	enum {
		BINDLIKE = MS_BIND | MS_MOVE | MS_REMOUNT | MS_SHARED | MS_PRIVATE | MS_SLAVE | MS_UNBINDABLE,
		MGC = 0xC0ED0000,
	};
	struct sock_fprog prog;
	Prog p;
	int native, legacy;

	memset(&p, 0, sizeof p);
	ld(&p, offsetof(struct seccomp_data, arch));
	native = p.n + 1;
#ifdef __x86_64__
	/* Filled in below, once the native block's index is known. */
	jmp(&p, BPF_JEQ, AUDITARCH, 0, NEXT);
	jmp(&p, BPF_JEQ, AUDIT_ARCH_I386, NEXT, DENY);
	ld(&p, offsetof(struct seccomp_data, nr));
	jmp(&p, BPF_JEQ, 21, DENY, NEXT);	/* i386 mount */
	jmp(&p, BPF_JGE, 430, NEXT, ALLOW);	/* i386 fsopen..fspick: 430-433 */
	jmp(&p, BPF_JGT, 433, ALLOW, DENY);
	p.jt[native - 1] = p.n;
#else
	jmp(&p, BPF_JEQ, AUDITARCH, NEXT, DENY);
#endif
	ld(&p, offsetof(struct seccomp_data, nr));
#ifdef __x86_64__
	jmp(&p, BPF_JGE, 0x40000000, DENY, NEXT);	/* x32 */
#endif
	jmp(&p, BPF_JEQ, __NR_fsopen, DENY, NEXT);
	jmp(&p, BPF_JEQ, __NR_fspick, DENY, NEXT);
	jmp(&p, BPF_JEQ, __NR_fsconfig, DENY, NEXT);
	jmp(&p, BPF_JEQ, __NR_fsmount, DENY, NEXT);
	jmp(&p, BPF_JEQ, __NR_mount, NEXT, ALLOW);
	ld(&p, offsetof(struct seccomp_data, args[3]));
	op(&p, BPF_ALU | BPF_AND | BPF_K, 0xffff0000, -1, -1);
	legacy = p.n;
	jmp(&p, BPF_JEQ, MGC, NEXT, 0);
	ld(&p, offsetof(struct seccomp_data, args[3]));
	jmp(&p, BPF_JSET, MS_BIND | MS_MOVE | MS_REMOUNT, ALLOW, DENY);
	p.jf[legacy] = p.n;
	ld(&p, offsetof(struct seccomp_data, args[3]));
	jmp(&p, BPF_JSET, BINDLIKE, ALLOW, DENY);
	prog.len = assemble(&p);
	prog.filter = p.f;

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
	 * Probe: a caller with CAP_SYS_ADMIN may open a tmpfs context (built
	 * in, so no module is requested) unless RFNOMNT's filter refuses it.
	 */
	if(!capeffective(CAP_SYS_ADMIN))
		return 0;
	fd = fsopen("tmpfs", FSOPEN_CLOEXEC);
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
