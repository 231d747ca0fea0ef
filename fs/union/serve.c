/*
 * serve.c: the union server's process (`ns9 unionfs`, started by
 * lib/ns/union.c): the control socket (include/union.h), the inotify
 * watches, the FUSE session and its workers, and the end.
 *
 * The main thread reads control requests and inotify events; workers
 * (Nworker, more while all are busy) serve FUSE requests.  Until Ustart
 * the session is not mounted: the mounter sends the members first, then
 * makes the mount, then says start.  The server ends when its mount is
 * gone (every FUSE read fails), or on SIGTERM; a mounter that never says
 * start is given Startms.
 */
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "ns9.h"
#include "union.h"
#include "impl.h"
#include "unionfs.h"

enum {
	Nworker = 2,
	Maxworker = 16,
	Startms = 30000,
	Trimms = 5000,
	Sendms = 2000,	/* a reply waits this long for a client that does not read */	/* memory goes back to the system this often */
	Tmo = 3600,	/* seconds the kernel keeps what a watch covers */
	NotifyInvalEntry = 3,	/* FUSE_NOTIFY_INVAL_ENTRY */
	ExpireOnly = 1,		/* FUSE_EXPIRE_ONLY (Linux 6.2) */
	/* FUSE passthrough (Linux 6.9), which libfuse 3.14 does not know */
	OpInit = 26,
	InitExt = 1 << 30,		/* FUSE_INIT_EXT: flags2 is used */
	Passthrough2 = 1 << (37 - 32),	/* FUSE_PASSTHROUGH, in flags2 */
	FopenPassthrough = 1 << 7,	/* FOPEN_PASSTHROUGH */
	StackDepth = 1,			/* members on file systems not stacked on others */
};

/* FUSE_DEV_IOC_BACKING_OPEN and _CLOSE */
struct backingmap {
	int32_t fd;
	uint32_t flags;
	uint64_t padding;
};
#define IocBackingOpen _IOW(229, 1, struct backingmap)
#define IocBackingClose _IOW(229, 2, uint32_t)

/* The unique id of the request this worker is in. */
static __thread uint64_t curunique;

Fs ufs = {.lk = PTHREAD_MUTEX_INITIALIZER};

static struct {
	pthread_mutex_t lk;
	pthread_t th[Maxworker];
	int n;
	int idle;
} pool = {.lk = PTHREAD_MUTEX_INITIALIZER};

static int wakefd = -1;

static void
wake(void)
{
	uint64_t one = 1;
	ssize_t n;

	n = write(wakefd, &one, sizeof one);
	(void)n;
}

static void
onsignal(int sig)
{
	wake();
}

/*
 * Expire an entry, without libfuse (3.14 cannot say expire-only): an
 * invalidated dentry would take the mounts on it with it (d_invalidate),
 * an expired one is looked up again and kept if it is the same node.
 */
void
uexpire(uint64_t parent, const char *name)
{
	struct {
		uint32_t len;
		int32_t error;
		uint64_t unique;
	} h;
	struct {
		uint64_t parent;
		uint32_t namelen;
		uint32_t flags;
	} o;
	struct iovec iov[3];
	ssize_t r;

	if(!ufs.started)
		return;
	o.parent = parent;
	o.namelen = strlen(name);
	o.flags = ExpireOnly;
	h.len = sizeof h + sizeof o + o.namelen + 1;
	h.error = NotifyInvalEntry;
	h.unique = 0;
	iov[0].iov_base = &h;
	iov[0].iov_len = sizeof h;
	iov[1].iov_base = &o;
	iov[1].iov_len = sizeof o;
	iov[2].iov_base = (void *)name;
	iov[2].iov_len = o.namelen + 1;
	r = writev(ufs.fusefd, iov, 3);
	if(ufs.debug)
		fprintf(stderr, "unionfs: expire %llu %s: %s\n", (unsigned long long)parent, name,
			r < 0 ? strerror(errno) : "ok");
}

void
uinvalentry(uint64_t parent, const char *name)
{
	if(ufs.started)
		fuse_lowlevel_notify_inval_entry(ufs.se, parent, name, strlen(name));
}

void
uinvalinode(uint64_t ino)
{
	if(ufs.started)
		fuse_lowlevel_notify_inval_inode(ufs.se, ino, 0, 0);
}

