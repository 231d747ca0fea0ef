/*
 * srv.c: the 9P server framework (p9_serve, p9_listen), after 9front's
 * lib9p srv.c.  One reader thread per conversation frames each message,
 * checks it (tags, fids, open state, counts) and handles Tversion, Tflush
 * and Tclunk itself; the rest goes to a queue served by s->nthread worker
 * threads (or runs inline in the reader when nthread is 0).  Replies are
 * written whole under the connection's write lock.  Requests in flight
 * are bounded, so a flood stops the reader rather than exhausting memory.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "9p.h"

enum {
	Nfidhash = 64,	/* first size of the fid table; it doubles as fids come */
	Maxreq = 64,	/* requests in flight per connection */
	Maxinbytes = 16 << 20,	/* bytes of requests in flight per connection */
	Idlems = 2000,	/* an idle thread gives back its reply buffer */
	Hupms = 200,	/* a reader waiting for room looks for a hangup this often */
	Smallbuf = P9_MINMSIZE,	/* replies the framework makes itself (Rerror fits) */
};

/* Request states. */
enum {
	Queued,	/* waiting for a worker */
	Running,	/* in serve, or being answered */
	Flushing,	/* a Tflush waiting for the request it names */
};

typedef struct Req Req;
typedef struct Conn Conn;

struct Req {
	P9Req r;	/* first: serve's P9Req * is a Req * */
	uint8_t *ibuf;	/* the message; Twrite data points into it */
	size_t ilen;
	int state;
	int aborted;	/* by a later Tversion: no reply */
	int interrupted;	/* flushed while running: p9_interrupted */
	int registered;	/* counted in nreq and inbytes */
	int listed;	/* in the in-flight list: its tag is in use */
	Req *next;	/* queue */
	Req *link;	/* in-flight list */
	Req *flush;	/* Tflushes waiting for this request */
	Req *flushnext;
};

struct Conn {
	P9Srv *srv;
	int rfd;
	int wfd;
	int wsock;	/* wfd is a socket: send with MSG_NOSIGNAL */
	pthread_mutex_t lk;	/* all below but the write side */
	pthread_cond_t work;	/* workers: queue not empty, or exiting */
	pthread_cond_t room;	/* reader: a request finished */
	pthread_mutex_t wlk;	/* one reply at a time on wfd */
	size_t maxmsize;	/* what the server offers */
	size_t msize;	/* negotiated, else maxmsize */
	int dialect;
	int versioned;
	int dead;	/* a write failed: no more replies, stop reading (set under both locks) */
	int werrno;	/* why */
	int exiting;	/* workers: stop once the queue is empty */
	int hungup;	/* the client is gone (or going): every request is interrupted */
	P9Fid **fids;	/* hash table of nfidhash chains */
	uint32_t nfidhash;
	uint32_t nfid;
	uint32_t maxfid;
	Req *inflight;
	int nreq;
	size_t inbytes;
	Req *qhead;
	Req *qtail;
	pthread_t *workers;
	int nworker;
	uint8_t *robuf;	/* the reader's reply buffer when serving inline */
	size_t robufsz;
};

static const char *
srvname(Conn *c)
{
	return c->srv->name != NULL ? c->srv->name : "9p";
}

static void
trace(Conn *c, const char *dir, const P9Fcall *f, int dialect)
{
	Buf b = {0};

	bufprint(&b, "%s %s ", srvname(c), dir);
	p9_fmt(&b, f, dialect);
	bufputc(&b, '\n');
	fputs(b.s, stderr);
	buffree(&b);
}

/*
 * Reply buffers come straight from mmap: pages are backed only once
 * touched, and unmapping returns them, so an idle server stays small
 * whatever msize it offers.
 */
static uint8_t *
bigalloc(size_t n)
{
	void *p;

	p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if(p == MAP_FAILED)
		abort();
	return p;
}

static void
bigfree(uint8_t *p, size_t n)
{
	if(p != NULL)
		munmap(p, n);
}

/* The message buffer: not zeroed (it is read over at once). */
static uint8_t *
msgalloc(size_t n)
{
	uint8_t *p;

	p = malloc(n);
	if(p == NULL)
		abort();
	return p;
}

/* --- fids; the caller holds c->lk --- */

static P9Fid **
fidslot(Conn *c, uint32_t fid)
{
	P9Fid **l;

	for(l = &c->fids[fid % c->nfidhash]; *l != NULL; l = &(*l)->next)
		if((*l)->fid == fid)
			break;
	return l;
}

/*
 * The fid, with a reference for the caller; NULL (EBADF) if unknown.  A
 * fid still being made (pending) is unknown: its aux is not set yet, and
 * it may never be.
 */
static P9Fid *
getfid(Conn *c, uint32_t fid)
{
	P9Fid *f;

	f = *fidslot(c, fid);
	if(f == NULL || f->pending){
		seterr(EBADF, "unknown fid %d", (int)fid);
		return NULL;
	}
	f->ref++;
	return f;
}

