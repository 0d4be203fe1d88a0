// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit suite "memtopo_engine_rcu": lock-free lookups while a writer
 * commits.
 *
 * A writer moves a small topology through six states, each state changing
 * three regions at once in one transaction, and adds and destroys a
 * throw-away region between them.  Reader kthreads meanwhile take only
 * rcu_read_lock() and check that:
 *  - every view they see is exactly one of the six legal states (so no
 *    half-committed transaction is ever visible), with or without the
 *    throw-away region, and well formed;
 *  - every section memtopo_space_lookup() returns contains the address and
 *    is what some legal state has there;
 *  - lookups inside one memtopo_space_read_begin()/read_retry() section
 *    that reports no retry come from one view (same generation, a common
 *    legal state);
 *  - generations never go backwards;
 *  - regions a section points to are still readable (KASAN in the debug
 *    kernel turns an early free into a report).
 * Run it under the debug kernel: lockdep, PROVE_RCU and KASAN do half of
 * the checking.
 */
#include <kunit/test.h>
#include <linux/bitops.h>
#include <linux/completion.h>
#include <linux/delay.h>
#include <linux/jiffies.h>
#include <linux/kthread.h>
#include <linux/prandom.h>
#include <linux/sched.h>
#include <linux/string.h>

#include "engine_util.h"

#define MT_RCU_STATES	6
#define MT_RCU_READERS	2
#define MT_RCU_MAX_EXP	8
#define MT_RCU_RUN_MS	1500
/*
 * The writer runs for MT_RCU_RUN_MS and at least MT_RCU_MIN_COMMITS
 * commits: on a loaded TCG host 1.5 s may hold only a handful, and a test
 * that counts on the clock fails for the host's sake.  The cap keeps a
 * writer that stopped making progress from hanging the suite.
 */
#define MT_RCU_MIN_COMMITS	20
#define MT_RCU_CAP_MS	60000
#define MT_RCU_BATCH	4	/* lookups per seqcount read section */
#define MT_RCU_GAP_US	2	/* delay between them */
/* fixed seeds: a failure reproduces with the same sequence of states */
#define MT_RCU_WRITER_SEED	0x6d7472
#define MT_RCU_READER_SEED	0x6d74

#define MT_TEMP_START	0x48000ULL
#define MT_TEMP_SIZE	0x1000ULL

/* The six legal states: where B sits, the alias offset, whether D shows. */
static const u64 mt_bpos[MT_RCU_STATES] = { 0x2000, 0x8000, 0x20000, 0x2000, 0x8000, 0x20000 };
static const u64 mt_xoff[MT_RCU_STATES] = { 0, 0x1000, 0x8000, 0x8000, 0, 0x1000 };
static const bool mt_den[MT_RCU_STATES] = { true, false, true, false, true, false };

struct mt_rcu_reader {
	struct mt_rcu *sh;
	struct task_struct *task;
	u32 seed;
	unsigned long views, lookups, batches;
	unsigned int states_seen;	/* bit k: state k was seen */
	unsigned long errors;
	char first_error[160];
};

/* Expected ranges, by region pointer: readers compare pointers, not names. */
struct mt_rcu_exp {
	u64 start;
	u64 last;
	struct memtopo_region *mr;
	u64 offset;
	u32 flags;
};

struct mt_rcu {
	struct memtopo_space *as;
	struct memtopo_region *a, *b, *r, *x, *d;
	struct mt_rcu_exp table[MT_RCU_STATES][MT_RCU_MAX_EXP];
	unsigned int n[MT_RCU_STATES];
	struct completion started[MT_RCU_READERS];
	struct mt_rcu_reader readers[MT_RCU_READERS];
};

/*
 * The expected ranges of state @k, written from the layout: A is RAM at
 * [0, 0x10000) under B (RAM, 0x4000, priority 1), X is an alias of R
 * (0x2000 at 0x30000), D is RAM (0x1000 at 0x40000).
 */
