// SPDX-License-Identifier: GPL-2.0
/*
 * Flat views: immutable once published, shared by the spaces whose
 * effective roots are equal, freed after an RCU grace period.  Their
 * entries live in page-sized copy-on-write chunks shared between
 * successive views (see memtopo_internal.h).
 */
#include <linux/export.h>
#include <linux/slab.h>

#include "memtopo_internal.h"
#include "selftest.h"

static struct memtopo_chunk *memtopo_chunk_alloc(void)
{
	struct memtopo_chunk *chunk = kmalloc(sizeof(*chunk), GFP_KERNEL_ACCOUNT);

	if (chunk) {
		refcount_set(&chunk->ref, 1);
		chunk->nr = 0;
	}
	return chunk;
}

static void memtopo_chunk_put(struct memtopo_chunk *chunk)
{
	if (chunk && refcount_dec_and_test(&chunk->ref))
		kfree(chunk);
}

/**
 * memtopo_view_alloc() - allocate a view with room for @nr_chunks chunks.
 * @nr_chunks: chunk slots (at least 1).
 *
 * Return: the view with one reference and no chunks yet, or NULL.
 */
struct memtopo_view *memtopo_view_alloc(u32 nr_chunks)
{
	struct memtopo_view *view;

	view = kzalloc(sizeof(*view), GFP_KERNEL_ACCOUNT);
	if (!view)
		return NULL;
	refcount_set(&view->ref, 1);
	nr_chunks = max(nr_chunks, 1u);
	view->chunk_start = kvmalloc_array(nr_chunks, sizeof(*view->chunk_start),
					   GFP_KERNEL_ACCOUNT);
	view->chunk_first = kvmalloc_array(nr_chunks, sizeof(*view->chunk_first),
					   GFP_KERNEL_ACCOUNT);
	view->chunks = kvcalloc(nr_chunks, sizeof(*view->chunks), GFP_KERNEL_ACCOUNT);
	if (!view->chunk_start || !view->chunk_first || !view->chunks) {
		memtopo_view_put(view);
		return NULL;
	}
	return view;
}

static void memtopo_view_free(struct memtopo_view *view)
{
	u32 c;

	for (c = 0; c < view->nr_chunks; c++)
		memtopo_chunk_put(view->chunks[c]);
	kvfree(view->chunk_start);
	kvfree(view->chunk_first);
	kvfree(view->chunks);
	kfree(view);
}

static void memtopo_view_free_rcu(struct rcu_head *head)
{
	memtopo_view_free(container_of(head, struct memtopo_view, rcu));
}

/**
 * memtopo_view_put() - drop a reference; readers may still walk the view
 * until a grace period has passed, so the memory goes after one.
 * @view: the view (may be NULL).
 *
 * Chunks are shared by views, but a chunk is reachable only through views,
 * so it is freed with the last view that holds it, which itself waited.
 */
void memtopo_view_put(struct memtopo_view *view)
{
	if (view && refcount_dec_and_test(&view->ref))
		call_rcu(&view->rcu, memtopo_view_free_rcu);
}

/*
 * Index of the last element <= @key in a sorted array of @n >= 1 elements
 * whose first element is <= @key.  Halving by conditional move: no branch
 * the predictor can miss.
 */
static u32 memtopo_bsearch_u64(const u64 *a, u32 n, u64 key)
{
	const u64 *base = a;

	while (n > 1) {
		u32 half = n / 2;

		base = (base[half] <= key) ? base + half : base;
		n -= half;
	}
	return base - a;
}

/**
 * memtopo_view_find() - index of the entry holding @addr.
 * @view: a published view (it always has an entry starting at 0).
 * @addr: the address.
 *
 * Return: the entry index.
 */
u32 memtopo_view_find(const struct memtopo_view *view, u64 addr)
{
	u32 c = memtopo_bsearch_u64(view->chunk_start, view->nr_chunks, addr);
	const struct memtopo_chunk *chunk = view->chunks[c];

	return view->chunk_first[c] + memtopo_bsearch_u64(chunk->starts, chunk->nr, addr);
}

/**
 * memtopo_view_chunk_of() - the chunk holding entry @i.
 * @view: the view.
 * @i: an entry index below view->nr.
 *
 * Return: the chunk index.
 */
