// SPDX-License-Identifier: GPL-2.0
/*
 * ioctls of the QEMU-parity features: MEMTOPO_IOEVENTFD, MEMTOPO_COALESCED,
 * MEMTOPO_DIRTY_LOG and MEMTOPO_SPACE_RW (see uapi/linux/memtopo.h).  Each
 * is a thin shell over the kernel API in ioeventfd.c, coalesced.c, dirty.c
 * and dispatch.c; objects are found by ID in the file's context under its
 * mutex, as the rest of the ioctl layer does.
 */
#include <linux/eventfd.h>
#include <linux/pagemap.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#include "memtopo_main.h"
#include "parity.h"
#include "ioctl_parity.h"

/**
 * memtopo_ioctl_ioeventfd() - MEMTOPO_IOEVENTFD.
 * @ucmd: the call.
 *
 * Return: 0 or a negative errno (see the uapi header).
 */
int memtopo_ioctl_ioeventfd(struct memtopo_ucmd *ucmd)
{
	struct memtopo_ioeventfd *cmd = ucmd->cmd;
	struct memtopo_ctx *ctx = ucmd->file->ctx;
	bool match = cmd->flags & MEMTOPO_IOEVENTFD_DATAMATCH;
	bool deassign = cmd->flags & MEMTOPO_IOEVENTFD_DEASSIGN;
	struct eventfd_ctx *eventfd = NULL;
	struct memtopo_region *mr;
	int ret;

	if (cmd->flags & ~(MEMTOPO_IOEVENTFD_DATAMATCH | MEMTOPO_IOEVENTFD_DEASSIGN) ||
	    cmd->__reserved || (!match && cmd->data))
		return -EINVAL;
	/*
	 * -1 on DEASSIGN: whichever eventfd is registered there, for a tool
	 * that did not keep the eventfd it registered (memtopoctl)
	 */
	if (!deassign || cmd->fd != -1) {
		eventfd = eventfd_ctx_fdget(cmd->fd);
		if (IS_ERR(eventfd))
			return PTR_ERR(eventfd);
	}
	ret = memtopo_ucmd_lock_change(ucmd);
	if (ret)
		goto out_put;
	mr = memtopo_region_by_id_locked(ctx, cmd->region);
	if (!mr)
		ret = -ENOENT;
	else if (deassign)
		ret = memtopo_region_del_eventfd_locked(mr, cmd->offset, cmd->len, match,
							cmd->data, eventfd);
	else
		ret = memtopo_region_add_eventfd_locked(mr, cmd->offset, cmd->len, match,
							cmd->data, eventfd);
	memtopo_ctx_unlock(ctx);
out_put:
	/* a successful add keeps our reference; everything else drops it */
	if (eventfd && (ret || deassign))
		eventfd_ctx_put(eventfd);
	return ret;
}

/**
 * memtopo_ioctl_coalesced() - MEMTOPO_COALESCED.
 * @ucmd: the call.
 *
 * Return: 0 or a negative errno.
 */
int memtopo_ioctl_coalesced(struct memtopo_ucmd *ucmd)
{
	struct memtopo_coalesced *cmd = ucmd->cmd;
	struct memtopo_ctx *ctx = ucmd->file->ctx;
	struct memtopo_region *mr;
	int ret;

	if (cmd->flags & ~MEMTOPO_COALESCED_DEL || cmd->__reserved)
		return -EINVAL;
	ret = memtopo_ucmd_lock_change(ucmd);
	if (ret)
		return ret;
	mr = memtopo_region_by_id_locked(ctx, cmd->region);
	if (!mr)
		ret = -ENOENT;
	else if (cmd->flags & MEMTOPO_COALESCED_DEL)
		ret = memtopo_region_del_coalescing_locked(mr, cmd->offset, cmd->length);
	else
		ret = memtopo_region_add_coalescing_locked(mr, cmd->offset, cmd->length);
	memtopo_ctx_unlock(ctx);
	return ret;
}

