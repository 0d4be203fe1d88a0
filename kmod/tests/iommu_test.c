// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit suite "memtopo_iommu": IOMMU regions (iommu.c), each expectation
 * after the QEMU 7.2 function it comes from:
 *  - translation through a table and through kernel ops, with the IOTLB
 *    entry's block and permissions (address_space_translate_iommu(),
 *    address_space_get_iotlb_entry());
 *  - map / unmap all or nothing, with the errno of each refusal (iommufd's
 *    IOMMU_IOAS_MAP / _UNMAP);
 *  - notifiers: registration order, range filter, flags, iommu_idx, a MAP
 *    visible to translation when told, an UNMAP told while the old entry
 *    still translates (memory_region_notify_iommu(),
 *    memory_region_notify_iommu_one());
 *  - replay of the table and the default replay, QEMU's granule-by-granule
 *    walk taken block by block (memory_region_iommu_replay());
 *  - nested IOMMUs, the depth bound, dispatch through an IOMMU;
 *  - the events userspace subscriptions get: a device-IOTLB invalidation
 *    cropped to each range after the notifiers heard it, the mappings of an
 *    IOMMU range replayed right after its region_add and after a
 *    registration's replay, nothing at region_del (vfio_listener_region_add()
 *    and vfio_listener_region_del()).
 *
 * The map of most cases:
 *   sys   container 2^64, space "sys"
 *   ram   RAM 0x40000 at 0x100000 in sys, backed by a kernel buffer
 *   mmu   table IOMMU 2^64, root of space "dma"
 */
#include <kunit/test.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "engine_util.h"
#include "events.h"

#define MT_RAM_BASE	0x100000ULL
#define MT_RAM_SIZE	0x40000ULL

struct mt_imap {
	struct memtopo_region *sys, *ram, *mmu;
	struct memtopo_space *sys_as, *dma;
	u8 *buf;
};

static struct memtopo_region *mt_ram(struct kunit *test, const char *name, u64 size, u8 **buf)
{
	struct memtopo_region *mr = mt_region_kram(test, MEMTOPO_RAM, name, size);
	unsigned int i;

	*buf = memtopo_region_backing(mr)->kaddr;
	KUNIT_ASSERT_NOT_NULL(test, *buf);
	for (i = 0; i < size; i++)
		(*buf)[i] = i * 7 + (i >> 12);
	return mr;
}

static void mt_imap_build(struct kunit *test, struct mt_imap *m)
{
	m->sys = mt_region64(test, MEMTOPO_CONTAINER, "sys");
	m->ram = mt_ram(test, "ram", MT_RAM_SIZE, &m->buf);
	mt_add(test, m->sys, MT_RAM_BASE, m->ram, 0);
	m->sys_as = mt_space(test, "sys", m->sys);
	m->mmu = mt_region64(test, MEMTOPO_IOMMU, "mmu");
	m->dma = mt_space(test, "dma", m->mmu);
}

/* What one translation gives: 0 or the errno, and where it went. */
struct mt_xl {
	int ret;
	const char *mr;
	u64 start;
	u64 offset;
	u64 len;
};

static struct mt_xl mt_translate(struct memtopo_space *as, u64 addr, u64 len, bool is_write)
{
	struct memtopo_section s;
	struct mt_xl x = { .len = len };

	rcu_read_lock();
	x.ret = memtopo_space_translate_access(as, addr, &x.len, is_write, &s, NULL);
	if (!x.ret) {
		x.mr = memtopo_region_name(s.mr);
		x.start = s.start;
		x.offset = s.offset;
	}
	rcu_read_unlock();
	return x;
}

static void mt_expect_xl(struct kunit *test, struct memtopo_space *as, u64 addr, u64 len,
			 bool is_write, int eret, const char *emr, u64 estart, u64 elen, int line)
{
	struct mt_xl x = mt_translate(as, addr, len, is_write);

	KUNIT_EXPECT_EQ_MSG(test, x.ret, eret, "line %d: translate %llx", line, addr);
	if (x.ret || eret)
		return;
	KUNIT_EXPECT_STREQ_MSG(test, x.mr, emr, "line %d", line);
	KUNIT_EXPECT_EQ_MSG(test, x.start, estart, "line %d", line);
	KUNIT_EXPECT_EQ_MSG(test, x.len, elen, "line %d", line);
}

#define MT_EXPECT_XL(test, as, a, n, w, eret, emr, estart, elen)		\
	mt_expect_xl(test, as, a, n, w, eret, emr, estart, elen, __LINE__)

/* A table IOMMU translates what is mapped, with its block and permissions. */
static void mt_iommu_table_translate_test(struct kunit *test)
{
	struct memtopo_iotlb_entry e;
	struct mt_imap m;

	mt_imap_build(test, &m);
	/* nothing mapped: the IOVA is unassigned */
	MT_EXPECT_XL(test, m.dma, 0x1000, 8, false, -ENOENT, NULL, 0, 0);
	/* 3 pages at IOVA 0x1000 -> 0x101000, read-only */
	KUNIT_ASSERT_EQ(test, memtopo_iommu_map(m.mmu, 0x1000, 0x3000, m.sys_as, 0x101000,
						MEMTOPO_IOMMU_RO), 0);
	/* IOVA 0x1800: the largest aligned block inside the mapping is a page */
	MT_EXPECT_XL(test, m.dma, 0x1800, 0x4000, false, 0, "ram", 0x101800, 0x800);
	/* IOVA 0x2000-0x3fff is an aligned 8 KiB block on both sides: one entry */
	MT_EXPECT_XL(test, m.dma, 0x2100, 0x4000, false, 0, "ram", 0x102100, 0x1f00);
	/* a write needs MEMTOPO_IOMMU_WO */
	MT_EXPECT_XL(test, m.dma, 0x1800, 4, true, -EACCES, NULL, 0, 0);
	/* below and above the mapping */
	MT_EXPECT_XL(test, m.dma, 0xfff, 1, false, -ENOENT, NULL, 0, 0);
	MT_EXPECT_XL(test, m.dma, 0x4000, 1, false, -ENOENT, NULL, 0, 0);

	/* address_space_get_iotlb_entry(): the block, the final space */
	rcu_read_lock();
	KUNIT_EXPECT_EQ(test, memtopo_space_get_iotlb_entry(m.dma, 0x2345, false, 0, &e), 0);
	KUNIT_EXPECT_PTR_EQ(test, e.target_as, m.sys_as);
	KUNIT_EXPECT_EQ(test, e.iova, 0x2000ULL);
	KUNIT_EXPECT_EQ(test, e.translated_addr, 0x102000ULL);
	KUNIT_EXPECT_EQ(test, e.addr_mask, 0x1fffULL);
	KUNIT_EXPECT_EQ(test, e.perm, (unsigned int)MEMTOPO_IOMMU_RO);
	KUNIT_EXPECT_EQ(test, memtopo_space_get_iotlb_entry(m.dma, 0x2345, true, 0, &e), -EACCES);
	KUNIT_EXPECT_EQ(test, memtopo_space_get_iotlb_entry(m.dma, 0x9000, false, 0, &e), -ENOENT);
	/* no IOMMU on the way: the space itself, one page */
	KUNIT_EXPECT_EQ(test, memtopo_space_get_iotlb_entry(m.sys_as, 0x100123, true, 0, &e), 0);
	KUNIT_EXPECT_PTR_EQ(test, e.target_as, m.sys_as);
	KUNIT_EXPECT_EQ(test, e.iova, 0x100000ULL);
	KUNIT_EXPECT_EQ(test, e.addr_mask, 0xfffULL);
	rcu_read_unlock();

	/* mapped to an address where nothing is: unassigned too */
	KUNIT_ASSERT_EQ(test, memtopo_iommu_map(m.mmu, 0x10000, 0x1000, m.sys_as, 0x900000,
						MEMTOPO_IOMMU_RW), 0);
	MT_EXPECT_XL(test, m.dma, 0x10000, 1, false, -ENOENT, NULL, 0, 0);
}

