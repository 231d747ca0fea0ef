/*
 * p9raw: a raw 9P driver for tests.  It sends scripted messages, packed
 * with ns9's codec, and prints every reply on one line with p9_fmt.
 *	p9raw [-t secs] SOCKET <script		connect to a Unix socket
 *	p9raw [-t secs] -c CMD [ARG...] <script	run CMD with 9P on its stdin/stdout;
 *						at the end prints "exit N" (its status)
 * Script lines (words split at blanks; 'quoted' as in rc, '' is a quote;
 * a number may be -1, 0x.., 0..):
 *	Tversion MSIZE VERSION		Tattach FID AFID UNAME ANAME [N_UNAME]
 *	Twalk FID NEWFID NAME...	Topen FID MODE	Tcreate FID NAME PERM MODE [EXT]
 *	Tread FID OFFSET COUNT		Twrite FID OFFSET DATA	Tclunk|Tremove|Tstat FID
 *	Twstat FID KEY=VALUE...		(name uid gid mode length mtime atime; others untouched)
 *	Tlopen FID FLAGS		Tlcreate FID NAME FLAGS MODE GID
 *	Tsymlink FID NAME TARGET GID	Tmknod DFID NAME MODE MAJOR MINOR GID
 *	Trename FID DFID NAME		Treadlink FID	Tgetattr FID MASK	Tstatfs FID
 *	Tsetattr FID KEY=VALUE...	(mode uid gid size atime mtime; a time may be "now")
 *	Txattrwalk FID NEWFID NAME	Txattrcreate FID NAME SIZE FLAGS
 *	Treaddir FID OFFSET COUNT	Tfsync FID DATASYNC	Tflush OLDTAG
 *	Tlock FID TYPE FLAGS START LENGTH PROCID CLIENTID
 *	Tgetlock FID TYPE START LENGTH PROCID CLIENTID
 *	Tlink DFID FID NAME		Tmkdir DFID NAME MODE GID
 *	Trenameat OLDDFID OLDNAME NEWDFID NEWNAME	Tunlinkat DFID NAME FLAGS
 *	cat FID			read an open file to its end: "cat FID: 'text\n'" (quoted as the trace quotes)
 *	ls FID			list an open directory: "ls FID: name..." (sorted, no . ..)
 *	walkmany N FID NEWFID NAME...	N walks to NEWFID, NEWFID+1, ...: "walkmany: N ok"
 *	clunkmany N FID			"clunkmany: N ok"
 *	raw HEX...		send bytes as they are, print the reply
 *	rawsend HEX...		send bytes as they are, await nothing
 *	!CMD			run the shell command CMD, and wait for it
 *	# a comment
 * The dialect that packs and unpacks is the one Rversion names.  Each
 * reply is awaited at most -t seconds (default 10): then "timeout", exit 1.
 * A server that hangs up prints "eof" and ends the script (exit 1).
 *
 * The helpers' build links no library, so the codec's sources are
 * compiled in here.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../../lib/util/err.c"
#include "../../lib/util/alloc.c"
#include "../../lib/util/cleanname.c"
#include "../../lib/9p/fcall.c"
#include "../../lib/9p/dir.c"
#include "../../lib/9p/fmt.c"
#include "../../lib/9p/err.c"
#include "../../lib/9p/table.c"

enum {
	Maxwords = 64,
	Maxmsize = (1 << 20) + P9_IOHDRSZ,
};

static int fd = -1;
static pid_t child = -1;
static int dialect = P9_9P2000;
static size_t msize = 8192;
static uint16_t nexttag = 1;
static int timeout = 10;
static uint8_t *tbuf, *rbuf;
static const char *line0;

static void reap(pid_t pid);

/* The conversation is over: reap a -c child and exit. */
static void
finish(int code)
{
	fflush(stdout);
	if(fd >= 0)
		close(fd);
	if(child > 0)
		reap(child);
	exit(code);
}

static void
die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "p9raw: ");
	vfprintf(stderr, fmt, ap);
	if(line0 != NULL)
		fprintf(stderr, " (in '%s')", line0);
	fprintf(stderr, "\n");
	va_end(ap);
	exit(2);
}

