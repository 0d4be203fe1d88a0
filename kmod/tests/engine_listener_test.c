// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit suite "memtopo_engine_listener": the exact sequence of listener
 * calls, as QEMU's address_space_update_topology_pass() and
 * listener_add/del_address_space() make them.
 *
 * Listeners are ordered by priority, lower first ("forward"); equal
 * priorities keep registration order.  Per commit: begin (forward), then
 * region_del for every range that left or changed (reverse), then, range
 * by range in address order, region_add for new ones and region_nop
 * followed by log_start (forward) / log_stop (reverse) for unchanged ones,
 * then commit (forward).  Registering replays the view as region_add (+
 * log_start), unregistering sends log_stop + region_del.
 *
 * All listeners write into one log so the interleaving is checked, not
 * just each listener's own sequence.
 */
#include <kunit/test.h>

#include "engine_util.h"

#define K(x) ((u64)(x) * 0x1000)
#define VGA BIT(MEMTOPO_DIRTY_VGA)
#define VGA_MIG (VGA | BIT(MEMTOPO_DIRTY_MIGRATION))

/* Two listeners of different priorities through adds, moves, splits, flags. */
static void mt_listener_order_test(struct kunit *test)
{
	struct memtopo_region *root, *a, *b, *c, *x;
	struct memtopo_space *as;
	struct mt_log *log = mt_log_new(test);
	struct mt_rec *lo;

	root = mt_region(test, MEMTOPO_CONTAINER, "root", K(64));
	a = mt_region(test, MEMTOPO_RAM, "a", K(4));
	b = mt_region(test, MEMTOPO_RAM, "b", K(1));
	c = mt_region(test, MEMTOPO_RAM, "c", K(1));
	x = mt_region(test, MEMTOPO_IO, "x", K(1));
	as = mt_space(test, "as", root);
	mt_add(test, root, 0, a, 0);
	mt_add(test, root, K(8), b, 0);

	/* registering replays the view to the new listener alone */
	mt_recorder(test, log, as, 1, 10);
	MT_EXPECT_LOG(test, log,
		      MT_BEGIN(1),
		      MT_ADD(1, 0, K(4) - 1, "a", 0, 0),
		      MT_ADD(1, K(8), K(9) - 1, "b", 0, 0),
		      MT_COMMIT(1));
	lo = mt_recorder(test, log, as, 0, 0);
	MT_EXPECT_LOG(test, log,
		      MT_BEGIN(0),
		      MT_ADD(0, 0, K(4) - 1, "a", 0, 0),
		      MT_ADD(0, K(8), K(9) - 1, "b", 0, 0),
		      MT_COMMIT(0));

	/* one commit: b moves, c arrives, a starts dirty logging */
	memtopo_transaction_begin(mt_ctx(test));
	KUNIT_ASSERT_EQ(test, memtopo_region_set_address(b, K(12)), 0);
	mt_add(test, root, K(20), c, 0);
	KUNIT_ASSERT_EQ(test, memtopo_region_set_dirty_log(a, MEMTOPO_DIRTY_VGA, true), 0);
	MT_EXPECT_NO_CALLS(test, log);
	KUNIT_ASSERT_EQ(test, memtopo_transaction_commit(mt_ctx(test)), 0);
	MT_EXPECT_LOG(test, log,
		      MT_BEGIN(0), MT_BEGIN(1),
		      MT_DEL(1, K(8), K(9) - 1, "b", 0, 0),
		      MT_DEL(0, K(8), K(9) - 1, "b", 0, 0),
		      MT_NOP(0, 0, K(4) - 1, "a", 0, 0),
		      MT_NOP(1, 0, K(4) - 1, "a", 0, 0),
		      MT_LOG_START(0, 0, K(4) - 1, "a", 0, 0, 0, VGA),
		      MT_LOG_START(1, 0, K(4) - 1, "a", 0, 0, 0, VGA),
		      MT_ADD(0, K(12), K(13) - 1, "b", 0, 0),
		      MT_ADD(1, K(12), K(13) - 1, "b", 0, 0),
		      MT_ADD(0, K(20), K(21) - 1, "c", 0, 0),
		      MT_ADD(1, K(20), K(21) - 1, "c", 0, 0),
		      MT_COMMIT(0), MT_COMMIT(1));

	/* log_stop goes in reverse order */
	KUNIT_ASSERT_EQ(test, memtopo_region_set_dirty_log(a, MEMTOPO_DIRTY_VGA, false), 0);
	MT_EXPECT_LOG(test, log,
		      MT_BEGIN(0), MT_BEGIN(1),
		      MT_NOP(0, 0, K(4) - 1, "a", 0, 0),
		      MT_NOP(1, 0, K(4) - 1, "a", 0, 0),
		      MT_LOG_STOP(1, 0, K(4) - 1, "a", 0, 0, VGA, 0),
		      MT_LOG_STOP(0, 0, K(4) - 1, "a", 0, 0, VGA, 0),
		      MT_NOP(0, K(12), K(13) - 1, "b", 0, 0),
		      MT_NOP(1, K(12), K(13) - 1, "b", 0, 0),
		      MT_NOP(0, K(20), K(21) - 1, "c", 0, 0),
		      MT_NOP(1, K(20), K(21) - 1, "c", 0, 0),
		      MT_COMMIT(0), MT_COMMIT(1));

	/* a split range is deleted whole, its pieces added */
	mt_add(test, a, K(1), x, 0);
	MT_EXPECT_LOG(test, log,
		      MT_BEGIN(0), MT_BEGIN(1),
		      MT_DEL(1, 0, K(4) - 1, "a", 0, 0),
		      MT_DEL(0, 0, K(4) - 1, "a", 0, 0),
		      MT_ADD(0, 0, K(1) - 1, "a", 0, 0),
		      MT_ADD(1, 0, K(1) - 1, "a", 0, 0),
		      MT_ADD(0, K(1), K(2) - 1, "x", 0, 0),
		      MT_ADD(1, K(1), K(2) - 1, "x", 0, 0),
		      MT_ADD(0, K(2), K(4) - 1, "a", K(2), 0),
		      MT_ADD(1, K(2), K(4) - 1, "a", K(2), 0),
		      MT_NOP(0, K(12), K(13) - 1, "b", 0, 0),
		      MT_NOP(1, K(12), K(13) - 1, "b", 0, 0),
		      MT_NOP(0, K(20), K(21) - 1, "c", 0, 0),
		      MT_NOP(1, K(20), K(21) - 1, "c", 0, 0),
		      MT_COMMIT(0), MT_COMMIT(1));

	/* an attribute change is a del and an add at the same place */
	KUNIT_ASSERT_EQ(test, memtopo_region_set_readonly(c, true), 0);
	MT_EXPECT_LOG(test, log,
		      MT_BEGIN(0), MT_BEGIN(1),
		      MT_DEL(1, K(20), K(21) - 1, "c", 0, 0),
		      MT_DEL(0, K(20), K(21) - 1, "c", 0, 0),
		      MT_NOP(0, 0, K(1) - 1, "a", 0, 0),
		      MT_NOP(1, 0, K(1) - 1, "a", 0, 0),
		      MT_NOP(0, K(1), K(2) - 1, "x", 0, 0),
		      MT_NOP(1, K(1), K(2) - 1, "x", 0, 0),
		      MT_NOP(0, K(2), K(4) - 1, "a", K(2), 0),
		      MT_NOP(1, K(2), K(4) - 1, "a", K(2), 0),
		      MT_NOP(0, K(12), K(13) - 1, "b", 0, 0),
		      MT_NOP(1, K(12), K(13) - 1, "b", 0, 0),
		      MT_ADD(0, K(20), K(21) - 1, "c", 0, MT_RO),
		      MT_ADD(1, K(20), K(21) - 1, "c", 0, MT_RO),
		      MT_COMMIT(0), MT_COMMIT(1));

	/* unregistering sends region_del for the view to that listener only */
	mt_unlisten(test, &lo->l);
	MT_EXPECT_LOG(test, log,
		      MT_BEGIN(0),
		      MT_DEL(0, 0, K(1) - 1, "a", 0, 0),
		      MT_DEL(0, K(1), K(2) - 1, "x", 0, 0),
		      MT_DEL(0, K(2), K(4) - 1, "a", K(2), 0),
		      MT_DEL(0, K(12), K(13) - 1, "b", 0, 0),
		      MT_DEL(0, K(20), K(21) - 1, "c", 0, MT_RO),
		      MT_COMMIT(0));
	KUNIT_ASSERT_EQ(test, memtopo_region_del_subregion(root, b), 0);
	MT_EXPECT_LOG(test, log,
		      MT_BEGIN(1),
		      MT_DEL(1, K(12), K(13) - 1, "b", 0, 0),
		      MT_NOP(1, 0, K(1) - 1, "a", 0, 0),
		      MT_NOP(1, K(1), K(2) - 1, "x", 0, 0),
		      MT_NOP(1, K(2), K(4) - 1, "a", K(2), 0),
		      MT_NOP(1, K(20), K(21) - 1, "c", 0, MT_RO),
		      MT_COMMIT(1));
}

