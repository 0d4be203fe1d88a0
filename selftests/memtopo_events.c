// SPDX-License-Identifier: GPL-2.0
/*
 * kselftests of userspace subscriptions beyond the first ABI's types: every
 * listener callback kind delivered with its payload and in QEMU's order
 * (each expectation names the QEMU 7.2 system/memory.c function it comes
 * from), masks selecting kinds, mask 0 keeping its old meaning, and
 * readers that know only the first ABI's event size getting its layout;
 * resync by difference (MEMTOPO_GET_FLAT_DIFF): exact against the views,
 * its errors, and an overflowed subscriber's mirror rebuilt with it.
 */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "../tools/memtopoctl/libmemtopo.c"
#include "memtopo_sysfs.h"

/* The first ABI's event ends where the payload starts. */
static_assert(offsetof(struct memtopo_event, ioeventfd) == MEMTOPO_EVENT_SIZE_V1,
	      "payload after the first ABI's event");
static_assert(offsetof(struct memtopo_event, __reserved) == 54, "first ABI layout");
static_assert(sizeof(struct memtopo_event) == MEMTOPO_EVENT_SIZE_V1 + 48, "payload size");

static int ev_ioctl(int fd, unsigned long req, void *arg)
{
	return ioctl(fd, req, arg) ? -errno : 0;
}

static int ev_ioeventfd(int fd, __u32 region, int efd, __u64 off, __u32 len, __u32 flags,
			__u64 data)
{
	struct memtopo_ioeventfd io = {
		.size = sizeof(io), .flags = flags, .region = region, .fd = efd, .len = len,
		.offset = off, .data = data,
	};

	return ev_ioctl(fd, MEMTOPO_IOEVENTFD, &io);
}

static int ev_coalesced(int fd, __u32 region, __u64 off, __u64 len, __u32 flags)
{
	struct memtopo_coalesced c = {
		.size = sizeof(c), .flags = flags, .region = region, .offset = off, .length = len,
	};

	return ev_ioctl(fd, MEMTOPO_COALESCED, &c);
}

static int ev_dirty(int fd, __u32 op, __u32 region, __u32 client, __u64 npages, __u64 *bits)
{
	struct memtopo_dirty_log d = {
		.size = sizeof(d), .op = op, .region = region, .client = client,
		.num_pages = npages, .bitmap = (uintptr_t)bits,
	};

	return ev_ioctl(fd, MEMTOPO_DIRTY_LOG, &d);
}

static int ev_set_log(int fd, __u32 region, __u32 client, int on)
{
	struct memtopo_op op;

	mt_op_init(&op, MEMTOPO_OP_SET_DIRTY_LOG);
	op.id = region;
	op.kind = client;
	op.value = on;
	return mt_op(fd, &op);
}

/* Dequeue everything; UINT32_MAX on error. */
static __u32 ev_drain(int fd, __u32 id, struct memtopo_event *ev, __u32 max)
{
	__u32 got = 0, n;

	do {
		n = max - got;
		if (mt_read_events(fd, id, ev + got, &n, NULL))
			return UINT32_MAX;
		got += n;
	} while (n && got < max);
	return got;
}

/* eventfd signals since the last call (0 if none). */
static __u64 ev_signals(int efd)
{
	__u64 cnt;

	return read(efd, &cnt, sizeof(cnt)) == sizeof(cnt) ? cnt : 0;
}

FIXTURE(ev) {
	int fd, root, ram, dev, as, efd;
	__u64 gen;
};

FIXTURE_SETUP(ev)
{
	struct memtopo_range *r;
	__u32 n;

	self->fd = mt_open();
	ASSERT_LE(0, self->fd);
	self->root = mt_region_create(self->fd, MEMTOPO_KIND_CONTAINER, "system", 0,
				      MEMTOPO_OP_F_SIZE_2_64);
	ASSERT_LT(0, self->root);
	self->ram = mt_region_create(self->fd, MEMTOPO_KIND_RAM, "ram", 0x10000, 0);
	ASSERT_LT(0, self->ram);
	self->dev = mt_region_create(self->fd, MEMTOPO_KIND_IO, "dev", 0x1000, 0);
	ASSERT_LT(0, self->dev);
	ASSERT_EQ(0, mt_add_subregion(self->fd, self->root, self->ram, 0x100000, 0));
	ASSERT_EQ(0, mt_add_subregion(self->fd, self->root, self->dev, 0, 0));
	self->as = mt_space_create(self->fd, "memory", self->root);
	ASSERT_LT(0, self->as);
	self->efd = eventfd(0, EFD_NONBLOCK);
	ASSERT_LE(0, self->efd);
	ASSERT_EQ(0, mt_get_flat(self->fd, self->as, &r, &n, &self->gen));
	free(r);
}

FIXTURE_TEARDOWN(ev)
{
	close(self->efd);
	close(self->fd);
}

static void expect_section(struct __test_metadata *_metadata, const struct memtopo_event *e,
			   __u32 type, __u32 region, __u64 start, __u64 last, __u64 offset)
{
	EXPECT_EQ(type, e->type) TH_LOG("event seq %llu is %s", (unsigned long long)e->seq,
					mt_event_name(e->type));
	EXPECT_EQ(region, e->region);
	EXPECT_EQ(start, e->start);
	EXPECT_EQ(last, e->last);
	EXPECT_EQ(offset, e->offset);
}

#define EXPECT_SECTION(e, ...) expect_section(_metadata, e, __VA_ARGS__)