u32 memtopo_view_chunk_of(const struct memtopo_view *view, u32 i)
{
	const u32 *base = view->chunk_first;
	u32 n = view->nr_chunks;

	while (n > 1) {
		u32 half = n / 2;

		base = (base[half] <= i) ? base + half : base;
		n -= half;
	}
	return base - view->chunk_first;
}
EXPORT_SYMBOL_FOR_MEMTOPO_TESTS(memtopo_view_chunk_of);

/* Entry @k of chunk @c as a section; the end comes from what follows it. */
static void memtopo_chunk_section(const struct memtopo_view *view, u32 c, u32 k,
				  struct memtopo_section *s)
{
	const struct memtopo_chunk *chunk = view->chunks[c];
	const struct memtopo_fr *fr = &chunk->fr[k];

	s->start = chunk->starts[k];
	if (k + 1 < chunk->nr)
		s->last = chunk->starts[k + 1] - 1;
	else
		s->last = c + 1 < view->nr_chunks ? view->chunk_start[c + 1] - 1 : U64_MAX;
	s->mr = fr->mr;
	s->offset = fr->offset;
	s->flags = fr->flags;
	s->dirty_log_mask = fr->dirty_log_mask;
	s->generation = view->generation;
}

/**
 * memtopo_view_lookup() - the section holding @addr, straight from the
 * chunks (the readers' fast path).
 * @view: the view.
 * @addr: the address.
 * @s: filled in, generation included.
 *
 * Return: true if a region is mapped at @addr.
 */
bool memtopo_view_lookup(const struct memtopo_view *view, u64 addr, struct memtopo_section *s)
{
	u32 c = memtopo_bsearch_u64(view->chunk_start, view->nr_chunks, addr);
	const struct memtopo_chunk *chunk = view->chunks[c];
	u32 k = memtopo_bsearch_u64(chunk->starts, chunk->nr, addr);

	if (!chunk->fr[k].mr)
		return false;
	memtopo_chunk_section(view, c, k, s);
	return true;
}

/**
 * memtopo_pos_section() - describe the entry at a walk's position.
 * @p: the position (not past the end).
 * @s: filled in, the view's generation included.
 */
void memtopo_pos_section(const struct memtopo_view_pos *p, struct memtopo_section *s)
{
	memtopo_chunk_section(p->v, p->c, p->k, s);
}

/**
 * memtopo_view_section() - describe entry @i as a section: the one
 * section builder.
 * @view: the view.
 * @i: entry index.
 * @s: filled in, the view's generation included.
 */
void memtopo_view_section(const struct memtopo_view *view, u32 i, struct memtopo_section *s)
{
	u32 c = memtopo_view_chunk_of(view, i);

	memtopo_chunk_section(view, c, i - view->chunk_first[c], s);
}

/* Would QEMU's flatview_simplify() merge @next into @prev? */
static bool memtopo_fr_mergeable(const struct memtopo_fr *prev, u64 prev_len,
				 const struct memtopo_fr *next)
{
	if (prev->mr != next->mr || prev->flags != next->flags ||
	    prev->dirty_log_mask != next->dirty_log_mask)
		return false;
	return !prev->mr || prev->offset + prev_len == next->offset;
}

/**
 * memtopo_flat_add() - append an entry, merging it into the previous one
 * when flatview_simplify() would.
 * @f: the list.
 * @start: where the entry starts (after the previous one).
 * @fr: the entry.
 *
 * Return: 0 or -ENOMEM.
 */
int memtopo_flat_add(struct memtopo_flat *f, u64 start, const struct memtopo_fr *fr)
{
	if (f->nr && memtopo_fr_mergeable(&f->fr[f->nr - 1], start - f->starts[f->nr - 1], fr))
		return 0;
	if (f->nr == f->cap) {
		u32 cap = f->cap ? f->cap * 2 : 64;
		u64 *starts = kvmalloc_array(cap, sizeof(*starts), GFP_KERNEL_ACCOUNT);
		struct memtopo_fr *frs = kvmalloc_array(cap, sizeof(*frs), GFP_KERNEL_ACCOUNT);

		if (!starts || !frs) {
			kvfree(starts);
			kvfree(frs);
			return -ENOMEM;
		}
		if (f->nr) {
			memcpy(starts, f->starts, f->nr * sizeof(*starts));
			memcpy(frs, f->fr, f->nr * sizeof(*frs));
		}
		kvfree(f->starts);
		kvfree(f->fr);
		f->starts = starts;
		f->fr = frs;
		f->cap = cap;
	}
	f->starts[f->nr] = start;
	f->fr[f->nr] = *fr;
	f->nr++;
	if (fr->mr)
		f->nr_ranges++;
	return 0;
}

