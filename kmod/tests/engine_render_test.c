// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit suite "memtopo_engine_render": what a region tree renders to.
 *
 * Every expected view is written out by hand from QEMU's rules
 * (render_memory_region() and flatview_simplify()), not computed: children
 * by priority, most recently added first among equals; a region's own
 * content fills what its children leave; pure containers render nothing
 * themselves; aliases show their target shifted by (alias address - alias
 * offset) and clipped to the alias; disabled regions hide their subtree;
 * readonly and nonvolatile are inherited; adjacent compatible ranges merge.
 */
#include <kunit/test.h>
#include <linux/limits.h>

#include "engine_util.h"

#define K(x) ((u64)(x) * 0x1000)
/* the first address of the last page and of the last two pages */
#define TOP1 (U64_MAX - K(1) + 1)
#define TOP2 (U64_MAX - K(2) + 1)

/* Higher priority wins wherever regions overlap, whatever the add order. */
static void mt_render_priority_test(struct kunit *test)
{
	struct memtopo_region *root, *lo, *hi, *neg;
	struct memtopo_space *as;

	root = mt_region(test, MEMTOPO_CONTAINER, "root", K(16));
	lo = mt_region(test, MEMTOPO_RAM, "lo", K(8));
	hi = mt_region(test, MEMTOPO_RAM, "hi", K(8));
	neg = mt_region(test, MEMTOPO_RAM, "neg", K(16));
	as = mt_space(test, "as", root);

	/* added highest first, so "most recent wins" would give the wrong answer */
	mt_add_overlap(test, root, K(4), hi, 1);
	mt_add_overlap(test, root, 0, lo, 0);
	mt_add_overlap(test, root, 0, neg, -1);
	MT_EXPECT_VIEW(test, as,
		       { 0, K(4) - 1, "lo", 0, 0 },
		       { K(4), K(12) - 1, "hi", 0, 0 },
		       { K(12), K(16) - 1, "neg", K(12), 0 });

	/* raising lo above hi uncovers hi's second half only */
	KUNIT_ASSERT_EQ(test, memtopo_region_set_priority(lo, 2), 0);
	MT_EXPECT_VIEW(test, as,
		       { 0, K(8) - 1, "lo", 0, 0 },
		       { K(8), K(12) - 1, "hi", K(4), 0 },
		       { K(12), K(16) - 1, "neg", K(12), 0 });

	/* the extremes of the signed 32-bit range compare as signed */
	KUNIT_ASSERT_EQ(test, memtopo_region_set_priority(lo, INT_MIN), 0);
	KUNIT_ASSERT_EQ(test, memtopo_region_set_priority(neg, INT_MAX), 0);
	MT_EXPECT_VIEW(test, as, { 0, K(16) - 1, "neg", 0, 0 });
}

/* Equal priorities: the most recently added (or moved) region wins. */
static void mt_render_priority_tie_test(struct kunit *test)
{
	struct memtopo_region *root, *a, *b;
	struct memtopo_space *as;

	root = mt_region(test, MEMTOPO_CONTAINER, "root", K(16));
	a = mt_region(test, MEMTOPO_RAM, "a", K(2));
	b = mt_region(test, MEMTOPO_RAM, "b", K(2));
	as = mt_space(test, "as", root);

	mt_add_overlap(test, root, 0, a, 0);
	mt_add_overlap(test, root, K(1), b, 0);
	MT_EXPECT_VIEW(test, as,
		       { 0, K(1) - 1, "a", 0, 0 },
		       { K(1), K(3) - 1, "b", 0, 0 });

	/* re-adding a makes it the newest */
	KUNIT_ASSERT_EQ(test, memtopo_region_del_subregion(root, a), 0);
	mt_add_overlap(test, root, 0, a, 0);
	MT_EXPECT_VIEW(test, as,
		       { 0, K(2) - 1, "a", 0, 0 },
		       { K(2), K(3) - 1, "b", K(1), 0 });

	/* setting the priority it already has changes nothing */
	KUNIT_ASSERT_EQ(test, memtopo_region_set_priority(b, 0), 0);
	MT_EXPECT_VIEW(test, as,
		       { 0, K(2) - 1, "a", 0, 0 },
		       { K(2), K(3) - 1, "b", K(1), 0 });

	/* moving b re-adds it (QEMU's memory_region_readd_subregion): b is newest */
	KUNIT_ASSERT_EQ(test, memtopo_region_set_address(b, 0x800), 0);
	MT_EXPECT_VIEW(test, as,
		       { 0, 0x7ff, "a", 0, 0 },
		       { 0x800, 0x27ff, "b", 0, 0 });

	/* resizing is not a re-add: a stays older than b and only grows past it */
	KUNIT_ASSERT_EQ(test, memtopo_region_set_size(a, K(3), false), 0);
	MT_EXPECT_VIEW(test, as,
		       { 0, 0x7ff, "a", 0, 0 },
		       { 0x800, 0x27ff, "b", 0, 0 },
		       { 0x2800, K(3) - 1, "a", 0x2800, 0 });
}

/*
 * A RAM or I/O region's children sit on top of it, even with a lower
 * priority than anything (priority only orders siblings); the parent's own
 * content fills the rest.
 */
static void mt_render_terminating_parent_test(struct kunit *test)
{
	struct memtopo_region *root, *ram, *io, *deep;
	struct memtopo_space *as;

	root = mt_region(test, MEMTOPO_CONTAINER, "root", K(256));
	ram = mt_region(test, MEMTOPO_RAM, "ram", K(4));
	io = mt_region(test, MEMTOPO_IO, "io", K(1));
	deep = mt_region(test, MEMTOPO_RAM, "deep", 0x100);
	as = mt_space(test, "as", root);

	mt_add(test, root, K(16), ram, 0);
	mt_add(test, ram, K(1), io, -100);
	mt_add(test, io, 0x800, deep, 0);
	MT_EXPECT_VIEW(test, as,
		       { K(16), K(17) - 1, "ram", 0, 0 },
		       { K(17), K(17) + 0x7ff, "io", 0, 0 },
		       { K(17) + 0x800, K(17) + 0x8ff, "deep", 0, 0 },
		       { K(17) + 0x900, K(18) - 1, "io", 0x900, 0 },
		       { K(18), K(20) - 1, "ram", K(2), 0 });
}

