// SPDX-License-Identifier: GPL-2.0
/*
 * kselftests of the /dev/memtopo ioctl ABI: every ioctl, the errno
 * contract, batches being all or nothing, events in order, overflow and
 * resync, replay, isolation between files, named contexts, and unload
 * being refused while in use.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "kselftest_harness.h"
/* the same small ioctl library memtopoctl uses */
#include "../tools/memtopoctl/libmemtopo.c"

static __u32 nr_regions(int fd)
{
	struct memtopo_region_desc *d;
	__u32 n = 0;

	if (mt_get_regions(fd, &d, &n))
		return UINT32_MAX;
	free(d);
	return n;
}

FIXTURE(dev) {
	int fd;
	int root, ram, as;
};

FIXTURE_SETUP(dev)
{
	self->fd = mt_open();
	ASSERT_LE(0, self->fd) TH_LOG("open /dev/memtopo: %s", strerror(-self->fd));
	self->root = mt_region_create(self->fd, MEMTOPO_KIND_CONTAINER, "system", 0,
				      MEMTOPO_OP_F_SIZE_2_64);
	ASSERT_LT(0, self->root);
	self->ram = mt_region_create(self->fd, MEMTOPO_KIND_RAM, "ram", 0x10000, 0);
	ASSERT_LT(0, self->ram);
	ASSERT_EQ(0, mt_add_subregion(self->fd, self->root, self->ram, 0x100000, 0));
	self->as = mt_space_create(self->fd, "memory", self->root);
	ASSERT_LT(0, self->as);
}

FIXTURE_TEARDOWN(dev)
{
	close(self->fd);
}

TEST_F(dev, info_and_size_contract)
{
	struct {
		struct memtopo_info info;
		__u32 tail[4];
	} big = {};
	struct memtopo_info info = {};

	ASSERT_EQ(0, mt_info(self->fd, &info));
	EXPECT_EQ(MEMTOPO_ABI_VERSION, info.abi_version);
	EXPECT_EQ(MEMTOPO_NAME_LEN, info.max_name);

	/* short size */
	info.size = 4;
	EXPECT_EQ(-1, ioctl(self->fd, MEMTOPO_GET_INFO, &info));
	EXPECT_EQ(EINVAL, errno);
	/* longer struct, zero tail: accepted */
	big.info.size = sizeof(big);
	EXPECT_EQ(0, ioctl(self->fd, MEMTOPO_GET_INFO, &big));
	/* longer struct, non-zero tail */
	big.tail[2] = 1;
	EXPECT_EQ(-1, ioctl(self->fd, MEMTOPO_GET_INFO, &big));
	EXPECT_EQ(E2BIG, errno);
	/* unknown flags, reserved */
	memset(&info, 0, sizeof(info));
	info.size = sizeof(info);
	info.flags = 1;
	EXPECT_EQ(-1, ioctl(self->fd, MEMTOPO_GET_INFO, &info));
	EXPECT_EQ(EINVAL, errno);
	info.flags = 0;
	info.__reserved[0] = 1;
	EXPECT_EQ(-1, ioctl(self->fd, MEMTOPO_GET_INFO, &info));
	EXPECT_EQ(EINVAL, errno);
	/* bad pointer, unknown ioctl */
	EXPECT_EQ(-1, ioctl(self->fd, MEMTOPO_GET_INFO, (void *)8));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(-1, ioctl(self->fd, _IO(MEMTOPO_TYPE, 0xff), &info));
	EXPECT_EQ(ENOTTY, errno);
	EXPECT_EQ(-1, ioctl(self->fd, _IO('x', MEMTOPO_CMD_GET_INFO), &info));
	EXPECT_EQ(ENOTTY, errno);
}

TEST_F(dev, flat_view_and_lookup)
{
	struct memtopo_range *r, one;
	struct memtopo_get_flat gf = { .size = sizeof(gf), .space = self->as,
				       .range_size = sizeof(struct memtopo_range) };
	__u64 gen, gen2;
	__u32 n;

	ASSERT_EQ(0, mt_get_flat(self->fd, self->as, &r, &n, &gen));
	ASSERT_EQ(1, n);
	EXPECT_EQ(0x100000, r[0].start);
	EXPECT_EQ(0x10ffff, r[0].last);
	EXPECT_EQ(self->ram, r[0].region);
	free(r);

	/* too small a buffer: ENOSPC and the count needed */
	EXPECT_EQ(-1, ioctl(self->fd, MEMTOPO_GET_FLAT, &gf));
	EXPECT_EQ(ENOSPC, errno);
	EXPECT_EQ(1, gf.count);

	ASSERT_EQ(0, mt_lookup(self->fd, self->as, 0x100010, &one, &gen2));
	EXPECT_EQ(self->ram, one.region);
	EXPECT_EQ(gen, gen2);
	EXPECT_EQ(-ENOENT, mt_lookup(self->fd, self->as, 0x0, &one, NULL));
	EXPECT_EQ(-ENOENT, mt_lookup(self->fd, 999, 0x0, &one, NULL));

	/* moving the region changes the view and its generation */
	ASSERT_EQ(0, mt_region_set(self->fd, MEMTOPO_OP_SET_ADDRESS, self->ram, 0, 0x200000, 0));
	ASSERT_EQ(0, mt_lookup(self->fd, self->as, 0x200000, &one, &gen2));
	EXPECT_NE(gen, gen2);
}

