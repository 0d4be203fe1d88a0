// SPDX-License-Identifier: GPL-2.0
/*
 * kselftests of RAM discard (MEMTOPO_DISCARD): a discard manager on a RAM
 * region, populate / discard / state, every errno of its contract with the
 * state checked unchanged after each refusal, a change failing after its
 * answer was written or when the answer cannot be written, and random
 * populates and discards against a model bitmap.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/userfaultfd.h>

#include "kselftest_harness.h"
#include "memtopo_failnth.h"
#include "memtopo_uffd.h"
#include "../tools/memtopoctl/libmemtopo.c"
#include "memtopo_discard.h"

#define G	0x1000ULL
#define RAM	0x10000ULL

/* The whole state of @region as one word (16 blocks) and its populated bytes. */
static __u64 state(int fd, __u32 region, __u64 *populated)
{
	struct memtopo_discard out;
	__u64 bits = ~0ULL;

	if (dis(fd, MEMTOPO_DISCARD_GET_STATE, region, 0, 0, RAM, &bits, &out))
		return ~0ULL;
	if (populated)
		*populated = out.populated;
	return bits;
}

FIXTURE(dis) {
	int fd;
	int root, ram, as;
};

FIXTURE_SETUP(dis)
{
	self->fd = mt_open();
	ASSERT_LE(0, self->fd) TH_LOG("open /dev/memtopo: %s", strerror(-self->fd));
	self->root = mt_region_create(self->fd, MEMTOPO_KIND_CONTAINER, "system", 0,
				      MEMTOPO_OP_F_SIZE_2_64);
	ASSERT_LT(0, self->root);
	/* not mapped yet: a manager is set before, as virtio-mem does */
	self->ram = mt_region_create(self->fd, MEMTOPO_KIND_RAM, "vmem", RAM, 0);
	ASSERT_LT(0, self->ram);
	self->as = mt_space_create(self->fd, "memory", self->root);
	ASSERT_LT(0, self->as);
}

FIXTURE_TEARDOWN(dis)
{
	close(self->fd);
}

TEST_F(dis, populate_discard_state)
{
	struct memtopo_discard out;
	__u64 bits[2], pop = 0;

	ASSERT_EQ(0, dis(self->fd, MEMTOPO_DISCARD_SET_MANAGER, self->ram, G, 0, 0, NULL, &out));
	EXPECT_EQ(G, out.granularity);
	EXPECT_EQ(RAM, out.managed);
	EXPECT_EQ(0, out.populated);
	/* everything starts discarded, as virtio-mem's memory */
	EXPECT_EQ(0, state(self->fd, self->ram, &pop));

	ASSERT_EQ(0, dis(self->fd, MEMTOPO_DISCARD_POPULATE, self->ram, 0, 0x2000, 0x4000, NULL,
			 &out));
	EXPECT_EQ(0x4000, out.populated);
	EXPECT_EQ(0x3cULL, state(self->fd, self->ram, &pop));
	ASSERT_EQ(0, dis(self->fd, MEMTOPO_DISCARD_DISCARD, self->ram, 0, 0x3000, 0x1000, NULL,
			 &out));
	EXPECT_EQ(0x3000, out.populated);
	EXPECT_EQ(0x34ULL, state(self->fd, self->ram, &pop));
	/* populating over populated and discarded blocks: the discarded ones */
	ASSERT_EQ(0, dis(self->fd, MEMTOPO_DISCARD_POPULATE, self->ram, 0, 0x3000, 0x5000, NULL,
			 &out));
	/* the answer counts only the blocks the populate flipped */
	EXPECT_EQ(0x6000, out.populated);
	EXPECT_EQ(0xfcULL, state(self->fd, self->ram, &pop));
	EXPECT_EQ(0x6000, pop);
	ASSERT_EQ(0, dis(self->fd, MEMTOPO_DISCARD_DISCARD, self->ram, 0, 0, RAM, NULL, &out));
	EXPECT_EQ(0, out.populated);
	EXPECT_EQ(0, state(self->fd, self->ram, &pop));

	/* a part of the state: bit 0 is the first block asked for, the rest 0 */
	ASSERT_EQ(0, dis(self->fd, MEMTOPO_DISCARD_POPULATE, self->ram, 0, 0xf000, 0x1000, NULL,
			 NULL));
	ASSERT_EQ(0, dis(self->fd, MEMTOPO_DISCARD_POPULATE, self->ram, 0, 0x9000, 0x1000, NULL,
			 NULL));
	memset(bits, 0xff, sizeof(bits));
	ASSERT_EQ(0, dis(self->fd, MEMTOPO_DISCARD_GET_STATE, self->ram, 0, 0x8000, 0x8000, bits,
			 &out));
	EXPECT_EQ(0x82ULL, bits[0]);
	EXPECT_EQ(~0ULL, bits[1]);
	EXPECT_EQ(0x2000, out.populated);

	/* the manager goes, with its state; a new one starts discarded */
	ASSERT_EQ(0, dis(self->fd, MEMTOPO_DISCARD_CLEAR_MANAGER, self->ram, 0, 0, 0, NULL, &out));
	EXPECT_EQ(0, out.granularity);
	EXPECT_EQ(-ENOENT, dis(self->fd, MEMTOPO_DISCARD_GET_STATE, self->ram, 0, 0, RAM, bits,
			       NULL));
	ASSERT_EQ(0, dis(self->fd, MEMTOPO_DISCARD_SET_MANAGER, self->ram, 0x4000, 0, 0, NULL,
			 &out));
	EXPECT_EQ(0x4000, out.granularity);
	EXPECT_EQ(0, out.populated);
}

