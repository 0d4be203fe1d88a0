/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shared helpers of the engine KUnit suites (engine_*_test.c).
 *
 * Every expected flat view in those suites is written out by hand as a
 * table of struct mt_exp, and mt_expect_view() compares the published view
 * of a space to it.  It also checks the invariants every published view
 * must keep (entries partition [0, 2^64), adjacent compatible entries are
 * merged) and asks memtopo_space_lookup() about the first and last address
 * of every range and of every hole, so one table checks the view, its
 * structure and the lookup path together.  Failures name the caller's line
 * and print both tables.
 */
#ifndef _MEMTOPO_ENGINE_UTIL_H
#define _MEMTOPO_ENGINE_UTIL_H

#include <kunit/test.h>
#include <linux/kernel.h>
#include <linux/limits.h>

#include <memtopo/memtopo.h>
#include "memtopo_internal.h"

/*
 * One expected flat range; holes are the gaps between entries.  Regions
 * are named by their (unique within a test) names, so the tables can be
 * static const: on the stack, KASAN's redzones around dozens of tables
 * would overflow the frame-size limit.
 */
struct mt_exp {
	u64 start;
	u64 last;
	const char *mr;
	u64 offset;
	u32 flags;
};

#define MT_RO	MEMTOPO_FR_READONLY
#define MT_ROMD	MEMTOPO_FR_ROMD
#define MT_NV	MEMTOPO_FR_NONVOLATILE

/* Per-test state, set up by mt_fix_init() and torn down by mt_fix_exit(). */
#define MT_MAX_LISTENERS 4

struct mt_fix {
	struct memtopo_ctx *ctx;
	/* a detached region: toggling it forces a full re-render */
	struct memtopo_region *dummy;
	struct memtopo_listener *listeners[MT_MAX_LISTENERS];
	/* a suite's own state, set by its init after mt_fix_init() */
	void *suite;
};

int mt_fix_init(struct kunit *test);
void mt_fix_exit(struct kunit *test);

static inline struct mt_fix *mt_fix(struct kunit *test)
{
	return test->priv;
}

static inline struct memtopo_ctx *mt_ctx(struct kunit *test)
{
	return mt_fix(test)->ctx;
}

/* Creation helpers: each asserts success, so tests stay about the rule. */
struct memtopo_region *mt_region(struct kunit *test, enum memtopo_kind kind,
				 const char *name, u64 size);
/* A region with kernel-owned RAM of @size bytes behind it. */
struct memtopo_region *mt_region_kram(struct kunit *test, enum memtopo_kind kind,
				      const char *name, u64 size);
struct memtopo_region *mt_region64(struct kunit *test, enum memtopo_kind kind,
				   const char *name);
struct memtopo_region *mt_alias(struct kunit *test, const char *name,
				struct memtopo_region *target, u64 offset, u64 size);
struct memtopo_region *mt_alias64(struct kunit *test, const char *name,
				  struct memtopo_region *target, u64 offset);
struct memtopo_space *mt_space(struct kunit *test, const char *name,
			       struct memtopo_region *root);
void mt_add(struct kunit *test, struct memtopo_region *parent, u64 offset,
	    struct memtopo_region *child, int priority);
void mt_add_overlap(struct kunit *test, struct memtopo_region *parent, u64 offset,
		    struct memtopo_region *child, int priority);

/* Render every space again (the views must come out equal if nothing changed). */
void mt_rerender(struct kunit *test);

/* The published view, for pointer comparisons only (never dereferenced). */
const struct memtopo_view *mt_view_ptr(struct memtopo_space *as);
u64 mt_generation(struct memtopo_space *as);

void mt_expect_view(struct kunit *test, struct memtopo_space *as,
		    const struct mt_exp *exp, unsigned int n, int line);

#define MT_EXPECT_VIEW(test, as, ...)						\
	do {									\
		static const struct mt_exp __exp[] = { __VA_ARGS__ };		\
										\
		mt_expect_view(test, as, __exp, ARRAY_SIZE(__exp), __LINE__);	\
	} while (0)
#define MT_EXPECT_EMPTY(test, as) mt_expect_view(test, as, NULL, 0, __LINE__)

/*
 * A copy of a published view, to prove that a refused call changed
 * nothing: same view object, same generation, same entries.
 */
struct mt_snap {
	const struct memtopo_view *view;
	u64 generation;
	u32 nr;
	u64 *starts;
	struct memtopo_fr *fr;
};

