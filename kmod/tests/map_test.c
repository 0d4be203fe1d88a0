// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit suite "memtopo_map": memtopo_space_map() / memtopo_space_unmap()
 * (map.c).  Direct mappings of RAM (the longest run of ranges continuing
 * the same bytes, read-only ranges, ROM devices by mode), the bounce rule
 * for everything else (one buffer per space, read on map, written back on
 * unmap, errors leaving the buffer free), dirty marking on unmap, and a
 * mapping held across a region_del: writes through it land in the old
 * backing, never in what the view shows now, and the backing stays alive
 * (KASAN checks it) until the unmap.
 *
 * The map of most cases:
 *   sys    container 2^64
 *   ram    RAM 0x8000 at 0x0, kernel-owned RAM at @mem
 *   a1     alias ram[0x0, 0x4000)     at 0x10000
 *   a2     alias ram[0x4000, 0x8000)  at 0x14000, read-only
 *   a3     alias ram[0x0, 0x1000)     at 0x18000
 *   dev    I/O 0x3000 at 0x20000, a device logging its calls
 *   rsv    reservation 0x1000 at 0x30000
 *   label  RAM 0x1000 at 0x40000 with only a userspace address (a label)
 *   flash  ROM device 0x1000 at 0x50000, kernel-owned RAM at @flash_mem
 */
#include <kunit/test.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/shmem_fs.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "engine_util.h"

#define MP_RAM_SIZE	0x8000

struct mp_dev {
	unsigned int reads, writes;
	u64 last_write_off;
	u64 last_write_val;
	int fail;		/* every call fails with it when set */
};

static int mp_dev_read(void *opaque, u64 offset, u64 *data, unsigned int size)
{
	struct mp_dev *d = opaque;

	d->reads++;
	if (d->fail)
		return d->fail;
	/* each byte reads as the low byte of its offset, plus 1 */
	*data = 0;
	while (size--)
		*data = (*data << 8) | (u8)(offset + size + 1);
	return 0;
}

static int mp_dev_write(void *opaque, u64 offset, u64 data, unsigned int size)
{
	struct mp_dev *d = opaque;

	d->writes++;
	if (d->fail)
		return d->fail;
	d->last_write_off = offset;
	d->last_write_val = data;
	return 0;
}

static const struct memtopo_region_ops mp_dev_ops = {
	.read = mp_dev_read,
	.write = mp_dev_write,
	.impl_max = 8,
	.valid_max = 8,
};

/* a device that can only be read */
static const struct memtopo_region_ops mp_ro_dev_ops = {
	.read = mp_dev_read,
	.impl_max = 8,
	.valid_max = 8,
};

struct mp_map {
	struct memtopo_space *as;
	struct memtopo_region *sys, *ram, *a1, *a2, *a3, *dev, *flash;
	u8 *mem, *flash_mem;
	struct mp_dev d;
};

/* A region holding @b (which it takes its own reference on; ours is dropped). */
static struct memtopo_region *mp_backed(struct kunit *test, enum memtopo_kind kind,
					const char *name, u64 size, struct memtopo_backing *b,
					const struct memtopo_region_ops *ops, void *opaque)
{
	struct memtopo_region_info info = {
		.kind = kind, .name = name, .size = size, .backing = b, .ops = ops,
		.opaque = opaque,
	};
	struct memtopo_region *mr;

	KUNIT_ASSERT_FALSE(test, IS_ERR(b));
	mr = memtopo_region_create(mt_ctx(test), &info);
	memtopo_backing_put(b);
	KUNIT_ASSERT_FALSE(test, IS_ERR(mr));
	return mr;
}

/*
 * A space named @name whose container holds, at 0x40000000, a RAM region
 * of @size backed by a new shmem file.  @sys and @ram, if not NULL, are
 * set to the container and the RAM region.
 */
static struct memtopo_space *mp_file_space(struct kunit *test, const char *name, u64 size,
					   struct memtopo_region **sys,
					   struct memtopo_region **ram)
{
	struct memtopo_region *root, *fram;
	struct memtopo_backing *b;
	struct memtopo_space *as;
	struct file *file;

