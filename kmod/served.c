// SPDX-License-Identifier: GPL-2.0
/*
 * Served devices: an I/O or ROM-device region answered by a userspace
 * server through a device fd, the way VDUSE's message queue and KVM's
 * KVM_EXIT_MMIO let a device model answer accesses (MEMTOPO_SERVE in the
 * uapi header states the ABI and its failure rules).
 *
 * A served device is a struct memtopo_udev in the region's parity state:
 * dispatch calls its read/write ops like a kernel device's, holding a
 * reference.  Each call is one request:
 *  - the accessor builds it on its own stack, queues it on @queued, wakes
 *    the server and sleeps, killable, at most the device's timeout;
 *  - the server's read() moves it to @taken and copies it out; its write()
 *    finds it there by sequence number, stores the answer, unlinks it and
 *    completes it;
 *  - whoever unlinks a request decides its end: the answer, a failure of
 *    the whole device (timeout, fd closed, region freed) that finishes
 *    every request still linked, or the accessor itself withdrawing it
 *    after a kill or its own timeout.  The accessor never returns while its
 *    request is linked: it always retakes the lock and unlinks it if nobody
 *    did, so nothing outlives its stack frame.
 *
 * Locking: @lock guards the lists, the state and who took what; it
 * is taken with bottom halves off because the region's free, which ends
 * the device, runs from an RCU callback.  User memory is never touched
 * under it.  The device fd and the region's binding each hold a reference
 * on the device; accesses hold one per call.
 */
#include <linux/anon_inodes.h>
#include <linux/completion.h>
#include <linux/export.h>
#include <linux/fcntl.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/jiffies.h>
#include <linux/pid.h>
#include <linux/poll.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/uaccess.h>
#include <linux/uio.h>
#include <linux/wait.h>

#include "memtopo_main.h"
#include "parity.h"

struct memtopo_served {
	struct memtopo_udev udev;	/* dispatch's handle; holds the refcount */
	spinlock_t lock;		/* everything below (bh: see the top) */
	wait_queue_head_t server_wq;	/* read() and poll() */
	struct list_head queued;	/* not yet read by the server */
	struct list_head taken;		/* read, not yet answered */
	u64 next_seq;
	unsigned long timeout;		/* jiffies */
	u32 region;
	int dead;			/* 0, or what every access now gets */
	bool closed;			/* the device fd was released */
	bool gone;			/* the region was freed */
	struct rcu_head rcu;
};

/* One request, on its accessor's stack. */
struct memtopo_served_wait {
	struct list_head link;		/* in @queued or @taken while linked */
	struct memtopo_served_req req;
	struct pid *taker;		/* who read it (referenced) */
	struct completion done;
	bool finished;
	int err;
	u64 data;
};

static struct memtopo_served *memtopo_udev_served(struct memtopo_udev *udev)
{
	return container_of(udev, struct memtopo_served, udev);
}

/* Unlink @w and wake its accessor; under @lock. */
static void memtopo_served_finish(struct memtopo_served_wait *w, int err, u64 data)
{
	list_del_init(&w->link);
	w->err = err;
	w->data = data;
	w->finished = true;
	complete(&w->done);
}

/* Fail every request still linked and every later access; under @lock. */
static void memtopo_served_kill(struct memtopo_served *sv, int err)
{
	struct memtopo_served_wait *w, *tmp;

	sv->dead = err;
	list_for_each_entry_safe(w, tmp, &sv->queued, link)
		memtopo_served_finish(w, err, 0);
	list_for_each_entry_safe(w, tmp, &sv->taken, link)
		memtopo_served_finish(w, err, 0);
}

/*
 * Would @me wait for itself?  It holds a request it has not answered: it
 * is inside the device's handler (QEMU's reentrancy guard).  Under @lock.
 */
static bool memtopo_served_is_server(struct memtopo_served *sv, struct pid *me)
{
	struct memtopo_served_wait *w;

	list_for_each_entry(w, &sv->taken, link)
		if (w->taker == me)
			return true;
	return false;
}

