// SPDX-License-Identifier: GPL-2.0
/*
 * The per-context memory budget: MEMTOPO_BUDGET reads and sets it on an
 * anonymous context, and each thing charged to it (regions, kernel-owned
 * RAM, published views, event rings) is refused once it
 * would pass it, with the map, the region list and the bytes charged
 * exactly as before.  Views kept for resync by difference give way to
 * any charge that fits without them, and only then.  Pages a kernel
 * mapping pins are tested by KUnit (kmod/tests/map_test.c).  The undo
 * log, discard bitmaps and IOMMU tables are charged too: each reaches the
 * budget alone, is refused with ENOSPC and nothing half-made, and gives
 * every byte back when it goes.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "../tools/memtopoctl/libmemtopo.c"
#include "memtopo_undone.h"

#define BANK		400
#define BANK_BASE	0x10000000ULL

static __u64 b_used(int fd)
{
	struct memtopo_budget b = { 0 };

	if (mt_budget(fd, 0, 0, &b))
		return ~0ULL;
	return b.mem_used;
}

/*
 * The use without the views a space keeps for resync by difference: they
 * are charged too, and a region's destruction drops them (kmod/history.c).
 */
static __u64 b_used_published(int fd)
{
	int id = mt_region_create(fd, MEMTOPO_KIND_IO, "flush", 0x1000, 0);

	if (id <= 0 || mt_region_destroy(fd, id))
		return ~0ULL;
	return b_used(fd);
}

/* What a refused call must leave exactly as it was. */
struct b_state {
	struct memtopo_range *flat;
	__u32 nr_flat;
	__u64 generation;
	struct memtopo_region_desc *regions;
	__u32 nr_regions;
	__u64 used;
};

static int b_snap(int fd, __u32 space, struct b_state *s)
{
	if (mt_get_flat(fd, space, &s->flat, &s->nr_flat, &s->generation))
		return -1;
	if (mt_get_regions(fd, &s->regions, &s->nr_regions))
		return -1;
	s->used = b_used(fd);
	return 0;
}

static int b_same(const struct b_state *a, const struct b_state *b)
{
	return a->nr_flat == b->nr_flat && a->generation == b->generation &&
	       !memcmp(a->flat, b->flat, a->nr_flat * sizeof(*a->flat)) &&
	       a->nr_regions == b->nr_regions &&
	       !memcmp(a->regions, b->regions, a->nr_regions * sizeof(*a->regions)) &&
	       a->used == b->used;
}

static void b_free(struct b_state *s)
{
	free(s->flat);
	free(s->regions);
	memset(s, 0, sizeof(*s));
}

FIXTURE(budget) {
	int fd;
	int root;
	int space;
	int bank;
	int kids[BANK];
};

/* A space on an empty root, and a bank of BANK I/O regions not mapped yet. */
FIXTURE_SETUP(budget)
{
	self->fd = mt_open();
	ASSERT_LE(0, self->fd);
	self->root = mt_region_create(self->fd, MEMTOPO_KIND_CONTAINER, "system", 0,
				      MEMTOPO_OP_F_SIZE_2_64);
	ASSERT_LT(0, self->root);
	self->space = mt_space_create(self->fd, "memory", self->root);
	ASSERT_LT(0, self->space);
	self->bank = undone_bank_of(self->fd, BANK, self->kids);
	ASSERT_LT(0, self->bank);
}

FIXTURE_TEARDOWN(budget)
{
	close(self->fd);
}

