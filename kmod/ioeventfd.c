// SPDX-License-Identifier: GPL-2.0
/*
 * ioeventfds: an eventfd registered on a region at (offset, size, optional
 * data match), QEMU's memory_region_add_eventfd().
 *
 * Each space keeps the set its listeners were last told about, in absolute
 * addresses.  A commit builds every space's next set from the view it is
 * about to publish, while a failure can still undo it, and once the view
 * is published reports the symmetric difference with the old set (a
 * registration change outside a transaction builds and reports at once).
 * A commit that changes no range of a region with a registration, under
 * the registrations the set was built with, keeps the set instead
 * (memtopo_ioeventfds_unchanged()).
 * Sets are sorted by QEMU's memory_region_ioeventfd_before(), and the
 * difference is reported exactly as address_space_add_del_ioeventfds()
 * does: eventfd_del in forward and eventfd_add in reverse listener order,
 * in one merge walk over both sorted sets.
 *
 * Differences from QEMU, both KVM's rules (the consumer that matters):
 *  - a size-0 ioeventfd matches a write of any size at its address, and is
 *    visible wherever its byte is (QEMU's software path never matches it and
 *    its intersection test drops it at a range's first byte);
 *  - registrations that KVM would refuse as colliding (same offset and
 *    size, either one size 0, either one without a data match or both with
 *    the same data) are refused with -EEXIST instead of failing later.
 */
#include <linux/export.h>
#include <linux/rcupdate.h>
#include <linux/slab.h>
#include <linux/sort.h>

#include "parity.h"
#include "selftest.h"

static void memtopo_ioeventfd_free_rcu(struct rcu_head *head)
{
	struct memtopo_iofd *fd = container_of(head, struct memtopo_iofd, rcu);

	memtopo_iofd_put(fd->eventfd);
	kfree(fd);
}

/* The write path may still be signalling it under RCU: free after a GP. */
static void memtopo_ioeventfd_put(struct memtopo_iofd *fd)
{
	if (refcount_dec_and_test(&fd->ref))
		call_rcu(&fd->rcu, memtopo_ioeventfd_free_rcu);
}

/**
 * memtopo_ioeventfds_free() - drop a dying region's registrations.
 * @p: its parity state; nothing can reach it.
 */
void memtopo_ioeventfds_free(struct memtopo_region_parity *p)
{
	struct memtopo_iofd *fd, *tmp;

	list_for_each_entry_safe(fd, tmp, &p->ioeventfds, link)
		memtopo_ioeventfd_put(fd);
}

/*
 * @mr holds @delta registrations more (or fewer): counted in it and in its
 * context, which lists the regions holding any.
 */
static void memtopo_ioeventfds_count(struct memtopo_region *mr, struct memtopo_region_parity *p,
				     int delta)
{
	struct memtopo_ctx_parity *cp = mr->ctx->parity;

	p->nr_ioeventfds += delta;
	cp->nr_ioeventfds += delta;
	if (!p->nr_ioeventfds)
		list_del_init(&p->efd_link);
	else if (list_empty(&p->efd_link))
		list_add_tail(&p->efd_link, &cp->efd_regions);
}

/**
 * memtopo_ioeventfds_uncount() - a region's destroy is published: its
 * registrations stop counting as the context's.
 * @mr: the region, context locked.
 *
 * They stay on the region, counted there, until it is freed: the commit
 * that published the destroy had to see them, to build the sets anew
 * without the region's ranges (memtopo_ioeventfds_prepare()).  Until then
 * the context's count keeps every space busy with a set.
 */
void memtopo_ioeventfds_uncount(struct memtopo_region *mr)
{
	struct memtopo_region_parity *p = memtopo_parity_locked(mr);

	if (p && p->nr_ioeventfds) {
		mr->ctx->parity->nr_ioeventfds -= p->nr_ioeventfds;
		list_del_init(&p->efd_link);
	}
}

static bool memtopo_ioeventfd_collides(const struct memtopo_iofd *fd, u64 offset,
				       unsigned int size, bool match_data, u64 data)
{
	if (fd->offset != offset)
		return false;
	if (!fd->size || !size)
		return true;
	return fd->size == size && (!fd->match_data || !match_data || fd->data == data);
}

