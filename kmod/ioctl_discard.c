// SPDX-License-Identifier: GPL-2.0
/*
 * MEMTOPO_DISCARD (see uapi/linux/memtopo.h): a thin shell over the kernel
 * API of discard.c.  The region is found by ID in the file's context under
 * its mutex, as the rest of the ioctl layer does.
 */
#include <linux/pagemap.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "memtopo_main.h"
#include "memtopo_internal.h"
#include "ioctl_parity.h"
#include "parity.h"

/*
 * Which fields an op reads; the others must be zero, but for the out
 * fields (@granularity is one except for SET_MANAGER): the struct may be
 * reused as the last call left it.
 */
static bool memtopo_discard_args_ok(const struct memtopo_discard *cmd)
{
	bool range = cmd->op == MEMTOPO_DISCARD_POPULATE || cmd->op == MEMTOPO_DISCARD_DISCARD ||
		     cmd->op == MEMTOPO_DISCARD_GET_STATE;

	if (cmd->flags || cmd->op < MEMTOPO_DISCARD_SET_MANAGER ||
	    cmd->op > MEMTOPO_DISCARD_GET_STATE)
		return false;
	if (!range && (cmd->offset || cmd->length))
		return false;
	return cmd->op == MEMTOPO_DISCARD_GET_STATE || !cmd->bitmap;
}

/* GET_STATE under the mutex: @info is the manager's shape and fill. */
static int memtopo_discard_get_state(struct memtopo_region *mr, struct memtopo_discard *cmd,
				     struct memtopo_discard_info *info, u64 **bits,
				     size_t *bytes)
{
	u64 g, nr;
	int ret;

	ret = memtopo_region_discard_info_locked(mr, &info->granularity, &info->size,
						 &info->populated);
	if (ret)
		return ret;
	g = info->granularity;
	/* the shape alone, so a caller can size its bitmap */
	if (!cmd->offset && !cmd->length && !cmd->bitmap)
		return 0;
	if (cmd->length > U64_MAX - cmd->offset)
		return -EOVERFLOW;
	if (!cmd->length || cmd->offset % g || cmd->length % g ||
	    cmd->offset + cmd->length > info->size)
		return -EINVAL;
	nr = cmd->length / g;
	if (nr > MEMTOPO_DISCARD_MAX_BLOCKS_PER_CALL)
		return -E2BIG;
	*bytes = DIV_ROUND_UP_ULL(nr, 64) * sizeof(u64);
	*bits = kvmalloc(*bytes, GFP_KERNEL_ACCOUNT);
	if (!*bits)
		return -ENOMEM;
	return memtopo_region_discard_state_locked(mr, cmd->offset / g, nr, *bits);
}

/*
 * A change answers before it is made, under the mutex (as SERVE does):
 * what it leaves is known once it is checked, so a struct that cannot be
 * written (unmapped by another thread after the dispatcher's probe)
 * changes nothing, and a change made is always reported.  What cannot be
 * checked ahead (a populate a kernel listener vetoes, a bitmap past the
 * budget or out of memory) fails after the answer, which is then taken
 * back as CTX_ATTACH takes back its own.
 */
static int memtopo_discard_change(struct memtopo_ucmd *ucmd, struct memtopo_region *mr)
{
	struct memtopo_discard *cmd = ucmd->cmd;
	struct memtopo_discard before = *cmd;
	struct memtopo_discard_info after;
	int ret;

	/*
	 * The caller holds the context mutex from the preview to the change
	 * (each *_locked call asserts it): nothing may move in between.
	 */
	ret = memtopo_discard_preview_locked(mr, cmd->op, cmd->granularity, cmd->offset,
					     cmd->length, &after);
	if (ret)
		return ret;
	cmd->granularity = after.granularity;
	cmd->populated = after.populated;
	cmd->managed = after.size;
	ret = memtopo_ucmd_respond(ucmd, sizeof(*cmd));
	if (ret)
		return ret;
	switch (cmd->op) {
	case MEMTOPO_DISCARD_SET_MANAGER:
		ret = memtopo_region_set_discard_manager_locked(mr, before.granularity);
		break;
	case MEMTOPO_DISCARD_CLEAR_MANAGER:
		ret = memtopo_region_clear_discard_manager_locked(mr);
		break;
	case MEMTOPO_DISCARD_POPULATE:
		ret = memtopo_region_populate_locked(mr, cmd->offset, cmd->length);
		break;
	default:
		ret = memtopo_region_discard_locked(mr, cmd->offset, cmd->length);
		break;
	}
	if (ret) {
		/* best effort: the errno is the real answer */
		*cmd = before;
		memtopo_ucmd_respond(ucmd, sizeof(*cmd));
	}
	return ret;
}

/**
 * memtopo_ioctl_discard() - MEMTOPO_DISCARD.
 * @ucmd: the call.
 *
 * Return: 0 or a negative errno (see the uapi header).
 */
int memtopo_ioctl_discard(struct memtopo_ucmd *ucmd)
{
	struct memtopo_discard *cmd = ucmd->cmd;
	struct memtopo_ctx *ctx = ucmd->file->ctx;
	struct memtopo_discard_info info;
	struct memtopo_region *mr;
	size_t bytes = 0;
	u64 *bits = NULL;
	int ret;

	if (!memtopo_discard_args_ok(cmd))
		return -EINVAL;
	memtopo_ctx_lock(ctx);
	mr = memtopo_region_by_id_locked(ctx, cmd->region);
	if (!mr) {
		ret = -ENOENT;
		goto out_unlock;
	}
	if (cmd->op != MEMTOPO_DISCARD_GET_STATE) {
		ret = memtopo_discard_change(ucmd, mr);
		goto out_unlock;
	}
	ret = memtopo_discard_get_state(mr, cmd, &info, &bits, &bytes);
	if (ret)
		goto out_unlock;
	/* user memory is touched without the context mutex held */
	memtopo_ctx_unlock(ctx);
	if (bits && copy_to_user(u64_to_user_ptr(cmd->bitmap), bits, bytes)) {
		ret = -EFAULT;
		goto out_free;
	}
	cmd->granularity = info.granularity;
	cmd->populated = info.populated;
	cmd->managed = info.size;
	ret = memtopo_ucmd_respond(ucmd, sizeof(*cmd));
	goto out_free;

out_unlock:
	memtopo_ctx_unlock(ctx);
out_free:
	kvfree(bits);
	return ret;
}
