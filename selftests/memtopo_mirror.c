// SPDX-License-Identifier: GPL-2.0
/*
 * The test consumer module (kmod/memtopo_mirror.c) mirrors a space's flat
 * view from region_add/region_del alone; after every one of many random
 * changes its mirror must equal MEMTOPO_GET_FLAT.  Its discard listeners
 * refuse a POPULATE asked through MEMTOPO_DISCARD, which must then change
 * nothing, and come and go with their ranges.  Skipped when the module is
 * not loaded (tools/memtopoctl/mirror-test loads it).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "../tools/memtopoctl/libmemtopo.c"
#include "memtopo_discard.h"
#include "memtopo_undone.h"
#include "../kmod/memtopo_mirror.h"

/* *@populated (if not NULL): what the discard listeners hold populated. */
static int mirror_get(int mfd, struct memtopo_range *r, __u32 cap, __u32 *n, __u64 *populated)
{
	struct memtopo_mirror_get g = { .size = sizeof(g), .count = cap, .ranges = (uintptr_t)r };

	if (ioctl(mfd, MEMTOPO_MIRROR_GET, &g))
		return -errno;
	*n = g.count;
	if (populated)
		*populated = g.populated;
	return 0;
}

TEST(mirror_equals_view)
{
	enum { NREG = 40, STEPS = 1500 };
	static struct memtopo_range mirror[4096];
	struct memtopo_mirror_attach a = { .size = sizeof(a) };
	struct memtopo_op ops[2 * NREG + 4];
	struct memtopo_range *flat;
	__u32 ids[NREG + 1], idx, n, m = 0, i, nops = 0;
	int fd, mfd, step, k;
	__u64 gen;

	mfd = open("/dev/memtopo_mirror", O_RDWR);
	if (mfd < 0)
		SKIP(return, "memtopo_mirror.ko is not loaded");
	fd = mt_open();
	ASSERT_LE(0, fd);
	srand(12345);

	mt_op_init(&ops[nops], MEMTOPO_OP_REGION_CREATE);
	strcpy(ops[nops].name, "root");
	ops[nops++].flags = MEMTOPO_OP_F_SIZE_2_64;
	for (k = 0; k < NREG; k++) {
		mt_op_init(&ops[nops], MEMTOPO_OP_REGION_CREATE);
		ops[nops].kind = (k % 5 == 4) ? MEMTOPO_KIND_ALIAS :
				 (k % 3 ? MEMTOPO_KIND_RAM : MEMTOPO_KIND_IO);
		if (ops[nops].kind == MEMTOPO_KIND_ALIAS) {
			ops[nops].ref = MEMTOPO_ID_BATCH_REF | 1;
			ops[nops].addr = (rand() % 16) * 0x100;
		}
		ops[nops].length = 0x100 * (1 + rand() % 64);
		sprintf(ops[nops].name, "r%d", k);
		nops++;
	}
	for (k = 0; k < NREG; k++) {
		mt_op_init(&ops[nops], MEMTOPO_OP_ADD_SUBREGION);
		ops[nops].id = MEMTOPO_ID_BATCH_REF | (k + 1);
		ops[nops].ref = MEMTOPO_ID_BATCH_REF | 0;
		ops[nops].addr = 0x100 * (rand() % 256);
		ops[nops].priority = rand() % 5 - 2;
		nops++;
	}
	mt_op_init(&ops[nops], MEMTOPO_OP_SPACE_CREATE);
	ops[nops].ref = MEMTOPO_ID_BATCH_REF | 0;
	strcpy(ops[nops++].name, "mirrored");
	ASSERT_EQ(0, mt_batch(fd, ops, nops, &idx));
	for (k = 0; k <= NREG; k++)
		ids[k] = ops[k].id;

	a.memtopo_fd = fd;
	a.space = ops[nops - 1].id;
	ASSERT_EQ(0, ioctl(mfd, MEMTOPO_MIRROR_ATTACH, &a));
	a.memtopo_fd = mfd;	/* not /dev/memtopo */
	EXPECT_EQ(-1, ioctl(mfd, MEMTOPO_MIRROR_ATTACH, &a));

	for (step = 0; step < STEPS; step++) {
		struct memtopo_op op;
		__u32 r = ids[1 + rand() % NREG];
		int what = rand() % 4;

		mt_op_init(&op, what == 0 ? MEMTOPO_OP_SET_ADDRESS :
				what == 1 ? MEMTOPO_OP_SET_PRIORITY :
				what == 2 ? MEMTOPO_OP_SET_ENABLED : MEMTOPO_OP_SET_READONLY);
		op.id = r;
		op.addr = what == 0 ? 0x100 * (rand() % 256) : 0;
		op.priority = what == 1 ? rand() % 5 - 2 : 0;
		op.value = what >= 2 ? rand() % 2 : 0;
		ASSERT_EQ(0, mt_op(fd, &op));

		ASSERT_EQ(0, mt_get_flat(fd, a.space, &flat, &n, &gen));
		ASSERT_EQ(0, mirror_get(mfd, mirror, 4096, &m, NULL));
		ASSERT_EQ(n, m) TH_LOG("step %d", step);
		for (i = 0; i < n; i++) {
			ASSERT_EQ(flat[i].start, mirror[i].start);
			ASSERT_EQ(flat[i].last, mirror[i].last);
			ASSERT_EQ(flat[i].region, mirror[i].region);
			ASSERT_EQ(flat[i].offset, mirror[i].offset);
			ASSERT_EQ(flat[i].flags, mirror[i].flags);
		}
		free(flat);
	}
	/* the mirror holds a context reference: closing /dev/memtopo first is fine */
	close(fd);
	ASSERT_EQ(0, mirror_get(mfd, mirror, 4096, &m, NULL));
	close(mfd);
}

