// SPDX-License-Identifier: GPL-2.0
/*
 * ioctls of IOMMU regions: MEMTOPO_IOMMU_MAP, MEMTOPO_IOMMU_UNMAP and
 * MEMTOPO_IOMMU_GET (see uapi/linux/memtopo.h), a thin shell over the
 * table API of iommu.c.  Regions and spaces are found by ID in the file's
 * context under its mutex, as the rest of the ioctl layer does.
 */
#include <linux/build_bug.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "memtopo_main.h"
#include "parity.h"
#include "ioctl_iommu.h"

/* The uapi names the kernel's values; checked at build time. */
static_assert(MEMTOPO_KIND_IOMMU == (int)MEMTOPO_IOMMU);
static_assert(MEMTOPO_IOMMU_MAP_READ == MEMTOPO_IOMMU_RO);
static_assert(MEMTOPO_IOMMU_MAP_WRITE == MEMTOPO_IOMMU_WO);
static_assert(!(MEMTOPO_IOMMU_MAPPING_GONE & MEMTOPO_IOMMU_RW));
static_assert(MEMTOPO_IOMMU_PAGE == MEMTOPO_IOMMU_PAGE_SIZE);
static_assert(MEMTOPO_IOMMU_MAPPINGS_MAX == MEMTOPO_IOMMU_MAX_MAPPINGS);

#define MEMTOPO_IOMMU_MAP_PERMS	(MEMTOPO_IOMMU_MAP_READ | MEMTOPO_IOMMU_MAP_WRITE)

/**
 * memtopo_ioctl_iommu_map() - MEMTOPO_IOMMU_MAP.
 * @ucmd: the call.
 *
 * Return: 0 or a negative errno (see the uapi header).
 */
int memtopo_ioctl_iommu_map(struct memtopo_ucmd *ucmd)
{
	struct memtopo_iommu_map *cmd = ucmd->cmd;
	struct memtopo_ctx *ctx = ucmd->file->ctx;
	struct memtopo_region *mr;
	struct memtopo_space *as;
	int ret;

	if (!(cmd->flags & MEMTOPO_IOMMU_MAP_PERMS) || cmd->flags & ~MEMTOPO_IOMMU_MAP_PERMS)
		return -EINVAL;
	memtopo_ctx_lock(ctx);
	mr = memtopo_region_by_id_locked(ctx, cmd->region);
	as = memtopo_space_find_locked(ctx, cmd->space);
	if (!mr || !as)
		ret = -ENOENT;
	else
		ret = memtopo_iommu_map_locked(mr, cmd->iova, cmd->length, as, cmd->addr,
					       cmd->flags);
	memtopo_ctx_unlock(ctx);
	return ret;
}

/**
 * memtopo_ioctl_iommu_unmap() - MEMTOPO_IOMMU_UNMAP.
 * @ucmd: the call.
 *
 * Return: 0 or a negative errno (see the uapi header).
 */
int memtopo_ioctl_iommu_unmap(struct memtopo_ucmd *ucmd)
{
	struct memtopo_iommu_unmap *cmd = ucmd->cmd;
	struct memtopo_ctx *ctx = ucmd->file->ctx;
	bool all = cmd->flags & MEMTOPO_IOMMU_UNMAP_ALL;
	struct memtopo_region *mr;
	int ret;

	if (cmd->flags & ~MEMTOPO_IOMMU_UNMAP_ALL || cmd->__reserved ||
	    (all && (cmd->iova || cmd->length)))
		return -EINVAL;
	memtopo_ctx_lock(ctx);
	mr = memtopo_region_by_id_locked(ctx, cmd->region);
	if (!mr)
		ret = -ENOENT;
	else if (all)
		ret = memtopo_iommu_unmap_all_locked(mr);
	else
		ret = memtopo_iommu_unmap_locked(mr, cmd->iova, cmd->length);
	memtopo_ctx_unlock(ctx);
	return ret;
}

/*
 * The mappings, each leading to no space marked in its copy's permissions
 * with the uapi flag, a bit no permission uses (the permissions are the
 * uapi's MAP_READ and MAP_WRITE): whether the target is still the space
 * its ID names can only be told here, under the mutex.
 */
static int memtopo_iommu_collect(struct memtopo_region *mr, void *info, u32 cap, u32 *total)
{
	struct memtopo_iommu_ent *e = info;
	int ret = memtopo_iommu_mappings_locked(mr, e, cap, total);
	u32 i;

	/* a short @cap is the lister's business: it asked for the count */
	if (ret)
		return ret == -ENOSPC ? 0 : ret;
	for (i = 0; i < *total; i++)
		if (memtopo_iommu_target_gone_locked(mr, &e[i]))
			e[i].perm |= MEMTOPO_IOMMU_MAPPING_GONE;
	return 0;
}

static void memtopo_iommu_convert(void *entry, const void *info)
{
	const struct memtopo_iommu_ent *e = info;

	*(struct memtopo_iommu_mapping *)entry = (struct memtopo_iommu_mapping){
		.iova = e->iova, .length = e->last - e->iova + 1, .addr = e->addr,
		.space = e->space, .flags = e->perm,
	};
}

static const struct memtopo_region_lister memtopo_iommu_lister = {
	.info_size = sizeof(struct memtopo_iommu_ent),
	.entry_size = sizeof(struct memtopo_iommu_mapping),
	.whole = true,
	.collect = memtopo_iommu_collect,
	.convert = memtopo_iommu_convert,
};

/**
 * memtopo_ioctl_iommu_get() - MEMTOPO_IOMMU_GET.
 * @ucmd: the call.
 *
 * Return: 0 or a negative errno (see the uapi header).
 */
int memtopo_ioctl_iommu_get(struct memtopo_ucmd *ucmd)
{
	struct memtopo_iommu_get *cmd = ucmd->cmd;
	void *out;
	u32 nr;
	int n, ret = 0;

	if (cmd->flags || cmd->__reserved)
		return -EINVAL;
	ret = memtopo_urecord_size_check(cmd->mapping_size,
					 offsetofend(struct memtopo_iommu_mapping, flags));
	if (ret)
		return ret;
	n = memtopo_region_list(ucmd->file->ctx, cmd->region, &memtopo_iommu_lister,
				cmd->count, &out, &nr);
	if (n < 0)
		return n;
	if (nr > cmd->count)
		ret = -ENOSPC;
	else
		/* user memory is touched without the context mutex held */
		ret = memtopo_copy_records(u64_to_user_ptr(cmd->mappings), out, n,
					   sizeof(struct memtopo_iommu_mapping),
					   cmd->mapping_size);
	kvfree(out);
	if (ret && ret != -ENOSPC)
		return ret;
	cmd->count = nr;
	return memtopo_ucmd_respond(ucmd, sizeof(*cmd)) ?: ret;
}