/* Equal priorities keep registration order; lower priorities go first. */
static void mt_listener_priority_ties_test(struct kunit *test)
{
	struct memtopo_region *root, *a;
	struct memtopo_space *as;
	struct mt_log *log = mt_log_new(test);

	root = mt_region(test, MEMTOPO_CONTAINER, "root", K(64));
	a = mt_region(test, MEMTOPO_RAM, "a", K(1));
	as = mt_space(test, "as", root);
	mt_recorder(test, log, as, 0, 5);
	mt_recorder(test, log, as, 1, 5);
	mt_recorder(test, log, as, 2, -5);
	mt_recorder(test, log, as, 3, 5);
	/* empty view: the replays are begin + commit only */
	MT_EXPECT_LOG(test, log, MT_BEGIN(0), MT_COMMIT(0), MT_BEGIN(1), MT_COMMIT(1),
		      MT_BEGIN(2), MT_COMMIT(2), MT_BEGIN(3), MT_COMMIT(3));

	mt_add(test, root, K(1), a, 0);
	MT_EXPECT_LOG(test, log,
		      MT_BEGIN(2), MT_BEGIN(0), MT_BEGIN(1), MT_BEGIN(3),
		      MT_ADD(2, K(1), K(2) - 1, "a", 0, 0),
		      MT_ADD(0, K(1), K(2) - 1, "a", 0, 0),
		      MT_ADD(1, K(1), K(2) - 1, "a", 0, 0),
		      MT_ADD(3, K(1), K(2) - 1, "a", 0, 0),
		      MT_COMMIT(2), MT_COMMIT(0), MT_COMMIT(1), MT_COMMIT(3));
	KUNIT_ASSERT_EQ(test, memtopo_region_del_subregion(root, a), 0);
	MT_EXPECT_LOG(test, log,
		      MT_BEGIN(2), MT_BEGIN(0), MT_BEGIN(1), MT_BEGIN(3),
		      MT_DEL(3, K(1), K(2) - 1, "a", 0, 0),
		      MT_DEL(1, K(1), K(2) - 1, "a", 0, 0),
		      MT_DEL(0, K(1), K(2) - 1, "a", 0, 0),
		      MT_DEL(2, K(1), K(2) - 1, "a", 0, 0),
		      MT_COMMIT(2), MT_COMMIT(0), MT_COMMIT(1), MT_COMMIT(3));
}