static uint64_t
num(const char *s)
{
	char *e;
	uint64_t v;

	errno = 0;
	if(s[0] == '-')
		v = (uint64_t)strtoll(s, &e, 0);
	else
		v = strtoull(s, &e, 0);
	if(s[0] == 0 || *e != 0 || errno != 0)
		die("bad number '%s'", s);
	return v;
}

/* Split line into words in place: blanks separate, 'rc quoting'. */
static int
words(char *line, char **w)
{
	char *p, *q;
	int n;

	n = 0;
	p = line;
	for(;;){
		while(*p == ' ' || *p == '\t' || *p == '\n')
			p++;
		if(*p == 0 || *p == '#')
			break;
		if(n == Maxwords)
			die("too many words");
		w[n++] = q = p;
		while(*p != 0 && *p != ' ' && *p != '\t' && *p != '\n'){
			if(*p != '\''){
				*q++ = *p++;
				continue;
			}
			for(p++;; p++){
				if(*p == 0)
					die("unterminated quote");
				if(*p == '\''){
					if(p[1] != '\'')
						break;
					p++;
				}
				*q++ = *p;
			}
			p++;
		}
		if(*p != 0)
			p++;
		*q = 0;
	}
	return n;
}

/* Read exactly n bytes within the timeout; 1 ok, 0 eof, -1 timeout or error. */
static int
readn(uint8_t *buf, size_t n)
{
	struct pollfd pfd;
	ssize_t m;
	size_t got;

	got = 0;
	while(got < n){
		pfd.fd = fd;
		pfd.events = POLLIN;
		if(poll(&pfd, 1, timeout * 1000) <= 0)
			return -1;
		m = read(fd, buf + got, n - got);
		if(m == 0)
			return 0;
		if(m < 0){
			if(errno == EINTR)
				continue;
			return errno == ECONNRESET ? 0 : -1;
		}
		got += m;
	}
	return 1;
}

static void
writeall(const uint8_t *buf, size_t n)
{
	ssize_t m;

	while(n > 0){
		m = write(fd, buf, n);
		if(m < 0){
			if(errno == EINTR)
				continue;
			printf("eof (write: %s)\n", strerror(errno));
			finish(1);
		}
		buf += m;
		n -= m;
	}
}

/* Await one reply into *r; exits on eof or timeout. */
static void
reply(P9Fcall *r)
{
	uint32_t size;
	int n;

	n = readn(rbuf, 4);
	if(n <= 0){
		printf(n == 0 ? "eof\n" : "timeout\n");
		finish(1);
	}
	size = p9_msgsize(rbuf);
	if(p9_checksize(size, Maxmsize) < 0){
		printf("bad reply size %u\n", size);
		finish(1);
	}
	n = readn(rbuf + 4, size - 4);
	if(n <= 0){
		printf(n == 0 ? "eof\n" : "timeout\n");
		finish(1);
	}
	if(p9_unpack(rbuf, size, rbuf[4] == P9_RVERSION ? P9_9P2000 : dialect, Maxmsize, r) < 0){
		/* An Rerror to Tversion may be 9P2000 or .u. */
		if(rbuf[4] == P9_RERROR && p9_unpack(rbuf, size, P9_9P2000U, Maxmsize, r) >= 0)
			return;
		printf("bad reply: %s\n", errtext());
		finish(1);
	}
}

static void
show(const P9Fcall *r)
{
	Buf b;

	memset(&b, 0, sizeof b);
	p9_fmt(&b, r, dialect);
	printf("%s\n", b.s);
	buffree(&b);
}

/* Send t and await its reply in *r (freed by the caller). */
static void
rpc(P9Fcall *t, P9Fcall *r)
{
	int n;

	if(t->type == P9_TVERSION)
		t->tag = P9_NOTAG;
	else{
		t->tag = nexttag++;
		if(nexttag == P9_NOTAG)
			nexttag = 1;
	}
	n = p9_pack(t, t->type == P9_TVERSION ? P9_9P2000 : dialect, tbuf, Maxmsize);
	if(n < 0)
		die("cannot pack: %s", errtext());
	writeall(tbuf, n);
	reply(r);
	if(r->type == P9_RVERSION && p9_dialect(r->version) >= 0){
		dialect = p9_dialect(r->version);
		if(r->msize >= P9_MINMSIZE && r->msize <= Maxmsize)
			msize = r->msize;
	}
}

