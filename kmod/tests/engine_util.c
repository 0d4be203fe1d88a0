// SPDX-License-Identifier: GPL-2.0
/*
 * Helpers shared by the engine KUnit suites; see engine_util.h.
 *
 * The helpers read the engine's structures directly (memtopo_internal.h)
 * rather than through memtopo_pos_find()/memtopo_view_section(): those are
 * internal to memtopo.ko and not exported, and a second implementation of
 * the structural checks is what a test wants anyway.
 */
#include <linux/err.h>
#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/string.h>

#include "engine_util.h"

int mt_fix_init(struct kunit *test)
{
	struct memtopo_region_info info = {
		.kind = MEMTOPO_RAM, .name = "dummy", .size = 0x1000,
	};
	struct mt_fix *fix;

	fix = kunit_kzalloc(test, sizeof(*fix), GFP_KERNEL);
	if (!fix)
		return -ENOMEM;
	fix->ctx = memtopo_ctx_create("kunit-engine");
	if (IS_ERR(fix->ctx))
		return PTR_ERR(fix->ctx);
	fix->dummy = memtopo_region_create(fix->ctx, &info);
	if (IS_ERR(fix->dummy)) {
		memtopo_ctx_put(fix->ctx);
		return PTR_ERR(fix->dummy);
	}
	test->priv = fix;
	return 0;
}

void mt_fix_exit(struct kunit *test)
{
	struct mt_fix *fix = test->priv;
	unsigned int i;

	if (!fix)
		return;
	/* a registered listener holds the context: unregister before the put */
	for (i = 0; i < MT_MAX_LISTENERS; i++)
		if (fix->listeners[i])
			memtopo_listener_unregister(fix->listeners[i]);
	memtopo_ctx_put(fix->ctx);
}

struct memtopo_region *mt_region(struct kunit *test, enum memtopo_kind kind,
				 const char *name, u64 size)
{
	struct memtopo_region_info info = { .kind = kind, .name = name, .size = size };
	struct memtopo_region *mr = memtopo_region_create(mt_ctx(test), &info);

	KUNIT_ASSERT_NOT_ERR_OR_NULL_MSG(test, mr, "creating %s", name);
	return mr;
}

struct memtopo_region *mt_region_kram(struct kunit *test, enum memtopo_kind kind,
				      const char *name, u64 size)
{
	struct memtopo_region_info info = { .kind = kind, .name = name, .size = size };
	struct memtopo_region *mr;

	info.backing = memtopo_backing_kernel_alloc(size);
	KUNIT_ASSERT_NOT_ERR_OR_NULL_MSG(test, info.backing, "backing %s", name);
	mr = memtopo_region_create(mt_ctx(test), &info);
	/* the region holds its own reference */
	memtopo_backing_put(info.backing);
	KUNIT_ASSERT_NOT_ERR_OR_NULL_MSG(test, mr, "creating %s", name);
	return mr;
}

struct memtopo_region *mt_region64(struct kunit *test, enum memtopo_kind kind,
				   const char *name)
{
	struct memtopo_region_info info = {
		.kind = kind, .name = name, .size_is_2_64 = true,
	};
	struct memtopo_region *mr = memtopo_region_create(mt_ctx(test), &info);

	KUNIT_ASSERT_NOT_ERR_OR_NULL_MSG(test, mr, "creating %s", name);
	return mr;
}

static struct memtopo_region *mt_alias_common(struct kunit *test, const char *name,
					      struct memtopo_region *target, u64 offset,
					      u64 size, bool size64)
{
	struct memtopo_region_info info = {
		.kind = MEMTOPO_ALIAS, .name = name, .size = size,
		.size_is_2_64 = size64, .alias_target = target, .alias_offset = offset,
	};
	struct memtopo_region *mr = memtopo_region_create(mt_ctx(test), &info);

	KUNIT_ASSERT_NOT_ERR_OR_NULL_MSG(test, mr, "creating %s", name);
	return mr;
}

struct memtopo_region *mt_alias(struct kunit *test, const char *name,
				struct memtopo_region *target, u64 offset, u64 size)
{
	return mt_alias_common(test, name, target, offset, size, false);
}

struct memtopo_region *mt_alias64(struct kunit *test, const char *name,
				  struct memtopo_region *target, u64 offset)
{
	return mt_alias_common(test, name, target, offset, 0, true);
}

struct memtopo_space *mt_space(struct kunit *test, const char *name,
			       struct memtopo_region *root)
{
	struct memtopo_space *as = memtopo_space_create(mt_ctx(test), name, root);

