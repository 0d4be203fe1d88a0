// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit suites for the QEMU-parity features:
 *  memtopo_dispatch   access splitting, endianness, RAM/ROM/unassigned
 *  memtopo_ioeventfd  symmetric differences, callback order, dispatch match
 *  memtopo_dirty      log_start/stop order, global logging, bitmaps, stress
 *  memtopo_coalesced  coalesced_io_add/del as topology changes
 * Expected values are computed by hand from QEMU's rules (see dispatch.c).
 */
#include <kunit/test.h>
#include <linux/delay.h>
#include <linux/err.h>
#include <linux/kthread.h>
#include <linux/random.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/vmalloc.h>

#include <memtopo/memtopo.h>
#include "selftest.h"

/* ---- fixtures ---- */

struct pt_env {
	struct memtopo_ctx *ctx;
	struct memtopo_region *root;
	struct memtopo_space *as;
};

static int pt_env_init(struct kunit *test, struct pt_env *e)
{
	struct memtopo_region_info info = {
		.kind = MEMTOPO_CONTAINER, .name = "root", .size_is_2_64 = true,
	};

	e->ctx = memtopo_ctx_create("parity");
	KUNIT_ASSERT_FALSE(test, IS_ERR(e->ctx));
	e->root = memtopo_region_create(e->ctx, &info);
	KUNIT_ASSERT_FALSE(test, IS_ERR(e->root));
	e->as = memtopo_space_create(e->ctx, "mem", e->root);
	KUNIT_ASSERT_FALSE(test, IS_ERR(e->as));
	return 0;
}

static void pt_env_fini(struct pt_env *e)
{
	memtopo_ctx_put(e->ctx);
}

/* Kernel-owned RAM for a test: its backing is put when the test ends. */
static void pt_kram_free(struct kunit_resource *res)
{
	memtopo_backing_put(res->data);
}

static u8 *pt_kram(struct kunit *test, u64 size)
{
	struct memtopo_backing *b = memtopo_backing_kernel_alloc(size);

	KUNIT_ASSERT_FALSE(test, IS_ERR(b));
	KUNIT_ASSERT_NOT_NULL(test, kunit_alloc_resource(test, NULL, pt_kram_free, GFP_KERNEL, b));
	return b->kaddr;
}

static bool pt_kram_match(struct kunit *test, struct kunit_resource *res, void *kaddr)
{
	return res->free == pt_kram_free && ((struct memtopo_backing *)res->data)->kaddr == kaddr;
}

static struct memtopo_region *pt_add(struct kunit *test, struct pt_env *e,
				     enum memtopo_kind kind, const char *name, u64 addr,
				     u64 size, void *kaddr, const struct memtopo_region_ops *ops,
				     void *opaque, int prio)
{
	struct memtopo_region_info info = {
		.kind = kind, .name = name, .size = size, .ops = ops, .opaque = opaque,
	};
	struct kunit_resource *res = NULL;
	struct memtopo_region *mr;

	if (kaddr) {
		/* RAM made by pt_kram() */
		res = kunit_find_resource(test, pt_kram_match, kaddr);
		KUNIT_ASSERT_NOT_NULL(test, res);
		info.backing = res->data;
	}
	mr = memtopo_region_create(e->ctx, &info);
	if (res)
		kunit_put_resource(res);
	KUNIT_ASSERT_FALSE(test, IS_ERR(mr));
	KUNIT_ASSERT_EQ(test, memtopo_region_add_subregion(e->root, addr, mr, prio, true), 0);
	return mr;
}

/* A device that logs every call: "r0+2 w2+2=4433 ..." */
struct pt_dev {
	char log[512];
	u64 read_base;		/* reads return read_base + offset */
	u64 read_value;		/* if set, every read returns it */
};

static __printf(3, 4) void pt_logf(char *log, size_t size, const char *fmt, ...)
{
	size_t n = strlen(log);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(log + n, size - n, fmt, ap);
	va_end(ap);
}

static int pt_dev_read(void *opaque, u64 offset, u64 *data, unsigned int size)
{
	struct pt_dev *d = opaque;

	*data = d->read_value ? d->read_value : d->read_base + offset;
	pt_logf(d->log, sizeof(d->log), "r%llx+%u ", offset, size);
	return 0;
}

static int pt_dev_write(void *opaque, u64 offset, u64 data, unsigned int size)
{
	struct pt_dev *d = opaque;

	pt_logf(d->log, sizeof(d->log), "w%llx+%u=%llx ", offset, size, data);
	return 0;
}

/* ---- memtopo_dispatch ---- */

static void pt_ram_copy_split(struct kunit *test)
{
	struct pt_env e;
	u8 *a = pt_kram(test, 0x1000);
	u8 *b = pt_kram(test, 0x1000);
	u8 out[16], in[16];
	int i;

	KUNIT_ASSERT_NOT_NULL(test, a);
	KUNIT_ASSERT_NOT_NULL(test, b);
	pt_env_init(test, &e);
	pt_add(test, &e, MEMTOPO_RAM, "a", 0x1000, 0x1000, a, NULL, NULL, 0);
	pt_add(test, &e, MEMTOPO_RAM, "b", 0x2000, 0x1000, b, NULL, NULL, 0);
	for (i = 0; i < 16; i++)
		in[i] = i + 1;
	/* crosses from a into b: 8 bytes each */
	KUNIT_EXPECT_EQ(test, memtopo_space_write(e.as, 0x1ff8, in, 16), 0);
	KUNIT_EXPECT_EQ(test, memcmp(a + 0xff8, in, 8), 0);
	KUNIT_EXPECT_EQ(test, memcmp(b, in + 8, 8), 0);
	memset(out, 0, sizeof(out));
	KUNIT_EXPECT_EQ(test, memtopo_space_read(e.as, 0x1ff8, out, 16), 0);
	KUNIT_EXPECT_EQ(test, memcmp(out, in, 16), 0);
	KUNIT_EXPECT_EQ(test, memtopo_space_read(e.as, 0x1000, out, 0), 0);
	pt_env_fini(&e);
}

