// SPDX-License-Identifier: GPL-2.0
/*
 * Dirty logging: per-region clients (VGA, CODE, MIGRATION), the global
 * MIGRATION switch, log_sync, and per-region, per-client bitmaps.
 *
 * Marking must work from any context that may hold the RCU read lock
 * (a vCPU exit path, an interrupt handler), so a bitmap is allocated when
 * its client is enabled, never while marking, and bits are set with fully
 * ordered atomics.  Fetching is KVM's GET_DIRTY_LOG: each 64-page word is
 * exchanged with zero, so a page marked concurrently is either in the
 * fetched word or still set afterwards, never lost.  Writes to a page made
 * before memtopo_mark_dirty() are visible to whoever fetches its bit
 * (atomic64_fetch_or() and atomic64_xchg() are both full barriers).
 */
#include <linux/export.h>
#include <linux/math64.h>
#include <linux/slab.h>

#include "parity.h"

static u64 memtopo_region_pages(const struct memtopo_region *mr)
{
	if (mr->flags & MEMTOPO_RF_SIZE64)
		return U64_MAX;
	return DIV_ROUND_UP_ULL(mr->size, MEMTOPO_DIRTY_PAGE_SIZE);
}

static void memtopo_dirty_bitmap_free_rcu(struct rcu_head *head)
{
	kvfree(container_of(head, struct memtopo_dirty_bitmap, rcu));
}

/**
 * memtopo_dirty_unprepare() - free bitmaps memtopo_dirty_prepare() just
 * allocated, once their clients are off again (an undo).
 * @mr: the region, context locked.
 * @fresh: the clients whose bitmaps it allocated.
 *
 * A marker that saw a client on may still hold its bitmap: it is freed
 * after an RCU grace period.
 */
void memtopo_dirty_unprepare(struct memtopo_region *mr, u8 fresh)
{
	struct memtopo_region_parity *p = memtopo_parity_locked(mr);
	struct memtopo_dirty_bitmap *bm;
	unsigned int c;

	for (c = 0; c < MEMTOPO_DIRTY_CLIENTS; c++) {
		if (!(fresh & BIT(c)))
			continue;
		bm = rcu_dereference_protected(p->dirty[c], lockdep_is_held(&mr->ctx->lock));
		RCU_INIT_POINTER(p->dirty[c], NULL);
		call_rcu(&bm->rcu, memtopo_dirty_bitmap_free_rcu);
	}
}

/**
 * memtopo_dirty_prepare() - allocate the bitmaps of clients about to be
 * enabled on a region, before anything can mark them.
 * @mr: the region, context locked.
 * @mask: clients (BIT(MEMTOPO_DIRTY_*)).
 * @fresh: if not NULL, set to the clients whose bitmaps were allocated now.
 *
 * Regions without RAM get no bitmap (nothing can be marked there).  A
 * bitmap keeps the size it was allocated with: if the region grows later,
 * pages past it are reported dirty, so nothing is ever lost.
 *
 * Return: 0, -E2BIG for a region past MEMTOPO_DIRTY_MAX_PAGES, -ENOMEM; on
 * failure nothing is left allocated.
 */
int memtopo_dirty_prepare(struct memtopo_region *mr, u8 mask, u8 *fresh)
{
	struct memtopo_region_parity *p;
	struct memtopo_dirty_bitmap *bm;
	u64 npages = memtopo_region_pages(mr);
	unsigned int c;
	u8 new = 0;

	memtopo_assert_locked(mr->ctx);
	if (fresh)
		*fresh = 0;
	if (!mask || !memtopo_kind_has_ram(mr->kind))
		return 0;
	if (npages > MEMTOPO_DIRTY_MAX_PAGES)
		return -E2BIG;
	p = memtopo_parity_get(mr);
	if (!p)
		return -ENOMEM;
	for (c = 0; c < MEMTOPO_DIRTY_CLIENTS; c++) {
		if (!(mask & BIT(c)) || rcu_access_pointer(p->dirty[c]))
			continue;
		bm = kvzalloc(struct_size(bm, words, DIV_ROUND_UP_ULL(npages, 64)),
			      GFP_KERNEL_ACCOUNT);
		if (!bm) {
			memtopo_dirty_unprepare(mr, new);
			return -ENOMEM;
		}
		bm->npages = npages;
		rcu_assign_pointer(p->dirty[c], bm);
		new |= BIT(c);
	}
	if (fresh)
		*fresh = new;
	return 0;
}

/**
 * memtopo_dirty_free() - free a dying region's bitmaps.
 * @p: its parity state; nothing can reach it.
 */
