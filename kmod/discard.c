// SPDX-License-Identifier: GPL-2.0
/*
 * RAM discard: QEMU's RamDiscardManager (include/exec/memory.h) with the
 * semantics of its one full implementation, hw/virtio/virtio-mem.c.  A RAM
 * region's manager cuts its first bytes into blocks of a granularity, each
 * populated (plugged) or discarded, and tells the RamDiscardListeners
 * registered on sections of the region.
 *
 * Order, as virtio-mem:
 *  - listeners are kept newest first (virtio_mem_rdm_register_listener()
 *    inserts at the head of rdl_list) and every notification walks them
 *    from the head (virtio_mem_notify_plug() / _unplug());
 *  - a populate goes over the discarded runs of its range in ascending
 *    order (virtio_mem_for_each_unplugged_range()); a listener that vetoes
 *    a run stops it, the listeners before it hear that run discarded
 *    (virtio_mem_notify_plug()'s undo), every run accepted before hears it
 *    discarded, and the state is left unchanged; the state is written only
 *    once every listener accepted (virtio_mem_set_block_state());
 *  - a discard goes over the populated runs in ascending order, all
 *    listeners hearing each, and clears the state afterwards;
 *  - registering replays the populated parts of the section in ascending
 *    order as notify_populate (virtio_mem_rdm_register_listener()); where
 *    QEMU only reports a replay that fails, we roll the registration back
 *    (the listeners hear the replayed parts discarded) and fail it, so a
 *    failed call changes nothing;
 *  - unregistering, the space going, or the section leaving its view
 *    (memtopo_hook_range_del(), before the region_del of memory listeners,
 *    as QEMU's vfio_listener_region_del() unregisters first) sends
 *    notify_discard for every populated part of the section, ascending
 *    (virtio_mem_rdm_unregister_listener() without double discard).  A
 *    listener whose section left is dead: it hears nothing more and is
 *    only waiting for its owner to unregister it.
 *
 * Every function runs under the context mutex; nothing here is read under
 * RCU.  A registered listener holds a reference on the region, so the
 * manager (freed with the region) outlives it.
 */
#include <linux/export.h>
#include <linux/list.h>
#include <linux/slab.h>

#include "events.h"
#include "parity.h"

struct memtopo_discard_mgr {
	u64 granularity;
	u64 size;		/* bytes covered: the region's size when set */
	u64 nr_blocks;
	u64 nr_populated;
	/* newest first, as QEMU's rdl_list */
	struct list_head listeners;
	u64 bits[];		/* bit set: block populated */
};

/*
 * What a manager costs the context's budget: its bitmap, charged from
 * memtopo_region_set_discard_manager_locked() until it is cleared or the
 * region's destroy is published (memtopo_discard_uncharge()), under the
 * context mutex both times.  The memory itself may stay until the region
 * is freed, after its last reference, maybe after the context: it is
 * never charged to a context that may be gone.
 */
static size_t memtopo_discard_bytes(u64 nr_blocks)
{
	struct memtopo_discard_mgr *d;

	return struct_size(d, bits, DIV_ROUND_UP_ULL(nr_blocks, 64));
}

static bool memtopo_discard_test(const struct memtopo_discard_mgr *d, u64 b)
{
	return d->bits[b / 64] & BIT_ULL(b % 64);
}

/* The first block in [@b, @end) whose state is @populated, or @end. */
static u64 memtopo_discard_next(const struct memtopo_discard_mgr *d, u64 b, u64 end, bool populated)
{
	while (b < end) {
		u64 w = d->bits[b / 64];

		if (!populated)
			w = ~w;
		w &= ~0ULL << (b % 64);
		if (w)
			return min_t(u64, end, (b & ~63ULL) + __builtin_ctzll(w));
		b = (b & ~63ULL) + 64;
	}
	return end;
}

/*
 * Step to the next maximal run [*@b, *@e) of blocks in state @populated
 * that starts at or after *@e and before @end; a walk starts with *@e at
 * its first block.  Return: false when no run is left.
 */
static bool memtopo_discard_run(const struct memtopo_discard_mgr *d, u64 *b, u64 *e, u64 end,
				bool populated)
{
	*b = memtopo_discard_next(d, *e, end, populated);
	if (*b >= end)
		return false;
	*e = memtopo_discard_next(d, *b, end, !populated);
	return true;
}

static void memtopo_discard_assign(struct memtopo_discard_mgr *d, u64 b, u64 end, bool populated)
{
	for (; b < end; b++) {
		if (memtopo_discard_test(d, b) == populated)
			continue;
		d->bits[b / 64] ^= BIT_ULL(b % 64);
		if (populated)
			d->nr_populated++;
		else
			d->nr_populated--;
	}
}

/*
 * Could a view show @mr?  A manager comes and goes only while none can:
 * memory listeners learn of it in region_add (QEMU's VFIO checks for one
 * there), so one set under a mapped region would go unseen.  virtio-mem
 * sets its manager before its memory is mapped.
 */
static bool memtopo_discard_placed(const struct memtopo_region *mr)
{
	return mr->parent || mr->alias_users || memtopo_region_space_users(mr);
}

static struct memtopo_discard_mgr *memtopo_discard_of(const struct memtopo_region *mr)
{
	const struct memtopo_region_parity *p = memtopo_parity_locked(mr);

