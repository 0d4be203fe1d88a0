// SPDX-License-Identifier: GPL-2.0
/*
 * Address spaces: a root region and the published flat view (commit.c
 * renders and publishes it; the readers' lock-free lookup is in view.c).
 */
#include <linux/export.h>
#include <linux/minmax.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "memtopo_internal.h"
#include "memtopo_hooks.h"
#include "selftest.h"

/**
 * memtopo_space_create_locked() - create an address space over @root.
 * @ctx: the context, locked.
 * @name: name (copied).
 * @root: root region of @ctx.
 *
 * The view is rendered by the enclosing transaction's commit, or now.
 *
 * Context: process context, the context mutex held; may sleep (outside a
 * transaction the commit runs listener callbacks).
 * Return: the space, or ERR_PTR(): -EINVAL for a bad name or root,
 * -ENOENT for a destroyed root, -ENOSPC at MEMTOPO_MAX_SPACES, -ENOMEM, or
 * a render error (outside a transaction; every change since the last
 * commit was then undone).  IDs are cyclic, and a refused or undone create
 * leaves the cursor where it was.
 */
struct memtopo_space *memtopo_space_create_locked(struct memtopo_ctx *ctx, const char *name,
						  struct memtopo_region *root)
{
	struct memtopo_view *empty = NULL;
	struct memtopo_space *as;
	struct memtopo_undo *u;
	int ret;

	memtopo_assert_locked(ctx);
	if (!name || strnlen(name, MEMTOPO_MAX_NAME) >= MEMTOPO_MAX_NAME || !root ||
	    root->ctx != ctx)
		return ERR_PTR(-EINVAL);
	ret = memtopo_region_check_live(root);
	if (ret)
		return ERR_PTR(ret);
	if (ctx->nr_spaces >= MEMTOPO_MAX_SPACES)
		return ERR_PTR(-ENOSPC);
	u = memtopo_undo_push(ctx, MEMTOPO_UNDO_SPACE_CREATE, NULL);
	if (IS_ERR(u))
		return ERR_CAST(u);
	as = kzalloc(sizeof(*as), GFP_KERNEL_ACCOUNT);
	if (!as) {
		memtopo_undo_cancel(ctx);
		return ERR_PTR(-ENOMEM);
	}
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
	/* set before the ID publishes the space to lockless readers */
	as->serial = ++ctx->space_serial;
	/* cyclic, as region IDs; a failed commit below puts the cursor back */
	u->id_next = ctx->next_space_id;
	ret = xa_alloc_cyclic(&ctx->space_ids, &as->id, as, XA_LIMIT(1, INT_MAX),
			      &ctx->next_space_id, GFP_KERNEL_ACCOUNT);
	if (ret < 0)
		goto err_free;
	as->ctx = ctx;
	as->root = root;
	/* writers hold ctx->lock: lockdep checks it instead of preemption */
	seqcount_mutex_init(&as->seq, &ctx->lock);
	INIT_LIST_HEAD(&as->listeners);
	memtopo_region_get(root);
	list_add_tail(&as->link, &ctx->spaces);
	ctx->nr_spaces++;
	u->obj = as;
	/* on a render error this space was undone with everything else */
	ret = memtopo_ctx_commit_pending(ctx);
	return ret ? ERR_PTR(ret) : as;

err_free:
	memtopo_view_put(empty);
	kfree_const(as->name);
	kfree(as);
	memtopo_undo_cancel(ctx);
	return ERR_PTR(ret);
}
EXPORT_SYMBOL_NS_GPL(memtopo_space_create_locked, MEMTOPO);

MEMTOPO_LOCKED_WRAPPER_PTR(space, space_create, ctx,
			   (struct memtopo_ctx *ctx, const char *name, struct memtopo_region *root),
			   (ctx, name, root));

static void memtopo_space_free(struct rcu_head *head)
{
	struct memtopo_space *as = container_of(head, struct memtopo_space, rcu);

	kfree_const(as->name);
	kfree(as);
}

/* An access dispatched by ID may still be walking the space: wait for it too. */
static void memtopo_space_free_rcu(struct rcu_head *head)
{
	memtopo_hook_space_free_deferred(head, memtopo_space_free);
}

/*
 * Out of the context's spaces, its ID reserved: undoing this allocates
 * nothing.  The commit frees it (memtopo_space_finish_destroy()).
 */
static void memtopo_space_kill(struct memtopo_space *as)
{
	struct memtopo_ctx *ctx = as->ctx;

	list_move_tail(&as->link, &ctx->dead_spaces);
	/* storing over a present entry never allocates */
	WARN_ON(xa_err(xa_store(&ctx->space_ids, as->id, NULL, GFP_KERNEL)));
	ctx->nr_spaces--;
	as->dead = true;
}

