// SPDX-License-Identifier: GPL-2.0
/*
 * Subscriptions: userspace listeners.  Each one is an engine listener on a
 * space that turns callbacks into struct memtopo_event records in a bounded
 * ring, and signals an eventfd once per commit that queued something.
 *
 * Everything here runs under the context mutex: the listener callbacks
 * are called with it held, and READ_EVENTS takes it, so a reader never sees
 * half a commit and the overflow state cannot change under it.
 *
 * A ring starts at one page and doubles when it fills, up to
 * MEMTOPO_MAX_EVENTS, each step charged to the context's memory budget:
 * a quiet subscription keeps a page, not the maximum.  When the ring is one
 * slot from full and cannot grow (at the maximum, over budget, or out of
 * memory) an OVERFLOW event takes that slot and later events are dropped
 * (without consuming sequence numbers) until the reader has drained the
 * ring; it then resynchronises from the flat view.
 *
 * Every listener callback has an event type (struct memtopo_event carries
 * what the callback gets); the features without a callback emit theirs
 * through memtopo_space_emit_event_locked() (events.h).  Events of a commit
 * (between the begin and commit callbacks) get the generation it publishes
 * and one eventfd signal at its COMMIT; an event outside a commit
 * (log_sync, log_clear, global dirty logging, IOMMU, discard) gets the current
 * generation and its own signal.
 */
#include <linux/atomic.h>
#include <linux/eventfd.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "compat.h"
#include "memtopo_main.h"
#include "memtopo_internal.h"
#include "events.h"

struct memtopo_sub {
	struct memtopo_listener l;
	struct memtopo_ctx *ctx;
	struct eventfd_ctx *efd;
	u32 id;
	u32 mask;
	struct memtopo_event *ring;
	u32 cap;		/* slots in @ring */
	u32 head;		/* oldest queued event */
	u32 count;		/* events queued */
	u32 commit_first;	/* queue index (from @head) of this commit's first event */
	u32 commit_count;	/* events queued by the commit in progress */
	size_t charged;		/* bytes charged to the context's budget */
	u64 next_seq;
	bool overflowed;	/* OVERFLOW queued, dropping until drained */
	bool muted;		/* registering without replay */
	bool in_commit;		/* between the begin and commit callbacks */
};

static atomic64_t memtopo_stat_overflows = ATOMIC64_INIT(0);

/**
 * memtopo_ctx_stat_overflows() - overflows of every subscription so far.
 * @ctx: unused; the counter is module-wide.
 *
 * Return: the number of OVERFLOW events queued since load.
 */
u64 memtopo_ctx_stat_overflows(struct memtopo_ctx *ctx)
{
	return atomic64_read(&memtopo_stat_overflows);
}

/* Event slots of a new subscription's ring: one page. */
#define MEMTOPO_SUB_RING_MIN	(PAGE_SIZE / sizeof(struct memtopo_event))

static struct memtopo_event *memtopo_sub_slot(struct memtopo_sub *sub, u32 i)
{
	return &sub->ring[(sub->head + i) % sub->cap];
}

/*
 * Double the ring (queue order kept, @head back to 0).  Called from
 * listener callbacks, so a failure is not an error: the caller queues the
 * overflow marker instead.
 */
static int memtopo_sub_grow(struct memtopo_sub *sub)
{
	u32 cap = min_t(u32, sub->cap * 2, MEMTOPO_MAX_EVENTS), i;
	size_t more = (size_t)(cap - sub->cap) * sizeof(*sub->ring);
	struct memtopo_event *ring;

	if (cap == sub->cap)
		return -ENOSPC;
	if (memtopo_ctx_charge_locked(sub->ctx, more))
		return -ENOSPC;
	ring = kvmalloc_array(cap, sizeof(*ring), GFP_KERNEL_ACCOUNT | __GFP_NOWARN);
	if (!ring) {
		memtopo_ctx_uncharge_locked(sub->ctx, more);
		return -ENOMEM;
	}
	for (i = 0; i < sub->count; i++)
		ring[i] = *memtopo_sub_slot(sub, i);
	kvfree(sub->ring);
	sub->ring = ring;
	sub->cap = cap;
	sub->head = 0;
	sub->charged += more;
	return 0;
}

