// SPDX-License-Identifier: GPL-2.0
/*
 * /dev/memtopo ioctl dispatch, in the iommufd style: one table, every
 * argument struct size-first, copied with copy_struct_from_user() so old
 * and new userspace both work.
 */
#include <linux/fs.h>
#include <linux/uaccess.h>
#include <linux/stddef.h>

#include <linux/slab.h>

#include "memtopo_main.h"
#include "events.h"
#include "ioctl_parity.h"
#include "ioctl_iommu.h"
/* only for memtopo_region_by_id_locked(), which the engine does not export */
#include "memtopo_internal.h"
#include <memtopo/memtopo.h>

/**
 * memtopo_ucmd_respond() - copy the (possibly grown) struct back, only as
 * much as the user gave.
 * @ucmd: the call.
 * @cmd_len: the kernel's size of the struct.
 *
 * Return: 0 or -EFAULT.
 */
int memtopo_ucmd_respond(struct memtopo_ucmd *ucmd, size_t cmd_len)
{
	if (copy_to_user(ucmd->ubuffer, ucmd->cmd, min_t(size_t, ucmd->user_size, cmd_len)))
		return -EFAULT;
	return 0;
}

static int memtopo_get_info(struct memtopo_ucmd *ucmd)
{
	struct memtopo_info *cmd = ucmd->cmd;

	if (cmd->flags || memchr_inv(cmd->__reserved, 0, sizeof(cmd->__reserved)))
		return -EINVAL;
	cmd->abi_version = MEMTOPO_ABI_VERSION;
	cmd->max_depth = MEMTOPO_MAX_DEPTH;
	cmd->max_alias_chain = MEMTOPO_MAX_ALIAS_CHAIN;
	cmd->max_regions = MEMTOPO_MAX_REGIONS;
	cmd->max_spaces = MEMTOPO_MAX_SPACES;
	cmd->max_name = MEMTOPO_MAX_NAME;
	cmd->max_batch = MEMTOPO_MAX_BATCH;
	cmd->max_events = MEMTOPO_MAX_EVENTS;
	return memtopo_ucmd_respond(ucmd, sizeof(*cmd));
}

/*
 * The engine has one transaction per context, shared by every file attached
 * to it: a change made by another file while one is open would join it,
 * stay unpublished, and be undone with it if its commit failed.  So only
 * the file that holds the open transaction may change the context
 * meanwhile; the engine's depth counts kernel users' transactions too.
 */
static bool memtopo_file_txn_foreign_locked(struct memtopo_file *mf)
{
	struct memtopo_ctx_state cs;

	memtopo_ctx_describe_locked(mf->ctx, &cs);
	return cs.txn_depth && !mf->txn_depth;
}

/**
 * memtopo_ucmd_lock_change() - take the context mutex to change the context.
 * @ucmd: the call, run with the file's mutex held.
 *
 * Every call that changes the context in a way a transaction holds back and
 * a failed commit undoes takes the mutex here, not with memtopo_ctx_lock():
 * the test for another file's open transaction and the change are then one
 * hold of the mutex, so no BEGIN can come between them.
 *
 * Context: process context, the file's mutex held, the context mutex not
 * held.  On success the context mutex is held; release it with
 * memtopo_ctx_unlock().
 * Return: 0, or -EBUSY (the mutex not held) while a transaction is open on
 * the file's context and the file has none of its own open.
 */
int memtopo_ucmd_lock_change(struct memtopo_ucmd *ucmd)
{
	struct memtopo_file *mf = ucmd->file;

	lockdep_assert_held(&mf->lock);
	memtopo_ctx_lock(mf->ctx);
	if (memtopo_file_txn_foreign_locked(mf)) {
		memtopo_ctx_unlock(mf->ctx);
		return -EBUSY;
	}
	return 0;
}

/*
 * The answer (the depth after the call) is written before the change: a
 * struct the kernel cannot write opens or closes nothing.  BEGIN writes it
 * under the context mutex, once no other file's transaction refuses it, so
 * a refused BEGIN writes nothing.
 */
