// SPDX-License-Identifier: GPL-2.0
/*
 * kselftests of the listener interface's userspace side for dirty logging,
 * ioeventfds and coalesced MMIO: global dirty logging by QEMU's reasons,
 * global sync, counted VGA logging (MEMTOPO_DIRTY_LOG), listing a region's
 * ioeventfds and coalesced ranges (count then fill), removing an ioeventfd
 * without its fd, and MEMTOPO_DIRTY_MARK, each with its errnos; every
 * refused call is checked to change nothing.  Writes through a process's
 * mapping of kernel-owned RAM are logged by write faults (the pages are
 * write-protected when logging starts and when bits are cleared), counted
 * with getrusage(): none once logging is off and the pages are writable;
 * and a migration's copy loop racing a writer ends with an exact copy.
 */
#include <errno.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "../tools/memtopoctl/libmemtopo.c"

#define RAM_BASE	0x100000ull
#define RAM_SIZE	0x10000ull
/* dirty_log_mask bits: clients 0 (VGA) and 2 (MIGRATION) */
#define VGA		0x1
#define MIGRATION	0x4

static int d_ioctl(int fd, unsigned long req, void *arg)
{
	return ioctl(fd, req, arg) ? -errno : 0;
}

static int d_log(int fd, __u32 op, __u32 region, __u32 client, __u32 reasons)
{
	struct memtopo_dirty_log d = {
		.size = sizeof(d), .op = op, .region = region, .client = client,
		.reasons = reasons,
	};

	return d_ioctl(fd, MEMTOPO_DIRTY_LOG, &d);
}

static int d_get(int fd, __u32 region, __u32 client, __u64 npages, __u64 *bits)
{
	struct memtopo_dirty_log d = {
		.size = sizeof(d), .op = MEMTOPO_DIRTY_GET, .region = region, .client = client,
		.num_pages = npages, .bitmap = (uintptr_t)bits,
	};

	return d_ioctl(fd, MEMTOPO_DIRTY_LOG, &d);
}

/* GET with MEMTOPO_DIRTY_F_CLEAR: fetch and clear. */
static int d_get_clear(int fd, __u32 region, __u32 client, __u64 npages, __u64 *bits)
{
	struct memtopo_dirty_log d = {
		.size = sizeof(d), .op = MEMTOPO_DIRTY_GET, .region = region, .client = client,
		.flags = MEMTOPO_DIRTY_F_CLEAR, .num_pages = npages, .bitmap = (uintptr_t)bits,
	};

	return d_ioctl(fd, MEMTOPO_DIRTY_LOG, &d);
}

static int d_clear(int fd, __u32 region, __u32 client, __u64 npages, __u64 bits)
{
	struct memtopo_dirty_log d = {
		.size = sizeof(d), .op = MEMTOPO_DIRTY_CLEAR, .region = region, .client = client,
		.num_pages = npages, .bitmap = (uintptr_t)&bits,
	};

	return d_ioctl(fd, MEMTOPO_DIRTY_LOG, &d);
}

/* Page faults this process took so far (the mapping's, since nothing else runs). */
static long d_faults(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_minflt + ru.ru_majflt;
}

static int d_mark(int fd, __u32 region, __u64 offset, __u64 length)
{
	struct memtopo_dirty_mark m = {
		.size = sizeof(m), .region = region, .offset = offset, .length = length,
	};

	return d_ioctl(fd, MEMTOPO_DIRTY_MARK, &m);
}

static int d_efd(int fd, __u32 region, int efd, __u64 off, __u32 len, __u32 flags, __u64 data)
{
	struct memtopo_ioeventfd io = {
		.size = sizeof(io), .flags = flags, .region = region, .fd = efd, .len = len,
		.offset = off, .data = data,
	};

	return d_ioctl(fd, MEMTOPO_IOEVENTFD, &io);
}

static int d_coalesce(int fd, __u32 region, __u64 off, __u64 len, __u32 flags)
{
	struct memtopo_coalesced c = {
		.size = sizeof(c), .flags = flags, .region = region, .offset = off, .length = len,
	};

	return d_ioctl(fd, MEMTOPO_COALESCED, &c);
}

/* The dirty-log mask of the range at @addr of @space, or -errno. */
static int d_mask_at(int fd, __u32 space, __u64 addr)
{
	struct memtopo_range r;
	__u64 gen;
	int ret = mt_lookup(fd, space, addr, &r, &gen);

	return ret ? ret : r.dirty_log_mask;
}

FIXTURE(dirty) {
	int fd, root, io, ram, bare, kram, space;
	char *backing;
};

/*
 * "ram" is backed by a userspace address (64 KiB at RAM_BASE), "bare" is
 * RAM nothing backs, "kram" kernel-owned RAM, "io" an I/O region.
 */