/* Twice the chains: a client may hold a fid per file it knows (the FUSE client does). */
static void
rehash(Conn *c)
{
	P9Fid **old, *f, *next;
	uint32_t i, n;

	old = c->fids;
	n = c->nfidhash;
	c->nfidhash = 2 * n;
	c->fids = emalloc(c->nfidhash * sizeof c->fids[0]);
	for(i = 0; i < n; i++)
		for(f = old[i]; f != NULL; f = next){
			next = f->next;
			f->next = c->fids[f->fid % c->nfidhash];
			c->fids[f->fid % c->nfidhash] = f;
		}
	free(old);
}

/*
 * A new fid in the table, pending until its request succeeds, with a
 * reference for the caller; NULL (EBADF) if in use, EMFILE when the
 * connection holds maxfid already.
 */
static P9Fid *
newfid(Conn *c, uint32_t fid, const char *uname, uint32_t n_uname)
{
	P9Fid **l, *f;

	if(fid == P9_NOFID){
		seterr(EBADF, "bad fid %d", (int)fid);
		return NULL;
	}
	l = fidslot(c, fid);
	if(*l != NULL){
		seterr(EBADF, "fid %d already in use", (int)fid);
		return NULL;
	}
	if(c->nfid >= c->maxfid){
		seterr(EMFILE, "too many fids (%u)", c->maxfid);
		return NULL;
	}
	f = emalloc(sizeof *f);
	f->fid = fid;
	f->uname = estrdup(uname != NULL ? uname : "");
	f->n_uname = n_uname;
	f->pending = 1;
	f->ref = 2;
	*l = f;
	if(++c->nfid > 2 * c->nfidhash)
		rehash(c);
	return f;
}

/*
 * Take f out of the table; the table's reference passes to the caller.  A
 * pending fid may be clunked (it dies when its maker is done), not removed.
 */
static P9Fid *
removefid(Conn *c, uint32_t fid, int pendingok)
{
	P9Fid **l, *f;

	l = fidslot(c, fid);
	f = *l;
	if(f == NULL || (f->pending && !pendingok)){
		seterr(EBADF, "unknown fid %d", (int)fid);
		return NULL;
	}
	*l = f->next;
	f->next = NULL;
	c->nfid--;
	return f;
}

/* Drop f from the table if it is still there (a failed walk's newfid). */
static void
dropfid(Conn *c, P9Fid *f)
{
	P9Fid **l;

	l = fidslot(c, f->fid);
	if(*l == f){
		*l = f->next;
		f->next = NULL;
		c->nfid--;
		f->ref--;	/* the table's: the caller still holds one */
	}
}

/* Drop a reference; the last one destroys the fid.  Called without c->lk. */
static void
putfid(Conn *c, P9Fid *f)
{
	int last;

	if(f == NULL)
		return;
	pthread_mutex_lock(&c->lk);
	last = --f->ref == 0;
	pthread_mutex_unlock(&c->lk);
	if(!last)
		return;
	if(c->srv->destroyfid != NULL)
		c->srv->destroyfid(f);
	free(f->uname);
	free(f);
}

/* Clunk every fid (Tversion, hangup).  No request is in flight. */
static void
clunkall(Conn *c)
{
	P9Fid *f;
	int i;

	for(i = 0;; i++){
		for(;;){
			pthread_mutex_lock(&c->lk);
			if(i >= (int)c->nfidhash){
				pthread_mutex_unlock(&c->lk);
				return;
			}
			f = c->fids[i];
			if(f != NULL){
				c->fids[i] = f->next;
				f->next = NULL;
				c->nfid--;
			}
			pthread_mutex_unlock(&c->lk);
			if(f == NULL)
				break;
			putfid(c, f);
		}
	}
}

/* --- replies --- */

/* Write all of buf; EINTR and short writes are retried. */
static int
writeall(Conn *c, const uint8_t *buf, size_t n)
{
	sigset_t pipe, old, pend;
	ssize_t w;
	int rc, pending;

	rc = 0;
	pending = 0;
	if(!c->wsock){
		/* A pipe whose reader is gone must fail the write, not kill the server. */
		sigemptyset(&pipe);
		sigaddset(&pipe, SIGPIPE);
		pthread_sigmask(SIG_BLOCK, &pipe, &old);
		sigpending(&pend);
		pending = sigismember(&pend, SIGPIPE);
	}
	while(n > 0){
		if(c->wsock)
			w = send(c->wfd, buf, n, MSG_NOSIGNAL);
		else
			w = write(c->wfd, buf, n);
		if(w < 0 && errno == EINTR)
			continue;
		if(w <= 0){
			rc = -1;
			break;
		}
		buf += w;
		n -= w;
	}
	if(!c->wsock){
		if(rc < 0 && errno == EPIPE && !pending){
			struct timespec zero = {0, 0};

			while(sigtimedwait(&pipe, NULL, &zero) < 0 && errno == EINTR)
				;
		}
		pthread_sigmask(SIG_SETMASK, &old, NULL);
	}
	return rc;
}

