/*
 * client.c: one 9P conversation shared by many threads (plan9port
 * lib9pclient and 9pserve's multiplexing, in one process).  Callers pack
 * and write their own request under the write lock and sleep on their own
 * condition variable; one reader thread reads each reply's header, finds
 * the request by its tag, reads the body straight into that request's
 * buffer, decodes it and wakes the caller.  Anything the reader cannot
 * account for (a tag nobody waits on, a reply that does not decode or
 * does not answer its request, end of file) hangs the conversation up:
 * every waiting and later call fails with EIO.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "9p.h"

enum {
	Smallbuf = 8192,	/* requests and replies without data fit here */
	Maxtag = P9_NOTAG,	/* tags 0 .. NOTAG-1 */
};

static const char Ehungup[] = "i/o on hungup channel";

typedef struct Req Req;
struct Req {
	uint16_t tag;
	int busy;	/* waiting for its reply */
	int reading;	/* the reader has taken it: only done frees it */
	int done;
	int err;	/* errno when the call failed without a reply */
	uint8_t ttype;
	P9Fcall *r;
	uint8_t *buf;	/* the caller's, or NULL */
	size_t len;
	pthread_cond_t cond;
	Req *next;	/* free list */
};

struct P9Client {
	int fd;
	int dialect;
	size_t msize;
	int issock;

	pthread_mutex_t lk;	/* everything below but wlk's */
	Req **tab;	/* by tag */
	int ntab;
	Req *free;
	int nwaitfree;	/* callers waiting for a tag */
	pthread_cond_t tagcond;
	int dead;
	int closing;	/* p9_client_free: no hangup callback */
	void (*onhangup)(void *);
	void *hangarg;
	pthread_t reader;
	int hasreader;
	uint8_t *small;	/* the reader's, for replies without data */
	uint8_t *big;	/* the reader's, for one larger reply */

	uint32_t *fids;	/* returned fid numbers */
	size_t nfids, capfids;
	uint32_t nextfid;

	pthread_mutex_t wlk;	/* whole messages */
	char *trace;	/* name to trace under, or NULL */
};

static void
put32(uint8_t *p, uint32_t v)
{
	p[0] = v;
	p[1] = v >> 8;
	p[2] = v >> 16;
	p[3] = v >> 24;
}

static uint16_t
get16(const uint8_t *p)
{
	return p[0] | p[1] << 8;
}

static void
trace(P9Client *c, const char *dir, const P9Fcall *f)
{
	Buf b = {0};

	bufprint(&b, "%s %s ", c->trace, dir);
	p9_fmt(&b, f, c->dialect);
	bufputc(&b, '\n');
	fputs(b.s, stderr);
	buffree(&b);
}

/* Read exactly n bytes: 0, or -1 at end of file or on an error. */
static int
readn(int fd, uint8_t *p, size_t n)
{
	ssize_t m;

	while(n > 0){
		m = read(fd, p, n);
		if(m < 0 && errno == EINTR)
			continue;
		if(m <= 0){
			if(m == 0)
				errno = ECONNRESET;
			return -1;
		}
		p += m;
		n -= m;
	}
	return 0;
}

/* Write the iovecs whole, through EINTR and short writes. */
static int
writev_all(P9Client *c, struct iovec *iov, int niov)
{
	struct msghdr mh;
	ssize_t m;

	while(niov > 0){
		if(c->issock){
			memset(&mh, 0, sizeof mh);
			mh.msg_iov = iov;
			mh.msg_iovlen = niov;
			m = sendmsg(c->fd, &mh, MSG_NOSIGNAL);
		}else
			m = writev(c->fd, iov, niov);
		if(m < 0 && errno == EINTR)
			continue;
		if(m < 0)
			return -1;
		while(niov > 0 && (size_t)m >= iov->iov_len){
			m -= iov->iov_len;
			iov++;
			niov--;
		}
		if(niov > 0){
			iov->iov_base = (uint8_t *)iov->iov_base + m;
			iov->iov_len -= m;
		}
	}
	return 0;
}

