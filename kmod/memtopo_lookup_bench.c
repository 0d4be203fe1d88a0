// SPDX-License-Identifier: GPL-2.0
/*
 * In-kernel lookup benchmark: memtopo's flat view against the kernel's own
 * RCU-safe range tree (lib/maple_tree.c) and a bare binary search over the
 * same ranges (throughput and dependent-chain latency, with the ratios to
 * the bare search), plus one-change commits with and without a counting
 * listener.  Lookups are timed in interleaved rounds (see bench_lookups())
 * after a cross-check that all three find the same entry for every address,
 * the throughput rounds once with the TLB as found and then all rounds
 * after the TLB was sized for them (bench_tlb_size()).  Loading the
 * module runs it and prints to the kernel log; unloading it does nothing.
 * tools/vm/bench-kernel builds it, boots a VM and prints the lines.  Under
 * TCG the absolute figures are inflated; the ratios are the point.
 */
#include <linux/module.h>
#include <linux/maple_tree.h>
#include <linux/random.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/ktime.h>
#include <linux/vmalloc.h>
#include <linux/mm.h>
#include <linux/rcupdate.h>
#include <asm/tlbflush.h>

#include <memtopo/memtopo.h>

MODULE_IMPORT_NS(MEMTOPO);

/*
 * As many as the userspace benchmark's: a round's ninth then spans many
 * times the view's lines, so its warm pass runs in the steady state
 * (Documentation/engine.rst, "Performance status").
 */
static unsigned int lookups = 1000000;
module_param(lookups, uint, 0444);
MODULE_PARM_DESC(lookups, "random lookups per structure and size");

static unsigned int max_n = 100000;
module_param(max_n, uint, 0444);
MODULE_PARM_DESC(max_n, "largest size run (10^3, 10^4, ... up to this)");

static unsigned int spacing = 2;
module_param(spacing, uint, 0444);
MODULE_PARM_DESC(spacing,
		 "pages from one leaf's start to the next: 2, a hole beside every leaf; 1, end to end");

static bool tlb_probe;
module_param(tlb_probe, bool, 0444);
MODULE_PARM_DESC(tlb_probe, "time how many pages the TLB holds around each size's lookups");

/* For tools/vm/profile-uml: more commits at max_n, after its figures. */
static unsigned int profile_series;
module_param(profile_series, uint, 0444);
MODULE_PARM_DESC(profile_series,
		 "at max_n, this many more timed listener series as the benchmark's (register, warm-up, timed)");

static unsigned int profile_commits;
module_param(profile_commits, uint, 0444);
MODULE_PARM_DESC(profile_commits,
		 "at max_n, then this many one-change commits with the listener in one loop");

static unsigned int profile_rcu;
module_param(profile_rcu, uint, 0444);
MODULE_PARM_DESC(profile_rcu,
		 "in that loop, wait for RCU's callbacks every this many commits (0: never)");

static bool prefault;
module_param(prefault, bool, 0444);
MODULE_PARM_DESC(prefault, "first write every free page (UML: the host's first touch)");

#define BENCH_PAGE 4096ULL
#define BENCH_COMMITS 101

/*
 * Lookups are timed in rounds of lookups / BENCH_ROUNDS addresses, the
 * three structures over the same addresses in a round, taking turns at
 * going first; a time is the median of its rounds, a ratio the median of
 * the rounds' ratios (bench_lookups()).  Under TCG guest time is the
 * host's wall clock, so a burst of load on the shared host then skews a
 * round of each rather than one side of a ratio.
 */
#define BENCH_ROUNDS 9

enum { BENCH_MEMTOPO, BENCH_MAPLE, BENCH_BARE, BENCH_NR };

/*
 * A 7-byte nop whose displacement names phase @id (a constant): tools/vm/tcg-count.c,
 * loaded by tools/vm/bench-kernel --count, counts the guest instructions,
 * loads and software TLB refills of each phase.  The CPU ignores it.
 */
static __always_inline void bench_mark(const u8 id)
{
	asm volatile(".byte 0x0f, 0x1f, 0x80, %c0, 0, 0x54, 0x4d" : : "i" (id));
}

/*
 * The textbook branch-free search, out of line: one call, as memtopo's.
 * Aligned to a cache line, as the userspace benchmark's, so that its loop
 * never straddles one and does not move with the code before it.
 */
