// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit suite memtopo_served: the request queue of a served device and its
 * lifetimes, driven through the kernel API (memtopo_region_serve()) with
 * kthreads as accessors and the test as the server (kernel_read() /
 * kernel_write() on the device file).  KASAN and kmemleak watch that a
 * request never outlives its accessor and a device its last reference.
 */
#include <kunit/test.h>
#include <linux/completion.h>
#include <linux/delay.h>
#include <linux/err.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/kthread.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>

#include <memtopo/memtopo.h>
#include <uapi/linux/memtopo.h>

struct sv_env {
	struct memtopo_ctx *ctx;
	struct memtopo_region *root, *dev;
	struct memtopo_space *as;
	struct file *file;
};

static void sv_env_init(struct kunit *test, struct sv_env *e, u32 flags, u32 timeout_ms)
{
	struct memtopo_region_info root = {
		.kind = MEMTOPO_CONTAINER, .name = "root", .size_is_2_64 = true,
	};
	struct memtopo_region_info dev = { .kind = MEMTOPO_IO, .name = "dev", .size = 0x100 };
	struct memtopo_serve p = { .flags = flags, .timeout_ms = timeout_ms };

	e->ctx = memtopo_ctx_create("served");
	KUNIT_ASSERT_FALSE(test, IS_ERR(e->ctx));
	e->root = memtopo_region_create(e->ctx, &root);
	KUNIT_ASSERT_FALSE(test, IS_ERR(e->root));
	e->dev = memtopo_region_create(e->ctx, &dev);
	KUNIT_ASSERT_FALSE(test, IS_ERR(e->dev));
	KUNIT_ASSERT_EQ(test, 0, memtopo_region_add_subregion(e->root, 0x1000, e->dev, 0, false));
	e->as = memtopo_space_create(e->ctx, "mem", e->root);
	KUNIT_ASSERT_FALSE(test, IS_ERR(e->as));
	e->file = memtopo_region_serve(e->dev, &p);
	KUNIT_ASSERT_FALSE(test, IS_ERR(e->file));
}

static void sv_env_fini(struct sv_env *e)
{
	if (e->file)
		fput(e->file);
	memtopo_ctx_put(e->ctx);
}

/* An accessor: one memtopo_space_read() or _write() of 4 bytes in a kthread. */
struct sv_acc {
	struct memtopo_space *as;
	u64 addr;
	u32 val;
	bool write;
	int ret;
	struct completion started;
	struct completion done;
	struct task_struct *task;
};

static int sv_acc_fn(void *p)
{
	struct sv_acc *a = p;

	allow_signal(SIGKILL);
	complete(&a->started);
	if (a->write)
		a->ret = memtopo_space_write(a->as, a->addr, &a->val, 4);
	else
		a->ret = memtopo_space_read(a->as, a->addr, &a->val, 4);
	complete(&a->done);
	return 0;
}

static void sv_acc_start(struct kunit *test, struct sv_acc *a, struct memtopo_space *as,
			 u64 addr)
{
	a->as = as;
	a->addr = addr;
	a->ret = 1;
	init_completion(&a->started);
	init_completion(&a->done);
	a->task = kthread_run(sv_acc_fn, a, "memtopo-sv-acc");
	KUNIT_ASSERT_FALSE(test, IS_ERR(a->task));
	get_task_struct(a->task);
	/*
	 * A kthread ignores signals until allow_signal(): a SIGKILL sent
	 * earlier would be dropped and the accessor would wait its timeout.
	 */
	wait_for_completion(&a->started);
}

/* Its result, once the kthread has left our code (kthread_stop() waits). */
static int sv_acc_wait(struct sv_acc *a)
{
	wait_for_completion(&a->done);
	kthread_stop(a->task);
	put_task_struct(a->task);
	return a->ret;
}

/* One non-blocking read: a request's size, 0 at end of file, or -errno. */
static ssize_t sv_try(struct file *f, struct memtopo_served_req *q)
{
	loff_t pos = 0;

	return kernel_read(f, q, sizeof(*q), &pos);
}

/* Take one request, waiting up to 5 s for it (the file is non-blocking). */
static int sv_take(struct file *f, struct memtopo_served_req *q)
{
	int i;
	ssize_t n;

	for (i = 0; i < 5000; i++) {
		loff_t pos = 0;

		n = kernel_read(f, q, sizeof(*q), &pos);
		if (n != -EAGAIN)
			return n == sizeof(*q) ? 0 : n < 0 ? n : -EIO;
		usleep_range(1000, 2000);
	}
	return -ETIMEDOUT;
}

static int sv_answer(struct file *f, u64 seq, u64 data, u32 flags)
{
	struct memtopo_served_reply r = { .seq = seq, .data = data, .flags = flags };
	loff_t pos = 0;
	ssize_t n = kernel_write(f, &r, sizeof(r), &pos);

	return n == sizeof(r) ? 0 : n < 0 ? n : -EIO;
}

