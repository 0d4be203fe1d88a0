// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit suite "memtopo_consumer": the consumer's read side (consumer.c).
 * Walks of a view (generation, early stop, a commit landing mid-walk),
 * memory_region_find() semantics (clipping, misses, the reference kept
 * across a region_del and destroy), present / is_mapped, the getters, a
 * region by ID and translate.
 *
 * Every case works on one map:
 *   sys   container 2^64
 *   ram   RAM  0x10000 at 0x0
 *   io    I/O  0x1000  at 0x20000
 *   win   alias of ram, offset 0x1000, size 0x2000, at 0x30000
 *   sub   container 0x1000 at 0x50000 holding ram2 (RAM 0x100) at 0x100
 */
#include <kunit/test.h>
#include <linux/atomic.h>
#include <linux/cpumask.h>
#include <linux/delay.h>
#include <linux/jiffies.h>
#include <linux/kthread.h>

#include "engine_util.h"

struct mt_cmap {
	struct memtopo_space *as;
	struct memtopo_region *sys, *ram, *io, *win, *sub, *ram2;
};

static void mt_cmap_build(struct kunit *test, struct mt_cmap *m)
{
	m->sys = mt_region64(test, MEMTOPO_CONTAINER, "sys");
	m->ram = mt_region_kram(test, MEMTOPO_RAM, "ram", 0x10000);
	m->io = mt_region(test, MEMTOPO_IO, "io", 0x1000);
	m->win = mt_alias(test, "win", m->ram, 0x1000, 0x2000);
	m->sub = mt_region(test, MEMTOPO_CONTAINER, "sub", 0x1000);
	m->ram2 = mt_region(test, MEMTOPO_RAM, "ram2", 0x100);
	mt_add(test, m->sys, 0, m->ram, 0);
	mt_add(test, m->sys, 0x20000, m->io, 1);
	mt_add(test, m->sys, 0x30000, m->win, 2);
	mt_add(test, m->sub, 0x100, m->ram2, 0);
	mt_add(test, m->sys, 0x50000, m->sub, 0);
	m->as = mt_space(test, "cons", m->sys);
}

#define MT_WALK_MAX	8

struct mt_walk {
	unsigned int n;
	unsigned int stop_after;	/* 0: never stop */
	unsigned int delay_us;		/* spent in the first call */
	struct memtopo_section s[MT_WALK_MAX];
};

static int mt_walk_cb(const struct memtopo_section *s, void *opaque)
{
	struct mt_walk *w = opaque;

	if (w->n == MT_WALK_MAX)
		return -E2BIG;
	w->s[w->n++] = *s;
	if (w->n == 1 && w->delay_us)
		udelay(w->delay_us);
	return w->stop_after && w->n == w->stop_after ? 7 : 0;
}

static void mt_expect_sec(struct kunit *test, const struct memtopo_section *s, u64 start,
			  u64 last, struct memtopo_region *mr, u64 offset)
{
	KUNIT_EXPECT_EQ(test, s->start, start);
	KUNIT_EXPECT_EQ(test, s->last, last);
	KUNIT_EXPECT_PTR_EQ(test, s->mr, mr);
	KUNIT_EXPECT_EQ(test, s->offset, offset);
}