static void
uinit(void *userdata, struct fuse_conn_info *conn)
{
	conn->max_write = Maxio;
	if(conn->capable & FUSE_CAP_ATOMIC_O_TRUNC)
		conn->want |= FUSE_CAP_ATOMIC_O_TRUNC;
	/* Lookups in one directory go in parallel: one waiting for a hung member holds no other. */
	if(conn->capable & FUSE_CAP_PARALLEL_DIROPS)
		conn->want |= FUSE_CAP_PARALLEL_DIROPS;
	conn->want &= ~(FUSE_CAP_READDIRPLUS | FUSE_CAP_READDIRPLUS_AUTO | FUSE_CAP_SPLICE_READ |
			FUSE_CAP_SPLICE_WRITE | FUSE_CAP_SPLICE_MOVE | FUSE_CAP_WRITEBACK_CACHE);
	if(ufs.debug)
		fprintf(stderr, "unionfs: capable %#x want %#x\n", conn->capable, conn->want);
}

/* The groups of process pid (its Groups: line); -1 if unknown. */
static int
groupsof(pid_t pid, gid_t *g, int max)
{
	char path[64], line[4096], *p, *e;
	unsigned long v;
	FILE *f;
	int n;

	snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
	f = fopen(path, "re");
	if(f == NULL)
		return -1;
	n = -1;
	while(fgets(line, sizeof line, f) != NULL)
		if(strncmp(line, "Groups:", 7) == 0){
			n = 0;
			for(p = line + 7; n < max; p = e){
				v = strtoul(p, &e, 10);
				if(e == p)
					break;
				g[n++] = v;
			}
			break;
		}
	fclose(f);
	return n;
}

/*
 * A root server acts as the process that made each request: file-system
 * ids and groups of this thread only (raw system calls), so every member
 * checks the caller's rights itself, as through its own path, and what is
 * made is the caller's.  A caller's groups are read at most once a second.
 */
static int
become(const void *req)
{
	static __thread struct {
		int set;
		uid_t uid;
		gid_t gid;
		pid_t pid;
		time_t t;
	} cur;
	struct {
		uint32_t len, opcode;
		uint64_t unique, nodeid;
		uint32_t uid, gid, pid;
	} h;
	gid_t g[Maxgroups];
	struct timespec now;
	int n;

	if(!ufs.isroot)
		return 0;
	memcpy(&h, req, sizeof h);
	clock_gettime(CLOCK_MONOTONIC_COARSE, &now);
	if(cur.set && cur.uid == h.uid && cur.gid == h.gid && cur.pid == (pid_t)h.pid && now.tv_sec - cur.t < 1)
		return 0;
	cur.set = 0;
	if(h.uid == 0)
		n = ufs.nselfgroups;
	else if((n = groupsof(h.pid, g, Maxgroups)) < 0)
		n = 0;
	/*
	 * Groups this user namespace cannot hold are dropped (fewer rights,
	 * never more); an id that does not take is no identity at all: the
	 * request is refused, never run as whoever came before.
	 * setfsuid/setfsgid say nothing of failure: read back with -1.
	 */
	if(syscall(SYS_setgroups, n, h.uid == 0 ? ufs.selfgroups : g) < 0 && syscall(SYS_setgroups, 0, NULL) < 0)
		return -1;
	syscall(SYS_setfsgid, h.gid);
	if((gid_t)syscall(SYS_setfsgid, -1) != h.gid)
		return -1;
	syscall(SYS_setfsuid, h.uid);
	if((uid_t)syscall(SYS_setfsuid, -1) != h.uid)
		return -1;
	cur.set = 1;
	cur.uid = h.uid;
	cur.gid = h.gid;
	cur.pid = h.pid;
	cur.t = now.tv_sec;
	return 0;
}

/* Requests that touch no file and want no answer (or libfuse's own): run whoever sent them. */
static int
noreply(const void *req)
{
	uint32_t op;

	memcpy(&op, (const char *)req + 4, sizeof op);
	return op == 2 || op == 42 || op == 36 || op == 26 || op == 38;	/* FORGET, BATCH_FORGET, INTERRUPT, INIT, DESTROY */
}

