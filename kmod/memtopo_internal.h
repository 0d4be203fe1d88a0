/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Engine internals shared by the core files (MEMTOPO_CORE_OBJS in
 * engine.mk), the parity features and the glue.
 *
 * Lifetimes:
 *  - A context is reference counted; it owns its regions and spaces and is
 *    freed once the last reference (file, named registry, kernel user) goes.
 *  - A region is reference counted: the context holds one until the region
 *    is destroyed, aliases hold one on their target, listeners may hold
 *    more.  Views point at regions without references; that is safe because
 *    a region can only be destroyed once it is detached, and its final put
 *    is deferred past the commit that removed it from every view, then
 *    freed after an RCU grace period.
 *  - A view is shared by the spaces whose effective roots are equal and is
 *    freed after an RCU grace period once no space points at it.
 *
 * Lock order (the only place it is written; Documentation/engine.rst
 * explains it), outermost first:
 *
 *   memtopo_file.lock           one ioctl at a time per open file
 *     memtopo_file.ctx_lock     MEMTOPO_CTX_ATTACH switching the file's
 *                               context (registry.c); nothing under it
 *     memtopo_named_lock        the named-context registry (registry.c)
 *       debugfs internals       creating a named context's entry
 *     memtopo_ctx.lock          the context mutex: every writer, commits,
 *                               listener callbacks, READ_EVENTS, debugfs
 *                               readers
 *       memtopo_space.seq       seqcount_mutex_t on the context mutex
 *       access SRCU (read)      entered under the mutex by MEMTOPO_SPACE_RW,
 *                               which drops the mutex before the device
 *                               callbacks run (memtopo_space_rw_by_id())
 *       RCU (read), eventfd     lookups; eventfd_signal()'s wait queue lock
 *         memtopo_served.lock   a served device's queue (served.c), a
 *                               spinlock with BHs off (the region's RCU
 *                               free ends the device); innermost
 *       page locks of kernel-owned RAM  a write-protect (backing.c), in
 *                               ascending page order, then
 *         i_mmap_rwsem          of the files' shared address_space
 *                               (unmap_mapping_range())
 *
 *   mmap lock                   a fault on a mapping of kernel-owned RAM
 *     page lock                 ->page_mkwrite, one page, held by the fault
 *                               until the PTE is writable; then RCU
 *   memtopo_file.ctx_lock       ->mmap(), under the mmap lock; a spinlock
 *
 * The context and file mutexes come before the mmap lock (their holders
 * copy from and to user memory, which may fault), so nothing under the
 * mmap lock takes them: a mapping's last context reference is dropped
 * from a work item.
 *
 * A kernel consumer's own locks come before memtopo_file.lock (which
 * memtopo_ctx_from_fd() takes) and the context mutex; a lock its listener
 * callbacks take comes after the context mutex instead, and is then never
 * held while taking it (memtopo_vhost.c's io_lock).  Never:
 *  - two context mutexes at once (lockdep: one class, no nesting);
 *  - memtopo_named_lock across a user copy (a fault would stall every
 *    attach): asserted in registry.c;
 *  - a context mutex while removing that context's debugfs entry (its
 *    readers take the mutex, removal waits for them): asserted in debugfs.c;
 *  - a context mutex across memtopo_dispatch_sync() when a device callback
 *    of that context can take it (the callback waits for the mutex, the
 *    mutex holder for the callback);
 *  - the context mutex from a listener or device callback it calls;
 *  - a user copy or a sleep under a served device's lock.
 * The *_locked functions assert the context mutex (memtopo_assert_locked()).
 */
#ifndef _MEMTOPO_INTERNAL_H
#define _MEMTOPO_INTERNAL_H

#include <linux/atomic.h>
#include <linux/bits.h>
#include <linux/kref.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/rbtree.h>
#include <linux/rcupdate.h>
#include <linux/refcount.h>
#include <linux/seqlock.h>
#include <linux/xarray.h>

#include <memtopo/memtopo.h>

#define MEMTOPO_RF_ENABLED	BIT(0)
#define MEMTOPO_RF_READONLY	BIT(1)
#define MEMTOPO_RF_NONVOLATILE	BIT(2)
#define MEMTOPO_RF_ROMD		BIT(3)
#define MEMTOPO_RF_MAY_OVERLAP	BIT(4)
#define MEMTOPO_RF_SIZE64	BIT(5)	/* size is 2^64 */
#define MEMTOPO_RF_DESTROYED	BIT(6)
/*
 * How many pairs of consecutive children (by_addr order) overlap, up to
 * MEMTOPO_KIDS_MANY, which stays until the last child leaves: kept by the
 * child tree's insert, erase and rekey alone (region.c), so a restore of
 * the flags from an undo record keeps these bits as they are.
 */
#define MEMTOPO_RF_KIDS_SHIFT	8
#define MEMTOPO_KIDS_MANY	0x7f
#define MEMTOPO_RF_KIDS		(MEMTOPO_KIDS_MANY << MEMTOPO_RF_KIDS_SHIFT)
/* set only during memtopo_region_reaches(), under the context mutex */
#define MEMTOPO_RF_VISITED	BIT(15)

/*
 * The undo log: one record per change made since the last commit, in
 * chunks that never move (records may hold list heads), so the log grows
 * with the changes actually made.  Replayed backwards, it restores the tree
 * exactly; a commit that publishes forgets it.
 */
enum memtopo_undo_kind {
	MEMTOPO_UNDO_REGION_CREATE = 1,
	MEMTOPO_UNDO_REGION_DESTROY,
	MEMTOPO_UNDO_ATTACH,		/* add_subregion */
	MEMTOPO_UNDO_DETACH,		/* del_subregion */
	MEMTOPO_UNDO_PLACE,		/* address, size, priority: the key in the parent */
	MEMTOPO_UNDO_ALIAS_OFFSET,
	MEMTOPO_UNDO_FLAGS,		/* enabled, readonly, nonvolatile, romd */
	MEMTOPO_UNDO_DIRTY_LOG,		/* a region's own dirty-log clients */
	MEMTOPO_UNDO_SPACE_CREATE,
	MEMTOPO_UNDO_SPACE_DESTROY,
	MEMTOPO_UNDO_PARITY,		/* a parity feature's: memtopo_hook_undo() */
	MEMTOPO_UNDO_KINDS
};

struct memtopo_undo {
	u8 kind;
	u8 sub;			/* MEMTOPO_UNDO_PARITY: the feature's own kind */
	u8 dirty_log_mask;
	u16 flags;
	s32 priority;
	u32 id_next;		/* a create: the ID cursor before it */
	void *obj;		/* the region or space changed */
	void *aux;		/* old parent, feature object */
	void *pos;		/* list position it had */
	u64 addr;		/* or alias offset */
	u64 size;
	u64 seq;
	struct list_head list;	/* objects a record owns (cleared ranges) */
};

/* records a chunk holds: with its header, one kmalloc-4096 object exactly */
#define MEMTOPO_UNDO_CHUNK	51

struct memtopo_undo_chunk {
	struct memtopo_undo_chunk *prev;
	u32 nr;
	struct memtopo_undo rec[MEMTOPO_UNDO_CHUNK];
};

struct memtopo_undo_log {
	struct memtopo_undo_chunk *top;
	/* one empty chunk kept across commits: most commits need no more */
	struct memtopo_undo_chunk *spare;
	u32 nr;
};

struct memtopo_plan;

