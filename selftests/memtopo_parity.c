// SPDX-License-Identifier: GPL-2.0
/*
 * kselftests of the QEMU-parity ioctls: MEMTOPO_IOEVENTFD (a dispatched
 * write signals the eventfd), MEMTOPO_COALESCED, MEMTOPO_DIRTY_LOG and
 * MEMTOPO_SPACE_RW, with their errno contract, and kernel-owned RAM, ROM
 * and ROM devices (MEMTOPO_OP_F_KERNEL_BACKING) read and written through
 * the flat view.
 */
#include <errno.h>
#include <pthread.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "../tools/memtopoctl/libmemtopo.c"

static int p_ioctl(int fd, unsigned long req, void *arg)
{
	return ioctl(fd, req, arg) ? -errno : 0;
}

static int p_rw(int fd, __u32 space, __u64 addr, void *buf, __u64 len, bool write)
{
	struct memtopo_space_rw rw = {
		.size = sizeof(rw), .flags = write ? MEMTOPO_SPACE_RW_WRITE : 0,
		.space = space, .addr = addr, .length = len, .buf = (uintptr_t)buf,
	};

	return p_ioctl(fd, MEMTOPO_SPACE_RW, &rw);
}

static int p_efd(int fd, __u32 region, int efd, __u64 off, __u32 len, __u32 flags,
		 __u64 data)
{
	struct memtopo_ioeventfd io = {
		.size = sizeof(io), .flags = flags, .region = region, .fd = efd, .len = len,
		.offset = off, .data = data,
	};

	return p_ioctl(fd, MEMTOPO_IOEVENTFD, &io);
}

static int p_dirty(int fd, __u32 op, __u32 flags, __u32 region, __u32 client,
		   __u64 first, __u64 n, __u64 *bits)
{
	struct memtopo_dirty_log d = {
		.size = sizeof(d), .flags = flags, .op = op, .region = region, .client = client,
		.first_page = first, .num_pages = n, .bitmap = (uintptr_t)bits,
	};

	return p_ioctl(fd, MEMTOPO_DIRTY_LOG, &d);
}

FIXTURE(parity) {
	int fd, root, io, ram, space;
};

FIXTURE_SETUP(parity)
{
	self->fd = mt_open();
	ASSERT_GE(self->fd, 0);
	self->root = mt_region_create(self->fd, MEMTOPO_KIND_CONTAINER, "root", 0,
				      MEMTOPO_OP_F_SIZE_2_64);
	ASSERT_GT(self->root, 0);
	self->io = mt_region_create(self->fd, MEMTOPO_KIND_IO, "io", 0x100, 0);
	ASSERT_GT(self->io, 0);
	self->ram = mt_region_create(self->fd, MEMTOPO_KIND_RAM, "ram", 0x10000, 0);
	ASSERT_GT(self->ram, 0);
	ASSERT_EQ(0, mt_add_subregion(self->fd, self->root, self->io, 0x1000, 0));
	ASSERT_EQ(0, mt_add_subregion(self->fd, self->root, self->ram, 0x100000, 0));
	self->space = mt_space_create(self->fd, "mem", self->root);
	ASSERT_GT(self->space, 0);
}

FIXTURE_TEARDOWN(parity)
{
	close(self->fd);
}

