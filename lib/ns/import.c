/*
 * import.c: 9P over ssh.  A service named "ssh!HOST!PATH" is dialled by
 * running ssh HOST with the remote command "ns9 exportfs -r PATH": its
 * standard input and output are one end of a socket pair, the caller
 * mounts the other (mount9p.c).  ssh is the transport and the
 * authenticator; nothing here reads keys or passwords.  Plan 9's
 * import(4) is `ns9 import HOST PATH MTPT`, the same mount.
 *
 * ssh runs as the caller, from the caller's own root: a name space being
 * changed through ctl (another's, or the caller's through ns9fs) is not
 * where ssh may be looked up, since its root may hold any program by that
 * name; such a mount is refused.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ns9.h"
#include "impl.h"

enum {
	Maxargs = 32,
};
/* ssh's keepalive (ns_sshcmd): a dead link is found within Alivesec * Alivecount seconds */
#define Alivesec 15
#define Alivecount 4
#define STR_(x) #x
#define STR(x) STR_(x)

/* The last ssh this thread started, and the read end of its stderr, for ns_sshend. */
static __thread pid_t lastssh;
static __thread int lasterr = -1;

void
ns_shquote(Buf *b, const char *s)
{
	bufputc(b, '\'');
	for(; *s; s++)
		if(*s == '\'')
			bufputs(b, "'\\''");
		else
			bufputc(b, *s);
	bufputc(b, '\'');
}

int
ns_sshcmd(char **av, int max, char **words)
{
	const char *ssh;
	char *p;
	int n;

	ssh = getenv("NS9SSH");
	if(ssh == NULL || strspn(ssh, " \t") == strlen(ssh))
		ssh = "ssh";
	*words = estrdup(ssh);
	n = 0;
	for(p = strtok(*words, " \t"); p != NULL && n < max; p = strtok(NULL, " \t"))
		av[n++] = p;
	/* a byte stream (no escape character), and a dead link found within Alivesec * Alivecount */
	av[n++] = "-e";
	av[n++] = "none";
	av[n++] = "-o";
	av[n++] = "ServerAliveInterval=" STR(Alivesec);
	av[n++] = "-o";
	av[n++] = "ServerAliveCountMax=" STR(Alivecount);
	return n;
}

int
ns_sshhostok(const char *host)
{
	return host[0] != 0 && host[0] != '-' && strpbrk(host, "!/ \t\n\r'\"\\") == NULL;
}

const char *
ns_remotens9(void)
{
	const char *r;

	r = getenv("NS9REMOTE");
	return r != NULL && r[0] != 0 ? r : "ns9";
}

