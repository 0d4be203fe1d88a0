/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Kernel API differences between the versions memtopo builds against, in
 * one place so every caller stays free of #ifdefs.  compat.mk probes the
 * kernel's headers and defines the MEMTOPO_* switches used here.
 */
#ifndef _MEMTOPO_COMPAT_H
#define _MEMTOPO_COMPAT_H

#include <linux/eventfd.h>

/* v6.8 (commit 3652117f8548) dropped eventfd_signal()'s count argument. */
#ifdef MEMTOPO_EVENTFD_SIGNAL_NO_COUNT
#define memtopo_eventfd_signal(ctx) eventfd_signal(ctx)
#else
#define memtopo_eventfd_signal(ctx) eventfd_signal(ctx, 1)
#endif

#endif /* _MEMTOPO_COMPAT_H */