/* A write through the kernel's dispatch that matches signals the eventfd. */
TEST_F(parity, ioeventfd_signals)
{
	int efd = eventfd(0, EFD_NONBLOCK), efd2 = eventfd(0, EFD_NONBLOCK);
	__u8 v[4] = { 0x11, 0x22, 0x33, 0x44 };
	__u64 count = 0;

	ASSERT_GE(efd, 0);
	ASSERT_EQ(0, p_efd(self->fd, self->io, efd, 0x10, 4, MEMTOPO_IOEVENTFD_DATAMATCH,
			   0x44332211));
	EXPECT_EQ(-EEXIST, p_efd(self->fd, self->io, efd2, 0x10, 4, 0, 0));
	EXPECT_EQ(-EINVAL, p_efd(self->fd, self->io, efd2, 0x10, 3, 0, 0));
	EXPECT_EQ(-EINVAL, p_efd(self->fd, self->io, efd2, 0x20, 4, 1u << 7, 0));
	EXPECT_EQ(-ENOENT, p_efd(self->fd, 9999, efd2, 0x20, 4, 0, 0));
	EXPECT_EQ(-EBADF, p_efd(self->fd, self->io, -1, 0x20, 4, 0, 0));
	ASSERT_EQ(0, p_rw(self->fd, self->space, 0x1010, v, 4, true));
	ASSERT_EQ(8, read(efd, &count, 8));
	EXPECT_EQ(1, count);
	/* a value that does not match reaches the device, which has no callbacks */
	v[0] = 0;
	EXPECT_EQ(-EOPNOTSUPP, p_rw(self->fd, self->space, 0x1010, v, 4, true));
	EXPECT_EQ(-1, read(efd, &count, 8));
	EXPECT_EQ(0, p_efd(self->fd, self->io, efd, 0x10, 4,
			   MEMTOPO_IOEVENTFD_DATAMATCH | MEMTOPO_IOEVENTFD_DEASSIGN, 0x44332211));
	EXPECT_EQ(-ENOENT, p_efd(self->fd, self->io, efd, 0x10, 4,
				 MEMTOPO_IOEVENTFD_DATAMATCH | MEMTOPO_IOEVENTFD_DEASSIGN,
				 0x44332211));
	close(efd);
	close(efd2);
}

TEST_F(parity, space_rw_errors)
{
	__u8 b[8] = {};

	EXPECT_EQ(-ENXIO, p_rw(self->fd, self->space, 0x5000, b, 1, false));
	/* RAM backed by a userspace address: the kernel cannot copy it */
	EXPECT_EQ(-EOPNOTSUPP, p_rw(self->fd, self->space, 0x100000, b, 1, false));
	EXPECT_EQ(-EINVAL, p_rw(self->fd, self->space, 0x100000, b, 0, false));
	EXPECT_EQ(-ENOENT, p_rw(self->fd, 9999, 0, b, 1, false));
	EXPECT_EQ(-EOVERFLOW, p_rw(self->fd, self->space, UINT64_MAX, b, 2, false));
}

TEST_F(parity, coalesced)
{
	struct memtopo_coalesced c = {
		.size = sizeof(c), .region = self->io, .offset = 0x10, .length = 0x10,
	};

	EXPECT_EQ(0, p_ioctl(self->fd, MEMTOPO_COALESCED, &c));
	EXPECT_EQ(-EEXIST, p_ioctl(self->fd, MEMTOPO_COALESCED, &c));
	c.flags = MEMTOPO_COALESCED_DEL;
	EXPECT_EQ(0, p_ioctl(self->fd, MEMTOPO_COALESCED, &c));
	EXPECT_EQ(-ENOENT, p_ioctl(self->fd, MEMTOPO_COALESCED, &c));
	c.flags = 0;
	c.region = self->ram;
	EXPECT_EQ(-EINVAL, p_ioctl(self->fd, MEMTOPO_COALESCED, &c));
	c.region = self->io;
	c.length = 0x1000;
	EXPECT_EQ(-EINVAL, p_ioctl(self->fd, MEMTOPO_COALESCED, &c));
}

