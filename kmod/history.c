// SPDX-License-Identifier: GPL-2.0
/*
 * View history: resync by difference.  Views are immutable and share their
 * groups and chunks with the views they were spliced from, so a space keeps
 * the last few views it published (at most MEMTOPO_HISTORY_MAX, oldest
 * dropped first) and the difference between any two of them, or one of
 * them and the current view, is computed by walking only what differs: a
 * group or chunk both views point at holds the same entries, all but its
 * last (whose end is the next one's start), so it is skipped whole.
 *
 * Size.  What a kept view costs does not depend on the map: a one-change
 * commit leaves its predecessor a chunk and a group of its own, about
 * 8 KiB, whether the view holds a thousand ranges or a million.  A kept
 * view saves a subscriber a full read of the current view, which costs in
 * proportion to the view.  So beyond the newest MEMTOPO_HISTORY_MIN, views
 * are kept only while all a space keeps stays within
 * 1/memtopo_history_share (memtopo.history_share, default
 * MEMTOPO_HISTORY_SHARE) of its published view's bytes
 * (memtopo_view_bytes()): a large map keeps up to MEMTOPO_HISTORY_MAX, a
 * small one, whose full read is cheap, only the last two.  With the
 * default, kept views add about a quarter of a byte to the 29-31 a
 * range of the view costs.  The rule is applied when a view is replaced,
 * the only time either side changes; 0 lifts it.
 *
 * Budget.  A kept view is charged to the context's memory budget for what
 * it alone keeps alive: its index, and the groups, chunks and direct-table
 * pieces the view that replaced it does not share.  When the budget
 * refuses a view, older views are dropped until it fits; a view that does
 * not fit alone is not kept.
 * A view shared by several spaces is charged to each that keeps it.  Kept
 * views are a cache: any other charge the budget would refuse but could
 * take without them drops them all first (memtopo_ctx_charge_locked()),
 * so keeping history never makes a region, view or ring fail (a kernel
 * mapping charges without the mutex and does not reclaim).  The history's
 * own charges therefore use memtopo_ctx_charge(), which never reclaims.
 *
 * Regions.  Views point at regions without references, and a region is
 * freed (its ID, device and backing given back) once no published view
 * shows it.  A kept view may still show a region being destroyed, so
 * destroying a region while a context keeps history drops every kept view
 * of every space: a resync from before it is ESTALE and reads the whole
 * view, as before there was history.
 *
 * Everything here runs under the context mutex.
 */
#include <linux/slab.h>

#include "memtopo_internal.h"
#include "selftest.h"

unsigned int memtopo_history_share = MEMTOPO_HISTORY_SHARE;

struct memtopo_history {
	u32 head;		/* slot of the oldest kept view */
	u32 nr;			/* views kept */
	size_t bytes;		/* the sum of their costs */
	struct {
		struct memtopo_view *view;
		size_t cost;	/* bytes charged for it */
	} e[MEMTOPO_HISTORY_MAX];
};

/*
 * Bytes @old keeps alive that @new does not: its index, its groups and
 * chunks @new does not point at, and the part of its direct table @new
 * does not share (memtopo_view_table_unique_bytes()).  When @new was
 * spliced from @old, its splices say which those are (what they replaced),
 * whatever the size of the map.  Otherwise: groups and chunks of both
 * views are sorted by address and a shared one has the same start in
 * both, so one merge by start per level finds them; shared groups are
 * not opened.
 */
static size_t memtopo_view_unique_bytes(const struct memtopo_view *old,
					const struct memtopo_view *new)
{
	size_t bytes = memtopo_view_own_bytes(old);
	u32 go, gn = 0, jo, jn, i;

	bytes += memtopo_view_table_unique_bytes(old, new);
	if (memtopo_view_spliced_from(new, old)) {
		for (i = 0; i < new->nr_spans; i++) {
			const struct memtopo_view_span *s = &new->replaced[i];

			bytes += (size_t)(s->g_to - s->g_from) * sizeof(struct memtopo_group) +
				 (size_t)(s->c_to - s->c_from) * sizeof(struct memtopo_chunk);
		}
		return bytes;
	}
	for (go = 0; go < old->nr_groups; go++) {
		const struct memtopo_group *a = old->groups[go], *b = NULL;

		while (gn < new->nr_groups && new->group_start[gn] < old->group_start[go])
			gn++;
		if (gn < new->nr_groups && new->group_start[gn] == old->group_start[go])
			b = new->groups[gn];
		if (a == b)
			continue;
		bytes += sizeof(*a);
		jn = 0;
		for (jo = 0; jo < a->nr_chunks; jo++) {
			while (b && jn < b->nr_chunks && b->chunk_start[jn] < a->chunk_start[jo])
				jn++;
			if (b && jn < b->nr_chunks && b->chunks[jn] == a->chunks[jo])
				continue;
			bytes += sizeof(*a->chunks[jo]);
		}
	}
	return bytes;
}

