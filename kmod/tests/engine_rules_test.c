// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit suite "memtopo_engine_rules": the calls the engine must refuse,
 * and proof that a refused call leaves everything as it was.
 *
 * "As it was" is checked three ways: the call's own error code; the
 * published view (same object, same generation, same entries) after a
 * forced re-render, which would publish any hidden change to the tree;
 * and the refused region's own placement fields and the context's
 * counters.
 */
#include <kunit/test.h>
#include <linux/string.h>

#include "engine_util.h"
#include "selftest.h"

#define K(x) ((u64)(x) * 0x1000)
/* the first address of the last page */
#define LAST_PAGE (U64_MAX - K(1) + 1)

/* The placement of a region, to check a refusal did not touch it. */
struct mt_place {
	struct memtopo_region *parent;
	u64 addr;
	u64 size;
	u64 seq;
	s32 priority;
	u16 flags;
};

static struct mt_place mt_place_of(const struct memtopo_region *mr)
{
	return (struct mt_place){ mr->parent, mr->addr, mr->size, mr->seq, mr->priority,
				  mr->flags };
}

static void mt_expect_refused(struct kunit *test, struct memtopo_space *as,
			      const struct mt_snap *before, struct memtopo_region *mr,
			      const struct mt_place *place, u64 overlaps, int ret, int want,
			      int line)
{
	struct mt_place now;

	KUNIT_EXPECT_EQ_MSG(test, ret, want, "line %d: wrong answer", line);
	KUNIT_EXPECT_EQ_MSG(test, mt_ctx(test)->stat_overlaps, overlaps,
			    "line %d: the refused call counted an overlap", line);
	if (mr) {
		now = mt_place_of(mr);
		KUNIT_EXPECT_TRUE_MSG(test, !memcmp(&now, place, sizeof(now)),
				      "line %d: the refused call changed %s", line, mr->name);
	}
	mt_rerender(test);
	mt_expect_unchanged(test, as, before, line);
}

/*
 * Snapshot the view and @mr's placement, run @call, check it returned
 * @err and changed nothing.  A macro so the failure names the line.
 */
#define MT_REFUSED(test, as, mr, call, err)					\
	do {									\
		struct kunit *__test = (test);					\
		struct memtopo_space *__as = (as);				\
		struct memtopo_region *__mr = (mr);				\
		struct mt_place __place = {};					\
		struct mt_snap __snap;						\
		u64 __overlaps;							\
		int __ret;							\
										\
		mt_snapshot(__test, __as, &__snap);				\
		if (__mr)							\
			__place = mt_place_of(__mr);				\
		__overlaps = mt_ctx(__test)->stat_overlaps;			\
		__ret = (call);							\
		mt_expect_refused(__test, __as, &__snap, __mr, &__place,	\
				  __overlaps, __ret, err, __LINE__);		\
	} while (0)

/* Adding a region beneath itself or one of its descendants: -ELOOP. */
static void mt_rules_loop_ancestor_test(struct kunit *test)
{
	struct memtopo_region *root, *c1, *c2, *ram;
	struct memtopo_space *as;

	root = mt_region(test, MEMTOPO_CONTAINER, "root", K(64));
	c1 = mt_region(test, MEMTOPO_CONTAINER, "c1", K(16));
	c2 = mt_region(test, MEMTOPO_CONTAINER, "c2", K(8));
	ram = mt_region(test, MEMTOPO_RAM, "ram", K(1));
	as = mt_space(test, "as", root);
	mt_add(test, root, K(16), c1, 0);
	mt_add(test, c1, K(4), c2, 0);
	mt_add(test, c2, K(1), ram, 0);
	MT_EXPECT_VIEW(test, as, { K(21), K(22) - 1, "ram", 0, 0 });

	MT_REFUSED(test, as, root, memtopo_region_add_subregion(c2, 0, root, 0, false), -ELOOP);
	MT_REFUSED(test, as, root, memtopo_region_add_subregion(root, 0, root, 0, false), -ELOOP);
	MT_REFUSED(test, as, ram, memtopo_region_add_subregion(ram, 0, ram, 0, true), -EBUSY);
	/* c1 is attached: that is checked first */
	MT_REFUSED(test, as, c1, memtopo_region_add_subregion(c2, 0, c1, 0, false), -EBUSY);

	/* detached, c1 still owns c2: putting c1 under c2 is a loop */
	KUNIT_ASSERT_EQ(test, memtopo_region_del_subregion(root, c1), 0);
	MT_EXPECT_EMPTY(test, as);
	MT_REFUSED(test, as, c1, memtopo_region_add_subregion(c2, 0, c1, 0, false), -ELOOP);
	MT_REFUSED(test, as, c1, memtopo_region_add_subregion(ram, 0, c1, 0, false), -ELOOP);

	/* and the tree still works */
	mt_add(test, root, 0, c1, 0);
	MT_EXPECT_VIEW(test, as, { K(5), K(6) - 1, "ram", 0, 0 });
}