/* --- negotiation: before the reader exists, one message at a time --- */

static int
rawrpc(P9Client *c, const char *version, P9Fcall *r)
{
	P9Fcall t;
	uint8_t small[256], *buf;
	struct iovec iov;
	uint32_t size;
	int n, rv;

	memset(&t, 0, sizeof t);
	t.type = P9_TVERSION;
	t.tag = P9_NOTAG;
	t.msize = c->msize;
	t.version = (char *)version;
	n = p9_pack(&t, P9_9P2000, small, sizeof small);
	if(n < 0)
		return -1;
	iov.iov_base = small;
	iov.iov_len = n;
	if(writev_all(c, &iov, 1) < 0)
		return syserr("9P: Tversion");
	if(readn(c->fd, small, 4) < 0)
		return syserr("9P: Rversion");
	size = p9_msgsize(small);
	if(p9_checksize(size, c->msize) < 0)
		return adderr("9P: Rversion");
	buf = emalloc(size);
	memcpy(buf, small, 4);
	rv = -1;
	if(readn(c->fd, buf + 4, size - 4) < 0){
		syserr("9P: Rversion");
		goto out;
	}
	if(p9_unpack(buf, size, P9_9P2000, c->msize, r) < 0 &&
	   p9_unpack(buf, size, P9_9P2000U, c->msize, r) < 0){
		adderr("9P: Tversion reply");
		goto out;
	}
	if(r->tag != P9_NOTAG || (r->type != P9_RVERSION && r->type != P9_RERROR)){
		seterr(EPROTO, "9P: Tversion answered by %s tag %d",
			p9_typename(r->type), r->tag);
		p9_freefcall(r);
		goto out;
	}
	rv = 0;
out:
	free(buf);
	return rv;
}

/*
 * One Tversion: 1 when the server agreed to version (c->msize clamped to
 * its answer), 0 when it offered something else (*offer set), -1 on error.
 */
static int
tryversion(P9Client *c, const char *version, int *offer)
{
	P9Fcall r;
	int rv;

	*offer = -1;
	if(rawrpc(c, version, &r) < 0)
		return -1;
	if(r.type == P9_RERROR){
		p9_seterrfcall(&r);
		p9_freefcall(&r);
		return adderr("9P: Tversion %s", version);
	}
	rv = 0;
	*offer = p9_dialect(r.version);
	if(strcmp(r.version, version) == 0){
		if(r.msize < c->msize)
			c->msize = r.msize;
		rv = 1;
	}
	p9_freefcall(&r);
	return rv;
}

static int
negotiate(P9Client *c, int dialect)
{
	int r, offer;

	if(dialect >= 0){
		r = tryversion(c, p9_versionstr(dialect), &offer);
		if(r < 0)
			return -1;
		if(r == 0)
			return seterr(EPROTONOSUPPORT, "9P: server does not speak %s", p9_versionstr(dialect));
		c->dialect = dialect;
		return 0;
	}
	r = tryversion(c, "9P2000.L", &offer);
	if(r < 0)
		return -1;
	if(r == 1){
		c->dialect = P9_9P2000L;
		return 0;
	}
	/*
	 * version(5): an answer of "9P2000" to a later version means the
	 * server speaks 9P2000, and the Tversion took effect as such.
	 */
	if(offer == P9_9P2000){
		c->dialect = P9_9P2000;
		return 0;
	}
	r = tryversion(c, "9P2000", &offer);
	if(r < 0)
		return -1;
	if(r == 0)
		return seterr(EPROTONOSUPPORT, "9P: server speaks neither 9P2000.L nor 9P2000");
	c->dialect = P9_9P2000;
	return 0;
}

/* --- hanging up --- */

/*
 * Fail every waiting call; with all == 0 not one whose reply the reader
 * is reading (into the caller's buffer): the reader fails it when it
 * stops.  Called with c->lk held.
 */
static void
failall(P9Client *c, int all)
{
	Req *q;
	int i;

	for(i = 0; i < c->ntab; i++){
		q = c->tab[i];
		if(q != NULL && q->busy && !q->done && (all || !q->reading)){
			q->done = 1;
			q->err = EIO;
			pthread_cond_signal(&q->cond);
		}
	}
	pthread_cond_broadcast(&c->tagcond);
}