static void mt_consumer_walk_test(struct kunit *test)
{
	struct mt_walk w = {};
	struct mt_cmap m;
	unsigned int i;
	u64 gen;
	int ret;

	mt_cmap_build(test, &m);
	rcu_read_lock();
	gen = memtopo_space_generation(m.as);
	ret = memtopo_space_walk_ranges(m.as, mt_walk_cb, &w);
	rcu_read_unlock();
	KUNIT_EXPECT_EQ(test, ret, 0);
	KUNIT_ASSERT_EQ(test, w.n, 4u);
	mt_expect_sec(test, &w.s[0], 0, 0xffff, m.ram, 0);
	mt_expect_sec(test, &w.s[1], 0x20000, 0x20fff, m.io, 0);
	mt_expect_sec(test, &w.s[2], 0x30000, 0x31fff, m.ram, 0x1000);
	mt_expect_sec(test, &w.s[3], 0x50100, 0x501ff, m.ram2, 0);
	for (i = 0; i < w.n; i++)
		KUNIT_EXPECT_EQ(test, w.s[i].generation, gen);

	/* a nonzero return stops the walk and is returned */
	memset(&w, 0, sizeof(w));
	w.stop_after = 2;
	rcu_read_lock();
	ret = memtopo_space_walk_ranges(m.as, mt_walk_cb, &w);
	rcu_read_unlock();
	KUNIT_EXPECT_EQ(test, ret, 7);
	KUNIT_EXPECT_EQ(test, w.n, 2u);

	/* after a commit the walk shows the new view and its generation */
	KUNIT_ASSERT_EQ(test, memtopo_region_set_enabled(m.io, false), 0);
	memset(&w, 0, sizeof(w));
	rcu_read_lock();
	ret = memtopo_space_walk_ranges(m.as, mt_walk_cb, &w);
	KUNIT_EXPECT_NE(test, memtopo_space_generation(m.as), gen);
	gen = memtopo_space_generation(m.as);
	rcu_read_unlock();
	KUNIT_EXPECT_EQ(test, ret, 0);
	KUNIT_ASSERT_EQ(test, w.n, 3u);
	mt_expect_sec(test, &w.s[0], 0, 0xffff, m.ram, 0);
	mt_expect_sec(test, &w.s[1], 0x30000, 0x31fff, m.ram, 0x1000);
	for (i = 0; i < w.n; i++)
		KUNIT_EXPECT_EQ(test, w.s[i].generation, gen);
}

/* The writer of the concurrent walk: toggles io until told to stop. */
struct mt_toggler {
	struct memtopo_region *io;
	atomic_t stop;
	atomic_t commits;
	int err;
};

static int mt_toggler_fn(void *arg)
{
	struct mt_toggler *t = arg;
	bool on = false;

	while (!atomic_read(&t->stop)) {
		int ret = memtopo_region_set_enabled(t->io, on);

		if (ret) {
			t->err = ret;
			break;
		}
		atomic_inc(&t->commits);
		on = !on;
		cond_resched();
	}
	while (!kthread_should_stop())
		schedule_timeout_interruptible(1);
	return 0;
}

#define MT_WALK_RUN_MS	1500
#define MT_WALK_DELAY_US	2000

/*
 * Walks while another thread commits: each walk is one whole view (one
 * generation, the ranges of one of the two states), even when a commit
 * publishes a new view before the walk ends.
 */
static void mt_consumer_walk_concurrent_test(struct kunit *test)
{
	unsigned long deadline = jiffies + msecs_to_jiffies(MT_WALK_RUN_MS);
	unsigned int walks = 0, overlapped = 0, bad = 0;
	struct task_struct *task;
	struct mt_toggler t = {};
	struct mt_cmap m;

	mt_cmap_build(test, &m);
	t.io = m.io;
	task = kthread_run(mt_toggler_fn, &t, "mt-toggler");
	KUNIT_ASSERT_FALSE(test, IS_ERR(task));

	while (time_before(jiffies, deadline)) {
		struct mt_walk w = { .delay_us = MT_WALK_DELAY_US };
		bool io_shown;
		unsigned int i;
		u64 gen, after;
		int ret;

		/*
		 * A commit may publish between reading the generation and the
		 * walk taking its view, so the walk's generation may be newer
		 * than @gen, never older, and the same for all its ranges.
		 */
		rcu_read_lock();
		gen = memtopo_space_generation(m.as);
		ret = memtopo_space_walk_ranges(m.as, mt_walk_cb, &w);
		after = memtopo_space_generation(m.as);
		rcu_read_unlock();
		walks++;

		io_shown = w.n == 4;
		if (ret || (w.n != 3 && w.n != 4)) {
			bad++;
			continue;
		}
		if (after != w.s[0].generation)
			overlapped++;
		if (w.s[0].generation < gen)
			bad++;
		for (i = 1; i < w.n; i++)
			if (w.s[i].generation != w.s[0].generation)
				bad++;
		if (w.s[0].mr != m.ram || w.s[w.n - 1].mr != m.ram2 ||
		    (io_shown && (w.s[1].mr != m.io || w.s[1].start != 0x20000)) ||
		    w.s[io_shown ? 2 : 1].start != 0x30000)
			bad++;
		cond_resched();
	}
	atomic_set(&t.stop, 1);
	kthread_stop(task);

	kunit_info(test, "%u walks, %u with a commit published meanwhile, %d commits\n",
		   walks, overlapped, atomic_read(&t.commits));
	KUNIT_EXPECT_EQ(test, t.err, 0);
	KUNIT_EXPECT_EQ(test, bad, 0u);
	KUNIT_EXPECT_GT(test, atomic_read(&t.commits), 1);
	/* with a second CPU the writer commits while a walk is spinning */
	if (num_online_cpus() > 1)
		KUNIT_EXPECT_GT(test, overlapped, 0u);
}