static bool memtopo_ioeventfd_same(const struct memtopo_iofd *fd, u64 offset,
				   unsigned int size, bool match_data, u64 data,
				   struct eventfd_ctx *eventfd)
{
	return fd->offset == offset && fd->size == size && fd->match_data == match_data &&
	       (!match_data || fd->data == data) && (!eventfd || fd->eventfd == eventfd);
}

static int memtopo_ioeventfds_build(struct memtopo_space *as, const struct memtopo_view *v,
				    bool tree_shows, struct memtopo_ioeventfd_set *set);
static void memtopo_ioeventfds_set_free(struct memtopo_ioeventfd_set *set);
static void memtopo_ioeventfds_apply(struct memtopo_space *as, struct memtopo_ioeventfd_set *set);

/*
 * A change outside a transaction is reported now (as QEMU's commit does
 * when only ioeventfds changed: no listener begin/commit); inside, at the
 * commit.  Every space's new set is built before any listener is told, so
 * -ENOMEM here is nobody's news and the caller takes its change back.
 */
static int memtopo_ioeventfds_changed(struct memtopo_ctx *ctx)
{
	struct memtopo_ioeventfd_set *sets;
	struct memtopo_space *as;
	u32 i = 0, nr = 0;
	int ret;

	if (ctx->txn_depth) {
		list_for_each_entry(as, &ctx->spaces, link)
			if (as->parity)
				as->parity->fds_current = false;
		memtopo_ctx_commit_pending(ctx);
		return 0;
	}
	list_for_each_entry(as, &ctx->spaces, link)
		nr++;
	sets = kvcalloc(max(nr, 1u), sizeof(*sets), GFP_KERNEL_ACCOUNT);
	if (!sets)
		return -ENOMEM;
	list_for_each_entry(as, &ctx->spaces, link) {
		ret = memtopo_ioeventfds_build(as, memtopo_space_view_locked(as),
					       !ctx->topology_dirty, &sets[i]);
		if (ret)
			goto err_free;
		i++;
	}
	i = 0;
	list_for_each_entry(as, &ctx->spaces, link)
		memtopo_ioeventfds_apply(as, &sets[i++]);
	kvfree(sets);
	/* forgets the undo record: nothing to render */
	memtopo_ctx_settle(ctx);
	return 0;

err_free:
	while (i--)
		memtopo_ioeventfds_set_free(&sets[i]);
	kvfree(sets);
	return ret;
}

/**
 * memtopo_region_add_eventfd_locked() - register an ioeventfd on a region.
 * @mr: an I/O, ROM device, RAM-like or reservation region (not a container
 *	or alias, which never show in a view), context locked.
 * @offset: address within @mr.
 * @size: 0 (any write at @offset), 1, 2, 4 or 8 bytes.
 * @match_data: only writes of @data signal.
 * @data: the value to match, as the device sees it (after its endianness).
 * @eventfd: signalled on a matching write; on success the registration
 *	owns the caller's reference, which is put once the registration is
 *	deleted and every listener was told.
 *
 * Context: process context, the context mutex held; may sleep.
 * Return: 0; -EINVAL for a bad region kind, size, @data wider than @size,
 * a data match on size 0, or a range outside @mr; -ENOENT if @mr was
 * destroyed; -EEXIST if it collides with a registration of @mr; -ENOSPC
 * with UINT_MAX registrations in the context already or past its memory
 * budget (the change's undo record); -ENOMEM.  On error nothing changed.
 */
int memtopo_region_add_eventfd_locked(struct memtopo_region *mr, u64 offset,
				      unsigned int size, bool match_data, u64 data,
				      struct eventfd_ctx *eventfd)
{
	struct memtopo_region_parity *p;
	struct memtopo_ctx_parity *cp;
	struct memtopo_undo *u;
	struct memtopo_iofd *fd;
	u64 last = size ? size - 1 : 0;
	int ret;

