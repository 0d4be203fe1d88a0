// SPDX-License-Identifier: GPL-2.0
/*
 * Engine benchmark, run natively through the userspace build: for each
 * shape and size it measures building with one commit per add, a full
 * render, commits that really change one region (with a counting listener,
 * without one, and with a region_nop listener), random lookups against a
 * bare binary search of the same run (throughput and dependent-chain
 * latency), memory per region and per flat range from the allocator, and
 * resync by difference from the view 1 change old and from the oldest the
 * space keeps (at most 16 changes old).
 * Medians of --reps runs; the commits of all sizes of a shape are timed
 * side by side, in turns.  Writes a table, a CSV and a log-log SVG plot.
 * --quick (10^3..10^5, one repetition) is what make check runs; it fails
 * when a timed commit changed nothing or the two searches disagree.
 * Sizes count leaves; with --ranges they count flat ranges, the lookup
 * goal's unit.  --floor prints what the view's own lines cost a lookup
 * that does less work than memtopo_space_lookup().  --help lists the
 * options; a size, shape or count it cannot run is refused with a message.
 */
#include <linux/eventfd.h>
#include <linux/slab.h>
#include <getopt.h>
#include <math.h>
#include <malloc.h>
#include <time.h>

#include "memtopo_internal.h"

#define PAGE 4096ULL

/*
 * sparse is the in-kernel benchmark's map (memtopo_lookup_bench.c): leaf i
 * at 2i pages, a hole beside every leaf, so that the two benchmarks'
 * lookups can be compared size for size.
 */
enum shape { FLAT, TREE, OVERLAP, ALIAS, ALIAS_SEQ, SPARSE, NR_SHAPES };
static const char *const shape_name[] = {
	"flat", "tree", "overlap", "alias", "alias-seq", "sparse"
};

struct result {
	double build_s, render_s, commit_us, commit_bare_us, nop_ns, lookup_ns, bare_ns,
	       chain_ns, chain_bare_ns, bytes_region, bytes_range, bytes_entry;
	u64 ranges, entries;
	double diff1_us, diff_deep_us, kept, cold_ratio;
	double commit_far_us;	/* --far-moves */
};

static double build_budget_s = 120;
/*
 * A one-change commit takes microseconds: many are cheap.  At 10^6 the
 * median of a hundred moved with whichever leaves (and cold chunks) they
 * hit, and a thousand with the machine's other load; run_commits() times
 * the sizes one after the other, within a second or two.
 */
static int commits = 10001, nop_commits = 11, diff_samples = 51;
/* --bytes-detail: where the bytes of a range go, printed after each run */
static bool bytes_detail;
/* --floor: what the view's lines cost with less work than a lookup, printed after each run */
static bool floor_detail;
/* --walks: what the whole-view walks of attaching and detaching a listener cost a range */
static bool walks_detail;
/*
 * --far-moves: the one-change commit with the listener again, each leaf
 * moved to the top of the address space and back, as a BAR is moved far:
 * two windows a commit, where a move one page over notes two that touch,
 * which the commit merges into one.
 */
static bool far_detail;
#define FAR_ADDR BIT_ULL(62)
/*
 * --ranges: the sizes count flat ranges, as the lookup goal does, not
 * leaves: overlap hides some 55% of its leaves and alias-seq merges its
 * aliases into one range, so at 10^6 leaves they have 0.45 and 0.5 * 10^6
 * ranges, and a bare search over a smaller array.
 */
static bool size_in_ranges;
static u64 lookups = 1000000;

/* --csv: these columns, then one row per shape and size */
static const char *const csv_cols[] = {
	"shape", "n", "build_s", "render_s", "commit_us", "commit_nolistener_us",
	"nop_ns_per_range", "lookup_ns", "lookup_bare_ns", "lookup_ratio", "chain_ns",
	"chain_bare_ns", "chain_ratio", "bytes_per_region", "bytes_per_range",
	"diff_us", "diff_deep_us", "kept_views", "lookup_cold_ratio", "bytes_per_entry", "ranges",
};

