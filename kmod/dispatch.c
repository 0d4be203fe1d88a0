// SPDX-License-Identifier: GPL-2.0
/*
 * Access dispatch: memtopo_space_read() / memtopo_space_write(), QEMU's
 * address_space_rw() for kernel consumers.
 *
 * An access is cut into pieces, one per flat range it crosses.  RAM-like
 * pieces (RAM, ROM, RAM device, a ROM device in romd mode when reading)
 * are copied to or from the region's backing: kernel-owned RAM through its
 * kernel mapping, files and process memory through the backing's own
 * accessor (which sleeps, so it runs outside RCU with a region reference
 * held); writes to read-only ranges are refused and RAM writes are marked
 * dirty once the bytes are there.  Device pieces go
 * through QEMU's three rules, in order:
 *  1. memory_access_size(): each step is at most valid_max (4 when 0)
 *     bytes, no wider than the address's alignment unless the device
 *     implements unaligned accesses, rounded down to a power of two;
 *  2. memory_region_access_valid(): the step must be aligned unless the
 *     device accepts unaligned accesses, and within [valid_min, valid_max]
 *     when valid_max is set;
 *  3. access_with_adjusted_size(): the step is widened to impl_min or split
 *     into impl_max-sized calls, little- or big-endian ordered.
 * Bytes are the memory image: a little-endian device sees them as a
 * little-endian number, a big-endian device as a big-endian one (QEMU's
 * adjust_endianness() on a little-endian host).  A write step that matches
 * an ioeventfd signals it instead of calling the device.
 *
 * Locking: ranges are looked up under rcu_read_lock(); device callbacks
 * may sleep, so they are called after it is dropped, with the ops table
 * and opaque pointer copied out.  Two SRCU read-side sections span an
 * access:
 *  - memtopo_device_srcu keeps a kernel device (and a RAM mapping) alive:
 *    whoever unmaps a region and then frees its opaque data, its kernel
 *    mapping or its ops' module calls memtopo_dispatch_sync() in between;
 *  - memtopo_access_srcu keeps the space and what hangs off it alive: a
 *    space is freed only after its grace period (memtopo_dispatch_defer()),
 *    so MEMTOPO_SPACE_RW can run an access without the context mutex.
 * A userspace-served device (parity.h's struct memtopo_udev) is held by a
 * reference around each call instead, and the call leaves the device
 * section: its server may take up to MEMTOPO_SERVE_TIMEOUT_MAX_MS to
 * answer, and a kernel consumer's teardown, in any context, must not wait
 * for that.  Deferred frees do wait for it: they are only memory.
 *
 * An access that lands on an IOMMU region goes where the IOMMU translates
 * it (iommu.c), piece by piece: each piece stays within one IOTLB entry of
 * every IOMMU it passes, and an IOVA without translation is unassigned.
 *
 * Bad input leaves state as it was: every piece is checked against the
 * view (assigned, writable, sizes valid) before any is performed.  Only a
 * commit racing with the access, or a device callback failing, can stop
 * an access part-way.
 */
#include <linux/export.h>
#include <linux/log2.h>
#include <linux/minmax.h>
#include <linux/mm.h>
#include <linux/srcu.h>
#include <linux/string.h>

#include "parity.h"
#include "selftest.h"

DEFINE_STATIC_SRCU(memtopo_device_srcu);
DEFINE_STATIC_SRCU(memtopo_access_srcu);

/* An I/O region without callbacks (userspace made it) sizes by QEMU's defaults. */
static const struct memtopo_region_ops memtopo_no_ops;

/* What one step of an access does, decided under RCU. */
struct memtopo_step {
	u64 len;			/* bytes of the access this step covers */
	u64 offset;			/* within the region */
	void *kaddr;			/* kernel-owned RAM: where to copy; else NULL */
	struct memtopo_region *mr;	/* other RAM: referenced, copied outside RCU */
	const struct memtopo_region_ops *ops;
	void *opaque;
	struct memtopo_udev *udev;	/* a served device, referenced */
	bool signalled;			/* an ioeventfd took the write */
};

