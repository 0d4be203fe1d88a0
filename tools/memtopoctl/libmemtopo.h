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
int mt_attach(int fd, const char *name, uint32_t flags, int *created);
int mt_ctx_destroy(int fd, const char *name);
int mt_op(int fd, struct memtopo_op *op);
int mt_batch(int fd, struct memtopo_op *ops, uint32_t count, uint32_t *error_index);
int mt_txn(int fd, uint32_t op, uint32_t *depth);
/* *out is malloc()ed; free() it */
int mt_get_regions(int fd, struct memtopo_region_desc **out, uint32_t *count);
int mt_get_spaces(int fd, struct memtopo_space_desc **out, uint32_t *count);
int mt_get_flat(int fd, uint32_t space, struct memtopo_range **out, uint32_t *count,
		uint64_t *generation);
int mt_lookup(int fd, uint32_t space, uint64_t addr, struct memtopo_range *range,
	      uint64_t *generation);
/* NUL-terminated text, malloc()ed */
int mt_mtree(int fd, uint32_t flags, char **text);
int mt_subscribe(int fd, uint32_t space, int eventfd, uint32_t mask, uint32_t flags,
		 uint32_t *id);
int mt_unsubscribe(int fd, uint32_t id);
int mt_read_events(int fd, uint32_t id, struct memtopo_event *ev, uint32_t *count,
		   uint32_t *pending);
/* MEMTOPO_SPACE_RW: @len bytes in memory order at @addr of @space. */
int mt_space_rw(int fd, uint32_t space, uint64_t addr, void *buf, uint64_t len, int write);

/* Helpers to fill an operation. */
void mt_op_init(struct memtopo_op *op, uint32_t code);
const char *mt_kind_name(uint32_t kind);
int mt_kind_parse(const char *s);
const char *mt_event_name(uint32_t type);

#endif