/* Every errno of MEMTOPO_DISCARD; after each refusal the state is as it was. */
TEST_F(dis, errno_contract)
{
	struct memtopo_discard d = { .size = sizeof(d), .op = MEMTOPO_DISCARD_POPULATE,
				     .region = self->ram, .length = G };
	struct {
		struct memtopo_discard d;
		__u64 tail;
	} big = { .d = d, .tail = 1 };
	int fd = self->fd, io, odd, huge, wide, placed;
	__u64 bits = 0, pop = 0;
	void *ro;

	io = mt_region_create(fd, MEMTOPO_KIND_IO, "io", RAM, 0);
	odd = mt_region_create(fd, MEMTOPO_KIND_RAM, "odd", RAM + 0x800, 0);
	huge = mt_region_create(fd, MEMTOPO_KIND_RAM, "huge", 1ULL << 44, 0);
	wide = mt_region_create(fd, MEMTOPO_KIND_RAM, "wide", 1ULL << 37, 0);
	placed = mt_region_create(fd, MEMTOPO_KIND_RAM, "placed", 4 * G, 0);
	ASSERT_LT(0, placed);
	ASSERT_LT(0, io);
	ASSERT_LT(0, odd);
	ASSERT_LT(0, huge);
	ASSERT_LT(0, wide);

	/* ENOENT: no such region; no manager yet */
	EXPECT_EQ(-ENOENT, dis(fd, MEMTOPO_DISCARD_SET_MANAGER, 0x7fff0000, G, 0, 0, NULL, NULL));
	EXPECT_EQ(-ENOENT, dis(fd, MEMTOPO_DISCARD_POPULATE, self->ram, 0, 0, G, NULL, NULL));
	EXPECT_EQ(-ENOENT, dis(fd, MEMTOPO_DISCARD_DISCARD, self->ram, 0, 0, G, NULL, NULL));
	EXPECT_EQ(-ENOENT, dis(fd, MEMTOPO_DISCARD_GET_STATE, self->ram, 0, 0, G, &bits, NULL));
	EXPECT_EQ(-ENOENT, dis(fd, MEMTOPO_DISCARD_CLEAR_MANAGER, self->ram, 0, 0, 0, NULL, NULL));

	/* EINVAL for SET_MANAGER: kind, granularity, size, unused fields */
	EXPECT_EQ(-EINVAL, dis(fd, MEMTOPO_DISCARD_SET_MANAGER, io, G, 0, 0, NULL, NULL));
	EXPECT_EQ(-EINVAL, dis(fd, MEMTOPO_DISCARD_SET_MANAGER, self->root, G, 0, 0, NULL, NULL));
	EXPECT_EQ(-EINVAL, dis(fd, MEMTOPO_DISCARD_SET_MANAGER, self->ram, 0, 0, 0, NULL, NULL));
	EXPECT_EQ(-EINVAL, dis(fd, MEMTOPO_DISCARD_SET_MANAGER, self->ram, 0x800, 0, 0, NULL,
			       NULL));
	EXPECT_EQ(-EINVAL, dis(fd, MEMTOPO_DISCARD_SET_MANAGER, self->ram, 0x3000, 0, 0, NULL,
			       NULL));
	EXPECT_EQ(-EINVAL, dis(fd, MEMTOPO_DISCARD_SET_MANAGER, self->ram, 2 * RAM, 0, 0, NULL,
			       NULL));
	EXPECT_EQ(-EINVAL, dis(fd, MEMTOPO_DISCARD_SET_MANAGER, odd, G, 0, 0, NULL, NULL));
	EXPECT_EQ(-EINVAL, dis(fd, MEMTOPO_DISCARD_SET_MANAGER, self->ram, G, G, 0, NULL, NULL));
	EXPECT_EQ(-EINVAL, dis(fd, MEMTOPO_DISCARD_SET_MANAGER, self->ram, G, 0, G, NULL, NULL));
	EXPECT_EQ(-EINVAL, dis(fd, MEMTOPO_DISCARD_SET_MANAGER, self->ram, G, 0, 0, &bits, NULL));
	/* E2BIG: 2^32 blocks */
	EXPECT_EQ(-E2BIG, dis(fd, MEMTOPO_DISCARD_SET_MANAGER, huge, G, 0, 0, NULL, NULL));

	ASSERT_EQ(0, dis(fd, MEMTOPO_DISCARD_SET_MANAGER, self->ram, G, 0, 0, NULL, NULL));
	ASSERT_EQ(0, dis(fd, MEMTOPO_DISCARD_POPULATE, self->ram, 0, 0x4000, 0x2000, NULL, NULL));
	ASSERT_EQ(0x30ULL, state(fd, self->ram, &pop));

	/* EBUSY: one manager per region, as QEMU */
	EXPECT_EQ(-EBUSY, dis(fd, MEMTOPO_DISCARD_SET_MANAGER, self->ram, G, 0, 0, NULL, NULL));
	EXPECT_EQ(-EBUSY, dis(fd, MEMTOPO_DISCARD_SET_MANAGER, self->ram, 2 * G, 0, 0, NULL,
			      NULL));
	/* EBUSY: a mapped region's manager cannot come or go (listeners saw it) */
	ASSERT_EQ(0, mt_add_subregion(fd, self->root, self->ram, 0x100000, 0));
	EXPECT_EQ(-EBUSY, dis(fd, MEMTOPO_DISCARD_CLEAR_MANAGER, self->ram, 0, 0, 0, NULL, NULL));
	ASSERT_EQ(0, mt_add_subregion(fd, self->root, placed, 0x200000, 0));
	EXPECT_EQ(-EBUSY, dis(fd, MEMTOPO_DISCARD_SET_MANAGER, placed, G, 0, 0, NULL, NULL));

	/* EINVAL for ranges: empty, unaligned, past the manager; stray fields */
	EXPECT_EQ(-EINVAL, dis(fd, MEMTOPO_DISCARD_POPULATE, self->ram, 0, 0, 0, NULL, NULL));
	EXPECT_EQ(-EINVAL, dis(fd, MEMTOPO_DISCARD_POPULATE, self->ram, 0, 0x800, G, NULL, NULL));
	EXPECT_EQ(-EINVAL, dis(fd, MEMTOPO_DISCARD_POPULATE, self->ram, 0, 0, 0x800, NULL, NULL));
	EXPECT_EQ(-EINVAL, dis(fd, MEMTOPO_DISCARD_POPULATE, self->ram, 0, RAM - G, 2 * G, NULL,
			       NULL));
	EXPECT_EQ(-EINVAL, dis(fd, MEMTOPO_DISCARD_DISCARD, self->ram, 0, RAM, G, NULL, NULL));
	EXPECT_EQ(-EINVAL, dis(fd, MEMTOPO_DISCARD_DISCARD, self->ram, 0, 0x4000, 0x800, NULL,
			       NULL));
	EXPECT_EQ(-EINVAL, dis(fd, MEMTOPO_DISCARD_GET_STATE, self->ram, 0, 0x800, G, &bits,
			       NULL));
	EXPECT_EQ(-EINVAL, dis(fd, MEMTOPO_DISCARD_GET_STATE, self->ram, 0, 0, 2 * RAM, &bits,
			       NULL));
	/* an out field is ignored on input: the struct may be reused */
	EXPECT_EQ(0, dis(fd, MEMTOPO_DISCARD_POPULATE, self->ram, 7, 0x4000, G, NULL, NULL));
	EXPECT_EQ(-EINVAL, dis(fd, MEMTOPO_DISCARD_POPULATE, self->ram, 0, 0, G, &bits, NULL));
	EXPECT_EQ(-EINVAL, dis(fd, MEMTOPO_DISCARD_CLEAR_MANAGER, self->ram, 0, 0, G, NULL, NULL));
	EXPECT_EQ(-EINVAL, dis(fd, 0, self->ram, 0, 0, G, NULL, NULL));
	EXPECT_EQ(-EINVAL, dis(fd, MEMTOPO_DISCARD_GET_STATE + 1, self->ram, 0, 0, G, NULL, NULL));
	d.flags = 1;
	EXPECT_EQ(-1, ioctl(fd, MEMTOPO_DISCARD, &d));
	EXPECT_EQ(EINVAL, errno);
	d.flags = 0;
	d.size = 8;
	EXPECT_EQ(-1, ioctl(fd, MEMTOPO_DISCARD, &d));
	EXPECT_EQ(EINVAL, errno);
	d.size = sizeof(d);

	/* EOVERFLOW: past 2^64 */
	EXPECT_EQ(-EOVERFLOW, dis(fd, MEMTOPO_DISCARD_POPULATE, self->ram, 0, ~0ULL - 0xfff,
				  2 * G, NULL, NULL));
	EXPECT_EQ(-EOVERFLOW, dis(fd, MEMTOPO_DISCARD_DISCARD, self->ram, 0, ~0ULL - 0xfff,
				  2 * G, NULL, NULL));
	EXPECT_EQ(-EOVERFLOW, dis(fd, MEMTOPO_DISCARD_GET_STATE, self->ram, 0, ~0ULL - 0xfff,
				  2 * G, &bits, NULL));

	/* E2BIG: a tail the kernel does not know; a state read past the per-call cap */
	big.d.size = sizeof(big);
	EXPECT_EQ(-1, ioctl(fd, MEMTOPO_DISCARD, &big));
	EXPECT_EQ(E2BIG, errno);
	ASSERT_EQ(0, dis(fd, MEMTOPO_DISCARD_SET_MANAGER, wide, G, 0, 0, NULL, NULL));
	EXPECT_EQ(-E2BIG, dis(fd, MEMTOPO_DISCARD_GET_STATE, wide, 0, 0, 1ULL << 37, &bits, NULL));

	/* EFAULT: an unwritable bitmap, an unreadable or read-only struct */
	EXPECT_EQ(-EFAULT, dis(fd, MEMTOPO_DISCARD_GET_STATE, self->ram, 0, 0, RAM,
			       (__u64 *)8, NULL));
	EXPECT_EQ(-1, ioctl(fd, MEMTOPO_DISCARD, (void *)8));
	EXPECT_EQ(EFAULT, errno);
	ro = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, ro);
	d.offset = 0;
	d.length = 0x4000;
	memcpy(ro, &d, sizeof(d));
	ASSERT_EQ(0, mprotect(ro, 4096, PROT_READ));
	EXPECT_EQ(-1, ioctl(fd, MEMTOPO_DISCARD, ro));
	EXPECT_EQ(EFAULT, errno);
	munmap(ro, 4096);

	/* nothing above changed the state */
	EXPECT_EQ(0x30ULL, state(fd, self->ram, &pop));
	EXPECT_EQ(0x2000, pop);
}