/* QEMU's memory_access_size(). */
static unsigned int memtopo_access_size(const struct memtopo_region_ops *ops, u64 len,
					u64 offset)
{
	u64 max = ops->valid_max ? ops->valid_max : 4;

	if (!ops->impl_unaligned) {
		u64 align = offset & -offset;

		if (align && align < max)
			max = align;
	}
	if (len > max)
		len = max;
	return rounddown_pow_of_two(len);
}

/* QEMU's memory_region_access_valid(). */
static bool memtopo_access_valid(const struct memtopo_region_ops *ops, u64 offset,
				 unsigned int size)
{
	if (!ops->unaligned && (offset & (size - 1)))
		return false;
	/* QEMU treats an unset valid_max as "every size is valid" */
	if (!ops->valid_max)
		return true;
	return size <= ops->valid_max && size >= ops->valid_min;
}

static u64 memtopo_load(const u8 *buf, unsigned int size, bool big_endian)
{
	u64 v = 0;
	unsigned int i;

	for (i = 0; i < size; i++)
		v |= (u64)buf[big_endian ? i : size - 1 - i] << (8 * (size - 1 - i));
	return v;
}

static void memtopo_store(u8 *buf, unsigned int size, u64 v, bool big_endian)
{
	unsigned int i;

	for (i = 0; i < size; i++)
		buf[big_endian ? size - 1 - i : i] = v >> (8 * i);
}

/*
 * QEMU's access_with_adjusted_size() with its read/write accessors:
 * @size bytes at @offset in impl-sized calls, each call's value shifted
 * into place (a negative shift when impl_min widens a big-endian access).
 */
static int memtopo_access_adjusted(const struct memtopo_region_ops *ops, void *opaque,
				   u64 offset, u64 *value, unsigned int size, bool is_write)
{
	unsigned int min = ops->impl_min ? ops->impl_min : 1;
	unsigned int max = ops->impl_max ? ops->impl_max : 4;
	/* QEMU's MAX(MIN(size, max), min): min wins if a device sets min > max */
	unsigned int asz = max_t(unsigned int, min_t(unsigned int, size, max), min), i;
	u64 mask = asz == 8 ? ~0ULL : (1ULL << (asz * 8)) - 1;
	int ret;

	if (!is_write)
		*value = 0;
	for (i = 0; i < size; i += asz) {
		int shift = ops->big_endian ? (int)(size - asz - i) * 8 : (int)i * 8;
		u64 tmp;

		if (is_write) {
			tmp = shift >= 0 ? (*value >> shift) & mask : (*value << -shift) & mask;
			ret = ops->write(opaque, offset + i, tmp, asz);
		} else {
			tmp = 0;
			ret = ops->read(opaque, offset + i, &tmp, asz);
			tmp &= mask;
			if (!ret)
				*value |= shift >= 0 ? tmp << shift : tmp >> -shift;
		}
		if (ret)
			return ret;
	}
	return 0;
}

/*
 * A backing is only as large as it was made: a region grown past it since
 * (the kernel API does not stop that) cannot reach beyond.
 */
static bool memtopo_backing_covers(const struct memtopo_backing *b, u64 offset, u64 len)
{
	return b && b->kind != MEMTOPO_BACKING_NONE && offset < b->size &&
	       len <= b->size - offset;
}

/*
 * Decide the step at @addr for @len remaining bytes, under RCU.  With
 * @dry_run nothing is copied or signalled and a RAM step covers the rest
 * of its range; otherwise kernel-owned RAM is copied here, stopping at a
 * page boundary so the RCU section stays short, and other RAM is left to
 * the caller with a region reference in @st->mr.
 */
