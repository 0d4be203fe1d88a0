// SPDX-License-Identifier: GPL-2.0
/*
 * The one commit path.  Mutations note what they change (window.c) and set
 * topology_dirty; the outermost transaction commit, or the mutation itself
 * when no transaction is open, ends here: render one view per distinct
 * effective root (the planner below), tell each space's listeners what
 * changed, swap the published views, then forget the windows and put the
 * regions destroyed meanwhile.
 *
 * Publishing: each space's __rcu view pointer is swapped inside a seqcount
 * write section.  Readers look up under rcu_read_lock() only; the view
 * they hold stays valid until they leave the read-side section.  A view
 * carries the context generation it was rendered at, so "is what I cached
 * still current?" is one comparison.
 */
#include <linux/export.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "memtopo_internal.h"
#include "memtopo_hooks.h"

static bool memtopo_views_equal(const struct memtopo_view *a, const struct memtopo_view *b)
{
	const u32 runs[4] = { 0, a->nr - 1, 0, b->nr - 1 };

	return a->root == b->root && memtopo_view_runs_equal(a, b, runs);
}

/* What a commit publishes for one effective root. */
struct memtopo_plan {
	struct memtopo_region *root;
	struct memtopo_view *view;
	/*
	 * set when @view was spliced from @base: the runs that differ, in the
	 * context's struct memtopo_windows
	 */
	const struct memtopo_view *base;
	u32 (*runs)[4];
	u32 nr_runs;
	bool shared;		/* a copy of an earlier plan: owns nothing */
};

/*
 * The runs of @old and @new that the windows cover, merged where they
 * overlap (two windows inside one old entry), so each entry is diffed
 * once.  Return: false if a window's runs cannot be aligned.
 */
static bool memtopo_plan_runs(struct memtopo_plan *p, const struct memtopo_view *old,
			      const struct memtopo_view *new, const struct memtopo_window *win,
			      u32 nr_win)
{
	u32 k, n = 0, r[4];

	for (k = 0; k < nr_win; k++) {
		if (!memtopo_view_runs(old, new, win[k].start, win[k].last, r))
			return false;
		if (n && (r[0] <= p->runs[n - 1][1] || r[2] <= p->runs[n - 1][3])) {
			p->runs[n - 1][1] = max(p->runs[n - 1][1], r[1]);
			p->runs[n - 1][3] = max(p->runs[n - 1][3], r[3]);
		} else {
			memcpy(p->runs[n++], r, sizeof(r));
		}
	}
	p->nr_runs = n;
	return true;
}

static bool memtopo_plan_unchanged(const struct memtopo_plan *p, const struct memtopo_view *old,
				   const struct memtopo_view *new)
{
	u32 k;

	for (k = 0; k < p->nr_runs; k++)
		if (!memtopo_view_runs_equal(old, new, p->runs[k]))
			return false;
	return true;
}

/*
 * Re-render the windows of @p->root one after the other, each spliced
 * into the result of the last.  Return: the view, or an ERR_PTR().
 */
static struct memtopo_view *memtopo_plan_splice(struct memtopo_ctx *ctx, struct memtopo_plan *p,
						struct memtopo_view *old,
						const struct memtopo_window *win, u32 nr_win)
{
	struct memtopo_view *view = old, *next;
	u32 k;

	refcount_inc(&old->ref);
	for (k = 0; k < nr_win; k++) {
		next = memtopo_render_window(ctx->scratch, p->root, view, win[k].start,
					     win[k].last);
		memtopo_view_put(view);
		if (IS_ERR(next))
			return next;
		view = next;
	}
	return view;
}

/*
 * Render the view of @p->root.  When the space already shows that root and
 * the mutations said where they can show, only those windows are
 * re-rendered and spliced into @old; otherwise everything is.  Unchanged
 * content keeps the old view, and with it the generation.  @runs_used
 * counts the runs earlier roots of this commit took; a splice's runs
 * follow them.
 */
static int memtopo_plan_render(struct memtopo_ctx *ctx, struct memtopo_plan *p,
			       struct memtopo_view *old, u32 *runs_used)
{
	const struct memtopo_window *win = NULL;
	struct memtopo_space *other;
	struct memtopo_view *view;
	bool aligned;
	u32 nr_win = 0;