static void mt_rcu_build_table(struct mt_rcu *sh, unsigned int k)
{
	struct mt_rcu_exp *t = sh->table[k];
	unsigned int n = 0;
	u64 bp = mt_bpos[k];

	if (bp < 0x10000) {
		t[n++] = (struct mt_rcu_exp){ 0, bp - 1, sh->a, 0, 0 };
		t[n++] = (struct mt_rcu_exp){ bp, bp + 0x3fff, sh->b, 0, 0 };
		t[n++] = (struct mt_rcu_exp){ bp + 0x4000, 0xffff, sh->a, bp + 0x4000, 0 };
	} else {
		t[n++] = (struct mt_rcu_exp){ 0, 0xffff, sh->a, 0, 0 };
		t[n++] = (struct mt_rcu_exp){ bp, bp + 0x3fff, sh->b, 0, 0 };
	}
	t[n++] = (struct mt_rcu_exp){ 0x30000, 0x31fff, sh->r, mt_xoff[k], 0 };
	if (mt_den[k])
		t[n++] = (struct mt_rcu_exp){ 0x40000, 0x40fff, sh->d, 0, 0 };
	sh->n[k] = n;
}

static __printf(2, 3) void mt_rcu_error(struct mt_rcu_reader *rd, const char *fmt, ...)
{
	va_list args;

	if (!rd->errors++) {
		va_start(args, fmt);
		vsnprintf(rd->first_error, sizeof(rd->first_error), fmt, args);
		va_end(args);
	}
}

/* Is @s the throw-away region's range?  Reads the region: KASAN checks it. */
static bool mt_rcu_is_temp(u64 start, u64 last, const struct memtopo_region *mr, u64 offset,
			   u32 flags)
{
	return start == MT_TEMP_START && last == MT_TEMP_START + MT_TEMP_SIZE - 1 &&
	       mr && !strcmp(mr->name, "temp") && mr->kind == MEMTOPO_RAM && !offset && !flags;
}

/* The legal state @v is in, or -1.  Caller holds rcu_read_lock(). */
static int mt_rcu_match_view(struct mt_rcu_reader *rd, const struct memtopo_view *v)
{
	struct mt_rcu *sh = rd->sh;
	struct mt_rcu_exp got[MT_RCU_MAX_EXP];
	unsigned int n = 0, i, k, ranges = 0;

	if (!v->nr || memtopo_view_start(v, 0)) {
		mt_rcu_error(rd, "view does not start at 0");
		return -1;
	}
	for (i = 0; i < v->nr; i++) {
		const struct memtopo_fr *fr = memtopo_view_fr(v, i);
		u64 start = memtopo_view_start(v, i);
		u64 last = i + 1 < v->nr ? memtopo_view_start(v, i + 1) - 1 : U64_MAX;

		if (i && start <= memtopo_view_start(v, i - 1)) {
			mt_rcu_error(rd, "view entries %u, %u unsorted", i - 1, i);
			return -1;
		}
		if (!fr->mr)
			continue;
		ranges++;
		if (mt_rcu_is_temp(start, last, fr->mr, fr->offset, fr->flags))
			continue;
		if (n == MT_RCU_MAX_EXP) {
			mt_rcu_error(rd, "view has too many ranges");
			return -1;
		}
		got[n++] = (struct mt_rcu_exp){ start, last, fr->mr, fr->offset, fr->flags };
	}
	if (ranges != v->nr_ranges) {
		mt_rcu_error(rd, "view counts %u ranges, holds %u", v->nr_ranges, ranges);
		return -1;
	}
	for (k = 0; k < MT_RCU_STATES; k++) {
		if (sh->n[k] != n)
			continue;
		for (i = 0; i < n; i++) {
			const struct mt_rcu_exp *e = &sh->table[k][i];

			if (got[i].start != e->start || got[i].last != e->last ||
			    got[i].mr != e->mr || got[i].offset != e->offset ||
			    got[i].flags != e->flags)
				break;
		}
		if (i == n)
			return k;
	}
	mt_rcu_error(rd, "view (gen %llu, %u ranges) is no legal state", v->generation, n);
	return -1;
}

