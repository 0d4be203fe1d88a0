// SPDX-License-Identifier: GPL-2.0
/*
 * Listeners: QEMU's MemoryListener, per space.  The diff of two views
 * follows address_space_update_topology_pass() exactly: a first pass
 * removes what left (listeners in reverse order), a second adds what came
 * and reports what stayed (forward order), range by range.
 */
#include <linux/export.h>
#include <linux/module.h>

#include "memtopo_internal.h"
#include "memtopo_hooks.h"
#include "selftest.h"

/**
 * memtopo_listeners_begin() - a commit starts.
 * @as: the space, context locked.
 */
void memtopo_listeners_begin(struct memtopo_space *as)
{
	struct memtopo_listener *l;

	memtopo_for_each_listener(l, as)
		if (l->ops->begin)
			l->ops->begin(l->priv);
}

/**
 * memtopo_listeners_commit() - a commit ends.
 * @as: the space, context locked.
 */
void memtopo_listeners_commit(struct memtopo_space *as)
{
	struct memtopo_listener *l;

	memtopo_for_each_listener(l, as)
		if (l->ops->commit)
			l->ops->commit(l->priv);
}

/* QEMU's flatrange_equal(): everything but the dirty-log mask. */
static bool memtopo_fr_same(const struct memtopo_view_pos *a, const struct memtopo_view_pos *b)
{
	const struct memtopo_fr *x = memtopo_pos_fr(a), *y = memtopo_pos_fr(b);

	return memtopo_pos_start(a) == memtopo_pos_start(b) &&
	       memtopo_pos_last(a) == memtopo_pos_last(b) &&
	       x->mr == y->mr && x->offset == y->offset && x->flags == y->flags;
}

/* Move to the next entry before @end that holds a range (holes are not). */
static void memtopo_next_range(struct memtopo_view_pos *p, u32 end)
{
	while (p->i < end && !memtopo_pos_fr(p)->mr)
		memtopo_pos_next(p);
}

/* In both views and unchanged, but the dirty-log clients may differ. */
static void memtopo_update_nop(struct memtopo_space *as, const struct memtopo_view_pos *po,
			       const struct memtopo_view_pos *pn)
{
	u8 om = memtopo_pos_fr(po)->dirty_log_mask;
	u8 nm = memtopo_pos_fr(pn)->dirty_log_mask;
	struct memtopo_listener *l;
	struct memtopo_section s;

	memtopo_pos_section(pn, &s);
	memtopo_for_each_listener(l, as)
		if (l->ops->region_nop)
			l->ops->region_nop(l->priv, &s);
	if (nm & ~om)
		memtopo_for_each_listener(l, as)
			if (l->ops->log_start)
				l->ops->log_start(l->priv, &s, om, nm);
	if (om & ~nm)
		memtopo_for_each_listener_reverse(l, as)
			if (l->ops->log_stop)
				l->ops->log_stop(l->priv, &s, om, nm);
}

/*
 * Entries @k..@k + @nr - 1 of @chunk, shared by both views and none of
 * them its last: each range is unchanged, its dirty-log mask included, so
 * it gets region_nop and nothing else.  This is the whole cost of a
 * region_nop commit for most ranges: one step, one section, the calls.
 */
static void memtopo_update_nop_shared(struct memtopo_space *as, const struct memtopo_view *new,
				      const struct memtopo_chunk *chunk, u32 k, u32 nr)
{
	struct memtopo_listener *l;
	struct memtopo_section s;
	u32 end = k + nr;

	s.generation = new->generation;
	for (; k < end; k++) {
		const struct memtopo_fr *fr = &chunk->fr[k];

		if (!fr->mr)
			continue;
		s.start = chunk->starts[k];
		s.last = chunk->starts[k + 1] - 1;
		s.mr = fr->mr;
		s.offset = fr->offset;
		s.flags = fr->flags;
		s.dirty_log_mask = fr->dirty_log_mask;
		memtopo_for_each_listener(l, as)
			if (l->ops->region_nop)
				l->ops->region_nop(l->priv, &s);
	}
}

