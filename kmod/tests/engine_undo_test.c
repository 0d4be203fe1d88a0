// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit suite "memtopo_engine_undo": a kernel user's transaction is all or
 * nothing.  With fail-nth on the commit's allocations, a commit that fails
 * leaves every region, every published view and its generation exactly as
 * before the transaction began, and destroys what the transaction created;
 * the commit that succeeds publishes everything.  fail-nth reaches the
 * engine's GFP_KERNEL allocations only with failslab's and fail_page_alloc's
 * ignore-gfp-wait off, which the VM runner sets at boot.
 */
#include <kunit/test.h>
#include <linux/module.h>
#include <linux/sched.h>

#include "engine_util.h"

#define K(x) ((u64)(x) * 0x1000)

#ifdef CONFIG_FAULT_INJECTION

struct mt_undo_tree {
	struct memtopo_ctx *ctx;
	struct memtopo_region *root, *a, *b, *c, *late;
	struct memtopo_space *as, *late_as;
};

static int mt_undo_build(struct mt_undo_tree *t)
{
	struct memtopo_region_info info = { .kind = MEMTOPO_CONTAINER, .name = "root",
					    .size = K(64) };

	t->ctx = memtopo_ctx_create("undo");
	if (IS_ERR(t->ctx))
		return PTR_ERR(t->ctx);
	t->root = memtopo_region_create(t->ctx, &info);
	info.kind = MEMTOPO_RAM;
	info.size = K(1);
	info.name = "a";
	t->a = memtopo_region_create(t->ctx, &info);
	info.name = "b";
	t->b = memtopo_region_create(t->ctx, &info);
	info.name = "c";
	t->c = memtopo_region_create(t->ctx, &info);
	if (IS_ERR(t->root) || IS_ERR(t->a) || IS_ERR(t->b) || IS_ERR(t->c))
		return -ENOMEM;
	t->as = memtopo_space_create(t->ctx, "as", t->root);
	if (IS_ERR(t->as))
		return PTR_ERR(t->as);
	return memtopo_region_add_subregion(t->root, 0, t->a, 0, false) ?:
	       memtopo_region_add_subregion(t->root, K(2), t->b, 0, false);
}

/* Every kind of change a kernel user can make, inside one transaction. */
static int mt_undo_change(struct mt_undo_tree *t)
{
	struct memtopo_region_info info = { .kind = MEMTOPO_RAM, .name = "late",
					    .size = K(2) };

	memtopo_transaction_begin(t->ctx);
	t->late = memtopo_region_create(t->ctx, &info);
	if (IS_ERR(t->late))
		return PTR_ERR(t->late);
	/* held across a failed commit, which destroys it */
	memtopo_region_get(t->late);
	t->late_as = memtopo_space_create(t->ctx, "late", t->late);
	if (IS_ERR(t->late_as))
		return PTR_ERR(t->late_as);
	return memtopo_region_add_subregion(t->root, K(8), t->late, 1, false) ?:
	       memtopo_region_set_address(t->a, K(4)) ?:
	       memtopo_region_set_readonly(t->b, true) ?:
	       memtopo_region_set_priority(t->b, 3) ?:
	       memtopo_region_set_dirty_log(t->a, MEMTOPO_DIRTY_VGA, true) ?:
	       memtopo_region_destroy(t->c) ?:
	       memtopo_global_dirty_log_start(t->ctx, MEMTOPO_DIRTY_REASON_MIGRATION);
}

