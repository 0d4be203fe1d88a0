/* SPDX-License-Identifier: GPL-2.0 */
/*
 * fail-nth of the calling thread (debug kernel): its nth injection point
 * from now fails, one call's points tried in turn.  Shared by the
 * selftests that walk a call's failures: a walk ends at the first n the
 * call succeeds with, or, for a call that may succeed despite a failure
 * (one it works around), at the first n it never reached.
 */
#ifndef MEMTOPO_SELFTEST_FAILNTH_H
#define MEMTOPO_SELFTEST_FAILNTH_H

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

/*
 * The thread's fail-nth file, or -1 without fault injection.  The
 * allocations that may sleep (GFP_KERNEL, all of memtopo's) are made
 * injection points too, where the defaults skip them; a knob that cannot
 * be written leaves fewer points, not a wrong test.
 */
static inline int failnth_open(void)
{
	static const char * const knobs[] = {
		"/sys/kernel/debug/failslab/ignore-gfp-wait",
		"/sys/kernel/debug/fail_page_alloc/ignore-gfp-wait",
	};
	unsigned int i;
	int fd, k;

	fd = open("/proc/thread-self/fail-nth", O_RDWR);
	if (fd < 0)
		return -1;
	for (i = 0; i < 2; i++) {
		k = open(knobs[i], O_WRONLY);
		if (k < 0)
			continue;
		if (write(k, "N", 1) != 1)
			fprintf(stderr, "# %s: not written, its points not tried\n", knobs[i]);
		close(k);
	}
	return fd;
}

/* The @n-th injection point from now fails. */
static inline void failnth_set(int fd, int n)
{
	char buf[16];
	int len = snprintf(buf, sizeof(buf), "%d", n);

	if (write(fd, buf, len) != len)
		abort();
}

/*
 * Disarm what the call left pending.  The write's own copy from userspace
 * is an injection point too: when it was the nth, it failed and the count
 * is spent, so the next write works.
 */
static inline void failnth_clear(int fd)
{
	int i;

	for (i = 0; i < 3; i++)
		if (write(fd, "0", 1) == 1)
			return;
	abort();
}

/*
 * Did the call pass fewer injection points than n, leaving the count
 * pending?  Disarms it either way.  The read copies to user memory, an
 * injection point too: a read that faults spent the last count, so it
 * was pending.
 */
static inline bool failnth_unused(int fd)
{
	char buf[16] = "";

	if (pread(fd, buf, sizeof(buf) - 1, 0) < 0) {
		if (errno != EFAULT)
			abort();
		return true;
	}
	failnth_clear(fd);
	return atoi(buf) != 0;
}

#endif
