// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit suite "memtopo_engine_free": lifetimes.
 *
 * Who holds what: the context holds each region until it is destroyed, an
 * alias holds its target, a space holds its root, a registration holds the
 * context and its owner module, and a region destroyed while a published
 * view may still show it is held until the commit that drops it.  These
 * tests check the counts directly, read objects after rcu_barrier() where
 * an early free would be a use-after-free (KASAN in the debug kernel), and
 * run create/destroy cycles whose leaks the forced kmemleak scan after the
 * debug VM's tests reports.
 */
#include <kunit/test.h>
#include <linux/module.h>
#include <linux/rcupdate.h>
#include <linux/string.h>
#include <linux/xarray.h>

#include "engine_util.h"

#define K(x) ((u64)(x) * 0x1000)

/* A reference taken by a kernel user outlives destroy. */
static void mt_free_region_ref_test(struct kunit *test)
{
	struct memtopo_region *ram = mt_region(test, MEMTOPO_RAM, "held", K(1));

	memtopo_region_get(ram);
	KUNIT_EXPECT_EQ(test, refcount_read(&ram->ref), 2);
	KUNIT_EXPECT_EQ(test, memtopo_region_destroy(ram), 0);
	rcu_barrier();
	KUNIT_EXPECT_EQ(test, refcount_read(&ram->ref), 1);
	KUNIT_EXPECT_STREQ(test, memtopo_region_name(ram), "held");
	memtopo_region_put(ram);
}

/* An alias holds its target until the alias is destroyed. */
static void mt_free_alias_ref_test(struct kunit *test)
{
	struct memtopo_region *ram, *a1, *a2;

	ram = mt_region(test, MEMTOPO_RAM, "ram", K(1));
	a1 = mt_alias(test, "a1", ram, 0, K(1));
	a2 = mt_alias(test, "a2", a1, 0, K(1));
	KUNIT_EXPECT_EQ(test, refcount_read(&ram->ref), 2);
	KUNIT_EXPECT_EQ(test, refcount_read(&a1->ref), 2);
	KUNIT_EXPECT_EQ(test, ram->alias_users, 1);

	/* destroying the middle of a chain is refused while a2 needs it */
	KUNIT_EXPECT_EQ(test, memtopo_region_destroy(a1), -EBUSY);
	KUNIT_EXPECT_EQ(test, memtopo_region_destroy(a2), 0);
	KUNIT_EXPECT_EQ(test, refcount_read(&a1->ref), 1);
	KUNIT_EXPECT_EQ(test, a1->alias_users, 0);
	KUNIT_EXPECT_EQ(test, memtopo_region_destroy(a1), 0);
	KUNIT_EXPECT_EQ(test, refcount_read(&ram->ref), 1);
	KUNIT_EXPECT_EQ(test, ram->alias_users, 0);
	KUNIT_EXPECT_EQ(test, memtopo_region_destroy(ram), 0);
}

/*
 * A region removed and destroyed inside a transaction is still in the
 * published view until the commit, so it must stay allocated until then.
 */
