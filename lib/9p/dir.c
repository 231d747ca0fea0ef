/*
 * dir.c: directory data.  9P2000 and .u stat records (Rstat, Twstat and
 * the data of a directory Rread) and 9P2000.L readdir entries (Rreaddir),
 * through the same field interpreter as the messages.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "9p.h"
#include "impl.h"

static size_t
slen(const char *s)
{
	return s == NULL ? 0 : strlen(s);
}

static int
statdialect(int dialect, const char *fn)
{
	if(dialect != P9_9P2000 && dialect != P9_9P2000U)
		return seterr(EINVAL, "9P: %s: no stat records in dialect %d", fn, dialect);
	return 0;
}

size_t
p9_statsize(const P9Stat *st, int dialect)
{
	size_t n;

	n = P9_STATFIXLEN + slen(st->name) + slen(st->uid) + slen(st->gid) + slen(st->muid);
	if(dialect == P9_9P2000U)
		n += P9_STATFIXLENU - P9_STATFIXLEN + slen(st->extension);
	return n;
}

int
p9_packstat(const P9Stat *st, int dialect, uint8_t *buf, size_t len)
{
	P9Wr w;
	size_t n;

	if(statdialect(dialect, "pack stat") < 0)
		return -1;
	memset(&w, 0, sizeof w);
	w.p = buf;
	w.e = buf + len;
	if((size_t)(w.e - w.p) < 2)
		return 0;
	w.p += 2;
	p9putfields(&w, p9statfields, st, dialect);
	if(w.err == EMSGSIZE)
		return 0;
	if(w.err != 0)
		return seterr(w.err, "9P: pack stat: %s", w.why);
	n = w.p - buf;
	if(n - 2 > 0xffff)
		return seterr(EINVAL, "9P: pack stat: longer than 65535 bytes");
	p9put16(buf, n - 2);
	return n;
}

int
p9_unpackstat(const uint8_t *buf, size_t len, int dialect, P9Stat *st)
{
	uint16_t size;
	P9Rd r;

	memset(st, 0, sizeof *st);
	if(statdialect(dialect, "unpack stat") < 0)
		return -1;
	if(len < 2)
		return seterr(EPROTO, "9P: stat truncated: %zu bytes", len);
	size = p9get16(buf);
	if((size_t)size + 2 > len)
		return seterr(EPROTO, "9P: stat size %u runs past the end (%zu bytes)", size, len);
	memset(&r, 0, sizeof r);
	r.p = buf + 2;
	r.e = buf + 2 + size;
	st->n_uid = st->n_gid = st->n_muid = P9_NONUNAME;
	p9getfields(&r, p9statfields, st, dialect);
	if(r.why[0] == 0 && r.p != r.e)
		snprintf(r.why, sizeof r.why, "%td bytes left in the stat", r.e - r.p);
	if(r.why[0] != 0){
		memset(st, 0, sizeof *st);
		return seterr(EPROTO, "9P: stat: %s", r.why);
	}
	st->mem = p9rdstrings(&r);
	return size + 2;
}

void
p9_freestat(P9Stat *st)
{
	free(st->mem);
	st->mem = NULL;
}

size_t
p9_direntsize(const P9Dirent *d)
{
	return P9_DIRENTFIXLEN + slen(d->name);
}

int
p9_packdirent(const P9Dirent *d, uint8_t *buf, size_t len)
{
	P9Wr w;

	memset(&w, 0, sizeof w);
	w.p = buf;
	w.e = buf + len;
	p9putfields(&w, p9direntfields, d, P9_9P2000L);
	if(w.err == EMSGSIZE)
		return 0;
	if(w.err != 0)
		return seterr(w.err, "9P: pack dirent: %s", w.why);
	return w.p - buf;
}

int
p9_unpackdirent(const uint8_t *buf, size_t len, P9Dirent *d)
{
	P9Rd r;

	memset(d, 0, sizeof *d);
	memset(&r, 0, sizeof r);
	r.p = buf;
	r.e = buf + len;
	p9getfields(&r, p9direntfields, d, P9_9P2000L);
	if(r.why[0] != 0){
		memset(d, 0, sizeof *d);
		return seterr(EPROTO, "9P: dirent: %s", r.why);
	}
	/* The one string: its copy is the whole allocation. */
	p9rdstrings(&r);
	return r.p - buf;
}

void
p9_freedirent(P9Dirent *d)
{
	free(d->name);
	d->name = NULL;
}
