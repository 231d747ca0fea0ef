/*
 * table.c: every 9P message of the three dialects, once: its name, the
 * dialects it belongs to and its fields in wire order (from intro(5) and
 * the 9P2000.u and 9P2000.L documents), with the stat record and the .L
 * readdir entry.  fcall.c and fmt.c interpret these lists.
 */
#include <stddef.h>

#include "9p.h"
#include "impl.h"

/*
 * Table entries.  CHK makes the build fail when a member's size does not
 * match the field's wire size, so the interpreter's casts stay honest.
 */
#define CHK(T, m, n) (0 * (int)sizeof(char[2 * (sizeof(((T *)0)->m) == (n)) - 1]))
#define FLD(k, n, d, show, m, l) {(uint8_t)((k) + CHK(P9Fcall, m, n)), d, show, offsetof(P9Fcall, m), l}
#define U8(m, l) FLD(F8, 1, DALL, Pdec, m, l)
#define U16(m, l) FLD(F16, 2, DALL, Pdec, m, l)
#define U32(m, l) FLD(F32, 4, DALL, Pdec, m, l)
#define U64(m, l) FLD(F64, 8, DALL, Pdec, m, l)
#define FID(m, l) FLD(F32, 4, DALL, Pfid, m, l)
#define OCT(m, l) FLD(F32, 4, DALL, Poct, m, l)
#define HEX32(m, l) FLD(F32, 4, DALL, Phex, m, l)
#define HEX64(m, l) FLD(F64, 8, DALL, Phex, m, l)
#define STR(m, l) FLD(Fstr, sizeof(char *), DALL, Pdec, m, l)
#define QID(m, l) FLD(Fqid, sizeof(P9Qid), DALL, Pdec, m, l)
#define WNAME {Fwname, DALL, Pdec, 0, "nwname"}
#define WQID {Fwqid, DALL, Pdec, 0, "nwqid"}
#define DATA {Fdata, DALL, Pdec, 0, "count"}
#define STAT FLD(Fstat, sizeof(P9Stat), DALL, Pdec, stat, "stat")
#define END {Fend, 0, 0, 0, NULL}

static const P9Field fnone[] = {END};
static const P9Field ffid[] = {FID(fid, "fid"), END};
static const P9Field fqid[] = {QID(qid, "qid"), END};
static const P9Field fqidiounit[] = {QID(qid, "qid"), U32(iounit, "iounit"), END};
static const P9Field fdata[] = {DATA, END};
static const P9Field fcount[] = {U32(count, "count"), END};

static const P9Field fversion[] = {U32(msize, "msize"), STR(version, "version"), END};
static const P9Field ftauth[] = {
	FID(afid, "afid"), STR(uname, "uname"), STR(aname, "aname"),
	FLD(F32, 4, DUL, Pfid, n_uname, "n_uname"), END,
};
static const P9Field frauth[] = {QID(qid, "aqid"), END};
static const P9Field ftattach[] = {
	FID(fid, "fid"), FID(afid, "afid"), STR(uname, "uname"), STR(aname, "aname"),
	FLD(F32, 4, DUL, Pfid, n_uname, "n_uname"), END,
};
static const P9Field frerror[] = {STR(ename, "ename"), FLD(F32, 4, DU, Pdec, errnum, "errno"), END};
static const P9Field frlerror[] = {U32(errnum, "ecode"), END};
static const P9Field ftflush[] = {U16(oldtag, "oldtag"), END};
static const P9Field ftwalk[] = {FID(fid, "fid"), FID(newfid, "newfid"), WNAME, END};
static const P9Field frwalk[] = {WQID, END};
static const P9Field ftopen[] = {FID(fid, "fid"), U8(mode, "mode"), END};
static const P9Field ftcreate[] = {
	FID(fid, "fid"), STR(name, "name"), OCT(perm, "perm"), U8(mode, "mode"),
	FLD(Fstr, sizeof(char *), DU, Pdec, extension, "extension"), END,
};
static const P9Field ftread[] = {FID(fid, "fid"), U64(offset, "offset"), U32(count, "count"), END};
static const P9Field ftwrite[] = {FID(fid, "fid"), U64(offset, "offset"), DATA, END};
static const P9Field frstat[] = {STAT, END};
static const P9Field ftwstat[] = {FID(fid, "fid"), STAT, END};