static void
stattouch(P9Stat *s)
{
	memset(s, 0, sizeof *s);
	s->type = 0xffff;
	s->dev = ~0U;
	s->qid.type = 0xff;
	s->qid.vers = ~0U;
	s->qid.path = ~0ULL;
	s->mode = ~0U;
	s->atime = ~0U;
	s->mtime = ~0U;
	s->length = ~0ULL;
	s->name = s->uid = s->gid = s->muid = s->extension = "";
	s->n_uid = s->n_gid = s->n_muid = P9_NONUNAME;
}

static void
twstat(P9Fcall *t, char **w, int n)
{
	char *v;
	int i;

	stattouch(&t->stat);
	for(i = 0; i < n; i++){
		v = strchr(w[i], '=');
		if(v == NULL)
			die("want key=value, not '%s'", w[i]);
		*v++ = 0;
		if(strcmp(w[i], "name") == 0)
			t->stat.name = v;
		else if(strcmp(w[i], "uid") == 0)
			t->stat.uid = v;
		else if(strcmp(w[i], "gid") == 0)
			t->stat.gid = v;
		else if(strcmp(w[i], "mode") == 0)
			t->stat.mode = num(v);
		else if(strcmp(w[i], "length") == 0)
			t->stat.length = num(v);
		else if(strcmp(w[i], "mtime") == 0)
			t->stat.mtime = num(v);
		else if(strcmp(w[i], "atime") == 0)
			t->stat.atime = num(v);
		else if(strcmp(w[i], "n_uid") == 0)
			t->stat.n_uid = num(v);
		else if(strcmp(w[i], "n_gid") == 0)
			t->stat.n_gid = num(v);
		else
			die("unknown stat field '%s'", w[i]);
	}
}

static void
tsetattr(P9Fcall *t, char **w, int n)
{
	P9Attr *a;
	char *v;
	int i;

	a = &t->attr;
	for(i = 0; i < n; i++){
		v = strchr(w[i], '=');
		if(v == NULL)
			die("want key=value, not '%s'", w[i]);
		*v++ = 0;
		if(strcmp(w[i], "mode") == 0){
			a->valid |= P9_SETATTR_MODE;
			a->mode = num(v);
		}else if(strcmp(w[i], "uid") == 0){
			a->valid |= P9_SETATTR_UID;
			a->uid = num(v);
		}else if(strcmp(w[i], "gid") == 0){
			a->valid |= P9_SETATTR_GID;
			a->gid = num(v);
		}else if(strcmp(w[i], "size") == 0){
			a->valid |= P9_SETATTR_SIZE;
			a->size = num(v);
		}else if(strcmp(w[i], "atime") == 0){
			a->valid |= P9_SETATTR_ATIME;
			if(strcmp(v, "now") != 0){
				a->valid |= P9_SETATTR_ATIME_SET;
				a->atime_sec = num(v);
			}
		}else if(strcmp(w[i], "mtime") == 0){
			a->valid |= P9_SETATTR_MTIME;
			if(strcmp(v, "now") != 0){
				a->valid |= P9_SETATTR_MTIME_SET;
				a->mtime_sec = num(v);
			}
		}else
			die("unknown attribute '%s'", w[i]);
	}
}

static void
need(int n, int want, const char *usage)
{
	if(n != want)
		die("usage: %s", usage);
}