/* Loops through aliases (and containers holding aliases): -ELOOP. */
static void mt_rules_loop_alias_test(struct kunit *test)
{
	struct memtopo_region *root, *u, *t, *a, *b, *self, *p, *x, *ram, *ok;
	struct memtopo_space *as;

	root = mt_region(test, MEMTOPO_CONTAINER, "root", K(64));
	u = mt_region(test, MEMTOPO_CONTAINER, "u", K(16));
	t = mt_region(test, MEMTOPO_CONTAINER, "t", K(8));
	ram = mt_region(test, MEMTOPO_RAM, "ram", K(1));
	a = mt_alias(test, "a", u, 0, K(4));		/* a -> u */
	b = mt_alias(test, "b", a, 0, K(4));		/* b -> a -> u */
	self = mt_alias(test, "self", t, 0, K(4));	/* self -> t */
	p = mt_region(test, MEMTOPO_CONTAINER, "p", K(4));
	x = mt_alias(test, "x", u, 0, K(4));
	ok = mt_alias(test, "ok", ram, 0, K(1));
	as = mt_space(test, "as", root);
	mt_add(test, root, 0, u, 0);
	mt_add(test, u, K(8), t, 0);
	mt_add(test, t, 0, ram, 0);
	mt_add(test, p, 0, x, 0);			/* p holds x -> u */
	MT_EXPECT_VIEW(test, as, { K(8), K(9) - 1, "ram", 0, 0 });

	/* u -> t -> a -> u */
	MT_REFUSED(test, as, a, memtopo_region_add_subregion(t, K(4), a, 0, false), -ELOOP);
	/* u -> t -> b -> a -> u */
	MT_REFUSED(test, as, b, memtopo_region_add_subregion(t, K(4), b, 0, false), -ELOOP);
	/* t -> self -> t */
	MT_REFUSED(test, as, self, memtopo_region_add_subregion(t, K(4), self, 0, false),
		   -ELOOP);
	/* u -> t -> p -> x -> u */
	MT_REFUSED(test, as, p, memtopo_region_add_subregion(t, K(4), p, 0, false), -ELOOP);

	/* an alias of something outside the cycle is fine */
	mt_add(test, t, K(4), ok, 0);
	MT_EXPECT_VIEW(test, as, { K(8), K(9) - 1, "ram", 0, 0 },
		       { K(12), K(13) - 1, "ram", 0, 0 });
}

/*
 * Subregions of aliases: accepted as in QEMU; they keep the subregion
 * edges a forest, and are no render edge, so an alias may hold its own
 * target or an alias of itself.
 */
static void mt_rules_alias_parent_test(struct kunit *test)
{
	struct memtopo_region *root, *c, *d, *t, *a, *b, *ram;
	struct memtopo_space *as;

	root = mt_region(test, MEMTOPO_CONTAINER, "root", K(64));
	c = mt_region(test, MEMTOPO_CONTAINER, "c", K(16));
	d = mt_region(test, MEMTOPO_CONTAINER, "d", K(4));
	t = mt_region(test, MEMTOPO_CONTAINER, "t", K(8));
	ram = mt_region(test, MEMTOPO_RAM, "ram", K(1));
	a = mt_alias(test, "a", t, 0, K(8));		/* a -> t */
	b = mt_alias(test, "b", a, 0, K(8));		/* b -> a -> t */
	as = mt_space(test, "as", root);
	mt_add(test, t, K(2), ram, 0);
	mt_add(test, c, 0, a, 0);			/* c holds a */
	mt_add(test, a, 0, d, 0);			/* a holds d */

	/* tree cycles through an alias's subregions */
	MT_REFUSED(test, as, c, memtopo_region_add_subregion(d, 0, c, 0, false), -ELOOP);
	MT_REFUSED(test, as, c, memtopo_region_add_subregion(a, K(1), c, 0, false), -ELOOP);
	MT_REFUSED(test, as, a, memtopo_region_add_subregion(a, 0, a, 0, false), -EBUSY);
	KUNIT_ASSERT_EQ(test, memtopo_region_del_subregion(c, a), 0);
	MT_REFUSED(test, as, a, memtopo_region_add_subregion(a, 0, a, 0, false), -ELOOP);
	MT_REFUSED(test, as, a, memtopo_region_add_subregion(d, 0, a, 0, false), -ELOOP);
	mt_add(test, c, 0, a, 0);

	/* no render edge: the target, or an alias of the alias, may go under it */
	mt_add(test, a, K(4), t, 0);
	mt_add(test, a, 0x800, b, 0);
	mt_add(test, root, K(16), c, 0);
	MT_EXPECT_VIEW(test, as, { K(18), K(19) - 1, "ram", 0, 0 });

	/* destroy rules: an alias with subregions is busy */
	KUNIT_ASSERT_EQ(test, memtopo_region_del_subregion(c, a), 0);
	MT_EXPECT_EMPTY(test, as);
	MT_REFUSED(test, as, a, memtopo_region_destroy(a), -EBUSY);
	KUNIT_ASSERT_EQ(test, memtopo_region_del_subregion(a, b), 0);
	KUNIT_ASSERT_EQ(test, memtopo_region_destroy(b), 0);
	KUNIT_ASSERT_EQ(test, memtopo_region_del_subregion(a, t), 0);
	KUNIT_ASSERT_EQ(test, memtopo_region_del_subregion(a, d), 0);
	KUNIT_ASSERT_EQ(test, memtopo_region_destroy(a), 0);
	KUNIT_EXPECT_EQ(test, t->alias_users, 0);
}