static int memtopo_txn(struct memtopo_ucmd *ucmd)
{
	struct memtopo_txn *cmd = ucmd->cmd;
	struct memtopo_file *mf = ucmd->file;
	int ret;

	/* @depth is an output: its input is ignored */
	if (cmd->flags)
		return -EINVAL;
	switch (cmd->op) {
	case MEMTOPO_TXN_BEGIN:
		if (mf->txn_depth >= MEMTOPO_MAX_DEPTH)
			return -ENOSPC;
		ret = memtopo_ucmd_lock_change(ucmd);
		if (ret)
			return ret;
		cmd->depth = mf->txn_depth + 1;
		ret = memtopo_ucmd_respond(ucmd, sizeof(*cmd));
		if (!ret)
			memtopo_transaction_begin_locked(mf->ctx);
		memtopo_ctx_unlock(mf->ctx);
		if (ret)
			return ret;
		mf->txn_depth++;
		return 0;
	case MEMTOPO_TXN_COMMIT:
		if (!mf->txn_depth)
			return -EINVAL;
		cmd->depth = mf->txn_depth - 1;
		ret = memtopo_ucmd_respond(ucmd, sizeof(*cmd));
		if (ret)
			return ret;
		/* a failed commit was undone by the engine: the transaction is over */
		mf->txn_depth--;
		return memtopo_transaction_commit(mf->ctx);
	default:
		return -EINVAL;
	}
}

static void memtopo_fill_range(struct memtopo_range *r, const struct memtopo_section *s)
{
	memset(r, 0, sizeof(*r));
	r->start = s->start;
	r->last = s->last;
	r->offset = s->offset;
	r->region = memtopo_region_id(s->mr);
	r->flags = memtopo_section_range_flags(s);
	r->dirty_log_mask = s->dirty_log_mask;
}

/* Copy @n records of @ksize bytes to user records of @usize bytes. */
int memtopo_copy_records(u8 __user *out, const void *records, u32 n, size_t ksize,
			 u32 usize)
{
	u32 i;

	for (i = 0; i < n; i++) {
		u8 __user *p = out + (size_t)i * usize;

		if (copy_to_user(p, (const u8 *)records + i * ksize, min_t(size_t, ksize, usize)))
			return -EFAULT;
		if (usize > ksize && clear_user(p + ksize, usize - ksize))
			return -EFAULT;
	}
	return 0;
}

/**
 * memtopo_region_list() - count and collect a region's entries for a list
 *	ioctl.
 * @ctx: the file's context (its mutex is taken and released here).
 * @region: the region's ID.
 * @l: how the entries are read and converted.
 * @cap: how many entries the caller can take.
 * @entries: set to a kvmalloc()ed array of the entries returned, uapi
 *	records of @l->entry_size bytes (NULL when none); kvfree() it.
 * @total: set to how many entries the region has.
 *
 * Count then fill, as iommufd lists ranges: the region is read once under
 * the mutex, the conversion and any copy to user memory happen without it.
 * Up to @cap entries are returned; with @l->whole, none when they do not
 * all fit, so nothing is allocated for a short buffer.
 *
 * Context: process context, the context mutex not held.
 * Return: how many entries *@entries holds, or -ENOENT for no such region,
 * -ENOMEM, or @l->collect's errno.
 */
int memtopo_region_list(struct memtopo_ctx *ctx, u32 region,
			const struct memtopo_region_lister *l, u32 cap, void **entries,
			u32 *total)
{
	struct memtopo_region *mr;
	void *info = NULL, *out = NULL;
	u32 i, n = 0;
	int ret;

	*entries = NULL;
	*total = 0;
	memtopo_ctx_lock(ctx);
	mr = memtopo_region_by_id_locked(ctx, region);
	if (!mr) {
		ret = -ENOENT;
		goto out_unlock;
	}
	ret = l->collect(mr, NULL, 0, total);
	if (ret)
		goto out_unlock;
	n = l->whole && *total > cap ? 0 : min(*total, cap);
	if (!n)
		goto out_unlock;
	info = kvcalloc(n, l->info_size, GFP_KERNEL_ACCOUNT);
	out = kvcalloc(n, l->entry_size, GFP_KERNEL_ACCOUNT);
	if (!info || !out) {
		ret = -ENOMEM;
		goto out_unlock;
	}
	ret = l->collect(mr, info, n, total);
out_unlock:
	memtopo_ctx_unlock(ctx);
	if (!ret)
		for (i = 0; i < n; i++)
			l->convert((u8 *)out + (size_t)i * l->entry_size,
				   (const u8 *)info + (size_t)i * l->info_size);
	kvfree(info);
	if (ret) {
		kvfree(out);
		return ret;
	}
	*entries = out;
	return n;
}

struct memtopo_ranges_out {
	struct memtopo_range *r;
	u32 n;
};

