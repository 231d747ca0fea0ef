/*
 * ns9.h: the name space library.  One parser and formatter for the
 * namespace command language (argv, control-file writes and namespace
 * files all go through it), the code that applies commands to the
 * caller's own name space, the reader that prints a name space as Plan 9
 * text, and new name spaces (rfork).
 *
 * Every function that can fail returns -1 (or NULL) and sets the error
 * record of util.h; none prints or exits.
 */
#ifndef NS9_H
#define NS9_H

#include <stdint.h>
#include <sys/types.h>

#include "util.h"

/* Flags of bind and mount, with Plan 9's values (libc.h). */
enum {
	NS_MREPL = 0x0000,
	NS_MBEFORE = 0x0001,
	NS_MAFTER = 0x0002,
	NS_MORDER = 0x0003,
	NS_MCREATE = 0x0004,
	NS_MCACHE = 0x0010,
	NS_MMASK = 0x0017,
};

typedef enum {
	NS_BIND = 1,
	NS_MOUNT,
	NS_UNMOUNT,
	NS_CD,
} NsVerb;

/*
 * One command.  bind: new, old.  mount: new is the service, old, spec
 * (NULL when absent or empty).  unmount: new (NULL for one argument), old.
 * cd: old is the directory.  Strings are owned by the NsCmd.
 */
typedef struct NsCmd NsCmd;
struct NsCmd {
	NsVerb verb;
	int flag;
	char *new;
	char *old;
	char *spec;
};

/* --- the command language (lib/ns/cmd.c, lib/ns/quote.c) --- */

/*
 * Split s into tokens with rc quoting: blanks (space, tab, CR, newline)
 * separate; '...' quotes, and '' inside quotes is one quote.  Returns the
 * number of tokens and sets *tokp to a NULL-terminated vector the caller
 * frees with one free() (strings live in the same block); -1 on an
 * unmatched quote.
 */
int ns_tokenize(const char *s, char ***tokp);

/*
 * Parse argv[0..argc-1] (argv[0] is the verb) into c.  Returns 0, or -1
 * with a message that names what is wrong ("bind: usage: ...",
 * "bind: -a and -b together", "frob: unknown command").
 */
int ns_parse(NsCmd *c, int argc, char **argv);

/*
 * Parse one line.  Returns 1 with c filled, 0 for a blank or comment line
 * (first non-blank character '#'), -1 on error.
 */
int ns_parseline(NsCmd *c, const char *line);

/* Whether a and b are the same command (verb, flags and every operand). */
int ns_cmdeq(const NsCmd *a, const NsCmd *b);

/* Release the strings of c (not c itself). */
void ns_freecmd(NsCmd *c);

/*
 * Format c as 9front prints it: "bind -a new old", two spaces after a
 * flagless bind or mount verb, names quoted only where needed.  No
 * trailing newline.  Caller frees.
 */
char *ns_fmtcmd(const NsCmd *c);

/* Append s to b quoted as needed (%q, plus $: see quote.c). */
void ns_quote(Buf *b, const char *s);
/* Whether s needs quoting. */
int ns_needquote(const char *s);

/* The flag word as letters, "" or "-abcC" order; buf of 8 bytes. */
char *ns_flagstr(int flag, char *buf);

/* --- applying commands to the caller's name space (lib/ns/apply.c) --- */

int ns_apply(const NsCmd *c);
int ns_bind(const char *new, const char *old, int flag);
int ns_mount(const char *srv, const char *old, int flag, const char *spec);
int ns_unmount(const char *new, const char *old);

/* --- kernel devices in # form (lib/ns/dev.c) --- */

/*
 * The srv directory of the caller: /run/ns9/srv for root,
 * $XDG_RUNTIME_DIR/ns9/srv for a user (else /tmp/ns9.UID/srv), created
 * mode 0700 on first use.  Returns a string of the calling thread, valid
 * until its next call, or NULL.
 */
const char *ns_srvdir(void);

