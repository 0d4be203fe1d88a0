// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit suite "memtopo_discard": RAM discard (discard.c), QEMU's
 * RamDiscardManager as hw/virtio/virtio-mem.c implements it.  Each
 * expectation names the QEMU function its order comes from.  The last case
 * is a VFIO-like test consumer that maps only populated parts (registering
 * a discard listener on each section from region_add, as QEMU's
 * vfio_listener_region_add() does) and must mirror the state exactly
 * through random populates, discards, vetoes and topology changes.
 *
 * The map of the order cases:
 *   sys   container 2^64
 *   vmem  RAM 0x10000 at 0x100000, manager granularity 0x1000 (16 blocks)
 */
#include <kunit/test.h>
#include <linux/bitmap.h>
#include <linux/prandom.h>
#include <linux/slab.h>

#include "engine_util.h"

#define MT_DL_MAX	8

struct mt_dl {
	struct memtopo_discard_listener dl;
	struct mt_log *log;
	u8 who;
	/* notify_populate refuses a part touching this region offset (U64_MAX: none) */
	u64 veto_at;
};

struct mt_dis {
	struct memtopo_space *as;
	struct memtopo_region *sys, *vmem;
	struct mt_log *log;
	struct mt_dl dls[MT_DL_MAX];
	/* a case's own listeners, unregistered however it ends */
	struct memtopo_discard_listener *more[4];
};

static int mt_dl_populate(struct memtopo_discard_listener *dl, const struct memtopo_section *s)
{
	struct mt_dl *m = container_of(dl, struct mt_dl, dl);

	mt_log_call(m->log, m->who, MT_OP_POPULATE, s);
	if (m->veto_at >= s->offset && m->veto_at - s->offset <= s->last - s->start)
		return -EPERM;
	return 0;
}

static void mt_dl_discard(struct memtopo_discard_listener *dl, const struct memtopo_section *s)
{
	struct mt_dl *m = container_of(dl, struct mt_dl, dl);

	mt_log_call(m->log, m->who, MT_OP_DISCARD, s);
}

static const struct memtopo_discard_listener_ops mt_dl_ops = {
	.notify_populate = mt_dl_populate,
	.notify_discard = mt_dl_discard,
};

static int mt_dis_init(struct kunit *test)
{
	int ret = mt_fix_init(test);
	struct mt_dis *d;

	if (ret)
		return ret;
	d = kunit_kzalloc(test, sizeof(*d), GFP_KERNEL);
	if (!d)
		return -ENOMEM;
	mt_fix(test)->suite = d;
	return 0;
}

/* Discard listeners hold their region: unregister them before the context goes. */
static void mt_dis_exit(struct kunit *test)
{
	struct mt_fix *fix = mt_fix(test);
	struct mt_dis *d = fix ? fix->suite : NULL;
	unsigned int i;

	for (i = 0; d && i < MT_DL_MAX; i++)
		memtopo_discard_listener_unregister(&d->dls[i].dl);
	for (i = 0; d && i < ARRAY_SIZE(d->more); i++)
		if (d->more[i])
			memtopo_discard_listener_unregister(d->more[i]);
	mt_fix_exit(test);
}

static struct mt_dis *mt_dis_build(struct kunit *test)
{
	struct mt_dis *d = mt_fix(test)->suite;

	d->sys = mt_region64(test, MEMTOPO_CONTAINER, "sys");
	d->vmem = mt_region(test, MEMTOPO_RAM, "vmem", 0x10000);
	/* before it is mapped, as virtio-mem does */
	KUNIT_ASSERT_EQ(test, memtopo_region_set_discard_manager(d->vmem, 0x1000), 0);
	mt_add(test, d->sys, 0x100000, d->vmem, 0);
	d->as = mt_space(test, "dis", d->sys);
	d->log = mt_log_new(test);
	return d;
}

static void mt_section(struct memtopo_region *mr, u64 start, u64 last, u64 offset,
		       struct memtopo_section *s)
{
	*s = (struct memtopo_section){ .start = start, .last = last, .mr = mr, .offset = offset };
}

/* Register listener @i (who = @i) on [start, last] of vmem at offset @offset. */
static int mt_dl_reg(struct kunit *test, struct mt_dis *d, unsigned int i, u64 start, u64 last,
		     u64 offset)
{
	struct mt_dl *m = &d->dls[i];
	struct memtopo_section s;

	m->dl.ops = &mt_dl_ops;
	m->log = d->log;
	m->who = i;
	if (!m->veto_at)
		m->veto_at = U64_MAX;
	mt_section(d->vmem, start, last, offset, &s);
	return memtopo_discard_listener_register(d->as, &s, &m->dl);
}

static u64 mt_populated(struct kunit *test, struct memtopo_region *mr)
{
	u64 g = 0, size = 0, pop = 0;

	memtopo_ctx_lock(mt_ctx(test));
	KUNIT_EXPECT_EQ(test, memtopo_region_discard_info_locked(mr, &g, &size, &pop), 0);
	memtopo_ctx_unlock(mt_ctx(test));
	return pop;
}

static u64 mt_state(struct kunit *test, struct memtopo_region *mr)
{
	u64 bits = 0;

	memtopo_ctx_lock(mt_ctx(test));
	KUNIT_EXPECT_EQ(test, memtopo_region_discard_state_locked(mr, 0, 16, &bits), 0);
	memtopo_ctx_unlock(mt_ctx(test));
	return bits;
}

/*
 * Populate and discard: listeners newest first, runs ascending, a partial
 * section told only its part.
 */
