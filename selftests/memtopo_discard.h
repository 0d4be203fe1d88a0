/* SPDX-License-Identifier: GPL-2.0 */
/*
 * MEMTOPO_DISCARD for the selftests that drive a discard manager: one call,
 * its struct handed back as the kernel left it.
 */
#ifndef _MEMTOPO_SELFTEST_DISCARD_H
#define _MEMTOPO_SELFTEST_DISCARD_H

#include <errno.h>
#include <stdint.h>
#include <sys/ioctl.h>

#include <linux/memtopo.h>

/* Return: 0 or -errno; @out, if given, gets the struct after the call. */
static int dis(int fd, __u32 op, __u32 region, __u64 gran, __u64 off, __u64 len,
	       __u64 *bitmap, struct memtopo_discard *out)
{
	struct memtopo_discard d = {
		.size = sizeof(d), .op = op, .region = region, .granularity = gran,
		.offset = off, .length = len, .bitmap = (uintptr_t)bitmap,
	};
	int ret = ioctl(fd, MEMTOPO_DISCARD, &d) ? -errno : 0;

	if (out)
		*out = d;
	return ret;
}

#endif
