/*
 * ns9fs.h: the control file system's entry point (fs/ctl).
 */
#ifndef NS9FS_H
#define NS9FS_H

/*
 * Mount the control file system on mountpoint and serve it until it is
 * unmounted or a signal ends it; with !foreground, detach first.
 * allowother lets every user in (root's system service).
 */
int ns9fs_serve(const char *mountpoint, int foreground, int allowother);

#endif