TEST_F(dev, op_errnos_leave_state)
{
	int a = mt_region_create(self->fd, MEMTOPO_KIND_CONTAINER, "a", 0x1000, 0);
	int b = mt_region_create(self->fd, MEMTOPO_KIND_CONTAINER, "b", 0x1000, 0);
	struct memtopo_op op;
	__u64 gen, gen2;
	struct memtopo_range *r;
	__u32 n;

	ASSERT_LT(0, a);
	ASSERT_LT(0, b);
	ASSERT_EQ(0, mt_get_flat(self->fd, self->as, &r, &n, &gen));
	free(r);

	EXPECT_EQ(-ENOENT, mt_add_subregion(self->fd, 12345, a, 0, 0));
	EXPECT_EQ(-ENOENT, mt_region_set(self->fd, MEMTOPO_OP_SET_ENABLED, 12345, 0, 0, 0));
	EXPECT_EQ(0, mt_add_subregion(self->fd, a, b, 0, 0));
	EXPECT_EQ(-ELOOP, mt_add_subregion(self->fd, b, a, 0, 0));
	EXPECT_EQ(-EBUSY, mt_add_subregion(self->fd, self->root, b, 0, 0));
	EXPECT_EQ(-EBUSY, mt_region_set(self->fd, MEMTOPO_OP_REGION_DESTROY, b, 0, 0, 0));
	EXPECT_EQ(-EBUSY, mt_region_set(self->fd, MEMTOPO_OP_REGION_DESTROY, self->root, 0, 0, 0));
	EXPECT_EQ(-EOVERFLOW, mt_add_subregion(self->fd, self->root, a, UINT64_MAX - 10, 0));
	EXPECT_EQ(-EINVAL, mt_region_set(self->fd, MEMTOPO_OP_SET_ENABLED, a, 0, 0, 2));
	EXPECT_EQ(-EINVAL, mt_region_set(self->fd, MEMTOPO_OP_SET_ALIAS_OFFSET, a, 0, 0, 0));
	EXPECT_EQ(-EINVAL, mt_region_set(self->fd, 999, a, 0, 0, 0));
	mt_op_init(&op, MEMTOPO_OP_SET_ENABLED);
	op.id = a;
	op.__reserved = 1;
	EXPECT_EQ(-EINVAL, mt_op(self->fd, &op));
	mt_op_init(&op, MEMTOPO_OP_REGION_CREATE);
	op.kind = 99;
	EXPECT_EQ(-EINVAL, mt_op(self->fd, &op));
	mt_op_init(&op, MEMTOPO_OP_REGION_CREATE);
	memset(op.name, 'x', sizeof(op.name));
	EXPECT_EQ(-EINVAL, mt_op(self->fd, &op));
	mt_op_init(&op, MEMTOPO_OP_REGION_CREATE);
	op.kind = MEMTOPO_KIND_ALIAS;
	op.ref = 4242;
	EXPECT_EQ(-ENOENT, mt_op(self->fd, &op));

	/* nothing refused changed the view */
	ASSERT_EQ(0, mt_get_flat(self->fd, self->as, &r, &n, &gen2));
	free(r);
	EXPECT_EQ(gen, gen2);
	EXPECT_EQ(4, nr_regions(self->fd));
}

/*
 * The backing fields of struct memtopo_op: checked on every operation,
 * answered only to callers whose struct has them.
 */