/* Read, set, refuse: EINVAL above the ceiling or for unknown flags, EBUSY below the use. */
TEST_F(budget, ioctl_contract)
{
	struct memtopo_budget b, c;

	ASSERT_NE(~0ULL, b_used_published(self->fd));	/* no kept views to give way */
	ASSERT_EQ(0, mt_budget(self->fd, 0, 12345, &b));
	EXPECT_LT(0, b.mem_used);
	EXPECT_EQ(b.ceiling, b.mem_max) TH_LOG("an anonymous context starts at the ceiling");
	EXPECT_LE(b.mem_used, b.mem_max);

	EXPECT_EQ(-EINVAL, mt_budget(self->fd, MEMTOPO_BUDGET_SET, b.ceiling + 1, NULL));
	EXPECT_EQ(-EINVAL, mt_budget(self->fd, 1u << 31, 0, NULL));
	EXPECT_EQ(-EBUSY, mt_budget(self->fd, MEMTOPO_BUDGET_SET, b.mem_used - 1, NULL));
	ASSERT_EQ(0, mt_budget(self->fd, 0, 0, &c));
	EXPECT_EQ(b.mem_max, c.mem_max) TH_LOG("a refused set changed the budget");

	ASSERT_EQ(0, mt_budget(self->fd, MEMTOPO_BUDGET_SET, b.mem_used + 4096, &c));
	EXPECT_EQ(b.mem_used + 4096, c.mem_max);
	ASSERT_EQ(0, mt_budget(self->fd, 0, 0, &c));
	EXPECT_EQ(b.mem_used + 4096, c.mem_max);
	/* exactly the use is allowed: nothing more fits */
	ASSERT_EQ(0, mt_budget(self->fd, MEMTOPO_BUDGET_SET, b.mem_used, NULL));
	EXPECT_EQ(-ENOSPC, mt_region_create(self->fd, MEMTOPO_KIND_IO, "x", 0x1000, 0));
	/* 0 goes back to the ceiling alone */
	ASSERT_EQ(0, mt_budget(self->fd, MEMTOPO_BUDGET_SET, 0, &c));
	EXPECT_EQ(c.ceiling, c.mem_max);
	EXPECT_LT(0, mt_region_create(self->fd, MEMTOPO_KIND_IO, "x", 0x1000, 0));
}

/* A region, or kernel-owned RAM, past the budget: ENOSPC, nothing made. */
TEST_F(budget, regions_and_kernel_ram)
{
	struct b_state s0, s1;
	int k, ret = 0;

	ASSERT_EQ(0, b_snap(self->fd, self->space, &s0));
	ASSERT_EQ(0, mt_budget(self->fd, MEMTOPO_BUDGET_SET, s0.used + (1 << 20), NULL));
	ret = mt_region_create(self->fd, MEMTOPO_KIND_RAM, "big", 2 << 20,
			       MEMTOPO_OP_F_KERNEL_BACKING);
	EXPECT_EQ(-ENOSPC, ret);
	ASSERT_EQ(0, b_snap(self->fd, self->space, &s1));
	EXPECT_TRUE(b_same(&s0, &s1));
	b_free(&s1);

	ASSERT_EQ(0, mt_budget(self->fd, MEMTOPO_BUDGET_SET, s0.used + 4096, NULL));
	for (k = 0; k < 100; k++) {
		ret = mt_region_create(self->fd, MEMTOPO_KIND_IO, "r", 0x1000, 0);
		if (ret < 0)
			break;
	}
	EXPECT_EQ(-ENOSPC, ret);
	EXPECT_LT(0, k);
	EXPECT_GE(s0.used + 4096, b_used(self->fd));
	b_free(&s0);
}

/*
 * Published views are charged: mapping the bank (BANK ranges) past the
 * budget fails in the commit, which is undone (the old view, its
 * generation and the tree stay); with room it is published and its bytes
 * show in the use, and given back when the bank leaves the map.
 */
