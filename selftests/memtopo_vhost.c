// SPDX-License-Identifier: GPL-2.0
/*
 * The vhost-like test consumer (kmod/memtopo_vhost.c): a kernel thread
 * serves a descriptor ring that lives in memfd-backed guest RAM, reaching
 * it only through memtopo_space_translate()/memtopo_space_map().  This
 * process is the driver: it writes requests through its own mmap of the
 * memfd and checks every result there, while the map moves underneath.
 *
 * Guest map (one memfd of RAM_SIZE bytes, region "ram", never mapped as a
 * whole):
 *   lo    alias ram[0, 1M) at 0: the ring, never moves
 *   win1  alias ram[P1, P1 + WIN) and win2 alias ram[P2, P2 + WIN): one of
 *         them is at W, the other parked at FAR
 *   bar   an I/O region (no device) over W + BAR_OFF, priority 1, toggled
 * Each request reads its input at W + slot and writes its output at W +
 * slot + OUT_OFF.  win1's and win2's inputs differ, so the output says
 * which one was read; it must land in the same window, whole, and the
 * other window must stay untouched.  A request whose buffers the bar
 * covers fails with EFAULT and touches nothing.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "../tools/memtopoctl/libmemtopo.c"
#include "memtopo_undone.h"
#include "../kmod/memtopo_vhost.h"

#define RAM_SIZE	0x200000u
#define P1		0x100000u
#define P2		0x180000u
#define WIN		0x40000u
#define W		0x400000ull
#define FAR		0x800000ull
#define BAR_OFF		0x20000u
#define BAR_SIZE	0x10000u
#define NUM		64u
#define DESC_GPA	0x1000ull
#define AVAIL_GPA	0x2000ull
#define USED_GPA	0x3000ull
#define SLOT		0x2000u
#define OUT_OFF		0x1000u
#define NSLOTS		(WIN / SLOT)
#define UNTOUCHED	0xee

struct vring {
	int fd, vfd, call;
	__u32 space, ram, win1, win2, bar;
	__u8 *mem;		/* the memfd, as this process maps it */
	__u16 avail_idx, used_seen;
	/* the state applied last: win1 at W (else win2), bar enabled */
	int win1_at_w, bar_on;
};

static struct memtopo_vhost_desc *desc(struct vring *v, unsigned int i)
{
	return (struct memtopo_vhost_desc *)(v->mem + DESC_GPA) + i;
}

static __u16 *avail_idx(struct vring *v)
{
	return (__u16 *)(v->mem + AVAIL_GPA + 2);
}

static __u16 *avail_ring(struct vring *v, unsigned int i)
{
	return (__u16 *)(v->mem + AVAIL_GPA + 4) + i;
}

static __u16 *used_idx(struct vring *v)
{
	return (__u16 *)(v->mem + USED_GPA + 2);
}

static struct memtopo_vhost_used_elem *used_ring(struct vring *v, unsigned int i)
{
	return (struct memtopo_vhost_used_elem *)(v->mem + USED_GPA + 4) + i;
}

/* input byte @k of slot @s in the window at memfd offset @p */
static __u8 in_byte(__u32 p, unsigned int s, unsigned int k)
{
	return (__u8)(k * 13 + s * 7 + (p == P1 ? 1 : 101));
}

static __u32 in_len(unsigned int s)
{
	return 64 + s * 37;
}

static int set_state(struct vring *v, int win1_at_w, int bar_on)
{
	struct memtopo_op ops[3];
	__u32 idx;
	int ret;

	mt_op_init(&ops[0], MEMTOPO_OP_SET_ADDRESS);
	ops[0].id = v->win1;
	ops[0].addr = win1_at_w ? W : FAR;
	mt_op_init(&ops[1], MEMTOPO_OP_SET_ADDRESS);
	ops[1].id = v->win2;
	ops[1].addr = win1_at_w ? FAR : W;
	mt_op_init(&ops[2], MEMTOPO_OP_SET_ENABLED);
	ops[2].id = v->bar;
	ops[2].value = bar_on;
	ret = mt_batch(v->fd, ops, 3, &idx);
	if (!ret) {
		v->win1_at_w = win1_at_w;
		v->bar_on = bar_on;
	}
	return ret;
}