/* Random populates and discards, compared to a model after every call. */
TEST_F(dis, random_vs_model)
{
	unsigned int seed = 20261126, i;
	__u64 model = 0, pop = 0;
	int fd = self->fd;

	ASSERT_EQ(0, dis(fd, MEMTOPO_DISCARD_SET_MANAGER, self->ram, G, 0, 0, NULL, NULL));
	for (i = 0; i < 2000; i++) {
		unsigned int r = rand_r(&seed);
		__u64 b = r % 16, n = 1 + (r >> 4) % 16, mask;
		int populate = (r >> 8) & 1, ret;

		/* a range that runs past the manager must be refused */
		ret = dis(fd, populate ? MEMTOPO_DISCARD_POPULATE : MEMTOPO_DISCARD_DISCARD,
			  self->ram, 0, b * G, n * G, NULL, NULL);
		if (b + n > 16) {
			ASSERT_EQ(-EINVAL, ret);
		} else {
			ASSERT_EQ(0, ret);
			mask = (n == 64 ? ~0ULL : ((1ULL << n) - 1)) << b;
			model = populate ? model | mask : model & ~mask;
		}
		ASSERT_EQ(model, state(fd, self->ram, &pop)) TH_LOG("call %u", i);
		ASSERT_EQ(__builtin_popcountll(model) * G, pop);
	}
}

