// SPDX-License-Identifier: GPL-2.0
/*
 * Subscriptions: userspace listeners.  Each one is an engine listener on a
 * space that turns callbacks into struct memtopo_event records in a bounded
 * ring, and signals an eventfd once per commit that queued something.
 *
 * Everything here runs under the context mutex: the listener callbacks
 * are called with it held, and READ_EVENTS takes it, so a reader never sees
 * half a commit and the overflow state cannot change under it.  When the
 * ring is one slot from full an OVERFLOW event takes that slot and later
 * events are dropped (without consuming sequence numbers) until the reader
 * has drained the ring; it then resynchronises from the flat view.
 */
#include <linux/atomic.h>
#include <linux/eventfd.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "compat.h"
#include "memtopo_main.h"
#include "memtopo_internal.h"

struct memtopo_sub {
	struct memtopo_listener l;
	struct memtopo_ctx *ctx;
	struct eventfd_ctx *efd;
	u32 id;
	u32 mask;
	struct memtopo_event *ring;
	u32 head;		/* oldest queued event */
	u32 count;		/* events queued */
	u32 commit_first;	/* ring position of this commit's first event */
	u32 commit_count;	/* events queued by the commit in progress */
	u64 next_seq;
	bool overflowed;	/* OVERFLOW queued, dropping until drained */
	bool muted;		/* registering without replay */
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

static struct memtopo_event *memtopo_sub_push(struct memtopo_sub *sub, u32 type)
{
	struct memtopo_event *ev;

	if (sub->muted || sub->overflowed)
		return NULL;
	if (type != MEMTOPO_EVENT_OVERFLOW && sub->mask && !(sub->mask & BIT(type)))
		return NULL;
	if (sub->count >= MEMTOPO_MAX_EVENTS - 1 && type != MEMTOPO_EVENT_OVERFLOW) {
		/* the last slot is kept for the overflow marker */
		ev = memtopo_sub_push(sub, MEMTOPO_EVENT_OVERFLOW);
		sub->overflowed = true;
		atomic64_inc(&memtopo_stat_overflows);
		return NULL;
	}
	ev = &sub->ring[(sub->head + sub->count) % MEMTOPO_MAX_EVENTS];
	memset(ev, 0, sizeof(*ev));
	ev->seq = sub->next_seq++;
	ev->type = type;
	sub->count++;
	sub->commit_count++;
	return ev;
}

static void memtopo_sub_section(struct memtopo_event *ev, const struct memtopo_section *s)
{
	ev->region = s->mr->id;
	ev->start = s->start;
	ev->last = s->last;
	ev->offset = s->offset;
	ev->range_flags = s->flags & (MEMTOPO_FR_READONLY | MEMTOPO_FR_ROMD |
				      MEMTOPO_FR_NONVOLATILE);
	ev->new_mask = s->dirty_log_mask;
}

static void memtopo_sub_begin(void *priv)
{
	struct memtopo_sub *sub = priv;

	sub->commit_first = (sub->head + sub->count) % MEMTOPO_MAX_EVENTS;
	sub->commit_count = 0;
}

static void memtopo_sub_region(void *priv, const struct memtopo_section *s, u32 type)
{
	struct memtopo_event *ev = memtopo_sub_push(priv, type);

	if (ev)
		memtopo_sub_section(ev, s);
}

static void memtopo_sub_add(void *priv, const struct memtopo_section *s)
{
	memtopo_sub_region(priv, s, MEMTOPO_EVENT_REGION_ADD);
}

static void memtopo_sub_del(void *priv, const struct memtopo_section *s)
{
	memtopo_sub_region(priv, s, MEMTOPO_EVENT_REGION_DEL);
}

static void memtopo_sub_log(void *priv, const struct memtopo_section *s, u8 old_mask,
			    u8 new_mask, u32 type)
{
	struct memtopo_event *ev = memtopo_sub_push(priv, type);

	if (ev) {
		memtopo_sub_section(ev, s);
		ev->old_mask = old_mask;
		ev->new_mask = new_mask;
	}
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

	if (!sub->commit_count)
		return;
	memtopo_sub_push(sub, MEMTOPO_EVENT_COMMIT);
	rcu_read_lock();
	generation = memtopo_space_generation(sub->l.space);
	rcu_read_unlock();
	for (i = 0; i < sub->commit_count; i++)
		sub->ring[(sub->commit_first + i) % MEMTOPO_MAX_EVENTS].generation = generation;
	sub->commit_count = 0;
	if (sub->efd)
		memtopo_eventfd_signal(sub->efd);
}

static const struct memtopo_listener_ops memtopo_sub_ops = {
	.begin = memtopo_sub_begin,
	.commit = memtopo_sub_commit,
	.region_add = memtopo_sub_add,
	.region_del = memtopo_sub_del,
	.log_start = memtopo_sub_log_start,
	.log_stop = memtopo_sub_log_stop,
};

static void memtopo_sub_free(struct memtopo_sub *sub)
{
	if (sub->efd)
		eventfd_ctx_put(sub->efd);
	kvfree(sub->ring);
	kfree(sub);
}

#define MEMTOPO_EVENT_MASK_ALL	(BIT(MEMTOPO_EVENT_REGION_ADD) | BIT(MEMTOPO_EVENT_REGION_DEL) | \
				 BIT(MEMTOPO_EVENT_LOG_START) | BIT(MEMTOPO_EVENT_LOG_STOP) | \
				 BIT(MEMTOPO_EVENT_COMMIT) | BIT(MEMTOPO_EVENT_OVERFLOW))

