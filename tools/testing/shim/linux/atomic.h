/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _SHIM_ATOMIC_H
#define _SHIM_ATOMIC_H
#include "shim_base.h"
typedef struct { s64 counter; } atomic64_t;
#define ATOMIC64_INIT(i) { (i) }
#define atomic64_read(v) __atomic_load_n(&(v)->counter, __ATOMIC_RELAXED)
#define atomic64_set(v, i) __atomic_store_n(&(v)->counter, (i), __ATOMIC_RELAXED)
#define atomic64_xchg(v, i) __atomic_exchange_n(&(v)->counter, (i), __ATOMIC_SEQ_CST)
#define atomic64_or(i, v) ((void)__atomic_fetch_or(&(v)->counter, (i), __ATOMIC_SEQ_CST))
#define atomic64_fetch_or(i, v) __atomic_fetch_or(&(v)->counter, (i), __ATOMIC_SEQ_CST)
#define atomic64_andnot(i, v) ((void)__atomic_fetch_and(&(v)->counter, ~(s64)(i), __ATOMIC_SEQ_CST))
#define atomic64_fetch_andnot(i, v) __atomic_fetch_and(&(v)->counter, ~(s64)(i), __ATOMIC_SEQ_CST)
#define atomic64_inc(v) ((void)__atomic_add_fetch(&(v)->counter, 1, __ATOMIC_SEQ_CST))
#define atomic_long_read(v) __atomic_load_n(&(v)->counter, __ATOMIC_RELAXED)
#define atomic_long_try_cmpxchg(v, old, new) \
	__atomic_compare_exchange_n(&(v)->counter, (old), (new), false, __ATOMIC_SEQ_CST, \
				    __ATOMIC_RELAXED)
#define atomic_long_sub_return(i, v) __atomic_sub_fetch(&(v)->counter, (i), __ATOMIC_SEQ_CST)
#endif
