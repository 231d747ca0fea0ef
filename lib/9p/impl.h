/*
 * impl.h: inside lib/9p.  Every message is described once, as a list of
 * fields in wire order (table.c); one interpreter packs and unpacks them
 * (fcall.c) and fmt.c prints them, so the three cannot disagree.
 */
#ifndef NS9_9P_IMPL_H
#define NS9_9P_IMPL_H

#include <stddef.h>
#include <stdint.h>

#include "9p.h"

/* Field kinds.  The integer kinds name the wire size; the member has the same. */
enum {
	Fend,
	F8,
	F16,
	F32,
	F64,
	F32W64,	/* 4 bytes on the wire, a uint64_t member (Tsetattr valid) */
	Fstr,	/* len[2] bytes, a char * member */
	Fqid,	/* qid[13], a P9Qid member */
	Fwname,	/* nwname[2] nwname*(wname[s]): P9Fcall nwname, wname */
	Fwqid,	/* nwqid[2] nwqid*(qid[13]): P9Fcall nwqid, wqid */
	Fdata,	/* count[4] data[count]: P9Fcall count, data */
	Fstat,	/* n[2] stat[n]: a P9Stat member */
};

/* Dialect masks: bit d for dialect d. */
enum {
	D0 = 1 << P9_9P2000,
	DU = 1 << P9_9P2000U,
	DL = 1 << P9_9P2000L,
	D0U = D0 | DU,
	DUL = DU | DL,
	DALL = D0 | DU | DL,
};

/* How the trace shows an integer. */
enum {
	Pdec,
	Poct,
	Phex,
	Pfid,	/* signed, so NOFID and NONUNAME show as -1 (Plan 9 does) */
};

typedef struct P9Field P9Field;
struct P9Field {
	uint8_t kind;
	uint8_t dialects;	/* where the field is on the wire */
	uint8_t show;
	uint16_t off;	/* of the member */
	const char *label;	/* for the trace */
};

typedef struct P9Msg P9Msg;
struct P9Msg {
	const char *name;
	uint8_t dialects;	/* where the message is legal */
	const P9Field *fields;
};

/* table.c */
extern const P9Msg p9msgtab[256];
extern const P9Field p9statfields[];
extern const P9Field p9direntfields[];

/* A bounded reader.  Strings are recorded and copied out at the end. */
enum { Maxstr = 24, Whylen = 96 };
typedef struct P9Rd P9Rd;
struct P9Rd {
	const uint8_t *p;
	const uint8_t *e;
	char why[Whylen];	/* the first fault, or "" */
	int nstr;
	struct {
		char **dst;
		const uint8_t *s;
		uint16_t n;
	} str[Maxstr];
};

/* A bounded writer; err is the errno of the first fault, or 0. */
typedef struct P9Wr P9Wr;
struct P9Wr {
	uint8_t *p;
	uint8_t *e;
	int err;
	char why[Whylen];
};

/* fcall.c */
void p9getfields(P9Rd *r, const P9Field *fl, void *base, int dialect);
void p9putfields(P9Wr *w, const P9Field *fl, const void *base, int dialect);
void *p9rdstrings(P9Rd *r);
uint16_t p9get16(const uint8_t *p);
void p9put16(uint8_t *p, uint16_t v);

#endif
