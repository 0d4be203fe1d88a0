// SPDX-License-Identifier: GPL-2.0
/*
 * Randomized differential test: build random region trees through the
 * engine's API and through the naive model in reference.c, with random
 * mutations (some refused), inside and outside transactions, and check
 * after every commit that
 *  - each space's published view equals the model's painting,
 *  - a refused operation returned the errno the model predicts and
 *    changed nothing,
 *  - a listener that mirrors the view from region_add/region_del alone
 *    holds exactly the published ranges,
 *  - the generation moves whenever the view's content changes,
 *  - RAM discard managers hold the populated blocks the model predicts,
 *    populates and discards (some refused, some vetoed by a consumer)
 *    return the model's errno, and a VFIO-like consumer that maps only
 *    populated parts, from discard listeners it registers on each section
 *    in region_add, maps exactly the populated parts of the painted view,
 *  - IOMMU regions' tables hold the model's mappings after random maps and
 *    unmaps (refused ones return the model's errno and change nothing),
 *    and addresses of IOMMU ranges translate, through nested IOMMUs too,
 *    to what the model's walk gives (or fail with its errno); a third of
 *    the IOMMUs are a kernel module's (struct memtopo_iommu_ops) that maps
 *    and unmaps by itself and tells notifiers,
 *  - a VFIO-like consumer holds an IOMMU notifier on exactly each IOMMU
 *    range of each view, and what it mirrors from MAP / UNMAP events (and
 *    the replay on registration) is the model's mappings inside the range,
 *    also after a space is destroyed under mappings into it,
 *  - a userspace subscriber's mirror built from emitted events alone (the
 *    mappings of an IOMMU range replayed as MAPs after its region_add,
 *    dropped at its region_del, MAP / UNMAP between) holds the model's
 *    mappings inside each IOMMU range of each view,
 *  - the difference between a recent generation and the current view
 *    (memtopo_view_diff() over the kept views) turns a snapshot of that
 *    generation into exactly the current view,
 *  - every allocation is freed at the end.
 * Aliases get subregions too (kept, never rendered, as in QEMU), and
 * alias targets are often mapped nowhere else; both are counted, and a run
 * of many trees that never met them fails.
 * The seed is printed so any failure can be replayed alone.
 */
#include <linux/eventfd.h>
#include <linux/slab.h>
#include <getopt.h>
#include <stdarg.h>

#include "memtopo_internal.h"
#include "parity.h"
#include "../../uapi/linux/memtopo.h"
#include "reference.h"

/* The index of the entry of @v holding @addr. */
static u32 view_find(const struct memtopo_view *v, u64 addr)
{
	struct memtopo_view_pos p;

	memtopo_pos_find(&p, v, addr);
	return p.i;
}

#define MAX_SPACES 3
/* an IOMMU with kernel ops and no replay op stays this small (io_ops) */
#define IO_OPS_MAX 0x10000

static struct ref_model model;
static struct memtopo_ctx *ctx;
static struct memtopo_space *spaces[MAX_SPACES];
static int space_root[MAX_SPACES];	/* -1 once destroyed */
static u32 space_id[MAX_SPACES];
static int nr_spaces;
/* when a space was destroyed, on io_clock (0: alive); spaces destroyed */
static unsigned long space_death[MAX_SPACES], io_clock, spaces_destroyed;
static u64 last_gen[MAX_SPACES];
static struct ref_range last_view[MAX_SPACES][REF_MAX_RANGES];
static int last_n[MAX_SPACES];
static unsigned long seed, tree_no, checks, commits, full_renders;
/* coverage: adds under an alias, view entries shown only through aliases */
static unsigned long alias_adds, alias_only_entries;
/* coverage: trees sorting many children, trees whose sequence numbers were renumbered */
static unsigned long wide_trees, renumbered;
/* finds in a full chunk, and of a chunk's last entry: the chunk search's edges */
static unsigned long full_finds, last_finds;
/* direct-table slots checked that answer a lookup and that send it on; tables resized */
static unsigned long table_fast, table_slow, table_full, table_resized, table_fail_nth;
/* slots naming a long entry's record that holds them, and records checked */
static unsigned long table_long, table_stale, table_records;
/* splices whose count of slots left unnamed was checked */
static unsigned long unnamed_checks;
/* slots answering: with no key compare, by counting keys, exact, on eighths (1, 2), a hole */
static unsigned long table_paths[7];
/* chunks that keep their end, checked */
static unsigned long chunk_ends;
/*
 * views of one group of several chunks and no table, every entry looked up;
 * chunks (the last apart) ending in a mapped entry, whose end a lookup gives
 */
static unsigned long small_views, small_chunks, small_ends;
static bool near_renumber;
static int verbose;

/* xorshift64*: reproducible from the printed seed */
static u64 rng_state;
static u64 rnd(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 2685821657736338717ULL;
}

static u64 rnd_below(u64 n)
{
	return n ? rnd() % n : 0;
}

#define FAIL(fmt, ...) do {							\
	fprintf(stderr, "difftest: FAIL tree %lu (seed %lu): " fmt "\n",	\
		tree_no, seed, ##__VA_ARGS__);					\
	exit(1);								\
} while (0)

/* The mirror listener: a sorted list of ranges built from add/del only. */
struct mirror {
	struct memtopo_listener l;
	struct {
		u64 start, last;
		struct memtopo_region *mr;
		u64 offset;
		u32 flags;
	} r[REF_MAX_RANGES];
	int n;
	int in_commit;
	/* with region_nop: every range of the new view is added or nop'd */
	unsigned long adds, nops;
	bool leaving;		/* unregistering: told region_del only */
};

static struct mirror mirrors[MAX_SPACES];

static void mirror_begin(void *priv)
{
	struct mirror *m = priv;

	m->in_commit++;
	m->adds = 0;
	m->nops = 0;
}

static void mirror_commit(void *priv)
{
	struct mirror *m = priv;

	m->in_commit--;
	if (m->l.ops->region_nop && !m->leaving && m->adds + m->nops != m->l.space->view->nr_ranges)
		FAIL("region_add %lu + region_nop %lu for a view of %u ranges", m->adds, m->nops,
		     m->l.space->view->nr_ranges);
}

/* An unchanged range must be one the mirror holds, exactly. */
static void mirror_nop(void *priv, const struct memtopo_section *s)
{
	struct mirror *m = priv;
	int lo = 0, hi = m->n - 1;

	m->nops++;
	while (lo < hi) {
		int mid = (lo + hi + 1) / 2;

		if (m->r[mid].start <= s->start)
			lo = mid;
		else
			hi = mid - 1;
	}
	if (!m->n || m->r[lo].start != s->start || m->r[lo].last != s->last ||
	    m->r[lo].mr != s->mr || m->r[lo].offset != s->offset || m->r[lo].flags != s->flags)
		FAIL("region_nop %#llx-%#llx of a range not mirrored as it is",
		     (unsigned long long)s->start, (unsigned long long)s->last);
}

static void mirror_add(void *priv, const struct memtopo_section *s)
{
	struct mirror *m = priv;
	int i;

	if (!m->in_commit)
		FAIL("region_add outside begin/commit");
	for (i = 0; i < m->n; i++)
		if (!(s->last < m->r[i].start || s->start > m->r[i].last))
			FAIL("region_add %#llx-%#llx overlaps a mirrored range",
			     (unsigned long long)s->start, (unsigned long long)s->last);
	for (i = m->n; i > 0 && m->r[i - 1].start > s->start; i--)
		m->r[i] = m->r[i - 1];
	m->r[i].start = s->start;
	m->r[i].last = s->last;
	m->r[i].mr = s->mr;
	m->r[i].offset = s->offset;
	m->r[i].flags = s->flags;
	m->n++;
	m->adds++;
}

static void mirror_del(void *priv, const struct memtopo_section *s)
{
	struct mirror *m = priv;
	int i;

	for (i = 0; i < m->n; i++)
		if (m->r[i].start == s->start && m->r[i].last == s->last && m->r[i].mr == s->mr)
			break;
	if (i == m->n)
		FAIL("region_del %#llx-%#llx of a range never added",
		     (unsigned long long)s->start, (unsigned long long)s->last);
	memmove(&m->r[i], &m->r[i + 1], (m->n - i - 1) * sizeof(m->r[0]));
	m->n--;
}

static const struct memtopo_listener_ops mirror_ops = {
	.begin = mirror_begin,
	.commit = mirror_commit,
	.region_add = mirror_add,
	.region_del = mirror_del,
};

/* vhost's kind: commits then walk whole views instead of their windows */
static const struct memtopo_listener_ops mirror_nop_ops = {
	.begin = mirror_begin,
	.commit = mirror_commit,
	.region_add = mirror_add,
	.region_del = mirror_del,
	.region_nop = mirror_nop,
};

/*
 * The model's index of @mr, among live regions only: a destroyed one's
 * pointer stays in the model, and an allocator that hands its memory to
 * a new region at once (glibc's, where ASan's quarantine does not) would
 * otherwise name the new region after the dead one.
 */
static int region_index(const struct memtopo_region *mr)
{
	int i;

	for (i = 0; i < model.n; i++)
		if (model.r[i].live && model.r[i].engine == mr)
			return i;
	return -2;
}

static void dump(int s, const struct ref_range *want, int n, const struct memtopo_view *v)
{
	int i;

	fprintf(stderr, "want (%d):\n", n);
	for (i = 0; i < n; i++)
		fprintf(stderr, "  %016llx r%d +%llx f%x\n", (unsigned long long)want[i].start,
			want[i].region, (unsigned long long)want[i].offset, want[i].flags);
	fprintf(stderr, "got (%u):\n", v->nr);
	for (i = 0; i < (int)v->nr; i++) {
		const struct memtopo_fr *fr = memtopo_view_fr(v, i);

		fprintf(stderr, "  %016llx r%d +%llx f%x\n",
			(unsigned long long)memtopo_view_start(v, i),
			fr->mr ? region_index(fr->mr) : -1, (unsigned long long)fr->offset,
			fr->flags);
	}
	for (i = 0; i < model.n; i++) {
		const struct ref_region *r = &model.r[i];

		fprintf(stderr, "  r%d kind %d live %d parent %d addr %#llx size %#llx%s",
			i, r->kind, r->live, r->parent, (unsigned long long)r->addr,
			(unsigned long long)r->size, r->size64 ? "(2^64)" : "");
		fprintf(stderr, " prio %d seq %llu en %d ro %d alias %d+%#llx\n",
			r->priority, (unsigned long long)r->seq, r->enabled, r->readonly,
			r->alias, (unsigned long long)r->alias_offset);
	}
	(void)s;
}

/*
 * Attached regions keep the model's insertion order in their sequence
 * numbers, across renumbering too (it matters only where equal priorities
 * overlap, which a view check alone may not meet).
 */
static void check_seq_order(void)
{
	const struct memtopo_region *x, *y;
	bool model_first, engine_first;
	int i, j;

	for (i = 0; i < model.n; i++) {
		if (!model.r[i].live || model.r[i].parent < 0)
			continue;
		x = model.r[i].engine;
		for (j = 0; j < model.n; j++) {
			if (!model.r[j].live || model.r[j].parent < 0)
				continue;
			y = model.r[j].engine;
			model_first = model.r[i].seq < model.r[j].seq;
			engine_first = x->seq < y->seq;
			if (model_first != engine_first)
				FAIL("r%d and r%d: sequence numbers out of insertion order", i, j);
		}
	}
}

/* A child's interval in its parent's tree: a size-0 child is [addr, addr]. */
static u64 kid_last(const struct memtopo_region *mr)
{
	return memtopo_region_empty(mr) ? mr->addr : mr->addr + memtopo_region_last_off(mr);
}

/*
 * Every parent's count of overlapping consecutive children is right (or
 * MEMTOPO_KIDS_MANY, which only an empty tree resets), a container's reach
 * is at least each child's, and the finger a windowed render starts from
 * is a child in a tree: a count of none where children overlap, or a reach
 * short of a child's, would let a render skip one of them, and a windowed
 * commit checked against a full render only catches that where the
 * skipped child shows.
 */
static void check_kid_counts(void)
{
	const struct memtopo_region *mr, *child, *prev;
	unsigned long id;
	u32 n, kept;

	xa_for_each(&ctx->objects, id, mr) {
		n = 0;
		prev = NULL;
		for (child = memtopo_region_first_child(mr); child;
		     prev = child, child = memtopo_region_next_sibling(child)) {
			n += prev && kid_last(prev) >= child->addr;
			if (mr->kind == MEMTOPO_CONTAINER &&
			    kid_last(child) - child->addr > mr->kids_reach)
				FAIL("r%lu: reach %#llx, child r%u reaches %#llx", id,
				     (unsigned long long)mr->kids_reach, child->id,
				     (unsigned long long)(kid_last(child) - child->addr));
		}
		if (mr->kind == MEMTOPO_CONTAINER && !prev && mr->kids_reach)
			FAIL("r%lu: no children, reach %#llx kept", id,
			     (unsigned long long)mr->kids_reach);
		kept = (mr->flags & MEMTOPO_RF_KIDS) >> MEMTOPO_RF_KIDS_SHIFT;
		if (kept != n && kept != MEMTOPO_KIDS_MANY)
			FAIL("r%lu: %u overlapping consecutive children counted, %u there", id,
			     kept, n);
	}
	if (ctx->kid_finger && !ctx->kid_finger->parent)
		FAIL("the finger (r%u) is in no parent's tree", ctx->kid_finger->id);
}

/* What memtopo_region_visit_children() gave, in order. */
struct visit_list {
	struct memtopo_child_visitor v;
	u32 n;
	const struct memtopo_region *seen[1024];
};

static unsigned long visit_checks;

static int visit_note(struct memtopo_child_visitor *v, struct memtopo_region *child)
{
	struct visit_list *l = container_of(v, struct visit_list, v);

	if (l->n == ARRAY_SIZE(l->seen))
		FAIL("more than %zu children visited", ARRAY_SIZE(l->seen));
	l->seen[l->n++] = child;
	return 0;
}

/* windows the reach answered, and where more than 16 siblings were within it */
static unsigned long reach_hits_seen, reach_gave_up;

/*
 * Does memtopo_region_visit_children(@mr, @first, @last) find its first
 * child by the reach?  Only where it searches at all (the window misses
 * some child, the finger has an ancestor among @mr's children that meets
 * it), where the count of overlapping neighbours cannot tell (some pair
 * overlaps without that child in it), where there is a bound (a container
 * none of whose children since it last had none covered 2^64), and where
 * at most 16 siblings before that child start within reach of @first.
 */
static bool reach_answers(const struct memtopo_region *mr, u64 first, u64 last)
{
	const struct memtopo_region *f, *p, *c;
	u64 top = 0, reach;
	u32 kept, meets, n = 0;
	bool any = false;

	for (c = memtopo_region_first_child(mr); c; c = memtopo_region_next_sibling(c)) {
		any = true;
		top = max(top, kid_last(c));
	}
	if (!any || (!first && last >= top))
		return false;
	for (f = ctx->kid_finger; f && f->parent != mr; f = f->parent)
		;
	if (!f || f->addr > last || kid_last(f) < first)
		return false;
	p = rb_entry_safe(rb_prev(&f->addr_node), struct memtopo_region, addr_node);
	c = memtopo_region_next_sibling(f);
	meets = (p && kid_last(p) >= f->addr) + (c && kid_last(f) >= c->addr);
	kept = (mr->flags & MEMTOPO_RF_KIDS) >> MEMTOPO_RF_KIDS_SHIFT;
	if (!kept || (kept != MEMTOPO_KIDS_MANY && kept == meets))
		return false;
	if (mr->kind != MEMTOPO_CONTAINER || mr->kids_reach == U64_MAX)
		return false;
	reach = mr->kids_reach;
	for (; p && (p->addr >= first || first - p->addr <= reach);
	     p = rb_entry_safe(rb_prev(&p->addr_node), struct memtopo_region, addr_node))
		n++;
	reach_gave_up += n > 16;
	return n <= 16;
}

/*
 * The children of @mr that memtopo_region_visit_children() gives for
 * [@first, @last] are, in order, those a walk over all of them finds not
 * empty and meeting it: not one left out, none that does not meet it.
 * The context counts a search the reach answered exactly when
 * reach_answers() says it can.
 */
static void check_visit(struct memtopo_region *mr, u64 first, u64 last)
{
	static struct visit_list l;
	const struct memtopo_region *c;
	bool want;
	u64 hits;
	u32 i = 0;

	if (first > last)
		return;
	l.v.visit = visit_note;
	l.n = 0;
	want = reach_answers(mr, first, last);
	memtopo_ctx_lock(ctx);
	hits = ctx->stat_reach_hits;
	memtopo_region_visit_children(mr, first, last, &l.v);
	hits = ctx->stat_reach_hits - hits;
	memtopo_ctx_unlock(ctx);
	if (hits != want)
		FAIL("r%u [%#llx, %#llx]: %llu answered by the reach, %d expected (finger r%d)",
		     mr->id, (unsigned long long)first, (unsigned long long)last,
		     (unsigned long long)hits, want,
		     ctx->kid_finger ? (int)ctx->kid_finger->id : -1);
	reach_hits_seen += hits;
	for (c = memtopo_region_first_child(mr); c; c = memtopo_region_next_sibling(c)) {
		if (memtopo_region_empty(c) || c->addr > last || kid_last(c) < first)
			continue;
		if (i == l.n || l.seen[i] != c)
			FAIL("r%u [%#llx, %#llx]: r%u not visited (finger r%d)", mr->id,
			     (unsigned long long)first, (unsigned long long)last, c->id,
			     ctx->kid_finger ? (int)ctx->kid_finger->id : -1);
		i++;
	}
	if (i != l.n)
		FAIL("r%u [%#llx, %#llx]: r%u visited, which it does not show (finger r%d)",
		     mr->id, (unsigned long long)first, (unsigned long long)last, l.seen[i]->id,
		     ctx->kid_finger ? (int)ctx->kid_finger->id : -1);
	visit_checks++;
}

/*
 * The windows a render starts from the finger for: at the finger's level
 * and each one above it (the finger's ancestor is where a render of its
 * parent starts), windows that end in that child and start at an edge of
 * it or of a sibling just before it, where walking back from it has to
 * stop or go on, and windows just before and just after it, which it does
 * not meet.  The views only show a child left out where nothing covers
 * it, and never one visited that does not meet the window; this catches
 * both wherever they are.
 */
static void check_visits(void)
{
	struct memtopo_region *f, *p;
	struct rb_node *node;
	int j;

	for (f = ctx->kid_finger; f && f->parent; f = f->parent) {
		for (node = &f->addr_node, j = 0; node && j < 3; node = rb_prev(node), j++) {
			p = rb_entry(node, struct memtopo_region, addr_node);
			check_visit(f->parent, p->addr, kid_last(f));
			check_visit(f->parent, kid_last(p), kid_last(f));
			check_visit(f->parent, kid_last(p), f->addr);
			if (kid_last(p) != U64_MAX) {
				check_visit(f->parent, kid_last(p) + 1, kid_last(f));
				check_visit(f->parent, kid_last(p) + 1, f->addr);
			}
			/* and windows the finger misses: in the gap before it, after it */
			if (p != f && f->addr)
				check_visit(f->parent, kid_last(p) + 1, f->addr - 1);
		}
		if (kid_last(f) != U64_MAX)
			check_visit(f->parent, kid_last(f) + 1, kid_last(f) + 1);
	}
}

/*
 * A change that placed @mr in its parent (an add, a move, a new priority)
 * counted an overlap exactly when @mr, not expecting one, overlaps a shown
 * sibling that does not expect one either: every sibling looked at, where
 * the engine looks only near @mr when its count of overlapping neighbours
 * allows.  @before is ctx->stat_overlaps before the change.
 */
static void check_overlap_note(const struct memtopo_region *mr, u64 before)
{
	const struct memtopo_region *o;
	bool want = false;

	if (mr->parent && !(mr->flags & MEMTOPO_RF_MAY_OVERLAP) && !memtopo_region_empty(mr))
		for (o = memtopo_region_first_child(mr->parent); o && !want;
		     o = memtopo_region_next_sibling(o))
			want = o != mr && !(o->flags & MEMTOPO_RF_MAY_OVERLAP) &&
			       memtopo_region_enabled(o) && !memtopo_region_empty(o) &&
			       o->addr <= kid_last(mr) && mr->addr <= kid_last(o);
	if (ctx->stat_overlaps - before != want)
		FAIL("r%u: %llu overlaps counted for its change, %d there", mr->id,
		     (unsigned long long)(ctx->stat_overlaps - before), want);
}

/*
 * RAM discard: per space, a consumer in the manner of QEMU's VFIO.  Its
 * memory listener registers a discard listener on every section of a
 * managed region in region_add and unregisters it in region_del; the
 * discard listeners map and unmap space intervals.  Mapping what is mapped,
 * or unmapping what is not, fails at once.  It refuses a populate now and
 * then (never a registration's replay).
 */
#define DIS_DLS 64
#define DIS_MAP 1024

struct dis_dl {
	struct memtopo_discard_listener dl;
	struct dis_consumer *c;
};

struct dis_consumer {
	struct memtopo_listener l;
	struct memtopo_space *as;
	struct dis_dl d[DIS_DLS];
	u64 map[DIS_MAP][2];	/* sorted, disjoint [start, last] */
	int n;
	bool replaying;
};

static struct dis_consumer dis_cons[MAX_SPACES];
static bool dis_vetoed;
static unsigned long dis_managers, dis_changes, dis_vetoes, dis_refused, dis_mapped;

static void dis_map_add(struct dis_consumer *c, u64 start, u64 last)
{
	int i;

	for (i = 0; i < c->n; i++)
		if (!(last < c->map[i][0] || start > c->map[i][1]))
			FAIL("discard consumer: populate %#llx-%#llx of mapped memory",
			     (unsigned long long)start, (unsigned long long)last);
	if (c->n == DIS_MAP)
		FAIL("discard consumer: map full");
	for (i = c->n; i > 0 && c->map[i - 1][0] > start; i--)
		memcpy(c->map[i], c->map[i - 1], sizeof(c->map[0]));
	c->map[i][0] = start;
	c->map[i][1] = last;
	c->n++;
	dis_mapped++;
}

/* Unmap [start, last], all of which must be mapped (it may span entries). */
static void dis_map_del(struct dis_consumer *c, u64 start, u64 last)
{
	u64 at = start;
	int i, j, k = 0;
	u64 out[DIS_MAP + 2][2];

	for (i = 0; i < c->n; i++) {
		u64 a = c->map[i][0], b = c->map[i][1];

		if (b < start || a > last) {
			memcpy(out[k++], c->map[i], sizeof(out[0]));
			continue;
		}
		if (a > at)
			break;
		if (a < start) {
			out[k][0] = a;
			out[k++][1] = start - 1;
		}
		if (b > last) {
			out[k][0] = last + 1;
			out[k++][1] = b;
		}
		if (b >= last) {
			at = last;
			i++;
			goto covered;
		}
		at = b + 1;
	}
	FAIL("discard consumer: discard %#llx-%#llx of unmapped memory",
	     (unsigned long long)start, (unsigned long long)last);
covered:
	for (j = i; j < c->n; j++)
		memcpy(out[k++], c->map[j], sizeof(out[0]));
	if (k > DIS_MAP)
		FAIL("discard consumer: map full");
	memcpy(c->map, out, k * sizeof(out[0]));
	c->n = k;
}

static int dis_populate(struct memtopo_discard_listener *dl, const struct memtopo_section *s)
{
	struct dis_consumer *c = container_of(dl, struct dis_dl, dl)->c;

	if (!c->replaying && rnd_below(4) == 0) {
		dis_vetoed = true;
		dis_vetoes++;
		return -EAGAIN;
	}
	dis_map_add(c, s->start, s->last);
	return 0;
}

static void dis_discard(struct memtopo_discard_listener *dl, const struct memtopo_section *s)
{
	dis_map_del(container_of(dl, struct dis_dl, dl)->c, s->start, s->last);
}

static const struct memtopo_discard_listener_ops dis_dl_ops = {
	.notify_populate = dis_populate,
	.notify_discard = dis_discard,
};

static void dis_region_add(void *priv, const struct memtopo_section *s)
{
	struct dis_consumer *c = priv;
	u64 g, size, pop;
	int i, ret;

	if (memtopo_region_discard_info_locked(s->mr, &g, &size, &pop))
		return;
	for (i = 0; i < DIS_DLS && c->d[i].dl.registered; i++)
		;
	if (i == DIS_DLS)
		FAIL("discard consumer: out of listeners");
	c->d[i].c = c;
	c->d[i].dl.ops = &dis_dl_ops;
	c->replaying = true;
	ret = memtopo_discard_listener_register_locked(c->as, s, &c->d[i].dl);
	c->replaying = false;
	if (ret)
		FAIL("discard consumer: register on %#llx-%#llx: %d",
		     (unsigned long long)s->start, (unsigned long long)s->last, ret);
}

static void dis_region_del(void *priv, const struct memtopo_section *s)
{
	struct dis_consumer *c = priv;
	int i;

	for (i = 0; i < DIS_DLS; i++) {
		struct memtopo_discard_listener *dl = &c->d[i].dl;

		if (dl->registered && dl->section.mr == s->mr && dl->section.start == s->start &&
		    dl->section.last == s->last) {
			memtopo_discard_listener_unregister_locked(dl);
			return;
		}
	}
}

static const struct memtopo_listener_ops dis_listener_ops = {
	.region_add = dis_region_add,
	.region_del = dis_region_del,
};

/* Does a consumer still hold a discard listener on @mr (dead ones too)? */
static bool dis_listened(const struct memtopo_region *mr)
{
	int s, i;

	for (s = 0; s < nr_spaces; s++)
		for (i = 0; i < DIS_DLS; i++)
			if (dis_cons[s].d[i].dl.registered && dis_cons[s].d[i].dl.section.mr == mr)
				return true;
	return false;
}

/*
 * The consumer of space @s maps exactly the populated parts of the managed
 * ranges of the painted view @want (@n entries), adjacent pieces merged.
 */
static void dis_check_consumer(int s, const struct ref_range *want, int n)
{
	static u64 exp[DIS_MAP][2];
	struct dis_consumer *c = &dis_cons[s];
	int i, k = 0, j = 0;
	u64 b;

	for (i = 0; i < n; i++) {
		const struct ref_region *r;
		u64 last = i + 1 < n ? want[i + 1].start - 1 : U64_MAX;

		if (want[i].region < 0)
			continue;
		r = &model.r[want[i].region];
		if (!r->dgran)
			continue;
		for (b = 0; b < r->dsize / r->dgran; b++) {
			u64 off = want[i].offset, off_last = off + (last - want[i].start);
			u64 lo = max(b * r->dgran, off);
			u64 hi = min(b * r->dgran + r->dgran - 1, off_last);

			if (!(r->dbits & (1ULL << b)) || lo > hi)
				continue;
			lo = lo - off + want[i].start;
			hi = hi - off + want[i].start;
			if (k && exp[k - 1][1] + 1 == lo) {
				exp[k - 1][1] = hi;
			} else {
				if (k == DIS_MAP)
					FAIL("discard consumer: expectation full");
				exp[k][0] = lo;
				exp[k++][1] = hi;
			}
		}
	}
	/* the consumer's map, adjacent intervals merged */
	for (i = 0; i < c->n; i++) {
		u64 lo = c->map[i][0], hi = c->map[i][1];

		while (i + 1 < c->n && c->map[i + 1][0] == hi + 1)
			hi = c->map[++i][1];
		if (j >= k || exp[j][0] != lo || exp[j][1] != hi)
			FAIL("space %d: discard consumer maps %#llx-%#llx, the model %#llx-%#llx",
			     s, (unsigned long long)lo, (unsigned long long)hi,
			     j < k ? (unsigned long long)exp[j][0] : 0ULL,
			     j < k ? (unsigned long long)exp[j][1] : 0ULL);
		j++;
	}
	if (j != k)
		FAIL("space %d: discard consumer maps %d pieces, the model %d", s, j, k);
}

static void io_check_translations(void);
static void io_check_notifiers(void);
/*
 * Resync by difference: snapshots of each space's last few generations,
 * taken from views already checked against the reference.
 */
#define HIST_SNAPS 6

struct snap_range {
	u64 start, last;
	struct memtopo_region *mr;
	u64 offset;
	u32 flags;
	u8 dirty;
};

struct hist_snap {
	u64 gen;
	int n;
	struct snap_range r[REF_MAX_RANGES];
};

static struct hist_snap hist[MAX_SPACES][HIST_SNAPS];
static int hist_next[MAX_SPACES];
static unsigned long diff_checks, diff_events, diff_forgotten;

static bool snap_eq(const struct snap_range *a, const struct snap_range *b)
{
	return a->start == b->start && a->last == b->last && a->mr == b->mr &&
	       a->offset == b->offset && a->flags == b->flags && a->dirty == b->dirty;
}

static void snap_view(const struct memtopo_view *v, struct hist_snap *h)
{
	u32 i;

	h->gen = v->generation;
	h->n = 0;
	for (i = 0; i < v->nr; i++) {
		const struct memtopo_fr *fr = memtopo_view_fr(v, i);

		if (!fr->mr)
			continue;
		h->r[h->n++] = (struct snap_range){
			.start = memtopo_view_start(v, i), .last = memtopo_view_last(v, i),
			.mr = fr->mr, .offset = fr->offset, .flags = fr->flags,
			.dirty = fr->dirty_log_mask,
		};
	}
}

/* A snapshot being turned into the current view by the diff's events. */
static struct hist_snap diff_work, diff_now;
static bool diff_adding;

static int diff_apply(void *opaque, const struct memtopo_section *s, bool add)
{
	struct hist_snap *w = opaque;
	struct snap_range r = {
		.start = s->start, .last = s->last, .mr = s->mr, .offset = s->offset,
		.flags = s->flags, .dirty = s->dirty_log_mask,
	};
	int i;

	/* reads the region: a freed one fails under ASan */
	if (!s->mr->id)
		FAIL("diff: a range of a region without an ID");
	diff_events++;
	if (!add && diff_adding)
		FAIL("diff: a region_del after a region_add");
	diff_adding = add;
	if (!add) {
		for (i = 0; i < w->n; i++)
			if (snap_eq(&w->r[i], &r))
				break;
		if (i == w->n)
			FAIL("diff: region_del %#llx-%#llx of a range the old view lacks",
			     (unsigned long long)r.start, (unsigned long long)r.last);
		memmove(&w->r[i], &w->r[i + 1], (w->n - i - 1) * sizeof(r));
		w->n--;
		return 0;
	}
	for (i = 0; i < w->n; i++)
		if (!(r.last < w->r[i].start || r.start > w->r[i].last))
			FAIL("diff: region_add %#llx-%#llx overlaps a range still there",
			     (unsigned long long)r.start, (unsigned long long)r.last);
	if (w->n == REF_MAX_RANGES)
		FAIL("diff: more ranges than a view holds");
	for (i = w->n; i > 0 && w->r[i - 1].start > r.start; i--)
		w->r[i] = w->r[i - 1];
	w->r[i] = r;
	w->n++;
	return 0;
}

/* Keep @v's snapshot and check the diff from one kept generation. */
static void check_diff(int s, const struct memtopo_view *v)
{
	const struct memtopo_view *old;
	struct hist_snap *h;
	int k;

	if (hist[s][(hist_next[s] + HIST_SNAPS - 1) % HIST_SNAPS].gen != v->generation) {
		snap_view(v, &hist[s][hist_next[s]]);
		hist_next[s] = (hist_next[s] + 1) % HIST_SNAPS;
	}
	k = rnd_below(HIST_SNAPS);
	h = &hist[s][k];
	if (!h->gen)
		return;
	memtopo_ctx_lock(ctx);
	old = memtopo_history_find(spaces[s], h->gen);
	if (!old) {
		/*
		 * forgotten at a region's destruction, or past the last two of a
		 * small map (history.c): only a newer one can be kept
		 */
		memtopo_ctx_unlock(ctx);
		h->gen = 0;
		diff_forgotten++;
		return;
	}
	diff_work.n = h->n;
	memcpy(diff_work.r, h->r, h->n * sizeof(h->r[0]));
	diff_adding = false;
	memtopo_view_diff(old, v, diff_apply, &diff_work);
	memtopo_ctx_unlock(ctx);
	snap_view(v, &diff_now);
	for (k = 0; diff_work.n == diff_now.n && k < diff_now.n; k++)
		if (!snap_eq(&diff_work.r[k], &diff_now.r[k]))
			break;
	if (diff_work.n != diff_now.n || k < diff_now.n)
		FAIL("space %d: the diff from generation %llu does not give the view", s,
		     (unsigned long long)h->gen);
	diff_checks++;
}

/*
 * A lookup of each entry's first and last address of @v (space @s, the
 * model's @n entries @want) gives the entry, its last address included:
 * the next entry's start - 1, U64_MAX for the view's last.  The checks of
 * translations compare where a section starts, not where it ends.
 */
static void check_view_ends(int s, const struct memtopo_view *v, const struct ref_range *want,
			    int n)
{
	struct memtopo_section sec;
	int i, k, ret;

	for (i = 0; i < n; i++) {
		u64 last = i + 1 < n ? want[i + 1].start - 1 : U64_MAX;
		u64 at[2] = { want[i].start, last };

		for (k = 0; k < 2; k++) {
			ret = memtopo_view_lookup(v, at[k], &sec);
			if (want[i].region < 0 ? ret != -ENOENT :
			    ret || sec.start != want[i].start || sec.last != last ||
			    sec.mr != model.r[want[i].region].engine ||
			    sec.offset != want[i].offset || sec.generation != v->generation)
				FAIL("space %d: %#llx answers %d [%#llx, %#llx], not entry %d", s,
				     (unsigned long long)at[k], ret, (unsigned long long)sec.start,
				     (unsigned long long)sec.last, i);
		}
	}
}

static void check_views(void)
{
	static struct ref_range want[REF_MAX_RANGES];
	int s, i, n, j;

	check_seq_order();
	check_kid_counts();
	check_visits();

	for (s = 0; s < nr_spaces; s++) {
		const struct memtopo_view *v;
		struct mirror *m = &mirrors[s];
		int root = ref_effective_root(&model, space_root[s]);
		bool changed;

		if (space_root[s] < 0)
			continue;
		/* spaces whose roots differ only by wrappers share a view: the same root */
		if (memtopo_effective_root(spaces[s]->root) !=
		    (root < 0 ? NULL : model.r[root].engine))
			FAIL("space %d: the effective root is not r%d", s, root);
		v = spaces[s]->view;
		n = ref_paint(&model, root, want, REF_MAX_RANGES);
		if (n < 0)
			FAIL("reference overflow");
		if ((int)v->nr != n)
			goto mismatch;
		for (i = 0; i < n; i++) {
			const struct memtopo_fr *fr = memtopo_view_fr(v, i);
			int got = fr->mr ? region_index(fr->mr) : -1;

			if (memtopo_view_start(v, i) != want[i].start || got != want[i].region ||
			    (got >= 0 && (fr->offset != want[i].offset ||
					  fr->flags != want[i].flags ||
					  fr->dirty_log_mask != want[i].dirty)))
				goto mismatch;
		}
		check_view_ends(s, v, want, n);
		for (i = 0; i < n; i++)
			if (want[i].region >= 0 &&
			    !ref_is_ancestor(&model, root, want[i].region))
				alias_only_entries++;
		/* the mirror holds exactly the non-hole entries */
		for (i = 0, j = 0; i < n; i++) {
			if (want[i].region < 0)
				continue;
			if (j >= m->n || m->r[j].start != want[i].start ||
			    m->r[j].mr != model.r[want[i].region].engine ||
			    m->r[j].offset != want[i].offset)
				FAIL("space %d: listener mirror differs at entry %d", s, i);
			j++;
		}
		if (j != m->n)
			FAIL("space %d: mirror has %d ranges, view %d", s, m->n, j);
		dis_check_consumer(s, want, n);
		changed = n != last_n[s] || memcmp(want, last_view[s], n * sizeof(want[0]));
		/*
		 * A consumer's cache must never validate against a changed view;
		 * a new generation over equal content (the effective root moved)
		 * only costs it a refresh.
		 */
		if (changed && v->generation == last_gen[s] && last_gen[s])
			FAIL("space %d: content changed but generation stayed", s);

		if (memtopo_render_scratch_bytes(ctx->scratch) > MEMTOPO_SCRATCH_KEEP)
			FAIL("render scratch of %zu bytes kept after a commit",
			     memtopo_render_scratch_bytes(ctx->scratch));
		check_diff(s, v);
		last_gen[s] = v->generation;
		memcpy(last_view[s], want, n * sizeof(want[0]));
		last_n[s] = n;
		checks++;
		continue;
mismatch:
		dump(s, want, n, v);
		FAIL("space %d (root r%d, effective r%d): view differs from the reference",
		     s, space_root[s], root);
	}
	io_check_translations();
	io_check_notifiers();
}