static void pt_unassigned_rom(struct kunit *test)
{
	struct pt_env e;
	u8 *ram = pt_kram(test, 0x1000);
	u8 *rom = pt_kram(test, 0x1000);
	u8 buf[8] = { 1, 2, 3, 4, 5, 6, 7, 8 }, zero[8] = {};
	struct memtopo_region *nomap;

	KUNIT_ASSERT_NOT_NULL(test, ram);
	KUNIT_ASSERT_NOT_NULL(test, rom);
	rom[0] = 0x5a;
	pt_env_init(test, &e);
	pt_add(test, &e, MEMTOPO_RAM, "ram", 0x1000, 0x1000, ram, NULL, NULL, 0);
	pt_add(test, &e, MEMTOPO_ROM, "rom", 0x4000, 0x1000, rom, NULL, NULL, 0);
	nomap = pt_add(test, &e, MEMTOPO_RAM, "nomap", 0x8000, 0x1000, NULL, NULL, NULL, 0);
	pt_add(test, &e, MEMTOPO_RESERVATION, "resv", 0x9000, 0x1000, NULL, NULL, NULL, 0);

	KUNIT_EXPECT_EQ(test, memtopo_space_read(e.as, 0x3000, buf, 1), -ENXIO);
	/* RAM then a hole: refused before any byte is written */
	KUNIT_EXPECT_EQ(test, memtopo_space_write(e.as, 0x1ffc, buf, 8), -ENXIO);
	KUNIT_EXPECT_EQ(test, memcmp(ram + 0xffc, zero, 4), 0);
	KUNIT_EXPECT_EQ(test, memtopo_space_write(e.as, 0x4000, buf, 1), -EROFS);
	KUNIT_EXPECT_EQ(test, rom[0], 0x5a);
	KUNIT_EXPECT_EQ(test, memtopo_space_read(e.as, 0x4000, buf, 1), 0);
	KUNIT_EXPECT_EQ(test, buf[0], 0x5a);
	KUNIT_EXPECT_EQ(test, memtopo_space_read(e.as, 0x8000, buf, 1), -EOPNOTSUPP);
	KUNIT_EXPECT_EQ(test, memtopo_space_read(e.as, 0x9000, buf, 1), -ENXIO);
	KUNIT_EXPECT_EQ(test, memtopo_space_read(e.as, U64_MAX, buf, 2), -EOVERFLOW);
	/* a read-only RAM range refuses writes too */
	KUNIT_EXPECT_EQ(test, memtopo_region_set_readonly(nomap, true), 0);
	KUNIT_EXPECT_EQ(test, memtopo_space_write(e.as, 0x8000, buf, 1), -EROFS);
	pt_env_fini(&e);
}

static const struct memtopo_region_ops pt_le_impl2 = {
	.read = pt_dev_read, .write = pt_dev_write, .impl_max = 2,
};

static const struct memtopo_region_ops pt_be_impl2 = {
	.read = pt_dev_read, .write = pt_dev_write, .impl_max = 2, .big_endian = true,
};

static const struct memtopo_region_ops pt_le_impl1 = {
	.read = pt_dev_read, .write = pt_dev_write, .impl_max = 1,
};

static const struct memtopo_region_ops pt_be_impl1 = {
	.read = pt_dev_read, .write = pt_dev_write, .impl_max = 1, .big_endian = true,
};

static const struct memtopo_region_ops pt_le_default = {
	.read = pt_dev_read, .write = pt_dev_write,
};

static void pt_mmio_split_endian(struct kunit *test)
{
	static const u8 bytes[4] = { 0x11, 0x22, 0x33, 0x44 };
	struct pt_dev *d[5];
	struct pt_env e;
	u8 out[8];
	int i;

	for (i = 0; i < 5; i++) {
		d[i] = kunit_kzalloc(test, sizeof(*d[i]), GFP_KERNEL);
		KUNIT_ASSERT_NOT_NULL(test, d[i]);
	}
	pt_env_init(test, &e);
	pt_add(test, &e, MEMTOPO_IO, "le2", 0x1000, 0x100, NULL, &pt_le_impl2, d[0], 0);
	pt_add(test, &e, MEMTOPO_IO, "be2", 0x2000, 0x100, NULL, &pt_be_impl2, d[1], 0);
	pt_add(test, &e, MEMTOPO_IO, "le1", 0x3000, 0x100, NULL, &pt_le_impl1, d[2], 0);
	pt_add(test, &e, MEMTOPO_IO, "be1", 0x4000, 0x100, NULL, &pt_be_impl1, d[3], 0);
	pt_add(test, &e, MEMTOPO_IO, "dflt", 0x5000, 0x100, NULL, &pt_le_default, d[4], 0);

	/* LE: value 0x44332211, low half at the low address */
	KUNIT_EXPECT_EQ(test, memtopo_space_write(e.as, 0x1000, bytes, 4), 0);
	KUNIT_EXPECT_STREQ(test, d[0]->log, "w0+2=2211 w2+2=4433 ");
	/* BE: value 0x11223344, high half at the low address */
	KUNIT_EXPECT_EQ(test, memtopo_space_write(e.as, 0x2000, bytes, 4), 0);
	KUNIT_EXPECT_STREQ(test, d[1]->log, "w0+2=1122 w2+2=3344 ");

	/* byte-wide reads assemble in address order either way */
	d[2]->read_base = 0x10;
	d[3]->read_base = 0x10;
	KUNIT_EXPECT_EQ(test, memtopo_space_read(e.as, 0x3000, out, 4), 0);
	KUNIT_EXPECT_STREQ(test, d[2]->log, "r0+1 r1+1 r2+1 r3+1 ");
	KUNIT_EXPECT_EQ(test, memcmp(out, "\x10\x11\x12\x13", 4), 0);
	KUNIT_EXPECT_EQ(test, memtopo_space_read(e.as, 0x4000, out, 4), 0);
	KUNIT_EXPECT_STREQ(test, d[3]->log, "r0+1 r1+1 r2+1 r3+1 ");
	KUNIT_EXPECT_EQ(test, memcmp(out, "\x10\x11\x12\x13", 4), 0);

	/* 2-byte BE read of a device returning 0xabcd: bytes ab cd */
	d[1]->log[0] = 0;
	d[1]->read_value = 0xabcd;
	KUNIT_EXPECT_EQ(test, memtopo_space_read(e.as, 0x2010, out, 2), 0);
	KUNIT_EXPECT_EQ(test, out[0], 0xab);
	KUNIT_EXPECT_EQ(test, out[1], 0xcd);

	/* valid_max unset: 8 bytes go as two 4-byte steps; 3 bytes as 2 + 1 */
	KUNIT_EXPECT_EQ(test, memtopo_space_read(e.as, 0x5000, out, 8), 0);
	KUNIT_EXPECT_EQ(test, memtopo_space_read(e.as, 0x5010, out, 3), 0);
	/* unaligned start: 2-byte steps bounded by alignment (offset 0x22) */
	KUNIT_EXPECT_EQ(test, memtopo_space_write(e.as, 0x5022, bytes, 4), 0);
	KUNIT_EXPECT_STREQ(test, d[4]->log,
			   "r0+4 r4+4 r10+2 r12+1 w22+2=2211 w24+2=4433 ");
	pt_env_fini(&e);
}