	file = shmem_file_setup(name, size, 0);
	KUNIT_ASSERT_FALSE(test, IS_ERR(file));
	b = memtopo_backing_file(file, 0, size, true);
	fput(file);	/* the backing holds the file */
	fram = mp_backed(test, MEMTOPO_RAM, "fram", size, b, NULL, NULL);
	root = mt_region64(test, MEMTOPO_CONTAINER, "sys");
	mt_add(test, root, 0x40000000, fram, 0);
	as = mt_space(test, name, root);
	if (sys)
		*sys = root;
	if (ram)
		*ram = fram;
	return as;
}

static void mp_build(struct kunit *test, struct mp_map *m)
{
	struct memtopo_backing *ram = memtopo_backing_kernel_alloc(MP_RAM_SIZE);
	struct memtopo_backing *flash = memtopo_backing_kernel_alloc(0x1000);
	u32 i;

	KUNIT_ASSERT_FALSE(test, IS_ERR(ram));
	KUNIT_ASSERT_FALSE(test, IS_ERR(flash));
	m->mem = ram->kaddr;
	m->flash_mem = flash->kaddr;
	for (i = 0; i < MP_RAM_SIZE; i++)
		m->mem[i] = i * 7;
	memset(m->flash_mem, 0xf1, 0x1000);
	m->sys = mt_region64(test, MEMTOPO_CONTAINER, "sys");
	m->ram = mp_backed(test, MEMTOPO_RAM, "ram", MP_RAM_SIZE, ram, NULL, NULL);
	m->a1 = mt_alias(test, "a1", m->ram, 0, 0x4000);
	m->a2 = mt_alias(test, "a2", m->ram, 0x4000, 0x4000);
	m->a3 = mt_alias(test, "a3", m->ram, 0, 0x1000);
	KUNIT_ASSERT_EQ(test, memtopo_region_set_readonly(m->a2, true), 0);
	m->dev = mp_backed(test, MEMTOPO_IO, "dev", 0x3000, NULL, &mp_dev_ops, &m->d);
	m->flash = mp_backed(test, MEMTOPO_ROM_DEVICE, "flash", 0x1000, flash, &mp_dev_ops,
			     &m->d);
	mt_add(test, m->sys, 0, m->ram, 0);
	mt_add(test, m->sys, 0x10000, m->a1, 0);
	mt_add(test, m->sys, 0x14000, m->a2, 0);
	mt_add(test, m->sys, 0x18000, m->a3, 0);
	mt_add(test, m->sys, 0x20000, m->dev, 0);
	mt_add(test, m->sys, 0x30000, mt_region(test, MEMTOPO_RESERVATION, "rsv", 0x1000), 0);
	mt_add(test, m->sys, 0x40000,
	       mp_backed(test, MEMTOPO_RAM, "label", 0x1000,
			 memtopo_backing_label(0x7f0000000000ULL), NULL, NULL), 0);
	mt_add(test, m->sys, 0x50000, m->flash, 0);
	m->as = mt_space(test, "map", m->sys);
}

static void mp_unmap(struct kunit *test, struct memtopo_mapping *mp, u64 access_len)
{
	KUNIT_EXPECT_EQ(test, memtopo_space_unmap(mp, access_len), 0);
}

