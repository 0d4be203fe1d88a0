// SPDX-License-Identifier: GPL-2.0
/*
 * Rendering a region tree into a flat view.
 *
 * QEMU renders by inserting each region into a sorted array, splitting
 * around what is already there, with a memmove per insert: quadratic.  We
 * split the job in two linear-ish passes instead:
 *
 *  1. A depth-first walk in QEMU's exact precedence order (children by
 *     priority, most recently added first among equals; a region's own
 *     content after its children; aliases shift into their target) emits
 *     every leaf clipped by all its ancestors as a "piece".  The first
 *     piece to cover an address wins it, exactly as in QEMU's
 *     render_memory_region().
 *  2. A sweep over the sorted piece boundaries keeps the active pieces in
 *     a min-heap by emission rank; the top of the heap owns the space up
 *     to the next boundary.  Adjacent results that QEMU's
 *     flatview_simplify() would merge are merged on the way out.
 *
 * Both passes are O(P log P) for P pieces.  Addresses are 128-bit while
 * walking because an alias may shift its target below zero or past 2^64.
 */
#include <linux/slab.h>
#include <linux/overflow.h>
#include <linux/prefetch.h>
#include <linux/sched.h>

#include "memtopo_internal.h"
#include "memtopo_hooks.h"

#define mt_s128 __int128
#define MT_2_64 ((mt_s128)1 << 64)

/*
 * What one region shows in [start, last], and the dirty log mask it will
 * give its entries: taken while the region is in the cache, so the sweep
 * reads the pieces and never the regions.
 */
struct memtopo_piece {
	u64 start;
	u64 last;
	struct memtopo_region *mr;
	u64 offset;
	u32 flags;
	u8 dirty_log_mask;
};

struct memtopo_frame {
	struct memtopo_region *mr;
	/* the children that meet the clip, in render order: kids[base, end) */
	u32 kid_next, kid_end, kid_base;
	mt_s128 base;
	mt_s128 clip_start;
	mt_s128 clip_end;
	u32 flags;
};

/*
 * Sweep events: a piece's start, or the address just past its end; @idx
 * is the piece's index.  Sorting a frame's children uses the same array,
 * with a child's render key in @addr and its index on the kids stack.
 */
struct memtopo_sweep_event {
	u64 addr;
	u32 idx;
	u32 is_start;
};

/*
 * A plain leaf (a region that renders itself and has no children) is made
 * into a piece when its parent's children are collected, in address order
 * with the tree walk's fetch of it; its entry on the kids stack is then
 * the piece's index, tagged, and entering it in render order only gives
 * the piece its rank, without reading the region again.  Regions are at
 * least 8-byte aligned, so bit 0 tells the two apart.
 */
static inline bool memtopo_kid_is_piece(const struct memtopo_region *kid)
{
	return (uintptr_t)kid & 1;
}

static inline struct memtopo_region *memtopo_kid_of_piece(u32 idx)
{
	return (struct memtopo_region *)(((uintptr_t)idx << 1) | 1);
}

static inline u32 memtopo_kid_piece(const struct memtopo_region *kid)
{
	return (uintptr_t)kid >> 1;
}

/*
 * Working memory of a render.  A context keeps one across commits
 * (ctx->scratch) so that a windowed commit, the common case, allocates
 * nothing; the arrays grow by doubling with what a render uses.  What a
 * full render of a large map needed (tens of megabytes, several times the
 * view) is given back when its commit ends, whether it succeeded or not:
 * memtopo_render_scratch_trim() keeps at most MEMTOPO_SCRATCH_KEEP bytes.
 */
struct memtopo_render {
	/*
	 * Pieces, in the order they were made; rank[i] is piece i's place in
	 * QEMU's render order (lower wins), handed out by next_rank.
	 */
	struct memtopo_piece *pieces;
	u32 *rank;
	u32 nr_pieces, cap_pieces, next_rank;
	struct memtopo_frame *frames;
	u32 nr_frames, cap_frames;
	/* a stack of child lists, one per frame */
	struct memtopo_region **kids;
	u32 nr_kids, cap_kids;
	/* where the list being collected starts, and what collects it */
	u32 kid_from;
	struct memtopo_child_visitor take_kid;
	/*
	 * The sweep's events (and the radix sort's second buffer), heap
	 * (rank << 32 | piece index), ended flags by piece index.  The walk,
	 * which ends before the sweep starts, sorts children in the event
	 * buffers too.
	 */
	struct memtopo_sweep_event *ev, *ev_tmp;
	u32 cap_ev;
	u64 *heap;
	bool *ended;
	u32 cap_heap;
	/* entries out of the sweep */
	struct memtopo_flat win;
	/*
	 * What replaces a window's chunks: runs of the old chunks and of
	 * @win, copied only into the new chunks; and the entry the window
	 * cuts at its end, restarted past it.
	 */
	struct memtopo_runs mid;
	u64 tail_start;
	struct memtopo_fr tail;
	/*
	 * The splice's list of the chunks it groups
	 * (memtopo_view_splice_plan()).  Kept: allocated and freed by each
	 * splice, at 10^6 entries it shared its kmalloc class with the views'
	 * group indexes, whose frees wait for a grace period, so the next
	 * commit's index took the object it gave back and each list came
	 * from a new slab.
	 */
	void *splice_buf;
	size_t splice_bytes;
	/* the context whose budget pays for all of the above, or NULL */
	struct memtopo_ctx *ctx;
	size_t charged;
	/* what was charged when the render started */
	size_t charged_before;
};

