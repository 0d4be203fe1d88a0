// SPDX-License-Identifier: GPL-2.0
/*
 * MEMTOPO_OP and MEMTOPO_BATCH: operations from userspace applied under one
 * hold of the context mutex, inside one transaction, all or nothing.
 *
 * Each applied operation leaves an undo record.  On the first error the
 * records are replayed backwards, so the tree is exactly as before
 * (including the render order of equal priorities, through
 * memtopo_region_restore_position_locked()), and the closing commit then
 * finds every view unchanged: listeners see nothing.  Destroys cannot be
 * undone (IDs would change), so they are only validated while the batch
 * runs and carried out once everything else has succeeded.
 */
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/xarray.h>

#include "memtopo_main.h"
#include "memtopo_internal.h"
#include "parity.h"

struct memtopo_undo {
	u32 op;
	void *obj;			/* region or space operated on */
	struct memtopo_region *parent;	/* DEL_SUBREGION: old parent */
	u64 addr;
	u64 size;
	u64 seq;
	u64 alias_offset;
	s32 priority;
	u16 flags;
	u8 dirty_log_mask;
};

struct memtopo_batch_state {
	struct memtopo_ctx *ctx;
	struct memtopo_undo *undo;
	u32 nr;
	/* IDs destroyed by this batch: later operations must not see them */
	struct xarray dead_regions;
	struct xarray dead_spaces;
	/* users (aliases, spaces) that the pending destroys will release */
	struct xarray released;
};

static struct memtopo_region *memtopo_batch_region(struct memtopo_batch_state *b, u32 id)
{
	struct memtopo_region *mr;

	if (id & MEMTOPO_ID_BATCH_REF) {
		u32 i = id & ~MEMTOPO_ID_BATCH_REF;

		if (i >= b->nr || b->undo[i].op != MEMTOPO_OP_REGION_CREATE)
			return NULL;
		mr = b->undo[i].obj;
	} else {
		mr = memtopo_region_find_locked(b->ctx, id);
	}
	if (!mr || xa_load(&b->dead_regions, mr->id))
		return NULL;
	return mr;
}

static struct memtopo_space *memtopo_batch_space(struct memtopo_batch_state *b, u32 id)
{
	struct memtopo_space *as;

	if (id & MEMTOPO_ID_BATCH_REF) {
		u32 i = id & ~MEMTOPO_ID_BATCH_REF;

		if (i >= b->nr || b->undo[i].op != MEMTOPO_OP_SPACE_CREATE)
			return NULL;
		as = b->undo[i].obj;
	} else {
		as = memtopo_space_find_locked(b->ctx, id);
	}
	if (!as || xa_load(&b->dead_spaces, as->id))
		return NULL;
	return as;
}

static unsigned long memtopo_released(struct memtopo_batch_state *b, struct memtopo_region *mr)
{
	return xa_to_value(xa_load(&b->released, mr->id) ?: xa_mk_value(0));
}

static int memtopo_release_one(struct memtopo_batch_state *b, struct memtopo_region *mr)
{
	return xa_err(xa_store(&b->released, mr->id,
			       xa_mk_value(memtopo_released(b, mr) + 1), GFP_KERNEL));
}

/* Would memtopo_region_destroy_locked() succeed once the batch's pending destroys ran? */
static int memtopo_batch_check_destroy(struct memtopo_batch_state *b, struct memtopo_region *mr)
{
	if (mr->parent || !RB_EMPTY_ROOT(&mr->children))
		return -EBUSY;
	if (mr->alias_users + mr->space_users > memtopo_released(b, mr))
		return -EBUSY;
	return 0;
}

static enum memtopo_kind memtopo_kind_from_uapi(u32 kind)
{
	/* the uapi enum mirrors the kernel one; checked at build time */
	BUILD_BUG_ON(MEMTOPO_KIND_ALIAS != (int)MEMTOPO_ALIAS);
	BUILD_BUG_ON(MEMTOPO_KIND_RAM_DEVICE != (int)MEMTOPO_RAM_DEVICE);
	BUILD_BUG_ON(MEMTOPO_NAME_LEN != MEMTOPO_MAX_NAME);
	return kind;
}