struct memtopo_ctx {
	struct kref kref;
	/* serialises every writer: regions, spaces, listeners, commits */
	struct mutex lock;
	/*
	 * every live region, and every live space, by ID (what userspace
	 * names); memtopo_region_by_id_locked() and memtopo_space_find_locked()
	 */
	struct xarray objects;
	struct xarray space_ids;
	struct list_head spaces;
	unsigned int nr_regions;
	unsigned int nr_spaces;
	/* next IDs to try: IDs are handed out cyclically, not lowest-free */
	u32 next_region_id;
	u32 next_space_id;
	/*
	 * the serial of the last space created; never rewound, so unlike an
	 * ID (which an undone create hands to the next one) a serial names
	 * one space for the context's life
	 */
	u64 space_serial;
	/*
	 * Bytes charged to the memory budget: atomic, because kernel mappings
	 * (map.c) charge without the mutex (memtopo_ctx_charge()).
	 */
	atomic_long_t mem_used;
	/* this context's own budget below the module's ceiling; 0: none */
	size_t mem_max;
	/* of @mem_used, what the published views hold (commit.c) */
	size_t view_charge;
	unsigned int txn_depth;
	bool topology_dirty;
	/*
	 * insertion counter: ties in priority go to the larger seq.  Kept
	 * below 2^32 by memtopo_region_renumber() once it passes
	 * MEMTOPO_SEQ_RENUMBER.
	 */
	u32 seq;
	/* regions and spaces destroyed since the last commit, freed by it */
	struct list_head deferred_puts;
	struct list_head dead_spaces;
	/* how to put everything back if the pending commit fails (undo.c) */
	struct memtopo_undo_log undo;
	u64 generation;
	/*
	 * What the pending commit must re-render: the windows noted by the
	 * mutations (window.c), @nr_windows of them, or everything when
	 * full_render is set; beside them, what the commit makes of them.
	 * Allocated with the first window noted, kept until the context goes.
	 */
	struct memtopo_windows *windows;
	u32 nr_windows;
	/*
	 * The commit's plans, one a space (commit.c), kept as the windows
	 * are; @cap_plans of them.  Working memory, not state: a failed
	 * commit keeps an array it grew, as it keeps its render's.
	 */
	struct memtopo_plan *plans;
	u32 cap_plans;
	/* render working memory, kept across commits, used under @lock */
	struct memtopo_render *scratch;
	bool full_render;
	/*
	 * The child last put in place in its parent's tree (attached or moved),
	 * cleared when it leaves the tree: where a windowed render finds the
	 * children meeting its window without a descent from the parent's
	 * root (region.c, memtopo_region_visit_children()).  Read and written
	 * under @lock only; never a reference: a region in a tree cannot be
	 * destroyed, and every way out of a tree clears it.
	 */
	struct memtopo_region *kid_finger;
	u64 stat_commits;
	u64 stat_full_renders;
	u64 stat_repacks;		/* spliced views repacked (tests read it) */
	u64 stat_overlaps;
	/*
	 * first-child searches that stepping back from the finger within a
	 * container's reach answered, sparing a descent from the root
	 * (region.c, memtopo_kids_first_before()); under @lock
	 */
	u64 stat_reach_hits;
	/*
	 * QEMU parity state the core renders from: written only through
	 * memtopo_ctx_set_global_dirty_locked() (ctx.c), read with READ_ONCE()
	 */
	u32 global_dirty_reasons;	/* MEMTOPO_DIRTY_REASON_* */
	/* the features' own state (parity.h), under @lock */
	struct memtopo_ctx_parity *parity;
	char name[MEMTOPO_MAX_NAME];
};

/*
 * A region.  Its size is the memory cost of every map, so fields are only
 * kept when they cannot be derived, and storage a region only needs in one
 * state of its life is shared with what it needs in another.
 */
struct memtopo_region {
	/* first what a render and a tree walk read, together */
	union {
		/*
		 * In parent->by_addr while attached, with the largest last
		 * address of its subtree: the interval tree is the only
		 * index of a parent's children (region.c).
		 */
		struct {
			struct rb_node addr_node;
			u64 subtree_last;
		};
		/* reused once detached and dead */
		struct rcu_head rcu;
		struct list_head deferred;
	};
	u64 addr;
	u64 size;		/* low 64 bits; MEMTOPO_RF_SIZE64 for 2^64 */
	s32 priority;
	u32 seq;		/* among equal priorities, larger renders first */
	u8 kind;
	u8 dirty_log_mask;
	u16 flags;
	u32 id;
	/* the children, by address then render order */
	struct rb_root by_addr;
	/* what only some kinds have: read through the kind-checking accessors */
	union {
		/* MEMTOPO_ALIAS: the target (a reference) and the offset into it */
		struct {
			struct memtopo_region *alias;
			u64 alias_offset;
		};
		/* MEMTOPO_IO, MEMTOPO_ROM_DEVICE: the device's callbacks */
		struct {
			const struct memtopo_region_ops *ops;
			void *opaque;
		};
		/*
		 * MEMTOPO_CONTAINER: at least the largest last address less
		 * address of any child since it last had none (region.c);
		 * written and read only under the context mutex, by the
		 * child tree's writers and a render, never by lockless readers
		 */
		u64 kids_reach;
	};
	struct memtopo_region *parent;
	struct memtopo_ctx *ctx;
	refcount_t ref;
	u32 alias_users;	/* aliases targeting this region */
	/* RAM-like regions: what holds the bytes (a reference), or NULL */
	struct memtopo_backing *backing;
	/* dirty bitmaps, ioeventfds, coalesced ranges (parity.h) */
	struct memtopo_region_parity __rcu *parity;
	/*
	 * Inline, in a cache whose objects are just large enough for it: no
	 * second allocation (region.c).
	 */
	char name[];
};

/*
 * Where a pending change can alter a view: [start, last] in the frame of
 * @frame rendered as a space's effective root.  @frame is only compared,
 * never dereferenced (it may be destroyed in the same transaction).
 */
struct memtopo_window {
	const struct memtopo_region *frame;
	u64 start;
	u64 last;
};

#define MEMTOPO_MAX_WINDOWS	128

/*
 * A context's windows, and what a commit makes of them, kept from one
 * commit to the next (window.c): a commit allocates only what its views
 * keep.  Each effective root's runs follow the last root's in @runs: a
 * root's windows are the noted windows of its frame, merged, and the
 * roots of one commit are distinct, so all of them fit.
 */
struct memtopo_windows {
	struct memtopo_window noted[MEMTOPO_MAX_WINDOWS];
	/* one root's, sorted and merged (memtopo_windows_of()) */
	struct memtopo_window of_root[MEMTOPO_MAX_WINDOWS];
	/* the runs of the old and new views they cover (commit.c) */
	u32 runs[MEMTOPO_MAX_WINDOWS][4];
};

/*
 * One entry of a view: a flat range, or a hole when @mr is NULL.  Packed:
 * with its 8-byte start an entry takes 26 bytes, not 32, which is what
 * lets a page-sized chunk hold MEMTOPO_CHUNK_ENTRIES of them.
 */
struct memtopo_fr {
	struct memtopo_region *mr;
	u64 offset;
	u8 flags;			/* MEMTOPO_FR_* */
	u8 dirty_log_mask;
} __packed;

/* Two entries map the same: QEMU's flatrange_equal() less the bounds, with the dirty-log mask. */
static inline bool memtopo_fr_equal(const struct memtopo_fr *a, const struct memtopo_fr *b)
{
	return a->mr == b->mr && a->offset == b->offset && a->flags == b->flags &&
	       a->dirty_log_mask == b->dirty_log_mask;
}

static_assert((MEMTOPO_FR_READONLY | MEMTOPO_FR_ROMD | MEMTOPO_FR_NONVOLATILE) <= 0xff,
	      "a flat range's flags must fit in struct memtopo_fr");

