/*
 * t_9pclient.c: the 9P client (lib/9p/client.c) against a scripted peer:
 * a thread on the other end of a real socketpair that reads requests with
 * the real codec and answers as each case says (well, badly, out of
 * order, or not at all).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "9p.h"
#include "tap.h"

enum { MSIZE = 65536 };

/* --- the peer's side of the wire --- */

static int
readall(int fd, uint8_t *p, size_t n)
{
	ssize_t m;

	while(n > 0){
		m = read(fd, p, n);
		if(m < 0 && errno == EINTR)
			continue;
		if(m <= 0)
			return -1;
		p += m;
		n -= m;
	}
	return 0;
}

static int
writeall(int fd, const uint8_t *p, size_t n)
{
	ssize_t m;

	while(n > 0){
		m = write(fd, p, n);
		if(m < 0 && errno == EINTR)
			continue;
		if(m <= 0)
			return -1;
		p += m;
		n -= m;
	}
	return 0;
}

/* Read one request into buf (MSIZE bytes) and decode it; -1 at EOF. */
static int
precv(int fd, uint8_t *buf, int dialect, P9Fcall *f)
{
	uint32_t size;

	if(readall(fd, buf, 4) < 0)
		return -1;
	size = p9_msgsize(buf);
	if(size < 7 || size > MSIZE || readall(fd, buf + 4, size - 4) < 0)
		return -1;
	return p9_unpack(buf, size, dialect, MSIZE, f);
}

static int
psend(int fd, const P9Fcall *f, int dialect)
{
	uint8_t buf[MSIZE];
	int n;

	n = p9_pack(f, dialect, buf, sizeof buf);
	if(n < 0)
		return -1;
	return writeall(fd, buf, n);
}

static void
rversion(int fd, uint32_t msize, const char *v)
{
	P9Fcall f;

	memset(&f, 0, sizeof f);
	f.type = P9_RVERSION;
	f.tag = P9_NOTAG;
	f.msize = msize;
	f.version = (char *)v;
	psend(fd, &f, P9_9P2000);
}

/* Answer Tversion as told; returns the version the client asked for (static). */
static char lastversion[64];
static int nversions;

static int
answerversion(int fd, uint32_t msize, const char *v)
{
	uint8_t *buf;
	P9Fcall f;

	buf = malloc(MSIZE);
	if(precv(fd, buf, P9_9P2000, &f) < 0 || f.type != P9_TVERSION){
		free(buf);
		return -1;
	}
	snprintf(lastversion, sizeof lastversion, "%s", f.version);
	nversions++;
	p9_freefcall(&f);
	free(buf);
	rversion(fd, msize, v);
	return 0;
}

/* --- a client connected to a peer thread --- */

typedef struct Peer Peer;
struct Peer {
	int fd;
	int dialect;
	void (*fn)(Peer *);
	pthread_t th;
	int arg;
};

static int hangups;
static pthread_mutex_t hlk = PTHREAD_MUTEX_INITIALIZER;

static void
onhangup(void *arg)
{
	pthread_mutex_lock(&hlk);
	hangups++;
	pthread_mutex_unlock(&hlk);
}

static void *
peermain(void *arg)
{
	Peer *p;

	p = arg;
	if(answerversion(p->fd, MSIZE, p9_versionstr(p->dialect)) == 0)
		p->fn(p);
	return NULL;
}

static P9Client *
start(Peer *p, int dialect, void (*fn)(Peer *))
{
	int sv[2];
	P9Client *c;

	socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv);
	p->fd = sv[1];
	p->dialect = dialect;
	p->fn = fn;
	pthread_create(&p->th, NULL, peermain, p);
	c = p9_client_new(sv[0], MSIZE, dialect);
	hangups = 0;
	if(c != NULL)
		p9_client_onhangup(c, onhangup, NULL);
	return c;
}

static void
stop(Peer *p, P9Client *c)
{
	p9_client_free(c);
	pthread_join(p->th, NULL);
	close(p->fd);
}