/* 9P2000.L */
static const P9Field frstatfs[] = {
	U32(statfs.type, "type"), U32(statfs.bsize, "bsize"), U64(statfs.blocks, "blocks"),
	U64(statfs.bfree, "bfree"), U64(statfs.bavail, "bavail"), U64(statfs.files, "files"),
	U64(statfs.ffree, "ffree"), HEX64(statfs.fsid, "fsid"), U32(statfs.namelen, "namelen"), END,
};
static const P9Field ftlopen[] = {FID(fid, "fid"), HEX32(flags, "flags"), END};
static const P9Field ftlcreate[] = {
	FID(fid, "fid"), STR(name, "name"), HEX32(flags, "flags"), OCT(perm, "mode"), U32(gid, "gid"), END,
};
static const P9Field ftsymlink[] = {
	FID(fid, "fid"), STR(name, "name"), STR(target, "symtgt"), U32(gid, "gid"), END,
};
static const P9Field ftmknod[] = {
	FID(dfid, "dfid"), STR(name, "name"), OCT(perm, "mode"), U32(major, "major"),
	U32(minor, "minor"), U32(gid, "gid"), END,
};
static const P9Field ftrename[] = {FID(fid, "fid"), FID(dfid, "dfid"), STR(name, "name"), END};
static const P9Field frreadlink[] = {STR(target, "target"), END};
static const P9Field ftgetattr[] = {FID(fid, "fid"), HEX64(mask, "request_mask"), END};
static const P9Field frgetattr[] = {
	HEX64(attr.valid, "valid"), QID(attr.qid, "qid"), OCT(attr.mode, "mode"),
	U32(attr.uid, "uid"), U32(attr.gid, "gid"), U64(attr.nlink, "nlink"),
	U64(attr.rdev, "rdev"), U64(attr.size, "size"), U64(attr.blksize, "blksize"),
	U64(attr.blocks, "blocks"), U64(attr.atime_sec, "atime_sec"),
	U64(attr.atime_nsec, "atime_nsec"), U64(attr.mtime_sec, "mtime_sec"),
	U64(attr.mtime_nsec, "mtime_nsec"), U64(attr.ctime_sec, "ctime_sec"),
	U64(attr.ctime_nsec, "ctime_nsec"), U64(attr.btime_sec, "btime_sec"),
	U64(attr.btime_nsec, "btime_nsec"), U64(attr.gen, "gen"),
	U64(attr.data_version, "data_version"), END,
};
static const P9Field ftsetattr[] = {
	FID(fid, "fid"), FLD(F32W64, 8, DALL, Phex, attr.valid, "valid"), OCT(attr.mode, "mode"),
	U32(attr.uid, "uid"), U32(attr.gid, "gid"), U64(attr.size, "size"),
	U64(attr.atime_sec, "atime_sec"), U64(attr.atime_nsec, "atime_nsec"),
	U64(attr.mtime_sec, "mtime_sec"), U64(attr.mtime_nsec, "mtime_nsec"), END,
};
static const P9Field ftxattrwalk[] = {FID(fid, "fid"), FID(newfid, "newfid"), STR(name, "name"), END};
static const P9Field frxattrwalk[] = {U64(attrsize, "size"), END};
static const P9Field ftxattrcreate[] = {
	FID(fid, "fid"), STR(name, "name"), U64(attrsize, "attr_size"), HEX32(flags, "flags"), END,
};
static const P9Field ftreaddir[] = {FID(fid, "fid"), U64(offset, "offset"), U32(count, "count"), END};
static const P9Field ftfsync[] = {FID(fid, "fid"), U32(datasync, "datasync"), END};
static const P9Field ftlock[] = {
	FID(fid, "fid"), U8(lock.type, "type"), HEX32(lock.flags, "flags"), U64(lock.start, "start"),
	U64(lock.length, "length"), U32(lock.proc_id, "proc_id"), STR(lock.client_id, "client_id"), END,
};
static const P9Field frlock[] = {U8(status, "status"), END};
static const P9Field ftgetlock[] = {
	FID(fid, "fid"), U8(lock.type, "type"), U64(lock.start, "start"), U64(lock.length, "length"),
	U32(lock.proc_id, "proc_id"), STR(lock.client_id, "client_id"), END,
};
static const P9Field frgetlock[] = {
	U8(lock.type, "type"), U64(lock.start, "start"), U64(lock.length, "length"),
	U32(lock.proc_id, "proc_id"), STR(lock.client_id, "client_id"), END,
};
static const P9Field ftlink[] = {FID(dfid, "dfid"), FID(fid, "fid"), STR(name, "name"), END};
static const P9Field ftmkdir[] = {
	FID(dfid, "dfid"), STR(name, "name"), OCT(perm, "mode"), U32(gid, "gid"), END,
};
static const P9Field ftrenameat[] = {
	FID(dfid, "olddirfid"), STR(name, "oldname"), FID(newdfid, "newdirfid"),
	STR(newname, "newname"), END,
};
static const P9Field ftunlinkat[] = {FID(dfid, "dirfd"), STR(name, "name"), HEX32(flags, "flags"), END};