static void mt_discard_order_test(struct kunit *test)
{
	struct mt_dis *d = mt_dis_build(test);

	/* virtio_mem_rdm_register_listener(): replays nothing, all is discarded */
	KUNIT_ASSERT_EQ(test, mt_dl_reg(test, d, 1, 0x100000, 0x10ffff, 0), 0);
	KUNIT_ASSERT_EQ(test, mt_dl_reg(test, d, 2, 0x100000, 0x10ffff, 0), 0);
	KUNIT_ASSERT_EQ(test, mt_dl_reg(test, d, 3, 0x100000, 0x10ffff, 0), 0);
	MT_EXPECT_NO_CALLS(test, d->log);

	/* virtio_mem_notify_plug(): QLIST_FOREACH over rdl_list, newest first */
	KUNIT_ASSERT_EQ(test, memtopo_region_populate(d->vmem, 0x3000, 0x1000), 0);
	MT_EXPECT_LOG(test, d->log,
		      MT_POP(3, 0x103000, 0x103fff, "vmem", 0x3000),
		      MT_POP(2, 0x103000, 0x103fff, "vmem", 0x3000),
		      MT_POP(1, 0x103000, 0x103fff, "vmem", 0x3000));

	/*
	 * Blocks 2..5 with 3 populated: the discarded runs in ascending order
	 * (virtio_mem_for_each_unplugged_range()), each one a
	 * virtio_mem_notify_plug(); block 3 is not told again.
	 */
	KUNIT_ASSERT_EQ(test, memtopo_region_populate(d->vmem, 0x2000, 0x4000), 0);
	MT_EXPECT_LOG(test, d->log,
		      MT_POP(3, 0x102000, 0x102fff, "vmem", 0x2000),
		      MT_POP(2, 0x102000, 0x102fff, "vmem", 0x2000),
		      MT_POP(1, 0x102000, 0x102fff, "vmem", 0x2000),
		      MT_POP(3, 0x104000, 0x105fff, "vmem", 0x4000),
		      MT_POP(2, 0x104000, 0x105fff, "vmem", 0x4000),
		      MT_POP(1, 0x104000, 0x105fff, "vmem", 0x4000));
	KUNIT_EXPECT_EQ(test, mt_state(test, d->vmem), 0x3cULL);
	KUNIT_EXPECT_EQ(test, mt_populated(test, d->vmem), 0x4000ULL);

	/* populating what is populated tells nobody */
	KUNIT_ASSERT_EQ(test, memtopo_region_populate(d->vmem, 0x2000, 0x2000), 0);
	MT_EXPECT_NO_CALLS(test, d->log);

	/*
	 * A listener on a part of the region (offset 0x8000, 0x4000 bytes):
	 * virtio_mem_intersect_memory_section() cuts each run to it.
	 */
	KUNIT_ASSERT_EQ(test, mt_dl_reg(test, d, 4, 0x108000, 0x10bfff, 0x8000), 0);
	MT_EXPECT_NO_CALLS(test, d->log);
	KUNIT_ASSERT_EQ(test, memtopo_region_populate(d->vmem, 0x6000, 0x4000), 0);
	MT_EXPECT_LOG(test, d->log,
		      MT_POP(4, 0x108000, 0x109fff, "vmem", 0x8000),
		      MT_POP(3, 0x106000, 0x109fff, "vmem", 0x6000),
		      MT_POP(2, 0x106000, 0x109fff, "vmem", 0x6000),
		      MT_POP(1, 0x106000, 0x109fff, "vmem", 0x6000));

	/*
	 * virtio_mem_notify_unplug(): every listener, newest first, for the
	 * populated run [0x2000, 0xa000); the discarded rest is not told.
	 */
	KUNIT_ASSERT_EQ(test, memtopo_region_discard(d->vmem, 0, 0x10000), 0);
	MT_EXPECT_LOG(test, d->log,
		      MT_DIS(4, 0x108000, 0x109fff, "vmem", 0x8000),
		      MT_DIS(3, 0x102000, 0x109fff, "vmem", 0x2000),
		      MT_DIS(2, 0x102000, 0x109fff, "vmem", 0x2000),
		      MT_DIS(1, 0x102000, 0x109fff, "vmem", 0x2000));
	KUNIT_EXPECT_EQ(test, mt_state(test, d->vmem), 0ULL);
	KUNIT_ASSERT_EQ(test, memtopo_region_discard(d->vmem, 0, 0x10000), 0);
	MT_EXPECT_NO_CALLS(test, d->log);

	/* virtio_mem_rdm_unregister_listener(): its populated parts, ascending */
	KUNIT_ASSERT_EQ(test, memtopo_region_populate(d->vmem, 0x9000, 0x1000), 0);
	KUNIT_ASSERT_EQ(test, memtopo_region_populate(d->vmem, 0xb000, 0x2000), 0);
	d->log->n = 0;
	memtopo_discard_listener_unregister(&d->dls[4].dl);
	MT_EXPECT_LOG(test, d->log,
		      MT_DIS(4, 0x109000, 0x109fff, "vmem", 0x9000),
		      MT_DIS(4, 0x10b000, 0x10bfff, "vmem", 0xb000));
	/* and a new registration replays them (virtio_mem_notify_populate_cb) */
	KUNIT_ASSERT_EQ(test, mt_dl_reg(test, d, 5, 0x100000, 0x10ffff, 0), 0);
	MT_EXPECT_LOG(test, d->log,
		      MT_POP(5, 0x109000, 0x109fff, "vmem", 0x9000),
		      MT_POP(5, 0x10b000, 0x10cfff, "vmem", 0xb000));
}