/* Every refusal changes nothing: iommufd's map / unmap errnos. */
static void mt_iommu_map_errors_test(struct kunit *test)
{
	struct memtopo_region *io;
	struct mt_imap m;

	mt_imap_build(test, &m);
	io = mt_region(test, MEMTOPO_IO, "io", 0x1000);
	KUNIT_ASSERT_EQ(test, memtopo_iommu_map(m.mmu, 0x4000, 0x4000, m.sys_as, 0x100000,
						MEMTOPO_IOMMU_RW), 0);
	/* not an IOMMU, bad alignment, size, permissions, target */
	KUNIT_EXPECT_EQ(test, memtopo_iommu_map(io, 0, 0x1000, m.sys_as, 0, 1), -EINVAL);
	KUNIT_EXPECT_EQ(test, memtopo_iommu_map(m.mmu, 0x10800, 0x1000, m.sys_as, 0, 1), -EINVAL);
	KUNIT_EXPECT_EQ(test, memtopo_iommu_map(m.mmu, 0x10000, 0x800, m.sys_as, 0, 1), -EINVAL);
	KUNIT_EXPECT_EQ(test, memtopo_iommu_map(m.mmu, 0x10000, 0, m.sys_as, 0, 1), -EINVAL);
	KUNIT_EXPECT_EQ(test, memtopo_iommu_map(m.mmu, 0x10000, 0x1000, m.sys_as, 0x10, 1),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, memtopo_iommu_map(m.mmu, 0x10000, 0x1000, m.sys_as, 0, 0), -EINVAL);
	KUNIT_EXPECT_EQ(test, memtopo_iommu_map(m.mmu, 0x10000, 0x1000, m.sys_as, 0, 4), -EINVAL);
	KUNIT_EXPECT_EQ(test, memtopo_iommu_map(m.mmu, 0x10000, 0x1000, NULL, 0, 1), -EINVAL);
	/* past 2^64, in either space */
	KUNIT_EXPECT_EQ(test, memtopo_iommu_map(m.mmu, 0xfffffffffffff000ULL, 0x2000, m.sys_as, 0,
						1), -EOVERFLOW);
	KUNIT_EXPECT_EQ(test, memtopo_iommu_map(m.mmu, 0x10000, 0x2000, m.sys_as,
						0xfffffffffffff000ULL, 1), -EOVERFLOW);
	/* any overlap, at either end or inside */
	KUNIT_EXPECT_EQ(test, memtopo_iommu_map(m.mmu, 0x3000, 0x2000, m.sys_as, 0, 1), -EEXIST);
	KUNIT_EXPECT_EQ(test, memtopo_iommu_map(m.mmu, 0x7000, 0x2000, m.sys_as, 0, 1), -EEXIST);
	KUNIT_EXPECT_EQ(test, memtopo_iommu_map(m.mmu, 0x5000, 0x1000, m.sys_as, 0, 1), -EEXIST);
	KUNIT_EXPECT_EQ(test, memtopo_iommu_map(m.mmu, 0x0, 0x10000, m.sys_as, 0, 1), -EEXIST);
	/* nothing of the refused maps went in: their pages stay unassigned */
	MT_EXPECT_XL(test, m.dma, 0x3000, 1, false, -ENOENT, NULL, 0, 0);
	MT_EXPECT_XL(test, m.dma, 0x8000, 1, false, -ENOENT, NULL, 0, 0);
	MT_EXPECT_XL(test, m.dma, 0x10000, 1, false, -ENOENT, NULL, 0, 0);
	MT_EXPECT_XL(test, m.dma, 0x4000, 0x4000, true, 0, "ram", 0x100000, 0x4000);

	/* unmap: a hole anywhere in the range refuses all of it */
	KUNIT_EXPECT_EQ(test, memtopo_iommu_unmap(m.mmu, 0x3000, 0x2000), -ENOENT);
	KUNIT_EXPECT_EQ(test, memtopo_iommu_unmap(m.mmu, 0x7000, 0x2000), -ENOENT);
	KUNIT_EXPECT_EQ(test, memtopo_iommu_unmap(m.mmu, 0x20000, 0x1000), -ENOENT);
	KUNIT_EXPECT_EQ(test, memtopo_iommu_unmap(m.mmu, 0x4800, 0x1000), -EINVAL);
	KUNIT_EXPECT_EQ(test, memtopo_iommu_unmap(m.mmu, 0x4000, 0), -EINVAL);
	KUNIT_EXPECT_EQ(test, memtopo_iommu_unmap(io, 0x0, 0x1000), -EINVAL);
	KUNIT_EXPECT_EQ(test, memtopo_iommu_unmap(m.mmu, 0xfffffffffffff000ULL, 0x2000),
			-EOVERFLOW);
	MT_EXPECT_XL(test, m.dma, 0x4000, 0x4000, true, 0, "ram", 0x100000, 0x4000);

	/* a second mapping right after; unmap across both, cutting each */
	KUNIT_ASSERT_EQ(test, memtopo_iommu_map(m.mmu, 0x8000, 0x2000, m.sys_as, 0x120000,
						MEMTOPO_IOMMU_RO), 0);
	KUNIT_EXPECT_EQ(test, memtopo_iommu_unmap(m.mmu, 0x7000, 0x2000), 0);
	MT_EXPECT_XL(test, m.dma, 0x6000, 0x4000, true, 0, "ram", 0x102000, 0x1000);
	MT_EXPECT_XL(test, m.dma, 0x7000, 1, false, -ENOENT, NULL, 0, 0);
	MT_EXPECT_XL(test, m.dma, 0x8000, 1, false, -ENOENT, NULL, 0, 0);
	MT_EXPECT_XL(test, m.dma, 0x9000, 1, false, 0, "ram", 0x121000, 1);
	/* the middle of one mapping: both ends stay */
	KUNIT_EXPECT_EQ(test, memtopo_iommu_unmap(m.mmu, 0x5000, 0x1000), 0);
	MT_EXPECT_XL(test, m.dma, 0x4000, 0x4000, false, 0, "ram", 0x100000, 0x1000);
	MT_EXPECT_XL(test, m.dma, 0x5000, 1, false, -ENOENT, NULL, 0, 0);
	MT_EXPECT_XL(test, m.dma, 0x6000, 1, false, 0, "ram", 0x102000, 1);
	/* the freed IOVA maps again */
	KUNIT_EXPECT_EQ(test, memtopo_iommu_map(m.mmu, 0x5000, 0x1000, m.sys_as, 0x130000,
						MEMTOPO_IOMMU_WO), 0);
	MT_EXPECT_XL(test, m.dma, 0x5000, 8, true, 0, "ram", 0x130000, 8);
	MT_EXPECT_XL(test, m.dma, 0x5000, 8, false, -EACCES, NULL, 0, 0);
}

/* A notifier that records every entry it hears, and what translation saw then. */
#define MT_INOTE_MAX	16

struct mt_ient {
	u8 who;
	u64 iova;
	u64 mask;
	u64 taddr;
	unsigned int perm;
	bool visible;		/* the IOVA translated while notified */
};

struct mt_ilog {
	unsigned int n;
	struct mt_ient e[MT_INOTE_MAX];
};

struct mt_inote {
	struct memtopo_iommu_notifier n;
	struct mt_ilog *log;
	struct memtopo_space *dma;
	u8 who;
};

static void mt_inote_notify(struct memtopo_iommu_notifier *n, const struct memtopo_iotlb_entry *e)
{
	struct mt_inote *r = container_of(n, struct mt_inote, n);
	struct mt_ient *x;
	struct memtopo_iotlb_entry tmp;

	if (r->log->n == MT_INOTE_MAX)
		return;
	x = &r->log->e[r->log->n++];
	x->who = r->who;
	x->iova = e->iova;
	x->mask = e->addr_mask;
	x->taddr = e->translated_addr;
	x->perm = e->perm;
	rcu_read_lock();
	x->visible = r->dma && !memtopo_space_get_iotlb_entry(r->dma, e->iova, false, 0, &tmp);
	rcu_read_unlock();
}

