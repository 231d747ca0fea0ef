/*
 * p9call: a tiny scripted 9P2000 client for the shell tests, with its own
 * few-message codec (not lib/9p's), so a server is checked against an
 * independent reading of the protocol.
 *	p9call [-u uname] [-a aname] [-m msize] [-V version] TARGET OP...
 * TARGET is the path of a Unix socket, or -e CMD: run CMD (sh -c) with a
 * socket as its stdin and stdout.  OPs run in order; each prints what it
 * got.  A failed OP prints "p9call: OP ARG: error" on stderr and p9call
 * exits 1, unless it was prefixed with "try", which prints "error: TEXT"
 * on stdout and goes on.  Paths are walked from the attach root (fid 0).
 *	version attach		Tversion (prints the answer), Tattach fid 0
 *	stat P			name mode length uid gid muid vers; times P: atime mtime
 *	openrm P		open ORCLOSE, clunk
 *	ls P			the names a directory read gives, one a line
 *	read P			the contents
 *	write P TEXT		open OWRITE|OTRUNC, write TEXT
 *	writeat P OFF TEXT	open OWRITE, write TEXT at OFF
 *	create P [PERM]		PERM octal, default 644; mkdir P: perm DMDIR|755
 *	rm P			Tremove
 *	mv P NAME		wstat name; chmod P MODE; truncate P LEN; mtime P T
 *	fill P N		write N bytes ('a'+i%26) in msize-sized writes
 *	dirread P COUNT OFF	one directory Tread, prints count and names
 *	raw HEX			send these bytes; prints the reply, or "hangup"
 *	walkfids N		walk N fids to the root and keep them (a leak probe)
 * When 9P2000.L is agreed, stat (mode size uid gid nlink vers), ls,
 * create, mkdir, rm, rmdir, mv P NEWPATH, truncate and chmod use .L
 * messages, and read and write open with Tlopen.
 * Every wait is bounded: p9call gives up after 30 seconds.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

enum {
	Rlerror = 7, Tlopen = 12, Tlcreate = 14, Tgetattr = 24, Tsetattr = 26, Treaddir = 40,
	Tmkdir = 72, Trenameat = 74, Tunlinkat = 76,
	Tversion = 100, Tattach = 104, Rerror = 107, Tflush = 108, Twalk = 110, Topen = 112,
	Tcreate = 114, Tread = 116, Twrite = 118, Tclunk = 120, Tremove = 122, Tstat = 124,
	Twstat = 126,
	NOTAG = 0xffff,
	Maxmsg = 4 << 20,
};
#define NOFID 0xffffffffU
#define DMDIR 0x80000000U

static int fd = -1;
static uint32_t msize = 8192;
static const char *version = "9P2000";
static const char *uname = "glenda";
static const char *aname = "";
static uint16_t tag = 1;
static uint8_t *tx, *rx;
static size_t txn;
static char errbuf[1024];
static uint32_t nextfid = 100;
static int dotl;	/* 9P2000.L was agreed: the ops use its messages */

/* --- packing --- */

static void
p1(uint8_t v)
{
	if(txn + 1 <= Maxmsg)
		tx[txn] = v;
	txn++;
}

static void
p2(uint16_t v)
{
	p1(v);
	p1(v >> 8);
}

static void
p4(uint32_t v)
{
	p2(v);
	p2(v >> 16);
}

static void
p8(uint64_t v)
{
	p4(v);
	p4(v >> 32);
}

static void
pstr(const char *s)
{
	size_t n;

	n = strlen(s);
	p2(n);
	while(*s)
		p1(*s++);
}

static void
begin(int type)
{
	txn = 0;
	p4(0);
	p1(type);
	p2(type == Tversion ? NOTAG : tag);
}

/* --- unpacking: a cursor that fails softly past the end --- */

static const uint8_t *rp, *re;
static int rbad;

static uint64_t
g(int n)
{
	uint64_t v;
	int i;

	if(re - rp < n){
		rbad = 1;
		rp = re;
		return 0;
	}
	v = 0;
	for(i = n - 1; i >= 0; i--)
		v = v << 8 | rp[i];
	rp += n;
	return v;
}