	memtopo_assert_locked(mr->ctx);
	if (!eventfd || !memtopo_region_terminates(mr))
		return -EINVAL;
	ret = memtopo_region_check_live(mr);
	if (ret)
		return ret;
	if (size != 0 && size != 1 && size != 2 && size != 4 && size != 8)
		return -EINVAL;
	if (match_data && (!size || (size < 8 && data >> (size * 8))))
		return -EINVAL;
	if (memtopo_region_empty(mr) || offset > memtopo_region_last_off(mr) ||
	    last > memtopo_region_last_off(mr) - offset)
		return -EINVAL;
	p = memtopo_parity_locked(mr);
	if (p)
		list_for_each_entry(fd, &p->ioeventfds, link)
			if (memtopo_ioeventfd_collides(fd, offset, size, match_data, data))
				return -EEXIST;
	if (memtopo_ctx_nr_ioeventfds(mr->ctx) == UINT_MAX)
		return -ENOSPC;
	cp = memtopo_ctx_parity_get(mr->ctx);
	if (!cp)
		return -ENOMEM;
	p = memtopo_parity_get(mr);
	if (!p)
		return -ENOMEM;
	fd = kzalloc(sizeof(*fd), GFP_KERNEL_ACCOUNT);
	if (!fd)
		return -ENOMEM;
	u = memtopo_undo_push(mr->ctx, MEMTOPO_UNDO_PARITY, mr);
	if (IS_ERR(u)) {
		kfree(fd);
		return PTR_ERR(u);
	}
	u->sub = MEMTOPO_PUNDO_IOEVENTFD_ADD;
	u->aux = fd;
	refcount_set(&fd->ref, 1);
	fd->offset = offset;
	fd->size = size;
	fd->match_data = match_data;
	fd->data = match_data ? data : 0;
	fd->eventfd = eventfd;
	list_add_tail_rcu(&fd->link, &p->ioeventfds);
	/* checked above, under the same mutex hold: cannot overflow */
	memtopo_ioeventfds_count(mr, p, 1);
	ret = memtopo_ioeventfds_changed(mr->ctx);
	if (ret) {
		/*
		 * Nobody was told, but the write path may have found it under
		 * RCU and be signalling @eventfd, which the caller drops as soon
		 * as this returns: wait those readers out before it can.
		 */
		list_del_rcu(&fd->link);
		memtopo_ioeventfds_count(mr, p, -1);
		memtopo_undo_cancel(mr->ctx);
		synchronize_rcu();
		kfree(fd);
	}
	return ret;
}
EXPORT_SYMBOL_NS_GPL(memtopo_region_add_eventfd_locked, MEMTOPO);

/**
 * memtopo_region_del_eventfd_locked() - unregister an ioeventfd.
 * @mr: the region, context locked.
 * @offset: as registered.
 * @size: as registered.
 * @match_data: as registered.
 * @data: as registered (ignored without @match_data).
 * @eventfd: as registered, or NULL for whichever eventfd is registered
 *	there (registrations that collide are refused, so at most one
 *	matches); the caller's own references are untouched.
 *
 * Context: process context, the context mutex held; may sleep.
 * Return: 0, -ENOENT if @mr was destroyed or no such registration exists,
 * -ENOSPC past the context's memory budget or -ENOMEM for the change's
 * undo record (nothing changed).
 */
int memtopo_region_del_eventfd_locked(struct memtopo_region *mr, u64 offset,
				      unsigned int size, bool match_data, u64 data,
				      struct eventfd_ctx *eventfd)
{
	struct memtopo_region_parity *p;
	struct memtopo_undo *u;
	struct memtopo_iofd *fd;
	int ret;

	memtopo_assert_locked(mr->ctx);
	ret = memtopo_region_check_live(mr);
	if (ret)
		return ret;
	p = memtopo_parity_locked(mr);
	if (!p)
		return -ENOENT;
	list_for_each_entry(fd, &p->ioeventfds, link) {
		if (!memtopo_ioeventfd_same(fd, offset, size, match_data, data, eventfd))
			continue;
		u = memtopo_undo_push(mr->ctx, MEMTOPO_UNDO_PARITY, mr);
		if (IS_ERR(u))
			return PTR_ERR(u);
		/* the record keeps the list's reference until the commit */
		u->sub = MEMTOPO_PUNDO_IOEVENTFD_DEL;
		u->aux = fd;
		u->pos = fd->link.prev;
		list_del_rcu(&fd->link);
		/* it was counted when added, which allocated the context's state */
		memtopo_ioeventfds_count(mr, p, -1);
		ret = memtopo_ioeventfds_changed(mr->ctx);
		if (ret) {
			/* nobody was told: back where it was, as a rollback puts it */
			memtopo_ioeventfd_undo(u, false);
			memtopo_undo_cancel(mr->ctx);
		}
		return ret;
	}
	return -ENOENT;
}
EXPORT_SYMBOL_NS_GPL(memtopo_region_del_eventfd_locked, MEMTOPO);