static int setup(struct vring *v)
{
	struct memtopo_vhost_attach a = { .size = sizeof(a) };
	struct memtopo_op op;
	int memfd, sys, lo, s;
	unsigned int k;

	memset(v, 0, sizeof(*v));
	v->vfd = open("/dev/memtopo_vhost", O_RDWR);
	if (v->vfd < 0)
		return -ENODEV;
	v->fd = mt_open();
	memfd = memfd_create("guest-ram", 0);
	if (v->fd < 0 || memfd < 0 || ftruncate(memfd, RAM_SIZE))
		return -1;
	v->mem = mmap(NULL, RAM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);
	if (v->mem == MAP_FAILED)
		return -1;

	sys = mt_region_create(v->fd, MEMTOPO_KIND_CONTAINER, "sys", 0, MEMTOPO_OP_F_SIZE_2_64);
	mt_op_init(&op, MEMTOPO_OP_REGION_CREATE);
	op.kind = MEMTOPO_KIND_RAM;
	op.flags = MEMTOPO_OP_F_FILE_BACKING;
	op.length = RAM_SIZE;
	op.backing_fd = memfd;
	strcpy(op.name, "ram");
	if (sys < 0 || mt_op(v->fd, &op))
		return -1;
	/* the region holds the file now */
	close(memfd);
	v->ram = op.id;

	mt_op_init(&op, MEMTOPO_OP_REGION_CREATE);
	op.kind = MEMTOPO_KIND_ALIAS;
	op.ref = v->ram;
	op.length = P1;
	strcpy(op.name, "lo");
	if (mt_op(v->fd, &op))
		return -1;
	lo = op.id;
	op.addr = P1;
	op.length = WIN;
	strcpy(op.name, "win1");
	if (mt_op(v->fd, &op))
		return -1;
	v->win1 = op.id;
	op.addr = P2;
	strcpy(op.name, "win2");
	if (mt_op(v->fd, &op))
		return -1;
	v->win2 = op.id;
	s = mt_region_create(v->fd, MEMTOPO_KIND_IO, "bar", BAR_SIZE, 0);
	if (s < 0)
		return -1;
	v->bar = s;
	if (mt_add_subregion(v->fd, sys, lo, 0, 0) ||
	    mt_add_subregion(v->fd, sys, v->win1, W, 0) ||
	    mt_add_subregion(v->fd, sys, v->win2, FAR, 0) ||
	    mt_add_subregion(v->fd, sys, v->bar, W + BAR_OFF, 1))
		return -1;
	s = mt_space_create(v->fd, "memory", sys);
	if (s < 0)
		return -1;
	v->space = s;
	v->win1_at_w = 1;
	v->bar_on = 1;

	/* the inputs of both windows, written once: only outputs change */
	for (s = 0; s < (int)NSLOTS; s++) {
		for (k = 0; k < in_len(s); k++) {
			v->mem[P1 + s * SLOT + k] = in_byte(P1, s, k);
			v->mem[P2 + s * SLOT + k] = in_byte(P2, s, k);
		}
	}
	v->call = eventfd(0, EFD_NONBLOCK);
	a.memtopo_fd = v->fd;
	a.space = v->space;
	a.call_fd = v->call;
	a.num = NUM;
	a.desc_addr = DESC_GPA;
	a.avail_addr = AVAIL_GPA;
	a.used_addr = USED_GPA;
	return ioctl(v->vfd, MEMTOPO_VHOST_ATTACH, &a) ? -errno : 0;
}

static void clear_outputs(struct vring *v, unsigned int s)
{
	memset(v->mem + P1 + s * SLOT + OUT_OFF, UNTOUCHED, SLOT - OUT_OFF);
	memset(v->mem + P2 + s * SLOT + OUT_OFF, UNTOUCHED, SLOT - OUT_OFF);
}

