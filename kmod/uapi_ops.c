// SPDX-License-Identifier: GPL-2.0
/*
 * MEMTOPO_OP and MEMTOPO_BATCH: operations from userspace applied under one
 * hold of the context mutex, inside one transaction, all or nothing.
 *
 * Each operation is a call of the engine's API, which records its own undo
 * (undo.c).  On the first error the batch undoes its own records
 * (memtopo_transaction_abort_locked()), so the tree is exactly as before
 * and nothing is published: listeners see nothing.  A failed commit is
 * undone by the engine itself.  The undo log grows with the operations
 * actually applied, whatever count the batch claims.
 */
#include <linux/file.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/xarray.h>

#include "memtopo_main.h"
#include "memtopo_internal.h"

struct memtopo_batch_state {
	struct memtopo_ctx *ctx;
	/* operations applied so far */
	u32 nr;
	/* what this batch's creates made, by operation index (MEMTOPO_ID_BATCH_REF) */
	struct xarray regions;
	struct xarray spaces;
};

/* Destroyed objects are gone for later operations: their IDs name nothing. */
static struct memtopo_region *memtopo_batch_region(struct memtopo_batch_state *b, u32 id)
{
	struct memtopo_region *mr;

	if (id & MEMTOPO_ID_BATCH_REF) {
		u32 i = id & ~MEMTOPO_ID_BATCH_REF;

		mr = i < b->nr ? xa_load(&b->regions, i) : NULL;
		return mr && !memtopo_region_destroyed(mr) ? mr : NULL;
	}
	return memtopo_region_by_id_locked(b->ctx, id);
}

static struct memtopo_space *memtopo_batch_space(struct memtopo_batch_state *b, u32 id)
{
	struct memtopo_space *as;

	if (id & MEMTOPO_ID_BATCH_REF) {
		u32 i = id & ~MEMTOPO_ID_BATCH_REF;

		as = i < b->nr ? xa_load(&b->spaces, i) : NULL;
		return as && !memtopo_space_destroyed(as) ? as : NULL;
	}
	return memtopo_space_find_locked(b->ctx, id);
}

static enum memtopo_kind memtopo_kind_from_uapi(u32 kind)
{
	/* the uapi enum mirrors the kernel one; checked at build time */
	BUILD_BUG_ON(MEMTOPO_KIND_ALIAS != (int)MEMTOPO_ALIAS);
	BUILD_BUG_ON(MEMTOPO_KIND_IOMMU != (int)MEMTOPO_IOMMU);
	BUILD_BUG_ON(MEMTOPO_KIND_RAM_DEVICE != (int)MEMTOPO_RAM_DEVICE);
	BUILD_BUG_ON(MEMTOPO_NAME_LEN != MEMTOPO_MAX_NAME);
	return kind;
}

#define MEMTOPO_OP_F_BACKINGS							\
	(MEMTOPO_OP_F_KERNEL_BACKING | MEMTOPO_OP_F_FILE_BACKING | MEMTOPO_OP_F_PROCESS_BACKING)

/*
 * MEMTOPO_OP_F_KERNEL_BACKING: allocate the RAM (zeroed, or the user's
 * initial contents).  Whether the budget can take it is asked first, so a
 * request far past it fails without allocating anything.
 */
static struct memtopo_backing *memtopo_kbacking_alloc(struct memtopo_ctx *ctx,
						      const struct memtopo_op *op)
{
	struct memtopo_backing *b;
	size_t need;
	int ret;

	if (op->flags & MEMTOPO_OP_F_SIZE_2_64)
		return ERR_PTR(-E2BIG);
	if (!op->length)
		return ERR_PTR(-EINVAL);
	if (op->length > SIZE_MAX - PAGE_SIZE)
		return ERR_PTR(-ENOSPC);
	need = round_up(op->length, PAGE_SIZE);
	ret = memtopo_ctx_charge_locked(ctx, need);
	if (ret)
		return ERR_PTR(ret);
	memtopo_ctx_uncharge_locked(ctx, need);
	b = memtopo_backing_kernel_alloc(op->length);
	if (IS_ERR(b))
		return b;
	if (op->value && copy_from_user(b->kaddr, u64_to_user_ptr(op->value), op->length)) {
		memtopo_backing_put(b);
		return ERR_PTR(-EFAULT);
	}
	return b;
}

