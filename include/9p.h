/*
 * 9p.h: the 9P library.  One message codec for 9P2000, 9P2000.u and
 * 9P2000.L (lib/9p/fcall.c, the messages listed in lib/9p/table.c),
 * directory-data helpers (stat records and .L readdir entries,
 * lib/9p/dir.c), the bridge between the error record and Rerror/Rlerror
 * (lib/9p/err.c) and the -D trace formatter (lib/9p/fmt.c).
 *
 * Every function that can fail returns -1 and sets the error record of
 * util.h; none prints or exits.  A message that is not well formed is
 * rejected with code EPROTO and a text naming the message and the fault.
 */
#ifndef NS9_9P_H
#define NS9_9P_H

#include <stddef.h>
#include <stdint.h>

#include "util.h"

/* Dialects: which messages are legal and which fields they carry. */
enum {
	P9_9P2000 = 0,	/* Plan 9, plan9port */
	P9_9P2000U,	/* + extended stat, Rerror errno, n_uname */
	P9_9P2000L,	/* Linux: .u's attach/auth + the .L messages */
	P9_NDIALECT
};

/* Message types.  T-messages are even, the reply is T+1. */
enum {
	/* 9P2000.L */
	P9_TLERROR = 6,	/* never sent; unpack rejects it */
	P9_RLERROR,
	P9_TSTATFS = 8,
	P9_RSTATFS,
	P9_TLOPEN = 12,
	P9_RLOPEN,
	P9_TLCREATE = 14,
	P9_RLCREATE,
	P9_TSYMLINK = 16,
	P9_RSYMLINK,
	P9_TMKNOD = 18,
	P9_RMKNOD,
	P9_TRENAME = 20,
	P9_RRENAME,
	P9_TREADLINK = 22,
	P9_RREADLINK,
	P9_TGETATTR = 24,
	P9_RGETATTR,
	P9_TSETATTR = 26,
	P9_RSETATTR,
	P9_TXATTRWALK = 30,
	P9_RXATTRWALK,
	P9_TXATTRCREATE = 32,
	P9_RXATTRCREATE,
	P9_TREADDIR = 40,
	P9_RREADDIR,
	P9_TFSYNC = 50,
	P9_RFSYNC,
	P9_TLOCK = 52,
	P9_RLOCK,
	P9_TGETLOCK = 54,
	P9_RGETLOCK,
	P9_TLINK = 70,
	P9_RLINK,
	P9_TMKDIR = 72,
	P9_RMKDIR,
	P9_TRENAMEAT = 74,
	P9_RRENAMEAT,
	P9_TUNLINKAT = 76,
	P9_RUNLINKAT,

	/* 9P2000 (and .u) */
	P9_TVERSION = 100,
	P9_RVERSION,
	P9_TAUTH = 102,
	P9_RAUTH,
	P9_TATTACH = 104,
	P9_RATTACH,
	P9_TERROR = 106,	/* illegal; unpack rejects it */
	P9_RERROR,
	P9_TFLUSH = 108,
	P9_RFLUSH,
	P9_TWALK = 110,
	P9_RWALK,
	P9_TOPEN = 112,
	P9_ROPEN,
	P9_TCREATE = 114,
	P9_RCREATE,
	P9_TREAD = 116,
	P9_RREAD,
	P9_TWRITE = 118,
	P9_RWRITE,
	P9_TCLUNK = 120,
	P9_RCLUNK,
	P9_TREMOVE = 122,
	P9_RREMOVE,
	P9_TSTAT = 124,
	P9_RSTAT,
	P9_TWSTAT = 126,
	P9_RWSTAT,
};