void memtopo_dirty_free(struct memtopo_region_parity *p)
{
	unsigned int i;

	for (i = 0; i < MEMTOPO_DIRTY_CLIENTS; i++)
		kvfree(rcu_dereference_protected(p->dirty[i], 1));
}

/**
 * memtopo_mark_dirty_rcu() - memtopo_mark_dirty() for callers already in
 * an RCU read-side section.
 * @mr: the region, found under the same RCU section or referenced.
 * @offset: first byte within @mr.
 * @len: bytes written.
 */
void memtopo_mark_dirty_rcu(struct memtopo_region *mr, u64 offset, u64 len)
{
	struct memtopo_region_parity *p = rcu_dereference(mr->parity);
	struct memtopo_dirty_bitmap *bm;
	u8 mask = memtopo_hook_dirty_log_mask(mr);
	u64 first, last, page;
	unsigned int c;

	if (!p || !mask || !len)
		return;
	first = offset >> MEMTOPO_DIRTY_PAGE_SHIFT;
	last = (len - 1 > U64_MAX - offset ? U64_MAX : offset + len - 1) >>
	       MEMTOPO_DIRTY_PAGE_SHIFT;
	for (c = 0; c < MEMTOPO_DIRTY_CLIENTS; c++) {
		if (!(mask & BIT(c)))
			continue;
		bm = rcu_dereference(p->dirty[c]);
		if (!bm || first >= bm->npages)
			continue;
		/* one fully ordered RMW per 64-page word */
		for (page = first; page <= min(last, bm->npages - 1); ) {
			u64 word = page / 64, bit = page % 64;
			u64 n = min(64 - bit, min(last, bm->npages - 1) - page + 1);
			u64 bits = (n == 64 ? ~0ULL : GENMASK_ULL(n - 1, 0)) << bit;

			atomic64_fetch_or(bits, &bm->words[word]);
			page += n;
		}
	}
}

/**
 * memtopo_mark_dirty() - mark bytes of a RAM region dirty for every
 * dirty-log client enabled on it.
 * @mr: the region; the caller found it under RCU (and is still inside that
 *	read-side section) or holds a reference.
 * @offset: first byte within @mr.
 * @len: bytes written.
 *
 * Context: any, including hard interrupts; never sleeps.  Pages past the
 * end of the region are ignored.
 */
void memtopo_mark_dirty(struct memtopo_region *mr, u64 offset, u64 len)
{
	rcu_read_lock();
	memtopo_mark_dirty_rcu(mr, offset, len);
	rcu_read_unlock();
}
EXPORT_SYMBOL_NS_GPL(memtopo_mark_dirty, MEMTOPO);

/* Call @fn of every listener of every space of @ctx. */
static void memtopo_global_call(struct memtopo_ctx *ctx, bool start)
{
	struct memtopo_listener *l;
	struct memtopo_space *as;

	if (start) {
		list_for_each_entry(as, &ctx->spaces, link)
			memtopo_for_each_listener(l, as)
				if (l->ops->log_global_start)
					l->ops->log_global_start(l->priv);
	} else {
		list_for_each_entry_reverse(as, &ctx->spaces, link)
			memtopo_for_each_listener_reverse(l, as)
				if (l->ops->log_global_stop)
					l->ops->log_global_stop(l->priv);
	}
}

/* Free the MIGRATION bitmaps a global start allocated (markers may hold them). */
static void memtopo_dirty_drop_fresh(struct memtopo_region **fresh, u32 n)
{
	u32 i;

	for (i = 0; i < n; i++)
		memtopo_dirty_unprepare(fresh[i], BIT(MEMTOPO_DIRTY_MIGRATION));
	kvfree(fresh);
}

/*
 * Allocate the MIGRATION bitmap of every RAM region that has none, noting
 * which in *@fresh so that undoing the start frees exactly those.  On
 * failure nothing is left allocated.
 */
static int memtopo_dirty_prepare_global(struct memtopo_ctx *ctx, struct memtopo_region ***fresh,
					u32 *nr)
{
	struct memtopo_region *mr;
	unsigned long id;
	u32 n = 0;
	u8 got;
	int ret;

	*fresh = kvmalloc_array(max(ctx->nr_regions, 1U), sizeof(**fresh), GFP_KERNEL_ACCOUNT);
	if (!*fresh)
		return -ENOMEM;
	xa_for_each(&ctx->objects, id, mr) {
		ret = memtopo_dirty_prepare(mr, BIT(MEMTOPO_DIRTY_MIGRATION), &got);
		if (ret) {
			memtopo_dirty_drop_fresh(*fresh, n);
			return ret;
		}
		if (got)
			(*fresh)[n++] = mr;
	}
	*nr = n;
	return 0;
}