static int memtopo_dirty_bitmap_op(struct memtopo_ctx *ctx, struct memtopo_dirty_log *cmd)
{
	u64 __user *ubits = u64_to_user_ptr(cmd->bitmap);
	size_t bytes = DIV_ROUND_UP_ULL(cmd->num_pages, 64) * sizeof(u64);
	struct memtopo_region *mr;
	u64 *bits;
	int ret;

	if (cmd->num_pages > MEMTOPO_DIRTY_MAX_PAGES_PER_CALL)
		return -E2BIG;
	/* no pages still names a region and client: they are checked */
	bits = kvmalloc(bytes, GFP_KERNEL_ACCOUNT);
	if (!bits)
		return -ENOMEM;
	if (cmd->op == MEMTOPO_DIRTY_CLEAR && copy_from_user(bits, ubits, bytes)) {
		ret = -EFAULT;
		goto out_free;
	}
	/*
	 * Write probe (it does not modify the buffer): an unwritable bitmap
	 * fails before any bit is taken.  The put-back below remains for a
	 * mapping another thread changes meanwhile.
	 */
	if (cmd->op == MEMTOPO_DIRTY_GET && fault_in_safe_writeable((char __user *)ubits, bytes)) {
		ret = -EFAULT;
		goto out_free;
	}
	memtopo_ctx_lock(ctx);
	mr = memtopo_region_by_id_locked(ctx, cmd->region);
	if (!mr) {
		ret = -ENOENT;
		goto out_unlock;
	}
	if (cmd->op == MEMTOPO_DIRTY_CLEAR) {
		ret = memtopo_region_clear_dirty_log_locked(mr, cmd->client, cmd->first_page,
							    cmd->num_pages, bits);
		goto out_unlock;
	}
	ret = memtopo_dirty_validate_locked(mr, cmd->client, cmd->first_page, cmd->num_pages);
	if (ret)
		goto out_unlock;
	memtopo_region_log_sync_locked(mr);
	memtopo_region_get_dirty_log_locked(mr, cmd->client, cmd->first_page, cmd->num_pages,
					    bits, cmd->flags & MEMTOPO_DIRTY_F_CLEAR);
	/* still under the mutex: a failed copy puts the bits back, none lost */
	if (copy_to_user(ubits, bits, bytes)) {
		if (cmd->flags & MEMTOPO_DIRTY_F_CLEAR)
			memtopo_dirty_restore_locked(mr, cmd->client, cmd->first_page,
						     cmd->num_pages, bits);
		ret = -EFAULT;
	} else if (cmd->flags & MEMTOPO_DIRTY_F_CLEAR) {
		/* delivered and cleared: listeners may re-protect the pages */
		memtopo_region_log_clear_locked(mr, cmd->first_page, cmd->num_pages);
	}
out_unlock:
	memtopo_ctx_unlock(ctx);
out_free:
	kvfree(bits);
	return ret;
}

/* The uapi reasons are the engine's, as both are QEMU's. */
static_assert(MEMTOPO_GLOBAL_DIRTY_MIGRATION == MEMTOPO_DIRTY_REASON_MIGRATION);
static_assert(MEMTOPO_GLOBAL_DIRTY_DIRTY_RATE == MEMTOPO_DIRTY_REASON_DIRTY_RATE);
static_assert(MEMTOPO_GLOBAL_DIRTY_LIMIT == MEMTOPO_DIRTY_REASON_LIMIT);

/*
 * The ops that name no region and no bitmap: every such field is 0.  START
 * and STOP change the context; the syncs join no transaction.
 */
