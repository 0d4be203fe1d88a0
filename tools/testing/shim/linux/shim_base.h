/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The kernel services the memtopo engine uses, for a userspace build of
 * the same sources (as the kernel's tools/testing/radix-tree does).  Only
 * what the engine needs, with the kernel's semantics where tests observe
 * them: allocation failures can be injected, locks are real, RCU frees
 * are immediate (the userspace tests are single-threaded).
 */
#ifndef _SHIM_BASE_H
#define _SHIM_BASE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <errno.h>
#include <assert.h>
#include <limits.h>
#include <linux/types.h>
#include <linux/kernel.h>
#include <linux/compiler.h>
#include <linux/err.h>
#include <linux/bits.h>

#define GFP_KERNEL		0u
#define GFP_KERNEL_ACCOUNT	0u
#define __GFP_ZERO		1u

/* Fail the Nth allocation from now (0: never); the tests' fail-nth. */
extern unsigned long shim_fail_nth;
extern unsigned long shim_alloc_count;
extern long shim_live_allocs;
/* Slab caches created and not destroyed: not allocations, which passes end with none of */
extern long shim_live_caches;
void *shim_alloc(size_t size, bool zero);
void shim_free(const void *p);
/* what shim_watch_end() saw */
struct shim_watch {
	unsigned long allocs;
	/* of them, freed before the end, and handed to call_rcu() */
	unsigned long freed, deferred;
};
void shim_watch_begin(void);
struct shim_watch shim_watch_end(void);
void shim_watch_rcu(const void *head);

#ifndef U64_MAX
#define U64_MAX ((u64)~0ULL)
#endif
#ifndef U32_MAX
#define U32_MAX ((u32)~0U)
#endif

#define EXPORT_SYMBOL(x)
#define EXPORT_SYMBOL_GPL(x)
#define EXPORT_SYMBOL_NS_GPL(x, ns)
#define pr_debug(fmt, ...) do { if (0) printf(fmt, ##__VA_ARGS__); } while (0)
#define pr_warn(fmt, ...) fprintf(stderr, fmt, ##__VA_ARGS__)
#define pr_warn_ratelimited(fmt, ...) fprintf(stderr, fmt, ##__VA_ARGS__)
#define pr_info(fmt, ...) printf(fmt, ##__VA_ARGS__)
#ifndef WARN_ON
#define WARN_ON(c) ({ bool __c = !!(c); if (__c) fprintf(stderr, "WARN_ON(%s) at %s:%d\n", #c, __FILE__, __LINE__); __c; })
#endif
#ifndef WARN_ON_ONCE
#define WARN_ON_ONCE(c) WARN_ON(c)
#endif
#ifndef READ_ONCE
#define READ_ONCE(x) (*(const volatile typeof(x) *)&(x))
#endif
#ifndef OPTIMIZER_HIDE_VAR
#define OPTIMIZER_HIDE_VAR(var) __asm__ ("" : "=r" (var) : "0" (var))
#endif
#ifndef WARN_ONCE
#define WARN_ONCE(c, fmt, ...) WARN_ON(c)
#endif
#ifndef swap
#define swap(a, b) do { typeof(a) __t = (a); (a) = (b); (b) = __t; } while (0)
#endif
#define IS_ENABLED(opt) 0
#ifndef fallthrough
#define fallthrough __attribute__((__fallthrough__))
#endif
#define pr_err_ratelimited(fmt, ...) fprintf(stderr, fmt, ##__VA_ARGS__)
#define pr_err(fmt, ...) fprintf(stderr, fmt, ##__VA_ARGS__)
#ifndef DIV_ROUND_UP_ULL
#define DIV_ROUND_UP_ULL(x, d) (((unsigned long long)(x) + (d) - 1) / (d))
#endif
#define might_sleep() do { } while (0)
#define cond_resched() do { } while (0)
#define __rcu
#define __force
#define __user
#define __init
#define __exit
/* the kernel's <linux/bitops.h> has it; tools/include does not (x nonzero) */
#define __ffs64(x) ((unsigned long)__builtin_ctzll(x))

#endif