/* Answer a request with an error, without libfuse (it has not seen it). */
static void
refuse(const void *req, int err)
{
	struct {
		uint32_t len, opcode;
		uint64_t unique;
	} in;
	struct {
		uint32_t len;
		int32_t error;
		uint64_t unique;
	} out;
	ssize_t r;

	memcpy(&in, req, sizeof in);
	out.len = sizeof out;
	out.error = -err;
	out.unique = in.unique;
	r = write(ufs.fusefd, &out, sizeof out);
	(void)r;
}

/*
 * Passthrough: the kernel reads and writes an open file's member file
 * itself, with the member's page cache and readahead, and no request
 * reaches the server.  libfuse 3.14 knows nothing of it, so the server
 * adds FUSE_PASSTHROUGH to libfuse's answer to INIT, and answers the
 * opens it passes through itself.  Registering a member file needs
 * CAP_SYS_ADMIN in the first user namespace: a server without it (a
 * user's) is offered none, and one refused (EPERM) stops trying.
 */
static int
initialuserns(void)
{
	char buf[128];
	unsigned long a, b, c;
	FILE *f;
	int ok;

	f = fopen("/proc/self/uid_map", "re");
	if(f == NULL)
		return 0;
	ok = fgets(buf, sizeof buf, f) != NULL && sscanf(buf, "%lu %lu %lu", &a, &b, &c) == 3 &&
	     a == 0 && b == 0 && c == 4294967295UL && fgets(buf, sizeof buf, f) == NULL;
	fclose(f);
	return ok;
}

/*
 * The first request, INIT, before any worker runs: libfuse answers it
 * into a pipe (its fd swapped for the pipe's for the one call), and the
 * answer goes on to the kernel with passthrough asked for when offered.
 */
static void
init(void)
{
	struct fuse_buf fb;
	unsigned char out[256];
	uint32_t op, inflags, inflags2, flags, flags2, depth;
	int p[2], save, n;
	ssize_t r;

	memset(&fb, 0, sizeof fb);
	do
		n = fuse_session_receive_buf(ufs.se, &fb);
	while(n == -EINTR);
	if(n <= 0)
		return;
	memcpy(&op, (char *)fb.mem + 4, sizeof op);
	if(!ufs.isroot || !initialuserns() || n < 40 + 20 || op != OpInit ||
	   pipe2(p, O_CLOEXEC) < 0){
		fuse_session_process_buf(ufs.se, &fb);
		free(fb.mem);
		return;
	}
	memcpy(&inflags, (char *)fb.mem + 40 + 12, 4);
	memcpy(&inflags2, (char *)fb.mem + 40 + 16, 4);
	save = fcntl(ufs.fusefd, F_DUPFD_CLOEXEC, 0);
	if(save < 0 || dup3(p[1], ufs.fusefd, O_CLOEXEC) < 0){
		if(save >= 0)
			close(save);
		close(p[0]);
		close(p[1]);
		fuse_session_process_buf(ufs.se, &fb);
		free(fb.mem);
		return;
	}
	fuse_session_process_buf(ufs.se, &fb);
	free(fb.mem);
	dup3(save, ufs.fusefd, O_CLOEXEC);
	close(save);
	close(p[1]);
	r = read(p[0], out, sizeof out);
	close(p[0]);
	if(r < 16)
		return;	/* no answer: the kernel's INIT waits for none then, and the mount fails */
	/* out: fuse_out_header (16), then fuse_init_out: flags at 12, flags2 at 32, max_stack_depth at 36 */
	if(r >= 16 + 40 && memcmp(out + 4, "\0\0\0\0", 4) == 0 && (inflags & InitExt) &&
	   (inflags2 & Passthrough2)){
		memcpy(&flags, out + 16 + 12, 4);
		memcpy(&flags2, out + 16 + 32, 4);
		flags |= InitExt;
		flags2 |= Passthrough2;
		depth = StackDepth;
		memcpy(out + 16 + 12, &flags, 4);
		memcpy(out + 16 + 32, &flags2, 4);
		memcpy(out + 16 + 36, &depth, 4);
		ufs.passthrough = 1;
	}
	if(write(ufs.fusefd, out, r) != r)
		ufs.passthrough = 0;
	if(ufs.debug)
		fprintf(stderr, "unionfs: passthrough %s\n", ufs.passthrough ? "on" : "off");
}