/* ---- userspace events: DISCARD_POPULATE / DISCARD_DISCARD ---- */

#define EV_MASK ((1u << MEMTOPO_EVENT_REGION_ADD) | (1u << MEMTOPO_EVENT_REGION_DEL) |	\
		 (1u << MEMTOPO_EVENT_COMMIT) | (1u << MEMTOPO_EVENT_DISCARD_POPULATE) |	\
		 (1u << MEMTOPO_EVENT_DISCARD_DISCARD))
#define UNIT	0x1000ULL
#define SPAN	0x400000ULL
#define UNITS	(SPAN / UNIT)

/*
 * A mirror built from events alone: the populated units of the space.
 * DISCARD_POPULATE of a mapped unit, DISCARD_DISCARD of an unmapped one,
 * or a REGION_DEL over a unit still populated is an error.
 */
struct ev_mirror {
	unsigned char pop[UNITS];
	unsigned int errors, populates, discards;
};

static int ev_drain(int fd, __u32 sub, struct ev_mirror *m)
{
	struct memtopo_event ev[64];
	__u32 n, i, pending;
	__u64 u;

	do {
		n = 64;
		if (mt_read_events(fd, sub, ev, &n, &pending))
			return -1;
		for (i = 0; i < n; i++) {
			const struct memtopo_event *e = &ev[i];

			if (e->type == MEMTOPO_EVENT_OVERFLOW)
				return -1;
			if (e->type == MEMTOPO_EVENT_COMMIT)
				continue;
			if (e->last >= SPAN || e->start % UNIT || (e->last + 1) % UNIT)
				return -1;
			if (e->type == MEMTOPO_EVENT_DISCARD_POPULATE ||
			    e->type == MEMTOPO_EVENT_DISCARD_DISCARD) {
				int on = e->type == MEMTOPO_EVENT_DISCARD_POPULATE;

				if (e->discard.length != e->last - e->start + 1 ||
				    e->discard.offset != e->offset)
					m->errors++;
				m->populates += on;
				m->discards += !on;
				for (u = e->start / UNIT; u <= e->last / UNIT; u++) {
					if (m->pop[u] == on)
						m->errors++;
					m->pop[u] = on;
				}
			} else if (e->type == MEMTOPO_EVENT_REGION_DEL) {
				for (u = e->start / UNIT; u <= e->last / UNIT; u++)
					if (m->pop[u])
						m->errors++;
			}
		}
	} while (n);
	return 0;
}

/* What the mirror must hold: the populated parts of vmem's ranges. */
static int ev_expect(int fd, __u32 as, __u32 ram, unsigned char *want)
{
	struct memtopo_range *r;
	__u32 n, i;
	__u64 bits = 0, a;

	memset(want, 0, UNITS);
	if (mt_get_flat(fd, as, &r, &n, NULL))
		return -1;
	if (dis(fd, MEMTOPO_DISCARD_GET_STATE, ram, 0, 0, RAM, &bits, NULL)) {
		free(r);
		return -1;
	}
	for (i = 0; i < n; i++) {
		if (r[i].region != (__u32)ram)
			continue;
		for (a = r[i].start; a <= r[i].last; a += UNIT)
			if (a < SPAN && bits >> ((r[i].offset + a - r[i].start) / G) & 1)
				want[a / UNIT] = 1;
	}
	free(r);
	return 0;
}