/**
 * memtopo_ioctl_subscribe() - MEMTOPO_SUBSCRIBE.
 * @ucmd: the call.
 *
 * Return: 0 with the subscription ID written back; EINVAL for bad flags,
 * mask or eventfd, ENOENT for an unknown space, ENOSPC past
 * MEMTOPO_MAX_SUBS per file, ENOMEM.
 */
int memtopo_ioctl_subscribe(struct memtopo_ucmd *ucmd)
{
	struct memtopo_subscribe *cmd = ucmd->cmd;
	struct memtopo_file *mf = ucmd->file;
	struct memtopo_ctx *ctx = mf->ctx;
	struct memtopo_space *as;
	struct memtopo_sub *sub;
	int ret;

	if (cmd->flags & ~MEMTOPO_SUBSCRIBE_REPLAY || cmd->mask & ~MEMTOPO_EVENT_MASK_ALL ||
	    cmd->id)
		return -EINVAL;
	sub = kzalloc(sizeof(*sub), GFP_KERNEL_ACCOUNT);
	if (!sub)
		return -ENOMEM;
	sub->ring = kvcalloc(MEMTOPO_MAX_EVENTS, sizeof(*sub->ring), GFP_KERNEL_ACCOUNT);
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
	sub->mask = cmd->mask;
	sub->next_seq = 1;
	sub->ctx = ctx;
	sub->l.ops = &memtopo_sub_ops;
	sub->l.priv = sub;
	/* userspace sees changes after in-kernel consumers of the same space */
	sub->l.priority = 1000;

	ret = xa_alloc(&mf->subs, &sub->id, sub, XA_LIMIT(1, MEMTOPO_MAX_SUBS),
		       GFP_KERNEL_ACCOUNT);
	if (ret) {
		ret = ret == -EBUSY ? -ENOSPC : ret;
		goto err_free;
	}

	memtopo_ctx_lock(ctx);
	as = xa_load(&ctx->space_ids, cmd->space);
	if (!as) {
		ret = -ENOENT;
		goto err_unlock;
	}
	sub->muted = !(cmd->flags & MEMTOPO_SUBSCRIBE_REPLAY);
	ret = memtopo_listener_register_locked(as, &sub->l);
	sub->muted = false;
	if (ret)
		goto err_unlock;
	memtopo_ctx_unlock(ctx);

	cmd->id = sub->id;
	ret = memtopo_ucmd_respond(ucmd, sizeof(*cmd));
	if (ret) {
		/* the caller cannot learn the ID: take it all back */
		xa_erase(&mf->subs, sub->id);
		memtopo_ctx_lock(ctx);
		memtopo_listener_unregister_locked(&sub->l);
		memtopo_ctx_unlock(ctx);
		memtopo_ctx_put(ctx);
		memtopo_sub_free(sub);
	}
	return ret;

err_unlock:
	memtopo_ctx_unlock(ctx);
	xa_erase(&mf->subs, sub->id);
err_free:
	memtopo_sub_free(sub);
	return ret;
}

static void memtopo_sub_destroy(struct memtopo_sub *sub)
{
	struct memtopo_ctx *ctx = sub->ctx;

	memtopo_ctx_lock(ctx);
	sub->muted = true;	/* no events for the teardown's region_del */
	memtopo_listener_unregister_locked(&sub->l);
	memtopo_ctx_unlock(ctx);
	/* the reference memtopo_listener_register_locked() took */
	memtopo_ctx_put(ctx);
	memtopo_sub_free(sub);
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
		memtopo_sub_destroy(sub);
	}
}

/**
 * memtopo_ioctl_read_events() - MEMTOPO_READ_EVENTS.
 * @ucmd: the call.
 *
 * Events are removed from the ring only once they were copied, so EFAULT
 * loses nothing.
 *
 * Return: 0, EINVAL for bad flags or event_size, ENOENT for an unknown ID,
 * EFAULT.
 */
int memtopo_ioctl_read_events(struct memtopo_ucmd *ucmd)
{
	struct memtopo_read_events *cmd = ucmd->cmd;
	struct memtopo_sub *sub;
	u8 __user *out = u64_to_user_ptr(cmd->events);
	u32 n, i;
	int ret = 0;

	if (cmd->flags || cmd->pending)
		return -EINVAL;
	if (cmd->event_size < sizeof(struct memtopo_event) || cmd->event_size > PAGE_SIZE)
		return -EINVAL;
	sub = xa_load(&ucmd->file->subs, cmd->id);
	if (!sub)
		return -ENOENT;

	memtopo_ctx_lock(sub->ctx);
	n = min(cmd->count, sub->count);
	for (i = 0; i < n; i++) {
		const struct memtopo_event *ev = &sub->ring[(sub->head + i) % MEMTOPO_MAX_EVENTS];

		/* a larger event_size gets a zeroed tail */
		if (copy_to_user(out + (size_t)i * cmd->event_size, ev, sizeof(*ev)) ||
		    clear_user(out + (size_t)i * cmd->event_size + sizeof(*ev),
			       cmd->event_size - sizeof(*ev))) {
			ret = -EFAULT;
			break;
		}
	}
	if (!ret) {
		sub->head = (sub->head + n) % MEMTOPO_MAX_EVENTS;
		sub->count -= n;
		if (!sub->count)
			sub->overflowed = false;
		cmd->count = n;
		cmd->pending = sub->count;
	}
	memtopo_ctx_unlock(sub->ctx);
	if (ret)
		return ret;
	return memtopo_ucmd_respond(ucmd, sizeof(*cmd));
}