/* A veto rolls the populate back everywhere and leaves the state as it was. */
static void mt_discard_veto_test(struct kunit *test)
{
	struct mt_dis *d = mt_dis_build(test);

	KUNIT_ASSERT_EQ(test, mt_dl_reg(test, d, 1, 0x100000, 0x10ffff, 0), 0);
	KUNIT_ASSERT_EQ(test, mt_dl_reg(test, d, 2, 0x100000, 0x10ffff, 0), 0);
	KUNIT_ASSERT_EQ(test, mt_dl_reg(test, d, 3, 0x100000, 0x10ffff, 0), 0);
	KUNIT_ASSERT_EQ(test, memtopo_region_populate(d->vmem, 0x3000, 0x1000), 0);
	d->log->n = 0;

	/*
	 * Listener 2 refuses block 4.  Run [2, 3) is accepted by all; run
	 * [4, 6): 3 accepts, 2 refuses, and virtio_mem_notify_plug()'s undo
	 * loop tells the listeners before the refusing one (3) it is
	 * discarded; then the accepted run [2, 3) is discarded to all, so
	 * nobody keeps a part of a populate that failed.
	 */
	d->dls[2].veto_at = 0x4000;
	KUNIT_EXPECT_EQ(test, memtopo_region_populate(d->vmem, 0x2000, 0x4000), -EPERM);
	MT_EXPECT_LOG(test, d->log,
		      MT_POP(3, 0x102000, 0x102fff, "vmem", 0x2000),
		      MT_POP(2, 0x102000, 0x102fff, "vmem", 0x2000),
		      MT_POP(1, 0x102000, 0x102fff, "vmem", 0x2000),
		      MT_POP(3, 0x104000, 0x105fff, "vmem", 0x4000),
		      MT_POP(2, 0x104000, 0x105fff, "vmem", 0x4000),
		      MT_DIS(3, 0x104000, 0x105fff, "vmem", 0x4000),
		      MT_DIS(3, 0x102000, 0x102fff, "vmem", 0x2000),
		      MT_DIS(2, 0x102000, 0x102fff, "vmem", 0x2000),
		      MT_DIS(1, 0x102000, 0x102fff, "vmem", 0x2000));
	/* virtio_mem_set_block_state(): the bitmap is untouched on failure */
	KUNIT_EXPECT_EQ(test, mt_state(test, d->vmem), 0x8ULL);
	KUNIT_EXPECT_EQ(test, mt_populated(test, d->vmem), 0x1000ULL);

	/* the newest listener refusing: nobody was told before it */
	d->dls[2].veto_at = U64_MAX;
	d->dls[3].veto_at = 0x4000;
	KUNIT_EXPECT_EQ(test, memtopo_region_populate(d->vmem, 0x4000, 0x1000), -EPERM);
	MT_EXPECT_LOG(test, d->log, MT_POP(3, 0x104000, 0x104fff, "vmem", 0x4000));
	KUNIT_EXPECT_EQ(test, mt_state(test, d->vmem), 0x8ULL);

	/* without the veto the same call goes through */
	d->dls[3].veto_at = U64_MAX;
	KUNIT_EXPECT_EQ(test, memtopo_region_populate(d->vmem, 0x4000, 0x1000), 0);
	MT_EXPECT_LOG(test, d->log,
		      MT_POP(3, 0x104000, 0x104fff, "vmem", 0x4000),
		      MT_POP(2, 0x104000, 0x104fff, "vmem", 0x4000),
		      MT_POP(1, 0x104000, 0x104fff, "vmem", 0x4000));
	KUNIT_EXPECT_EQ(test, mt_state(test, d->vmem), 0x18ULL);

	/*
	 * A registration whose replay is refused: the parts it accepted are
	 * discarded again and it is not registered (QEMU only reports it).
	 */
	KUNIT_ASSERT_EQ(test, memtopo_region_populate(d->vmem, 0xa000, 0x1000), 0);
	d->log->n = 0;
	d->dls[4].veto_at = 0xa000;
	KUNIT_EXPECT_EQ(test, mt_dl_reg(test, d, 4, 0x100000, 0x10ffff, 0), -EPERM);
	MT_EXPECT_LOG(test, d->log,
		      MT_POP(4, 0x103000, 0x104fff, "vmem", 0x3000),
		      MT_POP(4, 0x10a000, 0x10afff, "vmem", 0xa000),
		      MT_DIS(4, 0x103000, 0x104fff, "vmem", 0x3000));
	KUNIT_EXPECT_FALSE(test, d->dls[4].dl.registered);
	/* it hears nothing more */
	KUNIT_ASSERT_EQ(test, memtopo_region_discard(d->vmem, 0xa000, 0x1000), 0);
	MT_EXPECT_LOG(test, d->log,
		      MT_DIS(3, 0x10a000, 0x10afff, "vmem", 0xa000),
		      MT_DIS(2, 0x10a000, 0x10afff, "vmem", 0xa000),
		      MT_DIS(1, 0x10a000, 0x10afff, "vmem", 0xa000));
}

struct mt_replay {
	unsigned int n;
	int stop;
	struct memtopo_section s[4];
};

static int mt_replay_cb(const struct memtopo_section *s, void *opaque)
{
	struct mt_replay *r = opaque;

	if (r->n < ARRAY_SIZE(r->s))
		r->s[r->n] = *s;
	r->n++;
	return r->stop;
}

static void mt_replay_void(const struct memtopo_section *s, void *opaque)
{
	mt_replay_cb(s, opaque);
}

static void mt_expect_part(struct kunit *test, const struct memtopo_section *s, u64 start,
			   u64 last, u64 offset)
{
	KUNIT_EXPECT_EQ(test, s->start, start);
	KUNIT_EXPECT_EQ(test, s->last, last);
	KUNIT_EXPECT_EQ(test, s->offset, offset);
}

/* replay_populated / replay_discarded / is_populated on a partial section. */
static void mt_discard_replay_test(struct kunit *test)
{
	struct mt_dis *d = mt_dis_build(test);
	struct memtopo_region *plain = mt_region(test, MEMTOPO_RAM, "plain", 0x1000);
	struct mt_replay r = {};
	struct memtopo_section s;

	KUNIT_ASSERT_EQ(test, memtopo_region_populate(d->vmem, 0x1000, 0x2000), 0);
	KUNIT_ASSERT_EQ(test, memtopo_region_populate(d->vmem, 0x5000, 0x1000), 0);
	/* the section starts inside block 1: [0x1800, 0x6000) of the region */
	mt_section(d->vmem, 0x101800, 0x105fff, 0x1800, &s);

	memtopo_ctx_lock(mt_ctx(test));
	/* virtio_mem_rdm_replay_populated(): plugged parts, ascending, cut to s */
	KUNIT_EXPECT_EQ(test, memtopo_discard_replay_populated_locked(&s, mt_replay_cb, &r), 0);
	KUNIT_EXPECT_EQ(test, r.n, 2U);
	mt_expect_part(test, &r.s[0], 0x101800, 0x102fff, 0x1800);
	mt_expect_part(test, &r.s[1], 0x105000, 0x105fff, 0x5000);
	/* the first error stops it and is returned */
	r = (struct mt_replay){ .stop = 5 };
	KUNIT_EXPECT_EQ(test, memtopo_discard_replay_populated_locked(&s, mt_replay_cb, &r), 5);
	KUNIT_EXPECT_EQ(test, r.n, 1U);
	/* virtio_mem_rdm_replay_discarded(): the unplugged parts */
	r = (struct mt_replay){};
	KUNIT_EXPECT_EQ(test, memtopo_discard_replay_discarded_locked(&s, mt_replay_void, &r), 0);
	KUNIT_EXPECT_EQ(test, r.n, 1U);
	mt_expect_part(test, &r.s[0], 0x103000, 0x104fff, 0x3000);

	/* virtio_mem_rdm_is_populated(): every block the section touches */
	KUNIT_EXPECT_FALSE(test, memtopo_discard_is_populated_locked(&s));
	mt_section(d->vmem, 0x101800, 0x102fff, 0x1800, &s);
	KUNIT_EXPECT_TRUE(test, memtopo_discard_is_populated_locked(&s));
	mt_section(d->vmem, 0x101800, 0x103000, 0x1800, &s);
	KUNIT_EXPECT_FALSE(test, memtopo_discard_is_populated_locked(&s));
	mt_section(d->vmem, 0x105ff0, 0x105fff, 0x5ff0, &s);
	KUNIT_EXPECT_TRUE(test, memtopo_discard_is_populated_locked(&s));
	mt_section(d->vmem, 0x100000, 0x100fff, 0, &s);
	KUNIT_EXPECT_FALSE(test, memtopo_discard_is_populated_locked(&s));
	/* past the manager: not populated (virtio_mem_valid_range() fails) */
	mt_section(d->vmem, 0x10f000, 0x110fff, 0xf000, &s);
	KUNIT_EXPECT_FALSE(test, memtopo_discard_is_populated_locked(&s));
	/* a region without a manager is all populated */
	mt_section(plain, 0, 0xfff, 0, &s);
	KUNIT_EXPECT_TRUE(test, memtopo_discard_is_populated_locked(&s));
	KUNIT_EXPECT_EQ(test, memtopo_discard_replay_populated_locked(&s, mt_replay_cb, &r),
			-ENOENT);
	KUNIT_EXPECT_EQ(test, memtopo_discard_replay_discarded_locked(&s, mt_replay_void, &r),
			-ENOENT);
	memtopo_ctx_unlock(mt_ctx(test));
	memtopo_region_destroy(plain);
}

