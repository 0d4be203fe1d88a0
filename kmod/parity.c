// SPDX-License-Identifier: GPL-2.0
/*
 * The parity side of the hooks (memtopo_hooks.h) and the owner of the
 * state the parity features share: a region's struct memtopo_region_parity
 * (dirty bitmaps, ioeventfd registrations, coalescing ranges) and a
 * space's struct memtopo_space_parity (its ioeventfd set) are allocated,
 * freed and replayed to listeners here and nowhere else; each feature file
 * manages its own part of them.
 */
#include <linux/slab.h>

#include "parity.h"

/**
 * memtopo_parity_get() - a region's parity state, allocated on first use.
 * @mr: the region, context locked.
 *
 * Return: the state, or NULL on allocation failure.
 */
struct memtopo_region_parity *memtopo_parity_get(struct memtopo_region *mr)
{
	struct memtopo_region_parity *p = memtopo_parity_locked(mr);

	if (p)
		return p;
	p = kzalloc(sizeof(*p), GFP_KERNEL_ACCOUNT);
	if (!p)
		return NULL;
	INIT_LIST_HEAD(&p->ioeventfds);
	INIT_LIST_HEAD(&p->coalesced);
	INIT_LIST_HEAD(&p->efd_link);
	p->mr = mr;
	/* lockless markers and the write path may find it from now on */
	rcu_assign_pointer(mr->parity, p);
	return p;
}

/**
 * memtopo_space_parity_get() - a space's parity state, allocated on first use.
 * @as: the space, context locked.
 *
 * Return: the state, or NULL on allocation failure.
 */
struct memtopo_space_parity *memtopo_space_parity_get(struct memtopo_space *as)
{
	memtopo_assert_locked(as->ctx);
	if (!as->parity) {
		as->parity = kzalloc(sizeof(*as->parity), GFP_KERNEL_ACCOUNT);
		if (as->parity)
			INIT_LIST_HEAD(&as->parity->discard_listeners);
	}
	return as->parity;
}

/**
 * memtopo_ctx_parity_get() - a context's parity state, allocated on first use.
 * @ctx: the context, locked.
 *
 * Return: the state, or NULL on allocation failure.
 */
struct memtopo_ctx_parity *memtopo_ctx_parity_get(struct memtopo_ctx *ctx)
{
	memtopo_assert_locked(ctx);
	if (!ctx->parity) {
		ctx->parity = kzalloc(sizeof(*ctx->parity), GFP_KERNEL_ACCOUNT);
		if (ctx->parity)
			INIT_LIST_HEAD(&ctx->parity->efd_regions);
	}
	return ctx->parity;
}

void memtopo_hook_ctx_free(struct memtopo_ctx *ctx)
{
	kfree(ctx->parity);
	ctx->parity = NULL;
}

int memtopo_hook_dirty_prepare(struct memtopo_region *mr, u8 mask, u8 *fresh)
{
	return memtopo_dirty_prepare(mr, mask, fresh);
}

void memtopo_hook_dirty_unprepare(struct memtopo_region *mr, u8 fresh)
{
	memtopo_dirty_unprepare(mr, fresh);
}

void memtopo_hook_dirty_log_on(struct memtopo_region *mr)
{
	memtopo_dirty_log_on(mr);
}

void memtopo_hook_region_free(struct memtopo_region *mr)
{
	struct memtopo_region_parity *p = rcu_dereference_protected(mr->parity, 1);
	struct memtopo_udev *udev;

	if (!p)
		return;
	memtopo_dirty_free(p);
	memtopo_ioeventfds_free(p);
	memtopo_coalesced_free(p);
	memtopo_discard_free(p);
	memtopo_iommu_free(p);
	kfree(p->aliases);
	/* a served device: its waiting accessors fail, its server sees EOF */
	udev = rcu_dereference_protected(p->udev, 1);
	if (udev) {
		udev->gone(udev);
		memtopo_udev_put(udev);
	}
	kfree(p);
	RCU_INIT_POINTER(mr->parity, NULL);
}

void memtopo_hook_region_destroyed(struct memtopo_region *mr)
{
	if (!memtopo_parity_locked(mr))
		return;
	memtopo_ioeventfds_uncount(mr);
	memtopo_discard_uncharge(mr);
	memtopo_iommu_uncharge(mr);
}

