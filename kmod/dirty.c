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

/* The region's 4 KiB pages, counted from its last offset so 2^64 bytes fit. */
static u64 memtopo_region_pages(const struct memtopo_region *mr)
{
	if (memtopo_region_empty(mr))
		return 0;
	return (memtopo_region_last_off(mr) >> MEMTOPO_DIRTY_PAGE_SHIFT) + 1;
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

/*
 * Writes that memtopo does not see (a process's mapping of kernel-owned
 * RAM) are marked when they fault; once a page's bit is cleared, or
 * logging starts, the page must fault again on its next write.  Called
 * after the new bits or mask are visible to markers; see "Mappings" in
 * backing.c for why that order loses no write.
 */
static void memtopo_dirty_write_protect(struct memtopo_region *mr, u64 offset, u64 len)
{
	struct memtopo_backing *b = mr->backing;

	if (b && b->ops->write_protect)
		b->ops->write_protect(b, offset, len);
}

/* The pages of @bits (as memtopo_dirty_fetch() lays them out) set, in runs. */
static void memtopo_dirty_write_protect_bits(struct memtopo_region *mr, u64 first_page,
					     u64 npages, const u64 *bits)
{
	u64 i = 0, run;

	if (!mr->backing || !mr->backing->ops->write_protect)
		return;
	while (i < npages) {
		if (!(bits[i / 64] & BIT_ULL(i % 64))) {
			i++;
			continue;
		}
		for (run = 1; i + run < npages && (bits[(i + run) / 64] & BIT_ULL((i + run) % 64));)
			run++;
		memtopo_dirty_write_protect(mr, (first_page + i) << MEMTOPO_DIRTY_PAGE_SHIFT,
					    run << MEMTOPO_DIRTY_PAGE_SHIFT);
		i += run;
	}
}

/**
 * memtopo_dirty_log_on() - @mr's dirty-log mask gained clients and
 * markers can see it: write-protect its memory's user mappings.
 * @mr: the region, context locked.
 *
 * Context: process context; sleeps (page locks).
 */
void memtopo_dirty_log_on(struct memtopo_region *mr)
{
	memtopo_dirty_write_protect(mr, 0, U64_MAX);
}

/* Global logging went on: every region's mappings, as memtopo_dirty_log_on(). */
static void memtopo_dirty_log_on_all(struct memtopo_ctx *ctx)
{
	struct memtopo_region *mr;
	unsigned long id;

	xa_for_each(&ctx->objects, id, mr)
		if (memtopo_kind_has_ram(mr->kind))
			memtopo_dirty_write_protect(mr, 0, U64_MAX);
}

/*
 * log_global_stop, newest first, for every listener of every space up to
 * (not including) @l of @as: the rollback of a refused start (QEMU's
 * memory_global_dirty_log_do_start()).  @l may be the list head of @as's
 * listeners, which stops all of @as's listeners too.
 */
static void memtopo_global_stop_before(struct memtopo_ctx *ctx, struct memtopo_space *as,
				       struct memtopo_listener *l)
{
	for (;;) {
		list_for_each_entry_continue_reverse(l, &as->listeners, link)
			if (l->ops->log_global_stop)
				l->ops->log_global_stop(l->priv);
		if (as->link.prev == &ctx->spaces)
			return;
		as = list_prev_entry(as, link);
		l = list_entry(&as->listeners, struct memtopo_listener, link);
	}
}

/*
 * log_global_start to every listener, forward.  The first refusal stops
 * the listeners started before it, in reverse, and is returned; the one
 * that refused is not stopped (it did not start).
 */
static int memtopo_global_start_listeners(struct memtopo_ctx *ctx)
{
	struct memtopo_listener *l;
	struct memtopo_space *as;
	int ret;

	list_for_each_entry(as, &ctx->spaces, link) {
		memtopo_for_each_listener(l, as) {
			if (!l->ops->log_global_start)
				continue;
			ret = l->ops->log_global_start(l->priv);
			if (ret) {
				memtopo_global_stop_before(ctx, as, l);
				return ret;
			}
		}
	}
	return 0;
}

/* log_global_stop to every listener, in reverse. */
static void memtopo_global_stop_listeners(struct memtopo_ctx *ctx)
{
	struct memtopo_space *as = list_last_entry(&ctx->spaces, struct memtopo_space, link);

	if (list_empty(&ctx->spaces))
		return;
	memtopo_global_stop_before(ctx, as,
				   list_entry(&as->listeners, struct memtopo_listener, link));
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

static bool memtopo_global_reasons_valid(u32 reasons)
{
	return reasons && !(reasons & ~MEMTOPO_DIRTY_REASONS);
}

/**
 * memtopo_global_dirty_log_start_locked() - QEMU's
 * memory_global_dirty_log_start() for one context.
 * @ctx: the context, locked.
 * @reasons: MEMTOPO_DIRTY_REASON_* flags to start.
 *
 * Reasons already on are not started again (QEMU ignores them); if none is
 * new nothing happens.  The first reason allocates the MIGRATION bitmaps
 * of every RAM region, calls log_global_start (forward listener order),
 * and re-renders so every RAM range gains the MIGRATION client and
 * listeners get log_start for it (deferred to the outermost commit inside
 * a transaction).  A listener may refuse log_global_start: the listeners
 * started before it get log_global_stop (reverse order), and everything is
 * as before the call.  Like every change, a start is undone if its commit
 * fails: the reasons go back, listeners get log_global_stop, and the
 * bitmaps it allocated are freed.
 *
 * Context: process context, may sleep; listener callbacks run.
 * Return: 0; -EINVAL for no reason or an unknown one; the errno of a
 * listener that refused; -ENOMEM or -E2BIG if a bitmap cannot be
 * allocated; or, outside a transaction, a render error.  On any error
 * nothing changed.
 */
int memtopo_global_dirty_log_start_locked(struct memtopo_ctx *ctx, u32 reasons)
{
	u32 old = memtopo_ctx_global_dirty(ctx), n = 0;
	struct memtopo_region **fresh = NULL;
	struct memtopo_undo *u;
	int ret;

	memtopo_assert_locked(ctx);
	if (!memtopo_global_reasons_valid(reasons))
		return -EINVAL;
	if (!(reasons & ~old))
		return 0;
	if (!old) {
		ret = memtopo_dirty_prepare_global(ctx, &fresh, &n);
		if (ret)
			return ret;
	}
	u = memtopo_undo_push(ctx, MEMTOPO_UNDO_PARITY, NULL);
	if (IS_ERR(u)) {
		if (fresh)
			memtopo_dirty_drop_fresh(fresh, n);
		return PTR_ERR(u);
	}
	u->sub = MEMTOPO_PUNDO_GLOBAL_START;
	u->aux = fresh;
	u->size = n;
	u->pos = ctx;
	u->addr = old;
	/* as QEMU, listeners already see the new reasons when they start */
	memtopo_ctx_set_global_dirty_locked(ctx, old | reasons);
	if (old)
		return memtopo_ctx_settle(ctx);
	ret = memtopo_global_start_listeners(ctx);
	if (ret) {
		memtopo_ctx_set_global_dirty_locked(ctx, old);
		memtopo_undo_cancel(ctx);
		if (fresh)
			memtopo_dirty_drop_fresh(fresh, n);
		return ret;
	}
	memtopo_dirty_log_on_all(ctx);
	return memtopo_ctx_changed(ctx);
}
EXPORT_SYMBOL_NS_GPL(memtopo_global_dirty_log_start_locked, MEMTOPO);

/**
 * memtopo_global_dirty_log_stop_locked() - QEMU's
 * memory_global_dirty_log_stop() for one context.
 * @ctx: the context, locked.
 * @reasons: MEMTOPO_DIRTY_REASON_* flags to stop, every one of them on.
 *
 * Stopping the last reason re-renders first (listeners get log_stop for
 * MIGRATION), then calls log_global_stop in reverse listener order, as
 * QEMU's memory_global_dirty_log_do_stop() does.
 *
 * Context: process context, may sleep; listener callbacks run.
 * Return: 0; -EINVAL for no reason, an unknown one or one that is not on
 * (QEMU asserts); -ENOMEM; or a render error.  On error nothing changed.
 */
int memtopo_global_dirty_log_stop_locked(struct memtopo_ctx *ctx, u32 reasons)
{
	u32 old = memtopo_ctx_global_dirty(ctx);
	struct memtopo_undo *u;
	int ret;

	memtopo_assert_locked(ctx);
	if (!memtopo_global_reasons_valid(reasons) || (old & reasons) != reasons)
		return -EINVAL;
	u = memtopo_undo_push(ctx, MEMTOPO_UNDO_PARITY, NULL);
	if (IS_ERR(u))
		return PTR_ERR(u);
	u->sub = MEMTOPO_PUNDO_GLOBAL_STOP;
	u->pos = ctx;
	u->addr = old;
	memtopo_ctx_set_global_dirty_locked(ctx, old & ~reasons);
	if (old & ~reasons)
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
		memtopo_global_stop_listeners(ctx);
	return ret;
}
EXPORT_SYMBOL_NS_GPL(memtopo_global_dirty_log_stop_locked, MEMTOPO);

/**
 * memtopo_global_dirty_reasons() - the global dirty-log reasons now on.
 * @ctx: the context.
 *
 * Context: any; lockless (a snapshot unless the caller holds the mutex).
 * Return: MEMTOPO_DIRTY_REASON_* flags, 0 when global logging is off.
 */
u32 memtopo_global_dirty_reasons(struct memtopo_ctx *ctx)
{
	return memtopo_ctx_global_dirty(ctx);
}
EXPORT_SYMBOL_NS_GPL(memtopo_global_dirty_reasons, MEMTOPO);

/**
 * memtopo_dirty_undo() - undo (or, with @forget, keep) a global start or
 * stop made since the last commit.
 * @u: its record.
 * @forget: the change was published: drop what the record kept.
 */
void memtopo_dirty_undo(struct memtopo_undo *u, bool forget)
{
	struct memtopo_ctx *ctx = u->pos;
	u32 now = memtopo_ctx_global_dirty(ctx);

	if (u->sub == MEMTOPO_PUNDO_GLOBAL_START) {
		if (forget) {
			kvfree(u->aux);
			return;
		}
		memtopo_ctx_set_global_dirty_locked(ctx, u->addr);
		if (!u->addr)
			memtopo_global_stop_listeners(ctx);
		if (u->aux)
			memtopo_dirty_drop_fresh(u->aux, u->size);
		return;
	}
	if (forget)
		return;
	memtopo_ctx_set_global_dirty_locked(ctx, u->addr);
	if (!now)
		memtopo_dirty_log_on_all(ctx);
	/*
	 * The listeners were told stop inside the transaction and must run
	 * again.  They ran before, so a refusal now cannot be honoured: it is
	 * only logged.
	 */
	if (!now && u->flags && memtopo_global_start_listeners(ctx))
		pr_warn_ratelimited("a listener refused to restart global dirty logging\n");
}

MEMTOPO_LOCKED_WRAPPER(global_dirty_log_start, ctx,
		       (struct memtopo_ctx *ctx, u32 reasons),
		       (ctx, reasons));

MEMTOPO_LOCKED_WRAPPER(global_dirty_log_stop, ctx,
		       (struct memtopo_ctx *ctx, u32 reasons),
		       (ctx, reasons));

/* memtopo_dirty_sync() for one region: log_sync of each of its ranges that logs */
static void memtopo_dirty_sync_section(const struct memtopo_section *s, void *opaque)
{
	struct memtopo_listener *l = opaque;

	if (s->dirty_log_mask)
		l->ops->log_sync(l->priv, s);
}

/*
 * QEMU's memory_region_sync_dirty_bitmap(): a listener with log_sync gets
 * it for every range of its space's view that logs (and shows @mr, unless
 * @mr is NULL); one with only log_sync_global gets that once, since it
 * cannot sync finer.  Spaces in creation order, listeners forward.  For
 * one region only the windows of the view that can show it are walked
 * (memtopo_space_region_ranges_locked()), not the whole view per listener.
 */
static void memtopo_dirty_sync(struct memtopo_ctx *ctx, struct memtopo_region *mr)
{
	const struct memtopo_view *v;
	struct memtopo_listener *l;
	struct memtopo_view_pos p;
	struct memtopo_section s;
	struct memtopo_space *as;

	memtopo_assert_locked(ctx);
	list_for_each_entry(as, &ctx->spaces, link) {
		v = memtopo_space_view_locked(as);
		memtopo_for_each_listener(l, as) {
			if (!l->ops->log_sync) {
				if (l->ops->log_sync_global)
					l->ops->log_sync_global(l->priv);
				continue;
			}
			if (mr) {
				memtopo_space_region_ranges_locked(as, mr, 0, U64_MAX,
								   memtopo_dirty_sync_section, l);
				continue;
			}
			for (memtopo_pos_walk(&p, v); memtopo_pos_shown(&p, &s);
			     memtopo_pos_next_ahead(&p))
				if (s.dirty_log_mask)
					l->ops->log_sync(l->priv, &s);
		}
	}
}

/**
 * memtopo_region_log_sync_locked() - QEMU's memory_region_sync_dirty_bitmap():
 * ask listeners to push the dirty state they track into the bitmaps.
 * @mr: the region, context locked.
 *
 * Every listener with log_sync gets it, in forward order, for each range
 * of its space's view that shows @mr with a non-empty dirty-log mask; a
 * listener with only log_sync_global gets that instead.
 *
 * Context: process context, the context mutex held; may sleep; listener
 * callbacks run.
 */
void memtopo_region_log_sync_locked(struct memtopo_region *mr)
{
	memtopo_dirty_sync(mr->ctx, mr);
}
EXPORT_SYMBOL_NS_GPL(memtopo_region_log_sync_locked, MEMTOPO);

/**
 * memtopo_global_dirty_log_sync_locked() - QEMU's
 * memory_global_dirty_log_sync(): log_sync for every logging range of
 * every space, log_sync_global for listeners that only sync globally.
 * @ctx: the context, locked.
 *
 * Context: process context, may sleep; listener callbacks run.
 */
void memtopo_global_dirty_log_sync_locked(struct memtopo_ctx *ctx)
{
	memtopo_dirty_sync(ctx, NULL);
}
EXPORT_SYMBOL_NS_GPL(memtopo_global_dirty_log_sync_locked, MEMTOPO);

/**
 * memtopo_global_after_dirty_log_sync_locked() - QEMU's
 * memory_global_after_dirty_log_sync(): log_global_after_sync to every
 * listener, forward, once the bitmaps a global sync filled were read.
 * @ctx: the context, locked.
 *
 * Context: process context, may sleep; listener callbacks run.
 */
void memtopo_global_after_dirty_log_sync_locked(struct memtopo_ctx *ctx)
{
	struct memtopo_listener *l;
	struct memtopo_space *as;

	memtopo_assert_locked(ctx);
	list_for_each_entry(as, &ctx->spaces, link)
		memtopo_for_each_listener(l, as)
			if (l->ops->log_global_after_sync)
				l->ops->log_global_after_sync(l->priv);
}
EXPORT_SYMBOL_NS_GPL(memtopo_global_after_dirty_log_sync_locked, MEMTOPO);

/* What memtopo_region_log_clear_locked() tells one listener. */
struct memtopo_dirty_clear {
	struct memtopo_listener *l;
	u64 lo, hi;	/* the bytes of the region cleared */
};

/* One range of the region: the part of it that meets the cleared bytes. */
static void memtopo_dirty_clear_section(const struct memtopo_section *sec, void *opaque)
{
	const struct memtopo_dirty_clear *c = opaque;
	struct memtopo_section s = *sec;
	u64 slast, a, b;

	/* the section's bytes of the region: [s.offset, slast] */
	slast = s.offset + (s.last - s.start);
	a = max(c->lo, s.offset);
	b = min(c->hi, slast);
	if (a > b)
		return;
	s.start += a - s.offset;
	s.last = s.start + (b - a);
	s.offset = a;
	c->l->ops->log_clear(c->l->priv, &s);
}

/**
 * memtopo_region_log_clear_locked() - QEMU's
 * memory_region_clear_dirty_bitmap(): tell listeners with log_clear that
 * the bits of some pages of @mr were cleared.
 * @mr: the region, context locked.
 * @first_page: first 4 KiB page cleared.
 * @npages: pages cleared.
 *
 * Each listener (spaces in creation order, listeners forward) gets one
 * call per flat range of its view showing @mr that meets the pages, with
 * the section shrunk to the part it meets.
 */
void memtopo_region_log_clear_locked(struct memtopo_region *mr, u64 first_page, u64 npages)
{
	struct memtopo_ctx *ctx = mr->ctx;
	struct memtopo_dirty_clear c;
	struct memtopo_listener *l;
	struct memtopo_space *as;
	u64 last_page;

	memtopo_assert_locked(ctx);
	if (!npages || memtopo_region_empty(mr) ||
	    first_page > (memtopo_region_last_off(mr) >> MEMTOPO_DIRTY_PAGE_SHIFT))
		return;
	last_page = memtopo_region_last_off(mr) >> MEMTOPO_DIRTY_PAGE_SHIFT;
	if (npages - 1 < last_page - first_page)
		last_page = first_page + npages - 1;
	c.lo = first_page << MEMTOPO_DIRTY_PAGE_SHIFT;
	c.hi = (last_page << MEMTOPO_DIRTY_PAGE_SHIFT) | (MEMTOPO_DIRTY_PAGE_SIZE - 1);
	c.hi = min(c.hi, memtopo_region_last_off(mr));
	list_for_each_entry(as, &ctx->spaces, link) {
		memtopo_for_each_listener(l, as) {
			if (!l->ops->log_clear)
				continue;
			c.l = l;
			/* only the windows where the cleared bytes can show */
			memtopo_space_region_ranges_locked(as, mr, c.lo, c.hi,
							   memtopo_dirty_clear_section, &c);
		}
	}
}

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
 *	concurrent markers), then send log_clear for the range.
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

	memtopo_ctx_lock(mr->ctx);
	ret = memtopo_dirty_check(mr, client, first_page, npages, &bm);
	if (!ret) {
		memtopo_region_log_sync_locked(mr);
		memtopo_dirty_fetch(bm, first_page, npages, bitmap, clear);
		if (clear) {
			memtopo_dirty_write_protect_bits(mr, first_page, npages, bitmap);
			memtopo_region_log_clear_locked(mr, first_page, npages);
		}
	}
	memtopo_ctx_unlock(mr->ctx);
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
	if (ret)
		return ret;
	memtopo_dirty_fetch(bm, first_page, npages, bitmap, clear);
	if (clear)
		memtopo_dirty_write_protect_bits(mr, first_page, npages, bitmap);
	return 0;
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
	memtopo_dirty_write_protect_bits(mr, first_page, npages, bitmap);
	memtopo_region_log_clear_locked(mr, first_page, npages);
	return 0;
}