/*
 * A section leaving the view: its listeners hear their populated parts
 * discarded before the memory listeners' region_del (QEMU's
 * vfio_listener_region_del() unregisters its RamDiscardListener, which
 * virtio_mem_rdm_unregister_listener() answers with notify_discard, before
 * it unmaps), then nothing more.  Also on a space no memory listener
 * watches, and when the space is destroyed.
 */
static void mt_discard_leave_test(struct kunit *test)
{
	struct mt_dis *d = mt_dis_build(test);
	struct memtopo_space *bare;
	struct memtopo_section s;

	mt_recorder(test, d->log, d->as, 9, 0);
	d->log->n = 0;
	KUNIT_ASSERT_EQ(test, memtopo_region_populate(d->vmem, 0, 0x1000), 0);
	KUNIT_ASSERT_EQ(test, mt_dl_reg(test, d, 1, 0x100000, 0x10ffff, 0), 0);
	MT_EXPECT_LOG(test, d->log, MT_POP(1, 0x100000, 0x100fff, "vmem", 0));

	KUNIT_ASSERT_EQ(test, memtopo_region_set_enabled(d->vmem, false), 0);
	MT_EXPECT_LOG(test, d->log,
		      MT_BEGIN(9),
		      MT_DIS(1, 0x100000, 0x100fff, "vmem", 0),
		      MT_DEL(9, 0x100000, 0x10ffff, "vmem", 0, 0),
		      MT_COMMIT(9));
	/* dead: populates, discards and its unregistration tell it nothing */
	KUNIT_ASSERT_EQ(test, memtopo_region_populate(d->vmem, 0x1000, 0x1000), 0);
	KUNIT_ASSERT_EQ(test, memtopo_region_set_enabled(d->vmem, true), 0);
	MT_EXPECT_LOG(test, d->log,
		      MT_BEGIN(9),
		      MT_ADD(9, 0x100000, 0x10ffff, "vmem", 0, 0),
		      MT_COMMIT(9));
	memtopo_discard_listener_unregister(&d->dls[1].dl);
	MT_EXPECT_NO_CALLS(test, d->log);
	KUNIT_EXPECT_EQ(test, mt_state(test, d->vmem), 0x3ULL);

	/* a space with no memory listener: the commit still tells the listener */
	bare = mt_space(test, "bare", d->sys);
	/* a new space commits: listener 9 hears its unchanged range again */
	MT_EXPECT_LOG(test, d->log,
		      MT_BEGIN(9),
		      MT_NOP(9, 0x100000, 0x10ffff, "vmem", 0, 0),
		      MT_COMMIT(9));
	mt_section(d->vmem, 0x100000, 0x10ffff, 0, &s);
	d->dls[2] = (struct mt_dl){ .dl.ops = &mt_dl_ops, .log = d->log, .who = 2,
				    .veto_at = U64_MAX };
	KUNIT_ASSERT_EQ(test, memtopo_discard_listener_register(bare, &s, &d->dls[2].dl), 0);
	MT_EXPECT_LOG(test, d->log, MT_POP(2, 0x100000, 0x101fff, "vmem", 0));
	/*
	 * Moving the region: the old range leaves.  Spaces are diffed one
	 * after the other (begin of all, then each space's passes, then
	 * commit of all, as address_space_update_topology() per space in
	 * memory_region_transaction_commit()), so "bare" comes after "dis".
	 */
	KUNIT_ASSERT_EQ(test, memtopo_region_set_address(d->vmem, 0x200000), 0);
	MT_EXPECT_LOG(test, d->log,
		      MT_BEGIN(9),
		      MT_DEL(9, 0x100000, 0x10ffff, "vmem", 0, 0),
		      MT_ADD(9, 0x200000, 0x20ffff, "vmem", 0, 0),
		      MT_DIS(2, 0x100000, 0x101fff, "vmem", 0),
		      MT_COMMIT(9));
	memtopo_discard_listener_unregister(&d->dls[2].dl);

	/* the space going: its listener hears everything discarded */
	mt_section(d->vmem, 0x200000, 0x20ffff, 0, &s);
	d->dls[3] = (struct mt_dl){ .dl.ops = &mt_dl_ops, .log = d->log, .who = 3,
				    .veto_at = U64_MAX };
	KUNIT_ASSERT_EQ(test, memtopo_discard_listener_register(bare, &s, &d->dls[3].dl), 0);
	MT_EXPECT_LOG(test, d->log, MT_POP(3, 0x200000, 0x201fff, "vmem", 0));
	KUNIT_ASSERT_EQ(test, memtopo_space_destroy(bare), 0);
	MT_EXPECT_LOG(test, d->log, MT_DIS(3, 0x200000, 0x201fff, "vmem", 0));
	KUNIT_ASSERT_EQ(test, memtopo_region_discard(d->vmem, 0, 0x10000), 0);
	MT_EXPECT_NO_CALLS(test, d->log);
	/* a dead listener still holds the manager until it unregisters */
	memtopo_ctx_lock(mt_ctx(test));
	KUNIT_EXPECT_EQ(test, memtopo_region_clear_discard_manager_locked(d->vmem), -EBUSY);
	memtopo_ctx_unlock(mt_ctx(test));
	memtopo_discard_listener_unregister(&d->dls[3].dl);
	MT_EXPECT_NO_CALLS(test, d->log);
	/* and a placed region keeps its manager: listeners found it in region_add */
	memtopo_ctx_lock(mt_ctx(test));
	KUNIT_EXPECT_EQ(test, memtopo_region_clear_discard_manager_locked(d->vmem), -EBUSY);
	memtopo_ctx_unlock(mt_ctx(test));
	KUNIT_ASSERT_EQ(test, memtopo_region_del_subregion(d->sys, d->vmem), 0);
	memtopo_ctx_lock(mt_ctx(test));
	KUNIT_EXPECT_EQ(test, memtopo_region_clear_discard_manager_locked(d->vmem), 0);
	memtopo_ctx_unlock(mt_ctx(test));
}

