// SPDX-License-Identifier: GPL-2.0
/*
 * memtopo-served-bench: the cost of a served device's round trip against
 * the paths that stay in the kernel, all through MEMTOPO_SPACE_RW with
 * 4-byte accesses:
 *   ram        a read of kernel-owned RAM (copied under RCU)
 *   ioeventfd  a write an ioeventfd takes (signalled, no round trip)
 *   served     a read of a served I/O region (request, server's read(),
 *              reply, wake-up), the server in another process pinned to
 *              the accessor's vCPU (a context switch per hop) or to the
 *              other one (a cross-CPU wake-up per hop: under TCG on a
 *              loaded host, the host's scheduling latency)
 *   served x4  the same from 4 threads at once, unpinned, answered in
 *              batches
 * Prints per-access latency (mean, median, 99th percentile), accesses per
 * second and each path's cost relative to the RAM read (medians: a loaded
 * host's preemptions swing the means).  Under TCG only the ratios
 * mean anything.  Run in the stock VM with tools/vm/bench-served.
 *   memtopo-served-bench [-n ITERATIONS]
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "libmemtopo.h"

static int fd;
static __u32 space;

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static void die(const char *what, int err)
{
	fprintf(stderr, "memtopo-served-bench: %s: %s\n", what, strerror(err < 0 ? -err : err));
	exit(1);
}

static __u32 create(__u32 kind, const char *name, __u64 size, __u32 flags)
{
	struct memtopo_op op;
	int ret;

	mt_op_init(&op, MEMTOPO_OP_REGION_CREATE);
	op.kind = kind;
	op.length = size;
	op.flags = flags;
	strcpy(op.name, name);
	ret = mt_op(fd, &op);
	if (ret)
		die(name, ret);
	return op.id;
}

static void map(__u32 parent, __u32 child, __u64 addr)
{
	struct memtopo_op op;
	int ret;

	mt_op_init(&op, MEMTOPO_OP_ADD_SUBREGION);
	op.ref = parent;
	op.id = child;
	op.addr = addr;
	ret = mt_op(fd, &op);
	if (ret)
		die("map", ret);
}

static void serve(int dfd)
{
	struct memtopo_served_req q[16];
	struct memtopo_served_reply r[16];
	ssize_t n;
	int i, k;

	for (;;) {
		n = read(dfd, q, sizeof(q));
		if (n <= 0)
			_exit(n ? 1 : 0);
		k = n / sizeof(q[0]);
		for (i = 0; i < k; i++)
			r[i] = (struct memtopo_served_reply){
				.seq = q[i].seq, .data = q[i].offset,
			};
		if (write(dfd, r, k * sizeof(r[0])) < 0)
			_exit(1);
	}
}

/* Pin @pid (0: the caller) to @cpu, or let it run anywhere if @cpu < 0. */
static void pin(pid_t pid, int cpu)
{
	cpu_set_t set;
	int i;

	CPU_ZERO(&set);
	for (i = 0; i < CPU_SETSIZE; i++)
		if (cpu < 0 || i == cpu)
			CPU_SET(i, &set);
	if (sched_setaffinity(pid, sizeof(set), &set) && cpu >= 0)
		die("sched_setaffinity", errno);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

struct result {
	const char *name;
	double mean, p50, p99, per_s;
};

/* @n accesses, each timed; returns mean/median/p99 in microseconds. */
static struct result run(const char *name, __u64 addr, bool write, long n)
{
	double *lat = malloc(n * sizeof(*lat)), t0, t;
	struct result res = { .name = name };
	__u32 v = 1;
	long i;
	int ret;

	if (!lat)
		die("malloc", ENOMEM);
	t0 = now_us();
	for (i = 0; i < n; i++) {
		t = now_us();
		ret = mt_space_rw(fd, space, addr, &v, 4, write);
		lat[i] = now_us() - t;
		if (ret)
			die(name, ret);
	}
	res.per_s = n / ((now_us() - t0) / 1e6);
	for (i = 0; i < n; i++)
		res.mean += lat[i] / n;
	qsort(lat, n, sizeof(*lat), cmp_double);
	res.p50 = lat[n / 2];
	res.p99 = lat[n * 99 / 100];
	free(lat);
	return res;
}

struct par {
	__u64 addr;
	long n;
	int err;
};

static void *par_thread(void *p)
{
	struct par *a = p;
	__u32 v;
	long i;

	for (i = 0; i < a->n && !a->err; i++)
		a->err = mt_space_rw(fd, space, a->addr, &v, 4, 0);
	return NULL;
}

/* @n accesses from each of 4 threads; only throughput. */
static struct result run_parallel(const char *name, __u64 addr, long n)
{
	struct result res = { .name = name };
	struct par a[4];
	pthread_t t[4];
	double t0;
	int i;

	t0 = now_us();
	for (i = 0; i < 4; i++) {
		a[i] = (struct par){ .addr = addr + 4 * i, .n = n };
		if (pthread_create(&t[i], NULL, par_thread, &a[i]))
			die("pthread_create", errno);
	}
	for (i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		if (a[i].err)
			die(name, a[i].err);
	}
	res.per_s = 4 * n / ((now_us() - t0) / 1e6);
	res.mean = -1;	/* not timed one by one */
	return res;
}

int main(int argc, char **argv)
{
	struct memtopo_serve s = { .size = sizeof(s) };
	struct memtopo_ioeventfd io = { .size = sizeof(io), .len = 4 };
	__u32 root, ram, door, dev;
	struct result r[5];
	long n = 20000;
	struct memtopo_op op;
	int opt, i, ret;
	pid_t server;

	while ((opt = getopt(argc, argv, "n:")) != -1) {
		n = opt == 'n' ? atol(optarg) : 0;
		if (n < 100) {
			fprintf(stderr, "usage: memtopo-served-bench [-n ITERATIONS (>= 100)]\n");
			return 2;
		}
	}
	fd = mt_open();
	if (fd < 0)
		die("/dev/memtopo", fd);
	root = create(MEMTOPO_KIND_CONTAINER, "root", 0, MEMTOPO_OP_F_SIZE_2_64);
	ram = create(MEMTOPO_KIND_RAM, "ram", 0x1000, MEMTOPO_OP_F_KERNEL_BACKING);
	door = create(MEMTOPO_KIND_IO, "doorbell", 0x100, 0);
	dev = create(MEMTOPO_KIND_IO, "served", 0x100, 0);
	map(root, ram, 0x0);
	map(root, door, 0x10000);
	map(root, dev, 0x20000);
	mt_op_init(&op, MEMTOPO_OP_SPACE_CREATE);
	op.ref = root;
	strcpy(op.name, "mem");
	ret = mt_op(fd, &op);
	if (ret)
		die("space", ret);
	space = op.id;

	io.region = door;
	io.fd = eventfd(0, EFD_NONBLOCK);
	if (io.fd < 0 || ioctl(fd, MEMTOPO_IOEVENTFD, &io))
		die("ioeventfd", errno);
	s.region = dev;
	if (ioctl(fd, MEMTOPO_SERVE, &s))
		die("MEMTOPO_SERVE", errno);
	server = fork();
	if (server < 0)
		die("fork", errno);
	if (server == 0) {
		/* only the device fd: the context must go when the parent closes it */
		close(fd);
		serve(s.out_fd);
	}
	close(s.out_fd);

	/* warm up every path once; the single-thread paths run on vCPU 0 */
	pin(0, 0);
	pin(server, 0);
	run("warm-up", 0x0, false, 100);
	run("warm-up", 0x10000, true, 100);
	run("warm-up", 0x20000, false, 100);
	r[0] = run("ram read", 0x0, false, n);
	r[1] = run("ioeventfd write", 0x10000, true, n);
	r[2] = run("served, same cpu", 0x20000, false, n);
	if (sysconf(_SC_NPROCESSORS_ONLN) > 1) {
		pin(server, 1);
		r[3] = run("served, other cpu", 0x20000, false, n / 10);
	} else {
		r[3] = r[2];
		r[3].name = "served, other cpu";
	}
	pin(0, -1);
	pin(server, -1);
	r[4] = run_parallel("served x4 threads", 0x20000, n / 4);

	printf("%-18s %9s %9s %9s %11s %9s\n", "access (4 bytes)", "mean us", "p50 us",
	       "p99 us", "per second", "cost/ram");
	for (i = 0; i < 5; i++) {
		if (r[i].mean < 0)
			printf("%-18s %9s %9s %9s %11.0f %8.2fx\n", r[i].name, "-", "-", "-",
			       r[i].per_s, r[0].per_s / r[i].per_s);
		else
			printf("%-18s %9.1f %9.1f %9.1f %11.0f %8.2fx\n", r[i].name, r[i].mean,
			       r[i].p50, r[i].p99, r[i].per_s, r[i].p50 / r[0].p50);
	}
	printf("(%ld accesses per path, other cpu %ld; x4: 4 threads, one server process;\n"
	       " cost/ram: median latency over the RAM read's, x4 by throughput;\n"
	       " under TCG only the ratios mean anything)\n", n, n / 10);
	close(fd);	/* the region goes with the context: the server sees EOF */
	waitpid(server, NULL, 0);
	return 0;
}
