/*
 * t_9psrv.c: the server framework (lib/9p/srv.c) driven by raw messages.
 * A toy file server (a few files, one whose read blocks until the test
 * lets it go) is served by p9_serve in a thread over a socketpair; the
 * test packs T-messages with p9_pack and reads the replies it gets back.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "9p.h"
#include "tap.h"

/* --- the toy file server --- */

typedef struct Node Node;
struct Node {
	const char *name;
	int dir;
	int parent;
	char data[64];
	size_t len;
};

enum { Root, A, Dir, B, Block, Big, Intr, Nnode };
enum { Bigsize = 20000 };

static Node nodes[Nnode] = {
	[Root] = {"/", 1, Root, "", 0},
	[A] = {"a", 0, Root, "hello", 5},
	[Dir] = {"dir", 1, Root, "", 0},
	[B] = {"b", 0, Dir, "bee", 3},
	[Block] = {"block", 0, Root, "", 0},
	[Big] = {"big", 0, Root, "", 0},
	[Intr] = {"intr", 0, Root, "", 0},	/* a read waits until it is interrupted */
};

/* A fid's aux: a handle the test counts, so a leaked or doubly freed fid shows. */
typedef struct Handle Handle;
struct Handle {
	int node;
};

static pthread_mutex_t lk = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static int live;	/* handles alive */
static int destroyed;	/* destroyfid calls */
static int blockstarted;	/* reads of "block" that are waiting */
static int blockrelease;	/* let them go */
static int served;	/* serve calls */
static uint32_t maxfid;	/* startconv's srv.maxfid */
static int intrwaiting;	/* reads of "intr" waiting */

/* Wait until the test lets the reads of "block" (and the walks to "hold") go. */
static void
hold(void)
{
	pthread_mutex_lock(&lk);
	blockstarted++;
	pthread_cond_broadcast(&cond);
	while(!blockrelease)
		pthread_cond_wait(&cond, &lk);
	blockstarted--;
	pthread_cond_broadcast(&cond);
	pthread_mutex_unlock(&lk);
}

static Handle *
newhandle(int node)
{
	Handle *h;

	h = emalloc(sizeof *h);
	h->node = node;
	pthread_mutex_lock(&lk);
	live++;
	pthread_mutex_unlock(&lk);
	return h;
}

static P9Qid
qidof(int n)
{
	P9Qid q;

	q.type = nodes[n].dir ? P9_QTDIR : P9_QTFILE;
	q.vers = 0;
	q.path = n;
	return q;
}

static int
lookup(int dir, const char *name)
{
	int i;

	for(i = 1; i < Nnode; i++)
		if(nodes[i].parent == dir && strcmp(nodes[i].name, name) == 0)
			return i;
	return -1;
}

static int
toywalk(P9Req *r)
{
	Handle *h;
	int n, next, i;

	h = r->fid->aux;
	n = h->node;
	for(i = 0; i < r->ifcall.nwname; i++){
		if(!nodes[n].dir){
			if(i == 0)
				return perr(Enotdir, "walk");
			break;
		}
		/* "hold": a walk to a that waits until the test lets it go */
		if(strcmp(r->ifcall.wname[i], "hold") == 0){
			hold();
			next = A;
		}else
			next = lookup(n, r->ifcall.wname[i]);
		if(next < 0){
			if(i == 0)
				return perr(Enonexist, "walk %s", r->ifcall.wname[i]);
			break;
		}
		n = next;
		r->ofcall.wqid[i] = qidof(n);
	}
	r->ofcall.nwqid = i;
	if(i == r->ifcall.nwname){
		r->newfid->qid = qidof(n);
		if(r->newfid == r->fid)
			h->node = n;
		else
			r->newfid->aux = newhandle(n);
	}
	return 0;
}

static int
toyread(P9Req *r)
{
	Handle *h;
	Node *n;
	uint64_t off;
	uint32_t count;
	uint8_t *p;
	uint32_t i;

	h = r->fid->aux;
	n = &nodes[h->node];
	off = r->ifcall.offset;
	count = r->ifcall.count;
	if(h->node == Block){
		pthread_mutex_lock(&lk);
		blockstarted++;
		pthread_cond_broadcast(&cond);
		while(!blockrelease)
			pthread_cond_wait(&cond, &lk);
		blockstarted--;
		pthread_mutex_unlock(&lk);
		r->ofcall.count = 0;
		return 0;
	}
	if(h->node == Intr){
		pthread_mutex_lock(&lk);
		intrwaiting++;
		pthread_cond_broadcast(&cond);
		pthread_mutex_unlock(&lk);
		while(!p9_interrupted(r))
			poll(NULL, 0, 10);
		pthread_mutex_lock(&lk);
		intrwaiting--;
		pthread_mutex_unlock(&lk);
		return seterr(EINTR, "interrupted");
	}
	if(h->node == Big){
		/* built in place in the reply buffer */
		p = r->obuf + P9_RREADHDRSZ;
		if(off > Bigsize)
			off = Bigsize;
		if(count > Bigsize - off)
			count = Bigsize - off;
		for(i = 0; i < count; i++)
			p[i] = 'A' + (off + i) % 26;
		r->ofcall.data = p;
		r->ofcall.count = count;
		return 0;
	}
	if(n->dir)
		return seterr(EISDIR, "read of a directory");
	if(off > n->len)
		off = n->len;
	if(count > n->len - off)
		count = n->len - off;
	r->ofcall.data = (uint8_t *)n->data + off;
	r->ofcall.count = count;
	return 0;
}

static int servedtid;	/* the thread that served the last request */
static int startquick;	/* P9Srv.quick for the next startconv */

static int
toyserve(P9Req *r)
{
	Handle *h;
	Node *n;

	pthread_mutex_lock(&lk);
	served++;
	servedtid = gettid();
	pthread_mutex_unlock(&lk);
	switch(r->ifcall.type){
	case P9_TATTACH:
		if(strcmp(r->ifcall.aname, "bad") == 0)
			return perr(Enoattach, "attach");
		if(strcmp(r->ifcall.aname, "hold") == 0)
			hold();
		r->fid->aux = newhandle(Root);
		r->fid->qid = qidof(Root);
		r->ofcall.qid = r->fid->qid;
		return 0;
	case P9_TWALK:
		return toywalk(r);
	case P9_TOPEN:
	case P9_TLOPEN:
		h = r->fid->aux;
		r->ofcall.qid = qidof(h->node);
		return 0;
	case P9_TREAD:
		return toyread(r);
	case P9_TWRITE:
		h = r->fid->aux;
		n = &nodes[h->node];
		if(n->dir || h->node == Big || h->node == Block)
			return perr(Eperm, "write");
		if(r->ifcall.offset > sizeof n->data || r->ifcall.count > sizeof n->data - r->ifcall.offset)
			return seterr(ENOSPC, "no space left");
		memcpy(n->data + r->ifcall.offset, r->ifcall.data, r->ifcall.count);
		if(r->ifcall.offset + r->ifcall.count > n->len)
			n->len = r->ifcall.offset + r->ifcall.count;
		r->ofcall.count = r->ifcall.count;
		return 0;
	case P9_TSTAT:
		h = r->fid->aux;
		n = &nodes[h->node];
		r->ofcall.stat.qid = qidof(h->node);
		r->ofcall.stat.mode = n->dir ? P9_DMDIR | 0755 : 0644;
		r->ofcall.stat.length = n->len;
		r->ofcall.stat.name = (char *)n->name;
		r->ofcall.stat.uid = r->fid->uname;
		r->ofcall.stat.gid = r->fid->uname;
		r->ofcall.stat.muid = "";
		return 0;
	case P9_TREMOVE:
		return perr(Eperm, "remove");
	}
	return seterr(ENOSYS, "%s not implemented", p9_typename(r->ifcall.type));
}

