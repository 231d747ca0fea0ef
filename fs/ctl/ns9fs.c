/*
 * ns9fs.c: the control file system (ns9 fs), ANTS's writable /proc/n/ns
 * for Linux.  For every process the mounter may see:
 *	PID/ns		read: the name space as Plan 9 text (ns9 ns PID);
 *			write: one command per write(2), applied in PID's name
 *			space with the writer's credentials (ns_as + ns_ctl)
 *	PID/root	-> /proc/PID/root, which walks PID's name space
 *	self		-> the reader's PID
 * Inodes are computed from (pid, kind), so nothing is kept per inode and
 * forget has nothing to free.  An open ns file holds the text generated at
 * its first read at offset 0 and the text of its last failed write, which
 * the next read at offset 0 returns (style.md).  Files are direct_io.
 *
 * Process structure: libfuse's multithreaded loop; each write runs its
 * command in a short-lived helper (ns_as, then ns_ctl's own helper), so
 * several writers, on one target or many, proceed at once.
 */
#define FUSE_USE_VERSION 314
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fuse_lowlevel.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ns9.h"
#include "ns9fs.h"

enum {
	KROOT = 0,
	KDIR = 1,
	KNS = 2,
	KROOTLINK = 3,
	SELFINO = 2,
	TIMEOUT = 1,	/* seconds: processes come and go */
};

#define INO(pid, kind) (((fuse_ino_t)(pid) << 2 | (kind)) + 16)

static void credof(fuse_req_t req, NsCred *c);
static void credfree(NsCred *c);

typedef struct Handle Handle;
struct Handle {
	pthread_mutex_t lk;
	pid_t pid;
	char *text;	/* what reads return; regenerated at offset 0 */
	size_t len;
	char *err;	/* text of the last failed write, returned by the next read at 0 */
	NsCred opener;	/* who opened it: reads and writes must come from the same */
};

static int
decode(fuse_ino_t ino, pid_t *pid, int *kind)
{
	if(ino == FUSE_ROOT_ID){
		*pid = 0;
		*kind = KROOT;
		return 0;
	}
	if(ino < 16 + 4)
		return -1;
	ino -= 16;
	*pid = ino >> 2;
	*kind = ino & 3;
	return 0;
}

/* Whether /proc has pid (as this daemon sees it); its owner in *st. */
static int
procstat(pid_t pid, struct stat *st)
{
	char path[64];

	snprintf(path, sizeof path, "/proc/%d", (int)pid);
	return stat(path, st);
}

static int
pidname(const char *name, pid_t *pid)
{
	char *end;
	long v;

	if(name[0] < '1' || name[0] > '9')
		return -1;
	v = strtol(name, &end, 10);
	if(*end != 0 || v <= 0 || v > 0x3fffffff)
		return -1;
	*pid = v;
	return 0;
}

static int
fill(fuse_ino_t ino, struct stat *st)
{
	struct stat ps;
	pid_t pid;
	int kind;

	memset(st, 0, sizeof *st);
	st->st_ino = ino;
	st->st_nlink = 1;
	if(ino == SELFINO){
		st->st_mode = S_IFLNK | 0777;
		return 0;
	}
	if(decode(ino, &pid, &kind) < 0)
		return ENOENT;
	if(kind == KROOT){
		st->st_mode = S_IFDIR | 0555;
		st->st_nlink = 2;
		return 0;
	}
	if(procstat(pid, &ps) < 0)
		return ENOENT;
	st->st_uid = ps.st_uid;
	st->st_gid = ps.st_gid;
	st->st_mtim = ps.st_mtim;
	st->st_ctim = ps.st_ctim;
	switch(kind){
	case KDIR:
		st->st_mode = S_IFDIR | 0555;
		st->st_nlink = 2;
		break;
	case KNS:
		st->st_mode = S_IFREG | 0644;
		break;
	case KROOTLINK:
		st->st_mode = S_IFLNK | 0777;
		break;
	default:
		return ENOENT;
	}
	return 0;
}

