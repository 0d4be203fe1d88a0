/* SPDX-License-Identifier: GPL-2.0 */
/*
 * memtopo kernel API: QEMU's memory API (regions, address spaces, flat
 * views, listeners) for kernel modules.  Symbols live in the MEMTOPO
 * namespace: MODULE_IMPORT_NS(MEMTOPO).
 *
 * Locking, stated once:
 *  - Every mutation of a context's regions, spaces and listeners runs under
 *    memtopo_ctx_lock()/memtopo_ctx_unlock() (one mutex per context).  The
 *    *_locked functions assert it; the others take it themselves.
 *  - Readers call memtopo_space_lookup(), memtopo_space_walk_ranges()
 *    and memtopo_space_translate() inside rcu_read_lock() and take no lock
 *    at all.
 *  - Listener callbacks run with the context mutex held and may sleep; they
 *    must not call back into mutating functions of the same context.
 */
#ifndef _MEMTOPO_MEMTOPO_H
#define _MEMTOPO_MEMTOPO_H

#include <linux/types.h>
#include <linux/rcupdate.h>
#include <linux/refcount.h>

struct module;
struct memtopo_ctx;
struct memtopo_region;
struct memtopo_space;
struct memtopo_view;
struct memtopo_event;

/* Bounds enforced per context; userspace reads them with MEMTOPO_GET_INFO. */
#define MEMTOPO_MAX_DEPTH		32
#define MEMTOPO_MAX_ALIAS_CHAIN		16
#define MEMTOPO_MAX_REGIONS		BIT(21)
#define MEMTOPO_MAX_SPACES		256
#define MEMTOPO_MAX_NAME		64
/*
 * Default per-context memory budget in bytes (memtopo.ctx_mem_max): what
 * memtopo lets one context keep of the memory it allocates for it.
 */
#define MEMTOPO_CTX_MEM_DEFAULT		BIT(30)
/* Rendered pieces per commit: aliases multiply subtrees, so cap the work. */
#define MEMTOPO_MAX_RENDER_PIECES	BIT(23)

/** enum memtopo_kind - what a region is. */
enum memtopo_kind {
	MEMTOPO_CONTAINER = 0,	/* pure container: renders only its children */
	MEMTOPO_RAM,		/* RAM, backing passed to listeners untouched */
	MEMTOPO_ROM,		/* read-only RAM */
	MEMTOPO_ROM_DEVICE,	/* reads as RAM in romd mode, else MMIO */
	MEMTOPO_IO,		/* MMIO / port I/O, optional ops */
	MEMTOPO_RAM_DEVICE,	/* RAM backed by a device (prints "ramd") */
	MEMTOPO_RESERVATION,	/* reserved window, no accesses (I/O kind) */
	MEMTOPO_ALIAS,		/* window onto another region */
	MEMTOPO_IOMMU,		/* translates into other spaces (iommu.c) */
	MEMTOPO_KIND_COUNT
};

/* Dirty-log clients, as QEMU numbers them. */
#define MEMTOPO_DIRTY_VGA		0
#define MEMTOPO_DIRTY_CODE		1
#define MEMTOPO_DIRTY_MIGRATION		2
#define MEMTOPO_DIRTY_CLIENTS		3

/*
 * Why global dirty logging is on, QEMU's GLOBAL_DIRTY_* flags: each reason
 * is started and stopped on its own; logging runs while any is on.
 */
#define MEMTOPO_DIRTY_REASON_MIGRATION	BIT(0)
#define MEMTOPO_DIRTY_REASON_DIRTY_RATE	BIT(1)
#define MEMTOPO_DIRTY_REASON_LIMIT	BIT(2)
#define MEMTOPO_DIRTY_REASONS		(BIT(3) - 1)

struct file;
struct mm_struct;
struct page;
struct memtopo_backing;

/**
 * enum memtopo_backing_kind - where the bytes of a RAM-like region live.
 * @MEMTOPO_BACKING_NONE: nowhere memtopo can reach: @uaddr is a label handed
 *	to listeners, never dereferenced.
 * @MEMTOPO_BACKING_FILE: @file from @file_offset: a memfd, tmpfs or
 *	hugetlbfs file, or anything else with ->mmap (KVM's guest_memfd,
 *	vhost-user and rust-vmm's FileOffset work the same way).
 * @MEMTOPO_BACKING_KERNEL: pages the kernel allocated for the region,
 *	mapped at @kaddr and mmap-able through the context's fd at
 *	@mmap_offset.
 * @MEMTOPO_BACKING_PROCESS: @uaddr in @mm, the address space of the
 *	process that created the region.
 */
enum memtopo_backing_kind {
	MEMTOPO_BACKING_NONE = 0,
	MEMTOPO_BACKING_FILE,
	MEMTOPO_BACKING_KERNEL,
	MEMTOPO_BACKING_PROCESS,
};

/**
 * struct memtopo_backing_ops - what only the backing's creator knows.
 * @release: the last reference went: free everything.  Called from any
 *	context (the region's RCU callback included): must not sleep.
 * @access: copy @len bytes at @offset of the backing to or from @buf.
 *	Process context, may sleep; see memtopo_backing_access().
 * @write_protect: make the next write through any user mapping of bytes
 *	[@offset, @offset + @len) fault, so that it is dirty-logged; called
 *	once the log state that needs it is visible to markers (logging
 *	turned on, bits cleared).  NULL for backings whose writers memtopo
 *	does not see (files, processes: their own mappings are not logged).
 *	Process context, may sleep; takes page locks and i_mmap_rwsem.
 */
struct memtopo_backing_ops {
	void (*release)(struct memtopo_backing *b);
	int (*access)(struct memtopo_backing *b, u64 offset, void *buf, size_t len,
		      bool write);
	void (*write_protect)(struct memtopo_backing *b, u64 offset, u64 len);
};

/**
 * struct memtopo_backing - the memory behind a RAM-like region: a
 * reference-counted object shared by the region and by whoever maps it.
 * @ref: references: the region holds one from its creation until it is
 *	freed (after its RCU grace period), a kernel user that keeps using
 *	the memory after the region may go holds its own (memtopo_backing_get()).
 * @kind: enum memtopo_backing_kind.
 * @writable: the memory may be written through memtopo (a file opened
 *	for writing, kernel pages, a process mapping).
 * @size: bytes reachable from offset 0.
 * @id: unique among the backings of this boot; what userspace sees
 *	(MEMTOPO_GET_REGIONS) instead of a file or an mm.
 * @uaddr: PROCESS: the address in @mm; NONE: the label; else 0.
 * @kaddr: KERNEL: the kernel mapping of all @size bytes; else NULL.
 * @file: FILE: the file (a reference is held); else NULL.
 * @file_offset: FILE: where the backing starts in @file.
 * @mm: PROCESS: the creator's mm (mmgrab()ed: its memory may go away when
 *	the process exits, the struct does not); else NULL.
 * @mmap_offset: KERNEL: the offset to mmap() the context's fd at.
 * @charge: bytes of kernel memory the backing holds, charged to the
 *	context's budget with the region.
 * @ops: the creator's operations.
 *
 * Every field is set before the backing is handed to a region and never
 * changes afterwards: readers need no lock.
 */
struct memtopo_backing {
	refcount_t ref;
	u8 kind;
	bool writable;
	u64 size;
	u64 id;
	u64 uaddr;
	void *kaddr;
	struct file *file;
	u64 file_offset;
	struct mm_struct *mm;
	u64 mmap_offset;
	size_t charge;
	const struct memtopo_backing_ops *ops;
};

/**
 * memtopo_backing_get() - take a reference on a backing.
 * @b: the backing; the caller already holds a reference (or finds it
 *	through a live region).
 *
 * Context: any.
 */
