// SPDX-License-Identifier: GPL-2.0
/*
 * Named contexts: a context kept after its last file closes, so separate
 * processes (and separate memtopoctl invocations) can work on one machine
 * map.  The registry holds one context reference and one module reference
 * per name: the module cannot be unloaded while a named context exists,
 * and MEMTOPO_CTX_DESTROY is the only way to drop one.
 */
#include <linux/capability.h>
#include <linux/cred.h>
#include <linux/list.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "memtopo_main.h"
#include "memtopo_internal.h"

struct memtopo_named {
	struct list_head link;
	struct memtopo_ctx *ctx;
	struct memtopo_dbg *dbg;
	kuid_t owner;
	char name[MEMTOPO_NAME_LEN];
};

static LIST_HEAD(memtopo_named_list);
static DEFINE_MUTEX(memtopo_named_lock);

/*
 * Named contexts outlive their files and pin kernel memory with nobody's
 * file to account it to: cap how many one user may keep.
 */
static unsigned int memtopo_named_max = MEMTOPO_NAMED_PER_USER_DEFAULT;
module_param_named(named_max_per_user, memtopo_named_max, uint, 0644);
MODULE_PARM_DESC(named_max_per_user, "named contexts one user may keep (default 256)");

/* Is the caller at its limit of named contexts? */
static bool memtopo_named_quota_full(void)
{
	kuid_t uid = current_euid();
	struct memtopo_named *n;
	unsigned int nr = 0;

	lockdep_assert_held(&memtopo_named_lock);
	list_for_each_entry(n, &memtopo_named_list, link)
		if (uid_eq(n->owner, uid))
			nr++;
	return nr >= READ_ONCE(memtopo_named_max);
}

static struct memtopo_named *memtopo_named_find(const char *name)
{
	struct memtopo_named *n;

	lockdep_assert_held(&memtopo_named_lock);
	list_for_each_entry(n, &memtopo_named_list, link)
		if (!strcmp(n->name, name))
			return n;
	return NULL;
}

static bool memtopo_named_permitted(const struct memtopo_named *n)
{
	return uid_eq(current_euid(), n->owner) || capable(CAP_SYS_ADMIN);
}

static int memtopo_name_check(const char *name)
{
	if (memtopo_uname_valid(name) || !name[0])
		return -EINVAL;
	/* the name becomes a debugfs directory, beside anonymous ones */
	if (strchr(name, '/') || !strcmp(name, ".") || !strcmp(name, "..") ||
	    !strncmp(name, MEMTOPO_DEBUGFS_ANON_PREFIX, strlen(MEMTOPO_DEBUGFS_ANON_PREFIX)))
		return -EINVAL;
	return 0;
}

/* Drop a name never published (NULL: none): it holds no module reference. */
static void memtopo_named_discard(struct memtopo_named *n)
{
	if (!n)
		return;
	memtopo_ctx_put(n->ctx);
	kfree(n);
}

static void memtopo_named_free(struct memtopo_named *n)
{
	memtopo_debugfs_remove(n->dbg);
	memtopo_named_discard(n);
	module_put(THIS_MODULE);
}

/* A named context not yet in the registry, with budget @mem_max (0: none). */
static struct memtopo_named *memtopo_named_alloc(const char *name, u64 mem_max)
{
	struct memtopo_named *n;
	int ret;

	if (mem_max > SIZE_MAX)
		return ERR_PTR(-EINVAL);
	n = kzalloc(sizeof(*n), GFP_KERNEL_ACCOUNT);
	if (!n)
		return ERR_PTR(-ENOMEM);
	n->ctx = memtopo_ctx_create(name);
	if (IS_ERR(n->ctx)) {
		ret = PTR_ERR(n->ctx);
		goto err_free;
	}
	memtopo_ctx_lock(n->ctx);
	ret = memtopo_ctx_set_mem_max_locked(n->ctx, mem_max);
	memtopo_ctx_unlock(n->ctx);
	if (ret)
		goto err_put;
	strscpy(n->name, name, sizeof(n->name));
	n->owner = current_euid();
	return n;

err_put:
	memtopo_ctx_put(n->ctx);
err_free:
	kfree(n);
	return ERR_PTR(ret);
}

/* May this call attach to @n (NULL: the name is free, create it)? */
static int memtopo_attach_check(const struct memtopo_named *n, u32 flags)
{
	if (!n) {
		if (!(flags & MEMTOPO_ATTACH_CREATE))
			return -ENOENT;
		return memtopo_named_quota_full() ? -EUSERS : 0;
	}
	if (flags & MEMTOPO_ATTACH_EXCL)
		return -EEXIST;
	return memtopo_named_permitted(n) ? 0 : -EPERM;
}

/**
 * memtopo_ioctl_ctx_attach() - MEMTOPO_CTX_ATTACH.
 * @ucmd: the call.
 *
 * The answer (@created) is written before the file switches and before a
 * new name is published, so EFAULT leaves the file where it was and creates
 * nothing; and never under memtopo_named_lock, where a user page fault
 * would stall every attach and destroy.  So the name is looked up, the
 * answer given, and the name looked up again to carry it out; if a racing
 * attach or destroy changed the answer in between, the call starts over.
 *
 * Context: takes memtopo_named_lock, then (creating) the debugfs entry.
 * Return: 0; EINVAL for bad flags or name (names starting with
 * MEMTOPO_DEBUGFS_ANON_PREFIX are reserved), a @mem_max above
 * memtopo.ctx_mem_max when creating or any @mem_max (or
 * MEMTOPO_ATTACH_EXCL) without MEMTOPO_ATTACH_CREATE, EBUSY if the file has
 * subscriptions or open transactions, ENOENT without MEMTOPO_ATTACH_CREATE
 * for an unknown name, EEXIST with MEMTOPO_ATTACH_EXCL for a known one,
 * EPERM for another user's context, EUSERS when creating one more named
 * context would pass memtopo.named_max_per_user for the caller's uid,
 * ENOMEM, EFAULT.
 */