TEST_F(budget, views)
{
	struct b_state s0, s1;
	__u64 base, mapped, unmapped;

	/*
	 * Map and unmap once so that the render's working memory, which the
	 * context keeps, has grown to what mapping the bank needs: the
	 * refusals below then come from the view alone.
	 */
	ASSERT_EQ(0, mt_add_subregion(self->fd, self->root, self->bank, BANK_BASE, 0));
	ASSERT_EQ(0, mt_region_set(self->fd, MEMTOPO_OP_DEL_SUBREGION, self->bank, self->root,
				   0, 0));
	ASSERT_NE(~0ULL, b_used_published(self->fd));	/* no kept views to give way */
	ASSERT_EQ(0, b_snap(self->fd, self->space, &s0));
	ASSERT_EQ(0, mt_budget(self->fd, MEMTOPO_BUDGET_SET, s0.used + 4096, NULL));
	EXPECT_EQ(-ENOSPC, mt_add_subregion(self->fd, self->root, self->bank, BANK_BASE, 0));
	ASSERT_EQ(0, b_snap(self->fd, self->space, &s1));
	EXPECT_TRUE(b_same(&s0, &s1)) TH_LOG("a refused commit changed something");
	b_free(&s1);

	/* the same in a transaction: the commit is refused, everything undone */
	ASSERT_EQ(0, mt_txn(self->fd, MEMTOPO_TXN_BEGIN, NULL));
	ASSERT_EQ(0, mt_region_set(self->fd, MEMTOPO_OP_SET_ENABLED, self->kids[0], 0, 0, 0));
	ASSERT_EQ(0, mt_add_subregion(self->fd, self->root, self->bank, BANK_BASE, 0));
	EXPECT_EQ(-ENOSPC, mt_txn(self->fd, MEMTOPO_TXN_COMMIT, NULL));
	ASSERT_EQ(0, b_snap(self->fd, self->space, &s1));
	EXPECT_TRUE(b_same(&s0, &s1)) TH_LOG("a refused transaction changed something");
	b_free(&s1);

	ASSERT_EQ(0, mt_budget(self->fd, MEMTOPO_BUDGET_SET, 0, NULL));
	base = b_used_published(self->fd);
	ASSERT_EQ(0, mt_add_subregion(self->fd, self->root, self->bank, BANK_BASE, 0));
	mapped = b_used_published(self->fd);
	/* each range's start alone is 8 bytes */
	EXPECT_LT(base + BANK * 8, mapped) TH_LOG("view not charged: %llu -> %llu",
						  (unsigned long long)base,
						     (unsigned long long)mapped);
	ASSERT_EQ(0, mt_region_set(self->fd, MEMTOPO_OP_DEL_SUBREGION, self->bank, self->root,
				   0, 0));
	unmapped = b_used_published(self->fd);
	EXPECT_GT(mapped - BANK * 8, unmapped);
	/* no charge is left behind by a map/unmap cycle */
	ASSERT_EQ(0, mt_add_subregion(self->fd, self->root, self->bank, BANK_BASE, 0));
	EXPECT_EQ(mapped, b_used_published(self->fd));
	ASSERT_EQ(0, mt_region_set(self->fd, MEMTOPO_OP_DEL_SUBREGION, self->bank, self->root,
				   0, 0));
	EXPECT_EQ(unmapped, b_used_published(self->fd));
	b_free(&s0);
}

/*
 * Map and unmap the bank: the space keeps the view that showed it, whose
 * chunks nothing else shares.  Return the generation it was published at,
 * or 0 on any failure.
 */
static __u64 b_keep_bank_view(int fd, int root, int bank, __u32 space)
{
	struct memtopo_range *flat;
	__u64 gen;
	__u32 n;

	if (mt_add_subregion(fd, root, bank, BANK_BASE, 0) ||
	    mt_get_flat(fd, space, &flat, &n, &gen))
		return 0;
	free(flat);
	if (n != BANK || mt_region_set(fd, MEMTOPO_OP_DEL_SUBREGION, bank, root, 0, 0))
		return 0;
	return gen;
}

/* Does the space still keep generation @gen?  Its diff deletes the bank. */
static int b_kept(int fd, __u32 space, __u64 gen)
{
	struct memtopo_event *ev;
	__u32 n;
	int ret = mt_get_flat_diff(fd, space, gen, 0, &ev, &n, NULL);

	if (ret)
		return ret;
	free(ev);
	return n == BANK ? 0 : -EPROTO;
}

/*
 * Views kept for resync by difference are a cache: a charge that fits
 * without them drops them (the resync is ESTALE after), one that does not
 * fit anyway leaves them and everything else exactly as it was.
 */
