/*
 * kern.h: kernel interfaces newer than Debian 12's linux-libc-dev (6.1):
 * MOVE_MOUNT_BENEATH, statmount/listmount, NS_GET_MNTNS_ID and the
 * STATX_ATTR_MOUNT_ROOT bit.  Everything the project needs from a newer
 * kernel is defined here and only here; each definition is guarded so a
 * newer header wins.  Calls fail with ENOSYS/EINVAL on older kernels and
 * callers fall back.
 */
#ifndef NS9_KERN_H
#define NS9_KERN_H

#include <linux/types.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/syscall.h>

#ifndef MOVE_MOUNT_BENEATH
#define MOVE_MOUNT_BENEATH 0x00000200 /* Linux 6.5 */
#endif

#ifndef STATX_ATTR_MOUNT_ROOT
#define STATX_ATTR_MOUNT_ROOT 0x00002000
#endif

#ifndef STATX_MNT_ID
#define STATX_MNT_ID 0x00001000U
#endif

#ifndef NSIO
#define NSIO 0xb7
#endif
#ifndef NS_GET_MNTNS_ID
#define NS_GET_MNTNS_ID _IOR(NSIO, 0x5, __u64) /* Linux 6.11 */
#endif

#ifndef __NR_statmount
#define __NR_statmount 457 /* Linux 6.8; same on every architecture */
#endif
#ifndef __NR_listmount
#define __NR_listmount 458
#endif

#ifndef LSMT_ROOT
#define LSMT_ROOT 0xffffffffffffffffULL
#endif

#ifndef STATMOUNT_SB_BASIC
#define STATMOUNT_SB_BASIC 0x00000001U
#define STATMOUNT_MNT_BASIC 0x00000002U
#define STATMOUNT_PROPAGATE_FROM 0x00000004U
#define STATMOUNT_MNT_ROOT 0x00000008U
#define STATMOUNT_MNT_POINT 0x00000010U
#define STATMOUNT_FS_TYPE 0x00000020U
#endif
#ifndef STATMOUNT_MNT_NS_ID
#define STATMOUNT_MNT_NS_ID 0x00000040U
#define STATMOUNT_MNT_OPTS 0x00000080U
#endif
#ifndef STATMOUNT_SB_SOURCE
#define STATMOUNT_SB_SOURCE 0x00000200U
#endif

/* struct mnt_id_req as of Linux 6.18 (size 32; 24 is MNT_ID_REQ_SIZE_VER1). */
struct ns9_mnt_id_req {
	__u32 size;
	__u32 spare;
	__u64 mnt_id;
	__u64 param;
	__u64 mnt_ns_id;
};

/* struct statmount, fixed part (Linux 6.8-6.18 layout, 512 bytes). */
struct ns9_statmount {
	__u32 size;
	__u32 mnt_opts;
	__u64 mask;
	__u32 sb_dev_major;
	__u32 sb_dev_minor;
	__u64 sb_magic;
	__u32 sb_flags;
	__u32 fs_type;
	__u64 mnt_id;
	__u64 mnt_parent_id;
	__u32 mnt_id_old;
	__u32 mnt_parent_id_old;
	__u64 mnt_attr;
	__u64 mnt_propagation;
	__u64 mnt_peer_group;
	__u64 mnt_master;
	__u64 propagate_from;
	__u32 mnt_root;
	__u32 mnt_point;
	__u64 mnt_ns_id;
	__u32 fs_subtype;
	__u32 sb_source;
	__u32 opt_num;
	__u32 opt_array;
	__u32 opt_sec_num;
	__u32 opt_sec_array;
	__u64 __spare2[46];
	char str[];
};

#endif