/* Every errno of the kernel API; each refusal changes nothing and tells nobody. */
static void mt_discard_errno_test(struct kunit *test)
{
	struct mt_dis *d = mt_dis_build(test);
	struct memtopo_region *io = mt_region(test, MEMTOPO_IO, "io", 0x10000);
	struct memtopo_region *odd = mt_region(test, MEMTOPO_RAM, "odd", 0x10800);
	struct memtopo_region *plain = mt_region(test, MEMTOPO_RAM, "plain", 0x10000);
	struct memtopo_discard_listener bad = {};
	struct memtopo_region *win;
	struct memtopo_section s;
	u64 bits;

	KUNIT_ASSERT_EQ(test, mt_dl_reg(test, d, 1, 0x100000, 0x10ffff, 0), 0);
	KUNIT_ASSERT_EQ(test, memtopo_region_populate(d->vmem, 0x1000, 0x1000), 0);
	d->log->n = 0;

	/* memory_region_set_ram_discard_manager(): RAM only, one manager */
	KUNIT_EXPECT_EQ(test, memtopo_region_set_discard_manager(io, 0x1000), -EINVAL);
	KUNIT_EXPECT_EQ(test, memtopo_region_set_discard_manager(plain, 0x800), -EINVAL);
	KUNIT_EXPECT_EQ(test, memtopo_region_set_discard_manager(plain, 0x3000), -EINVAL);
	KUNIT_EXPECT_EQ(test, memtopo_region_set_discard_manager(plain, 0x20000), -EINVAL);
	KUNIT_EXPECT_EQ(test, memtopo_region_set_discard_manager(odd, 0x1000), -EINVAL);
	KUNIT_EXPECT_EQ(test, memtopo_region_set_discard_manager(d->vmem, 0x1000), -EBUSY);
	KUNIT_EXPECT_EQ(test, memtopo_region_set_discard_manager(d->vmem, 0x2000), -EBUSY);
	/* placed (a subregion, an alias's target): no manager may come or go */
	mt_add(test, d->sys, 0x200000, plain, 0);
	KUNIT_EXPECT_EQ(test, memtopo_region_set_discard_manager(plain, 0x1000), -EBUSY);
	KUNIT_ASSERT_EQ(test, memtopo_region_del_subregion(d->sys, plain), 0);
	win = mt_alias(test, "win", plain, 0, 0x1000);
	KUNIT_EXPECT_EQ(test, memtopo_region_set_discard_manager(plain, 0x1000), -EBUSY);
	KUNIT_ASSERT_EQ(test, memtopo_region_destroy(win), 0);

	KUNIT_EXPECT_EQ(test, memtopo_region_populate(plain, 0, 0x1000), -ENOENT);
	KUNIT_EXPECT_EQ(test, memtopo_region_discard(plain, 0, 0x1000), -ENOENT);
	KUNIT_EXPECT_EQ(test, memtopo_region_populate(d->vmem, 0x800, 0x1000), -EINVAL);
	KUNIT_EXPECT_EQ(test, memtopo_region_populate(d->vmem, 0x1000, 0x800), -EINVAL);
	KUNIT_EXPECT_EQ(test, memtopo_region_populate(d->vmem, 0x1000, 0), -EINVAL);
	KUNIT_EXPECT_EQ(test, memtopo_region_populate(d->vmem, 0xf000, 0x2000), -EINVAL);
	KUNIT_EXPECT_EQ(test, memtopo_region_populate(d->vmem, 0x10000, 0x1000), -EINVAL);
	KUNIT_EXPECT_EQ(test, memtopo_region_discard(d->vmem, 0x1000, 0x800), -EINVAL);
	KUNIT_EXPECT_EQ(test, memtopo_region_discard(d->vmem, 0xf000, 0x2000), -EINVAL);
	KUNIT_EXPECT_EQ(test, memtopo_region_populate(d->vmem, U64_MAX - 0xfff, 0x2000),
			-EOVERFLOW);
	KUNIT_EXPECT_EQ(test, memtopo_region_discard(d->vmem, U64_MAX - 0xfff, 0x2000),
			-EOVERFLOW);

	memtopo_ctx_lock(mt_ctx(test));
	KUNIT_EXPECT_EQ(test, memtopo_region_clear_discard_manager_locked(d->vmem), -EBUSY);
	KUNIT_EXPECT_EQ(test, memtopo_region_clear_discard_manager_locked(plain), -ENOENT);
	KUNIT_EXPECT_EQ(test, memtopo_region_discard_state_locked(d->vmem, 0, 17, &bits),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, memtopo_region_discard_state_locked(d->vmem, 16, 1, &bits),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, memtopo_region_discard_state_locked(d->vmem, 0, 0, &bits),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, memtopo_region_discard_state_locked(plain, 0, 1, &bits), -ENOENT);
	memtopo_ctx_unlock(mt_ctx(test));

	/* registration: both callbacks, once, on a managed region inside it */
	mt_section(d->vmem, 0x100000, 0x10ffff, 0, &s);
	KUNIT_EXPECT_EQ(test, memtopo_discard_listener_register(d->as, &s, &bad), -EINVAL);
	KUNIT_EXPECT_EQ(test, memtopo_discard_listener_register(d->as, &s, &d->dls[1].dl),
			-EBUSY);
	bad.ops = &mt_dl_ops;
	mt_section(plain, 0, 0xffff, 0, &s);
	KUNIT_EXPECT_EQ(test, memtopo_discard_listener_register(d->as, &s, &bad), -ENOENT);
	mt_section(d->vmem, 0x100000, 0x110fff, 0, &s);
	KUNIT_EXPECT_EQ(test, memtopo_discard_listener_register(d->as, &s, &bad), -EINVAL);
	mt_section(d->vmem, 0x100010, 0x10000f, 0x10, &s);
	KUNIT_EXPECT_EQ(test, memtopo_discard_listener_register(d->as, &s, &bad), -EINVAL);
	KUNIT_EXPECT_FALSE(test, bad.registered);

	MT_EXPECT_NO_CALLS(test, d->log);
	KUNIT_EXPECT_EQ(test, mt_state(test, d->vmem), 0x2ULL);
	KUNIT_EXPECT_EQ(test, mt_populated(test, d->vmem), 0x1000ULL);
	memtopo_region_destroy(io);
	memtopo_region_destroy(odd);
	memtopo_region_destroy(plain);
}

