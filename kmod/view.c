// SPDX-License-Identifier: GPL-2.0
/*
 * Flat views: immutable once published, shared by the spaces whose
 * effective roots are equal, freed after an RCU grace period.
 *
 * A view is a two-level tree: the view's own arrays index groups, a group
 * indexes up to MEMTOPO_GROUP_CHUNKS chunks, a chunk holds up to
 * MEMTOPO_CHUNK_ENTRIES entries.  Chunks and groups are copy-on-write,
 * shared between successive views: a commit rebuilds the chunks its window
 * touches and the group holding them, and copies the view's short group
 * index; everything else is shared.  So a commit costs O(window + chunks
 * per group + groups), a few hundred steps at 10^6 ranges, not O(N); a
 * commit that spills a chunk also copies the up to MEMTOPO_SPREAD_CHUNKS
 * neighbours it spreads over, some 2,650 entries at most.
 *
 * Who frees a shared chunk or group.  A view spliced from another keeps a
 * link to it, and the views of one space so form a chain, oldest first
 * (side branches, a splice dropped in its own commit, die before the next
 * splice).  A node is created in one view and held by the views after it
 * until one replaces it; it never comes back, so the views holding it are
 * consecutive in the chain.  It belongs to the oldest living one, and when
 * that view goes, to the next living view of the chain if that one holds
 * it too, or nobody: it is freed with the view, after its grace period
 * (memtopo_view_release()).  A commit therefore touches no node it shares,
 * where a reference count per view and node took and dropped one on every
 * other group and every shared chunk of the rebuilt group: at 10^6 ranges
 * most of a commit, each a locked operation on a line out of the cache.
 *
 * The direct table (struct memtopo_tmid in memtopo_internal.h) follows the
 * same rule: its mids, pages and array of long-entry records are created
 * by one view, held by the views spliced after it until one copies them to
 * rewrite a slot or a record, and belong to the oldest living view holding
 * them.  A lookup that read a slot in a view reaches a chunk that view
 * holds, through pages and records it holds: all of them are freed at the
 * earliest after a grace period that starts once that view is unpublished
 * and released, after the reader left.
 *
 * A group is searched through its direct table or its summary
 * (memtopo_node_find_slot()): every 8th key is copied into a summary; a
 * search of the summary picks a block of 8 keys (one cache line), a search
 * of the block picks the chunk.  No branch to mispredict, and a few cache
 * lines where a binary search touches one per step.  A chunk is searched
 * by a plain branch-free binary search (memtopo_chunk_find()): the view's
 * direct table answers almost every lookup without it, and the bytes a
 * summary and a table would take hold entries instead.
 */
#include <linux/build_bug.h>
#include <linux/export.h>
#include <linux/log2.h>
#include <linux/prefetch.h>
#include <linux/slab.h>

#include "memtopo_internal.h"
#include "selftest.h"

/*
 * Index of the last element <= @key in a sorted array of @n >= 1 elements
 * whose first element is <= @key.  Halving by conditional move: no branch
 * the predictor can miss.
 */
static __always_inline u32 memtopo_bsearch_u64(const u64 *a, u32 n, u64 key)
{
	const u64 *base = a;

	while (n > 1) {
		u32 half = n / 2;

		base = (base[half] <= key) ? base + half : base;
		n -= half;
	}
	return base - a;
}

/*
 * One halving step of a branch-free search: from @i, the window of 2 * @h
 * keys keeps its upper half if that starts at or below @key.  A mask, not
 * a conditional: compilers turn an unrolled conditional into a branch,
 * which random addresses mispredict every other time.
 */
static __always_inline u32 memtopo_step(const u64 *a, u32 i, u32 h, u64 key)
{
	return i + (h & -(u32)(a[i + h] <= key));
}

/*
 * The last step of both node searches: within the block of 8 keys at @i,
 * the index of the last key <= @key, clamped to the node's @n keys.
 */
static __always_inline u32 memtopo_block_find(const u64 *keys, u32 i, u32 n, u64 key)
{
	i = memtopo_step(keys, i, 4, key);
	i = memtopo_step(keys, i, 2, key);
	i = memtopo_step(keys, i, 1, key);
	return min(i, n - 1);
}

/*
 * Index of the last of @n (1..MEMTOPO_NODE_KEYS) sorted @keys that is <=
 * @key, the first being <= @key; @sum holds every 8th key.  A search of
 * the summary (its lines fetched at once) picks a block of 8 keys, one
 * cache line; a search of the block picks the key.  Every step unrolled,
 * no branch.  The padding keys are U64_MAX, above any address but U64_MAX
 * itself, hence the clamp to the last key.
 */
static __always_inline u32 memtopo_node_find(const u64 *sum, const u64 *keys, u32 n, u64 key)
{
	u32 i;

	BUILD_BUG_ON(MEMTOPO_NODE_BLOCKS != 18);
	prefetch(sum + 8);
	prefetch(sum + 16);
	/* windows of 18, 9, 5, 3, 2 summary keys */
	i = memtopo_step(sum, 0, 9, key);
	i = memtopo_step(sum, i, 4, key);
	i = memtopo_step(sum, i, 2, key);
	i = memtopo_step(sum, i, 1, key);
	i = memtopo_step(sum, i, 1, key) * 8;
	return memtopo_block_find(keys, i, n, key);
}

/*
 * The same search with a node's direct table (@slot, @nslots + 1 of them,
 * the last n - 1; @base, the first key, and @shift as the caller knows
 * them, so that the slot's line is the node's first miss): the slot of
 * @key and the next one bound the answer; if
 * fewer than 8 keys lie between, three steps over one window of 8 keys
 * find it.  A slot holding 8 keys or more (a dense spot in a sparse node)
 * falls back to the summary.
 */
static __always_inline u32 memtopo_node_find_slot(const u64 *sum, const u64 *keys, u32 n,
						  u64 base, u32 shift, const u8 *slot, u32 nslots,
						  u64 key)
{
	u64 s = min_t(u64, (key - base) >> shift, nslots - 1);
	u32 lo = slot[s], hi = slot[s + 1], i;

	if (unlikely(hi - lo >= 8))
		return memtopo_node_find(sum, keys, n, key);
	/* the window must stay inside the keys; it still holds lo..hi */
	i = min_t(u32, lo, MEMTOPO_NODE_KEYS - 8);
	return memtopo_block_find(keys, i, n, key);
}

/*
 * Copy every 8th key into @sum, pad the keys (they are masked anyway) and
 * fill the direct table: the smallest shift whose @nslots slots cover the
 * keys' span, each slot the last key at or below its first address.
 *
 * Slot b holds how many keys after the first lie at most b << shift above
 * it: each such key is counted at the first slot it does not exceed, then
 * the counts are summed along the slots, eight to a word.  Walking the
 * slots and keys together instead mispredicts a branch at each key, 0.8
 * us of a one-change commit's splice that rebuilds one group.
 */
static void memtopo_node_seal(u64 *sum, u64 *keys, u32 n, u8 *shift, u8 *slot, u32 nslots)
{
	u64 span = keys[n - 1] - keys[0], mask, w, carry = 0;
	u32 b, k, sh = 0;
	__le64 raw;

	BUILD_BUG_ON(MEMTOPO_NODE_KEYS > 256);	/* slots and their sums are u8 */
	for (b = n; b < MEMTOPO_NODE_KEYS; b++)
		keys[b] = U64_MAX;
	for (b = 0; b < MEMTOPO_NODE_BLOCKS; b++)
		sum[b] = keys[b * 8];
	while ((span >> sh) >= nslots)
		sh++;
	*shift = sh;
	mask = BIT_ULL(sh) - 1;
	memset(slot, 0, nslots + 1);
	/* a key's first slot is at most nslots, a count no sum reads */
	for (k = 1; k < n; k++) {
		u64 d = keys[k] - keys[0];

		slot[(d >> sh) + !!(d & mask)]++;
	}
	for (b = 0; b + 8 <= nslots; b += 8) {
		memcpy(&raw, slot + b, sizeof(raw));
		w = le64_to_cpu(raw);
		w += w << 8;
		w += w << 16;
		w += w << 32;
		w += carry * 0x0101010101010101ULL;
		carry = w >> 56;
		raw = cpu_to_le64(w);
		memcpy(slot + b, &raw, sizeof(raw));
	}
	for (; b < nslots; b++)
		slot[b] = carry += slot[b];
	slot[nslots] = n - 1;
}

/*
 * Pad a filled chunk's keys (its end is not known yet, and none follow)
 * and count its ranges while its entries are in the cache.
 */
static void memtopo_chunk_seal(struct memtopo_chunk *chunk)
{
	u32 k;

	for (k = chunk->nr; k <= MEMTOPO_CHUNK_ENTRIES; k++)
		chunk->starts[k] = U64_MAX;
	chunk->nr_ranges = 0;
	for (k = 0; k < chunk->nr; k++)
		chunk->nr_ranges += !!chunk->fr[k].mr;
}

/*
 * Give @n new, sealed chunks (consecutive in a view) their end: where the
 * next one starts, in the key after the last (a padding key, above every
 * address of the chunk, so it pads as well as U64_MAX does); @next is
 * where the entry after the last chunk starts, 0 if there is none.  A
 * chunk's end never changes while it lives: a splice replaces the chunks
 * holding some [a, b] by new ones holding exactly [a, b].  The direct
 * table so reaches a chunk's last entry without a look at the group.
 */
static void memtopo_chunks_set_ends(struct memtopo_chunk **chunks, u32 n, u64 next)
{
	u32 c;

	for (c = 0; c < n; c++) {
		struct memtopo_chunk *chunk = chunks[c];
		u64 end = c + 1 < n ? chunks[c + 1]->starts[0] : next;

		if (!end)
			continue;
		chunk->starts[chunk->nr] = end;
	}
}

/* Where @chunk's last entry ends, plus one; 0 if the chunk does not say. */
static u64 memtopo_chunk_next(const struct memtopo_chunk *chunk)
{
	u64 next = chunk->starts[chunk->nr];

	return next == U64_MAX ? 0 : next;
}

/* The chunk of @grp holding @addr, which is at or past the group's start. */
static __always_inline u32 memtopo_group_find(const struct memtopo_group *grp, u64 addr)
{
	return memtopo_node_find_slot(grp->sum, grp->chunk_start, grp->nr_chunks,
				      grp->chunk_start[0], grp->shift, grp->slot,
				      MEMTOPO_GROUP_SLOTS, addr);
}

/*
 * The entry of @chunk holding @addr, which the chunk holds.  The search
 * runs over all MEMTOPO_CHUNK_ENTRIES keys, not the chunk's count: the
 * keys past the last entry are its end and padding, above @addr (but for
 * U64_MAX itself, hence the clamp), so the first steps need not wait for
 * the head's line.  Its steps are the same for every chunk: the seven keys
 * the first three can read, each on its own line, are fetched at once,
 * and then the window those steps leave, so a search waits for about two
 * misses, not one a step.  With @prefetch_fr, once the window is down to
 * at most 8 keys (5: 20 halved twice) their entries are fetched while its
 * last three steps run: the caller reads the entry next.
 */
static __always_inline u32 memtopo_chunk_find(const struct memtopo_chunk *chunk, u64 addr,
					      bool prefetch_fr)
{
	const u32 h1 = MEMTOPO_CHUNK_ENTRIES / 2, n1 = MEMTOPO_CHUNK_ENTRIES - h1;
	const u32 h2 = n1 / 2, n2 = n1 - h2, h3 = n2 / 2, n3 = n2 - h3;
	const u64 *a = chunk->starts;
	u32 i, n, c;

	prefetch(&a[h1]);
	prefetch(&a[h2]);
	prefetch(&a[h1 + h2]);
	prefetch(&a[h3]);
	prefetch(&a[h2 + h3]);
	prefetch(&a[h1 + h3]);
	prefetch(&a[h1 + h2 + h3]);
	i = memtopo_step(a, 0, h1, addr);
	i = memtopo_step(a, i, h2, addr);
	i = memtopo_step(a, i, h3, addr);
	for (c = 0; c < n3 * sizeof(*a); c += MEMTOPO_LINE)
		prefetch((const char *)&a[i] + c);
	prefetch(&a[i + n3 - 1]);
	n = n3;
	while (n > 8) {
		u32 half = n / 2;

		i = memtopo_step(a, i, half, addr);
		n -= half;
	}
	if (prefetch_fr) {
		const char *pf = (const char *)&chunk->fr[i];

		for (c = 0; c < n * sizeof(*chunk->fr); c += MEMTOPO_LINE)
			prefetch(pf + c);
		prefetch(pf + n * sizeof(*chunk->fr) - 1);
	}
	while (n > 1) {
		u32 half = n / 2;

		i = memtopo_step(a, i, half, addr);
		n -= half;
	}
	return min(i, chunk->nr - 1);
}

/*
 * The table's pages, 568 bytes, and mids, 528: no kmalloc size fits
 * either closely (a mid took a kmalloc-1024 object), and every commit
 * copies a mid and a page or more.
 */
static struct kmem_cache *memtopo_tpage_cache;
static struct kmem_cache *memtopo_tmid_cache;

/**
 * memtopo_view_cache_exit() - destroy the table page and mid caches
 * (module exit, after rcu_barrier() has run the last view frees).
 */
void memtopo_view_cache_exit(void)
{
	kmem_cache_destroy(memtopo_tmid_cache);
	memtopo_tmid_cache = NULL;
	kmem_cache_destroy(memtopo_tpage_cache);
	memtopo_tpage_cache = NULL;
}

/**
 * memtopo_view_cache_init() - create the table page and mid caches
 * (module init).
 *
 * Return: 0 or -ENOMEM.
 */
int memtopo_view_cache_init(void)
{
	memtopo_tpage_cache = kmem_cache_create("memtopo_tpage", sizeof(struct memtopo_tpage),
						__alignof__(struct memtopo_tpage), SLAB_ACCOUNT,
						NULL);
	if (!memtopo_tpage_cache)
		return -ENOMEM;
	memtopo_tmid_cache = kmem_cache_create("memtopo_tmid", sizeof(struct memtopo_tmid),
					       __alignof__(struct memtopo_tmid), SLAB_ACCOUNT,
					       NULL);
	if (!memtopo_tmid_cache) {
		memtopo_view_cache_exit();
		return -ENOMEM;
	}
	return 0;
}

/*
 * The records of a view that has none, record 0 of every view: an entry
 * ending before any address (its end + 1 is 0), no region.
 */
