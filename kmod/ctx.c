// SPDX-License-Identifier: GPL-2.0
/*
 * Contexts: the owner of a set of regions and address spaces, its mutex,
 * and nestable transactions.  Nothing is rendered until the outermost
 * commit.
 */
#include <linux/export.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "memtopo_internal.h"
#include "memtopo_hooks.h"

/*
 * The per-context memory budget, in bytes: the ceiling every context's
 * charges are held to (memtopo.ctx_mem_max, set by main.c).
 */
unsigned long memtopo_ctx_mem_max = MEMTOPO_CTX_MEM_DEFAULT;

/**
 * memtopo_ctx_create() - create an empty context.
 * @name: optional name (copied, truncated to MEMTOPO_MAX_NAME - 1), or NULL.
 *
 * Context: process context; may sleep.
 * Return: the context with one reference, or an ERR_PTR().
 */
struct memtopo_ctx *memtopo_ctx_create(const char *name)
{
	struct memtopo_ctx *ctx;

	ctx = kzalloc(sizeof(*ctx), GFP_KERNEL_ACCOUNT);
	if (!ctx)
		return ERR_PTR(-ENOMEM);
	kref_init(&ctx->kref);
	mutex_init(&ctx->lock);
	xa_init_flags(&ctx->objects, XA_FLAGS_ALLOC1 | XA_FLAGS_ACCOUNT);
	xa_init_flags(&ctx->space_ids, XA_FLAGS_ALLOC1 | XA_FLAGS_ACCOUNT);
	INIT_LIST_HEAD(&ctx->spaces);
	INIT_LIST_HEAD(&ctx->deferred_puts);
	INIT_LIST_HEAD(&ctx->dead_spaces);
	if (name)
		strscpy(ctx->name, name, sizeof(ctx->name));
	return ctx;
}
EXPORT_SYMBOL_NS_GPL(memtopo_ctx_create, MEMTOPO);

/* The lower of the context's own budget and the ceiling. */
static size_t memtopo_ctx_budget(struct memtopo_ctx *ctx)
{
	size_t max = READ_ONCE(memtopo_ctx_mem_max), own = READ_ONCE(ctx->mem_max);

	return own && own < max ? own : max;
}

/**
 * memtopo_ctx_charge() - charge @bytes to the context's memory budget.
 * @ctx: the context.
 * @bytes: what the caller is about to allocate (or has allocated) for it.
 *
 * The budget is the one place per-context memory is accounted: event
 * queues, regions, published views, render scratch, pages a kernel mapping
 * pins and whatever else a context makes the kernel keep.  Every charge is
 * undone with memtopo_ctx_uncharge() (or the _locked variant) of the same
 * amount when the memory goes; the total must be zero when the context is
 * freed.  The ceiling is read at every charge, so lowering it refuses new
 * charges and leaves existing ones alone.  The charge is one atomic
 * update, so callers that cannot take the context mutex use this; those
 * that hold it use memtopo_ctx_charge_locked().
 *
 * Context: any context; takes no lock.
 * Return: 0, or -ENOSPC if the charge would pass memtopo.ctx_mem_max or
 * the context's own budget (memtopo_ctx_set_mem_max_locked()); nothing is
 * charged then.
 */
int memtopo_ctx_charge(struct memtopo_ctx *ctx, size_t bytes)
{
	size_t max = memtopo_ctx_budget(ctx);
	long used = atomic_long_read(&ctx->mem_used);

	do {
		if (bytes > max || (size_t)used > max - bytes)
			return -ENOSPC;
	} while (!atomic_long_try_cmpxchg(&ctx->mem_used, &used, used + bytes));
	return 0;
}

/**
 * memtopo_ctx_uncharge() - give back a memtopo_ctx_charge().
 * @ctx: the context.
 * @bytes: the amount charged.
 *
 * Context: any context; takes no lock.
 */
void memtopo_ctx_uncharge(struct memtopo_ctx *ctx, size_t bytes)
{
	WARN_ON_ONCE(atomic_long_sub_return(bytes, &ctx->mem_used) < 0);
}

/*
 * Could @bytes be charged if the views kept for resync by difference were
 * given back?  Only then are they dropped, so that a charge refused anyway
 * leaves them as they were.
 */
static bool memtopo_ctx_fits_without_history(struct memtopo_ctx *ctx, size_t bytes,
					     size_t max)
{
	size_t kept = memtopo_history_charged(ctx);
	size_t used = atomic_long_read(&ctx->mem_used);

	return kept && bytes <= max && used - min(kept, used) <= max - bytes;
}