/* Containers render nothing of their own: what no child covers is a hole. */
static void mt_render_container_test(struct kunit *test)
{
	struct memtopo_region *root, *bus, *dev, *empty;
	struct memtopo_space *as;

	root = mt_region(test, MEMTOPO_CONTAINER, "root", K(256));
	bus = mt_region(test, MEMTOPO_CONTAINER, "bus", K(16));
	dev = mt_region(test, MEMTOPO_IO, "dev", K(1));
	empty = mt_region(test, MEMTOPO_CONTAINER, "empty", K(64));
	as = mt_space(test, "as", root);
	MT_EXPECT_EMPTY(test, as);

	/* a container over nothing, even on top, hides nothing and shows nothing */
	mt_add(test, root, K(32), bus, 0);
	mt_add_overlap(test, root, 0, empty, 10);
	MT_EXPECT_EMPTY(test, as);
	mt_add(test, bus, K(2), dev, 0);
	MT_EXPECT_VIEW(test, as, { K(34), K(35) - 1, "dev", 0, 0 });
}

/*
 * A region of size 0 renders nothing and hides nothing, and comes back
 * when resized; a region resized to 2^64 at address 0 covers everything.
 */
static void mt_render_empty_region_test(struct kunit *test)
{
	struct memtopo_region *root, *low, *dev;
	struct memtopo_space *as;

	root = mt_region64(test, MEMTOPO_CONTAINER, "root");
	low = mt_region(test, MEMTOPO_RAM, "low", K(2));
	dev = mt_region(test, MEMTOPO_IO, "dev", K(1));
	as = mt_space(test, "as", root);
	mt_add(test, root, 0, low, -1);
	mt_add_overlap(test, root, K(1), dev, 0);
	MT_EXPECT_VIEW(test, as,
		       { 0, K(1) - 1, "low", 0, 0 },
		       { K(1), K(2) - 1, "dev", 0, 0 });

	KUNIT_ASSERT_EQ(test, memtopo_region_set_size(dev, 0, false), 0);
	MT_EXPECT_VIEW(test, as, { 0, K(2) - 1, "low", 0, 0 });
	KUNIT_ASSERT_EQ(test, memtopo_region_set_size(dev, K(1), false), 0);
	MT_EXPECT_VIEW(test, as,
		       { 0, K(1) - 1, "low", 0, 0 },
		       { K(1), K(2) - 1, "dev", 0, 0 });

	/* low grows to the whole space, still under dev */
	KUNIT_ASSERT_EQ(test, memtopo_region_set_size(low, 0, true), 0);
	MT_EXPECT_VIEW(test, as,
		       { 0, K(1) - 1, "low", 0, 0 },
		       { K(1), K(2) - 1, "dev", 0, 0 },
		       { K(2), U64_MAX, "low", K(2), 0 });
}

/* Every ancestor clips; offsets add up through the levels. */
static void mt_render_clip_test(struct kunit *test)
{
	struct memtopo_region *root, *c1, *c2, *big, *past, *leaf;
	struct memtopo_space *as;

	root = mt_region(test, MEMTOPO_CONTAINER, "root", K(1024));
	c1 = mt_region(test, MEMTOPO_CONTAINER, "c1", K(16));	/* [256, 272) */
	c2 = mt_region(test, MEMTOPO_CONTAINER, "c2", K(2));	/* [268, 270) */
	big = mt_region(test, MEMTOPO_RAM, "big", K(64));
	past = mt_region(test, MEMTOPO_RAM, "past", K(1));
	leaf = mt_region(test, MEMTOPO_RAM, "leaf", 0x10);
	as = mt_space(test, "as", root);

	mt_add(test, root, K(256), c1, 0);
	mt_add(test, c1, K(12), c2, 0);
	/* big starts inside c2 and runs far past c2 and c1: c2 clips it */
	mt_add(test, c2, K(1), big, 0);
	/* past starts where c2 ends: invisible */
	mt_add_overlap(test, c2, K(2), past, 0);
	mt_add(test, c1, 0x10, leaf, 0);
	MT_EXPECT_VIEW(test, as,
		       { K(256) + 0x10, K(256) + 0x1f, "leaf", 0, 0 },
		       { K(269), K(270) - 1, "big", 0, 0 });

	/* growing c2 past c1's end lets big and past through up to c1's end */
	KUNIT_ASSERT_EQ(test, memtopo_region_set_size(c2, K(64), false), 0);
	MT_EXPECT_VIEW(test, as,
		       { K(256) + 0x10, K(256) + 0x1f, "leaf", 0, 0 },
		       { K(269), K(270) - 1, "big", 0, 0 },
		       { K(270), K(271) - 1, "past", 0, 0 },
		       { K(271), K(272) - 1, "big", K(2), 0 });
}

/* Aliases: the target shows at (alias address - offset), clipped to the alias. */
static void mt_render_alias_test(struct kunit *test)
{
	struct memtopo_region *root, *ram, *a, *low;
	struct memtopo_space *as;

	root = mt_region(test, MEMTOPO_CONTAINER, "root", K(256));
	ram = mt_region(test, MEMTOPO_RAM, "ram", K(16));
	a = mt_alias(test, "a", ram, K(2), K(1));
	/* window below the target's base: alias address - offset is negative */
	low = mt_alias(test, "low", ram, K(5), K(2));
	as = mt_space(test, "as", root);

	mt_add(test, root, K(5), a, 0);
	mt_add(test, root, K(1), low, 0);
	/* the view names the target, never the alias */
	MT_EXPECT_VIEW(test, as,
		       { K(1), K(3) - 1, "ram", K(5), 0 },
		       { K(5), K(6) - 1, "ram", K(2), 0 });

	KUNIT_ASSERT_EQ(test, memtopo_region_set_alias_offset(a, K(3)), 0);
	MT_EXPECT_VIEW(test, as,
		       { K(1), K(3) - 1, "ram", K(5), 0 },
		       { K(5), K(6) - 1, "ram", K(3), 0 });

	/* where the target itself is mapped does not move what aliases show */
	mt_add(test, root, K(128), ram, 0);
	MT_EXPECT_VIEW(test, as,
		       { K(1), K(3) - 1, "ram", K(5), 0 },
		       { K(5), K(6) - 1, "ram", K(3), 0 },
		       { K(128), K(144) - 1, "ram", 0, 0 });

	KUNIT_EXPECT_EQ(test, memtopo_region_set_alias_offset(ram, 0), -EINVAL);
}