const P9Msg p9msgtab[256] = {
	[P9_TLERROR] = {"Tlerror", 0, fnone},
	[P9_RLERROR] = {"Rlerror", DL, frlerror},
	[P9_TSTATFS] = {"Tstatfs", DL, ffid},
	[P9_RSTATFS] = {"Rstatfs", DL, frstatfs},
	[P9_TLOPEN] = {"Tlopen", DL, ftlopen},
	[P9_RLOPEN] = {"Rlopen", DL, fqidiounit},
	[P9_TLCREATE] = {"Tlcreate", DL, ftlcreate},
	[P9_RLCREATE] = {"Rlcreate", DL, fqidiounit},
	[P9_TSYMLINK] = {"Tsymlink", DL, ftsymlink},
	[P9_RSYMLINK] = {"Rsymlink", DL, fqid},
	[P9_TMKNOD] = {"Tmknod", DL, ftmknod},
	[P9_RMKNOD] = {"Rmknod", DL, fqid},
	[P9_TRENAME] = {"Trename", DL, ftrename},
	[P9_RRENAME] = {"Rrename", DL, fnone},
	[P9_TREADLINK] = {"Treadlink", DL, ffid},
	[P9_RREADLINK] = {"Rreadlink", DL, frreadlink},
	[P9_TGETATTR] = {"Tgetattr", DL, ftgetattr},
	[P9_RGETATTR] = {"Rgetattr", DL, frgetattr},
	[P9_TSETATTR] = {"Tsetattr", DL, ftsetattr},
	[P9_RSETATTR] = {"Rsetattr", DL, fnone},
	[P9_TXATTRWALK] = {"Txattrwalk", DL, ftxattrwalk},
	[P9_RXATTRWALK] = {"Rxattrwalk", DL, frxattrwalk},
	[P9_TXATTRCREATE] = {"Txattrcreate", DL, ftxattrcreate},
	[P9_RXATTRCREATE] = {"Rxattrcreate", DL, fnone},
	[P9_TREADDIR] = {"Treaddir", DL, ftreaddir},
	[P9_RREADDIR] = {"Rreaddir", DL, fdata},
	[P9_TFSYNC] = {"Tfsync", DL, ftfsync},
	[P9_RFSYNC] = {"Rfsync", DL, fnone},
	[P9_TLOCK] = {"Tlock", DL, ftlock},
	[P9_RLOCK] = {"Rlock", DL, frlock},
	[P9_TGETLOCK] = {"Tgetlock", DL, ftgetlock},
	[P9_RGETLOCK] = {"Rgetlock", DL, frgetlock},
	[P9_TLINK] = {"Tlink", DL, ftlink},
	[P9_RLINK] = {"Rlink", DL, fnone},
	[P9_TMKDIR] = {"Tmkdir", DL, ftmkdir},
	[P9_RMKDIR] = {"Rmkdir", DL, fqid},
	[P9_TRENAMEAT] = {"Trenameat", DL, ftrenameat},
	[P9_RRENAMEAT] = {"Rrenameat", DL, fnone},
	[P9_TUNLINKAT] = {"Tunlinkat", DL, ftunlinkat},
	[P9_RUNLINKAT] = {"Runlinkat", DL, fnone},

	[P9_TVERSION] = {"Tversion", DALL, fversion},
	[P9_RVERSION] = {"Rversion", DALL, fversion},
	[P9_TAUTH] = {"Tauth", DALL, ftauth},
	[P9_RAUTH] = {"Rauth", DALL, frauth},
	[P9_TATTACH] = {"Tattach", DALL, ftattach},
	[P9_RATTACH] = {"Rattach", DALL, fqid},
	[P9_TERROR] = {"Terror", 0, fnone},
	[P9_RERROR] = {"Rerror", D0U, frerror},
	[P9_TFLUSH] = {"Tflush", DALL, ftflush},
	[P9_RFLUSH] = {"Rflush", DALL, fnone},
	[P9_TWALK] = {"Twalk", DALL, ftwalk},
	[P9_RWALK] = {"Rwalk", DALL, frwalk},
	[P9_TOPEN] = {"Topen", D0U, ftopen},
	[P9_ROPEN] = {"Ropen", D0U, fqidiounit},
	[P9_TCREATE] = {"Tcreate", D0U, ftcreate},
	[P9_RCREATE] = {"Rcreate", D0U, fqidiounit},
	[P9_TREAD] = {"Tread", DALL, ftread},
	[P9_RREAD] = {"Rread", DALL, fdata},
	[P9_TWRITE] = {"Twrite", DALL, ftwrite},
	[P9_RWRITE] = {"Rwrite", DALL, fcount},
	[P9_TCLUNK] = {"Tclunk", DALL, ffid},
	[P9_RCLUNK] = {"Rclunk", DALL, fnone},
	[P9_TREMOVE] = {"Tremove", DALL, ffid},
	[P9_RREMOVE] = {"Rremove", DALL, fnone},
	[P9_TSTAT] = {"Tstat", D0U, ffid},
	[P9_RSTAT] = {"Rstat", D0U, frstat},
	[P9_TWSTAT] = {"Twstat", D0U, ftwstat},
	[P9_RWSTAT] = {"Rwstat", D0U, fnone},
};

#undef FLD
#define FLD(k, n, d, show, m, l) {(uint8_t)((k) + CHK(P9Stat, m, n)), d, show, offsetof(P9Stat, m), l}

/* The stat record after its size[2]; the .u part only in .u. */
const P9Field p9statfields[] = {
	U16(type, "type"), U32(dev, "dev"), QID(qid, "qid"), OCT(mode, "mode"),
	U32(atime, "atime"), U32(mtime, "mtime"), U64(length, "length"),
	STR(name, "name"), STR(uid, "uid"), STR(gid, "gid"), STR(muid, "muid"),
	FLD(Fstr, sizeof(char *), DU, Pdec, extension, "extension"),
	FLD(F32, 4, DU, Pfid, n_uid, "n_uid"), FLD(F32, 4, DU, Pfid, n_gid, "n_gid"),
	FLD(F32, 4, DU, Pfid, n_muid, "n_muid"), END,
};

#undef FLD
#define FLD(k, n, d, show, m, l) {(uint8_t)((k) + CHK(P9Dirent, m, n)), d, show, offsetof(P9Dirent, m), l}

const P9Field p9direntfields[] = {
	QID(qid, "qid"), U64(offset, "offset"), U8(type, "type"), STR(name, "name"), END,
};
