// SPDX-License-Identifier: GPL-2.0
/*
 * kselftests of IOMMU regions through /dev/memtopo: a device's DMA space
 * rooted at a MEMTOPO_KIND_IOMMU region reaches RAM only where userspace
 * mapped it (MEMTOPO_IOMMU_MAP / _UNMAP, read back with MEMTOPO_IOMMU_GET),
 * with permissions, nested IOMMUs and the depth bound; and the errno of
 * every refusal, each leaving the table exactly as it was.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "../tools/memtopoctl/libmemtopo.c"

#define RAM_BASE	0x100000ULL
#define RAM_SIZE	0x10000ULL
#define PG		MEMTOPO_IOMMU_PAGE
#define RD		MEMTOPO_IOMMU_MAP_READ
#define WR		MEMTOPO_IOMMU_MAP_WRITE

static int i_ioctl(int fd, unsigned long req, void *arg)
{
	return ioctl(fd, req, arg) ? -errno : 0;
}

/* A region whose RAM the kernel owns, so MEMTOPO_SPACE_RW reaches its bytes. */
static int i_kram(int fd, const char *name, __u64 size, const void *image)
{
	struct memtopo_op op;
	int ret;

	mt_op_init(&op, MEMTOPO_OP_REGION_CREATE);
	op.kind = MEMTOPO_KIND_RAM;
	op.flags = MEMTOPO_OP_F_KERNEL_BACKING;
	op.length = size;
	op.value = (uintptr_t)image;
	snprintf(op.name, sizeof(op.name), "%s", name);
	ret = mt_op(fd, &op);
	return ret ? ret : (int)op.id;
}

static int i_rw(int fd, __u32 space, __u64 addr, void *buf, __u64 len, int write)
{
	return mt_space_rw(fd, space, addr, buf, len, write);
}

/* The table as text, to prove a refused call changed nothing. */
static char *i_table(int fd, __u32 region)
{
	struct memtopo_iommu_mapping *m = NULL;
	char *s = malloc(65536);
	size_t at = 0;
	__u32 n = 0, i;
	int ret;

	if (!s)
		return NULL;
	ret = mt_iommu_get(fd, region, &m, &n);
	at += snprintf(s + at, 65536 - at, "ret %d n %u:", ret, n);
	for (i = 0; i < n && at < 65000; i++)
		at += snprintf(s + at, 65536 - at, " %llx+%llx>%u:%llx/%u",
			       (unsigned long long)m[i].iova, (unsigned long long)m[i].length,
			       m[i].space, (unsigned long long)m[i].addr, m[i].flags);
	free(m);
	return s;
}

FIXTURE(iommu) {
	int fd, sys, ram, io, mmu, mem, dma;
	__u8 image[RAM_SIZE];
};

/*
 *   sys  container 2^64, space "mem": ram (kernel-owned) at RAM_BASE, io at 0
 *   mmu  IOMMU 2^64, the root of space "dma" (a device's view)
 */
FIXTURE_SETUP(iommu)
{
	unsigned int i;

	for (i = 0; i < RAM_SIZE; i++)
		self->image[i] = (__u8)(i * 13 + (i >> 12));
	self->fd = mt_open();
	ASSERT_LE(0, self->fd);
	self->sys = mt_region_create(self->fd, MEMTOPO_KIND_CONTAINER, "sys", 0,
				     MEMTOPO_OP_F_SIZE_2_64);
	ASSERT_LT(0, self->sys);
	self->ram = i_kram(self->fd, "ram", RAM_SIZE, self->image);
	ASSERT_LT(0, self->ram);
	self->io = mt_region_create(self->fd, MEMTOPO_KIND_IO, "io", 0x1000, 0);
	ASSERT_LT(0, self->io);
	ASSERT_EQ(0, mt_add_subregion(self->fd, self->sys, self->ram, RAM_BASE, 0));
	ASSERT_EQ(0, mt_add_subregion(self->fd, self->sys, self->io, 0, 0));
	self->mem = mt_space_create(self->fd, "mem", self->sys);
	ASSERT_LT(0, self->mem);
	self->mmu = mt_region_create(self->fd, MEMTOPO_KIND_IOMMU, "mmu", 0,
				     MEMTOPO_OP_F_SIZE_2_64);
	ASSERT_LT(0, self->mmu);
	self->dma = mt_space_create(self->fd, "dma", self->mmu);
	ASSERT_LT(0, self->dma);
}

FIXTURE_TEARDOWN(iommu)
{
	close(self->fd);
}

