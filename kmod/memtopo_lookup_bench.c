// SPDX-License-Identifier: GPL-2.0
/*
 * In-kernel lookup benchmark: memtopo's flat view against the kernel's own
 * RCU-safe range tree (lib/maple_tree.c) and a bare binary search over the
 * same ranges, plus the cost of a one-change commit.  Loading the module
 * runs it and prints a table to the kernel log; it then refuses to stay
 * loaded (-EAGAIN), so there is nothing to unload.  Under TCG the absolute
 * figures are inflated; the ratios are the point.
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

#define BENCH_PAGE 4096ULL

static u64 bench_bsearch(const u64 *starts, u32 n, u64 addr)
{
	const u64 *base = starts;

	while (n > 1) {
		u32 half = n / 2;

		base = (base[half] <= addr) ? base + half : base;
		n -= half;
	}
	return base - starts;
}

static int bench_one(u32 n)
{
	struct memtopo_region_info ri = { .kind = MEMTOPO_CONTAINER, .name = "root",
					  .size_is_2_64 = true };
	struct memtopo_region *root, **leaves = NULL;
	struct memtopo_section s;
	struct maple_tree *mt;
	struct memtopo_ctx *ctx;
	struct memtopo_space *as;
	u64 *addrs = NULL, *starts = NULL, t0, t_mt, t_mem, t_bs, t_commit, sum = 0;
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

	rcu_read_lock();
	t0 = ktime_get_ns();
	for (i = 0; i < lookups; i++)
		sum += (unsigned long)mtree_load(mt, addrs[i]);
	t_mt = ktime_get_ns() - t0;
	t0 = ktime_get_ns();
	for (i = 0; i < lookups; i++)
		sum += !memtopo_space_lookup(as, addrs[i], &s);
	t_mem = ktime_get_ns() - t0;
	rcu_read_unlock();
	t0 = ktime_get_ns();
	for (i = 0; i < lookups; i++)
		sum += bench_bsearch(starts, n, addrs[i]);
	t_bs = ktime_get_ns() - t0;

	/* one-change commits: move one leaf into the gap beside it and back */
	t0 = ktime_get_ns();
	for (i = 0; i < 20; i++)
		memtopo_region_set_address(leaves[n / 2],
					   starts[n / 2] + ((i & 1) ? 0 : BENCH_PAGE));
	t_commit = ktime_get_ns() - t0;

	pr_info("memtopo_lookup_bench: n=%u lookup_ns memtopo=%llu maple=%llu bsearch=%llu commit_us=%llu (checksum %llu)\n",
		n, div_u64(t_mem, lookups), div_u64(t_mt, lookups), div_u64(t_bs, lookups),
		div_u64(t_commit, 20 * 1000), sum & 0xff);
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
	static const u32 sizes[] = { 1000, 10000, 100000 };
	unsigned int i;
	int ret;

	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		ret = bench_one(sizes[i]);
		if (ret) {
			pr_err("memtopo_lookup_bench: n=%u failed: %d\n", sizes[i], ret);
			return ret;
		}
	}
	/* the results are in the log; there is nothing to keep loaded */
	return -EAGAIN;
}

module_init(memtopo_lookup_bench_init);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("memtopo: lookup benchmark against the maple tree");
