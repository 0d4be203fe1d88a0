// SPDX-License-Identifier: GPL-2.0
/*
 * kselftests of served devices (MEMTOPO_SERVE): an I/O or ROM-device region
 * answered by a userspace server through a device fd.  Round trips from
 * MEMTOPO_SPACE_RW in another process and from a kernel consumer (the
 * memtopo_mirror module), the failure rules (timeout, server closed,
 * re-entry, killed accessor, region destroyed while requests wait), many
 * threads answered out of order, the ioeventfd fast path and the errno
 * contract of the ioctl and of the device fd.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "../tools/memtopoctl/libmemtopo.c"
#include "../kmod/memtopo_mirror.h"

/* not static: the compiler must not see that it is a bad pointer */
void *s_bad_ptr = (void *)8;

#define DEV_ADDR	0x1000
#define DEV_SIZE	0x100

static int s_serve(int fd, __u32 region, __u32 flags, __u32 timeout_ms, int *dfd)
{
	struct memtopo_serve s = {
		.size = sizeof(s), .flags = flags, .region = region, .timeout_ms = timeout_ms,
	};

	if (ioctl(fd, MEMTOPO_SERVE, &s))
		return -errno;
	*dfd = s.out_fd;
	return 0;
}

static int s_rw(int fd, __u32 space, __u64 addr, void *buf, __u64 len, bool write)
{
	return mt_space_rw(fd, space, addr, buf, len, write);
}

static int s_read32(int fd, __u32 space, __u64 addr, __u32 *v)
{
	return s_rw(fd, space, addr, v, 4, false);
}

