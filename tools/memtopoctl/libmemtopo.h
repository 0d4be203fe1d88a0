/* SPDX-License-Identifier: GPL-2.0 */
/*
 * libmemtopo: a thin wrapper over the /dev/memtopo ioctls, shared by
 * memtopoctl and the selftests.  Every function returns 0 or -errno.
 */
#ifndef LIBMEMTOPO_H
#define LIBMEMTOPO_H

#include <stddef.h>
#include <stdint.h>
#include <linux/memtopo.h>

int mt_open(void);
int mt_info(int fd, struct memtopo_info *info);
int mt_attach(int fd, const char *name, __u32 flags, int *created);
int mt_ctx_destroy(int fd, const char *name);
int mt_op(int fd, struct memtopo_op *op);
int mt_batch(int fd, struct memtopo_op *ops, __u32 count, __u32 *error_index);
int mt_txn(int fd, __u32 op, __u32 *depth);
/* MEMTOPO_BUDGET with @flags and @mem_max; the answer in @out if not NULL. */
int mt_budget(int fd, __u32 flags, __u64 mem_max, struct memtopo_budget *out);
/* *out is malloc()ed; free() it */
int mt_get_regions(int fd, struct memtopo_region_desc **out, __u32 *count);
int mt_get_spaces(int fd, struct memtopo_space_desc **out, __u32 *count);
int mt_get_flat(int fd, __u32 space, struct memtopo_range **out, __u32 *count,
		__u64 *generation);
int mt_lookup(int fd, __u32 space, __u64 addr, struct memtopo_range *range,
	      __u64 *generation);
/* NUL-terminated text, malloc()ed */
int mt_mtree(int fd, __u32 flags, char **text);
int mt_subscribe(int fd, __u32 space, int eventfd, __u32 mask, __u32 flags,
		 __u32 *id);
int mt_unsubscribe(int fd, __u32 id);
int mt_read_events(int fd, __u32 id, struct memtopo_event *ev, __u32 *count,
		   __u32 *pending);
/*
 * MEMTOPO_GET_FLAT_DIFF: the REGION_DEL/REGION_ADD events from generation
 * @from to @to (0: the current view; *@reached says which); *@out is
 * malloc()ed, free() it.
 */
int mt_get_flat_diff(int fd, __u32 space, __u64 from, __u64 to, struct memtopo_event **out,
		     __u32 *count, __u64 *reached);
/* MEMTOPO_SPACE_RW: @len bytes in memory order at @addr of @space. */
int mt_space_rw(int fd, __u32 space, __u64 addr, void *buf, __u64 len, int write);
/* IOMMU regions' tables: @flags MEMTOPO_IOMMU_MAP_* / MEMTOPO_IOMMU_UNMAP_* */
int mt_iommu_map(int fd, __u32 region, __u64 iova, __u64 length, __u32 space, __u64 addr,
		 __u32 flags);
int mt_iommu_unmap(int fd, __u32 region, __u64 iova, __u64 length, __u32 flags);
/* *out is malloc()ed (NULL for none); free() it */
int mt_iommu_get(int fd, __u32 region, struct memtopo_iommu_mapping **out, __u32 *count);

/* Helpers to fill an operation. */
void mt_op_init(struct memtopo_op *op, __u32 code);
const char *mt_kind_name(__u32 kind);
int mt_kind_parse(const char *s);
const char *mt_event_name(__u32 type);
/* MEMTOPO_EVENT_* named by mt_event_name(), or -EINVAL */
int mt_event_parse(const char *name);

/*
 * One-operation wrappers over mt_op().  Those that create something return
 * its id (>= 0) or -errno; the others return 0 or -errno.
 */
/* REGION_CREATE of @kind; @flags e.g. MEMTOPO_OP_F_SIZE_2_64 */
int mt_region_create(int fd, __u32 kind, const char *name, __u64 size, __u32 flags);
/* ADD_SUBREGION: map region @child into container @parent at @addr */
int mt_add_subregion(int fd, __u32 parent, __u32 child, __u64 addr, int prio);
/* SPACE_CREATE: a space named @name rooted at region @root */
int mt_space_create(int fd, const char *name, __u32 root);
/* any operation @code taking only id, ref, addr and value (SET_*, DEL_*...) */
int mt_region_set(int fd, __u32 code, __u32 id, __u32 ref, __u64 addr, __u64 value);
int mt_region_destroy(int fd, __u32 id);
int mt_space_destroy(int fd, __u32 id);

/* MEMTOPO_DIRTY_LOG: @d filled but for @size */
int mt_dirty_log(int fd, struct memtopo_dirty_log *d);
int mt_dirty_mark(int fd, __u32 region, __u64 offset, __u64 length);
/* MEMTOPO_IOEVENTFD: @flags MEMTOPO_IOEVENTFD_*; DEASSIGN takes @efd -1 */
int mt_ioeventfd(int fd, __u32 region, int efd, __u64 offset, __u32 len, __u32 flags,
		 __u64 data);
int mt_coalesced(int fd, __u32 region, __u64 offset, __u64 length, __u32 flags);
/* *out is malloc()ed (NULL when there is none); free() it */
int mt_ioeventfd_list(int fd, __u32 region, struct memtopo_ioeventfd_entry **out,
		      __u32 *count);
int mt_coalesced_list(int fd, __u32 region, struct memtopo_coalesced_entry **out,
		      __u32 *count);

#endif
