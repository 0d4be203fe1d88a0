// SPDX-License-Identifier: GPL-2.0
/*
 * IOMMU regions, after QEMU's IOMMUMemoryRegion (include/exec/memory.h,
 * system/memory.c): a MEMTOPO_IOMMU region renders itself like an I/O
 * region, and an access that lands on it is translated into another space
 * (address_space_translate_iommu()).  The translation comes from a kernel
 * module's struct memtopo_iommu_ops, or from a table of mappings that
 * userspace (or a kernel user) programs with map / unmap, in iommufd's
 * IOMMU_IOAS_MAP / _UNMAP style: page granularity, all or nothing, EEXIST
 * for an overlap and ENOENT for a hole.
 *
 * The table is a sorted array of non-overlapping mappings, replaced as a
 * whole on every change (copy on write) under the context mutex and
 * published with rcu_assign_pointer(): a translation binary-searches it
 * under RCU without any lock, and the old array is freed after a grace
 * period.  A change costs O(mappings); MEMTOPO_IOMMU_MAX_MAPPINGS bounds
 * that to a few microseconds (Documentation/iommu.rst has the figures of
 * tools/testing/iommu_bench.c), the order of the ioctl asking for it.
 * Mappings name their target space by ID and serial, not by pointer, so
 * a space destroyed under a mapping cannot be reached through it: the
 * translation finds no space and faults.  The serial because an undone
 * create gives its ID to the next space created, which a mapping made
 * into the undone one must not reach.
 *
 * The published table is charged to the context's budget: a change
 * charges what the new array adds before allocating it and gives back
 * what it drops once it is published, under the context mutex.  The old
 * array, freed after a grace period from an RCU callback when the context
 * may be gone already, is never charged then: the callback does not touch
 * the context.  The last table is given back when the region's destroy is
 * published (memtopo_iommu_uncharge()); no change reaches a destroyed
 * region, so it stays as charged until then and the region frees it.
 *
 * Notifiers (QEMU's IOMMUNotifier) are told about every table change under
 * the context mutex, one power-of-two aligned entry at a time as an IOTLB
 * holds them: a MAP after the new table is published (a notified consumer
 * can translate it), an UNMAP before the entry leaves the table, as QEMU's
 * vIOMMUs notify an unmap before the guest may reuse the IOVA.  Userspace
 * subscriptions hear the same entries right after the notifiers.
 */
#include <linux/bitops.h>
#include <linux/export.h>
#include <linux/minmax.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "events.h"
#include "parity.h"

#define MEMTOPO_IOMMU_PAGE_SHIFT	12
#define MEMTOPO_IOMMU_PAGE_MASK		(MEMTOPO_IOMMU_PAGE_SIZE - 1)
/* Blocks a default replay translates at most before giving up (-E2BIG). */
#define MEMTOPO_IOMMU_REPLAY_MAX_STEPS	BIT(20)

struct memtopo_iommu_table {
	struct rcu_head rcu;
	u32 nr;
	struct memtopo_iommu_ent map[];
};

struct memtopo_iommu {
	/* NULL: translations come from @table */
	const struct memtopo_iommu_ops *ops;
	/* the implementation's, memtopo_iommu_opaque() */
	void *opaque;
	struct memtopo_iommu_table __rcu *table;
	/* registration order; context mutex */
	struct list_head notifiers;
	/* the union of the registered notifiers' flags */
	unsigned int notifier_flags;
};

static struct memtopo_iommu *memtopo_iommu_rcu(const struct memtopo_region *mr)
{
	struct memtopo_region_parity *p = rcu_dereference(mr->parity);

	return p ? rcu_dereference(p->iommu) : NULL;
}

static struct memtopo_iommu *memtopo_iommu_locked(const struct memtopo_region *mr)
{
	struct memtopo_region_parity *p = memtopo_parity_locked(mr);

	return p ? rcu_dereference_protected(p->iommu, lockdep_is_held(&mr->ctx->lock)) : NULL;
}

static struct memtopo_iommu_table *memtopo_iommu_table_locked(const struct memtopo_region *mr,
							      struct memtopo_iommu *io)
{
	return io ? rcu_dereference_protected(io->table, lockdep_is_held(&mr->ctx->lock)) : NULL;
}

static struct memtopo_iommu *memtopo_iommu_alloc(const struct memtopo_iommu_ops *ops,
						 void *opaque)
{
	struct memtopo_iommu *io = kzalloc(sizeof(*io), GFP_KERNEL_ACCOUNT);

	if (!io)
		return NULL;
	io->ops = ops;
	io->opaque = opaque;
	INIT_LIST_HEAD(&io->notifiers);
	return io;
}

/* A table IOMMU's state, allocated on first use; the region is an IOMMU. */
static struct memtopo_iommu *memtopo_iommu_get(struct memtopo_region *mr)
{
	struct memtopo_region_parity *p;
	struct memtopo_iommu *io = memtopo_iommu_locked(mr);

	if (io)
		return io;
	p = memtopo_parity_get(mr);
	if (!p)
		return NULL;
	io = memtopo_iommu_alloc(NULL, NULL);
	if (io)
		rcu_assign_pointer(p->iommu, io);
	return io;
}

/**
 * memtopo_iommu_free() - free a region's IOMMU state with the region.
 * @p: the region's parity state.
 *
 * Context: an RCU callback; nothing can reach the region any more, and no
 * notifier is registered (each holds a region reference).
 */
void memtopo_iommu_free(struct memtopo_region_parity *p)
{
	struct memtopo_iommu *io = rcu_dereference_protected(p->iommu, 1);

	if (!io)
		return;
	WARN_ON_ONCE(!list_empty(&io->notifiers));
	/* a table is kvmalloc()ed; its charge went with the region's destroy */
	kvfree(rcu_dereference_protected(io->table, 1));
	kfree(io);
	RCU_INIT_POINTER(p->iommu, NULL);
}

static bool memtopo_is_iommu(const struct memtopo_region *mr)
{
	return mr->kind == MEMTOPO_IOMMU;
}

/**
 * memtopo_iommu_region_create_locked() - create a detached IOMMU region
 * that translates through @ops (QEMU's memory_region_init_iommu()).
 * @ctx: the owner, locked.
 * @info: as for memtopo_region_create_locked(); @info->kind must be
 *	MEMTOPO_IOMMU and @info->ops NULL; @info->opaque is the IOMMU's
 *	(memtopo_iommu_opaque()).
 * @ops: the translation; @ops->translate is required.
 *
 * A MEMTOPO_IOMMU region created by memtopo_region_create_locked() instead
 * translates through its table (memtopo_iommu_map_locked()).
 *
 * Context: the context mutex held.
 * Return: the region, or ERR_PTR(): -EINVAL for a bad @info or @ops, else
 * as memtopo_region_create_locked().
 */
