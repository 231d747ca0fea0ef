/*
 * srvmux.c: one 9P conversation with a server, shared by every client
 * that connects to the post (plan9port's 9pserve, the Plan 9 mount
 * driver's job).  One thread, one poll loop, non-blocking fds.
 *
 * Each client's tags and fids are its own; they are mapped to upstream
 * numbers that this process hands out, so clients never see or touch one
 * another's.  Every T-message is decoded, checked against the client's
 * tables (an unknown fid, a fid or tag in use is answered here and never
 * reaches the server), renumbered and packed again; replies are checked
 * and get the client's tag back.  A client's Tversion is answered here.
 *
 * Flow control: a client's requests are read only while it has fewer than
 * Maxreq in flight, less than Cliwait bytes of replies waiting, and the
 * server is keeping up; a client whose waiting replies pass Climax (it
 * does not read) is dropped.  So one stuck client never stops the others.
 * When a client hangs up, its requests in flight are flushed and its fids
 * clunked, as 9pserve does.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "9p.h"
#include "srvmux.h"

enum {
	Ntag = 0xffff,	/* upstream tags 0..0xfffe; 0xffff is NOTAG */
	Tagreserve = 512,	/* kept for flushes and clunks of clients that leave */
	Maxreq = 64,	/* requests in flight per client */
	Cliwait = 4 << 20,	/* replies waiting for a client: stop reading it */
	Climax = 32 << 20,	/* replies waiting for a client: drop it */
	Upwait = 8 << 20,	/* requests waiting for the server: stop reading clients */
	Maxconn = 1024,
	/*
	 * Fids one client may hold: a quarter of what a ns9 server allows a
	 * connection (P9_SRVMAXFID), so no one client uses up the shared
	 * conversation's fids for all the others.
	 */
	Maxcfid = 1 << 18,
	Versionwait = 30,	/* seconds for the server's Rversion */
};

/* Flags in the high half of a client fid's map value. */
#define Fpending (1ULL << 32)	/* made by a request still in flight */
#define Fclunking (1ULL << 33)	/* a Tclunk or Tremove in flight */
#define UFID(v) ((uint32_t)(v))

/* --- a hash map uint32 -> uint64, linear probing --- */

typedef struct Map Map;
struct Map {
	uint32_t *key;
	uint64_t *val;
	uint8_t *used;
	size_t cap;	/* a power of 2, or 0 */
	size_t n;
};

static size_t
hash(uint32_t k, size_t cap)
{
	return (size_t)((k * 0x9E3779B1U) ^ (k >> 16)) & (cap - 1);
}

static uint64_t *
mapget(Map *m, uint32_t k)
{
	size_t i;

	if(m->cap == 0)
		return NULL;
	for(i = hash(k, m->cap); m->used[i]; i = (i + 1) & (m->cap - 1))
		if(m->key[i] == k)
			return &m->val[i];
	return NULL;
}

static void mapput(Map *m, uint32_t k, uint64_t v);

static void
mapgrow(Map *m)
{
	Map o;
	size_t i;

	o = *m;
	m->cap = o.cap ? o.cap * 2 : 16;
	m->n = 0;
	m->key = emalloc(m->cap * sizeof m->key[0]);
	m->val = emalloc(m->cap * sizeof m->val[0]);
	m->used = emalloc(m->cap);
	for(i = 0; i < o.cap; i++)
		if(o.used[i])
			mapput(m, o.key[i], o.val[i]);
	free(o.key);
	free(o.val);
	free(o.used);
}

static void
mapput(Map *m, uint32_t k, uint64_t v)
{
	uint64_t *p;
	size_t i;

	p = mapget(m, k);
	if(p != NULL){
		*p = v;
		return;
	}
	if((m->n + 1) * 4 > m->cap * 3)
		mapgrow(m);
	for(i = hash(k, m->cap); m->used[i]; i = (i + 1) & (m->cap - 1))
		;
	m->used[i] = 1;
	m->key[i] = k;
	m->val[i] = v;
	m->n++;
}

/* Delete k; backward-shift keeps every probe chain whole. */
static void
mapdel(Map *m, uint32_t k)
{
	size_t i, j, h;

	if(m->cap == 0)
		return;
	for(i = hash(k, m->cap); m->used[i]; i = (i + 1) & (m->cap - 1))
		if(m->key[i] == k)
			break;
	if(!m->used[i])
		return;
	m->used[i] = 0;
	m->n--;
	for(j = (i + 1) & (m->cap - 1); m->used[j]; j = (j + 1) & (m->cap - 1)){
		h = hash(m->key[j], m->cap);
		/* Move j into the hole at i unless its home lies in (i, j]. */
		if(i <= j ? (i < h && h <= j) : (i < h || h <= j))
			continue;
		m->used[i] = 1;
		m->key[i] = m->key[j];
		m->val[i] = m->val[j];
		m->used[j] = 0;
		i = j;
	}
}

static void
mapfree(Map *m)
{
	free(m->key);
	free(m->val);
	free(m->used);
	memset(m, 0, sizeof *m);
}