/*
 * Resolve a name that may start with '#'.  Returns 0 with *pathp set to a
 * malloc'd path (and *treefd = -1), or with *treefd set to a detached
 * mount (a fresh file system: #T) and *pathp = NULL; -1 on error
 * ("unknown device in # filename").  Names without '#' are copied.
 */
int ns_devresolve(const char *name, char **pathp, int *treefd);

/*
 * The roots that devices reach through while a clean name space is built
 * (ns_newns), as O_PATH fds taken over (closed at the next call; -1: the
 * caller's own root).  host is what #/ and #r name (the root ns9 started
 * from, or reroot's new root); self is the caller's own, where #s, #c and
 * #p come from.  The srv directory and the caller's terminal are looked
 * up at this call, while the caller's root is still its own.
 */
int ns_sethostroot(int host, int self);

/* --- posted services (lib/ns/srv.c) --- */

/*
 * Post a service as NAME in the srv directory: a listening Unix socket,
 * mode 0600, returned (close-on-exec) for p9_listen.  NAME may not hold
 * '/', be "." or "..", or be 128 bytes or longer.  A live post of that
 * name is EEXIST ("file already exists"); a stale one (nobody accepting)
 * is replaced.  A small watcher process removes the post when the caller
 * exits, however it dies (kill -9 included), unless the name has been
 * reposted meanwhile; and when someone removes the post, the watcher
 * sends the caller SIGTERM, so `rm` of a post stops its server as in
 * Plan 9.  The path of the post goes to *pathp when pathp is not NULL
 * (malloc'd).  Call it in the process that will serve: a server that
 * daemonises forks first and lets the parent exit once the post is live
 * (the watcher signals the caller's pid; a child forked later without
 * exec keeps the post alive).
 */
int ns_post(const char *name, char **pathp);

/*
 * Connect to a service as mount and srv name it: "/srv/NAME" (that path
 * when it exists in the caller's name space, else NAME in ns_srvdir()),
 * "#s/NAME", the path of a Unix socket, or a dial string ("tcp!host!port",
 * "unix!path").  Returns a connected fd (close-on-exec), or -1.
 */
int ns_srvdial(const char *srv);

/*
 * The live posts of the srv directory, sorted, in a NULL-terminated
 * vector the caller frees with ns_freelist; stale posts found on the way
 * are removed.  Returns the count, or -1.
 */
int ns_srvlist(char ***namesp);
void ns_freelist(char **v);

/*
 * An O_PATH fd of the running ns9 binary, opened on the first call
 * (/proc/self/exe): call it before entering another name space, whose
 * root may have no /proc.  In a helper that closed its inherited files
 * (ns_as), the binary is opened again there (it must be the same file)
 * and the fd lasts until the helper exits.  -1 on error.
 */
int ns_selfexe(void);

/*
 * For a mount's server: leave the caller's mount namespace for a private
 * one holding only a tmpfs and /proc, so the name space the mount is in
 * can end (lib/ns/mnt.c).  Best effort: without privilege it stays.
 */
void ns_isolate(void);

/*
 * The device (st_dev) of the FUSE mount whose /dev/fuse fd is fusefd: the
 * kernel (6.x) names the connection in the fd's fdinfo.  -1 if unknown.
 */
int ns_fusedev(int fusefd, unsigned *maj, unsigned *min);

/* --- ssh (lib/ns/import.c) --- */

/*
 * The ssh command: NS9SSH (blank-separated words, options included), else
 * "ssh", split into av[0..n-1] (at most max words; *words holds them,
 * the caller frees it), then the options every ns9 ssh takes: no escape
 * character and keepalives (6 more words).  Returns n.
 */
int ns_sshcmd(char **av, int max, char **words);
/*
 * Whether host ([user@]host) may be given to ssh: not empty, not read as an
 * option, and without blanks, quotes, backslashes, '!' or '/'.
 */
int ns_sshhostok(const char *host);
/* ns9 on the far side: NS9REMOTE, else "ns9". */
const char *ns_remotens9(void);
/* Append s quoted for a POSIX shell ('...', a quote as '\''). */
void ns_shquote(Buf *b, const char *s);

