// SPDX-License-Identifier: GPL-2.0
/*
 * In-kernel lookup benchmark: memtopo's flat view against the kernel's own
 * RCU-safe range tree (lib/maple_tree.c) and a bare binary search over the
 * same ranges (throughput and dependent-chain latency, with the ratios to
 * the bare search), plus one-change commits with and without a counting
 * listener.  Loading the module runs it and prints to the kernel log;
 * unloading it does nothing.
 * tools/vm/bench-kernel builds it, boots a VM and prints the lines.  Under
 * TCG the absolute figures are inflated; the ratios are the point.
 */
#include <linux/module.h>
#include <linux/maple_tree.h>
#include <linux/random.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/ktime.h>

#include <memtopo/memtopo.h>

MODULE_IMPORT_NS(MEMTOPO);

static unsigned int lookups = 200000;
module_param(lookups, uint, 0444);
MODULE_PARM_DESC(lookups, "random lookups per structure and size");

static unsigned int max_n = 100000;
module_param(max_n, uint, 0444);
MODULE_PARM_DESC(max_n, "largest size run (10^3, 10^4, ... up to this)");

#define BENCH_PAGE 4096ULL
#define BENCH_COMMITS 21

/* The textbook branch-free search, out of line like memtopo's. */
static noinline u32 bench_bsearch(const u64 *starts, u32 n, u64 addr)
{
	const u64 *base = starts;

	while (n > 1) {
		u32 half = n / 2;

		base = (base[half] <= addr) ? base + half : base;
		n -= half;
	}
	return base - starts;
}

static void bench_count(void *priv, const struct memtopo_section *s)
{
	(*(u64 *)priv)++;
}

static const struct memtopo_listener_ops bench_listener_ops = {
	.region_add = bench_count,
	.region_del = bench_count,
};

/* x / y as "R.RR" without floating point */
static void bench_ratio(char *buf, size_t len, u64 x, u64 y)
{
	u64 r = y ? div64_u64(x * 100, y) : 0;

	snprintf(buf, len, "%llu.%02llu", r / 100, r % 100);
}

static int bench_cmp_u64(const void *a, const void *b)
{
	u64 x = *(const u64 *)a, y = *(const u64 *)b;

	return x < y ? -1 : x > y;
}

/*
 * @BENCH_COMMITS one-change commits, each a real change: a leaf moves into
 * the gap beside it, then back.  Return: the median in nanoseconds (a rare
 * repack, or the host's noise under TCG, is not what is shown).
 */
static u64 bench_commits(struct memtopo_region **leaves, const u64 *starts, u32 n)
{
	u64 t[BENCH_COMMITS], t0;
	u32 i;

	for (i = 0; i < BENCH_COMMITS; i++) {
		u32 k = (n / 2 + (i / 2) * 7919) % n;

		t0 = ktime_get_ns();
		memtopo_region_set_address(leaves[k], starts[k] + ((i & 1) ? 0 : BENCH_PAGE));
		t[i] = ktime_get_ns() - t0;
	}
	sort(t, BENCH_COMMITS, sizeof(t[0]), bench_cmp_u64, NULL);
	return t[BENCH_COMMITS / 2];
}

