/*
 * t_9p.c: the 9P codec (lib/9p).  Every message of every dialect
 * survives pack -> unpack -> pack with all fields and bytes intact, at
 * the size the spec gives; hostile input (truncated, oversized, wrong
 * counts, bad strings, bad stat sizes, bad msize, unknown types) is
 * refused with EPROTO; a few messages are checked byte for byte against
 * hand-assembled wire data.  The expectations here are written from the
 * protocol documents, not from lib/9p's tables.
 *
 * With P9_CORPUS=dir set, every sample message is also written into dir
 * (seeds for tests/fuzz/fuzz_9p).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "9p.h"
#include "tap.h"

enum { Bufsize = 8192, Msize = 8192 };

static const char *dname[] = {"9P2000", "9P2000.u", "9P2000.L"};
static const uint8_t blob[] = "hello, world\n\0\x01\x02\xff";
/* Two readdir entries, "." and "..": qid[13] offset[8] type[1] name[s]. */
static const uint8_t dirents[] = {
	0x80, 0, 0, 0, 0, 0xac, 0x1f, 0x2c, 0, 0, 0, 0, 0, 0x01, 0, 0, 0, 0, 0, 0, 0, 0x04,
	0x01, 0x00, '.',
	0x80, 0x00, 0x00, 0x00, 0x00, 0x01, 0x02, 0, 0, 0, 0, 0, 0, 0x02, 0, 0, 0, 0, 0, 0, 0, 0x04,
	0x02, 0x00, '.', '.',
};