TEST_F(ev, every_kind_in_qemu_order)
{
	const __u32 mask = MEMTOPO_EVENT_MASK_ALL & ~(1u << MEMTOPO_EVENT_REGION_NOP);
	struct memtopo_event ev[32];
	struct memtopo_range *r;
	__u64 bits[1], gen;
	__u32 id, n, i;
	int iofd = eventfd(0, 0);

	ASSERT_LE(0, iofd);
	ASSERT_EQ(0, mt_subscribe(self->fd, self->as, self->efd, mask, 0, &id));

	/*
	 * memory_region_set_log() commits; address_space_update_topology_pass()
	 * sends log_start for a range in both views whose mask grew.
	 */
	ASSERT_EQ(0, ev_set_log(self->fd, self->ram, 0, 1));
	ASSERT_EQ(2, ev_drain(self->fd, id, ev, 32));
	EXPECT_SECTION(&ev[0], MEMTOPO_EVENT_LOG_START, self->ram, 0x100000, 0x10ffff, 0);
	EXPECT_EQ(0, ev[0].old_mask);
	EXPECT_EQ(1, ev[0].new_mask);
	EXPECT_EQ(MEMTOPO_EVENT_COMMIT, ev[1].type);
	EXPECT_EQ(1, ev_signals(self->efd));

	/*
	 * memory_region_sync_dirty_bitmap(): log_sync for each range showing
	 * the region, outside any commit: its own signal, the current
	 * generation, no COMMIT.
	 */
	ASSERT_EQ(0, mt_get_flat(self->fd, self->as, &r, &n, &gen));
	free(r);
	ASSERT_EQ(0, ev_dirty(self->fd, MEMTOPO_DIRTY_GET, self->ram, 0, 16, bits));
	ASSERT_EQ(1, ev_drain(self->fd, id, ev, 32));
	EXPECT_SECTION(&ev[0], MEMTOPO_EVENT_LOG_SYNC, self->ram, 0x100000, 0x10ffff, 0);
	EXPECT_EQ(1, ev[0].new_mask);
	EXPECT_EQ(gen, ev[0].generation);
	EXPECT_EQ(1, ev_signals(self->efd));

	/*
	 * memory_global_dirty_log_start(): log_global_start first, then the
	 * commit that adds MIGRATION (log_start, mask 1 -> 5).
	 */
	ASSERT_EQ(0, ev_dirty(self->fd, MEMTOPO_DIRTY_GLOBAL_START, 0, 0, 0, NULL));
	ASSERT_EQ(3, ev_drain(self->fd, id, ev, 32));
	EXPECT_EQ(MEMTOPO_EVENT_LOG_GLOBAL_START, ev[0].type);
	EXPECT_EQ(0, ev[0].region);
	EXPECT_EQ(gen, ev[0].generation);
	EXPECT_SECTION(&ev[1], MEMTOPO_EVENT_LOG_START, self->ram, 0x100000, 0x10ffff, 0);
	EXPECT_EQ(1, ev[1].old_mask);
	EXPECT_EQ(5, ev[1].new_mask);
	EXPECT_EQ(MEMTOPO_EVENT_COMMIT, ev[2].type);
	EXPECT_LT(gen, ev[1].generation);
	EXPECT_EQ(ev[1].generation, ev[2].generation);
	EXPECT_EQ(2, ev_signals(self->efd));

	/*
	 * memory_global_dirty_log_do_stop(): the commit (log_stop) first, then
	 * log_global_stop.
	 */
	ASSERT_EQ(0, ev_dirty(self->fd, MEMTOPO_DIRTY_GLOBAL_STOP, 0, 0, 0, NULL));
	ASSERT_EQ(3, ev_drain(self->fd, id, ev, 32));
	EXPECT_SECTION(&ev[0], MEMTOPO_EVENT_LOG_STOP, self->ram, 0x100000, 0x10ffff, 0);
	EXPECT_EQ(5, ev[0].old_mask);
	EXPECT_EQ(1, ev[0].new_mask);
	EXPECT_EQ(MEMTOPO_EVENT_COMMIT, ev[1].type);
	EXPECT_EQ(MEMTOPO_EVENT_LOG_GLOBAL_STOP, ev[2].type);
	EXPECT_EQ(ev[1].generation, ev[2].generation);

	/*
	 * memory_region_add_eventfd(): only ioeventfds changed, so the commit
	 * runs address_space_update_ioeventfds() without begin/commit.
	 */
	ASSERT_EQ(0, ev_ioeventfd(self->fd, self->dev, iofd, 0x10, 4,
				  MEMTOPO_IOEVENTFD_DATAMATCH, 0x1234));
	ASSERT_EQ(1, ev_drain(self->fd, id, ev, 32));
	EXPECT_SECTION(&ev[0], MEMTOPO_EVENT_EVENTFD_ADD, self->dev, 0x10, 0x13, 0x10);
	EXPECT_EQ(0x10, ev[0].ioeventfd.addr);
	EXPECT_EQ(4, ev[0].ioeventfd.len);
	EXPECT_EQ(0x1234, ev[0].ioeventfd.data);
	EXPECT_EQ(MEMTOPO_EVENT_IOEVENTFD_DATAMATCH, ev[0].ioeventfd.flags);
	/* memory_region_del_eventfd() */
	ASSERT_EQ(0, ev_ioeventfd(self->fd, self->dev, iofd, 0x10, 4,
				  MEMTOPO_IOEVENTFD_DATAMATCH | MEMTOPO_IOEVENTFD_DEASSIGN,
				  0x1234));
	ASSERT_EQ(1, ev_drain(self->fd, id, ev, 32));
	EXPECT_SECTION(&ev[0], MEMTOPO_EVENT_EVENTFD_DEL, self->dev, 0x10, 0x13, 0x10);
	EXPECT_EQ(0x1234, ev[0].ioeventfd.data);
	/* without data matching */
	ASSERT_EQ(0, ev_ioeventfd(self->fd, self->dev, iofd, 0x20, 2, 0, 0));
	ASSERT_EQ(1, ev_drain(self->fd, id, ev, 32));
	EXPECT_SECTION(&ev[0], MEMTOPO_EVENT_EVENTFD_ADD, self->dev, 0x20, 0x21, 0x20);
	EXPECT_EQ(2, ev[0].ioeventfd.len);
	EXPECT_EQ(0, ev[0].ioeventfd.flags);
	EXPECT_EQ(0, ev[0].ioeventfd.data);
	ev_signals(self->efd);

	/*
	 * memory_region_add_coalescing() -> memory_region_update_coalesced_range():
	 * per flat range of the region, coalesced_io_del of the whole range
	 * (once the region had coalescing) then coalesced_io_add per part.
	 */
	ASSERT_EQ(0, ev_coalesced(self->fd, self->dev, 0x100, 0x80, 0));
	ASSERT_EQ(1, ev_drain(self->fd, id, ev, 32));
	EXPECT_SECTION(&ev[0], MEMTOPO_EVENT_COALESCED_ADD, self->dev, 0, 0xfff, 0);
	EXPECT_EQ(0x100, ev[0].coalesced.addr);
	EXPECT_EQ(0x80, ev[0].coalesced.length);
	ASSERT_EQ(0, ev_coalesced(self->fd, self->dev, 0x400, 0x10, 0));
	ASSERT_EQ(3, ev_drain(self->fd, id, ev, 32));
	EXPECT_SECTION(&ev[0], MEMTOPO_EVENT_COALESCED_DEL, self->dev, 0, 0xfff, 0);
	EXPECT_EQ(0, ev[0].coalesced.addr);
	EXPECT_EQ(0x1000, ev[0].coalesced.length);
	EXPECT_EQ(MEMTOPO_EVENT_COALESCED_ADD, ev[1].type);
	EXPECT_EQ(0x100, ev[1].coalesced.addr);
	EXPECT_EQ(MEMTOPO_EVENT_COALESCED_ADD, ev[2].type);
	EXPECT_EQ(0x400, ev[2].coalesced.addr);
	EXPECT_EQ(0x10, ev[2].coalesced.length);
	/* each event outside a commit is signalled on its own */
	EXPECT_EQ(4, ev_signals(self->efd));

	/*
	 * Moving the device: address_space_update_topology_pass() calls
	 * flat_range_coalesced_io_del() before region_del and
	 * flat_range_coalesced_io_add() after region_add; then
	 * address_space_update_ioeventfds() moves the ioeventfd; one COMMIT.
	 */
	ASSERT_EQ(0, mt_region_set(self->fd, MEMTOPO_OP_SET_ADDRESS, self->dev, 0, 0x2000, 0));
	n = ev_drain(self->fd, id, ev, 32);
	ASSERT_EQ(8, n);
	EXPECT_SECTION(&ev[0], MEMTOPO_EVENT_COALESCED_DEL, self->dev, 0, 0xfff, 0);
	EXPECT_SECTION(&ev[1], MEMTOPO_EVENT_REGION_DEL, self->dev, 0, 0xfff, 0);
	EXPECT_SECTION(&ev[2], MEMTOPO_EVENT_REGION_ADD, self->dev, 0x2000, 0x2fff, 0);
	EXPECT_SECTION(&ev[3], MEMTOPO_EVENT_COALESCED_ADD, self->dev, 0x2000, 0x2fff, 0);
	EXPECT_EQ(0x2100, ev[3].coalesced.addr);
	EXPECT_SECTION(&ev[4], MEMTOPO_EVENT_COALESCED_ADD, self->dev, 0x2000, 0x2fff, 0);
	EXPECT_EQ(0x2400, ev[4].coalesced.addr);
	EXPECT_SECTION(&ev[5], MEMTOPO_EVENT_EVENTFD_DEL, self->dev, 0x20, 0x21, 0x20);
	EXPECT_SECTION(&ev[6], MEMTOPO_EVENT_EVENTFD_ADD, self->dev, 0x2020, 0x2021, 0x20);
	EXPECT_EQ(0x2020, ev[6].ioeventfd.addr);
	EXPECT_EQ(MEMTOPO_EVENT_COMMIT, ev[7].type);
	for (i = 1; i < n; i++) {
		EXPECT_EQ(ev[0].seq + i, ev[i].seq);
		EXPECT_EQ(ev[7].generation, ev[i].generation);
	}
	EXPECT_EQ(1, ev_signals(self->efd));

	/* nothing asked REGION_NOP, so no commit reported unchanged ranges */
	EXPECT_EQ(0, mt_unsubscribe(self->fd, id));
	close(iofd);
}