static void mt_consumer_find_test(struct kunit *test)
{
	struct memtopo_section s;
	struct mt_cmap m;
	unsigned int ref;

	mt_cmap_build(test, &m);

	/* the start clipped to the range, the offset moved with it */
	ref = refcount_read(&m.ram->ref);
	KUNIT_ASSERT_EQ(test, memtopo_space_find_range(m.as, 0x8000, 0x20000, &s), 0);
	mt_expect_sec(test, &s, 0x8000, 0xffff, m.ram, 0x8000);
	KUNIT_EXPECT_EQ(test, refcount_read(&m.ram->ref), ref + 1);
	memtopo_region_put(s.mr);
	KUNIT_EXPECT_EQ(test, refcount_read(&m.ram->ref), ref);

	/* a hole first: the first range that intersects, its end clipped */
	KUNIT_ASSERT_EQ(test, memtopo_space_find_range(m.as, 0x1f000, 0x1800, &s), 0);
	mt_expect_sec(test, &s, 0x20000, 0x207ff, m.io, 0);
	memtopo_region_put(s.mr);
	KUNIT_ASSERT_EQ(test, memtopo_space_find_range(m.as, 0x20800, 0x100, &s), 0);
	mt_expect_sec(test, &s, 0x20800, 0x208ff, m.io, 0x800);
	memtopo_region_put(s.mr);
	/* through the alias: the target region, at the alias offset */
	KUNIT_ASSERT_EQ(test, memtopo_space_find_range(m.as, 0x30010, 4, &s), 0);
	mt_expect_sec(test, &s, 0x30010, 0x30013, m.ram, 0x1010);
	memtopo_region_put(s.mr);

	/* misses and bad sizes */
	KUNIT_EXPECT_EQ(test, memtopo_space_find_range(m.as, 0x40000, 0x10000, &s), -ENOENT);
	KUNIT_EXPECT_EQ(test, memtopo_space_find_range(m.as, 0x10000, 0x10000, &s), -ENOENT);
	KUNIT_EXPECT_EQ(test, memtopo_space_find_range(m.as, 0, 0, &s), -EINVAL);
	/* a range running past 2^64 stops there */
	KUNIT_EXPECT_EQ(test, memtopo_space_find_range(m.as, U64_MAX - 1, 16, &s), -ENOENT);

	/* relative to a region: the climb adds every level's address */
	KUNIT_ASSERT_EQ(test, memtopo_region_find(m.sub, 0x80, 0x100, &s), 0);
	mt_expect_sec(test, &s, 0x50100, 0x5017f, m.ram2, 0);
	memtopo_region_put(s.mr);
	KUNIT_ASSERT_EQ(test, memtopo_region_find(m.ram2, 0x10, 0x1000, &s), 0);
	mt_expect_sec(test, &s, 0x50110, 0x501ff, m.ram2, 0x10);
	memtopo_region_put(s.mr);
	KUNIT_ASSERT_EQ(test, memtopo_region_find(m.sys, 0x20004, 4, &s), 0);
	mt_expect_sec(test, &s, 0x20004, 0x20007, m.io, 4);
	memtopo_region_put(s.mr);
	KUNIT_EXPECT_EQ(test, memtopo_region_find(m.sub, 0, 0x100, &s), -ENOENT);
	KUNIT_EXPECT_EQ(test, memtopo_region_find(m.sub, 0, 0, &s), -EINVAL);
	/* no space is rooted at a detached region */
	KUNIT_EXPECT_EQ(test, memtopo_region_find(mt_fix(test)->dummy, 0, 1, &s), -ENOENT);

	/* present: something other than the container itself */
	KUNIT_EXPECT_TRUE(test, memtopo_region_present(m.sys, 0x20000));
	KUNIT_EXPECT_TRUE(test, memtopo_region_present(m.sub, 0x1ff));
	KUNIT_EXPECT_FALSE(test, memtopo_region_present(m.sys, 0x40000));
	KUNIT_EXPECT_FALSE(test, memtopo_region_present(m.sub, 0x200));
	KUNIT_EXPECT_FALSE(test, memtopo_region_present(m.ram, 0x10));
}