/* The device reads RAM through the IOMMU only once the IOVA is mapped. */
TEST_F(iommu, dma_through_iommu)
{
	__u8 buf[64], w[16];
	struct memtopo_region_desc *d;
	__u32 n, i;

	/* the kind reads back */
	ASSERT_EQ(0, mt_get_regions(self->fd, &d, &n));
	for (i = 0; i < n; i++)
		if (d[i].id == (__u32)self->mmu)
			EXPECT_EQ(MEMTOPO_KIND_IOMMU, d[i].kind);
	free(d);

	EXPECT_EQ(-ENXIO, i_rw(self->fd, self->dma, 0x5000, buf, 16, 0));
	ASSERT_EQ(0, mt_iommu_map(self->fd, self->mmu, 0x5000, 2 * PG, self->mem,
				  RAM_BASE + 0x3000, RD));
	ASSERT_EQ(0, i_rw(self->fd, self->dma, 0x5ff0, buf, 32, 0));
	EXPECT_EQ(0, memcmp(buf, self->image + 0x3ff0, 32));
	/* read-only: a write is refused and changes nothing */
	memset(w, 0xee, sizeof(w));
	EXPECT_EQ(-EACCES, i_rw(self->fd, self->dma, 0x5000, w, sizeof(w), 1));
	ASSERT_EQ(0, i_rw(self->fd, self->mem, RAM_BASE + 0x3000, buf, 16, 0));
	EXPECT_EQ(0, memcmp(buf, self->image + 0x3000, 16));
	/* write-only next to it: a write crossing both is refused before any byte */
	ASSERT_EQ(0, mt_iommu_map(self->fd, self->mmu, 0x7000, PG, self->mem, RAM_BASE, WR));
	EXPECT_EQ(-EACCES, i_rw(self->fd, self->dma, 0x6ff8, w, 16, 1));
	ASSERT_EQ(0, i_rw(self->fd, self->mem, RAM_BASE, buf, 8, 0));
	EXPECT_EQ(0, memcmp(buf, self->image, 8));
	EXPECT_EQ(-EACCES, i_rw(self->fd, self->dma, 0x7000, buf, 8, 0));
	ASSERT_EQ(0, i_rw(self->fd, self->dma, 0x7008, w, 8, 1));
	ASSERT_EQ(0, i_rw(self->fd, self->mem, RAM_BASE + 8, buf, 8, 0));
	EXPECT_EQ(0, memcmp(buf, w, 8));
	/* mapped onto the I/O region: the access reaches it (no callbacks there) */
	ASSERT_EQ(0, mt_iommu_map(self->fd, self->mmu, 0x9000, PG, self->mem, 0, RD | WR));
	EXPECT_EQ(-EOPNOTSUPP, i_rw(self->fd, self->dma, 0x9000, buf, 4, 0));
	/* unmapped: unassigned again */
	ASSERT_EQ(0, mt_iommu_unmap(self->fd, self->mmu, 0x5000, 2 * PG, 0));
	EXPECT_EQ(-ENXIO, i_rw(self->fd, self->dma, 0x5ff0, buf, 32, 0));
	ASSERT_EQ(0, mt_iommu_unmap(self->fd, self->mmu, 0, 0, MEMTOPO_IOMMU_UNMAP_ALL));
	EXPECT_EQ(-ENXIO, i_rw(self->fd, self->dma, 0x7008, buf, 8, 0));
	/* UNMAP_ALL of an empty table is no error */
	EXPECT_EQ(0, mt_iommu_unmap(self->fd, self->mmu, 0, 0, MEMTOPO_IOMMU_UNMAP_ALL));
}

#define IO_EVENTS	((1u << MEMTOPO_EVENT_IOMMU_MAP) | (1u << MEMTOPO_EVENT_IOMMU_UNMAP))

/* Drain a subscription; the count read. */
static __u32 i_events(int fd, __u32 sub, struct memtopo_event *ev, __u32 cap)
{
	__u32 n = cap, pending;

	if (mt_read_events(fd, sub, ev, &n, &pending) || pending)
		return ~0u;
	return n;
}

static void i_expect_ev(struct __test_metadata *_metadata, const struct memtopo_event *e,
			__u32 type, __u32 region, __u64 start, __u64 iova, __u64 mask,
			__u64 to, __u32 perm, __u32 target)
{
	EXPECT_EQ(type, e->type);
	EXPECT_EQ(region, e->region);
	EXPECT_EQ(start, e->start);
	EXPECT_EQ(start + mask, e->last);
	EXPECT_EQ(iova, e->offset);
	EXPECT_EQ(iova, e->iommu.iova);
	EXPECT_EQ(mask, e->iommu.addr_mask);
	EXPECT_EQ(to, e->iommu.translated_addr);
	EXPECT_EQ(perm, e->iommu.perm);
	EXPECT_EQ(target, e->iommu.target_space);
	EXPECT_EQ(0, e->iommu.iommu_idx);
}

/*
 * Subscriptions hear the table's changes as a MAP | UNMAP IOMMU notifier
 * would: one event per IOTLB entry, in the order QEMU's
 * memory_region_notify_iommu() hands entries to
 * memory_region_notify_iommu_one() (ascending IOVA, each range cut into
 * power-of-two blocks aligned on both sides; a MAP once the table holds it,
 * an UNMAP of each mapping that meets the range).
 */
TEST_F(iommu, events)
{
	struct memtopo_event ev[16];
	__u32 sub, dflt, other, seq;
	int fd = self->fd;

	ASSERT_EQ(0, mt_subscribe(fd, self->dma, -1, IO_EVENTS, 0, &sub));
	/* the default mask and a space without the IOMMU hear nothing */
	ASSERT_EQ(0, mt_subscribe(fd, self->dma, -1, 0, 0, &dflt));
	ASSERT_EQ(0, mt_subscribe(fd, self->mem, -1, MEMTOPO_EVENT_MASK_ALL, 0, &other));

	/* 0x5000-0x7fff -> 0x103000: blocks 0x5000/4K -> 0x103000, 0x6000/8K -> 0x104000 */
	ASSERT_EQ(0, mt_iommu_map(fd, self->mmu, 0x5000, 3 * PG, self->mem, RAM_BASE + 0x3000,
				  RD));
	ASSERT_EQ(2, i_events(fd, sub, ev, 16));
	i_expect_ev(_metadata, &ev[0], MEMTOPO_EVENT_IOMMU_MAP, self->mmu, 0x5000, 0x5000,
		    0xfff, RAM_BASE + 0x3000, MEMTOPO_EVENT_IOMMU_READ, self->mem);
	i_expect_ev(_metadata, &ev[1], MEMTOPO_EVENT_IOMMU_MAP, self->mmu, 0x6000, 0x6000,
		    0x1fff, RAM_BASE + 0x4000, MEMTOPO_EVENT_IOMMU_READ, self->mem);
	EXPECT_EQ(ev[0].seq + 1, ev[1].seq);
	seq = ev[1].seq;
	/* 64 KiB aligned both sides: one entry */
	ASSERT_EQ(0, mt_iommu_map(fd, self->mmu, 0x10000, 16 * PG, self->mem, 0x10000, RD | WR));
	ASSERT_EQ(1, i_events(fd, sub, ev, 16));
	i_expect_ev(_metadata, &ev[0], MEMTOPO_EVENT_IOMMU_MAP, self->mmu, 0x10000, 0x10000,
		    0xffff, 0x10000, MEMTOPO_EVENT_IOMMU_READ | MEMTOPO_EVENT_IOMMU_WRITE,
		    self->mem);
	EXPECT_EQ(seq + 1, ev[0].seq);

	/* refusals tell nobody */
	EXPECT_EQ(-EEXIST, mt_iommu_map(fd, self->mmu, 0x7000, 2 * PG, self->mem, 0, RD));
	EXPECT_EQ(-ENOENT, mt_iommu_unmap(fd, self->mmu, 0x8000, PG, 0));
	EXPECT_EQ(-EINVAL, mt_iommu_map(fd, self->mmu, 0x20800, PG, self->mem, 0, RD));
	EXPECT_EQ(0, i_events(fd, sub, ev, 16));

	/* a hole punched in the middle: the UNMAP carries what the entry translated to */
	ASSERT_EQ(0, mt_iommu_unmap(fd, self->mmu, 0x6000, PG, 0));
	ASSERT_EQ(1, i_events(fd, sub, ev, 16));
	i_expect_ev(_metadata, &ev[0], MEMTOPO_EVENT_IOMMU_UNMAP, self->mmu, 0x6000, 0x6000,
		    0xfff, RAM_BASE + 0x4000, 0, self->mem);
	/* everything: mapping after mapping, ascending */
	ASSERT_EQ(0, mt_iommu_unmap(fd, self->mmu, 0, 0, MEMTOPO_IOMMU_UNMAP_ALL));
	ASSERT_EQ(3, i_events(fd, sub, ev, 16));
	i_expect_ev(_metadata, &ev[0], MEMTOPO_EVENT_IOMMU_UNMAP, self->mmu, 0x5000, 0x5000,
		    0xfff, RAM_BASE + 0x3000, 0, self->mem);
	i_expect_ev(_metadata, &ev[1], MEMTOPO_EVENT_IOMMU_UNMAP, self->mmu, 0x7000, 0x7000,
		    0xfff, RAM_BASE + 0x5000, 0, self->mem);
	i_expect_ev(_metadata, &ev[2], MEMTOPO_EVENT_IOMMU_UNMAP, self->mmu, 0x10000, 0x10000,
		    0xffff, 0x10000, 0, self->mem);

	EXPECT_EQ(0, i_events(fd, dflt, ev, 16));
	EXPECT_EQ(0, i_events(fd, other, ev, 16));
	EXPECT_EQ(0, mt_unsubscribe(fd, sub));
	EXPECT_EQ(0, mt_unsubscribe(fd, dflt));
	EXPECT_EQ(0, mt_unsubscribe(fd, other));
}