static int memtopo_fill_ranges(const struct memtopo_section *s, void *arg)
{
	struct memtopo_ranges_out *out = arg;

	memtopo_fill_range(&out->r[out->n++], s);
	return 0;
}

static int memtopo_get_flat(struct memtopo_ucmd *ucmd)
{
	struct memtopo_get_flat *cmd = ucmd->cmd;
	struct memtopo_ctx *ctx = ucmd->file->ctx;
	struct memtopo_ranges_out out = {};
	struct memtopo_space_state st;
	struct memtopo_space *as;
	int ret = 0;

	/* @generation is an output: its input is ignored */
	if (cmd->flags || cmd->__reserved)
		return -EINVAL;
	ret = memtopo_urecord_size_check(cmd->range_size,
					 offsetofend(struct memtopo_range, dirty_log_mask));
	if (ret)
		return ret;
	memtopo_ctx_lock(ctx);
	as = memtopo_space_find_locked(ctx, cmd->space);
	if (!as) {
		ret = -ENOENT;
		goto out_unlock;
	}
	memtopo_space_describe_locked(as, &st);
	cmd->generation = st.generation;
	if (st.nr_ranges > cmd->count) {
		cmd->count = st.nr_ranges;
		ret = -ENOSPC;
		goto out_unlock;
	}
	out.r = kvcalloc(max(st.nr_ranges, 1u), sizeof(*out.r), GFP_KERNEL_ACCOUNT);
	if (!out.r) {
		ret = -ENOMEM;
		goto out_unlock;
	}
	/* the mutex holds the view that was described: no commit in between */
	rcu_read_lock();
	memtopo_space_walk_ranges(as, memtopo_fill_ranges, &out);
	rcu_read_unlock();
	WARN_ON_ONCE(out.n != st.nr_ranges);
	cmd->count = out.n;
out_unlock:
	memtopo_ctx_unlock(ctx);
	/* user memory is touched without the context mutex held */
	if (!ret)
		ret = memtopo_copy_records(u64_to_user_ptr(cmd->ranges), out.r, out.n,
					   sizeof(*out.r), cmd->range_size);
	kvfree(out.r);
	if (ret && ret != -ENOSPC)
		return ret;
	return memtopo_ucmd_respond(ucmd, sizeof(*cmd)) ?: ret;
}

/* The uapi flags are the engine's, bit for bit. */
static_assert(MEMTOPO_REGION_ENABLED == MEMTOPO_RS_ENABLED);
static_assert(MEMTOPO_REGION_READONLY == MEMTOPO_RS_READONLY);
static_assert(MEMTOPO_REGION_NONVOLATILE == MEMTOPO_RS_NONVOLATILE);
static_assert(MEMTOPO_REGION_ROMD == MEMTOPO_RS_ROMD);
static_assert(MEMTOPO_REGION_MAY_OVERLAP == MEMTOPO_RS_MAY_OVERLAP);
static_assert(MEMTOPO_REGION_SIZE_2_64 == MEMTOPO_RS_SIZE_2_64);
static_assert(MEMTOPO_REGION_KERNEL_BACKING == MEMTOPO_RS_KERNEL_BACKING);
static_assert(MEMTOPO_REGION_FILE_BACKING == MEMTOPO_RS_FILE_BACKING);
static_assert(MEMTOPO_REGION_PROCESS_BACKING == MEMTOPO_RS_PROCESS_BACKING);

struct memtopo_regions_out {
	struct memtopo_region_desc *d;
	u32 n;
};

static int memtopo_fill_region(struct memtopo_region *mr, void *arg)
{
	struct memtopo_regions_out *out = arg;
	struct memtopo_region_desc *d = &out->d[out->n++];
	struct memtopo_region_state st;

	memtopo_region_describe_locked(mr, &st);
	memset(d, 0, sizeof(*d));
	d->id = st.id;
	d->parent = st.parent;
	d->alias = st.alias;
	d->kind = st.kind;
	d->flags = st.flags;
	d->priority = st.priority;
	d->dirty_log_mask = st.dirty_log_mask;
	d->addr = st.addr;
	d->length = st.size;
	d->alias_offset = st.alias_offset;
	d->uaddr = st.uaddr;
	strscpy(d->name, st.name, sizeof(d->name));
	d->backing_id = st.backing_id;
	d->backing_offset = st.backing_offset;
	return 0;
}