/**
 * memtopo_dirty_log_global_start_locked() - QEMU's
 * memory_global_dirty_log_start() for one context.
 * @ctx: the context, locked.
 *
 * Starts nest.  The first one allocates the MIGRATION bitmaps of every
 * RAM region, calls log_global_start (forward listener order), and
 * re-renders so every RAM range gains the MIGRATION client and listeners
 * get log_start for it (deferred to the outermost commit inside a
 * transaction).  Like every change it is undone if the commit fails:
 * the count goes back, listeners get log_global_stop, and the bitmaps it
 * allocated are freed.
 *
 * Return: 0; -EOVERFLOW when too many starts nest; -ENOMEM or -E2BIG if a
 * bitmap cannot be allocated; or, outside a transaction, a render error.
 * On any error nothing changed.
 */
int memtopo_dirty_log_global_start_locked(struct memtopo_ctx *ctx)
{
	struct memtopo_region **fresh = NULL;
	struct memtopo_undo *u;
	u32 n = 0;
	int ret;

	memtopo_assert_locked(ctx);
	if (ctx->dirty_log_global == UINT_MAX)
		return -EOVERFLOW;
	if (!ctx->dirty_log_global) {
		ret = memtopo_dirty_prepare_global(ctx, &fresh, &n);
		if (ret)
			return ret;
	}
	u = memtopo_undo_push(ctx, MEMTOPO_UNDO_PARITY, NULL);
	if (!u) {
		if (fresh)
			memtopo_dirty_drop_fresh(fresh, n);
		return -ENOMEM;
	}
	u->sub = MEMTOPO_PUNDO_GLOBAL_START;
	u->aux = fresh;
	u->size = n;
	u->pos = ctx;
	if (ctx->dirty_log_global++)
		return memtopo_ctx_settle(ctx);
	memtopo_global_call(ctx, true);
	return memtopo_ctx_changed(ctx);
}
EXPORT_SYMBOL_NS_GPL(memtopo_dirty_log_global_start_locked, MEMTOPO);

/**
 * memtopo_dirty_log_global_stop_locked() - QEMU's
 * memory_global_dirty_log_stop() for one context.
 * @ctx: the context, locked.
 *
 * The last stop re-renders first (listeners get log_stop for MIGRATION),
 * then calls log_global_stop in reverse listener order, as QEMU does.
 *
 * Return: 0, -EINVAL if global logging is not on, -ENOMEM, or a render
 * error (nothing changed then).
 */
int memtopo_dirty_log_global_stop_locked(struct memtopo_ctx *ctx)
{
	struct memtopo_undo *u;
	int ret;

	memtopo_assert_locked(ctx);
	if (!ctx->dirty_log_global)
		return -EINVAL;
	u = memtopo_undo_push(ctx, MEMTOPO_UNDO_PARITY, NULL);
	if (!u)
		return -ENOMEM;
	u->sub = MEMTOPO_PUNDO_GLOBAL_STOP;
	u->pos = ctx;
	if (--ctx->dirty_log_global)
		return memtopo_ctx_settle(ctx);
	/*
	 * Inside a transaction listeners are told now and a failed commit
	 * tells them start again; outside, a failed render undoes the stop
	 * before anyone was told.
	 */
	if (ctx->txn_depth)
		u->flags = 1;
	ret = memtopo_ctx_changed(ctx);
	if (!ret)
		memtopo_global_call(ctx, false);
	return ret;
}
EXPORT_SYMBOL_NS_GPL(memtopo_dirty_log_global_stop_locked, MEMTOPO);

/**
 * memtopo_dirty_undo() - undo (or, with @forget, keep) a global start or
 * stop made since the last commit.
 * @u: its record.
 * @forget: the change was published: drop what the record kept.
 */
void memtopo_dirty_undo(struct memtopo_undo *u, bool forget)
{
	struct memtopo_ctx *ctx = u->pos;

	if (u->sub == MEMTOPO_PUNDO_GLOBAL_START) {
		if (forget) {
			kvfree(u->aux);
			return;
		}
		if (!--ctx->dirty_log_global)
			memtopo_global_call(ctx, false);
		if (u->aux)
			memtopo_dirty_drop_fresh(u->aux, u->size);
		return;
	}
	if (forget)
		return;
	if (!ctx->dirty_log_global++ && u->flags)
		memtopo_global_call(ctx, true);
}

MEMTOPO_LOCKED_WRAPPER(dirty_log_global_start, ctx,
		       (struct memtopo_ctx *ctx),
		       (ctx));