enum {
	P9_NOTAG = 0xffff,
	P9_MAXWELEM = 16,	/* names in a Twalk, qids in an Rwalk */
	P9_HDRSZ = 7,	/* size[4] type[1] tag[2] */
	P9_IOHDRSZ = 24,	/* Plan 9's IOHDRSZ: msize - IOHDRSZ is the largest i/o count */
	P9_RREADHDRSZ = 11,	/* where Rread/Rreaddir data starts */
	P9_TWRITEHDRSZ = 23,	/* where Twrite data starts */
	/*
	 * Smallest msize a Tversion or Rversion may carry (pack and unpack
	 * refuse less).  It leaves room for any Rerror p9_rerror makes (ERRMAX).
	 */
	P9_MINMSIZE = 1024,
	P9_STATFIXLEN = 49,	/* a 9P2000 stat record with empty strings */
	P9_STATFIXLENU = 63,	/* the same, 9P2000.u */
	P9_DIRENTFIXLEN = 24,	/* a .L readdir entry with an empty name */
};
#define P9_NOFID ((uint32_t)~0U)
#define P9_NONUNAME ((uint32_t)~0U)	/* .u/.L: no numeric uid */

/* Qid types (qid.type) and the matching high bits of stat.mode. */
enum {
	P9_QTDIR = 0x80,
	P9_QTAPPEND = 0x40,
	P9_QTEXCL = 0x20,
	P9_QTMOUNT = 0x10,
	P9_QTAUTH = 0x08,
	P9_QTTMP = 0x04,
	P9_QTSYMLINK = 0x02,	/* .u, .L */
	P9_QTLINK = 0x01,	/* .u */
	P9_QTFILE = 0x00,
};
#define P9_DMDIR 0x80000000U
#define P9_DMAPPEND 0x40000000U
#define P9_DMEXCL 0x20000000U
#define P9_DMMOUNT 0x10000000U
#define P9_DMAUTH 0x08000000U
#define P9_DMTMP 0x04000000U
#define P9_DMSYMLINK 0x02000000U	/* .u from here on */
#define P9_DMLINK 0x01000000U
#define P9_DMDEVICE 0x00800000U
#define P9_DMNAMEDPIPE 0x00200000U
#define P9_DMSOCKET 0x00100000U
#define P9_DMSETUID 0x00080000U
#define P9_DMSETGID 0x00040000U
#define P9_DMSETVTX 0x00010000U
#define P9_DMREAD 0x4U
#define P9_DMWRITE 0x2U
#define P9_DMEXEC 0x1U

/* Topen/Tcreate mode[1]. */
enum {
	P9_OREAD = 0,
	P9_OWRITE = 1,
	P9_ORDWR = 2,
	P9_OEXEC = 3,
	P9_OTRUNC = 0x10,
	P9_OCEXEC = 0x20,
	P9_ORCLOSE = 0x40,
	P9_OAPPEND = 0x80,	/* .u */
};

/* 9P2000.L Tlopen/Tlcreate flags: the Linux (x86, generic) open(2) values. */
enum {
	P9_DOTL_RDONLY = 00000000,
	P9_DOTL_WRONLY = 00000001,
	P9_DOTL_RDWR = 00000002,
	P9_DOTL_NOACCESS = 00000003,
	P9_DOTL_CREATE = 00000100,
	P9_DOTL_EXCL = 00000200,
	P9_DOTL_NOCTTY = 00000400,
	P9_DOTL_TRUNC = 00001000,
	P9_DOTL_APPEND = 00002000,
	P9_DOTL_NONBLOCK = 00004000,
	P9_DOTL_DSYNC = 00010000,
	P9_DOTL_FASYNC = 00020000,
	P9_DOTL_DIRECT = 00040000,
	P9_DOTL_LARGEFILE = 00100000,
	P9_DOTL_DIRECTORY = 00200000,
	P9_DOTL_NOFOLLOW = 00400000,
	P9_DOTL_NOATIME = 01000000,
	P9_DOTL_CLOEXEC = 02000000,
	P9_DOTL_SYNC = 04000000,
};

