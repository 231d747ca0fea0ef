/*
 * p9mux: a raw 9P client for the srv tests, written apart from lib/9p.
 * It speaks whatever the server grants (9P2000.L or 9P2000) and prints
 * what it got, so a test compares text.  Every run ends within 20 s.
 *
 *	p9mux ver SOCK VERSION MSIZE	print the Rversion: "VERSION MSIZE"
 *	p9mux cat SOCK PATH		print the file at PATH
 *	p9mux overlap SOCK PATH1 PATH2	two connections using the same tags
 *					and fids at once, requests pipelined
 *	p9mux flush SOCK		flush a read of p9echo's block file
 *	p9mux hang SOCK			leave with a read in flight and 3 fids
 *	p9mux errors SOCK		what the multiplexer itself refuses
 *	p9mux stuck SOCK PATH N FILE	send N reads of msize and read no reply
 *					until FILE exists; print how many came
 *	p9mux fids SOCK N		clone the root fid N times (48 walks in
 *					flight); print how many took and the
 *					first refusal
 */
#include <errno.h>
#include <signal.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

enum {
	Rlerror = 7,
	Tlopen = 12,
	Tversion = 100,
	Tattach = 104,
	Rerror = 107,
	Tflush = 108,
	Twalk = 110,
	Topen = 112,
	Tread = 116,
	Tclunk = 120,
	Maxmsg = (2 << 20) + 64,
	NOFID = -1,
};

typedef struct Msg Msg;
struct Msg {
	uint8_t *b;
	size_t n;
};

static int dotl;	/* the server granted 9P2000.L */
static uint32_t msize = 8192;

static void
die(const char *s)
{
	printf("error: %s\n", s);
	exit(1);
}

static void
p8(Msg *m, int v)
{
	m->b[m->n++] = v;
}

static void
p16(Msg *m, int v)
{
	p8(m, v & 0xff);
	p8(m, v >> 8 & 0xff);
}

static void
p32(Msg *m, uint32_t v)
{
	p16(m, v & 0xffff);
	p16(m, v >> 16);
}

static void
p64(Msg *m, uint64_t v)
{
	p32(m, v & 0xffffffff);
	p32(m, v >> 32);
}

static void
pstr(Msg *m, const char *s)
{
	size_t n = strlen(s);

	p16(m, n);
	memcpy(m->b + m->n, s, n);
	m->n += n;
}

static uint32_t
g32(const uint8_t *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

static int
g16(const uint8_t *p)
{
	return p[0] | p[1] << 8;
}

static Msg
begin(int type, int tag)
{
	static uint8_t buf[65536];
	Msg m;

	m.b = buf;
	m.n = 4;
	p8(&m, type);
	p16(&m, tag);
	return m;
}

static void
send1(int fd, Msg *m)
{
	m->b[0] = m->n;
	m->b[1] = m->n >> 8;
	m->b[2] = m->n >> 16;
	m->b[3] = m->n >> 24;
	if(write(fd, m->b, m->n) != (ssize_t)m->n){
		/* the other end closed first: the same news as an end of file */
		if(errno == EPIPE || errno == ECONNRESET)
			die("hung up");
		die("write");
	}
}

/* One message; NULL at end of file. */
static uint8_t *
recv1(int fd)
{
	static uint8_t *buf;
	size_t got, n;
	ssize_t k;

	if(buf == NULL)
		buf = malloc(Maxmsg);
	for(got = 0, n = 4; got < n;){
		k = read(fd, buf + got, n - got);
		if(k <= 0)
			return NULL;
		got += k;
		if(got == 4){
			n = g32(buf);
			if(n < 7 || n > Maxmsg)
				die("bad reply size");
		}
	}
	return buf;
}

/* "" for a success of the wanted type, else the error as text. */
static const char *
errof(const uint8_t *r, int want)
{
	static char s[300];
	int n;

	if(r == NULL)
		return "hung up";
	if(r[4] == Rerror){
		n = g16(r + 7);
		snprintf(s, sizeof s, "%.*s", n < 256 ? n : 256, (const char *)r + 9);
		return s;
	}
	if(r[4] == Rlerror){
		snprintf(s, sizeof s, "%s", strerror(g32(r + 7)));
		return s;
	}
	if(r[4] != want + 1){
		snprintf(s, sizeof s, "unexpected type %d", r[4]);
		return s;
	}
	return "";
}

static uint8_t *
rpc(int fd, Msg *m, int want)
{
	uint8_t *r;
	const char *e;

	send1(fd, m);
	r = recv1(fd);
	e = errof(r, want);
	if(e[0] != 0)
		die(e);
	return r;
}

static int
dial(const char *path)
{
	struct sockaddr_un sun;
	int fd;

	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof sun.sun_path, "%s", path);
	/* A path too long for sun_path: through an O_PATH fd of the socket. */
	fd = 0;
	if(strlen(path) >= sizeof sun.sun_path){
		fd = open(path, O_PATH);
		snprintf(sun.sun_path, sizeof sun.sun_path, "/proc/self/fd/%d", fd);
	}
	if(fd >= 0)
		fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if(fd < 0 || connect(fd, (struct sockaddr *)&sun, sizeof sun) < 0){
		printf("error: dial %s: %s\n", path, strerror(errno));
		exit(1);
	}
	return fd;
}