/*
 * The legal states consistent with lookup(@addr) returning @ret / @s, as a
 * bit mask; the throw-away region's window accepts anything well formed.
 */
static unsigned int mt_rcu_lookup_states(struct mt_rcu_reader *rd, u64 addr, int ret,
					 const struct memtopo_section *s)
{
	struct mt_rcu *sh = rd->sh;
	unsigned int k, i, mask = 0;

	if (!ret && (s->start > addr || s->last < addr)) {
		mt_rcu_error(rd, "lookup(%#llx) = [%#llx, %#llx]", addr, s->start, s->last);
		return 0;
	}
	if (addr >= MT_TEMP_START && addr < MT_TEMP_START + MT_TEMP_SIZE) {
		if (ret == -ENOENT ||
		    (!ret && mt_rcu_is_temp(s->start, s->last, s->mr, s->offset, s->flags)))
			return (1u << MT_RCU_STATES) - 1;
		mt_rcu_error(rd, "lookup(%#llx) in the temp window: %d", addr, ret);
		return 0;
	}
	for (k = 0; k < MT_RCU_STATES; k++) {
		const struct mt_rcu_exp *e = NULL;

		for (i = 0; i < sh->n[k]; i++)
			if (sh->table[k][i].start <= addr && addr <= sh->table[k][i].last)
				e = &sh->table[k][i];
		if (!e ? ret == -ENOENT :
		    !ret && s->start == e->start && s->last == e->last && s->mr == e->mr &&
		    s->offset == e->offset && s->flags == e->flags)
			mask |= 1u << k;
	}
	if (!mask)
		mt_rcu_error(rd, "lookup(%#llx) = %d %s [%#llx, %#llx] off %#llx: no legal state",
			     addr, ret, ret ? "-" : s->mr->name, ret ? 0 : s->start,
			     ret ? 0 : s->last, ret ? 0 : s->offset);
	return mask;
}

/* Addresses at and around every boundary of every state, plus random ones. */
static const u64 mt_probes[] = {
	0, 0x1fff, 0x2000, 0x5fff, 0x6000, 0x7fff, 0x8000, 0xbfff, 0xc000, 0xffff,
	0x10000, 0x1ffff, 0x20000, 0x23fff, 0x24000, 0x2ffff, 0x30000, 0x30fff, 0x31fff,
	0x32000, 0x3ffff, 0x40000, 0x40fff, 0x41000, 0x48000, 0x48fff, U64_MAX,
};

static u64 mt_rcu_addr(struct rnd_state *rs)
{
	u32 r = prandom_u32_state(rs);

	if (r & 1)
		return mt_probes[(r >> 1) % ARRAY_SIZE(mt_probes)];
	return (r >> 1) % 0x50000;
}