static void mt_map_ram_test(struct kunit *test)
{
	struct memtopo_mapping mp;
	struct mp_map m = {};

	mp_build(test, &m);
	/* inside one range: the memory itself */
	KUNIT_ASSERT_EQ(test, memtopo_space_map(m.as, 0x100, 0x200, false, &mp), 0);
	KUNIT_EXPECT_PTR_EQ(test, mp.ptr, (void *)(m.mem + 0x100));
	KUNIT_EXPECT_EQ(test, mp.len, 0x200ULL);
	KUNIT_EXPECT_EQ(test, mp.addr, 0x100ULL);
	KUNIT_EXPECT_FALSE(test, mp.bounce);
	KUNIT_EXPECT_PTR_EQ(test, mp.mr, m.ram);
	KUNIT_EXPECT_EQ(test, mp.offset, 0x100ULL);
	mp_unmap(test, &mp, 0);

	/* clipped where the range ends and a hole starts */
	KUNIT_ASSERT_EQ(test, memtopo_space_map(m.as, 0x7f00, 0x1000, true, &mp), 0);
	KUNIT_EXPECT_PTR_EQ(test, mp.ptr, (void *)(m.mem + 0x7f00));
	KUNIT_EXPECT_EQ(test, mp.len, 0x100ULL);
	mp_unmap(test, &mp, 0x100);

	/*
	 * a1 and a2 continue the same bytes of ram: one mapping for reading,
	 * but a2 is read-only, so a write mapping stops where it starts
	 */
	KUNIT_ASSERT_EQ(test, memtopo_space_map(m.as, 0x13000, 0x3000, false, &mp), 0);
	KUNIT_EXPECT_PTR_EQ(test, mp.ptr, (void *)(m.mem + 0x3000));
	KUNIT_EXPECT_EQ(test, mp.len, 0x3000ULL);
	mp_unmap(test, &mp, 0);
	KUNIT_ASSERT_EQ(test, memtopo_space_map(m.as, 0x13000, 0x3000, true, &mp), 0);
	KUNIT_EXPECT_EQ(test, mp.len, 0x1000ULL);
	mp_unmap(test, &mp, 0);

	/* a3 follows a2 at 0x18000 but starts over at ram's offset 0: not contiguous */
	KUNIT_ASSERT_EQ(test, memtopo_space_map(m.as, 0x17000, 0x2000, false, &mp), 0);
	KUNIT_EXPECT_PTR_EQ(test, mp.ptr, (void *)(m.mem + 0x7000));
	KUNIT_EXPECT_EQ(test, mp.len, 0x1000ULL);
	mp_unmap(test, &mp, 0);

	/* the bytes are the backing's: what was written through one alias shows in another */
	KUNIT_ASSERT_EQ(test, memtopo_space_map(m.as, 0x10010, 4, true, &mp), 0);
	memcpy(mp.ptr, "vhst", 4);
	mp_unmap(test, &mp, 4);
	KUNIT_ASSERT_EQ(test, memtopo_space_map(m.as, 0x18010, 4, false, &mp), 0);
	KUNIT_EXPECT_EQ(test, memcmp(mp.ptr, "vhst", 4), 0);
	mp_unmap(test, &mp, 0);

	/* a ROM device in romd mode reads as memory */
	KUNIT_ASSERT_EQ(test, memtopo_space_map(m.as, 0x50000, 0x10, false, &mp), 0);
	KUNIT_EXPECT_PTR_EQ(test, mp.ptr, (void *)m.flash_mem);
	KUNIT_EXPECT_FALSE(test, mp.bounce);
	mp_unmap(test, &mp, 0);
	KUNIT_EXPECT_EQ(test, m.d.reads, 0u);
}

