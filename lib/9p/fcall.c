/*
 * fcall.c: the 9P message codec for 9P2000, 9P2000.u and 9P2000.L.  Each
 * message is a list of fields in wire order (table.c); p9_pack and
 * p9_unpack walk that list.  Decoding trusts nothing: every length is
 * checked against what is left of the message before it is used, and the
 * fields must fill the message exactly.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "9p.h"
#include "impl.h"

static const char *versions[P9_NDIALECT] = {"9P2000", "9P2000.u", "9P2000.L"};

/* --- little-endian access --- */

uint16_t
p9get16(const uint8_t *p)
{
	return p[0] | p[1] << 8;
}

static uint32_t
get32(const uint8_t *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t
get64(const uint8_t *p)
{
	return get32(p) | (uint64_t)get32(p + 4) << 32;
}

void
p9put16(uint8_t *p, uint16_t v)
{
	p[0] = v;
	p[1] = v >> 8;
}

static void
put32(uint8_t *p, uint32_t v)
{
	p[0] = v;
	p[1] = v >> 8;
	p[2] = v >> 16;
	p[3] = v >> 24;
}

static void
put64(uint8_t *p, uint64_t v)
{
	put32(p, v);
	put32(p + 4, v >> 32);
}

/* --- the reader --- */

static void
rdfault(P9Rd *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
rdfault(P9Rd *r, const char *fmt, ...)
{
	va_list ap;

	if(r->why[0] != 0)
		return;
	va_start(ap, fmt);
	vsnprintf(r->why, sizeof r->why, fmt, ap);
	va_end(ap);
}

/* The next n bytes, or NULL (and a fault) when fewer are left. */
static const uint8_t *
rdtake(P9Rd *r, size_t n, const char *what)
{
	const uint8_t *p;

	if(r->why[0] != 0)
		return NULL;
	if((size_t)(r->e - r->p) < n){
		rdfault(r, "%s runs past the end", what);
		return NULL;
	}
	p = r->p;
	r->p += n;
	return p;
}

static uint64_t
rdint(P9Rd *r, int size, const char *what)
{
	const uint8_t *p;

	p = rdtake(r, size, what);
	if(p == NULL)
		return 0;
	switch(size){
	case 1:
		return p[0];
	case 2:
		return p9get16(p);
	case 4:
		return get32(p);
	default:
		return get64(p);
	}
}

static void
rdqid(P9Rd *r, P9Qid *q, const char *what)
{
	const uint8_t *p;

	p = rdtake(r, 13, what);
	if(p == NULL)
		return;
	q->type = p[0];
	q->vers = get32(p + 1);
	q->path = get64(p + 5);
}

/* A string is recorded now and copied by p9rdstrings once all is well. */
static void
rdstr(P9Rd *r, char **dst, const char *what)
{
	const uint8_t *p;
	uint16_t n;

	n = rdint(r, 2, what);
	p = rdtake(r, n, what);
	if(p == NULL)
		return;
	if(memchr(p, 0, n) != NULL){
		rdfault(r, "%s holds a NUL byte", what);
		return;
	}
	if(r->nstr == Maxstr){
		rdfault(r, "too many strings");
		return;
	}
	r->str[r->nstr].dst = dst;
	r->str[r->nstr].s = p;
	r->str[r->nstr].n = n;
	r->nstr++;
}

static void
rdstat(P9Rd *r, P9Stat *st, int dialect)
{
	const uint8_t *e;
	uint16_t n, size;

	n = rdint(r, 2, "stat length");
	if(r->why[0] != 0)
		return;
	if((size_t)(r->e - r->p) < n){
		rdfault(r, "stat length %u runs past the end", n);
		return;
	}
	/* Parse inside the n bytes only, then insist they were used up. */
	e = r->e;
	r->e = r->p + n;
	size = rdint(r, 2, "stat size");
	if(r->why[0] == 0 && size != n - 2)
		rdfault(r, "stat size %u in a stat of %u bytes", size, n);
	p9getfields(r, p9statfields, st, dialect);
	if(r->why[0] == 0 && r->p != r->e)
		rdfault(r, "%td bytes left in the stat", r->e - r->p);
	r->e = e;
}

void
p9getfields(P9Rd *r, const P9Field *fl, void *base, int dialect)
{
	P9Fcall *f;
	char *m;
	uint32_t i, n;

	f = base;
	for(; fl->kind != Fend && r->why[0] == 0; fl++){
		if(!(fl->dialects & 1 << dialect))
			continue;
		m = (char *)base + fl->off;
		switch(fl->kind){
		case F8:
			*(uint8_t *)m = rdint(r, 1, fl->label);
			break;
		case F16:
			*(uint16_t *)m = rdint(r, 2, fl->label);
			break;
		case F32:
			*(uint32_t *)m = rdint(r, 4, fl->label);
			break;
		case F64:
			*(uint64_t *)m = rdint(r, 8, fl->label);
			break;
		case F32W64:
			*(uint64_t *)m = rdint(r, 4, fl->label);
			break;
		case Fstr:
			rdstr(r, (char **)m, fl->label);
			break;
		case Fqid:
			rdqid(r, (P9Qid *)m, fl->label);
			break;
		case Fwname:
			n = rdint(r, 2, "nwname");
			if(n > P9_MAXWELEM){
				rdfault(r, "nwname %u > %d", n, P9_MAXWELEM);
				break;
			}
			f->nwname = n;
			for(i = 0; i < n; i++)
				rdstr(r, &f->wname[i], "wname");
			break;
		case Fwqid:
			n = rdint(r, 2, "nwqid");
			if(n > P9_MAXWELEM){
				rdfault(r, "nwqid %u > %d", n, P9_MAXWELEM);
				break;
			}
			f->nwqid = n;
			for(i = 0; i < n; i++)
				rdqid(r, &f->wqid[i], "wqid");
			break;
		case Fdata:
			n = rdint(r, 4, "count");
			if(r->why[0] == 0 && (size_t)(r->e - r->p) < n){
				rdfault(r, "count %u with %td bytes left", n, r->e - r->p);
				break;
			}
			f->count = n;
			f->data = rdtake(r, n, "data");
			break;
		case Fstat:
			rdstat(r, (P9Stat *)m, dialect);
			break;
		}
	}
}

/*
 * Copy the recorded strings into one allocation, NUL-terminated, and
 * point their fields at them.  NULL when there were none.
 */
void *
p9rdstrings(P9Rd *r)
{
	size_t total;
	char *mem, *s;
	int i;

	if(r->nstr == 0)
		return NULL;
	total = 0;
	for(i = 0; i < r->nstr; i++)
		total += r->str[i].n + 1;
	mem = emalloc(total);
	s = mem;
	for(i = 0; i < r->nstr; i++){
		memcpy(s, r->str[i].s, r->str[i].n);
		s[r->str[i].n] = 0;
		*r->str[i].dst = s;
		s += r->str[i].n + 1;
	}
	return mem;
}

/* --- the writer --- */

static uint8_t *
wrtake(P9Wr *w, size_t n)
{
	uint8_t *p;

	if(w->err != 0)
		return NULL;
	if((size_t)(w->e - w->p) < n){
		w->err = EMSGSIZE;
		snprintf(w->why, sizeof w->why, "does not fit");
		return NULL;
	}
	p = w->p;
	w->p += n;
	return p;
}

static void
wrfault(P9Wr *w, const char *what, const char *why)
{
	if(w->err != 0)
		return;
	w->err = EINVAL;
	snprintf(w->why, sizeof w->why, "%s %s", what, why);
}

static void
wrint(P9Wr *w, int size, uint64_t v)
{
	uint8_t *p;

	p = wrtake(w, size);
	if(p == NULL)
		return;
	switch(size){
	case 1:
		p[0] = v;
		break;
	case 2:
		p9put16(p, v);
		break;
	case 4:
		put32(p, v);
		break;
	default:
		put64(p, v);
		break;
	}
}

static void
wrqid(P9Wr *w, const P9Qid *q)
{
	uint8_t *p;

	p = wrtake(w, 13);
	if(p == NULL)
		return;
	p[0] = q->type;
	put32(p + 1, q->vers);
	put64(p + 5, q->path);
}

static void
wrstr(P9Wr *w, const char *s, const char *what)
{
	size_t n;
	uint8_t *p;

	n = s == NULL ? 0 : strlen(s);
	if(n > 0xffff){
		wrfault(w, what, "longer than 65535 bytes");
		return;
	}
	wrint(w, 2, n);
	p = wrtake(w, n);
	if(p != NULL && n > 0)
		memcpy(p, s, n);
}

static void
wrstat(P9Wr *w, const P9Stat *st, int dialect)
{
	uint8_t *q;
	size_t n;

	/* n[2], then the record's own size[2]: both filled in at the end. */
	q = wrtake(w, 4);
	p9putfields(w, p9statfields, st, dialect);
	if(w->err != 0)
		return;
	n = w->p - q - 2;
	if(n > 0xffff){
		wrfault(w, "stat", "longer than 65535 bytes");
		return;
	}
	p9put16(q, n);
	p9put16(q + 2, n - 2);
}

void
p9putfields(P9Wr *w, const P9Field *fl, const void *base, int dialect)
{
	const P9Fcall *f;
	const char *m;
	uint8_t *p;
	int i;

	f = base;
	for(; fl->kind != Fend && w->err == 0; fl++){
		if(!(fl->dialects & 1 << dialect))
			continue;
		m = (const char *)base + fl->off;
		switch(fl->kind){
		case F8:
			wrint(w, 1, *(const uint8_t *)m);
			break;
		case F16:
			wrint(w, 2, *(const uint16_t *)m);
			break;
		case F32:
			wrint(w, 4, *(const uint32_t *)m);
			break;
		case F64:
			wrint(w, 8, *(const uint64_t *)m);
			break;
		case F32W64:
			if(*(const uint64_t *)m > 0xffffffff){
				wrfault(w, fl->label, "does not fit in 32 bits");
				break;
			}
			wrint(w, 4, *(const uint64_t *)m);
			break;
		case Fstr:
			wrstr(w, *(char *const *)m, fl->label);
			break;
		case Fqid:
			wrqid(w, (const P9Qid *)m);
			break;
		case Fwname:
			if(f->nwname > P9_MAXWELEM){
				wrfault(w, "nwname", "exceeds 16");
				break;
			}
			wrint(w, 2, f->nwname);
			for(i = 0; i < f->nwname; i++)
				wrstr(w, f->wname[i], "wname");
			break;
		case Fwqid:
			if(f->nwqid > P9_MAXWELEM){
				wrfault(w, "nwqid", "exceeds 16");
				break;
			}
			wrint(w, 2, f->nwqid);
			for(i = 0; i < f->nwqid; i++)
				wrqid(w, &f->wqid[i]);
			break;
		case Fdata:
			if(f->count > 0 && f->data == NULL){
				wrfault(w, "data", "missing");
				break;
			}
			wrint(w, 4, f->count);
			p = wrtake(w, f->count);
			/* The caller may have put the data in place already. */
			if(p != NULL && p != f->data && f->count > 0)
				memmove(p, f->data, f->count);
			break;
		case Fstat:
			wrstat(w, (const P9Stat *)m, dialect);
			break;
		}
	}
}

/* --- messages --- */

static int
baddialect(int dialect)
{
	return dialect < 0 || dialect >= P9_NDIALECT;
}

int
p9_pack(const P9Fcall *f, int dialect, uint8_t *buf, size_t len)
{
	const P9Msg *m;
	P9Wr w;
	size_t n;

	if(baddialect(dialect))
		return seterr(EINVAL, "9P: pack: unknown dialect %d", dialect);
	m = &p9msgtab[f->type];
	if(m->name == NULL || !(m->dialects & 1 << dialect))
		return seterr(EINVAL, "9P: pack: message type %d is not %s", f->type, versions[dialect]);
	/* What p9_unpack would refuse is not sent. */
	if((f->type == P9_TVERSION || f->type == P9_RVERSION) && f->msize < P9_MINMSIZE)
		return seterr(EINVAL, "9P: pack %s: msize %u < %d", m->name, f->msize, P9_MINMSIZE);
	if(len > INT_MAX)
		len = INT_MAX;
	memset(&w, 0, sizeof w);
	w.p = buf;
	w.e = buf + len;
	wrtake(&w, 4);
	wrint(&w, 1, f->type);
	wrint(&w, 2, f->tag);
	p9putfields(&w, m->fields, f, dialect);
	if(w.err == EMSGSIZE)
		return seterr(EMSGSIZE, "9P: pack %s: message does not fit in %zu bytes", m->name, len);
	if(w.err != 0)
		return seterr(w.err, "9P: pack %s: %s", m->name, w.why);
	n = w.p - buf;
	put32(buf, n);
	return n;
}

int
p9_unpack(const uint8_t *buf, size_t len, int dialect, size_t msize, P9Fcall *f)
{
	const P9Msg *m;
	uint32_t size;
	P9Rd r;

	memset(f, 0, sizeof *f);
	if(baddialect(dialect))
		return seterr(EINVAL, "9P: unpack: unknown dialect %d", dialect);
	if(len < 4)
		return seterr(EPROTO, "9P: message truncated: %zu bytes", len);
	size = get32(buf);
	if(size >= P9_HDRSZ && len >= P9_HDRSZ){
		f->type = buf[4];
		f->tag = p9get16(buf + 5);
	}
	if(p9_checksize(size, msize) < 0)
		return -1;
	if(size > len)
		return seterr(EPROTO, "9P: message truncated: size %u, %zu bytes", size, len);
	m = &p9msgtab[buf[4]];
	if(m->name == NULL)
		return seterr(EPROTO, "9P: unknown message type %d", buf[4]);
	if(!(m->dialects & 1 << dialect))
		return seterr(EPROTO, "9P: %s is not a %s message", m->name, versions[dialect]);

	memset(&r, 0, sizeof r);
	r.p = buf + P9_HDRSZ;
	r.e = buf + size;
	f->n_uname = P9_NONUNAME;
	f->stat.n_uid = f->stat.n_gid = f->stat.n_muid = P9_NONUNAME;
	p9getfields(&r, m->fields, f, dialect);
	if(r.why[0] == 0 && r.p != r.e)
		rdfault(&r, "%td bytes of trailing garbage", r.e - r.p);
	if(r.why[0] == 0 && (f->type == P9_TVERSION || f->type == P9_RVERSION) && f->msize < P9_MINMSIZE)
		rdfault(&r, "msize %u < %d", f->msize, P9_MINMSIZE);
	if(r.why[0] != 0){
		/* Leave no pointers into a half-decoded message. */
		memset(f, 0, sizeof *f);
		f->type = buf[4];
		f->tag = p9get16(buf + 5);
		return seterr(EPROTO, "9P: %s: %s", m->name, r.why);
	}
	f->mem = p9rdstrings(&r);
	return size;
}

void
p9_freefcall(P9Fcall *f)
{
	free(f->mem);
	f->mem = NULL;
}

uint32_t
p9_msgsize(const uint8_t *hdr4)
{
	return get32(hdr4);
}

int
p9_checksize(uint32_t size, size_t msize)
{
	if(size < P9_HDRSZ)
		return seterr(EPROTO, "9P: message size %u < %d", size, P9_HDRSZ);
	if(size > msize)
		return seterr(EPROTO, "9P: message size %u > msize %zu", size, msize);
	if(size > INT_MAX)
		return seterr(EPROTO, "9P: message size %u too large", size);
	return 0;
}

const char *
p9_typename(int type)
{
	if(type < 0 || type >= (int)nelem(p9msgtab))
		return NULL;
	return p9msgtab[type].name;
}

int
p9_legal(int type, int dialect)
{
	if(type < 0 || type >= (int)nelem(p9msgtab) || baddialect(dialect))
		return 0;
	return (p9msgtab[type].dialects & 1 << dialect) != 0;
}

const char *
p9_versionstr(int dialect)
{
	if(baddialect(dialect))
		return NULL;
	return versions[dialect];
}

int
p9_dialect(const char *version)
{
	int d;

	for(d = 0; d < P9_NDIALECT; d++)
		if(strcmp(version, versions[d]) == 0)
			return d;
	return -1;
}