static const struct memtopo_region_ops pt_le_min4 = {
	.read = pt_dev_read, .write = pt_dev_write, .impl_min = 4, .unaligned = true,
};

static const struct memtopo_region_ops pt_be_min4 = {
	.read = pt_dev_read, .write = pt_dev_write, .impl_min = 4, .unaligned = true,
	.big_endian = true,
};

static const struct memtopo_region_ops pt_strict4 = {
	.read = pt_dev_read, .write = pt_dev_write, .valid_min = 4, .valid_max = 4,
};

static void pt_mmio_widen_and_refuse(struct kunit *test)
{
	struct pt_dev *d[3];
	struct pt_env e;
	u8 out[4] = {};
	int i;

	for (i = 0; i < 3; i++) {
		d[i] = kunit_kzalloc(test, sizeof(*d[i]), GFP_KERNEL);
		KUNIT_ASSERT_NOT_NULL(test, d[i]);
		d[i]->read_value = 0xaabbccdd;
	}
	pt_env_init(test, &e);
	pt_add(test, &e, MEMTOPO_IO, "le", 0x1000, 0x100, NULL, &pt_le_min4, d[0], 0);
	pt_add(test, &e, MEMTOPO_IO, "be", 0x2000, 0x100, NULL, &pt_be_min4, d[1], 0);
	pt_add(test, &e, MEMTOPO_IO, "strict", 0x3000, 0x100, NULL, &pt_strict4, d[2], 0);

	/* a byte read widened to 4: LE keeps the low byte, BE shifts by -24 */
	KUNIT_EXPECT_EQ(test, memtopo_space_read(e.as, 0x1001, out, 1), 0);
	KUNIT_EXPECT_EQ(test, out[0], 0xdd);
	KUNIT_EXPECT_STREQ(test, d[0]->log, "r1+4 ");
	KUNIT_EXPECT_EQ(test, memtopo_space_read(e.as, 0x2001, out, 1), 0);
	KUNIT_EXPECT_EQ(test, out[0], 0xaa);
	/* BE write widened: value 0x5a << 24 */
	KUNIT_EXPECT_EQ(test, memtopo_space_write(e.as, 0x2002, "\x5a", 1), 0);
	KUNIT_EXPECT_STREQ(test, d[1]->log, "r1+4 w2+4=5a000000 ");

	/* valid 4..4: a 2-byte access and a misaligned one never reach it */
	KUNIT_EXPECT_EQ(test, memtopo_space_read(e.as, 0x3000, out, 2), -EINVAL);
	KUNIT_EXPECT_EQ(test, memtopo_space_write(e.as, 0x3002, out, 4), -EINVAL);
	/* 6 bytes: the first step (4) is fine, the second (2) is not: no call */
	KUNIT_EXPECT_EQ(test, memtopo_space_write(e.as, 0x3000, out, 6), -EINVAL);
	KUNIT_EXPECT_STREQ(test, d[2]->log, "");
	KUNIT_EXPECT_EQ(test, memtopo_space_read(e.as, 0x3004, out, 4), 0);
	KUNIT_EXPECT_STREQ(test, d[2]->log, "r4+4 ");
	pt_env_fini(&e);
}

static void pt_romd(struct kunit *test)
{
	struct pt_dev *d = kunit_kzalloc(test, sizeof(*d), GFP_KERNEL);
	u8 *mem = pt_kram(test, 0x100);
	struct memtopo_region *mr;
	struct pt_env e;
	u8 v = 0;

	KUNIT_ASSERT_NOT_NULL(test, d);
	KUNIT_ASSERT_NOT_NULL(test, mem);
	mem[3] = 0x77;
	d->read_value = 0x99;
	pt_env_init(test, &e);
	mr = pt_add(test, &e, MEMTOPO_ROM_DEVICE, "flash", 0x1000, 0x100, mem, &pt_le_impl1,
		    d, 0);
	/* romd mode: reads come from memory, writes go to the device */
	KUNIT_EXPECT_EQ(test, memtopo_space_read(e.as, 0x1003, &v, 1), 0);
	KUNIT_EXPECT_EQ(test, v, 0x77);
	KUNIT_EXPECT_EQ(test, memtopo_space_write(e.as, 0x1003, &v, 1), 0);
	KUNIT_EXPECT_STREQ(test, d->log, "w3+1=77 ");
	KUNIT_EXPECT_EQ(test, memtopo_region_set_romd(mr, false), 0);
	KUNIT_EXPECT_EQ(test, memtopo_space_read(e.as, 0x1003, &v, 1), 0);
	KUNIT_EXPECT_EQ(test, v, 0x99);
	pt_env_fini(&e);
}

/* ---- listener recorder ---- */

struct pt_rec {
	char name;
	char *log;
	size_t size;
};

#define PT_LOG(p, fmt, ...) pt_rec_logf(p, fmt " ", ##__VA_ARGS__)

/* Append "NAME:event " to the shared log. */
static __printf(2, 3) void pt_rec_logf(void *p, const char *fmt, ...)
{
	struct pt_rec *r = p;
	size_t n;
	va_list ap;

	pt_logf(r->log, r->size, "%c:", r->name);
	n = strlen(r->log);
	va_start(ap, fmt);
	vsnprintf(r->log + n, r->size - n, fmt, ap);
	va_end(ap);
}

static void pt_l_add(void *p, const struct memtopo_section *s)
{
	PT_LOG(p, "add%llx", s->start);
}

static void pt_l_del(void *p, const struct memtopo_section *s)
{
	PT_LOG(p, "del%llx", s->start);
}

static void pt_l_log_start(void *p, const struct memtopo_section *s, u8 o, u8 n)
{
	PT_LOG(p, "ls%llx/%u>%u", s->start, o, n);
}

static void pt_l_log_stop(void *p, const struct memtopo_section *s, u8 o, u8 n)
{
	PT_LOG(p, "lx%llx/%u>%u", s->start, o, n);
}