static noinline __aligned(64) u32 bench_bsearch(const u64 *starts, u32 n, u64 addr)
{
	const u64 *base = starts;

	while (n > 1) {
		u32 half = n / 2;

		base = (base[half] <= addr) ? base + half : base;
		n -= half;
	}
	return base - starts;
}

#define BENCH_PROBE_MIN 64
#define BENCH_PROBE_MAX 16384

/* BENCH_PROBE_MAX pages for bench_tlb_pages(), with tlb_probe */
static u64 *bench_probe_buf;

/*
 * The most pages of @buf (BENCH_PROBE_MAX of them; a power of two from
 * BENCH_PROBE_MIN) that a loop reading a word of each, again and again,
 * reads at most twice as slowly per page as BENCH_PROBE_MIN pages.
 * Consecutive virtual pages take consecutive entries of QEMU's
 * direct-mapped software TLB, so under TCG this is its size: at twice
 * that, every read is a refill, a page-table walk in C.  The first pass
 * over each count fills; the fastest of the others counts.  It fills the
 * TLB, so the next flush grows it: a probing run shows sizes, not figures.
 */
static u32 bench_tlb_pages(const u64 *buf)
{
	u64 base = 0;
	u32 k, p, pass, pages = 0;

	for (k = BENCH_PROBE_MIN; k <= BENCH_PROBE_MAX; k *= 2) {
		u64 best = U64_MAX, t0;

		for (pass = 0; pass < 4; pass++) {
			t0 = ktime_get_ns();
			for (p = 0; p < k; p++)
				(void)READ_ONCE(buf[p * (BENCH_PAGE / sizeof(*buf))]);
			t0 = ktime_get_ns() - t0;
			if (pass)
				best = min(best, t0);
		}
		/* picoseconds a page */
		best = div_u64(best * 1000, k);
		if (!base)
			base = best;
		if (best > 2 * base)
			break;
		pages = k;
	}
	return pages;
}

static void bench_count(void *priv, const struct memtopo_section *s)
{
	(*(u64 *)priv)++;
}

static const struct memtopo_listener_ops bench_listener_ops = {
	.region_add = bench_count,
	.region_del = bench_count,
};

/* @r hundredths as "R.RR" without floating point */
static void bench_ratio(char *buf, size_t len, u64 r)
{
	snprintf(buf, len, "%llu.%02llu", r / 100, r % 100);
}

/* the hundredths @r[0] and @r[1] as "L.LL-H.HH" */
static void bench_spread(char *buf, size_t len, const u64 r[2])
{
	snprintf(buf, len, "%llu.%02llu-%llu.%02llu", r[0] / 100, r[0] % 100, r[1] / 100,
		 r[1] % 100);
}

static int bench_cmp_u64(const void *a, const void *b)
{
	u64 x = *(const u64 *)a, y = *(const u64 *)b;

	return x < y ? -1 : x > y;
}

/*
 * Commit @i of a series from leaf @first on: leaf @first + (@i / 2) * 7919
 * moves by a page (@i even) or back (@i odd).  Returns the leaf's index;
 * @ns gets the commit's time.  The benchmark's arrays are not the
 * engine's: they are read before the clock starts (at 10^6 each is 8 MB,
 * vmalloc()ed, and a read misses), as the userspace benchmark does.
 */
static u32 bench_move(struct memtopo_region **leaves, const u64 *starts, u32 n, u32 first,
		      u32 i, u64 *ns)
{
	u32 k = (first + (i / 2) * 7919) % n;
	struct memtopo_region *leaf = READ_ONCE(leaves[k]);
	u64 to = READ_ONCE(starts[k]) + ((i & 1) ? 0 : BENCH_PAGE), t0;

	t0 = ktime_get_ns();
	memtopo_region_set_address(leaf, to);
	*ns = ktime_get_ns() - t0;
	return k;
}

/*
 * @BENCH_COMMITS one-change commits, each a real change: a leaf moves by a
 * page, into the hole beside it (or, end to end, over its neighbour), then
 * back; the leaves from @first on, 7919 apart.  Each series starts at its
 * own leaf: one that moved the leaves the series before it moved would
 * find their chunks, tree paths and view search in the cache, the misses
 * by which a commit grows with the map.  Return: the median in
 * nanoseconds (a rare repack, or the host's noise under TCG, is not what
 * is shown).
 */