TEST_F(ev, region_nop_every_unchanged_range)
{
	const __u32 mask = (1u << MEMTOPO_EVENT_REGION_NOP) | (1u << MEMTOPO_EVENT_COMMIT);
	struct memtopo_event ev[16];
	__u32 id;

	ASSERT_EQ(0, mt_subscribe(self->fd, self->as, -1, mask, 0, &id));
	/*
	 * address_space_update_topology_pass(), adding pass: region_nop for
	 * each range in both views, in address order; the moved RAM range
	 * is a del/add this mask does not select.
	 */
	ASSERT_EQ(0, mt_region_set(self->fd, MEMTOPO_OP_SET_ADDRESS, self->ram, 0, 0x200000, 0));
	ASSERT_EQ(2, ev_drain(self->fd, id, ev, 16));
	EXPECT_SECTION(&ev[0], MEMTOPO_EVENT_REGION_NOP, self->dev, 0, 0xfff, 0);
	EXPECT_EQ(MEMTOPO_EVENT_COMMIT, ev[1].type);
	/* now the RAM range is the one that stayed */
	ASSERT_EQ(0, mt_region_set(self->fd, MEMTOPO_OP_SET_ADDRESS, self->dev, 0, 0x3000, 0));
	ASSERT_EQ(2, ev_drain(self->fd, id, ev, 16));
	EXPECT_SECTION(&ev[0], MEMTOPO_EVENT_REGION_NOP, self->ram, 0x200000, 0x20ffff, 0);
}

TEST_F(ev, masks_filter_and_zero_keeps_its_meaning)
{
	struct memtopo_event ev[32];
	__u32 all, legacy, adds, i, n;
	int seen[MEMTOPO_EVENT_NR] = {};

	ASSERT_EQ(0, mt_subscribe(self->fd, self->as, -1, MEMTOPO_EVENT_MASK_ALL, 0, &all));
	ASSERT_EQ(0, mt_subscribe(self->fd, self->as, -1, 0, 0, &legacy));
	ASSERT_EQ(0, mt_subscribe(self->fd, self->as, -1, 1u << MEMTOPO_EVENT_REGION_ADD, 0,
				  &adds));
	ASSERT_EQ(0, ev_set_log(self->fd, self->ram, 0, 1));
	ASSERT_EQ(0, ev_dirty(self->fd, MEMTOPO_DIRTY_GLOBAL_START, 0, 0, 0, NULL));
	ASSERT_EQ(0, ev_coalesced(self->fd, self->dev, 0, 0x10, 0));
	ASSERT_EQ(0, mt_region_set(self->fd, MEMTOPO_OP_SET_ADDRESS, self->dev, 0, 0x2000, 0));

	n = ev_drain(self->fd, all, ev, 32);
	ASSERT_EQ(16, n);
	for (i = 0; i < n; i++)
		seen[ev[i].type]++;
	EXPECT_EQ(1, seen[MEMTOPO_EVENT_REGION_ADD]);
	EXPECT_EQ(1, seen[MEMTOPO_EVENT_REGION_DEL]);
	EXPECT_EQ(2, seen[MEMTOPO_EVENT_LOG_START]);
	EXPECT_EQ(1, seen[MEMTOPO_EVENT_LOG_GLOBAL_START]);
	EXPECT_EQ(2, seen[MEMTOPO_EVENT_COALESCED_ADD]);
	EXPECT_EQ(1, seen[MEMTOPO_EVENT_COALESCED_DEL]);
	/* both ranges stayed in the first two commits, the RAM one in the last */
	EXPECT_EQ(5, seen[MEMTOPO_EVENT_REGION_NOP]);
	EXPECT_EQ(3, seen[MEMTOPO_EVENT_COMMIT]);

	/* mask 0: the first ABI's types only */
	n = ev_drain(self->fd, legacy, ev, 32);
	ASSERT_EQ(7, n);
	EXPECT_EQ(MEMTOPO_EVENT_LOG_START, ev[0].type);
	EXPECT_EQ(MEMTOPO_EVENT_COMMIT, ev[1].type);
	EXPECT_EQ(MEMTOPO_EVENT_LOG_START, ev[2].type);
	EXPECT_EQ(MEMTOPO_EVENT_COMMIT, ev[3].type);
	EXPECT_EQ(MEMTOPO_EVENT_REGION_DEL, ev[4].type);
	EXPECT_EQ(MEMTOPO_EVENT_REGION_ADD, ev[5].type);
	EXPECT_EQ(MEMTOPO_EVENT_COMMIT, ev[6].type);
	/* seq counts this subscription's events only */
	for (i = 0; i < n; i++)
		EXPECT_EQ(i + 1, ev[i].seq);

	/* one type, no COMMIT asked: only the addition */
	ASSERT_EQ(1, ev_drain(self->fd, adds, ev, 32));
	EXPECT_SECTION(&ev[0], MEMTOPO_EVENT_REGION_ADD, self->dev, 0x2000, 0x2fff, 0);

	/* types this kernel does not know, and bit 0, are refused */
	EXPECT_EQ(-EINVAL, mt_subscribe(self->fd, self->as, -1, 1u << MEMTOPO_EVENT_NR, 0, &i));
	EXPECT_EQ(-EINVAL, mt_subscribe(self->fd, self->as, -1, 1, 0, &i));
	EXPECT_EQ(-EINVAL, mt_subscribe(self->fd, self->as, -1, 1u << 31, 0, &i));
}