static struct memtopo_backing *memtopo_fbacking_get(const struct memtopo_op *op,
						    enum memtopo_kind kind)
{
	struct memtopo_backing *b;
	struct file *file;

	if (op->flags & MEMTOPO_OP_F_SIZE_2_64 || op->value)
		return ERR_PTR(-EINVAL);
	file = fget(op->backing_fd);
	if (!file)
		return ERR_PTR(-EBADF);
	/* a ROM (device) only reads its file: a read-only fd is enough */
	b = memtopo_backing_file(file, op->backing_offset, op->length,
				 kind == MEMTOPO_RAM || kind == MEMTOPO_RAM_DEVICE);
	fput(file);
	return b;
}

/* The backing a REGION_CREATE asks for: NULL for none, or an ERR_PTR(). */
static struct memtopo_backing *memtopo_op_backing(struct memtopo_ctx *ctx,
						  const struct memtopo_op *op,
						  enum memtopo_kind kind)
{
	bool ram = kind == MEMTOPO_RAM || kind == MEMTOPO_ROM || kind == MEMTOPO_RAM_DEVICE;

	switch (op->flags & MEMTOPO_OP_F_BACKINGS) {
	case MEMTOPO_OP_F_KERNEL_BACKING:
		/* a RAM device's memory is the device's, never the kernel's */
		if (kind != MEMTOPO_RAM && kind != MEMTOPO_ROM && kind != MEMTOPO_ROM_DEVICE)
			return ERR_PTR(-EINVAL);
		return memtopo_kbacking_alloc(ctx, op);
	case MEMTOPO_OP_F_FILE_BACKING:
		if (!ram && kind != MEMTOPO_ROM_DEVICE)
			return ERR_PTR(-EINVAL);
		/* a @size short of @backing_offset's end names no file: zero fill is not fd 0 */
		if (op->size < offsetofend(struct memtopo_op, backing_offset))
			return ERR_PTR(-EINVAL);
		return memtopo_fbacking_get(op, kind);
	case MEMTOPO_OP_F_PROCESS_BACKING:
		if (!ram && kind != MEMTOPO_ROM_DEVICE)
			return ERR_PTR(-EINVAL);
		if (op->flags & MEMTOPO_OP_F_SIZE_2_64)
			return ERR_PTR(-EINVAL);
		return memtopo_backing_process(op->value, op->length);
	case 0:
		if (!op->value)
			return NULL;
		if (!ram)
			return ERR_PTR(-EINVAL);
		return memtopo_backing_label(op->value);
	default:
		/* one backing at most */
		return ERR_PTR(-EINVAL);
	}
}

static int memtopo_op_create(struct memtopo_batch_state *b, struct memtopo_op *op)
{
	struct memtopo_region_info info = {};
	struct memtopo_backing *backing;
	struct memtopo_region *mr;

	if (op->flags & ~(MEMTOPO_OP_F_SIZE_2_64 | MEMTOPO_OP_F_BACKINGS) ||
	    op->priority || memtopo_uname_valid(op->name))
		return -EINVAL;
	if (op->kind > MEMTOPO_KIND_IOMMU)
		return -EINVAL;
	/* @backing_offset is an input only for a file (else an output: ignored) */
	if (!(op->flags & MEMTOPO_OP_F_FILE_BACKING) && op->backing_fd)
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
	backing = memtopo_op_backing(b->ctx, op, info.kind);
	if (IS_ERR(backing))
		return PTR_ERR(backing);
	info.backing = backing;
	mr = memtopo_region_create_locked(b->ctx, &info);
	/* the region took its own reference */
	memtopo_backing_put(backing);
	if (IS_ERR(mr))
		return PTR_ERR(mr);
	op->id = memtopo_region_id(mr);
	op->backing_id = 0;
	op->backing_offset = 0;
	if (backing && backing->kind != MEMTOPO_BACKING_NONE) {
		op->backing_id = backing->id;
		if (backing->kind == MEMTOPO_BACKING_KERNEL)
			op->backing_offset = backing->mmap_offset;
		else if (backing->kind == MEMTOPO_BACKING_FILE)
			op->backing_offset = backing->file_offset;
	}
	return xa_err(xa_store(&b->regions, b->nr, mr, GFP_KERNEL));
}