static u64 rng = 88172645463325252ULL;
static u64 rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static double clock_s(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * The thread's CPU time: the engine runs on the calling thread, and on a
 * shared machine wall time would count other people's work.
 */
static double now(void)
{
	return clock_s(CLOCK_THREAD_CPUTIME_ID);
}

/*
 * The clock for one short operation (a one-change commit, a difference):
 * the thread's CPU time is a system call of about 0.37 us here, 8% of a
 * commit at 10^5 that the same call would add at every size, flattening
 * the commit's growth.  The monotonic clock is read without one (20 ns);
 * such a commit is too short to be preempted often, and the medians drop
 * those that were.  Not for a commit that walks every range (a
 * region_nop listener's, milliseconds at 10^6): that one keeps now().
 */
static double now_op(void)
{
	return clock_s(CLOCK_MONOTONIC);
}

/*
 * The engine's bytes in use: the RCU callbacks pending run and the free
 * objects on the shim's slab lists given back first, so that only live
 * objects are counted, at their kmalloc size class as the kernel charges
 * them.
 */
static size_t heap_bytes(void)
{
	struct mallinfo2 mi;

	rcu_barrier();
	shim_slab_drain();
	mi = mallinfo2();

	return mi.uordblks + mi.hblkhd;
}

static struct memtopo_region *mk(struct memtopo_ctx *ctx, enum memtopo_kind kind, u64 size,
				 struct memtopo_region *target, u64 off)
{
	struct memtopo_region_info info = {
		.kind = kind, .name = "r", .size = size, .alias_target = target,
		.alias_offset = off,
	};
	struct memtopo_region *mr = memtopo_region_create(ctx, &info);

	if (IS_ERR(mr)) {
		fprintf(stderr, "bench: create failed: %ld\n", PTR_ERR(mr));
		exit(1);
	}
	return mr;
}

static void shuffle(u64 *a, u64 n)
{
	u64 i;

	for (i = n - 1; i > 0; i--) {
		u64 j = rnd() % (i + 1), t = a[i];

		a[i] = a[j];
		a[j] = t;
	}
}

struct plan {
	u64 n;
	struct memtopo_region **leaf;
	struct memtopo_region **parent;
	u64 *addr;
	int *prio;
};

static void plan_alloc(struct plan *p, u64 n)
{
	p->n = n;
	p->leaf = calloc(n, sizeof(*p->leaf));
	p->parent = calloc(n, sizeof(*p->parent));
	p->addr = calloc(n, sizeof(*p->addr));
	p->prio = calloc(n, sizeof(*p->prio));
}

/* Create every region detached; fill in the plan of adds. */
static void make_plan(struct memtopo_ctx *ctx, enum shape shape, u64 n, struct plan *p,
		      struct memtopo_region *root)
{
	struct memtopo_region *bus[16], *big = NULL;
	u64 *order = calloc(n, sizeof(*order)), i, half = n / 2;

	for (i = 0; i < n; i++)
		order[i] = i;
	if (shape == TREE)
		for (i = 0; i < 16; i++) {
			bus[i] = mk(ctx, MEMTOPO_CONTAINER, (n / 16 + 1) * PAGE, NULL, 0);
			memtopo_region_add_subregion(root, i * (n / 16 + 1) * PAGE, bus[i], 0,
						     false);
		}
	if (shape == ALIAS || shape == ALIAS_SEQ)
		big = mk(ctx, MEMTOPO_RAM, (half + 1) * PAGE, NULL, 0);
	if (shape == ALIAS)
		shuffle(order + half, n - half);
	for (i = 0; i < n; i++) {
		p->parent[i] = root;
		switch (shape) {
		case FLAT:
			p->leaf[i] = mk(ctx, MEMTOPO_RAM, PAGE, NULL, 0);
			p->addr[i] = i * PAGE;
			break;
		case SPARSE:
			p->leaf[i] = mk(ctx, MEMTOPO_RAM, PAGE, NULL, 0);
			p->addr[i] = 2 * i * PAGE;
			break;
		case TREE:
			p->leaf[i] = mk(ctx, MEMTOPO_RAM, PAGE, NULL, 0);
			p->parent[i] = bus[i % 16];
			p->addr[i] = (i / 16) * PAGE;
			break;
		case OVERLAP:
			p->leaf[i] = mk(ctx, MEMTOPO_RAM, 16 * PAGE, NULL, 0);
			p->addr[i] = (rnd() % (4 * n)) * PAGE;
			p->prio[i] = (int)(rnd() % 1000) - 500;
			break;
		case ALIAS:
		case ALIAS_SEQ:
			if (i < half)
				p->leaf[i] = mk(ctx, MEMTOPO_RAM, PAGE, NULL, 0);
			else
				p->leaf[i] = mk(ctx, MEMTOPO_ALIAS, PAGE, big,
						(order[i] - half) * PAGE);
			p->addr[i] = i * PAGE;
			break;
		default:
			break;
		}
	}
	/* leaves are added in random order */
	shuffle(order, n);
	for (i = 0; i < n; i++) {
		u64 j = order[i];
		struct memtopo_region *l = p->leaf[i];

		p->leaf[i] = p->leaf[j];
		p->leaf[j] = l;
		l = p->parent[i];
		p->parent[i] = p->parent[j];
		p->parent[j] = l;
		j = p->addr[i];
		p->addr[i] = p->addr[order[i]];
		p->addr[order[i]] = j;
	}
	free(order);
}

static void free_plan(struct plan *p)
{
	free(p->leaf);
	free(p->parent);
	free(p->addr);
	free(p->prio);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	if (isnan(x))
		return isnan(y) ? 0 : 1;
	if (isnan(y))
		return -1;
	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return v[(n - 1) / 2];
}

/* A listener that counts what it is told, as a real consumer pays for it. */
struct counts {
	u64 add, del, nop;
};

static void count_add(void *priv, const struct memtopo_section *s)
{
	((struct counts *)priv)->add++;
}

static void count_del(void *priv, const struct memtopo_section *s)
{
	((struct counts *)priv)->del++;
}

static void count_nop(void *priv, const struct memtopo_section *s)
{
	((struct counts *)priv)->nop++;
}

static const struct memtopo_listener_ops counting_ops = {
	.region_add = count_add, .region_del = count_del,
};

/* vhost's kind: told about every unchanged range at every commit */
static const struct memtopo_listener_ops nop_ops = {
	.region_add = count_add, .region_del = count_del, .region_nop = count_nop,
};

static bool failed;

static void fail(const char *what, enum shape shape, u64 n)
{
	fprintf(stderr, "bench: %s (%s, n=%llu)\n", what, shape_name[shape],
		(unsigned long long)n);
	failed = true;
}

/* Timed one-change commits on one map, collected over several calls. */
struct series {
	double *t;		/* seconds, one a real commit */
	int got;
	int tries;
	u64 k;			/* the last leaf moved */
};

/*
 * Time real one-change commits until @s holds @want: a leaf moves by a
 * page and back, both moves timed by @clock, leaves spread over the map.
 * A move is real when it publishes a new view (and, with a listener, when
 * the listener hears of it); a leaf whose move changes nothing (hidden
 * under others) is skipped untimed.  Gives up after 4 tries a commit.
 */
static void time_commits_more(struct memtopo_space *as, struct plan *p, int want, int total,
			      struct counts *cnt, enum shape shape, struct series *s,
			      double (*clock)(void), bool far)
{
	int dir;

	for (; s->got < want && s->tries < 4 * total + 64; s->tries++) {
		u64 k = s->k = (s->k + 7919) % p->n;

		for (dir = 0; dir < 2 && s->got < want; dir++) {
			/*
			 * The plan's arrays are the benchmark's, not the engine's:
			 * read them before the clock starts (at 10^6 they miss).
			 */
			struct memtopo_region *leaf = p->leaf[k];
			u64 to = dir ? p->addr[k] : far ? FAR_ADDR : p->addr[k] + PAGE;
			u64 gen = as->view->generation;
			u64 heard = cnt ? cnt->add + cnt->del : 0;
			double t0, dt;

			t0 = clock();
			memtopo_region_set_address(leaf, to);
			dt = clock() - t0;
			if (as->view->generation == gen)
				continue;
			if (cnt && cnt->add + cnt->del == heard)
				fail("a published commit told the listener nothing", shape, p->n);
			s->t[s->got++] = dt;
		}
		memtopo_region_set_address(p->leaf[k], p->addr[k]);
	}
}

/* The median of @s in microseconds, once it should hold @want commits. */
static double series_median(struct series *s, int want, enum shape shape, u64 n)
{
	double med;

	if (s->got < want)
		fail("too few leaves whose move changes the view", shape, n);
	med = s->got ? median(s->t, s->got) * 1e6 : NAN;
	free(s->t);
	s->t = NULL;
	return med;
}

/*
 * @want real one-change commits, starting after leaf @k: the median in us,
 * of the thread's CPU time (the region_nop listener's commits, which walk
 * every range, are long enough to be preempted).
 */
static double time_commits(struct memtopo_space *as, struct plan *p, int want,
			   struct counts *cnt, enum shape shape, u64 k)
{
	struct series s = { .t = calloc(want, sizeof(double)), .k = k };

	time_commits_more(as, p, want, want, cnt, shape, &s, now, false);
	return series_median(&s, want, shape, p->n);
}

static int count_diff(void *priv, const struct memtopo_section *s, bool add)
{
	(*(u64 *)priv)++;
	return 0;
}

#define DIFF_BACK 16

/*
 * What MEMTOPO_GET_FLAT_DIFF does under the mutex (memtopo_history_find()
 * and memtopo_view_diff(), here with a counting callback) from the view
 * 1 real one-change commit older than the current one, and from the
 * oldest the space keeps, at most DIFF_BACK older (how many a space keeps
 * follows the view's size, history.c): each sample moves DIFF_BACK leaves
 * by a page (each publishing a new view), times both, and moves them back.
 * Medians in microseconds; *@kept: the views kept at the first sample.
 */
static void time_diffs(struct memtopo_space *as, struct plan *p, int want, enum shape shape,
		       u64 k, double *d1, double *d16, double *kept)
{
	double *t1 = calloc(want, sizeof(*t1)), *t16 = calloc(want, sizeof(*t16)), t0, dt;
	int got = 0, tries = 0, m, back, deep = 1, ret;
	u64 gen[DIFF_BACK + 1], moved[DIFF_BACK], sections;
	const struct memtopo_view *old;

	*kept = 0;
	while (got < want && tries < 4 * want * DIFF_BACK + 64) {
		gen[0] = as->view->generation;
		for (m = 0; m < DIFF_BACK && tries++ < 4 * want * DIFF_BACK + 64;) {
			k = (k + 7919) % p->n;
			memtopo_region_set_address(p->leaf[k], p->addr[k] + PAGE);
			if (as->view->generation == gen[m])
				continue;	/* hidden: nothing changed, nothing to undo */
			moved[m++] = k;
			gen[m] = as->view->generation;
		}
		if (m == DIFF_BACK)
			deep = min_t(int, DIFF_BACK, memtopo_history_depth(as));
		if (!got)
			*kept = deep;
		/* one walk serves both when a single view is kept */
		for (back = 1; m == DIFF_BACK && back <= deep; back += max(deep - 1, 1)) {
			sections = 0;
			memtopo_ctx_lock(as->ctx);
			t0 = now_op();
			old = memtopo_history_find(as, gen[DIFF_BACK - back]);
			ret = old ? memtopo_view_diff(old, memtopo_space_view_locked(as),
						      count_diff, &sections) : -ESTALE;
			dt = now_op() - t0;
			memtopo_ctx_unlock(as->ctx);
			if (ret || !sections)
				fail("a kept view's difference was missing or empty", shape, p->n);
			if (back == 1)
				t1[got] = dt;
			if (back == deep)
				t16[got] = dt;
		}
		got += m == DIFF_BACK;
		while (m--)
			memtopo_region_set_address(p->leaf[moved[m]], p->addr[moved[m]]);
	}
	if (got < want)
		fail("too few leaves whose move changes the view", shape, p->n);
	*d1 = got ? median(t1, got) * 1e6 : NAN;
	*d16 = got ? median(t16, got) * 1e6 : NAN;
	free(t1);
	free(t16);
}

/*
 * Index of the last start <= @key: the textbook branch-free search.
 * Aligned to a cache line, so that its loop never straddles one: where it
 * did, the bare search ran 12% slower at 10^5 ranges, and moved with
 * whatever code changed before it.
 */
static noinline __aligned(64) u32 bare_search(const u64 *a, u32 n, u64 key)
{
	const u64 *base = a;

	while (n > 1) {
		u32 half = n / 2;

		base = (base[half] <= key) ? base + half : base;
		n -= half;
	}
	return base - a;
}

/* 0, set at run time: the compiler cannot see a dependency vanish. */
static u64 zero;

/*
 * Lookups are timed in rounds, memtopo and the bare search alternating
 * which goes first, and each figure is the median of its rounds: on a
 * shared machine a burst of other load then skews one round of both, not
 * one side of the ratio.  In a round each side first runs over the next
 * round's addresses, then over its own: the first pass is timed too, as
 * the cold figure (the side starts where the other left the caches), the
 * second is the steady state a stream of random lookups runs in, and the
 * goal's.  The warm pass never sees the addresses it precedes.
 */
#define LOOKUP_ROUNDS 9

/* ns per lookup over @addrs[0, @m): independent lookups, or a dependent chain */
static double lookups_memtopo(struct memtopo_space *as, const u64 *addrs, u64 m, bool chain,
			      u64 *sum)
{
	struct memtopo_section s;
	u64 i, z = zero, dep = 0;
	double t0 = now();

	if (!chain) {
		/* as many in flight as the CPU can */
		for (i = 0; i < m; i++)
			*sum += memtopo_space_lookup(as, addrs[i], &s);
	} else {
		/*
		 * Each address depends on the region the last lookup found,
		 * a value it loaded: latency.  Not on its start, which an
		 * exact slot computes from the address alone: a chain through
		 * it timed independent lookups.  A hole's answer is no loaded
		 * value either (s.mr stays NULL): the chain does not wait for
		 * a lookup landing in one (Documentation/engine.rst).
		 */
		for (i = 0; i < m; i++) {
			s.mr = NULL;
			memtopo_space_lookup(as, addrs[i] + (dep & z), &s);
			dep = (unsigned long)s.mr;
		}
		*sum += dep;
	}
	return (now() - t0) / m * 1e9;
}

static double lookups_bare(const u64 *starts, u32 nr, const u64 *addrs, u64 m, bool chain,
			   u64 *sum)
{
	u64 i, z = zero, dep = 0;
	double t0 = now();

	if (!chain) {
		for (i = 0; i < m; i++)
			*sum += bare_search(starts, nr, addrs[i]);
	} else {
		for (i = 0; i < m; i++)
			dep = bare_search(starts, nr, addrs[i] + (dep & z));
		*sum += dep;
	}
	return (now() - t0) / m * 1e9;
}

/*
 * A lookup through the direct table with none of its work: its mid,
 * page, slot and chunk pointer, then the key and entry lines of the
 * entry the slot names, with none of the slot's forms decoded and
 * nothing checked (an address past a slot's first entry gets that
 * entry's lines, which for a regular map are the same ones).  Not a
 * bound on the lines: the lookup reads no key line for an exact slot
 * (flat's, end to end) and neither line for a hole's (half of sparse's
 * addresses), where this reads both.  A record is chosen as the lookup
 * does, by the address of the pointer, not by a branch.
 */
static noinline u64 floor_walk(const struct memtopo_view *v, u64 addr)
{
	u32 x = min_t(u64, addr >> v->tshift, v->tslots - 1);
	const struct memtopo_tpage *page = memtopo_tpage_of(v, x);
	u16 t = page->slot[x % MEMTOPO_TPAGE_SLOTS];
	u32 c = memtopo_tslot_chunk(t), k = memtopo_tslot_k(t);
	unsigned long pa = (unsigned long)&page->chunk[c - 1], pr = (unsigned long)&v->trec;
	const struct memtopo_chunk *chunk;

	OPTIMIZER_HIDE_VAR(pa);
	OPTIMIZER_HIDE_VAR(pr);
	chunk = *(const struct memtopo_chunk * const *)(c ? pa : pr);
	return chunk->starts[k] + chunk->starts[k + 1] + (unsigned long)chunk->fr[k].mr;
}

/*
 * ns per address of floor_walk() over @addrs, or, with @lines, of
 * reading only the entry line of the entry holding each address, its
 * place computed beforehand: the one line any lookup must fetch.
 */
static double lookups_floor(const struct memtopo_view *v, const u64 *addrs,
			    const struct memtopo_fr *const *lines, u64 m, u64 *sum)
{
	double t0 = now();
	u64 i;

	if (lines)
		for (i = 0; i < m; i++)
			*sum += (unsigned long)lines[i]->mr;
	else
		for (i = 0; i < m; i++)
			*sum += floor_walk(v, addrs[i]);
	return (now() - t0) / m * 1e9;
}

/*
 * --floor: the lookup, the table walk with no decoding, the entry line
 * alone and the bare search, in turns, each timed over addresses no
 * other pass has used and after a pass over its own previous round's.
 * The first three read the same view: timed over one set of addresses,
 * each found the lines the one before it had just fetched (a walk after
 * the lookup, the entry line after the walk), and read as if those
 * lines were free.  What the lookup costs above the walk is its decoding
 * and checks; what the walk costs above the entry line is the table's
 * chain of loads in front of it.
 */
static void print_floor(struct memtopo_space *as, const u64 *starts, u64 per, int nr_rounds)
{
	const struct memtopo_view *v = as->view;
	/* block 0 warms the first round; 4 blocks a round, one a side */
	u64 nr_blocks = 1 + (u64)nr_rounds * 4;
	u64 *xa = malloc(nr_blocks * per * sizeof(*xa));
	const struct memtopo_fr **lines = malloc(nr_blocks * per * sizeof(*lines));
	u64 span = starts[v->nr - 1] ? starts[v->nr - 1] : U64_MAX;
	double t[4][LOOKUP_ROUNDS];
	struct memtopo_view_pos p;
	u64 i, sum = 0;
	int k, side, o;

	if (!xa || !lines) {
		fprintf(stderr, "bench: out of memory\n");
		exit(1);
	}
	if (!v->tslots) {
		printf("  floor: the view has no direct table\n");
		goto out;
	}
	for (i = 0; i < nr_blocks * per; i++) {
		xa[i] = rnd() % span;
		memtopo_pos_find(&p, v, xa[i]);
		lines[i] = memtopo_pos_fr(&p);
	}
	for (k = 0; k < nr_rounds; k++) {
		for (o = 0; o < 4; o++) {
			u64 b;
			const u64 *a, *w;
			const struct memtopo_fr *const *la, *const *lw;

			side = (k + o) % 4;
			b = 1 + (u64)k * 4 + side;
			a = xa + b * per;
			la = lines + b * per;
			w = k ? a - 4 * per : xa;
			lw = k ? la - 4 * per : lines;
			if (side == 0) {
				lookups_memtopo(as, w, per, false, &sum);
				t[0][k] = lookups_memtopo(as, a, per, false, &sum);
			} else if (side == 1) {
				lookups_floor(v, w, NULL, per, &sum);
				t[1][k] = lookups_floor(v, a, NULL, per, &sum);
			} else if (side == 2) {
				lookups_floor(v, w, lw, per, &sum);
				t[2][k] = lookups_floor(v, a, la, per, &sum);
			} else {
				lookups_bare(starts, v->nr, w, per, false, &sum);
				t[3][k] = lookups_bare(starts, v->nr, a, per, false, &sum);
			}
		}
	}
	for (side = 0; side < 4; side++)
		t[side][0] = median(t[side], nr_rounds);
	printf("  floor (ns, ratio to bare): lookup %.1f (%.2f), table walk %.1f (%.2f),",
	       t[0][0], t[0][0] / t[3][0], t[1][0], t[1][0] / t[3][0]);
	printf(" entry line %.1f (%.2f), bare %.1f%s\n", t[2][0], t[2][0] / t[3][0], t[3][0],
	       sum == 42 ? " " : "");
out:
	free(lines);
	free(xa);
}

static void time_lookups(struct memtopo_space *as, u64 lookups, struct result *r,
			 enum shape shape, u64 n)
{
	const struct memtopo_view *v = as->view;
	u64 *addrs = malloc(lookups * sizeof(*addrs)), *starts = malloc(v->nr * sizeof(u64));
	u64 i, span, sum = 0, per = lookups / LOOKUP_ROUNDS ? lookups / LOOKUP_ROUNDS : 1;
	double mem[2][LOOKUP_ROUNDS], bare[2][LOOKUP_ROUNDS];
	double mem_cold[2][LOOKUP_ROUNDS], bare_cold[2][LOOKUP_ROUNDS];
	struct memtopo_section s;
	struct memtopo_view_pos p;
	int nr_rounds = min_t(u64, lookups / per, LOOKUP_ROUNDS), k, chain;
	u32 j = 0;

	/* the bare search's array: every start of the view, holes included */
	for (memtopo_pos_init(&p, v, 0); p.i < v->nr; memtopo_pos_next(&p))
		starts[j++] = memtopo_pos_start(&p);
	span = starts[v->nr - 1] ? starts[v->nr - 1] : U64_MAX;
	for (i = 0; i < lookups; i++)
		addrs[i] = rnd() % span;
	/*
	 * Both must find the same entry, or the comparison means nothing:
	 * a range answered with its start, a hole with -ENOENT.
	 */
	rcu_read_lock();
	for (i = 0; i < 10000 && i < lookups; i++) {
		u32 b = bare_search(starts, v->nr, addrs[i]);
		int ret = memtopo_space_lookup(as, addrs[i], &s);

		memtopo_pos_init(&p, v, b);
		if (ret != (memtopo_pos_fr(&p)->mr ? 0 : -ENOENT) || (!ret && s.start != starts[b]))
			fail("lookup and the bare search disagree", shape, n);
	}

	/* round k: both over the same lookups / LOOKUP_ROUNDS addresses */
	for (chain = 0; chain < 2; chain++) {
		for (k = 0; k < nr_rounds; k++) {
			const u64 *a = addrs + k * per;
			const u64 *w = addrs + (k + 1) % nr_rounds * per;

			if (k & 1) {
				bare_cold[chain][k] = lookups_bare(starts, v->nr, w, per, chain,
								   &sum);
				bare[chain][k] = lookups_bare(starts, v->nr, a, per, chain, &sum);
				mem_cold[chain][k] = lookups_memtopo(as, w, per, chain, &sum);
				mem[chain][k] = lookups_memtopo(as, a, per, chain, &sum);
			} else {
				mem_cold[chain][k] = lookups_memtopo(as, w, per, chain, &sum);
				mem[chain][k] = lookups_memtopo(as, a, per, chain, &sum);
				bare_cold[chain][k] = lookups_bare(starts, v->nr, w, per, chain,
								   &sum);
				bare[chain][k] = lookups_bare(starts, v->nr, a, per, chain, &sum);
			}
		}
	}
	rcu_read_unlock();
	r->lookup_ns = median(mem[0], nr_rounds);
	r->bare_ns = median(bare[0], nr_rounds);
	r->chain_ns = median(mem[1], nr_rounds);
	r->chain_bare_ns = median(bare[1], nr_rounds);
	r->cold_ratio = median(mem_cold[0], nr_rounds) / median(bare_cold[0], nr_rounds);
	if (floor_detail) {
		rcu_read_lock();
		print_floor(as, starts, per, nr_rounds);
		rcu_read_unlock();
	}
	if (sum == 42)
		fprintf(stderr, " ");
	free(addrs);
	free(starts);
}

/* One map being measured: built, its commits timed, then the rest, torn down. */
struct bench_run {
	enum shape shape;
	u64 n;
	struct memtopo_ctx *ctx;
	struct memtopo_region *root;
	struct memtopo_space *as;
	struct counts cnt;
	struct memtopo_listener l;
	struct plan p;
	struct series bare, heard;
	struct result r;
};

/* Build @b->shape at @b->n one commit per add, and time a full render. */
static void run_build(struct bench_run *b)
{
	struct memtopo_region_info ri = { .kind = MEMTOPO_CONTAINER, .name = "root",
					  .size_is_2_64 = true };
	struct memtopo_ctx *ctx = memtopo_ctx_create("bench");
	struct memtopo_region *root = memtopo_region_create(ctx, &ri);
	struct result *r = &b->r;
	struct plan *p = &b->p;
	struct memtopo_view *v;
	size_t before;
	double t0, t1;
	u32 regions;
	u64 i, n = b->n;

	b->ctx = ctx;
	b->root = root;
	/* the plan's arrays first, so that only regions are counted */
	plan_alloc(p, n);
	regions = ctx->nr_regions;
	before = heap_bytes();
	make_plan(ctx, b->shape, n, p, root);
	r->bytes_region = (double)(heap_bytes() - before) / (ctx->nr_regions - regions);

	b->as = memtopo_space_create(ctx, "as", root);
	/*
	 * Every repetition builds one commit per add, not only the timed
	 * first: the view's chunks and groups are then laid out alike at every
	 * size, and the commits and bytes measured on them compare.
	 */
	r->build_s = NAN;
	t0 = now();
	for (i = 0; i < n; i++) {
		memtopo_region_add_subregion(p->parent[i], p->addr[i], p->leaf[i], p->prio[i],
					     true);
		if (now() - t0 > build_budget_s)
			break;
	}
	if (i == n) {
		r->build_s = now() - t0;
	} else {
		memtopo_transaction_begin(ctx);
		for (i++; i < n; i++)
			memtopo_region_add_subregion(p->parent[i], p->addr[i], p->leaf[i],
						     p->prio[i], true);
		memtopo_transaction_commit(ctx);
	}
	r->ranges = b->as->view->nr_ranges;
	r->entries = b->as->view->nr;

	/* a full render of the whole map with the context's render memory */
	t0 = now();
	v = memtopo_render_with(ctx->scratch, memtopo_effective_root(root));
	t1 = now();
	r->render_s = t1 - t0;
	memtopo_view_put(v);
}

/*
 * One series of run_commits(): a function of its own, not inlined, so that
 * callgrind counts the timed commits alone (--toggle-collect, in
 * tools/testing/bench-commit-cost), without the listener's attach and
 * detach around them or the other series that time_commits_more() runs.
 */
static noinline void time_series(struct bench_run *x, bool listen)
{
	time_commits_more(x->as, &x->p, commits, commits, listen ? &x->cnt : NULL, x->shape,
			  listen ? &x->heard : &x->bare, now_op, false);
}

/*
 * One-change commits on every map of one shape, bare, then with a counting
 * listener attached, each map's series whole before the next map's (the
 * maps forward, then backward), all within a second or two.  Not in turns
 * of a few hundred: the commit after a turn found the caches and the
 * allocator's lists as the other map's commits had left them, and the
 * turns lengthened the commits of 10^5 more than those of 10^6 (the
 * medians of 10^5 beside 10^6, flat, 4.1-4.5 us in turns of 100 against
 * 3.7-3.9 in series of 10001), so that the commit's growth read 1.43-1.47
 * where it is 1.52-1.61.  Each series moves its own leaves: none finds
 * chunks split by another.  So in a short run (--quick: 21 commits) the
 * two series time different leaves, whose commits differ by more than
 * the listener costs: there, with a listener can read faster than
 * without, the same way run after run.  The goal's figures come from full
 * runs, 10001 commits a series.
 */
static void run_commits(struct bench_run *b, int nb)
{
	int i, j, listen;

	for (i = 0; i < nb; i++) {
		b[i].bare = (struct series){ .t = calloc(commits, sizeof(double)),
					     .k = b[i].n / 2 };
		b[i].heard = (struct series){ .t = calloc(commits, sizeof(double)),
					      .k = b[i].n / 3 };
	}
	for (listen = 0; listen < 2; listen++) {
		for (j = 0; j < nb; j++) {
			struct bench_run *x = &b[listen ? nb - 1 - j : j];

			if (listen) {
				x->l = (struct memtopo_listener){ .ops = &counting_ops,
								  .priv = &x->cnt };
				if (memtopo_listener_register(x->as, &x->l))
					fail("a listener could not be attached", x->shape, x->n);
			}
			time_series(x, listen);
		}
	}
	for (i = 0; far_detail && i < nb; i++) {
		struct series far = { .t = calloc(commits, sizeof(double)), .k = b[i].n / 4 };

		time_commits_more(b[i].as, &b[i].p, commits, commits, &b[i].cnt, b[i].shape, &far,
				  now_op, true);
		b[i].r.commit_far_us = series_median(&far, commits, b[i].shape, b[i].n);
	}
	for (i = 0; i < nb; i++) {
		memtopo_listener_unregister(&b[i].l);
		if (b[i].cnt.add != b[i].cnt.del)
			fail("listener adds and deletes do not balance", b[i].shape, b[i].n);
		b[i].r.commit_bare_us = series_median(&b[i].bare, commits, b[i].shape, b[i].n);
		b[i].r.commit_us = series_median(&b[i].heard, commits, b[i].shape, b[i].n);
	}
}

/*
 * What the direct table's slots make a lookup of a uniform address do (a
 * slot's share of the addresses is its share of the slots; the last one,
 * up to the top of the address space, is left out): answer from the slot
 * alone (all of it in a hole), answer with no key
 * compare (no other start in the slot, or one or two on eighths of it,
 * which the slot says), count up to 3 keys, take the entry's bounds from
 * the slot's index (the entry is exactly the slot), go through a
 * long entry's record, or search the groups.
 */
static void print_table_detail(const struct memtopo_view *v)
{
	u32 s, how[7] = {}, all = v->tslots ? v->tslots - 1 : 0;

	for (s = 0; s < all; s++) {
		u16 t = memtopo_tpage_of(v, s)->slot[s % MEMTOPO_TPAGE_SLOTS];
		u32 f = memtopo_tslot_form(t);

		if (!memtopo_tslot_chunk(t))
			how[memtopo_tslot_record(t) ? 3 : 4]++;
		else if (f == MEMTOPO_TSLOT_HOLE)
			how[6]++;
		else if (f == MEMTOPO_TSLOT_COUNT || f == MEMTOPO_TSLOT_EXACT)
			how[f == MEMTOPO_TSLOT_COUNT ? 1 : 2]++;
		else
			how[f ? 5 : 0]++;
	}
	if (!all)
		return;
	printf("  table slots (%u, 2^%u bytes): hole %.1f%%,", all, v->tshift,
	       100.0 * how[6] / all);
	printf(" no key %.1f%% (%.1f%% naming their other starts),",
	       100.0 * (how[0] + how[5]) / all, 100.0 * how[5] / all);
	printf(" count %.1f%%,", 100.0 * how[1] / all);
	printf(" exact %.1f%%, record %.1f%%, groups %.1f%%\n", 100.0 * how[2] / all,
	       100.0 * how[3] / all, 100.0 * how[4] / all);
}

/*
 * Where a view's bytes go, counted from its structure (the allocator's
 * own overhead, 16 bytes an object in glibc, not included): chunks and
 * how full they are, holes, groups, the group index and the direct table,
 * then how its slots answer (print_table_detail()).
 */
static void print_view_detail(struct memtopo_space *as, u64 ranges)
{
	const struct memtopo_view *v = as->view;
	u32 g, j, hist[5] = {}, pages = DIV_ROUND_UP(v->tslots, MEMTOPO_TPAGE_SLOTS);
	double per = 1.0 / ranges;

	for (g = 0; g < v->nr_groups; g++)
		for (j = 0; j < v->groups[g]->nr_chunks; j++)
			hist[min_t(u32, 4, v->groups[g]->chunks[j]->nr * 4 /
				   MEMTOPO_CHUNK_ENTRIES)]++;
	printf("  %u entries, %u holes (%.1f%%), %u chunks %.1f%% full", v->nr,
	       v->nr - v->nr_ranges, 100.0 * (v->nr - v->nr_ranges) / v->nr, v->nr_chunks,
	       100.0 * v->nr / ((double)v->nr_chunks * MEMTOPO_CHUNK_ENTRIES));
	printf(" (<1/4 %u, <1/2 %u, <3/4 %u, <full %u, full %u), %u groups, %u kept views\n",
	       hist[0], hist[1], hist[2], hist[3], hist[4], v->nr_groups,
	       memtopo_history_depth(as));
	printf("  bytes a range: chunks %.2f, groups %.2f, index %.2f,",
	       per * v->nr_chunks * sizeof(struct memtopo_chunk),
	       per * v->nr_groups * sizeof(struct memtopo_group),
	       per * v->nr_groups * (sizeof(u64) * 2 + sizeof(u32) * 2));
	printf(" table %.2f (%u pages, %u mids)\n",
	       per * (pages * sizeof(struct memtopo_tpage) +
		      v->nr_tmids * (sizeof(struct memtopo_tmid) + sizeof(void *))),
	       pages, v->nr_tmids);
	print_table_detail(v);
}

/* Everything else, then tear the map down. */
static void run_finish(struct bench_run *b)
{
	struct memtopo_space *as = b->as;
	struct memtopo_ctx *ctx = b->ctx;
	struct result *r = &b->r;
	enum shape shape = b->shape;
	u64 n = b->n;
	size_t before, scratch, kept;
	double attach_ns, detach_ns, t, efd_us = 0, efd_add_us = 0;

	/*
	 * A region_nop listener walks every range: per range.  Attaching it
	 * replays the view to it as region_add, detaching as region_del:
	 * each a walk of the whole view, timed by itself.
	 */
	b->l = (struct memtopo_listener){ .ops = &nop_ops, .priv = &b->cnt };
	t = now();
	if (memtopo_listener_register(as, &b->l))
		fail("a region_nop listener could not be attached", shape, n);
	attach_ns = (now() - t) * 1e9 / as->view->nr_ranges;
	b->cnt.nop = 0;
	r->nop_ns = time_commits(as, &b->p, nop_commits, &b->cnt, shape, n / 5) * 1e3 /
		    as->view->nr_ranges;
	t = now();
	memtopo_listener_unregister(&b->l);
	detach_ns = (now() - t) * 1e9 / as->view->nr_ranges;
	if (!b->cnt.nop)
		fail("a region_nop listener heard no region_nop", shape, n);
	/*
	 * With an ioeventfd registered anywhere in the context, every commit
	 * also settles the set its spaces show (QEMU's
	 * address_space_update_ioeventfds() builds it anew each time): the
	 * one-change commit again, with one on the first leaf, which few of
	 * them move.
	 */
	if (walks_detail) {
		static struct eventfd_ctx efd;

		/* a registration builds every space's set and reports it at once */
		t = now();
		if (memtopo_region_add_eventfd(b->p.leaf[0], 0, 4, false, 0, &efd))
			fail("an ioeventfd could not be registered", shape, n);
		efd_add_us = (now() - t) * 1e6;
		efd_us = time_commits(as, &b->p, nop_commits, NULL, shape, n / 9);
		if (memtopo_region_del_eventfd(b->p.leaf[0], 0, 4, false, 0, &efd))
			fail("the ioeventfd could not be unregistered", shape, n);
	}

	time_diffs(as, &b->p, diff_samples, shape, n / 7, &r->diff1_us, &r->diff_deep_us,
		   &r->kept);
	/* the detail lines come before the table's row for this map: name it */
	if (floor_detail || bytes_detail || walks_detail || far_detail)
		printf("  %s, %llu leaves:\n", shape_name[shape], (unsigned long long)n);
	if (far_detail)
		printf("  far moves: the commit with a listener %.2f us, %.2f one page over\n",
		       r->commit_far_us, r->commit_us);
	if (walks_detail) {
		printf("  walks: attaching a listener %.2f ns a range, detaching it %.2f;",
		       attach_ns, detach_ns);
		printf(" registering an ioeventfd %.1f us, a commit with it %.1f us\n",
		       efd_add_us, efd_us);
	}
	time_lookups(as, lookups, r, shape, n);

	/*
	 * What the published view, the views kept for resync and the render
	 * memory the context kept cost, per range: from the allocator, by
	 * letting them go one after the other.
	 */
	if (bytes_detail)
		print_view_detail(as, r->ranges);
	before = heap_bytes();
	memtopo_render_scratch_free(ctx->scratch);
	ctx->scratch = NULL;
	scratch = before - heap_bytes();
	memtopo_ctx_lock(ctx);
	memtopo_history_free(as);
	memtopo_ctx_unlock(ctx);
	kept = before - scratch - heap_bytes();
	memtopo_space_destroy(as);
	r->bytes_range = (double)(before - heap_bytes()) / r->ranges;
	r->bytes_entry = (double)(before - heap_bytes()) / r->entries;
	if (bytes_detail)
		printf("  B/range %.2f: scratch %.2f, kept views %.2f, published view %.2f\n",
		       r->bytes_range, (double)scratch / r->ranges, (double)kept / r->ranges,
		       r->bytes_range - (double)(scratch + kept) / r->ranges);

	free_plan(&b->p);
	memtopo_ctx_put(ctx);
}

static void write_svg(const char *path, const u64 *ns, int nn, struct result res[][8])
{
	static const char *const colors[] = {
		"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b"
	};
	FILE *f = fopen(path, "w");
	double x0 = 80, y0 = 40, w = 560, h = 360, lo = 1 / 1e6, hi = 1e3;
	int s, i, k;

	if (!f) {
		fprintf(stderr, "bench: --svg %s: %s\n", path, strerror(errno));
		failed = true;
		return;
	}
	fprintf(f, "<svg xmlns='http://www.w3.org/2000/svg' width='800' height='460'");
	fprintf(f, " font-family='sans-serif' font-size='12'>\n");
	fprintf(f, "<text x='%g' y='20'>memtopo engine: seconds vs leaves (log-log);", x0);
	fprintf(f, " solid = full render, dashed = build (one commit per add)</text>\n");
	fprintf(f, "<rect x='%g' y='%g' width='%g' height='%g' fill='none' stroke='black'/>\n",
		x0, y0, w, h);
	for (k = -6; k <= 3; k++) {
		double y = y0 + h - (k - log10(lo)) / (log10(hi) - log10(lo)) * h;

		fprintf(f, "<text x='%g' y='%g' text-anchor='end'>1e%d</text>\n", x0 - 4, y + 4, k);
		fprintf(f, "<line x1='%g' x2='%g' y1='%g' y2='%g' stroke='#ddd'/>\n",
			x0, x0 + w, y, y);
	}
	for (i = 0; i < nn; i++) {
		double x = x0 + (log10(ns[i]) - 3) / 3.0 * w;

		fprintf(f, "<text x='%g' y='%g' text-anchor='middle'>%llu</text>\n", x, y0 + h + 16,
			(unsigned long long)ns[i]);
	}
	for (s = 0; s < NR_SHAPES; s++) {
		for (k = 0; k < 2; k++) {
			fprintf(f, "<polyline fill='none' stroke='%s' stroke-width='2'%s points='",
				colors[s], k ? " stroke-dasharray='6,4'" : "");
			for (i = 0; i < nn; i++) {
				double t = k ? res[s][i].build_s : res[s][i].render_s;

				if (isnan(t) || t <= 0)
					continue;
				fprintf(f, "%g,%g ", x0 + (log10(ns[i]) - 3) / 3.0 * w,
					y0 + h - (log10(t) - log10(lo)) /
						 (log10(hi) - log10(lo)) * h);
			}
			fprintf(f, "'/>\n");
		}
		fprintf(f, "<text x='%g' y='%g' fill='%s'>%s</text>\n", x0 + w + 12,
			y0 + 20 + s * 18, colors[s], shape_name[s]);
	}
	fprintf(f, "</svg>\n");
	fclose(f);
}

static void help_text(FILE *f)
{
	fprintf(f,
		"usage: bench [options]\n"
		"  --min N, --max N    the sizes of 10^3, 10^4, 10^5, 10^6 in [min, max]\n"
		"                      (leaves, or ranges with --ranges); default all\n"
		"  --shape S           one shape: flat, tree, overlap, alias, alias-seq,\n"
		"                      sparse; default all\n"
		"  --reps R            repetitions, 1-16, medians printed (default 3;\n"
		"                      a map of 10^6 is built in the first only)\n"
		"  --commits C         one-change commits timed per series, 1-1000000\n"
		"                      (default 10001)\n"
		"  --lookups L         random lookups per side, %d-100000000\n"
		"                      (default 1000000)\n"
		"  --build-budget S    seconds for building one commit per add; the rest\n"
		"                      of the map in one commit (0: all in one; default 120)\n"
		"  --ranges            sizes count flat ranges, the lookup goal's unit\n"
		"  --quick             10^3..10^5, one repetition, few commits (make check);\n"
		"                      options after it override it\n"
		"  --floor             after each map's lookups, what the table walk and the\n"
		"                      entry line alone cost\n"
		"  --bytes-detail      after each map, where a range's bytes go\n"
		"  --far-moves         after each map, the commit with a listener with the\n"
		"                      leaf moved far (two windows) and back\n"
		"  --walks             after each map, what attaching and detaching a\n"
		"                      listener (a walk of the whole view each) cost a range,\n"
		"                      and a one-change commit with an ioeventfd registered\n"
		"  --csv FILE          the figures as CSV; --svg FILE: build and render times\n"
		"  --help              this text\n", LOOKUP_ROUNDS);
}

/*
 * @arg as a decimal number in [@lo, @hi], or exit with a message naming
 * --@opt.  Digits only: strtoull() would skip leading blanks and take a
 * sign after them (" -1" as 2^64 - 1).
 */
static u64 arg_u64(const char *opt, const char *arg, u64 lo, u64 hi)
{
	unsigned long long v;
	char *end;

	errno = 0;
	v = strtoull(arg, &end, 10);
	if (errno || arg[0] < '0' || arg[0] > '9' || *end || v < lo || v > hi) {
		fprintf(stderr, "bench: --%s %s: want a number from %llu to %llu\n", opt, arg,
			(unsigned long long)lo, (unsigned long long)hi);
		exit(2);
	}
	return v;
}

/* @arg as seconds, 0 or more, or exit with a message naming --@opt */
static double arg_seconds(const char *opt, const char *arg)
{
	char *end;
	double v = strtod(arg, &end);

	if (end == arg || *end || !(v >= 0)) {
		fprintf(stderr, "bench: --%s %s: want seconds, 0 or more\n", opt, arg);
		exit(2);
	}
	return v;
}

#define NR_COLS 17

/* Repetitions of size @n: a map of 10^6 is built once. */
static int reps_of(u64 n, int reps)
{
	return n >= 1000000 ? 1 : reps;
}

/*
 * The leaves that give @shape about @size ranges (--ranges), or @size.
 * overlap: 0.448 ranges a leaf from 2.2 * 10^5 to 2.1 * 10^6 leaves, up to
 * the regions a context may hold (0.94 * 10^6 ranges); alias-seq: half
 * its leaves, the aliases, merge into one range.  The table and CSV
 * give the ranges a run had.
 */
static u64 leaves_for(enum shape shape, u64 size)
{
	if (!size_in_ranges)
		return size;
	if (shape == OVERLAP)
		return min_t(u64, size * 2234 / 1000, MEMTOPO_MAX_REGIONS - 2);
	if (shape == ALIAS_SEQ)
		return 2 * (size - 1);
	return size;
}

static void result_cols(const struct result *r, double *c)
{
	c[0] = r->build_s;
	c[1] = r->render_s;
	c[2] = r->commit_us;
	c[3] = r->commit_bare_us;
	c[4] = r->nop_ns;
	c[5] = r->lookup_ns;
	c[6] = r->bare_ns;
	c[7] = r->chain_ns;
	c[8] = r->chain_bare_ns;
	c[9] = r->bytes_region;
	c[10] = r->bytes_range;
	c[11] = r->diff1_us;
	c[12] = r->diff_deep_us;
	c[13] = r->kept;
	c[14] = r->cold_ratio;
	c[15] = r->bytes_entry;
	c[16] = r->ranges;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "csv", required_argument, NULL, 'c' },
		{ "svg", required_argument, NULL, 's' },
		{ "reps", required_argument, NULL, 'r' },
		{ "max", required_argument, NULL, 'm' },
		{ "min", required_argument, NULL, 'n' },
		{ "build-budget", required_argument, NULL, 'b' },
		{ "shape", required_argument, NULL, 'S' },
		{ "quick", no_argument, NULL, 'q' },
		{ "commits", required_argument, NULL, 'C' },
		{ "bytes-detail", no_argument, NULL, 'B' },
		{ "lookups", required_argument, NULL, 'L' },
		{ "floor", no_argument, NULL, 'F' },
		{ "walks", no_argument, NULL, 'W' },
		{ "far-moves", no_argument, NULL, 'M' },
		{ "ranges", no_argument, NULL, 'R' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	static struct result res[NR_SHAPES][8];
	u64 ns[] = { 1000, 10000, 100000, 1000000 };
	const char *csv = NULL, *svgpath = NULL, *only = NULL;
	int reps = 3, nn = 4, first = 0, s, i, k, c, j;
	u64 max = 1000000, min = 0;
	FILE *f = NULL;

	if (memtopo_region_cache_init() || memtopo_view_cache_init())
		return 1;
	zero = !!getenv("MEMTOPO_BENCH_NEVER_SET");

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (c == 'c') {
			csv = optarg;
		} else if (c == 's') {
			svgpath = optarg;
		} else if (c == 'r') {
			reps = arg_u64("reps", optarg, 1, 16);
		} else if (c == 'm') {
			max = arg_u64("max", optarg, 0, U64_MAX);
		} else if (c == 'n') {
			min = arg_u64("min", optarg, 0, U64_MAX);
		} else if (c == 'b') {
			build_budget_s = arg_seconds("build-budget", optarg);
		} else if (c == 'S') {
			only = optarg;
		} else if (c == 'C') {
			commits = arg_u64("commits", optarg, 1, 1000000);
		} else if (c == 'B') {
			bytes_detail = true;
		} else if (c == 'F') {
			floor_detail = true;
		} else if (c == 'W') {
			walks_detail = true;
		} else if (c == 'M') {
			far_detail = true;
		} else if (c == 'R') {
			size_in_ranges = true;
		} else if (c == 'L') {
			/* few, for a run under cachegrind */
			lookups = arg_u64("lookups", optarg, LOOKUP_ROUNDS, 100000000);
		} else if (c == 'q') {
			/* make check: every path once, small sizes, one repetition */
			reps = 1;
			max = 100000;
			build_budget_s = 10;
			commits = 21;
			nop_commits = 3;
			diff_samples = 5;
			lookups = 200000;
		} else {
			help_text(c == 'h' ? stdout : stderr);
			return c == 'h' ? 0 : 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "bench: unexpected argument '%s'\n", argv[optind]);
		help_text(stderr);
		return 2;
	}
	if (only) {
		for (s = 0; s < NR_SHAPES && strcmp(only, shape_name[s]); s++)
			;
		if (s == NR_SHAPES) {
			fprintf(stderr, "bench: --shape %s: not a shape (--help lists them)\n",
				only);
			return 2;
		}
	}
	while (nn && ns[nn - 1] > max)
		nn--;
	while (first < nn && ns[first] < min)
		first++;
	if (first >= nn) {
		fprintf(stderr,
			"bench: no size of 10^3, 10^4, 10^5 or 10^6 lies in --min %llu --max %llu\n",
			(unsigned long long)min, (unsigned long long)max);
		return 2;
	}
	if (csv) {
		f = fopen(csv, "w");
		if (!f) {
			fprintf(stderr, "bench: --csv %s: %s\n", csv, strerror(errno));
			return 1;
		}
		for (j = 0; j < (int)ARRAY_SIZE(csv_cols); j++)
			fprintf(f, "%s%c", csv_cols[j],
				j + 1 < (int)ARRAY_SIZE(csv_cols) ? ',' : '\n');
	}
	printf("%-9s %7s %8s %8s %9s %9s %7s %7s %7s %5s %7s %7s %5s %7s %7s", "shape", "n",
	       "build_s", "render_s", "commit_us", "c_bare_us", "nop_ns", "look_ns", "bare_ns",
	       "ratio", "chain", "ch_bare", "ratio", "B/reg", "B/range");
	printf(" %7s %7s %4s %5s %7s %7s\n", "diff_us", "deep_us", "kept", "cold", "B/entry",
	       "ranges");
	for (s = 0; s < NR_SHAPES; s++) {
		/* [size][column][repetition] */
		static double v[4][NR_COLS][16];

		if (only && strcmp(only, shape_name[s]))
			continue;
		/*
		 * Each repetition builds every size of the shape first (10^6
		 * once), so that their commits can be timed side by side.
		 */
		for (k = 0; k < reps; k++) {
			struct bench_run b[4] = {};
			int nb = 0;

			for (i = first; i < nn; i++) {
				if (k >= reps_of(ns[i], reps))
					continue;
				b[nb].shape = s;
				b[nb].n = leaves_for(s, ns[i]);
				run_build(&b[nb++]);
			}
			if (!nb)
				break;
			run_commits(b, nb);
			for (j = 0; j < nb; j++) {
				double cols[NR_COLS];

				run_finish(&b[j]);
				result_cols(&b[j].r, cols);
				for (i = first; leaves_for(s, ns[i]) != b[j].n; i++)
					;
				for (c = 0; c < NR_COLS; c++)
					v[i][c][k] = cols[c];
			}
		}
		for (i = first; i < nn; i++) {
			int reps_here = reps_of(ns[i], reps);
			struct result *r = &res[s][i];
			double m[NR_COLS];

			/* the build time is the first repetition's */
			m[0] = v[i][0][0];
			for (j = 1; j < NR_COLS; j++)
				m[j] = median(v[i][j], reps_here);
			/*
			 * The commits only from the repetitions that timed the
			 * largest size beside this one: the sizes' commits are
			 * compared (the growth goal), and only those ran in the
			 * same seconds, under the same load from other jobs.
			 */
			m[2] = median(v[i][2], reps_of(ns[nn - 1], reps_here));
			m[3] = median(v[i][3], reps_of(ns[nn - 1], reps_here));
			*r = (struct result){ m[0], m[1], m[2], m[3], m[4], m[5], m[6], m[7], m[8],
					      m[9], m[10] };
			r->diff1_us = m[11];
			r->diff_deep_us = m[12];
			r->kept = m[13];
			r->cold_ratio = m[14];
			r->bytes_entry = m[15];
			r->ranges = m[16];
			/* the leaves --ranges picked must give its size, but where capped */
			if (size_in_ranges && leaves_for(s, ns[i]) < MEMTOPO_MAX_REGIONS - 2 &&
			    (r->ranges * 50 < ns[i] * 49 || r->ranges * 50 > ns[i] * 51))
				fail("--ranges: the ranges are not the size, within 2%", s, ns[i]);
			printf("%-9s %7llu %8.4f %8.4f %9.2f %9.2f %7.1f ", shape_name[s],
			       (unsigned long long)leaves_for(s, ns[i]), r->build_s, r->render_s,
			       r->commit_us,
			       r->commit_bare_us, r->nop_ns);
			printf("%7.1f %7.1f %5.2f %7.1f %7.1f %5.2f %7.1f %7.1f", r->lookup_ns,
			       r->bare_ns, r->lookup_ns / r->bare_ns, r->chain_ns,
			       r->chain_bare_ns, r->chain_ns / r->chain_bare_ns, r->bytes_region,
			       r->bytes_range);
			printf(" %7.2f %7.2f %4.0f %5.2f %7.1f %7llu\n", r->diff1_us,
			       r->diff_deep_us, r->kept, r->cold_ratio, r->bytes_entry,
			       (unsigned long long)r->ranges);
			fflush(stdout);
			if (f)
				fprintf(f, "%s,%llu,%g,%g,%g,%g,%g,%g,%g,%.3f,%g,%g,%.3f,%g,%g",
					shape_name[s], (unsigned long long)leaves_for(s, ns[i]),
					r->build_s,
					r->render_s, r->commit_us, r->commit_bare_us, r->nop_ns,
					r->lookup_ns, r->bare_ns, r->lookup_ns / r->bare_ns,
					r->chain_ns, r->chain_bare_ns,
					r->chain_ns / r->chain_bare_ns, r->bytes_region,
					r->bytes_range);
			if (f)
				fprintf(f, ",%g,%g,%g,%.3f,%g,%llu\n", r->diff1_us,
					r->diff_deep_us, r->kept, r->cold_ratio, r->bytes_entry,
					(unsigned long long)r->ranges);
		}
	}
	if (f)
		fclose(f);
	if (svgpath)
		write_svg(svgpath, ns, nn, res);
	printf("commit_us: median one-change commit (every one a real change) with a counting\n"
	       "region_add/region_del listener; c_bare_us: the same without a listener;\n"
	       "nop_ns: a commit with a region_nop listener, per range; look_ns/bare_ns:\n"
	       "random lookups vs a bare branch-free binary search over the starts, same run,\n"
	       "each side after a pass over other addresses (cold: the ratio of those passes,\n"
	       "each run just after the other side's; chain: each address depends on the last\n"
	       "result); B/reg: the regions alone, B/range: the published view, the kept\n"
	       "views and the render memory, both from the allocator; diff_us/deep_us: the\n"
	       "difference from the view 1 one-change commit old / from the oldest kept, at\n"
	       "most 16 old (MEMTOPO_GET_FLAT_DIFF's find and walk, counting callback);\n"
	       "kept: the views the space keeps for that (history.c); B/range counts\n"
	       "the ranges with a region, B/entry every entry of the view, holes included\n"
	       "(sparse, a hole beside every leaf, has twice flat's entries a range).\n");
	printf("build_s: nan = not run to the end");
	printf(" (building one commit per add took over the %.0f s budget)\n",
	       build_budget_s);
	if (failed)
		printf("bench: FAILED (see above)\n");
	return failed;
}
