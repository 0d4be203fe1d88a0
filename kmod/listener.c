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
static bool memtopo_fr_same(const struct memtopo_view *a, u32 i,
			    const struct memtopo_view *b, u32 j)
{
	const struct memtopo_fr *x = memtopo_view_fr(a, i), *y = memtopo_view_fr(b, j);

	return memtopo_view_start(a, i) == memtopo_view_start(b, j) &&
	       memtopo_view_last(a, i) == memtopo_view_last(b, j) &&
	       x->mr == y->mr && x->offset == y->offset && x->flags == y->flags;
}

/* Next entry in [@i, @end) that holds a range (holes are not ranges). */
static u32 memtopo_next_range(const struct memtopo_view *v, u32 i, u32 end)
{
	while (i < end && !memtopo_view_fr(v, i)->mr)
		i++;
	return i;
}

/* In both views and unchanged, but the dirty-log clients may differ. */
static void memtopo_update_nop(struct memtopo_space *as, const struct memtopo_view *old, u32 io,
			       const struct memtopo_view *new, u32 in)
{
	u8 om = memtopo_view_fr(old, io)->dirty_log_mask;
	u8 nm = memtopo_view_fr(new, in)->dirty_log_mask;
	struct memtopo_listener *l;
	struct memtopo_section s;

	memtopo_view_section(new, in, &s);
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
 * One pass of QEMU's address_space_update_topology_pass() over the entries
 * runs[0]..runs[1] of @old and runs[2]..runs[3] of @new, which cover the
 * same addresses.
 */
static void memtopo_update_pass(struct memtopo_space *as, const struct memtopo_view *old,
				const struct memtopo_view *new, const u32 runs[4], bool adding)
{
	struct memtopo_listener *l;
	struct memtopo_section s;
	u32 oend = runs[1] + 1, nend = runs[3] + 1;
	u32 io = memtopo_next_range(old, runs[0], oend);
	u32 in = memtopo_next_range(new, runs[2], nend);

	while (io < oend || in < nend) {
		bool has_old = io < oend, has_new = in < nend;

		if (has_old && (!has_new ||
				memtopo_view_start(old, io) < memtopo_view_start(new, in) ||
				(memtopo_view_start(old, io) == memtopo_view_start(new, in) &&
				 !memtopo_fr_same(old, io, new, in)))) {
			if (!adding) {
				memtopo_view_section(old, io, &s);
				memtopo_hook_range_del(as, &s);
				memtopo_for_each_listener_reverse(l, as)
					if (l->ops->region_del)
						l->ops->region_del(l->priv, &s);
			}
			io = memtopo_next_range(old, io + 1, oend);
		} else if (has_old && has_new && memtopo_fr_same(old, io, new, in)) {
			if (adding)
				memtopo_update_nop(as, old, io, new, in);
			io = memtopo_next_range(old, io + 1, oend);
			in = memtopo_next_range(new, in + 1, nend);
		} else {
			if (adding) {
				memtopo_view_section(new, in, &s);
				memtopo_for_each_listener(l, as)
					if (l->ops->region_add)
						l->ops->region_add(l->priv, &s);
				memtopo_hook_range_add(as, &s);
			}
			in = memtopo_next_range(new, in + 1, nend);
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

	if (list_empty(&as->listeners))
		return;
	/* QEMU's order: every deletion, in address order, before any addition */
	for (k = 0; k < nr_runs; k++)
		memtopo_update_pass(as, old, new, runs + 4 * k, false);
	for (k = 0; k < nr_runs; k++)
		memtopo_update_pass(as, old, new, runs + 4 * k, true);
}

static void memtopo_listener_replay(struct memtopo_listener *l, bool adding)
{
	struct memtopo_space *as = l->space;
	const struct memtopo_view *v;
	const struct memtopo_listener_ops *ops = l->ops;
	struct memtopo_section s;
	u32 i;

	v = memtopo_space_view_locked(as);
	if (ops->begin)
		ops->begin(l->priv);
	memtopo_hook_replay_begin(l, adding);
	for (i = memtopo_next_range(v, 0, v->nr); i < v->nr;
	     i = memtopo_next_range(v, i + 1, v->nr)) {
		memtopo_view_section(v, i, &s);
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
}

/**
 * memtopo_listener_register_locked() - attach a listener to a space and
 * replay the current view to it as region_add.
 * @as: the space, context locked.
 * @l: the listener, with @l->ops set.
 *
 * Return: 0, -EINVAL without ops, -EBUSY if already registered, -ENODEV
 * if the owner module is going away.
 */
int memtopo_listener_register_locked(struct memtopo_space *as, struct memtopo_listener *l)
{
	struct memtopo_listener *other;

	memtopo_assert_locked(as->ctx);
	if (!l->ops)
		return -EINVAL;
	if (l->space)
		return -EBUSY;
	if (!try_module_get(l->owner))
		return -ENODEV;
	memtopo_ctx_get(as->ctx);
	l->space = as;
	/* sorted by priority; equal priorities keep registration order */
	memtopo_for_each_listener(other, as)
		if (other->priority > l->priority)
			break;
	list_add_tail(&l->link, &other->link);
	memtopo_listener_replay(l, true);
	return 0;
}
EXPORT_SYMBOL_NS_GPL(memtopo_listener_register_locked, MEMTOPO);

/**
 * memtopo_listener_register() - attach a listener to a space.
 * @as: the space.
 * @l: the listener.
 *
 * Return: as memtopo_listener_register_locked().
 */
int memtopo_listener_register(struct memtopo_space *as, struct memtopo_listener *l)
{
	int ret;

	mutex_lock(&as->ctx->lock);
	ret = memtopo_listener_register_locked(as, l);
	mutex_unlock(&as->ctx->lock);
	return ret;
}
EXPORT_SYMBOL_NS_GPL(memtopo_listener_register, MEMTOPO);

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
 */
void memtopo_listener_unregister(struct memtopo_listener *l)
{
	struct memtopo_ctx *ctx;

	if (!l->space)
		return;
	ctx = l->space->ctx;
	mutex_lock(&ctx->lock);
	memtopo_listener_unregister_locked(l);
	mutex_unlock(&ctx->lock);
	memtopo_ctx_put(ctx);
}
EXPORT_SYMBOL_NS_GPL(memtopo_listener_unregister, MEMTOPO);

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