/* An alias window reaching past its target's end shows only the target. */
static void mt_render_alias_past_end_test(struct kunit *test)
{
	struct memtopo_region *root, *ram, *a;
	struct memtopo_space *as;

	root = mt_region(test, MEMTOPO_CONTAINER, "root", K(256));
	ram = mt_region(test, MEMTOPO_RAM, "ram", K(16));
	a = mt_alias(test, "a", ram, K(15), K(4));
	as = mt_space(test, "as", root);

	mt_add(test, root, K(32), a, 0);
	MT_EXPECT_VIEW(test, as, { K(32), K(33) - 1, "ram", K(15), 0 });

	/* an offset at or past the end shows nothing at all */
	KUNIT_ASSERT_EQ(test, memtopo_region_set_alias_offset(a, K(16)), 0);
	MT_EXPECT_EMPTY(test, as);
	KUNIT_ASSERT_EQ(test, memtopo_region_set_alias_offset(a, U64_MAX), 0);
	MT_EXPECT_EMPTY(test, as);

	/* and the target growing fills the window again */
	KUNIT_ASSERT_EQ(test, memtopo_region_set_alias_offset(a, K(15)), 0);
	KUNIT_ASSERT_EQ(test, memtopo_region_set_size(ram, K(64), false), 0);
	MT_EXPECT_VIEW(test, as, { K(32), K(36) - 1, "ram", K(15), 0 });
}

/* Chains of aliases compose their offsets and clip to every window. */
static void mt_render_alias_chain_test(struct kunit *test)
{
	struct memtopo_region *root, *ram, *a1, *a2, *a3;
	struct memtopo_space *as;

	root = mt_region(test, MEMTOPO_CONTAINER, "root", K(256));
	ram = mt_region(test, MEMTOPO_RAM, "ram", K(64));
	a1 = mt_alias(test, "a1", ram, K(8), K(16));	/* ram [8, 24) */
	a2 = mt_alias(test, "a2", a1, K(4), K(8));	/* ram [12, 20) */
	a3 = mt_alias(test, "a3", a2, K(6), K(8));	/* ram [18, 20): a2 clips */
	as = mt_space(test, "as", root);

	mt_add(test, root, K(100), a2, 0);
	mt_add(test, root, K(200), a3, 0);
	MT_EXPECT_VIEW(test, as,
		       { K(100), K(108) - 1, "ram", K(12), 0 },
		       { K(200), K(202) - 1, "ram", K(18), 0 });

	/* an attribute anywhere along the chain reaches the target's ranges */
	KUNIT_ASSERT_EQ(test, memtopo_region_set_readonly(a1, true), 0);
	MT_EXPECT_VIEW(test, as,
		       { K(100), K(108) - 1, "ram", K(12), MT_RO },
		       { K(200), K(202) - 1, "ram", K(18), MT_RO });

	/* disabling the middle of the chain hides both */
	KUNIT_ASSERT_EQ(test, memtopo_region_set_enabled(a1, false), 0);
	MT_EXPECT_EMPTY(test, as);
}

/* An alias of a container shows the container's children, shifted and clipped. */
static void mt_render_alias_container_test(struct kunit *test)
{
	struct memtopo_region *root, *bus, *x, *y, *win;
	struct memtopo_space *as;

	root = mt_region(test, MEMTOPO_CONTAINER, "root", K(1024));
	bus = mt_region(test, MEMTOPO_CONTAINER, "bus", K(16));
	x = mt_region(test, MEMTOPO_RAM, "x", K(1));
	y = mt_region(test, MEMTOPO_IO, "y", K(2));
	win = mt_alias(test, "win", bus, 0x1800, K(3));
	as = mt_space(test, "as", root);

	mt_add(test, bus, K(1), x, 0);
	mt_add(test, bus, K(3), y, 0);
	mt_add(test, root, K(32), win, 0);
	/* bus [0x1800, 0x4800) at 32K: half of x, a hole, then y up to the window */
	MT_EXPECT_VIEW(test, as,
		       { K(32), K(32) + 0x7ff, "x", 0x800, 0 },
		       { K(33) + 0x800, K(35) - 1, "y", 0, 0 });

	/* the container mapped elsewhere as well renders twice, unshifted there */
	mt_add(test, root, K(64), bus, 0);
	MT_EXPECT_VIEW(test, as,
		       { K(32), K(32) + 0x7ff, "x", 0x800, 0 },
		       { K(33) + 0x800, K(35) - 1, "y", 0, 0 },
		       { K(65), K(66) - 1, "x", 0, 0 },
		       { K(67), K(69) - 1, "y", 0, 0 });

	/* a change inside the target shows through the alias */
	KUNIT_ASSERT_EQ(test, memtopo_region_set_enabled(x, false), 0);
	MT_EXPECT_VIEW(test, as,
		       { K(33) + 0x800, K(35) - 1, "y", 0, 0 },
		       { K(67), K(69) - 1, "y", 0, 0 });
}

/*
 * An alias's own subregions never render (QEMU's render_memory_region()
 * follows mr->alias first), wherever the alias is and whatever they hold;
 * a space rooted beneath the alias renders them as usual.  q35 with
 * intel-iommu: the alias vtd-nodmar holds the alias vtd-ir.
 */
static void mt_render_alias_subregion_test(struct kunit *test)
{
	struct memtopo_region *root, *sys, *ram, *nodmar, *ir, *irmem, *pad, *hi;
	struct memtopo_space *as, *inner;

	root = mt_region(test, MEMTOPO_CONTAINER, "root", K(1024));
	sys = mt_region(test, MEMTOPO_CONTAINER, "sys", K(512));
	ram = mt_region(test, MEMTOPO_RAM, "ram", K(8));
	irmem = mt_region(test, MEMTOPO_IO, "irmem", K(1));
	nodmar = mt_alias(test, "nodmar", sys, 0, K(512));
	ir = mt_alias(test, "ir", irmem, 0, K(1));
	pad = mt_region(test, MEMTOPO_CONTAINER, "pad", K(16));
	hi = mt_region(test, MEMTOPO_RAM, "hi", K(2));
	as = mt_space(test, "as", root);

	mt_add(test, sys, K(4), ram, 0);
	mt_add(test, root, 0, nodmar, 0);
	/* over the target's RAM, at a higher priority: still not rendered */
	mt_add(test, nodmar, K(4), ir, 10);
	mt_add(test, nodmar, K(100), pad, 0);
	mt_add(test, pad, K(1), hi, 0);
	MT_EXPECT_VIEW(test, as, { K(4), K(12) - 1, "ram", 0, 0 });

	/* changes beneath the alias change nothing */
	KUNIT_ASSERT_EQ(test, memtopo_region_set_address(ir, K(5)), 0);
	KUNIT_ASSERT_EQ(test, memtopo_region_set_priority(pad, 5), 0);
	KUNIT_ASSERT_EQ(test, memtopo_region_set_size(hi, K(4), false), 0);
	MT_EXPECT_VIEW(test, as, { K(4), K(12) - 1, "ram", 0, 0 });

	/*
	 * A space rooted beneath the alias sees its own subtree, shifted by
	 * the root's own address as QEMU renders a root (pad is at 100K).
	 */
	inner = mt_space(test, "inner", pad);
	MT_EXPECT_VIEW(test, inner, { K(101), K(105) - 1, "hi", 0, 0 });
	KUNIT_ASSERT_EQ(test, memtopo_region_set_address(hi, K(2)), 0);
	MT_EXPECT_VIEW(test, inner, { K(102), K(106) - 1, "hi", 0, 0 });
	MT_EXPECT_VIEW(test, as, { K(4), K(12) - 1, "ram", 0, 0 });

	/* the alias's target renders where the alias is, its children never */
	KUNIT_ASSERT_EQ(test, memtopo_region_set_alias_offset(nodmar, K(4)), 0);
	MT_EXPECT_VIEW(test, as, { 0, K(8) - 1, "ram", 0, 0 });
	KUNIT_ASSERT_EQ(test, memtopo_region_del_subregion(root, nodmar), 0);
	mt_add(test, root, K(512), nodmar, 0);
	MT_EXPECT_VIEW(test, as, { K(512), K(520) - 1, "ram", 0, 0 });

	/* taken out of the alias, the subregion renders like any other */
	KUNIT_ASSERT_EQ(test, memtopo_region_del_subregion(nodmar, ir), 0);
	mt_add(test, root, K(600), ir, 0);
	MT_EXPECT_VIEW(test, as, { K(512), K(520) - 1, "ram", 0, 0 },
		       { K(600), K(601) - 1, "irmem", 0, 0 });
	mt_rerender(test);
	MT_EXPECT_VIEW(test, inner, { K(102), K(106) - 1, "hi", 0, 0 });
}

