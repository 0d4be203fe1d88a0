/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _SHIM_KREF_H
#define _SHIM_KREF_H
#include <linux/refcount.h>
struct kref { refcount_t refcount; };
static inline void kref_init(struct kref *k) { refcount_set(&k->refcount, 1); }
static inline void kref_get(struct kref *k) { refcount_inc(&k->refcount); }
static inline int kref_put(struct kref *k, void (*release)(struct kref *))
{
	if (refcount_dec_and_test(&k->refcount)) {
		release(k);
		return 1;
	}
	return 0;
}
#endif
