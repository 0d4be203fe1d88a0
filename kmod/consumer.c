// SPDX-License-Identifier: GPL-2.0
/*
 * The consumer's read side: what a kernel module that subscribed to a
 * space reads back, after QEMU's read API (flatview_for_each_range(),
 * memory_region_find(), address_space_translate(), the memory_region_*()
 * getters).  Everything here only reads the engine: walks of a published
 * view run under RCU alone, questions about the tree take the context
 * mutex.
 */
#include <linux/export.h>
#include <linux/minmax.h>
#include <linux/overflow.h>

#include "memtopo_internal.h"
#include "memtopo_hooks.h"
#include "selftest.h"

/*
 * Clip the range entry at @p holds to [@addr, @last] and describe it: the
 * offset within the region moves with the clipped start.
 */
static void memtopo_clip_section(const struct memtopo_view_pos *p, u64 addr, u64 last,
				 struct memtopo_section *s)
{
	memtopo_pos_section(p, s);
	if (s->start < addr) {
		s->offset += addr - s->start;
		s->start = addr;
	}
	s->last = min(s->last, last);
}

/* The first range of @view that intersects [@addr, @last]. */
static bool memtopo_view_first_in(const struct memtopo_view *view, u64 addr, u64 last,
				  struct memtopo_section *s)
{
	struct memtopo_view_pos p;

	memtopo_pos_find(&p, view, addr);
	for (; p.i < view->nr && memtopo_pos_start(&p) <= last; memtopo_pos_next(&p)) {
		if (memtopo_pos_fr(&p)->mr) {
			memtopo_clip_section(&p, addr, last, s);
			return true;
		}
	}
	return false;
}

/* [@addr, @addr + @size - 1], clipped at the top of the 64-bit space. */
static int memtopo_range_last(u64 addr, u64 size, u64 *last)
{
	if (!size)
		return -EINVAL;
	if (check_add_overflow(addr, size - 1, last))
		*last = U64_MAX;
	return 0;
}

/**
 * memtopo_space_walk_ranges() - call @cb for every range of a space's
 * view, in address order (QEMU's flatview_for_each_range()).
 * @as: the space.
 * @cb: called with each section (holes are skipped); a nonzero return
 *	stops the walk and is returned.  It must not sleep.
 * @opaque: passed to @cb.
 *
 * The walk reads the one view published when it starts: every section
 * carries that view's generation, and a commit made meanwhile is not seen
 * (walk again, or compare with memtopo_space_generation(), to see it).
 *
 * Context: rcu_read_lock() held; the sections' regions are valid until it
 * is dropped (memtopo_region_get() one to keep it).
 * Return: 0 once every range was visited, @cb's nonzero return, or
 * -ENOENT if @as is being destroyed and has no view.
 */
int memtopo_space_walk_ranges(struct memtopo_space *as,
			      int (*cb)(const struct memtopo_section *s, void *opaque),
			      void *opaque)
{
	const struct memtopo_view *view = rcu_dereference(as->view);
	struct memtopo_view_pos p;
	struct memtopo_section s;
	int ret;

	if (!view)
		return -ENOENT;
	for (memtopo_pos_walk(&p, view); memtopo_pos_shown(&p, &s); memtopo_pos_next_ahead(&p)) {
		ret = cb(&s, opaque);
		if (ret)
			return ret;
	}
	return 0;
}
EXPORT_SYMBOL_NS_GPL(memtopo_space_walk_ranges, MEMTOPO);

/*
 * A view may still show a region whose last reference is gone (its final
 * put waits only for the commit that removed it, then for RCU): such a
 * view is already replaced, so a fresh look finds the current one.
 */
#define MEMTOPO_FIND_TRIES	4

/**
 * memtopo_space_find_range() - the first range of a space that intersects
 * [@addr, @addr + @size), with a reference (QEMU's memory_region_find() on
 * the space's root).
 * @as: the space.
 * @addr: first address.
 * @size: bytes, at least 1; a range running past 2^64 stops there.
 * @out: the intersection: @out->start is its address in the space,
 *	@out->last its last address (so its size is last - start + 1),
 *	@out->offset the offset of @out->start within @out->mr, @out->flags
 *	and @out->generation those of the view.
 *
 * @out->mr holds a reference the caller drops with memtopo_region_put();
 * it keeps the region in memory, not in the view.
 *
 * Context: any context that may take rcu_read_lock(); it takes no lock.
 * Return: 0, -EINVAL for a zero @size, -ENOENT if nothing is mapped in the
 * range (or @as is being destroyed), -EAGAIN if the range kept showing
 * regions being freed (retry).
 */
int memtopo_space_find_range(struct memtopo_space *as, u64 addr, u64 size,
			     struct memtopo_section *out)
{
	const struct memtopo_view *view;
	int ret, tries;
	u64 last;