static int mt_rcu_reader_fn(void *arg)
{
	struct mt_rcu_reader *rd = arg;
	struct mt_rcu *sh = rd->sh;
	const struct memtopo_view *view;
	u64 last_gen = 0, gen, addr[MT_RCU_BATCH];
	unsigned int seq, mask, common, found, j;
	struct memtopo_section s;
	struct rnd_state rs;
	bool retry, split;
	int k, ret;

	prandom_seed_state(&rs, rd->seed);
	complete(&sh->started[rd - sh->readers]);
	while (!kthread_should_stop()) {
		/* a whole view, as one reader sees it at one instant */
		rcu_read_lock();
		view = rcu_dereference(sh->as->view);
		k = mt_rcu_match_view(rd, view);
		gen = view->generation;
		rcu_read_unlock();
		rd->views++;
		if (k >= 0)
			rd->states_seen |= 1u << k;
		if (gen < last_gen)
			mt_rcu_error(rd, "generation went back from %llu to %llu", last_gen, gen);
		last_gen = gen;

		/*
		 * A batch of lookups that the seqcount says all saw one view:
		 * they must share a generation and a legal state.  The delays
		 * widen the window so that, without a working seqcount, some
		 * commit lands inside it (the pointer swap itself is instant).
		 */
		for (j = 0; j < MT_RCU_BATCH; j++)
			addr[j] = mt_rcu_addr(&rs);
		common = (1u << MT_RCU_STATES) - 1;
		split = false;
		found = 0;
		seq = memtopo_space_read_begin(sh->as);
		rcu_read_lock();
		for (j = 0; j < MT_RCU_BATCH; j++) {
			ret = memtopo_space_lookup(sh->as, addr[j], &s);
			mask = mt_rcu_lookup_states(rd, addr[j], ret, &s);
			/* an illegal answer is reported already: keep it out of the rest */
			common &= mask ? mask : common;
			if (!ret && found++ && s.generation != gen)
				split = true;
			if (!ret)
				gen = s.generation;
			udelay(MT_RCU_GAP_US);
		}
		rcu_read_unlock();
		retry = memtopo_space_read_retry(sh->as, seq);
		rd->lookups += MT_RCU_BATCH;
		if (!retry) {
			rd->batches++;
			if (!common)
				mt_rcu_error(rd, "stable batch from %#llx: no common legal state",
					     addr[0]);
			if (split)
				mt_rcu_error(rd, "stable batch from %#llx: two generations",
					     addr[0]);
		}
		cond_resched();
	}
	return 0;
}

/* Move to state @k in one transaction.  Returns the first error. */
static int mt_rcu_apply(struct mt_rcu *sh, struct memtopo_ctx *ctx, unsigned int k)
{
	int ret, ret2;

	memtopo_transaction_begin(ctx);
	ret = memtopo_region_set_address(sh->b, mt_bpos[k]);
	if (!ret)
		ret = memtopo_region_set_alias_offset(sh->x, mt_xoff[k]);
	if (!ret)
		ret = memtopo_region_set_enabled(sh->d, mt_den[k]);
	ret2 = memtopo_transaction_commit(ctx);
	return ret ? ret : ret2;
}

static int mt_rcu_temp_toggle(struct memtopo_ctx *ctx, struct memtopo_region *root,
			      struct memtopo_region **temp)
{
	struct memtopo_region_info info = {
		.kind = MEMTOPO_RAM, .name = "temp", .size = MT_TEMP_SIZE,
	};
	struct memtopo_region *mr = *temp;
	int ret;

	if (mr) {
		*temp = NULL;
		ret = memtopo_region_del_subregion(root, mr);
		return ret ? ret : memtopo_region_destroy(mr);
	}
	mr = memtopo_region_create(ctx, &info);
	if (IS_ERR(mr))
		return PTR_ERR(mr);
	ret = memtopo_region_add_subregion(root, MT_TEMP_START, mr, 0, false);
	if (ret) {
		memtopo_region_destroy(mr);
		return ret;
	}
	*temp = mr;
	return 0;
}

/* Check the published view against state @k with the suite-wide helper. */
static void mt_rcu_expect_state(struct kunit *test, struct mt_rcu *sh, unsigned int k,
				int line)
{
	struct mt_exp exp[MT_RCU_MAX_EXP];
	unsigned int i;

	for (i = 0; i < sh->n[k]; i++) {
		const struct mt_rcu_exp *e = &sh->table[k][i];

		exp[i] = (struct mt_exp){ e->start, e->last, e->mr->name, e->offset, e->flags };
	}
	mt_expect_view(test, sh->as, exp, sh->n[k], line);
}

static bool mt_rcu_writer_more(unsigned long commits, unsigned long end, unsigned long cap)
{
	if (time_after_eq(jiffies, cap))
		return false;
	return commits < MT_RCU_MIN_COMMITS || time_before(jiffies, end);
}

