// SPDX-License-Identifier: GPL-2.0
/*
 * Address spaces: a root region and the published flat view.
 *
 * Publishing: a commit renders one view per distinct effective root, tells
 * each space's listeners what changed, then swaps the space's __rcu view
 * pointer inside a seqcount write section.  Readers look up under
 * rcu_read_lock() only; the view they hold stays valid until they leave
 * the read-side section.  A view carries the context generation it was
 * rendered at, so "is what I cached still current?" is one comparison.
 */
#include <linux/export.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "memtopo_internal.h"
#include "parity.h"

static struct memtopo_view *memtopo_space_view(struct memtopo_space *as)
{
	return rcu_dereference_protected(as->view, lockdep_is_held(&as->ctx->lock));
}

static bool memtopo_views_equal(const struct memtopo_view *a, const struct memtopo_view *b)
{
	const u32 runs[4] = { 0, a->nr - 1, 0, b->nr - 1 };

	return a->root == b->root && memtopo_view_runs_equal(a, b, runs);
}

/* What a commit publishes for one effective root. */
struct memtopo_plan {
	struct memtopo_region *root;
	struct memtopo_view *view;
	/* set when @view was spliced from @base: the runs that differ */
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
 * content keeps the old view, and with it the generation.
 */
static int memtopo_plan_render(struct memtopo_ctx *ctx, struct memtopo_plan *p,
			       struct memtopo_view *old)
{
	struct memtopo_window *win = NULL;
	struct memtopo_space *other;
	struct memtopo_view *view;
	bool aligned;
	u32 nr_win = 0;
	int ret = 0;

	if (!ctx->full_render && old->root == p->root && p->root) {
		win = kmalloc_array(MEMTOPO_MAX_WINDOWS, sizeof(*win), GFP_KERNEL);
		p->runs = kmalloc_array(MEMTOPO_MAX_WINDOWS, sizeof(*p->runs), GFP_KERNEL);
		if (!win || !p->runs) {
			ret = -ENOMEM;
			goto out;
		}
		nr_win = memtopo_windows_of(ctx, p->root, win);
	}
	if (!ctx->full_render && old->root == p->root) {
		if (!nr_win) {
			refcount_inc(&old->ref);
			p->view = old;
			goto out;
		}
		view = memtopo_plan_splice(ctx, p, old, win, nr_win);
		if (IS_ERR(view)) {
			ret = PTR_ERR(view);
			goto out;
		}
		aligned = memtopo_plan_runs(p, old, view, win, nr_win);
		if (aligned && memtopo_plan_unchanged(p, old, view)) {
			memtopo_view_put(view);
			refcount_inc(&old->ref);
			p->view = old;
			goto out;
		}
		view->generation = ++ctx->generation;
		if (view->nr_chunks > 4 &&
		    view->nr_chunks * 4 > DIV_ROUND_UP(view->nr, MEMTOPO_CHUNK_ENTRIES) * 5) {
			struct memtopo_view *dense = memtopo_view_repack(view);

			/* on failure the sparse view is still right */
			if (dense) {
				memtopo_view_put(view);
				view = dense;
			}
		}
		p->view = view;
		/* repacking moves no entry: the runs still index both views */
		if (aligned)
			p->base = old;
		goto out;
	}