/**
 * memtopo_flat_free() - free a flat list's arrays.
 * @f: the list.
 */
void memtopo_flat_free(struct memtopo_flat *f)
{
	kvfree(f->starts);
	kvfree(f->fr);
	memset(f, 0, sizeof(*f));
}

/* Append chunks holding f[from, from + n), spread evenly over @k chunks. */
static int memtopo_view_append_packed(struct memtopo_view *v, const struct memtopo_flat *f,
				      u32 from, u32 n, u32 k)
{
	u32 c, take;

	for (c = 0; c < k; c++) {
		struct memtopo_chunk *chunk = memtopo_chunk_alloc();

		if (!chunk)
			return -ENOMEM;
		take = n / k + (c < n % k);
		memcpy(chunk->starts, f->starts + from, take * sizeof(*chunk->starts));
		memcpy(chunk->fr, f->fr + from, take * sizeof(*chunk->fr));
		chunk->nr = take;
		v->chunks[v->nr_chunks] = chunk;
		v->chunk_start[v->nr_chunks] = chunk->starts[0];
		v->chunk_first[v->nr_chunks] = v->nr;
		v->nr_chunks++;
		v->nr += take;
		from += take;
	}
	return 0;
}

/**
 * memtopo_view_pack() - a view holding the entries of @f, chunks full.
 * @root: the effective root it was rendered from.
 * @f: the entries; the first starts at 0.
 *
 * Return: the view (one reference) or NULL.
 */
struct memtopo_view *memtopo_view_pack(struct memtopo_region *root, const struct memtopo_flat *f)
{
	u32 k = DIV_ROUND_UP(f->nr, MEMTOPO_CHUNK_ENTRIES);
	struct memtopo_view *v = memtopo_view_alloc(k);

	if (!v)
		return NULL;
	v->root = root;
	v->nr_ranges = f->nr_ranges;
	if (memtopo_view_append_packed(v, f, 0, f->nr, k)) {
		memtopo_view_put(v);
		return NULL;
	}
	return v;
}

static void memtopo_view_share(struct memtopo_view *v, const struct memtopo_view *old, u32 c)
{
	refcount_inc(&old->chunks[c]->ref);
	v->chunks[v->nr_chunks] = old->chunks[c];
	v->chunk_start[v->nr_chunks] = old->chunk_start[c];
	v->chunk_first[v->nr_chunks] = v->nr;
	v->nr_chunks++;
	v->nr += old->chunks[c]->nr;
}

/**
 * memtopo_view_splice() - a view equal to @old but for its chunks
 * @c_lo..@c_hi, replaced by the entries of @mid.
 * @old: the published view.
 * @c_lo: first replaced chunk.
 * @c_hi: last replaced chunk.
 * @mid: the entries that replace them (already merged at the seams).
 * @nr_ranges: ranges of the new view.
 *
 * Every other chunk is shared.  @mid is spread evenly over as few chunks as
 * hold it, so a chunk keeps at least half a page of entries.
 *
 * Return: the view (one reference) or NULL.
 */
struct memtopo_view *memtopo_view_splice(const struct memtopo_view *old, u32 c_lo, u32 c_hi,
					 const struct memtopo_flat *mid, u32 nr_ranges)
{
	u32 k = DIV_ROUND_UP(mid->nr, MEMTOPO_CHUNK_ENTRIES);
	struct memtopo_view *v;
	u32 c;

	v = memtopo_view_alloc(old->nr_chunks - (c_hi - c_lo + 1) + k);
	if (!v)
		return NULL;
	v->root = old->root;
	v->nr_ranges = nr_ranges;
	for (c = 0; c < c_lo; c++)
		memtopo_view_share(v, old, c);
	if (memtopo_view_append_packed(v, mid, 0, mid->nr, k)) {
		memtopo_view_put(v);
		return NULL;
	}
	for (c = c_hi + 1; c < old->nr_chunks; c++)
		memtopo_view_share(v, old, c);
	return v;
}

/**
 * memtopo_view_repack() - the same entries in full chunks.
 * @v: a view whose splices left chunks half full.
 *
 * Splices keep every chunk at least half full, so a map grown one commit
 * at a time ends up about three quarters full; repacking once the chunk
 * count passes 5/4 of the minimum bounds the waste, at a cost of one copy
 * every many commits.
 *
 * Return: the repacked view (one reference), or NULL (keep using @v).
 */