static void mt_rcu_concurrent_lookup_test(struct kunit *test)
{
	struct memtopo_region *root, *temp = NULL;
	struct memtopo_ctx *ctx = mt_ctx(test);
	struct rnd_state rs;
	struct mt_rcu *sh;
	unsigned long end, cap, commits = 0;
	unsigned int i, k = 0;
	int ret = 0;

	sh = kunit_kzalloc(test, sizeof(*sh), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, sh);
	root = mt_region(test, MEMTOPO_CONTAINER, "root", 0x100000);
	sh->a = mt_region(test, MEMTOPO_RAM, "A", 0x10000);
	sh->b = mt_region(test, MEMTOPO_RAM, "B", 0x4000);
	sh->r = mt_region(test, MEMTOPO_RAM, "R", 0x10000);
	sh->x = mt_alias(test, "X", sh->r, 0, 0x2000);
	sh->d = mt_region(test, MEMTOPO_RAM, "D", 0x1000);
	sh->as = mt_space(test, "as", root);
	mt_add(test, root, 0, sh->a, 0);
	mt_add_overlap(test, root, mt_bpos[0], sh->b, 1);
	mt_add(test, root, 0x30000, sh->x, 0);
	mt_add(test, root, 0x40000, sh->d, 0);
	for (i = 0; i < MT_RCU_STATES; i++)
		mt_rcu_build_table(sh, i);
	/* the tables are hand-derived: check state 0 against the engine first */
	mt_rcu_expect_state(test, sh, 0, __LINE__);

	for (i = 0; i < MT_RCU_READERS; i++) {
		struct mt_rcu_reader *rd = &sh->readers[i];

		init_completion(&sh->started[i]);
		rd->sh = sh;
		rd->seed = MT_RCU_READER_SEED + i;
		rd->task = kthread_run(mt_rcu_reader_fn, rd, "mt_rcu_rd%u", i);
		if (IS_ERR(rd->task)) {
			KUNIT_FAIL(test, "kthread_run: %ld", PTR_ERR(rd->task));
			rd->task = NULL;
			goto stop;
		}
		wait_for_completion(&sh->started[i]);
	}

	prandom_seed_state(&rs, MT_RCU_WRITER_SEED);
	end = jiffies + msecs_to_jiffies(MT_RCU_RUN_MS);
	cap = jiffies + msecs_to_jiffies(MT_RCU_CAP_MS);
	while (mt_rcu_writer_more(commits, end, cap)) {
		k = (k + 1 + prandom_u32_state(&rs) % (MT_RCU_STATES - 1)) % MT_RCU_STATES;
		ret = mt_rcu_apply(sh, ctx, k);
		if (!ret && !(commits % 4))
			ret = mt_rcu_temp_toggle(ctx, root, &temp);
		if (ret)
			break;
		commits++;
		cond_resched();
	}
	KUNIT_EXPECT_EQ_MSG(test, ret, 0, "writer failed after %lu commits", commits);

stop:
	for (i = 0; i < MT_RCU_READERS; i++) {
		struct mt_rcu_reader *rd = &sh->readers[i];

		if (!rd->task)
			continue;
		kthread_stop(rd->task);
		/* the 512-byte KUnit case log must keep room for the verdict: console only */
		pr_info("    # %s: reader %u (seed %#x): %lu views, %lu lookups, %lu stable batches, states %#x\n",
			test->name, i, rd->seed, rd->views, rd->lookups, rd->batches,
			rd->states_seen);
		KUNIT_EXPECT_EQ_MSG(test, rd->errors, 0, "reader %u: %lu errors, first: %s", i,
				    rd->errors, rd->first_error);
		/* a reader that saw one state only tested nothing concurrent */
		KUNIT_EXPECT_GE_MSG(test, hweight32(rd->states_seen), 2,
				    "reader %u saw too few states", i);
		KUNIT_EXPECT_GT(test, rd->batches, 0);
	}
	pr_info("    # %s: writer (seed %#x): %lu commits\n", test->name, MT_RCU_WRITER_SEED,
		commits);
	/* few: readers hog the CPUs under TCG + KASAN; the states seen matter more */
	KUNIT_EXPECT_GE(test, commits, MT_RCU_MIN_COMMITS);
	if (temp)
		KUNIT_EXPECT_EQ(test, mt_rcu_temp_toggle(ctx, root, &temp), 0);
	/* and the final state is exactly what the writer left */
	mt_rcu_expect_state(test, sh, k, __LINE__);
}