static const enum memtopo_kind engine_kind[] = {
	[REF_CONTAINER] = MEMTOPO_CONTAINER, [REF_RAM] = MEMTOPO_RAM, [REF_ROM] = MEMTOPO_ROM,
	[REF_ROMDEV] = MEMTOPO_ROM_DEVICE, [REF_IO] = MEMTOPO_IO,
	[REF_RAMDEV] = MEMTOPO_RAM_DEVICE, [REF_ALIAS] = MEMTOPO_ALIAS,
	[REF_IOMMU] = MEMTOPO_IOMMU,
};

static u64 rnd_addr(void)
{
	switch (rnd_below(8)) {
	case 0:
		return U64_MAX - rnd_below(0x3000);
	case 1:
		return 0;
	default:
		return rnd_below(0x3000);
	}
}

static void rnd_size(u64 *size, bool *size64)
{
	*size64 = false;
	switch (rnd_below(10)) {
	case 0:
		*size64 = true;
		*size = 0;
		return;
	case 1:
		*size = 0x1000ULL << rnd_below(4);
		return;
	case 2:
		*size = 1 + rnd_below(8);
		return;
	default:
		*size = 1 + rnd_below(0x1800);
	}
}

static bool fits(u64 addr, u64 size, bool size64)
{
	return size64 ? addr == 0 : (!size || addr <= U64_MAX - (size - 1));
}

static void expect(int got, int want, const char *what)
{
	if (got != want)
		FAIL("%s returned %d, the model expects %d", what, got, want);
}

static bool dis_kind(const struct ref_region *r)
{
	return r->kind == REF_RAM || r->kind == REF_RAMDEV;
}

static const struct memtopo_iommu_ops io_ops;
static unsigned long io_region_changes;

static void op_create(void)
{
	struct memtopo_region_info info = {};
	struct ref_region *r;
	struct memtopo_region *mr;
	char name[16];
	int k = rnd_below(8), t = -1;

	if (model.n >= REF_MAX_REGIONS)
		return;
	if (k == REF_ALIAS) {
		t = rnd_below(model.n ? model.n : 1);
		if (!model.n || !model.r[t].live)
			k = REF_CONTAINER;
	}
	r = &model.r[model.n];
	memset(r, 0, sizeof(*r));
	r->kind = k;
	r->live = true;
	r->parent = -1;
	r->alias = k == REF_ALIAS ? t : -1;
	r->enabled = true;
	r->readonly = k == REF_ROM;
	r->romd = k == REF_ROMDEV;
	rnd_size(&r->size, &r->size64);
	/* RAM often gets a size a discard manager can cut into blocks */
	if ((k == REF_RAM || k == REF_RAMDEV || k == REF_IOMMU) && !rnd_below(3)) {
		r->size = 0x1000ULL << rnd_below(4);
		r->size64 = false;
	}
	if (k == REF_ALIAS)
		r->alias_offset = rnd_below(4) ? rnd_below(0x2000) : U64_MAX - rnd_below(0x2000);
	snprintf(name, sizeof(name), "r%d", model.n);
	info.kind = engine_kind[k];
	info.name = name;
	info.size = r->size;
	info.size_is_2_64 = r->size64;
	info.alias_target = k == REF_ALIAS ? model.r[t].engine : NULL;
	info.alias_offset = r->alias_offset;
	/* a third of the IOMMUs are a kernel module's, small: see io_ops */
	r->iommu_ops = k == REF_IOMMU && !rnd_below(3);
	if (r->iommu_ops) {
		r->size = 1 + rnd_below(IO_OPS_MAX);
		r->size64 = false;
		info.size = r->size;
		info.size_is_2_64 = false;
		info.opaque = r;
		mr = memtopo_iommu_region_create(ctx, &info, &io_ops);
	} else {
		mr = memtopo_region_create(ctx, &info);
	}
	if (IS_ERR(mr))
		FAIL("create r%d: %ld", model.n, PTR_ERR(mr));
	r->engine = mr;
	model.n++;
	/* half the RAM that can have a discard manager gets one at once */
	if (dis_kind(r) && !r->size64 && r->size && !(r->size % 0x1000) && rnd_below(2)) {
		expect(memtopo_region_set_discard_manager(mr, 0x1000), 0, "set_discard_manager");
		r->dgran = 0x1000;
		r->dsize = r->size;
		dis_managers++;
	}
}

static int rnd_region(void)
{
	return model.n ? (int)rnd_below(model.n) : -1;
}

static void op_add_to(int p, int c)
{
	int prio = (int)rnd_below(5) - 2, want;
	u64 addr = rnd_addr(), before;
	struct ref_region *pr, *cr;

	if (p < 0 || !model.r[p].live || !model.r[c].live)
		return;
	pr = &model.r[p];
	cr = &model.r[c];
	if (cr->parent >= 0)
		want = -EBUSY;
	else if (!fits(addr, cr->size, cr->size64))
		want = -EOVERFLOW;
	/* an alias's subregions are never rendered: only the tree can loop */
	else if (ref_is_ancestor(&model, c, p) ||
		 (pr->kind != REF_ALIAS && ref_reaches(&model, c, p)))
		want = -ELOOP;
	else
		want = 0;
	before = ctx->stat_overlaps;
	expect(memtopo_region_add_subregion(pr->engine, addr, cr->engine, prio, rnd_below(2)),
	       want, "add_subregion");
	if (!want) {
		check_overlap_note(cr->engine, before);
		alias_adds += pr->kind == REF_ALIAS;
		cr->parent = p;
		cr->addr = addr;
		cr->priority = prio;
		cr->seq = ++model.seq;
	}
}

static void op_add(void)
{
	int p = rnd_region();

	op_add_to(p, rnd_region());
}

/*
 * A wide tree: most regions under one container, so renders sort more
 * children than an insertion sort handles (the radix path).
 */
static void make_wide(void)
{
	int i, p, kids = 0;

	while (model.n < REF_MAX_REGIONS - 8)
		op_create();
	for (p = 0; p < model.n && model.r[p].kind != REF_CONTAINER; p++)
		;
	if (p == model.n)
		return;
	for (i = 0; i < model.n; i++)
		if (i != p)
			op_add_to(p, i);
	for (i = 0; i < model.n; i++)
		kids += model.r[i].parent == p && !model.r[i].size64 && model.r[i].size;
	if (kids > MEMTOPO_KIDS_INSERTION)
		wide_trees++;
}

static void op_mutate(void)
{
	int i = rnd_region(), want = 0, what;
	struct ref_region *r;
	struct memtopo_region *mr;
	u64 v, before;
	bool b;

	if (i < 0 || !model.r[i].live)
		return;
	r = &model.r[i];
	mr = r->engine;
	what = rnd_below(10);
	/* an IOMMU enabled, disabled, moved, resized, detached or destroyed */
	io_region_changes += r->kind == REF_IOMMU && (what == 0 || (what >= 3 && what <= 4) ||
						     (what == 6 && r->parent >= 0) || what == 9);
	switch (what) {
	case 0:
		b = rnd_below(4) != 0;
		expect(memtopo_region_set_enabled(mr, b), 0, "set_enabled");
		r->enabled = b;
		break;
	case 1:
		b = rnd_below(3) == 0;
		expect(memtopo_region_set_readonly(mr, b), 0, "set_readonly");
		r->readonly = b;
		break;
	case 2: {
		int prio = (int)rnd_below(5) - 2;

		before = ctx->stat_overlaps;
		expect(memtopo_region_set_priority(mr, prio), 0, "set_priority");
		if (prio != r->priority && r->parent >= 0) {
			check_overlap_note(mr, before);
			r->seq = ++model.seq;
		}
		r->priority = prio;
		break;
	}
	case 3:
		v = rnd_addr();
		want = fits(v, r->size, r->size64) ? 0 : -EOVERFLOW;
		before = ctx->stat_overlaps;
		expect(memtopo_region_set_address(mr, v), want, "set_address");
		if (!want && v != r->addr && r->parent >= 0) {
			check_overlap_note(mr, before);
			r->seq = ++model.seq;
		}
		if (!want)
			r->addr = v;
		break;
	case 4: {
		u64 size;
		bool size64;

		rnd_size(&size, &size64);
		if (r->iommu_ops) {
			size = 1 + rnd_below(IO_OPS_MAX);
			size64 = false;
		}
		want = fits(r->addr, size, size64) ? 0 : -EOVERFLOW;
		expect(memtopo_region_set_size(mr, size, size64), want, "set_size");
		if (!want) {
			r->size = size64 ? 0 : size;
			r->size64 = size64;
		}
		break;
	}
	case 5:
		v = rnd_below(0x2000);
		want = r->kind == REF_ALIAS ? 0 : -EINVAL;
		expect(memtopo_region_set_alias_offset(mr, v), want, "set_alias_offset");
		if (!want)
			r->alias_offset = v;
		break;
	case 6:
		if (r->parent < 0)
			break;
		expect(memtopo_region_del_subregion(model.r[r->parent].engine, mr), 0, "del");
		r->parent = -1;
		break;
	case 7:
		b = rnd_below(2);
		want = r->kind == REF_ROMDEV ? 0 : -EINVAL;
		expect(memtopo_region_set_romd(mr, b), want, "set_romd");
		if (!want)
			r->romd = b;
		break;
	case 8: {
		unsigned int client = rnd_below(3);

		bool ram = r->kind == REF_RAM || r->kind == REF_ROM || r->kind == REF_ROMDEV ||
			   r->kind == REF_RAMDEV;
		bool huge = r->size64 || (r->size + 4095) / 4096 > (1ULL << 31);

		b = rnd_below(2);
		/* enabling a client on RAM needs a bitmap; 2^64 bytes get none */
		want = b && !(r->dirty & (1u << client)) && ram && huge ? -E2BIG : 0;
		expect(memtopo_region_set_dirty_log(mr, client, b), want, "set_dirty_log");
		if (!want)
			r->dirty = b ? r->dirty | (1u << client) : r->dirty & ~(1u << client);
		break;
	}
	case 9: {
		bool busy = r->parent >= 0;
		int j, s;

		for (j = 0; j < model.n; j++)
			if (model.r[j].live && (model.r[j].parent == i || model.r[j].alias == i))
				busy = true;
		for (s = 0; s < nr_spaces; s++)
			if (space_root[s] == i)
				busy = true;
		expect(memtopo_region_destroy(mr), busy ? -EBUSY : 0, "destroy");
		if (!busy)
			r->live = false;
		break;
	}
	}
}

/* A subregion, a space's root or an alias's target: no manager change. */
static bool dis_placed(int i)
{
	int j;

	if (model.r[i].parent >= 0)
		return true;
	for (j = 0; j < nr_spaces; j++)
		if (space_root[j] == i)
			return true;
	for (j = 0; j < model.n; j++)
		if (model.r[j].live && model.r[j].alias == i)
			return true;
	return false;
}

/* The model's populated blocks against the engine's state. */
static void dis_check_state(const struct ref_region *r, const char *what)
{
	u64 g = 0, size = 0, pop = 0, bits = 0;
	int ret;

	memtopo_ctx_lock(ctx);
	ret = memtopo_region_discard_info_locked(r->engine, &g, &size, &pop);
	if (!ret)
		ret = memtopo_region_discard_state_locked(r->engine, 0, size / g, &bits);
	memtopo_ctx_unlock(ctx);
	if (!r->dgran) {
		if (ret != -ENOENT)
			FAIL("%s: a region without a manager answers %d", what, ret);
		return;
	}
	if (ret || g != r->dgran || size != r->dsize || bits != r->dbits ||
	    pop != (u64)__builtin_popcountll(r->dbits) * g)
		FAIL("%s: manager state %#llx (%#llx bytes), the model %#llx", what,
		     (unsigned long long)bits, (unsigned long long)pop,
		     (unsigned long long)r->dbits);
}

/*
 * A discard operation on a random region, RAM ones preferred: set or clear
 * a manager, populate or discard a range (sometimes a bad one).  The engine
 * must return the model's errno and hold the model's state afterwards.
 */
static void op_discard(void)
{
	static const u64 grans[] = { 0x1000, 0x2000, 0x800, 0x3000 };
	struct ref_region *r;
	int i = rnd_region(), j, want, ret;
	u64 g, nb, b, n, off, len, mask;
	bool populate;

	if (i < 0)
		return;
	/* mostly a managed region, else mostly a RAM one */
	for (j = 0; j < 4 * model.n && rnd_below(8) && !(model.r[i].live && model.r[i].dgran);
	     j++)
		i = rnd_region();
	for (j = 0; j < model.n && rnd_below(4) && !dis_kind(&model.r[i]); j++)
		i = rnd_region();
	r = &model.r[i];
	if (!r->live)
		return;
	switch (rnd_below(6)) {
	case 0:
		g = grans[rnd_below(ARRAY_SIZE(grans))];
		if (!dis_kind(r) || g & (g - 1) || g < 0x1000 || r->size64 || !r->size ||
		    r->size % g)
			want = -EINVAL;
		else
			want = r->dgran || dis_placed(i) ? -EBUSY : 0;
		expect(memtopo_region_set_discard_manager(r->engine, g), want,
		       "set_discard_manager");
		if (!want) {
			r->dgran = g;
			r->dsize = r->size;
			r->dbits = 0;
			dis_managers++;
		}
		break;
	case 1:
		want = !r->dgran ? -ENOENT : dis_listened(r->engine) || dis_placed(i) ? -EBUSY : 0;
		memtopo_ctx_lock(ctx);
		ret = memtopo_region_clear_discard_manager_locked(r->engine);
		memtopo_ctx_unlock(ctx);
		expect(ret, want, "clear_discard_manager");
		if (!want)
			r->dgran = 0;
		break;
	default:
		g = r->dgran ? r->dgran : 0x1000;
		nb = r->dgran ? r->dsize / g : 4;
		/* mostly inside the manager; sometimes empty or one block past it */
		b = rnd_below(nb);
		n = rnd_below(8) ? 1 + rnd_below(nb - b) : rnd_below(2) ? 0 : nb - b + 1;
		/* the whole manager: over a mixed state, several runs in one call */
		if (!rnd_below(3)) {
			b = 0;
			n = nb;
		}
		off = b * g;
		len = n * g;
		if (!rnd_below(16))
			off += 0x800;
		if (!rnd_below(32))
			off = U64_MAX - 0xfff;
		if (!r->dgran)
			want = -ENOENT;
		else if (len > U64_MAX - off)
			want = -EOVERFLOW;
		else if (!len || off % g || len % g || off + len > r->dsize)
			want = -EINVAL;
		else
			want = 0;
		dis_vetoed = false;
		populate = rnd_below(2);
		if (populate) {
			ret = memtopo_region_populate(r->engine, off, len);
			if (!want && dis_vetoed)
				want = -EAGAIN;
			expect(ret, want, "populate");
		} else {
			expect(memtopo_region_discard(r->engine, off, len), want, "discard");
			if (dis_vetoed)
				FAIL("a discard asked for a populate");
		}
		dis_refused += want != 0;
		if (want)
			break;
		mask = (n >= 64 ? ~0ULL : (1ULL << n) - 1) << b;
		r->dbits = populate ? r->dbits | mask : r->dbits & ~mask;
		dis_changes++;
		break;
	}
	dis_check_state(r, "discard op");
}

/*
 * IOMMU regions with a table: random maps and unmaps (some refused:
 * overlap, hole, misalignment, bad permission or target, wrap past 2^64),
 * each returning the model's errno and leaving the table exactly as the
 * model has it.
 */
static unsigned long io_maps, io_unmaps, io_refused, io_xlates, io_xlate_faults[3],
	io_nested;
/* refusals by errno: EINVAL, EOVERFLOW, EEXIST (overlap), ENOENT (hole) */
static unsigned long io_refused_by[4];

static void io_count(int ret, unsigned long *done)
{
	if (!ret) {
		(*done)++;
		return;
	}
	io_refused++;
	io_refused_by[ret == -EINVAL ? 0 : ret == -EOVERFLOW ? 1 : ret == -EEXIST ? 2 : 3]++;
}

static const char *io_map_str(const struct ref_iommu_map *mp)
{
	static char buf[96];

	snprintf(buf, sizeof(buf), "%#llx-%#llx -> as%u %#llx p%u",
		 (unsigned long long)mp->iova, (unsigned long long)mp->last,
		 space_id[mp->space], (unsigned long long)mp->addr, mp->perm);
	return buf;
}

/* The engine's table of @r against the model's. */
static void io_check_table(const struct ref_region *r, const char *what)
{
	static struct memtopo_iommu_ent got[REF_IOMMU_MAPS + 1];
	u32 nr = 0;
	int i, ret;

	memtopo_ctx_lock(ctx);
	ret = memtopo_iommu_mappings_locked(r->engine, got, ARRAY_SIZE(got), &nr);
	memtopo_ctx_unlock(ctx);
	if (r->kind != REF_IOMMU || r->iommu_ops) {
		expect(ret, -EINVAL, "iommu mappings of a region without a table");
		return;
	}
	expect(ret, 0, "iommu mappings");
	if ((int)nr != r->nmap)
		FAIL("%s: the table holds %u mappings, the model %d", what, nr, r->nmap);
	for (i = 0; i < r->nmap; i++) {
		const struct ref_iommu_map *mp = &r->map[i];

		if (got[i].iova != mp->iova || got[i].last != mp->last || got[i].addr != mp->addr ||
		    got[i].space != space_id[mp->space] || got[i].perm != mp->perm)
			FAIL("%s: mapping %d is %#llx-%#llx -> as%u %#llx p%u, the model's %s",
			     what, i, (unsigned long long)got[i].iova,
			     (unsigned long long)got[i].last, got[i].space,
			     (unsigned long long)got[i].addr, got[i].perm, io_map_str(mp));
	}
}

static u64 io_rnd_pages(void)
{
	return rnd_below(4) ? REF_PAGE * (1 + rnd_below(4)) : REF_PAGE << rnd_below(6);
}

/*
 * A page-aligned address of something space @s shows, else a random page:
 * most maps should lead somewhere, and IOVAs be ones a space shows.  @mr:
 * only entries of that region, and the offset in it is returned.
 */
static u64 io_rnd_shown(int s, int mr)
{
	int i, k = 0, pick[REF_MAX_RANGES];
	u64 len;

	for (i = 0; i < last_n[s]; i++)
		if (last_view[s][i].region >= 0 && (mr < 0 || last_view[s][i].region == mr))
			pick[k++] = i;
	if (!k)
		return REF_PAGE * rnd_below(24);
	i = pick[rnd_below(k)];
	len = i + 1 < last_n[s] ? last_view[s][i + 1].start - last_view[s][i].start : 0;
	len = rnd_below(min_t(u64, len - 1, (u64)(4 * REF_PAGE)) + 1);
	return ((mr < 0 ? last_view[s][i].start : last_view[s][i].offset) + len) &
	       ~(REF_PAGE - 1);
}

/*
 * A consumer in the manner of QEMU's VFIO behind a vIOMMU, per space: its
 * memory listener registers an IOMMU notifier on every IOMMU section in
 * region_add, with the section's part of the region as the range filter,
 * and replays the mappings (vfio_listener_region_add()); region_del
 * unregisters it.  Each notifier mirrors IOVA -> (space, address, perm)
 * from its MAP and UNMAP events alone: a MAP over mirrored IOVAs or an
 * UNMAP of IOVAs not mirrored fails at once, and the mirror must equal
 * the model's mappings inside the range after every change.
 */
#define IO_NOTIFIERS 128
#define IO_MIRROR 64

struct io_ent {
	u64 iova, last, addr;
	struct memtopo_space *as;
	unsigned int perm;
};

struct io_nt {
	struct memtopo_iommu_notifier n;
	/* a device-IOTLB notifier beside it, as vhost with ATS registers one */
	struct memtopo_iommu_notifier dn;
	u64 start, last;		/* the section, in the space */
	unsigned long born;		/* registered at this io_clock */
	struct io_ent m[IO_MIRROR];	/* sorted, disjoint, contiguous ones merged */
	int nm;
};

struct io_consumer {
	struct memtopo_listener l;
	int hi;			/* past the last notifier slot ever used */
	struct io_nt nt[IO_NOTIFIERS];
};

static struct io_consumer io_cons[MAX_SPACES];
static unsigned long io_events, io_replayed, io_registered, io_ops_changes, io_devtlb_events;
static bool io_replaying;
/* the kernel-ops IOMMU's device-IOTLB invalidation being told, and to how many */
static const struct ref_iommu_map *io_devtlb_want;
static int io_devtlb_left;

/*
 * A DEVIOTLB_UNMAP notifier hears only those invalidations, each cropped to
 * its range (QEMU's memory_region_notify_iommu_one()).
 */
static void io_devtlb_notify(struct memtopo_iommu_notifier *n,
			     const struct memtopo_iotlb_entry *e)
{
	const struct ref_iommu_map *mp = io_devtlb_want;

	if (!mp || e->perm != MEMTOPO_IOMMU_NONE || e->iova != max(mp->iova, n->start) ||
	    e->iova + e->addr_mask != min(mp->last, n->end) || io_devtlb_left-- <= 0)
		FAIL("device-IOTLB notifier %#llx-%#llx told %#llx mask %#llx p%u",
		     (unsigned long long)n->start, (unsigned long long)n->end,
		     (unsigned long long)e->iova, (unsigned long long)e->addr_mask, e->perm);
	io_devtlb_events++;
}

/* Add @e to @m (@n entries), merging it with neighbours it continues. */
static int io_ent_add(struct io_ent *m, int n, const struct io_ent *e)
{
	int i, j;

	for (i = 0; i < n && m[i].iova < e->iova; i++)
		;
	if (n == IO_MIRROR)
		FAIL("IOMMU consumer: mirror full");
	for (j = n; j > i; j--)
		m[j] = m[j - 1];
	m[i] = *e;
	n++;
	for (i = n - 1; i > 0; i--) {
		struct io_ent *a = &m[i - 1], *b = &m[i];

		if (a->last + 1 == b->iova && a->as == b->as && a->perm == b->perm &&
		    a->addr + (b->iova - a->iova) == b->addr) {
			a->last = b->last;
			memmove(b, b + 1, (n - i - 1) * sizeof(*b));
			n--;
		}
	}
	return n;
}

/* Does space ID @id name a space the test destroyed? */
static bool io_space_dead(u32 id)
{
	int s;

	for (s = 0; s < nr_spaces; s++)
		if (space_id[s] == id)
			return space_root[s] < 0;
	return false;
}

/*
 * A table IOMMU tells a MAP once the new table is published and an UNMAP
 * while the old one still is: either way the IOVAs told are in the table
 * now, as the event says.
 */
static void io_check_published(const struct memtopo_iommu_notifier *n, const struct io_ent *e)
{
	static struct memtopo_iommu_ent t[REF_IOMMU_MAPS * 4];
	u32 nr, i;

	/* a kernel-ops IOMMU (no table) orders its own events */
	if (memtopo_iommu_mappings_locked(n->iommu, t, ARRAY_SIZE(t), &nr) == -EINVAL)
		return;
	for (i = 0; i < nr; i++)
		if (t[i].iova <= e->iova && e->last <= t[i].last)
			break;
	if (i == nr || t[i].addr + (e->iova - t[i].iova) != e->addr ||
	    (e->as ? t[i].space != e->as->id : !io_space_dead(t[i].space)) ||
	    (e->perm && t[i].perm != e->perm))
		FAIL("IOMMU %s of %#llx-%#llx told while the table does not translate it so",
		     e->perm ? "MAP" : "UNMAP", (unsigned long long)e->iova,
		     (unsigned long long)e->last);
}

static void io_notify(struct memtopo_iommu_notifier *n, const struct memtopo_iotlb_entry *e)
{
	struct io_nt *nt = container_of(n, struct io_nt, n);
	struct io_ent ent = { .iova = e->iova, .last = e->iova + e->addr_mask,
			      .addr = e->translated_addr, .as = e->target_as, .perm = e->perm };
	int i, k = 0;
	u64 at = ent.iova;
	bool covered = false;
	struct io_ent out[IO_MIRROR + 1];

	io_events++;
	io_replayed += io_replaying;
	/* an IOTLB entry: a power-of-two block, aligned on both sides, in the range */
	if (e->addr_mask & (e->addr_mask + 1) || e->iova & e->addr_mask ||
	    (e->perm && e->translated_addr & e->addr_mask) || e->iova < n->start ||
	    ent.last > n->end || ent.last < e->iova)
		FAIL("IOMMU notifier %#llx-%#llx told %#llx mask %#llx -> %#llx",
		     (unsigned long long)n->start, (unsigned long long)n->end,
		     (unsigned long long)e->iova, (unsigned long long)e->addr_mask,
		     (unsigned long long)e->translated_addr);
	/* a mapping into a space destroyed since leads nowhere: no MAP for it */
	if (e->perm != MEMTOPO_IOMMU_NONE && (!e->target_as || e->perm & ~MEMTOPO_IOMMU_RW))
		FAIL("IOMMU MAP of %#llx-%#llx without a target or with permission %u%s",
		     (unsigned long long)ent.iova, (unsigned long long)ent.last, e->perm,
		     io_replaying ? " (replayed)" : "");
	io_check_published(n, &ent);
	if (e->perm != MEMTOPO_IOMMU_NONE) {
		for (i = 0; i < nt->nm; i++)
			if (!(ent.last < nt->m[i].iova || ent.iova > nt->m[i].last))
				FAIL("IOMMU MAP %#llx-%#llx over mirrored IOVAs",
				     (unsigned long long)ent.iova, (unsigned long long)ent.last);
		nt->nm = io_ent_add(nt->m, nt->nm, &ent);
		return;
	}
	/* UNMAP: every IOVA of it is mirrored; cut the entries it crosses */
	for (i = 0; i < nt->nm; i++) {
		const struct io_ent *a = &nt->m[i];

		if (a->last < ent.iova || a->iova > ent.last) {
			out[k++] = *a;
			continue;
		}
		/* a notifier born after the target space died never heard of it */
		if (a->iova > at && e->target_as)
			break;
		if (a->iova < ent.iova) {
			out[k] = *a;
			out[k++].last = ent.iova - 1;
		}
		if (a->last > ent.last) {
			out[k] = *a;
			out[k].iova = ent.last + 1;
			out[k++].addr = a->addr + (ent.last + 1 - a->iova);
		}
		if (a->last >= ent.last)
			covered = true;
		else
			at = a->last + 1;
	}
	if (!covered && e->target_as)
		FAIL("IOMMU UNMAP %#llx-%#llx of IOVAs not mirrored",
		     (unsigned long long)ent.iova, (unsigned long long)ent.last);
	if (k > IO_MIRROR)
		FAIL("IOMMU consumer: mirror full");
	memcpy(nt->m, out, k * sizeof(out[0]));
	nt->nm = k;
}

static void io_region_add(void *priv, const struct memtopo_section *s)
{
	struct io_consumer *c = priv;
	struct io_nt *nt;
	int i, ret;

	if (s->mr->kind != MEMTOPO_IOMMU)
		return;
	for (i = 0; i < IO_NOTIFIERS && c->nt[i].n.iommu; i++)
		;
	if (i == IO_NOTIFIERS)
		FAIL("IOMMU consumer: out of notifiers");
	c->hi = max(c->hi, i + 1);
	nt = &c->nt[i];
	memset(&nt->n, 0, sizeof(nt->n));
	nt->n.notify = io_notify;
	nt->n.flags = MEMTOPO_IOMMU_NOTIFIER_IOTLB_EVENTS;
	nt->n.start = s->offset;
	nt->n.end = s->offset + (s->last - s->start);
	nt->start = s->start;
	nt->last = s->last;
	nt->born = ++io_clock;
	nt->nm = 0;
	ret = memtopo_iommu_register_notifier_locked(s->mr, &nt->n);
	if (!ret) {
		io_replaying = true;
		ret = memtopo_iommu_replay_locked(s->mr, &nt->n);
		io_replaying = false;
	}
	if (ret)
		FAIL("IOMMU consumer: notifier on %#llx-%#llx: %d", (unsigned long long)s->start,
		     (unsigned long long)s->last, ret);
	/* a replay tells MAPs, which a DEVIOTLB_UNMAP notifier never hears */
	memset(&nt->dn, 0, sizeof(nt->dn));
	nt->dn.notify = io_devtlb_notify;
	nt->dn.flags = MEMTOPO_IOMMU_NOTIFIER_DEVIOTLB_UNMAP;
	nt->dn.start = nt->n.start;
	nt->dn.end = nt->n.end;
	ret = memtopo_iommu_register_notifier_locked(s->mr, &nt->dn);
	if (!ret)
		ret = memtopo_iommu_replay_locked(s->mr, &nt->dn);
	if (ret)
		FAIL("IOMMU consumer: device-IOTLB notifier on %#llx-%#llx: %d",
		     (unsigned long long)s->start, (unsigned long long)s->last, ret);
	io_registered++;
}

static void io_region_del(void *priv, const struct memtopo_section *s)
{
	struct io_consumer *c = priv;
	int i;

	if (s->mr->kind != MEMTOPO_IOMMU)
		return;
	for (i = 0; i < c->hi; i++) {
		struct io_nt *nt = &c->nt[i];

		if (nt->n.iommu == s->mr && nt->start == s->start && nt->last == s->last) {
			/* VFIO unmaps the section's whole range with it */
			memtopo_iommu_unregister_notifier_locked(&nt->n);
			memtopo_iommu_unregister_notifier_locked(&nt->dn);
			nt->nm = 0;
			return;
		}
	}
	FAIL("IOMMU consumer: region_del of %#llx-%#llx, a section it has no notifier on",
	     (unsigned long long)s->start, (unsigned long long)s->last);
}

static const struct memtopo_listener_ops io_listener_ops = {
	.region_add = io_region_add,
	.region_del = io_region_del,
};

/*
 * A userspace subscriber's view of the IOMMUs, per space, from emitted
 * events alone (the listener takes what memtopo_space_emit_event_locked()
 * hands to subscriptions): it keeps a slot per IOMMU range from region_add
 * to region_del, and in it the entries its IOMMU_MAP and IOMMU_UNMAP events
 * tell.  A range's mappings must come as MAPs right after its region_add
 * (vfio_listener_region_add() calling memory_region_iommu_replay()), and
 * region_del drops them without UNMAPs (vfio_listener_region_del()), so
 * each slot must hold the model's mappings inside the range, as a notifier
 * registered on it would.
 */
#define EVM_RANGES 128

struct evm_range {
	const struct memtopo_region *mr;	/* NULL: a free slot */
	u64 start, last, iova;			/* the range; @iova at @start */
	unsigned long born;			/* added at this io_clock */
	struct io_ent m[IO_MIRROR];
	int nm;
};

struct evm {
	struct memtopo_listener l;
	int hi;
	bool in_commit;
	struct evm_range r[EVM_RANGES];
};

static struct evm evms[MAX_SPACES];
/* every fourth seed: emitting events costs a walk per change and space */
static bool evm_on;
static unsigned long evm_maps, evm_replayed, evm_unmaps, evm_dropped;

static void evm_begin(void *priv)
{
	((struct evm *)priv)->in_commit = true;
}

static void evm_commit(void *priv)
{
	((struct evm *)priv)->in_commit = false;
}

static void evm_region_add(void *priv, const struct memtopo_section *s)
{
	struct evm *e = priv;
	struct evm_range *r;
	int i;

	if (s->mr->kind != MEMTOPO_IOMMU)
		return;
	for (i = 0; i < EVM_RANGES && e->r[i].mr; i++)
		;
	if (i == EVM_RANGES)
		FAIL("event mirror: out of range slots");
	e->hi = max(e->hi, i + 1);
	r = &e->r[i];
	r->mr = s->mr;
	r->start = s->start;
	r->last = s->last;
	r->iova = s->offset;
	r->born = ++io_clock;
	r->nm = 0;
}

static void evm_region_del(void *priv, const struct memtopo_section *s)
{
	struct evm *e = priv;
	int i;

	if (s->mr->kind != MEMTOPO_IOMMU)
		return;
	for (i = 0; i < e->hi; i++) {
		struct evm_range *r = &e->r[i];

		if (r->mr == s->mr && r->start == s->start && r->last == s->last) {
			evm_dropped += r->nm;
			r->mr = NULL;
			return;
		}
	}
	FAIL("event mirror: region_del of %#llx-%#llx, a range it does not hold",
	     (unsigned long long)s->start, (unsigned long long)s->last);
}

static struct memtopo_space *evm_space(u32 id)
{
	int s;

	for (s = 0; s < nr_spaces; s++)
		if (space_id[s] == id && space_root[s] >= 0)
			return spaces[s];
	return NULL;
}

static void evm_event(void *priv, const struct memtopo_event *ev)
{
	struct evm *e = priv;
	struct io_ent ent = {
		.iova = ev->iommu.iova, .last = ev->iommu.iova + ev->iommu.addr_mask,
		.addr = ev->iommu.translated_addr, .perm = ev->iommu.perm,
	};
	struct io_ent out[IO_MIRROR + 2];
	struct evm_range *r = NULL;
	u64 cut = 0;
	int i, k = 0;

	if (ev->type != MEMTOPO_EVENT_IOMMU_MAP && ev->type != MEMTOPO_EVENT_IOMMU_UNMAP)
		return;
	for (i = 0; i < e->hi; i++)
		if (e->r[i].mr && e->r[i].mr->id == ev->region && e->r[i].start <= ev->start &&
		    ev->last <= e->r[i].last)
			r = &e->r[i];
	if (!r || ev->start != r->start + (ent.iova - r->iova) ||
	    ev->last - ev->start != ev->iommu.addr_mask)
		FAIL("event mirror: IOMMU event %#llx-%#llx (IOVA %#llx) outside the ranges held",
		     (unsigned long long)ev->start, (unsigned long long)ev->last,
		     (unsigned long long)ent.iova);
	ent.as = ev->iommu.target_space ? evm_space(ev->iommu.target_space) : NULL;
	if (ev->type == MEMTOPO_EVENT_IOMMU_MAP) {
		if (!ent.as || !ent.perm)
			FAIL("event mirror: MAP without a live target or permission");
		for (i = 0; i < r->nm; i++)
			if (!(ent.last < r->m[i].iova || ent.iova > r->m[i].last))
				FAIL("event mirror: MAP %#llx-%#llx over held IOVAs",
				     (unsigned long long)ent.iova, (unsigned long long)ent.last);
		r->nm = io_ent_add(r->m, r->nm, &ent);
		evm_maps++;
		evm_replayed += e->in_commit;
		return;
	}
	if (e->in_commit)
		FAIL("event mirror: an UNMAP inside a commit");
	for (i = 0; i < r->nm; i++) {
		const struct io_ent *a = &r->m[i];

		if (a->last < ent.iova || a->iova > ent.last) {
			out[k++] = *a;
			continue;
		}
		cut += min(a->last, ent.last) - max(a->iova, ent.iova) + 1;
		if (a->iova < ent.iova) {
			out[k] = *a;
			out[k++].last = ent.iova - 1;
		}
		if (a->last > ent.last) {
			out[k] = *a;
			out[k].iova = ent.last + 1;
			out[k++].addr = a->addr + (ent.last + 1 - a->iova);
		}
	}
	/* a mapping into a space that died before the range came was never told */
	if (cut != ent.last - ent.iova + 1 && ev->iommu.target_space &&
	    evm_space(ev->iommu.target_space))
		FAIL("event mirror: UNMAP %#llx-%#llx of IOVAs not held",
		     (unsigned long long)ent.iova, (unsigned long long)ent.last);
	if (k > IO_MIRROR)
		FAIL("event mirror: full");
	memcpy(r->m, out, k * sizeof(out[0]));
	r->nm = k;
	evm_unmaps++;
}