/* Tgetattr request_mask and Rgetattr valid. */
#define P9_GETATTR_MODE 0x00000001ULL
#define P9_GETATTR_NLINK 0x00000002ULL
#define P9_GETATTR_UID 0x00000004ULL
#define P9_GETATTR_GID 0x00000008ULL
#define P9_GETATTR_RDEV 0x00000010ULL
#define P9_GETATTR_ATIME 0x00000020ULL
#define P9_GETATTR_MTIME 0x00000040ULL
#define P9_GETATTR_CTIME 0x00000080ULL
#define P9_GETATTR_INO 0x00000100ULL
#define P9_GETATTR_SIZE 0x00000200ULL
#define P9_GETATTR_BLOCKS 0x00000400ULL
#define P9_GETATTR_BTIME 0x00000800ULL
#define P9_GETATTR_GEN 0x00001000ULL
#define P9_GETATTR_DATA_VERSION 0x00002000ULL
#define P9_GETATTR_BASIC 0x000007ffULL
#define P9_GETATTR_ALL 0x00003fffULL

/* Tsetattr valid. */
enum {
	P9_SETATTR_MODE = 0x001,
	P9_SETATTR_UID = 0x002,
	P9_SETATTR_GID = 0x004,
	P9_SETATTR_SIZE = 0x008,
	P9_SETATTR_ATIME = 0x010,
	P9_SETATTR_MTIME = 0x020,
	P9_SETATTR_CTIME = 0x040,
	P9_SETATTR_ATIME_SET = 0x080,
	P9_SETATTR_MTIME_SET = 0x100,
};

/* Tlock/Tgetlock. */
enum {
	P9_LOCK_TYPE_RDLCK = 0,
	P9_LOCK_TYPE_WRLCK = 1,
	P9_LOCK_TYPE_UNLCK = 2,
	P9_LOCK_FLAGS_BLOCK = 1,
	P9_LOCK_FLAGS_RECLAIM = 2,
	P9_LOCK_SUCCESS = 0,
	P9_LOCK_BLOCKED = 1,
	P9_LOCK_ERROR = 2,
	P9_LOCK_GRACE = 3,
};

/*
 * Strings.  In a decoded message every string is a NUL-terminated copy
 * (the codec rejects a wire string that holds a NUL byte: 9P forbids it,
 * and a C string would silently cut it).  An empty wire string decodes as
 * "", a field the dialect does not carry as NULL.  To pack, NULL sends an
 * empty string; a string longer than 65535 bytes is refused.
 */

typedef struct P9Qid P9Qid;
struct P9Qid {
	uint8_t type;	/* P9_QT* */
	uint32_t vers;
	uint64_t path;
};

/*
 * A stat record (9P2000 and .u): Rstat, Twstat and directory reads.  The
 * size[2] field is implied.  In 9P2000 the .u fields decode as NULL and
 * P9_NONUNAME.
 */
typedef struct P9Stat P9Stat;
struct P9Stat {
	uint16_t type;
	uint32_t dev;
	P9Qid qid;
	uint32_t mode;	/* P9_DM* | permission */
	uint32_t atime;
	uint32_t mtime;
	uint64_t length;
	char *name;
	char *uid;
	char *gid;
	char *muid;
	char *extension;	/* .u */
	uint32_t n_uid;	/* .u */
	uint32_t n_gid;	/* .u */
	uint32_t n_muid;	/* .u */
	void *mem;	/* strings from p9_unpackstat; NULL inside a P9Fcall */
};

/* A 9P2000.L readdir entry: qid[13] offset[8] type[1] name[s]. */
typedef struct P9Dirent P9Dirent;
struct P9Dirent {
	P9Qid qid;
	uint64_t offset;	/* Treaddir offset that resumes after this entry */
	uint8_t type;	/* DT_* of dirent.h */
	char *name;	/* owned after p9_unpackdirent */
};

/*
 * 9P2000.L attributes: Rgetattr (all fields) and Tsetattr (valid is 32
 * bits on the wire there, and only mode, uid, gid, size, atime and mtime
 * travel).
 */
typedef struct P9Attr P9Attr;
struct P9Attr {
	uint64_t valid;	/* P9_GETATTR_* or P9_SETATTR_* */
	P9Qid qid;
	uint32_t mode;
	uint32_t uid;
	uint32_t gid;
	uint64_t nlink;
	uint64_t rdev;
	uint64_t size;
	uint64_t blksize;
	uint64_t blocks;
	uint64_t atime_sec;
	uint64_t atime_nsec;
	uint64_t mtime_sec;
	uint64_t mtime_nsec;
	uint64_t ctime_sec;
	uint64_t ctime_nsec;
	uint64_t btime_sec;
	uint64_t btime_nsec;
	uint64_t gen;
	uint64_t data_version;
};