static int memtopo_op_space_create(struct memtopo_batch_state *b, struct memtopo_op *op)
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
	op->id = memtopo_space_id(as);
	return xa_err(xa_store(&b->spaces, b->nr, as, GFP_KERNEL));
}

/* A SET_* flag value is 0 or 1; anything else is a typo we refuse. */
static int memtopo_op_bool(const struct memtopo_op *op)
{
	if (op->value > 1 || op->flags || op->ref || op->addr || op->length || op->priority)
		return -EINVAL;
	return 0;
}

static int memtopo_op_apply(struct memtopo_batch_state *b, struct memtopo_op *op)
{
	struct memtopo_region *mr, *parent;
	struct memtopo_backing *backing;
	struct memtopo_space *as;

	if (op->__reserved || op->__reserved2)
		return -EINVAL;
	if (op->op != MEMTOPO_OP_REGION_CREATE && op->backing_fd)
		return -EINVAL;
	if (op->op != MEMTOPO_OP_REGION_CREATE && op->op != MEMTOPO_OP_SPACE_CREATE &&
	    memchr_inv(op->name, 0, sizeof(op->name)))
		return -EINVAL;
	if (op->op != MEMTOPO_OP_REGION_CREATE && op->op != MEMTOPO_OP_SET_DIRTY_LOG && op->kind)
		return -EINVAL;

	switch (op->op) {
	case MEMTOPO_OP_REGION_CREATE:
		/* @id is an output: whatever it holds (a retried batch) is ignored */
		return memtopo_op_create(b, op);
	case MEMTOPO_OP_SPACE_CREATE:
		return memtopo_op_space_create(b, op);
	case MEMTOPO_OP_SPACE_DESTROY:
		if (op->flags || op->ref || op->addr || op->length || op->value || op->priority)
			return -EINVAL;
		as = memtopo_batch_space(b, op->id);
		if (!as)
			return -ENOENT;
		return memtopo_space_destroy_locked(as);
	default:
		break;
	}

	mr = memtopo_batch_region(b, op->id);
	if (!mr)
		return -ENOENT;

	switch (op->op) {
	case MEMTOPO_OP_REGION_DESTROY:
		if (op->flags || op->ref || op->addr || op->length || op->value || op->priority)
			return -EINVAL;
		return memtopo_region_destroy_locked(mr);
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
			parent = memtopo_region_parent_locked(mr);
			if (!parent)
				return -ENOENT;
		}
		return memtopo_region_del_subregion_locked(parent, mr);
	case MEMTOPO_OP_SET_ADDRESS:
		if (op->flags || op->ref || op->length || op->value || op->priority)
			return -EINVAL;
		return memtopo_region_set_address_locked(mr, op->addr);
	case MEMTOPO_OP_SET_SIZE:
		if (op->flags & ~MEMTOPO_OP_F_SIZE_2_64 || op->ref || op->addr || op->value ||
		    op->priority || ((op->flags & MEMTOPO_OP_F_SIZE_2_64) && op->length))
			return -EINVAL;
		/* RAM cannot grow past its backing */
		backing = memtopo_region_backing(mr);
		if (backing && backing->kind != MEMTOPO_BACKING_NONE &&
		    (op->flags & MEMTOPO_OP_F_SIZE_2_64 || op->length > backing->size))
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

typedef int (*memtopo_op_fetch_t)(void *arg, u32 i, struct memtopo_op *op);
typedef int (*memtopo_op_store_t)(void *arg, u32 i, const struct memtopo_op *op);

/*
 * Run @count operations as one transaction.  @fetch reads operation i,
 * @store writes back the created ID.  Returns 0, EBUSY (nothing run,
 * *@error_index untouched) or the errno of the operation at *@error_index.
 */
static int memtopo_run_ops(struct memtopo_ucmd *ucmd, u32 count, memtopo_op_fetch_t fetch,
			   memtopo_op_store_t store, void *arg, u32 *error_index)
{
	struct memtopo_ctx *ctx = ucmd->file->ctx;
	struct memtopo_batch_state b = { .ctx = ctx };
	struct memtopo_op op;
	u32 i, mark;
	int ret;

	ret = memtopo_ucmd_lock_change(ucmd);
	if (ret)
		return ret;
	xa_init(&b.regions);
	xa_init(&b.spaces);
	memtopo_transaction_begin_locked(ctx);
	mark = memtopo_undo_mark(ctx);
	for (i = 0; i < count; i++) {
		ret = fetch(arg, i, &op);
		if (!ret)
			ret = memtopo_op_apply(&b, &op);
		/* inside the transaction: a create that cannot report its ID is undone */
		if (!ret && (op.op == MEMTOPO_OP_REGION_CREATE || op.op == MEMTOPO_OP_SPACE_CREATE))
			ret = store(arg, i, &op);
		if (ret)
			break;
		b.nr = i + 1;
	}
	if (ret) {
		*error_index = i;
		/* the views still show the tree as it is now: nothing is published */
		memtopo_transaction_abort_locked(ctx, mark);
	} else {
		/* a commit that cannot render undoes everything itself */
		ret = memtopo_transaction_commit_locked(ctx);
		if (ret)
			*error_index = count;
	}
	memtopo_ctx_unlock(ctx);
	xa_destroy(&b.regions);
	xa_destroy(&b.spaces);
	return ret;
}

struct memtopo_user_ops {
	u8 __user *uptr;
	u32 op_size;
};

/*
 * A create's answer: @id, and the backing fields when the caller's struct
 * (@size bytes at @p) has them.
 */
static int memtopo_op_answer(u8 __user *p, u32 size, const struct memtopo_op *op)
{
	if (put_user(op->id, (u32 __user *)(p + offsetof(struct memtopo_op, id))))
		return -EFAULT;
	if (op->op != MEMTOPO_OP_REGION_CREATE || size < offsetofend(struct memtopo_op, backing_id))
		return 0;
	if (put_user(op->backing_offset,
		     (u64 __user *)(p + offsetof(struct memtopo_op, backing_offset))) ||
	    put_user(op->backing_id, (u64 __user *)(p + offsetof(struct memtopo_op, backing_id))))
		return -EFAULT;
	return 0;
}

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
	if (op->op == MEMTOPO_OP_REGION_CREATE || op->op == MEMTOPO_OP_SPACE_CREATE)
		return memtopo_op_answer(p, u->op_size, op);
	return 0;
}