	KUNIT_ASSERT_NOT_ERR_OR_NULL_MSG(test, as, "creating space %s", name);
	return as;
}

void mt_add(struct kunit *test, struct memtopo_region *parent, u64 offset,
	    struct memtopo_region *child, int priority)
{
	KUNIT_ASSERT_EQ_MSG(test, memtopo_region_add_subregion(parent, offset, child,
							       priority, false), 0,
			    "adding %s to %s", child->name, parent->name);
}

void mt_add_overlap(struct kunit *test, struct memtopo_region *parent, u64 offset,
		    struct memtopo_region *child, int priority)
{
	KUNIT_ASSERT_EQ_MSG(test, memtopo_region_add_subregion(parent, offset, child,
							       priority, true), 0,
			    "adding %s to %s", child->name, parent->name);
}

void mt_rerender(struct kunit *test)
{
	struct memtopo_region *dummy = mt_fix(test)->dummy;

	KUNIT_ASSERT_EQ(test, memtopo_region_set_enabled(dummy, !memtopo_region_enabled(dummy)),
			0);
}

const struct memtopo_view *mt_view_ptr(struct memtopo_space *as)
{
	const struct memtopo_view *v;

	rcu_read_lock();
	v = rcu_dereference(as->view);
	rcu_read_unlock();
	return v;
}

u64 mt_generation(struct memtopo_space *as)
{
	u64 gen;

	rcu_read_lock();
	gen = memtopo_space_generation(as);
	rcu_read_unlock();
	return gen;
}

static const char *mt_name(const struct memtopo_region *mr)
{
	return mr ? mr->name : "(hole)";
}