#define G	0x1000ULL
#define EV_MASK ((1u << MEMTOPO_EVENT_REGION_ADD) | (1u << MEMTOPO_EVENT_REGION_DEL) |	\
		 (1u << MEMTOPO_EVENT_COMMIT) | (1u << MEMTOPO_EVENT_DISCARD_POPULATE) |	\
		 (1u << MEMTOPO_EVENT_DISCARD_DISCARD))

static int mirror_veto(int mfd, __u32 error, __u32 after)
{
	struct memtopo_mirror_veto v = { .size = sizeof(v), .error = error, .after = after };

	return ioctl(mfd, MEMTOPO_MIRROR_VETO, &v) ? -errno : 0;
}

/*
 * What the discard tests share: a 16 GiB RAM region managed in 1 GiB
 * blocks, blocks 2 and 3 populated (a populate of 0..7 then offers the
 * runs 0..1 and 4..7), mapped at 1 MiB under a root in a space the mirror
 * @mfd attaches to.  Return: the space, and the context's fd, the root and
 * the RAM region through the pointers.
 */
static int attach_managed_ram(struct __test_metadata *_metadata, int mfd, int *fd, int *root,
			      int *ram)
{
	struct memtopo_mirror_attach a = { .size = sizeof(a) };
	int as;

	*fd = mt_open();
	ASSERT_LE(0, *fd);
	*root = mt_region_create(*fd, MEMTOPO_KIND_CONTAINER, "system", 0,
				 MEMTOPO_OP_F_SIZE_2_64);
	ASSERT_LT(0, *root);
	*ram = mt_region_create(*fd, MEMTOPO_KIND_RAM, "vmem", 16 * G, 0);
	ASSERT_LT(0, *ram);
	ASSERT_EQ(0, dis(*fd, MEMTOPO_DISCARD_SET_MANAGER, *ram, G, 0, 0, NULL, NULL));
	ASSERT_EQ(0, dis(*fd, MEMTOPO_DISCARD_POPULATE, *ram, 0, 2 * G, 2 * G, NULL, NULL));
	ASSERT_EQ(0, mt_add_subregion(*fd, *root, *ram, 0x100000, 0));
	as = mt_space_create(*fd, "memory", *root);
	ASSERT_LT(0, as);
	a.memtopo_fd = *fd;
	a.space = as;
	ASSERT_EQ(0, ioctl(mfd, MEMTOPO_MIRROR_ATTACH, &a));
	return as;
}