static void mt_inote_init(struct mt_inote *r, struct mt_ilog *log, u8 who, unsigned int flags,
			  u64 start, u64 end, struct memtopo_space *dma)
{
	memset(r, 0, sizeof(*r));
	r->n.notify = mt_inote_notify;
	r->n.flags = flags;
	r->n.start = start;
	r->n.end = end;
	r->log = log;
	r->who = who;
	r->dma = dma;
}

static void mt_expect_ilog(struct kunit *test, struct mt_ilog *log, const struct mt_ient *exp,
			   unsigned int n, int line)
{
	unsigned int i;

	KUNIT_EXPECT_EQ_MSG(test, log->n, n, "line %d: calls", line);
	for (i = 0; i < min(n, log->n); i++) {
		const struct mt_ient *a = &log->e[i], *b = &exp[i];

		KUNIT_EXPECT_TRUE_MSG(test, a->who == b->who && a->iova == b->iova &&
				      a->mask == b->mask && a->taddr == b->taddr &&
				      a->perm == b->perm && a->visible == b->visible,
				      "line %d call %u: got who %u iova %llx mask %llx to %llx perm %u visible %d, want who %u iova %llx mask %llx to %llx perm %u visible %d",
				      line, i, a->who, a->iova, a->mask, a->taddr, a->perm,
				      a->visible, b->who, b->iova, b->mask, b->taddr, b->perm,
				      b->visible);
	}
	log->n = 0;
}

#define MT_EXPECT_ILOG(test, log, ...)						\
	do {									\
		static const struct mt_ient __exp[] = { __VA_ARGS__ };		\
										\
		mt_expect_ilog(test, log, __exp, ARRAY_SIZE(__exp), __LINE__);	\
	} while (0)
#define MT_EXPECT_NO_NOTES(test, log) mt_expect_ilog(test, log, NULL, 0, __LINE__)

#define MT_MAP	MEMTOPO_IOMMU_NOTIFIER_MAP
#define MT_UNMAP	MEMTOPO_IOMMU_NOTIFIER_UNMAP
#define MT_DEV	MEMTOPO_IOMMU_NOTIFIER_DEVIOTLB_UNMAP

/*
 * memory_region_notify_iommu(): notifiers in registration order, each
 * filtered by range and flags (memory_region_notify_iommu_one()); a MAP is
 * told once it translates, an UNMAP while it still does.
 */
static void mt_iommu_notifier_test(struct kunit *test)
{
	struct mt_ilog *log = kunit_kzalloc(test, sizeof(*log), GFP_KERNEL);
	struct mt_inote *r = kunit_kcalloc(test, 4, sizeof(*r), GFP_KERNEL);
	struct memtopo_iotlb_event ev = {};
	struct mt_imap m;
	unsigned int i;

	KUNIT_ASSERT_NOT_NULL(test, log);
	KUNIT_ASSERT_NOT_NULL(test, r);
	mt_imap_build(test, &m);
	mt_inote_init(&r[0], log, 0, MT_MAP | MT_UNMAP, 0, 0x1fff, m.dma);
	mt_inote_init(&r[1], log, 1, MT_MAP, 0x2000, U64_MAX, m.dma);
	mt_inote_init(&r[2], log, 2, MT_DEV, 0x1000, 0x2fff, m.dma);
	/* an unknown table index, flags, range: refused */
	mt_inote_init(&r[3], log, 3, MT_MAP, 0, U64_MAX, NULL);
	r[3].n.iommu_idx = 1;
	KUNIT_EXPECT_EQ(test, memtopo_iommu_register_notifier(m.mmu, &r[3].n, false), -EINVAL);
	r[3].n.iommu_idx = 0;
	r[3].n.flags = 0;
	KUNIT_EXPECT_EQ(test, memtopo_iommu_register_notifier(m.mmu, &r[3].n, false), -EINVAL);
	r[3].n.flags = BIT(5);
	KUNIT_EXPECT_EQ(test, memtopo_iommu_register_notifier(m.mmu, &r[3].n, false), -EINVAL);
	r[3].n.flags = MT_MAP;
	r[3].n.start = 2;
	r[3].n.end = 1;
	KUNIT_EXPECT_EQ(test, memtopo_iommu_register_notifier(m.mmu, &r[3].n, false), -EINVAL);
	KUNIT_EXPECT_EQ(test, memtopo_iommu_register_notifier(m.ram, &r[0].n, false), -EINVAL);
	for (i = 0; i < 3; i++)
		KUNIT_ASSERT_EQ(test, memtopo_iommu_register_notifier(m.mmu, &r[i].n, false), 0);
	KUNIT_EXPECT_EQ(test, memtopo_iommu_register_notifier(m.mmu, &r[0].n, false), -EBUSY);

	/* 16 KiB at 0 -> 0x100000: one entry, cut at notifier 0's end */
	KUNIT_ASSERT_EQ(test, memtopo_iommu_map(m.mmu, 0, 0x4000, m.sys_as, 0x100000,
						MEMTOPO_IOMMU_RW), 0);
	MT_EXPECT_ILOG(test, log,
		       { 0, 0x0, 0x1fff, 0x100000, MEMTOPO_IOMMU_RW, true },
		       { 1, 0x2000, 0x1fff, 0x102000, MEMTOPO_IOMMU_RW, true });
	/* a refused map tells nobody */
	KUNIT_EXPECT_EQ(test, memtopo_iommu_map(m.mmu, 0x3000, 0x2000, m.sys_as, 0, 1), -EEXIST);
	MT_EXPECT_NO_NOTES(test, log);
	/* unmapping the second page: UNMAP while it still translates; 1 wants no UNMAP */
	KUNIT_ASSERT_EQ(test, memtopo_iommu_unmap(m.mmu, 0x1000, 0x1000), 0);
	MT_EXPECT_ILOG(test, log, { 0, 0x1000, 0xfff, 0x101000, MEMTOPO_IOMMU_NONE, true });
	MT_EXPECT_XL(test, m.dma, 0x1000, 1, false, -ENOENT, NULL, 0, 0);
	/* a refused unmap tells nobody */
	KUNIT_EXPECT_EQ(test, memtopo_iommu_unmap(m.mmu, 0, 0x2000), -ENOENT);
	MT_EXPECT_NO_NOTES(test, log);
	/* 5 pages at 0x5000 -> 0x105000: blocks 0x5000, 0x6000-0x7fff, 0x8000-0x9fff */
	KUNIT_ASSERT_EQ(test, memtopo_iommu_map(m.mmu, 0x5000, 0x5000, m.sys_as, 0x105000,
						MEMTOPO_IOMMU_RO), 0);
	MT_EXPECT_ILOG(test, log,
		       { 1, 0x5000, 0xfff, 0x105000, MEMTOPO_IOMMU_RO, true },
		       { 1, 0x6000, 0x1fff, 0x106000, MEMTOPO_IOMMU_RO, true },
		       { 1, 0x8000, 0x1fff, 0x108000, MEMTOPO_IOMMU_RO, true });
	/*
	 * A device-IOTLB invalidation (what an IOMMU with ops sends): only the
	 * DEVIOTLB_UNMAP notifier hears it, cropped to its range.
	 */
	ev.type = MT_DEV;
	ev.entry.iova = 0;
	ev.entry.addr_mask = 0xffff;
	memtopo_ctx_lock(mt_ctx(test));
	memtopo_iommu_notify_locked(m.mmu, 0, &ev);
	/* another table index reaches nobody */
	memtopo_iommu_notify_locked(m.mmu, 1, &ev);
	memtopo_ctx_unlock(mt_ctx(test));
	MT_EXPECT_ILOG(test, log, { 2, 0x1000, 0x1fff, 0x1000, MEMTOPO_IOMMU_NONE, false });

	/* unregistered: hears nothing more */
	memtopo_iommu_unregister_notifier(&r[1].n);
	KUNIT_ASSERT_EQ(test, memtopo_iommu_unmap(m.mmu, 0x8000, 0x2000), 0);
	MT_EXPECT_NO_NOTES(test, log);
	memtopo_iommu_unregister_notifier(&r[0].n);
	memtopo_iommu_unregister_notifier(&r[2].n);
}