/* Rstatfs. */
typedef struct P9Statfs P9Statfs;
struct P9Statfs {
	uint32_t type;
	uint32_t bsize;
	uint64_t blocks;
	uint64_t bfree;
	uint64_t bavail;
	uint64_t files;
	uint64_t ffree;
	uint64_t fsid;
	uint32_t namelen;
};

/* Tlock (all fields), Tgetlock and Rgetlock (no flags on the wire). */
typedef struct P9Lock P9Lock;
struct P9Lock {
	uint8_t type;	/* P9_LOCK_TYPE_* */
	uint32_t flags;	/* P9_LOCK_FLAGS_* */
	uint64_t start;
	uint64_t length;
	uint32_t proc_id;
	char *client_id;
};

/*
 * One message, in the manner of Plan 9's Fcall: a flat struct; each
 * message uses the fields listed beside them.  Fields a message does not
 * carry decode as zero (n_uname and the stat's n_* as P9_NONUNAME).
 */
typedef struct P9Fcall P9Fcall;
struct P9Fcall {
	uint8_t type;	/* P9_T*, P9_R* */
	uint16_t tag;
	uint32_t fid;	/* most T-messages; Tlink: the target */

	uint32_t msize;	/* Tversion, Rversion */
	char *version;	/* Tversion, Rversion */
	uint16_t oldtag;	/* Tflush */
	char *ename;	/* Rerror */
	uint32_t errnum;	/* Rerror (.u errno), Rlerror (ecode) */

	uint32_t afid;	/* Tauth, Tattach */
	char *uname;	/* Tauth, Tattach */
	char *aname;	/* Tauth, Tattach */
	uint32_t n_uname;	/* Tauth, Tattach (.u, .L) */

	P9Qid qid;	/* Rauth (aqid), Rattach, Ropen, Rcreate, Rlopen, Rlcreate, Rsymlink, Rmknod, Rmkdir */
	uint32_t iounit;	/* Ropen, Rcreate, Rlopen, Rlcreate */

	uint32_t newfid;	/* Twalk, Txattrwalk */
	uint16_t nwname;	/* Twalk */
	char *wname[P9_MAXWELEM];	/* Twalk */
	uint16_t nwqid;	/* Rwalk */
	P9Qid wqid[P9_MAXWELEM];	/* Rwalk */

	uint8_t mode;	/* Topen, Tcreate: P9_O* */
	uint32_t perm;	/* Tcreate (P9_DM* | perm); Tlcreate, Tmknod, Tmkdir (Linux mode) */
	char *name;	/* Tcreate, Tlcreate, Tsymlink, Tmknod, Trename, Txattrwalk,
			   Txattrcreate, Tlink, Tmkdir, Tunlinkat; Trenameat: oldname */
	char *extension;	/* Tcreate (.u) */

	uint64_t offset;	/* Tread, Twrite, Treaddir */
	uint32_t count;	/* Tread, Rread, Twrite, Rwrite, Treaddir, Rreaddir */
	const uint8_t *data;	/* Rread, Twrite, Rreaddir: count bytes */

	P9Stat stat;	/* Rstat, Twstat */

	/* 9P2000.L */
	uint32_t flags;	/* Tlopen, Tlcreate (P9_DOTL_*), Txattrcreate, Tunlinkat */
	uint32_t gid;	/* Tlcreate, Tsymlink, Tmknod, Tmkdir */
	char *target;	/* Tsymlink (symtgt), Rreadlink */
	uint32_t major;	/* Tmknod */
	uint32_t minor;	/* Tmknod */
	uint32_t dfid;	/* Tmknod, Trename, Tlink, Tmkdir, Tunlinkat (dirfd), Trenameat (olddirfid) */
	uint32_t newdfid;	/* Trenameat (newdirfid) */
	char *newname;	/* Trenameat */
	uint64_t mask;	/* Tgetattr request_mask */
	P9Attr attr;	/* Rgetattr, Tsetattr */
	P9Statfs statfs;	/* Rstatfs */
	uint64_t attrsize;	/* Rxattrwalk size, Txattrcreate attr_size */
	uint32_t datasync;	/* Tfsync */
	P9Lock lock;	/* Tlock, Tgetlock, Rgetlock */
	uint8_t status;	/* Rlock: P9_LOCK_SUCCESS... */