TEST_F(dev, op_backing_fields)
{
	__u32 before = nr_regions(self->fd);
	struct {
		struct memtopo_op op;
		__u8 guard[32];
	} old;
	struct memtopo_batch batch = { .size = sizeof(batch), .count = 1, .error_index = 7 };
	struct memtopo_op op;
	int mfd;

	/* the reserved word, and a file with no file flag, on any operation */
	mt_op_init(&op, MEMTOPO_OP_SET_ENABLED);
	op.id = self->root;
	op.value = 1;
	op.__reserved2 = 1;
	EXPECT_EQ(-EINVAL, mt_op(self->fd, &op));
	mt_op_init(&op, MEMTOPO_OP_SET_ENABLED);
	op.id = self->root;
	op.value = 1;
	op.backing_fd = 1;
	EXPECT_EQ(-EINVAL, mt_op(self->fd, &op));
	mt_op_init(&op, MEMTOPO_OP_REGION_CREATE);
	op.kind = MEMTOPO_KIND_RAM;
	op.length = 0x1000;
	op.backing_fd = 1;
	EXPECT_EQ(-EINVAL, mt_op(self->fd, &op));
	/* one backing at most; none on I/O */
	mt_op_init(&op, MEMTOPO_OP_REGION_CREATE);
	op.kind = MEMTOPO_KIND_RAM;
	op.length = 0x1000;
	op.flags = MEMTOPO_OP_F_KERNEL_BACKING | MEMTOPO_OP_F_PROCESS_BACKING;
	EXPECT_EQ(-EINVAL, mt_op(self->fd, &op));
	op.flags = MEMTOPO_OP_F_PROCESS_BACKING;
	op.kind = MEMTOPO_KIND_IO;
	op.value = 0x10000;
	EXPECT_EQ(-EINVAL, mt_op(self->fd, &op));
	EXPECT_EQ(before, nr_regions(self->fd));

	/* the out fields: written for a create, as the backing says */
	mt_op_init(&op, MEMTOPO_OP_REGION_CREATE);
	op.kind = MEMTOPO_KIND_RAM;
	op.length = 0x1000;
	op.flags = MEMTOPO_OP_F_KERNEL_BACKING;
	op.backing_id = 77;
	ASSERT_EQ(0, mt_op(self->fd, &op));
	EXPECT_NE(0, op.backing_offset);
	EXPECT_NE(77, op.backing_id);
	EXPECT_NE(0, op.backing_id);
	mt_op_init(&op, MEMTOPO_OP_REGION_CREATE);
	op.kind = MEMTOPO_KIND_RAM;
	op.length = 0x1000;
	op.value = 0x7000;
	op.backing_offset = 5;
	op.backing_id = 77;
	ASSERT_EQ(0, mt_op(self->fd, &op));
	EXPECT_EQ(0, op.backing_offset);
	EXPECT_EQ(0, op.backing_id);

	/* a caller from before the backing fields: nothing written past its size */
	memset(&old, 0xa5, sizeof(old));
	mt_op_init(&old.op, MEMTOPO_OP_REGION_CREATE);
	old.op.size = offsetof(struct memtopo_op, backing_fd);
	old.op.kind = MEMTOPO_KIND_RAM;
	old.op.length = 0x1000;
	old.op.flags = MEMTOPO_OP_F_KERNEL_BACKING;
	memset(&old.op.backing_fd, 0xa5, sizeof(old.op) - offsetof(struct memtopo_op, backing_fd));
	ASSERT_EQ(0, mt_op(self->fd, &old.op));
	EXPECT_LT(0, old.op.id);
	EXPECT_EQ(0xa5a5a5a5a5a5a5a5ULL, old.op.backing_id);
	EXPECT_EQ(0xa5, old.guard[0]);
	EXPECT_EQ(before + 3, nr_regions(self->fd));

	/*
	 * Nor can it ask for a file: the kernel's zero fill of @backing_fd
	 * is not fd 0.  Make fd 0 a file that would do, alone and in a batch.
	 */
	mfd = memfd_create("stdin-ram", 0);
	ASSERT_LE(0, mfd);
	ASSERT_EQ(0, ftruncate(mfd, 0x1000));
	ASSERT_EQ(0, dup2(mfd, 0));
	mt_op_init(&old.op, MEMTOPO_OP_REGION_CREATE);
	old.op.size = offsetof(struct memtopo_op, backing_fd);
	old.op.kind = MEMTOPO_KIND_RAM;
	old.op.length = 0x1000;
	old.op.flags = MEMTOPO_OP_F_FILE_BACKING;
	EXPECT_EQ(-EINVAL, mt_op(self->fd, &old.op));
	/* nor one that holds @backing_fd but stops before @backing_offset */
	old.op.size = offsetof(struct memtopo_op, backing_offset);
	EXPECT_EQ(-EINVAL, mt_op(self->fd, &old.op));
	old.op.size = offsetof(struct memtopo_op, backing_fd);
	batch.ops = (uintptr_t)&old.op;
	batch.op_size = old.op.size;
	EXPECT_EQ(-1, ioctl(self->fd, MEMTOPO_BATCH, &batch));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(0, batch.error_index);
	/* the same file named in full is accepted: fd 0 would have done */
	old.op.size = sizeof(old.op);
	EXPECT_EQ(0, mt_op(self->fd, &old.op));
	EXPECT_EQ(before + 4, nr_regions(self->fd));
	close(mfd);
}