static void
releasefids(Conn *c, Req *q)
{
	putfid(c, q->r.fid);
	putfid(c, q->r.newfid);
	putfid(c, q->r.dfid);
	putfid(c, q->r.newdfid);
	q->r.fid = q->r.newfid = q->r.dfid = q->r.newdfid = NULL;
}

static void
unlinkreq(Conn *c, Req *q)
{
	Req **l;

	for(l = &c->inflight; *l != NULL; l = &(*l)->link)
		if(*l == q){
			*l = q->link;
			break;
		}
}

/*
 * Pack q's reply into buf (len bytes) and send it.  rc < 0: an error
 * reply from the thread's error record.  A reply that does not pack
 * becomes the error that says why.  Aborted requests and dead
 * connections send nothing.
 */
static void
sendreply(Conn *c, Req *q, int rc, uint8_t *buf, size_t len)
{
	P9Fcall *o;
	int n, dialect;
	size_t msize;

	o = &q->r.ofcall;
	dialect = q->r.dialect;
	msize = q->r.msize;
	if(len > msize)
		len = msize;
	if(rc < 0)
		p9_rerror(o, q->r.ifcall.tag, dialect);
	else{
		o->type = q->r.ifcall.type + 1;
		o->tag = q->r.ifcall.tag;
	}
	n = -1;
	if(!q->aborted){
		n = p9_pack(o, dialect, buf, len);
		if(n < 0){
			adderr("%s", p9_typename(o->type) != NULL ? p9_typename(o->type) : "reply");
			p9_rerror(o, q->r.ifcall.tag, dialect);
			n = p9_pack(o, dialect, buf, len);
		}
		if(n >= 0 && c->srv->debug)
			trace(c, "->", o, dialect);
	}
	/*
	 * The reply is packed, so nothing points into the fids any more:
	 * let them go now, so that a clunk (Tclunk, Tremove, or one that
	 * came while this request ran) is complete when the client sees an
	 * answer.
	 */
	releasefids(c, q);
	pthread_mutex_lock(&c->wlk);
	/*
	 * The tag is free once the client can see the reply, so it may be
	 * used again at once; and a Tflush that no longer finds it still
	 * answers after the reply, since it too must take the write lock.
	 */
	pthread_mutex_lock(&c->lk);
	if(q->listed){
		unlinkreq(c, q);
		q->listed = 0;
	}
	pthread_mutex_unlock(&c->lk);
	if(n >= 0 && !c->dead && writeall(c, buf, n) < 0){
		c->werrno = errno;
		pthread_mutex_lock(&c->lk);
		c->dead = 1;
		pthread_cond_broadcast(&c->room);
		pthread_mutex_unlock(&c->lk);
		/* wake the reader: a socket's read returns at once */
		shutdown(c->rfd, SHUT_RDWR);
	}
	pthread_mutex_unlock(&c->wlk);
}

static void
freereq(Conn *c, Req *q)
{
	releasefids(c, q);
	p9_freefcall(&q->r.ifcall);
	free(q->ibuf);
	free(q);
}

/*
 * q has been answered: it leaves the in-flight list, and the Tflushes
 * waiting for it are answered in turn (Rflush after the reply, flush(5)).
 */
static void
finish(Conn *c, Req *q)
{
	uint8_t small[Smallbuf];
	Req *fl, *next;

	pthread_mutex_lock(&c->lk);
	fl = q->flush;
	q->flush = NULL;
	if(q->listed){
		unlinkreq(c, q);
		q->listed = 0;
	}
	if(q->registered){
		c->nreq--;
		c->inbytes -= q->ilen;
		pthread_cond_broadcast(&c->room);
	}
	pthread_mutex_unlock(&c->lk);
	freereq(c, q);
	for(; fl != NULL; fl = next){
		next = fl->flushnext;
		sendreply(c, fl, 0, small, sizeof small);
		finish(c, fl);
	}
}

/* Answer a request with an error and finish it: the reader's replies. */
static void
rerror(Conn *c, Req *q)
{
	uint8_t small[Smallbuf];

	sendreply(c, q, -1, small, sizeof small);
	finish(c, q);
}

/* --- the work of a request --- */

static int
isnew(P9Req *r)
{
	return r->newfid != NULL && r->newfid != r->fid;
}

/* Twalk with no names: newfid becomes a copy of fid. */
static int
clonefid(P9Srv *s, P9Req *r)
{
	if(!isnew(r))
		return 0;
	r->newfid->qid = r->fid->qid;
	r->newfid->diroffset = 0;
	if(s->clone != NULL)
		return s->clone(r->fid, r->newfid);
	r->newfid->aux = r->fid->aux;
	return 0;
}