static inline void memtopo_backing_get(struct memtopo_backing *b)
{
	refcount_inc(&b->ref);
}

/**
 * memtopo_backing_put() - drop a reference; the last one frees the backing.
 * @b: the backing (may be NULL).
 *
 * Context: any, softirq included: what must sleep (an fput(), a vfree(),
 * an mmdrop()) is deferred to a workqueue.
 */
static inline void memtopo_backing_put(struct memtopo_backing *b)
{
	if (b && refcount_dec_and_test(&b->ref))
		b->ops->release(b);
}

/* Backings (kmod/backing.c). */
struct memtopo_backing *memtopo_backing_kernel_alloc(u64 size);
struct memtopo_backing *memtopo_backing_file(struct file *file, u64 offset, u64 size,
					     bool writable);
struct memtopo_backing *memtopo_backing_process(u64 uaddr, u64 size);
struct memtopo_backing *memtopo_backing_label(u64 uaddr);
int memtopo_backing_access(struct memtopo_backing *b, u64 offset, void *buf, size_t len,
			   bool write);
int memtopo_backing_get_pages(struct memtopo_backing *b, u64 offset, unsigned int nr,
			      bool write, struct page **pages);

/**
 * struct memtopo_region_ops - device callbacks of an I/O or ROM device region.
 * @read: read @size bytes at @offset into *@data.
 * @write: write @size bytes of @data at @offset.
 * @valid_min: smallest access size the device accepts (checked only when
 *	@valid_max is set, as in QEMU).
 * @valid_max: largest access size the device accepts; 0 accepts any size
 *	but accesses are still split to at most 4 bytes.
 * @impl_min: smallest size @read/@write implement (0 means 1); smaller
 *	accesses are widened.
 * @impl_max: largest size @read/@write implement (0 means 4); larger
 *	accesses are split into several calls.
 * @unaligned: the device accepts unaligned accesses (QEMU's valid.unaligned).
 * @impl_unaligned: @read/@write handle unaligned accesses themselves
 *	(QEMU's impl.unaligned); otherwise accesses are split on alignment.
 * @big_endian: the device is big-endian.
 *
 * The rules are QEMU's memory_region_access_valid(), memory_access_size()
 * and access_with_adjusted_size(); see memtopo_space_read().  @read and
 * @write return 0 or a negative errno and may sleep.
 */
struct memtopo_region_ops {
	int (*read)(void *opaque, u64 offset, u64 *data, unsigned int size);
	int (*write)(void *opaque, u64 offset, u64 data, unsigned int size);
	u8 valid_min, valid_max, impl_min, impl_max;
	bool unaligned;
	bool impl_unaligned;
	bool big_endian;
};

/**
 * struct memtopo_region_info - creation parameters of a region.
 * @kind: enum memtopo_kind.
 * @name: name, at most MEMTOPO_MAX_NAME - 1 bytes, copied.
 * @size: size in bytes; ignored when @size_is_2_64.
 * @size_is_2_64: the region spans the full 64-bit space.
 * @alias_target: target of a MEMTOPO_ALIAS (a reference is taken).
 * @alias_offset: offset into @alias_target.
 * @backing: RAM/ROM/ROM device/RAM device backing, or NULL; the region
 *	takes its own reference.
 * @ops: I/O and ROM device callbacks (may be NULL); ignored for other kinds.
 * @opaque: passed to @ops; ignored for other kinds.
 */
struct memtopo_region_info {
	enum memtopo_kind kind;
	const char *name;
	u64 size;
	bool size_is_2_64;
	struct memtopo_region *alias_target;
	u64 alias_offset;
	struct memtopo_backing *backing;
	const struct memtopo_region_ops *ops;
	void *opaque;
};

/* Flags of a flat range / section. */
#define MEMTOPO_FR_READONLY	BIT(0)
#define MEMTOPO_FR_ROMD		BIT(1)
#define MEMTOPO_FR_NONVOLATILE	BIT(2)

/**
 * struct memtopo_section - one flat range as seen by readers and listeners.
 * @start: first address of the range in the space.
 * @last: last address (inclusive, so the top of 2^64 is representable).
 * @mr: the region that renders there (never an alias or a pure container).
 * @offset: offset of @start within @mr.
 * @flags: MEMTOPO_FR_*.
 * @dirty_log_mask: dirty-log clients enabled on @mr when it was rendered.
 * @generation: generation of the view the section comes from.
 */
struct memtopo_section {
	u64 start;
	u64 last;
	struct memtopo_region *mr;
	u64 offset;
	u32 flags;
	u8 dirty_log_mask;
	u64 generation;
};

/**
 * struct memtopo_listener_ops - QEMU's MemoryListener, per space.
 * @begin: a commit starts (forward listener order).
 * @commit: a commit ends (forward order).
 * @region_add: a range appeared (forward order, after all deletions).
 * @region_del: a range left or changed (reverse order, before additions).
 * @region_nop: a range is unchanged; sent for every such range at every
 *	commit, as QEMU does (registering one costs a walk of the view).
 * @log_start: dirty-log clients were added to a range (forward order).
 * @log_stop: dirty-log clients were removed from a range (reverse order).
 * @log_sync: sync dirty bits of a range before a bitmap is read.
 * @log_global_start: global dirty logging starts (forward order).  It may
 *	refuse with a negative errno: the start is then rolled back, the
 *	listeners it already started get @log_global_stop (newest first) and
 *	the caller gets the errno (QEMU's memory_global_dirty_log_do_start()).
 *	A listener that registers while global logging is on gets it too, and
 *	a refusal there fails the registration.
 * @log_global_stop: global dirty logging stops (reverse order).
 * @log_sync_global: sync every dirty bit of the space at once; a listener
 *	with @log_sync gets that instead (QEMU's
 *	memory_region_sync_dirty_bitmap()).
 * @log_global_after_sync: a global sync is over and its bitmaps were read
 *	(QEMU's memory_global_after_dirty_log_sync(); forward order).
 * @log_clear: the dirty bits of part of a range were cleared: re-protect it
 *	(KVM's manual-protect mode).  The section is the cleared part of one
 *	flat range (QEMU's memory_region_clear_dirty_bitmap()).
 * @eventfd_add: an ioeventfd became visible at an absolute address.
 * @eventfd_del: an ioeventfd stopped being visible.
 * @coalesced_io_add: a coalesced MMIO range became visible.
 * @coalesced_io_del: a coalesced MMIO range stopped being visible.
 * @detached: the listener is about to be detached without having asked:
 *	its space was created in a transaction whose commit failed, and goes
 *	(memtopo_listener_register_locked()).  Called once, from that
 *	rollback, with the context mutex held: it may only note the fact (a
 *	flag, an eventfd); it must not change the context, unregister the
 *	listener or take the mutex.  Then begin, region_del for each range it
 *	was told of and commit follow, and the space is freed: drop every
 *	pointer to it here, and reach it by memtopo_space_id() and
 *	memtopo_space_serial() if at all.
 *
 * All callbacks are optional, run with the context mutex held and may
 * sleep.  The order within one commit is QEMU's
 * address_space_update_topology_pass().
 */