/*
 * A kernel discard listener, registered from region_add as VFIO does,
 * accepts the first run of a POPULATE asked through MEMTOPO_DISCARD and
 * refuses the second.  The call fails with the listener's errno, which
 * only a listener returns, and so after its answer was written: the struct
 * must come back as it was passed, out fields included, and the state, the
 * view and the event stream must be as before, the listener having heard
 * the accepted run discarded again.  A DISCARD cannot be refused, so it has
 * no such path: with the veto armed it goes through.
 */
TEST(discard_veto)
{
	struct memtopo_discard d, before, st0, st1;
	struct memtopo_range *flat0, *flat1, r[8];
	struct memtopo_event ev[8];
	__u64 bits = ~0ULL, bits0, gen0, gen1, pop = 0;
	__u32 n0, n1, m, n, sub;
	int fd, mfd, root, ram, as;

	mfd = open("/dev/memtopo_mirror", O_RDWR);
	if (mfd < 0)
		SKIP(return, "memtopo_mirror.ko is not loaded");
	as = attach_managed_ram(_metadata, mfd, &fd, &root, &ram);
	/* registering replayed the populated blocks to the discard listener */
	ASSERT_EQ(0, mirror_get(mfd, r, 8, &m, &pop));
	ASSERT_EQ(2 * G, pop);
	/*
	 * The veto takes its count: one populate accepted, the next refused.
	 * Without that, the refusal below would come at the first run and
	 * leave no accepted run to undo.
	 */
	ASSERT_EQ(0, mirror_veto(mfd, EXDEV, 1));
	ASSERT_EQ(0, dis(fd, MEMTOPO_DISCARD_POPULATE, ram, 0, 0, 2 * G, NULL, NULL));
	ASSERT_EQ(-EXDEV, dis(fd, MEMTOPO_DISCARD_POPULATE, ram, 0, 4 * G, G, NULL, NULL));
	ASSERT_EQ(0, dis(fd, MEMTOPO_DISCARD_DISCARD, ram, 0, 0, 2 * G, NULL, NULL));
	ASSERT_EQ(0, mirror_get(mfd, r, 8, &m, &pop));
	ASSERT_EQ(2 * G, pop);
	ASSERT_EQ(0, mt_subscribe(fd, as, -1, EV_MASK, 0, &sub));

	ASSERT_EQ(0, mirror_veto(mfd, EXDEV, 1));
	ASSERT_EQ(0, dis(fd, MEMTOPO_DISCARD_GET_STATE, ram, 0, 0, 16 * G, &bits, &st0));
	bits0 = bits;
	ASSERT_EQ(0, mt_get_flat(fd, as, &flat0, &n0, &gen0));
	d = (struct memtopo_discard){
		.size = sizeof(d), .op = MEMTOPO_DISCARD_POPULATE, .region = ram,
		.granularity = 0x77, .length = 8 * G, .populated = 0x5a5a5a5a5a5a5a5aULL,
		.managed = 0xa5a5a5a5a5a5a5a5ULL,
	};
	before = d;
	EXPECT_EQ(-1, ioctl(fd, MEMTOPO_DISCARD, &d));
	EXPECT_EQ(EXDEV, errno);
	EXPECT_EQ(0, memcmp(&before, &d, sizeof(d)))
		TH_LOG("written back as granularity %#llx, populated %#llx, managed %#llx",
		       (unsigned long long)d.granularity, (unsigned long long)d.populated,
		       (unsigned long long)d.managed);
	bits = ~0ULL;
	ASSERT_EQ(0, dis(fd, MEMTOPO_DISCARD_GET_STATE, ram, 0, 0, 16 * G, &bits, &st1));
	EXPECT_EQ(0, memcmp(&st0, &st1, sizeof(st0)));
	EXPECT_EQ(bits0, bits) TH_LOG("state %#llx, was %#llx", (unsigned long long)bits,
				      (unsigned long long)bits0);
	ASSERT_EQ(0, mt_get_flat(fd, as, &flat1, &n1, &gen1));
	EXPECT_EQ(gen0, gen1);
	ASSERT_EQ(n0, n1);
	EXPECT_EQ(0, memcmp(flat0, flat1, n0 * sizeof(*flat0)));
	free(flat0);
	free(flat1);
	n = 8;
	ASSERT_EQ(0, mt_read_events(fd, sub, ev, &n, NULL));
	EXPECT_EQ(0, n) TH_LOG("a subscriber saw event %u", ev[0].type);
	ASSERT_EQ(0, mirror_get(mfd, r, 8, &m, &pop));
	EXPECT_EQ(2 * G, pop) TH_LOG("the accepted run was not discarded again");

	/* accepted, the same struct goes through and is answered */
	ASSERT_EQ(0, mirror_veto(mfd, 0, 0));
	ASSERT_EQ(0, ioctl(fd, MEMTOPO_DISCARD, &d));
	EXPECT_EQ(G, d.granularity);
	EXPECT_EQ(8 * G, d.populated);
	EXPECT_EQ(16 * G, d.managed);
	n = 8;
	ASSERT_EQ(0, mt_read_events(fd, sub, ev, &n, NULL));
	ASSERT_EQ(2, n);
	EXPECT_EQ(MEMTOPO_EVENT_DISCARD_POPULATE, ev[0].type);
	EXPECT_EQ(0x100000, ev[0].start);
	EXPECT_EQ(0x101fff, ev[0].last);
	EXPECT_EQ(0x104000, ev[1].start);
	EXPECT_EQ(0x107fff, ev[1].last);
	ASSERT_EQ(0, mirror_get(mfd, r, 8, &m, &pop));
	EXPECT_EQ(8 * G, pop);

	ASSERT_EQ(0, mirror_veto(mfd, EXDEV, 0));
	ASSERT_EQ(0, dis(fd, MEMTOPO_DISCARD_DISCARD, ram, 0, 0, 16 * G, NULL, &d));
	EXPECT_EQ(0, d.populated);
	ASSERT_EQ(0, mirror_get(mfd, r, 8, &m, &pop));
	EXPECT_EQ(0, pop);
	close(mfd);
	close(fd);
}

