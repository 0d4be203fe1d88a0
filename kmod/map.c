// SPDX-License-Identifier: GPL-2.0
/*
 * memtopo_space_map() / memtopo_space_unmap(): QEMU's address_space_map()
 * and address_space_unmap() for kernel consumers.
 *
 * RAM-like ranges are handed out as a kernel pointer to the memory itself:
 * the longest run of consecutive ranges from the address on whose bytes are
 * contiguous in one backing, up to the length asked for.  Kernel-owned RAM
 * is addressed where the backing maps it; file and process backings have
 * their pages taken (memtopo_backing_get_pages()) and vmap()ed for the
 * mapping's life, at most MEMTOPO_MAP_MAX_PAGES at a time.  Anything else
 * (an I/O region, a served device, a ROM device outside romd mode, a ROM
 * device mapped for writing) goes through a bounce buffer, as in QEMU: one
 * per space, at most a page, filled through dispatch when mapped for
 * reading and written back through dispatch on unmap when mapped for
 * writing.  A second bounce mapping of a space while one is out fails with
 * -EBUSY (QEMU's address_space_map() returns NULL then).
 *
 * Lifetimes: a RAM mapping holds a reference on the backing it points
 * into, on the region that rendered the range (whose dirty log the unmap
 * marks) and on its context, not a place in the view.  A commit may remove
 * the range (region_del) while the mapping is out; the bytes stay valid
 * until the unmap, but they are no longer what the space shows at that
 * address.  A consumer that must never touch memory that left the view
 * unmaps before its region_del callback returns (Documentation/api.rst).
 */
#include <linux/export.h>
#include <linux/minmax.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>

#include "parity.h"

/* Pages one mapping of a file or process backing pins and vmap()s at most. */
#define MEMTOPO_MAP_MAX_PAGES	256

/*
 * Reads of @s's range are direct (the bytes are in its backing), and so are
 * writes when @is_write: QEMU's memory_access_is_direct().
 */
static bool memtopo_map_direct(const struct memtopo_section *s, bool is_write)
{
	switch (s->mr->kind) {
	case MEMTOPO_RAM:
	case MEMTOPO_ROM:
	case MEMTOPO_RAM_DEVICE:
		return true;
	case MEMTOPO_ROM_DEVICE:
		/* a ROM device's writes always reach the device */
		return !is_write && (s->flags & MEMTOPO_FR_ROMD);
	default:
		return false;
	}
}

/* Can the kernel reach @len bytes at @offset of @b (for writing, if @is_write)? */
static int memtopo_map_reachable(const struct memtopo_backing *b, u64 offset, u64 len,
				 bool is_write)
{
	/* a backing is only as large as it was made, even if the region grew */
	if (!b || b->kind == MEMTOPO_BACKING_NONE || offset >= b->size ||
	    len > b->size - offset)
		return -EOPNOTSUPP;
	return is_write && !b->writable ? -EROFS : 0;
}

/*
 * Extend a direct range of @len bytes at @addr over the ranges after it
 * while they continue the same bytes of the same region, up to @want.
 * Under RCU.
 */
static u64 memtopo_map_extend(struct memtopo_space *as, const struct memtopo_section *first,
			      u64 addr, u64 len, u64 want, bool is_write)
{
	struct memtopo_section s;
	u64 next_off = first->offset + len, n;

	while (len < want) {
		if (memtopo_space_lookup(as, addr + len, &s) || s.mr != first->mr ||
		    s.offset + (addr + len - s.start) != next_off ||
		    !memtopo_map_direct(&s, is_write) ||
		    (is_write && (s.flags & MEMTOPO_FR_READONLY)))
			break;
		n = min(want - len, s.last - (addr + len) + 1);
		if (memtopo_map_reachable(s.mr->backing, next_off, n, is_write))
			break;
		len += n;
		next_off += n;
	}
	return len;
}