/* Replay and unregister carry the dirty-log state (QEMU's log_start/stop). */
static void mt_listener_replay_dirty_test(struct kunit *test)
{
	struct memtopo_region *root, *vram, *ram;
	struct memtopo_space *as;
	struct mt_log *log = mt_log_new(test);
	struct mt_rec *rec;

	root = mt_region(test, MEMTOPO_CONTAINER, "root", K(64));
	vram = mt_region(test, MEMTOPO_RAM, "vram", K(2));
	ram = mt_region(test, MEMTOPO_RAM, "ram", K(1));
	as = mt_space(test, "as", root);
	mt_add(test, root, 0, ram, 0);
	mt_add(test, root, K(4), vram, 0);
	KUNIT_ASSERT_EQ(test, memtopo_region_set_dirty_log(vram, MEMTOPO_DIRTY_VGA, true), 0);
	KUNIT_ASSERT_EQ(test, memtopo_region_set_dirty_log(vram, MEMTOPO_DIRTY_MIGRATION, true),
			0);

	rec = mt_recorder(test, log, as, 0, 0);
	MT_EXPECT_LOG(test, log,
		      MT_BEGIN(0),
		      MT_ADD(0, 0, K(1) - 1, "ram", 0, 0),
		      MT_ADD(0, K(4), K(6) - 1, "vram", 0, 0),
		      MT_LOG_START(0, K(4), K(6) - 1, "vram", 0, 0, 0, VGA_MIG),
		      MT_COMMIT(0));
	/*
	 * A range that arrives already logged is only region_add: log_start
	 * is for ranges that stay (QEMU leaves new ones to region_add).
	 */
	KUNIT_ASSERT_EQ(test, memtopo_region_set_address(vram, K(8)), 0);
	MT_EXPECT_LOG(test, log,
		      MT_BEGIN(0),
		      MT_DEL(0, K(4), K(6) - 1, "vram", 0, 0),
		      MT_NOP(0, 0, K(1) - 1, "ram", 0, 0),
		      MT_ADD(0, K(8), K(10) - 1, "vram", 0, 0),
		      MT_COMMIT(0));
	KUNIT_ASSERT_EQ(test, memtopo_region_set_address(vram, K(4)), 0);
	MT_EXPECT_LOG(test, log,
		      MT_BEGIN(0),
		      MT_DEL(0, K(8), K(10) - 1, "vram", 0, 0),
		      MT_NOP(0, 0, K(1) - 1, "ram", 0, 0),
		      MT_ADD(0, K(4), K(6) - 1, "vram", 0, 0),
		      MT_COMMIT(0));

	mt_unlisten(test, &rec->l);
	MT_EXPECT_LOG(test, log,
		      MT_BEGIN(0),
		      MT_DEL(0, 0, K(1) - 1, "ram", 0, 0),
		      MT_LOG_STOP(0, K(4), K(6) - 1, "vram", 0, 0, VGA_MIG, 0),
		      MT_DEL(0, K(4), K(6) - 1, "vram", 0, 0),
		      MT_COMMIT(0));
	KUNIT_EXPECT_NULL(test, rec->l.space);
}