	if (!ctx->full_render && old->root == p->root && p->root)
		nr_win = memtopo_windows_of(ctx, p->root, &win);
	if (!ctx->full_render && old->root == p->root) {
		if (!nr_win) {
			refcount_inc(&old->ref);
			p->view = old;
			return 0;
		}
		/* the roots are distinct, each noted window one root's */
		if (WARN_ON_ONCE(*runs_used + nr_win > MEMTOPO_MAX_WINDOWS))
			return -EINVAL;
		p->runs = &ctx->windows->runs[*runs_used];
		*runs_used += nr_win;
		view = memtopo_plan_splice(ctx, p, old, win, nr_win);
		if (IS_ERR(view))
			return PTR_ERR(view);
		aligned = memtopo_plan_runs(p, old, view, win, nr_win);
		if (aligned && memtopo_plan_unchanged(p, old, view)) {
			memtopo_view_put(view);
			refcount_inc(&old->ref);
			p->view = old;
			return 0;
		}
		view->generation = ++ctx->generation;
		if (view->nr_chunks > 4 &&
		    view->nr_chunks * 4 > DIV_ROUND_UP(view->nr, MEMTOPO_CHUNK_ENTRIES) * 5) {
			struct memtopo_view *dense = memtopo_view_repack(view);

			/* on failure the sparse view is still right */
			if (dense) {
				memtopo_view_put(view);
				view = dense;
				ctx->stat_repacks++;
			}
		}
		p->view = view;
		/* repacking moves no entry: the runs still index both views */
		if (aligned)
			p->base = old;
		return 0;
	}

	view = memtopo_render_with(ctx->scratch, p->root);
	if (IS_ERR(view))
		return PTR_ERR(view);
	ctx->stat_full_renders++;
	/* unique per view: a generation names immutable content */
	view->generation = ++ctx->generation;
	/* unchanged content keeps the old view and generation */
	list_for_each_entry(other, &ctx->spaces, link) {
		struct memtopo_view *prev = memtopo_space_view_locked(other);

		if (prev->root == p->root && memtopo_views_equal(prev, view)) {
			memtopo_view_put(view);
			refcount_inc(&prev->ref);
			view = prev;
			break;
		}
	}
	p->view = view;
	return 0;
}

/*
 * The bytes of the views @plan would publish, each distinct view once
 * (spaces may share one), in @total; charge what that adds to the
 * context's budget.  Charging before publishing makes a view past the
 * budget fail the commit like a render that ran out of memory: undone,
 * the old views kept.  The plans that are not copies hold distinct views:
 * each holds a view of its own root (memtopo_plan_render() keeps or finds
 * one only where the roots are equal), and their roots are distinct.
 */
static int memtopo_commit_charge_views(struct memtopo_ctx *ctx, const struct memtopo_plan *plan,
				       u32 n, size_t *total)
{
	u32 i;

	*total = 0;
	for (i = 0; i < n; i++)
		if (!plan[i].shared)
			*total += memtopo_view_bytes(plan[i].view);
	if (*total <= ctx->view_charge)
		return 0;
	return memtopo_ctx_charge_locked(ctx, *total - ctx->view_charge);
}

/* The views are published: their bytes are @total, charged already if more. */
static void memtopo_commit_settle_views(struct memtopo_ctx *ctx, size_t total)
{
	if (total < ctx->view_charge)
		memtopo_ctx_uncharge_locked(ctx, ctx->view_charge - total);
	ctx->view_charge = total;
}

/*
 * A plan a space, in the context's memory, cleared: grown when spaces were
 * added since (what a commit then frees an earlier commit allocated).
 */
static struct memtopo_plan *memtopo_commit_plans(struct memtopo_ctx *ctx)
{
	u32 n = ctx->nr_spaces;

	if (n > ctx->cap_plans) {
		struct memtopo_plan *plans;

		/* doubled, so that spaces added one at a time grow it rarely */
		n = max(n, min_t(u32, 2 * ctx->cap_plans, MEMTOPO_MAX_SPACES));
		plans = kmalloc_array(n, sizeof(*plans), GFP_KERNEL_ACCOUNT);
		if (!plans)
			return NULL;
		kfree(ctx->plans);
		ctx->plans = plans;
		ctx->cap_plans = n;
	}
	memset(ctx->plans, 0, ctx->nr_spaces * sizeof(*ctx->plans));
	return ctx->plans;
}

/*
 * Render and publish every space's view.  All rendering, the features'
 * preparation and the budget charge happen before anything is published,
 * so a failure leaves every space on its old view and nobody told.
 * Return: 0, -ENOMEM, -ENOSPC when the views would pass the context's
 * budget, -E2BIG when aliases multiply past MEMTOPO_MAX_RENDER_PIECES,
 * or -EINVAL (with a warning) if the windows' runs overflowed, which the
 * windows' bound rules out.
 */