struct memtopo_region *memtopo_iommu_region_create_locked(struct memtopo_ctx *ctx,
							  const struct memtopo_region_info *info,
							  const struct memtopo_iommu_ops *ops)
{
	struct memtopo_region_parity *p;
	struct memtopo_region *mr;
	struct memtopo_iommu *io;

	memtopo_assert_locked(ctx);
	if (info->kind != MEMTOPO_IOMMU || info->ops || !ops || !ops->translate)
		return ERR_PTR(-EINVAL);
	io = memtopo_iommu_alloc(ops, info->opaque);
	if (!io)
		return ERR_PTR(-ENOMEM);
	mr = memtopo_region_create_locked(ctx, info);
	if (IS_ERR(mr))
		goto err_free;
	p = memtopo_parity_get(mr);
	if (!p) {
		/* never mapped, never seen: destroying it cannot fail */
		WARN_ON(memtopo_region_destroy_locked(mr));
		mr = ERR_PTR(-ENOMEM);
		goto err_free;
	}
	rcu_assign_pointer(p->iommu, io);
	return mr;

err_free:
	kfree(io);
	return mr;
}
EXPORT_SYMBOL_NS_GPL(memtopo_iommu_region_create_locked, MEMTOPO);
MEMTOPO_LOCKED_WRAPPER_PTR(region, iommu_region_create, ctx,
			   (struct memtopo_ctx *ctx, const struct memtopo_region_info *info,
			    const struct memtopo_iommu_ops *ops),
			   (ctx, info, ops));

/**
 * memtopo_iommu_opaque() - the opaque pointer of an IOMMU made with ops.
 * @iommu: an IOMMU region.
 *
 * Context: any; the region must stay alive (its ops are called only then).
 * Return: memtopo_region_info.opaque as memtopo_iommu_region_create() got
 * it; NULL for a table IOMMU or another kind of region.
 */
void *memtopo_iommu_opaque(struct memtopo_region *iommu)
{
	struct memtopo_iommu *io;
	void *opaque;

	if (!memtopo_is_iommu(iommu))
		return NULL;
	rcu_read_lock();
	io = memtopo_iommu_rcu(iommu);
	opaque = io ? io->opaque : NULL;
	rcu_read_unlock();
	return opaque;
}
EXPORT_SYMBOL_NS_GPL(memtopo_iommu_opaque, MEMTOPO);

/**
 * memtopo_iommu_num_indexes() - QEMU's memory_region_iommu_num_indexes().
 * @iommu: an IOMMU region.
 *
 * Context: any; the region must stay alive (a reference, or RCU for a
 * region found in a view).
 * Return: how many translation tables @iommu has (a table IOMMU has one),
 * or -EINVAL if @iommu is not an IOMMU region.
 */
int memtopo_iommu_num_indexes(struct memtopo_region *iommu)
{
	struct memtopo_iommu *io;
	int n = 1;

	if (!memtopo_is_iommu(iommu))
		return -EINVAL;
	rcu_read_lock();
	io = memtopo_iommu_rcu(iommu);
	if (io && io->ops && io->ops->num_indexes)
		n = io->ops->num_indexes(iommu);
	rcu_read_unlock();
	return n;
}
EXPORT_SYMBOL_NS_GPL(memtopo_iommu_num_indexes, MEMTOPO);

static int memtopo_iommu_index_rcu(struct memtopo_region *iommu, struct memtopo_iommu *io,
				   u32 attrs)
{
	return io && io->ops && io->ops->attrs_to_index ?
	       io->ops->attrs_to_index(iommu, attrs) : 0;
}

/**
 * memtopo_iommu_attrs_to_index() - QEMU's memory_region_iommu_attrs_to_index().
 * @iommu: an IOMMU region.
 * @attrs: transaction attributes (0 for an access through the API).
 *
 * Context: as memtopo_iommu_num_indexes().
 * Return: the translation table an access with @attrs uses, or -EINVAL if
 * @iommu is not an IOMMU region.
 */
int memtopo_iommu_attrs_to_index(struct memtopo_region *iommu, u32 attrs)
{
	int idx;

	if (!memtopo_is_iommu(iommu))
		return -EINVAL;
	rcu_read_lock();
	idx = memtopo_iommu_index_rcu(iommu, memtopo_iommu_rcu(iommu), attrs);
	rcu_read_unlock();
	return idx;
}
EXPORT_SYMBOL_NS_GPL(memtopo_iommu_attrs_to_index, MEMTOPO);