/* memory_region_iommu_replay(): the table's mappings in the notifier's range. */
static void mt_iommu_replay_test(struct kunit *test)
{
	struct mt_ilog *log = kunit_kzalloc(test, sizeof(*log), GFP_KERNEL);
	struct mt_inote *r = kunit_kcalloc(test, 2, sizeof(*r), GFP_KERNEL);
	struct mt_imap m;

	KUNIT_ASSERT_NOT_NULL(test, log);
	KUNIT_ASSERT_NOT_NULL(test, r);
	mt_imap_build(test, &m);
	KUNIT_ASSERT_EQ(test, memtopo_iommu_map(m.mmu, 0x0, 0x2000, m.sys_as, 0x110000,
						MEMTOPO_IOMMU_RW), 0);
	KUNIT_ASSERT_EQ(test, memtopo_iommu_map(m.mmu, 0x10000, 0x3000, m.sys_as, 0x120000,
						MEMTOPO_IOMMU_RO), 0);
	KUNIT_ASSERT_EQ(test, memtopo_iommu_map(m.mmu, 0x40000, 0x1000, m.sys_as, 0x130000,
						MEMTOPO_IOMMU_WO), 0);
	/* range 0x1000-0x11fff: the tail of the first, the head of the second */
	mt_inote_init(&r[0], log, 0, MT_MAP | MT_UNMAP, 0x1000, 0x11fff, m.dma);
	KUNIT_ASSERT_EQ(test, memtopo_iommu_register_notifier(m.mmu, &r[0].n, true), 0);
	MT_EXPECT_ILOG(test, log,
		       { 0, 0x1000, 0xfff, 0x111000, MEMTOPO_IOMMU_RW, true },
		       { 0, 0x10000, 0x1fff, 0x120000, MEMTOPO_IOMMU_RO, true });
	/* without replay: nothing until a change */
	mt_inote_init(&r[1], log, 1, MT_MAP, 0, U64_MAX, m.dma);
	KUNIT_ASSERT_EQ(test, memtopo_iommu_register_notifier(m.mmu, &r[1].n, false), 0);
	MT_EXPECT_NO_NOTES(test, log);
	/* an explicit replay reaches only the notifier it names */
	memtopo_ctx_lock(mt_ctx(test));
	KUNIT_EXPECT_EQ(test, memtopo_iommu_replay_locked(m.mmu, &r[1].n), 0);
	KUNIT_EXPECT_EQ(test, memtopo_iommu_replay_locked(m.ram, &r[1].n), -EINVAL);
	memtopo_ctx_unlock(mt_ctx(test));
	MT_EXPECT_ILOG(test, log,
		       { 1, 0x0, 0x1fff, 0x110000, MEMTOPO_IOMMU_RW, true },
		       { 1, 0x10000, 0x1fff, 0x120000, MEMTOPO_IOMMU_RO, true },
		       { 1, 0x12000, 0xfff, 0x122000, MEMTOPO_IOMMU_RO, true },
		       /* write-only: the recorder's read translation fails */
		       { 1, 0x40000, 0xfff, 0x130000, MEMTOPO_IOMMU_WO, false });
	memtopo_iommu_unregister_notifier(&r[0].n);
	memtopo_iommu_unregister_notifier(&r[1].n);
}

/*
 * memory_region_iommu_replay() tells what translates: a mapping into a
 * destroyed space translates nothing (address_space_translate_iommu()
 * finds no target), so a replay skips it rather than tell a MAP without a
 * target; unmapping it is still told, as the table still holds it.
 */
static void mt_iommu_replay_gone_test(struct kunit *test)
{
	struct mt_ilog *log = kunit_kzalloc(test, sizeof(*log), GFP_KERNEL);
	struct mt_inote *r = kunit_kzalloc(test, sizeof(*r), GFP_KERNEL);
	struct memtopo_space *gone;
	struct mt_imap m;

	KUNIT_ASSERT_NOT_NULL(test, log);
	KUNIT_ASSERT_NOT_NULL(test, r);
	mt_imap_build(test, &m);
	gone = mt_space(test, "gone", mt_region64(test, MEMTOPO_CONTAINER, "gone-root"));
	KUNIT_ASSERT_EQ(test, memtopo_iommu_map(m.mmu, 0x0, 0x1000, m.sys_as, 0x110000,
						MEMTOPO_IOMMU_RW), 0);
	KUNIT_ASSERT_EQ(test, memtopo_iommu_map(m.mmu, 0x1000, 0x1000, gone, 0x0,
						MEMTOPO_IOMMU_RW), 0);
	KUNIT_ASSERT_EQ(test, memtopo_space_destroy(gone), 0);
	mt_inote_init(r, log, 0, MT_MAP | MT_UNMAP, 0, U64_MAX, m.dma);
	KUNIT_ASSERT_EQ(test, memtopo_iommu_register_notifier(m.mmu, &r->n, true), 0);
	MT_EXPECT_ILOG(test, log, { 0, 0x0, 0xfff, 0x110000, MEMTOPO_IOMMU_RW, true });
	KUNIT_EXPECT_EQ(test, memtopo_iommu_unmap(m.mmu, 0x1000, 0x1000), 0);
	MT_EXPECT_ILOG(test, log, { 0, 0x1000, 0xfff, 0x0, MEMTOPO_IOMMU_NONE, false });
	memtopo_iommu_unregister_notifier(&r->n);
}

/*
 * An IOMMU from kernel ops: two translation tables chosen by attrs, 64 KiB
 * entries at IOVA + 0x100000, table 1 read-only, a hole at IOVA
 * 0x20000-0x2ffff.
 */
struct mt_ops_iommu {
	struct memtopo_space *target;
	unsigned int flag_changes;
	unsigned int old_flags, new_flags;
	unsigned int translations;
};

static void mt_ops_translate(struct memtopo_region *iommu, u64 addr, unsigned int flag,
			     int idx, struct memtopo_iotlb_entry *out)
{
	struct mt_ops_iommu *o = memtopo_iommu_opaque(iommu);

	o->translations++;
	if ((addr & ~0xffffULL) == 0x20000)
		return;
	out->target_as = o->target;
	out->iova = addr & ~0xffffULL;
	out->addr_mask = 0xffff;
	out->translated_addr = out->iova + MT_RAM_BASE;
	out->perm = idx ? MEMTOPO_IOMMU_RO : MEMTOPO_IOMMU_RW;
}

static int mt_ops_num_indexes(struct memtopo_region *iommu)
{
	return 2;
}

static int mt_ops_attrs_to_index(struct memtopo_region *iommu, u32 attrs)
{
	return attrs & 1;
}

static int mt_ops_flag_changed(struct memtopo_region *iommu, unsigned int old, unsigned int new)
{
	struct mt_ops_iommu *o = memtopo_iommu_opaque(iommu);

	/* refuses DEVIOTLB notifiers, as a vIOMMU without ATS would */
	if (new & MT_DEV)
		return -EINVAL;
	o->flag_changes++;
	o->old_flags = old;
	o->new_flags = new;
	return 0;
}

static const struct memtopo_iommu_ops mt_ops = {
	.translate = mt_ops_translate,
	.num_indexes = mt_ops_num_indexes,
	.attrs_to_index = mt_ops_attrs_to_index,
	.notify_flag_changed = mt_ops_flag_changed,
};