static int memtopo_store_user(void *arg, u32 i, const struct memtopo_op *op)
{
	struct memtopo_user_ops *u = arg;

	return memtopo_op_answer(u->uptr + (size_t)i * u->op_size, u->op_size, op);
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
	ret = memtopo_urecord_size_check(cmd->op_size, offsetofend(struct memtopo_op, name));
	if (ret)
		return ret;
	if (cmd->count > MEMTOPO_MAX_BATCH)
		return -ENOSPC;
	u.uptr = u64_to_user_ptr(cmd->ops);
	u.op_size = cmd->op_size;
	/* no index: refused before any operation ran, the struct is left alone */
	cmd->error_index = U32_MAX;
	ret = memtopo_run_ops(ucmd, cmd->count, memtopo_fetch_user, memtopo_store_user, &u,
			      &cmd->error_index);
	/* everything is undone either way; an index the caller cannot get is EFAULT */
	if (ret && cmd->error_index != U32_MAX &&
	    put_user(cmd->error_index, (u32 __user *)((u8 __user *)ucmd->ubuffer +
			offsetof(struct memtopo_batch, error_index))))
		return -EFAULT;
	return ret;
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

	return memtopo_op_answer(ucmd->ubuffer, ucmd->user_size, op);
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

	return memtopo_run_ops(ucmd, 1, memtopo_fetch_one, memtopo_store_one, ucmd,
			       &error_index);
}