FIXTURE_SETUP(dirty)
{
	struct memtopo_op op;

	self->fd = mt_open();
	ASSERT_GE(self->fd, 0);
	self->backing = calloc(1, RAM_SIZE);
	ASSERT_NE(NULL, self->backing);
	self->root = mt_region_create(self->fd, MEMTOPO_KIND_CONTAINER, "root", 0,
				      MEMTOPO_OP_F_SIZE_2_64);
	ASSERT_GT(self->root, 0);
	self->io = mt_region_create(self->fd, MEMTOPO_KIND_IO, "io", 0x1000, 0);
	ASSERT_GT(self->io, 0);
	mt_op_init(&op, MEMTOPO_OP_REGION_CREATE);
	op.kind = MEMTOPO_KIND_RAM;
	strcpy(op.name, "ram");
	op.length = RAM_SIZE;
	op.value = (uintptr_t)self->backing;
	ASSERT_EQ(0, mt_op(self->fd, &op));
	self->ram = op.id;
	self->bare = mt_region_create(self->fd, MEMTOPO_KIND_RAM, "bare", 0x1000, 0);
	ASSERT_GT(self->bare, 0);
	self->kram = mt_region_create(self->fd, MEMTOPO_KIND_RAM, "kram", 0x2000,
				      MEMTOPO_OP_F_KERNEL_BACKING);
	ASSERT_GT(self->kram, 0);
	ASSERT_EQ(0, mt_add_subregion(self->fd, self->root, self->io, 0x1000, 0));
	ASSERT_EQ(0, mt_add_subregion(self->fd, self->root, self->ram, RAM_BASE, 0));
	ASSERT_EQ(0, mt_add_subregion(self->fd, self->root, self->bare, 0x200000, 0));
	ASSERT_EQ(0, mt_add_subregion(self->fd, self->root, self->kram, 0x300000, 0));
	self->space = mt_space_create(self->fd, "mem", self->root);
	ASSERT_GT(self->space, 0);
}

FIXTURE_TEARDOWN(dirty)
{
	close(self->fd);
	free(self->backing);
}

/* QEMU's GLOBAL_DIRTY_* reasons: started and stopped each on its own. */
TEST_F(dirty, global_reasons)
{
	struct memtopo_dirty_log d = { .size = sizeof(d), .op = MEMTOPO_DIRTY_GLOBAL_START };

	/* errnos first, each leaving logging off */
	EXPECT_EQ(-EINVAL, d_log(self->fd, MEMTOPO_DIRTY_GLOBAL_START, 0, 0, 1u << 3));
	EXPECT_EQ(-EINVAL, d_log(self->fd, MEMTOPO_DIRTY_GLOBAL_START, self->ram, 0,
				 MEMTOPO_GLOBAL_DIRTY_MIGRATION));
	EXPECT_EQ(-EINVAL, d_log(self->fd, MEMTOPO_DIRTY_GLOBAL_STOP, 0, 0,
				 MEMTOPO_GLOBAL_DIRTY_LIMIT));
	d.__reserved2 = 1;
	EXPECT_EQ(-EINVAL, d_ioctl(self->fd, MEMTOPO_DIRTY_LOG, &d));
	EXPECT_EQ(0, d_mask_at(self->fd, self->space, RAM_BASE));

	EXPECT_EQ(0, d_log(self->fd, MEMTOPO_DIRTY_GLOBAL_START, 0, 0,
			   MEMTOPO_GLOBAL_DIRTY_DIRTY_RATE));
	EXPECT_EQ(MIGRATION, d_mask_at(self->fd, self->space, RAM_BASE));
	EXPECT_EQ(0, d_mask_at(self->fd, self->space, 0x1000));
	/* a reason already on is no error, and nothing changes */
	EXPECT_EQ(0, d_log(self->fd, MEMTOPO_DIRTY_GLOBAL_START, 0, 0,
			   MEMTOPO_GLOBAL_DIRTY_DIRTY_RATE | MEMTOPO_GLOBAL_DIRTY_LIMIT));
	/* stopping a reason that is not on is refused as a whole */
	EXPECT_EQ(-EINVAL, d_log(self->fd, MEMTOPO_DIRTY_GLOBAL_STOP, 0, 0,
				 MEMTOPO_GLOBAL_DIRTY_LIMIT | MEMTOPO_GLOBAL_DIRTY_MIGRATION));
	EXPECT_EQ(0, d_log(self->fd, MEMTOPO_DIRTY_GLOBAL_STOP, 0, 0,
			   MEMTOPO_GLOBAL_DIRTY_DIRTY_RATE));
	/* LIMIT is still on */
	EXPECT_EQ(MIGRATION, d_mask_at(self->fd, self->space, RAM_BASE));
	EXPECT_EQ(0, d_log(self->fd, MEMTOPO_DIRTY_GLOBAL_STOP, 0, 0,
			   MEMTOPO_GLOBAL_DIRTY_LIMIT));
	EXPECT_EQ(0, d_mask_at(self->fd, self->space, RAM_BASE));

	/* the struct's first version (no reasons) means MIGRATION */
	d.__reserved2 = 0;
	d.size = offsetof(struct memtopo_dirty_log, reasons);
	EXPECT_EQ(0, d_ioctl(self->fd, MEMTOPO_DIRTY_LOG, &d));
	EXPECT_EQ(MIGRATION, d_mask_at(self->fd, self->space, RAM_BASE));
	EXPECT_EQ(0, d_log(self->fd, MEMTOPO_DIRTY_GLOBAL_STOP, 0, 0,
			   MEMTOPO_GLOBAL_DIRTY_MIGRATION));
	EXPECT_EQ(0, d_mask_at(self->fd, self->space, RAM_BASE));
}

