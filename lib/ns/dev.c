/*
 * dev.c: kernel devices in # form.  A name '#' + rune + spec [/ rest]
 * names a device; ns9 maps each to a Linux object:
 *	#s	the srv directory (ns_srvdir)
 *	#T	a fresh, empty tmpfs, mode 0755, owned by the caller
 * Under RFNOMNT every device is refused, as Plan 9 refuses all but |decp
 * and ns9 has none of those yet.
 */
#include <errno.h>
#include <stdio.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ns9.h"
#include "impl.h"

/* Make dir (mode) unless it exists; the last one must be ours and private. */
static int
mkpriv(const char *dir, int mode, int check)
{
	struct stat st;

	if(mkdir(dir, mode) < 0 && errno != EEXIST)
		return syserrpath(dir, "srv directory");
	if(lstat(dir, &st) < 0)
		return syserrpath(dir, "srv directory");
	if(!S_ISDIR(st.st_mode))
		return perr(Enotdir, "srv directory %s", dir);
	if(check && (st.st_uid != geteuid() || (st.st_mode & 077) != 0))
		return seterr(EACCES, "srv directory %s: not owned by uid %d with mode 0700", dir,
			      (int)geteuid());
	return 0;
}

const char *
ns_srvdir(void)
{
	static __thread char path[4096];
	const char *xdg, *env;
	char base[3800];
	struct stat st;

	/*
	 * Worked out on every call, never cached: the answer depends on the
	 * effective uid, and a helper acting for another user (ns_as) shares
	 * its server thread's storage: a cache would hand one user's srv
	 * directory to the next caller on that thread.
	 */
	path[0] = 0;
	env = getenv("NS9SRV");
	if(env != NULL && env[0] == '/'){
		if(stat(env, &st) < 0)
			return syserrpath(env, "srv directory $NS9SRV"), NULL;
		snprintf(path, sizeof path, "%s", env);
		return path;
	}
	if(geteuid() == 0){
		if(mkpriv("/run/ns9", 0755, 0) < 0 || mkpriv("/run/ns9/srv", 0700, 1) < 0)
			return NULL;
		snprintf(path, sizeof path, "/run/ns9/srv");
		return path;
	}
	xdg = getenv("XDG_RUNTIME_DIR");
	if(xdg != NULL && xdg[0] == '/' && stat(xdg, &st) == 0 && st.st_uid == geteuid())
		snprintf(base, sizeof base, "%s/ns9", xdg);
	else
		snprintf(base, sizeof base, "/tmp/ns9.%d", (int)geteuid());
	if(mkpriv(base, 0700, 1) < 0)
		return NULL;
	snprintf(path, sizeof path, "%s/srv", base);
	if(mkpriv(path, 0700, 1) < 0){
		path[0] = 0;
		return NULL;
	}
	return path;
}

int
ns_devresolve(const char *name, char **pathp, int *treefd)
{
	const char *rest, *dir;
	char dev[8];
	size_t n;

	*pathp = NULL;
	*treefd = -1;
	if(name[0] != '#'){
		*pathp = estrdup(name);
		return 0;
	}
	/* The rune after '#' (UTF-8), then the spec up to the first '/'. */
	if(name[1] == 0)
		return perr(Ebadsharp, "%s", name);
	n = 1;
	while(n < 4 && ((unsigned char)name[1 + n] & 0xc0) == 0x80)
		n++;
	memcpy(dev, name + 1, n);
	dev[n] = 0;
	/* No device takes a spec yet: the rest must start at '/' or be empty. */
	rest = name + 1 + n;
	if(rest[0] != 0 && rest[0] != '/')
		return perr(Ebadsharp, "%s", name);
	if(strcmp(dev, "s") != 0 && strcmp(dev, "T") != 0)
		return perr(Ebadsharp, "%s", name);
	if(ns_nomnt())
		return perr(Enoattach, "%s", name);
	if(dev[0] == 's'){
		dir = ns_srvdir();
		if(dir == NULL)
			return -1;
		*pathp = esmprint("%s%s", dir, rest);
		return 0;
	}
	/* #T: a fresh file system is empty, so only its root can be named. */
	if(rest[0] != 0 && strspn(rest, "/") != strlen(rest)){
		errno = ENOENT;
		return syserrpath(name, NULL);
	}
	*treefd = ns_freshtmpfs("#T", "0755", name);
	return *treefd < 0 ? -1 : 0;
}
