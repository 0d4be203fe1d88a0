// SPDX-License-Identifier: GPL-2.0
/*
 * memtopo_vhost: a test consumer in the shape of a vhost device (the ring
 * format is in memtopo_vhost.h).  A process opens /dev/memtopo_vhost and
 * attaches it to a space with the guest addresses of a ring; a kernel
 * thread then serves the ring on every MEMTOPO_VHOST_KICK.
 *
 * How it follows the map, the way vhost follows its memory table: a
 * listener keeps a table of the space's RAM ranges from region_add and
 * region_del alone, and the thread reaches guest memory only inside
 * ranges of that table, through memtopo_space_translate() (which must
 * agree with the table) and memtopo_space_map().
 *
 * The table and every access are serialised by io_lock.  The listener
 * takes it in its begin callback and drops it in its commit callback, so a
 * commit waits for the request being served, changes the table and
 * publishes its view while the thread waits, and the thread sees table and
 * view change together: no mapping is ever out while a region_del runs,
 * and after it the thread never maps that range again.
 *
 * Locking: the context mutex (callbacks), then io_lock.  The thread holds
 * io_lock across its accesses and never takes the context mutex there: it
 * maps only ranges the view shows as RAM, which map without a lock.
 */
#include <linux/eventfd.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/kthread.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/wait.h>

#include <memtopo/memtopo.h>
#include "compat.h"
#include "memtopo_vhost.h"

MODULE_IMPORT_NS(MEMTOPO);

/* largest input of one request */
#define VH_MAX_IN		(64 * 1024)

struct vh_range {
	u64 start;
	u64 last;
	struct memtopo_region *mr;	/* valid while in the table */
	u64 offset;
	u32 flags;
};

struct vh {
	struct mutex lock;		/* ioctls against each other */
	struct memtopo_ctx *ctx;
	struct memtopo_space *as;
	struct memtopo_listener l;
	bool registered;
	struct eventfd_ctx *call;
	struct task_struct *worker;
	wait_queue_head_t kick_wq;
	bool kicked;

	/*
	 * The table and every guest access; held by the listener from begin
	 * to commit, inside the context mutex.
	 */
	struct mutex io_lock;
	struct vh_range *r;		/* sorted by start */
	u32 nr, cap;
	bool broken;			/* the table could not follow */
	u32 mapped;			/* mappings out: 0 whenever the table changes */
	u32 num;
	u64 desc_addr, avail_addr, used_addr;
	u16 last_avail;
	u16 used_idx;
	u8 *tmp;			/* a page of scratch for the data */
	struct memtopo_vhost_stats st;
};

/* ---- the table, from the listener (context mutex held) ---- */