static void mt_free_deferred_test(struct kunit *test)
{
	struct memtopo_region *root, *gone, *keep;
	struct memtopo_space *as;
	struct memtopo_section s;
	struct memtopo_ctx *ctx = mt_ctx(test);
	char name[MEMTOPO_MAX_NAME] = "";
	int ret;

	root = mt_region(test, MEMTOPO_CONTAINER, "root", K(64));
	gone = mt_region(test, MEMTOPO_RAM, "gone", K(1));
	keep = mt_region(test, MEMTOPO_RAM, "keep", K(1));
	as = mt_space(test, "as", root);
	mt_add(test, root, 0, gone, 0);
	mt_add(test, root, K(4), keep, 0);

	memtopo_transaction_begin(ctx);
	KUNIT_EXPECT_EQ(test, memtopo_region_del_subregion(root, gone), 0);
	KUNIT_EXPECT_EQ(test, memtopo_region_destroy(gone), 0);
	rcu_barrier();
	/* the context no longer knows it, the deferred list still holds it */
	KUNIT_EXPECT_EQ(test, refcount_read(&gone->ref), 1);
	KUNIT_EXPECT_NULL(test, xa_load(&ctx->objects, gone->id));
	/* copy out under RCU: a failing expectation allocates, so check outside */
	rcu_read_lock();
	ret = memtopo_space_lookup(as, 0, &s);
	if (!ret)
		strscpy(name, s.mr->name, sizeof(name));
	rcu_read_unlock();
	KUNIT_EXPECT_EQ(test, ret, 0);
	if (!ret) {
		KUNIT_EXPECT_PTR_EQ(test, s.mr, gone);
		KUNIT_EXPECT_STREQ(test, name, "gone");
	}
	KUNIT_ASSERT_EQ(test, memtopo_transaction_commit(ctx), 0);
	MT_EXPECT_VIEW(test, as, { K(4), K(5) - 1, "keep", 0, 0 });
}

/* A registration pins the owner module and the context. */
static void mt_free_listener_pin_test(struct kunit *test)
{
	struct memtopo_region *root = mt_region(test, MEMTOPO_CONTAINER, "root", K(1));
	struct memtopo_space *as = mt_space(test, "as", root);
	struct mt_log *log = mt_log_new(test);
	struct memtopo_ctx *ctx = mt_ctx(test);
	unsigned int ctx_refs = kref_read(&ctx->kref);
	int mod_refs = module_refcount(THIS_MODULE);
	struct mt_rec *rec;
	int ret;

	rec = mt_recorder(test, log, as, 0, 0);
	KUNIT_EXPECT_EQ(test, module_refcount(THIS_MODULE), mod_refs + 1);
	KUNIT_EXPECT_EQ(test, kref_read(&ctx->kref), ctx_refs + 1);
	mt_unlisten(test, &rec->l);
	KUNIT_EXPECT_EQ(test, module_refcount(THIS_MODULE), mod_refs);
	KUNIT_EXPECT_EQ(test, kref_read(&ctx->kref), ctx_refs);
	/* unregistering twice is harmless */
	memtopo_listener_unregister(&rec->l);
	KUNIT_EXPECT_EQ(test, kref_read(&ctx->kref), ctx_refs);

	/* the _locked pair: the caller drops the context reference itself */
	memtopo_ctx_lock(ctx);
	ret = memtopo_listener_register_locked(as, &rec->l);
	memtopo_ctx_unlock(ctx);
	KUNIT_ASSERT_EQ(test, ret, 0);
	KUNIT_EXPECT_EQ(test, module_refcount(THIS_MODULE), mod_refs + 1);
	KUNIT_EXPECT_EQ(test, kref_read(&ctx->kref), ctx_refs + 1);
	memtopo_ctx_lock(ctx);
	memtopo_listener_unregister_locked(&rec->l);
	memtopo_ctx_unlock(ctx);
	memtopo_ctx_put(ctx);
	KUNIT_EXPECT_EQ(test, module_refcount(THIS_MODULE), mod_refs);
	KUNIT_EXPECT_EQ(test, kref_read(&ctx->kref), ctx_refs);
	KUNIT_EXPECT_NULL(test, rec->l.space);
}

static struct memtopo_region *mt_mk(struct memtopo_ctx *ctx, enum memtopo_kind kind,
				    const char *name, u64 size,
				    struct memtopo_region *target, int *err)
{
	struct memtopo_region_info info = {
		.kind = kind, .name = name, .size = size, .alias_target = target,
	};
	struct memtopo_region *mr = memtopo_region_create(ctx, &info);

	if (IS_ERR(mr) && !*err)
		*err = PTR_ERR(mr);
	return IS_ERR(mr) ? NULL : mr;
}