/*
 * A view is a two-level copy-on-write tree (view.c): the view indexes
 * groups, a group indexes chunks, a chunk holds entries.  A commit rebuilds
 * the chunks its window touches and the group holding them and shares the
 * rest with the previous view, so its cost follows the change, not the
 * map.  Chunks and groups are immutable once a view is published.
 *
 * Chunks and groups carry no reference count: each belongs to the oldest
 * living view of its chain that holds it (a view and the one spliced from
 * it are neighbours in a chain, @lender and @borrower), and goes with it
 * unless the next view of the chain holds it too (view.c).
 *
 * A group is a node of MEMTOPO_NODE_KEYS sorted keys, its chunks' starts,
 * in blocks of 8 (one cache line each: nodes are page-aligned
 * kmalloc-4096 objects, and the keys start on a line), with every 8th key
 * copied into @sum: a search counts the summary keys below the address,
 * then the keys of one block.  Each group also has a direct table, @slot:
 * its address span (first to last key) cut into equal power-of-two slots,
 * each holding the index of the key at or below the slot's first address.
 * A search reads the slot of its address and the next one; when they are
 * close (almost always: there are more slots than keys) a few unrolled
 * steps from the first finish it, one cache line of keys instead of the
 * summary's three and a block.
 *
 * A chunk has neither: the view's direct table answers almost every
 * lookup straight to a chunk and an entry, and only the lookups it cannot
 * answer and a commit's few searches search a chunk, by a branch-free
 * binary search over its keys (memtopo_chunk_find()).  What a summary and
 * a table took, some 280 bytes a page, holds entries instead: @starts
 * first, on the page's first line, then @fr, then the head, which only a
 * walk, a splice and the binary search's last step read.  MEMTOPO_CHUNK_ENTRIES is
 * what fits: 157 keys and 156 entries of 18 bytes, 4,064 bytes, and the
 * head.  The direct table names an entry in 8 bits: at most 256.
 */
#define MEMTOPO_LINE		64	/* the cache line the layout is built for */
#define MEMTOPO_NODE_KEYS	144
#define MEMTOPO_NODE_BLOCKS	(MEMTOPO_NODE_KEYS / 8)
#define MEMTOPO_CHUNK_ENTRIES	156
#define MEMTOPO_GROUP_CHUNKS	MEMTOPO_NODE_KEYS
#define MEMTOPO_GROUP_SLOTS	512

struct memtopo_chunk {
	/*
	 * The keys, then where the next chunk starts (U64_MAX if none): the
	 * last entry's end without a look at the group.  Past that, U64_MAX:
	 * fixed-size searches read the padding.
	 */
	u64 starts[MEMTOPO_CHUNK_ENTRIES + 1] __aligned(MEMTOPO_LINE);
	struct memtopo_fr fr[MEMTOPO_CHUNK_ENTRIES];
	/* the owner's list of what it frees (memtopo_view_release()) */
	struct memtopo_chunk *dead_next;
	u32 nr;
	/* of them, with a region: a splice replacing the chunk reads this, not them */
	u32 nr_ranges;
};

struct memtopo_group {
	u64 sum[MEMTOPO_NODE_BLOCKS];	/* chunk_start[0], [8], ... */
	struct memtopo_group *dead_next;	/* as a chunk's */
	u32 nr_chunks;
	/* first start of each chunk, in blocks of 8 */
	u64 chunk_start[MEMTOPO_GROUP_CHUNKS] __aligned(MEMTOPO_LINE);
	struct memtopo_chunk *chunks[MEMTOPO_GROUP_CHUNKS];
	u32 chunk_first[MEMTOPO_GROUP_CHUNKS];	/* first entry, within the group */
	u32 nr;				/* entries */
	u8 shift;			/* slot s starts at chunk_start[0] + (s << shift) */
	u8 slot[MEMTOPO_GROUP_SLOTS + 1];	/* the last one: nr_chunks - 1 */
};

/* Groups [g_from, g_to) and chunks [c_from, c_to) of one view, by index. */
struct memtopo_view_span {
	u32 g_from, g_to;
	u32 c_from, c_to;
};

/*
 * The spans a view keeps against its lender: one a splice, so a commit of
 * this many windows far apart (a region moved far is two) still releases
 * by spans once the views between its splices are gone.
 */
#define MEMTOPO_VIEW_SPANS	4

/*
 * A view's direct table: addresses from 0 cut into slots of 2^tshift
 * bytes, about one per entry (memtopo_table_slots_max()).  A slot whose
 * addresses lie in one chunk, among at most 1 + MEMTOPO_TSLOT_STARTS_MAX
 * of its entries (its last only if a chunk follows), and whose first
 * address is in an entry
 * starting at most MEMTOPO_TSLOT_REACH slots before, says which chunk (an
 * index, from 1, into its page's list of chunks), the entry holding its
 * first address and where or how many more start in it (its form,
 * memtopo_tslot_*()).  A
 * slot deeper inside one entry may name instead, with chunk 0, a record of
 * the view (struct memtopo_trec), as entry 2r of the records read as a
 * chunk; any other slot is 0, record 0, which no address is in, and its
 * lookups take the group search.  Two bytes a slot, a page's 7 chunk
 * pointers shared by its 256 slots: at a slot per entry a page spans some
 * two chunks, and the table of 10^5 entries, some 230 KiB, stays in the
 * cache beside the bare search's array.  The reach bounds the slots a
 * commit rewrites by the entries it replaces, not by the addresses they
 * span (a hole below a 64-bit BAR spans most of them).
 *
 * Slots live in pages, pages in mids, the view holds its own array of
 * mids.  Slots a page and pages a mid are powers of two: a lookup finds
 * its mid, page and slot by shifts and masks, where dividing by other
 * counts puts a chain of multiplies on its critical path (a tenth of an
 * overlapping map's lookup).  A page is then 568 bytes and a mid 528,
 * each an object of its own slab cache (memtopo_view_cache_init()),
 * which kmalloc's powers of two would round up to 1024.  Pages and mids are
 * copy-on-write and, like chunks, carry no reference count: each belongs
 * to the oldest living view of the chain holding it
 * (memtopo_view_release()), so a commit copies the mid array, the mids
 * and pages holding the slots it rewrites, and nothing else.
 */
#define MEMTOPO_TPAGE_CHUNKS	7
#define MEMTOPO_TPAGE_SLOTS	256	/* what a commit copies: these and the chunks */
#define MEMTOPO_TMID_PAGES	64	/* with the two words below, 528 bytes */
#define MEMTOPO_TSLOT_REACH	8
#define MEMTOPO_TLONG_MAX	64
/*
 * below this many entries a view is made without a table: its groups are
 * cached (a commit's view keeps its lender's table until the count has
 * moved by a quarter, memtopo_table_stale())
 */
#define MEMTOPO_TABLE_MIN	1024
/*
 * Slots are at least 8 bytes, so that every slot has eighths and the
 * lookup takes its slot and its eighth from one shift of the address; a
 * map of entries shorter than that on average (single I/O ports) gets
 * slots holding several starts, which it counts or searches.
 */
#define MEMTOPO_TSHIFT_MIN	3

/*
 * A slot: chunk (bits 0-2), entry of its first address (3-10), and in
 * bits 11-15 its form: where the other starts inside it are, for up to
 * two on eighths of the slot (the lookup picks its entry from the slot
 * and the address alone, memtopo_tslot_before()), else that 1-7 more
 * start inside it (the lookup compares keys), or, with none, that the
 * entry is exactly the slot (the lookup reads no key: the slot's index
 * gives the entry's start and end) or that it is a hole (the lookup reads
 * no key or entry).  A slot with 8 or more (a dense spot) is 0.  Two on
 * eighths are an overlapping map's most common slot with keys to compare
 * (15% of its slots, and of its lookups, mispredicting a branch to the
 * keys).
 */
