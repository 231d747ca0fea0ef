/*
 * fmt.c: the -D trace: one line per message in the manner of Plan 9's
 * fcall(2) %F ("Twalk tag 1 fid 0 newfid 1 nwname 2 0:usr 1:bin"),
 * printed from the same field table the codec uses.
 */
#include <string.h>

#include "9p.h"
#include "impl.h"

enum {
	Dumpmax = 64,	/* data bytes shown, as Plan 9's dumpsome */
	Direntmax = 16,	/* readdir entries shown */
};

/* A string as a word: quoted when empty or holding blanks, quotes or control bytes. */
static void
fmtstr(Buf *b, const char *s, size_t n)
{
	const unsigned char *p, *e;
	int quote;

	p = (const unsigned char *)s;
	e = p + n;
	quote = n == 0;
	for(; p < e && !quote; p++)
		if(*p <= ' ' || *p == '\'' || *p == '\\' || *p == 0x7f)
			quote = 1;
	if(!quote){
		bufputn(b, s, n);
		return;
	}
	bufputc(b, '\'');
	for(p = (const unsigned char *)s; p < e; p++){
		if(*p == '\'')
			bufputs(b, "''");
		else if(*p == '\\')
			bufputs(b, "\\\\");
		else if(*p == '\n')
			bufputs(b, "\\n");
		else if(*p == '\t')
			bufputs(b, "\\t");
		else if(*p < ' ' || *p == 0x7f)
			bufprint(b, "\\x%02x", *p);
		else
			bufputc(b, *p);
	}
	bufputc(b, '\'');
}

static void
fmtqid(Buf *b, const P9Qid *q)
{
	static const struct {
		uint8_t bit;
		char c;
	} bits[] = {
		{P9_QTDIR, 'd'}, {P9_QTAPPEND, 'a'}, {P9_QTEXCL, 'l'}, {P9_QTMOUNT, 'm'},
		{P9_QTAUTH, 'A'}, {P9_QTTMP, 't'}, {P9_QTSYMLINK, 'L'}, {P9_QTLINK, 'H'},
	};
	size_t i;

	bufprint(b, "(%016llx %u ", (unsigned long long)q->path, q->vers);
	for(i = 0; i < nelem(bits); i++)
		if(q->type & bits[i].bit)
			bufputc(b, bits[i].c);
	bufputc(b, ')');
}

/* Text when it looks like text, else hex; at most Dumpmax bytes. */
static void
dumpsome(Buf *b, const uint8_t *p, uint32_t n)
{
	uint32_t i, m;
	int text;

	if(p == NULL || n == 0)
		return;
	m = n < Dumpmax ? n : Dumpmax;
	text = 1;
	for(i = 0; i < m && text; i++)
		if((p[i] < ' ' && p[i] != '\n' && p[i] != '\t') || p[i] == 0x7f)
			text = 0;
	bufputc(b, ' ');
	if(text){
		/* Always quoted, so data never reads as another field. */
		bufputc(b, '\'');
		for(i = 0; i < m; i++){
			if(p[i] == '\'')
				bufputs(b, "''");
			else if(p[i] == '\\')
				bufputs(b, "\\\\");
			else if(p[i] == '\n')
				bufputs(b, "\\n");
			else if(p[i] == '\t')
				bufputs(b, "\\t");
			else
				bufputc(b, p[i]);
		}
		bufputc(b, '\'');
	}else
		for(i = 0; i < m; i++)
			bufprint(b, "%02x", p[i]);
	if(m < n)
		bufputs(b, "...");
}

/* The names in Rreaddir data, read without trusting it. */
static void
fmtdirents(Buf *b, const uint8_t *p, uint32_t n)
{
	uint32_t off, len;
	int i;

	if(p == NULL)
		return;
	off = 0;
	for(i = 0; n - off >= P9_DIRENTFIXLEN; i++){
		len = p9get16(p + off + P9_DIRENTFIXLEN - 2);
		if(len > n - off - P9_DIRENTFIXLEN){
			bufputs(b, " (bad entry)");
			return;
		}
		if(i == Direntmax){
			bufputs(b, " ...");
			return;
		}
		bufprint(b, " %d:", i);
		fmtstr(b, (const char *)p + off + P9_DIRENTFIXLEN, len);
		off += P9_DIRENTFIXLEN + len;
	}
	if(off != n)
		bufputs(b, " (bad entry)");
}

static void
fmtint(Buf *b, int show, uint64_t v, int size)
{
	switch(show){
	case Poct:
		bufprint(b, "%#llo", (unsigned long long)v);
		break;
	case Phex:
		bufprint(b, "%#llx", (unsigned long long)v);
		break;
	case Pfid:
		if(size == 4)
			bufprint(b, "%d", (int32_t)v);
		else
			bufprint(b, "%lld", (long long)v);
		break;
	default:
		bufprint(b, "%llu", (unsigned long long)v);
		break;
	}
}

static void
fmtfields(Buf *b, const P9Field *fl, const void *base, const P9Fcall *f, int dialect)
{
	const char *m, *s;
	int i;

	for(; fl->kind != Fend; fl++){
		if(!(fl->dialects & 1 << dialect))
			continue;
		m = (const char *)base + fl->off;
		bufprint(b, " %s ", fl->label);
		switch(fl->kind){
		case F8:
			fmtint(b, fl->show, *(const uint8_t *)m, 1);
			break;
		case F16:
			fmtint(b, fl->show, *(const uint16_t *)m, 2);
			break;
		case F32:
			fmtint(b, fl->show, *(const uint32_t *)m, 4);
			break;
		case F64:
		case F32W64:
			fmtint(b, fl->show, *(const uint64_t *)m, 8);
			break;
		case Fstr:
			s = *(char *const *)m;
			fmtstr(b, s != NULL ? s : "", s != NULL ? strlen(s) : 0);
			break;
		case Fqid:
			fmtqid(b, (const P9Qid *)m);
			break;
		case Fwname:
			bufprint(b, "%u", f->nwname);
			for(i = 0; i < f->nwname && i < P9_MAXWELEM; i++){
				bufprint(b, " %d:", i);
				s = f->wname[i];
				fmtstr(b, s != NULL ? s : "", s != NULL ? strlen(s) : 0);
			}
			break;
		case Fwqid:
			bufprint(b, "%u", f->nwqid);
			for(i = 0; i < f->nwqid && i < P9_MAXWELEM; i++){
				bufprint(b, " %d:", i);
				fmtqid(b, &f->wqid[i]);
			}
			break;
		case Fdata:
			bufprint(b, "%u", f->count);
			if(f->type == P9_RREADDIR)
				fmtdirents(b, f->data, f->count);
			else
				dumpsome(b, f->data, f->count);
			break;
		case Fstat:
			/* The label stands for the record: "stat type 0 dev 0 qid ...". */
			b->n--;
			b->s[b->n] = 0;
			fmtfields(b, p9statfields, m, f, dialect);
			break;
		}
	}
}

void
p9_fmt(Buf *b, const P9Fcall *f, int dialect)
{
	const P9Msg *m;

	if(dialect < 0 || dialect >= P9_NDIALECT)
		dialect = P9_9P2000U;
	m = &p9msgtab[f->type];
	if(m->name == NULL){
		bufprint(b, "unknown type %d tag %u", f->type, f->tag);
		return;
	}
	bufprint(b, "%s tag %u", m->name, f->tag);
	fmtfields(b, m->fields, f, f, dialect);
}
