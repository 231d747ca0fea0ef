/*
 * srvmux.h: the 9P multiplexer behind ns9 srv (srvmux.c), after
 * plan9port's 9pserve.
 */
#ifndef NS9_SRVMUX_H
#define NS9_SRVMUX_H

#include <stddef.h>

/*
 * Negotiate with the server on fd: Tversion offering msize and
 * "9P2000.L", then "9P2000" if the server will not speak .L.  Waits at
 * most 30 s for each answer.  Sets the dialect and msize the server chose;
 * returns 0 or -1.
 */
int srvversion(int fd, size_t msize, int *dialectp, size_t *msizep);

/*
 * Fold every client accepted on lfd into the one conversation on ufd
 * (negotiated: dialect, msize): tags and fids are renumbered per client,
 * a client's Tversion is answered here, a client that hangs up has its
 * requests flushed and its fids clunked.  Returns when the server hangs
 * up (0) or fails (-1), with every client closed.  debug traces every
 * message on stderr.
 */
int srvmux(int ufd, int lfd, int dialect, size_t msize, int debug);

#endif