/**
 * memtopo_ctx_charge_locked() - memtopo_ctx_charge() for a caller holding
 * the context mutex.
 * @ctx: the context, locked.
 * @bytes: what the caller is about to allocate (or has allocated) for it.
 *
 * Views kept for resync by difference are a cache: a charge the budget
 * refuses but could take without them drops them all (a later resync from
 * before now is ESTALE) and is charged.  So no caller may hold a kept view
 * (memtopo_history_find()) across a charge; the current views are never
 * dropped.
 *
 * Context: the context mutex held.
 * Return: as memtopo_ctx_charge().
 */
int memtopo_ctx_charge_locked(struct memtopo_ctx *ctx, size_t bytes)
{
	memtopo_assert_locked(ctx);
	if (!memtopo_ctx_charge(ctx, bytes))
		return 0;
	if (!memtopo_ctx_fits_without_history(ctx, bytes, memtopo_ctx_budget(ctx)))
		return -ENOSPC;
	memtopo_history_reclaim(ctx);
	return memtopo_ctx_charge(ctx, bytes);
}

/**
 * memtopo_ctx_set_mem_max_locked() - give a context a budget of its own,
 * below the module's ceiling (memtopo.ctx_mem_max).
 * @ctx: the context, locked.
 * @bytes: the budget; 0 for the ceiling alone.
 *
 * Any time, as long as what is charged already fits: later charges are
 * held to the lower of @bytes and the ceiling (which may change later).
 * A kernel mapping charging meanwhile (memtopo_ctx_charge(), without the
 * mutex) is held to whichever budget it reads.
 *
 * Views kept for resync by difference give way as for a charge: dropped
 * when @bytes holds the rest, kept when it does not.
 *
 * Context: the context mutex held.
 * Return: 0, -EINVAL for @bytes above the ceiling, or -EBUSY if more than
 * @bytes is charged already; the budget is unchanged on error.
 */
int memtopo_ctx_set_mem_max_locked(struct memtopo_ctx *ctx, size_t bytes)
{
	memtopo_assert_locked(ctx);
	if (bytes > READ_ONCE(memtopo_ctx_mem_max))
		return -EINVAL;
	if (bytes && bytes < (size_t)atomic_long_read(&ctx->mem_used)) {
		if (!memtopo_ctx_fits_without_history(ctx, 0, bytes))
			return -EBUSY;
		memtopo_history_reclaim(ctx);
		if (bytes < (size_t)atomic_long_read(&ctx->mem_used))
			return -EBUSY;
	}
	WRITE_ONCE(ctx->mem_max, bytes);
	return 0;
}
EXPORT_SYMBOL_NS_GPL(memtopo_ctx_set_mem_max_locked, MEMTOPO);

/**
 * memtopo_ctx_mem_budget() - the budget a context's charges are held to now.
 * @ctx: the context, locked.
 *
 * Context: the context mutex held.
 * Return: the lower of its own budget and memtopo.ctx_mem_max, in bytes.
 */
size_t memtopo_ctx_mem_budget(struct memtopo_ctx *ctx)
{
	memtopo_assert_locked(ctx);
	return memtopo_ctx_budget(ctx);
}
EXPORT_SYMBOL_NS_GPL(memtopo_ctx_mem_budget, MEMTOPO);

/**
 * memtopo_ctx_uncharge_locked() - give back a memtopo_ctx_charge_locked().
 * @ctx: the context, locked.
 * @bytes: the amount charged.
 *
 * Context: the context mutex held.
 */
void memtopo_ctx_uncharge_locked(struct memtopo_ctx *ctx, size_t bytes)
{
	memtopo_assert_locked(ctx);
	memtopo_ctx_uncharge(ctx, bytes);
}

/**
 * memtopo_ctx_mem_used() - bytes charged to a context's budget.
 * @ctx: the context, locked.
 *
 * Context: the context mutex held (kernel mappings may still charge and
 * give back meanwhile).
 * Return: the sum of the charges not yet given back.
 */
size_t memtopo_ctx_mem_used(struct memtopo_ctx *ctx)
{
	memtopo_assert_locked(ctx);
	return atomic_long_read(&ctx->mem_used);
}
EXPORT_SYMBOL_NS_GPL(memtopo_ctx_mem_used, MEMTOPO);

/**
 * memtopo_ctx_get() - take a reference on a context.
 * @ctx: the context.
 *
 * Context: any; the caller already holds a reference.
 */
void memtopo_ctx_get(struct memtopo_ctx *ctx)
{
	kref_get(&ctx->kref);
}
EXPORT_SYMBOL_NS_GPL(memtopo_ctx_get, MEMTOPO);