/* --- message queues --- */

typedef struct Msg Msg;
struct Msg {
	Msg *next;
	size_t n;
	size_t off;	/* written so far */
	uint8_t data[];
};

typedef struct Queue Queue;
struct Queue {
	Msg *head;
	Msg *tail;
	size_t bytes;
};

static Msg *
newmsg(size_t n)
{
	Msg *m;

	m = emalloc(sizeof *m + n);
	m->n = n;
	return m;
}

static void
enqueue(Queue *q, Msg *m)
{
	if(q->tail != NULL)
		q->tail->next = m;
	else
		q->head = m;
	q->tail = m;
	q->bytes += m->n;
}

static void
qfree(Queue *q)
{
	Msg *m;

	while((m = q->head) != NULL){
		q->head = m->next;
		free(m);
	}
	q->tail = NULL;
	q->bytes = 0;
}

/* Write what fd takes.  Returns 0, or -1 when the peer is gone. */
static int
qwrite(Queue *q, int fd)
{
	Msg *m;
	ssize_t n;

	while((m = q->head) != NULL){
		n = send(fd, m->data + m->off, m->n - m->off, MSG_NOSIGNAL);
		if(n < 0){
			if(errno == EINTR)
				continue;
			if(errno == EAGAIN)
				return 0;
			return -1;
		}
		m->off += n;
		if(m->off < m->n)
			continue;
		q->bytes -= m->n;
		q->head = m->next;
		if(q->head == NULL)
			q->tail = NULL;
		free(m);
	}
	return 0;
}

/* --- state --- */

typedef struct Conn Conn;
struct Conn {
	int fd;
	int id;
	uint8_t *rbuf;
	size_t rlen;
	size_t rcap;
	Queue out;
	int versioned;
	size_t msize;	/* negotiated, <= the server's */
	Map tags;	/* client tag -> upstream tag */
	Map fids;	/* client fid -> upstream fid | F* */
	int nreq;	/* entries of tags */
	int dead;
};

typedef struct Req Req;
struct Req {
	Conn *c;	/* NULL: ours, or its client has gone */
	uint16_t ctag;
	uint8_t type;
	uint16_t nwname;	/* Twalk: a full walk answers this many qids */
	int mkfid;	/* the request makes unewfid (Tauth, Tattach, a Twalk/Txattrwalk to a new fid) */
	uint32_t cnewfid;
	uint32_t unewfid;
	int endfid;	/* Tclunk, Tremove: ufid ends */
	uint32_t cfid;
	uint32_t ufid;
	uint16_t target;	/* Tflush: the upstream tag flushed */
	uint32_t uf[3];	/* every upstream fid the request names */
	int nuf;
	int nflush;	/* Tflushes of this request in flight */
	int done;	/* answered (or flushed): the slot waits for nflush */
};

typedef struct Deferred Deferred;
struct Deferred {
	Deferred *next;
	uint8_t type;	/* Tclunk of ufid, Tflush of target */
	uint32_t ufid;
	uint16_t target;
};

typedef struct Mux Mux;
struct Mux {
	int ufd;
	int lfd;
	int dialect;
	size_t msize;
	int debug;
	uint8_t *rbuf;	/* from the server */
	size_t rlen;
	size_t rcap;
	Queue out;	/* to the server */
	Req *req[Ntag];
	uint16_t *freetag;	/* a stack */
	int nfreetag;
	uint32_t nextfid;
	Map uref;	/* upstream fid -> requests in flight naming it | Released */
	uint32_t *freefid;	/* a stack */
	size_t nfreefid;
	size_t capfreefid;
	Deferred *defer;
	Deferred **defertail;
	Conn **conn;
	int nconn;
	int nextid;
};

static void
trace(Mux *m, const char *who, const P9Fcall *f, int dialect)
{
	Buf b = {0};

	if(!m->debug)
		return;
	p9_fmt(&b, f, dialect);
	fprintf(stderr, "srv %s %s\n", who, b.s ? b.s : "");
	buffree(&b);
}

/*
 * Upstream fid numbers.  A number is used again only once it is released
 * (clunked, or never made) and no request naming it is in flight: a
 * server that handles requests out of order must never see a late request
 * of one client land on a fid that now belongs to another.
 */
#define Released (1ULL << 32)

static uint32_t
newufid(Mux *m)
{
	uint32_t f;

	if(m->nfreefid > 0)
		f = m->freefid[--m->nfreefid];
	else
		f = m->nextfid++;	/* 2^32 - 1 fids at once would cost more memory than there is */
	mapput(&m->uref, f, 0);
	return f;
}

static void
freeufid(Mux *m, uint32_t f)
{
	mapdel(&m->uref, f);
	if(m->nfreefid == m->capfreefid){
		m->capfreefid = m->capfreefid ? 2 * m->capfreefid : 64;
		m->freefid = erealloc(m->freefid, m->capfreefid * sizeof m->freefid[0]);
	}
	m->freefid[m->nfreefid++] = f;
}