TEST_F(ev, old_event_size_gets_old_layout)
{
	const size_t v1 = MEMTOPO_EVENT_SIZE_V1;
	unsigned char buf[4 * MEMTOPO_EVENT_SIZE_V1 + 16];
	struct memtopo_read_events rd = {
		.size = sizeof(rd), .count = 4, .events = (uintptr_t)buf, .event_size = v1,
	};
	struct {
		struct memtopo_event e;
		__u64 tail[2];
	} big[2];
	__u32 id, region, type;
	__u64 seq, start, last;
	size_t i;

	ASSERT_EQ(0, mt_subscribe(self->fd, self->as, -1, 0, MEMTOPO_SUBSCRIBE_REPLAY, &id));
	memset(buf, 0xa5, sizeof(buf));
	rd.id = id;
	/* shorter than the first ABI's event: refused, nothing dequeued */
	rd.event_size = v1 - 1;
	EXPECT_EQ(-EINVAL, ev_ioctl(self->fd, MEMTOPO_READ_EVENTS, &rd));
	rd.event_size = v1;
	ASSERT_EQ(0, ev_ioctl(self->fd, MEMTOPO_READ_EVENTS, &rd));
	/* replay: dev, ram, COMMIT, packed at the old stride */
	ASSERT_EQ(3, rd.count);
	for (i = 0; i < 3; i++) {
		memcpy(&seq, buf + i * v1 + offsetof(struct memtopo_event, seq), 8);
		memcpy(&type, buf + i * v1 + offsetof(struct memtopo_event, type), 4);
		EXPECT_EQ(i + 1, seq);
		EXPECT_EQ(i < 2 ? MEMTOPO_EVENT_REGION_ADD : MEMTOPO_EVENT_COMMIT, type);
	}
	memcpy(&region, buf + v1 + offsetof(struct memtopo_event, region), 4);
	memcpy(&start, buf + v1 + offsetof(struct memtopo_event, start), 8);
	memcpy(&last, buf + v1 + offsetof(struct memtopo_event, last), 8);
	EXPECT_EQ(self->ram, region);
	EXPECT_EQ(0x100000, start);
	EXPECT_EQ(0x10ffff, last);
	/* nothing written past the events copied */
	for (i = 3 * v1; i < sizeof(buf); i++)
		ASSERT_EQ(0xa5, buf[i]) TH_LOG("byte %zu written", i);

	/* a reader knowing a longer event gets a zeroed tail */
	ASSERT_EQ(0, mt_region_set(self->fd, MEMTOPO_OP_SET_ADDRESS, self->dev, 0, 0x2000, 0));
	memset(big, 0xa5, sizeof(big));
	rd.events = (uintptr_t)big;
	rd.event_size = sizeof(big[0]);
	rd.count = 2;
	ASSERT_EQ(0, ev_ioctl(self->fd, MEMTOPO_READ_EVENTS, &rd));
	ASSERT_EQ(2, rd.count);
	EXPECT_EQ(MEMTOPO_EVENT_REGION_DEL, big[0].e.type);
	EXPECT_EQ(0, big[0].e.ioeventfd.addr);
	EXPECT_EQ(0, big[0].tail[0]);
	EXPECT_EQ(0, big[1].tail[1]);
	EXPECT_EQ(MEMTOPO_EVENT_REGION_ADD, big[1].e.type);
	EXPECT_EQ(0x2000, big[1].e.start);
}

/* ---- resync by difference ------------------------------------------ */

static bool range_is(const struct memtopo_range *r, const struct memtopo_event *e)
{
	return r->start == e->start && r->last == e->last && r->region == e->region &&
	       r->offset == e->offset && r->flags == e->range_flags &&
	       r->dirty_log_mask == e->new_mask;
}

/*
 * Apply a difference to a flat view: every REGION_DEL must name a range it
 * has, every REGION_ADD (after all of them) a place that is free.
 * Return: 0, or -1 if an event does not fit the view.
 */
static int apply_diff(struct memtopo_range *r, __u32 *n, __u32 cap,
		      const struct memtopo_event *ev, __u32 nev)
{
	bool adding = false;
	__u32 i, k;

	for (i = 0; i < nev; i++) {
		const struct memtopo_event *e = &ev[i];

		if (e->seq != i + 1)
			return -1;
		if (e->type == MEMTOPO_EVENT_REGION_DEL) {
			if (adding)
				return -1;
			for (k = 0; k < *n && !range_is(&r[k], e); k++)
				;
			if (k == *n)
				return -1;
			memmove(&r[k], &r[k + 1], (*n - k - 1) * sizeof(*r));
			(*n)--;
			continue;
		}
		if (e->type != MEMTOPO_EVENT_REGION_ADD || *n == cap)
			return -1;
		adding = true;
		for (k = 0; k < *n; k++)
			if (!(e->last < r[k].start || e->start > r[k].last))
				return -1;
		for (k = *n; k > 0 && r[k - 1].start > e->start; k--)
			r[k] = r[k - 1];
		memset(&r[k], 0, sizeof(r[k]));
		r[k].start = e->start;
		r[k].last = e->last;
		r[k].offset = e->offset;
		r[k].region = e->region;
		r[k].flags = e->range_flags;
		r[k].dirty_log_mask = e->new_mask;
		(*n)++;
	}
	return 0;
}

static bool same_flat(const struct memtopo_range *a, __u32 na, const struct memtopo_range *b,
		      __u32 nb)
{
	__u32 i;

	if (na != nb)
		return false;
	for (i = 0; i < na; i++)
		if (a[i].start != b[i].start || a[i].last != b[i].last ||
		    a[i].offset != b[i].offset || a[i].region != b[i].region ||
		    a[i].flags != b[i].flags || a[i].dirty_log_mask != b[i].dirty_log_mask)
			return false;
	return true;
}

#define DIFF_STEPS	40
#define DIFF_DEVS	24
#define DIFF_CAP	256
/*
 * The views a space of these tests keeps for resync by difference: a map
 * this small keeps only its last two, any more would cost more than a
 * small fraction of its view (kmod/history.c, MEMTOPO_HISTORY_MIN).
 */
#define KEPT		2

struct flat_snap {
	__u64 gen;
	__u32 n;
	struct memtopo_range *r;
};

/* One random change: map, unmap, move, hide, reorder, log (some refused). */
static void random_change(int fd, int root, const int *dev, int ram)
{
	int d = dev[rand() % DIFF_DEVS];

	switch (rand() % 6) {
	case 0:
		mt_add_subregion(fd, root, d, (rand() % 64) * 0x800, rand() % 3);
		break;
	case 1:
		mt_region_set(fd, MEMTOPO_OP_DEL_SUBREGION, d, 0, 0, 0);
		break;
	case 2:
		mt_region_set(fd, MEMTOPO_OP_SET_ADDRESS, d, 0, (rand() % 64) * 0x800, 0);
		break;
	case 3:
		mt_region_set(fd, MEMTOPO_OP_SET_ENABLED, d, 0, 0, rand() % 2);
		break;
	case 4:
		mt_region_set(fd, MEMTOPO_OP_SET_PRIORITY, d, 0, 0, 0);
		break;
	default:
		ev_set_log(fd, ram, rand() % 2, rand() % 2);
		break;
	}
}