MEMTOPO_LOCKED_WRAPPER(region_clear_dirty_log, mr->ctx,
		       (struct memtopo_region *mr, unsigned int client, u64 first_page, u64 npages,
			const u64 *bitmap),
		       (mr, client, first_page, npages, bitmap));

/**
 * memtopo_region_set_log_locked() - QEMU's memory_region_set_log(): take or
 * drop one reference on a region's VGA logging.
 * @mr: the region, context locked.
 * @on: take (true) or drop (false) a reference.
 * @client: MEMTOPO_DIRTY_VGA (QEMU asserts it is the only one).
 *
 * The VGA client is enabled when the count goes from 0 to 1 and disabled
 * when it goes back to 0 (memtopo_region_set_dirty_log_locked(): log_start
 * and log_stop as usual); other changes of the count only count.  The
 * count is undone with the transaction like any change.
 *
 * Context: process context, may sleep; listener callbacks may run.
 * Return: 0; -EINVAL for another client or dropping a reference that was
 * never taken; -ENOENT if @mr was destroyed; -EOVERFLOW past U32_MAX
 * references; -ENOMEM, -E2BIG (the region is too large for a bitmap) or,
 * outside a transaction, a render error.  On error nothing changed.
 */
int memtopo_region_set_log_locked(struct memtopo_region *mr, bool on, unsigned int client)
{
	struct memtopo_ctx *ctx = mr->ctx;
	struct memtopo_region_parity *p;
	struct memtopo_undo *u;
	u32 old, mark;
	int ret = 0;

	memtopo_assert_locked(ctx);
	if (client != MEMTOPO_DIRTY_VGA)
		return -EINVAL;
	ret = memtopo_region_check_live(mr);
	if (ret)
		return ret;
	p = memtopo_parity_locked(mr);
	old = p ? p->vga_logging_count : 0;
	if (!on && !old)
		return -EINVAL;
	if (on && old == U32_MAX)
		return -EOVERFLOW;
	p = memtopo_parity_get(mr);
	if (!p)
		return -ENOMEM;
	/* the mask and the count change together or not at all */
	memtopo_transaction_begin_locked(ctx);
	mark = memtopo_undo_mark(ctx);
	if (!old != !(on ? old + 1 : old - 1))
		ret = memtopo_region_set_dirty_log_locked(mr, MEMTOPO_DIRTY_VGA, on);
	u = ret ? ERR_PTR(ret) : memtopo_undo_push(ctx, MEMTOPO_UNDO_PARITY, mr);
	if (IS_ERR(u)) {
		memtopo_transaction_abort_locked(ctx, mark);
		return PTR_ERR(u);
	}
	u->sub = MEMTOPO_PUNDO_VGA_COUNT;
	u->addr = old;
	p->vga_logging_count = on ? old + 1 : old - 1;
	return memtopo_transaction_commit_locked(ctx);
}
EXPORT_SYMBOL_NS_GPL(memtopo_region_set_log_locked, MEMTOPO);

