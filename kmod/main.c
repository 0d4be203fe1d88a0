// SPDX-License-Identifier: GPL-2.0
/*
 * memtopo: QEMU's memory API in the kernel.  Module entry points and the
 * /dev/memtopo misc device; each open gets its own anonymous context.
 */
#include <linux/file.h>
#include <linux/module.h>
#include <linux/rcupdate.h>
#include <linux/miscdevice.h>
#include <linux/slab.h>

#include "memtopo_main.h"
#include "memtopo_internal.h"
#include "selftest.h"
#include "parity.h"
#include <memtopo/memtopo.h>

/* The per-context memory budget's ceiling (kmod/ctx.c); read at every charge. */
module_param_named(ctx_mem_max, memtopo_ctx_mem_max, ulong, 0644);
MODULE_PARM_DESC(ctx_mem_max, "bytes one context may keep (regions, views, event queues, mapped pages); default 1 GiB, a context may set less");

/* How much of its view a space may keep in earlier views (kmod/history.c); read at every commit. */
module_param_named(history_share, memtopo_history_share, uint, 0644);
MODULE_PARM_DESC(history_share, "views kept for resync by difference cost at most 1/N of the published view, beyond the last two; default 128, 0 = up to 64 whatever they cost");

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
	mutex_init(&mf->lock);
	spin_lock_init(&mf->ctx_lock);
	xa_init_flags(&mf->subs, XA_FLAGS_ALLOC1);
	mf->dbg = memtopo_debugfs_add_ctx(mf->ctx, NULL);
	/* one address_space for every file: write-protection finds all mappings */
	filp->f_mapping = memtopo_backing_mapping();
	filp->private_data = mf;
	return 0;
}

static int memtopo_fops_release(struct inode *inode, struct file *filp)
{
	struct memtopo_file *mf = filp->private_data;

	/* listeners hold context references: drop them or the context leaks */
	memtopo_file_unsubscribe_all(mf);
	/* a transaction left open would block every later commit of a shared context */
	while (mf->txn_depth) {
		mf->txn_depth--;
		memtopo_transaction_commit(mf->ctx);
	}
	memtopo_debugfs_remove(mf->dbg);
	memtopo_ctx_put(mf->ctx);
	xa_destroy(&mf->subs);
	mutex_destroy(&mf->lock);
	kfree(mf);
	return 0;
}

/* Kernel-owned RAM, at the offset its region's creation reported. */
static int memtopo_fops_mmap(struct file *filp, struct vm_area_struct *vma)
{
	struct memtopo_file *mf = filp->private_data;
	struct memtopo_kmap *km;
	int ret;

	km = memtopo_backing_kmap_alloc();
	if (!km)
		return -ENOMEM;
	/*
	 * Not mf->lock: its holders fault on user memory, so it comes before
	 * the mmap lock held here.  The spinlock keeps the file's context
	 * (switched by MEMTOPO_CTX_ATTACH) alive until the mapping holds it.
	 */
	spin_lock(&mf->ctx_lock);
	ret = memtopo_backing_mmap(mf->ctx, vma, km);
	spin_unlock(&mf->ctx_lock);
	if (ret)
		kfree(km);
	return ret;
}

static const struct file_operations memtopo_fops = {
	.owner = THIS_MODULE,
	.open = memtopo_fops_open,
	.mmap = memtopo_fops_mmap,
	.release = memtopo_fops_release,
	.unlocked_ioctl = memtopo_fops_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.llseek = noop_llseek,
};

/**
 * memtopo_ctx_from_fd() - the context behind a /dev/memtopo file descriptor.
 * @fd: a descriptor of the calling process, as its userspace handed it to a
 *	kernel consumer (e.g. through the consumer's own ioctl).
 *
 * The context is the one the file works on at the time of the call (its
 * anonymous one or the named one it attached to).
 *
 * Context: process context (@fd is looked up in the caller's file table);
 * takes the file's mutex, so never under a context mutex; may sleep.
 * Return: the context with a reference (memtopo_ctx_put() it), or
 * ERR_PTR(-EBADF) for a bad descriptor, ERR_PTR(-EINVAL) for a descriptor
 * that is not /dev/memtopo.
 */
struct memtopo_ctx *memtopo_ctx_from_fd(int fd)
{
	struct memtopo_ctx *ctx;
	struct memtopo_file *mf;
	struct fd f = fdget(fd);

	if (!f.file)
		return ERR_PTR(-EBADF);
	if (f.file->f_op != &memtopo_fops) {
		fdput(f);
		return ERR_PTR(-EINVAL);
	}
	mf = f.file->private_data;
	mutex_lock(&mf->lock);
	ctx = mf->ctx;
	memtopo_ctx_get(ctx);
	mutex_unlock(&mf->lock);
	fdput(f);
	return ctx;
}
EXPORT_SYMBOL_NS_GPL(memtopo_ctx_from_fd, MEMTOPO);

static struct miscdevice memtopo_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "memtopo",
	.fops = &memtopo_fops,
	.mode = 0660,
};

static int __init memtopo_init(void)
{
	int ret;

	ret = memtopo_region_cache_init();
	if (ret)
		return ret;
	ret = memtopo_view_cache_init();
	if (ret)
		goto err_cache;
	ret = memtopo_backing_init();
	if (ret)
		goto err_view_cache;
	memtopo_fault_selftest();
	memtopo_debugfs_init();
	ret = misc_register(&memtopo_misc);
	if (ret)
		goto err_debugfs;
	return 0;

err_debugfs:
	memtopo_debugfs_exit();
	memtopo_backing_exit();
err_view_cache:
	memtopo_view_cache_exit();
err_cache:
	memtopo_region_cache_exit();
	return ret;
}

static void __exit memtopo_exit(void)
{
	/* the last mappings' puts may free contexts: before any teardown */
	memtopo_backing_unmapped();
	misc_deregister(&memtopo_misc);
	memtopo_registry_exit();
	memtopo_debugfs_exit();
	/* regions, views and spaces are freed by call_rcu(): run them before the code goes */
	rcu_barrier();
	/* spaces wait for dispatch's SRCU after their RCU grace period */
	memtopo_dispatch_barrier();
	/* the regions' RCU callbacks queued their backings' releases */
	memtopo_backing_exit();
	memtopo_view_cache_exit();
	memtopo_region_cache_exit();
}

module_init(memtopo_init);
module_exit(memtopo_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("QEMU's memory API in the kernel: region trees, flat views, listeners");
MODULE_AUTHOR("memtopo developers");