static const struct memtopo_listener_ops evm_ops = {
	.begin = evm_begin,
	.commit = evm_commit,
	.region_add = evm_region_add,
	.region_del = evm_region_del,
	.event = evm_event,
};

/* Each space's event mirror: a slot per IOMMU range shown, holding the model's mappings. */
static void evm_check(void)
{
	int s, i, j, n, shown, k;

	for (s = 0; s < nr_spaces && evm_on; s++) {
		if (space_root[s] < 0)
			continue;
		for (i = 0, shown = 0; i < last_n[s]; i++) {
			const struct ref_range *rr = &last_view[s][i];

			shown += rr->region >= 0 && model.r[rr->region].kind == REF_IOMMU;
		}
		for (i = 0; i < evms[s].hi; i++) {
			const struct evm_range *r = &evms[s].r[i];
			struct io_ent want[IO_MIRROR];
			const struct ref_region *rg;

			if (!r->mr)
				continue;
			shown--;
			k = region_index(r->mr);
			if (k < 0)
				FAIL("event mirror: a range of a region the model does not know");
			rg = &model.r[k];
			for (j = 0, n = 0; j < rg->nmap; j++) {
				const struct ref_iommu_map *mp = &rg->map[j];
				struct io_ent w = { .as = spaces[mp->space], .perm = mp->perm };
				u64 end = r->iova + (r->last - r->start);

				if (mp->last < r->iova || mp->iova > end ||
				    (space_death[mp->space] && space_death[mp->space] < r->born))
					continue;
				w.iova = max(mp->iova, r->iova);
				w.last = min(mp->last, end);
				w.addr = mp->addr + (w.iova - mp->iova);
				n = io_ent_add(want, n, &w);
			}
			for (j = 0; j < n && n == r->nm; j++)
				if (want[j].iova != r->m[j].iova || want[j].last != r->m[j].last ||
				    want[j].addr != r->m[j].addr || want[j].perm != r->m[j].perm ||
				    want[j].as != r->m[j].as)
					break;
			if (n == r->nm && j == n)
				continue;
			FAIL("space %d: event mirror of r%d at %#llx: %d entries, model %d", s, k,
			     (unsigned long long)r->start, r->nm, n);
		}
		if (shown)
			FAIL("space %d: event mirror and IOMMU ranges differ by %d", s, shown);
	}
}

/* Each notifier's mirror against the model's mappings inside its range. */
static void io_check_mirrors(void)
{
	int s, i, k, j, n;

	for (s = 0; s < nr_spaces; s++) {
		for (i = 0; i < io_cons[s].hi; i++) {
			const struct io_nt *nt = &io_cons[s].nt[i];
			struct io_ent want[IO_MIRROR];
			const struct ref_region *r;

			if (!nt->n.iommu)
				continue;
			k = region_index(nt->n.iommu);
			if (k < 0)
				FAIL("IOMMU notifier on a region the model does not know");
			r = &model.r[k];
			for (j = 0, n = 0; j < r->nmap; j++) {
				const struct ref_iommu_map *mp = &r->map[j];
				struct io_ent e = { .as = spaces[mp->space], .perm = mp->perm };

				if (mp->last < nt->n.start || mp->iova > nt->n.end ||
				    (space_death[mp->space] && space_death[mp->space] < nt->born))
					continue;
				e.iova = max(mp->iova, nt->n.start);
				e.last = min(mp->last, nt->n.end);
				e.addr = mp->addr + (e.iova - mp->iova);
				n = io_ent_add(want, n, &e);
			}
			if (n != nt->nm)
				goto differ;
			for (j = 0; j < n; j++) {
				const struct io_ent *a = &want[j], *b = &nt->m[j];

				if (a->iova != b->iova || a->last != b->last ||
				    a->addr != b->addr || a->as != b->as || a->perm != b->perm)
					goto differ;
			}
			continue;
differ:
			for (j = 0; j < nt->nm; j++)
				fprintf(stderr, "  mirror %#llx-%#llx -> %p %#llx p%u\n",
					(unsigned long long)nt->m[j].iova,
					(unsigned long long)nt->m[j].last, (void *)nt->m[j].as,
					(unsigned long long)nt->m[j].addr, nt->m[j].perm);
			for (j = 0; j < n; j++)
				fprintf(stderr, "  model %#llx-%#llx -> %p %#llx p%u\n",
					(unsigned long long)want[j].iova,
					(unsigned long long)want[j].last, (void *)want[j].as,
					(unsigned long long)want[j].addr, want[j].perm);
			FAIL("space %d: notifier on r%d %#llx-%#llx: %d mirrored, %d in the model",
			     s, k, (unsigned long long)nt->n.start, (unsigned long long)nt->n.end,
			     nt->nm, n);
		}
	}
}

/* After a commit: a notifier on exactly each IOMMU range each space shows. */
static void io_check_notifiers(void)
{
	int s, i, j, shown;

	for (s = 0; s < nr_spaces; s++) {
		if (space_root[s] < 0)
			continue;
		for (i = 0, shown = 0; i < last_n[s]; i++) {
			const struct ref_range *rr = &last_view[s][i];
			u64 last = i + 1 < last_n[s] ? rr[1].start - 1 : U64_MAX;

			if (rr->region < 0 || model.r[rr->region].kind != REF_IOMMU)
				continue;
			shown++;
			for (j = 0; j < io_cons[s].hi; j++) {
				const struct io_nt *nt = &io_cons[s].nt[j];

				if (nt->n.iommu == model.r[rr->region].engine &&
				    nt->start == rr->start && nt->last == last &&
				    nt->n.start == rr->offset &&
				    nt->n.end == rr->offset + (last - rr->start))
					break;
			}
			if (j == io_cons[s].hi)
				FAIL("space %d: no IOMMU notifier on %#llx-%#llx", s,
				     (unsigned long long)rr->start, (unsigned long long)last);
		}
		for (j = 0; j < io_cons[s].hi; j++)
			shown -= !!io_cons[s].nt[j].n.iommu;
		if (shown)
			FAIL("space %d: IOMMU notifiers and IOMMU ranges differ by %d", s, -shown);
	}
	io_check_mirrors();
	evm_check();
}

/*
 * An IOMMU a kernel module implements (struct memtopo_iommu_ops): it
 * translates through the model's mappings of its region, each one aligned
 * block, and tells notifiers about its changes itself.  Without a replay
 * op, registration replays page after page (QEMU's default), so such
 * regions stay at most IO_OPS_MAX bytes.
 */
static void io_ops_translate(struct memtopo_region *iommu, u64 addr, unsigned int flag,
			     int iommu_idx, struct memtopo_iotlb_entry *out)
{
	const struct ref_region *r = memtopo_iommu_opaque(iommu);
	int k = ref_iommu_find(r, addr);
	const struct ref_iommu_map *mp;

	if (k < 0)
		return;
	mp = &r->map[k];
	/* as a table: a mapping into a destroyed space leads nowhere */
	if (space_root[mp->space] < 0)
		return;
	out->target_as = spaces[mp->space];
	out->addr_mask = mp->last - mp->iova;
	out->iova = mp->iova;
	out->translated_addr = mp->addr;
	out->perm = mp->perm;
}

static const struct memtopo_iommu_ops io_ops = {
	.translate = io_ops_translate,
};

/* Tell the notifiers of ops IOMMU @r about mapping @mp: MAP or UNMAP. */
static void io_ops_notify(struct ref_region *r, const struct ref_iommu_map *mp, bool map)
{
	struct memtopo_iotlb_event ev = {
		.type = map ? MEMTOPO_IOMMU_NOTIFIER_MAP : MEMTOPO_IOMMU_NOTIFIER_UNMAP,
		.entry = {
			.target_as = space_root[mp->space] < 0 ? NULL : spaces[mp->space],
			.iova = mp->iova,
			.translated_addr = mp->addr,
			.addr_mask = mp->last - mp->iova,
			.perm = map ? mp->perm : MEMTOPO_IOMMU_NONE,
		},
	};

	int s, i;

	memtopo_ctx_lock(ctx);
	memtopo_iommu_notify_locked(r->engine, 0, &ev);
	if (!map) {
		/* and the device IOTLBs: each device-IOTLB notifier meeting it */
		for (s = 0, io_devtlb_left = 0; s < nr_spaces; s++)
			for (i = 0; i < io_cons[s].hi; i++) {
				const struct memtopo_iommu_notifier *dn = &io_cons[s].nt[i].dn;

				io_devtlb_left += dn->iommu == r->engine && dn->start <= mp->last &&
						  dn->end >= mp->iova;
			}
		ev.type = MEMTOPO_IOMMU_NOTIFIER_DEVIOTLB_UNMAP;
		io_devtlb_want = mp;
		memtopo_iommu_notify_locked(r->engine, 0, &ev);
		io_devtlb_want = NULL;
		if (io_devtlb_left)
			FAIL("%d device-IOTLB notifiers missed an invalidation", io_devtlb_left);
	}
	memtopo_ctx_unlock(ctx);
	io_ops_changes++;
}

/*
 * The ops IOMMU's own change: drop a random mapping (UNMAP told while it
 * still translates), or add an aligned block (MAP told once it does).
 */
static void io_ops_change(struct ref_region *r)
{
	struct ref_iommu_map mp;
	u64 size = REF_PAGE << rnd_below(3);
	int k, sp;

	if (r->nmap && (rnd_below(3) || r->nmap >= REF_IOMMU_MAPS - 1)) {
		k = rnd_below(r->nmap);
		io_ops_notify(r, &r->map[k], false);
		memmove(&r->map[k], &r->map[k + 1], (r->nmap - k - 1) * sizeof(r->map[0]));
		r->nmap--;
		return;
	}
	sp = rnd_below(nr_spaces);
	if (space_root[sp] < 0)
		return;
	mp.space = sp;
	mp.iova = rnd_below(IO_OPS_MAX / size) * size;
	mp.last = mp.iova + size - 1;
	mp.addr = io_rnd_shown(sp, -1) & ~(size - 1);
	mp.perm = 1 + rnd_below(3);
	for (k = 0; k < r->nmap; k++)
		if (!(mp.last < r->map[k].iova || mp.iova > r->map[k].last))
			return;
	for (k = r->nmap; k > 0 && r->map[k - 1].iova > mp.iova; k--)
		r->map[k] = r->map[k - 1];
	r->map[k] = mp;
	r->nmap++;
	io_ops_notify(r, &mp, true);
}

static void op_iommu(void)
{
	struct memtopo_space *target;
	struct ref_region *r;
	u64 iova, size, addr;
	unsigned int perm;
	int i = rnd_region(), j, sp, want;
	bool target_ok = true;
	unsigned long events = io_events;

	if (i < 0)
		return;
	/* mostly an IOMMU */
	for (j = 0; j < 4 * model.n && rnd_below(32) && model.r[i].kind != REF_IOMMU; j++)
		i = rnd_region();
	/* a tree without IOMMUs: a few refusals are enough */
	if (model.r[i].kind != REF_IOMMU && rnd_below(4))
		return;
	r = &model.r[i];
	if (!r->live)
		return;
	if (r->iommu_ops && rnd_below(4)) {
		io_ops_change(r);
		io_check_mirrors();
		evm_check();
		return;
	}
	iova = rnd_below(4) ? io_rnd_shown(rnd_below(nr_spaces), i) : REF_PAGE * rnd_below(16);
	size = io_rnd_pages();
	/* one fault at a time, now and then */
	switch (rnd_below(32)) {
	case 0:
		iova += 0x800;
		break;
	case 1:
		size += 0x10;
		break;
	case 2:
		size = 0;
		break;
	case 3:
		iova = U64_MAX - 0xfff;
		size = 0x2000;
		break;
	case 4:
		iova = U64_MAX - 0xfff;
		size = 0x1000;
		break;
	}
	if (r->nmap >= REF_IOMMU_MAPS - 1 || !rnd_below(32)) {
		memtopo_ctx_lock(ctx);
		want = r->kind == REF_IOMMU && !r->iommu_ops ? 0 : -EINVAL;
		expect(memtopo_iommu_unmap_all_locked(r->engine), want, "iommu unmap all");
		memtopo_ctx_unlock(ctx);
		io_count(want, &io_unmaps);
		if (!want)
			r->nmap = 0;
	} else if (rnd_below(3)) {
		sp = rnd_below(nr_spaces);
		target = space_root[sp] < 0 ? NULL : spaces[sp];
		target_ok = target;
		addr = rnd_below(8) ? io_rnd_shown(sp, -1) : U64_MAX - 0xfff;
		perm = 1 + rnd_below(3);
		switch (rnd_below(24)) {
		case 0:
			addr += 0x400;
			break;
		case 1:
			perm = rnd_below(2) ? 0 : perm | 4;
			break;
		case 2:
			target = NULL;
			target_ok = false;
			break;
		}
		want = ref_iommu_map(r, iova, size, sp, target_ok, addr, perm);
		expect(memtopo_iommu_map(r->engine, iova, size, target, addr, perm), want,
		       "iommu map");
		io_count(want, &io_maps);
	} else {
		/* often exactly a mapping, or part of one */
		if (r->nmap && rnd_below(2)) {
			const struct ref_iommu_map *mp = &r->map[rnd_below(r->nmap)];

			iova = mp->iova;
			size = mp->last - mp->iova + 1;
			if (rnd_below(2) && size > REF_PAGE) {
				iova += REF_PAGE * rnd_below(size / REF_PAGE);
				size = REF_PAGE * (1 + rnd_below((mp->last + 1 - iova) / REF_PAGE));
			}
		}
		want = ref_iommu_unmap(r, iova, size);
		expect(memtopo_iommu_unmap(r->engine, iova, size), want, "iommu unmap");
		io_count(want, &io_unmaps);
	}
	if (want && io_events != events)
		FAIL("a refused IOMMU operation (%d) told notifiers", want);
	io_check_table(r, "iommu op");
	io_check_mirrors();
	evm_check();
}

/* The painted entry of space @s holding @a (check_views painted them all). */
static const struct ref_range *io_view_find(int s, u64 a)
{
	int lo = 0, hi = last_n[s] - 1;

	while (lo < hi) {
		int mid = (lo + hi + 1) / 2;

		if (last_view[s][mid].start <= a)
			lo = mid;
		else
			hi = mid - 1;
	}
	return &last_view[s][lo];
}

struct io_xlate {
	int space, region, depth;
	u64 addr, offset, mask;
	u64 len;		/* in: bytes wanted; out: what one IOTLB entry a level holds */
	unsigned int perm;
};

/* Clip *@len to @room bytes; a room of 0 is 2^64, no clip. */
static void io_clip(u64 *len, u64 room)
{
	if (room && room < *len)
		*len = room;
}

/*
 * QEMU's address_space_translate() on the model: an IOMMU range sends
 * the access through the mapping holding its offset into the mapping's
 * space, at most MEMTOPO_IOMMU_MAX_DEPTH times; the IOTLB entry is the
 * smallest block met, with the permissions every IOMMU grants.
 */
static int io_model_translate(int s, u64 a, bool write, struct io_xlate *o)
{
	u64 mask = U64_MAX, bm;
	unsigned int perm = 3;
	int depth;

	for (depth = 0;; depth++) {
		const struct ref_range *rr = io_view_find(s, a);
		const struct ref_region *r;
		const struct ref_iommu_map *mp;
		u64 off;
		int k;

		if (rr->region < 0)
			return -ENOENT;
		r = &model.r[rr->region];
		off = rr->offset + (a - rr->start);
		if (r->kind != REF_IOMMU) {
			o->region = rr->region;
			o->offset = off;
			break;
		}
		if (depth == MEMTOPO_IOMMU_MAX_DEPTH)
			return -ELOOP;
		k = ref_iommu_find(r, off);
		if (k < 0)
			return -ENOENT;
		mp = &r->map[k];
		/* a mapping into a destroyed space translates nothing */
		if (space_root[mp->space] < 0)
			return -ENOENT;
		if (!(mp->perm & (write ? MEMTOPO_IOMMU_WO : MEMTOPO_IOMMU_RO)))
			return -EACCES;
		/* the range's end, then the IOTLB entry's end past the translation */
		io_clip(&o->len, (rr + 1 < &last_view[s][last_n[s]] ? rr[1].start : 0) - a);
		bm = ref_iommu_block_mask(mp, off);
		mask &= bm;
		perm &= mp->perm;
		a = mp->addr + (off - mp->iova);
		io_clip(&o->len, bm - (a & bm) + 1);
		s = mp->space;
	}
	o->space = s;
	o->addr = a;
	o->depth = depth;
	o->mask = depth ? mask : REF_PAGE - 1;
	o->perm = perm;
	return 0;
}

/* One address of space @s through the engine and through the model. */
static void io_check_one(int s, u64 a, bool write)
{
	struct memtopo_iotlb_entry e;
	struct memtopo_section sec;
	struct io_xlate o = { .len = rnd_below(2) ? 1 + rnd_below(0x20000) : U64_MAX };
	u64 at = a, len = o.len;
	int want = io_model_translate(s, a, write, &o), ret, ret2;

	rcu_read_lock();
	ret = memtopo_space_get_iotlb_entry(spaces[s], a, write, 0, &e);
	ret2 = memtopo_space_lookup(spaces[s], a, &sec);
	if (!ret2 && sec.mr->kind == MEMTOPO_IOMMU)
		ret2 = memtopo_iommu_walk_rcu(&sec, &at, &len, write, 0, NULL);
	rcu_read_unlock();
	if (ret != want || ret2 != want)
		FAIL("space %d: translating %#llx for a %s gives %d (walk %d), the model %d", s,
		     (unsigned long long)a, write ? "write" : "read", ret, ret2, want);
	if (want) {
		io_xlate_faults[want == -ENOENT ? 0 : want == -EACCES ? 1 : 2]++;
		return;
	}
	if (e.target_as != spaces[o.space] || e.addr_mask != o.mask || e.perm != o.perm ||
	    e.iova != (a & ~o.mask) || e.translated_addr != (o.addr & ~o.mask) ||
	    at != o.addr || len != o.len || sec.mr != model.r[o.region].engine ||
	    sec.offset + (at - sec.start) != o.offset) {
		fprintf(stderr, "model: space %d %#llx+%#llx r%d+%#llx (mask %#llx p%u)\n",
			o.space, (unsigned long long)o.addr, (unsigned long long)o.len, o.region,
			(unsigned long long)o.offset, (unsigned long long)o.mask, o.perm);
		FAIL("space %d: %#llx goes to as%u %#llx (mask %#llx p%u), reaching %#llx+%#llx",
		     s, (unsigned long long)a, e.target_as ? e.target_as->id : 0,
		     (unsigned long long)e.translated_addr, (unsigned long long)e.addr_mask,
		     e.perm, (unsigned long long)at, (unsigned long long)len);
	}
	io_xlates++;
	io_nested += o.depth > 1;
}

/*
 * Addresses of IOMMU ranges of every space, mapped IOVAs preferred,
 * through the engine's translation and the model's.
 */
static void io_check_translations(void)
{
	int s, t, i, k;

	for (s = 0; s < nr_spaces; s++) {
		int io[REF_MAX_RANGES], nio = 0;

		if (space_root[s] < 0)
			continue;
		for (i = 0; i < last_n[s] && nio < REF_MAX_RANGES; i++)
			if (last_view[s][i].region >= 0 &&
			    model.r[last_view[s][i].region].kind == REF_IOMMU)
				io[nio++] = i;
		for (t = 0; nio && t < 4; t++) {
			const struct ref_range *rr = &last_view[s][io[rnd_below(nio)]];
			const struct ref_region *r = &model.r[rr->region];
			u64 last = rr + 1 < &last_view[s][last_n[s]] ? rr[1].start - 1 : U64_MAX;
			u64 a = rr->start + rnd_below(last - rr->start + 1 ?: U64_MAX);

			/* an IOVA the IOMMU maps, if this range shows it */
			if (r->nmap && rnd_below(4)) {
				const struct ref_iommu_map *mp = &r->map[rnd_below(r->nmap)];
				u64 off = mp->iova + REF_PAGE * rnd_below(8) + rnd_below(REF_PAGE);

				k = off >= rr->offset && off - rr->offset <= last - rr->start &&
				    off <= mp->last;
				if (k)
					a = rr->start + (off - rr->offset);
			}
			io_check_one(s, a, rnd_below(2));
		}
	}
}

/* Space @s's consumers unregister: each must be left with nothing. */
static void consumers_leave(int s)
{
	int i;

	memtopo_listener_unregister(&mirrors[s].l);
	memtopo_listener_unregister(&dis_cons[s].l);
	memtopo_listener_unregister(&io_cons[s].l);
	if (evm_on)
		memtopo_listener_unregister(&evms[s].l);
	if (mirrors[s].n)
		FAIL("space %d: unregister left %d ranges in the mirror", s, mirrors[s].n);
	if (dis_cons[s].n)
		FAIL("space %d: unregister left the discard consumer mapping", s);
	for (i = 0; i < DIS_DLS; i++)
		if (dis_cons[s].d[i].dl.registered)
			FAIL("space %d: a discard listener outlived its section", s);
	for (i = 0; i < io_cons[s].hi; i++)
		if (io_cons[s].nt[i].n.iommu || io_cons[s].nt[i].dn.iommu)
			FAIL("space %d: an IOMMU notifier outlived its section", s);
	for (i = 0; i < evms[s].hi; i++)
		if (evms[s].r[i].mr)
			FAIL("space %d: the event mirror kept a range past unregistering", s);
}

/*
 * Destroy a space (its consumers leave first).  IOMMU mappings into it
 * stay in their tables but lead nowhere: translations through them find
 * nothing, notifiers registered later are not told about them, and their
 * unmap is told without a target.
 */
static void op_space_destroy(void)
{
	int s = rnd_below(nr_spaces);

	if (space_root[s] < 0)
		return;
	consumers_leave(s);
	expect(memtopo_space_destroy(spaces[s]), 0, "space_destroy");
	space_root[s] = -1;
	space_death[s] = ++io_clock;
	spaces_destroyed++;
}

/*
 * memtopo_space_region_ranges_locked(), which IOMMU and discard events are
 * built from, walks only the windows where the bytes asked for can show
 * (through aliases too) when the tree is what the views show: it must give
 * every entry of a whole-view walk that shows some of those bytes, and no
 * entry of another region, in order, in and out of transactions.
 */
static unsigned long rr_checks, rr_bounded, rr_absent, rr_aliased, rr_unbounded, rr_next;
static struct memtopo_section rr_got[REF_MAX_RANGES];
static int rr_n;

static void rr_collect(const struct memtopo_section *s, void *opaque)
{
	if (rr_n == REF_MAX_RANGES)
		FAIL("region ranges: more than %d", REF_MAX_RANGES);
	rr_got[rr_n++] = *s;
}

/* Does @mr or a region it renders under have aliases that show it? */
static bool rr_through_alias(const struct memtopo_region *mr)
{
	for (; mr; mr = mr->parent)
		if (mr->alias_users)
			return true;
	return false;
}

static void check_region_ranges(void)
{
	struct memtopo_window w[MEMTOPO_MAX_PLACES];
	int s, k, i, j;

	memtopo_ctx_lock(ctx);
	for (s = 0; s < nr_spaces; s++) {
		const struct memtopo_view *v;

		if (space_root[s] < 0)
			continue;
		v = spaces[s]->view;
		for (k = 0; k < 3; k++) {
			struct memtopo_region *mr;
			u64 first = 0, last = U64_MAX, lo, hi;
			int ret;

			/* not from rnd(): the trees stay those of the seed */
			i = rr_next++ % model.n;
			if (!model.r[i].live)
				continue;
			mr = model.r[i].engine;
			/* the whole region, or a quarter of it */
			if (k) {
				first = memtopo_region_last_off(mr) / 8 * (rr_next % 4);
				last = first + memtopo_region_last_off(mr) / 4;
			}
			rr_n = 0;
			memtopo_space_region_ranges_locked(spaces[s], mr, first, last, rr_collect,
							   NULL);
			for (i = 0, j = 0; i < (int)v->nr; i++) {
				if (memtopo_view_fr(v, i)->mr != mr)
					continue;
				if (j < rr_n && rr_got[j].start == memtopo_view_start(v, i)) {
					if (rr_got[j].mr != mr ||
					    rr_got[j].offset != memtopo_view_fr(v, i)->offset)
						FAIL("space %d: region range %d differs", s, i);
					j++;
					continue;
				}
				lo = memtopo_view_fr(v, i)->offset;
				hi = lo + (memtopo_view_last(v, i) - memtopo_view_start(v, i));
				if (lo <= last && hi >= first)
					FAIL("space %d: region range walk missed entry %d", s, i);
			}
			if (j != rr_n)
				FAIL("space %d: %d region ranges, %d of them in the view, in order",
				     s, rr_n, j);
			rr_checks++;
			if (ctx->topology_dirty)
				continue;
			ret = memtopo_region_places(mr, v->root, first, last, w);
			rr_bounded += ret > 0;
			rr_absent += !ret;
			rr_unbounded += ret < 0;
			rr_aliased += ret > 0 && rr_through_alias(mr);
		}
	}
	memtopo_ctx_unlock(ctx);
}

/* one tree in SMALL_EVERY also checks views of several chunks: small_views_pass() */
#define SMALL_EVERY 32
static void small_views_pass(void);

static void one_tree(void)
{
	int steps, s, i, depth = 0;

	memset(&model, 0, sizeof(model));
	/* each tree's own sequence: --trees 1 replays the walks it checked */
	rr_next = 0;
	memset(last_gen, 0, sizeof(last_gen));
	memset(hist_next, 0, sizeof(hist_next));
	for (s = 0; s < MAX_SPACES; s++)
		for (i = 0; i < HIST_SNAPS; i++)
			memset(&hist[s][i], 0, offsetof(struct hist_snap, r));
	ctx = memtopo_ctx_create("difftest");
	if (IS_ERR(ctx))
		FAIL("ctx_create");
	/* sequence numbers about to be renumbered: render order must survive */
	near_renumber = !rnd_below(8);
	if (near_renumber)
		ctx->seq = MEMTOPO_SEQ_RENUMBER - rnd_below(40);
	nr_spaces = 1 + rnd_below(MAX_SPACES);
	evm_on = seed % 4 == 0;
	for (i = 0; i < 4 + (int)rnd_below(8); i++)
		op_create();
	if (!rnd_below(8))
		make_wide();
	for (s = 0; s < nr_spaces; s++) {
		space_root[s] = rnd_below(model.n);
		spaces[s] = memtopo_space_create(ctx, "as", model.r[space_root[s]].engine);
		if (IS_ERR(spaces[s]))
			FAIL("space_create");
		space_id[s] = spaces[s]->id;
		space_death[s] = 0;
		memset(&mirrors[s], 0, sizeof(mirrors[s]));
		mirrors[s].l.ops = &mirror_ops;
		mirrors[s].l.priv = &mirrors[s];
		if (memtopo_listener_register(spaces[s], &mirrors[s].l))
			FAIL("listener_register");
		memset(&dis_cons[s], 0, sizeof(dis_cons[s]));
		dis_cons[s].as = spaces[s];
		dis_cons[s].l.ops = &dis_listener_ops;
		dis_cons[s].l.priv = &dis_cons[s];
		if (memtopo_listener_register(spaces[s], &dis_cons[s].l))
			FAIL("listener_register");
		io_cons[s].hi = 0;
		io_cons[s].l.ops = &io_listener_ops;
		io_cons[s].l.priv = &io_cons[s];
		if (memtopo_listener_register(spaces[s], &io_cons[s].l))
			FAIL("listener_register");
		memset(&evms[s], 0, sizeof(evms[s]));
		evms[s].l.ops = &evm_ops;
		evms[s].l.priv = &evms[s];
		if (evm_on && memtopo_listener_register(spaces[s], &evms[s].l))
			FAIL("listener_register");
	}
	check_views();
	/* IOMMUs start with some mappings, so translations meet them */
	for (i = 0; i < 6; i++)
		op_iommu();
	check_views();
	steps = 10 + rnd_below(40);
	for (i = 0; i < steps; i++) {
		unsigned int what = rnd_below(24);

		if (what < 2 && depth < 3) {
			memtopo_transaction_begin(ctx);
			depth++;
		} else if (what < 4 && depth) {
			expect(memtopo_transaction_commit(ctx), 0, "commit");
			depth--;
		} else if (what < 6) {
			op_create();
		} else if (what < 10) {
			op_add();
		} else if (what < 16) {
			op_mutate();
		} else if (what < 20) {
			op_discard();
		} else if (what == 20 && !depth && !rnd_below(16)) {
			op_space_destroy();
		} else {
			op_iommu();
		}
		check_region_ranges();
		if (!depth)
			check_views();
	}
	while (depth--)
		expect(memtopo_transaction_commit(ctx), 0, "commit");
	check_views();
	for (s = 0; s < nr_spaces; s++)
		if (space_root[s] >= 0)
			consumers_leave(s);
	commits += ctx->stat_commits;
	full_renders += ctx->stat_full_renders;
	renumbered += near_renumber && ctx->seq < MEMTOPO_SEQ_RENUMBER - 40;
	memtopo_ctx_put(ctx);
	rcu_barrier();
	if (shim_live_allocs)
		FAIL("%ld allocations leaked", shim_live_allocs);
	if (seed % SMALL_EVERY == 0)
		small_views_pass();
}

/* @v must hold exactly what a full render of @root gives now. */
static void expect_full_render(const struct memtopo_view *v, struct memtopo_region *root,
			       const char *what, unsigned long round)
{
	struct memtopo_view *full = memtopo_render(memtopo_effective_root(root));
	u32 k;

	if (IS_ERR(full) || full->nr != v->nr || full->nr_ranges != v->nr_ranges)
		FAIL("%s round %lu: %u entries, a full render has %u", what, round, v->nr,
		     IS_ERR(full) ? 0 : full->nr);
	for (k = 0; k < v->nr; k++) {
		const struct memtopo_fr *a = memtopo_view_fr(v, k);
		const struct memtopo_fr *b = memtopo_view_fr(full, k);

		if (memtopo_view_start(v, k) != memtopo_view_start(full, k) ||
		    a->mr != b->mr || a->offset != b->offset || a->flags != b->flags)
			FAIL("%s round %lu: entry %u differs from a full render", what, round, k);
	}
	memtopo_view_put(full);
}

/*
 * Every 8th key in @sum, the keys sorted, and U64_MAX past the last one:
 * the fixed-size searches read the padding.
 */
static bool node_ok(const u64 *sum, const u64 *keys, u32 n)
{
	u32 b;

	for (b = 0; b < MEMTOPO_NODE_BLOCKS; b++)
		if (sum[b] != keys[b * 8])
			return false;
	for (b = 1; b < n; b++)
		if (keys[b] <= keys[b - 1])
			return false;
	for (b = n; b < MEMTOPO_NODE_KEYS; b++)
		if (keys[b] != U64_MAX)
			return false;
	return true;
}

/*
 * A chunk's keys sorted, the one after its last above it (its end, or
 * U64_MAX: check_view_tree() checks which), and U64_MAX past that up to
 * the last of MEMTOPO_CHUNK_ENTRIES + 1: its search runs over all of them.
 */
static bool chunk_keys_ok(const struct memtopo_chunk *chunk)
{
	const u64 *keys = chunk->starts;
	u32 b, n = chunk->nr;

	if (!n || n > MEMTOPO_CHUNK_ENTRIES)
		return false;
	for (b = 1; b < n; b++)
		if (keys[b] <= keys[b - 1])
			return false;
	for (b = n + 1; b <= MEMTOPO_CHUNK_ENTRIES; b++)
		if (keys[b] != U64_MAX)
			return false;
	return keys[n] > keys[n - 1];
}

/*
 * A node's direct table: the smallest shift whose slots cover the keys'
 * span, each slot the last key at or below its first address, found here
 * by a plain scan.
 */
static bool slots_ok(const u64 *keys, u32 n, u32 shift, const u8 *slot, u32 nslots)
{
	u64 span = keys[n - 1] - keys[0];
	u32 s, k;

	if ((span >> shift) >= nslots || (shift && (span >> (shift - 1)) < nslots) ||
	    slot[nslots] != n - 1)
		return false;
	for (s = 0; s < nslots; s++) {
		for (k = n - 1; k && keys[k] - keys[0] > ((u64)s << shift); k--)
			;
		if (slot[s] != k)
			return false;
	}
	return true;
}

/*
 * The view's two-level tree: indexes agree with what they index, nodes
 * are sorted and summarised, chunks and groups stay at least a quarter
 * full (splices keep them half full, neighbours taken in).
 */
static void check_view_tree(const struct memtopo_view *v, unsigned long round)
{
	u32 g, j, nr = 0, nr_chunks = 0;

	for (g = 0; g < v->nr_groups; g++) {
		const struct memtopo_group *grp = v->groups[g];
		u32 first = 0;

		if (v->group_first[g] != nr || v->group_cfirst[g] != nr_chunks ||
		    v->group_start[g] != grp->chunk_start[0] || !grp->nr_chunks ||
		    (v->nr_groups > 1 && grp->nr_chunks < MEMTOPO_GROUP_CHUNKS / 4) ||
		    !node_ok(grp->sum, grp->chunk_start, grp->nr_chunks) ||
		    !slots_ok(grp->chunk_start, grp->nr_chunks, grp->shift, grp->slot,
			      MEMTOPO_GROUP_SLOTS) ||
		    (g && v->group_start[g] <= v->group_start[g - 1]))
			FAIL("round %lu: group %u of %u is inconsistent", round, g, v->nr_groups);
		for (j = 0; j < grp->nr_chunks; j++) {
			const struct memtopo_chunk *chunk = grp->chunks[j];

			bool thin = v->nr_chunks > 1 && chunk->nr < MEMTOPO_CHUNK_ENTRIES / 4;
			u32 after = nr + first + chunk->nr;

			if (grp->chunk_first[j] != first || thin ||
			    grp->chunk_start[j] != chunk->starts[0] ||
			    !chunk_keys_ok(chunk))
				FAIL("round %lu: chunk %u of group %u is wrong", round, j, g);
			/* its end, if it keeps one: where the view's next entry starts */
			if (chunk->starts[chunk->nr] != U64_MAX &&
			    (after == v->nr ||
			     chunk->starts[chunk->nr] != memtopo_view_start(v, after)))
				FAIL("round %lu: chunk %u of group %u ends at %#llx", round, j, g,
				     (unsigned long long)chunk->starts[chunk->nr]);
			chunk_ends += chunk->starts[chunk->nr] != U64_MAX;
			first += chunk->nr;
		}
		if (grp->nr != first)
			FAIL("round %lu: group %u counts %u entries of %u", round, g, grp->nr,
			     first);
		nr += first;
		nr_chunks += grp->nr_chunks;
	}
	if (nr != v->nr || nr_chunks != v->nr_chunks)
		FAIL("round %lu: the view counts %u entries in %u chunks, holds %u in %u", round,
		     v->nr, v->nr_chunks, nr, nr_chunks);
}