int
ns_sshdial(const char *srv)
{
	char *host, *path, *p, *words, *argv[Maxargs + 16];
	Buf cmd = {0};
	int sp[2], ep[2], n, r;
	pid_t pid;

	lastssh = 0;
	if(lasterr >= 0)
		close(lasterr);
	lasterr = -1;
	ep[0] = ep[1] = -1;
	if(ns_intarget())
		return seterr(EPERM, "%s: an import is made by the name space's own process, not through ctl", srv);
	host = estrdup(srv + 4);
	p = strchr(host, '!');
	path = p != NULL ? p + 1 : "/";
	if(p != NULL)
		*p = 0;
	r = -1;
	words = NULL;
	sp[0] = sp[1] = -1;
	if(!ns_sshhostok(host)){
		seterr(EINVAL, "%s: bad host name", srv);
		goto out;
	}
	if(path[0] != '/' || strchr(path, '\n') != NULL){
		seterr(EINVAL, "%s: the remote path must be absolute", srv);
		goto out;
	}
	n = ns_sshcmd(argv, Maxargs, &words);
	argv[n++] = "-T";
	argv[n++] = "--";
	argv[n++] = host;
	bufputs(&cmd, "exec ");
	ns_shquote(&cmd, ns_remotens9());
	bufputs(&cmd, " exportfs -r ");
	ns_shquote(&cmd, path);
	argv[n++] = cmd.s;
	argv[n] = NULL;
	/*
	 * ssh's stderr is a pipe: what it says goes into the error of a mount
	 * that fails, and nothing it holds keeps the caller's stderr open (a
	 * pipe into `ns9 import ... 2>&1 | cat` would never end).
	 */
	if(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) < 0 || pipe2(ep, O_CLOEXEC) < 0){
		syserr("%s", srv);
		goto out;
	}
	pid = fork();
	if(pid < 0){
		syserr("%s: fork", srv);
		goto out;
	}
	if(pid == 0){
		/*
		 * Its own process group: the terminal's ^C is not the mount's end,
		 * and it keeps the terminal for a password prompt.  stderr is the
		 * caller's, so ssh's own messages are seen.
		 */
		setpgid(0, 0);
		signal(SIGPIPE, SIG_DFL);
		if(dup2(sp[1], 0) < 0 || dup2(sp[1], 1) < 0 || dup2(ep[1], 2) < 0)
			_exit(127);
		execvp(argv[0], argv);
		fprintf(stderr, "ns9: %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	lastssh = pid;
	lasterr = ep[0];
	ep[0] = -1;
	close(sp[1]);
	sp[1] = -1;
	r = sp[0];
	sp[0] = -1;
out:
	if(sp[0] >= 0)
		close(sp[0]);
	if(sp[1] >= 0)
		close(sp[1]);
	if(ep[0] >= 0)
		close(ep[0]);
	if(ep[1] >= 0)
		close(ep[1]);
	buffree(&cmd);
	free(words);
	free(host);
	return r;
}

/* What ssh said on its stderr (its last line), into buf; "" if nothing. */
static void
sshsaid(char *buf, size_t len)
{
	char tmp[4096], *p, *e;
	ssize_t n;
	size_t k;

	buf[0] = 0;
	if(lasterr < 0)
		return;
	fcntl(lasterr, F_SETFL, O_NONBLOCK);
	k = 0;
	while(k < sizeof tmp - 1 && (n = read(lasterr, tmp + k, sizeof tmp - 1 - k)) > 0)
		k += n;
	tmp[k] = 0;
	/* the last non-empty line, without control characters */
	while(k > 0 && (tmp[k - 1] == '\n' || tmp[k - 1] == '\r'))
		tmp[--k] = 0;
	p = strrchr(tmp, '\n');
	p = p != NULL ? p + 1 : tmp;
	for(e = p; *e; e++)
		if((unsigned char)*e < ' ')
			*e = ' ';
	snprintf(buf, len, "%.*s", (int)(len - 1), p);
}

/*
 * After a mount over the last ssh dialled: if it failed, what ssh said and
 * its exit status (it gets up to 3 s to end) become the error, and the ssh
 * is reaped; either way its stderr is let go.
 */
void
ns_sshend(int ok, const char *ctx)
{
	struct timespec ts = {0, 20 * 1000 * 1000};
	char said[512];
	pid_t pid;
	int st, i;

	pid = lastssh;
	lastssh = 0;
	if(!ok && pid > 0){
		for(i = 0; i < 150; i++){
			if(waitpid(pid, &st, WNOHANG) == pid)
				break;
			nanosleep(&ts, NULL);
		}
		if(i == 150){
			kill(-pid, SIGTERM);
			waitpid(pid, &st, 0);
		}
		sshsaid(said, sizeof said);
		if(WIFEXITED(st) && WEXITSTATUS(st) == 255)
			seterr(EHOSTUNREACH, "%s: ssh could not connect or log in%s%s", ctx, said[0] ? ": " : "", said);
		else if(WIFEXITED(st) && WEXITSTATUS(st) == 127)
			seterr(ENOENT, "%s: the remote side has no ns9 (command not found)", ctx);
		else if(WIFEXITED(st) && WEXITSTATUS(st) != 0)
			seterr(EIO, "%s: the remote side failed (exit %d)%s%s", ctx, WEXITSTATUS(st), said[0] ? ": " : "",
			       said);
	}
	if(lasterr >= 0)
		close(lasterr);
	lasterr = -1;
}
