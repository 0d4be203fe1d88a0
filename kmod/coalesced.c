// SPDX-License-Identifier: GPL-2.0
/*
 * Coalesced MMIO: ranges of an I/O region whose writes a hypervisor may
 * buffer (QEMU's memory_region_add_coalescing()).  Listeners see the parts
 * visible in their space's view:
 *  - in a commit, a range that leaves gets coalesced_io_del for the whole
 *    flat range before its region_del (reverse order); a range that comes
 *    gets coalesced_io_add for each coalescing range it shows, after its
 *    region_add (forward order), as address_space_update_topology_pass();
 *  - adding or removing a coalescing range re-reports every flat range of
 *    the region at once (QEMU's memory_region_update_coalesced_range()),
 *    even inside a transaction.
 * One deliberate difference: when a region's last coalescing range goes,
 * QEMU sends no coalesced_io_del (flat_range_coalesced_io_del() checks the
 * already-emptied list); we report the deletion.
 * A size argument of 0 stands for 2^64 (only the range covering the whole
 * space has that size).
 */
#include <linux/export.h>
#include <linux/slab.h>

#include "parity.h"

static bool memtopo_coalescing_allowed(const struct memtopo_region *mr)
{
	return mr->kind == MEMTOPO_IO || mr->kind == MEMTOPO_ROM_DEVICE;
}

/**
 * memtopo_coalesced_fr_del() - a flat range showing a coalescing region
 * leaves: tell listeners before its region_del.
 * @as: the space, context locked.
 * @s: the range.
 */
void memtopo_coalesced_fr_del(struct memtopo_space *as, const struct memtopo_section *s)
{
	struct memtopo_region_parity *p = memtopo_parity_locked(s->mr);
	struct memtopo_listener *l;

	if (!p || list_empty(&p->coalesced))
		return;
	memtopo_for_each_listener_reverse(l, as)
		if (l->ops->coalesced_io_del)
			l->ops->coalesced_io_del(l->priv, s, s->start, s->last - s->start + 1);
}

/* Report @s's coalescing parts to one listener, or to all when @only is NULL. */
static void memtopo_coalesced_fr_add_to(struct memtopo_space *as,
					const struct memtopo_section *s,
					struct memtopo_listener *only)
{
	struct memtopo_region_parity *p = memtopo_parity_locked(s->mr);
	struct memtopo_listener *l;
	u64 ro_last = s->offset + (s->last - s->start);
	struct memtopo_coalesced_range *c;

	if (!p)
		return;
	list_for_each_entry(c, &p->coalesced, link) {
		u64 first = max(c->offset, s->offset);
		u64 last = min(c->offset + c->size - 1, ro_last);
		u64 addr = s->start + (first - s->offset);

		if (first > last)
			continue;
		if (only) {
			if (only->ops->coalesced_io_add)
				only->ops->coalesced_io_add(only->priv, s, addr, last - first + 1);
			continue;
		}
		memtopo_for_each_listener(l, as)
			if (l->ops->coalesced_io_add)
				l->ops->coalesced_io_add(l->priv, s, addr, last - first + 1);
	}
}

/**
 * memtopo_coalesced_fr_add() - a flat range showing a coalescing region
 * came: tell listeners after its region_add.
 * @as: the space, context locked.
 * @s: the range.
 */
void memtopo_coalesced_fr_add(struct memtopo_space *as, const struct memtopo_section *s)
{
	memtopo_coalesced_fr_add_to(as, s, NULL);
}

struct memtopo_coalesced_redo {
	struct memtopo_space *as;
	bool had_ranges;
};

static void memtopo_coalesced_redo_range(const struct memtopo_section *s, void *opaque)
{
	struct memtopo_coalesced_redo *r = opaque;
	struct memtopo_listener *l;

	if (r->had_ranges)
		memtopo_for_each_listener_reverse(l, r->as)
			if (l->ops->coalesced_io_del)
				l->ops->coalesced_io_del(l->priv, s, s->start,
							 s->last - s->start + 1);
	memtopo_coalesced_fr_add_to(r->as, s, NULL);
}

/*
 * Re-report every flat range of @mr in every space of its context: found
 * where @mr can show (memtopo_space_region_ranges_locked()), not by a
 * walk of each view.
 */
static void memtopo_coalesced_update(struct memtopo_region *mr, bool had_ranges)
{
	struct memtopo_coalesced_redo r = { .had_ranges = had_ranges };

	list_for_each_entry(r.as, &mr->ctx->spaces, link)
		if (!list_empty(&r.as->listeners))
			memtopo_space_region_ranges_locked(r.as, mr, 0, U64_MAX,
							   memtopo_coalesced_redo_range, &r);
}