/* One reply; 0 or -errno. */
static int s_reply(int dfd, __u64 seq, __u64 data, __u32 flags)
{
	struct memtopo_served_reply r = { .seq = seq, .data = data, .flags = flags };

	return write(dfd, &r, sizeof(r)) == sizeof(r) ? 0 : -errno;
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/*
 * The test device: 0x100 bytes of registers, little-endian.  Reads at
 * 0x80 and above return a signature naming the request instead
 * (0x5e000000 | offset << 8 | len), so a test sees what was asked.
 */
static __u64 dev_answer(__u8 *regs, const struct memtopo_served_req *q)
{
	__u64 v = 0;
	unsigned int i;

	if (q->flags & MEMTOPO_SERVED_WRITE) {
		for (i = 0; i < q->len; i++)
			regs[q->offset + i] = q->data >> (8 * i);
		return 0;
	}
	if (q->offset >= 0x80)
		return 0x5e000000 | q->offset << 8 | q->len;
	for (i = 0; i < q->len; i++)
		v |= (__u64)regs[q->offset + i] << (8 * i);
	return v;
}

/* Serve the test device until EOF or an error; exit 0 on EOF. */
static void serve_loop(int dfd, __u32 region)
{
	static __u8 regs[DEV_SIZE];
	struct memtopo_served_req q[16];
	struct memtopo_served_reply r[16];
	ssize_t n;
	int i, k;

	for (;;) {
		n = read(dfd, q, sizeof(q));
		if (n == 0)
			_exit(0);
		if (n < 0 && errno == EAGAIN) {	/* a non-blocking device fd */
			struct pollfd p = { .fd = dfd, .events = POLLIN };

			poll(&p, 1, -1);
			continue;
		}
		if (n < 0)
			_exit(errno == EIO ? 3 : 2);
		k = n / sizeof(q[0]);
		for (i = 0; i < k; i++) {
			if (q[i].region != region || q[i].offset >= DEV_SIZE || q[i].__reserved)
				_exit(4);
			r[i] = (struct memtopo_served_reply) {
				.seq = q[i].seq, .data = dev_answer(regs, &q[i]),
			};
		}
		if (write(dfd, r, k * sizeof(r[0])) != (ssize_t)(k * sizeof(r[0])))
			_exit(5);
	}
}

FIXTURE(served) {
	int fd, root, dev, space, dfd;
	pid_t server;
};

FIXTURE_SETUP(served)
{
	struct memtopo_op op;

	self->fd = mt_open();
	ASSERT_GE(self->fd, 0);
	self->root = mt_region_create(self->fd, MEMTOPO_KIND_CONTAINER, "root", 0,
				      MEMTOPO_OP_F_SIZE_2_64);
	ASSERT_GT(self->root, 0);
	self->dev = mt_region_create(self->fd, MEMTOPO_KIND_IO, "dev", DEV_SIZE, 0);
	ASSERT_GT(self->dev, 0);
	ASSERT_EQ(0, mt_region_set(self->fd, MEMTOPO_OP_ADD_SUBREGION, self->dev, self->root,
				   DEV_ADDR, 0));
	mt_op_init(&op, MEMTOPO_OP_SPACE_CREATE);
	op.ref = self->root;
	strcpy(op.name, "mem");
	ASSERT_EQ(0, mt_op(self->fd, &op));
	self->space = op.id;
	self->dfd = -1;
	self->server = 0;
}

FIXTURE_TEARDOWN(served)
{
	int st;

	if (self->dfd >= 0)
		close(self->dfd);
	close(self->fd);
	if (self->server > 0) {
		kill(self->server, SIGKILL);
		waitpid(self->server, &st, 0);
	}
}

/* Fork a server process for the test device; the parent keeps no device fd. */
static pid_t start_server(int dfd, __u32 region)
{
	pid_t pid = fork();

	if (pid == 0)
		serve_loop(dfd, region);
	close(dfd);
	return pid;
}

/* Round trip from MEMTOPO_SPACE_RW in another process, request contents. */
TEST_F(served, roundtrip_other_process)
{
	__u8 buf[8], pat[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	pid_t c;
	__u32 v;
	__u16 h;
	int st;

	ASSERT_EQ(0, s_serve(self->fd, self->dev, 0, 5000, &self->dfd));
	self->server = start_server(self->dfd, self->dev);
	self->dfd = -1;
	ASSERT_GT(self->server, 0);

	/* 8 bytes: two 4-byte requests by the default access rules */
	ASSERT_EQ(0, s_rw(self->fd, self->space, DEV_ADDR + 0x10, pat, 8, true));
	memset(buf, 0, sizeof(buf));
	ASSERT_EQ(0, s_rw(self->fd, self->space, DEV_ADDR + 0x10, buf, 8, false));
	EXPECT_EQ(0, memcmp(buf, pat, 8));
	/* what the server was asked: offset and size */
	ASSERT_EQ(0, s_read32(self->fd, self->space, DEV_ADDR + 0x84, &v));
	EXPECT_EQ(0x5e008404u, v);
	ASSERT_EQ(0, s_rw(self->fd, self->space, DEV_ADDR + 0x92, &h, 2, false));
	EXPECT_EQ(0x9202, h);
	/* a misaligned 4-byte access is cut on alignment: 1 + 2 + 1 */
	ASSERT_EQ(0, s_rw(self->fd, self->space, DEV_ADDR + 0x11, pat, 4, true));
	ASSERT_EQ(0, s_rw(self->fd, self->space, DEV_ADDR + 0x10, buf, 8, false));
	EXPECT_EQ(1, buf[0]);
	EXPECT_EQ(0, memcmp(buf + 1, pat, 4));
	/* from a second process on the same context */
	c = fork();
	if (c == 0) {
		__u32 w = 0xabcd1234, r = 0;

		if (s_rw(self->fd, self->space, DEV_ADDR + 0x20, &w, 4, true) ||
		    s_read32(self->fd, self->space, DEV_ADDR + 0x20, &r) || r != w)
			_exit(1);
		_exit(0);
	}
	ASSERT_EQ(c, waitpid(c, &st, 0));
	EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	ASSERT_EQ(0, s_read32(self->fd, self->space, DEV_ADDR + 0x20, &v));
	EXPECT_EQ(0xabcd1234u, v);
}

/* Round trip from a kernel consumer: memtopo_space_read()/_write(). */
TEST_F(served, roundtrip_kernel_consumer)
{
	struct memtopo_mirror_attach a = { .size = sizeof(a) };
	__u32 w = 0x600df00d, r = 0;
	struct memtopo_mirror_rw rw = { .size = sizeof(rw), .len = 4 };
	int mfd = open("/dev/memtopo_mirror", O_RDWR);

	if (mfd < 0)
		SKIP(return, "memtopo_mirror.ko is not loaded");
	a.memtopo_fd = self->fd;
	a.space = self->space;
	ASSERT_EQ(0, ioctl(mfd, MEMTOPO_MIRROR_ATTACH, &a));
	ASSERT_EQ(0, s_serve(self->fd, self->dev, 0, 5000, &self->dfd));
	self->server = start_server(self->dfd, self->dev);
	self->dfd = -1;

	rw.flags = MEMTOPO_MIRROR_RW_WRITE;
	rw.addr = DEV_ADDR + 0x40;
	rw.buf = (uintptr_t)&w;
	ASSERT_EQ(0, ioctl(mfd, MEMTOPO_MIRROR_RW, &rw));
	rw.flags = 0;
	rw.buf = (uintptr_t)&r;
	ASSERT_EQ(0, ioctl(mfd, MEMTOPO_MIRROR_RW, &rw));
	EXPECT_EQ(w, r);
	rw.addr = DEV_ADDR + 0xa0;
	ASSERT_EQ(0, ioctl(mfd, MEMTOPO_MIRROR_RW, &rw));
	EXPECT_EQ(0x5e00a004u, r);
	/* the consumer sees the server's failure as an errno */
	kill(self->server, SIGKILL);
	waitpid(self->server, NULL, 0);
	self->server = 0;
	EXPECT_EQ(-1, ioctl(mfd, MEMTOPO_MIRROR_RW, &rw));
	EXPECT_EQ(ENODEV, errno);
	close(mfd);
}

struct acc {
	int fd;
	__u32 space;
	__u64 addr;
	int delay_ms;
	int ret;
	__u32 v;
};

static void *accessor(void *p)
{
	struct acc *a = p;

	if (a->delay_ms)
		usleep(a->delay_ms * 1000);
	a->ret = s_read32(a->fd, a->space, a->addr, &a->v);
	return NULL;
}

/* Requests queued (read() would return them) within @ms. */
static int wait_queued(int dfd, int ms)
{
	struct pollfd p = { .fd = dfd, .events = POLLIN };

	return poll(&p, 1, ms) == 1 && (p.revents & POLLIN);
}

/*
 * Timeout: ETIMEDOUT for the late request, EIO for every other, broken after.
 * The timeout is long so that "fails at once" (well under it) holds on a
 * loaded TCG guest too.
 */
#define BREAK_TIMEOUT_MS 1000
TEST_F(served, timeout_breaks_device)
{
	struct acc a = { self->fd, self->space, DEV_ADDR, 0 }, b = a;
	struct memtopo_served_req q;
	struct pollfd p;
	pthread_t ta, tb;
	int d2 = -1;
	double t0;
	__u32 v;

	ASSERT_EQ(0, s_serve(self->fd, self->dev, 0, BREAK_TIMEOUT_MS, &self->dfd));
	b.delay_ms = 50;
	t0 = now_ms();
	ASSERT_EQ(0, pthread_create(&ta, NULL, accessor, &a));
	ASSERT_EQ(0, pthread_create(&tb, NULL, accessor, &b));
	pthread_join(ta, NULL);
	pthread_join(tb, NULL);
	EXPECT_GE(now_ms() - t0, BREAK_TIMEOUT_MS - 10);
	/* whichever times out first gets ETIMEDOUT and breaks the device: EIO */
	EXPECT_TRUE((a.ret == -ETIMEDOUT && b.ret == -EIO) ||
		    (a.ret == -EIO && b.ret == -ETIMEDOUT));
	/* broken: later accesses fail at once, the server is told */
	t0 = now_ms();
	EXPECT_EQ(-EIO, s_read32(self->fd, self->space, DEV_ADDR, &v));
	EXPECT_LT(now_ms() - t0, BREAK_TIMEOUT_MS);
	EXPECT_EQ(-1, read(self->dfd, &q, sizeof(q)));
	EXPECT_EQ(EIO, errno);
	p = (struct pollfd){ .fd = self->dfd, .events = POLLIN };
	EXPECT_EQ(1, poll(&p, 1, 0));
	EXPECT_TRUE(p.revents & POLLERR);
	/* a broken device keeps its region until its fd goes */
	EXPECT_EQ(-EBUSY, s_serve(self->fd, self->dev, 0, 0, &d2));
	close(self->dfd);
	self->dfd = -1;
	EXPECT_EQ(-ENODEV, s_read32(self->fd, self->space, DEV_ADDR, &v));
	ASSERT_EQ(0, s_serve(self->fd, self->dev, 0, 0, &d2));
	self->server = start_server(d2, self->dev);
	EXPECT_EQ(0, s_read32(self->fd, self->space, DEV_ADDR + 0x80, &v));
	EXPECT_EQ(0x5e008004u, v);
}

/* The server goes with requests pending (one read, one not): ENODEV. */
TEST_F(served, server_close_fails_pending)
{
	struct acc a = { self->fd, self->space, DEV_ADDR, 0 }, b = a;
	struct memtopo_served_req q;
	pthread_t ta, tb;
	__u32 v;

	ASSERT_EQ(0, s_serve(self->fd, self->dev, MEMTOPO_SERVE_NONBLOCK, 10000, &self->dfd));
	ASSERT_EQ(0, pthread_create(&ta, NULL, accessor, &a));
	ASSERT_TRUE(wait_queued(self->dfd, 5000));
	ASSERT_EQ(sizeof(q), read(self->dfd, &q, sizeof(q)));	/* taken, not answered */
	b.addr = DEV_ADDR + 4;
	ASSERT_EQ(0, pthread_create(&tb, NULL, accessor, &b));
	ASSERT_TRUE(wait_queued(self->dfd, 5000));		/* queued, not taken */
	close(self->dfd);
	self->dfd = -1;
	pthread_join(ta, NULL);
	pthread_join(tb, NULL);
	EXPECT_EQ(-ENODEV, a.ret);
	EXPECT_EQ(-ENODEV, b.ret);
	EXPECT_EQ(-ENODEV, s_read32(self->fd, self->space, DEV_ADDR, &v));
}

/* An access from the device's own server is refused, not deadlocked. */
TEST_F(served, reentry_refused)
{
	pid_t pid;
	__u32 v;
	int st;

	ASSERT_EQ(0, s_serve(self->fd, self->dev, 0, 5000, &self->dfd));
	pid = fork();
	if (pid == 0) {
		struct memtopo_served_req q;
		__u32 inner;
		int ret;

		if (read(self->dfd, &q, sizeof(q)) != sizeof(q))
			_exit(1);
		/* handling a request, the server reads its own device */
		ret = s_read32(self->fd, self->space, DEV_ADDR + 0x80, &inner);
		_exit(s_reply(self->dfd, q.seq, -ret, 0) ? 2 : 0);
	}
	self->server = pid;
	close(self->dfd);
	self->dfd = -1;
	ASSERT_EQ(0, s_read32(self->fd, self->space, DEV_ADDR, &v));
	EXPECT_EQ(EDEADLK, v);
	ASSERT_EQ(pid, waitpid(pid, &st, 0));
	self->server = 0;
	EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

#define NTHREADS	4
#define NREQ		10000

struct hammer {
	int fd;
	__u32 space;
	int id;
	int bad;
	int err;
};

/*
 * The server and the hammering threads share vCPU 0: under TCG on a loaded
 * host, waking an idle vCPU waits for the host's scheduler (milliseconds a
 * hop, see tools/vm/bench-served), while a wake-up on the same vCPU is a
 * context switch.  The threads still run concurrently, requests still pile
 * up and are answered out of order; the other tests run unpinned.
 */
static void pin_cpu0(void)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(0, &set);
	sched_setaffinity(0, sizeof(set), &set);
}

static void *hammer_thread(void *p)
{
	struct hammer *h = p;
	int i;

	pin_cpu0();

	/* 32 bytes an access: 8 requests, one after the other */
	for (i = 0; i < NREQ; i += 8) {
		__u32 off = 0x80 + h->id * 0x20, v[8];
		int ret = s_rw(h->fd, h->space, DEV_ADDR + off, v, sizeof(v), false), k;

		if (ret) {
			h->err = ret;
			return NULL;
		}
		for (k = 0; k < 8; k++)
			if (v[k] != (0x5e000000u | (off + 4 * k) << 8 | 4))
				h->bad++;
	}
	return NULL;
}

/*
 * A server that answers every request it has, last first.  Until it has
 * answered OOO_MIN out of order it waits for at least two requests (all
 * threads are busy then); after that it answers whatever one read() gets.
 * Counts the answers that went out of order in *@ooo (shared memory).
 */
#define OOO_MIN	100

static void serve_reversed(int dfd, long *ooo)
{
	struct memtopo_served_req q[NTHREADS];
	struct memtopo_served_reply r[NTHREADS];
	long out_of_order = 0;
	int n = 0, i;

	for (;;) {
		/* a blocking read returns what is queued, at least one */
		ssize_t got = read(dfd, &q[n], (NTHREADS - n) * sizeof(q[0]));

		if (got <= 0)
			break;
		n += got / sizeof(q[0]);
		if (n < 2 && out_of_order < OOO_MIN)
			continue;
		for (i = 0; i < n; i++)
			r[n - 1 - i] = (struct memtopo_served_reply) {
				.seq = q[i].seq, .data = 0x5e000000 | q[i].offset << 8 | q[i].len,
			};
		if (write(dfd, r, n * sizeof(r[0])) != (ssize_t)(n * sizeof(r[0])))
			_exit(5);
		out_of_order += n - 1;
		__atomic_store_n(ooo, out_of_order, __ATOMIC_RELAXED);
		n = 0;
	}
	_exit(0);
}

/* 4 threads x 10,000 requests, answered in reverse order of arrival. */
TEST_F_TIMEOUT(served, concurrent_out_of_order, 300)
{
	struct hammer h[NTHREADS];
	pthread_t t[NTHREADS];
	long *ooo;
	double t0;
	int i;

	ooo = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, ooo);
	ASSERT_EQ(0, s_serve(self->fd, self->dev, 0, 10000, &self->dfd));
	self->server = fork();
	if (self->server == 0) {
		pin_cpu0();
		serve_reversed(self->dfd, ooo);
	}
	close(self->dfd);
	self->dfd = -1;
	t0 = now_ms();
	for (i = 0; i < NTHREADS; i++) {
		h[i] = (struct hammer){ .fd = self->fd, .space = self->space, .id = i };
		ASSERT_EQ(0, pthread_create(&t[i], NULL, hammer_thread, &h[i]));
	}
	for (i = 0; i < NTHREADS; i++) {
		pthread_join(t[i], NULL);
		EXPECT_EQ(0, h[i].err);
		EXPECT_EQ(0, h[i].bad);
	}
	TH_LOG("%d round trips in %.0f ms, %ld answered out of order", NTHREADS * NREQ,
	       now_ms() - t0, __atomic_load_n(ooo, __ATOMIC_RELAXED));
	EXPECT_GE(__atomic_load_n(ooo, __ATOMIC_RELAXED), OOO_MIN);
	munmap(ooo, 4096);
}

/* A killed accessor withdraws its request: nothing is left behind. */
TEST_F(served, killed_accessor)
{
	struct memtopo_served_req q;
	pid_t c;
	__u32 v;
	int st;

	ASSERT_EQ(0, s_serve(self->fd, self->dev, MEMTOPO_SERVE_NONBLOCK, 10000, &self->dfd));
	/* killed after the server read its request: the late answer is ENOENT */
	c = fork();
	if (c == 0) {
		s_read32(self->fd, self->space, DEV_ADDR, &v);
		_exit(0);
	}
	ASSERT_TRUE(wait_queued(self->dfd, 5000));
	ASSERT_EQ(sizeof(q), read(self->dfd, &q, sizeof(q)));
	kill(c, SIGKILL);
	ASSERT_EQ(c, waitpid(c, &st, 0));
	EXPECT_TRUE(WIFSIGNALED(st));
	EXPECT_EQ(-ENOENT, s_reply(self->dfd, q.seq, 1, 0));
	/* killed while still queued: the server never sees it */
	c = fork();
	if (c == 0) {
		s_read32(self->fd, self->space, DEV_ADDR, &v);
		_exit(0);
	}
	ASSERT_TRUE(wait_queued(self->dfd, 5000));
	kill(c, SIGKILL);
	ASSERT_EQ(c, waitpid(c, &st, 0));
	EXPECT_EQ(-1, read(self->dfd, &q, sizeof(q)));
	EXPECT_EQ(EAGAIN, errno);
	/* the device is not broken: the next access is served */
	self->server = start_server(self->dfd, self->dev);
	self->dfd = -1;
	EXPECT_EQ(0, s_read32(self->fd, self->space, DEV_ADDR + 0x88, &v));
	EXPECT_EQ(0x5e008804u, v);
}

/* The region destroyed while requests wait: ENODEV, and EOF for the server. */
TEST_F(served, region_destroyed_while_waiting)
{
	struct acc a = { self->fd, self->space, DEV_ADDR, 0 }, b = a;
	struct memtopo_served_req q;
	struct pollfd p;
	pthread_t ta, tb;
	double t0;

	ASSERT_EQ(0, s_serve(self->fd, self->dev, 0, 10000, &self->dfd));
	ASSERT_EQ(0, pthread_create(&ta, NULL, accessor, &a));
	ASSERT_TRUE(wait_queued(self->dfd, 5000));
	ASSERT_EQ(sizeof(q), read(self->dfd, &q, sizeof(q)));
	ASSERT_EQ(0, pthread_create(&tb, NULL, accessor, &b));
	ASSERT_TRUE(wait_queued(self->dfd, 5000));
	/* the topology changes while both wait: no lock is held for them */
	t0 = now_ms();
	ASSERT_EQ(0, mt_region_set(self->fd, MEMTOPO_OP_DEL_SUBREGION, self->dev, self->root,
				   0, 0));
	ASSERT_EQ(0, mt_region_set(self->fd, MEMTOPO_OP_REGION_DESTROY, self->dev, 0, 0, 0));
	pthread_join(ta, NULL);
	pthread_join(tb, NULL);
	EXPECT_LT(now_ms() - t0, 5000);
	EXPECT_EQ(-ENODEV, a.ret);
	EXPECT_EQ(-ENODEV, b.ret);
	EXPECT_EQ(-ENOENT, s_reply(self->dfd, q.seq, 0, 0));
	EXPECT_EQ(0, read(self->dfd, &q, sizeof(q)));
	p = (struct pollfd){ .fd = self->dfd, .events = POLLIN };
	EXPECT_EQ(1, poll(&p, 1, 0));
	EXPECT_TRUE(p.revents & POLLHUP);
}

/* The device fd closed and the space destroyed while a request waits. */
TEST_F(served, fd_closed_and_space_destroyed_while_waiting)
{
	struct acc a = { self->fd, self->space, DEV_ADDR, 0 };
	pthread_t ta;

	ASSERT_EQ(0, s_serve(self->fd, self->dev, 0, 10000, &self->dfd));
	ASSERT_EQ(0, pthread_create(&ta, NULL, accessor, &a));
	ASSERT_TRUE(wait_queued(self->dfd, 5000));
	ASSERT_EQ(0, mt_region_set(self->fd, MEMTOPO_OP_SPACE_DESTROY, self->space, 0, 0, 0));
	close(self->dfd);
	self->dfd = -1;
	pthread_join(ta, NULL);
	EXPECT_EQ(-ENODEV, a.ret);
}

/* A write matching an ioeventfd signals it and sends no request. */
TEST_F(served, ioeventfd_fast_path)
{
	struct memtopo_ioeventfd io = {
		.size = sizeof(io), .flags = MEMTOPO_IOEVENTFD_DATAMATCH, .region = self->dev,
		.len = 4, .offset = 0x10, .data = 7,
	};
	struct memtopo_served_req q;
	__u32 seven = 7, eight = 8;
	__u64 cnt = 0;
	int efd = eventfd(0, EFD_NONBLOCK);

	ASSERT_GE(efd, 0);
	io.fd = efd;
	ASSERT_EQ(0, ioctl(self->fd, MEMTOPO_IOEVENTFD, &io));
	ASSERT_EQ(0, s_serve(self->fd, self->dev, MEMTOPO_SERVE_NONBLOCK, 10000, &self->dfd));
	ASSERT_EQ(0, s_rw(self->fd, self->space, DEV_ADDR + 0x10, &seven, 4, true));
	ASSERT_EQ(8, read(efd, &cnt, 8));
	EXPECT_EQ(1, cnt);
	EXPECT_EQ(-1, read(self->dfd, &q, sizeof(q)));
	EXPECT_EQ(EAGAIN, errno);
	/* another value is a request */
	self->server = start_server(self->dfd, self->dev);
	self->dfd = -1;
	ASSERT_EQ(0, s_rw(self->fd, self->space, DEV_ADDR + 0x10, &eight, 4, true));
	EXPECT_EQ(-1, read(efd, &cnt, 8));
	close(efd);
}

/* A ROM device: romd reads are RAM, writes and non-romd reads are served. */
TEST_F(served, rom_device)
{
	struct memtopo_op op;
	__u32 v, w = 0x11223344;
	int romd;

	mt_op_init(&op, MEMTOPO_OP_REGION_CREATE);
	op.kind = MEMTOPO_KIND_ROM_DEVICE;
	op.flags = MEMTOPO_OP_F_KERNEL_BACKING;
	op.length = 0x1000;
	strcpy(op.name, "flash");
	ASSERT_EQ(0, mt_op(self->fd, &op));
	romd = op.id;
	ASSERT_EQ(0, mt_region_set(self->fd, MEMTOPO_OP_ADD_SUBREGION, romd, self->root,
				   0x10000, 0));
	ASSERT_EQ(0, s_serve(self->fd, romd, 0, 5000, &self->dfd));
	self->server = start_server(self->dfd, romd);
	self->dfd = -1;
	/* romd mode: zero-filled RAM, no request */
	ASSERT_EQ(0, s_read32(self->fd, self->space, 0x10084, &v));
	EXPECT_EQ(0, v);
	ASSERT_EQ(0, s_rw(self->fd, self->space, 0x10000, &w, 4, true));
	mt_op_init(&op, MEMTOPO_OP_SET_ROMD);
	op.id = romd;
	op.value = 0;
	ASSERT_EQ(0, mt_op(self->fd, &op));
	ASSERT_EQ(0, s_read32(self->fd, self->space, 0x10084, &v));
	EXPECT_EQ(0x5e008404u, v);
	ASSERT_EQ(0, s_read32(self->fd, self->space, 0x10000, &v));
	EXPECT_EQ(w, v);
}

/* MEMTOPO_SERVE's errno contract; a failed call changes nothing. */
TEST_F(served, serve_errnos)
{
	struct memtopo_serve s = { .size = sizeof(s), .region = self->dev };
	struct {
		struct memtopo_serve s;
		__u32 tail;
	} big = { .s = s, .tail = 1 };

	struct memtopo_serve *ro, t = s;
	int ram, before, d, after, other;
	__u32 v;

	ram = mt_region_create(self->fd, MEMTOPO_KIND_RAM, "ram", 0x1000, 0);
	ASSERT_GT(ram, 0);
#define BAD(field, val, err) do {						\
		struct memtopo_serve t = s;					\
		t.field = (val);						\
		EXPECT_EQ(-1, ioctl(self->fd, MEMTOPO_SERVE, &t));		\
		EXPECT_EQ(err, errno);						\
	} while (0)
	BAD(size, 8, EINVAL);
	BAD(flags, 1 << 3, EINVAL);
	BAD(__reserved, 1, EINVAL);
	BAD(region, 9999, ENOENT);
	BAD(region, ram, EINVAL);
	BAD(region, self->root, EINVAL);
	BAD(timeout_ms, MEMTOPO_SERVE_TIMEOUT_MAX_MS + 1, EINVAL);
	BAD(valid_max, 3, EINVAL);
	BAD(impl_min, 16, EINVAL);
#undef BAD
	t.valid_min = 4;
	t.valid_max = 2;
	EXPECT_EQ(-1, ioctl(self->fd, MEMTOPO_SERVE, &t));
	EXPECT_EQ(EINVAL, errno);
	big.s.size = sizeof(big);
	EXPECT_EQ(-1, ioctl(self->fd, MEMTOPO_SERVE, &big));
	EXPECT_EQ(E2BIG, errno);
	EXPECT_EQ(-1, ioctl(self->fd, MEMTOPO_SERVE, s_bad_ptr));
	EXPECT_EQ(EFAULT, errno);
	/* the copy-out fails: no fd, the region not served */
	ro = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, ro);
	*ro = s;
	ASSERT_EQ(0, mprotect(ro, 4096, PROT_READ));
	before = dup(0);
	close(before);
	EXPECT_EQ(-1, ioctl(self->fd, MEMTOPO_SERVE, ro));
	EXPECT_EQ(EFAULT, errno);
	after = dup(0);
	close(after);
	EXPECT_EQ(before, after);
	munmap(ro, 4096);
	/* after every failure the region is still unserved */
	EXPECT_EQ(-EOPNOTSUPP, s_read32(self->fd, self->space, DEV_ADDR, &v));
	/* a live server makes it busy; a region of another context is ENOENT */
	ASSERT_EQ(0, s_serve(self->fd, self->dev, 0, 0, &self->dfd));
	EXPECT_EQ(-EBUSY, s_serve(self->fd, self->dev, 0, 0, &d));
	other = mt_open();
	ASSERT_GE(other, 0);
	EXPECT_EQ(-ENOENT, s_serve(other, self->dev, 0, 0, &d));
	close(other);
	/* the device fd is close-on-exec */
	EXPECT_EQ(FD_CLOEXEC, fcntl(self->dfd, F_GETFD) & FD_CLOEXEC);
}