/* all: called by the reader, which reads no more (failall). */
static void
hangup(P9Client *c, int all)
{
	void (*fn)(void *);
	void *arg;

	pthread_mutex_lock(&c->lk);
	fn = NULL;
	arg = NULL;
	if(!c->dead){
		c->dead = 1;
		if(!c->closing){
			fn = c->onhangup;
			arg = c->hangarg;
		}
	}
	failall(c, all);
	pthread_mutex_unlock(&c->lk);
	/* Wake a writer blocked on a full socket; the fd stays ours until free. */
	shutdown(c->fd, SHUT_RDWR);
	if(fn != NULL)
		fn(arg);
}

/* --- the reader --- */

/* Whether r answers a request of type ttype in dialect. */
static int
answers(const P9Fcall *r, int ttype, int dialect)
{
	if(r->type == ttype + 1)
		return 1;
	if(dialect == P9_9P2000L)
		return r->type == P9_RLERROR;
	return r->type == P9_RERROR;
}

static void *
reader(void *arg)
{
	P9Client *c;
	uint8_t hdr[P9_HDRSZ], *buf;
	uint32_t size;
	uint16_t tag;
	P9Fcall f, *r;
	Req *q;

	c = arg;
	for(;;){
		if(readn(c->fd, hdr, P9_HDRSZ) < 0)
			break;
		size = p9_msgsize(hdr);
		if(p9_checksize(size, c->msize) < 0)
			break;
		tag = get16(hdr + 5);
		pthread_mutex_lock(&c->lk);
		q = tag < c->ntab ? c->tab[tag] : NULL;
		if(q == NULL || !q->busy || q->done || q->reading){
			pthread_mutex_unlock(&c->lk);
			break;
		}
		q->reading = 1;
		pthread_mutex_unlock(&c->lk);
		/*
		 * The request cannot go away: its caller sleeps until done,
		 * which only this thread or a hangup sets.
		 */
		if(q->buf != NULL && size <= q->len)
			buf = q->buf;
		else if(size <= Smallbuf)
			buf = c->small;
		else
			buf = c->big = emalloc(size);
		memcpy(buf, hdr, P9_HDRSZ);
		if(readn(c->fd, buf + P9_HDRSZ, size - P9_HDRSZ) < 0)
			break;
		r = q->r;
		/* Data may only point into the caller's buffer: ours is reused. */
		if(p9_unpack(buf, size, c->dialect, c->msize, &f) < 0 || !answers(&f, q->ttype, c->dialect) ||
		   (f.data != NULL && buf != q->buf)){
			p9_freefcall(&f);
			break;
		}
		free(c->big);
		c->big = NULL;
		if(c->trace != NULL)
			trace(c, "<-", &f);
		pthread_mutex_lock(&c->lk);
		if(q->done){
			/* hung up meanwhile */
			pthread_mutex_unlock(&c->lk);
			p9_freefcall(&f);
			break;
		}
		*r = f;
		q->done = 1;
		pthread_cond_signal(&q->cond);
		pthread_mutex_unlock(&c->lk);
	}
	hangup(c, 1);
	return NULL;
}

/* --- tags --- */

/*
 * A free tag for a request of type ttype answered into r (and buf).  The
 * fields are set under the lock, before the tag is busy: a reply that
 * comes early (a server answering what it has not been sent yet) finds
 * them.
 */
