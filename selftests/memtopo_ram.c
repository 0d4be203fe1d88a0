// SPDX-License-Identifier: GPL-2.0
/*
 * RAM backings that are memory (uapi "RAM backings"): a memfd written by
 * one process through its mmap and read by another with MEMTOPO_SPACE_RW
 * and by a kernel consumer (memtopo_mirror.ko's memtopo_space_read());
 * kernel-owned RAM mmap()ed through the context's fd; a process's memory
 * reached from another process and refused once its owner exited; the
 * memory budget reached with nothing half-made; the fd-passing errors;
 * a hugetlbfs file written from both sides and served by the vhost-like
 * consumer (memtopo_vhost.ko) through direct mappings of its huge pages.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <mntent.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "memtopo_sysfs.h"
#include "../tools/memtopoctl/libmemtopo.c"
#include "../kmod/memtopo_mirror.h"
#include "../kmod/memtopo_vhost.h"

#define PG	4096ULL

static int r_rw(int fd, __u32 space, __u64 addr, void *buf, __u64 len, int write)
{
	struct memtopo_space_rw rw = {
		.size = sizeof(rw), .flags = write ? MEMTOPO_SPACE_RW_WRITE : 0,
		.space = space, .addr = addr, .length = len, .buf = (uintptr_t)buf,
	};

	return ioctl(fd, MEMTOPO_SPACE_RW, &rw) ? -errno : 0;
}

/* A REGION_CREATE for @kind with @flags; the caller fills the backing. */
static void r_create(struct memtopo_op *op, __u32 kind, const char *name, __u64 len,
		     __u32 flags)
{
	mt_op_init(op, MEMTOPO_OP_REGION_CREATE);
	op->kind = kind;
	op->length = len;
	op->flags |= flags;
	snprintf(op->name, sizeof(op->name), "%s", name);
}

static int r_do(int fd, struct memtopo_op *op)
{
	int ret = mt_op(fd, op);

	return ret ? ret : (int)op->id;
}

static int r_file(int fd, __u32 kind, int file, __u64 off, __u64 len, struct memtopo_op *out)
{
	struct memtopo_op op;

	r_create(&op, kind, "file", len, MEMTOPO_OP_F_FILE_BACKING);
	op.backing_fd = file;
	op.backing_offset = off;
	if (out) {
		int ret = r_do(fd, &op);

		*out = op;
		return ret;
	}
	return r_do(fd, &op);
}

static __u32 r_nr_regions(int fd)
{
	struct memtopo_region_desc *d;
	__u32 n;

	if (mt_get_regions(fd, &d, &n))
		return UINT32_MAX;
	free(d);
	return n;
}

static int r_desc(int fd, __u32 id, struct memtopo_region_desc *out)
{
	struct memtopo_region_desc *d;
	__u32 n, i;

	if (mt_get_regions(fd, &d, &n))
		return -1;
	for (i = 0; i < n; i++) {
		if (d[i].id == id) {
			*out = d[i];
			free(d);
			return 0;
		}
	}
	free(d);
	return -1;
}

static int r_memfd(__u64 size)
{
	int fd = memfd_create("guest-ram", MFD_CLOEXEC);

	if (fd < 0 || ftruncate(fd, size))
		return -1;
	return fd;
}

/* A fresh named context so another process can attach to it. */
static void r_named(char *name, size_t len)
{
	snprintf(name, len, "ram-test-%d-%ld", getpid(), random());
}

FIXTURE(ram) {
	int fd, root, space;
	char name[64];
};

FIXTURE_SETUP(ram)
{
	self->fd = mt_open();
	ASSERT_GE(self->fd, 0);
	r_named(self->name, sizeof(self->name));
	ASSERT_EQ(0, mt_attach(self->fd, self->name, MEMTOPO_ATTACH_CREATE | MEMTOPO_ATTACH_EXCL,
			       NULL));
	self->root = mt_region_create(self->fd, MEMTOPO_KIND_CONTAINER, "root", 0,
				      MEMTOPO_OP_F_SIZE_2_64);
	ASSERT_GT(self->root, 0);
	self->space = mt_space_create(self->fd, "mem", self->root);
	ASSERT_GT(self->space, 0);
}

FIXTURE_TEARDOWN(ram)
{
	mt_ctx_destroy(self->fd, self->name);
	close(self->fd);
}

/*
 * Process A writes the memfd through its own mapping; process B, with its
 * own /dev/memtopo file on the same named context, reads it back with
 * SPACE_RW and writes an answer that A sees in its mapping.
 */
