/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _SHIM_RCUPDATE_H
#define _SHIM_RCUPDATE_H
#include "shim_base.h"
#include <linux/list.h>
struct rcu_head {
	struct rcu_head *next;
	void (*func)(struct rcu_head *head);
};
/*
 * Single-threaded tests, no reader outlives its call: a callback could run
 * at once, but runs a kernel grace period later (shim.c), so that what is
 * freed under RCU does not come back to the next allocation still cached.
 */
void call_rcu(struct rcu_head *h, void (*f)(struct rcu_head *));
/* run every pending callback: before counting what is allocated */
void rcu_barrier(void);
#define rcu_read_lock() do { } while (0)
#define rcu_read_unlock() do { } while (0)
#define rcu_dereference(p) (p)
#define rcu_dereference_protected(p, c) ({ assert(c); (p); })
#define rcu_assign_pointer(p, v) __atomic_store_n(&(p), (v), __ATOMIC_RELEASE)
#define RCU_INIT_POINTER(p, v) ((p) = (v))
#define rcu_access_pointer(p) (p)
#define list_for_each_entry_rcu(pos, head, member, ...) list_for_each_entry(pos, head, member)
#define list_add_tail_rcu(n, h) list_add_tail(n, h)
#define list_add_rcu(n, h) list_add(n, h)
#define list_del_rcu(e) list_del(e)
#endif