/**
 * memtopo_space_finish_destroy() - free a destroyed space (at the commit).
 * @as: the space, context locked, no listener left.
 */
void memtopo_space_finish_destroy(struct memtopo_space *as)
{
	xa_erase(&as->ctx->space_ids, as->id);
	memtopo_history_free(as);
	memtopo_hook_space_destroy(as);
	memtopo_region_put(as->root);
	memtopo_view_put(memtopo_space_view_locked(as));
	RCU_INIT_POINTER(as->view, NULL);
	call_rcu(&as->rcu, memtopo_space_free_rcu);
}

/**
 * memtopo_space_undo() - undo a recorded space creation or destruction.
 * @u: the record, newest first.
 *
 * Called by memtopo_undo_rollback(), context locked.  Allocates nothing.
 */
void memtopo_space_undo(struct memtopo_undo *u)
{
	struct memtopo_space *as = u->obj;
	struct memtopo_ctx *ctx = as->ctx;
	struct memtopo_listener *l, *tmp;

	/* detached() below is promised the context mutex */
	memtopo_assert_locked(ctx);
	if (u->kind == MEMTOPO_UNDO_SPACE_CREATE) {
		/* a kernel user listening to a space that never was: it goes */
		list_for_each_entry_safe(l, tmp, &as->listeners, link) {
			if (l->ops->detached)
				l->ops->detached(l->priv);
			memtopo_listener_unregister_locked(l);
			/* the caller holds its own reference: never the last */
			memtopo_ctx_put(ctx);
		}
		/* newest first: the cursor ends where the oldest undone create found it */
		ctx->next_space_id = u->id_next;
		memtopo_space_kill(as);
		list_del(&as->link);
		memtopo_space_finish_destroy(as);
		return;
	}
	/* in its old place: the list is as the destroy left it */
	list_move(&as->link, u->pos);
	WARN_ON(xa_err(xa_store(&ctx->space_ids, as->id, as, GFP_KERNEL)));
	ctx->nr_spaces++;
	as->dead = false;
}

/**
 * memtopo_space_destroy_locked() - destroy a space without listeners.
 * @as: the space.
 *
 * Readers may use its view until the commit that frees it, and an RCU
 * grace period after that.
 *
 * Context: process context, the context mutex held; may sleep.
 * Return: 0, -EBUSY while listeners are registered, -ENOENT if already
 * destroyed, -ENOMEM.
 */
int memtopo_space_destroy_locked(struct memtopo_space *as)
{
	struct memtopo_ctx *ctx = as->ctx;
	struct memtopo_undo *u;

	memtopo_assert_locked(ctx);
	if (as->dead)
		return -ENOENT;
	if (!list_empty(&as->listeners))
		return -EBUSY;
	u = memtopo_undo_push(ctx, MEMTOPO_UNDO_SPACE_DESTROY, as);
	if (IS_ERR(u))
		return PTR_ERR(u);
	u->pos = as->link.prev;
	memtopo_space_kill(as);
	return memtopo_ctx_settle(ctx);
}
EXPORT_SYMBOL_NS_GPL(memtopo_space_destroy_locked, MEMTOPO);

MEMTOPO_LOCKED_WRAPPER(space_destroy, as->ctx,
		       (struct memtopo_space *as),
		       (as));

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
		memtopo_space_kill(as);
	}
	list_for_each_entry_safe(as, tmp, &ctx->dead_spaces, link) {
		list_del(&as->link);
		memtopo_space_finish_destroy(as);
	}
}

/**
 * memtopo_space_name() - a space's name.
 * @as: the space.
 *
 * Context: any; the caller keeps @as alive.
 * Return: the name.
 */
const char *memtopo_space_name(const struct memtopo_space *as)
{
	return as->name;
}
EXPORT_SYMBOL_NS_GPL(memtopo_space_name, MEMTOPO);

/*
 * Where a region can show in a view: the region's bytes followed up the
 * tree as rendering places them (window.c does the same for one frame),
 * and through every alias that shows the region or an ancestor, found in
 * the reverse alias index (memtopo_hook_aliases_of()).  Each branch is one
 * window of the view's address space; they are merged as they come.
 */
#define MEMTOPO_PLACES_DEPTH	8	/* aliases nested on one branch */
#define MEMTOPO_PLACES_STEPS	256	/* regions visited, over all branches */

struct memtopo_places {
	const struct memtopo_region *frame;
	struct memtopo_window *w;
	u32 nr;
	u32 steps;
	int err;
};

/* Does [.., @a_last] overlap or touch [@b_start, ..]? */
static bool memtopo_places_reach(u64 a_last, u64 b_start)
{
	return b_start <= a_last || b_start - 1 == a_last;
}

