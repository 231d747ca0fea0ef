/*
 * p9echo: a tiny 9P2000 server on stdin/stdout for the srv tests, written
 * apart from lib/9p so that the two check each other.  It answers
 * Tversion with "9P2000" whatever is asked (so a client offering .L falls
 * back), and serves a root directory holding:
 *	hello	"hello, world\n"
 *	who	"<the attach's uname>\n"
 *	block	a read is never answered, until it is flushed
 *	big	2 MiB of 'x' (msize goes up to 1 MiB + 24)
 * It checks fids and tags as a server must (a fid in use is an error), so
 * clients that share it through a multiplexer see whether their numbers
 * were kept apart.  Every T-message is logged, one line each, to the file
 * named by -l: "Tclunk tag 3 fid 7".  -q N: hang up after N messages.
 *
 *	p9echo [-l logfile] [-q N]
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum {
	Msize = (1 << 20) + 24,
	Bigsize = 2 << 20,
	Nfid = 1024,
	Rerror = 107,
	Tversion = 100,
	Tauth = 102,
	Tattach = 104,
	Tflush = 108,
	Twalk = 110,
	Topen = 112,
	Tread = 116,
	Twrite = 118,
	Tclunk = 120,
	Tremove = 122,
	Tstat = 124,
	Qroot = 0,
	Qhello,
	Qwho,
	Qblock,
	Qbig,
};

static const char *names[] = {"/", "hello", "who", "block", "big"};

typedef struct Fid Fid;
struct Fid {
	int used;
	int q;
	int open;
	char uname[64];
};

static Fid fids[Nfid];
static FILE *logfp;
static int blocked = -1;	/* tag of the read that waits on block */
static uint8_t in[Msize], out[Msize];
static size_t o;