TEST_F(dev, batch_all_or_nothing)
{
	struct memtopo_op ops[5];
	__u32 idx, n;
	__u64 gen, gen2;
	struct memtopo_range *r;
	char *before, *after;

	ASSERT_EQ(0, mt_mtree(self->fd, 0, &before));
	ASSERT_EQ(0, mt_get_flat(self->fd, self->as, &r, &n, &gen));
	free(r);

	mt_op_init(&ops[0], MEMTOPO_OP_REGION_CREATE);
	ops[0].kind = MEMTOPO_KIND_IO;
	strcpy(ops[0].name, "dev");
	ops[0].length = 0x1000;
	mt_op_init(&ops[1], MEMTOPO_OP_ADD_SUBREGION);
	ops[1].id = MEMTOPO_ID_BATCH_REF | 0;
	ops[1].ref = self->root;
	ops[1].addr = 0x100800;
	ops[1].priority = 1;
	mt_op_init(&ops[2], MEMTOPO_OP_SET_ADDRESS);	/* moves ram: undone later */
	ops[2].id = self->ram;
	ops[2].addr = 0x300000;
	mt_op_init(&ops[3], MEMTOPO_OP_SET_ENABLED);
	ops[3].id = self->root;
	ops[3].value = 0;
	mt_op_init(&ops[4], MEMTOPO_OP_ADD_SUBREGION);	/* fails: ram has a parent */
	ops[4].id = self->ram;
	ops[4].ref = MEMTOPO_ID_BATCH_REF | 0;

	EXPECT_EQ(-EBUSY, mt_batch(self->fd, ops, 5, &idx));
	EXPECT_EQ(4, idx);
	ASSERT_EQ(0, mt_mtree(self->fd, 0, &after));
	EXPECT_STREQ(before, after);
	free(after);
	ASSERT_EQ(0, mt_get_flat(self->fd, self->as, &r, &n, &gen2));
	free(r);
	EXPECT_EQ(gen, gen2);
	EXPECT_EQ(2, nr_regions(self->fd));

	/* a reference to an operation that is not a create */
	ops[4].id = MEMTOPO_ID_BATCH_REF | 2;
	EXPECT_EQ(-ENOENT, mt_batch(self->fd, ops, 5, &idx));
	EXPECT_EQ(4, idx);

	/* without the bad operation everything applies in one commit */
	EXPECT_EQ(0, mt_batch(self->fd, ops, 3, &idx));
	EXPECT_NE(0, ops[0].id);
	EXPECT_EQ(3, nr_regions(self->fd));
	ASSERT_EQ(0, mt_get_flat(self->fd, self->as, &r, &n, &gen2));
	free(r);
	EXPECT_EQ(2, n);	/* dev at 0x100800; ram moved to 0x300000 */
	EXPECT_NE(gen, gen2);

	/* destroys happen at the end: unmap + destroy in one batch */
	mt_op_init(&ops[0], MEMTOPO_OP_DEL_SUBREGION);
	ops[0].id = self->ram;
	mt_op_init(&ops[1], MEMTOPO_OP_REGION_DESTROY);
	ops[1].id = self->ram;
	mt_op_init(&ops[2], MEMTOPO_OP_SET_ENABLED);	/* destroyed: ENOENT */
	ops[2].id = self->ram;
	ops[2].value = 1;
	EXPECT_EQ(-ENOENT, mt_batch(self->fd, ops, 3, &idx));
	EXPECT_EQ(2, idx);
	EXPECT_EQ(3, nr_regions(self->fd));
	EXPECT_EQ(0, mt_batch(self->fd, ops, 2, &idx));
	EXPECT_EQ(2, nr_regions(self->fd));
	free(before);
}

TEST_F(dev, transactions)
{
	struct memtopo_range r;
	__u32 depth;

	ASSERT_EQ(0, mt_txn(self->fd, MEMTOPO_TXN_BEGIN, &depth));
	EXPECT_EQ(1, depth);
	ASSERT_EQ(0, mt_region_set(self->fd, MEMTOPO_OP_SET_ADDRESS, self->ram, 0, 0x400000, 0));
	/* not rendered before the commit */
	EXPECT_EQ(0, mt_lookup(self->fd, self->as, 0x100000, &r, NULL));
	ASSERT_EQ(0, mt_txn(self->fd, MEMTOPO_TXN_COMMIT, &depth));
	EXPECT_EQ(0, depth);
	EXPECT_EQ(0, mt_lookup(self->fd, self->as, 0x400000, &r, NULL));
	EXPECT_EQ(-EINVAL, mt_txn(self->fd, MEMTOPO_TXN_COMMIT, NULL));
	EXPECT_EQ(-EINVAL, mt_txn(self->fd, 7, NULL));
}