/* Send an answer built here (o: its fuse_out_header first) and free libfuse's request unanswered. */
static int
sendanswer(fuse_req_t req, void *o, size_t n)
{
	ssize_t r;

	memcpy((char *)o + 8, &curunique, sizeof curunique);
	r = write(ufs.fusefd, o, n);
	fuse_reply_none(req);
	return r == (ssize_t)n ? 0 : -1;
}

/* A timeout in seconds as FUSE has it. */
static void
tmo(double t, uint64_t *sec, uint32_t *nsec)
{
	if(t <= 0){
		*sec = 0;
		*nsec = 0;
	}else if(t >= 1e18){
		*sec = (uint64_t)1e18;
		*nsec = 0;
	}else{
		*sec = (uint64_t)t;
		*nsec = (uint32_t)((t - (double)*sec) * 1e9);
	}
}

/* Answer a create as ureplyopenpt does an open: fuse_entry_out, then fuse_open_out. */
int
ureplycreatept(fuse_req_t req, const struct fuse_entry_param *e, struct fuse_file_info *fi, int id)
{
	struct {
		uint32_t len;
		int32_t error;
		uint64_t unique;
		/* fuse_entry_out */
		uint64_t nodeid, generation, entryvalid, attrvalid;
		uint32_t entryvalidnsec, attrvalidnsec;
		/* fuse_attr */
		uint64_t ino, size, blocks, atime, mtime, ctime;
		uint32_t atimensec, mtimensec, ctimensec, mode, nlink, uid, gid, rdev, blksize, flags;
		/* fuse_open_out */
		uint64_t fh;
		uint32_t openflags;
		int32_t backing;
	} o;
	const struct stat *st;

	_Static_assert(sizeof o == 16 + 128 + 16, "fuse_out_header + fuse_entry_out + fuse_open_out");
	memset(&o, 0, sizeof o);
	o.len = sizeof o;
	o.nodeid = e->ino;
	o.generation = e->generation;
	tmo(e->entry_timeout, &o.entryvalid, &o.entryvalidnsec);
	tmo(e->attr_timeout, &o.attrvalid, &o.attrvalidnsec);
	st = &e->attr;
	o.ino = st->st_ino;
	o.size = st->st_size;
	o.blocks = st->st_blocks;
	o.atime = st->st_atim.tv_sec;
	o.mtime = st->st_mtim.tv_sec;
	o.ctime = st->st_ctim.tv_sec;
	o.atimensec = st->st_atim.tv_nsec;
	o.mtimensec = st->st_mtim.tv_nsec;
	o.ctimensec = st->st_ctim.tv_nsec;
	o.mode = st->st_mode;
	o.nlink = st->st_nlink;
	o.uid = st->st_uid;
	o.gid = st->st_gid;
	o.rdev = st->st_rdev;
	o.blksize = st->st_blksize;
	o.fh = fi->fh;
	o.openflags = FopenPassthrough;
	o.backing = id;
	return sendanswer(req, &o, sizeof o);
}

/* A backing id for open file fd of a member, or -1 (then it is served as usual). */
int
ubackingopen(int fd)
{
	struct backingmap map;
	int id;

	if(!ufs.passthrough)
		return -1;
	memset(&map, 0, sizeof map);
	map.fd = fd;
	id = ioctl(ufs.fusefd, IocBackingOpen, &map);
	if(id < 0 && errno == EPERM)
		ufs.passthrough = 0;
	if(ufs.debug && id < 0)
		fprintf(stderr, "unionfs: no passthrough: %s\n", strerror(errno));
	return id > 0 ? id : -1;
}

void
ubackingclose(int id)
{
	uint32_t i = id;

	if(id > 0)
		ioctl(ufs.fusefd, IocBackingClose, &i);
}

/*
 * Answer an open with passthrough to backing id: written here (libfuse
 * 3.14 has no field for it), and libfuse's request freed unanswered.
 * -1 if the kernel took no answer (the open was interrupted).
 */