/*
 * The mirror's discard listeners come and go with their ranges: a range
 * that leaves the view takes its listener along (it hears its populated
 * parts discarded, then region_del unregisters it), one that comes back
 * gets a new one, replayed what is populated, and closing the mirror
 * unregisters what is left.  A manager is cleared only while no listener
 * is registered on its region, dead ones included (-EBUSY): that shows
 * none stayed behind, holding a reference on the region and a pointer
 * into the mirror.
 */
TEST(discard_listeners_follow_ranges)
{
	struct memtopo_range r[8];
	__u64 pop = 0;
	__u32 m = 0;
	int fd, mfd, root, ram;

	mfd = open("/dev/memtopo_mirror", O_RDWR);
	if (mfd < 0)
		SKIP(return, "memtopo_mirror.ko is not loaded");
	attach_managed_ram(_metadata, mfd, &fd, &root, &ram);
	ASSERT_EQ(0, mirror_get(mfd, r, 8, &m, &pop));
	ASSERT_EQ(1, m);
	ASSERT_EQ(2 * G, pop);

	ASSERT_EQ(0, mt_region_set(fd, MEMTOPO_OP_DEL_SUBREGION, ram, root, 0, 0));
	ASSERT_EQ(0, mirror_get(mfd, r, 8, &m, &pop));
	EXPECT_EQ(0, m);
	EXPECT_EQ(0, pop);
	EXPECT_EQ(0, dis(fd, MEMTOPO_DISCARD_CLEAR_MANAGER, ram, 0, 0, 0, NULL, NULL))
		TH_LOG("a discard listener stayed registered after its range left");

	ASSERT_EQ(0, dis(fd, MEMTOPO_DISCARD_SET_MANAGER, ram, G, 0, 0, NULL, NULL));
	ASSERT_EQ(0, dis(fd, MEMTOPO_DISCARD_POPULATE, ram, 0, 0, 3 * G, NULL, NULL));
	ASSERT_EQ(0, mt_add_subregion(fd, root, ram, 0x100000, 0));
	ASSERT_EQ(0, mirror_get(mfd, r, 8, &m, &pop));
	EXPECT_EQ(1, m);
	EXPECT_EQ(3 * G, pop);

	close(mfd);
	ASSERT_EQ(0, mt_region_set(fd, MEMTOPO_OP_DEL_SUBREGION, ram, root, 0, 0));
	EXPECT_EQ(0, dis(fd, MEMTOPO_DISCARD_CLEAR_MANAGER, ram, 0, 0, 0, NULL, NULL))
		TH_LOG("a discard listener stayed registered after the mirror closed");
	close(fd);
}

