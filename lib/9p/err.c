/*
 * err.c: between the error record (util.h) and 9P error replies.  A
 * server answers from the record; a client turns Rerror/Rlerror back into
 * it.  Rlerror and .u Rerror carry the errno; a 9P2000 Rerror has only
 * text, matched against Plan 9's canonical strings.
 */
#include <errno.h>
#include <string.h>

#include "9p.h"

/* Texts other Plan 9 and Unix servers send, beyond util's table. */
static const struct {
	const char *s;
	int code;
} texts[] = {
	{"directory not empty", ENOTEMPTY},
	{"no such file or directory", ENOENT},
	{"file exists", EEXIST},
	{"operation not permitted", EPERM},
	{"read-only file system", EROFS},
	{"no space left", ENOSPC},
	{"file name too long", ENAMETOOLONG},
	{"unknown fid", EBADF},
	{"fid unknown or out of range", EBADF},
	{"fid already in use", EBADF},
	{"file in use", EBUSY},
	{"exclusive use file already open", EBUSY},
	{"walk in non-directory", ENOTDIR},
	{"create in non-directory", ENOTDIR},
	{"interrupted", EINTR},
	{"function not implemented", ENOSYS},
	{"operation not supported", EOPNOTSUPP},
	{"invalid argument", EINVAL},
	{"bad offset", EINVAL},
	{"i/o error", EIO},
};

void
p9_rerror(P9Fcall *f, uint16_t tag, int dialect)
{
	const char *text;
	int code;

	code = errcode();
	if(code <= 0)
		code = EIO;
	text = errtext();
	if(text[0] == 0)
		text = errnostr(code);
	memset(f, 0, sizeof *f);
	f->tag = tag;
	f->errnum = code;
	if(dialect == P9_9P2000L)
		f->type = P9_RLERROR;
	else{
		f->type = P9_RERROR;
		f->ename = (char *)text;
	}
}

static int
textcode(const char *s)
{
	size_t i;

	for(i = 0; i < Nerrs; i++)
		if(strstr(s, p9errstr(i)) != NULL)
			return p9errcode(i);
	for(i = 0; i < nelem(texts); i++)
		if(strcasestr(s, texts[i].s) != NULL)
			return texts[i].code;
	return EIO;
}

/* An errno a Linux system call could return (MAX_ERRNO is 4095). */
static int
goodcode(uint32_t e)
{
	return e > 0 && e < 4096;
}

int
p9_seterrfcall(const P9Fcall *f)
{
	int code;

	switch(f->type){
	case P9_RLERROR:
		code = goodcode(f->errnum) ? (int)f->errnum : EIO;
		return seterr(code, "%s", errnostr(code));
	case P9_RERROR:
		code = goodcode(f->errnum) ? (int)f->errnum : textcode(f->ename != NULL ? f->ename : "");
		return seterr(code, "%s", f->ename != NULL && f->ename[0] != 0 ? f->ename : errnostr(code));
	default:
		return seterr(EPROTO, "9P: %s is not an error reply",
			p9_typename(f->type) != NULL ? p9_typename(f->type) : "message");
	}
}