static void mt_iommu_ops_test(struct kunit *test)
{
	struct mt_ops_iommu *o = kunit_kzalloc(test, sizeof(*o), GFP_KERNEL);
	struct mt_ilog *log = kunit_kzalloc(test, sizeof(*log), GFP_KERNEL);
	struct mt_inote *r = kunit_kcalloc(test, 2, sizeof(*r), GFP_KERNEL);
	struct memtopo_region_info info = {
		.kind = MEMTOPO_IOMMU, .name = "vtd", .size = 0x40000,
	};
	static const struct memtopo_iommu_ops no_translate = {};
	struct memtopo_iotlb_entry e;
	struct memtopo_space *dma;
	struct memtopo_region *mmu;
	struct mt_imap m;

	KUNIT_ASSERT_NOT_NULL(test, o);
	KUNIT_ASSERT_NOT_NULL(test, log);
	KUNIT_ASSERT_NOT_NULL(test, r);
	mt_imap_build(test, &m);
	o->target = m.sys_as;
	info.opaque = o;
	/* a translate op is required; the kind must be an IOMMU */
	KUNIT_EXPECT_EQ(test, PTR_ERR(memtopo_iommu_region_create(mt_ctx(test), &info,
								  &no_translate)), -EINVAL);
	info.kind = MEMTOPO_IO;
	KUNIT_EXPECT_EQ(test, PTR_ERR(memtopo_iommu_region_create(mt_ctx(test), &info, &mt_ops)),
			-EINVAL);
	info.kind = MEMTOPO_IOMMU;
	mmu = memtopo_iommu_region_create(mt_ctx(test), &info, &mt_ops);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, mmu);
	dma = mt_space(test, "vdma", mmu);
	KUNIT_EXPECT_EQ(test, memtopo_iommu_num_indexes(mmu), 2);
	KUNIT_EXPECT_EQ(test, memtopo_iommu_num_indexes(m.mmu), 1);
	KUNIT_EXPECT_EQ(test, memtopo_iommu_attrs_to_index(mmu, 3), 1);
	KUNIT_EXPECT_EQ(test, memtopo_iommu_num_indexes(m.ram), -EINVAL);
	/* its table is the ops': map / unmap are refused */
	KUNIT_EXPECT_EQ(test, memtopo_iommu_map(mmu, 0, 0x1000, m.sys_as, 0, 1), -EINVAL);
	KUNIT_EXPECT_EQ(test, memtopo_iommu_unmap(mmu, 0, 0x1000), -EINVAL);

	/* translate: IOVA 0x12345 -> 0x112345 in a 64 KiB entry */
	MT_EXPECT_XL(test, dma, 0x12345, 0x20000, true, 0, "ram", 0x112345, 0x10000 - 0x2345);
	MT_EXPECT_XL(test, dma, 0x20000, 1, false, -ENOENT, NULL, 0, 0);
	/* beyond the region: the view has nothing there */
	MT_EXPECT_XL(test, dma, 0x40000, 1, false, -ENOENT, NULL, 0, 0);
	rcu_read_lock();
	/* attrs pick table 1: read-only */
	KUNIT_EXPECT_EQ(test, memtopo_space_get_iotlb_entry(dma, 0x1000, true, 1, &e), -EACCES);
	KUNIT_EXPECT_EQ(test, memtopo_space_get_iotlb_entry(dma, 0x1000, false, 1, &e), 0);
	KUNIT_EXPECT_EQ(test, e.perm, (unsigned int)MEMTOPO_IOMMU_RO);
	KUNIT_EXPECT_EQ(test, e.addr_mask, 0xffffULL);
	KUNIT_EXPECT_EQ(test, e.translated_addr, 0x100000ULL);
	rcu_read_unlock();

	/* notify_flag_changed hears the union and may refuse */
	mt_inote_init(&r[0], log, 0, MT_DEV, 0, U64_MAX, NULL);
	KUNIT_EXPECT_EQ(test, memtopo_iommu_register_notifier(mmu, &r[0].n, false), -EINVAL);
	KUNIT_EXPECT_EQ(test, o->flag_changes, 0U);
	/* default replay: each 64 KiB entry once, the hole (no block named) a page at a time */
	mt_inote_init(&r[0], log, 0, MT_MAP, 0, U64_MAX, NULL);
	KUNIT_ASSERT_EQ(test, memtopo_iommu_register_notifier(mmu, &r[0].n, true), 0);
	KUNIT_EXPECT_EQ(test, o->flag_changes, 1U);
	KUNIT_EXPECT_EQ(test, o->old_flags, 0U);
	KUNIT_EXPECT_EQ(test, o->new_flags, (unsigned int)MT_MAP);
	MT_EXPECT_ILOG(test, log,
		       { 0, 0x00000, 0xffff, 0x100000, MEMTOPO_IOMMU_RW, false },
		       { 0, 0x10000, 0xffff, 0x110000, MEMTOPO_IOMMU_RW, false },
		       { 0, 0x30000, 0xffff, 0x130000, MEMTOPO_IOMMU_RW, false });
	/* the table-1 notifier: replay translates with its index */
	mt_inote_init(&r[1], log, 1, MT_MAP | MT_UNMAP, 0x30000, 0x3ffff, NULL);
	r[1].n.iommu_idx = 1;
	KUNIT_ASSERT_EQ(test, memtopo_iommu_register_notifier(mmu, &r[1].n, true), 0);
	KUNIT_EXPECT_EQ(test, o->new_flags, (unsigned int)(MT_MAP | MT_UNMAP));
	MT_EXPECT_ILOG(test, log, { 1, 0x30000, 0xffff, 0x130000, MEMTOPO_IOMMU_RO, false });
	memtopo_iommu_unregister_notifier(&r[1].n);
	KUNIT_EXPECT_EQ(test, o->old_flags, (unsigned int)(MT_MAP | MT_UNMAP));
	KUNIT_EXPECT_EQ(test, o->new_flags, (unsigned int)MT_MAP);
	memtopo_iommu_unregister_notifier(&r[0].n);
	KUNIT_EXPECT_EQ(test, o->new_flags, 0U);
	KUNIT_ASSERT_EQ(test, memtopo_space_destroy(dma), 0);
	memtopo_dispatch_sync();
}

/*
 * An identity IOMMU over 2^64 as a 4-level page table would answer: 1 GiB
 * entries below 1 TiB, and above it misses that name the empty block they
 * fall in, [2^k, 2^(k+1)) for the top bit k of the address.
 */
#define MT_ID_MAPPED	BIT_ULL(40)
#define MT_ID_BLOCK	(BIT_ULL(30) - 1)

struct mt_idmap {
	struct memtopo_iommu_notifier n;
	struct memtopo_space *target;
	unsigned int translations;
	unsigned int maps;
	u64 next;		/* the IOVA the next MAP must start at */
	bool bad;
};

static void mt_idmap_translate(struct memtopo_region *iommu, u64 addr, unsigned int flag,
			       int idx, struct memtopo_iotlb_entry *out)
{
	struct mt_idmap *o = memtopo_iommu_opaque(iommu);

	o->translations++;
	if (addr >= MT_ID_MAPPED) {
		out->addr_mask = BIT_ULL(fls64(addr) - 1) - 1;
		return;
	}
	out->target_as = o->target;
	out->iova = addr & ~MT_ID_BLOCK;
	out->addr_mask = MT_ID_BLOCK;
	out->translated_addr = out->iova;
	out->perm = MEMTOPO_IOMMU_RW;
}

static void mt_idmap_notify(struct memtopo_iommu_notifier *n, const struct memtopo_iotlb_entry *e)
{
	struct mt_idmap *o = container_of(n, struct mt_idmap, n);

	/* one whole entry each, in IOVA order, none left out */
	if (e->iova != o->next || e->addr_mask != MT_ID_BLOCK || e->translated_addr != e->iova)
		o->bad = true;
	o->next = e->iova + MT_ID_BLOCK + 1;
	o->maps++;
}

static const struct memtopo_iommu_ops mt_idmap_ops = { .translate = mt_idmap_translate };

/*
 * memory_region_iommu_replay() translates every granule; the default
 * replay steps by what each translation covers instead, so 2^64 of which 1
 * TiB is mapped replays in one translation per 1 GiB entry and one per
 * empty block above: 1024 + 24, where granule steps would give up.
 */