static struct memtopo_event *memtopo_sub_push(struct memtopo_sub *sub, u32 type)
{
	struct memtopo_event *ev;

	if (sub->muted || sub->overflowed)
		return NULL;
	if (type != MEMTOPO_EVENT_OVERFLOW && !(sub->mask & BIT(type)))
		return NULL;
	if (sub->count >= sub->cap - 1 && type != MEMTOPO_EVENT_OVERFLOW &&
	    memtopo_sub_grow(sub)) {
		/* the last slot is kept for the overflow marker */
		ev = memtopo_sub_push(sub, MEMTOPO_EVENT_OVERFLOW);
		sub->overflowed = true;
		atomic64_inc(&memtopo_stat_overflows);
		return NULL;
	}
	ev = memtopo_sub_slot(sub, sub->count);
	memset(ev, 0, sizeof(*ev));
	ev->seq = sub->next_seq++;
	ev->type = type;
	sub->count++;
	sub->commit_count++;
	return ev;
}

/*
 * Queue a copy of @proto.  Outside a commit the event is complete at once:
 * it gets the current view's generation and its own eventfd signal.
 */
static void memtopo_sub_queue(struct memtopo_sub *sub, const struct memtopo_event *proto)
{
	struct memtopo_event *ev;
	u64 generation, seq;
	u32 i;

	if (!sub->in_commit) {
		sub->commit_first = sub->count;
		sub->commit_count = 0;
	}
	ev = memtopo_sub_push(sub, proto->type);
	if (ev) {
		seq = ev->seq;
		*ev = *proto;
		ev->seq = seq;
	}
	/* no commit will stamp what was queued (the event, or OVERFLOW) */
	if (sub->in_commit || !sub->commit_count)
		return;
	rcu_read_lock();
	generation = memtopo_space_generation(sub->l.space);
	rcu_read_unlock();
	for (i = 0; i < sub->commit_count; i++)
		memtopo_sub_slot(sub, sub->commit_first + i)->generation = generation;
	sub->commit_count = 0;
	if (sub->efd)
		memtopo_eventfd_signal(sub->efd);
}

static void memtopo_sub_section_event(void *priv, u32 type, const struct memtopo_section *s)
{
	struct memtopo_event ev;

	memtopo_event_init(&ev, type, s);
	memtopo_sub_queue(priv, &ev);
}

static void memtopo_sub_begin(void *priv)
{
	struct memtopo_sub *sub = priv;

	/* an index, not a position: the ring may grow during the commit */
	sub->commit_first = sub->count;
	sub->commit_count = 0;
	sub->in_commit = true;
}

/* A range event: where its bytes are, never an fd or a kernel pointer. */
static void memtopo_sub_range_event(void *priv, u32 type, const struct memtopo_section *s)
{
	const struct memtopo_backing *b = memtopo_region_backing(s->mr);
	struct memtopo_event ev;

	memtopo_event_init(&ev, type, s);
	if (b) {
		switch (b->kind) {
		case MEMTOPO_BACKING_FILE:
			ev.backing.kind = MEMTOPO_EVENT_BACKING_FILE;
			ev.backing.offset = b->file_offset + s->offset;
			break;
		case MEMTOPO_BACKING_KERNEL:
			ev.backing.kind = MEMTOPO_EVENT_BACKING_KERNEL;
			ev.backing.offset = b->mmap_offset + s->offset;
			break;
		case MEMTOPO_BACKING_PROCESS:
			ev.backing.kind = MEMTOPO_EVENT_BACKING_PROCESS;
			ev.backing.offset = b->uaddr + s->offset;
			break;
		default:
			ev.backing.offset = b->uaddr ? b->uaddr + s->offset : 0;
			break;
		}
		if (b->kind != MEMTOPO_BACKING_NONE)
			ev.backing.id = b->id;
	}
	memtopo_sub_queue(priv, &ev);
}