/* Queue the request of slot @s as descriptors 2s and 2s + 1. */
static void post(struct vring *v, unsigned int s)
{
	struct memtopo_vhost_desc *in = desc(v, 2 * s), *out = desc(v, 2 * s + 1);

	clear_outputs(v, s);
	in->addr = W + s * SLOT;
	in->len = in_len(s);
	in->flags = MEMTOPO_VHOST_DESC_F_NEXT;
	in->next = 2 * s + 1;
	out->addr = W + s * SLOT + OUT_OFF;
	out->len = SLOT - OUT_OFF;
	out->flags = MEMTOPO_VHOST_DESC_F_WRITE;
	out->next = 0;
	*avail_ring(v, v->avail_idx % NUM) = 2 * s;
	v->avail_idx++;
}

/* Publish what post() queued, kick, and wait until all of it is used. */
static int kick_and_wait(struct vring *v)
{
	struct pollfd p = { .fd = v->call, .events = POLLIN };
	__u64 n;
	int rounds;

	__atomic_store_n(avail_idx(v), v->avail_idx, __ATOMIC_RELEASE);
	if (ioctl(v->vfd, MEMTOPO_VHOST_KICK))
		return -errno;
	for (rounds = 0; rounds < 100; rounds++) {
		if (__atomic_load_n(used_idx(v), __ATOMIC_ACQUIRE) == v->avail_idx)
			return 0;
		if (poll(&p, 1, 100) > 0 && read(v->call, &n, sizeof(n)) != sizeof(n))
			return -EIO;
	}
	return -ETIMEDOUT;
}

static int untouched(const __u8 *p, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (p[i] != UNTOUCHED)
			return 0;
	return 1;
}

/*
 * Was the output of slot @s produced from the input of the window at @p
 * and written, whole, to that window (and nowhere else)?
 */
static int output_from(struct vring *v, unsigned int s, __u32 p)
{
	const __u8 *out = v->mem + p + s * SLOT + OUT_OFF;
	__u32 other = p == P1 ? P2 : P1, len = in_len(s), sum = 0, k;
	struct memtopo_vhost_out_hdr hdr;

	memcpy(&hdr, out, sizeof(hdr));
	for (k = 0; k < len; k++) {
		sum += in_byte(p, s, k);
		if (out[sizeof(hdr) + k] != (in_byte(p, s, k) ^ MEMTOPO_VHOST_XOR))
			return 0;
	}
	return hdr.len == len && hdr.sum == sum &&
	       untouched(out + sizeof(hdr) + len, SLOT - OUT_OFF - sizeof(hdr) - len) &&
	       untouched(v->mem + other + s * SLOT + OUT_OFF, SLOT - OUT_OFF);
}

static int in_bar(unsigned int s)
{
	__u64 first = s * SLOT, last = s * SLOT + OUT_OFF + sizeof(struct memtopo_vhost_out_hdr) +
				     in_len(s) - 1;

	return first < BAR_OFF + BAR_SIZE && last >= BAR_OFF;
}

/* The used entry of the @i-th request from the end of the last batch. */
static struct memtopo_vhost_used_elem *used_of(struct vring *v, unsigned int back)
{
	return used_ring(v, (__u16)(v->avail_idx - back) % NUM);
}

TEST(ring_follows_the_map)
{
	enum { ROUNDS = 24 };
	struct memtopo_vhost_stats st = { .size = sizeof(st) };
	struct vring v;
	unsigned int r, s, ok = 0, refused = 0;
	int ret;

	ret = setup(&v);
	if (ret == -ENODEV)
		SKIP(return, "memtopo_vhost.ko is not loaded");
	ASSERT_EQ(0, ret);
	srand(4242);
	for (r = 0; r < ROUNDS; r++) {
		/* every combination, then random ones */
		int w1 = r < 4 ? r & 1 : rand() & 1, bar = r < 4 ? r >> 1 : rand() & 1;

		ASSERT_EQ(0, set_state(&v, w1, bar));
		for (s = 0; s < NSLOTS; s++)
			post(&v, s);
		ASSERT_EQ(0, kick_and_wait(&v));
		for (s = 0; s < NSLOTS; s++) {
			struct memtopo_vhost_used_elem *e = used_of(&v, NSLOTS - s);
			__u32 p = w1 ? P1 : P2;

			ASSERT_EQ(2 * s, e->id);
			if (bar && in_bar(s)) {
				/* the bar is no RAM: refused, nothing written */
				ASSERT_EQ(MEMTOPO_VHOST_USED_ERROR | EFAULT, e->len)
					TH_LOG("round %u slot %u", r, s);
				ASSERT_TRUE(untouched(v.mem + P1 + s * SLOT + OUT_OFF,
						      SLOT - OUT_OFF));
				ASSERT_TRUE(untouched(v.mem + P2 + s * SLOT + OUT_OFF,
						      SLOT - OUT_OFF));
				refused++;
			} else {
				ASSERT_EQ(in_len(s) + 8, e->len) TH_LOG("round %u slot %u", r, s);
				ASSERT_TRUE(output_from(&v, s, p)) TH_LOG("round %u slot %u", r, s);
				ok++;
			}
		}
	}
	ASSERT_EQ(0, ioctl(v.vfd, MEMTOPO_VHOST_STATS, &st));
	EXPECT_EQ(0, st.flags);
	EXPECT_EQ(ok, st.done);
	EXPECT_EQ(refused, st.failed);
	EXPECT_EQ(0, st.ring_errors);
	EXPECT_LT(0, st.dels);
	TH_LOG("%u served, %u refused, %llu region_add, %llu region_del", ok, refused,
	       (unsigned long long)st.adds, (unsigned long long)st.dels);
	close(v.vfd);
	close(v.fd);
	close(v.call);
	munmap(v.mem, RAM_SIZE);
}