static int memtopo_get_regions(struct memtopo_ucmd *ucmd)
{
	struct memtopo_get_regions *cmd = ucmd->cmd;
	struct memtopo_ctx *ctx = ucmd->file->ctx;
	struct memtopo_regions_out out = {};
	struct memtopo_ctx_state cs;
	int ret = 0;

	if (cmd->flags)
		return -EINVAL;
	ret = memtopo_urecord_size_check(cmd->desc_size,
					 offsetofend(struct memtopo_region_desc, name));
	if (ret)
		return ret;
	memtopo_ctx_lock(ctx);
	memtopo_ctx_describe_locked(ctx, &cs);
	if (cs.nr_regions > cmd->count) {
		cmd->count = cs.nr_regions;
		ret = -ENOSPC;
		goto out_unlock;
	}
	out.d = kvcalloc(max(cs.nr_regions, 1u), sizeof(*out.d), GFP_KERNEL_ACCOUNT);
	if (!out.d) {
		ret = -ENOMEM;
		goto out_unlock;
	}
	ret = memtopo_ctx_walk_regions_locked(ctx, memtopo_fill_region, &out);
	if (ret)
		goto out_unlock;
	WARN_ON_ONCE(out.n != cs.nr_regions);
	cmd->count = out.n;
out_unlock:
	memtopo_ctx_unlock(ctx);
	if (!ret)
		ret = memtopo_copy_records(u64_to_user_ptr(cmd->regions), out.d, out.n,
					   sizeof(*out.d), cmd->desc_size);
	kvfree(out.d);
	if (ret && ret != -ENOSPC)
		return ret;
	return memtopo_ucmd_respond(ucmd, sizeof(*cmd)) ?: ret;
}

struct memtopo_spaces_out {
	struct memtopo_space_desc *d;
	u32 n;
};

static int memtopo_fill_space(struct memtopo_space *as, void *arg)
{
	struct memtopo_spaces_out *out = arg;
	struct memtopo_space_desc *d = &out->d[out->n++];
	struct memtopo_space_state st;

	memtopo_space_describe_locked(as, &st);
	d->id = st.id;
	d->root = st.root;
	d->generation = st.generation;
	d->nr_ranges = st.nr_ranges;
	strscpy(d->name, st.name, sizeof(d->name));
	return 0;
}

static int memtopo_get_spaces(struct memtopo_ucmd *ucmd)
{
	struct memtopo_get_spaces *cmd = ucmd->cmd;
	struct memtopo_ctx *ctx = ucmd->file->ctx;
	struct memtopo_spaces_out out = {};
	struct memtopo_ctx_state cs;
	int ret = 0;

	if (cmd->flags)
		return -EINVAL;
	ret = memtopo_urecord_size_check(cmd->desc_size,
					 offsetofend(struct memtopo_space_desc, name));
	if (ret)
		return ret;
	memtopo_ctx_lock(ctx);
	memtopo_ctx_describe_locked(ctx, &cs);
	if (cs.nr_spaces > cmd->count) {
		cmd->count = cs.nr_spaces;
		ret = -ENOSPC;
		goto out_unlock;
	}
	out.d = kvcalloc(max(cs.nr_spaces, 1u), sizeof(*out.d), GFP_KERNEL_ACCOUNT);
	if (!out.d) {
		ret = -ENOMEM;
		goto out_unlock;
	}
	memtopo_ctx_walk_spaces_locked(ctx, memtopo_fill_space, &out);
	cmd->count = out.n;
out_unlock:
	memtopo_ctx_unlock(ctx);
	if (!ret)
		ret = memtopo_copy_records(u64_to_user_ptr(cmd->spaces), out.d, out.n,
					   sizeof(*out.d), cmd->desc_size);
	kvfree(out.d);
	if (ret && ret != -ENOSPC)
		return ret;
	return memtopo_ucmd_respond(ucmd, sizeof(*cmd)) ?: ret;
}