/* A disabled region hides its whole subtree; what is beneath shows through. */
static void mt_render_disabled_test(struct kunit *test)
{
	struct memtopo_region *root, *under, *bus, *dev, *ram, *hole;
	struct memtopo_space *as;

	root = mt_region(test, MEMTOPO_CONTAINER, "root", K(64));
	under = mt_region(test, MEMTOPO_RAM, "under", K(16));
	bus = mt_region(test, MEMTOPO_CONTAINER, "bus", K(8));
	dev = mt_region(test, MEMTOPO_IO, "dev", K(4));
	ram = mt_region(test, MEMTOPO_RAM, "ram", K(8));
	hole = mt_region(test, MEMTOPO_IO, "hole", K(1));
	as = mt_space(test, "as", root);

	mt_add_overlap(test, root, 0, under, -1);
	mt_add_overlap(test, root, K(4), bus, 0);
	mt_add(test, bus, 0, dev, 0);
	mt_add(test, root, K(32), ram, 0);
	mt_add(test, ram, K(2), hole, 0);
	MT_EXPECT_VIEW(test, as,
		       { 0, K(4) - 1, "under", 0, 0 },
		       { K(4), K(8) - 1, "dev", 0, 0 },
		       { K(8), K(16) - 1, "under", K(8), 0 },
		       { K(32), K(34) - 1, "ram", 0, 0 },
		       { K(34), K(35) - 1, "hole", 0, 0 },
		       { K(35), K(40) - 1, "ram", K(3), 0 });

	/* bus off: dev goes with it and under shows through, one merged range */
	KUNIT_ASSERT_EQ(test, memtopo_region_set_enabled(bus, false), 0);
	/* a disabled child of RAM leaves the parent whole (and merged) */
	KUNIT_ASSERT_EQ(test, memtopo_region_set_enabled(hole, false), 0);
	MT_EXPECT_VIEW(test, as,
		       { 0, K(16) - 1, "under", 0, 0 },
		       { K(32), K(40) - 1, "ram", 0, 0 });

	/* enabling a child of a disabled parent shows nothing */
	KUNIT_ASSERT_EQ(test, memtopo_region_set_enabled(dev, false), 0);
	KUNIT_ASSERT_EQ(test, memtopo_region_set_enabled(dev, true), 0);
	MT_EXPECT_VIEW(test, as,
		       { 0, K(16) - 1, "under", 0, 0 },
		       { K(32), K(40) - 1, "ram", 0, 0 });

	KUNIT_ASSERT_EQ(test, memtopo_region_set_enabled(bus, true), 0);
	KUNIT_ASSERT_EQ(test, memtopo_region_set_enabled(hole, true), 0);
	MT_EXPECT_VIEW(test, as,
		       { 0, K(4) - 1, "under", 0, 0 },
		       { K(4), K(8) - 1, "dev", 0, 0 },
		       { K(8), K(16) - 1, "under", K(8), 0 },
		       { K(32), K(34) - 1, "ram", 0, 0 },
		       { K(34), K(35) - 1, "hole", 0, 0 },
		       { K(35), K(40) - 1, "ram", K(3), 0 });

	/* a disabled root shows nothing */
	KUNIT_ASSERT_EQ(test, memtopo_region_set_enabled(root, false), 0);
	MT_EXPECT_EMPTY(test, as);
}

/* An alias of a disabled target shows nothing, and shows it again when enabled. */
static void mt_render_disabled_target_test(struct kunit *test)
{
	struct memtopo_region *root, *ram, *a;
	struct memtopo_space *as;

	root = mt_region(test, MEMTOPO_CONTAINER, "root", K(64));
	ram = mt_region(test, MEMTOPO_RAM, "ram", K(4));
	a = mt_alias(test, "a", ram, 0, K(4));
	as = mt_space(test, "as", root);

	mt_add(test, root, K(8), a, 0);
	KUNIT_ASSERT_EQ(test, memtopo_region_set_enabled(ram, false), 0);
	MT_EXPECT_EMPTY(test, as);
	KUNIT_ASSERT_EQ(test, memtopo_region_set_enabled(ram, true), 0);
	MT_EXPECT_VIEW(test, as, { K(8), K(12) - 1, "ram", 0, 0 });
}