static void
replyentry(fuse_req_t req, fuse_ino_t ino)
{
	struct fuse_entry_param e;
	int r;

	memset(&e, 0, sizeof e);
	r = fill(ino, &e.attr);
	if(r != 0){
		fuse_reply_err(req, r);
		return;
	}
	e.ino = ino;
	e.attr_timeout = TIMEOUT;
	e.entry_timeout = TIMEOUT;
	fuse_reply_entry(req, &e);
}

static void
fs_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	pid_t pid, ppid;
	int kind;

	if(decode(parent, &ppid, &kind) < 0){
		fuse_reply_err(req, ENOENT);
		return;
	}
	if(kind == KROOT){
		if(strcmp(name, "self") == 0)
			replyentry(req, SELFINO);
		else if(pidname(name, &pid) == 0)
			replyentry(req, INO(pid, KDIR));
		else
			fuse_reply_err(req, ENOENT);
		return;
	}
	if(kind == KDIR && strcmp(name, "ns") == 0)
		replyentry(req, INO(ppid, KNS));
	else if(kind == KDIR && strcmp(name, "root") == 0)
		replyentry(req, INO(ppid, KROOTLINK));
	else
		fuse_reply_err(req, ENOENT);
}

static void
fs_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct stat st;
	int r;

	r = fill(ino, &st);
	if(r != 0)
		fuse_reply_err(req, r);
	else
		fuse_reply_attr(req, &st, TIMEOUT);
}

static void
fs_readlink(fuse_req_t req, fuse_ino_t ino)
{
	char buf[64];
	pid_t pid;
	int kind;

	if(ino == SELFINO){
		snprintf(buf, sizeof buf, "%d", (int)fuse_req_ctx(req)->pid);
		fuse_reply_readlink(req, buf);
		return;
	}
	if(decode(ino, &pid, &kind) < 0 || kind != KROOTLINK){
		fuse_reply_err(req, EINVAL);
		return;
	}
	/* Linux's own magic link: walking it resolves names in pid's name space. */
	snprintf(buf, sizeof buf, "/proc/%d/root", (int)pid);
	fuse_reply_readlink(req, buf);
}

/* Directory listings are built whole at opendir and served from the handle. */
typedef struct Dir Dir;
struct Dir {
	char *buf;
	size_t len;
};

static void
addent(fuse_req_t req, Buf *b, const char *name, fuse_ino_t ino, mode_t mode)
{
	struct stat st;
	size_t need;

	memset(&st, 0, sizeof st);
	st.st_ino = ino;
	st.st_mode = mode;
	need = fuse_add_direntry(req, NULL, 0, name, NULL, 0);
	if(b->n + need + 1 > b->cap){
		b->cap = (b->n + need + 1) * 2;
		b->s = erealloc(b->s, b->cap);
	}
	fuse_add_direntry(req, b->s + b->n, need, name, &st, b->n + need);
	b->n += need;
}

static void
fs_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct dirent *de;
	Buf b = {0};
	Dir *d;
	DIR *pd;
	pid_t pid;
	int kind;

	if(decode(ino, &pid, &kind) < 0 || (kind != KROOT && kind != KDIR)){
		fuse_reply_err(req, ENOTDIR);
		return;
	}
	addent(req, &b, ".", ino, S_IFDIR);
	addent(req, &b, "..", FUSE_ROOT_ID, S_IFDIR);
	if(kind == KROOT){
		addent(req, &b, "self", SELFINO, S_IFLNK);
		pd = opendir("/proc");
		if(pd == NULL){
			buffree(&b);
			fuse_reply_err(req, errno);
			return;
		}
		while((de = readdir(pd)) != NULL)
			if(pidname(de->d_name, &pid) == 0)
				addent(req, &b, de->d_name, INO(pid, KDIR), S_IFDIR);
		closedir(pd);
	}else{
		addent(req, &b, "ns", INO(pid, KNS), S_IFREG);
		addent(req, &b, "root", INO(pid, KROOTLINK), S_IFLNK);
	}
	d = emalloc(sizeof *d);
	d->buf = b.s;
	d->len = b.n;
	fi->fh = (uintptr_t)d;
	fuse_reply_open(req, fi);
}