static void memtopo_render_scratch_release(struct memtopo_render *r)
{
	struct memtopo_ctx *ctx = r->ctx;

	if (ctx && r->charged)
		memtopo_ctx_uncharge_locked(ctx, r->charged);
	kvfree(r->pieces);
	kvfree(r->rank);
	kvfree(r->frames);
	kvfree(r->kids);
	kvfree(r->ev);
	kvfree(r->ev_tmp);
	kvfree(r->heap);
	kvfree(r->ended);
	kvfree(r->splice_buf);
	memtopo_flat_free(&r->win);
	memset(r, 0, sizeof(*r));
	r->ctx = ctx;
}

/**
 * memtopo_render_scratch_free() - free a context's render memory.
 * @r: the scratch (may be NULL).
 *
 * Context: the context's mutex held (its budget is given back).
 */
void memtopo_render_scratch_free(struct memtopo_render *r)
{
	if (!r)
		return;
	memtopo_render_scratch_release(r);
	kfree(r);
}

/**
 * memtopo_render_scratch_bytes() - the memory a render scratch holds.
 * @r: the scratch (may be NULL).
 *
 * Return: bytes allocated for its arrays, by capacity, not use.
 */
size_t memtopo_render_scratch_bytes(const struct memtopo_render *r)
{
	if (!r)
		return 0;
	return (size_t)r->cap_pieces * (sizeof(*r->pieces) + sizeof(*r->rank)) +
	       (size_t)r->cap_frames * sizeof(*r->frames) +
	       (size_t)r->cap_kids * sizeof(*r->kids) +
	       (size_t)r->cap_ev * 2 * sizeof(*r->ev) +
	       (size_t)r->cap_heap * (sizeof(*r->heap) + sizeof(*r->ended)) +
	       (size_t)r->win.cap * (sizeof(u64) + sizeof(struct memtopo_fr)) +
	       r->splice_bytes;
}

/**
 * memtopo_render_scratch_trim() - give back what a large render used.
 * @r: the scratch (may be NULL).
 *
 * Called when a commit ends.  Windowed commits use a few kilobytes and keep
 * them, so they allocate nothing; anything larger (a full render, a huge
 * or refused one) is freed, so a context does not hold a full render's
 * working memory for its lifetime.
 */
void memtopo_render_scratch_trim(struct memtopo_render *r)
{
	if (memtopo_render_scratch_bytes(r) > MEMTOPO_SCRATCH_KEEP)
		memtopo_render_scratch_release(r);
}

/**
 * memtopo_render_scratch_alloc() - render memory for a context to keep.
 * @ctx: the context whose memory budget pays for it.
 *
 * Return: the empty scratch, or NULL.
 */
struct memtopo_render *memtopo_render_scratch_alloc(struct memtopo_ctx *ctx)
{
	struct memtopo_render *r = kzalloc(sizeof(*r), GFP_KERNEL_ACCOUNT);

	if (r)
		r->ctx = ctx;
	return r;
}

/*
 * Charge what the scratch has grown to since the last call: every array,
 * by capacity.  Called after each growth, so a render is refused once it
 * passes the budget (by at most the growth that passed it).
 */
static int memtopo_render_charge(struct memtopo_render *r)
{
	size_t bytes = memtopo_render_scratch_bytes(r);
	int ret;

	if (!r->ctx || bytes <= r->charged)
		return 0;
	ret = memtopo_ctx_charge_locked(r->ctx, bytes - r->charged);
	if (!ret)
		r->charged = bytes;
	return ret;
}

/*
 * A refused render leaves the context's use as it found it: what it
 * charged is given back.  The memory stays with the scratch, uncharged,
 * as does a growth whose own charge failed, until the commit's trim frees
 * it (more than MEMTOPO_SCRATCH_KEEP) or the next render charges it.
 */
static void memtopo_render_refused(struct memtopo_render *r)
{
	if (r->ctx && r->charged > r->charged_before) {
		memtopo_ctx_uncharge_locked(r->ctx, r->charged - r->charged_before);
		r->charged = r->charged_before;
	}
}

static void memtopo_render_reset(struct memtopo_render *r)
{
	r->charged_before = r->charged;
	r->nr_pieces = 0;
	r->next_rank = 0;
	r->nr_frames = 0;
	r->nr_kids = 0;
	r->win.nr = 0;
	r->win.nr_ranges = 0;
	r->mid.nr_runs = 0;
	r->mid.nr = 0;
	r->mid.at_end = false;
}