/*
 * One pass of QEMU's address_space_update_topology_pass() over the entries
 * runs[0]..runs[1] of @old and runs[2]..runs[3] of @new, which cover the
 * same addresses.  Both are walked chunk by chunk.
 */
static void memtopo_update_pass(struct memtopo_space *as, const struct memtopo_view *old,
				const struct memtopo_view *new, const u32 runs[4], bool adding)
{
	struct memtopo_listener *l;
	struct memtopo_section s;
	struct memtopo_view_pos po, pn;
	u32 oend = runs[1] + 1, nend = runs[3] + 1;

	memtopo_pos_init(&po, old, runs[0]);
	memtopo_pos_init(&pn, new, runs[2]);
	memtopo_next_range(&po, oend);
	memtopo_next_range(&pn, nend);
	while (po.i < oend || pn.i < nend) {
		bool has_old = po.i < oend, has_new = pn.i < nend;

		/*
		 * A chunk both views share holds the same entries; only its
		 * last one can differ (it ends where the next chunk starts), so
		 * deleting skips the rest and adding reports them unchanged
		 * without comparing them.
		 */
		if (has_old && has_new && po.chunk == pn.chunk && po.k == pn.k &&
		    po.k + 1 < po.chunk->nr) {
			u32 skip = po.chunk->nr - 1 - po.k;

			skip = min(skip, min(oend - 1 - po.i, nend - 1 - pn.i));
			if (adding) {
				/* the run goes on past this chunk: fetch the next meanwhile */
				if (memtopo_pos_chunk_first(&pn) + pn.chunk->nr < nend)
					memtopo_pos_prefetch_next(&pn);
				memtopo_update_nop_shared(as, new, pn.chunk, pn.k, skip);
			}
			po.k += skip;
			po.i += skip;
			pn.k += skip;
			pn.i += skip;
			if (skip) {
				memtopo_next_range(&po, oend);
				memtopo_next_range(&pn, nend);
				continue;
			}
		}

		if (has_old && (!has_new || memtopo_pos_start(&po) < memtopo_pos_start(&pn) ||
				(memtopo_pos_start(&po) == memtopo_pos_start(&pn) &&
				 !memtopo_fr_same(&po, &pn)))) {
			if (!adding) {
				memtopo_pos_section(&po, &s);
				memtopo_hook_range_del(as, &s);
				memtopo_for_each_listener_reverse(l, as)
					if (l->ops->region_del)
						l->ops->region_del(l->priv, &s);
			}
			memtopo_pos_next(&po);
			memtopo_next_range(&po, oend);
		} else if (has_old && has_new && memtopo_fr_same(&po, &pn)) {
			if (adding)
				memtopo_update_nop(as, &po, &pn);
			memtopo_pos_next(&po);
			memtopo_next_range(&po, oend);
			memtopo_pos_next(&pn);
			memtopo_next_range(&pn, nend);
		} else {
			if (adding) {
				memtopo_pos_section(&pn, &s);
				memtopo_for_each_listener(l, as)
					if (l->ops->region_add)
						l->ops->region_add(l->priv, &s);
				memtopo_hook_range_add(as, &s);
			}
			memtopo_pos_next(&pn);
			memtopo_next_range(&pn, nend);
		}
	}
}

/**
 * memtopo_listeners_update() - tell a space's listeners how its view
 * changes from @old to @new.
 * @as: the space, context locked.
 * @old: the published view.
 * @new: the view about to be published.
 */
void memtopo_listeners_update(struct memtopo_space *as, const struct memtopo_view *old,
			      const struct memtopo_view *new)
{
	const u32 runs[4] = { 0, old->nr - 1, 0, new->nr - 1 };

	memtopo_listeners_update_runs(as, old, new, runs, 1);
}

/**
 * memtopo_listeners_want_nop() - does a listener of @as take region_nop?
 * @as: the space, context locked.
 *
 * Return: true if one does (commits then report every unchanged range).
 */
