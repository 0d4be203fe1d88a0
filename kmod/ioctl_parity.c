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
	struct eventfd_ctx *eventfd;
	struct memtopo_region *mr;
	int ret;

	if (cmd->flags & ~(MEMTOPO_IOEVENTFD_DATAMATCH | MEMTOPO_IOEVENTFD_DEASSIGN) ||
	    cmd->__reserved || (!match && cmd->data))
		return -EINVAL;
	eventfd = eventfd_ctx_fdget(cmd->fd);
	if (IS_ERR(eventfd))
		return PTR_ERR(eventfd);
	memtopo_ctx_lock(ctx);
	mr = memtopo_region_by_id_locked(ctx, cmd->region);
	if (!mr)
		ret = -ENOENT;
	else if (cmd->flags & MEMTOPO_IOEVENTFD_DEASSIGN)
		ret = memtopo_region_del_eventfd_locked(mr, cmd->offset, cmd->len, match,
							cmd->data, eventfd);
	else
		ret = memtopo_region_add_eventfd_locked(mr, cmd->offset, cmd->len, match,
							cmd->data, eventfd);
	memtopo_ctx_unlock(ctx);
	/* a successful add keeps our reference; everything else drops it */
	if (ret || (cmd->flags & MEMTOPO_IOEVENTFD_DEASSIGN))
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
	memtopo_ctx_lock(ctx);
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
	}
out_unlock:
	memtopo_ctx_unlock(ctx);
out_free:
	kvfree(bits);
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
	bool global = cmd->op == MEMTOPO_DIRTY_GLOBAL_START || cmd->op == MEMTOPO_DIRTY_GLOBAL_STOP;
	int ret;

	if (cmd->__reserved || cmd->op < MEMTOPO_DIRTY_GET || cmd->op > MEMTOPO_DIRTY_GLOBAL_STOP)
		return -EINVAL;
	if (cmd->flags & ~(cmd->op == MEMTOPO_DIRTY_GET ? MEMTOPO_DIRTY_F_CLEAR : 0))
		return -EINVAL;
	if (!global)
		return memtopo_dirty_bitmap_op(ctx, cmd);
	if (cmd->region || cmd->client || cmd->first_page || cmd->num_pages || cmd->bitmap)
		return -EINVAL;
	memtopo_ctx_lock(ctx);
	if (cmd->op == MEMTOPO_DIRTY_GLOBAL_START)
		ret = memtopo_dirty_log_global_start_locked(ctx);
	else
		ret = memtopo_dirty_log_global_stop_locked(ctx);
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
	ret = memtopo_space_rw_by_id(ucmd->ctx, cmd->space, cmd->addr, buf, cmd->length, write);
	if (!ret && !write && copy_to_user(ubuf, buf, cmd->length))
		ret = -EFAULT;
out_free:
	kvfree(buf);
	return ret;
}