static Req *
gettag(P9Client *c, uint8_t ttype, P9Fcall *r, uint8_t *buf, size_t len)
{
	Req *q;
	int i, n;

	pthread_mutex_lock(&c->lk);
	for(;;){
		if(c->dead){
			pthread_mutex_unlock(&c->lk);
			seterr(EIO, "%s", Ehungup);
			return NULL;
		}
		if(c->free != NULL){
			q = c->free;
			c->free = q->next;
			break;
		}
		if(c->ntab < Maxtag){
			n = c->ntab == 0 ? 64 : c->ntab * 2;
			if(n > Maxtag)
				n = Maxtag;
			c->tab = erealloc(c->tab, n * sizeof c->tab[0]);
			for(i = n - 1; i >= c->ntab; i--){
				q = emalloc(sizeof *q);
				q->tag = i;
				pthread_cond_init(&q->cond, NULL);
				q->next = c->free;
				c->free = q;
				c->tab[i] = q;
			}
			c->ntab = n;
			continue;
		}
		c->nwaitfree++;
		pthread_cond_wait(&c->tagcond, &c->lk);
		c->nwaitfree--;
	}
	q->ttype = ttype;
	q->r = r;
	q->buf = buf;
	q->len = len;
	q->busy = 1;
	q->done = 0;
	q->reading = 0;
	q->err = 0;
	q->next = NULL;
	pthread_mutex_unlock(&c->lk);
	return q;
}

/* Called with c->lk held. */
static void
puttag(P9Client *c, Req *q)
{
	q->busy = 0;
	q->buf = NULL;
	q->r = NULL;
	q->next = c->free;
	c->free = q;
	if(c->nwaitfree > 0)
		pthread_cond_signal(&c->tagcond);
}

static int call(P9Client *c, const P9Fcall *t, P9Fcall *r, uint8_t *buf, size_t len, P9Intr *in);

/* --- the interface --- */

P9Client *
p9_client_new(int fd, size_t msize, int dialect)
{
	P9Client *c;
	int type;
	socklen_t sl;

	if(msize < P9_MINMSIZE || msize > 0x7fffffff){
		close(fd);
		seterr(EINVAL, "9P: msize %zu out of range", msize);
		return NULL;
	}
	if(dialect < -1 || dialect >= P9_NDIALECT){
		close(fd);
		seterr(EINVAL, "9P: unknown dialect %d", dialect);
		return NULL;
	}
	/* Ours now: not to be inherited by what the caller execs. */
	fcntl(fd, F_SETFD, FD_CLOEXEC);
	c = emalloc(sizeof *c);
	c->fd = fd;
	c->msize = msize;
	c->small = emalloc(Smallbuf);
	sl = sizeof type;
	c->issock = getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &sl) == 0;
	pthread_mutex_init(&c->lk, NULL);
	pthread_mutex_init(&c->wlk, NULL);
	pthread_cond_init(&c->tagcond, NULL);
	if(negotiate(c, dialect) < 0)
		goto err;
	if(pthread_create(&c->reader, NULL, reader, c) != 0){
		seterr(EAGAIN, "9P: cannot start the reader thread");
		goto err;
	}
	c->hasreader = 1;
	return c;
err:
	p9_client_free(c);
	return NULL;
}

void
p9_client_free(P9Client *c)
{
	int i;

	if(c == NULL)
		return;
	pthread_mutex_lock(&c->lk);
	c->closing = 1;
	pthread_mutex_unlock(&c->lk);
	shutdown(c->fd, SHUT_RDWR);
	/* A pipe has no shutdown: the reader sleeps in read(2), a cancellation point. */
	if(c->hasreader && !c->issock)
		pthread_cancel(c->reader);
	if(c->hasreader)
		pthread_join(c->reader, NULL);
	pthread_mutex_lock(&c->lk);
	c->dead = 1;
	failall(c, 1);
	pthread_mutex_unlock(&c->lk);
	close(c->fd);
	for(i = 0; i < c->ntab; i++)
		if(c->tab[i] != NULL){
			pthread_cond_destroy(&c->tab[i]->cond);
			free(c->tab[i]);
		}
	free(c->tab);
	free(c->fids);
	free(c->small);
	free(c->big);
	free(c->trace);
	pthread_cond_destroy(&c->tagcond);
	pthread_mutex_destroy(&c->wlk);
	pthread_mutex_destroy(&c->lk);
	free(c);
}

int
p9_client_dialect(P9Client *c)
{
	return c->dialect;
}

size_t
p9_client_msize(P9Client *c)
{
	return c->msize;
}