static void pt_l_log_sync(void *p, const struct memtopo_section *s)
{
	PT_LOG(p, "sync%llx", s->start);
}

static int pt_l_gstart(void *p)
{
	PT_LOG(p, "gs");
	return 0;
}

static void pt_l_gstop(void *p)
{
	PT_LOG(p, "gx");
}

static void pt_l_efd_add(void *p, const struct memtopo_section *s, u64 addr, unsigned int size,
			 bool match, u64 data, void *efd)
{
	PT_LOG(p, "ea%llx+%u", addr, size);
}

static void pt_l_efd_del(void *p, const struct memtopo_section *s, u64 addr, unsigned int size,
			 bool match, u64 data, void *efd)
{
	PT_LOG(p, "ed%llx+%u", addr, size);
}

static void pt_l_co_add(void *p, const struct memtopo_section *s, u64 addr, u64 size)
{
	PT_LOG(p, "ca%llx+%llx", addr, size);
}

static void pt_l_co_del(void *p, const struct memtopo_section *s, u64 addr, u64 size)
{
	PT_LOG(p, "cd%llx+%llx", addr, size);
}

static const struct memtopo_listener_ops pt_lops = {
	.region_add = pt_l_add, .region_del = pt_l_del,
	.log_start = pt_l_log_start, .log_stop = pt_l_log_stop, .log_sync = pt_l_log_sync,
	.log_global_start = pt_l_gstart, .log_global_stop = pt_l_gstop,
	.eventfd_add = pt_l_efd_add, .eventfd_del = pt_l_efd_del,
	.coalesced_io_add = pt_l_co_add, .coalesced_io_del = pt_l_co_del,
};

struct pt_listeners {
	char log[1024];
	struct pt_rec rec[2];
	struct memtopo_listener l[2];
};

/* Two listeners, A (priority 0) before B (priority 10). */
static struct pt_listeners *pt_listen(struct kunit *test, struct pt_env *e)
{
	struct pt_listeners *pl = kunit_kzalloc(test, sizeof(*pl), GFP_KERNEL);
	int i;

	KUNIT_ASSERT_NOT_NULL(test, pl);
	for (i = 0; i < 2; i++) {
		pl->rec[i] = (struct pt_rec){ 'A' + i, pl->log, sizeof(pl->log) };
		pl->l[i] = (struct memtopo_listener){ .ops = &pt_lops, .priv = &pl->rec[i],
						      .priority = i * 10 };
		KUNIT_ASSERT_EQ(test, memtopo_listener_register(e->as, &pl->l[i]), 0);
	}
	pl->log[0] = 0;
	return pl;
}

static void pt_unlisten(struct pt_listeners *pl)
{
	memtopo_listener_unregister(&pl->l[1]);
	memtopo_listener_unregister(&pl->l[0]);
}

/* ---- memtopo_ioeventfd: tokens stand in for eventfds ---- */

static atomic_t pt_signals, pt_puts;

static void pt_token_signal(struct eventfd_ctx *e)
{
	atomic_inc(&pt_signals);
}

static void pt_token_put(struct eventfd_ctx *e)
{
	atomic_inc(&pt_puts);
}

static const struct memtopo_eventfd_test_ops pt_token_ops = {
	.signal = pt_token_signal, .put = pt_token_put,
};

#define PT_TOKEN(n) ((struct eventfd_ctx *)(0x1000UL * (n)))

static int pt_efd_init(struct kunit *test)
{
	atomic_set(&pt_signals, 0);
	atomic_set(&pt_puts, 0);
	memtopo_set_eventfd_test_ops(&pt_token_ops);
	return 0;
}

static void pt_efd_exit(struct kunit *test)
{
	/*
	 * Registrations are freed after a grace period, from the callback
	 * that frees their region: two barriers let both run first.
	 */
	rcu_barrier();
	rcu_barrier();
	memtopo_set_eventfd_test_ops(NULL);
}

static void pt_ioeventfd_symdiff(struct kunit *test)
{
	struct pt_dev *d = kunit_kzalloc(test, sizeof(*d), GFP_KERNEL);
	struct memtopo_region *io;
	struct pt_listeners *pl;
	struct pt_env e;

	KUNIT_ASSERT_NOT_NULL(test, d);
	pt_env_init(test, &e);
	io = pt_add(test, &e, MEMTOPO_IO, "io", 0x1000, 0x100, NULL, &pt_le_default, d, 0);
	pl = pt_listen(test, &e);

	/* adds: eventfd_add in reverse listener order */
	KUNIT_EXPECT_EQ(test, memtopo_region_add_eventfd(io, 0x10, 4, false, 0, PT_TOKEN(1)), 0);
	KUNIT_EXPECT_STREQ(test, pl->log, "B:ea1010+4 A:ea1010+4 ");
	/* refusals change nothing */
	KUNIT_EXPECT_EQ(test, memtopo_region_add_eventfd(io, 0x10, 4, false, 0, PT_TOKEN(2)),
			-EEXIST);
	KUNIT_EXPECT_EQ(test, memtopo_region_add_eventfd(io, 0x10, 0, false, 0, PT_TOKEN(2)),
			-EEXIST);
	KUNIT_EXPECT_EQ(test, memtopo_region_add_eventfd(io, 0x20, 3, false, 0, PT_TOKEN(2)),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, memtopo_region_add_eventfd(io, 0xfe, 4, false, 0, PT_TOKEN(2)),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, memtopo_region_add_eventfd(io, 0x20, 1, true, 0x100, PT_TOKEN(2)),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, memtopo_region_del_eventfd(io, 0x20, 1, false, 0, PT_TOKEN(2)),
			-ENOENT);
	KUNIT_EXPECT_STREQ(test, pl->log, "B:ea1010+4 A:ea1010+4 ");

	/* a second one, in a transaction: reported at the commit */
	pl->log[0] = 0;
	memtopo_transaction_begin(e.ctx);
	KUNIT_EXPECT_EQ(test, memtopo_region_add_eventfd(io, 0x8, 2, true, 0x1234, PT_TOKEN(3)),
			0);
	KUNIT_EXPECT_STREQ(test, pl->log, "");
	/* moving the region: everything leaves the old place, comes at the new */
	KUNIT_EXPECT_EQ(test, memtopo_region_set_address(io, 0x3000), 0);
	KUNIT_EXPECT_EQ(test, memtopo_transaction_commit(e.ctx), 0);
	KUNIT_EXPECT_STREQ(test, pl->log,
			   "B:del1000 A:del1000 A:add3000 B:add3000 A:ed1010+4 B:ed1010+4 B:ea3008+2 A:ea3008+2 B:ea3010+4 A:ea3010+4 ");

	/* a range shadowing half of the region hides the eventfd under it */
	pl->log[0] = 0;
	pt_add(test, &e, MEMTOPO_RAM, "shadow", 0x3000, 0x10, NULL, NULL, NULL, 1);
	KUNIT_EXPECT_STREQ(test, pl->log,
			   "B:del3000 A:del3000 A:add3000 B:add3000 A:add3010 B:add3010 A:ed3008+2 B:ed3008+2 ");
	pl->log[0] = 0;
	KUNIT_EXPECT_EQ(test, memtopo_region_del_eventfd(io, 0x10, 4, false, 0, PT_TOKEN(1)), 0);
	KUNIT_EXPECT_STREQ(test, pl->log, "A:ed3010+4 B:ed3010+4 ");
	/* unregistering replays the remaining set (none visible) */
	pt_unlisten(pl);
	pt_env_fini(&e);
	rcu_barrier();
	rcu_barrier();
	/* both tokens were put exactly once */
	KUNIT_EXPECT_EQ(test, atomic_read(&pt_puts), 2);
}