/**
 * memtopo_region_add_coalescing_locked() - make part of an I/O region
 * coalesced MMIO.
 * @mr: an I/O or ROM device region, context locked.
 * @offset: first byte within @mr.
 * @size: bytes, at least 1, within @mr.
 *
 * Context: process context, the context mutex held; may sleep.
 * Return: 0; -EINVAL for another region kind or a range outside @mr;
 * -ENOENT if @mr was destroyed; -EEXIST if exactly this range is already
 * there; -ENOSPC past the context's memory budget (the change's undo
 * record); -ENOMEM.  On error nothing changed.
 */
int memtopo_region_add_coalescing_locked(struct memtopo_region *mr, u64 offset, u64 size)
{
	struct memtopo_region_parity *p;
	struct memtopo_coalesced_range *c;
	struct memtopo_undo *u;
	bool had;
	int ret;

	memtopo_assert_locked(mr->ctx);
	if (!memtopo_coalescing_allowed(mr) || !size ||
	    memtopo_region_empty(mr) || offset > memtopo_region_last_off(mr) ||
	    size - 1 > memtopo_region_last_off(mr) - offset)
		return -EINVAL;
	ret = memtopo_region_check_live(mr);
	if (ret)
		return ret;
	p = memtopo_parity_locked(mr);
	if (p)
		list_for_each_entry(c, &p->coalesced, link)
			if (c->offset == offset && c->size == size)
				return -EEXIST;
	p = memtopo_parity_get(mr);
	if (!p)
		return -ENOMEM;
	c = kzalloc(sizeof(*c), GFP_KERNEL_ACCOUNT);
	if (!c)
		return -ENOMEM;
	u = memtopo_undo_push(mr->ctx, MEMTOPO_UNDO_PARITY, mr);
	if (IS_ERR(u)) {
		kfree(c);
		return PTR_ERR(u);
	}
	u->sub = MEMTOPO_PUNDO_COALESCED_ADD;
	u->aux = c;
	c->offset = offset;
	c->size = size;
	had = !list_empty(&p->coalesced);
	list_add_tail(&c->link, &p->coalesced);
	memtopo_coalesced_update(mr, had);
	/* reported already: this only forgets the record outside a transaction */
	memtopo_ctx_settle(mr->ctx);
	return 0;
}
EXPORT_SYMBOL_NS_GPL(memtopo_region_add_coalescing_locked, MEMTOPO);

/**
 * memtopo_region_del_coalescing_locked() - remove one coalescing range.
 * @mr: the region, context locked.
 * @offset: as added.
 * @size: as added.
 *
 * Context: process context, the context mutex held; may sleep.
 * Return: 0, -ENOENT if @mr was destroyed or there is no such range,
 * -ENOSPC past the context's memory budget or -ENOMEM for the change's
 * undo record (nothing changed).
 */
int memtopo_region_del_coalescing_locked(struct memtopo_region *mr, u64 offset, u64 size)
{
	struct memtopo_region_parity *p = memtopo_parity_locked(mr);
	struct memtopo_coalesced_range *c;
	struct memtopo_undo *u;
	int ret;

	memtopo_assert_locked(mr->ctx);
	ret = memtopo_region_check_live(mr);
	if (ret)
		return ret;
	if (!p)
		return -ENOENT;
	list_for_each_entry(c, &p->coalesced, link) {
		if (c->offset != offset || c->size != size)
			continue;
		u = memtopo_undo_push(mr->ctx, MEMTOPO_UNDO_PARITY, mr);
		if (IS_ERR(u))
			return PTR_ERR(u);
		/* the record keeps the range until the commit */
		u->sub = MEMTOPO_PUNDO_COALESCED_DEL;
		u->aux = c;
		u->pos = c->link.prev;
		list_del(&c->link);
		memtopo_coalesced_update(mr, true);
		memtopo_ctx_settle(mr->ctx);
		return 0;
	}
	return -ENOENT;
}
EXPORT_SYMBOL_NS_GPL(memtopo_region_del_coalescing_locked, MEMTOPO);

/**
 * memtopo_region_clear_coalescing_locked() - remove every coalescing range.
 * @mr: the region, context locked.
 *
 * Context: process context, the context mutex held; may sleep.
 * Return: 0, -ENOENT if @mr was destroyed, -ENOSPC past the context's
 * memory budget or -ENOMEM for the change's undo record (nothing removed).
 */
int memtopo_region_clear_coalescing_locked(struct memtopo_region *mr)
{
	struct memtopo_region_parity *p = memtopo_parity_locked(mr);
	struct memtopo_undo *u;
	int ret;

	memtopo_assert_locked(mr->ctx);
	ret = memtopo_region_check_live(mr);
	if (ret)
		return ret;
	if (!p || list_empty(&p->coalesced))
		return 0;
	u = memtopo_undo_push(mr->ctx, MEMTOPO_UNDO_PARITY, mr);
	if (IS_ERR(u))
		return PTR_ERR(u);
	/* the record keeps the ranges until the commit */
	u->sub = MEMTOPO_PUNDO_COALESCED_CLEAR;
	list_splice_init(&p->coalesced, &u->list);
	memtopo_coalesced_update(mr, true);
	return memtopo_ctx_settle(mr->ctx);
}
EXPORT_SYMBOL_NS_GPL(memtopo_region_clear_coalescing_locked, MEMTOPO);