/*
 * After each of DIFF_STEPS random changes, the difference from every kept
 * generation to the current view and to every later kept one turns the
 * older flat view into the newer; the generation before the kept ones is
 * ESTALE.
 */
TEST_F(ev, flat_diff_equals_view_difference)
{
	static struct flat_snap snap[DIFF_STEPS + 1];
	struct memtopo_range work[DIFF_CAP];
	struct memtopo_event *ev;
	int dev[DIFF_DEVS], k, nsnap = 0, i, j, ret;
	__u64 reached, gen;
	struct memtopo_range *r;
	__u32 n, nev, events = 0, stale = 0;
	char name[16];

	srand(20261126);
	for (k = 0; k < DIFF_DEVS; k++) {
		snprintf(name, sizeof(name), "d%d", k);
		dev[k] = mt_region_create(self->fd, MEMTOPO_KIND_IO, name, 0x800 * (1 + k % 3), 0);
		ASSERT_LT(0, dev[k]);
	}
	ASSERT_EQ(0, mt_get_flat(self->fd, self->as, &snap[0].r, &snap[0].n, &snap[0].gen));
	nsnap = 1;
	while (nsnap <= DIFF_STEPS) {
		random_change(self->fd, self->root, dev, self->ram);
		ASSERT_EQ(0, mt_get_flat(self->fd, self->as, &r, &n, &gen));
		if (gen == snap[nsnap - 1].gen) {
			free(r);
			continue;
		}
		snap[nsnap].r = r;
		snap[nsnap].n = n;
		snap[nsnap++].gen = gen;
		if (nsnap > KEPT + 1) {
			ret = mt_get_flat_diff(self->fd, self->as, snap[nsnap - KEPT - 2].gen, 0,
					       &ev, &nev, &reached);
			ASSERT_EQ(-ESTALE, ret) TH_LOG("%d views later", KEPT + 1);
			stale++;
		}
		/* from every kept generation to the current view, and to every later one */
		for (i = nsnap > KEPT + 1 ? nsnap - KEPT - 1 : 0; i < nsnap; i++) {
			for (j = i; j < nsnap; j++) {
				__u64 to = j == nsnap - 1 && (i + j) % 2 ? 0 : snap[j].gen;

				ret = mt_get_flat_diff(self->fd, self->as, snap[i].gen, to, &ev,
						       &nev, &reached);
				ASSERT_EQ(0, ret) TH_LOG("from %d to %d", i, j);
				EXPECT_EQ(snap[j].gen, reached);
				for (k = 0; k < (int)nev; k++)
					EXPECT_EQ(reached, ev[k].generation);
				ASSERT_GE(DIFF_CAP, snap[i].n);
				memcpy(work, snap[i].r, snap[i].n * sizeof(*work));
				n = snap[i].n;
				ASSERT_EQ(0, apply_diff(work, &n, DIFF_CAP, ev, nev))
					TH_LOG("generation %llu to %llu", snap[i].gen, snap[j].gen);
				EXPECT_TRUE(same_flat(work, n, snap[j].r, snap[j].n))
					TH_LOG("generation %llu to %llu", snap[i].gen,
					       snap[j].gen);
				/* the same view: nothing to do */
				if (i == j)
					EXPECT_EQ(0, nev);
				events += nev;
				free(ev);
			}
		}
	}
	/* the random changes did change something */
	EXPECT_LT(DIFF_STEPS, events);
	EXPECT_EQ(DIFF_STEPS - KEPT, stale);
	for (i = 0; i < nsnap; i++)
		free(snap[i].r);
}

static int flat_diff(int fd, __u32 space, __u64 from, __u64 to, void *buf, __u32 *count,
		     __u32 event_size)
{
	struct memtopo_get_flat_diff d = {
		.size = sizeof(d), .space = space, .count = *count, .from_generation = from,
		.to_generation = to, .events = (uintptr_t)buf, .event_size = event_size,
	};
	int ret = ev_ioctl(fd, MEMTOPO_GET_FLAT_DIFF, &d);

	*count = d.count;
	return ret;
}

TEST_F(ev, flat_diff_errors_and_estale)
{
	struct memtopo_get_flat_diff d = { .size = sizeof(d) };
	unsigned char old[2 * MEMTOPO_EVENT_SIZE_V1];
	struct memtopo_event ev[4];
	__u64 gen[67];
	__u32 n, type;
	int k;

	gen[0] = self->gen;
	/* 66 views replaced: the space keeps the last KEPT of them */
	for (k = 1; k <= 66; k++) {
		struct memtopo_range *r;

		ASSERT_EQ(0, mt_region_set(self->fd, MEMTOPO_OP_SET_ADDRESS, self->ram, 0,
					   k % 2 ? 0x200000 : 0x100000, 0));
		ASSERT_EQ(0, mt_get_flat(self->fd, self->as, &r, &n, &gen[k]));
		free(r);
		ASSERT_LT(gen[k - 1], gen[k]);
	}
	n = 4;
	EXPECT_EQ(-ESTALE, flat_diff(self->fd, self->as, gen[0], 0, ev, &n, sizeof(*ev)));
	n = 4;
	EXPECT_EQ(-ESTALE, flat_diff(self->fd, self->as, gen[63], 0, ev, &n, sizeof(*ev)));
	n = 4;
	EXPECT_EQ(0, flat_diff(self->fd, self->as, gen[64], 0, ev, &n, sizeof(*ev)));
	/* gen[64] has RAM at 0x100000, the current view at 0x100000 too */
	EXPECT_EQ(0, n);
	n = 4;
	EXPECT_EQ(0, flat_diff(self->fd, self->as, gen[65], 0, ev, &n, sizeof(*ev)));
	ASSERT_EQ(2, n);
	EXPECT_SECTION(&ev[0], MEMTOPO_EVENT_REGION_DEL, self->ram, 0x200000, 0x20ffff, 0);
	EXPECT_SECTION(&ev[1], MEMTOPO_EVENT_REGION_ADD, self->ram, 0x100000, 0x10ffff, 0);
	EXPECT_EQ(1, ev[0].seq);
	EXPECT_EQ(2, ev[1].seq);
	EXPECT_EQ(gen[66], ev[1].generation);
	/* to a gone generation */
	n = 4;
	EXPECT_EQ(-ESTALE, flat_diff(self->fd, self->as, gen[65], gen[63], ev, &n, sizeof(*ev)));
	/* too small a buffer: nothing copied, the count needed */
	n = 1;
	memset(ev, 0xa5, sizeof(ev));
	EXPECT_EQ(-ENOSPC, flat_diff(self->fd, self->as, gen[65], 0, ev, &n, sizeof(*ev)));
	EXPECT_EQ(2, n);
	EXPECT_EQ(0xa5a5a5a5a5a5a5a5ull, ev[0].seq);
	/* the first ABI's event size gets the first ABI's layout */
	n = 2;
	EXPECT_EQ(0, flat_diff(self->fd, self->as, gen[65], 0, old, &n, MEMTOPO_EVENT_SIZE_V1));
	memcpy(&type, old + MEMTOPO_EVENT_SIZE_V1 + offsetof(struct memtopo_event, type), 4);
	EXPECT_EQ(MEMTOPO_EVENT_REGION_ADD, type);

	/* the errno contract */
	n = 4;
	EXPECT_EQ(-EINVAL, flat_diff(self->fd, self->as, gen[66] + 1000, 0, ev, &n, sizeof(*ev)));
	n = 4;
	EXPECT_EQ(-ENOENT, flat_diff(self->fd, 9999, gen[66], 0, ev, &n, sizeof(*ev)));
	n = 4;
	EXPECT_EQ(-EINVAL, flat_diff(self->fd, self->as, gen[66], 0, ev, &n,
				     MEMTOPO_EVENT_SIZE_V1 - 8));
	n = 4;
	EXPECT_EQ(-EFAULT, flat_diff(self->fd, self->as, gen[65], 0, (void *)8, &n, sizeof(*ev)));
	d.space = self->as;
	d.from_generation = gen[66];
	d.event_size = sizeof(*ev);
	d.flags = 1;
	EXPECT_EQ(-EINVAL, ev_ioctl(self->fd, MEMTOPO_GET_FLAT_DIFF, &d));
	d.flags = 0;
	d.__reserved = 1;
	EXPECT_EQ(-EINVAL, ev_ioctl(self->fd, MEMTOPO_GET_FLAT_DIFF, &d));
	d.__reserved = 0;
	d.size = offsetof(struct memtopo_get_flat_diff, __reserved);
	EXPECT_EQ(-EINVAL, ev_ioctl(self->fd, MEMTOPO_GET_FLAT_DIFF, &d));
	d.size = sizeof(d);
	EXPECT_EQ(0, ev_ioctl(self->fd, MEMTOPO_GET_FLAT_DIFF, &d));
	EXPECT_EQ(0, d.count);
	EXPECT_EQ(gen[66], d.to_generation);
}

