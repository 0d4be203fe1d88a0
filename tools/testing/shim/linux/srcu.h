/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _SHIM_SRCU_H
#define _SHIM_SRCU_H
#include <linux/rcupdate.h>
struct srcu_struct { int unused; };
#define DEFINE_STATIC_SRCU(name) static struct srcu_struct name
static inline int srcu_read_lock(struct srcu_struct *s) { (void)s; return 0; }
static inline void srcu_read_unlock(struct srcu_struct *s, int idx) { (void)s; (void)idx; }
static inline void synchronize_srcu(struct srcu_struct *s) { (void)s; }
#define srcu_dereference(p, s) (p)
/* no reader ever waits here, so a grace period is immediate */
static inline void call_srcu(struct srcu_struct *s, struct rcu_head *h,
			     void (*f)(struct rcu_head *)) { (void)s; f(h); }
static inline void srcu_barrier(struct srcu_struct *s) { (void)s; }
#endif