/* A string into buf (NUL-terminated, cut to fit). */
static char *
gstr(char *buf, size_t len)
{
	size_t n, m;

	n = g(2);
	if((size_t)(re - rp) < n){
		rbad = 1;
		n = re - rp;
	}
	m = n < len - 1 ? n : len - 1;
	memcpy(buf, rp, m);
	buf[m] = 0;
	rp += n;
	return buf;
}

static int
writeall(const uint8_t *p, size_t n)
{
	ssize_t w;

	while(n > 0){
		w = write(fd, p, n);
		if(w < 0 && errno == EINTR)
			continue;
		if(w <= 0)
			return -1;
		p += w;
		n -= w;
	}
	return 0;
}

static int
readall(uint8_t *p, size_t n)
{
	ssize_t r;

	while(n > 0){
		r = read(fd, p, n);
		if(r < 0 && errno == EINTR)
			continue;
		if(r <= 0)
			return -1;
		p += r;
		n -= r;
	}
	return 0;
}

/* Read one reply: its type, with rp/re over its body; -1 at hangup. */
static int
recvmsg9(uint16_t *tagp)
{
	uint32_t size;

	if(readall(rx, 4) < 0)
		return -1;
	size = rx[0] | rx[1] << 8 | rx[2] << 16 | (uint32_t)rx[3] << 24;
	if(size < 7 || size > Maxmsg){
		snprintf(errbuf, sizeof errbuf, "bad reply size %u", size);
		return -2;
	}
	if(readall(rx + 4, size - 4) < 0)
		return -1;
	rp = rx + 7;
	re = rx + size;
	rbad = 0;
	*tagp = rx[5] | rx[6] << 8;
	return rx[4];
}

/* Send what begin/p* built and wait for its reply; 0, or -1 with errbuf. */
static int
rpc(void)
{
	uint16_t rtag, mytag;
	int type, want;
	char ename[512];

	if(txn > Maxmsg){
		snprintf(errbuf, sizeof errbuf, "message too long");
		return -1;
	}
	tx[0] = txn;
	tx[1] = txn >> 8;
	tx[2] = txn >> 16;
	tx[3] = txn >> 24;
	want = tx[4] + 1;
	mytag = tx[5] | tx[6] << 8;
	if(tx[4] != Tversion && ++tag == NOTAG)
		tag = 1;
	if(writeall(tx, txn) < 0){
		if(errno == EPIPE || errno == ECONNRESET)
			snprintf(errbuf, sizeof errbuf, "hangup");
		else
			snprintf(errbuf, sizeof errbuf, "write: %s", strerror(errno));
		return -1;
	}
	type = recvmsg9(&rtag);
	if(type == -1){
		snprintf(errbuf, sizeof errbuf, "hangup");
		return -1;
	}
	if(type < 0)
		return -1;
	if(rtag != mytag){
		snprintf(errbuf, sizeof errbuf, "reply tag %d, want %d", rtag, mytag);
		return -1;
	}
	if(type == Rerror){
		gstr(ename, sizeof ename);
		snprintf(errbuf, sizeof errbuf, "%s", ename);
		return -1;
	}
	if(type == Rlerror){
		uint32_t e;

		e = g(4);
		snprintf(errbuf, sizeof errbuf, "%s", strerrorname_np(e) != NULL ? strerrorname_np(e) : "bad errno");
		return -1;
	}
	if(type != want){
		snprintf(errbuf, sizeof errbuf, "reply type %d, want %d", type, want);
		return -1;
	}
	return 0;
}

/* The reply must have been read exactly. */
static int
done(void)
{
	if(rbad || rp != re){
		snprintf(errbuf, sizeof errbuf, "malformed reply");
		return -1;
	}
	return 0;
}

/* --- operations on fids --- */

static int
clunk(uint32_t fid)
{
	begin(Tclunk);
	p4(fid);
	return rpc();
}