/*
 * A kept view may show a region being destroyed: destroying one forgets
 * the kept views (ESTALE, then the full view), and the ones published
 * afterwards are kept again.  Without that, the debug kernel's KASAN would
 * see the freed region read.
 */
TEST_F(ev, flat_diff_forgets_at_region_destroy)
{
	struct memtopo_event *ev;
	struct memtopo_range *r;
	__u64 before, after;
	__u32 n;
	int gone;

	gone = mt_region_create(self->fd, MEMTOPO_KIND_IO, "gone", 0x1000, 0);
	ASSERT_LT(0, gone);
	ASSERT_EQ(0, mt_add_subregion(self->fd, self->root, gone, 0x8000, 0));
	ASSERT_EQ(0, mt_get_flat(self->fd, self->as, &r, &n, &before));
	free(r);
	ASSERT_EQ(0, mt_region_set(self->fd, MEMTOPO_OP_DEL_SUBREGION, gone, 0, 0, 0));
	/* unmapped, not destroyed: the generation that shows it is kept */
	ASSERT_EQ(0, mt_get_flat_diff(self->fd, self->as, before, 0, &ev, &n, NULL));
	ASSERT_EQ(1, n);
	EXPECT_SECTION(&ev[0], MEMTOPO_EVENT_REGION_DEL, gone, 0x8000, 0x8fff, 0);
	free(ev);
	ASSERT_EQ(0, mt_region_destroy(self->fd, gone));
	EXPECT_EQ(-ESTALE, mt_get_flat_diff(self->fd, self->as, before, 0, &ev, &n, NULL));
	/* the views published afterwards are kept again */
	ASSERT_EQ(0, mt_get_flat(self->fd, self->as, &r, &n, &after));
	free(r);
	ASSERT_EQ(0, mt_region_set(self->fd, MEMTOPO_OP_SET_ADDRESS, self->ram, 0, 0x200000, 0));
	ASSERT_EQ(0, mt_get_flat_diff(self->fd, self->as, after, 0, &ev, &n, NULL));
	ASSERT_EQ(2, n);
	EXPECT_SECTION(&ev[0], MEMTOPO_EVENT_REGION_DEL, self->ram, 0x100000, 0x10ffff, 0);
	EXPECT_SECTION(&ev[1], MEMTOPO_EVENT_REGION_ADD, self->ram, 0x200000, 0x20ffff, 0);
	free(ev);
}

/* ---- an overflowed subscriber resyncs by difference ------------------ */

#define OVF_BANK	64	/* devices in the bank: 129 events a move */
#define OVF_CAP		(DIFF_CAP + OVF_BANK)

struct mirror {
	struct memtopo_range r[OVF_CAP];
	__u32 n;
	__u64 gen;		/* generation of the last COMMIT applied */
	struct memtopo_event pending[2 * OVF_CAP + 8];
	__u32 npending;		/* events of the commit being read */
};

static bool range_at(const struct memtopo_range *r, const struct memtopo_event *e)
{
	return r->start == e->start && r->last == e->last && r->region == e->region &&
	       r->offset == e->offset;
}

/*
 * Apply one commit's events in their order (QEMU's
 * address_space_update_topology_pass(): every region_del, then region_add
 * and log_start / log_stop for the ranges that stayed).
 * Return: 0, or -1 if an event does not fit the mirror.
 */
static int mirror_commit(struct mirror *m, __u64 generation)
{
	__u32 i, k;

	for (i = 0; i < m->npending; i++) {
		const struct memtopo_event *e = &m->pending[i];

		for (k = 0; k < m->n && !range_at(&m->r[k], e); k++)
			;
		switch (e->type) {
		case MEMTOPO_EVENT_REGION_DEL:
			if (k == m->n || m->r[k].flags != e->range_flags)
				return -1;
			memmove(&m->r[k], &m->r[k + 1], (m->n - k - 1) * sizeof(*m->r));
			m->n--;
			break;
		case MEMTOPO_EVENT_LOG_START:
		case MEMTOPO_EVENT_LOG_STOP:
			if (k == m->n || m->r[k].dirty_log_mask != e->old_mask)
				return -1;
			m->r[k].dirty_log_mask = e->new_mask;
			break;
		case MEMTOPO_EVENT_REGION_ADD:
			if (k < m->n || m->n == OVF_CAP)
				return -1;
			for (k = m->n; k > 0 && m->r[k - 1].start > e->start; k--)
				m->r[k] = m->r[k - 1];
			memset(&m->r[k], 0, sizeof(m->r[k]));
			m->r[k].start = e->start;
			m->r[k].last = e->last;
			m->r[k].offset = e->offset;
			m->r[k].region = e->region;
			m->r[k].flags = e->range_flags;
			m->r[k].dirty_log_mask = e->new_mask;
			m->n++;
			break;
		default:
			return -1;
		}
	}
	m->npending = 0;
	m->gen = generation;
	return 0;
}

/*
 * Read everything queued into the mirror, commit by commit.  An OVERFLOW
 * must be the last event; the commit it cut is dropped (the difference
 * starts at the last COMMIT).  Return: overflows seen, or -1 on a bad event.
 */