/**
 * memtopo_region_list_eventfds_locked() - a region's ioeventfd
 * registrations, in the order they were made.
 * @mr: the region, context locked.
 * @out: filled with up to @max registrations (may be NULL when @max is 0).
 * @max: capacity of @out.
 *
 * Context: process context, the context mutex held.
 * Return: how many registrations the region has; when that is more than
 * @max only the first @max were written.
 */
u32 memtopo_region_list_eventfds_locked(struct memtopo_region *mr,
					struct memtopo_eventfd_info *out, u32 max)
{
	struct memtopo_region_parity *p;
	struct memtopo_iofd *fd;
	u32 n = 0;

	memtopo_assert_locked(mr->ctx);
	p = memtopo_parity_locked(mr);
	if (!p)
		return 0;
	list_for_each_entry(fd, &p->ioeventfds, link) {
		if (n < max)
			out[n] = (struct memtopo_eventfd_info){
				.offset = fd->offset, .data = fd->data, .size = fd->size,
				.match_data = fd->match_data, .eventfd = fd->eventfd,
			};
		n++;
	}
	return n;
}
EXPORT_SYMBOL_NS_GPL(memtopo_region_list_eventfds_locked, MEMTOPO);

MEMTOPO_LOCKED_WRAPPER(region_add_eventfd, mr->ctx,
		       (struct memtopo_region *mr, u64 offset, unsigned int size, bool match_data,
			u64 data, struct eventfd_ctx *eventfd),
		       (mr, offset, size, match_data, data, eventfd));

MEMTOPO_LOCKED_WRAPPER(region_del_eventfd, mr->ctx,
		       (struct memtopo_region *mr, u64 offset, unsigned int size, bool match_data,
			u64 data, struct eventfd_ctx *eventfd),
		       (mr, offset, size, match_data, data, eventfd));

/**
 * memtopo_ioeventfd_dispatch() - signal the ioeventfd a write matches.
 * @mr: the region written, found under the caller's RCU read-side section.
 * @offset: address of the write within @mr.
 * @data: the value, as the device sees it.
 * @size: bytes written.
 * @signal: signal it; false only checks (the dry run of an access).
 *
 * Return: true if an eventfd matches (the device is not called).
 */
bool memtopo_ioeventfd_dispatch(struct memtopo_region *mr, u64 offset, u64 data,
				unsigned int size, bool signal)
{
	struct memtopo_region_parity *p = rcu_dereference(mr->parity);
	struct memtopo_iofd *fd;

	if (!p)
		return false;
	list_for_each_entry_rcu(fd, &p->ioeventfds, link) {
		if (fd->offset != offset || (fd->size && fd->size != size) ||
		    (fd->match_data && fd->data != data))
			continue;
		if (signal)
			memtopo_iofd_signal(fd->eventfd);
		return true;
	}
	return false;
}

/* QEMU's memory_region_ioeventfd_before(), on absolute addresses. */
static int memtopo_abs_cmp(const void *pa, const void *pb)
{
	const struct memtopo_abs_ioeventfd *a = pa, *b = pb;
	const struct memtopo_iofd *x = a->fd, *y = b->fd;

	if (a->addr != b->addr)
		return a->addr < b->addr ? -1 : 1;
	if (x->size != y->size)
		return x->size < y->size ? -1 : 1;
	if (x->match_data != y->match_data)
		return x->match_data < y->match_data ? -1 : 1;
	if (x->match_data && x->data != y->data)
		return x->data < y->data ? -1 : 1;
	if (x->eventfd != y->eventfd)
		return (unsigned long)x->eventfd < (unsigned long)y->eventfd ? -1 : 1;
	return 0;
}

struct memtopo_efd_collect {
	struct memtopo_abs_ioeventfd *out;	/* NULL: count only */
	u32 n;
};