/* Depth counts subregions of aliases too: -EMLINK past MEMTOPO_MAX_DEPTH. */
static void mt_rules_alias_parent_depth_test(struct kunit *test)
{
	struct memtopo_region *chain[MEMTOPO_MAX_DEPTH + 1], *t, *leaf;
	struct memtopo_space *as;
	unsigned int i;

	t = mt_region(test, MEMTOPO_RAM, "t", K(1));
	leaf = mt_region(test, MEMTOPO_RAM, "leaf", K(1));
	for (i = 0; i <= MEMTOPO_MAX_DEPTH; i++)
		chain[i] = mt_alias(test, "al", t, 0, K(1));
	as = mt_space(test, "as", chain[0]);
	for (i = 1; i <= MEMTOPO_MAX_DEPTH; i++)
		mt_add(test, chain[i - 1], 0, chain[i], 0);
	MT_EXPECT_VIEW(test, as, { 0, K(1) - 1, "t", 0, 0 });
	MT_REFUSED(test, as, leaf,
		   memtopo_region_add_subregion(chain[MEMTOPO_MAX_DEPTH], 0, leaf, 0, false),
		   -EMLINK);
}

/* addr + size past 2^64: -EOVERFLOW, for adds, moves and resizes. */
static void mt_rules_overflow_test(struct kunit *test)
{
	struct memtopo_region *root, *ram, *whole, *moved;
	struct memtopo_space *as;

	root = mt_region64(test, MEMTOPO_CONTAINER, "root");
	ram = mt_region(test, MEMTOPO_RAM, "ram", K(1));
	whole = mt_region64(test, MEMTOPO_RAM, "whole");
	moved = mt_region(test, MEMTOPO_RAM, "moved", K(2));
	as = mt_space(test, "as", root);
	mt_add(test, root, K(4), moved, 0);
	MT_EXPECT_VIEW(test, as, { K(4), K(6) - 1, "moved", 0, 0 });

	/* one byte too far; the page that fits exactly is the control */
	MT_REFUSED(test, as, ram, memtopo_region_add_subregion(root, LAST_PAGE + 1, ram, 0, false),
		   -EOVERFLOW);
	MT_REFUSED(test, as, ram, memtopo_region_add_subregion(root, U64_MAX, ram, 0, false),
		   -EOVERFLOW);
	MT_REFUSED(test, as, whole, memtopo_region_add_subregion(root, 1, whole, -1, true),
		   -EOVERFLOW);
	mt_add(test, root, LAST_PAGE, ram, 0);
	MT_EXPECT_VIEW(test, as, { K(4), K(6) - 1, "moved", 0, 0 },
		       { LAST_PAGE, U64_MAX, "ram", 0, 0 });

	MT_REFUSED(test, as, moved, memtopo_region_set_address(moved, U64_MAX), -EOVERFLOW);
	MT_REFUSED(test, as, moved, memtopo_region_set_address(moved, LAST_PAGE), -EOVERFLOW);
	MT_REFUSED(test, as, moved, memtopo_region_set_size(moved, U64_MAX, false), -EOVERFLOW);
	MT_REFUSED(test, as, moved, memtopo_region_set_size(moved, 0, true), -EOVERFLOW);
	MT_REFUSED(test, as, ram, memtopo_region_set_size(ram, K(1) + 1, false), -EOVERFLOW);

	/* the largest legal values go through */
	KUNIT_ASSERT_EQ(test, memtopo_region_set_address(moved, LAST_PAGE - K(1)), 0);
	KUNIT_ASSERT_EQ(test, memtopo_region_set_priority(moved, 1), 0);
	MT_EXPECT_VIEW(test, as, { LAST_PAGE - K(1), U64_MAX, "moved", 0, 0 });
}