void mt_snapshot(struct kunit *test, struct memtopo_space *as, struct mt_snap *snap);
void mt_expect_unchanged(struct kunit *test, struct memtopo_space *as,
			 const struct mt_snap *snap, int line);
#define MT_EXPECT_UNCHANGED(test, as, snap) mt_expect_unchanged(test, as, snap, __LINE__)

/*
 * A listener that records every call into a shared log, so one log shows
 * the interleaving of several listeners.  The callbacks also check that
 * they run with the context mutex held and in a context that may sleep,
 * as memtopo.h promises.
 */
enum mt_op {
	MT_OP_BEGIN = 1,
	MT_OP_COMMIT,
	MT_OP_ADD,
	MT_OP_DEL,
	MT_OP_NOP,
	MT_OP_LOG_START,
	MT_OP_LOG_STOP,
	MT_OP_POPULATE,		/* a discard listener's notify_populate */
	MT_OP_DISCARD,		/* a discard listener's notify_discard */
};

struct mt_call {
	u8 who;
	u8 op;
	u8 old_mask;
	u8 new_mask;
	u32 flags;
	u64 start;
	u64 last;
	const char *mr;		/* region name; NULL for begin/commit */
	u64 offset;
};

#define MT_LOG_MAX 96

struct mt_log {
	struct memtopo_ctx *ctx;
	unsigned int n;
	bool overflow;
	bool unlocked;
	struct mt_call calls[MT_LOG_MAX];
	/* copies: a region may be freed before the log is checked */
	char names[MT_LOG_MAX][MEMTOPO_MAX_NAME];
};

struct mt_rec {
	struct memtopo_listener l;
	struct mt_log *log;
	u8 who;
};

struct mt_log *mt_log_new(struct kunit *test);
/* Record one call of another kind of listener (discard_test.c) in @log. */
void mt_log_call(struct mt_log *log, u8 who, u8 op, const struct memtopo_section *s);
struct mt_rec *mt_recorder(struct kunit *test, struct mt_log *log,
			   struct memtopo_space *as, u8 who, int priority);
/* Register/unregister any listener; the fixture unregisters leftovers. */
void mt_listen(struct kunit *test, struct memtopo_space *as, struct memtopo_listener *l);
void mt_unlisten(struct kunit *test, struct memtopo_listener *l);

void mt_expect_log(struct kunit *test, struct mt_log *log, const struct mt_call *exp,
		   unsigned int n, int line);

#define MT_C(w, o, s, l, m, off, f)					\
	{ .who = (w), .op = (o), .start = (s), .last = (l), .mr = (m),	\
	  .offset = (off), .flags = (f) }
#define MT_BEGIN(w)			{ .who = (w), .op = MT_OP_BEGIN }
#define MT_COMMIT(w)			{ .who = (w), .op = MT_OP_COMMIT }
#define MT_ADD(w, s, l, m, off, f)	MT_C(w, MT_OP_ADD, s, l, m, off, f)
#define MT_DEL(w, s, l, m, off, f)	MT_C(w, MT_OP_DEL, s, l, m, off, f)
#define MT_NOP(w, s, l, m, off, f)	MT_C(w, MT_OP_NOP, s, l, m, off, f)
#define MT_POP(w, s, l, m, off)		MT_C(w, MT_OP_POPULATE, s, l, m, off, 0)
#define MT_DIS(w, s, l, m, off)		MT_C(w, MT_OP_DISCARD, s, l, m, off, 0)
#define MT_LOGC(w, o, s, l, m, off, f, om, nm)				\
	{ .who = (w), .op = (o), .start = (s), .last = (l), .mr = (m),	\
	  .offset = (off), .flags = (f), .old_mask = (om), .new_mask = (nm) }
#define MT_LOG_START(w, s, l, m, off, f, om, nm)			\
	MT_LOGC(w, MT_OP_LOG_START, s, l, m, off, f, om, nm)
#define MT_LOG_STOP(w, s, l, m, off, f, om, nm)				\
	MT_LOGC(w, MT_OP_LOG_STOP, s, l, m, off, f, om, nm)

/* Compares the log to the calls given and empties it; a difference ends the case. */
#define MT_EXPECT_LOG(test, log, ...)						\
	do {									\
		static const struct mt_call __exp[] = { __VA_ARGS__ };		\
										\
		mt_expect_log(test, log, __exp, ARRAY_SIZE(__exp), __LINE__);	\
	} while (0)
#define MT_EXPECT_NO_CALLS(test, log) mt_expect_log(test, log, NULL, 0, __LINE__)

#endif /* _MEMTOPO_ENGINE_UTIL_H */