/* FIFO with rising sequence numbers; answers in any order reach the right accessor. */
static void sv_queue_order(struct kunit *test)
{
	struct memtopo_served_req q[3];
	struct sv_acc a[3];
	struct sv_env e;
	int i;

	sv_env_init(test, &e, MEMTOPO_SERVE_NONBLOCK, 10000);
	for (i = 0; i < 3; i++) {
		sv_acc_start(test, &a[i], e.as, 0x1000 + 4 * i);
		KUNIT_ASSERT_EQ(test, 0, sv_take(e.file, &q[i]));
		KUNIT_EXPECT_EQ(test, q[i].offset, 4ULL * i);
		KUNIT_EXPECT_EQ(test, q[i].len, 4U);
		KUNIT_EXPECT_EQ(test, q[i].flags, 0U);
		KUNIT_EXPECT_EQ(test, q[i].region, memtopo_region_id(e.dev));
		if (i)
			KUNIT_EXPECT_GT(test, q[i].seq, q[i - 1].seq);
	}
	/* a reply names a taken request only once */
	for (i = 2; i >= 0; i--)
		KUNIT_EXPECT_EQ(test, 0, sv_answer(e.file, q[i].seq, 0xa0 + q[i].offset, 0));
	KUNIT_EXPECT_EQ(test, -ENOENT, sv_answer(e.file, q[0].seq, 0, 0));
	for (i = 0; i < 3; i++) {
		KUNIT_EXPECT_EQ(test, 0, sv_acc_wait(&a[i]));
		KUNIT_EXPECT_EQ(test, a[i].val, 0xa0U + 4 * i);
	}
	/* a write carries its value; a failed answer is EIO */
	a[0].write = true;
	a[0].val = 0xfeedbeef;
	sv_acc_start(test, &a[0], e.as, 0x1010);
	KUNIT_ASSERT_EQ(test, 0, sv_take(e.file, &q[0]));
	KUNIT_EXPECT_EQ(test, q[0].flags, (u32)MEMTOPO_SERVED_WRITE);
	KUNIT_EXPECT_EQ(test, q[0].data, 0xfeedbeefULL);
	KUNIT_EXPECT_EQ(test, 0, sv_answer(e.file, q[0].seq, 0, MEMTOPO_SERVED_FAIL));
	KUNIT_EXPECT_EQ(test, -EIO, sv_acc_wait(&a[0]));
	sv_env_fini(&e);
}

/* Timeout: ETIMEDOUT for the late request, EIO for the others, broken after. */
static void sv_timeout(struct kunit *test)
{
	struct memtopo_served_req q;
	struct sv_acc a, b;
	struct sv_env e;
	int ra, rb;
	u32 v;

	sv_env_init(test, &e, MEMTOPO_SERVE_NONBLOCK, 100);
	sv_acc_start(test, &a, e.as, 0x1000);
	KUNIT_ASSERT_EQ(test, 0, sv_take(e.file, &q));
	sv_acc_start(test, &b, e.as, 0x1004);
	/* whichever times out first gets ETIMEDOUT and breaks the device: EIO */
	ra = sv_acc_wait(&a);
	rb = sv_acc_wait(&b);
	KUNIT_EXPECT_TRUE(test,
			  (ra == -ETIMEDOUT && rb == -EIO) || (ra == -EIO && rb == -ETIMEDOUT));
	KUNIT_EXPECT_EQ(test, -EIO, memtopo_space_read(e.as, 0x1000, &v, 4));
	KUNIT_EXPECT_EQ(test, -EIO, sv_try(e.file, &q));
	KUNIT_EXPECT_EQ(test, -ENOENT, sv_answer(e.file, q.seq, 0, 0));
	sv_env_fini(&e);
}

/* The device file's last fput fails pending requests and later accesses. */
static void sv_close_pending(struct kunit *test)
{
	struct memtopo_served_req q;
	struct sv_acc a, b;
	struct sv_env e;
	u32 v;

	sv_env_init(test, &e, MEMTOPO_SERVE_NONBLOCK, 10000);
	sv_acc_start(test, &a, e.as, 0x1000);
	KUNIT_ASSERT_EQ(test, 0, sv_take(e.file, &q));
	sv_acc_start(test, &b, e.as, 0x1004);
	msleep(20);
	fput(e.file);
	e.file = NULL;
	KUNIT_EXPECT_EQ(test, -ENODEV, sv_acc_wait(&a));
	KUNIT_EXPECT_EQ(test, -ENODEV, sv_acc_wait(&b));
	KUNIT_EXPECT_EQ(test, -ENODEV, memtopo_space_read(e.as, 0x1000, &v, 4));
	sv_env_fini(&e);
}