/* The upstream fid f is gone (or was never made). */
static void
putufid(Mux *m, uint32_t f)
{
	uint64_t *v;

	v = mapget(&m->uref, f);
	if(v == NULL || (*v & Released))
		return;
	if(UFID(*v) == 0)
		freeufid(m, f);
	else
		*v |= Released;
}

/* Request r names upstream fid f. */
static void
ref(Mux *m, Req *r, uint32_t f)
{
	uint64_t *v;

	v = mapget(&m->uref, f);
	if(v == NULL || r->nuf >= 3)
		return;
	(*v)++;
	r->uf[r->nuf++] = f;
}

static void
unref(Mux *m, Req *r)
{
	uint64_t *v;
	int i;

	for(i = 0; i < r->nuf; i++){
		v = mapget(&m->uref, r->uf[i]);
		if(v != NULL && UFID(*v) > 0 && --*v == Released)
			freeufid(m, r->uf[i]);
	}
	r->nuf = 0;
}

static int
newtag(Mux *m)
{
	int t;

	if(m->nfreetag == 0)
		return -1;
	t = m->freetag[--m->nfreetag];
	m->req[t] = emalloc(sizeof(Req));
	return t;
}

static void
puttag(Mux *m, int t)
{
	free(m->req[t]);
	m->req[t] = NULL;
	m->freetag[m->nfreetag++] = t;
}

/* Pack f for the server.  hint: the size it likely needs. */
static void
sendup(Mux *m, const P9Fcall *f, size_t hint)
{
	Msg *msg;
	int n;

	trace(m, "->", f, m->dialect);
	msg = newmsg(hint);
	n = p9_pack(f, m->dialect, msg->data, hint);
	if(n < 0){
		free(msg);
		msg = newmsg(m->msize);
		n = p9_pack(f, m->dialect, msg->data, m->msize);
		if(n < 0){
			/* Every field came through p9_unpack at this msize: cannot happen. */
			fprintf(stderr, "ns9: srv: repack %s: %s\n", p9_typename(f->type), errtext());
			abort();
		}
	}
	msg->n = n;
	enqueue(&m->out, msg);
}

/*
 * A request of our own: Tclunk of ufid or Tflush of target; deferred while
 * no tag is free.  A Tflush is counted in its target's nflush by the
 * caller, so the target's slot (and number) stays while the flush waits
 * for a tag; a target answered meanwhile needs no flush.
 */
static void
internal(Mux *m, uint8_t type, uint32_t ufid, uint16_t target)
{
	P9Fcall f;
	Deferred *d;
	Req *r;
	int t;

	if(type == P9_TFLUSH && m->req[target]->done){
		if(--m->req[target]->nflush == 0)
			puttag(m, target);
		return;
	}
	t = newtag(m);
	if(t < 0){
		d = emalloc(sizeof *d);
		d->type = type;
		d->ufid = ufid;
		d->target = target;
		*m->defertail = d;
		m->defertail = &d->next;
		return;
	}
	r = m->req[t];
	r->type = type;
	memset(&f, 0, sizeof f);
	f.type = type;
	f.tag = t;
	if(type == P9_TCLUNK){
		r->endfid = 1;
		r->ufid = ufid;
		f.fid = ufid;
		ref(m, r, ufid);
	}else{
		r->target = target;
		f.oldtag = target;
	}
	sendup(m, &f, 64);
}

static void
rundeferred(Mux *m)
{
	Deferred *d;

	while(m->defer != NULL && m->nfreetag > 0){
		d = m->defer;
		m->defer = d->next;
		if(m->defer == NULL)
			m->defertail = &m->defer;
		internal(m, d->type, d->ufid, d->target);
		free(d);
	}
}

/* Queue a packed message for client c. */
static void
tocli(Mux *m, Conn *c, const P9Fcall *f)
{
	uint8_t buf[ERRMAX + 64];
	Msg *msg;
	int n;

	if(m->debug){
		char who[32];

		snprintf(who, sizeof who, "c%d <-", c->id);
		trace(m, who, f, c->versioned ? m->dialect : P9_9P2000);
	}
	/* Only small replies are made here: Rversion, Rflush, Rerror. */
	n = p9_pack(f, c->versioned ? m->dialect : P9_9P2000, buf, sizeof buf < c->msize ? sizeof buf : c->msize);
	if(n < 0)
		return;
	msg = newmsg(n);
	memcpy(msg->data, buf, n);
	enqueue(&c->out, msg);
}

/* Answer tag here with the error record as it stands (seterr first). */
static void
clierror(Mux *m, Conn *c, uint16_t tag)
{
	P9Fcall r;

	p9_rerror(&r, tag, c->versioned ? m->dialect : P9_9P2000);
	tocli(m, c, &r);
}

/*
 * A client's state ends (hangup, or a new Tversion): its requests in
 * flight are flushed and become ours, its fids are clunked.  A fid a
 * request in flight makes or ends is left to that request's reply.
 */