/* Build a T-message from words; 0, or -1 when w[0] is no message. */
static int
tmsg(P9Fcall *t, char **w, int n)
{
	const char *c;
	int i;

	memset(t, 0, sizeof *t);
	c = w[0];
	t->n_uname = P9_NONUNAME;
	if(strcmp(c, "Tversion") == 0){
		need(n, 3, "Tversion MSIZE VERSION");
		t->type = P9_TVERSION;
		t->msize = num(w[1]);
		t->version = w[2];
	}else if(strcmp(c, "Tattach") == 0 || strcmp(c, "Tauth") == 0){
		i = c[1] == 'a' && c[2] == 't';	/* Tattach has a fid first */
		if(n != 4 + i && n != 5 + i)
			die("usage: %s", i ? "Tattach FID AFID UNAME ANAME [N_UNAME]" : "Tauth AFID UNAME ANAME [N_UNAME]");
		t->type = i ? P9_TATTACH : P9_TAUTH;
		if(i)
			t->fid = num(w[1]);
		t->afid = num(w[1 + i]);
		t->uname = w[2 + i];
		t->aname = w[3 + i];
		if(n == 5 + i)
			t->n_uname = num(w[4 + i]);
	}else if(strcmp(c, "Tflush") == 0){
		need(n, 2, "Tflush OLDTAG");
		t->type = P9_TFLUSH;
		t->oldtag = num(w[1]);
	}else if(strcmp(c, "Twalk") == 0){
		if(n < 3 || n - 3 > P9_MAXWELEM)
			die("usage: Twalk FID NEWFID NAME... (at most 16 names)");
		t->type = P9_TWALK;
		t->fid = num(w[1]);
		t->newfid = num(w[2]);
		t->nwname = n - 3;
		for(i = 3; i < n; i++)
			t->wname[i - 3] = w[i];
	}else if(strcmp(c, "Topen") == 0){
		need(n, 3, "Topen FID MODE");
		t->type = P9_TOPEN;
		t->fid = num(w[1]);
		t->mode = num(w[2]);
	}else if(strcmp(c, "Tcreate") == 0){
		if(n != 5 && n != 6)
			die("usage: Tcreate FID NAME PERM MODE [EXT]");
		t->type = P9_TCREATE;
		t->fid = num(w[1]);
		t->name = w[2];
		t->perm = num(w[3]);
		t->mode = num(w[4]);
		t->extension = n == 6 ? w[5] : "";
	}else if(strcmp(c, "Tread") == 0 || strcmp(c, "Treaddir") == 0){
		need(n, 4, "Tread FID OFFSET COUNT");
		t->type = c[5] == 0 ? P9_TREAD : P9_TREADDIR;
		t->fid = num(w[1]);
		t->offset = num(w[2]);
		t->count = num(w[3]);
	}else if(strcmp(c, "Twrite") == 0){
		need(n, 4, "Twrite FID OFFSET DATA");
		t->type = P9_TWRITE;
		t->fid = num(w[1]);
		t->offset = num(w[2]);
		t->data = (uint8_t *)w[3];
		t->count = strlen(w[3]);
	}else if(strcmp(c, "Tclunk") == 0 || strcmp(c, "Tremove") == 0 || strcmp(c, "Tstat") == 0 ||
		 strcmp(c, "Treadlink") == 0 || strcmp(c, "Tstatfs") == 0){
		need(n, 2, "Tclunk FID");
		t->type = c[1] == 'c' ? P9_TCLUNK : c[2] == 'e' && c[3] == 'm' ? P9_TREMOVE :
			  c[1] == 'r' ? P9_TREADLINK : c[5] == 'f' ? P9_TSTATFS : P9_TSTAT;
		t->fid = num(w[1]);
	}else if(strcmp(c, "Twstat") == 0){
		if(n < 2)
			die("usage: Twstat FID KEY=VALUE...");
		t->type = P9_TWSTAT;
		t->fid = num(w[1]);
		twstat(t, w + 2, n - 2);
	}else if(strcmp(c, "Tlopen") == 0){
		need(n, 3, "Tlopen FID FLAGS");
		t->type = P9_TLOPEN;
		t->fid = num(w[1]);
		t->flags = num(w[2]);
	}else if(strcmp(c, "Tlcreate") == 0){
		need(n, 6, "Tlcreate FID NAME FLAGS MODE GID");
		t->type = P9_TLCREATE;
		t->fid = num(w[1]);
		t->name = w[2];
		t->flags = num(w[3]);
		t->perm = num(w[4]);
		t->gid = num(w[5]);
	}else if(strcmp(c, "Tsymlink") == 0){
		need(n, 5, "Tsymlink FID NAME TARGET GID");
		t->type = P9_TSYMLINK;
		t->fid = num(w[1]);
		t->name = w[2];
		t->target = w[3];
		t->gid = num(w[4]);
	}else if(strcmp(c, "Tmknod") == 0){
		need(n, 7, "Tmknod DFID NAME MODE MAJOR MINOR GID");
		t->type = P9_TMKNOD;
		t->dfid = num(w[1]);
		t->name = w[2];
		t->perm = num(w[3]);
		t->major = num(w[4]);
		t->minor = num(w[5]);
		t->gid = num(w[6]);
	}else if(strcmp(c, "Trename") == 0){
		need(n, 4, "Trename FID DFID NAME");
		t->type = P9_TRENAME;
		t->fid = num(w[1]);
		t->dfid = num(w[2]);
		t->name = w[3];
	}else if(strcmp(c, "Tgetattr") == 0){
		need(n, 3, "Tgetattr FID MASK");
		t->type = P9_TGETATTR;
		t->fid = num(w[1]);
		t->mask = num(w[2]);
	}else if(strcmp(c, "Tsetattr") == 0){
		if(n < 2)
			die("usage: Tsetattr FID KEY=VALUE...");
		t->type = P9_TSETATTR;
		t->fid = num(w[1]);
		tsetattr(t, w + 2, n - 2);
	}else if(strcmp(c, "Txattrwalk") == 0){
		need(n, 4, "Txattrwalk FID NEWFID NAME");
		t->type = P9_TXATTRWALK;
		t->fid = num(w[1]);
		t->newfid = num(w[2]);
		t->name = w[3];
	}else if(strcmp(c, "Txattrcreate") == 0){
		need(n, 5, "Txattrcreate FID NAME SIZE FLAGS");
		t->type = P9_TXATTRCREATE;
		t->fid = num(w[1]);
		t->name = w[2];
		t->attrsize = num(w[3]);
		t->flags = num(w[4]);
	}else if(strcmp(c, "Tfsync") == 0){
		need(n, 3, "Tfsync FID DATASYNC");
		t->type = P9_TFSYNC;
		t->fid = num(w[1]);
		t->datasync = num(w[2]);
	}else if(strcmp(c, "Tlock") == 0){
		need(n, 8, "Tlock FID TYPE FLAGS START LENGTH PROCID CLIENTID");
		t->type = P9_TLOCK;
		t->fid = num(w[1]);
		t->lock.type = num(w[2]);
		t->lock.flags = num(w[3]);
		t->lock.start = num(w[4]);
		t->lock.length = num(w[5]);
		t->lock.proc_id = num(w[6]);
		t->lock.client_id = w[7];
	}else if(strcmp(c, "Tgetlock") == 0){
		need(n, 7, "Tgetlock FID TYPE START LENGTH PROCID CLIENTID");
		t->type = P9_TGETLOCK;
		t->fid = num(w[1]);
		t->lock.type = num(w[2]);
		t->lock.start = num(w[3]);
		t->lock.length = num(w[4]);
		t->lock.proc_id = num(w[5]);
		t->lock.client_id = w[6];
	}else if(strcmp(c, "Tlink") == 0){
		need(n, 4, "Tlink DFID FID NAME");
		t->type = P9_TLINK;
		t->dfid = num(w[1]);
		t->fid = num(w[2]);
		t->name = w[3];
	}else if(strcmp(c, "Tmkdir") == 0){
		need(n, 5, "Tmkdir DFID NAME MODE GID");
		t->type = P9_TMKDIR;
		t->dfid = num(w[1]);
		t->name = w[2];
		t->perm = num(w[3]);
		t->gid = num(w[4]);
	}else if(strcmp(c, "Trenameat") == 0){
		need(n, 5, "Trenameat OLDDFID OLDNAME NEWDFID NEWNAME");
		t->type = P9_TRENAMEAT;
		t->dfid = num(w[1]);
		t->name = w[2];
		t->newdfid = num(w[3]);
		t->newname = w[4];
	}else if(strcmp(c, "Tunlinkat") == 0){
		need(n, 4, "Tunlinkat DFID NAME FLAGS");
		t->type = P9_TUNLINKAT;
		t->dfid = num(w[1]);
		t->name = w[2];
		t->flags = num(w[3]);
	}else
		return -1;
	return 0;
}