static int mirror_drain(int fd, __u32 id, struct mirror *m)
{
	struct memtopo_event ev[64];
	int overflows = 0;
	__u32 n, i;

	do {
		n = ARRAY_SIZE(ev);
		if (mt_read_events(fd, id, ev, &n, NULL))
			return -1;
		for (i = 0; i < n; i++) {
			if (overflows)
				return -1;	/* nothing is queued after an OVERFLOW */
			if (ev[i].type == MEMTOPO_EVENT_OVERFLOW) {
				overflows++;
				m->npending = 0;
			} else if (ev[i].type == MEMTOPO_EVENT_COMMIT) {
				if (ev[i].generation <= m->gen ||
				    mirror_commit(m, ev[i].generation))
					return -1;
			} else {
				if (m->npending == ARRAY_SIZE(m->pending))
					return -1;
				m->pending[m->npending++] = ev[i];
			}
		}
	} while (n);
	return overflows;
}

/* Move the bank somewhere else: every device's range deleted and added. */
static void bank_move(int fd, int bank, int *at)
{
	*at = (*at + 1 + rand() % 15) % 16;
	mt_region_set(fd, MEMTOPO_OP_SET_ADDRESS, bank, 0, 0x1000000 + *at * 0x100000ull, 0);
}

#define OVF_ROUNDS	16
/* bank moves whose events (129 each) a queue of 4096 holds: the next overflows */
#define OVF_FILL	31

/* The space's generation now. */
static __u64 ovf_gen(int fd, __u32 space)
{
	struct memtopo_range *r;
	__u64 gen = 0;
	__u32 n;

	if (!mt_get_flat(fd, space, &r, &n, &gen))
		free(r);
	return gen;
}

/*
 * A subscriber reads the random changes of a round, then nothing while
 * bank moves pass its queue's 4096 events: it overflows at the move after
 * OVF_FILL, and 0 to 3 more changes follow (a last round, 78).  It
 * rebuilds its mirror from the one it had at its last COMMIT plus
 * MEMTOPO_GET_FLAT_DIFF when the space still keeps that generation (at
 * most KEPT views were published after it), from MEMTOPO_GET_FLAT when
 * the difference is ESTALE, and the result must equal MEMTOPO_GET_FLAT.
 * Events continue from either.  About 600 commits of up to 129 events:
 * the debug kernel under TCG needs more than the harness's default 30 s.
 */
TEST_F_TIMEOUT(ev, overflow_resync_by_difference, 240)
{
	static struct mirror m;
	int dev[DIFF_DEVS], bank, at = 0, at_last, round, k, tail, after, resyncs = 0, stales = 0;
	struct memtopo_range *r;
	struct memtopo_event *ev;
	__u64 reached, gen, last;
	__u32 id, n, nev, diffs = 0;
	char name[16];

	srand(20261127);
	for (k = 0; k < DIFF_DEVS; k++) {
		snprintf(name, sizeof(name), "d%d", k);
		dev[k] = mt_region_create(self->fd, MEMTOPO_KIND_IO, name, 0x800 * (1 + k % 3), 0);
		ASSERT_LT(0, dev[k]);
	}
	bank = mt_region_create(self->fd, MEMTOPO_KIND_CONTAINER, "bank", 0x100000, 0);
	ASSERT_LT(0, bank);
	for (k = 0; k < OVF_BANK; k++) {
		int b;

		snprintf(name, sizeof(name), "b%d", k);
		b = mt_region_create(self->fd, MEMTOPO_KIND_IO, name, 0x100, 0);
		ASSERT_LT(0, b);
		ASSERT_EQ(0, mt_add_subregion(self->fd, bank, b, k * 0x1000, 0));
	}
	ASSERT_EQ(0, mt_add_subregion(self->fd, self->root, bank, 0x1000000, 0));
	ASSERT_EQ(0, mt_subscribe(self->fd, self->as, -1, 0, MEMTOPO_SUBSCRIBE_REPLAY, &id));
	/* the replay builds the mirror */
	ASSERT_EQ(0, mirror_drain(self->fd, id, &m));
	ASSERT_EQ(0, mt_get_flat(self->fd, self->as, &r, &n, &gen));
	EXPECT_EQ(gen, m.gen);
	EXPECT_TRUE(same_flat(m.r, m.n, r, n));
	free(r);

	for (round = 0; round <= OVF_ROUNDS; round++) {
		/* 0-11 random changes, read as they come */
		for (k = rand() % 12; k; k--)
			random_change(self->fd, self->root, dev, self->ram);
		ASSERT_EQ(0, mirror_drain(self->fd, id, &m)) TH_LOG("round %d", round);
		for (k = 0; k < OVF_FILL; k++)
			bank_move(self->fd, bank, &at);
		last = ovf_gen(self->fd, self->as);
		at_last = at;
		/* the move that overflows, then the tail: moves or random changes */
		bank_move(self->fd, bank, &at);
		after = 1;
		tail = round == OVF_ROUNDS ? 78 : round % 4;
		for (k = 0; k < tail; k++) {
			gen = ovf_gen(self->fd, self->as);
			if (k % 2)
				random_change(self->fd, self->root, dev, self->ram);
			else
				bank_move(self->fd, bank, &at);
			after += ovf_gen(self->fd, self->as) != gen;
		}
		ASSERT_EQ(1, mirror_drain(self->fd, id, &m)) TH_LOG("round %d", round);
		/* the overflow cut the move after the last COMMIT read */
		ASSERT_EQ(last, m.gen) TH_LOG("round %d", round);
		k = mt_get_flat_diff(self->fd, self->as, m.gen, 0, &ev, &nev, &reached);
		if (after > KEPT) {
			/* more views passed than are kept: the whole view */
			ASSERT_EQ(-ESTALE, k) TH_LOG("round %d: %d views later", round, after);
			stales++;
			ASSERT_EQ(0, mt_get_flat(self->fd, self->as, &r, &n, &gen));
			ASSERT_GE(OVF_CAP, n);
			memcpy(m.r, r, n * sizeof(*r));
			m.n = n;
			m.gen = gen;
			free(r);
		} else {
			ASSERT_EQ(0, k) TH_LOG("round %d: generation %llu, %d views later", round,
					       (unsigned long long)m.gen, after);
			ASSERT_EQ(0, apply_diff(m.r, &m.n, OVF_CAP, ev, nev))
				TH_LOG("round %d", round);
			/* a bank that ended elsewhere: each device deleted and added */
			if (at != at_last)
				EXPECT_LE(2 * OVF_BANK, nev) TH_LOG("round %d", round);
			m.gen = reached;
			diffs += nev;
			free(ev);
		}
		resyncs++;
		ASSERT_EQ(0, mt_get_flat(self->fd, self->as, &r, &n, &gen));
		EXPECT_EQ(gen, m.gen) TH_LOG("round %d", round);
		EXPECT_TRUE(same_flat(m.r, m.n, r, n)) TH_LOG("round %d", round);
		free(r);
	}
	/* after the full resync, events carry on from its generation */
	for (k = 0; k < 8; k++) {
		random_change(self->fd, self->root, dev, self->ram);
		bank_move(self->fd, bank, &at);
	}
	ASSERT_EQ(0, mirror_drain(self->fd, id, &m));
	ASSERT_EQ(0, mt_get_flat(self->fd, self->as, &r, &n, &gen));
	EXPECT_EQ(gen, m.gen);
	EXPECT_TRUE(same_flat(m.r, m.n, r, n));
	free(r);
	EXPECT_EQ(OVF_ROUNDS + 1, resyncs);
	/* tails of 0 and 1 resync by difference; of 3 and the last in full */
	EXPECT_LE(OVF_ROUNDS / 4 + 1, stales);
	EXPECT_GE(OVF_ROUNDS + 1 - OVF_ROUNDS / 2, stales);
	EXPECT_LE(2 * OVF_BANK, diffs);
	EXPECT_EQ(0, mt_unsubscribe(self->fd, id));
}