/* --- reading a name space (lib/ns/table.c, lib/ns/text.c) --- */

typedef struct NsMount NsMount;
struct NsMount {
	int id;
	int parent;
	unsigned int major;
	unsigned int minor;
	char *root;	/* path within the file system */
	char *point;	/* mount point, relative to the process's root */
	char *opts;	/* per-mount options */
	char *fstype;
	char *source;
	char *super;	/* superblock options */
};

typedef struct NsTable NsTable;
struct NsTable {
	NsMount *m;
	int n;
	char *data;	/* the strings of m[] point into this */
};

/*
 * Read pid's mount table (pid 0: the caller) in mount order.  Errors:
 * "process exited", "permission denied".
 */
int ns_readtable(pid_t pid, NsTable *t);
void ns_freetable(NsTable *t);

enum {
	NS_TEXTRAW = 1,	/* each command preceded by a comment with the Linux detail */
};

/*
 * pid's name space as Plan 9 text: one line per mount in mount order, then
 * "cd DIR".  Returns a malloc'd string or NULL.
 */
char *ns_text(pid_t pid, int flags);

/* --- other processes' name spaces (lib/ns/target.c) --- */

/* A target process: pinned by a pidfd, its namespaces, root and cwd open. */
typedef struct NsTarget NsTarget;
struct NsTarget {
	pid_t pid;
	int pidfd;
	int userfd;
	int mntfd;
	int rootfd;
	int cwdfd;
	int sameuser;	/* its user namespace is the caller's */
};

enum {
	NS_ENTER_USER = 1,	/* join the target's user namespace even if not needed */
	NS_ENTER_NOMNT = 2,	/* join no mount namespace, keep root and cwd */
};

/*
 * Open pid as a target.  Errors: "process exited", "permission denied"
 * (the caller may not look into pid: the kernel's ptrace check).
 */
int ns_target_open(NsTarget *t, pid_t pid);
void ns_target_close(NsTarget *t);
/* Whether the target still runs. */
int ns_target_alive(NsTarget *t);
/*
 * Join the target's mount namespace (and user namespace where the caller
 * needs it), chroot to its root and chdir to its cwd.  The caller must be
 * single-threaded; used by ns9 cross before exec.
 */
int ns_target_enter(NsTarget *t, int flags);
/*
 * Run fn in a short-lived helper that has entered the target; returns fn's
 * result, with fn's error record.
 */
int ns_target_call(NsTarget *t, int flags, int (*fn)(NsTarget *, void *), void *arg);

/*
 * Apply cmd[0..n-1] in pid's name space, as if pid had issued them: every
 * path resolves in pid's name space, root and cwd.  Stops at the first
 * failure; *applied counts the commands that took effect.
 */
int ns_ctl(pid_t pid, const NsCmd *cmd, int n, int *applied);

/* Credentials to act with (a control-file writer's, from the FUSE request). */
typedef struct NsCred NsCred;
struct NsCred {
	uid_t uid;
	gid_t gid;
	int ngroups;
	gid_t groups[64];
	uint64_t capeff;	/* effective capabilities: the helper keeps no more */
	int filtered;		/* under a seccomp filter (rfork -m or a sandbox) */
	int userfd;		/* its user namespace if not the caller's, else -1 */
	uint64_t userns;	/* that namespace's inode, to compare credentials */
};

/*
 * Run fn(arg) in a helper that has taken cred (groups, gid, uid, the
 * writer's user namespace, no capability the writer lacks), so the kernel
 * judges what fn does as it would judge the writer; when cred's uid and gid are the caller's own, fn
 * runs directly (cred's groups are then not consulted).  Safe to call from
 * any thread of a daemon.
 */
int ns_as(const NsCred *cred, int (*fn)(void *), void *arg);

/*
 * Bind src, resolved in the caller's name space, onto dst, resolved in
 * pid's: a private recursive clone attached with move_mount.
 */