TEST_F(dirty, global_sync)
{
	__u64 bits[1];
	struct memtopo_dirty_log get = {
		.size = sizeof(get), .op = MEMTOPO_DIRTY_GET, .region = self->ram, .client = 2,
		.num_pages = 1, .bitmap = (uintptr_t)bits,
		.reasons = MEMTOPO_GLOBAL_DIRTY_MIGRATION,
	};

	/* no kernel listener: they succeed; any field they do not take is EINVAL */
	EXPECT_EQ(0, d_log(self->fd, MEMTOPO_DIRTY_GLOBAL_SYNC, 0, 0, 0));
	EXPECT_EQ(0, d_log(self->fd, MEMTOPO_DIRTY_GLOBAL_AFTER_SYNC, 0, 0, 0));
	EXPECT_EQ(-EINVAL, d_log(self->fd, MEMTOPO_DIRTY_GLOBAL_SYNC, 0, 0,
				 MEMTOPO_GLOBAL_DIRTY_MIGRATION));
	EXPECT_EQ(-EINVAL, d_log(self->fd, MEMTOPO_DIRTY_GLOBAL_AFTER_SYNC, self->ram, 0, 0));
	EXPECT_EQ(-EINVAL, d_log(self->fd, MEMTOPO_DIRTY_LOG_UNREF + 1, 0, 0, 0));
	/* GET and CLEAR take no reasons */
	EXPECT_EQ(-EINVAL, d_ioctl(self->fd, MEMTOPO_DIRTY_LOG, &get));
}

/* memory_region_set_log(mr, on, DIRTY_MEMORY_VGA) counts. */
TEST_F(dirty, vga_counted)
{
	struct memtopo_dirty_log d = {
		.size = sizeof(d), .op = MEMTOPO_DIRTY_LOG_REF, .region = self->ram,
		.num_pages = 1,
	};

	EXPECT_EQ(-EINVAL, d_log(self->fd, MEMTOPO_DIRTY_LOG_UNREF, self->ram, 0, 0));
	EXPECT_EQ(-EINVAL, d_log(self->fd, MEMTOPO_DIRTY_LOG_REF, self->ram, 1, 0));
	EXPECT_EQ(-EINVAL, d_ioctl(self->fd, MEMTOPO_DIRTY_LOG, &d));
	EXPECT_EQ(-ENOENT, d_log(self->fd, MEMTOPO_DIRTY_LOG_REF, 9999, 0, 0));
	EXPECT_EQ(0, d_mask_at(self->fd, self->space, RAM_BASE));

	EXPECT_EQ(0, d_log(self->fd, MEMTOPO_DIRTY_LOG_REF, self->ram, 0, 0));
	EXPECT_EQ(VGA, d_mask_at(self->fd, self->space, RAM_BASE));
	EXPECT_EQ(0, d_log(self->fd, MEMTOPO_DIRTY_LOG_REF, self->ram, 0, 0));
	EXPECT_EQ(0, d_log(self->fd, MEMTOPO_DIRTY_LOG_UNREF, self->ram, 0, 0));
	/* one reference left: still logging */
	EXPECT_EQ(VGA, d_mask_at(self->fd, self->space, RAM_BASE));
	EXPECT_EQ(0, d_log(self->fd, MEMTOPO_DIRTY_LOG_UNREF, self->ram, 0, 0));
	EXPECT_EQ(0, d_mask_at(self->fd, self->space, RAM_BASE));
	EXPECT_EQ(-EINVAL, d_log(self->fd, MEMTOPO_DIRTY_LOG_UNREF, self->ram, 0, 0));
}