/* Objects in use cannot be reused or destroyed: -EBUSY, nothing changes. */
static void mt_rules_busy_test(struct kunit *test)
{
	struct memtopo_region *root, *bus, *other, *ram, *target, *alias, *lone;
	struct memtopo_space *as;
	struct memtopo_listener *l;
	static const struct memtopo_listener_ops no_ops;
	unsigned int nr_regions;

	root = mt_region(test, MEMTOPO_CONTAINER, "root", K(64));
	bus = mt_region(test, MEMTOPO_CONTAINER, "bus", K(16));
	other = mt_region(test, MEMTOPO_CONTAINER, "other", K(16));
	ram = mt_region(test, MEMTOPO_RAM, "ram", K(1));
	target = mt_region(test, MEMTOPO_RAM, "target", K(1));
	alias = mt_alias(test, "alias", target, 0, K(1));
	lone = mt_region(test, MEMTOPO_CONTAINER, "lone", K(4));
	as = mt_space(test, "as", root);
	mt_add(test, root, 0, bus, 0);
	mt_add(test, bus, K(1), ram, 0);
	mt_add(test, root, K(32), alias, 0);
	MT_EXPECT_VIEW(test, as, { K(1), K(2) - 1, "ram", 0, 0 },
		       { K(32), K(33) - 1, "target", 0, 0 });
	nr_regions = mt_ctx(test)->nr_regions;

	/* a region has one parent */
	MT_REFUSED(test, as, ram, memtopo_region_add_subregion(other, 0, ram, 0, false), -EBUSY);
	/* attached, with children, aliased, or a space's root: not destroyable */
	MT_REFUSED(test, as, ram, memtopo_region_destroy(ram), -EBUSY);
	MT_REFUSED(test, as, bus, memtopo_region_destroy(bus), -EBUSY);
	MT_REFUSED(test, as, target, memtopo_region_destroy(target), -EBUSY);
	MT_REFUSED(test, as, root, memtopo_region_destroy(root), -EBUSY);
	mt_add(test, lone, 0, other, 0);
	MT_REFUSED(test, as, lone, memtopo_region_destroy(lone), -EBUSY);
	KUNIT_EXPECT_EQ(test, mt_ctx(test)->nr_regions, nr_regions);

	/* a space with a listener, and a listener registered twice */
	/* test-managed: the fixture may unregister it after a failed assert */
	l = kunit_kzalloc(test, sizeof(*l), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, l);
	l->ops = &no_ops;
	mt_listen(test, as, l);
	MT_REFUSED(test, as, NULL, memtopo_space_destroy(as), -EBUSY);
	MT_REFUSED(test, as, NULL, memtopo_listener_register(as, l), -EBUSY);
	mt_unlisten(test, l);
	KUNIT_EXPECT_NULL(test, l->space);

	/* a destroyed region is gone for good (our reference keeps the memory) */
	KUNIT_ASSERT_EQ(test, memtopo_region_del_subregion(lone, other), 0);
	memtopo_region_get(lone);
	KUNIT_EXPECT_EQ(test, memtopo_region_destroy(lone), 0);
	MT_REFUSED(test, as, NULL, memtopo_region_destroy(lone), -ENOENT);
	MT_REFUSED(test, as, NULL, memtopo_region_add_subregion(root, K(40), lone, 0, false),
		   -ENOENT);
	MT_REFUSED(test, as, NULL, memtopo_region_add_subregion(lone, 0, other, 0, false),
		   -ENOENT);
	memtopo_region_put(lone);
	KUNIT_EXPECT_EQ(test, mt_ctx(test)->nr_regions, nr_regions - 1);
	/* removing what is not a child */
	MT_REFUSED(test, as, ram, memtopo_region_del_subregion(root, ram), -ENOENT);
}