/* Slot @s of @v's direct table. */
static u16 view_tslot(const struct memtopo_view *v, u32 s)
{
	return memtopo_tpage_of(v, s)->slot[s % MEMTOPO_TPAGE_SLOTS];
}

/*
 * Check what @v, spliced from @o, counted as slots left unnamed: at most
 * the slots whose name it took (0 in @v, named in @o).  A slot still
 * naming a record whose entry left it is cleared when counted, so a
 * splice passing over it again does not count it again.
 */
static void check_unnamed_count(const struct memtopo_view *o, const struct memtopo_view *v,
				const char *what, unsigned long round)
{
	long counted = (long)v->tmissed - o->tmissed, taken = 0;
	u32 s;

	/* one splice: a commit making more may take a name and give one back */
	if (v->tsplices != o->tsplices + 1 || v->tnr != o->tnr)
		return;
	for (s = 0; s + 1 < v->tslots; s++)
		taken += view_tslot(o, s) && !view_tslot(v, s);
	if (counted > taken)
		FAIL("%s %lu: %ld slots counted unnamed, %ld names taken", what, round, counted,
		     taken);
	unnamed_checks++;
}

/*
 * Slots @from..@to of @v's table whose first address a lookup sends to the
 * group search: naming no chunk, and no record holding that address.
 */
static u32 table_slow_slots(const struct memtopo_view *v, u32 from, u32 to)
{
	const struct memtopo_chunk *rec = v->trec;
	u32 s, r, slow = 0;

	for (s = from; s <= to; s++) {
		u16 t = view_tslot(v, s);
		u64 a = (u64)s << v->tshift;

		if (memtopo_tslot_chunk(t))
			continue;
		r = memtopo_tslot_record(t);
		slow += !r || rec->starts[2 * r] > a || rec->starts[2 * r + 1] <= a;
	}
	return slow;
}

/*
 * A view whose group search answers every address with one region that
 * no other view maps.  @v given its groups answers as @v from its direct
 * table and wrongly from the group search, which a slot that can answer
 * must not send a lookup to: the search answers right, only slower, so
 * a lookup that gave up on such a slot would pass unnoticed otherwise.
 * Made once, in a context of its own, never freed, and out of the
 * allocation counts and fault injection of the pass that first asks.
 */
static const struct memtopo_view *poison_view(void)
{
	struct memtopo_region_info ri = { .kind = MEMTOPO_CONTAINER, .name = "root",
					  .size_is_2_64 = true };
	struct memtopo_region_info pi = { .kind = MEMTOPO_IO, .name = "poison",
					  .size_is_2_64 = true };
	unsigned long fail_nth = shim_fail_nth, allocs = shim_alloc_count;
	static const struct memtopo_view *pv;
	struct memtopo_region *root, *mr;
	struct memtopo_space *as;
	struct memtopo_ctx *pc;
	long live;

	if (pv)
		return pv;
	/* nothing freed before or during this may move the counts restored below */
	rcu_barrier();
	live = shim_live_allocs;
	shim_fail_nth = 0;
	pc = memtopo_ctx_create("poison");
	if (IS_ERR(pc))
		FAIL("poison: context");
	root = memtopo_region_create(pc, &ri);
	mr = memtopo_region_create(pc, &pi);
	if (IS_ERR(root) || IS_ERR(mr) || memtopo_region_add_subregion(root, 0, mr, 0, false))
		FAIL("poison: build");
	as = memtopo_space_create(pc, "poison", root);
	if (IS_ERR(as) || !as->view || as->view->nr != 1 ||
	    memtopo_view_fr(as->view, 0)->mr != mr)
		FAIL("poison: the view is not one range");
	pv = as->view;
	rcu_barrier();
	shim_fail_nth = fail_nth;
	shim_alloc_count = allocs;
	shim_live_allocs = live;
	return pv;
}

/*
 * Whether a lookup of @addr in @lv (a view, or a copy of one with its table
 * or its groups replaced) gives entry @e of @v: -ENOENT for a hole, else
 * the entry's bounds, what it maps and @v's generation.  @sec gets the
 * answer.
 */
static bool lookup_gives(const struct memtopo_view *lv, const struct memtopo_view *v, u64 addr,
			 u32 e, struct memtopo_section *sec)
{
	const struct memtopo_fr *fr = memtopo_view_fr(v, e);
	int ret = memtopo_view_lookup(lv, addr, sec);

	if (!fr->mr)
		return ret == -ENOENT;
	return !ret && sec->start == memtopo_view_start(v, e) &&
	       sec->last == memtopo_view_last(v, e) && sec->mr == fr->mr &&
	       sec->offset == fr->offset && sec->flags == fr->flags &&
	       sec->dirty_log_mask == fr->dirty_log_mask && sec->generation == v->generation;
}

/*
 * A new context in the global @ctx for a pass: a root container spanning
 * the whole address space and a space @name rooted at it.
 */
static struct memtopo_region *pass_root(const char *name, struct memtopo_space **as)
{
	struct memtopo_region_info ri = { .kind = MEMTOPO_CONTAINER, .name = "root",
					  .size_is_2_64 = true };
	struct memtopo_region *root;

	ctx = memtopo_ctx_create(name);
	root = memtopo_region_create(ctx, &ri);
	*as = memtopo_space_create(ctx, name, root);
	return root;
}

/*
 * Views of a few hundred entries: one group of several chunks and no
 * direct table (under MEMTOPO_TABLE_MIN), so every lookup takes the
 * one-group search, and each chunk but the last ends where the next one
 * starts.  The random trees' views fit in one chunk and the big maps come
 * after all the trees: without this, a chunk's end read one off would
 * fail only there, late.  The view is copies of a bank of page leaves
 * through aliases (many entries from few regions); commits then disable
 * and enable copies, so that splices leave chunks of other fills, and
 * after each every entry is looked up at its first and last address.
 */
#define SMALL_LEAVES	24
#define SMALL_COPIES	128

static void small_view_check(const struct memtopo_view *v, int commit)
{
	struct memtopo_section sec = {};
	u32 e;
	int k;

	if (v->tslots || v->nr_groups != 1 || v->nr >= MEMTOPO_TABLE_MIN || v->nr_chunks < 2)
		FAIL("small view %d: %u entries in %u groups, %u chunks, %u slots", commit, v->nr,
		     v->nr_groups, v->nr_chunks, v->tslots);
	rcu_read_lock();
	for (e = 0; e < v->nr; e++) {
		u64 at[2] = { memtopo_view_start(v, e), memtopo_view_last(v, e) };

		for (k = 0; k < 2; k++)
			if (!lookup_gives(v, v, at[k], e, &sec))
				FAIL("small view %d, %u chunks: %#llx gives [%#llx, %#llx], not %u",
				     commit, v->nr_chunks, (unsigned long long)at[k],
				     (unsigned long long)sec.start,
				     (unsigned long long)sec.last, e);
	}
	rcu_read_unlock();
	small_views++;
	small_chunks += v->nr_chunks;
	for (e = 0; e + 1 < v->groups[0]->nr_chunks; e++) {
		const struct memtopo_chunk *chunk = v->groups[0]->chunks[e];

		small_ends += !!chunk->fr[chunk->nr - 1].mr;
	}
}

static void small_views_pass(void)
{
	struct memtopo_region_info bi = { .kind = MEMTOPO_CONTAINER, .name = "bank" };
	struct memtopo_region_info li = { .kind = MEMTOPO_RAM, .name = "leaf", .size = 0x1000 };
	struct memtopo_region_info ai = { .kind = MEMTOPO_ALIAS, .name = "copy" };
	u32 leaves = 8 + rnd_below(SMALL_LEAVES - 7), per = 1, copies, off = 0, off_max, i, n, c;
	struct memtopo_region *root, *bank, *mr, *copy[SMALL_COPIES];
	u64 at[SMALL_LEAVES], base = 0;
	bool on[SMALL_COPIES];
	struct memtopo_space *as;
	int commit;

	/* a leaf at page 0, then each after a hole or not; an entry each */
	for (i = 0; i < leaves; i++) {
		at[i] = i ? at[i - 1] + 1 + rnd_below(2) : 0;
		per += i && at[i] > at[i - 1] + 1;
	}
	per += leaves;
	bi.size = (at[leaves - 1] + 1) * 0x1000;
	/* 209 to 768 entries: per counts a hole after every copy, which only some have */
	copies = (230 + rnd_below(500)) / per + 1;
	root = pass_root("small", &as);
	memtopo_transaction_begin(ctx);
	bank = memtopo_region_create(ctx, &bi);
	if (IS_ERR(bank))
		FAIL("small: bank");
	for (i = 0; i < leaves; i++) {
		mr = memtopo_region_create(ctx, &li);
		if (IS_ERR(mr) || memtopo_region_add_subregion(bank, at[i] * 0x1000, mr, 0, false))
			FAIL("small: leaf");
	}
	ai.alias_target = bank;
	ai.size = bi.size;
	for (c = 0; c < copies; c++) {
		copy[c] = memtopo_region_create(ctx, &ai);
		if (IS_ERR(copy[c]) || memtopo_region_add_subregion(root, base, copy[c], 0, false))
			FAIL("small: copy");
		on[c] = true;
		/* a hole after some: chunks do not all end on one */
		base += bi.size + 0x1000 * rnd_below(2);
	}
	expect(memtopo_transaction_commit(ctx), 0, "commit");
	small_view_check(as->view, 0);
	/* at most a quarter of the copies off: the view keeps two chunks or more */
	off_max = copies / 4;
	for (commit = 1; commit <= 2; commit++) {
		memtopo_transaction_begin(ctx);
		for (n = 1 + rnd_below(3), i = 0; i < n; i++) {
			c = rnd_below(copies);
			if (on[c] && off >= off_max)
				continue;
			expect(memtopo_region_set_enabled(copy[c], !on[c]), 0, "set_enabled");
			off = on[c] ? off + 1 : off - 1;
			on[c] = !on[c];
		}
		expect(memtopo_transaction_commit(ctx), 0, "commit");
		small_view_check(as->view, commit);
	}
	memtopo_ctx_put(ctx);
	rcu_barrier();
	if (shim_live_allocs)
		FAIL("small: %ld allocations leaked", shim_live_allocs);
}

/*
 * Lookups in slot @s, which holds entries @i..@j of @v: at its first and
 * last address, at each start inside and the address before it, and at
 * one address at random, each finds its entry as a search would (the
 * table answers these with no key compare, by counting keys, from the
 * slot's index (an exact slot) or from the slot alone (a hole), as the
 * slot's form says).  A slot naming a chunk, or a record still holding
 * the whole slot, answers them all itself: with the groups of
 * poison_view() the answers must not change.
 */
static void check_slot_lookups(const struct memtopo_view *v, u32 s, u32 i, u32 j,
			       unsigned long round)
{
	u64 a = (u64)s << v->tshift, b = a + (1ULL << v->tshift) - 1;
	u64 addrs[2 * 8 + 3] = { a, b, a + rnd_below(1ULL << min_t(u32, v->tshift, 30)) };
	const struct memtopo_chunk *rec = v->trec;
	const struct memtopo_view *p = poison_view();
	struct memtopo_section sec, psec;
	struct memtopo_view pv = *v;
	u16 t = view_tslot(v, s);
	u32 x, n = 3, e, r = memtopo_tslot_record(t);
	bool mapped, answers;
	int ret;

	answers = memtopo_tslot_chunk(t) ||
		  (r && rec->starts[2 * r] <= a && b < rec->starts[2 * r + 1]);
	pv.nr_groups = p->nr_groups;
	pv.group_start = p->group_start;
	pv.groups = p->groups;

	/* a record's slot may hold any number of starts: the first 8 */
	for (x = i + 1; x <= j && n + 2 <= ARRAY_SIZE(addrs); x++) {
		addrs[n++] = memtopo_view_start(v, x);
		addrs[n++] = memtopo_view_start(v, x) - 1;
	}
	for (x = 0; x < n; x++) {
		e = view_find(v, addrs[x]);
		mapped = !!memtopo_view_fr(v, e)->mr;
		if (!lookup_gives(v, v, addrs[x], e, &sec))
			FAIL("round %lu: lookup of %#llx in slot %u disagrees with entry %u", round,
			     (unsigned long long)addrs[x], s, e);
		if (!answers)
			continue;
		ret = memtopo_view_lookup(&pv, addrs[x], &psec);
		if (ret != (mapped ? 0 : -ENOENT) ||
		    (mapped && (psec.mr != sec.mr || psec.start != sec.start ||
				psec.last != sec.last)))
			FAIL("round %lu: slot %u holds %#x, its lookup of %#llx left it", round, s,
			     t, (unsigned long long)addrs[x]);
	}
}

/*
 * Every form that places starts on eighths, against the eighths it is
 * made from: the maps below place pairs on few of them (page-aligned
 * starts in slots of a few pages), so the table is checked whole here.
 */
static void check_slot_forms(void)
{
	u32 q1, q2, e;

	for (q1 = 0; q1 < 8; q1++)
		for (q2 = q1 + 1; q2 <= 8; q2++) {
			u32 f = !q1 ? 0 : q2 == 8 ? q1 : memtopo_tslot_pair(q1, q2);

			if (!q1 && q2 < 8)
				continue;
			if (f >= MEMTOPO_TSLOT_COUNT)
				FAIL("slot form of starts at eighths %u, %u: %u", q1, q2, f);
			for (e = 0; e < 8; e++) {
				u32 want = e >= q2;

				want += q1 && e >= q1;
				if (memtopo_tslot_before(f, e) != want)
					FAIL("slot form %u (eighths %u, %u) counts %u at %u", f, q1,
					     q2, memtopo_tslot_before(f, e), e);
			}
		}
}

/* Where slot form @f (below MEMTOPO_TSLOT_COUNT) places its other starts: up to 2. */
static u32 slot_named(u32 f, u32 *at)
{
	u32 e, n = 0;

	for (e = 1; e < 8; e++)
		if (memtopo_tslot_before(f, e) != memtopo_tslot_before(f, e - 1))
			at[n++] = e;
	return n;
}

/*
 * The direct table says what the entries say: a slot whose addresses lie
 * among at most 8 entries of one chunk, its last only if the chunk keeps
 * its end (where the view's next entry starts), and whose first
 * address is in an entry starting at most MEMTOPO_TSLOT_REACH slots
 * before, names that chunk (through its page's list), the entry of its
 * first address and how many more start in it; any other slot is 0.  A
 * slot may also be 0 when its page's list of chunks was full as it was
 * set; those are counted, and more than 1% of them fails the run.  A slot
 * deeper inside an entry may name a record of the view instead (entry 2r
 * of the records read as a chunk, no other start): record 0 and a free
 * one end before any address, every other is an exact copy (start, end,
 * what it maps) of the entry holding its anchor, never the last of a
 * chunk that keeps no end, and a slot naming one lies in a view that has
 * it, at or above its anchor.  Lookups in a record's slot find their entry as a search does,
 * those the record's entry no longer holds (a commit cut it short) too.
 * Every slot of a small
 * table, 256 of a big one (its first and last among them), found by
 * searching the entries, not the table.  Views of MEMTOPO_TABLE_MIN
 * entries or more have a table, sized for within a quarter of their
 * entries.
 */
/* every slot of a big table too, not 256 (table_remap_run()) */
static bool table_check_all;

static void check_view_table(const struct memtopo_view *v, unsigned long round)
{
	u32 t, tries = v->tslots <= 512 || table_check_all ? v->tslots : 256, pages, m, q, f,
	    named, at[7];
	const struct memtopo_trec *rec;
	bool on8;

	if ((v->nr >= MEMTOPO_TABLE_MIN && !v->tslots) ||
	    (v->tslots && v->tnr < MEMTOPO_TABLE_MIN))
		FAIL("round %lu: %u entries, a table of %u slots", round, v->nr, v->tslots);
	if (!v->tslots)
		return;
	/* the lookup takes the slot and its eighth from one shift */
	if (v->tshift < MEMTOPO_TSHIFT_MIN || v->tshift > 63 || v->tshift8 != v->tshift - 3)
		FAIL("round %lu: slots of 2^%u bytes, eighths of 2^%u", round, v->tshift,
		     v->tshift8);
	if (memtopo_table_stale(v->nr, v->tnr) || v->tslots > memtopo_table_slots_max(v->tnr))
		FAIL("round %lu: %u entries, a table of %u slots sized for %u", round, v->nr,
		     v->tslots, v->tnr);
	pages = DIV_ROUND_UP(v->tslots, MEMTOPO_TPAGE_SLOTS);
	if (v->nr_tmids != DIV_ROUND_UP(pages, MEMTOPO_TMID_PAGES))
		FAIL("round %lu: a table of %u slots in %u mids", round, v->tslots, v->nr_tmids);
	for (m = 0; m < v->nr_tmids; m++)
		for (q = 0; q < MEMTOPO_TMID_PAGES; q++)
			if (!v->tmids[m]->page[q] != (m * MEMTOPO_TMID_PAGES + q >= pages))
				FAIL("round %lu: table mid %u page %u", round, m, q);
	rec = (const struct memtopo_trec *)v->trec;
	if (v->nr_tlong > MEMTOPO_TLONG_MAX || !rec || rec->starts[0] != U64_MAX ||
	    rec->starts[1] || rec->fr[0].mr)
		FAIL("round %lu: %u long-entry records, record 0 not none", round, v->nr_tlong);
	for (t = 1; t <= v->nr_tlong; t++) {
		u64 anchor = rec->anchor[t - 1];
		const struct memtopo_chunk *ch;
		u32 k, i;

		if (rec->starts[2 * t] == U64_MAX) {
			if (rec->starts[2 * t + 1] || rec->fr[2 * t].mr)
				FAIL("round %lu: record %u is half none", round, t);
			continue;
		}
		i = view_find(v, anchor);
		ch = memtopo_view_entry(v, i, &k);
		if (rec->starts[2 * t] != memtopo_view_start(v, i) ||
		    rec->starts[2 * t + 1] - 1 != memtopo_view_last(v, i) ||
		    memcmp(&rec->fr[2 * t], memtopo_view_fr(v, i), sizeof(rec->fr[0])) ||
		    (k + 1 == ch->nr && ch->starts[ch->nr] == U64_MAX))
			FAIL("round %lu: record %u of %#llx holds [%#llx, %#llx), not entry %u",
			     round, t, (unsigned long long)anchor,
			     (unsigned long long)rec->starts[2 * t],
			     (unsigned long long)rec->starts[2 * t + 1], i);
		table_records++;
	}
	for (t = 0; t < tries; t++) {
		u32 s = tries == v->tslots ? t : t == 0 ? 0 : t == 1 ? v->tslots - 1 :
			rnd_below(v->tslots);
		u64 a = (u64)s << v->tshift;
		u64 b = s + 1 < v->tslots ? a + (1ULL << v->tshift) - 1 : U64_MAX;
		u32 i = view_find(v, a), n = view_find(v, b) - i, k;
		const struct memtopo_chunk *ch = memtopo_view_entry(v, i, &k);
		const struct memtopo_tpage *page = memtopo_tpage_of(v, s);
		u16 got = page->slot[s % MEMTOPO_TPAGE_SLOTS];
		bool ends = ch->starts[ch->nr] != U64_MAX;
		bool want = n <= MEMTOPO_TSLOT_STARTS_MAX &&
			    (k + n + 1 < ch->nr || (k + n + 1 == ch->nr && ends)) &&
			    s + 1 < v->tslots &&
			    s - (memtopo_view_start(v, i) >> v->tshift) <= MEMTOPO_TSLOT_REACH;

		if (ends && (i - k + ch->nr == v->nr ||
			     ch->starts[ch->nr] != memtopo_view_start(v, i - k + ch->nr)))
			FAIL("round %lu: the chunk of entry %u ends at %#llx", round, i,
			     (unsigned long long)ch->starts[ch->nr]);

		if (got && !memtopo_tslot_chunk(got)) {
			u32 r = memtopo_tslot_record(got);

			if (!r || r > v->nr_tlong || memtopo_tslot_k(got) != 2 * r ||
			    memtopo_tslot_form(got) || s + 1 == v->tslots || a < rec->anchor[r - 1])
				FAIL("round %lu: slot %u of %u holds %#x, not record %u of %u",
				     round, s, v->tslots, got, r, v->nr_tlong);
			if (rec->starts[2 * r] <= a && b < rec->starts[2 * r + 1])
				table_long++;
			else
				table_stale++;
			check_slot_lookups(v, s, i, i + n, round);
			continue;
		}
		f = got ? memtopo_tslot_form(got) : 0;
		named = f < MEMTOPO_TSLOT_COUNT ? slot_named(f, at) : 0;
		if (got && (!want || page->chunk[memtopo_tslot_chunk(got) - 1] != ch ||
			    memtopo_tslot_k(got) != k ||
			    (f < MEMTOPO_TSLOT_COUNT && named != n) ||
			    (f == MEMTOPO_TSLOT_COUNT && n < 1) ||
			    (!n && memtopo_view_fr(v, i)->mr && memtopo_view_start(v, i) == a &&
			     memtopo_view_last(v, i) == b ? f != MEMTOPO_TSLOT_EXACT :
							    f == MEMTOPO_TSLOT_EXACT) ||
			    f > MEMTOPO_TSLOT_HOLE ||
			    (!n && !memtopo_view_fr(v, i)->mr ? f != MEMTOPO_TSLOT_HOLE :
								 f == MEMTOPO_TSLOT_HOLE)))
			FAIL("round %lu: slot %u of %u holds %#x, not chunk %p entry %u + %u%s",
			     round, s, v->tslots, got, (void *)ch, k, n, want ? "" : " (none)");
		/* a slot naming where its other starts are: exactly there */
		for (q = 0; got && q < named; q++) {
			if (memtopo_view_start(v, i + 1 + q) != a + ((u64)at[q] << (v->tshift - 3)))
				FAIL("round %lu: slot %u of %u holds %#x, its start %u is at %#llx",
				     round, s, v->tslots, got, q + 1,
				     (unsigned long long)memtopo_view_start(v, i + 1 + q));
		}
		/*
		 * and one whose one or two other starts sit on eighths of it
		 * names them, or the lookup would wait on a key
		 */
		on8 = n >= 1 && n <= 2;
		for (q = 0; on8 && q < n; q++)
			on8 = !(memtopo_view_start(v, i + 1 + q) & (BIT_ULL(v->tshift - 3) - 1));
		if (got && on8 && f >= MEMTOPO_TSLOT_COUNT)
			FAIL("round %lu: slot %u of %u holds %#x, not where its starts are",
			     round, s, v->tslots, got);
		if (got) {
			table_fast++;
			table_paths[named ? 2 + named : f == MEMTOPO_TSLOT_COUNT ? (n > 3 ? 6 : 1) :
				    f == MEMTOPO_TSLOT_EXACT ? 2 :
				    f == MEMTOPO_TSLOT_HOLE ? 5 : 0]++;
			check_slot_lookups(v, s, i, i + n, round);
		} else {
			table_slow++;
		}
		table_full += want && !got;
	}
}

/*
 * Lookups land on the entry that holds the address: an entry's first and
 * last address and one between, found by index (no search) to compare.
 */
static void check_view_find(const struct memtopo_view *v, unsigned long round)
{
	int t;

	for (t = 0; t < 64; t++) {
		u32 i = rnd_below(v->nr);
		u64 a = memtopo_view_start(v, i), b = memtopo_view_last(v, i);
		u64 addrs[3] = { a, b, a + rnd_below(1 + min_t(u64, b - a, 1u << 30)) };
		const struct memtopo_chunk *c;
		struct memtopo_view_pos p;
		struct memtopo_section sec;
		int k;

		memtopo_pos_init(&p, v, i);
		c = p.chunk;
		for (k = 0; k < 3; k++) {
			/* the search's edges: no padding, the end key */
			full_finds += c->nr == MEMTOPO_CHUNK_ENTRIES;
			last_finds += p.k == c->nr - 1;
			if (view_find(v, addrs[k]) != i)
				FAIL("round %lu: address %#llx found entry %u, not %u", round,
				     (unsigned long long)addrs[k], view_find(v, addrs[k]),
				     i);
			if (!lookup_gives(v, v, addrs[k], i, &sec))
				FAIL("round %lu: lookup of %#llx disagrees with entry %u", round,
				     (unsigned long long)addrs[k], i);
		}
	}
}

static void big_map_mutate(struct memtopo_region *mr, unsigned long leaves)
{
	switch (rnd_below(5)) {
	case 0:
		memtopo_region_set_address(mr, rnd_below(leaves + 8) * 0x1000 +
					   rnd_below(2) * 0x800);
		break;
	case 1:
		memtopo_region_set_enabled(mr, rnd_below(3));
		break;
	case 2:
		memtopo_region_set_priority(mr, rnd_below(3));
		break;
	case 3:
		memtopo_region_set_size(mr, 0x800 * (1 + rnd_below(6)), false);
		break;
	default:
		memtopo_region_set_readonly(mr, rnd_below(2));
		break;
	}
}

/*
 * The direct table through failures and resizes: a windowed commit failing
 * at each allocation in turn leaves the published view as it was; then
 * small regions added above the leaves one commit at a time, and every
 * region disabled and enabled again the same way, so tables grow, shrink,
 * vanish and are built again from none.
 */
static void big_map_table_pass(struct memtopo_space *as, struct memtopo_region *root,
			       struct memtopo_region **leaf, unsigned long leaves)
{
	unsigned long nth, i, extra = 2 * leaves;
	struct memtopo_region **all = calloc(leaves + extra, sizeof(*all));
	const struct memtopo_view *v;
	u32 tslots, tnr;
	int ret;

	for (nth = 1;; nth++) {
		v = as->view;
		memtopo_transaction_begin(ctx);
		memtopo_region_set_address(leaf[nth % leaves], rnd_below(leaves + 8) * 0x1000);
		shim_fail_nth = nth;
		ret = memtopo_transaction_commit(ctx);
		shim_fail_nth = 0;
		if (!ret)
			break;
		if (ret != -ENOMEM || as->view != v)
			FAIL("big map fail-nth %lu: commit gave %d, view %s", nth, ret,
			     as->view == v ? "kept" : "replaced");
		check_view_table(as->view, nth);
		table_fail_nth++;
	}
	expect_full_render(as->view, root, "big map after fail-nth", nth);
	memcpy(all, leaf, leaves * sizeof(*all));
	for (i = 0; i < 3 * (leaves + extra); i++) {
		unsigned long j = i % (leaves + extra);

		tslots = as->view->tslots;
		tnr = as->view->tnr;
		if (i < extra) {
			struct memtopo_region_info ri = { .kind = MEMTOPO_RAM, .name = "extra",
							  .size = 0x800 };

			j = leaves + i;
			all[j] = memtopo_region_create(ctx, &ri);
			if (IS_ERR(all[j]) ||
			    memtopo_region_add_subregion(root, (2 * leaves + 64 + i) * 0x1000,
							 all[j], 0, false))
				FAIL("big map: extra region %lu", i);
		} else {
			expect(memtopo_region_set_enabled(all[j], i >= 2 * (leaves + extra)), 0,
			       "enable");
		}
		v = as->view;
		if (i % 64 == 0)
			check_view_tree(v, i);
		check_view_find(v, i);
		check_view_table(v, i);
		table_resized += v->tslots != tslots || (tslots && v->tnr != tnr);
	}
	expect_full_render(as->view, root, "big map after resizes", 0);
	free(all);
}

/*
 * Big maps span many view chunks, which the small random trees never do:
 * check every windowed commit against a full render of the same tree, and
 * the mirror listener against the view.
 */
static void big_map_pass(unsigned long rounds, unsigned long leaves)
{
	struct memtopo_region_info ri = { .kind = MEMTOPO_CONTAINER, .name = "root",
					  .size_is_2_64 = true };
	struct memtopo_region *root, **leaf;
	struct memtopo_space *as;
	unsigned long r, i;

	leaf = calloc(leaves, sizeof(*leaf));
	ctx = memtopo_ctx_create("big");
	root = memtopo_region_create(ctx, &ri);
	as = memtopo_space_create(ctx, "big", root);
	memset(&mirrors[0], 0, sizeof(mirrors[0]));
	mirrors[0].l.ops = &mirror_ops;
	mirrors[0].l.priv = &mirrors[0];
	memtopo_transaction_begin(ctx);
	for (i = 0; i < leaves; i++) {
		struct memtopo_region_info li = {
			.kind = i % 7 ? MEMTOPO_RAM : MEMTOPO_IO,
			.name = "leaf",
			.size = 0x1000 * (1 + rnd_below(3)),
		};

		leaf[i] = memtopo_region_create(ctx, &li);
		if (IS_ERR(leaf[i]) ||
		    memtopo_region_add_subregion(root, rnd_below(leaves) * 0x1000, leaf[i],
						 rnd_below(3), true))
			FAIL("big map: build");
	}
	/*
	 * A dense spot in a sparse chunk: 32 ranges of 16 bytes inside one
	 * chunk slot, past where the leaves ever move, so lookups there take
	 * the summary search a slot of 8 keys or more falls back to.
	 */
	for (i = 0; i < 32; i++) {
		struct memtopo_region_info ci = { .kind = MEMTOPO_IO, .name = "dense",
						  .size = 0x10 };
		struct memtopo_region *mr = memtopo_region_create(ctx, &ci);

		if (IS_ERR(mr) ||
		    memtopo_region_add_subregion(root, (leaves + 16) * 0x1000 + i * 0x10, mr, 0,
						 true))
			FAIL("big map: build");
	}
	expect(memtopo_transaction_commit(ctx), 0, "commit");
	/* diffs between generations of a map of many chunks, most shared */
	spaces[0] = as;
	hist_next[0] = 0;
	for (i = 0; i < HIST_SNAPS; i++)
		memset(&hist[0][i], 0, offsetof(struct hist_snap, r));
	/* the mirror holds REF_MAX_RANGES; each leaf makes at most two ranges */
	if (leaves * 2 < REF_MAX_RANGES && memtopo_listener_register(as, &mirrors[0].l))
		FAIL("big map: listener_register");
	for (r = 0; r < rounds; r++) {
		struct memtopo_view *v;

		/* the second half with a region_nop listener too */
		if (r == rounds / 2 && mirrors[0].l.space) {
			memset(&mirrors[1], 0, sizeof(mirrors[1]));
			mirrors[1].l.ops = &mirror_nop_ops;
			mirrors[1].l.priv = &mirrors[1];
			if (memtopo_listener_register(as, &mirrors[1].l))
				FAIL("big map: listener_register");
		}

		/* a third of the commits change several far-apart leaves at once */
		bool txn = !rnd_below(3);
		int m, nr_muts = txn ? 2 + rnd_below(3) : 1;

		if (txn)
			memtopo_transaction_begin(ctx);
		for (m = 0; m < nr_muts; m++)
			big_map_mutate(leaf[rnd_below(leaves)], leaves);
		if (txn)
			expect(memtopo_transaction_commit(ctx), 0, "commit");
		v = as->view;
		expect_full_render(v, root, "big map", r);
		check_view_tree(v, r);
		check_view_find(v, r);
		check_view_table(v, r);
		if (leaves * 2 < REF_MAX_RANGES)
			check_diff(0, v);
		if (mirrors[0].l.space && (u32)mirrors[0].n != v->nr_ranges)
			FAIL("big map round %lu: mirror %d ranges, view %u", r, mirrors[0].n,
			     v->nr_ranges);
		checks++;
	}
	commits += ctx->stat_commits;
	full_renders += ctx->stat_full_renders;
	if (mirrors[0].l.space)
		memtopo_listener_unregister(&mirrors[0].l);
	if (mirrors[1].l.space) {
		if ((u32)mirrors[1].n != as->view->nr_ranges)
			FAIL("big map: nop mirror %d ranges, view %u", mirrors[1].n,
			     as->view->nr_ranges);
		mirrors[1].leaving = true;
		memtopo_listener_unregister(&mirrors[1].l);
	}
	big_map_table_pass(as, root, leaf, leaves);
	memtopo_ctx_put(ctx);
	free(leaf);
	rcu_barrier();
	if (shim_live_allocs)
		FAIL("big map: %ld allocations leaked", shim_live_allocs);
}

/*
 * Long entries, more than records: LONG_ISLANDS regions far apart above
 * LONG_DENSE packed ones, so each hole between them spans more than
 * MEMTOPO_TSLOT_REACH slots and more of them exist than
 * MEMTOPO_TLONG_MAX.  Islands move one commit at a time (holes split and
 * merge, records re-anchor, run out, and the table is rebuilt once the
 * splices left enough slots unnamed; slots are left naming a record
 * whose entry a move cut short, and must be sent on), some commits fail
 * at every allocation in turn, and every view is checked as the big map's are;
 * the view before each commit is checked again after it, since the new
 * one shares its records until it writes one (every other commit changes
 * a packed leaf, far from any record's entry, and writes none).
 */
#define LONG_DENSE (16 * LONG_ISLANDS)	/* so that a gap spans 16-32 slots */
#define LONG_ISLANDS (2 * MEMTOPO_TLONG_MAX)
#define LONG_GAP 512	/* pages from one island to the next */