static const struct memtopo_trec memtopo_trec_none = {
	.starts = { U64_MAX, 0 },
};

#define memtopo_trec_none_chunk ((const struct memtopo_chunk *)&memtopo_trec_none)

/* What @trec, a view's records, holds of its own: nothing if none. */
static size_t memtopo_trec_bytes(const struct memtopo_chunk *trec)
{
	return trec && trec != memtopo_trec_none_chunk ? sizeof(struct memtopo_trec) : 0;
}

static u32 memtopo_bsearch_u32(const u32 *a, u32 n, u32 key)
{
	const u32 *base = a;

	while (n > 1) {
		u32 half = n / 2;

		base = (base[half] <= key) ? base + half : base;
		n -= half;
	}
	return base - a;
}

static struct memtopo_chunk *memtopo_chunk_alloc(void)
{
	struct memtopo_chunk *chunk;

	/* a node is one page: its blocks are cache lines, nothing is wasted */
	BUILD_BUG_ON(sizeof(struct memtopo_chunk) > 4096);
	/* and holds as many entries as it has room for: one more would not fit */
	BUILD_BUG_ON(offsetof(struct memtopo_chunk, nr) + sizeof(u32) + sizeof(u64) +
		     sizeof(struct memtopo_fr) <= 4096);
	BUILD_BUG_ON(sizeof(struct memtopo_group) > 4096);
	chunk = kmalloc(sizeof(*chunk), GFP_KERNEL_ACCOUNT);

	if (chunk)
		chunk->nr = 0;
	return chunk;
}

/* Free @n chunks no view holds: a build that failed, or what a splice made. */
static void memtopo_chunks_free(struct memtopo_chunk **chunks, u32 n)
{
	while (n)
		kfree(chunks[--n]);
}

/* A list of @k groups (through dead_next) to fill, or NULL. */
static struct memtopo_group *memtopo_groups_alloc(u32 k)
{
	struct memtopo_group *head = NULL, *grp;

	while (k--) {
		grp = kmalloc(sizeof(*grp), GFP_KERNEL_ACCOUNT);
		if (!grp) {
			while (head) {
				grp = head->dead_next;
				kfree(head);
				head = grp;
			}
			return NULL;
		}
		grp->dead_next = head;
		head = grp;
	}
	return head;
}

/*
 * The view itself and what memtopo_view_release() found it alone held;
 * after a grace period, or at once for a view never published.
 */
static void memtopo_view_free(struct memtopo_view *view)
{
	struct memtopo_group *grp;
	struct memtopo_chunk *chunk;
	struct memtopo_tmid *mid;
	u32 p;

	while ((mid = view->dead_tmids)) {
		view->dead_tmids = mid->dead_next;
		for (p = 0; p < MEMTOPO_TMID_PAGES; p++)
			if (mid->dead_pages & BIT_ULL(p))
				kmem_cache_free(memtopo_tpage_cache, mid->page[p]);
		kmem_cache_free(memtopo_tmid_cache, mid);
	}
	if (view->tmids != view->tmids_room)
		kvfree(view->tmids);
	if (!view->tlong_kept && view->trec != memtopo_trec_none_chunk)
		kfree(view->trec);
	while ((chunk = view->dead_chunks)) {
		view->dead_chunks = chunk->dead_next;
		kfree(chunk);
	}
	while ((grp = view->dead_groups)) {
		view->dead_groups = grp->dead_next;
		kfree(grp);
	}
	/* with its group index (memtopo_view_alloc()) */
	kvfree(view);
}

static void memtopo_view_free_rcu(struct rcu_head *head)
{
	memtopo_view_free(container_of(head, struct memtopo_view, rcu));
}

/*
 * A walk of another view @w for memtopo_view_release(), which asks about
 * nodes in address order: group @g, chunk @j of it, moving forward only,
 * so a release costs one merge of the two indexes, not a search a node.
 */
struct memtopo_view_cursor {
	const struct memtopo_view *w;	/* NULL: holds nothing */
	u32 g, j;
};

/*
 * Move to the group holding @start (group_start[0] is 0: every view covers
 * the whole address space).  Return: true if it is @grp.
 */
static bool memtopo_cursor_has_group(struct memtopo_view_cursor *c, u64 start,
				     const struct memtopo_group *grp)
{
	const struct memtopo_view *w = c->w;

	if (!w)
		return false;
	while (c->g + 1 < w->nr_groups && w->group_start[c->g + 1] <= start) {
		c->g++;
		c->j = 0;
	}
	return w->groups[c->g] == grp;
}

/* Move to the chunk holding @start.  Return: true if it is @chunk. */
static bool memtopo_cursor_has_chunk(struct memtopo_view_cursor *c, u64 start,
				     const struct memtopo_chunk *chunk)
{
	const struct memtopo_group *grp;

	if (!c->w)
		return false;
	memtopo_cursor_has_group(c, start, NULL);
	grp = c->w->groups[c->g];
	while (c->j + 1 < grp->nr_chunks && grp->chunk_start[c->j + 1] <= start)
		c->j++;
	/* starts are unique in a view: no other chunk of @w starts there */
	return grp->chunks[c->j] == chunk;
}

/* Mid @m of @v's table, if it has one there. */
static const struct memtopo_tmid *memtopo_view_tmid(const struct memtopo_view *v, u32 m)
{
	return v && m < v->nr_tmids ? v->tmids[m] : NULL;
}

/*
 * The table's part of memtopo_view_release(): the same rule, by position
 * (a splice shares a mid or a page only at the index it had, and a
 * resized table shares nothing).  A table a failed build left half made
 * has holes: they are skipped.
 */
static void memtopo_table_release(struct memtopo_view *view, const struct memtopo_view *lender,
				  const struct memtopo_view *borrower)
{
	u32 m = 0, to = view->nr_tmids, p;

	/* elsewhere a neighbour holds the same mid */
	if (lender) {
		m = view->tm_from;
		to = min(to, view->tm_to);
	}
	if (borrower) {
		m = max(m, borrower->tm_from);
		to = min(to, borrower->tm_to);
	}
	for (; m < to; m++) {
		struct memtopo_tmid *mid = view->tmids[m];
		const struct memtopo_tmid *lm = memtopo_view_tmid(lender, m);
		const struct memtopo_tmid *bm = memtopo_view_tmid(borrower, m);

		if (!mid || mid == lm || mid == bm)
			continue;
		mid->dead_pages = 0;
		for (p = 0; p < MEMTOPO_TMID_PAGES; p++) {
			const struct memtopo_tpage *page = mid->page[p];

			if (page && (!lm || lm->page[p] != page) && (!bm || bm->page[p] != page))
				mid->dead_pages |= BIT_ULL(p);
		}
		mid->dead_next = view->dead_tmids;
		view->dead_tmids = mid;
	}
}

/* List every node of @view that neither @lender nor @borrower holds. */
static void memtopo_view_release_walk(struct memtopo_view *view,
				      const struct memtopo_view *lender,
				      const struct memtopo_view *borrower)
{
	struct memtopo_view_cursor l = { .w = lender }, b = { .w = borrower };
	u32 g, j;

	for (g = 0; g < view->nr_groups; g++) {
		struct memtopo_group *grp = view->groups[g];
		u64 start = view->group_start[g];

		/* a group's chunks go where the group goes */
		if (memtopo_cursor_has_group(&l, start, grp) ||
		    memtopo_cursor_has_group(&b, start, grp))
			continue;
		for (j = 0; j < grp->nr_chunks; j++) {
			struct memtopo_chunk *chunk = grp->chunks[j];

			start = grp->chunk_start[j];
			if (memtopo_cursor_has_chunk(&l, start, chunk) ||
			    memtopo_cursor_has_chunk(&b, start, chunk))
				continue;
			chunk->dead_next = view->dead_chunks;
			view->dead_chunks = chunk;
		}
		grp->dead_next = view->dead_groups;
		view->dead_groups = grp;
	}
}

/* List the nodes of @view that @s names (in @view's indexes). */
static void memtopo_view_release_span(struct memtopo_view *view,
				      const struct memtopo_view_span *s)
{
	u32 g, j, c = s->c_from;

	for (g = s->g_from; g < s->g_to; g++) {
		view->groups[g]->dead_next = view->dead_groups;
		view->dead_groups = view->groups[g];
	}
	if (c >= s->c_to)
		return;
	g = memtopo_bsearch_u32(view->group_cfirst, view->nr_groups, c);
	for (j = c - view->group_cfirst[g]; c < s->c_to; c++, j++) {
		struct memtopo_chunk *chunk;

		if (j == view->groups[g]->nr_chunks) {
			g++;
			j = 0;
		}
		chunk = view->groups[g]->chunks[j];
		chunk->dead_next = view->dead_chunks;
		view->dead_chunks = chunk;
	}
}

static u32 memtopo_span_groups(const struct memtopo_view_span *s)
{
	return s->g_to - s->g_from;
}

static u32 memtopo_span_chunks(const struct memtopo_view_span *s)
{
	return s->c_to - s->c_from;
}

/*
 * @view leaves the chain between @view->lender and @b, both holding
 * spans: give @b spans against the lender.  The lender's nodes @b does
 * not hold are those @view replaced and those @b replaced of the ones
 * @view shared; the nodes @b holds that the lender does not are those
 * @view made and those @b made.  A commit splices its windows in address
 * order (memtopo_windows_of()), so where @b rebuilt no group @view made
 * or one before it, @b's pairs all follow @view's: @view's made spans
 * are where @b has them, and @b's replaced spans move from @view's index
 * to the lender's by what @view's pairs took out and put in.
 * Return: false if they cannot be handed on (@b rebuilt a group @view
 * made or one before it, or the pairs are more than a view keeps).
 */
static bool memtopo_view_spans_compose(const struct memtopo_view *view, struct memtopo_view *b)
{
	u32 i, n = view->nr_spans, dg = 0, dc = 0;

	if (n + b->nr_spans > MEMTOPO_VIEW_SPANS ||
	    b->replaced[0].g_from < view->made[n - 1].g_to)
		return false;
	for (i = 0; i < n; i++) {
		dg += memtopo_span_groups(&view->replaced[i]) - memtopo_span_groups(&view->made[i]);
		dc += memtopo_span_chunks(&view->replaced[i]) - memtopo_span_chunks(&view->made[i]);
	}
	/*
	 * @b's pairs move @n places on, the last first; its replaced spans
	 * by @dg groups and @dc chunks (u32 arithmetic: where @view took out
	 * more than it put in, they wrap and the indexes move down)
	 */
	for (i = b->nr_spans; i--; ) {
		const struct memtopo_view_span *r = &b->replaced[i];

		b->replaced[n + i] = (struct memtopo_view_span){ r->g_from + dg, r->g_to + dg,
								 r->c_from + dc, r->c_to + dc };
		b->made[n + i] = b->made[i];
	}
	memcpy(b->replaced, view->replaced, n * sizeof(*b->replaced));
	memcpy(b->made, view->made, n * sizeof(*b->made));
	b->nr_spans += n;
	return true;
}

/*
 * @view's last reference is gone: list what it alone holds for
 * memtopo_view_free(), and take it out of its chain.
 *
 * A node @view holds belongs to it unless its lender holds it too (the
 * chain's older views come first).  Of those, the ones its borrower holds
 * pass to the borrower; the others nobody else holds, since the views
 * holding a node are consecutive in the chain.  They are freed after the
 * grace period the caller starts: only readers of @view can still reach
 * them, and those began before @view was unpublished.  A node that passes
 * on is freed, later, with a younger view, after a grace period that
 * begins later still.  A lookup that entered @view therefore finds every
 * group and chunk it reads alive until it leaves its RCU read section.
 *
 * Which nodes those are, the splices said: what @view's splices made is
 * what its lender does not hold, what its borrower's replaced is what the
 * borrower does not hold, and both are index ranges of @view.  So
 * dropping the oldest kept view (no lender), the usual case, costs the
 * nodes one commit replaced, not a walk of the group index.  A view
 * released from the middle of the chain (a commit's splice of one window
 * of several) hands its spans on to its borrower.  When a neighbour's
 * spans are gone (they could not be handed on), the two neighbours'
 * indexes are merged with @view's instead: the groups, and the chunks of
 * the groups it does not share with them.
 */
static void memtopo_view_release(struct memtopo_view *view)
{
	struct memtopo_view *lender = view->lender, *borrower = view->borrower;
	bool own = lender && view->nr_spans, lent = borrower && borrower->nr_spans;
	u32 i, j;

	memtopo_table_release(view, lender, borrower);
	/* the records go as a page does (memtopo_tlong_splice()) */
	view->tlong_kept = (lender && lender->trec == view->trec) ||
			   (borrower && borrower->trec == view->trec);
	if (own && lent) {
		/* the pairs of each are apart: every node is in one meeting at most */
		for (i = 0; i < view->nr_spans; i++) {
			for (j = 0; j < borrower->nr_spans; j++) {
				const struct memtopo_view_span *a = &view->made[i];
				const struct memtopo_view_span *b = &borrower->replaced[j];
				struct memtopo_view_span both = {
					.g_from = max(a->g_from, b->g_from),
					.g_to = min(a->g_to, b->g_to),
					.c_from = max(a->c_from, b->c_from),
					.c_to = min(a->c_to, b->c_to),
				};

				memtopo_view_release_span(view, &both);
			}
		}
	} else if (own && !borrower) {
		for (i = 0; i < view->nr_spans; i++)
			memtopo_view_release_span(view, &view->made[i]);
	} else if (!lender && lent) {
		for (j = 0; j < borrower->nr_spans; j++)
			memtopo_view_release_span(view, &borrower->replaced[j]);
	} else {
		memtopo_view_release_walk(view, lender, borrower);
	}
	if (lender)
		lender->borrower = borrower;
	if (borrower) {
		borrower->lender = lender;
		/* they were taken against @view */
		if (!own || !lent || !memtopo_view_spans_compose(view, borrower))
			borrower->nr_spans = 0;
		borrower->tm_from = min(borrower->tm_from, view->tm_from);
		borrower->tm_to = max(borrower->tm_to, view->tm_to);
	}
	view->lender = NULL;
	view->borrower = NULL;
}

/**
 * memtopo_view_put() - drop a reference; readers may still walk the view
 * until a grace period has passed, so the memory goes after one.
 * @view: the view (may be NULL).
 *
 * Context: the context mutex held, if the view was spliced or spliced
 * from (its chain is the writers'); any context for a view that was
 * neither (a full render no commit published).
 */