TEST_F(ram, memfd_across_processes)
{
	struct memtopo_region_desc d;
	struct memtopo_op op;
	int mfd, id, status;
	__u64 bits = 0;
	char *map;
	pid_t pid;

	mfd = r_memfd(4 * PG);
	ASSERT_GE(mfd, 0);
	map = mmap(NULL, 4 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
	ASSERT_NE(MAP_FAILED, map);
	/* the region is pages 1..2 of the file */
	id = r_file(self->fd, MEMTOPO_KIND_RAM, mfd, PG, 2 * PG, &op);
	ASSERT_GT(id, 0);
	EXPECT_NE(0, op.backing_id);
	EXPECT_EQ(PG, op.backing_offset);
	/* the kernel holds the file, not the fd */
	close(mfd);
	ASSERT_EQ(0, mt_add_subregion(self->fd, self->root, id, 0x100000, 0));
	ASSERT_EQ(0, r_desc(self->fd, id, &d));
	EXPECT_TRUE(d.flags & MEMTOPO_REGION_FILE_BACKING);
	EXPECT_FALSE(d.flags & MEMTOPO_REGION_KERNEL_BACKING);
	EXPECT_EQ(op.backing_id, d.backing_id);
	EXPECT_EQ(PG, d.backing_offset);
	ASSERT_EQ(0, mt_region_set(self->fd, MEMTOPO_OP_SET_DIRTY_LOG, id, 0, 0, 1));

	/* A writes through its mapping: page 2 of the file is page 1 of the region */
	memcpy(map + 2 * PG + 100, "guest image", 12);
	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		char buf[12] = {};
		int b = mt_open();

		if (b < 0 || mt_attach(b, self->name, 0, NULL))
			_exit(10);
		if (r_rw(b, self->space, 0x100000 + PG + 100, buf, 12, 0))
			_exit(11);
		if (memcmp(buf, "guest image", 12))
			_exit(12);
		/* across the page boundary of the region */
		if (r_rw(b, self->space, 0x100000 + PG - 3, "answer", 7, 1))
			_exit(13);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status));
	EXPECT_EQ(0, memcmp(map + 2 * PG - 3, "answer", 7));
	/* the write marked both pages dirty (client 0, VGA) */
	ASSERT_EQ(0, ioctl(self->fd, MEMTOPO_DIRTY_LOG, &(struct memtopo_dirty_log){
		.size = sizeof(struct memtopo_dirty_log), .op = MEMTOPO_DIRTY_GET,
		.region = id, .num_pages = 2, .bitmap = (uintptr_t)&bits }));
	EXPECT_EQ(3, bits);
	/* page 0 of the file is outside the region: untouched */
	EXPECT_EQ(0, map[PG - 1]);
	munmap(map, 4 * PG);
}

/* A kernel consumer (memtopo_mirror.ko) reads the memfd with memtopo_space_read(). */
TEST_F(ram, memfd_kernel_consumer)
{
	struct memtopo_mirror_attach a = { .size = sizeof(a) };
	struct memtopo_mirror_rw rw = { .size = sizeof(rw) };
	char buf[32] = {}, *map;
	int mfd, id, kfd;

	kfd = open("/dev/memtopo_mirror", O_RDWR);
	if (kfd < 0)
		SKIP(return, "memtopo_mirror.ko is not loaded");
	mfd = r_memfd(2 * PG);
	ASSERT_GE(mfd, 0);
	map = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
	ASSERT_NE(MAP_FAILED, map);
	id = r_file(self->fd, MEMTOPO_KIND_RAM, mfd, 0, 2 * PG, NULL);
	ASSERT_GT(id, 0);
	ASSERT_EQ(0, mt_add_subregion(self->fd, self->root, id, 0x40000, 0));
	a.memtopo_fd = self->fd;
	a.space = self->space;
	ASSERT_EQ(0, ioctl(kfd, MEMTOPO_MIRROR_ATTACH, &a));

	strcpy(map + PG - 8, "read by the kernel consumer");
	rw.addr = 0x40000 + PG - 8;
	rw.len = 28;
	rw.buf = (uintptr_t)buf;
	ASSERT_EQ(0, ioctl(kfd, MEMTOPO_MIRROR_RW, &rw));
	EXPECT_STREQ("read by the kernel consumer", buf);
	/* and writes as one: the process sees it in its mapping */
	rw.flags = MEMTOPO_MIRROR_RW_WRITE;
	rw.addr = 0x40000;
	rw.len = 6;
	rw.buf = (uintptr_t)"kernel";
	ASSERT_EQ(0, ioctl(kfd, MEMTOPO_MIRROR_RW, &rw));
	EXPECT_EQ(0, memcmp(map, "kernel", 6));
	close(kfd);
	munmap(map, 2 * PG);
	close(mfd);
}