/* A Twalk that clones fid to itself: the peer echoes fid as the qid path. */
static int
walkrpc(P9Client *c, uint32_t fid, P9Fcall *r)
{
	P9Fcall t;

	memset(&t, 0, sizeof t);
	t.type = P9_TWALK;
	t.fid = fid;
	t.newfid = fid;
	return p9_client_rpc(c, &t, r, NULL, 0);
}

static void
rwalk(int fd, int dialect, uint16_t tag, uint64_t path)
{
	P9Fcall f;

	memset(&f, 0, sizeof f);
	f.type = P9_RWALK;
	f.tag = tag;
	f.nwqid = 1;
	f.wqid[0].path = path;
	psend(fd, &f, dialect);
}

/* --- negotiation --- */

typedef struct Neg Neg;
struct Neg {
	int fd;
	const char *first, *second;
	uint32_t msize;
};

static void *
negpeer(void *arg)
{
	Neg *n;

	n = arg;
	nversions = 0;
	if(answerversion(n->fd, n->msize, n->first) == 0 && n->second != NULL)
		answerversion(n->fd, n->msize, n->second);
	return NULL;
}

static P9Client *
negotiate(const char *first, const char *second, uint32_t msize, int dialect, pthread_t *th, int *peerfd)
{
	static Neg n;
	int sv[2];

	socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv);
	n.fd = sv[1];
	n.first = first;
	n.second = second;
	n.msize = msize;
	*peerfd = sv[1];
	pthread_create(th, NULL, negpeer, &n);
	return p9_client_new(sv[0], MSIZE, dialect);
}

static void
testnegotiate(void)
{
	P9Client *c;
	pthread_t th;
	int fd;

	c = negotiate("9P2000.L", NULL, 8192, -1, &th, &fd);
	pthread_join(th, NULL);
	ok(c != NULL, "negotiate: 9P2000.L accepted");
	if(c != NULL){
		is_int(p9_client_dialect(c), P9_9P2000L, "negotiate: dialect .L");
		is_int(p9_client_msize(c), 8192, "negotiate: msize clamped to the server's");
		is_str(lastversion, "9P2000.L", "negotiate: .L asked first");
		p9_client_free(c);
	}
	close(fd);

	c = negotiate("9P2000", NULL, 1 << 20, -1, &th, &fd);
	pthread_join(th, NULL);
	ok(c != NULL, "negotiate: server answers 9P2000");
	if(c != NULL){
		is_int(p9_client_dialect(c), P9_9P2000, "negotiate: dialect 9P2000");
		is_int(p9_client_msize(c), MSIZE, "negotiate: a larger server msize is not taken");
		is_int(nversions, 1, "negotiate: one Tversion");
		p9_client_free(c);
	}
	close(fd);

	c = negotiate("unknown", "9P2000", 4096, -1, &th, &fd);
	pthread_join(th, NULL);
	ok(c != NULL, "negotiate: unknown, then 9P2000");
	if(c != NULL){
		is_int(p9_client_dialect(c), P9_9P2000, "negotiate: fell back to 9P2000");
		is_str(lastversion, "9P2000", "negotiate: second Tversion asks 9P2000");
		p9_client_free(c);
	}
	close(fd);

	c = negotiate("unknown", "unknown", 4096, -1, &th, &fd);
	pthread_join(th, NULL);
	ok(c == NULL, "negotiate: unknown to both fails");
	is_int(errcode(), EPROTONOSUPPORT, "negotiate: EPROTONOSUPPORT");
	close(fd);

	c = negotiate("9P2000", NULL, 4096, P9_9P2000L, &th, &fd);
	pthread_join(th, NULL);
	ok(c == NULL, "negotiate: explicit .L refused when the server says 9P2000");
	close(fd);

	c = negotiate("9P2000.u", NULL, 4096, P9_9P2000U, &th, &fd);
	pthread_join(th, NULL);
	ok(c != NULL && p9_client_dialect(c) == P9_9P2000U, "negotiate: explicit .u");
	p9_client_free(c);
	close(fd);

	/* The server hangs up instead of answering. */
	{
		int sv[2];

		socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv);
		close(sv[1]);
		c = p9_client_new(sv[0], MSIZE, -1);
		ok(c == NULL, "negotiate: EOF fails");
	}
	/* An Rerror answers the Tversion. */
	{
		int sv[2];
		P9Fcall f;
		uint8_t buf[MSIZE];

		socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv);
		memset(&f, 0, sizeof f);
		f.type = P9_RERROR;
		f.tag = P9_NOTAG;
		f.ename = "no way";
		psend(sv[1], &f, P9_9P2000);
		c = p9_client_new(sv[0], MSIZE, -1);
		ok(c == NULL, "negotiate: Rerror fails");
		ok(strstr(errtext(), "no way") != NULL, "negotiate: Rerror text kept (%s)", errtext());
		(void)buf;
		close(sv[1]);
	}
	/* Bad arguments consume the fd too. */
	{
		int sv[2];

		socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv);
		c = p9_client_new(sv[0], 100, -1);
		ok(c == NULL && errcode() == EINVAL, "negotiate: msize below the minimum refused");
		ok(fcntl(sv[0], F_GETFD) < 0, "negotiate: fd consumed on failure");
		close(sv[1]);
	}
}