/*
 * A listener registered inside a transaction is replayed the published
 * view and then told the difference at the commit: nothing twice, nothing
 * missed.  An empty transaction calls nobody.
 */
static void mt_listener_txn_test(struct kunit *test)
{
	struct memtopo_region *root, *a, *b;
	struct memtopo_space *as;
	struct mt_log *log = mt_log_new(test);
	struct memtopo_ctx *ctx = mt_ctx(test);

	root = mt_region(test, MEMTOPO_CONTAINER, "root", K(64));
	a = mt_region(test, MEMTOPO_RAM, "a", K(1));
	b = mt_region(test, MEMTOPO_RAM, "b", K(1));
	as = mt_space(test, "as", root);
	mt_add(test, root, 0, a, 0);

	memtopo_transaction_begin(ctx);
	mt_add(test, root, K(2), b, 0);
	KUNIT_ASSERT_EQ(test, memtopo_region_del_subregion(root, a), 0);
	/* a is detached and destroyed, but the published view still shows it */
	KUNIT_ASSERT_EQ(test, memtopo_region_destroy(a), 0);
	mt_recorder(test, log, as, 0, 0);
	MT_EXPECT_LOG(test, log,
		      MT_BEGIN(0),
		      MT_ADD(0, 0, K(1) - 1, "a", 0, 0),
		      MT_COMMIT(0));
	KUNIT_ASSERT_EQ(test, memtopo_transaction_commit(ctx), 0);
	MT_EXPECT_LOG(test, log,
		      MT_BEGIN(0),
		      MT_DEL(0, 0, K(1) - 1, "a", 0, 0),
		      MT_ADD(0, K(2), K(3) - 1, "b", 0, 0),
		      MT_COMMIT(0));

	memtopo_transaction_begin(ctx);
	KUNIT_ASSERT_EQ(test, memtopo_transaction_commit(ctx), 0);
	MT_EXPECT_NO_CALLS(test, log);
}