static void mt_undo_commit_fail_nth_test(struct kunit *test)
{
	struct mt_undo_tree t;
	struct mt_snap before;
	int n, ret, failures = 0;
	unsigned int left;

	for (n = 1; n < 400; n++) {
		memset(&t, 0, sizeof(t));
		KUNIT_ASSERT_EQ(test, mt_undo_build(&t), 0);
		mt_snapshot(test, t.as, &before);
		KUNIT_ASSERT_EQ(test, mt_undo_change(&t), 0);

		current->fail_nth = n;
		ret = memtopo_transaction_commit(t.ctx);
		left = current->fail_nth;
		current->fail_nth = 0;
		if (ret) {
			failures++;
			KUNIT_EXPECT_EQ(test, ret, -ENOMEM);
			MT_EXPECT_UNCHANGED(test, t.as, &before);
			MT_EXPECT_VIEW(test, t.as, { 0, K(1) - 1, "a", 0, 0 },
				       { K(2), K(3) - 1, "b", 0, 0 });
			KUNIT_EXPECT_EQ(test, t.a->addr, 0);
			KUNIT_EXPECT_EQ(test, t.a->dirty_log_mask, 0);
			KUNIT_EXPECT_EQ(test, t.b->priority, 0);
			KUNIT_EXPECT_FALSE(test, t.b->flags & MEMTOPO_RF_READONLY);
			KUNIT_EXPECT_EQ(test, t.ctx->global_dirty_reasons, 0);
			KUNIT_EXPECT_EQ(test, t.ctx->nr_spaces, 1);
			/* c lives again, late is gone */
			KUNIT_EXPECT_FALSE(test, memtopo_region_destroyed(t.c));
			KUNIT_EXPECT_TRUE(test, memtopo_region_destroyed(t.late));
			KUNIT_EXPECT_EQ(test, memtopo_region_destroy(t.c), 0);
		} else {
			MT_EXPECT_VIEW(test, t.as, { K(2), K(3) - 1, "b", 0, MT_RO },
				       { K(4), K(5) - 1, "a", 0, 0 },
				       { K(8), K(10) - 1, "late", 0, 0 });
			KUNIT_EXPECT_EQ(test, t.ctx->global_dirty_reasons,
					MEMTOPO_DIRTY_REASON_MIGRATION);
		}
		memtopo_region_put(t.late);
		memtopo_ctx_put(t.ctx);
		if (!ret && left)
			break;
	}
	KUNIT_EXPECT_GT(test, failures, 0);
}

/* Counts what a kernel listener is told. */
struct mt_undo_listener {
	struct memtopo_listener l;
	unsigned int begins, commits, adds, dels, detached;
};

static void mt_ul_begin(void *priv)
{
	((struct mt_undo_listener *)priv)->begins++;
}

static void mt_ul_commit(void *priv)
{
	((struct mt_undo_listener *)priv)->commits++;
}

static void mt_ul_add(void *priv, const struct memtopo_section *s)
{
	((struct mt_undo_listener *)priv)->adds++;
}

static void mt_ul_del(void *priv, const struct memtopo_section *s)
{
	((struct mt_undo_listener *)priv)->dels++;
}

static void mt_ul_detached(void *priv)
{
	((struct mt_undo_listener *)priv)->detached++;
}

static const struct memtopo_listener_ops mt_ul_ops = {
	.detached = mt_ul_detached,
	.begin = mt_ul_begin,
	.commit = mt_ul_commit,
	.region_add = mt_ul_add,
	.region_del = mt_ul_del,
};

static void mt_expect_heard(struct kunit *test, const struct mt_undo_listener *ul,
			    unsigned int begins, unsigned int commits, unsigned int adds,
			    unsigned int dels, int line)
{
	KUNIT_EXPECT_EQ_MSG(test, ul->begins, begins, "line %d", line);
	KUNIT_EXPECT_EQ_MSG(test, ul->commits, commits, "line %d", line);
	KUNIT_EXPECT_EQ_MSG(test, ul->adds, adds, "line %d", line);
	KUNIT_EXPECT_EQ_MSG(test, ul->dels, dels, "line %d", line);
}

#define MT_EXPECT_HEARD(test, ul, b, c, a, d) mt_expect_heard(test, ul, b, c, a, d, __LINE__)

/*
 * A kernel listener registered on a space the same transaction created:
 * when the commit fails the space never was, so the listener is told so
 * and unregistered by the rollback (told the empty view it was replayed
 * leaves), holds no pointer to the freed space, hears nothing after,
 * and gives back the context and module references it took.  It can be
 * registered again; unregistering it is a no-op.
 */