/* Walk fid 0 to path (up to 16 names) as a new fid; -1 on failure. */
static int
walkto(const char *path, uint32_t *fidp)
{
	char buf[4096], *names[16], *p, *s;
	int n, nq;
	uint32_t fid;

	snprintf(buf, sizeof buf, "%s", path);
	n = 0;
	for(p = strtok_r(buf, "/", &s); p != NULL; p = strtok_r(NULL, "/", &s)){
		if(n == 16){
			snprintf(errbuf, sizeof errbuf, "too many names");
			return -1;
		}
		names[n++] = p;
	}
	fid = nextfid++;
	begin(Twalk);
	p4(0);
	p4(fid);
	p2(n);
	for(nq = 0; nq < n; nq++)
		pstr(names[nq]);
	if(rpc() < 0)
		return -1;
	nq = g(2);
	rp += 13 * nq;
	if(done() < 0)
		return -1;
	if(nq != n){
		snprintf(errbuf, sizeof errbuf, "file does not exist (walked %d of %d)", nq, n);
		return -1;
	}
	*fidp = fid;
	return 0;
}

static int
openfid(uint32_t fid, int mode)
{
	begin(dotl ? Tlopen : Topen);
	p4(fid);
	if(dotl)	/* OREAD, OWRITE, OTRUNC as Linux flags */
		p4((mode & 3) | ((mode & 0x10) ? 01000 : 0));
	else
		p1(mode);
	if(rpc() < 0)
		return -1;
	g(13);
	g(4);
	return done();
}

/* Walk and open path; the fid goes to *fidp. */
static int
walkopen(const char *path, int mode, uint32_t *fidp)
{
	if(walkto(path, fidp) < 0)
		return -1;
	if(openfid(*fidp, mode) < 0){
		clunk(*fidp);
		return -1;
	}
	return 0;
}

static int
writefid(uint32_t fid, uint64_t off, const char *data, size_t n)
{
	uint32_t count;

	begin(Twrite);
	p4(fid);
	p8(off);
	p4(n);
	while(n-- > 0)
		p1(*data++);
	if(rpc() < 0)
		return -1;
	count = g(4);
	if(done() < 0)
		return -1;
	return count;
}

/* One Tread: data at rp, the count returned. */
static int
readfid(uint32_t fid, uint64_t off, uint32_t count)
{
	uint32_t n;

	begin(Tread);
	p4(fid);
	p8(off);
	p4(count);
	if(rpc() < 0)
		return -1;
	n = g(4);
	if((uint32_t)(re - rp) != n){
		snprintf(errbuf, sizeof errbuf, "Rread count %u, %zd bytes", n, re - rp);
		return -1;
	}
	return n;
}

typedef struct Dir Dir;
struct Dir {
	uint32_t mode, atime, mtime, vers;
	uint64_t length, path;
	char name[512], uid[256], gid[256], muid[256];
};

/* One stat record at rp (size[2] first); -1 if malformed. */
static int
getdir(Dir *d)
{
	const uint8_t *end, *saved;
	uint16_t n;

	n = g(2);
	if(re - rp < n)
		return -1;
	end = rp + n;
	saved = re;
	re = end;
	g(2);
	g(4);
	g(1);
	d->vers = g(4);
	d->path = g(8);
	d->mode = g(4);
	d->atime = g(4);
	d->mtime = g(4);
	d->length = g(8);
	gstr(d->name, sizeof d->name);
	gstr(d->uid, sizeof d->uid);
	gstr(d->gid, sizeof d->gid);
	gstr(d->muid, sizeof d->muid);
	if(rbad || rp != end)
		return -1;
	re = saved;
	return 0;
}

/* Twstat with everything "don't touch" but what the caller sets after. */
static void
wstat(uint32_t fid, const char *name, uint32_t mode, uint32_t mtime, uint64_t length)
{
	size_t n;

	n = 2 + 4 + 13 + 4 + 4 + 4 + 8 + 2 + strlen(name) + 2 + 2 + 2;
	begin(Twstat);
	p4(fid);
	p2(n + 2);
	p2(n);
	p2(0xffff);
	p4(~0U);
	p1(0xff);
	p4(~0U);
	p8(~0ULL);
	p4(mode);
	p4(~0U);
	p4(mtime);
	p8(length);
	pstr(name);
	pstr("");
	pstr("");
	pstr("");
}