static void memtopo_sub_add(void *priv, const struct memtopo_section *s)
{
	memtopo_sub_range_event(priv, MEMTOPO_EVENT_REGION_ADD, s);
}

static void memtopo_sub_del(void *priv, const struct memtopo_section *s)
{
	memtopo_sub_range_event(priv, MEMTOPO_EVENT_REGION_DEL, s);
}

static void memtopo_sub_nop(void *priv, const struct memtopo_section *s)
{
	memtopo_sub_range_event(priv, MEMTOPO_EVENT_REGION_NOP, s);
}

static void memtopo_sub_log(void *priv, const struct memtopo_section *s, u8 old_mask,
			    u8 new_mask, u32 type)
{
	struct memtopo_event ev;

	memtopo_event_init(&ev, type, s);
	ev.old_mask = old_mask;
	ev.new_mask = new_mask;
	memtopo_sub_queue(priv, &ev);
}

static void memtopo_sub_log_start(void *priv, const struct memtopo_section *s, u8 old_mask,
				  u8 new_mask)
{
	memtopo_sub_log(priv, s, old_mask, new_mask, MEMTOPO_EVENT_LOG_START);
}

static void memtopo_sub_log_stop(void *priv, const struct memtopo_section *s, u8 old_mask,
				 u8 new_mask)
{
	memtopo_sub_log(priv, s, old_mask, new_mask, MEMTOPO_EVENT_LOG_STOP);
}

static void memtopo_sub_log_sync(void *priv, const struct memtopo_section *s)
{
	memtopo_sub_section_event(priv, MEMTOPO_EVENT_LOG_SYNC, s);
}

/* a subscription never refuses: it reports, it does not track */
static int memtopo_sub_log_global_start(void *priv)
{
	memtopo_sub_section_event(priv, MEMTOPO_EVENT_LOG_GLOBAL_START, NULL);
	return 0;
}

static void memtopo_sub_log_global_stop(void *priv)
{
	memtopo_sub_section_event(priv, MEMTOPO_EVENT_LOG_GLOBAL_STOP, NULL);
}

static void memtopo_sub_log_sync_global(void *priv)
{
	memtopo_sub_section_event(priv, MEMTOPO_EVENT_LOG_SYNC_GLOBAL, NULL);
}

static void memtopo_sub_log_global_after_sync(void *priv)
{
	memtopo_sub_section_event(priv, MEMTOPO_EVENT_LOG_GLOBAL_AFTER_SYNC, NULL);
}

static void memtopo_sub_log_clear(void *priv, const struct memtopo_section *s)
{
	memtopo_sub_section_event(priv, MEMTOPO_EVENT_LOG_CLEAR, s);
}

static void memtopo_sub_eventfd(void *priv, u32 type, const struct memtopo_section *s, u64 addr,
				unsigned int size, bool match_data, u64 data)
{
	struct memtopo_event ev;

	memtopo_event_init(&ev, type, s);
	ev.ioeventfd.addr = addr;
	ev.ioeventfd.len = size;
	/* an ioeventfd without data matching matches any value: say none */
	if (match_data) {
		ev.ioeventfd.data = data;
		ev.ioeventfd.flags = MEMTOPO_EVENT_IOEVENTFD_DATAMATCH;
	}
	memtopo_sub_queue(priv, &ev);
}

static void memtopo_sub_eventfd_add(void *priv, const struct memtopo_section *s, u64 addr,
				    unsigned int size, bool match_data, u64 data, void *eventfd)
{
	memtopo_sub_eventfd(priv, MEMTOPO_EVENT_EVENTFD_ADD, s, addr, size, match_data, data);
}

static void memtopo_sub_eventfd_del(void *priv, const struct memtopo_section *s, u64 addr,
				    unsigned int size, bool match_data, u64 data, void *eventfd)
{
	memtopo_sub_eventfd(priv, MEMTOPO_EVENT_EVENTFD_DEL, s, addr, size, match_data, data);
}