/* A found region stays in memory after it leaves the view and is destroyed. */
static void mt_consumer_find_ref_test(struct kunit *test)
{
	struct memtopo_section s, again;
	struct mt_cmap m;
	u32 id;

	mt_cmap_build(test, &m);
	id = memtopo_region_id(m.ram2);
	KUNIT_ASSERT_EQ(test, memtopo_space_find_range(m.as, 0x50180, 8, &s), 0);
	mt_expect_sec(test, &s, 0x50180, 0x50187, m.ram2, 0x80);

	KUNIT_ASSERT_EQ(test, memtopo_region_del_subregion(m.sub, m.ram2), 0);
	KUNIT_EXPECT_EQ(test, memtopo_space_find_range(m.as, 0x50180, 8, &again), -ENOENT);
	KUNIT_ASSERT_EQ(test, memtopo_region_destroy(m.ram2), 0);
	KUNIT_EXPECT_TRUE(test, IS_ERR(memtopo_region_get_by_id(mt_ctx(test), id)));
	/* a free queued despite our reference would run here, under KASAN's eye */
	rcu_barrier();
	KUNIT_EXPECT_EQ(test, refcount_read(&s.mr->ref), 1u);
	KUNIT_EXPECT_STREQ(test, memtopo_region_name(s.mr), "ram2");
	KUNIT_EXPECT_EQ(test, memtopo_region_size(s.mr), 0x100ULL);
	KUNIT_EXPECT_EQ(test, memtopo_region_find(s.mr, 0, 1, &again), -ENOENT);
	memtopo_region_put(s.mr);
}