/* Emit every registration of @s's region that @s shows, at its absolute address. */
static void memtopo_ioeventfds_of_range(const struct memtopo_section *s, void *opaque)
{
	struct memtopo_region_parity *p = memtopo_parity_locked(s->mr);
	struct memtopo_efd_collect *c = opaque;
	struct memtopo_iofd *fd;

	list_for_each_entry(fd, &p->ioeventfds, link) {
		u64 ro_last = s->offset + (s->last - s->start);
		u64 fd_last = fd->offset + (fd->size ? fd->size - 1 : 0);

		/* QEMU's addrrange_intersects(), in region offsets */
		if (fd->offset > ro_last || fd_last < s->offset)
			continue;
		/* starts before the range: its address must not pass below 0 */
		if (fd->offset < s->offset && s->offset - fd->offset > s->start)
			continue;
		if (c->out) {
			c->out[c->n].addr = s->start + (fd->offset - s->offset);
			c->out[c->n].fd = fd;
			c->out[c->n].mr = s->mr;
			c->out[c->n].offset = fd->offset;
		}
		c->n++;
	}
}

/*
 * Emit (count when @out is NULL) every registration visible in @v: from
 * the ranges of the regions that hold one, each found where the region
 * can show (memtopo_view_region_ranges_locked()), so that the set costs
 * what the registrations do, not a walk of the view.  @tree_shows: @v is
 * the rendering of the tree as it is now.
 */
static u32 memtopo_ioeventfds_collect(struct memtopo_ctx *ctx, const struct memtopo_view *v,
				      bool tree_shows, struct memtopo_abs_ioeventfd *out)
{
	struct memtopo_efd_collect c = { .out = out };
	struct memtopo_region_parity *p;

	memtopo_assert_locked(ctx);
	if (!ctx->parity)
		return 0;
	list_for_each_entry(p, &ctx->parity->efd_regions, efd_link)
		memtopo_view_region_ranges_locked(v, tree_shows, p->mr, 0, U64_MAX,
						  memtopo_ioeventfds_of_range, &c);
	return c.n;
}

static void memtopo_ioeventfd_section(const struct memtopo_abs_ioeventfd *e,
				      struct memtopo_section *s, u64 generation)
{
	*s = (struct memtopo_section){
		.start = e->addr,
		.last = e->addr + (e->fd->size ? e->fd->size - 1 : 0),
		.mr = e->mr,
		.offset = e->offset,
		.generation = generation,
	};
}

static void memtopo_ioeventfd_notify(struct memtopo_space *as,
				     const struct memtopo_abs_ioeventfd *e, bool add,
				     u64 generation)
{
	const struct memtopo_iofd *fd = e->fd;
	struct memtopo_listener *l;
	struct memtopo_section s;

	memtopo_ioeventfd_section(e, &s, generation);
	if (add) {
		memtopo_for_each_listener_reverse(l, as)
			if (l->ops->eventfd_add)
				l->ops->eventfd_add(l->priv, &s, e->addr, fd->size, fd->match_data,
						    fd->data, fd->eventfd);
	} else {
		memtopo_for_each_listener(l, as)
			if (l->ops->eventfd_del)
				l->ops->eventfd_del(l->priv, &s, e->addr, fd->size, fd->match_data,
						    fd->data, fd->eventfd);
	}
}

/* Nothing to do: no registration anywhere, and none this space reported. */
static bool memtopo_ioeventfds_idle(struct memtopo_space *as)
{
	return !memtopo_ctx_nr_ioeventfds(as->ctx) && (!as->parity || !as->parity->nr_fds);
}

/*
 * The set @as shows through @v (its published view, or the one a commit
 * is about to publish), sorted and without duplicates, each entry holding
 * a reference; none is built (and @set stays empty) for an idle space.
 * @tree_shows: @v is the rendering of the tree as it is now.
 */
static int memtopo_ioeventfds_build(struct memtopo_space *as, const struct memtopo_view *v,
				    bool tree_shows, struct memtopo_ioeventfd_set *set)
{
	u32 i, n;

	set->fds = NULL;
	set->nr = 0;
	set->idle = memtopo_ioeventfds_idle(as);
	if (set->idle)
		return 0;
	if (!memtopo_space_parity_get(as))
		return -ENOMEM;
	if (as->ctx->parity)
		as->ctx->parity->set_builds++;
	n = memtopo_ioeventfds_collect(as->ctx, v, tree_shows, NULL);
	if (!n)
		return 0;
	set->fds = kvmalloc_array(n, sizeof(*set->fds), GFP_KERNEL_ACCOUNT);
	if (!set->fds)
		return -ENOMEM;
	memtopo_ioeventfds_collect(as->ctx, v, tree_shows, set->fds);
	sort(set->fds, n, sizeof(*set->fds), memtopo_abs_cmp, NULL);
	/* a registration split across two ranges shows once */
	for (i = 1, set->nr = 1; i < n; i++)
		if (memtopo_abs_cmp(&set->fds[i], &set->fds[set->nr - 1]))
			set->fds[set->nr++] = set->fds[i];
	for (i = 0; i < set->nr; i++)
		refcount_inc(&set->fds[i].fd->ref);
	return 0;
}