/*
 * MEMTOPO_OP_F_KERNEL_BACKING: allocate the RAM (zeroed, or the user's
 * initial contents) before the region exists; the caller owns the memory
 * until memtopo_region_own_backing_locked() succeeds.
 */
static void *memtopo_kbacking_alloc(const struct memtopo_op *op)
{
	void *buf;

	if (op->kind != MEMTOPO_KIND_RAM && op->kind != MEMTOPO_KIND_ROM &&
	    op->kind != MEMTOPO_KIND_ROM_DEVICE)
		return ERR_PTR(-EINVAL);
	if (op->flags & MEMTOPO_OP_F_SIZE_2_64 || op->length > MEMTOPO_KERNEL_BACKING_MAX)
		return ERR_PTR(-E2BIG);
	if (!op->length)
		return ERR_PTR(-EINVAL);
	buf = kvzalloc(op->length, GFP_KERNEL_ACCOUNT);
	if (!buf)
		return ERR_PTR(-ENOMEM);
	if (op->value && copy_from_user(buf, u64_to_user_ptr(op->value), op->length)) {
		kvfree(buf);
		return ERR_PTR(-EFAULT);
	}
	return buf;
}

static int memtopo_op_create(struct memtopo_batch_state *b, struct memtopo_op *op,
			     struct memtopo_undo *u)
{
	bool kbacked = op->flags & MEMTOPO_OP_F_KERNEL_BACKING;
	struct memtopo_region_info info = {};
	struct memtopo_region *mr;
	void *kbuf = NULL;
	int ret;

	if (op->flags & ~(MEMTOPO_OP_F_SIZE_2_64 | MEMTOPO_OP_F_KERNEL_BACKING) ||
	    op->priority || memtopo_uname_valid(op->name))
		return -EINVAL;
	if (op->kind > MEMTOPO_KIND_ALIAS)
		return -EINVAL;
	info.kind = memtopo_kind_from_uapi(op->kind);
	info.name = op->name;
	info.size = op->length;
	info.size_is_2_64 = op->flags & MEMTOPO_OP_F_SIZE_2_64;
	if (info.size_is_2_64 && op->length)
		return -EINVAL;
	if (info.kind == MEMTOPO_ALIAS) {
		info.alias_target = memtopo_batch_region(b, op->ref);
		if (!info.alias_target)
			return -ENOENT;
		info.alias_offset = op->addr;
	} else if (op->ref || op->addr) {
		return -EINVAL;
	}
	if (kbacked) {
		kbuf = memtopo_kbacking_alloc(op);
		if (IS_ERR(kbuf))
			return PTR_ERR(kbuf);
		info.backing.kaddr = kbuf;
	} else {
		if (op->value && info.kind != MEMTOPO_RAM && info.kind != MEMTOPO_ROM &&
		    info.kind != MEMTOPO_RAM_DEVICE)
			return -EINVAL;
		info.backing.uaddr = op->value;
	}
	mr = memtopo_region_create_locked(b->ctx, &info);
	if (IS_ERR(mr)) {
		kvfree(kbuf);
		return PTR_ERR(mr);
	}
	if (kbacked) {
		ret = memtopo_region_own_backing_locked(mr, kbuf, op->length);
		if (ret) {
			/* never mapped: nothing can have seen the memory */
			WARN_ON(memtopo_region_destroy_locked(mr));
			kvfree(kbuf);
			return ret;
		}
	}
	u->obj = mr;
	op->id = mr->id;
	return 0;
}

static int memtopo_op_space_create(struct memtopo_batch_state *b, struct memtopo_op *op,
				   struct memtopo_undo *u)
{
	struct memtopo_region *root;
	struct memtopo_space *as;

	if (op->flags || op->kind || op->priority || op->addr || op->length || op->value ||
	    memtopo_uname_valid(op->name))
		return -EINVAL;
	root = memtopo_batch_region(b, op->ref);
	if (!root)
		return -ENOENT;
	as = memtopo_space_create_locked(b->ctx, op->name, root);
	if (IS_ERR(as))
		return PTR_ERR(as);
	u->obj = as;
	op->id = as->id;
	return 0;
}

