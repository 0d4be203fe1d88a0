// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit suite "memtopo_engine_space": address spaces, transactions and
 * view sharing.
 *
 * Transactions: nothing is rendered or published before the outermost
 * commit, and the generation only moves when a space's view does.
 * Sharing: spaces whose roots differ only by a covering alias (offset 0)
 * or a container whose only enabled child covers it from 0 share one view
 * object (QEMU's memory_region_get_flatview_root()), and sharing never
 * changes what a space shows.
 */
#include <kunit/test.h>

#include "engine_util.h"

#define K(x) ((u64)(x) * 0x1000)

/* Nothing is rendered until the outermost commit. */
static void mt_space_txn_test(struct kunit *test)
{
	struct memtopo_region *root, *a, *b;
	struct memtopo_space *as;
	struct mt_snap before;
	struct memtopo_ctx *ctx = mt_ctx(test);
	u64 gen;

	root = mt_region(test, MEMTOPO_CONTAINER, "root", K(64));
	a = mt_region(test, MEMTOPO_RAM, "a", K(1));
	b = mt_region(test, MEMTOPO_RAM, "b", K(1));
	as = mt_space(test, "as", root);
	mt_add(test, root, 0, a, 0);
	MT_EXPECT_VIEW(test, as, { 0, K(1) - 1, "a", 0, 0 });
	mt_snapshot(test, as, &before);
	gen = mt_generation(as);

	memtopo_transaction_begin(ctx);
	mt_add(test, root, K(4), b, 0);
	KUNIT_ASSERT_EQ(test, memtopo_region_set_address(a, K(8)), 0);
	MT_EXPECT_UNCHANGED(test, as, &before);

	/* an inner commit renders nothing either */
	memtopo_transaction_begin(ctx);
	KUNIT_ASSERT_EQ(test, memtopo_region_set_readonly(b, true), 0);
	KUNIT_ASSERT_EQ(test, memtopo_transaction_commit(ctx), 0);
	MT_EXPECT_UNCHANGED(test, as, &before);
	MT_EXPECT_VIEW(test, as, { 0, K(1) - 1, "a", 0, 0 });

	KUNIT_ASSERT_EQ(test, memtopo_transaction_commit(ctx), 0);
	MT_EXPECT_VIEW(test, as,
		       { K(4), K(5) - 1, "b", 0, MT_RO },
		       { K(8), K(9) - 1, "a", 0, 0 });
	KUNIT_EXPECT_PTR_NE(test, mt_view_ptr(as), before.view);
	KUNIT_EXPECT_GT(test, mt_generation(as), gen);

	/* a commit without a transaction is refused and changes nothing */
	mt_snapshot(test, as, &before);
	KUNIT_EXPECT_EQ(test, memtopo_transaction_commit(ctx), -EINVAL);
	MT_EXPECT_UNCHANGED(test, as, &before);
}

/* The _locked variants batch under one lock hold, same rules. */
static void mt_space_txn_locked_test(struct kunit *test)
{
	struct memtopo_region *root, *a;
	struct memtopo_space *as;
	struct mt_snap before;
	struct memtopo_ctx *ctx = mt_ctx(test);
	int ret1, ret2, ret3;

	root = mt_region(test, MEMTOPO_CONTAINER, "root", K(64));
	a = mt_region(test, MEMTOPO_RAM, "a", K(1));
	as = mt_space(test, "as", root);
	mt_snapshot(test, as, &before);

	memtopo_ctx_lock(ctx);
	memtopo_transaction_begin_locked(ctx);
	ret1 = memtopo_region_add_subregion_locked(root, K(2), a, 0, false);
	ret2 = memtopo_region_set_address_locked(a, K(3));
	memtopo_ctx_unlock(ctx);
	KUNIT_EXPECT_EQ(test, ret1, 0);
	KUNIT_EXPECT_EQ(test, ret2, 0);
	MT_EXPECT_UNCHANGED(test, as, &before);

	memtopo_ctx_lock(ctx);
	ret3 = memtopo_transaction_commit_locked(ctx);
	memtopo_ctx_unlock(ctx);
	KUNIT_EXPECT_EQ(test, ret3, 0);
	MT_EXPECT_VIEW(test, as, { K(3), K(4) - 1, "a", 0, 0 });
}

/* A space created inside a transaction shows nothing until the commit. */
static void mt_space_create_in_txn_test(struct kunit *test)
{
	struct memtopo_region *ram;
	struct memtopo_space *as;
	struct memtopo_ctx *ctx = mt_ctx(test);

	ram = mt_region(test, MEMTOPO_RAM, "ram", K(2));
	memtopo_transaction_begin(ctx);
	as = memtopo_space_create(ctx, "as", ram);
	if (IS_ERR(as)) {
		memtopo_transaction_commit(ctx);
		KUNIT_FAIL(test, "space_create: %ld", PTR_ERR(as));
		return;
	}
	MT_EXPECT_EMPTY(test, as);
	KUNIT_ASSERT_EQ(test, memtopo_transaction_commit(ctx), 0);
	MT_EXPECT_VIEW(test, as, { 0, K(2) - 1, "ram", 0, 0 });
	KUNIT_EXPECT_STREQ(test, memtopo_space_name(as), "as");
}

/*
 * The generation moves exactly when a space's view changes, and sections
 * carry the generation of the view they come from.
 */
static void mt_space_generation_test(struct kunit *test)
{
	struct memtopo_region *r1, *r2, *a, *other;
	struct memtopo_space *s1, *s2;
	struct memtopo_section sec;
	u64 g1, g2;
	int ret;

	r1 = mt_region(test, MEMTOPO_CONTAINER, "r1", K(64));
	r2 = mt_region(test, MEMTOPO_CONTAINER, "r2", K(64));
	a = mt_region(test, MEMTOPO_RAM, "a", K(1));
	other = mt_region(test, MEMTOPO_RAM, "other", K(1));
	s1 = mt_space(test, "s1", r1);
	s2 = mt_space(test, "s2", r2);
	mt_add(test, r1, 0, a, 0);
	g1 = mt_generation(s1);
	g2 = mt_generation(s2);

	rcu_read_lock();
	ret = memtopo_space_lookup(s1, 0, &sec);
	rcu_read_unlock();
	KUNIT_ASSERT_EQ(test, ret, 0);
	KUNIT_EXPECT_EQ(test, sec.generation, g1);

	/* a change in s2's tree leaves s1's view and generation alone */
	mt_add(test, r2, 0, other, 0);
	KUNIT_EXPECT_EQ(test, mt_generation(s1), g1);
	KUNIT_EXPECT_GT(test, mt_generation(s2), g2);

	/* a change that renders the same view leaves the generation alone */
	g2 = mt_generation(s2);
	mt_rerender(test);
	KUNIT_EXPECT_EQ(test, mt_generation(s1), g1);
	KUNIT_EXPECT_EQ(test, mt_generation(s2), g2);
	memtopo_transaction_begin(mt_ctx(test));
	KUNIT_ASSERT_EQ(test, memtopo_region_set_address(a, K(4)), 0);
	KUNIT_ASSERT_EQ(test, memtopo_region_set_address(a, 0), 0);
	KUNIT_ASSERT_EQ(test, memtopo_transaction_commit(mt_ctx(test)), 0);
	KUNIT_EXPECT_EQ(test, mt_generation(s1), g1);

	KUNIT_ASSERT_EQ(test, memtopo_region_set_address(a, K(4)), 0);
	KUNIT_EXPECT_GT(test, mt_generation(s1), g1);
	rcu_read_lock();
	ret = memtopo_space_lookup(s1, K(4), &sec);
	rcu_read_unlock();
	KUNIT_ASSERT_EQ(test, ret, 0);
	KUNIT_EXPECT_EQ(test, sec.generation, mt_generation(s1));
}

/* The seqcount tells a reader whether a view swap happened in between. */
static void mt_space_seqcount_test(struct kunit *test)
{
	struct memtopo_region *root, *a;
	struct memtopo_space *as;
	unsigned int seq;

	root = mt_region(test, MEMTOPO_CONTAINER, "root", K(64));
	a = mt_region(test, MEMTOPO_RAM, "a", K(1));
	as = mt_space(test, "as", root);

	seq = memtopo_space_read_begin(as);
	mt_rerender(test);	/* same content: nothing is swapped */
	KUNIT_EXPECT_FALSE(test, memtopo_space_read_retry(as, seq));

	seq = memtopo_space_read_begin(as);
	mt_add(test, root, 0, a, 0);
	KUNIT_EXPECT_TRUE(test, memtopo_space_read_retry(as, seq));

	/* an open transaction swaps nothing until its commit */
	memtopo_transaction_begin(mt_ctx(test));
	seq = memtopo_space_read_begin(as);
	KUNIT_ASSERT_EQ(test, memtopo_region_set_address(a, K(1)), 0);
	KUNIT_EXPECT_FALSE(test, memtopo_space_read_retry(as, seq));
	KUNIT_ASSERT_EQ(test, memtopo_transaction_commit(mt_ctx(test)), 0);
	KUNIT_EXPECT_TRUE(test, memtopo_space_read_retry(as, seq));
}

/*
 * Roots that differ only by a covering alias or a covering sole child
 * share one view object, before and after changes below them.
 */
static void mt_space_share_test(struct kunit *test)
{
	struct memtopo_region *sys, *ram, *cover, *wrap, *wrap2, *cover2, *spare, *off;
	struct memtopo_space *s_sys, *s_alias, *s_wrap, *s_chain, *s_off;

	sys = mt_region(test, MEMTOPO_CONTAINER, "sys", K(256));
	ram = mt_region(test, MEMTOPO_RAM, "ram", K(4));
	cover = mt_alias(test, "cover", sys, 0, K(256));
	wrap = mt_region(test, MEMTOPO_CONTAINER, "wrap", K(256));
	wrap2 = mt_region(test, MEMTOPO_CONTAINER, "wrap2", K(512));
	cover2 = mt_alias(test, "cover2", sys, 0, K(512));
	spare = mt_region(test, MEMTOPO_RAM, "spare", K(1));
	off = mt_alias(test, "off", sys, K(1), K(255));
	mt_add(test, sys, K(1), ram, 0);
	mt_add(test, wrap, 0, sys, 0);
	mt_add(test, wrap2, 0, cover2, 0);

	s_sys = mt_space(test, "sys", sys);
	s_alias = mt_space(test, "alias", cover);
	s_wrap = mt_space(test, "wrap", wrap);
	s_chain = mt_space(test, "chain", wrap2);
	s_off = mt_space(test, "off", off);

	MT_EXPECT_VIEW(test, s_sys, { K(1), K(5) - 1, "ram", 0, 0 });
	KUNIT_EXPECT_PTR_EQ(test, mt_view_ptr(s_alias), mt_view_ptr(s_sys));
	KUNIT_EXPECT_PTR_EQ(test, mt_view_ptr(s_wrap), mt_view_ptr(s_sys));
	KUNIT_EXPECT_PTR_EQ(test, mt_view_ptr(s_chain), mt_view_ptr(s_sys));
	/* a shifted alias is a different view: ram one page lower */
	KUNIT_EXPECT_PTR_NE(test, mt_view_ptr(s_off), mt_view_ptr(s_sys));
	MT_EXPECT_VIEW(test, s_off, { 0, K(4) - 1, "ram", 0, 0 });

	/* a change below sys gives all four the same new view */
	KUNIT_ASSERT_EQ(test, memtopo_region_set_readonly(ram, true), 0);
	MT_EXPECT_VIEW(test, s_sys, { K(1), K(5) - 1, "ram", 0, MT_RO });
	KUNIT_EXPECT_PTR_EQ(test, mt_view_ptr(s_alias), mt_view_ptr(s_sys));
	KUNIT_EXPECT_PTR_EQ(test, mt_view_ptr(s_wrap), mt_view_ptr(s_sys));
	KUNIT_EXPECT_PTR_EQ(test, mt_view_ptr(s_chain), mt_view_ptr(s_sys));
	MT_EXPECT_VIEW(test, s_off, { 0, K(4) - 1, "ram", 0, MT_RO });

	/* a disabled second child keeps the wrapper transparent ... */
	mt_add(test, wrap, K(200), spare, 0);
	KUNIT_ASSERT_EQ(test, memtopo_region_set_enabled(spare, false), 0);
	KUNIT_EXPECT_PTR_EQ(test, mt_view_ptr(s_wrap), mt_view_ptr(s_sys));
	/* ... an enabled one does not, and the wrapper shows both */
	KUNIT_ASSERT_EQ(test, memtopo_region_set_enabled(spare, true), 0);
	KUNIT_EXPECT_PTR_NE(test, mt_view_ptr(s_wrap), mt_view_ptr(s_sys));
	MT_EXPECT_VIEW(test, s_wrap,
		       { K(1), K(5) - 1, "ram", 0, MT_RO },
		       { K(200), K(201) - 1, "spare", 0, 0 });
	KUNIT_EXPECT_PTR_EQ(test, mt_view_ptr(s_alias), mt_view_ptr(s_sys));
}

/* A child that does not cover its wrapper from 0 is not a shortcut. */
static void mt_space_share_negative_test(struct kunit *test)
{
	struct memtopo_region *sys, *ram, *small, *at1, *big_alias_src;
	struct memtopo_space *s_sys, *s_small, *s_at1, *s_partial;
	struct memtopo_region *partial;

	sys = mt_region(test, MEMTOPO_CONTAINER, "sys", K(16));
	ram = mt_region(test, MEMTOPO_RAM, "ram", K(16));
	small = mt_region(test, MEMTOPO_CONTAINER, "small", K(8));
	at1 = mt_region(test, MEMTOPO_CONTAINER, "at1", K(32));
	big_alias_src = mt_region(test, MEMTOPO_RAM, "src", K(16));
	/* an alias smaller than its target shows only part of it */
	partial = mt_alias(test, "partial", big_alias_src, 0, K(8));
	mt_add(test, sys, 0, ram, 0);
	s_sys = mt_space(test, "sys", sys);

	/* a wrapper smaller than its child clips it */
	KUNIT_ASSERT_EQ(test, memtopo_region_add_subregion(small, 0, sys, 0, false), 0);
	s_small = mt_space(test, "small", small);
	KUNIT_EXPECT_PTR_NE(test, mt_view_ptr(s_small), mt_view_ptr(s_sys));
	MT_EXPECT_VIEW(test, s_small, { 0, K(8) - 1, "ram", 0, 0 });
	KUNIT_ASSERT_EQ(test, memtopo_region_del_subregion(small, sys), 0);

	/* a child not at 0 shifts */
	mt_add(test, at1, K(1), sys, 0);
	s_at1 = mt_space(test, "at1", at1);
	KUNIT_EXPECT_PTR_NE(test, mt_view_ptr(s_at1), mt_view_ptr(s_sys));
	MT_EXPECT_VIEW(test, s_at1, { K(1), K(17) - 1, "ram", 0, 0 });

	s_partial = mt_space(test, "partial", partial);
	MT_EXPECT_VIEW(test, s_partial, { 0, K(8) - 1, "src", 0, 0 });
}

/*
 * Sharing must not change what a space shows.  QEMU's shortcut skips the
 * wrapper, so an attribute set on a skipped wrapper (readonly,
 * nonvolatile) would be lost, and a target that is itself mapped at a
 * non-zero address would render at that address rather than where the
 * alias puts it.  These spell out what the render rules say.
 */
static void mt_space_share_keeps_attributes_test(struct kunit *test)
{
	struct memtopo_region *sys, *ram, *ro_alias, *ro_wrap, *nv_alias;
	struct memtopo_space *s_sys, *s_ro_alias, *s_ro_wrap, *s_nv;

	sys = mt_region(test, MEMTOPO_CONTAINER, "sys", K(16));
	ram = mt_region(test, MEMTOPO_RAM, "ram", K(4));
	ro_alias = mt_alias(test, "ro_alias", sys, 0, K(16));
	ro_wrap = mt_region(test, MEMTOPO_CONTAINER, "ro_wrap", K(16));
	nv_alias = mt_alias(test, "nv_alias", sys, 0, K(16));
	mt_add(test, sys, 0, ram, 0);
	mt_add(test, ro_wrap, 0, sys, 0);
	KUNIT_ASSERT_EQ(test, memtopo_region_set_readonly(ro_alias, true), 0);
	KUNIT_ASSERT_EQ(test, memtopo_region_set_readonly(ro_wrap, true), 0);
	KUNIT_ASSERT_EQ(test, memtopo_region_set_nonvolatile(nv_alias, true), 0);

	s_sys = mt_space(test, "sys", sys);
	s_ro_alias = mt_space(test, "ro_alias", ro_alias);
	s_ro_wrap = mt_space(test, "ro_wrap", ro_wrap);
	s_nv = mt_space(test, "nv", nv_alias);

	/*
	 * QEMU's memory_region_get_flatview_root() descends through a covering
	 * alias or single child whatever its flags, so the wrapper's readonly
	 * and nonvolatile never reach the view: all four spaces share one
	 * view, as `info mtree -f` shows for QEMU itself.
	 */
	MT_EXPECT_VIEW(test, s_sys, { 0, K(4) - 1, "ram", 0, 0 });
	MT_EXPECT_VIEW(test, s_ro_alias, { 0, K(4) - 1, "ram", 0, 0 });
	MT_EXPECT_VIEW(test, s_ro_wrap, { 0, K(4) - 1, "ram", 0, 0 });
	MT_EXPECT_VIEW(test, s_nv, { 0, K(4) - 1, "ram", 0, 0 });
	KUNIT_EXPECT_PTR_EQ(test, mt_view_ptr(s_sys), mt_view_ptr(s_ro_alias));
}

static void mt_space_share_mapped_target_test(struct kunit *test)
{
	struct memtopo_region *board, *bus, *dev, *cover;
	struct memtopo_space *s_board, *s_bus;

	board = mt_region(test, MEMTOPO_CONTAINER, "board", K(256));
	bus = mt_region(test, MEMTOPO_CONTAINER, "bus", K(16));
	dev = mt_region(test, MEMTOPO_IO, "dev", K(1));
	/* a space over the bus as seen from its own side: an alias at 0 */
	cover = mt_alias(test, "cover", bus, 0, K(16));
	mt_add(test, bus, K(2), dev, 0);
	mt_add(test, board, K(128), bus, 0);

	s_board = mt_space(test, "board", board);
	s_bus = mt_space(test, "bus", cover);
	MT_EXPECT_VIEW(test, s_board, { K(130), K(131) - 1, "dev", 0, 0 });
	/*
	 * QEMU takes the covering alias's target as the root and renders it
	 * at its own address (render_memory_region() adds root->addr), so the
	 * bus shows where it is mapped: a quirk kept for parity.
	 */
	MT_EXPECT_VIEW(test, s_bus, { K(130), K(131) - 1, "dev", 0, 0 });
}

/*
 * A space's root renders at its own address (QEMU adds root->addr too), so
 * moving the root changes the space: the new view must be published by
 * that call, not by whatever unrelated commit comes next.
 */
static void mt_space_root_address_test(struct kunit *test)
{
	struct memtopo_region *ram;
	struct memtopo_space *as;

	ram = mt_region(test, MEMTOPO_RAM, "ram", K(1));
	as = mt_space(test, "as", ram);
	MT_EXPECT_VIEW(test, as, { 0, K(1) - 1, "ram", 0, 0 });
	KUNIT_ASSERT_EQ(test, memtopo_region_set_address(ram, K(4)), 0);
	MT_EXPECT_VIEW(test, as, { K(4), K(5) - 1, "ram", 0, 0 });
	/* a full re-render agrees */
	mt_rerender(test);
	MT_EXPECT_VIEW(test, as, { K(4), K(5) - 1, "ram", 0, 0 });
}

/* Destroying one of two sharing spaces leaves the other's view intact. */
static void mt_space_destroy_shared_test(struct kunit *test)
{
	struct memtopo_region *sys, *ram, *cover;
	struct memtopo_space *s_sys, *s_alias;

	sys = mt_region(test, MEMTOPO_CONTAINER, "sys", K(16));
	ram = mt_region(test, MEMTOPO_RAM, "ram", K(4));
	cover = mt_alias(test, "cover", sys, 0, K(16));
	mt_add(test, sys, 0, ram, 0);
	s_sys = mt_space(test, "sys", sys);
	s_alias = mt_space(test, "alias", cover);
	KUNIT_ASSERT_PTR_EQ(test, mt_view_ptr(s_alias), mt_view_ptr(s_sys));

	KUNIT_ASSERT_EQ(test, memtopo_space_destroy(s_sys), 0);
	/* the view must survive its other user (KASAN would see a free) */
	rcu_barrier();
	MT_EXPECT_VIEW(test, s_alias, { 0, K(4) - 1, "ram", 0, 0 });
	KUNIT_ASSERT_EQ(test, memtopo_region_set_address(ram, K(8)), 0);
	MT_EXPECT_VIEW(test, s_alias, { K(8), K(12) - 1, "ram", 0, 0 });
	/* sys is no longer a root, but it still has a child and an alias */
	KUNIT_EXPECT_EQ(test, memtopo_region_destroy(sys), -EBUSY);
	KUNIT_EXPECT_EQ(test, memtopo_space_destroy(s_alias), 0);
	KUNIT_EXPECT_EQ(test, memtopo_region_destroy(cover), 0);
	KUNIT_EXPECT_EQ(test, memtopo_region_del_subregion(sys, ram), 0);
	KUNIT_EXPECT_EQ(test, memtopo_region_destroy(sys), 0);
}

static struct kunit_case mt_space_cases[] = {
	KUNIT_CASE(mt_space_txn_test),
	KUNIT_CASE(mt_space_txn_locked_test),
	KUNIT_CASE(mt_space_create_in_txn_test),
	KUNIT_CASE(mt_space_generation_test),
	KUNIT_CASE(mt_space_seqcount_test),
	KUNIT_CASE(mt_space_share_test),
	KUNIT_CASE(mt_space_share_negative_test),
	KUNIT_CASE(mt_space_share_keeps_attributes_test),
	KUNIT_CASE(mt_space_share_mapped_target_test),
	KUNIT_CASE(mt_space_root_address_test),
	KUNIT_CASE(mt_space_destroy_shared_test),
	{}
};

static struct kunit_suite mt_space_suite = {
	.name = "memtopo_engine_space",
	.init = mt_fix_init,
	.exit = mt_fix_exit,
	.test_cases = mt_space_cases,
};

kunit_test_suite(mt_space_suite);