static int bench_one(u32 n)
{
	struct memtopo_region_info ri = { .kind = MEMTOPO_CONTAINER, .name = "root",
					  .size_is_2_64 = true };
	struct memtopo_region *root, **leaves = NULL;
	struct memtopo_listener l = { .ops = &bench_listener_ops };
	struct memtopo_section s;
	struct maple_tree *mt;
	struct memtopo_ctx *ctx;
	struct memtopo_space *as;
	u64 *addrs = NULL, *starts = NULL, t0, sum = 0, heard = 0, dep, zero;
	u64 t_mt, t_mem, t_bs, c_mt, c_mem, c_bs, commit_bare, commit_l;
	char r1[16], r2[16], r3[16], r4[16];
	u32 i;
	int ret = -ENOMEM;

	ctx = memtopo_ctx_create("bench");
	if (IS_ERR(ctx))
		return PTR_ERR(ctx);
	leaves = kvcalloc(n, sizeof(*leaves), GFP_KERNEL);
	addrs = kvcalloc(lookups, sizeof(*addrs), GFP_KERNEL);
	starts = kvcalloc(n, sizeof(*starts), GFP_KERNEL);
	if (!leaves || !addrs || !starts)
		goto out;
	root = memtopo_region_create(ctx, &ri);
	if (IS_ERR(root)) {
		ret = PTR_ERR(root);
		goto out;
	}
	memtopo_transaction_begin(ctx);
	for (i = 0; i < n; i++) {
		struct memtopo_region_info li = { .kind = MEMTOPO_RAM, .name = "leaf",
						  .size = BENCH_PAGE };

		leaves[i] = memtopo_region_create(ctx, &li);
		if (IS_ERR(leaves[i]) ||
		    memtopo_region_add_subregion(root, 2 * i * BENCH_PAGE, leaves[i], 0, false))
			break;
		starts[i] = 2 * i * BENCH_PAGE;
	}
	as = memtopo_space_create(ctx, "bench", root);
	ret = memtopo_transaction_commit(ctx);
	if (i < n || IS_ERR(as) || ret) {
		ret = -EIO;
		goto out;
	}

	/* heap, not stack: RCU frees the nodes after this function returns */
	mt = kzalloc(sizeof(*mt), GFP_KERNEL);
	if (!mt)
		goto out;
	/*
	 * Not MT_FLAGS_USE_RCU: on 6.1.192, destroying a 10^5-entry tree in
	 * RCU mode oopses in mt_free_walk() (seen here).  Loads run under
	 * rcu_read_lock() either way.
	 */
	mt_init(mt);
	for (i = 0; i < n; i++) {
		ret = mtree_store_range(mt, starts[i], starts[i] + BENCH_PAGE - 1, leaves[i],
					GFP_KERNEL);
		if (ret)
			goto out_mt;
	}
	for (i = 0; i < lookups; i++)
		addrs[i] = get_random_u64() % (2 * (u64)n * BENCH_PAGE);
	/* a dependency the compiler cannot see is multiplied by zero */
	zero = READ_ONCE(lookups) > U32_MAX;

	/* throughput: independent lookups */
	rcu_read_lock();
	t0 = ktime_get_ns();
	for (i = 0; i < lookups; i++)
		sum += (unsigned long)mtree_load(mt, addrs[i]);
	t_mt = ktime_get_ns() - t0;
	t0 = ktime_get_ns();
	for (i = 0; i < lookups; i++)
		sum += !memtopo_space_lookup(as, addrs[i], &s);
	t_mem = ktime_get_ns() - t0;
	t0 = ktime_get_ns();
	for (i = 0; i < lookups; i++)
		sum += bench_bsearch(starts, n, addrs[i]);
	t_bs = ktime_get_ns() - t0;

	/* latency: each address depends on the previous result */
	dep = 0;
	t0 = ktime_get_ns();
	for (i = 0; i < lookups; i++)
		dep = (unsigned long)mtree_load(mt, addrs[i] + (dep & zero));
	c_mt = ktime_get_ns() - t0;
	sum += dep;
	t0 = ktime_get_ns();
	for (i = 0; i < lookups; i++) {
		s.start = 0;
		memtopo_space_lookup(as, addrs[i] + (dep & zero), &s);
		dep = s.start;
	}
	c_mem = ktime_get_ns() - t0;
	sum += dep;
	t0 = ktime_get_ns();
	for (i = 0; i < lookups; i++)
		dep = bench_bsearch(starts, n, addrs[i] + (dep & zero));
	c_bs = ktime_get_ns() - t0;
	sum += dep;
	rcu_read_unlock();

	/* one-change commits, without and with a counting listener */
	bench_commits(leaves, starts, n);	/* warm-up: first-use allocations */
	commit_bare = bench_commits(leaves, starts, n);
	l.priv = &heard;
	ret = memtopo_listener_register(as, &l);
	if (ret)
		goto out_mt;
	heard = 0;
	commit_l = bench_commits(leaves, starts, n);
	memtopo_listener_unregister(&l);
	if (heard < BENCH_COMMITS) {
		pr_err("%llu listener calls for %u commits\n", heard,
		       BENCH_COMMITS);
		ret = -EIO;
		goto out_mt;
	}

	bench_ratio(r1, sizeof(r1), t_mem, t_bs);
	bench_ratio(r2, sizeof(r2), t_mt, t_bs);
	bench_ratio(r3, sizeof(r3), c_mem, c_bs);
	bench_ratio(r4, sizeof(r4), c_mt, c_bs);
	pr_info("n=%u lookup_ns memtopo=%llu maple=%llu bare=%llu ratio memtopo/bare=%s maple/bare=%s\n",
		n, div_u64(t_mem, lookups), div_u64(t_mt, lookups), div_u64(t_bs, lookups),
		r1, r2);
	pr_info("n=%u chain_ns memtopo=%llu maple=%llu bare=%llu ratio memtopo/bare=%s maple/bare=%s\n",
		n, div_u64(c_mem, lookups), div_u64(c_mt, lookups), div_u64(c_bs, lookups),
		r3, r4);
	pr_info("n=%u commit_us listener=%llu no_listener=%llu (checksum %llu)\n",
		n, div_u64(commit_l, 1000), div_u64(commit_bare, 1000), sum & 0xff);
	ret = 0;
out_mt:
	mtree_destroy(mt);
	kfree(mt);
out:
	/* the context owns the regions and the space */
	memtopo_ctx_put(ctx);
	kvfree(starts);
	kvfree(addrs);
	kvfree(leaves);
	return ret;
}

static int __init memtopo_lookup_bench_init(void)
{
	u32 n;
	int ret;

	for (n = 1000; n <= max_n; n *= 10) {
		ret = bench_one(n);
		if (ret) {
			pr_err("n=%u failed: %d\n", n, ret);
			return ret;
		}
		if (n > U32_MAX / 10)
			break;
	}
	/*
	 * Stay loaded: a failed init is retried by busybox's insmod (finit
	 * then init_module), which would run everything twice.
	 */
	return 0;
}

static void __exit memtopo_lookup_bench_exit(void)
{
}

module_init(memtopo_lookup_bench_init);
module_exit(memtopo_lookup_bench_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("memtopo: lookup benchmark against the maple tree");