/* A SET_* flag value is 0 or 1; anything else is a typo we refuse. */
static int memtopo_op_bool(const struct memtopo_op *op)
{
	if (op->value > 1 || op->flags || op->ref || op->addr || op->length || op->priority)
		return -EINVAL;
	return 0;
}

static int memtopo_op_apply(struct memtopo_batch_state *b, struct memtopo_op *op,
			    struct memtopo_undo *u)
{
	struct memtopo_region *mr, *parent;
	struct memtopo_space *as;
	int ret;

	if (op->__reserved)
		return -EINVAL;
	if (op->op != MEMTOPO_OP_REGION_CREATE && op->op != MEMTOPO_OP_SPACE_CREATE &&
	    memchr_inv(op->name, 0, sizeof(op->name)))
		return -EINVAL;
	if (op->op != MEMTOPO_OP_REGION_CREATE && op->op != MEMTOPO_OP_SET_DIRTY_LOG && op->kind)
		return -EINVAL;

	u->op = op->op;
	switch (op->op) {
	case MEMTOPO_OP_REGION_CREATE:
		/* @id is an output: whatever it holds (a retried batch) is ignored */
		return memtopo_op_create(b, op, u);
	case MEMTOPO_OP_SPACE_CREATE:
		return memtopo_op_space_create(b, op, u);
	case MEMTOPO_OP_SPACE_DESTROY:
		if (op->flags || op->ref || op->addr || op->length || op->value || op->priority)
			return -EINVAL;
		as = memtopo_batch_space(b, op->id);
		if (!as)
			return -ENOENT;
		if (!list_empty(&as->listeners))
			return -EBUSY;
		ret = memtopo_release_one(b, as->root);
		if (ret)
			return ret;
		u->obj = as;
		return xa_err(xa_store(&b->dead_spaces, as->id, as, GFP_KERNEL));
	default:
		break;
	}

	mr = memtopo_batch_region(b, op->id);
	if (!mr)
		return -ENOENT;
	u->obj = mr;
	u->addr = mr->addr;
	u->size = mr->size;
	u->seq = mr->seq;
	u->priority = mr->priority;
	u->flags = mr->flags;
	u->alias_offset = mr->alias_offset;
	u->dirty_log_mask = mr->dirty_log_mask;