/* Every way to pass a bad file is refused and leaves no region behind. */
TEST_F(ram, fd_errors)
{
	__u32 before = r_nr_regions(self->fd);
	struct memtopo_op op;
	int mfd, closed, efd, pipefd[2], ro, small;
	char path[64];

	mfd = r_memfd(4 * PG);
	ASSERT_GE(mfd, 0);
	efd = eventfd(0, EFD_CLOEXEC);
	ASSERT_GE(efd, 0);
	ASSERT_EQ(0, pipe(pipefd));
	small = r_memfd(PG);
	ASSERT_GE(small, 0);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", mfd);
	ro = open(path, O_RDONLY);
	ASSERT_GE(ro, 0);
	/* opened last, so no later open reuses its number */
	closed = dup(mfd);
	ASSERT_GE(closed, 0);
	close(closed);

	EXPECT_EQ(-EBADF, r_file(self->fd, MEMTOPO_KIND_RAM, closed, 0, PG, NULL));
	EXPECT_EQ(-EBADF, r_file(self->fd, MEMTOPO_KIND_RAM, -1, 0, PG, NULL));
	/* nothing to mmap */
	EXPECT_EQ(-ENODEV, r_file(self->fd, MEMTOPO_KIND_RAM, efd, 0, PG, NULL));
	EXPECT_EQ(-ENODEV, r_file(self->fd, MEMTOPO_KIND_RAM, pipefd[0], 0, PG, NULL));
	/* a file shorter than the region */
	EXPECT_EQ(-ENXIO, r_file(self->fd, MEMTOPO_KIND_RAM, small, 0, 2 * PG, NULL));
	/* offset + size past the end */
	EXPECT_EQ(-ENXIO, r_file(self->fd, MEMTOPO_KIND_RAM, mfd, 3 * PG, 2 * PG, NULL));
	EXPECT_EQ(-ENXIO, r_file(self->fd, MEMTOPO_KIND_RAM, mfd, 4 * PG, PG, NULL));
	/* misaligned offset or size, zero size */
	EXPECT_EQ(-EINVAL, r_file(self->fd, MEMTOPO_KIND_RAM, mfd, 100, PG, NULL));
	EXPECT_EQ(-EINVAL, r_file(self->fd, MEMTOPO_KIND_RAM, mfd, 0, PG + 1, NULL));
	EXPECT_EQ(-EINVAL, r_file(self->fd, MEMTOPO_KIND_RAM, mfd, 0, 0, NULL));
	EXPECT_EQ(-EINVAL, r_file(self->fd, MEMTOPO_KIND_RAM, mfd, 0x7ffffffffffff000ULL, PG,
				  NULL));
	/* RAM needs to write its file, a ROM only to read it */
	EXPECT_EQ(-EACCES, r_file(self->fd, MEMTOPO_KIND_RAM, ro, 0, PG, NULL));
	EXPECT_EQ(-EACCES, r_file(self->fd, MEMTOPO_KIND_RAM_DEVICE, ro, 0, PG, NULL));
	/* no file behind I/O, containers or aliases */
	EXPECT_EQ(-EINVAL, r_file(self->fd, MEMTOPO_KIND_IO, mfd, 0, PG, NULL));
	EXPECT_EQ(-EINVAL, r_file(self->fd, MEMTOPO_KIND_CONTAINER, mfd, 0, PG, NULL));
	/* the file fields without the flag, two backings, a @value, 2^64 */
	r_create(&op, MEMTOPO_KIND_RAM, "x", PG, 0);
	op.backing_fd = mfd;
	EXPECT_EQ(-EINVAL, r_do(self->fd, &op));
	r_create(&op, MEMTOPO_KIND_RAM, "x", PG,
		 MEMTOPO_OP_F_FILE_BACKING | MEMTOPO_OP_F_KERNEL_BACKING);
	op.backing_fd = mfd;
	EXPECT_EQ(-EINVAL, r_do(self->fd, &op));
	r_create(&op, MEMTOPO_KIND_RAM, "x", PG, MEMTOPO_OP_F_FILE_BACKING);
	op.backing_fd = mfd;
	op.value = 0x1000;
	EXPECT_EQ(-EINVAL, r_do(self->fd, &op));
	r_create(&op, MEMTOPO_KIND_RAM, "x", 0,
		 MEMTOPO_OP_F_FILE_BACKING | MEMTOPO_OP_F_SIZE_2_64);
	op.backing_fd = mfd;
	EXPECT_EQ(-EINVAL, r_do(self->fd, &op));
	r_create(&op, MEMTOPO_KIND_RAM, "x", PG, MEMTOPO_OP_F_FILE_BACKING);
	op.backing_fd = mfd;
	op.__reserved2 = 1;
	EXPECT_EQ(-EINVAL, r_do(self->fd, &op));
	/* the file fields on another operation */
	mt_op_init(&op, MEMTOPO_OP_SET_ENABLED);
	op.id = self->root;
	op.value = 1;
	op.backing_fd = mfd;
	EXPECT_EQ(-EINVAL, mt_op(self->fd, &op));
	EXPECT_EQ(before, r_nr_regions(self->fd));

	/* the same files, right: a ROM on the read-only fd, RAM on the memfd */
	EXPECT_GT(r_file(self->fd, MEMTOPO_KIND_ROM, ro, 0, PG, NULL), 0);
	EXPECT_GT(r_file(self->fd, MEMTOPO_KIND_RAM, mfd, 3 * PG, PG, NULL), 0);
	EXPECT_EQ(before + 2, r_nr_regions(self->fd));
	close(mfd);
	close(efd);
	close(pipefd[0]);
	close(pipefd[1]);
	close(small);
	close(ro);
}

/*
 * Range events say where the bytes are: the file offset, the mmap offset,
 * the owner's address, or the label, each at the section's start.
 */
TEST_F(ram, events_carry_backing)
{
	struct memtopo_event ev[16];
	struct memtopo_op op, kop, alias;
	__u32 sub, n = 16, i, seen = 0;
	int mfd, fid, kid, lid, aid;

	mfd = r_memfd(4 * PG);
	ASSERT_GE(mfd, 0);
	ASSERT_EQ(0, mt_subscribe(self->fd, self->space, -1, 0, 0, &sub));
	fid = r_file(self->fd, MEMTOPO_KIND_RAM, mfd, 2 * PG, 2 * PG, &op);
	ASSERT_GT(fid, 0);
	r_create(&kop, MEMTOPO_KIND_RAM, "k", 2 * PG, MEMTOPO_OP_F_KERNEL_BACKING);
	kid = r_do(self->fd, &kop);
	ASSERT_GT(kid, 0);
	lid = mt_region_create(self->fd, MEMTOPO_KIND_RAM, "label", PG, 0);
	ASSERT_GT(lid, 0);
	ASSERT_EQ(0, mt_add_subregion(self->fd, self->root, fid, 0x100000, 0));
	ASSERT_EQ(0, mt_add_subregion(self->fd, self->root, kid, 0x200000, 0));
	ASSERT_EQ(0, mt_add_subregion(self->fd, self->root, lid, 0x300000, 0));
	ASSERT_EQ(0, mt_read_events(self->fd, sub, ev, &n, NULL));
	for (i = 0; i < n; i++) {
		if (ev[i].type != MEMTOPO_EVENT_REGION_ADD)
			continue;
		seen++;
		if (ev[i].region == (__u32)fid) {
			EXPECT_EQ(MEMTOPO_EVENT_BACKING_FILE, ev[i].backing.kind);
			EXPECT_EQ(op.backing_id, ev[i].backing.id);
			EXPECT_EQ(2 * PG, ev[i].backing.offset);
		} else if (ev[i].region == (__u32)kid) {
			EXPECT_EQ(MEMTOPO_EVENT_BACKING_KERNEL, ev[i].backing.kind);
			EXPECT_EQ(kop.backing_id, ev[i].backing.id);
			EXPECT_EQ(kop.backing_offset, ev[i].backing.offset);
		} else {
			EXPECT_EQ(lid, ev[i].region);
			EXPECT_EQ(MEMTOPO_EVENT_BACKING_NONE, ev[i].backing.kind);
			EXPECT_EQ(0, ev[i].backing.id);
			EXPECT_EQ(0, ev[i].backing.offset);
		}
	}
	EXPECT_EQ(3, seen);
	/* an alias shows the file region from its second page: the offset follows */
	mt_op_init(&alias, MEMTOPO_OP_REGION_CREATE);
	alias.kind = MEMTOPO_KIND_ALIAS;
	alias.ref = fid;
	alias.addr = PG;
	alias.length = PG;
	strcpy(alias.name, "alias");
	aid = r_do(self->fd, &alias);
	ASSERT_GT(aid, 0);
	ASSERT_EQ(0, mt_add_subregion(self->fd, self->root, aid, 0x400000, 0));
	n = 16;
	ASSERT_EQ(0, mt_read_events(self->fd, sub, ev, &n, NULL));
	seen = 0;
	for (i = 0; i < n; i++) {
		if (ev[i].type != MEMTOPO_EVENT_REGION_ADD)
			continue;
		seen++;
		EXPECT_EQ(fid, ev[i].region);
		EXPECT_EQ(PG, ev[i].offset);
		EXPECT_EQ(3 * PG, ev[i].backing.offset);
	}
	EXPECT_EQ(1, seen);
	close(mfd);
}