TEST_F(budget, kept_views_give_way)
{
	struct b_state s0, s1;
	__u64 gen, kept_used, published;
	int id;

	gen = b_keep_bank_view(self->fd, self->root, self->bank, self->space);
	ASSERT_NE(0, gen);
	ASSERT_EQ(0, b_kept(self->fd, self->space, gen));
	kept_used = b_used(self->fd);

	/* refused anyway: 2 MiB of kernel RAM in a budget with no room */
	ASSERT_EQ(0, b_snap(self->fd, self->space, &s0));
	ASSERT_EQ(0, mt_budget(self->fd, MEMTOPO_BUDGET_SET, s0.used, NULL));
	EXPECT_EQ(-ENOSPC, mt_region_create(self->fd, MEMTOPO_KIND_RAM, "big", 2 << 20,
					    MEMTOPO_OP_F_KERNEL_BACKING));
	ASSERT_EQ(0, b_snap(self->fd, self->space, &s1));
	EXPECT_TRUE(b_same(&s0, &s1));
	EXPECT_EQ(0, b_kept(self->fd, self->space, gen)) TH_LOG("a refused charge dropped history");
	b_free(&s1);

	/* fits once the kept views go: they go, the region is made */
	id = mt_region_create(self->fd, MEMTOPO_KIND_IO, "fits", 0x1000, 0);
	EXPECT_LT(0, id);
	EXPECT_EQ(-ESTALE, b_kept(self->fd, self->space, gen));
	EXPECT_GE(s0.used, b_used(self->fd));
	b_free(&s0);

	/* a budget below the use that holds all but the kept views: dropped, set */
	ASSERT_EQ(0, mt_budget(self->fd, MEMTOPO_BUDGET_SET, 0, NULL));
	ASSERT_LT(0, id);
	ASSERT_EQ(0, mt_region_destroy(self->fd, id));
	published = b_used_published(self->fd);
	gen = b_keep_bank_view(self->fd, self->root, self->bank, self->space);
	ASSERT_NE(0, gen);
	ASSERT_EQ(0, b_kept(self->fd, self->space, gen));
	kept_used = b_used(self->fd);
	ASSERT_LT(published, kept_used);
	EXPECT_EQ(0, mt_budget(self->fd, MEMTOPO_BUDGET_SET, kept_used - 1, NULL));
	EXPECT_EQ(-ESTALE, b_kept(self->fd, self->space, gen));
	EXPECT_GT(kept_used, b_used(self->fd));
	/* and none left to drop: below the use is EBUSY again */
	EXPECT_EQ(-EBUSY, mt_budget(self->fd, MEMTOPO_BUDGET_SET, b_used(self->fd) - 1, NULL));
}

/* A subscription (its first ring page) past the budget: ENOSPC, no charge. */
TEST_F(budget, event_rings)
{
	__u64 used = b_used(self->fd);
	__u32 id;

	ASSERT_EQ(0, mt_budget(self->fd, MEMTOPO_BUDGET_SET, used + 64, NULL));
	EXPECT_EQ(-ENOSPC, mt_subscribe(self->fd, self->space, -1, 0, 0, &id));
	EXPECT_EQ(used, b_used(self->fd));
	ASSERT_EQ(0, mt_budget(self->fd, MEMTOPO_BUDGET_SET, 0, NULL));
	ASSERT_EQ(0, mt_subscribe(self->fd, self->space, -1, 0, 0, &id));
	EXPECT_LT(used, b_used(self->fd));
	ASSERT_EQ(0, mt_unsubscribe(self->fd, id));
	EXPECT_EQ(used, b_used(self->fd));
}

/*
 * Subscriptions to a space a refused commit undoes: the rollback detaches
 * their listeners, which ends them: the eventfd fires and READ_EVENTS is
 * ENODEV.  An UNSUBSCRIBE or the file's close must then let them go
 * without detaching them again (the debug kernel's checks see a second
 * detach or context put).  Their rings are given back either way.
 */