int memtopo_hook_alias_create(struct memtopo_region *target)
{
	return memtopo_parity_get(target) ? 0 : -ENOMEM;
}

void memtopo_hook_alias_mapped(struct memtopo_region *alias, int delta)
{
	struct memtopo_region_parity *p;
	struct memtopo_region *t;

	memtopo_assert_locked(alias->ctx);
	for (t = memtopo_region_alias_target(alias); t; t = memtopo_region_alias_target(t)) {
		p = memtopo_parity_locked(t);
		/* memtopo_hook_alias_create() made it with the alias targeting @t */
		if (WARN_ON_ONCE(!p))
			return;
		WARN_ON_ONCE(delta < 0 && !p->mapped_via_alias);
		p->mapped_via_alias += delta;
	}
}

/* The live aliases targeting a region (memtopo_hook_aliases_of()). */
struct memtopo_alias_index {
	u32 nr, cap;
	struct memtopo_region *alias[];
};

static struct memtopo_alias_index *memtopo_alias_index_build(const struct memtopo_region *target)
{
	struct memtopo_alias_index *idx;
	struct memtopo_region *a;
	u32 cap = max(target->alias_users, 4U);
	unsigned long id;

	idx = kmalloc(struct_size(idx, alias, cap), GFP_KERNEL_ACCOUNT);
	if (!idx)
		return NULL;
	idx->nr = 0;
	idx->cap = cap;
	/* a destroyed region's slot holds NULL: only the live ones count */
	xa_for_each(&target->ctx->objects, id, a) {
		if (memtopo_region_alias_target(a) != target)
			continue;
		if (WARN_ON_ONCE(idx->nr == cap)) {
			kfree(idx);
			return NULL;
		}
		idx->alias[idx->nr++] = a;
	}
	WARN_ON_ONCE(idx->nr != target->alias_users);
	return idx;
}

int memtopo_hook_aliases_of(const struct memtopo_region *target,
			    struct memtopo_region *const **aliases)
{
	struct memtopo_region_parity *p = memtopo_parity_locked(target);

	if (!target->alias_users)
		return 0;
	/* memtopo_hook_alias_create() made it for the first alias */
	if (WARN_ON_ONCE(!p))
		return -ENOMEM;
	if (!p->aliases)
		p->aliases = memtopo_alias_index_build(target);
	if (!p->aliases)
		return -ENOMEM;
	*aliases = p->aliases->alias;
	return p->aliases->nr;
}

void memtopo_hook_alias_link(struct memtopo_region *alias, bool linked)
{
	struct memtopo_region_parity *p = memtopo_parity_locked(alias->alias);
	struct memtopo_alias_index *idx = p ? p->aliases : NULL, *grown;
	u32 i;

	memtopo_assert_locked(alias->ctx);
	if (!idx)
		return;
	if (linked) {
		if (idx->nr == idx->cap) {
			grown = krealloc(idx, struct_size(idx, alias, 2 * idx->cap),
					 GFP_KERNEL_ACCOUNT);
			if (!grown) {
				/* the next walk that needs it builds it again */
				kfree(idx);
				p->aliases = NULL;
				return;
			}
			idx = grown;
			idx->cap *= 2;
			p->aliases = idx;
		}
		idx->alias[idx->nr++] = alias;
		return;
	}
	for (i = 0; i < idx->nr; i++) {
		if (idx->alias[i] == alias) {
			idx->alias[i] = idx->alias[--idx->nr];
			return;
		}
	}
	WARN_ON_ONCE(1);
}

bool memtopo_hook_mapped_via_alias(const struct memtopo_region *mr)
{
	struct memtopo_region_parity *p = memtopo_parity_locked(mr);

	return p && p->mapped_via_alias;
}

int memtopo_hook_iommu_translate(struct memtopo_section *s, u64 *addr, u64 *len, bool is_write)
{
	return memtopo_iommu_walk_rcu(s, addr, len, is_write, 0, NULL);
}

int memtopo_hook_space_prepare(struct memtopo_space *as, const struct memtopo_view *view)
{
	return memtopo_ioeventfds_prepare(as, view);
}

void memtopo_hook_space_unprepare(struct memtopo_space *as)
{
	memtopo_ioeventfds_unprepare(as);
}