bool memtopo_listeners_want_nop(struct memtopo_space *as)
{
	struct memtopo_listener *l;

	memtopo_for_each_listener(l, as)
		if (l->ops->region_nop)
			return true;
	return false;
}

/**
 * memtopo_listeners_update_runs() - as memtopo_listeners_update(), for
 * views that differ only inside the given runs.
 * @as: the space, context locked.
 * @old: the published view.
 * @new: the view about to be published.
 * @runs: @nr_runs quadruples from memtopo_view_runs(), sorted and disjoint.
 * @nr_runs: how many.
 */
void memtopo_listeners_update_runs(struct memtopo_space *as, const struct memtopo_view *old,
				   const struct memtopo_view *new, const u32 *runs,
				   u32 nr_runs)
{
	u32 k;

	if (list_empty(&as->listeners) && !memtopo_hook_space_watched(as))
		return;
	/* QEMU's order: every deletion, in address order, before any addition */
	for (k = 0; k < nr_runs; k++)
		memtopo_update_pass(as, old, new, runs + 4 * k, false);
	for (k = 0; k < nr_runs; k++)
		memtopo_update_pass(as, old, new, runs + 4 * k, true);
}

/*
 * Registering can fail only before any range was sent (the listener
 * refused log_global_start): it then gets its commit, closing the begin.
 */
static int memtopo_listener_replay(struct memtopo_listener *l, bool adding)
{
	struct memtopo_space *as = l->space;
	const struct memtopo_view *v;
	const struct memtopo_listener_ops *ops = l->ops;
	struct memtopo_view_pos p;
	struct memtopo_section s;
	int ret;

	v = memtopo_space_view_locked(as);
	if (ops->begin)
		ops->begin(l->priv);
	ret = memtopo_hook_replay_begin(l, adding);
	if (ret) {
		if (ops->commit)
			ops->commit(l->priv);
		return ret;
	}
	for (memtopo_pos_walk(&p, v); memtopo_pos_shown(&p, &s); memtopo_pos_next_ahead(&p)) {
		if (adding) {
			if (ops->region_add)
				ops->region_add(l->priv, &s);
			if (s.dirty_log_mask && ops->log_start)
				ops->log_start(l->priv, &s, 0, s.dirty_log_mask);
		} else {
			if (s.dirty_log_mask && ops->log_stop)
				ops->log_stop(l->priv, &s, s.dirty_log_mask, 0);
			if (ops->region_del)
				ops->region_del(l->priv, &s);
		}
	}
	memtopo_hook_replay_end(l, adding);
	if (ops->commit)
		ops->commit(l->priv);
	return 0;
}

/**
 * memtopo_listener_register_locked() - attach a listener to a space and
 * replay the current view to it as region_add.
 * @as: the space, context locked.
 * @l: the listener, with @l->ops set.
 *
 * A listener on a space created by the still open transaction is
 * unregistered by that transaction's failed commit, as the space is undone:
 * it gets detached (if it has one), then begin, region_del for what it was
 * replayed and commit, @l->space is cleared and the module and context
 * references are dropped before the space is freed, so it hears nothing
 * more and memtopo_listener_unregister() on it does nothing.  It may be
 * registered again.
 *
 * Context: process context, the context mutex held; may sleep.
 * Return: 0, -EINVAL without ops, -EBUSY if already registered, -ENOENT if
 * @as was destroyed, -ENODEV if the owner module is going away, or the
 * errno of the listener's log_global_start while global dirty logging is
 * on (it got begin and commit only and is not registered).
 */
int memtopo_listener_register_locked(struct memtopo_space *as, struct memtopo_listener *l)
{
	struct memtopo_listener *other;
	int ret;

	memtopo_assert_locked(as->ctx);
	if (!l->ops)
		return -EINVAL;
	if (l->space)
		return -EBUSY;
	if (as->dead)
		return -ENOENT;
	if (!try_module_get(l->owner))
		return -ENODEV;
	l->space = as;
	/* sorted by priority; equal priorities keep registration order */
	memtopo_for_each_listener(other, as)
		if (other->priority > l->priority)
			break;
	list_add_tail(&l->link, &other->link);
	ret = memtopo_listener_replay(l, true);
	if (ret) {
		list_del(&l->link);
		l->space = NULL;
		module_put(l->owner);
		return ret;
	}
	memtopo_ctx_get(as->ctx);
	return 0;
}
EXPORT_SYMBOL_NS_GPL(memtopo_listener_register_locked, MEMTOPO);