TEST_F(dirty, ioeventfd_list)
{
	struct memtopo_ioeventfd_entry e[4];
	struct memtopo_ioeventfd_list l = {
		.size = sizeof(l), .region = self->io, .entries = (uintptr_t)e,
	};
	int efd = eventfd(0, EFD_CLOEXEC);

	ASSERT_LE(0, efd);
	/* none yet */
	EXPECT_EQ(0, d_ioctl(self->fd, MEMTOPO_IOEVENTFD_LIST, &l));
	EXPECT_EQ(0, l.num_entries);
	ASSERT_EQ(0, d_efd(self->fd, self->io, efd, 0x10, 4, MEMTOPO_IOEVENTFD_DATAMATCH, 7));
	ASSERT_EQ(0, d_efd(self->fd, self->io, efd, 0x20, 0, 0, 0));
	ASSERT_EQ(0, d_efd(self->fd, self->io, efd, 0x10, 4, MEMTOPO_IOEVENTFD_DATAMATCH, 8));

	/* count: 0 capacity gives the number and EMSGSIZE */
	l.num_entries = 0;
	EXPECT_EQ(-EMSGSIZE, d_ioctl(self->fd, MEMTOPO_IOEVENTFD_LIST, &l));
	EXPECT_EQ(3, l.num_entries);
	/* too small: the first ones, the number, EMSGSIZE */
	memset(e, 0xff, sizeof(e));
	l.num_entries = 2;
	EXPECT_EQ(-EMSGSIZE, d_ioctl(self->fd, MEMTOPO_IOEVENTFD_LIST, &l));
	EXPECT_EQ(3, l.num_entries);
	EXPECT_EQ(0x10, e[0].offset);
	EXPECT_EQ(7, e[0].data);
	EXPECT_EQ(0x20, e[1].offset);
	EXPECT_EQ(0xffffffffffffffffull, e[2].offset);
	/* fill, in registration order */
	l.num_entries = 4;
	EXPECT_EQ(0, d_ioctl(self->fd, MEMTOPO_IOEVENTFD_LIST, &l));
	ASSERT_EQ(3, l.num_entries);
	EXPECT_EQ(MEMTOPO_IOEVENTFD_DATAMATCH, e[0].flags);
	EXPECT_EQ(4, e[0].len);
	EXPECT_EQ(0, e[1].flags);
	EXPECT_EQ(0, e[1].len);
	EXPECT_EQ(0, e[1].data);
	EXPECT_EQ(0x10, e[2].offset);
	EXPECT_EQ(8, e[2].data);

	/* errnos */
	l.flags = 1;
	EXPECT_EQ(-EINVAL, d_ioctl(self->fd, MEMTOPO_IOEVENTFD_LIST, &l));
	l.flags = 0;
	l.region = 9999;
	EXPECT_EQ(-ENOENT, d_ioctl(self->fd, MEMTOPO_IOEVENTFD_LIST, &l));
	l.region = self->io;
	l.entries = 8;
	EXPECT_EQ(-EFAULT, d_ioctl(self->fd, MEMTOPO_IOEVENTFD_LIST, &l));
	l.entries = (uintptr_t)e;

	/* DEASSIGN by the fields alone (fd -1): only that registration goes */
	EXPECT_EQ(-EBADF, d_efd(self->fd, self->io, -1, 0x40, 4, 0, 0));
	EXPECT_EQ(-ENOENT, d_efd(self->fd, self->io, -1, 0x10, 4,
				 MEMTOPO_IOEVENTFD_DATAMATCH | MEMTOPO_IOEVENTFD_DEASSIGN, 9));
	EXPECT_EQ(0, d_efd(self->fd, self->io, -1, 0x10, 4,
			   MEMTOPO_IOEVENTFD_DATAMATCH | MEMTOPO_IOEVENTFD_DEASSIGN, 7));
	l.num_entries = 4;
	EXPECT_EQ(0, d_ioctl(self->fd, MEMTOPO_IOEVENTFD_LIST, &l));
	ASSERT_EQ(2, l.num_entries);
	EXPECT_EQ(0x20, e[0].offset);
	EXPECT_EQ(8, e[1].data);
	close(efd);
}

TEST_F(dirty, coalesced_list)
{
	struct memtopo_coalesced_entry e[2];
	struct memtopo_coalesced_list l = {
		.size = sizeof(l), .region = self->io, .entries = (uintptr_t)e,
	};

	ASSERT_EQ(0, d_coalesce(self->fd, self->io, 0x100, 0x10, 0));
	ASSERT_EQ(0, d_coalesce(self->fd, self->io, 0x0, 0x8, 0));
	ASSERT_EQ(0, d_coalesce(self->fd, self->io, 0x800, 0x800, 0));
	EXPECT_EQ(-EMSGSIZE, d_ioctl(self->fd, MEMTOPO_COALESCED_LIST, &l));
	EXPECT_EQ(3, l.num_entries);
	l.num_entries = 2;
	EXPECT_EQ(-EMSGSIZE, d_ioctl(self->fd, MEMTOPO_COALESCED_LIST, &l));
	EXPECT_EQ(3, l.num_entries);
	EXPECT_EQ(0x100, e[0].offset);
	EXPECT_EQ(0x10, e[0].length);
	EXPECT_EQ(0x0, e[1].offset);
	EXPECT_EQ(0x8, e[1].length);
	ASSERT_EQ(0, d_coalesce(self->fd, self->io, 0x100, 0x10, MEMTOPO_COALESCED_DEL));
	l.num_entries = 2;
	EXPECT_EQ(0, d_ioctl(self->fd, MEMTOPO_COALESCED_LIST, &l));
	EXPECT_EQ(2, l.num_entries);
	EXPECT_EQ(0x0, e[0].offset);
	EXPECT_EQ(0x800, e[1].offset);
	EXPECT_EQ(0x800, e[1].length);
	/* a region with none, errnos */
	l.region = self->ram;
	EXPECT_EQ(0, d_ioctl(self->fd, MEMTOPO_COALESCED_LIST, &l));
	EXPECT_EQ(0, l.num_entries);
	l.region = 9999;
	EXPECT_EQ(-ENOENT, d_ioctl(self->fd, MEMTOPO_COALESCED_LIST, &l));
	l.region = self->io;
	l.flags = 2;
	EXPECT_EQ(-EINVAL, d_ioctl(self->fd, MEMTOPO_COALESCED_LIST, &l));
	l.flags = 0;
	l.num_entries = 2;
	l.entries = 8;
	EXPECT_EQ(-EFAULT, d_ioctl(self->fd, MEMTOPO_COALESCED_LIST, &l));
}