/* A ROM on a read-only file reads it and refuses writes. */
TEST_F(ram, file_rom)
{
	char buf[4] = {};
	int mfd, ro, id;
	char path[64];

	mfd = r_memfd(PG);
	ASSERT_GE(mfd, 0);
	ASSERT_EQ(4, pwrite(mfd, "bios", 4, 0));
	snprintf(path, sizeof(path), "/proc/self/fd/%d", mfd);
	ro = open(path, O_RDONLY);
	ASSERT_GE(ro, 0);
	id = r_file(self->fd, MEMTOPO_KIND_ROM, ro, 0, PG, NULL);
	ASSERT_GT(id, 0);
	ASSERT_EQ(0, mt_add_subregion(self->fd, self->root, id, 0xf0000, 0));
	ASSERT_EQ(0, r_rw(self->fd, self->space, 0xf0000, buf, 4, 0));
	EXPECT_EQ(0, memcmp(buf, "bios", 4));
	EXPECT_EQ(-EROFS, r_rw(self->fd, self->space, 0xf0000, "xxxx", 4, 1));
	/* a file that shrank: its bytes are gone */
	ASSERT_EQ(0, ftruncate(mfd, 0));
	EXPECT_EQ(-ENXIO, r_rw(self->fd, self->space, 0xf0000, buf, 4, 0));
	close(ro);
	close(mfd);
}

/* Kernel-owned RAM mmap()ed through the context's fd, written, read back. */
TEST_F(ram, kernel_mmap)
{
	struct memtopo_region_desc d;
	char image[3 * PG], buf[8];
	struct memtopo_op op;
	char *map, *late;
	int id, other;

	memset(image, 0x5a, sizeof(image));
	r_create(&op, MEMTOPO_KIND_RAM, "kram", 3 * PG, MEMTOPO_OP_F_KERNEL_BACKING);
	op.value = (uintptr_t)image;
	id = r_do(self->fd, &op);
	ASSERT_GT(id, 0);
	ASSERT_NE(0, op.backing_offset);
	EXPECT_EQ(0, op.backing_offset % PG);
	EXPECT_NE(0, op.backing_id);
	ASSERT_EQ(0, r_desc(self->fd, id, &d));
	EXPECT_TRUE(d.flags & MEMTOPO_REGION_KERNEL_BACKING);
	EXPECT_EQ(op.backing_offset, d.backing_offset);
	EXPECT_EQ(op.backing_id, d.backing_id);
	ASSERT_EQ(0, mt_add_subregion(self->fd, self->root, id, 0x200000, 0));

	map = mmap(NULL, 3 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, self->fd, op.backing_offset);
	ASSERT_NE(MAP_FAILED, map);
	EXPECT_EQ(0x5a, map[0]);
	EXPECT_EQ(0x5a, map[3 * PG - 1]);
	memcpy(map + PG + 10, "mmapped", 8);
	ASSERT_EQ(0, r_rw(self->fd, self->space, 0x200000 + PG + 10, buf, 8, 0));
	EXPECT_STREQ("mmapped", buf);
	ASSERT_EQ(0, r_rw(self->fd, self->space, 0x200000 + 3 * PG - 4, "rw!", 4, 1));
	EXPECT_STREQ("rw!", map + 3 * PG - 4);

	/* the middle page alone */
	late = mmap(NULL, PG, PROT_READ, MAP_SHARED, self->fd, op.backing_offset + PG);
	ASSERT_NE(MAP_FAILED, late);
	EXPECT_STREQ("mmapped", late + 10);
	munmap(late, PG);

	/* private, too long, past the end, nowhere: refused */
	EXPECT_EQ(MAP_FAILED, mmap(NULL, PG, PROT_READ, MAP_PRIVATE, self->fd, op.backing_offset));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(MAP_FAILED, mmap(NULL, 4 * PG, PROT_READ, MAP_SHARED, self->fd,
				   op.backing_offset));
	EXPECT_EQ(ENXIO, errno);
	EXPECT_EQ(MAP_FAILED, mmap(NULL, PG, PROT_READ, MAP_SHARED, self->fd,
				   op.backing_offset + 3 * PG));
	EXPECT_EQ(ENXIO, errno);
	/* another context's fd does not reach it */
	other = mt_open();
	ASSERT_GE(other, 0);
	EXPECT_EQ(MAP_FAILED, mmap(NULL, PG, PROT_READ, MAP_SHARED, other, op.backing_offset));
	EXPECT_EQ(ENXIO, errno);
	close(other);

	/* destroyed: no new mapping, the old one keeps its pages */
	ASSERT_EQ(0, mt_region_set(self->fd, MEMTOPO_OP_DEL_SUBREGION, id, 0, 0, 0));
	ASSERT_EQ(0, mt_region_destroy(self->fd, id));
	EXPECT_EQ(MAP_FAILED, mmap(NULL, PG, PROT_READ, MAP_SHARED, self->fd, op.backing_offset));
	EXPECT_EQ(ENXIO, errno);
	EXPECT_STREQ("mmapped", map + PG + 10);
	map[0] = 1;
	munmap(map, 3 * PG);
}