/* Depth and alias-chain bounds: -EMLINK, and the bound itself is reachable. */
static void mt_rules_limits_test(struct kunit *test)
{
	struct memtopo_region *chain[MEMTOPO_MAX_DEPTH + 1], *p, *q, *ram;
	struct memtopo_region *al[MEMTOPO_MAX_ALIAS_CHAIN + 1];
	struct memtopo_region_info info = { .kind = MEMTOPO_ALIAS, .name = "too_long",
					    .size = K(1) };
	struct memtopo_region *too_long;
	struct memtopo_space *as;
	unsigned int i, nr_regions;

	for (i = 0; i <= MEMTOPO_MAX_DEPTH; i++) {
		chain[i] = mt_region(test, MEMTOPO_CONTAINER, "chain", K(1));
		if (i)
			mt_add(test, chain[i - 1], 0, chain[i], 0);
	}
	/* chain[MAX_DEPTH] sits at depth MAX_DEPTH: the bound is reachable */
	as = mt_space(test, "as", chain[0]);
	p = mt_region(test, MEMTOPO_CONTAINER, "p", K(1));
	q = mt_region(test, MEMTOPO_RAM, "q", K(1));
	mt_add(test, p, 0, q, 0);
	MT_EXPECT_EMPTY(test, as);

	MT_REFUSED(test, as, q, memtopo_region_add_subregion(p, 0, q, 0, false), -EBUSY);
	ram = mt_region(test, MEMTOPO_RAM, "ram", K(1));
	MT_REFUSED(test, as, ram, memtopo_region_add_subregion(chain[MEMTOPO_MAX_DEPTH], 0, ram,
							       0, false), -EMLINK);
	/* p's own height counts: p at depth MAX_DEPTH puts q one deeper */
	MT_REFUSED(test, as, p, memtopo_region_add_subregion(chain[MEMTOPO_MAX_DEPTH - 1], 0, p,
							     0, false), -EMLINK);
	mt_add(test, chain[MEMTOPO_MAX_DEPTH - 2], 0, p, 0);
	MT_EXPECT_VIEW(test, as, { 0, K(1) - 1, "q", 0, 0 });

	/* a chain of MAX_ALIAS_CHAIN aliases works, one more is refused */
	al[0] = mt_region(test, MEMTOPO_RAM, "al0", K(1));
	for (i = 1; i <= MEMTOPO_MAX_ALIAS_CHAIN; i++)
		al[i] = mt_alias(test, "al", al[i - 1], 0, K(1));
	nr_regions = mt_ctx(test)->nr_regions;
	info.alias_target = al[MEMTOPO_MAX_ALIAS_CHAIN];
	too_long = memtopo_region_create(mt_ctx(test), &info);
	KUNIT_EXPECT_EQ(test, PTR_ERR_OR_ZERO(too_long), -EMLINK);
	KUNIT_EXPECT_EQ(test, mt_ctx(test)->nr_regions, nr_regions);
	KUNIT_EXPECT_EQ(test, al[MEMTOPO_MAX_ALIAS_CHAIN]->alias_users, 0);
	KUNIT_EXPECT_EQ(test, refcount_read(&al[MEMTOPO_MAX_ALIAS_CHAIN]->ref), 1);
	mt_add(test, chain[1], K(1) / 2, al[MEMTOPO_MAX_ALIAS_CHAIN], 1);
	MT_EXPECT_VIEW(test, as, { 0, K(1) / 2 - 1, "q", 0, 0 },
		       { K(1) / 2, K(1) - 1, "al0", 0, 0 });
}