static u64 bench_commits(struct memtopo_region **leaves, const u64 *starts, u32 n, u32 first)
{
	u64 t[BENCH_COMMITS];
	u32 i, k = 0;

	for (i = 0; i < BENCH_COMMITS; i++)
		k = bench_move(leaves, starts, n, first, i, &t[i]);
	/*
	 * An odd count leaves the last leaf moved: back, untimed, or the next
	 * call's last commit would move it where it is, which changes nothing.
	 */
	if (BENCH_COMMITS & 1)
		memtopo_region_set_address(leaves[k], starts[k]);
	sort(t, BENCH_COMMITS, sizeof(t[0]), bench_cmp_u64, NULL);
	return t[BENCH_COMMITS / 2];
}

static int bench_cmp_u32(const void *a, const void *b)
{
	u32 x = *(const u32 *)a, y = *(const u32 *)b;

	return x < y ? -1 : x > y;
}

/*
 * Take every free page the allocator gives without reclaim, zeroed (a
 * write to each), and give them back.  Under UML a page of RAM the kernel
 * never wrote costs the host a fault and a clear on its first write (a
 * 2 MiB clear in a huge=always tmpfs), which hardware RAM does not: the
 * objects commits allocate come from pages no earlier work wrote, since
 * Tiny RCU frees nothing while the module's init runs.
 */
static void bench_prefault(void)
{
	static const unsigned int orders[] = { 9, 0 };
	LIST_HEAD(pages);
	struct page *page, *next;
	unsigned long kb = 0;
	unsigned int o;
	u64 t0 = ktime_get_ns();

	for (o = 0; o < ARRAY_SIZE(orders); o++) {
		while ((page = alloc_pages(GFP_KERNEL | __GFP_ZERO | __GFP_NORETRY | __GFP_NOWARN,
					   orders[o]))) {
			set_page_private(page, orders[o]);
			list_add(&page->lru, &pages);
			kb += 4UL << orders[o];
		}
	}
	list_for_each_entry_safe(page, next, &pages, lru) {
		list_del(&page->lru);
		__free_pages(page, page_private(page));
	}
	pr_info("prefault: wrote %lu kB in %llu ms\n", kb, div_u64(ktime_get_ns() - t0, 1000000));
}

static long bench_free_kb(void)
{
	return global_zone_page_state(NR_FREE_PAGES) << (PAGE_SHIFT - 10);
}

/*
 * What bench_profile() timed: the median of its blocks of @BENCH_COMMITS
 * (a series' figure), then the distribution of all @nr times @t (sorted
 * here), the share of the time in commits over twice the median (what a
 * median does not see) and the memory a commit left unfreed.
 */
static void bench_profile_report(u32 n, u32 *t, u32 nr, u64 sum, long kb)
{
	u32 nb = nr / BENCH_COMMITS, b, blk[BENCH_COMMITS];
	u32 *bm = kvmalloc_array(max(nb, 1U), sizeof(*bm), GFP_KERNEL);
	u64 slow = 0;
	u32 i;

	if (bm && nb) {
		for (b = 0; b < nb; b++) {
			memcpy(blk, t + b * BENCH_COMMITS, sizeof(blk));
			sort(blk, BENCH_COMMITS, sizeof(blk[0]), bench_cmp_u32, NULL);
			bm[b] = blk[BENCH_COMMITS / 2];
		}
		sort(bm, nb, sizeof(*bm), bench_cmp_u32, NULL);
		pr_info("n=%u profile: %u blocks of %u, their medians' median=%u min=%u p10=%u p90=%u max=%u\n",
			n, nb, BENCH_COMMITS, bm[nb / 2], bm[0], bm[nb / 10], bm[nb / 10 * 9],
			bm[nb - 1]);
	}
	kvfree(bm);
	sort(t, nr, sizeof(*t), bench_cmp_u32, NULL);
	for (i = 0; i < nr; i++)
		if (t[i] > 2 * t[nr / 2])
			slow += t[i];
	pr_info("n=%u profile: %u commits, ns mean=%llu median=%u p10=%u p90=%u p99=%u max=%u over_2x_median=%llu%% unfreed_kB=%ld\n",
		n, nr, div_u64(sum, nr), t[nr / 2], t[nr / 10], t[nr / 10 * 9], t[nr / 100 * 99],
		t[nr - 1], div64_u64(slow * 100, max(sum, 1ULL)), kb / (long)nr);
}