	ret = memtopo_range_last(addr, size, &last);
	if (ret)
		return ret;
	rcu_read_lock();
	for (tries = 0, ret = -EAGAIN; tries < MEMTOPO_FIND_TRIES; tries++) {
		view = rcu_dereference(as->view);
		if (!view || !memtopo_view_first_in(view, addr, last, out)) {
			ret = -ENOENT;
			break;
		}
		if (refcount_inc_not_zero(&out->mr->ref)) {
			ret = 0;
			break;
		}
	}
	rcu_read_unlock();
	return ret;
}
EXPORT_SYMBOL_NS_GPL(memtopo_space_find_range, MEMTOPO);

/*
 * The space @mr's topmost container is the root of, and where @addr in
 * @mr lies in it, as memory_region_find() climbs: every level's address
 * counts, the root's too, because the root renders at its own address.
 */
static struct memtopo_space *memtopo_region_space_locked(struct memtopo_region *mr,
							 u64 *addr)
{
	struct memtopo_region *top;
	struct memtopo_space *as;

	for (top = mr; top; top = top->parent) {
		if (check_add_overflow(*addr, top->addr, addr))
			return NULL;	/* past 2^64: nothing can be there */
		if (!top->parent)
			break;
	}
	list_for_each_entry(as, &mr->ctx->spaces, link) {
		if (as->root == top)
			return as;
	}
	return NULL;
}

/**
 * memtopo_region_find() - QEMU's memory_region_find(): the first range
 * intersecting [@addr, @addr + @size) of @mr, in the space whose root is
 * @mr's topmost container, with a reference.
 * @mr: the region @addr is relative to (usually a container).
 * @addr: offset within @mr.
 * @size: bytes, at least 1.
 * @out: as memtopo_space_find_range(): @out->start is the address in the
 *	space, @out->offset the offset within @out->mr, the size clipped.
 *
 * Context: process context; takes the context mutex (not held by the caller).
 * Return: 0 with a reference on @out->mr (memtopo_region_put() it),
 * -EINVAL for a zero @size, -ENOENT if @mr is destroyed, no space is
 * rooted at its topmost container or nothing is mapped in the range.
 */
int memtopo_region_find(struct memtopo_region *mr, u64 addr, u64 size,
			struct memtopo_section *out)
{
	struct memtopo_ctx *ctx = mr->ctx;
	struct memtopo_space *as;
	int ret;
	u64 last;

	ret = memtopo_range_last(addr, size, &last);
	if (ret)
		return ret;
	memtopo_ctx_lock(ctx);
	ret = memtopo_region_check_live(mr);
	if (ret)
		goto out;
	ret = -ENOENT;
	as = memtopo_region_space_locked(mr, &addr);
	if (!as)
		goto out;
	/* the climb moved @addr: recompute the clipped end in the space */
	if (check_add_overflow(addr, size - 1, &last))
		last = U64_MAX;
	if (!memtopo_view_first_in(memtopo_space_view_locked(as), addr, last, out))
		goto out;
	/* in the published view under the mutex: not yet put for good */
	memtopo_region_get(out->mr);
	ret = 0;
out:
	memtopo_ctx_unlock(ctx);
	return ret;
}
EXPORT_SYMBOL_NS_GPL(memtopo_region_find, MEMTOPO);

/**
 * memtopo_region_present() - QEMU's memory_region_present(): is a region
 * other than @container itself mapped at @addr of @container?
 * @container: the region @addr is relative to.
 * @addr: offset within @container.
 *
 * Context: process context; takes the context mutex.
 * Return: true if memtopo_region_find() of one byte finds a region that is
 * not @container.
 */
bool memtopo_region_present(struct memtopo_region *container, u64 addr)
{
	struct memtopo_section s;
	bool present;

	if (memtopo_region_find(container, addr, 1, &s))
		return false;
	present = s.mr != container;
	memtopo_region_put(s.mr);
	return present;
}
EXPORT_SYMBOL_NS_GPL(memtopo_region_present, MEMTOPO);

/**
 * memtopo_region_is_mapped() - QEMU's memory_region_is_mapped(): is @mr a
 * subregion of a container, or the target (through any chain of aliases)
 * of an alias that is?
 * @mr: the region.
 *
 * O(1): every alias that is a subregion is counted on each region down its
 * chain of targets when it gains or loses its parent.
 *
 * Context: process context; takes the context mutex.
 * Return: true if mapped.  A space's root is not mapped by itself.
 */
bool memtopo_region_is_mapped(struct memtopo_region *mr)
{
	struct memtopo_ctx *ctx = mr->ctx;
	bool mapped;

	memtopo_ctx_lock(ctx);
	mapped = mr->parent || memtopo_hook_mapped_via_alias(mr);
	memtopo_ctx_unlock(ctx);
	return mapped;
}
EXPORT_SYMBOL_NS_GPL(memtopo_region_is_mapped, MEMTOPO);

