// SPDX-License-Identifier: GPL-2.0
/*
 * What one change of an IOMMU region's table costs as the table fills:
 * the table is a sorted array copied on every change (kmod/iommu.c), so a
 * map or unmap is O(mappings).  For each size up to the cap it fills a
 * table with one-page mappings (a page apart, so none merge), then unmaps
 * and maps again one in the middle, and prints the median CPU time of one
 * change over --reps rounds of --changes pairs.  A translation after every
 * round checks that the table still holds what it should.
 *
 * Then what telling a subscription costs as the space the IOMMU region is
 * mapped in fills: 10^3..10^5 one-page RAM leaves beside it, a listener
 * that takes events on that space, the same unmap / map pairs.  Each
 * change must reach the listener as exactly one event; the time per change
 * should not grow with the ranges of the space.  "aliased": the IOMMU
 * region sits in a container that two aliases show (QEMU's PCI holes), so
 * each change is two events, found through the reverse alias index.
 *   build/testing/iommu_bench [--reps N] [--changes N]
 */
#include <linux/slab.h>
#include <stdlib.h>
#include <time.h>

#include "memtopo_internal.h"
#include "../../uapi/linux/memtopo.h"

#define PG MEMTOPO_IOMMU_PAGE_SIZE

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static void die(const char *what, long ret)
{
	fprintf(stderr, "iommu_bench: %s: %ld\n", what, ret);
	exit(1);
}

/* The IOVA @iova of @dma must reach @want of the target space, or nothing. */
static void check_translation(struct memtopo_space *dma, u64 iova, bool mapped, u64 want)
{
	struct memtopo_iotlb_entry e;
	int ret;

	rcu_read_lock();
	ret = memtopo_space_get_iotlb_entry(dma, iova, false, 0, &e);
	rcu_read_unlock();
	if (mapped ? ret || e.translated_addr != want : ret != -ENOENT)
		die("translation after the changes", ret);
}

static u64 nr_events;

static void count_event(void *priv, const struct memtopo_event *ev)
{
	if (ev->type == MEMTOPO_EVENT_IOMMU_MAP || ev->type == MEMTOPO_EVENT_IOMMU_UNMAP)
		nr_events++;
}

static const struct memtopo_listener_ops counting_ops = { .event = count_event };

/*
 * ns per change of a subscribed IOMMU region mapped among @n RAM leaves,
 * directly or (@aliased) through two aliases of a container holding it.
 */
static double subscribed_change_ns(u32 n, int reps, int changes, bool aliased)
{
	struct memtopo_region_info ci = { .kind = MEMTOPO_CONTAINER, .name = "sys",
					  .size_is_2_64 = true };
	struct memtopo_region_info ri = { .kind = MEMTOPO_RAM, .name = "leaf", .size = PG };
	struct memtopo_region_info ii = { .kind = MEMTOPO_IOMMU, .name = "mmu",
					  .size = 1ULL << 30 };
	struct memtopo_ctx *ctx = memtopo_ctx_create("iommu-bench");
	struct memtopo_region *sys = memtopo_region_create(ctx, &ci);
	struct memtopo_region *mmu = memtopo_region_create(ctx, &ii);
	struct memtopo_listener l = { .ops = &counting_ops };
	struct memtopo_region *leaf, *pci, *hole;
	int shown = aliased ? 2 : 1;
	struct memtopo_space *mem;
	double *t = calloc(reps, sizeof(*t)), median;
	u64 want;
	long ret;
	int r, c;
	u32 i;

	if (IS_ERR(sys) || IS_ERR(mmu) || !t)
		die("setup", 0);
	memtopo_transaction_begin(ctx);
	for (i = 0; i < n; i++) {
		/* half below the IOMMU region, half above: ranges on both sides */
		u64 at = (i < n / 2 ? 0 : 1ULL << 40) + 2ULL * i * PG;

		leaf = memtopo_region_create(ctx, &ri);
		if (IS_ERR(leaf) || memtopo_region_add_subregion(sys, at, leaf, 0, false))
			die("leaf", 0);
	}
	if (aliased) {
		struct memtopo_region_info pi = { .kind = MEMTOPO_CONTAINER, .name = "pci",
						  .size = 1ULL << 31 };
		struct memtopo_region_info ai = { .kind = MEMTOPO_ALIAS, .name = "pci-hole",
						  .size = 1ULL << 31 };
		int k;

		pci = memtopo_region_create(ctx, &pi);
		if (IS_ERR(pci) || memtopo_region_add_subregion(pci, 0, mmu, 0, false))
			die("pci", 0);
		ai.alias_target = pci;
		for (k = 0; k < shown; k++) {
			hole = memtopo_region_create(ctx, &ai);
			if (IS_ERR(hole) ||
			    memtopo_region_add_subregion(sys, (1ULL << 39) + ((u64)k << 32), hole,
							 0, false))
				die("pci hole", 0);
		}
	} else if (memtopo_region_add_subregion(sys, 1ULL << 39, mmu, 0, false)) {
		die("iommu region", 0);
	}
	ret = memtopo_transaction_commit(ctx);
	if (ret)
		die("commit", ret);
	mem = memtopo_space_create(ctx, "mem", sys);
	if (IS_ERR_OR_NULL(mem) || memtopo_listener_register(mem, &l))
		die("space", 0);
	for (r = 0; r < reps; r++) {
		double t0 = now();

		want = nr_events + 2ULL * shown * changes;
		for (c = 0; c < changes; c++) {
			ret = memtopo_iommu_map(mmu, 0, PG, mem, 0, MEMTOPO_IOMMU_RW);
			if (!ret)
				ret = memtopo_iommu_unmap(mmu, 0, PG);
			if (ret)
				die("change", ret);
		}
		t[r] = (now() - t0) / (2.0 * changes) * 1e9;
		if (nr_events != want)
			die("events the subscription missed", (long)(want - nr_events));
	}
	qsort(t, reps, sizeof(*t), cmp_double);
	median = t[reps / 2];
	free(t);
	memtopo_listener_unregister(&l);
	memtopo_ctx_put(ctx);
	return median;
}