/*
 * @profile_commits one-change commits as bench_commits()'s, from leaf n / 7
 * on, out of line so that a profiler's call chains name this function:
 * every sample under it is a commit's.  Each is timed; the mean of many is
 * not held to the clock's steps (256 ns in UML) as a median of 101 is.
 */
static noinline __attribute__((__hot__)) int bench_profile(struct memtopo_region **leaves,
							   const u64 *starts, u32 n)
{
	u32 *t = kvmalloc_array(profile_commits, sizeof(*t), GFP_KERNEL);
	long kb = bench_free_kb();
	u64 ns, sum = 0;
	u32 i, k = 0;

	if (!t)
		return -ENOMEM;
	for (i = 0; i < profile_commits; i++) {
		k = bench_move(leaves, starts, n, n / 7, i, &ns);
		t[i] = ns;
		sum += ns;
		if (profile_rcu && (i + 1) % profile_rcu == 0)
			rcu_barrier();
	}
	if (profile_commits & 1)
		memtopo_region_set_address(leaves[k], starts[k]);
	bench_profile_report(n, t, profile_commits, sum, kb - bench_free_kb());
	kvfree(t);
	return 0;
}

/*
 * Out of line and not alike (the compiler folds identical functions), so
 * that a profiler's call chains tell the warm-up from the timed series.
 */
static noinline void bench_series_warm(struct memtopo_region **leaves, const u64 *starts, u32 n,
				       u32 first)
{
	bench_commits(leaves, starts, n, first);
	barrier();
}

static noinline u64 bench_series_timed(struct memtopo_region **leaves, const u64 *starts, u32 n,
				       u32 first)
{
	u64 r = bench_commits(leaves, starts, n, first);

	OPTIMIZER_HIDE_VAR(r);
	return r;
}

/*
 * @profile_series more of the listener's timed series, each as bench_one()
 * takes it: the listener registered again (the replay), a warm-up series,
 * the timed one, each block on leaves of its own.  Prints the median of the
 * series' medians, the figure bench-uml's --runs prints.
 */
static noinline __attribute__((__hot__)) int bench_profile_series(struct memtopo_space *as,
								  struct memtopo_listener *l,
								  struct memtopo_region **leaves,
								  const u64 *starts, u32 n)
{
	u32 *m = kvmalloc_array(profile_series, sizeof(*m), GFP_KERNEL);
	u32 b, off;
	int ret = 0;

	if (!m)
		return -ENOMEM;
	for (b = 0; b < profile_series; b++) {
		off = (u32)(((u64)b * 53 * 7919) % n);
		memtopo_listener_unregister(l);
		ret = memtopo_listener_register(as, l);
		if (ret)
			break;
		bench_series_warm(leaves, starts, n, (n / 5 * 4 + off) % n);
		m[b] = bench_series_timed(leaves, starts, n, (n / 3 + off) % n);
	}
	if (!ret) {
		sort(m, profile_series, sizeof(*m), bench_cmp_u32, NULL);
		pr_info("n=%u profile_series: %u series, their medians' median=%u min=%u p10=%u p90=%u max=%u\n",
			n, profile_series, m[profile_series / 2], m[0], m[profile_series / 10],
			m[profile_series / 10 * 9], m[profile_series - 1]);
	}
	kvfree(m);
	return ret;
}

/* What the timed loops search, and where they add what they find. */
struct bench_lookups {
	struct memtopo_space *as;
	struct maple_tree *mt;
	/*
	 * The bare search's array, as the userspace benchmark's: the start of
	 * every entry of the view, holes included (leaf i is entry
	 * spacing * i).
	 */
	const u64 *entries;
	u32 nr;
	/* 0, but the compiler cannot see it: chained addresses stay chained */
	u64 zero;
	u64 sum;
};

/*
 * What a pass over addresses is for: a warm-up, not counted; timed after
 * the TLB was sized (bench_tlb_size()); timed before, with the TLB as the
 * last flush left it.
 */
enum bench_pass { BENCH_WARM, BENCH_TIMED, BENCH_UNSIZED };

/* Phase @id for tcg-count (@id + 8 unsized), or 0 (not counted) to warm up. */
static __always_inline void bench_phase(enum bench_pass pass, const u8 id)
{
	if (pass == BENCH_WARM)
		bench_mark(0);
	else if (pass == BENCH_UNSIZED)
		bench_mark(id + 8);
	else
		bench_mark(id);
}