static int memtopo_served_access(struct memtopo_served *sv, u64 offset, u64 *data,
				 unsigned int size, bool is_write)
{
	struct memtopo_served_wait w = { .req.len = size, .req.offset = offset };
	struct pid *me = task_pid(current);
	bool broke = false;
	long left;
	int ret;

	init_completion(&w.done);
	w.req.region = sv->region;
	if (is_write) {
		w.req.flags = MEMTOPO_SERVED_WRITE;
		w.req.data = *data;
	}
	spin_lock_bh(&sv->lock);
	ret = sv->dead;
	if (!ret && memtopo_served_is_server(sv, me))
		ret = -EDEADLK;
	if (ret) {
		spin_unlock_bh(&sv->lock);
		return ret;
	}
	w.req.seq = sv->next_seq++;
	list_add_tail(&w.link, &sv->queued);
	spin_unlock_bh(&sv->lock);
	wake_up_interruptible_poll(&sv->server_wq, EPOLLIN | EPOLLRDNORM);

	left = wait_for_completion_killable_timeout(&w.done, sv->timeout);

	spin_lock_bh(&sv->lock);
	if (w.finished) {
		ret = w.err;
		if (!ret && !is_write)
			*data = w.data;
	} else if (left) {
		/* killed: withdraw; a late answer finds nothing (ENOENT) */
		list_del(&w.link);
		ret = -EINTR;
	} else {
		list_del(&w.link);
		ret = -ETIMEDOUT;
		/* VDUSE's rule: a server that misses one answer is broken */
		if (!sv->dead) {
			memtopo_served_kill(sv, -EIO);
			broke = true;
			pr_warn_ratelimited("region %u: request %llu unanswered, device broken\n",
					    sv->region, w.req.seq);
		}
	}
	spin_unlock_bh(&sv->lock);
	put_pid(w.taker);
	if (broke)
		wake_up_interruptible_poll(&sv->server_wq, EPOLLERR);
	return ret;
}

static int memtopo_served_read_op(void *opaque, u64 offset, u64 *data, unsigned int size)
{
	return memtopo_served_access(memtopo_udev_served(opaque), offset, data, size, false);
}

static int memtopo_served_write_op(void *opaque, u64 offset, u64 data, unsigned int size)
{
	return memtopo_served_access(memtopo_udev_served(opaque), offset, &data, size, true);
}

static void memtopo_served_free_rcu(struct rcu_head *head)
{
	kfree(container_of(head, struct memtopo_served, rcu));
}

/* Last reference: dispatch may still be looking at it under RCU. */
static void memtopo_served_release(struct memtopo_udev *udev)
{
	struct memtopo_served *sv = memtopo_udev_served(udev);

	WARN_ON_ONCE(!list_empty(&sv->queued) || !list_empty(&sv->taken));
	call_rcu(&sv->rcu, memtopo_served_free_rcu);
}

/* The region was freed (maybe from an RCU callback). */
static void memtopo_served_gone(struct memtopo_udev *udev)
{
	struct memtopo_served *sv = memtopo_udev_served(udev);

	spin_lock_bh(&sv->lock);
	sv->gone = true;
	memtopo_served_kill(sv, -ENODEV);
	spin_unlock_bh(&sv->lock);
	wake_up_interruptible_poll(&sv->server_wq, EPOLLHUP);
}