static void mt_iommu_replay_blocks_test(struct kunit *test)
{
	struct mt_idmap *o = kunit_kzalloc(test, sizeof(*o), GFP_KERNEL);
	struct memtopo_region_info info = {
		.kind = MEMTOPO_IOMMU, .name = "idmap", .size_is_2_64 = true,
	};
	struct memtopo_region *mmu;
	struct mt_imap m;

	KUNIT_ASSERT_NOT_NULL(test, o);
	mt_imap_build(test, &m);
	o->target = m.sys_as;
	info.opaque = o;
	mmu = memtopo_iommu_region_create(mt_ctx(test), &info, &mt_idmap_ops);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, mmu);
	o->n.notify = mt_idmap_notify;
	o->n.flags = MT_MAP;
	o->n.end = U64_MAX;
	KUNIT_ASSERT_EQ(test, memtopo_iommu_register_notifier(mmu, &o->n, true), 0);
	KUNIT_EXPECT_FALSE(test, o->bad);
	KUNIT_EXPECT_EQ(test, o->maps, 1024U);
	KUNIT_EXPECT_EQ(test, o->next, MT_ID_MAPPED);
	KUNIT_EXPECT_EQ(test, o->translations, 1024U + 64 - 40);
	memtopo_iommu_unregister_notifier(&o->n);

	/* a range ending at the mapped part: no translation past it */
	o->translations = 0;
	o->maps = 0;
	o->next = 0;
	o->n.end = MT_ID_MAPPED - 1;
	KUNIT_ASSERT_EQ(test, memtopo_iommu_register_notifier(mmu, &o->n, true), 0);
	KUNIT_EXPECT_FALSE(test, o->bad);
	KUNIT_EXPECT_EQ(test, o->maps, 1024U);
	KUNIT_EXPECT_EQ(test, o->translations, 1024U);
	memtopo_iommu_unregister_notifier(&o->n);
}

/* address_space_translate_iommu() loops: IOMMU -> space -> IOMMU -> RAM. */
static void mt_iommu_nested_test(struct kunit *test)
{
	struct memtopo_region *outer, *loop;
	struct memtopo_space *odma, *ldma;
	struct memtopo_iotlb_entry e;
	struct mt_imap m;
	u8 buf[8];

	mt_imap_build(test, &m);
	outer = mt_region64(test, MEMTOPO_IOMMU, "outer");
	odma = mt_space(test, "odma", outer);
	/* outer 0x7000 -> dma 0x3000 -> sys 0x101000 */
	KUNIT_ASSERT_EQ(test, memtopo_iommu_map(outer, 0x6000, 0x2000, m.dma, 0x2000,
						MEMTOPO_IOMMU_RW), 0);
	MT_EXPECT_XL(test, odma, 0x7000, 8, false, -ENOENT, NULL, 0, 0);
	KUNIT_ASSERT_EQ(test, memtopo_iommu_map(m.mmu, 0x2000, 0x4000, m.sys_as, 0x100000,
						MEMTOPO_IOMMU_RO), 0);
	MT_EXPECT_XL(test, odma, 0x7010, 0x100, false, 0, "ram", 0x101010, 0x100);
	/* the inner IOMMU is read-only */
	MT_EXPECT_XL(test, odma, 0x7010, 0x100, true, -EACCES, NULL, 0, 0);
	/* the entry is the intersection: outer 8 KiB at 0x6000, inner 8 KiB at 0x2000 */
	rcu_read_lock();
	KUNIT_EXPECT_EQ(test, memtopo_space_get_iotlb_entry(odma, 0x7010, false, 0, &e), 0);
	KUNIT_EXPECT_PTR_EQ(test, e.target_as, m.sys_as);
	KUNIT_EXPECT_EQ(test, e.iova, 0x6000ULL);
	KUNIT_EXPECT_EQ(test, e.addr_mask, 0x1fffULL);
	KUNIT_EXPECT_EQ(test, e.translated_addr, 0x100000ULL);
	KUNIT_EXPECT_EQ(test, e.perm, (unsigned int)MEMTOPO_IOMMU_RO);
	rcu_read_unlock();
	/* dispatch follows the same walk to the bytes */
	KUNIT_EXPECT_EQ(test, memtopo_space_read(odma, 0x7010, buf, sizeof(buf)), 0);
	KUNIT_EXPECT_EQ(test, memcmp(buf, m.buf + 0x1010, sizeof(buf)), 0);

	/* an IOMMU that maps into its own space loops: bounded, -ELOOP */
	loop = mt_region64(test, MEMTOPO_IOMMU, "loop");
	ldma = mt_space(test, "ldma", loop);
	KUNIT_ASSERT_EQ(test, memtopo_iommu_map(loop, 0, 0x1000, ldma, 0, MEMTOPO_IOMMU_RW), 0);
	MT_EXPECT_XL(test, ldma, 0x10, 1, false, -ELOOP, NULL, 0, 0);
	KUNIT_EXPECT_EQ(test, memtopo_space_read(ldma, 0x10, buf, 1), -ELOOP);
	/*
	 * A chain of exactly MEMTOPO_IOMMU_MAX_DEPTH IOMMUs (chain7 .. chain1,
	 * then mmu) still translates; one more is one too many.
	 */
	{
		struct memtopo_space *prev = m.dma;
		struct memtopo_region *mr;
		unsigned int i;
		char name[16];

		for (i = 1; i <= MEMTOPO_IOMMU_MAX_DEPTH; i++) {
			if (i == MEMTOPO_IOMMU_MAX_DEPTH)
				MT_EXPECT_XL(test, prev, 0x2000, 1, false, 0, "ram", 0x100000, 1);
			snprintf(name, sizeof(name), "chain%u", i);
			mr = mt_region64(test, MEMTOPO_IOMMU, name);
			KUNIT_ASSERT_EQ(test, memtopo_iommu_map(mr, 0x2000, 0x1000, prev, 0x2000,
								MEMTOPO_IOMMU_RW), 0);
			prev = mt_space(test, name, mr);
		}
		MT_EXPECT_XL(test, prev, 0x2000, 1, false, -ELOOP, NULL, 0, 0);
	}
}

/* memtopo_space_read/_write through an IOMMU: RAM only once mapped. */
static void mt_iommu_dispatch_test(struct kunit *test)
{
	struct mt_imap m;
	u8 out[0x30], in[0x30];
	unsigned int i;

	mt_imap_build(test, &m);
	KUNIT_EXPECT_EQ(test, memtopo_space_read(m.dma, 0x1ff0, out, sizeof(out)), -ENXIO);
	/* two pages going to two far-apart places, the read crossing between them */
	KUNIT_ASSERT_EQ(test, memtopo_iommu_map(m.mmu, 0x1000, 0x1000, m.sys_as, 0x130000,
						MEMTOPO_IOMMU_RW), 0);
	/* half mapped: refused as a whole before anything is copied */
	KUNIT_EXPECT_EQ(test, memtopo_space_read(m.dma, 0x1ff0, out, sizeof(out)), -ENXIO);
	KUNIT_ASSERT_EQ(test, memtopo_iommu_map(m.mmu, 0x2000, 0x1000, m.sys_as, 0x101000,
						MEMTOPO_IOMMU_RO), 0);
	KUNIT_ASSERT_EQ(test, memtopo_space_read(m.dma, 0x1ff0, out, sizeof(out)), 0);
	KUNIT_EXPECT_EQ(test, memcmp(out, m.buf + 0x30ff0, 0x10), 0);
	KUNIT_EXPECT_EQ(test, memcmp(out + 0x10, m.buf + 0x1000, 0x20), 0);
	/* a write across both: the second page is read-only, nothing is written */
	for (i = 0; i < sizeof(in); i++)
		in[i] = 0xa0 + i;
	KUNIT_EXPECT_EQ(test, memtopo_space_write(m.dma, 0x1ff0, in, sizeof(in)), -EACCES);
	KUNIT_EXPECT_EQ(test, memcmp(out, m.buf + 0x30ff0, 0x10), 0);
	KUNIT_EXPECT_EQ(test, memtopo_space_write(m.dma, 0x1fe0, in, 0x20), 0);
	KUNIT_EXPECT_EQ(test, memcmp(in, m.buf + 0x30fe0, 0x20), 0);
	/* unmapped again: unassigned again */
	KUNIT_ASSERT_EQ(test, memtopo_iommu_unmap(m.mmu, 0x1000, 0x2000), 0);
	KUNIT_EXPECT_EQ(test, memtopo_space_read(m.dma, 0x1ff0, out, 1), -ENXIO);
	/* a mapping whose target space is destroyed leads nowhere */
	{
		struct memtopo_region *c = mt_region64(test, MEMTOPO_CONTAINER, "c2");
		struct memtopo_space *as2 = mt_space(test, "s2", c);

		mt_add(test, c, 0, mt_alias64(test, "sys2", m.sys, 0), 0);
		KUNIT_ASSERT_EQ(test, memtopo_iommu_map(m.mmu, 0x5000, 0x1000, as2, 0x100000,
							MEMTOPO_IOMMU_RW), 0);
		KUNIT_EXPECT_EQ(test, memtopo_space_read(m.dma, 0x5000, out, 4), 0);
		KUNIT_ASSERT_EQ(test, memtopo_space_destroy(as2), 0);
		KUNIT_EXPECT_EQ(test, memtopo_space_read(m.dma, 0x5000, out, 4), -ENXIO);
		KUNIT_EXPECT_EQ(test, memtopo_iommu_unmap(m.mmu, 0x5000, 0x1000), 0);
	}
}