static void memtopo_sub_coalesced(void *priv, u32 type, const struct memtopo_section *s,
				  u64 addr, u64 size)
{
	struct memtopo_event ev;

	memtopo_event_init(&ev, type, s);
	ev.coalesced.addr = addr;
	ev.coalesced.length = size;
	memtopo_sub_queue(priv, &ev);
}

static void memtopo_sub_coalesced_add(void *priv, const struct memtopo_section *s, u64 addr,
				      u64 size)
{
	memtopo_sub_coalesced(priv, MEMTOPO_EVENT_COALESCED_ADD, s, addr, size);
}

static void memtopo_sub_coalesced_del(void *priv, const struct memtopo_section *s, u64 addr,
				      u64 size)
{
	memtopo_sub_coalesced(priv, MEMTOPO_EVENT_COALESCED_DEL, s, addr, size);
}

/* memtopo_space_emit_event_locked(): the kinds without a callback */
static void memtopo_sub_event(void *priv, const struct memtopo_event *ev)
{
	memtopo_sub_queue(priv, ev);
}

/*
 * The space's create was undone: READ_EVENTS says so once the queue is
 * drained (memtopo_ioctl_read_events()); the eventfd wakes the reader.
 */
static void memtopo_sub_detached(void *priv)
{
	struct memtopo_sub *sub = priv;

	if (sub->efd)
		memtopo_eventfd_signal(sub->efd);
}

/*
 * Every event of a commit carries the generation of the view the commit
 * published (a deletion's section comes from the old view), so a reader
 * can tell what a flat view it resynchronised from already contains.
 */
static void memtopo_sub_commit(void *priv)
{
	struct memtopo_sub *sub = priv;
	u64 generation;
	u32 i;

	sub->in_commit = false;
	if (!sub->commit_count)
		return;
	memtopo_sub_push(sub, MEMTOPO_EVENT_COMMIT);
	rcu_read_lock();
	generation = memtopo_space_generation(sub->l.space);
	rcu_read_unlock();
	for (i = 0; i < sub->commit_count; i++)
		memtopo_sub_slot(sub, sub->commit_first + i)->generation = generation;
	sub->commit_count = 0;
	if (sub->efd)
		memtopo_eventfd_signal(sub->efd);
}

/*
 * Which callbacks a subscription has is decided by its mask, because
 * having one changes what the engine does: a space with a region_nop
 * listener has every unchanged range walked at every commit, a sync walks
 * the view for a listener with log_sync, and a listener with log_sync
 * never gets log_sync_global (QEMU's memory_region_sync_dirty_bitmap()).
 * One table per combination, indexed by MEMTOPO_SUB_OPS_*.
 */
#define MEMTOPO_SUB_OPS_NOP		BIT(0)
#define MEMTOPO_SUB_OPS_SYNC		BIT(1)
#define MEMTOPO_SUB_OPS_SYNC_GLOBAL	BIT(2)

#define MEMTOPO_SUB_OPS(nop, sync, sync_global) {				\
	.begin = memtopo_sub_begin,						\
	.commit = memtopo_sub_commit,						\
	.region_add = memtopo_sub_add,						\
	.region_del = memtopo_sub_del,						\
	.region_nop = (nop) ? memtopo_sub_nop : NULL,				\
	.log_start = memtopo_sub_log_start,					\
	.log_stop = memtopo_sub_log_stop,					\
	.log_sync = (sync) ? memtopo_sub_log_sync : NULL,			\
	.log_sync_global = (sync_global) ? memtopo_sub_log_sync_global : NULL,	\
	.log_global_start = memtopo_sub_log_global_start,			\
	.log_global_stop = memtopo_sub_log_global_stop,				\
	.log_global_after_sync = memtopo_sub_log_global_after_sync,		\
	.log_clear = memtopo_sub_log_clear,					\
	.eventfd_add = memtopo_sub_eventfd_add,					\
	.eventfd_del = memtopo_sub_eventfd_del,					\
	.coalesced_io_add = memtopo_sub_coalesced_add,				\
	.coalesced_io_del = memtopo_sub_coalesced_del,				\
	.detached = memtopo_sub_detached,					\
	.event = memtopo_sub_event,						\
}