/* --- out of order, errors --- */

typedef struct Call Call;
struct Call {
	P9Client *c;
	uint32_t fid;
	int rv;
	int code;
	uint64_t path;
	pthread_t th;
};

static void *
callwalk(void *arg)
{
	Call *k;
	P9Fcall r;

	k = arg;
	k->rv = walkrpc(k->c, k->fid, &r);
	k->code = k->rv < 0 ? errcode() : 0;
	if(k->rv == 0){
		k->path = r.nwqid == 1 ? r.wqid[0].path : ~0ULL;
		p9_freefcall(&r);
	}
	return NULL;
}

enum { NCALL = 4 };

/* Read NCALL walks, answer them in reverse order. */
static void
reversepeer(Peer *p)
{
	uint8_t *buf;
	P9Fcall f[NCALL];
	int i, n;

	buf = malloc(MSIZE);
	for(n = 0; n < NCALL; n++)
		if(precv(p->fd, buf, p->dialect, &f[n]) < 0)
			goto out;
	for(i = NCALL - 1; i >= 0; i--)
		rwalk(p->fd, p->dialect, f[i].tag, 1000 + f[i].fid);
out:
	for(i = 0; i < n; i++)
		p9_freefcall(&f[i]);
	/* wait for the client to go away */
	while(read(p->fd, buf, MSIZE) > 0)
		;
	free(buf);
}

static void
testorder(void)
{
	Peer p;
	P9Client *c;
	Call k[NCALL];
	int i, good;

	c = start(&p, P9_9P2000L, reversepeer);
	if(!ok(c != NULL, "order: client up"))
		return;
	for(i = 0; i < NCALL; i++){
		k[i].c = c;
		k[i].fid = i;
		pthread_create(&k[i].th, NULL, callwalk, &k[i]);
	}
	good = 0;
	for(i = 0; i < NCALL; i++){
		pthread_join(k[i].th, NULL);
		good += k[i].rv == 0 && k[i].path == 1000 + (uint64_t)i;
	}
	is_int(good, NCALL, "order: replies in reverse order reach their callers");
	stop(&p, c);
	is_int(hangups, 0, "order: no hangup, and free does not call the callback");
}