static void
forget(Mux *m, Conn *c)
{
	Req *r;
	size_t i;

	for(i = 0; i < c->tags.cap; i++){
		if(!c->tags.used[i])
			continue;
		r = m->req[c->tags.val[i]];
		r->c = NULL;
		if(r->type != P9_TFLUSH && !r->done){
			r->nflush++;
			internal(m, P9_TFLUSH, 0, c->tags.val[i]);
		}
	}
	for(i = 0; i < c->fids.cap; i++)
		if(c->fids.used[i] && !(c->fids.val[i] & (Fpending | Fclunking)))
			internal(m, P9_TCLUNK, UFID(c->fids.val[i]), 0);
	mapfree(&c->tags);
	mapfree(&c->fids);
	c->nreq = 0;
}

static void
hangup(Mux *m, Conn *c, const char *why)
{
	if(c->dead)
		return;
	if(m->debug)
		fprintf(stderr, "srv c%d: %s\n", c->id, why);
	forget(m, c);
	c->dead = 1;
}

/* The client's Tversion, answered here. */
static void
version(Mux *m, Conn *c, P9Fcall *t)
{
	P9Fcall r;
	const char *v;
	int d;

	forget(m, c);
	c->versioned = 0;
	memset(&r, 0, sizeof r);
	r.type = P9_RVERSION;
	r.tag = t->tag;
	if(t->msize < P9_MINMSIZE){
		seterr(EINVAL, "msize %u too small", t->msize);
		c->msize = P9_MINMSIZE;
		clierror(m, c, t->tag);
		return;
	}
	d = p9_dialect(t->version);
	if(d == m->dialect)
		v = p9_versionstr(d);
	else if(m->dialect == P9_9P2000 && strncmp(t->version, "9P2000", 6) == 0)
		v = "9P2000";	/* a later 9P2000.x: the server's is the earlier version */
	else
		v = "unknown";
	r.version = (char *)v;
	r.msize = t->msize < m->msize ? t->msize : m->msize;
	c->msize = r.msize;
	tocli(m, c, &r);
	c->versioned = strcmp(v, "unknown") != 0;
}

/* A fid the request names: it must be the client's. */
static int
usefid(Conn *c, uint32_t cfid, uint32_t *ufid)
{
	uint64_t *v;

	v = mapget(&c->fids, cfid);
	if(v == NULL || (*v & Fclunking))
		return seterr(EBADF, "unknown fid");
	*ufid = UFID(*v);
	return 0;
}

