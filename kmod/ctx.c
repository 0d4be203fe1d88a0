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

/**
 * memtopo_ctx_create() - create an empty context.
 * @name: optional name (copied, truncated to MEMTOPO_MAX_NAME - 1), or NULL.
 *
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
	if (name)
		strscpy(ctx->name, name, sizeof(ctx->name));
	return ctx;
}
EXPORT_SYMBOL_NS_GPL(memtopo_ctx_create, MEMTOPO);

/**
 * memtopo_ctx_get() - take a reference on a context.
 * @ctx: the context.
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
	memtopo_space_destroy_all(ctx);
	memtopo_region_destroy_all(ctx);
	mutex_unlock(&ctx->lock);
	WARN_ON(!xa_empty(&ctx->objects));
	kfree(ctx->windows);
	memtopo_render_scratch_free(ctx->scratch);
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
 */
void memtopo_ctx_lock(struct memtopo_ctx *ctx)
{
	mutex_lock(&ctx->lock);
}
EXPORT_SYMBOL_NS_GPL(memtopo_ctx_lock, MEMTOPO);

/**
 * memtopo_ctx_unlock() - release the context's writer mutex.
 * @ctx: the context.
 */
void memtopo_ctx_unlock(struct memtopo_ctx *ctx)
{
	mutex_unlock(&ctx->lock);
}
EXPORT_SYMBOL_NS_GPL(memtopo_ctx_unlock, MEMTOPO);

/* Put the regions destroyed while their views could still show them. */
static void memtopo_ctx_flush_deferred(struct memtopo_ctx *ctx)
{
	struct memtopo_region *mr, *tmp;

	list_for_each_entry_safe(mr, tmp, &ctx->deferred_puts, deferred) {
		list_del(&mr->deferred);
		memtopo_region_put(mr);
	}
}

static int memtopo_ctx_commit_locked(struct memtopo_ctx *ctx)
{
	int ret = 0;

	memtopo_assert_locked(ctx);
	if (ctx->topology_dirty) {
		ret = memtopo_update_topology(ctx);
		if (!ret) {
			ctx->topology_dirty = false;
			memtopo_windows_reset(ctx);
		}
	}
	if (!ret)
		memtopo_ctx_flush_deferred(ctx);
	return ret;
}

/**
 * memtopo_ctx_changed() - note a topology change; render now unless a
 * transaction is open.
 * @ctx: the context, locked.
 *
 * Return: 0, or the render error; the change then stays pending and the
 * old views stay published.
 */
int memtopo_ctx_changed(struct memtopo_ctx *ctx)
{
	memtopo_assert_locked(ctx);
	/* nobody said where: every view is re-rendered in full */
	ctx->full_render = true;
	ctx->topology_dirty = true;
	return ctx->txn_depth ? 0 : memtopo_ctx_commit_locked(ctx);
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
	return ctx->txn_depth ? 0 : memtopo_ctx_commit_locked(ctx);
}

/**
 * memtopo_transaction_begin_locked() - open a (nested) transaction.
 * @ctx: the context, locked.
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
 * Return: 0, -EINVAL without an open transaction, or -ENOMEM/-E2BIG if the
 * views could not be rendered (the old views stay published and the
 * change stays pending for the next commit).
 */
int memtopo_transaction_commit_locked(struct memtopo_ctx *ctx)
{
	memtopo_assert_locked(ctx);
	if (!ctx->txn_depth)
		return -EINVAL;
	if (--ctx->txn_depth)
		return 0;
	return memtopo_ctx_commit_locked(ctx);
}
EXPORT_SYMBOL_NS_GPL(memtopo_transaction_commit_locked, MEMTOPO);

/**
 * memtopo_transaction_begin() - open a (nested) transaction.
 * @ctx: the context.
 */
void memtopo_transaction_begin(struct memtopo_ctx *ctx)
{
	mutex_lock(&ctx->lock);
	memtopo_transaction_begin_locked(ctx);
	mutex_unlock(&ctx->lock);
}
EXPORT_SYMBOL_NS_GPL(memtopo_transaction_begin, MEMTOPO);

/**
 * memtopo_transaction_commit() - close a transaction.
 * @ctx: the context.
 *
 * Return: as memtopo_transaction_commit_locked().
 */
int memtopo_transaction_commit(struct memtopo_ctx *ctx)
{
	int ret;

	mutex_lock(&ctx->lock);
	ret = memtopo_transaction_commit_locked(ctx);
	mutex_unlock(&ctx->lock);
	return ret;
}
EXPORT_SYMBOL_NS_GPL(memtopo_transaction_commit, MEMTOPO);