TEST_F(dis, events)
{
	struct memtopo_event ev[8];
	int fd = self->fd;
	__u32 sub, n, pending;

	ASSERT_EQ(0, dis(fd, MEMTOPO_DISCARD_SET_MANAGER, self->ram, G, 0, 0, NULL, NULL));
	ASSERT_EQ(0, dis(fd, MEMTOPO_DISCARD_POPULATE, self->ram, 0, 0, G, NULL, NULL));
	ASSERT_EQ(0, mt_add_subregion(fd, self->root, self->ram, 0x100000, 0));
	/* the replay: REGION_ADD, then the populated part */
	ASSERT_EQ(0, mt_subscribe(fd, self->as, -1, EV_MASK, MEMTOPO_SUBSCRIBE_REPLAY, &sub));
	n = 8;
	ASSERT_EQ(0, mt_read_events(fd, sub, ev, &n, &pending));
	ASSERT_EQ(3, n);
	EXPECT_EQ(MEMTOPO_EVENT_REGION_ADD, ev[0].type);
	EXPECT_EQ(MEMTOPO_EVENT_DISCARD_POPULATE, ev[1].type);
	EXPECT_EQ(0x100000, ev[1].start);
	EXPECT_EQ(0x100fff, ev[1].last);
	EXPECT_EQ(MEMTOPO_EVENT_COMMIT, ev[2].type);

	/* blocks 2..5 with 3 populated: the discarded runs, ascending */
	ASSERT_EQ(0, dis(fd, MEMTOPO_DISCARD_POPULATE, self->ram, 0, 0x3000, G, NULL, NULL));
	n = 8;
	ASSERT_EQ(0, mt_read_events(fd, sub, ev, &n, &pending));
	ASSERT_EQ(1, n);
	ASSERT_EQ(0, dis(fd, MEMTOPO_DISCARD_POPULATE, self->ram, 0, 0x2000, 4 * G, NULL, NULL));
	n = 8;
	ASSERT_EQ(0, mt_read_events(fd, sub, ev, &n, &pending));
	ASSERT_EQ(2, n);
	EXPECT_EQ(MEMTOPO_EVENT_DISCARD_POPULATE, ev[0].type);
	EXPECT_EQ(0x102000, ev[0].start);
	EXPECT_EQ(0x102fff, ev[0].last);
	EXPECT_EQ(0x2000, ev[0].discard.offset);
	EXPECT_EQ(0x1000, ev[0].discard.length);
	EXPECT_EQ(self->ram, ev[0].region);
	EXPECT_EQ(0x104000, ev[1].start);
	EXPECT_EQ(0x105fff, ev[1].last);
	/* a discard of everything: the populated runs only */
	ASSERT_EQ(0, dis(fd, MEMTOPO_DISCARD_DISCARD, self->ram, 0, 0, RAM, NULL, NULL));
	n = 8;
	ASSERT_EQ(0, mt_read_events(fd, sub, ev, &n, &pending));
	ASSERT_EQ(2, n);
	EXPECT_EQ(MEMTOPO_EVENT_DISCARD_DISCARD, ev[0].type);
	EXPECT_EQ(0x100000, ev[0].start);
	EXPECT_EQ(0x100fff, ev[0].last);
	EXPECT_EQ(MEMTOPO_EVENT_DISCARD_DISCARD, ev[1].type);
	EXPECT_EQ(0x102000, ev[1].start);
	EXPECT_EQ(0x105fff, ev[1].last);
	/* a refused call shows nothing */
	EXPECT_EQ(-EINVAL, dis(fd, MEMTOPO_DISCARD_POPULATE, self->ram, 0, 0x800, G, NULL, NULL));
	n = 8;
	ASSERT_EQ(0, mt_read_events(fd, sub, ev, &n, &pending));
	EXPECT_EQ(0, n);
}

/*
 * A subscriber's mirror of populated memory, from events alone, stays
 * exact through random populates, discards, moves, disables and an I/O
 * window laid over part of the RAM.
 */