#ifdef CONFIG_MEMTOPO_TEST
/* Is @mr a subregion, or the target of a mapped alias (depth bounds it)? */
static bool memtopo_region_mapped_scan_locked(struct memtopo_region *mr, unsigned int depth)
{
	struct memtopo_region *a;
	unsigned long id;

	if (mr->parent)
		return true;
	if (!mr->alias_users || depth >= MEMTOPO_MAX_ALIAS_CHAIN)
		return false;
	xa_for_each(&mr->ctx->objects, id, a) {
		if (memtopo_region_alias_target(a) == mr &&
		    memtopo_region_mapped_scan_locked(a, depth + 1))
			return true;
	}
	return false;
}

/**
 * memtopo_region_is_mapped_scan() - memtopo_region_is_mapped() found by
 * walking every region of the context, what the counts it reads must agree
 * with (KUnit's reference).
 * @mr: a live region.
 *
 * Context: the context mutex held.
 * Return: true if mapped.
 */
bool memtopo_region_is_mapped_scan(struct memtopo_region *mr)
{
	memtopo_assert_locked(mr->ctx);
	return memtopo_region_mapped_scan_locked(mr, 0);
}
EXPORT_SYMBOL_FOR_MEMTOPO_TESTS(memtopo_region_is_mapped_scan);
#endif

/**
 * memtopo_region_get_by_id() - a live region of @ctx by the ID userspace
 * names it by, with a reference.
 * @ctx: the context (e.g. from memtopo_ctx_from_fd()).
 * @id: the region ID.
 *
 * A destroyed region is never returned, even while references keep it in
 * memory.
 *
 * Context: process context; takes the context mutex.
 * Return: the region (memtopo_region_put() it), or ERR_PTR(-ENOENT).
 */
struct memtopo_region *memtopo_region_get_by_id(struct memtopo_ctx *ctx, u32 id)
{
	struct memtopo_region *mr;

	memtopo_ctx_lock(ctx);
	mr = memtopo_region_by_id_locked(ctx, id);
	if (mr)
		memtopo_region_get(mr);
	memtopo_ctx_unlock(ctx);
	return mr ?: ERR_PTR(-ENOENT);
}
EXPORT_SYMBOL_NS_GPL(memtopo_region_get_by_id, MEMTOPO);

/* RAM kinds whose reads are direct (QEMU's memory_access_is_direct()). */
static bool memtopo_section_direct(const struct memtopo_section *s)
{
	switch (memtopo_region_kind(s->mr)) {
	case MEMTOPO_RAM:
	case MEMTOPO_ROM:
	case MEMTOPO_RAM_DEVICE:
		return true;
	case MEMTOPO_ROM_DEVICE:
		return s->flags & MEMTOPO_FR_ROMD;
	default:
		return false;
	}
}

/**
 * memtopo_space_translate_access() - QEMU's address_space_translate(): the
 * section at @addr and how far it runs, through any IOMMU on the way.
 * @as: the space.
 * @addr: the address.
 * @len: in: bytes wanted, at least 1; out: clipped to the end of the
 *	range holding @addr, and to what each IOMMU passed translates
 *	contiguously (one IOTLB entry).
 * @is_write: the access is a write: an IOMMU must grant MEMTOPO_IOMMU_WO
 *	(else MEMTOPO_IOMMU_RO).
 * @out: that range from @addr on: @out->start is the address reached (in
 *	the space the last IOMMU translated into, else @addr), @out->offset
 *	its offset within @out->mr, @out->last the last address of the
 *	clipped length.
 * @backing: if not NULL, set to the region's backing when reads of the
 *	section are direct (RAM, ROM, RAM device, ROM device in romd mode:
 *	the bytes are at @out->offset of it), else to NULL (I/O: go through
 *	memtopo_space_read()/memtopo_space_write()).  Writes are direct only
 *	without MEMTOPO_FR_READONLY in @out->flags.
 *
 * An IOMMU region found on the way is followed as QEMU's
 * address_space_translate_iommu() follows it, at most
 * MEMTOPO_IOMMU_MAX_DEPTH deep.
 *
 * Context: rcu_read_lock() held; @out->mr and *@backing are valid until it
 * is dropped.  No reference is taken (memtopo_space_find_range() takes one).
 * Return: 0, -EINVAL for a zero *@len, -ENOENT if nothing is mapped at
 * @addr (or at the address an IOMMU translates it to, or the IOMMU does
 * not translate it) or @as is being destroyed, -EACCES if an IOMMU
 * translates it without the permission the access needs, -ELOOP past
 * MEMTOPO_IOMMU_MAX_DEPTH IOMMUs.
 */
