/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The hooks: the one interface between the engine core (MEMTOPO_CORE_OBJS
 * in engine.mk: contexts, regions, rendering, views, spaces, listeners,
 * windows, the commit and its undo log) and the QEMU-parity features
 * (MEMTOPO_PARITY_OBJS: dirty logging, ioeventfds, coalesced MMIO, access
 * dispatch, RAM discard, IOMMU regions).  The core calls the features only
 * through these functions, as KVM's generic code calls kvm_arch_*();
 * parity.c implements them and owns the per-region and per-space parity
 * state they manage.  Core files include this header, memtopo_internal.h,
 * compat.h and selftest.h, never parity.h or an ioctl-glue header
 * (tools/lint checks it).
 *
 * Unless a hook says otherwise it is called in process context with the
 * context mutex held, may sleep, and cannot fail.
 */
#ifndef _MEMTOPO_HOOKS_H
#define _MEMTOPO_HOOKS_H

#include "memtopo_internal.h"

struct memtopo_listener;
struct memtopo_section;

/* Regions with a RAM block in QEMU's sense: they take dirty logging. */
static inline bool memtopo_kind_has_ram(u8 kind)
{
	return kind == MEMTOPO_RAM || kind == MEMTOPO_ROM || kind == MEMTOPO_ROM_DEVICE ||
	       kind == MEMTOPO_RAM_DEVICE;
}

/**
 * memtopo_hook_dirty_log_mask() - QEMU's memory_region_get_dirty_log_mask():
 * the region's own clients, plus MIGRATION on RAM while global dirty
 * logging is on.
 * @mr: the region.
 *
 * Context: any (the renderer calls it under the context mutex, markers
 * under RCU); reads with READ_ONCE(), never sleeps.
 * Return: BIT(MEMTOPO_DIRTY_*) mask.
 */
static inline u8 memtopo_hook_dirty_log_mask(const struct memtopo_region *mr)
{
	u8 mask = READ_ONCE(mr->dirty_log_mask);

	if (memtopo_ctx_global_dirty(mr->ctx) && memtopo_kind_has_ram(mr->kind))
		mask |= BIT(MEMTOPO_DIRTY_MIGRATION);
	return mask;
}

/**
 * memtopo_hook_dirty_prepare() - a region is about to log for the clients
 * of @mask (it was created while global logging is on, or a client is being
 * enabled): allocate what markers will need before they can see the mask.
 * @mr: the region, not yet showing @mask.
 * @mask: BIT(MEMTOPO_DIRTY_*) clients.
 * @fresh: if not NULL, set to the clients it allocated for, which
 *	memtopo_hook_dirty_unprepare() gives back.
 *
 * Context: may sleep; may fail.
 * Return: 0, -E2BIG for a region too large to log, -ENOMEM.  On failure
 * nothing changed.
 */
int memtopo_hook_dirty_prepare(struct memtopo_region *mr, u8 mask, u8 *fresh);

/**
 * memtopo_hook_dirty_unprepare() - the clients a prepare allocated for
 * are off again (its change was undone): free what it allocated.
 * @mr: the region, not showing those clients.
 * @fresh: as memtopo_hook_dirty_prepare() returned it.
 */
void memtopo_hook_dirty_unprepare(struct memtopo_region *mr, u8 fresh);

/**
 * memtopo_hook_dirty_log_on() - @mr's own dirty-log mask gained clients
 * (enabled, or given back by an undo) and markers can see them: writes
 * memtopo does not see, through a process's mapping of the region's
 * kernel-owned RAM, must fault again to be marked (dirty.c).
 * @mr: the region.
 *
 * Context: may sleep (page locks).
 */
void memtopo_hook_dirty_log_on(struct memtopo_region *mr);

/**
 * memtopo_hook_region_free() - a region's memory goes: free its parity
 * state (bitmaps, ioeventfd registrations, coalescing ranges).
 * @mr: the region; nothing can reach it any more.
 *
 * Context: an RCU callback (softirq): must not sleep; no lock held.
 */
void memtopo_hook_region_free(struct memtopo_region *mr);

/**
 * memtopo_hook_region_destroyed() - a region's destroy is published (or
 * its creation undone): give back what its features charged to the
 * context's budget.  Its memory goes later, with the region's last
 * reference, maybe after the context (memtopo_hook_region_free()).
 * @mr: the region, destroyed; no change can reach its features any more.
 */
void memtopo_hook_region_destroyed(struct memtopo_region *mr);