	return p ? p->discard : NULL;
}

/* The region offset of a section's last byte (a section may be 2^64 bytes). */
static u64 memtopo_section_last_off(const struct memtopo_section *s)
{
	return s->offset + (s->last - s->start);
}

/*
 * QEMU's virtio_mem_intersect_memory_section(): @s cut to the region
 * bytes [@off, @off + @len), which lie inside the manager.  Return: false
 * if nothing is left.
 */
static bool memtopo_discard_intersect(const struct memtopo_section *s, u64 off, u64 len,
				      struct memtopo_section *out)
{
	u64 start = max(s->offset, off);
	u64 last = min(memtopo_section_last_off(s), off + len - 1);

	if (start > last)
		return false;
	*out = *s;
	out->start = s->start + (start - s->offset);
	out->last = out->start + (last - start);
	out->offset = start;
	return true;
}

/*
 * Userspace subscriptions (kmod/events.h) see a managed region as a
 * listener on each of its ranges would: DISCARD_POPULATE / _DISCARD for
 * every part of a range whose state changes, its populated parts as
 * DISCARD_POPULATE right after its REGION_ADD and as DISCARD_DISCARD right
 * before its REGION_DEL, so a subscriber holds exactly the populated parts
 * from its events alone.  A vetoed populate is never shown.
 */
struct memtopo_discard_emit {
	struct memtopo_space *as;
	struct memtopo_listener *only;	/* one subscription's replay, else all */
	u32 type;
};

static int memtopo_discard_emit_part(const struct memtopo_section *part, void *opaque)
{
	struct memtopo_discard_emit *e = opaque;
	struct memtopo_event ev;

	memtopo_event_init(&ev, e->type, part);
	ev.discard.offset = part->offset;
	ev.discard.length = part->last - part->start + 1;
	if (e->only)
		e->only->ops->event(e->only->priv, &ev);
	else
		memtopo_space_emit_event_locked(e->as, &ev);
	return 0;
}

struct memtopo_discard_emit_run {
	struct memtopo_discard_emit e;
	u64 off, len;
};

static void memtopo_discard_emit_range(const struct memtopo_section *s, void *opaque)
{
	struct memtopo_discard_emit_run *r = opaque;
	struct memtopo_section part;

	if (memtopo_discard_intersect(s, r->off, r->len, &part))
		memtopo_discard_emit_part(&part, &r->e);
}

/* [@off, @off + @len) of @mr changed state: tell every subscription. */
static void memtopo_discard_emit_change(struct memtopo_region *mr, u64 off, u64 len, u32 type)
{
	struct memtopo_discard_emit_run r = { .e.type = type, .off = off, .len = len };
	struct memtopo_space *as;

	list_for_each_entry(as, &mr->ctx->spaces, link) {
		if (!memtopo_space_subscribed_locked(as))
			continue;
		r.e.as = as;
		memtopo_space_region_ranges_locked(as, mr, off, off + len - 1,
						   memtopo_discard_emit_range, &r);
	}
}

/* notify_discard of [@off, @off + @len) to the live listeners, up to @stop. */
static void memtopo_discard_notify_unplug(struct memtopo_discard_mgr *d, u64 off, u64 len,
					  struct memtopo_discard_listener *stop)
{
	struct memtopo_discard_listener *dl;
	struct memtopo_section tmp;

	list_for_each_entry(dl, &d->listeners, link) {
		if (dl == stop)
			break;
		if (dl->live && memtopo_discard_intersect(&dl->section, off, len, &tmp))
			dl->ops->notify_discard(dl, &tmp);
	}
}

/* QEMU's virtio_mem_notify_plug(): all or nothing for one run. */
static int memtopo_discard_notify_plug(struct memtopo_discard_mgr *d, u64 off, u64 len)
{
	struct memtopo_discard_listener *dl;
	struct memtopo_section tmp;
	int ret;

	list_for_each_entry(dl, &d->listeners, link) {
		if (!dl->live || !memtopo_discard_intersect(&dl->section, off, len, &tmp))
			continue;
		ret = dl->ops->notify_populate(dl, &tmp);
		if (ret) {
			memtopo_discard_notify_unplug(d, off, len, dl);
			return ret;
		}
	}
	return 0;
}

/*
 * Check [@offset, @offset + @size) against @mr's manager.  Return: the
 * manager, or an ERR_PTR(): -ENOENT (destroyed region, no manager),
 * -EOVERFLOW (past 2^64), -EINVAL (empty, unaligned or past the manager).
 */
static struct memtopo_discard_mgr *memtopo_discard_range(struct memtopo_region *mr,
							 u64 offset, u64 size)
{
	struct memtopo_discard_mgr *d;
	int ret;

	memtopo_assert_locked(mr->ctx);
	ret = memtopo_region_check_live(mr);
	if (ret)
		return ERR_PTR(ret);
	d = memtopo_discard_of(mr);
	if (!d)
		return ERR_PTR(-ENOENT);
	if (size > U64_MAX - offset)
		return ERR_PTR(-EOVERFLOW);
	if (!size || offset % d->granularity || size % d->granularity ||
	    offset + size > d->size)
		return ERR_PTR(-EINVAL);
	return d;
}