int
ureplyopenpt(fuse_req_t req, struct fuse_file_info *fi, int id)
{
	struct {
		uint32_t len;
		int32_t error;
		uint64_t unique;
		uint64_t fh;
		uint32_t flags;
		int32_t backing;
	} o;

	memset(&o, 0, sizeof o);
	o.len = sizeof o;
	o.fh = fi->fh;
	o.flags = FopenPassthrough;
	o.backing = id;
	return sendanswer(req, &o, sizeof o);
}

/*
 * A worker blocks in read(2) on /dev/fuse: the kernel wakes one reader a
 * request (polling woke them all, and all but one read EAGAIN).  At the
 * end a signal (SIGUSR1, no SA_RESTART) takes each out of its read.
 */
static void *
worker(void *arg)
{
	struct fuse_buf fb;
	int n;

	memset(&fb, 0, sizeof fb);
	while(!fuse_session_exited(ufs.se) && !ufs.ending){
		n = fuse_session_receive_buf(ufs.se, &fb);
		if(n == -EINTR || n == -EAGAIN)
			continue;
		if(n <= 0)
			break;	/* ENODEV: the mount is gone */
		pthread_mutex_lock(&pool.lk);
		if(--pool.idle == 0 && pool.n < Maxworker && !ufs.ending &&
		   pthread_create(&pool.th[pool.n], NULL, worker, NULL) == 0){
			pool.n++;
			pool.idle++;
		}
		pthread_mutex_unlock(&pool.lk);
		if(!(fb.flags & FUSE_BUF_IS_FD) && (size_t)n >= 40)
			memcpy(&curunique, (char *)fb.mem + 8, sizeof curunique);
		if(!(fb.flags & FUSE_BUF_IS_FD) && (size_t)n >= 40 && become(fb.mem) < 0 && !noreply(fb.mem))
			refuse(fb.mem, EACCES);
		else
			fuse_session_process_buf(ufs.se, &fb);
		pthread_mutex_lock(&pool.lk);
		pool.idle++;
		pthread_mutex_unlock(&pool.lk);
	}
	pthread_mutex_lock(&pool.lk);
	pool.idle--;
	pthread_mutex_unlock(&pool.lk);
	free(fb.mem);
	wake();
	return NULL;
}

static void
onusr1(int sig)
{
}

/* --- the control socket --- */

static void
reply(int rfd, URep *r, const char *a, size_t na, const char *b, size_t nb, int fd)
{
	struct iovec iov[3];

	iov[0].iov_base = r;
	iov[0].iov_len = sizeof *r;
	iov[1].iov_base = (void *)a;
	iov[1].iov_len = na;
	iov[2].iov_base = (void *)b;
	iov[2].iov_len = nb;
	/*
	 * A client that went away loses its answer.  One that does not read
	 * holds this thread at most Sendms a message (SO_SNDTIMEO, set on
	 * the reply socket when the request came): a long member list must
	 * arrive whole, not be cut where the socket's buffer is full.
	 */
	if(usend(rfd, iov, 3, &fd, fd >= 0 ? 1 : 0, 0) < 0){
	}
}

static void
replyerr(int rfd)
{
	URep r;
	const char *t;

	memset(&r, 0, sizeof r);
	r.err = errcode();
	if(r.err == 0)
		r.err = EIO;
	t = errtext();
	reply(rfd, &r, t, strlen(t), NULL, 0, -1);
}

static void
replyok(int rfd, uint32_t n)
{
	URep r;

	memset(&r, 0, sizeof r);
	r.n = n;
	r.cookie = ufs.cookie;
	reply(rfd, &r, NULL, 0, NULL, 0, -1);
}

/* Replace the member list; the old one goes when its last user is done. */
static void
setms(Members *ms)
{
	Members *old;

	pthread_mutex_lock(&ufs.lk);
	old = ufs.ms;
	ufs.ms = ms;
	pthread_mutex_unlock(&ufs.lk);
	uputms(old);
}

static Members *
newms(int n)
{
	Members *ms;

	ms = emalloc(sizeof *ms + n * sizeof ms->m[0]);
	ms->ref = 1;
	ms->n = n;
	return ms;
}