struct memtopo_listener_ops {
	void (*begin)(void *priv);
	void (*commit)(void *priv);
	void (*region_add)(void *priv, const struct memtopo_section *s);
	void (*region_del)(void *priv, const struct memtopo_section *s);
	void (*region_nop)(void *priv, const struct memtopo_section *s);
	void (*log_start)(void *priv, const struct memtopo_section *s, u8 old_mask, u8 new_mask);
	void (*log_stop)(void *priv, const struct memtopo_section *s, u8 old_mask, u8 new_mask);
	void (*log_sync)(void *priv, const struct memtopo_section *s);
	int (*log_global_start)(void *priv);
	void (*log_global_stop)(void *priv);
	void (*eventfd_add)(void *priv, const struct memtopo_section *s, u64 addr,
			    unsigned int size, bool match_data, u64 data, void *eventfd);
	void (*eventfd_del)(void *priv, const struct memtopo_section *s, u64 addr,
			    unsigned int size, bool match_data, u64 data, void *eventfd);
	void (*coalesced_io_add)(void *priv, const struct memtopo_section *s, u64 addr, u64 size);
	void (*coalesced_io_del)(void *priv, const struct memtopo_section *s, u64 addr, u64 size);
	void (*log_sync_global)(void *priv);
	void (*log_global_after_sync)(void *priv);
	void (*log_clear)(void *priv, const struct memtopo_section *s);
	void (*detached)(void *priv);
	/* private: memtopo's userspace subscriptions only (kmod/events.h) */
	void (*event)(void *priv, const struct memtopo_event *ev);
};

/**
 * struct memtopo_listener - a registration; embed it, keep it alive while
 * registered.
 * @ops: callbacks.
 * @priv: passed to every callback.
 * @priority: lower runs first in forward order (QEMU's MemoryListener).
 * @owner: module pinned while registered (may be NULL for built-in users).
 */
struct memtopo_listener {
	const struct memtopo_listener_ops *ops;
	void *priv;
	int priority;
	struct module *owner;
	/* private: owned by memtopo while registered */
	struct list_head link;
	struct memtopo_space *space;
};

/* Contexts. */
struct memtopo_ctx *memtopo_ctx_create(const char *name);
void memtopo_ctx_get(struct memtopo_ctx *ctx);
void memtopo_ctx_put(struct memtopo_ctx *ctx);
void memtopo_ctx_lock(struct memtopo_ctx *ctx);
void memtopo_ctx_unlock(struct memtopo_ctx *ctx);
/* The per-context memory budget (kmod/ctx.c); context mutex held. */
int memtopo_ctx_set_mem_max_locked(struct memtopo_ctx *ctx, size_t bytes);
size_t memtopo_ctx_mem_used(struct memtopo_ctx *ctx);
size_t memtopo_ctx_mem_budget(struct memtopo_ctx *ctx);
struct memtopo_ctx *memtopo_ctx_from_fd(int fd);
/* IDs are what /dev/memtopo users name objects by (kmod/ctx.c). */
struct memtopo_space *memtopo_space_find_locked(struct memtopo_ctx *ctx, u32 id);
u32 memtopo_region_id(const struct memtopo_region *mr);
u32 memtopo_space_id(const struct memtopo_space *as);
u64 memtopo_space_serial(const struct memtopo_space *as);
int memtopo_space_rw_by_id(struct memtopo_ctx *ctx, u32 space, u64 serial, u64 addr,
			   void *buf, size_t len, bool is_write);

/* Regions: every call below takes and releases the context mutex. */
/**
 * memtopo_region_create() - create a detached region.
 * @ctx: the owner.
 * @info: what to create.
 *
 * Context: process context; takes the context mutex, so not from a
 * listener or device callback of the context; may sleep.
 * Return: as memtopo_region_create_locked().
 */
struct memtopo_region *memtopo_region_create(struct memtopo_ctx *ctx,
					     const struct memtopo_region_info *info);
/**
 * memtopo_region_destroy() - drop the context's hold on a region.
 * @mr: the region.
 *
 * Context: process context; takes the context mutex, so not from a
 * listener or device callback of the context; may sleep.
 * Return: as memtopo_region_destroy_locked().
 */
int memtopo_region_destroy(struct memtopo_region *mr);
void memtopo_region_get(struct memtopo_region *mr);
void memtopo_region_put(struct memtopo_region *mr);
/**
 * memtopo_region_add_subregion() - map @child at @offset in @parent.
 * @parent: the container.
 * @offset: address of @child within @parent.
 * @child: a detached region.
 * @priority: higher wins.
 * @may_overlap: overlap is expected.
 *
 * Context: process context; takes the context mutex, so not from a
 * listener or device callback of the context; may sleep.
 * Return: as memtopo_region_add_subregion_locked().
 */
int memtopo_region_add_subregion(struct memtopo_region *parent, u64 offset,
				 struct memtopo_region *child, int priority,
				 bool may_overlap);
/**
 * memtopo_region_del_subregion() - unmap @child from @parent.
 * @parent: the container.
 * @child: a subregion of @parent.
 *
 * Context: process context; takes the context mutex, so not from a
 * listener or device callback of the context; may sleep.
 * Return: as memtopo_region_del_subregion_locked().
 */
int memtopo_region_del_subregion(struct memtopo_region *parent,
				 struct memtopo_region *child);
/**
 * memtopo_region_set_address() - move a region within its parent.
 * @mr: the region.
 * @addr: new offset in the parent.
 *
 * Context: process context; takes the context mutex, so not from a
 * listener or device callback of the context; may sleep.
 * Return: as memtopo_region_set_address_locked().
 */
int memtopo_region_set_address(struct memtopo_region *mr, u64 addr);
/**
 * memtopo_region_set_size() - resize a region.
 * @mr: the region.
 * @size: new size.
 * @size_is_2_64: the new size is 2^64.
 *
 * Context: process context; takes the context mutex, so not from a
 * listener or device callback of the context; may sleep.
 * Return: as memtopo_region_set_size_locked().
 */
int memtopo_region_set_size(struct memtopo_region *mr, u64 size, bool size_is_2_64);
/**
 * memtopo_region_set_alias_offset() - move an alias's window in its target.
 * @mr: the alias.
 * @offset: new offset in the target.
 *
 * Context: process context; takes the context mutex, so not from a
 * listener or device callback of the context; may sleep.
 * Return: as memtopo_region_set_alias_offset_locked().
 */
int memtopo_region_set_alias_offset(struct memtopo_region *mr, u64 offset);
/**
 * memtopo_region_set_enabled() - enable or disable a region.
 * @mr: the region.
 * @enabled: new state.
 *
 * Context: process context; takes the context mutex, so not from a
 * listener or device callback of the context; may sleep.
 * Return: as memtopo_region_set_enabled_locked().
 */
int memtopo_region_set_enabled(struct memtopo_region *mr, bool enabled);
/**
 * memtopo_region_set_readonly() - make a RAM region read-only or writable.
 * @mr: the region.
 * @readonly: new state.
 *
 * Context: process context; takes the context mutex, so not from a
 * listener or device callback of the context; may sleep.
 * Return: as memtopo_region_set_readonly_locked().
 */
int memtopo_region_set_readonly(struct memtopo_region *mr, bool readonly);
/**
 * memtopo_region_set_nonvolatile() - mark a RAM region non-volatile or not.
 * @mr: the region.
 * @nonvolatile: new state.
 *
 * Context: process context; takes the context mutex, so not from a
 * listener or device callback of the context; may sleep.
 * Return: as memtopo_region_set_nonvolatile_locked().
 */
int memtopo_region_set_nonvolatile(struct memtopo_region *mr, bool nonvolatile);
/**
 * memtopo_region_set_priority() - change a subregion's priority.
 * @mr: the region.
 * @priority: new priority.
 *
 * Context: process context; takes the context mutex, so not from a
 * listener or device callback of the context; may sleep.
 * Return: as memtopo_region_set_priority_locked().
 */
int memtopo_region_set_priority(struct memtopo_region *mr, int priority);
/**
 * memtopo_region_set_romd() - switch a ROM device in or out of romd mode.
 * @mr: the region.
 * @romd: new mode.
 *
 * Context: process context; takes the context mutex, so not from a
 * listener or device callback of the context; may sleep.
 * Return: as memtopo_region_set_romd_locked().
 */
