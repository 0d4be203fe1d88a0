/* SPDX-License-Identifier: GPL-2.0 */
/*
 * QEMU parity internals: dirty logging, ioeventfds, coalesced MMIO, access
 * dispatch and IOMMU regions (dirty.c, ioeventfd.c, coalesced.c,
 * dispatch.c, iommu.c), and the
 * parity state they share, owned by parity.c.  The engine core reaches
 * these features only through memtopo_hooks.h (implemented in parity.c);
 * only the feature files and their ioctl glue include this header.
 *
 * Lifetimes:
 *  - A region's parity state (struct memtopo_region_parity) is allocated on
 *    first use under the context mutex, published with rcu_assign_pointer()
 *    and freed with the region itself (after its RCU grace period), so a
 *    reader that found the region in a view may use it under RCU.
 *  - Dirty bitmaps are published the same way and never replaced while the
 *    region lives: markers never race with a free.
 *  - An ioeventfd registration is reference counted: the region's list holds
 *    one reference and each space's absolute set holds one per entry, so an
 *    eventfd_del can still be reported after the registration was removed.
 *  - A userspace-served device (struct memtopo_udev, served.c) is reference
 *    counted: the region's parity state holds one reference from binding to
 *    the region's free, and an access holds one around each device call,
 *    taken under RCU with refcount_inc_not_zero(); its memory is freed after
 *    an RCU grace period.
 */
#ifndef _MEMTOPO_PARITY_H
#define _MEMTOPO_PARITY_H

#include <linux/atomic.h>
#include <linux/list.h>
#include <linux/refcount.h>

#include "memtopo_internal.h"
#include "memtopo_hooks.h"

/* Dirty pages are tracked at 4 KiB, QEMU's TARGET_PAGE_SIZE on x86. */
#define MEMTOPO_DIRTY_PAGE_SHIFT	12
#define MEMTOPO_DIRTY_PAGE_SIZE		BIT_ULL(MEMTOPO_DIRTY_PAGE_SHIFT)
/* Largest region that can carry a bitmap: 2^31 pages (8 TiB, 256 MiB of bits). */
#define MEMTOPO_DIRTY_MAX_PAGES		BIT_ULL(31)

struct memtopo_dirty_bitmap {
	u64 npages;
	struct rcu_head rcu;
	atomic64_t words[];
};

struct memtopo_iofd {
	refcount_t ref;
	struct rcu_head rcu;
	/* in the region's list (RCU: the write path matches without the mutex) */
	struct list_head link;
	u64 offset;
	u64 data;
	u32 size;
	bool match_data;
	struct eventfd_ctx *eventfd;
};

struct memtopo_coalesced_range {
	struct list_head link;
	u64 offset;
	u64 size;
};

/*
 * A device answered outside the kernel (served.c): dispatch calls @ops with
 * the udev itself as opaque, holding a reference.  @release runs on the
 * last put; @gone when the region is freed, maybe from an RCU callback.
 */
struct memtopo_udev {
	struct memtopo_region_ops ops;
	refcount_t ref;
	void (*release)(struct memtopo_udev *udev);
	void (*gone)(struct memtopo_udev *udev);
};

static inline void memtopo_udev_put(struct memtopo_udev *udev)
{
	if (udev && refcount_dec_and_test(&udev->ref))
		udev->release(udev);
}

struct memtopo_region_parity {
	struct memtopo_dirty_bitmap __rcu *dirty[MEMTOPO_DIRTY_CLIENTS];
	struct list_head ioeventfds;	/* RCU list, writers under ctx->lock */
	struct list_head coalesced;	/* ctx->lock only */
	u32 nr_ioeventfds;
	/* while @nr_ioeventfds: in the context's efd_regions (ctx->lock only) */
	struct list_head efd_link;
	struct memtopo_region *mr;	/* whose state this is */
	/* QEMU's vga_logging_count: memtopo_region_set_log() references */
	u32 vga_logging_count;
	/* a userspace-served device: set under ctx->lock, read under RCU */
	struct memtopo_udev __rcu *udev;
	/* the RAM discard manager (discard.c): ctx->lock only */
	struct memtopo_discard_mgr *discard;
	/* an IOMMU region's ops or table (iommu.c): set under ctx->lock, read under RCU */
	struct memtopo_iommu __rcu *iommu;
	/*
	 * QEMU's mapped_via_alias: subregions that are aliases whose chain of
	 * targets passes through this region (ctx->lock only).  Kept here, not
	 * found by a walk of the context's regions, so is_mapped is O(1).
	 */
	u32 mapped_via_alias;
	/*
	 * The reverse alias index (memtopo_hook_aliases_of()): NULL until a
	 * walk needs it or after it could not grow (ctx->lock only).
	 */
	struct memtopo_alias_index *aliases;
};

