/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * memtopo ioctl ABI for /dev/memtopo.
 *
 * Every argument struct starts with __u32 size (the caller's sizeof) and
 * __u32 flags.  The kernel accepts shorter structs down to the first
 * version's size and longer ones whose unknown tail is zero
 * (copy_struct_from_user()); reserved fields and unknown flags must be zero.
 *
 * Errno contract (common to every ioctl):
 *  EINVAL   size below the minimum, unknown flags, non-zero reserved
 *           fields, malformed arguments
 *  E2BIG    size above what the kernel knows with a non-zero tail
 *  EFAULT   an argument or a pointer inside it is not accessible
 *  ENOTTY   unknown ioctl number
 */
#ifndef _UAPI_LINUX_MEMTOPO_H
#define _UAPI_LINUX_MEMTOPO_H

#include <linux/types.h>
#include <linux/ioctl.h>

#define MEMTOPO_TYPE	0xB7
#define MEMTOPO_ABI_VERSION	1

enum {
	MEMTOPO_CMD_BASE = 0x80,
	MEMTOPO_CMD_GET_INFO = MEMTOPO_CMD_BASE,
};

/**
 * struct memtopo_info - MEMTOPO_GET_INFO: ABI version and limits.
 * @size: sizeof(struct memtopo_info)
 * @flags: must be 0
 * @abi_version: out, MEMTOPO_ABI_VERSION
 * @max_depth: out, deepest region nesting accepted
 * @max_alias_chain: out, longest alias chain accepted
 * @max_regions: out, regions per context
 * @max_spaces: out, address spaces per context
 * @max_name: out, bytes of a name including the terminating NUL
 * @__reserved: must be 0
 */
struct memtopo_info {
	__u32 size;
	__u32 flags;
	__u32 abi_version;
	__u32 max_depth;
	__u32 max_alias_chain;
	__u32 max_regions;
	__u32 max_spaces;
	__u32 max_name;
	__u32 __reserved[4];
};
#define MEMTOPO_GET_INFO	_IO(MEMTOPO_TYPE, MEMTOPO_CMD_GET_INFO)

#endif /* _UAPI_LINUX_MEMTOPO_H */