TEST_F(dis, events_mirror_random)
{
	static unsigned char want[UNITS];
	struct ev_mirror *m = calloc(1, sizeof(*m));
	unsigned int seed = 77, i;
	int fd = self->fd, io, io_on = 0, enabled = 1;
	__u32 sub;

	ASSERT_NE(NULL, m);
	io = mt_region_create(fd, MEMTOPO_KIND_IO, "window", 3 * UNIT, 0);
	ASSERT_LT(0, io);
	ASSERT_EQ(0, dis(fd, MEMTOPO_DISCARD_SET_MANAGER, self->ram, G, 0, 0, NULL, NULL));
	ASSERT_EQ(0, mt_add_subregion(fd, self->root, self->ram, 0x100000, 0));
	ASSERT_EQ(0, mt_subscribe(fd, self->as, -1, EV_MASK, MEMTOPO_SUBSCRIBE_REPLAY, &sub));
	for (i = 0; i < 600; i++) {
		unsigned int r = rand_r(&seed);
		__u64 b = r % 16, n = 1 + (r >> 4) % (16 - b);

		switch ((r >> 8) % 6) {
		case 0:
		case 1:
			ASSERT_EQ(0, dis(fd, MEMTOPO_DISCARD_POPULATE, self->ram, 0, b * G, n * G,
					 NULL, NULL));
			break;
		case 2:
			ASSERT_EQ(0, dis(fd, MEMTOPO_DISCARD_DISCARD, self->ram, 0, b * G, n * G,
					 NULL, NULL));
			break;
		case 3:
			ASSERT_EQ(0, mt_region_set(fd, MEMTOPO_OP_SET_ADDRESS, self->ram, 0,
						   ((r >> 12) % 0x300) * UNIT, 0));
			break;
		case 4:
			enabled = !enabled;
			ASSERT_EQ(0, mt_region_set(fd, MEMTOPO_OP_SET_ENABLED, self->ram, 0, 0,
						   enabled));
			break;
		case 5:
			if (io_on) {
				ASSERT_EQ(0, mt_region_set(fd, MEMTOPO_OP_DEL_SUBREGION, io, 0, 0,
							   0));
			} else {
				ASSERT_EQ(0, mt_add_subregion(fd, self->root, io,
							      ((r >> 12) % 0x3f0) * UNIT, 1));
			}
			io_on = !io_on;
			break;
		}
		ASSERT_EQ(0, ev_drain(fd, sub, m)) TH_LOG("step %u: bad event", i);
		ASSERT_EQ(0, ev_expect(fd, self->as, self->ram, want));
		ASSERT_EQ(0, m->errors) TH_LOG("step %u: inconsistent event", i);
		ASSERT_EQ(0, memcmp(want, m->pop, UNITS)) TH_LOG("step %u: mirror differs", i);
	}
	/* the walk did populate and discard through events */
	EXPECT_LT(50, m->populates);
	EXPECT_LT(50, m->discards);
	/* leaving: the populated parts go before the REGION_DELs */
	ASSERT_EQ(0, mt_unsubscribe(fd, sub));
	free(m);
}

struct dis_call {
	int fd;
	void *arg;
	pid_t tid;
	int ret, err;
};

static void *dis_call_run(void *opaque)
{
	struct dis_call *c = opaque;

	__atomic_store_n(&c->tid, (pid_t)syscall(SYS_gettid), __ATOMIC_SEQ_CST);
	c->ret = ioctl(c->fd, MEMTOPO_DISCARD, c->arg);
	c->err = errno;
	return NULL;
}

enum { RO_DONE, RO_NO_UFFD, RO_BROKEN };

/*
 * Issue the change @d on a thread of its own with its struct made
 * read-only between the dispatcher's write probe and the answer; *@ret:
 * what it returned (0 or -errno).  The window is held open without a race:
 * a GET_STATE of @held (a managed region) on the same file, its bitmap a
 * userfaultfd page not yet there, holds the file's lock while its fault
 * waits; @d passes its probe and sleeps on that lock, its page is made
 * read-only, then the fault is resolved.  Return: RO_DONE, RO_NO_UFFD, or
 * RO_BROKEN with *@why when the window could not be held.
 */
static int ro_answer_call(int fd, __u32 held, const struct memtopo_discard *d, int *ret,
			  const char **why)
{
	struct memtopo_discard hd = {
		.size = sizeof(hd), .op = MEMTOPO_DISCARD_GET_STATE, .region = held,
		.length = RAM,
	};
	struct uffdio_api api = { .api = UFFD_API };
	struct uffdio_register reg = { .mode = UFFDIO_REGISTER_MODE_MISSING };
	struct uffdio_zeropage zero = {};
	struct dis_call hold = { .fd = fd }, change = { .fd = fd };
	pthread_t th_hold, th_change;
	struct pollfd pfd = {};
	struct uffd_msg msg;
	long page = sysconf(_SC_PAGESIZE);
	int uffd, status = RO_BROKEN;
	char *bits, *ans;

	uffd = syscall(__NR_userfaultfd, O_CLOEXEC);
	if (uffd < 0)
		return RO_NO_UFFD;
	bits = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ans = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	*why = "userfaultfd or mmap";
	if (bits == MAP_FAILED || ans == MAP_FAILED || ioctl(uffd, UFFDIO_API, &api))
		goto out;
	reg.range.start = (uintptr_t)bits;
	reg.range.len = page;
	if (ioctl(uffd, UFFDIO_REGISTER, &reg))
		goto out;

	/* the holder: its bitmap's fault waits on the userfaultfd */
	hd.bitmap = (uintptr_t)bits;
	hold.arg = &hd;
	if (pthread_create(&th_hold, NULL, dis_call_run, &hold))
		goto out;
	pfd.fd = uffd;
	pfd.events = POLLIN;
	*why = "GET_STATE never faulted on its bitmap";
	if (poll(&pfd, 1, 10000) != 1 || read(uffd, &msg, sizeof(msg)) != sizeof(msg) ||
	    msg.event != UFFD_EVENT_PAGEFAULT)
		goto out_hold;

	/* the change: its probe passes, then it waits for the file's lock */
	memcpy(ans, d, sizeof(*d));
	change.arg = ans;
	*why = "the change never waited for the lock";
	if (pthread_create(&th_change, NULL, dis_call_run, &change))
		goto out_hold;
	while (!__atomic_load_n(&change.tid, __ATOMIC_SEQ_CST))
		usleep(1000);
	if (!wait_blocked(change.tid) && !mprotect(ans, page, PROT_READ))
		status = RO_DONE;
	zero.range.start = (uintptr_t)bits;
	zero.range.len = page;
	if (ioctl(uffd, UFFDIO_ZEROPAGE, &zero))
		abort();
	pthread_join(th_change, NULL);
	*ret = change.ret ? -change.err : 0;
	pthread_join(th_hold, NULL);
	if (hold.ret) {
		*why = "the GET_STATE holding the lock failed";
		status = RO_BROKEN;
	}
	goto out;

out_hold:
	zero.range.start = (uintptr_t)bits;
	zero.range.len = page;
	if (ioctl(uffd, UFFDIO_ZEROPAGE, &zero))
		abort();
	pthread_join(th_hold, NULL);
out:
	if (ans != MAP_FAILED)
		munmap(ans, page);
	if (bits != MAP_FAILED)
		munmap(bits, page);
	close(uffd);
	return status;
}

