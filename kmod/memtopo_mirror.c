// SPDX-License-Identifier: GPL-2.0
/*
 * memtopo_mirror: the in-tree example and test of a kernel consumer.  A
 * process opens /dev/memtopo_mirror and hands it a /dev/memtopo descriptor
 * and a space ID; the module takes the context with memtopo_ctx_from_fd(),
 * registers a listener and keeps a copy of the flat view built only from
 * region_add and region_del, the way KVM keeps memslots from QEMU's
 * listener.  MEMTOPO_MIRROR_GET returns the copy.
 *
 * Like VFIO, it registers a discard listener on each range of a managed
 * region from region_add and unregisters it from region_del; the listeners
 * count the bytes they hold populated, and MEMTOPO_MIRROR_VETO makes them
 * refuse populates, the one failure userspace cannot cause itself.
 */
#include <linux/err.h>
#include <linux/errno.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include <memtopo/memtopo.h>
#include "memtopo_mirror.h"

MODULE_IMPORT_NS(MEMTOPO);

/* managed ranges one mirror listens to at most; more breaks the mirror */
#define MIRROR_DLS	4

struct mirror_dl {
	struct memtopo_discard_listener dl;
	struct mirror *m;
	u64 start;			/* of its range: one view's never overlap */
	bool used;
};

struct mirror {
	struct mutex lock;		/* attach/get against each other */
	struct memtopo_ctx *ctx;	/* from memtopo_ctx_from_fd() */
	struct memtopo_listener l;
	/*
	 * the mirrored space, alive while registered: for the callbacks only
	 * (mirror_rw() names it by @space_id and @serial, see there)
	 */
	struct memtopo_space *as;
	u32 space_id;
	u64 serial;
	bool registered;
	/* sorted by start; written only by the callbacks (context mutex held) */
	struct memtopo_range *r;
	u32 nr, cap;
	u64 adds, dels;
	bool broken;			/* a callback saw something impossible */
	/* the discard listeners' state, also under the context mutex */
	struct mirror_dl dls[MIRROR_DLS];
	u64 populated;
	u32 veto_error, veto_after;
};