/* One T-message from client c, framed: n bytes at buf. */
static void
climsg(Mux *m, Conn *c, const uint8_t *buf, size_t n)
{
	P9Fcall f;
	uint64_t *v;
	Req *r;
	uint32_t u1, u2, cf;
	int t, d;

	d = c->versioned ? m->dialect : P9_9P2000;
	if(p9_unpack(buf, n, d, c->versioned ? c->msize : m->msize, &f) < 0){
		if(m->debug)
			fprintf(stderr, "srv c%d: %s\n", c->id, errtext());
		if(f.type != 0 && (f.type & 1) == 0)
			clierror(m, c, f.tag);
		else
			hangup(m, c, "not a T-message");
		return;
	}
	if(m->debug){
		char who[32];

		snprintf(who, sizeof who, "c%d ->", c->id);
		trace(m, who, &f, d);
	}
	if(f.type == P9_TVERSION){
		version(m, c, &f);
		goto out;
	}
	if(f.type & 1){
		hangup(m, c, "a reply from a client");
		goto out;
	}
	if(!c->versioned){
		seterr(EPROTO, "version not negotiated");
		clierror(m, c, f.tag);
		goto out;
	}
	if(f.tag == P9_NOTAG || mapget(&c->tags, f.tag) != NULL){
		seterr(EINVAL, "tag %d in use", f.tag);
		clierror(m, c, f.tag);
		goto out;
	}
	if(f.type == P9_TFLUSH){
		v = mapget(&c->tags, f.oldtag);
		if(v == NULL){
			/* Answered already (or never asked): nothing to flush. */
			P9Fcall rf;

			memset(&rf, 0, sizeof rf);
			rf.type = P9_RFLUSH;
			rf.tag = f.tag;
			tocli(m, c, &rf);
			goto out;
		}
		t = newtag(m);
		r = m->req[t];
		r->target = *v;
		m->req[*v]->nflush++;
		f.oldtag = *v;
		goto send;
	}

	/* Fids: every one the message names is the client's, and is renumbered. */
	u1 = u2 = 0;
	cf = f.fid;
	switch(f.type){
	case P9_TAUTH:
	case P9_TATTACH:
		if(f.type == P9_TATTACH && f.afid != P9_NOFID){
			if(usefid(c, f.afid, &u1) < 0)
				goto err;
			f.afid = u1;
		}
		u2 = f.type == P9_TAUTH ? f.afid : f.fid;
		if(mapget(&c->fids, u2) != NULL){
			seterr(EBADF, "fid in use");
			goto err;
		}
		if(c->fids.n >= Maxcfid){
			seterr(EMFILE, "too many fids for one client");
			goto err;
		}
		break;
	case P9_TWALK:
	case P9_TXATTRWALK:
		if(usefid(c, f.fid, &u1) < 0)
			goto err;
		if(f.newfid != f.fid && mapget(&c->fids, f.newfid) != NULL){
			seterr(EBADF, "fid in use");
			goto err;
		}
		if(f.newfid != f.fid && c->fids.n >= Maxcfid){
			seterr(EMFILE, "too many fids for one client");
			goto err;
		}
		break;
	case P9_TLINK:
		if(usefid(c, f.dfid, &u1) < 0 || usefid(c, f.fid, &u2) < 0)
			goto err;
		f.dfid = u1;
		f.fid = u2;
		break;
	case P9_TMKNOD:
	case P9_TMKDIR:
	case P9_TUNLINKAT:
		if(usefid(c, f.dfid, &u1) < 0)
			goto err;
		f.dfid = u1;
		break;
	case P9_TRENAME:
		if(usefid(c, f.fid, &u1) < 0 || usefid(c, f.dfid, &u2) < 0)
			goto err;
		f.fid = u1;
		f.dfid = u2;
		break;
	case P9_TRENAMEAT:
		if(usefid(c, f.dfid, &u1) < 0 || usefid(c, f.newdfid, &u2) < 0)
			goto err;
		f.dfid = u1;
		f.newdfid = u2;
		break;
	default:
		if(usefid(c, f.fid, &u1) < 0)
			goto err;
		f.fid = u1;
		break;
	}

	t = newtag(m);
	r = m->req[t];
	switch(f.type){
	case P9_TAUTH:
	case P9_TATTACH:
		r->mkfid = 1;
		r->cnewfid = u2;
		r->unewfid = newufid(m);
		mapput(&c->fids, u2, r->unewfid | Fpending);
		if(f.type == P9_TAUTH)
			f.afid = r->unewfid;
		else
			f.fid = r->unewfid;
		break;
	case P9_TWALK:
	case P9_TXATTRWALK:
		r->nwname = f.type == P9_TWALK ? f.nwname : 0;
		if(f.newfid != f.fid){
			r->mkfid = 1;
			r->cnewfid = f.newfid;
			r->unewfid = newufid(m);
			mapput(&c->fids, f.newfid, r->unewfid | Fpending);
			f.newfid = r->unewfid;
		}else
			f.newfid = u1;
		f.fid = u1;
		break;
	case P9_TCLUNK:
	case P9_TREMOVE:
		r->endfid = 1;
		r->cfid = cf;
		r->ufid = u1;
		*mapget(&c->fids, cf) |= Fclunking;
		break;
	case P9_TREAD:
	case P9_TREADDIR:
		if(f.count > c->msize - P9_IOHDRSZ)
			f.count = c->msize - P9_IOHDRSZ;
		break;
	}

	switch(f.type){
	case P9_TAUTH:
		ref(m, r, f.afid);
		break;
	case P9_TATTACH:
		ref(m, r, f.fid);
		if(f.afid != P9_NOFID)
			ref(m, r, f.afid);
		break;
	case P9_TWALK:
	case P9_TXATTRWALK:
		ref(m, r, f.fid);
		if(f.newfid != f.fid)
			ref(m, r, f.newfid);
		break;
	case P9_TLINK:
	case P9_TRENAME:
		ref(m, r, f.fid);
		ref(m, r, f.dfid);
		break;
	case P9_TRENAMEAT:
		ref(m, r, f.newdfid);
		/* fall through */
	case P9_TMKNOD:
	case P9_TMKDIR:
	case P9_TUNLINKAT:
		ref(m, r, f.dfid);
		break;
	default:
		ref(m, r, f.fid);
		break;
	}
send:
	r->c = c;
	r->ctag = f.tag;
	r->type = f.type;
	mapput(&c->tags, f.tag, t);
	c->nreq++;
	f.tag = t;
	sendup(m, &f, n);
	goto out;
err:
	clierror(m, c, f.tag);
out:
	p9_freefcall(&f);
}

/*
 * The request of r is over without ok (a failed or partial reply, or
 * flushed before any reply: then abandoned).  Settle the fid it makes or
 * ends: a made fid stays only on success; an ended fid goes in every
 * case, but a Tclunk flushed before its reply may or may not have been
 * done, so the fid is clunked again before its number is used again.
 */
static void
settle(Mux *m, Req *r, int ok, int abandoned)
{
	Conn *c;
	uint64_t *v;

	c = r->c;
	if(r->mkfid){
		v = c != NULL ? mapget(&c->fids, r->cnewfid) : NULL;
		if(v != NULL && UFID(*v) != r->unewfid)
			v = NULL;
		if(ok && v != NULL)
			*v &= ~Fpending;
		else if(ok)
			internal(m, P9_TCLUNK, r->unewfid, 0);	/* its client has gone */
		else{
			if(v != NULL)
				mapdel(&c->fids, r->cnewfid);
			putufid(m, r->unewfid);
		}
	}
	if(r->endfid){
		v = c != NULL ? mapget(&c->fids, r->cfid) : NULL;
		if(v != NULL && UFID(*v) == r->ufid)
			mapdel(&c->fids, r->cfid);
		if(abandoned)
			internal(m, P9_TCLUNK, r->ufid, 0);
		else
			putufid(m, r->ufid);
	}
}

