/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * memtopo_vhost: a test consumer module in the shape of a vhost device.  A
 * kernel thread processes a descriptor ring that lives in a space's RAM,
 * reaching the ring and the buffers only through memtopo_space_translate()
 * and memtopo_space_map(), and only where its listener says RAM is mapped;
 * it writes the results and the used entries back and signals an eventfd.
 *
 * The ring is a virtio split ring, little-endian: a descriptor table, an
 * available ring and a used ring, each at a guest address.  A request is a
 * chain of two descriptors: a buffer the device reads (the input) and one
 * it writes (the output, at least 8 bytes longer than the input).  The
 * device writes struct memtopo_vhost_out_hdr followed by every input byte
 * XORed with MEMTOPO_VHOST_XOR, and puts the bytes written in the used
 * entry's @len; a request it cannot complete gets
 * MEMTOPO_VHOST_USED_ERROR | errno there instead.
 */
#ifndef _MEMTOPO_VHOST_H
#define _MEMTOPO_VHOST_H

#include <linux/types.h>
#include <linux/ioctl.h>

/**
 * struct memtopo_vhost_desc - a ring descriptor.
 * @addr: guest address of the buffer
 * @len: its length in bytes
 * @flags: MEMTOPO_VHOST_DESC_F_*
 * @next: the next descriptor of the chain, with MEMTOPO_VHOST_DESC_F_NEXT
 */
struct memtopo_vhost_desc {
	__le64 addr;
	__le32 len;
	__le16 flags;
	__le16 next;
};

#define MEMTOPO_VHOST_DESC_F_NEXT	1
#define MEMTOPO_VHOST_DESC_F_WRITE	2

/*
 * The available ring: __le16 flags, __le16 idx, __le16 ring[num].  The used
 * ring: __le16 flags, __le16 idx, struct memtopo_vhost_used_elem ring[num].
 */
/**
 * struct memtopo_vhost_used_elem - an entry of the used ring.
 * @id: the head descriptor of the request
 * @len: bytes written to the output, or MEMTOPO_VHOST_USED_ERROR | errno
 */
struct memtopo_vhost_used_elem {
	__le32 id;
	__le32 len;
};

#define MEMTOPO_VHOST_USED_ERROR	0x80000000u
#define MEMTOPO_VHOST_XOR		0x5a

/**
 * struct memtopo_vhost_out_hdr - what starts every output buffer.
 * @len: input bytes
 * @sum: the sum of the input bytes, modulo 2^32
 */
struct memtopo_vhost_out_hdr {
	__le32 len;
	__le32 sum;
};

/**
 * struct memtopo_vhost_attach - MEMTOPO_VHOST_ATTACH: start the device.
 * @size: sizeof(struct memtopo_vhost_attach)
 * @flags: must be 0
 * @memtopo_fd: a /dev/memtopo descriptor of the caller
 * @space: ID of the space the ring and buffers are in
 * @call_fd: an eventfd signalled after used entries are published
 * @num: ring size, a power of two from 1 to 256
 * @desc_addr: guest address of the descriptor table (16-byte aligned)
 * @avail_addr: guest address of the available ring (2-byte aligned)
 * @used_addr: guest address of the used ring (4-byte aligned)
 */
struct memtopo_vhost_attach {
	__u32 size;
	__u32 flags;
	__s32 memtopo_fd;
	__u32 space;
	__s32 call_fd;
	__u32 num;
	__aligned_u64 desc_addr;
	__aligned_u64 avail_addr;
	__aligned_u64 used_addr;
};

/**
 * struct memtopo_vhost_stats - MEMTOPO_VHOST_STATS: what the device did.
 * @size: sizeof(struct memtopo_vhost_stats)
 * @flags: in, must be 0; out, MEMTOPO_VHOST_STATS_BROKEN if the listener's
 *	table stopped mirroring the view (its space's create was undone by a
 *	failed commit, a callback saw a mapping out, a
 *	region_del of a range it never had, or could not allocate; an access
 *	found the view disagreeing with it)
 * @done: requests completed successfully
 * @failed: requests completed with an error
 * @adds: region_add calls seen
 * @dels: region_del calls seen
 * @ring_errors: the ring itself could not be read or written (the device
 *	stopped processing until the next kick)
 */
struct memtopo_vhost_stats {
	__u32 size;
	__u32 flags;
	__aligned_u64 done;
	__aligned_u64 failed;
	__aligned_u64 adds;
	__aligned_u64 dels;
	__aligned_u64 ring_errors;
};

#define MEMTOPO_VHOST_STATS_BROKEN	1

#define MEMTOPO_VHOST_ATTACH	_IOW(0xB9, 1, struct memtopo_vhost_attach)
/* new requests are in the available ring */
#define MEMTOPO_VHOST_KICK	_IO(0xB9, 2)
#define MEMTOPO_VHOST_STATS	_IOWR(0xB9, 3, struct memtopo_vhost_stats)

#endif