static void mt_count_ops_nop(void *priv, const struct memtopo_section *s)
{
	(*(unsigned long *)priv)++;
}

static const struct memtopo_listener_ops mt_count_ops = {
	.region_add = mt_count_ops_nop,
	.region_del = mt_count_ops_nop,
};

/*
 * One full life of a context: regions of every kind, an alias chain, two
 * spaces sharing a view, a listener, a transaction.  @tidy tears it down
 * object by object; otherwise the last context put must free everything.
 */
static int mt_free_one_life(unsigned int iter, bool tidy)
{
	struct memtopo_region *root, *ram, *rom, *romd, *io, *bus, *a1, *a2, *cover;
	struct memtopo_space *s1 = NULL, *s2 = NULL;
	struct memtopo_listener l = { .ops = &mt_count_ops, .owner = THIS_MODULE };
	unsigned long calls = 0;
	struct memtopo_ctx *ctx;
	int err = 0;

	ctx = memtopo_ctx_create("cycle");
	if (IS_ERR(ctx))
		return PTR_ERR(ctx);
	root = mt_mk(ctx, MEMTOPO_CONTAINER, "root", K(1024), NULL, &err);
	ram = mt_mk(ctx, MEMTOPO_RAM, "ram", K(16), NULL, &err);
	rom = mt_mk(ctx, MEMTOPO_ROM, "rom", K(4), NULL, &err);
	romd = mt_mk(ctx, MEMTOPO_ROM_DEVICE, "romd", K(4), NULL, &err);
	io = mt_mk(ctx, MEMTOPO_IO, "io", K(1), NULL, &err);
	bus = mt_mk(ctx, MEMTOPO_CONTAINER, "bus", K(64), NULL, &err);
	a1 = mt_mk(ctx, MEMTOPO_ALIAS, "a1", K(8), ram, &err);
	a2 = mt_mk(ctx, MEMTOPO_ALIAS, "a2", K(4), a1, &err);
	cover = mt_mk(ctx, MEMTOPO_ALIAS, "cover", K(1024), root, &err);
	if (err)
		goto out;

	memtopo_transaction_begin(ctx);
	err = memtopo_region_add_subregion(root, 0, ram, 0, false) ?:
	      memtopo_region_add_subregion(root, K(32), rom, 0, false) ?:
	      memtopo_region_add_subregion(root, K(40), romd, 0, false) ?:
	      memtopo_region_add_subregion(root, K(64), bus, 0, false) ?:
	      memtopo_region_add_subregion(bus, K(1), io, 0, false) ?:
	      memtopo_region_add_subregion(bus, K(8), a2, 0, false);
	memtopo_transaction_commit(ctx);
	if (err)
		goto out;
	s1 = memtopo_space_create(ctx, "s1", root);
	s2 = memtopo_space_create(ctx, "s2", cover);
	if (IS_ERR(s1) || IS_ERR(s2)) {
		err = IS_ERR(s1) ? PTR_ERR(s1) : PTR_ERR(s2);
		goto out;
	}
	l.priv = &calls;
	err = memtopo_listener_register(s2, &l);
	if (err)
		goto out;
	err = memtopo_region_set_address(a2, K(8) + K(iter % 8)) ?:
	      memtopo_region_set_romd(romd, iter & 1) ?:
	      memtopo_region_set_enabled(bus, !(iter & 2));
	memtopo_listener_unregister(&l);
	if (!err && !calls)
		err = -ENODATA;	/* the listener must have heard the replay */
	if (err || !tidy)
		goto out;

	/* tidy teardown: every destroy must be accepted in this order */
	err = memtopo_space_destroy(s2) ?: memtopo_space_destroy(s1) ?:
	      memtopo_region_destroy(cover) ?:
	      memtopo_region_del_subregion(bus, a2) ?: memtopo_region_destroy(a2) ?:
	      memtopo_region_destroy(a1) ?:
	      memtopo_region_del_subregion(bus, io) ?: memtopo_region_destroy(io) ?:
	      memtopo_region_del_subregion(root, bus) ?: memtopo_region_destroy(bus) ?:
	      memtopo_region_del_subregion(root, ram) ?: memtopo_region_destroy(ram) ?:
	      memtopo_region_del_subregion(root, rom) ?: memtopo_region_destroy(rom) ?:
	      memtopo_region_del_subregion(root, romd) ?: memtopo_region_destroy(romd) ?:
	      memtopo_region_destroy(root);
	if (!err && (ctx->nr_regions || ctx->nr_spaces || !xa_empty(&ctx->space_ids)))
		err = -ENOTEMPTY;
	/* only the fixture-free context's own nothing is left */
	if (!err && !xa_empty(&ctx->objects))
		err = -ENOTEMPTY;
out:
	memtopo_ctx_put(ctx);
	return err;
}