int memtopo_region_set_romd(struct memtopo_region *mr, bool romd);
/**
 * memtopo_region_set_dirty_log() - enable or disable a dirty-log client.
 * @mr: the region.
 * @client: MEMTOPO_DIRTY_*.
 * @on: new state.
 *
 * Context: process context; takes the context mutex, so not from a
 * listener or device callback of the context; may sleep.
 * Return: as memtopo_region_set_dirty_log_locked().
 */
int memtopo_region_set_dirty_log(struct memtopo_region *mr, unsigned int client, bool on);
const char *memtopo_region_name(const struct memtopo_region *mr);
enum memtopo_kind memtopo_region_kind(const struct memtopo_region *mr);
struct memtopo_backing *memtopo_region_backing(const struct memtopo_region *mr);
void *memtopo_region_opaque(const struct memtopo_region *mr);

/*
 * The same operations for callers that already hold the context mutex, to
 * group several of them (a batch) under one lock hold.
 */
struct memtopo_region *memtopo_region_create_locked(struct memtopo_ctx *ctx,
						    const struct memtopo_region_info *info);
int memtopo_region_destroy_locked(struct memtopo_region *mr);
int memtopo_region_add_subregion_locked(struct memtopo_region *parent, u64 offset,
					struct memtopo_region *child, int priority,
					bool may_overlap);
int memtopo_region_del_subregion_locked(struct memtopo_region *parent,
					struct memtopo_region *child);
int memtopo_region_set_address_locked(struct memtopo_region *mr, u64 addr);
int memtopo_region_set_size_locked(struct memtopo_region *mr, u64 size, bool size_is_2_64);
int memtopo_region_set_alias_offset_locked(struct memtopo_region *mr, u64 offset);
int memtopo_region_set_enabled_locked(struct memtopo_region *mr, bool enabled);
int memtopo_region_set_readonly_locked(struct memtopo_region *mr, bool readonly);
int memtopo_region_set_nonvolatile_locked(struct memtopo_region *mr, bool nonvolatile);
int memtopo_region_set_priority_locked(struct memtopo_region *mr, int priority);
int memtopo_region_set_romd_locked(struct memtopo_region *mr, bool romd);
int memtopo_region_set_dirty_log_locked(struct memtopo_region *mr, unsigned int client,
					bool on);
void memtopo_transaction_begin_locked(struct memtopo_ctx *ctx);
int memtopo_transaction_commit_locked(struct memtopo_ctx *ctx);
struct memtopo_space *memtopo_space_create_locked(struct memtopo_ctx *ctx, const char *name,
						  struct memtopo_region *root);
int memtopo_space_destroy_locked(struct memtopo_space *as);
int memtopo_listener_register_locked(struct memtopo_space *as, struct memtopo_listener *l);
void memtopo_listener_unregister_locked(struct memtopo_listener *l);

/*
 * Transactions: nestable; views are rendered at the outermost commit.  A
 * commit that fails undoes every change made since the outermost begin:
 * the tree and every published view are exactly as before it, and regions
 * and spaces created meanwhile are destroyed (keep a region reference to
 * hold on to the object).  There is one transaction per context, whoever
 * opened it: a kernel user's begin while a /dev/memtopo file has one open
 * nests in the file's, and one it keeps open across a release of the
 * mutex takes in the file's next commits (the file's outermost commit is
 * then an inner one, publishing nothing until the kernel user's).  While
 * a kernel user's transaction is open, files without one of their own are
 * refused changes; a file whose transaction was open first is not.
 */
/**
 * memtopo_transaction_begin() - open a (nested) transaction.
 * @ctx: the context.
 *
 * Context: process context; takes the context mutex, so not from a
 * listener or device callback of the context; may sleep.
 */
void memtopo_transaction_begin(struct memtopo_ctx *ctx);
/**
 * memtopo_transaction_commit() - close a transaction.
 * @ctx: the context.
 *
 * Context: process context; takes the context mutex, so not from a
 * listener or device callback of the context; may sleep.
 * Return: as memtopo_transaction_commit_locked().
 */
int memtopo_transaction_commit(struct memtopo_ctx *ctx);

/* Address spaces. */
/**
 * memtopo_space_create() - create an address space over @root.
 * @ctx: the context.
 * @name: name.
 * @root: root region.
 *
 * Context: process context; takes the context mutex, so not from a
 * listener or device callback of the context; may sleep.
 * Return: as memtopo_space_create_locked().
 */
struct memtopo_space *memtopo_space_create(struct memtopo_ctx *ctx, const char *name,
					   struct memtopo_region *root);
/**
 * memtopo_space_destroy() - destroy a space without listeners.
 * @as: the space.
 *
 * Context: process context; takes the context mutex, so not from a
 * listener or device callback of the context; may sleep.
 * Return: as memtopo_space_destroy_locked().
 */
int memtopo_space_destroy(struct memtopo_space *as);
const char *memtopo_space_name(const struct memtopo_space *as);

/*
 * Readers: lookups under rcu_read_lock(); read_begin and read_retry bracket
 * such a section from outside it (see memtopo_space_read_begin()).
 */
int memtopo_space_lookup(struct memtopo_space *as, u64 addr, struct memtopo_section *out);
u64 memtopo_space_generation(struct memtopo_space *as);
unsigned int memtopo_space_read_begin(struct memtopo_space *as);
bool memtopo_space_read_retry(struct memtopo_space *as, unsigned int seq);

/* Listeners. */
/**
 * memtopo_listener_register() - attach a listener to a space.
 * @as: the space.
 * @l: the listener.
 *
 * Context: process context; takes the context mutex, so not from a
 * listener or device callback of the context; may sleep.
 * Return: as memtopo_listener_register_locked().
 */
int memtopo_listener_register(struct memtopo_space *as, struct memtopo_listener *l);
void memtopo_listener_unregister(struct memtopo_listener *l);

/*
 * The consumer's read side (kmod/consumer.c), after QEMU's
 * flatview_for_each_range(), memory_region_find() and
 * address_space_translate(): the space_* walks need rcu_read_lock() (or
 * take it); the region_* questions about the tree take the context mutex.
 */
int memtopo_space_walk_ranges(struct memtopo_space *as,
			      int (*cb)(const struct memtopo_section *s, void *opaque),
			      void *opaque);
int memtopo_space_find_range(struct memtopo_space *as, u64 addr, u64 size,
			     struct memtopo_section *out);
int memtopo_space_translate(struct memtopo_space *as, u64 addr, u64 *len,
			    struct memtopo_section *out,
			    const struct memtopo_backing **backing);
int memtopo_region_find(struct memtopo_region *mr, u64 addr, u64 size,
			struct memtopo_section *out);
bool memtopo_region_present(struct memtopo_region *container, u64 addr);
bool memtopo_region_is_mapped(struct memtopo_region *mr);
struct memtopo_region *memtopo_region_get_by_id(struct memtopo_ctx *ctx, u32 id);
u64 memtopo_region_size(const struct memtopo_region *mr);
u64 memtopo_region_address(const struct memtopo_region *mr);
int memtopo_region_priority(const struct memtopo_region *mr);
bool memtopo_region_is_enabled(const struct memtopo_region *mr);
bool memtopo_region_is_readonly(const struct memtopo_region *mr);
struct memtopo_region *memtopo_region_parent_locked(const struct memtopo_region *mr);