/* A listener taking emitted events, as a subscription does, with the notifier log's length. */
#define MT_IEV_MAX	16

struct mt_iev {
	char what;		/* b(egin), c(ommit), a(dd), d(el), e(vent) */
	u32 type;
	u64 start, last, iova, mask, taddr;
	unsigned int notes;	/* notifier calls before it */
};

struct mt_ievl {
	struct memtopo_listener l;
	struct mt_ilog *notes;
	unsigned int n;
	struct mt_iev r[MT_IEV_MAX];
};

static struct mt_iev *mt_iev_rec(void *priv, char what)
{
	struct mt_ievl *el = priv;
	struct mt_iev *r;

	if (el->n == MT_IEV_MAX)
		return NULL;
	r = &el->r[el->n++];
	memset(r, 0, sizeof(*r));
	r->what = what;
	r->notes = el->notes->n;
	return r;
}

static void mt_iev_begin(void *priv)
{
	mt_iev_rec(priv, 'b');
}

static void mt_iev_commit(void *priv)
{
	mt_iev_rec(priv, 'c');
}

static void mt_iev_section(void *priv, char what, const struct memtopo_section *s)
{
	struct mt_iev *r = mt_iev_rec(priv, what);

	if (r) {
		r->start = s->start;
		r->last = s->last;
	}
}

static void mt_iev_add(void *priv, const struct memtopo_section *s)
{
	mt_iev_section(priv, 'a', s);
}

static void mt_iev_del(void *priv, const struct memtopo_section *s)
{
	mt_iev_section(priv, 'd', s);
}

static void mt_iev_event(void *priv, const struct memtopo_event *ev)
{
	struct mt_iev *r = mt_iev_rec(priv, 'e');

	if (!r)
		return;
	r->type = ev->type;
	r->start = ev->start;
	r->last = ev->last;
	r->iova = ev->iommu.iova;
	r->mask = ev->iommu.addr_mask;
	r->taddr = ev->iommu.translated_addr;
}

static const struct memtopo_listener_ops mt_iev_ops = {
	.begin = mt_iev_begin,
	.commit = mt_iev_commit,
	.region_add = mt_iev_add,
	.region_del = mt_iev_del,
	.event = mt_iev_event,
};

static void mt_expect_iev(struct kunit *test, struct mt_ievl *el, const struct mt_iev *exp,
			  unsigned int n, int line)
{
	unsigned int i;

	KUNIT_EXPECT_EQ_MSG(test, el->n, n, "line %d: records", line);
	for (i = 0; i < min(n, el->n); i++) {
		const struct mt_iev *a = &el->r[i], *b = &exp[i];

		KUNIT_EXPECT_TRUE_MSG(test, a->what == b->what && a->type == b->type &&
				      a->start == b->start && a->last == b->last &&
				      a->iova == b->iova && a->mask == b->mask &&
				      a->taddr == b->taddr && a->notes == b->notes,
				      "line %d record %u: got %c type %u %llx-%llx iova %llx mask %llx to %llx after %u notes, want %c type %u %llx-%llx iova %llx mask %llx to %llx after %u notes",
				      line, i, a->what, a->type, a->start, a->last, a->iova,
				      a->mask, a->taddr, a->notes, b->what, b->type, b->start,
				      b->last, b->iova, b->mask, b->taddr, b->notes);
	}
	el->n = 0;
}

#define MT_EXPECT_IEV(test, el, ...)						\
	do {									\
		static const struct mt_iev __exp[] = { __VA_ARGS__ };		\
										\
		mt_expect_iev(test, el, __exp, ARRAY_SIZE(__exp), __LINE__);	\
	} while (0)

#define MT_EXPECT_NO_IEV(test, el) mt_expect_iev(test, el, NULL, 0, __LINE__)

#define MT_EV_MAP	MEMTOPO_EVENT_IOMMU_MAP
#define MT_EV_DEV	MEMTOPO_EVENT_IOMMU_DEVIOTLB_UNMAP

/*
 * Subscriptions hear an IOMMU as VFIO does behind a vIOMMU: a MAP | UNMAP
 * and a DEVIOTLB_UNMAP notifier on each IOMMU section.  Here the IOMMU
 * shows in space "bus" through a window of IOVAs 0x1000-0x2fff at 0x40000.
 */
static void mt_iommu_events_test(struct kunit *test)
{
	struct mt_ilog *log = kunit_kzalloc(test, sizeof(*log), GFP_KERNEL);
	struct mt_inote *dev = kunit_kzalloc(test, sizeof(*dev), GFP_KERNEL);
	struct mt_ievl *el = kunit_kzalloc(test, sizeof(*el), GFP_KERNEL);
	struct mt_ievl *late = kunit_kzalloc(test, sizeof(*late), GFP_KERNEL);
	struct memtopo_iotlb_event ev = { .type = MT_DEV };
	struct memtopo_region *bus, *win;
	struct memtopo_space *bus_as;
	struct mt_imap m;

	KUNIT_ASSERT_TRUE(test, log && dev && el && late);
	mt_imap_build(test, &m);
	bus = mt_region64(test, MEMTOPO_CONTAINER, "bus");
	win = mt_alias(test, "win", m.mmu, 0x1000, 0x2000);
	bus_as = mt_space(test, "bus", bus);
	el->l = (struct memtopo_listener){ .ops = &mt_iev_ops, .priv = el };
	el->notes = log;
	mt_listen(test, bus_as, &el->l);
	el->n = 0;

	/* the IOMMU shows nowhere in "bus": nothing is told there */
	KUNIT_ASSERT_EQ(test, memtopo_iommu_map(m.mmu, 0, 0x4000, m.sys_as, 0x100000,
						MEMTOPO_IOMMU_RW), 0);
	MT_EXPECT_NO_IEV(test, el);

	/*
	 * vfio_listener_region_add() registers its notifier on the section and
	 * calls memory_region_iommu_replay(): the mappings inside the range,
	 * cut to it, right after its region_add, in the commit.
	 */
	mt_add(test, bus, 0x40000, win, 0);
	MT_EXPECT_IEV(test, el,
		      { 'b' },
		      { 'a', 0, 0x40000, 0x41fff },
		      { 'e', MT_EV_MAP, 0x40000, 0x40fff, 0x1000, 0xfff, 0x101000 },
		      { 'e', MT_EV_MAP, 0x41000, 0x41fff, 0x2000, 0xfff, 0x102000 },
		      { 'c' });

	/*
	 * memory_region_notify_iommu(): the notifiers first, then the events;
	 * memory_region_notify_iommu_one() crops a device-IOTLB invalidation
	 * to the range rather than cutting it into blocks.
	 */
	mt_inote_init(dev, log, 0, MT_DEV, 0, U64_MAX, NULL);
	KUNIT_ASSERT_EQ(test, memtopo_iommu_register_notifier(m.mmu, &dev->n, false), 0);
	ev.entry.iova = 0;
	ev.entry.addr_mask = 0xffff;
	ev.entry.translated_addr = 0x700000;
	memtopo_ctx_lock(mt_ctx(test));
	memtopo_iommu_notify_locked(m.mmu, 0, &ev);
	memtopo_ctx_unlock(mt_ctx(test));
	MT_EXPECT_ILOG(test, log, { 0, 0x0, 0xffff, 0x700000, MEMTOPO_IOMMU_NONE, false });
	MT_EXPECT_IEV(test, el,
		      { 'e', MT_EV_DEV, 0x40000, 0x41fff, 0x1000, 0x1fff, 0x701000, 1 });
	memtopo_iommu_unregister_notifier(&dev->n);

	/* a subscription registering with replay: the mappings after the ranges */
	late->l = (struct memtopo_listener){ .ops = &mt_iev_ops, .priv = late };
	late->notes = log;
	mt_listen(test, bus_as, &late->l);
	MT_EXPECT_IEV(test, late,
		      { 'b' },
		      { 'a', 0, 0x40000, 0x41fff },
		      { 'e', MT_EV_MAP, 0x40000, 0x40fff, 0x1000, 0xfff, 0x101000 },
		      { 'e', MT_EV_MAP, 0x41000, 0x41fff, 0x2000, 0xfff, 0x102000 },
		      { 'c' });
	mt_unlisten(test, &late->l);

	/*
	 * vfio_listener_region_del() unregisters the notifier and unmaps the
	 * section itself: region_del and no UNMAP.
	 */
	KUNIT_ASSERT_EQ(test, memtopo_region_del_subregion(bus, win), 0);
	MT_EXPECT_IEV(test, el, { 'b' }, { 'd', 0, 0x40000, 0x41fff }, { 'c' });
	mt_unlisten(test, &el->l);
}