TEST_F(parity, dirty_log)
{
	__u64 bits[2] = { ~0ULL, ~0ULL };
	struct memtopo_op op;

	/* no log yet */
	EXPECT_EQ(-ENOENT, p_dirty(self->fd, MEMTOPO_DIRTY_GET, 0, self->ram, 0, 0, 16, bits));
	mt_op_init(&op, MEMTOPO_OP_SET_DIRTY_LOG);
	op.id = self->ram;
	op.kind = 0;
	op.value = 1;
	ASSERT_EQ(0, mt_op(self->fd, &op));
	EXPECT_EQ(0, p_dirty(self->fd, MEMTOPO_DIRTY_GET, MEMTOPO_DIRTY_F_CLEAR, self->ram, 0, 0,
			     16, bits));
	EXPECT_EQ(0, bits[0]);
	EXPECT_EQ(0, p_dirty(self->fd, MEMTOPO_DIRTY_CLEAR, 0, self->ram, 0, 0, 16, bits));
	EXPECT_EQ(-EINVAL, p_dirty(self->fd, MEMTOPO_DIRTY_GET, 0, self->ram, 0, 1, 15, bits));
	EXPECT_EQ(-EINVAL, p_dirty(self->fd, MEMTOPO_DIRTY_GET, 0, self->ram, 0, 0, 17, bits));
	EXPECT_EQ(-EINVAL, p_dirty(self->fd, MEMTOPO_DIRTY_GET, 0, self->ram, 3, 0, 16, bits));
	EXPECT_EQ(-EINVAL, p_dirty(self->fd, MEMTOPO_DIRTY_GET, 0, self->io, 0, 0, 1, bits));
	EXPECT_EQ(-EINVAL, p_dirty(self->fd, MEMTOPO_DIRTY_CLEAR, MEMTOPO_DIRTY_F_CLEAR,
				   self->ram, 0, 0, 16, bits));
	EXPECT_EQ(-EFAULT, p_dirty(self->fd, MEMTOPO_DIRTY_GET, 0, self->ram, 0, 0, 16,
				   (__u64 *)8));
	EXPECT_EQ(-E2BIG, p_dirty(self->fd, MEMTOPO_DIRTY_GET, 0, self->ram, 0, 0,
				  MEMTOPO_DIRTY_MAX_PAGES_PER_CALL + 1ULL, bits));
	EXPECT_EQ(-ENOENT, p_dirty(self->fd, MEMTOPO_DIRTY_GET, 0, 9999, 0, 0, 16, bits));
	/* no pages: the region and client are still checked */
	EXPECT_EQ(0, p_dirty(self->fd, MEMTOPO_DIRTY_GET, 0, self->ram, 0, 0, 0, NULL));
	EXPECT_EQ(-ENOENT, p_dirty(self->fd, MEMTOPO_DIRTY_GET, 0, 9999, 0, 0, 0, NULL));
	EXPECT_EQ(-EINVAL, p_dirty(self->fd, MEMTOPO_DIRTY_CLEAR, 0, self->ram, 3, 0, 0, NULL));
	/* global logging: MIGRATION gets a log; stop without start refused */
	EXPECT_EQ(-EINVAL, p_dirty(self->fd, MEMTOPO_DIRTY_GLOBAL_STOP, 0, 0, 0, 0, 0, NULL));
	EXPECT_EQ(0, p_dirty(self->fd, MEMTOPO_DIRTY_GLOBAL_START, 0, 0, 0, 0, 0, NULL));
	EXPECT_EQ(0, p_dirty(self->fd, MEMTOPO_DIRTY_GET, 0, self->ram, 2, 0, 16, bits));
	EXPECT_EQ(-EINVAL, p_dirty(self->fd, MEMTOPO_DIRTY_GLOBAL_START, 0, self->ram, 0, 0, 0,
				   NULL));
	EXPECT_EQ(0, p_dirty(self->fd, MEMTOPO_DIRTY_GLOBAL_STOP, 0, 0, 0, 0, 0, NULL));
	EXPECT_EQ(-EINVAL, p_dirty(self->fd, 9, 0, 0, 0, 0, 0, NULL));
}

/* ---- kernel-owned RAM (MEMTOPO_OP_F_KERNEL_BACKING) through MEMTOPO_SPACE_RW ---- */

static int k_create(int fd, __u32 kind, const char *name, __u64 size, const void *image)
{
	struct memtopo_op op;
	int ret;

	mt_op_init(&op, MEMTOPO_OP_REGION_CREATE);
	op.flags = MEMTOPO_OP_F_KERNEL_BACKING;
	op.kind = kind;
	strcpy(op.name, name);
	op.length = size;
	op.value = (uintptr_t)image;
	ret = mt_op(fd, &op);
	return ret ? ret : (int)op.id;
}

static int k_set_size(int fd, __u32 id, __u64 size, bool big)
{
	struct memtopo_op op;

	mt_op_init(&op, MEMTOPO_OP_SET_SIZE);
	op.id = id;
	op.length = size;
	if (big)
		op.flags = MEMTOPO_OP_F_SIZE_2_64;
	return mt_op(fd, &op);
}

