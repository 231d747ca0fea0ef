/*
 * nsfile.c: namespace files (Plan 9 namespace(6), newns and addns;
 * plan9.md §3).  A line is split with rc quoting, $name is expanded
 * outside quotes, and the command goes through the same parser and code
 * as every other entry point (ns_parse, ns_apply).  The file's own words
 * are '.' (include), clear and import.
 *
 * Where Plan 9 is silent, ns9 reports: every line that fails is reported
 * with its file and line and the rest still run.  Deliberate differences,
 * in ns9(1): a last line without a newline is run (Brdline dropped it);
 * a line may hold any number of tokens (Plan 9 skipped 15 and more) and
 * be up to Maxline bytes; a variable's value is used whole.
 */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ns9.h"
#include "impl.h"

enum {
	Maxline = 65536,
	Maxfile = 16 << 20,
	Maxdepth = 16,
};

/* $user when $USER and $LOGNAME are unset; whofixed: looked up already, NSS not to be asked again */
static __thread char who[256];
static __thread int whofixed;

static void
lookupwho(void)
{
	struct passwd pw, *r;
	char buf[4096];

	who[0] = 0;
	if(getpwuid_r(geteuid(), &pw, buf, sizeof buf, &r) == 0 && r != NULL)
		snprintf(who, sizeof who, "%s", pw.pw_name);
}

void
ns_nsuserfix(int on)
{
	whofixed = on;
	if(on)
		lookupwho();
}

const char *
ns_nsvar(const char *name, void *arg)
{
	const char *v;

	v = getenv(name);
	if(v != NULL)
		return v;
	if(strcmp(name, "home") == 0)
		return getenv("HOME");
	if(strcmp(name, "user") != 0)
		return NULL;
	if((v = getenv("USER")) != NULL || (v = getenv("LOGNAME")) != NULL)
		return v;
	if(!whofixed)
		lookupwho();
	return who[0] != 0 ? who : NULL;
}

static __thread int cdone;

void
ns_nscdreset(void)
{
	cdone = 0;
}

int
ns_nscddone(void)
{
	return cdone;
}

typedef struct Run Run;
struct Run {
	int flags;
	NsReport *report;
	void *arg;
	int failed;
	int depth;
};

static void
fail(Run *r, const char *file, int line, const char *msg)
{
	r->failed++;
	if(r->report != NULL)
		r->report(file, line, msg, 0, r->arg);
}

/* The whole of a file, NUL-terminated; NULL with the error set. */
static char *
readall(const char *path, size_t *lenp)
{
	struct stat st;
	Buf b = {0};
	char chunk[65536];
	ssize_t n;
	int fd;

	/* a FIFO or a terminal named as a file must not hold the name space being built */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if(fd < 0)
		return syserrpath(path, NULL), NULL;
	if(fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)){
		close(fd);
		errno = S_ISDIR(st.st_mode) ? EISDIR : EINVAL;
		return syserrpath(path, "not a regular file"), NULL;
	}
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	while((n = read(fd, chunk, sizeof chunk)) > 0){
		if(b.n + (size_t)n > Maxfile){
			close(fd);
			buffree(&b);
			return seterr(EFBIG, "%s: namespace file larger than %d bytes", path, Maxfile), NULL;
		}
		bufputn(&b, chunk, n);
	}
	close(fd);
	if(n < 0){
		buffree(&b);
		return syserrpath(path, NULL), NULL;
	}
	*lenp = b.n;
	if(b.s == NULL)
		bufputs(&b, "");
	return bufdetach(&b);
}

char *
ns_readnsfile(const char *path)
{
	size_t len;

	return readall(path, &len);
}

static void runtext(Run *r, const char *file, const char *text, size_t len);

/* '. path': run another file, resolved in the name space being built. */
static void
include(Run *r, const char *file, int line, const char *path)
{
	char *text, *msg;
	size_t len;

	if(r->depth >= Maxdepth){
		msg = esmprint(". %s: includes nested more than %d deep", path, Maxdepth);
		fail(r, file, line, msg);
		free(msg);
		return;
	}
	text = readall(path, &len);
	if(text == NULL){
		/* Plan 9 skips a file that is not there; other errors are reported. */
		if(errcode() != ENOENT && errcode() != ENOTDIR)
			fail(r, file, line, errtext());
		return;
	}
	r->depth++;
	runtext(r, path, text, len);
	r->depth--;
	free(text);
}

/*
 * In a clean name space being built, a mount point missing on a file
 * system ns9 made for it (its root, a #T) is made, so that a file can
 * bind $home or a directory under /tmp wherever it is.  Nothing is made
 * on any other file system.
 */
/* What ns_mkmntpt made for the line being run, undone if the line fails. */
static __thread char *made[64];
static __thread int nmade;

static void
note(const char *p)
{
	if(nmade < (int)nelem(made))
		made[nmade++] = estrdup(p);
}

static void
forgetmade(int undo)
{
	while(nmade > 0){
		nmade--;
		if(undo && rmdir(made[nmade]) < 0 && errno == ENOTDIR)
			unlink(made[nmade]);
		free(made[nmade]);
	}
}