static int
add(UReq *q, const char *name, const char *spec, int fd)
{
	Members *cur, *ms;
	Member *m;
	int i, j, own;

	if(fd < 0)
		return seterr(EINVAL, "add: no directory");
	if(q->verb != NS_BIND && q->verb != NS_MOUNT && q->verb != USELF){
		close(fd);
		return seterr(EINVAL, "add: bad verb %u", q->verb);
	}
	/*
	 * A directory of this very mount (bind -b OLD/sub OLD) is one member's
	 * own directory: hold that, not our mount, which would then never go.
	 */
	own = uownfd(fd);
	if(own == -2){
		close(fd);
		return seterr(EINVAL, "a union cannot be a member of itself");
	}
	if(own >= 0){
		close(fd);
		fd = own;
	}
	cur = ugetms();
	if(cur->n >= UMAXMEMBER){
		close(fd);
		uputms(cur);
		return seterr(ENOSPC, "a union has at most %d members", UMAXMEMBER);
	}
	m = unewmember(fd, q->flag & (NS_MCREATE | NS_MCACHE), q->verb, name, spec[0] ? spec : NULL);
	if(m == NULL){
		close(fd);
		uputms(cur);
		return -1;
	}
	ms = newms(cur->n + 1);
	j = 0;
	if(q->flag & NS_MBEFORE)
		ms->m[j++] = m;
	pthread_mutex_lock(&ufs.lk);
	for(i = 0; i < cur->n; i++){
		cur->m[i]->ref++;
		ms->m[j++] = cur->m[i];
	}
	pthread_mutex_unlock(&ufs.lk);
	if(!(q->flag & NS_MBEFORE))
		ms->m[j++] = m;
	uputms(cur);
	setms(ms);
	urootchanged();
	/* A member in front may hide any name; one behind changes only the listing. */
	if(q->flag & NS_MBEFORE)
		uexpireroot(NULL, 0);
	else
		uinvalinode(FUSE_ROOT_ID);
	return 0;
}

static int
del(const char *name, int fd, int *left)
{
	struct stat st;
	Members *cur, *ms;
	Member *m, *gone;
	int i, j, have;

	have = fd >= 0 && fstat(fd, &st) == 0;
	cur = ugetms();
	gone = NULL;
	for(i = 0; i < cur->n && gone == NULL; i++){
		m = cur->m[i];
		if((have && m->dev == st.st_dev && m->ino == st.st_ino) || (name[0] != 0 && strcmp(m->name, name) == 0))
			gone = m;
	}
	if(gone == NULL){
		uputms(cur);
		return seterr(EINVAL, "not in union");
	}
	ms = newms(cur->n - 1);
	pthread_mutex_lock(&ufs.lk);
	for(i = j = 0; i < cur->n; i++)
		if(cur->m[i] != gone){
			cur->m[i]->ref++;
			ms->m[j++] = cur->m[i];
		}
	gone->ref++;	/* until its entries are expired */
	pthread_mutex_unlock(&ufs.lk);
	*left = ms->n;
	uputms(cur);
	setms(ms);
	urootchanged();
	/* Its names are dropped, not only expired: the kernel lets go of its files (and fds). */
	uexpireroot(gone, 1);
	uputmember(gone);
	return 0;
}

static void
list(int rfd, int withfds)
{
	Members *ms;
	Member *m;
	URep r;
	int i;

	ms = ugetms();
	replyok(rfd, ms->n);
	for(i = 0; i < ms->n; i++){
		m = ms->m[i];
		memset(&r, 0, sizeof r);
		r.n = i;
		r.flag = m->flag;
		r.verb = m->verb;
		r.nname = strlen(m->name);
		r.nspec = m->spec != NULL ? strlen(m->spec) : 0;
		reply(rfd, &r, m->name, r.nname, m->spec, r.nspec, withfds ? m->fd : -1);
	}
	uputms(ms);
}

static int
start(void)
{
	char mnt[32];
	int i;

	if(ufs.started)
		return seterr(EINVAL, "already started");
	snprintf(mnt, sizeof mnt, "/dev/fd/%d", ufs.fusefd);
	if(fuse_session_mount(ufs.se, mnt) < 0)
		return seterr(EIO, "unionfs: cannot start a FUSE session on fd %d", ufs.fusefd);
	fcntl(ufs.fusefd, F_SETFL, fcntl(ufs.fusefd, F_GETFL) & ~O_NONBLOCK);
	fcntl(ufs.fusefd, F_SETFD, FD_CLOEXEC);
	init();
	ufs.started = 1;
	{
		unsigned maj, min;

		ufs.dev = ns_fusedev(ufs.fusefd, &maj, &min) == 0 ? makedev(maj, min) : 0;
	}
	pthread_mutex_lock(&pool.lk);
	for(i = 0; i < Nworker; i++)
		if(pthread_create(&pool.th[pool.n], NULL, worker, NULL) == 0){
			pool.n++;
			pool.idle++;
		}
	pthread_mutex_unlock(&pool.lk);
	return 0;
}