	void *mem;	/* decoded strings; freed by p9_freefcall */
};

/* --- the codec (lib/9p/fcall.c) --- */

/*
 * Encode f in dialect into buf (len bytes: pass at most the negotiated
 * msize).  Returns the message size, or -1: EMSGSIZE when it does not fit,
 * EINVAL for a type not in the dialect, nwname/nwqid > P9_MAXWELEM, a
 * string longer than 65535, a Tversion/Rversion msize < P9_MINMSIZE or a
 * Tsetattr valid beyond 32 bits.  Data (f->data, f->count bytes) may
 * already lie where it belongs (buf + P9_RREADHDRSZ for Rread/Rreaddir,
 * buf + P9_TWRITEHDRSZ for Twrite); then it is not copied.
 */
int p9_pack(const P9Fcall *f, int dialect, uint8_t *buf, size_t len);

/*
 * Decode one message from the front of buf, which holds len bytes.  The
 * size[4] field may be less than len (stream framing: the rest is the
 * next message) but not more; it must be at least P9_HDRSZ and at most
 * msize.  Every field must lie inside size[4] bytes and fill them exactly,
 * counts and string lengths are checked before use, nwname/nwqid <=
 * P9_MAXWELEM, the type must belong to the dialect.  Returns the bytes
 * consumed (size[4]), or -1 with EPROTO.
 *
 * *f is overwritten, never read: call p9_freefcall before reusing it.
 * f->data points into buf (valid while buf is); strings are copies in
 * f->mem.  On failure f->mem is NULL, and when the header was readable
 * f->type and f->tag hold its values (so a server can answer the tag),
 * else f->type is 0.
 *
 * Tversion and Rversion are alike in every dialect: before negotiation,
 * decode them with P9_9P2000.  An Rerror answering a Tversion may be
 * 9P2000 or .u: try one, then the other.
 */
int p9_unpack(const uint8_t *buf, size_t len, int dialect, size_t msize, P9Fcall *f);

/* Free what p9_unpack allocated (not the struct); safe on a zeroed P9Fcall. */
void p9_freefcall(P9Fcall *f);

/*
 * Framing: the size[4] field at hdr4 (4 bytes).  p9_checksize returns 0
 * when a message of that size may be read at all (P9_HDRSZ <= size <=
 * msize, and <= INT_MAX), else -1 with EPROTO: check it before reading
 * or allocating the rest.
 */
uint32_t p9_msgsize(const uint8_t *hdr4);
int p9_checksize(uint32_t size, size_t msize);

/* "Twalk", ...; NULL for a number that is no message type. */
const char *p9_typename(int type);
/* 1 when type is a message of dialect (Terror/Tlerror never are). */
int p9_legal(int type, int dialect);

/*
 * Version strings: "9P2000", "9P2000.u", "9P2000.L".  p9_dialect returns
 * the dialect a version string names, or -1 (no error set) for anything
 * else.
 */
const char *p9_versionstr(int dialect);
int p9_dialect(const char *version);

/* --- directory data (lib/9p/dir.c) --- */

/*
 * Stat records, as in Rstat/Twstat and in the data of a directory Rread:
 * size[2] and the record.  p9_statsize is the bytes p9_packstat writes
 * (size[2] included).  p9_packstat returns that, 0 when it does not fit in
 * len (no error: the caller's buffer is full), or -1 (EINVAL: string too
 * long).  p9_unpackstat decodes the record at the front of buf and
 * returns its length (size[2] + size), or -1 with EPROTO; its strings
 * live in st->mem: free with p9_freestat.
 */