static void long_entry_pass(unsigned long rounds)
{
	struct memtopo_region *root, *dense[8], **island = calloc(LONG_ISLANDS, sizeof(*island));
	unsigned long r, i, nth, rebuilt = 0, failed = 0, named = 0, missed = 0, shared = 0;
	unsigned long stale = table_stale;
	struct memtopo_view *v;
	struct memtopo_space *as;
	int ret;

	root = pass_root("long", &as);
	memtopo_transaction_begin(ctx);
	for (i = 0; i < LONG_DENSE + LONG_ISLANDS; i++) {
		struct memtopo_region_info li = { .kind = MEMTOPO_RAM, .name = "leaf",
						  .size = 0x1000 };
		struct memtopo_region *mr = memtopo_region_create(ctx, &li);
		u64 page = i < LONG_DENSE ? i : LONG_DENSE + (i - LONG_DENSE + 1) * LONG_GAP;

		if (IS_ERR(mr) || memtopo_region_add_subregion(root, page * 0x1000, mr, 0, true))
			FAIL("long entries: build");
		if (i >= LONG_DENSE)
			island[i - LONG_DENSE] = mr;
		else if (i % (LONG_DENSE / 8) == LONG_DENSE / 16)
			dense[i / (LONG_DENSE / 8)] = mr;
	}
	expect(memtopo_transaction_commit(ctx), 0, "commit");
	for (r = 0; r < rounds; r++) {
		struct memtopo_region *mr = island[rnd_below(LONG_ISLANDS)];
		u64 page = LONG_DENSE + LONG_GAP / 2 + rnd_below(LONG_ISLANDS * LONG_GAP);

		v = as->view;
		/* the history may drop it once replaced: checked after */
		refcount_inc(&v->ref);
		for (nth = r % 16 ? 0 : 1;; nth++) {
			shim_fail_nth = nth;
			if (r & 1)
				ret = memtopo_region_set_readonly(dense[r / 2 % 8], r / 16 % 2);
			else
				ret = memtopo_region_set_address(mr, page * 0x1000);
			shim_fail_nth = 0;
			if (!ret)
				break;
			if (ret != -ENOMEM || as->view != v)
				FAIL("long entries fail-nth %lu: %d, view %s", nth, ret,
				     as->view == v ? "kept" : "replaced");
			check_view_table(v, r);
			failed++;
		}
		check_view_table(v, r);
		check_unnamed_count(v, as->view, "long entries", r);
		shared += as->view != v && v->nr_tlong && as->view->trec == v->trec;
		rebuilt += as->view->tslots && !as->view->tsplices && v->tsplices &&
			   as->view->tnr == v->tnr;
		memtopo_ctx_lock(ctx);
		memtopo_view_put(v);
		memtopo_ctx_unlock(ctx);
		v = as->view;
		missed = max_t(unsigned long, missed, v->tmissed);
		named = max_t(unsigned long, named, v->nr_tlong);
		if (r % 64 == 0)
			expect_full_render(v, root, "long entries", r);
		check_view_find(v, r);
		check_view_table(v, r);
	}
	printf("difftest: long entries: %lu commits, at most %lu records, %lu slots unnamed\n",
	       rounds, named, missed);
	printf("difftest: long entries: %lu tables rebuilt for them, %lu commits failed,", rebuilt,
	       failed);
	stale = table_stale - stale;
	printf(" %lu shared the records, %lu slots past their record's entry\n", shared, stale);
	if (named != MEMTOPO_TLONG_MAX || !missed || !rebuilt || failed < 3 || !shared || !stale)
		FAIL("long-entry records were not exercised");
	memtopo_ctx_put(ctx);
	free(island);
	rcu_barrier();
	if (shim_live_allocs)
		FAIL("long entries: %ld allocations leaked", shim_live_allocs);
}

/*
 * Long entries that merge: MERGE_ISLANDS aliases of one RAM region, each
 * MERGE_LEN pages long, a page apart, above MERGE_DENSE one-page leaves,
 * so that the table's build runs out of records and leaves the deep slots
 * of half of them unnamed.  Filling the page between two islands, one
 * commit at a time, merges them into one entry (flatview_simplify()):
 * the records of the later islands then name an entry that starts below
 * their anchor, and once enough did, with that many slots left unnamed and
 * enough splices since the build, the next commit rebuilds the table
 * (memtopo_table_splice()).  Every view is checked as the big map's are,
 * and the pass fails unless that rebuild happened, not one of the others.
 */
#define MERGE_DENSE 2048
#define MERGE_ISLANDS (2 * MEMTOPO_TLONG_MAX)
#define MERGE_LEN 64	/* pages: an island spans 16 slots of 4 pages */
#define MERGE_BASE (MERGE_DENSE + 1)	/* the first island's page */

/* The map of merging_long_pass() in one commit, in a context of its own. */
static void merge_islands_build(struct memtopo_region **root, struct memtopo_region **big,
				struct memtopo_space **as)
{
	struct memtopo_region_info ri = { .kind = MEMTOPO_CONTAINER, .name = "root",
					  .size_is_2_64 = true };
	struct memtopo_region_info bi = { .kind = MEMTOPO_RAM, .name = "big",
					  .size = MERGE_ISLANDS * (MERGE_LEN + 1) * 0x1000ULL };
	unsigned long j;

	ctx = memtopo_ctx_create("merge");
	*root = memtopo_region_create(ctx, &ri);
	*big = memtopo_region_create(ctx, &bi);
	*as = memtopo_space_create(ctx, "merge", *root);
	memtopo_transaction_begin(ctx);
	for (j = 0; j < MERGE_DENSE + MERGE_ISLANDS; j++) {
		bool island = j >= MERGE_DENSE;
		u64 i = j - MERGE_DENSE;
		struct memtopo_region_info li = {
			.kind = island ? MEMTOPO_ALIAS : MEMTOPO_RAM, .name = "leaf",
			.size = (island ? MERGE_LEN : 1) * 0x1000ULL,
			.alias_target = island ? *big : NULL,
			.alias_offset = island ? i * (MERGE_LEN + 1) * 0x1000 : 0,
		};
		struct memtopo_region *mr = memtopo_region_create(ctx, &li);
		u64 page = island ? MERGE_BASE + i * (MERGE_LEN + 1) : j;

		if (IS_ERR(mr) || memtopo_region_add_subregion(*root, page * 0x1000, mr, 0, false))
			FAIL("merging long entries: build");
	}
	expect(memtopo_transaction_commit(ctx), 0, "commit");
}

/* Fill the page between island @j and the next: one commit, one entry. */
static void merge_islands_fill(struct memtopo_region *root, struct memtopo_region *big,
			       unsigned long j)
{
	u64 gap = j * (MERGE_LEN + 1) + MERGE_LEN;
	struct memtopo_region_info li = { .kind = MEMTOPO_ALIAS, .name = "fill",
					  .size = 0x1000, .alias_target = big,
					  .alias_offset = gap * 0x1000 };
	struct memtopo_region *mr = memtopo_region_create(ctx, &li);

	if (IS_ERR(mr) ||
	    memtopo_region_add_subregion(root, (MERGE_BASE + gap) * 0x1000, mr, 0, false))
		FAIL("merging long entries: fill %lu", j);
}

static void merging_long_pass(void)
{
	unsigned long j, merged = 0, grown = 0;
	struct memtopo_region *root, *big;
	struct memtopo_space *as;

	merge_islands_build(&root, &big, &as);
	for (j = 0; j + 1 < MERGE_ISLANDS; j++) {
		struct memtopo_view *o = as->view, *v;
		u32 missed = o->tmissed, slots = o->tslots, tnr = o->tnr;

		grown = max_t(unsigned long, grown, o->tgrown);
		merge_islands_fill(root, big, j);
		v = as->view;
		if (v->nr != o->nr - 2)
			FAIL("merging long entries: fill %lu left %u entries, not %u", j, v->nr,
			     o->nr - 2);
		/* rebuilt, though no other rule asked for it */
		merged += slots && v->tslots && !v->tsplices && missed <= slots / 8 &&
			  !memtopo_table_stale(v->nr, tnr);
		check_view_find(v, j);
		check_view_table(v, j);
	}
	expect_full_render(as->view, root, "merging long entries", j);
	printf("difftest: merging long entries: at most %lu records naming a grown entry,",
	       grown);
	printf(" %lu tables rebuilt for them\n", merged);
	if (!merged)
		FAIL("no table was rebuilt for records naming merged entries");
	memtopo_ctx_put(ctx);
	rcu_barrier();
	if (shim_live_allocs)
		FAIL("merging long entries: %ld allocations leaked", shim_live_allocs);
}

/*
 * The slots a merge leaves deep inside the merged entry: the build gives
 * records to the first MEMTOPO_TLONG_MAX islands, in address order, and
 * leaves the deep slots of the others unnamed.  Filling the gaps after
 * the last island with a record, one commit each, merges the next
 * MERGE_DEEP islands into its entry; no record then names a grown entry
 * and no name is taken, so no rule rebuilds the table.  The merged
 * entry has a record, which every slot deep inside it must name, as a
 * build would: splices revisit only the slots within reach of a start,
 * and the islands' unnamed slots are out of it.
 */
#define MERGE_DEEP 16

static void merging_deep_pass(void)
{
	struct memtopo_region *root, *big;
	const struct memtopo_view *v;
	struct memtopo_space *as;
	unsigned long j, first = MEMTOPO_TLONG_MAX - 1;
	u32 i, from, to, slow;

	merge_islands_build(&root, &big, &as);
	if (as->view->nr_tlong != MEMTOPO_TLONG_MAX || !as->view->tleft)
		FAIL("merging deep: the build's records did not run out (%u named)",
		     as->view->nr_tlong);
	for (j = first; j < first + MERGE_DEEP; j++) {
		merge_islands_fill(root, big, j);
		check_view_table(as->view, j);
	}
	v = as->view;
	if (!v->tsplices)
		FAIL("merging deep: the table was rebuilt");
	i = view_find(v, (MERGE_BASE + first * (MERGE_LEN + 1)) * 0x1000);
	from = (memtopo_view_start(v, i) >> v->tshift) + MEMTOPO_TSLOT_REACH + 1;
	to = ((memtopo_view_last(v, i) + 1) >> v->tshift) - 1;
	slow = table_slow_slots(v, from, to);
	printf("difftest: merging deep: %lu islands merged, %u of %u slots deep in them unnamed\n",
	       (unsigned long)MERGE_DEEP + 1, slow, to - from + 1);
	if (slow)
		FAIL("merging deep: %u of %u slots deep in the merged entry unnamed", slow,
		     to - from + 1);
	expect_full_render(as->view, root, "merging deep", j);
	memtopo_ctx_put(ctx);
	rcu_barrier();
	if (shim_live_allocs)
		FAIL("merging deep: %ld allocations leaked", shim_live_allocs);
}

/*
 * How often a growing map rebuilds its table: GROWTH_DENSE packed one-page
 * leaves (one commit), then GROWTH_LEAVES leaves on every GROWTH_GAP-th
 * page above them, in random order, one commit each.  The packed leaves
 * keep the slots narrow (a page at first, 8 at the end, the entries' mean
 * length), so the holes above span many slots, split again and again, and
 * outnumber the records: slots deep in them are left unnamed all the
 * way.  memtopo_table_splice() builds a new table for three reasons, and
 * each is bounded here:
 *
 * - Size: the entry count only grows (a leaf splits a hole, two entries
 *   more, or one at an end; checked), so each build for size finds more
 *   than 5/4 of the entries of the one before (memtopo_table_stale()):
 *   at most @epochs of them from the first table's count to the last.
 * - Records naming an entry that merged with the one before: holes only
 *   split here, no record's entry grows below its anchor (tgrown stays 0,
 *   checked), so none.
 * - Slots left unnamed: once tslots / 8 were counted since the build.
 *   An epoch between two builds for size adds some tnr / 8 leaves and its
 *   table has about tnr slots (at most tnr * 181 / 128), so one such
 *   build an epoch takes about a slot counted a commit.  Counted when a
 *   splice takes a slot's name, a commit counts the deep slots its leaf
 *   cut off the record of the hole it split (when that hole had one and
 *   no record is free for the part above the leaf): a few dozen at most,
 *   well under one a commit on average, since most holes have no record
 *   to lose.  Counted at every splice passing over an unnamed slot, a
 *   commit counts every deep slot of the holes in the chunks it rewrites,
 *   dozens on average and up to thousands, and the table is rebuilt every
 *   few dozen commits.  So at most @epochs of these too.  Each splice
 *   counts at most the names it took (check_unnamed_count()).
 */
#define GROWTH_DENSE 4096
#define GROWTH_LEAVES 8192
#define GROWTH_GAP 16	/* pages from one leaf's place to the next */

static void table_growth_pass(void)
{
	struct memtopo_region_info li = { .kind = MEMTOPO_RAM, .name = "g", .size = 0x1000 };
	unsigned long i, sized = 0, unnamed = 0, epochs = 0, missed = 0, named = 0;
	u32 *order = calloc(GROWTH_LEAVES, sizeof(*order)), tnr;
	struct memtopo_region *root;
	struct memtopo_space *as;
	u64 t;

	root = pass_root("growth", &as);
	memtopo_transaction_begin(ctx);
	for (i = 0; i < GROWTH_DENSE; i++) {
		struct memtopo_region *mr = memtopo_region_create(ctx, &li);

		if (IS_ERR(mr) || memtopo_region_add_subregion(root, i * 0x1000, mr, 0, false))
			FAIL("growth: build");
	}
	expect(memtopo_transaction_commit(ctx), 0, "commit");
	tnr = as->view->tnr;
	if (!as->view->tslots)
		FAIL("growth: %u packed entries and no table", as->view->nr);
	for (i = 0; i < GROWTH_LEAVES; i++)
		order[i] = i;
	for (i = GROWTH_LEAVES - 1; i > 0; i--) {
		u32 j = rnd_below(i + 1), o = order[i];

		order[i] = order[j];
		order[j] = o;
	}
	for (i = 0; i < GROWTH_LEAVES; i++) {
		struct memtopo_region *mr = memtopo_region_create(ctx, &li);
		struct memtopo_view *o = as->view, *v;
		u64 page = GROWTH_DENSE + (u64)order[i] * GROWTH_GAP;
		u64 full = ctx->stat_full_renders;

		if (IS_ERR(mr) || memtopo_region_add_subregion(root, page * 0x1000, mr, 0, false))
			FAIL("growth: leaf %lu", i);
		v = as->view;
		if (v == o || v->nr < o->nr || v->tgrown || ctx->stat_full_renders != full)
			FAIL("growth: leaf %lu: %u entries after %u, %u records grown%s", i, v->nr,
			     o->nr, v->tgrown,
			     ctx->stat_full_renders != full ? ", a full render" : "");
		check_unnamed_count(o, v, "growth: leaf", i);
		missed = max_t(unsigned long, missed, v->tmissed);
		named = max_t(unsigned long, named, v->nr_tlong);
		if (i % 512 == 0)
			check_view_table(v, i);
		/* built, not spliced: for size, or for the slots it counted */
		if (!v->tsplices) {
			if (memtopo_table_stale(v->nr, o->tnr))
				sized++;
			else
				unnamed++;
		}
	}
	check_view_table(as->view, i);
	check_view_find(as->view, i);
	expect_full_render(as->view, root, "growth", i);
	/* each build for size more than 5/4 of the entries of the last */
	for (t = tnr; 4 * (u64)as->view->nr > 5 * t; t = 5 * t / 4 + 1)
		epochs++;
	printf("difftest: growing map: %u entries in %lu commits, tables built %lu times for",
	       as->view->nr, i, sized);
	printf(" size and %lu for unnamed slots (at most %lu each), at most %lu slots unnamed\n",
	       unnamed, epochs, missed);
	if (named != MEMTOPO_TLONG_MAX || !missed)
		FAIL("growth: records never ran out (%lu named, %lu slots unnamed)", named,
		     missed);
	if (sized > epochs || unnamed > epochs)
		FAIL("growth: tables built %lu times for size, %lu for unnamed slots: over %lu",
		     sized, unnamed, epochs);
	memtopo_ctx_put(ctx);
	free(order);
	rcu_barrier();
	if (shim_live_allocs)
		FAIL("growth: %ld allocations leaked", shim_live_allocs);
}

/*
 * Slots holding a dense spot, counted from the boundary: a map of pages end
 * to end (slots of a page, exact) where some pages hold d ranges of 256
 * bytes from their first address and a hole after them, d other starts in
 * the slot, for d from 3 to one past MEMTOPO_TSLOT_STARTS_MAX, each at
 * several places so that some lie inside one chunk.  Such a slot names
 * its chunk to count at most MEMTOPO_TSLOT_STARTS_MAX starts and is 0 past
 * that; lookups at each start and the address below it find their entry.
 */
#define DENSE_PAGES 4096
#define DENSE_EVERY 97	/* pages from one dense spot to the next */

static void dense_slot_pass(void)
{
	struct memtopo_region_info li = { .kind = MEMTOPO_RAM, .name = "p", .size = 0x1000 };
	struct memtopo_region_info di = { .kind = MEMTOPO_IO, .name = "d", .size = 0x100 };
	u32 d, spots = 0, counted[MEMTOPO_TSLOT_STARTS_MAX + 2] = {}, left = 0;
	const u32 densities = MEMTOPO_TSLOT_STARTS_MAX - 1;
	struct memtopo_region *root, *mr;
	const struct memtopo_view *v;
	struct memtopo_space *as;
	u64 page, i;

	root = pass_root("dense", &as);
	memtopo_transaction_begin(ctx);
	for (page = 0; page < DENSE_PAGES; page++) {
		d = page % DENSE_EVERY ? 0 : 3 + page / DENSE_EVERY % densities;
		for (i = 0; i < (d ? d : 1); i++) {
			mr = memtopo_region_create(ctx, d ? &di : &li);
			if (IS_ERR(mr) ||
			    memtopo_region_add_subregion(root, page * 0x1000 + i * 0x100, mr, 0,
							 false))
				FAIL("dense: build");
		}
	}
	expect(memtopo_transaction_commit(ctx), 0, "commit");
	v = as->view;
	if (v->tshift != 12)
		FAIL("dense: slots of 2^%u bytes, not a page", v->tshift);
	check_view_table(v, 0);
	for (page = 0; page < DENSE_PAGES; page += DENSE_EVERY) {
		u32 s = page, e = view_find(v, page * 0x1000), k;
		const struct memtopo_chunk *ch = memtopo_view_entry(v, e, &k);
		u16 t = memtopo_tpage_of(v, s)->slot[s % MEMTOPO_TPAGE_SLOTS];

		d = 3 + page / DENSE_EVERY % densities;
		spots++;
		/* the slot's last entry, the hole, and the next page's start */
		if (k + d + 1 >= ch->nr)
			continue;
		if (d <= MEMTOPO_TSLOT_STARTS_MAX ?
		    !t || memtopo_tslot_form(t) != MEMTOPO_TSLOT_COUNT || memtopo_tslot_k(t) != k :
		    t != 0)
			FAIL("dense: slot %u, %u other starts, holds %#x", s, d, t);
		counted[d]++;
		check_slot_lookups(v, s, e, e + d, 0);
	}
	for (d = 3; d <= MEMTOPO_TSLOT_STARTS_MAX + 1; d++)
		if (!counted[d])
			left++;
	printf("difftest: dense slots: %u spots, %u with %u other starts counted,", spots,
	       counted[MEMTOPO_TSLOT_STARTS_MAX], MEMTOPO_TSLOT_STARTS_MAX);
	printf(" %u with %u sent on\n", counted[MEMTOPO_TSLOT_STARTS_MAX + 1],
	       MEMTOPO_TSLOT_STARTS_MAX + 1);
	if (left)
		FAIL("dense: %u densities never inside one chunk", left);
	memtopo_ctx_put(ctx);
	rcu_barrier();
	if (shim_live_allocs)
		FAIL("dense: %ld allocations leaked", shim_live_allocs);
}

/*
 * A map of entries shorter than a slot can be, single I/O ports end to
 * end: its table still has slots of MEMTOPO_TSHIFT_MIN (the lookup takes a
 * slot and its eighth from one shift), each holding several starts, and
 * every address finds its entry.  Runs of one, two and three ports mix the
 * slots' forms.
 */
#define PORTS 3000

static void port_slot_pass(void)
{
	struct memtopo_region_info pi = { .kind = MEMTOPO_IO, .name = "port" };
	struct memtopo_region *root, *mr;
	struct memtopo_section sec = {};
	const struct memtopo_view *v;
	struct memtopo_space *as;
	u64 a = 0, i;
	u32 n = 0, e;
	bool mapped;

	root = pass_root("ports", &as);
	memtopo_transaction_begin(ctx);
	while (a < PORTS) {
		pi.size = 1 + (n % 5 == 1) + 2 * (n % 7 == 3);
		n++;
		mr = memtopo_region_create(ctx, &pi);
		if (IS_ERR(mr) || memtopo_region_add_subregion(root, a, mr, 0, false))
			FAIL("ports: build");
		a += pi.size;
	}
	expect(memtopo_transaction_commit(ctx), 0, "commit");
	v = as->view;
	if (!v->tslots || v->tshift != MEMTOPO_TSHIFT_MIN)
		FAIL("ports: %u entries, %u slots of 2^%u bytes", v->nr, v->tslots, v->tshift);
	check_view_table(v, 0);
	rcu_read_lock();
	for (i = 0; i < a + 64; i++) {
		e = view_find(v, i);
		mapped = i < a;
		if (!lookup_gives(v, v, i, e, &sec) || mapped != !!memtopo_view_fr(v, e)->mr)
			FAIL("ports: %#llx answers [%#llx, %#llx], not entry %u",
			     (unsigned long long)i, (unsigned long long)sec.start,
			     (unsigned long long)sec.last, e);
	}
	rcu_read_unlock();
	printf("difftest: ports: %u entries, %u slots of 2^%u bytes, every address found\n",
	       v->nr, v->tslots, v->tshift);
	memtopo_ctx_put(ctx);
	rcu_barrier();
	if (shim_live_allocs)
		FAIL("ports: %ld allocations leaked", shim_live_allocs);
}

/*
 * Tables of wide slots, which maps of pages never build: leaves a
 * terabyte apart (slots of 2^38 bytes and more), then with a long leaf
 * above them close enough to widen the slots once more rather than be left
 * past the table, with a page at the top of the address space left past
 * it, and leaves spread over all 2^64 so that the last slot ends there;
 * and exact slots past 4 GiB, leaves of 8 MiB end to end, where a lookup
 * computes the entry's start from the slot's index alone.  Each map is
 * checked whole, and again after commits that move leaves.
 */
#define WIDE_LEAVES	2048

static void wide_slot_pass(void)
{
	static const char *const layout[] = { "a long leaf above", "a page at the top",
					      "all of 2^64", "8 MiB leaves end to end" };
	struct memtopo_region_info ri = { .kind = MEMTOPO_RAM, .name = "leaf" };
	struct memtopo_region **leaf = calloc(WIDE_LEAVES + 1, sizeof(*leaf));
	struct memtopo_section sec;
	struct memtopo_region *root;
	const struct memtopo_view *v;
	struct memtopo_space *as;
	u64 stride, at, top;
	u32 l, i, e;
	u8 sh[4];

	if (!leaf)
		FAIL("wide slots: out of memory");
	for (l = 0; l < ARRAY_SIZE(layout); l++) {
		root = pass_root("wide", &as);
		stride = l < 2 ? 1ULL << 40 : l == 2 ? 1ULL << (64 - 11) : 8ULL << 20;
		memtopo_transaction_begin(ctx);
		for (i = 0; i <= WIDE_LEAVES; i++) {
			ri.size = l == 3 ? stride : 0x1000ULL << rnd_below(8);
			at = (u64)i * stride + (l == 3 ? 0 : rnd_below(64) * 0x1000);
			if (i == WIDE_LEAVES) {
				if (l >= 2)
					break;
				/* within twice the slots' reach: it widens them */
				ri.size = l ? 0x1000 : 1ULL << 44;
				at = l ? U64_MAX - 0xfff : 1ULL << 52;
			}
			leaf[i] = memtopo_region_create(ctx, &ri);
			if (IS_ERR(leaf[i]) ||
			    memtopo_region_add_subregion(root, at, leaf[i], 0, false))
				FAIL("wide slots, %s: leaf %u", layout[l], i);
		}
		expect(memtopo_transaction_commit(ctx), 0, "commit");
		for (i = 0; i < 64; i++) {
			v = as->view;
			check_view_table(v, i);
			check_view_find(v, i);
			top = memtopo_view_start(v, v->nr - 1);
			e = v->nr - 1;
			rcu_read_lock();
			if (!lookup_gives(v, v, U64_MAX, e, &sec) ||
			    !lookup_gives(v, v, top, e, &sec))
				FAIL("wide slots, %s, round %u: the top entry is not found",
				     layout[l], i);
			rcu_read_unlock();
			if (!i)
				sh[l] = v->tshift;
			at = (u64)rnd_below(WIDE_LEAVES) * stride +
			     (l == 3 ? 0 : rnd_below(64) * 0x1000);
			expect(memtopo_region_set_address(leaf[rnd_below(WIDE_LEAVES)], at), 0,
			       "move a leaf");
		}
		expect_full_render(as->view, root, "wide slots", l);
		memtopo_ctx_put(ctx);
		rcu_barrier();
		if (shim_live_allocs)
			FAIL("wide slots, %s: %ld allocations leaked", layout[l], shim_live_allocs);
	}
	free(leaf);
	/* the long leaf above took the slots one wider than the leaves alone */
	if (sh[0] != sh[1] + 1 || sh[2] < 52 || sh[3] != 23)
		FAIL("wide slots: slots of 2^%u, 2^%u, 2^%u and 2^%u bytes", sh[0], sh[1], sh[2],
		     sh[3]);
	printf("difftest: wide slots: tables of 2^%u, 2^%u, 2^%u and 2^%u-byte slots:", sh[0],
	       sh[1], sh[2], sh[3]);
	printf(" %s, %s, %s, %s\n", layout[0], layout[1], layout[2], layout[3]);
}

/*
 * Deletions thin a big view's chunks out until a commit repacks them
 * (memtopo_view_repack()), which no random tree or big map reaches: page
 * leaves with a hole beside each, every other one disabled a commit at a
 * time, so that each merges three entries into one hole.  Each commit
 * that may repack is first run with each of its allocations failed in turn: a
 * failed commit keeps the view; one whose failed allocation was the
 * repack's succeeds with the sparse view, which must be right too, and is
 * undone to try the next allocation.  Every view must match a full
 * render, and nothing may leak.
 */
#define REPACK_LEAVES	4000

static void repack_pass(void)
{
	struct memtopo_region_info ri = { .kind = MEMTOPO_RAM, .name = "leaf", .size = 0x1000 };
	struct memtopo_region **leaf = calloc(REPACK_LEAVES, sizeof(*leaf));
	unsigned long nth, left, failed = 0, kept_sparse = 0;
	struct memtopo_view *old;
	struct memtopo_region *root;
	struct memtopo_space *as;
	u64 repacks;
	bool sweep;
	int i, ret;

	if (!leaf)
		FAIL("repack: out of memory");
	root = pass_root("repack", &as);
	memtopo_transaction_begin(ctx);
	for (i = 0; i < REPACK_LEAVES; i++) {
		leaf[i] = memtopo_region_create(ctx, &ri);
		if (IS_ERR(leaf[i]) ||
		    memtopo_region_add_subregion(root, (u64)i * 0x2000, leaf[i], 0, false))
			FAIL("repack: leaf %d", i);
	}
	expect(memtopo_transaction_commit(ctx), 0, "commit");
	for (i = 1; i < REPACK_LEAVES; i += 2) {
		/* the sweep where this commit may repack: chunks near 5/4 of the fewest */
		old = as->view;
		sweep = old->nr_chunks * 4 + 8 > DIV_ROUND_UP(old->nr, MEMTOPO_CHUNK_ENTRIES) * 5;
		for (nth = sweep; ; nth++) {
			old = as->view;
			repacks = ctx->stat_repacks;
			memtopo_transaction_begin(ctx);
			expect(memtopo_region_set_enabled(leaf[i], false), 0, "disable");
			shim_fail_nth = nth;
			ret = memtopo_transaction_commit(ctx);
			left = shim_fail_nth;
			shim_fail_nth = 0;
			if (ret) {
				if (ret != -ENOMEM || as->view != old)
					FAIL("repack: leaf %d, allocation %lu failed: %d, view %s",
					     i, nth, ret, as->view == old ? "kept" : "replaced");
				failed++;
				continue;
			}
			if (!nth || left)
				break;
			/* the failed allocation was one the commit can do without */
			kept_sparse += ctx->stat_repacks == repacks &&
				       as->view->nr_chunks * 4 >
				       DIV_ROUND_UP(as->view->nr, MEMTOPO_CHUNK_ENTRIES) * 5;
			expect_full_render(as->view, root, "repack, a failure kept", i);
			expect(memtopo_region_set_enabled(leaf[i], true), 0, "enable again");
		}
		check_view_table(as->view, i);
		if (ctx->stat_repacks != repacks || !(i % 256))
			expect_full_render(as->view, root, "repack", i);
	}
	repacks = ctx->stat_repacks;
	memtopo_ctx_put(ctx);
	rcu_barrier();
	free(leaf);
	if (shim_live_allocs)
		FAIL("repack: %ld allocations leaked", shim_live_allocs);
	if (!repacks || !kept_sparse)
		FAIL("repack: %llu repacks, %lu sparse views kept", (unsigned long long)repacks,
		     kept_sparse);
	printf("difftest: repack: %llu repacks over %d deletions, %lu commits failed,",
	       (unsigned long long)repacks, REPACK_LEAVES / 2, failed);
	printf(" %lu sparse views kept by a failed repack\n", kept_sparse);
}

/*
 * A space's first view, over MEMTOPO_TABLE_MIN entries with long ones among
 * them, made whole with no view before it to share with, its allocations
 * failed one at a time until the create succeeds: the view then owns every
 * chunk, page, mid and record it holds, and a failed table build frees
 * them all.  Each refused create is ENOMEM and leaks nothing; the one that
 * succeeds has a table with records.
 */
#define TFAIL_LEAVES	1500
#define TFAIL_LONG	8

static void table_build_fail_pass(void)
{
	struct memtopo_region_info ci = { .kind = MEMTOPO_CONTAINER, .name = "root",
					  .size_is_2_64 = true };
	struct memtopo_region_info ri = { .kind = MEMTOPO_RAM, .name = "leaf" };
	struct memtopo_region *root, *mr;
	struct memtopo_space *as;
	unsigned long nth;
	u64 at;
	int i;

	for (nth = 1;; nth++) {
		ctx = memtopo_ctx_create("tfail");
		root = memtopo_region_create(ctx, &ci);
		if (IS_ERR(ctx) || IS_ERR(root))
			FAIL("table build failures: context");
		memtopo_transaction_begin(ctx);
		for (i = 0, at = 0; i < TFAIL_LEAVES + TFAIL_LONG; i++) {
			ri.size = i < TFAIL_LEAVES ? 0x1000 : 0x100000;
			mr = memtopo_region_create(ctx, &ri);
			if (IS_ERR(mr) || memtopo_region_add_subregion(root, at, mr, 0, false))
				FAIL("table build failures: leaf %d", i);
			at += 2 * ri.size;
		}
		expect(memtopo_transaction_commit(ctx), 0, "commit");
		shim_fail_nth = nth;
		as = memtopo_space_create(ctx, "as", root);
		shim_fail_nth = 0;
		if (IS_ERR(as) && PTR_ERR(as) != -ENOMEM)
			FAIL("table build failures: allocation %lu failed the create with %ld", nth,
			     PTR_ERR(as));
		if (!IS_ERR(as)) {
			if (!as->view->tslots || !as->view->nr_tlong)
				FAIL("table build failures: %u slots, %u records", as->view->tslots,
				     as->view->nr_tlong);
			check_view_table(as->view, nth);
		}
		memtopo_ctx_put(ctx);
		rcu_barrier();
		if (shim_live_allocs)
			FAIL("table build failures: allocation %lu failed, %ld allocations leaked",
			     nth, shim_live_allocs);
		if (!IS_ERR(as))
			break;
	}
	printf("difftest: a first view of %d entries: its first %lu allocations failed in turn,",
	       2 * (TFAIL_LEAVES + TFAIL_LONG), nth - 1);
	printf(" none leaked\n");
}

/*
 * A view of one full group: MEMTOPO_GROUP_CHUNKS full chunks, pages end to
 * end and the hole above them.  The one-group search takes a chunk's end
 * from the group's next chunk start, which the last chunk has none of:
 * each chunk's first and last entry, at both their ends, and U64_MAX,
 * looked up in the view with its table taken away (the table sends the
 * addresses of its last slot there).
 */
static void full_group_pass(void)
{
	struct memtopo_region_info li = { .kind = MEMTOPO_RAM, .name = "g", .size = 0x1000 };
	const u32 nr = MEMTOPO_GROUP_CHUNKS * MEMTOPO_CHUNK_ENTRIES;
	struct memtopo_region *root, *mr;
	const struct memtopo_group *grp;
	const struct memtopo_view *v;
	struct memtopo_space *as;
	struct memtopo_section sec = {};
	struct memtopo_view pv;
	u32 j, q, e;
	u64 at[2];
	int k;

	root = pass_root("group", &as);
	memtopo_transaction_begin(ctx);
	for (e = 0; e + 1 < nr; e++) {
		mr = memtopo_region_create(ctx, &li);
		if (IS_ERR(mr) || memtopo_region_add_subregion(root, (u64)e * 0x1000, mr, 0, false))
			FAIL("group: build");
	}
	expect(memtopo_transaction_commit(ctx), 0, "commit");
	v = as->view;
	grp = v->groups[0];
	if (v->nr != nr || v->nr_groups != 1 || grp->nr_chunks != MEMTOPO_GROUP_CHUNKS)
		FAIL("group: %u entries in %u groups, the first of %u chunks", v->nr, v->nr_groups,
		     grp->nr_chunks);
	/* the view without its table: every lookup searches the group */
	pv = *v;
	pv.tslots = 0;
	rcu_read_lock();
	for (j = 0; j < grp->nr_chunks; j++) {
		for (q = 0; q < 2; q++) {
			e = grp->chunk_first[j] + (q ? grp->chunks[j]->nr - 1 : 0);
			at[0] = memtopo_view_start(v, e);
			at[1] = memtopo_view_last(v, e);
			for (k = 0; k < 2; k++)
				if (!lookup_gives(&pv, v, at[k], e, &sec))
					FAIL("group: %#llx answers [%#llx, %#llx], not entry %u",
					     (unsigned long long)at[k],
					     (unsigned long long)sec.start,
					     (unsigned long long)sec.last, e);
		}
	}
	if (memtopo_view_lookup(&pv, U64_MAX, &sec) != -ENOENT ||
	    memtopo_space_lookup(as, U64_MAX, &sec) != -ENOENT)
		FAIL("group: U64_MAX is mapped");
	rcu_read_unlock();
	printf("difftest: one full group: %u entries in %u chunks, each chunk's ends found\n",
	       v->nr, grp->nr_chunks);
	memtopo_ctx_put(ctx);
	rcu_barrier();
	if (shim_live_allocs)
		FAIL("group: %ld allocations leaked", shim_live_allocs);
}

/* The context's budget use, read under its mutex. */
static size_t ctx_used(void)
{
	size_t used;

	memtopo_ctx_lock(ctx);
	used = memtopo_ctx_mem_used(ctx);
	memtopo_ctx_unlock(ctx);
	return used;
}

/*
 * Names live inside the region object, whose size class follows the name:
 * every length round-trips (ASan catches a write past the class), each
 * region is charged one object of the smallest class that holds its name,
 * larger for a longer name, and a name too long is refused charging nothing.
 */
static void names_pass(void)
{
	struct memtopo_region_info info = { .kind = MEMTOPO_RAM, .size = 0x1000 };
	struct memtopo_region *mr;
	size_t before, cost, last_cost = 0;
	char name[MEMTOPO_MAX_NAME + 1];
	unsigned int len, classes = 0;

	ctx = memtopo_ctx_create("names");
	info.name = name;
	/* the first change allocates the undo chunk a context keeps (charged) */
	name[0] = 0;
	mr = memtopo_region_create(ctx, &info);
	if (IS_ERR(mr))
		FAIL("names: a first region could not be made");
	expect(memtopo_region_destroy(mr), 0, "destroy");
	for (len = 0; len <= MEMTOPO_MAX_NAME; len++) {
		memset(name, 'a' + len % 26, len);
		name[len] = 0;
		before = ctx_used();
		mr = memtopo_region_create(ctx, &info);
		if (len == MEMTOPO_MAX_NAME) {
			if (PTR_ERR_OR_ZERO(mr) != -EINVAL || ctx_used() != before)
				FAIL("names: a %u-byte name was not refused cleanly", len);
			break;
		}
		if (IS_ERR(mr) || strcmp(memtopo_region_name(mr), name))
			FAIL("names: a %u-byte name did not round-trip", len);
		cost = ctx_used() - before;
		if (cost < sizeof(*mr) + len + 1 || cost > sizeof(*mr) + MEMTOPO_MAX_NAME ||
		    cost < last_cost)
			FAIL("names: a %u-byte name costs %zu bytes", len, cost);
		classes += cost != last_cost;
		last_cost = cost;
		expect(memtopo_region_destroy(mr), 0, "destroy");
		if (ctx_used() != before)
			FAIL("names: destroying a %u-byte name left %zd bytes charged", len,
			     (ssize_t)(ctx_used() - before));
	}
	if (classes < 2)
		FAIL("names: every length costs the same: no size classes");
	memtopo_ctx_put(ctx);
	rcu_barrier();
	if (shim_live_allocs)
		FAIL("names: %ld allocations leaked", shim_live_allocs);
}