/* readonly and nonvolatile flow down through containers, parents and aliases. */
static void mt_render_readonly_test(struct kunit *test)
{
	struct memtopo_region *root, *bus, *ram, *child, *rom, *src, *ro_alias;
	struct memtopo_space *as;

	root = mt_region(test, MEMTOPO_CONTAINER, "root", K(256));
	bus = mt_region(test, MEMTOPO_CONTAINER, "bus", K(16));
	ram = mt_region(test, MEMTOPO_RAM, "ram", K(4));
	child = mt_region(test, MEMTOPO_IO, "child", K(1));
	rom = mt_region(test, MEMTOPO_ROM, "rom", K(2));
	src = mt_region(test, MEMTOPO_RAM, "src", K(4));
	ro_alias = mt_alias(test, "ro_alias", src, 0, K(4));
	as = mt_space(test, "as", root);

	mt_add(test, root, 0, bus, 0);
	mt_add(test, bus, 0, ram, 0);
	mt_add(test, ram, K(1), child, 0);
	mt_add(test, root, K(32), rom, 0);
	mt_add(test, root, K(64), src, 0);
	mt_add(test, root, K(128), ro_alias, 0);
	KUNIT_ASSERT_EQ(test, memtopo_region_set_readonly(ro_alias, true), 0);
	/* a ROM is readonly; the alias is, its target mapped directly is not */
	MT_EXPECT_VIEW(test, as,
		       { 0, K(1) - 1, "ram", 0, 0 },
		       { K(1), K(2) - 1, "child", 0, 0 },
		       { K(2), K(4) - 1, "ram", K(2), 0 },
		       { K(32), K(34) - 1, "rom", 0, MT_RO },
		       { K(64), K(68) - 1, "src", 0, 0 },
		       { K(128), K(132) - 1, "src", 0, MT_RO });

	/* a readonly container makes everything below it readonly */
	KUNIT_ASSERT_EQ(test, memtopo_region_set_readonly(bus, true), 0);
	KUNIT_ASSERT_EQ(test, memtopo_region_set_nonvolatile(ram, true), 0);
	MT_EXPECT_VIEW(test, as,
		       { 0, K(1) - 1, "ram", 0, MT_RO | MT_NV },
		       { K(1), K(2) - 1, "child", 0, MT_RO | MT_NV },
		       { K(2), K(4) - 1, "ram", K(2), MT_RO | MT_NV },
		       { K(32), K(34) - 1, "rom", 0, MT_RO },
		       { K(64), K(68) - 1, "src", 0, 0 },
		       { K(128), K(132) - 1, "src", 0, MT_RO });

	/* clearing a ROM's readonly makes it writable, as QEMU allows */
	KUNIT_ASSERT_EQ(test, memtopo_region_set_readonly(bus, false), 0);
	KUNIT_ASSERT_EQ(test, memtopo_region_set_nonvolatile(ram, false), 0);
	KUNIT_ASSERT_EQ(test, memtopo_region_set_readonly(rom, false), 0);
	MT_EXPECT_VIEW(test, as,
		       { 0, K(1) - 1, "ram", 0, 0 },
		       { K(1), K(2) - 1, "child", 0, 0 },
		       { K(2), K(4) - 1, "ram", K(2), 0 },
		       { K(32), K(34) - 1, "rom", 0, 0 },
		       { K(64), K(68) - 1, "src", 0, 0 },
		       { K(128), K(132) - 1, "src", 0, MT_RO });
}

/* ROM devices carry romd in romd mode only; the switch exists for them alone. */
static void mt_render_romd_test(struct kunit *test)
{
	struct memtopo_region *root, *romd, *ram;
	struct memtopo_space *as;

	root = mt_region(test, MEMTOPO_CONTAINER, "root", K(64));
	romd = mt_region(test, MEMTOPO_ROM_DEVICE, "romd", K(4));
	ram = mt_region(test, MEMTOPO_RAM, "ram", K(4));
	as = mt_space(test, "as", root);

	mt_add(test, root, 0, romd, 0);
	mt_add(test, root, K(4), ram, 0);
	MT_EXPECT_VIEW(test, as,
		       { 0, K(4) - 1, "romd", 0, MT_ROMD },
		       { K(4), K(8) - 1, "ram", 0, 0 });

	KUNIT_ASSERT_EQ(test, memtopo_region_set_romd(romd, false), 0);
	MT_EXPECT_VIEW(test, as,
		       { 0, K(4) - 1, "romd", 0, 0 },
		       { K(4), K(8) - 1, "ram", 0, 0 });

	KUNIT_EXPECT_EQ(test, memtopo_region_set_romd(ram, true), -EINVAL);
	KUNIT_ASSERT_EQ(test, memtopo_region_set_romd(romd, true), 0);
	KUNIT_ASSERT_EQ(test, memtopo_region_set_readonly(root, true), 0);
	MT_EXPECT_VIEW(test, as,
		       { 0, K(4) - 1, "romd", 0, MT_ROMD | MT_RO },
		       { K(4), K(8) - 1, "ram", 0, MT_RO });
}

/*
 * flatview_simplify(): neighbours merge when they are the same region at
 * contiguous offsets with the same attributes, and only then.
 */
static void mt_render_merge_test(struct kunit *test)
{
	struct memtopo_region *root, *ram, *a1, *a2, *a3, *a4, *cover;
	struct memtopo_space *as;

	root = mt_region(test, MEMTOPO_CONTAINER, "root", K(256));
	ram = mt_region(test, MEMTOPO_RAM, "ram", K(64));
	a1 = mt_alias(test, "a1", ram, 0, K(1));
	a2 = mt_alias(test, "a2", ram, K(1), K(1));
	a3 = mt_alias(test, "a3", ram, K(2), K(1));
	a4 = mt_alias(test, "a4", ram, K(4), K(1));	/* offset jumps: no merge */
	cover = mt_region(test, MEMTOPO_IO, "cover", K(1));
	as = mt_space(test, "as", root);

	mt_add(test, root, K(10), a1, 0);
	mt_add(test, root, K(11), a2, 0);
	mt_add(test, root, K(12), a3, 0);
	mt_add(test, root, K(13), a4, 0);
	MT_EXPECT_VIEW(test, as,
		       { K(10), K(13) - 1, "ram", 0, 0 },
		       { K(13), K(14) - 1, "ram", K(4), 0 });

	/* an attribute difference keeps ranges apart */
	KUNIT_ASSERT_EQ(test, memtopo_region_set_readonly(a2, true), 0);
	MT_EXPECT_VIEW(test, as,
		       { K(10), K(11) - 1, "ram", 0, 0 },
		       { K(11), K(12) - 1, "ram", K(1), MT_RO },
		       { K(12), K(13) - 1, "ram", K(2), 0 },
		       { K(13), K(14) - 1, "ram", K(4), 0 });
	KUNIT_ASSERT_EQ(test, memtopo_region_set_readonly(a2, false), 0);
	KUNIT_ASSERT_EQ(test, memtopo_region_set_nonvolatile(a3, true), 0);
	MT_EXPECT_VIEW(test, as,
		       { K(10), K(12) - 1, "ram", 0, 0 },
		       { K(12), K(13) - 1, "ram", K(2), MT_NV },
		       { K(13), K(14) - 1, "ram", K(4), 0 });
	KUNIT_ASSERT_EQ(test, memtopo_region_set_nonvolatile(a3, false), 0);

	/* a region covering the middle splits it; removing it merges again */
	mt_add_overlap(test, root, K(11), cover, 1);
	MT_EXPECT_VIEW(test, as,
		       { K(10), K(11) - 1, "ram", 0, 0 },
		       { K(11), K(12) - 1, "cover", 0, 0 },
		       { K(12), K(13) - 1, "ram", K(2), 0 },
		       { K(13), K(14) - 1, "ram", K(4), 0 });
	KUNIT_ASSERT_EQ(test, memtopo_region_del_subregion(root, cover), 0);

	/* the same region and offsets, but not adjacent: no merge across a hole */
	KUNIT_ASSERT_EQ(test, memtopo_region_set_address(a2, K(20)), 0);
	MT_EXPECT_VIEW(test, as,
		       { K(10), K(11) - 1, "ram", 0, 0 },
		       { K(12), K(13) - 1, "ram", K(2), 0 },
		       { K(13), K(14) - 1, "ram", K(4), 0 },
		       { K(20), K(21) - 1, "ram", K(1), 0 });
}