void memtopo_view_put(struct memtopo_view *view)
{
	if (view && refcount_dec_and_test(&view->ref)) {
		memtopo_view_release(view);
		call_rcu(&view->rcu, memtopo_view_free_rcu);
	}
}

/**
 * memtopo_view_own_bytes() - the bytes of a view's own allocation.
 * @view: a view.
 *
 * The struct, its group index and the room for a splice's tmids
 * (memtopo_view_alloc()), whether or not the table used that room.
 *
 * Context: any; reads fields that do not change once a view is built.
 * Return: bytes.
 */
size_t memtopo_view_own_bytes(const struct memtopo_view *view)
{
	size_t idx = sizeof(*view->group_start) + sizeof(*view->group_first) +
		     sizeof(*view->group_cfirst) + sizeof(*view->groups);

	return sizeof(*view) + (size_t)max(view->nr_groups, 1u) * idx +
	       (size_t)view->nr_tmids_room * sizeof(*view->tmids_room);
}

/* The bytes of @view's tmids array where it is not in the view's own allocation. */
static size_t memtopo_view_tmids_bytes(const struct memtopo_view *view)
{
	return view->tmids == view->tmids_room ? 0 :
	       (size_t)view->nr_tmids * sizeof(*view->tmids);
}

/**
 * memtopo_view_bytes() - the memory a view holds: itself, its group index,
 * its groups and their chunks, and its direct table.
 * @view: the view.
 *
 * What a published view costs its context's budget.  Groups and chunks
 * shared with an older view are counted here too, so the published view is
 * charged whole; an older view a space keeps for resync by difference is
 * charged only what it keeps alive that the view after it does not
 * (history.c).
 *
 * Return: bytes.
 */
size_t memtopo_view_bytes(const struct memtopo_view *view)
{
	return memtopo_view_own_bytes(view) +
	       (size_t)view->nr_groups * sizeof(struct memtopo_group) +
	       (size_t)view->nr_chunks * sizeof(struct memtopo_chunk) +
	       memtopo_view_tmids_bytes(view) +
	       (size_t)view->nr_tmids * sizeof(struct memtopo_tmid) +
	       (size_t)DIV_ROUND_UP(view->tslots, MEMTOPO_TPAGE_SLOTS) *
	       sizeof(struct memtopo_tpage) + memtopo_trec_bytes(view->trec);
}

/**
 * memtopo_view_table_unique_bytes() - what @old's direct table keeps alive
 * that @new's does not.
 * @old: a view.
 * @new: a later view of the same space (spliced from @old or not: pieces
 *	are compared by position, and a rebuilt table shares none).
 *
 * Context: the context mutex held (both views' chain is the writers').
 *
 * Return: bytes: @old's mid array and records, its mids and pages @new
 * does not hold.
 */
size_t memtopo_view_table_unique_bytes(const struct memtopo_view *old,
				       const struct memtopo_view *new)
{
	size_t bytes = memtopo_view_tmids_bytes(old);
	u32 m = 0, to = old->nr_tmids, p;

	if (old->trec != new->trec)
		bytes += memtopo_trec_bytes(old->trec);
	if (memtopo_view_borrows_from(new, old)) {
		m = new->tm_from;
		to = min(to, new->tm_to);
	}
	for (; m < to; m++) {
		const struct memtopo_tmid *mid = old->tmids[m], *nm = memtopo_view_tmid(new, m);

		if (mid == nm)
			continue;
		bytes += sizeof(*mid);
		for (p = 0; p < MEMTOPO_TMID_PAGES; p++)
			if (mid->page[p] && (!nm || nm->page[p] != mid->page[p]))
				bytes += sizeof(*mid->page[p]);
	}
	return bytes;
}

/*
 * A view with room for @nr_groups groups and none yet, and for @nr_tmids
 * pointers to direct-table mids (a splice's copy of its lender's; 0: the
 * table's build allocates its own).  The view, its group index and that
 * copy are one allocation: every commit makes a view and frees one
 * replaced a grace period before, whose memory comes back long out of the
 * cache, and each allocation is one more cold header and free.
 */
static struct memtopo_view *memtopo_view_alloc(u32 nr_groups, u32 nr_tmids)
{
	struct memtopo_view *view;
	size_t bytes;

	nr_groups = max(nr_groups, 1u);
	/* the u64 array first, then pointers: each array aligned, on 32 bits too */
	bytes = size_add(sizeof(*view),
			 size_add(size_mul(nr_groups, sizeof(*view->groups) +
						      sizeof(*view->group_start) +
						      sizeof(*view->group_first) +
						      sizeof(*view->group_cfirst)),
				  size_mul(nr_tmids, sizeof(*view->tmids))));
	view = kvzalloc(bytes, GFP_KERNEL_ACCOUNT);
	if (!view)
		return NULL;
	refcount_set(&view->ref, 1);
	view->tm_to = U32_MAX;
	view->group_start = (u64 *)(view + 1);
	view->groups = (struct memtopo_group **)(view->group_start + nr_groups);
	view->tmids_room = nr_tmids ? (struct memtopo_tmid **)(view->groups + nr_groups) : NULL;
	view->nr_tmids_room = nr_tmids;
	view->group_first = (u32 *)((struct memtopo_tmid **)(view->groups + nr_groups) + nr_tmids);
	view->group_cfirst = view->group_first + nr_groups;
	return view;
}

/* Append group @grp, holding @nr entries in @nr_chunks chunks, to a view being built. */
static void memtopo_view_add_group(struct memtopo_view *v, struct memtopo_group *grp, u64 start,
				   u32 nr, u32 nr_chunks)
{
	v->groups[v->nr_groups] = grp;
	v->group_start[v->nr_groups] = start;
	v->group_first[v->nr_groups] = v->nr;
	v->group_cfirst[v->nr_groups] = v->nr_chunks;
	v->nr_groups++;
	v->nr += nr;
	v->nr_chunks += nr_chunks;
}

/*
 * Append groups @from..@to - 1 of @old, shared: what the index needs of
 * them comes from @old's index, copied a run at a time, so the groups
 * themselves, at 10^6 ranges most likely out of the cache, are not read.
 */
static void memtopo_view_share_groups(struct memtopo_view *v, const struct memtopo_view *old,
				      u32 from, u32 to)
{
	u32 n = to - from, at = v->nr_groups, i, first_to, cfirst_to;
	/* where the groups' entries and chunks start in @v less in @old: mod 2^32 */
	u32 moved, cmoved;

	if (!n)
		return;
	moved = v->nr - old->group_first[from];
	cmoved = v->nr_chunks - old->group_cfirst[from];
	first_to = to == old->nr_groups ? old->nr : old->group_first[to];
	cfirst_to = to == old->nr_groups ? old->nr_chunks : old->group_cfirst[to];
	memcpy(v->groups + at, old->groups + from, n * sizeof(*v->groups));
	memcpy(v->group_start + at, old->group_start + from, n * sizeof(*v->group_start));
	for (i = 0; i < n; i++) {
		v->group_first[at + i] = old->group_first[from + i] + moved;
		v->group_cfirst[at + i] = old->group_cfirst[from + i] + cmoved;
	}
	v->nr_groups += n;
	v->nr += first_to - old->group_first[from];
	v->nr_chunks += cfirst_to - old->group_cfirst[from];
}

/*
 * Chunks to group, with what the group index needs of each (first start,
 * entry count), taken from where it is already known rather
 * than from the chunk; without @starts, from the chunks.
 */
struct memtopo_chunk_list {
	struct memtopo_chunk **chunks;
	u64 *starts;
	u32 *nrs;
	u32 n;
};

/*
 * Group the chunks of @list into @k groups, spread evenly, taken from
 * @groups (a list of at least @k, from memtopo_groups_alloc()), appended to
 * @v.  A splice knows what the index needs of a shared chunk from the group
 * it rebuilds, so the chunk is not read: at 10^6 ranges most of a group's
 * chunks are not in the cache.
 */
static void memtopo_view_add_chunks(struct memtopo_view *v, struct memtopo_group *groups,
				    const struct memtopo_chunk_list *list, u32 k)
{
	const u64 *starts = list->starts;
	u32 g, j, n = list->n, from = 0;

	for (g = 0; g < k; g++) {
		u32 take = n / k + (g < n % k);
		struct memtopo_group *grp = groups;

		groups = grp->dead_next;
		grp->nr_chunks = take;
		grp->nr = 0;
		/*
		 * Copied whole where the list has them (a splice's does): this
		 * function, storing the three arrays an element at a time, then
		 * sealing the group, took over a quarter of a splice at 10^5
		 * entries (tools/vm/profile-uml), and a fifth more once a change
		 * elsewhere moved its code by 16 bytes.
		 */
		memcpy(grp->chunks, list->chunks + from, take * sizeof(*grp->chunks));
		if (starts) {
			memcpy(grp->chunk_start, starts + from, take * sizeof(*starts));
			for (j = 0; j < take; j++) {
				grp->chunk_first[j] = grp->nr;
				grp->nr += list->nrs[from + j];
			}
		} else {
			for (j = 0; j < take; j++) {
				const struct memtopo_chunk *chunk = grp->chunks[j];

				grp->chunk_start[j] = chunk->starts[0];
				grp->chunk_first[j] = grp->nr;
				grp->nr += chunk->nr;
			}
		}
		memtopo_node_seal(grp->sum, grp->chunk_start, take, &grp->shift, grp->slot,
				  MEMTOPO_GROUP_SLOTS);
		memtopo_view_add_group(v, grp, grp->chunk_start[0], grp->nr, take);
		from += take;
	}
}

/*
 * Append to @v group @grp: @old with its chunks @j_lo..@j_hi replaced by
 * the @kc chunks of @list from @j_lo on (with their starts and counts).
 * The arrays are copied around them, and the direct table too where the
 * keys did not change (the new chunks start where the old ones did, as a
 * change inside them leaves them): what memtopo_view_add_chunks() makes of
 * the same chunks in one group, without a list of the shared ones.
 */
static void memtopo_view_patch_group(struct memtopo_view *v, struct memtopo_group *grp,
				     const struct memtopo_group *old, u32 j_lo, u32 j_hi,
				     const struct memtopo_chunk_list *list, u32 kc)
{
	u32 tail = old->nr_chunks - j_hi - 1, at = j_lo + kc, was, now = 0, j;
	bool same = kc == j_hi - j_lo + 1;

	was = (j_hi + 1 < old->nr_chunks ? old->chunk_first[j_hi + 1] : old->nr) -
	      old->chunk_first[j_lo];
	memcpy(grp->chunks, old->chunks, j_lo * sizeof(*grp->chunks));
	memcpy(grp->chunks + j_lo, list->chunks + j_lo, kc * sizeof(*grp->chunks));
	memcpy(grp->chunks + at, old->chunks + j_hi + 1, tail * sizeof(*grp->chunks));
	memcpy(grp->chunk_start, old->chunk_start, j_lo * sizeof(*grp->chunk_start));
	memcpy(grp->chunk_first, old->chunk_first, j_lo * sizeof(*grp->chunk_first));
	for (j = 0; j < kc; j++) {
		same = same && list->starts[j_lo + j] == old->chunk_start[j_lo + j];
		grp->chunk_start[j_lo + j] = list->starts[j_lo + j];
		grp->chunk_first[j_lo + j] = old->chunk_first[j_lo] + now;
		now += list->nrs[j_lo + j];
	}
	/* with the padding keys past the last, when the count is the same */
	memcpy(grp->chunk_start + at, old->chunk_start + j_hi + 1,
	       (same ? MEMTOPO_NODE_KEYS - at : tail) * sizeof(*grp->chunk_start));
	for (j = 0; j < tail; j++)
		grp->chunk_first[at + j] = old->chunk_first[j_hi + 1 + j] + now - was;
	grp->nr_chunks = at + tail;
	grp->nr = old->nr + now - was;
	if (same) {
		memcpy(grp->sum, old->sum, sizeof(grp->sum));
		memcpy(grp->slot, old->slot, sizeof(grp->slot));
		grp->shift = old->shift;
	} else {
		memtopo_node_seal(grp->sum, grp->chunk_start, grp->nr_chunks, &grp->shift,
				  grp->slot, MEMTOPO_GROUP_SLOTS);
	}
	memtopo_view_add_group(v, grp, grp->chunk_start[0], grp->nr, grp->nr_chunks);
}

/*
 * How many of @nr entries new chunk @c of @k takes: an even share, or with
 * @at_end all of a chunk but for the last two, which share the rest evenly
 * (more than one chunk's worth: each is at least half full).
 */
static u32 memtopo_chunk_take(u32 nr, u32 k, u32 c, bool at_end)
{
	if (at_end && k > 2) {
		if (c < k - 2)
			return MEMTOPO_CHUNK_ENTRIES;
		nr -= (k - 2) * MEMTOPO_CHUNK_ENTRIES;
		c -= k - 2;
		k = 2;
	}
	return nr / k + (c < nr % k);
}

/*
 * Fill @out with @k new chunks holding the @nr entries of @run[0, @nr_runs),
 * spread as memtopo_chunk_take() says: each run is copied straight into
 * the chunks.
 */
static int memtopo_chunks_from_runs(struct memtopo_chunk **out, const struct memtopo_run *run,
				    u32 nr_runs, u32 nr, u32 k, bool at_end)
{
	u32 c, take, left, r = 0, at = 0;

	for (c = 0; c < k; c++) {
		struct memtopo_chunk *chunk = memtopo_chunk_alloc();

		if (!chunk) {
			memtopo_chunks_free(out, c);
			return -ENOMEM;
		}
		take = memtopo_chunk_take(nr, k, c, at_end);
		while (chunk->nr < take && r < nr_runs) {
			left = min(run[r].nr - at, take - chunk->nr);
			memcpy(chunk->starts + chunk->nr, run[r].starts + at,
			       left * sizeof(*chunk->starts));
			memcpy(chunk->fr + chunk->nr, run[r].fr + at, left * sizeof(*chunk->fr));
			chunk->nr += left;
			at += left;
			if (at == run[r].nr) {
				r++;
				at = 0;
			}
		}
		memtopo_chunk_seal(chunk);
		out[c] = chunk;
	}
	return 0;
}

/* Find entry @i: its group, the chunk within it, the entry within that. */
static void memtopo_view_locate(const struct memtopo_view *v, u32 i, u32 *g, u32 *j, u32 *k)
{
	const struct memtopo_group *grp;

	*g = memtopo_bsearch_u32(v->group_first, v->nr_groups, i);
	grp = v->groups[*g];
	i -= v->group_first[*g];
	*j = memtopo_bsearch_u32(grp->chunk_first, grp->nr_chunks, i);
	*k = i - grp->chunk_first[*j];
}