static void mt_undo_listener_fail_nth_test(struct kunit *test)
{
	struct mt_undo_listener *ul = kunit_kzalloc(test, sizeof(*ul), GFP_KERNEL);
	unsigned int ctx_refs, mod_refs, left;
	struct mt_undo_tree t;
	int n, ret, failures = 0, successes = 0;

	KUNIT_ASSERT_NOT_NULL(test, ul);
	for (n = 1; n < 400; n++) {
		memset(&t, 0, sizeof(t));
		memset(ul, 0, sizeof(*ul));
		ul->l.ops = &mt_ul_ops;
		ul->l.priv = ul;
		ul->l.owner = THIS_MODULE;
		KUNIT_ASSERT_EQ(test, mt_undo_build(&t), 0);
		KUNIT_ASSERT_EQ(test, mt_undo_change(&t), 0);
		ctx_refs = kref_read(&t.ctx->kref);
		mod_refs = module_refcount(THIS_MODULE);
		/* the space's view is rendered at the commit: empty until then */
		KUNIT_ASSERT_EQ(test, memtopo_listener_register(t.late_as, &ul->l), 0);
		MT_EXPECT_HEARD(test, ul, 1, 1, 0, 0);
		KUNIT_EXPECT_EQ(test, kref_read(&t.ctx->kref), ctx_refs + 1);

		current->fail_nth = n;
		ret = memtopo_transaction_commit(t.ctx);
		left = current->fail_nth;
		current->fail_nth = 0;
		if (ret) {
			failures++;
			KUNIT_EXPECT_EQ(test, ret, -ENOMEM);
			KUNIT_EXPECT_NULL(test, ul->l.space);
			KUNIT_EXPECT_EQ(test, ul->detached, 1);
			MT_EXPECT_HEARD(test, ul, 2, 2, 0, 0);
			KUNIT_EXPECT_EQ(test, kref_read(&t.ctx->kref), ctx_refs);
			KUNIT_EXPECT_EQ(test, module_refcount(THIS_MODULE), mod_refs);
			KUNIT_EXPECT_EQ(test, t.ctx->nr_spaces, 1);
			/* nothing reaches it from the surviving space's commits */
			KUNIT_EXPECT_EQ(test, memtopo_region_set_address(t.a, K(6)), 0);
			memtopo_listener_unregister(&ul->l);
			MT_EXPECT_HEARD(test, ul, 2, 2, 0, 0);
			/* and it is free to listen elsewhere */
			KUNIT_EXPECT_EQ(test, memtopo_listener_register(t.as, &ul->l), 0);
			MT_EXPECT_HEARD(test, ul, 3, 3, 2, 0);
		} else {
			successes++;
			/* the commit renders late's one range into its space */
			KUNIT_EXPECT_PTR_EQ(test, ul->l.space, t.late_as);
			KUNIT_EXPECT_EQ(test, ul->detached, 0);
			MT_EXPECT_HEARD(test, ul, 2, 2, 1, 0);
		}
		memtopo_listener_unregister(&ul->l);
		KUNIT_EXPECT_NULL(test, ul->l.space);
		KUNIT_EXPECT_EQ(test, ul->adds, ul->dels);
		KUNIT_EXPECT_EQ(test, module_refcount(THIS_MODULE), mod_refs);
		memtopo_region_put(t.late);
		memtopo_ctx_put(t.ctx);
		if (!ret && left)
			break;
	}
	KUNIT_EXPECT_GT(test, failures, 0);
	KUNIT_EXPECT_GT(test, successes, 0);
}
#else
static void mt_undo_commit_fail_nth_test(struct kunit *test)
{
	kunit_skip(test, "needs CONFIG_FAULT_INJECTION");
}

static void mt_undo_listener_fail_nth_test(struct kunit *test)
{
	kunit_skip(test, "needs CONFIG_FAULT_INJECTION");
}
#endif

static struct kunit_case mt_undo_cases[] = {
	KUNIT_CASE(mt_undo_commit_fail_nth_test),
	KUNIT_CASE(mt_undo_listener_fail_nth_test),
	{}
};

static struct kunit_suite mt_undo_suite = {
	.name = "memtopo_engine_undo",
	.test_cases = mt_undo_cases,
};

kunit_test_suite(mt_undo_suite);