/*
 * Nanoseconds for @m lookups of @addrs in structure @which: independent
 * (throughput), or each address depending on the previous result
 * (latency); the loop is phase 1 + which * 2 + chain for tcg-count
 * (see bench_phase() for the other @pass kinds).  Caller holds
 * rcu_read_lock().
 */
static u64 bench_time(struct bench_lookups *b, int which, bool chain, enum bench_pass pass,
		      const u64 *addrs, u32 m)
{
	struct memtopo_section s;
	u64 t0, dep = 0;
	u32 i;

	t0 = ktime_get_ns();
	switch (which * 2 + chain) {
	case BENCH_MEMTOPO * 2:
		bench_phase(pass, 1);
		for (i = 0; i < m; i++)
			dep += !memtopo_space_lookup(b->as, addrs[i], &s);
		break;
	case BENCH_MEMTOPO * 2 + 1:
		bench_phase(pass, 2);
		/*
		 * through the region found, a value the lookup loaded, not
		 * the start, which an exact slot computes from the address;
		 * a hole's answer loads none (s.mr stays NULL), so the chain
		 * does not wait for the lookups landing in the holes beside
		 * the leaves (Documentation/engine.rst)
		 */
		for (i = 0; i < m; i++) {
			s.mr = NULL;
			memtopo_space_lookup(b->as, addrs[i] + (dep & b->zero), &s);
			dep = (unsigned long)s.mr;
		}
		break;
	case BENCH_MAPLE * 2:
		bench_phase(pass, 3);
		for (i = 0; i < m; i++)
			dep += (unsigned long)mtree_load(b->mt, addrs[i]);
		break;
	case BENCH_MAPLE * 2 + 1:
		bench_phase(pass, 4);
		for (i = 0; i < m; i++)
			dep = (unsigned long)mtree_load(b->mt, addrs[i] + (dep & b->zero));
		break;
	case BENCH_BARE * 2:
		bench_phase(pass, 5);
		for (i = 0; i < m; i++)
			dep += bench_bsearch(b->entries, b->nr, addrs[i]);
		break;
	default:
		bench_phase(pass, 6);
		for (i = 0; i < m; i++)
			dep = bench_bsearch(b->entries, b->nr, addrs[i] + (dep & b->zero));
		break;
	}
	bench_mark(0);
	t0 = ktime_get_ns() - t0;
	b->sum += dep;
	return t0;
}

/*
 * Every address looked up in all three: the same leaf, or a hole in all
 * three.  Return: 0, or -EIO at the first disagreement (a figure comparing
 * searches that find different things would mean nothing).
 */
static int bench_check(struct bench_lookups *b, struct memtopo_region **leaves, const u64 *addrs)
{
	struct memtopo_section s;
	u32 i;

	rcu_read_lock();
	for (i = 0; i < lookups; i++) {
		u32 k = bench_bsearch(b->entries, b->nr, addrs[i]);
		struct memtopo_region *want = k % spacing ? NULL : leaves[k / spacing];
		u64 start = b->entries[k];
		int ret = memtopo_space_lookup(b->as, addrs[i], &s);

		/*
		 * The return value too: a hole's section has no region, so
		 * 0 returned for a hole would pass a check of s.mr alone.
		 */
		if (ret != (want ? 0 : -ENOENT) || (want && s.mr != want) ||
		    (want && (s.start != start || s.last != start + BENCH_PAGE - 1)) ||
		    mtree_load(b->mt, addrs[i]) != want)
			break;
	}
	rcu_read_unlock();
	if (i == lookups)
		return 0;
	pr_err("n=%u: the searches disagree at %#llx\n", b->nr / spacing, addrs[i]);
	return -EIO;
}

/*
 * The median over the rounds of @t[o][k] / @t[BENCH_BARE][k], in
 * hundredths; the smallest and the largest in @lo and @hi, unless NULL.
 */
static u64 bench_round_ratio(u64 t[BENCH_NR][BENCH_ROUNDS], u32 o, u64 *lo, u64 *hi)
{
	u64 r[BENCH_ROUNDS];
	u32 k;

	for (k = 0; k < BENCH_ROUNDS; k++)
		r[k] = div64_u64(t[o][k] * 100, max_t(u64, t[BENCH_BARE][k], 1));
	sort(r, BENCH_ROUNDS, sizeof(r[0]), bench_cmp_u64, NULL);
	if (lo)
		*lo = r[0];
	if (hi)
		*hi = r[BENCH_ROUNDS - 1];
	return r[BENCH_ROUNDS / 2];
}