/* in MEMTOPO_SUB_OPS_* order; SYNC and SYNC_GLOBAL never together */
static const struct memtopo_listener_ops memtopo_sub_ops[] = {
	MEMTOPO_SUB_OPS(false, false, false),
	MEMTOPO_SUB_OPS(true, false, false),
	MEMTOPO_SUB_OPS(false, true, false),
	MEMTOPO_SUB_OPS(true, true, false),
	MEMTOPO_SUB_OPS(false, false, true),
	MEMTOPO_SUB_OPS(true, false, true),
};

static const struct memtopo_listener_ops *memtopo_sub_ops_of(u32 mask)
{
	unsigned int i = 0;

	if (mask & BIT(MEMTOPO_EVENT_REGION_NOP))
		i |= MEMTOPO_SUB_OPS_NOP;
	if (mask & BIT(MEMTOPO_EVENT_LOG_SYNC))
		i |= MEMTOPO_SUB_OPS_SYNC;
	else if (mask & BIT(MEMTOPO_EVENT_LOG_SYNC_GLOBAL))
		i |= MEMTOPO_SUB_OPS_SYNC_GLOBAL;
	return &memtopo_sub_ops[i];
}

static void memtopo_sub_free(struct memtopo_sub *sub)
{
	if (sub->efd)
		eventfd_ctx_put(sub->efd);
	kvfree(sub->ring);
	kfree(sub);
}

static void memtopo_sub_destroy(struct memtopo_sub *sub)
{
	struct memtopo_ctx *ctx = sub->ctx;
	bool listening;

	memtopo_ctx_lock(ctx);
	sub->muted = true;	/* no events for the teardown's region_del */
	/*
	 * A rollback undoing the space's create detached the listener and
	 * dropped its reference already (memtopo_space_undo()): the
	 * subscription outlived its space, and only its ring is left to go.
	 */
	listening = sub->l.space;
	if (listening)
		memtopo_listener_unregister_locked(&sub->l);
	memtopo_ctx_uncharge_locked(ctx, sub->charged);
	memtopo_ctx_unlock(ctx);
	/* the reference memtopo_listener_register_locked() took */
	if (listening)
		memtopo_ctx_put(ctx);
	memtopo_sub_free(sub);
}

/**
 * memtopo_ioctl_subscribe() - MEMTOPO_SUBSCRIBE.
 * @ucmd: the call.
 *
 * The subscription and its first ring page are charged to the context's
 * memory budget.  IDs are per file and cyclic, and a refused call takes
 * none.  @id is an output: its input is ignored.
 *
 * Return: 0 with the subscription ID written back; EINVAL for bad flags,
 * mask (a type this kernel does not know) or a file that is not an eventfd,
 * EBADF for an eventfd that is no open fd, ENOENT for an unknown space, ENOSPC past
 * MEMTOPO_MAX_SUBS per file or the context's memory budget, ENOMEM,
 * EFAULT (nothing subscribed).
 */
