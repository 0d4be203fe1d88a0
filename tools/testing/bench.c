// SPDX-License-Identifier: GPL-2.0
/*
 * Engine benchmark, run natively through the userspace build: for each
 * shape and size it measures building with one commit per add, a full
 * render, a commit that changes one region, random lookups, and memory
 * per region and per flat range.  Medians of --reps runs.  Writes a table,
 * a CSV and a log-log SVG plot.
 */
#include <linux/slab.h>
#include <getopt.h>
#include <math.h>
#include <malloc.h>
#include <time.h>

#include "memtopo_internal.h"

#define PAGE 4096ULL

enum shape { FLAT, TREE, OVERLAP, ALIAS, ALIAS_SEQ, NR_SHAPES };
static const char *const shape_name[] = { "flat", "tree", "overlap", "alias", "alias-seq" };

struct result {
	double build_s, render_s, commit_us, lookup_ns, bytes_region, bytes_range;
};

static double build_budget_s = 120;

/* --csv: this header, then one row per shape and size */
static const char csv_header[] =
	"shape,n,build_s,render_s,commit_us,lookup_ns,bytes_per_region,bytes_per_range\n";

static u64 rng = 88172645463325252ULL;
static u64 rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static size_t heap_bytes(void)
{
	struct mallinfo2 mi = mallinfo2();

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

/* Create every region detached; return the plan of adds. */
static void make_plan(struct memtopo_ctx *ctx, enum shape shape, u64 n, struct plan *p,
		      struct memtopo_region *root)
{
	struct memtopo_region *bus[16], *big = NULL;
	u64 *order = calloc(n, sizeof(*order)), i, half = n / 2;

	p->n = n;
	p->leaf = calloc(n, sizeof(*p->leaf));
	p->parent = calloc(n, sizeof(*p->parent));
	p->addr = calloc(n, sizeof(*p->addr));
	p->prio = calloc(n, sizeof(*p->prio));
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

static void run(enum shape shape, u64 n, struct result *r, bool do_build)
{
	struct memtopo_region_info ri = { .kind = MEMTOPO_CONTAINER, .name = "root",
					  .size_is_2_64 = true };
	struct memtopo_ctx *ctx = memtopo_ctx_create("bench");
	struct memtopo_region *root = memtopo_region_create(ctx, &ri);
	struct memtopo_space *as;
	struct memtopo_view *v;
	struct plan p;
	size_t before, after;
	double t0, t1;
	u64 i, lookups = 1000000, hits = 0, span;

	before = heap_bytes();
	make_plan(ctx, shape, n, &p, root);
	after = heap_bytes();
	r->bytes_region = (double)(after - before -
				   n * (sizeof(void *) * 3 + sizeof(u64) + sizeof(int))) / n;

	as = memtopo_space_create(ctx, "as", root);
	r->build_s = NAN;
	if (do_build) {
		t0 = now();
		for (i = 0; i < n; i++) {
			memtopo_region_add_subregion(p.parent[i], p.addr[i], p.leaf[i], p.prio[i],
						     true);
			if (now() - t0 > build_budget_s)
				break;
		}
		if (i == n) {
			r->build_s = now() - t0;
		} else {
			memtopo_transaction_begin(ctx);
			for (i++; i < n; i++)
				memtopo_region_add_subregion(p.parent[i], p.addr[i], p.leaf[i],
							     p.prio[i], true);
			memtopo_transaction_commit(ctx);
		}
	} else {
		memtopo_transaction_begin(ctx);
		for (i = 0; i < n; i++)
			memtopo_region_add_subregion(p.parent[i], p.addr[i], p.leaf[i], p.prio[i],
						     true);
		memtopo_transaction_commit(ctx);
	}

	/*
	 * A full render of the whole map, as a commit runs it: with the
	 * context's render memory, already sized by the build's own renders.
	 */
	t0 = now();
	v = memtopo_render_with(ctx->scratch, memtopo_effective_root(root));
	t1 = now();
	r->render_s = t1 - t0;
	memtopo_view_put(v);

	v = as->view;
	/* chunks and the top-level index, per range */
	r->bytes_range = ((double)v->nr_chunks * (sizeof(struct memtopo_chunk) + sizeof(u64) +
						  sizeof(u32) + sizeof(void *))) / v->nr_ranges;

	/*
	 * A commit that changes one region: move a leaf by a page and back,
	 * 101 times, leaves spread over the map; the median, so the rare
	 * chunk repack (amortised over many commits) is not what is shown.
	 */
	{
		double t[101];

		for (i = 0; i < 101; i++) {
			u64 k = (n / 2 + i * 7919) % n;

			t0 = now();
			memtopo_region_set_address(p.leaf[k], p.addr[k] + ((i & 1) ? 0 : PAGE));
			t[i] = now() - t0;
			memtopo_region_set_address(p.leaf[k], p.addr[k]);
		}
		r->commit_us = median(t, 101) * 1e6;
	}
	v = as->view;

	/* random lookups inside the mapped span */
	span = memtopo_view_start(v, v->nr - 1) ? memtopo_view_start(v, v->nr - 1) : U64_MAX;
	{
		u64 *addrs = malloc(lookups * sizeof(*addrs));
		struct memtopo_section s;

		for (i = 0; i < lookups; i++)
			addrs[i] = rnd() % span;
		t0 = now();
		rcu_read_lock();
		for (i = 0; i < lookups; i++)
			hits += !memtopo_space_lookup(as, addrs[i], &s);
		rcu_read_unlock();
		r->lookup_ns = (now() - t0) / lookups * 1e9;
		free(addrs);
		if (!hits)
			fprintf(stderr, "bench: no lookup hit anything\n");
	}
	free_plan(&p);
	memtopo_ctx_put(ctx);
}

static void write_svg(const char *path, const u64 *ns, int nn, struct result res[][8])
{
	static const char *const colors[] = {
		"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd"
	};
	FILE *f = fopen(path, "w");
	double x0 = 80, y0 = 40, w = 560, h = 360, lo = 1 / 1e6, hi = 1e3;
	int s, i, k;

	if (!f)
		return;
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

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "csv", required_argument, NULL, 'c' },
		{ "svg", required_argument, NULL, 's' },
		{ "reps", required_argument, NULL, 'r' },
		{ "max", required_argument, NULL, 'm' },
		{ "build-budget", required_argument, NULL, 'b' },
		{ "shape", required_argument, NULL, 'S' },
		{}
	};
	static struct result res[NR_SHAPES][8];
	u64 ns[] = { 1000, 10000, 100000, 1000000 };
	const char *csv = NULL, *svgpath = NULL, *only = NULL;
	int reps = 3, nn = 4, s, i, k, c;
	u64 max = 1000000;
	FILE *f = NULL;

	if (memtopo_region_cache_init())
		return 1;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'c')
			csv = optarg;
		else if (c == 's')
			svgpath = optarg;
		else if (c == 'r')
			reps = atoi(optarg);
		else if (c == 'm')
			max = strtoull(optarg, NULL, 0);
		else if (c == 'b')
			build_budget_s = atof(optarg);
		else if (c == 'S')
			only = optarg;
		else
			return 2;
	}
	while (nn && ns[nn - 1] > max)
		nn--;
	if (csv) {
		f = fopen(csv, "w");
		if (!f)
			return 1;
		fputs(csv_header, f);
	}
	printf("%-10s %8s %10s %10s %12s %10s %10s %10s\n", "shape", "n", "build_s", "render_s",
	       "commit_us", "lookup_ns", "B/region", "B/range");
	for (s = 0; s < NR_SHAPES; s++) {
		if (only && strcmp(only, shape_name[s]))
			continue;
		for (i = 0; i < nn; i++) {
			double v[6][16];
			int reps_here = ns[i] >= 1000000 ? 1 : reps;
			/* one commit per add: timed once per size, within the budget */
			bool build = true;

			for (k = 0; k < reps_here; k++) {
				struct result r;

				run(s, ns[i], &r, build && k == 0);
				v[0][k] = r.build_s;
				v[1][k] = r.render_s;
				v[2][k] = r.commit_us;
				v[3][k] = r.lookup_ns;
				v[4][k] = r.bytes_region;
				v[5][k] = r.bytes_range;
			}
			res[s][i].build_s = v[0][0];
			res[s][i].render_s = median(v[1], reps_here);
			res[s][i].commit_us = median(v[2], reps_here);
			res[s][i].lookup_ns = median(v[3], reps_here);
			res[s][i].bytes_region = median(v[4], reps_here);
			res[s][i].bytes_range = median(v[5], reps_here);
			printf("%-10s %8llu %10.4f %10.4f %12.1f %10.1f %10.1f %10.1f\n",
			       shape_name[s], (unsigned long long)ns[i], res[s][i].build_s,
			       res[s][i].render_s, res[s][i].commit_us, res[s][i].lookup_ns,
			       res[s][i].bytes_region, res[s][i].bytes_range);
			fflush(stdout);
			if (f)
				fprintf(f, "%s,%llu,%g,%g,%g,%g,%g,%g\n", shape_name[s],
					(unsigned long long)ns[i], res[s][i].build_s,
					res[s][i].render_s, res[s][i].commit_us,
					res[s][i].lookup_ns, res[s][i].bytes_region,
					res[s][i].bytes_range);
		}
	}
	if (f)
		fclose(f);
	if (svgpath)
		write_svg(svgpath, ns, nn, res);
	printf("build_s: nan = not run to the end");
	printf(" (building one commit per add took over the %.0f s budget)\n",
	       build_budget_s);
	return 0;
}