int
p9_client_dead(P9Client *c)
{
	int d;

	pthread_mutex_lock(&c->lk);
	d = c->dead;
	pthread_mutex_unlock(&c->lk);
	return d;
}

void
p9_client_onhangup(P9Client *c, void (*fn)(void *), void *arg)
{
	int dead;

	pthread_mutex_lock(&c->lk);
	c->onhangup = fn;
	c->hangarg = arg;
	dead = c->dead && !c->closing;
	pthread_mutex_unlock(&c->lk);
	/* Already hung up: the callback still comes, once. */
	if(dead && fn != NULL)
		fn(arg);
}

/*
 * Write t with tag.  A Twrite goes out as a packed header and the
 * caller's data in one writev, so the data is never copied.
 */
static int
sendreq(P9Client *c, const P9Fcall *t, uint16_t tag)
{
	P9Fcall h;
	uint8_t small[Smallbuf], *buf, *big;
	struct iovec iov[2];
	int n, niov, rv;

	big = NULL;
	buf = small;
	h = *t;
	h.tag = tag;
	if(t->type == P9_TWRITE){
		if((size_t)t->count > c->msize - P9_TWRITEHDRSZ)
			return seterr(EMSGSIZE, "9P: Twrite of %u bytes exceeds msize %zu", t->count, c->msize);
		h.count = 0;
		h.data = NULL;
		n = p9_pack(&h, c->dialect, small, sizeof small);
		if(n < 0)
			return -1;
		put32(small, n + t->count);
		put32(small + P9_TWRITEHDRSZ - 4, t->count);
		iov[0].iov_base = small;
		iov[0].iov_len = n;
		iov[1].iov_base = (void *)t->data;
		iov[1].iov_len = t->count;
		niov = t->count > 0 ? 2 : 1;
	}else{
		n = p9_pack(&h, c->dialect, small, sizeof small);
		if(n < 0 && errcode() == EMSGSIZE){
			buf = big = emalloc(c->msize);
			n = p9_pack(&h, c->dialect, big, c->msize);
		}
		if(n < 0){
			free(big);
			return -1;
		}
		iov[0].iov_base = buf;
		iov[0].iov_len = n;
		niov = 1;
	}
	pthread_mutex_lock(&c->wlk);
	if(c->trace != NULL){
		h.count = t->count;
		h.data = t->data;
		trace(c, "->", &h);
	}
	rv = writev_all(c, iov, niov);
	pthread_mutex_unlock(&c->wlk);
	free(big);
	if(rv < 0){
		/*
		 * A message may be half written: the conversation is lost.
		 * The reader sees the shutdown and hangs up; a pipe is hung
		 * up here.
		 */
		if(!c->issock || shutdown(c->fd, SHUT_RDWR) < 0)
			hangup(c, 0);
		return seterr(EIO, "%s", Ehungup);
	}
	return 0;
}

/*
 * Flush(5) the request q of an interrupted call: Tflush, and when the
 * Rflush comes the server has either answered q already (done) or never
 * will.  Called with c->lk held; returns with it held.
 */
static void
flushreq(P9Client *c, Req *q)
{
	P9Fcall t, r;

	pthread_mutex_unlock(&c->lk);
	memset(&t, 0, sizeof t);
	t.type = P9_TFLUSH;
	t.oldtag = q->tag;
	if(call(c, &t, &r, NULL, 0, NULL) == 0)
		p9_freefcall(&r);
	pthread_mutex_lock(&c->lk);
	/* A reader still busy with q's reply (sent late) delivers it or hangs up. */
	while(q->reading && !q->done)
		pthread_cond_wait(&q->cond, &c->lk);
	if(!q->done){
		q->done = 1;
		q->err = EINTR;
	}
}