size_t p9_statsize(const P9Stat *st, int dialect);
int p9_packstat(const P9Stat *st, int dialect, uint8_t *buf, size_t len);
int p9_unpackstat(const uint8_t *buf, size_t len, int dialect, P9Stat *st);
void p9_freestat(P9Stat *st);

/*
 * 9P2000.L readdir entries, as in Rreaddir data.  Same contract as the
 * stat helpers; d->name is allocated by p9_unpackdirent, freed by
 * p9_freedirent.
 */
size_t p9_direntsize(const P9Dirent *d);
int p9_packdirent(const P9Dirent *d, uint8_t *buf, size_t len);
int p9_unpackdirent(const uint8_t *buf, size_t len, P9Dirent *d);
void p9_freedirent(P9Dirent *d);

/* --- errors (lib/9p/err.c) --- */

/*
 * Make f (overwritten, not freed) the error reply for tag from the
 * thread's error record: Rerror with ename = errtext() (and, in .u,
 * errnum = errcode()), or in 9P2000.L Rlerror with errnum = errcode().
 * A zero code becomes EIO, an empty text the code's text.  f->ename
 * points at the record's thread-local storage: pack f before the thread's
 * next error.
 */
void p9_rerror(P9Fcall *f, uint16_t tag, int dialect);

/*
 * The other way: set the error record from an Rerror or Rlerror and
 * return -1.  Rlerror and .u Rerror carry the code; a 9P2000 Rerror has
 * only text, so the code comes from the canonical Plan 9 strings of
 * util.h (and a few common others), else EIO.  The text is kept as sent.
 */
int p9_seterrfcall(const P9Fcall *f);

/* --- tracing (lib/9p/fmt.c) --- */

/*
 * Append f to b as one line, no newline, in the style of Plan 9's
 * fcall(2) %F: "Twalk tag 1 fid 0 newfid 1 nwname 2 0:usr 1:bin".
 * Strings with blanks, quotes or control bytes are quoted and escaped, so
 * a message is always one line.  Data shows at most 64 bytes.
 */
void p9_fmt(Buf *b, const P9Fcall *f, int dialect);

/* --- dial strings (lib/9p/dial.c) --- */

/*
 * Connect to addr: "tcp!host!port", "unix!path", or the path of a Unix
 * socket (anything without '!').  Returns a connected fd (close-on-exec),
 * or -1: ECONNREFUSED, ENOENT, ... with the address in the text.
 */
int p9_dial(const char *addr);

/*
 * Listen on addr ("tcp!host!port", "unix!path" or a path).  A Unix socket
 * file nobody listens on is stale and is replaced; a live one is EADDRINUSE.
 * Returns the listening fd (close-on-exec), or -1.
 */
int p9_announce(const char *addr);

/* --- the server framework (lib/9p/srv.c) --- */

/*
 * A file server fills a P9Srv and calls p9_serve (one conversation on a
 * pair of fds: stdin/stdout, a pipe, an accepted socket) or p9_listen
 * (accept on a socket, one thread per connection).  The framework does
 * what every server must do the same way (9front lib9p srv.c): Tversion
 * (dialect and msize), Tauth (refused unless s->serve handles it), Tflush,
 * the fid table (Tattach and Twalk newfids, Tclunk, the clunk in Tremove,
 * fids in use, open or not), tags in use, and checks that need no file
 * system (walk of an open fid, i/o on an unopened fid, counts clamped to
 * msize - P9_IOHDRSZ).  Everything else goes to s->serve, which fills
 * r->ofcall and returns 0, or returns -1 with the error record set; the
 * framework then sends the reply (Rerror/Rlerror from the record), so
 * every request is answered exactly once.  s->serve runs in one of
 * s->nthread worker threads of the connection (many requests in flight),
 * so it must be thread-safe; a Tflush is answered after the request it
 * names (which is answered "interrupted" if it had not started).  A fid
 * that a Tattach, Tauth or Twalk is still making is unknown to every other
 * request but Tclunk (serve never sees a fid without its aux), and a
 * connection holds at most s->maxfid fids.
 */