int memtopo_ioctl_ctx_attach(struct memtopo_ucmd *ucmd)
{
	struct memtopo_ctx_attach *cmd = ucmd->cmd;
	struct memtopo_file *mf = ucmd->file;
	struct memtopo_named *n, *fresh = NULL;
	struct memtopo_ctx *ctx, *old;
	u32 created_in = cmd->created;
	bool create, answered = false;
	int ret;

	if (cmd->flags & ~(MEMTOPO_ATTACH_CREATE | MEMTOPO_ATTACH_EXCL) || cmd->__reserved)
		return -EINVAL;
	/* EXCL and a budget only mean something for a create */
	if (!(cmd->flags & MEMTOPO_ATTACH_CREATE) &&
	    ((cmd->flags & MEMTOPO_ATTACH_EXCL) || cmd->mem_max))
		return -EINVAL;
	ret = memtopo_name_check(cmd->name);
	if (ret)
		return ret;
	lockdep_assert_held(&mf->lock);
	if (!xa_empty(&mf->subs) || mf->txn_depth)
		return -EBUSY;

again:
	mutex_lock(&memtopo_named_lock);
	n = memtopo_named_find(cmd->name);
	ret = memtopo_attach_check(n, cmd->flags);
	mutex_unlock(&memtopo_named_lock);
	if (ret)
		goto out;
	create = !n;
	if (create && !fresh) {
		fresh = memtopo_named_alloc(cmd->name, cmd->mem_max);
		if (IS_ERR(fresh)) {
			ret = PTR_ERR(fresh);
			fresh = NULL;
			goto out;
		}
	}
	/* @created is an output: its input is ignored */
	cmd->created = create;
	lockdep_assert_not_held(&memtopo_named_lock);
	ret = memtopo_ucmd_respond(ucmd, sizeof(*cmd));
	if (ret)
		goto out;
	answered = true;

	mutex_lock(&memtopo_named_lock);
	n = memtopo_named_find(cmd->name);
	if (!n != create || memtopo_attach_check(n, cmd->flags)) {
		mutex_unlock(&memtopo_named_lock);
		goto again;
	}
	if (create) {
		__module_get(THIS_MODULE);
		list_add_tail(&fresh->link, &memtopo_named_list);
		fresh->dbg = memtopo_debugfs_add_ctx(fresh->ctx, fresh->name);
		n = fresh;
		fresh = NULL;
	}
	ctx = n->ctx;
	memtopo_ctx_get(ctx);
	mutex_unlock(&memtopo_named_lock);
	/* made for a name that a racing attach created first */
	memtopo_named_discard(fresh);

	old = mf->ctx;
	spin_lock(&mf->ctx_lock);
	mf->ctx = ctx;
	spin_unlock(&mf->ctx_lock);
	memtopo_debugfs_remove(mf->dbg);
	mf->dbg = NULL;
	memtopo_ctx_put(old);
	return 0;

out:
	/* a failed call leaves the caller's struct as it was */
	if (answered) {
		cmd->created = created_in;
		memtopo_ucmd_respond(ucmd, sizeof(*cmd));
	}
	memtopo_named_discard(fresh);
	return ret;
}

/**
 * memtopo_ioctl_ctx_destroy() - MEMTOPO_CTX_DESTROY.
 * @ucmd: the call.
 *
 * Context: takes memtopo_named_lock; waits for the old debugfs entry's
 * readers between its two holds.
 * Return: 0; EINVAL for bad flags or name, ENOENT for an unknown name,
 * EPERM for another user's context.
 */
int memtopo_ioctl_ctx_destroy(struct memtopo_ucmd *ucmd)
{
	struct memtopo_ctx_destroy *cmd = ucmd->cmd;
	struct memtopo_named *n;
	int ret;

	if (cmd->flags)
		return -EINVAL;
	ret = memtopo_name_check(cmd->name);
	if (ret)
		return ret;
	mutex_lock(&memtopo_named_lock);
	n = memtopo_named_find(cmd->name);
	if (!n)
		ret = -ENOENT;
	else if (!memtopo_named_permitted(n))
		ret = -EPERM;
	else
		list_del(&n->link);
	mutex_unlock(&memtopo_named_lock);
	if (ret)
		return ret;
	memtopo_named_free(n);

	/*
	 * The name was free while the old directory's removal waited for its
	 * readers: a context created under it meanwhile got no directory.
	 */
	mutex_lock(&memtopo_named_lock);
	n = memtopo_named_find(cmd->name);
	if (n && !n->dbg)
		n->dbg = memtopo_debugfs_add_ctx(n->ctx, n->name);
	mutex_unlock(&memtopo_named_lock);
	return 0;
}

/**
 * memtopo_registry_exit() - module unload: nothing can be left, since
 * every named context pins the module.
 */
void memtopo_registry_exit(void)
{
	WARN_ON(!list_empty(&memtopo_named_list));
}