/* One request.  Malformed ones are dropped, their fds closed. */
static void
control(int ctl)
{
	char buf[UMAXMSG + 1], *name, *spec;
	int fds[2], nfd, i, rfd, fd, left = 0;
	long n;
	UReq q;

	/* at most two fds are kept: more is a malformed request, and urecv closed the rest */
	n = urecv(ctl, buf, UMAXMSG, fds, 2, &nfd, MSG_DONTWAIT);
	if(n < 0)
		return;
	rfd = nfd > 0 ? fds[0] : -1;
	fd = nfd > 1 ? fds[1] : -1;
	if(rfd >= 0){
		struct timeval tv = {Sendms / 1000, (Sendms % 1000) * 1000};
		int t;
		socklen_t tl = sizeof t;

		/* the reply socket must be a SOCK_SEQPACKET one; a blocking send waits at most Sendms */
		if(getsockopt(rfd, SOL_SOCKET, SO_TYPE, &t, &tl) < 0 || t != SOCK_SEQPACKET ||
		   setsockopt(rfd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) < 0)
			goto out;
		fcntl(rfd, F_SETFL, fcntl(rfd, F_GETFL) & ~O_NONBLOCK);
	}
	if(rfd < 0 || nfd > 2 || (size_t)n < sizeof q)
		goto out;
	memcpy(&q, buf, sizeof q);
	if(q.version != UVERSION || q.nname > UMAXMSG || q.nspec > UMAXMSG ||
	   sizeof q + q.nname + q.nspec != (size_t)n)
		goto out;
	/* name and spec: NUL-terminated copies, no NUL inside */
	name = emalloc(q.nname + 1);
	spec = emalloc(q.nspec + 1);
	memcpy(name, buf + sizeof q, q.nname);
	memcpy(spec, buf + sizeof q + q.nname, q.nspec);
	if(strlen(name) != q.nname || strlen(spec) != q.nspec){
		free(name);
		free(spec);
		goto out;
	}
	switch(q.op){
	case Uhello:
		{
			URep r;

			memset(&r, 0, sizeof r);
			r.n = getpid();
			r.cookie = ufs.cookie;
			r.flag = major(ufs.dev);
			r.verb = minor(ufs.dev);
			r.nname = strlen(ufs.nsid);
			reply(rfd, &r, ufs.nsid, r.nname, NULL, 0, -1);
		}
		break;
	case Uadd:
		/* add takes fd, whatever happens */
		i = add(&q, name, spec, fd);
		fd = -1;
		if(i < 0)
			replyerr(rfd);
		else
			replyok(rfd, 0);
		break;
	case Udel:
		if(del(name, fd, &left) < 0)
			replyerr(rfd);
		else
			replyok(rfd, left);
		break;
	case Ulist:
		list(rfd, q.flag & 1);
		break;
	case Uresolve:
		i = fd >= 0 ? uownfd(fd) : -1;
		if(i < 0){
			seterr(EINVAL, "not a directory below this union's root");
			replyerr(rfd);
		}else{
			URep r;

			memset(&r, 0, sizeof r);
			reply(rfd, &r, NULL, 0, NULL, 0, i);
			close(i);
		}
		break;
	case Ustart:
		if(start() < 0)
			replyerr(rfd);
		else
			replyok(rfd, 0);
		break;
	default:
		seterr(EINVAL, "unknown request %u", q.op);
		replyerr(rfd);
	}
	free(name);
	free(spec);
out:
	if(rfd >= 0)
		close(rfd);
	if(fd >= 0)
		close(fd);
}