/*
 * An IOMMU shown as a range of a space: the events place the entries in
 * the space and leave out what the range does not show, as a notifier
 * whose range is the section's (QEMU's vfio_listener_region_add()).
 */
TEST_F(iommu, events_in_a_range)
{
	struct memtopo_event ev[8];
	int fd = self->fd, small;
	__u32 sub;

	small = mt_region_create(fd, MEMTOPO_KIND_IOMMU, "small", 0x4000, 0);
	ASSERT_LT(0, small);
	ASSERT_EQ(0, mt_add_subregion(fd, self->sys, small, 0x200000, 0));
	ASSERT_EQ(0, mt_subscribe(fd, self->mem, -1, IO_EVENTS, 0, &sub));
	/* 0x2000-0x5fff: the entry 0x2000/8K shows at 0x202000, 0x4000/8K is past the region */
	ASSERT_EQ(0, mt_iommu_map(fd, small, 0x2000, 4 * PG, self->mem, 0, RD));
	ASSERT_EQ(1, i_events(fd, sub, ev, 8));
	i_expect_ev(_metadata, &ev[0], MEMTOPO_EVENT_IOMMU_MAP, small, 0x202000, 0x2000, 0x1fff,
		    0, MEMTOPO_EVENT_IOMMU_READ, self->mem);
	/* the space's other IOMMU is not in its view */
	ASSERT_EQ(0, mt_iommu_map(fd, self->mmu, 0, PG, self->mem, 0, RD));
	EXPECT_EQ(0, i_events(fd, sub, ev, 8));
	/* not shown at all: no events */
	ASSERT_EQ(0, mt_region_set(fd, MEMTOPO_OP_DEL_SUBREGION, small, self->sys, 0, 0));
	ASSERT_EQ(0, mt_iommu_unmap(fd, small, 0x2000, 4 * PG, 0));
	EXPECT_EQ(0, i_events(fd, sub, ev, 8));
	EXPECT_EQ(0, mt_unsubscribe(fd, sub));
}

/*
 * A mirror of an IOMMU's mappings in a space, from events alone: what a
 * VFIO-like subscriber holds.  Entries are in space addresses, as events
 * place them.  A MAP adds its entry (never over one held), an UNMAP takes
 * out exactly IOVAs held, a REGION_DEL drops every entry of the range (the
 * subscriber unmaps the section itself, as QEMU's
 * vfio_listener_region_del() does), and MAPs between a REGION_ADD and its
 * COMMIT are the range's mappings replayed (vfio_listener_region_add()
 * calling memory_region_iommu_replay()).
 */
#define MIR_MAX		4096

struct mir_ent {
	__u64 start, last, to;
	__u32 space, perm;
};

struct mirror {
	__u32 sub;
	int n;
	bool in_commit;
	unsigned long maps, unmaps, replayed, dels;
	struct mir_ent e[MIR_MAX];
};

#define MIR_EVENTS	(IO_EVENTS | (1u << MEMTOPO_EVENT_REGION_ADD) |	\
			 (1u << MEMTOPO_EVENT_REGION_DEL) | (1u << MEMTOPO_EVENT_COMMIT))