int memtopo_ioctl_subscribe(struct memtopo_ucmd *ucmd)
{
	struct memtopo_subscribe *cmd = ucmd->cmd;
	struct memtopo_file *mf = ucmd->file;
	struct memtopo_ctx *ctx = mf->ctx;
	struct memtopo_space *as;
	struct memtopo_sub *sub;
	u32 next_id;
	size_t cost;
	int ret;

	if (cmd->flags & ~MEMTOPO_SUBSCRIBE_REPLAY || cmd->mask & ~MEMTOPO_EVENT_MASK_ALL)
		return -EINVAL;
	if (mf->nr_subs >= MEMTOPO_MAX_SUBS)
		return -ENOSPC;
	sub = kzalloc(sizeof(*sub), GFP_KERNEL_ACCOUNT);
	if (!sub)
		return -ENOMEM;
	sub->cap = MEMTOPO_SUB_RING_MIN;
	sub->ring = kvcalloc(sub->cap, sizeof(*sub->ring), GFP_KERNEL_ACCOUNT);
	if (!sub->ring) {
		ret = -ENOMEM;
		goto err_free;
	}
	if (cmd->eventfd != -1) {
		sub->efd = eventfd_ctx_fdget(cmd->eventfd);
		if (IS_ERR(sub->efd)) {
			ret = PTR_ERR(sub->efd);
			sub->efd = NULL;
			/* EBADF for a closed fd, EINVAL for a non-eventfd: both are bad input */
			goto err_free;
		}
	}
	/* 0 keeps meaning what it meant before there were more types */
	sub->mask = cmd->mask ?: MEMTOPO_EVENT_MASK_DEFAULT;
	sub->next_seq = 1;
	sub->ctx = ctx;
	sub->l.ops = memtopo_sub_ops_of(sub->mask);
	sub->l.priv = sub;
	/* userspace sees changes after in-kernel consumers of the same space */
	sub->l.priority = 1000;

	memtopo_ctx_lock(ctx);
	as = memtopo_space_find_locked(ctx, cmd->space);
	if (!as) {
		ret = -ENOENT;
		goto err_unlock;
	}
	cost = sizeof(*sub) + sub->cap * sizeof(*sub->ring);
	ret = memtopo_ctx_charge_locked(ctx, cost);
	if (ret)
		goto err_unlock;
	sub->charged = cost;
	sub->muted = !(cmd->flags & MEMTOPO_SUBSCRIBE_REPLAY);
	ret = memtopo_listener_register_locked(as, &sub->l);
	sub->muted = false;
	if (ret)
		goto err_uncharge;
	/*
	 * Cyclic, so a stale subscription ID names nothing for a long while;
	 * taken last, once nothing the caller sent can fail the call, because
	 * a refused request must not move the cursor.
	 */
	next_id = mf->next_sub_id;
	ret = xa_alloc_cyclic(&mf->subs, &sub->id, sub, XA_LIMIT(1, INT_MAX), &mf->next_sub_id,
			      GFP_KERNEL_ACCOUNT);
	if (ret < 0)
		goto err_unregister;
	memtopo_ctx_unlock(ctx);
	mf->nr_subs++;

	cmd->id = sub->id;
	ret = memtopo_ucmd_respond(ucmd, sizeof(*cmd));
	if (ret) {
		/*
		 * The struct was probed writable before the call, so only a
		 * concurrent unmap gets here: the caller cannot learn the ID,
		 * take it all back, the cursor too: the file's mutex kept every
		 * other subscribe out since the ID was taken.
		 */
		xa_erase(&mf->subs, sub->id);
		mf->next_sub_id = next_id;
		mf->nr_subs--;
		memtopo_sub_destroy(sub);
	}
	return ret;

err_unregister:
	sub->muted = true;	/* no events for the teardown's region_del */
	memtopo_listener_unregister_locked(&sub->l);
	/* register's reference; never the last, the file holds one */
	memtopo_ctx_put(ctx);
err_uncharge:
	memtopo_ctx_uncharge_locked(ctx, sub->charged);
err_unlock:
	memtopo_ctx_unlock(ctx);
err_free:
	memtopo_sub_free(sub);
	return ret;
}

/**
 * memtopo_ioctl_unsubscribe() - MEMTOPO_UNSUBSCRIBE.
 * @ucmd: the call.
 *
 * Return: 0, EINVAL for non-zero flags or reserved, ENOENT for an unknown ID.
 */