static const struct memtopo_region_desc *
k_desc(const struct memtopo_region_desc *d, __u32 n, __u32 id)
{
	__u32 i;

	for (i = 0; i < n; i++)
		if (d[i].id == id)
			return &d[i];
	return NULL;
}

static __u32 k_nr_regions(int fd)
{
	struct memtopo_region_desc *d;
	__u32 n;

	if (mt_get_regions(fd, &d, &n))
		return UINT32_MAX;
	free(d);
	return n;
}

/*
 * The fixture's map plus kernel-owned memory (addresses in the space):
 *   0x200000-0x202fff  kram   RAM, zero-filled
 *   0x203000-0x203fff  kram2  RAM, right after kram (one access spans both)
 *   0x300000-0x300fff  krom   ROM with an image
 *   0x310000-0x310fff  kromd  ROM device with an image (romd mode)
 *   0x400000-0x400fff  alias of kram at offset 0x1000
 * and a hole at 0x204000.
 */
FIXTURE(kram) {
	int fd, root, kram, kram2, krom, kromd, alias, space;
	__u8 image[0x1000];
};

FIXTURE_SETUP(kram)
{
	struct memtopo_op op;
	int i;

	for (i = 0; i < (int)sizeof(self->image); i++)
		self->image[i] = (__u8)(i * 7 + 3);
	self->fd = mt_open();
	ASSERT_GE(self->fd, 0);
	self->root = mt_region_create(self->fd, MEMTOPO_KIND_CONTAINER, "root", 0,
				      MEMTOPO_OP_F_SIZE_2_64);
	ASSERT_GT(self->root, 0);
	self->kram = k_create(self->fd, MEMTOPO_KIND_RAM, "kram", 0x3000, NULL);
	ASSERT_GT(self->kram, 0);
	self->kram2 = k_create(self->fd, MEMTOPO_KIND_RAM, "kram2", 0x1000, NULL);
	ASSERT_GT(self->kram2, 0);
	self->krom = k_create(self->fd, MEMTOPO_KIND_ROM, "krom", 0x1000, self->image);
	ASSERT_GT(self->krom, 0);
	self->kromd = k_create(self->fd, MEMTOPO_KIND_ROM_DEVICE, "kromd", 0x1000, self->image);
	ASSERT_GT(self->kromd, 0);
	mt_op_init(&op, MEMTOPO_OP_REGION_CREATE);
	op.kind = MEMTOPO_KIND_ALIAS;
	strcpy(op.name, "kram-alias");
	op.ref = self->kram;
	op.addr = 0x1000;
	op.length = 0x1000;
	ASSERT_EQ(0, mt_op(self->fd, &op));
	self->alias = op.id;
	ASSERT_EQ(0, mt_add_subregion(self->fd, self->root, self->kram, 0x200000, 0));
	ASSERT_EQ(0, mt_add_subregion(self->fd, self->root, self->kram2, 0x203000, 0));
	ASSERT_EQ(0, mt_add_subregion(self->fd, self->root, self->krom, 0x300000, 0));
	ASSERT_EQ(0, mt_add_subregion(self->fd, self->root, self->kromd, 0x310000, 0));
	ASSERT_EQ(0, mt_add_subregion(self->fd, self->root, self->alias, 0x400000, 0));
	self->space = mt_space_create(self->fd, "mem", self->root);
	ASSERT_GT(self->space, 0);
}

FIXTURE_TEARDOWN(kram)
{
	close(self->fd);
}

/* Reported as kernel-owned, with no userspace address. */
TEST_F(kram, described)
{
	struct memtopo_region_desc *d;
	const struct memtopo_region_desc *k;
	__u32 n;

	ASSERT_EQ(0, mt_get_regions(self->fd, &d, &n));
	k = k_desc(d, n, self->kram);
	ASSERT_NE(NULL, k);
	EXPECT_TRUE(k->flags & MEMTOPO_REGION_KERNEL_BACKING);
	EXPECT_EQ(0, k->uaddr);
	EXPECT_EQ(0x3000, k->length);
	k = k_desc(d, n, self->krom);
	ASSERT_NE(NULL, k);
	EXPECT_TRUE(k->flags & MEMTOPO_REGION_KERNEL_BACKING);
	EXPECT_TRUE(k->flags & MEMTOPO_REGION_READONLY);
	k = k_desc(d, n, self->root);
	ASSERT_NE(NULL, k);
	EXPECT_FALSE(k->flags & MEMTOPO_REGION_KERNEL_BACKING);
	free(d);
}