/*
 * The same under a view of a couple of thousand entries, so that views
 * span many chunks and commits splice some of them: NR_GROUPS groups of
 * GROUP_LEAVES one-page RAM leaves, one leaf per two-page slot, at the
 * slot's first or second page.  The writer changes one whole group per
 * transaction (all on or all off, all at the same place in their slots),
 * so a reader walking an entire view must find every group whole; a torn
 * splice, a chunk freed early or a stale chunk shows up as a broken group,
 * an unknown region or a KASAN report.
 */
#define MT_GROUPS	96
#define MT_GROUP_LEAVES	8
#define MT_LEAVES	(MT_GROUPS * MT_GROUP_LEAVES)
#define MT_SLOT		0x2000ULL
#define MT_LEAF		0x1000ULL

struct mt_grp_reader {
	struct mt_grp *sh;
	struct task_struct *task;
	u32 seed;
	unsigned long views, lookups, batches, generations;
	unsigned long errors;
	char first_error[160];
};

struct mt_grp {
	struct memtopo_space *as;
	struct memtopo_region *leaf[MT_LEAVES];
	struct completion started[MT_RCU_READERS];
	struct mt_grp_reader readers[MT_RCU_READERS];
};

static __printf(2, 3) void mt_grp_error(struct mt_grp_reader *rd, const char *fmt, ...)
{
	va_list args;

	if (!rd->errors++) {
		va_start(args, fmt);
		vsnprintf(rd->first_error, sizeof(rd->first_error), fmt, args);
		va_end(args);
	}
}

/* Is this range a legal leaf range?  Returns the leaf index or -1. */
static int mt_grp_leaf_of(struct mt_grp *sh, u64 start, u64 last,
			  const struct memtopo_region *mr, u64 offset, u32 flags)
{
	u64 slot = start / MT_SLOT;

	if (slot >= MT_LEAVES || mr != sh->leaf[slot] || last != start + MT_LEAF - 1 ||
	    offset || flags || (start % MT_SLOT && start % MT_SLOT != MT_LEAF))
		return -1;
	return slot;
}

/* Walk a whole view: every range a legal leaf, every group whole. */
static void mt_grp_check_view(struct mt_grp_reader *rd, const struct memtopo_view *v)
{
	u8 count[MT_GROUPS] = {}, place[MT_GROUPS];
	unsigned int i, g;
	u64 prev = 0;

	for (i = 0; i < v->nr; i++) {
		const struct memtopo_fr *fr = memtopo_view_fr(v, i);
		u64 start = memtopo_view_start(v, i);
		u64 last = i + 1 < v->nr ? memtopo_view_start(v, i + 1) - 1 : U64_MAX;
		int leaf;

		if (i ? start <= prev : start) {
			mt_grp_error(rd, "view entry %u at %#llx out of order", i, start);
			return;
		}
		prev = start;
		if (!fr->mr)
			continue;
		leaf = mt_grp_leaf_of(rd->sh, start, last, fr->mr, fr->offset, fr->flags);
		if (leaf < 0) {
			mt_grp_error(rd, "view range %#llx-%#llx is no leaf", start, last);
			return;
		}
		g = leaf / MT_GROUP_LEAVES;
		if (count[g] && place[g] != start % MT_SLOT / MT_LEAF) {
			mt_grp_error(rd, "group %u torn: leaves at both places", g);
			return;
		}
		place[g] = start % MT_SLOT / MT_LEAF;
		count[g]++;
	}
	for (g = 0; g < MT_GROUPS; g++)
		if (count[g] && count[g] != MT_GROUP_LEAVES) {
			mt_grp_error(rd, "group %u torn: %u of %u leaves", g, count[g],
				     MT_GROUP_LEAVES);
			return;
		}
}