/* What memtopo_region_describe_locked() reports in memtopo_region_state.flags. */
#define MEMTOPO_RS_ENABLED		BIT(0)
#define MEMTOPO_RS_READONLY		BIT(1)
#define MEMTOPO_RS_NONVOLATILE		BIT(2)
#define MEMTOPO_RS_ROMD			BIT(3)
#define MEMTOPO_RS_MAY_OVERLAP		BIT(4)	/* attached as an overlap */
#define MEMTOPO_RS_SIZE_2_64		BIT(5)	/* the size is 2^64 */
#define MEMTOPO_RS_KERNEL_BACKING	BIT(6)	/* backing kinds: enum memtopo_backing_kind */
#define MEMTOPO_RS_FILE_BACKING		BIT(7)
#define MEMTOPO_RS_PROCESS_BACKING	BIT(8)

/**
 * struct memtopo_region_state - what a region is now
 * (memtopo_region_describe_locked()).
 * @id: memtopo_region_id().
 * @parent: the container's ID, or 0 when detached.
 * @alias: a MEMTOPO_ALIAS's target's ID, else 0.
 * @kind: enum memtopo_kind.
 * @flags: MEMTOPO_RS_*.
 * @priority: priority among its siblings.
 * @dirty_log_mask: dirty-log clients enabled (BIT(MEMTOPO_DIRTY_*)).
 * @addr: offset in its container.
 * @size: size in bytes; 0 with MEMTOPO_RS_SIZE_2_64 means 2^64.
 * @alias_offset: a MEMTOPO_ALIAS's offset into its target, else 0.
 * @name: the region's name, valid while the region is.
 * @uaddr: the backing's user address (a process backing's, or the label
 *	of memtopo_backing_label()), else 0.
 * @backing_id: the backing's ID for a kernel, file or process backing,
 *	else 0.
 * @backing_offset: a kernel backing's mmap offset or a file backing's
 *	file offset, else 0.
 */
struct memtopo_region_state {
	u32 id;
	u32 parent;
	u32 alias;
	enum memtopo_kind kind;
	u32 flags;
	s32 priority;
	u8 dirty_log_mask;
	u64 addr;
	u64 size;
	u64 alias_offset;
	const char *name;
	u64 uaddr;
	u64 backing_id;
	u64 backing_offset;
};

/**
 * struct memtopo_space_state - what a space is now
 * (memtopo_space_describe_locked()).
 * @id: the space's ID.
 * @root: its root region's ID.
 * @name: its name, valid while the space is.
 * @generation: the generation of its published view.
 * @nr_ranges: the flat ranges of that view (holes not counted).
 * @nr_listeners: listeners registered on it.
 * @nr_kept: views it keeps for MEMTOPO_GET_FLAT_DIFF, the published one
 *	included.
 */
struct memtopo_space_state {
	u32 id;
	u32 root;
	const char *name;
	u64 generation;
	u32 nr_ranges;
	u32 nr_listeners;
	u32 nr_kept;
};

/**
 * struct memtopo_ctx_state - a context's counts and statistics
 * (memtopo_ctx_describe_locked()).
 * @nr_regions: live regions.
 * @nr_spaces: live spaces.
 * @generation: the last generation a commit published.
 * @txn_depth: transactions open on it, every file's and kernel user's
 *	together: its changes are published by the commit that brings this
 *	back to 0.
 * @mem_max: the context's own memory budget in bytes, 0 for none
 *	(memtopo_ctx_mem_budget() is the one its charges are held to).
 * @mem_ceiling: the module's ceiling on every context's budget in bytes
 *	(memtopo.ctx_mem_max).
 * @commits: commits made.
 * @full_renders: views rendered from their root whole.
 * @overlaps: subregions attached over a sibling without may-overlap (QEMU
 *	warns of those).
 * @reach_hits: searches for the first child of a container meeting a
 *	window (a windowed render, an overlap check) that the container's
 *	reach answered a few siblings back from the child last placed,
 *	without a descent of its tree from the root.
 */
struct memtopo_ctx_state {
	u32 nr_regions;
	u32 nr_spaces;
	u64 generation;
	unsigned int txn_depth;
	size_t mem_max;
	size_t mem_ceiling;
	u64 commits;
	u64 full_renders;
	u64 overlaps;
	u64 reach_hits;
};

void memtopo_region_describe_locked(const struct memtopo_region *mr,
				    struct memtopo_region_state *st);
int memtopo_ctx_walk_regions_locked(struct memtopo_ctx *ctx,
				    int (*fn)(struct memtopo_region *mr, void *arg), void *arg);
void memtopo_ctx_describe_locked(struct memtopo_ctx *ctx, struct memtopo_ctx_state *st);
int memtopo_ctx_walk_spaces_locked(struct memtopo_ctx *ctx,
				   int (*fn)(struct memtopo_space *as, void *arg), void *arg);
void memtopo_space_describe_locked(struct memtopo_space *as, struct memtopo_space_state *st);

/**
 * struct memtopo_mapping - a range of a space mapped for the kernel by
 * memtopo_space_map(), given back with memtopo_space_unmap().
 * @ptr: @len bytes of the space at @addr: the memory itself, or a bounce
 *	buffer when @bounce is set.
 * @addr: the first address mapped.
 * @len: bytes mapped: at least 1, at most what was asked for.
 * @bounce: @ptr is the space's bounce buffer (the range is not RAM).
 * @mr: for a direct mapping, the region whose backing @ptr points into
 *	(referenced until unmap: compare it, never change it); NULL when
 *	bounced.
 * @offset: for a direct mapping, the offset of @addr within @mr.
 */
struct memtopo_mapping {
	void *ptr;
	u64 addr;
	u64 len;
	bool bounce;
	struct memtopo_region *mr;
	u64 offset;
	/* private: owned by memtopo until memtopo_space_unmap() */
	bool is_write;
	struct memtopo_space *as;
	struct memtopo_backing *backing;
	struct page **pages;
	unsigned int nr_pages;
	void *vaddr;
};

/* Kernel mappings of a space (kmod/map.c): process context, may sleep. */
int memtopo_space_map(struct memtopo_space *as, u64 addr, u64 len, bool is_write,
		      struct memtopo_mapping *m);
int memtopo_space_unmap(struct memtopo_mapping *m, u64 access_len);

/*
 * ---- QEMU parity: access dispatch, ioeventfds, coalesced MMIO, dirty
 * logging (dispatch.c, ioeventfd.c, coalesced.c, dirty.c) ----
 */
struct eventfd_ctx;

/* Access dispatch: process context, may sleep (device ops may). */
int memtopo_space_read(struct memtopo_space *as, u64 addr, void *buf, size_t len);
int memtopo_space_write(struct memtopo_space *as, u64 addr, const void *buf, size_t len);
void memtopo_dispatch_sync(void);

/* A region answered by a userspace server through a device fd (served.c). */
struct file;
struct memtopo_serve;
struct file *memtopo_region_serve(struct memtopo_region *mr, const struct memtopo_serve *params);

/* ioeventfds on a region; sizes 0 (any), 1, 2, 4, 8. */
/**
 * memtopo_region_add_eventfd() - register an ioeventfd on a region.
 * @mr: the region.
 * @offset: address within @mr.
 * @size: 0, 1, 2, 4 or 8.
 * @match_data: only writes of @data signal.
 * @data: the value to match.
 * @eventfd: the eventfd; its reference passes to the registration on success.
 *
 * Context: process context; takes the context mutex, so not from a
 * listener or device callback of the context; may sleep.
 * Return: as memtopo_region_add_eventfd_locked().
 */
int memtopo_region_add_eventfd(struct memtopo_region *mr, u64 offset, unsigned int size,
			       bool match_data, u64 data, struct eventfd_ctx *eventfd);
/**
 * memtopo_region_del_eventfd() - unregister an ioeventfd.
 * @mr: the region.
 * @offset: as registered.
 * @size: as registered.
 * @match_data: as registered.
 * @data: as registered.
 * @eventfd: as registered.
 *
 * Context: process context; takes the context mutex, so not from a
 * listener or device callback of the context; may sleep.
 * Return: as memtopo_region_del_eventfd_locked().
 */