static void mt_consumer_getters_test(struct kunit *test)
{
	struct memtopo_region *whole = mt_region64(test, MEMTOPO_CONTAINER, "whole");
	struct mt_cmap m;

	mt_cmap_build(test, &m);
	KUNIT_EXPECT_EQ(test, memtopo_region_size(m.ram), 0x10000ULL);
	KUNIT_EXPECT_EQ(test, memtopo_region_size(whole), U64_MAX);
	KUNIT_EXPECT_EQ(test, memtopo_region_address(m.io), 0x20000ULL);
	KUNIT_EXPECT_EQ(test, memtopo_region_address(m.ram2), 0x100ULL);
	KUNIT_EXPECT_EQ(test, memtopo_region_priority(m.win), 2);
	KUNIT_EXPECT_EQ(test, memtopo_region_priority(m.io), 1);
	KUNIT_EXPECT_EQ(test, memtopo_region_kind(m.win), MEMTOPO_ALIAS);
	KUNIT_EXPECT_EQ(test, memtopo_region_kind(m.io), MEMTOPO_IO);
	KUNIT_EXPECT_TRUE(test, memtopo_region_is_enabled(m.io));
	KUNIT_EXPECT_FALSE(test, memtopo_region_is_readonly(m.ram));

	KUNIT_ASSERT_EQ(test, memtopo_region_set_enabled(m.io, false), 0);
	KUNIT_ASSERT_EQ(test, memtopo_region_set_readonly(m.ram, true), 0);
	KUNIT_ASSERT_EQ(test, memtopo_region_set_priority(m.io, -3), 0);
	KUNIT_ASSERT_EQ(test, memtopo_region_set_address(m.io, 0x24000), 0);
	KUNIT_ASSERT_EQ(test, memtopo_region_set_size(m.ram, 0x8000, false), 0);
	KUNIT_EXPECT_FALSE(test, memtopo_region_is_enabled(m.io));
	KUNIT_EXPECT_TRUE(test, memtopo_region_is_readonly(m.ram));
	KUNIT_EXPECT_EQ(test, memtopo_region_priority(m.io), -3);
	KUNIT_EXPECT_EQ(test, memtopo_region_address(m.io), 0x24000ULL);
	KUNIT_EXPECT_EQ(test, memtopo_region_size(m.ram), 0x8000ULL);

	memtopo_ctx_lock(mt_ctx(test));
	KUNIT_EXPECT_PTR_EQ(test, memtopo_region_parent_locked(m.ram2), m.sub);
	KUNIT_EXPECT_PTR_EQ(test, memtopo_region_parent_locked(m.sub), m.sys);
	KUNIT_EXPECT_NULL(test, memtopo_region_parent_locked(m.sys));
	memtopo_ctx_unlock(mt_ctx(test));

	/* mapped: a subregion, or the target of a mapped alias */
	KUNIT_EXPECT_TRUE(test, memtopo_region_is_mapped(m.io));
	KUNIT_EXPECT_FALSE(test, memtopo_region_is_mapped(m.sys));
	KUNIT_EXPECT_FALSE(test, memtopo_region_is_mapped(whole));
	{
		struct memtopo_region *t = mt_region(test, MEMTOPO_RAM, "t", 0x1000);
		struct memtopo_region *a = mt_alias(test, "a", t, 0, 0x1000);

		KUNIT_EXPECT_FALSE(test, memtopo_region_is_mapped(t));
		mt_add(test, m.sys, 0x60000, a, 0);
		KUNIT_EXPECT_TRUE(test, memtopo_region_is_mapped(t));
		KUNIT_ASSERT_EQ(test, memtopo_region_del_subregion(m.sys, a), 0);
		KUNIT_EXPECT_FALSE(test, memtopo_region_is_mapped(t));
	}
}

static void mt_consumer_by_id_test(struct kunit *test)
{
	struct memtopo_region *mr, *gone;
	unsigned int ref;
	struct mt_cmap m;
	u32 id;

	mt_cmap_build(test, &m);
	ref = refcount_read(&m.io->ref);
	mr = memtopo_region_get_by_id(mt_ctx(test), memtopo_region_id(m.io));
	KUNIT_ASSERT_PTR_EQ(test, mr, m.io);
	KUNIT_EXPECT_EQ(test, refcount_read(&m.io->ref), ref + 1);
	memtopo_region_put(mr);
	KUNIT_EXPECT_EQ(test, refcount_read(&m.io->ref), ref);

	KUNIT_EXPECT_PTR_EQ(test, memtopo_region_get_by_id(mt_ctx(test), 0), ERR_PTR(-ENOENT));
	KUNIT_EXPECT_PTR_EQ(test, memtopo_region_get_by_id(mt_ctx(test), U32_MAX),
			    ERR_PTR(-ENOENT));

	/* destroyed, even while a reference keeps it in memory: not found */
	gone = mt_region(test, MEMTOPO_RAM, "gone", 0x1000);
	id = memtopo_region_id(gone);
	memtopo_region_get(gone);
	KUNIT_ASSERT_EQ(test, memtopo_region_destroy(gone), 0);
	KUNIT_EXPECT_PTR_EQ(test, memtopo_region_get_by_id(mt_ctx(test), id), ERR_PTR(-ENOENT));
	memtopo_region_put(gone);
}