static void
version(int fd, const char *v, uint32_t ms)
{
	uint8_t *r;
	Msg m;
	int n;

	m = begin(Tversion, 0xffff);
	p32(&m, ms);
	pstr(&m, v);
	r = rpc(fd, &m, Tversion);
	msize = g32(r + 7);
	n = g16(r + 11);
	dotl = n == 8 && memcmp(r + 13, "9P2000.L", 8) == 0;
}

static void
tattach(Msg *m, int fid, const char *uname)
{
	p32(m, fid);
	p32(m, NOFID);
	pstr(m, uname);
	pstr(m, getenv("ANAME") != NULL ? getenv("ANAME") : "");
	if(dotl)
		p32(m, getuid());
}

static void
attach(int fd, int tag, int fid)
{
	Msg m;

	m = begin(Tattach, tag);
	tattach(&m, fid, "p9mux");
	rpc(fd, &m, Tattach);
}

/* Twalk fid newfid along path (elements split at '/'). */
static void
twalk(Msg *m, int fid, int newfid, const char *path)
{
	char buf[1024], *p, *e[16];
	int n;

	snprintf(buf, sizeof buf, "%s", path);
	n = 0;
	for(p = strtok(buf, "/"); p != NULL && n < 16; p = strtok(NULL, "/"))
		e[n++] = p;
	p32(m, fid);
	p32(m, newfid);
	p16(m, n);
	for(int i = 0; i < n; i++)
		pstr(m, e[i]);
}

static void
walk(int fd, int tag, int fid, int newfid, const char *path)
{
	uint8_t *r;
	Msg m;
	int want;

	m = begin(Twalk, tag);
	twalk(&m, fid, newfid, path);
	want = g16(m.b + 15);
	r = rpc(fd, &m, Twalk);
	if(g16(r + 7) != want)
		die("file does not exist (partial walk)");
}

static void
topen(Msg *m, int fid)
{
	p32(m, fid);
	if(dotl)
		p32(m, 0);
	else
		p8(m, 0);
}

static void
open1(int fd, int tag, int fid)
{
	Msg m;

	m = begin(dotl ? Tlopen : Topen, tag);
	topen(&m, fid);
	rpc(fd, &m, dotl ? Tlopen : Topen);
}

static void
tread(Msg *m, int fid, uint64_t off, uint32_t count)
{
	p32(m, fid);
	p64(m, off);
	p32(m, count);
}

static void
clunk(int fd, int tag, int fid)
{
	Msg m;

	m = begin(Tclunk, tag);
	p32(&m, fid);
	rpc(fd, &m, Tclunk);
}

/* Read all of fid, printed with prefix. */
static void
cat(int fd, int tag, int fid, const char *prefix)
{
	uint64_t off;
	uint8_t *r;
	uint32_t n;
	Msg m;

	for(off = 0;; off += n){
		m = begin(Tread, tag);
		tread(&m, fid, off, msize - 24);
		r = rpc(fd, &m, Tread);
		n = g32(r + 7);
		if(n == 0)
			break;
		printf("%s%.*s", prefix, (int)n, (const char *)r + 11);
	}
}

static int
docat(char **argv)
{
	int fd;

	fd = dial(argv[0]);
	version(fd, "9P2000.L", 1 << 20);
	attach(fd, 1, 0);
	walk(fd, 1, 0, 1, argv[1]);
	open1(fd, 1, 1);
	cat(fd, 1, 1, "");
	clunk(fd, 1, 1);
	clunk(fd, 1, 0);
	return 0;
}

static int
dover(char **argv)
{
	uint8_t *r;
	Msg m;
	int fd;

	fd = dial(argv[0]);
	m = begin(Tversion, 0xffff);
	p32(&m, strtoul(argv[2], NULL, 0));
	pstr(&m, argv[1]);
	r = rpc(fd, &m, Tversion);
	printf("%.*s %u\n", g16(r + 11), (const char *)r + 13, g32(r + 7));
	return 0;
}

/*
 * Two clients, the same tags and fids, each request sent on both before
 * either reply is read; two requests in flight on each connection.
 */