static int
hexval(int c)
{
	if(c >= '0' && c <= '9')
		return c - '0';
	if(c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if(c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Split path into a walk to its directory (a new fid) and the last name. */
static int
walkparent(const char *path, uint32_t *fidp, const char **namep)
{
	static char dir[4096];
	char *slash;

	snprintf(dir, sizeof dir, "%s", path);
	slash = strrchr(dir, '/');
	if(slash != NULL){
		*slash = 0;
		*namep = path + (slash - dir) + 1;
	}else{
		dir[0] = 0;
		*namep = path;
	}
	return walkto(dir, fidp);
}

/*
 * The ops that differ in 9P2000.L: stat (Tgetattr), ls (Treaddir), create
 * (Tlcreate), mkdir (Tmkdir), rm and rmdir (Tunlinkat), mv P NEWPATH
 * (Trenameat), truncate and chmod (Tsetattr).  Returns 1 for an op that
 * is the same in every dialect.
 */
static int
lop(int argc, char **argv, int *ip, const char *o)
{
	uint32_t fid, dfid, ndfid;
	const char *name, *nname;
	char nbuf[512];
	uint64_t off, cookie;
	int i, n;

	i = *ip;
	if(strcmp(o, "stat") == 0){
		uint64_t valid, size, nlink;
		uint32_t mode, uid, gid, vers;

		*ip = i + 1;
		if(walkto(argv[i + 1], &fid) < 0)
			return -1;
		begin(Tgetattr);
		p4(fid);
		p8(0x3fff);
		if(rpc() < 0)
			return -1;
		valid = g(8);
		g(1);
		vers = g(4);
		g(8);
		mode = g(4);
		uid = g(4);
		gid = g(4);
		nlink = g(8);
		g(8);
		size = g(8);
		rp = re;
		(void)valid;
		printf("mode %o size %llu uid %u gid %u nlink %llu vers %u\n", mode, (unsigned long long)size,
			uid, gid, (unsigned long long)nlink, vers);
		return clunk(fid);
	}
	if(strcmp(o, "ls") == 0){
		*ip = i + 1;
		if(walkopen(argv[i + 1], 0, &fid) < 0)
			return -1;
		cookie = 0;
		for(;;){
			begin(Treaddir);
			p4(fid);
			p8(cookie);
			p4(msize - 24);
			if(rpc() < 0)
				return -1;
			n = g(4);
			if(n == 0)
				break;
			while(rp < re && !rbad){
				g(13);
				cookie = g(8);
				g(1);
				gstr(nbuf, sizeof nbuf);
				printf("%s\n", nbuf);
			}
			if(rbad){
				snprintf(errbuf, sizeof errbuf, "malformed Rreaddir");
				return -1;
			}
		}
		return clunk(fid);
	}
	if(strcmp(o, "create") == 0 || strcmp(o, "mkdir") == 0){
		*ip = i + 1;
		if(walkparent(argv[i + 1], &fid, &name) < 0)
			return -1;
		if(o[0] == 'c'){
			begin(Tlcreate);
			p4(fid);
			pstr(name);
			p4(01 | 0100);	/* O_WRONLY|O_CREAT */
			p4(0644);
			p4(0);
		}else{
			begin(Tmkdir);
			p4(fid);
			pstr(name);
			p4(0755);
			p4(0);
		}
		n = rpc();
		clunk(fid);
		return n;
	}
	if(strcmp(o, "rm") == 0 || strcmp(o, "rmdir") == 0){
		*ip = i + 1;
		if(walkparent(argv[i + 1], &fid, &name) < 0)
			return -1;
		begin(Tunlinkat);
		p4(fid);
		pstr(name);
		p4(o[1] == 'm' && o[2] == 'd' ? 0x200 : 0);
		n = rpc();
		clunk(fid);
		return n;
	}
	if(strcmp(o, "mv") == 0){
		if(i + 2 >= argc)
			return 1;
		*ip = i + 2;
		if(walkparent(argv[i + 1], &dfid, &name) < 0)
			return -1;
		if(walkparent(argv[i + 2], &ndfid, &nname) < 0){
			clunk(dfid);
			return -1;
		}
		begin(Trenameat);
		p4(dfid);
		pstr(name);
		p4(ndfid);
		pstr(nname);
		n = rpc();
		clunk(dfid);
		clunk(ndfid);
		return n;
	}
	if(strcmp(o, "truncate") == 0 || strcmp(o, "chmod") == 0){
		if(i + 2 >= argc)
			return 1;
		*ip = i + 2;
		if(walkto(argv[i + 1], &fid) < 0)
			return -1;
		off = strtoull(argv[i + 2], NULL, o[0] == 'c' ? 8 : 0);
		begin(Tsetattr);
		p4(fid);
		p4(o[0] == 'c' ? 1 : 8);
		p4(o[0] == 'c' ? off : 0);
		p4(0);
		p4(0);
		p8(o[0] == 't' ? off : 0);
		p8(0);
		p8(0);
		p8(0);
		p8(0);
		n = rpc();
		clunk(fid);
		return n;
	}
	return 1;
}

/* --- the script --- */

static int
need(int argc, int i, int n)
{
	if(i + n >= argc){
		fprintf(stderr, "p9call: missing argument\n");
		exit(2);
	}
	return 1;
}

/* Run the op at argv[*ip]; advances *ip past its arguments.  0 or -1 (errbuf). */
static int
op(int argc, char **argv, int *ip, const char **what)
{
	char *o;
	uint32_t fid;
	uint64_t off;
	Dir d;
	int i, n, k;

	i = *ip;
	o = argv[i];
	*what = o;
	if(strcmp(o, "version") == 0){
		begin(Tversion);
		p4(msize);
		pstr(version);
		if(rpc() < 0)
			return -1;
		{
			char v[64];
			uint32_t m;

			m = g(4);
			gstr(v, sizeof v);
			if(done() < 0)
				return -1;
			printf("version %s msize %u\n", v, m);
			dotl = strcmp(v, "9P2000.L") == 0;
			if(m < msize)
				msize = m;
		}
		return 0;
	}
	if(strcmp(o, "attach") == 0){
		begin(Tattach);
		p4(0);
		p4(NOFID);
		pstr(uname);
		pstr(aname);
		if(dotl)
			p4(0xffffffffU);	/* n_uname: none */
		if(rpc() < 0)
			return -1;
		g(13);
		return done();
	}
	if(strcmp(o, "raw") == 0){
		uint16_t rtag;
		int type;
		char *h;

		need(argc, i, 1);
		h = argv[++i];
		*ip = i;
		txn = 0;
		for(; h[0] && h[1]; h += 2)
			p1(hexval(h[0]) << 4 | hexval(h[1]));
		if(writeall(tx, txn) < 0){
			printf("hangup\n");
			return 0;
		}
		type = recvmsg9(&rtag);
		if(type == -1)
			printf("hangup\n");
		else if(type < 0)
			return -1;
		else if(type == Rerror){
			char e[512];

			gstr(e, sizeof e);
			printf("Rerror tag %d: %s\n", rtag, e);
		}else
			printf("R%d tag %d\n", type, rtag);
		return 0;
	}
	if(strcmp(o, "walkfids") == 0){
		need(argc, i, 1);
		n = atoi(argv[++i]);
		*ip = i;
		for(k = 0; k < n; k++)
			if(walkto("", &fid) < 0)
				return -1;
		return 0;
	}

	need(argc, i, 1);
	{
		static char w[256];

		snprintf(w, sizeof w, "%s %s", o, argv[i + 1]);
		*what = w;
	}
	if(dotl){
		n = lop(argc, argv, ip, o);
		if(n != 1)
			return n;
	}
	if(strcmp(o, "stat") == 0 || strcmp(o, "times") == 0){
		*ip = i + 1;
		if(walkto(argv[i + 1], &fid) < 0)
			return -1;
		begin(Tstat);
		p4(fid);
		if(rpc() < 0)
			return -1;
		g(2);
		if(getdir(&d) < 0 || done() < 0){
			snprintf(errbuf, sizeof errbuf, "malformed Rstat");
			return -1;
		}
		if(o[0] == 't')
			printf("atime %u mtime %u\n", d.atime, d.mtime);
		else
			printf("%s %s%o %llu %s %s %s %u\n", d.name, (d.mode & DMDIR) ? "d" : "", d.mode & 0777,
				(unsigned long long)d.length, d.uid, d.gid, d.muid, d.vers);
		return clunk(fid);
	}
	if(strcmp(o, "ls") == 0 || strcmp(o, "read") == 0){
		*ip = i + 1;
		if(walkopen(argv[i + 1], 0, &fid) < 0)
			return -1;
		off = 0;
		while((n = readfid(fid, off, msize - 24)) > 0){
			if(o[0] == 'r')
				fwrite(rp, 1, n, stdout);
			else
				while(rp < re){
					if(getdir(&d) < 0){
						snprintf(errbuf, sizeof errbuf, "malformed directory entry");
						return -1;
					}
					printf("%s\n", d.name);
				}
			off += n;
		}
		if(n < 0)
			return -1;
		return clunk(fid);
	}
	if(strcmp(o, "dirread") == 0){
		need(argc, i, 3);
		*ip = i + 3;
		if(walkopen(argv[i + 1], 0, &fid) < 0)
			return -1;
		n = readfid(fid, strtoull(argv[i + 3], NULL, 0), atoi(argv[i + 2]));
		if(n < 0){
			clunk(fid);
			return -1;
		}
		printf("count %d:", n);
		while(rp < re && getdir(&d) == 0)
			printf(" %s", d.name);
		printf("\n");
		return clunk(fid);
	}
	if(strcmp(o, "write") == 0 || strcmp(o, "writeat") == 0){
		const char *text;

		n = o[5] == 'a';
		need(argc, i, 2 + n);
		*ip = i + 2 + n;
		off = n ? strtoull(argv[i + 2], NULL, 0) : 0;
		text = argv[i + 2 + n];
		if(walkopen(argv[i + 1], n ? 1 : 1 | 0x10, &fid) < 0)
			return -1;
		if(writefid(fid, off, text, strlen(text)) < 0){
			clunk(fid);
			return -1;
		}
		return clunk(fid);
	}
	if(strcmp(o, "fill") == 0){
		char *buf;
		uint64_t total, left;
		size_t chunk, j;

		need(argc, i, 2);
		*ip = i + 2;
		total = strtoull(argv[i + 2], NULL, 0);
		if(walkopen(argv[i + 1], 1 | 0x10, &fid) < 0)
			return -1;
		chunk = msize - 24;
		buf = malloc(chunk);
		for(off = 0; off < total; off += k){
			left = total - off;
			k = left < chunk ? left : chunk;
			for(j = 0; j < (size_t)k; j++)
				buf[j] = 'a' + (off + j) % 26;
			if(writefid(fid, off, buf, k) != k){
				free(buf);
				clunk(fid);
				return -1;
			}
		}
		free(buf);
		return clunk(fid);
	}
	if(strcmp(o, "create") == 0 || strcmp(o, "mkdir") == 0){
		char dir[4096], *slash, *name;
		uint32_t perm;

		*ip = i + 1;
		perm = o[0] == 'm' ? DMDIR | 0755 : 0644;
		if(o[0] == 'c' && i + 2 < argc && argv[i + 2][0] >= '0' && argv[i + 2][0] <= '7'){
			perm = strtoul(argv[i + 2], NULL, 8);
			*ip = i + 2;
		}
		snprintf(dir, sizeof dir, "%s", argv[i + 1]);
		slash = strrchr(dir, '/');
		if(slash != NULL){
			*slash = 0;
			name = argv[i + 1] + (slash - dir) + 1;
		}else{
			dir[0] = 0;
			name = argv[i + 1];
		}
		if(walkto(dir, &fid) < 0)
			return -1;
		begin(Tcreate);
		p4(fid);
		pstr(name);
		p4(perm);
		p1(0);
		if(rpc() < 0){
			clunk(fid);
			return -1;
		}
		return clunk(fid);
	}
	if(strcmp(o, "openrm") == 0){
		*ip = i + 1;
		if(walkopen(argv[i + 1], 0x40, &fid) < 0)
			return -1;
		return clunk(fid);
	}
	if(strcmp(o, "rm") == 0){
		*ip = i + 1;
		if(walkto(argv[i + 1], &fid) < 0)
			return -1;
		begin(Tremove);
		p4(fid);
		return rpc();
	}
	if(strcmp(o, "mv") == 0 || strcmp(o, "chmod") == 0 || strcmp(o, "truncate") == 0 ||
			strcmp(o, "mtime") == 0){
		need(argc, i, 2);
		*ip = i + 2;
		if(walkto(argv[i + 1], &fid) < 0)
			return -1;
		if(o[0] == 'm' && o[1] == 'v')
			wstat(fid, argv[i + 2], ~0U, ~0U, ~0ULL);
		else if(o[0] == 'c'){
			uint32_t m;

			m = strtoul(argv[i + 2], NULL, 8);
			if(argv[i + 2][0] == 'd')
				m = DMDIR | strtoul(argv[i + 2] + 1, NULL, 8);
			wstat(fid, "", m, ~0U, ~0ULL);
		}else if(o[0] == 't')
			wstat(fid, "", ~0U, ~0U, strtoull(argv[i + 2], NULL, 0));
		else
			wstat(fid, "", ~0U, strtoul(argv[i + 2], NULL, 0), ~0ULL);
		n = rpc();
		clunk(fid);
		return n;
	}
	fprintf(stderr, "p9call: unknown op %s\n", o);
	exit(2);
}

static int
dialunix(const char *path)
{
	struct sockaddr_un sun;
	int s;

	s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if(s < 0)
		return -1;
	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof sun.sun_path, "%s", path);
	if(connect(s, (struct sockaddr *)&sun, sizeof sun) < 0){
		close(s);
		return -1;
	}
	return s;
}

int
main(int argc, char **argv)
{
	const char *what;
	pid_t pid;
	int i, sv[2], rc, st, try;

	alarm(30);
	signal(SIGPIPE, SIG_IGN);
	pid = -1;
	for(i = 1; i < argc && argv[i][0] == '-'; i++){
		if(i + 1 >= argc)
			goto Usage;
		if(strcmp(argv[i], "-u") == 0)
			uname = argv[++i];
		else if(strcmp(argv[i], "-a") == 0)
			aname = argv[++i];
		else if(strcmp(argv[i], "-m") == 0)
			msize = strtoul(argv[++i], NULL, 0);
		else if(strcmp(argv[i], "-V") == 0)
			version = argv[++i];
		else if(strcmp(argv[i], "-e") == 0){
			if(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
				return 1;
			pid = fork();
			if(pid == 0){
				dup2(sv[1], 0);
				dup2(sv[1], 1);
				close(sv[0]);
				close(sv[1]);
				execl("/bin/sh", "sh", "-c", argv[i + 1], (char *)NULL);
				_exit(127);
			}
			close(sv[1]);
			fd = sv[0];
			i += 2;
			break;
		}else
			goto Usage;
	}
	if(fd < 0){
		if(i >= argc)
			goto Usage;
		fd = dialunix(argv[i++]);
		if(fd < 0){
			fprintf(stderr, "p9call: connect %s: %s\n", argv[i - 1], strerror(errno));
			return 1;
		}
	}
	if(msize < 256 || msize > Maxmsg)
		msize = Maxmsg;
	tx = malloc(Maxmsg);
	rx = malloc(Maxmsg);
	rc = 0;
	for(; i < argc; i++){
		try = strcmp(argv[i], "try") == 0;
		if(try && ++i >= argc)
			goto Usage;
		if(op(argc, argv, &i, &what) < 0){
			if(try)
				printf("error: %s\n", errbuf);
			else{
				fflush(stdout);
				fprintf(stderr, "p9call: %s: %s\n", what, errbuf);
				rc = 1;
				break;
			}
		}
		fflush(stdout);
	}
	close(fd);
	if(pid > 0){
		while(waitpid(pid, &st, 0) < 0 && errno == EINTR)
			;
		if(!WIFEXITED(st) || WEXITSTATUS(st) != 0){
			fprintf(stderr, "p9call: the server exited with status %d\n",
				WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
			rc = 1;
		}
	}
	free(tx);
	free(rx);
	return rc;
Usage:
	fprintf(stderr, "usage: p9call [-u uname] [-a aname] [-m msize] [-V version] {SOCKET | -e CMD} OP...\n");
	return 2;
}