/*
 * A change answers before it is made; one that fails afterwards (here
 * SET_MANAGER's bitmap past the budget) writes the struct back as the
 * caller passed it, the out fields included, and changes nothing.  That
 * the ENOSPC came after the answer, so that the struct was written back
 * and not merely left alone, is shown by the same call with its struct
 * made read-only after the dispatcher's probe: it must fail with EFAULT,
 * its answer unwritable, where a check ahead of the answer would give
 * ENOSPC (without userfaultfd that half is not shown).
 */
TEST_F(dis, failed_change_writes_back)
{
	struct memtopo_discard d = {
		.size = sizeof(d), .op = MEMTOPO_DISCARD_SET_MANAGER, .region = self->ram,
		.granularity = G, .populated = 0x5a5a5a5a5a5a5a5aULL,
		.managed = 0xa5a5a5a5a5a5a5a5ULL,
	}, before = d;
	struct memtopo_budget b = { 0 };
	__u64 used = 0, now = 0;
	int fd = self->fd, held, ro, ret = 0;
	const char *why = "";

	/* the read-only call's lock holder reads its state */
	held = mt_region_create(fd, MEMTOPO_KIND_RAM, "held", RAM, 0);
	ASSERT_LT(0, held);
	ASSERT_EQ(0, dis(fd, MEMTOPO_DISCARD_SET_MANAGER, held, G, 0, 0, NULL, NULL));
	ASSERT_EQ(0, mt_budget(fd, 0, 0, &b));
	used = b.mem_used;
	/* the manager's bitmap alone is 8 bytes: the budget holds less than it costs */
	ASSERT_EQ(0, mt_budget(fd, MEMTOPO_BUDGET_SET, used + 8, NULL));
	EXPECT_EQ(-1, ioctl(fd, MEMTOPO_DISCARD, &d));
	EXPECT_EQ(ENOSPC, errno);
	EXPECT_EQ(0, memcmp(&before, &d, sizeof(d)))
		TH_LOG("written back as granularity %#llx, populated %#llx, managed %#llx",
		       (unsigned long long)d.granularity, (unsigned long long)d.populated,
		       (unsigned long long)d.managed);
	EXPECT_EQ(-ENOENT, dis(fd, MEMTOPO_DISCARD_GET_STATE, self->ram, 0, 0, 0, NULL, NULL))
		TH_LOG("a refused manager was set");
	ASSERT_EQ(0, mt_budget(fd, 0, 0, &b));
	now = b.mem_used;
	EXPECT_EQ(used, now);

	ro = ro_answer_call(fd, held, &before, &ret, &why);
	ASSERT_NE(RO_BROKEN, ro) TH_LOG("%s", why);
	if (ro == RO_DONE) {
		EXPECT_EQ(-EFAULT, ret) TH_LOG("refused ahead of its answer: %s", strerror(-ret));
		EXPECT_EQ(-ENOENT, dis(fd, MEMTOPO_DISCARD_GET_STATE, self->ram, 0, 0, 0, NULL,
				       NULL));
	} else {
		TH_LOG("no userfaultfd: the ENOSPC's place after the answer is not shown");
	}

	/* with room, the same struct goes through and is answered */
	ASSERT_EQ(0, mt_budget(fd, MEMTOPO_BUDGET_SET, 0, NULL));
	ASSERT_EQ(0, ioctl(fd, MEMTOPO_DISCARD, &d));
	EXPECT_EQ(G, d.granularity);
	EXPECT_EQ(0, d.populated);
	EXPECT_EQ(RAM, d.managed);
}

/*
 * The answer cannot be written after the dispatcher's write probe (another
 * thread made the struct read-only in between): EFAULT, and the change is
 * not made.
 */