/* A view can show a region whose last reference is already gone: look again. */
#define MEMTOPO_MAP_TRIES	4

/* What a mapping of @nr taken pages charges to its context's budget. */
static size_t memtopo_map_cost(unsigned int nr)
{
	return (size_t)nr * (PAGE_SIZE + sizeof(struct page *));
}

/*
 * A file or process backing: take the pages under @m's range and vmap()
 * them.  @m->len shrinks to what MEMTOPO_MAP_MAX_PAGES covers.
 */
static int memtopo_map_pages(struct memtopo_backing *b, bool is_write,
			     struct memtopo_mapping *m)
{
	u64 first = round_down(m->offset, PAGE_SIZE), head = m->offset - first;
	unsigned int nr, i;
	struct page **pages;
	void *vaddr;
	int ret;

	if (m->len > (u64)MEMTOPO_MAP_MAX_PAGES * PAGE_SIZE - head)
		m->len = (u64)MEMTOPO_MAP_MAX_PAGES * PAGE_SIZE - head;
	nr = DIV_ROUND_UP(head + m->len, PAGE_SIZE);
	/* the pages stay the mapping's even after their file or owner lets go */
	ret = memtopo_ctx_charge(m->as->ctx, memtopo_map_cost(nr));
	if (ret)
		return ret;
	ret = -ENOMEM;
	pages = kvmalloc_array(nr, sizeof(*pages), GFP_KERNEL_ACCOUNT);
	if (!pages)
		goto err_uncharge;
	ret = memtopo_backing_get_pages(b, first, nr, is_write, pages);
	if (ret)
		goto err_free;
	vaddr = vmap(pages, nr, VM_MAP, PAGE_KERNEL);
	if (!vaddr) {
		ret = -ENOMEM;
		goto err_put;
	}
	m->ptr = (u8 *)vaddr + head;
	m->vaddr = vaddr;
	m->pages = pages;
	m->nr_pages = nr;
	return 0;

err_put:
	for (i = 0; i < nr; i++)
		put_page(pages[i]);
err_free:
	kvfree(pages);
err_uncharge:
	memtopo_ctx_uncharge(m->as->ctx, memtopo_map_cost(nr));
	return ret;
}

static int memtopo_map_ram(struct memtopo_space *as, u64 addr, u64 len, bool is_write,
			   struct memtopo_mapping *m)
{
	struct memtopo_mapping new = { .addr = addr, .is_write = is_write, .as = as };
	struct memtopo_backing *b;
	struct memtopo_section s;
	int ret, tries;

	for (tries = 0; tries < MEMTOPO_MAP_TRIES; tries++) {
		rcu_read_lock();
		new.len = len;
		ret = memtopo_space_translate(as, addr, &new.len, &s, NULL);
		if (ret)
			goto unlock;
		if (!memtopo_map_direct(&s, is_write)) {
			ret = 1;	/* not RAM: the caller bounces */
			goto unlock;
		}
		ret = -EROFS;
		if (is_write && (s.flags & MEMTOPO_FR_READONLY))
			goto unlock;
		b = s.mr->backing;
		ret = memtopo_map_reachable(b, s.offset, new.len, is_write);
		if (ret)
			goto unlock;
		new.len = memtopo_map_extend(as, &s, addr, new.len, len, is_write);
		ret = -EAGAIN;
		if (!refcount_inc_not_zero(&s.mr->ref))
			goto unlock;
		/* the region holds the backing, and we hold the region */
		memtopo_backing_get(b);
		rcu_read_unlock();
		new.mr = s.mr;
		new.offset = s.offset;
		new.backing = b;
		ret = 0;
		if (b->kaddr)
			new.ptr = (u8 *)b->kaddr + s.offset;
		else
			ret = memtopo_map_pages(b, is_write, &new);
		if (ret) {
			memtopo_backing_put(b);
			memtopo_region_put(s.mr);
			return ret;
		}
		/* a region keeps no reference on its context: the mapping does */
		memtopo_ctx_get(as->ctx);
		*m = new;
		return 0;
unlock:
		rcu_read_unlock();
		if (ret != -EAGAIN)
			return ret;
	}
	return -EAGAIN;
}