TEST_F(budget, subscribers_of_an_undone_space)
{
	int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	__u64 used = b_used(self->fd), fired = 0;
	struct memtopo_event ev;
	__u32 gone, kept, n = 1;
	int space;

	ASSERT_LE(0, efd);
	ASSERT_EQ(0, mt_txn(self->fd, MEMTOPO_TXN_BEGIN, NULL));
	space = mt_space_create(self->fd, "undone", self->root);
	ASSERT_LT(0, space);
	ASSERT_EQ(0, mt_subscribe(self->fd, space, efd, 0, 0, &gone));
	ASSERT_EQ(0, mt_subscribe(self->fd, space, -1, 0, 0, &kept));
	ASSERT_EQ(-ENOSPC, undone_commit(self->fd, self->root, self->bank));
	EXPECT_EQ(sizeof(fired), read(efd, &fired, sizeof(fired)))
		TH_LOG("the end of a subscription woke nobody");
	EXPECT_EQ(-ENODEV, mt_read_events(self->fd, gone, &ev, &n, NULL))
		TH_LOG("a subscription whose space was undone still looks alive");
	EXPECT_EQ(0, mt_unsubscribe(self->fd, gone));
	EXPECT_EQ(-ENOENT, mt_unsubscribe(self->fd, gone));
	/* @kept goes with the file, in the fixture's teardown */
	EXPECT_LT(used, b_used(self->fd));
	close(efd);
}

/*
 * The flags MEMTOPO_IOMMU_GET gives the only mapping of @mmu, which must
 * name @space, or -1.
 */
static int b_iommu_flags(int fd, __u32 mmu, __u32 space)
{
	struct memtopo_iommu_mapping *m = NULL;
	__u32 n = 0;
	int flags = -1;

	if (!mt_iommu_get(fd, mmu, &m, &n) && n == 1 && m[0].space == space)
		flags = m[0].flags;
	free(m);
	return flags;
}

/*
 * An IOMMU mapping into a space whose create a refused commit undoes: the
 * mapping is no transaction's, so it stays, and leads nowhere.  The undone
 * create's ID goes to the next space created, which the mapping must not
 * reach, and MEMTOPO_IOMMU_GET marks the mapping gone.  A destroy in a
 * transaction marks it at once; the failed commit that restores the space
 * clears the mark.
 */