static void mt_map_errno_test(struct kunit *test)
{
	struct memtopo_mapping mp, keep;
	struct mt_snap snap;
	struct mp_map m = {};

	mp_build(test, &m);
	mt_snapshot(test, m.as, &snap);
	memset(&mp, 0x5a, sizeof(mp));
	keep = mp;
	KUNIT_EXPECT_EQ(test, memtopo_space_map(m.as, 0x100, 0, false, &mp), -EINVAL);
	/* a hole, even with RAM after it within the length */
	KUNIT_EXPECT_EQ(test, memtopo_space_map(m.as, 0x8000, 0x10000, false, &mp), -ENOENT);
	KUNIT_EXPECT_EQ(test, memtopo_space_map(m.as, U64_MAX, 1, false, &mp), -ENOENT);
	/* read-only: a2 by flag; reads map, writes are refused */
	KUNIT_EXPECT_EQ(test, memtopo_space_map(m.as, 0x14000, 0x10, true, &mp), -EROFS);
	/* a label: a userspace address the kernel cannot reach */
	KUNIT_EXPECT_EQ(test, memtopo_space_map(m.as, 0x40000, 0x10, false, &mp), -EOPNOTSUPP);
	/* a reservation: nothing answers the bounce's read, or would take its write */
	KUNIT_EXPECT_EQ(test, memtopo_space_map(m.as, 0x30000, 0x10, false, &mp), -ENXIO);
	KUNIT_EXPECT_EQ(test, memtopo_space_map(m.as, 0x30000, 0x10, true, &mp), -ENXIO);
	/* the device fails: the bounce buffer is given back */
	m.d.fail = -EIO;
	KUNIT_EXPECT_EQ(test, memtopo_space_map(m.as, 0x20000, 0x10, false, &mp), -EIO);
	m.d.fail = 0;
	/* refused maps left the caller's struct alone */
	KUNIT_EXPECT_EQ(test, memcmp(&mp, &keep, sizeof(mp)), 0);
	MT_EXPECT_UNCHANGED(test, m.as, &snap);

	/* after every refusal the one bounce buffer is free */
	KUNIT_ASSERT_EQ(test, memtopo_space_map(m.as, 0x20000, 0x10, false, &mp), 0);
	KUNIT_EXPECT_TRUE(test, mp.bounce);
	mp_unmap(test, &mp, 0);
}

static void mt_map_bounce_test(struct kunit *test)
{
	struct memtopo_mapping mp, second;
	struct memtopo_space *as2;
	struct mp_map m = {};
	unsigned int i, writes;
	u8 *p;

	mp_build(test, &m);
	/* read: filled through the device's callbacks, within the range */
	KUNIT_ASSERT_EQ(test, memtopo_space_map(m.as, 0x20010, 0x20, false, &mp), 0);
	KUNIT_EXPECT_TRUE(test, mp.bounce);
	KUNIT_EXPECT_NULL(test, mp.mr);
	KUNIT_EXPECT_EQ(test, mp.len, 0x20ULL);
	p = mp.ptr;
	for (i = 0; i < 0x20; i++)
		KUNIT_EXPECT_EQ(test, p[i], (u8)(0x10 + i + 1));
	KUNIT_EXPECT_EQ(test, m.d.reads, 4u);

	/* one bounce buffer per space: a second one waits for the unmap */
	KUNIT_EXPECT_EQ(test, memtopo_space_map(m.as, 0x21000, 8, false, &second), -EBUSY);
	/* RAM maps directly meanwhile */
	KUNIT_ASSERT_EQ(test, memtopo_space_map(m.as, 0, 8, false, &second), 0);
	mp_unmap(test, &second, 0);
	/* another space has its own */
	as2 = mt_space(test, "map2", m.sys);
	KUNIT_ASSERT_EQ(test, memtopo_space_map(as2, 0x21000, 8, false, &second), 0);
	mp_unmap(test, &second, 0);
	/* a read mapping writes nothing back */
	writes = m.d.writes;
	mp_unmap(test, &mp, 0x20);
	KUNIT_EXPECT_EQ(test, m.d.writes, writes);

	/* at most a page, even when the range goes on */
	KUNIT_ASSERT_EQ(test, memtopo_space_map(m.as, 0x20000, 0x3000, false, &mp), 0);
	KUNIT_EXPECT_EQ(test, mp.len, (u64)PAGE_SIZE);
	mp_unmap(test, &mp, 0);

	/* write: nothing reaches the device before the unmap, then access_len bytes */
	KUNIT_ASSERT_EQ(test, memtopo_space_map(m.as, 0x20100, 0x10, true, &mp), 0);
	KUNIT_EXPECT_TRUE(test, mp.bounce);
	memcpy(mp.ptr, "\x01\x02\x03\x04\x05\x06\x07\x08\x09", 9);
	KUNIT_EXPECT_EQ(test, m.d.writes, writes);
	mp_unmap(test, &mp, 8);
	KUNIT_EXPECT_EQ(test, m.d.writes, writes + 1);
	KUNIT_EXPECT_EQ(test, m.d.last_write_off, 0x100ULL);
	KUNIT_EXPECT_EQ(test, m.d.last_write_val, 0x0807060504030201ULL);

	/* a failed write-back is reported and still frees the buffer */
	KUNIT_ASSERT_EQ(test, memtopo_space_map(m.as, 0x20100, 8, true, &mp), 0);
	m.d.fail = -EIO;
	KUNIT_EXPECT_EQ(test, memtopo_space_unmap(&mp, 8), -EIO);
	m.d.fail = 0;
	KUNIT_ASSERT_EQ(test, memtopo_space_map(m.as, 0x20100, 8, true, &mp), 0);
	mp_unmap(test, &mp, 0);

	/* a ROM device's writes go to the device, in romd mode too */
	KUNIT_ASSERT_EQ(test, memtopo_space_map(m.as, 0x50000, 8, true, &mp), 0);
	KUNIT_EXPECT_TRUE(test, mp.bounce);
	mp_unmap(test, &mp, 0);
	/* out of romd mode, its reads too */
	KUNIT_ASSERT_EQ(test, memtopo_region_set_romd(m.flash, false), 0);
	KUNIT_ASSERT_EQ(test, memtopo_space_map(m.as, 0x50000, 8, false, &mp), 0);
	KUNIT_EXPECT_TRUE(test, mp.bounce);
	KUNIT_EXPECT_EQ(test, ((u8 *)mp.ptr)[0], 1);
	mp_unmap(test, &mp, 0);

	/* a device that cannot be written: refused at map time, buffer free */
	KUNIT_ASSERT_EQ(test, memtopo_region_del_subregion(m.sys, m.dev), 0);
	mt_add(test, m.sys, 0x20000,
	       mp_backed(test, MEMTOPO_IO, "rodev", 0x1000, NULL, &mp_ro_dev_ops, &m.d), 0);
	KUNIT_EXPECT_EQ(test, memtopo_space_map(m.as, 0x20000, 8, true, &mp), -EOPNOTSUPP);
	KUNIT_ASSERT_EQ(test, memtopo_space_map(m.as, 0x20000, 8, false, &mp), 0);
	mp_unmap(test, &mp, 0);
}