/* Request t is finished; its client's tag is free again. */
static void
finish(Mux *m, int t)
{
	Req *r;

	r = m->req[t];
	unref(m, r);
	if(r->c != NULL){
		mapdel(&r->c->tags, r->ctag);
		r->c->nreq--;
		r->c = NULL;
	}
	r->done = 1;
	if(r->nflush == 0)
		puttag(m, t);
}

/* An Rflush for r (a Tflush): its target, not answered by now, never will be. */
static void
flushed(Mux *m, Req *r)
{
	Req *tg;

	tg = m->req[r->target];
	tg->nflush--;
	if(!tg->done){
		settle(m, tg, 0, 1);
		finish(m, r->target);
	}else if(tg->nflush == 0)
		puttag(m, r->target);
}

/* Deliver the reply (n bytes at buf, decoded in f) to r's client with its own tag. */
static void
deliver(Mux *m, Req *r, P9Fcall *f, const uint8_t *buf, size_t n, int bad)
{
	Conn *c;
	Msg *msg;

	c = r->c;
	if(c == NULL || c->dead)
		return;
	if(bad){
		clierror(m, c, r->ctag);
		return;
	}
	if(n > c->msize){
		seterr(EMSGSIZE, "%s too large for msize %zu", p9_typename(f->type), c->msize);
		clierror(m, c, r->ctag);
		return;
	}
	if(m->debug){
		char who[32];

		snprintf(who, sizeof who, "c%d <-", c->id);
		f->tag = r->ctag;
		trace(m, who, f, m->dialect);
	}
	msg = newmsg(n);
	memcpy(msg->data, buf, n);
	msg->data[5] = r->ctag;
	msg->data[6] = r->ctag >> 8;
	enqueue(&c->out, msg);
}

/* One reply from the server. */
static void
upmsg(Mux *m, const uint8_t *buf, size_t n)
{
	P9Fcall f;
	Req *r;
	int ok, bad, t;

	bad = p9_unpack(buf, n, m->dialect, m->msize, &f) < 0;
	t = buf[5] | buf[6] << 8;
	if(t >= Ntag || (r = m->req[t]) == NULL || r->done){
		if(m->debug)
			fprintf(stderr, "srv <- a reply to tag %d, which is not in flight: ignored\n", t);
		goto out;
	}
	if(bad)
		adderr("bad reply from the server");
	else{
		trace(m, "<-", &f, m->dialect);
		if(f.type != r->type + 1 && f.type != P9_RERROR && f.type != P9_RLERROR){
			bad = 1;
			seterr(EPROTO, "bad reply from the server: %s answers %s", p9_typename(f.type),
			       p9_typename(r->type));
		}
	}
	if(bad && m->debug)
		fprintf(stderr, "srv <- %s\n", errtext());
	ok = !bad && f.type == r->type + 1;
	if(ok && r->type == P9_TWALK && f.nwqid != r->nwname)
		ok = 0;
	settle(m, r, ok, 0);
	if(r->type == P9_TFLUSH && !bad)
		flushed(m, r);
	else if(r->type == P9_TFLUSH){
		/* A broken Rflush: the target may yet be answered; keep its slot. */
		m->req[r->target]->nflush--;
		if(m->req[r->target]->done && m->req[r->target]->nflush == 0)
			puttag(m, r->target);
	}
	deliver(m, r, &f, buf, n, bad);
	finish(m, t);
out:
	p9_freefcall(&f);
}

static int
gated(Mux *m, Conn *c)
{
	return c->dead || c->nreq >= Maxreq || c->out.bytes > Cliwait || m->out.bytes > Upwait ||
	       m->nfreetag < Tagreserve;
}

/* Handle the whole messages c has sent, while it may send more. */
static void
cliprocess(Mux *m, Conn *c)
{
	size_t off, sz;

	off = 0;
	while(!gated(m, c) && c->rlen - off >= 4){
		sz = p9_msgsize(c->rbuf + off);
		if(p9_checksize(sz, c->versioned ? c->msize : m->msize) < 0){
			hangup(m, c, "a message of a bad size");
			break;
		}
		if(c->rlen - off < sz)
			break;
		climsg(m, c, c->rbuf + off, sz);
		off += sz;
	}
	memmove(c->rbuf, c->rbuf + off, c->rlen - off);
	c->rlen -= off;
}