static __u32 read_all(int fd, __u32 id, struct memtopo_event *ev, __u32 max)
{
	__u32 got = 0, n, pending;

	do {
		n = max - got;
		if (mt_read_events(fd, id, ev + got, &n, &pending))
			return UINT32_MAX;
		got += n;
	} while (n && got < max);
	return got;
}

TEST_F(dev, events_in_order)
{
	struct memtopo_event ev[64];
	__u32 id, n, i;
	__u64 cnt, gen;
	struct memtopo_range *r;
	int efd = eventfd(0, EFD_NONBLOCK);
	int dev2;

	ASSERT_LE(0, efd);
	ASSERT_EQ(0, mt_subscribe(self->fd, self->as, efd, 0, 0, &id));
	/* no replay asked: nothing queued, nothing signalled */
	EXPECT_EQ(0, read_all(self->fd, id, ev, 64));
	EXPECT_EQ(-1, read(efd, &cnt, sizeof(cnt)));

	ASSERT_EQ(0, mt_region_set(self->fd, MEMTOPO_OP_SET_ADDRESS, self->ram, 0, 0x200000, 0));
	dev2 = mt_region_create(self->fd, MEMTOPO_KIND_IO, "dev", 0x1000, 0);
	ASSERT_EQ(0, mt_add_subregion(self->fd, self->root, dev2, 0x0, 0));
	ASSERT_EQ(sizeof(cnt), read(efd, &cnt, sizeof(cnt)));
	EXPECT_EQ(2, cnt);	/* two commits changed the space */

	n = read_all(self->fd, id, ev, 64);
	ASSERT_EQ(5, n);
	for (i = 0; i < n; i++)
		EXPECT_EQ(i + 1, ev[i].seq);
	EXPECT_EQ(MEMTOPO_EVENT_REGION_DEL, ev[0].type);
	EXPECT_EQ(0x100000, ev[0].start);
	EXPECT_EQ(MEMTOPO_EVENT_REGION_ADD, ev[1].type);
	EXPECT_EQ(0x200000, ev[1].start);
	EXPECT_EQ(MEMTOPO_EVENT_COMMIT, ev[2].type);
	EXPECT_EQ(ev[0].generation, ev[1].generation);
	EXPECT_EQ(MEMTOPO_EVENT_REGION_ADD, ev[3].type);
	EXPECT_EQ(dev2, ev[3].region);
	EXPECT_EQ(MEMTOPO_EVENT_COMMIT, ev[4].type);
	EXPECT_LT(ev[2].generation, ev[4].generation);
	ASSERT_EQ(0, mt_get_flat(self->fd, self->as, &r, &n, &gen));
	free(r);
	EXPECT_EQ(gen, ev[4].generation);

	/* the space cannot go while subscribed */
	EXPECT_EQ(-EBUSY, mt_region_set(self->fd, MEMTOPO_OP_SPACE_DESTROY, self->as, 0, 0, 0));
	EXPECT_EQ(0, mt_unsubscribe(self->fd, id));
	EXPECT_EQ(-ENOENT, mt_unsubscribe(self->fd, id));
	EXPECT_EQ(0, mt_region_set(self->fd, MEMTOPO_OP_SPACE_DESTROY, self->as, 0, 0, 0));
	close(efd);
}

TEST_F(dev, replay_and_subscribe_errors)
{
	struct memtopo_event ev[8];
	__u32 id;

	ASSERT_EQ(0, mt_subscribe(self->fd, self->as, -1, 0, MEMTOPO_SUBSCRIBE_REPLAY, &id));
	ASSERT_EQ(2, read_all(self->fd, id, ev, 8));
	EXPECT_EQ(MEMTOPO_EVENT_REGION_ADD, ev[0].type);
	EXPECT_EQ(self->ram, ev[0].region);
	EXPECT_EQ(MEMTOPO_EVENT_COMMIT, ev[1].type);

	EXPECT_EQ(-ENOENT, mt_subscribe(self->fd, 777, -1, 0, 0, &id));
	EXPECT_EQ(-EINVAL, mt_subscribe(self->fd, self->as, -1, 1u << 30, 0, &id));
	EXPECT_EQ(-EINVAL, mt_subscribe(self->fd, self->as, -1, 0, 1u << 5, &id));
	EXPECT_EQ(-EBADF, mt_subscribe(self->fd, self->as, 1000, 0, 0, &id));
	EXPECT_EQ(-EINVAL, mt_subscribe(self->fd, self->as, 0, 0, 0, &id));
}