TEST_F(dirty, mark)
{
	struct memtopo_dirty_mark m = { .size = sizeof(m), .region = self->ram, .length = 1 };
	__u64 bits[1];

	/* no client logs: nothing to mark, no error */
	EXPECT_EQ(0, d_mark(self->fd, self->ram, 0, 1));
	ASSERT_EQ(0, mt_region_set(self->fd, MEMTOPO_OP_SET_DIRTY_LOG, self->ram, 0, 0, 1));
	ASSERT_EQ(0, d_get(self->fd, self->ram, 0, 16, bits));
	EXPECT_EQ(0, bits[0]);

	/* bytes 0x1001-0x3000 touch pages 1, 2 and 3 */
	EXPECT_EQ(0, d_mark(self->fd, self->ram, 0x1001, 0x2000));
	/* the last byte of the region */
	EXPECT_EQ(0, d_mark(self->fd, self->ram, RAM_SIZE - 1, 1));
	ASSERT_EQ(0, d_get(self->fd, self->ram, 0, 16, bits));
	EXPECT_EQ(0x800eull, bits[0]);

	/* refused calls mark nothing */
	EXPECT_EQ(-EINVAL, d_mark(self->fd, self->ram, 0, 0));
	EXPECT_EQ(-EINVAL, d_mark(self->fd, self->ram, RAM_SIZE - 1, 2));
	EXPECT_EQ(-EINVAL, d_mark(self->fd, self->ram, RAM_SIZE, 1));
	EXPECT_EQ(-EOVERFLOW, d_mark(self->fd, self->ram, UINT64_MAX, 2));
	EXPECT_EQ(-E2BIG, d_mark(self->fd, self->ram, 0,
				 ((__u64)MEMTOPO_DIRTY_MAX_PAGES_PER_CALL + 1) << 12));
	EXPECT_EQ(-ENOENT, d_mark(self->fd, 9999, 0, 1));
	EXPECT_EQ(-EINVAL, d_mark(self->fd, self->io, 0, 1));
	EXPECT_EQ(-EINVAL, d_mark(self->fd, self->root, 0, 1));
	/* RAM nothing backs: no process could have written it */
	EXPECT_EQ(-EPERM, d_mark(self->fd, self->bare, 0, 1));
	m.flags = 1;
	EXPECT_EQ(-EINVAL, d_ioctl(self->fd, MEMTOPO_DIRTY_MARK, &m));
	m.flags = 0;
	m.__reserved = 1;
	EXPECT_EQ(-EINVAL, d_ioctl(self->fd, MEMTOPO_DIRTY_MARK, &m));
	ASSERT_EQ(0, d_get(self->fd, self->ram, 0, 16, bits));
	EXPECT_EQ(0x800eull, bits[0]);

	/* kernel-owned RAM may be mapped by userspace: it may be marked */
	ASSERT_EQ(0, mt_region_set(self->fd, MEMTOPO_OP_SET_DIRTY_LOG, self->kram, 0, 0, 1));
	EXPECT_EQ(0, d_mark(self->fd, self->kram, 0x1000, 1));
	ASSERT_EQ(0, d_get(self->fd, self->kram, 0, 2, bits));
	EXPECT_EQ(0x2ull, bits[0]);
}

/* Subscriptions get log_clear (the cleared part of a range) and log_global_after_sync. */
TEST_F(dirty, events)
{
	struct memtopo_dirty_log clr = {
		.size = sizeof(clr), .op = MEMTOPO_DIRTY_CLEAR, .region = self->ram,
		.num_pages = 3,
	};
	__u32 mask = (1u << MEMTOPO_EVENT_LOG_CLEAR) | (1u << MEMTOPO_EVENT_LOG_GLOBAL_AFTER_SYNC);
	struct memtopo_event ev[8];
	__u64 bits[1] = { 0x7 };
	__u32 id, n = 8, pending;

	ASSERT_EQ(0, mt_region_set(self->fd, MEMTOPO_OP_SET_DIRTY_LOG, self->ram, 0, 0, 1));
	ASSERT_EQ(0, mt_subscribe(self->fd, self->space, -1, mask, 0, &id));
	clr.bitmap = (uintptr_t)bits;
	ASSERT_EQ(0, d_ioctl(self->fd, MEMTOPO_DIRTY_LOG, &clr));
	ASSERT_EQ(0, d_log(self->fd, MEMTOPO_DIRTY_GLOBAL_AFTER_SYNC, 0, 0, 0));
	/* a refused clear tells nobody */
	clr.first_page = 1;
	EXPECT_EQ(-EINVAL, d_ioctl(self->fd, MEMTOPO_DIRTY_LOG, &clr));
	ASSERT_EQ(0, mt_read_events(self->fd, id, ev, &n, &pending));
	ASSERT_EQ(2, n);
	EXPECT_EQ(MEMTOPO_EVENT_LOG_CLEAR, ev[0].type);
	EXPECT_EQ(self->ram, ev[0].region);
	EXPECT_EQ(RAM_BASE, ev[0].start);
	EXPECT_EQ(RAM_BASE + 0x2fff, ev[0].last);
	EXPECT_EQ(0, ev[0].offset);
	EXPECT_EQ(VGA, ev[0].new_mask);
	EXPECT_EQ(MEMTOPO_EVENT_LOG_GLOBAL_AFTER_SYNC, ev[1].type);
	EXPECT_EQ(0, ev[1].region);
}