/* Make room for @n events; old contents are dropped. */
static int memtopo_render_reserve_events(struct memtopo_render *r, u32 n)
{
	if (n > r->cap_ev) {
		kvfree(r->ev);
		kvfree(r->ev_tmp);
		r->ev = kvmalloc_array(n, sizeof(*r->ev), GFP_KERNEL_ACCOUNT);
		r->ev_tmp = kvmalloc_array(n, sizeof(*r->ev), GFP_KERNEL_ACCOUNT);
		r->cap_ev = r->ev && r->ev_tmp ? n : 0;
		if (!r->cap_ev)
			return -ENOMEM;
	}
	return memtopo_render_charge(r);
}

/* Make room for @n events and @n / 2 heap slots; old contents are dropped. */
static int memtopo_render_reserve_sweep(struct memtopo_render *r, u32 n)
{
	int ret = memtopo_render_reserve_events(r, n);

	if (ret)
		return ret;
	if (n / 2 + 1 > r->cap_heap) {
		kvfree(r->heap);
		kvfree(r->ended);
		r->heap = kvmalloc_array(n / 2 + 1, sizeof(*r->heap), GFP_KERNEL_ACCOUNT);
		r->ended = kvmalloc(n / 2 + 1, GFP_KERNEL_ACCOUNT);
		r->cap_heap = r->heap && r->ended ? n / 2 + 1 : 0;
		if (!r->cap_heap)
			return -ENOMEM;
	}
	return memtopo_render_charge(r);
}

/*
 * Make room for a splice that needs @bytes, and charge the scratch's
 * growth; old contents are dropped.
 */
static int memtopo_render_reserve_splice(struct memtopo_render *r, size_t bytes)
{
	if (bytes > r->splice_bytes) {
		kvfree(r->splice_buf);
		/* doubled, as the other arrays grow, so that growing is rare */
		bytes = max(bytes, 2 * r->splice_bytes);
		r->splice_buf = kvmalloc(bytes, GFP_KERNEL_ACCOUNT);
		r->splice_bytes = r->splice_buf ? bytes : 0;
		if (!r->splice_buf)
			return -ENOMEM;
	}
	return memtopo_render_charge(r);
}

static void memtopo_render_sort_kids(struct memtopo_render *r, u32 from);
static int memtopo_render_take_kid(struct memtopo_child_visitor *v,
				   struct memtopo_region *child);

/*
 * Place @mr in its parent (QEMU's render_memory_region() prologue): its
 * address moves @base, its flags add to @flags, its extent narrows the
 * clip [@clip_start, @clip_end).  Returns false when nothing of @mr can
 * show.
 */
static bool memtopo_render_place(const struct memtopo_region *mr, mt_s128 *base,
				 mt_s128 *clip_start, mt_s128 *clip_end, u32 *flags)
{
	mt_s128 start, end;

	if (!memtopo_region_enabled(mr) || memtopo_region_empty(mr))
		return false;
	*base += mr->addr;
	if (mr->flags & MEMTOPO_RF_READONLY)
		*flags |= MEMTOPO_FR_READONLY;
	if (mr->flags & MEMTOPO_RF_NONVOLATILE)
		*flags |= MEMTOPO_FR_NONVOLATILE;
	start = *base;
	end = *base + (mt_s128)memtopo_region_last_off(mr) + 1;
	if (start < *clip_start)
		start = *clip_start;
	if (end > *clip_end)
		end = *clip_end;
	if (start >= end)
		return false;
	*clip_start = start;
	*clip_end = end;
	return true;
}

/*
 * Append the piece @mr shows in [@start, @end), its offset 0 at @base.
 * Its rank is given when it is reached in render order.
 *
 * Return: the piece's index, or -ENOMEM, -E2BIG or the budget's errno.
 */
static int memtopo_render_piece(struct memtopo_render *r, struct memtopo_region *mr,
				mt_s128 base, mt_s128 start, mt_s128 end, u32 flags)
{
	struct memtopo_piece *p;
	int ret;

	if (r->nr_pieces == r->cap_pieces) {
		ret = memtopo_grow_pair((void **)&r->pieces, sizeof(*r->pieces),
					(void **)&r->rank, sizeof(*r->rank), &r->cap_pieces,
					MEMTOPO_MAX_RENDER_PIECES);
		if (!ret)
			ret = memtopo_render_charge(r);
		if (ret)
			return ret;
	}
	p = &r->pieces[r->nr_pieces];
	p->start = (u64)start;
	p->last = (u64)(end - 1);
	p->mr = mr;
	p->offset = (u64)(start - base);
	p->flags = flags;
	if (mr->kind == MEMTOPO_ROM_DEVICE && (mr->flags & MEMTOPO_RF_ROMD))
		p->flags |= MEMTOPO_FR_ROMD;
	p->dirty_log_mask = memtopo_hook_dirty_log_mask(mr);
	return r->nr_pieces++;
}