MEMTOPO_LOCKED_WRAPPER(region_set_log, mr->ctx,
		       (struct memtopo_region *mr, bool on, unsigned int client),
		       (mr, on, client));

/**
 * memtopo_region_vga_logging_count() - QEMU's vga_logging_count: how many
 * VGA logging references memtopo_region_set_log() holds on a region.
 * @mr: the region.
 *
 * Context: process context; takes the context mutex.
 * Return: the count.
 */
u32 memtopo_region_vga_logging_count(struct memtopo_region *mr)
{
	struct memtopo_region_parity *p;
	u32 n;

	memtopo_ctx_lock(mr->ctx);
	p = memtopo_parity_locked(mr);
	n = p ? p->vga_logging_count : 0;
	memtopo_ctx_unlock(mr->ctx);
	return n;
}
EXPORT_SYMBOL_NS_GPL(memtopo_region_vga_logging_count, MEMTOPO);

/**
 * memtopo_dirty_count_undo() - undo a VGA logging count change made since
 * the last commit (the mask change it caused has its own record).
 * @u: its record.
 */
void memtopo_dirty_count_undo(struct memtopo_undo *u)
{
	struct memtopo_region *mr = u->obj;

	memtopo_parity_locked(mr)->vga_logging_count = u->addr;
}