/* Regions of size 2^64, and regions and aliases that end at 2^64 - 1. */
static void mt_render_edge_2_64_test(struct kunit *test)
{
	struct memtopo_region *root, *top, *whole, *tail, *wa;
	struct memtopo_space *as, *as_whole;

	root = mt_region64(test, MEMTOPO_CONTAINER, "root");
	top = mt_region(test, MEMTOPO_RAM, "top", K(1));
	whole = mt_region64(test, MEMTOPO_RAM, "whole");
	as = mt_space(test, "as", root);
	as_whole = mt_space(test, "whole", whole);

	MT_EXPECT_VIEW(test, as_whole, { 0, U64_MAX, "whole", 0, 0 });

	/* a page ending exactly at 2^64 - 1 */
	mt_add(test, root, U64_MAX - K(1) + 1, top, 0);
	MT_EXPECT_VIEW(test, as, { U64_MAX - K(1) + 1, U64_MAX, "top", 0, 0 });

	/* a region of size 2^64 - 1 at address 1 also ends there */
	tail = mt_region(test, MEMTOPO_RAM, "tail", U64_MAX);
	mt_add_overlap(test, root, 1, tail, -1);
	MT_EXPECT_VIEW(test, as,
		       { 1, U64_MAX - K(1), "tail", 0, 0 },
		       { U64_MAX - K(1) + 1, U64_MAX, "top", 0, 0 });
	KUNIT_ASSERT_EQ(test, memtopo_region_del_subregion(root, tail), 0);

	/*
	 * A 2^64 alias of a 2^64 region at offset 2^63: the upper half of
	 * the target at the bottom, and nothing above 2^63 (past its end).
	 */
	wa = mt_alias64(test, "wa", whole, 1ULL << 63);
	KUNIT_ASSERT_EQ(test, memtopo_region_add_subregion(root, 0, wa, -1, true), 0);
	MT_EXPECT_VIEW(test, as,
		       { 0, (1ULL << 63) - 1, "whole", 1ULL << 63, 0 },
		       { U64_MAX - K(1) + 1, U64_MAX, "top", 0, 0 });

	/* offset 0: the alias covers everything top does not */
	KUNIT_ASSERT_EQ(test, memtopo_region_set_alias_offset(wa, 0), 0);
	MT_EXPECT_VIEW(test, as,
		       { 0, U64_MAX - K(1), "whole", 0, 0 },
		       { U64_MAX - K(1) + 1, U64_MAX, "top", 0, 0 });

	/* top gone: one range of the full 2^64, offset 0 */
	KUNIT_ASSERT_EQ(test, memtopo_region_del_subregion(root, top), 0);
	MT_EXPECT_VIEW(test, as, { 0, U64_MAX, "whole", 0, 0 });
}

/* Small aliases onto the very top of a 2^64 region, merging at the top. */
static void mt_render_edge_top_alias_test(struct kunit *test)
{
	struct memtopo_region *root, *whole, *lo, *hi, *wide;
	struct memtopo_space *as;

	root = mt_region64(test, MEMTOPO_CONTAINER, "root");
	whole = mt_region64(test, MEMTOPO_RAM, "whole");
	lo = mt_alias(test, "lo", whole, TOP2, K(1));
	hi = mt_alias(test, "hi", whole, TOP1, K(1));
	/* a window starting at the last page but twice its size: clipped */
	wide = mt_alias(test, "wide", whole, TOP1, K(2));
	as = mt_space(test, "as", root);

	mt_add(test, root, TOP2, lo, 0);
	mt_add(test, root, TOP1, hi, 0);
	mt_add(test, root, 0, wide, 0);
	MT_EXPECT_VIEW(test, as,
		       { 0, K(1) - 1, "whole", TOP1, 0 },
		       { TOP2, U64_MAX, "whole", TOP2, 0 });
}

/* Overlap without may-overlap is allowed but counted; the rest is not. */
static void mt_render_overlap_stat_test(struct kunit *test)
{
	struct memtopo_region *root, *a, *b, *c, *d, *e;
	struct memtopo_space *as;
	struct memtopo_ctx *ctx = mt_ctx(test);
	u64 base = ctx->stat_overlaps;

	root = mt_region(test, MEMTOPO_CONTAINER, "root", K(64));
	a = mt_region(test, MEMTOPO_RAM, "a", K(2));
	b = mt_region(test, MEMTOPO_RAM, "b", K(1));
	c = mt_region(test, MEMTOPO_RAM, "c", K(1));
	d = mt_region(test, MEMTOPO_RAM, "d", K(1));
	e = mt_region(test, MEMTOPO_RAM, "e", K(1));
	as = mt_space(test, "as", root);

	mt_add(test, root, 0, a, 0);
	KUNIT_EXPECT_EQ(test, ctx->stat_overlaps, base);
	/* d touches a's end without overlapping it */
	mt_add(test, root, K(2), d, 0);
	KUNIT_EXPECT_EQ(test, ctx->stat_overlaps, base);
	/* b overlaps a and says nothing: counted once */
	mt_add(test, root, K(1), b, 0);
	KUNIT_EXPECT_EQ(test, ctx->stat_overlaps, base + 1);
	/* c overlaps a and b but expects to */
	mt_add_overlap(test, root, K(1), c, 1);
	KUNIT_EXPECT_EQ(test, ctx->stat_overlaps, base + 1);
	/* the overlaps are still rendered by the rules: c wins on priority */
	MT_EXPECT_VIEW(test, as,
		       { 0, K(1) - 1, "a", 0, 0 },
		       { K(1), K(2) - 1, "c", 0, 0 },
		       { K(2), K(3) - 1, "d", 0, 0 });
	/* and without c, b wins over a as the more recently added */
	KUNIT_ASSERT_EQ(test, memtopo_region_del_subregion(root, c), 0);
	MT_EXPECT_VIEW(test, as,
		       { 0, K(1) - 1, "a", 0, 0 },
		       { K(1), K(2) - 1, "b", 0, 0 },
		       { K(2), K(3) - 1, "d", 0, 0 });

	/* moving a region onto another counts too; moving it clear does not */
	mt_add(test, root, K(10), e, 0);
	KUNIT_EXPECT_EQ(test, ctx->stat_overlaps, base + 1);
	KUNIT_ASSERT_EQ(test, memtopo_region_set_address(e, K(2)), 0);
	KUNIT_EXPECT_EQ(test, ctx->stat_overlaps, base + 2);
	KUNIT_ASSERT_EQ(test, memtopo_region_set_address(e, K(20)), 0);
	KUNIT_EXPECT_EQ(test, ctx->stat_overlaps, base + 2);
}