int memtopo_region_del_eventfd(struct memtopo_region *mr, u64 offset, unsigned int size,
			       bool match_data, u64 data, struct eventfd_ctx *eventfd);
int memtopo_region_add_eventfd_locked(struct memtopo_region *mr, u64 offset,
				      unsigned int size, bool match_data, u64 data,
				      struct eventfd_ctx *eventfd);
int memtopo_region_del_eventfd_locked(struct memtopo_region *mr, u64 offset,
				      unsigned int size, bool match_data, u64 data,
				      struct eventfd_ctx *eventfd);

/**
 * struct memtopo_eventfd_info - one ioeventfd registration of a region.
 * @offset: address within the region.
 * @data: the value matched (0 without @match_data).
 * @size: 0 (any write), 1, 2, 4 or 8.
 * @match_data: only writes of @data signal.
 * @eventfd: the eventfd; no reference is taken for the caller.
 */
struct memtopo_eventfd_info {
	u64 offset;
	u64 data;
	u32 size;
	bool match_data;
	struct eventfd_ctx *eventfd;
};

u32 memtopo_region_list_eventfds_locked(struct memtopo_region *mr,
					struct memtopo_eventfd_info *out, u32 max);

/* Coalesced MMIO ranges on an I/O region. */
/**
 * memtopo_region_add_coalescing() - make part of an I/O region coalesced.
 * @mr: the region.
 * @offset: first byte.
 * @size: bytes.
 *
 * Context: process context; takes the context mutex, so not from a
 * listener or device callback of the context; may sleep.
 * Return: as memtopo_region_add_coalescing_locked().
 */
int memtopo_region_add_coalescing(struct memtopo_region *mr, u64 offset, u64 size);
/**
 * memtopo_region_del_coalescing() - remove one coalescing range.
 * @mr: the region.
 * @offset: as added.
 * @size: as added.
 *
 * Context: process context; takes the context mutex, so not from a
 * listener or device callback of the context; may sleep.
 * Return: as memtopo_region_del_coalescing_locked().
 */
int memtopo_region_del_coalescing(struct memtopo_region *mr, u64 offset, u64 size);
/**
 * memtopo_region_clear_coalescing() - remove every coalescing range.
 * @mr: the region.
 *
 * Context: process context; takes the context mutex, so not from a
 * listener or device callback of the context; may sleep.
 * Return: as memtopo_region_clear_coalescing_locked().
 */
int memtopo_region_clear_coalescing(struct memtopo_region *mr);
int memtopo_region_add_coalescing_locked(struct memtopo_region *mr, u64 offset, u64 size);
int memtopo_region_del_coalescing_locked(struct memtopo_region *mr, u64 offset, u64 size);
int memtopo_region_clear_coalescing_locked(struct memtopo_region *mr);
/**
 * struct memtopo_coalescing_info - one coalescing range of a region.
 * @offset: first byte within the region.
 * @size: bytes.
 */
struct memtopo_coalescing_info {
	u64 offset;
	u64 size;
};

u32 memtopo_region_list_coalescing_locked(struct memtopo_region *mr,
					  struct memtopo_coalescing_info *out, u32 max);

/* Dirty logging: global start/stop by reason, marking, fetching. */
/**
 * memtopo_global_dirty_log_start() - QEMU's memory_global_dirty_log_start().
 * @ctx: the context.
 * @reasons: MEMTOPO_DIRTY_REASON_* flags.
 *
 * Context: process context; takes the context mutex, so not from a
 * listener or device callback of the context; may sleep.
 * Return: as memtopo_global_dirty_log_start_locked().
 */
int memtopo_global_dirty_log_start(struct memtopo_ctx *ctx, u32 reasons);
/**
 * memtopo_global_dirty_log_stop() - QEMU's memory_global_dirty_log_stop().
 * @ctx: the context.
 * @reasons: MEMTOPO_DIRTY_REASON_* flags.
 *
 * Context: process context; takes the context mutex, so not from a
 * listener or device callback of the context; may sleep.
 * Return: as memtopo_global_dirty_log_stop_locked().
 */
int memtopo_global_dirty_log_stop(struct memtopo_ctx *ctx, u32 reasons);
int memtopo_global_dirty_log_start_locked(struct memtopo_ctx *ctx, u32 reasons);
int memtopo_global_dirty_log_stop_locked(struct memtopo_ctx *ctx, u32 reasons);
u32 memtopo_global_dirty_reasons(struct memtopo_ctx *ctx);
void memtopo_global_dirty_log_sync_locked(struct memtopo_ctx *ctx);
void memtopo_global_after_dirty_log_sync_locked(struct memtopo_ctx *ctx);
/**
 * memtopo_region_set_log() - QEMU's memory_region_set_log(): counted VGA
 * logging.
 * @mr: the region.
 * @on: take (true) or drop (false) one VGA logging reference.
 * @client: MEMTOPO_DIRTY_VGA, the only client QEMU counts.
 *
 * Context: process context; takes the context mutex, so not from a
 * listener or device callback of the context; may sleep.
 * Return: as memtopo_region_set_log_locked().
 */
int memtopo_region_set_log(struct memtopo_region *mr, bool on, unsigned int client);
int memtopo_region_set_log_locked(struct memtopo_region *mr, bool on, unsigned int client);
u32 memtopo_region_vga_logging_count(struct memtopo_region *mr);
void memtopo_mark_dirty(struct memtopo_region *mr, u64 offset, u64 len);
void memtopo_region_log_sync_locked(struct memtopo_region *mr);
int memtopo_region_get_dirty_log(struct memtopo_region *mr, unsigned int client,
				 u64 first_page, u64 npages, u64 *bitmap, bool clear);
/**
 * memtopo_region_clear_dirty_log() - KVM's CLEAR_DIRTY_LOG: clear the bits
 * set in @bitmap, atomically per word.
 * @mr: a RAM-like region.
 * @client: MEMTOPO_DIRTY_*.
 * @first_page: first 4 KiB page, a multiple of 64.
 * @npages: pages covered by @bitmap, within the region.
 * @bitmap: DIV_ROUND_UP(@npages, 64) words, bits to clear.
 *
 * Context: process context; takes the context mutex, so not from a
 * listener or device callback of the context; may sleep.
 * Return: 0, or the errors of memtopo_region_get_dirty_log().
 */
int memtopo_region_clear_dirty_log(struct memtopo_region *mr, unsigned int client,
				   u64 first_page, u64 npages, const u64 *bitmap);

/*
 * ---- RAM discard (discard.c): QEMU's RamDiscardManager as virtio-mem
 * implements it ----
 *
 * A RAM region may get a discard manager: its first size bytes (the
 * region's size when the manager is set) are cut into blocks of a
 * granularity, each populated or discarded, all discarded at first.
 * Populating and discarding ranges tells the discard listeners registered
 * on sections of the region.  Every function below needs the context mutex
 * (the *_locked ones assert it, the others take it) and may sleep; the
 * _locked ones may be called from a memtopo_listener callback of the same
 * context (a consumer registers on a section from region_add and
 * unregisters from region_del, as QEMU's VFIO does).
 */

/* Smallest discard granularity: a page, as QEMU's target page. */
#define MEMTOPO_DISCARD_MIN_GRANULARITY	4096
/* Blocks one manager tracks at most (a 256 MiB bitmap). */
#define MEMTOPO_DISCARD_MAX_BLOCKS	0x80000000ULL	/* 2^31, as the uapi */

struct memtopo_discard_listener;

