/*
 * err.c: the per-thread error record (code + text) and the table of
 * canonical Plan 9 error strings with the errno chosen for each.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "util.h"

static const struct {
	const char *s;
	int code;
} errtab[Nerrs] = {
	[Enonexist] = {"file does not exist", ENOENT},
	[Eperm] = {"permission denied", EACCES},
	[Emount] = {"inconsistent mount", EINVAL},
	[Eunmount] = {"not mounted", EINVAL},
	[Eunion] = {"not in union", EINVAL},
	[Enocreate] = {"mounted directory forbids creation", EPERM},
	[Enoattach] = {"mount/attach disallowed", EPERM},
	[Ebadsharp] = {"unknown device in # filename", ENODEV},
	[Enotdir] = {"not a directory", ENOTDIR},
	[Eisdir] = {"is a directory", EISDIR},
	[Eexist] = {"file already exists", EEXIST},
	[Ebadarg] = {"bad arg in system call", EINVAL},
	[Eprocdied] = {"process exited", ESRCH},
	[Eshutdown] = {"device shut down", ENOTCONN},
	[Elocked] = {"mount is locked: it belongs to a more privileged name space", EPERM},
};

static __thread int ecode;
static __thread char etext[ERRMAX];

/* Copy s into the record, cut to fit. */
static void
copyrec(const char *s)
{
	size_t n;

	n = strlen(s);
	if(n >= sizeof etext)
		n = sizeof etext - 1;
	memcpy(etext, s, n);
	etext[n] = 0;
}

const char *
p9errstr(P9err e)
{
	return errtab[e].s;
}

int
p9errcode(P9err e)
{
	return errtab[e].code;
}

const char *
errnostr(int code)
{
	switch(code){
	case ENOENT:
		return errtab[Enonexist].s;
	case EACCES:
	case EPERM:
		return errtab[Eperm].s;
	case ENOTDIR:
		return errtab[Enotdir].s;
	case EISDIR:
		return errtab[Eisdir].s;
	case EEXIST:
		return errtab[Eexist].s;
	case ESRCH:
		return errtab[Eprocdied].s;
	case ENOTCONN:
		return errtab[Eshutdown].s;
	default:
		return strerror(code);
	}
}

/* Write "ctx: reason" into the record. */
static int
setrec(int code, const char *reason, const char *fmt, va_list ap)
{
	char ctx[ERRMAX], both[2 * ERRMAX + 4];

	ctx[0] = 0;
	if(fmt != NULL && fmt[0] != 0)
		vsnprintf(ctx, sizeof ctx, fmt, ap);
	if(ctx[0] != 0)
		snprintf(both, sizeof both, "%s: %s", ctx, reason);
	else
		snprintf(both, sizeof both, "%s", reason);
	copyrec(both);
	ecode = code;
	errno = code;
	return -1;
}

int
seterr(int code, const char *fmt, ...)
{
	char buf[ERRMAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	snprintf(etext, sizeof etext, "%s", buf);
	ecode = code;
	errno = code;
	return -1;
}

int
perr(P9err e, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = setrec(errtab[e].code, errtab[e].s, fmt, ap);
	va_end(ap);
	return r;
}

int
syserr(const char *fmt, ...)
{
	va_list ap;
	int code, r;

	code = errno;
	va_start(ap, fmt);
	r = setrec(code, errnostr(code), fmt, ap);
	va_end(ap);
	return r;
}

int
syserrpath(const char *path, const char *fmt, ...)
{
	char reason[ERRMAX], *w;
	va_list ap;
	int code, r;

	/* 9front's "%s: %#q": the name in quotes, a quote in it doubled. */
	code = errno;
	snprintf(reason, sizeof reason, "%s: '", errnostr(code));
	w = reason + strlen(reason);
	/* Room is kept for the closing quote and the NUL. */
	for(; *path; path++){
		if(w + (*path == '\'' ? 2 : 1) > reason + sizeof reason - 2)
			break;
		if(*path == '\'')
			*w++ = '\'';
		*w++ = *path;
	}
	*w++ = '\'';
	*w = 0;
	va_start(ap, fmt);
	r = setrec(code, reason, fmt, ap);
	va_end(ap);
	return r;
}

int
adderr(const char *fmt, ...)
{
	char ctx[ERRMAX], old[ERRMAX], both[2 * ERRMAX + 4];
	va_list ap;

	memcpy(old, etext, sizeof old);
	va_start(ap, fmt);
	vsnprintf(ctx, sizeof ctx, fmt, ap);
	va_end(ap);
	snprintf(both, sizeof both, "%s: %s", ctx, old);
	copyrec(both);
	errno = ecode;
	return -1;
}

int
errcode(void)
{
	return ecode;
}

const char *
errtext(void)
{
	return etext;
}

void
clearerr9(void)
{
	ecode = 0;
	etext[0] = 0;
}