	switch (op->op) {
	case MEMTOPO_OP_REGION_DESTROY:
		if (op->flags || op->ref || op->addr || op->length || op->value || op->priority)
			return -EINVAL;
		ret = memtopo_batch_check_destroy(b, mr);
		if (ret)
			return ret;
		if (mr->alias) {
			ret = memtopo_release_one(b, mr->alias);
			if (ret)
				return ret;
		}
		return xa_err(xa_store(&b->dead_regions, mr->id, mr, GFP_KERNEL));
	case MEMTOPO_OP_ADD_SUBREGION:
		if (op->flags & ~MEMTOPO_OP_F_MAY_OVERLAP || op->length || op->value)
			return -EINVAL;
		parent = memtopo_batch_region(b, op->ref);
		if (!parent)
			return -ENOENT;
		return memtopo_region_add_subregion_locked(parent, op->addr, mr, op->priority,
							   op->flags & MEMTOPO_OP_F_MAY_OVERLAP);
	case MEMTOPO_OP_DEL_SUBREGION:
		if (op->flags || op->addr || op->length || op->value || op->priority)
			return -EINVAL;
		if (op->ref) {
			parent = memtopo_batch_region(b, op->ref);
			if (!parent)
				return -ENOENT;
		} else {
			parent = mr->parent;
			if (!parent)
				return -ENOENT;
		}
		u->parent = parent;
		return memtopo_region_del_subregion_locked(parent, mr);
	case MEMTOPO_OP_SET_ADDRESS:
		if (op->flags || op->ref || op->length || op->value || op->priority)
			return -EINVAL;
		return memtopo_region_set_address_locked(mr, op->addr);
	case MEMTOPO_OP_SET_SIZE:
		if (op->flags & ~MEMTOPO_OP_F_SIZE_2_64 || op->ref || op->addr || op->value ||
		    op->priority || ((op->flags & MEMTOPO_OP_F_SIZE_2_64) && op->length))
			return -EINVAL;
		/* kernel-owned RAM cannot grow past what was allocated */
		if (memtopo_kbacking_size_locked(mr) &&
		    (op->flags & MEMTOPO_OP_F_SIZE_2_64 ||
		     op->length > memtopo_kbacking_size_locked(mr)))
			return -EINVAL;
		return memtopo_region_set_size_locked(mr, op->length,
						      op->flags & MEMTOPO_OP_F_SIZE_2_64);
	case MEMTOPO_OP_SET_PRIORITY:
		if (op->flags || op->ref || op->addr || op->length || op->value)
			return -EINVAL;
		return memtopo_region_set_priority_locked(mr, op->priority);
	case MEMTOPO_OP_SET_ALIAS_OFFSET:
		if (op->flags || op->ref || op->length || op->value || op->priority)
			return -EINVAL;
		return memtopo_region_set_alias_offset_locked(mr, op->addr);
	case MEMTOPO_OP_SET_ENABLED:
		return memtopo_op_bool(op) ?: memtopo_region_set_enabled_locked(mr, op->value);
	case MEMTOPO_OP_SET_READONLY:
		return memtopo_op_bool(op) ?: memtopo_region_set_readonly_locked(mr, op->value);
	case MEMTOPO_OP_SET_NONVOLATILE:
		return memtopo_op_bool(op) ?: memtopo_region_set_nonvolatile_locked(mr, op->value);
	case MEMTOPO_OP_SET_ROMD:
		return memtopo_op_bool(op) ?: memtopo_region_set_romd_locked(mr, op->value);
	case MEMTOPO_OP_SET_DIRTY_LOG:
		return memtopo_op_bool(op) ?:
		       memtopo_region_set_dirty_log_locked(mr, op->kind, op->value);
	default:
		return -EINVAL;
	}
}

/* Undo one applied operation; none of these can fail on a valid record. */
static void memtopo_op_undo(struct memtopo_batch_state *b, struct memtopo_undo *u)
{
	struct memtopo_region *mr = u->obj;
	unsigned int c;

	switch (u->op) {
	case MEMTOPO_OP_REGION_CREATE:
		WARN_ON(memtopo_region_destroy_locked(mr));
		break;
	case MEMTOPO_OP_SPACE_CREATE:
		WARN_ON(memtopo_space_destroy_locked(u->obj));
		break;
	case MEMTOPO_OP_REGION_DESTROY:
	case MEMTOPO_OP_SPACE_DESTROY:
		/* never carried out: the batch failed before the end */
		break;
	case MEMTOPO_OP_ADD_SUBREGION:
		WARN_ON(memtopo_region_del_subregion_locked(mr->parent, mr));
		mr->flags = (mr->flags & ~MEMTOPO_RF_MAY_OVERLAP) |
			    (u->flags & MEMTOPO_RF_MAY_OVERLAP);
		mr->addr = u->addr;
		mr->priority = u->priority;
		mr->seq = u->seq;
		break;
	case MEMTOPO_OP_DEL_SUBREGION:
		WARN_ON(memtopo_region_add_subregion_locked(u->parent, u->addr, mr, u->priority,
							    u->flags & MEMTOPO_RF_MAY_OVERLAP));
		memtopo_region_restore_position_locked(mr, u->addr, u->priority, u->seq);
		break;
	case MEMTOPO_OP_SET_ADDRESS:
	case MEMTOPO_OP_SET_PRIORITY:
		memtopo_region_restore_position_locked(mr, u->addr, u->priority, u->seq);
		break;
	case MEMTOPO_OP_SET_SIZE:
		WARN_ON(memtopo_region_set_size_locked(mr, u->size, u->flags & MEMTOPO_RF_SIZE64));
		break;
	case MEMTOPO_OP_SET_ALIAS_OFFSET:
		WARN_ON(memtopo_region_set_alias_offset_locked(mr, u->alias_offset));
		break;
	case MEMTOPO_OP_SET_ENABLED:
		memtopo_region_set_enabled_locked(mr, u->flags & MEMTOPO_RF_ENABLED);
		break;
	case MEMTOPO_OP_SET_READONLY:
		memtopo_region_set_readonly_locked(mr, u->flags & MEMTOPO_RF_READONLY);
		break;
	case MEMTOPO_OP_SET_NONVOLATILE:
		memtopo_region_set_nonvolatile_locked(mr, u->flags & MEMTOPO_RF_NONVOLATILE);
		break;
	case MEMTOPO_OP_SET_ROMD:
		memtopo_region_set_romd_locked(mr, u->flags & MEMTOPO_RF_ROMD);
		break;
	case MEMTOPO_OP_SET_DIRTY_LOG:
		for (c = 0; c < MEMTOPO_DIRTY_CLIENTS; c++)
			memtopo_region_set_dirty_log_locked(mr, c, u->dirty_log_mask & BIT(c));
		break;
	}
}