/* Answer the first request with an error reply, the second too. */
static void
errpeer(Peer *p)
{
	uint8_t *buf;
	P9Fcall f, e;

	buf = malloc(MSIZE);
	while(precv(p->fd, buf, p->dialect, &f) >= 0){
		memset(&e, 0, sizeof e);
		e.tag = f.tag;
		if(p->dialect == P9_9P2000L){
			e.type = P9_RLERROR;
			e.errnum = f.fid == 1 ? ENOENT : 999999;
		}else{
			e.type = P9_RERROR;
			e.ename = f.fid == 1 ? "file does not exist: 'x'" : "something odd";
		}
		p9_freefcall(&f);
		psend(p->fd, &e, p->dialect);
	}
	free(buf);
}

static void
testerrors(void)
{
	Peer p;
	P9Client *c;
	P9Fcall r;
	int rv;

	c = start(&p, P9_9P2000L, errpeer);
	if(!ok(c != NULL, "errors: .L client up"))
		return;
	rv = walkrpc(c, 1, &r);
	ok(rv == -1, "errors: Rlerror is -1");
	is_int(errcode(), ENOENT, "errors: Rlerror code");
	ok(r.mem == NULL, "errors: nothing to free after an error");
	rv = walkrpc(c, 2, &r);
	is_int(errcode(), EIO, "errors: an Rlerror code beyond errno range is EIO");
	ok(!p9_client_dead(c), "errors: the conversation survives error replies");
	stop(&p, c);

	c = start(&p, P9_9P2000, errpeer);
	if(!ok(c != NULL, "errors: 9P2000 client up"))
		return;
	rv = walkrpc(c, 1, &r);
	ok(rv == -1, "errors: Rerror is -1");
	is_int(errcode(), ENOENT, "errors: Rerror code from the Plan 9 text");
	is_str(errtext(), "file does not exist: 'x'", "errors: Rerror text kept");
	walkrpc(c, 2, &r);
	is_int(errcode(), EIO, "errors: unknown text is EIO");
	is_str(errtext(), "something odd", "errors: unknown text kept");
	stop(&p, c);
}

/* --- hangups --- */

static int hangmode;

/* Read NCALL requests, then misbehave as hangmode says. */
static void
badpeer(Peer *p)
{
	uint8_t *buf, junk[32];
	P9Fcall f[NCALL], g;
	int i, n;

	buf = malloc(MSIZE);
	for(n = 0; n < NCALL; n++)
		if(precv(p->fd, buf, p->dialect, &f[n]) < 0)
			goto out;
	switch(hangmode){
	case 0:	/* garbage: an Rwalk claiming 5 qids with 1 */
		memset(junk, 0, sizeof junk);
		junk[0] = 7 + 2 + 13;
		junk[4] = P9_RWALK;
		junk[5] = f[0].tag;
		junk[6] = f[0].tag >> 8;
		junk[7] = 5;
		writeall(p->fd, junk, junk[0]);
		break;
	case 1:	/* a tag nobody asked */
		rwalk(p->fd, p->dialect, 4321, 1);
		break;
	case 2:	/* the wrong reply type */
		memset(&g, 0, sizeof g);
		g.type = P9_RCLUNK;
		g.tag = f[0].tag;
		psend(p->fd, &g, p->dialect);
		break;
	case 3:	/* end of file mid-request: answer one, then close */
		rwalk(p->fd, p->dialect, f[0].tag, 1000 + f[0].fid);
		shutdown(p->fd, SHUT_RDWR);
		break;
	case 4:	/* a size beyond msize */
		memset(junk, 0, sizeof junk);
		junk[0] = 0xff;
		junk[1] = 0xff;
		junk[2] = 0xff;
		junk[4] = P9_RWALK;
		writeall(p->fd, junk, 7);
		break;
	}
out:
	for(i = 0; i < n; i++)
		p9_freefcall(&f[i]);
	free(buf);
	/* keep the socket open: the client must hang up by itself */
	while(read(p->fd, junk, sizeof junk) > 0)
		;
}