static ssize_t memtopo_served_read_iter(struct kiocb *iocb, struct iov_iter *to)
{
	struct file *filp = iocb->ki_filp;
	struct memtopo_served *sv = filp->private_data;
	bool nonblock = (filp->f_flags & O_NONBLOCK) || (iocb->ki_flags & IOCB_NOWAIT);
	struct pid *me = task_pid(current), *old = NULL;
	struct memtopo_served_wait *w;
	struct memtopo_served_req req;
	size_t done = 0;
	bool eof;
	int ret;

	if (iov_iter_count(to) < sizeof(req))
		return -EINVAL;
	while (iov_iter_count(to) >= sizeof(req)) {
		spin_lock_bh(&sv->lock);
		if (list_empty(&sv->queued)) {
			/* the region gone is the end of the stream; broken is an error */
			eof = sv->gone;
			ret = eof ? 0 : sv->dead;
			spin_unlock_bh(&sv->lock);
			if (done)
				break;
			if (ret || eof)
				return ret;
			if (nonblock)
				return -EAGAIN;
			ret = wait_event_interruptible(sv->server_wq,
						       !list_empty(&sv->queued) ||
						       READ_ONCE(sv->dead));
			if (ret)
				return ret;
			continue;
		}
		w = list_first_entry(&sv->queued, struct memtopo_served_wait, link);
		req = w->req;
		list_move_tail(&w->link, &sv->taken);
		w->taker = get_pid(me);
		spin_unlock_bh(&sv->lock);
		if (copy_to_iter(&req, sizeof(req), to) != sizeof(req)) {
			/* give it back, first in line, if it still waits */
			spin_lock_bh(&sv->lock);
			list_for_each_entry(w, &sv->taken, link) {
				if (w->req.seq != req.seq)
					continue;
				list_move(&w->link, &sv->queued);
				old = w->taker;
				w->taker = NULL;
				break;
			}
			spin_unlock_bh(&sv->lock);
			put_pid(old);
			return done ? done : -EFAULT;
		}
		done += sizeof(req);
	}
	return done;
}

static ssize_t memtopo_served_write_iter(struct kiocb *iocb, struct iov_iter *from)
{
	struct memtopo_served *sv = iocb->ki_filp->private_data;
	struct memtopo_served_reply rep;
	struct memtopo_served_wait *w;
	size_t done = 0;
	int ret = 0;

	if (iov_iter_count(from) % sizeof(rep))
		return -EINVAL;
	while (iov_iter_count(from)) {
		if (!copy_from_iter_full(&rep, sizeof(rep), from)) {
			ret = -EFAULT;
			break;
		}
		if (rep.flags & ~MEMTOPO_SERVED_FAIL || rep.__reserved) {
			ret = -EINVAL;
			break;
		}
		ret = -ENOENT;
		spin_lock_bh(&sv->lock);
		list_for_each_entry(w, &sv->taken, link) {
			u32 len = w->req.len;

			if (w->req.seq != rep.seq)
				continue;
			if (len < 8)
				rep.data &= (1ULL << (8 * len)) - 1;
			memtopo_served_finish(w, rep.flags & MEMTOPO_SERVED_FAIL ? -EIO : 0,
					      rep.data);
			ret = 0;
			break;
		}
		spin_unlock_bh(&sv->lock);
		if (ret)
			break;
		done += sizeof(rep);
	}
	return done ? done : ret;
}

static __poll_t memtopo_served_fop_poll(struct file *filp, struct poll_table_struct *wait)
{
	struct memtopo_served *sv = filp->private_data;
	__poll_t mask = EPOLLOUT | EPOLLWRNORM;

	poll_wait(filp, &sv->server_wq, wait);
	spin_lock_bh(&sv->lock);
	if (!list_empty(&sv->queued))
		mask |= EPOLLIN | EPOLLRDNORM;
	if (sv->gone)
		mask |= EPOLLHUP;
	else if (sv->dead)
		mask |= EPOLLERR;
	spin_unlock_bh(&sv->lock);
	return mask;
}

static int memtopo_served_fop_release(struct inode *inode, struct file *filp)
{
	struct memtopo_served *sv = filp->private_data;

	spin_lock_bh(&sv->lock);
	sv->closed = true;
	memtopo_served_kill(sv, -ENODEV);
	spin_unlock_bh(&sv->lock);
	memtopo_udev_put(&sv->udev);
	return 0;
}

static const struct file_operations memtopo_served_fops = {
	.owner = THIS_MODULE,
	.read_iter = memtopo_served_read_iter,
	.write_iter = memtopo_served_write_iter,
	.poll = memtopo_served_fop_poll,
	.release = memtopo_served_fop_release,
	.llseek = noop_llseek,
};