/* Serve q and answer it, with buf (len bytes) for the reply. */
static void
run(Conn *c, Req *q, uint8_t *buf, size_t len)
{
	P9Srv *s;
	P9Req *r;
	P9Fcall *in;
	int rc;

	s = c->srv;
	r = &q->r;
	in = &r->ifcall;
	r->obuf = buf;
	if(in->type == P9_TWALK && in->nwname == 0)
		rc = clonefid(s, r);
	else
		rc = s->serve(r);
	if(rc == 0 && in->type == P9_TWALK && in->nwname > 0){
		if(r->ofcall.nwqid == 0)
			rc = perr(Enonexist, "walk %s", in->wname[0]);
		else if(r->ofcall.nwqid > in->nwname)
			rc = seterr(EIO, "walk: server returned %d qids for %d names",
				r->ofcall.nwqid, in->nwname);
	}

	pthread_mutex_lock(&c->lk);
	switch(in->type){
	case P9_TWALK:
		if(isnew(r) && (rc < 0 || r->ofcall.nwqid < in->nwname))
			dropfid(c, r->newfid);
		else if(isnew(r))
			r->newfid->pending = 0;
		break;
	case P9_TXATTRWALK:
		if(rc < 0 && isnew(r))
			dropfid(c, r->newfid);
		else if(rc == 0){
			r->newfid->open = 1;
			r->newfid->pending = 0;
		}
		break;
	case P9_TATTACH:
		if(rc < 0)
			dropfid(c, r->fid);
		else
			r->fid->pending = 0;
		break;
	case P9_TAUTH:
		if(rc < 0)
			dropfid(c, r->fid);
		else{
			r->fid->pending = 0;
			r->fid->qid = r->ofcall.qid;
			r->fid->open = 1;
			r->fid->omode = P9_ORDWR;
		}
		break;
	case P9_TOPEN:
	case P9_TCREATE:
		if(rc == 0){
			r->fid->open = 1;
			r->fid->omode = in->mode;
		}
		break;
	case P9_TLOPEN:
	case P9_TLCREATE:
		if(rc == 0){
			r->fid->open = 1;
			r->fid->omode = in->flags;
		}
		break;
	case P9_TXATTRCREATE:
		if(rc == 0)
			r->fid->open = 1;
		break;
	}
	pthread_mutex_unlock(&c->lk);
	sendreply(c, q, rc, buf, len);
	finish(c, q);
}

static void *
worker(void *arg)
{
	Conn *c;
	Req *q;
	uint8_t *buf;
	size_t len;
	struct timespec ts;

	c = arg;
	buf = NULL;
	len = 0;
	pthread_mutex_lock(&c->lk);
	for(;;){
		while(c->qhead == NULL && !c->exiting){
			if(buf == NULL){
				pthread_cond_wait(&c->work, &c->lk);
				continue;
			}
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_sec += Idlems / 1000;
			if(pthread_cond_timedwait(&c->work, &c->lk, &ts) == ETIMEDOUT && c->qhead == NULL){
				bigfree(buf, len);
				buf = NULL;
				len = 0;
			}
		}
		q = c->qhead;
		if(q == NULL)
			break;
		c->qhead = q->next;
		if(c->qhead == NULL)
			c->qtail = NULL;
		q->next = NULL;
		q->state = Running;
		if(buf != NULL && len < c->msize){
			bigfree(buf, len);
			buf = NULL;
		}
		if(buf == NULL){
			len = c->msize;
			pthread_mutex_unlock(&c->lk);
			buf = bigalloc(len);
		}else
			pthread_mutex_unlock(&c->lk);
		run(c, q, buf, len);
		pthread_mutex_lock(&c->lk);
	}
	pthread_mutex_unlock(&c->lk);
	bigfree(buf, len);
	return NULL;
}

/* --- what the reader does --- */

/* Whether q may run in the reading thread though there are workers (P9Srv.quick). */
static int
quick(Conn *c, Req *q)
{
	int alone;

	if(!c->srv->quick)
		return 0;
	switch(q->r.ifcall.type){
	case P9_TREAD:
	case P9_TWRITE:
	case P9_TREADDIR:
	case P9_TLOCK:
	case P9_TGETLOCK:
	case P9_TFSYNC:
		return 0;
	}
	pthread_mutex_lock(&c->lk);
	alone = c->qhead == NULL && c->inflight == q && q->link == NULL;
	pthread_mutex_unlock(&c->lk);
	return alone;
}

static Req *
findtag(Conn *c, uint16_t tag)
{
	Req *q;

	for(q = c->inflight; q != NULL; q = q->link)
		if(q->r.ifcall.tag == tag)
			return q;
	return NULL;
}

/* fid must be known and not open (Topen, Tcreate, ...), or open (i/o). */
static P9Fid *
openfid(Conn *c, uint32_t fid, int wantopen)
{
	P9Fid *f;

	if((f = getfid(c, fid)) == NULL)
		return NULL;
	if(wantopen && !f->open){
		seterr(EBADF, "fid %d is not open", (int)fid);
		goto Err;
	}
	if(!wantopen && f->open){
		seterr(EBADF, "fid %d is already open", (int)fid);
		goto Err;
	}
	return f;
Err:
	f->ref--;	/* never the last: the table holds one */
	return NULL;
}