static int memtopo_render_grow_frames(struct memtopo_render *r)
{
	int ret = memtopo_grow((void **)&r->frames, &r->cap_frames, sizeof(*r->frames),
			       U32_MAX / 2);

	return ret ? ret : memtopo_render_charge(r);
}

/*
 * Enter @mr: place it; an alias is replaced by its target, shifted (its
 * own subregions are never walked, as QEMU follows mr->alias first).
 * Nothing is pushed when nothing of @mr can show.
 */
static int memtopo_render_enter(struct memtopo_render *r, struct memtopo_region *mr,
				mt_s128 base, mt_s128 clip_start, mt_s128 clip_end, u32 flags)
{
	struct memtopo_frame *f;
	int ret;

	for (;;) {
		if (!memtopo_render_place(mr, &base, &clip_start, &clip_end, &flags))
			return 0;
		if (mr->kind != MEMTOPO_ALIAS)
			break;
		base -= mr->alias->addr;
		base -= mr->alias_offset;
		mr = mr->alias;
	}

	if (r->nr_frames == r->cap_frames) {
		ret = memtopo_render_grow_frames(r);
		if (ret)
			return ret;
	}
	f = &r->frames[r->nr_frames++];
	f->mr = mr;
	f->kid_base = r->nr_kids;
	/* take_kid() places plain leaves in this frame */
	f->base = base;
	f->clip_start = clip_start;
	f->clip_end = clip_end;
	f->flags = flags;
	if (!RB_EMPTY_ROOT(&mr->by_addr)) {
		/* visit only what meets the clip: a window sorts only that */
		r->kid_from = r->nr_kids;
		r->take_kid.visit = memtopo_render_take_kid;
		ret = memtopo_region_visit_children(mr, (u64)(clip_start - base),
						    (u64)(clip_end - 1 - base), &r->take_kid);
		if (!ret)
			ret = memtopo_render_charge(r);
		if (ret) {
			r->nr_kids = f->kid_base;
			r->nr_frames--;
			return ret;
		}
		memtopo_render_sort_kids(r, f->kid_base);
	}
	f->kid_next = f->kid_base;
	f->kid_end = r->nr_kids;
	return 0;
}

/* A region's own content goes in after its children (QEMU's gap fill). */
static int memtopo_render_emit(struct memtopo_render *r, const struct memtopo_frame *f)
{
	int idx;

	if (!memtopo_region_terminates(f->mr))
		return 0;
	idx = memtopo_render_piece(r, f->mr, f->base, f->clip_start, f->clip_end, f->flags);
	if (idx < 0)
		return idx;
	r->rank[idx] = r->next_rank++;
	return 0;
}

/*
 * Children in render order are rarely in memory order: fetch a few ahead
 * (a region, or a plain leaf's rank slot), so their cache misses overlap
 * instead of following one another.
 */
#define MEMTOPO_KIDS_AHEAD	8

static struct memtopo_region *memtopo_frame_next(struct memtopo_render *r,
						 struct memtopo_frame *f)
{
	if (f->kid_next + MEMTOPO_KIDS_AHEAD < f->kid_end) {
		struct memtopo_region *ahead = r->kids[f->kid_next + MEMTOPO_KIDS_AHEAD];

		if (memtopo_kid_is_piece(ahead))
			prefetchw(&r->rank[memtopo_kid_piece(ahead)]);
		else
			prefetch(ahead);
	}
	return f->kid_next < f->kid_end ? r->kids[f->kid_next++] : NULL;
}

static int memtopo_render_walk(struct memtopo_render *r, struct memtopo_region *root,
			       mt_s128 clip_start, mt_s128 clip_end)
{
	struct memtopo_frame *f;
	struct memtopo_region *child;
	unsigned int steps = 0;
	int ret;

	ret = memtopo_render_enter(r, root, 0, clip_start, clip_end, 0);
	while (!ret && r->nr_frames) {
		f = &r->frames[r->nr_frames - 1];
		child = memtopo_frame_next(r, f);
		if (!child) {
			ret = memtopo_render_emit(r, f);
			r->nr_kids = f->kid_base;
			r->nr_frames--;
			continue;
		}
		if (!(++steps & 0xffff))
			cond_resched();
		/* a plain leaf's piece is made: here is its place in render order */
		if (memtopo_kid_is_piece(child)) {
			r->rank[memtopo_kid_piece(child)] = r->next_rank++;
			continue;
		}
		ret = memtopo_render_enter(r, child, f->base, f->clip_start, f->clip_end,
					   f->flags);
	}
	return ret;
}

/* Sort a few events by address in place, equal ones kept in order. */
static void memtopo_events_insertion_sort(struct memtopo_sweep_event *ev, u32 n)
{
	struct memtopo_sweep_event e;
	u32 i, j;

	for (i = 1; i < n; i++) {
		e = ev[i];
		for (j = i; j && e.addr < ev[j - 1].addr; j--)
			ev[j] = ev[j - 1];
		ev[j] = e;
	}
}