static void mt_count_range(const struct memtopo_section *s, void *opaque)
{
	(*(unsigned int *)opaque)++;
}

/* Entries the walk for the IOMMU's events looks at, and the ranges it finds. */
static u64 mt_mmu_walk(struct kunit *test, struct memtopo_space *as, struct memtopo_region *mmu,
		       u64 first, u64 last, unsigned int *found)
{
	u64 seen;

	*found = 0;
	memtopo_ctx_lock(mt_ctx(test));
	seen = memtopo_space_region_ranges_locked(as, mmu, first, last, mt_count_range, found);
	memtopo_ctx_unlock(mt_ctx(test));
	return seen;
}

#define MT_LEAVES	256

/*
 * An IOMMU shown only through aliases, as QEMU's PCI holes show the PCI
 * address space: its events reach each place an alias shows it
 * (memory_region_notify_iommu() to VFIO's notifier on each section), and
 * finding those places costs what the IOMMU occupies, not the map: the
 * reverse alias index leads from the IOMMU's container to its aliases.
 *   bus   container 2^64, space "bus", 256 RAM pages below 2 GiB
 *   pci   container 64 KiB holding mmu (not in bus)
 *   hole-lo  alias of pci 0-0xffff at 0x80000000
 *   hole-hi  alias of pci 0x8000-0xffff at 0x90000000
 */
static void mt_iommu_events_aliased_test(struct kunit *test)
{
	struct mt_ilog *log = kunit_kzalloc(test, sizeof(*log), GFP_KERNEL);
	struct mt_ievl *el = kunit_kzalloc(test, sizeof(*el), GFP_KERNEL);
	struct memtopo_region *bus, *pci, *lo, *hi, *hi2;
	struct memtopo_space *bus_as;
	unsigned int found, i;
	struct mt_imap m;

	KUNIT_ASSERT_TRUE(test, log && el);
	mt_imap_build(test, &m);
	bus = mt_region64(test, MEMTOPO_CONTAINER, "bus");
	memtopo_transaction_begin(mt_ctx(test));
	for (i = 0; i < MT_LEAVES; i++)
		mt_add(test, bus, i * 0x2000ULL, mt_region(test, MEMTOPO_RAM, "leaf", 0x1000), 0);
	pci = mt_region(test, MEMTOPO_CONTAINER, "pci", 0x10000);
	mt_add(test, pci, 0, m.mmu, 0);
	lo = mt_alias(test, "hole-lo", pci, 0, 0x10000);
	hi = mt_alias(test, "hole-hi", pci, 0x8000, 0x8000);
	mt_add(test, bus, 0x80000000, lo, 0);
	mt_add(test, bus, 0x90000000, hi, 0);
	KUNIT_ASSERT_EQ(test, memtopo_transaction_commit(mt_ctx(test)), 0);
	bus_as = mt_space(test, "bus", bus);
	el->l = (struct memtopo_listener){ .ops = &mt_iev_ops, .priv = el };
	el->notes = log;
	mt_listen(test, bus_as, &el->l);
	el->n = 0;

	/* the two places, each one entry: not the 2 * 256 + 2 of the view */
	KUNIT_EXPECT_LE(test, mt_mmu_walk(test, bus_as, m.mmu, 0, U64_MAX, &found), 4ULL);
	KUNIT_EXPECT_EQ(test, found, 2U);
	/* IOVAs below 0x8000 show only through hole-lo */
	KUNIT_EXPECT_LE(test, mt_mmu_walk(test, bus_as, m.mmu, 0x1000, 0x1fff, &found), 2ULL);
	KUNIT_EXPECT_EQ(test, found, 1U);

	KUNIT_ASSERT_EQ(test, memtopo_iommu_map(m.mmu, 0x9000, 0x1000, m.sys_as, 0x100000,
						MEMTOPO_IOMMU_RW), 0);
	MT_EXPECT_IEV(test, el,
		      { 'e', MT_EV_MAP, 0x80009000, 0x80009fff, 0x9000, 0xfff, 0x100000 },
		      { 'e', MT_EV_MAP, 0x90001000, 0x90001fff, 0x9000, 0xfff, 0x100000 });
	KUNIT_ASSERT_EQ(test, memtopo_iommu_map(m.mmu, 0x1000, 0x1000, m.sys_as, 0x101000,
						MEMTOPO_IOMMU_RW), 0);
	MT_EXPECT_IEV(test, el,
		      { 'e', MT_EV_MAP, 0x80001000, 0x80001fff, 0x1000, 0xfff, 0x101000 });

	/* the index follows aliases that go and come after it was built */
	KUNIT_ASSERT_EQ(test, memtopo_region_del_subregion(bus, hi), 0);
	KUNIT_ASSERT_EQ(test, memtopo_region_destroy(hi), 0);
	hi2 = mt_alias(test, "hole-hi2", pci, 0x9000, 0x1000);
	mt_add(test, bus, 0xa0000000, hi2, 0);
	el->n = 0;
	KUNIT_ASSERT_EQ(test, memtopo_iommu_unmap(m.mmu, 0x9000, 0x1000), 0);
	MT_EXPECT_IEV(test, el,
		      { 'e', MEMTOPO_EVENT_IOMMU_UNMAP, 0x80009000, 0x80009fff, 0x9000, 0xfff,
			0x100000 },
		      { 'e', MEMTOPO_EVENT_IOMMU_UNMAP, 0xa0000000, 0xa0000fff, 0x9000, 0xfff,
			0x100000 });
	KUNIT_EXPECT_LE(test, mt_mmu_walk(test, bus_as, m.mmu, 0, U64_MAX, &found), 4ULL);
	KUNIT_EXPECT_EQ(test, found, 2U);
	mt_unlisten(test, &el->l);
}

static struct kunit_case mt_iommu_cases[] = {
	KUNIT_CASE(mt_iommu_table_translate_test),
	KUNIT_CASE(mt_iommu_map_errors_test),
	KUNIT_CASE(mt_iommu_notifier_test),
	KUNIT_CASE(mt_iommu_replay_test),
	KUNIT_CASE(mt_iommu_replay_gone_test),
	KUNIT_CASE(mt_iommu_ops_test),
	KUNIT_CASE(mt_iommu_replay_blocks_test),
	KUNIT_CASE(mt_iommu_nested_test),
	KUNIT_CASE(mt_iommu_dispatch_test),
	KUNIT_CASE(mt_iommu_events_test),
	KUNIT_CASE(mt_iommu_events_aliased_test),
	{}
};

static struct kunit_suite mt_iommu_suite = {
	.name = "memtopo_iommu",
	.init = mt_fix_init,
	.exit = mt_fix_exit,
	.test_cases = mt_iommu_cases,
};

kunit_test_suite(mt_iommu_suite);