TEST_F(dev, overflow_then_resync)
{
	static struct memtopo_event ev[8192];
	struct memtopo_info info;
	struct memtopo_op *ops;
	struct memtopo_range *r;
	__u32 id, n, i, nops = 0, idx;
	__u64 gen;
	int k;

	ASSERT_EQ(0, mt_info(self->fd, &info));
	ASSERT_EQ(0, mt_subscribe(self->fd, self->as, -1, 0, 0, &id));
	/* one batch maps more separate ranges than the queue holds */
	ops = calloc(2 * info.max_events + 2, sizeof(*ops));
	ASSERT_NE(NULL, ops);
	for (k = 0; k < (int)info.max_events; k++) {
		mt_op_init(&ops[nops], MEMTOPO_OP_REGION_CREATE);
		ops[nops].kind = MEMTOPO_KIND_IO;
		ops[nops].length = 0x1000;
		sprintf(ops[nops].name, "d%d", k);
		nops++;
		mt_op_init(&ops[nops], MEMTOPO_OP_ADD_SUBREGION);
		ops[nops].id = MEMTOPO_ID_BATCH_REF | (nops - 1);
		ops[nops].ref = self->root;
		ops[nops].addr = 0x10000000ull + k * 0x2000ull;
		nops++;
	}
	ASSERT_EQ(0, mt_batch(self->fd, ops, nops, &idx));
	n = read_all(self->fd, id, ev, 8192);
	ASSERT_EQ(info.max_events, n);
	for (i = 0; i < n; i++)
		ASSERT_EQ(i + 1, ev[i].seq);
	EXPECT_EQ(MEMTOPO_EVENT_OVERFLOW, ev[n - 1].type);

	/* resync: the flat view has everything, at the overflow's generation */
	ASSERT_EQ(0, mt_get_flat(self->fd, self->as, &r, &n, &gen));
	free(r);
	EXPECT_EQ(info.max_events + 1, n);
	EXPECT_EQ(gen, ev[info.max_events - 1].generation);

	/* after draining, events flow again, numbered on */
	ASSERT_EQ(0, mt_region_set(self->fd, MEMTOPO_OP_SET_ADDRESS, self->ram, 0, 0x200000, 0));
	n = read_all(self->fd, id, ev, 8192);
	ASSERT_EQ(3, n);
	EXPECT_EQ(info.max_events + 1, ev[0].seq);
	EXPECT_LT(gen, ev[0].generation);
	free(ops);
}

TEST_F(dev, files_are_isolated)
{
	int other = mt_open();
	struct memtopo_range r;

	ASSERT_LE(0, other);
	EXPECT_EQ(0, nr_regions(other));
	EXPECT_EQ(-ENOENT, mt_region_set(other, MEMTOPO_OP_SET_ENABLED, self->ram, 0, 0, 0));
	EXPECT_EQ(-ENOENT, mt_lookup(other, self->as, 0x100000, &r, NULL));
	close(other);
	EXPECT_EQ(2, nr_regions(self->fd));
}

TEST(named_contexts)
{
	struct memtopo_ctx_attach budget_alone = {
		.size = sizeof(budget_alone), .name = "kselftest", .mem_max = 1 << 20,
	};
	int a = mt_open(), b = mt_open(), c = mt_open(), created = -1;
	int root;

	ASSERT_LE(0, a);
	ASSERT_LE(0, b);
	ASSERT_LE(0, c);
	mt_ctx_destroy(a, "kselftest");
	EXPECT_EQ(-ENOENT, mt_attach(a, "kselftest", 0, NULL));
	EXPECT_EQ(-EINVAL, mt_attach(a, "", MEMTOPO_ATTACH_CREATE, NULL));
	EXPECT_EQ(-EINVAL, mt_attach(a, "a/b", MEMTOPO_ATTACH_CREATE, NULL));
	EXPECT_EQ(-EINVAL, mt_attach(a, "x", MEMTOPO_ATTACH_EXCL, NULL));
	/* a budget is for a create: alone it is refused, and nothing changes */
	EXPECT_EQ(-1, ioctl(a, MEMTOPO_CTX_ATTACH, &budget_alone));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-ENOENT, mt_attach(a, "kselftest", 0, NULL));
	ASSERT_EQ(0, mt_attach(a, "kselftest", MEMTOPO_ATTACH_CREATE, &created));
	EXPECT_EQ(1, created);
	root = mt_region_create(a, MEMTOPO_KIND_CONTAINER, "root", 0x1000, 0);
	ASSERT_LT(0, root);
	close(a);
	/* kept after its last file closed */
	EXPECT_EQ(-EEXIST, mt_attach(b, "kselftest",
				     MEMTOPO_ATTACH_CREATE | MEMTOPO_ATTACH_EXCL, NULL));
	ASSERT_EQ(0, mt_attach(b, "kselftest", MEMTOPO_ATTACH_CREATE, &created));
	EXPECT_EQ(0, created);
	EXPECT_EQ(1, nr_regions(b));
	/* the module is pinned while it exists, even with no file open */
	EXPECT_EQ(0, mt_ctx_destroy(c, "kselftest"));
	EXPECT_EQ(-ENOENT, mt_ctx_destroy(c, "kselftest"));
	/* b still works on it until it closes */
	EXPECT_EQ(1, nr_regions(b));
	close(b);
	close(c);
}