TEST_F(budget, iommu_mapping_into_an_undone_space)
{
	int mmu, dma, ram, root2, gone, fresh;
	static __u8 image[0x1000];
	struct memtopo_op op;
	__u8 buf[4];

	mmu = mt_region_create(self->fd, MEMTOPO_KIND_IOMMU, "mmu", 0, MEMTOPO_OP_F_SIZE_2_64);
	ASSERT_LT(0, mmu);
	dma = mt_space_create(self->fd, "dma", mmu);
	ASSERT_LT(0, dma);
	memset(image, 0xa5, sizeof(image));
	mt_op_init(&op, MEMTOPO_OP_REGION_CREATE);
	op.kind = MEMTOPO_KIND_RAM;
	op.flags = MEMTOPO_OP_F_KERNEL_BACKING;
	op.length = sizeof(image);
	op.value = (uintptr_t)image;
	strcpy(op.name, "ram");
	ASSERT_EQ(0, mt_op(self->fd, &op));
	ram = op.id;
	root2 = mt_region_create(self->fd, MEMTOPO_KIND_CONTAINER, "root2", 0x1000, 0);
	ASSERT_LT(0, root2);
	ASSERT_EQ(0, mt_add_subregion(self->fd, root2, ram, 0, 0));

	ASSERT_EQ(0, mt_txn(self->fd, MEMTOPO_TXN_BEGIN, NULL));
	gone = mt_space_create(self->fd, "undone", self->root);
	ASSERT_LT(0, gone);
	ASSERT_EQ(0, mt_iommu_map(self->fd, mmu, 0, MEMTOPO_IOMMU_PAGE, gone, 0,
				  MEMTOPO_IOMMU_MAP_READ));
	ASSERT_EQ(-ENOSPC, undone_commit(self->fd, self->root, self->bank));

	fresh = mt_space_create(self->fd, "fresh", root2);
	ASSERT_EQ(gone, fresh) TH_LOG("the undone create's ID was not given again");
	EXPECT_EQ(-ENXIO, mt_space_rw(self->fd, dma, 0, buf, sizeof(buf), 0))
		TH_LOG("a mapping into an undone space reached the space given its ID");
	/* listed with the ID the new space has now, so marked gone */
	EXPECT_EQ(MEMTOPO_IOMMU_MAP_READ | MEMTOPO_IOMMU_MAPPING_GONE,
		  b_iommu_flags(self->fd, mmu, fresh));
	/* mapped again, into the new space: it leads there */
	EXPECT_EQ(0, mt_iommu_unmap(self->fd, mmu, 0, MEMTOPO_IOMMU_PAGE, 0));
	EXPECT_EQ(0, mt_iommu_map(self->fd, mmu, 0, MEMTOPO_IOMMU_PAGE, fresh, 0,
				  MEMTOPO_IOMMU_MAP_READ));
	ASSERT_EQ(0, mt_space_rw(self->fd, dma, 0, buf, sizeof(buf), 0));
	EXPECT_EQ(0, memcmp(buf, image, sizeof(buf)));
	EXPECT_EQ(MEMTOPO_IOMMU_MAP_READ, b_iommu_flags(self->fd, mmu, fresh));

	/* a destroy in a transaction is gone at once, and back when the commit fails */
	ASSERT_EQ(0, mt_txn(self->fd, MEMTOPO_TXN_BEGIN, NULL));
	ASSERT_EQ(0, mt_space_destroy(self->fd, fresh));
	EXPECT_EQ(MEMTOPO_IOMMU_MAP_READ | MEMTOPO_IOMMU_MAPPING_GONE,
		  b_iommu_flags(self->fd, mmu, fresh));
	EXPECT_EQ(-ENXIO, mt_space_rw(self->fd, dma, 0, buf, sizeof(buf), 0));
	ASSERT_EQ(-ENOSPC, undone_commit(self->fd, self->root, self->bank));
	EXPECT_EQ(MEMTOPO_IOMMU_MAP_READ, b_iommu_flags(self->fd, mmu, fresh));
	memset(buf, 0, sizeof(buf));
	ASSERT_EQ(0, mt_space_rw(self->fd, dma, 0, buf, sizeof(buf), 0));
	EXPECT_EQ(0, memcmp(buf, image, sizeof(buf)));
}

/*
 * The undo log is charged a chunk of records at a time, the chunk the
 * context keeps between commits too: a batch whose records outgrow that
 * chunk stops with ENOSPC, not ENOMEM, at the change whose record does not
 * fit, and is undone; in a transaction that change alone is refused and the
 * transaction goes on.  A commit gives back every chunk but the kept one.
 */
TEST_F(budget, undo_log)
{
	struct memtopo_op *ops = calloc(BANK, sizeof(*ops));
	struct b_state s0, s1;
	__u32 err, k;
	int ret = 0;

	ASSERT_NE(NULL, ops);
	for (k = 0; k < BANK; k++) {
		mt_op_init(&ops[k], MEMTOPO_OP_SET_ENABLED);
		ops[k].id = self->kids[k];
	}
	ASSERT_NE(~0ULL, b_used_published(self->fd));	/* no kept views to give way */
	ASSERT_EQ(0, b_snap(self->fd, self->space, &s0));
	ASSERT_EQ(0, mt_budget(self->fd, MEMTOPO_BUDGET_SET, s0.used, NULL));
	EXPECT_EQ(-ENOSPC, mt_batch(self->fd, ops, BANK, &err));
	/* the kept chunk holds the first records: the refusal comes later */
	EXPECT_LT(0, err);
	EXPECT_GT(BANK, err);
	ASSERT_EQ(0, b_snap(self->fd, self->space, &s1));
	EXPECT_TRUE(b_same(&s0, &s1)) TH_LOG("a refused batch changed something");
	b_free(&s1);

	ASSERT_EQ(0, mt_txn(self->fd, MEMTOPO_TXN_BEGIN, NULL));
	for (k = 0; k < BANK; k++) {
		ret = mt_region_set(self->fd, MEMTOPO_OP_SET_ENABLED, self->kids[k], 0, 0, 0);
		if (ret)
			break;
	}
	EXPECT_EQ(-ENOSPC, ret);
	EXPECT_EQ(err, k) TH_LOG("the same record is the first past the budget");
	EXPECT_EQ(s0.used, b_used(self->fd));
	ASSERT_EQ(0, mt_budget(self->fd, MEMTOPO_BUDGET_SET, 0, NULL));
	for (; k < BANK; k++)
		ASSERT_EQ(0, mt_region_set(self->fd, MEMTOPO_OP_SET_ENABLED, self->kids[k], 0,
					   0, 0));
	EXPECT_LT(s0.used, b_used(self->fd)) TH_LOG("the open log is not charged");
	ASSERT_EQ(0, mt_txn(self->fd, MEMTOPO_TXN_COMMIT, NULL));
	EXPECT_EQ(s0.used, b_used(self->fd)) TH_LOG("a commit left undo chunks charged");

	/* with room the batch commits; the use is back where it was */
	for (k = 0; k < BANK; k++)
		ops[k].value = 1;
	ASSERT_EQ(0, mt_batch(self->fd, ops, BANK, &err));
	ASSERT_EQ(0, b_snap(self->fd, self->space, &s1));
	EXPECT_TRUE(b_same(&s0, &s1)) TH_LOG("enabled again, the state differs");
	b_free(&s1);
	b_free(&s0);
	free(ops);
}