/**
 * memtopo_hook_alias_create() - an alias of @target is about to be made:
 * allocate what counting the mapped aliases of @target needs
 * (memtopo_hook_alias_mapped()), while a failure can still be reported.
 * @target: the alias's target, not destroyed.
 *
 * The aliases down @target's own chain were made through this hook, so
 * their targets are ready already.  What is allocated stays with @target
 * until it is freed, whatever becomes of the alias.
 *
 * Context: may sleep; may fail.
 * Return: 0 or -ENOMEM (then nothing changed).
 */
int memtopo_hook_alias_create(struct memtopo_region *target);

/**
 * memtopo_hook_alias_mapped() - @alias became a subregion (@delta 1) or
 * stopped being one (@delta -1): count it on every region down its chain
 * of targets, as QEMU's mapped_via_alias.
 * @alias: a region of kind MEMTOPO_ALIAS.
 * @delta: 1 or -1.
 *
 * O(length of the chain), at most MEMTOPO_MAX_ALIAS_CHAIN.  Cannot fail:
 * memtopo_hook_alias_create() prepared every target.
 */
void memtopo_hook_alias_mapped(struct memtopo_region *alias, int delta);

/**
 * memtopo_hook_mapped_via_alias() - is @mr the target, through any chain
 * of aliases, of an alias that is a subregion?
 * @mr: the region.
 *
 * Return: true if some such alias is mapped; O(1).
 */
bool memtopo_hook_mapped_via_alias(const struct memtopo_region *mr);

/**
 * memtopo_hook_alias_link() - @alias now targets its region (created, or
 * its destroy undone: @linked) or no longer does (destroyed, or its
 * creation undone): the target's reverse alias index follows.
 * @alias: a region of kind MEMTOPO_ALIAS.
 * @linked: true when it joins, false when it leaves.
 *
 * Cannot fail: an index that cannot grow is dropped, and built again by
 * the next memtopo_hook_aliases_of().
 */
void memtopo_hook_alias_link(struct memtopo_region *alias, bool linked);

/**
 * memtopo_hook_aliases_of() - the reverse alias index: the live aliases
 * that target @target (its alias_users of them, attached or not), in no
 * particular order.
 * @target: a region with alias_users.
 * @aliases: set to the array, valid until the next change of the tree.
 *
 * The index is built on first use, by one walk of the context's regions,
 * and kept up to date from then on (memtopo_hook_alias_link()): a map
 * whose aliased regions never need it pays nothing for it.
 *
 * Context: may sleep (the first use allocates).
 * Return: how many, or -ENOMEM (then the caller must do without).
 */
int memtopo_hook_aliases_of(const struct memtopo_region *target,
			    struct memtopo_region *const **aliases);

/**
 * memtopo_hook_iommu_translate() - an access landed on an IOMMU region:
 * follow it through that IOMMU (and any it leads to) as QEMU's
 * address_space_translate_iommu() does (iommu.c).
 * @s: in: the section holding *@addr, its region a MEMTOPO_IOMMU; out: the
 *	section holding the translated address in the space the walk ended
 *	in, whose region is no IOMMU.
 * @addr: in: the address in @s's space; out: in the final space.
 * @len: in: bytes wanted, at least 1; out: clipped to what every IOMMU
 *	passed translates contiguously.
 * @is_write: a write (needs MEMTOPO_IOMMU_WO), else a read (_RO).
 *
 * Context: rcu_read_lock() held, no lock needed; never sleeps.
 * Return: 0; -ENOENT for an IOVA without translation or nothing mapped at
 * the translated address; -EACCES for a translation without the needed
 * permission; -ELOOP past MEMTOPO_IOMMU_MAX_DEPTH IOMMUs.
 */
int memtopo_hook_iommu_translate(struct memtopo_section *s, u64 *addr, u64 *len, bool is_write);

/**
 * memtopo_hook_space_prepare() - a commit is about to publish @view for
 * @as (or keep it, unchanged): allocate what memtopo_hook_space_published()
 * will need (the ioeventfd set @view shows), while a failure can still
 * undo the commit.
 * @as: the space.
 * @view: the view the commit will publish for @as.
 *
 * Every space of a commit is prepared before any is published.  A commit
 * that fails after preparing a space calls memtopo_hook_space_unprepare().
 *
 * Context: may sleep; may fail.
 * Return: 0 or -ENOMEM (then nothing is kept for @as).
 */
int memtopo_hook_space_prepare(struct memtopo_space *as, const struct memtopo_view *view);