#define MEMTOPO_TSLOT_CHUNK_BITS	3
#define MEMTOPO_TSLOT_K_SHIFT		3
#define MEMTOPO_TSLOT_N_SHIFT		11
/* forms: 0 none; q (1-7) one, q eighths in; 8-28 two (memtopo_tslot_pair()) */
#define MEMTOPO_TSLOT_PAIRS		8
/*
 * none, and the entry starts at the slot's first address and ends at its
 * last: the lookup's one branch-free path, without the key line, which in
 * a regular map is a third of the view's bytes a lookup would touch
 */
#define MEMTOPO_TSLOT_EXACT		29
#define MEMTOPO_TSLOT_COUNT		30	/* 1-7 more, not all on eighths */
/*
 * The most other starts a slot names by counting them: with 7, not 3, an
 * overlapping map of 10^6 ranges sends 0.5% of its slots to the group
 * search, not 0.8%, and the lookup
 * compares past the third only when the third is at or below its address.
 */
#define MEMTOPO_TSLOT_STARTS_MAX	7
/*
 * none, and the entry is a hole: the lookup answers from the slot alone,
 * without the chunk's lines, and where holes alternate with ranges its
 * branch on the answer resolves as soon as the slot is read
 */
#define MEMTOPO_TSLOT_HOLE		31

/* The index (from 1) into its page's chunks that slot @t names; 0: none. */
static inline u32 memtopo_tslot_chunk(u16 t)
{
	return t & (BIT(MEMTOPO_TSLOT_CHUNK_BITS) - 1);
}

/* The entry, in that chunk, holding the slot's first address. */
static inline u32 memtopo_tslot_k(u16 t)
{
	return (t >> MEMTOPO_TSLOT_K_SHIFT) & 0xff;
}

/* Bits 11-15 as they are: below MEMTOPO_TSLOT_COUNT, see memtopo_tslot_before(). */
static inline u32 memtopo_tslot_form(u16 t)
{
	return t >> MEMTOPO_TSLOT_N_SHIFT;
}

/*
 * The form of a slot whose two other starts are @q1 and @q2 eighths in
 * (1 <= q1 < q2 <= 7): the pairs in order, 21 of them, as
 * memtopo_tslot_before() lists them.
 */
static inline u32 memtopo_tslot_pair(u32 q1, u32 q2)
{
	return MEMTOPO_TSLOT_PAIRS + (q1 - 1) * (14 - q1) / 2 + q2 - q1 - 1;
}

/*
 * For a form @f below MEMTOPO_TSLOT_COUNT, how many of the slot's other
 * starts are at or below eighth @e of it (0-7): the entry holding an
 * address there is the slot's first plus that.  A table of the counts, a
 * byte each, 240 bytes that stay in the first-level cache: the lookup's
 * one load, no branch between the forms and no arithmetic on the count,
 * where 2 bits a count in one line took a variable shift and a mask more
 * (and decoding the eighths would take twice that).
 */
static inline u32 memtopo_tslot_before(u32 f, u32 e)
{
	/* by form: the eighths its starts are on, as memtopo_tslot_pair() orders them */
	static const u8 before[MEMTOPO_TSLOT_COUNT][8] __aligned(MEMTOPO_LINE) = {
		{ 0, 0, 0, 0, 0, 0, 0, 0 },	/* none */
		{ 0, 1, 1, 1, 1, 1, 1, 1 },	/* 1 */
		{ 0, 0, 1, 1, 1, 1, 1, 1 },	/* 2 */
		{ 0, 0, 0, 1, 1, 1, 1, 1 },	/* 3 */
		{ 0, 0, 0, 0, 1, 1, 1, 1 },	/* 4 */
		{ 0, 0, 0, 0, 0, 1, 1, 1 },	/* 5 */
		{ 0, 0, 0, 0, 0, 0, 1, 1 },	/* 6 */
		{ 0, 0, 0, 0, 0, 0, 0, 1 },	/* 7 */
		{ 0, 1, 2, 2, 2, 2, 2, 2 },	/* 1,2 */
		{ 0, 1, 1, 2, 2, 2, 2, 2 },	/* 1,3 */
		{ 0, 1, 1, 1, 2, 2, 2, 2 },	/* 1,4 */
		{ 0, 1, 1, 1, 1, 2, 2, 2 },	/* 1,5 */
		{ 0, 1, 1, 1, 1, 1, 2, 2 },	/* 1,6 */
		{ 0, 1, 1, 1, 1, 1, 1, 2 },	/* 1,7 */
		{ 0, 0, 1, 2, 2, 2, 2, 2 },	/* 2,3 */
		{ 0, 0, 1, 1, 2, 2, 2, 2 },	/* 2,4 */
		{ 0, 0, 1, 1, 1, 2, 2, 2 },	/* 2,5 */
		{ 0, 0, 1, 1, 1, 1, 2, 2 },	/* 2,6 */
		{ 0, 0, 1, 1, 1, 1, 1, 2 },	/* 2,7 */
		{ 0, 0, 0, 1, 2, 2, 2, 2 },	/* 3,4 */
		{ 0, 0, 0, 1, 1, 2, 2, 2 },	/* 3,5 */
		{ 0, 0, 0, 1, 1, 1, 2, 2 },	/* 3,6 */
		{ 0, 0, 0, 1, 1, 1, 1, 2 },	/* 3,7 */
		{ 0, 0, 0, 0, 1, 2, 2, 2 },	/* 4,5 */
		{ 0, 0, 0, 0, 1, 1, 2, 2 },	/* 4,6 */
		{ 0, 0, 0, 0, 1, 1, 1, 2 },	/* 4,7 */
		{ 0, 0, 0, 0, 0, 1, 2, 2 },	/* 5,6 */
		{ 0, 0, 0, 0, 0, 1, 1, 2 },	/* 5,7 */
		{ 0, 0, 0, 0, 0, 0, 1, 2 },	/* 6,7 */
	};

	return before[f][e];
}

/* The record (from 1) a slot naming no chunk names; 0: none. */
static inline u32 memtopo_tslot_record(u16 t)
{
	return memtopo_tslot_k(t) / 2;
}

/*
 * The most slots a table sized for @nr entries has: the slot width is the
 * power of two nearest the entries' mean length (within a factor of
 * sqrt(2)), so that a regular map, every entry as long as the next, has
 * one slot an entry and no other start inside a slot.
 */
static inline u64 memtopo_table_slots_max(u32 nr)
{
	return (u64)nr * 181 / 128;
}

/*
 * Whether a table sized for @tnr entries is sized again for @nr: once
 * the count has moved by a quarter, which keeps the slots within a factor
 * of 1.25 of their width's mean, and pays for the O(N) rebuild with as
 * many entries changed.
 */
static inline bool memtopo_table_stale(u32 nr, u32 tnr)
{
	return 4 * (u64)nr > 5 * (u64)tnr || 5 * (u64)nr < 4 * (u64)tnr;
}

struct memtopo_tpage {
	/* the chunks its slots name; a slot of 0 names none */
	const struct memtopo_chunk *chunk[MEMTOPO_TPAGE_CHUNKS];
	u16 slot[MEMTOPO_TPAGE_SLOTS];
};