static void
cliread(Mux *m, Conn *c)
{
	size_t sz;
	ssize_t n;

	if(c->rlen >= 4){
		sz = p9_msgsize(c->rbuf);
		if(p9_checksize(sz, c->versioned ? c->msize : m->msize) < 0){
			hangup(m, c, "a message of a bad size");
			return;
		}
		if(sz > c->rcap){
			c->rbuf = erealloc(c->rbuf, sz);
			c->rcap = sz;
		}
	}
	if(c->rlen == c->rcap)
		return;
	n = read(c->fd, c->rbuf + c->rlen, c->rcap - c->rlen);
	if(n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if(n <= 0){
		hangup(m, c, n == 0 ? "hung up" : strerror(errno));
		return;
	}
	c->rlen += n;
}

/* Read from the server and handle every whole reply.  Returns 1 at end of file, -1 on error. */
static int
upread(Mux *m)
{
	size_t off, sz;
	ssize_t n;

	n = read(m->ufd, m->rbuf + m->rlen, m->rcap - m->rlen);
	if(n < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if(n == 0)
		return 1;
	if(n < 0)
		return syserr("srv: reading from the server");
	m->rlen += n;
	off = 0;
	while(m->rlen - off >= 4){
		sz = p9_msgsize(m->rbuf + off);
		if(p9_checksize(sz, m->msize) < 0)
			return adderr("srv: from the server");
		if(m->rlen - off < sz)
			break;
		upmsg(m, m->rbuf + off, sz);
		off += sz;
	}
	memmove(m->rbuf, m->rbuf + off, m->rlen - off);
	m->rlen -= off;
	return 0;
}

static void
accept1(Mux *m)
{
	struct ucred cr;
	socklen_t len;
	Conn *c;
	int fd;

	fd = accept4(m->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if(fd < 0)
		return;
	len = sizeof cr;
	/* As p9_listen: the server's own uid, or root. */
	if(getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) < 0 || (cr.uid != geteuid() && cr.uid != 0) ||
	   m->nconn >= Maxconn){
		if(m->debug)
			fprintf(stderr, "srv: connection refused\n");
		close(fd);
		return;
	}
	c = emalloc(sizeof *c);
	c->fd = fd;
	c->id = m->nextid++;
	c->rcap = 8192;
	c->rbuf = emalloc(c->rcap);
	c->msize = P9_MINMSIZE;
	m->conn = erealloc(m->conn, (m->nconn + 1) * sizeof m->conn[0]);
	m->conn[m->nconn++] = c;
	if(m->debug)
		fprintf(stderr, "srv c%d: connected (pid %d uid %d)\n", c->id, (int)cr.pid, (int)cr.uid);
}

static void
closeconn(Conn *c)
{
	close(c->fd);
	free(c->rbuf);
	qfree(&c->out);
	mapfree(&c->tags);
	mapfree(&c->fids);
	free(c);
}

int
srvmux(int ufd, int lfd, int dialect, size_t msize, int debug)
{
	struct pollfd *pfd;
	Deferred *d;
	Mux *m;
	Conn *c;
	int i, j, n, r;

	m = emalloc(sizeof *m);
	m->ufd = ufd;
	m->lfd = lfd;
	m->dialect = dialect;
	m->msize = msize;
	m->debug = debug;
	m->rcap = msize + 65536;
	m->rbuf = emalloc(m->rcap);
	m->freetag = emalloc(Ntag * sizeof m->freetag[0]);
	for(i = Ntag - 1; i >= 0; i--)
		m->freetag[m->nfreetag++] = i;
	m->defertail = &m->defer;
	fcntl(ufd, F_SETFL, fcntl(ufd, F_GETFL) | O_NONBLOCK);
	fcntl(lfd, F_SETFL, fcntl(lfd, F_GETFL) | O_NONBLOCK);
	pfd = NULL;
	r = 0;
	for(;;){
		rundeferred(m);
		for(i = 0; i < m->nconn; i++)
			cliprocess(m, m->conn[i]);
		if(qwrite(&m->out, ufd) < 0){
			r = syserr("srv: writing to the server");
			break;
		}
		for(i = 0, j = 0; i < m->nconn; i++){
			c = m->conn[i];
			if(!c->dead && qwrite(&c->out, c->fd) < 0)
				hangup(m, c, "gone");
			if(!c->dead && c->out.bytes > Climax)
				hangup(m, c, "does not read its replies: dropped");
			if(c->dead)
				closeconn(c);
			else
				m->conn[j++] = c;
		}
		m->nconn = j;

		pfd = erealloc(pfd, (2 + m->nconn) * sizeof pfd[0]);
		pfd[0].fd = ufd;
		pfd[0].events = POLLIN | (m->out.head != NULL ? POLLOUT : 0);
		pfd[1].fd = lfd;
		pfd[1].events = POLLIN;
		for(i = 0; i < m->nconn; i++){
			c = m->conn[i];
			pfd[2 + i].fd = c->fd;
			pfd[2 + i].events = (gated(m, c) ? 0 : POLLIN) | (c->out.head != NULL ? POLLOUT : 0);
		}
		n = poll(pfd, 2 + m->nconn, -1);
		if(n < 0){
			if(errno == EINTR)
				continue;
			r = syserr("srv: poll");
			break;
		}
		if(pfd[0].revents & (POLLIN | POLLHUP | POLLERR)){
			n = upread(m);
			if(n != 0){
				r = n < 0 ? -1 : 0;
				break;
			}
		}
		for(i = 0; i < m->nconn; i++){
			c = m->conn[i];
			if(pfd[2 + i].revents & POLLIN)
				cliread(m, c);
			else if(pfd[2 + i].revents & (POLLHUP | POLLERR))
				hangup(m, c, "hung up");
		}
		if(pfd[1].revents & POLLIN)
			accept1(m);
	}
	if(m->debug)
		fprintf(stderr, "srv: the server %s\n", r == 0 ? "hung up" : errtext());
	for(i = 0; i < m->nconn; i++)
		closeconn(m->conn[i]);
	for(i = 0; i < Ntag; i++)
		free(m->req[i]);
	while((d = m->defer) != NULL){
		m->defer = d->next;
		free(d);
	}
	qfree(&m->out);
	free(m->conn);
	free(m->freetag);
	free(m->freefid);
	mapfree(&m->uref);
	free(m->rbuf);
	free(m);
	free(pfd);
	return r;
}

/* --- negotiation with the server --- */

/* Read n bytes by the deadline. */
static int
readby(int fd, uint8_t *buf, size_t n, time_t deadline)
{
	struct pollfd p;
	ssize_t k;
	time_t now;

	while(n > 0){
		now = time(NULL);
		if(now >= deadline)
			return seterr(ETIMEDOUT, "the server did not answer Tversion in %d s", Versionwait);
		p.fd = fd;
		p.events = POLLIN;
		if(poll(&p, 1, (int)(deadline - now) * 1000) < 0){
			if(errno == EINTR)
				continue;
			return syserr("poll");
		}
		if(p.revents == 0)
			continue;
		k = read(fd, buf, n);
		if(k < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if(k < 0 && errno != ECONNRESET)
			return syserr("reading Rversion");
		if(k <= 0)
			return seterr(ECONNRESET, "the server hung up during Tversion");
		buf += k;
		n -= k;
	}
	return 0;
}

static int
writeall(int fd, const uint8_t *buf, size_t n)
{
	ssize_t k;

	while(n > 0){
		k = send(fd, buf, n, MSG_NOSIGNAL);
		if(k < 0 && errno == ENOTSOCK)
			k = write(fd, buf, n);
		if(k < 0 && errno == EINTR)
			continue;
		if(k < 0 && (errno == EPIPE || errno == ECONNRESET))
			return seterr(ECONNRESET, "the server hung up during Tversion");
		if(k < 0)
			return syserr("writing Tversion");
		buf += k;
		n -= k;
	}
	return 0;
}

/* Tversion v; the reply in *r.  Returns 0, or -1 (an Rerror included: r->type says). */
static int
tversion(int fd, size_t msize, const char *v, P9Fcall *r)
{
	uint8_t buf[8192];
	P9Fcall t;
	uint32_t sz;
	int n;

	memset(&t, 0, sizeof t);
	memset(r, 0, sizeof *r);
	t.type = P9_TVERSION;
	t.tag = P9_NOTAG;
	t.msize = msize;
	t.version = (char *)v;
	n = p9_pack(&t, P9_9P2000, buf, sizeof buf);
	if(n < 0 || writeall(fd, buf, n) < 0)
		return -1;
	if(readby(fd, buf, 4, time(NULL) + Versionwait) < 0)
		return -1;
	sz = p9_msgsize(buf);
	if(p9_checksize(sz, sizeof buf) < 0)
		return adderr("Rversion");
	if(readby(fd, buf + 4, sz - 4, time(NULL) + Versionwait) < 0)
		return -1;
	if(p9_unpack(buf, sz, P9_9P2000, sizeof buf, r) < 0 &&
	   p9_unpack(buf, sz, P9_9P2000U, sizeof buf, r) < 0)
		return adderr("Rversion");
	if(r->type == P9_RERROR){
		p9_seterrfcall(r);
		adderr("Tversion %s", v);
		return -1;
	}
	if(r->type != P9_RVERSION){
		seterr(EPROTO, "%s answers Tversion", p9_typename(r->type));
		p9_freefcall(r);
		return -1;
	}
	return 0;
}

int
srvversion(int fd, size_t msize, int *dialectp, size_t *msizep)
{
	P9Fcall r;
	int d, e;

	e = tversion(fd, msize, "9P2000.L", &r);
	if(e < 0 && r.type != P9_RERROR)
		return -1;
	/*
	 * Anything but .L (an error, "unknown", .u): ask for 9P2000, which
	 * every client of ns9 speaks; a new Tversion starts the session anew.
	 */
	if(e < 0 || (strcmp(r.version, "9P2000.L") != 0 && strcmp(r.version, "9P2000") != 0)){
		p9_freefcall(&r);
		if(tversion(fd, msize, "9P2000", &r) < 0)
			return -1;
	}
	d = p9_dialect(r.version);
	if(d != P9_9P2000L && d != P9_9P2000){
		seterr(EPROTO, "the server speaks '%s', not 9P2000 or 9P2000.L", r.version);
		goto bad;
	}
	if(r.msize > msize){
		seterr(EPROTO, "the server's msize %u is more than the %zu offered", r.msize, msize);
		goto bad;
	}
	*dialectp = d;
	*msizep = r.msize;
	p9_freefcall(&r);
	return 0;
bad:
	p9_freefcall(&r);
	return -1;
}