static int
dooverlap(char **argv)
{
	const char *e;
	uint8_t *r;
	Msg m;
	int fd[2], i, j, tag;

	for(i = 0; i < 2; i++){
		fd[i] = dial(argv[0]);
		version(fd[i], "9P2000.L", 1 << 20);
	}
	for(i = 0; i < 2; i++){
		m = begin(Tattach, 1);
		tattach(&m, 0, i == 0 ? "alice" : "bob");
		send1(fd[i], &m);
	}
	for(i = 0; i < 2; i++)
		if((e = errof(recv1(fd[i]), Tattach))[0])
			die(e);
	for(i = 0; i < 2; i++){
		m = begin(Twalk, 1);
		twalk(&m, 0, 1, argv[1 + i]);
		send1(fd[i], &m);
	}
	for(i = 0; i < 2; i++)
		if((e = errof(recv1(fd[i]), Twalk))[0])
			die(e);
	for(i = 0; i < 2; i++){
		m = begin(dotl ? Tlopen : Topen, 1);
		topen(&m, 1);
		send1(fd[i], &m);
	}
	for(i = 0; i < 2; i++)
		if((e = errof(recv1(fd[i]), dotl ? Tlopen : Topen))[0])
			die(e);
	/* Tag 1: read fid 1; tag 2: clone fid 0 to fid 2, on both, all in flight. */
	for(i = 0; i < 2; i++){
		m = begin(Tread, 1);
		tread(&m, 1, 0, 4096);
		send1(fd[i], &m);
		m = begin(Twalk, 2);
		twalk(&m, 0, 2, "");
		send1(fd[i], &m);
	}
	for(i = 0; i < 2; i++)
		for(j = 0; j < 2; j++){
			r = recv1(fd[i]);
			if(r == NULL)
				die("hung up");
			tag = g16(r + 5);
			if(tag == 1){
				if((e = errof(r, Tread))[0])
					die(e);
				printf("%c: %.*s", 'A' + i, (int)g32(r + 7), (const char *)r + 11);
			}else if(tag == 2){
				if((e = errof(r, Twalk))[0])
					die(e);
				printf("%c: clone ok\n", 'A' + i);
			}else
				die("a reply with a tag never sent");
		}
	for(i = 0; i < 2; i++){
		clunk(fd[i], 3, 2);
		clunk(fd[i], 3, 1);
		clunk(fd[i], 3, 0);
	}
	return 0;
}

/* p9echo's block file: a read in flight, then flushed. */
static int
doflush(char **argv)
{
	uint8_t *r;
	Msg m;
	int fd;

	fd = dial(argv[0]);
	version(fd, "9P2000", 8192);
	attach(fd, 1, 0);
	walk(fd, 1, 0, 1, "block");
	open1(fd, 1, 1);
	m = begin(Tread, 5);
	tread(&m, 1, 0, 100);
	send1(fd, &m);
	m = begin(Tflush, 6);
	p16(&m, 5);
	r = rpc(fd, &m, Tflush);
	printf("Rflush tag %d\n", g16(r + 5));
	/* Tag 5 is free again, and nothing else came for it. */
	m = begin(Tflush, 5);
	p16(&m, 99);
	r = rpc(fd, &m, Tflush);
	printf("Rflush tag %d\n", g16(r + 5));
	clunk(fd, 5, 1);
	clunk(fd, 5, 0);
	printf("flushed\n");
	return 0;
}

static int
dohang(char **argv)
{
	Msg m;
	int fd;

	fd = dial(argv[0]);
	version(fd, "9P2000", 8192);
	attach(fd, 1, 0);
	walk(fd, 1, 0, 1, "block");
	open1(fd, 1, 1);
	walk(fd, 1, 0, 2, "");
	m = begin(Tread, 5);
	tread(&m, 1, 0, 100);
	send1(fd, &m);
	/* Make sure the read reached the server before leaving: a round trip after it. */
	walk(fd, 6, 0, 3, "hello");
	printf("leaving\n");
	return 0;
}

/* Print the reply to m: "ok" or the error text. */
static void
show(int fd, Msg *m, int want, const char *what)
{
	const char *e;

	send1(fd, m);
	e = errof(recv1(fd), want);
	printf("%s: %s\n", what, e[0] ? e : "ok");
}