/* The device fd's read()/write() errno contract. */
TEST_F(served, device_fd_errnos)
{
	struct acc a = { self->fd, self->space, DEV_ADDR + 0x80, 0 };
	struct memtopo_served_reply r[2] = {};
	struct memtopo_served_req q;
	pthread_t ta;
	char small[8];

	ASSERT_EQ(0, s_serve(self->fd, self->dev, MEMTOPO_SERVE_NONBLOCK, 10000, &self->dfd));
	EXPECT_EQ(-1, read(self->dfd, small, sizeof(small)));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, read(self->dfd, &q, sizeof(q)));
	EXPECT_EQ(EAGAIN, errno);
	EXPECT_EQ(-1, write(self->dfd, r, sizeof(r[0]) - 1));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-ENOENT, s_reply(self->dfd, 12345, 0, 0));

	ASSERT_EQ(0, pthread_create(&ta, NULL, accessor, &a));
	ASSERT_TRUE(wait_queued(self->dfd, 5000));
	/* a bad read buffer gives the request back */
	EXPECT_EQ(-1, read(self->dfd, s_bad_ptr, sizeof(q)));
	EXPECT_EQ(EFAULT, errno);
	ASSERT_EQ(sizeof(q), read(self->dfd, &q, sizeof(q)));
	EXPECT_EQ(0, q.flags);
	EXPECT_EQ(0x80, q.offset);
	EXPECT_EQ(4, q.len);
	EXPECT_EQ(self->dev, q.region);
	EXPECT_EQ(-EINVAL, s_reply(self->dfd, q.seq, 0, 1 << 5));
	r[0] = (struct memtopo_served_reply){ .seq = q.seq, .__reserved = 1 };
	EXPECT_EQ(-1, write(self->dfd, r, sizeof(r[0])));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, write(self->dfd, s_bad_ptr, sizeof(r[0])));
	EXPECT_EQ(EFAULT, errno);
	/* two records, the second unknown: the first is answered, its bytes returned */
	r[0] = (struct memtopo_served_reply){ .seq = q.seq, .flags = MEMTOPO_SERVED_FAIL };
	r[1] = (struct memtopo_served_reply){ .seq = 999999 };
	EXPECT_EQ(sizeof(r[0]), write(self->dfd, r, sizeof(r)));
	pthread_join(ta, NULL);
	EXPECT_EQ(-EIO, a.ret);
}

TEST_HARNESS_MAIN
