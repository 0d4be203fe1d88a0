// SPDX-License-Identifier: GPL-2.0
/*
 * Flat views: immutable once published, shared by the spaces whose
 * effective roots are equal, freed after an RCU grace period.
 */
#include <linux/slab.h>

#include "memtopo_internal.h"

/**
 * memtopo_view_alloc() - allocate an empty view.
 * @nr: entries to reserve (the renderer grows it as needed).
 *
 * Return: the view with one reference, or NULL.
 */
struct memtopo_view *memtopo_view_alloc(u32 nr)
{
	struct memtopo_view *view;

	view = kzalloc(sizeof(*view), GFP_KERNEL_ACCOUNT);
	if (!view)
		return NULL;
	refcount_set(&view->ref, 1);
	if (nr) {
		view->starts = kvmalloc_array(nr, sizeof(*view->starts), GFP_KERNEL_ACCOUNT);
		view->fr = kvmalloc_array(nr, sizeof(*view->fr), GFP_KERNEL_ACCOUNT);
		if (!view->starts || !view->fr) {
			memtopo_view_put(view);
			return NULL;
		}
	}
	return view;
}

static void memtopo_view_free(struct memtopo_view *view)
{
	kvfree(view->starts);
	kvfree(view->fr);
	kfree(view);
}

static void memtopo_view_free_rcu(struct rcu_head *head)
{
	memtopo_view_free(container_of(head, struct memtopo_view, rcu));
}

/**
 * memtopo_view_put() - drop a reference; readers may still walk the view
 * until a grace period has passed, so the memory goes after one.
 * @view: the view (may be NULL).
 */
void memtopo_view_put(struct memtopo_view *view)
{
	if (view && refcount_dec_and_test(&view->ref))
		call_rcu(&view->rcu, memtopo_view_free_rcu);
}

/**
 * memtopo_view_find() - index of the entry holding @addr.
 * @view: a view with at least one entry (every published view has one).
 * @addr: the address.
 *
 * Entries partition [0, 2^64) and starts[0] is 0, so the answer is the
 * last entry whose start is <= @addr.  The loop has no data-dependent
 * branch the predictor could miss: it halves the window with a
 * conditional move.
 *
 * Return: the entry index.
 */
u32 memtopo_view_find(const struct memtopo_view *view, u64 addr)
{
	const u64 *base = view->starts;
	u32 n = view->nr;

	while (n > 1) {
		u32 half = n / 2;

		base = (base[half] <= addr) ? base + half : base;
		n -= half;
	}
	return base - view->starts;
}

/**
 * memtopo_view_section() - describe entry @i as a section.
 * @view: the view.
 * @i: entry index.
 * @s: filled in (generation is left to the caller).
 */
void memtopo_view_section(const struct memtopo_view *view, u32 i, struct memtopo_section *s)
{
	const struct memtopo_fr *fr = &view->fr[i];

	s->start = view->starts[i];
	s->last = i + 1 < view->nr ? view->starts[i + 1] - 1 : U64_MAX;
	s->mr = fr->mr;
	s->offset = fr->offset;
	s->flags = fr->flags;
	s->dirty_log_mask = fr->dirty_log_mask;
}

static u64 memtopo_view_entry_last(const struct memtopo_view *v, u32 i)
{
	return i + 1 < v->nr ? v->starts[i + 1] - 1 : U64_MAX;
}

/**
 * memtopo_view_runs() - the entries of @old and @new that a change inside
 * [@start, @last] can differ in.
 * @old: the view before.
 * @new: the view after; equal to @old outside the window but for the
 *	 seams, where entries may have been split or merged.
 * @start: first address of the window.
 * @last: last address of the window.
 * @runs: out: first and last index in @old, then in @new.
 *
 * Both runs are widened to the entries holding the window's ends in either
 * view, so they cover the same addresses exactly: what the diff needs.
 *
 * Return: false if they could not be aligned (the caller diffs all).
 */
bool memtopo_view_runs(const struct memtopo_view *old, const struct memtopo_view *new,
		       u64 start, u64 last, u32 runs[4])
{
	u32 o0 = memtopo_view_find(old, start), n0 = memtopo_view_find(new, start);
	u32 o1 = memtopo_view_find(old, last), n1 = memtopo_view_find(new, last);
	u64 a = min(old->starts[o0], new->starts[n0]);
	u64 b = max(memtopo_view_entry_last(old, o1), memtopo_view_entry_last(new, n1));

	runs[0] = memtopo_view_find(old, a);
	runs[1] = memtopo_view_find(old, b);
	runs[2] = memtopo_view_find(new, a);
	runs[3] = memtopo_view_find(new, b);
	return old->starts[runs[0]] == a && new->starts[runs[2]] == a &&
	       memtopo_view_entry_last(old, runs[1]) == b &&
	       memtopo_view_entry_last(new, runs[3]) == b;
}

/**
 * memtopo_view_runs_equal() - are the two runs the same entries?
 * @old: the view before.
 * @new: the view after.
 * @runs: from memtopo_view_runs().
 *
 * Return: true if nothing in the runs changed.
 */
bool memtopo_view_runs_equal(const struct memtopo_view *old, const struct memtopo_view *new,
			     const u32 runs[4])
{
	u32 i, n = runs[1] - runs[0] + 1;

	if (n != runs[3] - runs[2] + 1)
		return false;
	for (i = 0; i < n; i++) {
		const struct memtopo_fr *x = &old->fr[runs[0] + i], *y = &new->fr[runs[2] + i];

		if (old->starts[runs[0] + i] != new->starts[runs[2] + i] || x->mr != y->mr ||
		    x->offset != y->offset || x->flags != y->flags ||
		    x->dirty_log_mask != y->dirty_log_mask)
			return false;
	}
	return true;
}