/* What memtopo_region_set_discard_manager_locked() refuses; *@nr: its blocks. */
static int memtopo_discard_set_check(struct memtopo_region *mr, u64 granularity, u64 *nr)
{
	int ret;

	memtopo_assert_locked(mr->ctx);
	ret = memtopo_region_check_live(mr);
	if (ret)
		return ret;
	if (mr->kind != MEMTOPO_RAM && mr->kind != MEMTOPO_RAM_DEVICE)
		return -EINVAL;
	/* a 2^64-byte region is refused, so its size is last_off + 1 */
	if (granularity < MEMTOPO_DISCARD_MIN_GRANULARITY || (granularity & (granularity - 1)) ||
	    memtopo_region_empty(mr) || memtopo_region_last_off(mr) == U64_MAX ||
	    (memtopo_region_last_off(mr) + 1) % granularity)
		return -EINVAL;
	if (memtopo_discard_of(mr) || memtopo_discard_placed(mr))
		return -EBUSY;
	*nr = (memtopo_region_last_off(mr) + 1) / granularity;
	return *nr > MEMTOPO_DISCARD_MAX_BLOCKS ? -E2BIG : 0;
}

/**
 * memtopo_region_set_discard_manager_locked() - give a RAM region a discard
 * manager (QEMU's memory_region_set_ram_discard_manager()); every block
 * starts discarded, as virtio-mem's memory does.
 * @mr: a MEMTOPO_RAM or MEMTOPO_RAM_DEVICE region, context locked.
 * @granularity: block size: a power of two, at least
 *	MEMTOPO_DISCARD_MIN_GRANULARITY, dividing the region's size.
 *
 * The manager covers the region's size now; a later resize does not change
 * it.  It must be set before the region is placed anywhere (a subregion, a
 * space's root, an alias's target), as virtio-mem does: memory listeners
 * look for it when a range is added.
 *
 * Context: process context, context mutex held; may sleep.
 * Return: 0; -ENOENT for a destroyed region; -EINVAL for another kind, an
 * empty or 2^64-byte region or a bad granularity; -EBUSY if the region has
 * a manager already (as QEMU) or is placed; -E2BIG past
 * MEMTOPO_DISCARD_MAX_BLOCKS blocks; -ENOSPC if the bitmap (a bit a block)
 * passes the context's memory budget; -ENOMEM.  On failure nothing changed.
 */
int memtopo_region_set_discard_manager_locked(struct memtopo_region *mr, u64 granularity)
{
	struct memtopo_region_parity *p;
	struct memtopo_discard_mgr *d;
	u64 nr;
	int ret;

	ret = memtopo_discard_set_check(mr, granularity, &nr);
	if (ret)
		return ret;
	p = memtopo_parity_get(mr);
	if (!p)
		return -ENOMEM;
	if (memtopo_ctx_charge_locked(mr->ctx, memtopo_discard_bytes(nr)))
		return -ENOSPC;
	d = kvzalloc(memtopo_discard_bytes(nr), GFP_KERNEL_ACCOUNT);
	if (!d) {
		memtopo_ctx_uncharge_locked(mr->ctx, memtopo_discard_bytes(nr));
		return -ENOMEM;
	}
	d->granularity = granularity;
	d->size = nr * granularity;
	d->nr_blocks = nr;
	INIT_LIST_HEAD(&d->listeners);
	p->discard = d;
	return 0;
}
EXPORT_SYMBOL_NS_GPL(memtopo_region_set_discard_manager_locked, MEMTOPO);

MEMTOPO_LOCKED_WRAPPER(region_set_discard_manager, mr->ctx,
		       (struct memtopo_region *mr, u64 granularity),
		       (mr, granularity));

/* What memtopo_region_clear_discard_manager_locked() refuses; *@d: the manager. */
static int memtopo_discard_clear_check(struct memtopo_region *mr,
				       struct memtopo_discard_mgr **d)
{
	int ret;

	memtopo_assert_locked(mr->ctx);
	ret = memtopo_region_check_live(mr);
	if (ret)
		return ret;
	*d = memtopo_discard_of(mr);
	if (!*d)
		return -ENOENT;
	if (!list_empty(&(*d)->listeners) || memtopo_discard_placed(mr))
		return -EBUSY;
	return 0;
}

/**
 * memtopo_region_clear_discard_manager_locked() - remove a region's discard
 * manager (QEMU's memory_region_set_ram_discard_manager(mr, NULL)); its
 * state is forgotten.
 * @mr: the region, context locked.
 *
 * Context: process context, context mutex held.
 * Return: 0; -ENOENT for a destroyed region or one without a manager;
 * -EBUSY while a discard listener is registered on it (dead ones too) or
 * while it is placed (a subregion, a space's root, an alias's target).
 */
int memtopo_region_clear_discard_manager_locked(struct memtopo_region *mr)
{
	struct memtopo_region_parity *p;
	struct memtopo_discard_mgr *d;
	int ret;

	ret = memtopo_discard_clear_check(mr, &d);
	if (ret)
		return ret;
	p = memtopo_parity_locked(mr);
	p->discard = NULL;
	memtopo_ctx_uncharge_locked(mr->ctx, memtopo_discard_bytes(d->nr_blocks));
	kvfree(d);
	return 0;
}
EXPORT_SYMBOL_NS_GPL(memtopo_region_clear_discard_manager_locked, MEMTOPO);