static void mt_free_cycles_test(struct kunit *test)
{
	unsigned int i;
	int err;

	for (i = 0; i < 200; i++) {
		err = mt_free_one_life(i, i & 1);
		KUNIT_ASSERT_EQ_MSG(test, err, 0, "life %u (%s)", i, i & 1 ? "tidy" : "put");
		cond_resched();
	}
	/* let the RCU callbacks free everything before kmemleak looks */
	rcu_barrier();
}

/*
 * The last put of a context with a transaction open and a destroyed region
 * still deferred frees everything; a region reference held past the
 * context stays valid until its own put.
 */
static void mt_free_ctx_teardown_test(struct kunit *test)
{
	struct memtopo_region *root, *ram, *gone, *alias;
	struct memtopo_ctx *ctx;
	struct memtopo_space *as;
	int err = 0;

	ctx = memtopo_ctx_create("teardown");
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, ctx);
	root = mt_mk(ctx, MEMTOPO_CONTAINER, "root", K(64), NULL, &err);
	ram = mt_mk(ctx, MEMTOPO_RAM, "ram", K(4), NULL, &err);
	gone = mt_mk(ctx, MEMTOPO_RAM, "gone", K(4), NULL, &err);
	alias = mt_mk(ctx, MEMTOPO_ALIAS, "alias", K(4), ram, &err);
	if (err) {
		memtopo_ctx_put(ctx);
		KUNIT_FAIL(test, "creating regions: %d", err);
		return;
	}
	as = memtopo_space_create(ctx, "as", root);
	err = PTR_ERR_OR_ZERO(as) ?:
	      memtopo_region_add_subregion(root, 0, alias, 0, false) ?:
	      memtopo_region_add_subregion(root, K(8), gone, 0, false);
	memtopo_transaction_begin(ctx);
	err = err ?: memtopo_region_del_subregion(root, gone) ?: memtopo_region_destroy(gone);
	memtopo_region_get(ram);
	memtopo_ctx_put(ctx);
	rcu_barrier();
	KUNIT_EXPECT_EQ(test, err, 0);
	/* ram outlived its context through our reference */
	KUNIT_EXPECT_EQ(test, refcount_read(&ram->ref), 1);
	KUNIT_EXPECT_STREQ(test, memtopo_region_name(ram), "ram");
	memtopo_region_put(ram);
	rcu_barrier();
}

static struct kunit_case mt_free_cases[] = {
	KUNIT_CASE(mt_free_region_ref_test),
	KUNIT_CASE(mt_free_alias_ref_test),
	KUNIT_CASE(mt_free_deferred_test),
	KUNIT_CASE(mt_free_listener_pin_test),
	KUNIT_CASE(mt_free_cycles_test),
	KUNIT_CASE(mt_free_ctx_teardown_test),
	{}
};

static struct kunit_suite mt_free_suite = {
	.name = "memtopo_engine_free",
	.init = mt_fix_init,
	.exit = mt_fix_exit,
	.test_cases = mt_free_cases,
};

kunit_test_suite(mt_free_suite);