static int mt_grp_reader_fn(void *arg)
{
	struct mt_grp_reader *rd = arg;
	struct mt_grp *sh = rd->sh;
	u64 gen = 0, last_gen = 0, addr;
	struct memtopo_section s;
	unsigned int seq, j, found;
	struct rnd_state rs;
	bool split, legal;
	int ret;

	prandom_seed_state(&rs, rd->seed);
	complete(&sh->started[rd - sh->readers]);
	while (!kthread_should_stop()) {
		const struct memtopo_view *v;

		rcu_read_lock();
		v = rcu_dereference(sh->as->view);
		mt_grp_check_view(rd, v);
		gen = v->generation;
		rcu_read_unlock();
		rd->views++;
		if (gen < last_gen)
			mt_grp_error(rd, "generation went back from %llu to %llu", last_gen, gen);
		if (gen != last_gen)
			rd->generations++;
		last_gen = gen;

		/* lookups spread over the whole view, one generation per stable batch */
		split = false;
		found = 0;
		seq = memtopo_space_read_begin(sh->as);
		rcu_read_lock();
		for (j = 0; j < MT_RCU_BATCH; j++) {
			addr = prandom_u32_state(&rs) % (MT_LEAVES * MT_SLOT + MT_SLOT);
			ret = memtopo_space_lookup(sh->as, addr, &s);
			legal = !ret && s.start <= addr && addr <= s.last &&
				mt_grp_leaf_of(sh, s.start, s.last, s.mr, s.offset, s.flags) >= 0;
			if (!ret && !legal)
				mt_grp_error(rd, "lookup(%#llx) = %#llx-%#llx: no leaf", addr,
					     s.start, s.last);
			else if (ret && ret != -ENOENT)
				mt_grp_error(rd, "lookup(%#llx) = %d", addr, ret);
			if (!ret && found++ && s.generation != gen)
				split = true;
			if (!ret)
				gen = s.generation;
			udelay(MT_RCU_GAP_US);
		}
		rcu_read_unlock();
		rd->lookups += MT_RCU_BATCH;
		if (!memtopo_space_read_retry(sh->as, seq)) {
			rd->batches++;
			if (split)
				mt_grp_error(rd, "stable batch: two generations");
		}
		cond_resched();
	}
	return 0;
}

/* Group @g on or off, at place @place of its slots: one transaction. */
static int mt_grp_apply(struct mt_grp *sh, struct memtopo_ctx *ctx, unsigned int g,
			bool on, unsigned int place)
{
	unsigned int i, leaf;
	int ret = 0, ret2;

	memtopo_transaction_begin(ctx);
	for (i = 0; i < MT_GROUP_LEAVES && !ret; i++) {
		leaf = g * MT_GROUP_LEAVES + i;
		ret = memtopo_region_set_address(sh->leaf[leaf], leaf * MT_SLOT + place * MT_LEAF);
		if (!ret)
			ret = memtopo_region_set_enabled(sh->leaf[leaf], on);
	}
	ret2 = memtopo_transaction_commit(ctx);
	return ret ? ret : ret2;
}