static void
testhangup(int mode, const char *what)
{
	Peer p;
	P9Client *c;
	Call k[NCALL];
	P9Fcall r;
	int i, eio, answered;

	hangmode = mode;
	c = start(&p, P9_9P2000L, badpeer);
	if(!ok(c != NULL, "%s: client up", what))
		return;
	for(i = 0; i < NCALL; i++){
		k[i].c = c;
		k[i].fid = i;
		pthread_create(&k[i].th, NULL, callwalk, &k[i]);
	}
	eio = answered = 0;
	for(i = 0; i < NCALL; i++){
		pthread_join(k[i].th, NULL);
		eio += k[i].rv < 0 && k[i].code == EIO;
		answered += k[i].rv == 0;
	}
	if(mode == 3)
		ok(eio == NCALL - 1 && answered == 1, "%s: the answered call succeeds, the rest fail with EIO", what);
	else
		ok(eio == NCALL, "%s: every waiting call fails with EIO (%d)", what, eio);
	ok(p9_client_dead(c), "%s: client dead", what);
	ok(walkrpc(c, 9, &r) < 0 && errcode() == EIO, "%s: a later call fails with EIO", what);
	ok(strstr(errtext(), "hungup") != NULL, "%s: says hungup (%s)", what, errtext());
	stop(&p, c);
	/* The reader calls it after waking the callers; free joins the reader. */
	pthread_mutex_lock(&hlk);
	ok(hangups == 1, "%s: hangup callback once (%d)", what, hangups);
	pthread_mutex_unlock(&hlk);
}

/* --- data --- */

static void
iopeer(Peer *p)
{
	uint8_t *buf;
	P9Fcall f, r;
	uint32_t i;

	buf = malloc(MSIZE);
	while(precv(p->fd, buf, p->dialect, &f) >= 0){
		memset(&r, 0, sizeof r);
		r.tag = f.tag;
		if(f.type == P9_TREAD){
			r.type = P9_RREAD;
			r.count = f.count;
			for(i = 0; i < f.count; i++)
				buf[P9_RREADHDRSZ + i] = (uint8_t)(i * 7 + f.offset);
			r.data = buf + P9_RREADHDRSZ;
		}else if(f.type == P9_TWRITE){
			r.type = P9_RWRITE;
			r.count = f.count;
			/* a checksum of the data comes back as the count's complement */
			for(i = 0; i < f.count; i++)
				if(f.data[i] != (uint8_t)(i * 3))
					r.count = 0;
		}else{
			r.type = f.type + 1;
		}
		p9_freefcall(&f);
		psend(p->fd, &r, p->dialect);
	}
	free(buf);
}

static void
testio(void)
{
	Peer p;
	P9Client *c;
	P9Fcall t, r;
	uint8_t *buf, *data;
	uint32_t i, n, good;

	c = start(&p, P9_9P2000L, iopeer);
	if(!ok(c != NULL, "io: client up"))
		return;
	buf = malloc(MSIZE);
	n = MSIZE - P9_IOHDRSZ;
	memset(&t, 0, sizeof t);
	t.type = P9_TREAD;
	t.offset = 5;
	t.count = n;
	ok(p9_client_rpc(c, &t, &r, buf, MSIZE) == 0, "io: Tread of msize - IOHDRSZ");
	ok(r.data == buf + P9_RREADHDRSZ, "io: Rread data lands in the caller's buffer");
	good = r.count == n;
	for(i = 0; good && i < n; i++)
		good = r.data[i] == (uint8_t)(i * 7 + 5);
	ok(good, "io: Rread data intact");
	p9_freefcall(&r);
	ok(p9_client_rpc(c, &t, &r, NULL, 0) < 0 && errcode() == EINVAL, "io: Tread without a buffer refused");
	ok(p9_client_rpc(c, &t, &r, buf, 100) < 0 && errcode() == EINVAL, "io: a buffer below msize refused");

	data = malloc(n + 1);
	for(i = 0; i < n + 1; i++)
		data[i] = i * 3;
	memset(&t, 0, sizeof t);
	t.type = P9_TWRITE;
	t.count = n;
	t.data = data;
	ok(p9_client_rpc(c, &t, &r, NULL, 0) == 0 && r.count == n, "io: Twrite of msize - IOHDRSZ, data intact");
	t.count = MSIZE;
	ok(p9_client_rpc(c, &t, &r, NULL, 0) < 0 && errcode() == EMSGSIZE, "io: Twrite beyond msize refused");
	ok(!p9_client_dead(c), "io: refused requests do not hang up");
	t.count = 0;
	ok(p9_client_rpc(c, &t, &r, NULL, 0) == 0 && r.count == 0, "io: empty Twrite");
	memset(&t, 0, sizeof t);
	t.type = P9_RWALK;
	ok(p9_client_rpc(c, &t, &r, NULL, 0) < 0 && errcode() == EINVAL, "io: an R-message is not sent");
	memset(&t, 0, sizeof t);
	t.type = P9_TSTAT;
	ok(p9_client_rpc(c, &t, &r, NULL, 0) < 0 && errcode() == EINVAL, "io: a message of another dialect is not sent");
	ok(!p9_client_dead(c), "io: still alive");
	free(data);
	free(buf);
	stop(&p, c);
}