static int memtopo_step(struct memtopo_space *as, u64 addr, u8 *buf, u64 len,
			bool is_write, bool dry_run, struct memtopo_step *st)
{
	struct memtopo_region_parity *p;
	struct memtopo_udev *udev = NULL;
	struct memtopo_backing *b;
	struct memtopo_section s;
	struct memtopo_region *mr;
	u64 n;
	int ret;

	memset(st, 0, sizeof(*st));
	ret = memtopo_space_lookup(as, addr, &s);
	if (ret)
		return -ENXIO;
	if (s.mr->kind == MEMTOPO_IOMMU) {
		/* the piece one IOTLB entry of each IOMMU passed translates */
		ret = memtopo_iommu_walk_rcu(&s, &addr, &len, is_write, 0, NULL);
		if (ret)
			return ret == -ENOENT ? -ENXIO : ret;
	}
	mr = s.mr;
	st->offset = s.offset + (addr - s.start);
	n = s.last - addr >= len - 1 ? len : s.last - addr + 1;

	switch (mr->kind) {
	case MEMTOPO_ROM_DEVICE:
		/* romd mode reads as RAM; writes always go to the device */
		if (is_write || !(s.flags & MEMTOPO_FR_ROMD))
			break;
		fallthrough;
	case MEMTOPO_RAM:
	case MEMTOPO_ROM:
	case MEMTOPO_RAM_DEVICE:
		if (is_write && (s.flags & MEMTOPO_FR_READONLY))
			return -EROFS;
		b = mr->backing;
		if (!memtopo_backing_covers(b, st->offset, n))
			return -EOPNOTSUPP;	/* nothing memtopo can reach */
		if (is_write && !b->writable)
			return -EROFS;
		if (dry_run) {
			st->len = n;
			return 0;
		}
		if (!b->kaddr) {
			/* zero: the region is being freed, a commit raced with us */
			if (!refcount_inc_not_zero(&mr->ref))
				return -ENXIO;
			st->mr = mr;
			st->len = n;
			return 0;
		}
		st->kaddr = (u8 *)b->kaddr + st->offset;
		st->len = min_t(u64, n, PAGE_SIZE - offset_in_page(st->kaddr));
		if (is_write) {
			memcpy(st->kaddr, buf, st->len);
			memtopo_mark_dirty_rcu(mr, st->offset, st->len);
		} else {
			memcpy(buf, st->kaddr, st->len);
		}
		return 0;
	case MEMTOPO_IO:
		break;
	default:
		/* a reservation: nothing answers there */
		return -ENXIO;
	}

	/* a device: one access of at most 8 bytes */
	st->ops = mr->ops ? mr->ops : &memtopo_no_ops;
	st->opaque = mr->opaque;
	if (!mr->ops) {
		p = rcu_dereference(mr->parity);
		udev = p ? rcu_dereference(p->udev) : NULL;
		if (udev) {
			st->ops = &udev->ops;
			st->opaque = udev;
		}
	}
	st->len = memtopo_access_size(st->ops, n, st->offset);
	if (!memtopo_access_valid(st->ops, st->offset, st->len))
		return -EINVAL;
	/* an ioeventfd takes the write even where no callback would */
	if (is_write)
		st->signalled = memtopo_ioeventfd_dispatch(mr, st->offset,
							   memtopo_load(buf, st->len,
									st->ops->big_endian),
							   st->len, !dry_run);
	if (!st->signalled && (is_write ? !st->ops->write : !st->ops->read))
		return -EOPNOTSUPP;
	if (udev && !dry_run && !st->signalled) {
		/* a served device: hold it across the call, outside RCU */
		if (!refcount_inc_not_zero(&udev->ref))
			return -ENODEV;
		st->udev = udev;
	}
	return 0;
}

/* RAM whose backing sleeps to reach (a file, another process). */
static int memtopo_ram_step(struct memtopo_step *st, u8 *buf, bool is_write)
{
	struct memtopo_backing *b = st->mr->backing;
	int ret;

	ret = b->ops->access(b, st->offset, buf, st->len, is_write);
	if (!ret && is_write) {
		rcu_read_lock();
		memtopo_mark_dirty_rcu(st->mr, st->offset, st->len);
		rcu_read_unlock();
	}
	memtopo_region_put(st->mr);
	return ret;
}

/*
 * A served device's call, outside the device section: its server may take
 * long to answer, and memtopo_dispatch_sync() must not wait for it.  The
 * step's reference holds the device; *@idx is the section re-entered.
 */
