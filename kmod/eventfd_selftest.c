// SPDX-License-Identifier: GPL-2.0
/*
 * Test-only (CONFIG_MEMTOPO_TEST): the ioeventfd write path signals and
 * puts its eventfds through here, so KUnit can swap in stand-ins.  The
 * production build calls eventfd_signal() and eventfd_ctx_put() directly
 * (the inline stubs in selftest.h).
 */
#include <linux/compiler.h>
#include <linux/export.h>

#include "selftest.h"

static const struct memtopo_eventfd_test_ops *memtopo_eventfd_test_ops;

/**
 * memtopo_set_eventfd_test_ops() - let KUnit use tokens instead of eventfds.
 * @ops: stand-ins for eventfd_signal() and eventfd_ctx_put(), or NULL.
 *
 * Context: any.  Every eventfd registered while @ops is set must be gone
 * (and its RCU grace period over) before @ops is reset.
 */
void memtopo_set_eventfd_test_ops(const struct memtopo_eventfd_test_ops *ops)
{
	WRITE_ONCE(memtopo_eventfd_test_ops, ops);
}
EXPORT_SYMBOL_NS_GPL(memtopo_set_eventfd_test_ops, MEMTOPO);

/**
 * memtopo_iofd_signal() - signal an ioeventfd's eventfd (or its stand-in).
 * @eventfd: the eventfd.
 *
 * Context: any; called under RCU from the write path.
 */
void memtopo_iofd_signal(struct eventfd_ctx *eventfd)
{
	const struct memtopo_eventfd_test_ops *ops = READ_ONCE(memtopo_eventfd_test_ops);

	if (ops)
		ops->signal(eventfd);
	else
		memtopo_eventfd_signal(eventfd);
}

/**
 * memtopo_iofd_put() - drop an ioeventfd's eventfd reference (or its stand-in's).
 * @eventfd: the eventfd.
 *
 * Context: any, including RCU callbacks.
 */
void memtopo_iofd_put(struct eventfd_ctx *eventfd)
{
	const struct memtopo_eventfd_test_ops *ops = READ_ONCE(memtopo_eventfd_test_ops);

	if (ops)
		ops->put(eventfd);
	else
		eventfd_ctx_put(eventfd);
}