/*
 * The test consumer: a VFIO-like user that maps only populated memory.  A
 * memory listener registers a discard listener on every section of a
 * managed region from region_add and unregisters it from region_del; the
 * discard listeners map and unmap.  Its mapping is a bitmap of 0x100-byte
 * units of [0, MT_MIR_SPAN): mapping a mapped unit or unmapping an unmapped
 * one is an error, so a doubled or missing notification shows.
 */
#define MT_MIR_UNIT	0x100ULL
#define MT_MIR_SPAN	0x40000ULL
#define MT_MIR_UNITS	(MT_MIR_SPAN / MT_MIR_UNIT)
#define MT_MIR_DLS	16

struct mt_mir_dl {
	struct memtopo_discard_listener dl;
	struct mt_mir *m;
};

struct mt_mir {
	struct memtopo_listener l;
	struct memtopo_space *as;
	struct mt_mir_dl dls[MT_MIR_DLS];
	unsigned long *mapped;
	unsigned int errors;
	bool replaying;
	u32 veto_rnd;		/* refuse populates when a random draw is below it */
	struct rnd_state rnd;
	unsigned int vetoes;
};

static int mt_mir_map(struct mt_mir_dl *md, const struct memtopo_section *s)
{
	struct mt_mir *m = md->m;
	u64 u;

	if (!m->replaying && prandom_u32_state(&m->rnd) < m->veto_rnd) {
		m->vetoes++;
		return -EAGAIN;
	}
	if (s->last >= MT_MIR_SPAN || s->start % MT_MIR_UNIT || (s->last + 1) % MT_MIR_UNIT) {
		m->errors++;
		return 0;
	}
	for (u = s->start / MT_MIR_UNIT; u <= s->last / MT_MIR_UNIT; u++)
		if (__test_and_set_bit(u, m->mapped))
			m->errors++;
	return 0;
}

static int mt_mir_populate(struct memtopo_discard_listener *dl, const struct memtopo_section *s)
{
	return mt_mir_map(container_of(dl, struct mt_mir_dl, dl), s);
}

static void mt_mir_discard(struct memtopo_discard_listener *dl, const struct memtopo_section *s)
{
	struct mt_mir *m = container_of(dl, struct mt_mir_dl, dl)->m;
	u64 u;

	if (s->last >= MT_MIR_SPAN) {
		m->errors++;
		return;
	}
	for (u = s->start / MT_MIR_UNIT; u <= s->last / MT_MIR_UNIT; u++)
		if (!__test_and_clear_bit(u, m->mapped))
			m->errors++;
}

static const struct memtopo_discard_listener_ops mt_mir_dl_ops = {
	.notify_populate = mt_mir_populate,
	.notify_discard = mt_mir_discard,
};

static void mt_mir_add(void *priv, const struct memtopo_section *s)
{
	struct mt_mir *m = priv;
	u64 g, size, pop;
	unsigned int i;

	if (memtopo_region_discard_info_locked(s->mr, &g, &size, &pop))
		return;
	for (i = 0; i < MT_MIR_DLS && m->dls[i].dl.registered; i++)
		;
	if (i == MT_MIR_DLS) {
		m->errors++;
		return;
	}
	m->dls[i].m = m;
	m->dls[i].dl.ops = &mt_mir_dl_ops;
	m->replaying = true;
	if (memtopo_discard_listener_register_locked(m->as, s, &m->dls[i].dl))
		m->errors++;
	m->replaying = false;
}

static void mt_mir_del(void *priv, const struct memtopo_section *s)
{
	struct mt_mir *m = priv;
	unsigned int i;

	for (i = 0; i < MT_MIR_DLS; i++) {
		struct memtopo_discard_listener *dl = &m->dls[i].dl;

		if (dl->registered && dl->section.mr == s->mr && dl->section.start == s->start &&
		    dl->section.last == s->last && dl->section.offset == s->offset) {
			memtopo_discard_listener_unregister_locked(dl);
			return;
		}
	}
}

static const struct memtopo_listener_ops mt_mir_ops = {
	.region_add = mt_mir_add,
	.region_del = mt_mir_del,
};

struct mt_mir_expect {
	unsigned long *want;
	bool bad;
};

/* What the consumer must map: the populated parts of managed ranges. */
static int mt_mir_expect_cb(const struct memtopo_section *s, void *opaque)
{
	struct mt_mir_expect *e = opaque;
	u64 g, size, pop, a, bits;

	if (memtopo_region_discard_info_locked(s->mr, &g, &size, &pop))
		return 0;
	if (s->last >= MT_MIR_SPAN) {
		e->bad = true;
		return 0;
	}
	for (a = s->start; a <= s->last; a += MT_MIR_UNIT) {
		u64 off = s->offset + (a - s->start);

		if (off >= size)
			break;
		if (memtopo_region_discard_state_locked(s->mr, off / g, 1, &bits))
			e->bad = true;
		else if (bits & 1)
			__set_bit(a / MT_MIR_UNIT, e->want);
	}
	return 0;
}

static void mt_mir_check(struct kunit *test, struct mt_mir *m, unsigned int step)
{
	struct mt_mir_expect e = {};

	e.want = kunit_kcalloc(test, BITS_TO_LONGS(MT_MIR_UNITS), sizeof(long), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, e.want);
	memtopo_ctx_lock(mt_ctx(test));
	rcu_read_lock();
	memtopo_space_walk_ranges(m->as, mt_mir_expect_cb, &e);
	rcu_read_unlock();
	memtopo_ctx_unlock(mt_ctx(test));
	KUNIT_ASSERT_FALSE_MSG(test, e.bad, "step %u: expectation out of range", step);
	KUNIT_ASSERT_EQ_MSG(test, m->errors, 0U, "step %u: doubled or missing notification",
			    step);
	KUNIT_ASSERT_TRUE_MSG(test, bitmap_equal(e.want, m->mapped, MT_MIR_UNITS),
			      "step %u: the consumer's mapping differs from the state", step);
	kunit_kfree(test, e.want);
}

#define MT_MIR_STEPS	400

