// SPDX-License-Identifier: GPL-2.0
/*
 * Dirty windows: what a mutation can change, so a commit re-renders only
 * that.  A region only ever renders inside its own extent clipped by its
 * ancestors', so noting that extent before and after a change bounds
 * everything the change can alter.  The extent is noted once per frame:
 * seen from the region itself and from every ancestor, because any of them
 * can be a space's effective root and clipping depends on where rendering
 * starts.  A region that aliases show (itself or an ancestor) has more
 * than one place: such changes fall back to a full render.  Nothing under
 * an alias renders through the alias (it shows its target instead), so
 * the walk up stops below one.
 */
#include <linux/slab.h>
#include <linux/sort.h>

#include "memtopo_internal.h"

/* Does [.., @a_last] overlap or touch [@b_start, ..]? */
static bool memtopo_window_reaches(u64 a_last, u64 b_start)
{
	return b_start <= a_last || b_start - 1 == a_last;
}

static void memtopo_window_add(struct memtopo_ctx *ctx, const struct memtopo_region *frame,
			       u64 start, u64 last)
{
	struct memtopo_window *w;
	u32 i;

	for (i = 0; i < ctx->nr_windows; i++) {
		w = &ctx->windows->noted[i];
		/*
		 * Merge what overlaps or touches; keep distant windows apart, so
		 * a BAR moving across the map does not re-render all between.
		 */
		if (w->frame == frame && memtopo_window_reaches(w->last, start) &&
		    memtopo_window_reaches(last, w->start)) {
			w->start = min(w->start, start);
			w->last = max(w->last, last);
			return;
		}
	}
	if (ctx->nr_windows == MEMTOPO_MAX_WINDOWS) {
		ctx->full_render = true;
		return;
	}
	ctx->windows->noted[ctx->nr_windows++] = (struct memtopo_window){ frame, start, last };
}

/*
 * Call @fn with each frame @mr renders through: @mr itself, then each
 * ancestor while it renders its children, with @mr's extent in that
 * frame's coordinates, clipped by the ancestors between.  An alias that
 * shows the frame (alias_users) gives @mr more than one place: the walk
 * stops there, after @fn had that frame.
 *
 * Return: 1 if @fn returned true (it stops the walk), -EXDEV at a frame
 * that aliases show, 0 when the walk ran out of frames.
 */
static int memtopo_region_frames(const struct memtopo_region *mr,
				 bool (*fn)(void *arg, const struct memtopo_region *frame,
					    u64 start, u64 last),
				 void *arg)
{
	const struct memtopo_region *a, *p;
	u64 lo, hi;

	/* [lo, hi]: the extent in a's own coordinates, clipped so far */
	lo = 0;
	hi = memtopo_region_last_off(mr);
	for (a = mr; ; a = p) {
		/* add_subregion keeps addr + size within 2^64: no overflow */
		if (fn(arg, a, lo + a->addr, hi + a->addr))
			return 1;
		if (a->alias_users)
			return -EXDEV;
		p = a->parent;
		if (!p || p->kind == MEMTOPO_ALIAS || !memtopo_region_enabled(p) ||
		    memtopo_region_empty(p))
			return 0;
		lo += a->addr;
		hi = min(hi + a->addr, memtopo_region_last_off(p));
		if (lo > hi)
			return 0;
	}
}

static bool memtopo_note_frame(void *arg, const struct memtopo_region *frame, u64 start,
			       u64 last)
{
	struct memtopo_ctx *ctx = arg;

	memtopo_window_add(ctx, frame, start, last);
	return ctx->full_render;
}

/**
 * memtopo_note_region() - note where @mr shows now.
 * @mr: the region, context locked.
 *
 * Call it before a change (the old extent) and after it (the new one;
 * memtopo_ctx_region_changed() does).
 */
void memtopo_note_region(struct memtopo_region *mr)
{
	struct memtopo_ctx *ctx = mr->ctx;

	memtopo_assert_locked(ctx);
	if (ctx->full_render || memtopo_region_empty(mr))
		return;
	if (!ctx->windows) {
		ctx->windows = kmalloc(sizeof(*ctx->windows), GFP_KERNEL_ACCOUNT);
		if (!ctx->windows) {
			ctx->full_render = true;
			return;
		}
	}
	if (memtopo_region_frames(mr, memtopo_note_frame, ctx) < 0)
		ctx->full_render = true;
}

/**
 * memtopo_windows_reset() - forget the windows once a commit published.
 * @ctx: the context, locked.
 */
void memtopo_windows_reset(struct memtopo_ctx *ctx)
{
	memtopo_assert_locked(ctx);
	ctx->nr_windows = 0;
	ctx->full_render = false;
}

static int memtopo_window_cmp(const void *a, const void *b)
{
	const struct memtopo_window *x = a, *y = b;

	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return 0;
}

/**
 * memtopo_windows_of() - the windows to re-render when @frame is a space's
 * effective root: sorted, disjoint, not touching.
 * @ctx: the context, locked.
 * @frame: the effective root.
 * @out: set to the windows, in the context's memory: valid until the next
 *	call.
 *
 * Return: how many (0 when nothing noted can show under @frame).
 */
u32 memtopo_windows_of(struct memtopo_ctx *ctx, const struct memtopo_region *frame,
		       const struct memtopo_window **out)
{
	struct memtopo_window *w;
	u32 i, n = 0, k;

	memtopo_assert_locked(ctx);
	*out = NULL;
	if (!ctx->nr_windows)
		return 0;
	w = ctx->windows->of_root;
	*out = w;
	for (i = 0; i < ctx->nr_windows; i++)
		if (ctx->windows->noted[i].frame == frame)
			w[n++] = ctx->windows->noted[i];
	if (n < 2)
		return n;
	/* windows that grew since they were noted may overlap now */
	sort(w, n, sizeof(*w), memtopo_window_cmp, NULL);
	for (i = 1, k = 0; i < n; i++) {
		if (memtopo_window_reaches(w[k].last, w[i].start))
			w[k].last = max(w[k].last, w[i].last);
		else
			w[++k] = w[i];
	}
	return k + 1;
}