#ifdef CONFIG_FAULT_INJECTION
/*
 * Fail an add (@add) or a delete of @io's eventfd for [@off, @off + 4),
 * @addr in the space, at each fault point in turn, until it succeeds: each
 * failure is -ENOMEM, tells no listener, and leaves a write there going
 * where it went before (to the eventfd only for a delete, which found it
 * registered).  Return: how many calls failed.
 */
static int pt_ioeventfd_fail_walk(struct kunit *test, struct pt_env *e,
				  struct pt_listeners *pl, struct memtopo_region *io, bool add,
				  u64 off, u64 addr, struct eventfd_ctx *token)
{
	int n, ret, signals, failed = 0;

	for (n = 1; n < 100; n++) {
		signals = atomic_read(&pt_signals);
		current->fail_nth = n;
		ret = add ? memtopo_region_add_eventfd(io, off, 4, false, 0, token) :
			    memtopo_region_del_eventfd(io, off, 4, false, 0, token);
		current->fail_nth = 0;
		if (!ret)
			break;
		failed++;
		KUNIT_EXPECT_EQ(test, ret, -ENOMEM);
		KUNIT_EXPECT_STREQ(test, pl->log, "");
		KUNIT_EXPECT_EQ(test, memtopo_space_write(e->as, addr, "\0\0\0\0", 4), 0);
		KUNIT_EXPECT_EQ(test, atomic_read(&pt_signals), signals + !add);
	}
	return failed;
}

/*
 * An add or a delete whose spaces' sets cannot be rebuilt fails, at every
 * fault point: no listener told, and writes go where they went before.
 */
static void pt_ioeventfd_fail_nth(struct kunit *test)
{
	struct pt_dev *d = kunit_kzalloc(test, sizeof(*d), GFP_KERNEL);
	struct memtopo_region *io;
	struct pt_listeners *pl;
	struct pt_env e;

	KUNIT_ASSERT_NOT_NULL(test, d);
	pt_env_init(test, &e);
	io = pt_add(test, &e, MEMTOPO_IO, "io", 0x1000, 0x100, NULL, &pt_le_default, d, 0);
	KUNIT_ASSERT_EQ(test, memtopo_region_add_eventfd(io, 0x10, 4, false, 0, PT_TOKEN(1)), 0);
	pl = pt_listen(test, &e);
	KUNIT_EXPECT_GT(test, pt_ioeventfd_fail_walk(test, &e, pl, io, false, 0x10, 0x1010,
						     PT_TOKEN(1)), 0);
	KUNIT_EXPECT_STREQ(test, pl->log, "A:ed1010+4 B:ed1010+4 ");
	pl->log[0] = 0;
	KUNIT_EXPECT_GT(test, pt_ioeventfd_fail_walk(test, &e, pl, io, true, 0x20, 0x1020,
						     PT_TOKEN(2)), 0);
	KUNIT_EXPECT_STREQ(test, pl->log, "B:ea1020+4 A:ea1020+4 ");
	pt_unlisten(pl);
	pt_env_fini(&e);
}

/* Counts the eventfd callbacks of one listener. */
struct pt_efd_count {
	struct memtopo_listener l;
	unsigned int adds, dels;
};

static void pt_efd_count_add(void *priv, const struct memtopo_section *s, u64 addr,
			     unsigned int size, bool match_data, u64 data, void *eventfd)
{
	((struct pt_efd_count *)priv)->adds++;
}

static void pt_efd_count_del(void *priv, const struct memtopo_section *s, u64 addr,
			     unsigned int size, bool match_data, u64 data, void *eventfd)
{
	((struct pt_efd_count *)priv)->dels++;
}

static const struct memtopo_listener_ops pt_efd_count_ops = {
	.eventfd_add = pt_efd_count_add, .eventfd_del = pt_efd_count_del,
};

enum pt_commit_case {
	PT_COMMIT_TXN_ADD,	/* add in a transaction; its commit fails */
	PT_COMMIT_ADD,		/* add outside a transaction */
	PT_COMMIT_MOVE,		/* a move that changes where the eventfd shows */
};

static u32 pt_nr_eventfds(struct pt_env *e, struct memtopo_region *mr)
{
	u32 n;

	memtopo_ctx_lock(e->ctx);
	n = memtopo_region_list_eventfds_locked(mr, NULL, 0);
	memtopo_ctx_unlock(e->ctx);
	return n;
}

/*
 * One run of @c with the @n-th fault point failing.  Return: the errno of
 * the call that had fault injection on; *@left is what was left of it.
 */