/* Zero-filled; what is written reads back, through the view and an alias. */
TEST_F(kram, write_then_read_back)
{
	__u8 w[64], r[64], zero[64] = {};
	int i;

	ASSERT_EQ(0, p_rw(self->fd, self->space, 0x200000, r, sizeof(r), false));
	EXPECT_EQ(0, memcmp(r, zero, sizeof(r)));
	for (i = 0; i < (int)sizeof(w); i++)
		w[i] = 0xa0 + i;
	/* across kram's first page boundary */
	ASSERT_EQ(0, p_rw(self->fd, self->space, 0x200fe0, w, sizeof(w), true));
	memset(r, 0, sizeof(r));
	ASSERT_EQ(0, p_rw(self->fd, self->space, 0x200fe0, r, sizeof(r), false));
	EXPECT_EQ(0, memcmp(w, r, sizeof(w)));
	/* the alias shows kram from offset 0x1000: w[32..] landed there */
	memset(r, 0, sizeof(r));
	ASSERT_EQ(0, p_rw(self->fd, self->space, 0x400000, r, 32, false));
	EXPECT_EQ(0, memcmp(w + 32, r, 32));
	/* and a write through the alias is a write to kram */
	w[0] = 0x5a;
	ASSERT_EQ(0, p_rw(self->fd, self->space, 0x400800, w, 1, true));
	ASSERT_EQ(0, p_rw(self->fd, self->space, 0x201800, r, 1, false));
	EXPECT_EQ(0x5a, r[0]);
	/* one access over two regions, kram's last bytes and kram2's first */
	for (i = 0; i < 16; i++)
		w[i] = 0x10 + i;
	ASSERT_EQ(0, p_rw(self->fd, self->space, 0x202ff8, w, 16, true));
	ASSERT_EQ(0, p_rw(self->fd, self->space, 0x203000, r, 8, false));
	EXPECT_EQ(0, memcmp(w + 8, r, 8));
	ASSERT_EQ(0, p_rw(self->fd, self->space, 0x202ff8, r, 8, false));
	EXPECT_EQ(0, memcmp(w, r, 8));
}

/* A larger access: the whole of kram in one call. */
TEST_F(kram, whole_region)
{
	static __u8 w[0x3000], r[0x3000];
	int i;

	for (i = 0; i < (int)sizeof(w); i++)
		w[i] = (__u8)(i ^ (i >> 8));
	ASSERT_EQ(0, p_rw(self->fd, self->space, 0x200000, w, sizeof(w), true));
	ASSERT_EQ(0, p_rw(self->fd, self->space, 0x200000, r, sizeof(r), false));
	EXPECT_EQ(0, memcmp(w, r, sizeof(w)));
}

/* Unassigned addresses: ENXIO, and nothing of the access happened. */
TEST_F(kram, unassigned)
{
	__u8 b[8] = { 1, 2, 3, 4, 5, 6, 7, 8 }, r[8];
	struct memtopo_op op;

	EXPECT_EQ(-ENXIO, p_rw(self->fd, self->space, 0x204000, b, 1, false));
	EXPECT_EQ(-ENXIO, p_rw(self->fd, self->space, 0x204000, b, 1, true));
	EXPECT_EQ(-ENXIO, p_rw(self->fd, self->space, 0, b, 8, false));
	/* starts in kram2, ends in the hole: refused before any byte is written */
	EXPECT_EQ(-ENXIO, p_rw(self->fd, self->space, 0x203ffc, b, 8, true));
	ASSERT_EQ(0, p_rw(self->fd, self->space, 0x203ff8, r, 8, false));
	EXPECT_EQ(0, r[4] | r[5] | r[6] | r[7]);
	/* an unmapped region is unassigned too */
	mt_op_init(&op, MEMTOPO_OP_DEL_SUBREGION);
	op.id = self->kram2;
	ASSERT_EQ(0, mt_op(self->fd, &op));
	EXPECT_EQ(-ENXIO, p_rw(self->fd, self->space, 0x203000, r, 1, false));
}