static int memtopo_lookup(struct memtopo_ucmd *ucmd)
{
	struct memtopo_lookup *cmd = ucmd->cmd;
	struct memtopo_ctx *ctx = ucmd->file->ctx;
	struct memtopo_section s;
	struct memtopo_space *as;
	int ret;

	/* @range and @generation are outputs: their input is ignored */
	if (cmd->flags || cmd->__reserved)
		return -EINVAL;
	/* the mutex only keeps the space alive; the lookup itself is RCU */
	memtopo_ctx_lock(ctx);
	as = memtopo_space_find_locked(ctx, cmd->space);
	if (!as) {
		memtopo_ctx_unlock(ctx);
		return -ENOENT;
	}
	rcu_read_lock();
	ret = memtopo_space_lookup(as, cmd->addr, &s);
	if (!ret)
		memtopo_fill_range(&cmd->range, &s);
	rcu_read_unlock();
	memtopo_ctx_unlock(ctx);
	if (ret)
		return ret;
	cmd->generation = s.generation;
	return memtopo_ucmd_respond(ucmd, sizeof(*cmd));
}

static int memtopo_mtree(struct memtopo_ucmd *ucmd)
{
	struct memtopo_mtree *cmd = ucmd->cmd;
	struct memtopo_ctx *ctx = ucmd->file->ctx;
	size_t len;
	char *text;
	int ret = 0;

	if (cmd->flags & ~(MEMTOPO_MTREE_FLAT | MEMTOPO_MTREE_DISABLED) || cmd->__reserved)
		return -EINVAL;
	memtopo_ctx_lock(ctx);
	text = memtopo_mtree_format(ctx, cmd->flags, &len);
	memtopo_ctx_unlock(ctx);
	if (IS_ERR(text))
		return PTR_ERR(text);
	if (len > U32_MAX) {
		ret = -E2BIG;
		goto out;
	}
	if (copy_to_user(u64_to_user_ptr(cmd->buf), text, min_t(size_t, len, cmd->len))) {
		ret = -EFAULT;
		goto out;
	}
	cmd->len = len;
	ret = memtopo_ucmd_respond(ucmd, sizeof(*cmd));
out:
	kvfree(text);
	return ret;
}

/*
 * Set (with MEMTOPO_BUDGET_SET) and read the context's budget.  The answer
 * is copied out without the context mutex, as every answer is; the struct
 * was probed writable before the call, so only a concurrent unmap makes
 * that fail, and then the old budget is put back.  Views kept for resync
 * that the new budget made give way stay dropped: they are a cache that
 * any charge may reclaim (GET_FLAT_DIFF answers ESTALE for them), not
 * state a call must restore.
 */
static int memtopo_ioctl_budget(struct memtopo_ucmd *ucmd)
{
	struct memtopo_budget *cmd = ucmd->cmd;
	struct memtopo_ctx *ctx = ucmd->file->ctx;
	bool set = cmd->flags & MEMTOPO_BUDGET_SET;
	struct memtopo_ctx_state cs;
	size_t old_max;
	int ret = 0;

	if (cmd->flags & ~MEMTOPO_BUDGET_SET)
		return -EINVAL;
	if (set && cmd->mem_max > SIZE_MAX)
		return -EINVAL;
	memtopo_ctx_lock(ctx);
	memtopo_ctx_describe_locked(ctx, &cs);
	old_max = cs.mem_max;
	if (set)
		ret = memtopo_ctx_set_mem_max_locked(ctx, cmd->mem_max);
	cmd->mem_max = memtopo_ctx_mem_budget(ctx);
	cmd->mem_used = memtopo_ctx_mem_used(ctx);
	cmd->ceiling = cs.mem_ceiling;
	memtopo_ctx_unlock(ctx);
	if (ret)
		return ret;
	ret = memtopo_ucmd_respond(ucmd, sizeof(*cmd));
	if (ret && set) {
		memtopo_ctx_lock(ctx);
		/* fails only if charges grew past it meanwhile: keep the new one */
		memtopo_ctx_set_mem_max_locked(ctx, old_max);
		memtopo_ctx_unlock(ctx);
	}
	return ret;
}

union memtopo_ucmd_buffer {
	struct memtopo_info info;
	struct memtopo_op op;
	struct memtopo_batch batch;
	struct memtopo_txn txn;
	struct memtopo_get_flat get_flat;
	struct memtopo_get_regions get_regions;
	struct memtopo_get_spaces get_spaces;
	struct memtopo_lookup lookup;
	struct memtopo_mtree mtree;
	struct memtopo_subscribe subscribe;
	struct memtopo_unsubscribe unsubscribe;
	struct memtopo_read_events read_events;
	struct memtopo_ctx_attach ctx_attach;
	struct memtopo_ctx_destroy ctx_destroy;
	struct memtopo_budget budget;
	struct memtopo_ioeventfd ioeventfd;
	struct memtopo_coalesced coalesced;
	struct memtopo_dirty_log dirty_log;
	struct memtopo_space_rw space_rw;
	struct memtopo_serve serve;
	struct memtopo_get_flat_diff get_flat_diff;
	struct memtopo_discard discard;
	struct memtopo_ioeventfd_list ioeventfd_list;
	struct memtopo_coalesced_list coalesced_list;
	struct memtopo_dirty_mark dirty_mark;
	struct memtopo_iommu_map iommu_map;
	struct memtopo_iommu_unmap iommu_unmap;
	struct memtopo_iommu_get iommu_get;
};