static void
fs_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi)
{
	Dir *d = (Dir *)(uintptr_t)fi->fh;

	/* The kernel keeps the whole entries of a reply and asks again from the last one's offset. */
	if(off < 0 || (size_t)off >= d->len)
		fuse_reply_buf(req, NULL, 0);
	else
		fuse_reply_buf(req, d->buf + off, d->len - off < size ? d->len - off : size);
}

static void
fs_releasedir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	Dir *d = (Dir *)(uintptr_t)fi->fh;

	free(d->buf);
	free(d);
	fuse_reply_err(req, 0);
}

static void
fs_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	Handle *h;
	pid_t pid;
	int kind;

	kind = -1;
	if(decode(ino, &pid, &kind) < 0 || kind != KNS){
		fuse_reply_err(req, kind == KDIR || kind == KROOT ? EISDIR : ENOENT);
		return;
	}
	h = emalloc(sizeof *h);
	pthread_mutex_init(&h->lk, NULL);
	h->pid = pid;
	/* Rights are the opener's (an fd passed to a setuid program gains nothing). */
	credof(req, &h->opener);
	credfree(&h->opener);
	fi->fh = (uintptr_t)h;
	fi->direct_io = 1;
	fi->nonseekable = 0;
	fuse_reply_open(req, fi);
}

/*
 * The requester's credentials: uid and gid from the request; groups,
 * effective capabilities and whether a seccomp filter binds it from its
 * thread's status (the thread is blocked in this request, so they hold).
 * A requester that cannot be read gets no capabilities and counts as
 * filtered.
 */
static uint64_t
myuserns(void)
{
	struct stat st;

	return stat("/proc/self/ns/user", &st) == 0 ? st.st_ino : 0;
}

static void
credfree(NsCred *c)
{
	if(c->userfd >= 0)
		close(c->userfd);
	c->userfd = -1;
}

/* Whether a and b are the same requester (for open against read and write). */
static int
samecred(const NsCred *a, const NsCred *b)
{
	return a->uid == b->uid && a->gid == b->gid && a->capeff == b->capeff && a->filtered == b->filtered &&
	       a->userns == b->userns && a->ngroups == b->ngroups &&
	       memcmp(a->groups, b->groups, a->ngroups * sizeof(gid_t)) == 0;
}

static void
credof(fuse_req_t req, NsCred *c)
{
	const struct fuse_ctx *ctx;
	char path[64], line[1024], *p, *end;
	struct stat st;
	FILE *f;
	long g;

	ctx = fuse_req_ctx(req);
	memset(c, 0, sizeof *c);
	c->uid = ctx->uid;
	c->gid = ctx->gid;
	c->filtered = 1;
	c->userfd = -1;
	snprintf(path, sizeof path, "/proc/%d/ns/user", (int)ctx->pid);
	c->userfd = open(path, O_RDONLY | O_CLOEXEC);
	if(c->userfd < 0 || fstat(c->userfd, &st) < 0){
		/* Unknown: no groups, no capabilities, a namespace of its own. */
		c->userns = ~0ULL;
		return;
	}
	c->userns = st.st_ino;
	if(st.st_ino == myuserns()){
		close(c->userfd);
		c->userfd = -1;
	}
	snprintf(path, sizeof path, "/proc/%d/status", (int)ctx->pid);
	f = fopen(path, "re");
	if(f == NULL)
		return;
	while(fgets(line, sizeof line, f) != NULL){
		if(strncmp(line, "Groups:", 7) == 0){
			for(p = line + 7; c->ngroups < (int)nelem(c->groups); p = end){
				g = strtol(p, &end, 10);
				if(end == p)
					break;
				c->groups[c->ngroups++] = g;
			}
		}else if(strncmp(line, "CapEff:", 7) == 0)
			c->capeff = strtoull(line + 7, NULL, 16);
		else if(strncmp(line, "Seccomp:", 8) == 0)
			c->filtered = atoi(line + 8) != 0;
	}
	fclose(f);
}