MEMTOPO_LOCKED_WRAPPER(dirty_log_global_stop, ctx,
		       (struct memtopo_ctx *ctx),
		       (ctx));

/**
 * memtopo_region_log_sync_locked() - QEMU's memory_region_sync_dirty_bitmap():
 * ask listeners to push the dirty state they track into the bitmaps.
 * @mr: the region, context locked.
 *
 * Every listener with log_sync gets it, in forward order, for each range
 * of its space's view that shows @mr with a non-empty dirty-log mask.
 */
void memtopo_region_log_sync_locked(struct memtopo_region *mr)
{
	struct memtopo_ctx *ctx = mr->ctx;
	const struct memtopo_view *v;
	const struct memtopo_fr *fr;
	struct memtopo_listener *l;
	struct memtopo_section s;
	struct memtopo_space *as;
	u32 i;

	memtopo_assert_locked(ctx);
	list_for_each_entry(as, &ctx->spaces, link) {
		v = memtopo_space_view_locked(as);
		memtopo_for_each_listener(l, as) {
			if (!l->ops->log_sync)
				continue;
			for (i = 0; i < v->nr; i++) {
				fr = memtopo_view_fr(v, i);
				if (fr->mr != mr || !fr->dirty_log_mask)
					continue;
				memtopo_view_section(v, i, &s);
				l->ops->log_sync(l->priv, &s);
			}
		}
	}
}
EXPORT_SYMBOL_NS_GPL(memtopo_region_log_sync_locked, MEMTOPO);

/*
 * Check a bitmap request: KVM's rules (first page on a 64-page word, the
 * range inside the region).
 */
static int memtopo_dirty_check(struct memtopo_region *mr, unsigned int client,
			       u64 first_page, u64 npages,
			       struct memtopo_dirty_bitmap **bmp)
{
	struct memtopo_region_parity *p;
	u64 pages = memtopo_region_pages(mr);

	if (client >= MEMTOPO_DIRTY_CLIENTS || first_page % 64 || !memtopo_kind_has_ram(mr->kind))
		return -EINVAL;
	if (first_page > pages || npages > pages - first_page)
		return -EINVAL;
	p = memtopo_parity_locked(mr);
	*bmp = p ? rcu_dereference_protected(p->dirty[client],
					     lockdep_is_held(&mr->ctx->lock)) : NULL;
	/* as KVM on a slot that never logged: there is no log to read */
	return *bmp ? 0 : -ENOENT;
}

/**
 * memtopo_dirty_validate_locked() - would a GET or CLEAR of this range work?
 * @mr: the region, context locked.
 * @client: MEMTOPO_DIRTY_*.
 * @first_page: multiple of 64.
 * @npages: pages.
 *
 * Return: 0 or the error memtopo_region_get_dirty_log() would return.
 */
int memtopo_dirty_validate_locked(struct memtopo_region *mr, unsigned int client,
				  u64 first_page, u64 npages)
{
	struct memtopo_dirty_bitmap *bm;

	memtopo_assert_locked(mr->ctx);
	return memtopo_dirty_check(mr, client, first_page, npages, &bm);
}

/*
 * Fetch (and with @clear, atomically clear) @npages bits from @first_page;
 * bits past the bitmap (the region grew) read as dirty.
 */
static void memtopo_dirty_fetch(struct memtopo_dirty_bitmap *bm, u64 first_page,
				u64 npages, u64 *out, bool clear)
{
	u64 i, nwords = DIV_ROUND_UP_ULL(npages, 64);

	for (i = 0; i < nwords; i++) {
		u64 page = first_page + i * 64, want = ~0ULL, have = 0, v = 0;

		if (i == nwords - 1 && npages % 64)
			want = GENMASK_ULL(npages % 64 - 1, 0);
		if (page < bm->npages) {
			if (bm->npages - page < 64)
				have = GENMASK_ULL(bm->npages - page - 1, 0);
			else
				have = ~0ULL;
			have &= want;
			if (!clear)
				v = atomic64_read(&bm->words[page / 64]);
			else if (have == ~0ULL)
				v = atomic64_xchg(&bm->words[page / 64], 0);
			else
				v = atomic64_fetch_andnot(have, &bm->words[page / 64]);
			v &= have;
		}
		out[i] = v | (want & ~have);
	}
}

