// SPDX-License-Identifier: GPL-2.0
/*
 * What a context, its regions and its spaces are now, for consumers that
 * list them (the ioctl layer, debugfs, a kernel user): read here, so that
 * no consumer reads a core object's fields and the translation from the
 * core's internal flags happens in one place.
 */
#include <linux/export.h>
#include <linux/slab.h>
#include <linux/xarray.h>

#include "memtopo_internal.h"

/**
 * memtopo_region_id() - the ID userspace names a region by.
 * @mr: the region.
 *
 * Context: any; the caller keeps @mr alive.
 * Return: the ID (stable for the region's life).
 */
u32 memtopo_region_id(const struct memtopo_region *mr)
{
	return mr->id;
}
EXPORT_SYMBOL_NS_GPL(memtopo_region_id, MEMTOPO);

/**
 * memtopo_space_id() - the ID userspace names a space by.
 * @as: the space.
 *
 * Context: any; the caller keeps @as alive.
 * Return: the ID (stable for the space's life).
 */
u32 memtopo_space_id(const struct memtopo_space *as)
{
	return as->id;
}
EXPORT_SYMBOL_NS_GPL(memtopo_space_id, MEMTOPO);

/**
 * memtopo_space_serial() - a number no other space of the context has had
 * or will have.
 * @as: the space.
 *
 * IDs come back at once when a failed commit undoes the create of a space:
 * the next space created gets its ID.  The ID and the serial together name
 * one space for good (memtopo_space_rw_by_id()).
 *
 * Context: any; the caller keeps @as alive.
 * Return: the serial, never 0.
 */
u64 memtopo_space_serial(const struct memtopo_space *as)
{
	return as->serial;
}
EXPORT_SYMBOL_NS_GPL(memtopo_space_serial, MEMTOPO);

/**
 * memtopo_region_ctx() - the context a region belongs to.
 * @mr: the region.
 *
 * Context: any; the caller keeps @mr alive.
 * Return: the context, which outlives @mr.
 */
struct memtopo_ctx *memtopo_region_ctx(const struct memtopo_region *mr)
{
	return mr->ctx;
}

/**
 * memtopo_region_has_ops() - was the region created with kernel device
 * callbacks (&struct memtopo_region_info.ops)?
 * @mr: the region.
 *
 * Context: any; the caller keeps @mr alive (the callbacks are fixed at
 * creation).
 * Return: true for an I/O or ROM-device region with callbacks, false for
 * one without (a served device's, or none) and for every other kind.
 */
bool memtopo_region_has_ops(const struct memtopo_region *mr)
{
	return mr->ops;
}

static u32 memtopo_backing_state_flags(const struct memtopo_backing *b)
{
	switch (b ? b->kind : MEMTOPO_BACKING_NONE) {
	case MEMTOPO_BACKING_KERNEL:
		return MEMTOPO_RS_KERNEL_BACKING;
	case MEMTOPO_BACKING_FILE:
		return MEMTOPO_RS_FILE_BACKING;
	case MEMTOPO_BACKING_PROCESS:
		return MEMTOPO_RS_PROCESS_BACKING;
	default:
		return 0;
	}
}

/**
 * memtopo_region_describe_locked() - what a region is now.
 * @mr: the region.
 * @st: filled in; @st->name points into @mr.
 *
 * Context: the context mutex held (asserted); @st->name is valid while
 * @mr is.
 */
void memtopo_region_describe_locked(const struct memtopo_region *mr,
				    struct memtopo_region_state *st)
{
	const struct memtopo_backing *b = mr->backing;
	const struct memtopo_region *target = memtopo_region_alias_target(mr);

	memtopo_assert_locked(mr->ctx);
	memset(st, 0, sizeof(*st));
	st->id = mr->id;
	st->parent = mr->parent ? mr->parent->id : 0;
	st->alias = target ? target->id : 0;
	st->kind = mr->kind;
	st->flags = ((mr->flags & MEMTOPO_RF_ENABLED) ? MEMTOPO_RS_ENABLED : 0) |
		    ((mr->flags & MEMTOPO_RF_READONLY) ? MEMTOPO_RS_READONLY : 0) |
		    ((mr->flags & MEMTOPO_RF_NONVOLATILE) ? MEMTOPO_RS_NONVOLATILE : 0) |
		    ((mr->flags & MEMTOPO_RF_ROMD) ? MEMTOPO_RS_ROMD : 0) |
		    ((mr->flags & MEMTOPO_RF_MAY_OVERLAP) ? MEMTOPO_RS_MAY_OVERLAP : 0) |
		    ((mr->flags & MEMTOPO_RF_SIZE64) ? MEMTOPO_RS_SIZE_2_64 : 0) |
		    memtopo_backing_state_flags(b);
	st->priority = mr->priority;
	st->dirty_log_mask = mr->dirty_log_mask;
	st->addr = mr->addr;
	st->size = mr->size;
	st->alias_offset = mr->kind == MEMTOPO_ALIAS ? mr->alias_offset : 0;
	st->name = mr->name;
	if (b) {
		st->uaddr = b->uaddr;
		if (b->kind != MEMTOPO_BACKING_NONE)
			st->backing_id = b->id;
		if (b->kind == MEMTOPO_BACKING_KERNEL)
			st->backing_offset = b->mmap_offset;
		else if (b->kind == MEMTOPO_BACKING_FILE)
			st->backing_offset = b->file_offset;
	}
}
EXPORT_SYMBOL_NS_GPL(memtopo_region_describe_locked, MEMTOPO);