static void memtopo_ioeventfds_set_free(struct memtopo_ioeventfd_set *set)
{
	u32 i;

	for (i = 0; i < set->nr; i++)
		memtopo_ioeventfd_put(set->fds[i].fd);
	kvfree(set->fds);
}

/* Report the symmetric difference with @as's set, which @set then replaces. */
static void memtopo_ioeventfds_apply(struct memtopo_space *as, struct memtopo_ioeventfd_set *set)
{
	struct memtopo_space_parity *sp = as->parity;
	const struct memtopo_view *v = memtopo_space_view_locked(as);
	struct memtopo_abs_ioeventfd *old, *new = set->fds;
	u32 nr_old, nr_new = set->nr, io = 0, in = 0, i;

	if (set->idle)
		return;
	old = sp->fds;
	nr_old = sp->nr_fds;
	while (io < nr_old || in < nr_new) {
		int cmp;

		if (io == nr_old || in == nr_new)
			cmp = io == nr_old ? 1 : -1;
		else
			cmp = memtopo_abs_cmp(&old[io], &new[in]);

		if (cmp < 0)
			memtopo_ioeventfd_notify(as, &old[io++], false, v->generation);
		else if (cmp > 0)
			memtopo_ioeventfd_notify(as, &new[in++], true, v->generation);
		else
			io++, in++;
	}
	for (i = 0; i < nr_old; i++)
		memtopo_ioeventfd_put(old[i].fd);
	kvfree(old);
	sp->fds = new;
	sp->nr_fds = nr_new;
	sp->fds_current = true;
}

/* Does a range of the views' difference show a region with a registration? */
static int memtopo_ioeventfd_range_has(void *opaque, const struct memtopo_section *s, bool add)
{
	const struct memtopo_region_parity *p = memtopo_parity_locked(s->mr);

	return p && p->nr_ioeventfds;
}

/*
 * A registration shows in a space's set only through a range of its
 * region: when no such range differs between the published view and
 * @view, and the registrations are those the set was built under, @view
 * shows the set the listeners know.  Finding that costs what differs
 * between the views (memtopo_view_diff() skips what they share), where
 * building the set looks for every registered region's ranges.  A view
 * that borrows nothing from the published one (a full render's, a
 * repack's) shares nothing with it, so the diff would walk both whole:
 * the set is built instead, and applying it tells the listeners only
 * what changed.
 */
static bool memtopo_ioeventfds_unchanged(struct memtopo_space *as,
					 const struct memtopo_view *view)
{
	const struct memtopo_view *old = memtopo_space_view_locked(as);

	if (!as->parity || !as->parity->fds_current || !old)
		return false;
	if (view == old)
		return true;
	if (!memtopo_view_borrows_from(view, old))
		return false;
	return !memtopo_view_diff(old, view, memtopo_ioeventfd_range_has, NULL);
}

/**
 * memtopo_ioeventfds_prepare() - build the ioeventfd set a commit is about
 * to publish for @as, while the commit can still fail.
 * @as: the space, context locked.
 * @view: the view the commit will publish for @as.
 *
 * Return: 0 (the set is kept for memtopo_ioeventfds_update(), or nothing
 * is for an idle space or one whose published set still holds), or
 * -ENOMEM (nothing kept).
 */
int memtopo_ioeventfds_prepare(struct memtopo_space *as, const struct memtopo_view *view)
{
	struct memtopo_ioeventfd_set set;
	int ret;

	memtopo_assert_locked(as->ctx);
	if (memtopo_ioeventfds_unchanged(as, view))
		return 0;
	/* the view the commit rendered from the tree as it is */
	ret = memtopo_ioeventfds_build(as, view, true, &set);
	if (ret) {
		memtopo_ioeventfds_set_free(&set);
		return ret;
	}
	if (set.idle)
		return 0;
	/* not idle: the build allocated the space's parity state */
	as->parity->next = set;
	as->parity->next_ready = true;
	return 0;
}