/* ROM: reads its image, refuses writes with EROFS and stays as it was. */
TEST_F(kram, rom_refuses_writes)
{
	__u8 r[0x1000], w[4] = { 0xde, 0xad, 0xbe, 0xef };
	int pre;

	ASSERT_EQ(0, p_rw(self->fd, self->space, 0x300000, r, sizeof(r), false));
	EXPECT_EQ(0, memcmp(self->image, r, sizeof(r)));
	EXPECT_EQ(-EROFS, p_rw(self->fd, self->space, 0x300010, w, 4, true));
	/* a write that starts in RAM right below the ROM and ends in it changes neither */
	pre = k_create(self->fd, MEMTOPO_KIND_RAM, "pre", 0x1000, NULL);
	ASSERT_GT(pre, 0);
	ASSERT_EQ(0, mt_add_subregion(self->fd, self->root, pre, 0x2ff000, 0));
	EXPECT_EQ(-EROFS, p_rw(self->fd, self->space, 0x2ffffe, w, 4, true));
	ASSERT_EQ(0, p_rw(self->fd, self->space, 0x2ffffc, r, 4, false));
	EXPECT_EQ(0, r[0] | r[1] | r[2] | r[3]);
	ASSERT_EQ(0, p_rw(self->fd, self->space, 0x300000, r, sizeof(r), false));
	EXPECT_EQ(0, memcmp(self->image, r, sizeof(r)));
	/* RAM set read-only refuses too; writable again afterwards */
	ASSERT_EQ(0, mt_region_set(self->fd, MEMTOPO_OP_SET_READONLY, self->kram, 0, 0, 1));
	EXPECT_EQ(-EROFS, p_rw(self->fd, self->space, 0x200000, w, 4, true));
	ASSERT_EQ(0, mt_region_set(self->fd, MEMTOPO_OP_SET_READONLY, self->kram, 0, 0, 0));
	EXPECT_EQ(0, p_rw(self->fd, self->space, 0x200000, w, 4, true));
}

/* A ROM device reads as RAM in romd mode; writes go to a device it lacks. */
TEST_F(kram, rom_device)
{
	__u8 r[16], w[4] = { 1, 2, 3, 4 };

	ASSERT_EQ(0, p_rw(self->fd, self->space, 0x310100, r, sizeof(r), false));
	EXPECT_EQ(0, memcmp(self->image + 0x100, r, sizeof(r)));
	EXPECT_EQ(-EOPNOTSUPP, p_rw(self->fd, self->space, 0x310100, w, 4, true));
	ASSERT_EQ(0, mt_region_set(self->fd, MEMTOPO_OP_SET_ROMD, self->kromd, 0, 0, 0));
	EXPECT_EQ(-EOPNOTSUPP, p_rw(self->fd, self->space, 0x310100, r, 4, false));
	ASSERT_EQ(0, mt_region_set(self->fd, MEMTOPO_OP_SET_ROMD, self->kromd, 0, 0, 1));
	ASSERT_EQ(0, p_rw(self->fd, self->space, 0x310100, r, sizeof(r), false));
	EXPECT_EQ(0, memcmp(self->image + 0x100, r, sizeof(r)));
}

/* Writes through the dispatch mark the pages dirty for the logging client. */
TEST_F(kram, writes_are_dirty_logged)
{
	__u64 bits[1] = { 0 };
	__u8 w[8] = {};
	struct memtopo_op op;

	mt_op_init(&op, MEMTOPO_OP_SET_DIRTY_LOG);
	op.id = self->kram;
	op.kind = 0;
	op.value = 1;
	ASSERT_EQ(0, mt_op(self->fd, &op));
	ASSERT_EQ(0, p_dirty(self->fd, MEMTOPO_DIRTY_GET, MEMTOPO_DIRTY_F_CLEAR, self->kram, 0, 0,
			     3, bits));
	EXPECT_EQ(0, bits[0]);
	/* pages 1 and 2 of kram: one write across their boundary */
	ASSERT_EQ(0, p_rw(self->fd, self->space, 0x201ffc, w, 8, true));
	ASSERT_EQ(0, p_dirty(self->fd, MEMTOPO_DIRTY_GET, MEMTOPO_DIRTY_F_CLEAR, self->kram, 0, 0,
			     3, bits));
	EXPECT_EQ(0x6, bits[0]);
	/* a read dirties nothing */
	ASSERT_EQ(0, p_rw(self->fd, self->space, 0x200000, w, 8, false));
	ASSERT_EQ(0, p_dirty(self->fd, MEMTOPO_DIRTY_GET, 0, self->kram, 0, 0, 3, bits));
	EXPECT_EQ(0, bits[0]);
}