static int memtopo_map_bounce(struct memtopo_space *as, u64 addr, u64 len, bool is_write,
			      struct memtopo_mapping *m)
{
	struct memtopo_space_parity *sp;
	struct memtopo_section s;
	void *buf;
	int ret;
	u64 n;

	/* at most a page, within the one range at @addr, as QEMU bounces */
	n = min_t(u64, len, PAGE_SIZE);
	rcu_read_lock();
	ret = memtopo_space_translate(as, addr, &n, &s, NULL);
	rcu_read_unlock();
	if (ret)
		return ret;

	memtopo_ctx_lock(as->ctx);
	sp = memtopo_space_parity_get(as);
	memtopo_ctx_unlock(as->ctx);
	if (!sp)
		return -ENOMEM;
	if (atomic_xchg(&sp->bounce_busy, 1))
		return -EBUSY;
	ret = -ENOMEM;
	buf = kzalloc(n, GFP_KERNEL_ACCOUNT);
	if (!buf)
		goto err_free;
	/* a write mapping is checked now, so unmap only fails on a device error */
	if (is_write)
		ret = memtopo_space_check(as, addr, buf, n, true);
	else
		ret = memtopo_space_read(as, addr, buf, n);
	if (ret)
		goto err_free;
	m->ptr = buf;
	m->addr = addr;
	m->len = n;
	m->bounce = true;
	m->is_write = is_write;
	m->as = as;
	m->mr = NULL;
	m->offset = 0;
	m->backing = NULL;
	m->pages = NULL;
	m->nr_pages = 0;
	m->vaddr = NULL;
	return 0;

err_free:
	kfree(buf);
	atomic_set_release(&sp->bounce_busy, 0);
	return ret;
}

/**
 * memtopo_space_map() - map a range of a space for the kernel (QEMU's
 * address_space_map()).
 * @as: the space; it must outlive the mapping (a registered listener keeps
 *	it: a space with listeners cannot be destroyed).
 * @addr: first address.
 * @len: bytes wanted, at least 1.
 * @is_write: the caller will write through the mapping (and may read).
 * @m: filled in on success: @m->ptr holds @m->len bytes (1 to @len) of the
 *	space at @m->addr.
 *
 * RAM, ROM, RAM devices and ROM devices in romd mode (read only) whose
 * backing the kernel can reach are mapped directly: @m->ptr points at the
 * memory itself, and @m->len covers the consecutive ranges from @addr on
 * that continue the same bytes, up to @len (and, for a file or process
 * backing, whose pages are taken and vmap()ed, up to 1 MiB).  Everything
 * else is bounced: @m->ptr is a buffer of at most a page within the range
 * at @addr, read from the space through memtopo_space_read() for a read
 * mapping (zeroed for a write mapping, whose access is checked as
 * memtopo_space_write() would), and @m->bounce is set.  Each space has one
 * bounce buffer.
 *
 * Lifetime: a direct mapping holds a reference on the backing (and on the
 * region whose range it maps), not on a place in the view: after a commit
 * removes the range (region_del) the bytes at @m->ptr stay valid until
 * memtopo_space_unmap() but are no longer what the space shows at @addr,
 * and writes through them reach the old backing only.  A file's pages stay
 * the mapping's even if the file is truncated meanwhile (the writes are
 * then lost, as through a process's mmap).
 *
 * Context: process context, may sleep.  Takes no memtopo lock for a direct
 * mapping (a process backing takes its owner's mmap lock); a bounce takes
 * the context mutex (so not from a listener callback) and the access's
 * device callbacks may sleep.
 * Return: 0; -EINVAL for a zero @len; -ENOENT if nothing is mapped at
 * @addr (or @as is being destroyed); -EROFS for a write mapping of a
 * read-only range or backing; -EOPNOTSUPP for RAM the kernel cannot reach
 * (a label backing, bytes past the backing's size);
 * -ENOSPC if the pages a file or process backing's mapping takes would
 * pass the context's memory budget (memtopo_ctx_charge());
 * -ESRCH, -EFAULT, -EINTR for a process backing whose owner is gone or
 * no longer maps the range; a page-cache read error for a file, or
 * memtopo_backing_get_pages()'s errors for a hugetlbfs file; -EBUSY if
 * the space's bounce buffer is in use (retry once it is unmapped);
 * -ENOMEM; -EAGAIN if the range kept showing regions being freed (retry);
 * a bounce's errors of memtopo_space_read() / memtopo_space_write().  On
 * error nothing is mapped
 * and @m is untouched.
 */