TEST(unload_refused_while_in_use)
{
	int fd = mt_open();

	ASSERT_LE(0, fd);
	EXPECT_EQ(-1, syscall(__NR_delete_module, "memtopo", O_NONBLOCK));
	EXPECT_TRUE(errno == EWOULDBLOCK || errno == EBUSY || errno == EPERM);
	close(fd);
}

TEST(mtree_text)
{
	int fd = mt_open();
	struct memtopo_op ops[8];
	__u32 idx;
	char *text;
	const char *tree =
		"address-space: memory\n"
		"  0000000000000000-ffffffffffffffff (prio 0, i/o): system\n"
		"    0000000000000000-0000000000000fff (prio 0, ram): ram\n"
		"    0000000000001000-0000000000001fff (prio 1, ram): alias bios-alias @ram 0000000000000000-0000000000000fff\n"
		"\n"
		"memory-region: ram\n"
		"  0000000000000000-0000000000000fff (prio 0, ram): ram\n"
		"\n";
	const char *flat =
		"FlatView #0\n"
		" AS \"memory\", root: system\n"
		" Root memory region: system\n"
		"  0000000000000000-0000000000000fff (prio 0, ram): ram\n"
		"  0000000000001000-0000000000001fff (prio 0, rom): ram\n"
		"\n";

	ASSERT_LE(0, fd);
	mt_op_init(&ops[0], MEMTOPO_OP_REGION_CREATE);
	strcpy(ops[0].name, "system");
	ops[0].flags = MEMTOPO_OP_F_SIZE_2_64;
	mt_op_init(&ops[1], MEMTOPO_OP_REGION_CREATE);
	ops[1].kind = MEMTOPO_KIND_RAM;
	strcpy(ops[1].name, "ram");
	ops[1].length = 0x1000;
	mt_op_init(&ops[2], MEMTOPO_OP_REGION_CREATE);
	ops[2].kind = MEMTOPO_KIND_ALIAS;
	strcpy(ops[2].name, "bios-alias");
	ops[2].ref = MEMTOPO_ID_BATCH_REF | 1;
	ops[2].length = 0x1000;
	mt_op_init(&ops[3], MEMTOPO_OP_SET_READONLY);
	ops[3].id = MEMTOPO_ID_BATCH_REF | 2;
	ops[3].value = 1;
	mt_op_init(&ops[4], MEMTOPO_OP_ADD_SUBREGION);
	ops[4].id = MEMTOPO_ID_BATCH_REF | 1;
	ops[4].ref = MEMTOPO_ID_BATCH_REF | 0;
	mt_op_init(&ops[5], MEMTOPO_OP_ADD_SUBREGION);
	ops[5].id = MEMTOPO_ID_BATCH_REF | 2;
	ops[5].ref = MEMTOPO_ID_BATCH_REF | 0;
	ops[5].addr = 0x1000;
	ops[5].priority = 1;
	mt_op_init(&ops[6], MEMTOPO_OP_SPACE_CREATE);
	ops[6].ref = MEMTOPO_ID_BATCH_REF | 0;
	strcpy(ops[6].name, "memory");
	ASSERT_EQ(0, mt_batch(fd, ops, 7, &idx));
	ASSERT_EQ(0, mt_mtree(fd, 0, &text));
	EXPECT_STREQ(tree, text);
	free(text);
	ASSERT_EQ(0, mt_mtree(fd, MEMTOPO_MTREE_FLAT, &text));
	EXPECT_STREQ(flat, text);
	free(text);
	close(fd);
}

/*
 * An alias holding subregions, as q35 with intel-iommu builds it (the
 * alias vtd-nodmar holds the alias vtd-ir): accepted through the ioctls,
 * printed under the alias (with -D its disabled ones too), never
 * rendered.
 */