static int b_discard(int fd, __u32 op, __u32 region, __u64 gran)
{
	struct memtopo_discard d = {
		.size = sizeof(d), .op = op, .region = region, .granularity = gran,
	};

	return ioctl(fd, MEMTOPO_DISCARD, &d) ? -errno : 0;
}

/*
 * A discard manager's bitmap (a bit a block) is charged: past the budget
 * it is ENOSPC and the region has no manager; with room it is charged
 * until cleared, or until the region is destroyed.
 */
TEST_F(budget, discard_bitmaps)
{
	/* 1 GiB in 4 KiB blocks: a 32 KiB bitmap */
	const __u64 size = 1ULL << 30, bitmap = (size >> 12) / 8;
	struct b_state s0, s1;
	__u64 start, with;
	int ram;

	start = b_used_published(self->fd);
	ASSERT_NE(~0ULL, start);
	ram = mt_region_create(self->fd, MEMTOPO_KIND_RAM, "vmem", size, 0);
	ASSERT_LT(0, ram);
	ASSERT_EQ(0, b_snap(self->fd, self->space, &s0));
	ASSERT_EQ(0, mt_budget(self->fd, MEMTOPO_BUDGET_SET, s0.used + bitmap / 2, NULL));
	EXPECT_EQ(-ENOSPC, b_discard(self->fd, MEMTOPO_DISCARD_SET_MANAGER, ram, 4096));
	ASSERT_EQ(0, b_snap(self->fd, self->space, &s1));
	EXPECT_TRUE(b_same(&s0, &s1));
	b_free(&s1);
	EXPECT_EQ(-ENOENT, b_discard(self->fd, MEMTOPO_DISCARD_CLEAR_MANAGER, ram, 0))
		TH_LOG("a refused manager was set");
	/* a coarser one fits */
	EXPECT_EQ(0, b_discard(self->fd, MEMTOPO_DISCARD_SET_MANAGER, ram, 1 << 20));
	EXPECT_EQ(0, b_discard(self->fd, MEMTOPO_DISCARD_CLEAR_MANAGER, ram, 0));
	EXPECT_EQ(s0.used, b_used(self->fd));

	ASSERT_EQ(0, mt_budget(self->fd, MEMTOPO_BUDGET_SET, 0, NULL));
	ASSERT_EQ(0, b_discard(self->fd, MEMTOPO_DISCARD_SET_MANAGER, ram, 4096));
	with = b_used(self->fd);
	EXPECT_LE(s0.used + bitmap, with);
	EXPECT_GT(s0.used + 2 * bitmap, with);
	ASSERT_EQ(0, b_discard(self->fd, MEMTOPO_DISCARD_CLEAR_MANAGER, ram, 0));
	EXPECT_EQ(s0.used, b_used(self->fd));
	/* destroyed with its manager: everything given back */
	ASSERT_EQ(0, b_discard(self->fd, MEMTOPO_DISCARD_SET_MANAGER, ram, 4096));
	EXPECT_EQ(with, b_used(self->fd));
	ASSERT_EQ(0, mt_region_destroy(self->fd, ram));
	EXPECT_EQ(start, b_used_published(self->fd));
	b_free(&s0);
}