static void memtopo_ctx_release(struct kref *kref)
{
	struct memtopo_ctx *ctx = container_of(kref, struct memtopo_ctx, kref);

	mutex_lock(&ctx->lock);
	/* a transaction left open dies with its changes */
	memtopo_undo_rollback(ctx, 0);
	memtopo_space_destroy_all(ctx);
	memtopo_ctx_uncharge_locked(ctx, ctx->view_charge);
	ctx->view_charge = 0;
	memtopo_region_destroy_all(ctx);
	memtopo_render_scratch_free(ctx->scratch);
	ctx->scratch = NULL;
	mutex_unlock(&ctx->lock);
	WARN_ON(!xa_empty(&ctx->objects));
	memtopo_undo_destroy(ctx);
	/* last: the rollback and the destroys above still update it */
	memtopo_hook_ctx_free(ctx);
	/* every charge is given back by whoever took it */
	WARN_ON(atomic_long_read(&ctx->mem_used));
	kfree(ctx->windows);
	kfree(ctx->plans);
	xa_destroy(&ctx->objects);
	xa_destroy(&ctx->space_ids);
	mutex_destroy(&ctx->lock);
	kfree(ctx);
}

/**
 * memtopo_ctx_put() - drop a reference; the last one frees every region and
 * space of the context.
 * @ctx: the context (may be NULL).
 *
 * Kernel users must have unregistered their listeners and dropped their
 * region references first.
 *
 * Context: process context; may sleep.  The last reference takes the
 * context mutex, so a reference that may be the last is not dropped under
 * it, under the mmap lock, or from a listener or device callback of the
 * context.
 */
void memtopo_ctx_put(struct memtopo_ctx *ctx)
{
	if (ctx)
		kref_put(&ctx->kref, memtopo_ctx_release);
}
EXPORT_SYMBOL_NS_GPL(memtopo_ctx_put, MEMTOPO);

/**
 * memtopo_ctx_lock() - take the context's writer mutex.
 * @ctx: the context.
 *
 * Context: process context; may sleep.  Never under another context's mutex
 * or from a listener or device callback of this one.
 */
void memtopo_ctx_lock(struct memtopo_ctx *ctx)
{
	mutex_lock(&ctx->lock);
}
EXPORT_SYMBOL_NS_GPL(memtopo_ctx_lock, MEMTOPO);

/**
 * memtopo_ctx_unlock() - release the context's writer mutex.
 * @ctx: the context.
 *
 * Context: the context mutex held by the caller.
 */
void memtopo_ctx_unlock(struct memtopo_ctx *ctx)
{
	mutex_unlock(&ctx->lock);
}
EXPORT_SYMBOL_NS_GPL(memtopo_ctx_unlock, MEMTOPO);

/*
 * Objects by ID.  The one liveness rule: a region or space is live from
 * the creation that gave it its ID until the destroy that erases the ID
 * from the context's table, both under the context mutex.  A destroyed
 * object may still be in memory (references, RCU, deferred puts) but is
 * never found again; callers check nothing else.
 */

/**
 * memtopo_region_by_id_locked() - a live region of @ctx by ID.
 * @ctx: the context, locked (the region stays live while it is).
 * @id: the region ID.
 *
 * Return: the region or NULL.
 */
struct memtopo_region *memtopo_region_by_id_locked(struct memtopo_ctx *ctx, u32 id)
{
	memtopo_assert_locked(ctx);
	return xa_load(&ctx->objects, id);
}

/**
 * memtopo_space_find_locked() - a live address space of @ctx by ID, the
 * one a /dev/memtopo user names.
 * @ctx: the context, locked (the space stays live while it is).
 * @id: the space ID.
 *
 * Context: the context mutex held.
 * Return: the space or NULL.
 */
struct memtopo_space *memtopo_space_find_locked(struct memtopo_ctx *ctx, u32 id)
{
	memtopo_assert_locked(ctx);
	return xa_load(&ctx->space_ids, id);
}
EXPORT_SYMBOL_NS_GPL(memtopo_space_find_locked, MEMTOPO);

/**
 * memtopo_ctx_set_global_dirty_locked() - the one writer of the global
 * dirty-log reasons, which the renderer and markers read
 * (memtopo_hook_dirty_log_mask()).
 * @ctx: the context, locked.
 * @reasons: MEMTOPO_DIRTY_REASON_* now on.
 *
 * Sets the state only: the caller (dirty.c) calls listeners, prepares
 * bitmaps and asks for the re-render, in QEMU's order.
 */
void memtopo_ctx_set_global_dirty_locked(struct memtopo_ctx *ctx, u32 reasons)
{
	memtopo_assert_locked(ctx);
	/* markers read it locklessly */
	WRITE_ONCE(ctx->global_dirty_reasons, reasons);
}