/* Creation errors: each is refused and leaves no region behind. */
TEST_F(kram, create_errors)
{
	__u32 before = k_nr_regions(self->fd);
	struct memtopo_op op;

	EXPECT_EQ(-EINVAL, k_create(self->fd, MEMTOPO_KIND_IO, "x", 0x1000, NULL));
	EXPECT_EQ(-EINVAL, k_create(self->fd, MEMTOPO_KIND_CONTAINER, "x", 0x1000, NULL));
	EXPECT_EQ(-EINVAL, k_create(self->fd, MEMTOPO_KIND_RAM_DEVICE, "x", 0x1000, NULL));
	EXPECT_EQ(-EINVAL, k_create(self->fd, MEMTOPO_KIND_RAM, "x", 0, NULL));
	/* past the context's memory budget (1 GiB by default) */
	EXPECT_EQ(-ENOSPC, k_create(self->fd, MEMTOPO_KIND_RAM, "x", 1ULL << 40, NULL));
	EXPECT_EQ(-EFAULT, k_create(self->fd, MEMTOPO_KIND_ROM, "x", 0x1000, (void *)8));
	mt_op_init(&op, MEMTOPO_OP_REGION_CREATE);
	op.flags = MEMTOPO_OP_F_KERNEL_BACKING | MEMTOPO_OP_F_SIZE_2_64;
	op.kind = MEMTOPO_KIND_RAM;
	strcpy(op.name, "x");
	EXPECT_EQ(-E2BIG, mt_op(self->fd, &op));
	mt_op_init(&op, MEMTOPO_OP_REGION_CREATE);
	op.flags = 1u << 7;
	op.kind = MEMTOPO_KIND_RAM;
	op.length = 0x1000;
	EXPECT_EQ(-EINVAL, mt_op(self->fd, &op));
	EXPECT_EQ(before, k_nr_regions(self->fd));
}

/* Larger than the old 64 MiB cap: filled and read back at the far end. */
#define KRAM_BIG	(64ULL * 1024 * 1024 + 4096)

TEST_F(kram, large)
{
	__u64 v = 0x0123456789abcdefULL, r = 0;
	int id;

	id = k_create(self->fd, MEMTOPO_KIND_RAM, "big", KRAM_BIG, NULL);
	ASSERT_GT(id, 0);
	ASSERT_EQ(0, mt_add_subregion(self->fd, self->root, id, 0x100000000ULL, 0));
	ASSERT_EQ(0, p_rw(self->fd, self->space, 0x100000000ULL + KRAM_BIG - 8, &v, 8, true));
	ASSERT_EQ(0, p_rw(self->fd, self->space, 0x100000000ULL + KRAM_BIG - 8, &r, 8, false));
	EXPECT_EQ(v, r);
	EXPECT_EQ(-ENXIO, p_rw(self->fd, self->space, 0x100000000ULL + KRAM_BIG - 4, &r, 8, false));
}

/* The region never grows past its allocation; it may shrink and grow back. */
TEST_F(kram, resize)
{
	__u8 b[4] = { 9, 9, 9, 9 }, r[4];

	ASSERT_EQ(0, p_rw(self->fd, self->space, 0x202000, b, 4, true));
	EXPECT_EQ(-EINVAL, k_set_size(self->fd, self->kram, 0x3001, false));
	EXPECT_EQ(-EINVAL, k_set_size(self->fd, self->kram, 0, true));
	ASSERT_EQ(0, k_set_size(self->fd, self->kram, 0x1000, false));
	EXPECT_EQ(-ENXIO, p_rw(self->fd, self->space, 0x202000, r, 4, false));
	ASSERT_EQ(0, k_set_size(self->fd, self->kram, 0x3000, false));
	ASSERT_EQ(0, p_rw(self->fd, self->space, 0x202000, r, 4, false));
	EXPECT_EQ(0, memcmp(b, r, 4));
}