/*
 * Sort events by address, equal ones kept in order: an LSD radix sort, one
 * byte a pass, skipping the bytes all addresses share (the high ones,
 * usually).  Linear where the kernel's sort() is an O(n log n) heapsort
 * with an indirect compare: the difference is most of a full render's
 * time.  A few events, a window's over a child or two, are sorted in place
 * instead: a pass clears and sums 256 counts, more than their whole sort.
 *
 * Return: the sorted array (@ev or @tmp).
 */
static struct memtopo_sweep_event *memtopo_events_sort(struct memtopo_sweep_event *ev,
						       struct memtopo_sweep_event *tmp,
						       u32 n)
{
	u64 all_or = 0, all_and = U64_MAX;
	unsigned int shift;
	u32 count[256], i;

	if (n <= MEMTOPO_EVENTS_INSERTION) {
		memtopo_events_insertion_sort(ev, n);
		return ev;
	}
	for (i = 0; i < n; i++) {
		all_or |= ev[i].addr;
		all_and &= ev[i].addr;
	}
	for (shift = 0; shift < 64; shift += 8) {
		u32 sum = 0, c;

		if (!(((all_or ^ all_and) >> shift) & 0xff))
			continue;
		memset(count, 0, sizeof(count));
		for (i = 0; i < n; i++)
			count[(ev[i].addr >> shift) & 0xff]++;
		for (c = 0; c < 256; c++) {
			u32 k = count[c];

			count[c] = sum;
			sum += k;
		}
		for (i = 0; i < n; i++)
			tmp[count[(ev[i].addr >> shift) & 0xff]++] = ev[i];
		swap(ev, tmp);
	}
	return ev;
}

/*
 * Take a child that meets the clip onto the kids stack, and its render key
 * (inverted, so ascending order is render order) into the events, read
 * now while the tree walk has it in the cache: children are rarely laid
 * out in address order, and a second pass would miss on each again.  For
 * the same reason a plain leaf is made into its piece now (or left out,
 * when nothing of it shows), so render order never reads it.
 */
static int memtopo_render_take_kid(struct memtopo_child_visitor *v,
				   struct memtopo_region *child)
{
	struct memtopo_render *r = container_of(v, struct memtopo_render, take_kid);
	const struct memtopo_frame *f = &r->frames[r->nr_frames - 1];
	u32 i = r->nr_kids - r->kid_from;
	struct memtopo_region *kid = child;
	int ret;

	if (memtopo_region_terminates(child) && RB_EMPTY_ROOT(&child->by_addr)) {
		mt_s128 base = f->base, start = f->clip_start, end = f->clip_end;
		u32 flags = f->flags;

		if (!memtopo_render_place(child, &base, &start, &end, &flags))
			return 0;
		ret = memtopo_render_piece(r, child, base, start, end, flags);
		if (ret < 0)
			return ret;
		kid = memtopo_kid_of_piece(ret);
	}

	if (r->nr_kids == r->cap_kids) {
		ret = memtopo_grow((void **)&r->kids, &r->cap_kids, sizeof(*r->kids),
				   U32_MAX / 2);
		if (ret)
			return ret;
	}
	if (i == r->cap_ev) {
		ret = memtopo_grow_pair((void **)&r->ev, sizeof(*r->ev), (void **)&r->ev_tmp,
					sizeof(*r->ev_tmp), &r->cap_ev, U32_MAX / 2);
		if (ret)
			return ret;
	}
	r->kids[r->nr_kids++] = kid;
	r->ev[i].addr = ~memtopo_region_render_key(child);
	r->ev[i].idx = i;
	return 0;
}

/*
 * Make the keys of @n children as short as their spread allows, order
 * kept: priority and sequence number each less their smallest, packed
 * together.  Priorities on both sides of 0 differ in every byte of the
 * key, though a map uses a few hundred of them; the radix sort then makes
 * one pass for each byte the children's keys still differ in, not seven.
 */
static void memtopo_kids_compact_keys(struct memtopo_sweep_event *ev, u32 n)
{
	u32 hmin = U32_MAX, hmax = 0, lmin = U32_MAX, lmax = 0, i, w = 0;

	for (i = 0; i < n; i++) {
		u32 hi = ev[i].addr >> 32, lo = (u32)ev[i].addr;

		hmin = min(hmin, hi);
		hmax = max(hmax, hi);
		lmin = min(lmin, lo);
		lmax = max(lmax, lo);
	}
	while (w < 32 && (lmax - lmin) >> w)
		w++;
	for (i = 0; i < n; i++)
		ev[i].addr = ((u64)((u32)(ev[i].addr >> 32) - hmin) << w) |
			     ((u32)ev[i].addr - lmin);
}