int memtopo_ioctl_unsubscribe(struct memtopo_ucmd *ucmd)
{
	struct memtopo_unsubscribe *cmd = ucmd->cmd;
	struct memtopo_sub *sub;

	if (cmd->flags || cmd->__reserved)
		return -EINVAL;
	sub = xa_erase(&ucmd->file->subs, cmd->id);
	if (!sub)
		return -ENOENT;
	ucmd->file->nr_subs--;
	memtopo_sub_destroy(sub);
	return 0;
}

/**
 * memtopo_file_unsubscribe_all() - drop every subscription of a file.
 * @mf: the file, being released or switching context.
 */
void memtopo_file_unsubscribe_all(struct memtopo_file *mf)
{
	struct memtopo_sub *sub;
	unsigned long id;

	xa_for_each(&mf->subs, id, sub) {
		xa_erase(&mf->subs, id);
		mf->nr_subs--;
		memtopo_sub_destroy(sub);
	}
}

/**
 * memtopo_ioctl_read_events() - MEMTOPO_READ_EVENTS.
 * @ucmd: the call.
 *
 * The events are copied to a kernel buffer under the context mutex, then
 * to the caller without it, the struct is answered, and only then are they
 * dequeued: an EFAULT anywhere leaves the queue exactly as it was.  No
 * other reader can dequeue in between (the file's mutex serialises its
 * ioctls), and commits only append, so the first @n events are still the
 * ones copied.  @pending is an output: its input is ignored.
 *
 * Return: 0, EINVAL for bad flags or an event_size below
 * MEMTOPO_EVENT_SIZE_V1 or above the page size, ENOENT for an unknown ID,
 * ENODEV once the queue is empty if the subscription's space was undone,
 * ENOMEM, EFAULT (nothing dequeued).
 */
int memtopo_ioctl_read_events(struct memtopo_ucmd *ucmd)
{
	struct memtopo_read_events *cmd = ucmd->cmd;
	u8 __user *out = u64_to_user_ptr(cmd->events);
	struct memtopo_event *evs = NULL;
	struct memtopo_sub *sub;
	u32 n, i;
	int ret = 0;

	if (cmd->flags)
		return -EINVAL;
	ret = memtopo_urecord_size_check(cmd->event_size, MEMTOPO_EVENT_SIZE_V1);
	if (ret)
		return ret;
	sub = xa_load(&ucmd->file->subs, cmd->id);
	if (!sub)
		return -ENOENT;

	memtopo_ctx_lock(sub->ctx);
	/* detached by the undo of its space's create: nothing more will come */
	if (!sub->count && !sub->l.space) {
		memtopo_ctx_unlock(sub->ctx);
		return -ENODEV;
	}
	n = min(cmd->count, sub->count);
	if (n) {
		evs = kvmalloc_array(n, sizeof(*evs), GFP_KERNEL_ACCOUNT);
		if (!evs) {
			memtopo_ctx_unlock(sub->ctx);
			return -ENOMEM;
		}
		for (i = 0; i < n; i++)
			evs[i] = *memtopo_sub_slot(sub, i);
	}
	cmd->count = n;
	cmd->pending = sub->count - n;
	memtopo_ctx_unlock(sub->ctx);

	/* user memory is touched without the context mutex held */
	for (i = 0; i < n && !ret; i++) {
		u8 __user *p = out + (size_t)i * cmd->event_size;

		/* an older reader gets the prefix it knows, a newer one a zeroed tail */
		if (copy_to_user(p, &evs[i], min_t(size_t, cmd->event_size, sizeof(*evs))) ||
		    (cmd->event_size > sizeof(*evs) &&
		     clear_user(p + sizeof(*evs), cmd->event_size - sizeof(*evs))))
			ret = -EFAULT;
	}
	kvfree(evs);
	if (!ret)
		ret = memtopo_ucmd_respond(ucmd, sizeof(*cmd));
	if (ret || !n)
		return ret;

	memtopo_ctx_lock(sub->ctx);
	sub->head = (sub->head + n) % sub->cap;
	sub->count -= n;
	if (!sub->count)
		sub->overflowed = false;
	memtopo_ctx_unlock(sub->ctx);
	return 0;
}