static void mt_discard_mirror_test(struct kunit *test)
{
	struct memtopo_region *sys, *vm[2], *cover, *plain;
	struct rnd_state rnd;
	struct mt_mir *m;
	unsigned int step, i, populated = 0;
	bool cover_on = false;

	m = kunit_kzalloc(test, sizeof(*m), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, m);
	m->mapped = kunit_kcalloc(test, BITS_TO_LONGS(MT_MIR_UNITS), sizeof(long), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, m->mapped);
	prandom_seed_state(&rnd, 20261126);
	prandom_seed_state(&m->rnd, 7);

	sys = mt_region64(test, MEMTOPO_CONTAINER, "sys");
	vm[0] = mt_region(test, MEMTOPO_RAM, "vm0", 0x10000);
	vm[1] = mt_region(test, MEMTOPO_RAM, "vm1", 0x8000);
	cover = mt_region(test, MEMTOPO_IO, "cover", 0x1800);
	plain = mt_region(test, MEMTOPO_RAM, "plain", 0x4000);
	KUNIT_ASSERT_EQ(test, memtopo_region_set_discard_manager(vm[0], 0x1000), 0);
	KUNIT_ASSERT_EQ(test, memtopo_region_set_discard_manager(vm[1], 0x2000), 0);
	KUNIT_ASSERT_EQ(test, memtopo_region_populate(vm[0], 0x2000, 0x3000), 0);
	mt_add(test, sys, 0x10000, vm[0], 0);
	mt_add(test, sys, 0x30000, vm[1], 0);
	mt_add(test, sys, 0x38000, plain, 0);
	m->as = mt_space(test, "mirror", sys);
	m->l.ops = &mt_mir_ops;
	m->l.priv = m;
	mt_listen(test, m->as, &m->l);
	mt_mir_check(test, m, 0);
	/* from here on a tenth of the populates is refused by the consumer */
	m->veto_rnd = U32_MAX / 10;

	for (step = 1; step <= MT_MIR_STEPS; step++) {
		u32 r = prandom_u32_state(&rnd);
		struct memtopo_region *mr = vm[r & 1];
		u64 g = (r & 1) ? 0x2000 : 0x1000;
		u64 nb = memtopo_region_size(mr) / g;
		u64 b = (r >> 8) % nb, n = 1 + (r >> 16) % (nb - b);
		int ret;

		switch ((r >> 1) % 8) {
		case 0:
		case 1:
		case 2:
			ret = memtopo_region_populate(mr, b * g, n * g);
			KUNIT_ASSERT_TRUE(test, ret == 0 || ret == -EAGAIN);
			populated += !ret;
			break;
		case 3:
		case 4:
			KUNIT_ASSERT_EQ(test, memtopo_region_discard(mr, b * g, n * g), 0);
			break;
		case 5:
			/* anywhere 0x100-aligned in the span, may overlap the other */
			KUNIT_ASSERT_EQ(test, memtopo_region_set_address(mr, ((r >> 20) % 0x300) *
							MT_MIR_UNIT), 0);
			break;
		case 6:
			ret = memtopo_region_set_enabled(mr, !memtopo_region_is_enabled(mr));
			KUNIT_ASSERT_EQ(test, ret, 0);
			break;
		case 7:
			/* an I/O window over a part: sections split and merge */
			memtopo_transaction_begin(mt_ctx(test));
			if (cover_on)
				KUNIT_ASSERT_EQ(test, memtopo_region_del_subregion(sys, cover), 0);
			else
				mt_add_overlap(test, sys, ((r >> 20) % 0x3e0) * MT_MIR_UNIT,
					       cover, 1);
			cover_on = !cover_on;
			KUNIT_ASSERT_EQ(test, memtopo_region_set_priority(vm[0], (r >> 30) & 1),
					0);
			KUNIT_ASSERT_EQ(test, memtopo_transaction_commit(mt_ctx(test)), 0);
			break;
		}
		mt_mir_check(test, m, step);
	}
	/* the random walk did what it is meant to */
	KUNIT_EXPECT_GT(test, populated, 20U);
	KUNIT_EXPECT_GT(test, m->vetoes, 2U);

	/* unregistering the consumer unmaps everything */
	mt_unlisten(test, &m->l);
	KUNIT_EXPECT_EQ(test, m->errors, 0U);
	KUNIT_EXPECT_TRUE(test, bitmap_empty(m->mapped, MT_MIR_UNITS));
	for (i = 0; i < MT_MIR_DLS; i++)
		KUNIT_EXPECT_FALSE(test, m->dls[i].dl.registered);
}

/*
 * A vetoed populate leaves everything exactly as it was, over a manager of
 * 256 blocks (four bitmap words): the whole bitmap and the populated
 * bytes, the published view, the context's memory use and each listener's
 * blocks (what it heard populated and not discarded since), and a
 * subscription (a listener taking events) hears nothing: a vetoed
 * populate is never shown.  Random populates and discards, a third of the
 * populates vetoed by a random listener at a random block.
 */
#define MT_VS_BLOCKS	256
#define MT_VS_DLS	3	/* at most ARRAY_SIZE(mt_dis.more) */
#define MT_VS_STEPS	300

struct mt_vs_dl {
	struct memtopo_discard_listener dl;
	DECLARE_BITMAP(held, MT_VS_BLOCKS);
	unsigned int errors;
	u64 veto_at;		/* block refused (U64_MAX: none) */
};

struct mt_vs_sub {
	struct memtopo_listener l;
	unsigned int events;
};

static int mt_vs_populate(struct memtopo_discard_listener *dl, const struct memtopo_section *s)
{
	struct mt_vs_dl *m = container_of(dl, struct mt_vs_dl, dl);
	u64 b, first = s->offset / 0x1000, end = first + (s->last - s->start + 1) / 0x1000;

	if (m->veto_at >= first && m->veto_at < end)
		return -EPERM;
	for (b = first; b < end; b++)
		m->errors += __test_and_set_bit(b, m->held);
	return 0;
}

static void mt_vs_discard(struct memtopo_discard_listener *dl, const struct memtopo_section *s)
{
	struct mt_vs_dl *m = container_of(dl, struct mt_vs_dl, dl);
	u64 b, first = s->offset / 0x1000, end = first + (s->last - s->start + 1) / 0x1000;

	for (b = first; b < end; b++)
		m->errors += !__test_and_clear_bit(b, m->held);
}

static const struct memtopo_discard_listener_ops mt_vs_dl_ops = {
	.notify_populate = mt_vs_populate,
	.notify_discard = mt_vs_discard,
};