/**
 * memtopo_view_entry() - where entry @i of a view lives.
 * @v: the view.
 * @i: an entry index below v->nr.
 * @k: out: its index in the chunk.
 *
 * Context: an RCU read section or the context mutex keeping @v.
 *
 * Return: the chunk holding it.
 */
const struct memtopo_chunk *memtopo_view_entry(const struct memtopo_view *v, u32 i, u32 *k)
{
	u32 g, j;

	memtopo_view_locate(v, i, &g, &j, k);
	return v->groups[g]->chunks[j];
}
EXPORT_SYMBOL_FOR_MEMTOPO_TESTS(memtopo_view_entry);

/**
 * memtopo_view_chunk() - chunk @c of a view.
 * @view: the view.
 * @c: a chunk index below view->nr_chunks.
 * @first: out: the index of its first entry (may be NULL).
 *
 * Return: the chunk.
 */
const struct memtopo_chunk *memtopo_view_chunk(const struct memtopo_view *view, u32 c,
					       u32 *first)
{
	u32 g = memtopo_bsearch_u32(view->group_cfirst, view->nr_groups, c);
	const struct memtopo_group *grp = view->groups[g];

	c -= view->group_cfirst[g];
	if (first)
		*first = view->group_first[g] + grp->chunk_first[c];
	return grp->chunks[c];
}

/* The first start of chunk @c of @view, from its group: the chunk is not read. */
static u64 memtopo_view_chunk_start(const struct memtopo_view *view, u32 c)
{
	u32 g = memtopo_bsearch_u32(view->group_cfirst, view->nr_groups, c);

	return view->groups[g]->chunk_start[c - view->group_cfirst[g]];
}

/**
 * memtopo_pos_init() - start a walk at entry @i.
 * @p: the position.
 * @v: the view.
 * @i: an entry index, at most v->nr (the end).
 *
 * Context: an RCU read section or the context mutex keeping @v for as long
 * as the walk lasts (@p points into it).
 */
void memtopo_pos_init(struct memtopo_view_pos *p, const struct memtopo_view *v, u32 i)
{
	p->v = v;
	p->i = i;
	if (i < v->nr) {
		memtopo_view_locate(v, i, &p->g, &p->j, &p->k);
	} else {
		/* the end: one past the last entry of the last chunk */
		p->g = v->nr_groups - 1;
		p->j = v->groups[p->g]->nr_chunks - 1;
		p->k = v->groups[p->g]->chunks[p->j]->nr;
	}
	p->grp = v->groups[p->g];
	p->chunk = p->grp->chunks[p->j];
}
EXPORT_SYMBOL_FOR_MEMTOPO_TESTS(memtopo_pos_init);

/**
 * memtopo_pos_next_chunk() - move a walk past the end of its chunk.
 * @p: the position, at the end of its chunk.
 *
 * Context: an RCU read section or the context mutex keeping the view of @p.
 */
void memtopo_pos_next_chunk(struct memtopo_view_pos *p)
{
	if (p->j + 1 < p->grp->nr_chunks) {
		p->j++;
	} else if (p->g + 1 < p->v->nr_groups) {
		p->grp = p->v->groups[++p->g];
		p->j = 0;
	} else {
		return;		/* the end of the view */
	}
	p->chunk = p->grp->chunks[p->j];
	p->k = 0;
}
EXPORT_SYMBOL_FOR_MEMTOPO_TESTS(memtopo_pos_next_chunk);

/**
 * memtopo_pos_prefetch_next() - start fetching, whole, the chunk a walk
 * reaches after its current one.
 * @p: the position.
 *
 * For a walk that goes on past its chunk: the next chunk's
 * lines then arrive while this one's entries are handled
 * (memtopo_chunk_prefetch()).
 *
 * Context: an RCU read section or the context mutex keeping the view of @p.
 */
void memtopo_pos_prefetch_next(const struct memtopo_view_pos *p)
{
	if (p->j + 1 < p->grp->nr_chunks)
		memtopo_chunk_prefetch(p->grp->chunks[p->j + 1]);
	else if (p->g + 1 < p->v->nr_groups)
		memtopo_chunk_prefetch(p->v->groups[p->g + 1]->chunks[0]);
}

/**
 * memtopo_chunk_prefetch() - start fetching a chunk whole.
 * @chunk: a chunk of a view.
 *
 * Chunks are scattered, so the CPU's own prefetchers, which follow a
 * stream within a page, find a chunk's lines only once its reader misses
 * on them: whoever knows early which chunk it will read whole fetches
 * it while it does other work.
 *
 * Context: an RCU read section or the context mutex keeping @chunk's view.
 */
void memtopo_chunk_prefetch(const struct memtopo_chunk *chunk)
{
	size_t c;

	for (c = 0; c < sizeof(*chunk); c += MEMTOPO_LINE)
		prefetch((const char *)chunk + c);
}

/* Where chunk @j of group @g of @v ends: the next one's start - 1, or U64_MAX. */
static __always_inline u64 memtopo_chunk_last(const struct memtopo_view *v, u32 g, u32 j)
{
	const struct memtopo_group *grp = v->groups[g];

	if (j + 1 < grp->nr_chunks)
		return grp->chunk_start[j + 1] - 1;
	return g + 1 < v->nr_groups ? v->group_start[g + 1] - 1 : U64_MAX;
}

/**
 * memtopo_pos_chunk_end() - where the entries of a walk's chunk end.
 * @p: the position.
 *
 * Context: an RCU read section or the context mutex keeping the view of @p.
 *
 * Return: the start of the next chunk, minus one (U64_MAX for the last).
 */
u64 memtopo_pos_chunk_end(const struct memtopo_view_pos *p)
{
	return memtopo_chunk_last(p->v, p->g, p->j);
}
EXPORT_SYMBOL_FOR_MEMTOPO_TESTS(memtopo_pos_chunk_end);

/* Fill @s from entry @k of @chunk, which runs from @start to @last. */
static __always_inline void memtopo_entry_section(const struct memtopo_chunk *chunk, u32 k,
						  u64 start, u64 last, struct memtopo_section *s)
{
	const struct memtopo_fr *fr = &chunk->fr[k];

	s->start = start;
	s->last = last;
	s->mr = fr->mr;
	s->offset = fr->offset;
	s->flags = fr->flags;
	s->dirty_log_mask = fr->dirty_log_mask;
}

/* Fill @s from entry @k of @chunk; @chunk_end is where the chunk ends. */
static __always_inline void memtopo_chunk_section(const struct memtopo_chunk *chunk, u32 k,
						  u64 chunk_end, struct memtopo_section *s)
{
	memtopo_entry_section(chunk, k, chunk->starts[k],
			      k + 1 < chunk->nr ? chunk->starts[k + 1] - 1 : chunk_end,
			      s);
}

/**
 * memtopo_pos_section() - describe the entry at a walk's position: the
 * one section builder.
 * @p: the position (not past the end).
 * @s: filled in, the view's generation included.
 */
void memtopo_pos_section(const struct memtopo_view_pos *p, struct memtopo_section *s)
{
	memtopo_chunk_section(p->chunk, p->k, memtopo_pos_chunk_end(p), s);
	s->generation = p->v->generation;
}

/**
 * memtopo_pos_find() - start a walk at the entry holding @addr.
 * @p: the position.
 * @v: a published view (it always has an entry starting at 0).
 * @addr: the address.
 *
 * The one search by address besides the readers' lookup: the position it
 * leaves names the entry's chunk, so what a caller asks next (the entry's
 * bounds, its chunk's index and first entry) costs no second search.
 *
 * Context: an RCU read section or the context mutex keeping @v for as long
 * as the walk lasts (@p points into it).
 */
void memtopo_pos_find(struct memtopo_view_pos *p, const struct memtopo_view *v, u64 addr)
{
	u32 g = memtopo_bsearch_u64(v->group_start, v->nr_groups, addr);
	const struct memtopo_group *grp = v->groups[g];
	u32 j = memtopo_group_find(grp, addr);

	p->v = v;
	p->grp = grp;
	p->chunk = grp->chunks[j];
	p->g = g;
	p->j = j;
	p->k = memtopo_chunk_find(p->chunk, addr, false);
	p->i = v->group_first[g] + grp->chunk_first[j] + p->k;
}

/**
 * memtopo_pos_chunk_index() - the index of a walk's chunk among all its
 * view's chunks (memtopo_view_chunk()'s @c).
 * @p: the position.
 *
 * Context: an RCU read section or the context mutex keeping the view of @p.
 *
 * Return: the chunk's index.
 */
u32 memtopo_pos_chunk_index(const struct memtopo_view_pos *p)
{
	return p->v->group_cfirst[p->g] + p->j;
}

/* The entry holding @addr, with its first and last address. */
static u32 memtopo_view_find_at(const struct memtopo_view *view, u64 addr, u64 *first,
				u64 *last)
{
	struct memtopo_view_pos p;

	memtopo_pos_find(&p, view, addr);
	*first = memtopo_pos_start(&p);
	*last = memtopo_pos_last(&p);
	return p.i;
}

/*
 * A lookup the direct table cannot answer: through the group and the
 * chunk.  A view of one group (every view too small for a table, a
 * hypervisor's own maps among them) is in the cache: its chunks' starts,
 * then all the chunk's keys (the same steps for every chunk: a count of
 * the chunk's own mispredicted the loop's end wherever chunks' counts
 * differ), are searched by conditional moves, without the group's slots
 * and the fetches ahead of memtopo_chunk_find(), which are built for a
 * big view's misses and here took three to four times the bare search's
 * time.  Returns as memtopo_view_lookup() does.
 */
static noinline int memtopo_view_lookup_groups(const struct memtopo_view *view, u64 addr,
					       struct memtopo_section *s)
{
	const struct memtopo_group *grp;
	const struct memtopo_chunk *chunk;
	u32 g = 0, j, k;

	if (view->nr_groups == 1) {
		grp = view->groups[0];
		j = memtopo_bsearch_u64(grp->chunk_start, grp->nr_chunks, addr);
		chunk = grp->chunks[j];
		k = min(memtopo_bsearch_u64(chunk->starts, MEMTOPO_CHUNK_ENTRIES + 1, addr),
			chunk->nr - 1);
	} else {
		g = memtopo_bsearch_u64(view->group_start, view->nr_groups, addr);
		grp = view->groups[g];
		j = memtopo_group_find(grp, addr);
		chunk = grp->chunks[j];
		k = memtopo_chunk_find(chunk, addr, true);
	}
	if (!chunk->fr[k].mr)
		return -ENOENT;
	memtopo_chunk_section(chunk, k, memtopo_chunk_last(view, g, j), s);
	s->generation = view->generation;
	return 0;
}

/**
 * memtopo_view_lookup() - the section holding @addr, straight from the
 * tree (the readers' fast path).
 * @view: the view.
 * @addr: the address.
 * @s: filled in, generation included, when a region is mapped at @addr;
 *	otherwise undefined.
 *
 * Context: an RCU read section (or the context mutex) keeping @view.
 *
 * Return: 0 if a region is mapped at @addr, else -ENOENT: what
 * memtopo_space_lookup() returns, so that its group search is a tail call.
 */
__always_inline int memtopo_view_lookup(const struct memtopo_view *view, u64 addr,
					struct memtopo_section *s)
{
	const struct memtopo_tpage *page;
	const struct memtopo_chunk *chunk;
	const u64 *keys;
	const char *pf;
	unsigned long pa, pr;
	u64 start, end, y;
	u32 k, k0, x, f, c;
	u16 t;