static int pt_commit_fail_one(struct kunit *test, enum pt_commit_case c, int n,
			      unsigned int *left)
{
	struct pt_dev *d = kunit_kzalloc(test, sizeof(*d), GFP_KERNEL);
	struct pt_efd_count *cnt = kunit_kzalloc(test, sizeof(*cnt), GFP_KERNEL);
	struct memtopo_region *io;
	struct pt_env e;
	int ret;

	KUNIT_ASSERT_NOT_NULL(test, d);
	KUNIT_ASSERT_NOT_NULL(test, cnt);
	pt_env_init(test, &e);
	io = pt_add(test, &e, MEMTOPO_IO, "io", 0x1000, 0x100, NULL, &pt_le_default, d, 0);
	if (c == PT_COMMIT_MOVE)
		KUNIT_ASSERT_EQ(test, memtopo_region_add_eventfd(io, 0x10, 4, false, 0,
								 PT_TOKEN(1)), 0);
	cnt->l = (struct memtopo_listener){ .ops = &pt_efd_count_ops, .priv = cnt };
	KUNIT_ASSERT_EQ(test, memtopo_listener_register(e.as, &cnt->l), 0);
	cnt->adds = 0;
	if (c == PT_COMMIT_TXN_ADD) {
		memtopo_transaction_begin(e.ctx);
		KUNIT_ASSERT_EQ(test, memtopo_region_add_eventfd(io, 0x10, 4, false, 0,
								 PT_TOKEN(1)), 0);
	}

	current->fail_nth = n;
	if (c == PT_COMMIT_TXN_ADD)
		ret = memtopo_transaction_commit(e.ctx);
	else if (c == PT_COMMIT_ADD)
		ret = memtopo_region_add_eventfd(io, 0x10, 4, false, 0, PT_TOKEN(1));
	else
		ret = memtopo_region_set_address(io, 0x3000);
	*left = current->fail_nth;
	current->fail_nth = 0;

	if (ret) {
		KUNIT_EXPECT_EQ_MSG(test, ret, -ENOMEM, "case %d, n %d", c, n);
		KUNIT_EXPECT_EQ_MSG(test, cnt->adds + cnt->dels, 0, "case %d, n %d", c, n);
		KUNIT_EXPECT_EQ_MSG(test, pt_nr_eventfds(&e, io), c == PT_COMMIT_MOVE,
				    "case %d, n %d", c, n);
		KUNIT_EXPECT_EQ(test, memtopo_region_address(io), 0x1000);
	} else {
		KUNIT_EXPECT_EQ_MSG(test, cnt->adds, 1, "case %d, n %d: eventfd_add", c, n);
		KUNIT_EXPECT_EQ_MSG(test, cnt->dels, c == PT_COMMIT_MOVE,
				    "case %d, n %d: eventfd_del", c, n);
		KUNIT_EXPECT_EQ(test, pt_nr_eventfds(&e, io), 1);
	}
	memtopo_listener_unregister(&cnt->l);
	pt_env_fini(&e);
	return ret;
}

/*
 * A commit that changes what eventfds a space shows, at every fault point:
 * either it fails with -ENOMEM, undone and nothing told, or it succeeds and
 * the listener hears the change, exactly once.
 */
static void pt_ioeventfd_commit_fail_nth(struct kunit *test)
{
	enum pt_commit_case c;
	unsigned int left;
	int n, ret, failures;

	for (c = PT_COMMIT_TXN_ADD; c <= PT_COMMIT_MOVE; c++) {
		failures = 0;
		for (n = 1; n < 400; n++) {
			ret = pt_commit_fail_one(test, c, n, &left);
			if (ret)
				failures++;
			else if (left)
				break;
		}
		KUNIT_EXPECT_LT_MSG(test, n, 400, "case %d never succeeded", c);
		KUNIT_EXPECT_GT_MSG(test, failures, 0, "case %d never failed", c);
	}
}
#else
static void pt_ioeventfd_fail_nth(struct kunit *test)
{
	kunit_skip(test, "needs CONFIG_FAULT_INJECTION");
}

static void pt_ioeventfd_commit_fail_nth(struct kunit *test)
{
	kunit_skip(test, "needs CONFIG_FAULT_INJECTION");
}
#endif

static void pt_ioeventfd_dispatch(struct kunit *test)
{
	struct pt_dev *d = kunit_kzalloc(test, sizeof(*d), GFP_KERNEL);
	struct memtopo_region *io;
	struct pt_env e;

	KUNIT_ASSERT_NOT_NULL(test, d);
	pt_env_init(test, &e);
	io = pt_add(test, &e, MEMTOPO_IO, "io", 0x1000, 0x100, NULL, &pt_le_default, d, 0);
	KUNIT_ASSERT_EQ(test, memtopo_region_add_eventfd(io, 0x10, 4, true, 0x44332211,
							 PT_TOKEN(1)), 0);
	KUNIT_ASSERT_EQ(test, memtopo_region_add_eventfd(io, 0x20, 0, false, 0, PT_TOKEN(2)), 0);
	/* matching value: the eventfd, not the device */
	KUNIT_EXPECT_EQ(test, memtopo_space_write(e.as, 0x1010, "\x11\x22\x33\x44", 4), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&pt_signals), 1);
	KUNIT_EXPECT_STREQ(test, d->log, "");
	/* other data or size: the device */
	KUNIT_EXPECT_EQ(test, memtopo_space_write(e.as, 0x1010, "\x11\x22\x33\x45", 4), 0);
	KUNIT_EXPECT_EQ(test, memtopo_space_write(e.as, 0x1010, "\x11\x22", 2), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&pt_signals), 1);
	KUNIT_EXPECT_STREQ(test, d->log, "w10+4=45332211 w10+2=2211 ");
	/* size 0 takes any write at its address; reads never signal */
	KUNIT_EXPECT_EQ(test, memtopo_space_write(e.as, 0x1020, "\x01", 1), 0);
	KUNIT_EXPECT_EQ(test, memtopo_space_write(e.as, 0x1020, "\x01\x02", 2), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&pt_signals), 3);
	pt_env_fini(&e);
}

/* ---- memtopo_dirty ---- */

