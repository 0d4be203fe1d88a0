// SPDX-License-Identifier: GPL-2.0
/*
 * /dev/memtopo ioctl dispatch, in the iommufd style: one table, every
 * argument struct size-first, copied with copy_struct_from_user() so old
 * and new userspace both work.
 */
#include <linux/fs.h>
#include <linux/uaccess.h>
#include <linux/stddef.h>

#include "memtopo_main.h"
#include <memtopo/memtopo.h>

struct memtopo_ucmd {
	struct memtopo_file *file;
	void __user *ubuffer;
	u32 user_size;
	void *cmd;
};

/* Copy the (possibly grown) struct back: only as much as the user gave. */
static int memtopo_ucmd_respond(struct memtopo_ucmd *ucmd, size_t cmd_len)
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
	return memtopo_ucmd_respond(ucmd, sizeof(*cmd));
}

union memtopo_ucmd_buffer {
	struct memtopo_info info;
};

struct memtopo_ioctl_op {
	unsigned int size;
	unsigned int min_size;
	unsigned int ioctl_num;
	int (*execute)(struct memtopo_ucmd *ucmd);
};

#define IOCTL_OP(_ioctl, _fn, _struct, _last)                                  \
	[_IOC_NR(_ioctl) - MEMTOPO_CMD_BASE] = {                               \
		.size = sizeof(_struct) +                                      \
			BUILD_BUG_ON_ZERO(sizeof(union memtopo_ucmd_buffer) <  \
					  sizeof(_struct)),                    \
		.min_size = offsetofend(_struct, _last),                       \
		.ioctl_num = _ioctl,                                           \
		.execute = _fn,                                                \
	}

static const struct memtopo_ioctl_op memtopo_ioctl_ops[] = {
	IOCTL_OP(MEMTOPO_GET_INFO, memtopo_get_info, struct memtopo_info, __reserved),
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
	if (op->ioctl_num != cmd)
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
	return op->execute(&ucmd);
}