/*
 * Put kids[@from, nr_kids) into render order by the keys taken with them:
 * an insertion sort for a few (a windowed commit meets a few children),
 * otherwise the events' radix sort, which skips the key bytes all children
 * share, so a full render sorts each container's children in linear time.
 */
static void memtopo_render_sort_kids(struct memtopo_render *r, u32 from)
{
	struct memtopo_region **kids = r->kids + from;
	struct memtopo_sweep_event *sorted = r->ev;
	u32 n = r->nr_kids - from, i;

	if (n <= MEMTOPO_KIDS_INSERTION) {
		memtopo_events_insertion_sort(sorted, n);
	} else {
		memtopo_kids_compact_keys(sorted, n);
		sorted = memtopo_events_sort(r->ev, r->ev_tmp, n);
	}
	/* the indexes are into kids[], so gather into the events before writing back */
	for (i = 0; i < n; i++)
		sorted[i].addr = (uintptr_t)kids[sorted[i].idx];
	for (i = 0; i < n; i++)
		kids[i] = (struct memtopo_region *)(uintptr_t)sorted[i].addr;
}

static void memtopo_heap_push(u64 *heap, u32 *n, u64 key)
{
	u32 i = (*n)++;

	while (i) {
		u32 up = (i - 1) / 2;

		if (heap[up] <= key)
			break;
		heap[i] = heap[up];
		i = up;
	}
	heap[i] = key;
}

static void memtopo_heap_pop(u64 *heap, u32 *n)
{
	u64 last = heap[--(*n)];
	u32 i = 0;

	for (;;) {
		u32 c = 2 * i + 1;

		if (c >= *n)
			break;
		if (c + 1 < *n && heap[c + 1] < heap[c])
			c++;
		if (heap[c] >= last)
			break;
		heap[i] = heap[c];
		i = c;
	}
	if (*n)
		heap[i] = last;
}

/* Sweep the pieces into entries for [@ws, @we]; the pieces lie inside it. */
static int memtopo_render_sweep(struct memtopo_render *r, struct memtopo_flat *b,
				u64 ws, u64 we)
{
	static const struct memtopo_fr hole;
	struct memtopo_sweep_event *ev, *sorted;
	u32 nr_heap = 0, nr_ev = 0, i, p;
	bool *ended;
	u64 *heap;
	u64 x;
	int ret;

	ret = memtopo_render_reserve_sweep(r, r->nr_pieces * 2 + 2);
	if (ret)
		return ret;
	ev = r->ev;
	heap = r->heap;
	ended = r->ended;
	memset(ended, 0, r->nr_pieces + 1);

	for (p = 0; p < r->nr_pieces; p++) {
		ev[nr_ev++] = (struct memtopo_sweep_event){ r->pieces[p].start, p, 1 };
		/* an end at 2^64 is the end of the sweep itself */
		if (r->pieces[p].last != U64_MAX)
			ev[nr_ev++] = (struct memtopo_sweep_event){ r->pieces[p].last + 1, p, 0 };
	}
	sorted = memtopo_events_sort(ev, r->ev_tmp, nr_ev);
	if (sorted != ev) {
		swap(r->ev, r->ev_tmp);
		ev = r->ev;
	}

	ret = 0;
	if (!nr_ev || ev[0].addr > ws)
		ret = memtopo_flat_add(b, ws, &hole);
	for (i = 0; i < nr_ev && !ret; ) {
		struct memtopo_fr fr = {};

		x = ev[i].addr;
		/* what follows @we is not ours to say */
		if (x > we)
			break;
		for (; i < nr_ev && ev[i].addr == x; i++) {
			p = ev[i].idx;
			/* the lowest rank wins; the index says whose it is */
			if (ev[i].is_start)
				memtopo_heap_push(heap, &nr_heap, (u64)r->rank[p] << 32 | p);
			else
				ended[p] = true;
		}
		while (nr_heap && ended[(u32)heap[0]])
			memtopo_heap_pop(heap, &nr_heap);
		if (nr_heap) {
			const struct memtopo_piece *top = &r->pieces[(u32)heap[0]];

			fr.mr = top->mr;
			fr.offset = top->offset + (x - top->start);
			fr.flags = top->flags;
			fr.dirty_log_mask = top->dirty_log_mask;
		}
		ret = memtopo_flat_add(b, x, &fr);
	}
	return ret;
}

/**
 * memtopo_effective_root() - the region a space's view is rendered from.
 * @root: the space's root.
 *
 * As QEMU's memory_region_get_flatview_root(): descend through an alias
 * that shows all of its target at offset 0, and through a container whose
 * only enabled child covers it from address 0, so that spaces which differ
 * only by such wrappers share one view.
 *
 * Return: the region to render, or NULL when nothing can render.
 */
struct memtopo_region *memtopo_effective_root(struct memtopo_region *root)
{
	struct memtopo_region *mr = root, *child;
	bool none;