/* The difference being collected for MEMTOPO_GET_FLAT_DIFF. */
struct memtopo_diff_buf {
	struct memtopo_event *ev;
	u32 n;
	u32 cap;
	u64 generation;
};

static int memtopo_diff_collect(void *opaque, const struct memtopo_section *s, bool add)
{
	struct memtopo_diff_buf *d = opaque;
	struct memtopo_event *ev;
	int ret;

	if (d->n == d->cap) {
		ret = memtopo_grow((void **)&d->ev, &d->cap, sizeof(*d->ev), U32_MAX);
		if (ret)
			return ret == -E2BIG ? -ENOMEM : ret;
	}
	ev = &d->ev[d->n++];
	memtopo_event_init(ev, add ? MEMTOPO_EVENT_REGION_ADD : MEMTOPO_EVENT_REGION_DEL, s);
	ev->seq = d->n;
	ev->generation = d->generation;
	return 0;
}

/**
 * memtopo_ioctl_get_flat_diff() - MEMTOPO_GET_FLAT_DIFF.
 * @ucmd: the call.
 *
 * The difference is collected under the context mutex and copied out
 * without it; nothing changes state, so a failure leaves nothing to undo.
 *
 * Return: 0; EINVAL for bad flags, reserved, event_size or a generation
 * never made; ENOENT for an unknown space; ESTALE for a generation the
 * space does not keep; ENOSPC (with @count set) for too small a buffer;
 * ENOMEM; EFAULT.
 */
int memtopo_ioctl_get_flat_diff(struct memtopo_ucmd *ucmd)
{
	struct memtopo_get_flat_diff *cmd = ucmd->cmd;
	struct memtopo_ctx *ctx = ucmd->file->ctx;
	u8 __user *out = u64_to_user_ptr(cmd->events);
	const struct memtopo_view *from, *to;
	struct memtopo_diff_buf d = {};
	struct memtopo_ctx_state cs;
	struct memtopo_space *as;
	int ret = 0;
	u32 i;

	if (cmd->flags || cmd->__reserved)
		return -EINVAL;
	ret = memtopo_urecord_size_check(cmd->event_size, MEMTOPO_EVENT_SIZE_V1);
	if (ret)
		return ret;
	memtopo_ctx_lock(ctx);
	as = memtopo_space_find_locked(ctx, cmd->space);
	if (!as) {
		ret = -ENOENT;
		goto out_unlock;
	}
	memtopo_ctx_describe_locked(ctx, &cs);
	if (cmd->from_generation > cs.generation || cmd->to_generation > cs.generation) {
		ret = -EINVAL;
		goto out_unlock;
	}
	to = cmd->to_generation ? memtopo_history_find(as, cmd->to_generation) :
				  memtopo_space_view_locked(as);
	from = memtopo_history_find(as, cmd->from_generation);
	if (!from || !to) {
		ret = -ESTALE;
		goto out_unlock;
	}
	d.generation = memtopo_view_generation(to);
	ret = memtopo_view_diff(from, to, memtopo_diff_collect, &d);
	if (ret)
		goto out_unlock;
	cmd->to_generation = d.generation;
	if (d.n > cmd->count)
		ret = -ENOSPC;
	cmd->count = d.n;
out_unlock:
	memtopo_ctx_unlock(ctx);
	/* user memory is touched without the context mutex held */
	for (i = 0; !ret && i < d.n; i++) {
		u8 __user *p = out + (size_t)i * cmd->event_size;

		if (copy_to_user(p, &d.ev[i], min_t(size_t, cmd->event_size, sizeof(*d.ev))) ||
		    (cmd->event_size > sizeof(*d.ev) &&
		     clear_user(p + sizeof(*d.ev), cmd->event_size - sizeof(*d.ev))))
			ret = -EFAULT;
	}
	kvfree(d.ev);
	if (ret && ret != -ENOSPC)
		return ret;
	return memtopo_ucmd_respond(ucmd, sizeof(*cmd)) ?: ret;
}