/* Malformed requests: -EINVAL, and nothing is created. */
static void mt_rules_invalid_test(struct kunit *test)
{
	struct memtopo_region *root, *ram, *alias, *mr;
	struct memtopo_region_info info = {};
	struct memtopo_space *as, *bad_as;
	struct memtopo_ctx *ctx = mt_ctx(test), *other;
	char long_name[MEMTOPO_MAX_NAME + 1];
	unsigned int nr_regions;

	root = mt_region(test, MEMTOPO_CONTAINER, "root", K(64));
	ram = mt_region(test, MEMTOPO_RAM, "ram", K(1));
	alias = mt_alias(test, "alias", ram, 0, K(1));
	as = mt_space(test, "as", root);
	mt_add(test, root, 0, alias, 0);
	nr_regions = ctx->nr_regions;
	memset(long_name, 'x', MEMTOPO_MAX_NAME);
	long_name[MEMTOPO_MAX_NAME] = '\0';

	info = (struct memtopo_region_info){ .kind = MEMTOPO_KIND_COUNT, .name = "k", .size = 1 };
	KUNIT_EXPECT_EQ(test, PTR_ERR_OR_ZERO(memtopo_region_create(ctx, &info)), -EINVAL);
	info = (struct memtopo_region_info){ .kind = MEMTOPO_RAM, .name = long_name, .size = 1 };
	KUNIT_EXPECT_EQ(test, PTR_ERR_OR_ZERO(memtopo_region_create(ctx, &info)), -EINVAL);
	info = (struct memtopo_region_info){ .kind = MEMTOPO_ALIAS, .name = "a", .size = 1 };
	KUNIT_EXPECT_EQ(test, PTR_ERR_OR_ZERO(memtopo_region_create(ctx, &info)), -EINVAL);
	info = (struct memtopo_region_info){ .kind = MEMTOPO_RAM, .name = "r", .size = 1,
					     .alias_target = ram };
	KUNIT_EXPECT_EQ(test, PTR_ERR_OR_ZERO(memtopo_region_create(ctx, &info)), -EINVAL);
	KUNIT_EXPECT_EQ(test, ctx->nr_regions, nr_regions);
	KUNIT_EXPECT_EQ(test, ram->alias_users, 1);

	bad_as = memtopo_space_create(ctx, long_name, root);
	KUNIT_EXPECT_EQ(test, PTR_ERR_OR_ZERO(bad_as), -EINVAL);
	bad_as = memtopo_space_create(ctx, "null", NULL);
	KUNIT_EXPECT_EQ(test, PTR_ERR_OR_ZERO(bad_as), -EINVAL);
	KUNIT_EXPECT_EQ(test, ctx->nr_spaces, 1);

	MT_REFUSED(test, as, ram, memtopo_region_set_dirty_log(ram, MEMTOPO_DIRTY_CLIENTS, true),
		   -EINVAL);

	/* objects of another context do not mix with ours */
	other = memtopo_ctx_create("other");
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, other);
	info = (struct memtopo_region_info){ .kind = MEMTOPO_RAM, .name = "foreign", .size = 1 };
	mr = memtopo_region_create(other, &info);
	if (IS_ERR(mr)) {
		memtopo_ctx_put(other);
		KUNIT_FAIL(test, "creating a region in a second context: %ld", PTR_ERR(mr));
		return;
	}
	MT_REFUSED(test, as, mr, memtopo_region_add_subregion(root, K(8), mr, 0, false), -EINVAL);
	info = (struct memtopo_region_info){ .kind = MEMTOPO_ALIAS, .name = "cross", .size = 1,
					     .alias_target = mr };
	KUNIT_EXPECT_EQ(test, PTR_ERR_OR_ZERO(memtopo_region_create(ctx, &info)), -EINVAL);
	bad_as = memtopo_space_create(ctx, "foreign", mr);
	KUNIT_EXPECT_EQ(test, PTR_ERR_OR_ZERO(bad_as), -EINVAL);
	KUNIT_EXPECT_EQ(test, mr->alias_users, 0);
	memtopo_ctx_lock(other);
	KUNIT_EXPECT_EQ(test, memtopo_region_space_users(mr), 0);
	memtopo_ctx_unlock(other);
	memtopo_ctx_put(other);
	MT_EXPECT_VIEW(test, as, { 0, K(1) - 1, "ram", 0, 0 });
}

/* What a refused call on a destroyed region must leave as it was. */
struct mt_dead {
	struct mt_place place;
	u64 alias_offset;
	u8 dirty_log_mask;
	u32 ioeventfds;
	u32 coalesced;
	u32 vga;
};

static struct mt_dead mt_dead_of(struct memtopo_region *mr)
{
	struct mt_dead d = { mt_place_of(mr), mr->alias_offset, mr->dirty_log_mask };

	d.vga = memtopo_region_vga_logging_count(mr);
	memtopo_ctx_lock(mr->ctx);
	d.ioeventfds = memtopo_region_list_eventfds_locked(mr, NULL, 0);
	d.coalesced = memtopo_region_list_coalescing_locked(mr, NULL, 0);
	memtopo_ctx_unlock(mr->ctx);
	return d;
}