/* Add [@start, @last], merged with the windows it meets, kept sorted. */
static void memtopo_places_add(struct memtopo_places *x, u64 start, u64 last)
{
	struct memtopo_window *w = x->w;
	u32 i = 0;

	while (i < x->nr) {
		if (memtopo_places_reach(w[i].last, start) &&
		    memtopo_places_reach(last, w[i].start)) {
			start = min(start, w[i].start);
			last = max(last, w[i].last);
			memmove(&w[i], &w[i + 1], (x->nr - i - 1) * sizeof(*w));
			x->nr--;
			continue;
		}
		i++;
	}
	if (x->nr == MEMTOPO_MAX_PLACES) {
		x->err = -E2BIG;
		return;
	}
	for (i = x->nr; i > 0 && w[i - 1].start > start; i--)
		w[i] = w[i - 1];
	w[i] = (struct memtopo_window){ x->frame, start, last };
	x->nr++;
}

/*
 * Where bytes [@lo, @hi] of @a (offsets in @a, enabled and not empty) can
 * show: at @a's place in each ancestor up to the frame, clipped by each,
 * and, from @a and from every ancestor, through the aliases that show it.
 */
static void memtopo_places_from(struct memtopo_places *x, const struct memtopo_region *a,
				u64 lo, u64 hi, unsigned int depth)
{
	struct memtopo_region *const *aliases;
	const struct memtopo_region *p;
	int i, n;

	for (;;) {
		if (x->err)
			return;
		if (++x->steps > MEMTOPO_PLACES_STEPS) {
			x->err = -E2BIG;
			return;
		}
		/* add_subregion keeps addr + size within 2^64: no overflow */
		if (a == x->frame) {
			/* the frame's own aliases show it elsewhere, not inside itself */
			memtopo_places_add(x, lo + a->addr, hi + a->addr);
			return;
		}
		n = a->alias_users ? memtopo_hook_aliases_of(a, &aliases) : 0;
		if (n < 0 || (n && depth == MEMTOPO_PLACES_DEPTH)) {
			x->err = n < 0 ? n : -E2BIG;
			return;
		}
		for (i = 0; i < n; i++) {
			const struct memtopo_region *al = aliases[i];
			u64 off = al->alias_offset, alo;

			/* byte b of @a is byte b - off of the alias (QEMU's render) */
			if (!memtopo_region_enabled(al) || memtopo_region_empty(al) || hi < off)
				continue;
			alo = lo > off ? lo - off : 0;
			if (alo > memtopo_region_last_off(al))
				continue;
			memtopo_places_from(x, al, alo, min(hi - off, memtopo_region_last_off(al)),
					    depth + 1);
		}
		/* nothing under an alias renders through it: it shows its target */
		p = a->parent;
		if (!p || p->kind == MEMTOPO_ALIAS || !memtopo_region_enabled(p) ||
		    memtopo_region_empty(p))
			return;
		lo += a->addr;
		hi = min(hi + a->addr, memtopo_region_last_off(p));
		if (lo > hi)
			return;
		a = p;
	}
}

/**
 * memtopo_region_places() - where bytes [@first, @last] of @mr can show in
 * a view rendered from @frame, as the tree is now.
 * @mr: the region, context locked.
 * @frame: the view's effective root (NULL for the empty view).
 * @first: first offset in @mr.
 * @last: last offset in @mr (clipped to its size).
 * @out: room for MEMTOPO_MAX_PLACES windows, in the view's addresses.
 *
 * Every range of the view that shows those bytes of @mr lies inside one of
 * the windows; the cost follows the aliases on the way up, not the map.
 *
 * Return: how many windows (sorted, disjoint, not touching; 0 when those
 * bytes cannot show), or -E2BIG when they show in more places (or through
 * more nested aliases) than are followed, -ENOMEM when an alias index
 * could not be built: the caller must look everywhere.
 */
int memtopo_region_places(const struct memtopo_region *mr, const struct memtopo_region *frame,
			  u64 first, u64 last, struct memtopo_window *out)
{
	struct memtopo_places x = { .frame = frame, .w = out };

	memtopo_assert_locked(mr->ctx);
	if (!frame || !memtopo_region_enabled(mr) || memtopo_region_empty(mr))
		return 0;
	last = min(last, memtopo_region_last_off(mr));
	if (first > last)
		return 0;
	memtopo_places_from(&x, mr, first, last, 0);
	return x.err ?: x.nr;
}