/**
 * memtopo_ioeventfds_unprepare() - the commit failed: drop the set
 * memtopo_ioeventfds_prepare() built for @as, if any.
 * @as: the space, context locked.
 */
void memtopo_ioeventfds_unprepare(struct memtopo_space *as)
{
	struct memtopo_space_parity *sp = as->parity;

	memtopo_assert_locked(as->ctx);
	if (!sp || !sp->next_ready)
		return;
	memtopo_ioeventfds_set_free(&sp->next);
	sp->next_ready = false;
}

/**
 * memtopo_ioeventfds_update() - QEMU's address_space_update_ioeventfds():
 * the commit published @as's view; report the symmetric difference between
 * the set its listeners know and the one memtopo_ioeventfds_prepare()
 * built from that view, which then replaces it.
 * @as: the space, context locked.
 *
 * Cannot fail: everything was allocated by the prepare.
 */
void memtopo_ioeventfds_update(struct memtopo_space *as)
{
	struct memtopo_space_parity *sp = as->parity;

	memtopo_assert_locked(as->ctx);
	/* nothing prepared: the space was idle or kept its set, nothing to tell */
	if (!sp || !sp->next_ready)
		return;
	sp->next_ready = false;
	memtopo_ioeventfds_apply(as, &sp->next);
}

/**
 * memtopo_ioeventfds_space_free() - drop a dying space's ioeventfd set.
 * @sp: its parity state; its listeners are gone.
 */
void memtopo_ioeventfds_space_free(struct memtopo_space_parity *sp)
{
	u32 i;

	for (i = 0; i < sp->nr_fds; i++)
		memtopo_ioeventfd_put(sp->fds[i].fd);
	kvfree(sp->fds);
	if (sp->next_ready)
		memtopo_ioeventfds_set_free(&sp->next);
}

/**
 * memtopo_ioeventfds_replay() - tell one listener about its space's whole
 * ioeventfd set, as it registers (@add) or unregisters.
 * @l: the listener, its space's context locked.
 * @add: eventfd_add, else eventfd_del.
 *
 * QEMU replays no ioeventfds to a late listener; we do, so a listener that
 * mirrors the state need not register before the first device.
 */
void memtopo_ioeventfds_replay(struct memtopo_listener *l, bool add)
{
	struct memtopo_space *as = l->space;
	struct memtopo_space_parity *sp = as->parity;
	const struct memtopo_view *v;
	struct memtopo_section s;
	u32 i;

	if (!sp)
		return;
	v = memtopo_space_view_locked(as);
	for (i = 0; i < sp->nr_fds; i++) {
		const struct memtopo_abs_ioeventfd *e = &sp->fds[i];
		const struct memtopo_iofd *fd = e->fd;

		memtopo_ioeventfd_section(e, &s, v->generation);
		if (add && l->ops->eventfd_add)
			l->ops->eventfd_add(l->priv, &s, e->addr, fd->size, fd->match_data,
					    fd->data, fd->eventfd);
		else if (!add && l->ops->eventfd_del)
			l->ops->eventfd_del(l->priv, &s, e->addr, fd->size, fd->match_data,
					    fd->data, fd->eventfd);
	}
}

/**
 * memtopo_ioeventfd_undo() - undo (or, with @forget, keep) a registration
 * added or deleted since the last commit.
 * @u: its record.
 * @forget: the change was published: drop what the record kept.
 *
 * The spaces' sets were not rebuilt since the change (that happens at the
 * commit), so listeners have nothing to be told.
 */
void memtopo_ioeventfd_undo(struct memtopo_undo *u, bool forget)
{
	struct memtopo_region *mr = u->obj;
	struct memtopo_region_parity *p = memtopo_parity_locked(mr);
	struct memtopo_iofd *fd = u->aux;

	if (u->sub == MEMTOPO_PUNDO_IOEVENTFD_DEL) {
		if (forget) {
			memtopo_ioeventfd_put(fd);
			return;
		}
		/* back where it was: the list is as the delete left it */
		list_add_rcu(&fd->link, u->pos);
		/* it was counted before the delete: room is left */
		memtopo_ioeventfds_count(mr, p, 1);
		return;
	}
	if (forget)
		return;
	list_del_rcu(&fd->link);
	memtopo_ioeventfds_count(mr, p, -1);
	memtopo_ioeventfd_put(fd);
}