/* A context's parity state: memtopo_ctx_parity_get(), ctx->lock only. */
struct memtopo_ctx_parity {
	/* registered ioeventfds, to skip the ioeventfd pass when there are none */
	unsigned int nr_ioeventfds;
	/*
	 * The regions holding them, not yet destroyed for good: a set is
	 * built from their ranges alone, not from a walk of the whole view.
	 * A region leaves when its destroy is published
	 * (memtopo_ioeventfds_uncount()), before its last reference can go,
	 * so every region listed is alive; ctx->lock only.
	 */
	struct list_head efd_regions;
	/*
	 * Sets built, a space's each: at a registration change, and at a
	 * commit that could not keep the set its listeners know (debugfs
	 * stats; the tests of that keep read it)
	 */
	u64 set_builds;
};

/* One entry of a space's ioeventfd set, in absolute addresses. */
struct memtopo_abs_ioeventfd {
	u64 addr;
	struct memtopo_iofd *fd;	/* holds a reference */
	struct memtopo_region *mr;
	u64 offset;			/* of @addr within @mr */
};

/* A space's next ioeventfd set, built before anyone is told of it. */
struct memtopo_ioeventfd_set {
	struct memtopo_abs_ioeventfd *fds;
	u32 nr;
	/* no registration anywhere and none reported: nothing to build or tell */
	bool idle;
};

struct memtopo_space_parity {
	struct memtopo_abs_ioeventfd *fds;
	u32 nr_fds;
	/*
	 * The set a commit will publish, built while the commit can still
	 * fail (memtopo_ioeventfds_prepare()); valid while @next_ready.
	 */
	struct memtopo_ioeventfd_set next;
	bool next_ready;
	/*
	 * @fds is what the published view shows under the registrations as
	 * they are: a commit whose ranges of regions with a registration are
	 * all as they were keeps it (memtopo_ioeventfds_prepare()).  False
	 * until a set was built, and from a registration changed inside a
	 * transaction to the set its commit builds.
	 */
	bool fds_current;
	/* the space's one bounce buffer is out (map.c) */
	atomic_t bounce_busy;
	/* discard listeners registered on the space's sections (discard.c) */
	struct list_head discard_listeners;
};

/* Registered ioeventfds of the context, context locked. */
static inline unsigned int memtopo_ctx_nr_ioeventfds(const struct memtopo_ctx *ctx)
{
	return ctx->parity ? ctx->parity->nr_ioeventfds : 0;
}

/* ioeventfd sets the context built (memtopo_ctx_parity), context locked. */
static inline u64 memtopo_ctx_ioeventfd_set_builds(const struct memtopo_ctx *ctx)
{
	return ctx->parity ? ctx->parity->set_builds : 0;
}

static inline struct memtopo_region_parity *
memtopo_parity_locked(const struct memtopo_region *mr)
{
	return rcu_dereference_protected(mr->parity, lockdep_is_held(&mr->ctx->lock));
}

/* parity.c: the shared state, allocated on first use */
struct memtopo_region_parity *memtopo_parity_get(struct memtopo_region *mr);
struct memtopo_ctx_parity *memtopo_ctx_parity_get(struct memtopo_ctx *ctx);
struct memtopo_space_parity *memtopo_space_parity_get(struct memtopo_space *as);

/*
 * One mapping of a table IOMMU (iommu.c): [@iova, @last] translates to
 * @addr on in the space whose ID is @space, with MEMTOPO_IOMMU_* @perm,
 * as long as that ID still names the space of serial @serial.
 */
struct memtopo_iommu_ent {
	u64 iova;
	u64 last;
	u64 addr;
	u64 serial;
	u32 space;
	u32 perm;
};

/* iommu.c */
void memtopo_iommu_free(struct memtopo_region_parity *p);
void memtopo_iommu_uncharge(struct memtopo_region *mr);
int memtopo_iommu_walk_rcu(struct memtopo_section *s, u64 *addr, u64 *len, bool is_write,
			   u32 attrs, struct memtopo_iotlb_entry *entry);
int memtopo_iommu_unmap_all_locked(struct memtopo_region *iommu);
int memtopo_iommu_mappings_locked(struct memtopo_region *iommu,
				  struct memtopo_iommu_ent *buf, u32 cap, u32 *nr);
bool memtopo_iommu_target_gone_locked(struct memtopo_region *iommu,
				      const struct memtopo_iommu_ent *e);
void memtopo_iommu_range_add(struct memtopo_space *as, const struct memtopo_section *s);
void memtopo_iommu_replay(struct memtopo_listener *l);