#define KPAGES	16
#define KBASE	0x400000ull
#define KALIAS	0x500000ull
#define PG	4096

/* One byte written into each page of @pages (a bit mask) through @map. */
static void d_touch(char *map, __u32 pages, char v)
{
	int i;

	for (i = 0; i < KPAGES; i++) {
		if (pages & (1u << i))
			map[i * PG + 7] = v;
		/* every store done, none merged with the next call's */
		asm volatile("" ::: "memory");
	}
}

/*
 * Kernel-owned RAM mapped twice into this process (the whole region, and
 * its second half again), shown at two addresses (itself and an alias):
 * writes through either mapping land in the region's log while logging
 * is on, reads do not, and after each fetch-and-clear or clear only what
 * is written again shows.
 */
TEST_F(dirty, mmap_writes)
{
	struct memtopo_op op;
	char *map, *half, buf[1];
	int id, alias, i;
	long before, faults;
	int pid, status;
	__u64 bits, off;

	mt_op_init(&op, MEMTOPO_OP_REGION_CREATE);
	op.kind = MEMTOPO_KIND_RAM;
	op.flags = MEMTOPO_OP_F_KERNEL_BACKING;
	op.length = KPAGES * PG;
	strcpy(op.name, "vram");
	ASSERT_EQ(0, mt_op(self->fd, &op));
	id = op.id;
	off = op.backing_offset;
	mt_op_init(&op, MEMTOPO_OP_REGION_CREATE);
	op.kind = MEMTOPO_KIND_ALIAS;
	op.ref = id;
	op.length = KPAGES * PG;
	strcpy(op.name, "vram-alias");
	ASSERT_EQ(0, mt_op(self->fd, &op));
	alias = op.id;
	ASSERT_EQ(0, mt_add_subregion(self->fd, self->root, id, KBASE, 0));
	ASSERT_EQ(0, mt_add_subregion(self->fd, self->root, alias, KALIAS, 0));
	map = mmap(NULL, KPAGES * PG, PROT_READ | PROT_WRITE, MAP_SHARED, self->fd, off);
	ASSERT_NE(MAP_FAILED, map);
	/* pages 8 to 15 again */
	half = mmap(NULL, KPAGES / 2 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, self->fd,
		    off + KPAGES / 2 * PG);
	ASSERT_NE(MAP_FAILED, half);

	/* written before logging starts: the PTE is writable, logging must take it back */
	d_touch(map, 0xffff, 1);
	ASSERT_EQ(0, mt_region_set(self->fd, MEMTOPO_OP_SET_DIRTY_LOG, id, 0, 0, 1));
	EXPECT_EQ(VGA, d_mask_at(self->fd, self->space, KBASE));
	EXPECT_EQ(VGA, d_mask_at(self->fd, self->space, KALIAS));
	ASSERT_EQ(0, d_get(self->fd, id, 0, KPAGES, &bits));
	EXPECT_EQ(0, bits);

	/* pages 0 and 3 through the first mapping, 9 through the second; 5 read */
	d_touch(map, 1u << 0 | 1u << 3, 2);
	half[(9 - KPAGES / 2) * PG] = 2;
	buf[0] = map[5 * PG];
	EXPECT_EQ(0, buf[0]);
	ASSERT_EQ(0, d_get_clear(self->fd, id, 0, KPAGES, &bits));
	EXPECT_EQ(1u << 0 | 1u << 3 | 1u << 9, bits);
	/* the same bytes through the alias and through the first mapping */
	ASSERT_EQ(0, mt_space_rw(self->fd, self->space, KALIAS + 9 * PG, buf, 1, 0));
	EXPECT_EQ(2, buf[0]);
	EXPECT_EQ(2, map[9 * PG]);

	/* cleared: page 3 again and a new page 7, nothing else */
	d_touch(map, 1u << 3 | 1u << 7, 3);
	ASSERT_EQ(0, d_get_clear(self->fd, id, 0, KPAGES, &bits));
	EXPECT_EQ(1u << 3 | 1u << 7, bits);
	ASSERT_EQ(0, d_get(self->fd, id, 0, KPAGES, &bits));
	EXPECT_EQ(0, bits);

	/* MEMTOPO_DIRTY_CLEAR re-arms what it clears, only that */
	d_touch(map, 1u << 11 | 1u << 12, 4);
	ASSERT_EQ(0, d_clear(self->fd, id, 0, KPAGES, 1u << 11));
	ASSERT_EQ(0, d_get(self->fd, id, 0, KPAGES, &bits));
	EXPECT_EQ(1u << 12, bits);
	d_touch(map, 1u << 11, 5);
	ASSERT_EQ(0, d_get_clear(self->fd, id, 0, KPAGES, &bits));
	EXPECT_EQ(1u << 11 | 1u << 12, bits);

	/* every page written after a clear costs a fault: the one that logs it */
	before = d_faults();
	d_touch(map, 0xffff, 6);
	faults = d_faults() - before;
	EXPECT_LE(KPAGES, faults);
	ASSERT_EQ(0, d_get_clear(self->fd, id, 0, KPAGES, &bits));
	EXPECT_EQ(0xffff, bits);
	TH_LOG("logging on: %d pages written after a clear took %ld faults", KPAGES, faults);

	/* a child's copy of the mapping logs as well */
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		half[(13 - KPAGES / 2) * PG] = 6;
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_EQ(0, status);
	ASSERT_EQ(0, d_get_clear(self->fd, id, 0, KPAGES, &bits));
	EXPECT_EQ(1u << 13, bits);

	/* global logging write-protects too (the MIGRATION client) */
	d_touch(map, 0xffff, 7);
	ASSERT_EQ(0, d_log(self->fd, MEMTOPO_DIRTY_GLOBAL_START, 0, 0,
			   MEMTOPO_GLOBAL_DIRTY_MIGRATION));
	d_touch(map, 1u << 14, 8);
	ASSERT_EQ(0, d_get(self->fd, id, 2, KPAGES, &bits));
	EXPECT_EQ(1u << 14, bits);
	ASSERT_EQ(0, d_log(self->fd, MEMTOPO_DIRTY_GLOBAL_STOP, 0, 0,
			   MEMTOPO_GLOBAL_DIRTY_MIGRATION));

	/* VGA logged all along */
	ASSERT_EQ(0, d_get_clear(self->fd, id, 0, KPAGES, &bits));
	EXPECT_EQ(0xffff, bits);

	/* logging off: the first write of each page may fault, none after */
	ASSERT_EQ(0, mt_region_set(self->fd, MEMTOPO_OP_SET_DIRTY_LOG, id, 0, 0, 0));
	d_touch(map, 0xffff, 9);
	before = d_faults();
	for (i = 0; i < 100; i++)
		d_touch(map, 0xffff, 10 + i);
	faults = d_faults() - before;
	EXPECT_EQ(0, faults);
	TH_LOG("logging off: %d writes to written pages took %ld faults", 100 * KPAGES, faults);
	ASSERT_EQ(0, d_get(self->fd, id, 0, KPAGES, &bits));
	EXPECT_EQ(0, bits);

	/* the mapping outlives the region: writes land, unlogged */
	ASSERT_EQ(0, mt_region_set(self->fd, MEMTOPO_OP_SET_DIRTY_LOG, id, 0, 0, 1));
	ASSERT_EQ(0, mt_region_set(self->fd, MEMTOPO_OP_DEL_SUBREGION, alias, 0, 0, 0));
	ASSERT_EQ(0, mt_region_destroy(self->fd, alias));
	ASSERT_EQ(0, mt_region_set(self->fd, MEMTOPO_OP_DEL_SUBREGION, id, 0, 0, 0));
	ASSERT_EQ(0, mt_region_destroy(self->fd, id));
	d_touch(map, 0xffff, 42);
	EXPECT_EQ(42, half[7 * PG + 7]);
	munmap(half, KPAGES / 2 * PG);
	munmap(map, KPAGES * PG);
}