/*
 * The long entries' records, for the slots deep inside them: those more
 * than MEMTOPO_TSLOT_REACH slots past an entry's start name its record,
 * not its chunk, so a commit that replaces the chunk rewrites the record,
 * not slots in proportion to the entry's length.  Record r (from 1) is a
 * copy of the entry: its start in @starts[2r], its end + 1 in
 * @starts[2r + 1] and what it maps in @fr[2r], at the offsets struct
 * memtopo_chunk has them, so that a lookup reads the records as a chunk
 * and a record's slot (entry 2r, no other start) as any other.  Record
 * 0, and a record whose entry is gone, is an entry ending before any
 * address (its end + 1 is 0, its start U64_MAX), so a lookup comparing
 * its address with the end of the entry it read takes the group search.
 *
 * A record follows @anchor[r - 1], the entry's start when it was named,
 * at or below every slot naming it: it copies the entry holding that
 * address, whose end its chunk holds (never the view's last entry), and a
 * splice replacing that chunk copies it again.  A slot naming it may then
 * lie past the entry's end (a commit cut it short), never before its
 * start; the lookup's compare of the end sends it to the group search.
 * A free record keeps its anchor and is only taken again for one at or
 * below it, which keeps that so for the names left in slots.  A view
 * shares its lender's records until it writes one, and writes only
 * before it is published (readers never see one change); they belong, as
 * a page does, to the oldest living view holding them.  4 KiB: the
 * chunk's offsets, then the anchors.
 */
struct memtopo_trec {
	u64 starts[MEMTOPO_CHUNK_ENTRIES + 1] __aligned(MEMTOPO_LINE);
	struct memtopo_fr fr[2 * MEMTOPO_TLONG_MAX + 1];
	u64 anchor[MEMTOPO_TLONG_MAX];
};

static_assert(offsetof(struct memtopo_trec, starts) == offsetof(struct memtopo_chunk, starts) &&
	      offsetof(struct memtopo_trec, fr) == offsetof(struct memtopo_chunk, fr),
	      "the records are read as a chunk");
static_assert(2 * MEMTOPO_TLONG_MAX + 1 <= MEMTOPO_CHUNK_ENTRIES &&
	      2 * MEMTOPO_TLONG_MAX < BIT(8), "a record is named as an entry of a chunk");
static_assert(sizeof(struct memtopo_trec) <= 4096,
	      "a view's own records are one kmalloc-4096 object, copied whole");

struct memtopo_tmid {
	struct memtopo_tpage *page[MEMTOPO_TMID_PAGES];
	/* the owner's list and its pages to free (memtopo_view_release()) */
	struct memtopo_tmid *dead_next;
	u64 dead_pages;
};

/*
 * A flat view partitions [0, 2^64) into entries sorted by start; entry i
 * ends where entry i + 1 starts (the last one at 2^64 - 1).  A lookup
 * reads its slot of the direct table; when that cannot answer, it
 * binary-searches group_start[] (a few hundred keys at most), then counts
 * in the group and in the chunk.
 */
struct memtopo_view {
	refcount_t ref;
	struct rcu_head rcu;
	struct memtopo_region *root;	/* effective root, NULL if empty */
	u64 generation;			/* unique per rendered view */
	u32 nr;				/* entries, holes included */
	u32 nr_ranges;			/* entries with a region */
	u32 nr_chunks;			/* in all groups */
	u32 nr_groups;
	u64 *group_start;		/* first start of each group */
	u32 *group_first;		/* index of each group's first entry */
	u32 *group_cfirst;		/* index of each group's first chunk */
	struct memtopo_group **groups;
	u32 tslots;			/* direct table: slots (0: none), */
	u32 tnr;			/* the entry count it was sized for, */
	u32 nr_tmids;			/* mids, */
	u8 tshift;			/* slot s starts at s << tshift */
	u8 tshift8;			/* an eighth of a slot: 2^tshift8 bytes */
	struct memtopo_tmid **tmids;
	/*
	 * room for a splice's copy of its lender's tmids, in the view's
	 * allocation (memtopo_view_own_bytes()), unused if the table was built
	 */
	struct memtopo_tmid **tmids_room;
	u32 nr_tmids_room;
	/*
	 * the long entries' records, read as a chunk (a struct memtopo_trec,
	 * or memtopo_trec_none): what a slot of chunk 0 names
	 */
	const struct memtopo_chunk *trec;
	u32 nr_tlong;			/* records in use, record 0 not counted, */
	bool tlong_shared;		/* still the lender's (being built), */
	bool tlong_kept;		/* another view frees them (released) */
	/*
	 * Writers' bookkeeping, under the context mutex; readers never look:
	 * the living views this one was spliced from and that was spliced
	 * from it, and what it frees after its grace period.
	 */
	struct memtopo_view *lender;
	struct memtopo_view *borrower;
	struct memtopo_group *dead_groups;
	struct memtopo_chunk *dead_chunks;
	struct memtopo_tmid *dead_tmids;
	/*
	 * While @nr_spans is not 0: the lender's nodes the splices since it
	 * replaced, in the lender's indexes, and the nodes they made, in this
	 * view's, by address, @replaced[i] the place of @made[i].  A release
	 * reads them instead of walking both neighbours' indexes.  A splice
	 * sets one pair; a view leaving the chain between its lender and
	 * this one hands its pairs on (memtopo_view_spans_compose()) or, if
	 * they cannot be, clears them.
	 */
	struct memtopo_view_span replaced[MEMTOPO_VIEW_SPANS];
	struct memtopo_view_span made[MEMTOPO_VIEW_SPANS];
	u32 nr_spans;
	/*
	 * The mids that may differ from @lender's, [tm_from, tm_to): all for
	 * a built table, those holding the slots a splice rewrote, widened
	 * when a view between the two leaves the chain.  Elsewhere the two
	 * tables hold the same mid, so a release or a history charge reads
	 * only these, not the whole mid array.
	 */
	u32 tm_from, tm_to;
	/*
	 * slots deep in an entry that splices since the build left unnamed,
	 * each counted as its name (a chunk's or a record's) was taken, less
	 * those a fill named again (memtopo_table_fill())
	 */
	u32 tmissed;
	/* those the build itself left unnamed (its records ran out), as well */
	u32 tleft;
	/*
	 * records whose entry starts below their anchor: merged with the
	 * entry before, maybe one with its own record, that a build would
	 * give to an entry left without one
	 */
	u32 tgrown;
	/* splices since the table's build */
	u32 tsplices;
};

/*
 * The page of @v's direct table holding slot @s: powers of two, so the
 * lookup's address arithmetic is shifts and masks.
 */
static_assert(!(MEMTOPO_TPAGE_SLOTS & (MEMTOPO_TPAGE_SLOTS - 1)) &&
	      !(MEMTOPO_TMID_PAGES & (MEMTOPO_TMID_PAGES - 1)),
	      "a lookup finds its mid, page and slot by shifts and masks");

static __always_inline struct memtopo_tpage *memtopo_tpage_of(const struct memtopo_view *v, u32 s)
{
	u32 p = s / MEMTOPO_TPAGE_SLOTS;

	return v->tmids[p / MEMTOPO_TMID_PAGES]->page[p % MEMTOPO_TMID_PAGES];
}

/* A growable flat list of entries: what the renderer produces. */
struct memtopo_flat {
	u64 *starts;
	struct memtopo_fr *fr;
	u32 nr;
	u32 cap;
	u32 nr_ranges;
};

/* the most neighbours a spilling splice takes in (memtopo_render_window()) */
#define MEMTOPO_SPREAD_CHUNKS	16
/*
 * Runs a window's splice is made of (memtopo_render_window()): the entries
 * before the window in its first chunk (one run: that chunk is at most one
 * before the window's), the window's render, the entry the window cuts,
 * the rest of its last chunk, a thin result's neighbour, the spread's
 * neighbours and, at the view's end, the left neighbour.
 */
#define MEMTOPO_SPLICE_RUNS	(MEMTOPO_SPREAD_CHUNKS + 7)

/*
 * What a splice puts in place of the chunks it replaces, without copying
 * it first: runs of entries (of old chunks, of the window's render), in
 * address order.  memtopo_runs_add() keeps them canonical across the
 * seams, as memtopo_flat_add() would (each run is canonical itself).
 */
struct memtopo_run {
	const u64 *starts;
	const struct memtopo_fr *fr;
	u32 nr;
};