static int memtopo_dirty_global_op(struct memtopo_ucmd *ucmd, struct memtopo_dirty_log *cmd)
{
	struct memtopo_ctx *ctx = ucmd->file->ctx;
	u32 reasons = cmd->reasons;
	int ret = 0;

	if (cmd->region || cmd->client || cmd->first_page || cmd->num_pages || cmd->bitmap)
		return -EINVAL;
	if (cmd->op != MEMTOPO_DIRTY_GLOBAL_START && cmd->op != MEMTOPO_DIRTY_GLOBAL_STOP) {
		if (reasons)
			return -EINVAL;
	} else if (!reasons) {
		/* the struct's first version had no reasons: it meant migration */
		reasons = MEMTOPO_GLOBAL_DIRTY_MIGRATION;
	}
	if (cmd->op == MEMTOPO_DIRTY_GLOBAL_START || cmd->op == MEMTOPO_DIRTY_GLOBAL_STOP) {
		ret = memtopo_ucmd_lock_change(ucmd);
		if (ret)
			return ret;
	} else {
		memtopo_ctx_lock(ctx);
	}
	switch (cmd->op) {
	case MEMTOPO_DIRTY_GLOBAL_START:
		ret = memtopo_global_dirty_log_start_locked(ctx, reasons);
		break;
	case MEMTOPO_DIRTY_GLOBAL_STOP:
		ret = memtopo_global_dirty_log_stop_locked(ctx, reasons);
		break;
	case MEMTOPO_DIRTY_GLOBAL_SYNC:
		memtopo_global_dirty_log_sync_locked(ctx);
		break;
	case MEMTOPO_DIRTY_GLOBAL_AFTER_SYNC:
		memtopo_global_after_dirty_log_sync_locked(ctx);
		break;
	}
	memtopo_ctx_unlock(ctx);
	return ret;
}

/* LOG_REF / LOG_UNREF: a region and a client, nothing else. */
static int memtopo_dirty_set_log_op(struct memtopo_ucmd *ucmd, struct memtopo_dirty_log *cmd)
{
	struct memtopo_ctx *ctx = ucmd->file->ctx;
	struct memtopo_region *mr;
	int ret;

	if (cmd->first_page || cmd->num_pages || cmd->bitmap || cmd->reasons)
		return -EINVAL;
	ret = memtopo_ucmd_lock_change(ucmd);
	if (ret)
		return ret;
	mr = memtopo_region_by_id_locked(ctx, cmd->region);
	if (!mr)
		ret = -ENOENT;
	else
		ret = memtopo_region_set_log_locked(mr, cmd->op == MEMTOPO_DIRTY_LOG_REF,
						    cmd->client);
	memtopo_ctx_unlock(ctx);
	return ret;
}

/**
 * memtopo_ioctl_dirty_log() - MEMTOPO_DIRTY_LOG.
 * @ucmd: the call.
 *
 * Return: 0 or a negative errno.
 */
int memtopo_ioctl_dirty_log(struct memtopo_ucmd *ucmd)
{
	struct memtopo_dirty_log *cmd = ucmd->cmd;
	struct memtopo_ctx *ctx = ucmd->file->ctx;

	if (cmd->__reserved || cmd->__reserved2 || cmd->op < MEMTOPO_DIRTY_GET ||
	    cmd->op > MEMTOPO_DIRTY_LOG_UNREF)
		return -EINVAL;
	if (cmd->flags & ~(cmd->op == MEMTOPO_DIRTY_GET ? MEMTOPO_DIRTY_F_CLEAR : 0))
		return -EINVAL;
	switch (cmd->op) {
	case MEMTOPO_DIRTY_GET:
	case MEMTOPO_DIRTY_CLEAR:
		if (cmd->reasons)
			return -EINVAL;
		return memtopo_dirty_bitmap_op(ctx, cmd);
	case MEMTOPO_DIRTY_LOG_REF:
	case MEMTOPO_DIRTY_LOG_UNREF:
		return memtopo_dirty_set_log_op(ucmd, cmd);
	default:
		return memtopo_dirty_global_op(ucmd, cmd);
	}
}

/*
 * A too small user array gets what fits, the total in @num and EMSGSIZE,
 * as iommufd's IOMMU_IOAS_IOVA_RANGES.
 */