int memtopo_space_translate_access(struct memtopo_space *as, u64 addr, u64 *len,
				   bool is_write, struct memtopo_section *out,
				   const struct memtopo_backing **backing)
{
	const struct memtopo_view *view = rcu_dereference(as->view);
	u64 last;
	int ret;

	ret = memtopo_range_last(addr, *len, &last);
	if (ret)
		return ret;
	/* the range at @addr, not a later one: the lookup alone decides */
	if (!view || memtopo_view_lookup(view, addr, out))
		return -ENOENT;
	if (memtopo_region_kind(out->mr) == MEMTOPO_IOMMU) {
		u64 n = *len;

		ret = memtopo_hook_iommu_translate(out, &addr, &n, is_write);
		if (ret)
			return ret;
		last = addr + n - 1;
	}
	out->offset += addr - out->start;
	out->start = addr;
	out->last = min(out->last, last);
	*len = out->last - addr + 1;
	if (backing)
		*backing = memtopo_section_direct(out) ? memtopo_region_backing(out->mr) : NULL;
	return 0;
}
EXPORT_SYMBOL_NS_GPL(memtopo_space_translate_access, MEMTOPO);

/**
 * memtopo_space_translate() - memtopo_space_translate_access() for a read.
 * @as: the space.
 * @addr: the address.
 * @len: as memtopo_space_translate_access().
 * @out: as memtopo_space_translate_access().
 * @backing: as memtopo_space_translate_access().
 *
 * Context: rcu_read_lock() held.
 * Return: as memtopo_space_translate_access().
 */
int memtopo_space_translate(struct memtopo_space *as, u64 addr, u64 *len,
			    struct memtopo_section *out,
			    const struct memtopo_backing **backing)
{
	return memtopo_space_translate_access(as, addr, len, false, out, backing);
}
EXPORT_SYMBOL_NS_GPL(memtopo_space_translate, MEMTOPO);

/**
 * memtopo_region_size() - QEMU's memory_region_size().
 * @mr: the region.
 *
 * Context: any; without the context mutex the answer may be outdated as
 * soon as it is returned.
 * Return: the size in bytes, U64_MAX for a region of 2^64 bytes.
 */
u64 memtopo_region_size(const struct memtopo_region *mr)
{
	return (READ_ONCE(mr->flags) & MEMTOPO_RF_SIZE64) ? U64_MAX : READ_ONCE(mr->size);
}
EXPORT_SYMBOL_NS_GPL(memtopo_region_size, MEMTOPO);

/**
 * memtopo_region_address() - where a region sits in its parent (QEMU's
 * mr->addr).
 * @mr: the region.
 *
 * Context: any; as memtopo_region_size().
 * Return: the offset in the parent; the last one it had if detached.
 */
u64 memtopo_region_address(const struct memtopo_region *mr)
{
	return READ_ONCE(mr->addr);
}
EXPORT_SYMBOL_NS_GPL(memtopo_region_address, MEMTOPO);

/**
 * memtopo_region_priority() - a region's priority among its siblings.
 * @mr: the region.
 *
 * Context: any; as memtopo_region_size().
 * Return: the priority.
 */
int memtopo_region_priority(const struct memtopo_region *mr)
{
	return READ_ONCE(mr->priority);
}
EXPORT_SYMBOL_NS_GPL(memtopo_region_priority, MEMTOPO);

/**
 * memtopo_region_is_enabled() - is the region enabled?
 * @mr: the region.
 *
 * Context: any; as memtopo_region_size().
 * Return: true if enabled.
 */
bool memtopo_region_is_enabled(const struct memtopo_region *mr)
{
	return READ_ONCE(mr->flags) & MEMTOPO_RF_ENABLED;
}
EXPORT_SYMBOL_NS_GPL(memtopo_region_is_enabled, MEMTOPO);

/**
 * memtopo_region_is_readonly() - was the region made read-only with
 * memtopo_region_set_readonly()?  (ROM is read-only by kind.)
 * @mr: the region.
 *
 * Context: any; as memtopo_region_size().
 * Return: true if set read-only.
 */
bool memtopo_region_is_readonly(const struct memtopo_region *mr)
{
	return READ_ONCE(mr->flags) & MEMTOPO_RF_READONLY;
}
EXPORT_SYMBOL_NS_GPL(memtopo_region_is_readonly, MEMTOPO);

/**
 * memtopo_region_parent_locked() - the container a region is a subregion of.
 * @mr: the region; its context mutex held (the parent stays valid while it
 *	is).
 *
 * Context: the context mutex held (asserted).
 * Return: the parent, or NULL if @mr is detached.
 */
struct memtopo_region *memtopo_region_parent_locked(const struct memtopo_region *mr)
{
	memtopo_assert_locked(mr->ctx);
	return mr->parent;
}
EXPORT_SYMBOL_NS_GPL(memtopo_region_parent_locked, MEMTOPO);