/* --- interrupts: Tflush --- */

static int flushmode;
static sem_t gotreq;
static int flushok;	/* the peer saw a Tflush naming the held request */

/* Hold a Twalk; on the Tflush for it answer as flushmode says. */
static void
flushpeer(Peer *p)
{
	uint8_t *buf;
	P9Fcall a, f, r;

	buf = malloc(MSIZE);
	while(precv(p->fd, buf, p->dialect, &a) >= 0){
		sem_post(&gotreq);
		if(precv(p->fd, buf, p->dialect, &f) < 0)
			break;
		flushok = f.type == P9_TFLUSH && f.oldtag == a.tag;
		if(flushmode == 1)	/* the answer came first */
			rwalk(p->fd, p->dialect, a.tag, 1000 + a.fid);
		memset(&r, 0, sizeof r);
		r.type = P9_RFLUSH;
		r.tag = f.tag;
		psend(p->fd, &r, p->dialect);
		p9_freefcall(&a);
		p9_freefcall(&f);
	}
	free(buf);
}

typedef struct Icall Icall;
struct Icall {
	P9Client *c;
	P9Intr in;
	int rv, code;
	uint64_t path;
};

static void *
callintr(void *arg)
{
	Icall *k;
	P9Fcall t, r;

	k = arg;
	memset(&t, 0, sizeof t);
	t.type = P9_TWALK;
	t.fid = 7;
	t.newfid = 7;
	k->rv = p9_client_rpcintr(k->c, &t, &r, NULL, 0, &k->in);
	k->code = k->rv < 0 ? errcode() : 0;
	if(k->rv == 0){
		k->path = r.wqid[0].path;
		p9_freefcall(&r);
	}
	return NULL;
}

static void
testintr(void)
{
	Peer p;
	P9Client *c;
	Icall k;
	pthread_t th;
	P9Fcall t, r;

	sem_init(&gotreq, 0, 0);
	c = start(&p, P9_9P2000L, flushpeer);
	if(!ok(c != NULL, "interrupt: client up"))
		return;
	memset(&t, 0, sizeof t);
	t.type = P9_TFLUSH;
	ok(p9_client_rpc(c, &t, &r, NULL, 0) < 0 && errcode() == EINVAL, "interrupt: Tflush is the client's own");

	flushmode = 0;
	memset(&k, 0, sizeof k);
	k.c = c;
	pthread_create(&th, NULL, callintr, &k);
	sem_wait(&gotreq);
	p9_client_interrupt(c, &k.in);
	pthread_join(th, NULL);
	ok(flushok, "interrupt: a Tflush names the waiting request");
	ok(k.rv < 0 && k.code == EINTR, "interrupt: the call fails with EINTR after the Rflush");

	flushmode = 1;
	memset(&k, 0, sizeof k);
	k.c = c;
	pthread_create(&th, NULL, callintr, &k);
	sem_wait(&gotreq);
	p9_client_interrupt(c, &k.in);
	pthread_join(th, NULL);
	ok(k.rv == 0 && k.path == 1007, "interrupt: an answer before the Rflush stands");

	/* Interrupted before it is made: sent, flushed at once. */
	flushmode = 0;
	memset(&k, 0, sizeof k);
	k.c = c;
	p9_client_interrupt(c, &k.in);
	callintr(&k);
	ok(k.rv < 0 && k.code == EINTR, "interrupt: before the call, it is flushed at once");
	ok(!p9_client_dead(c), "interrupt: the conversation goes on");
	stop(&p, c);
	sem_destroy(&gotreq);
}