/**
 * memtopo_region_populate_locked() - populate (plug) a range: QEMU's
 * virtio_mem_set_block_state(plug = true).
 * @mr: a region with a discard manager, context locked.
 * @offset: first byte, a multiple of the granularity.
 * @size: bytes, a non-zero multiple of the granularity, within the manager.
 *
 * The discarded runs of the range are offered to the listeners in
 * ascending order; blocks already populated stay so and are not
 * announced again.
 *
 * Context: process context, context mutex held; listeners may sleep.
 * Return: 0; -ENOENT for a destroyed region or one without a manager;
 * -EINVAL for an empty, unaligned or out-of-range range; -EOVERFLOW past
 * 2^64; or the errno of the listener that vetoed: then every listener that
 * accepted a part heard it discarded and the state is unchanged.
 */
int memtopo_region_populate_locked(struct memtopo_region *mr, u64 offset, u64 size)
{
	struct memtopo_discard_mgr *d = memtopo_discard_range(mr, offset, size);
	u64 first, end, b, e;
	int ret;

	if (IS_ERR(d))
		return PTR_ERR(d);
	first = offset / d->granularity;
	end = first + size / d->granularity;
	for (e = first; memtopo_discard_run(d, &b, &e, end, false); ) {
		ret = memtopo_discard_notify_plug(d, b * d->granularity,
						  (e - b) * d->granularity);
		if (ret)
			goto undo;
	}
	/* every listener accepted: now subscriptions may see it */
	for (e = first; memtopo_discard_run(d, &b, &e, end, false); ) {
		memtopo_discard_emit_change(mr, b * d->granularity, (e - b) * d->granularity,
					    MEMTOPO_EVENT_DISCARD_POPULATE);
	}
	memtopo_discard_assign(d, first, end, true);
	return 0;

undo:
	/* the runs before the vetoed one were accepted by everyone */
	end = b;
	for (e = first; memtopo_discard_run(d, &b, &e, end, false); ) {
		memtopo_discard_notify_unplug(d, b * d->granularity, (e - b) * d->granularity,
					      NULL);
	}
	return ret;
}
EXPORT_SYMBOL_NS_GPL(memtopo_region_populate_locked, MEMTOPO);

MEMTOPO_LOCKED_WRAPPER(region_populate, mr->ctx,
		       (struct memtopo_region *mr, u64 offset, u64 size),
		       (mr, offset, size));

/**
 * memtopo_region_discard_locked() - discard (unplug) a range: QEMU's
 * virtio_mem_set_block_state(plug = false).
 * @mr: a region with a discard manager, context locked.
 * @offset: first byte, a multiple of the granularity.
 * @size: bytes, a non-zero multiple of the granularity, within the manager.
 *
 * Every listener hears each populated run of the range, in ascending
 * order; blocks already discarded are not announced again.
 *
 * Context: process context, context mutex held; listeners may sleep.
 * Return: 0; -ENOENT for a destroyed region or one without a manager;
 * -EINVAL for an empty, unaligned or out-of-range range; -EOVERFLOW past
 * 2^64.  On failure nothing changed.
 */
int memtopo_region_discard_locked(struct memtopo_region *mr, u64 offset, u64 size)
{
	struct memtopo_discard_mgr *d = memtopo_discard_range(mr, offset, size);
	u64 first, end, b, e;

	if (IS_ERR(d))
		return PTR_ERR(d);
	first = offset / d->granularity;
	end = first + size / d->granularity;
	for (e = first; memtopo_discard_run(d, &b, &e, end, true); ) {
		memtopo_discard_notify_unplug(d, b * d->granularity, (e - b) * d->granularity,
					      NULL);
		memtopo_discard_emit_change(mr, b * d->granularity, (e - b) * d->granularity,
					    MEMTOPO_EVENT_DISCARD_DISCARD);
	}
	memtopo_discard_assign(d, first, end, false);
	return 0;
}
EXPORT_SYMBOL_NS_GPL(memtopo_region_discard_locked, MEMTOPO);

MEMTOPO_LOCKED_WRAPPER(region_discard, mr->ctx,
		       (struct memtopo_region *mr, u64 offset, u64 size),
		       (mr, offset, size));

/**
 * memtopo_discard_preview_locked() - check a change of a region's discard
 * state and tell what it would leave, without making it.
 * @mr: the region, context locked.
 * @op: MEMTOPO_DISCARD_SET_MANAGER, _CLEAR_MANAGER, _POPULATE or _DISCARD.
 * @granularity: SET_MANAGER's block size.
 * @offset: POPULATE's and DISCARD's first byte.
 * @size: POPULATE's and DISCARD's bytes.
 * @info: set to the manager's block size, bytes covered and bytes
 *	populated after the change (all 0 after CLEAR_MANAGER).
 *
 * For MEMTOPO_DISCARD, which answers before it changes anything.  Only
 * what cannot be checked ahead can still fail the change: a populate a
 * listener vetoes, a bitmap past the budget or out of memory.
 *
 * Context: process context, context mutex held.
 * Return: 0, or the errno the change would fail its checks with.
 */