int ns_inject(pid_t pid, const char *src, const char *dst);

/*
 * The commands that make target's name space match model's (lib/ns/cpns.c):
 * unmounts of the target's lines the model lacks (reverse order), then the
 * model's lines the target lacks.  *cmdp is malloc'd, each NsCmd owned.
 */
int ns_cpnsplan(pid_t model, pid_t target, NsCmd **cmdp, int *np);

/* --- namespace files (lib/ns/nsfile.c) --- */

/*
 * Split a line of a namespace file into tokens: ns_tokenize's rc quoting,
 * with $name outside quotes replaced by get(name, arg) (NULL: empty).  A
 * name runs from after '$' to the first blank, quote, '/', '.', '!', '$'
 * or the end; a '$' with no name is dropped.  Same result contract as
 * ns_tokenize.
 */
int ns_tokenizevars(const char *s, char ***tokp, const char *(*get)(const char *name, void *arg),
		    void *arg);

/* The value of $name in namespace files: the environment, with $user and $home defaulted. */
const char *ns_nsvar(const char *name, void *arg);

enum {
	NS_FVERBOSE = 1,	/* report each line before it runs */
	NS_FCLEAN = 2,		/* building a clean name space: clear is allowed */
	NS_FNOSKIP = 4,		/* a missing file is an error, not skipped (the top file) */
};

/*
 * What a namespace file run says: each failing line (msg is the error,
 * verbose is 0) and, with NS_FVERBOSE, each line before it runs (msg is
 * the command, verbose is 1).
 */
typedef void NsReport(const char *file, int line, const char *msg, int verbose, void *arg);

/*
 * Run the namespace file path against the caller's name space (Plan 9's
 * addns; newns is ns_newns): bind, mount, unmount, cd, clear, '. file'
 * (included, resolved in the name space being built; a missing one is
 * skipped; at most 16 deep), import, comments.  Every line that fails is
 * reported and the rest still run.  Returns the number of lines that
 * failed, or -1 if path cannot be read.  text, if not NULL, is used
 * instead of reading path (path then only names it in reports).
 */
int ns_runfile(const char *path, const char *text, int flags, NsReport *report, void *arg);

/*
 * The namespace file built into ns9, used when /etc/ns9/namespace is not
 * installed (and its name in reports).
 */
extern const char ns_defaultnsfile[];
#define NS_NSFILE "/etc/ns9/namespace"

/* --- new name spaces (lib/ns/rfork.c) --- */

enum {
	NS_RFNAMEG = 1,		/* a copy of the name space */
	NS_RFCNAMEG = 2,	/* a clean name space on a fresh root */
	NS_RFNOMNT = 4,		/* no further mounts */
};

/*
 * Give the calling process a new name space as flags say.  A caller
 * without CAP_SYS_ADMIN also gets a user namespace mapping it to itself,
 * with CAP_SYS_ADMIN made ambient so that programs it execs may bind.  The
 * caller must be single-threaded.  Returns 0 or -1.
 */
int ns_rfork(int flags);

/*
 * Give the caller a new, clean name space built from a namespace file:
 * a new mount namespace (and user namespace, as ns_rfork), a fresh tmpfs
 * root holding only empty directories where Linux expects them, then the
 * lines of path (text, if not NULL, instead of reading it; NULL and NULL:
 * NS_NSFILE, else the built-in file) with #/ and #r naming newroot (NULL:
 * the caller's root), then that root made the only one (pivot_root).
 * *failed counts the lines that failed.  The cwd is the last absolute cd,
 * else the caller's cwd if the new name space has it, else /.  Returns
 * -1 only if no name space could be made (the caller's is unchanged if
 * it fails before the file runs).  Single-threaded callers only.
 */
int ns_newns(const char *path, const char *text, const char *newroot, int flags, NsReport *report,
	     void *arg, int *failed);

/* Whether the caller may no longer mount (RFNOMNT in force). */
int ns_nomnt(void);

#endif