static u32 vh_find(const struct vh *vh, u64 addr)
{
	u32 lo = 0, hi = vh->nr;

	while (lo < hi) {
		u32 mid = (lo + hi) / 2;

		if (vh->r[mid].last < addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static bool vh_is_ram(const struct memtopo_section *s)
{
	switch (memtopo_region_kind(s->mr)) {
	case MEMTOPO_RAM:
	case MEMTOPO_ROM:
	case MEMTOPO_RAM_DEVICE:
		return true;
	default:
		return false;
	}
}

/* A commit starts: wait for the request being served, hold the thread off. */
static void vh_begin(void *priv)
{
	struct vh *vh = priv;

	mutex_lock(&vh->io_lock);
}

/* The commit's view is published: the table and the view agree again. */
static void vh_commit(void *priv)
{
	struct vh *vh = priv;

	mutex_unlock(&vh->io_lock);
}

static void vh_region_add(void *priv, const struct memtopo_section *s)
{
	struct vh *vh = priv;
	u32 i;

	lockdep_assert_held(&vh->io_lock);
	if (!vh_is_ram(s))
		return;
	vh->st.adds++;
	if (vh->mapped)
		vh->broken = true;
	if (vh->nr == vh->cap) {
		u32 cap = vh->cap ? vh->cap * 2 : 32;
		struct vh_range *bigger = kvcalloc(cap, sizeof(*bigger), GFP_KERNEL);

		if (!bigger) {
			/* a table that misses RAM only refuses requests */
			vh->broken = true;
			return;
		}
		if (vh->r)
			memcpy(bigger, vh->r, vh->nr * sizeof(*bigger));
		kvfree(vh->r);
		vh->r = bigger;
		vh->cap = cap;
	}
	i = vh_find(vh, s->start);
	memmove(&vh->r[i + 1], &vh->r[i], (vh->nr - i) * sizeof(*vh->r));
	vh->r[i] = (struct vh_range){
		.start = s->start, .last = s->last, .mr = s->mr, .offset = s->offset,
		.flags = s->flags,
	};
	vh->nr++;
}

static void vh_region_del(void *priv, const struct memtopo_section *s)
{
	struct vh *vh = priv;
	u32 i;

	lockdep_assert_held(&vh->io_lock);
	if (!vh_is_ram(s))
		return;
	vh->st.dels++;
	if (vh->mapped)
		vh->broken = true;
	i = vh_find(vh, s->start);
	if (i < vh->nr && vh->r[i].start == s->start && vh->r[i].last == s->last) {
		memmove(&vh->r[i], &vh->r[i + 1], (vh->nr - i - 1) * sizeof(*vh->r));
		vh->nr--;
	} else {
		/* a range the table never had: it no longer mirrors the view */
		vh->broken = true;
	}
}

/*
 * The space's create was undone by a failed commit and the space goes: no
 * access may reach it through @vh->as from now on.  The accesses run under
 * @io_lock, which the listener takes inside the context mutex anyway.
 */
static void vh_detached(void *priv)
{
	struct vh *vh = priv;

	mutex_lock(&vh->io_lock);
	vh->broken = true;
	mutex_unlock(&vh->io_lock);
}

static const struct memtopo_listener_ops vh_listener_ops = {
	.detached = vh_detached,
	.begin = vh_begin,
	.region_add = vh_region_add,
	.region_del = vh_region_del,
	.commit = vh_commit,
};

/* ---- guest accesses (io_lock held) ---- */

/*
 * Does the published view show, at @addr, what the table shows?  If so,
 * *@len is clipped to the view's range.
 */
static bool vh_view_agrees(struct vh *vh, const struct vh_range *r, u64 addr, u64 *len)
{
	struct memtopo_section s;
	bool same;

	rcu_read_lock();
	same = !memtopo_space_translate(vh->as, addr, len, &s, NULL) && s.mr == r->mr &&
	       s.offset == r->offset + (addr - r->start);
	rcu_read_unlock();
	return same;
}

static int vh_access(struct vh *vh, u64 addr, void *buf, u64 len, bool write)
{
	struct memtopo_mapping m;
	const struct vh_range *r;
	int ret;
	u32 i;
	u64 n;

	lockdep_assert_held(&vh->io_lock);
	if (vh->broken)
		return -EIO;
	while (len) {
		i = vh_find(vh, addr);
		if (i == vh->nr || vh->r[i].start > addr)
			return -EFAULT;		/* no RAM there, as far as the table knows */
		r = &vh->r[i];
		if (write && (r->flags & MEMTOPO_FR_READONLY))
			return -EROFS;
		n = min(len, r->last - addr + 1);
		if (!vh_view_agrees(vh, r, addr, &n)) {
			/* the table is the view's, commit by commit: never here */
			vh->broken = true;
			return -EIO;
		}
		ret = memtopo_space_map(vh->as, addr, n, write, &m);
		if (ret)
			return ret;
		vh->mapped++;
		if (m.bounce || m.mr != r->mr) {
			/* the table said RAM of this region: the view must agree */
			vh->broken = true;
			ret = -EIO;
		} else if (write) {
			memcpy(m.ptr, buf, m.len);
		} else {
			memcpy(buf, m.ptr, m.len);
		}
		n = m.len;
		memtopo_space_unmap(&m, write ? n : 0);
		vh->mapped--;
		if (ret)
			return ret;
		addr += n;
		buf += n;
		len -= n;
	}
	return 0;
}

/* Is all of [@addr, @addr + @len) RAM the table knows (writable if @write)? */
static int vh_check(struct vh *vh, u64 addr, u64 len, bool write)
{
	const struct vh_range *r;
	u32 i;

	if (len && addr + len - 1 < addr)
		return -EFAULT;
	i = vh_find(vh, addr);
	while (len) {
		if (i == vh->nr || vh->r[i].start > addr)
			return -EFAULT;
		r = &vh->r[i++];
		if (write && (r->flags & MEMTOPO_FR_READONLY))
			return -EROFS;
		if (r->last - addr >= len - 1)
			return 0;
		len -= r->last - addr + 1;
		addr = r->last + 1;
	}
	return 0;
}

static int vh_read_desc(struct vh *vh, u16 i, struct memtopo_vhost_desc *d)
{
	if (i >= vh->num)
		return -EINVAL;
	return vh_access(vh, vh->desc_addr + (u64)i * sizeof(*d), d, sizeof(*d), false);
}

/*
 * One request: check that every byte it touches is RAM the table knows,
 * then read the input and write the output page by page.  Nothing is
 * written unless the whole request can be.  Return: bytes written, or a
 * negative errno.
 */
static long vh_request(struct vh *vh, u16 head)
{
	struct memtopo_vhost_desc in, out;
	struct memtopo_vhost_out_hdr hdr;
	u64 in_addr, out_addr, off, n;
	u32 in_len, sum = 0, k;
	int ret;

	ret = vh_read_desc(vh, head, &in);
	if (ret)
		return ret;
	if ((le16_to_cpu(in.flags) & (MEMTOPO_VHOST_DESC_F_NEXT | MEMTOPO_VHOST_DESC_F_WRITE)) !=
	    MEMTOPO_VHOST_DESC_F_NEXT)
		return -EINVAL;
	ret = vh_read_desc(vh, le16_to_cpu(in.next), &out);
	if (ret)
		return ret;
	if ((le16_to_cpu(out.flags) & (MEMTOPO_VHOST_DESC_F_NEXT | MEMTOPO_VHOST_DESC_F_WRITE)) !=
	    MEMTOPO_VHOST_DESC_F_WRITE)
		return -EINVAL;
	in_len = le32_to_cpu(in.len);
	in_addr = le64_to_cpu(in.addr);
	out_addr = le64_to_cpu(out.addr);
	if (in_len > VH_MAX_IN)
		return -E2BIG;
	if (le32_to_cpu(out.len) < (u64)in_len + sizeof(hdr))
		return -ENOSPC;
	ret = vh_check(vh, in_addr, in_len, false);
	if (!ret)
		ret = vh_check(vh, out_addr, in_len + sizeof(hdr), true);
	if (ret)
		return ret;

	for (off = 0; off < in_len; off += n) {
		n = min_t(u64, in_len - off, PAGE_SIZE);
		ret = vh_access(vh, in_addr + off, vh->tmp, n, false);
		if (ret)
			return ret;
		for (k = 0; k < n; k++) {
			sum += vh->tmp[k];
			vh->tmp[k] ^= MEMTOPO_VHOST_XOR;
		}
		ret = vh_access(vh, out_addr + sizeof(hdr) + off, vh->tmp, n, true);
		if (ret)
			return ret;
	}
	hdr.len = cpu_to_le32(in_len);
	hdr.sum = cpu_to_le32(sum);
	ret = vh_access(vh, out_addr, &hdr, sizeof(hdr), true);
	return ret ?: in_len + sizeof(hdr);
}

/* Serve the available ring; Return: requests completed, or a ring error. */
static int vh_serve(struct vh *vh)
{
	struct memtopo_vhost_used_elem e;
	__le16 idx, head, uidx;
	int done = 0, ret;
	long res;

	mutex_lock(&vh->io_lock);
	for (;;) {
		ret = vh_access(vh, vh->avail_addr + 2, &idx, sizeof(idx), false);
		if (ret || vh->last_avail == le16_to_cpu(idx))
			break;
		/* the entries were written before the index that shows them */
		smp_rmb();
		while (vh->last_avail != le16_to_cpu(idx)) {
			ret = vh_access(vh, vh->avail_addr + 4 + 2 * (vh->last_avail % vh->num),
					&head, sizeof(head), false);
			if (ret)
				goto out;
			res = vh_request(vh, le16_to_cpu(head));
			e.id = cpu_to_le32(le16_to_cpu(head));
			e.len = cpu_to_le32(res < 0 ? MEMTOPO_VHOST_USED_ERROR | (u32)-res : res);
			ret = vh_access(vh, vh->used_addr + 4 + sizeof(e) *
					(vh->used_idx % vh->num), &e, sizeof(e), true);
			if (ret)
				goto out;
			/* the entry before the index that publishes it */
			smp_wmb();
			uidx = cpu_to_le16(vh->used_idx + 1);
			ret = vh_access(vh, vh->used_addr + 2, &uidx, sizeof(uidx), true);
			if (ret)
				goto out;
			vh->used_idx++;
			vh->last_avail++;
			if (res < 0)
				vh->st.failed++;
			else
				vh->st.done++;
			done++;
			/* between requests, let commits (and their region_del) through */
			mutex_unlock(&vh->io_lock);
			cond_resched();
			mutex_lock(&vh->io_lock);
			ret = vh_access(vh, vh->avail_addr + 2, &idx, sizeof(idx), false);
			if (ret)
				goto out;
			/* as above: the index before the entries it shows */
			smp_rmb();
		}
	}
out:
	if (ret)
		vh->st.ring_errors++;
	mutex_unlock(&vh->io_lock);
	return done;
}

static int vh_thread(void *data)
{
	struct vh *vh = data;

	while (!kthread_should_stop()) {
		wait_event_interruptible(vh->kick_wq,
					 READ_ONCE(vh->kicked) || kthread_should_stop());
		if (kthread_should_stop())
			break;
		WRITE_ONCE(vh->kicked, false);
		/* a kick after this point is seen by the next pass */
		smp_mb();
		if (vh_serve(vh) > 0)
			memtopo_eventfd_signal(vh->call);
	}
	return 0;
}

/* ---- the device file ---- */

static int vh_open(struct inode *inode, struct file *filp)
{
	struct vh *vh = kzalloc(sizeof(*vh), GFP_KERNEL);

	if (!vh)
		return -ENOMEM;
	mutex_init(&vh->lock);
	mutex_init(&vh->io_lock);
	init_waitqueue_head(&vh->kick_wq);
	filp->private_data = vh;
	return 0;
}

static int vh_release(struct inode *inode, struct file *filp)
{
	struct vh *vh = filp->private_data;

	if (vh->worker)
		kthread_stop(vh->worker);
	if (vh->registered)
		memtopo_listener_unregister(&vh->l);
	if (vh->call)
		eventfd_ctx_put(vh->call);
	memtopo_ctx_put(vh->ctx);
	kvfree(vh->r);
	free_page((unsigned long)vh->tmp);
	kfree(vh);
	return 0;
}

static long vh_attach(struct vh *vh, void __user *arg)
{
	struct memtopo_vhost_attach a;
	struct task_struct *worker;
	struct eventfd_ctx *call;
	struct memtopo_space *as;
	struct memtopo_ctx *ctx;
	int ret;

	if (copy_from_user(&a, arg, sizeof(a)))
		return -EFAULT;
	if (a.size != sizeof(a) || a.flags || !a.num || a.num > 256 || (a.num & (a.num - 1)) ||
	    a.desc_addr % 16 || a.avail_addr % 2 || a.used_addr % 4)
		return -EINVAL;
	if (vh->ctx)
		return -EBUSY;
	vh->tmp = (u8 *)get_zeroed_page(GFP_KERNEL);
	if (!vh->tmp)
		return -ENOMEM;
	call = eventfd_ctx_fdget(a.call_fd);
	if (IS_ERR(call)) {
		ret = PTR_ERR(call);
		goto err_tmp;
	}
	ctx = memtopo_ctx_from_fd(a.memtopo_fd);
	if (IS_ERR(ctx)) {
		ret = PTR_ERR(ctx);
		goto err_call;
	}
	vh->num = a.num;
	vh->desc_addr = a.desc_addr;
	vh->avail_addr = a.avail_addr;
	vh->used_addr = a.used_addr;
	vh->l.ops = &vh_listener_ops;
	vh->l.priv = vh;
	vh->l.owner = THIS_MODULE;
	memtopo_ctx_lock(ctx);
	as = memtopo_space_find_locked(ctx, a.space);
	/* the replay fills the table */
	ret = as ? memtopo_listener_register_locked(as, &vh->l) : -ENOENT;
	memtopo_ctx_unlock(ctx);
	if (ret)
		goto err_ctx;
	vh->as = as;
	worker = kthread_run(vh_thread, vh, "memtopo-vhost");
	if (IS_ERR(worker)) {
		ret = PTR_ERR(worker);
		goto err_listener;
	}
	vh->worker = worker;
	vh->registered = true;
	vh->ctx = ctx;
	vh->call = call;
	return 0;

err_listener:
	memtopo_listener_unregister(&vh->l);
	mutex_lock(&vh->io_lock);
	vh->nr = 0;
	vh->broken = false;
	vh->st = (struct memtopo_vhost_stats){};
	mutex_unlock(&vh->io_lock);
err_ctx:
	memtopo_ctx_put(ctx);
err_call:
	eventfd_ctx_put(call);
err_tmp:
	free_page((unsigned long)vh->tmp);
	vh->tmp = NULL;
	return ret;
}

static long vh_stats(struct vh *vh, void __user *arg)
{
	struct memtopo_vhost_stats s;

	if (copy_from_user(&s, arg, sizeof(s)))
		return -EFAULT;
	if (s.size != sizeof(s) || s.flags)
		return -EINVAL;
	if (!vh->ctx)
		return -ENOENT;
	mutex_lock(&vh->io_lock);
	s = vh->st;
	s.size = sizeof(s);
	s.flags = vh->broken ? MEMTOPO_VHOST_STATS_BROKEN : 0;
	mutex_unlock(&vh->io_lock);
	return copy_to_user(arg, &s, sizeof(s)) ? -EFAULT : 0;
}

static long vh_ioctl(struct file *filp, unsigned int cmd, unsigned long arg)
{
	struct vh *vh = filp->private_data;
	long ret;

	mutex_lock(&vh->lock);
	switch (cmd) {
	case MEMTOPO_VHOST_ATTACH:
		ret = vh_attach(vh, (void __user *)arg);
		break;
	case MEMTOPO_VHOST_KICK:
		ret = -ENOENT;
		if (vh->worker) {
			WRITE_ONCE(vh->kicked, true);
			wake_up(&vh->kick_wq);
			ret = 0;
		}
		break;
	case MEMTOPO_VHOST_STATS:
		ret = vh_stats(vh, (void __user *)arg);
		break;
	default:
		ret = -ENOTTY;
	}
	mutex_unlock(&vh->lock);
	return ret;
}

static const struct file_operations vh_fops = {
	.owner = THIS_MODULE,
	.open = vh_open,
	.release = vh_release,
	.unlocked_ioctl = vh_ioctl,
	.llseek = noop_llseek,
};

static struct miscdevice vh_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "memtopo_vhost",
	.fops = &vh_fops,
	.mode = 0600,
};

module_misc_device(vh_misc);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("memtopo test consumer: a vhost-like ring served through memtopo_space_map()");