/* ---- the budget bounds the kept generations (module-wide ceiling) ---- */

/* "memory N" and the space's "kept N" from debugfs stats; -1 if missing. */
static long stat_of(const char *ctx, const char *key)
{
	char path[128], *s, *p;

	snprintf(path, sizeof(path), DBG "/%s/stats", ctx);
	s = read_file(path);
	if (!s)
		return -1;
	p = strstr(s, key);
	return p ? atol(p + strlen(key)) : -1;
}

FIXTURE(budget) {
	long saved, saved_share;
	int fd, root, ram, as;
	char name[32];
};

FIXTURE_SETUP(budget)
{
	char *s = read_file(PARAM_MEM_MAX);
	int created;

	ASSERT_NE(NULL, s) TH_LOG("no memtopo.ctx_mem_max parameter");
	self->saved = atol(s);
	s = read_file(PARAM_HISTORY_SHARE);
	ASSERT_NE(NULL, s) TH_LOG("no memtopo.history_share parameter");
	self->saved_share = atol(s);
	self->fd = mt_open();
	ASSERT_LE(0, self->fd);
	snprintf(self->name, sizeof(self->name), "ev-budget-%d", getpid());
	ASSERT_EQ(0, mt_attach(self->fd, self->name, MEMTOPO_ATTACH_CREATE, &created));
	self->root = mt_region_create(self->fd, MEMTOPO_KIND_CONTAINER, "system", 0,
				      MEMTOPO_OP_F_SIZE_2_64);
	self->ram = mt_region_create(self->fd, MEMTOPO_KIND_RAM, "ram", 0x10000, 0);
	ASSERT_EQ(0, mt_add_subregion(self->fd, self->root, self->ram, 0x100000, 0));
	self->as = mt_space_create(self->fd, "memory", self->root);
	ASSERT_LT(0, self->as);
}

FIXTURE_TEARDOWN(budget)
{
	if (self->saved > 0)
		write_long(PARAM_MEM_MAX, self->saved);
	if (self->saved_share > 0)
		write_long(PARAM_HISTORY_SHARE, self->saved_share);
	mt_ctx_destroy(self->fd, self->name);
	close(self->fd);
}

static __u64 move_ram(struct __test_metadata *_metadata, int fd, int ram, int as, int k)
{
	struct memtopo_range *r;
	__u64 gen;
	__u32 n;

	EXPECT_EQ(0, mt_region_set(fd, MEMTOPO_OP_SET_ADDRESS, ram, 0, 0x100000 + k * 0x10000, 0));
	EXPECT_EQ(0, mt_get_flat(fd, as, &r, &n, &gen));
	free(r);
	return gen;
}

TEST_F(budget, bounds_kept_generations)
{
	struct memtopo_event *ev;
	long used, kept, before;
	__u64 gen[32];
	__u32 n;
	int k;

	/* the space's creation replaced its empty view already */
	before = stat_of(self->name, " kept ");
	ASSERT_LE(0, before);
	for (k = 0; k < 10; k++)
		gen[k] = move_ram(_metadata, self->fd, self->ram, self->as, k + 1);
	/* a map this small keeps its last KEPT */
	EXPECT_GE(KEPT, before);
	EXPECT_EQ(KEPT, stat_of(self->name, " kept "));
	used = stat_of(self->name, "memory ");
	ASSERT_LT(0, used);

	/* no room for more: each new view pushes older ones out, memory stays */
	ASSERT_EQ(0, write_long(PARAM_MEM_MAX, used));
	for (k = 10; k < 20; k++) {
		gen[k] = move_ram(_metadata, self->fd, self->ram, self->as, k + 1);
		EXPECT_GE(used, stat_of(self->name, "memory "));
		kept = stat_of(self->name, " kept ");
		EXPECT_LE(1, kept);
		EXPECT_GE(KEPT, kept);
	}
	EXPECT_EQ(-ESTALE, mt_get_flat_diff(self->fd, self->as, gen[0], 0, &ev, &n, NULL));
	ASSERT_EQ(0, mt_get_flat_diff(self->fd, self->as, gen[18], 0, &ev, &n, NULL));
	EXPECT_EQ(2, n);
	free(ev);

	/* no room at all: nothing is kept, and commits still work */
	ASSERT_EQ(0, write_long(PARAM_MEM_MAX, 1));
	gen[20] = move_ram(_metadata, self->fd, self->ram, self->as, 21);
	EXPECT_EQ(0, stat_of(self->name, " kept "));
	EXPECT_EQ(-ESTALE, mt_get_flat_diff(self->fd, self->as, gen[19], 0, &ev, &n, NULL));
	EXPECT_GT(used, stat_of(self->name, "memory "));

	/* room again: the next replaced view is kept */
	ASSERT_EQ(0, write_long(PARAM_MEM_MAX, self->saved));
	move_ram(_metadata, self->fd, self->ram, self->as, 22);
	EXPECT_EQ(1, stat_of(self->name, " kept "));
	ASSERT_EQ(0, mt_get_flat_diff(self->fd, self->as, gen[20], 0, &ev, &n, NULL));
	EXPECT_EQ(2, n);
	free(ev);
}

/*
 * memtopo.history_share 0 lifts the bound by the view's size: a small map
 * keeps its last 64 views.  Back at the default, the next commit keeps only
 * the last KEPT.
 */
TEST_F(budget, history_share_lifted)
{
	struct memtopo_event *ev;
	__u64 gen[67];
	__u32 n;
	int k;

	ASSERT_LT(0, self->saved_share);
	ASSERT_EQ(0, write_long(PARAM_HISTORY_SHARE, 0));
	for (k = 0; k < 66; k++)
		gen[k] = move_ram(_metadata, self->fd, self->ram, self->as, k % 2 + 1);
	EXPECT_EQ(64, stat_of(self->name, " kept "));
	EXPECT_EQ(-ESTALE, mt_get_flat_diff(self->fd, self->as, gen[0], 0, &ev, &n, NULL));
	/* gen[2] has the RAM one step lower than the current view */
	ASSERT_EQ(0, mt_get_flat_diff(self->fd, self->as, gen[2], 0, &ev, &n, NULL));
	EXPECT_EQ(2, n);
	free(ev);

	ASSERT_EQ(0, write_long(PARAM_HISTORY_SHARE, self->saved_share));
	gen[66] = move_ram(_metadata, self->fd, self->ram, self->as, 3);
	EXPECT_EQ(KEPT, stat_of(self->name, " kept "));
	EXPECT_EQ(-ESTALE, mt_get_flat_diff(self->fd, self->as, gen[63], 0, &ev, &n, NULL));
	ASSERT_EQ(0, mt_get_flat_diff(self->fd, self->as, gen[64], 0, &ev, &n, NULL));
	EXPECT_EQ(2, n);
	free(ev);
}

TEST_HARNESS_MAIN