int memtopo_discard_preview_locked(struct memtopo_region *mr, u32 op, u64 granularity,
				   u64 offset, u64 size, struct memtopo_discard_info *info)
{
	bool populate = op == MEMTOPO_DISCARD_POPULATE;
	struct memtopo_discard_mgr *d;
	u64 nr, first, end, b, e;
	int ret;

	memset(info, 0, sizeof(*info));
	switch (op) {
	case MEMTOPO_DISCARD_SET_MANAGER:
		ret = memtopo_discard_set_check(mr, granularity, &nr);
		if (!ret) {
			info->granularity = granularity;
			info->size = nr * granularity;
		}
		return ret;
	case MEMTOPO_DISCARD_CLEAR_MANAGER:
		return memtopo_discard_clear_check(mr, &d);
	case MEMTOPO_DISCARD_POPULATE:
	case MEMTOPO_DISCARD_DISCARD:
		break;
	default:
		return -EINVAL;
	}
	d = memtopo_discard_range(mr, offset, size);
	if (IS_ERR(d))
		return PTR_ERR(d);
	nr = d->nr_populated;
	first = offset / d->granularity;
	end = first + size / d->granularity;
	/* the runs the change would flip, as it walks them */
	for (e = first; memtopo_discard_run(d, &b, &e, end, !populate); )
		nr = populate ? nr + (e - b) : nr - (e - b);
	info->granularity = d->granularity;
	info->size = d->size;
	info->populated = nr * d->granularity;
	return 0;
}

/**
 * memtopo_region_discard_info_locked() - a manager's shape and fill.
 * @mr: the region, context locked.
 * @granularity: set to the block size.
 * @size: set to the bytes the manager covers.
 * @populated: set to the bytes populated.
 *
 * Context: process context, context mutex held.
 * Return: 0, or -ENOENT for a destroyed region or one without a manager
 * (nothing is written then).
 */
int memtopo_region_discard_info_locked(struct memtopo_region *mr, u64 *granularity,
				       u64 *size, u64 *populated)
{
	struct memtopo_discard_mgr *d;
	int ret;

	memtopo_assert_locked(mr->ctx);
	ret = memtopo_region_check_live(mr);
	if (ret)
		return ret;
	d = memtopo_discard_of(mr);
	if (!d)
		return -ENOENT;
	*granularity = d->granularity;
	*size = d->size;
	*populated = d->nr_populated * d->granularity;
	return 0;
}
EXPORT_SYMBOL_NS_GPL(memtopo_region_discard_info_locked, MEMTOPO);

/**
 * memtopo_region_discard_state_locked() - copy out which blocks are
 * populated.
 * @mr: the region, context locked.
 * @first_block: first block.
 * @nr_blocks: blocks, at least 1, within the manager.
 * @bitmap: DIV_ROUND_UP(@nr_blocks, 64) words; bit i of word w is block
 *	@first_block + 64 * w + i, set when populated.
 *
 * Context: process context, context mutex held.
 * Return: 0; -ENOENT for a destroyed region or one without a manager;
 * -EINVAL for an empty range or one past the manager's blocks.
 */
int memtopo_region_discard_state_locked(struct memtopo_region *mr, u64 first_block,
					u64 nr_blocks, u64 *bitmap)
{
	struct memtopo_discard_mgr *d;
	u64 i;
	int ret;

	memtopo_assert_locked(mr->ctx);
	ret = memtopo_region_check_live(mr);
	if (ret)
		return ret;
	d = memtopo_discard_of(mr);
	if (!d)
		return -ENOENT;
	if (!nr_blocks || first_block >= d->nr_blocks || nr_blocks > d->nr_blocks - first_block)
		return -EINVAL;
	memset(bitmap, 0, DIV_ROUND_UP_ULL(nr_blocks, 64) * sizeof(u64));
	for (i = 0; i < nr_blocks; i++)
		if (memtopo_discard_test(d, first_block + i))
			bitmap[i / 64] |= BIT_ULL(i % 64);
	return 0;
}
EXPORT_SYMBOL_NS_GPL(memtopo_region_discard_state_locked, MEMTOPO);

/* The blocks @s touches, [*@first, *@end).  Return: does @s reach past @d? */
static bool memtopo_discard_blocks(const struct memtopo_discard_mgr *d,
				   const struct memtopo_section *s, u64 *first, u64 *end)
{
	bool past = memtopo_section_last_off(s) >= d->size;

	*first = min(s->offset / d->granularity, d->nr_blocks);
	*end = past ? d->nr_blocks : memtopo_section_last_off(s) / d->granularity + 1;
	return past;
}

/*
 * The manager of @s->mr and the blocks of it @s touches, [*@first, *@end)
 * (a region that grew since its manager was set shows bytes past it: they
 * are in no block, and *@past says so).  Return: the manager, or an
 * ERR_PTR(): -ENOENT without one, -EINVAL for a section that is not inside
 * the region.
 */
static struct memtopo_discard_mgr *memtopo_discard_section(const struct memtopo_section *s,
							   u64 *first, u64 *end, bool *past)
{
	struct memtopo_discard_mgr *d;
	u64 span;

	if (!s->mr)
		return ERR_PTR(-EINVAL);
	memtopo_assert_locked(s->mr->ctx);
	d = memtopo_discard_of(s->mr);
	if (!d)
		return ERR_PTR(-ENOENT);
	span = s->last - s->start;
	if (s->last < s->start || memtopo_region_empty(s->mr) ||
	    s->offset > memtopo_region_last_off(s->mr) ||
	    span > memtopo_region_last_off(s->mr) - s->offset)
		return ERR_PTR(-EINVAL);
	*past = memtopo_discard_blocks(d, s, first, end);
	return d;
}