/* QEMU's flatrange_equal(), and the dirty-log mask: a flat view's content. */
static bool memtopo_pos_same(const struct memtopo_view_pos *a, const struct memtopo_view_pos *b)
{
	return memtopo_pos_start(a) == memtopo_pos_start(b) &&
	       memtopo_pos_last(a) == memtopo_pos_last(b) &&
	       memtopo_fr_equal(memtopo_pos_fr(a), memtopo_pos_fr(b));
}

/* Put @p at the last entry of chunk @j of group @g. */
static void memtopo_pos_at_chunk_end(struct memtopo_view_pos *p, u32 g, u32 j)
{
	p->g = g;
	p->grp = p->v->groups[g];
	p->j = j;
	p->chunk = p->grp->chunks[j];
	p->k = p->chunk->nr - 1;
	p->i = p->v->group_first[g] + p->grp->chunk_first[j] + p->k;
}

/*
 * Both walks are at the same address.  If they stand at the first entry of
 * a group or chunk both views share, move both to the last entry of the
 * run of groups (or, within the two groups, chunks) the views share from
 * there on: that entry is the one whose end depends on what follows.  A
 * run is found in the views' and groups' pointer arrays, so a shared
 * group or chunk costs one pointer compare, not a visit; a pointer both
 * hold at consecutive places has the same starts in both.
 * Return: true if they moved.
 */
static bool memtopo_diff_skip_shared(struct memtopo_view_pos *po, struct memtopo_view_pos *pn)
{
	const struct memtopo_view *vo = po->v, *vn = pn->v;
	u32 go = po->g, gn = pn->g, jo = po->j, jn = pn->j;

	if (po->k || pn->k)
		return false;
	if (!jo && !jn && po->grp == pn->grp) {
		while (go + 1 < vo->nr_groups && gn + 1 < vn->nr_groups &&
		       vo->groups[go + 1] == vn->groups[gn + 1]) {
			go++;
			gn++;
		}
		jo = vo->groups[go]->nr_chunks - 1;
		jn = vn->groups[gn]->nr_chunks - 1;
	} else if (po->chunk == pn->chunk) {
		while (jo + 1 < po->grp->nr_chunks && jn + 1 < pn->grp->nr_chunks &&
		       po->grp->chunks[jo + 1] == pn->grp->chunks[jn + 1]) {
			jo++;
			jn++;
		}
	} else {
		return false;
	}
	/* already there: one shared chunk of one entry */
	if (go == po->g && jo == po->j && po->chunk->nr < 2)
		return false;
	memtopo_pos_at_chunk_end(po, go, jo);
	memtopo_pos_at_chunk_end(pn, gn, jn);
	return true;
}

/* One pass: the deletions (@adding false) or the additions. */
static int memtopo_view_diff_pass(const struct memtopo_view *old, const struct memtopo_view *new,
				  bool adding,
				  int (*fn)(void *opaque, const struct memtopo_section *s, bool a),
				  void *opaque)
{
	struct memtopo_view_pos po, pn;
	struct memtopo_section s;
	int ret;

	memtopo_pos_init(&po, old, 0);
	memtopo_pos_init(&pn, new, 0);
	while (po.i < old->nr || pn.i < new->nr) {
		bool has_old = po.i < old->nr, has_new = pn.i < new->nr;
		u64 so = has_old ? memtopo_pos_start(&po) : 0;
		u64 sn = has_new ? memtopo_pos_start(&pn) : 0;

		if (has_old && has_new && so == sn && memtopo_diff_skip_shared(&po, &pn))
			continue;
		if (has_old && has_new && so == sn && memtopo_pos_same(&po, &pn)) {
			memtopo_pos_next(&po);
			memtopo_pos_next(&pn);
			continue;
		}
		/* an entry only the old view has (a start the new one lacks, or changed) */
		if (has_old && (!has_new || so <= sn)) {
			if (!adding && memtopo_pos_fr(&po)->mr) {
				memtopo_pos_section(&po, &s);
				ret = fn(opaque, &s, false);
				if (ret)
					return ret;
			}
			memtopo_pos_next(&po);
			continue;
		}
		if (adding && memtopo_pos_fr(&pn)->mr) {
			memtopo_pos_section(&pn, &s);
			ret = fn(opaque, &s, true);
			if (ret)
				return ret;
		}
		memtopo_pos_next(&pn);
	}
	return 0;
}