/*
 * The checks that need no file system, under c->lk: the tag, the fids
 * (looked up with a reference each, new ones made), open state, counts.
 * On success q is in flight.  Returns -1 with the error record set.
 */
static int
check(Conn *c, Req *q)
{
	P9Req *r;
	P9Fcall *in;
	size_t max;

	r = &q->r;
	in = &r->ifcall;
	if(findtag(c, in->tag) != NULL)
		return seterr(EPROTO, "tag %d already in use", in->tag);
	switch(in->type){
	case P9_TFLUSH:
		break;
	case P9_TAUTH:
		if(!c->srv->auth)
			return seterr(EOPNOTSUPP, "authentication not required");
		if(strlen(in->uname) > P9_MAXUNAME)
			return seterr(ENAMETOOLONG, "user name too long");
		if((r->fid = newfid(c, in->afid, in->uname, in->n_uname)) == NULL)
			return -1;
		break;
	case P9_TATTACH:
		/* every fid walked from it keeps a copy */
		if(strlen(in->uname) > P9_MAXUNAME)
			return seterr(ENAMETOOLONG, "user name too long");
		if((r->fid = newfid(c, in->fid, in->uname, in->n_uname)) == NULL)
			return -1;
		break;
	case P9_TWALK:
	case P9_TXATTRWALK:
		if((r->fid = getfid(c, in->fid)) == NULL)
			return -1;
		if(in->type == P9_TWALK && r->fid->open)
			return seterr(EBADF, "cannot walk an open fid");
		if(in->newfid == in->fid){
			r->newfid = r->fid;
			r->fid->ref++;
		}else if((r->newfid = newfid(c, in->newfid, r->fid->uname, r->fid->n_uname)) == NULL)
			return -1;
		break;
	case P9_TOPEN:
	case P9_TCREATE:
	case P9_TLOPEN:
	case P9_TLCREATE:
	case P9_TXATTRCREATE:
		if((r->fid = openfid(c, in->fid, 0)) == NULL)
			return -1;
		break;
	case P9_TREAD:
	case P9_TREADDIR:
	case P9_TWRITE:
		if((r->fid = openfid(c, in->fid, 1)) == NULL)
			return -1;
		max = r->msize - P9_IOHDRSZ;
		if(in->type != P9_TWRITE && in->count > max)
			in->count = max;
		break;
	case P9_TCLUNK:
	case P9_TREMOVE:
		if((r->fid = removefid(c, in->fid, in->type == P9_TCLUNK)) == NULL)
			return -1;
		break;
	case P9_TMKNOD:
	case P9_TMKDIR:
	case P9_TUNLINKAT:
		if((r->dfid = getfid(c, in->dfid)) == NULL)
			return -1;
		break;
	case P9_TRENAME:
	case P9_TLINK:
		if((r->fid = getfid(c, in->fid)) == NULL)
			return -1;
		if((r->dfid = getfid(c, in->dfid)) == NULL)
			return -1;
		break;
	case P9_TRENAMEAT:
		if((r->dfid = getfid(c, in->dfid)) == NULL)
			return -1;
		if((r->newdfid = getfid(c, in->newdfid)) == NULL)
			return -1;
		break;
	default:
		if((in->type & 1) != 0 || in->type == P9_TVERSION)
			return seterr(EPROTO, "9P: unexpected %s", p9_typename(in->type));
		/* Tstat, Twstat, Tstatfs, Tgetattr, Tsetattr, Treadlink, Tfsync, Tlock, Tgetlock, Tsymlink */
		if((r->fid = getfid(c, in->fid)) == NULL)
			return -1;
		break;
	}
	q->registered = 1;
	q->listed = 1;
	q->state = Running;
	q->link = c->inflight;
	c->inflight = q;
	c->nreq++;
	c->inbytes += q->ilen;
	return 0;
}

/* Give back the references check took (a failed check). */
static void
uncheck(Conn *c, Req *q)
{
	P9Req *r;

	r = &q->r;
	switch(r->ifcall.type){
	case P9_TAUTH:
	case P9_TATTACH:
		if(r->fid != NULL)
			dropfid(c, r->fid);
		break;
	case P9_TWALK:
	case P9_TXATTRWALK:
		if(isnew(r))
			dropfid(c, r->newfid);
		break;
	}
}

/*
 * Tflush: a request not yet started is answered "interrupted", then the
 * Tflush; a running one (or a Tflush waiting itself) keeps the Tflush
 * until its reply is sent; an unknown tag is answered at once.
 */