/* --- fids --- */

static void
testfids(void)
{
	Peer p;
	P9Client *c;
	uint32_t a, b, d;

	c = start(&p, P9_9P2000L, iopeer);
	if(!ok(c != NULL, "fids: client up"))
		return;
	a = p9_client_newfid(c);
	b = p9_client_newfid(c);
	ok(a != b && a != P9_NOFID && b != P9_NOFID, "fids: distinct");
	p9_client_putfid(c, a);
	d = p9_client_newfid(c);
	is_int(d, a, "fids: a freed number is reused");
	stop(&p, c);
}

/* --- load: many threads, many calls, replies out of order --- */

enum { NTHREAD = 100, NRPC = 1000, BATCH = 64 };

static void
loadpeer(Peer *p)
{
	uint8_t *buf;
	P9Fcall f[BATCH];
	struct pollfd pfd;
	int n, i;

	buf = malloc(MSIZE);
	for(;;){
		/* Take what has arrived (at least one), answer it backwards. */
		n = 0;
		do{
			if(precv(p->fd, buf, p->dialect, &f[n]) < 0)
				goto out;
			n++;
			pfd.fd = p->fd;
			pfd.events = POLLIN;
		}while(n < BATCH && poll(&pfd, 1, 0) == 1);
		for(i = n - 1; i >= 0; i--){
			rwalk(p->fd, p->dialect, f[i].tag, (uint64_t)f[i].fid * 3);
			p9_freefcall(&f[i]);
		}
	}
out:
	free(buf);
}

static void *
loadthread(void *arg)
{
	Call *k;
	P9Fcall r;
	uint32_t fid;
	int i;

	k = arg;
	k->rv = 0;
	for(i = 0; i < NRPC; i++){
		fid = k->fid * NRPC + i;
		if(walkrpc(k->c, fid, &r) < 0 || r.nwqid != 1 || r.wqid[0].path != (uint64_t)fid * 3)
			k->rv++;
		p9_freefcall(&r);
	}
	return NULL;
}

static void
testload(void)
{
	Peer p;
	P9Client *c;
	static Call k[NTHREAD];
	int i, bad;

	c = start(&p, P9_9P2000, loadpeer);
	if(!ok(c != NULL, "load: client up"))
		return;
	for(i = 0; i < NTHREAD; i++){
		k[i].c = c;
		k[i].fid = i;
		pthread_create(&k[i].th, NULL, loadthread, &k[i]);
	}
	bad = 0;
	for(i = 0; i < NTHREAD; i++){
		pthread_join(k[i].th, NULL);
		bad += k[i].rv;
	}
	is_int(bad, 0, "load: 100 threads x 1000 rpcs, every reply to its caller");
	stop(&p, c);
	is_int(hangups, 0, "load: no hangup");
}

int
main(void)
{
	testnegotiate();
	testorder();
	testerrors();
	testhangup(0, "garbage reply");
	testhangup(1, "unknown tag");
	testhangup(2, "wrong reply type");
	testhangup(3, "EOF mid-request");
	testhangup(4, "oversized reply");
	testio();
	testintr();
	testfids();
	testload();
	return done_testing();
}