/**
 * memtopo_view_diff() - the flat ranges that turn one view into another.
 * @old: the view to start from.
 * @new: the view to reach.
 * @fn: called for each range of @old that is not in @new (@add false,
 *	all of them first, in address order), then for each range of @new
 *	that is not in @old (@add true, in address order); a range whose
 *	dirty-log mask changed is both.  A non-zero return stops the walk.
 * @opaque: passed to @fn.
 *
 * Runs of groups and chunks the two views share are skipped whole, found
 * by comparing pointers, so views spliced from one another are compared
 * in time proportional to what differs (each changed chunk walked, plus
 * one pointer compare per group and per chunk of a changed group);
 * unrelated views cost a walk of both.
 *
 * Context: the views must stay alive (the context mutex, or references);
 * never sleeps unless @fn does.
 * Return: 0, or what @fn returned.
 */
int memtopo_view_diff(const struct memtopo_view *old, const struct memtopo_view *new,
		      int (*fn)(void *opaque, const struct memtopo_section *s, bool add),
		      void *opaque)
{
	int ret;

	if (old == new)
		return 0;
	ret = memtopo_view_diff_pass(old, new, false, fn, opaque);
	if (ret)
		return ret;
	return memtopo_view_diff_pass(old, new, true, fn, opaque);
}
EXPORT_SYMBOL_FOR_MEMTOPO_TESTS(memtopo_view_diff);

static struct memtopo_view **memtopo_history_slot(struct memtopo_history *h, u32 i)
{
	return &h->e[(h->head + i) % MEMTOPO_HISTORY_MAX].view;
}

static void memtopo_history_drop_oldest(struct memtopo_space *as)
{
	struct memtopo_history *h = as->history;
	u32 slot = h->head;

	memtopo_ctx_uncharge_locked(as->ctx, h->e[slot].cost);
	h->bytes -= h->e[slot].cost;
	memtopo_view_put(h->e[slot].view);
	h->e[slot].view = NULL;
	h->head = (h->head + 1) % MEMTOPO_HISTORY_MAX;
	h->nr--;
}

static void memtopo_history_clear(struct memtopo_space *as)
{
	if (!as->history)
		return;
	while (as->history->nr)
		memtopo_history_drop_oldest(as);
	kfree(as->history);
	as->history = NULL;
	memtopo_ctx_uncharge_locked(as->ctx, sizeof(struct memtopo_history));
}

/**
 * memtopo_history_push() - a space replaced @old by @new: keep @old.
 * @as: the space, context locked; @new is published.
 * @old: the view it published before; the space's reference passes here.
 * @new: the view it publishes now.
 *
 * Kept views are dropped, oldest first, until the space keeps at most
 * MEMTOPO_HISTORY_MAX counting @old and, beyond the newest
 * MEMTOPO_HISTORY_MIN, what it keeps costs at most 1/memtopo_history_share
 * of memtopo_view_bytes(@new) (unless that is 0); then until the budget
 * takes @old.
 *
 * Context: the context mutex held.  Cannot fail: a view the budget (or
 * memory) refuses is simply not kept, and then asking for its generation
 * is ESTALE.
 */
void memtopo_history_push(struct memtopo_space *as, struct memtopo_view *old,
			  const struct memtopo_view *new)
{
	struct memtopo_ctx *ctx = as->ctx;
	struct memtopo_history *h = as->history;
	size_t cost, bound;
	u32 slot, share;

	memtopo_assert_locked(ctx);
	if (!h) {
		if (memtopo_ctx_charge(ctx, sizeof(*h)))
			goto drop;
		h = kzalloc(sizeof(*h), GFP_KERNEL_ACCOUNT);
		if (!h) {
			memtopo_ctx_uncharge_locked(ctx, sizeof(*h));
			goto drop;
		}
		as->history = h;
	}
	cost = memtopo_view_unique_bytes(old, new);
	share = READ_ONCE(memtopo_history_share);
	bound = share ? memtopo_view_bytes(new) / share : SIZE_MAX;
	while (h->nr && (h->nr + 1 > MEMTOPO_HISTORY_MAX ||
			 (h->nr + 1 > MEMTOPO_HISTORY_MIN && h->bytes + cost > bound)))
		memtopo_history_drop_oldest(as);
	while (memtopo_ctx_charge(ctx, cost)) {
		if (!h->nr)
			goto drop;
		memtopo_history_drop_oldest(as);
	}
	slot = (h->head + h->nr++) % MEMTOPO_HISTORY_MAX;
	h->e[slot].view = old;
	h->e[slot].cost = cost;
	h->bytes += cost;
	return;

drop:
	memtopo_view_put(old);
}