static void mt_map_dirty_test(struct kunit *test)
{
	struct memtopo_mapping mp;
	struct mp_map m = {};
	u64 bits;

	mp_build(test, &m);
	KUNIT_ASSERT_EQ(test, memtopo_region_set_dirty_log(m.ram, MEMTOPO_DIRTY_VGA, true), 0);
	/* a read mapping marks nothing */
	KUNIT_ASSERT_EQ(test, memtopo_space_map(m.as, 0x1000, 0x3000, false, &mp), 0);
	mp_unmap(test, &mp, 0x3000);
	KUNIT_ASSERT_EQ(test, memtopo_region_get_dirty_log(m.ram, MEMTOPO_DIRTY_VGA, 0, 8,
							   &bits, true), 0);
	KUNIT_EXPECT_EQ(test, bits, 0ULL);
	/* a write mapping marks what the caller says it wrote, through the alias too */
	KUNIT_ASSERT_EQ(test, memtopo_space_map(m.as, 0x10ff0, 0x3000, true, &mp), 0);
	KUNIT_EXPECT_EQ(test, mp.offset, 0xff0ULL);
	mp_unmap(test, &mp, 0x1020);
	KUNIT_ASSERT_EQ(test, memtopo_region_get_dirty_log(m.ram, MEMTOPO_DIRTY_VGA, 0, 8,
							   &bits, true), 0);
	/* bytes 0xff0..0x200f: pages 0, 1 and 2 */
	KUNIT_EXPECT_EQ(test, bits, 0x7ULL);
}

/*
 * A mapping held across a region_del: the region it maps is removed from
 * the view and destroyed, another takes its place, and the consumer still
 * writes through the old mapping.  The bytes land in the old backing (the
 * mapping's reference keeps it: once the region is freed it is the only
 * one, and a use after free here is a KASAN report), never in the region
 * the view shows now.
 */