/**
 * struct memtopo_discard_listener_ops - QEMU's RamDiscardListener callbacks.
 * @notify_populate: the part @s of the listener's section is about to be
 *	populated (NotifyRamPopulate).  Returning a negative errno vetoes the
 *	populate: it is rolled back everywhere and fails with that errno.
 * @notify_discard: the part @s was discarded (NotifyRamDiscard), or is
 *	rolled back after a veto, or stops being visible to the listener (its
 *	section left the view, the space went, it unregisters).  Cannot fail.
 *
 * Both run with the context mutex held, may sleep, and must not populate,
 * discard or change the topology of the same context.  @s->mr is the
 * managed region, @s->offset the offset in it, @s->start..@s->last the
 * addresses in the listener's space; @s->generation is the section's as
 * registered.
 */
struct memtopo_discard_listener_ops {
	int (*notify_populate)(struct memtopo_discard_listener *dl,
			       const struct memtopo_section *s);
	void (*notify_discard)(struct memtopo_discard_listener *dl,
			       const struct memtopo_section *s);
};

/**
 * struct memtopo_discard_listener - a RamDiscardListener registration;
 * embed it and keep it alive while registered.
 * @ops: callbacks, both required.
 * @priv: the owner's, untouched by memtopo.
 */
struct memtopo_discard_listener {
	const struct memtopo_discard_listener_ops *ops;
	void *priv;
	/* private: owned by memtopo while registered */
	struct memtopo_section section;
	struct memtopo_space *space;
	struct list_head link;
	struct list_head space_link;
	bool registered;
	bool live;
};

int memtopo_region_set_discard_manager_locked(struct memtopo_region *mr, u64 granularity);
int memtopo_region_clear_discard_manager_locked(struct memtopo_region *mr);
int memtopo_region_populate_locked(struct memtopo_region *mr, u64 offset, u64 size);
int memtopo_region_discard_locked(struct memtopo_region *mr, u64 offset, u64 size);
int memtopo_region_discard_info_locked(struct memtopo_region *mr, u64 *granularity,
				       u64 *size, u64 *populated);
int memtopo_region_discard_state_locked(struct memtopo_region *mr, u64 first_block,
					u64 nr_blocks, u64 *bitmap);
bool memtopo_discard_is_populated_locked(const struct memtopo_section *s);
int memtopo_discard_replay_populated_locked(const struct memtopo_section *s,
					    int (*fn)(const struct memtopo_section *s,
						      void *opaque),
					    void *opaque);
int memtopo_discard_replay_discarded_locked(const struct memtopo_section *s,
					    void (*fn)(const struct memtopo_section *s,
						       void *opaque),
					    void *opaque);
int memtopo_discard_listener_register_locked(struct memtopo_space *as,
					     const struct memtopo_section *s,
					     struct memtopo_discard_listener *dl);
void memtopo_discard_listener_unregister_locked(struct memtopo_discard_listener *dl);
/**
 * memtopo_region_set_discard_manager() - give a RAM region a discard manager.
 * @mr: the region.
 * @granularity: block size.
 *
 * Context: process context; takes the context mutex, so not from a
 * listener or device callback of the context; may sleep.
 * Return: as memtopo_region_set_discard_manager_locked().
 */
int memtopo_region_set_discard_manager(struct memtopo_region *mr, u64 granularity);
/**
 * memtopo_region_populate() - populate a range of a managed region.
 * @mr: the region.
 * @offset: first byte, a multiple of the granularity.
 * @size: bytes, a non-zero multiple of the granularity.
 *
 * Context: process context; takes the context mutex, so not from a
 * listener or device callback of the context; may sleep.
 * Return: as memtopo_region_populate_locked().
 */
int memtopo_region_populate(struct memtopo_region *mr, u64 offset, u64 size);
/**
 * memtopo_region_discard() - discard a range of a managed region.
 * @mr: the region.
 * @offset: first byte, a multiple of the granularity.
 * @size: bytes, a non-zero multiple of the granularity.
 *
 * Context: process context; takes the context mutex, so not from a
 * listener or device callback of the context; may sleep.
 * Return: as memtopo_region_discard_locked().
 */
int memtopo_region_discard(struct memtopo_region *mr, u64 offset, u64 size);
/**
 * memtopo_discard_listener_register() - listen to a section's populates
 * and discards.
 * @as: the space @s belongs to.
 * @s: the section.
 * @dl: the listener.
 *
 * Context: process context; takes the context mutex, so not from a
 * listener or device callback of the context; may sleep.
 * Return: as memtopo_discard_listener_register_locked().
 */
int memtopo_discard_listener_register(struct memtopo_space *as,
				      const struct memtopo_section *s,
				      struct memtopo_discard_listener *dl);
void memtopo_discard_listener_unregister(struct memtopo_discard_listener *dl);

/*
 * ---- IOMMU regions (iommu.c), QEMU's IOMMUMemoryRegion ----
 *
 * A MEMTOPO_IOMMU region renders itself like an I/O region; an access that
 * lands on it is translated (memtopo_space_translate(), memtopo_space_read()
 * and _write()) into the target space of the IOTLB entry covering it, and
 * so on through nested IOMMUs, at most MEMTOPO_IOMMU_MAX_DEPTH of them.
 * The translation comes from struct memtopo_iommu_ops, or, for a region
 * created with memtopo_region_create() (or by userspace), from a table
 * programmed with memtopo_iommu_map() / memtopo_iommu_unmap().
 */

/* Access permissions, QEMU's IOMMUAccessFlags. */
#define MEMTOPO_IOMMU_NONE	0
#define MEMTOPO_IOMMU_RO	1
#define MEMTOPO_IOMMU_WO	2
#define MEMTOPO_IOMMU_RW	3

/* IOMMUs an access may pass through before it is refused (-ELOOP). */
#define MEMTOPO_IOMMU_MAX_DEPTH		8
/* The table's granularity: IOVAs, lengths and targets are multiples of it. */
#define MEMTOPO_IOMMU_PAGE_SIZE		4096ULL
/* Mappings one table holds at most. */
#define MEMTOPO_IOMMU_MAX_MAPPINGS	4096

/**
 * struct memtopo_iotlb_entry - QEMU's IOMMUTLBEntry.
 * @target_as: the space the translation goes into.
 * @iova: first I/O virtual address of the entry, a multiple of
 *	@addr_mask + 1.
 * @translated_addr: where @iova goes in @target_as.
 * @addr_mask: the entry covers [@iova, @iova + @addr_mask]; 2^n - 1.
 * @perm: MEMTOPO_IOMMU_*; MEMTOPO_IOMMU_NONE: no translation (a fault, or
 *	an UNMAP event).
 */
struct memtopo_iotlb_entry {
	struct memtopo_space *target_as;
	u64 iova;
	u64 translated_addr;
	u64 addr_mask;
	unsigned int perm;
};

/* Notifier flags and event types, QEMU's IOMMUNotifierFlag. */
#define MEMTOPO_IOMMU_NOTIFIER_UNMAP		BIT(0)
#define MEMTOPO_IOMMU_NOTIFIER_MAP		BIT(1)
#define MEMTOPO_IOMMU_NOTIFIER_DEVIOTLB_UNMAP	BIT(2)
#define MEMTOPO_IOMMU_NOTIFIER_IOTLB_EVENTS					\
	(MEMTOPO_IOMMU_NOTIFIER_MAP | MEMTOPO_IOMMU_NOTIFIER_UNMAP)

/**
 * struct memtopo_iotlb_event - QEMU's IOMMUTLBEvent.
 * @type: one MEMTOPO_IOMMU_NOTIFIER_* flag.
 * @entry: the new entry (MAP), or the range that lost its translation
 *	(UNMAP, DEVIOTLB_UNMAP: @entry.perm is MEMTOPO_IOMMU_NONE).
 */