int
userve(int fusefd, int ctl, uint64_t cookie, int debug)
{
	struct fuse_args args = FUSE_ARGS_INIT(0, NULL);
	struct fuse_lowlevel_ops ops;
	struct sigaction sa;
	struct pollfd pfd[3];
	struct rlimit rl;
	pthread_t t;
	int i, n, rv;

	ufs.fusefd = fusefd;
	ufs.cookie = cookie;
	ufs.debug = debug;
	ufs.isroot = geteuid() == 0;
	ufs.nselfgroups = getgroups(Maxgroups, ufs.selfgroups);
	if(ufs.nselfgroups < 0)
		ufs.nselfgroups = 0;
	ufs.tmo = Tmo;
	ufs.root.fd = -1;
	ufs.root.wd = -1;
	ufs.root.ref = 1;
	ufs.root.nlookup = 1;
	ufs.ms = newms(0);
	/*
	 * A listing's arrays come and go with each readdir: kept in the heap
	 * (not mmap'd and unmapped, untrimmed) they cost no page faults; an
	 * idle server gives the memory back (malloc_trim below).
	 */
	mallopt(M_MMAP_THRESHOLD, 4 << 20);
	mallopt(M_TRIM_THRESHOLD, 64 << 20);
	mallopt(M_ARENA_MAX, 2);
	/* Directory nodes hold fds: as many as allowed. */
	if(getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max){
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	/* Half the fds for directory nodes, the rest for open files, members and the rest. */
	ufs.maxdirfd = getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < 2 * 65536 ? (int)rl.rlim_cur / 2 : 65536;
	/* The name space the union is in, before leaving it: a change from another is a copy's. */
	{
		struct stat st;

		if(stat("/proc/self/ns/mnt", &st) == 0)
			snprintf(ufs.nsid, sizeof ufs.nsid, "%llu %llu", (unsigned long long)st.st_dev,
				 (unsigned long long)st.st_ino);
	}
	ns_isolate();
	ufs.ifd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
	ufs.procok = access("/proc/self/fd", X_OK) == 0;
	wakefd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if(wakefd < 0)
		return syserr("eventfd");
	memset(&ops, 0, sizeof ops);
	ops.init = uinit;
	uopsinit(&ops);
	fuse_opt_add_arg(&args, "ns9");
	if(debug)
		fuse_opt_add_arg(&args, "-d");
	ufs.se = fuse_session_new(&args, &ops, sizeof ops, NULL);
	fuse_opt_free_args(&args);
	if(ufs.se == NULL)
		return seterr(EIO, "unionfs: no FUSE session");

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = onsignal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sa.sa_handler = onusr1;
	sigaction(SIGUSR1, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);

	pfd[0].fd = wakefd;
	pfd[1].fd = ctl;
	pfd[2].fd = ufs.ifd;
	for(i = 0; i < 3; i++)
		pfd[i].events = POLLIN;
	rv = 0;
	for(;;){
		n = poll(pfd, ufs.ifd >= 0 ? 3 : 2, ufs.started ? Trimms : Startms);
		if(n < 0 && errno == EINTR)
			continue;
		if(n == 0 && ufs.started){
			malloc_trim(0);
			continue;
		}
		if(n == 0 && !ufs.started){
			rv = seterr(ETIMEDOUT, "unionfs: never started");
			break;
		}
		if(n < 0 || pfd[0].revents != 0)
			break;
		if(pfd[1].revents & POLLIN)
			control(ctl);
		if(ufs.ifd >= 0 && (pfd[2].revents & POLLIN))
			uwatchevents();
	}
	ufs.ending = 1;
	fuse_session_exit(ufs.se);
	wake();
	/* No worker starts now (ending): take each out of its read until it is done. */
	for(i = 0;; i++){
		struct timespec ts;

		pthread_mutex_lock(&pool.lk);
		n = pool.n;
		if(i < n)
			t = pool.th[i];
		pthread_mutex_unlock(&pool.lk);
		if(i >= n)
			break;
		do{
			pthread_kill(t, SIGUSR1);
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_nsec += 20 * 1000 * 1000;
			if(ts.tv_nsec >= 1000000000){
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000;
			}
		}while(pthread_timedjoin_np(t, NULL, &ts) == ETIMEDOUT);
	}
	fuse_session_destroy(ufs.se);
	ufreeall();
	return rv;
}