static int
toyclone(P9Fid *old, P9Fid *new)
{
	Handle *h;

	h = old->aux;
	new->aux = newhandle(h->node);
	return 0;
}

static void
toydestroy(P9Fid *f)
{
	pthread_mutex_lock(&lk);
	destroyed++;
	if(f->aux != NULL)
		live--;
	pthread_mutex_unlock(&lk);
	free(f->aux);
}

static int
ndestroyed(void)
{
	int n;

	pthread_mutex_lock(&lk);
	n = destroyed;
	pthread_mutex_unlock(&lk);
	return n;
}

/* Wait (bounded by the test's timeout) until n reads of "block" wait. */
static void
waitblocked(int n)
{
	pthread_mutex_lock(&lk);
	while(blockstarted < n)
		pthread_cond_wait(&cond, &lk);
	pthread_mutex_unlock(&lk);
}

static void
release(void)
{
	pthread_mutex_lock(&lk);
	blockrelease = 1;
	pthread_cond_broadcast(&cond);
	pthread_mutex_unlock(&lk);
}

static void
rearm(void)
{
	pthread_mutex_lock(&lk);
	while(blockstarted > 0)
		pthread_cond_wait(&cond, &lk);
	blockrelease = 0;
	pthread_mutex_unlock(&lk);
}

/* --- a conversation: p9_serve in a thread on one end of a socketpair --- */

typedef struct Conv Conv;
struct Conv {
	P9Srv srv;
	int cfd;
	int sfd;
	pthread_t t;
	int rc;
	int tid;	/* of the thread in p9_serve: the reader */
	int dialect;
	size_t msize;
	uint8_t buf[1 << 16];
};

static void *
servethread(void *arg)
{
	Conv *v;

	v = arg;
	__atomic_store_n(&v->tid, gettid(), __ATOMIC_SEQ_CST);
	v->rc = p9_serve(&v->srv, v->sfd, v->sfd);
	close(v->sfd);
	return NULL;
}