static bool mt_same_name(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

/* Would the engine have had to merge entry @i - 1 into entry @i? */
static bool mt_mergeable(const struct memtopo_view *v, u32 i)
{
	const struct memtopo_fr *a = memtopo_view_fr(v, i - 1), *b = memtopo_view_fr(v, i);
	u64 len = memtopo_view_start(v, i) - memtopo_view_start(v, i - 1);

	if (a->mr != b->mr || a->flags != b->flags || a->dirty_log_mask != b->dirty_log_mask)
		return false;
	return !a->mr || a->offset + len == b->offset;
}

static bool mt_exp_equal(const struct mt_exp *a, const struct mt_exp *b)
{
	return a->start == b->start && a->last == b->last && mt_same_name(a->mr, b->mr) &&
	       a->offset == b->offset && a->flags == b->flags;
}

/*
 * Detail goes to the console only: KUnit keeps 512 bytes of log per case
 * (6.1), and a full log loses the case's own ok/not ok line.
 */
static void mt_print_exp(struct kunit *test, const char *what, unsigned int i,
			 const struct mt_exp *e, bool bad)
{
	pr_err("    # %s: %c %s[%u] %#018llx-%#018llx %-14s off %#llx flags %#x\n", test->name,
	       bad ? '!' : ' ', what, i, e->start, e->last, e->mr, e->offset, e->flags);
}

/* Is the section @s exactly the expected range @e? */
static bool mt_section_is(const struct memtopo_section *s, const struct mt_exp *e)
{
	return s->start == e->start && s->last == e->last && s->mr &&
	       mt_same_name(s->mr->name, e->mr) && s->offset == e->offset && s->flags == e->flags;
}

static void mt_expect_lookup(struct kunit *test, struct memtopo_space *as, u64 addr,
			     const struct mt_exp *e, int line)
{
	struct memtopo_section s = {};
	u64 gen;
	int ret;

	rcu_read_lock();
	ret = memtopo_space_lookup(as, addr, &s);
	gen = memtopo_space_generation(as);
	rcu_read_unlock();
	if (!e) {
		KUNIT_EXPECT_EQ_MSG(test, ret, -ENOENT,
				    "line %d: lookup(%#llx) in a hole found %s", line, addr,
				    ret ? "an error" : mt_name(s.mr));
		return;
	}
	KUNIT_EXPECT_EQ_MSG(test, ret, 0, "line %d: lookup(%#llx) failed, want %s", line, addr,
			    e->mr);
	if (ret)
		return;
	KUNIT_EXPECT_TRUE_MSG(test, mt_section_is(&s, e),
			      "line %d: lookup(%#llx) = %#llx-%#llx %s off %#llx flags %#x, want %#llx-%#llx %s off %#llx flags %#x",
			      line, addr, s.start, s.last, mt_name(s.mr), s.offset, s.flags,
			      e->start, e->last, e->mr, e->offset, e->flags);
	KUNIT_EXPECT_EQ_MSG(test, s.generation, gen,
			    "line %d: lookup(%#llx) section generation", line, addr);
}

/* Lookups at both ends and the middle of every range, and both ends of every hole. */
static void mt_expect_lookups(struct kunit *test, struct memtopo_space *as,
			      const struct mt_exp *exp, unsigned int n, int line)
{
	u64 next = 0;	/* first address not yet checked */
	bool done = false;
	unsigned int i;

	for (i = 0; i < n; i++) {
		const struct mt_exp *e = &exp[i];

		if (e->start > next) {
			mt_expect_lookup(test, as, next, NULL, line);
			mt_expect_lookup(test, as, e->start - 1, NULL, line);
		}
		mt_expect_lookup(test, as, e->start, e, line);
		mt_expect_lookup(test, as, e->start + (e->last - e->start) / 2, e, line);
		mt_expect_lookup(test, as, e->last, e, line);
		if (e->last == U64_MAX) {
			done = true;
			break;
		}
		next = e->last + 1;
	}
	if (!done) {
		mt_expect_lookup(test, as, next, NULL, line);
		mt_expect_lookup(test, as, U64_MAX, NULL, line);
	}
}

void mt_expect_view(struct kunit *test, struct memtopo_space *as,
		    const struct mt_exp *exp, unsigned int n, int line)
{
	const struct memtopo_view *v;
	struct mt_exp *got;
	unsigned int nr_got = 0, i;
	bool structure_ok = true, same;

	memtopo_ctx_lock(as->ctx);
	v = memtopo_space_view_locked(as);
	got = kunit_kmalloc_array(test, v->nr, sizeof(*got), GFP_KERNEL);
	if (!got) {
		memtopo_ctx_unlock(as->ctx);
		KUNIT_FAIL(test, "line %d: out of memory", line);
		return;
	}
	if (!v->nr || memtopo_view_start(v, 0)) {
		KUNIT_FAIL(test, "line %d: view does not start at 0 (nr %u)", line, v->nr);
		structure_ok = false;
	}
	for (i = 0; i < v->nr && structure_ok; i++) {
		if (i && memtopo_view_start(v, i) <= memtopo_view_start(v, i - 1)) {
			KUNIT_FAIL(test, "line %d: view entries %u and %u are not sorted", line,
				   i - 1, i);
			structure_ok = false;
		} else if (i && mt_mergeable(v, i)) {
			KUNIT_FAIL(test, "line %d: view entries %u and %u (%s) were not merged",
				   line, i - 1, i, mt_name(memtopo_view_fr(v, i)->mr));
		}
		if (!memtopo_view_fr(v, i)->mr)
			continue;
		got[nr_got++] = (struct mt_exp){
			.start = memtopo_view_start(v, i),
			.last = i + 1 < v->nr ? memtopo_view_start(v, i + 1) - 1 : U64_MAX,
			.mr = memtopo_view_fr(v, i)->mr->name,
			.offset = memtopo_view_fr(v, i)->offset,
			.flags = memtopo_view_fr(v, i)->flags,
		};
	}
	if (structure_ok && nr_got != v->nr_ranges)
		KUNIT_FAIL(test, "line %d: view counts %u ranges, holds %u", line,
			   v->nr_ranges, nr_got);
	memtopo_ctx_unlock(as->ctx);
	if (!structure_ok)
		return;

	same = nr_got == n;
	for (i = 0; same && i < n; i++)
		same = mt_exp_equal(&got[i], &exp[i]);
	if (!same) {
		KUNIT_FAIL(test, "line %d: view of %s differs from the table (see console)",
			   line, as->name);
		for (i = 0; i < max(n, nr_got); i++) {
			bool bad = i >= n || i >= nr_got || !mt_exp_equal(&got[i], &exp[i]);

			if (i < nr_got)
				mt_print_exp(test, "got ", i, &got[i], bad);
			if (i < n)
				mt_print_exp(test, "want", i, &exp[i], bad);
		}
		return;
	}
	mt_expect_lookups(test, as, exp, n, line);
}

void mt_snapshot(struct kunit *test, struct memtopo_space *as, struct mt_snap *snap)
{
	const struct memtopo_view *v;

	memtopo_ctx_lock(as->ctx);
	v = memtopo_space_view_locked(as);
	snap->view = v;
	snap->generation = v->generation;
	snap->nr = v->nr;
	snap->starts = kunit_kmalloc_array(test, v->nr, sizeof(*snap->starts), GFP_KERNEL);
	snap->fr = kunit_kmalloc_array(test, v->nr, sizeof(*snap->fr), GFP_KERNEL);
	if (snap->starts && snap->fr) {
		u32 i;

		for (i = 0; i < v->nr; i++) {
			snap->starts[i] = memtopo_view_start(v, i);
			snap->fr[i] = *memtopo_view_fr(v, i);
		}
	}
	memtopo_ctx_unlock(as->ctx);
	KUNIT_ASSERT_NOT_NULL(test, snap->starts);
	KUNIT_ASSERT_NOT_NULL(test, snap->fr);
}

void mt_expect_unchanged(struct kunit *test, struct memtopo_space *as,
			 const struct mt_snap *snap, int line)
{
	const struct memtopo_view *v;
	bool same;
	u32 i;

	memtopo_ctx_lock(as->ctx);
	v = memtopo_space_view_locked(as);
	KUNIT_EXPECT_PTR_EQ_MSG(test, v, snap->view, "line %d: a new view was published", line);
	KUNIT_EXPECT_EQ_MSG(test, v->generation, snap->generation,
			    "line %d: the generation moved", line);
	same = v->nr == snap->nr;
	for (i = 0; same && i < v->nr; i++) {
		const struct memtopo_fr *fr = memtopo_view_fr(v, i);

		same = memtopo_view_start(v, i) == snap->starts[i] &&
		       fr->mr == snap->fr[i].mr && fr->offset == snap->fr[i].offset &&
		       fr->flags == snap->fr[i].flags &&
		       fr->dirty_log_mask == snap->fr[i].dirty_log_mask;
	}
	KUNIT_EXPECT_TRUE_MSG(test, same, "line %d: the view's entries changed", line);
	memtopo_ctx_unlock(as->ctx);
}

/* Listener recording. */

static const char *const mt_op_names[] = {
	[MT_OP_BEGIN] = "begin", [MT_OP_COMMIT] = "commit", [MT_OP_ADD] = "add",
	[MT_OP_DEL] = "del", [MT_OP_NOP] = "nop", [MT_OP_LOG_START] = "log_start",
	[MT_OP_LOG_STOP] = "log_stop", [MT_OP_POPULATE] = "populate",
	[MT_OP_DISCARD] = "discard",
};

static void mt_record(struct mt_rec *rec, u8 op, const struct memtopo_section *s,
		      u8 old_mask, u8 new_mask)
{
	struct mt_log *log = rec->log;
	struct mt_call *c;

	/* memtopo.h: callbacks run under the context mutex and may sleep */
	might_sleep();
	lockdep_assert_held(&log->ctx->lock);
	if (!mutex_is_locked(&log->ctx->lock))
		log->unlocked = true;
	if (log->n == MT_LOG_MAX) {
		log->overflow = true;
		return;
	}
	c = &log->calls[log->n++];
	*c = (struct mt_call){ .who = rec->who, .op = op, .old_mask = old_mask,
			       .new_mask = new_mask };
	if (s) {
		c->start = s->start;
		c->last = s->last;
		strscpy(log->names[log->n - 1], mt_name(s->mr), sizeof(log->names[0]));
		c->mr = log->names[log->n - 1];
		c->offset = s->offset;
		c->flags = s->flags;
	}
}

void mt_log_call(struct mt_log *log, u8 who, u8 op, const struct memtopo_section *s)
{
	struct mt_rec rec = { .log = log, .who = who };

	mt_record(&rec, op, s, 0, 0);
}

static void mt_rec_begin(void *priv)
{
	mt_record(priv, MT_OP_BEGIN, NULL, 0, 0);
}

static void mt_rec_commit(void *priv)
{
	mt_record(priv, MT_OP_COMMIT, NULL, 0, 0);
}

static void mt_rec_add(void *priv, const struct memtopo_section *s)
{
	mt_record(priv, MT_OP_ADD, s, 0, 0);
}

static void mt_rec_del(void *priv, const struct memtopo_section *s)
{
	mt_record(priv, MT_OP_DEL, s, 0, 0);
}

static void mt_rec_nop(void *priv, const struct memtopo_section *s)
{
	mt_record(priv, MT_OP_NOP, s, 0, 0);
}

static void mt_rec_log_start(void *priv, const struct memtopo_section *s, u8 old_mask,
			     u8 new_mask)
{
	mt_record(priv, MT_OP_LOG_START, s, old_mask, new_mask);
}

static void mt_rec_log_stop(void *priv, const struct memtopo_section *s, u8 old_mask,
			    u8 new_mask)
{
	mt_record(priv, MT_OP_LOG_STOP, s, old_mask, new_mask);
}

static const struct memtopo_listener_ops mt_rec_ops = {
	.begin = mt_rec_begin,
	.commit = mt_rec_commit,
	.region_add = mt_rec_add,
	.region_del = mt_rec_del,
	.region_nop = mt_rec_nop,
	.log_start = mt_rec_log_start,
	.log_stop = mt_rec_log_stop,
};

struct mt_log *mt_log_new(struct kunit *test)
{
	struct mt_log *log = kunit_kzalloc(test, sizeof(*log), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, log);
	log->ctx = mt_ctx(test);
	return log;
}

void mt_listen(struct kunit *test, struct memtopo_space *as, struct memtopo_listener *l)
{
	struct mt_fix *fix = mt_fix(test);
	unsigned int i;

	for (i = 0; i < MT_MAX_LISTENERS && fix->listeners[i]; i++)
		;
	KUNIT_ASSERT_LT_MSG(test, i, MT_MAX_LISTENERS, "too many listeners for the fixture");
	KUNIT_ASSERT_EQ(test, memtopo_listener_register(as, l), 0);
	fix->listeners[i] = l;
}

void mt_unlisten(struct kunit *test, struct memtopo_listener *l)
{
	struct mt_fix *fix = mt_fix(test);
	unsigned int i;

	memtopo_listener_unregister(l);
	for (i = 0; i < MT_MAX_LISTENERS; i++)
		if (fix->listeners[i] == l)
			fix->listeners[i] = NULL;
}

struct mt_rec *mt_recorder(struct kunit *test, struct mt_log *log,
			   struct memtopo_space *as, u8 who, int priority)
{
	struct mt_rec *rec = kunit_kzalloc(test, sizeof(*rec), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, rec);
	rec->log = log;
	rec->who = who;
	rec->l.ops = &mt_rec_ops;
	rec->l.priv = rec;
	rec->l.priority = priority;
	/* pins this module while registered; engine_free_test.c checks that */
	rec->l.owner = THIS_MODULE;
	mt_listen(test, as, &rec->l);
	return rec;
}

static bool mt_call_equal(const struct mt_call *a, const struct mt_call *b)
{
	return a->who == b->who && a->op == b->op && a->start == b->start &&
	       a->last == b->last && mt_same_name(a->mr, b->mr) && a->offset == b->offset &&
	       a->flags == b->flags && a->old_mask == b->old_mask &&
	       a->new_mask == b->new_mask;
}

static void mt_print_call(struct kunit *test, const char *what, unsigned int i,
			  const struct mt_call *c, bool bad)
{
	const char *op = c->op < ARRAY_SIZE(mt_op_names) && mt_op_names[c->op] ?
			 mt_op_names[c->op] : "?";

	if (c->op == MT_OP_BEGIN || c->op == MT_OP_COMMIT)
		pr_err("    # %s: %c %s[%u] L%u %s\n", test->name, bad ? '!' : ' ', what, i,
		       c->who, op);
	else
		pr_err("    # %s: %c %s[%u] L%u %-9s %#llx-%#llx %s off %#llx flags %#x mask %u->%u\n",
		       test->name, bad ? '!' : ' ', what, i, c->who, op, c->start, c->last,
		       c->mr, c->offset, c->flags, c->old_mask, c->new_mask);
}

void mt_expect_log(struct kunit *test, struct mt_log *log, const struct mt_call *exp,
		   unsigned int n, int line)
{
	bool same = !log->overflow && log->n == n;
	unsigned int i;

	KUNIT_EXPECT_FALSE_MSG(test, log->unlocked,
			       "line %d: a callback ran without the context mutex", line);
	for (i = 0; same && i < n; i++)
		same = mt_call_equal(&log->calls[i], &exp[i]);
	log->unlocked = false;
	if (same) {
		log->n = 0;
		return;
	}
	for (i = 0; i < max(n, log->n); i++) {
		bool bad = i >= n || i >= log->n || !mt_call_equal(&log->calls[i], &exp[i]);

		if (i < log->n)
			mt_print_call(test, "got ", i, &log->calls[i], bad);
		if (i < n)
			mt_print_call(test, "want", i, &exp[i], bad);
	}
	/*
	 * Later sequences of the case only repeat the difference, and each
	 * failure costs a good part of the case's 512-byte KUnit log: stop.
	 */
	KUNIT_ASSERT_FAILURE(test, "line %d: listener calls differ from the table%s (see console)",
			     line, log->overflow ? " (log overflowed)" : "");
}