	if (unlikely(!view->tslots))
		return memtopo_view_lookup_groups(view, addr, s);
	/*
	 * The address in eighths of a slot: one shift gives the slot and its
	 * eighth, where a shift each put one more load and shift on every
	 * lookup (overlap at 10^6 ranges, the two timed in turns in one
	 * process: 5% less a lookup).
	 */
	y = addr >> view->tshift8;
	x = min_t(u64, y / 8, view->tslots - 1);
	page = memtopo_tpage_of(view, x);
	t = page->slot[x % MEMTOPO_TPAGE_SLOTS];
	/*
	 * A slot of chunk 0 names a record (or record 0, none) as an entry of
	 * the view's records read as a chunk: the address of the pointer to
	 * load is chosen, not the path, so a record slot goes the way a chunk
	 * slot does, with no branch that random addresses would mispredict
	 * as often as they land in a long entry.  Both addresses are hidden
	 * from the compiler, which would otherwise load through a branch; the
	 * page's for chunk 0 is computed, never read.
	 */
	c = memtopo_tslot_chunk(t);
	pa = (unsigned long)page->chunk + ((unsigned long)c - 1) * sizeof(*page->chunk);
	pr = (unsigned long)&view->trec;
	OPTIMIZER_HIDE_VAR(pa);
	OPTIMIZER_HIDE_VAR(pr);
	chunk = *(const struct memtopo_chunk * const *)(c ? pa : pr);
	/*
	 * The entry is one of the slot's 1..8 (1 + MEMTOPO_TSLOT_STARTS_MAX),
	 * the chunk's last only if the chunk keeps its end
	 * (memtopo_chunks_set_ends()).  With no other start inside
	 * the slot (most of them in a regular map: there is about a slot per
	 * entry) it is the first; with one or two the slot places on eighths of
	 * it (most of the rest where starts are aligned, as pages are), the
	 * first plus those at or below the eighth @addr is in.  Either way the
	 * key and entry lines are read at once, nothing waits on a key, and one
	 * path serves all these forms: random addresses mispredict any branch
	 * between them.  A branch, not a mask, to the other slots: a masked
	 * compare would make every entry's address wait for the key's line
	 * (nearly twice as slow, measured on a regular map).  Up to
	 * MEMTOPO_TSLOT_STARTS_MAX more starts: count those at or below @addr,
	 * the first three by compares that do not wait on each other, the
	 * entries' lines fetched meanwhile, any after them one at a time.
	 */
	k = memtopo_tslot_k(t);
	f = memtopo_tslot_form(t);
	/*
	 * An exact slot's entry is the slot: its start and end + 1 come from
	 * the slot's index, and the chunk's key line is never needed, a third
	 * of the bytes a lookup of a regular map would touch.  Tested first,
	 * so that such a lookup, every one of a map of pages end to end,
	 * skips the eighths too: at 10^6 a lookup's instructions, not its
	 * lines, bound how many the CPU overlaps.  The branch predicts where
	 * a map's slots are all exact or none is; choosing the keys' address
	 * by a conditional move instead put a store and a reload on every
	 * lookup (overlap 0.56 -> 0.59, alias-seq 0.54 -> 0.64 at 10^5).
	 */
	if (f == MEMTOPO_TSLOT_EXACT) {
		start = (u64)x << view->tshift;
		end = start + BIT_ULL(view->tshift);
	} else {
		if (likely(f < MEMTOPO_TSLOT_COUNT)) {
			/* the eighth of the slot @addr is in, against the other starts' */
			k += memtopo_tslot_before(f, y % 8);
		} else {
			/*
			 * Off the path regular maps take; where holes alternate
			 * with ranges the branch mispredicts, but it resolves
			 * with the slot's line, and the hole's lines are never
			 * fetched.
			 */
			if (f == MEMTOPO_TSLOT_HOLE)
				return -ENOENT;
			keys = &chunk->starts[k];
			pf = (const char *)&chunk->fr[k];
			prefetch(pf);
			prefetch(pf + 4 * sizeof(*chunk->fr) - 1);
			/*
			 * Keys past the slot's last start are above @addr: the
			 * next start (or the chunk's kept end) and then padding.
			 * Only with one start can k + 3 pass the keys, by one,
			 * onto the kept end's place.  A dense slot, 3 or more
			 * starts at or below @addr, counts on one at a time:
			 * rare, where the group search it replaces fetches
			 * lines one after another.
			 */
			k0 = k;
			k += (addr >= keys[1]) + (addr >= keys[2]) +
			     (addr >= chunk->starts[min_t(u32, k + 3, MEMTOPO_CHUNK_ENTRIES)]);
			while (unlikely(k >= k0 + 3) && k < k0 + MEMTOPO_TSLOT_STARTS_MAX &&
			       addr >= chunk->starts[min_t(u32, k + 1, MEMTOPO_CHUNK_ENTRIES)])
				k++;
		}
		start = chunk->starts[k];
		end = chunk->starts[k + 1];
	}
	/*
	 * The entry ends where the next key starts, the chunk's kept end for
	 * its last, without a look at the chunk's head for its count.  A
	 * hole is described too, and the answer is whether it has a region:
	 * a branch on the entry would wait for its line, and random addresses
	 * mispredict it as often as holes are hit.  Only a record's entry can
	 * end below @addr (a commit cut it short, or the slot names none,
	 * whose end is 0), never start above it (struct memtopo_trec), so
	 * one compare sends those to the group search; it predicts as well
	 * as the map's records are kept.
	 */
	memtopo_entry_section(chunk, k, start, end - 1, s);
	if (unlikely(addr >= end))
		return memtopo_view_lookup_groups(view, addr, s);
	s->generation = view->generation;
	return s->mr ? 0 : -ENOENT;
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
 * Return: 0, -ENOMEM, or -E2BIG past U32_MAX entries.
 */
int memtopo_flat_add(struct memtopo_flat *f, u64 start, const struct memtopo_fr *fr)
{
	if (f->nr && memtopo_fr_mergeable(&f->fr[f->nr - 1], start - f->starts[f->nr - 1], fr))
		return 0;
	if (f->nr == f->cap) {
		int ret = memtopo_grow_pair((void **)&f->starts, sizeof(*f->starts),
					    (void **)&f->fr, sizeof(*f->fr), &f->cap, U32_MAX);

		if (ret)
			return ret;
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

/**
 * memtopo_runs_add() - append a run of entries to a splice's list.
 * @rs: the list.
 * @starts: the run's starts, after the list's last entry; canonical (no
 *	    entry merges into the one before it), as views and renders are.
 * @fr: its entries.
 * @n: how many.
 *
 * The run's first entry is dropped when flatview_simplify() would merge
 * it into the list's last one; no later entry of the run can then merge,
 * as each was not mergeable with the entry it follows.  The entries are
 * not copied: they must stay until the splice is made.
 *
 * Return: 0, or -E2BIG when the list holds MEMTOPO_SPLICE_RUNS runs.
 */
int memtopo_runs_add(struct memtopo_runs *rs, const u64 *starts, const struct memtopo_fr *fr,
		     u32 n)
{
	const struct memtopo_run *last = rs->nr_runs ? &rs->run[rs->nr_runs - 1] : NULL;

	if (n && last &&
	    memtopo_fr_mergeable(&last->fr[last->nr - 1], starts[0] - last->starts[last->nr - 1],
				 fr)) {
		starts++;
		fr++;
		n--;
	}
	if (!n)
		return 0;
	if (WARN_ON_ONCE(rs->nr_runs == MEMTOPO_SPLICE_RUNS))
		return -E2BIG;
	rs->run[rs->nr_runs++] = (struct memtopo_run){ starts, fr, n };
	rs->nr += n;
	return 0;
}

/**
 * memtopo_runs_prepend() - put a run of entries before a splice's list.
 * @rs: the list.
 * @starts: the run's starts, before the list's first entry; canonical.
 * @fr: its entries.
 * @n: how many (at least one).
 *
 * As memtopo_runs_add(), but the entry that may merge away is the list's
 * first.
 *
 * Return: 0, or -E2BIG when the list holds MEMTOPO_SPLICE_RUNS runs.
 */
int memtopo_runs_prepend(struct memtopo_runs *rs, const u64 *starts,
			 const struct memtopo_fr *fr, u32 n)
{
	struct memtopo_run *first = &rs->run[0];

	if (WARN_ON_ONCE(rs->nr_runs == MEMTOPO_SPLICE_RUNS || !n))
		return -E2BIG;
	if (rs->nr_runs &&
	    memtopo_fr_mergeable(&fr[n - 1], first->starts[0] - starts[n - 1], first->fr)) {
		rs->nr--;
		first->starts++;
		first->fr++;
		if (!--first->nr)
			memmove(first, first + 1, --rs->nr_runs * sizeof(*first));
	}
	memmove(first + 1, first, rs->nr_runs * sizeof(*first));
	rs->nr_runs++;
	*first = (struct memtopo_run){ starts, fr, n };
	rs->nr += n;
	return 0;
}

/*
 * Whether slot @s of a table of 2^@sh-byte slots (not the last one) can
 * answer, @k of @chunk being the entry holding its first address.
 *
 * Return: 1 + the slot's form (memtopo_tslot_form()), or 0 if it cannot.
 */
static __always_inline u32 memtopo_tslot_span(const struct memtopo_chunk *chunk, u32 k, u32 s,
					      u8 sh)
{
	u64 b = ((u64)s << sh) + (BIT_ULL(sh) - 1), next, m;
	u32 n = 0, q1, q2;

	BUILD_BUG_ON(MEMTOPO_CHUNK_ENTRIES > 256);
	BUILD_BUG_ON(BIT(16 - MEMTOPO_TSLOT_N_SHIFT) <= MEMTOPO_TSLOT_HOLE);
	BUILD_BUG_ON(BIT(MEMTOPO_TSLOT_CHUNK_BITS) <= MEMTOPO_TPAGE_CHUNKS);
	/* far inside a long entry: a commit must not rewrite all such slots */
	if ((chunk->starts[k] >> sh) + MEMTOPO_TSLOT_REACH < s)
		return 0;
	while (n <= MEMTOPO_TSLOT_STARTS_MAX && k + n + 1 < chunk->nr &&
	       chunk->starts[k + n + 1] <= b)
		n++;
	if (n > MEMTOPO_TSLOT_STARTS_MAX)
		return 0;
	/* the chunk's last entry: its end is the chunk's, and the slot's within it */
	next = memtopo_chunk_next(chunk);
	if (k + n + 1 == chunk->nr && (!next || next <= b))
		return 0;
	if (!n) {
		if (!chunk->fr[k].mr)
			return MEMTOPO_TSLOT_HOLE + 1;
		/* its end + 1 is the next key, the chunk's kept end for its last */
		if (chunk->starts[k] == (u64)s << sh && chunk->starts[k + 1] - 1 == b)
			return MEMTOPO_TSLOT_EXACT + 1;
		return 1;
	}
	/* one or two starts, on eighths of the slot: named, the lookup needs no key */
	m = BIT_ULL(sh) / 8 - 1;
	if (n <= 2 && !(chunk->starts[k + 1] & m)) {
		q1 = (chunk->starts[k + 1] >> (sh - 3)) & 7;
		if (n == 1)
			return q1 + 1;
		if (!(chunk->starts[k + 2] & m)) {
			q2 = (chunk->starts[k + 2] >> (sh - 3)) & 7;
			return memtopo_tslot_pair(q1, q2) + 1;
		}
	}
	return MEMTOPO_TSLOT_COUNT + 1;
}

/*
 * Forget the chunks of @page (one the caller owns, holding slot @s) that
 * no slot names but those in @s..@s_hi, which the caller rewrites wherever
 * they name a chunk (a splice's walk skips only slots naming none:
 * memtopo_table_splice()).
 * Pages are copied with their list, and each rewrite adds a chunk or two
 * and leaves some unnamed, so this runs when a list is full, not at
 * every copy.
 */
static void memtopo_tpage_compact(struct memtopo_tpage *page, u32 s, u32 s_hi)
{
	u32 first = s - s % MEMTOPO_TPAGE_SLOTS, used = 0, o;

	for (o = 0; o < MEMTOPO_TPAGE_SLOTS; o++)
		if (first + o < s || first + o > s_hi)
			used |= BIT(memtopo_tslot_chunk(page->slot[o]));
	for (o = 0; o < MEMTOPO_TPAGE_CHUNKS; o++)
		if (!(used & BIT(o + 1)))
			page->chunk[o] = NULL;
}

/* Index (from 1) of @chunk in @page's list, added if there is room, or 0. */
static u32 memtopo_tpage_chunk(struct memtopo_tpage *page, const struct memtopo_chunk *chunk)
{
	u32 i;

	for (i = 0; i < MEMTOPO_TPAGE_CHUNKS; i++)
		if (page->chunk[i] == chunk)
			return i + 1;
	for (i = 0; i < MEMTOPO_TPAGE_CHUNKS; i++)
		if (!page->chunk[i]) {
			page->chunk[i] = chunk;
			return i + 1;
		}
	return 0;
}

/*
 * Set slot @s of @page (one the caller owns) to entry @k of @chunk with
 * @span as memtopo_tslot_span() says, or 0; @chunk joins the page's list,
 * which, when full, drops the chunks no slot outside @s..@s_hi names (a
 * build, whose lists hold no stale chunk, passes 0: below every @s but
 * slot 0, where the list is still empty).  A slot
 * stays 0 if the list is still full.  @hint caches the last index found.
 */
static __always_inline void memtopo_tslot_set(struct memtopo_tpage *page, u32 s, u32 s_hi,
					      const struct memtopo_chunk *chunk, u32 k, u32 span,
					      u32 *hint)
{
	u32 idx = 0;

	if (span && page->chunk[*hint] == chunk) {
		idx = *hint + 1;
	} else if (span) {
		idx = memtopo_tpage_chunk(page, chunk);
		if (!idx && s_hi >= s) {
			memtopo_tpage_compact(page, s, s_hi);
			idx = memtopo_tpage_chunk(page, chunk);
		}
		if (idx)
			*hint = idx - 1;
	}
	page->slot[s % MEMTOPO_TPAGE_SLOTS] = idx ? idx | k << MEMTOPO_TSLOT_K_SHIFT |
						(span - 1) << MEMTOPO_TSLOT_N_SHIFT : 0;
}

/*
 * Whether entry @k of @chunk, in a table of 2^@sh-byte slots, can have a
 * record: its end is in the chunk (the next start, or the chunk's end)
 * and it is longer than the reach, or no slot would name it.
 */
static bool memtopo_tlong_fits(const struct memtopo_chunk *chunk, u32 k, u8 sh)
{
	u64 next = k + 1 < chunk->nr ? chunk->starts[k + 1] : memtopo_chunk_next(chunk);

	return next && ((next - 1) >> sh) > (chunk->starts[k] >> sh) + MEMTOPO_TSLOT_REACH;
}

/*
 * @v's records, to be written: its own copy if it still shares its
 * lender's (memtopo_tlong_splice()) or has none.  Return: the records or
 * NULL (-ENOMEM).
 */
static struct memtopo_trec *memtopo_tlong_own(struct memtopo_view *v)
{
	struct memtopo_trec *tr;

	if (!v->tlong_shared)
		/* its own: no reader can see it before it is published */
		return (struct memtopo_trec *)v->trec;
	tr = kmalloc(sizeof(*tr), GFP_KERNEL_ACCOUNT);
	if (!tr)
		return NULL;
	memcpy(tr, v->trec, sizeof(*tr));
	v->trec = (const struct memtopo_chunk *)tr;
	v->tlong_shared = false;
	return tr;
}

/* Make record @r of @tr a copy of entry @k of @chunk (one that fits). */
static void memtopo_tlong_copy(struct memtopo_trec *tr, u32 r, const struct memtopo_chunk *chunk,
			       u32 k)
{
	tr->starts[2 * r] = chunk->starts[k];
	/* the next start, or the chunk's kept end: never U64_MAX when it fits */
	tr->starts[2 * r + 1] = chunk->starts[k + 1];
	tr->fr[2 * r] = chunk->fr[k];
}

/*
 * Make record @r of @tr none, free for another entry at or below its
 * anchor, which it keeps (memtopo_tlong_name()).
 */
static void memtopo_tlong_clear(struct memtopo_trec *tr, u32 r)
{
	tr->starts[2 * r] = U64_MAX;
	tr->starts[2 * r + 1] = 0;
	memset(&tr->fr[2 * r], 0, sizeof(tr->fr[2 * r]));
}

/*
 * The slot value naming a record of entry @k of @chunk in @v for a slot
 * from @addr: one that holds the entry already (@hint caches the last
 * found; records are exact copies of @v's entries, so the entry's start
 * tells), else a new one or one that holds nothing any more; 0 if it
 * cannot have one, or none is left.  A slot
 * names only a record anchored at or below it, and a free record is only
 * taken for an anchor at or below its own: every slot that ever named it
 * (a name left in a slot stays) then lies at or above the entry it holds,
 * which the lookup's one compare needs.
 * Return: 0, -ENOSPC if the entry could have a record but none is left
 * (@code 0, nothing written), or -ENOMEM.
 */
static int memtopo_tlong_name(struct memtopo_view *v, const struct memtopo_chunk *chunk, u32 k,
			      u64 addr, u32 *hint, u16 *code)
{
	const struct memtopo_trec *rec = (const struct memtopo_trec *)v->trec;
	u64 start = chunk->starts[k];
	struct memtopo_trec *tr;
	u32 r, free = 0;

	*code = 0;
	if (!memtopo_tlong_fits(chunk, k, v->tshift))
		return 0;
	if (*hint && *hint <= v->nr_tlong && rec->starts[2 * *hint] == start &&
	    rec->anchor[*hint - 1] <= addr) {
		*code = 2 * *hint << MEMTOPO_TSLOT_K_SHIFT;
		return 0;
	}
	for (r = 1; r <= v->nr_tlong; r++) {
		if (rec->starts[2 * r] == start && rec->anchor[r - 1] <= addr)
			break;
		if (rec->starts[2 * r] == U64_MAX && rec->anchor[r - 1] >= start && !free)
			free = r;
	}
	if (r > v->nr_tlong) {
		/* none left: nothing is written, shared records stay shared */
		if (!free && v->nr_tlong == MEMTOPO_TLONG_MAX)
			return -ENOSPC;
		tr = memtopo_tlong_own(v);
		if (!tr)
			return -ENOMEM;
		r = free ? free : ++v->nr_tlong;
		memtopo_tlong_copy(tr, r, chunk, k);
		tr->anchor[r - 1] = start;
	}
	*hint = r;
	*code = 2 * r << MEMTOPO_TSLOT_K_SHIFT;
	return 0;
}

/*
 * Slots of 2^@sh bytes for @v's table (at least MEMTOPO_TSHIFT_MIN), and
 * their eighths, which a slot naming its other starts counts in
 * (memtopo_tslot_before()).
 */
static void memtopo_table_set_shift(struct memtopo_view *v, u8 sh)
{
	v->tshift = sh;
	v->tshift8 = sh - 3;
}

/*
 * Give @v (entries complete, no table yet) a table of its own, sized for
 * its entries (memtopo_table_slots_max()), up to the start of the last
 * entry if that at most doubles the slots' width (a long entry near the
 * top), else of the entry nr / 256 before the last, so that a few entries
 * far above the rest (64-bit BARs over low RAM) do not stretch every
 * slot; addresses past the table take the group search.  On failure the
 * table may be half made: memtopo_view_release() frees what it holds.
 */
static int memtopo_table_build(struct memtopo_view *v)
{
	u64 last, top, most = memtopo_table_slots_max(v->nr);
	struct memtopo_view_pos p;
	u32 pages, m, q, s, next, hint = 0, rhint = 0;
	u16 code;
	int ret;
	u8 sh = MEMTOPO_TSHIFT_MIN;

	v->tslots = 0;
	v->tnr = v->nr;
	v->trec = memtopo_trec_none_chunk;
	v->nr_tlong = 0;
	v->tlong_shared = true;
	v->tleft = 0;
	v->tgrown = 0;
	/* every mid is the built table's own, whatever a splice said before */
	v->tm_from = 0;
	v->tm_to = U32_MAX;
	v->tsplices = 0;
	if (v->nr < MEMTOPO_TABLE_MIN)
		return 0;
	last = memtopo_view_start(v, v->nr - 1 - v->nr / 256);
	while (sh < 63 && (last >> sh) >= most)
		sh++;
	top = memtopo_view_start(v, v->nr - 1);
	if (sh < 63 && (top >> sh) / 2 < most) {
		last = top;
		sh += (top >> sh) >= most;
	}
	pages = DIV_ROUND_UP((u32)(last >> sh) + 1, MEMTOPO_TPAGE_SLOTS);
	v->tmids = kvcalloc(DIV_ROUND_UP(pages, MEMTOPO_TMID_PAGES), sizeof(*v->tmids),
			    GFP_KERNEL_ACCOUNT);
	if (!v->tmids)
		return -ENOMEM;
	v->nr_tmids = DIV_ROUND_UP(pages, MEMTOPO_TMID_PAGES);
	for (m = 0; m < v->nr_tmids; m++) {
		struct memtopo_tmid *mid = kmem_cache_zalloc(memtopo_tmid_cache,
							     GFP_KERNEL_ACCOUNT);

		if (!mid)
			return -ENOMEM;
		v->tmids[m] = mid;
		for (q = 0; q < MEMTOPO_TMID_PAGES && m * MEMTOPO_TMID_PAGES + q < pages; q++) {
			mid->page[q] = kmem_cache_zalloc(memtopo_tpage_cache, GFP_KERNEL_ACCOUNT);
			if (!mid->page[q])
				return -ENOMEM;
		}
	}
	memtopo_table_set_shift(v, sh);
	v->tslots = (last >> sh) + 1;
	memtopo_pos_init(&p, v, 0);
	/* the last slot runs to the top of the address space: never fast */
	for (s = 0; s + 1 < v->tslots; s++) {
		u64 a = (u64)s << sh, end;
		u32 span;

		while (memtopo_pos_last(&p) < a)
			memtopo_pos_next(&p);
		span = memtopo_tslot_span(p.chunk, p.k, s, sh);
		if (span)
			memtopo_tslot_set(memtopo_tpage_of(v, s), s, 0, p.chunk, p.k, span,
					  &hint);
		end = memtopo_pos_last(&p);
		/* deep inside a long entry: its record, up to the next one's slot */
		if ((memtopo_pos_start(&p) >> sh) + MEMTOPO_TSLOT_REACH < s) {
			next = end == U64_MAX ? v->tslots :
			       max_t(u64, s + 1, min_t(u64, (end + 1) >> sh, v->tslots));
			ret = memtopo_tlong_name(v, p.chunk, p.k, a, &rhint, &code);
			if (ret == -ENOMEM)
				return ret;
			if (ret)
				v->tleft += min(next, v->tslots - 1) - s;
			for (; code && s < min(next, v->tslots - 1); s++)
				memtopo_tpage_of(v, s)->slot[s % MEMTOPO_TPAGE_SLOTS] = code;
			s = next - 1;
		}
	}
	v->tmissed = 0;
	return 0;
}

/*
 * The page holding slot @s of @v's table, to be written: it and its mid
 * are copied first if @v still shares them with @old (its table's source).
 */
static struct memtopo_tpage *memtopo_tpage_write(struct memtopo_view *v,
						 const struct memtopo_view *old, u32 s)
{
	u32 pg = s / MEMTOPO_TPAGE_SLOTS, m = pg / MEMTOPO_TMID_PAGES, q = pg % MEMTOPO_TMID_PAGES;
	struct memtopo_tmid *mid = v->tmids[m];
	struct memtopo_tpage *page;

	if (mid == old->tmids[m]) {
		mid = kmem_cache_alloc(memtopo_tmid_cache, GFP_KERNEL_ACCOUNT);
		if (!mid)
			return NULL;
		memcpy(mid->page, old->tmids[m]->page, sizeof(mid->page));
		v->tmids[m] = mid;
	}
	if (mid->page[q] != old->tmids[m]->page[q])
		return mid->page[q];
	page = kmem_cache_alloc(memtopo_tpage_cache, GFP_KERNEL_ACCOUNT);
	if (!page)
		return NULL;
	memcpy(page, mid->page[q], sizeof(*page));
	mid->page[q] = page;
	return page;
}

/* A splice's rewrite of its table: the new chunks, walked forward. */
struct memtopo_tfill {
	struct memtopo_view *v;
	const struct memtopo_view *old;
	struct memtopo_chunk **fresh;
	u32 kc, ci, k, s_lo, s_hi;
	/* the window re-rendered: outside it the entries are @old's */
	u64 ws, we;
	/* the first slot the last memtopo_table_fill() did not set */
	u32 done;
};

/*
 * Set slots @from..@to (ascending from one call to the next, within
 * s_lo..s_hi) of the splice's view to what its new chunks say of them,
 * copying a mid and a page only where a slot changes.  Past @to, up to
 * s_hi, it goes on naming the slots deep in @to's entry that hold 0 while
 * the entry has a record: entries merging as a map fills in leave behind
 * the slots that records running out left unnamed, which no splice
 * visits again (they are out of every start's reach).  Each slot so
 * named held 0, and only a visit within reach sets one to 0 again, so
 * these steps cost no more than the build's and the visits' own.
 */
static int memtopo_table_fill(struct memtopo_tfill *f, u32 from, u32 to)
{
	struct memtopo_view *v = f->v;
	const struct memtopo_chunk *c = f->fresh[f->ci], *deep = NULL;
	u32 x, k = f->k, hint = 0, rhint = 0, deep_k = 0;
	struct memtopo_tpage *page = NULL;
	u16 code, cur, deep_code = 0;
	bool own = false, unnamed, deep_unnamed = false;
	int ret;
	u8 sh = v->tshift;

	for (x = from; x <= f->s_hi; x++) {
		u64 addr = (u64)x << sh;
		bool inside;
		u32 span;

		/* the entry holding addr: the new chunks hold the splice's addresses */
		for (;;) {
			if (k + 1 < c->nr) {
				if (c->starts[k + 1] > addr)
					break;
				k++;
			} else if (f->ci + 1 < f->kc && f->fresh[f->ci + 1]->starts[0] <= addr) {
				c = f->fresh[++f->ci];
				k = 0;
			} else {
				break;
			}
		}
		span = memtopo_tslot_span(c, k, x, sh);
		inside = !span && (c->starts[k] >> sh) + MEMTOPO_TSLOT_REACH < x;
		if (!page || !(x % MEMTOPO_TPAGE_SLOTS)) {
			page = memtopo_tpage_of(v, x);
			own = false;
		}
		/*
		 * A new chunk is in no page of @old: when the slot cannot
		 * answer, only 0 stays as it is, and a record's name, which a
		 * lookup checks against the record's entry.  A slot left
		 * unnamed is counted when a splice takes its name, a record's
		 * that no longer answers included, and holds 0 from then on, so
		 * that a splice passing over it again does not count it again:
		 * counted at every pass, a map filling in (its long holes split
		 * again and again) rebuilt its table every few hundred commits.
		 * Past @to, before a record is asked for: none is taken for a
		 * slot that will not name it.
		 */
		cur = page->slot[x % MEMTOPO_TPAGE_SLOTS];
		if (x > to && (!inside || cur))
			break;
		code = 0;
		unnamed = false;
		/*
		 * Deep inside an entry: its record's name, if it can have one,
		 * asked once an entry (a search of the records when none is
		 * left).
		 */
		if (inside) {
			if (c != deep || k != deep_k) {
				ret = memtopo_tlong_name(v, c, k, addr, &rhint, &deep_code);
				if (ret == -ENOMEM)
					return ret;
				deep_unnamed = ret == -ENOSPC;
				deep = c;
				deep_k = k;
			}
			code = deep_code;
			unnamed = deep_unnamed;
		}
		if (x > to && !code)
			break;
		/*
		 * named again: one slot fewer unnamed for the rebuild rules,
		 * taken from the splices' count first
		 */
		if (x > to && v->tmissed)
			v->tmissed--;
		else if (x > to && v->tleft)
			v->tleft--;
		v->tmissed += unnamed && cur;
		if (!span && (code == cur || (!code && !unnamed && !memtopo_tslot_chunk(cur))))
			continue;
		if (!own) {
			page = memtopo_tpage_write(v, f->old, x);
			if (!page)
				return -ENOMEM;
			own = true;
			hint = 0;
		}
		if (code)
			page->slot[x % MEMTOPO_TPAGE_SLOTS] = code;
		else
			memtopo_tslot_set(page, x, f->s_hi, c, k, span, &hint);
	}
	f->k = k;
	f->done = x;
	return 0;
}

/*
 * Entry @i of @x and entry @j of @y: the same start and the same range.
 * Field by field, not memcmp(): a call an entry cost more than the rest
 * of the scan (UML's kernel compares a byte at a time).
 */
static bool memtopo_chunk_same_entry(const struct memtopo_chunk *x, u32 i,
				     const struct memtopo_chunk *y, u32 j)
{
	return x->starts[i] == y->starts[j] && memtopo_fr_equal(&x->fr[i], &y->fr[j]);
}

/*
 * The entries of @y that differ from @x's, two chunks holding the same
 * addresses, @y spliced from @x with [@ws, @we] re-rendered: from *@lo,
 * the first index to differ in either, to *@hi in @y.  Outside the window
 * the entries are @x's: at the same index before it, and after it moved
 * by the difference of the counts (y->nr - x->nr), so the scans start at
 * the entry before the one holding @ws and after the one holding @we + 1.
 * Return: false if none differs.
 */
static bool memtopo_chunk_diff(const struct memtopo_chunk *x, const struct memtopo_chunk *y,
			       u64 ws, u64 we, u32 *lo, u32 *hi)
{
	int d = (int)y->nr - (int)x->nr, a = 0, b = y->nr - 1;
	int n = min(x->nr, y->nr);

	if (ws > x->starts[0])
		a = memtopo_bsearch_u64(x->starts, x->nr, ws);
	a = a ? a - 1 : 0;
	while (a < n && memtopo_chunk_same_entry(x, a, y, a))
		a++;
	if (!d && a == n)
		return false;
	if (we < y->starts[y->nr - 1] && we + 1 >= y->starts[0])
		b = min_t(int, memtopo_bsearch_u64(y->starts, y->nr, we + 1) + 1, y->nr - 1);
	/* entry b of @y is entry b - d of @x, both past the entries that differ */
	for (b = max(b, a); b > a && b - d > a && b - d < (int)x->nr &&
	     memtopo_chunk_same_entry(x, b - d, y, b); b--)
		;
	*lo = a;
	*hi = b;
	return true;
}

/*
 * Make the slots @from..@to of @v that name @y name its entries @d further
 * on.  The pages' lists already name @y where they named what it
 * replaced.  A slot's own list entry is read, not @y's first place in the
 * list: a list keeps chunks no slot names any more, and one freed since
 * may have left its address to a chunk listed again.
 */
static int memtopo_table_shift(struct memtopo_tfill *f, const struct memtopo_chunk *y, int d,
			       u32 from, u32 to)
{
	struct memtopo_tpage *page = NULL;
	u32 s, c;
	u16 t;

	for (s = from; s <= to; s++) {
		if (!page || !(s % MEMTOPO_TPAGE_SLOTS)) {
			page = memtopo_tpage_write(f->v, f->old, s);
			if (!page)
				return -ENOMEM;
		}
		t = page->slot[s % MEMTOPO_TPAGE_SLOTS];
		c = memtopo_tslot_chunk(t);
		if (c && page->chunk[c - 1] == y)
			page->slot[s % MEMTOPO_TPAGE_SLOTS] =
				(t & ~(0xff << MEMTOPO_TSLOT_K_SHIFT)) |
				(memtopo_tslot_k(t) + d) << MEMTOPO_TSLOT_K_SHIFT;
	}
	return 0;
}

/*
 * A splice whose new chunks replace the old ones one for one, each over
 * the same addresses (the usual one-change commit: a region moved within
 * its gap, enabled or disabled), keeps every entry outside the change, at
 * its index in its chunk before the change and moved by the change in
 * their count after it.  A slot's code is its chunk, the index of the
 * entry holding its first address, and what that entry, the starts inside
 * the slot and the one after it say (memtopo_tslot_span()).  So the pages'
 * lists are pointed at the new chunks in place of the old, the slots past
 * the change that name a chunk whose count changed have their index moved
 * (a slot's end check, the chunk's last entry, moves with it), and only
 * the slots that meet the entries that differ, or the one before them,
 * whose end the first one's start is, are left to fill: [*@from, *@to].
 * Return: 1 if the splice is one of those, 0 if not (the caller fills all
 * its slots), or -ENOMEM.
 */
static int memtopo_table_remap(struct memtopo_tfill *f, u32 c_lo, u32 c_hi, u32 *from, u32 *to)
{
	/*
	 * a window's chunks and the neighbours a splice spreads over; a
	 * splice of more (a window over many chunks) fills all its slots
	 */
	const struct memtopo_chunk *x[MEMTOPO_SPREAD_CHUNKS + 3];
	struct memtopo_view *v = f->v;
	u32 i, lo, hi, s, o, pg, kc = f->kc;
	u64 first = U64_MAX, last = 0, end;
	struct memtopo_tpage *page;
	u8 sh = v->tshift;
	int ret;

	if (c_hi - c_lo + 1 != kc || kc > ARRAY_SIZE(x))
		return 0;
	for (i = 0; i < kc; i++) {
		x[i] = memtopo_view_chunk(f->old, c_lo + i, NULL);
		if (x[i]->starts[0] != f->fresh[i]->starts[0] ||
		    x[i]->starts[x[i]->nr] != f->fresh[i]->starts[f->fresh[i]->nr])
			return 0;
	}
	for (pg = f->s_lo / MEMTOPO_TPAGE_SLOTS; pg <= f->s_hi / MEMTOPO_TPAGE_SLOTS; pg++) {
		s = max(pg * MEMTOPO_TPAGE_SLOTS, f->s_lo);
		page = NULL;
		for (o = 0; o < MEMTOPO_TPAGE_CHUNKS; o++) {
			const struct memtopo_chunk *c = memtopo_tpage_of(v, s)->chunk[o];

			for (i = 0; c && i < kc && c != x[i]; i++)
				;
			if (!c || i == kc)
				continue;
			if (!page)
				page = memtopo_tpage_write(v, f->old, s);
			if (!page)
				return -ENOMEM;
			page->chunk[o] = f->fresh[i];
		}
	}
	for (i = 0; i < kc; i++) {
		const struct memtopo_chunk *y = f->fresh[i];

		if (!memtopo_chunk_diff(x[i], y, f->ws, f->we, &lo, &hi))
			continue;
		first = min(first, y->starts[lo ? lo - 1 : 0]);
		/* the next start, or the chunk's end (U64_MAX padding for the view's last) */
		end = y->starts[hi + 1] - 1;
		last = max(last, end);
		if (y->nr == x[i]->nr || hi + 1 == y->nr || (end >> sh) >= f->s_hi)
			continue;
		ret = memtopo_table_shift(f, y, (int)y->nr - (int)x[i]->nr, (end >> sh) + 1,
					  min_t(u64, (y->starts[y->nr] - 1) >> sh, f->s_hi));
		if (ret)
			return ret;
	}
	*from = 1;
	*to = 0;
	if (first <= last) {
		*from = max_t(u64, first >> sh, f->s_lo);
		*to = min_t(u64, last >> sh, f->s_hi);
	}
	return 1;
}

/*
 * @old's long-entry records for @v, spliced from it with the chunks
 * holding [@a, @b] replaced by the @kc chunks @fresh (the same
 * addresses): a record copies the entry holding its anchor, so those
 * anchored in [@a, @b] copy again the entry of @fresh holding the anchor
 * (or hold none if that one cannot have a record any more:
 * memtopo_tlong_fits()), and the others copy entries of chunks @v shares,
 * unchanged.  Every record is then an exact copy of an entry of @v.
 * Slots are not touched: wherever a record's entry now ends, a lookup
 * checks it.  When none is copied again (most commits), @v shares @old's
 * records and copies them before it writes one (memtopo_tlong_own()).
 * Shared records are never written once a view holding them is
 * published, and go as a page does: with the oldest living view of the
 * chain that holds them, or to the next one if that holds them too
 * (memtopo_view_release()), so a lookup that entered a view finds its
 * records alive, unchanged, until it leaves.
 */
static int memtopo_tlong_splice(struct memtopo_view *v, const struct memtopo_view *old,
				struct memtopo_chunk **fresh, u32 kc, u64 a, u64 b)
{
	const struct memtopo_trec *tr;
	struct memtopo_trec *w;
	u32 r, c;

	v->trec = old->trec;
	v->nr_tlong = old->nr_tlong;
	v->tlong_shared = true;
	v->tgrown = old->tgrown;
	for (r = 1; r <= v->nr_tlong; r++) {
		const struct memtopo_chunk *chunk;
		u64 anchor;
		u32 k;

		tr = (const struct memtopo_trec *)v->trec;
		anchor = tr->anchor[r - 1];
		if (tr->starts[2 * r] == U64_MAX || anchor < a || anchor > b)
			continue;
		w = memtopo_tlong_own(v);
		if (!w)
			return -ENOMEM;
		v->tgrown -= w->starts[2 * r] < anchor;
		for (c = 0; c + 1 < kc && fresh[c + 1]->starts[0] <= anchor; c++)
			;
		chunk = fresh[c];
		k = memtopo_bsearch_u64(chunk->starts, chunk->nr, anchor);
		if (memtopo_tlong_fits(chunk, k, v->tshift)) {
			memtopo_tlong_copy(w, r, chunk, k);
			v->tgrown += chunk->starts[k] < anchor;
		} else {
			memtopo_tlong_clear(w, r);
		}
	}
	return 0;
}

/*
 * Give @v, spliced from @old with the chunks holding [@a, @b] replaced by
 * the @kc chunks @fresh holding the same addresses in @nr entries, its
 * table: @old's, sharing every mid and page but those holding a slot that
 * changes.  Only slots whose first address is in [@a, @b] can change (the
 * others' first entry is in a chunk @v shares, and a slot never reaches
 * past its chunk).  Usually they are few for the entries and all are set;
 * when the addresses span a large hole, only those within
 * MEMTOPO_TSLOT_REACH of an entry start on either side (the replaced
 * entries, @old's chunks @c_lo..@c_hi, and @fresh's) can be set in either
 * table, and they are found by walking both lists merged; past those, the
 * fill names the slots deep in an entry with a record that still hold 0
 * (memtopo_table_fill()).  When the entry
 * count has moved by a quarter since @old's table was sized, a new
 * table (amortised over that many changes).
 */
static int memtopo_table_splice(struct memtopo_view *v, const struct memtopo_view *old,
				const struct memtopo_splice_plan *p, struct memtopo_chunk **fresh,
				u32 kc, u64 a, u64 b)
{
	struct memtopo_tfill f = { .v = v, .old = old, .fresh = fresh, .kc = kc,
				   .ws = p->ws, .we = p->we };
	u32 nr = p->nr, c_lo = p->c_lo, c_hi = p->c_hi;
	u32 first, end, next, nc = 0, nj = 0;
	struct memtopo_view_pos po;
	u64 s_lo, s_hi;
	u8 sh;

	/*
	 * Rebuilt also once the splices have left many slots deep in an entry
	 * unnamed (records ran out while many long entries came and went):
	 * each was visited by a fill, so the build's O(N) is paid for.  And
	 * once many slots are unnamed, the build's own included, while half
	 * the records name an entry that merged with the one before: long
	 * entries coalescing (a map filling in) leave records naming one entry
	 * twice, never freed, and slots no splice visits again, which a build
	 * names.  A splice copies a chunk or more, so waiting for tslots / 64
	 * of them pays for the build's walk of the slots and entries.
	 */
	if (!old->tslots || memtopo_table_stale(v->nr, old->tnr) ||
	    old->tmissed > old->tslots / 8 ||
	    (old->tgrown > MEMTOPO_TLONG_MAX / 2 && old->tsplices > old->tslots / 64 &&
	     old->tleft + old->tmissed > old->tslots / 8))
		return memtopo_table_build(v);
	v->tmissed = old->tmissed;
	v->tleft = old->tleft;
	v->tsplices = old->tsplices + 1;
	/* room for the copy came with the view (memtopo_view_splice()) */
	v->tmids = v->tmids_room;
	if (WARN_ON_ONCE(!v->tmids))
		return -ENOMEM;
	memcpy(v->tmids, old->tmids, old->nr_tmids * sizeof(*v->tmids));
	v->nr_tmids = old->nr_tmids;
	sh = old->tshift;
	memtopo_table_set_shift(v, sh);
	v->tslots = old->tslots;
	v->tnr = old->tnr;
	if (memtopo_tlong_splice(v, old, fresh, kc, a, b))
		return -ENOMEM;
	s_lo = (a >> sh) + !!(a & (BIT_ULL(sh) - 1));
	s_hi = min_t(u64, b >> sh, v->tslots - 2);
	/* empty as U32_MAX..0, so that widening it is a min and a max */
	v->tm_from = s_lo > s_hi ? U32_MAX : s_lo / MEMTOPO_TPAGE_SLOTS / MEMTOPO_TMID_PAGES;
	v->tm_to = s_lo > s_hi ? 0 : s_hi / MEMTOPO_TPAGE_SLOTS / MEMTOPO_TMID_PAGES + 1;
	if (s_lo > s_hi)
		return 0;
	f.s_lo = s_lo;
	f.s_hi = s_hi;
	if (s_hi - s_lo < 4 * (u64)nr + 64) {
		u32 from, to;
		int ret = memtopo_table_remap(&f, c_lo, c_hi, &from, &to);

		if (ret < 0)
			return ret;
		if (!ret)
			return memtopo_table_fill(&f, s_lo, s_hi);
		/*
		 * the slots past @to keep what they name: a page whose list
		 * is full must not drop their chunks (memtopo_tpage_compact())
		 */
		f.s_hi = to;
		return from <= to ? memtopo_table_fill(&f, from, to) : 0;
	}
	memtopo_view_chunk(old, c_lo, &first);
	memtopo_view_chunk(old, c_hi, &end);
	end += memtopo_view_chunk(old, c_hi, NULL)->nr;
	memtopo_pos_init(&po, old, first);
	next = s_lo;
	for (;;) {
		bool in_old = po.i < end, in_new = nc < kc;
		u64 e, to;

		if (in_old && (!in_new || memtopo_pos_start(&po) <= fresh[nc]->starts[nj])) {
			e = memtopo_pos_start(&po);
			memtopo_pos_next(&po);
		} else if (in_new) {
			e = fresh[nc]->starts[nj];
			if (++nj == fresh[nc]->nr) {
				nc++;
				nj = 0;
			}
		} else {
			break;
		}
		to = min_t(u64, (e >> sh) + MEMTOPO_TSLOT_REACH, s_hi);
		if (to < next)
			continue;
		if (memtopo_table_fill(&f, max_t(u64, next, e >> sh), to))
			return -ENOMEM;
		next = f.done;
	}
	return 0;
}

/* Build a view from @n new chunks (freed on failure), groups full. */
static struct memtopo_view *memtopo_view_from_chunks(struct memtopo_chunk **chunks, u32 n)
{
	u32 k = DIV_ROUND_UP(n, MEMTOPO_GROUP_CHUNKS);
	struct memtopo_view *v = memtopo_view_alloc(k, 0);
	struct memtopo_group *groups = v ? memtopo_groups_alloc(k) : NULL;
	struct memtopo_chunk_list list = { .chunks = chunks, .n = n };

	if (!groups) {
		memtopo_chunks_free(chunks, n);
		if (v)
			memtopo_view_free(v);
		return NULL;
	}
	memtopo_view_add_chunks(v, groups, &list, k);
	memtopo_chunks_set_ends(chunks, n, 0);
	if (memtopo_table_build(v)) {
		/* no lender: everything it holds is its own */
		memtopo_view_release(v);
		memtopo_view_free(v);
		return NULL;
	}
	return v;
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
	struct memtopo_chunk **chunks = kvmalloc_array(k, sizeof(*chunks), GFP_KERNEL);
	struct memtopo_run all = { f->starts, f->fr, f->nr };
	struct memtopo_view *v = NULL;

	if (chunks && !memtopo_chunks_from_runs(chunks, &all, 1, f->nr, k, false))
		v = memtopo_view_from_chunks(chunks, k);
	kvfree(chunks);
	if (v) {
		v->root = root;
		v->nr_ranges = f->nr_ranges;
	}
	return v;
}

/*
 * Append chunks @from..@to - 1 of group @grp to @list, shared.  The chunks
 * are not read: what the index needs of them comes from the group.
 */
static void memtopo_list_share(struct memtopo_chunk_list *list, const struct memtopo_group *grp,
			       u32 from, u32 to)
{
	u32 j;

	for (j = from; j < to; j++) {
		list->chunks[list->n] = grp->chunks[j];
		list->starts[list->n] = grp->chunk_start[j];
		list->nrs[list->n] = (j + 1 < grp->nr_chunks ? grp->chunk_first[j + 1] : grp->nr) -
				     grp->chunk_first[j];
		list->n++;
	}
}

/* Append @k new chunks holding the entries of @mid to @list. */
static int memtopo_list_new(struct memtopo_chunk_list *list, const struct memtopo_runs *mid,
			    u32 k)
{
	u32 c;

	if (memtopo_chunks_from_runs(list->chunks + list->n, mid->run, mid->nr_runs, mid->nr, k,
				     mid->at_end))
		return -ENOMEM;
	for (c = 0; c < k; c++, list->n++) {
		list->starts[list->n] = list->chunks[list->n]->starts[0];
		list->nrs[list->n] = list->chunks[list->n]->nr;
	}
	return 0;
}

/* What the list of a rebuilt group's chunks takes a chunk: pointer, start, count. */
#define MEMTOPO_SPLICE_LIST_BYTES \
	(sizeof(struct memtopo_chunk *) + sizeof(u64) + sizeof(u32))

/**
 * memtopo_view_splice_plan() - plan memtopo_view_splice().
 * @old: the published view.
 * @c_lo: first replaced chunk.
 * @c_hi: last replaced chunk.
 * @nr: entries that replace them.
 * @p: out: the plan, for memtopo_view_splice().
 *
 * The groups holding @c_lo..@c_hi are rebuilt with the new chunks in
 * place of the replaced ones; a neighbour is taken in when they would be
 * less than half full, or one with room when their chunks would spill into
 * one more group.  The splice lists the chunks of the rebuilt groups in
 * working memory its caller keeps (a commit's render, struct
 * memtopo_render), so that a commit allocates none.
 *
 * Context: the context mutex held.
 * Return: bytes of working memory the splice needs.
 */
size_t memtopo_view_splice_plan(const struct memtopo_view *old, u32 c_lo, u32 c_hi, u32 nr,
				struct memtopo_splice_plan *p)
{
	u32 kc = DIV_ROUND_UP(nr, MEMTOPO_CHUNK_ENTRIES);
	u32 g_lo = memtopo_bsearch_u32(old->group_cfirst, old->nr_groups, c_lo);
	u32 g_hi = memtopo_bsearch_u32(old->group_cfirst, old->nr_groups, c_hi);
	u32 k, m;

	m = c_lo - old->group_cfirst[g_lo] + kc +
	    old->group_cfirst[g_hi] + old->groups[g_hi]->nr_chunks - 1 - c_hi;
	/* keep groups at least half full: take a neighbour in */
	if (m < MEMTOPO_GROUP_CHUNKS / 2 && g_hi + 1 < old->nr_groups)
		m += old->groups[++g_hi]->nr_chunks;
	else if (m < MEMTOPO_GROUP_CHUNKS / 2 && g_lo)
		m += old->groups[--g_lo]->nr_chunks;
	/*
	 * and full: chunks that spill into one more group than they fill
	 * take a neighbour with room in instead (its chunks are shared, only
	 * its pointers are copied), or two
	 */
	for (k = 0; k < 2 && DIV_ROUND_UP(m, MEMTOPO_GROUP_CHUNKS) > g_hi - g_lo + 1; k++) {
		if (g_hi + 1 < old->nr_groups &&
		    old->groups[g_hi + 1]->nr_chunks < MEMTOPO_GROUP_CHUNKS)
			m += old->groups[++g_hi]->nr_chunks;
		else if (g_lo && old->groups[g_lo - 1]->nr_chunks < MEMTOPO_GROUP_CHUNKS)
			m += old->groups[--g_lo]->nr_chunks;
		else
			break;
	}
	*p = (struct memtopo_splice_plan){ .c_lo = c_lo, .c_hi = c_hi, .nr = nr,
					   .g_lo = g_lo, .g_hi = g_hi, .m = m,
					   .ws = 0, .we = U64_MAX };
	return (size_t)m * MEMTOPO_SPLICE_LIST_BYTES;
}

/**
 * memtopo_view_splice() - a view equal to @old but for its chunks
 * @p->c_lo..@p->c_hi, replaced by the entries of @mid.
 * @old: the published view.
 * @p: the plan, memtopo_view_splice_plan()'s for @old and @mid->nr.
 * @mid: the runs of entries that replace them, canonical at the seams;
 *	  they are copied into the new chunks.
 * @buf: the caller's working memory.
 * @bytes: its size: at least what the plan said.
 *
 * @mid fills as few chunks as hold it, as memtopo_chunk_take() says:
 * evenly, or, at the view's end, full but for the last two, which share
 * the rest; either way a chunk keeps at least half of its entries.  Only
 * the groups the plan names are rebuilt; every other group, and every
 * chunk not replaced, is shared with @old, none of them touched: the new
 * view is linked after @old in its chain (see memtopo_view_release()).
 *
 * Context: the context mutex held; @old has no other view spliced from it
 * still alive (a commit splices from the published view, and drops the
 * views it does not publish before it ends).
 *
 * Return: the view (one reference) or NULL.
 */
struct memtopo_view *memtopo_view_splice(const struct memtopo_view *old,
					 const struct memtopo_splice_plan *p,
					 const struct memtopo_runs *mid, void *buf, size_t bytes)
{
	/* the links are writers' bookkeeping, not the view's content */
	struct memtopo_view *lender = (struct memtopo_view *)old;
	u32 kc = DIV_ROUND_UP(mid->nr, MEMTOPO_CHUNK_ENTRIES);
	struct memtopo_chunk_list list = {};
	u32 c_lo = p->c_lo, c_hi = p->c_hi, g_lo = p->g_lo, g_hi = p->g_hi, m = p->m;
	struct memtopo_group *groups = NULL;
	struct memtopo_view *v;
	u32 g, k, j, fresh = 0;
	bool one;
	u64 next;

	/* a second live splice would fork the chain: nodes would be freed twice */
	if (WARN_ON_ONCE(old->borrower))
		return NULL;

	/* a plan made for other entries, or memory short of it */
	if (WARN_ON_ONCE(mid->nr != p->nr || (size_t)m * MEMTOPO_SPLICE_LIST_BYTES > bytes))
		return NULL;
	v = memtopo_view_alloc(old->nr_groups - (g_hi - g_lo + 1) +
			       DIV_ROUND_UP(m, MEMTOPO_GROUP_CHUNKS), old->nr_tmids);
	if (!v)
		return NULL;
	/* pointers, then starts and counts */
	list.chunks = buf;
	list.starts = (u64 *)(list.chunks + m);
	list.nrs = (u32 *)(list.starts + m);
	v->root = old->root;
	/* ranges: the replaced chunks' and the new ones' counts, not their entries */
	v->nr_ranges = old->nr_ranges;
	/* one group rebuilt into one (most commits): no list of its shared chunks */
	one = g_lo == g_hi &&
	      old->groups[g_lo]->nr_chunks - (c_hi - c_lo + 1) + kc <= MEMTOPO_GROUP_CHUNKS;
	/* the rebuilt groups: shared chunks around the new ones */
	for (g = g_lo; g <= g_hi; g++) {
		const struct memtopo_group *grp = old->groups[g];
		u32 c0 = old->group_cfirst[g];

		if (c0 + grp->nr_chunks <= c_lo || c0 > c_hi) {
			memtopo_list_share(&list, grp, 0, grp->nr_chunks);
			continue;
		}
		for (j = max(c0, c_lo) - c0; j < grp->nr_chunks && c0 + j <= c_hi; j++)
			v->nr_ranges -= grp->chunks[j]->nr_ranges;
		if (c0 <= c_lo && one)
			list.n = c_lo - c0;
		else if (c0 <= c_lo)
			memtopo_list_share(&list, grp, 0, c_lo - c0);
		if (c0 <= c_hi && c_hi < c0 + grp->nr_chunks) {
			fresh = list.n;
			if (memtopo_list_new(&list, mid, kc))
				goto fail;
			for (j = 0; j < kc; j++)
				v->nr_ranges += list.chunks[fresh + j]->nr_ranges;
			if (!one)
				memtopo_list_share(&list, grp, c_hi + 1 - c0, grp->nr_chunks);
		}
	}
	k = one ? 1 : DIV_ROUND_UP(list.n, MEMTOPO_GROUP_CHUNKS);
	groups = memtopo_groups_alloc(k);
	if (!groups) {
		memtopo_chunks_free(list.chunks + fresh, kc);
		goto fail;
	}
	memtopo_view_share_groups(v, old, 0, g_lo);
	if (one)
		memtopo_view_patch_group(v, groups, old->groups[g_lo], fresh,
					 c_hi - old->group_cfirst[g_lo], &list, kc);
	else
		memtopo_view_add_chunks(v, groups, &list, k);
	memtopo_view_share_groups(v, old, g_hi + 1, old->nr_groups);
	v->lender = lender;
	lender->borrower = v;
	/* groups before g_lo are shared one for one: the indexes agree up to it */
	v->replaced[0] = (struct memtopo_view_span){ g_lo, g_hi + 1, c_lo, c_hi + 1 };
	v->made[0] = (struct memtopo_view_span){ g_lo, g_lo + k, old->group_cfirst[g_lo] + fresh,
						 old->group_cfirst[g_lo] + fresh + kc };
	v->nr_spans = 1;
	/* the new chunks hold exactly the addresses the replaced ones held */
	next = c_hi + 1 < old->nr_chunks ? memtopo_view_chunk_start(old, c_hi + 1) : 0;
	memtopo_chunks_set_ends(list.chunks + fresh, kc, next);
	if (memtopo_table_splice(v, old, p, list.chunks + fresh, kc,
				 list.chunks[fresh]->starts[0], next ? next - 1 : U64_MAX)) {
		/* what @old does not hold is this splice's: chunks, groups, table */
		memtopo_view_release(v);
		memtopo_view_free(v);
		return NULL;
	}
	return v;

fail:
	memtopo_view_free(v);
	return NULL;
}

/**
 * memtopo_view_repack() - the same entries in full chunks and groups.
 * @v: a view whose chunks commits left far from full.
 *
 * Splices keep every chunk at least half full and fill a spill's chunks
 * to 15/16, but deletions can still leave a map of half-full chunks;
 * repacking once the chunk count passes 5/4 of the minimum bounds the
 * waste, at a cost of one copy every many commits.
 *
 * Return: the repacked view (one reference), or NULL (keep using @v).
 */
struct memtopo_view *memtopo_view_repack(const struct memtopo_view *v)
{
	u32 k = DIV_ROUND_UP(v->nr, MEMTOPO_CHUNK_ENTRIES), c = 0, left, target = 0;
	struct memtopo_chunk **chunks, *chunk = NULL;
	struct memtopo_view_pos p;
	struct memtopo_view *n;

	chunks = kvmalloc_array(k, sizeof(*chunks), GFP_KERNEL);
	if (!chunks)
		return NULL;
	memtopo_pos_init(&p, v, 0);
	while (p.i < v->nr) {
		if (!chunk || chunk->nr == target) {
			if (chunk)
				memtopo_chunk_seal(chunk);
			/* spread evenly: no thin chunk at the end */
			target = v->nr / k + (c < v->nr % k);
			chunk = memtopo_chunk_alloc();
			if (!chunk) {
				memtopo_chunks_free(chunks, c);
				kvfree(chunks);
				return NULL;
			}
			chunks[c++] = chunk;
		}
		left = min(p.chunk->nr - p.k, target - chunk->nr);
		memcpy(chunk->starts + chunk->nr, p.chunk->starts + p.k, left * sizeof(u64));
		memcpy(chunk->fr + chunk->nr, p.chunk->fr + p.k, left * sizeof(*chunk->fr));
		chunk->nr += left;
		p.k += left;
		p.i += left;
		if (p.k == p.chunk->nr)
			memtopo_pos_next_chunk(&p);
	}
	memtopo_chunk_seal(chunk);
	n = memtopo_view_from_chunks(chunks, c);
	kvfree(chunks);
	if (n) {
		n->root = v->root;
		n->generation = v->generation;
		n->nr_ranges = v->nr_ranges;
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
	u64 os, ns, ol, nl, a, b, x;
	u32 o0 = memtopo_view_find_at(old, start, &os, &x);
	u32 n0 = memtopo_view_find_at(new, start, &ns, &x);
	u32 o1 = memtopo_view_find_at(old, last, &x, &ol);
	u32 n1 = memtopo_view_find_at(new, last, &x, &nl);

	a = min(os, ns);
	b = max(ol, nl);
	/* usually one view's entry already starts (ends) there: no search */
	runs[0] = os == a ? o0 : memtopo_view_find_at(old, a, &os, &x);
	runs[2] = ns == a ? n0 : memtopo_view_find_at(new, a, &ns, &x);
	runs[1] = ol == b ? o1 : memtopo_view_find_at(old, b, &x, &ol);
	runs[3] = nl == b ? n1 : memtopo_view_find_at(new, b, &x, &nl);
	return os == a && ns == a && ol == b && nl == b;
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
	for (i = 0; i < n; i++, memtopo_pos_next(&po), memtopo_pos_next(&pn))
		if (memtopo_pos_start(&po) != memtopo_pos_start(&pn) ||
		    !memtopo_fr_equal(memtopo_pos_fr(&po), memtopo_pos_fr(&pn)))
			return false;
	return true;
}

#ifndef MEMTOPO_USERSPACE
/*
 * Aligned so that the lookup's code (under 512 bytes in a production
 * build; a KASAN build's is larger and may still cross) never straddles a
 * page: one i-TLB entry, and under TCG a jump across a page is not chained
 * to the next block but looked up by a helper, once a lookup.  The
 * userspace harness keeps the compiler's layout: there it measured no
 * better.  In a section of its own, so that the alignment is the
 * section's, not padding inside .text that the assembler jumps over (an
 * unreachable instruction to objtool), whatever the functions before it.
 */
int memtopo_space_lookup(struct memtopo_space *as, u64 addr, struct memtopo_section *out)
	__aligned(512) __section(".text.memtopo_space_lookup");
#endif

/**
 * memtopo_space_lookup() - find what is mapped at @addr.
 * @as: the space.
 * @addr: the address.
 * @out: the section holding @addr, with the view's generation (undefined
 *	after -ENOENT).
 *
 * Context: rcu_read_lock() held; @out->mr is valid until it is dropped.
 * Return: 0, or -ENOENT if nothing is mapped at @addr.
 */
int memtopo_space_lookup(struct memtopo_space *as, u64 addr, struct memtopo_section *out)
{
	const struct memtopo_view *view = rcu_dereference(as->view);

	/*
	 * In view.c so that memtopo_view_lookup() is inlined: a reader pays
	 * one call.  A destroyed space has no view; an access by ID may
	 * still look.  The answer is a branch on the entry's region, which
	 * the CPU predicts where lookups land in ranges, or on the slot,
	 * when it lies wholly in a hole: returning it as a value computed
	 * from the entry's line instead saves mispredictions in a map with a
	 * hole beside every range, but the answer then waits for that line
	 * in every map, which costs more where holes are rare
	 * (Documentation/engine.rst, "Performance status"); and a caller
	 * branches on the answer anyway.
	 */
	return view ? memtopo_view_lookup(view, addr, out) : -ENOENT;
}
EXPORT_SYMBOL_NS_GPL(memtopo_space_lookup, MEMTOPO);