/**
 * memtopo_region_get_dirty_log() - KVM's GET_DIRTY_LOG for one region and
 * client: log_sync, then copy (and optionally clear) the bitmap.
 * @mr: a RAM-like region.
 * @client: MEMTOPO_DIRTY_*.
 * @first_page: first 4 KiB page, a multiple of 64.
 * @npages: pages to fetch; @first_page + @npages within the region.
 * @bitmap: DIV_ROUND_UP(@npages, 64) words; bit i of word w is page
 *	@first_page + 64 * w + i.
 * @clear: clear what is returned, atomically per word (no bit is lost to
 *	concurrent markers).
 *
 * Context: process context, takes the context mutex.
 * Return: 0; -EINVAL for a bad client, range or region kind; -ENOENT if the
 * client was never enabled on @mr (there is no log).
 */
int memtopo_region_get_dirty_log(struct memtopo_region *mr, unsigned int client,
				 u64 first_page, u64 npages, u64 *bitmap, bool clear)
{
	struct memtopo_dirty_bitmap *bm;
	int ret;

	mutex_lock(&mr->ctx->lock);
	ret = memtopo_dirty_check(mr, client, first_page, npages, &bm);
	if (!ret) {
		memtopo_region_log_sync_locked(mr);
		memtopo_dirty_fetch(bm, first_page, npages, bitmap, clear);
	}
	mutex_unlock(&mr->ctx->lock);
	return ret;
}
EXPORT_SYMBOL_NS_GPL(memtopo_region_get_dirty_log, MEMTOPO);

/**
 * memtopo_dirty_restore_locked() - put back bits fetched-and-cleared whose
 * delivery failed (the ioctl could not copy them out).
 * @mr: the region, context locked.
 * @client: as fetched.
 * @first_page: as fetched.
 * @npages: as fetched.
 * @bitmap: what was fetched.
 */
void memtopo_dirty_restore_locked(struct memtopo_region *mr, unsigned int client,
				  u64 first_page, u64 npages, const u64 *bitmap)
{
	struct memtopo_dirty_bitmap *bm;
	u64 i;

	if (memtopo_dirty_check(mr, client, first_page, npages, &bm))
		return;
	for (i = 0; i < DIV_ROUND_UP_ULL(npages, 64); i++) {
		u64 page = first_page + i * 64;

		if (page < bm->npages && bitmap[i])
			atomic64_or(bitmap[i], &bm->words[page / 64]);
	}
}

/**
 * memtopo_region_get_dirty_log_locked() - memtopo_region_get_dirty_log()
 * without log_sync, for callers fetching a large range in pieces.
 * @mr: the region, context locked.
 * @client: MEMTOPO_DIRTY_*.
 * @first_page: multiple of 64.
 * @npages: pages.
 * @bitmap: output words.
 * @clear: fetch-and-clear.
 *
 * Return: as memtopo_region_get_dirty_log().
 */
int memtopo_region_get_dirty_log_locked(struct memtopo_region *mr, unsigned int client,
					u64 first_page, u64 npages, u64 *bitmap, bool clear)
{
	struct memtopo_dirty_bitmap *bm;
	int ret;

	memtopo_assert_locked(mr->ctx);
	ret = memtopo_dirty_check(mr, client, first_page, npages, &bm);
	if (!ret)
		memtopo_dirty_fetch(bm, first_page, npages, bitmap, clear);
	return ret;
}

/**
 * memtopo_region_clear_dirty_log_locked() - KVM's CLEAR_DIRTY_LOG with the
 * context mutex held.
 * @mr: the region.
 * @client: MEMTOPO_DIRTY_*.
 * @first_page: multiple of 64.
 * @npages: pages covered by @bitmap.
 * @bitmap: the bits to clear.
 *
 * Return: as memtopo_region_clear_dirty_log().
 */
int memtopo_region_clear_dirty_log_locked(struct memtopo_region *mr, unsigned int client,
					  u64 first_page, u64 npages, const u64 *bitmap)
{
	struct memtopo_dirty_bitmap *bm;
	u64 i, nwords = DIV_ROUND_UP_ULL(npages, 64);
	int ret;

	memtopo_assert_locked(mr->ctx);
	ret = memtopo_dirty_check(mr, client, first_page, npages, &bm);
	if (ret)
		return ret;
	for (i = 0; i < nwords; i++) {
		u64 page = first_page + i * 64, bits = bitmap[i];

		if (i == nwords - 1 && npages % 64)
			bits &= GENMASK_ULL(npages % 64 - 1, 0);
		if (page < bm->npages && bits)
			atomic64_andnot(bits, &bm->words[page / 64]);
	}
	return 0;
}

MEMTOPO_LOCKED_WRAPPER(region_clear_dirty_log, mr->ctx,
		       (struct memtopo_region *mr, unsigned int client, u64 first_page, u64 npages,
			const u64 *bitmap),
		       (mr, client, first_page, npages, bitmap));