/* The region freed while requests wait: ENODEV, then end of file. */
static void sv_region_gone(struct kunit *test)
{
	struct memtopo_served_req q;
	struct sv_acc a, b;
	struct sv_env e;

	sv_env_init(test, &e, MEMTOPO_SERVE_NONBLOCK, 10000);
	sv_acc_start(test, &a, e.as, 0x1000);
	KUNIT_ASSERT_EQ(test, 0, sv_take(e.file, &q));
	sv_acc_start(test, &b, e.as, 0x1004);
	msleep(20);
	KUNIT_ASSERT_EQ(test, 0, memtopo_region_del_subregion(e.root, e.dev));
	KUNIT_ASSERT_EQ(test, 0, memtopo_region_destroy(e.dev));
	KUNIT_EXPECT_EQ(test, -ENODEV, sv_acc_wait(&a));
	KUNIT_EXPECT_EQ(test, -ENODEV, sv_acc_wait(&b));
	KUNIT_EXPECT_EQ(test, -ENOENT, sv_answer(e.file, q.seq, 0, 0));
	KUNIT_EXPECT_EQ(test, 0, sv_try(e.file, &q));	/* end of file */
	sv_env_fini(&e);
}

/* A killed accessor withdraws its request, taken or not. */
static void sv_killed(struct kunit *test)
{
	struct memtopo_served_req q;
	struct sv_acc a, b;
	struct sv_env e;

	sv_env_init(test, &e, MEMTOPO_SERVE_NONBLOCK, 10000);
	sv_acc_start(test, &a, e.as, 0x1000);
	KUNIT_ASSERT_EQ(test, 0, sv_take(e.file, &q));
	send_sig(SIGKILL, a.task, 1);
	KUNIT_EXPECT_EQ(test, -EINTR, sv_acc_wait(&a));
	KUNIT_EXPECT_EQ(test, -ENOENT, sv_answer(e.file, q.seq, 0, 0));
	sv_acc_start(test, &b, e.as, 0x1004);
	msleep(20);
	send_sig(SIGKILL, b.task, 1);
	KUNIT_EXPECT_EQ(test, -EINTR, sv_acc_wait(&b));
	KUNIT_EXPECT_EQ(test, -EAGAIN, sv_try(e.file, &q));	/* nothing left behind */
	sv_env_fini(&e);
}

/* An accessor holding an unanswered request of the device is refused. */
static int sv_reenter_fn(void *p)
{
	struct sv_env *e = p;
	struct memtopo_served_req q;
	u32 v;
	int ret;

	ret = sv_take(e->file, &q);
	if (!ret)
		ret = memtopo_space_read(e->as, 0x1008, &v, 4);
	if (!ret)
		ret = -EINVAL;
	sv_answer(e->file, q.seq, -ret, 0);
	while (!kthread_should_stop())
		schedule_timeout_uninterruptible(1);
	return 0;
}

static void sv_reentry(struct kunit *test)
{
	struct task_struct *t;
	struct sv_env e;
	u32 v = 0;

	sv_env_init(test, &e, MEMTOPO_SERVE_NONBLOCK, 10000);
	t = kthread_run(sv_reenter_fn, &e, "memtopo-sv-srv");
	KUNIT_ASSERT_FALSE(test, IS_ERR(t));
	KUNIT_EXPECT_EQ(test, 0, memtopo_space_read(e.as, 0x1000, &v, 4));
	KUNIT_EXPECT_EQ(test, v, (u32)EDEADLK);
	kthread_stop(t);
	sv_env_fini(&e);
}

/*
 * memtopo_dispatch_sync() is what a kernel consumer's teardown waits in:
 * it must not wait for a userspace server.  With a request taken and not
 * answered, it returns, and the answer given after it still reaches the
 * accessor (had it waited, the request would have timed out first).
 */
static void sv_sync_not_held(struct kunit *test)
{
	struct memtopo_served_req q;
	struct sv_acc a;
	struct sv_env e;

	sv_env_init(test, &e, MEMTOPO_SERVE_NONBLOCK, 5000);
	sv_acc_start(test, &a, e.as, 0x1000);
	KUNIT_ASSERT_EQ(test, 0, sv_take(e.file, &q));
	memtopo_dispatch_sync();
	KUNIT_EXPECT_EQ(test, 0, sv_answer(e.file, q.seq, 0x5a, 0));
	KUNIT_EXPECT_EQ(test, 0, sv_acc_wait(&a));
	KUNIT_EXPECT_EQ(test, a.val, 0x5aU);
	sv_env_fini(&e);
}

static struct kunit_case memtopo_served_cases[] = {
	KUNIT_CASE(sv_queue_order),
	KUNIT_CASE(sv_timeout),
	KUNIT_CASE(sv_sync_not_held),
	KUNIT_CASE(sv_close_pending),
	KUNIT_CASE(sv_region_gone),
	KUNIT_CASE(sv_killed),
	KUNIT_CASE(sv_reentry),
	{}
};

static struct kunit_suite memtopo_served_suite = {
	.name = "memtopo_served",
	.test_cases = memtopo_served_cases,
};

kunit_test_suite(memtopo_served_suite);