static int memtopo_served_step(struct memtopo_step *st, u64 *value, bool is_write, int *idx)
	__releases(&memtopo_device_srcu) __acquires(&memtopo_device_srcu)
{
	int ret;

	srcu_read_unlock(&memtopo_device_srcu, *idx);
	ret = memtopo_access_adjusted(st->ops, st->opaque, st->offset, value, st->len,
				      is_write);
	*idx = srcu_read_lock(&memtopo_device_srcu);
	return ret;
}

/* With @check_only, only pass 0 runs: nothing is accessed. */
static int memtopo_dispatch(struct memtopo_space *as, u64 addr, u8 *buf, size_t len,
			    bool is_write, bool check_only)
{
	struct memtopo_step st;
	u64 a, done;
	int ret = 0, aidx, idx, pass;
	u64 value = 0;

	if (!len)
		return 0;
	if (len - 1 > U64_MAX - addr)
		return -EOVERFLOW;
	might_sleep();
	aidx = srcu_read_lock(&memtopo_access_srcu);
	idx = srcu_read_lock(&memtopo_device_srcu);
	/* pass 0 checks every piece against the view, pass 1 performs them */
	for (pass = 0; pass < (check_only ? 1 : 2) && !ret; pass++) {
		for (a = addr, done = 0; done < len && !ret; a += st.len, done += st.len) {
			rcu_read_lock();
			ret = memtopo_step(as, a, buf + done, len - done, is_write, !pass, &st);
			rcu_read_unlock();
			if (ret || !pass || st.kaddr || st.signalled)
				continue;
			if (st.mr) {
				ret = memtopo_ram_step(&st, buf + done, is_write);
				continue;
			}
			/* a device step, outside RCU: the callback may sleep */
			if (is_write)
				value = memtopo_load(buf + done, st.len, st.ops->big_endian);
			if (st.udev)
				ret = memtopo_served_step(&st, &value, is_write, &idx);
			else
				ret = memtopo_access_adjusted(st.ops, st.opaque, st.offset,
							      &value, st.len, is_write);
			memtopo_udev_put(st.udev);
			if (!ret && !is_write)
				memtopo_store(buf + done, st.len, value, st.ops->big_endian);
		}
	}
	srcu_read_unlock(&memtopo_device_srcu, idx);
	srcu_read_unlock(&memtopo_access_srcu, aidx);
	return ret;
}

/**
 * memtopo_space_read() - read from an address space as a CPU would.
 * @as: the space.
 * @addr: first address.
 * @buf: @len bytes out, in memory order.
 * @len: bytes; the access may cross any number of flat ranges.
 *
 * See the top of dispatch.c for the rules.
 *
 * Context: process context; may sleep (device callbacks may; a served
 * device's accessor waits, killable, for its server).
 * Return: 0; -ENXIO if some byte is unassigned or in a reservation (or
 * an IOMMU does not translate it); -EACCES if an IOMMU translates it
 * without the permission the access needs; -ELOOP past
 * MEMTOPO_IOMMU_MAX_DEPTH IOMMUs;
 * -EOPNOTSUPP for RAM without a backing memtopo can reach (none, or one
 * smaller than the region) or a device without the callback; the
 * backing's errors (memtopo_backing_access()); -EINVAL for a step the
 * device's valid sizes or alignment refuse; -EOVERFLOW if the access
 * passes 2^64; a device callback's error
 * (for a served device: -ETIMEDOUT, -EIO, -ENODEV, -EDEADLK, -EINTR, see
 * struct memtopo_serve in the uapi header).
 * Except for a device error or a racing commit, an error means nothing
 * was accessed.
 */
int memtopo_space_read(struct memtopo_space *as, u64 addr, void *buf, size_t len)
{
	return memtopo_dispatch(as, addr, buf, len, false, false);
}
EXPORT_SYMBOL_NS_GPL(memtopo_space_read, MEMTOPO);

/**
 * memtopo_space_write() - write to an address space as a CPU would.
 * @as: the space.
 * @addr: first address.
 * @buf: @len bytes, in memory order.
 * @len: bytes.
 *
 * RAM writes mark the pages dirty for every client logging the region; a
 * device step matching an ioeventfd signals it instead of the device.
 *
 * Context: process context; may sleep.
 * Return: as memtopo_space_read(), plus -EROFS for a read-only range or a
 * backing that cannot be written (a file opened read-only).
 */