static int
isrerror(const P9Fcall *r)
{
	return r->type == P9_RERROR || r->type == P9_RLERROR;
}

/* cat FID: read from offset 0 until a read returns nothing. */
static void
cat(uint32_t fid)
{
	P9Fcall t, r;
	Buf b, q;
	uint64_t off;

	memset(&b, 0, sizeof b);
	bufputs(&b, "");
	off = 0;
	for(;;){
		memset(&t, 0, sizeof t);
		t.type = P9_TREAD;
		t.fid = fid;
		t.offset = off;
		t.count = msize - P9_IOHDRSZ;
		rpc(&t, &r);
		if(isrerror(&r)){
			show(&r);
			p9_freefcall(&r);
			buffree(&b);
			return;
		}
		if(r.count == 0){
			p9_freefcall(&r);
			break;
		}
		bufputn(&b, (const char *)r.data, r.count);
		off += r.count;
		p9_freefcall(&r);
	}
	/* one line: quoted and escaped as the trace shows strings */
	memset(&q, 0, sizeof q);
	fmtstr(&q, b.s, b.n);
	printf("cat %u: %s\n", fid, q.s);
	buffree(&q);
	buffree(&b);
}

static int
strpcmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* ls FID: every name of an open directory, by reads (9P2000, .u) or Treaddir (.L). */
static void
ls(uint32_t fid)
{
	P9Fcall t, r;
	P9Stat st;
	P9Dirent d;
	char **names;
	uint64_t off;
	uint32_t p;
	int n, max, m, i;

	names = NULL;
	n = max = 0;
	off = 0;
	for(;;){
		memset(&t, 0, sizeof t);
		t.type = dialect == P9_9P2000L ? P9_TREADDIR : P9_TREAD;
		t.fid = fid;
		t.offset = off;
		t.count = msize - P9_IOHDRSZ;
		rpc(&t, &r);
		if(isrerror(&r)){
			show(&r);
			p9_freefcall(&r);
			goto out;
		}
		if(r.count == 0){
			p9_freefcall(&r);
			break;
		}
		for(p = 0; p < r.count; p += m){
			if(n == max){
				max = max ? 2 * max : 64;
				names = erealloc(names, max * sizeof names[0]);
			}
			if(dialect == P9_9P2000L){
				m = p9_unpackdirent(r.data + p, r.count - p, &d);
				if(m < 0)
					break;
				off = d.offset;
				names[n++] = d.name;
				d.name = NULL;
				p9_freedirent(&d);
			}else{
				m = p9_unpackstat(r.data + p, r.count - p, dialect, &st);
				if(m < 0)
					break;
				names[n++] = estrdup(st.name);
				p9_freestat(&st);
			}
		}
		if(p != r.count){
			printf("ls %u: bad directory data: %s\n", fid, errtext());
			p9_freefcall(&r);
			goto out;
		}
		if(dialect != P9_9P2000L)
			off += r.count;
		p9_freefcall(&r);
	}
	qsort(names, n, sizeof names[0], strpcmp);
	printf("ls %u:", fid);
	for(i = 0; i < n; i++)
		if(strcmp(names[i], ".") != 0 && strcmp(names[i], "..") != 0)
			printf(" %s", names[i]);
	printf("\n");
out:
	for(i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

/* walkmany N FID NEWFID NAME... and clunkmany N FID. */
static void
many(char **w, int n)
{
	P9Fcall t, r;
	uint64_t count, i, ok;
	uint32_t fid, newfid;
	int j, walk, shown;

	walk = strcmp(w[0], "walkmany") == 0;
	if(walk ? n < 4 || n - 4 > P9_MAXWELEM : n != 3)
		die("usage: walkmany N FID NEWFID NAME... | clunkmany N FID");
	count = num(w[1]);
	fid = num(w[2]);
	newfid = walk ? num(w[3]) : 0;
	ok = 0;
	shown = 0;
	for(i = 0; i < count; i++){
		memset(&t, 0, sizeof t);
		if(walk){
			t.type = P9_TWALK;
			t.fid = fid;
			t.newfid = newfid + i;
			t.nwname = n - 4;
			for(j = 4; j < n; j++)
				t.wname[j - 4] = w[j];
		}else{
			t.type = P9_TCLUNK;
			t.fid = fid + i;
		}
		rpc(&t, &r);
		if(isrerror(&r) || (walk && r.nwqid != t.nwname)){
			if(!shown++)	/* the first failure only */
				show(&r);
		}else
			ok++;
		p9_freefcall(&r);
	}
	printf("%s: %llu ok\n", w[0], (unsigned long long)ok);
}

static void
raw(char **w, int n, int wait)
{
	P9Fcall r;
	size_t len, i;
	unsigned int x;
	const char *s;

	len = 0;
	for(i = 1; i < (size_t)n; i++)
		for(s = w[i]; s[0] != 0; s += 2){
			if(s[1] == 0 || sscanf(s, "%2x", &x) != 1 || len == Maxmsize)
				die("bad hex '%s'", w[i]);
			tbuf[len++] = x;
		}
	writeall(tbuf, len);
	if(!wait)
		return;
	reply(&r);
	show(&r);
	p9_freefcall(&r);
}

static void
script(void)
{
	char *line, *w[Maxwords];
	size_t cap;
	P9Fcall t, r;
	int n;

	line = NULL;
	cap = 0;
	while(getline(&line, &cap, stdin) > 0){
		free((char *)line0);
		line0 = estrdup(line);
		*strchrnul((char *)line0, '\n') = 0;
		if(line[0] == '!'){
			fflush(stdout);
			if(system(line + 1) != 0)
				printf("! failed: %s\n", line0 + 1);
			continue;
		}
		n = words(line, w);
		if(n == 0)
			continue;
		if(strcmp(w[0], "cat") == 0){
			need(n, 2, "cat FID");
			cat(num(w[1]));
		}else if(strcmp(w[0], "ls") == 0){
			need(n, 2, "ls FID");
			ls(num(w[1]));
		}else if(strcmp(w[0], "walkmany") == 0 || strcmp(w[0], "clunkmany") == 0)
			many(w, n);
		else if(strcmp(w[0], "raw") == 0 || strcmp(w[0], "rawsend") == 0)
			raw(w, n, w[0][3] == 0);
		else if(tmsg(&t, w, n) == 0){
			rpc(&t, &r);
			show(&r);
			p9_freefcall(&r);
		}else
			die("unknown command '%s'", w[0]);
		fflush(stdout);
	}
	free(line);
}

/* Wait for the child, at most the timeout; its exit status, or "killed". */
static void
reap(pid_t pid)
{
	struct timespec ts = {0, 10 * 1000 * 1000};
	int st, i;

	for(i = 0; i < timeout * 100; i++){
		if(waitpid(pid, &st, WNOHANG) == pid){
			if(WIFEXITED(st))
				printf("exit %d\n", WEXITSTATUS(st));
			else
				printf("exit signal %d\n", WTERMSIG(st));
			return;
		}
		nanosleep(&ts, NULL);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	printf("exit timeout (killed)\n");
}

int
main(int argc, char **argv)
{
	struct sockaddr_un sa;
	int sv[2], i;
	signal(SIGPIPE, SIG_IGN);
	i = 1;
	if(i + 1 < argc && strcmp(argv[i], "-t") == 0){
		timeout = num(argv[i + 1]);
		i += 2;
	}
	if(i >= argc){
		fprintf(stderr, "usage: p9raw [-t secs] SOCKET <script | p9raw [-t secs] -c CMD [ARG...] <script\n");
		return 2;
	}
	tbuf = emalloc(Maxmsize);
	rbuf = emalloc(Maxmsize);
	if(strcmp(argv[i], "-c") == 0){
		if(i + 1 >= argc)
			die("-c needs a command");
		if(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
			die("socketpair: %s", strerror(errno));
		child = fork();
		if(child < 0)
			die("fork: %s", strerror(errno));
		if(child == 0){
			if(dup2(sv[1], 0) < 0 || dup2(sv[1], 1) < 0)
				_exit(127);
			execvp(argv[i + 1], argv + i + 1);
			fprintf(stderr, "p9raw: exec %s: %s\n", argv[i + 1], strerror(errno));
			_exit(127);
		}
		close(sv[1]);
		fd = sv[0];
	}else{
		memset(&sa, 0, sizeof sa);
		sa.sun_family = AF_UNIX;
		if(strlen(argv[i]) >= sizeof sa.sun_path)
			die("socket path too long");
		strcpy(sa.sun_path, argv[i]);
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if(fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0){
			printf("connect %s: %s\n", argv[i], strerror(errno));
			return 1;
		}
	}
	script();
	finish(0);
	return 0;
}