static int mir_cmp(const void *a, const void *b)
{
	const struct mir_ent *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

/* Sort and merge entries that continue each other, so blockings compare equal. */
static int mir_norm(struct mir_ent *e, int n)
{
	int i, j = 0;

	qsort(e, n, sizeof(*e), mir_cmp);
	for (i = 0; i < n; i++) {
		if (j && e[j - 1].last + 1 == e[i].start && e[j - 1].space == e[i].space &&
		    e[j - 1].perm == e[i].perm &&
		    e[j - 1].to + (e[j - 1].last - e[j - 1].start) + 1 == e[i].to)
			e[j - 1].last = e[i].last;
		else
			e[j++] = e[i];
	}
	return j;
}

/* Apply one event; a message for an event the mirror cannot explain. */
static const char *mir_apply(struct mirror *m, const struct memtopo_event *ev)
{
	struct mir_ent *e;
	__u64 cut = 0;
	int i, n;

	switch (ev->type) {
	case MEMTOPO_EVENT_OVERFLOW:
		return "overflow";
	case MEMTOPO_EVENT_REGION_ADD:
		m->in_commit = true;
		return NULL;
	case MEMTOPO_EVENT_COMMIT:
		m->in_commit = false;
		return NULL;
	case MEMTOPO_EVENT_REGION_DEL:
		m->in_commit = true;
		for (i = n = 0; i < m->n; i++) {
			e = &m->e[i];
			if (e->last < ev->start || e->start > ev->last) {
				m->e[n++] = *e;
				continue;
			}
			if (e->start < ev->start || e->last > ev->last)
				return "an entry crosses a deleted range's bounds";
			m->dels++;
		}
		m->n = n;
		return NULL;
	case MEMTOPO_EVENT_IOMMU_MAP:
		for (i = 0; i < m->n; i++)
			if (m->e[i].start <= ev->last && ev->start <= m->e[i].last)
				return "MAP over a held entry";
		if (m->n == MIR_MAX)
			return "mirror full";
		m->e[m->n++] = (struct mir_ent){
			.start = ev->start, .last = ev->last, .to = ev->iommu.translated_addr,
			.space = ev->iommu.target_space, .perm = ev->iommu.perm,
		};
		if (ev->iommu.perm == 0 || ev->last - ev->start != ev->iommu.addr_mask)
			return "MAP without permission or of the wrong size";
		m->maps++;
		m->replayed += m->in_commit;
		return NULL;
	case MEMTOPO_EVENT_IOMMU_UNMAP:
		if (m->in_commit)
			return "UNMAP inside a commit";
		for (i = 0, n = m->n; i < n; i++) {
			struct mir_ent *x = &m->e[i], tail;
			__u64 lo, hi;

			if (x->last < ev->start || x->start > ev->last)
				continue;
			lo = x->start > ev->start ? x->start : ev->start;
			hi = x->last < ev->last ? x->last : ev->last;
			cut += hi - lo + 1;
			tail = *x;
			if (x->start < lo) {
				x->last = lo - 1;
			} else {
				x->last = 0;	/* dropped below */
				x->start = 1;
			}
			if (tail.last > hi) {
				if (m->n == MIR_MAX)
					return "mirror full";
				tail.to += hi + 1 - tail.start;
				tail.start = hi + 1;
				m->e[m->n++] = tail;
			}
		}
		for (i = n = 0; i < m->n; i++)
			if (m->e[i].start <= m->e[i].last)
				m->e[n++] = m->e[i];
		m->n = n;
		if (cut != ev->last - ev->start + 1)
			return "UNMAP of IOVAs not held";
		m->unmaps++;
		return NULL;
	}
	return NULL;
}

/* Drain @m's subscription into it; 0, or -1 with the event that failed. */
static int mir_drain(struct __test_metadata *_metadata, int fd, struct mirror *m)
{
	struct memtopo_event ev[64];
	__u32 n, pending, i;
	const char *why;

	do {
		n = 64;
		if (mt_read_events(fd, m->sub, ev, &n, &pending))
			return -1;
		for (i = 0; i < n; i++) {
			why = mir_apply(m, &ev[i]);
			if (why) {
				TH_LOG("event %llu (type %u, %llx-%llx): %s",
				       (unsigned long long)ev[i].seq, ev[i].type,
				       (unsigned long long)ev[i].start,
				       (unsigned long long)ev[i].last, why);
				return -1;
			}
		}
	} while (n);
	return 0;
}

/* What the mirror must hold: each mapping cut to each range showing @iommu. */
static int mir_expected(int fd, __u32 space, __u32 iommu, struct mir_ent *out)
{
	struct memtopo_iommu_mapping *t = NULL;
	struct memtopo_range *r = NULL;
	__u32 nr = 0, nt = 0, i, j;
	__u64 gen;
	int n = 0;

	if (mt_get_flat(fd, space, &r, &nr, &gen) || mt_iommu_get(fd, iommu, &t, &nt))
		return -1;
	for (i = 0; i < nr; i++) {
		__u64 rlast = r[i].offset + (r[i].last - r[i].start);

		if (r[i].region != iommu)
			continue;
		for (j = 0; j < nt && n < MIR_MAX; j++) {
			__u64 first = t[j].iova > r[i].offset ? t[j].iova : r[i].offset;
			__u64 last = t[j].iova + t[j].length - 1;

			last = last < rlast ? last : rlast;
			if (first > last)
				continue;
			out[n++] = (struct mir_ent){
				.start = r[i].start + (first - r[i].offset),
				.last = r[i].start + (last - r[i].offset),
				.to = t[j].addr + (first - t[j].iova), .space = t[j].space,
				.perm = (t[j].flags & RD ? MEMTOPO_EVENT_IOMMU_READ : 0) |
					(t[j].flags & WR ? MEMTOPO_EVENT_IOMMU_WRITE : 0),
			};
		}
	}
	free(r);
	free(t);
	return mir_norm(out, n);
}

static bool mir_equal(struct __test_metadata *_metadata, struct mirror *m,
		      const struct mir_ent *want, int nw, int step)
{
	int i;

	m->n = mir_norm(m->e, m->n);
	for (i = 0; i < m->n || i < nw; i++) {
		if (i < m->n && i < nw && !memcmp(&m->e[i], &want[i], sizeof(want[i])))
			continue;
		TH_LOG("step %d, sub %u, entry %d of %d (table %d): %llx-%llx, table %llx-%llx",
		       step, m->sub, i, m->n, nw,
		       i < m->n ? (unsigned long long)m->e[i].start : 0ull,
		       i < m->n ? (unsigned long long)m->e[i].last : 0ull,
		       i < nw ? (unsigned long long)want[i].start : 0ull,
		       i < nw ? (unsigned long long)want[i].last : 0ull);
		return false;
	}
	return true;
}

static __u64 mir_rnd(__u64 *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

/*
 * Random maps and unmaps of an IOMMU shown in a space directly and through
 * an alias window, while it moves, hides, comes back and is partly covered
 * by RAM of a higher priority; one subscription from the start and one
 * that joins halfway with replay.  After every step each mirror equals the
 * table (MEMTOPO_IOMMU_GET) cut to the ranges showing it (MEMTOPO_GET_FLAT).
 */
TEST_F(iommu, mirror_from_events)
{
	static struct mirror early, late;
	static struct mir_ent want[MIR_MAX];
	unsigned long moved = 0, hidden = 0, shown = 0, covered = 0, windows = 0;
	int fd = self->fd, bus, busc, vio, win, hi, step, nw, ret, to;
	bool direct = false, enabled = true, win_on = false, hi_on = false;
	__u64 x = 0x9e3779b97f4a7c15ull, at = 0x1000000;
	struct memtopo_op op;

	busc = mt_region_create(fd, MEMTOPO_KIND_CONTAINER, "busc", 0, MEMTOPO_OP_F_SIZE_2_64);
	vio = mt_region_create(fd, MEMTOPO_KIND_IOMMU, "vio", 0x100000, 0);
	hi = mt_region_create(fd, MEMTOPO_KIND_RAM, "hi", 0x20000, 0);
	ASSERT_LT(0, busc);
	ASSERT_LT(0, vio);
	ASSERT_LT(0, hi);
	/* IOVAs 0x40000-0x7ffff of vio */
	mt_op_init(&op, MEMTOPO_OP_REGION_CREATE);
	op.kind = MEMTOPO_KIND_ALIAS;
	op.ref = vio;
	op.addr = 0x40000;
	op.length = 0x40000;
	strcpy(op.name, "win");
	ASSERT_EQ(0, mt_op(fd, &op));
	win = op.id;
	bus = mt_space_create(fd, "bus", busc);
	ASSERT_LT(0, bus);
	memset(&early, 0, sizeof(early));
	memset(&late, 0, sizeof(late));
	ASSERT_EQ(0, mt_subscribe(fd, bus, -1, MIR_EVENTS, 0, &early.sub));

	for (step = 0; step < 400; step++) {
		__u64 r = mir_rnd(&x), iova = (r % 256) * PG, len = (1 + (r >> 8) % 24) * PG;

		switch ((r >> 16) % 10) {
		case 0: case 1: case 2: case 3:
			to = (r >> 24) & 1 ? self->mem : self->dma;
			ret = mt_iommu_map(fd, vio, iova, len, to, ((r >> 32) % 512) * PG,
					   1 + (r >> 40) % 3);
			ASSERT_TRUE(ret == 0 || ret == -EEXIST);
			break;
		case 4: case 5:
			if ((r >> 24) % 32 == 0)
				ret = mt_iommu_unmap(fd, vio, 0, 0, MEMTOPO_IOMMU_UNMAP_ALL);
			else
				ret = mt_iommu_unmap(fd, vio, iova, len, 0);
			ASSERT_TRUE(ret == 0 || ret == -ENOENT);
			break;
		case 6:		/* show, move or hide the IOMMU itself */
			if (!direct) {
				ASSERT_EQ(0, mt_add_subregion(fd, busc, vio, at, 0));
				direct = true;
				shown++;
			} else if ((r >> 24) % 3) {
				at = at == 0x1000000 ? 0x2000000 : 0x1000000;
				ret = mt_region_set(fd, MEMTOPO_OP_SET_ADDRESS, vio, 0, at, 0);
				ASSERT_EQ(0, ret);
				moved++;
			} else {
				ASSERT_EQ(0, mt_region_set(fd, MEMTOPO_OP_DEL_SUBREGION, vio, busc,
							   0, 0));
				direct = false;
			}
			break;
		case 7:		/* disable / enable: every range of it goes and comes */
			enabled = !enabled;
			ASSERT_EQ(0, mt_region_set(fd, MEMTOPO_OP_SET_ENABLED, vio, 0, 0, enabled));
			hidden += !enabled;
			break;
		case 8:		/* the alias window: a second range of part of it */
			if (win_on) {
				ASSERT_EQ(0, mt_region_set(fd, MEMTOPO_OP_DEL_SUBREGION, win, busc,
							   0, 0));
			} else {
				ASSERT_EQ(0, mt_add_subregion(fd, busc, win, 0x3000000, 0));
			}
			win_on = !win_on;
			windows += win_on;
			break;
		case 9:		/* RAM over part of the direct range: it splits */
			if (hi_on) {
				ASSERT_EQ(0, mt_region_set(fd, MEMTOPO_OP_DEL_SUBREGION, hi, busc,
							   0, 0));
			} else {
				mt_op_init(&op, MEMTOPO_OP_ADD_SUBREGION);
				op.ref = busc;
				op.id = hi;
				op.addr = at + 0x10000;
				op.priority = 1;
				op.flags = MEMTOPO_OP_F_MAY_OVERLAP;
				ASSERT_EQ(0, mt_op(fd, &op));
			}
			hi_on = !hi_on;
			covered += hi_on && direct && enabled;
			break;
		}
		if (step == 200) {
			/* a late subscriber: the view and the mappings replayed */
			ASSERT_EQ(0, mt_subscribe(fd, bus, -1, MIR_EVENTS, MEMTOPO_SUBSCRIBE_REPLAY,
						  &late.sub));
		}
		nw = mir_expected(fd, bus, vio, want);
		ASSERT_LE(0, nw);
		ASSERT_EQ(0, mir_drain(_metadata, fd, &early));
		ASSERT_TRUE(mir_equal(_metadata, &early, want, nw, step));
		if (step >= 200) {
			ASSERT_EQ(0, mir_drain(_metadata, fd, &late));
			ASSERT_TRUE(mir_equal(_metadata, &late, want, nw, step));
		}
	}
	TH_LOG("early: %lu maps (%lu replayed), %lu unmaps, %lu dropped at region_del",
	       early.maps, early.replayed, early.unmaps, early.dels);
	TH_LOG("late: %lu maps (%lu replayed)", late.maps, late.replayed);
	TH_LOG("%lu shown, %lu moved, %lu hidden, %lu windows, %lu covered", shown, moved, hidden,
	       windows, covered);
	/* the run met every case it claims to check */
	EXPECT_LT(0, early.replayed);
	EXPECT_LT(0, early.unmaps);
	EXPECT_LT(0, early.dels);
	EXPECT_LT(0, late.replayed);
	EXPECT_LT(0, moved);
	EXPECT_LT(0, hidden);
	EXPECT_LT(0, windows);
	EXPECT_LT(0, covered);
	EXPECT_EQ(0, mt_unsubscribe(fd, early.sub));
	EXPECT_EQ(0, mt_unsubscribe(fd, late.sub));
}

/* GET lists the mappings as made and as cut by unmaps. */
TEST_F(iommu, table_listing)
{
	char want[256];
	char *t;

	ASSERT_EQ(0, mt_iommu_map(self->fd, self->mmu, 0x1000, 4 * PG, self->mem, 0x200000, RD));
	ASSERT_EQ(0, mt_iommu_map(self->fd, self->mmu, 0x5000, PG, self->mem, 0x300000, RD | WR));
	ASSERT_EQ(0, mt_iommu_map(self->fd, self->mmu, 0x10000, PG, self->dma, 0x0, WR));
	t = i_table(self->fd, self->mmu);
	ASSERT_NE(NULL, t);
	snprintf(want, sizeof(want),
		 "ret 0 n 3: 1000+4000>%d:200000/1 5000+1000>%d:300000/3 10000+1000>%d:0/2",
		 self->mem, self->mem, self->dma);
	EXPECT_STREQ(want, t);
	free(t);
	/* cut the first in the middle, remove the second whole */
	ASSERT_EQ(0, mt_iommu_unmap(self->fd, self->mmu, 0x2000, PG, 0));
	ASSERT_EQ(0, mt_iommu_unmap(self->fd, self->mmu, 0x4000, 2 * PG, 0));
	t = i_table(self->fd, self->mmu);
	snprintf(want, sizeof(want),
		 "ret 0 n 3: 1000+1000>%d:200000/1 3000+1000>%d:202000/1 10000+1000>%d:0/2",
		 self->mem, self->mem, self->dma);
	EXPECT_STREQ(want, t);
	free(t);
}

/* IOMMU -> space -> IOMMU -> RAM; a loop stops at MEMTOPO_IOMMU_MAX_DEPTH. */
TEST_F(iommu, nested_and_loop)
{
	int outer, odma, loop, ldma;
	__u8 buf[8];

	outer = mt_region_create(self->fd, MEMTOPO_KIND_IOMMU, "outer", 0,
				 MEMTOPO_OP_F_SIZE_2_64);
	ASSERT_LT(0, outer);
	odma = mt_space_create(self->fd, "odma", outer);
	ASSERT_LT(0, odma);
	ASSERT_EQ(0, mt_iommu_map(self->fd, outer, 0x40000, PG, self->dma, 0x8000, RD));
	EXPECT_EQ(-ENXIO, i_rw(self->fd, odma, 0x40010, buf, 8, 0));
	ASSERT_EQ(0, mt_iommu_map(self->fd, self->mmu, 0x8000, PG, self->mem,
				  RAM_BASE + 0x2000, RD | WR));
	ASSERT_EQ(0, i_rw(self->fd, odma, 0x40010, buf, 8, 0));
	EXPECT_EQ(0, memcmp(buf, self->image + 0x2010, 8));
	/* the outer one is read-only */
	EXPECT_EQ(-EACCES, i_rw(self->fd, odma, 0x40010, buf, 8, 1));

	loop = mt_region_create(self->fd, MEMTOPO_KIND_IOMMU, "loop", 0, MEMTOPO_OP_F_SIZE_2_64);
	ASSERT_LT(0, loop);
	ldma = mt_space_create(self->fd, "ldma", loop);
	ASSERT_LT(0, ldma);
	ASSERT_EQ(0, mt_iommu_map(self->fd, loop, 0, PG, ldma, 0, RD));
	EXPECT_EQ(-ELOOP, i_rw(self->fd, ldma, 0x10, buf, 1, 0));
	EXPECT_EQ(8, MEMTOPO_IOMMU_MAX_DEPTH);
}

/* A target space destroyed under a mapping: the mapping leads nowhere. */
TEST_F(iommu, target_space_destroyed)
{
	int root2, alias, mem2;
	struct memtopo_op op;
	char *t, want[128];
	__u8 buf[4];

	root2 = mt_region_create(self->fd, MEMTOPO_KIND_CONTAINER, "root2", 0,
				 MEMTOPO_OP_F_SIZE_2_64);
	ASSERT_LT(0, root2);
	mt_op_init(&op, MEMTOPO_OP_REGION_CREATE);
	op.kind = MEMTOPO_KIND_ALIAS;
	op.ref = self->sys;
	op.flags = MEMTOPO_OP_F_SIZE_2_64;
	strcpy(op.name, "sys2");
	ASSERT_EQ(0, mt_op(self->fd, &op));
	alias = op.id;
	ASSERT_EQ(0, mt_add_subregion(self->fd, root2, alias, 0, 0));
	mem2 = mt_space_create(self->fd, "mem2", root2);
	ASSERT_LT(0, mem2);
	ASSERT_EQ(0, mt_iommu_map(self->fd, self->mmu, 0x3000, PG, mem2, RAM_BASE, RD));
	ASSERT_EQ(0, i_rw(self->fd, self->dma, 0x3000, buf, 4, 0));
	EXPECT_EQ(0, memcmp(buf, self->image, 4));
	t = i_table(self->fd, self->mmu);
	snprintf(want, sizeof(want), "ret 0 n 1: 3000+1000>%u:%llx/%u", mem2,
		 (unsigned long long)RAM_BASE, RD);
	EXPECT_STREQ(want, t);
	free(t);
	ASSERT_EQ(0, mt_space_destroy(self->fd, mem2));
	EXPECT_EQ(-ENXIO, i_rw(self->fd, self->dma, 0x3000, buf, 4, 0));
	/* the mapping stays listed (with the dead ID), marked gone, until unmapped */
	t = i_table(self->fd, self->mmu);
	snprintf(want, sizeof(want), "ret 0 n 1: 3000+1000>%u:%llx/%u", mem2,
		 (unsigned long long)RAM_BASE, RD | MEMTOPO_IOMMU_MAPPING_GONE);
	EXPECT_STREQ(want, t);
	free(t);
	EXPECT_EQ(0, mt_iommu_unmap(self->fd, self->mmu, 0x3000, PG, 0));
	/* a new map to the dead ID is refused */
	EXPECT_EQ(-ENOENT, mt_iommu_map(self->fd, self->mmu, 0x3000, PG, mem2, RAM_BASE, RD));
}

/* Every refusal of MAP, UNMAP and GET, each leaving the table as it was. */
TEST_F(iommu, errno_contract)
{
	struct memtopo_iommu_map m = {
		.size = sizeof(m), .flags = RD, .region = self->mmu, .space = self->mem,
		.iova = 0x2000, .length = PG, .addr = RAM_BASE,
	};
	struct memtopo_iommu_unmap u = {
		.size = sizeof(u), .region = self->mmu, .iova = 0x1000, .length = PG,
	};
	struct memtopo_iommu_mapping out[4];
	struct memtopo_iommu_get g = {
		.size = sizeof(g), .region = self->mmu, .count = 4,
		.mappings = (uintptr_t)out, .mapping_size = sizeof(out[0]),
	};
	struct memtopo_op op;
	char *before, *after;
	void *ro;

#define MAP_ERR(err, field, val)						\
	do {									\
		struct memtopo_iommu_map __m = m;				\
		__u64 __v = (val);						\
										\
		__m.field = __v;						\
		EXPECT_EQ(err, i_ioctl(self->fd, MEMTOPO_IOMMU_MAP, &__m))	\
			TH_LOG("MAP with " #field " = %llx", (unsigned long long)__v); \
	} while (0)
#define UNMAP_ERR(err, field, val)						\
	do {									\
		struct memtopo_iommu_unmap __u = u;				\
		__u64 __v = (val);						\
										\
		__u.field = __v;						\
		EXPECT_EQ(err, i_ioctl(self->fd, MEMTOPO_IOMMU_UNMAP, &__u))	\
			TH_LOG("UNMAP with " #field " = %llx", (unsigned long long)__v); \
	} while (0)

	ASSERT_EQ(0, mt_iommu_map(self->fd, self->mmu, 0x1000, PG, self->mem, RAM_BASE, RD));
	ASSERT_EQ(0, mt_iommu_map(self->fd, self->mmu, 0x4000, 2 * PG, self->mem, RAM_BASE, WR));
	before = i_table(self->fd, self->mmu);
	ASSERT_NE(NULL, before);

	/* MAP */
	MAP_ERR(-ENOENT, region, 99999);
	MAP_ERR(-ENOENT, space, 99999);
	MAP_ERR(-EINVAL, region, self->ram);		/* not an IOMMU */
	MAP_ERR(-EINVAL, flags, 0);			/* no permission */
	MAP_ERR(-EINVAL, flags, RD | (1u << 7));	/* unknown flag */
	MAP_ERR(-EINVAL, flags, RD | MEMTOPO_IOMMU_MAPPING_GONE);	/* only out */
	MAP_ERR(-EINVAL, iova, 0x2800);
	MAP_ERR(-EINVAL, length, 0);
	MAP_ERR(-EINVAL, length, 0x800);
	MAP_ERR(-EINVAL, addr, RAM_BASE + 8);
	/* two pages from the last one: past 2^64 in either space */
	m.length = 2 * PG;
	MAP_ERR(-EOVERFLOW, iova, 0xfffffffffffff000ULL);
	MAP_ERR(-EOVERFLOW, addr, 0xfffffffffffff000ULL);
	m.length = PG;
	MAP_ERR(-EEXIST, iova, 0x1000);			/* the same page */
	MAP_ERR(-EEXIST, iova, 0x5000);			/* inside the second */
	{
		struct memtopo_iommu_map big = m;

		big.iova = 0;
		big.length = 0x10000;			/* covers both */
		EXPECT_EQ(-EEXIST, i_ioctl(self->fd, MEMTOPO_IOMMU_MAP, &big));
		big.size = 8;				/* below the first version */
		EXPECT_EQ(-EINVAL, i_ioctl(self->fd, MEMTOPO_IOMMU_MAP, &big));
	}
	/* UNMAP */
	UNMAP_ERR(-ENOENT, region, 99999);
	UNMAP_ERR(-EINVAL, region, self->io);		/* not an IOMMU */
	UNMAP_ERR(-ENOENT, iova, 0x2000);		/* nothing there */
	UNMAP_ERR(-ENOENT, length, 4 * PG);		/* 0x1000-0x4fff: holes inside */
	UNMAP_ERR(-EINVAL, iova, 0x1800);
	UNMAP_ERR(-EINVAL, length, 0);
	UNMAP_ERR(-EINVAL, length, 0x10);
	UNMAP_ERR(-EINVAL, flags, 1u << 5);
	UNMAP_ERR(-EINVAL, __reserved, 1);
	UNMAP_ERR(-EINVAL, flags, MEMTOPO_IOMMU_UNMAP_ALL);	/* with an iova */
	u.length = 2 * PG;
	UNMAP_ERR(-EOVERFLOW, iova, 0xfffffffffffff000ULL);
	u.length = PG;
	{
		struct memtopo_iommu_unmap tail = u;

		/* the second mapping plus a page after it: the hole refuses all */
		tail.iova = 0x4000;
		tail.length = 3 * PG;
		EXPECT_EQ(-ENOENT, i_ioctl(self->fd, MEMTOPO_IOMMU_UNMAP, &tail));
	}
	/* GET */
	g.count = 1;
	EXPECT_EQ(-ENOSPC, i_ioctl(self->fd, MEMTOPO_IOMMU_GET, &g));
	EXPECT_EQ(2, g.count);
	g.count = 4;
	g.mapping_size = 8;
	EXPECT_EQ(-EINVAL, i_ioctl(self->fd, MEMTOPO_IOMMU_GET, &g));
	g.mapping_size = sizeof(out[0]);
	g.flags = 1;
	EXPECT_EQ(-EINVAL, i_ioctl(self->fd, MEMTOPO_IOMMU_GET, &g));
	g.flags = 0;
	g.region = self->sys;
	EXPECT_EQ(-EINVAL, i_ioctl(self->fd, MEMTOPO_IOMMU_GET, &g));
	g.region = 99999;
	EXPECT_EQ(-ENOENT, i_ioctl(self->fd, MEMTOPO_IOMMU_GET, &g));
	g.region = self->mmu;
	g.mappings = 8;
	EXPECT_EQ(-EFAULT, i_ioctl(self->fd, MEMTOPO_IOMMU_GET, &g));
	/* MAP and UNMAP only read their struct: a read-only one works */
	ro = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, ro);
	memcpy(ro, &m, sizeof(m));
	m.iova = 0x8000;
	memcpy(ro, &m, sizeof(m));
	ASSERT_EQ(0, mprotect(ro, 4096, PROT_READ));
	EXPECT_EQ(0, i_ioctl(self->fd, MEMTOPO_IOMMU_MAP, ro));
	EXPECT_EQ(0, mt_iommu_unmap(self->fd, self->mmu, 0x8000, PG, 0));
	EXPECT_EQ(-EFAULT, i_ioctl(self->fd, MEMTOPO_IOMMU_MAP, (void *)8));
	munmap(ro, 4096);
	/* REGION_CREATE of an IOMMU: no backing of any sort */
	mt_op_init(&op, MEMTOPO_OP_REGION_CREATE);
	op.kind = MEMTOPO_KIND_IOMMU;
	op.length = 0x1000;
	op.value = 0x1000;
	strcpy(op.name, "bad");
	EXPECT_EQ(-EINVAL, mt_op(self->fd, &op));
	op.value = 0;
	op.flags = MEMTOPO_OP_F_KERNEL_BACKING;
	EXPECT_EQ(-EINVAL, mt_op(self->fd, &op));
	op.flags = 0;
	op.kind = MEMTOPO_KIND_IOMMU + 1;
	EXPECT_EQ(-EINVAL, mt_op(self->fd, &op));

	after = i_table(self->fd, self->mmu);
	EXPECT_STREQ(before, after);
	free(before);
	free(after);
#undef MAP_ERR
#undef UNMAP_ERR
}

/* MEMTOPO_IOMMU_MAPPINGS_MAX mappings fit; one more is ENOSPC. */
TEST_F(iommu, table_full)
{
	char want[32];
	__u32 i;
	char *t;

	for (i = 0; i < MEMTOPO_IOMMU_MAPPINGS_MAX; i++)
		ASSERT_EQ(0, mt_iommu_map(self->fd, self->mmu, (__u64)i * 2 * PG, PG, self->mem,
					  RAM_BASE, RD)) TH_LOG("mapping %u", i);
	EXPECT_EQ(-ENOSPC, mt_iommu_map(self->fd, self->mmu, PG, PG, self->mem, RAM_BASE, RD));
	t = i_table(self->fd, self->mmu);
	snprintf(want, sizeof(want), "ret 0 n %u:", MEMTOPO_IOMMU_MAPPINGS_MAX);
	EXPECT_EQ(0, strncmp(t, want, strlen(want))) TH_LOG("%.40s", t);
	free(t);
	/* unmapping one makes room again */
	EXPECT_EQ(0, mt_iommu_unmap(self->fd, self->mmu, 0, PG, 0));
	EXPECT_EQ(0, mt_iommu_map(self->fd, self->mmu, PG, PG, self->mem, RAM_BASE, RD));
	EXPECT_EQ(0, mt_iommu_unmap(self->fd, self->mmu, 0, 0, MEMTOPO_IOMMU_UNMAP_ALL));
}

/*
 * An unmap that cuts a mapping in two adds one: it is held to the same
 * cap as a map.  One mapping, its odd pages unmapped one at a time: the
 * cut that would make MEMTOPO_IOMMU_MAPPINGS_MAX + 1 is ENOSPC and leaves
 * the table as it was; an unmap that cuts nothing in two still works.
 */
TEST_F(iommu, unmap_cuts_stay_under_the_cap)
{
	const __u64 pages = 2 * MEMTOPO_IOMMU_MAPPINGS_MAX + 1;
	char want[32];
	char *before, *after;
	__u32 i;

	ASSERT_EQ(0, mt_iommu_map(self->fd, self->mmu, 0, pages * PG, self->mem, RAM_BASE, RD));
	/* each cut of the last mapping adds one: 1 + (cap - 1) = cap */
	for (i = 0; i < MEMTOPO_IOMMU_MAPPINGS_MAX - 1; i++)
		ASSERT_EQ(0, mt_iommu_unmap(self->fd, self->mmu, (2 * (__u64)i + 1) * PG, PG, 0))
			TH_LOG("cut %u", i);
	before = i_table(self->fd, self->mmu);
	snprintf(want, sizeof(want), "ret 0 n %u:", MEMTOPO_IOMMU_MAPPINGS_MAX);
	EXPECT_EQ(0, strncmp(before, want, strlen(want))) TH_LOG("%.40s", before);
	EXPECT_EQ(-ENOSPC, mt_iommu_unmap(self->fd, self->mmu, (2 * (__u64)i + 1) * PG, PG, 0));
	after = i_table(self->fd, self->mmu);
	EXPECT_EQ(0, strcmp(before, after)) TH_LOG("table now %.40s", after);
	free(before);
	free(after);
	/* the last mapping's first page goes whole, cutting nothing in two */
	EXPECT_EQ(0, mt_iommu_unmap(self->fd, self->mmu, 2 * (__u64)i * PG, PG, 0));
	EXPECT_EQ(0, mt_iommu_unmap(self->fd, self->mmu, 0, 0, MEMTOPO_IOMMU_UNMAP_ALL));
}

TEST_HARNESS_MAIN