/*
 * A long region overlapping a neighbour that expects it, and past that
 * neighbour one that does not: counted.  The only consecutive children
 * that overlap are the long one and its neighbour, so a check of the
 * neighbours alone would miss the one after.
 */
static void mt_render_overlap_past_neighbour_test(struct kunit *test)
{
	struct memtopo_region *root, *lng, *quiet, *far;
	struct memtopo_ctx *ctx = mt_ctx(test);
	u64 base = ctx->stat_overlaps;

	root = mt_region(test, MEMTOPO_CONTAINER, "root", K(64));
	lng = mt_region(test, MEMTOPO_RAM, "long", K(4));
	quiet = mt_region(test, MEMTOPO_RAM, "quiet", K(1));
	far = mt_region(test, MEMTOPO_RAM, "far", K(1));
	mt_space(test, "as", root);

	mt_add_overlap(test, root, K(1), quiet, 0);
	mt_add(test, root, K(3), far, 0);
	KUNIT_EXPECT_EQ(test, ctx->stat_overlaps, base);
	mt_add(test, root, 0, lng, 0);
	KUNIT_EXPECT_EQ(test, ctx->stat_overlaps, base + 1);
	/* moved clear of both, then back over them */
	KUNIT_ASSERT_EQ(test, memtopo_region_set_address(lng, K(8)), 0);
	KUNIT_EXPECT_EQ(test, ctx->stat_overlaps, base + 1);
	KUNIT_ASSERT_EQ(test, memtopo_region_set_address(lng, 0), 0);
	KUNIT_EXPECT_EQ(test, ctx->stat_overlaps, base + 2);
}

/* Searches the reach has answered so far, read as debugfs reads them. */
static u64 mt_reach_hits(struct kunit *test)
{
	struct memtopo_ctx_state st;

	memtopo_ctx_lock(mt_ctx(test));
	memtopo_ctx_describe_locked(mt_ctx(test), &st);
	memtopo_ctx_unlock(mt_ctx(test));
	return st.reach_hits;
}

/*
 * Children overlapping in a chain: the count of overlapping neighbours
 * cannot say where the first child meeting a window is, so a render after
 * a change, and the overlap check of an add, step back from the child just
 * placed over the siblings within the parent's reach instead of descending
 * from the root.  The sibling they step back to is the one that shows
 * first in the window.
 */
static void mt_render_reach_walk_test(struct kunit *test)
{
	struct memtopo_region *root, *a, *b, *c, *d, *e, *far;
	struct memtopo_space *as;
	u64 base;

	root = mt_region(test, MEMTOPO_CONTAINER, "root", K(256));
	a = mt_region(test, MEMTOPO_RAM, "a", K(4));
	b = mt_region(test, MEMTOPO_RAM, "b", K(4));
	c = mt_region(test, MEMTOPO_RAM, "c", K(4));
	d = mt_region(test, MEMTOPO_RAM, "d", K(4));
	e = mt_region(test, MEMTOPO_RAM, "e", K(4));
	far = mt_region(test, MEMTOPO_RAM, "far", K(1));
	as = mt_space(test, "as", root);

	mt_add_overlap(test, root, 0, a, 0);
	mt_add_overlap(test, root, K(2), b, 1);
	mt_add_overlap(test, root, K(4), c, 0);
	mt_add_overlap(test, root, K(6), d, 0);
	mt_add_overlap(test, root, K(8), e, 0);
	MT_EXPECT_VIEW(test, as,
		       { 0, K(2) - 1, "a", 0, 0 },
		       { K(2), K(6) - 1, "b", 0, 0 },
		       { K(6), K(8) - 1, "d", 0, 0 },
		       { K(8), K(12) - 1, "e", 0, 0 });

	/*
	 * c grows from under b and d to past e: the render of [4K, 14K)
	 * steps back from c over b, which shows from 4K, and a, which ends
	 * before the window; a resize checks no overlap, so that is one search
	 */
	base = mt_reach_hits(test);
	KUNIT_ASSERT_EQ(test, memtopo_region_set_size(c, K(10), false), 0);
	KUNIT_EXPECT_EQ(test, mt_reach_hits(test), base + 1);
	MT_EXPECT_VIEW(test, as,
		       { 0, K(2) - 1, "a", 0, 0 },
		       { K(2), K(6) - 1, "b", 0, 0 },
		       { K(6), K(8) - 1, "d", 0, 0 },
		       { K(8), K(12) - 1, "e", 0, 0 },
		       { K(12), K(14) - 1, "c", K(8), 0 });

	/* far from all of them: the overlap check and the render, one each */
	mt_add(test, root, K(64), far, 0);
	KUNIT_EXPECT_EQ(test, mt_reach_hits(test), base + 3);
	MT_EXPECT_VIEW(test, as,
		       { 0, K(2) - 1, "a", 0, 0 },
		       { K(2), K(6) - 1, "b", 0, 0 },
		       { K(6), K(8) - 1, "d", 0, 0 },
		       { K(8), K(12) - 1, "e", 0, 0 },
		       { K(12), K(14) - 1, "c", K(8), 0 },
		       { K(64), K(65) - 1, "far", 0, 0 });
}

/*
 * No reach to step back by: a container with a child covering all of
 * 2^64, and a parent that is not a container (it keeps no reach).  The
 * same changes as above search from the root, and render the same.
 */