int main(int argc, char **argv)
{
	static const u32 sizes[] = { 16, 64, 256, 1024, 4095 };
	struct memtopo_region_info ci = { .kind = MEMTOPO_CONTAINER, .name = "sys",
					  .size_is_2_64 = true };
	struct memtopo_region_info ri = { .kind = MEMTOPO_RAM, .name = "ram",
					  .size = 4096 * PG };
	struct memtopo_region_info ii = { .kind = MEMTOPO_IOMMU, .name = "mmu",
					  .size_is_2_64 = true };
	int reps = 5, changes = 2000, r, c;
	u32 s, i;

	for (i = 1; i < (u32)argc - 1; i++) {
		if (!strcmp(argv[i], "--reps"))
			reps = atoi(argv[i + 1]);
		else if (!strcmp(argv[i], "--changes"))
			changes = atoi(argv[i + 1]);
	}
	if (reps < 1 || changes < 1)
		die("--reps and --changes must be positive", 0);
	if (memtopo_region_cache_init() || memtopo_view_cache_init())
		die("caches", 0);
	printf("%10s %14s\n", "mappings", "ns/change");
	for (s = 0; s < ARRAY_SIZE(sizes); s++) {
		struct memtopo_ctx *ctx = memtopo_ctx_create("iommu-bench");
		struct memtopo_region *sys = memtopo_region_create(ctx, &ci);
		struct memtopo_region *mmu = memtopo_region_create(ctx, &ii);
		struct memtopo_region *ram = memtopo_region_create(ctx, &ri);
		struct memtopo_space *mem, *dma;
		double *t = calloc(reps, sizeof(*t));
		u32 n = sizes[s], mid = n / 2;
		long ret;

		if (IS_ERR(sys) || IS_ERR(mmu) || IS_ERR(ram) || !t ||
		    memtopo_region_add_subregion(sys, 0, ram, 0, false))
			die("setup", 0);
		mem = memtopo_space_create(ctx, "mem", sys);
		dma = memtopo_space_create(ctx, "dma", mmu);
		if (IS_ERR_OR_NULL(mem) || IS_ERR_OR_NULL(dma))
			die("spaces", 0);
		for (i = 0; i < n; i++) {
			ret = memtopo_iommu_map(mmu, 2 * i * PG, PG, mem, i * PG, MEMTOPO_IOMMU_RW);
			if (ret)
				die("fill", ret);
		}
		for (r = 0; r < reps; r++) {
			double t0 = now();

			for (c = 0; c < changes; c++) {
				ret = memtopo_iommu_unmap(mmu, 2 * mid * PG, PG);
				if (!ret)
					ret = memtopo_iommu_map(mmu, 2 * mid * PG, PG, mem,
								mid * PG, MEMTOPO_IOMMU_RW);
				if (ret)
					die("change", ret);
			}
			t[r] = (now() - t0) / (2.0 * changes) * 1e9;
			check_translation(dma, 2 * mid * PG + 8, true, mid * PG);
			check_translation(dma, (2 * mid + 1) * PG, false, 0);
		}
		qsort(t, reps, sizeof(*t), cmp_double);
		printf("%10u %14.0f\n", n, t[reps / 2]);
		free(t);
		memtopo_ctx_put(ctx);
	}
	printf("%10s %14s %14s\n", "ranges", "ns/change", "aliased");
	for (i = 1000; i <= 100000; i *= 10)
		printf("%10u %14.0f %14.0f\n", i, subscribed_change_ns(i, reps, changes, false),
		       subscribed_change_ns(i, reps, changes, true));
	return 0;
}