/* Carry out the validated destroys: spaces first, then aliases before targets. */
static void memtopo_batch_finish_destroys(struct memtopo_batch_state *b)
{
	struct memtopo_region *mr;
	struct memtopo_space *as;
	unsigned long id;
	bool progress;

	xa_for_each(&b->dead_spaces, id, as)
		WARN_ON(memtopo_space_destroy_locked(as));
	do {
		progress = false;
		xa_for_each(&b->dead_regions, id, mr) {
			if (mr->alias_users || mr->space_users)
				continue;
			WARN_ON(memtopo_region_destroy_locked(mr));
			xa_erase(&b->dead_regions, id);
			progress = true;
		}
	} while (progress);
	WARN_ON(!xa_empty(&b->dead_regions));
}

typedef int (*memtopo_op_fetch_t)(void *arg, u32 i, struct memtopo_op *op);
typedef int (*memtopo_op_store_t)(void *arg, u32 i, const struct memtopo_op *op);

/*
 * Run @count operations as one transaction.  @fetch reads operation i,
 * @store writes back the created ID.  Returns 0 or the errno of the
 * operation at *@error_index.
 */
static int memtopo_run_ops(struct memtopo_ctx *ctx, u32 count, memtopo_op_fetch_t fetch,
			   memtopo_op_store_t store, void *arg, u32 *error_index)
{
	struct memtopo_batch_state b = { .ctx = ctx };
	struct memtopo_op op;
	int ret = 0;
	u32 i;

	b.undo = kvcalloc(count ? count : 1, sizeof(*b.undo), GFP_KERNEL_ACCOUNT);
	if (!b.undo)
		return -ENOMEM;
	xa_init(&b.dead_regions);
	xa_init(&b.dead_spaces);
	xa_init(&b.released);

	memtopo_ctx_lock(ctx);
	memtopo_transaction_begin_locked(ctx);
	for (i = 0; i < count; i++) {
		ret = fetch(arg, i, &op);
		if (!ret) {
			ret = memtopo_op_apply(&b, &op, &b.undo[i]);
			if (!ret && (op.op == MEMTOPO_OP_REGION_CREATE ||
				     op.op == MEMTOPO_OP_SPACE_CREATE)) {
				/* counted before the write so undo sees the object */
				b.nr = i + 1;
				ret = store(arg, i, &op);
			}
		}
		if (ret) {
			/* a create that succeeded but could not report its ID */
			if (b.nr == i + 1)
				memtopo_op_undo(&b, &b.undo[i]);
			b.nr = i;
			break;
		}
		b.nr = i + 1;
	}
	if (ret) {
		*error_index = i;
		while (b.nr--)
			if (b.undo[b.nr].op)
				memtopo_op_undo(&b, &b.undo[b.nr]);
		/* the views render unchanged: nobody is notified */
		WARN_ON_ONCE(memtopo_transaction_commit_locked(ctx));
		goto out;
	}
	ret = memtopo_transaction_commit_locked(ctx);
	if (ret) {
		/* could not render (memory, or too many pieces): roll back */
		*error_index = count;
		memtopo_transaction_begin_locked(ctx);
		while (b.nr--)
			memtopo_op_undo(&b, &b.undo[b.nr]);
		WARN_ON_ONCE(memtopo_transaction_commit_locked(ctx));
		goto out;
	}
	memtopo_batch_finish_destroys(&b);
out:
	memtopo_ctx_unlock(ctx);
	xa_destroy(&b.dead_regions);
	xa_destroy(&b.dead_spaces);
	xa_destroy(&b.released);
	kvfree(b.undo);
	return ret;
}