	while (mr && memtopo_region_enabled(mr)) {
		if (mr->kind == MEMTOPO_ALIAS) {
			struct memtopo_region *t = mr->alias;
			bool covers = (mr->flags & MEMTOPO_RF_SIZE64) ||
				(!(t->flags & MEMTOPO_RF_SIZE64) && mr->size >= t->size);

			if (!mr->alias_offset && covers) {
				mr = t;
				continue;
			}
		} else if (!memtopo_region_terminates(mr)) {
			child = memtopo_region_sole_enabled_child(mr, &none);
			if (none)
				return NULL;
			if (child && !child->addr &&
			    ((mr->flags & MEMTOPO_RF_SIZE64) ||
			     (!(child->flags & MEMTOPO_RF_SIZE64) && mr->size >= child->size))) {
				mr = child;
				continue;
			}
		}
		return mr;
	}
	return NULL;
}

/**
 * memtopo_render_with() - memtopo_render() with a context's scratch memory.
 * @r: the scratch, or NULL for a one-off render.
 * @root: the region, or NULL for the empty view.
 *
 * Return: as memtopo_render().
 */
struct memtopo_view *memtopo_render_with(struct memtopo_render *r, struct memtopo_region *root)
{
	struct memtopo_render *own = NULL;
	struct memtopo_view *view = NULL;
	int ret;

	if (!r) {
		own = kzalloc(sizeof(*own), GFP_KERNEL);
		if (!own)
			return ERR_PTR(-ENOMEM);
		r = own;
	}
	memtopo_render_reset(r);
	ret = root ? memtopo_render_walk(r, root, 0, MT_2_64) : 0;
	if (!ret)
		ret = memtopo_render_sweep(r, &r->win, 0, U64_MAX);
	if (!ret)
		ret = memtopo_render_charge(r);
	if (!ret) {
		view = memtopo_view_pack(root, &r->win);
		if (!view)
			ret = -ENOMEM;
	}
	if (ret)
		memtopo_render_refused(r);
	memtopo_render_scratch_free(own);
	return ret ? ERR_PTR(ret) : view;
}

/**
 * memtopo_render() - render the flat view of a (effective) root.
 * @root: the region, or NULL for the empty view.
 *
 * Return: a new view with one reference, or ERR_PTR(-ENOMEM) or
 * ERR_PTR(-E2BIG) when aliases multiply the pieces past
 * MEMTOPO_MAX_RENDER_PIECES.
 */
struct memtopo_view *memtopo_render(struct memtopo_region *root)
{
	return memtopo_render_with(NULL, root);
}

/* Would @nr entries, spread over as few chunks as hold them, leave them under 15/16 full? */
static bool memtopo_spread_thin(u32 nr)
{
	u32 k = DIV_ROUND_UP(nr, MEMTOPO_CHUNK_ENTRIES);

	return k > 1 && nr * 16 < k * MEMTOPO_CHUNK_ENTRIES * 15;
}

/* Add old entries [from, to) of one chunk to a splice. */
static int memtopo_runs_chunk(struct memtopo_runs *rs, const struct memtopo_chunk *chunk,
			      u32 from, u32 to)
{
	return from < to ? memtopo_runs_add(rs, chunk->starts + from, chunk->fr + from,
					    to - from) : 0;
}

/**
 * memtopo_render_window() - re-render [@ws, @we] of @old and splice it in.
 * @r: the context's render scratch.
 * @root: the effective root @old was rendered from.
 * @old: the published view.
 * @ws: first address of the window.
 * @we: last address of the window.
 *
 * Only the children that meet the window are visited (the per-parent
 * interval trees find them), so the render costs what the window holds.
 * The chunks the window touches are re-packed with the new entries, the
 * seams merged as flatview_simplify() would; every other chunk is shared
 * with @old.
 *
 * Return: the new view (one reference), or an ERR_PTR() as memtopo_render().
 */