static void mt_vs_event(void *priv, const struct memtopo_event *ev)
{
	struct mt_vs_sub *sub = priv;

	sub->events++;
}

static const struct memtopo_listener_ops mt_vs_sub_ops = {
	.event = mt_vs_event,
};

/* @mr's whole state, its populated bytes and the context's memory use */
static void mt_vs_state(struct kunit *test, struct memtopo_region *mr, unsigned long *bits,
			u64 *pop, size_t *used)
{
	u64 words[MT_VS_BLOCKS / 64], g, size;

	memtopo_ctx_lock(mt_ctx(test));
	KUNIT_ASSERT_EQ(test, memtopo_region_discard_state_locked(mr, 0, MT_VS_BLOCKS, words), 0);
	KUNIT_ASSERT_EQ(test, memtopo_region_discard_info_locked(mr, &g, &size, pop), 0);
	*used = memtopo_ctx_mem_used(mt_ctx(test));
	memtopo_ctx_unlock(mt_ctx(test));
	bitmap_from_arr64(bits, words, MT_VS_BLOCKS);
}

static void mt_discard_veto_state_test(struct kunit *test)
{
	DECLARE_BITMAP(before, MT_VS_BLOCKS);
	DECLARE_BITMAP(now, MT_VS_BLOCKS);
	struct mt_dis *d = mt_fix(test)->suite;
	struct memtopo_region *sys, *vmem;
	struct memtopo_section s;
	struct memtopo_space *as;
	struct mt_vs_sub *sub;
	struct mt_vs_dl *dls;
	struct rnd_state rnd;
	unsigned int step, i, vetoed = 0, changed = 0;
	u64 pop_before, pop;
	size_t used_before, used;
	int ret;

	dls = kunit_kzalloc(test, MT_VS_DLS * sizeof(*dls), GFP_KERNEL);
	sub = kunit_kzalloc(test, sizeof(*sub), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, dls);
	KUNIT_ASSERT_NOT_NULL(test, sub);
	prandom_seed_state(&rnd, 20261128);
	sys = mt_region64(test, MEMTOPO_CONTAINER, "sys");
	vmem = mt_region(test, MEMTOPO_RAM, "vmem", MT_VS_BLOCKS * 0x1000);
	KUNIT_ASSERT_EQ(test, memtopo_region_set_discard_manager(vmem, 0x1000), 0);
	mt_add(test, sys, 0x100000, vmem, 0);
	as = mt_space(test, "veto", sys);
	sub->l.ops = &mt_vs_sub_ops;
	sub->l.priv = sub;
	mt_listen(test, as, &sub->l);
	mt_section(vmem, 0x100000, 0x100000 + MT_VS_BLOCKS * 0x1000 - 1, 0, &s);
	for (i = 0; i < MT_VS_DLS; i++) {
		dls[i].dl.ops = &mt_vs_dl_ops;
		dls[i].veto_at = U64_MAX;
		d->more[i] = &dls[i].dl;
		KUNIT_ASSERT_EQ(test, memtopo_discard_listener_register(as, &s, &dls[i].dl), 0);
	}

	for (step = 0; step < MT_VS_STEPS; step++) {
		u32 r = prandom_u32_state(&rnd);
		u64 b = r % MT_VS_BLOCKS, n = 1 + (r >> 8) % (MT_VS_BLOCKS - b);
		bool populate = (r >> 16) % 3, veto = populate && !((r >> 18) % 3);
		struct mt_snap snap;

		mt_vs_state(test, vmem, before, &pop_before, &used_before);
		mt_snapshot(test, as, &snap);
		sub->events = 0;
		if (veto)
			dls[(r >> 20) % MT_VS_DLS].veto_at = b + (r >> 22) % n;
		if (populate)
			ret = memtopo_region_populate(vmem, b * 0x1000, n * 0x1000);
		else
			ret = memtopo_region_discard(vmem, b * 0x1000, n * 0x1000);
		for (i = 0; i < MT_VS_DLS; i++)
			dls[i].veto_at = U64_MAX;
		mt_vs_state(test, vmem, now, &pop, &used);
		/* a veto of a range already populated has nothing to refuse */
		KUNIT_ASSERT_TRUE_MSG(test, ret == 0 || (veto && ret == -EPERM),
				      "step %u: %d", step, ret);
		if (ret) {
			vetoed++;
			KUNIT_EXPECT_TRUE_MSG(test, bitmap_equal(before, now, MT_VS_BLOCKS),
					      "step %u: a vetoed populate changed the state", step);
			KUNIT_EXPECT_EQ_MSG(test, pop, pop_before, "step %u", step);
			KUNIT_EXPECT_EQ_MSG(test, sub->events, 0U,
					    "step %u: a vetoed populate was shown", step);
		} else {
			changed += !bitmap_equal(before, now, MT_VS_BLOCKS);
			KUNIT_EXPECT_EQ_MSG(test, pop, bitmap_weight(now, MT_VS_BLOCKS) * 0x1000ULL,
					    "step %u", step);
		}
		MT_EXPECT_UNCHANGED(test, as, &snap);
		KUNIT_EXPECT_EQ_MSG(test, used, used_before, "step %u", step);
		for (i = 0; i < MT_VS_DLS; i++) {
			KUNIT_EXPECT_EQ_MSG(test, dls[i].errors, 0U,
					    "step %u: listener %u told twice or never", step, i);
			KUNIT_EXPECT_TRUE_MSG(test, bitmap_equal(dls[i].held, now, MT_VS_BLOCKS),
					      "step %u: listener %u holds other blocks", step, i);
		}
		kunit_kfree(test, snap.starts);
		kunit_kfree(test, snap.fr);
		if (test->status == KUNIT_FAILURE)
			break;
	}
	/* the walk did what it is meant to */
	KUNIT_EXPECT_GT(test, vetoed, 20U);
	KUNIT_EXPECT_GT(test, changed, 50U);
}

static struct kunit_case mt_discard_cases[] = {
	KUNIT_CASE(mt_discard_order_test),
	KUNIT_CASE(mt_discard_veto_test),
	KUNIT_CASE(mt_discard_veto_state_test),
	KUNIT_CASE(mt_discard_replay_test),
	KUNIT_CASE(mt_discard_leave_test),
	KUNIT_CASE(mt_discard_errno_test),
	KUNIT_CASE(mt_discard_mirror_test),
	{}
};

static struct kunit_suite mt_discard_suite = {
	.name = "memtopo_discard",
	.init = mt_dis_init,
	.exit = mt_dis_exit,
	.test_cases = mt_discard_cases,
};

kunit_test_suite(mt_discard_suite);
