/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _SHIM_REFCOUNT_H
#define _SHIM_REFCOUNT_H
#include "shim_base.h"
typedef struct { int refs; } refcount_t;
static inline void refcount_set(refcount_t *r, int n) { r->refs = n; }
static inline unsigned int refcount_read(const refcount_t *r) { return r->refs; }
static inline void refcount_inc(refcount_t *r) { assert(r->refs > 0); __atomic_add_fetch(&r->refs, 1, __ATOMIC_SEQ_CST); }
static inline bool refcount_inc_not_zero(refcount_t *r)
{
	int n = __atomic_load_n(&r->refs, __ATOMIC_SEQ_CST);

	while (n && !__atomic_compare_exchange_n(&r->refs, &n, n + 1, false, __ATOMIC_SEQ_CST,
						 __ATOMIC_SEQ_CST))
		;
	return n != 0;
}
static inline bool refcount_dec_and_test(refcount_t *r)
{
	int n = __atomic_sub_fetch(&r->refs, 1, __ATOMIC_SEQ_CST);

	assert(n >= 0);
	return n == 0;
}
#endif