/* A test name, formatted (one at a time). */
static const char *
tname(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static const char *
tname(const char *fmt, ...)
{
	static char buf[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	return buf;
}

static int
streq0(const char *a, const char *b)
{
	return strcmp(a != NULL ? a : "", b != NULL ? b : "") == 0;
}

static size_t
S(const char *s)
{
	return 2 + (s != NULL ? strlen(s) : 0);
}

/* --- which message is in which dialect, from the protocol documents --- */

static int
legal(int t, int d)
{
	static const int common[] = {
		P9_TVERSION, P9_RVERSION, P9_TAUTH, P9_RAUTH, P9_TATTACH, P9_RATTACH,
		P9_TFLUSH, P9_RFLUSH, P9_TWALK, P9_RWALK, P9_TREAD, P9_RREAD, P9_TWRITE,
		P9_RWRITE, P9_TCLUNK, P9_RCLUNK, P9_TREMOVE, P9_RREMOVE,
	};
	static const int plan9[] = {
		P9_RERROR, P9_TOPEN, P9_ROPEN, P9_TCREATE, P9_RCREATE, P9_TSTAT, P9_RSTAT,
		P9_TWSTAT, P9_RWSTAT,
	};
	static const int dotl[] = {
		P9_RLERROR, P9_TSTATFS, P9_RSTATFS, P9_TLOPEN, P9_RLOPEN, P9_TLCREATE,
		P9_RLCREATE, P9_TSYMLINK, P9_RSYMLINK, P9_TMKNOD, P9_RMKNOD, P9_TRENAME,
		P9_RRENAME, P9_TREADLINK, P9_RREADLINK, P9_TGETATTR, P9_RGETATTR, P9_TSETATTR,
		P9_RSETATTR, P9_TXATTRWALK, P9_RXATTRWALK, P9_TXATTRCREATE, P9_RXATTRCREATE,
		P9_TREADDIR, P9_RREADDIR, P9_TFSYNC, P9_RFSYNC, P9_TLOCK, P9_RLOCK,
		P9_TGETLOCK, P9_RGETLOCK, P9_TLINK, P9_RLINK, P9_TMKDIR, P9_RMKDIR,
		P9_TRENAMEAT, P9_RRENAMEAT, P9_TUNLINKAT, P9_RUNLINKAT,
	};
	size_t i;

	for(i = 0; i < nelem(common); i++)
		if(common[i] == t)
			return 1;
	for(i = 0; i < nelem(plan9); i++)
		if(plan9[i] == t)
			return d != P9_9P2000L;
	for(i = 0; i < nelem(dotl); i++)
		if(dotl[i] == t)
			return d == P9_9P2000L;
	return 0;
}

/* --- sample messages --- */

static void
samplestat(P9Stat *st, int d, const char *name)
{
	memset(st, 0, sizeof *st);
	st->type = 0x0a0b;
	st->dev = 0x01020304;
	st->qid.type = P9_QTDIR;
	st->qid.vers = 7;
	st->qid.path = 0x1122334455667788ULL;
	st->mode = P9_DMDIR | 0755;
	st->atime = 1700000000;
	st->mtime = 1700000001;
	st->length = 0x123456789aULL;
	st->name = (char *)name;
	st->uid = "glenda";
	st->gid = "sys";
	st->muid = "";
	st->n_uid = st->n_gid = st->n_muid = P9_NONUNAME;
	if(d == P9_9P2000U){
		st->extension = "ext";
		st->n_uid = 1000;
		st->n_gid = 1001;
		st->n_muid = 1002;
	}
}

/* The size of a stat record (with its size[2]) by the spec. */
static size_t
statlen(const P9Stat *st, int d)
{
	size_t n;

	n = 2 + 2 + 4 + 13 + 4 + 4 + 4 + 8 + S(st->name) + S(st->uid) + S(st->gid) + S(st->muid);
	if(d == P9_9P2000U)
		n += S(st->extension) + 4 + 4 + 4;
	return n;
}

static void
sampleqid(P9Qid *q, int i)
{
	q->type = i & 1 ? P9_QTDIR : P9_QTFILE;
	q->vers = 100 + i;
	q->path = 0xabcdef0000ULL + i;
}

/*
 * Fill f with a message of type t for dialect d, every field it carries
 * set to something distinct.  Returns the body size (after the 7-byte
 * header) by the spec, or -1 when t is not a message of d.
 */
static long
sample(int t, int d, P9Fcall *f)
{
	int u, i;

	memset(f, 0, sizeof *f);
	f->n_uname = P9_NONUNAME;
	f->stat.n_uid = f->stat.n_gid = f->stat.n_muid = P9_NONUNAME;
	if(!legal(t, d))
		return -1;
	u = d != P9_9P2000;
	f->type = t;
	f->tag = 0x1200 + t;
	switch(t){
	case P9_TVERSION:
	case P9_RVERSION:
		f->tag = P9_NOTAG;
		f->msize = 8192 + 24;
		f->version = (char *)dname[d];
		return 4 + S(f->version);
	case P9_TAUTH:
		f->afid = 17;
		f->uname = "glenda";
		f->aname = "main/active";
		if(u)
			f->n_uname = 1000;
		return 4 + S(f->uname) + S(f->aname) + (u ? 4 : 0);
	case P9_RAUTH:
	case P9_RATTACH:
	case P9_RSYMLINK:
	case P9_RMKNOD:
	case P9_RMKDIR:
		sampleqid(&f->qid, t);
		return 13;
	case P9_TATTACH:
		f->fid = 1;
		f->afid = P9_NOFID;
		f->uname = "";
		f->aname = "/tmp";
		if(u)
			f->n_uname = 0;
		return 4 + 4 + S(f->uname) + S(f->aname) + (u ? 4 : 0);
	case P9_RERROR:
		f->ename = "file does not exist";
		if(d == P9_9P2000U)
			f->errnum = ENOENT;
		return S(f->ename) + (d == P9_9P2000U ? 4 : 0);
	case P9_RLERROR:
		f->errnum = ENOTEMPTY;
		return 4;
	case P9_TFLUSH:
		f->oldtag = 0x4321;
		return 2;
	case P9_TWALK:
		f->fid = 3;
		f->newfid = 4;
		f->nwname = P9_MAXWELEM;
		for(i = 0; i < P9_MAXWELEM; i++)
			f->wname[i] = i == 3 ? "" : i & 1 ? "usr" : "λ name";
		return 4 + 4 + 2 + 7 * S("usr") + 8 * S("λ name") + S("");
	case P9_RWALK:
		f->nwqid = 5;
		for(i = 0; i < 5; i++)
			sampleqid(&f->wqid[i], i);
		return 2 + 5 * 13;
	case P9_TOPEN:
		f->fid = 9;
		f->mode = P9_ORDWR | P9_OTRUNC;
		return 4 + 1;
	case P9_ROPEN:
	case P9_RCREATE:
	case P9_RLOPEN:
	case P9_RLCREATE:
		sampleqid(&f->qid, t);
		f->iounit = 8168;
		return 13 + 4;
	case P9_TCREATE:
		f->fid = 10;
		f->name = "new file";
		f->perm = P9_DMDIR | 0775;
		f->mode = P9_OREAD;
		if(d == P9_9P2000U)
			f->extension = "b 1 2";
		return 4 + S(f->name) + 4 + 1 + (d == P9_9P2000U ? S(f->extension) : 0);
	case P9_TREAD:
	case P9_TREADDIR:
		f->fid = 11;
		f->offset = 0x0102030405060708ULL;
		f->count = 8168;
		return 4 + 8 + 4;
	case P9_RREAD:
		f->count = sizeof blob;
		f->data = blob;
		return 4 + sizeof blob;
	case P9_RREADDIR:
		f->count = sizeof dirents;
		f->data = dirents;
		return 4 + sizeof dirents;
	case P9_TWRITE:
		f->fid = 12;
		f->offset = 99;
		f->count = sizeof blob;
		f->data = blob;
		return 4 + 8 + 4 + sizeof blob;
	case P9_RWRITE:
		f->count = 4096;
		return 4;
	case P9_TCLUNK:
	case P9_TREMOVE:
	case P9_TSTAT:
	case P9_TSTATFS:
	case P9_TREADLINK:
		f->fid = 0x10000 + t;
		return 4;
	case P9_RFLUSH:
	case P9_RCLUNK:
	case P9_RREMOVE:
	case P9_RWSTAT:
	case P9_RRENAME:
	case P9_RSETATTR:
	case P9_RXATTRCREATE:
	case P9_RFSYNC:
	case P9_RLINK:
	case P9_RRENAMEAT:
	case P9_RUNLINKAT:
		return 0;
	case P9_RSTAT:
		samplestat(&f->stat, d, "usr");
		return 2 + statlen(&f->stat, d);
	case P9_TWSTAT:
		f->fid = 13;
		samplestat(&f->stat, d, "renamed");
		return 4 + 2 + statlen(&f->stat, d);
	case P9_RSTATFS:
		f->statfs.type = 0x01021994;
		f->statfs.bsize = 4096;
		f->statfs.blocks = 1000000;
		f->statfs.bfree = 500000;
		f->statfs.bavail = 400000;
		f->statfs.files = 65536;
		f->statfs.ffree = 60000;
		f->statfs.fsid = 0xfeedfacecafebeefULL;
		f->statfs.namelen = 255;
		return 4 + 4 + 8 * 6 + 4;
	case P9_TLOPEN:
		f->fid = 14;
		f->flags = P9_DOTL_RDWR | P9_DOTL_NOFOLLOW;
		return 4 + 4;
	case P9_TLCREATE:
		f->fid = 15;
		f->name = "foo";
		f->flags = 0x8241;
		f->perm = 0100644;
		f->gid = 500;
		return 4 + S(f->name) + 4 + 4 + 4;
	case P9_TSYMLINK:
		f->fid = 16;
		f->name = "link";
		f->target = "/tmp/9/newdir";
		f->gid = 501;
		return 4 + S(f->name) + S(f->target) + 4;
	case P9_TMKNOD:
		f->dfid = 17;
		f->name = "null";
		f->perm = 020666;
		f->major = 1;
		f->minor = 3;
		f->gid = 502;
		return 4 + S(f->name) + 4 + 4 + 4 + 4;
	case P9_TRENAME:
		f->fid = 18;
		f->dfid = 19;
		f->name = "moved";
		return 4 + 4 + S(f->name);
	case P9_RREADLINK:
		f->target = "../target";
		return S(f->target);
	case P9_TGETATTR:
		f->fid = 20;
		f->mask = P9_GETATTR_ALL;
		return 4 + 8;
	case P9_RGETATTR:
		f->attr.valid = P9_GETATTR_BASIC;
		sampleqid(&f->attr.qid, 3);
		f->attr.mode = 0100644;
		f->attr.uid = 500;
		f->attr.gid = 501;
		f->attr.nlink = 2;
		f->attr.rdev = 3;
		f->attr.size = 4;
		f->attr.blksize = 5;
		f->attr.blocks = 6;
		f->attr.atime_sec = 7;
		f->attr.atime_nsec = 8;
		f->attr.mtime_sec = 9;
		f->attr.mtime_nsec = 10;
		f->attr.ctime_sec = 11;
		f->attr.ctime_nsec = 12;
		f->attr.btime_sec = 13;
		f->attr.btime_nsec = 14;
		f->attr.gen = 15;
		f->attr.data_version = 16;
		return 8 + 13 + 4 + 4 + 4 + 8 * 15;
	case P9_TSETATTR:
		f->fid = 21;
		f->attr.valid = P9_SETATTR_MODE | P9_SETATTR_MTIME_SET;
		f->attr.mode = 0600;
		f->attr.uid = 22;
		f->attr.gid = 23;
		f->attr.size = 24;
		f->attr.atime_sec = 25;
		f->attr.atime_nsec = 26;
		f->attr.mtime_sec = 27;
		f->attr.mtime_nsec = 28;
		return 4 + 4 + 4 + 4 + 4 + 8 * 5;
	case P9_TXATTRWALK:
		f->fid = 29;
		f->newfid = 30;
		f->name = "user.mime_type";
		return 4 + 4 + S(f->name);
	case P9_RXATTRWALK:
		f->attrsize = 0x100000000ULL;
		return 8;
	case P9_TXATTRCREATE:
		f->fid = 31;
		f->name = "security.selinux";
		f->attrsize = 77;
		f->flags = 1;
		return 4 + S(f->name) + 8 + 4;
	case P9_TFSYNC:
		f->fid = 32;
		f->datasync = 1;
		return 4 + 4;
	case P9_TLOCK:
		f->fid = 33;
		f->lock.type = P9_LOCK_TYPE_WRLCK;
		f->lock.flags = P9_LOCK_FLAGS_BLOCK;
		f->lock.start = 100;
		f->lock.length = 200;
		f->lock.proc_id = 4242;
		f->lock.client_id = "host";
		return 4 + 1 + 4 + 8 + 8 + 4 + S(f->lock.client_id);
	case P9_RLOCK:
		f->status = P9_LOCK_BLOCKED;
		return 1;
	case P9_TGETLOCK:
		f->fid = 34;
		/* fall through */
	case P9_RGETLOCK:
		f->lock.type = P9_LOCK_TYPE_RDLCK + (t == P9_RGETLOCK);
		f->lock.start = 300;
		f->lock.length = 0;
		f->lock.proc_id = 4343;
		f->lock.client_id = "other host";
		return (t == P9_TGETLOCK ? 4 : 0) + 1 + 8 + 8 + 4 + S(f->lock.client_id);
	case P9_TLINK:
		f->dfid = 35;
		f->fid = 36;
		f->name = "hard";
		return 4 + 4 + S(f->name);
	case P9_TMKDIR:
		f->dfid = 37;
		f->name = "newdir";
		f->perm = 040755;
		f->gid = 503;
		return 4 + S(f->name) + 4 + 4;
	case P9_TRENAMEAT:
		f->dfid = 38;
		f->name = "old";
		f->newdfid = 39;
		f->newname = "new";
		return 4 + S(f->name) + 4 + S(f->newname);
	case P9_TUNLINKAT:
		f->dfid = 40;
		f->name = "gone";
		f->flags = 0x200;
		return 4 + S(f->name) + 4;
	}
	return -2;	/* a legal type this test forgot */
}

static int
qideq(const P9Qid *a, const P9Qid *b)
{
	return a->type == b->type && a->vers == b->vers && a->path == b->path;
}

static int
stateq(const P9Stat *a, const P9Stat *b)
{
	return a->type == b->type && a->dev == b->dev && qideq(&a->qid, &b->qid) &&
	       a->mode == b->mode && a->atime == b->atime && a->mtime == b->mtime &&
	       a->length == b->length && streq0(a->name, b->name) && streq0(a->uid, b->uid) &&
	       streq0(a->gid, b->gid) && streq0(a->muid, b->muid) &&
	       streq0(a->extension, b->extension) && a->n_uid == b->n_uid &&
	       a->n_gid == b->n_gid && a->n_muid == b->n_muid;
}

/* Every field of two messages; *whyp names the first that differs. */
static int
fcalleq(const P9Fcall *a, const P9Fcall *b, const char **whyp)
{
	int i;

#define SAME(c, n)           \
	do {                 \
		if(!(c)){    \
			*whyp = n; \
			return 0; \
		}            \
	} while(0)
	SAME(a->type == b->type && a->tag == b->tag, "type/tag");
	SAME(a->fid == b->fid, "fid");
	SAME(a->msize == b->msize && streq0(a->version, b->version), "version");
	SAME(a->oldtag == b->oldtag, "oldtag");
	SAME(streq0(a->ename, b->ename) && a->errnum == b->errnum, "error");
	SAME(a->afid == b->afid && streq0(a->uname, b->uname) && streq0(a->aname, b->aname) &&
		     a->n_uname == b->n_uname,
	     "attach");
	SAME(qideq(&a->qid, &b->qid) && a->iounit == b->iounit, "qid/iounit");
	SAME(a->newfid == b->newfid && a->nwname == b->nwname, "newfid/nwname");
	for(i = 0; i < a->nwname && i < P9_MAXWELEM; i++)
		SAME(streq0(a->wname[i], b->wname[i]), "wname");
	SAME(a->nwqid == b->nwqid, "nwqid");
	for(i = 0; i < a->nwqid && i < P9_MAXWELEM; i++)
		SAME(qideq(&a->wqid[i], &b->wqid[i]), "wqid");
	SAME(a->mode == b->mode && a->perm == b->perm, "mode/perm");
	SAME(streq0(a->name, b->name) && streq0(a->extension, b->extension), "name/extension");
	SAME(a->offset == b->offset && a->count == b->count, "offset/count");
	if(a->data != NULL && b->data != NULL)
		SAME(memcmp(a->data, b->data, a->count) == 0, "data");
	else
		SAME(a->data == b->data || a->count == 0, "data");
	SAME(stateq(&a->stat, &b->stat), "stat");
	SAME(a->flags == b->flags && a->gid == b->gid && streq0(a->target, b->target), "flags/gid/target");
	SAME(a->major == b->major && a->minor == b->minor, "major/minor");
	SAME(a->dfid == b->dfid && a->newdfid == b->newdfid && streq0(a->newname, b->newname), "dfid/newname");
	SAME(a->mask == b->mask, "mask");
	/* Both sides were zeroed before they were filled, padding too. */
	SAME(memcmp(&a->attr, &b->attr, sizeof a->attr) == 0, "attr");
	SAME(memcmp(&a->statfs, &b->statfs, sizeof a->statfs) == 0, "statfs");
	SAME(a->attrsize == b->attrsize && a->datasync == b->datasync && a->status == b->status,
	     "attrsize/datasync/status");
	SAME(a->lock.type == b->lock.type && a->lock.flags == b->lock.flags &&
		     a->lock.start == b->lock.start && a->lock.length == b->lock.length &&
		     a->lock.proc_id == b->lock.proc_id && streq0(a->lock.client_id, b->lock.client_id),
	     "lock");
#undef SAME
	return 1;
}

static void
savecorpus(const uint8_t *buf, int n, int t, int d)
{
	const char *dir;
	char path[512];
	FILE *fp;

	dir = getenv("P9_CORPUS");
	if(dir == NULL || n <= 0)
		return;
	snprintf(path, sizeof path, "%s/%s-%s", dir, p9_typename(t), dname[d]);
	fp = fopen(path, "w");
	if(fp == NULL)
		return;
	fwrite(buf, 1, n, fp);
	fclose(fp);
}

/* --- round trips --- */

static void
testroundtrip(void)
{
	uint8_t buf[Bufsize], buf2[Bufsize];
	P9Fcall f, g;
	const char *why;
	Buf b = {0};
	long want;
	int t, d, n, m, nmsg;

	nmsg = 0;
	for(d = 0; d < P9_NDIALECT; d++)
		for(t = 0; t < 256; t++){
			want = sample(t, d, &f);
			if(want == -2){
				ok(0, "sample for type %d", t);
				continue;
			}
			if(want < 0)
				continue;
			nmsg++;
			n = p9_pack(&f, d, buf, sizeof buf);
			if(!is_int(n, P9_HDRSZ + want, tname("%s %s: size by the spec", p9_typename(t), dname[d])))
				diag("%s", errtext());
			savecorpus(buf, n, t, d);
			m = p9_unpack(buf, n, d, Msize, &g);
			why = m == n ? "" : errtext();
			ok(m == n && fcalleq(&f, &g, &why), "%s %s: unpack gives every field back%s%s",
			   p9_typename(t), dname[d], why[0] ? ": " : "", why);
			m = p9_pack(&g, d, buf2, sizeof buf2);
			ok(m == n && memcmp(buf, buf2, n) == 0, "%s %s: repack byte-identical", p9_typename(t),
			   dname[d]);
			p9_fmt(&b, &g, d);
			ok(b.s != NULL && strncmp(b.s, p9_typename(t), strlen(p9_typename(t))) == 0 &&
				   strchr(b.s, '\n') == NULL,
			   "%s %s: trace is one line", p9_typename(t), dname[d]);
			if(getenv("VERBOSE") != NULL)
				diag("%s", b.s);
			buffree(&b);
			p9_freefcall(&g);
		}
	/* 27 of 9P2000, the same in .u, 18 + Rlerror + 38 in .L. */
	is_int(nmsg, 27 + 27 + 57, "messages in the three dialects");
}

/* Message types outside a dialect are refused both ways. */
static void
testlegal(void)
{
	uint8_t buf[16];
	P9Fcall f;
	int t, d, bad, badpack, badname;

	for(d = 0; d < P9_NDIALECT; d++){
		bad = badpack = badname = 0;
		for(t = 0; t < 256; t++){
			if(p9_legal(t, d) != legal(t, d))
				badname++;
			if(legal(t, d))
				continue;
			memset(buf, 0, sizeof buf);
			buf[0] = P9_HDRSZ;
			buf[4] = t;
			if(p9_unpack(buf, P9_HDRSZ, d, Msize, &f) != -1 || errcode() != EPROTO)
				bad++;
			else if(f.type != t || f.tag != 0)
				bad++;
			memset(&f, 0, sizeof f);
			f.type = t;
			if(p9_pack(&f, d, buf, sizeof buf) != -1 || errcode() != EINVAL)
				badpack++;
		}
		ok(badname == 0, "p9_legal agrees with the spec in %s (%d wrong)", dname[d], badname);
		ok(bad == 0, "unpack refuses the types %s lacks (%d accepted)", dname[d], bad);
		ok(badpack == 0, "pack refuses the types %s lacks (%d accepted)", dname[d], badpack);
	}
	is_str(p9_typename(P9_TWALK), "Twalk", "typename Twalk");
	is_str(p9_typename(P9_RLERROR), "Rlerror", "typename Rlerror");
	ok(p9_typename(99) == NULL && p9_typename(-1) == NULL && p9_typename(256) == NULL,
	   "typename of a non-type is NULL");
	is_int(p9_dialect("9P2000.L"), P9_9P2000L, "dialect 9P2000.L");
	is_int(p9_dialect("9P2000.u"), P9_9P2000U, "dialect 9P2000.u");
	is_int(p9_dialect("9P2000"), P9_9P2000, "dialect 9P2000");
	is_int(p9_dialect("9P2000.x"), -1, "dialect 9P2000.x unknown");
	is_str(p9_versionstr(P9_9P2000L), "9P2000.L", "versionstr .L");
}

/* --- hostile input --- */

static int
refused(const uint8_t *buf, size_t len, int d, size_t msize)
{
	P9Fcall f;
	int n;

	clearerr9();
	n = p9_unpack(buf, len, d, msize, &f);
	if(n >= 0){
		p9_freefcall(&f);
		return 0;
	}
	return errcode() == EPROTO && errtext()[0] != 0 && f.mem == NULL;
}

static void
testtruncated(void)
{
	uint8_t buf[Bufsize], *cp;
	P9Fcall f;
	int t, d, n, k, bad, bad2, bad3, bad4;

	for(d = 0; d < P9_NDIALECT; d++){
		bad = bad2 = bad3 = bad4 = 0;
		for(t = 0; t < 256; t++){
			if(sample(t, d, &f) < 0)
				continue;
			n = p9_pack(&f, d, buf, sizeof buf);
			for(k = 0; k < n; k++){
				/* Exactly k bytes, in their own allocation so ASan sees any overread. */
				cp = malloc(k ? k : 1);
				memcpy(cp, buf, k);
				if(!refused(cp, k, d, Msize))
					bad++;
				/* The size field claims k bytes too. */
				if(k >= 4){
					cp[0] = k;
					cp[1] = k >> 8;
					cp[2] = cp[3] = 0;
					if(!refused(cp, k, d, Msize))
						bad2++;
				}
				free(cp);
			}
			/* A byte of trailing garbage inside the claimed size. */
			buf[n] = 0;
			buf[0] = n + 1;
			buf[1] = (n + 1) >> 8;
			if(!refused(buf, n + 1, d, Msize))
				bad3++;
			/* Size field larger than the buffer. */
			if(!refused(buf, n, d, Msize))
				bad3++;
			buf[0] = n;
			buf[1] = n >> 8;
			/* Size over msize. */
			if(!refused(buf, n, d, n - 1))
				bad4++;
			if(p9_unpack(buf, n, d, n, &f) != n)
				bad4++;
			p9_freefcall(&f);
		}
		ok(bad == 0, "%s: every message truncated at every byte refused (%d accepted)", dname[d], bad);
		ok(bad2 == 0, "%s: ... also with a size field that agrees (%d accepted)", dname[d], bad2);
		ok(bad3 == 0, "%s: size field larger or smaller than the message refused (%d accepted)",
		   dname[d], bad3);
		ok(bad4 == 0, "%s: size > msize refused, size == msize accepted (%d wrong)", dname[d], bad4);
	}
}

/* Hand-assembled bad messages: size[4] is filled in by put(). */
typedef struct Msg Msg;
struct Msg {
	uint8_t b[512];
	int n;
};

static void
put(Msg *m, const char *bytes, int n)
{
	memcpy(m->b + m->n, bytes, n);
	m->n += n;
	m->b[0] = m->n;
	m->b[1] = m->n >> 8;
	m->b[2] = m->b[3] = 0;
}

static void
hdr(Msg *m, int type)
{
	memset(m, 0, sizeof *m);
	m->n = 4;
	put(m, (char[]){type, 1, 0}, 3);
}

static void
p16(Msg *m, unsigned v)
{
	put(m, (char[]){v, v >> 8}, 2);
}

static void
p32(Msg *m, unsigned v)
{
	put(m, (char[]){v, v >> 8, v >> 16, v >> 24}, 4);
}

static void
pstr(Msg *m, const char *s)
{
	p16(m, strlen(s));
	put(m, s, strlen(s));
}

static void
pqid(Msg *m)
{
	put(m, (char[13]){P9_QTDIR, 1}, 13);
}

/* The fixed part of a Twrite (fid, offset) and a Twalk (fid, newfid). */
static void
twrite(Msg *m)
{
	hdr(m, P9_TWRITE);
	put(m, (char[12]){0}, 12);
}

static void
twalk(Msg *m)
{
	hdr(m, P9_TWALK);
	put(m, (char[8]){0, 0, 0, 0, 1}, 8);
}

/* A 9P2000 stat record: size as given, the strings, extra bytes. */
static void
pstat(Msg *m, int nfield, int sizefield, int extra)
{
	int body;

	body = 39 + 4 * 3 + extra;	/* strings "a", "u", "g", "m" */
	if(nfield >= 0)
		p16(m, nfield);
	else
		p16(m, body + 2);
	p16(m, sizefield >= 0 ? sizefield : body);
	put(m, (char[8]){0}, 2 + 4);
	pqid(m);
	p32(m, 0755);
	p32(m, 1);
	p32(m, 2);
	put(m, (char[8]){0}, 8);
	pstr(m, "a");
	pstr(m, "u");
	pstr(m, "g");
	pstr(m, "m");
	put(m, (char[8]){0}, extra);
}

/* Stat records gone wrong in Rstat and Twstat; -1 keeps the right value. */
static const struct {
	int type, n, size, extra, muidlen, dialect;
	const char *name;
} badstat[] = {
	{P9_RSTAT, 60, -1, 0, 0, P9_9P2000, "Rstat: n past the end"},
	{P9_RSTAT, 40, -1, 0, 0, P9_9P2000, "Rstat: n short of the record"},
	{P9_RSTAT, -1, 50, 0, 0, P9_9P2000, "Rstat: stat size one short of n-2"},
	{P9_RSTAT, -1, 52, 0, 0, P9_9P2000, "Rstat: stat size one over n-2"},
	{P9_RSTAT, -1, -1, 3, 0, P9_9P2000, "Rstat: 3 unparsed bytes inside the stat"},
	{P9_RSTAT, 0, 0, 0, 0, P9_9P2000, "Rstat: n 0"},
	{P9_RSTAT, -1, -1, 0, 0, P9_9P2000U, "Rstat: 9P2000 stat in 9P2000.u (too short)"},
	{P9_TWSTAT, 1, -1, 0, 0, P9_9P2000, "Twstat: n 1"},
	{P9_TWSTAT, -1, 0xffff, 0, 0, P9_9P2000, "Twstat: stat size 65535"},
	{P9_TWSTAT, -1, -1, 0, 9, P9_9P2000, "Twstat: a string (muid) runs past the stat"},
};

static void
testhostile(void)
{
	P9Fcall f;
	Msg m;
	int i, d;

	/* A well-formed Rstat first, so the bad ones below fail for their one fault. */
	hdr(&m, P9_RSTAT);
	pstat(&m, -1, -1, 0);
	ok(p9_unpack(m.b, m.n, P9_9P2000, Msize, &f) == m.n && strcmp(f.stat.muid, "m") == 0,
	   "hand-made Rstat accepted");
	p9_freefcall(&f);

	for(i = 0; i < (int)nelem(badstat); i++){
		hdr(&m, badstat[i].type);
		if(badstat[i].type == P9_TWSTAT)
			p32(&m, 1);
		pstat(&m, badstat[i].n, badstat[i].size, badstat[i].extra);
		if(badstat[i].muidlen)
			m.b[m.n - 3] = badstat[i].muidlen;
		ok(refused(m.b, m.n, badstat[i].dialect, Msize), "%s", badstat[i].name);
	}

	/* Strings. */
	hdr(&m, P9_TVERSION);
	p32(&m, 8192);
	p16(&m, 100);
	put(&m, "9P2000", 6);
	ok(refused(m.b, m.n, P9_9P2000, Msize), "Tversion: string length past the end");
	hdr(&m, P9_TVERSION);
	p32(&m, 8192);
	p16(&m, 0xffff);
	ok(refused(m.b, m.n, P9_9P2000, Msize), "Tversion: string length 65535, nothing after");
	hdr(&m, P9_TVERSION);
	p32(&m, 8192);
	pstr(&m, "9P2000");
	m.b[m.n - 2] = 0;
	ok(refused(m.b, m.n, P9_9P2000, Msize), "Tversion: NUL inside the string");
	twalk(&m);
	p16(&m, 1);
	p16(&m, 3);
	put(&m, "a\0b", 3);
	ok(refused(m.b, m.n, P9_9P2000L, Msize), "Twalk: NUL inside a name");
	hdr(&m, P9_TATTACH);
	p32(&m, 0);
	p32(&m, P9_NOFID);
	pstr(&m, "glenda");
	pstr(&m, "");
	ok(refused(m.b, m.n, P9_9P2000U, Msize), "Tattach: .u without n_uname");
	ok(p9_unpack(m.b, m.n, P9_9P2000, Msize, &f) == m.n && f.n_uname == P9_NONUNAME,
	   "Tattach: 9P2000 without n_uname accepted, n_uname NONUNAME");
	p9_freefcall(&f);
	p32(&m, 1000);
	ok(p9_unpack(m.b, m.n, P9_9P2000L, Msize, &f) == m.n && f.n_uname == 1000,
	   "Tattach: .L with n_uname accepted");
	p9_freefcall(&f);
	ok(refused(m.b, m.n, P9_9P2000, Msize), "Tattach: 9P2000 with n_uname (trailing bytes)");

	/* Counts. */
	twalk(&m);
	p16(&m, 17);
	for(i = 0; i < 17; i++)
		pstr(&m, "x");
	for(d = 0; d < P9_NDIALECT; d++)
		ok(refused(m.b, m.n, d, Msize), "Twalk: nwname 17 (%s)", dname[d]);
	twalk(&m);
	p16(&m, 3);
	pstr(&m, "x");
	pstr(&m, "y");
	ok(refused(m.b, m.n, P9_9P2000, Msize), "Twalk: nwname 3 with 2 names");
	twalk(&m);
	p16(&m, 1);
	pstr(&m, "x");
	pstr(&m, "y");
	ok(refused(m.b, m.n, P9_9P2000, Msize), "Twalk: nwname 1 with 2 names");
	hdr(&m, P9_RWALK);
	p16(&m, 17);
	for(i = 0; i < 17; i++)
		pqid(&m);
	ok(refused(m.b, m.n, P9_9P2000, Msize), "Rwalk: nwqid 17");
	hdr(&m, P9_RWALK);
	p16(&m, 2);
	pqid(&m);
	ok(refused(m.b, m.n, P9_9P2000, Msize), "Rwalk: nwqid 2 with 1 qid");
	twrite(&m);
	p32(&m, 10);
	put(&m, "12345", 5);
	ok(refused(m.b, m.n, P9_9P2000, Msize), "Twrite: count past the end");
	twrite(&m);
	p32(&m, 0xffffffff);
	ok(refused(m.b, m.n, P9_9P2000, Msize), "Twrite: count 2^32-1");
	twrite(&m);
	p32(&m, 3);
	put(&m, "12345", 5);
	ok(refused(m.b, m.n, P9_9P2000, Msize), "Twrite: count short of the data");
	hdr(&m, P9_RREAD);
	p32(&m, 100);
	put(&m, "x", 1);
	ok(refused(m.b, m.n, P9_9P2000L, Msize), "Rread: count past the end");
	hdr(&m, P9_RREADDIR);
	p32(&m, 0x80000000);
	ok(refused(m.b, m.n, P9_9P2000L, Msize), "Rreaddir: count 2^31");

	/* Headers, types, msize. */
	hdr(&m, P9_TCLUNK);
	p32(&m, 1);
	ok(p9_unpack(m.b, m.n, P9_9P2000, Msize, &f) == m.n, "Tclunk accepted");
	ok(refused(m.b, 0, P9_9P2000, Msize), "0 bytes");
	ok(refused(m.b, 3, P9_9P2000, Msize), "3 bytes");
	m.b[0] = 6;
	ok(refused(m.b, m.n, P9_9P2000, Msize), "size 6");
	m.b[0] = 0;
	ok(refused(m.b, m.n, P9_9P2000, Msize), "size 0");
	m.b[0] = m.n;
	m.b[3] = 0x80;
	ok(refused(m.b, m.n, P9_9P2000, (size_t)-1), "size 2^31 + 11 with unlimited msize");
	m.b[3] = 0;
	ok(refused(m.b, m.n, P9_9P2000, m.n - 1), "size > msize");
	ok(refused(m.b, m.n, P9_9P2000, 0), "msize 0");
	for(i = 0; i < 4; i++){
		static const int bad[] = {0, 99, 128, 255};

		hdr(&m, bad[i]);
		p32(&m, 1);
		ok(refused(m.b, m.n, P9_9P2000, Msize), "unknown type %d", bad[i]);
	}
	hdr(&m, P9_TERROR);
	pstr(&m, "x");
	ok(refused(m.b, m.n, P9_9P2000U, Msize), "Terror");
	hdr(&m, P9_TLERROR);
	p32(&m, 1);
	ok(refused(m.b, m.n, P9_9P2000L, Msize), "Tlerror");
	hdr(&m, P9_RERROR);
	pstr(&m, "x");
	ok(refused(m.b, m.n, P9_9P2000L, Msize), "Rerror in 9P2000.L");
	hdr(&m, P9_TVERSION);
	p32(&m, P9_MINMSIZE - 1);
	pstr(&m, "9P2000");
	ok(refused(m.b, m.n, P9_9P2000, Msize), "Tversion: msize %d refused", P9_MINMSIZE - 1);
	hdr(&m, P9_RVERSION);
	p32(&m, 0);
	pstr(&m, "9P2000");
	ok(refused(m.b, m.n, P9_9P2000, Msize), "Rversion: msize 0 refused");
	hdr(&m, P9_TVERSION);
	p32(&m, P9_MINMSIZE);
	pstr(&m, "9P2000");
	ok(p9_unpack(m.b, m.n, P9_9P2000, Msize, &f) == m.n, "Tversion: msize %d accepted", P9_MINMSIZE);
	p9_freefcall(&f);

	/* The header survives a refusal, so a server can answer the tag. */
	hdr(&m, P9_TWALK);
	m.b[5] = 0x34;
	m.b[6] = 0x12;
	p32(&m, 0);
	ok(p9_unpack(m.b, m.n, P9_9P2000, Msize, &f) == -1 && f.type == P9_TWALK && f.tag == 0x1234 &&
		   f.mem == NULL && strstr(errtext(), "Twalk") != NULL,
	   "refused Twalk keeps type and tag, names the message");
	diag("%s", errtext());
}

/* Random damage to every sample: refused, or decoded and repacked to the same bytes. */
static void
testmutate(void)
{
	uint8_t buf[Bufsize], buf2[Bufsize], *cp;
	P9Fcall f, g;
	int t, d, dd, n, m, k, i, bad, accepted, tried;
	Buf b = {0};

	bad = accepted = tried = 0;
	for(d = 0; d < P9_NDIALECT; d++)
		for(t = 0; t < 256; t++){
			if(sample(t, d, &f) < 0)
				continue;
			n = p9_pack(&f, d, buf, sizeof buf);
			for(k = 0; k < 300; k++){
				cp = malloc(n);
				memcpy(cp, buf, n);
				for(i = 1 + rnd() % 3; i > 0; i--)
					cp[rnd() % n] = rnd() % 4 == 0 ? 0xff : rnd();
				tried++;
				dd = rnd() % P9_NDIALECT;
				m = p9_unpack(cp, n, dd, Msize, &g);
				if(m > 0){
					accepted++;
					if(p9_pack(&g, dd, buf2, sizeof buf2) != m || memcmp(cp, buf2, m) != 0)
						bad++;
					p9_fmt(&b, &g, dd);
					buffree(&b);
				}else if(errcode() != EPROTO)
					bad++;
				p9_freefcall(&g);
				free(cp);
			}
		}
	ok(bad == 0, "%d damaged messages: %d accepted, all repacked byte-identical (%d bad)", tried,
	   accepted, bad);
}

/* --- byte-exact --- */

static int
sameb(const uint8_t *got, int n, const uint8_t *want, int wn, const char *name)
{
	int i;
	Buf b = {0};

	if(ok(n == wn && memcmp(got, want, wn) == 0, "%s", name))
		return 1;
	for(i = 0; i < n && i < 128; i++)
		bufprint(&b, "%02x ", got[i]);
	diag("got %d: %s", n, b.s ? b.s : "");
	buffree(&b);
	return 0;
}

static void
testexact(void)
{
	static const uint8_t tversion[] = {
		0x13, 0x00, 0x00, 0x00, 0x64, 0xff, 0xff, 0x00, 0x20, 0x00, 0x00,
		0x06, 0x00, 0x39, 0x50, 0x32, 0x30, 0x30, 0x30,
	};
	static const uint8_t twalk[] = {
		0x1b, 0, 0, 0, 0x6e, 0x01, 0x00, 0, 0, 0, 0, 0x01, 0, 0, 0,
		0x02, 0x00, 0x03, 0x00, 'u', 's', 'r', 0x03, 0x00, 'b', 'i', 'n',
	};
	static const uint8_t rerroru[] = {
		0x12, 0, 0, 0, 0x6b, 0x02, 0x00, 0x05, 0x00, 'n', 'o', ' ', 'f', 'd',
		0x09, 0, 0, 0,
	};
	static const uint8_t tattachu[] = {
		0x1d, 0, 0, 0, 0x68, 0x03, 0x00, 0x00, 0, 0, 0, 0xff, 0xff, 0xff, 0xff,
		0x06, 0x00, 'g', 'l', 'e', 'n', 'd', 'a', 0x00, 0x00, 0xe8, 0x03, 0, 0,
	};
	static const uint8_t rlerror[] = {0x0b, 0, 0, 0, 0x07, 0x01, 0x00, 0x02, 0, 0, 0};
	static const uint8_t tlopen[] = {
		0x0f, 0, 0, 0, 0x0c, 0x01, 0x00, 0x02, 0, 0, 0, 0x00, 0x80, 0x00, 0x00,
	};
	static const uint8_t tread[] = {
		0x17, 0, 0, 0, 0x74, 0x05, 0x00, 0x01, 0, 0, 0, 0x08, 0x07, 0x06, 0x05,
		0x04, 0x03, 0x02, 0x01, 0x00, 0x20, 0x00, 0x00,
	};
	/* Rstat: n[2]=53, size[2]=51, type dev qid mode atime mtime length, "a" "u" "g" "m". */
	static const uint8_t rstat[] = {
		0x3e, 0, 0, 0, 0x7d, 0x04, 0x00, 0x35, 0x00, 0x33, 0x00, 0x00, 0x00,
		0, 0, 0, 0, 0x80, 0x01, 0, 0, 0, 0x02, 0, 0, 0, 0, 0, 0, 0,
		0xed, 0x01, 0x00, 0x80, 0x03, 0, 0, 0, 0x04, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
		0x01, 0x00, 'a', 0x01, 0x00, 'u', 0x01, 0x00, 'g', 0x01, 0x00, 'm',
	};
	/* A readdir entry: qid offset type name. */
	static const uint8_t dirent[] = {
		0x80, 0x00, 0x00, 0x00, 0x00, 0xac, 0x1f, 0x2c, 0, 0, 0, 0, 0,
		0x0c, 0, 0, 0, 0, 0, 0, 0, 0x04, 0x02, 0x00, '.', '.',
	};
	uint8_t buf[256];
	P9Fcall f;
	P9Dirent de, de2;
	int n;

	memset(&f, 0, sizeof f);
	f.type = P9_TVERSION;
	f.tag = P9_NOTAG;
	f.msize = 8192;
	f.version = "9P2000";
	n = p9_pack(&f, P9_9P2000, buf, sizeof buf);
	sameb(buf, n, tversion, sizeof tversion, "Tversion 8192 9P2000 as in version(5)");
	n = p9_unpack(tversion, sizeof tversion, P9_9P2000L, Msize, &f);
	ok(n == (int)sizeof tversion && f.msize == 8192 && strcmp(f.version, "9P2000") == 0 &&
		   f.tag == P9_NOTAG,
	   "Tversion decodes the same in 9P2000.L");
	p9_freefcall(&f);

	memset(&f, 0, sizeof f);
	f.type = P9_TWALK;
	f.tag = 1;
	f.fid = 0;
	f.newfid = 1;
	f.nwname = 2;
	f.wname[0] = "usr";
	f.wname[1] = "bin";
	n = p9_pack(&f, P9_9P2000, buf, sizeof buf);
	sameb(buf, n, twalk, sizeof twalk, "Twalk 0 1 usr bin");

	memset(&f, 0, sizeof f);
	f.type = P9_RERROR;
	f.tag = 2;
	f.ename = "no fd";
	f.errnum = EBADF;
	n = p9_pack(&f, P9_9P2000U, buf, sizeof buf);
	sameb(buf, n, rerroru, sizeof rerroru, "Rerror .u with errno");
	n = p9_pack(&f, P9_9P2000, buf, sizeof buf);
	sameb(buf, n, (const uint8_t *)"\x0e\0\0\0\x6b\x02\0\x05\0no fd", 14, "Rerror 9P2000 without errno");

	memset(&f, 0, sizeof f);
	f.type = P9_TATTACH;
	f.tag = 3;
	f.afid = P9_NOFID;
	f.uname = "glenda";
	f.aname = NULL;
	f.n_uname = 1000;
	n = p9_pack(&f, P9_9P2000U, buf, sizeof buf);
	sameb(buf, n, tattachu, sizeof tattachu, "Tattach .u with n_uname, NULL aname as empty");

	memset(&f, 0, sizeof f);
	f.type = P9_RLERROR;
	f.tag = 1;
	f.errnum = ENOENT;
	n = p9_pack(&f, P9_9P2000L, buf, sizeof buf);
	sameb(buf, n, rlerror, sizeof rlerror, "Rlerror ecode 2");

	memset(&f, 0, sizeof f);
	f.type = P9_TLOPEN;
	f.tag = 1;
	f.fid = 2;
	f.flags = 0100000;
	n = p9_pack(&f, P9_9P2000L, buf, sizeof buf);
	sameb(buf, n, tlopen, sizeof tlopen, "Tlopen fid 2 flags 0100000");

	memset(&f, 0, sizeof f);
	f.type = P9_TREAD;
	f.tag = 5;
	f.fid = 1;
	f.offset = 0x0102030405060708ULL;
	f.count = 8192;
	n = p9_pack(&f, P9_9P2000, buf, sizeof buf);
	sameb(buf, n, tread, sizeof tread, "Tread: offset little-endian");

	memset(&f, 0, sizeof f);
	f.type = P9_RSTAT;
	f.tag = 4;
	f.stat.qid.type = P9_QTDIR;
	f.stat.qid.vers = 1;
	f.stat.qid.path = 2;
	f.stat.mode = P9_DMDIR | 0755;
	f.stat.atime = 3;
	f.stat.mtime = 4;
	f.stat.name = "a";
	f.stat.uid = "u";
	f.stat.gid = "g";
	f.stat.muid = "m";
	n = p9_pack(&f, P9_9P2000, buf, sizeof buf);
	sameb(buf, n, rstat, sizeof rstat, "Rstat: n = size + 2");

	memset(&de, 0, sizeof de);
	de.qid.type = P9_QTDIR;
	de.qid.path = 0x2c1fac;
	de.offset = 12;
	de.type = 4;
	de.name = "..";
	n = p9_packdirent(&de, buf, sizeof buf);
	sameb(buf, n, dirent, sizeof dirent, "readdir entry");
	n = p9_unpackdirent(dirent, sizeof dirent, &de2);
	ok(n == (int)sizeof dirent && strcmp(de2.name, "..") == 0 && de2.offset == 12 && de2.type == 4 &&
		   de2.qid.path == 0x2c1fac,
	   "readdir entry decodes");
	p9_freedirent(&de2);
}

/* --- packing errors --- */

static void
testpackerr(void)
{
	uint8_t buf[Bufsize], buf2[Bufsize];
	P9Fcall f;
	char *big;
	int t, d, n, k, bad;

	bad = 0;
	for(d = 0; d < P9_NDIALECT; d++)
		for(t = 0; t < 256; t++){
			if(sample(t, d, &f) < 0)
				continue;
			n = p9_pack(&f, d, buf, sizeof buf);
			for(k = 0; k < n; k++)
				if(p9_pack(&f, d, buf2, k) != -1 || errcode() != EMSGSIZE)
					bad++;
		}
	ok(bad == 0, "pack into every too-small buffer fails with EMSGSIZE (%d wrong)", bad);

	sample(P9_TWALK, P9_9P2000, &f);
	f.nwname = 17;
	ok(p9_pack(&f, P9_9P2000, buf, sizeof buf) == -1 && errcode() == EINVAL, "pack Twalk nwname 17");
	sample(P9_RWALK, P9_9P2000, &f);
	f.nwqid = 17;
	ok(p9_pack(&f, P9_9P2000, buf, sizeof buf) == -1 && errcode() == EINVAL, "pack Rwalk nwqid 17");

	big = malloc(70000);
	memset(big, 'x', 69999);
	big[69999] = 0;
	sample(P9_TLCREATE, P9_9P2000L, &f);
	f.name = big;
	ok(p9_pack(&f, P9_9P2000L, buf, sizeof buf) == -1 && errcode() == EINVAL,
	   "pack a 69999-byte name: EINVAL, not EMSGSIZE");
	big[65535] = 0;
	f.name = big;
	k = p9_pack(&f, P9_9P2000L, buf, 10);
	ok(k == -1 && errcode() == EMSGSIZE, "pack a 65535-byte name into no room: EMSGSIZE");
	free(big);

	sample(P9_TSETATTR, P9_9P2000L, &f);
	f.attr.valid = 1ULL << 32;
	ok(p9_pack(&f, P9_9P2000L, buf, sizeof buf) == -1 && errcode() == EINVAL,
	   "pack Tsetattr valid beyond 32 bits");
	sample(P9_RREAD, P9_9P2000, &f);
	f.data = NULL;
	ok(p9_pack(&f, P9_9P2000, buf, sizeof buf) == -1 && errcode() == EINVAL, "pack Rread without data");
	ok(p9_pack(&f, 7, buf, sizeof buf) == -1 && errcode() == EINVAL, "pack in dialect 7");
	sample(P9_RVERSION, P9_9P2000, &f);
	f.msize = P9_MINMSIZE - 1;
	ok(p9_pack(&f, P9_9P2000, buf, sizeof buf) == -1 && errcode() == EINVAL,
	   "pack Rversion with msize below P9_MINMSIZE");

	/* Data already in place is not copied (and not clobbered). */
	memset(buf, 0, sizeof buf);
	memcpy(buf + P9_RREADHDRSZ, "in place", 8);
	memset(&f, 0, sizeof f);
	f.type = P9_RREAD;
	f.tag = 9;
	f.count = 8;
	f.data = buf + P9_RREADHDRSZ;
	n = p9_pack(&f, P9_9P2000, buf, sizeof buf);
	sameb(buf, n, (const uint8_t *)"\x13\0\0\0\x75\x09\0\x08\0\0\0in place", 19, "Rread with data in place");
	memset(buf, 0, sizeof buf);
	memcpy(buf + P9_TWRITEHDRSZ, "abc", 3);
	memset(&f, 0, sizeof f);
	f.type = P9_TWRITE;
	f.count = 3;
	f.data = buf + P9_TWRITEHDRSZ;
	n = p9_pack(&f, P9_9P2000L, buf, sizeof buf);
	ok(n == P9_TWRITEHDRSZ + 3 && memcmp(buf + P9_TWRITEHDRSZ, "abc", 3) == 0 && buf[19] == 3,
	   "Twrite with data in place");
}

/* --- stream framing --- */

static void
testframing(void)
{
	uint8_t buf[Bufsize];
	P9Fcall f, g;
	int n1, n2, m;

	sample(P9_TCLUNK, P9_9P2000, &f);
	n1 = p9_pack(&f, P9_9P2000, buf, sizeof buf);
	sample(P9_TWALK, P9_9P2000, &f);
	n2 = p9_pack(&f, P9_9P2000, buf + n1, sizeof buf - n1);
	is_int(p9_msgsize(buf), n1, "msgsize reads size[4]");
	is_int(p9_msgsize(buf + n1), n2, "msgsize of the second");
	m = p9_unpack(buf, n1 + n2, P9_9P2000, Msize, &g);
	ok(m == n1 && g.type == P9_TCLUNK, "two messages in a buffer: the first is consumed");
	p9_freefcall(&g);
	m = p9_unpack(buf + n1, n2, P9_9P2000, Msize, &g);
	ok(m == n2 && g.type == P9_TWALK && strcmp(g.wname[1], "usr") == 0, "then the second");
	p9_freefcall(&g);
	ok(p9_checksize(7, 8192) == 0 && p9_checksize(8192, 8192) == 0, "checksize accepts 7 and msize");
	ok(p9_checksize(6, 8192) == -1 && errcode() == EPROTO, "checksize refuses 6");
	ok(p9_checksize(8193, 8192) == -1 && errcode() == EPROTO, "checksize refuses msize + 1");
	ok(p9_checksize(0xffffffff, (size_t)-1) == -1, "checksize refuses 2^32-1 even with no msize");
}

/* --- directory data --- */

static void
teststat(void)
{
	uint8_t buf[1024];
	P9Stat st, got;
	P9Dirent de, dg;
	int d, n, off, k, bad, cnt;

	for(d = P9_9P2000; d <= P9_9P2000U; d++){
		samplestat(&st, d, "file");
		n = p9_packstat(&st, d, buf, sizeof buf);
		is_int(n, statlen(&st, d), tname("packstat size %s", dname[d]));
		is_int(p9_statsize(&st, d), n, tname("statsize %s", dname[d]));
		k = p9_unpackstat(buf, n, d, &got);
		ok(k == n && stateq(&st, &got), "stat round trip %s", dname[d]);
		p9_freestat(&got);
		ok(p9_packstat(&st, d, buf, n - 1) == 0, "packstat into %d bytes: 0, it does not fit", n - 1);
		bad = 0;
		for(k = 0; k < n; k++)
			if(p9_unpackstat(buf, k, d, &got) != -1)
				bad++;
		ok(bad == 0, "unpackstat truncated at every byte refused (%s)", dname[d]);
		/* Directory data: records back to back, read one at a time. */
		off = 0;
		for(k = 0; k < 5; k++)
			off += p9_packstat(&st, d, buf + off, sizeof buf - off);
		cnt = 0;
		for(k = 0; k < off; k += n){
			n = p9_unpackstat(buf + k, off - k, d, &got);
			if(n <= 0)
				break;
			cnt += stateq(&st, &got);
			p9_freestat(&got);
		}
		ok(cnt == 5 && k == off, "five stat records in directory data (%s)", dname[d]);
	}
	samplestat(&st, P9_9P2000, "file");
	n = p9_packstat(&st, P9_9P2000, buf, sizeof buf);
	buf[0]++;
	ok(p9_unpackstat(buf, n + 1, P9_9P2000, &got) == -1 && errcode() == EPROTO,
	   "stat with a size one too large refused");
	buf[0] -= 2;
	ok(p9_unpackstat(buf, n, P9_9P2000, &got) == -1, "stat with a size one too small refused");
	ok(p9_unpackstat(buf, n, P9_9P2000L, &got) == -1 && errcode() == EINVAL, "no stat in 9P2000.L");

	memset(&de, 0, sizeof de);
	de.qid.type = P9_QTFILE;
	de.qid.path = 77;
	de.offset = 3;
	de.type = 8;
	de.name = "name with spaces";
	n = p9_packdirent(&de, buf, sizeof buf);
	is_int(n, P9_DIRENTFIXLEN + strlen(de.name), "dirent size");
	is_int(p9_direntsize(&de), n, "direntsize");
	ok(p9_packdirent(&de, buf, n - 1) == 0, "packdirent into too little: 0");
	bad = 0;
	for(k = 0; k < n; k++)
		if(p9_unpackdirent(buf, k, &dg) != -1 || errcode() != EPROTO)
			bad++;
	ok(bad == 0, "unpackdirent truncated at every byte refused");
	k = p9_unpackdirent(buf, n + 10, &dg);
	ok(k == n && strcmp(dg.name, de.name) == 0 && dg.qid.path == 77, "unpackdirent consumes one entry");
	p9_freedirent(&dg);
	buf[P9_DIRENTFIXLEN] = 0;
	ok(p9_unpackdirent(buf, n, &dg) == -1, "dirent name with a NUL refused");
}

/* --- errors --- */

static void
testerrors(void)
{
	uint8_t buf[Bufsize];
	P9Fcall f, g;
	int n;

	perr(Enonexist, "walk x");
	p9_rerror(&f, 7, P9_9P2000);
	ok(f.type == P9_RERROR && f.tag == 7 && strcmp(f.ename, "walk x: file does not exist") == 0,
	   "rerror 9P2000 from the record");
	n = p9_pack(&f, P9_9P2000, buf, sizeof buf);
	clearerr9();
	p9_unpack(buf, n, P9_9P2000, Msize, &g);
	ok(p9_seterrfcall(&g) == -1 && errcode() == ENOENT && strcmp(errtext(), "walk x: file does not exist") == 0,
	   "9P2000 Rerror back to the record, code from the canonical text");
	p9_freefcall(&g);

	seterr(ENOTEMPTY, "remove d: directory not empty");
	p9_rerror(&f, 8, P9_9P2000U);
	ok(f.type == P9_RERROR && f.errnum == ENOTEMPTY, "rerror .u carries errno");
	n = p9_pack(&f, P9_9P2000U, buf, sizeof buf);
	clearerr9();
	p9_unpack(buf, n, P9_9P2000U, Msize, &g);
	ok(p9_seterrfcall(&g) == -1 && errcode() == ENOTEMPTY, ".u Rerror back to the record");
	p9_freefcall(&g);

	perr(Eperm, "open y");
	p9_rerror(&f, 9, P9_9P2000L);
	ok(f.type == P9_RLERROR && f.errnum == EACCES && f.ename == NULL, "rerror .L is Rlerror");
	n = p9_pack(&f, P9_9P2000L, buf, sizeof buf);
	clearerr9();
	p9_unpack(buf, n, P9_9P2000L, Msize, &g);
	ok(p9_seterrfcall(&g) == -1 && errcode() == EACCES && strcmp(errtext(), "permission denied") == 0,
	   "Rlerror back to the record");
	p9_freefcall(&g);

	clearerr9();
	p9_rerror(&f, 1, P9_9P2000);
	ok(f.errnum == EIO && f.ename != NULL && f.ename[0] != 0, "empty record: EIO with text");

	memset(&g, 0, sizeof g);
	g.type = P9_RERROR;
	g.ename = "Directory not empty";
	ok(p9_seterrfcall(&g) == -1 && errcode() == ENOTEMPTY, "Unix text maps to ENOTEMPTY");
	g.ename = "'/x' file does not exist";
	ok(p9_seterrfcall(&g) == -1 && errcode() == ENOENT, "Plan 9 text with a name maps to ENOENT");
	g.ename = "something odd";
	ok(p9_seterrfcall(&g) == -1 && errcode() == EIO && strcmp(errtext(), "something odd") == 0,
	   "unknown text: EIO, text kept");
	g.type = P9_RLERROR;
	g.errnum = 0x7fffffff;
	ok(p9_seterrfcall(&g) == -1 && errcode() == EIO, "absurd ecode: EIO");
	g.type = P9_RCLUNK;
	ok(p9_seterrfcall(&g) == -1 && errcode() == EPROTO, "not an error reply");
}

/* --- the trace --- */

static void
fmtis(const P9Fcall *f, int d, const char *want)
{
	Buf b = {0};

	p9_fmt(&b, f, d);
	is_str(b.s, want, want);
	buffree(&b);
}

static void
testfmt(void)
{
	uint8_t buf[256];
	P9Fcall f;
	P9Dirent de;
	int n;

	memset(&f, 0, sizeof f);
	f.type = P9_TWALK;
	f.tag = 1;
	f.newfid = 1;
	f.nwname = 2;
	f.wname[0] = "usr";
	f.wname[1] = "bin";
	fmtis(&f, P9_9P2000, "Twalk tag 1 fid 0 newfid 1 nwname 2 0:usr 1:bin");
	f.wname[1] = "it's a\nname";
	fmtis(&f, P9_9P2000, "Twalk tag 1 fid 0 newfid 1 nwname 2 0:usr 1:'it''s a\\nname'");

	memset(&f, 0, sizeof f);
	f.type = P9_TVERSION;
	f.tag = P9_NOTAG;
	f.msize = 8192;
	f.version = "9P2000";
	fmtis(&f, P9_9P2000, "Tversion tag 65535 msize 8192 version 9P2000");

	memset(&f, 0, sizeof f);
	f.type = P9_TATTACH;
	f.tag = 1;
	f.afid = P9_NOFID;
	f.uname = "glenda";
	f.aname = "";
	f.n_uname = P9_NONUNAME;
	fmtis(&f, P9_9P2000, "Tattach tag 1 fid 0 afid -1 uname glenda aname ''");
	fmtis(&f, P9_9P2000L, "Tattach tag 1 fid 0 afid -1 uname glenda aname '' n_uname -1");

	memset(&f, 0, sizeof f);
	f.type = P9_RATTACH;
	f.tag = 1;
	f.qid.type = P9_QTDIR;
	f.qid.path = 0x2c1fac;
	fmtis(&f, P9_9P2000, "Rattach tag 1 qid (00000000002c1fac 0 d)");

	memset(&f, 0, sizeof f);
	f.type = P9_RREAD;
	f.tag = 1;
	f.count = 6;
	f.data = (const uint8_t *)"hello\n";
	fmtis(&f, P9_9P2000, "Rread tag 1 count 6 'hello\\n'");
	f.count = 3;
	f.data = (const uint8_t *)"\x01\x02\xff";
	fmtis(&f, P9_9P2000, "Rread tag 1 count 3 0102ff");

	memset(&f, 0, sizeof f);
	f.type = P9_TCREATE;
	f.tag = 2;
	f.fid = 3;
	f.name = "d";
	f.perm = P9_DMDIR | 0755;
	f.mode = P9_OREAD;
	fmtis(&f, P9_9P2000, "Tcreate tag 2 fid 3 name d perm 020000000755 mode 0");

	memset(&f, 0, sizeof f);
	f.type = P9_RLERROR;
	f.tag = 1;
	f.errnum = 2;
	fmtis(&f, P9_9P2000L, "Rlerror tag 1 ecode 2");

	memset(&f, 0, sizeof f);
	f.type = P9_TLCREATE;
	f.tag = 1;
	f.fid = 2;
	f.name = "foo";
	f.flags = 0x8241;
	f.perm = 0100644;
	f.gid = 500;
	fmtis(&f, P9_9P2000L, "Tlcreate tag 1 fid 2 name foo flags 0x8241 mode 0100644 gid 500");

	memset(&de, 0, sizeof de);
	de.name = ".";
	n = p9_packdirent(&de, buf, sizeof buf);
	de.name = "..";
	n += p9_packdirent(&de, buf + n, sizeof buf - n);
	memset(&f, 0, sizeof f);
	f.type = P9_RREADDIR;
	f.tag = 1;
	f.count = n;
	f.data = buf;
	fmtis(&f, P9_9P2000L, "Rreaddir tag 1 count 51 0:. 1:..");
	f.count = n - 1;
	fmtis(&f, P9_9P2000L, "Rreaddir tag 1 count 50 0:. (bad entry)");

	memset(&f, 0, sizeof f);
	f.type = P9_RSTAT;
	f.stat.name = "a";
	f.stat.mode = 0644;
	fmtis(&f, P9_9P2000, "Rstat tag 0 stat type 0 dev 0 qid (0000000000000000 0 ) mode 0644 atime 0 "
			     "mtime 0 length 0 name a uid '' gid '' muid ''");

	memset(&f, 0, sizeof f);
	f.type = 99;
	f.tag = 3;
	fmtis(&f, P9_9P2000, "unknown type 99 tag 3");
}

int
main(void)
{
	testroundtrip();
	testlegal();
	testtruncated();
	testhostile();
	testmutate();
	testexact();
	testpackerr();
	testframing();
	teststat();
	testerrors();
	testfmt();
	return done_testing();
}