/**
 * memtopo_hook_space_unprepare() - the commit failed: free what
 * memtopo_hook_space_prepare() kept for @as, if anything.
 * @as: the space, still showing its old view.
 */
void memtopo_hook_space_unprepare(struct memtopo_space *as);

/**
 * memtopo_hook_space_published() - a commit published @as's view (or kept
 * it unchanged): QEMU's address_space_update_ioeventfds().
 * @as: the space, prepared by memtopo_hook_space_prepare() for this view.
 *
 * Called after the space's listeners got the view's diff and before their
 * commit callback.  Cannot fail: the prepare allocated what it needs.
 */
void memtopo_hook_space_published(struct memtopo_space *as);

/**
 * memtopo_hook_space_destroy() - a space goes: drop its parity state.
 * @as: the space, no listener left.
 */
void memtopo_hook_space_destroy(struct memtopo_space *as);

/**
 * memtopo_hook_space_free_deferred() - a destroyed space's RCU grace period
 * is over; an access dispatched by space ID (MEMTOPO_SPACE_RW) may still be
 * walking it without the context mutex.
 * @head: the space's rcu_head.
 * @free: frees the space; called once no such access can use it.
 *
 * Context: an RCU callback (softirq): must not sleep; no lock held.
 */
void memtopo_hook_space_free_deferred(struct rcu_head *head, void (*free)(struct rcu_head *head));

/**
 * memtopo_hook_range_del() - a flat range leaves a view: called before its
 * region_del (QEMU's flat_range_coalesced_io_del(); a discard listener on
 * the range hears its populated parts discarded, as QEMU's VFIO
 * unregisters its RamDiscardListener before it unmaps the section).
 * @as: the space whose listeners are told.
 * @s: the range, in the old view.
 */
void memtopo_hook_range_del(struct memtopo_space *as, const struct memtopo_section *s);

/**
 * memtopo_hook_space_watched() - does a feature follow the ranges that
 * leave @as's view (memtopo_hook_range_del()) although no listener does?
 * @as: the space.
 *
 * A discard listener registered on a section hears it discarded when the
 * section leaves the view, even when the space has no memory listener.
 *
 * Return: true if the view diff must run for @as.
 */
bool memtopo_hook_space_watched(const struct memtopo_space *as);

/**
 * memtopo_hook_range_add() - a flat range comes: called after its
 * region_add (QEMU's flat_range_coalesced_io_add()).
 * @as: the space whose listeners are told.
 * @s: the range, in the new view.
 */
void memtopo_hook_range_add(struct memtopo_space *as, const struct memtopo_section *s);

/**
 * memtopo_hook_replay_begin() - a listener registers or unregisters: the
 * parity part of the replay that comes before the ranges (right after the
 * listener's begin).
 * @l: the listener.
 * @adding: registering, else unregistering.
 *
 * Context: may fail when @adding: the listener refused log_global_start.
 * Return: 0, or the listener's errno (then nothing else was sent to it).
 */
int memtopo_hook_replay_begin(struct memtopo_listener *l, bool adding);

/**
 * memtopo_hook_replay_end() - the parity part of a replay that comes after
 * the ranges (right before the listener's commit).
 * @l: the listener.
 * @adding: registering, else unregistering.
 */
void memtopo_hook_replay_end(struct memtopo_listener *l, bool adding);

/**
 * memtopo_hook_ctx_free() - a context goes: free its parity state.
 * @ctx: the context, its spaces and regions destroyed and its undo log
 *	empty, so nothing updates or reads that state any more.
 *
 * Context: process context; no lock held (nothing else can reach @ctx).
 */
void memtopo_hook_ctx_free(struct memtopo_ctx *ctx);

/**
 * memtopo_hook_undo() - undo a parity feature's change (an ioeventfd or
 * coalescing range added or removed, a global dirty-log start or stop).
 * @u: its MEMTOPO_UNDO_PARITY record, newest first: every later change was
 *	undone already.
 *
 * Called while a failed transaction is rolled back.  Cannot fail: the
 * record holds whatever the undo needs.
 */
void memtopo_hook_undo(struct memtopo_undo *u);

/**
 * memtopo_hook_undo_forget() - a parity change was published: drop what
 * its record kept for undoing it.
 * @u: the MEMTOPO_UNDO_PARITY record.
 */
void memtopo_hook_undo_forget(struct memtopo_undo *u);

#endif /* _MEMTOPO_HOOKS_H */
