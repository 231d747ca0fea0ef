/*
 * rfork.c: new name spaces for the calling process (Plan 9 rfork(2)'s
 * RFNAMEG, RFCNAMEG and RFNOMNT).
 *  - RFNAMEG: a new mount namespace, made recursively private at once so
 *    nothing leaks either way (linux.md §5).  A caller without
 *    CAP_SYS_ADMIN also gets a new user namespace that maps it to itself,
 *    and CAP_SYS_ADMIN becomes ambient so the programs it runs can bind.
 *  - RFCNAMEG: the same, then a fresh tmpfs becomes the root, holding what
 *    a namespace file binds there (ns_newns; the default file).
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
 * Clean name spaces (ns_newns).  The new root is a fresh tmpfs holding
 * only empty directories where Linux expects them (Plan 9's root device
 * has its own skeleton).  It is mounted on top of the old root (in the
 * new, private mount namespace) and the namespace file runs chrooted into
 * it, so its binds land in it and nowhere else, while #/ reaches the root
 * ns9 started from through an fd of the mount below; then the new root is
 * made the root with pivot_root and the old one detached: the name space
 * holds nothing of the old root that the file did not bind.
 */
static const char *skeleton[] = {
	"bin", "boot", "dev", "etc", "home", "lib", "lib32", "lib64", "libx32", "media", "mnt",
	"mnt/term", "n", "opt", "proc", "root", "run", "sbin", "srv", "sys", "tmp", "usr", "var",
};

static int curroot = -1;	/* the clean root being built, on top of realroot */
static int realroot = -1;	/* the root ns9 started from (the mount below) */

/* mkdir -p of path (relative) under dir fd. */
static int
mkdirsat(int dir, const char *path)
{
	char buf[PATH_MAX], *p;

	if(snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf){
		errno = ENAMETOOLONG;
		return -1;
	}
	for(p = buf; *p; p++)
		if(*p == '/' && p > buf && p[-1] != '/'){
			*p = 0;
			if(mkdirat(dir, buf, 0755) < 0 && errno != EEXIST)
				return -1;
			*p = '/';
		}
	if(mkdirat(dir, buf, 0755) < 0 && errno != EEXIST)
		return -1;
	return 0;
}

/* A fresh root with the skeleton (and $HOME's path), entered. */
int
ns_clearroot(void)
{
	const char *h;
	size_t i;
	int root;

	if(realroot < 0)
		return seterr(EINVAL, "clear: only while ns9 newns builds a name space");
	root = ns_freshtmpfs("ns9root", "0755", "newns: a fresh root");
	if(root < 0)
		return -1;
	for(i = 0; i < nelem(skeleton); i++)
		if(mkdirsat(root, skeleton[i]) < 0){
			syserrpath(skeleton[i], "newns: the fresh root");
			close(root);
			return -1;
		}
	h = getenv("HOME");
	if(h != NULL && h[0] == '/' && h[1] != 0)
		mkdirsat(root, h + 1);
	{
		struct stat st;

		if(fstat(root, &st) == 0)
			ns_ownfs(st.st_dev);
	}
	/*
	 * clear: the clean root built so far goes, with all the file bound on
	 * it ("/" is that root itself, what is mounted over it aside).
	 */
	if(curroot >= 0 && umount2("/", MNT_DETACH) < 0){
		syserr("clear: detach the name space built so far");
		close(root);
		return -1;
	}
	/* on top of the old root, which the end detaches */
	if(move_mount(root, "", realroot, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0 ||
	   fchdir(root) < 0 || chroot(".") < 0){
		syserr("newns: enter the fresh root");
		close(root);
		return -1;
	}
	if(curroot >= 0)
		close(curroot);
	curroot = root;
	return 0;
}

int
ns_newns(const char *path, const char *text, const char *newroot, int flags, NsReport *report, void *arg,
	 int *failed)
{
	char oldcwd[PATH_MAX], cwd[PATH_MAX];
	char *owned;
	const char *name;
	int host, r, n, cdone;

	*failed = 0;
	owned = NULL;
	name = path;
	/* The file is read before anything changes: one that cannot be is an error, nothing done. */
	if(text == NULL){
		if(path == NULL){
			name = NS_NSFILE;
			owned = ns_readnsfile(NS_NSFILE);
			if(owned == NULL && errcode() == ENOENT){
				name = "(built-in " NS_NSFILE ")";
				text = ns_defaultnsfile;
			}else if(owned == NULL)
				return -1;
		}else if((owned = ns_readnsfile(path)) == NULL)
			return -1;
		if(owned != NULL)
			text = owned;
	}
	if(getcwd(oldcwd, sizeof oldcwd) == NULL)
		strcpy(oldcwd, "/");
	host = -1;
	r = -1;
	if(newroot != NULL){
		/* checked before the name space is made, opened again in it */
		host = open(newroot, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if(host < 0){
			syserrpath(newroot, "reroot");
			goto out;
		}
		close(host);
		host = -1;
	}
	if(newmntns() < 0)
		goto out;
	realroot = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	host = open(newroot != NULL ? newroot : "/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if(realroot < 0 || host < 0){
		syserrpath(newroot != NULL ? newroot : "/", "newns");
		goto out;
	}
	if((r = fcntl(realroot, F_DUPFD_CLOEXEC, 0)) < 0 || ns_sethostroot(host, r) < 0){
		syserr("newns");
		r = -1;
		goto out;
	}
	r = -1;
	host = -1;	/* dev.c's now */
	ns_ownfsreset();
	ns_nsuserfix(1);
	if(ns_clearroot() < 0)
		goto out;
	ns_nscdreset();
	n = ns_runfile(name, text, flags | NS_FCLEAN, report, arg);
	*failed = n < 0 ? 1 : n;
	cdone = ns_nscddone();
	/* for ns9 ns in it: what #/ and #r bound (text.c) */
	if(*ns_hostnames() != 0)
		setenv("NS9NAMES", ns_hostnames(), 1);
	else
		unsetenv("NS9NAMES");
	if(getcwd(cwd, sizeof cwd) == NULL)
		strcpy(cwd, "/");
	/* Back to the real root, to attach the new one and make it the root. */
	if(fchdir(realroot) < 0 || chroot(".") < 0){
		syserr("newns: leave the new root");
		goto out;
	}
	if(fchdir(curroot) < 0 || syscall(SYS_pivot_root, ".", ".") < 0){
		syserr("newns: pivot_root");
		goto out;
	}
	if(umount2(".", MNT_DETACH) < 0){
		syserr("newns: detach the old root");
		goto out;
	}
	if(chdir("/") < 0 || chdir(cdone ? cwd : oldcwd) < 0)
		if(chdir("/") < 0){
			syserr("newns: chdir");
			goto out;
		}
	r = 0;
out:
	ns_nsuserfix(0);
	ns_sethostroot(-1, -1);
	if(host >= 0)
		close(host);
	if(realroot >= 0)
		close(realroot);
	realroot = -1;
	if(curroot >= 0)
		close(curroot);
	curroot = -1;
	free(owned);
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
	if(flags & NS_RFCNAMEG){
		int failed;

		/* the default namespace file; its failing lines are skipped, as in Plan 9 */
		if(ns_newns(NULL, NULL, NULL, 0, NULL, NULL, &failed) < 0)
			return -1;
	}else if((flags & NS_RFNAMEG) && newmntns() < 0)
		return -1;
	if((flags & NS_RFNOMNT) && nomntfilter() < 0)
		return -1;
	return 0;
}