static int memtopo_commit_publish(struct memtopo_ctx *ctx)
{
	struct memtopo_plan *plan, *p;
	struct memtopo_space *as;
	struct memtopo_view *view;
	size_t view_bytes = 0;
	u32 n = 0, i, j, runs_used = 0;
	int ret = 0;

	memtopo_assert_locked(ctx);
	if (!ctx->nr_spaces) {
		memtopo_commit_settle_views(ctx, 0);
		return 0;
	}
	plan = memtopo_commit_plans(ctx);
	if (!plan)
		return -ENOMEM;
	if (!ctx->scratch) {
		ctx->scratch = memtopo_render_scratch_alloc(ctx);
		if (!ctx->scratch)
			return -ENOMEM;
	}

	/* render: one view per distinct effective root */
	list_for_each_entry(as, &ctx->spaces, link) {
		p = &plan[n++];
		p->root = memtopo_effective_root(as->root);
		for (j = 0; j + 1 < n; j++)
			if (plan[j].root == p->root)
				break;
		if (j + 1 < n) {
			*p = plan[j];
			p->shared = true;
			refcount_inc(&p->view->ref);
			continue;
		}
		ret = memtopo_plan_render(ctx, p, memtopo_space_view_locked(as), &runs_used);
		if (ret)
			goto out;
	}
	/* what publishing will need from the features, allocated while we can still fail */
	i = 0;
	list_for_each_entry(as, &ctx->spaces, link) {
		ret = memtopo_hook_space_prepare(as, plan[i++].view);
		if (ret)
			goto err_unprepare;
	}
	ret = memtopo_commit_charge_views(ctx, plan, n, &view_bytes);
	if (ret)
		goto err_unprepare;

	/* publish: nothing below can fail */
	list_for_each_entry(as, &ctx->spaces, link)
		memtopo_listeners_begin(as);
	i = 0;
	list_for_each_entry(as, &ctx->spaces, link) {
		struct memtopo_view *old = memtopo_space_view_locked(as);

		p = &plan[i++];
		view = p->view;
		p->view = NULL;
		if (old == view) {
			/* QEMU re-sends every unchanged range as region_nop */
			if (memtopo_listeners_want_nop(as))
				memtopo_listeners_update(as, old, old);
			memtopo_view_put(view);
			memtopo_hook_space_published(as);
			continue;
		}
		/*
		 * A window's runs are all that changed; a listener that wants
		 * region_nop for everything else costs a walk of the whole view.
		 */
		if (p->base == old && !memtopo_listeners_want_nop(as))
			memtopo_listeners_update_runs(as, old, view, p->runs[0], p->nr_runs);
		else
			memtopo_listeners_update(as, old, view);
		write_seqcount_begin(&as->seq);
		rcu_assign_pointer(as->view, view);
		write_seqcount_end(&as->seq);
		/* kept for resync by difference, or put */
		memtopo_history_push(as, old, view);
		/* QEMU's address_space_update_ioeventfds(), after set_flatview */
		memtopo_hook_space_published(as);
	}
	list_for_each_entry(as, &ctx->spaces, link)
		memtopo_listeners_commit(as);
	memtopo_commit_settle_views(ctx, view_bytes);
	ctx->stat_commits++;
	goto out;

err_unprepare:
	list_for_each_entry(as, &ctx->spaces, link)
		memtopo_hook_space_unprepare(as);
out:
	for (i = 0; i < n; i++)
		memtopo_view_put(plan[i].view);
	/* a full, huge or refused render's working memory goes back now */
	memtopo_render_scratch_trim(ctx->scratch);
	return ret;
}

/* Free the regions and spaces destroyed while views could still show them. */
static void memtopo_ctx_flush_deferred(struct memtopo_ctx *ctx)
{
	struct memtopo_region *mr, *tmp;
	struct memtopo_space *as, *as_tmp;

	list_for_each_entry_safe(as, as_tmp, &ctx->dead_spaces, link) {
		list_del(&as->link);
		memtopo_space_finish_destroy(as);
	}
	list_for_each_entry_safe(mr, tmp, &ctx->deferred_puts, deferred) {
		list_del(&mr->deferred);
		/* a kept earlier view may still show it */
		memtopo_history_forget_region(mr);
		memtopo_region_finish_destroy(mr);
	}
}

/*
 * The commit tail every caller goes through: publish what is pending, or
 * if that fails undo everything since the last commit (the old views then
 * show the tree exactly, so nothing is published); then forget the windows
 * and free what the published views no longer show.
 */
static int memtopo_commit_locked(struct memtopo_ctx *ctx)
{
	int ret = 0;

	memtopo_assert_locked(ctx);
	if (ctx->topology_dirty) {
		ret = memtopo_commit_publish(ctx);
		if (ret)
			memtopo_undo_rollback(ctx, 0);
		ctx->topology_dirty = false;
		memtopo_windows_reset(ctx);
	}
	memtopo_undo_forget(ctx);
	memtopo_ctx_flush_deferred(ctx);
	if (ctx->seq >= MEMTOPO_SEQ_RENUMBER)
		memtopo_region_renumber(ctx);
	return ret;
}