struct memtopo_view *memtopo_view_repack(const struct memtopo_view *v)
{
	u32 k = DIV_ROUND_UP(v->nr, MEMTOPO_CHUNK_ENTRIES), c, i, left, target = 0;
	struct memtopo_chunk *chunk = NULL;
	struct memtopo_view *n;

	n = memtopo_view_alloc(k);
	if (!n)
		return NULL;
	n->root = v->root;
	n->generation = v->generation;
	n->nr_ranges = v->nr_ranges;
	for (c = 0; c < v->nr_chunks; c++) {
		const struct memtopo_chunk *src = v->chunks[c];

		for (i = 0; i < src->nr; i += left) {
			if (!chunk || chunk->nr == target) {
				/* spread evenly: no thin chunk at the end */
				target = v->nr / k + (n->nr_chunks < v->nr % k);
				chunk = memtopo_chunk_alloc();
				if (!chunk) {
					memtopo_view_put(n);
					return NULL;
				}
				n->chunks[n->nr_chunks] = chunk;
				n->chunk_start[n->nr_chunks] = src->starts[i];
				n->chunk_first[n->nr_chunks] = n->nr;
				n->nr_chunks++;
			}
			left = min(src->nr - i, target - chunk->nr);
			memcpy(chunk->starts + chunk->nr, src->starts + i, left * sizeof(u64));
			memcpy(chunk->fr + chunk->nr, src->fr + i, left * sizeof(*chunk->fr));
			chunk->nr += left;
			n->nr += left;
		}
	}
	return n;
}

/**
 * memtopo_view_runs() - the entries of @old and @new that a change inside
 * [@start, @last] can differ in.
 * @old: the view before.
 * @new: the view after; equal to @old outside the window but for the
 *	 seams, where entries may have been split or merged.
 * @start: first address of the window.
 * @last: last address of the window.
 * @runs: out: first and last index in @old, then in @new.
 *
 * Both runs are widened to the entries holding the window's ends in either
 * view, so they cover the same addresses exactly: what the diff needs.
 *
 * Return: false if they could not be aligned (the caller diffs all).
 */
bool memtopo_view_runs(const struct memtopo_view *old, const struct memtopo_view *new,
		       u64 start, u64 last, u32 runs[4])
{
	u32 o0 = memtopo_view_find(old, start), n0 = memtopo_view_find(new, start);
	u32 o1 = memtopo_view_find(old, last), n1 = memtopo_view_find(new, last);
	u64 a = min(memtopo_view_start(old, o0), memtopo_view_start(new, n0));
	u64 b = max(memtopo_view_last(old, o1), memtopo_view_last(new, n1));

	runs[0] = memtopo_view_find(old, a);
	runs[1] = memtopo_view_find(old, b);
	runs[2] = memtopo_view_find(new, a);
	runs[3] = memtopo_view_find(new, b);
	return memtopo_view_start(old, runs[0]) == a && memtopo_view_start(new, runs[2]) == a &&
	       memtopo_view_last(old, runs[1]) == b && memtopo_view_last(new, runs[3]) == b;
}

/**
 * memtopo_view_runs_equal() - are the two runs the same entries?
 * @old: the view before.
 * @new: the view after.
 * @runs: from memtopo_view_runs().
 *
 * Return: true if nothing in the runs changed.
 */
bool memtopo_view_runs_equal(const struct memtopo_view *old, const struct memtopo_view *new,
			     const u32 runs[4])
{
	struct memtopo_view_pos po, pn;
	u32 i, n = runs[1] - runs[0] + 1;

	if (n != runs[3] - runs[2] + 1)
		return false;
	memtopo_pos_init(&po, old, runs[0]);
	memtopo_pos_init(&pn, new, runs[2]);
	for (i = 0; i < n; i++, memtopo_pos_next(&po), memtopo_pos_next(&pn)) {
		const struct memtopo_fr *x = memtopo_pos_fr(&po), *y = memtopo_pos_fr(&pn);

		if (memtopo_pos_start(&po) != memtopo_pos_start(&pn) ||
		    x->mr != y->mr || x->offset != y->offset || x->flags != y->flags ||
		    x->dirty_log_mask != y->dirty_log_mask)
			return false;
	}
	return true;
}