void memtopo_hook_space_published(struct memtopo_space *as)
{
	memtopo_ioeventfds_update(as);
}

void memtopo_hook_space_destroy(struct memtopo_space *as)
{
	if (!as->parity)
		return;
	memtopo_discard_space_destroy(as->parity);
	memtopo_ioeventfds_space_free(as->parity);
	kfree(as->parity);
	as->parity = NULL;
}

void memtopo_hook_space_free_deferred(struct rcu_head *head, void (*free)(struct rcu_head *head))
{
	memtopo_dispatch_defer(head, free);
}

void memtopo_hook_range_del(struct memtopo_space *as, const struct memtopo_section *s)
{
	memtopo_discard_range_del(as, s);
	memtopo_coalesced_fr_del(as, s);
}

bool memtopo_hook_space_watched(const struct memtopo_space *as)
{
	return memtopo_discard_space_watched(as);
}

void memtopo_hook_range_add(struct memtopo_space *as, const struct memtopo_section *s)
{
	memtopo_coalesced_fr_add(as, s);
	memtopo_discard_range_add(as, s);
	memtopo_iommu_range_add(as, s);
}

/*
 * The replay: registering gets log_global_start first, as in QEMU's
 * listener_add_address_space(), and after the ranges coalesced_io_add for
 * every visible coalescing range, then eventfd_add for the space's set.
 * Unregistering gets eventfd_del and coalesced_io_del for everything before
 * the region_del replay, and ends with log_global_stop while global logging
 * is on.  A listener that refuses log_global_start is not registered
 * (QEMU's listener_add_address_space() aborts there).  QEMU replays neither
 * ioeventfds nor coalesced ranges; we do, so a mirroring listener sees the
 * whole state whenever it comes and goes.  A registering subscription
 * also hears, after the ranges, the populated parts of discard-managed
 * ranges (discard.c) and the mappings inside IOMMU ranges (iommu.c).
 */
int memtopo_hook_replay_begin(struct memtopo_listener *l, bool adding)
{
	memtopo_assert_locked(l->space->ctx);
	if (adding) {
		if (memtopo_ctx_global_dirty(l->space->ctx) && l->ops->log_global_start)
			return l->ops->log_global_start(l->priv);
		return 0;
	}
	memtopo_ioeventfds_replay(l, false);
	memtopo_coalesced_replay(l, false);
	memtopo_discard_replay(l, false);
	return 0;
}

void memtopo_hook_replay_end(struct memtopo_listener *l, bool adding)
{
	memtopo_assert_locked(l->space->ctx);
	if (!adding) {
		if (memtopo_ctx_global_dirty(l->space->ctx) && l->ops->log_global_stop)
			l->ops->log_global_stop(l->priv);
		return;
	}
	memtopo_coalesced_replay(l, true);
	memtopo_ioeventfds_replay(l, true);
	memtopo_discard_replay(l, true);
	memtopo_iommu_replay(l);
}

static void memtopo_parity_undo(struct memtopo_undo *u, bool forget)
{
	switch ((enum memtopo_parity_undo)u->sub) {
	case MEMTOPO_PUNDO_IOEVENTFD_ADD:
	case MEMTOPO_PUNDO_IOEVENTFD_DEL:
		memtopo_ioeventfd_undo(u, forget);
		return;
	case MEMTOPO_PUNDO_COALESCED_ADD:
	case MEMTOPO_PUNDO_COALESCED_DEL:
	case MEMTOPO_PUNDO_COALESCED_CLEAR:
		memtopo_coalesced_undo(u, forget);
		return;
	case MEMTOPO_PUNDO_GLOBAL_START:
	case MEMTOPO_PUNDO_GLOBAL_STOP:
		memtopo_dirty_undo(u, forget);
		return;
	case MEMTOPO_PUNDO_VGA_COUNT:
		if (!forget)
			memtopo_dirty_count_undo(u);
		return;
	}
	WARN_ONCE(1, "memtopo: parity undo record of unknown kind %u\n", u->sub);
}

void memtopo_hook_undo(struct memtopo_undo *u)
{
	memtopo_parity_undo(u, false);
}

void memtopo_hook_undo_forget(struct memtopo_undo *u)
{
	memtopo_parity_undo(u, true);
}