#define MT_GONE(test, call)							\
	KUNIT_EXPECT_EQ_MSG(test, (call), -ENOENT, "%s", #call)

static void mt_dead_noop(struct memtopo_iommu_notifier *n,
			 const struct memtopo_iotlb_entry *entry)
{
}

static int mt_dead_populate(struct memtopo_discard_listener *dl,
			    const struct memtopo_section *s)
{
	return 0;
}

static void mt_dead_discard(struct memtopo_discard_listener *dl,
			    const struct memtopo_section *s)
{
}

static const struct memtopo_discard_listener_ops mt_dead_dl_ops = {
	.notify_populate = mt_dead_populate, .notify_discard = mt_dead_discard,
};

/* Stand-in eventfds: the registration made below is put when its region goes. */
static void mt_token_signal(struct eventfd_ctx *e)
{
}

static void mt_token_put(struct eventfd_ctx *e)
{
}

static const struct memtopo_eventfd_test_ops mt_token_ops = {
	.signal = mt_token_signal, .put = mt_token_put,
};

#define MT_TOKEN ((struct eventfd_ctx *)0x1000UL)

/*
 * Every call that changes a region or hangs something on it, made on
 * regions destroyed earlier in the same transaction: each is refused with
 * -ENOENT, records nothing to undo and changes nothing, and the commit
 * renders what the transaction's other changes alone render.
 */
static void mt_rules_destroyed_in_txn_test(struct kunit *test)
{
	struct memtopo_ctx *ctx = mt_ctx(test);
	struct memtopo_region *root = mt_region64(test, MEMTOPO_CONTAINER, "root");
	struct memtopo_region *ram = mt_region_kram(test, MEMTOPO_RAM, "ram", K(4));
	struct memtopo_region *io = mt_region(test, MEMTOPO_IO, "io", K(1));
	struct memtopo_region *rom = mt_region(test, MEMTOPO_ROM_DEVICE, "rom", K(1));
	struct memtopo_region *al = mt_alias(test, "al", ram, 0, K(1));
	struct memtopo_region *box = mt_region(test, MEMTOPO_CONTAINER, "box", K(1));
	struct memtopo_region *spare = mt_region_kram(test, MEMTOPO_RAM, "spare", K(2));
	struct memtopo_region *mmu = mt_region(test, MEMTOPO_IOMMU, "mmu", K(16));
	struct memtopo_region *lone = mt_region(test, MEMTOPO_RAM, "lone", K(1));
	struct memtopo_region *dead[] = { io, rom, al, box, spare, mmu };
	struct memtopo_iommu_notifier n = { .notify = mt_dead_noop,
					    .flags = MEMTOPO_IOMMU_NOTIFIER_MAP, .end = U64_MAX };
	struct memtopo_discard_listener dl = { .ops = &mt_dead_dl_ops };
	struct memtopo_section sec = { .last = K(1) - 1, .mr = spare };
	struct memtopo_region_info alias_info = { .kind = MEMTOPO_ALIAS, .name = "on-dead",
						  .size = K(1), .alias_target = io };
	struct mt_dead before[ARRAY_SIZE(dead)], after;
	struct memtopo_space *as;
	unsigned int i, nr_regions;
	u32 undo_nr;

	mt_add(test, root, 0, ram, 0);
	mt_add(test, root, K(16), io, 0);
	mt_add(test, root, K(32), rom, 0);
	mt_add(test, root, K(48), al, 0);
	as = mt_space(test, "as", root);
	/* something for each delete below to find */
	KUNIT_ASSERT_EQ(test, memtopo_region_add_eventfd(io, 0, 4, false, 0, MT_TOKEN), 0);
	KUNIT_ASSERT_EQ(test, memtopo_region_add_coalescing(io, 0, 0x100), 0);
	KUNIT_ASSERT_EQ(test, memtopo_region_set_discard_manager(spare, K(1)), 0);
	KUNIT_ASSERT_EQ(test, memtopo_region_populate(spare, 0, K(1)), 0);
	KUNIT_ASSERT_EQ(test, memtopo_iommu_map(mmu, 0, K(2), as, 0, MEMTOPO_IOMMU_RW), 0);
	nr_regions = ctx->nr_regions;
	for (i = 0; i < ARRAY_SIZE(dead); i++)
		memtopo_region_get(dead[i]);

	memtopo_transaction_begin(ctx);
	/* the change the commit must render, and nothing else */
	KUNIT_EXPECT_EQ(test, memtopo_region_set_address(ram, K(128)), 0);
	for (i = 0; i < ARRAY_SIZE(dead); i++) {
		if (dead[i]->parent)
			KUNIT_EXPECT_EQ(test, memtopo_region_del_subregion(root, dead[i]), 0);
		KUNIT_EXPECT_EQ(test, memtopo_region_destroy(dead[i]), 0);
		before[i] = mt_dead_of(dead[i]);
	}
	undo_nr = ctx->undo.nr;

	MT_GONE(test, memtopo_region_destroy(io));
	MT_GONE(test, memtopo_region_add_subregion(root, K(64), io, 0, false));
	MT_GONE(test, memtopo_region_add_subregion(box, 0, lone, 0, false));
	MT_GONE(test, memtopo_region_set_address(io, K(64)));
	MT_GONE(test, memtopo_region_set_size(io, K(2), false));
	MT_GONE(test, memtopo_region_set_size(io, 0, true));
	MT_GONE(test, memtopo_region_set_priority(io, 7));
	MT_GONE(test, memtopo_region_set_enabled(io, false));
	MT_GONE(test, memtopo_region_set_readonly(io, true));
	MT_GONE(test, memtopo_region_set_nonvolatile(io, true));
	MT_GONE(test, memtopo_region_set_romd(rom, false));
	MT_GONE(test, memtopo_region_set_alias_offset(al, K(2)));
	MT_GONE(test, memtopo_region_set_dirty_log(spare, MEMTOPO_DIRTY_MIGRATION, true));
	MT_GONE(test, memtopo_region_set_log(spare, true, MEMTOPO_DIRTY_VGA));
	MT_GONE(test, memtopo_region_add_eventfd(io, 8, 4, false, 0, MT_TOKEN));
	MT_GONE(test, memtopo_region_del_eventfd(io, 0, 4, false, 0, MT_TOKEN));
	MT_GONE(test, memtopo_region_add_coalescing(io, 0x200, 0x100));
	MT_GONE(test, memtopo_region_del_coalescing(io, 0, 0x100));
	MT_GONE(test, memtopo_region_clear_coalescing(io));
	MT_GONE(test, memtopo_region_set_discard_manager(spare, K(1)));
	MT_GONE(test, memtopo_region_populate(spare, K(1), K(1)));
	MT_GONE(test, memtopo_region_discard(spare, 0, K(1)));
	MT_GONE(test, memtopo_discard_listener_register(as, &sec, &dl));
	MT_GONE(test, memtopo_iommu_map(mmu, K(4), K(1), as, 0, MEMTOPO_IOMMU_RW));
	MT_GONE(test, memtopo_iommu_unmap(mmu, 0, K(1)));
	MT_GONE(test, memtopo_iommu_register_notifier(mmu, &n, false));
	KUNIT_EXPECT_NULL(test, n.iommu);
	MT_GONE(test, PTR_ERR_OR_ZERO(memtopo_region_create(ctx, &alias_info)));
	MT_GONE(test, PTR_ERR_OR_ZERO(memtopo_space_create(ctx, "on-dead", box)));
	KUNIT_EXPECT_EQ(test, ctx->nr_spaces, 1);

	KUNIT_EXPECT_EQ_MSG(test, ctx->undo.nr, undo_nr, "a refused call recorded a change");
	for (i = 0; i < ARRAY_SIZE(dead); i++) {
		after = mt_dead_of(dead[i]);
		KUNIT_EXPECT_TRUE_MSG(test, !memcmp(&after, &before[i], sizeof(after)),
				      "a refused call changed %s", dead[i]->name);
	}
	KUNIT_EXPECT_EQ(test, memtopo_transaction_commit(ctx), 0);
	MT_EXPECT_VIEW(test, as, { K(128), K(132) - 1, "ram", 0, 0 });
	KUNIT_EXPECT_EQ(test, ctx->nr_regions, nr_regions - ARRAY_SIZE(dead));
	for (i = 0; i < ARRAY_SIZE(dead); i++)
		memtopo_region_put(dead[i]);
}

static int mt_dead_init(struct kunit *test)
{
	memtopo_set_eventfd_test_ops(&mt_token_ops);
	return mt_fix_init(test);
}

static void mt_dead_exit(struct kunit *test)
{
	mt_fix_exit(test);
	/* registrations are put from the RCU callback that frees their region */
	rcu_barrier();
	rcu_barrier();
	memtopo_set_eventfd_test_ops(NULL);
}

static struct kunit_case mt_rules_cases[] = {
	KUNIT_CASE(mt_rules_loop_ancestor_test),
	KUNIT_CASE(mt_rules_loop_alias_test),
	KUNIT_CASE(mt_rules_alias_parent_test),
	KUNIT_CASE(mt_rules_alias_parent_depth_test),
	KUNIT_CASE(mt_rules_overflow_test),
	KUNIT_CASE(mt_rules_busy_test),
	KUNIT_CASE(mt_rules_limits_test),
	KUNIT_CASE(mt_rules_invalid_test),
	{}
};

static struct kunit_suite mt_rules_suite = {
	.name = "memtopo_engine_rules",
	.init = mt_fix_init,
	.exit = mt_fix_exit,
	.test_cases = mt_rules_cases,
};

static struct kunit_case mt_dead_cases[] = {
	KUNIT_CASE(mt_rules_destroyed_in_txn_test),
	{}
};

/* Its own suite: the ioeventfd registration needs stand-in eventfds. */
static struct kunit_suite mt_dead_suite = {
	.name = "memtopo_engine_dead",
	.init = mt_dead_init,
	.exit = mt_dead_exit,
	.test_cases = mt_dead_cases,
};

kunit_test_suites(&mt_rules_suite, &mt_dead_suite);