/**
 * memtopo_ctx_walk_regions_locked() - call @fn for every region of a
 * context, parents before children.
 * @ctx: the context.
 * @fn: called with each region; a nonzero return stops the walk.  It must
 *	not change the tree.
 * @arg: passed to @fn.
 *
 * The order is MEMTOPO_GET_REGIONS': a pre-order walk from each detached
 * region in ID order, a region's children in render order (higher
 * priority first, then the most recently added).  Each region is pushed
 * once, so the walk's stack never holds more than the context's regions.
 *
 * Context: the context mutex held (asserted); may sleep (it allocates).
 * Return: 0 once every region was visited, @fn's nonzero return, or
 * -ENOMEM.
 */
int memtopo_ctx_walk_regions_locked(struct memtopo_ctx *ctx,
				    int (*fn)(struct memtopo_region *mr, void *arg), void *arg)
{
	struct memtopo_region **stack, **kids = NULL, *top, *mr;
	u32 sp = 0, nr_kids = 0, cap_kids = 0, i;
	unsigned long id;
	int ret = 0;

	memtopo_assert_locked(ctx);
	stack = kvmalloc_array(max(ctx->nr_regions, 1u), sizeof(*stack), GFP_KERNEL_ACCOUNT);
	if (!stack)
		return -ENOMEM;
	xa_for_each(&ctx->objects, id, top) {
		if (top->parent)
			continue;
		stack[sp++] = top;
		while (sp && !ret) {
			mr = stack[--sp];
			ret = fn(mr, arg);
			if (ret)
				break;
			ret = memtopo_region_children_sorted(mr, &kids, &nr_kids, &cap_kids);
			/* the last pushed comes out next: push in reverse render order */
			for (i = nr_kids; i-- && !ret; )
				stack[sp++] = kids[i];
		}
		if (ret)
			break;
	}
	kvfree(kids);
	kvfree(stack);
	return ret;
}
EXPORT_SYMBOL_NS_GPL(memtopo_ctx_walk_regions_locked, MEMTOPO);

/**
 * memtopo_ctx_describe_locked() - a context's counts and statistics.
 * @ctx: the context.
 * @st: filled in.
 *
 * Context: the context mutex held (asserted).
 */
void memtopo_ctx_describe_locked(struct memtopo_ctx *ctx, struct memtopo_ctx_state *st)
{
	memtopo_assert_locked(ctx);
	memset(st, 0, sizeof(*st));
	st->nr_regions = ctx->nr_regions;
	st->nr_spaces = ctx->nr_spaces;
	st->generation = ctx->generation;
	st->txn_depth = ctx->txn_depth;
	st->mem_max = ctx->mem_max;
	st->mem_ceiling = READ_ONCE(memtopo_ctx_mem_max);
	st->commits = ctx->stat_commits;
	st->full_renders = ctx->stat_full_renders;
	st->overlaps = ctx->stat_overlaps;
	st->reach_hits = ctx->stat_reach_hits;
}
EXPORT_SYMBOL_NS_GPL(memtopo_ctx_describe_locked, MEMTOPO);

/**
 * memtopo_ctx_walk_spaces_locked() - call @fn for every space of a
 * context, in creation order.
 * @ctx: the context.
 * @fn: called with each live space; a nonzero return stops the walk.  It
 *	must not create or destroy spaces.
 * @arg: passed to @fn.
 *
 * Context: the context mutex held (asserted).
 * Return: 0 once every space was visited, or @fn's nonzero return.
 */
int memtopo_ctx_walk_spaces_locked(struct memtopo_ctx *ctx,
				   int (*fn)(struct memtopo_space *as, void *arg), void *arg)
{
	struct memtopo_space *as;
	int ret;

	memtopo_assert_locked(ctx);
	list_for_each_entry(as, &ctx->spaces, link) {
		ret = fn(as, arg);
		if (ret)
			return ret;
	}
	return 0;
}
EXPORT_SYMBOL_NS_GPL(memtopo_ctx_walk_spaces_locked, MEMTOPO);

/**
 * memtopo_space_describe_locked() - what a space is now.
 * @as: the space, live.
 * @st: filled in; @st->name points into @as.
 *
 * Context: the context mutex held (asserted); @st->name is valid while
 * @as is.
 */
void memtopo_space_describe_locked(struct memtopo_space *as, struct memtopo_space_state *st)
{
	const struct memtopo_view *view = memtopo_space_view_locked(as);
	struct memtopo_listener *l;

	memtopo_assert_locked(as->ctx);
	memset(st, 0, sizeof(*st));
	st->id = as->id;
	st->root = as->root->id;
	st->name = as->name;
	st->generation = view->generation;
	st->nr_ranges = view->nr_ranges;
	memtopo_for_each_listener(l, as)
		st->nr_listeners++;
	st->nr_kept = memtopo_history_depth(as);
}
EXPORT_SYMBOL_NS_GPL(memtopo_space_describe_locked, MEMTOPO);