/**
 * memtopo_discard_is_populated_locked() - QEMU's
 * ram_discard_manager_is_populated(): is all of @s populated?
 * @s: a section of a RAM region, context locked.
 *
 * Context: process context, context mutex held.
 * Return: true if every block @s touches is populated, or the region has no
 * discard manager (then all of it is); false otherwise, or for a section
 * that reaches past the manager (as virtio_mem_rdm_is_populated()).
 */
bool memtopo_discard_is_populated_locked(const struct memtopo_section *s)
{
	struct memtopo_discard_mgr *d;
	u64 first, end;
	bool past;

	d = memtopo_discard_section(s, &first, &end, &past);
	if (d == ERR_PTR(-ENOENT))
		return true;
	if (IS_ERR(d) || past)
		return false;
	return memtopo_discard_next(d, first, end, false) == end;
}
EXPORT_SYMBOL_NS_GPL(memtopo_discard_is_populated_locked, MEMTOPO);

/*
 * Call @fn for each part of @s in the state @populated, ascending; stop at
 * the first error (virtio_mem_for_each_plugged_section()).
 */
static int memtopo_discard_for_each(struct memtopo_discard_mgr *d, const struct memtopo_section *s,
				    u64 first, u64 end, bool populated,
				    int (*fn)(const struct memtopo_section *s, void *opaque),
				    void *opaque)
{
	struct memtopo_section tmp;
	u64 b, e;
	int ret;

	for (e = first; memtopo_discard_run(d, &b, &e, end, populated); ) {
		if (!memtopo_discard_intersect(s, b * d->granularity, (e - b) * d->granularity,
					       &tmp))
			break;
		ret = fn(&tmp, opaque);
		if (ret)
			return ret;
	}
	return 0;
}

/**
 * memtopo_discard_replay_populated_locked() - QEMU's
 * ram_discard_manager_replay_populated(): call @fn for each populated part
 * of @s, ascending.
 * @s: a section of a region with a discard manager, context locked.
 * @fn: the callback; a non-zero return stops the replay.
 * @opaque: passed to @fn.
 *
 * Context: process context, context mutex held; @fn may sleep.
 * Return: 0, @fn's error, -ENOENT without a manager, -EINVAL for a section
 * outside the region.
 */
int memtopo_discard_replay_populated_locked(const struct memtopo_section *s,
					    int (*fn)(const struct memtopo_section *s,
						      void *opaque),
					    void *opaque)
{
	struct memtopo_discard_mgr *d;
	u64 first, end;
	bool past;

	d = memtopo_discard_section(s, &first, &end, &past);
	if (IS_ERR(d))
		return PTR_ERR(d);
	return memtopo_discard_for_each(d, s, first, end, true, fn, opaque);
}
EXPORT_SYMBOL_NS_GPL(memtopo_discard_replay_populated_locked, MEMTOPO);

/*
 * The populated parts of @s, to every subscription of @as (or to @only),
 * as events of @type.
 */
static void memtopo_discard_emit_populated(struct memtopo_space *as,
					   struct memtopo_listener *only,
					   const struct memtopo_section *s, u32 type)
{
	struct memtopo_discard_emit e = { .as = as, .only = only, .type = type };
	struct memtopo_discard_mgr *d = memtopo_discard_of(s->mr);
	u64 first, end;

	if (!d || (!only && !memtopo_space_subscribed_locked(as)))
		return;
	memtopo_discard_blocks(d, s, &first, &end);
	memtopo_discard_for_each(d, s, first, end, true, memtopo_discard_emit_part, &e);
}

struct memtopo_discard_replay {
	void (*fn)(const struct memtopo_section *s, void *opaque);
	void *opaque;
};

static int memtopo_discard_replay_void(const struct memtopo_section *s, void *opaque)
{
	struct memtopo_discard_replay *r = opaque;

	r->fn(s, r->opaque);
	return 0;
}

/**
 * memtopo_discard_replay_discarded_locked() - QEMU's
 * ram_discard_manager_replay_discarded(): call @fn for each discarded part
 * of @s, ascending.
 * @s: a section of a region with a discard manager, context locked.
 * @fn: the callback.
 * @opaque: passed to @fn.
 *
 * Context: process context, context mutex held; @fn may sleep.
 * Return: 0, -ENOENT without a manager, -EINVAL for a section outside the
 * region (@fn is not called then).
 */
int memtopo_discard_replay_discarded_locked(const struct memtopo_section *s,
					    void (*fn)(const struct memtopo_section *s,
						       void *opaque),
					    void *opaque)
{
	struct memtopo_discard_replay r = { .fn = fn, .opaque = opaque };
	struct memtopo_discard_mgr *d;
	u64 first, end;
	bool past;

	d = memtopo_discard_section(s, &first, &end, &past);
	if (IS_ERR(d))
		return PTR_ERR(d);
	return memtopo_discard_for_each(d, s, first, end, false, memtopo_discard_replay_void, &r);
}
EXPORT_SYMBOL_NS_GPL(memtopo_discard_replay_discarded_locked, MEMTOPO);