#define MPAGES	64
#define MROUNDS	100

struct d_writer {
	char *map;
	int stop;
	unsigned long writes;
};

/* Writes a counter into pseudo-random pages until told to stop. */
static void *d_writer_run(void *arg)
{
	struct d_writer *w = arg;
	unsigned int x = 12345;
	unsigned long n = 0;

	while (!__atomic_load_n(&w->stop, __ATOMIC_ACQUIRE)) {
		x = x * 1103515245 + 12345;
		__atomic_store_n((unsigned long *)(w->map + ((x >> 8) % MPAGES) * PG +
						   ((x >> 20) % (PG / 8)) * 8), ++n,
				 __ATOMIC_RELAXED);
	}
	w->writes = n;
	return NULL;
}

/*
 * Migration's rule, with a writer racing the log: copy everything once
 * logging is on, then after each fetch-and-clear copy the pages it
 * returned; once the writer stops, a last round makes the copy equal to
 * the memory.  A write that a clear lost (a PTE left writable past the
 * fetch) leaves the copy stale.
 */
TEST_F(dirty, mmap_migrate)
{
	struct d_writer w = {};
	struct memtopo_op op;
	pthread_t thread;
	__u64 bits, copied = 0;
	int id, round, i;
	char *copy;

	mt_op_init(&op, MEMTOPO_OP_REGION_CREATE);
	op.kind = MEMTOPO_KIND_RAM;
	op.flags = MEMTOPO_OP_F_KERNEL_BACKING;
	op.length = MPAGES * PG;
	strcpy(op.name, "guest");
	ASSERT_EQ(0, mt_op(self->fd, &op));
	id = op.id;
	w.map = mmap(NULL, MPAGES * PG, PROT_READ | PROT_WRITE, MAP_SHARED, self->fd,
		     op.backing_offset);
	ASSERT_NE(MAP_FAILED, w.map);
	copy = malloc(MPAGES * PG);
	ASSERT_NE(NULL, copy);
	ASSERT_EQ(0, pthread_create(&thread, NULL, d_writer_run, &w));

	ASSERT_EQ(0, mt_region_set(self->fd, MEMTOPO_OP_SET_DIRTY_LOG, id, 0, 0, 1));
	memcpy(copy, w.map, MPAGES * PG);
	for (round = 0; round <= MROUNDS; round++) {
		if (round == MROUNDS) {
			__atomic_store_n(&w.stop, 1, __ATOMIC_RELEASE);
			ASSERT_EQ(0, pthread_join(thread, NULL));
		}
		ASSERT_EQ(0, d_get_clear(self->fd, id, 0, MPAGES, &bits));
		for (i = 0; i < MPAGES; i++) {
			if (bits & (1ull << i)) {
				memcpy(copy + i * PG, w.map + i * PG, PG);
				copied++;
			}
		}
		/* on one CPU too, let the writer run between rounds */
		usleep(200);
	}
	EXPECT_LT(1000, w.writes);
	EXPECT_EQ(0, memcmp(copy, w.map, MPAGES * PG));
	TH_LOG("%lu writes raced %d fetch-and-clear rounds; %llu pages copied",
	       w.writes, MROUNDS, (unsigned long long)copied);
	free(copy);
	munmap(w.map, MPAGES * PG);
}