static void
flush(Conn *c, Req *q)
{
	uint8_t small[Smallbuf];
	Req *old, **l;

	pthread_mutex_lock(&c->lk);
	old = findtag(c, q->r.ifcall.oldtag);
	if(old == q)
		old = NULL;
	if(old != NULL && old->state == Queued){
		for(l = &c->qhead; *l != NULL; l = &(*l)->next)
			if(*l == old){
				*l = old->next;
				break;
			}
		c->qtail = NULL;
		for(l = &c->qhead; *l != NULL; l = &(*l)->next)
			c->qtail = *l;
		old->next = NULL;
		old->state = Running;
		/* never served: the fid a Tattach or Twalk was to make is not made */
		uncheck(c, old);
		pthread_mutex_unlock(&c->lk);
		seterr(EINTR, "interrupted");
		rerror(c, old);
		old = NULL;
	}else if(old != NULL){
		old->interrupted = 1;
		q->state = Flushing;
		q->flushnext = NULL;
		for(l = &old->flush; *l != NULL; l = &(*l)->flushnext)
			;
		*l = q;
		pthread_mutex_unlock(&c->lk);
		return;
	}else
		pthread_mutex_unlock(&c->lk);
	sendreply(c, q, 0, small, sizeof small);
	finish(c, q);
}

/* Wait until nothing is in flight. */
static void
drain(Conn *c)
{
	pthread_mutex_lock(&c->lk);
	while(c->nreq > 0)
		pthread_cond_wait(&c->room, &c->lk);
	pthread_mutex_unlock(&c->lk);
}

/*
 * Tversion (version(5)): abort everything outstanding (queued requests
 * are dropped, running ones are not answered), clunk every fid, then
 * agree on msize and a dialect.
 */
static void
version(Conn *c, Req *q)
{
	uint8_t small[Smallbuf];
	P9Fcall *in, *o;
	Req *x, *queued;
	const char *v, *dot;
	int d, want, served;

	in = &q->r.ifcall;
	o = &q->r.ofcall;

	pthread_mutex_lock(&c->lk);
	queued = c->qhead;
	c->qhead = c->qtail = NULL;
	for(x = c->inflight; x != NULL; x = x->link)
		x->aborted = 1;
	pthread_mutex_unlock(&c->lk);
	for(; queued != NULL; queued = x){
		x = queued->next;
		finish(c, queued);
	}
	drain(c);
	clunkall(c);

	served = c->srv->dialects != 0 ? c->srv->dialects : (1 << P9_NDIALECT) - 1;
	v = in->version != NULL ? in->version : "";
	want = p9_dialect(v);
	if(want < 0){
		dot = strchr(v, '.');
		if(dot != NULL && dot - v == 6 && strncmp(v, "9P2000", 6) == 0)
			want = P9_9P2000;
	}
	d = -1;
	if(want >= 0 && (served & (1 << want)))
		d = want;
	else if(want >= 0 && (served & (1 << P9_9P2000)))
		d = P9_9P2000;

	pthread_mutex_lock(&c->lk);
	c->versioned = 0;
	c->msize = c->maxmsize;
	if(d >= 0){
		if(in->msize < c->msize)
			c->msize = in->msize;
		c->dialect = d;
		c->versioned = 1;
	}
	pthread_mutex_unlock(&c->lk);

	o->msize = in->msize < c->msize ? in->msize : c->msize;
	o->version = (char *)(d >= 0 ? p9_versionstr(d) : "unknown");
	q->r.msize = c->msize;
	q->r.dialect = P9_9P2000;
	sendreply(c, q, 0, small, sizeof small);
	finish(c, q);
}

/* Read exactly n bytes: n, 0 at end of file before any byte, else -1. */
static ssize_t
readn(int fd, uint8_t *buf, size_t n)
{
	size_t got;
	ssize_t r;

	got = 0;
	while(got < n){
		r = read(fd, buf + got, n - got);
		if(r < 0 && errno == EINTR)
			continue;
		/* A client that closes with replies unread resets the connection: it hung up. */
		if(r < 0 && errno == ECONNRESET)
			r = 0;
		if(r < 0)
			return syserr("9P read");
		if(r == 0){
			if(got == 0)
				return 0;
			return seterr(EPROTO, "9P: end of file inside a message");
		}
		got += r;
	}
	return got;
}

/*
 * Read the next message into a new request.  Returns 1, 0 at end of
 * file, -1 on a read error or a message that cannot be framed.
 */
static int
readreq(Conn *c, Req **qp)
{
	uint8_t hdr[4];
	uint32_t size;
	ssize_t n;
	Req *q;

	*qp = NULL;
	if(c->robuf != NULL){
		struct pollfd pfd = {c->rfd, POLLIN, 0};

		if(poll(&pfd, 1, Idlems) == 0){
			bigfree(c->robuf, c->robufsz);
			c->robuf = NULL;
		}
	}
	n = readn(c->rfd, hdr, 4);
	if(n <= 0)
		return n;
	size = p9_msgsize(hdr);
	if(p9_checksize(size, c->msize) < 0)
		return -1;
	q = emalloc(sizeof *q);
	q->ibuf = msgalloc(size);
	q->ilen = size;
	memcpy(q->ibuf, hdr, 4);
	n = readn(c->rfd, q->ibuf + 4, size - 4);
	if(n != (ssize_t)(size - 4)){
		if(n == 0)
			seterr(EPROTO, "9P: end of file inside a message");
		free(q->ibuf);
		free(q);
		return -1;
	}
	q->r.srv = c->srv;
	q->r.conn = c;
	q->r.msize = c->msize;
	q->r.dialect = c->versioned ? c->dialect : P9_9P2000;
	*qp = q;
	return 1;
}