struct memtopo_runs {
	struct memtopo_run run[MEMTOPO_SPLICE_RUNS];
	u32 nr_runs;
	u32 nr;				/* entries in all runs */
	/*
	 * They end the view: fill the chunks but the last two full, which
	 * share the rest (maps grow at their end), instead of evenly.
	 */
	bool at_end;
};

struct memtopo_space {
	struct memtopo_ctx *ctx;
	/* in ctx->spaces, or ctx->dead_spaces once destroyed until the commit */
	struct list_head link;
	struct memtopo_region *root;
	struct memtopo_view __rcu *view;
	/* bumped around each view swap; the view carries its generation */
	seqcount_mutex_t seq;
	struct list_head listeners;
	struct rcu_head rcu;
	u32 id;
	bool dead;		/* destroyed: freed by the next commit */
	u64 serial;		/* ctx->space_serial when it was created */
	const char *name;
	/* the ioeventfd set of the published view (parity.h) */
	struct memtopo_space_parity *parity;
	/* views published before @view, for resync by difference (history.c) */
	struct memtopo_history *history;
};

/*
 * The space @id names if it is the one of serial @serial (0: whichever it
 * is), else NULL.  Under RCU or the context mutex: a space is freed after
 * both.
 */
static inline struct memtopo_space *memtopo_space_find_serial(struct memtopo_ctx *ctx, u32 id,
							      u64 serial)
{
	struct memtopo_space *as = xa_load(&ctx->space_ids, id);

	return as && (!serial || as->serial == serial) ? as : NULL;
}

/* The region an alias shows, or NULL for every other kind. */
static inline struct memtopo_region *
memtopo_region_alias_target(const struct memtopo_region *mr)
{
	return mr->kind == MEMTOPO_ALIAS ? mr->alias : NULL;
}

/* Render order among siblings: higher priority first, then the most recently added. */
static inline bool memtopo_region_render_before(const struct memtopo_region *a,
						const struct memtopo_region *b)
{
	if (a->priority != b->priority)
		return a->priority > b->priority;
	return a->seq > b->seq;
}

/*
 * The same order as one number, larger first: what the renderer sorts a
 * visit's children by.
 */
static inline u64 memtopo_region_render_key(const struct memtopo_region *mr)
{
	return ((u64)((u32)mr->priority ^ 0x80000000u) << 32) | mr->seq;
}

static inline bool memtopo_region_enabled(const struct memtopo_region *mr)
{
	return mr->flags & MEMTOPO_RF_ENABLED;
}

/* Size minus one, so 2^64 fits; callers handle size 0 first. */
static inline u64 memtopo_region_last_off(const struct memtopo_region *mr)
{
	return (mr->flags & MEMTOPO_RF_SIZE64) ? U64_MAX : mr->size - 1;
}

static inline bool memtopo_region_empty(const struct memtopo_region *mr)
{
	return !(mr->flags & MEMTOPO_RF_SIZE64) && !mr->size;
}

/* Does the region render itself (QEMU's mr->terminates)? */
static inline bool memtopo_region_terminates(const struct memtopo_region *mr)
{
	return mr->kind != MEMTOPO_CONTAINER && mr->kind != MEMTOPO_ALIAS;
}

#define memtopo_assert_locked(ctx) lockdep_assert_held(&(ctx)->lock)
#define memtopo_assert_not_locked(ctx) lockdep_assert_not_held(&(ctx)->lock)

/* ctx.c: the budget ceiling, memtopo.ctx_mem_max */
extern unsigned long memtopo_ctx_mem_max;

/*
 * Listener iteration, the one helper: QEMU's order is registration (and
 * priority) order for additions, reverse for removals.
 */
#define memtopo_for_each_listener(l, as) list_for_each_entry(l, &(as)->listeners, link)
#define memtopo_for_each_listener_reverse(l, as)				\
	list_for_each_entry_reverse(l, &(as)->listeners, link)

/* The view a space publishes, for writers (the context mutex held). */
static inline struct memtopo_view *memtopo_space_view_locked(const struct memtopo_space *as)
{
	return rcu_dereference_protected(as->view, lockdep_is_held(&as->ctx->lock));
}

/*
 * Generated lock wrappers.  MEMTOPO_LOCKED_WRAPPER(name, ctx, params, args)
 * defines and exports int memtopo_<name>(params), which runs
 * memtopo_<name>_locked(args) under the mutex of @ctx, an expression of the
 * parameters evaluated once, before the call (which may free the object it
 * was read from).  _PTR(tag, ...) returns a struct memtopo_<tag> pointer,
 * _VOID nothing.  The wrappers are documented with their prototypes in
 * memtopo/memtopo.h.
 */