/*
 * LOG_SYNC_GLOBAL follows QEMU's memory_region_sync_dirty_bitmap(): a
 * listener with log_sync gets it for each logging range, one with only
 * log_sync_global gets that once per sync, also when one region is synced
 * (it cannot sync finer); memory_global_dirty_log_sync() and a GET (which
 * syncs its region first) both go through it.
 */
TEST_F(dirty, events_sync_global)
{
	__u32 global = 1u << MEMTOPO_EVENT_LOG_SYNC_GLOBAL;
	__u32 both = global | (1u << MEMTOPO_EVENT_LOG_SYNC);
	__u32 gid, sid, nid, n, pending, i;
	struct memtopo_event ev[8];
	struct memtopo_range r;
	__u64 bits[1], gen;

	ASSERT_EQ(0, mt_region_set(self->fd, MEMTOPO_OP_SET_DIRTY_LOG, self->ram, 0, 0, 1));
	ASSERT_EQ(0, mt_region_set(self->fd, MEMTOPO_OP_SET_DIRTY_LOG, self->kram, 0, 0, 1));
	ASSERT_EQ(0, mt_subscribe(self->fd, self->space, -1, global, 0, &gid));
	ASSERT_EQ(0, mt_subscribe(self->fd, self->space, -1, both, 0, &sid));
	ASSERT_EQ(0, mt_subscribe(self->fd, self->space, -1,
				  1u << MEMTOPO_EVENT_LOG_CLEAR, 0, &nid));
	ASSERT_EQ(0, mt_lookup(self->fd, self->space, RAM_BASE, &r, &gen));
	ASSERT_EQ(0, d_log(self->fd, MEMTOPO_DIRTY_GLOBAL_SYNC, 0, 0, 0));
	ASSERT_EQ(0, d_get(self->fd, self->ram, 0, 1, bits));

	/* only log_sync_global: once per sync, about no section */
	n = 8;
	ASSERT_EQ(0, mt_read_events(self->fd, gid, ev, &n, &pending));
	ASSERT_EQ(2, n);
	for (i = 0; i < n; i++) {
		EXPECT_EQ(MEMTOPO_EVENT_LOG_SYNC_GLOBAL, ev[i].type);
		EXPECT_EQ(i + 1, ev[i].seq);
		EXPECT_EQ(gen, ev[i].generation);
		EXPECT_EQ(0, ev[i].region);
		EXPECT_EQ(0, ev[i].start);
		EXPECT_EQ(0, ev[i].last);
	}

	/* log_sync wins: each logging range, then the GET's region, never global */
	n = 8;
	ASSERT_EQ(0, mt_read_events(self->fd, sid, ev, &n, &pending));
	ASSERT_EQ(3, n);
	for (i = 0; i < n; i++)
		EXPECT_EQ(MEMTOPO_EVENT_LOG_SYNC, ev[i].type);
	EXPECT_EQ(self->ram, ev[0].region);
	EXPECT_EQ(RAM_BASE, ev[0].start);
	EXPECT_EQ(self->kram, ev[1].region);
	EXPECT_EQ(0x300000, ev[1].start);
	EXPECT_EQ(self->ram, ev[2].region);

	/* neither selected: nothing */
	n = 8;
	ASSERT_EQ(0, mt_read_events(self->fd, nid, ev, &n, &pending));
	EXPECT_EQ(0, n);
}

TEST_HARNESS_MAIN