/* Whether c attaches something new: mount, or a bind of a # device. */
static int
attaches(const NsCmd *c)
{
	return c->verb == NS_MOUNT || (c->verb == NS_BIND && c->new[0] == '#');
}

typedef struct Text Text;
struct Text {
	pid_t pid;
	char *text;
};

static int
readtext(void *v)
{
	Text *t = v;

	t->text = ns_text(t->pid, 0);
	return t->text == NULL ? -1 : 0;
}

static void
fs_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi)
{
	Handle *h = (Handle *)(uintptr_t)fi->fh;
	NsCred cred;
	Text t;

	pthread_mutex_lock(&h->lk);
	if(off == 0){
		free(h->text);
		h->text = NULL;
		h->len = 0;
		if(h->err != NULL){
			/* The rich text of the last failed write. */
			h->text = h->err;
			h->err = NULL;
		}else{
			/* Read as the reader: its view of /proc, its ptrace rights. */
			credof(req, &cred);
			t.pid = h->pid;
			t.text = NULL;
			if(!samecred(&cred, &h->opener) || ns_as(&cred, readtext, &t) < 0){
				if(!samecred(&cred, &h->opener))
					perr(Eperm, NULL);
				credfree(&cred);
				pthread_mutex_unlock(&h->lk);
				fuse_reply_err(req, errcode() ? errcode() : EIO);
				return;
			}
			credfree(&cred);
			h->text = t.text;
		}
		h->len = strlen(h->text);
	}
	if(h->text == NULL || off < 0 || (size_t)off >= h->len)
		fuse_reply_buf(req, NULL, 0);
	else
		fuse_reply_buf(req, h->text + off, h->len - off < size ? h->len - off : size);
	pthread_mutex_unlock(&h->lk);
}

typedef struct Write Write;
struct Write {
	pid_t pid;
	NsCmd *cmd;
};

static int
writecmd(void *v)
{
	Write *w = v;
	int applied;

	return ns_ctl(w->pid, w->cmd, 1, &applied);
}

static void
fs_write(fuse_req_t req, fuse_ino_t ino, const char *buf, size_t size, off_t off,
	 struct fuse_file_info *fi)
{
	Handle *h = (Handle *)(uintptr_t)fi->fh;
	NsCred cred;
	NsCmd c;
	Write w;
	char *line;
	int r, code;

	/* FUSE splits a write past max_write into several requests: refuse what could be split. */
	if(size > 65536){
		pthread_mutex_lock(&h->lk);
		free(h->err);
		h->err = esmprint("a command of %zu bytes is too long\n", size);
		pthread_mutex_unlock(&h->lk);
		fuse_reply_err(req, E2BIG);
		return;
	}
	line = emalloc(size + 1);
	memcpy(line, buf, size);
	line[size] = 0;
	/* One command per write: one trailing newline is allowed, no other. */
	if(size > 0 && line[size - 1] == '\n')
		line[size - 1] = 0;
	if(memchr(buf, 0, size) != NULL)
		r = seterr(EINVAL, "a NUL byte in a command");
	else if(strchr(line, '\n') != NULL)
		r = seterr(EINVAL, "one command per write");
	else{
		r = ns_parseline(&c, line);
		if(r == 0)
			r = seterr(EINVAL, "empty command");
		else if(r > 0){
			credof(req, &cred);
			if(!samecred(&cred, &h->opener))
				r = perr(Eperm, NULL);
			/* A writer under rfork -m (or any filter) may not ask the server to mount for it. */
			else if(cred.filtered && attaches(&c))
				r = perr(Enoattach, NULL);
			else{
				w.pid = h->pid;
				w.cmd = &c;
				r = ns_as(&cred, writecmd, &w);
			}
			credfree(&cred);
			ns_freecmd(&c);
		}
	}
	free(line);
	pthread_mutex_lock(&h->lk);
	free(h->err);
	h->err = NULL;
	if(r < 0){
		code = errcode() ? errcode() : EIO;
		h->err = esmprint("%s\n", errtext());
		pthread_mutex_unlock(&h->lk);
		fuse_reply_err(req, code);
		return;
	}
	pthread_mutex_unlock(&h->lk);
	fuse_reply_write(req, size);
}