static bool memtopo_serve_size_ok(u8 v)
{
	return v == 0 || v == 1 || v == 2 || v == 4 || v == 8;
}

static int memtopo_serve_check(const struct memtopo_serve *p)
{
	if (p->flags & ~(MEMTOPO_SERVE_NONBLOCK | MEMTOPO_SERVE_UNALIGNED |
			 MEMTOPO_SERVE_BIG_ENDIAN) || p->__reserved)
		return -EINVAL;
	if (p->timeout_ms > MEMTOPO_SERVE_TIMEOUT_MAX_MS)
		return -EINVAL;
	if (!memtopo_serve_size_ok(p->valid_min) || !memtopo_serve_size_ok(p->valid_max) ||
	    !memtopo_serve_size_ok(p->impl_min) || !memtopo_serve_size_ok(p->impl_max))
		return -EINVAL;
	if ((p->valid_max && p->valid_min > p->valid_max) ||
	    (p->impl_max && p->impl_min > p->impl_max))
		return -EINVAL;
	return 0;
}

/* A device and its fd, not yet bound; the fd holds the one reference. */
static struct file *memtopo_served_create(const struct memtopo_serve *p, u32 region)
{
	struct memtopo_served *sv;
	struct file *file;

	sv = kzalloc(sizeof(*sv), GFP_KERNEL_ACCOUNT);
	if (!sv)
		return ERR_PTR(-ENOMEM);
	sv->udev.ops = (struct memtopo_region_ops) {
		.read = memtopo_served_read_op,
		.write = memtopo_served_write_op,
		.valid_min = p->valid_min,
		.valid_max = p->valid_max,
		.impl_min = p->impl_min,
		.impl_max = p->impl_max,
		.unaligned = p->flags & MEMTOPO_SERVE_UNALIGNED,
		.impl_unaligned = p->flags & MEMTOPO_SERVE_UNALIGNED,
		.big_endian = p->flags & MEMTOPO_SERVE_BIG_ENDIAN,
	};
	refcount_set(&sv->udev.ref, 1);
	sv->udev.release = memtopo_served_release;
	sv->udev.gone = memtopo_served_gone;
	spin_lock_init(&sv->lock);
	init_waitqueue_head(&sv->server_wq);
	INIT_LIST_HEAD(&sv->queued);
	INIT_LIST_HEAD(&sv->taken);
	sv->next_seq = 1;
	sv->timeout = msecs_to_jiffies(p->timeout_ms ?: MEMTOPO_SERVE_TIMEOUT_DEFAULT_MS);
	sv->region = region;
	file = anon_inode_getfile("[memtopo-served]", &memtopo_served_fops, sv,
				  O_RDWR | (p->flags & MEMTOPO_SERVE_NONBLOCK ? O_NONBLOCK : 0));
	if (IS_ERR(file))
		kfree(sv);
	return file;
}

/* The device serving @mr now, if any: only writers change it, under the mutex. */
static struct memtopo_udev *memtopo_served_udev_locked(struct memtopo_region *mr,
						       struct memtopo_region_parity *p)
{
	memtopo_assert_locked(memtopo_region_ctx(mr));
	return rcu_dereference_protected(p->udev, true);
}

/* Can @mr be served?  Allocates its parity state, so binding cannot fail. */
static int memtopo_serve_prepare_locked(struct memtopo_region *mr)
{
	enum memtopo_kind kind = memtopo_region_kind(mr);
	struct memtopo_region_parity *p;
	struct memtopo_udev *old;

	memtopo_assert_locked(memtopo_region_ctx(mr));
	if ((kind != MEMTOPO_IO && kind != MEMTOPO_ROM_DEVICE) || memtopo_region_has_ops(mr))
		return -EINVAL;
	p = memtopo_parity_get(mr);
	if (!p)
		return -ENOMEM;
	old = memtopo_served_udev_locked(mr, p);
	if (old && !READ_ONCE(memtopo_udev_served(old)->closed))
		return -EBUSY;
	return 0;
}

