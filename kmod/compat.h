/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Kernel API differences between the versions memtopo builds against,
 * probed by version so every caller stays free of #ifdefs.
 */
#ifndef _MEMTOPO_COMPAT_H
#define _MEMTOPO_COMPAT_H

#include <linux/eventfd.h>
#include <linux/version.h>

/* v6.8 (commit 3652117f8548) dropped eventfd_signal()'s count argument. */
#if KERNEL_VERSION(6, 8, 0) <= LINUX_VERSION_CODE
#define memtopo_eventfd_signal(ctx) eventfd_signal(ctx)
#else
#define memtopo_eventfd_signal(ctx) eventfd_signal(ctx, 1)
#endif

#endif /* _MEMTOPO_COMPAT_H */
