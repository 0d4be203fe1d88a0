/* SPDX-License-Identifier: GPL-2.0 */
/* An xarray with the allocating API the engine uses, over a flat array. */
#ifndef _SHIM_XARRAY_H
#define _SHIM_XARRAY_H
#include "shim_base.h"
struct xarray {
	void **slots;
	unsigned long nr;	/* capacity */
	unsigned long count;
	unsigned long next_free;
};
struct xa_limit { u32 max, min; };
#define xa_limit_31b ((struct xa_limit){ .max = 0x7fffffff, .min = 0 })
#define XA_FLAGS_ALLOC1 1u
#define XA_FLAGS_ACCOUNT 0u
void xa_init_flags(struct xarray *xa, unsigned int flags);
int xa_alloc(struct xarray *xa, u32 *id, void *entry, struct xa_limit limit, gfp_t gfp);
int xa_alloc_cyclic(struct xarray *xa, u32 *id, void *entry, struct xa_limit limit, u32 *next,
		    gfp_t gfp);
#define XA_LIMIT(_min, _max) ((struct xa_limit){ .max = (_max), .min = (_min) })
void *xa_erase(struct xarray *xa, unsigned long index);
void *xa_store(struct xarray *xa, unsigned long index, void *entry, gfp_t gfp);
#define xa_err(e) ((void)(e), 0)
void *xa_load(struct xarray *xa, unsigned long index);
void *xa_find(struct xarray *xa, unsigned long *index, unsigned long max, int mark);
void xa_destroy(struct xarray *xa);
static inline bool xa_empty(const struct xarray *xa) { return !xa->count; }
#define XA_PRESENT 0
#define xa_for_each(xa, index, entry)						\
	for (index = 0, entry = xa_find(xa, &index, ULONG_MAX, XA_PRESENT);	\
	     entry; index++, entry = xa_find(xa, &index, ULONG_MAX, XA_PRESENT))
#endif