TEST_F(dis, answer_fault_changes_nothing)
{
	struct memtopo_discard d = {
		.size = sizeof(d), .op = MEMTOPO_DISCARD_POPULATE, .region = self->ram,
		.length = RAM,
	};
	struct memtopo_event ev[4];
	int fd = self->fd, ro, ret = 0;
	const char *why = "";
	__u32 sub, n, pending;
	__u64 pop = 0;

	ASSERT_EQ(0, dis(fd, MEMTOPO_DISCARD_SET_MANAGER, self->ram, G, 0, 0, NULL, NULL));
	ASSERT_EQ(0, dis(fd, MEMTOPO_DISCARD_POPULATE, self->ram, 0, 0x4000, 0x2000, NULL, NULL));
	ASSERT_EQ(0, mt_add_subregion(fd, self->root, self->ram, 0x100000, 0));
	ASSERT_EQ(0, mt_subscribe(fd, self->as, -1, EV_MASK, 0, &sub));

	ro = ro_answer_call(fd, self->ram, &d, &ret, &why);
	if (ro == RO_NO_UFFD)
		SKIP(return, "no userfaultfd: %s", strerror(errno));
	ASSERT_EQ(RO_DONE, ro) TH_LOG("%s", why);
	EXPECT_EQ(-EFAULT, ret);

	/* nothing changed and nobody heard of a change */
	EXPECT_EQ(0x30ULL, state(fd, self->ram, &pop));
	EXPECT_EQ(0x2000, pop);
	n = 4;
	ASSERT_EQ(0, mt_read_events(fd, sub, ev, &n, &pending));
	EXPECT_EQ(0, n) TH_LOG("a subscriber saw event %u", ev[0].type);
}

/*
 * Every injection point of a SET_MANAGER and a POPULATE fails in turn
 * (debug kernel): the struct's copy in, the write probe, the answer, the
 * manager's allocations.  A call that fails leaves the struct as the
 * caller passed it, byte for byte, and the state and the memory use as
 * they were; the first n that fails nothing makes the change.
 */
TEST_F(dis, change_fail_nth)
{
	static const __u32 ops[] = { MEMTOPO_DISCARD_SET_MANAGER, MEMTOPO_DISCARD_POPULATE };
	int fd = self->fd, nth, n, ret, k, failed = 0, faulted = 0;
	struct memtopo_discard d, before;
	struct memtopo_budget b = { 0 };
	__u64 used = 0, now = 0, pop, bits;

	nth = failnth_open();
	if (nth < 0)
		SKIP(return, "no /proc/thread-self/fail-nth (needs CONFIG_FAULT_INJECTION)");
	for (k = 0; k < 2; k++) {
		for (n = 1; n < 100; n++) {
			d = (struct memtopo_discard){
				.size = sizeof(d), .op = ops[k], .region = self->ram,
				.granularity = k ? 0 : G, .offset = k ? 0x2000 : 0,
				.length = k ? 0x4000 : 0, .populated = 0x5a5a5a5a5a5a5a5aULL,
				.managed = 0xa5a5a5a5a5a5a5a5ULL,
			};
			before = d;
			ASSERT_EQ(0, mt_budget(fd, 0, 0, &b));
			used = b.mem_used;
			failnth_set(nth, n);
			ret = ioctl(fd, MEMTOPO_DISCARD, &d) ? -errno : 0;
			failnth_clear(nth);
			if (!ret)
				break;
			ASSERT_TRUE(ret == -EFAULT || ret == -ENOMEM) TH_LOG("n %d: %d", n, ret);
			failed++;
			faulted += ret == -EFAULT;
			EXPECT_EQ(0, memcmp(&before, &d, sizeof(d)))
				TH_LOG("%s, n %d (%d): written back, populated %#llx managed %#llx",
				       k ? "POPULATE" : "SET_MANAGER", n, ret,
				       (unsigned long long)d.populated,
				       (unsigned long long)d.managed);
			ASSERT_EQ(0, mt_budget(fd, 0, 0, &b));
			now = b.mem_used;
			EXPECT_EQ(used, now) TH_LOG("n %d", n);
			if (k) {
				EXPECT_EQ(0ULL, state(fd, self->ram, &pop))
					TH_LOG("n %d: a failed POPULATE changed the state", n);
			} else {
				EXPECT_EQ(-ENOENT, dis(fd, MEMTOPO_DISCARD_GET_STATE, self->ram, 0,
						       0, RAM, &bits, NULL))
					TH_LOG("n %d: a failed SET_MANAGER set a manager", n);
			}
		}
		ASSERT_GT(100, n) TH_LOG("%s never went through", k ? "POPULATE" : "SET_MANAGER");
		EXPECT_EQ(k ? 0x3cULL : 0, state(fd, self->ram, &pop));
		EXPECT_EQ(k ? 0x4000 : 0, d.populated);
		EXPECT_EQ(RAM, d.managed);
	}
	TH_LOG("%d calls failed, %d of them with EFAULT, each changing nothing", failed, faulted);
	/* the copy in, the probe and the answer of each call at least */
	EXPECT_LE(6, faulted);
	EXPECT_LT(faulted, failed) TH_LOG("no allocation failed");
	close(nth);
}

TEST_HARNESS_MAIN