struct memtopo_iotlb_event {
	unsigned int type;
	struct memtopo_iotlb_entry entry;
};

struct memtopo_iommu_notifier;

/**
 * struct memtopo_iommu_notifier - QEMU's IOMMUNotifier: a kernel consumer
 * told about translation changes of one IOMMU region; embed it.
 * @notify: called with the context mutex held, once per entry; may sleep;
 *	must not register or unregister notifiers of the same region.
 * @flags: MEMTOPO_IOMMU_NOTIFIER_* events wanted, at least one.
 * @start: first IOVA of interest.
 * @end: last IOVA of interest (inclusive).
 * @iommu_idx: the translation table watched (below the region's
 *	memtopo_iommu_num_indexes()).
 */
struct memtopo_iommu_notifier {
	void (*notify)(struct memtopo_iommu_notifier *n, const struct memtopo_iotlb_entry *entry);
	unsigned int flags;
	u64 start;
	u64 end;
	int iommu_idx;
	/* private: owned by memtopo while registered */
	struct list_head link;
	struct memtopo_region *iommu;
};

/**
 * struct memtopo_iommu_ops - QEMU's IOMMUMemoryRegionClass, for an IOMMU
 * implemented by a kernel module.
 * @translate: fill *@out with the entry covering @addr (an offset in the
 *	region) in table @iommu_idx; @flag is the access wanted
 *	(MEMTOPO_IOMMU_RO or _WO; MEMTOPO_IOMMU_NONE for a replay, which wants
 *	no fault reported).  *@out arrives zeroed, perm MEMTOPO_IOMMU_NONE.
 *	For an address without translation, @out->addr_mask may name the
 *	aligned block around it that has none (what an empty page-table
 *	entry tells a walk): the default replay skips it whole.  Called
 *	under rcu_read_lock(): must not sleep.  Required.
 * @num_indexes: how many translation tables the IOMMU has (default 1).
 * @attrs_to_index: the table an access with transaction attributes @attrs
 *	uses (default 0).
 * @replay: notify @n of every current mapping in its range (default: as
 *	QEMU's memory_region_iommu_replay(), translate from the range's
 *	start and notify MAP for each translated entry, but step block by
 *	block: past each entry, or each miss's block, by its addr_mask, at
 *	least MEMTOPO_IOMMU_PAGE_SIZE; -E2BIG past 2^20 translations).
 *	Called with the context mutex held.
 * @notify_flag_changed: the union of the registered notifiers' flags
 *	changes from @old to @new; an error refuses the registration.  Called
 *	with the context mutex held.
 *
 * The region's opaque pointer (memtopo_region_info.opaque) belongs to the
 * implementation: memtopo_iommu_opaque().  Ops and opaque data must stay
 * valid until the region is freed (keep a region reference and call
 * memtopo_dispatch_sync() after dropping it, as for device callbacks).
 */
struct memtopo_iommu_ops {
	void (*translate)(struct memtopo_region *iommu, u64 addr, unsigned int flag,
			  int iommu_idx, struct memtopo_iotlb_entry *out);
	int (*num_indexes)(struct memtopo_region *iommu);
	int (*attrs_to_index)(struct memtopo_region *iommu, u32 attrs);
	void (*replay)(struct memtopo_region *iommu, struct memtopo_iommu_notifier *n);
	int (*notify_flag_changed)(struct memtopo_region *iommu, unsigned int old,
				   unsigned int new);
};

struct memtopo_region *memtopo_iommu_region_create_locked(struct memtopo_ctx *ctx,
							  const struct memtopo_region_info *info,
							  const struct memtopo_iommu_ops *ops);
/**
 * memtopo_iommu_region_create() - create a detached IOMMU region that
 * translates through @ops.
 * @ctx: the owner.
 * @info: as for memtopo_region_create(); @info->kind must be MEMTOPO_IOMMU.
 * @ops: the translation.
 *
 * Context: process context; takes the context mutex, so not from a
 * listener or device callback of the context; may sleep.
 * Return: as memtopo_iommu_region_create_locked().
 */
struct memtopo_region *memtopo_iommu_region_create(struct memtopo_ctx *ctx,
						   const struct memtopo_region_info *info,
						   const struct memtopo_iommu_ops *ops);
int memtopo_iommu_map_locked(struct memtopo_region *iommu, u64 iova, u64 size,
			     struct memtopo_space *target, u64 addr, unsigned int perm);
int memtopo_iommu_unmap_locked(struct memtopo_region *iommu, u64 iova, u64 size);
/**
 * memtopo_iommu_map() - map [@iova, @iova + @size) of a table IOMMU.
 * @iommu: a MEMTOPO_IOMMU region without ops.
 * @iova: first IOVA.
 * @size: bytes.
 * @target: the space it translates into (same context).
 * @addr: where @iova goes in @target.
 * @perm: MEMTOPO_IOMMU_RO, _WO or _RW.
 *
 * Context: process context; takes the context mutex, so not from a
 * listener or device callback of the context; may sleep.
 * Return: as memtopo_iommu_map_locked().
 */
int memtopo_iommu_map(struct memtopo_region *iommu, u64 iova, u64 size,
		      struct memtopo_space *target, u64 addr, unsigned int perm);
/**
 * memtopo_iommu_unmap() - unmap [@iova, @iova + @size) of a table IOMMU.
 * @iommu: a MEMTOPO_IOMMU region without ops.
 * @iova: first IOVA.
 * @size: bytes.
 *
 * Context: process context; takes the context mutex, so not from a
 * listener or device callback of the context; may sleep.
 * Return: as memtopo_iommu_unmap_locked().
 */
int memtopo_iommu_unmap(struct memtopo_region *iommu, u64 iova, u64 size);
int memtopo_iommu_register_notifier_locked(struct memtopo_region *iommu,
					   struct memtopo_iommu_notifier *n);
void memtopo_iommu_unregister_notifier_locked(struct memtopo_iommu_notifier *n);
int memtopo_iommu_replay_locked(struct memtopo_region *iommu, struct memtopo_iommu_notifier *n);
/**
 * memtopo_iommu_register_notifier() - register @n on @iommu and, with
 * @replay, tell it every current mapping in its range before any change
 * (QEMU's memory_region_register_iommu_notifier() then
 * memory_region_iommu_replay(), under one lock hold).
 * @iommu: the IOMMU region.
 * @n: the notifier, filled in.
 * @replay: replay the current mappings.
 *
 * Context: process context; takes the context mutex; may sleep.
 * Return: as memtopo_iommu_register_notifier_locked(), or the replay's
 * error (then @n is unregistered again).
 */
int memtopo_iommu_register_notifier(struct memtopo_region *iommu,
				    struct memtopo_iommu_notifier *n, bool replay);
void memtopo_iommu_unregister_notifier(struct memtopo_iommu_notifier *n);
void memtopo_iommu_notify_locked(struct memtopo_region *iommu, int iommu_idx,
				 const struct memtopo_iotlb_event *event);
void *memtopo_iommu_opaque(struct memtopo_region *iommu);
int memtopo_iommu_num_indexes(struct memtopo_region *iommu);
int memtopo_iommu_attrs_to_index(struct memtopo_region *iommu, u32 attrs);
int memtopo_space_get_iotlb_entry(struct memtopo_space *as, u64 addr, bool is_write,
				  u32 attrs, struct memtopo_iotlb_entry *out);
int memtopo_space_translate_access(struct memtopo_space *as, u64 addr, u64 *len,
				   bool is_write, struct memtopo_section *out,
				   const struct memtopo_backing **backing);

#endif /* _MEMTOPO_MEMTOPO_H */
