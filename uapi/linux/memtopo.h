/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * memtopo ioctl ABI for /dev/memtopo.
 *
 * Each open of /dev/memtopo gets its own anonymous context: a set of
 * regions and address spaces named by IDs that only this file can see.
 * MEMTOPO_CTX_ATTACH switches the file to a named context instead.
 *
 * Every argument struct starts with __u32 size (the caller's sizeof) and
 * __u32 flags.  The kernel accepts shorter structs down to the first
 * version's size and longer ones whose unknown tail is zero
 * (copy_struct_from_user()); reserved fields and unknown flags must be zero.
 * 64-bit values and user pointers are __aligned_u64.
 *
 * Every field is marked in, out or in/out.  "out" fields are ignored on
 * input (a struct may be reused as the last call left it) and always
 * written by a successful call; only reserved fields must be zero.
 *
 * IDs (regions, spaces, subscriptions) are allocated cyclically, as PIDs
 * are: an ID is not handed out again until the 31-bit ID space wraps, so
 * a stale ID names nothing rather than a newer object.  The exception is
 * a create that a failed call or commit undoes: as the undone call left
 * every cursor as it was, its ID is the next one handed out.
 *
 * Errno contract (common to every ioctl; a failed call changes nothing):
 *  EINVAL   size below the minimum, unknown flags, non-zero reserved
 *           fields, malformed arguments (bad kind, name not terminated,
 *           wrong object type for the operation)
 *  E2BIG    size above what the kernel knows with a non-zero tail; a
 *           view too large to render
 *  EFAULT   an argument or a pointer inside it is not accessible (see
 *           below: it too changes nothing)
 *  ENOTTY   unknown ioctl number
 *  ENOENT   an ID that names nothing (or a region that is not a
 *           subregion of the given parent, a named context that does not
 *           exist, an address nothing is mapped at)
 *  EBUSY    the object is in use (region attached, with subregions,
 *           aliased or the root of a space; space with subscribers;
 *           region already has a parent; file already has subscriptions);
 *           or the context has a transaction open that this file did not
 *           open (MEMTOPO_TXN): a change is refused, nothing changed
 *  ELOOP    the operation would make a region contain or alias itself
 *           (an exact check; a loop-free map with many alias paths is
 *           accepted, and is E2BIG only if a view must render it)
 *  EOVERFLOW  a range passes 2^64
 *  EMLINK   nesting deeper than max_depth, alias chain past max_alias_chain
 *  ENOSPC   max_regions, max_spaces, max_depth open transactions or the
 *           batch/subscription limits reached; the context's memory budget
 *           exhausted (see below); an output array too small for the
 *           answer (GET_FLAT, GET_REGIONS, GET_SPACES, GET_FLAT_DIFF,
 *           IOMMU_GET: nothing copied, the count set)
 *  EEXIST   MEMTOPO_CTX_ATTACH with MEMTOPO_ATTACH_EXCL on an existing name
 *  EPERM    a named context owned by another user
 *  EMSGSIZE an output array too small for the answer (the *_LIST ioctls:
 *           the count is set, count then fill)
 *  EUSERS   MEMTOPO_CTX_ATTACH creating a named context past the caller's
 *           per-user limit
 *  ESTALE   MEMTOPO_GET_FLAT_DIFF: a generation the space no longer keeps
 *  ENODEV   MEMTOPO_READ_EVENTS: the subscription's space is gone (see
 *           struct memtopo_subscribe); for served devices see
 *           struct memtopo_serve
 *  ENOMEM   out of memory
 *
 * EFAULT, exactly.  The argument struct must be readable for its @size
 * bytes.  Ioctls whose struct has an out field (every one except
 * UNSUBSCRIBE, CTX_DESTROY, IOEVENTFD, COALESCED, DIRTY_LOG, SPACE_RW and
 * DIRTY_MARK) also need it writable: the kernel writes the struct back unchanged
 * before doing anything, so a read-only struct fails first.  Per ioctl,
 * EFAULT means:
 *  GET_INFO, GET_FLAT, GET_REGIONS, GET_SPACES, LOOKUP, MTREE,
 *  GET_FLAT_DIFF: the struct
 *           or the output array/buffer cannot be written; nothing changed
 *           (an output buffer may hold part of the answer).
 *  OP       the struct cannot be read or written, or (kernel-owned RAM)
 *           the initial contents at @value cannot be read; nothing created
 *           or changed.
 *  BATCH    the struct, or any of the @count operations, cannot be read,
 *           or a create's @id cannot be written; every applied operation
 *           is undone and @error_index (if the struct is writable) names
 *           the operation.
 *  TXN      the answer is written before the transaction is opened or
 *           closed: nothing opened, nothing committed.
 *  SUBSCRIBE  no subscription exists afterwards.
 *  READ_EVENTS  the struct or the event array cannot be written: no event
 *           is dequeued (events leave the queue only once they and the
 *           answer reached the caller).
 *  CTX_ATTACH  the file stays on its context; no context is created.
 *  UNSUBSCRIBE, CTX_DESTROY, IOEVENTFD, COALESCED, DIRTY_MARK: the struct
 *           cannot be read; nothing changed.
 *  IOEVENTFD_LIST, COALESCED_LIST: the struct or the entry array cannot
 *           be written; nothing changed (the array may hold part of the
 *           answer).
 *  DIRTY_LOG  GET: the bitmap cannot be written; no bit is cleared (it is
 *           probed before any is taken, and put back if the copy still
 *           fails).  CLEAR: the bitmap cannot be read; nothing cleared.
 *  SPACE_RW  a write's buffer cannot be read or a read's buffer cannot be
 *           written: no access is performed (device callbacks included).
 *  SERVE    the struct cannot be written (@out_fd): no fd is created and the
 *           region is not served.
 *  DISCARD  the struct cannot be read or written, or GET_STATE's bitmap
 *           cannot be written: nothing changed.
 * A mapping another thread changes during the call can only make a call
 * that changes state fail with that state undone, never half-applied.
 *
 * Memory budget.  Each context has one: the bytes the kernel keeps for it
 * (regions with their names, kernel-owned RAM, subscriptions and their
 * event queues, published flat views and the render's working memory,
 * the undo log of a transaction or batch, discard bitmaps, IOMMU tables,
 * pages a kernel mapping takes) are charged to it, and an allocation or
 * commit past it fails with ENOSPC with nothing half-made.  The ceiling is the module parameter
 * memtopo.ctx_mem_max (bytes, default 1 GiB, read at every charge;
 * lowering it refuses new charges and keeps what exists); a context may
 * hold itself to less (MEMTOPO_BUDGET, or MEMTOPO_CTX_ATTACH's @mem_max).
 * MEMTOPO_BUDGET and debugfs stats ("memory") show a context's use.
 *
 * An access that reaches a served device (MEMTOPO_SPACE_RW) adds ETIMEDOUT,
 * EIO, ENODEV, EDEADLK and EINTR: see struct memtopo_serve.
 */
#ifndef _UAPI_LINUX_MEMTOPO_H
#define _UAPI_LINUX_MEMTOPO_H

#include <linux/types.h>
#include <linux/ioctl.h>

#define MEMTOPO_TYPE	0xB7
#define MEMTOPO_ABI_VERSION	1

/*
 * Name buffers (regions, spaces, contexts) hold this many bytes with NUL.
 * A name is a C string: the bytes after its NUL are ignored, never read as
 * a field, so a reused buffer may keep an older, longer name's tail.
 */
#define MEMTOPO_NAME_LEN	64

enum {
	MEMTOPO_CMD_BASE = 0x80,
	MEMTOPO_CMD_GET_INFO = MEMTOPO_CMD_BASE,
	MEMTOPO_CMD_OP,
	MEMTOPO_CMD_BATCH,
	MEMTOPO_CMD_TXN,
	MEMTOPO_CMD_GET_FLAT,
	MEMTOPO_CMD_GET_REGIONS,
	MEMTOPO_CMD_GET_SPACES,
	MEMTOPO_CMD_LOOKUP,
	MEMTOPO_CMD_MTREE,
	MEMTOPO_CMD_SUBSCRIBE,
	MEMTOPO_CMD_UNSUBSCRIBE,
	MEMTOPO_CMD_READ_EVENTS,
	MEMTOPO_CMD_CTX_ATTACH,
	MEMTOPO_CMD_CTX_DESTROY,
	MEMTOPO_CMD_BUDGET,
};

/**
 * struct memtopo_info - MEMTOPO_GET_INFO: ABI version and limits.
 * @size: in, sizeof(struct memtopo_info)
 * @flags: in, must be 0
 * @abi_version: out, MEMTOPO_ABI_VERSION
 * @max_depth: out, deepest region nesting accepted
 * @max_alias_chain: out, longest alias chain accepted
 * @max_regions: out, regions per context
 * @max_spaces: out, address spaces per context
 * @max_name: out, bytes of a name including the terminating NUL
 * @max_batch: out, operations per MEMTOPO_BATCH
 * @max_events: out, events a subscription queues before it overflows
 *	(its queue starts at one page and grows to this)
 * @__reserved: in, must be 0
 */
struct memtopo_info {
	__u32 size;
	__u32 flags;
	__u32 abi_version;
	__u32 max_depth;
	__u32 max_alias_chain;
	__u32 max_regions;
	__u32 max_spaces;
	__u32 max_name;
	__u32 max_batch;
	__u32 max_events;
	__u32 __reserved[2];
};

#define MEMTOPO_GET_INFO	_IO(MEMTOPO_TYPE, MEMTOPO_CMD_GET_INFO)

/**
 * enum memtopo_region_kind - what a region is (mirrors the kernel API).
 * @MEMTOPO_KIND_CONTAINER: pure container, renders only its subregions
 * @MEMTOPO_KIND_RAM: RAM; memtopo_op.value is its userspace address
 * @MEMTOPO_KIND_ROM: read-only RAM
 * @MEMTOPO_KIND_ROM_DEVICE: reads as RAM in romd mode (the default)
 * @MEMTOPO_KIND_IO: MMIO / port I/O; renders itself in its gaps
 * @MEMTOPO_KIND_RAM_DEVICE: RAM backed by a device
 * @MEMTOPO_KIND_RESERVATION: reserved window, no accesses
 * @MEMTOPO_KIND_ALIAS: window onto memtopo_op.ref at offset memtopo_op.addr
 * @MEMTOPO_KIND_IOMMU: an IOMMU: accesses that land on it are translated
 *	through its table (MEMTOPO_IOMMU_MAP) into other address spaces
 */
enum memtopo_region_kind {
	MEMTOPO_KIND_CONTAINER = 0,
	MEMTOPO_KIND_RAM,
	MEMTOPO_KIND_ROM,
	MEMTOPO_KIND_ROM_DEVICE,
	MEMTOPO_KIND_IO,
	MEMTOPO_KIND_RAM_DEVICE,
	MEMTOPO_KIND_RESERVATION,
	MEMTOPO_KIND_ALIAS,
	MEMTOPO_KIND_IOMMU,
};

/**
 * enum memtopo_op_code - one operation of MEMTOPO_OP / MEMTOPO_BATCH.
 * @MEMTOPO_OP_REGION_CREATE: create a detached region: @kind, @name,
 *	@length (or MEMTOPO_OP_F_SIZE_2_64), alias target @ref at offset
 *	@addr, RAM userspace address @value (with
 *	MEMTOPO_OP_F_KERNEL_BACKING: the kernel allocates the RAM and @value
 *	points at its initial contents, see the QEMU parity section); out: @id
 * @MEMTOPO_OP_REGION_DESTROY: destroy region @id (detached, no
 *	subregions, not aliased, not a space root)
 * @MEMTOPO_OP_ADD_SUBREGION: map region @id at @addr in region @ref with
 *	@priority (MEMTOPO_OP_F_MAY_OVERLAP: overlap is expected)
 * @MEMTOPO_OP_DEL_SUBREGION: unmap region @id from its parent @ref
 *	(0: whatever its parent is)
 * @MEMTOPO_OP_SET_ADDRESS: move region @id to @addr in its parent
 * @MEMTOPO_OP_SET_SIZE: resize region @id to @length
 * @MEMTOPO_OP_SET_PRIORITY: set the priority of region @id
 * @MEMTOPO_OP_SET_ALIAS_OFFSET: move alias @id's window to @addr
 * @MEMTOPO_OP_SET_ENABLED: @value 0 hides region @id's subtree, 1 shows it
 * @MEMTOPO_OP_SET_READONLY: @value: region @id (and what it renders) is
 *	read-only
 * @MEMTOPO_OP_SET_NONVOLATILE: @value: region @id is non-volatile
 * @MEMTOPO_OP_SET_ROMD: @value: ROM device @id reads as RAM
 * @MEMTOPO_OP_SET_DIRTY_LOG: dirty-log client @kind on (@value 1) or off
 * @MEMTOPO_OP_SPACE_CREATE: create address space @name over root region
 *	@ref; out: @id
 * @MEMTOPO_OP_SPACE_DESTROY: destroy address space @id (no subscribers)
 * @MEMTOPO_OP_COUNT: one past the last code; every code below it is an
 *	operation that a failed batch undoes
 */
enum memtopo_op_code {
	MEMTOPO_OP_REGION_CREATE = 1,
	MEMTOPO_OP_REGION_DESTROY,
	MEMTOPO_OP_ADD_SUBREGION,
	MEMTOPO_OP_DEL_SUBREGION,
	MEMTOPO_OP_SET_ADDRESS,
	MEMTOPO_OP_SET_SIZE,
	MEMTOPO_OP_SET_PRIORITY,
	MEMTOPO_OP_SET_ALIAS_OFFSET,
	MEMTOPO_OP_SET_ENABLED,
	MEMTOPO_OP_SET_READONLY,
	MEMTOPO_OP_SET_NONVOLATILE,
	MEMTOPO_OP_SET_ROMD,
	MEMTOPO_OP_SET_DIRTY_LOG,
	MEMTOPO_OP_SPACE_CREATE,
	MEMTOPO_OP_SPACE_DESTROY,
	MEMTOPO_OP_COUNT,
};

/* memtopo_op.flags */
enum memtopo_op_flags {
	MEMTOPO_OP_F_SIZE_2_64 = 1 << 0, /* @length means 2^64 */
	MEMTOPO_OP_F_MAY_OVERLAP = 1 << 1,
	/* REGION_CREATE: the kernel owns the RAM (see "RAM backings") */
	MEMTOPO_OP_F_KERNEL_BACKING = 1 << 2,
	/* REGION_CREATE: RAM in the file @backing_fd at @backing_offset */
	MEMTOPO_OP_F_FILE_BACKING = 1 << 3,
	/* REGION_CREATE: RAM at address @value of the calling process */
	MEMTOPO_OP_F_PROCESS_BACKING = 1 << 4,
};

/*
 * Inside a batch, an ID with this bit set names the object created by the
 * operation whose index is in the low bits, so one batch can build a whole
 * tree.  Kernel-assigned IDs never have it.
 */
#define MEMTOPO_ID_BATCH_REF		0x80000000u

/**
 * struct memtopo_op - MEMTOPO_OP, and one element of MEMTOPO_BATCH.
 * @size: in, sizeof(struct memtopo_op)
 * @flags: in, MEMTOPO_OP_F_*
 * @op: in, enum memtopo_op_code
 * @id: in, the region or space operated on; out (input ignored) for the
 *	create operations
 * @ref: in, the other region: parent, alias target or space root
 * @kind: in, enum memtopo_region_kind for REGION_CREATE; the dirty-log
 *	client for SET_DIRTY_LOG; else 0
 * @priority: in, priority for ADD_SUBREGION and SET_PRIORITY
 * @__reserved: in, must be 0
 * @addr: in, address in the parent, or alias offset
 * @length: in, region size
 * @value: in, RAM userspace address (without a backing flag a label only;
 *	MEMTOPO_OP_F_PROCESS_BACKING: the memory itself;
 *	MEMTOPO_OP_F_KERNEL_BACKING: initial contents, or 0), or the value of
 *	a SET_* flag (0/1)
 * @name: in, NUL-terminated name for the create operations, else all zero
 * @backing_fd: in, MEMTOPO_OP_F_FILE_BACKING: the file; else must be 0
 * @__reserved2: in, must be 0
 * @backing_offset: in/out: in, MEMTOPO_OP_F_FILE_BACKING: offset in the
 *	file (ignored otherwise); out, REGION_CREATE: with
 *	MEMTOPO_OP_F_KERNEL_BACKING the offset to mmap() this fd at to reach
 *	the RAM, with MEMTOPO_OP_F_FILE_BACKING the file offset, else 0
 * @backing_id: out, REGION_CREATE with a backing flag: the backing's ID
 *	(unique per boot, also in memtopo_region_desc); else 0
 *
 * The fields from @backing_fd on came later: a caller whose @size stops
 * before them gets no backing out fields, and MEMTOPO_OP_F_FILE_BACKING is
 * EINVAL for a @size that stops before the end of @backing_offset (it
 * names no file, or no offset in it).
 */
struct memtopo_op {
	__u32 size;
	__u32 flags;
	__u32 op;
	__u32 id;
	__u32 ref;
	__u32 kind;
	__s32 priority;
	__u32 __reserved;
	__aligned_u64 addr;
	__aligned_u64 length;
	__aligned_u64 value;
	char name[MEMTOPO_NAME_LEN];
	__s32 backing_fd;
	__u32 __reserved2;
	__aligned_u64 backing_offset;
	__aligned_u64 backing_id;
};

#define MEMTOPO_OP		_IO(MEMTOPO_TYPE, MEMTOPO_CMD_OP)

/**
 * struct memtopo_batch - MEMTOPO_BATCH: apply operations as one
 * transaction, all or nothing.
 * @size: in, sizeof(struct memtopo_batch)
 * @flags: in, must be 0
 * @count: in, number of operations, at most memtopo_info.max_batch
 * @op_size: in, sizeof(struct memtopo_op) as the caller knows it (each
 *	element's own @size must equal it)
 * @ops: in, user pointer to @count operations; the create operations get
 *	their @id written back (so their slots must be writable)
 * @error_index: out, on failure the index of the failing operation, or
 *	@count when the final commit failed; unspecified on success
 * @__reserved: in, must be 0
 *
 * The views are rendered once, after the last operation, and listeners
 * see one commit.  On error every applied operation is undone, the call
 * returns the failing operation's errno and no listener sees anything.
 */
struct memtopo_batch {
	__u32 size;
	__u32 flags;
	__u32 count;
	__u32 op_size;
	__aligned_u64 ops;
	__u32 error_index;
	__u32 __reserved;
};

#define MEMTOPO_BATCH		_IO(MEMTOPO_TYPE, MEMTOPO_CMD_BATCH)

#define MEMTOPO_TXN_BEGIN	0
#define MEMTOPO_TXN_COMMIT	1

/**
 * struct memtopo_txn - MEMTOPO_TXN: open or close a (nested) transaction.
 * @size: in, sizeof(struct memtopo_txn)
 * @flags: in, must be 0
 * @op: in, MEMTOPO_TXN_BEGIN or MEMTOPO_TXN_COMMIT
 * @depth: out, the file's transaction depth after the call
 *
 * Nothing is rendered until the outermost commit.  A file's open
 * transactions are committed when it is closed.  COMMIT without an open
 * transaction of this file is EINVAL; BEGIN with memtopo_info.max_depth
 * open is ENOSPC.  The outermost COMMIT fails with ENOMEM, E2BIG or
 * ENOSPC (past the context's memory budget) when the views cannot be
 * rendered or kept, and then every change since the outermost BEGIN is
 * undone: the tree and every view are as they were before it.
 *
 * The transaction is the file's own.  While it is open, every other file
 * on the same (named) context gets EBUSY, and changes nothing, for each
 * call that a transaction holds back and a failed commit undoes:
 * MEMTOPO_OP, MEMTOPO_BATCH, MEMTOPO_IOEVENTFD, MEMTOPO_COALESCED,
 * MEMTOPO_DIRTY_LOG's GLOBAL_START, GLOBAL_STOP, LOG_REF and LOG_UNREF, and
 * MEMTOPO_TXN BEGIN.  The test and the change are one step, so none of
 * these calls that succeeded is undone by another file's failed commit,
 * even one racing that file's BEGIN.  A refused call writes nothing back.
 *
 * The other calls stay allowed.  The views (GET_FLAT, LOOKUP,
 * GET_FLAT_DIFF, the events) are the last published ones, but the tree's
 * reads (GET_REGIONS, GET_SPACES, MTREE, the lists, IOMMU_GET) and every
 * object named by ID see the open transaction's changes.  So a call that
 * names an object the transaction created (SUBSCRIBE, SERVE, IOMMU_MAP and
 * IOMMU_UNMAP, DISCARD, DIRTY_MARK) acts on it, and if the commit fails
 * the object is gone and its ID goes to the next one created.  What was
 * given to it goes too, except a subscription to it, which ends but stays
 * until UNSUBSCRIBE (struct memtopo_subscribe), and an IOMMU mapping into
 * it, which leads nowhere until unmapped (MEMTOPO_IOMMU_MAP).
 *
 * Kernel users of the context are not files: their changes join an open
 * file's transaction (published by its outermost commit, undone if it
 * fails).  While a kernel user's transaction is open, files without one
 * of their own are refused the same way; a file whose transaction was
 * open first is not, and its outermost COMMIT then publishes nothing
 * until the kernel user's commit does.
 */
struct memtopo_txn {
	__u32 size;
	__u32 flags;
	__u32 op;
	__u32 depth;
};

#define MEMTOPO_TXN		_IO(MEMTOPO_TYPE, MEMTOPO_CMD_TXN)

/* memtopo_range.flags and memtopo_event.range_flags */
enum memtopo_range_flags {
	MEMTOPO_RANGE_READONLY = 1 << 0,
	MEMTOPO_RANGE_ROMD = 1 << 1,
	MEMTOPO_RANGE_NONVOLATILE = 1 << 2,
};

/**
 * struct memtopo_range - one flat range of a view (all out).
 * @start: first address
 * @last: last address (inclusive, so the top of 2^64 fits)
 * @offset: offset of @start in the region
 * @region: ID of the region rendered there (never an alias or container)
 * @flags: MEMTOPO_RANGE_*
 * @dirty_log_mask: dirty-log clients enabled
 * @__reserved: 0
 */
struct memtopo_range {
	__aligned_u64 start;
	__aligned_u64 last;
	__aligned_u64 offset;
	__u32 region;
	__u32 flags;
	__u8 dirty_log_mask;
	__u8 __reserved[7];
};

/**
 * struct memtopo_get_flat - MEMTOPO_GET_FLAT: the flat view of a space.
 * @size: in, sizeof(struct memtopo_get_flat)
 * @flags: in, must be 0
 * @space: in, ID of the address space
 * @count: in/out: in, capacity of @ranges; out, number of ranges in the view
 * @ranges: in, user pointer to @count struct memtopo_range
 * @range_size: in, sizeof(struct memtopo_range) as the caller knows it
 * @__reserved: in, must be 0
 * @generation: out, the view's generation
 *
 * When the view has more ranges than @count, nothing is copied, @count is
 * set to the number needed and the call fails with ENOSPC.
 */
struct memtopo_get_flat {
	__u32 size;
	__u32 flags;
	__u32 space;
	__u32 count;
	__aligned_u64 ranges;
	__u32 range_size;
	__u32 __reserved;
	__aligned_u64 generation;
};

#define MEMTOPO_GET_FLAT	_IO(MEMTOPO_TYPE, MEMTOPO_CMD_GET_FLAT)

/* memtopo_region_desc.flags */
enum memtopo_region_flags {
	MEMTOPO_REGION_ENABLED = 1 << 0,
	MEMTOPO_REGION_READONLY = 1 << 1,
	MEMTOPO_REGION_NONVOLATILE = 1 << 2,
	MEMTOPO_REGION_ROMD = 1 << 3,
	MEMTOPO_REGION_MAY_OVERLAP = 1 << 4,
	MEMTOPO_REGION_SIZE_2_64 = 1 << 5,
	MEMTOPO_REGION_KERNEL_BACKING = 1 << 6, /* MEMTOPO_OP_F_KERNEL_BACKING */
	MEMTOPO_REGION_FILE_BACKING = 1 << 7, /* MEMTOPO_OP_F_FILE_BACKING */
	MEMTOPO_REGION_PROCESS_BACKING = 1 << 8, /* MEMTOPO_OP_F_PROCESS_BACKING */
};

/**
 * struct memtopo_region_desc - one region of MEMTOPO_GET_REGIONS (all out).
 * @id: region ID
 * @parent: parent's ID, 0 when detached
 * @alias: alias target's ID, 0 unless an alias
 * @kind: enum memtopo_region_kind
 * @flags: MEMTOPO_REGION_*
 * @priority: priority in the parent
 * @dirty_log_mask: dirty-log clients enabled
 * @__reserved: 0
 * @addr: address in the parent
 * @length: size (0 with MEMTOPO_REGION_SIZE_2_64 means 2^64)
 * @alias_offset: offset in the alias target
 * @uaddr: RAM userspace address (a label, or the creator's address with
 *	MEMTOPO_REGION_PROCESS_BACKING)
 * @name: name
 * @backing_id: ID of the region's backing, 0 if none: regions (and
 *	aliases of them) with one ID share the same memory
 * @backing_offset: MEMTOPO_REGION_FILE_BACKING: where the region starts in
 *	its file; MEMTOPO_REGION_KERNEL_BACKING: its mmap offset; else 0
 */
struct memtopo_region_desc {
	__u32 id;
	__u32 parent;
	__u32 alias;
	__u32 kind;
	__u32 flags;
	__s32 priority;
	__u8 dirty_log_mask;
	__u8 __reserved[7];
	__aligned_u64 addr;
	__aligned_u64 length;
	__aligned_u64 alias_offset;
	__aligned_u64 uaddr;
	char name[MEMTOPO_NAME_LEN];
	__aligned_u64 backing_id;
	__aligned_u64 backing_offset;
};

/**
 * struct memtopo_get_regions - MEMTOPO_GET_REGIONS: every region of the
 * context, parents before children, siblings in render order.
 * @size: in, sizeof(struct memtopo_get_regions)
 * @flags: in, must be 0
 * @count: in/out: in, capacity of @regions; out, number of regions
 * @desc_size: in, sizeof(struct memtopo_region_desc) as the caller knows it
 * @regions: in, user pointer to @count struct memtopo_region_desc
 *
 * Too small a buffer: nothing copied, @count set, ENOSPC.
 */
struct memtopo_get_regions {
	__u32 size;
	__u32 flags;
	__u32 count;
	__u32 desc_size;
	__aligned_u64 regions;
};

#define MEMTOPO_GET_REGIONS	_IO(MEMTOPO_TYPE, MEMTOPO_CMD_GET_REGIONS)

/**
 * struct memtopo_space_desc - one address space of MEMTOPO_GET_SPACES
 * (all out).
 * @id: space ID
 * @root: root region's ID
 * @generation: generation of its current view
 * @nr_ranges: ranges in its current view
 * @__reserved: 0
 * @name: name
 */
struct memtopo_space_desc {
	__u32 id;
	__u32 root;
	__aligned_u64 generation;
	__u32 nr_ranges;
	__u32 __reserved;
	char name[MEMTOPO_NAME_LEN];
};

/**
 * struct memtopo_get_spaces - MEMTOPO_GET_SPACES: every address space, in
 * creation order.
 * @size: in, sizeof(struct memtopo_get_spaces)
 * @flags: in, must be 0
 * @count: in/out: in, capacity; out, number of spaces (ENOSPC if too small)
 * @desc_size: in, sizeof(struct memtopo_space_desc) as the caller knows it
 * @spaces: in, user pointer to @count struct memtopo_space_desc
 */
struct memtopo_get_spaces {
	__u32 size;
	__u32 flags;
	__u32 count;
	__u32 desc_size;
	__aligned_u64 spaces;
};

#define MEMTOPO_GET_SPACES	_IO(MEMTOPO_TYPE, MEMTOPO_CMD_GET_SPACES)

/**
 * struct memtopo_lookup - MEMTOPO_LOOKUP: what is mapped at an address.
 * @size: in, sizeof(struct memtopo_lookup)
 * @flags: in, must be 0
 * @space: in, ID of the address space
 * @__reserved: in, must be 0
 * @addr: in, the address
 * @range: out, the flat range holding @addr (ENOENT if nothing is there)
 * @generation: out, the view's generation
 */
struct memtopo_lookup {
	__u32 size;
	__u32 flags;
	__u32 space;
	__u32 __reserved;
	__aligned_u64 addr;
	struct memtopo_range range;
	__aligned_u64 generation;
};

#define MEMTOPO_LOOKUP		_IO(MEMTOPO_TYPE, MEMTOPO_CMD_LOOKUP)

/* memtopo_mtree.flags */
enum memtopo_mtree_flags {
	MEMTOPO_MTREE_FLAT = 1 << 0, /* info mtree -f */
	MEMTOPO_MTREE_DISABLED = 1 << 1, /* info mtree -D */
};

/**
 * struct memtopo_mtree - MEMTOPO_MTREE: QEMU's "info mtree" text.
 * @size: in, sizeof(struct memtopo_mtree)
 * @flags: in, MEMTOPO_MTREE_*
 * @len: in/out: in, bytes at @buf; out, bytes of the whole text (without NUL)
 * @__reserved: in, must be 0
 * @buf: in, user pointer; receives min(len, text) bytes, no NUL added
 *
 * The text is exactly what QEMU 7.2 prints for "info mtree" (every address
 * space grouped by root, then the alias targets as memory-region blocks)
 * or "info mtree -f" (every flat view with the spaces sharing it).  A
 * short buffer is not an error: compare @len with what you passed.
 */
struct memtopo_mtree {
	__u32 size;
	__u32 flags;
	__u32 len;
	__u32 __reserved;
	__aligned_u64 buf;
};

#define MEMTOPO_MTREE		_IO(MEMTOPO_TYPE, MEMTOPO_CMD_MTREE)

/*
 * Event types; a subscription's mask is a set of (1 << type).  One type per
 * kernel listener callback (struct memtopo_listener_ops), named after it,
 * plus the IOMMU and RAM-discard notifications.  New types are appended;
 * numbers never change.  LOG_SYNC_GLOBAL is log_sync_global: as in QEMU's
 * memory_region_sync_dirty_bitmap(), a listener that has log_sync never
 * gets it, so a subscription gets LOG_SYNC_GLOBAL only if its mask selects
 * it and not LOG_SYNC.
 */
#define MEMTOPO_EVENT_REGION_ADD	1
#define MEMTOPO_EVENT_REGION_DEL	2
#define MEMTOPO_EVENT_LOG_START		3
#define MEMTOPO_EVENT_LOG_STOP		4
#define MEMTOPO_EVENT_COMMIT		5	/* end of one commit's events */
#define MEMTOPO_EVENT_OVERFLOW		6	/* always delivered */
#define MEMTOPO_EVENT_REGION_NOP	7	/* a range stayed, at every commit */
#define MEMTOPO_EVENT_LOG_SYNC		8
#define MEMTOPO_EVENT_LOG_GLOBAL_START	9
#define MEMTOPO_EVENT_LOG_GLOBAL_STOP	10
#define MEMTOPO_EVENT_EVENTFD_ADD	11
#define MEMTOPO_EVENT_EVENTFD_DEL	12
#define MEMTOPO_EVENT_COALESCED_ADD	13
#define MEMTOPO_EVENT_COALESCED_DEL	14
#define MEMTOPO_EVENT_IOMMU_MAP		15
#define MEMTOPO_EVENT_IOMMU_UNMAP	16
#define MEMTOPO_EVENT_DISCARD_POPULATE	17
#define MEMTOPO_EVENT_DISCARD_DISCARD	18
#define MEMTOPO_EVENT_LOG_CLEAR		19	/* the cleared part of a range */
#define MEMTOPO_EVENT_LOG_GLOBAL_AFTER_SYNC 20
#define MEMTOPO_EVENT_IOMMU_DEVIOTLB_UNMAP 21	/* a device-IOTLB invalidation */
#define MEMTOPO_EVENT_LOG_SYNC_GLOBAL	22	/* one per sync, no section */
/* one past the last type this header knows */
#define MEMTOPO_EVENT_NR		23

/* What memtopo_subscribe.mask 0 selects: the types of the first ABI. */
#define MEMTOPO_EVENT_MASK_DEFAULT					\
	((1u << MEMTOPO_EVENT_REGION_ADD) | (1u << MEMTOPO_EVENT_REGION_DEL) |	\
	 (1u << MEMTOPO_EVENT_LOG_START) | (1u << MEMTOPO_EVENT_LOG_STOP) |	\
	 (1u << MEMTOPO_EVENT_COMMIT) | (1u << MEMTOPO_EVENT_OVERFLOW))
/* Every type this header knows. */
#define MEMTOPO_EVENT_MASK_ALL	(((1u << MEMTOPO_EVENT_NR) - 1) & ~1u)

/* memtopo_subscribe.flags */
enum memtopo_subscribe_flags {
	MEMTOPO_SUBSCRIBE_REPLAY = 1 << 0, /* current view as REGION_ADD */
};

/**
 * struct memtopo_subscribe - MEMTOPO_SUBSCRIBE: follow a space's changes.
 * @size: in, sizeof(struct memtopo_subscribe)
 * @flags: in, MEMTOPO_SUBSCRIBE_*
 * @space: in, ID of the address space
 * @eventfd: in, eventfd signalled once per commit that queued events, and
 *	once per event queued outside a commit (LOG_SYNC, LOG_SYNC_GLOBAL,
 *	LOG_GLOBAL_*, LOG_CLEAR, IOMMU_*, DISCARD_*), or -1 (EBADF for
 *	another number that is no open fd, EINVAL for a file that is not an
 *	eventfd)
 * @mask: in, set of (1 << MEMTOPO_EVENT_*); 0 means
 *	MEMTOPO_EVENT_MASK_DEFAULT (the types of the first ABI: REGION_ADD,
 *	REGION_DEL, LOG_START, LOG_STOP, COMMIT); OVERFLOW is always delivered;
 *	a type this kernel does not know is EINVAL
 * @id: out, subscription ID (per file, cyclic)
 *
 * REGION_NOP makes every commit report every unchanged range of the space,
 * as QEMU's region_nop does: it costs a walk of the whole view per commit.
 *
 * The subscription lives until MEMTOPO_UNSUBSCRIBE or until the file is
 * closed.  The space cannot be destroyed while subscribed (EBUSY); but a
 * space created in a transaction whose commit fails is undone all the
 * same.  Its subscriptions then end: their eventfd is signalled, and
 * READ_EVENTS answers ENODEV once their queue is empty (UNSUBSCRIBE them;
 * the space's ID may meanwhile name a newer space).  Its
 * event queue starts at one page and grows with use up to max_events,
 * charged to the context's memory budget (ENOSPC when the first page does
 * not fit; a queue that cannot grow overflows).
 */
struct memtopo_subscribe {
	__u32 size;
	__u32 flags;
	__u32 space;
	__s32 eventfd;
	__u32 mask;
	__u32 id;
};

#define MEMTOPO_SUBSCRIBE	_IO(MEMTOPO_TYPE, MEMTOPO_CMD_SUBSCRIBE)

/**
 * struct memtopo_unsubscribe - MEMTOPO_UNSUBSCRIBE.
 * @size: in, sizeof(struct memtopo_unsubscribe)
 * @flags: in, must be 0
 * @id: in, subscription ID
 * @__reserved: in, must be 0
 */
struct memtopo_unsubscribe {
	__u32 size;
	__u32 flags;
	__u32 id;
	__u32 __reserved;
};

#define MEMTOPO_UNSUBSCRIBE	_IO(MEMTOPO_TYPE, MEMTOPO_CMD_UNSUBSCRIBE)

/* memtopo_event_ioeventfd.flags */
enum memtopo_event_ioeventfd_flags {
	MEMTOPO_EVENT_IOEVENTFD_DATAMATCH = 1 << 0, /* only writes of @data */
};

/**
 * struct memtopo_event_ioeventfd - payload of EVENTFD_ADD / EVENTFD_DEL
 * (the arguments of the eventfd_add / eventfd_del callbacks).
 * @addr: absolute address the ioeventfd listens at
 * @data: the value matched, with MEMTOPO_EVENT_IOEVENTFD_DATAMATCH
 * @len: access size matched: 0 (any), 1, 2, 4 or 8
 * @flags: MEMTOPO_EVENT_IOEVENTFD_*
 */
struct memtopo_event_ioeventfd {
	__aligned_u64 addr;
	__aligned_u64 data;
	__u32 len;
	__u32 flags;
};

/**
 * struct memtopo_event_coalesced - payload of COALESCED_ADD / COALESCED_DEL
 * (the arguments of the coalesced_io_add / coalesced_io_del callbacks).
 * @addr: first absolute address of the coalesced part
 * @length: its bytes
 */
struct memtopo_event_coalesced {
	__aligned_u64 addr;
	__aligned_u64 length;
};

/* memtopo_event_iommu.perm: QEMU's IOMMUAccessFlags */
enum memtopo_event_iommu_perm {
	MEMTOPO_EVENT_IOMMU_READ = 1 << 0,
	MEMTOPO_EVENT_IOMMU_WRITE = 1 << 1,
};

/**
 * struct memtopo_event_iommu - payload of IOMMU_MAP / IOMMU_UNMAP /
 * IOMMU_DEVIOTLB_UNMAP: QEMU's IOMMUTLBEntry as an IOMMU notifier gets it;
 * @region of the event is the IOMMU region.  A device-IOTLB invalidation
 * is cropped to the range, not cut into blocks, as QEMU's
 * memory_region_notify_iommu_one() crops it: its @addr_mask is the length
 * minus one, not always a power of two minus one.
 * @iova: first I/O virtual address, aligned to @addr_mask + 1 (but for a
 *	device-IOTLB invalidation)
 * @translated_addr: where @iova goes in @target_space (for an unmap: went)
 * @addr_mask: the entry covers @iova .. @iova + @addr_mask
 * @perm: MEMTOPO_EVENT_IOMMU_* (0 for an unmap)
 * @target_space: ID of the address space the translation points (for an
 *	unmap: pointed) into, 0 if that space is gone
 * @iommu_idx: the IOMMU index (QEMU's iommu_idx; 0 for single-index IOMMUs)
 * @__reserved: 0
 */
struct memtopo_event_iommu {
	__aligned_u64 iova;
	__aligned_u64 translated_addr;
	__aligned_u64 addr_mask;
	__u32 perm;
	__u32 target_space;
	__u32 iommu_idx;
	__u32 __reserved;
};

/**
 * struct memtopo_event_discard - payload of DISCARD_POPULATE /
 * DISCARD_DISCARD: the part of the RAM region whose state changed (QEMU's
 * RamDiscardListener notify_populate / notify_discard section); the
 * event's @start / @last / @offset place it in the space.
 * @offset: first byte within the region
 * @length: bytes, a multiple of the discard granularity
 */
struct memtopo_event_discard {
	__aligned_u64 offset;
	__aligned_u64 length;
};

/* memtopo_event_backing.kind */
enum memtopo_event_backing_kind {
	MEMTOPO_EVENT_BACKING_NONE = 0,	/* nothing, or a label: @offset is it */
	MEMTOPO_EVENT_BACKING_FILE,	/* @offset is a file offset */
	MEMTOPO_EVENT_BACKING_KERNEL,	/* @offset is an mmap offset of the fd */
	MEMTOPO_EVENT_BACKING_PROCESS,	/* @offset is the owner's address */
};

/**
 * struct memtopo_event_backing - payload of REGION_ADD / REGION_DEL /
 * REGION_NOP: where the section's bytes are (see "RAM backings"), so a
 * mirror (KVM memory slots, a vhost-user memory table) needs no other call.
 * @id: the backing's ID (memtopo_region_desc.backing_id), 0 if none
 * @offset: where the section's first byte (@start) is in the backing, as
 *	@kind says: a file offset for the file the VMM passed, an offset to
 *	mmap() the memtopo fd at, an address of the owning process, or the
 *	label plus the section's offset (0 without a label)
 * @kind: MEMTOPO_EVENT_BACKING_*
 * @__reserved: 0
 */
struct memtopo_event_backing {
	__aligned_u64 id;
	__aligned_u64 offset;
	__u32 kind;
	__u32 __reserved;
};

/* Bytes of struct memtopo_event before the payload: the first ABI's event. */
#define MEMTOPO_EVENT_SIZE_V1	56

/**
 * struct memtopo_event - one event (all out).
 * @seq: sequence number, per subscription, from 1, without gaps
 * @generation: generation of the view the event belongs to: for an event
 *	of a commit the view it published, for one queued outside a commit
 *	the view current then
 * @type: MEMTOPO_EVENT_*
 * @region: region ID: the section's region (REGION_*, LOG_START, LOG_STOP,
 *	LOG_SYNC, LOG_CLEAR, EVENTFD_*, COALESCED_*, DISCARD_*), the IOMMU
 *	region (IOMMU_*); 0 for COMMIT, OVERFLOW, LOG_SYNC_GLOBAL and
 *	LOG_GLOBAL_* (LOG_GLOBAL_AFTER_SYNC included)
 * @start: first address of the section in the space (for EVENTFD_* the
 *	ioeventfd's address, for COALESCED_* the flat range, for LOG_CLEAR
 *	the part of the flat range whose pages were cleared, for IOMMU_* where
 *	the entry's IOVAs are in the space: one event per range of the IOMMU
 *	region that the entry meets, cut to it)
 * @last: last address of the section
 * @offset: offset of @start in the region
 * @range_flags: MEMTOPO_RANGE_* of the section
 * @old_mask: LOG_START / LOG_STOP: dirty-log mask before
 * @new_mask: LOG_START / LOG_STOP: dirty-log mask after; other section
 *	events: the section's mask
 * @__reserved: 0
 * @ioeventfd: EVENTFD_ADD / EVENTFD_DEL payload
 * @coalesced: COALESCED_ADD / COALESCED_DEL payload
 * @iommu: IOMMU_MAP / IOMMU_UNMAP / IOMMU_DEVIOTLB_UNMAP payload
 * @discard: DISCARD_POPULATE / DISCARD_DISCARD payload
 * @backing: REGION_ADD / REGION_DEL / REGION_NOP payload
 * @__payload: the payload's size; zero for other types
 *
 * A reader passing MEMTOPO_EVENT_SIZE_V1 as memtopo_read_events.event_size
 * gets the first ABI's layout: everything before the payload.
 *
 * OVERFLOW means events after it were dropped: read the flat view
 * (MEMTOPO_GET_FLAT) and continue from its generation; events with a
 * generation not above it are already contained in it.
 */
struct memtopo_event {
	__aligned_u64 seq;
	__aligned_u64 generation;
	__u32 type;
	__u32 region;
	__aligned_u64 start;
	__aligned_u64 last;
	__aligned_u64 offset;
	__u32 range_flags;
	__u8 old_mask;
	__u8 new_mask;
	__u8 __reserved[2];
	union {
		struct memtopo_event_ioeventfd ioeventfd;
		struct memtopo_event_coalesced coalesced;
		struct memtopo_event_iommu iommu;
		struct memtopo_event_discard discard;
		struct memtopo_event_backing backing;
		__aligned_u64 __payload[6];
	};
};

/**
 * struct memtopo_read_events - MEMTOPO_READ_EVENTS: dequeue events.
 * @size: in, sizeof(struct memtopo_read_events)
 * @flags: in, must be 0
 * @id: in, subscription ID
 * @count: in/out: in, capacity of @events; out, events copied (0: queue
 *	empty)
 * @events: in, user pointer to @count struct memtopo_event
 * @event_size: in, sizeof(struct memtopo_event) as the caller knows it:
 *	at least MEMTOPO_EVENT_SIZE_V1 (shorter is EINVAL), at most the page size;
 *	each event is copied cut to it, or zero-filled past the kernel's size
 * @pending: out, events still queued after this call (more may have been
 *	queued since)
 *
 * Never blocks: wait on the eventfd.  Events are dequeued only once they
 * and this struct were written: a call that fails loses none.  ENODEV,
 * with nothing written, once the queue is empty if the subscription ended
 * with its space (struct memtopo_subscribe).
 */
struct memtopo_read_events {
	__u32 size;
	__u32 flags;
	__u32 id;
	__u32 count;
	__aligned_u64 events;
	__u32 event_size;
	__u32 pending;
};

#define MEMTOPO_READ_EVENTS	_IO(MEMTOPO_TYPE, MEMTOPO_CMD_READ_EVENTS)

/* memtopo_ctx_attach.flags */
enum memtopo_attach_flags {
	MEMTOPO_ATTACH_CREATE = 1 << 0, /* create the name if missing */
	MEMTOPO_ATTACH_EXCL = 1 << 1, /* with CREATE: fail if it exists */
};

/**
 * struct memtopo_ctx_attach - MEMTOPO_CTX_ATTACH: work on a named context.
 * @size: in, sizeof(struct memtopo_ctx_attach)
 * @flags: in, MEMTOPO_ATTACH_*
 * @created: out, 1 if this call created the context, else 0
 * @__reserved: in, must be 0
 * @name: in, NUL-terminated name; names starting with "anon-" are
 *	reserved for anonymous contexts' debugfs directories (EINVAL)
 * @mem_max: in, with MEMTOPO_ATTACH_CREATE: the memory budget of the
 *	context if this call creates it, in bytes, at most memtopo.ctx_mem_max
 *	(EINVAL above it); 0 for that ceiling.  Ignored when the context
 *	exists.  Without MEMTOPO_ATTACH_CREATE it must be 0 (EINVAL).
 *
 * The file drops its anonymous context (EBUSY if it holds subscriptions
 * or an open transaction) and works on the named one.  A named context
 * lives until MEMTOPO_CTX_DESTROY, even with no file open, and pins the
 * module.  Only its creator's uid (or CAP_SYS_ADMIN) may attach (EPERM).
 * One uid may keep at most memtopo.named_max_per_user named contexts
 * (module parameter, default 256): creating one more fails with EUSERS.
 */
struct memtopo_ctx_attach {
	__u32 size;
	__u32 flags;
	__u32 created;
	__u32 __reserved;
	char name[MEMTOPO_NAME_LEN];
	__aligned_u64 mem_max;
};

#define MEMTOPO_CTX_ATTACH	_IO(MEMTOPO_TYPE, MEMTOPO_CMD_CTX_ATTACH)

/**
 * struct memtopo_ctx_destroy - MEMTOPO_CTX_DESTROY: forget a named context.
 * @size: in, sizeof(struct memtopo_ctx_destroy)
 * @flags: in, must be 0
 * @name: in, NUL-terminated name
 *
 * The name is removed at once; the context itself is freed when the last
 * file attached to it is closed.
 */
struct memtopo_ctx_destroy {
	__u32 size;
	__u32 flags;
	char name[MEMTOPO_NAME_LEN];
};

#define MEMTOPO_CTX_DESTROY	_IO(MEMTOPO_TYPE, MEMTOPO_CMD_CTX_DESTROY)

/* memtopo_budget.flags */
enum memtopo_budget_flags {
	MEMTOPO_BUDGET_SET = 1 << 0, /* set the budget to @mem_max first */
};

/**
 * struct memtopo_budget - MEMTOPO_BUDGET: read, and optionally set, the
 * memory budget of the file's context.
 * @size: in, sizeof(struct memtopo_budget)
 * @flags: in, MEMTOPO_BUDGET_*
 * @mem_max: in, with MEMTOPO_BUDGET_SET: the context's own budget in
 *	bytes, 0 for the ceiling alone; EINVAL above memtopo.ctx_mem_max,
 *	EBUSY below what is charged already.  Out: the budget charges are
 *	held to now (the lower of the context's own and the ceiling).
 * @mem_used: out, bytes charged to the context
 * @ceiling: out, memtopo.ctx_mem_max now
 *
 * Works on anonymous and named contexts alike, at any time; on error the
 * budget is unchanged and nothing is written back.
 */
struct memtopo_budget {
	__u32 size;
	__u32 flags;
	__aligned_u64 mem_max;
	__aligned_u64 mem_used;
	__aligned_u64 ceiling;
};

#define MEMTOPO_BUDGET		_IO(MEMTOPO_TYPE, MEMTOPO_CMD_BUDGET)

/*
 * ==== QEMU parity: ioeventfds, coalesced MMIO, dirty logging, access
 * dispatch (kmod/ioctl_parity.c).  Numbers start at
 * MEMTOPO_CMD_PARITY_BASE so the sections above can grow. ====
 */
#define MEMTOPO_CMD_PARITY_BASE		(MEMTOPO_CMD_BASE + 0x30)
#define MEMTOPO_CMD_IOEVENTFD		(MEMTOPO_CMD_PARITY_BASE + 0)
#define MEMTOPO_CMD_COALESCED		(MEMTOPO_CMD_PARITY_BASE + 1)
#define MEMTOPO_CMD_DIRTY_LOG		(MEMTOPO_CMD_PARITY_BASE + 2)
#define MEMTOPO_CMD_SPACE_RW		(MEMTOPO_CMD_PARITY_BASE + 3)
#define MEMTOPO_CMD_IOEVENTFD_LIST	(MEMTOPO_CMD_PARITY_BASE + 4)
#define MEMTOPO_CMD_COALESCED_LIST	(MEMTOPO_CMD_PARITY_BASE + 5)
#define MEMTOPO_CMD_DIRTY_MARK		(MEMTOPO_CMD_PARITY_BASE + 6)

/* memtopo_ioeventfd.flags */
enum memtopo_ioeventfd_flags {
	MEMTOPO_IOEVENTFD_DATAMATCH = 1 << 0, /* only writes of @data */
	MEMTOPO_IOEVENTFD_DEASSIGN = 1 << 1, /* remove, not add */
};

/**
 * struct memtopo_ioeventfd - MEMTOPO_IOEVENTFD: (un)register an eventfd
 * signalled by writes to a region, reported to listeners as eventfd_add /
 * eventfd_del in absolute addresses.
 * @size: in, sizeof(struct memtopo_ioeventfd)
 * @flags: in, MEMTOPO_IOEVENTFD_*
 * @region: in, region ID (not a container or alias)
 * @fd: in, the eventfd; with DEASSIGN, -1 removes whichever eventfd is
 *	registered with these @offset, @len and @data (at most one can be)
 * @len: in, 0 (any write at @offset), 1, 2, 4 or 8
 * @__reserved: in, must be 0
 * @offset: in, address within the region
 * @data: in, with DATAMATCH, the value as the device sees it
 *
 * Errors: EEXIST when it collides with a registration of the region (same
 * offset and length, either one length 0, or data that could both match);
 * ENOENT for DEASSIGN of nothing; EBADF/EINVAL for a bad @fd; ENOSPC with
 * 2^32 - 1 registrations in the context already, or past its memory budget.
 */
struct memtopo_ioeventfd {
	__u32 size;
	__u32 flags;
	__u32 region;
	__s32 fd;
	__u32 len;
	__u32 __reserved;
	__aligned_u64 offset;
	__aligned_u64 data;
};

#define MEMTOPO_IOEVENTFD	_IO(MEMTOPO_TYPE, MEMTOPO_CMD_IOEVENTFD)

/* memtopo_coalesced.flags */
enum memtopo_coalesced_flags {
	MEMTOPO_COALESCED_DEL = 1 << 0, /* remove, not add */
};

/**
 * struct memtopo_coalesced - MEMTOPO_COALESCED: add or remove a coalesced
 * MMIO range of an I/O or ROM device region.
 * @size: in, sizeof(struct memtopo_coalesced)
 * @flags: in, MEMTOPO_COALESCED_*
 * @region: in, region ID
 * @__reserved: in, must be 0
 * @offset: in, first byte within the region
 * @length: in, bytes, at least 1
 *
 * Errors: EEXIST for a range already there; ENOENT deleting one that is not;
 * ENOSPC past the context's memory budget.
 */
struct memtopo_coalesced {
	__u32 size;
	__u32 flags;
	__u32 region;
	__u32 __reserved;
	__aligned_u64 offset;
	__aligned_u64 length;
};

#define MEMTOPO_COALESCED	_IO(MEMTOPO_TYPE, MEMTOPO_CMD_COALESCED)

/* memtopo_dirty_log.op */
#define MEMTOPO_DIRTY_GET		1	/* KVM_GET_DIRTY_LOG */
#define MEMTOPO_DIRTY_CLEAR		2	/* KVM_CLEAR_DIRTY_LOG */
#define MEMTOPO_DIRTY_GLOBAL_START	3	/* memory_global_dirty_log_start */
#define MEMTOPO_DIRTY_GLOBAL_STOP	4	/* memory_global_dirty_log_stop */
#define MEMTOPO_DIRTY_GLOBAL_SYNC	5	/* memory_global_dirty_log_sync */
#define MEMTOPO_DIRTY_GLOBAL_AFTER_SYNC	6	/* memory_global_after_dirty_log_sync */
#define MEMTOPO_DIRTY_LOG_REF		7	/* memory_region_set_log(mr, true, VGA) */
#define MEMTOPO_DIRTY_LOG_UNREF		8	/* memory_region_set_log(mr, false, VGA) */
/* memtopo_dirty_log.reasons: QEMU's GLOBAL_DIRTY_* */
enum memtopo_global_dirty_reasons {
	MEMTOPO_GLOBAL_DIRTY_MIGRATION = 1 << 0,
	MEMTOPO_GLOBAL_DIRTY_DIRTY_RATE = 1 << 1,
	MEMTOPO_GLOBAL_DIRTY_LIMIT = 1 << 2,
};

/* memtopo_dirty_log.flags */
enum memtopo_dirty_log_flags {
	MEMTOPO_DIRTY_F_CLEAR = 1 << 0, /* GET: clear what is returned */
};

/* Pages one GET or CLEAR covers at most. */
#define MEMTOPO_DIRTY_MAX_PAGES_PER_CALL	0x1000000u	/* 2^24 */

/**
 * struct memtopo_dirty_log - MEMTOPO_DIRTY_LOG: read or clear a RAM
 * region's dirty bitmap for one client, switch global dirty logging by
 * reason, sync it, or count a region's VGA logging.
 * @size: in, sizeof(struct memtopo_dirty_log)
 * @flags: in, MEMTOPO_DIRTY_F_* (GET only)
 * @op: in, MEMTOPO_DIRTY_*
 * @region: in, region ID (GET, CLEAR, LOG_REF, LOG_UNREF; else 0)
 * @client: in, 0 VGA, 1 CODE, 2 MIGRATION (GET, CLEAR; LOG_REF and
 *	LOG_UNREF take VGA only; else 0)
 * @__reserved: in, must be 0
 * @first_page: in, first 4 KiB page, a multiple of 64 (GET, CLEAR; else 0)
 * @num_pages: in, pages, at most MEMTOPO_DIRTY_MAX_PAGES_PER_CALL, within
 *	the region (GET, CLEAR; else 0)
 * @bitmap: in, user pointer to (num_pages + 63) / 64 __u64 words; bit i of
 *	word w is page first_page + 64 * w + i.  GET writes it; CLEAR reads
 *	the bits to clear.  Else 0.
 * @reasons: in, MEMTOPO_GLOBAL_DIRTY_* (GLOBAL_START, GLOBAL_STOP; else 0).
 *	0 on GLOBAL_START or GLOBAL_STOP means MIGRATION, so callers of the
 *	first version of this struct (which ends at @bitmap) keep working.
 * @__reserved2: in, must be 0
 *
 * GET asks listeners to log_sync first (log_sync_global for those that
 * only sync globally).  With MEMTOPO_DIRTY_F_CLEAR each word is exchanged
 * with zero atomically, so a page dirtied concurrently is either returned
 * or still set afterwards; if the bitmap cannot be written the bits are
 * put back.  GET with F_CLEAR and CLEAR then send log_clear for the range.
 *
 * GLOBAL_START starts the reasons not yet on (QEMU ignores a reason that
 * is on: so does this, successfully); the first one starts global logging,
 * and a kernel listener may refuse it: the errno comes back and nothing
 * changed.  GLOBAL_STOP stops reasons that are all on; logging stops with
 * the last one.  GLOBAL_SYNC is QEMU's memory_global_dirty_log_sync()
 * (log_sync, log_sync_global), GLOBAL_AFTER_SYNC its
 * memory_global_after_dirty_log_sync() (log_global_after_sync).  LOG_REF
 * and LOG_UNREF take and drop one reference on a region's VGA logging:
 * the client is on while any is held.
 *
 * Errors: ENOENT if the client never logged the region, or no such
 * region; EINVAL for a bad client, range, region kind or reason, a field
 * the op does not take, GLOBAL_STOP of a reason that is not on, LOG_UNREF
 * without a reference; E2BIG above the per-call limit; EOVERFLOW for too
 * many LOG_REFs; a kernel listener's errno refusing GLOBAL_START.
 */
struct memtopo_dirty_log {
	__u32 size;
	__u32 flags;
	__u32 op;
	__u32 region;
	__u32 client;
	__u32 __reserved;
	__aligned_u64 first_page;
	__aligned_u64 num_pages;
	__aligned_u64 bitmap;
	__u32 reasons;
	__u32 __reserved2;
};

#define MEMTOPO_DIRTY_LOG	_IO(MEMTOPO_TYPE, MEMTOPO_CMD_DIRTY_LOG)

/*
 * RAM backings: where the bytes of a RAM-like region live.  At most one
 * backing flag on MEMTOPO_OP_REGION_CREATE; each backing gets an ID
 * (memtopo_op.backing_id, memtopo_region_desc.backing_id) that names it
 * to userspace instead of an fd or an address.  MEMTOPO_SPACE_RW and kernel
 * users (memtopo_space_read()/_write()) reach all three; writes through
 * them are dirty-logged.  MEMTOPO_OP_SET_SIZE cannot grow a region past
 * its backing (EINVAL); it may shrink and grow back.
 *
 * MEMTOPO_OP_F_FILE_BACKING, on a MEMTOPO_KIND_RAM, _ROM, _ROM_DEVICE or
 * _RAM_DEVICE region: @length bytes of the file @backing_fd from
 * @backing_offset (a memfd, a tmpfs or hugetlbfs file: anything
 * mmap()able).  The kernel keeps a reference to the file, not the fd
 * (close it when you like); the VMM mmap()s the same file to see the same
 * bytes.  RAM and RAM devices need the file open for reading and writing,
 * ROMs for reading.  Errors: EBADF for a bad fd; EINVAL for an
 * @backing_offset or @length that is not page-aligned, a @length of 0,
 * MEMTOPO_OP_F_SIZE_2_64, a @value or a @size that ends before
 * @backing_offset does; ENODEV for a file that cannot be
 * mmap()ed; EACCES for a file not open as needed; ENXIO if the file ends
 * before @backing_offset + @length.  A file that shrinks later makes
 * accesses past its end fail with ENXIO.  A write into a hole of a
 * hugetlbfs file allocates its huge page, as a fault of the VMM's mapping
 * would: ENOMEM or ENOSPC when the pool has none free; EPERM writing a
 * write-sealed memfd.
 *
 * MEMTOPO_OP_F_KERNEL_BACKING, on a MEMTOPO_KIND_RAM, _ROM or _ROM_DEVICE
 * region: the kernel allocates @length bytes (rounded up to pages, charged
 * to the caller's memory cgroup and, while the region exists, to the
 * context's memory budget) and frees them once neither the region nor a
 * mapping uses them.  memtopo_op.value is 0 (zero-filled) or a user
 * pointer to @length bytes of initial contents (a ROM image).  The RAM is
 * mmap()able (MAP_SHARED) through the context's fd at the offset returned
 * in @backing_offset, while the region exists; pages stay mapped after it
 * is destroyed.  Writes through such a mapping are dirty-logged for every
 * client logging the region (the pages fault on their first write after
 * logging starts or their bits are cleared).  Errors: EINVAL for another
 * kind or a @length of 0; E2BIG for MEMTOPO_OP_F_SIZE_2_64; ENOSPC past the context's memory budget
 * (checked before anything is allocated); EFAULT if the initial contents
 * cannot be read; ENOMEM.  mmap() errors: EINVAL for a private mapping;
 * ENXIO for an offset or length outside a live region's RAM.
 *
 * MEMTOPO_OP_F_PROCESS_BACKING, on a MEMTOPO_KIND_RAM, _ROM, _ROM_DEVICE
 * or _RAM_DEVICE region: @length bytes at address @value of the calling
 * process.  The kernel records the process's address space (not the task)
 * and reaches the memory from any process or kernel user through it; once
 * the owner exited (its address space is gone) accesses fail with ESRCH,
 * and with EFAULT where the owner unmapped the range since.  Errors:
 * EINVAL for a @value or @length that is not page-aligned or a @length of
 * 0; EFAULT for a range that is not entirely mapped now.
 *
 * Without a backing flag, a non-zero @value on RAM, ROM or a RAM device is
 * a label only (reported as memtopo_region_desc.uaddr, never reached):
 * such RAM fails MEMTOPO_SPACE_RW with EOPNOTSUPP.
 */

/* memtopo_space_rw.flags */
enum memtopo_space_rw_flags {
	MEMTOPO_SPACE_RW_WRITE = 1 << 0, /* write, else read */
};

/* Bytes one MEMTOPO_SPACE_RW moves at most. */
#define MEMTOPO_SPACE_RW_MAX		0x100000u	/* 1 MiB */

/**
 * struct memtopo_space_rw - MEMTOPO_SPACE_RW: read or write an address
 * space through the kernel's access dispatch (RAM with a kernel mapping,
 * device callbacks, ioeventfds), as memtopo_space_read()/_write() do.
 * @size: in, sizeof(struct memtopo_space_rw)
 * @flags: in, MEMTOPO_SPACE_RW_*
 * @space: in, space ID
 * @__reserved: in, must be 0
 * @addr: in, first address
 * @length: in, bytes, 1 to MEMTOPO_SPACE_RW_MAX
 * @buf: in, user pointer to @length bytes, in memory order (read: written
 *	by the kernel)
 *
 * RAM, ROM and ROM devices in romd mode (reads) are copied to or from
 * their backing (see "RAM backings"); an access may cross any number of
 * ranges.  Every piece is checked before any is performed, so a
 * refused access changes nothing.
 *
 * Errors: ENXIO for an unassigned address (or a reservation); EROFS writing
 * read-only memory (a ROM, or RAM set read-only); EOPNOTSUPP for RAM whose
 * backing the kernel cannot reach (a label, or a region grown past its
 * backing), a ROM device
 * written or read outside romd mode, or an I/O region without callbacks
 * (unless an ioeventfd takes the write); EINVAL for a @length of 0 or
 * above MEMTOPO_SPACE_RW_MAX, or an access size or alignment the device
 * refuses; ENOENT for a bad @space; EFAULT for a bad @buf; EOVERFLOW past
 * 2^64; a backing's errors (ENXIO past a shrunk file's end, ESRCH for a
 * process backing whose owner exited, EFAULT where it unmapped the range);
 * a served device's errors (struct memtopo_serve).  The access runs
 * without the file's and the context's locks: several may wait on served
 * devices at once, and the topology may change meanwhile.
 */
struct memtopo_space_rw {
	__u32 size;
	__u32 flags;
	__u32 space;
	__u32 __reserved;
	__aligned_u64 addr;
	__aligned_u64 length;
	__aligned_u64 buf;
};

#define MEMTOPO_SPACE_RW	_IO(MEMTOPO_TYPE, MEMTOPO_CMD_SPACE_RW)

/**
 * struct memtopo_ioeventfd_entry - one ioeventfd registration of a region,
 * as MEMTOPO_IOEVENTFD_LIST reports it.
 * @flags: out, MEMTOPO_IOEVENTFD_DATAMATCH if only writes of @data signal
 * @len: out, 0 (any write at @offset), 1, 2, 4 or 8
 * @offset: out, address within the region
 * @data: out, the value matched (0 without DATAMATCH)
 *
 * The eventfd itself is not reported: an fd number means nothing outside
 * the process that registered it.  MEMTOPO_IOEVENTFD with DEASSIGN and
 * @fd -1 removes a registration by these fields alone.
 */
struct memtopo_ioeventfd_entry {
	__u32 flags;
	__u32 len;
	__aligned_u64 offset;
	__aligned_u64 data;
};

/**
 * struct memtopo_ioeventfd_list - MEMTOPO_IOEVENTFD_LIST: a region's
 * ioeventfd registrations, in the order they were made.
 * @size: in, sizeof(struct memtopo_ioeventfd_list)
 * @flags: in, must be 0
 * @region: in, region ID
 * @num_entries: in/out: in, capacity of @entries; out, how many
 *	registrations the region has
 * @entries: in, user pointer to @num_entries struct memtopo_ioeventfd_entry
 *
 * Count then fill, as iommufd's IOMMU_IOAS_IOVA_RANGES: when the region has
 * more registrations than @num_entries, the first @num_entries are written,
 * @num_entries is set to the total and the call fails with EMSGSIZE; call
 * with 0 to learn the count.  Errors: ENOENT for no such region; EFAULT if
 * @entries cannot be written.
 */
struct memtopo_ioeventfd_list {
	__u32 size;
	__u32 flags;
	__u32 region;
	__u32 num_entries;
	__aligned_u64 entries;
};

#define MEMTOPO_IOEVENTFD_LIST	_IO(MEMTOPO_TYPE, MEMTOPO_CMD_IOEVENTFD_LIST)

/**
 * struct memtopo_coalesced_entry - one coalesced MMIO range of a region.
 * @offset: out, first byte within the region
 * @length: out, bytes
 */
struct memtopo_coalesced_entry {
	__aligned_u64 offset;
	__aligned_u64 length;
};

/**
 * struct memtopo_coalesced_list - MEMTOPO_COALESCED_LIST: a region's
 * coalesced MMIO ranges, in the order they were added.
 * @size: in, sizeof(struct memtopo_coalesced_list)
 * @flags: in, must be 0
 * @region: in, region ID
 * @num_entries: in/out: in, capacity of @entries; out, how many ranges the
 *	region has
 * @entries: in, user pointer to @num_entries struct memtopo_coalesced_entry
 *
 * Count then fill as MEMTOPO_IOEVENTFD_LIST (EMSGSIZE when @entries is too
 * small).  Errors: ENOENT for no such region; EFAULT if @entries cannot be
 * written.
 */
struct memtopo_coalesced_list {
	__u32 size;
	__u32 flags;
	__u32 region;
	__u32 num_entries;
	__aligned_u64 entries;
};

#define MEMTOPO_COALESCED_LIST	_IO(MEMTOPO_TYPE, MEMTOPO_CMD_COALESCED_LIST)

/**
 * struct memtopo_dirty_mark - MEMTOPO_DIRTY_MARK: userspace wrote RAM the
 * kernel cannot see written; mark those pages dirty for every dirty-log
 * client enabled on the region (a vCPU's or a device model's writes).
 * @size: in, sizeof(struct memtopo_dirty_mark)
 * @flags: in, must be 0
 * @region: in, region ID
 * @__reserved: in, must be 0
 * @offset: in, first byte written, within the region
 * @length: in, bytes written, 1 to MEMTOPO_DIRTY_MAX_PAGES_PER_CALL pages
 *
 * Which regions: RAM, ROM, ROM devices and RAM devices whose memory a
 * process of this context can write, that is those with a backing (see
 * "RAM backings"): a userspace address (MEMTOPO_OP_REGION_CREATE with a
 * @value, a label or MEMTOPO_OP_F_PROCESS_BACKING), a file, or
 * kernel-owned RAM (which userspace may map).  Every page the
 * byte range touches is marked.  No client logging the region is no error:
 * there is no log to mark, as for a write nobody tracks.
 *
 * Errors: ENOENT for no such region; EINVAL for a region without RAM
 * (container, alias, I/O, reservation), a @length of 0 or a range past the
 * region; EPERM for RAM with no backing a process could write; E2BIG for
 * more than MEMTOPO_DIRTY_MAX_PAGES_PER_CALL pages; EOVERFLOW when
 * @offset + @length passes 2^64.
 */
struct memtopo_dirty_mark {
	__u32 size;
	__u32 flags;
	__u32 region;
	__u32 __reserved;
	__aligned_u64 offset;
	__aligned_u64 length;
};

#define MEMTOPO_DIRTY_MARK	_IO(MEMTOPO_TYPE, MEMTOPO_CMD_DIRTY_MARK)
/* ==== end of the QEMU parity section ==== */

/*
 * ==== Served devices: I/O and ROM-device regions answered by a userspace
 * server through a device fd (kmod/served.c).  Numbers start at
 * MEMTOPO_CMD_SERVED_BASE. ====
 */
#define MEMTOPO_CMD_SERVED_BASE		(MEMTOPO_CMD_BASE + 0x40)
#define MEMTOPO_CMD_SERVE		(MEMTOPO_CMD_SERVED_BASE + 0)

/* memtopo_serve.flags */
enum memtopo_serve_flags {
	MEMTOPO_SERVE_NONBLOCK = 1 << 0,	/* the device fd is O_NONBLOCK */
	MEMTOPO_SERVE_UNALIGNED = 1 << 1,	/* accepts unaligned accesses */
	MEMTOPO_SERVE_BIG_ENDIAN = 1 << 2,	/* values are big-endian numbers */
};

/* memtopo_serve.timeout_ms: 0 picks the default; more than the max is EINVAL. */
#define MEMTOPO_SERVE_TIMEOUT_DEFAULT_MS	5000u
#define MEMTOPO_SERVE_TIMEOUT_MAX_MS		600000u

/**
 * struct memtopo_serve - MEMTOPO_SERVE: serve an I/O or ROM-device region
 * from userspace through a new device fd.
 * @size: sizeof(struct memtopo_serve)
 * @flags: MEMTOPO_SERVE_*
 * @region: ID of a MEMTOPO_KIND_IO or MEMTOPO_KIND_ROM_DEVICE region
 * @timeout_ms: how long an access waits for its reply (0: the default)
 * @valid_min: smallest access the device accepts (0, 1, 2, 4 or 8; checked
 *	only when @valid_max is set, as in QEMU)
 * @valid_max: largest access the device accepts; 0 accepts any size but
 *	accesses are still split to at most 4 bytes
 * @impl_min: smallest request the server is sent (0 means 1): smaller
 *	accesses are widened
 * @impl_max: largest request the server is sent (0 means 4): larger
 *	accesses are split into several requests
 * @out_fd: out, the device fd (O_CLOEXEC)
 * @__reserved: must be 0
 *
 * Every access that dispatch sends to the region (MEMTOPO_SPACE_RW from any
 * process, memtopo_space_read()/_write() from a kernel user) becomes one
 * request per device call, cut by the same rules as a kernel device's
 * callbacks (see struct memtopo_region_ops).  A write matching an ioeventfd
 * of the region signals the eventfd and sends no request.  The server
 * reads struct memtopo_served_req records from the device fd (read() hands
 * out as many whole records as fit, blocking until at least one is there
 * unless the fd is non-blocking; poll() reports EPOLLIN) and answers each
 * with a struct memtopo_served_reply written to it, in any order.  The
 * accessor waits for its reply, killable, at most @timeout_ms.
 *
 * Failure rules:
 *  - A request not answered within the timeout fails with ETIMEDOUT and
 *    marks the device broken: every request still waiting and every later
 *    access fails with EIO; read() on the device fd fails with EIO and
 *    poll() reports EPOLLERR.
 *  - Closing the device fd fails every waiting request and every later
 *    access with ENODEV.  The region may then be served again by a new
 *    MEMTOPO_SERVE; until then it stays bound to the dead device.
 *  - Destroying the region fails every waiting request with ENODEV;
 *    read() on the device fd then returns 0 (end of file) and poll()
 *    reports EPOLLHUP.
 *  - An access from a thread inside the device's handler (holding a
 *    request it read and has not answered) would wait for itself: it fails
 *    with EDEADLK at once.  A server thread that accesses its own device
 *    while holding no request waits like any accessor (and, if nobody else
 *    reads the fd, times out).
 *  - An accessor killed while waiting withdraws its request; a reply to a
 *    withdrawn (or timed-out) request fails with ENOENT and changes nothing.
 *
 * Errors: ENOENT for a bad @region; EINVAL for another kind of region, a
 * region with kernel device callbacks, bad sizes (not 0, 1, 2, 4 or 8, or
 * a minimum above its maximum) or a @timeout_ms above
 * MEMTOPO_SERVE_TIMEOUT_MAX_MS; EBUSY if a live device fd already serves
 * the region; EMFILE/ENFILE when no fd is left.
 */
struct memtopo_serve {
	__u32 size;
	__u32 flags;
	__u32 region;
	__u32 timeout_ms;
	__u8 valid_min;
	__u8 valid_max;
	__u8 impl_min;
	__u8 impl_max;
	__s32 out_fd;
	__aligned_u64 __reserved;
};

#define MEMTOPO_SERVE		_IO(MEMTOPO_TYPE, MEMTOPO_CMD_SERVE)

/* memtopo_served_req.flags */
enum memtopo_served_req_flags {
	MEMTOPO_SERVED_WRITE = 1 << 0,	/* a write of @data, else a read */
};

/**
 * struct memtopo_served_req - one access, read() from a device fd.
 * @seq: the request's number, unique per device fd; the reply names it
 * @region: the served region's ID
 * @flags: MEMTOPO_SERVED_*
 * @offset: byte offset within the region
 * @len: 1, 2, 4 or 8
 * @__reserved: 0
 * @data: a write's value, as a number in the device's endianness (the low
 *	@len bytes); 0 for a read
 */
struct memtopo_served_req {
	__aligned_u64 seq;
	__u32 region;
	__u32 flags;
	__aligned_u64 offset;
	__u32 len;
	__u32 __reserved;
	__aligned_u64 data;
};

/* memtopo_served_reply.flags */
enum memtopo_served_reply_flags {
	MEMTOPO_SERVED_FAIL = 1 << 0,	/* the access fails with EIO */
};

/**
 * struct memtopo_served_reply - an answer, write() to a device fd.
 * @seq: memtopo_served_req.seq of the request answered
 * @flags: MEMTOPO_SERVED_FAIL or 0
 * @__reserved: must be 0
 * @data: a read's value (bits above the request's @len are ignored);
 *	ignored for a write
 *
 * write() takes whole records and answers them in order.  Errors: EINVAL
 * for a length that is not a multiple of the record, unknown flags or a
 * non-zero @__reserved; ENOENT for a @seq no request waits under (never
 * read, already answered, withdrawn, timed out); EFAULT.  A failure after
 * the first record returns the bytes of the records answered before it.
 */
struct memtopo_served_reply {
	__aligned_u64 seq;
	__u32 flags;
	__u32 __reserved;
	__aligned_u64 data;
};

/* ==== end of the served-device section ==== */

/*
 * ==== RAM discard: QEMU's RamDiscardManager (virtio-mem) on a RAM region
 * (kmod/discard.c, kmod/ioctl_discard.c).  Numbers start at
 * MEMTOPO_CMD_DISCARD_BASE. ====
 */
#define MEMTOPO_CMD_DISCARD_BASE	(MEMTOPO_CMD_BASE + 0x60)
#define MEMTOPO_CMD_DISCARD		(MEMTOPO_CMD_DISCARD_BASE + 0)

/* memtopo_discard.op */
#define MEMTOPO_DISCARD_SET_MANAGER	1	/* memory_region_set_ram_discard_manager */
#define MEMTOPO_DISCARD_CLEAR_MANAGER	2	/* the same with NULL */
#define MEMTOPO_DISCARD_POPULATE	3	/* plug: virtio-mem's VIRTIO_MEM_REQ_PLUG */
#define MEMTOPO_DISCARD_DISCARD		4	/* unplug: VIRTIO_MEM_REQ_UNPLUG */
#define MEMTOPO_DISCARD_GET_STATE	5	/* read the populated bitmap */

/* Smallest granularity (a page); blocks per manager and per GET_STATE at most. */
#define MEMTOPO_DISCARD_MIN_GRANULARITY	4096
#define MEMTOPO_DISCARD_MAX_BLOCKS	0x80000000ULL	/* 2^31 */
#define MEMTOPO_DISCARD_MAX_BLOCKS_PER_CALL	0x1000000u	/* 2^24 */

/**
 * struct memtopo_discard - MEMTOPO_DISCARD: give a RAM region a discard
 * manager, populate or discard parts of it, read its state.
 * @size: in, sizeof(struct memtopo_discard)
 * @flags: in, must be 0
 * @op: in, MEMTOPO_DISCARD_*
 * @region: in, region ID (MEMTOPO_KIND_RAM or MEMTOPO_KIND_RAM_DEVICE)
 * @granularity: in/out: SET_MANAGER: in, the block size (a power of two,
 *	at least MEMTOPO_DISCARD_MIN_GRANULARITY, dividing the region's
 *	size); other ops: ignored on input.  Out: the manager's block size (0
 *	after CLEAR_MANAGER)
 * @offset: in, POPULATE, DISCARD, GET_STATE: first byte within the region,
 *	a multiple of the granularity; else 0
 * @length: in, POPULATE, DISCARD, GET_STATE: bytes, a non-zero multiple of
 *	the granularity, within the manager (GET_STATE: at most
 *	MEMTOPO_DISCARD_MAX_BLOCKS_PER_CALL blocks; 0 with @offset and @bitmap
 *	0 reads only the out fields, to size a bitmap); else 0
 * @bitmap: in, GET_STATE: user pointer to (blocks + 63) / 64 __u64 words;
 *	bit i of word w is set when block offset / granularity + 64 * w + i
 *	is populated (bits past the range are written 0); else 0
 * @populated: out, bytes of the region populated after the call
 * @managed: out, bytes the manager covers (the region's size when the
 *	manager was set; a later resize does not change it)
 *
 * A new manager has every block discarded, as virtio-mem's memory.
 * POPULATE offers the discarded runs of the range, ascending, to the
 * kernel's discard listeners, any of which may refuse: the populate is then
 * rolled back (every listener that accepted a part hears it discarded), the
 * call fails with that listener's errno and the state is unchanged.  Blocks
 * already populated (POPULATE) or discarded (DISCARD) are left as they are
 * and not announced again.  Subscribers of a space where the region shows
 * get DISCARD_POPULATE / DISCARD_DISCARD events for the parts they see.
 * The state is not part of a transaction: it changes at once.  A change
 * writes its answer (the out fields) before it is made: a struct that
 * cannot be written changes nothing, and only a listener's veto, ENOSPC or
 * ENOMEM can fail it afterwards (the struct is then written back as it
 * was).
 *
 * Errors: ENOENT for a bad @region, or a region without a manager
 * (CLEAR_MANAGER, POPULATE, DISCARD, GET_STATE); EINVAL for another kind
 * of region, a bad granularity (or an empty region, one of 2^64 bytes, or
 * one whose size it does not divide), an empty or unaligned range or one
 * past the manager, or a non-zero field the op does not use; EBUSY for
 * SET_MANAGER on a region with a manager, SET_MANAGER or CLEAR_MANAGER on
 * a placed region (a subregion, a space's root or an alias's target:
 * memory listeners learn of a manager when a range is added, so it is set
 * before mapping, as virtio-mem does), or CLEAR_MANAGER while a kernel
 * discard listener is registered; EOVERFLOW for a range past 2^64; E2BIG
 * past MEMTOPO_DISCARD_MAX_BLOCKS (SET_MANAGER) or
 * MEMTOPO_DISCARD_MAX_BLOCKS_PER_CALL (GET_STATE); EFAULT when the struct,
 * or GET_STATE's @bitmap, cannot be written (nothing changed); ENOSPC for SET_MANAGER past the
 * context's memory budget (the bitmap, a bit a block); ENOMEM; a
 * listener's errno (POPULATE).
 */
struct memtopo_discard {
	__u32 size;
	__u32 flags;
	__u32 op;
	__u32 region;
	__aligned_u64 granularity;
	__aligned_u64 offset;
	__aligned_u64 length;
	__aligned_u64 bitmap;
	__aligned_u64 populated;
	__aligned_u64 managed;
};

#define MEMTOPO_DISCARD		_IO(MEMTOPO_TYPE, MEMTOPO_CMD_DISCARD)
/* ==== end of the RAM discard section ==== */

/*
 * ==== IOMMU regions: the translation table of a MEMTOPO_KIND_IOMMU region
 * (kmod/iommu.c, kmod/ioctl_iommu.c), after iommufd's IOMMU_IOAS_MAP /
 * IOMMU_IOAS_UNMAP.  Numbers start at MEMTOPO_CMD_IOMMU_BASE. ====
 *
 * An IOMMU region renders itself like an I/O region.  An access that lands
 * on it (MEMTOPO_SPACE_RW, a kernel user's memtopo_space_read()/_write()
 * or memtopo_space_translate()) is translated, at offset IOVA within the
 * region, into the target space of the mapping holding that IOVA, and goes
 * on there (through further IOMMUs, at most MEMTOPO_IOMMU_MAX_DEPTH).  An
 * IOVA without a mapping is unassigned (ENXIO); a mapping without the
 * permission the access needs refuses it (EACCES); a chain of more than
 * MEMTOPO_IOMMU_MAX_DEPTH IOMMUs is ELOOP.  A mapping whose target space
 * is destroyed, or was created in a transaction whose commit failed,
 * translates nowhere (ENXIO) until it is unmapped, even once a new space
 * has the same ID.
 *
 * Map and unmap take effect at once (they are not part of a transaction)
 * and are all or nothing.  Kernel IOMMU notifiers hear every change: a MAP
 * after the new mapping is visible, an UNMAP before the old one is gone.
 */
#define MEMTOPO_CMD_IOMMU_BASE		(MEMTOPO_CMD_BASE + 0x50)
#define MEMTOPO_CMD_IOMMU_MAP		(MEMTOPO_CMD_IOMMU_BASE + 0)
#define MEMTOPO_CMD_IOMMU_UNMAP		(MEMTOPO_CMD_IOMMU_BASE + 1)
#define MEMTOPO_CMD_IOMMU_GET		(MEMTOPO_CMD_IOMMU_BASE + 2)

/* The table's granularity: IOVAs, lengths and target addresses are multiples. */
#define MEMTOPO_IOMMU_PAGE		4096u
/* Mappings one IOMMU region holds at most. */
#define MEMTOPO_IOMMU_MAPPINGS_MAX	4096u
/* IOMMUs one access may pass through. */
#define MEMTOPO_IOMMU_MAX_DEPTH		8

/* memtopo_iommu_map.flags, memtopo_iommu_mapping.flags: the permissions */
enum memtopo_iommu_map_flags {
	MEMTOPO_IOMMU_MAP_READ = 1 << 0,	/* reads may pass */
	MEMTOPO_IOMMU_MAP_WRITE = 1 << 1,	/* writes may pass */
};

/* memtopo_iommu_mapping.flags only (out), beside the permissions */
enum memtopo_iommu_mapping_flags {
	MEMTOPO_IOMMU_MAPPING_GONE = 1 << 2,	/* its target space is gone */
};

/**
 * struct memtopo_iommu_map - MEMTOPO_IOMMU_MAP: map an IOVA range of an
 * IOMMU region to a range of an address space.
 * @size: in, sizeof(struct memtopo_iommu_map)
 * @flags: in, MEMTOPO_IOMMU_MAP_READ and/or MEMTOPO_IOMMU_MAP_WRITE (at
 *	least one)
 * @region: in, ID of a MEMTOPO_KIND_IOMMU region
 * @space: in, ID of the target address space
 * @iova: in, first IOVA (offset within the region), a multiple of
 *	MEMTOPO_IOMMU_PAGE
 * @length: in, bytes, a non-zero multiple of MEMTOPO_IOMMU_PAGE
 * @addr: in, where @iova goes in @space, a multiple of MEMTOPO_IOMMU_PAGE
 *
 * Errors: ENOENT for a bad @region or @space; EINVAL for a region that is
 * not an IOMMU, @flags without a permission or with any other bit, or an
 * unaligned or zero @iova,
 * @length or @addr; EOVERFLOW if either range passes 2^64; EEXIST if any
 * page of the IOVA range is mapped already; ENOSPC at
 * MEMTOPO_IOMMU_MAPPINGS_MAX mappings or past the context's memory budget
 * (the table grows); ENOMEM.  Nothing changes on error.
 */
struct memtopo_iommu_map {
	__u32 size;
	__u32 flags;
	__u32 region;
	__u32 space;
	__aligned_u64 iova;
	__aligned_u64 length;
	__aligned_u64 addr;
};

#define MEMTOPO_IOMMU_MAP	_IO(MEMTOPO_TYPE, MEMTOPO_CMD_IOMMU_MAP)

/* memtopo_iommu_unmap.flags */
enum memtopo_iommu_unmap_flags {
	MEMTOPO_IOMMU_UNMAP_ALL = 1 << 0,	/* every mapping; @iova, @length 0 */
};

/**
 * struct memtopo_iommu_unmap - MEMTOPO_IOMMU_UNMAP: unmap an IOVA range.
 * @size: in, sizeof(struct memtopo_iommu_unmap)
 * @flags: in, MEMTOPO_IOMMU_UNMAP_*
 * @region: in, ID of a MEMTOPO_KIND_IOMMU region
 * @__reserved: in, must be 0
 * @iova: in, first IOVA, a multiple of MEMTOPO_IOMMU_PAGE
 * @length: in, bytes, a non-zero multiple of MEMTOPO_IOMMU_PAGE
 *
 * Every page of the range must be mapped; mappings that cross its bounds
 * keep their parts outside it.  Errors: ENOENT for a bad @region or a
 * page of the range that is not mapped (a hole); EINVAL for a region that
 * is not an IOMMU, unknown flags, an unaligned or zero @iova or @length
 * (non-zero with MEMTOPO_IOMMU_UNMAP_ALL); EOVERFLOW past 2^64; ENOSPC
 * when cutting a mapping in two would grow the table past
 * MEMTOPO_IOMMU_MAPPINGS_MAX or the context's memory budget; ENOMEM.
 * Nothing changes on error.
 */
struct memtopo_iommu_unmap {
	__u32 size;
	__u32 flags;
	__u32 region;
	__u32 __reserved;
	__aligned_u64 iova;
	__aligned_u64 length;
};

#define MEMTOPO_IOMMU_UNMAP	_IO(MEMTOPO_TYPE, MEMTOPO_CMD_IOMMU_UNMAP)

/**
 * struct memtopo_iommu_mapping - one mapping of MEMTOPO_IOMMU_GET (all out).
 * @iova: first IOVA
 * @length: bytes
 * @addr: where @iova goes in @space
 * @space: target space ID
 * @flags: the permissions, @flags & (MEMTOPO_IOMMU_MAP_READ |
 *	MEMTOPO_IOMMU_MAP_WRITE), and MEMTOPO_IOMMU_MAPPING_GONE when the
 *	target space is gone: destroyed, or its create undone by a failed
 *	commit (more bits may come: mask what you read).  An undone create's
 *	ID is given to the next space created, which the mapping never
 *	reaches: with the flag set, @space names no space the mapping leads
 *	to, whatever space has that ID now.  The mapping stays listed until
 *	it is unmapped; accesses through it fault.  Inside an open
 *	transaction a destroy counts at once, and the flag clears again if
 *	the commit fails and the space comes back; once the destroy is
 *	committed, or the create undone, it is final.
 */
struct memtopo_iommu_mapping {
	__aligned_u64 iova;
	__aligned_u64 length;
	__aligned_u64 addr;
	__u32 space;
	__u32 flags;
};

/**
 * struct memtopo_iommu_get - MEMTOPO_IOMMU_GET: an IOMMU region's
 * mappings, in IOVA order, as they were made (adjacent mappings are not
 * merged; an unmap that cuts one leaves its parts).
 * @size: in, sizeof(struct memtopo_iommu_get)
 * @flags: in, must be 0
 * @region: in, ID of a MEMTOPO_KIND_IOMMU region
 * @count: in/out: in, capacity of @mappings; out, number of mappings
 * @mappings: in, user pointer to @count struct memtopo_iommu_mapping
 * @mapping_size: in, sizeof(struct memtopo_iommu_mapping) as the caller
 *	knows it
 * @__reserved: in, must be 0
 *
 * Too small a buffer: nothing copied, @count set, ENOSPC.  Errors: ENOENT
 * for a bad @region; EINVAL for a region that is not an IOMMU or a bad
 * @mapping_size; EFAULT.
 */
struct memtopo_iommu_get {
	__u32 size;
	__u32 flags;
	__u32 region;
	__u32 count;
	__aligned_u64 mappings;
	__u32 mapping_size;
	__u32 __reserved;
};

#define MEMTOPO_IOMMU_GET	_IO(MEMTOPO_TYPE, MEMTOPO_CMD_IOMMU_GET)
/* ==== end of the IOMMU section ==== */

/*
 * ==== Resync by difference (kmod/history.c, kmod/events.c).  Numbers start
 * at MEMTOPO_CMD_EVENTS_BASE. ====
 */
#define MEMTOPO_CMD_EVENTS_BASE		(MEMTOPO_CMD_BASE + 0x70)
#define MEMTOPO_CMD_GET_FLAT_DIFF	(MEMTOPO_CMD_EVENTS_BASE + 0)

/**
 * struct memtopo_get_flat_diff - MEMTOPO_GET_FLAT_DIFF: the REGION_DEL and
 * REGION_ADD events that turn one generation of a space's flat view into
 * another.
 * @size: in, sizeof(struct memtopo_get_flat_diff)
 * @flags: in, must be 0
 * @space: in, ID of the address space
 * @count: in/out: in, capacity of @events; out, number of events in the
 *	difference
 * @from_generation: in, the generation the caller has (a subscription's
 *	last COMMIT, or MEMTOPO_GET_FLAT's @generation)
 * @to_generation: in/out: in, the generation to reach, 0 for the current
 *	view; out, the generation reached
 * @events: in, user pointer to @count struct memtopo_event
 * @event_size: in, sizeof(struct memtopo_event) as the caller knows it
 *	(at least MEMTOPO_EVENT_SIZE_V1, at most the page size)
 * @__reserved: in, must be 0
 *
 * Every REGION_DEL comes first (ranges of the @from_generation view that
 * the other lacks, in address order), then every REGION_ADD; a range whose
 * dirty-log mask changed is both.  Applied to the @from_generation view
 * they give exactly the @to_generation view.  Events are numbered from 1
 * in @seq and carry @to_generation.  Views share what did not change, so
 * the cost follows the difference, not the view.
 *
 * A space keeps its last views (at most 64, fewer when the context's
 * memory budget cannot hold them; each is charged for what it alone keeps
 * alive; none from before a region's destruction), so recent generations
 * can be asked for.  When the difference has
 * more events than @count, nothing is copied, @count is set to the number
 * needed and the call fails with ENOSPC.  Errors: ENOENT for a bad @space;
 * ESTALE for a generation the space does not keep (gone, or never this
 * space's): resynchronise from MEMTOPO_GET_FLAT; EINVAL for a generation
 * above every generation made so far, bad flags or event_size.
 */
struct memtopo_get_flat_diff {
	__u32 size;
	__u32 flags;
	__u32 space;
	__u32 count;
	__aligned_u64 from_generation;
	__aligned_u64 to_generation;
	__aligned_u64 events;
	__u32 event_size;
	__u32 __reserved;
};

#define MEMTOPO_GET_FLAT_DIFF	_IO(MEMTOPO_TYPE, MEMTOPO_CMD_GET_FLAT_DIFF)
/* ==== end of the resync-by-difference section ==== */

#endif /* _UAPI_LINUX_MEMTOPO_H */