/*
 * @answers: the struct has out fields, so the kernel must be able to write
 * it: that is checked before the call does anything (see
 * memtopo_fops_ioctl()).
 */
struct memtopo_ioctl_op {
	unsigned int size;
	unsigned int min_size;
	bool answers;
	int (*execute)(struct memtopo_ucmd *ucmd);
	/* runs without the file's mutex, on ucmd->ctx (it may wait long) */
	bool unlocked;
};

/* "type", not "_struct": checkpatch knows a type argument has no side effects */
#define IOCTL_OP_FULL(_ioctl, _fn, type, _last, _answers)                      \
	[_IOC_NR(_ioctl) - MEMTOPO_CMD_BASE] = {                               \
		.size = sizeof(type) +                                         \
			BUILD_BUG_ON_ZERO(sizeof(union memtopo_ucmd_buffer) <  \
					  sizeof(type)),                       \
		.min_size = offsetofend(type, _last),                          \
		.answers = _answers,                                           \
		.execute = _fn,                                                \
	}
/* a struct with out fields: written back */
#define IOCTL_OP(_ioctl, _fn, type, _last) IOCTL_OP_FULL(_ioctl, _fn, type, _last, true)
/* a struct the kernel only reads (it may live in read-only memory) */
#define IOCTL_OP_IN(_ioctl, _fn, type, _last) IOCTL_OP_FULL(_ioctl, _fn, type, _last, false)

static const struct memtopo_ioctl_op memtopo_ioctl_ops[] = {
	IOCTL_OP(MEMTOPO_GET_INFO, memtopo_get_info, struct memtopo_info, __reserved),
	IOCTL_OP(MEMTOPO_OP, memtopo_ioctl_op, struct memtopo_op, name),
	IOCTL_OP(MEMTOPO_BATCH, memtopo_ioctl_batch, struct memtopo_batch, __reserved),
	IOCTL_OP(MEMTOPO_TXN, memtopo_txn, struct memtopo_txn, depth),
	IOCTL_OP(MEMTOPO_GET_FLAT, memtopo_get_flat, struct memtopo_get_flat, generation),
	IOCTL_OP(MEMTOPO_GET_REGIONS, memtopo_get_regions, struct memtopo_get_regions, regions),
	IOCTL_OP(MEMTOPO_GET_SPACES, memtopo_get_spaces, struct memtopo_get_spaces, spaces),
	IOCTL_OP(MEMTOPO_LOOKUP, memtopo_lookup, struct memtopo_lookup, generation),
	IOCTL_OP(MEMTOPO_MTREE, memtopo_mtree, struct memtopo_mtree, buf),
	IOCTL_OP(MEMTOPO_SUBSCRIBE, memtopo_ioctl_subscribe, struct memtopo_subscribe, id),
	IOCTL_OP_IN(MEMTOPO_UNSUBSCRIBE, memtopo_ioctl_unsubscribe, struct memtopo_unsubscribe,
		    __reserved),
	IOCTL_OP(MEMTOPO_READ_EVENTS, memtopo_ioctl_read_events, struct memtopo_read_events,
		 pending),
	IOCTL_OP(MEMTOPO_CTX_ATTACH, memtopo_ioctl_ctx_attach, struct memtopo_ctx_attach, name),
	IOCTL_OP_IN(MEMTOPO_CTX_DESTROY, memtopo_ioctl_ctx_destroy, struct memtopo_ctx_destroy,
		    name),
	IOCTL_OP(MEMTOPO_BUDGET, memtopo_ioctl_budget, struct memtopo_budget, ceiling),
	IOCTL_OP_IN(MEMTOPO_IOEVENTFD, memtopo_ioctl_ioeventfd, struct memtopo_ioeventfd, data),
	IOCTL_OP_IN(MEMTOPO_COALESCED, memtopo_ioctl_coalesced, struct memtopo_coalesced, length),
	IOCTL_OP_IN(MEMTOPO_DIRTY_LOG, memtopo_ioctl_dirty_log, struct memtopo_dirty_log, bitmap),
	[_IOC_NR(MEMTOPO_SPACE_RW) - MEMTOPO_CMD_BASE] = {
		.size = sizeof(struct memtopo_space_rw),
		.min_size = offsetofend(struct memtopo_space_rw, buf),
		.answers = false,
		.execute = memtopo_ioctl_space_rw,
		.unlocked = true,
	},
	IOCTL_OP(MEMTOPO_SERVE, memtopo_ioctl_serve, struct memtopo_serve, __reserved),
	IOCTL_OP(MEMTOPO_GET_FLAT_DIFF, memtopo_ioctl_get_flat_diff, struct memtopo_get_flat_diff,
		 __reserved),
	IOCTL_OP(MEMTOPO_DISCARD, memtopo_ioctl_discard, struct memtopo_discard, managed),
	IOCTL_OP(MEMTOPO_IOEVENTFD_LIST, memtopo_ioctl_ioeventfd_list,
		 struct memtopo_ioeventfd_list, entries),
	IOCTL_OP(MEMTOPO_COALESCED_LIST, memtopo_ioctl_coalesced_list,
		 struct memtopo_coalesced_list, entries),
	IOCTL_OP_IN(MEMTOPO_DIRTY_MARK, memtopo_ioctl_dirty_mark, struct memtopo_dirty_mark,
		    length),
	IOCTL_OP_IN(MEMTOPO_IOMMU_MAP, memtopo_ioctl_iommu_map, struct memtopo_iommu_map, addr),
	IOCTL_OP_IN(MEMTOPO_IOMMU_UNMAP, memtopo_ioctl_iommu_unmap, struct memtopo_iommu_unmap,
		    length),
	IOCTL_OP(MEMTOPO_IOMMU_GET, memtopo_ioctl_iommu_get, struct memtopo_iommu_get, __reserved),
};

