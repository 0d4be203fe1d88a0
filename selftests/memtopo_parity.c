// SPDX-License-Identifier: GPL-2.0
/*
 * kselftests of the QEMU-parity ioctls: MEMTOPO_IOEVENTFD (a dispatched
 * write signals the eventfd), MEMTOPO_COALESCED, MEMTOPO_DIRTY_LOG and
 * MEMTOPO_SPACE_RW, with their errno contract.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "../tools/memtopoctl/libmemtopo.c"

static int p_create(int fd, uint32_t kind, const char *name, uint64_t size, bool big)
{
	struct memtopo_op op;
	int ret;

	mt_op_init(&op, MEMTOPO_OP_REGION_CREATE);
	op.kind = kind;
	strcpy(op.name, name);
	op.length = size;
	if (big)
		op.flags = MEMTOPO_OP_F_SIZE_2_64;
	ret = mt_op(fd, &op);
	return ret ? ret : (int)op.id;
}

static int p_map(int fd, uint32_t parent, uint32_t child, uint64_t addr)
{
	struct memtopo_op op;

	mt_op_init(&op, MEMTOPO_OP_ADD_SUBREGION);
	op.ref = parent;
	op.id = child;
	op.addr = addr;
	return mt_op(fd, &op);
}

static int p_space(int fd, uint32_t root)
{
	struct memtopo_op op;
	int ret;

	mt_op_init(&op, MEMTOPO_OP_SPACE_CREATE);
	op.ref = root;
	strcpy(op.name, "mem");
	ret = mt_op(fd, &op);
	return ret ? ret : (int)op.id;
}

static int p_ioctl(int fd, unsigned long req, void *arg)
{
	return ioctl(fd, req, arg) ? -errno : 0;
}

static int p_rw(int fd, uint32_t space, uint64_t addr, void *buf, uint64_t len, bool write)
{
	struct memtopo_space_rw rw = {
		.size = sizeof(rw), .flags = write ? MEMTOPO_SPACE_RW_WRITE : 0,
		.space = space, .addr = addr, .length = len, .buf = (uintptr_t)buf,
	};

	return p_ioctl(fd, MEMTOPO_SPACE_RW, &rw);
}

static int p_efd(int fd, uint32_t region, int efd, uint64_t off, uint32_t len, uint32_t flags,
		 uint64_t data)
{
	struct memtopo_ioeventfd io = {
		.size = sizeof(io), .flags = flags, .region = region, .fd = efd, .len = len,
		.offset = off, .data = data,
	};

	return p_ioctl(fd, MEMTOPO_IOEVENTFD, &io);
}

static int p_dirty(int fd, uint32_t op, uint32_t flags, uint32_t region, uint32_t client,
		   uint64_t first, uint64_t n, uint64_t *bits)
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
	self->root = p_create(self->fd, MEMTOPO_KIND_CONTAINER, "root", 0, true);
	ASSERT_GT(self->root, 0);
	self->io = p_create(self->fd, MEMTOPO_KIND_IO, "io", 0x100, false);
	ASSERT_GT(self->io, 0);
	self->ram = p_create(self->fd, MEMTOPO_KIND_RAM, "ram", 0x10000, false);
	ASSERT_GT(self->ram, 0);
	ASSERT_EQ(0, p_map(self->fd, self->root, self->io, 0x1000));
	ASSERT_EQ(0, p_map(self->fd, self->root, self->ram, 0x100000));
	self->space = p_space(self->fd, self->root);
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
	uint8_t v[4] = { 0x11, 0x22, 0x33, 0x44 };
	uint64_t count = 0;

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
	uint8_t b[8] = {};

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
	uint64_t bits[2] = { ~0ULL, ~0ULL };
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
				   (uint64_t *)8));
	EXPECT_EQ(-E2BIG, p_dirty(self->fd, MEMTOPO_DIRTY_GET, 0, self->ram, 0, 0,
				  MEMTOPO_DIRTY_MAX_PAGES_PER_CALL + 1ULL, bits));
	EXPECT_EQ(-ENOENT, p_dirty(self->fd, MEMTOPO_DIRTY_GET, 0, 9999, 0, 0, 16, bits));
	/* global logging: MIGRATION gets a log; stop without start refused */
	EXPECT_EQ(-EINVAL, p_dirty(self->fd, MEMTOPO_DIRTY_GLOBAL_STOP, 0, 0, 0, 0, 0, NULL));
	EXPECT_EQ(0, p_dirty(self->fd, MEMTOPO_DIRTY_GLOBAL_START, 0, 0, 0, 0, 0, NULL));
	EXPECT_EQ(0, p_dirty(self->fd, MEMTOPO_DIRTY_GET, 0, self->ram, 2, 0, 16, bits));
	EXPECT_EQ(-EINVAL, p_dirty(self->fd, MEMTOPO_DIRTY_GLOBAL_START, 0, self->ram, 0, 0, 0,
				   NULL));
	EXPECT_EQ(0, p_dirty(self->fd, MEMTOPO_DIRTY_GLOBAL_STOP, 0, 0, 0, 0, 0, NULL));
	EXPECT_EQ(-EINVAL, p_dirty(self->fd, 9, 0, 0, 0, 0, 0, NULL));
}

TEST_HARNESS_MAIN