static uint32_t
g32(const uint8_t *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint16_t
g16(const uint8_t *p)
{
	return p[0] | p[1] << 8;
}

static void
p8(int v)
{
	out[o++] = v;
}

static void
p16(int v)
{
	p8(v & 0xff);
	p8(v >> 8 & 0xff);
}

static void
p32(uint32_t v)
{
	p16(v & 0xffff);
	p16(v >> 16);
}

static void
p64(uint64_t v)
{
	p32(v & 0xffffffff);
	p32(v >> 32);
}

static void
pstr(const char *s)
{
	size_t n = strlen(s);

	p16(n);
	memcpy(out + o, s, n);
	o += n;
}

static void
pqid(int q)
{
	p8(q == Qroot ? 0x80 : 0);
	p32(0);
	p64(q);
}

static void
begin(int type, int tag)
{
	o = 4;
	p8(type);
	p16(tag);
}

static void
send1(void)
{
	size_t n = o;

	out[0] = n;
	out[1] = n >> 8;
	out[2] = n >> 16;
	out[3] = n >> 24;
	if(write(1, out, n) != (ssize_t)n)
		exit(1);
}

static void
error(int tag, const char *e)
{
	begin(Rerror, tag);
	pstr(e);
	send1();
}

static int
readn(uint8_t *p, size_t n)
{
	ssize_t k;

	while(n > 0){
		k = read(0, p, n);
		if(k <= 0)
			return -1;
		p += k;
		n -= k;
	}
	return 0;
}

/* A string at *p (inside end) copied to s (cap bytes); -1 if it does not fit. */
static int
gstr(const uint8_t **p, const uint8_t *end, char *s, size_t cap)
{
	size_t n;

	if(end - *p < 2)
		return -1;
	n = g16(*p);
	*p += 2;
	if((size_t)(end - *p) < n || n >= cap)
		return -1;
	memcpy(s, *p, n);
	s[n] = 0;
	*p += n;
	return 0;
}

static Fid *
getfid(uint32_t fid)
{
	return fid < Nfid && fids[fid].used ? &fids[fid] : NULL;
}

static void
stat1(int q, const char *uname)
{
	size_t start;
	int len;

	len = q == Qhello ? 13 : q == Qwho ? (int)strlen(uname) + 1 : q == Qbig ? Bigsize : 0;
	start = o;
	p16(0);
	p16(0);	/* size[2] type[2] */
	p32(0);
	pqid(q);
	p32(q == Qroot ? 0x80000000U | 0555 : 0444);
	p32(0);
	p32(0);
	p64(len);
	pstr(names[q]);
	pstr("p9echo");
	pstr("p9echo");
	pstr("p9echo");
	out[start] = (o - start - 2) & 0xff;
	out[start + 1] = (o - start - 2) >> 8;
}

static void
serve(const uint8_t *m, size_t n)
{
	const uint8_t *p, *end;
	char s[256], uname[64];
	uint32_t fid, newfid, msize, count;
	uint64_t off;
	int type, tag, nw, i, q;
	Fid *f;

	end = m + n;
	type = m[4];
	tag = g16(m + 5);
	p = m + 7;
	fid = end - p >= 4 ? g32(p) : 0;
	if(logfp != NULL){
		fprintf(logfp, "T%d tag %d fid %u", type, tag, fid);
		if(type == Tflush && end - p >= 2)
			fprintf(logfp, " oldtag %d", g16(p));
		fprintf(logfp, "\n");
		fflush(logfp);
	}
	switch(type){
	case Tversion:
		if(end - p < 4)
			goto bad;
		msize = g32(p);
		p += 4;
		if(gstr(&p, end, s, sizeof s) < 0)
			goto bad;
		memset(fids, 0, sizeof fids);
		begin(Tversion + 1, tag);
		p32(msize < Msize ? msize : Msize);
		pstr(strncmp(s, "9P2000", 6) == 0 ? "9P2000" : "unknown");
		send1();
		return;
	case Tauth:
		error(tag, "p9echo: authentication not required");
		return;
	case Tattach:
		if(end - p < 8)
			goto bad;
		p += 8;
		if(gstr(&p, end, uname, sizeof uname) < 0 || gstr(&p, end, s, sizeof s) < 0)
			goto bad;
		if(fid >= Nfid || fids[fid].used){
			error(tag, "fid in use");
			return;
		}
		fids[fid].used = 1;
		fids[fid].q = Qroot;
		fids[fid].open = 0;
		strcpy(fids[fid].uname, uname);
		begin(Tattach + 1, tag);
		pqid(Qroot);
		send1();
		return;
	case Tflush:
		if(end - p < 2)
			goto bad;
		if(g16(p) == blocked)
			blocked = -1;	/* flushed before its answer: it gets none */
		begin(Tflush + 1, tag);
		send1();
		return;
	case Twalk:
		if(end - p < 10)
			goto bad;
		newfid = g32(p + 4);
		nw = g16(p + 8);
		p += 10;
		f = getfid(fid);
		if(f == NULL){
			error(tag, "unknown fid");
			return;
		}
		if(newfid != fid && getfid(newfid) != NULL){
			error(tag, "fid in use");
			return;
		}
		if(newfid >= Nfid || nw > 16){
			error(tag, "bad walk");
			return;
		}
		q = f->q;
		begin(Twalk + 1, tag);
		p16(0);
		for(i = 0; i < nw; i++){
			if(gstr(&p, end, s, sizeof s) < 0)
				goto bad;
			if(strcmp(s, "..") == 0)
				q = Qroot;
			else if(q != Qroot)
				break;
			else if(strcmp(s, "hello") == 0)
				q = Qhello;
			else if(strcmp(s, "who") == 0)
				q = Qwho;
			else if(strcmp(s, "block") == 0)
				q = Qblock;
			else if(strcmp(s, "big") == 0)
				q = Qbig;
			else
				break;
			pqid(q);
		}
		if(i == 0 && nw > 0){
			error(tag, "file does not exist");
			return;
		}
		out[7] = i;
		if(i == nw){
			fids[newfid] = *f;
			fids[newfid].used = 1;
			fids[newfid].q = q;
		}
		send1();
		return;
	case Topen:
		if((f = getfid(fid)) == NULL){
			error(tag, "unknown fid");
			return;
		}
		f->open = 1;
		begin(Topen + 1, tag);
		pqid(f->q);
		p32(0);
		send1();
		return;
	case Tread:
		if(end - p < 16)
			goto bad;
		off = g32(p + 4) | (uint64_t)g32(p + 8) << 32;
		count = g32(p + 12);
		if((f = getfid(fid)) == NULL || !f->open){
			error(tag, f == NULL ? "unknown fid" : "fid not open");
			return;
		}
		if(f->q == Qblock){
			blocked = tag;
			return;
		}
		if(f->q == Qbig){
			if(off > Bigsize)
				off = Bigsize;
			if(count > Bigsize - off)
				count = Bigsize - off;
			if(count > Msize - 11)
				count = Msize - 11;
			begin(Tread + 1, tag);
			p32(count);
			memset(out + o, 'x', count);
			o += count;
			send1();
			return;
		}
		if(f->q == Qroot)
			snprintf(s, sizeof s, "%s", "");
		else if(f->q == Qhello)
			snprintf(s, sizeof s, "hello, world\n");
		else
			snprintf(s, sizeof s, "%s\n", f->uname);
		if(off > strlen(s))
			off = strlen(s);
		if(count > strlen(s) - off)
			count = strlen(s) - off;
		begin(Tread + 1, tag);
		p32(count);
		memcpy(out + o, s + off, count);
		o += count;
		send1();
		return;
	case Tclunk:
	case Tremove:
		if((f = getfid(fid)) == NULL){
			error(tag, "unknown fid");
			return;
		}
		f->used = 0;
		if(type == Tremove){
			error(tag, "permission denied");
			return;
		}
		begin(Tclunk + 1, tag);
		send1();
		return;
	case Tstat:
		if((f = getfid(fid)) == NULL){
			error(tag, "unknown fid");
			return;
		}
		begin(Tstat + 1, tag);
		i = o;
		p16(0);
		stat1(f->q, f->uname);
		out[i] = (o - i - 2) & 0xff;
		out[i + 1] = (o - i - 2) >> 8;
		send1();
		return;
	default:
		error(tag, "p9echo: not supported");
		return;
	}
bad:
	error(tag, "p9echo: malformed message");
}

int
main(int argc, char **argv)
{
	uint32_t n;
	long quit;
	int i;

	quit = -1;
	for(i = 1; i < argc; i++){
		if(strcmp(argv[i], "-l") == 0 && i + 1 < argc){
			logfp = fopen(argv[++i], "a");
			if(logfp == NULL){
				perror(argv[i]);
				return 1;
			}
		}else if(strcmp(argv[i], "-q") == 0 && i + 1 < argc)
			quit = atol(argv[++i]);
		else{
			fprintf(stderr, "usage: p9echo [-l logfile] [-q nmsg]\n");
			return 2;
		}
	}
	for(;;){
		if(quit == 0)
			return 0;
		if(quit > 0)
			quit--;
		if(readn(in, 4) < 0)
			return 0;
		n = g32(in);
		if(n < 7 || n > Msize)
			return 1;
		if(readn(in + 4, n - 4) < 0)
			return 1;
		serve(in, n);
	}
}