static int memtopo_list_ioctl(struct memtopo_ucmd *ucmd, u32 region, u32 *num,
			      u64 uentries, size_t cmd_size,
			      const struct memtopo_region_lister *l)
{
	void *entries;
	u32 total;
	int n, ret = 0;

	n = memtopo_region_list(ucmd->file->ctx, region, l, *num, &entries, &total);
	if (n < 0)
		return n;
	/* user memory is touched without the context mutex held */
	if (n && copy_to_user(u64_to_user_ptr(uentries), entries, (size_t)n * l->entry_size))
		ret = -EFAULT;
	kvfree(entries);
	if (ret)
		return ret;
	if (total > *num)
		ret = -EMSGSIZE;
	*num = total;
	return memtopo_ucmd_respond(ucmd, cmd_size) ?: ret;
}

static int memtopo_ioeventfd_collect(struct memtopo_region *mr, void *info, u32 cap,
				     u32 *total)
{
	*total = memtopo_region_list_eventfds_locked(mr, info, cap);
	return 0;
}

static void memtopo_ioeventfd_convert(void *entry, const void *info)
{
	const struct memtopo_eventfd_info *i = info;

	*(struct memtopo_ioeventfd_entry *)entry = (struct memtopo_ioeventfd_entry){
		.flags = i->match_data ? MEMTOPO_IOEVENTFD_DATAMATCH : 0,
		.len = i->size, .offset = i->offset, .data = i->data,
	};
}

static const struct memtopo_region_lister memtopo_ioeventfd_lister = {
	.info_size = sizeof(struct memtopo_eventfd_info),
	.entry_size = sizeof(struct memtopo_ioeventfd_entry),
	.collect = memtopo_ioeventfd_collect,
	.convert = memtopo_ioeventfd_convert,
};

/**
 * memtopo_ioctl_ioeventfd_list() - MEMTOPO_IOEVENTFD_LIST.
 * @ucmd: the call.
 *
 * Return: 0 or a negative errno (see the uapi header).
 */
int memtopo_ioctl_ioeventfd_list(struct memtopo_ucmd *ucmd)
{
	struct memtopo_ioeventfd_list *cmd = ucmd->cmd;

	if (cmd->flags)
		return -EINVAL;
	return memtopo_list_ioctl(ucmd, cmd->region, &cmd->num_entries, cmd->entries,
				  sizeof(*cmd), &memtopo_ioeventfd_lister);
}

static int memtopo_coalesced_collect(struct memtopo_region *mr, void *info, u32 cap,
				     u32 *total)
{
	*total = memtopo_region_list_coalescing_locked(mr, info, cap);
	return 0;
}

static void memtopo_coalesced_convert(void *entry, const void *info)
{
	const struct memtopo_coalescing_info *i = info;

	*(struct memtopo_coalesced_entry *)entry =
		(struct memtopo_coalesced_entry){ .offset = i->offset, .length = i->size };
}

static const struct memtopo_region_lister memtopo_coalesced_lister = {
	.info_size = sizeof(struct memtopo_coalescing_info),
	.entry_size = sizeof(struct memtopo_coalesced_entry),
	.collect = memtopo_coalesced_collect,
	.convert = memtopo_coalesced_convert,
};

/**
 * memtopo_ioctl_coalesced_list() - MEMTOPO_COALESCED_LIST.
 * @ucmd: the call.
 *
 * Return: 0 or a negative errno (see the uapi header).
 */
int memtopo_ioctl_coalesced_list(struct memtopo_ucmd *ucmd)
{
	struct memtopo_coalesced_list *cmd = ucmd->cmd;

	if (cmd->flags)
		return -EINVAL;
	return memtopo_list_ioctl(ucmd, cmd->region, &cmd->num_entries, cmd->entries,
				  sizeof(*cmd), &memtopo_coalesced_lister);
}

/*
 * Who may mark: RAM a process of this context can write without the
 * kernel seeing it: any backing userspace can map or holds (a userspace
 * address, a process's memory, a file, kernel-owned RAM mmap()ed through
 * the context's fd).  Writes through MEMTOPO_SPACE_RW are marked by the
 * dispatch already.
 */