/*
 * Process-address RAM: the child maps memory and makes a region of it in
 * the named context; this process reads and writes it from outside, then
 * the child exits and its memory is refused with ESRCH.
 */
TEST_F(ram, process_memory)
{
	int to_child[2], to_parent[2], status;
	struct memtopo_range range;
	char buf[16] = {}, c;
	pid_t pid;

	ASSERT_EQ(0, pipe(to_child));
	ASSERT_EQ(0, pipe(to_parent));
	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		struct memtopo_op op;
		char *mem = mmap(NULL, 3 * PG, PROT_READ | PROT_WRITE,
				 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		int a = mt_open(), id;

		if (mem == MAP_FAILED || a < 0 || mt_attach(a, self->name, 0, NULL))
			_exit(10);
		strcpy(mem + PG - 4, "child's memory");
		/* partly unmapped, misaligned: refused */
		munmap(mem + 2 * PG, PG);
		r_create(&op, MEMTOPO_KIND_RAM, "bad", 2 * PG, MEMTOPO_OP_F_PROCESS_BACKING);
		op.value = (uintptr_t)mem + PG;
		if (r_do(a, &op) != -EFAULT)
			_exit(11);
		op.value = (uintptr_t)mem + 1;
		if (r_do(a, &op) != -EINVAL)
			_exit(12);
		op.value = (uintptr_t)mem;
		id = r_do(a, &op);
		if (id <= 0 || mt_add_subregion(a, self->root, id, 0x300000, 0))
			_exit(13);
		close(a);
		if (write(to_parent[1], "r", 1) != 1 || read(to_child[0], &c, 1) != 1)
			_exit(14);
		/* what the other process wrote is in this one's memory */
		if (memcmp(mem, "from outside", 13))
			_exit(15);
		_exit(0);
	}
	ASSERT_EQ(1, read(to_parent[0], &c, 1));
	ASSERT_EQ(0, r_rw(self->fd, self->space, 0x300000 + PG - 4, buf, 15, 0));
	EXPECT_STREQ("child's memory", buf);
	ASSERT_EQ(0, r_rw(self->fd, self->space, 0x300000, "from outside", 13, 1));
	ASSERT_EQ(1, write(to_child[1], "g", 1));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status));

	/* the owner is gone: its memory with it */
	EXPECT_EQ(-ESRCH, r_rw(self->fd, self->space, 0x300000, buf, 4, 0));
	EXPECT_EQ(-ESRCH, r_rw(self->fd, self->space, 0x300000, buf, 4, 1));
	/* the region itself stays in the map */
	ASSERT_EQ(0, mt_lookup(self->fd, self->space, 0x300000, &range, NULL));
	close(to_child[0]);
	close(to_child[1]);
	close(to_parent[0]);
	close(to_parent[1]);
}

/*
 * Kernel-owned RAM is charged to the context's budget: the create that
 * would pass it fails with ENOSPC, alone or in a batch, and nothing of it
 * (nor of the batch) is left.
 */
TEST_F(ram, budget)
{
	struct memtopo_op ops[3];
	__u32 before, err = 0;
	long old;
	int id;

	old = swap_param(PARAM_MEM_MAX, -1);
	if (old < 0)
		SKIP(return, "cannot read memtopo.ctx_mem_max");
	/* 8 MiB: room for one 4 MiB region, not for two */
	ASSERT_EQ(old, swap_param(PARAM_MEM_MAX, 8L << 20));
	r_create(&ops[0], MEMTOPO_KIND_RAM, "a", 4 << 20, MEMTOPO_OP_F_KERNEL_BACKING);
	id = r_do(self->fd, &ops[0]);
	EXPECT_GT(id, 0);
	before = r_nr_regions(self->fd);
	r_create(&ops[0], MEMTOPO_KIND_RAM, "b", 4 << 20, MEMTOPO_OP_F_KERNEL_BACKING);
	EXPECT_EQ(-ENOSPC, r_do(self->fd, &ops[0]));
	EXPECT_EQ(before, r_nr_regions(self->fd));
	/* a batch: the small create is undone with the refused one */
	r_create(&ops[0], MEMTOPO_KIND_RAM, "c", 1 << 20, MEMTOPO_OP_F_KERNEL_BACKING);
	r_create(&ops[1], MEMTOPO_KIND_RAM, "d", 4 << 20, MEMTOPO_OP_F_KERNEL_BACKING);
	EXPECT_EQ(-ENOSPC, mt_batch(self->fd, ops, 2, &err));
	EXPECT_EQ(1, err);
	EXPECT_EQ(before, r_nr_regions(self->fd));
	/* destroying the first gives its pages back to the budget */
	ASSERT_EQ(0, mt_region_destroy(self->fd, id));
	r_create(&ops[2], MEMTOPO_KIND_RAM, "e", 6 << 20, MEMTOPO_OP_F_KERNEL_BACKING);
	EXPECT_GT(r_do(self->fd, &ops[2]), 0);
	swap_param(PARAM_MEM_MAX, old);
}

