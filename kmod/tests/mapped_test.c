// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit suite "memtopo_is_mapped": memtopo_region_is_mapped() reads counts
 * kept as aliases gain and lose their parents; after every step of a
 * random sequence it must agree, for every live region, with the walk of
 * the context's regions it replaced (memtopo_region_is_mapped_scan(), test
 * builds only).  The steps: aliases of RAM and of other aliases (chains,
 * several aliases of one target) created and destroyed, regions put into a
 * mapped container, one never mapped, one that comes and goes, and into
 * another alias, taken out again, enabled and disabled; some steps inside
 * transactions whose commit fails (fault injection), so their undo runs.
 */
#include <kunit/test.h>
#include <linux/kernel.h>
#include <linux/sched.h>

#include "engine_util.h"
#include "selftest.h"

#define MT_NR_RAM	3
#define MT_NR_BOX	3
#define MT_NR_ALIAS	16
#define MT_STEPS	600
#define MT_BOX_SIZE	0x100000ULL

struct mt_mapped {
	struct kunit *test;
	struct memtopo_ctx *ctx;
	struct memtopo_region *sys;
	/* box[0] mapped in sys, box[1] never, box[2] comes and goes */
	struct memtopo_region *box[MT_NR_BOX];
	struct memtopo_region *ram[MT_NR_RAM];
	/* an I/O region in sys or not: every transaction changes the view */
	struct memtopo_region *probe;
	struct memtopo_region *alias[MT_NR_ALIAS];	/* NULL: a free slot */
	u32 rnd;
	unsigned int only_via_alias;	/* steps with a detached region mapped */
	unsigned int via_chain;		/* ... that region an alias itself */
	unsigned int rollbacks;
	unsigned int nr_aliases;
};

/* xorshift32 from a fixed seed: a failure replays exactly */
static u32 mt_rand(struct mt_mapped *m, u32 n)
{
	m->rnd ^= m->rnd << 13;
	m->rnd ^= m->rnd >> 17;
	m->rnd ^= m->rnd << 5;
	return m->rnd % n;
}

/* Any region a step may move: RAM or a live alias, or NULL. */
static struct memtopo_region *mt_pick_leaf(struct mt_mapped *m)
{
	u32 i = mt_rand(m, MT_NR_RAM + MT_NR_ALIAS);

	return i < MT_NR_RAM ? m->ram[i] : m->alias[i - MT_NR_RAM];
}

static void mt_check_one(struct mt_mapped *m, struct memtopo_region *mr)
{
	struct kunit *test = m->test;
	bool ref, parent;

	memtopo_ctx_lock(m->ctx);
	ref = memtopo_region_is_mapped_scan(mr);
	parent = mr->parent;
	memtopo_ctx_unlock(m->ctx);
	KUNIT_EXPECT_EQ_MSG(test, memtopo_region_is_mapped(mr), ref, "region %s", mr->name);
	if (ref && !parent) {
		m->only_via_alias++;
		if (mr->kind == MEMTOPO_ALIAS)
			m->via_chain++;
	}
}

static void mt_check_all(struct mt_mapped *m)
{
	unsigned int i;

	mt_check_one(m, m->sys);
	for (i = 0; i < MT_NR_BOX; i++)
		mt_check_one(m, m->box[i]);
	for (i = 0; i < MT_NR_RAM; i++)
		mt_check_one(m, m->ram[i]);
	for (i = 0; i < MT_NR_ALIAS; i++)
		if (m->alias[i])
			mt_check_one(m, m->alias[i]);
}

/* Put @mr in a random container or alias, or take it out of its parent. */
static void mt_step_move(struct mt_mapped *m, struct memtopo_region *mr)
{
	struct memtopo_region *parent;
	u32 where = mt_rand(m, MT_NR_BOX + 2);
	int ret;

	memtopo_ctx_lock(m->ctx);
	parent = mr->parent;
	memtopo_ctx_unlock(m->ctx);
	if (parent) {
		KUNIT_EXPECT_EQ(m->test, memtopo_region_del_subregion(parent, mr), 0);
		return;
	}
	if (where < MT_NR_BOX)
		parent = m->box[where];
	else if (where == MT_NR_BOX)
		parent = m->sys;
	else
		parent = m->alias[mt_rand(m, MT_NR_ALIAS)];
	if (!parent || parent == mr)
		return;
	/* a cycle or a chain too deep is refused, and changes nothing */
	ret = memtopo_region_add_subregion(parent, mt_rand(m, 64) * 0x1000ULL, mr,
					   mt_rand(m, 3), true);
	KUNIT_EXPECT_TRUE_MSG(m->test, !ret || ret == -ELOOP || ret == -EMLINK,
			      "add_subregion: %d", ret);
}

static void mt_step_toggle(struct mt_mapped *m, struct memtopo_region *mr)
{
	KUNIT_EXPECT_EQ(m->test, memtopo_region_set_enabled(mr, !memtopo_region_is_enabled(mr)),
			0);
}

/* The box that comes and goes: in sys, or out. */
static void mt_step_box(struct mt_mapped *m)
{
	struct memtopo_region *parent;

	memtopo_ctx_lock(m->ctx);
	parent = m->box[2]->parent;
	memtopo_ctx_unlock(m->ctx);
	if (parent)
		KUNIT_EXPECT_EQ(m->test, memtopo_region_del_subregion(m->sys, m->box[2]), 0);
	else
		mt_add(m->test, m->sys, 2 * MT_BOX_SIZE, m->box[2], 0);
}