static void
fs_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	Handle *h = (Handle *)(uintptr_t)fi->fh;

	/*
	 * The kernel may send RELEASE while another thread still replies to the
	 * last READ of this file (its caller already has the bytes): wait for it.
	 */
	pthread_mutex_lock(&h->lk);
	free(h->text);
	free(h->err);
	pthread_mutex_unlock(&h->lk);
	pthread_mutex_destroy(&h->lk);
	free(h);
	fuse_reply_err(req, 0);
}

static void
fs_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set, struct fuse_file_info *fi)
{
	/* O_TRUNC from a shell's '>' arrives as a size change: accept it, keep nothing. */
	if(to_set & ~(FUSE_SET_ATTR_SIZE | FUSE_SET_ATTR_ATIME | FUSE_SET_ATTR_MTIME |
		      FUSE_SET_ATTR_ATIME_NOW | FUSE_SET_ATTR_MTIME_NOW | FUSE_SET_ATTR_CTIME)){
		fuse_reply_err(req, EPERM);
		return;
	}
	fs_getattr(req, ino, fi);
}

static void
fs_init(void *userdata, struct fuse_conn_info *conn)
{
	/* O_TRUNC (a shell's '>') comes with the open, not as a SETATTR that costs milliseconds. */
	if(conn->capable & FUSE_CAP_ATOMIC_O_TRUNC)
		conn->want |= FUSE_CAP_ATOMIC_O_TRUNC;
}

static const struct fuse_lowlevel_ops ops = {
	.init = fs_init,
	.lookup = fs_lookup,
	.getattr = fs_getattr,
	.setattr = fs_setattr,
	.readlink = fs_readlink,
	.opendir = fs_opendir,
	.readdir = fs_readdir,
	.releasedir = fs_releasedir,
	.open = fs_open,
	.read = fs_read,
	.write = fs_write,
	.release = fs_release,
};

int
ns9fs_serve(const char *mountpoint, int foreground, int allowother)
{
	struct fuse_args args = FUSE_ARGS_INIT(0, NULL);
	struct fuse_loop_config *cfg;
	struct fuse_session *se;
	int r;

	fuse_opt_add_arg(&args, "ns9fs");
	fuse_opt_add_arg(&args, "-o");
	fuse_opt_add_arg(&args, allowother ? "fsname=ns9fs,subtype=ns9,allow_other" : "fsname=ns9fs,subtype=ns9");
	se = fuse_session_new(&args, &ops, sizeof ops, NULL);
	fuse_opt_free_args(&args);
	if(se == NULL)
		return seterr(EIO, "ns9fs: cannot start a FUSE session");
	if(fuse_set_signal_handlers(se) < 0){
		fuse_session_destroy(se);
		return seterr(EIO, "ns9fs: signal handlers");
	}
	if(fuse_session_mount(se, mountpoint) < 0){
		fuse_remove_signal_handlers(se);
		fuse_session_destroy(se);
		return seterr(EIO, "ns9fs: cannot mount on %s", mountpoint);
	}
	fuse_daemonize(foreground);
	cfg = fuse_loop_cfg_create();
	fuse_loop_cfg_set_max_threads(cfg, 16);
	r = fuse_session_loop_mt(se, cfg);
	fuse_loop_cfg_destroy(cfg);
	fuse_session_unmount(se);
	fuse_remove_signal_handlers(se);
	fuse_session_destroy(se);
	return r < 0 ? seterr(EIO, "ns9fs: session ended with an error") : 0;
}