int memtopo_space_write(struct memtopo_space *as, u64 addr, const void *buf, size_t len)
{
	/* the buffer is only read on this path */
	return memtopo_dispatch(as, addr, (u8 *)buf, len, true, false);
}
EXPORT_SYMBOL_NS_GPL(memtopo_space_write, MEMTOPO);

/**
 * memtopo_space_check() - would memtopo_space_read() / memtopo_space_write()
 * of these bytes go through?  Nothing is accessed or signalled.
 * @as: the space.
 * @addr: first address.
 * @buf: @len bytes: a write is checked with them (an ioeventfd's match).
 * @len: bytes.
 * @is_write: check a write, else a read.
 *
 * Context: process context.
 * Return: 0, or what the access would fail with before touching anything.
 */
int memtopo_space_check(struct memtopo_space *as, u64 addr, void *buf, size_t len,
			bool is_write)
{
	return memtopo_dispatch(as, addr, buf, len, is_write, true);
}

/**
 * memtopo_dispatch_sync() - wait for every access in flight to finish,
 * except those waiting for a userspace-served device (a reference holds
 * that device, not this).
 *
 * Context: process context; sleeps.  Call it after the commit that unmapped
 * a region and before freeing what its accesses use: its ops' opaque data,
 * its kernel mapping, or the module holding its ops.
 */
void memtopo_dispatch_sync(void)
{
	synchronize_srcu(&memtopo_device_srcu);
}
EXPORT_SYMBOL_NS_GPL(memtopo_dispatch_sync, MEMTOPO);

/**
 * memtopo_dispatch_defer() - free something dispatch may still be using.
 * @head: its rcu_head.
 * @fn: the free function.
 *
 * Runs @fn after every access that started before the call has finished,
 * those waiting for a served device's answer included.
 * Context: any; RCU callbacks included.
 */
void memtopo_dispatch_defer(struct rcu_head *head, void (*fn)(struct rcu_head *head))
{
	call_srcu(&memtopo_access_srcu, head, fn);
}

/* Module exit: run every memtopo_dispatch_defer() callback. */
void memtopo_dispatch_barrier(void)
{
	srcu_barrier(&memtopo_access_srcu);
}

/**
 * memtopo_space_rw_by_id() - an access to a space named by ID.
 * @ctx: the context.
 * @space: the space's ID.
 * @serial: its memtopo_space_serial(), or 0 for whichever space has the ID.
 * @addr: first address.
 * @buf: @len bytes, in memory order.
 * @len: bytes.
 * @is_write: write @buf, else read into it.
 *
 * The context mutex is held only to find the space: the access runs
 * without it, inside the access SRCU section that keeps the space's
 * memory alive, so a served device's accessors do not serialise on the
 * mutex and the topology can change (even the space go) while they wait.
 * A kernel user that keeps a space by ID and serial reaches it this way
 * without holding a pointer that a failed commit may free.
 *
 * Context: process context; takes the context mutex, so not from a
 * listener or device callback of the context; may sleep.
 * Return: -ENOENT if no space of @space and @serial is there, else as
 * memtopo_space_read()/_write().
 */
int memtopo_space_rw_by_id(struct memtopo_ctx *ctx, u32 space, u64 serial, u64 addr,
			   void *buf, size_t len, bool is_write)
{
	struct memtopo_space *as;
	int idx, ret;

	memtopo_ctx_lock(ctx);
	as = memtopo_space_find_serial(ctx, space, serial);
	if (!as) {
		memtopo_ctx_unlock(ctx);
		return -ENOENT;
	}
	idx = srcu_read_lock(&memtopo_access_srcu);
	memtopo_ctx_unlock(ctx);
	ret = memtopo_dispatch(as, addr, buf, len, is_write, false);
	srcu_read_unlock(&memtopo_access_srcu, idx);
	return ret;
}
EXPORT_SYMBOL_NS_GPL(memtopo_space_rw_by_id, MEMTOPO);