typedef struct P9Srv P9Srv;
typedef struct P9Fid P9Fid;
typedef struct P9Req P9Req;

struct P9Fid {
	uint32_t fid;
	P9Qid qid;	/* set by serve on attach/walk/create */
	int open;	/* set by the framework after a successful open/create */
	uint32_t omode;	/* the open mode: P9_O* (9P2000, .u) or P9_DOTL_* (.L) */
	char *uname;	/* of the attach this fid descends from */
	uint32_t n_uname;	/* .u, .L; P9_NONUNAME when absent */
	uint64_t diroffset;	/* free for serve: e.g. the next 9P2000 directory offset */
	void *aux;	/* the file server's */
	/* private to the framework */
	int ref;
	int pending;	/* made by a Tattach, Tauth or Twalk not answered yet: unknown to other requests */
	P9Fid *next;
};

struct P9Req {
	P9Fcall ifcall;	/* the request, decoded */
	P9Fcall ofcall;	/* the reply: serve fills it; the framework sets type and tag */
	P9Fid *fid;	/* ifcall.fid (for Tattach and Tauth: the new fid) */
	P9Fid *newfid;	/* Twalk, Txattrwalk: the new fid (== fid when the numbers are equal) */
	P9Fid *dfid;	/* .L: Tmknod, Tmkdir, Trename, Tlink, Tunlinkat, Trenameat (old dir) */
	P9Fid *newdfid;	/* .L: Trenameat (new dir) */
	/*
	 * The reply buffer, msize bytes.  Rread and Rreaddir data may be
	 * built in place at obuf + P9_RREADHDRSZ (then ofcall.data points
	 * there and nothing is copied).
	 */
	uint8_t *obuf;
	int dialect;	/* negotiated: P9_9P2000, P9_9P2000U or P9_9P2000L */
	size_t msize;	/* negotiated */
	P9Srv *srv;
	void *conn;	/* private */
};

struct P9Srv {
	/*
	 * Every message but Tversion, Tflush and Tclunk (Tauth only when
	 * set: otherwise the framework refuses it).  Twalk: on a full walk
	 * set r->newfid->qid and ->aux (when newfid == fid, only then change
	 * it); a partial walk returns 0 with ofcall.nwqid < ifcall.nwname and
	 * the framework drops a new newfid; a failed first element returns -1.
	 * Twalk with nwname 0 (a clone) does not come here: clone does.
	 * Tattach: set r->fid->qid and ->aux.  Tremove: the framework clunks
	 * the fid afterwards whatever serve returned.
	 */
	int (*serve)(P9Req *r);
	/* Copy old's aux into new for a Twalk with no names; NULL: aux is shared as is. */
	int (*clone)(P9Fid *old, P9Fid *new);
	/* A fid is gone (clunk, remove, hangup); free its aux.  May be NULL. */
	void (*destroyfid)(P9Fid *f);
	void *aux;	/* the file server's */
	size_t msize;	/* largest msize offered; 0: P9_SRVMSIZE */
	int dialects;	/* bit (1 << P9_9P2000...) per dialect served; 0: all three */
	int auth;	/* 1: Tauth goes to serve */
	int nthread;	/* workers per connection; 0: serve in the reading thread */
	/*
	 * 1: a request that arrives while nothing else of its connection is
	 * in flight, and is no read, write, directory read, lock or fsync, is
	 * served in the reading thread, saving two thread handoffs on the
	 * common serial path.  Only for a serve that never blocks on those.
	 */
	int quick;
	int debug;	/* trace every message on stderr (-D) */
	const char *name;	/* trace prefix */
	/*
	 * Fids one connection may hold; 0: P9_SRVMAXFID.  A request that
	 * would make one more is answered EMFILE ("too many open files").
	 */
	uint32_t maxfid;
};

enum {
	P9_SRVMSIZE = (1 << 20) + P9_IOHDRSZ,	/* default: 1 MiB of data per read/write */
	P9_SRVMAXFID = 1 << 20,	/* default fids per connection */
	P9_MAXUNAME = 255,	/* longest Tattach/Tauth uname the framework takes (ENAMETOOLONG) */
};