/* A batch that fails after creating kernel-owned RAM leaves nothing. */
TEST_F(kram, batch_rollback)
{
	__u32 before = k_nr_regions(self->fd), idx;
	struct memtopo_op ops[3];

	mt_op_init(&ops[0], MEMTOPO_OP_REGION_CREATE);
	ops[0].flags = MEMTOPO_OP_F_KERNEL_BACKING;
	ops[0].kind = MEMTOPO_KIND_RAM;
	strcpy(ops[0].name, "tmp");
	ops[0].length = 0x10000;
	mt_op_init(&ops[1], MEMTOPO_OP_ADD_SUBREGION);
	ops[1].id = MEMTOPO_ID_BATCH_REF | 0;
	ops[1].ref = self->root;
	ops[1].addr = 0x800000;
	mt_op_init(&ops[2], MEMTOPO_OP_ADD_SUBREGION);	/* kram already has a parent */
	ops[2].id = self->kram;
	ops[2].ref = self->root;
	EXPECT_EQ(-EBUSY, mt_batch(self->fd, ops, 3, &idx));
	EXPECT_EQ(2, idx);
	EXPECT_EQ(before, k_nr_regions(self->fd));
	EXPECT_EQ(0, mt_batch(self->fd, ops, 2, &idx));
	EXPECT_EQ(before + 1, k_nr_regions(self->fd));
}

/*
 * Another thread of the process accesses an address whose kernel-owned RAM
 * is mapped, unmapped and destroyed over and over: each access completes
 * or finds the address unassigned, and every buffer is freed (kmemleak and
 * KASAN watch this in the debug VM).  The ioctl serialises with the
 * changes on the context mutex; the RCU side of the lifetime is what
 * kernel users of memtopo_space_read() rely on.
 */
/*
 * Reads until the churn is done (and at least a few hundred times), not a
 * fixed count: a debug kernel under TCG on a loaded host reads too slowly
 * for a fixed count to end inside the harness's timeout.
 */
struct k_reader_args {
	int fd;
	int space;
	int done;
};

static void *k_reader(void *arg)
{
	struct k_reader_args *a = arg;
	int i, bad = 0;
	__u8 r[256];

	for (i = 0; i < 500 || !__atomic_load_n(&a->done, __ATOMIC_ACQUIRE); i++) {
		int ret = p_rw(a->fd, a->space, 0x600000, r, sizeof(r), false);

		if (ret && ret != -ENXIO)
			bad++;
	}
	return (void *)(intptr_t)bad;
}

TEST_F(kram, destroy_while_accessed)
{
	struct k_reader_args args = { .fd = self->fd, .space = self->space };
	pthread_t t;
	void *bad;
	int round;

	ASSERT_EQ(0, pthread_create(&t, NULL, k_reader, &args));
	for (round = 0; round < 200; round++) {
		struct memtopo_op ops[3];
		__u32 idx;
		int id = k_create(self->fd, MEMTOPO_KIND_RAM, "churn", 0x1000, NULL);

		if (id <= 0 ||
		    mt_add_subregion(self->fd, self->root, id, 0x600000, 0))
			break;
		mt_op_init(&ops[0], MEMTOPO_OP_DEL_SUBREGION);
		ops[0].id = id;
		mt_op_init(&ops[1], MEMTOPO_OP_REGION_DESTROY);
		ops[1].id = id;
		if (mt_batch(self->fd, ops, 2, &idx))
			break;
	}
	__atomic_store_n(&args.done, 1, __ATOMIC_RELEASE);
	ASSERT_EQ(0, pthread_join(t, &bad));
	EXPECT_EQ(200, round);
	EXPECT_EQ(NULL, bad);
}

TEST_HARNESS_MAIN