static void mt_map_held_test(struct kunit *test)
{
	struct memtopo_backing *old_b = memtopo_backing_kernel_alloc(0x2000);
	struct memtopo_region *sys, *old, *new;
	struct memtopo_mapping mp;
	struct memtopo_space *as;
	u8 *old_mem, buf[16];

	KUNIT_ASSERT_FALSE(test, IS_ERR(old_b));
	old_mem = old_b->kaddr;
	sys = mt_region64(test, MEMTOPO_CONTAINER, "sys");
	as = mt_space(test, "held", sys);
	old = mp_backed(test, MEMTOPO_RAM, "old", 0x2000, old_b, NULL, NULL);
	mt_add(test, sys, 0x100000, old, 0);
	new = mp_backed(test, MEMTOPO_RAM, "new", 0x2000, memtopo_backing_kernel_alloc(0x2000),
			NULL, NULL);

	KUNIT_ASSERT_EQ(test, memtopo_space_map(as, 0x100800, 0x1000, true, &mp), 0);
	KUNIT_EXPECT_PTR_EQ(test, mp.ptr, (void *)(old_mem + 0x800));
	/* region_del, destroy (the context lets go of it), a new region there */
	KUNIT_ASSERT_EQ(test, memtopo_region_del_subregion(sys, old), 0);
	KUNIT_ASSERT_EQ(test, memtopo_region_destroy(old), 0);
	mt_add(test, sys, 0x100000, new, 0);
	/* let any RCU-deferred free that should not happen, happen */
	synchronize_rcu();
	rcu_barrier();

	memset(mp.ptr, 0xab, mp.len);
	KUNIT_EXPECT_EQ(test, old_mem[0x800], 0xab);
	KUNIT_EXPECT_EQ(test, old_mem[0x17ff], 0xab);
	/* the view shows the new region, untouched */
	KUNIT_ASSERT_EQ(test, memtopo_space_read(as, 0x100000, buf, sizeof(buf)), 0);
	KUNIT_EXPECT_NULL(test, memchr_inv(buf, 0, sizeof(buf)));
	KUNIT_ASSERT_EQ(test, memtopo_space_read(as, 0x100800, buf, sizeof(buf)), 0);
	KUNIT_EXPECT_NULL(test, memchr_inv(buf, 0, sizeof(buf)));
	KUNIT_ASSERT_EQ(test, memtopo_space_read(as, 0x1017f0, buf, sizeof(buf)), 0);
	KUNIT_EXPECT_NULL(test, memchr_inv(buf, 0, sizeof(buf)));
	/* the unmap marks a dead region dirty and lets its backing go */
	mp_unmap(test, &mp, mp.len);
	rcu_barrier();
}

/*
 * A file backing (shmem, as a memfd is): its pages are taken and vmap()ed.
 * What the mapping writes is what memtopo_space_read() (through the page
 * cache) reads; a mapping stops at MEMTOPO_MAP_MAX_PAGES; it outlives the
 * region, the file's last other reference and the region_del.
 */