/* A registration's replay: @left counts the parts accepted, then undone. */
struct memtopo_discard_replay_dl {
	struct memtopo_discard_listener *dl;
	u64 left;
};

static int memtopo_discard_populate_cb(const struct memtopo_section *s, void *opaque)
{
	struct memtopo_discard_replay_dl *r = opaque;
	int ret = r->dl->ops->notify_populate(r->dl, s);

	if (!ret)
		r->left++;
	return ret;
}

static int memtopo_discard_discard_cb(const struct memtopo_section *s, void *opaque)
{
	struct memtopo_discard_replay_dl *r = opaque;

	if (!r->left)
		return 1;
	r->left--;
	r->dl->ops->notify_discard(r->dl, s);
	return 0;
}

/* The listener stops seeing its section: it hears every populated part go. */
static void memtopo_discard_listener_kill(struct memtopo_discard_listener *dl)
{
	struct memtopo_discard_mgr *d = memtopo_discard_of(dl->section.mr);
	struct memtopo_discard_replay_dl r = { .dl = dl, .left = U64_MAX };
	u64 first, end;

	if (!dl->live)
		return;
	dl->live = false;
	/* not checked against the region: it may have been resized since */
	memtopo_discard_blocks(d, &dl->section, &first, &end);
	memtopo_discard_for_each(d, &dl->section, first, end, true, memtopo_discard_discard_cb,
				 &r);
}

/**
 * memtopo_discard_listener_register_locked() - QEMU's
 * ram_discard_manager_register_listener(): listen to the populates and
 * discards of a section, starting with notify_populate for each part of it
 * populated now.
 * @as: the space whose view holds @s.
 * @s: a section of a region with a discard manager, as a listener callback
 *	or memtopo_space_lookup() handed it (or a part of one); copied.
 * @dl: the listener, @dl->ops set, not registered.
 *
 * The listener is told until it unregisters, its space is destroyed or a
 * commit removes a flat range of @as's view that overlaps @s (then it hears
 * its populated parts discarded and nothing more).  It holds a reference on
 * the region; the caller keeps the context alive until it unregisters.
 *
 * Context: process context, context mutex held (a memtopo_listener
 * callback of the same context may call it); may sleep.
 * Return: 0; -EINVAL without both callbacks, for a section outside the
 * region (parts past its manager are never populated) or of another
 * context; -EBUSY if @dl is registered; -ENOENT for a region without a
 * manager (or destroyed) or a destroyed space; -ENOMEM; or the error of a
 * notify_populate of the replay: the parts replayed before it were
 * discarded again and @dl is not registered.
 */
int memtopo_discard_listener_register_locked(struct memtopo_space *as,
					     const struct memtopo_section *s,
					     struct memtopo_discard_listener *dl)
{
	struct memtopo_discard_replay_dl r = {};
	struct memtopo_space_parity *sp;
	struct memtopo_discard_mgr *d;
	u64 first, end;
	bool past;
	int ret;

	memtopo_assert_locked(as->ctx);
	if (!dl->ops || !dl->ops->notify_populate || !dl->ops->notify_discard)
		return -EINVAL;
	if (dl->registered)
		return -EBUSY;
	if (!s->mr || s->mr->ctx != as->ctx)
		return -EINVAL;
	d = memtopo_discard_section(s, &first, &end, &past);
	if (IS_ERR(d))
		return PTR_ERR(d);
	if (as->dead)
		return -ENOENT;
	ret = memtopo_region_check_live(s->mr);
	if (ret)
		return ret;
	sp = memtopo_space_parity_get(as);
	if (!sp)
		return -ENOMEM;
	dl->section = *s;
	r.dl = dl;
	ret = memtopo_discard_for_each(d, s, first, end, true, memtopo_discard_populate_cb, &r);
	if (ret) {
		/* the parts accepted before the refusal are discarded again */
		memtopo_discard_for_each(d, s, first, end, true, memtopo_discard_discard_cb, &r);
		return ret;
	}
	memtopo_region_get(s->mr);
	dl->space = as;
	dl->registered = true;
	dl->live = true;
	list_add(&dl->link, &d->listeners);
	list_add_tail(&dl->space_link, &sp->discard_listeners);
	return 0;
}
EXPORT_SYMBOL_NS_GPL(memtopo_discard_listener_register_locked, MEMTOPO);

MEMTOPO_LOCKED_WRAPPER(discard_listener_register, as->ctx,
		       (struct memtopo_space *as, const struct memtopo_section *s,
			struct memtopo_discard_listener *dl),
		       (as, s, dl));

/**
 * memtopo_discard_listener_unregister_locked() - QEMU's
 * ram_discard_manager_unregister_listener(): a live listener hears every
 * populated part of its section discarded, then it is gone.
 * @dl: a registered listener, its context locked.
 *
 * Drops the region reference the registration took (the region may be
 * freed, after an RCU grace period).
 *
 * Context: process context, context mutex held (a memtopo_listener
 * callback of the same context may call it); may sleep.
 */