/*
 * Serve one conversation: requests from rfd, replies to wfd, until end of
 * file, a read error or a message that cannot be framed.  Every fid is
 * destroyed before it returns.  Returns 0 at end of file, else -1.
 */
int p9_serve(P9Srv *s, int rfd, int wfd);

/*
 * Accept on the listening socket lfd and serve each connection in its own
 * thread.  Only peers with the server's uid, or root, are served
 * (SO_PEERCRED; others are closed at once).  Returns only on an accept
 * error other than EINTR/ECONNABORTED.
 */
int p9_listen(P9Srv *s, int lfd);

/*
 * For serve, in a request that may wait long (a read of a fifo, a
 * terminal): 1 once the request is flushed, aborted by a new Tversion,
 * or its client has hung up; it should then stop waiting and fail
 * (EINTR, "interrupted").  Serve polls it, say every 100 ms, while it
 * waits.  Waiting requests fill the connection's slots: a client that
 * starts more of them than it has workers cannot be read until one ends,
 * but its hangup is still seen.
 */
int p9_interrupted(P9Req *r);

/* --- the client (lib/9p/client.c) --- */

/*
 * One conversation with a server, shared by many threads: requests are
 * written under a lock, a reader thread hands each reply to the thread
 * waiting for its tag.  When the server hangs up, every waiting and
 * later call fails with EIO ("i/o on hungup channel").
 */
typedef struct P9Client P9Client;

/*
 * Take over fd (a connected socket or pipe; consumed, also on failure)
 * and negotiate: Tversion with msize and the version of dialect, or with
 * dialect -1, "9P2000.L" and then, if the server answers otherwise,
 * "9P2000" (a server answering "9P2000" to the first is taken at its
 * word).  Returns NULL with the error record set.
 */
P9Client *p9_client_new(int fd, size_t msize, int dialect);
/* Hang up, fail every waiting call, free.  */
void p9_client_free(P9Client *c);
int p9_client_dialect(P9Client *c);
size_t p9_client_msize(P9Client *c);
/* Whether the server has hung up. */
int p9_client_dead(P9Client *c);
/* fn(arg) is called once, from the reader thread, when the server hangs up. */
void p9_client_onhangup(P9Client *c, void (*fn)(void *), void *arg);

/*
 * Send t (its tag is assigned here) and wait for the reply in *r
 * (overwritten; free with p9_freefcall).  buf, when not NULL, is where
 * the reply lands (len >= msize): Rread and Rreaddir data point into it,
 * so Tread and Treaddir must pass one.  An Rerror or Rlerror becomes -1
 * with the error record set from it (p9_seterrfcall).  Thread-safe.
 */
int p9_client_rpc(P9Client *c, const P9Fcall *t, P9Fcall *r, uint8_t *buf, size_t len);

/*
 * An interruptible call: p9_client_rpcintr is p9_client_rpc that another
 * thread may interrupt with p9_client_interrupt(c, in), before or while
 * it waits.  It then flushes its request (Tflush, flush(5)) and fails
 * with EINTR once the Rflush comes, unless the server answered first:
 * then the answer stands.  *in starts zeroed and lives until the call
 * returns; its fields are the client's.
 */
typedef struct P9Intr P9Intr;
struct P9Intr {
	int interrupted;
	void *q;
};
int p9_client_rpcintr(P9Client *c, const P9Fcall *t, P9Fcall *r, uint8_t *buf, size_t len, P9Intr *in);
void p9_client_interrupt(P9Client *c, P9Intr *in);

/* Fid numbers: a free one, and back. */
uint32_t p9_client_newfid(P9Client *c);
void p9_client_putfid(P9Client *c, uint32_t fid);

/*
 * Trace every message sent and received, one p9_fmt line each, on
 * stderr, prefixed with name ("9pfuse -> Twalk ...").  NULL: stop.
 * Call before the conversation is shared.
 */
void p9_client_trace(P9Client *c, const char *name);

#endif