/*
 * Two spaces sharing one view: each space's listeners hear the full
 * change; begins all come before any update, commits after all.
 */
static void mt_listener_shared_view_test(struct kunit *test)
{
	struct memtopo_region *sys, *cover, *a;
	struct memtopo_space *s1, *s2;
	struct mt_log *log = mt_log_new(test);

	sys = mt_region(test, MEMTOPO_CONTAINER, "sys", K(64));
	cover = mt_alias(test, "cover", sys, 0, K(64));
	a = mt_region(test, MEMTOPO_RAM, "a", K(1));
	s1 = mt_space(test, "s1", sys);
	s2 = mt_space(test, "s2", cover);
	mt_recorder(test, log, s1, 0, 0);
	mt_recorder(test, log, s2, 1, 1);
	MT_EXPECT_LOG(test, log, MT_BEGIN(0), MT_COMMIT(0), MT_BEGIN(1), MT_COMMIT(1));

	mt_add(test, sys, K(3), a, 0);
	KUNIT_EXPECT_PTR_EQ(test, mt_view_ptr(s1), mt_view_ptr(s2));
	MT_EXPECT_LOG(test, log,
		      MT_BEGIN(0), MT_BEGIN(1),
		      MT_ADD(0, K(3), K(4) - 1, "a", 0, 0),
		      MT_ADD(1, K(3), K(4) - 1, "a", 0, 0),
		      MT_COMMIT(0), MT_COMMIT(1));
}

/*
 * QEMU renders a fresh FlatView for every space at every commit, so a
 * listener hears region_nop for every range of a space whose content did
 * not change (vhost rebuilds its table from add + nop between begin and
 * commit and relies on it).  A listener that gets begin and commit must
 * therefore also get the nops.
 */
static void mt_listener_unchanged_view_nop_test(struct kunit *test)
{
	struct memtopo_region *root, *other_root, *a, *b;
	struct memtopo_space *as, *other;
	struct mt_log *log = mt_log_new(test);

	root = mt_region(test, MEMTOPO_CONTAINER, "root", K(64));
	other_root = mt_region(test, MEMTOPO_CONTAINER, "other_root", K(64));
	a = mt_region(test, MEMTOPO_RAM, "a", K(1));
	b = mt_region(test, MEMTOPO_RAM, "b", K(1));
	as = mt_space(test, "as", root);
	other = mt_space(test, "other", other_root);
	mt_add(test, root, 0, a, 0);
	mt_recorder(test, log, as, 0, 0);
	MT_EXPECT_LOG(test, log, MT_BEGIN(0), MT_ADD(0, 0, K(1) - 1, "a", 0, 0), MT_COMMIT(0));

	/* a change in another space only */
	mt_add(test, other_root, 0, b, 0);
	MT_EXPECT_VIEW(test, other, { 0, K(1) - 1, "b", 0, 0 });
	MT_EXPECT_LOG(test, log, MT_BEGIN(0), MT_NOP(0, 0, K(1) - 1, "a", 0, 0), MT_COMMIT(0));
}

static struct kunit_case mt_listener_cases[] = {
	KUNIT_CASE(mt_listener_order_test),
	KUNIT_CASE(mt_listener_priority_ties_test),
	KUNIT_CASE(mt_listener_replay_dirty_test),
	KUNIT_CASE(mt_listener_txn_test),
	KUNIT_CASE(mt_listener_shared_view_test),
	KUNIT_CASE(mt_listener_unchanged_view_nop_test),
	{}
};

static struct kunit_suite mt_listener_suite = {
	.name = "memtopo_engine_listener",
	.init = mt_fix_init,
	.exit = mt_fix_exit,
	.test_cases = mt_listener_cases,
};

kunit_test_suite(mt_listener_suite);