int
ns_mkmntpt(const char *path, int dir)
{
	struct stat st;
	char *p, *s;
	int r;

	if(path[0] != '/' || lstat(path, &st) == 0 || errno != ENOENT)
		return 0;
	s = estrdup(path);
	cleanname(s);
	/* the nearest ancestor that exists */
	p = strrchr(s, '/');
	while(p != NULL){
		*p = 0;
		if(stat(*s ? s : "/", &st) == 0)
			break;
		p = strrchr(s, '/');
	}
	r = 0;
	if(p == NULL || !S_ISDIR(st.st_mode) || !ns_isownfs(st.st_dev)){
		free(s);
		return 0;	/* the bind says what is missing */
	}
	free(s);
	s = estrdup(path);
	cleanname(s);
	for(p = s + 1; r == 0 && (p = strchr(p, '/')) != NULL; p++){
		*p = 0;
		if(mkdir(s, 0755) == 0)
			note(s);
		else if(errno != EEXIST)
			r = -1;
		*p = '/';
	}
	if(r == 0){
		if(dir){
			if(mkdir(s, 0755) == 0)
				note(s);
			else if(errno != EEXIST)
				r = -1;
		}else{
			int fd = open(s, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0644);

			if(fd >= 0){
				note(s);
				close(fd);
			}else if(errno != EEXIST)
				r = -1;
		}
	}
	if(r < 0)
		syserrpath(s, "mount point");
	free(s);
	return r;
}

/* After bind '#s' X in a clean name space, ns9 commands there find the srv directory at X. */
static void
notesrv(const NsCmd *c)
{
	char *abs;

	if(c->verb != NS_BIND || (strcmp(c->new, "#s") != 0 && strcmp(c->new, "#s/") != 0))
		return;
	abs = ns_absname(c->old);
	setenv("NS9SRV", abs, 1);
	free(abs);
}

static void
runline(Run *r, const char *file, int line, const char *s)
{
	Buf echo = {0};
	NsCmd c;
	char **tok;
	int n, i;

	while(*s == ' ' || *s == '\t' || *s == '\r')
		s++;
	if(*s == 0 || *s == '#')
		return;
	n = ns_tokenizevars(s, &tok, ns_nsvar, NULL);
	if(n < 0){
		fail(r, file, line, errtext());
		return;
	}
	if(n == 0){
		free(tok);
		return;
	}
	if((r->flags & NS_FVERBOSE) && r->report != NULL){
		for(i = 0; i < n; i++){
			if(i > 0)
				bufputc(&echo, ' ');
			ns_quote(&echo, tok[i]);
		}
		r->report(file, line, echo.s, 1, r->arg);
		buffree(&echo);
	}
	if(strcmp(tok[0], ".") == 0){
		if(n != 2)
			fail(r, file, line, ".: usage: . file");
		else
			include(r, file, line, tok[1]);
	}else if(strcmp(tok[0], "clear") == 0){
		if(n != 1)
			fail(r, file, line, "clear: usage: clear");
		else if(!(r->flags & NS_FCLEAN))
			fail(r, file, line, "clear: only where a clean name space is built (ns9 newns)");
		else if(ns_clearroot() < 0)
			fail(r, file, line, errtext());
	}else if(ns_parse(&c, n, tok) < 0)
		fail(r, file, line, errtext());
	else{
		if((r->flags & NS_FCLEAN) && (c.verb == NS_BIND || c.verb == NS_MOUNT) && c.old[0] == '/'){
			struct stat st;

			ns_mkmntpt(c.old, c.verb == NS_MOUNT || c.new[0] == '#' || stat(c.new, &st) < 0 ||
						      S_ISDIR(st.st_mode));
			clearerr9();
		}
		if(ns_apply(&c) < 0){
			fail(r, file, line, errtext());
			forgetmade(1);	/* nothing half-applied: the mount points it made go */
		}else{
			forgetmade(0);
			if(c.verb == NS_CD && c.old[0] == '/')
				cdone = 1;
			if(r->flags & NS_FCLEAN)
				notesrv(&c);
		}
		ns_freecmd(&c);
	}
	free(tok);
}

static void
runtext(Run *r, const char *file, const char *text, size_t len)
{
	const char *p, *e, *end;
	char *line, *msg;
	int ln;

	end = text + len;
	ln = 0;
	for(p = text; p < end; p = e + 1){
		ln++;
		e = memchr(p, '\n', end - p);
		if(e == NULL)
			e = end;	/* a last line without a newline runs too */
		if(e - p > Maxline){
			msg = esmprint("line too long (over %d bytes)", Maxline);
			fail(r, file, ln, msg);
			free(msg);
			continue;
		}
		if(memchr(p, 0, e - p) != NULL){
			fail(r, file, ln, "a NUL byte in the line");
			continue;
		}
		line = emalloc(e - p + 1);
		memcpy(line, p, e - p);
		runline(r, file, ln, line);
		free(line);
	}
}

int
ns_runfile(const char *path, const char *text, int flags, NsReport *report, void *arg)
{
	Run r;
	char *t;
	size_t len;

	memset(&r, 0, sizeof r);
	r.flags = flags;
	r.report = report;
	r.arg = arg;
	if(text != NULL){
		runtext(&r, path, text, strlen(text));
		return r.failed;
	}
	t = readall(path, &len);
	if(t == NULL){
		if(!(flags & NS_FNOSKIP) && (errcode() == ENOENT || errcode() == ENOTDIR))
			return 0;
		return -1;
	}
	runtext(&r, path, t, len);
	free(t);
	return r.failed;
}