/* The first mapping whose last IOVA is at or after @iova. */
static u32 memtopo_iommu_first(const struct memtopo_iommu_table *t, u64 iova)
{
	u32 lo = 0, hi = t ? t->nr : 0;

	while (lo < hi) {
		u32 mid = lo + (hi - lo) / 2;

		if (t->map[mid].last < iova)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/*
 * The largest IOTLB entry around @addr that one mapping translates: a
 * power-of-two block, aligned in both the IOVA and the target space, inside
 * the mapping.  Both sides are page-aligned, so a page always fits.
 */
static u64 memtopo_iommu_block_mask(const struct memtopo_iommu_ent *m, u64 addr)
{
	u64 delta = m->addr - m->iova;
	unsigned int k = delta ? __ffs64(delta) : 63;

	for (k = min(k, 63U); k > MEMTOPO_IOMMU_PAGE_SHIFT; k--) {
		u64 mask = BIT_ULL(k) - 1;
		u64 base = addr & ~mask;

		if (base >= m->iova && base + mask <= m->last)
			return mask;
	}
	return MEMTOPO_IOMMU_PAGE_MASK;
}

/*
 * The space mapping @m of @iommu leads to, or NULL: its ID and serial,
 * so neither a destroyed space nor, after an undone create, the newer
 * space given its ID.  Under RCU (the space is freed after a grace
 * period) or the context mutex.
 */
static struct memtopo_space *memtopo_iommu_ent_target(const struct memtopo_region *iommu,
						      const struct memtopo_iommu_ent *m)
{
	return memtopo_space_find_serial(iommu->ctx, m->space, m->serial);
}

/* The table's translate, under RCU. */
static void memtopo_iommu_table_translate(struct memtopo_region *mr, struct memtopo_iommu *io,
					  u64 addr, struct memtopo_iotlb_entry *out)
{
	const struct memtopo_iommu_table *t = io ? rcu_dereference(io->table) : NULL;
	const struct memtopo_iommu_ent *m;
	struct memtopo_space *as;
	u32 i = memtopo_iommu_first(t, addr);

	out->iova = addr & ~MEMTOPO_IOMMU_PAGE_MASK;
	out->addr_mask = MEMTOPO_IOMMU_PAGE_MASK;
	if (!t || i == t->nr || t->map[i].iova > addr)
		return;
	m = &t->map[i];
	as = memtopo_iommu_ent_target(mr, m);
	if (!as)
		return;
	out->addr_mask = memtopo_iommu_block_mask(m, addr);
	out->iova = addr & ~out->addr_mask;
	out->translated_addr = m->addr + (out->iova - m->iova);
	out->target_as = as;
	out->perm = m->perm;
}

/* One translation by @mr, under RCU; perm MEMTOPO_IOMMU_NONE when none. */
static void memtopo_iommu_translate_rcu(struct memtopo_region *mr, u64 addr, unsigned int flag,
					int idx, struct memtopo_iotlb_entry *out)
{
	struct memtopo_iommu *io = memtopo_iommu_rcu(mr);

	memset(out, 0, sizeof(*out));
	out->perm = MEMTOPO_IOMMU_NONE;
	if (io && io->ops)
		io->ops->translate(mr, addr, flag, idx, out);
	else
		memtopo_iommu_table_translate(mr, io, addr, out);
}

/**
 * memtopo_iommu_walk_rcu() - QEMU's address_space_translate_iommu(): follow
 * an access from the IOMMU region it landed on to what it reaches.
 * @s: in: the section holding *@addr, whose region is an IOMMU; out: the
 *	section holding the translated address in the space the walk ended in
 *	(its region is not an IOMMU).
 * @addr: in: the address in @s's space; out: in the final space.
 * @len: in: bytes wanted (at least 1); out: clipped to what one entry of
 *	every IOMMU passed translates contiguously.
 * @is_write: the access is a write (MEMTOPO_IOMMU_WO needed), else a read
 *	(MEMTOPO_IOMMU_RO).
 * @attrs: transaction attributes for attrs_to_index.
 * @entry: if not NULL, set as QEMU's address_space_get_iotlb_entry()
 *	builds it: the IOVA block (the intersection of every entry passed)
 *	and where it ends up.
 *
 * Context: rcu_read_lock() held; never sleeps.
 * Return: 0; -ENOENT for an IOVA an IOMMU does not translate, or nothing
 * mapped at the translated address (both unassigned, as in QEMU);
 * -EACCES when an IOMMU translates @addr without the permission the access
 * needs; -ELOOP past MEMTOPO_IOMMU_MAX_DEPTH IOMMUs.
 */
int memtopo_iommu_walk_rcu(struct memtopo_section *s, u64 *addr, u64 *len, bool is_write,
			   u32 attrs, struct memtopo_iotlb_entry *entry)
{
	unsigned int need = is_write ? MEMTOPO_IOMMU_WO : MEMTOPO_IOMMU_RO;
	unsigned int depth, perm = MEMTOPO_IOMMU_RW;
	u64 a = *addr, n = *len, page_mask = U64_MAX;
	struct memtopo_iotlb_entry e;
	u64 iova = a;

	for (depth = 0; memtopo_is_iommu(s->mr); depth++) {
		u64 off = s->offset + (a - s->start);
		u64 to;

		if (depth == MEMTOPO_IOMMU_MAX_DEPTH)
			return -ELOOP;
		/* QEMU's address_space_translate_internal(): the section's end first */
		n = min(n, s->last - a + 1 ?: n);
		memtopo_iommu_translate_rcu(s->mr, off, need,
					    memtopo_iommu_index_rcu(s->mr, memtopo_iommu_rcu(s->mr),
								    attrs), &e);
		if (e.perm == MEMTOPO_IOMMU_NONE || !e.target_as)
			return -ENOENT;
		if (!(e.perm & need))
			return -EACCES;
		to = (e.translated_addr & ~e.addr_mask) | (off & e.addr_mask);
		/* (to | mask) - to + 1 is 0 for a 2^64 entry: nothing to clip */
		n = min(n, ((to | e.addr_mask) - to + 1) ?: n);
		page_mask &= e.addr_mask;
		perm &= e.perm;
		a = to;
		if (memtopo_space_lookup(e.target_as, a, s))
			return -ENOENT;
		if (entry)
			entry->target_as = e.target_as;
	}
	*addr = a;
	*len = n;
	if (entry) {
		if (!depth) {
			entry->target_as = NULL;
			page_mask = MEMTOPO_IOMMU_PAGE_MASK;
		}
		entry->iova = iova & ~page_mask;
		entry->translated_addr = a & ~page_mask;
		entry->addr_mask = page_mask;
		entry->perm = perm;
	}
	return 0;
}

/**
 * memtopo_space_get_iotlb_entry() - QEMU's address_space_get_iotlb_entry():
 * where @addr of @as ends up after every IOMMU on the way, as one IOTLB
 * entry a device could cache.
 * @as: the space (typically a device's DMA space, rooted at an IOMMU).
 * @addr: the address.
 * @is_write: translate for a write, else for a read.
 * @attrs: transaction attributes for attrs_to_index (0: unspecified).
 * @out: the entry: @out->target_as the final space, @out->iova and
 *	@out->translated_addr aligned to @out->addr_mask + 1, @out->perm the
 *	permissions every IOMMU passed grants.  When @addr passes no IOMMU,
 *	@out->target_as is @as and the entry is one 4 KiB page.
 *
 * Context: rcu_read_lock() held; @out->target_as valid until it is dropped.
 * Return: 0, or as memtopo_iommu_walk_rcu(): -ENOENT, -EACCES, -ELOOP.
 */
int memtopo_space_get_iotlb_entry(struct memtopo_space *as, u64 addr, bool is_write,
				  u32 attrs, struct memtopo_iotlb_entry *out)
{
	struct memtopo_section s;
	u64 a = addr, len = 1;
	int ret;

	memset(out, 0, sizeof(*out));
	if (memtopo_space_lookup(as, addr, &s))
		return -ENOENT;
	ret = memtopo_iommu_walk_rcu(&s, &a, &len, is_write, attrs, out);
	if (ret) {
		memset(out, 0, sizeof(*out));
		return ret;
	}
	if (!out->target_as)
		out->target_as = as;
	return 0;
}
EXPORT_SYMBOL_NS_GPL(memtopo_space_get_iotlb_entry, MEMTOPO);

/*
 * Cut [@iova, @last] (translating to @addr on) into power-of-two blocks
 * aligned on both sides, the entries an IOTLB holds, and call @fn on each.
 */
static void memtopo_iommu_cut_blocks(u64 iova, u64 last, u64 addr,
				     void (*fn)(void *arg, u64 iova, u64 mask, u64 addr),
				     void *arg)
{
	for (;;) {
		u64 rest = last - iova;		/* bytes - 1 */
		unsigned int k = rest == U64_MAX ? 63 : fls64(rest + 1) - 1;
		u64 mask;

		if (iova)
			k = min(k, (unsigned int)__ffs64(iova));
		if (addr)
			k = min(k, (unsigned int)__ffs64(addr));
		k = min(k, 63U);
		mask = BIT_ULL(k) - 1;
		fn(arg, iova, mask, addr);
		if (iova + mask >= last)
			return;
		iova += mask + 1;
		addr += mask + 1;
	}
}

struct memtopo_notify_one {
	struct memtopo_iommu_notifier *n;
	struct memtopo_iotlb_entry e;
};

static void memtopo_iommu_notify_block(void *arg, u64 iova, u64 mask, u64 addr)
{
	struct memtopo_notify_one *one = arg;

	one->e.iova = iova;
	one->e.addr_mask = mask;
	one->e.translated_addr = addr;
	one->n->notify(one->n, &one->e);
}

/*
 * QEMU's memory_region_notify_iommu_one(): skip a notifier whose range or
 * flags miss the event; a DEVIOTLB_UNMAP notifier gets the entry cropped
 * to its range as QEMU crops it.  QEMU asserts that any other notifier's
 * range holds the whole entry; here an entry that crosses its bounds is
 * cut into the aligned blocks inside them, so it still only hears about
 * its own range and every entry stays a power-of-two block.
 */
static void memtopo_iommu_notify_one(struct memtopo_iommu_notifier *n,
				     const struct memtopo_iotlb_event *ev)
{
	const struct memtopo_iotlb_entry *e = &ev->entry;
	u64 end = e->iova + e->addr_mask;
	struct memtopo_notify_one one = { .n = n, .e = *e };
	u64 start;

	if (n->start > end || n->end < e->iova || !(ev->type & n->flags))
		return;
	if (n->flags & MEMTOPO_IOMMU_NOTIFIER_DEVIOTLB_UNMAP) {
		one.e.iova = max(e->iova, n->start);
		one.e.addr_mask = min(end, n->end) - one.e.iova;
		one.e.translated_addr = e->translated_addr + (one.e.iova - e->iova);
		n->notify(n, &one.e);
		return;
	}
	if (e->iova >= n->start && end <= n->end) {
		n->notify(n, e);
		return;
	}
	start = max(e->iova, n->start);
	memtopo_iommu_cut_blocks(start, min(end, n->end),
				 e->translated_addr + (start - e->iova),
				 memtopo_iommu_notify_block, &one);
}

/*
 * Userspace subscriptions (kmod/events.h) hear an IOMMU as QEMU's VFIO
 * does behind a vIOMMU: as if a MAP | UNMAP notifier covered each range of
 * the IOMMU region in the subscribed space's view (vfio_listener_region_add()
 * registers one per IOMMU section), and a DEVIOTLB_UNMAP one beside it as
 * vhost registers with a device IOTLB.  So an entry is emitted once per
 * range it meets, cut to the range as memtopo_iommu_notify_one() cuts it
 * for a notifier (a device-IOTLB invalidation cropped to it), and an IOMMU
 * no space shows tells no subscription.  Each entry is emitted right after
 * the kernel notifiers heard it, so a subscription sees the entries in the
 * order the notifiers do.
 */
struct memtopo_iommu_emit {
	struct memtopo_space *as;
	struct memtopo_listener *only;	/* one subscription's replay, else all */
	const struct memtopo_section *s;
	struct memtopo_event ev;
	u32 type;
	int iommu_idx;
	const struct memtopo_iotlb_entry *entry;
};

static void memtopo_iommu_emit_block(void *arg, u64 iova, u64 mask, u64 addr)
{
	struct memtopo_iommu_emit *e = arg;

	e->ev.start = e->s->start + (iova - e->s->offset);
	e->ev.last = e->ev.start + mask;
	e->ev.offset = iova;
	e->ev.iommu.iova = iova;
	e->ev.iommu.addr_mask = mask;
	e->ev.iommu.translated_addr = addr;
	if (e->only)
		e->only->ops->event(e->only->priv, &e->ev);
	else
		memtopo_space_emit_event_locked(e->as, &e->ev);
}

/* The entry's part inside range @s of the space, as a notifier on @s hears it. */
static void memtopo_iommu_emit_range(const struct memtopo_section *s, void *opaque)
{
	struct memtopo_iommu_emit *e = opaque;
	const struct memtopo_iotlb_entry *entry = e->entry;
	u64 first = max(entry->iova, s->offset);
	u64 last = min(entry->iova + min(entry->addr_mask, U64_MAX - entry->iova),
		       s->offset + (s->last - s->start));

	if (first > last)
		return;
	e->s = s;
	memtopo_event_init(&e->ev, e->type, s);
	e->ev.iommu.perm = entry->perm;
	e->ev.iommu.target_space = entry->target_as ? entry->target_as->id : 0;
	e->ev.iommu.iommu_idx = e->iommu_idx;
	if (e->type == MEMTOPO_EVENT_IOMMU_DEVIOTLB_UNMAP) {
		memtopo_iommu_emit_block(e, first, last - first,
					 entry->translated_addr + (first - entry->iova));
		return;
	}
	memtopo_iommu_cut_blocks(first, last, entry->translated_addr + (first - entry->iova),
				 memtopo_iommu_emit_block, e);
}

static void memtopo_iommu_emit(struct memtopo_region *mr, int iommu_idx,
			       const struct memtopo_iotlb_event *event)
{
	struct memtopo_iommu_emit e = { .iommu_idx = iommu_idx, .entry = &event->entry };
	u64 first, last;

	if (event->type == MEMTOPO_IOMMU_NOTIFIER_MAP)
		e.type = MEMTOPO_EVENT_IOMMU_MAP;
	else if (event->type == MEMTOPO_IOMMU_NOTIFIER_UNMAP)
		e.type = MEMTOPO_EVENT_IOMMU_UNMAP;
	else if (event->type == MEMTOPO_IOMMU_NOTIFIER_DEVIOTLB_UNMAP)
		e.type = MEMTOPO_EVENT_IOMMU_DEVIOTLB_UNMAP;
	else
		return;
	/* as memtopo_iommu_emit_range() reads the entry, even unaligned */
	first = event->entry.iova;
	last = first + min(event->entry.addr_mask, U64_MAX - first);
	list_for_each_entry(e.as, &mr->ctx->spaces, link)
		if (memtopo_space_subscribed_locked(e.as))
			memtopo_space_region_ranges_locked(e.as, mr, first, last,
							   memtopo_iommu_emit_range, &e);
}

/**
 * memtopo_iommu_notify_locked() - QEMU's memory_region_notify_iommu():
 * tell the notifiers of table @iommu_idx about one changed entry.
 * @iommu: the IOMMU region.
 * @iommu_idx: the translation table that changed.
 * @event: MAP with the new entry, or UNMAP / DEVIOTLB_UNMAP of a range
 *	(perm MEMTOPO_IOMMU_NONE).
 *
 * An IOMMU implemented through struct memtopo_iommu_ops calls this when its
 * translations change (an UNMAP before the old translation is gone, a MAP
 * once the new one is visible); a table IOMMU's changes call it by
 * themselves.  Notifiers run in registration order.
 *
 * Context: the context mutex held; may sleep (notifiers may).
 */
void memtopo_iommu_notify_locked(struct memtopo_region *iommu, int iommu_idx,
				 const struct memtopo_iotlb_event *event)
{
	struct memtopo_iommu *io;
	struct memtopo_iommu_notifier *n;

	memtopo_assert_locked(iommu->ctx);
	io = memtopo_iommu_locked(iommu);
	if (!io)
		return;
	list_for_each_entry(n, &io->notifiers, link)
		if (n->iommu_idx == iommu_idx)
			memtopo_iommu_notify_one(n, event);
	memtopo_iommu_emit(iommu, iommu_idx, event);
}
EXPORT_SYMBOL_NS_GPL(memtopo_iommu_notify_locked, MEMTOPO);

struct memtopo_notify_all {
	struct memtopo_region *mr;
	struct memtopo_iotlb_event ev;
};

static void memtopo_iommu_notify_all_block(void *arg, u64 iova, u64 mask, u64 addr)
{
	struct memtopo_notify_all *all = arg;

	all->ev.entry.iova = iova;
	all->ev.entry.addr_mask = mask;
	all->ev.entry.translated_addr = addr;
	memtopo_iommu_notify_locked(all->mr, 0, &all->ev);
}

/* A table change of [@iova, @last] of mapping @m, to every notifier. */
static void memtopo_iommu_notify_range(struct memtopo_region *mr, unsigned int type,
				       const struct memtopo_iommu_ent *m, u64 iova, u64 last)
{
	struct memtopo_notify_all all = { .mr = mr };

	all.ev.type = type;
	all.ev.entry.target_as = memtopo_iommu_ent_target(mr, m);
	all.ev.entry.perm = type == MEMTOPO_IOMMU_NOTIFIER_MAP ? m->perm : MEMTOPO_IOMMU_NONE;
	memtopo_iommu_cut_blocks(iova, last, m->addr + (iova - m->iova),
				 memtopo_iommu_notify_all_block, &all);
}

/* What a table of @nr mappings is charged. */
static size_t memtopo_iommu_table_bytes(u32 nr)
{
	struct memtopo_iommu_table *t;

	return struct_size(t, map, nr);
}

/* What @t is charged; no table is charged nothing. */
static size_t memtopo_iommu_charged(const struct memtopo_iommu_table *t)
{
	return t ? memtopo_iommu_table_bytes(t->nr) : 0;
}

/*
 * A table of @nr mappings to replace @old of @mr: what it adds to @old's
 * charge is charged first, so a change past the budget is -ENOSPC with
 * nothing changed.
 */
static struct memtopo_iommu_table *memtopo_iommu_table_alloc(struct memtopo_region *mr,
							     const struct memtopo_iommu_table *old,
							     u32 nr)
{
	struct memtopo_iommu_table *t;
	size_t bytes = memtopo_iommu_table_bytes(nr), had = memtopo_iommu_charged(old);

	if (bytes > had && memtopo_ctx_charge_locked(mr->ctx, bytes - had))
		return ERR_PTR(-ENOSPC);
	t = kvmalloc(bytes, GFP_KERNEL_ACCOUNT);
	if (!t) {
		if (bytes > had)
			memtopo_ctx_uncharge_locked(mr->ctx, bytes - had);
		return ERR_PTR(-ENOMEM);
	}
	t->nr = nr;
	return t;
}

static void memtopo_iommu_table_free_rcu(struct rcu_head *head)
{
	kvfree(container_of(head, struct memtopo_iommu_table, rcu));
}

/* @new replaces @old, whose charge beyond @new's is given back. */
static void memtopo_iommu_publish(struct memtopo_region *mr, struct memtopo_iommu *io,
				  struct memtopo_iommu_table *old, struct memtopo_iommu_table *new)
{
	size_t bytes = memtopo_iommu_charged(new), had = memtopo_iommu_charged(old);

	rcu_assign_pointer(io->table, new);
	if (had > bytes)
		memtopo_ctx_uncharge_locked(mr->ctx, had - bytes);
	if (old)
		call_rcu(&old->rcu, memtopo_iommu_table_free_rcu);
}

/**
 * memtopo_iommu_uncharge() - a region's destroy is published: give back
 * what its table is charged (no change can reach it any more).
 * @mr: the region, context locked.
 */
void memtopo_iommu_uncharge(struct memtopo_region *mr)
{
	struct memtopo_iommu *io = memtopo_iommu_locked(mr);

	memtopo_ctx_uncharge_locked(mr->ctx,
				    memtopo_iommu_charged(memtopo_iommu_table_locked(mr, io)));
}

/* A table IOMMU the caller may change, or an errno. */
static int memtopo_iommu_table_check(struct memtopo_region *mr)
{
	struct memtopo_iommu *io;
	int ret;

	memtopo_assert_locked(mr->ctx);
	if (!memtopo_is_iommu(mr))
		return -EINVAL;
	ret = memtopo_region_check_live(mr);
	if (ret)
		return ret;
	io = memtopo_iommu_locked(mr);
	return io && io->ops ? -EINVAL : 0;
}

/* A table IOMMU and a page-aligned, non-empty range below 2^64: [@iova, *@last]. */
static int memtopo_iommu_range_check(struct memtopo_region *iommu, u64 iova, u64 size,
				     u64 *last)
{
	int ret = memtopo_iommu_table_check(iommu);

	if (ret)
		return ret;
	if (!size || (iova | size) & MEMTOPO_IOMMU_PAGE_MASK)
		return -EINVAL;
	if (size - 1 > U64_MAX - iova)
		return -EOVERFLOW;
	*last = iova + size - 1;
	return 0;
}

/**
 * memtopo_iommu_map_locked() - map [@iova, @iova + @size) of a table IOMMU
 * to [@addr, @addr + @size) of @target, iommufd's IOMMU_IOAS_MAP.
 * @iommu: a MEMTOPO_IOMMU region made without ops.
 * @iova: first IOVA (an offset in @iommu), a multiple of
 *	MEMTOPO_IOMMU_PAGE_SIZE.
 * @size: bytes, a non-zero multiple of MEMTOPO_IOMMU_PAGE_SIZE.
 * @target: a live space of the same context.
 * @addr: where @iova goes in @target, a multiple of MEMTOPO_IOMMU_PAGE_SIZE.
 * @perm: MEMTOPO_IOMMU_RO, _WO or _RW.
 *
 * All or nothing: on error the table is unchanged and nobody was told.  On
 * success the new table is published, then the MAP notifiers are told, one
 * aligned power-of-two entry at a time.  An IOVA past the region's size is
 * accepted; no access reaches it while the region is that small.
 *
 * Context: the context mutex held; may sleep (notifiers may).
 * Return: 0; -EINVAL for a region that is not a table IOMMU, a bad
 * alignment, size, permission or target; -ENOENT if @iommu was destroyed;
 * -EOVERFLOW if either range passes
 * 2^64; -EEXIST if part of the IOVA range is mapped already; -ENOSPC at
 * MEMTOPO_IOMMU_MAX_MAPPINGS or if the grown table passes the context's
 * memory budget; -ENOMEM.
 */
int memtopo_iommu_map_locked(struct memtopo_region *iommu, u64 iova, u64 size,
			     struct memtopo_space *target, u64 addr, unsigned int perm)
{
	struct memtopo_iommu_table *old, *new;
	struct memtopo_iommu_ent *m;
	struct memtopo_iommu *io;
	u64 last;
	u32 i, nr;
	int ret;

	ret = memtopo_iommu_range_check(iommu, iova, size, &last);
	if (ret)
		return ret;
	if (!perm || perm & ~MEMTOPO_IOMMU_RW || addr & MEMTOPO_IOMMU_PAGE_MASK ||
	    !target || target->ctx != iommu->ctx || target->dead)
		return -EINVAL;
	if (size - 1 > U64_MAX - addr)
		return -EOVERFLOW;
	io = memtopo_iommu_locked(iommu);
	old = memtopo_iommu_table_locked(iommu, io);
	i = memtopo_iommu_first(old, iova);
	nr = old ? old->nr : 0;
	if (i < nr && old->map[i].iova <= last)
		return -EEXIST;
	if (nr >= MEMTOPO_IOMMU_MAX_MAPPINGS)
		return -ENOSPC;
	io = memtopo_iommu_get(iommu);
	if (!io)
		return -ENOMEM;
	new = memtopo_iommu_table_alloc(iommu, old, nr + 1);
	if (IS_ERR(new))
		return PTR_ERR(new);
	if (i)
		memcpy(new->map, old->map, i * sizeof(*m));
	if (nr > i)
		memcpy(&new->map[i + 1], &old->map[i], (nr - i) * sizeof(*m));
	m = &new->map[i];
	*m = (struct memtopo_iommu_ent) {
		.iova = iova, .last = last, .addr = addr, .serial = target->serial,
		.space = target->id, .perm = perm,
	};
	memtopo_iommu_publish(iommu, io, old, new);
	memtopo_iommu_notify_range(iommu, MEMTOPO_IOMMU_NOTIFIER_MAP, m, iova, last);
	return 0;
}
EXPORT_SYMBOL_NS_GPL(memtopo_iommu_map_locked, MEMTOPO);
MEMTOPO_LOCKED_WRAPPER(iommu_map, iommu->ctx,
		       (struct memtopo_region *iommu, u64 iova, u64 size,
			struct memtopo_space *target, u64 addr, unsigned int perm),
		       (iommu, iova, size, target, addr, perm));

/*
 * Remove [@iova, @last] from the table.  @strict: every page of it must be
 * mapped (-ENOENT otherwise); else whatever is mapped there goes.  Mappings
 * that cross the bounds are cut.
 */
static int memtopo_iommu_unmap_range(struct memtopo_region *iommu, u64 iova, u64 last,
				     bool strict)
{
	struct memtopo_iommu *io = memtopo_iommu_locked(iommu);
	struct memtopo_iommu_table *old = memtopo_iommu_table_locked(iommu, io), *new;
	u32 nr = old ? old->nr : 0, i = memtopo_iommu_first(old, iova), j, k, extra = 0;
	const struct memtopo_iommu_ent *m;
	u64 pos = iova;

	/* mappings i .. k - 1 meet the range */
	for (k = i; k < nr && old->map[k].iova <= last; k++) {
		if (strict && old->map[k].iova > pos)
			return -ENOENT;
		pos = old->map[k].last + 1;
	}
	if (strict && (k == i || old->map[k - 1].last < last))
		return -ENOENT;
	if (k == i)
		return 0;
	if (old->map[i].iova < iova)
		extra++;
	if (old->map[k - 1].last > last)
		extra++;
	/* cutting a mapping in two may not grow the table past the cap either */
	if (nr - (k - i) + extra > MEMTOPO_IOMMU_MAX_MAPPINGS)
		return -ENOSPC;
	/* allocated before anyone is told, so a failure changes nothing */
	new = memtopo_iommu_table_alloc(iommu, old, nr - (k - i) + extra);
	if (IS_ERR(new))
		return PTR_ERR(new);
	for (j = i; j < k; j++) {
		m = &old->map[j];
		memtopo_iommu_notify_range(iommu, MEMTOPO_IOMMU_NOTIFIER_UNMAP, m,
					   max(m->iova, iova), min(m->last, last));
	}
	if (i)
		memcpy(new->map, old->map, i * sizeof(*m));
	j = i;
	if (old->map[i].iova < iova) {
		new->map[j] = old->map[i];
		new->map[j++].last = iova - 1;
	}
	if (old->map[k - 1].last > last) {
		m = &old->map[k - 1];
		new->map[j] = *m;
		new->map[j].iova = last + 1;
		new->map[j++].addr = m->addr + (last + 1 - m->iova);
	}
	if (nr > k)
		memcpy(&new->map[j], &old->map[k], (nr - k) * sizeof(*m));
	memtopo_iommu_publish(iommu, io, old, new);
	return 0;
}

/**
 * memtopo_iommu_unmap_locked() - unmap [@iova, @iova + @size) of a table
 * IOMMU, iommufd's IOMMU_IOAS_UNMAP.
 * @iommu: a MEMTOPO_IOMMU region made without ops.
 * @iova: first IOVA, a multiple of MEMTOPO_IOMMU_PAGE_SIZE.
 * @size: bytes, a non-zero multiple of MEMTOPO_IOMMU_PAGE_SIZE.
 *
 * Every page of the range must be mapped; mappings that cross its bounds
 * keep their parts outside it.  All or nothing: the UNMAP notifiers are
 * told (one aligned entry at a time) while the old table is still the
 * published one, then the new table replaces it.
 *
 * Context: the context mutex held; may sleep (notifiers may).
 * Return: 0; -EINVAL for a region that is not a table IOMMU or a bad
 * alignment or size; -EOVERFLOW past 2^64; -ENOENT if @iommu was destroyed
 * or a page of the range is not mapped (nothing is unmapped then); -ENOSPC if cutting a mapping
 * in two grows the table past MEMTOPO_IOMMU_MAX_MAPPINGS or the context's
 * memory budget; -ENOMEM.
 */
int memtopo_iommu_unmap_locked(struct memtopo_region *iommu, u64 iova, u64 size)
{
	u64 last;
	int ret;

	ret = memtopo_iommu_range_check(iommu, iova, size, &last);
	if (ret)
		return ret;
	return memtopo_iommu_unmap_range(iommu, iova, last, true);
}
EXPORT_SYMBOL_NS_GPL(memtopo_iommu_unmap_locked, MEMTOPO);
MEMTOPO_LOCKED_WRAPPER(iommu_unmap, iommu->ctx,
		       (struct memtopo_region *iommu, u64 iova, u64 size), (iommu, iova, size));

/**
 * memtopo_iommu_unmap_all_locked() - unmap every mapping of a table IOMMU.
 * @iommu: a MEMTOPO_IOMMU region made without ops.
 *
 * Context: the context mutex held; may sleep (notifiers may).
 * Return: 0 (also for an empty table); -EINVAL for a region that is not a
 * table IOMMU; -ENOENT if @iommu was destroyed; -ENOMEM.
 */
int memtopo_iommu_unmap_all_locked(struct memtopo_region *iommu)
{
	int ret = memtopo_iommu_table_check(iommu);

	return ret ?: memtopo_iommu_unmap_range(iommu, 0, U64_MAX, false);
}

/**
 * memtopo_iommu_mappings_locked() - copy a table IOMMU's mappings.
 * @iommu: a table IOMMU.
 * @buf: room for @cap mappings, in IOVA order.
 * @cap: capacity of @buf.
 * @nr: set to the number of mappings (copied only if they all fit).
 *
 * Context: the context mutex held.
 * Return: 0; -EINVAL for a region that is not a table IOMMU; -ENOSPC when
 * @cap is too small (nothing copied, *@nr set).
 */
int memtopo_iommu_mappings_locked(struct memtopo_region *iommu,
				  struct memtopo_iommu_ent *buf, u32 cap, u32 *nr)
{
	struct memtopo_iommu_table *t;
	int ret = memtopo_iommu_table_check(iommu);

	if (ret)
		return ret;
	t = memtopo_iommu_table_locked(iommu, memtopo_iommu_locked(iommu));
	*nr = t ? t->nr : 0;
	if (*nr > cap)
		return -ENOSPC;
	if (*nr)
		memcpy(buf, t->map, *nr * sizeof(*buf));
	return 0;
}

/**
 * memtopo_iommu_target_gone_locked() - whether a mapping's target space is gone.
 * @iommu: the table IOMMU holding @e.
 * @e: one of its mappings, as memtopo_iommu_mappings_locked() copied it.
 *
 * A mapping names its target by ID and serial: the space was destroyed,
 * or its create undone by a failed commit, when no living space has both
 * (the ID alone may name a newer space, which the mapping never reaches).
 * A destroy in an open transaction counts: if its commit fails, the
 * space and the mapping's way to it come back.
 *
 * Context: the context mutex held.
 * Return: true if the mapping leads to no space.
 */
bool memtopo_iommu_target_gone_locked(struct memtopo_region *iommu,
				      const struct memtopo_iommu_ent *e)
{
	memtopo_assert_locked(iommu->ctx);
	return !memtopo_iommu_ent_target(iommu, e);
}

static unsigned int memtopo_iommu_flags_of(struct memtopo_iommu *io,
					   const struct memtopo_iommu_notifier *skip)
{
	struct memtopo_iommu_notifier *n;
	unsigned int flags = 0;

	list_for_each_entry(n, &io->notifiers, link)
		if (n != skip)
			flags |= n->flags;
	return flags;
}

#define MEMTOPO_IOMMU_NOTIFIER_ALL						\
	(MEMTOPO_IOMMU_NOTIFIER_IOTLB_EVENTS | MEMTOPO_IOMMU_NOTIFIER_DEVIOTLB_UNMAP)

/**
 * memtopo_iommu_register_notifier_locked() - QEMU's
 * memory_region_register_iommu_notifier().
 * @iommu: an IOMMU region.
 * @n: the notifier: @notify, @flags, @start, @end and @iommu_idx filled
 *	in; not registered.
 *
 * @n holds a reference on @iommu until it is unregistered.  Nothing is
 * replayed (memtopo_iommu_replay_locked() does that); with ops, their
 * notify_flag_changed hears the new union of flags and may refuse it.
 *
 * Context: the context mutex held.
 * Return: 0; -EINVAL for a region that is not an IOMMU, no @notify, no or
 * unknown @flags, @start above @end or an @iommu_idx the IOMMU does not
 * have; -ENOENT if @iommu was destroyed; -EBUSY if @n is registered
 * already; -ENOMEM; notify_flag_changed's error.  On error nothing is
 * registered.
 */
int memtopo_iommu_register_notifier_locked(struct memtopo_region *iommu,
					   struct memtopo_iommu_notifier *n)
{
	struct memtopo_iommu *io;
	unsigned int flags;
	int ret;

	memtopo_assert_locked(iommu->ctx);
	if (!memtopo_is_iommu(iommu) || !n->notify ||
	    !n->flags || n->flags & ~MEMTOPO_IOMMU_NOTIFIER_ALL || n->start > n->end ||
	    n->iommu_idx < 0 || n->iommu_idx >= memtopo_iommu_num_indexes(iommu))
		return -EINVAL;
	ret = memtopo_region_check_live(iommu);
	if (ret)
		return ret;
	if (n->iommu)
		return -EBUSY;
	io = memtopo_iommu_get(iommu);
	if (!io)
		return -ENOMEM;
	flags = io->notifier_flags | n->flags;
	if (io->ops && io->ops->notify_flag_changed && flags != io->notifier_flags) {
		ret = io->ops->notify_flag_changed(iommu, io->notifier_flags, flags);
		if (ret)
			return ret;
	}
	io->notifier_flags = flags;
	list_add_tail(&n->link, &io->notifiers);
	n->iommu = iommu;
	memtopo_region_get(iommu);
	return 0;
}
EXPORT_SYMBOL_NS_GPL(memtopo_iommu_register_notifier_locked, MEMTOPO);

/**
 * memtopo_iommu_unregister_notifier_locked() - QEMU's
 * memory_region_unregister_iommu_notifier().
 * @n: a registered notifier; it hears nothing more.
 *
 * Context: the mutex of the notifier's region's context held.
 */
void memtopo_iommu_unregister_notifier_locked(struct memtopo_iommu_notifier *n)
{
	struct memtopo_region *iommu = n->iommu;
	struct memtopo_iommu *io;
	unsigned int flags;

	if (WARN_ON_ONCE(!iommu))
		return;
	memtopo_assert_locked(iommu->ctx);
	io = memtopo_iommu_locked(iommu);
	flags = memtopo_iommu_flags_of(io, n);
	if (io->ops && io->ops->notify_flag_changed && flags != io->notifier_flags)
		io->ops->notify_flag_changed(iommu, io->notifier_flags, flags);
	io->notifier_flags = flags;
	list_del(&n->link);
	n->iommu = NULL;
	memtopo_region_put(iommu);
}
EXPORT_SYMBOL_NS_GPL(memtopo_iommu_unregister_notifier_locked, MEMTOPO);

/**
 * memtopo_iommu_unregister_notifier() - unregister an IOMMU notifier.
 * @n: a registered notifier.
 *
 * Context: process context; takes the context mutex.
 */
void memtopo_iommu_unregister_notifier(struct memtopo_iommu_notifier *n)
{
	struct memtopo_ctx *ctx = n->iommu->ctx;

	memtopo_ctx_lock(ctx);
	memtopo_iommu_unregister_notifier_locked(n);
	memtopo_ctx_unlock(ctx);
}
EXPORT_SYMBOL_NS_GPL(memtopo_iommu_unregister_notifier, MEMTOPO);

/*
 * QEMU's default memory_region_iommu_replay() translates every granule of
 * the notifier's range; this one steps block by block instead: an entry is
 * reported once and its whole block skipped, and a miss skips the block
 * the translate says has no translation (its addr_mask; one page when it
 * says nothing).  A translation is at least a page: an entry smaller than
 * one would otherwise make the walk crawl.  So an identity map in 1 GiB
 * entries, or a page table with empty upper levels, replays in a few
 * steps however large the region.
 */
static int memtopo_iommu_replay_blocks(struct memtopo_region *iommu,
				       struct memtopo_iommu_notifier *n)
{
	struct memtopo_iotlb_event ev = { .type = MEMTOPO_IOMMU_NOTIFIER_MAP };
	u64 last = min(n->end, memtopo_region_last_off(iommu));
	u64 addr = n->start & ~MEMTOPO_IOMMU_PAGE_MASK;
	unsigned int steps = 0;

	if (memtopo_region_empty(iommu) || n->start > last)
		return 0;
	for (;;) {
		if (++steps > MEMTOPO_IOMMU_REPLAY_MAX_STEPS)
			return -E2BIG;
		rcu_read_lock();
		memtopo_iommu_translate_rcu(iommu, addr, MEMTOPO_IOMMU_NONE, n->iommu_idx,
					    &ev.entry);
		rcu_read_unlock();
		if (ev.entry.perm != MEMTOPO_IOMMU_NONE)
			memtopo_iommu_notify_one(n, &ev);
		/* the last byte of the block holding @addr: never below @addr */
		addr |= ev.entry.addr_mask | MEMTOPO_IOMMU_PAGE_MASK;
		if (addr >= last)
			return 0;
		addr++;
	}
}

/**
 * memtopo_iommu_replay_locked() - QEMU's memory_region_iommu_replay(): tell
 * @n about every mapping in its range as MAP entries.
 * @iommu: the IOMMU region @n is registered on.
 * @n: the notifier; only it is called.
 *
 * A table IOMMU reports its mappings (cut to aligned entries) but those
 * into a destroyed space, which translate nothing; an IOMMU with ops uses
 * their replay, or translates block after block, each entry's or miss's
 * addr_mask deciding where the next one starts.
 *
 * Context: the context mutex held; may sleep (the notifier may).
 * Return: 0; -EINVAL if @n is not registered on @iommu; -E2BIG when the
 * block-by-block replay would take more than 2^20 translations (a
 * translate that reports page-sized misses over a large range; what was
 * replayed stays told).
 */
int memtopo_iommu_replay_locked(struct memtopo_region *iommu, struct memtopo_iommu_notifier *n)
{
	struct memtopo_iommu *io;
	struct memtopo_iommu_table *t;
	u32 i;

	memtopo_assert_locked(iommu->ctx);
	if (n->iommu != iommu)
		return -EINVAL;
	io = memtopo_iommu_locked(iommu);
	if (io->ops) {
		if (!io->ops->replay)
			return memtopo_iommu_replay_blocks(iommu, n);
		io->ops->replay(iommu, n);
		return 0;
	}
	if (!(n->flags & MEMTOPO_IOMMU_NOTIFIER_MAP))
		return 0;
	t = memtopo_iommu_table_locked(iommu, io);
	for (i = memtopo_iommu_first(t, n->start); t && i < t->nr; i++) {
		const struct memtopo_iommu_ent *m = &t->map[i];
		struct memtopo_notify_one one = { .n = n };
		u64 start = max(m->iova, n->start);

		if (m->iova > n->end)
			break;
		one.e.target_as = memtopo_iommu_ent_target(iommu, m);
		/* a mapping leading nowhere translates nothing: nothing to replay */
		if (!one.e.target_as)
			continue;
		one.e.perm = m->perm;
		memtopo_iommu_cut_blocks(start, min(m->last, n->end),
					 m->addr + (start - m->iova),
					 memtopo_iommu_notify_block, &one);
	}
	return 0;
}
EXPORT_SYMBOL_NS_GPL(memtopo_iommu_replay_locked, MEMTOPO);

/*
 * Documented with its prototype in <memtopo/memtopo.h>.  Process context;
 * takes the context mutex; may sleep.  Returns as
 * memtopo_iommu_register_notifier_locked(), or the replay's error (then @n
 * is unregistered again).
 */
int memtopo_iommu_register_notifier(struct memtopo_region *iommu,
				    struct memtopo_iommu_notifier *n, bool replay)
{
	struct memtopo_ctx *ctx = iommu->ctx;
	int ret;

	memtopo_ctx_lock(ctx);
	ret = memtopo_iommu_register_notifier_locked(iommu, n);
	if (!ret && replay) {
		ret = memtopo_iommu_replay_locked(iommu, n);
		if (ret)
			memtopo_iommu_unregister_notifier_locked(n);
	}
	memtopo_ctx_unlock(ctx);
	return ret;
}
EXPORT_SYMBOL_NS_GPL(memtopo_iommu_register_notifier, MEMTOPO);

/*
 * A mirror of the mappings from events alone.  When an IOMMU range comes
 * into a subscribed space's view, its subscriptions hear the mappings
 * inside it as MAP events right after its REGION_ADD, as VFIO's
 * vfio_listener_region_add() registers its notifier and calls
 * memory_region_iommu_replay(); a subscription registering with replay
 * hears them for every IOMMU range after the REGION_ADD replay.  The
 * entries are those memtopo_iommu_replay_locked() tells a notifier on the
 * range (a mapping into a destroyed space translates nothing and is not
 * told), cut to the range as any event.  A range that leaves the view
 * tells no UNMAP: REGION_DEL means its mappings are gone, and the
 * subscriber drops them itself, as vfio_listener_region_del() unmaps the
 * whole section once it has unregistered the notifier.
 */
struct memtopo_iommu_emit_replay {
	struct memtopo_iommu_notifier n;
	struct memtopo_iommu_emit e;
};

static void memtopo_iommu_emit_replayed(struct memtopo_iommu_notifier *n,
					const struct memtopo_iotlb_entry *entry)
{
	struct memtopo_iommu_emit_replay *r = container_of(n, struct memtopo_iommu_emit_replay, n);

	r->e.entry = entry;
	memtopo_iommu_emit_range(r->e.s, &r->e);
}

/* The mappings inside range @s of @as, as MAP events to @only or to all. */
static void memtopo_iommu_emit_mappings(struct memtopo_space *as, struct memtopo_listener *only,
					const struct memtopo_section *s)
{
	struct memtopo_iommu_emit_replay r = {
		.n = {
			.notify = memtopo_iommu_emit_replayed,
			.flags = MEMTOPO_IOMMU_NOTIFIER_MAP,
			.start = s->offset,
			.end = s->offset + (s->last - s->start),
			/* replayed to, never registered: nobody else calls it */
			.iommu = s->mr,
		},
		.e = { .as = as, .only = only, .s = s, .type = MEMTOPO_EVENT_IOMMU_MAP },
	};
	int idx, nr;

	if (!memtopo_is_iommu(s->mr) || !memtopo_iommu_locked(s->mr))
		return;
	nr = memtopo_iommu_num_indexes(s->mr);
	for (idx = 0; idx < nr; idx++) {
		r.n.iommu_idx = idx;
		r.e.iommu_idx = idx;
		if (memtopo_iommu_replay_locked(s->mr, &r.n))
			pr_warn_ratelimited("IOMMU %s: only part of its mappings replayed to subscriptions\n",
					    memtopo_region_name(s->mr));
	}
}

/**
 * memtopo_iommu_range_add() - a flat range came into @as's view, right
 * after its region_add: if it shows an IOMMU, the subscriptions of @as
 * hear the mappings inside it as MAP events.
 * @as: the space, context locked.
 * @s: the range, in the new view.
 */
void memtopo_iommu_range_add(struct memtopo_space *as, const struct memtopo_section *s)
{
	if (memtopo_is_iommu(s->mr) && memtopo_space_subscribed_locked(as))
		memtopo_iommu_emit_mappings(as, NULL, s);
}

static void memtopo_iommu_replay_range(const struct memtopo_section *s, void *opaque)
{
	struct memtopo_listener *l = opaque;

	if (memtopo_is_iommu(s->mr))
		memtopo_iommu_emit_mappings(l->space, l, s);
}

/**
 * memtopo_iommu_replay() - a subscription registers with replay: after the
 * REGION_ADD replay it alone hears the mappings inside every IOMMU range
 * of the view as MAP events.
 * @l: the subscription's listener, context locked.
 */
void memtopo_iommu_replay(struct memtopo_listener *l)
{
	if (l->ops->event)
		memtopo_space_sections_locked(l->space, memtopo_iommu_replay_range, l);
}