/**
 * memtopo_ctx_settle() - a mutation is done: outside a transaction, commit
 * it now (which also forgets its undo record).
 * @ctx: the context, locked.
 *
 * Return: 0, or the render error after which the mutation was undone.
 */
int memtopo_ctx_settle(struct memtopo_ctx *ctx)
{
	memtopo_assert_locked(ctx);
	return ctx->txn_depth ? 0 : memtopo_commit_locked(ctx);
}

/**
 * memtopo_ctx_changed() - note a topology change; render now unless a
 * transaction is open.
 * @ctx: the context, locked.
 *
 * Return: 0, or the render error; every change since the last commit was
 * then undone and the old views stay published.
 */
int memtopo_ctx_changed(struct memtopo_ctx *ctx)
{
	memtopo_assert_locked(ctx);
	/* nobody said where: every view is re-rendered in full */
	ctx->full_render = true;
	ctx->topology_dirty = true;
	return memtopo_ctx_settle(ctx);
}

/**
 * memtopo_ctx_region_changed() - note that @mr changed in place; only the
 * windows where it shows need re-rendering.
 * @mr: the region, context locked, after the change.  Its state before
 *	the change must have been noted with memtopo_note_region().
 *
 * Return: as memtopo_ctx_changed().
 */
int memtopo_ctx_region_changed(struct memtopo_region *mr)
{
	struct memtopo_ctx *ctx = mr->ctx;

	memtopo_assert_locked(ctx);
	memtopo_note_region(mr);
	ctx->topology_dirty = true;
	return memtopo_ctx_settle(ctx);
}

/**
 * memtopo_ctx_commit_pending() - something changed that the mutations did
 * not note as a window (a space came): commit now unless a transaction is
 * open.
 * @ctx: the context, locked.
 *
 * Return: as memtopo_ctx_changed().
 */
int memtopo_ctx_commit_pending(struct memtopo_ctx *ctx)
{
	memtopo_assert_locked(ctx);
	ctx->topology_dirty = true;
	return memtopo_ctx_settle(ctx);
}

/**
 * memtopo_transaction_begin_locked() - open a (nested) transaction.
 * @ctx: the context, locked.
 *
 * Context: the context mutex held.
 */
void memtopo_transaction_begin_locked(struct memtopo_ctx *ctx)
{
	memtopo_assert_locked(ctx);
	ctx->txn_depth++;
}
EXPORT_SYMBOL_NS_GPL(memtopo_transaction_begin_locked, MEMTOPO);

/**
 * memtopo_transaction_commit_locked() - close a transaction; the outermost
 * commit renders every changed space and notifies listeners.
 * @ctx: the context, locked.
 *
 * Context: process context, the context mutex held; may sleep (the outermost
 * commit runs listener callbacks).
 * Return: 0, -EINVAL without an open transaction, or -ENOMEM/-E2BIG/-ENOSPC
 * (past the context's memory budget) if the views could not be rendered or
 * published: every change since the outermost begin was
 * then undone, the tree and every published view are exactly as they were
 * before it, and listeners were told nothing.
 */
int memtopo_transaction_commit_locked(struct memtopo_ctx *ctx)
{
	memtopo_assert_locked(ctx);
	if (!ctx->txn_depth)
		return -EINVAL;
	if (--ctx->txn_depth)
		return 0;
	return memtopo_commit_locked(ctx);
}
EXPORT_SYMBOL_NS_GPL(memtopo_transaction_commit_locked, MEMTOPO);

/**
 * memtopo_transaction_abort_locked() - close a transaction, undoing the
 * changes made since @mark (a MEMTOPO_BATCH that failed part-way).
 * @ctx: the context, locked, inside a transaction.
 * @mark: memtopo_undo_mark() taken right after the transaction's begin.
 *
 * Nothing is rendered or published: when this was the outermost
 * transaction the published views already show the tree as it is again.
 */
void memtopo_transaction_abort_locked(struct memtopo_ctx *ctx, u32 mark)
{
	memtopo_assert_locked(ctx);
	memtopo_undo_rollback(ctx, mark);
	if (WARN_ON(!ctx->txn_depth) || --ctx->txn_depth)
		return;
	WARN_ON(ctx->undo.nr);
	ctx->topology_dirty = false;
	memtopo_windows_reset(ctx);
	memtopo_undo_forget(ctx);
	memtopo_ctx_flush_deferred(ctx);
}

MEMTOPO_LOCKED_WRAPPER_VOID(transaction_begin, ctx,
			    (struct memtopo_ctx *ctx),
			    (ctx));

MEMTOPO_LOCKED_WRAPPER(transaction_commit, ctx,
		       (struct memtopo_ctx *ctx),
		       (ctx));