static void mt_render_reach_unbounded_test(struct kunit *test)
{
	struct memtopo_region *root, *all, *a, *b, *x, *ram, *ra, *rb, *rx;
	struct memtopo_space *as, *ras;
	u64 base;

	root = mt_region64(test, MEMTOPO_CONTAINER, "root");
	all = mt_region64(test, MEMTOPO_RAM, "all");
	a = mt_region(test, MEMTOPO_RAM, "a", K(4));
	b = mt_region(test, MEMTOPO_RAM, "b", K(4));
	x = mt_region(test, MEMTOPO_RAM, "x", K(1));
	ram = mt_region(test, MEMTOPO_RAM, "ram", K(64));
	ra = mt_region(test, MEMTOPO_RAM, "ra", K(4));
	rb = mt_region(test, MEMTOPO_RAM, "rb", K(4));
	rx = mt_region(test, MEMTOPO_RAM, "rx", K(1));
	as = mt_space(test, "as", root);
	ras = mt_space(test, "ras", ram);

	mt_add_overlap(test, root, 0, all, -1);
	mt_add_overlap(test, root, K(2), a, 0);
	mt_add_overlap(test, root, K(4), b, 0);
	mt_add_overlap(test, ram, K(2), ra, 0);
	mt_add_overlap(test, ram, K(4), rb, 0);

	base = mt_reach_hits(test);
	mt_add(test, root, K(64), x, 0);
	KUNIT_ASSERT_EQ(test, memtopo_region_set_size(x, K(2), false), 0);
	MT_EXPECT_VIEW(test, as,
		       { 0, K(2) - 1, "all", 0, 0 },
		       { K(2), K(4) - 1, "a", 0, 0 },
		       { K(4), K(8) - 1, "b", 0, 0 },
		       { K(8), K(64) - 1, "all", K(8), 0 },
		       { K(64), K(66) - 1, "x", 0, 0 },
		       { K(66), U64_MAX, "all", K(66), 0 });
	KUNIT_EXPECT_EQ(test, mt_reach_hits(test), base);

	mt_add(test, ram, K(32), rx, 0);
	KUNIT_ASSERT_EQ(test, memtopo_region_set_size(rx, K(2), false), 0);
	MT_EXPECT_VIEW(test, ras,
		       { 0, K(2) - 1, "ram", 0, 0 },
		       { K(2), K(4) - 1, "ra", 0, 0 },
		       { K(4), K(8) - 1, "rb", 0, 0 },
		       { K(8), K(32) - 1, "ram", K(8), 0 },
		       { K(32), K(34) - 1, "rx", 0, 0 },
		       { K(34), K(64) - 1, "ram", K(34), 0 });
	KUNIT_EXPECT_EQ(test, mt_reach_hits(test), base);
}

/*
 * The walk back steps over at most 16 siblings within reach: one long
 * child reaching over many short ones.  With 16 before the child placed
 * (the long one last among them) the walk answers; with 17 it gives up and
 * the render descends from the root, finding the long child all the same.
 */
static void mt_render_reach_steps_test(struct kunit *test)
{
	struct memtopo_region *root, *lng, *x, *s[16];
	struct memtopo_space *as;
	char name[8];
	u64 base;
	int i;

	root = mt_region(test, MEMTOPO_CONTAINER, "root", K(256));
	lng = mt_region(test, MEMTOPO_RAM, "long", K(31));
	x = mt_region(test, MEMTOPO_RAM, "x", K(1));
	for (i = 0; i < ARRAY_SIZE(s); i++) {
		snprintf(name, sizeof(name), "s%d", i);
		s[i] = mt_region(test, MEMTOPO_RAM, name, K(1));
	}
	as = mt_space(test, "as", root);

	/* the short ones touch without overlapping; only long overlaps s0 */
	mt_add_overlap(test, root, 0, lng, 1);
	for (i = 0; i < 15; i++)
		mt_add_overlap(test, root, K(2 + i), s[i], 0);

	/* long and s0..s14 before x: 16 steps back, to long */
	base = mt_reach_hits(test);
	mt_add_overlap(test, root, K(30), x, 0);
	KUNIT_EXPECT_EQ(test, mt_reach_hits(test), base + 1);
	MT_EXPECT_VIEW(test, as, { 0, K(31) - 1, "long", 0, 0 });

	/* long and s0..s14 before s15: 16 again */
	mt_add_overlap(test, root, K(17), s[15], 0);
	KUNIT_EXPECT_EQ(test, mt_reach_hits(test), base + 2);

	/* now 17 before x: the walk gives up */
	KUNIT_ASSERT_EQ(test, memtopo_region_set_size(x, K(2), false), 0);
	KUNIT_EXPECT_EQ(test, mt_reach_hits(test), base + 2);
	MT_EXPECT_VIEW(test, as,
		       { 0, K(31) - 1, "long", 0, 0 },
		       { K(31), K(32) - 1, "x", K(1), 0 });
}

static struct kunit_case mt_render_cases[] = {
	KUNIT_CASE(mt_render_overlap_past_neighbour_test),
	KUNIT_CASE(mt_render_priority_test),
	KUNIT_CASE(mt_render_priority_tie_test),
	KUNIT_CASE(mt_render_terminating_parent_test),
	KUNIT_CASE(mt_render_container_test),
	KUNIT_CASE(mt_render_empty_region_test),
	KUNIT_CASE(mt_render_clip_test),
	KUNIT_CASE(mt_render_alias_test),
	KUNIT_CASE(mt_render_alias_past_end_test),
	KUNIT_CASE(mt_render_alias_chain_test),
	KUNIT_CASE(mt_render_alias_container_test),
	KUNIT_CASE(mt_render_alias_subregion_test),
	KUNIT_CASE(mt_render_disabled_test),
	KUNIT_CASE(mt_render_disabled_target_test),
	KUNIT_CASE(mt_render_readonly_test),
	KUNIT_CASE(mt_render_romd_test),
	KUNIT_CASE(mt_render_merge_test),
	KUNIT_CASE(mt_render_edge_2_64_test),
	KUNIT_CASE(mt_render_edge_top_alias_test),
	KUNIT_CASE(mt_render_overlap_stat_test),
	KUNIT_CASE(mt_render_reach_walk_test),
	KUNIT_CASE(mt_render_reach_unbounded_test),
	KUNIT_CASE(mt_render_reach_steps_test),
	{}
};

static struct kunit_suite mt_render_suite = {
	.name = "memtopo_engine_render",
	.init = mt_fix_init,
	.exit = mt_fix_exit,
	.test_cases = mt_render_cases,
};

kunit_test_suite(mt_render_suite);