TEST(mtree_alias_subregion)
{
	int fd = mt_open();
	struct memtopo_op ops[16];
	__u32 idx;
	char *text;
	/* %s: where -D prints the disabled subregion */
	const char *tree =
		"address-space: memory\n"
		"  0000000000000000-ffffffffffffffff (prio 0, i/o): system\n"
		"    0000000000000000-0000000000000fff (prio 0, ram): ram\n"
		"\n"
		"address-space: dma\n"
		"  0000000000000000-ffffffffffffffff (prio 0, i/o): dmaroot\n"
		"    0000000000000000-ffffffffffffffff (prio 0, i/o): alias nodmar @system 0000000000000000-ffffffffffffffff\n"
		"%s      00000000fee00000-00000000feefffff (prio 1, i/o): alias ir @irmem 0000000000000000-00000000000fffff\n"
		"\n"
		"memory-region: system\n"
		"  0000000000000000-ffffffffffffffff (prio 0, i/o): system\n"
		"    0000000000000000-0000000000000fff (prio 0, ram): ram\n"
		"\n"
		"memory-region: irmem\n"
		"  0000000000000000-00000000000fffff (prio 0, i/o): irmem\n"
		"\n";
	const char *flat =
		"FlatView #0\n"
		" AS \"memory\", root: system\n"
		" AS \"dma\", root: dmaroot\n"
		/* system's only child covers it from 0: QEMU renders from there */
		" Root memory region: ram\n"
		"  0000000000000000-0000000000000fff (prio 0, ram): ram\n"
		"\n";
	char want[2048];
	int i;

	ASSERT_LE(0, fd);
	for (i = 0; i < 14; i++)
		mt_op_init(&ops[i], i < 6 || i == 11 ? MEMTOPO_OP_REGION_CREATE :
				    i < 9 || i == 12 ? MEMTOPO_OP_ADD_SUBREGION :
				    i < 11 ? MEMTOPO_OP_SPACE_CREATE : MEMTOPO_OP_SET_ENABLED);
	strcpy(ops[0].name, "system");
	ops[0].flags = MEMTOPO_OP_F_SIZE_2_64;
	ops[1].kind = MEMTOPO_KIND_RAM;
	strcpy(ops[1].name, "ram");
	ops[1].length = 0x1000;
	ops[2].kind = MEMTOPO_KIND_IO;
	strcpy(ops[2].name, "irmem");
	ops[2].length = 0x100000;
	strcpy(ops[3].name, "dmaroot");
	ops[3].flags = MEMTOPO_OP_F_SIZE_2_64;
	ops[4].kind = MEMTOPO_KIND_ALIAS;
	strcpy(ops[4].name, "nodmar");
	ops[4].ref = MEMTOPO_ID_BATCH_REF | 0;
	ops[4].flags = MEMTOPO_OP_F_SIZE_2_64;
	ops[5].kind = MEMTOPO_KIND_ALIAS;
	strcpy(ops[5].name, "ir");
	ops[5].ref = MEMTOPO_ID_BATCH_REF | 2;
	ops[5].length = 0x100000;
	ops[6].id = MEMTOPO_ID_BATCH_REF | 1;
	ops[6].ref = MEMTOPO_ID_BATCH_REF | 0;
	ops[7].id = MEMTOPO_ID_BATCH_REF | 4;
	ops[7].ref = MEMTOPO_ID_BATCH_REF | 3;
	/* over the target's RAM window, at a higher priority: still hidden */
	ops[8].id = MEMTOPO_ID_BATCH_REF | 5;
	ops[8].ref = MEMTOPO_ID_BATCH_REF | 4;
	ops[8].addr = 0xfee00000;
	ops[8].priority = 1;
	ops[9].ref = MEMTOPO_ID_BATCH_REF | 0;
	strcpy(ops[9].name, "memory");
	ops[10].ref = MEMTOPO_ID_BATCH_REF | 3;
	strcpy(ops[10].name, "dma");
	strcpy(ops[11].name, "hidden");
	ops[11].length = 0x1000;
	ops[12].id = MEMTOPO_ID_BATCH_REF | 11;
	ops[12].ref = MEMTOPO_ID_BATCH_REF | 4;
	ops[12].addr = 0x2000;
	ops[13].id = MEMTOPO_ID_BATCH_REF | 11;
	ops[13].value = 0;
	ASSERT_EQ(0, mt_batch(fd, ops, 14, &idx));

	snprintf(want, sizeof(want), tree, "");
	ASSERT_EQ(0, mt_mtree(fd, 0, &text));
	EXPECT_STREQ(want, text);
	free(text);
	snprintf(want, sizeof(want), tree,
		 "      0000000000002000-0000000000002fff (prio 0, i/o): hidden [disabled]\n");
	ASSERT_EQ(0, mt_mtree(fd, MEMTOPO_MTREE_DISABLED, &text));
	EXPECT_STREQ(want, text);
	free(text);
	ASSERT_EQ(0, mt_mtree(fd, MEMTOPO_MTREE_FLAT, &text));
	EXPECT_STREQ(flat, text);
	free(text);

	close(fd);
}

TEST_HARNESS_MAIN