int
p9_interrupted(P9Req *r)
{
	Conn *c;
	Req *q;
	int v;

	c = r->conn;
	q = (Req *)r;
	pthread_mutex_lock(&c->lk);
	v = q->interrupted || q->aborted || c->hungup;
	pthread_mutex_unlock(&c->lk);
	return v;
}

/* Whether the client has hung up (or shut its sending side), unread messages or not. */
static int
peergone(Conn *c)
{
	struct pollfd p = {c->rfd, POLLRDHUP, 0};

	return poll(&p, 1, 0) == 1 && (p.revents & (POLLHUP | POLLRDHUP | POLLERR));
}

/*
 * Wait for room for one more request; 0 when the connection died.  While
 * waiting, look for the client hanging up: requests that wait for it to
 * go away (p9_interrupted) would keep the room full for ever.
 */
static int
waitroom(Conn *c)
{
	struct timespec ts;
	int ok;

	pthread_mutex_lock(&c->lk);
	while(!c->dead && (c->nreq >= Maxreq || (c->nreq > 0 && c->inbytes >= Maxinbytes))){
		if(c->hungup){
			pthread_cond_wait(&c->room, &c->lk);
			continue;
		}
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += Hupms * 1000000L;
		if(ts.tv_nsec >= 1000000000L){
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		if(pthread_cond_timedwait(&c->room, &c->lk, &ts) == ETIMEDOUT && peergone(c))
			c->hungup = 1;
	}
	ok = !c->dead;
	pthread_mutex_unlock(&c->lk);
	return ok;
}

/* One message: decode, check, answer or queue. */
static void
handle(Conn *c, Req *q)
{
	uint8_t small[Smallbuf];
	P9Fcall *in;
	int rc;

	in = &q->r.ifcall;
	if(p9_unpack(q->ibuf, q->ilen, q->r.dialect, c->msize, in) < 0){
		if(c->srv->debug){
			Buf b = {0};

			bufprint(&b, "%s <- bad %s tag %d: %s\n", srvname(c),
				p9_typename(in->type) != NULL ? p9_typename(in->type) : "message",
				in->tag, errtext());
			fputs(b.s, stderr);
			buffree(&b);
		}
		/* the header was readable (size >= P9_HDRSZ): answer its tag */
		rerror(c, q);
		return;
	}
	if(c->srv->debug)
		trace(c, "<-", in, q->r.dialect);
	if(in->type == P9_TVERSION){
		version(c, q);
		return;
	}
	if(!c->versioned){
		seterr(EPROTO, "9P: %s before Tversion", p9_typename(in->type));
		rerror(c, q);
		return;
	}
	if(in->tag == P9_NOTAG){
		seterr(EPROTO, "9P: NOTAG on %s", p9_typename(in->type));
		rerror(c, q);
		return;
	}
	pthread_mutex_lock(&c->lk);
	rc = check(c, q);
	if(rc < 0)
		uncheck(c, q);
	pthread_mutex_unlock(&c->lk);
	if(rc < 0){
		rerror(c, q);
		return;
	}
	switch(in->type){
	case P9_TFLUSH:
		flush(c, q);
		return;
	case P9_TCLUNK:
		/* the fid left the table in check; it dies with its last reference */
		sendreply(c, q, 0, small, sizeof small);
		finish(c, q);
		return;
	}
	if(c->nworker == 0 || quick(c, q)){
		if(c->robuf == NULL || c->robufsz < c->msize){
			bigfree(c->robuf, c->robufsz);
			c->robufsz = c->msize;
			c->robuf = bigalloc(c->robufsz);
		}
		run(c, q, c->robuf, c->robufsz);
		return;
	}
	pthread_mutex_lock(&c->lk);
	q->state = Queued;
	if(c->qtail != NULL)
		c->qtail->next = q;
	else
		c->qhead = q;
	c->qtail = q;
	pthread_cond_signal(&c->work);
	pthread_mutex_unlock(&c->lk);
}

int
p9_serve(P9Srv *s, int rfd, int wfd)
{
	Conn *c;
	Req *q;
	struct stat st;
	sigset_t all, old;
	char etext[ERRMAX];
	int i, rc, ecode;

	ecode = 0;
	etext[0] = 0;
	c = emalloc(sizeof *c);
	c->srv = s;
	c->rfd = rfd;
	c->wfd = wfd;
	c->wsock = fstat(wfd, &st) == 0 && S_ISSOCK(st.st_mode);
	c->maxmsize = s->msize != 0 ? s->msize : P9_SRVMSIZE;
	if(c->maxmsize < P9_MINMSIZE)
		c->maxmsize = P9_MINMSIZE;
	if(c->maxmsize > 0x7fffffff)
		c->maxmsize = 0x7fffffff;
	c->msize = c->maxmsize;
	c->maxfid = s->maxfid != 0 ? s->maxfid : P9_SRVMAXFID;
	c->nfidhash = Nfidhash;
	c->fids = emalloc(c->nfidhash * sizeof c->fids[0]);
	pthread_mutex_init(&c->lk, NULL);
	pthread_mutex_init(&c->wlk, NULL);
	pthread_cond_init(&c->work, NULL);
	pthread_cond_init(&c->room, NULL);

	/* Workers take no signals: the caller's thread handles them. */
	if(s->nthread > 0){
		c->workers = emalloc(s->nthread * sizeof c->workers[0]);
		sigfillset(&all);
		pthread_sigmask(SIG_SETMASK, &all, &old);
		for(i = 0; i < s->nthread; i++){
			if(pthread_create(&c->workers[c->nworker], NULL, worker, c) != 0)
				break;
			c->nworker++;
		}
		pthread_sigmask(SIG_SETMASK, &old, NULL);
	}

	for(;;){
		if(!waitroom(c)){
			rc = 0;
			break;
		}
		rc = readreq(c, &q);
		if(rc <= 0)
			break;
		handle(c, q);
	}
	pthread_mutex_lock(&c->wlk);
	if(c->dead){
		/* the peer hanging up is its end of file; other write errors are errors */
		if(c->werrno == EPIPE || c->werrno == ECONNRESET)
			rc = 0;
		else{
			errno = c->werrno;
			rc = syserr("9P write");
		}
	}
	pthread_mutex_unlock(&c->wlk);
	if(rc < 0){
		/* destroyfid and the replies below may set errors of their own */
		ecode = errcode();
		snprintf(etext, sizeof etext, "%s", errtext());
	}

	/* Answer what is in flight (what waits gives up), stop the workers, clunk every fid. */
	pthread_mutex_lock(&c->lk);
	c->hungup = 1;
	pthread_mutex_unlock(&c->lk);
	drain(c);
	pthread_mutex_lock(&c->lk);
	c->exiting = 1;
	pthread_cond_broadcast(&c->work);
	pthread_mutex_unlock(&c->lk);
	for(i = 0; i < c->nworker; i++)
		pthread_join(c->workers[i], NULL);
	clunkall(c);

	bigfree(c->robuf, c->robufsz);
	free(c->fids);
	free(c->workers);
	pthread_cond_destroy(&c->room);
	pthread_cond_destroy(&c->work);
	pthread_mutex_destroy(&c->wlk);
	pthread_mutex_destroy(&c->lk);
	free(c);
	if(rc < 0)
		return seterr(ecode, "%s", etext);
	return 0;
}

/* --- listening --- */

typedef struct Lconn Lconn;
struct Lconn {
	P9Srv *srv;
	int fd;
};

static void *
connproc(void *arg)
{
	Lconn *l;

	l = arg;
	p9_serve(l->srv, l->fd, l->fd);
	close(l->fd);
	free(l);
	return NULL;
}

/* Errors of accept(2) that concern one connection or a passing shortage. */
static int
transient(int e)
{
	switch(e){
	case EINTR:
	case ECONNABORTED:
	case EAGAIN:
	case EPROTO:
	case EPERM:
	case ENETDOWN:
	case ENOPROTOOPT:
	case EHOSTDOWN:
	case ENONET:
	case EHOSTUNREACH:
	case EOPNOTSUPP:
	case ENETUNREACH:
		return 1;
	case EMFILE:
	case ENFILE:
	case ENOBUFS:
	case ENOMEM:
		/* out of descriptors or memory: let connections finish first */
		poll(NULL, 0, 100);
		return 1;
	}
	return 0;
}

int
p9_listen(P9Srv *s, int lfd)
{
	struct ucred cred;
	socklen_t clen;
	pthread_attr_t attr;
	pthread_t t;
	sigset_t all, old;
	Lconn *l;
	uid_t me;
	int fd;

	me = geteuid();
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	for(;;){
		fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if(fd < 0){
			if(transient(errno))
				continue;
			pthread_attr_destroy(&attr);
			return syserr("9P accept");
		}
		clen = sizeof cred;
		if(getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) < 0 ||
				(cred.uid != me && cred.uid != 0)){
			close(fd);
			continue;
		}
		l = emalloc(sizeof *l);
		l->srv = s;
		l->fd = fd;
		/* connection threads take no signals: the listener's thread does */
		sigfillset(&all);
		pthread_sigmask(SIG_SETMASK, &all, &old);
		if(pthread_create(&t, &attr, connproc, l) != 0){
			close(fd);
			free(l);
		}
		pthread_sigmask(SIG_SETMASK, &old, NULL);
	}
}