/**
 * memtopo_history_free() - a space goes: drop every view it kept.
 * @as: the space, context locked.
 */
void memtopo_history_free(struct memtopo_space *as)
{
	memtopo_history_clear(as);
}

/**
 * memtopo_history_find() - a view a space published.
 * @as: the space, context locked.
 * @generation: its generation.
 *
 * Return: the current view or a kept one, or NULL if the space keeps no
 * view of that generation.  A kept view is valid until the mutex is
 * dropped or anything is charged to the context's budget: a charge may
 * reclaim every kept view (memtopo_ctx_charge_locked()), so hold none
 * across one.
 */
const struct memtopo_view *memtopo_history_find(struct memtopo_space *as, u64 generation)
{
	const struct memtopo_view *v = memtopo_space_view_locked(as);
	struct memtopo_history *h = as->history;
	u32 i;

	if (v->generation == generation)
		return v;
	for (i = 0; h && i < h->nr; i++) {
		v = *memtopo_history_slot(h, i);
		if (v->generation == generation)
			return v;
	}
	return NULL;
}

/**
 * memtopo_history_depth() - how many earlier views a space keeps.
 * @as: the space, context locked.
 *
 * Context: the context mutex held.
 * Return: the number of kept views, not counting the current one.
 */
u32 memtopo_history_depth(const struct memtopo_space *as)
{
	return as->history ? as->history->nr : 0;
}
EXPORT_SYMBOL_FOR_MEMTOPO_TESTS(memtopo_history_depth);

/**
 * memtopo_history_bytes() - what a space's kept views are charged.
 * @as: the space, context locked.
 *
 * Context: the context mutex held.
 * Return: the sum of what each kept view alone keeps alive, in bytes; the
 * bound of memtopo.history_share applies to it.
 */
size_t memtopo_history_bytes(const struct memtopo_space *as)
{
	return as->history ? as->history->bytes : 0;
}
EXPORT_SYMBOL_FOR_MEMTOPO_TESTS(memtopo_history_bytes);

/* What one space's kept views and their ring hold in the budget. */
static size_t memtopo_history_space_charged(const struct memtopo_space *as)
{
	return as->history ? sizeof(*as->history) + memtopo_history_bytes(as) : 0;
}

/**
 * memtopo_history_charged() - what every space of @ctx keeps for resync by
 * difference, in bytes of its budget.
 * @ctx: the context, locked.
 *
 * Return: the bytes memtopo_history_reclaim() would give back.
 */
size_t memtopo_history_charged(struct memtopo_ctx *ctx)
{
	struct memtopo_space *as;
	size_t sum = 0;

	memtopo_assert_locked(ctx);
	list_for_each_entry(as, &ctx->spaces, link)
		sum += memtopo_history_space_charged(as);
	list_for_each_entry(as, &ctx->dead_spaces, link)
		sum += memtopo_history_space_charged(as);
	return sum;
}

/**
 * memtopo_history_reclaim() - drop every view every space of @ctx keeps;
 * resyncs from before now are ESTALE.
 * @ctx: the context, locked.
 *
 * Context: the context mutex held.
 */
void memtopo_history_reclaim(struct memtopo_ctx *ctx)
{
	struct memtopo_space *as;

	memtopo_assert_locked(ctx);
	list_for_each_entry(as, &ctx->spaces, link)
		memtopo_history_clear(as);
	list_for_each_entry(as, &ctx->dead_spaces, link)
		memtopo_history_clear(as);
}
EXPORT_SYMBOL_FOR_MEMTOPO_TESTS(memtopo_history_reclaim);

/**
 * memtopo_history_forget_region() - a destroyed region is about to be
 * freed: no kept view may show it any more.
 * @mr: the region, destroyed, in no published view; context locked.
 *
 * Drops every kept view of every space of the context (which of them
 * show @mr is not known without walking them all).
 */
void memtopo_history_forget_region(struct memtopo_region *mr)
{
	memtopo_history_reclaim(mr->ctx);
}