struct memtopo_user_ops {
	u8 __user *uptr;
	u32 op_size;
};

static int memtopo_fetch_user(void *arg, u32 i, struct memtopo_op *op)
{
	struct memtopo_user_ops *u = arg;
	u8 __user *p = u->uptr + (size_t)i * u->op_size;
	int ret;

	ret = copy_struct_from_user(op, sizeof(*op), p, u->op_size);
	if (ret)
		return ret;
	if (op->size != u->op_size)
		return -EINVAL;
	/*
	 * A create answers with its ID: probe the slot (writing back what it
	 * holds) before anything is made, so a read-only array fails here
	 * rather than create, undo and use up an ID.
	 */
	if ((op->op == MEMTOPO_OP_REGION_CREATE || op->op == MEMTOPO_OP_SPACE_CREATE) &&
	    put_user(op->id, (u32 __user *)(p + offsetof(struct memtopo_op, id))))
		return -EFAULT;
	return 0;
}

static int memtopo_store_user(void *arg, u32 i, const struct memtopo_op *op)
{
	struct memtopo_user_ops *u = arg;
	u8 __user *p = u->uptr + (size_t)i * u->op_size;

	return put_user(op->id, (u32 __user *)(p + offsetof(struct memtopo_op, id)));
}

/**
 * memtopo_ioctl_batch() - MEMTOPO_BATCH.
 * @ucmd: the call.
 *
 * Return: 0, or the failing operation's errno with error_index written
 * back; see struct memtopo_batch.
 */
int memtopo_ioctl_batch(struct memtopo_ucmd *ucmd)
{
	struct memtopo_batch *cmd = ucmd->cmd;
	struct memtopo_user_ops u;
	int ret;

	if (cmd->flags || cmd->__reserved)
		return -EINVAL;
	if (cmd->op_size < offsetofend(struct memtopo_op, name) || cmd->op_size > PAGE_SIZE)
		return -EINVAL;
	if (cmd->count > MEMTOPO_MAX_BATCH)
		return -ENOSPC;
	u.uptr = u64_to_user_ptr(cmd->ops);
	u.op_size = cmd->op_size;
	cmd->error_index = 0;
	ret = memtopo_run_ops(ucmd->file->ctx, cmd->count, memtopo_fetch_user,
			      memtopo_store_user, &u, &cmd->error_index);
	if (ret) {
		/* best effort: the errno is the real answer */
		if (put_user(cmd->error_index, (u32 __user *)((u8 __user *)ucmd->ubuffer +
				offsetof(struct memtopo_batch, error_index))))
			return -EFAULT;
		return ret;
	}
	return 0;
}

static int memtopo_fetch_one(void *arg, u32 i, struct memtopo_op *op)
{
	*op = *(struct memtopo_op *)((struct memtopo_ucmd *)arg)->cmd;
	return 0;
}

/* Written inside the transaction so a fault undoes the create. */
static int memtopo_store_one(void *arg, u32 i, const struct memtopo_op *op)
{
	struct memtopo_ucmd *ucmd = arg;

	return put_user(op->id, (u32 __user *)((u8 __user *)ucmd->ubuffer +
					       offsetof(struct memtopo_op, id)));
}

/**
 * memtopo_ioctl_op() - MEMTOPO_OP: one operation, a batch of one.
 * @ucmd: the call; a create writes the new ID back into the struct.
 *
 * Return: 0 or the operation's errno.
 */
int memtopo_ioctl_op(struct memtopo_ucmd *ucmd)
{
	u32 error_index;

	return memtopo_run_ops(ucmd->file->ctx, 1, memtopo_fetch_one, memtopo_store_one,
			       ucmd, &error_index);
}