/*
 * An IOMMU's table is charged as it grows, a mapping at a time: the map
 * that passes the budget is ENOSPC and the table stays as it was; unmaps
 * give back, and destroying the region gives back the rest.
 */
TEST_F(budget, iommu_tables)
{
	struct memtopo_iommu_mapping *maps;
	__u64 start, before, mapped;
	__u32 n, k;
	int mmu, ret = 0;

	start = b_used_published(self->fd);
	ASSERT_NE(~0ULL, start);
	mmu = mt_region_create(self->fd, MEMTOPO_KIND_IOMMU, "mmu", 0, MEMTOPO_OP_F_SIZE_2_64);
	ASSERT_LT(0, mmu);
	before = b_used(self->fd);
	ASSERT_EQ(0, mt_budget(self->fd, MEMTOPO_BUDGET_SET, before + 4096, NULL));
	for (k = 0; k < 4096; k++) {
		before = b_used(self->fd);
		ret = mt_iommu_map(self->fd, mmu, 2ULL * k * MEMTOPO_IOMMU_PAGE,
				   MEMTOPO_IOMMU_PAGE, self->space, 0, MEMTOPO_IOMMU_MAP_READ);
		if (ret)
			break;
	}
	EXPECT_EQ(-ENOSPC, ret);
	EXPECT_LT(1, k);
	EXPECT_EQ(before, b_used(self->fd)) TH_LOG("a refused map was charged");
	ASSERT_EQ(0, mt_iommu_get(self->fd, mmu, &maps, &n));
	EXPECT_EQ(k, n) TH_LOG("a refused map changed the table");
	free(maps);

	mapped = b_used(self->fd);
	ASSERT_EQ(0, mt_iommu_unmap(self->fd, mmu, 0, MEMTOPO_IOMMU_PAGE, 0));
	EXPECT_GT(mapped, b_used(self->fd));
	ASSERT_EQ(0, mt_iommu_unmap(self->fd, mmu, 0, 0, MEMTOPO_IOMMU_UNMAP_ALL));
	ASSERT_EQ(0, mt_budget(self->fd, MEMTOPO_BUDGET_SET, 0, NULL));
	ASSERT_EQ(0, mt_region_destroy(self->fd, mmu));
	EXPECT_EQ(start, b_used_published(self->fd));
}

/* Destroying everything gives every charge back but the render's kept scratch. */
TEST_F(budget, destroy_gives_back)
{
	__u64 mapped, after;
	int k;

	ASSERT_EQ(0, mt_add_subregion(self->fd, self->root, self->bank, BANK_BASE, 0));
	mapped = b_used(self->fd);
	ASSERT_EQ(0, mt_region_set(self->fd, MEMTOPO_OP_DEL_SUBREGION, self->bank, self->root,
				   0, 0));
	ASSERT_EQ(0, mt_space_destroy(self->fd, self->space));
	for (k = 0; k < BANK; k++) {
		ASSERT_EQ(0, mt_region_set(self->fd, MEMTOPO_OP_DEL_SUBREGION, self->kids[k],
					   self->bank, 0, 0));
		ASSERT_EQ(0, mt_region_destroy(self->fd, self->kids[k]));
	}
	ASSERT_EQ(0, mt_region_destroy(self->fd, self->bank));
	ASSERT_EQ(0, mt_region_destroy(self->fd, self->root));
	after = b_used(self->fd);
	EXPECT_GT(mapped, after);
	/* MEMTOPO_SCRATCH_KEEP: what a context keeps to commit without allocating */
	EXPECT_GE(64 * 1024, after) TH_LOG("%llu bytes left charged", (unsigned long long)after);
}

TEST_HARNESS_MAIN