static void mt_consumer_translate_test(struct kunit *test)
{
	const struct memtopo_backing *backing;
	struct memtopo_section s;
	struct mt_cmap m;
	u64 len;

	mt_cmap_build(test, &m);
	rcu_read_lock();
	/* RAM: the length clipped to the range, the backing handed out */
	len = 0x10000;
	KUNIT_EXPECT_EQ(test, memtopo_space_translate(m.as, 0x8000, &len, &s, &backing), 0);
	mt_expect_sec(test, &s, 0x8000, 0xffff, m.ram, 0x8000);
	KUNIT_EXPECT_EQ(test, len, 0x8000ULL);
	KUNIT_EXPECT_PTR_EQ(test, backing, memtopo_region_backing(m.ram));
	/* shorter than the range: unclipped */
	len = 0x10;
	KUNIT_EXPECT_EQ(test, memtopo_space_translate(m.as, 0x100, &len, &s, NULL), 0);
	mt_expect_sec(test, &s, 0x100, 0x10f, m.ram, 0x100);
	KUNIT_EXPECT_EQ(test, len, 0x10ULL);
	/* through the alias */
	len = 0x100;
	KUNIT_EXPECT_EQ(test, memtopo_space_translate(m.as, 0x31ff0, &len, &s, &backing), 0);
	mt_expect_sec(test, &s, 0x31ff0, 0x31fff, m.ram, 0x2ff0);
	KUNIT_EXPECT_EQ(test, len, 0x10ULL);
	KUNIT_EXPECT_NOT_NULL(test, backing);
	/* I/O: no direct backing */
	len = 8;
	KUNIT_EXPECT_EQ(test, memtopo_space_translate(m.as, 0x20010, &len, &s, &backing), 0);
	mt_expect_sec(test, &s, 0x20010, 0x20017, m.io, 0x10);
	KUNIT_EXPECT_NULL(test, backing);
	/* a hole, even with a range after it within the length */
	len = 0x20000;
	KUNIT_EXPECT_EQ(test, memtopo_space_translate(m.as, 0x10000, &len, &s, &backing), -ENOENT);
	KUNIT_EXPECT_EQ(test, len, 0x20000ULL);
	len = 0;
	KUNIT_EXPECT_EQ(test, memtopo_space_translate(m.as, 0, &len, &s, &backing), -EINVAL);
	/* the top of the space: the length stops at 2^64 */
	len = 0x100;
	KUNIT_EXPECT_EQ(test, memtopo_space_translate(m.as, U64_MAX - 7, &len, &s, NULL),
			-ENOENT);
	rcu_read_unlock();

	/* read-only RAM says so in the section flags */
	KUNIT_ASSERT_EQ(test, memtopo_region_set_readonly(m.ram, true), 0);
	rcu_read_lock();
	len = 4;
	KUNIT_EXPECT_EQ(test, memtopo_space_translate(m.as, 0, &len, &s, &backing), 0);
	KUNIT_EXPECT_TRUE(test, s.flags & MEMTOPO_FR_READONLY);
	KUNIT_EXPECT_NOT_NULL(test, backing);
	rcu_read_unlock();
}

static struct kunit_case mt_consumer_cases[] = {
	KUNIT_CASE(mt_consumer_walk_test),
	KUNIT_CASE(mt_consumer_walk_concurrent_test),
	KUNIT_CASE(mt_consumer_find_test),
	KUNIT_CASE(mt_consumer_find_ref_test),
	KUNIT_CASE(mt_consumer_getters_test),
	KUNIT_CASE(mt_consumer_by_id_test),
	KUNIT_CASE(mt_consumer_translate_test),
	{}
};

static struct kunit_suite mt_consumer_suite = {
	.name = "memtopo_consumer",
	.init = mt_fix_init,
	.exit = mt_fix_exit,
	.test_cases = mt_consumer_cases,
};

kunit_test_suite(mt_consumer_suite);