static int memtopo_dirty_mark_allowed(struct memtopo_region *mr)
{
	const struct memtopo_backing *b;

	if (!memtopo_kind_has_ram(memtopo_region_kind(mr)))
		return -EINVAL;
	b = memtopo_region_backing(mr);
	return b && (b->uaddr || b->kind != MEMTOPO_BACKING_NONE) ? 0 : -EPERM;
}

/**
 * memtopo_ioctl_dirty_mark() - MEMTOPO_DIRTY_MARK.
 * @ucmd: the call.
 *
 * Return: 0 or a negative errno.
 */
int memtopo_ioctl_dirty_mark(struct memtopo_ucmd *ucmd)
{
	struct memtopo_dirty_mark *cmd = ucmd->cmd;
	struct memtopo_ctx *ctx = ucmd->file->ctx;
	struct memtopo_region *mr;
	u64 pages, size;
	int ret;

	if (cmd->flags || cmd->__reserved || !cmd->length)
		return -EINVAL;
	if (cmd->length - 1 > U64_MAX - cmd->offset)
		return -EOVERFLOW;
	pages = ((cmd->offset + cmd->length - 1) >> MEMTOPO_DIRTY_PAGE_SHIFT) -
		(cmd->offset >> MEMTOPO_DIRTY_PAGE_SHIFT) + 1;
	if (pages > MEMTOPO_DIRTY_MAX_PAGES_PER_CALL)
		return -E2BIG;
	memtopo_ctx_lock(ctx);
	mr = memtopo_region_by_id_locked(ctx, cmd->region);
	if (!mr) {
		ret = -ENOENT;
		goto out_unlock;
	}
	ret = memtopo_dirty_mark_allowed(mr);
	if (ret)
		goto out_unlock;
	size = memtopo_region_size(mr);
	/* a 2^64 region reads as size 0: every range fits */
	if (size && (cmd->offset >= size || cmd->length > size - cmd->offset)) {
		ret = -EINVAL;
		goto out_unlock;
	}
	memtopo_mark_dirty(mr, cmd->offset, cmd->length);
out_unlock:
	memtopo_ctx_unlock(ctx);
	return ret;
}

/**
 * memtopo_ioctl_space_rw() - MEMTOPO_SPACE_RW.
 * @ucmd: the call, run without the file's mutex (see @ucmd->ctx).
 *
 * The access itself runs without the context mutex either
 * (memtopo_space_rw_by_id()): a served device's accessor may wait long for
 * its server, and other threads' accesses, the server's own work and
 * topology changes must go on meanwhile.
 *
 * Return: 0 or a negative errno.
 */
int memtopo_ioctl_space_rw(struct memtopo_ucmd *ucmd)
{
	struct memtopo_space_rw *cmd = ucmd->cmd;
	void __user *ubuf = u64_to_user_ptr(cmd->buf);
	bool write = cmd->flags & MEMTOPO_SPACE_RW_WRITE;
	void *buf;
	int ret;

	if (cmd->flags & ~MEMTOPO_SPACE_RW_WRITE || cmd->__reserved || !cmd->length ||
	    cmd->length > MEMTOPO_SPACE_RW_MAX)
		return -EINVAL;
	buf = kvzalloc(cmd->length, GFP_KERNEL_ACCOUNT);
	if (!buf)
		return -ENOMEM;
	if (write && copy_from_user(buf, ubuf, cmd->length)) {
		ret = -EFAULT;
		goto out_free;
	}
	/* device reads have effects: an answer that cannot be delivered is not read */
	if (!write && fault_in_safe_writeable(ubuf, cmd->length)) {
		ret = -EFAULT;
		goto out_free;
	}
	ret = memtopo_space_rw_by_id(ucmd->ctx, cmd->space, 0, cmd->addr, buf, cmd->length, write);
	if (!ret && !write && copy_to_user(ubuf, buf, cmd->length))
		ret = -EFAULT;
out_free:
	kvfree(buf);
	return ret;
}