/*
 * A full render's working memory (several times the view) is given back
 * when its commit ends, whether the commit succeeded or an allocation
 * failed part-way; windowed commits keep theirs, which is small.
 */
/* The ranges of @v, by a plain walk of every entry. */
static int all_ranges(const struct memtopo_view *v, struct snap_range *out)
{
	struct memtopo_view_pos p;
	int n = 0;

	for (memtopo_pos_init(&p, v, 0); p.i < v->nr; memtopo_pos_next(&p)) {
		const struct memtopo_fr *fr = memtopo_pos_fr(&p);

		if (fr->mr)
			out[n++] = (struct snap_range){
				.start = memtopo_pos_start(&p), .last = memtopo_pos_last(&p),
				.mr = fr->mr, .offset = fr->offset, .flags = fr->flags,
				.dirty = fr->dirty_log_mask,
			};
	}
	return n;
}

/* What memtopo_view_diff() reported, in order. */
struct diff_log {
	struct snap_range *r;
	bool *add;
	int n;
};

static int diff_record(void *opaque, const struct memtopo_section *s, bool add)
{
	struct diff_log *d = opaque;

	d->r[d->n] = (struct snap_range){
		.start = s->start, .last = s->last, .mr = s->mr, .offset = s->offset,
		.flags = s->flags, .dirty = s->dirty_log_mask,
	};
	d->add[d->n++] = add;
	return 0;
}

/*
 * Under @root, @n one-page RAM leaves a page apart (leaf i at 2i pages),
 * added in one commit: a map whose every leaf can be shown, hidden or
 * resized without touching its neighbours.
 */
static void add_page_leaves(struct memtopo_region *root, struct memtopo_region **leaf,
			    unsigned long n, const char *what)
{
	unsigned long i;

	memtopo_transaction_begin(ctx);
	for (i = 0; i < n; i++) {
		struct memtopo_region_info li = {
			.kind = MEMTOPO_RAM, .name = "l", .size = 0x1000,
		};

		leaf[i] = memtopo_region_create(ctx, &li);
		if (IS_ERR(leaf[i]) || memtopo_region_add_subregion(root, i * 0x2000, leaf[i], 0,
								    false))
			FAIL("%s: build", what);
	}
	expect(memtopo_transaction_commit(ctx), 0, "commit");
}

/*
 * Diffs over views of several groups (where whole shared groups are
 * skipped), checked against the set difference of full walks: first the
 * ranges only the old view has, in address order, then those only the new
 * one has.  Up to 8 views back: the bound by the view's size is lifted
 * (memtopo.history_share 0), which would keep two of a map this small.
 */
static void diff_groups_pass(unsigned long rounds, unsigned long leaves)
{
	struct memtopo_region_info ri = { .kind = MEMTOPO_CONTAINER, .name = "root",
					  .size_is_2_64 = true };
	struct snap_range *a = calloc(leaves, sizeof(*a)), *b = calloc(leaves, sizeof(*b));
	struct diff_log d = { .r = calloc(2 * leaves, sizeof(*d.r)),
			      .add = calloc(2 * leaves, sizeof(*d.add)) };
	struct memtopo_region *root, **leaf = calloc(leaves, sizeof(*leaf));
	u64 gens[8] = {}, groups = 0;
	unsigned long r;
	struct memtopo_space *as;
	int na, nb, ia, ib, k;

	memtopo_history_share = 0;
	ctx = memtopo_ctx_create("diff");
	root = memtopo_region_create(ctx, &ri);
	as = memtopo_space_create(ctx, "diff", root);
	add_page_leaves(root, leaf, leaves, "diff groups");
	for (r = 0; r < rounds; r++) {
		const struct memtopo_view *old, *v;

		/* one to three leaves change: shown or hidden, or resized */
		for (k = 0; k < 1 + (int)rnd_below(3); k++) {
			struct memtopo_region *mr = leaf[rnd_below(leaves)];

			if (rnd_below(2))
				expect(memtopo_region_set_enabled(mr, !memtopo_region_enabled(mr)),
				       0, "set_enabled");
			else
				expect(memtopo_region_set_size(mr, 0x800 << rnd_below(2), false), 0,
				       "set_size");
		}
		v = as->view;
		gens[r % 8] = v->generation;
		groups = max_t(u64, groups, v->nr_groups);
		memtopo_ctx_lock(ctx);
		old = memtopo_history_find(as, gens[rnd_below(8)]);
		if (!old && r >= 8)
			FAIL("diff groups round %lu: a generation of the last 8 is gone", r);
		if (old) {
			d.n = 0;
			memtopo_view_diff(old, v, diff_record, &d);
			na = all_ranges(old, a);
			nb = all_ranges(v, b);
			k = 0;
			for (ia = 0, ib = 0; ia < na; ia++) {
				while (ib < nb && b[ib].start < a[ia].start)
					ib++;
				if (ib < nb && snap_eq(&a[ia], &b[ib]))
					continue;
				if (k >= d.n || d.add[k] || !snap_eq(&d.r[k], &a[ia]))
					FAIL("diff groups round %lu: deletion %d differs", r, k);
				k++;
			}
			for (ib = 0, ia = 0; ib < nb; ib++) {
				while (ia < na && a[ia].start < b[ib].start)
					ia++;
				if (ia < na && snap_eq(&a[ia], &b[ib]))
					continue;
				if (k >= d.n || !d.add[k] || !snap_eq(&d.r[k], &b[ib]))
					FAIL("diff groups round %lu: addition %d differs", r, k);
				k++;
			}
			if (k != d.n)
				FAIL("diff groups round %lu: %d events, %d expected", r, d.n, k);
			diff_checks++;
			diff_events += d.n;
		}
		memtopo_ctx_unlock(ctx);
	}
	/* whole shared groups were only skipped if there were several */
	if (groups < 2)
		FAIL("diff groups: views of %llu group, need several", (unsigned long long)groups);
	memtopo_ctx_put(ctx);
	memtopo_history_share = MEMTOPO_HISTORY_SHARE;
	free(leaf);
	free(a);
	free(b);
	free(d.r);
	free(d.add);
	rcu_barrier();
	if (shim_live_allocs)
		FAIL("diff groups: %ld allocations leaked", shim_live_allocs);
}

/*
 * More overlapping neighbours than a parent's count holds (the random
 * trees have at most 63 children): the count stays MEMTOPO_KIDS_MANY while
 * any child is left, whatever leaves, and is none again once the last
 * child has; meanwhile a window's children are still exactly the ones that
 * meet it.  Each child overlaps the fifteen after it.
 */
static void kids_many_pass(void)
{
	struct memtopo_region_info ri = { .kind = MEMTOPO_CONTAINER, .name = "root",
					  .size_is_2_64 = true };
	struct memtopo_region_info ki = { .kind = MEMTOPO_IO, .name = "kid", .size = 0x1000 };
	struct memtopo_region *root, *kid[200];
	int i, n = ARRAY_SIZE(kid);

	ctx = memtopo_ctx_create("many");
	root = memtopo_region_create(ctx, &ri);
	for (i = 0; i < n; i++) {
		kid[i] = memtopo_region_create(ctx, &ki);
		if (IS_ERR(root) || IS_ERR(kid[i]))
			FAIL("many: create");
		expect(memtopo_region_add_subregion(root, i * 0x100, kid[i], 0, true), 0, "add");
		check_kid_counts();
		check_visits();
	}
	/* every seventh moved to the far end, every fifth made the newest */
	for (i = 0; i < n; i += 7)
		expect(memtopo_region_set_address(kid[i], (n + i) * 0x100), 0, "move");
	for (i = 0; i < n; i += 5)
		expect(memtopo_region_set_priority(kid[i], 1), 0, "priority");
	for (i = 0; i < n; i++) {
		expect(memtopo_region_del_subregion(root, kid[i]), 0, "del");
		check_kid_counts();
		check_visits();
		check_visit(root, (i + 20) * 0x100, (i + 20) * 0x100 + 0x80);
		check_visit(root, (n + i) * 0x100 + 0x80, (n + i) * 0x100 + 0x80);
	}
	if (root->flags & MEMTOPO_RF_KIDS)
		FAIL("many: no children left, %u overlapping pairs counted",
		     (root->flags & MEMTOPO_RF_KIDS) >> MEMTOPO_RF_KIDS_SHIFT);
	/* counted from none again: two apart, then a third across both */
	expect(memtopo_region_add_subregion(root, 0, kid[0], 0, true), 0, "add");
	expect(memtopo_region_add_subregion(root, 0x2000, kid[1], 0, true), 0, "add");
	check_kid_counts();
	expect(memtopo_region_set_size(kid[2], 0x3000, false), 0, "size");
	expect(memtopo_region_add_subregion(root, 0x800, kid[2], 0, true), 0, "add");
	check_kid_counts();
	check_visits();
	if (((root->flags & MEMTOPO_RF_KIDS) >> MEMTOPO_RF_KIDS_SHIFT) != 2)
		FAIL("many: a child across two others counted %u overlapping pairs",
		     (root->flags & MEMTOPO_RF_KIDS) >> MEMTOPO_RF_KIDS_SHIFT);
	memtopo_ctx_put(ctx);
	rcu_barrier();
	if (shim_live_allocs)
		FAIL("many: %ld allocations leaked", shim_live_allocs);
}

/*
 * A region destroyed while kept views may show it: every kept view is
 * forgotten, none is left to show the freed region, and history resumes,
 * up to the most with the bound by the view's size lifted.
 */
static void diff_forget_pass(void)
{
	struct memtopo_region_info ri = { .kind = MEMTOPO_CONTAINER, .name = "root",
					  .size_is_2_64 = true };
	struct memtopo_region_info gi = { .kind = MEMTOPO_IO, .name = "gone", .size = 0x1000 };
	struct memtopo_region *root, *gone, *other;
	struct memtopo_space *as, *as2;
	u64 before;
	int k;

	ctx = memtopo_ctx_create("forget");
	root = memtopo_region_create(ctx, &ri);
	gone = memtopo_region_create(ctx, &gi);
	other = memtopo_region_create(ctx, &gi);
	as = memtopo_space_create(ctx, "a", root);
	as2 = memtopo_space_create(ctx, "b", root);
	expect(memtopo_region_add_subregion(root, 0x1000, gone, 0, false), 0, "add");
	expect(memtopo_region_add_subregion(root, 0x4000, other, 0, false), 0, "add");
	before = as->view->generation;
	expect(memtopo_region_del_subregion(root, gone), 0, "del");
	memtopo_ctx_lock(ctx);
	if (!memtopo_history_find(as, before) || !memtopo_history_depth(as2))
		FAIL("forget: views replaced before the destruction are not kept");
	memtopo_ctx_unlock(ctx);
	expect(memtopo_region_destroy(gone), 0, "destroy");
	memtopo_ctx_lock(ctx);
	if (memtopo_history_depth(as) || memtopo_history_depth(as2))
		FAIL("forget: views kept across a region's destruction");
	memtopo_ctx_unlock(ctx);
	memtopo_history_share = 0;
	for (k = 0; k < MEMTOPO_HISTORY_MAX + 2; k++)
		expect(memtopo_region_set_address(other, 0x4000 + (k % 2) * 0x1000), 0, "move");
	memtopo_history_share = MEMTOPO_HISTORY_SHARE;
	memtopo_ctx_lock(ctx);
	if (memtopo_history_depth(as) != MEMTOPO_HISTORY_MAX)
		FAIL("forget: %u views kept, not the most", memtopo_history_depth(as));
	memtopo_ctx_unlock(ctx);
	diff_checks++;
	memtopo_ctx_put(ctx);
	rcu_barrier();
	if (shim_live_allocs)
		FAIL("forget: %ld allocations leaked", shim_live_allocs);
}

/*
 * How many views a space keeps follows its view's size: after every
 * one-change commit, at least MEMTOPO_HISTORY_MIN, at most
 * MEMTOPO_HISTORY_MAX, and beyond the minimum no more bytes than
 * 1/memtopo_history_share of the published view.  A map of @leaves leaves
 * keeps only the minimum at the default share, more at 1/@share of its
 * view, all it may with the bound lifted (0); every one kept still gives
 * the difference to the current view.  Each commit toggles a leaf no
 * other commit of the pass toggled: two toggles of one leaf would cancel,
 * and a kept view equal to the current one has no difference to give.
 */
static int count_sections(void *opaque, const struct memtopo_section *s, bool add)
{
	(*(u64 *)opaque)++;
	return 0;
}

/*
 * What @old holds that @new does not, node by node (a group or chunk is
 * held if any group of @new points at it; a mid or page, at its position;
 * @none: the records of a view that has none): what keeping @old costs.
 */
static size_t held_alone_bytes(const struct memtopo_view *old, const struct memtopo_view *new,
			       const struct memtopo_chunk *none)
{
	/* the view's allocation has room for a splice's tmids, which a build leaves unused */
	size_t bytes = sizeof(*old) + (size_t)old->nr_tmids * sizeof(void *) +
		       (size_t)max(old->nr_groups, 1u) * (sizeof(void *) +
							  sizeof(*old->group_start) +
							  sizeof(*old->group_first) +
							  sizeof(*old->group_cfirst)) +
		       (old->tmids == old->tmids_room ? 0 : old->nr_tmids_room * sizeof(void *));
	u32 go, gn, jo, jn, m, p;
	bool held;

	for (go = 0; go < old->nr_groups; go++) {
		const struct memtopo_group *a = old->groups[go];

		for (held = false, gn = 0; gn < new->nr_groups && !held; gn++)
			held = new->groups[gn] == a;
		if (held)
			continue;
		bytes += sizeof(*a);
		for (jo = 0; jo < a->nr_chunks; jo++) {
			for (held = false, gn = 0; gn < new->nr_groups && !held; gn++)
				for (jn = 0; jn < new->groups[gn]->nr_chunks && !held; jn++)
					held = new->groups[gn]->chunks[jn] == a->chunks[jo];
			bytes += held ? 0 : sizeof(struct memtopo_chunk);
		}
	}
	for (m = 0; m < old->nr_tmids; m++) {
		const struct memtopo_tmid *mid = old->tmids[m];
		const struct memtopo_tmid *nm = m < new->nr_tmids ? new->tmids[m] : NULL;

		if (mid == nm)
			continue;
		bytes += sizeof(*mid);
		for (p = 0; p < MEMTOPO_TMID_PAGES; p++)
			if (mid->page[p] && (!nm || nm->page[p] != mid->page[p]))
				bytes += sizeof(struct memtopo_tpage);
	}
	if (old->trec != new->trec && old->trec != none)
		bytes += sizeof(struct memtopo_trec);
	return bytes;
}

static void history_share_pass(unsigned long leaves, unsigned int share, int rounds)
{
	struct memtopo_region_info ri = { .kind = MEMTOPO_CONTAINER, .name = "root",
					  .size_is_2_64 = true };
	const unsigned int shares[] = { MEMTOPO_HISTORY_SHARE, share, 0 };
	u32 most[ARRAY_SIZE(shares)] = {}, depth;
	struct memtopo_region *root, **leaf = calloc(leaves, sizeof(*leaf));
	u64 *gens = calloc(ARRAY_SIZE(shares) * rounds + 2, sizeof(*gens));
	bool *toggled = calloc(leaves, sizeof(*toggled));
	const struct memtopo_chunk *none;
	struct memtopo_space *as;
	int p, r, nr_gens = 0;

	if (!leaf || !gens || !toggled || ARRAY_SIZE(shares) * rounds > leaves / 2)
		FAIL("history share: %lu leaves for %zu commits", leaves,
		     ARRAY_SIZE(shares) * rounds);
	ctx = memtopo_ctx_create("share");
	root = memtopo_region_create(ctx, &ri);
	as = memtopo_space_create(ctx, "share", root);
	gens[nr_gens++] = as->view->generation;
	none = as->view->trec;
	add_page_leaves(root, leaf, leaves, "history share");
	gens[nr_gens++] = as->view->generation;
	for (p = 0; p < (int)ARRAY_SIZE(shares); p++) {
		memtopo_history_share = shares[p];
		for (r = 0; r < rounds; r++) {
			const struct memtopo_view *v, *old, *was = as->view;
			size_t bytes, bound, before = memtopo_history_bytes(as);
			u32 was_depth = memtopo_history_depth(as);
			struct memtopo_region *mr;
			unsigned long l;
			u64 n = 0;

			do
				l = rnd_below(leaves);
			while (toggled[l]);
			toggled[l] = true;
			mr = leaf[l];
			expect(memtopo_region_set_enabled(mr, !memtopo_region_enabled(mr)), 0,
			       "set_enabled");
			memtopo_ctx_lock(ctx);
			v = memtopo_space_view_locked(as);
			if (v->generation == gens[nr_gens - 1])
				FAIL("history share: a commit published nothing");
			gens[nr_gens++] = v->generation;
			depth = memtopo_history_depth(as);
			bytes = memtopo_history_bytes(as);
			/* unbounded, none dropped yet: the view just kept is charged exactly */
			if (!shares[p] && depth == was_depth + 1 &&
			    bytes - before != held_alone_bytes(was, v, none))
				FAIL("history share: a kept view charged %zu bytes, holds %zu",
				     bytes - before, held_alone_bytes(was, v, none));
			bound = shares[p] ? memtopo_view_bytes(v) / shares[p] : SIZE_MAX;
			most[p] = max(most[p], depth);
			if (depth < MEMTOPO_HISTORY_MIN || depth > MEMTOPO_HISTORY_MAX ||
			    depth >= nr_gens)
				FAIL("history share 1/%u: %u views kept", shares[p], depth);
			if (depth > MEMTOPO_HISTORY_MIN && bytes > bound)
				FAIL("history share 1/%u: %u views of %zu bytes kept, %zu allowed",
				     shares[p], depth, bytes, bound);
			/* the oldest kept: one pointer-shared walk away from the current */
			old = memtopo_history_find(as, gens[nr_gens - 1 - depth]);
			if (!old || memtopo_view_diff(old, v, count_sections, &n) || !n)
				FAIL("history share 1/%u: no difference from the oldest of %u",
				     shares[p], depth);
			memtopo_ctx_unlock(ctx);
		}
	}
	memtopo_history_share = MEMTOPO_HISTORY_SHARE;
	if (most[0] != MEMTOPO_HISTORY_MIN || most[1] <= MEMTOPO_HISTORY_MIN ||
	    most[1] >= MEMTOPO_HISTORY_MAX || most[2] != MEMTOPO_HISTORY_MAX)
		FAIL("history share: at most %u / %u / %u views kept at 1/%u, 1/%u, unbounded",
		     most[0], most[1], most[2], MEMTOPO_HISTORY_SHARE, share);
	diff_checks++;
	memtopo_ctx_put(ctx);
	free(leaf);
	free(gens);
	free(toggled);
	rcu_barrier();
	if (shim_live_allocs)
		FAIL("history share: %ld allocations leaked", shim_live_allocs);
}

/*
 * A commit of two windows far apart splices twice and drops the view
 * between: the view it publishes differs from the one before in the
 * direct table's mids of both windows, and each view that goes must free
 * the mids it alone held, in either window (a leak, or a mid freed while
 * a view holds it, otherwise).
 */
static void mid_span_pass(unsigned long leaves)
{
	struct memtopo_region_info ri = { .kind = MEMTOPO_CONTAINER, .name = "root",
					  .size_is_2_64 = true };
	struct memtopo_region *root, **leaf = calloc(leaves, sizeof(*leaf));
	struct memtopo_space *as;
	int r;

	if (!leaf)
		FAIL("mid span: no memory");
	ctx = memtopo_ctx_create("mid span");
	root = memtopo_region_create(ctx, &ri);
	as = memtopo_space_create(ctx, "mid span", root);
	add_page_leaves(root, leaf, leaves, "mid span");
	if (as->view->nr_tmids < 3)
		FAIL("mid span: %u mids", as->view->nr_tmids);
	for (r = 0; r < 2 * MEMTOPO_HISTORY_MAX; r++) {
		memtopo_transaction_begin(ctx);
		expect(memtopo_region_set_enabled(leaf[0], r & 1), 0, "set_enabled");
		expect(memtopo_region_set_enabled(leaf[leaves - 1], r & 1), 0, "set_enabled");
		expect(memtopo_transaction_commit(ctx), 0, "commit");
		check_view_tree(as->view, 0);
	}
	memtopo_ctx_put(ctx);
	free(leaf);
	rcu_barrier();
	if (shim_live_allocs)
		FAIL("mid span: %ld allocations leaked", shim_live_allocs);
}

/*
 * A slot's code says what the entry holding its first address ends with
 * (an exact slot: at the slot's end), so a splice that keeps the slots of
 * the entries its change left alone (memtopo_table_remap()) must still
 * rewrite the slots of the entry before the change, whose end the next
 * start is.  Here a region fills a slot exactly until one laid over it
 * just past the slot moves a little further: the entry, the same region
 * at the same offset and index, now ends past the slot, which can no
 * longer say its end.
 */
static void table_reach_pass(void)
{
	struct memtopo_region_info li = { .kind = MEMTOPO_RAM, .name = "l", .size = 0x10000 };
	struct memtopo_region *root, *big, *mr;
	struct memtopo_section sec;
	struct memtopo_space *as;
	u64 base, slot, unit;
	u32 i, k, s;
	u16 t;

	root = pass_root("table reach", &as);
	memtopo_transaction_begin(ctx);
	/* every 64th leaf left out: a hole of about four slots after the one before */
	for (i = 0; i < 4000; i++) {
		if (i % 64 == 63)
			continue;
		mr = memtopo_region_create(ctx, &li);
		if (IS_ERR(mr) || memtopo_region_add_subregion(root, i * 0x40000ULL, mr, 0, false))
			FAIL("table reach: build");
	}
	expect(memtopo_transaction_commit(ctx), 0, "commit");
	slot = 1ULL << as->view->tshift;
	/* such a hole early in its chunk, so that the entries stay in one chunk */
	for (i = 2000 / 64 * 64 + 62; i < 4000; i += 64) {
		memtopo_view_entry(as->view, view_find(as->view, i * 0x40000ULL + 0x10000), &k);
		if (k >= 16 && k < 100)
			break;
	}
	base = (i * 0x40000ULL + 0x10000 + slot - 1) & ~(slot - 1);
	unit = slot / 16;
	if (!as->view->tslots || unit < 0x10 || i >= 4000 ||
	    base + 2 * slot > (i + 2) * 0x40000ULL)
		FAIL("table reach: %u slots of %#llx bytes", as->view->tslots,
		     (unsigned long long)slot);
	s = base >> as->view->tshift;
	memtopo_transaction_begin(ctx);
	li.size = 2 * slot;
	big = memtopo_region_create(ctx, &li);
	li.size = unit;
	mr = memtopo_region_create(ctx, &li);
	if (IS_ERR(big) || IS_ERR(mr) || memtopo_region_add_subregion(root, base, big, 0, true) ||
	    memtopo_region_add_subregion(root, base + slot, mr, 1, true))
		FAIL("table reach: the slot's regions");
	expect(memtopo_transaction_commit(ctx), 0, "commit");
	check_view_tree(as->view, 0);
	t = view_tslot(as->view, s);
	if (!memtopo_tslot_chunk(t) || memtopo_tslot_form(t) != MEMTOPO_TSLOT_EXACT)
		FAIL("table reach: the slot the region fills holds %#x", t);
	expect(memtopo_region_set_address(mr, base + slot + unit), 0, "set_address");
	check_view_tree(as->view, 1);
	t = view_tslot(as->view, s);
	rcu_read_lock();
	if (memtopo_space_lookup(as, base, &sec) || sec.mr != big ||
	    sec.last != base + slot + unit - 1)
		FAIL("table reach: the region before the one moved ends at %#llx (slot %#x)",
		     (unsigned long long)sec.last, t);
	rcu_read_unlock();
	memtopo_ctx_put(ctx);
	rcu_barrier();
	if (shim_live_allocs)
		FAIL("table reach: %ld allocations leaked", shim_live_allocs);
}

/*
 * A leaf (of @leaves, leaf l at @at(l)) starting a chunk of @v after the
 * first, picked at random among a few tries (a chunk may start with a
 * hole, or a moved leaf), or leaf 0: a change to it alone makes the
 * splice take the chunk before in (the entry before the window must be
 * its to merge with) and rebuild both over the same addresses.
 */
static unsigned long chunk_first_leaf(const struct memtopo_view *v, unsigned long leaves,
				      u64 (*at)(unsigned long l))
{
	unsigned long lo, hi, l;
	int tries;
	u64 start;

	for (tries = 0; tries < 16 && v->nr_chunks > 1; tries++) {
		start = memtopo_view_chunk(v, 1 + rnd_below(v->nr_chunks - 1), NULL)->starts[0];
		for (lo = 0, hi = leaves; lo + 1 < hi;) {
			l = (lo + hi) / 2;
			if (at(l) <= start)
				lo = l;
			else
				hi = l;
		}
		if (at(lo) == start)
			return lo;
	}
	return 0;
}

/*
 * Splices that keep the table's slots outside their change
 * (memtopo_table_remap()): each commit a leaf moved a page up or back (the
 * chunk's count changes and the indexes past the change move), toggled,
 * moved far, or made read-only or writable again (with @firsts, the leaf
 * starting a chunk picked at random), and every slot of the table checked
 * after it, not a sample: a slot left naming the entry it named before the
 * change is wrong only near it.  Leaf @l of @leaves, @size bytes, sits at @at(l);
 * the map is built one commit an add.
 */
static void table_remap_run(const char *name, unsigned long leaves, u64 size,
			    u64 (*at)(unsigned long l), u32 rounds, bool firsts)
{
	struct memtopo_region *root, *mr, **leaf = calloc(leaves, sizeof(*leaf));
	u8 *ro = calloc(leaves, 1);
	struct memtopo_space *as;
	unsigned long l;
	u32 r;

	if (!leaf || !ro)
		FAIL("%s: no memory", name);
	root = pass_root(name, &as);
	for (l = 0; l < leaves; l++) {
		struct memtopo_region_info li = {
			.kind = MEMTOPO_RAM, .name = "l", .size = size,
		};

		leaf[l] = memtopo_region_create(ctx, &li);
		if (IS_ERR(leaf[l]) || memtopo_region_add_subregion(root, at(l), leaf[l], 0, true))
			FAIL("%s: build", name);
	}
	if (!as->view->tslots)
		FAIL("%s: %u entries and no table", name, as->view->nr);
	table_check_all = true;
	for (r = 0; r < rounds; r++) {
		l = rnd_below(leaves);
		mr = leaf[l];
		switch (r % 4) {
		case 0:
			expect(memtopo_region_set_enabled(mr, !memtopo_region_enabled(mr)), 0,
			       "set_enabled");
			break;
		case 1:
			memtopo_region_set_address(mr, at(l) + rnd_below(2) * 0x1000);
			break;
		case 2:
			memtopo_region_set_address(mr, (1ULL << 40) + at(l));
			break;
		default:
			if (firsts)
				l = chunk_first_leaf(as->view, leaves, at);
			expect(memtopo_region_set_readonly(leaf[l], ro[l] ^= 1), 0,
			       "set_readonly");
		}
		check_view_table(as->view, r);
	}
	table_check_all = false;
	check_view_tree(as->view, r);
	expect_full_render(as->view, root, name, 0);
	memtopo_ctx_put(ctx);
	free(leaf);
	free(ro);
	rcu_barrier();
	if (shim_live_allocs)
		FAIL("%s: %ld allocations leaked", name, shim_live_allocs);
}

/*
 * Each leaf over the next one's first page: chunks come and go at the
 * view's end, and the pages' lists keep addresses of chunks freed since,
 * which new chunks may take again.
 */
static u64 table_remap_at(unsigned long l)
{
	return l * 0x2000;
}

/*
 * Leaves a MiB apart, then a cluster eight entries to a slot: a table page
 * there meets about 13 chunks, more than its list names
 * (MEMTOPO_TPAGE_CHUNKS), so a splice's refill finds the list full and
 * compacts it.  Made read-only and back, a leaf starting a chunk has the
 * splice rebuild that chunk and the one before over the same addresses,
 * two chunks remapped at once.
 */
#define TABLE_SPREAD	4000

static u64 table_crowd_at(unsigned long l)
{
	return l < TABLE_SPREAD ? l * 0x100000ULL :
	       TABLE_SPREAD * 0x100000ULL + (l - TABLE_SPREAD) * 0x10000;
}

/*
 * A commit of windows in groups far apart splices once a window, and the
 * views between are released from the middle of their chain: each hands
 * its spans on, so the view published still says, by spans, which nodes
 * of the one before it replaced (a release of that view, and its charge
 * as a kept view, then cost what the commit changed, not a walk of both
 * indexes).  Windows in one group, or more than a view keeps spans for,
 * clear them, and the release walks.  Either way each kept view is
 * charged exactly the bytes it alone holds, and once the kept views are
 * dropped, oldest first by their spans, the published view is whole and
 * nothing leaked.
 */
#define SPAN_LEAVES	40000

static void span_handoff_pass(void)
{
	/* the leaves' groups each window is in: apart, then one group, then too many */
	static const u8 kinds[][6] = {
		{ 2, 0, 3 }, { 3, 0, 1, 3 }, { 4, 0, 1, 2, 3 }, { 2, 0, 2 },
		{ 2, 0, 0 }, { 5, 0, 1, 2, 3, 0 },
	};
	struct memtopo_region *root, *mr, **leaf = calloc(SPAN_LEAVES, sizeof(*leaf));
	unsigned long handed = 0, cleared = 0;
	const struct memtopo_chunk *none;
	struct memtopo_space *as;
	unsigned long first[4];
	u32 r, w, groups;

	if (!leaf)
		FAIL("span handoff: no memory");
	root = pass_root("span handoff", &as);
	add_page_leaves(root, leaf, SPAN_LEAVES, "span handoff");
	groups = as->view->nr_groups;
	/* each group's first leaf; the last group holds 4000 at least */
	for (w = 0; w < 4; w++)
		first[w] = w < groups ? as->view->group_start[w] / 0x2000 : 0;
	if (groups != 4 || SPAN_LEAVES - first[3] < 4000)
		FAIL("span handoff: %u groups, the last from leaf %lu", groups, first[3]);
	none = as->view->trec;
	memtopo_history_share = 0;
	for (r = 0; r < 4 * ARRAY_SIZE(kinds); r++) {
		const u8 *kind = kinds[r % ARRAY_SIZE(kinds)];
		const struct memtopo_view *was = as->view, *v;
		size_t before = memtopo_history_bytes(as), held;
		u32 depth = memtopo_history_depth(as);
		bool apart = true;

		memtopo_transaction_begin(ctx);
		for (w = 0; w < kind[0]; w++) {
			/* inside the group, windows of one group 1000 leaves apart */
			unsigned long l = first[kind[1 + w]] + 3000 + 8 * r;
			u32 o;

			for (o = 0; o < w; o++) {
				l += kind[1 + o] == kind[1 + w] ? 1000 : 0;
				apart = apart && kind[1 + o] != kind[1 + w];
			}
			mr = leaf[l];
			expect(memtopo_region_set_enabled(mr, !memtopo_region_enabled(mr)), 0,
			       "set_enabled");
		}
		expect(memtopo_transaction_commit(ctx), 0, "commit");
		memtopo_ctx_lock(ctx);
		v = memtopo_space_view_locked(as);
		if (memtopo_history_depth(as) != depth + 1 || v->generation == was->generation)
			FAIL("span handoff round %u: %u views kept after %u", r,
			     memtopo_history_depth(as), depth);
		held = held_alone_bytes(was, v, none);
		if (memtopo_history_bytes(as) - before != held)
			FAIL("span handoff round %u: %u windows, a kept view charged %zu for %zu",
			     r, kind[0], memtopo_history_bytes(as) - before, held);
		/* the groups' windows apart and no more than a view keeps: handed on */
		if (apart && kind[0] <= MEMTOPO_VIEW_SPANS &&
		    (!memtopo_view_spliced_from(v, was) || v->nr_spans != kind[0]))
			FAIL("span handoff round %u: %u windows in groups apart, %u spans kept",
			     r, kind[0], memtopo_view_spliced_from(v, was) ? v->nr_spans : 0);
		handed += memtopo_view_spliced_from(v, was);
		cleared += !memtopo_view_spliced_from(v, was);
		memtopo_ctx_unlock(ctx);
		check_view_tree(v, r);
	}
	/* drop the kept views, oldest first: each releases by the spans after it */
	memtopo_history_share = MEMTOPO_HISTORY_SHARE;
	for (r = 0; r < MEMTOPO_HISTORY_MAX; r++)
		expect(memtopo_region_set_enabled(leaf[r], !memtopo_region_enabled(leaf[r])), 0,
		       "set_enabled");
	rcu_barrier();
	check_view_tree(as->view, r);
	expect_full_render(as->view, root, "span handoff", 0);
	printf("difftest: span handoff: %u groups, %lu commits kept spans, %lu cleared them\n",
	       groups, handed, cleared);
	if (!cleared)
		FAIL("span handoff: no commit cleared its spans");
	memtopo_ctx_put(ctx);
	free(leaf);
	rcu_barrier();
	if (shim_live_allocs)
		FAIL("span handoff: %ld allocations leaked", shim_live_allocs);
}

/*
 * What a commit that publishes allocates, the published view keeps: the
 * render's working memory (struct memtopo_render, the splice's list of
 * chunks included) and the commit's own (struct memtopo_windows, the
 * plans) are kept from one commit to the next, so that a commit does not
 * take them from the allocator and give them back (at 10^6 entries the
 * splice's list then came from a new slab at every commit, render.c).
 * After a few commits to size them, every one-change commit of a big map
 * (moves inside and across chunks and groups, disables and enables, each
 * its own transaction) frees none of the objects it allocated, at once or
 * after a grace period, but one that throws away the view it built: its
 * content was the old view's (a disabled leaf moved), or a repack replaced
 * it.  A full render does give back what it took above the kept size
 * (MEMTOPO_SCRATCH_KEEP): not these commits' case.
 */
#define CHURN_LEAVES	20000
#define CHURN_WARM	64
#define CHURN_COMMITS	3000