static int
doerrors(char **argv)
{
	Msg m;
	int fd, fd2, fd3;

	fd = dial(argv[0]);
	fd2 = dial(argv[0]);
	fd3 = dial(argv[0]);
	/* Before Tversion. */
	m = begin(Tattach, 1);
	tattach(&m, 0, "x");
	show(fd2, &m, Tattach, "attach before version");
	version(fd, "9P2000", 8192);
	attach(fd, 1, 0);
	m = begin(Twalk, 1);
	twalk(&m, 77, 78, "hello");
	show(fd, &m, Twalk, "walk from an unknown fid");
	m = begin(Tattach, 1);
	tattach(&m, 0, "x");
	show(fd, &m, Tattach, "attach to a fid in use");
	walk(fd, 1, 0, 1, "hello");
	m = begin(Twalk, 1);
	twalk(&m, 0, 1, "hello");
	show(fd, &m, Twalk, "walk to a fid in use");
	/* A walk of 17 names: malformed. */
	m = begin(Twalk, 2);
	p32(&m, 0);
	p32(&m, 5);
	p16(&m, 17);
	for(int i = 0; i < 17; i++)
		pstr(&m, "x");
	show(fd, &m, Twalk, "walk of 17 names");
	/* A read in flight on block, then the same tag again. */
	walk(fd, 1, 0, 2, "block");
	open1(fd, 1, 2);
	m = begin(Tread, 7);
	tread(&m, 2, 0, 10);
	send1(fd, &m);
	m = begin(Tclunk, 7);
	p32(&m, 1);
	show(fd, &m, Tclunk, "a tag in flight");
	m = begin(Tflush, 8);
	p16(&m, 7);
	show(fd, &m, Tflush, "flush");
	/* The connection still works. */
	clunk(fd, 1, 1);
	m = begin(Tread, 1);
	tread(&m, 1, 0, 10);
	show(fd, &m, Tread, "read of a clunked fid");
	/* A size over msize: the multiplexer hangs up on this client only. */
	version(fd3, "9P2000", 8192);
	m = begin(Tclunk, 1);
	p32(&m, 0);
	m.n = 0x10000000;
	m.b[0] = 0;
	m.b[1] = 0;
	m.b[2] = 0;
	m.b[3] = 0x10;
	if(write(fd3, m.b, 11) != 11)
		die("write");
	printf("oversized: %s\n", recv1(fd3) == NULL ? "hung up" : "still connected");
	/* The first connection still works. */
	walk(fd, 1, 0, 3, "hello");
	open1(fd, 1, 3);
	cat(fd, 1, 3, "after: ");
	return 0;
}

static int
dostuck(char **argv)
{
	struct stat st;
	uint8_t *r;
	Msg m;
	int fd, i, n, got;

	fd = dial(argv[0]);
	version(fd, "9P2000.L", (1 << 20) + 24);
	attach(fd, 1, 0);
	walk(fd, 1, 0, 1, argv[1]);
	open1(fd, 1, 1);
	n = atoi(argv[2]);
	for(i = 0; i < n; i++){
		m = begin(Tread, i);
		tread(&m, 1, 0, msize - 24);
		send1(fd, &m);
	}
	printf("sent %d\n", n);
	fflush(stdout);
	for(i = 0; i < 150 && stat(argv[3], &st) < 0; i++)
		usleep(100000);
	for(got = 0; got < n && (r = recv1(fd)) != NULL; got++)
		;
	printf("%s after %s\n", got == n ? "all replies" : "hung up", got == n ? "reading" : "some");
	return 0;
}

static int
dofids(char **argv)
{
	const char *e;
	char first[300];
	uint8_t *r;
	Msg m;
	int fd, n, sent, got, okn;

	fd = dial(argv[0]);
	version(fd, "9P2000.L", 8192 + 24);
	attach(fd, 1, 0);
	n = atoi(argv[1]);
	first[0] = 0;
	okn = 0;
	for(sent = got = 0; got < n;){
		while(sent < n && sent - got < 48){
			m = begin(Twalk, sent % 60000);
			p32(&m, 0);
			p32(&m, sent + 1);
			p16(&m, 0);
			send1(fd, &m);
			sent++;
		}
		r = recv1(fd);
		e = errof(r, Twalk);
		if(r == NULL)
			die("hung up");
		if(e[0] == 0)
			okn++;
		else if(first[0] == 0)
			snprintf(first, sizeof first, "%s", e);
		got++;
	}
	printf("%d fids, then: %s\n", okn, first[0] ? first : "no refusal");
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct {
		const char *name;
		int nargs;
		int (*fn)(char **);
	} cmds[] = {
		{"ver", 3, dover}, {"cat", 2, docat}, {"overlap", 3, dooverlap}, {"flush", 1, doflush},
		{"hang", 1, dohang}, {"errors", 1, doerrors}, {"stuck", 4, dostuck},
		{"fids", 2, dofids},
	};
	size_t i;

	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGPIPE, SIG_IGN);
	alarm(20);
	for(i = 0; argc >= 2 && i < sizeof cmds / sizeof cmds[0]; i++)
		if(strcmp(argv[1], cmds[i].name) == 0 && argc - 2 == cmds[i].nargs)
			return cmds[i].fn(argv + 2);
	fprintf(stderr, "usage: p9mux ver|cat|overlap|flush|hang|errors|stuck SOCK ...\n");
	return 2;
}