/*
 * Time @lookups of @addrs in each structure, BENCH_ROUNDS rounds of
 * lookups / BENCH_ROUNDS; @ns[structure] is the median round's time and
 * @ratio[structure] the median of its rounds' times over the bare
 * search's in the same round, in hundredths.  A round takes the three
 * structures back to back, milliseconds apart, where a burst of load on
 * the shared host lasts seconds: the ratio within a round cancels it,
 * where the ratio of two medians still carries it whenever the bursts
 * fell on different rounds of each.  Each structure first runs over the
 * next round's addresses, then over its own: the first pass, just after
 * another structure's, gives @cold (ratios as @ratio; NULL: not wanted),
 * the second, the steady state of a stream of lookups, @ns and @ratio.
 * @spread gets the smallest and the largest round's ratio of memtopo's,
 * which show how much the host moved the rounds.  @pass is BENCH_TIMED or
 * BENCH_UNSIZED.
 */
static void bench_lookups(struct bench_lookups *b, bool chain, enum bench_pass pass,
			  const u64 *addrs, u64 *ns, u64 *ratio, u64 *cold, u64 spread[2])
{
	u64 t[BENCH_NR][BENCH_ROUNDS], tc[BENCH_NR][BENCH_ROUNDS];
	u32 per = lookups / BENCH_ROUNDS, k, o;

	rcu_read_lock();
	for (k = 0; k < BENCH_ROUNDS; k++) {
		for (o = 0; o < BENCH_NR; o++) {
			u32 w = (k + o) % BENCH_NR;

			tc[w][k] = bench_time(b, w, chain, BENCH_WARM,
					      addrs + (k + 1) % BENCH_ROUNDS * per, per);
			t[w][k] = bench_time(b, w, chain, pass, addrs + k * per, per);
		}
	}
	rcu_read_unlock();
	bench_round_ratio(t, BENCH_MEMTOPO, &spread[0], &spread[1]);
	for (o = 0; o < BENCH_NR; o++) {
		ratio[o] = bench_round_ratio(t, o, NULL, NULL);
		if (cold)
			cold[o] = bench_round_ratio(tc, o, NULL, NULL);
	}
	for (o = 0; o < BENCH_NR; o++) {
		sort(t[o], BENCH_ROUNDS, sizeof(t[o][0]), bench_cmp_u64, NULL);
		ns[o] = t[o][BENCH_ROUNDS / 2];
	}
}

/* flushes this CPU's TLB, global entries too (a CR4.PGE toggle on x86) */
static void bench_flush_tlb(void)
{
#ifdef CONFIG_X86
	preempt_disable();
	__flush_tlb_all();
	preempt_enable();
#endif
}

#define BENCH_TLB_FLUSHES 6

/*
 * Lets QEMU size its software TLB for what the rounds touch.  QEMU sizes
 * a vCPU's TLB only when the guest flushes it whole (x86: a CR3 write, a
 * CR4.PGE toggle, an invlpg inside its large pages), doubling it when
 * over 70% of its entries were in use in the last 100 ms or more, and
 * below 30%, once that window is over, shrinking it at once to fit the
 * most it used then.  A guest that switches processes flushes all the time, so
 * its TLB fits what it runs.  The rounds' loops never flush: without
 * this, they run with whatever size the last flush before them left,
 * sized for what ran then (512 to 2048 entries seen at 10^5, from run to
 * run).  Each of BENCH_TLB_FLUSHES steps runs the three structures over
 * @m addresses the rounds do not look up, then flushes, so all three get
 * one TLB sized for all three.  On hardware, where the kernel's direct
 * map takes large pages and no TLB is resized, this only warms the caches.
 */
static void bench_tlb_size(struct bench_lookups *b, const u64 *addrs, u32 m)
{
	u32 f, o;

	for (f = 0; f < BENCH_TLB_FLUSHES; f++) {
		rcu_read_lock();
		for (o = 0; o < BENCH_NR; o++)
			bench_time(b, o, false, BENCH_WARM, addrs, m);
		rcu_read_unlock();
		bench_flush_tlb();
	}
}