int memtopo_space_map(struct memtopo_space *as, u64 addr, u64 len, bool is_write,
		      struct memtopo_mapping *m)
{
	int ret;

	if (!len)
		return -EINVAL;
	might_sleep();
	ret = memtopo_map_ram(as, addr, len, is_write, m);
	if (ret <= 0)
		return ret;
	return memtopo_map_bounce(as, addr, len, is_write, m);
}
EXPORT_SYMBOL_NS_GPL(memtopo_space_map, MEMTOPO);

/**
 * memtopo_space_unmap() - give back a mapping (QEMU's
 * address_space_unmap()).
 * @m: a mapping memtopo_space_map() filled in.
 * @access_len: bytes from the start of the mapping the caller wrote (at
 *	most @m->len; more is clipped), ignored for a read mapping.
 *
 * A write mapping marks the @access_len bytes dirty for every client
 * logging the region, and their pages dirty for the page cache or the
 * owner's mm; a bounced one writes them back to the space through
 * memtopo_space_write() instead.  Whatever the result, the mapping is gone.
 *
 * Context: process context, may sleep (a bounce's device callbacks may).
 * Return: 0, or the error of a bounce's write-back (the device failed it;
 * nothing or part of it was written).
 */
int memtopo_space_unmap(struct memtopo_mapping *m, u64 access_len)
{
	struct memtopo_space_parity *sp;
	unsigned int i, dirty;
	struct memtopo_ctx *ctx;
	int ret = 0;

	might_sleep();
	access_len = m->is_write ? min(access_len, m->len) : 0;
	if (m->bounce) {
		if (access_len)
			ret = memtopo_space_write(m->as, m->addr, m->ptr, access_len);
		kfree(m->ptr);
		/* the space's parity state was made by the map and lives with it */
		sp = m->as->parity;
		atomic_set_release(&sp->bounce_busy, 0);
	} else {
		ctx = m->as->ctx;
		if (access_len) {
			rcu_read_lock();
			memtopo_mark_dirty_rcu(m->mr, m->offset, access_len);
			rcu_read_unlock();
		}
		if (m->pages) {
			vunmap(m->vaddr);
			/* the page cache or the owner's mm learns what was written */
			dirty = access_len ? DIV_ROUND_UP(offset_in_page(m->offset) + access_len,
							  PAGE_SIZE) : 0;
			for (i = 0; i < m->nr_pages; i++) {
				if (i < dirty)
					set_page_dirty_lock(m->pages[i]);
				put_page(m->pages[i]);
			}
			kvfree(m->pages);
			memtopo_ctx_uncharge(ctx, memtopo_map_cost(m->nr_pages));
		}
		memtopo_backing_put(m->backing);
		memtopo_region_put(m->mr);
		memtopo_ctx_put(ctx);
	}
	m->ptr = NULL;
	m->len = 0;
	return ret;
}
EXPORT_SYMBOL_NS_GPL(memtopo_space_unmap, MEMTOPO);