struct mover {
	struct vring *v;
	int fd;
	int stop;		/* read and written with __atomic builtins */
	unsigned int moves;	/* as well */
	int err;
};

/* Flip the window and the bar as fast as commits go, from another fd. */
static void *move(void *arg)
{
	struct mover *m = arg;
	struct vring shadow = *m->v;

	shadow.fd = m->fd;
	while (!__atomic_load_n(&m->stop, __ATOMIC_RELAXED)) {
		m->err = set_state(&shadow, rand() & 1, rand() & 1);
		if (m->err)
			break;
		__atomic_add_fetch(&m->moves, 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

static unsigned int mover_moves(struct mover *m)
{
	return __atomic_load_n(&m->moves, __ATOMIC_RELAXED);
}

/*
 * The same ring while another thread moves the map as fast as it can:
 * which window a request sees is a race, but every request must see one,
 * whole, or be refused having written nothing.
 */
TEST(ring_while_the_map_moves)
{
	/*
	 * At least BATCHES, and on until the map has moved twice: on a
	 * loaded host the mover may not run at all during the first ones
	 */
	enum { BATCHES = 12, MAX_BATCHES = 4096 };
	struct memtopo_vhost_stats st = { .size = sizeof(st) };
	struct mover m = {};
	unsigned int b, s, from1 = 0, from2 = 0, refused = 0;
	pthread_t t;
	struct vring v;
	int ret;

	ret = setup(&v);
	if (ret == -ENODEV)
		SKIP(return, "memtopo_vhost.ko is not loaded");
	ASSERT_EQ(0, ret);
	/* the mover works through the same context from its own descriptor */
	m.v = &v;
	m.fd = v.fd;
	ASSERT_EQ(0, pthread_create(&t, NULL, move, &m));
	for (b = 0; b < BATCHES || (b < MAX_BATCHES && mover_moves(&m) < 2); b++) {
		for (s = 0; s < NSLOTS; s++)
			post(&v, s);
		ASSERT_EQ(0, kick_and_wait(&v));
		for (s = 0; s < NSLOTS; s++) {
			struct memtopo_vhost_used_elem *e = used_of(&v, NSLOTS - s);

			ASSERT_EQ(2 * s, e->id);
			if (e->len == (MEMTOPO_VHOST_USED_ERROR | EFAULT)) {
				ASSERT_TRUE(in_bar(s)) TH_LOG("batch %u slot %u", b, s);
				ASSERT_TRUE(untouched(v.mem + P1 + s * SLOT + OUT_OFF,
						      SLOT - OUT_OFF));
				ASSERT_TRUE(untouched(v.mem + P2 + s * SLOT + OUT_OFF,
						      SLOT - OUT_OFF));
				refused++;
				continue;
			}
			ASSERT_EQ(in_len(s) + 8, e->len) TH_LOG("batch %u slot %u", b, s);
			if (output_from(&v, s, P1))
				from1++;
			else if (output_from(&v, s, P2))
				from2++;
			else
				ASSERT_TRUE(0) TH_LOG("batch %u slot %u: torn or misplaced", b, s);
		}
	}
	__atomic_store_n(&m.stop, 1, __ATOMIC_RELAXED);
	pthread_join(t, NULL);
	ASSERT_EQ(0, m.err);
	ASSERT_EQ(0, ioctl(v.vfd, MEMTOPO_VHOST_STATS, &st));
	EXPECT_EQ(0, st.flags);
	EXPECT_EQ(0, st.ring_errors);
	EXPECT_EQ(from1 + from2, st.done);
	EXPECT_EQ(refused, st.failed);
	/* the map did move underneath */
	EXPECT_LT(1, m.moves);
	TH_LOG("%u moves in %u batches; %u requests saw win1, %u win2, %u refused", m.moves, b,
	       from1, from2, refused);
	close(v.vfd);
	close(v.fd);
	close(v.call);
	munmap(v.mem, RAM_SIZE);
}

/*
 * A device attached to a space whose create a failed commit undoes: the
 * space goes, and the device is broken from then on (no access may reach
 * the space it held).
 */
TEST(space_undone_under_the_device)
{
	struct memtopo_vhost_attach a = { .size = sizeof(a), .num = 8 };
	struct memtopo_vhost_stats st = { .size = sizeof(st) };
	int vfd, fd, efd;
	struct undone u;

	vfd = open("/dev/memtopo_vhost", O_RDWR);
	if (vfd < 0)
		SKIP(return, "memtopo_vhost.ko is not loaded");
	fd = mt_open();
	ASSERT_LE(0, fd);
	efd = eventfd(0, 0);
	ASSERT_LE(0, efd);
	ASSERT_EQ(0, undone_begin(fd, &u));
	a.memtopo_fd = fd;
	a.call_fd = efd;
	a.space = u.space;
	ASSERT_EQ(0, ioctl(vfd, MEMTOPO_VHOST_ATTACH, &a));
	ASSERT_EQ(0, ioctl(vfd, MEMTOPO_VHOST_STATS, &st));
	EXPECT_EQ(0, st.flags);
	ASSERT_EQ(-ENOSPC, undone_commit(fd, u.root, u.bank));
	ASSERT_EQ(0, ioctl(vfd, MEMTOPO_VHOST_STATS, &st));
	EXPECT_EQ(MEMTOPO_VHOST_STATS_BROKEN, st.flags)
		TH_LOG("the device still serves a space that is gone");
	close(vfd);
	close(efd);
	close(fd);
}

TEST(attach_refuses_bad_input)
{
	struct memtopo_vhost_attach a = { .size = sizeof(a), .num = 8 };
	int vfd, fd, efd;

	vfd = open("/dev/memtopo_vhost", O_RDWR);
	if (vfd < 0)
		SKIP(return, "memtopo_vhost.ko is not loaded");
	fd = mt_open();
	efd = eventfd(0, 0);
	ASSERT_LE(0, fd);
	a.memtopo_fd = fd;
	a.call_fd = efd;
	a.space = 12345;
	EXPECT_EQ(-1, ioctl(vfd, MEMTOPO_VHOST_ATTACH, &a));
	EXPECT_EQ(ENOENT, errno);
	a.num = 3;
	EXPECT_EQ(-1, ioctl(vfd, MEMTOPO_VHOST_ATTACH, &a));
	EXPECT_EQ(EINVAL, errno);
	a.num = 8;
	a.call_fd = fd;		/* not an eventfd */
	EXPECT_EQ(-1, ioctl(vfd, MEMTOPO_VHOST_ATTACH, &a));
	EXPECT_EQ(EINVAL, errno);
	a.call_fd = efd;
	a.memtopo_fd = efd;	/* not /dev/memtopo */
	EXPECT_EQ(-1, ioctl(vfd, MEMTOPO_VHOST_ATTACH, &a));
	EXPECT_NE(0, errno);
	/* nothing attached: no kick */
	EXPECT_EQ(-1, ioctl(vfd, MEMTOPO_VHOST_KICK));
	EXPECT_EQ(ENOENT, errno);
	close(efd);
	close(fd);
	close(vfd);
}

TEST_HARNESS_MAIN