long memtopo_fops_ioctl(struct file *filp, unsigned int cmd, unsigned long arg)
{
	const struct memtopo_ioctl_op *op;
	union memtopo_ucmd_buffer buf;
	struct memtopo_ucmd ucmd = {};
	unsigned int nr = _IOC_NR(cmd);
	int ret;

	if (_IOC_TYPE(cmd) != MEMTOPO_TYPE || nr < MEMTOPO_CMD_BASE ||
	    nr - MEMTOPO_CMD_BASE >= ARRAY_SIZE(memtopo_ioctl_ops))
		return -ENOTTY;
	op = &memtopo_ioctl_ops[nr - MEMTOPO_CMD_BASE];
	/* every command is _IO(): size and direction bits set are not ours */
	if (!op->execute || cmd != _IO(MEMTOPO_TYPE, nr))
		return -ENOTTY;

	ucmd.file = filp->private_data;
	ucmd.ubuffer = (void __user *)arg;
	ret = get_user(ucmd.user_size, (u32 __user *)ucmd.ubuffer);
	if (ret)
		return ret;
	if (ucmd.user_size < op->min_size)
		return -EINVAL;

	ucmd.cmd = &buf;
	ret = copy_struct_from_user(ucmd.cmd, op->size, ucmd.ubuffer, ucmd.user_size);
	if (ret)
		return ret;
	/*
	 * Write probe: a struct the answer cannot be written to fails here,
	 * before anything changed.  It writes back the bytes just read, so a
	 * caller sees no difference; a struct longer than ours had a zero tail
	 * and keeps it.  Commands that change state still order their own
	 * copy-out (or undo) for a mapping changed by another thread meanwhile.
	 */
	if (op->answers &&
	    copy_to_user(ucmd.ubuffer, ucmd.cmd, min_t(size_t, ucmd.user_size, op->size)))
		return -EFAULT;
	/* the file's context can be switched by MEMTOPO_CTX_ATTACH */
	mutex_lock(&ucmd.file->lock);
	if (op->unlocked) {
		ucmd.ctx = ucmd.file->ctx;
		memtopo_ctx_get(ucmd.ctx);
		mutex_unlock(&ucmd.file->lock);
		ret = op->execute(&ucmd);
		memtopo_ctx_put(ucmd.ctx);
		return ret;
	}
	ret = op->execute(&ucmd);
	mutex_unlock(&ucmd.file->lock);
	return ret;
}
