/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Test-only hooks of memtopo.ko.  They exist only in a module built with
 * CONFIG_MEMTOPO_TEST (make MEMTOPO_TEST=1, as `make check` and the VM
 * runner do); a production build (make, make install, DKMS) gets the inline
 * stubs below, so it carries no fault injection, no eventfd stand-ins and
 * no export that only the test modules use.  iommufd's CONFIG_IOMMUFD_TEST
 * is the model.
 */
#ifndef _MEMTOPO_SELFTEST_H
#define _MEMTOPO_SELFTEST_H

#include <linux/eventfd.h>
#include <linux/export.h>
#include <linux/types.h>

#include "compat.h"

/**
 * struct memtopo_eventfd_test_ops - KUnit stand-ins for eventfds.
 * @signal: called instead of eventfd_signal().
 * @put: called instead of eventfd_ctx_put().
 *
 * KUnit runs in a kthread that cannot create an eventfd (that takes a
 * syscall), so the ioeventfd suites register tokens and count signals.
 */
struct memtopo_eventfd_test_ops {
	void (*signal)(struct eventfd_ctx *eventfd);
	void (*put)(struct eventfd_ctx *eventfd);
};

#ifdef CONFIG_MEMTOPO_TEST

/* For symbols only the test modules (memtopo_kunit.ko) link against. */
#define EXPORT_SYMBOL_FOR_MEMTOPO_TESTS(sym) EXPORT_SYMBOL_NS_GPL(sym, MEMTOPO)

struct memtopo_region;

/* consumer.c: is_mapped by a walk of the context's regions, the reference */
bool memtopo_region_is_mapped_scan(struct memtopo_region *mr);

/* fault_selftest.c: memtopo.selftest_fault=, see Documentation/testing.rst. */
void memtopo_fault_selftest(void);
bool memtopo_fault_requested(const char *name);

/* eventfd_selftest.c */
void memtopo_set_eventfd_test_ops(const struct memtopo_eventfd_test_ops *ops);
void memtopo_iofd_signal(struct eventfd_ctx *eventfd);
void memtopo_iofd_put(struct eventfd_ctx *eventfd);

#else /* !CONFIG_MEMTOPO_TEST */

/* Nothing only a test module uses is exported. */
#define EXPORT_SYMBOL_FOR_MEMTOPO_TESTS(sym)

static inline void memtopo_fault_selftest(void)
{
}

static inline bool memtopo_fault_requested(const char *name)
{
	return false;
}

static inline void memtopo_iofd_signal(struct eventfd_ctx *eventfd)
{
	memtopo_eventfd_signal(eventfd);
}

static inline void memtopo_iofd_put(struct eventfd_ctx *eventfd)
{
	eventfd_ctx_put(eventfd);
}

#endif /* CONFIG_MEMTOPO_TEST */

#endif /* _MEMTOPO_SELFTEST_H */