	view = memtopo_render_with(ctx->scratch, p->root);
	if (IS_ERR(view)) {
		ret = PTR_ERR(view);
		goto out;
	}
	ctx->stat_full_renders++;
	/* unique per view: a generation names immutable content */
	view->generation = ++ctx->generation;
	/* unchanged content keeps the old view and generation */
	list_for_each_entry(other, &ctx->spaces, link) {
		struct memtopo_view *prev = memtopo_space_view(other);

		if (prev->root == p->root && memtopo_views_equal(prev, view)) {
			memtopo_view_put(view);
			refcount_inc(&prev->ref);
			view = prev;
			break;
		}
	}
	p->view = view;
out:
	kfree(win);
	return ret;
}

/**
 * memtopo_update_topology() - render and publish every space's view.
 * @ctx: the context, locked.
 *
 * All rendering happens before anything is published, so a failure
 * leaves every space on its old view.
 *
 * Return: 0, -ENOMEM, or -E2BIG when aliases multiply past
 * MEMTOPO_MAX_RENDER_PIECES.
 */
int memtopo_update_topology(struct memtopo_ctx *ctx)
{
	struct memtopo_plan *plan, *p;
	struct memtopo_space *as;
	struct memtopo_view *view;
	u32 n = 0, i, j;
	int ret = 0;

	memtopo_assert_locked(ctx);
	if (!ctx->nr_spaces)
		return 0;
	plan = kcalloc(ctx->nr_spaces, sizeof(*plan), GFP_KERNEL);
	if (!plan)
		return -ENOMEM;
	if (!ctx->scratch) {
		ctx->scratch = memtopo_render_scratch_alloc();
		if (!ctx->scratch) {
			kfree(plan);
			return -ENOMEM;
		}
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
		ret = memtopo_plan_render(ctx, p, memtopo_space_view(as));
		if (ret)
			goto out;
	}

	/* publish: nothing below can fail */
	list_for_each_entry(as, &ctx->spaces, link)
		memtopo_listeners_begin(as);
	i = 0;
	list_for_each_entry(as, &ctx->spaces, link) {
		struct memtopo_view *old = memtopo_space_view(as);

		p = &plan[i++];
		view = p->view;
		p->view = NULL;
		if (old == view) {
			/* QEMU re-sends every unchanged range as region_nop */
			if (memtopo_listeners_want_nop(as))
				memtopo_listeners_update(as, old, old);
			memtopo_view_put(view);
			memtopo_ioeventfds_update(as);
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
		memtopo_view_put(old);
		/* QEMU's address_space_update_ioeventfds(), after set_flatview */
		memtopo_ioeventfds_update(as);
	}
	list_for_each_entry(as, &ctx->spaces, link)
		memtopo_listeners_commit(as);
	ctx->stat_commits++;
out:
	for (i = 0; i < n; i++) {
		memtopo_view_put(plan[i].view);
		if (!plan[i].shared)
			kfree(plan[i].runs);
	}
	kfree(plan);
	/* a full, huge or refused render's working memory goes back now */
	memtopo_render_scratch_trim(ctx->scratch);
	return ret;
}

/**
 * memtopo_space_create_locked() - create an address space over @root.
 * @ctx: the context, locked.
 * @name: name (copied).
 * @root: root region of @ctx.
 *
 * The view is rendered by the enclosing transaction's commit, or now.
 *
 * Return: the space, or ERR_PTR(): -EINVAL for a bad name or root,
 * -ENOSPC at MEMTOPO_MAX_SPACES, -ENOMEM, or a render error.
 */
struct memtopo_space *memtopo_space_create_locked(struct memtopo_ctx *ctx, const char *name,
						  struct memtopo_region *root)
{
	struct memtopo_view *empty = NULL;
	struct memtopo_space *as;
	int ret;

	memtopo_assert_locked(ctx);
	if (!name || strnlen(name, MEMTOPO_MAX_NAME) >= MEMTOPO_MAX_NAME || !root ||
	    root->ctx != ctx || (root->flags & MEMTOPO_RF_DESTROYED))
		return ERR_PTR(-EINVAL);
	if (ctx->nr_spaces >= MEMTOPO_MAX_SPACES)
		return ERR_PTR(-ENOSPC);
	as = kzalloc(sizeof(*as), GFP_KERNEL_ACCOUNT);
	if (!as)
		return ERR_PTR(-ENOMEM);
	as->name = kstrdup_const(name, GFP_KERNEL_ACCOUNT);
	/* the empty view: one hole covering everything */
	empty = memtopo_render(NULL);
	if (IS_ERR(empty))
		empty = NULL;
	if (!as->name || !empty) {
		ret = -ENOMEM;
		goto err_free;
	}
	RCU_INIT_POINTER(as->view, empty);
	ret = xa_alloc(&ctx->space_ids, &as->id, as, xa_limit_31b, GFP_KERNEL_ACCOUNT);
	if (ret)
		goto err_free;
	as->ctx = ctx;
	as->root = root;
	/* writers hold ctx->lock: lockdep checks it instead of preemption */
	seqcount_mutex_init(&as->seq, &ctx->lock);
	INIT_LIST_HEAD(&as->listeners);
	memtopo_region_get(root);
	root->space_users++;
	list_add_tail(&as->link, &ctx->spaces);
	ctx->nr_spaces++;
	ctx->topology_dirty = true;
	if (!ctx->txn_depth) {
		ret = memtopo_update_topology(ctx);
		if (ret) {
			memtopo_space_destroy_locked(as);
			return ERR_PTR(ret);
		}
		ctx->topology_dirty = false;
	}
	return as;

err_free:
	memtopo_view_put(empty);
	kfree_const(as->name);
	kfree(as);
	return ERR_PTR(ret);
}
EXPORT_SYMBOL_NS_GPL(memtopo_space_create_locked, MEMTOPO);

/**
 * memtopo_space_create() - create an address space over @root.
 * @ctx: the context.
 * @name: name.
 * @root: root region.
 *
 * Return: as memtopo_space_create_locked().
 */
struct memtopo_space *memtopo_space_create(struct memtopo_ctx *ctx, const char *name,
					   struct memtopo_region *root)
{
	struct memtopo_space *as;

	mutex_lock(&ctx->lock);
	as = memtopo_space_create_locked(ctx, name, root);
	mutex_unlock(&ctx->lock);
	return as;
}
EXPORT_SYMBOL_NS_GPL(memtopo_space_create, MEMTOPO);

static void memtopo_space_free_rcu(struct rcu_head *head)
{
	struct memtopo_space *as = container_of(head, struct memtopo_space, rcu);

	kfree_const(as->name);
	kfree(as);
}

/**
 * memtopo_space_destroy_locked() - destroy a space without listeners.
 * @as: the space.
 *
 * Return: 0, or -EBUSY while listeners are registered.
 */
int memtopo_space_destroy_locked(struct memtopo_space *as)
{
	struct memtopo_ctx *ctx = as->ctx;

	memtopo_assert_locked(ctx);
	if (!list_empty(&as->listeners))
		return -EBUSY;
	list_del(&as->link);
	xa_erase(&ctx->space_ids, as->id);
	ctx->nr_spaces--;
	memtopo_parity_space_destroy(as);
	as->root->space_users--;
	memtopo_region_put(as->root);
	memtopo_view_put(memtopo_space_view(as));
	RCU_INIT_POINTER(as->view, NULL);
	call_rcu(&as->rcu, memtopo_space_free_rcu);
	return 0;
}
EXPORT_SYMBOL_NS_GPL(memtopo_space_destroy_locked, MEMTOPO);

/**
 * memtopo_space_destroy() - destroy a space without listeners.
 * @as: the space.
 *
 * Return: as memtopo_space_destroy_locked().
 */
int memtopo_space_destroy(struct memtopo_space *as)
{
	struct memtopo_ctx *ctx = as->ctx;
	int ret;

	mutex_lock(&ctx->lock);
	ret = memtopo_space_destroy_locked(as);
	mutex_unlock(&ctx->lock);
	return ret;
}
EXPORT_SYMBOL_NS_GPL(memtopo_space_destroy, MEMTOPO);

/**
 * memtopo_space_destroy_all() - destroy every space of a dying context.
 * @ctx: the context, locked.
 */
void memtopo_space_destroy_all(struct memtopo_ctx *ctx)
{
	struct memtopo_space *as, *tmp;

	memtopo_assert_locked(ctx);
	list_for_each_entry_safe(as, tmp, &ctx->spaces, link) {
		memtopo_listeners_detach_all(as);
		memtopo_space_destroy_locked(as);
	}
}

/**
 * memtopo_space_name() - a space's name.
 * @as: the space.
 *
 * Return: the name.
 */
const char *memtopo_space_name(const struct memtopo_space *as)
{
	return as->name;
}
EXPORT_SYMBOL_NS_GPL(memtopo_space_name, MEMTOPO);

/**
 * memtopo_space_lookup() - find what is mapped at @addr.
 * @as: the space.
 * @addr: the address.
 * @out: the section holding @addr, with the view's generation.
 *
 * Context: rcu_read_lock() held; @out->mr is valid until it is dropped.
 * Return: 0, or -ENOENT if nothing is mapped at @addr.
 */
int memtopo_space_lookup(struct memtopo_space *as, u64 addr, struct memtopo_section *out)
{
	const struct memtopo_view *view = rcu_dereference(as->view);

	return memtopo_view_lookup(view, addr, out) ? 0 : -ENOENT;
}
EXPORT_SYMBOL_NS_GPL(memtopo_space_lookup, MEMTOPO);

/**
 * memtopo_space_generation() - generation of the space's current view.
 * @as: the space.
 *
 * Context: rcu_read_lock() held.
 * Return: a number that changes whenever the space's view changes.
 */
u64 memtopo_space_generation(struct memtopo_space *as)
{
	return rcu_dereference(as->view)->generation;
}
EXPORT_SYMBOL_NS_GPL(memtopo_space_generation, MEMTOPO);

/**
 * memtopo_space_read_begin() - start a consistent multi-step read.
 * @as: the space.
 *
 * Return: a cookie for memtopo_space_read_retry().
 */
unsigned int memtopo_space_read_begin(struct memtopo_space *as)
{
	return read_seqcount_begin(&as->seq);
}
EXPORT_SYMBOL_NS_GPL(memtopo_space_read_begin, MEMTOPO);

/**
 * memtopo_space_read_retry() - did the view change since
 * memtopo_space_read_begin()?
 * @as: the space.
 * @seq: the cookie.
 *
 * Return: true if the caller must retry.
 */
bool memtopo_space_read_retry(struct memtopo_space *as, unsigned int seq)
{
	return read_seqcount_retry(&as->seq, seq);
}
EXPORT_SYMBOL_NS_GPL(memtopo_space_read_retry, MEMTOPO);
