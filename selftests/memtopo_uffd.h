/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Holding a call still at a chosen point, without a race: a page of user
 * memory the call reads or writes is a userfaultfd page not yet there, so
 * the call sleeps in its fault (with whatever locks it holds) until the
 * test fills the page.  Another thread's call can then be seen blocked
 * behind it (wait_blocked()).  Shared by the selftests that must order two
 * calls inside the kernel.
 */
#ifndef MEMTOPO_SELFTEST_UFFD_H
#define MEMTOPO_SELFTEST_UFFD_H

#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/userfaultfd.h>

/* Wait up to 10 s until thread @tid sleeps uninterruptibly (on a mutex). */
static inline int wait_blocked(pid_t tid)
{
	char path[64], buf[512], *p;
	int i, fd;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/self/task/%d/stat", tid);
	for (i = 0; i < 10000; i++) {
		fd = open(path, O_RDONLY);
		if (fd < 0)
			return -1;
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (n <= 0)
			return -1;
		buf[n] = 0;
		p = strrchr(buf, ')');
		if (p && p[1] == ' ' && p[2] == 'D')
			return 0;
		usleep(1000);
	}
	return -1;
}

/*
 * A userfaultfd over @len bytes at @addr (anonymous, page aligned), whose
 * pages fault into it once they are not there; -1 without userfaultfd.
 */
static inline int uffd_register(void *addr, size_t len)
{
	struct uffdio_register reg = { .mode = UFFDIO_REGISTER_MODE_MISSING };
	struct uffdio_api api = { .api = UFFD_API };
	int uffd = syscall(__NR_userfaultfd, O_CLOEXEC);

	if (uffd < 0)
		return -1;
	reg.range.start = (uintptr_t)addr;
	reg.range.len = len;
	if (ioctl(uffd, UFFDIO_API, &api) || ioctl(uffd, UFFDIO_REGISTER, &reg)) {
		close(uffd);
		return -1;
	}
	return uffd;
}

/* Wait up to 10 s for a fault on @uffd; its page's address, or 0. */
static inline uintptr_t uffd_wait_fault(int uffd)
{
	struct pollfd pfd = { .fd = uffd, .events = POLLIN };
	struct uffd_msg msg;

	if (poll(&pfd, 1, 10000) != 1 || read(uffd, &msg, sizeof(msg)) != sizeof(msg) ||
	    msg.event != UFFD_EVENT_PAGEFAULT)
		return 0;
	return msg.arg.pagefault.address & ~((uintptr_t)sysconf(_SC_PAGESIZE) - 1);
}

/* Put a zeroed, writable page at @page, waking what faulted on it. */
static inline int uffd_fill(int uffd, uintptr_t page)
{
	static char zeros[1 << 16];
	struct uffdio_copy copy = {
		.dst = page, .src = (uintptr_t)zeros, .len = sysconf(_SC_PAGESIZE),
	};

	return ioctl(uffd, UFFDIO_COPY, &copy) ? -1 : 0;
}

#endif /* MEMTOPO_SELFTEST_UFFD_H */
