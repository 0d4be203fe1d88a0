// SPDX-License-Identifier: GPL-2.0
/*
 * memtopo: QEMU's memory API in the kernel.  Module entry points and the
 * /dev/memtopo misc device; each open gets its own anonymous context.
 */
#include <linux/module.h>
#include <linux/miscdevice.h>
#include <linux/slab.h>

#include "memtopo_main.h"
#include <memtopo/memtopo.h>

static int memtopo_fops_open(struct inode *inode, struct file *filp)
{
	struct memtopo_file *mf;

	mf = kzalloc(sizeof(*mf), GFP_KERNEL_ACCOUNT);
	if (!mf)
		return -ENOMEM;
	mf->ctx = memtopo_ctx_create(NULL);
	if (IS_ERR(mf->ctx)) {
		int ret = PTR_ERR(mf->ctx);

		kfree(mf);
		return ret;
	}
	filp->private_data = mf;
	return 0;
}

static int memtopo_fops_release(struct inode *inode, struct file *filp)
{
	struct memtopo_file *mf = filp->private_data;

	memtopo_ctx_put(mf->ctx);
	kfree(mf);
	return 0;
}

static const struct file_operations memtopo_fops = {
	.owner = THIS_MODULE,
	.open = memtopo_fops_open,
	.release = memtopo_fops_release,
	.unlocked_ioctl = memtopo_fops_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.llseek = noop_llseek,
};

static struct miscdevice memtopo_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "memtopo",
	.fops = &memtopo_fops,
	.mode = 0660,
};

static int __init memtopo_init(void)
{
	return misc_register(&memtopo_misc);
}

static void __exit memtopo_exit(void)
{
	misc_deregister(&memtopo_misc);
}

module_init(memtopo_init);
module_exit(memtopo_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("QEMU's memory API in the kernel: region trees, flat views, listeners");
MODULE_AUTHOR("memtopo developers");
