/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * memtopo_mirror: a test consumer module.  It attaches to a context from a
 * /dev/memtopo file descriptor, mirrors one space's flat view from
 * region_add/region_del alone, and hands the mirror back so a selftest can
 * compare it with MEMTOPO_GET_FLAT.  On each range of a region with a
 * discard manager it registers a discard listener, as VFIO does, which
 * MEMTOPO_MIRROR_VETO can make refuse populates.
 */
#ifndef _MEMTOPO_MIRROR_H
#define _MEMTOPO_MIRROR_H

#include <linux/types.h>
#include <linux/ioctl.h>
#ifdef __KERNEL__
#include <uapi/linux/memtopo.h>
#else
#include <linux/memtopo.h>
#endif

/**
 * struct memtopo_mirror_attach - MEMTOPO_MIRROR_ATTACH.
 * @size: sizeof(struct memtopo_mirror_attach)
 * @flags: must be 0
 * @memtopo_fd: a /dev/memtopo descriptor of the caller
 * @space: ID of the space to mirror
 */
struct memtopo_mirror_attach {
	__u32 size;
	__u32 flags;
	__s32 memtopo_fd;
	__u32 space;
};

/**
 * struct memtopo_mirror_get - MEMTOPO_MIRROR_GET: the mirrored ranges.
 * @size: sizeof(struct memtopo_mirror_get)
 * @flags: must be 0
 * @count: in, capacity of @ranges; out, ranges held (ENOSPC if too small)
 * @__reserved: must be 0
 * @ranges: user pointer to struct memtopo_range records (@region, @start,
 *	@last, @offset, @flags filled)
 * @adds: out, region_add calls seen
 * @dels: out, region_del calls seen
 * @populated: out, bytes the discard listeners hold: told populated and not
 *	discarded since
 */
struct memtopo_mirror_get {
	__u32 size;
	__u32 flags;
	__u32 count;
	__u32 __reserved;
	__aligned_u64 ranges;
	__aligned_u64 adds;
	__aligned_u64 dels;
	__aligned_u64 populated;
};

/**
 * struct memtopo_mirror_rw - MEMTOPO_MIRROR_RW: a read or write of the
 * mirrored space, as a kernel consumer would make it, by the space's ID and
 * serial (memtopo_space_rw_by_id()): ENOENT once the space is gone, its
 * create undone by a failed commit included.
 * @size: sizeof(struct memtopo_mirror_rw)
 * @flags: MEMTOPO_MIRROR_RW_WRITE or 0
 * @addr: first address
 * @len: bytes, 1 to 64
 * @buf: user pointer to @len bytes
 */
struct memtopo_mirror_rw {
	__u32 size;
	__u32 flags;
	__aligned_u64 addr;
	__aligned_u64 len;
	__aligned_u64 buf;
};

#define MEMTOPO_MIRROR_RW_WRITE	1

/**
 * struct memtopo_mirror_veto - MEMTOPO_MIRROR_VETO: how the discard
 * listeners answer notify_populate from now on.
 * @size: sizeof(struct memtopo_mirror_veto)
 * @flags: must be 0
 * @error: a positive errno every notify_populate returns once @after have
 *	been accepted, below 512 (the kernel-internal ERESTARTSYS and up are
 *	refused); 0 accepts them all
 * @after: notify_populate calls still accepted
 */
struct memtopo_mirror_veto {
	__u32 size;
	__u32 flags;
	__u32 error;
	__u32 after;
};

#define MEMTOPO_MIRROR_ATTACH	_IOW(0xB8, 1, struct memtopo_mirror_attach)
#define MEMTOPO_MIRROR_GET	_IOWR(0xB8, 2, struct memtopo_mirror_get)
#define MEMTOPO_MIRROR_RW	_IOW(0xB8, 3, struct memtopo_mirror_rw)
#define MEMTOPO_MIRROR_VETO	_IOW(0xB8, 4, struct memtopo_mirror_veto)

#endif