static void pt_dirty_log_order(struct kunit *test)
{
	u8 *ram = pt_kram(test, 0x4000);
	struct memtopo_region *mr;
	struct pt_listeners *pl;
	u64 bits[1];
	struct pt_env e;

	KUNIT_ASSERT_NOT_NULL(test, ram);
	pt_env_init(test, &e);
	mr = pt_add(test, &e, MEMTOPO_RAM, "ram", 0x10000, 0x4000, ram, NULL, NULL, 0);
	pt_add(test, &e, MEMTOPO_IO, "io", 0x20000, 0x100, NULL, NULL, NULL, 0);
	pl = pt_listen(test, &e);

	/* a client on: log_start forward; off: log_stop reverse */
	KUNIT_EXPECT_EQ(test, memtopo_region_set_dirty_log(mr, MEMTOPO_DIRTY_VGA, true), 0);
	KUNIT_EXPECT_STREQ(test, pl->log, "A:ls10000/0>1 B:ls10000/0>1 ");
	KUNIT_EXPECT_EQ(test, memtopo_region_set_dirty_log(mr, MEMTOPO_DIRTY_CLIENTS, true),
			-EINVAL);

	/* global: log_global_start, then MIGRATION joins RAM ranges only */
	pl->log[0] = 0;
	KUNIT_EXPECT_EQ(test, memtopo_global_dirty_log_start(e.ctx,
							     MEMTOPO_DIRTY_REASON_MIGRATION), 0);
	KUNIT_EXPECT_STREQ(test, pl->log, "A:gs B:gs A:ls10000/1>5 B:ls10000/1>5 ");
	/* a reason already on, another reason on and off: nothing new */
	pl->log[0] = 0;
	KUNIT_EXPECT_EQ(test, memtopo_global_dirty_log_start(e.ctx,
							     MEMTOPO_DIRTY_REASON_MIGRATION), 0);
	KUNIT_EXPECT_EQ(test, memtopo_global_dirty_log_start(e.ctx,
							     MEMTOPO_DIRTY_REASON_LIMIT), 0);
	KUNIT_EXPECT_EQ(test, memtopo_global_dirty_log_stop(e.ctx, MEMTOPO_DIRTY_REASON_LIMIT),
			0);
	KUNIT_EXPECT_STREQ(test, pl->log, "");

	/* fetching syncs first; RAM writes through dispatch are logged */
	KUNIT_EXPECT_EQ(test, memtopo_space_write(e.as, 0x11000, "x", 1), 0);
	memtopo_mark_dirty(mr, 0x3000, 0x1001);	/* pages 3 (4 is past the end) */
	KUNIT_EXPECT_EQ(test, memtopo_region_get_dirty_log(mr, MEMTOPO_DIRTY_MIGRATION, 0, 4,
							   bits, true), 0);
	KUNIT_EXPECT_EQ(test, bits[0], 0xaULL);
	KUNIT_EXPECT_STREQ(test, pl->log, "A:sync10000 B:sync10000 ");
	KUNIT_EXPECT_EQ(test, memtopo_region_get_dirty_log(mr, MEMTOPO_DIRTY_MIGRATION, 0, 4,
							   bits, false), 0);
	KUNIT_EXPECT_EQ(test, bits[0], 0ULL);
	/* VGA kept its own copy; CLEAR_DIRTY_LOG clears only what it names */
	KUNIT_EXPECT_EQ(test, memtopo_region_get_dirty_log(mr, MEMTOPO_DIRTY_VGA, 0, 4,
							   bits, false), 0);
	KUNIT_EXPECT_EQ(test, bits[0], 0xaULL);
	bits[0] = 0x8;
	KUNIT_EXPECT_EQ(test, memtopo_region_clear_dirty_log(mr, MEMTOPO_DIRTY_VGA, 0, 4, bits),
			0);
	KUNIT_EXPECT_EQ(test, memtopo_region_get_dirty_log(mr, MEMTOPO_DIRTY_VGA, 0, 4,
							   bits, false), 0);
	KUNIT_EXPECT_EQ(test, bits[0], 0x2ULL);
	/* KVM's errors: no log for CODE, unaligned first page, past the end */
	KUNIT_EXPECT_EQ(test, memtopo_region_get_dirty_log(mr, MEMTOPO_DIRTY_CODE, 0, 4,
							   bits, false), -ENOENT);
	KUNIT_EXPECT_EQ(test, memtopo_region_get_dirty_log(mr, MEMTOPO_DIRTY_VGA, 1, 3,
							   bits, false), -EINVAL);
	KUNIT_EXPECT_EQ(test, memtopo_region_get_dirty_log(mr, MEMTOPO_DIRTY_VGA, 0, 5,
							   bits, false), -EINVAL);

	/* the last stop: log_stop (reverse), then log_global_stop (reverse) */
	pl->log[0] = 0;
	KUNIT_EXPECT_EQ(test, memtopo_global_dirty_log_stop(e.ctx, MEMTOPO_DIRTY_REASON_MIGRATION),
			0);
	KUNIT_EXPECT_STREQ(test, pl->log, "B:lx10000/5>1 A:lx10000/5>1 B:gx A:gx ");
	KUNIT_EXPECT_EQ(test, memtopo_global_dirty_log_stop(e.ctx, MEMTOPO_DIRTY_REASON_MIGRATION),
			-EINVAL);
	pt_unlisten(pl);
	pt_env_fini(&e);
}

#define PT_STRESS_PAGES		1024
#define PT_STRESS_MARKERS	2
#define PT_STRESS_MARKS		50000

struct pt_stress {
	struct memtopo_region *mr;
	atomic64_t gen[PT_STRESS_PAGES];	/* last value a marker stored */
	u64 seen[PT_STRESS_PAGES];		/* what the fetcher read after a hit */
	atomic_t running;
};

struct pt_marker {
	struct pt_stress *st;
	unsigned int id;
	struct completion done;
};

static int pt_marker_fn(void *arg)
{
	struct pt_marker *m = arg;
	struct pt_stress *st = m->st;
	u32 i, page;

	for (i = 1; i <= PT_STRESS_MARKS; i++) {
		/* each marker owns the pages p with p % MARKERS == id */
		page = (get_random_u32() % (PT_STRESS_PAGES / PT_STRESS_MARKERS)) *
		       PT_STRESS_MARKERS + m->id;
		/* the "write" to the page, then its mark: the order KVM uses */
		atomic64_set(&st->gen[page], i);
		memtopo_mark_dirty(st->mr, (u64)page << 12, 1);
		if (!(i % 1024))
			cond_resched();
	}
	atomic_dec(&st->running);
	complete(&m->done);
	return 0;
}

static void pt_fetch_all(struct pt_stress *st, u64 *bits)
{
	u32 p;

	memtopo_region_get_dirty_log(st->mr, MEMTOPO_DIRTY_MIGRATION, 0, PT_STRESS_PAGES, bits,
				     true);
	for (p = 0; p < PT_STRESS_PAGES; p++)
		if (bits[p / 64] & BIT_ULL(p % 64))
			st->seen[p] = atomic64_read(&st->gen[p]);
}

