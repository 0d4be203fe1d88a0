// SPDX-License-Identifier: GPL-2.0
/*
 * Address spaces: a root region and the published flat view (commit.c
 * renders and publishes it), and the readers' lock-free lookups.
 */
#include <linux/export.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "memtopo_internal.h"
#include "memtopo_hooks.h"

/**
 * memtopo_space_create_locked() - create an address space over @root.
 * @ctx: the context, locked.
 * @name: name (copied).
 * @root: root region of @ctx.
 *
 * The view is rendered by the enclosing transaction's commit, or now.
 *
 * Return: the space, or ERR_PTR(): -EINVAL for a bad name or root,
 * -ENOSPC at MEMTOPO_MAX_SPACES, -ENOMEM, or a render error (outside a
 * transaction; every change since the last commit was then undone).
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
	    root->ctx != ctx || (root->flags & MEMTOPO_RF_DESTROYED))
		return ERR_PTR(-EINVAL);
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
	/* cyclic, as region IDs */
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

	if (u->kind == MEMTOPO_UNDO_SPACE_CREATE) {
		/* a kernel user listening to a space that never was: it goes */
		list_for_each_entry_safe(l, tmp, &as->listeners, link) {
			memtopo_listener_unregister_locked(l);
			/* the caller holds its own reference: never the last */
			memtopo_ctx_put(ctx);
		}
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
 * Return: the name.
 */
const char *memtopo_space_name(const struct memtopo_space *as)
{
	return as->name;
}
EXPORT_SYMBOL_NS_GPL(memtopo_space_name, MEMTOPO);

/**
 * memtopo_space_region_ranges_locked() - call @fn for each range of @mr in
 * @as's published view, in address order.
 * @as: the space, context locked.
 * @mr: the region (directly or through aliases: a range names the region
 *	whose bytes it shows).
 * @fn: called with each range's section; it may emit events or call
 *	listeners but must not commit.
 * @opaque: passed to @fn.
 *
 * The view is indexed by address, not by region: between commits, when
 * the tree is what the views show, only the addresses where @mr can render
 * are walked (O(log N) plus the entries there).  A region that aliases
 * show, or a view not yet re-rendered after a change, is walked whole.
 */
void memtopo_space_region_ranges_locked(struct memtopo_space *as, const struct memtopo_region *mr,
					void (*fn)(const struct memtopo_section *s, void *opaque),
					void *opaque)
{
	const struct memtopo_view *v = memtopo_space_view_locked(as);
	struct memtopo_view_pos p;
	struct memtopo_section s;
	u64 start = 0, last = U64_MAX;
	int ret;

	memtopo_assert_locked(as->ctx);
	if (!as->ctx->topology_dirty) {
		ret = memtopo_region_extent(mr, v->root, &start, &last);
		if (!ret)
			return;
		if (ret < 0) {
			start = 0;
			last = U64_MAX;
		}
	}
	for (memtopo_pos_init(&p, v, memtopo_view_find(v, start));
	     p.i < v->nr && memtopo_pos_start(&p) <= last; memtopo_pos_next(&p)) {
		if (memtopo_pos_fr(&p)->mr != mr)
			continue;
		memtopo_pos_section(&p, &s);
		fn(&s, opaque);
	}
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
	for (memtopo_pos_init(&p, v, 0); p.i < v->nr; memtopo_pos_next(&p)) {
		if (!memtopo_pos_fr(&p)->mr)
			continue;
		memtopo_pos_section(&p, &s);
		fn(&s, opaque);
	}
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
