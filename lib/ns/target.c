/*
 * target.c: acting in another process's name space (ANTS's writable ns,
 * CMU's crossings).  The target is pinned with a pidfd and its user and
 * mount namespaces, root and cwd are opened as the caller, so the kernel's
 * ptrace check decides who may look.  The work runs in a CLONE_VM|
 * CLONE_VFORK child (linux.md §1: about 35 µs, and it may join a user
 * namespace, which a thread may not) that joins the target's mount
 * namespace (and its user namespace only when it must: root keeps its
 * own), takes its root and cwd, and runs there with the caller's
 * credentials.  The child shares the caller's memory and thread pointer,
 * so its error record is the caller's.
 */
#include <alloca.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kern.h"
#include "ns9.h"
#include "impl.h"


static int
samens(int fd, const char *self)
{
	struct stat a, b;

	return fstat(fd, &a) == 0 && stat(self, &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

int
ns_target_open(NsTarget *t, pid_t pid)
{
	/* Errors carry no context: callers name the target. */
	memset(t, 0, sizeof *t);
	t->pidfd = t->userfd = t->mntfd = t->rootfd = t->cwdfd = -1;
	t->pid = pid;
	if(pid <= 0)
		return seterr(EINVAL, "bad pid %d", (int)pid);
	t->pidfd = syscall(SYS_pidfd_open, pid, 0);
	if(t->pidfd < 0){
		if(errno == ESRCH)
			return perr(Eprocdied, NULL);
		return syserr(NULL);
	}
	if((t->mntfd = ns_procopen(pid, "ns/mnt", O_RDONLY)) < 0 ||
	   (t->userfd = ns_procopen(pid, "ns/user", O_RDONLY)) < 0 ||
	   (t->rootfd = ns_procopen(pid, "root", O_PATH | O_DIRECTORY)) < 0 ||
	   (t->cwdfd = ns_procopen(pid, "cwd", O_PATH | O_DIRECTORY)) < 0){
		ns_target_close(t);
		return -1;
	}
	t->sameuser = samens(t->userfd, "/proc/self/ns/user");
	/* The pid might have been reused between pidfd_open and the opens. */
	if(syscall(SYS_pidfd_send_signal, t->pidfd, 0, NULL, 0) < 0 && errno == ESRCH){
		ns_target_close(t);
		return perr(Eprocdied, NULL);
	}
	return 0;
}

void
ns_target_close(NsTarget *t)
{
	if(t->pidfd >= 0)
		close(t->pidfd);
	if(t->userfd >= 0)
		close(t->userfd);
	if(t->mntfd >= 0)
		close(t->mntfd);
	if(t->rootfd >= 0)
		close(t->rootfd);
	if(t->cwdfd >= 0)
		close(t->cwdfd);
	t->pidfd = t->userfd = t->mntfd = t->rootfd = t->cwdfd = -1;
}

int
ns_target_alive(NsTarget *t)
{
	return syscall(SYS_pidfd_send_signal, t->pidfd, 0, NULL, 0) == 0 || errno != ESRCH;
}

/*
 * Join the target's namespaces, root and cwd, in the calling process (which
 * must be single-threaded).  The mount namespace is tried first without the
 * user namespace, so root keeps its identity; an owner that needs the
 * target's user namespace for its capabilities joins it first.
 * NS_ENTER_USER joins it in any case (a fresh mount namespace for inject).
 */
int
ns_target_enter(NsTarget *t, int flags)
{
	/* t->sameuser records a join, for a second call in the same helper. */
	if(!t->sameuser && (flags & NS_ENTER_USER)){
		if(setns(t->userfd, CLONE_NEWUSER) < 0)
			return ns_permerr(NULL);
		t->sameuser = 1;
	}
	if(!(flags & NS_ENTER_NOMNT)){
		if(setns(t->mntfd, CLONE_NEWNS) < 0){
			if(errno != EPERM || t->sameuser || (flags & NS_ENTER_USER))
				return ns_permerr(NULL);
			if(setns(t->userfd, CLONE_NEWUSER) < 0)
				return ns_permerr(NULL);
			t->sameuser = 1;
			if(setns(t->mntfd, CLONE_NEWNS) < 0)
				return ns_permerr(NULL);
		}
		if(fchdir(t->rootfd) < 0 || chroot(".") < 0 || fchdir(t->cwdfd) < 0)
			return ns_permerr(NULL);
	}
	if(!ns_target_alive(t))
		return perr(Eprocdied, NULL);
	return 0;
}

typedef struct Call Call;
struct Call {
	NsTarget *t;
	int (*fn)(NsTarget *, void *);
	void *arg;
	int flags;
	volatile int r;
};

/* Set while a helper acts in a target (it shares the caller's memory and thread pointer). */
static __thread int intarget;

int
ns_intarget(void)
{
	return intarget;
}

static int
child(void *v)
{
	Call *c = v;

	c->r = -1;
	intarget = c->t != NULL;
	if(c->t != NULL && ns_target_enter(c->t, c->flags) < 0)
		return 1;
	c->r = c->fn(c->t, c->arg);
	return c->r < 0;
}

/*
 * The helper's stack is carved from the caller's own stack: the caller
 * sleeps until the helper exits, so the region is free, and nothing is
 * mapped or unmapped per call (an munmap per call cost a TLB shootdown
 * across every CPU running the daemon's threads: milliseconds under
 * several writers).  A helper may start a helper (ns_as, then ns_ctl), so
 * the outer one gets room for the inner one's stack.
 */
enum { INNER = 256 * 1024, OUTER = 1024 * 1024 };

/* Run c in a CLONE_VM|CLONE_VFORK child; the calling thread sleeps until it exits. */
static int __attribute__((noinline))
spawn(Call *c, size_t size)
{
	char *stack;
	pid_t pid;
	int status, was;

	c->r = -1;
	stack = alloca(size);
	/* The child borrows our memory and thread pointer, so its error record is ours. */
	was = intarget;
	pid = clone(child, stack + size, CLONE_VM | CLONE_VFORK | SIGCHLD, c);
	if(pid < 0)
		return syserr("helper");
	while(waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	intarget = was;
	if(c->r < 0 && errcode() == 0)
		return seterr(EIO, "helper failed");
	return c->r;
}

int
ns_target_call(NsTarget *t, int flags, int (*fn)(NsTarget *, void *), void *arg)
{
	Call c;

	c.t = t;
	c.fn = fn;
	c.arg = arg;
	c.flags = flags;
	return spawn(&c, INNER);
}

/* --- acting with another's credentials --- */

/* Keep no capability the writer lacks (a root writer may have dropped some). */
static int
limitcaps(uint64_t keep)
{
	struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
	struct __user_cap_data_struct d[2];

	if(syscall(SYS_capget, &h, d) < 0)
		return -1;
	d[0].effective &= (uint32_t)keep;
	d[0].permitted &= (uint32_t)keep;
	d[1].effective &= (uint32_t)(keep >> 32);
	d[1].permitted &= (uint32_t)(keep >> 32);
	d[0].inheritable = d[1].inheritable = 0;
	return syscall(SYS_capset, &h, d);
}

typedef struct AsCall AsCall;
struct AsCall {
	const NsCred *cred;
	int (*fn)(void *);
	void *arg;
};

/*
 * In the helper: become the writer.  Raw system calls, so only this task
 * changes (glibc would change every thread of the daemon).  Leaving uid 0
 * clears the capabilities; a writer that is root keeps them.
 */
static int
ascall(NsTarget *unused, void *v)
{
	AsCall *a = v;
	int exe;

	/*
	 * Effective and file-system ids become the writer's; the real and saved
	 * ids stay the server's, so the writer cannot signal (stop, kill) this
	 * helper, which shares the server's memory.  Leaving euid 0 clears the
	 * effective capabilities; the writer's user namespace (a sandbox, an
	 * ns9 rfork shell) is joined so that an owner's rule grants no more
	 * than the writer has there, and then no capability it lacks is kept.
	 */
	if(prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0 ||
	   syscall(SYS_setgroups, a->cred->ngroups, a->cred->groups) < 0 ||
	   syscall(SYS_setresgid, -1, a->cred->gid, -1) < 0 ||
	   syscall(SYS_setfsgid, a->cred->gid) < 0 ||
	   syscall(SYS_setresuid, -1, a->cred->uid, -1) < 0 ||
	   syscall(SYS_setfsuid, a->cred->uid) < 0 ||
	   (a->cred->userfd >= 0 && setns(a->cred->userfd, CLONE_NEWUSER) < 0) ||
	   limitcaps(a->cred->capeff) < 0){
		errno = EACCES;
		return syserr("taking the writer's credentials");
	}
	/*
	 * Nothing of the server's open files is the writer's business, but
	 * for the ns9 binary (close-on-exec), which a mount execs its 9P
	 * client from: the target's root may have no /proc to find it again.
	 */
	exe = ns_selfexe();
	if(exe > 3)
		syscall(SYS_close_range, 3, exe - 1, 0);
	syscall(SYS_close_range, exe >= 3 ? exe + 1 : 3, ~0U, 0);
	return a->fn(a->arg);
}

int
ns_as(const NsCred *cred, int (*fn)(void *), void *arg)
{
	AsCall a;
	Call c;

	/* The caller's own credentials: nothing to take, no helper needed. */
	if(cred->uid == geteuid() && cred->gid == getegid() && cred->capeff == ns_capeff() && cred->userfd < 0)
		return fn(arg);
	a.cred = cred;
	a.fn = fn;
	a.arg = arg;
	c.t = NULL;
	c.fn = ascall;
	c.arg = &a;
	c.flags = 0;
	return spawn(&c, OUTER);
}

/* --- commands applied in the target --- */

typedef struct Batch Batch;
struct Batch {
	const NsCmd *cmd;
	int n;
	int applied;
};

static int
applyall(NsTarget *t, void *v)
{
	Batch *b = v;

	for(; b->applied < b->n; b->applied++){
		if(b->cmd[b->applied].verb == NS_CD)
			return seterr(EINVAL, "cd: a process's current directory cannot be changed from outside");
		if(ns_apply(&b->cmd[b->applied]) < 0)
			return -1;
		if(!ns_target_alive(t))
			return perr(Eprocdied, NULL);
	}
	return 0;
}

int
ns_ctl(pid_t pid, const NsCmd *cmd, int n, int *applied)
{
	NsTarget t;
	Batch b;
	int r;

	*applied = 0;
	if(ns_target_open(&t, pid) < 0)
		return -1;
	b.cmd = cmd;
	b.n = n;
	b.applied = 0;
	r = ns_target_call(&t, 0, applyall, &b);
	*applied = b.applied;
	ns_target_close(&t);
	return r;
}

/* --- inject: a tree from the caller's view into the target --- */

typedef struct Inject Inject;
struct Inject {
	const char *src;
	const char *dst;
	int tree;
	int owner;	/* the helper-mntns method */
};

static int
attachdst(NsTarget *t, Inject *in, const char *ctx)
{
	struct stat ts, ds;
	int dfd;

	dfd = open(in->dst, O_PATH | O_CLOEXEC);
	if(dfd < 0)
		return syserrpath(in->dst, "%s", ctx);
	if(fstat(in->tree, &ts) < 0 || fstat(dfd, &ds) < 0){
		close(dfd);
		return syserr("%s", ctx);
	}
	if(S_ISDIR(ts.st_mode) != S_ISDIR(ds.st_mode)){
		close(dfd);
		return perr(Emount, "%s", ctx);
	}
	if(move_mount(in->tree, "", dfd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0){
		close(dfd);
		return ns_permerr(ctx);
	}
	close(dfd);
	return 0;
}

/*
 * In the helper: for an unprivileged owner, the caller's tree is cloned in
 * a fresh mount namespace owned by the target's user namespace (a copy of
 * the caller's view, linux.md §3), then the helper moves into the target.
 */
static int
injectfn(NsTarget *t, void *v)
{
	Inject *in = v;
	char ctx[300];

	snprintf(ctx, sizeof ctx, "inject %d %s %s", (int)t->pid, in->src, in->dst);
	if(in->owner){
		if(unshare(CLONE_NEWNS) < 0)
			return ns_permerr(ctx);
		in->tree = ns_clonetree(in->src, 0, ctx);
		if(in->tree < 0)
			return -1;
		if(ns_target_enter(t, 0) < 0)
			return adderr("%s", ctx);
	}
	return attachdst(t, in, ctx);
}

int
ns_inject(pid_t pid, const char *src, const char *dst)
{
	NsTarget t;
	Inject in;
	char ctx[300];
	int r, same;

	snprintf(ctx, sizeof ctx, "inject %d %s %s", (int)pid, src, dst);
	if(ns_target_open(&t, pid) < 0)
		return adderr("%s", ctx);
	in.src = src;
	in.dst = dst;
	in.owner = 0;
	same = t.sameuser;
	in.tree = ns_clonetree(src, 0, ctx);
	if(in.tree < 0){
		if(errcode() != EACCES || same){
			ns_target_close(&t);
			return -1;
		}
		/* Not allowed to clone here: an owner clones from the target's user namespace. */
		in.owner = 1;
		clearerr9();
		r = ns_target_call(&t, NS_ENTER_USER | NS_ENTER_NOMNT, injectfn, &in);
	}else
		r = ns_target_call(&t, 0, injectfn, &in);
	if(in.tree >= 0 && !in.owner)
		close(in.tree);
	ns_target_close(&t);
	return r;
}