/**
 * memtopo_space_region_ranges_locked() - call @fn for each range of @as's
 * published view that shows bytes [@first, @last] of @mr, in address order.
 * @as: the space, context locked.
 * @mr: the region (directly or through aliases: a range names the region
 *	whose bytes it shows).
 * @first: first offset in @mr of interest.
 * @last: last offset (U64_MAX: to the end); a range that shows part of
 *	[@first, @last] is passed whole.
 * @fn: called with each range's section; it may emit events or call
 *	listeners but must not commit.
 * @opaque: passed to @fn.
 *
 * The view is indexed by address, not by region: between commits, when
 * the tree is what the views show, only the windows where those bytes can
 * render (memtopo_region_places()) are walked, O(log N) plus the entries
 * there each.  A view not yet re-rendered after a change, or bytes shown
 * in more places than are followed, is walked whole.
 *
 * Context: process context, the context mutex held; @fn may sleep.
 * Return: how many entries of the view were looked at (for tests and
 * benchmarks: the cost of the walk).
 */
u64 memtopo_space_region_ranges_locked(struct memtopo_space *as, const struct memtopo_region *mr,
				       u64 first, u64 last,
				       void (*fn)(const struct memtopo_section *s, void *opaque),
				       void *opaque)
{
	memtopo_assert_locked(as->ctx);
	return memtopo_view_region_ranges_locked(memtopo_space_view_locked(as),
						 !as->ctx->topology_dirty, mr, first, last, fn,
						 opaque);
}
EXPORT_SYMBOL_FOR_MEMTOPO_TESTS(memtopo_space_region_ranges_locked);

/**
 * memtopo_view_region_ranges_locked() - memtopo_space_region_ranges_locked()
 * over view @v, which a commit may be about to publish.
 * @v: the view.
 * @tree_shows: @v is the rendering of the tree as it is now (a commit's
 *	new view, or a published one with no change pending), so that only
 *	where @mr can show is walked; else all of @v is.
 * @mr: as memtopo_space_region_ranges_locked().
 * @first: likewise.
 * @last: likewise.
 * @fn: likewise.
 * @opaque: likewise.
 *
 * Context: the context mutex held.
 * Return: how many entries of @v were looked at.
 */
u64 memtopo_view_region_ranges_locked(const struct memtopo_view *v, bool tree_shows,
				      const struct memtopo_region *mr, u64 first, u64 last,
				      void (*fn)(const struct memtopo_section *s, void *opaque),
				      void *opaque)
{
	struct memtopo_window w[MEMTOPO_MAX_PLACES];
	struct memtopo_view_pos p;
	struct memtopo_section s;
	int nr = -EAGAIN, i;
	u64 seen = 0;
	u32 next = 0;

	memtopo_assert_locked(mr->ctx);
	if (tree_shows)
		nr = memtopo_region_places(mr, v->root, first, last, w);
	if (nr < 0) {
		w[0] = (struct memtopo_window){ v->root, 0, U64_MAX };
		nr = 1;
	}
	/*
	 * An entry may reach past its window into the next one (it shows
	 * bytes outside [@first, @last] in between, or covers where an alias
	 * would show them): each walk starts after what the last one saw.
	 */
	for (i = 0; i < nr; i++) {
		memtopo_pos_find(&p, v, w[i].start);
		if (p.i < next)
			memtopo_pos_init(&p, v, next);
		for (; p.i < v->nr && memtopo_pos_start(&p) <= w[i].last; memtopo_pos_next(&p)) {
			seen++;
			if (memtopo_pos_fr(&p)->mr != mr)
				continue;
			memtopo_pos_section(&p, &s);
			fn(&s, opaque);
		}
		next = p.i;
	}
	return seen;
}

/**
 * memtopo_space_sections_locked() - call @fn for each range of @as's
 * published view that shows a region, in address order.
 * @as: the space, context locked.
 * @fn: called with each range's section; it may emit events or call
 *	listeners but must not commit.
 * @opaque: passed to @fn.
 *
 * The walk a subscription's replay of feature state (IOMMU mappings,
 * populated RAM) takes; memtopo_space_walk_ranges() is the RCU reader's.
 */
void memtopo_space_sections_locked(struct memtopo_space *as,
				   void (*fn)(const struct memtopo_section *s, void *opaque),
				   void *opaque)
{
	const struct memtopo_view *v = memtopo_space_view_locked(as);
	struct memtopo_view_pos p;
	struct memtopo_section s;

	memtopo_assert_locked(as->ctx);
	for (memtopo_pos_walk(&p, v); memtopo_pos_shown(&p, &s); memtopo_pos_next_ahead(&p))
		fn(&s, opaque);
}

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
 * Context: process context, outside the rcu_read_lock() section it brackets:
 * on PREEMPT_RT, a commit in progress is waited for by taking the context
 * mutex (a seqcount_mutex_t); elsewhere it spins and never sleeps.
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
 * Context: any; never sleeps.
 * Return: true if the caller must retry.
 */
bool memtopo_space_read_retry(struct memtopo_space *as, unsigned int seq)
{
	return read_seqcount_retry(&as->seq, seq);
}
EXPORT_SYMBOL_NS_GPL(memtopo_space_read_retry, MEMTOPO);