static Conv *
startconv(int nthread, size_t msize, int dialects)
{
	Conv *v;
	int sv[2];

	v = emalloc(sizeof *v);
	if(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		abort();
	v->cfd = sv[0];
	v->sfd = sv[1];
	v->srv.serve = toyserve;
	v->srv.clone = toyclone;
	v->srv.destroyfid = toydestroy;
	v->srv.nthread = nthread;
	v->srv.msize = msize;
	v->srv.dialects = dialects;
	v->srv.name = "toy";
	v->srv.maxfid = maxfid;
	v->srv.quick = startquick;
	v->dialect = P9_9P2000;
	v->msize = msize;
	pthread_create(&v->t, NULL, servethread, v);
	return v;
}

static int
endconv(Conv *v)
{
	int rc;

	close(v->cfd);
	pthread_join(v->t, NULL);
	rc = v->rc;
	free(v);
	return rc;
}

static int
writen(int fd, const void *buf, size_t n)
{
	return write(fd, buf, n) == (ssize_t)n ? 0 : -1;
}

static int
tsend(Conv *v, P9Fcall *t)
{
	uint8_t buf[8192];
	int n;

	n = p9_pack(t, v->dialect, buf, sizeof buf);
	if(n < 0)
		return -1;
	return writen(v->cfd, buf, n);
}

static ssize_t
readn(int fd, uint8_t *p, size_t n)
{
	size_t got;
	ssize_t r;

	for(got = 0; got < n; got += r){
		r = read(fd, p + got, n - got);
		if(r <= 0)
			return got;
	}
	return got;
}

/* The next reply; -1 at end of file or if it does not decode. */
static int
trecv(Conv *v, P9Fcall *r)
{
	uint32_t size;

	memset(r, 0, sizeof *r);
	if(readn(v->cfd, v->buf, 4) != 4)
		return -1;
	size = p9_msgsize(v->buf);
	if(size < P9_HDRSZ || size > sizeof v->buf)
		return -1;
	if(readn(v->cfd, v->buf + 4, size - 4) != size - 4)
		return -1;
	if(p9_unpack(v->buf, size, v->dialect, sizeof v->buf, r) < 0){
		if(r->type == P9_RERROR)	/* an answer to Tversion: try .u */
			return p9_unpack(v->buf, size, P9_9P2000U, sizeof v->buf, r) < 0 ? -1 : 0;
		return -1;
	}
	return 0;
}

/* trecv, waiting at most 5 s for the reply to start: -1 if none came. */
static int
trecvwait(Conv *v, P9Fcall *r)
{
	struct pollfd p = {v->cfd, POLLIN, 0};

	memset(r, 0, sizeof *r);
	if(poll(&p, 1, 5000) != 1)
		return -1;
	return trecv(v, r);
}

/* Send t and read one reply into r (the caller frees r). */
static int
rpc(Conv *v, P9Fcall *t, P9Fcall *r)
{
	if(tsend(v, t) < 0)
		return -1;
	return trecv(v, r);
}

static uint16_t nexttag = 1;

/* An rpc whose reply must be of type want (and its tag); returns 1 if so. */
static int
expect(Conv *v, P9Fcall *t, int want, P9Fcall *r, const char *what)
{
	int good;

	if(t->type != P9_TVERSION)
		t->tag = nexttag++;
	good = rpc(v, t, r) == 0 && r->type == want && r->tag == t->tag;
	if(!ok(good, "%s", what)){
		diag("reply type %s tag %d (want %s tag %d)%s%s", p9_typename(r->type) ? p9_typename(r->type) : "none",
			r->tag, p9_typename(want), t->tag, r->ename ? ": " : "", r->ename ? r->ename : "");
	}
	return good;
}

static int
tversion(Conv *v, const char *version, uint32_t msize, P9Fcall *r)
{
	P9Fcall t = {0};

	t.type = P9_TVERSION;
	t.tag = P9_NOTAG;
	t.msize = msize;
	t.version = (char *)version;
	return rpc(v, &t, r);
}

/* Version, attach fid 0: the usual start. */
static void
begin(Conv *v)
{
	P9Fcall t = {0}, r;

	tversion(v, "9P2000", v->msize, &r);
	p9_freefcall(&r);
	t.type = P9_TATTACH;
	t.tag = nexttag++;
	t.fid = 0;
	t.afid = P9_NOFID;
	t.uname = "glenda";
	t.aname = "";
	rpc(v, &t, &r);
	p9_freefcall(&r);
}

static P9Fcall
twalk(uint32_t fid, uint32_t newfid, int n, const char **names)
{
	P9Fcall t = {0};
	int i;

	t.type = P9_TWALK;
	t.fid = fid;
	t.newfid = newfid;
	t.nwname = n;
	for(i = 0; i < n; i++)
		t.wname[i] = (char *)names[i];
	return t;
}

static P9Fcall
tfid(int type, uint32_t fid)
{
	P9Fcall t = {0};

	t.type = type;
	t.fid = fid;
	return t;
}

/* --- the tests --- */

static void
testversion(void)
{
	static const struct {
		int dialects;
		const char *ask;
		const char *want;
	} tab[] = {
		{0, "9P2000", "9P2000"},
		{0, "9P2000.u", "9P2000.u"},
		{0, "9P2000.L", "9P2000.L"},
		{0, "9P2000.foo", "9P2000"},
		{0, "9P2000.L.x", "9P2000"},
		{0, "9P3000", "unknown"},
		{0, "", "unknown"},
		{0, "9P", "unknown"},
		{1 << P9_9P2000, "9P2000.L", "9P2000"},
		{1 << P9_9P2000, "9P2000.u", "9P2000"},
		{1 << P9_9P2000L, "9P2000", "unknown"},
		{1 << P9_9P2000L, "9P2000.u", "unknown"},
		{(1 << P9_9P2000L) | (1 << P9_9P2000U), "9P2000.u", "9P2000.u"},
	};
	P9Fcall r, t;
	Conv *v;
	size_t i;
	int rc;

	for(i = 0; i < nelem(tab); i++){
		v = startconv(0, 8192, tab[i].dialects);
		rc = tversion(v, tab[i].ask, 8192, &r);
		ok(rc == 0 && r.type == P9_RVERSION && r.version != NULL && strcmp(r.version, tab[i].want) == 0,
			"version '%s' (dialects %#x) -> %s", tab[i].ask, tab[i].dialects, tab[i].want);
		if(r.version != NULL && strcmp(r.version, tab[i].want) != 0)
			diag("got %s", r.version);
		p9_freefcall(&r);
		is_int(endconv(v), 0, "conversation ends at end of file");
	}

	/* msize: the smaller of the two; too small refused; messages before Tversion refused */
	v = startconv(0, 8192, 0);
	t = tfid(P9_TSTAT, 0);
	expect(v, &t, P9_RERROR, &r, "Tstat before Tversion: Rerror");
	p9_freefcall(&r);
	rc = tversion(v, "9P2000", 1 << 24, &r);
	is_int(rc == 0 ? r.msize : 0, 8192, "client msize above the server's: the server's");
	p9_freefcall(&r);
	rc = tversion(v, "9P2000", 4096, &r);
	is_int(rc == 0 ? r.msize : 0, 4096, "client msize below: the client's");
	p9_freefcall(&r);
	/* msize 512 < P9_MINMSIZE, made by hand: the packer refuses it */
	{
		uint8_t m[19] = {19, 0, 0, 0, P9_TVERSION, 0xff, 0xff, 0, 2, 0, 0, 6, 0, '9', 'P', '2', '0', '0', '0'};

		writen(v->cfd, m, sizeof m);
		rc = trecv(v, &r);
		ok(rc == 0 && r.type == P9_RERROR && r.tag == P9_NOTAG, "Tversion msize 512 (raw): Rerror NOTAG");
		p9_freefcall(&r);
	}
	rc = tversion(v, "9P2000", 8192, &r);
	ok(rc == 0 && r.type == P9_RVERSION, "a good Tversion after that still works");
	p9_freefcall(&r);
	t = tfid(P9_TSTAT, 0);
	t.tag = P9_NOTAG;
	rc = rpc(v, &t, &r);
	ok(rc == 0 && r.type == P9_RERROR && r.tag == P9_NOTAG, "NOTAG on a Tstat: Rerror");
	p9_freefcall(&r);
	is_int(endconv(v), 0, "end");

	/* a second Tversion clunks every fid */
	v = startconv(0, 8192, 0);
	destroyed = 0;
	begin(v);
	{
		const char *nm[] = {"a"};

		t = twalk(0, 1, 1, nm);
		expect(v, &t, P9_RWALK, &r, "walk to a");
		p9_freefcall(&r);
	}
	rc = tversion(v, "9P2000", 8192, &r);
	ok(rc == 0 && r.type == P9_RVERSION, "second Tversion");
	p9_freefcall(&r);
	is_int(ndestroyed(), 2, "second Tversion destroyed both fids");
	t = tfid(P9_TSTAT, 0);
	expect(v, &t, P9_RERROR, &r, "fid 0 is gone after the second Tversion");
	p9_freefcall(&r);
	is_int(endconv(v), 0, "end");
}

static void
testwalk(void)
{
	const char *dirb[] = {"dir", "b"}, *dirzz[] = {"dir", "zz"}, *zz[] = {"zz"};
	const char *ab[] = {"a", "b"}, *a[] = {"a"};
	P9Fcall t, r;
	Conv *v;

	v = startconv(2, 8192, 0);
	begin(v);
	t = tfid(P9_TATTACH, 0);
	t.afid = P9_NOFID;
	t.uname = "x";
	t.aname = "";
	expect(v, &t, P9_RERROR, &r, "attach with a fid in use: Rerror");
	p9_freefcall(&r);
	t = tfid(P9_TATTACH, 9);
	t.afid = P9_NOFID;
	t.uname = "x";
	t.aname = "bad";
	expect(v, &t, P9_RERROR, &r, "attach refused by serve: Rerror");
	p9_freefcall(&r);
	t = tfid(P9_TSTAT, 9);
	expect(v, &t, P9_RERROR, &r, "and the fid of a failed attach does not exist");
	ok(r.ename != NULL && strstr(r.ename, "unknown fid") != NULL, "  error says unknown fid");
	p9_freefcall(&r);
	t = tfid(P9_TAUTH, 0);
	t.afid = 7;
	t.uname = "x";
	t.aname = "";
	expect(v, &t, P9_RERROR, &r, "Tauth without s->auth: Rerror");
	p9_freefcall(&r);

	t = twalk(0, 1, 2, dirb);
	if(expect(v, &t, P9_RWALK, &r, "full walk dir/b"))
		ok(r.nwqid == 2 && r.wqid[1].path == B && r.wqid[0].type == P9_QTDIR, "  two qids, dir then b");
	p9_freefcall(&r);
	t = tfid(P9_TSTAT, 1);
	if(expect(v, &t, P9_RSTAT, &r, "stat of the new fid"))
		is_str(r.stat.name, "b", "  it is b");
	p9_freefcall(&r);

	t = twalk(0, 2, 2, dirzz);
	if(expect(v, &t, P9_RWALK, &r, "partial walk dir/zz"))
		is_int(r.nwqid, 1, "  one qid");
	p9_freefcall(&r);
	t = tfid(P9_TSTAT, 2);
	expect(v, &t, P9_RERROR, &r, "newfid of a partial walk was not made");
	p9_freefcall(&r);

	t = twalk(0, 2, 1, zz);
	expect(v, &t, P9_RERROR, &r, "first element fails: Rerror");
	p9_freefcall(&r);
	t = twalk(0, 2, 2, ab);
	expect(v, &t, P9_RWALK, &r, "walk a/b: a is a file");
	is_int(r.nwqid, 1, "  partial: one qid");
	p9_freefcall(&r);
	t = tfid(P9_TSTAT, 2);
	expect(v, &t, P9_RERROR, &r, "newfid 2 still free");
	p9_freefcall(&r);

	t = twalk(1, 2, 0, NULL);
	if(expect(v, &t, P9_RWALK, &r, "clone: nwname 0"))
		is_int(r.nwqid, 0, "  no qids");
	p9_freefcall(&r);
	t = tfid(P9_TSTAT, 2);
	if(expect(v, &t, P9_RSTAT, &r, "the clone is b"))
		ok(strcmp(r.stat.name, "b") == 0 && strcmp(r.stat.uid, "glenda") == 0, "  named b, uname glenda");
	p9_freefcall(&r);

	t = twalk(0, 2, 1, a);
	expect(v, &t, P9_RERROR, &r, "walk with a newfid in use: Rerror");
	p9_freefcall(&r);
	t = tfid(P9_TSTAT, 2);
	if(expect(v, &t, P9_RSTAT, &r, "the fid in use is untouched"))
		is_str(r.stat.name, "b", "  still b");
	p9_freefcall(&r);

	t = twalk(2, 2, 0, NULL);
	expect(v, &t, P9_RWALK, &r, "clone onto itself");
	p9_freefcall(&r);
	t = twalk(0, 0, 0, NULL);
	expect(v, &t, P9_RWALK, &r, "clone of the root onto itself");
	p9_freefcall(&r);
	t = twalk(0, 3, 1, a);
	expect(v, &t, P9_RWALK, &r, "walk to a as fid 3");
	p9_freefcall(&r);
	t = twalk(3, 3, 0, NULL);
	expect(v, &t, P9_RWALK, &r, "walk fid 3 to itself");
	p9_freefcall(&r);
	t = tfid(P9_TOPEN, 3);
	t.mode = P9_OREAD;
	expect(v, &t, P9_ROPEN, &r, "open a");
	p9_freefcall(&r);
	t = twalk(3, 4, 0, NULL);
	expect(v, &t, P9_RERROR, &r, "walk of an open fid: Rerror");
	ok(r.ename != NULL && strstr(r.ename, "open") != NULL, "  error says open");
	p9_freefcall(&r);
	t = twalk(77, 4, 0, NULL);
	expect(v, &t, P9_RERROR, &r, "walk of an unknown fid: Rerror");
	p9_freefcall(&r);

	/* the walked fid 0 -> 0 when walking to a file */
	t = twalk(0, 5, 0, NULL);
	expect(v, &t, P9_RWALK, &r, "clone root to 5");
	p9_freefcall(&r);
	t = twalk(5, 5, 2, dirb);
	expect(v, &t, P9_RWALK, &r, "walk fid 5 in place to dir/b");
	p9_freefcall(&r);
	t = tfid(P9_TSTAT, 5);
	if(expect(v, &t, P9_RSTAT, &r, "fid 5 is now b"))
		is_str(r.stat.name, "b", "  b");
	p9_freefcall(&r);
	t = twalk(5, 5, 1, zz);
	expect(v, &t, P9_RERROR, &r, "failed in-place walk: Rerror");
	p9_freefcall(&r);
	t = tfid(P9_TSTAT, 5);
	if(expect(v, &t, P9_RSTAT, &r, "fid 5 survives a failed in-place walk"))
		is_str(r.stat.name, "b", "  still b");
	p9_freefcall(&r);
	is_int(endconv(v), 0, "end");
}

static void
testio(void)
{
	const char *a[] = {"a"}, *big[] = {"big"}, *dir[] = {"dir"};
	P9Fcall t, r;
	Conv *v;
	int i;

	v = startconv(2, 8192, 0);
	begin(v);
	t = twalk(0, 1, 1, a);
	expect(v, &t, P9_RWALK, &r, "walk a");
	p9_freefcall(&r);
	t = tfid(P9_TREAD, 1);
	t.count = 10;
	expect(v, &t, P9_RERROR, &r, "read of an unopened fid: Rerror");
	p9_freefcall(&r);
	t = tfid(P9_TWRITE, 1);
	t.count = 1;
	t.data = (const uint8_t *)"x";
	expect(v, &t, P9_RERROR, &r, "write to an unopened fid: Rerror");
	p9_freefcall(&r);
	t = tfid(P9_TOPEN, 1);
	t.mode = P9_ORDWR;
	expect(v, &t, P9_ROPEN, &r, "open a ORDWR");
	p9_freefcall(&r);
	t = tfid(P9_TOPEN, 1);
	t.mode = P9_OREAD;
	expect(v, &t, P9_RERROR, &r, "open of an open fid: Rerror");
	p9_freefcall(&r);
	t = tfid(P9_TCREATE, 1);
	t.name = "x";
	t.perm = 0644;
	expect(v, &t, P9_RERROR, &r, "create on an open fid: Rerror");
	p9_freefcall(&r);
	t = tfid(P9_TREAD, 1);
	t.count = 100;
	if(expect(v, &t, P9_RREAD, &r, "read a"))
		ok(r.count == 5 && memcmp(r.data, "hello", 5) == 0, "  hello");
	p9_freefcall(&r);
	t = tfid(P9_TWRITE, 1);
	t.offset = 5;
	t.count = 6;
	t.data = (const uint8_t *)" world";
	if(expect(v, &t, P9_RWRITE, &r, "write a"))
		is_int(r.count, 6, "  count 6");
	p9_freefcall(&r);
	t = tfid(P9_TREAD, 1);
	t.count = 100;
	if(expect(v, &t, P9_RREAD, &r, "read it back"))
		ok(r.count == 11 && memcmp(r.data, "hello world", 11) == 0, "  hello world");
	p9_freefcall(&r);
	t = tfid(P9_TCLUNK, 1);
	expect(v, &t, P9_RCLUNK, &r, "clunk");
	p9_freefcall(&r);
	t = tfid(P9_TCLUNK, 1);
	expect(v, &t, P9_RERROR, &r, "clunk again: Rerror");
	ok(r.ename != NULL && strstr(r.ename, "unknown fid") != NULL, "  unknown fid");
	p9_freefcall(&r);
	t = tfid(P9_TREAD, 1);
	t.count = 1;
	expect(v, &t, P9_RERROR, &r, "read of a clunked fid: Rerror");
	p9_freefcall(&r);

	/* counts are clamped to msize - IOHDRSZ; data built in place */
	t = twalk(0, 2, 1, big);
	expect(v, &t, P9_RWALK, &r, "walk big");
	p9_freefcall(&r);
	t = tfid(P9_TOPEN, 2);
	expect(v, &t, P9_ROPEN, &r, "open big");
	p9_freefcall(&r);
	t = tfid(P9_TREAD, 2);
	t.count = 100000;
	t.offset = 1;
	if(expect(v, &t, P9_RREAD, &r, "read big with count 100000")){
		is_int(r.count, 8192 - P9_IOHDRSZ, "  count clamped to msize - IOHDRSZ");
		for(i = 0; i < (int)r.count && r.data[i] == 'A' + (1 + i) % 26; i++)
			;
		is_int(i, r.count, "  data intact");
	}
	p9_freefcall(&r);

	/* Tremove clunks even when it fails */
	t = twalk(0, 3, 1, dir);
	expect(v, &t, P9_RWALK, &r, "walk dir");
	p9_freefcall(&r);
	t = tfid(P9_TREMOVE, 3);
	expect(v, &t, P9_RERROR, &r, "remove refused by serve");
	p9_freefcall(&r);
	t = tfid(P9_TSTAT, 3);
	expect(v, &t, P9_RERROR, &r, "the fid is clunked all the same");
	p9_freefcall(&r);

	/* an R-message sent to a server */
	t = tfid(P9_RCLUNK, 0);
	expect(v, &t, P9_RERROR, &r, "an R-message gets Rerror");
	p9_freefcall(&r);
	is_int(endconv(v), 0, "end");
}

/* A message that frames but does not decode: Rerror, and the conversation goes on. */
static void
testbad(void)
{
	/* Twalk tag 0x99 fid 0 newfid 1 nwname 3 with only one name */
	uint8_t walk[] = {0, 0, 0, 0, P9_TWALK, 0x99, 0, 0, 0, 0, 0, 1, 0, 0, 0, 3, 0, 1, 0, 'a'};
	uint8_t huge[] = {0xff, 0xff, 0xff, 0x7f, P9_TREAD, 1, 0};
	uint8_t tiny[] = {3, 0, 0, 0};
	P9Fcall t, r;
	Conv *v;

	walk[0] = sizeof walk;
	v = startconv(1, 8192, 0);
	begin(v);
	writen(v->cfd, walk, sizeof walk);
	ok(trecv(v, &r) == 0 && r.type == P9_RERROR && r.tag == 0x99, "undecodable Twalk: Rerror with its tag");
	p9_freefcall(&r);
	t = tfid(P9_TSTAT, 0);
	expect(v, &t, P9_RSTAT, &r, "conversation continues");
	p9_freefcall(&r);
	t = tfid(P9_TSTAT, 1);
	expect(v, &t, P9_RERROR, &r, "and the bad walk made no fid");
	p9_freefcall(&r);
	writen(v->cfd, huge, sizeof huge);
	ok(trecv(v, &r) < 0, "size > msize: the server hangs up");
	is_int(endconv(v), -1, "p9_serve returns -1");

	v = startconv(0, 8192, 0);
	begin(v);
	writen(v->cfd, tiny, sizeof tiny);
	ok(trecv(v, &r) < 0, "size < 7: the server hangs up");
	is_int(endconv(v), -1, "p9_serve returns -1");

	v = startconv(0, 8192, 0);
	begin(v);
	writen(v->cfd, walk, 9);
	shutdown(v->cfd, SHUT_WR);
	ok(trecv(v, &r) < 0, "end of file inside a message: hangs up");
	is_int(endconv(v), -1, "p9_serve returns -1");
}

static void
testflush(void)
{
	const char *block[] = {"block"}, *a[] = {"a"};
	P9Fcall t, r;
	Conv *v;
	int n, i, tags[8];

	v = startconv(1, 8192, 0);
	begin(v);
	t = twalk(0, 1, 1, block);
	expect(v, &t, P9_RWALK, &r, "walk block");
	p9_freefcall(&r);
	t = tfid(P9_TOPEN, 1);
	expect(v, &t, P9_ROPEN, &r, "open block");
	p9_freefcall(&r);
	t = twalk(0, 2, 1, a);
	expect(v, &t, P9_RWALK, &r, "walk a");
	p9_freefcall(&r);
	t = tfid(P9_TOPEN, 2);
	expect(v, &t, P9_ROPEN, &r, "open a");
	p9_freefcall(&r);

	/* the one worker blocks in a read of block (tag 100) */
	t = tfid(P9_TREAD, 1);
	t.tag = 100;
	t.count = 10;
	tsend(v, &t);
	waitblocked(1);
	/* queued behind it (tag 101), then flushed (tag 102) */
	t = tfid(P9_TREAD, 2);
	t.tag = 101;
	t.count = 10;
	tsend(v, &t);
	t = (P9Fcall){.type = P9_TFLUSH, .tag = 102, .oldtag = 101};
	tsend(v, &t);
	ok(trecv(v, &r) == 0 && r.type == P9_RERROR && r.tag == 101, "flushed queued request: Rerror first");
	ok(r.ename != NULL && strcmp(r.ename, "interrupted") == 0, "  interrupted");
	p9_freefcall(&r);
	ok(trecv(v, &r) == 0 && r.type == P9_RFLUSH && r.tag == 102, "then Rflush");
	p9_freefcall(&r);

	/* a Twalk flushed before it ran makes no fid (nor one without its aux) */
	t = twalk(0, 20, 1, a);
	t.tag = 110;
	tsend(v, &t);
	t = (P9Fcall){.type = P9_TFLUSH, .tag = 111, .oldtag = 110};
	tsend(v, &t);
	ok(trecv(v, &r) == 0 && r.type == P9_RERROR && r.tag == 110, "flushed queued walk: Rerror");
	p9_freefcall(&r);
	ok(trecv(v, &r) == 0 && r.type == P9_RFLUSH && r.tag == 111, "then Rflush");
	p9_freefcall(&r);
	t = tfid(P9_TSTAT, 20);
	t.tag = 112;
	tsend(v, &t);
	ok(trecvwait(v, &r) == 0 && r.type == P9_RERROR && r.tag == 112, "its newfid does not exist: Rerror at once");
	ok(r.ename != NULL && strstr(r.ename, "unknown fid") != NULL, "  unknown fid");
	p9_freefcall(&r);

	/* a tag in flight used again */
	t = tfid(P9_TSTAT, 0);
	t.tag = 100;
	tsend(v, &t);
	ok(trecv(v, &r) == 0 && r.type == P9_RERROR && r.tag == 100, "duplicate tag: Rerror");
	ok(r.ename != NULL && strstr(r.ename, "tag") != NULL, "  says tag");
	p9_freefcall(&r);

	/* flush of the running one (103), and a flush of that flush (104) */
	t = (P9Fcall){.type = P9_TFLUSH, .tag = 103, .oldtag = 100};
	tsend(v, &t);
	t = (P9Fcall){.type = P9_TFLUSH, .tag = 104, .oldtag = 103};
	tsend(v, &t);
	/* flush of a tag nobody uses */
	t = (P9Fcall){.type = P9_TFLUSH, .tag = 105, .oldtag = 999};
	tsend(v, &t);
	ok(trecv(v, &r) == 0 && r.type == P9_RFLUSH && r.tag == 105, "Tflush of an unknown tag: Rflush at once");
	p9_freefcall(&r);
	/* the reader is past 103 and 104: both wait for 100 */
	release();
	ok(trecv(v, &r) == 0 && r.type == P9_RREAD && r.tag == 100, "the running read answers");
	p9_freefcall(&r);
	ok(trecv(v, &r) == 0 && r.type == P9_RFLUSH && r.tag == 103, "then its Rflush");
	p9_freefcall(&r);
	ok(trecv(v, &r) == 0 && r.type == P9_RFLUSH && r.tag == 104, "then the Rflush of the flush");
	p9_freefcall(&r);
	rearm();

	/* every request answered exactly once: 8 in flight, then one more */
	for(i = 0; i < 8; i++){
		t = tfid(P9_TREAD, 2);
		t.tag = tags[i] = 200 + i;
		t.count = 5;
		tsend(v, &t);
	}
	n = 0;
	for(i = 0; i < 8; i++){
		if(trecv(v, &r) == 0 && r.type == P9_RREAD && r.tag >= 200 && r.tag < 208 && tags[r.tag - 200] != 0){
			tags[r.tag - 200] = 0;
			n++;
		}
		p9_freefcall(&r);
	}
	is_int(n, 8, "8 pipelined reads, 8 distinct replies");
	t = tfid(P9_TCLUNK, 12345);
	expect(v, &t, P9_RERROR, &r, "the next reply is the next request's");
	p9_freefcall(&r);
	{
		struct pollfd p = {v->cfd, POLLIN, 0};

		is_int(poll(&p, 1, 0), 0, "nothing more to read");
	}
	is_int(endconv(v), 0, "end");
}

/*
 * A tag is free as soon as its reply can be read: a client that reuses it
 * at once is never told it is in use; a clunked fid is destroyed before
 * the Rclunk.
 */
static void
testreuse(void)
{
	const char *a[] = {"a"};
	P9Fcall t, r;
	Conv *v;
	int i, good, d;

	v = startconv(2, 8192, 0);
	begin(v);
	good = 0;
	for(i = 0; i < 2000; i++){
		t = tfid(P9_TSTAT, 0);
		t.tag = 7;
		if(rpc(v, &t, &r) == 0 && r.type == P9_RSTAT && r.tag == 7)
			good++;
		p9_freefcall(&r);
	}
	is_int(good, 2000, "2000 Tstats reusing tag 7 at once: all answered Rstat");
	for(i = 0, good = 0; i < 200; i++){
		t = twalk(0, 1, 1, a);
		t.tag = 8;
		rpc(v, &t, &r);
		p9_freefcall(&r);
		pthread_mutex_lock(&lk);
		d = destroyed;
		pthread_mutex_unlock(&lk);
		t = tfid(P9_TCLUNK, 1);
		t.tag = 8;
		if(rpc(v, &t, &r) == 0 && r.type == P9_RCLUNK){
			pthread_mutex_lock(&lk);
			good += destroyed == d + 1;
			pthread_mutex_unlock(&lk);
		}
		p9_freefcall(&r);
	}
	is_int(good, 200, "a clunked fid is destroyed before its Rclunk");
	is_int(endconv(v), 0, "end");
}

/*
 * Wait until the reader thread waits on a condition (futex) rather than in
 * read: it has taken what was sent and is waiting for the requests in
 * flight.  Bounded by the test's timeout.
 */
static void
waitreaderblocked(Conv *v)
{
	char path[64], buf[64];
	int fd, tid;
	ssize_t n;

	while((tid = __atomic_load_n(&v->tid, __ATOMIC_SEQ_CST)) == 0)
		sched_yield();
	snprintf(path, sizeof path, "/proc/self/task/%d/syscall", tid);
	for(;;){
		fd = open(path, O_RDONLY | O_CLOEXEC);
		n = fd >= 0 ? read(fd, buf, sizeof buf - 1) : -1;
		if(fd >= 0)
			close(fd);
		if(n <= 0)
			return;
		buf[n] = 0;
		if(atoi(buf) == SYS_futex)
			return;
		sched_yield();
	}
}

/* A second Tversion aborts what is outstanding: no reply for it, Rversion after the running one ends. */
static void
testreversion(void)
{
	const char *block[] = {"block"};
	P9Fcall t, r;
	Conv *v;

	v = startconv(1, 8192, 0);
	begin(v);
	t = twalk(0, 1, 1, block);
	expect(v, &t, P9_RWALK, &r, "walk block");
	p9_freefcall(&r);
	t = tfid(P9_TOPEN, 1);
	expect(v, &t, P9_ROPEN, &r, "open block");
	p9_freefcall(&r);
	t = tfid(P9_TREAD, 1);
	t.tag = 50;
	t.count = 1;
	tsend(v, &t);
	waitblocked(1);
	t = tfid(P9_TSTAT, 0);
	t.tag = 51;
	tsend(v, &t);
	t = (P9Fcall){.type = P9_TFLUSH, .tag = 52, .oldtag = 50};
	tsend(v, &t);
	t = (P9Fcall){.type = P9_TVERSION, .tag = P9_NOTAG, .msize = 8192, .version = "9P2000"};
	tsend(v, &t);
	waitreaderblocked(v);
	release();
	ok(trecv(v, &r) == 0 && r.type == P9_RVERSION, "second Tversion: the next reply is Rversion");
	p9_freefcall(&r);
	t = tfid(P9_TSTAT, 0);
	expect(v, &t, P9_RERROR, &r, "then fid 0 is gone, and no reply to the aborted read, stat or flush came");
	p9_freefcall(&r);
	is_int(endconv(v), 0, "end");
	rearm();
}

/* Thousands of fids: the table grows; each one is found, clunked, destroyed once. */
static void
testmanyfids(void)
{
	P9Fcall t, r;
	Conv *v;
	int i, good;

	destroyed = 0;
	v = startconv(2, 8192, 0);
	begin(v);
	for(i = 1, good = 0; i <= 5000; i++){
		t = twalk(0, i * 7, 0, NULL);
		t.tag = 1;
		good += rpc(v, &t, &r) == 0 && r.type == P9_RWALK;
		p9_freefcall(&r);
	}
	is_int(good, 5000, "5000 clones");
	for(i = 1, good = 0; i <= 5000; i += 2){
		t = tfid(P9_TCLUNK, i * 7);
		t.tag = 1;
		good += rpc(v, &t, &r) == 0 && r.type == P9_RCLUNK;
		p9_freefcall(&r);
	}
	is_int(good, 2500, "2500 of them clunked");
	for(i = 1, good = 0; i <= 5000; i++){
		t = tfid(P9_TSTAT, i * 7);
		t.tag = 1;
		good += rpc(v, &t, &r) == 0 && r.type == (i % 2 ? P9_RERROR : P9_RSTAT);
		p9_freefcall(&r);
	}
	is_int(good, 5000, "the clunked ones are unknown, the others found");
	is_int(ndestroyed(), 2500, "2500 destroyed");
	is_int(endconv(v), 0, "end");
	is_int(ndestroyed(), 5001, "the hangup destroys the other 2500 and the root");
}

/* The client hangs up while a request runs: everything is freed. */
/*
 * A fid a Tattach or Twalk is still making is nobody's yet: other requests
 * are told it is unknown (serve would get a fid without its aux), a Tclunk
 * ends it once its maker is done.
 */
static void
testpending(void)
{
	const char *holdw[] = {"hold"};
	P9Fcall t, r;
	Conv *v;
	int n0;

	v = startconv(2, 8192, 0);
	begin(v);
	t = twalk(0, 10, 1, holdw);
	t.tag = 300;
	tsend(v, &t);
	waitblocked(1);
	t = tfid(P9_TSTAT, 10);
	if(expect(v, &t, P9_RERROR, &r, "Tstat of the newfid of a walk in progress: Rerror"))
		ok(strstr(r.ename, "unknown fid") != NULL, "  unknown fid");
	p9_freefcall(&r);
	t = tfid(P9_TOPEN, 10);
	expect(v, &t, P9_RERROR, &r, "Topen of it: Rerror");
	p9_freefcall(&r);
	t = twalk(10, 11, 0, NULL);
	expect(v, &t, P9_RERROR, &r, "a walk from it: Rerror");
	p9_freefcall(&r);
	t = twalk(10, 10, 0, NULL);
	expect(v, &t, P9_RERROR, &r, "a walk of it onto itself: Rerror");
	p9_freefcall(&r);
	t = tfid(P9_TREMOVE, 10);
	expect(v, &t, P9_RERROR, &r, "Tremove of it: Rerror");
	p9_freefcall(&r);
	t = twalk(0, 10, 0, NULL);
	expect(v, &t, P9_RERROR, &r, "its number is in use");
	p9_freefcall(&r);
	release();
	ok(trecvwait(v, &r) == 0 && r.type == P9_RWALK && r.tag == 300, "the walk answers");
	p9_freefcall(&r);
	rearm();
	t = tfid(P9_TSTAT, 10);
	if(expect(v, &t, P9_RSTAT, &r, "then the newfid is there"))
		is_str(r.stat.name, "a", "  it is a");
	p9_freefcall(&r);

	/* clunked while its walk runs: it dies when the walk is done */
	t = twalk(0, 12, 1, holdw);
	t.tag = 301;
	tsend(v, &t);
	waitblocked(1);
	t = tfid(P9_TCLUNK, 12);
	expect(v, &t, P9_RCLUNK, &r, "Tclunk of a fid a walk makes: Rclunk");
	p9_freefcall(&r);
	n0 = ndestroyed();
	release();
	ok(trecvwait(v, &r) == 0 && r.type == P9_RWALK && r.tag == 301, "the walk answers");
	p9_freefcall(&r);
	rearm();
	is_int(ndestroyed(), n0 + 1, "and the clunked fid is destroyed");
	t = tfid(P9_TSTAT, 12);
	expect(v, &t, P9_RERROR, &r, "it is gone");
	p9_freefcall(&r);

	/* the fid of an attach in progress */
	t = tfid(P9_TATTACH, 13);
	t.tag = 302;
	t.afid = P9_NOFID;
	t.uname = "glenda";
	t.aname = "hold";
	tsend(v, &t);
	waitblocked(1);
	t = twalk(13, 14, 0, NULL);
	expect(v, &t, P9_RERROR, &r, "a walk from the fid of an attach in progress: Rerror");
	p9_freefcall(&r);
	t = tfid(P9_TSTAT, 13);
	expect(v, &t, P9_RERROR, &r, "Tstat of it: Rerror");
	p9_freefcall(&r);
	release();
	ok(trecvwait(v, &r) == 0 && r.type == P9_RATTACH && r.tag == 302, "the attach answers");
	p9_freefcall(&r);
	rearm();
	t = twalk(13, 14, 0, NULL);
	expect(v, &t, P9_RWALK, &r, "then it walks");
	p9_freefcall(&r);
	is_int(endconv(v), 0, "end");
}

/* At most s->maxfid fids a connection; a uname longer than P9_MAXUNAME is refused. */
static void
testfidlimit(void)
{
	P9Fcall t, r;
	Conv *v;
	char *long_;
	int i, good;

	maxfid = 10;
	v = startconv(1, 8192, 0);
	maxfid = 0;
	begin(v);
	for(i = 1, good = 0; i < 10; i++){
		t = twalk(0, i, 0, NULL);
		t.tag = nexttag++;
		if(rpc(v, &t, &r) == 0 && r.type == P9_RWALK)
			good++;
		p9_freefcall(&r);
	}
	is_int(good, 9, "9 clones beside the root: 10 fids");
	t = twalk(0, 10, 0, NULL);
	if(expect(v, &t, P9_RERROR, &r, "an 11th: Rerror"))
		ok(strstr(r.ename, "too many fids") != NULL, "  too many fids");
	p9_freefcall(&r);
	t = tfid(P9_TATTACH, 10);
	t.afid = P9_NOFID;
	t.uname = "glenda";
	t.aname = "";
	expect(v, &t, P9_RERROR, &r, "an attach as the 11th: Rerror");
	p9_freefcall(&r);
	t = twalk(3, 3, 0, NULL);
	expect(v, &t, P9_RWALK, &r, "a walk in place needs no new fid");
	p9_freefcall(&r);
	t = tfid(P9_TCLUNK, 5);
	expect(v, &t, P9_RCLUNK, &r, "clunk one");
	p9_freefcall(&r);
	t = twalk(0, 10, 0, NULL);
	expect(v, &t, P9_RWALK, &r, "then a new one is made");
	p9_freefcall(&r);
	is_int(endconv(v), 0, "end");

	v = startconv(1, 8192, 0);
	begin(v);
	long_ = emalloc(P9_MAXUNAME + 2);
	memset(long_, 'u', P9_MAXUNAME + 1);
	t = tfid(P9_TATTACH, 1);
	t.afid = P9_NOFID;
	t.uname = long_;
	t.aname = "";
	if(expect(v, &t, P9_RERROR, &r, "attach with a uname of 256 bytes: Rerror"))
		ok(strstr(r.ename, "too long") != NULL, "  too long");
	p9_freefcall(&r);
	long_[P9_MAXUNAME] = 0;
	expect(v, &t, P9_RATTACH, &r, "255 bytes: Rattach");
	p9_freefcall(&r);
	free(long_);
	is_int(endconv(v), 0, "end");
}

/* Wait (bounded by the test's timeout) until n reads of "intr" wait. */
static void
waitintr(int n)
{
	pthread_mutex_lock(&lk);
	while(intrwaiting < n)
		pthread_cond_wait(&cond, &lk);
	pthread_mutex_unlock(&lk);
}

/* endconv, but give up after 5 s: -2 if p9_serve has not returned by then. */
static int
endconvwait(Conv *v)
{
	struct timespec ts;
	int rc;

	close(v->cfd);
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 5;
	if(pthread_timedjoin_np(v->t, NULL, &ts) != 0)
		return -2;	/* left running: the test has failed */
	rc = v->rc;
	free(v);
	return rc;
}

/*
 * A request that waits (p9_interrupted) gives up when it is flushed, when
 * a Tversion aborts it, and when the client hangs up, even with every
 * slot of the connection taken by such requests.
 */
static void
testinterrupt(void)
{
	const char *intr[] = {"intr"};
	P9Fcall t, r;
	Conv *v;
	int i, n;

	v = startconv(1, 8192, 0);
	begin(v);
	t = twalk(0, 1, 1, intr);
	expect(v, &t, P9_RWALK, &r, "walk intr");
	p9_freefcall(&r);
	t = tfid(P9_TOPEN, 1);
	expect(v, &t, P9_ROPEN, &r, "open intr");
	p9_freefcall(&r);
	t = tfid(P9_TREAD, 1);
	t.tag = 400;
	t.count = 10;
	tsend(v, &t);
	waitintr(1);
	t = (P9Fcall){.type = P9_TFLUSH, .tag = 401, .oldtag = 400};
	tsend(v, &t);
	ok(trecvwait(v, &r) == 0 && r.type == P9_RERROR && r.tag == 400, "a waiting read flushed: it gives up");
	ok(r.ename != NULL && strcmp(r.ename, "interrupted") == 0, "  interrupted");
	p9_freefcall(&r);
	ok(trecvwait(v, &r) == 0 && r.type == P9_RFLUSH && r.tag == 401, "then Rflush");
	p9_freefcall(&r);

	/* a Tversion aborts it: no reply, then Rversion */
	t = tfid(P9_TREAD, 1);
	t.tag = 402;
	t.count = 10;
	tsend(v, &t);
	waitintr(1);
	t = (P9Fcall){.type = P9_TVERSION, .tag = P9_NOTAG, .msize = 8192, .version = "9P2000"};
	tsend(v, &t);
	ok(trecvwait(v, &r) == 0 && r.type == P9_RVERSION, "a Tversion while a read waits: Rversion (the read gave up unanswered)");
	p9_freefcall(&r);
	is_int(endconvwait(v), 0, "end");

	/* the client hangs up with every slot taken by waiting reads, more unread behind them */
	v = startconv(2, 8192, 0);
	begin(v);
	t = twalk(0, 1, 1, intr);
	expect(v, &t, P9_RWALK, &r, "walk intr");
	p9_freefcall(&r);
	t = tfid(P9_TOPEN, 1);
	expect(v, &t, P9_ROPEN, &r, "open intr");
	p9_freefcall(&r);
	for(i = 0, n = 0; i < 100; i++){
		t = tfid(P9_TREAD, 1);
		t.tag = 500 + i;
		t.count = 10;
		n += tsend(v, &t) == 0;
	}
	is_int(n, 100, "100 reads of intr sent");
	waitintr(2);
	is_int(endconvwait(v), 0, "the client hangs up: the waiting reads give up and the conversation ends");
}

static void
testhangup(void)
{
	const char *block[] = {"block"}, *a[] = {"a"};
	P9Fcall t, r;
	Conv *v;
	int i;

	live = 0;
	destroyed = 0;
	v = startconv(2, 8192, 0);
	begin(v);
	t = twalk(0, 1, 1, block);
	expect(v, &t, P9_RWALK, &r, "walk block");
	p9_freefcall(&r);
	t = tfid(P9_TOPEN, 1);
	expect(v, &t, P9_ROPEN, &r, "open block");
	p9_freefcall(&r);
	for(i = 0; i < 5; i++){
		t = twalk(0, 10 + i, 1, a);
		expect(v, &t, P9_RWALK, &r, "walk a");
		p9_freefcall(&r);
	}
	t = tfid(P9_TREAD, 1);
	t.tag = 1;
	t.count = 10;
	tsend(v, &t);
	t = tfid(P9_TREAD, 1);
	t.tag = 2;
	t.count = 10;
	tsend(v, &t);
	waitblocked(2);
	t = tfid(P9_TCLUNK, 1);	/* clunked while two reads use it */
	t.tag = 3;
	tsend(v, &t);
	ok(trecv(v, &r) == 0 && r.type == P9_RCLUNK, "clunk of a fid in use answers at once");
	p9_freefcall(&r);
	is_int(ndestroyed(), 0, "  but the fid lives on while the reads run");
	close(v->cfd);
	v->cfd = -1;
	release();
	pthread_join(v->t, NULL);
	is_int(v->rc, 0, "p9_serve returns 0 after the hangup");
	is_int(live, 0, "every fid's aux freed");
	is_int(ndestroyed(), 7, "every fid destroyed once");
	free(v);
	rearm();
}

static void
testtrace(void)
{
	char buf[4096];
	P9Fcall r;
	Conv *v;
	int fd, save;
	ssize_t n;
	FILE *f;

	f = tmpfile();
	fd = fileno(f);
	fflush(stderr);
	save = dup(2);
	dup2(fd, 2);
	v = startconv(0, 8192, 0);
	v->srv.debug = 1;
	tversion(v, "9P2000", 8192, &r);
	p9_freefcall(&r);
	endconv(v);
	fflush(stderr);
	dup2(save, 2);
	close(save);
	n = pread(fd, buf, sizeof buf - 1, 0);
	buf[n > 0 ? n : 0] = 0;
	fclose(f);
	ok(strstr(buf, "toy <- Tversion tag 65535 msize 8192 version 9P2000\n") != NULL, "trace of the T-message");
	ok(strstr(buf, "toy -> Rversion tag 65535 msize 8192 version 9P2000\n") != NULL, "trace of the reply");
	if(tapfailed)
		diag("trace: %s", buf);
}

static int
lastserved(void)
{
	int tid;

	pthread_mutex_lock(&lk);
	tid = servedtid;
	pthread_mutex_unlock(&lk);
	return tid;
}

/*
 * P9Srv.quick: a walk or open arriving alone runs in the reading thread,
 * a read still goes to a worker; without quick, everything does.
 */
static void
testquick(void)
{
	const char *a[] = {"a"};
	P9Fcall t, r;
	Conv *v;
	int q;

	for(q = 1; q >= 0; q--){
		startquick = q;
		v = startconv(2, 8192, 0);
		begin(v);
		t = twalk(0, 1, 1, a);
		expect(v, &t, P9_RWALK, &r, "walk a");
		p9_freefcall(&r);
		ok((lastserved() == __atomic_load_n(&v->tid, __ATOMIC_SEQ_CST)) == q,
		   q ? "quick: a lone walk is served by the reader" : "not quick: a walk goes to a worker");
		t = tfid(P9_TOPEN, 1);
		t.mode = P9_OREAD;
		expect(v, &t, P9_ROPEN, &r, "open a");
		p9_freefcall(&r);
		ok((lastserved() == __atomic_load_n(&v->tid, __ATOMIC_SEQ_CST)) == q,
		   q ? "quick: a lone open is served by the reader" : "not quick: an open goes to a worker");
		t = tfid(P9_TREAD, 1);
		t.count = 10;
		expect(v, &t, P9_RREAD, &r, "read a");
		p9_freefcall(&r);
		ok(lastserved() != __atomic_load_n(&v->tid, __ATOMIC_SEQ_CST), "a read always goes to a worker");
		endconv(v);
	}
	startquick = 0;
}

/* Dialect .L: an Rlerror, and .L messages with dfids. */
static void
testdotl(void)
{
	P9Fcall t, r;
	Conv *v;
	int rc;

	v = startconv(1, 8192, 0);
	rc = tversion(v, "9P2000.L", 8192, &r);
	ok(rc == 0 && strcmp(r.version, "9P2000.L") == 0, ".L negotiated");
	p9_freefcall(&r);
	v->dialect = P9_9P2000L;
	t = tfid(P9_TATTACH, 0);
	t.afid = P9_NOFID;
	t.uname = "u";
	t.aname = "";
	t.n_uname = 1000;
	expect(v, &t, P9_RATTACH, &r, ".L attach");
	p9_freefcall(&r);
	t = (P9Fcall){.type = P9_TMKDIR, .dfid = 55, .name = "x", .perm = 0755};
	if(expect(v, &t, P9_RLERROR, &r, "Tmkdir with an unknown dfid: Rlerror"))
		is_int(r.errnum, EBADF, "  EBADF");
	p9_freefcall(&r);
	t = (P9Fcall){.type = P9_TMKDIR, .dfid = 0, .name = "x", .perm = 0755};
	if(expect(v, &t, P9_RLERROR, &r, "Tmkdir the toy does not do: Rlerror"))
		is_int(r.errnum, ENOSYS, "  ENOSYS from serve");
	p9_freefcall(&r);
	t = tfid(P9_TLOPEN, 0);
	expect(v, &t, P9_RLOPEN, &r, "Tlopen");
	p9_freefcall(&r);
	t = tfid(P9_TLOPEN, 0);
	expect(v, &t, P9_RLERROR, &r, "Tlopen again: Rlerror");
	p9_freefcall(&r);
	t = (P9Fcall){.type = P9_TREADDIR, .fid = 0, .count = 100};
	expect(v, &t, P9_RLERROR, &r, "Treaddir on the open root reaches serve");
	p9_freefcall(&r);
	is_int(endconv(v), 0, "end");
}

int
main(void)
{
	testversion();
	testwalk();
	testio();
	testbad();
	testflush();
	testreuse();
	testreversion();
	testmanyfids();
	testpending();
	testfidlimit();
	testinterrupt();
	testhangup();
	testtrace();
	testquick();
	testdotl();
	ok(live == 0, "no handle alive at the end");
	return done_testing();
}
