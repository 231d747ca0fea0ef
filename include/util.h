/*
 * util.h: the per-thread error record, allocation helpers and a growable
 * string buffer, shared by every ns9 library and tool.  Libraries report
 * failure by returning -1 (or NULL) after setting the error record; only
 * tools print.
 */
#ifndef NS9_UTIL_H
#define NS9_UTIL_H

#include <stdarg.h>
#include <stddef.h>

enum { ERRMAX = 512 };

/*
 * The canonical Plan 9 error strings (9front port/error.h), each with the
 * one errno chosen for it.  perr() and the errno mapping of syserr() use
 * this table, so FUSE and 9P2000.L replies never guess a code from text.
 */
typedef enum {
	Enonexist,	/* file does not exist (ENOENT) */
	Eperm,		/* permission denied (EACCES) */
	Emount,		/* inconsistent mount (EINVAL) */
	Eunmount,	/* not mounted (EINVAL) */
	Eunion,		/* not in union (EINVAL) */
	Enocreate,	/* mounted directory forbids creation (EPERM) */
	Enoattach,	/* mount/attach disallowed (EPERM) */
	Ebadsharp,	/* unknown device in # filename (ENODEV) */
	Enotdir,	/* not a directory (ENOTDIR) */
	Eisdir,		/* is a directory (EISDIR) */
	Eexist,		/* file already exists (EEXIST) */
	Ebadarg,	/* bad arg in system call (EINVAL) */
	Eprocdied,	/* process exited (ESRCH) */
	Eshutdown,	/* device shut down (ENOTCONN) */
	Elocked,	/* mount is locked (EPERM) */
	Nerrs
} P9err;

/* Canonical text and code of e. */
const char *p9errstr(P9err e);
int p9errcode(P9err e);

/*
 * Setters: each returns -1.  fmt gives the context ("bind /a /b"); the
 * record's text becomes "context: reason".  A NULL or empty fmt leaves
 * just the reason.
 */
int seterr(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int perr(P9err e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* From errno: ENOENT becomes "file does not exist" and so on. */
int syserr(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* From errno, naming the file: "file does not exist: '/x'". */
int syserrpath(const char *path, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Prefix context to the current record, keeping its code (werrstr("...: %r")). */
int adderr(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

int errcode(void);
const char *errtext(void);
void clearerr9(void);

/* Text for an errno value, Plan 9 wording where there is one. */
const char *errnostr(int code);

/* Allocation: zero-filled; abort on out of memory, so never an error path. */
void *emalloc(size_t n);
void *erealloc(void *p, size_t n);
char *estrdup(const char *s);
char *esmprint(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A growable NUL-terminated buffer.  Zero-initialised is empty. */
typedef struct Buf Buf;
struct Buf {
	char *s;
	size_t n;
	size_t cap;
};
void bufputc(Buf *b, int c);
void bufputs(Buf *b, const char *s);
void bufputn(Buf *b, const char *s, size_t n);
void bufprint(Buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Returns the string (caller frees) and empties b. */
char *bufdetach(Buf *b);
void buffree(Buf *b);

/*
 * cleanname: Plan 9's lexical path cleaning in place (collapse //, remove
 * ., resolve .. lexically).  Returns its argument.
 */
char *cleanname(char *s);

#define nelem(a) (sizeof(a) / sizeof((a)[0]))

#endif