static void mt_map_file_test(struct kunit *test)
{
	const u64 size = 2 << 20;	/* more than one mapping can take */
	struct memtopo_region *sys, *ram;
	struct memtopo_mapping mp;
	struct memtopo_space *as;
	u8 buf[8];
	u8 *p;

	as = mp_file_space(test, "memtopo-map-file", size, &sys, &ram);

	/* unaligned start, more than a page: several pages, one pointer */
	KUNIT_ASSERT_EQ(test, memtopo_space_map(as, 0x40000ff0, 0x2000, true, &mp), 0);
	KUNIT_EXPECT_FALSE(test, mp.bounce);
	KUNIT_EXPECT_EQ(test, mp.len, 0x2000ULL);
	p = mp.ptr;
	memcpy(p, "filebacked", 10);
	memcpy(p + 0x1ff8, "pagetail", 8);
	mp_unmap(test, &mp, 0x2000);
	KUNIT_ASSERT_EQ(test, memtopo_space_read(as, 0x40000ff0, buf, 8), 0);
	KUNIT_EXPECT_EQ(test, memcmp(buf, "fileback", 8), 0);
	KUNIT_ASSERT_EQ(test, memtopo_space_read(as, 0x40002fe8, buf, 8), 0);
	KUNIT_EXPECT_EQ(test, memcmp(buf, "pagetail", 8), 0);

	/* and the other way: what dispatch writes, a read mapping shows */
	KUNIT_ASSERT_EQ(test, memtopo_space_write(as, 0x40100000, "dispatch", 8), 0);
	KUNIT_ASSERT_EQ(test, memtopo_space_map(as, 0x40100000, 8, false, &mp), 0);
	KUNIT_EXPECT_EQ(test, memcmp(mp.ptr, "dispatch", 8), 0);
	mp_unmap(test, &mp, 0);

	/* the whole region asked for: one mapping covers at most 256 pages */
	KUNIT_ASSERT_EQ(test, memtopo_space_map(as, 0x40000000, size, false, &mp), 0);
	KUNIT_EXPECT_EQ(test, mp.len, 256ULL * PAGE_SIZE);
	mp_unmap(test, &mp, 0);
	KUNIT_ASSERT_EQ(test, memtopo_space_map(as, 0x40000800, size, false, &mp), 0);
	KUNIT_EXPECT_EQ(test, mp.len, 256ULL * PAGE_SIZE - 0x800);
	mp_unmap(test, &mp, 0);

	/* held across region_del and destroy: the pages stay the mapping's */
	KUNIT_ASSERT_EQ(test, memtopo_space_map(as, 0x40000ff0, 16, true, &mp), 0);
	KUNIT_ASSERT_EQ(test, memtopo_region_del_subregion(sys, ram), 0);
	KUNIT_ASSERT_EQ(test, memtopo_region_destroy(ram), 0);
	/* a commit frees what the destroy deferred */
	memtopo_transaction_begin(mt_ctx(test));
	KUNIT_ASSERT_EQ(test, memtopo_transaction_commit(mt_ctx(test)), 0);
	rcu_barrier();
	KUNIT_EXPECT_EQ(test, memcmp(mp.ptr, "filebacked", 10), 0);
	memset(mp.ptr, 0xcd, 16);
	KUNIT_EXPECT_EQ(test, memtopo_space_read(as, 0x40000ff0, buf, 8), -ENXIO);
	mp_unmap(test, &mp, 16);
	rcu_barrier();
}

/*
 * The pages a file mapping takes are charged to the context's budget: a
 * mapping past it is ENOSPC with nothing taken and nothing charged, and
 * the unmap gives its charge back.
 */
static void mt_map_budget_test(struct kunit *test)
{
	const u64 size = 64 << 10;
	struct memtopo_ctx *ctx = mt_ctx(test);
	struct memtopo_space *as = mp_file_space(test, "memtopo-map-budget", size, NULL, NULL);
	struct memtopo_mapping mp = {};
	size_t used;

	memtopo_ctx_lock(ctx);
	/* kept views would give way to the charges below: none, so they are exact */
	memtopo_history_reclaim(ctx);
	used = memtopo_ctx_mem_used(ctx);
	KUNIT_EXPECT_EQ(test, memtopo_ctx_set_mem_max_locked(ctx, used + 2 * PAGE_SIZE), 0);
	memtopo_ctx_unlock(ctx);
	KUNIT_EXPECT_EQ(test, memtopo_space_map(as, 0x40000000, 4 * PAGE_SIZE, false, &mp),
			-ENOSPC);
	KUNIT_EXPECT_PTR_EQ(test, mp.ptr, (void *)NULL);
	memtopo_ctx_lock(ctx);
	KUNIT_EXPECT_EQ(test, memtopo_ctx_mem_used(ctx), used);
	memtopo_ctx_unlock(ctx);

	KUNIT_ASSERT_EQ(test, memtopo_space_map(as, 0x40000000, PAGE_SIZE, true, &mp), 0);
	memtopo_ctx_lock(ctx);
	KUNIT_EXPECT_EQ(test, memtopo_ctx_mem_used(ctx),
			used + PAGE_SIZE + sizeof(struct page *));
	/* below what the mapping holds: refused */
	KUNIT_EXPECT_EQ(test, memtopo_ctx_set_mem_max_locked(ctx, used), -EBUSY);
	memtopo_ctx_unlock(ctx);
	mp_unmap(test, &mp, 0);
	memtopo_ctx_lock(ctx);
	KUNIT_EXPECT_EQ(test, memtopo_ctx_mem_used(ctx), used);
	KUNIT_EXPECT_EQ(test, memtopo_ctx_set_mem_max_locked(ctx, 0), 0);
	memtopo_ctx_unlock(ctx);
}