/* Named contexts per user: past the limit creating fails, attaching does not. */
TEST(named_per_user_limit)
{
	char x[64], y[64];
	int fd = mt_open(), fd2 = mt_open();
	long old = swap_param(PARAM_NAMED_MAX, -1);

	ASSERT_GE(fd, 0);
	ASSERT_GE(fd2, 0);
	if (old < 0)
		SKIP(return, "cannot read memtopo.named_max_per_user");
	r_named(x, sizeof(x));
	r_named(y, sizeof(y));
	ASSERT_EQ(0, mt_attach(fd, x, MEMTOPO_ATTACH_CREATE, NULL));
	ASSERT_EQ(old, swap_param(PARAM_NAMED_MAX, 0));
	EXPECT_EQ(-EUSERS, mt_attach(fd2, y, MEMTOPO_ATTACH_CREATE, NULL));
	/* refused means not made */
	EXPECT_EQ(-ENOENT, mt_attach(fd2, y, 0, NULL));
	/* an existing one is still open to its user */
	EXPECT_EQ(0, mt_attach(fd2, x, MEMTOPO_ATTACH_CREATE, NULL));
	swap_param(PARAM_NAMED_MAX, old);
	EXPECT_EQ(0, mt_attach(fd2, y, MEMTOPO_ATTACH_CREATE, NULL));
	EXPECT_EQ(0, mt_ctx_destroy(fd, x));
	EXPECT_EQ(0, mt_ctx_destroy(fd, y));
	close(fd);
	close(fd2);
}

/* A named context created with a budget of its own, below the ceiling. */
TEST(per_context_budget)
{
	struct memtopo_ctx_attach a = { .size = sizeof(a), .flags = MEMTOPO_ATTACH_CREATE };
	long ceiling = swap_param(PARAM_MEM_MAX, -1);
	struct memtopo_op op;
	int fd = mt_open();

	ASSERT_GE(fd, 0);
	if (ceiling < 0)
		SKIP(return, "cannot read memtopo.ctx_mem_max");
	r_named(a.name, sizeof(a.name));
	a.mem_max = (__u64)ceiling + 1;
	EXPECT_EQ(-1, ioctl(fd, MEMTOPO_CTX_ATTACH, &a));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-ENOENT, mt_attach(fd, a.name, 0, NULL));
	a.mem_max = 2 << 20;
	ASSERT_EQ(0, ioctl(fd, MEMTOPO_CTX_ATTACH, &a));
	EXPECT_EQ(1, a.created);
	r_create(&op, MEMTOPO_KIND_RAM, "a", 1 << 20, MEMTOPO_OP_F_KERNEL_BACKING);
	EXPECT_GT(r_do(fd, &op), 0);
	r_create(&op, MEMTOPO_KIND_RAM, "b", 1 << 20, MEMTOPO_OP_F_KERNEL_BACKING);
	EXPECT_EQ(-ENOSPC, r_do(fd, &op));
	r_create(&op, MEMTOPO_KIND_RAM, "c", 512 << 10, MEMTOPO_OP_F_KERNEL_BACKING);
	EXPECT_GT(r_do(fd, &op), 0);
	EXPECT_EQ(0, mt_ctx_destroy(fd, a.name));
	close(fd);
}

/*
 * A hugetlbfs file of @nr huge pages, unlinked, on the first hugetlbfs
 * mount or on one made for the test, with @nr more huge pages of its size
 * in the pool than it had.  @hps is 0 if the kernel has no hugetlbfs.
 */
struct huge {
	int fd;
	__u64 hps;
	long old_nr;
	char nr_path[96];
	char free_path[96];
	char dir[PATH_MAX];
	int mounted;
};

static int h_setup(struct huge *h, unsigned int nr)
{
	char *t = read_file("/proc/filesystems"), path[PATH_MAX + 16];
	struct mntent *me;
	struct statfs st;
	FILE *f;
	int i;

	memset(h, 0, sizeof(*h));
	h->fd = -1;
	h->old_nr = -1;
	if (!t || !strstr(t, "\thugetlbfs\n"))
		return 0;
	f = setmntent("/proc/mounts", "r");
	while (f && (me = getmntent(f))) {
		if (!strcmp(me->mnt_type, "hugetlbfs")) {
			snprintf(h->dir, sizeof(h->dir), "%s", me->mnt_dir);
			break;
		}
	}
	if (f)
		endmntent(f);
	if (!h->dir[0]) {
		snprintf(h->dir, sizeof(h->dir), "/tmp/memtopo-huge-XXXXXX");
		if (!mkdtemp(h->dir))
			return -1;
		if (mount("none", h->dir, "hugetlbfs", 0, NULL)) {
			rmdir(h->dir);
			h->dir[0] = '\0';
			return -1;
		}
		h->mounted = 1;
	}
	/* the mount's block size is its huge page size */
	if (statfs(h->dir, &st))
		return -1;
	h->hps = st.f_bsize;
	snprintf(h->nr_path, sizeof(h->nr_path),
		 "/sys/kernel/mm/hugepages/hugepages-%llukB/nr_hugepages", h->hps >> 10);
	snprintf(h->free_path, sizeof(h->free_path),
		 "/sys/kernel/mm/hugepages/hugepages-%llukB/free_hugepages", h->hps >> 10);
	snprintf(path, sizeof(path),
		 "/sys/kernel/mm/hugepages/hugepages-%llukB/surplus_hugepages", h->hps >> 10);
	/*
	 * An earlier test's file may still hold a page its teardown made
	 * surplus (its backing is put from a work item).  Counted into the
	 * pool here, that page would come back as free in the middle of
	 * this test and upset its free-page figures: wait until it is gone.
	 */
	for (i = 0; i < 500; i++) {
		t = read_file(path);
		if (!t || !atol(t))
			break;
		usleep(10000);
	}
	t = read_file(h->nr_path);
	if (!t)
		return -1;
	h->old_nr = atol(t);
	/* the VM keeps no pool: make one for this test */
	if (write_long(h->nr_path, h->old_nr + nr))
		return -1;
	t = read_file(h->nr_path);
	if (!t || atol(t) != h->old_nr + nr)
		return -1;
	snprintf(path, sizeof(path), "%s/memtopo-ram-%d", h->dir, getpid());
	h->fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (h->fd < 0)
		return -1;
	unlink(path);
	return ftruncate(h->fd, nr * h->hps) ? -1 : 0;
}