/*
 * Hot, though only __init calls it: gcc optimises for size whatever only
 * cold code reaches, and the bare search then lost its conditional move.
 */
static __attribute__((__hot__)) int bench_one(u32 n)
{
	struct memtopo_region_info ri = { .kind = MEMTOPO_CONTAINER, .name = "root",
					  .size_is_2_64 = true };
	struct memtopo_region *root, **leaves = NULL;
	struct memtopo_listener l = { .ops = &bench_listener_ops };
	struct bench_lookups b = { .nr = spacing * n };
	struct maple_tree *mt;
	struct memtopo_ctx *ctx;
	struct memtopo_space *as;
	u64 *addrs = NULL, *starts = NULL, *entries = NULL, heard = 0, t[BENCH_NR], c[BENCH_NR];
	u64 tr[BENCH_NR], cr[BENCH_NR], tcold[BENCH_NR], tu[BENCH_NR], tur[BENCH_NR];
	u64 st[2], sc[2], su[2];
	u64 commit_bare, commit_l, per = lookups / BENCH_ROUNDS;
	char r1[16], r2[16], r3[16], r4[16], r5[16], r6[16], r7[16], s1[48], s2[48], s3[48];
	u32 tlb_unsized = 0, tlb_sized = 0;
	u32 i;
	int ret = -ENOMEM;

	ctx = memtopo_ctx_create("bench");
	if (IS_ERR(ctx))
		return PTR_ERR(ctx);
	leaves = kvcalloc(n, sizeof(*leaves), GFP_KERNEL);
	/* and per more for bench_tlb_size() */
	addrs = kvcalloc(lookups + per, sizeof(*addrs), GFP_KERNEL);
	starts = kvcalloc(n, sizeof(*starts), GFP_KERNEL);
	entries = kvcalloc(b.nr, sizeof(*entries), GFP_KERNEL);
	if (!leaves || !addrs || !starts || !entries)
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
		    memtopo_region_add_subregion(root, spacing * i * BENCH_PAGE, leaves[i], 0,
						 false))
			break;
		starts[i] = spacing * i * BENCH_PAGE;
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
	for (i = 0; i < lookups + per; i++)
		addrs[i] = get_random_u64() % (b.nr * BENCH_PAGE);
	b.as = as;
	b.mt = mt;
	for (i = 0; i < b.nr; i++)
		entries[i] = i * BENCH_PAGE;
	b.entries = entries;
	/* 0, hidden from the compiler so that the chains stay dependent */
	b.zero = 0;
	OPTIMIZER_HIDE_VAR(b.zero);
	ret = bench_check(&b, leaves, addrs);
	if (ret)
		goto out_mt;
	bench_lookups(&b, false, BENCH_UNSIZED, addrs, tu, tur, NULL, su);
	if (bench_probe_buf)
		tlb_unsized = bench_tlb_pages(bench_probe_buf);
	bench_tlb_size(&b, addrs + lookups, per);
	bench_lookups(&b, false, BENCH_TIMED, addrs, t, tr, tcold, st);
	bench_lookups(&b, true, BENCH_TIMED, addrs, c, cr, NULL, sc);
	if (bench_probe_buf)
		tlb_sized = bench_tlb_pages(bench_probe_buf);

	/* one-change commits, without and with a counting listener */
	bench_commits(leaves, starts, n, n / 5);	/* warm-up: first-use allocations */
	commit_bare = bench_commits(leaves, starts, n, n / 2);
	l.priv = &heard;
	ret = memtopo_listener_register(as, &l);
	if (ret)
		goto out_mt;
	/*
	 * The register replayed the whole view to the listener, which left
	 * the caches full of it: warm up again, or the first commits timed
	 * pay for the replay (at 10^6 leaves end to end, 8.2-11.5 us with
	 * the listener against 4.6-4.9 without; 4.9-5.4 after a warm-up,
	 * as without).
	 */
	bench_commits(leaves, starts, n, n / 5 * 4);
	heard = 0;
	commit_l = bench_commits(leaves, starts, n, n / 3);
	if (profile_series && n == max_n)
		ret = bench_profile_series(as, &l, leaves, starts, n);
	if (!ret && profile_commits && n == max_n)
		ret = bench_profile(leaves, starts, n);
	memtopo_listener_unregister(&l);
	if (ret)
		goto out_mt;
	if (heard < BENCH_COMMITS) {
		pr_err("%llu listener calls for %u commits\n", heard,
		       BENCH_COMMITS);
		ret = -EIO;
		goto out_mt;
	}

	bench_ratio(r1, sizeof(r1), tr[BENCH_MEMTOPO]);
	bench_ratio(r2, sizeof(r2), tr[BENCH_MAPLE]);
	bench_ratio(r3, sizeof(r3), cr[BENCH_MEMTOPO]);
	bench_ratio(r4, sizeof(r4), cr[BENCH_MAPLE]);
	bench_ratio(r5, sizeof(r5), tcold[BENCH_MEMTOPO]);
	bench_ratio(r6, sizeof(r6), tur[BENCH_MEMTOPO]);
	bench_ratio(r7, sizeof(r7), tur[BENCH_MAPLE]);
	bench_spread(s1, sizeof(s1), st);
	bench_spread(s2, sizeof(s2), sc);
	bench_spread(s3, sizeof(s3), su);
	pr_info("n=%u lookup_ns memtopo=%llu maple=%llu bare=%llu ratio memtopo/bare=%s (rounds %s) maple/bare=%s cold memtopo/bare=%s\n",
		n, div64_u64(t[BENCH_MEMTOPO], per), div64_u64(t[BENCH_MAPLE], per),
		div64_u64(t[BENCH_BARE], per), r1, s1, r2, r5);
	pr_info("n=%u chain_ns memtopo=%llu maple=%llu bare=%llu ratio memtopo/bare=%s (rounds %s) maple/bare=%s\n",
		n, div64_u64(c[BENCH_MEMTOPO], per), div64_u64(c[BENCH_MAPLE], per),
		div64_u64(c[BENCH_BARE], per), r3, s2, r4);
	pr_info("n=%u tlb_unsized lookup_ns memtopo=%llu maple=%llu bare=%llu ratio memtopo/bare=%s (rounds %s) maple/bare=%s\n",
		n, div64_u64(tu[BENCH_MEMTOPO], per), div64_u64(tu[BENCH_MAPLE], per),
		div64_u64(tu[BENCH_BARE], per), r6, s3, r7);
	if (bench_probe_buf)
		pr_info("n=%u tlb_pages unsized=%u sized=%u\n", n, tlb_unsized, tlb_sized);
	/* in hundredths of a microsecond: whole ones hid a growth of 1.5x */
	pr_info("n=%u commit_us listener=%llu.%02llu no_listener=%llu.%02llu (checksum %llu)\n",
		n, div_u64(commit_l, 1000), div_u64(commit_l, 10) % 100,
		div_u64(commit_bare, 1000), div_u64(commit_bare, 10) % 100, b.sum & 0xff);
	ret = 0;