#define MEMTOPO_LOCKED_WRAPPER(name, ctx, params, args)			\
int memtopo_##name params							\
{									\
	struct memtopo_ctx *__ctx = (ctx);					\
	int __ret;								\
										\
	memtopo_ctx_lock(__ctx);						\
	__ret = memtopo_##name##_locked args;					\
	memtopo_ctx_unlock(__ctx);						\
	return __ret;								\
}									\
EXPORT_SYMBOL_NS_GPL(memtopo_##name, MEMTOPO)

#define MEMTOPO_LOCKED_WRAPPER_PTR(tag, name, ctx, params, args)		\
struct memtopo_##tag *memtopo_##name params						\
{									\
	struct memtopo_ctx *__ctx = (ctx);					\
	struct memtopo_##tag *__ret;							\
										\
	memtopo_ctx_lock(__ctx);						\
	__ret = memtopo_##name##_locked args;					\
	memtopo_ctx_unlock(__ctx);						\
	return __ret;								\
}									\
EXPORT_SYMBOL_NS_GPL(memtopo_##name, MEMTOPO)

#define MEMTOPO_LOCKED_WRAPPER_VOID(name, ctx, params, args)			\
void memtopo_##name params							\
{									\
	struct memtopo_ctx *__ctx = (ctx);					\
										\
	memtopo_ctx_lock(__ctx);						\
	memtopo_##name##_locked args;						\
	memtopo_ctx_unlock(__ctx);						\
}									\
EXPORT_SYMBOL_NS_GPL(memtopo_##name, MEMTOPO)

/* ctx.c */
struct memtopo_region *memtopo_region_by_id_locked(struct memtopo_ctx *ctx, u32 id);
/*
 * The per-context memory budget: memtopo's own, not exported, so no other
 * module can give back a charge it did not take.
 */
int memtopo_ctx_charge(struct memtopo_ctx *ctx, size_t bytes);
void memtopo_ctx_uncharge(struct memtopo_ctx *ctx, size_t bytes);
int memtopo_ctx_charge_locked(struct memtopo_ctx *ctx, size_t bytes);
void memtopo_ctx_uncharge_locked(struct memtopo_ctx *ctx, size_t bytes);
void memtopo_ctx_set_global_dirty_locked(struct memtopo_ctx *ctx, u32 reasons);

/* The global dirty-log reasons; any context (markers read it under RCU). */
static inline u32 memtopo_ctx_global_dirty(const struct memtopo_ctx *ctx)
{
	return READ_ONCE(ctx->global_dirty_reasons);
}

/* undo.c */
struct memtopo_undo *memtopo_undo_push(struct memtopo_ctx *ctx, u8 kind, void *obj);
void memtopo_undo_cancel(struct memtopo_ctx *ctx);
u32 memtopo_undo_mark(const struct memtopo_ctx *ctx);
void memtopo_undo_rollback(struct memtopo_ctx *ctx, u32 mark);
void memtopo_undo_forget(struct memtopo_ctx *ctx);
void memtopo_undo_destroy(struct memtopo_ctx *ctx);

static inline bool memtopo_region_destroyed(const struct memtopo_region *mr)
{
	return mr->flags & MEMTOPO_RF_DESTROYED;
}

/* A destroyed space stays in memory until the next commit frees it. */
static inline bool memtopo_space_destroyed(const struct memtopo_space *as)
{
	return as->dead;
}

/*
 * The one check of every call that changes a region or hangs something on
 * it.  A region destroyed in the open transaction is still in memory, but
 * nothing it is given would ever render: the caller hears -ENOENT, as from
 * a second destroy or from an ID that names nothing.
 */
static inline int memtopo_region_check_live(const struct memtopo_region *mr)
{
	return memtopo_region_destroyed(mr) ? -ENOENT : 0;
}

/* describe.c: for glue that holds a region, not its context */
struct memtopo_ctx *memtopo_region_ctx(const struct memtopo_region *mr);
bool memtopo_region_has_ops(const struct memtopo_region *mr);

/* commit.c: the one commit path */
int memtopo_ctx_changed(struct memtopo_ctx *ctx);
int memtopo_ctx_region_changed(struct memtopo_region *mr);
int memtopo_ctx_commit_pending(struct memtopo_ctx *ctx);
int memtopo_ctx_settle(struct memtopo_ctx *ctx);
void memtopo_transaction_abort_locked(struct memtopo_ctx *ctx, u32 mark);

/* window.c */
void memtopo_note_region(struct memtopo_region *mr);
void memtopo_windows_reset(struct memtopo_ctx *ctx);
u32 memtopo_windows_of(struct memtopo_ctx *ctx, const struct memtopo_region *frame,
		       const struct memtopo_window **out);

/* region.c */
void memtopo_region_undo(struct memtopo_undo *u);
void memtopo_region_finish_destroy(struct memtopo_region *mr);
int memtopo_region_cache_init(void);
void memtopo_region_cache_exit(void);
int memtopo_view_cache_init(void);
void memtopo_view_cache_exit(void);
void memtopo_region_destroy_all(struct memtopo_ctx *ctx);
struct memtopo_region *memtopo_region_first_child(const struct memtopo_region *mr);
struct memtopo_region *memtopo_region_next_sibling(const struct memtopo_region *mr);
struct memtopo_region *memtopo_region_sole_enabled_child(const struct memtopo_region *mr,
							 bool *none);
/* A walk over a region's children: visit() is called with each. */
struct memtopo_child_visitor {
	int (*visit)(struct memtopo_child_visitor *v, struct memtopo_region *child);
};

int memtopo_region_visit_children(struct memtopo_region *mr, u64 first, u64 last,
				  struct memtopo_child_visitor *v);
u32 memtopo_region_space_users(const struct memtopo_region *mr);
int memtopo_region_children_sorted(const struct memtopo_region *mr,
				   struct memtopo_region ***buf, u32 *nr, u32 *cap);
/*
 * Sequence numbers are renumbered (order kept) at the first commit after
 * they pass this, with the undo log empty; a transaction would need 2^31
 * attaches to run out before that.
 */
#define MEMTOPO_SEQ_RENUMBER	BIT(31)
void memtopo_region_renumber(struct memtopo_ctx *ctx);

/* array.c: the growable-array helper */
int memtopo_grow(void **array, u32 *cap, size_t elem, u32 limit);
int memtopo_grow_pair(void **a, size_t elem_a, void **b, size_t elem_b, u32 *cap, u32 limit);

/* render.c: builds the view of @root (NULL gives the empty view) */
struct memtopo_render;
struct memtopo_view *memtopo_render(struct memtopo_region *root);
struct memtopo_view *memtopo_render_with(struct memtopo_render *r, struct memtopo_region *root);
struct memtopo_view *memtopo_render_window(struct memtopo_render *r, struct memtopo_region *root,
					   const struct memtopo_view *old, u64 start, u64 last);
/* the most children a render puts in order by insertion, not the radix sort */
#define MEMTOPO_KIDS_INSERTION	16
/* and the most events a sweep does */
#define MEMTOPO_EVENTS_INSERTION	16
struct memtopo_render *memtopo_render_scratch_alloc(struct memtopo_ctx *ctx);
void memtopo_render_scratch_free(struct memtopo_render *r);
/* render memory a context keeps between commits; more is given back */
#define MEMTOPO_SCRATCH_KEEP	(64 * 1024)
size_t memtopo_render_scratch_bytes(const struct memtopo_render *r);
void memtopo_render_scratch_trim(struct memtopo_render *r);
struct memtopo_region *memtopo_effective_root(struct memtopo_region *root);

/* view.c */
void memtopo_view_put(struct memtopo_view *view);
size_t memtopo_view_bytes(const struct memtopo_view *view);
size_t memtopo_view_own_bytes(const struct memtopo_view *view);
size_t memtopo_view_table_unique_bytes(const struct memtopo_view *old,
				       const struct memtopo_view *new);
const struct memtopo_chunk *memtopo_view_chunk(const struct memtopo_view *view, u32 c,
					       u32 *first);
const struct memtopo_chunk *memtopo_view_entry(const struct memtopo_view *v, u32 i, u32 *k);
bool memtopo_view_runs(const struct memtopo_view *old, const struct memtopo_view *new,
		       u64 start, u64 last, u32 runs[4]);
bool memtopo_view_runs_equal(const struct memtopo_view *old, const struct memtopo_view *new,
			     const u32 runs[4]);
int memtopo_flat_add(struct memtopo_flat *f, u64 start, const struct memtopo_fr *fr);
void memtopo_flat_free(struct memtopo_flat *f);
int memtopo_runs_add(struct memtopo_runs *rs, const u64 *starts, const struct memtopo_fr *fr,
		     u32 n);
int memtopo_runs_prepend(struct memtopo_runs *rs, const u64 *starts,
			 const struct memtopo_fr *fr, u32 n);
struct memtopo_view *memtopo_view_pack(struct memtopo_region *root, const struct memtopo_flat *f);
/*
 * A splice's plan (memtopo_view_splice_plan()): chunks @c_lo..@c_hi of the
 * old view replaced by @nr entries, groups @g_lo..@g_hi rebuilt, holding
 * @m chunks after it; the entries outside [@ws, @we], the window
 * re-rendered, are the old view's.
 */
struct memtopo_splice_plan {
	u32 c_lo, c_hi, nr;
	u32 g_lo, g_hi, m;
	u64 ws, we;
};

size_t memtopo_view_splice_plan(const struct memtopo_view *old, u32 c_lo, u32 c_hi, u32 nr,
				struct memtopo_splice_plan *p);
struct memtopo_view *memtopo_view_splice(const struct memtopo_view *old,
					 const struct memtopo_splice_plan *p,
					 const struct memtopo_runs *mid, void *buf, size_t bytes);
struct memtopo_view *memtopo_view_repack(const struct memtopo_view *v);
int memtopo_view_lookup(const struct memtopo_view *view, u64 addr, struct memtopo_section *s);

/*
 * Can @v share nodes with @old?  Only a view's lender, the view before it
 * in its chain, holds nodes it holds too: a full render's or a repack's
 * view has none, and shares nothing.  A commit of several windows splices
 * once a window, and releasing the views between leaves @old its lender.
 * Context: the context mutex held.
 */
static inline bool memtopo_view_borrows_from(const struct memtopo_view *v,
					     const struct memtopo_view *old)
{
	return v->lender == old;
}

/*
 * Was @v spliced from @old, so that @v's spans say which of @old's nodes
 * it replaced?  Not once the spans were cleared: a view between the two
 * left the chain and its spans could not be handed on.  Context: the
 * context mutex held.
 */
static inline bool memtopo_view_spliced_from(const struct memtopo_view *v,
					     const struct memtopo_view *old)
{
	return memtopo_view_borrows_from(v, old) && v->nr_spans;
}

/* Entry @i of a view (O(log N)); walk with a memtopo_view_pos when hot. */
static inline const struct memtopo_fr *memtopo_view_fr(const struct memtopo_view *v, u32 i)
{
	u32 k;

	return &memtopo_view_entry(v, i, &k)->fr[k];
}

static inline u64 memtopo_view_start(const struct memtopo_view *v, u32 i)
{
	u32 k;

	return memtopo_view_entry(v, i, &k)->starts[k];
}

/* Last address of entry @i. */
static inline u64 memtopo_view_last(const struct memtopo_view *v, u32 i)
{
	return i + 1 < v->nr ? memtopo_view_start(v, i + 1) - 1 : U64_MAX;
}

/*
 * A position in a view for walking it in order: one search to start, then
 * chunk by chunk, so a walk costs what an array walk does.
 */
struct memtopo_view_pos {
	const struct memtopo_view *v;
	const struct memtopo_group *grp;
	const struct memtopo_chunk *chunk;
	u32 g;		/* group index */
	u32 j;		/* chunk index within the group */
	u32 k;		/* entry index within the chunk */
	u32 i;		/* entry index within the view */
};

void memtopo_pos_init(struct memtopo_view_pos *p, const struct memtopo_view *v, u32 i);
void memtopo_pos_find(struct memtopo_view_pos *p, const struct memtopo_view *v, u64 addr);
u32 memtopo_pos_chunk_index(const struct memtopo_view_pos *p);
void memtopo_pos_next_chunk(struct memtopo_view_pos *p);
void memtopo_pos_prefetch_next(const struct memtopo_view_pos *p);
void memtopo_chunk_prefetch(const struct memtopo_chunk *chunk);
u64 memtopo_pos_chunk_end(const struct memtopo_view_pos *p);
void memtopo_pos_section(const struct memtopo_view_pos *p, struct memtopo_section *s);

static inline void memtopo_pos_next(struct memtopo_view_pos *p)
{
	p->i++;
	if (++p->k == p->chunk->nr)
		memtopo_pos_next_chunk(p);
}

static inline const struct memtopo_fr *memtopo_pos_fr(const struct memtopo_view_pos *p)
{
	return &p->chunk->fr[p->k];
}

/* The index in the view of the first entry of the walk's chunk. */
static inline u32 memtopo_pos_chunk_first(const struct memtopo_view_pos *p)
{
	return p->i - p->k;
}

static inline u64 memtopo_pos_start(const struct memtopo_view_pos *p)
{
	return p->chunk->starts[p->k];
}

static inline u64 memtopo_pos_last(const struct memtopo_view_pos *p)
{
	if (p->k + 1 < p->chunk->nr)
		return p->chunk->starts[p->k + 1] - 1;
	return memtopo_pos_chunk_end(p);
}

/*
 * A step of a walk that goes on to the view's end: entering a chunk, it
 * starts fetching the next one (memtopo_pos_prefetch_next()), whose lines
 * then arrive while this one's entries are handled.
 */
static inline void memtopo_pos_next_ahead(struct memtopo_view_pos *p)
{
	p->i++;
	if (++p->k == p->chunk->nr) {
		memtopo_pos_next_chunk(p);
		memtopo_pos_prefetch_next(p);
	}
}

/*
 * Moves @p to the first entry at or after it that shows a region (holes
 * show none) and sets @s to its section; false past the view's end.
 */
static inline bool memtopo_pos_shown(struct memtopo_view_pos *p, struct memtopo_section *s)
{
	for (; p->i < p->v->nr; memtopo_pos_next_ahead(p)) {
		if (memtopo_pos_fr(p)->mr) {
			memtopo_pos_section(p, s);
			return true;
		}
	}
	return false;
}

/*
 * The start of the walk every whole-view reader takes, each range of @v
 * that shows a region in address order, as section s:
 *
 *	for (memtopo_pos_walk(&p, v); memtopo_pos_shown(&p, &s); memtopo_pos_next_ahead(&p))
 *
 * Under the context mutex or in an RCU read section keeping @v.
 */
static inline void memtopo_pos_walk(struct memtopo_view_pos *p, const struct memtopo_view *v)
{
	memtopo_pos_init(p, v, 0);
	memtopo_pos_prefetch_next(p);
}

/*
 * history.c: the views a space published before its current one.  At most
 * MEMTOPO_HISTORY_MAX; beyond the newest MEMTOPO_HISTORY_MIN, only while
 * they cost no more than 1/memtopo_history_share of the published view
 * (memtopo.history_share, MEMTOPO_HISTORY_SHARE unless set; 0 lifts that
 * bound); fewer when the context's memory budget refuses them.
 */
#define MEMTOPO_HISTORY_MAX	64
#define MEMTOPO_HISTORY_MIN	2
#define MEMTOPO_HISTORY_SHARE	128
extern unsigned int memtopo_history_share;
void memtopo_history_push(struct memtopo_space *as, struct memtopo_view *old,
			  const struct memtopo_view *new);
void memtopo_history_free(struct memtopo_space *as);
const struct memtopo_view *memtopo_history_find(struct memtopo_space *as, u64 generation);
u32 memtopo_history_depth(const struct memtopo_space *as);
size_t memtopo_history_bytes(const struct memtopo_space *as);
void memtopo_history_forget_region(struct memtopo_region *mr);
size_t memtopo_history_charged(struct memtopo_ctx *ctx);
void memtopo_history_reclaim(struct memtopo_ctx *ctx);
int memtopo_view_diff(const struct memtopo_view *old, const struct memtopo_view *new,
		      int (*fn)(void *opaque, const struct memtopo_section *s, bool add),
		      void *opaque);

/* The generation a view was published with: unique, it names the content. */
static inline u64 memtopo_view_generation(const struct memtopo_view *view)
{
	return view->generation;
}

/* space.c */
void memtopo_space_undo(struct memtopo_undo *u);
void memtopo_space_finish_destroy(struct memtopo_space *as);
void memtopo_space_destroy_all(struct memtopo_ctx *ctx);

/* listener.c */
void memtopo_listeners_update(struct memtopo_space *as,
			      const struct memtopo_view *old,
			      const struct memtopo_view *new);
bool memtopo_listeners_want_nop(struct memtopo_space *as);
void memtopo_listeners_update_runs(struct memtopo_space *as,
				   const struct memtopo_view *old,
				   const struct memtopo_view *new, const u32 *runs,
				   u32 nr_runs);
void memtopo_listeners_begin(struct memtopo_space *as);
void memtopo_listeners_commit(struct memtopo_space *as);
void memtopo_listeners_detach_all(struct memtopo_space *as);
/* for the features' userspace events: see events.h */
struct memtopo_event;
void memtopo_space_emit_event_locked(struct memtopo_space *as, const struct memtopo_event *ev);
bool memtopo_space_subscribed_locked(struct memtopo_space *as);
u64 memtopo_view_region_ranges_locked(const struct memtopo_view *v, bool tree_shows,
				      const struct memtopo_region *mr, u64 first, u64 last,
				      void (*fn)(const struct memtopo_section *s, void *opaque),
				      void *opaque);
u64 memtopo_space_region_ranges_locked(struct memtopo_space *as, const struct memtopo_region *mr,
				       u64 first, u64 last,
				       void (*fn)(const struct memtopo_section *s, void *opaque),
				       void *opaque);
/* windows memtopo_region_places() gives at most */
#define MEMTOPO_MAX_PLACES	16
int memtopo_region_places(const struct memtopo_region *mr, const struct memtopo_region *frame,
			  u64 first, u64 last, struct memtopo_window *out);
void memtopo_space_sections_locked(struct memtopo_space *as,
				   void (*fn)(const struct memtopo_section *s, void *opaque),
				   void *opaque);

#endif /* _MEMTOPO_INTERNAL_H */