static void commit_churn_pass(void)
{
	struct memtopo_region *root, **leaf = calloc(CHURN_LEAVES, sizeof(*leaf));
	unsigned long i, most = 0, windowed = 0, thrown = 0, between = 0;
	struct memtopo_space *as;

	if (!leaf)
		FAIL("churn: no memory");
	root = pass_root("churn", &as);
	add_page_leaves(root, leaf, CHURN_LEAVES, "churn");
	if (!as->view->tslots || as->view->nr_groups < 2)
		FAIL("churn: %u entries in %u groups, %u slots: not a big map", as->view->nr,
		     as->view->nr_groups, as->view->tslots);
	for (i = 0; i < CHURN_WARM + CHURN_COMMITS; i++) {
		struct memtopo_region *mr = leaf[rnd_below(CHURN_LEAVES)];
		bool on = memtopo_region_enabled(mr);
		u64 gap = (2 * rnd_below(CHURN_LEAVES) + 1) * 0x1000;
		u64 full, repacks, gen = as->view->generation;
		const struct memtopo_window *root_windows;
		u32 windows;
		struct shim_watch w;
		bool kept;

		memtopo_transaction_begin(ctx);
		if (i % 3)
			expect(memtopo_region_set_address(mr, gap), 0, "set_address");
		else
			expect(memtopo_region_set_enabled(mr, !on), 0, "set_enabled");
		full = ctx->stat_full_renders;
		repacks = ctx->stat_repacks;
		/* the root's windows, merged: what the commit splices one by one */
		memtopo_ctx_lock(ctx);
		windows = memtopo_windows_of(ctx, root, &root_windows);
		memtopo_ctx_unlock(ctx);
		shim_watch_begin();
		expect(memtopo_transaction_commit(ctx), 0, "commit");
		w = shim_watch_end();
		if (i < CHURN_WARM)
			continue;
		most = max(most, w.allocs);
		windowed += ctx->stat_full_renders == full;
		/*
		 * the view it built is the one published, or put; each window
		 * past the first is spliced into the view the one before made
		 */
		kept = as->view->generation != gen && ctx->stat_repacks == repacks;
		thrown += !kept;
		between += w.deferred;
		if (w.freed || (kept && w.deferred + 1 > windows))
			FAIL("churn: commit %lu (%s) freed %lu of its %lu objects, %lu by RCU",
			     i, ctx->stat_full_renders == full ? "windowed" : "a full render",
			     w.freed, w.allocs, w.deferred);
	}
	if (windowed < CHURN_COMMITS * 9 / 10)
		FAIL("churn: %lu of %u commits windowed", windowed, CHURN_COMMITS);
	printf("difftest: churn: %u commits of a %u-entry view, %lu windowed, up to %lu objects",
	       CHURN_COMMITS, as->view->nr, windowed, most);
	printf(" allocated each, none freed but %lu views (between windows, or put by %lu)\n",
	       between, thrown);
	check_view_tree(as->view, 0);
	expect_full_render(as->view, root, "churn", 0);
	memtopo_ctx_put(ctx);
	free(leaf);
	rcu_barrier();
	if (shim_live_allocs)
		FAIL("churn: %ld allocations leaked", shim_live_allocs);
}

static void scratch_pass(unsigned long leaves)
{
	struct memtopo_region_info ri = { .kind = MEMTOPO_CONTAINER, .name = "root",
					  .size_is_2_64 = true };
	struct memtopo_region *root, *mr;
	struct memtopo_space *as;
	unsigned long i, nth, max;
	size_t kept, before;

	ctx = memtopo_ctx_create("scratch");
	root = memtopo_region_create(ctx, &ri);
	as = memtopo_space_create(ctx, "as", root);
	memtopo_transaction_begin(ctx);
	for (i = 0; i < leaves; i++) {
		struct memtopo_region_info li = { .kind = MEMTOPO_RAM, .name = "leaf",
						  .size = 0x1000 };

		mr = memtopo_region_create(ctx, &li);
		if (IS_ERR(mr) || memtopo_region_add_subregion(root, 2 * i * 0x1000, mr, 0, false))
			FAIL("scratch: build");
	}
	expect(memtopo_transaction_commit(ctx), 0, "commit");
	kept = memtopo_render_scratch_bytes(ctx->scratch);
	if (as->view->nr_ranges != leaves || kept > MEMTOPO_SCRATCH_KEEP)
		FAIL("scratch: %zu bytes kept after a full render of %lu leaves", kept, leaves);
	/* a windowed commit keeps what it used */
	expect(memtopo_region_set_address(mr, 2 * i * 0x1000), 0, "set_address");
	if (!memtopo_render_scratch_bytes(ctx->scratch))
		FAIL("scratch: a windowed commit kept no render memory");
	/* windowed commits failing at each allocation leave the view whole */
	for (nth = 1; nth < 40; nth++) {
		shim_fail_nth = nth;
		memtopo_region_set_address(mr, (2 * i + nth % 3) * 0x1000);
		shim_fail_nth = 0;
		expect(memtopo_region_set_address(mr, (2 * i + 7) * 0x1000), 0, "set_address");
		expect_full_render(as->view, root, "scratch fail-nth splice", nth);
	}
	/* full renders that fail part-way give it back too */
	for (nth = 1; nth < 40; nth++) {
		memtopo_ctx_lock(ctx);
		shim_fail_nth = nth;
		memtopo_ctx_changed(ctx);
		shim_fail_nth = 0;
		memtopo_ctx_unlock(ctx);
		kept = memtopo_render_scratch_bytes(ctx->scratch);
		if (kept > MEMTOPO_SCRATCH_KEEP)
			FAIL("scratch: %zu bytes kept after fail-nth %lu", kept, nth);
	}
	memtopo_ctx_lock(ctx);
	expect(memtopo_ctx_changed(ctx), 0, "full commit");
	/* the scratch a context keeps is charged to its budget, all of it */
	before = memtopo_ctx_mem_used(ctx);
	memtopo_render_scratch_trim(ctx->scratch);
	if (memtopo_ctx_mem_used(ctx) != before)
		FAIL("scratch: trimming a kept scratch changed the budget");
	/* a render that needs more than the budget allows fails, changing nothing */
	max = memtopo_ctx_mem_max;
	memtopo_ctx_mem_max = before + MEMTOPO_SCRATCH_KEEP;
	expect(memtopo_ctx_changed(ctx), -ENOSPC, "full commit over the budget");
	memtopo_ctx_mem_max = max;
	if (memtopo_ctx_mem_used(ctx) > before + MEMTOPO_SCRATCH_KEEP)
		FAIL("scratch: %zu bytes still charged after a refused render",
		     memtopo_ctx_mem_used(ctx) - before);
	expect_full_render(as->view, root, "scratch over budget", 0);
	expect(memtopo_ctx_changed(ctx), 0, "full commit");
	memtopo_ctx_unlock(ctx);
	expect_full_render(as->view, root, "scratch", 0);
	memtopo_ctx_put(ctx);
	rcu_barrier();
	if (shim_live_allocs)
		FAIL("scratch: %ld allocations leaked", shim_live_allocs);
}

/* Chunks of @v that @old does not hold: what a splice made. */
static u32 chunks_made(const struct memtopo_view *old, const struct memtopo_view *v)
{
	u32 c, o = 0, made = 0;

	for (c = 0; c < v->nr_chunks; c++) {
		const struct memtopo_chunk *chunk = memtopo_view_chunk(v, c, NULL);

		while (o < old->nr_chunks &&
		       memtopo_view_chunk(old, o, NULL)->starts[0] < chunk->starts[0])
			o++;
		made += o == old->nr_chunks || memtopo_view_chunk(old, o, NULL) != chunk;
	}
	return made;
}

/*
 * Splices keep a map dense: built one commit per leaf, in random order (so
 * that chunks fill up and spill into their neighbours) or in address order
 * (every leaf added at the end), a map's chunks are at least 123/128 full
 * on average but for two chunks' worth of slack, and every chunk a quarter
 * full: splices spreading to 15/16 leave the random-order map 96.8-97.4%
 * full (263-265 chunks over four seeds), to 7/8 94.3% (272), and the
 * bound (268) sits between.  Then commits that spill a full
 * chunk into many neighbours, failing at each allocation in turn: each
 * failure (-ENOMEM, nothing published) leaves the view, its generation
 * and every node exactly as they were.
 */
static void dense_pass(unsigned long leaves, bool in_order)
{
	struct memtopo_region_info ri = { .kind = MEMTOPO_CONTAINER, .name = "root",
					  .size_is_2_64 = true };
	struct memtopo_region *root, **leaf = calloc(leaves, sizeof(*leaf));
	u64 *slot = calloc(leaves, sizeof(*slot));
	unsigned long i, spills = 0, failed = 0, nth, least = ULONG_MAX;
	u32 nr_built, chunks_built;
	struct memtopo_space *as;
	struct memtopo_view *v;

	ctx = memtopo_ctx_create("dense");
	root = memtopo_region_create(ctx, &ri);
	as = memtopo_space_create(ctx, "dense", root);
	for (i = 0; i < leaves; i++)
		slot[i] = i;
	for (i = leaves - 1; i > 0 && !in_order; i--) {
		u64 j = rnd_below(i + 1), t = slot[i];

		slot[i] = slot[j];
		slot[j] = t;
	}
	for (i = 0; i < leaves; i++) {
		struct memtopo_region_info li = { .kind = MEMTOPO_RAM, .name = "l",
						  .size = 0x1000 };

		leaf[i] = memtopo_region_create(ctx, &li);
		/* every other page: a hole between leaves */
		if (IS_ERR(leaf[i]) ||
		    memtopo_region_add_subregion(root, 4 * slot[i] * 0x1000, leaf[i], 0, false))
			FAIL("dense: build");
	}
	v = as->view;
	check_view_tree(v, 0);
	expect_full_render(v, root, "dense build", 0);
	nr_built = v->nr;
	chunks_built = v->nr_chunks;
	if ((u64)nr_built * 128 < ((u64)chunks_built - 2) * MEMTOPO_CHUNK_ENTRIES * 123)
		FAIL("dense: %u entries in %u chunks", nr_built, chunks_built);

	/*
	 * A leaf in the middle of a hole splits it: two entries more, which a
	 * full chunk spills.  Each place is tried failing at the 1st
	 * allocation, the 2nd, ... until the commit goes through: each
	 * failure must leave the published view as it was.
	 */
	for (i = 0; i < 400 && spills < 12; i++) {
		struct memtopo_region_info li = { .kind = MEMTOPO_RAM, .name = "s",
						  .size = 0x100 };
		u64 at = 4 * rnd_below(leaves) * 0x1000 + 0x2000;
		struct memtopo_view *old = as->view;
		u64 gen = old->generation;
		u32 nr = old->nr;
		int ret = -ENOMEM;

		/* the history may drop it once replaced: compared after */
		refcount_inc(&old->ref);

		for (nth = 1; ret; nth++) {
			struct memtopo_region *mr = memtopo_region_create(ctx, &li);

			if (IS_ERR(mr))
				FAIL("dense: create");
			shim_fail_nth = nth;
			ret = memtopo_region_add_subregion(root, at, mr, 0, false);
			shim_fail_nth = 0;
			if (!ret)
				break;
			if (ret != -ENOMEM || as->view != old || old->generation != gen ||
			    old->nr != nr)
				FAIL("dense: a failed spill (%d, nth %lu) changed the view", ret,
				     nth);
			check_view_tree(old, nth);
			expect(memtopo_region_destroy(mr), 0, "destroy");
			failed++;
		}
		if (chunks_made(old, as->view) >= 3)
			spills++;
		least = min(least, nth - 1);
		memtopo_ctx_lock(ctx);
		memtopo_view_put(old);
		memtopo_ctx_unlock(ctx);
		check_view_tree(as->view, i);
	}
	expect_full_render(as->view, root, "dense spills", i);
	/*
	 * Each new entry's commit allocates at least its view, the view's
	 * group index, and a copy of the group and the chunk it changes:
	 * each place failed at each of those.
	 */
	if (spills < 12 || least < 4)
		FAIL("dense: %lu spills, %lu failed commits, %lu at the place failed least",
		     spills, failed, least);
	printf("difftest: dense map: %u entries in %u chunks after %lu one-leaf commits%s; ",
	       nr_built, chunks_built, leaves, in_order ? " in address order" : "");
	printf("%lu spills, %lu failed commits left the view as it was\n", spills, failed);
	memtopo_ctx_put(ctx);
	free(leaf);
	free(slot);
	rcu_barrier();
	if (shim_live_allocs)
		FAIL("dense: %ld allocations leaked", shim_live_allocs);
}

/* Allocation failure at every point of a tree's build leaves no leak. */
static void fail_nth_pass(unsigned long trees)
{
	unsigned long t, nth;

	for (t = 0; t < trees; t++) {
		for (nth = 1; nth < 400; nth += 7) {
			struct memtopo_region_info info = { .kind = MEMTOPO_CONTAINER, .name = "c",
							    .size_is_2_64 = true };
			struct memtopo_region *root, *mr;
			struct memtopo_space *as;
			int i;

			ctx = memtopo_ctx_create("failnth");
			shim_fail_nth = nth;
			root = memtopo_region_create(ctx, &info);
			as = IS_ERR(root) ? NULL : memtopo_space_create(ctx, "as", root);
			for (i = 0; i < 20 && as && !IS_ERR(as); i++) {
				struct memtopo_region_info ri = {
					.kind = MEMTOPO_RAM, .name = "ram", .size = 0x1000,
				};

				mr = memtopo_region_create(ctx, &ri);
				if (IS_ERR(mr))
					continue;
				if (memtopo_region_add_subregion(root, i * 0x800, mr, i % 3, false))
					memtopo_region_destroy(mr);
			}
			shim_fail_nth = 0;
			/*
			 * A commit that failed left its change pending and the old
			 * views published; the next one must publish the tree as it
			 * is, exactly.
			 */
			if (as && !IS_ERR(as)) {
				memtopo_transaction_begin(ctx);
				memtopo_region_set_enabled(root, true);
				ctx->topology_dirty = true;
				expect(memtopo_transaction_commit(ctx), 0, "commit after fail-nth");
				expect_full_render(as->view, root, "fail-nth", nth);
			}
			memtopo_ctx_put(ctx);
			rcu_barrier();
			if (shim_live_allocs)
				FAIL("fail-nth %lu: %ld allocations leaked", nth, shim_live_allocs);
		}
	}
}

/*
 * Rollback: everything a failed transaction must leave as it was, as text
 * (every region with its children in render order and its parity state,
 * every space with its published view, the context's counters, what the
 * listener mirrors), so a rollback is checked byte for byte.
 */
static char snap_buf[1 << 16];
static size_t snap_len;

static __printf(1, 2) void snap_printf(const char *fmt, ...);
static void snap_printf(const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(snap_buf + snap_len, sizeof(snap_buf) - snap_len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(snap_buf) - snap_len)
		FAIL("snapshot too large");
	snap_len += n;
}

static char *snapshot(void)
{
	struct memtopo_region *mr, *child, *target;
	struct memtopo_space *as;
	unsigned long id;
	int i;

	snap_len = 0;
	snap_printf("regions %u spaces %u global %x iofds %u txn %u\n", ctx->nr_regions,
		    ctx->nr_spaces, ctx->global_dirty_reasons, memtopo_ctx_nr_ioeventfds(ctx),
		    ctx->txn_depth);
	/* an undone create gives its ID back: the next create gets the same */
	snap_printf("next region id %u space id %u\n", ctx->next_region_id, ctx->next_space_id);
	xa_for_each(&ctx->objects, id, mr) {
		struct memtopo_region_parity *p = mr->parity;

		/*
		 * Not the count of overlapping children: it is derived from the
		 * tree (printed below, and checked by check_kid_counts()), and
		 * past MEMTOPO_KIDS_MANY an undone attach leaves it there.
		 */
		snap_printf("r%lu k%u %s up%d @%llx +%llx f%x pr%d seq%llu", id, mr->kind,
			    mr->name, mr->parent ? (int)mr->parent->id : -1,
			    (unsigned long long)mr->addr, (unsigned long long)mr->size,
			    mr->flags & ~MEMTOPO_RF_KIDS,
			    mr->priority, (unsigned long long)mr->seq);
		target = memtopo_region_alias_target(mr);
		snap_printf(" al%d+%llx dl%x au%u su%u ref%u:", target ? (int)target->id : -1,
			    target ? (unsigned long long)mr->alias_offset : 0, mr->dirty_log_mask,
			    mr->alias_users, memtopo_region_space_users(mr),
			    refcount_read(&mr->ref));
		for (child = memtopo_region_first_child(mr); child;
		     child = memtopo_region_next_sibling(child))
			snap_printf(" c%u", child->id);
		if (p) {
			struct memtopo_iofd *fd;
			struct memtopo_coalesced_range *c;

			for (i = 0; i < MEMTOPO_DIRTY_CLIENTS; i++)
				if (p->dirty[i])
					snap_printf(" bitmap%d", i);
			/* an empty parity state (first use, then undone) is no state */
			if (p->vga_logging_count)
				snap_printf(" vga%u", p->vga_logging_count);
			list_for_each_entry(fd, &p->ioeventfds, link)
				snap_printf(" iofd@%llx/%u/%d/%llx/%p",
					    (unsigned long long)fd->offset, fd->size,
					    fd->match_data, (unsigned long long)fd->data,
					    (void *)fd->eventfd);
			list_for_each_entry(c, &p->coalesced, link)
				snap_printf(" coalesced@%llx+%llx", (unsigned long long)c->offset,
					    (unsigned long long)c->size);
		}
		snap_printf("\n");
	}
	list_for_each_entry(as, &ctx->spaces, link) {
		const struct memtopo_view *v = as->view;

		snap_printf("as%u root r%u view %p gen %llu nr %u iofds %u\n", as->id, as->root->id,
			    (const void *)v, (unsigned long long)v->generation, v->nr,
			    as->parity ? as->parity->nr_fds : 0);
	}
	for (i = 0; i < mirrors[0].n; i++)
		snap_printf("mirror %llx-%llx r%u\n", (unsigned long long)mirrors[0].r[i].start,
			    (unsigned long long)mirrors[0].r[i].last, mirrors[0].r[i].mr->id);
	snap_printf("log %u\n", ctx->undo.nr);
	return strdup(snap_buf);
}

static unsigned long rollbacks, rollback_rounds = 1500;

static void expect_same(const char *before, const char *what, unsigned long round)
{
	char *now = snapshot();

	rollbacks++;
	if (strcmp(before, now)) {
		fprintf(stderr, "before:\n%s\nafter:\n%s\n", before, now);
		FAIL("%s round %lu: a failed transaction changed the state", what, round);
	}
	free(now);
}

#define RB_MAX 24
static struct memtopo_region *rb_r[RB_MAX];
static int rb_n;
static struct memtopo_space *rb_as[4];
static int rb_nas;
/*
 * A table IOMMU and the space behind it, outside the random tree: its
 * mappings into rb_as[] are no transaction's, so they outlive an undo of
 * the space they lead to, whose ID the next space created gets.  Per IOVA
 * page, the serial of the space it was mapped into (0: unmapped).
 */
#define RB_IOVA_PAGES 16
static struct memtopo_region *rb_mmu;
static struct memtopo_space *rb_dma;
static u64 rb_map_serial[RB_IOVA_PAGES];
/* mappings checked after a round; of them leading nowhere; and into a reused ID */
static unsigned long rb_maps_checked, rb_maps_gone, rb_maps_reused;
static struct eventfd_ctx rb_efd[4];
/* which undo kind each successful mutation recorded (the op-kind table check) */
static unsigned long rb_kinds_seen;

static struct memtopo_region *rb_pick(void)
{
	return rb_n ? rb_r[rnd_below(rb_n)] : NULL;
}

/* The newest undo record, if @ret says the call changed something. */
static void rb_saw(int ret, u32 before, enum memtopo_undo_kind want, const char *what)
{
	u32 n = ctx->undo.nr;
	const struct memtopo_undo *u;

	if (ret && n != before)
		FAIL("%s failed (%d) but left an undo record", what, ret);
	if (ret || n == before)
		return;
	u = &ctx->undo.top->rec[ctx->undo.top->nr - 1];
	if (u->kind != want)
		FAIL("%s recorded undo kind %u, its table entry says %u", what, u->kind, want);
	rb_kinds_seen |= 1UL << want;
}

/* One uapi operation code or engine mutation, and the undo kind it records. */
struct rb_op {
	const char *name;
	u32 uapi_op;			/* MEMTOPO_OP_*, 0 for kernel-API-only changes */
	enum memtopo_undo_kind undo;
	int (*fn)(void);
};

static int rb_create(void)
{
	static const enum memtopo_kind kinds[] = {
		MEMTOPO_CONTAINER, MEMTOPO_RAM, MEMTOPO_ROM, MEMTOPO_ROM_DEVICE, MEMTOPO_IO,
		MEMTOPO_RAM_DEVICE, MEMTOPO_ALIAS,
	};
	struct memtopo_region_info info = { .name = "rb" };
	struct memtopo_region *mr;

	if (rb_n == RB_MAX)
		return -ENOSPC;
	info.kind = kinds[rnd_below(7)];
	info.size = 0x1000 * (1 + rnd_below(4));
	if (info.kind == MEMTOPO_ALIAS) {
		info.alias_target = rb_pick();
		info.alias_offset = rnd_below(0x2000);
	}
	mr = memtopo_region_create_locked(ctx, &info);
	if (IS_ERR(mr))
		return PTR_ERR(mr);
	rb_r[rb_n++] = mr;
	return 0;
}

/* Outside a transaction a destroy frees at once: forget the pointer. */
static int rb_destroy(void)
{
	int i = rb_n ? (int)rnd_below(rb_n) : -1, ret;

	if (i < 0)
		return -ENOENT;
	ret = memtopo_region_destroy_locked(rb_r[i]);
	if (!ret && !ctx->txn_depth)
		rb_r[i] = rb_r[--rb_n];
	return ret;
}

static int rb_add_sub(void)
{
	struct memtopo_region *p = rb_pick(), *c = rb_pick();

	return p && c ? memtopo_region_add_subregion_locked(p, rnd_below(0x8000), c,
							   (int)rnd_below(3) - 1, rnd_below(2))
		      : -ENOENT;
}

static int rb_del(void)
{
	struct memtopo_region *c = rb_pick();

	return c && c->parent ? memtopo_region_del_subregion_locked(c->parent, c) : -ENOENT;
}

static int rb_address(void)
{
	struct memtopo_region *mr = rb_pick();

	return mr ? memtopo_region_set_address_locked(mr, rnd_below(0x8000)) : -ENOENT;
}

static int rb_size(void)
{
	struct memtopo_region *mr = rb_pick();

	return mr ? memtopo_region_set_size_locked(mr, 0x800 * rnd_below(8), false) : -ENOENT;
}

static int rb_priority(void)
{
	struct memtopo_region *mr = rb_pick();

	return mr ? memtopo_region_set_priority_locked(mr, (int)rnd_below(3) - 1) : -ENOENT;
}

static int rb_alias_offset(void)
{
	struct memtopo_region *mr = rb_pick();

	return mr ? memtopo_region_set_alias_offset_locked(mr, rnd_below(0x2000)) : -ENOENT;
}

static int rb_enabled(void)
{
	struct memtopo_region *mr = rb_pick();

	return mr ? memtopo_region_set_enabled_locked(mr, rnd_below(2)) : -ENOENT;
}

static int rb_readonly(void)
{
	struct memtopo_region *mr = rb_pick();

	return mr ? memtopo_region_set_readonly_locked(mr, rnd_below(2)) : -ENOENT;
}

static int rb_nonvolatile(void)
{
	struct memtopo_region *mr = rb_pick();

	return mr ? memtopo_region_set_nonvolatile_locked(mr, rnd_below(2)) : -ENOENT;
}

static int rb_romd(void)
{
	struct memtopo_region *mr = rb_pick();

	return mr ? memtopo_region_set_romd_locked(mr, rnd_below(2)) : -ENOENT;
}

static int rb_dirty(void)
{
	struct memtopo_region *mr = rb_pick();

	return mr ? memtopo_region_set_dirty_log_locked(mr, rnd_below(3), rnd_below(2)) : -ENOENT;
}

static int rb_space_create(void)
{
	struct memtopo_region *mr = rb_pick();
	struct memtopo_space *as;

	if (!mr || rb_nas == 4)
		return -ENOENT;
	as = memtopo_space_create_locked(ctx, "rb", mr);
	if (IS_ERR(as))
		return PTR_ERR(as);
	rb_as[rb_nas++] = as;
	return 0;
}

static int rb_space_destroy(void)
{
	int i = rb_nas ? (int)rnd_below(rb_nas) : -1, ret;

	if (i < 0)
		return -ENOENT;
	ret = memtopo_space_destroy_locked(rb_as[i]);
	if (!ret && !ctx->txn_depth)
		rb_as[i] = rb_as[--rb_nas];
	return ret;
}

static int rb_ioeventfd(void)
{
	struct memtopo_region *mr = rb_pick();
	u64 off = 4 * rnd_below(8);
	struct eventfd_ctx *efd;

	if (!mr)
		return -ENOENT;
	efd = &rb_efd[off / 4 % 4];
	if (rnd_below(2))
		return memtopo_region_del_eventfd_locked(mr, off, 4, false, 0, efd);
	return memtopo_region_add_eventfd_locked(mr, off, 4, false, 0, efd);
}

static int rb_coalesced(void)
{
	struct memtopo_region *mr = rb_pick();
	u64 off = 0x100 * rnd_below(4);

	if (!mr)
		return -ENOENT;
	switch (rnd_below(3)) {
	case 0:
		return memtopo_region_add_coalescing_locked(mr, off, 0x100);
	case 1:
		return memtopo_region_del_coalescing_locked(mr, off, 0x100);
	default:
		return memtopo_region_clear_coalescing_locked(mr);
	}
}

/* one reason or two at a time: partial stops and starts of reasons already on */
static int rb_global(void)
{
	u32 reasons = BIT(rnd_below(3)) | (rnd_below(4) ? 0 : BIT(rnd_below(3)));

	if (rnd_below(2))
		return memtopo_global_dirty_log_stop_locked(ctx, reasons);
	return memtopo_global_dirty_log_start_locked(ctx, reasons);
}

/* counted VGA logging: a region may hold several references */
static int rb_vga_log(void)
{
	struct memtopo_region *mr = rb_pick();

	return mr ? memtopo_region_set_log_locked(mr, rnd_below(3), MEMTOPO_DIRTY_VGA) : -ENOENT;
}

static int rb_iommu_map(void)
{
	u32 p = rnd_below(RB_IOVA_PAGES);
	int i = rb_nas ? (int)rnd_below(rb_nas) : -1, ret;

	if (!rnd_below(3)) {
		ret = memtopo_iommu_unmap_locked(rb_mmu, p * MEMTOPO_IOMMU_PAGE_SIZE,
						 MEMTOPO_IOMMU_PAGE_SIZE);
		if (!ret)
			rb_map_serial[p] = 0;
		return ret;
	}
	if (i < 0)
		return -ENOENT;
	/* a space destroyed in the open transaction is refused: EINVAL */
	ret = memtopo_iommu_map_locked(rb_mmu, p * MEMTOPO_IOMMU_PAGE_SIZE,
				       MEMTOPO_IOMMU_PAGE_SIZE, rb_as[i], 0, MEMTOPO_IOMMU_RO);
	if (!ret)
		rb_map_serial[p] = memtopo_space_serial(rb_as[i]);
	return ret;
}

/*
 * What an ioeventfd listener on rb_as[0] was told, to compare with what
 * the published view shows: a commit that changes no range of a region
 * with a registration keeps the set without building it again, and this
 * is what says it kept the right one.
 */
struct rb_efd_seen {
	u64 addr, data;
	unsigned int size;
	bool match_data;
	void *eventfd;
};

#define RB_EFD_MAX 256
static struct rb_efd_seen rb_efd_told[RB_EFD_MAX], rb_efd_want[RB_EFD_MAX];
static u32 rb_efd_nr_told;
/* eventfd_add and eventfd_del calls, all told */
static unsigned long rb_efd_calls;
static struct memtopo_listener rb_efd_l;
/* sets compared, and of them how many held a registration */
static unsigned long rb_efd_checks, rb_efd_nonempty;

static int rb_efd_find(const struct rb_efd_seen *set, u32 n, const struct rb_efd_seen *e)
{
	u32 i;

	for (i = 0; i < n; i++)
		if (set[i].addr == e->addr && set[i].size == e->size &&
		    set[i].match_data == e->match_data && set[i].data == e->data &&
		    set[i].eventfd == e->eventfd)
			return i;
	return -1;
}

static void rb_efd_add(void *priv, const struct memtopo_section *s, u64 addr,
		       unsigned int size, bool match_data, u64 data, void *eventfd)
{
	struct rb_efd_seen e = { addr, data, size, match_data, eventfd };

	if (rb_efd_find(rb_efd_told, rb_efd_nr_told, &e) >= 0)
		FAIL("eventfd_add at %llx for a registration already told",
		     (unsigned long long)addr);
	if (rb_efd_nr_told == RB_EFD_MAX)
		FAIL("more than %d ioeventfds told", RB_EFD_MAX);
	rb_efd_told[rb_efd_nr_told++] = e;
	rb_efd_calls++;
}

static void rb_efd_del(void *priv, const struct memtopo_section *s, u64 addr,
		       unsigned int size, bool match_data, u64 data, void *eventfd)
{
	struct rb_efd_seen e = { addr, data, size, match_data, eventfd };
	int i = rb_efd_find(rb_efd_told, rb_efd_nr_told, &e);

	if (i < 0)
		FAIL("eventfd_del at %llx for a registration never told", (unsigned long long)addr);
	rb_efd_told[i] = rb_efd_told[--rb_efd_nr_told];
	rb_efd_calls++;
}

static const struct memtopo_listener_ops rb_efd_ops = {
	.eventfd_add = rb_efd_add, .eventfd_del = rb_efd_del,
};

/*
 * Every registration a range of the published view shows, computed from
 * the view and the regions as QEMU's address_space_update_ioeventfds()
 * does, each once: what the listener must have been told.
 */
static void rb_check_ioeventfds(const char *what, unsigned long round)
{
	const struct memtopo_view *v = rb_as[0]->view;
	struct memtopo_region_parity *p;
	struct memtopo_view_pos pos;
	struct memtopo_section s;
	struct memtopo_iofd *fd;
	u32 n = 0, i;

	for (memtopo_pos_walk(&pos, v); memtopo_pos_shown(&pos, &s); memtopo_pos_next_ahead(&pos)) {
		p = memtopo_parity_locked(s.mr);
		if (!p)
			continue;
		list_for_each_entry(fd, &p->ioeventfds, link) {
			u64 ro_last = s.offset + (s.last - s.start);
			u64 fd_last = fd->offset + (fd->size ? fd->size - 1 : 0);
			struct rb_efd_seen e;

			if (fd->offset > ro_last || fd_last < s.offset ||
			    (fd->offset < s.offset && s.offset - fd->offset > s.start))
				continue;
			e = (struct rb_efd_seen){ s.start + (fd->offset - s.offset), fd->data,
						  fd->size, fd->match_data, fd->eventfd };
			if (!fd->match_data)
				e.data = 0;
			if (rb_efd_find(rb_efd_want, n, &e) >= 0)
				continue;
			if (n == RB_EFD_MAX)
				FAIL("%s round %lu: more than %d ioeventfds shown", what, round,
				     RB_EFD_MAX);
			rb_efd_want[n++] = e;
		}
	}
	if (n != rb_efd_nr_told)
		FAIL("%s round %lu: the view shows %u ioeventfds, the listener was told of %u",
		     what, round, n, rb_efd_nr_told);
	for (i = 0; i < n; i++)
		if (rb_efd_find(rb_efd_told, rb_efd_nr_told, &rb_efd_want[i]) < 0)
			FAIL("%s round %lu: the ioeventfd at %llx shown was not told", what,
			     round, (unsigned long long)rb_efd_want[i].addr);
	rb_efd_checks++;
	rb_efd_nonempty += n > 0;
}

/*
 * One commit of more windows than a commit keeps, a full render: @l moved
 * one window further each time, and @r, unless NULL, moved to @to.  The
 * listener must be told exactly the registrations that changed: none when
 * @r stays, its one deletion and one addition when it moves.
 */
static void ioeventfd_full_render(struct memtopo_region *l, struct memtopo_region *r, u64 to,
				  const char *what)
{
	unsigned long calls = rb_efd_calls, want = r ? 2 : 0;
	u64 full = ctx->stat_full_renders, builds = memtopo_ctx_ioeventfd_set_builds(ctx);
	u32 k;

	memtopo_transaction_begin_locked(ctx);
	if (r)
		expect(memtopo_region_set_address_locked(r, to), 0, "move the registration");
	for (k = 0; k <= MEMTOPO_MAX_WINDOWS; k++)
		expect(memtopo_region_set_address_locked(l, 0x100000 + k * 0x10000ULL), 0,
		       "move a window further");
	expect(memtopo_transaction_commit_locked(ctx), 0, what);
	if (ctx->stat_full_renders == full)
		FAIL("ioeventfd sets: %s: the commit was not a full render", what);
	/* its view shares nothing with the last: built, not diffed whole */
	if (memtopo_ctx_ioeventfd_set_builds(ctx) != builds + 1)
		FAIL("ioeventfd sets: %s: %llu sets built, not 1", what,
		     (unsigned long long)(memtopo_ctx_ioeventfd_set_builds(ctx) - builds));
	rb_check_ioeventfds(what, 0);
	if (rb_efd_calls - calls != want)
		FAIL("ioeventfd sets: %s: %lu eventfd calls told, not %lu", what,
		     rb_efd_calls - calls, want);
}

/*
 * The cases of a kept ioeventfd set one by one, each followed by the
 * comparison of what a listener was told with what the view shows:
 * commits far from the registration, of one window and of two (kept: no
 * set built), one that moves only the end of its range (covered, then
 * uncovered: built), a commit failed after its prepare and the commit
 * after it, full renders that keep and that move the registration (built:
 * their views share nothing with the last), a registration seen through
 * an alias whose offset moves, and its region detached and destroyed in
 * one transaction, after which it no longer counts as the context's.
 */