out_mt:
	mtree_destroy(mt);
	kfree(mt);
out:
	/* the context owns the regions and the space */
	memtopo_ctx_put(ctx);
	kvfree(entries);
	kvfree(starts);
	kvfree(addrs);
	kvfree(leaves);
	return ret;
}

static int __init memtopo_lookup_bench_init(void)
{
	u32 n;
	int ret = 0;

	if (spacing < 1 || spacing > 2) {
		pr_err("spacing=%u: 1 or 2 pages\n", spacing);
		return -EINVAL;
	}
	if (prefault)
		bench_prefault();
	pr_info("map: leaf i at %u * i pages%s\n", spacing,
		spacing == 2 ? ", a hole beside every leaf" : ", end to end");
	if (lookups < BENCH_ROUNDS) {
		pr_err("lookups=%u: at least %u (one a round)\n", lookups, BENCH_ROUNDS);
		return -EINVAL;
	}
	if (tlb_probe) {
		bench_probe_buf = vmalloc(BENCH_PROBE_MAX * BENCH_PAGE);
		if (!bench_probe_buf)
			return -ENOMEM;
		pr_info("tlb_pages at the start=%u\n", bench_tlb_pages(bench_probe_buf));
	}
	for (n = 1000; n <= max_n; n *= 10) {
		ret = bench_one(n);
		if (ret) {
			pr_err("n=%u failed: %d\n", n, ret);
			break;
		}
		if (n > U32_MAX / 10)
			break;
	}
	vfree(bench_probe_buf);
	bench_probe_buf = NULL;
	if (ret)
		return ret;
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
