/*
 * statmount.c: read a mount table with listmount(2) and statmount(2)
 * (Linux 6.8; another process's namespace by id since 6.11).  One
 * listmount call for the ids, then one statmount per mount.  The fields
 * are made to read exactly as mountinfo's, so ns text is the same from
 * either source.  ns_readtable uses this only when asked (NS9_TABLE=
 * statmount): for a whole table it measured slower than one read of
 * mountinfo (bench/ns-read, docs/perf.md), and its mount points are
 * relative to the reader's root, not the target's.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "kern.h"
#include "ns9.h"
#include "impl.h"

enum { SMASK = STATMOUNT_SB_BASIC | STATMOUNT_MNT_BASIC | STATMOUNT_MNT_ROOT | STATMOUNT_MNT_POINT |
	       STATMOUNT_FS_TYPE | STATMOUNT_MNT_OPTS | STATMOUNT_SB_SOURCE };

/* The per-mount flags as mountinfo spells them. */
static void
mntflags(Buf *b, uint64_t a)
{
	bufputs(b, (a & MOUNT_ATTR_RDONLY) ? "ro" : "rw");
	if(a & MOUNT_ATTR_NOSUID)
		bufputs(b, ",nosuid");
	if(a & MOUNT_ATTR_NODEV)
		bufputs(b, ",nodev");
	if(a & MOUNT_ATTR_NOEXEC)
		bufputs(b, ",noexec");
	switch(a & MOUNT_ATTR__ATIME){
	case MOUNT_ATTR_RELATIME:
		bufputs(b, ",relatime");
		break;
	case MOUNT_ATTR_NOATIME:
		bufputs(b, ",noatime");
		break;
	}
	if(a & MOUNT_ATTR_NODIRATIME)
		bufputs(b, ",nodiratime");
}

int
ns_readtable_statmount(pid_t pid, NsTable *t)
{
	struct ns9_mnt_id_req req;
	struct ns9_statmount *sm;
	uint64_t nsid, *ids;
	size_t smsize, *off;
	long n, nids, cap, i;
	Buf data = {0};
	int fd;

	memset(t, 0, sizeof *t);
	fd = ns_procopen(pid, "ns/mnt", O_RDONLY);
	if(fd < 0)
		return adderr("ns %d", (int)pid);
	if(ioctl(fd, NS_GET_MNTNS_ID, &nsid) < 0){
		close(fd);
		return syserr("ns %d: NS_GET_MNTNS_ID", (int)pid);
	}
	close(fd);

	cap = 4096;
	ids = emalloc(cap * sizeof(uint64_t));
	nids = 0;
	memset(&req, 0, sizeof req);
	req.size = sizeof req;
	req.mnt_id = LSMT_ROOT;
	req.mnt_ns_id = nsid;
	for(;;){
		if(nids == cap){
			cap *= 2;
			ids = erealloc(ids, cap * sizeof(uint64_t));
		}
		req.param = nids > 0 ? ids[nids - 1] : 0;
		n = syscall(__NR_listmount, &req, ids + nids, cap - nids, 0);
		if(n < 0){
			free(ids);
			return syserr("ns %d: listmount", (int)pid);
		}
		nids += n;
		if(nids < cap)
			break;
	}

	/* Strings go into one arena; offsets become pointers at the end. */
	t->m = emalloc((nids + 1) * sizeof(NsMount));
	off = emalloc((nids + 1) * 7 * sizeof(size_t));
	smsize = 1 << 14;
	sm = emalloc(smsize);
	bufputc(&data, 0);
	for(i = 0; i < nids; i++){
		memset(&req, 0, sizeof req);
		req.size = sizeof req;
		req.mnt_id = ids[i];
		req.param = SMASK;
		req.mnt_ns_id = nsid;
		while(syscall(__NR_statmount, &req, sm, smsize, 0) < 0){
			if(errno == EOVERFLOW && smsize < (1 << 24)){
				smsize *= 2;
				sm = erealloc(sm, smsize);
				continue;
			}
			if(errno == ENOENT)	/* unmounted meanwhile */
				goto next;
			syserr("ns %d: statmount", (int)pid);
			free(sm);
			free(off);
			free(ids);
			free(t->m);
			buffree(&data);
			memset(t, 0, sizeof *t);
			return -1;
		}
		/* A mount whose point is out of the reader's reach comes without it. */
		if((sm->mask & (STATMOUNT_MNT_ROOT | STATMOUNT_MNT_POINT | STATMOUNT_FS_TYPE)) !=
		   (STATMOUNT_MNT_ROOT | STATMOUNT_MNT_POINT | STATMOUNT_FS_TYPE))
			continue;
		{
			NsMount *m = &t->m[t->n];
			size_t *o = off + 7 * t->n;

			m->id = sm->mnt_id_old;
			m->parent = sm->mnt_parent_id_old;
			m->major = sm->sb_dev_major;
			m->minor = sm->sb_dev_minor;
			o[0] = data.n;
			bufputs(&data, sm->str + sm->mnt_root);
			bufputc(&data, 0);
			o[1] = data.n;
			bufputs(&data, sm->str + sm->mnt_point);
			bufputc(&data, 0);
			o[2] = data.n;
			mntflags(&data, sm->mnt_attr);
			bufputc(&data, 0);
			o[3] = data.n;
			bufputs(&data, sm->str + sm->fs_type);
			bufputc(&data, 0);
			o[4] = data.n;
			bufputs(&data, (sm->mask & STATMOUNT_SB_SOURCE) ? sm->str + sm->sb_source : "none");
			bufputc(&data, 0);
			o[5] = data.n;
			bufputs(&data, (sm->sb_flags & 1) ? "ro" : "rw");	/* SB_RDONLY */
			if((sm->mask & STATMOUNT_MNT_OPTS) && sm->str[sm->mnt_opts] != 0){
				bufputc(&data, ',');
				bufputs(&data, sm->str + sm->mnt_opts);
			}
			bufputc(&data, 0);
			t->n++;
		}
	next:;
	}
	free(sm);
	free(ids);
	t->data = bufdetach(&data);
	for(i = 0; i < t->n; i++){
		NsMount *m = &t->m[i];
		size_t *o = off + 7 * i;

		m->root = t->data + o[0];
		m->point = t->data + o[1];
		m->opts = t->data + o[2];
		m->fstype = t->data + o[3];
		m->source = t->data + o[4];
		m->super = t->data + o[5];
	}
	free(off);
	return 0;
}