/* Free huge pages of the file's size in the pool. */
static long h_free(struct huge *h)
{
	char *t = read_file(h->free_path);

	return t ? atol(t) : -1;
}

static void h_teardown(struct huge *h)
{
	if (h->fd >= 0)
		close(h->fd);
	if (h->mounted) {
		umount(h->dir);
		rmdir(h->dir);
	}
	if (h->old_nr >= 0)
		write_long(h->nr_path, h->old_nr);
}

/*
 * RAM in a hugetlbfs file, four base pages across the boundary of its two
 * huge pages.  Process A writes the first huge page through its mapping,
 * process B reads it with SPACE_RW (the second, a hole, reads as zeros)
 * and writes across the boundary, which fills the hole; A sees the write
 * in its mapping and the dirty log shows the pages written.
 */
TEST_F(ram, hugetlbfs_both_ways)
{
	__u64 bits = 0, off;
	struct huge h;
	int id, status;
	char *map;
	pid_t pid;

	ASSERT_EQ(0, h_setup(&h, 2));
	if (!h.hps)
		SKIP(return, "the kernel has no hugetlbfs");
	map = mmap(NULL, 2 * h.hps, PROT_READ | PROT_WRITE, MAP_SHARED, h.fd, 0);
	ASSERT_NE(MAP_FAILED, map);
	off = h.hps - 2 * PG;
	id = r_file(self->fd, MEMTOPO_KIND_RAM, h.fd, off, 4 * PG, NULL);
	ASSERT_GT(id, 0);
	ASSERT_EQ(0, mt_add_subregion(self->fd, self->root, id, 0x100000, 0));
	ASSERT_EQ(0, mt_region_set(self->fd, MEMTOPO_OP_SET_DIRTY_LOG, id, 0, 0, 1));

	/* only the first huge page is faulted in */
	memcpy(map + h.hps - 8, "huge A", 7);
	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		char buf[16], zero[8] = {};
		int b = mt_open();

		if (b < 0 || mt_attach(b, self->name, 0, NULL))
			_exit(10);
		if (r_rw(b, self->space, 0x100000 + 2 * PG - 8, buf, 16, 0))
			_exit(11);
		if (memcmp(buf, "huge A", 7) || memcmp(buf + 8, zero, 8))
			_exit(12);
		/* the write crosses into the hole */
		if (r_rw(b, self->space, 0x100000 + 2 * PG - 3, "huge B", 7, 1))
			_exit(13);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status));
	EXPECT_EQ(0, memcmp(map + h.hps - 3, "huge B", 7));
	EXPECT_EQ(0, memcmp(map + h.hps - 8, "huge", 4));
	ASSERT_EQ(0, ioctl(self->fd, MEMTOPO_DIRTY_LOG, &(struct memtopo_dirty_log){
		.size = sizeof(struct memtopo_dirty_log), .op = MEMTOPO_DIRTY_GET,
		.region = id, .num_pages = 4, .bitmap = (uintptr_t)&bits }));
	EXPECT_EQ(6, bits);
	munmap(map, 2 * h.hps);
	h_teardown(&h);
}

/*
 * A write-sealed hugetlbfs memfd: SPACE_RW reads it and refuses to write
 * with EPERM, as its mmap would, and nothing changes.
 */