static void pt_dirty_stress(struct kunit *test)
{
	struct pt_marker *m = kunit_kcalloc(test, PT_STRESS_MARKERS, sizeof(*m), GFP_KERNEL);
	struct pt_stress *st = kunit_kzalloc(test, sizeof(*st), GFP_KERNEL);
	u64 *bits = kunit_kzalloc(test, PT_STRESS_PAGES / 8, GFP_KERNEL);
	struct task_struct *t;
	unsigned int i, lost = 0, fetches = 0;
	struct pt_env e;

	KUNIT_ASSERT_NOT_NULL(test, m);
	KUNIT_ASSERT_NOT_NULL(test, st);
	KUNIT_ASSERT_NOT_NULL(test, bits);
	pt_env_init(test, &e);
	st->mr = pt_add(test, &e, MEMTOPO_RAM, "ram", 0, (u64)PT_STRESS_PAGES << 12, NULL, NULL,
			NULL, 0);
	KUNIT_ASSERT_EQ(test, memtopo_global_dirty_log_start(e.ctx,
							     MEMTOPO_DIRTY_REASON_MIGRATION), 0);
	atomic_set(&st->running, PT_STRESS_MARKERS);
	for (i = 0; i < PT_STRESS_MARKERS; i++) {
		m[i].st = st;
		m[i].id = i;
		init_completion(&m[i].done);
		t = kthread_run(pt_marker_fn, &m[i], "memtopo-mark%u", i);
		KUNIT_ASSERT_FALSE(test, IS_ERR(t));
	}
	/* fetch-and-clear while they mark */
	while (atomic_read(&st->running)) {
		pt_fetch_all(st, bits);
		fetches++;
		cond_resched();
	}
	for (i = 0; i < PT_STRESS_MARKERS; i++)
		wait_for_completion(&m[i].done);
	pt_fetch_all(st, bits);
	/* the last value stored in every page was seen after a fetched bit */
	for (i = 0; i < PT_STRESS_PAGES; i++)
		if (st->seen[i] != atomic64_read(&st->gen[i]))
			lost++;
	KUNIT_EXPECT_EQ(test, lost, 0);
	kunit_info(test, "%u fetches while %u markers marked %u pages each\n", fetches,
		   PT_STRESS_MARKERS, PT_STRESS_MARKS);
	KUNIT_EXPECT_EQ(test, memtopo_global_dirty_log_stop(e.ctx, MEMTOPO_DIRTY_REASON_MIGRATION),
			0);
	pt_env_fini(&e);
}

/* ---- memtopo_coalesced ---- */

static void pt_coalesced(struct kunit *test)
{
	struct memtopo_region *io, *ram;
	struct pt_listeners *pl;
	struct pt_env e;

	pt_env_init(test, &e);
	io = pt_add(test, &e, MEMTOPO_IO, "io", 0x1000, 0x1000, NULL, NULL, NULL, 0);
	pl = pt_listen(test, &e);
	KUNIT_EXPECT_EQ(test, memtopo_region_add_coalescing(io, 0x100, 0x100), 0);
	KUNIT_EXPECT_STREQ(test, pl->log, "A:ca1100+100 B:ca1100+100 ");
	KUNIT_EXPECT_EQ(test, memtopo_region_add_coalescing(io, 0x100, 0x100), -EEXIST);
	KUNIT_EXPECT_EQ(test, memtopo_region_add_coalescing(io, 0xf00, 0x101), -EINVAL);
	KUNIT_EXPECT_EQ(test, memtopo_region_del_coalescing(io, 0x100, 0x10), -ENOENT);

	/* RAM over the first 0x180 bytes: the range leaves, two come */
	pl->log[0] = 0;
	ram = pt_add(test, &e, MEMTOPO_RAM, "ram", 0x1000, 0x180, NULL, NULL, NULL, 1);
	KUNIT_EXPECT_STREQ(test, pl->log,
			   "B:cd1000+1000 A:cd1000+1000 B:del1000 A:del1000 A:add1000 B:add1000 A:add1180 B:add1180 A:ca1180+80 B:ca1180+80 ");
	/* removing the last range reports the deletion (QEMU does not) */
	pl->log[0] = 0;
	memtopo_region_clear_coalescing(io);
	KUNIT_EXPECT_STREQ(test, pl->log, "B:cd1180+e80 A:cd1180+e80 ");
	KUNIT_EXPECT_EQ(test, memtopo_region_add_coalescing(ram, 0, 1), -EINVAL);
	pt_unlisten(pl);
	pt_env_fini(&e);
}

static struct kunit_case memtopo_dispatch_cases[] = {
	KUNIT_CASE(pt_ram_copy_split),
	KUNIT_CASE(pt_unassigned_rom),
	KUNIT_CASE(pt_mmio_split_endian),
	KUNIT_CASE(pt_mmio_widen_and_refuse),
	KUNIT_CASE(pt_romd),
	{}
};

static struct kunit_suite memtopo_dispatch_suite = {
	.name = "memtopo_dispatch",
	.test_cases = memtopo_dispatch_cases,
};

static struct kunit_case memtopo_ioeventfd_cases[] = {
	KUNIT_CASE(pt_ioeventfd_symdiff),
	KUNIT_CASE(pt_ioeventfd_dispatch),
	KUNIT_CASE(pt_ioeventfd_fail_nth),
	KUNIT_CASE(pt_ioeventfd_commit_fail_nth),
	{}
};

static struct kunit_suite memtopo_ioeventfd_suite = {
	.name = "memtopo_ioeventfd",
	.init = pt_efd_init,
	.exit = pt_efd_exit,
	.test_cases = memtopo_ioeventfd_cases,
};

static struct kunit_case memtopo_dirty_cases[] = {
	KUNIT_CASE(pt_dirty_log_order),
	KUNIT_CASE(pt_dirty_stress),
	{}
};

static struct kunit_suite memtopo_dirty_suite = {
	.name = "memtopo_dirty",
	.test_cases = memtopo_dirty_cases,
};

static struct kunit_case memtopo_coalesced_cases[] = {
	KUNIT_CASE(pt_coalesced),
	{}
};

static struct kunit_suite memtopo_coalesced_suite = {
	.name = "memtopo_coalesced",
	.test_cases = memtopo_coalesced_cases,
};

kunit_test_suites(&memtopo_dispatch_suite, &memtopo_ioeventfd_suite, &memtopo_dirty_suite,
		  &memtopo_coalesced_suite);