static u32 mirror_find(const struct mirror *m, u64 start)
{
	u32 lo = 0, hi = m->nr;

	while (lo < hi) {
		u32 mid = (lo + hi) / 2;

		if (m->r[mid].start < start)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int mirror_populate(struct memtopo_discard_listener *dl, const struct memtopo_section *s)
{
	struct mirror *m = container_of(dl, struct mirror_dl, dl)->m;

	if (m->veto_error) {
		if (!m->veto_after)
			return -(int)m->veto_error;
		m->veto_after--;
	}
	m->populated += s->last - s->start + 1;
	return 0;
}

static void mirror_discard(struct memtopo_discard_listener *dl, const struct memtopo_section *s)
{
	struct mirror *m = container_of(dl, struct mirror_dl, dl)->m;
	u64 len = s->last - s->start + 1;

	/* told of more discarded than it was told populated */
	if (len > m->populated)
		m->broken = true;
	else
		m->populated -= len;
}

static const struct memtopo_discard_listener_ops mirror_dl_ops = {
	.notify_populate = mirror_populate,
	.notify_discard = mirror_discard,
};

static void mirror_dl_add(struct mirror *m, const struct memtopo_section *s)
{
	struct mirror_dl *d;
	u64 g, size, pop;

	if (memtopo_region_discard_info_locked(s->mr, &g, &size, &pop))
		return;
	for (d = m->dls; d < m->dls + MIRROR_DLS && d->used; d++)
		;
	if (d == m->dls + MIRROR_DLS ||
	    memtopo_discard_listener_register_locked(m->as, s, &d->dl)) {
		m->broken = true;
		return;
	}
	d->start = s->start;
	d->used = true;
}

static void mirror_dl_del(struct mirror *m, const struct memtopo_section *s)
{
	struct mirror_dl *d;

	for (d = m->dls; d < m->dls + MIRROR_DLS; d++) {
		if (d->used && d->start == s->start) {
			memtopo_discard_listener_unregister_locked(&d->dl);
			d->used = false;
			return;
		}
	}
}

static void mirror_add(void *priv, const struct memtopo_section *s)
{
	struct mirror *m = priv;
	u32 i;

	m->adds++;
	if (m->nr == m->cap) {
		u32 cap = m->cap ? m->cap * 2 : 64;
		struct memtopo_range *bigger = kvcalloc(cap, sizeof(*bigger), GFP_KERNEL);

		if (!bigger) {
			m->broken = true;
			return;
		}
		if (m->r)
			memcpy(bigger, m->r, m->nr * sizeof(*bigger));
		kvfree(m->r);
		m->r = bigger;
		m->cap = cap;
	}
	i = mirror_find(m, s->start);
	/* ranges of one view never overlap: an add over a live range is a bug */
	if ((i < m->nr && m->r[i].start <= s->last) || (i && m->r[i - 1].last >= s->start))
		m->broken = true;
	memmove(&m->r[i + 1], &m->r[i], (m->nr - i) * sizeof(*m->r));
	memset(&m->r[i], 0, sizeof(m->r[i]));
	m->r[i].start = s->start;
	m->r[i].last = s->last;
	m->r[i].offset = s->offset;
	m->r[i].region = memtopo_region_id(s->mr);
	m->r[i].flags = s->flags & (MEMTOPO_FR_READONLY | MEMTOPO_FR_ROMD | MEMTOPO_FR_NONVOLATILE);
	m->r[i].dirty_log_mask = s->dirty_log_mask;
	m->nr++;
	mirror_dl_add(m, s);
}

static void mirror_del(void *priv, const struct memtopo_section *s)
{
	struct mirror *m = priv;
	u32 i = mirror_find(m, s->start);

	m->dels++;
	mirror_dl_del(m, s);
	if (i == m->nr || m->r[i].start != s->start || m->r[i].last != s->last) {
		m->broken = true;
		return;
	}
	memmove(&m->r[i], &m->r[i + 1], (m->nr - i - 1) * sizeof(*m->r));
	m->nr--;
}

static const struct memtopo_listener_ops mirror_ops = {
	.region_add = mirror_add,
	.region_del = mirror_del,
};

static int mirror_open(struct inode *inode, struct file *filp)
{
	struct mirror *m = kzalloc(sizeof(*m), GFP_KERNEL);
	int i;

	if (!m)
		return -ENOMEM;
	mutex_init(&m->lock);
	for (i = 0; i < MIRROR_DLS; i++) {
		m->dls[i].dl.ops = &mirror_dl_ops;
		m->dls[i].m = m;
	}
	filp->private_data = m;
	return 0;
}

static int mirror_release(struct inode *inode, struct file *filp)
{
	struct mirror *m = filp->private_data;

	/*
	 * unregister drops the listener's context reference itself, and its
	 * region_del calls unregister the discard listeners
	 */
	if (m->registered)
		memtopo_listener_unregister(&m->l);
	memtopo_ctx_put(m->ctx);
	kvfree(m->r);
	kfree(m);
	return 0;
}

static long mirror_attach(struct mirror *m, void __user *arg)
{
	struct memtopo_mirror_attach a;
	struct memtopo_space *as;
	struct memtopo_ctx *ctx;
	int ret;

	if (copy_from_user(&a, arg, sizeof(a)))
		return -EFAULT;
	if (a.size != sizeof(a) || a.flags)
		return -EINVAL;
	if (m->ctx)
		return -EBUSY;
	ctx = memtopo_ctx_from_fd(a.memtopo_fd);
	if (IS_ERR(ctx))
		return PTR_ERR(ctx);
	m->l.ops = &mirror_ops;
	m->l.priv = m;
	m->l.owner = THIS_MODULE;
	memtopo_ctx_lock(ctx);
	as = memtopo_space_find_locked(ctx, a.space);
	/* the replay's region_add registers discard listeners on @as */
	m->as = as;
	ret = as ? memtopo_listener_register_locked(as, &m->l) : -ENOENT;
	if (ret) {
		m->as = NULL;
	} else {
		m->space_id = memtopo_space_id(as);
		m->serial = memtopo_space_serial(as);
	}
	memtopo_ctx_unlock(ctx);
	if (ret)
		goto err_put;
	m->ctx = ctx;
	m->registered = true;
	return 0;

err_put:
	memtopo_ctx_put(ctx);
	return ret;
}

static long mirror_get(struct mirror *m, void __user *arg)
{
	struct memtopo_mirror_get g;
	struct memtopo_range *copy = NULL;
	u32 n;
	int ret = 0;

	if (copy_from_user(&g, arg, sizeof(g)))
		return -EFAULT;
	if (g.size != sizeof(g) || g.flags || g.__reserved)
		return -EINVAL;
	if (!m->ctx)
		return -ENOENT;
	/* the callbacks run under the context mutex: take it to read */
	memtopo_ctx_lock(m->ctx);
	n = m->nr;
	if (m->broken) {
		ret = -EIO;
	} else if (n <= g.count) {
		copy = kvmalloc_array(max(n, 1u), sizeof(*copy), GFP_KERNEL);
		if (copy)
			memcpy(copy, m->r, n * sizeof(*copy));
		else
			ret = -ENOMEM;
	} else {
		ret = -ENOSPC;
	}
	g.adds = m->adds;
	g.dels = m->dels;
	g.populated = m->populated;
	memtopo_ctx_unlock(m->ctx);
	g.count = n;
	if (!ret && copy_to_user(u64_to_user_ptr(g.ranges), copy, n * sizeof(*copy)))
		ret = -EFAULT;
	kvfree(copy);
	if (ret && ret != -ENOSPC)
		return ret;
	if (copy_to_user(arg, &g, sizeof(g)))
		return -EFAULT;
	return ret;
}

/*
 * A kernel consumer's access (a served device's round trip goes through
 * here).  Only the mirror's own mutex is held: the access may wait for a
 * userspace server, and the topology must stay changeable meanwhile.  So
 * the space is named by ID and serial, not by @m->as: a failed commit that
 * undoes the space's create frees it without this mutex, and its ID may
 * name a newer space by then.  Such an access is ENOENT.
 */
static long mirror_rw(struct mirror *m, void __user *arg)
{
	struct memtopo_mirror_rw rw;
	u8 buf[64];
	int ret;

	if (copy_from_user(&rw, arg, sizeof(rw)))
		return -EFAULT;
	if (rw.size != sizeof(rw) || rw.flags & ~MEMTOPO_MIRROR_RW_WRITE || !rw.len ||
	    rw.len > sizeof(buf))
		return -EINVAL;
	if (!m->registered)
		return -ENOENT;
	if (rw.flags & MEMTOPO_MIRROR_RW_WRITE) {
		if (copy_from_user(buf, u64_to_user_ptr(rw.buf), rw.len))
			return -EFAULT;
		return memtopo_space_rw_by_id(m->ctx, m->space_id, m->serial, rw.addr, buf,
					      rw.len, true);
	}
	ret = memtopo_space_rw_by_id(m->ctx, m->space_id, m->serial, rw.addr, buf, rw.len,
				     false);
	if (!ret && copy_to_user(u64_to_user_ptr(rw.buf), buf, rw.len))
		ret = -EFAULT;
	return ret;
}

static long mirror_veto(struct mirror *m, void __user *arg)
{
	struct memtopo_mirror_veto v;

	if (copy_from_user(&v, arg, sizeof(v)))
		return -EFAULT;
	/* from ERESTARTSYS on, the kernel's own codes, never seen by userspace */
	if (v.size != sizeof(v) || v.flags || v.error >= ERESTARTSYS)
		return -EINVAL;
	if (!m->registered)
		return -ENOENT;
	/* the listeners read it under the context mutex */
	memtopo_ctx_lock(m->ctx);
	m->veto_error = v.error;
	m->veto_after = v.after;
	memtopo_ctx_unlock(m->ctx);
	return 0;
}

static long mirror_ioctl(struct file *filp, unsigned int cmd, unsigned long arg)
{
	struct mirror *m = filp->private_data;
	long ret;

	mutex_lock(&m->lock);
	switch (cmd) {
	case MEMTOPO_MIRROR_ATTACH:
		ret = mirror_attach(m, (void __user *)arg);
		break;
	case MEMTOPO_MIRROR_GET:
		ret = mirror_get(m, (void __user *)arg);
		break;
	case MEMTOPO_MIRROR_RW:
		ret = mirror_rw(m, (void __user *)arg);
		break;
	case MEMTOPO_MIRROR_VETO:
		ret = mirror_veto(m, (void __user *)arg);
		break;
	default:
		ret = -ENOTTY;
	}
	mutex_unlock(&m->lock);
	return ret;
}

static const struct file_operations mirror_fops = {
	.owner = THIS_MODULE,
	.open = mirror_open,
	.release = mirror_release,
	.unlocked_ioctl = mirror_ioctl,
	.llseek = noop_llseek,
};

static struct miscdevice mirror_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "memtopo_mirror",
	.fops = &mirror_fops,
	.mode = 0600,
};

module_misc_device(mirror_misc);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("memtopo test consumer: mirrors a flat view from listener callbacks");