/* What a MEMTOPO_UNDO_PARITY record undoes (its @sub). */
enum memtopo_parity_undo {
	MEMTOPO_PUNDO_IOEVENTFD_ADD = 1,	/* @aux: the registration */
	MEMTOPO_PUNDO_IOEVENTFD_DEL,		/* @aux: it, with its reference; @pos */
	MEMTOPO_PUNDO_COALESCED_ADD,		/* @aux: the range */
	MEMTOPO_PUNDO_COALESCED_DEL,		/* @aux: the range; @pos */
	MEMTOPO_PUNDO_COALESCED_CLEAR,		/* @list: the ranges */
	MEMTOPO_PUNDO_GLOBAL_START,		/* @aux, @size: bitmaps it allocated; @addr */
	MEMTOPO_PUNDO_GLOBAL_STOP,		/* @addr: the reasons before */
	MEMTOPO_PUNDO_VGA_COUNT,		/* @addr: the count before */
};

/* Per-feature halves of the hooks, called from parity.c only. */
/* dirty.c */
int memtopo_dirty_prepare(struct memtopo_region *mr, u8 mask, u8 *fresh);
void memtopo_dirty_unprepare(struct memtopo_region *mr, u8 fresh);
void memtopo_dirty_log_on(struct memtopo_region *mr);
void memtopo_dirty_free(struct memtopo_region_parity *p);
void memtopo_dirty_undo(struct memtopo_undo *u, bool forget);
void memtopo_dirty_count_undo(struct memtopo_undo *u);
/* ioeventfd.c */
int memtopo_ioeventfds_prepare(struct memtopo_space *as, const struct memtopo_view *view);
void memtopo_ioeventfds_unprepare(struct memtopo_space *as);
void memtopo_ioeventfds_update(struct memtopo_space *as);
void memtopo_ioeventfds_free(struct memtopo_region_parity *p);
void memtopo_ioeventfds_uncount(struct memtopo_region *mr);
void memtopo_ioeventfds_space_free(struct memtopo_space_parity *sp);
void memtopo_ioeventfds_replay(struct memtopo_listener *l, bool add);
void memtopo_ioeventfd_undo(struct memtopo_undo *u, bool forget);
/* coalesced.c */
void memtopo_coalesced_fr_del(struct memtopo_space *as, const struct memtopo_section *s);
void memtopo_coalesced_fr_add(struct memtopo_space *as, const struct memtopo_section *s);
void memtopo_coalesced_replay(struct memtopo_listener *l, bool add);
void memtopo_coalesced_free(struct memtopo_region_parity *p);
void memtopo_coalesced_undo(struct memtopo_undo *u, bool forget);

/* discard.c */
void memtopo_discard_range_del(struct memtopo_space *as, const struct memtopo_section *s);
void memtopo_discard_range_add(struct memtopo_space *as, const struct memtopo_section *s);
void memtopo_discard_replay(struct memtopo_listener *l, bool adding);
void memtopo_discard_space_destroy(struct memtopo_space_parity *sp);
void memtopo_discard_free(struct memtopo_region_parity *p);
void memtopo_discard_uncharge(struct memtopo_region *mr);
bool memtopo_discard_space_watched(const struct memtopo_space *as);

/**
 * struct memtopo_discard_info - a discard manager's shape and fill.
 * @granularity: block size (0: no manager).
 * @size: bytes the manager covers.
 * @populated: bytes populated.
 */
struct memtopo_discard_info {
	u64 granularity;
	u64 size;
	u64 populated;
};

int memtopo_discard_preview_locked(struct memtopo_region *mr, u32 op, u64 granularity,
				   u64 offset, u64 size, struct memtopo_discard_info *info);

/* dirty.c, for ioctl_parity.c */
int memtopo_region_get_dirty_log_locked(struct memtopo_region *mr, unsigned int client,
					u64 first_page, u64 npages, u64 *bitmap, bool clear);
int memtopo_region_clear_dirty_log_locked(struct memtopo_region *mr, unsigned int client,
					  u64 first_page, u64 npages, const u64 *bitmap);
int memtopo_dirty_validate_locked(struct memtopo_region *mr, unsigned int client,
				  u64 first_page, u64 npages);
void memtopo_dirty_restore_locked(struct memtopo_region *mr, unsigned int client,
				  u64 first_page, u64 npages, const u64 *bitmap);
void memtopo_region_log_clear_locked(struct memtopo_region *mr, u64 first_page, u64 npages);

/* ioeventfd.c, for dispatch.c: called under rcu_read_lock() */
bool memtopo_ioeventfd_dispatch(struct memtopo_region *mr, u64 offset, u64 data,
				unsigned int size, bool signal);

/* dispatch.c, for parity.c: free @head with @fn once no access can use it */
void memtopo_dispatch_defer(struct rcu_head *head, void (*fn)(struct rcu_head *head));
void memtopo_dispatch_barrier(void);

/* dispatch.c, for map.c: an access checked, not performed */
int memtopo_space_check(struct memtopo_space *as, u64 addr, void *buf, size_t len,
			bool is_write);

/* dirty.c, for dispatch.c: called under rcu_read_lock() */
void memtopo_mark_dirty_rcu(struct memtopo_region *mr, u64 offset, u64 len);

#endif /* _MEMTOPO_PARITY_H */