void memtopo_discard_listener_unregister_locked(struct memtopo_discard_listener *dl)
{
	struct memtopo_region *mr = dl->section.mr;

	memtopo_assert_locked(mr->ctx);
	memtopo_discard_listener_kill(dl);
	list_del(&dl->link);
	if (dl->space)
		list_del(&dl->space_link);
	dl->space = NULL;
	dl->registered = false;
	memtopo_region_put(mr);
}
EXPORT_SYMBOL_NS_GPL(memtopo_discard_listener_unregister_locked, MEMTOPO);

/**
 * memtopo_discard_listener_unregister() - as
 * memtopo_discard_listener_unregister_locked(), taking the context mutex.
 * @dl: a registered listener (an unregistered one is ignored).
 *
 * Context: process context, context mutex not held; may sleep.
 */
void memtopo_discard_listener_unregister(struct memtopo_discard_listener *dl)
{
	struct memtopo_ctx *ctx;

	if (!dl->registered)
		return;
	ctx = dl->section.mr->ctx;
	memtopo_ctx_lock(ctx);
	memtopo_discard_listener_unregister_locked(dl);
	memtopo_ctx_unlock(ctx);
}
EXPORT_SYMBOL_NS_GPL(memtopo_discard_listener_unregister, MEMTOPO);

/**
 * memtopo_discard_space_watched() - for memtopo_hook_space_watched().
 * @as: the space, context locked.
 *
 * Return: true if a discard listener is registered on one of its sections.
 */
bool memtopo_discard_space_watched(const struct memtopo_space *as)
{
	return as->parity && !list_empty(&as->parity->discard_listeners);
}

/**
 * memtopo_discard_range_del() - a flat range leaves @as's view: the live
 * discard listeners whose section it overlaps hear their populated parts
 * discarded and die.
 * @as: the space, context locked.
 * @s: the range, in the old view.
 */
void memtopo_discard_range_del(struct memtopo_space *as, const struct memtopo_section *s)
{
	struct memtopo_discard_listener *dl;
	struct memtopo_discard_mgr *d;

	d = memtopo_discard_of(s->mr);
	if (!d)
		return;
	/* the manager's order, as every other notification */
	if (memtopo_discard_space_watched(as))
		list_for_each_entry(dl, &d->listeners, link)
			if (dl->space == as && dl->live && dl->section.start <= s->last &&
			    s->start <= dl->section.last)
				memtopo_discard_listener_kill(dl);
	memtopo_discard_emit_populated(as, NULL, s, MEMTOPO_EVENT_DISCARD_DISCARD);
}

/**
 * memtopo_discard_range_add() - a flat range came into @as's view, right
 * after its region_add: subscriptions see its populated parts.
 * @as: the space, context locked.
 * @s: the range, in the new view.
 */
void memtopo_discard_range_add(struct memtopo_space *as, const struct memtopo_section *s)
{
	memtopo_discard_emit_populated(as, NULL, s, MEMTOPO_EVENT_DISCARD_POPULATE);
}

static void memtopo_discard_replay_range(const struct memtopo_section *s, void *opaque)
{
	struct memtopo_discard_emit *e = opaque;

	if (memtopo_discard_of(s->mr))
		memtopo_discard_emit_populated(e->as, e->only, s, e->type);
}

/**
 * memtopo_discard_replay() - a subscription comes or goes: it alone sees
 * the populated parts of every managed range of the view, after the
 * REGION_ADD replay or before the REGION_DEL one.
 * @l: the subscription's listener, context locked.
 * @adding: it comes.
 */
void memtopo_discard_replay(struct memtopo_listener *l, bool adding)
{
	struct memtopo_discard_emit e = {
		.as = l->space, .only = l,
		.type = adding ? MEMTOPO_EVENT_DISCARD_POPULATE : MEMTOPO_EVENT_DISCARD_DISCARD,
	};

	if (l->ops->event)
		memtopo_space_sections_locked(l->space, memtopo_discard_replay_range, &e);
}

/**
 * memtopo_discard_space_destroy() - a space goes: its discard listeners
 * hear their populated parts discarded and die; they stay registered with
 * their managers until their owners unregister them.
 * @sp: the space's parity state, context locked.
 */
void memtopo_discard_space_destroy(struct memtopo_space_parity *sp)
{
	struct memtopo_discard_listener *dl, *tmp;

	list_for_each_entry_safe(dl, tmp, &sp->discard_listeners, space_link) {
		memtopo_discard_listener_kill(dl);
		list_del(&dl->space_link);
		dl->space = NULL;
	}
}

/**
 * memtopo_discard_uncharge() - a region's destroy is published: give back
 * what its manager is charged (it cannot be cleared or set any more).
 * @mr: the region, context locked.
 */
void memtopo_discard_uncharge(struct memtopo_region *mr)
{
	struct memtopo_discard_mgr *d = memtopo_discard_of(mr);

	if (d)
		memtopo_ctx_uncharge_locked(mr->ctx, memtopo_discard_bytes(d->nr_blocks));
}

/**
 * memtopo_discard_free() - a region's memory goes: free its manager.
 * @p: its parity state; no listener is left (each held a reference).
 *
 * Context: an RCU callback: must not sleep.
 */
void memtopo_discard_free(struct memtopo_region_parity *p)
{
	kvfree(p->discard);
	p->discard = NULL;
}