static int
call(P9Client *c, const P9Fcall *t, P9Fcall *r, uint8_t *buf, size_t len, P9Intr *in)
{
	Req *q;
	int err;

	memset(r, 0, sizeof *r);
	if(buf != NULL && len < c->msize)
		return seterr(EINVAL, "9P: rpc: reply buffer of %zu bytes < msize %zu", len, c->msize);
	if(buf == NULL && (t->type == P9_TREAD || t->type == P9_TREADDIR))
		return seterr(EINVAL, "9P: rpc: %s needs a reply buffer", p9_typename(t->type));
	q = gettag(c, t->type, r, buf, len);
	if(q == NULL)
		return -1;
	if(sendreq(c, t, q->tag) < 0){
		err = errcode();
		pthread_mutex_lock(&c->lk);
		/*
		 * Not sent, or half sent.  A reader that took the tag (a
		 * server answering what it was never asked) finishes with it
		 * first: it delivers or hangs up, and either sets done.
		 */
		while(q->reading && !q->done)
			pthread_cond_wait(&q->cond, &c->lk);
		if(q->done && q->err == 0)
			p9_freefcall(r);
		memset(r, 0, sizeof *r);
		puttag(c, q);
		pthread_mutex_unlock(&c->lk);
		if(err == EIO)
			return seterr(EIO, "%s", Ehungup);
		return -1;
	}
	pthread_mutex_lock(&c->lk);
	if(in != NULL)
		in->q = q;
	while(!q->done){
		if(in != NULL && in->interrupted){
			flushreq(c, q);
			break;
		}
		pthread_cond_wait(&q->cond, &c->lk);
	}
	if(in != NULL)
		in->q = NULL;
	err = q->err;
	puttag(c, q);
	pthread_mutex_unlock(&c->lk);
	if(err == EINTR)
		return seterr(EINTR, "interrupted");
	if(err != 0)
		return seterr(err, "%s", Ehungup);
	if(r->type == P9_RERROR || r->type == P9_RLERROR){
		p9_seterrfcall(r);
		p9_freefcall(r);
		memset(r, 0, sizeof *r);
		return -1;
	}
	return 0;
}

static int
callable(const P9Fcall *t, P9Fcall *r)
{
	memset(r, 0, sizeof *r);
	/* Tversion is negotiation's, Tflush the client's own. */
	if(t->type == P9_TVERSION || t->type == P9_TFLUSH || (t->type & 1) || p9_typename(t->type) == NULL)
		return seterr(EINVAL, "9P: rpc: cannot send %s", p9_typename(t->type) ? p9_typename(t->type) : "that");
	return 0;
}

int
p9_client_rpc(P9Client *c, const P9Fcall *t, P9Fcall *r, uint8_t *buf, size_t len)
{
	if(callable(t, r) < 0)
		return -1;
	return call(c, t, r, buf, len, NULL);
}

int
p9_client_rpcintr(P9Client *c, const P9Fcall *t, P9Fcall *r, uint8_t *buf, size_t len, P9Intr *in)
{
	if(callable(t, r) < 0)
		return -1;
	return call(c, t, r, buf, len, in);
}

void
p9_client_interrupt(P9Client *c, P9Intr *in)
{
	pthread_mutex_lock(&c->lk);
	in->interrupted = 1;
	if(in->q != NULL)
		pthread_cond_signal(&((Req *)in->q)->cond);
	pthread_mutex_unlock(&c->lk);
}

void
p9_client_trace(P9Client *c, const char *name)
{
	free(c->trace);
	c->trace = name != NULL ? estrdup(name) : NULL;
}

uint32_t
p9_client_newfid(P9Client *c)
{
	uint32_t fid;

	pthread_mutex_lock(&c->lk);
	if(c->nfids > 0)
		fid = c->fids[--c->nfids];
	else
		fid = c->nextfid++;
	pthread_mutex_unlock(&c->lk);
	return fid;
}

void
p9_client_putfid(P9Client *c, uint32_t fid)
{
	if(fid == P9_NOFID)
		return;
	pthread_mutex_lock(&c->lk);
	if(c->nfids == c->capfids){
		c->capfids = c->capfids == 0 ? 64 : c->capfids * 2;
		c->fids = erealloc(c->fids, c->capfids * sizeof c->fids[0]);
	}
	c->fids[c->nfids++] = fid;
	pthread_mutex_unlock(&c->lk);
}