static void mt_rcu_many_chunks_test(struct kunit *test)
{
	struct memtopo_ctx *ctx = mt_ctx(test);
	unsigned long end, cap, commits = 0;
	struct memtopo_region *root;
	struct rnd_state rs;
	struct mt_grp *sh;
	unsigned int i;
	int ret = 0;

	sh = kunit_kzalloc(test, sizeof(*sh), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, sh);
	root = mt_region(test, MEMTOPO_CONTAINER, "root", MT_LEAVES * MT_SLOT + MT_SLOT);
	sh->as = mt_space(test, "as", root);
	memtopo_transaction_begin(ctx);
	for (i = 0; i < MT_LEAVES && !ret; i++) {
		sh->leaf[i] = mt_region(test, MEMTOPO_RAM, "leaf", MT_LEAF);
		ret = memtopo_region_add_subregion(root, i * MT_SLOT, sh->leaf[i], 0, false);
	}
	KUNIT_EXPECT_EQ(test, memtopo_transaction_commit(ctx), 0);
	KUNIT_ASSERT_EQ(test, ret, 0);
	/* the view this starts from must span several chunks, or nothing is spliced */
	rcu_read_lock();
	i = rcu_dereference(sh->as->view)->nr;
	rcu_read_unlock();
	KUNIT_ASSERT_GT(test, i, 4 * MEMTOPO_CHUNK_ENTRIES);

	for (i = 0; i < MT_RCU_READERS; i++) {
		struct mt_grp_reader *rd = &sh->readers[i];

		init_completion(&sh->started[i]);
		rd->sh = sh;
		rd->seed = MT_RCU_READER_SEED + 16 + i;
		rd->task = kthread_run(mt_grp_reader_fn, rd, "mt_grp_rd%u", i);
		if (IS_ERR(rd->task)) {
			KUNIT_FAIL(test, "kthread_run: %ld", PTR_ERR(rd->task));
			rd->task = NULL;
			goto stop;
		}
		wait_for_completion(&sh->started[i]);
	}

	prandom_seed_state(&rs, MT_RCU_WRITER_SEED + 1);
	end = jiffies + msecs_to_jiffies(MT_RCU_RUN_MS);
	cap = jiffies + msecs_to_jiffies(MT_RCU_CAP_MS);
	while (mt_rcu_writer_more(commits, end, cap)) {
		u32 r = prandom_u32_state(&rs);

		ret = mt_grp_apply(sh, ctx, r % MT_GROUPS, r & BIT(16), !!(r & BIT(17)));
		if (ret)
			break;
		commits++;
		cond_resched();
	}
	KUNIT_EXPECT_EQ_MSG(test, ret, 0, "writer failed after %lu commits", commits);

stop:
	for (i = 0; i < MT_RCU_READERS; i++) {
		struct mt_grp_reader *rd = &sh->readers[i];

		if (!rd->task)
			continue;
		kthread_stop(rd->task);
		pr_info("    # %s: reader %u (seed %#x): %lu views (%lu generations), %lu lookups, %lu stable batches\n",
			test->name, i, rd->seed, rd->views, rd->generations, rd->lookups,
			rd->batches);
		KUNIT_EXPECT_EQ_MSG(test, rd->errors, 0, "reader %u: %lu errors, first: %s", i,
				    rd->errors, rd->first_error);
		/* a reader that saw one view only tested nothing concurrent */
		KUNIT_EXPECT_GE_MSG(test, rd->generations, 3, "reader %u saw too few views", i);
	}
	pr_info("    # %s: writer (seed %#x): %lu commits\n", test->name,
		MT_RCU_WRITER_SEED + 1, commits);
	KUNIT_EXPECT_GE(test, commits, MT_RCU_MIN_COMMITS);
}

static struct kunit_case mt_rcu_cases[] = {
	KUNIT_CASE(mt_rcu_concurrent_lookup_test),
	KUNIT_CASE(mt_rcu_many_chunks_test),
	{}
};

static struct kunit_suite mt_rcu_suite = {
	.name = "memtopo_engine_rcu",
	.init = mt_fix_init,
	.exit = mt_fix_exit,
	.test_cases = mt_rcu_cases,
};

kunit_test_suite(mt_rcu_suite);