struct memtopo_view *memtopo_render_window(struct memtopo_render *r, struct memtopo_region *root,
					   const struct memtopo_view *old, u64 ws, u64 we)
{
	struct memtopo_flat *win = &r->win;
	struct memtopo_runs *mid = &r->mid;
	struct memtopo_splice_plan plan;
	struct memtopo_view_pos lo, hi;
	const struct memtopo_chunk *chunk;
	struct memtopo_view *v = NULL;
	u32 prefix, c_lo, c_hi, c, k, first;
	int ret;

	/*
	 * The entries holding the window's first address and the address
	 * after its last (the view's last entry for a window to the top):
	 * each search's position gives the entry's chunk and indexes too,
	 * which searches by index would each have looked up again.  Found
	 * before the window renders, so that the chunks the splice copies
	 * arrive meanwhile: in a large map they are out of the cache.
	 */
	memtopo_pos_find(&lo, old, ws);
	if (we == U64_MAX)
		memtopo_pos_init(&hi, old, old->nr - 1);
	else
		memtopo_pos_find(&hi, old, we + 1);
	prefix = lo.i + (memtopo_pos_start(&lo) < ws);
	c_lo = memtopo_pos_chunk_index(&lo);
	memtopo_chunk_prefetch(lo.chunk);
	/* the entry before the window must be ours to merge with */
	if (prefix == memtopo_pos_chunk_first(&lo) && c_lo)
		memtopo_chunk_prefetch(memtopo_view_chunk(old, --c_lo, NULL));
	c_hi = memtopo_pos_chunk_index(&hi);
	/* a window to the top copies nothing of the view's last chunk */
	if (we != U64_MAX && hi.chunk != lo.chunk)
		memtopo_chunk_prefetch(hi.chunk);

	memtopo_render_reset(r);
	ret = memtopo_render_walk(r, root, ws, (mt_s128)we + 1);
	if (!ret)
		ret = memtopo_render_sweep(r, win, ws, we);
	if (ret)
		goto out;

	for (c = c_lo; c < old->nr_chunks && !ret; c++) {
		chunk = memtopo_view_chunk(old, c, &first);
		if (first >= prefix)
			break;
		ret = memtopo_runs_chunk(mid, chunk, 0, min(chunk->nr, prefix - first));
	}
	if (!ret && win->nr)
		ret = memtopo_runs_add(mid, win->starts, win->fr, win->nr);
	if (we != U64_MAX && !ret) {
		r->tail = *memtopo_pos_fr(&hi);
		r->tail_start = we + 1;
		/* the entry running past the window restarts at we + 1 */
		if (r->tail.mr)
			r->tail.offset += we + 1 - memtopo_pos_start(&hi);
		ret = memtopo_runs_add(mid, &r->tail_start, &r->tail, 1);
		if (!ret)
			ret = memtopo_runs_chunk(mid, hi.chunk, hi.k + 1, hi.chunk->nr);
	}
	/* keep chunks dense: a thin result takes its right neighbour in */
	if (!ret && mid->nr < MEMTOPO_CHUNK_ENTRIES / 2 && c_hi + 1 < old->nr_chunks) {
		c_hi++;
		chunk = memtopo_view_chunk(old, c_hi, NULL);
		ret = memtopo_runs_chunk(mid, chunk, 0, chunk->nr);
	} else if (!ret && mid->nr < MEMTOPO_CHUNK_ENTRIES / 2 && c_lo) {
		/* at the end of the view: take the left neighbour in instead */
		c_lo--;
		chunk = memtopo_view_chunk(old, c_lo, NULL);
		ret = memtopo_runs_prepend(mid, chunk->starts, chunk->fr, chunk->nr);
	}
	/*
	 * Keep chunks nearly full: a result that spills into one more chunk
	 * than it fills takes right neighbours in until its chunks can be
	 * spread at least 15/16 full (a B*-tree's redistribution, over up to
	 * MEMTOPO_SPREAD_CHUNKS neighbours).  Splitting alone would leave two
	 * half-full chunks, and a map grown one commit at a time would settle
	 * far below that.  Fuller costs more than it saves: at 31/32 every
	 * chunk is within five entries of full, adds at random places spill
	 * at nearly every other commit, and each spill rewrites a dozen
	 * chunks and their table slots (engine.rst, "Flat views and
	 * lookups", has the figures).  The runs are copied once, into the new
	 * chunks, and only when a chunk overflows.
	 */
	for (k = 0; !ret && k < MEMTOPO_SPREAD_CHUNKS && memtopo_spread_thin(mid->nr) &&
	     c_hi + 1 < old->nr_chunks; k++) {
		c_hi++;
		chunk = memtopo_view_chunk(old, c_hi, NULL);
		ret = memtopo_runs_chunk(mid, chunk, 0, chunk->nr);
	}
	/*
	 * At the end of the view, where a map grown in address order adds
	 * its entries, chunks are filled full but for the last two; a result
	 * that spills takes its left neighbour in while that has room, so
	 * the chunks left behind are full (spread evenly, each spill would
	 * leave one half full behind).
	 */
	if (!ret && c_hi + 1 == old->nr_chunks) {
		mid->at_end = true;
		chunk = c_lo ? memtopo_view_chunk(old, c_lo - 1, NULL) : NULL;
		if (chunk && chunk->nr < MEMTOPO_CHUNK_ENTRIES &&
		    DIV_ROUND_UP(mid->nr, MEMTOPO_CHUNK_ENTRIES) > c_hi - c_lo + 1) {
			c_lo--;
			ret = memtopo_runs_prepend(mid, chunk->starts, chunk->fr, chunk->nr);
		}
	}
	if (!ret)
		ret = memtopo_render_reserve_splice(r, memtopo_view_splice_plan(old, c_lo, c_hi,
										mid->nr, &plan));
	if (ret)
		goto out;
	plan.ws = ws;
	plan.we = we;
	v = memtopo_view_splice(old, &plan, mid, r->splice_buf, r->splice_bytes);
	if (!v)
		ret = -ENOMEM;
out:
	if (ret)
		memtopo_render_refused(r);
	return ret ? ERR_PTR(ret) : v;
}