/*
 * MEMTOPO_MIRROR_VETO takes its struct's size exactly, no flag, and no
 * errno from ERESTARTSYS (512) on: those are the kernel's own, which a
 * vetoed DISCARD would hand to userspace.  Before ATTACH: ENOENT.
 */
TEST(veto_checks)
{
	struct memtopo_mirror_attach a = { .size = sizeof(a) };
	struct memtopo_mirror_veto v = { .size = sizeof(v) - 1 };
	int fd, mfd, root, as;

	mfd = open("/dev/memtopo_mirror", O_RDWR);
	if (mfd < 0)
		SKIP(return, "memtopo_mirror.ko is not loaded");
	EXPECT_EQ(-ENOENT, mirror_veto(mfd, EXDEV, 0));
	fd = mt_open();
	ASSERT_LE(0, fd);
	root = mt_region_create(fd, MEMTOPO_KIND_CONTAINER, "system", 0, MEMTOPO_OP_F_SIZE_2_64);
	ASSERT_LT(0, root);
	as = mt_space_create(fd, "memory", root);
	ASSERT_LT(0, as);
	a.memtopo_fd = fd;
	a.space = as;
	ASSERT_EQ(0, ioctl(mfd, MEMTOPO_MIRROR_ATTACH, &a));

	EXPECT_EQ(0, mirror_veto(mfd, EXDEV, 3));
	EXPECT_EQ(0, mirror_veto(mfd, 511, 0));
	EXPECT_EQ(-EINVAL, mirror_veto(mfd, 512, 0));
	EXPECT_EQ(-EINVAL, mirror_veto(mfd, 4095, 0));
	EXPECT_EQ(-EINVAL, mirror_veto(mfd, ~0u, 0));
	EXPECT_EQ(-1, ioctl(mfd, MEMTOPO_MIRROR_VETO, &v));
	EXPECT_EQ(EINVAL, errno);
	v.size = sizeof(v);
	v.flags = 1;
	EXPECT_EQ(-1, ioctl(mfd, MEMTOPO_MIRROR_VETO, &v));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(0, mirror_veto(mfd, 0, 0));
	close(mfd);
	close(fd);
}

/*
 * The mirror attached to a space that a transaction created, whose commit
 * then fails: the rollback frees the space under the attached mirror.  Its
 * accesses, by the space's ID and serial, are ENOENT from then on, even
 * once a newer space has the ID (through the freed space's pointer they
 * read freed memory: the debug kernel's KASAN reports it).
 */
TEST(rw_after_the_space_is_undone)
{
	struct memtopo_mirror_attach a = { .size = sizeof(a) };
	struct memtopo_mirror_rw rw = { .size = sizeof(rw), .len = 4 };
	struct undone u;
	int fd, mfd, fresh;
	__u8 buf[4];

	mfd = open("/dev/memtopo_mirror", O_RDWR);
	if (mfd < 0)
		SKIP(return, "memtopo_mirror.ko is not loaded");
	fd = mt_open();
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, undone_begin(fd, &u));
	a.memtopo_fd = fd;
	a.space = u.space;
	ASSERT_EQ(0, ioctl(mfd, MEMTOPO_MIRROR_ATTACH, &a));
	ASSERT_EQ(-ENOSPC, undone_commit(fd, u.root, u.bank));

	rw.buf = (uintptr_t)buf;
	EXPECT_EQ(-1, ioctl(mfd, MEMTOPO_MIRROR_RW, &rw));
	EXPECT_EQ(ENOENT, errno) TH_LOG("an access to an undone space: %s", strerror(errno));
	fresh = mt_space_create(fd, "fresh", u.root);
	ASSERT_EQ(u.space, fresh) TH_LOG("the undone create's ID was not given again");
	EXPECT_EQ(-1, ioctl(mfd, MEMTOPO_MIRROR_RW, &rw))
		TH_LOG("the mirror reached the space given its space's ID");
	EXPECT_EQ(ENOENT, errno);
	close(mfd);
	close(fd);
}

TEST_HARNESS_MAIN
