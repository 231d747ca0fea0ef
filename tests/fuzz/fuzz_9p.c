/*
 * fuzz_9p.c: libFuzzer target for the 9P decoder (lib/9p).  The input is
 * one message as it comes off the wire.  It is decoded in each dialect,
 * as a server would (T-messages) and as a client would (R-messages); what
 * decodes must pack back to exactly the bytes consumed, must be refused
 * when msize is one byte smaller, and must trace without trouble.  The
 * directory data of an Rread (stat records) or Rreaddir (entries) is
 * walked the same way.  A refusal must be EPROTO with a text.  Anything
 * else aborts.  Seeds: P9_CORPUS=dir build/tests/t_9p.  FUZZ9P_SIDE=server
 * (or client) in the environment limits a run to T- (or R-) messages.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "9p.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum { Msize = 1 << 20 };

static void
fail(const char *why, int dialect, const uint8_t *data, size_t size)
{
	size_t i;

	fprintf(stderr, "fuzz_9p: %s (dialect %d): %s\n  input:", why, dialect, errtext());
	for(i = 0; i < size && i < 256; i++)
		fprintf(stderr, " %02x", data[i]);
	fprintf(stderr, "\n");
	abort();
}

static void
refusal(int r, int dialect, const uint8_t *data, size_t size)
{
	if(r == -1 && (errcode() != EPROTO || errtext()[0] == 0))
		fail("refused without EPROTO and a text", dialect, data, size);
}

/* Stat records back to back, as in a directory Rread. */
static void
stats(const uint8_t *p, uint32_t n, int dialect, uint8_t *out)
{
	P9Stat st;
	int r, m;

	while(n > 0){
		r = p9_unpackstat(p, n, dialect, &st);
		if(r < 0){
			refusal(r, dialect, p, n);
			return;
		}
		if((uint32_t)r > n || (size_t)r != p9_statsize(&st, dialect))
			fail("stat consumed a wrong length", dialect, p, n);
		m = p9_packstat(&st, dialect, out, r);
		if(m != r || memcmp(out, p, r) != 0)
			fail("stat repack differs", dialect, p, r);
		p9_freestat(&st);
		p += r;
		n -= r;
	}
}

static void
dirents(const uint8_t *p, uint32_t n, uint8_t *out)
{
	P9Dirent d;
	int r, m;

	while(n > 0){
		r = p9_unpackdirent(p, n, &d);
		if(r < 0){
			refusal(r, P9_9P2000L, p, n);
			return;
		}
		if((uint32_t)r > n || (size_t)r != p9_direntsize(&d))
			fail("dirent consumed a wrong length", P9_9P2000L, p, n);
		m = p9_packdirent(&d, out, r);
		if(m != r || memcmp(out, p, r) != 0)
			fail("dirent repack differs", P9_9P2000L, p, r);
		p9_freedirent(&d);
		p += r;
		n -= r;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *in, *out;
	P9Fcall f, g;
	Buf b = {0};
	static int side = -1;
	const char *s;
	int d, r, m;

	if(side < 0){
		s = getenv("FUZZ9P_SIDE");
		side = s == NULL ? 2 : strcmp(s, "server") == 0 ? 0 : strcmp(s, "client") == 0 ? 1 : 2;
	}
	/* T-messages are even, R-messages odd. */
	if(side != 2 && (size < 5 || (data[4] & 1) != side))
		return 0;
	/* An exact-size copy, so any read past the end is caught. */
	in = malloc(size ? size : 1);
	if(size > 0)
		memcpy(in, data, size);
	out = malloc(size ? size : 1);
	for(d = 0; d < P9_NDIALECT; d++){
		clearerr9();
		r = p9_unpack(in, size, d, Msize, &f);
		if(r < 0){
			refusal(r, d, in, size);
			if(f.mem != NULL)
				fail("refused but allocated", d, in, size);
			continue;
		}
		if(r < P9_HDRSZ || (size_t)r > size || (uint32_t)r != p9_msgsize(in))
			fail("consumed a wrong length", d, in, size);
		if(!p9_legal(f.type, d))
			fail("decoded a type outside the dialect", d, in, r);
		m = p9_pack(&f, d, out, r);
		if(m != r || memcmp(out, in, r) != 0)
			fail("repack differs", d, in, r);
		if(p9_pack(&f, d, out, r - 1) != -1 || errcode() != EMSGSIZE)
			fail("packed into one byte too few", d, in, r);
		if(p9_unpack(in, size, d, r - 1, &g) != -1)
			fail("accepted a message larger than msize", d, in, r);
		p9_fmt(&b, &f, d);
		if(b.s == NULL || strchr(b.s, '\n') != NULL)
			fail("trace is not one line", d, in, r);
		buffree(&b);
		if(f.type == P9_RREAD && d != P9_9P2000L)
			stats(f.data, f.count, d, out);
		if(f.type == P9_RREADDIR)
			dirents(f.data, f.count, out);
		p9_freefcall(&f);
	}
	free(out);
	free(in);
	return 0;
}