static void ioeventfd_set_pass(void)
{
	struct memtopo_region_info root_i = { .kind = MEMTOPO_CONTAINER, .name = "root",
					      .size_is_2_64 = true };
	struct memtopo_region_info io = { .kind = MEMTOPO_IO, .name = "io", .size = 0x2000 };
	struct memtopo_region_info ram = { .kind = MEMTOPO_RAM, .name = "ram", .size = 0x1000 };
	struct memtopo_region_info al = { .kind = MEMTOPO_ALIAS, .name = "al", .size = 0x1000 };
	struct memtopo_region *root, *r, *l, *cover, *a, *t;
	struct memtopo_region_parity *p;
	u64 builds;
	int ret;
	u32 n;

	ctx = memtopo_ctx_create("ioeventfd sets");
	memtopo_ctx_lock(ctx);
	root = memtopo_region_create_locked(ctx, &root_i);
	rb_as[0] = memtopo_space_create_locked(ctx, "as", root);
	rb_efd_nr_told = 0;
	rb_efd_l = (struct memtopo_listener){ .ops = &rb_efd_ops };
	expect(memtopo_listener_register_locked(rb_as[0], &rb_efd_l), 0, "register");
	r = memtopo_region_create_locked(ctx, &io);
	l = memtopo_region_create_locked(ctx, &ram);
	cover = memtopo_region_create_locked(ctx, &ram);
	expect(memtopo_region_add_subregion_locked(root, 0x10000, r, 0, true), 0, "add r");
	expect(memtopo_region_add_subregion_locked(root, 0x40000, l, 0, true), 0, "add l");
	expect(memtopo_region_add_eventfd_locked(r, 0x1ffc, 4, false, 0, &rb_efd[0]), 0,
	       "register an ioeventfd");
	rb_check_ioeventfds("registered", 0);
	if (rb_efd_nr_told != 1)
		FAIL("ioeventfd sets: %u told after one registration", rb_efd_nr_told);
	builds = memtopo_ctx_ioeventfd_set_builds(ctx);
	expect(memtopo_region_set_address_locked(l, 0x50000), 0, "move another region");
	rb_check_ioeventfds("a commit far away", 0);
	/* two windows apart, spliced one after the other: kept too */
	memtopo_transaction_begin_locked(ctx);
	expect(memtopo_region_set_address_locked(l, 0x58000), 0, "move it again");
	expect(memtopo_region_add_subregion_locked(root, 0x90000, cover, 0, true), 0,
	       "add a region further still");
	expect(memtopo_transaction_commit_locked(ctx), 0, "commit two windows");
	expect(memtopo_region_del_subregion_locked(root, cover), 0, "take it away");
	rb_check_ioeventfds("commits of windows far away", 0);
	if (memtopo_ctx_ioeventfd_set_builds(ctx) != builds)
		FAIL("ioeventfd sets: %llu sets built for commits far from the registration",
		     (unsigned long long)(memtopo_ctx_ioeventfd_set_builds(ctx) - builds));
	expect(memtopo_region_add_subregion_locked(root, 0x11000, cover, 1, true), 0, "cover");
	rb_check_ioeventfds("covered", 0);
	if (rb_efd_nr_told)
		FAIL("ioeventfd sets: the covered registration is still told");
	expect(memtopo_region_del_subregion_locked(root, cover), 0, "uncover");
	rb_check_ioeventfds("uncovered", 0);
	memtopo_transaction_begin_locked(ctx);
	expect(memtopo_region_del_eventfd_locked(r, 0x1ffc, 4, false, 0, &rb_efd[0]), 0,
	       "unregister in a transaction");
	expect(memtopo_region_set_address_locked(l, 0x60000), 0, "move in a transaction");
	shim_fail_nth = 6;
	ret = memtopo_transaction_commit_locked(ctx);
	shim_fail_nth = 0;
	if (!ret)
		FAIL("ioeventfd sets: the commit made to fail succeeded");
	rb_check_ioeventfds("a failed commit", 0);
	expect(memtopo_region_set_address_locked(l, 0x70000), 0, "move after it");
	rb_check_ioeventfds("the commit after a failed one", 0);
	ioeventfd_full_render(l, NULL, 0, "a full render");
	ioeventfd_full_render(l, r, 0x20000, "a full render moving the registration");
	t = memtopo_region_create_locked(ctx, &io);
	al.alias_target = t;
	a = memtopo_region_create_locked(ctx, &al);
	expect(memtopo_region_add_eventfd_locked(t, 0x800, 4, false, 0, &rb_efd[1]), 0,
	       "register on an alias target");
	expect(memtopo_region_add_subregion_locked(root, 0x80000, a, 0, true), 0, "map the alias");
	rb_check_ioeventfds("through an alias", 0);
	expect(memtopo_region_set_alias_offset_locked(a, 0x400), 0, "alias offset");
	rb_check_ioeventfds("the alias's offset moved", 0);
	memtopo_transaction_begin_locked(ctx);
	expect(memtopo_region_del_subregion_locked(root, r), 0, "detach");
	expect(memtopo_region_destroy_locked(r), 0, "destroy");
	expect(memtopo_transaction_commit_locked(ctx), 0, "commit the destroy");
	rb_check_ioeventfds("detached and destroyed", 0);
	if (memtopo_ctx_nr_ioeventfds(ctx) != 1)
		FAIL("ioeventfd sets: the context counts %u registrations, 1 is left",
		     memtopo_ctx_nr_ioeventfds(ctx));
	/* and lists the one region left holding one: a destroyed one may be freed */
	n = 0;
	list_for_each_entry(p, &ctx->parity->efd_regions, efd_link)
		n += p->mr == t ? 1 : 1000;
	if (n != 1)
		FAIL("ioeventfd sets: the regions holding registrations are not the one left");
	memtopo_ctx_unlock(ctx);
	memtopo_listener_unregister(&rb_efd_l);
	memtopo_ctx_put(ctx);
	rcu_barrier();
	if (shim_live_allocs)
		FAIL("ioeventfd sets: %ld allocations leaked", shim_live_allocs);
}

static const struct rb_op rb_ops[] = {
	{ "region_create", MEMTOPO_OP_REGION_CREATE, MEMTOPO_UNDO_REGION_CREATE, rb_create },
	{ "region_destroy", MEMTOPO_OP_REGION_DESTROY, MEMTOPO_UNDO_REGION_DESTROY, rb_destroy },
	{ "add_subregion", MEMTOPO_OP_ADD_SUBREGION, MEMTOPO_UNDO_ATTACH, rb_add_sub },
	{ "del_subregion", MEMTOPO_OP_DEL_SUBREGION, MEMTOPO_UNDO_DETACH, rb_del },
	{ "set_address", MEMTOPO_OP_SET_ADDRESS, MEMTOPO_UNDO_PLACE, rb_address },
	{ "set_size", MEMTOPO_OP_SET_SIZE, MEMTOPO_UNDO_PLACE, rb_size },
	{ "set_priority", MEMTOPO_OP_SET_PRIORITY, MEMTOPO_UNDO_PLACE, rb_priority },
	{ "set_alias_offset", MEMTOPO_OP_SET_ALIAS_OFFSET, MEMTOPO_UNDO_ALIAS_OFFSET,
	  rb_alias_offset },
	{ "set_enabled", MEMTOPO_OP_SET_ENABLED, MEMTOPO_UNDO_FLAGS, rb_enabled },
	{ "set_readonly", MEMTOPO_OP_SET_READONLY, MEMTOPO_UNDO_FLAGS, rb_readonly },
	{ "set_nonvolatile", MEMTOPO_OP_SET_NONVOLATILE, MEMTOPO_UNDO_FLAGS, rb_nonvolatile },
	{ "set_romd", MEMTOPO_OP_SET_ROMD, MEMTOPO_UNDO_FLAGS, rb_romd },
	{ "set_dirty_log", MEMTOPO_OP_SET_DIRTY_LOG, MEMTOPO_UNDO_DIRTY_LOG, rb_dirty },
	{ "space_create", MEMTOPO_OP_SPACE_CREATE, MEMTOPO_UNDO_SPACE_CREATE, rb_space_create },
	{ "space_destroy", MEMTOPO_OP_SPACE_DESTROY, MEMTOPO_UNDO_SPACE_DESTROY,
	  rb_space_destroy },
	{ "ioeventfd", 0, MEMTOPO_UNDO_PARITY, rb_ioeventfd },
	{ "coalescing", 0, MEMTOPO_UNDO_PARITY, rb_coalesced },
	{ "global_dirty_log", 0, MEMTOPO_UNDO_PARITY, rb_global },
	{ "vga_log", 0, MEMTOPO_UNDO_PARITY, rb_vga_log },
	/* no transaction's: it records nothing, and kind 0 is no record's */
	{ "iommu_map", 0, 0, rb_iommu_map },
};

/*
 * The table covers every uapi operation code and every undo kind: an
 * operation or an undo case added without the other fails here.
 */
static void rb_check_table(void)
{
	unsigned long ops = 0, kinds = 0;
	u32 i;

	for (i = 0; i < ARRAY_SIZE(rb_ops); i++) {
		ops |= 1UL << rb_ops[i].uapi_op;
		kinds |= 1UL << rb_ops[i].undo;
	}
	for (i = 1; i < MEMTOPO_OP_COUNT; i++)
		if (!(ops & (1UL << i)))
			FAIL("uapi operation %u has no entry in the rollback table", i);
	for (i = 1; i < MEMTOPO_UNDO_KINDS; i++)
		if (!(kinds & (1UL << i)))
			FAIL("undo kind %u is recorded by no operation of the rollback table", i);
}

static void rb_random_ops(int n)
{
	int i, ret;

	for (i = 0; i < n; i++) {
		const struct rb_op *op = &rb_ops[rnd_below(ARRAY_SIZE(rb_ops))];
		u32 before = ctx->undo.nr;

		ret = op->fn();
		if (ctx->txn_depth)
			rb_saw(ret, before, op->undo, op->name);
	}
}

static void rb_build(void)
{
	struct memtopo_region_info info = { .kind = MEMTOPO_CONTAINER, .name = "root",
					    .size_is_2_64 = true };
	struct memtopo_region_info mmu = { .kind = MEMTOPO_IOMMU, .name = "mmu",
					   .size_is_2_64 = true };
	int i;

	memset(mirrors, 0, sizeof(mirrors));
	rb_n = 0;
	rb_nas = 0;
	ctx = memtopo_ctx_create("rollback");
	memtopo_ctx_lock(ctx);
	rb_r[rb_n++] = memtopo_region_create_locked(ctx, &info);
	rb_as[rb_nas++] = memtopo_space_create_locked(ctx, "as", rb_r[0]);
	rb_mmu = memtopo_region_create_locked(ctx, &mmu);
	rb_dma = memtopo_space_create_locked(ctx, "dma", rb_mmu);
	memset(rb_map_serial, 0, sizeof(rb_map_serial));
	mirrors[0].l.ops = &mirror_ops;
	mirrors[0].l.priv = &mirrors[0];
	expect(memtopo_listener_register_locked(rb_as[0], &mirrors[0].l), 0, "register");
	rb_efd_nr_told = 0;
	rb_efd_l = (struct memtopo_listener){ .ops = &rb_efd_ops };
	expect(memtopo_listener_register_locked(rb_as[0], &rb_efd_l), 0, "register");
	for (i = 0; i < 12; i++)
		rb_create();
	/* registrations for commits to keep or change: refused on containers and aliases */
	for (i = 0; i < rb_n; i++)
		memtopo_region_add_eventfd_locked(rb_r[i], 0, 4, false, 0, &rb_efd[i % 4]);
	for (i = 0; i < 40; i++)
		rb_random_ops(1);
	memtopo_ctx_unlock(ctx);
}

static void rb_teardown(const char *what, unsigned long round)
{
	memtopo_listener_unregister(&mirrors[0].l);
	memtopo_listener_unregister(&rb_efd_l);
	memtopo_ctx_put(ctx);
	rcu_barrier();
	if (shim_live_allocs)
		FAIL("%s round %lu: %ld allocations leaked", what, round, shim_live_allocs);
}

/* What a replay of rb_mmu told, by IOVA page: its target, if told at all. */
static struct memtopo_space *rb_replayed[RB_IOVA_PAGES];
static bool rb_replayed_any[RB_IOVA_PAGES];

static void rb_replay_notify(struct memtopo_iommu_notifier *n,
			     const struct memtopo_iotlb_entry *e)
{
	u64 p = e->iova / MEMTOPO_IOMMU_PAGE_SIZE;

	if (p >= RB_IOVA_PAGES || e->addr_mask != MEMTOPO_IOMMU_PAGE_SIZE - 1)
		FAIL("replay: an entry at %llx+%llx, not one of a mapped page",
		     (unsigned long long)e->iova, (unsigned long long)e->addr_mask);
	rb_replayed[p] = e->target_as;
	rb_replayed_any[p] = true;
}

/*
 * After a round's transaction is undone or committed: each IOMMU mapping
 * leads to the space it was made into while that space lives, and
 * nowhere once it does not: a replay leaves it out, a translation faults,
 * and it is listed as gone.  A space created now takes the ID an undone
 * create gave back; it is rooted at an I/O region of 2^64 bytes, so a
 * translation that reached it would succeed.
 */
static void rb_check_iommu(const char *what, unsigned long round)
{
	struct memtopo_region_info io = { .kind = MEMTOPO_IO, .name = "all", .size_is_2_64 = true };
	struct memtopo_iommu_notifier n = {
		.notify = rb_replay_notify, .flags = MEMTOPO_IOMMU_NOTIFIER_MAP, .end = U64_MAX,
	};
	static struct memtopo_iommu_ent t[RB_IOVA_PAGES];
	struct memtopo_space *fresh, *as;
	struct memtopo_region *all;
	struct memtopo_iotlb_entry e;
	u32 p, nr, k = 0;
	bool live;
	u64 want;
	int ret;

	all = memtopo_region_create_locked(ctx, &io);
	fresh = IS_ERR(all) ? ERR_CAST(all) : memtopo_space_create_locked(ctx, "fresh", all);
	if (IS_ERR(fresh))
		FAIL("%s round %lu: a space after the round: %ld", what, round, PTR_ERR(fresh));
	memset(rb_replayed, 0, sizeof(rb_replayed));
	memset(rb_replayed_any, 0, sizeof(rb_replayed_any));
	expect(memtopo_iommu_register_notifier_locked(rb_mmu, &n), 0, "register a notifier");
	expect(memtopo_iommu_replay_locked(rb_mmu, &n), 0, "replay");
	memtopo_iommu_unregister_notifier_locked(&n);
	expect(memtopo_iommu_mappings_locked(rb_mmu, t, ARRAY_SIZE(t), &nr), 0, "iommu mappings");
	for (p = 0; p < RB_IOVA_PAGES; p++) {
		if (!rb_map_serial[p]) {
			if (rb_replayed_any[p])
				FAIL("%s round %lu: iova page %u replayed, not mapped", what,
				     round, p);
			continue;
		}
		want = rb_map_serial[p];
		live = false;
		list_for_each_entry(as, &ctx->spaces, link)
			live |= memtopo_space_serial(as) == want;
		rb_maps_checked++;
		rb_maps_gone += !live;
		rb_maps_reused += !live && k < nr && t[k].space == fresh->id;
		/* a replay tells what translates: nothing for a mapping that leads nowhere */
		if (live ? !rb_replayed[p] || memtopo_space_serial(rb_replayed[p]) != want :
			   rb_replayed_any[p])
			FAIL("%s round %lu: iova page %u replayed %s", what, round, p,
			     live ? "without its living space" : "though it leads nowhere");
		rcu_read_lock();
		ret = memtopo_space_get_iotlb_entry(rb_dma, p * MEMTOPO_IOMMU_PAGE_SIZE, false, 0,
						    &e);
		/* a living target may map nothing at 0: the walk then ends there */
		if (!ret && (!live || memtopo_space_serial(e.target_as) != want))
			FAIL("%s round %lu: iova page %u leads to space %u%s", what, round, p,
			     e.target_as->id, e.target_as == fresh ? ", created after" : "");
		rcu_read_unlock();
		if (k == nr || t[k].iova != p * MEMTOPO_IOMMU_PAGE_SIZE)
			FAIL("%s round %lu: iova page %u is not listed", what, round, p);
		if (memtopo_iommu_target_gone_locked(rb_mmu, &t[k++]) == live)
			FAIL("%s round %lu: iova page %u listed %s", what, round, p,
			     live ? "gone" : "with a target");
	}
	if (k != nr)
		FAIL("%s round %lu: %u mappings listed, %u made", what, round, nr, k);
}

/*
 * Random batches that fail at a random point, across every operation
 * kind, alone or inside an outer transaction: the state is exactly as
 * before.  Then transactions whose commit fails (fail-nth on the commit's
 * allocations): the tree, every view and the mirror are exactly as before;
 * a commit that succeeds publishes the tree exactly.
 */
static void rollback_pass(unsigned long rounds)
{
	unsigned long r, nth;
	char *before;

	rb_check_table();
	for (r = 0; r < rounds; r++) {
		bool outer = rnd_below(2);
		u32 mark;

		rb_build();
		memtopo_ctx_lock(ctx);
		if (outer) {
			memtopo_transaction_begin_locked(ctx);
			rb_random_ops(1 + rnd_below(4));
		}
		before = snapshot();
		memtopo_transaction_begin_locked(ctx);
		mark = memtopo_undo_mark(ctx);
		rb_random_ops(1 + rnd_below(16));
		memtopo_transaction_abort_locked(ctx, mark);
		expect_same(before, "batch", r);
		free(before);
		if (outer)
			memtopo_transaction_commit_locked(ctx);
		rb_check_iommu("batch", r);
		rb_check_ioeventfds("batch", r);
		memtopo_ctx_unlock(ctx);
		expect_full_render(rb_as[0]->view, rb_as[0]->root, "batch", r);
		rb_teardown("batch", r);
	}
	for (r = 0; r < rounds / 4; r++) {
		for (nth = 1; nth < 40; nth += 1 + rnd_below(3)) {
			int ret;

			rb_build();
			memtopo_ctx_lock(ctx);
			before = snapshot();
			memtopo_transaction_begin_locked(ctx);
			rb_random_ops(1 + rnd_below(12));
			shim_fail_nth = nth;
			ret = memtopo_transaction_commit_locked(ctx);
			shim_fail_nth = 0;
			if (ret)
				expect_same(before, "failed commit", r);
			free(before);
			rb_check_iommu("commit", r);
			rb_check_ioeventfds("commit", r);
			memtopo_ctx_unlock(ctx);
			expect_full_render(rb_as[0]->view, rb_as[0]->root, "commit", r);
			rb_teardown("commit", r);
		}
	}
	for (r = 0; r < MEMTOPO_UNDO_KINDS; r++)
		if (r && !(rb_kinds_seen & (1UL << r)))
			FAIL("no random operation recorded undo kind %lu", r);
}

/*
 * A dirty-log request must lie within the region's pages, counted from its
 * size: 2^64 bytes are 2^52 pages of 4 KiB (no bitmap: -ENOENT within them,
 * -EINVAL past them), and a size that ends inside a page counts that page.
 */
static void dirty_pages_pass(void)
{
	struct memtopo_region_info hi = { .kind = MEMTOPO_RAM, .name = "huge",
					  .size_is_2_64 = true };
	struct memtopo_region_info ri = { .kind = MEMTOPO_RAM, .name = "ram", .size = 0x4001 };
	const u64 end = 1ULL << 52;
	struct memtopo_region *huge, *mr;

	ctx = memtopo_ctx_create("pages");
	if (IS_ERR(ctx))
		FAIL("pages: context");
	huge = memtopo_region_create(ctx, &hi);
	mr = memtopo_region_create(ctx, &ri);
	if (IS_ERR(huge) || IS_ERR(mr))
		FAIL("pages: regions");
	memtopo_ctx_lock(ctx);
	expect(memtopo_dirty_validate_locked(huge, MEMTOPO_DIRTY_VGA, end - 64, 64), -ENOENT,
	       "pages: the last 64 of a 2^64-byte region's 2^52 pages");
	expect(memtopo_dirty_validate_locked(huge, MEMTOPO_DIRTY_VGA, end - 64, 65), -EINVAL,
	       "pages: one page past a 2^64-byte region's 2^52");
	expect(memtopo_dirty_validate_locked(huge, MEMTOPO_DIRTY_VGA, end, 1), -EINVAL,
	       "pages: page 2^52 of a 2^64-byte region");
	expect(memtopo_dirty_validate_locked(mr, MEMTOPO_DIRTY_VGA, 0, 5), -ENOENT,
	       "pages: the 5 pages of 0x4001 bytes");
	expect(memtopo_dirty_validate_locked(mr, MEMTOPO_DIRTY_VGA, 0, 6), -EINVAL,
	       "pages: a sixth page of 0x4001 bytes");
	memtopo_ctx_unlock(ctx);
	memtopo_ctx_put(ctx);
	rcu_barrier();
	if (shim_live_allocs)
		FAIL("pages: %ld allocations leaked", shim_live_allocs);
	printf("difftest: dirty-log pages: a 2^64-byte region has 2^52\n");
}

/*
 * A refused create takes no ID: the next create gets the ID it would have
 * had.  A region refused by the create's last check (RAM too big for a
 * dirty bitmap while global dirty logging is on) and with each of a
 * create's allocations failed in turn; a space with each of a create's
 * allocations failed in turn, its render's too, which fail after the ID
 * was taken and are undone by the rollback.  (Creates undone with a batch
 * or a failed commit: the rollback snapshot has the cursors.)
 */
static void id_cursor_pass(void)
{
	struct memtopo_region_info ci = { .kind = MEMTOPO_CONTAINER, .name = "root",
					  .size_is_2_64 = true };
	struct memtopo_region_info ri = { .kind = MEMTOPO_RAM, .name = "ram", .size = 0x4000 };
	struct memtopo_region_info big = { .kind = MEMTOPO_RAM, .name = "big",
					   .size = 1ULL << 44 };
	unsigned long nth, refused[2] = { 0, 0 };
	struct memtopo_region *root, *mr, *got;
	struct memtopo_space *as, *next;
	bool unused;
	u32 want;
	int i;

	ctx = memtopo_ctx_create("ids");
	if (IS_ERR(ctx))
		FAIL("ids: context");
	root = memtopo_region_create(ctx, &ci);
	if (IS_ERR(root))
		FAIL("ids: root");
	expect(memtopo_global_dirty_log_start(ctx, MEMTOPO_DIRTY_REASON_MIGRATION), 0,
	       "ids: global dirty log start");
	mr = memtopo_region_create(ctx, &ri);
	if (IS_ERR(mr))
		FAIL("ids: region: %ld", PTR_ERR(mr));
	want = mr->id + 1;
	got = memtopo_region_create(ctx, &big);
	if (PTR_ERR(got) != -E2BIG)
		FAIL("ids: a region past the dirty bitmap's size gave %ld, not E2BIG",
		     PTR_ERR(got));
	mr = memtopo_region_create(ctx, &ri);
	if (IS_ERR(mr) || mr->id != want)
		FAIL("ids: after a region refused with E2BIG the next got ID %ld, not %u",
		     IS_ERR(mr) ? PTR_ERR(mr) : (long)mr->id, want);
	for (nth = 1;; nth++) {
		want = mr->id + 1;
		shim_fail_nth = nth;
		got = memtopo_region_create(ctx, &ri);
		unused = shim_fail_nth;
		shim_fail_nth = 0;
		if (IS_ERR(got)) {
			refused[0]++;
			got = memtopo_region_create(ctx, &ri);
		}
		if (IS_ERR(got) || got->id != want)
			FAIL("ids: region create, allocation %lu failing: next ID %ld, not %u",
			     nth, IS_ERR(got) ? PTR_ERR(got) : (long)got->id, want);
		mr = got;
		if (unused)
			break;
	}
	/* something to render: a space's create fails late in its commit too */
	for (i = 0; i < 8; i++) {
		mr = memtopo_region_create(ctx, &ri);
		if (IS_ERR(mr) || memtopo_region_add_subregion(root, i * 0x8000, mr, 0, false))
			FAIL("ids: map");
	}
	as = memtopo_space_create(ctx, "as", root);
	if (IS_ERR(as))
		FAIL("ids: space: %ld", PTR_ERR(as));
	for (nth = 1;; nth++) {
		want = as->id + 1;
		shim_fail_nth = nth;
		next = memtopo_space_create(ctx, "as", root);
		unused = shim_fail_nth;
		shim_fail_nth = 0;
		if (IS_ERR(next)) {
			refused[1]++;
			next = memtopo_space_create(ctx, "as", root);
		}
		if (IS_ERR(next) || next->id != want)
			FAIL("ids: space create, allocation %lu failing: next ID %ld, not %u",
			     nth, IS_ERR(next) ? PTR_ERR(next) : (long)next->id, want);
		expect(memtopo_space_destroy(as), 0, "ids: space destroy");
		as = next;
		if (unused)
			break;
	}
	if (!refused[0] || !refused[1])
		FAIL("ids: %lu region and %lu space creates refused", refused[0], refused[1]);
	printf("difftest: IDs: %lu region and %lu space creates refused", refused[0], refused[1]);
	printf(" (allocations failed in turn), none took an ID\n");
	memtopo_ctx_put(ctx);
	rcu_barrier();
	if (shim_live_allocs)
		FAIL("ids: %ld allocations leaked", shim_live_allocs);
}

/*
 * Module init's slab caches: with each creation failing in turn, @init
 * returns -ENOMEM and leaves no cache (it destroys those made before the
 * failure, each once); with none failing, it makes every one.
 */
static unsigned long cache_init_pass(const char *what, int (*init)(void), void (*fini)(void))
{
	unsigned long nth;
	int ret;

	if (shim_live_caches)
		FAIL("%s caches: %ld caches before", what, shim_live_caches);
	for (nth = 1;; nth++) {
		shim_fail_nth = nth;
		ret = init();
		if (shim_fail_nth)
			break;
		if (ret != -ENOMEM || shim_live_caches)
			FAIL("%s caches, creation %lu failing: %d, %ld caches left", what, nth, ret,
			     shim_live_caches);
	}
	shim_fail_nth = 0;
	/* each creation was failed once: one per cache made */
	if (ret || nth == 1 || shim_live_caches != nth - 1)
		FAIL("%s caches: %d, %ld made, %lu creations failed", what, ret, shim_live_caches,
		     nth - 1);
	fini();
	if (shim_live_caches)
		FAIL("%s caches: %ld left after the exit", what, shim_live_caches);
	return nth - 1;
}

static unsigned long rcu_ran;

static void count_rcu(struct rcu_head *h)
{
	(void)h;
	rcu_ran++;
}

/*
 * The shim's call_rcu() holds a callback until 1024 more have queued (a
 * grace period of one-change commits), in queue order, and rcu_barrier()
 * runs every one left: what the benchmark's commit times rely on.
 */
static void rcu_defer_pass(void)
{
	static struct rcu_head h[1025];
	unsigned long i;

	rcu_barrier();
	rcu_ran = 0;
	for (i = 0; i < 1024; i++)
		call_rcu(&h[i], count_rcu);
	if (rcu_ran)
		FAIL("rcu: %lu of 1024 callbacks ran before a grace period", rcu_ran);
	call_rcu(&h[1024], count_rcu);
	if (rcu_ran != 1)
		FAIL("rcu: %lu callbacks ran once 1025 had queued, not one", rcu_ran);
	rcu_barrier();
	if (rcu_ran != 1025)
		FAIL("rcu: rcu_barrier() left %lu of 1025 callbacks", 1025 - rcu_ran);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "trees", required_argument, NULL, 't' },
		{ "seed", required_argument, NULL, 's' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "rollbacks", required_argument, NULL, 'r' },
		{ "dense", required_argument, NULL, 'd' },
		{}
	};
	/*
	 * --dense N: also a dense map of N leaves.  The others stay within a
	 * few groups; one of 10^5 leaves has ten, so that a splice shares
	 * runs of several groups around the ones it rebuilds.
	 */
	unsigned long trees = 100000, base_seed = 1, dense = 0, rc, vc;
	int c;

	rc = cache_init_pass("region", memtopo_region_cache_init, memtopo_region_cache_exit);
	vc = cache_init_pass("view", memtopo_view_cache_init, memtopo_view_cache_exit);
	printf("difftest: caches: each of the region's %lu and the view's %lu failed in turn,",
	       rc, vc);
	printf(" none left\n");
	if (memtopo_region_cache_init() || memtopo_view_cache_init())
		return 1;
	check_slot_forms();
	rcu_defer_pass();

	while ((c = getopt_long(argc, argv, "t:s:vr:d:", opts, NULL)) != -1) {
		if (c == 't')
			trees = strtoul(optarg, NULL, 0);
		else if (c == 's')
			base_seed = strtoul(optarg, NULL, 0);
		else if (c == 'v')
			verbose = 1;
		else if (c == 'r')
			rollback_rounds = strtoul(optarg, NULL, 0);
		else if (c == 'd')
			dense = strtoul(optarg, NULL, 0);
		else
			return 2;
	}
	printf("difftest: %lu random trees, seed %lu", trees, base_seed);
	printf(" (replay one tree: --seed S --trees 1 with S = seed + tree number)\n");
	for (tree_no = 0; tree_no < trees; tree_no++) {
		seed = base_seed + tree_no;
		rng_state = seed * 0x9E3779B97F4A7C15ULL + 1;
		one_tree();
	}
	fail_nth_pass(3);
	seed = base_seed;
	rng_state = base_seed * 0x2545F4914F6CDD1DULL + 3;
	ioeventfd_set_pass();
	rollback_pass(rollback_rounds);
	id_cursor_pass();
	dirty_pages_pass();
	scratch_pass(20000);
	commit_churn_pass();
	dense_pass(20000, false);
	dense_pass(20000, true);
	names_pass();
	tree_no = trees;
	seed = base_seed;
	rng_state = base_seed * 0xD1B54A32D192ED03ULL + 7;
	big_map_pass(3000, 1800);
	long_entry_pass(6000);
	merging_long_pass();
	merging_deep_pass();
	table_growth_pass();
	dense_slot_pass();
	port_slot_pass();
	table_build_fail_pass();
	repack_pass();
	wide_slot_pass();
	full_group_pass();
	if (trees >= 1000 && (!wide_trees || !renumbered))
		FAIL("%lu trees sorted children past the insertion sort, %lu renumbered",
		     wide_trees, renumbered);
	if (trees >= 1000 && (!dis_managers || !dis_changes || !dis_vetoes || !dis_mapped))
		FAIL("trees miss RAM discard: %lu managers, %lu changes, %lu vetoes, %lu mapped",
		     dis_managers, dis_changes, dis_vetoes, dis_mapped);
	diff_groups_pass(300, 12000);
	diff_forget_pass();
	kids_many_pass();
	history_share_pass(5000, 4, MEMTOPO_HISTORY_MAX + 16);
	mid_span_pass(40000);
	span_handoff_pass();
	table_reach_pass();
	table_remap_run("table remap", 2000, 0x3000, table_remap_at, 1500, false);
	table_remap_run("table crowd", TABLE_SPREAD + 2000, 0x1000, table_crowd_at, 800, true);
	/* last: the passes before keep the random streams they had */
	if (dense)
		dense_pass(dense, false);
	if (trees >= 1000 && (!reach_hits_seen || !reach_gave_up))
		FAIL("the reach found %lu windows' first child, met %lu with too many in it",
		     reach_hits_seen, reach_gave_up);
	if (trees >= 1000 && (!alias_adds || !alias_only_entries))
		FAIL("trees miss aliases: %lu adds under one, %lu entries shown only through one",
		     alias_adds, alias_only_entries);
	if (trees >= 1000 && (!io_maps || !io_unmaps || !io_refused || !io_xlates ||
			      !io_nested || !io_xlate_faults[0] || !io_xlate_faults[1] ||
			      !io_xlate_faults[2] || !io_registered || !io_events ||
			      !io_replayed || !io_ops_changes || !io_region_changes ||
			      !io_devtlb_events || !spaces_destroyed || !io_refused_by[0] ||
			      !io_refused_by[1] || !io_refused_by[2] || !io_refused_by[3] ||
			      !evm_maps || !evm_replayed || !evm_unmaps || !evm_dropped))
		FAIL("trees miss IOMMUs: %lu maps, %lu unmaps, %lu refused, %lu translations%s",
		     io_maps, io_unmaps, io_refused, io_xlates,
		     " (or an errno, a fault or a notifier event never met)");
	printf("difftest: ok: %lu trees, %lu view checks, %lu commits", trees, checks, commits);
	printf(" (%lu windowed, %lu full renders), fail-nth sweep clean,", commits - full_renders,
	       full_renders);
	printf(" %lu rollbacks restored exactly\n", rollbacks);
	if (rollbacks >= 1000 && !rb_maps_reused)
		FAIL("no round left a mapping into an undone space whose ID was reused");
	printf("difftest: %lu IOMMU mappings checked after them, %lu leading nowhere,",
	       rb_maps_checked, rb_maps_gone);
	printf(" %lu into an undone space whose ID was reused\n", rb_maps_reused);
	if (rollbacks >= 1000 && !rb_efd_nonempty)
		FAIL("no round left an ioeventfd shown to compare");
	printf("difftest: %lu ioeventfd sets told compared with what the views show,",
	       rb_efd_checks);
	printf(" %lu holding one\n", rb_efd_nonempty);
	printf("difftest: %lu subregions added to aliases, %lu view entries", alias_adds,
	       alias_only_entries);
	printf(" shown only through aliases\n");
	printf("difftest: %lu wide trees (children radix-sorted), ", wide_trees);
	printf("%lu with sequence numbers renumbered; %lu windows' children visited",
	       renumbered, visit_checks);
	printf(" as a scan finds, %lu found by the reach (%lu past 16 siblings in it)\n",
	       reach_hits_seen, reach_gave_up);
	printf("difftest: RAM discard: %lu managers set, %lu populates/discards applied,",
	       dis_managers, dis_changes);
	printf(" %lu refused, %lu vetoed by the consumer, %lu pieces mapped\n", dis_refused,
	       dis_vetoes, dis_mapped);
	printf("difftest: IOMMU: %lu maps, %lu unmaps, %lu refused", io_maps, io_unmaps,
	       io_refused);
	printf(" (%lu EINVAL, %lu EOVERFLOW, %lu EEXIST, %lu ENOENT); %lu translations checked",
	       io_refused_by[0], io_refused_by[1], io_refused_by[2], io_refused_by[3], io_xlates);
	printf(" (%lu through nested IOMMUs), %lu unassigned, %lu denied, %lu looping\n",
	       io_nested, io_xlate_faults[0], io_xlate_faults[1], io_xlate_faults[2]);
	printf("difftest: IOMMU consumer: %lu notifiers registered, %lu events (%lu replayed,",
	       io_registered, io_events, io_replayed);
	printf(" %lu device-IOTLB invalidations),", io_devtlb_events);
	printf(" %lu changes by kernel-ops IOMMUs, %lu IOMMU regions moved, resized,",
	       io_ops_changes, io_region_changes);
	printf(" enabled, disabled, detached or destroyed, %lu spaces destroyed under mappings\n",
	       spaces_destroyed);
	printf("difftest: IOMMU event mirror: %lu MAPs (%lu replayed after region_add),",
	       evm_maps, evm_replayed);
	printf(" %lu UNMAPs, %lu entries dropped at region_del\n", evm_unmaps, evm_dropped);
	/* a run whose diffs never had an event compared nothing */
	printf("difftest: %lu diffs from kept generations checked, %lu events, %lu forgotten\n",
	       diff_checks, diff_events, diff_forgotten);
	if (!diff_checks || !diff_events)
		FAIL("no diff between generations was checked");
	printf("difftest: %lu region range walks checked, %lu bounded by the region's places",
	       rr_checks, rr_bounded);
	printf(" (%lu through aliases), %lu skipped as not shown, %lu whole\n", rr_aliased,
	       rr_absent, rr_unbounded);
	if (!rr_bounded || !rr_absent || !rr_aliased)
		FAIL("no region range walk was bounded, bounded through aliases or skipped");
	printf("difftest: %lu big-map finds in a full chunk, %lu of a chunk's last entry\n",
	       full_finds, last_finds);
	printf("difftest: direct-table slots %lu fast, %lu sent on;", table_fast, table_slow);
	printf(" %lu on a full page; %lu resized, %lu failed commits\n", table_full, table_resized,
	       table_fail_nth);
	printf("difftest: %lu slots through a long entry's record, %lu past its entry;",
	       table_long, table_stale);
	printf(" %lu records checked, %lu splices' count of slots left unnamed\n", table_records,
	       unnamed_checks);
	printf("difftest: %lu chunks keeping their end checked\n", chunk_ends);
	printf("difftest: %lu views of one group and no table, %lu chunks (%lu ending mapped),",
	       small_views, small_chunks, small_ends);
	printf(" every entry found at both ends\n");
	if (trees >= SMALL_EVERY && !small_ends)
		FAIL("no view of several chunks under the direct table's size was checked");
	printf("difftest: lookups checked in %lu slots with no other start,", table_paths[0]);
	printf(" %lu with 1-3, %lu with 4-%u, %lu exact,", table_paths[1], table_paths[6],
	       MEMTOPO_TSLOT_STARTS_MAX, table_paths[2]);
	printf(" %lu naming where their one other start is,", table_paths[3]);
	printf(" %lu where their two are, %lu answering a hole alone\n", table_paths[4],
	       table_paths[5]);
	if (!table_fast || !table_slow || !table_long || !chunk_ends ||
	    !table_paths[0] || !table_paths[1] || !table_paths[2] || !table_paths[3] ||
	    !table_paths[4] || !table_paths[5] || !table_paths[6] ||
	    table_full > (table_fast + table_slow) / 100 ||
	    table_resized < 6 || table_fail_nth < 3)
		FAIL("the direct table was not exercised");
	if (!full_finds || !last_finds)
		FAIL("no find searched a full chunk or found a chunk's last entry");
	return 0;
}