/* Bind the device of @file to @mr, replacing a closed one; cannot fail. */
static void memtopo_serve_bind_locked(struct memtopo_region *mr, struct file *file)
{
	struct memtopo_region_parity *p = memtopo_parity_locked(mr);
	struct memtopo_served *sv = file->private_data;
	struct memtopo_udev *old;

	old = memtopo_served_udev_locked(mr, p);
	refcount_inc(&sv->udev.ref);
	rcu_assign_pointer(p->udev, &sv->udev);
	memtopo_udev_put(old);
}

/**
 * memtopo_region_serve() - serve a region from userspace through a device fd.
 * @mr: an I/O or ROM-device region without kernel device callbacks.
 * @params: struct memtopo_serve's flags, timeout and sizes (@size, @region
 *	and @out_fd are ignored).
 *
 * The kernel side of MEMTOPO_SERVE, for kernel users that create a region
 * and hand its device fd to a userspace server (fd_install() it, or use it
 * with kernel_read()/kernel_write()).
 *
 * Context: process context; takes the context mutex.
 * Return: the device fd's file (the caller owns its reference), or
 * ERR_PTR(-EINVAL) for bad @params, another kind of region or one with
 * kernel ops; -ENOENT for a destroyed region; -EBUSY if a live device
 * fd serves it; -ENOMEM.
 */
struct file *memtopo_region_serve(struct memtopo_region *mr, const struct memtopo_serve *params)
{
	struct memtopo_ctx *ctx = memtopo_region_ctx(mr);
	struct file *file;
	int ret;

	ret = memtopo_serve_check(params);
	if (ret)
		return ERR_PTR(ret);
	file = memtopo_served_create(params, memtopo_region_id(mr));
	if (IS_ERR(file))
		return file;
	memtopo_ctx_lock(ctx);
	ret = memtopo_region_check_live(mr) ?: memtopo_serve_prepare_locked(mr);
	if (!ret)
		memtopo_serve_bind_locked(mr, file);
	memtopo_ctx_unlock(ctx);
	if (ret) {
		fput(file);
		return ERR_PTR(ret);
	}
	return file;
}
EXPORT_SYMBOL_NS_GPL(memtopo_region_serve, MEMTOPO);

/**
 * memtopo_ioctl_serve() - MEMTOPO_SERVE.
 * @ucmd: the call.
 *
 * The fd number is copied out before the region is bound, so a failed
 * copy leaves the region as it was.
 *
 * Return: 0 or a negative errno (see the uapi header).
 */
int memtopo_ioctl_serve(struct memtopo_ucmd *ucmd)
{
	struct memtopo_serve *cmd = ucmd->cmd;
	struct memtopo_ctx *ctx = ucmd->file->ctx;
	struct memtopo_region *mr;
	struct file *file;
	int fd, ret;

	ret = memtopo_serve_check(cmd);
	if (ret)
		return ret;
	fd = get_unused_fd_flags(O_CLOEXEC);
	if (fd < 0)
		return fd;
	file = memtopo_served_create(cmd, cmd->region);
	if (IS_ERR(file)) {
		ret = PTR_ERR(file);
		goto err_fd;
	}
	memtopo_ctx_lock(ctx);
	mr = memtopo_region_by_id_locked(ctx, cmd->region);
	if (!mr)
		ret = -ENOENT;
	else
		ret = memtopo_serve_prepare_locked(mr);
	if (!ret) {
		cmd->out_fd = fd;
		ret = memtopo_ucmd_respond(ucmd, sizeof(*cmd));
	}
	if (!ret)
		memtopo_serve_bind_locked(mr, file);
	memtopo_ctx_unlock(ctx);
	if (ret)
		goto err_file;
	fd_install(fd, file);
	return 0;

err_file:
	fput(file);
err_fd:
	put_unused_fd(fd);
	return ret;
}