#ifdef CONFIG_FAULT_INJECTION
/*
 * A file mapping failed at each of its allocations in turn (fail-nth,
 * the vmap() of its pages included): -ENOMEM with nothing mapped and the
 * budget's use exactly as before, so the next mapping goes through and is
 * charged what it takes.
 */
static void mt_map_fail_nth_test(struct kunit *test)
{
	const size_t cost = 4 * (PAGE_SIZE + sizeof(struct page *));
	const u64 size = 64 << 10;
	struct memtopo_ctx *ctx = mt_ctx(test);
	struct memtopo_space *as = mp_file_space(test, "memtopo-map-fail-nth", size, NULL, NULL);
	int n, ret, failures = 0, successes = 0;
	size_t used, now;
	unsigned int left;

	memtopo_ctx_lock(ctx);
	used = memtopo_ctx_mem_used(ctx);
	memtopo_ctx_unlock(ctx);

	for (n = 1; n < 400; n++) {
		struct memtopo_mapping mp = {};

		current->fail_nth = n;
		ret = memtopo_space_map(as, 0x40000000, 4 * PAGE_SIZE, true, &mp);
		left = current->fail_nth;
		current->fail_nth = 0;
		memtopo_ctx_lock(ctx);
		now = memtopo_ctx_mem_used(ctx);
		memtopo_ctx_unlock(ctx);
		if (ret) {
			failures++;
			KUNIT_EXPECT_EQ_MSG(test, ret, -ENOMEM, "allocation %d failed", n);
			KUNIT_EXPECT_PTR_EQ(test, mp.ptr, (void *)NULL);
			KUNIT_EXPECT_EQ_MSG(test, now, used, "allocation %d failed", n);
			continue;
		}
		successes++;
		KUNIT_EXPECT_EQ(test, now, used + cost);
		mp_unmap(test, &mp, 0);
		memtopo_ctx_lock(ctx);
		KUNIT_EXPECT_EQ(test, memtopo_ctx_mem_used(ctx), used);
		memtopo_ctx_unlock(ctx);
		/* no allocation left to fail: every one was tried */
		if (left)
			break;
	}
	KUNIT_EXPECT_GT(test, failures, 0);
	KUNIT_EXPECT_GT(test, successes, 0);
	KUNIT_EXPECT_LT(test, n, 400);
}
#else
static void mt_map_fail_nth_test(struct kunit *test)
{
	kunit_skip(test, "needs CONFIG_FAULT_INJECTION");
}
#endif

static struct kunit_case mt_map_cases[] = {
	KUNIT_CASE(mt_map_ram_test),
	KUNIT_CASE(mt_map_errno_test),
	KUNIT_CASE(mt_map_bounce_test),
	KUNIT_CASE(mt_map_dirty_test),
	KUNIT_CASE(mt_map_held_test),
	KUNIT_CASE(mt_map_file_test),
	KUNIT_CASE(mt_map_budget_test),
	KUNIT_CASE(mt_map_fail_nth_test),
	{}
};

static struct kunit_suite mt_map_suite = {
	.name = "memtopo_map",
	.init = mt_fix_init,
	.exit = mt_fix_exit,
	.test_cases = mt_map_cases,
};

kunit_test_suite(mt_map_suite);