MEMTOPO_LOCKED_WRAPPER(listener_register, as->ctx,
		       (struct memtopo_space *as, struct memtopo_listener *l),
		       (as, l));

static void memtopo_listener_detach(struct memtopo_listener *l)
{
	memtopo_listener_replay(l, false);
	list_del(&l->link);
	l->space = NULL;
}

/**
 * memtopo_listener_unregister_locked() - detach a listener; it gets
 * region_del for everything still mapped.
 * @l: a registered listener, its context locked.
 *
 * The caller must drop the context reference the registration took
 * (memtopo_listener_unregister() does) after unlocking.
 *
 * Context: process context, the context mutex held; may sleep; the
 * listener's callbacks run.
 */
void memtopo_listener_unregister_locked(struct memtopo_listener *l)
{
	memtopo_assert_locked(l->space->ctx);
	memtopo_listener_detach(l);
	module_put(l->owner);
}
EXPORT_SYMBOL_NS_GPL(memtopo_listener_unregister_locked, MEMTOPO);

/**
 * memtopo_listener_unregister() - detach a listener.
 * @l: a registered listener (unregistered ones are ignored).
 *
 * Context: process context; takes the context mutex, so not from a listener
 * or device callback of the context; may sleep.
 */
void memtopo_listener_unregister(struct memtopo_listener *l)
{
	struct memtopo_ctx *ctx;

	if (!l->space)
		return;
	ctx = l->space->ctx;
	memtopo_ctx_lock(ctx);
	memtopo_listener_unregister_locked(l);
	memtopo_ctx_unlock(ctx);
	memtopo_ctx_put(ctx);
}
EXPORT_SYMBOL_NS_GPL(memtopo_listener_unregister, MEMTOPO);

/**
 * memtopo_space_emit_event_locked() - queue an event of a kind that has no
 * listener callback (IOMMU_MAP / _UNMAP, DISCARD_POPULATE / _DISCARD) on
 * every userspace subscription of a space that selected its type.
 * @as: the space.
 * @ev: the event, built with memtopo_event_init() plus its payload; @seq
 *	and @generation are the subscription's to set.
 *
 * Context: process context, the context mutex held; may sleep.  Cannot
 * fail: a subscription whose queue is full overflows.  Ordering within a
 * commit and outside one: see kmod/events.h.
 */
void memtopo_space_emit_event_locked(struct memtopo_space *as, const struct memtopo_event *ev)
{
	struct memtopo_listener *l;

	memtopo_assert_locked(as->ctx);
	memtopo_for_each_listener(l, as)
		if (l->ops->event)
			l->ops->event(l->priv, ev);
}
EXPORT_SYMBOL_FOR_MEMTOPO_TESTS(memtopo_space_emit_event_locked);

/**
 * memtopo_space_subscribed_locked() - whether an event emitted on @as
 * would reach anyone, so a feature can skip building it.
 * @as: the space.
 *
 * Context: the context mutex held.
 * Return: true if a listener of @as takes emitted events.
 */
bool memtopo_space_subscribed_locked(struct memtopo_space *as)
{
	struct memtopo_listener *l;

	memtopo_assert_locked(as->ctx);
	memtopo_for_each_listener(l, as)
		if (l->ops->event)
			return true;
	return false;
}

/**
 * memtopo_listeners_detach_all() - a space is going away with listeners
 * still on it (only possible when its context dies).
 * @as: the space, context locked.
 */
void memtopo_listeners_detach_all(struct memtopo_space *as)
{
	struct memtopo_listener *l, *tmp;

	list_for_each_entry_safe(l, tmp, &as->listeners, link) {
		memtopo_listener_detach(l);
		module_put(l->owner);
	}
}
