/* SPDX-License-Identifier: GPL-2.0 */
/* Glue between the misc device, its files and the ioctl layer. */
#ifndef _MEMTOPO_MAIN_H
#define _MEMTOPO_MAIN_H

#include <linux/bits.h>
#include <linux/fs.h>
#include <linux/mutex.h>
#include <linux/spinlock.h>
#include <linux/xarray.h>
#include <uapi/linux/memtopo.h>

struct memtopo_ctx;
struct memtopo_dbg;
struct memtopo_space;
struct memtopo_region;

/* Operations per MEMTOPO_BATCH; the undo log is sized from it. */
#define MEMTOPO_MAX_BATCH	BIT(20)
/*
 * Events a subscription queues before it reports an overflow (its ring
 * starts at one page and grows to this).
 */
#define MEMTOPO_MAX_EVENTS	4096
/* Named contexts one uid may keep (memtopo.named_max_per_user). */
#define MEMTOPO_NAMED_PER_USER_DEFAULT	256
/* Subscriptions per file. */
#define MEMTOPO_MAX_SUBS	64

/**
 * struct memtopo_file - state of one open of /dev/memtopo.
 * @ctx: the context this file works on (its own, or an attached named one).
 * @lock: serialises the file's own state (@ctx switch, @txn_depth, @subs)
 *	against concurrent ioctls on the same file; outermost in the lock
 *	order (memtopo_internal.h).
 * @ctx_lock: also held to switch @ctx, so mmap() (under the mmap lock,
 *	which @lock's holders may take by faulting) can read @ctx without
 *	@lock; nothing sleeps under it.
 * @txn_depth: transactions this file opened on @ctx and has not committed.
 * @subs: the file's subscriptions by ID.
 * @nr_subs: how many there are.
 * @next_sub_id: where the cyclic subscription ID allocation continues.
 * @dbg: the debugfs entry of the file's anonymous context; NULL once it
 *	attached to a named one (the registry owns that one's entry).
 */
struct memtopo_file {
	struct memtopo_ctx *ctx;
	struct mutex lock;	/* file state; outermost in the lock order */
	spinlock_t ctx_lock;
	unsigned int txn_depth;
	struct xarray subs;
	unsigned int nr_subs;
	u32 next_sub_id;
	struct memtopo_dbg *dbg;
};

/**
 * struct memtopo_ucmd - one ioctl call being executed.
 * @file: the file.
 * @ubuffer: the user's argument struct.
 * @user_size: its size as the user declared it.
 * @cmd: the kernel copy.
 * @ctx: for a command run without the file's mutex, the file's context
 *	when the call began (referenced for the call); else NULL: use
 *	@file->ctx.
 */
struct memtopo_ucmd {
	struct memtopo_file *file;
	void __user *ubuffer;
	u32 user_size;
	void *cmd;
	struct memtopo_ctx *ctx;
};

int memtopo_ucmd_respond(struct memtopo_ucmd *ucmd, size_t cmd_len);
int memtopo_ucmd_lock_change(struct memtopo_ucmd *ucmd);
long memtopo_fops_ioctl(struct file *filp, unsigned int cmd, unsigned long arg);
/*
 * The record size a caller gives for an array it passes or receives: at
 * least @min, the end of the fields the first layout had, so every record
 * carries them; at most a page, far above any layout, so an offset of
 * count * size (a u32 count) cannot overflow.  0 or -EINVAL.
 */
static inline int memtopo_urecord_size_check(u32 size, size_t min)
{
	return size >= min && size <= PAGE_SIZE ? 0 : -EINVAL;
}

/* Copy @n records of @ksize bytes to user records of @usize bytes. */
int memtopo_copy_records(u8 __user *out, const void *records, u32 n, size_t ksize, u32 usize);

/**
 * struct memtopo_region_lister - how a list ioctl reads a region's entries.
 * @info_size: bytes of one record @collect writes.
 * @entry_size: bytes of one uapi record @convert writes.
 * @whole: entries are returned only when they all fit.
 * @collect: with the context mutex held, write up to @cap records to
 *	@info (NULL when @cap is 0) and set *@total to how many the region
 *	has; 0 or a negative errno.
 * @convert: one @collect record to one uapi record, without the mutex.
 */
struct memtopo_region_lister {
	size_t info_size;
	size_t entry_size;
	bool whole;
	int (*collect)(struct memtopo_region *mr, void *info, u32 cap, u32 *total);
	void (*convert)(void *entry, const void *info);
};

int memtopo_region_list(struct memtopo_ctx *ctx, u32 region,
			const struct memtopo_region_lister *l, u32 cap, void **entries,
			u32 *total);

/* uapi_ops.c */
int memtopo_ioctl_op(struct memtopo_ucmd *ucmd);
int memtopo_ioctl_batch(struct memtopo_ucmd *ucmd);

/* events.c */
int memtopo_ioctl_subscribe(struct memtopo_ucmd *ucmd);
int memtopo_ioctl_unsubscribe(struct memtopo_ucmd *ucmd);
int memtopo_ioctl_read_events(struct memtopo_ucmd *ucmd);
int memtopo_ioctl_get_flat_diff(struct memtopo_ucmd *ucmd);
void memtopo_file_unsubscribe_all(struct memtopo_file *mf);
u64 memtopo_ctx_stat_overflows(struct memtopo_ctx *ctx);

/* registry.c */
int memtopo_ioctl_ctx_attach(struct memtopo_ucmd *ucmd);
int memtopo_ioctl_ctx_destroy(struct memtopo_ucmd *ucmd);
void memtopo_registry_exit(void);

/* mtree_print.c */
char *memtopo_mtree_format(struct memtopo_ctx *ctx, u32 flags, size_t *len);
const char *memtopo_region_type_name(const struct memtopo_region *mr);

/* backing.c */
struct memtopo_kmap;
struct memtopo_kmap *memtopo_backing_kmap_alloc(void);
int memtopo_backing_mmap(struct memtopo_ctx *ctx, struct vm_area_struct *vma,
			 struct memtopo_kmap *km);
struct address_space *memtopo_backing_mapping(void);
int memtopo_backing_init(void);
void memtopo_backing_unmapped(void);
void memtopo_backing_exit(void);

/* served.c */
int memtopo_ioctl_serve(struct memtopo_ucmd *ucmd);

/*
 * debugfs.c: anonymous contexts' directories are PREFIX<n>; named contexts
 * may not start with it, so the two never collide.
 */
#define MEMTOPO_DEBUGFS_ANON_PREFIX	"anon-"
void memtopo_debugfs_init(void);
void memtopo_debugfs_exit(void);
struct memtopo_dbg *memtopo_debugfs_add_ctx(struct memtopo_ctx *ctx, const char *name);
void memtopo_debugfs_remove(struct memtopo_dbg *d);

/* A uapi name buffer holds a NUL-terminated name: 0, or -EINVAL. */
static inline int memtopo_uname_valid(const char *name)
{
	return strnlen(name, MEMTOPO_NAME_LEN) < MEMTOPO_NAME_LEN ? 0 : -EINVAL;
}

#endif /* _MEMTOPO_MAIN_H */