/* Fill an empty slot with an alias of a random target, or empty a full one. */
static void mt_step_alias(struct mt_mapped *m)
{
	struct memtopo_region_info info = { .kind = MEMTOPO_ALIAS, .size = 0x1000 };
	u32 slot = mt_rand(m, MT_NR_ALIAS);
	struct memtopo_region *a = m->alias[slot];
	bool busy;
	int ret;

	if (a) {
		memtopo_ctx_lock(m->ctx);
		busy = a->parent || a->alias_users || !RB_EMPTY_ROOT(&a->by_addr);
		memtopo_ctx_unlock(m->ctx);
		ret = memtopo_region_destroy(a);
		KUNIT_EXPECT_EQ(m->test, ret, busy ? -EBUSY : 0);
		if (!ret)
			m->alias[slot] = NULL;
		return;
	}
	info.alias_target = mt_pick_leaf(m);
	if (!info.alias_target)
		return;
	info.name = "alias";
	a = memtopo_region_create(m->ctx, &info);
	if (IS_ERR(a)) {
		KUNIT_EXPECT_EQ(m->test, PTR_ERR(a), -EMLINK);
		return;
	}
	m->alias[slot] = a;
	m->nr_aliases++;
}

/* One step outside a transaction: anything, aliases made and destroyed too. */
static void mt_step(struct mt_mapped *m, bool in_txn)
{
	struct memtopo_region *mr;

	switch (mt_rand(m, in_txn ? 3 : 4)) {
	case 0:
		mr = mt_pick_leaf(m);
		if (mr)
			mt_step_move(m, mr);
		break;
	case 1:
		mr = mt_rand(m, 2) ? mt_pick_leaf(m) : m->box[mt_rand(m, MT_NR_BOX)];
		if (mr)
			mt_step_toggle(m, mr);
		break;
	case 2:
		mt_step_box(m);
		break;
	default:
		mt_step_alias(m);
		break;
	}
}

/*
 * A few steps in a transaction, with the probe moved in or out of sys so
 * the commit renders a new view; with fault injection, every other commit
 * fails its first allocation and undoes the steps.
 */
static void mt_step_txn(struct mt_mapped *m)
{
	unsigned int n = 1 + mt_rand(m, 4);
	bool fail = mt_rand(m, 2);
	int ret;

	memtopo_transaction_begin(m->ctx);
	while (n--)
		mt_step(m, true);
	if (memtopo_region_is_mapped(m->probe))
		KUNIT_EXPECT_EQ(m->test, memtopo_region_del_subregion(m->sys, m->probe), 0);
	else
		mt_add(m->test, m->sys, 4 * MT_BOX_SIZE, m->probe, 0);
#ifdef CONFIG_FAULT_INJECTION
	current->fail_nth = fail;
#endif
	ret = memtopo_transaction_commit(m->ctx);
#ifdef CONFIG_FAULT_INJECTION
	current->fail_nth = 0;
#endif
	KUNIT_EXPECT_TRUE_MSG(m->test, !ret || (fail && ret == -ENOMEM), "commit: %d", ret);
	if (ret)
		m->rollbacks++;
}

static void mt_is_mapped_random_test(struct kunit *test)
{
	struct mt_mapped *m = kunit_kzalloc(test, sizeof(*m), GFP_KERNEL);
	unsigned int i;

	KUNIT_ASSERT_NOT_NULL(test, m);
	m->test = test;
	m->ctx = mt_ctx(test);
	m->rnd = 0x2545f491;
	m->sys = mt_region64(test, MEMTOPO_CONTAINER, "sys");
	for (i = 0; i < MT_NR_BOX; i++)
		m->box[i] = mt_region(test, MEMTOPO_CONTAINER, "box", MT_BOX_SIZE);
	for (i = 0; i < MT_NR_RAM; i++)
		m->ram[i] = mt_region(test, MEMTOPO_RAM, "ram", 0x1000);
	m->probe = mt_region(test, MEMTOPO_IO, "probe", 0x1000);
	mt_add(test, m->sys, 0, m->box[0], 0);
	mt_space(test, "mapped", m->sys);
	mt_check_all(m);

	for (i = 0; i < MT_STEPS; i++) {
		if (mt_rand(m, 8))
			mt_step(m, false);
		else
			mt_step_txn(m);
		mt_check_all(m);
	}
	kunit_info(test, "%u aliases made, %u rollbacks, %u checks mapped only via aliases (%u of an alias)",
		   m->nr_aliases, m->rollbacks, m->only_via_alias, m->via_chain);
	/* the sequence reached what the counts are for */
	if (IS_ENABLED(CONFIG_FAULT_INJECTION))
		KUNIT_EXPECT_LT(test, 0U, m->rollbacks);
	KUNIT_EXPECT_LT(test, 0U, m->only_via_alias);
	KUNIT_EXPECT_LT(test, 0U, m->via_chain);
}

static struct kunit_case mt_is_mapped_cases[] = {
	KUNIT_CASE(mt_is_mapped_random_test),
	{}
};

static struct kunit_suite mt_is_mapped_suite = {
	.name = "memtopo_is_mapped",
	.init = mt_fix_init,
	.exit = mt_fix_exit,
	.test_cases = mt_is_mapped_cases,
};

kunit_test_suite(mt_is_mapped_suite);