TEST_F(ram, hugetlbfs_sealed)
{
	char buf[4] = {};
	struct huge h;
	int mfd, id;
	char *map;

	ASSERT_EQ(0, h_setup(&h, 1));
	if (!h.hps)
		SKIP(return, "the kernel has no hugetlbfs");
	mfd = memfd_create("sealed", MFD_CLOEXEC | MFD_HUGETLB | MFD_ALLOW_SEALING);
	ASSERT_GE(mfd, 0);
	ASSERT_EQ(0, ftruncate(mfd, h.hps));
	map = mmap(NULL, h.hps, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
	ASSERT_NE(MAP_FAILED, map);
	memcpy(map + PG, "seal", 4);
	ASSERT_EQ(0, munmap(map, h.hps));
	id = r_file(self->fd, MEMTOPO_KIND_RAM, mfd, 0, 2 * PG, NULL);
	ASSERT_GT(id, 0);
	ASSERT_EQ(0, mt_add_subregion(self->fd, self->root, id, 0x100000, 0));
	ASSERT_EQ(0, fcntl(mfd, F_ADD_SEALS, F_SEAL_WRITE));
	EXPECT_EQ(-EPERM, r_rw(self->fd, self->space, 0x100000 + PG, "xxxx", 4, 1));
	ASSERT_EQ(0, r_rw(self->fd, self->space, 0x100000 + PG, buf, 4, 0));
	EXPECT_EQ(0, memcmp(buf, "seal", 4));
	close(mfd);
	h_teardown(&h);
}

/*
 * The vhost-like consumer serves a request whose ring and buffers are in
 * a hugetlbfs file.  It fails any access that memtopo_space_map() bounces,
 * so a served request shows the map of the huge pages was direct.  The
 * output buffer is in the second huge page, a hole until the consumer's
 * kernel thread maps it for writing, which allocates it from the pool;
 * the output is in this process's mapping and in the dirty log.
 */
TEST_F(ram, hugetlbfs_vhost)
{
	struct memtopo_vhost_attach a = { .size = sizeof(a) };
	struct memtopo_vhost_stats st = { .size = sizeof(st) };
	enum { DESC = 0x1000, AVAIL = 0x2000, USED = 0x3000, IN = 0x10000, LEN = 100 };
	struct memtopo_vhost_desc *d;
	struct memtopo_vhost_used_elem *used;
	struct memtopo_vhost_out_hdr hdr;
	struct pollfd p = { .events = POLLIN };
	__u64 *bits, n, out, pages;
	long free_before;
	__u32 sum = 0, k;
	int vfd, id, i;
	struct huge h;
	__u8 *mem;

	vfd = open("/dev/memtopo_vhost", O_RDWR);
	if (vfd < 0)
		SKIP(return, "memtopo_vhost.ko is not loaded");
	ASSERT_EQ(0, h_setup(&h, 2));
	if (!h.hps)
		SKIP(return, "the kernel has no hugetlbfs");
	out = h.hps + PG;
	pages = 2 * h.hps / PG;
	mem = mmap(NULL, 2 * h.hps, PROT_READ | PROT_WRITE, MAP_SHARED, h.fd, 0);
	ASSERT_NE(MAP_FAILED, mem);
	id = r_file(self->fd, MEMTOPO_KIND_RAM, h.fd, 0, 2 * h.hps, NULL);
	ASSERT_GT(id, 0);
	ASSERT_EQ(0, mt_add_subregion(self->fd, self->root, id, 0, 0));
	ASSERT_EQ(0, mt_region_set(self->fd, MEMTOPO_OP_SET_DIRTY_LOG, id, 0, 0, 1));

	d = (struct memtopo_vhost_desc *)(mem + DESC);
	d[0].addr = IN;
	d[0].len = LEN;
	d[0].flags = MEMTOPO_VHOST_DESC_F_NEXT;
	d[0].next = 1;
	d[1].addr = out;
	d[1].len = PG;
	d[1].flags = MEMTOPO_VHOST_DESC_F_WRITE;
	for (k = 0; k < LEN; k++) {
		mem[IN + k] = k * 3 + 1;
		sum += mem[IN + k];
	}
	((__u16 *)(mem + AVAIL))[2] = 0;
	__atomic_store_n((__u16 *)(mem + AVAIL) + 1, 1, __ATOMIC_RELEASE);

	p.fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	ASSERT_GE(p.fd, 0);
	a.memtopo_fd = self->fd;
	a.space = self->space;
	a.call_fd = p.fd;
	a.num = 2;
	a.desc_addr = DESC;
	a.avail_addr = AVAIL;
	a.used_addr = USED;
	free_before = h_free(&h);
	ASSERT_EQ(0, ioctl(vfd, MEMTOPO_VHOST_ATTACH, &a));
	ASSERT_EQ(0, ioctl(vfd, MEMTOPO_VHOST_KICK));
	for (i = 0; i < 100 && __atomic_load_n((__u16 *)(mem + USED) + 1, __ATOMIC_ACQUIRE) != 1;
	     i++) {
		if (poll(&p, 1, 100) > 0)
			ASSERT_EQ(sizeof(n), read(p.fd, &n, sizeof(n)));
	}
	used = (struct memtopo_vhost_used_elem *)(mem + USED + 4);
	ASSERT_EQ(1, *((__u16 *)(mem + USED) + 1));
	EXPECT_EQ(0, used[0].id);
	ASSERT_EQ(LEN + 8, used[0].len);
	/* the consumer took the second huge page from the pool */
	EXPECT_EQ(free_before - 1, h_free(&h));
	memcpy(&hdr, mem + out, sizeof(hdr));
	EXPECT_EQ(LEN, hdr.len);
	EXPECT_EQ(sum, hdr.sum);
	for (k = 0; k < LEN; k++)
		ASSERT_EQ((__u8)((k * 3 + 1) ^ MEMTOPO_VHOST_XOR), mem[out + 8 + k]);
	ASSERT_EQ(0, ioctl(vfd, MEMTOPO_VHOST_STATS, &st));
	EXPECT_EQ(0, st.flags);
	EXPECT_EQ(1, st.done);
	EXPECT_EQ(0, st.failed);
	EXPECT_EQ(0, st.ring_errors);
	/* what the consumer wrote: the output page and the used ring's */
	bits = calloc(pages / 64, sizeof(*bits));
	ASSERT_NE(NULL, bits);
	ASSERT_EQ(0, ioctl(self->fd, MEMTOPO_DIRTY_LOG, &(struct memtopo_dirty_log){
		.size = sizeof(struct memtopo_dirty_log), .op = MEMTOPO_DIRTY_GET,
		.region = id, .num_pages = pages, .bitmap = (uintptr_t)bits }));
	for (n = 0; n < pages; n++)
		EXPECT_EQ(n == USED / PG || n == out / PG, (bits[n / 64] >> (n % 64)) & 1)
			TH_LOG("page %llu", (unsigned long long)n);
	free(bits);
	close(vfd);
	close(p.fd);
	munmap(mem, 2 * h.hps);
	h_teardown(&h);
}

TEST_HARNESS_MAIN