/**
 * memtopo_region_list_coalescing_locked() - a region's coalescing ranges,
 * in the order they were added.
 * @mr: the region, context locked.
 * @out: filled with up to @max ranges (may be NULL when @max is 0).
 * @max: capacity of @out.
 *
 * Context: process context, the context mutex held.
 * Return: how many ranges the region has; when that is more than @max
 * only the first @max were written.
 */
u32 memtopo_region_list_coalescing_locked(struct memtopo_region *mr,
					  struct memtopo_coalescing_info *out, u32 max)
{
	struct memtopo_region_parity *p;
	struct memtopo_coalesced_range *c;
	u32 n = 0;

	memtopo_assert_locked(mr->ctx);
	p = memtopo_parity_locked(mr);
	if (!p)
		return 0;
	list_for_each_entry(c, &p->coalesced, link) {
		if (n < max)
			out[n] = (struct memtopo_coalescing_info){ c->offset, c->size };
		n++;
	}
	return n;
}
EXPORT_SYMBOL_NS_GPL(memtopo_region_list_coalescing_locked, MEMTOPO);

MEMTOPO_LOCKED_WRAPPER(region_add_coalescing, mr->ctx,
		       (struct memtopo_region *mr, u64 offset, u64 size),
		       (mr, offset, size));

MEMTOPO_LOCKED_WRAPPER(region_del_coalescing, mr->ctx,
		       (struct memtopo_region *mr, u64 offset, u64 size),
		       (mr, offset, size));

MEMTOPO_LOCKED_WRAPPER(region_clear_coalescing, mr->ctx,
		       (struct memtopo_region *mr),
		       (mr));

/**
 * memtopo_coalesced_replay() - tell one listener about every visible
 * coalescing range, as it registers (@add) or unregisters.
 * @l: the listener, its space's context locked.
 * @add: coalesced_io_add for each part, else coalesced_io_del per range.
 */
void memtopo_coalesced_replay(struct memtopo_listener *l, bool add)
{
	const struct memtopo_view *v = memtopo_space_view_locked(l->space);
	struct memtopo_region_parity *p;
	struct memtopo_view_pos pos;
	struct memtopo_section s;

	/* a listener without the call this replay makes need not wait for its walk */
	if (!(add ? l->ops->coalesced_io_add : l->ops->coalesced_io_del))
		return;
	for (memtopo_pos_walk(&pos, v); memtopo_pos_shown(&pos, &s); memtopo_pos_next_ahead(&pos)) {
		if (add) {
			memtopo_coalesced_fr_add_to(l->space, &s, l);
			continue;
		}
		p = memtopo_parity_locked(s.mr);
		if (p && !list_empty(&p->coalesced))
			l->ops->coalesced_io_del(l->priv, &s, s.start, s.last - s.start + 1);
	}
}

/**
 * memtopo_coalesced_free() - free a dying region's coalescing ranges.
 * @p: its parity state; nothing can reach it.
 */
void memtopo_coalesced_free(struct memtopo_region_parity *p)
{
	struct memtopo_coalesced_range *c, *tmp;

	list_for_each_entry_safe(c, tmp, &p->coalesced, link)
		kfree(c);
}

/**
 * memtopo_coalesced_undo() - undo (or, with @forget, keep) a coalescing
 * change made since the last commit.
 * @u: its record.
 * @forget: the change was published: free what the record kept.
 *
 * Listeners were told of the change at once, so they are told of its undo
 * the same way.
 */
void memtopo_coalesced_undo(struct memtopo_undo *u, bool forget)
{
	struct memtopo_region *mr = u->obj;
	struct memtopo_region_parity *p = memtopo_parity_locked(mr);
	struct memtopo_coalesced_range *c = u->aux, *tmp;
	bool had = !list_empty(&p->coalesced);

	switch (u->sub) {
	case MEMTOPO_PUNDO_COALESCED_ADD:
		if (forget)
			return;
		list_del(&c->link);
		kfree(c);
		memtopo_coalesced_update(mr, true);
		return;
	case MEMTOPO_PUNDO_COALESCED_DEL:
		if (forget) {
			kfree(c);
			return;
		}
		/* back where it was: the list is as the delete left it */
		list_add(&c->link, u->pos);
		break;
	case MEMTOPO_PUNDO_COALESCED_CLEAR:
		if (forget) {
			list_for_each_entry_safe(c, tmp, &u->list, link)
				kfree(c);
			return;
		}
		list_splice_init(&u->list, &p->coalesced);
		break;
	}
	memtopo_coalesced_update(mr, had);
}
