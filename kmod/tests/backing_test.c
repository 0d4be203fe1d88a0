// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit: backings (kmod/backing.c).  Who holds a backing and when it goes:
 * the region holds one reference until it is freed, a kernel user that
 * took its own keeps the memory past region_del and destroy; a refused
 * creation takes none.  Bytes move through every kind that has them
 * (kernel pages, a shmem file through its page cache) and writes through
 * the space are dirty-logged.
 */
#include <kunit/test.h>
#include <linux/err.h>
#include <linux/fs.h>
#include <linux/highmem.h>
#include <linux/mm.h>
#include <linux/rcupdate.h>
#include <linux/shmem_fs.h>
#include <linux/string.h>

#include <memtopo/memtopo.h>

struct bt_env {
	struct memtopo_ctx *ctx;
	struct memtopo_region *root;
	struct memtopo_space *as;
};

static void bt_env_init(struct kunit *test, struct bt_env *e)
{
	struct memtopo_region_info info = {
		.kind = MEMTOPO_CONTAINER, .name = "root", .size_is_2_64 = true,
	};

	e->ctx = memtopo_ctx_create(NULL);
	KUNIT_ASSERT_FALSE(test, IS_ERR(e->ctx));
	e->root = memtopo_region_create(e->ctx, &info);
	KUNIT_ASSERT_FALSE(test, IS_ERR(e->root));
	e->as = memtopo_space_create(e->ctx, "mem", e->root);
	KUNIT_ASSERT_FALSE(test, IS_ERR(e->as));
}

static struct memtopo_region *bt_ram(struct kunit *test, struct bt_env *e, enum memtopo_kind kind,
				     u64 addr, u64 size, struct memtopo_backing *b)
{
	struct memtopo_region_info info = {
		.kind = kind, .name = "ram", .size = size, .backing = b,
	};
	struct memtopo_region *mr = memtopo_region_create(e->ctx, &info);

	KUNIT_ASSERT_FALSE(test, IS_ERR(mr));
	KUNIT_ASSERT_EQ(test, memtopo_region_add_subregion(e->root, addr, mr, 0, false), 0);
	return mr;
}

static size_t bt_mem_used(struct memtopo_ctx *ctx)
{
	size_t used;

	memtopo_ctx_lock(ctx);
	used = memtopo_ctx_mem_used(ctx);
	memtopo_ctx_unlock(ctx);
	return used;
}

/* The region's reference, a kernel user's reference, and the memory in between. */
static void bt_kernel_lifetime(struct kunit *test)
{
	struct memtopo_backing *b;
	struct memtopo_region *mr;
	size_t before, during;
	struct bt_env e;
	u8 buf[8] = {};

	KUNIT_EXPECT_PTR_EQ(test, memtopo_backing_kernel_alloc(0), ERR_PTR(-EINVAL));
	bt_env_init(test, &e);
	b = memtopo_backing_kernel_alloc(3 * PAGE_SIZE);
	KUNIT_ASSERT_FALSE(test, IS_ERR(b));
	KUNIT_EXPECT_EQ(test, b->kind, MEMTOPO_BACKING_KERNEL);
	KUNIT_EXPECT_EQ(test, refcount_read(&b->ref), 1u);
	KUNIT_EXPECT_NE(test, b->mmap_offset, 0ULL);
	KUNIT_EXPECT_TRUE(test, PAGE_ALIGNED(b->mmap_offset));

	before = bt_mem_used(e.ctx);
	mr = bt_ram(test, &e, MEMTOPO_RAM, 0x10000, 3 * PAGE_SIZE, b);
	KUNIT_EXPECT_EQ(test, refcount_read(&b->ref), 2u);
	KUNIT_EXPECT_PTR_EQ(test, memtopo_region_backing(mr), b);
	/* from here on only the region holds it */
	memtopo_backing_put(b);
	KUNIT_EXPECT_EQ(test, refcount_read(&b->ref), 1u);
	during = bt_mem_used(e.ctx);
	/* the region is charged for the pages it keeps */
	KUNIT_EXPECT_GE(test, during - before, 3 * PAGE_SIZE);

	memcpy(b->kaddr + PAGE_SIZE - 2, "ABCD", 4);
	KUNIT_EXPECT_EQ(test, memtopo_space_read(e.as, 0x10000 + PAGE_SIZE - 2, buf, 4), 0);
	KUNIT_EXPECT_EQ(test, memcmp(buf, "ABCD", 4), 0);
	KUNIT_EXPECT_EQ(test, memtopo_space_write(e.as, 0x10000 + 2 * PAGE_SIZE, "wxyz", 4), 0);
	KUNIT_EXPECT_EQ(test, memcmp(b->kaddr + 2 * PAGE_SIZE, "wxyz", 4), 0);

	/* a kernel user keeps the memory past region_del and destroy */
	memtopo_backing_get(b);
	KUNIT_EXPECT_EQ(test, refcount_read(&b->ref), 2u);
	KUNIT_ASSERT_EQ(test, memtopo_region_del_subregion(e.root, mr), 0);
	KUNIT_ASSERT_EQ(test, memtopo_region_destroy(mr), 0);
	/* the region's reference goes with its RCU-deferred free */
	rcu_barrier();
	KUNIT_EXPECT_EQ(test, refcount_read(&b->ref), 1u);
	/* the charge went with the region (render scratch may move a little) */
	KUNIT_EXPECT_GE(test, during - bt_mem_used(e.ctx), 3 * PAGE_SIZE);
	memset(buf, 0, sizeof(buf));
	KUNIT_EXPECT_EQ(test, memtopo_backing_access(b, 2 * PAGE_SIZE, buf, 4, false), 0);
	KUNIT_EXPECT_EQ(test, memcmp(buf, "wxyz", 4), 0);
	/* outside the backing: refused */
	KUNIT_EXPECT_EQ(test, memtopo_backing_access(b, 3 * PAGE_SIZE - 2, buf, 4, false),
			-EINVAL);
	memtopo_backing_put(b);
	memtopo_ctx_put(e.ctx);
}

/* A refused region takes no reference; a backing cannot outgrow itself. */
static void bt_refused(struct kunit *test)
{
	struct memtopo_region_info info = { .kind = MEMTOPO_IO, .name = "io", .size = 0x1000 };
	struct memtopo_backing *b;
	struct bt_env e;
	u8 buf[4];

	bt_env_init(test, &e);
	b = memtopo_backing_kernel_alloc(0x2000);
	KUNIT_ASSERT_FALSE(test, IS_ERR(b));
	info.backing = b;
	KUNIT_EXPECT_PTR_EQ(test, memtopo_region_create(e.ctx, &info), ERR_PTR(-EINVAL));
	info.kind = MEMTOPO_CONTAINER;
	KUNIT_EXPECT_PTR_EQ(test, memtopo_region_create(e.ctx, &info), ERR_PTR(-EINVAL));
	KUNIT_EXPECT_EQ(test, refcount_read(&b->ref), 1u);

	/* a region larger than its backing: the tail is unreachable */
	bt_ram(test, &e, MEMTOPO_RAM, 0, 0x4000, b);
	KUNIT_EXPECT_EQ(test, memtopo_space_read(e.as, 0x1ffe, buf, 2), 0);
	KUNIT_EXPECT_EQ(test, memtopo_space_read(e.as, 0x1ffe, buf, 4), -EOPNOTSUPP);
	KUNIT_EXPECT_EQ(test, memtopo_space_read(e.as, 0x3000, buf, 1), -EOPNOTSUPP);
	memtopo_backing_put(b);
	memtopo_ctx_put(e.ctx);
}

/* A shmem file: bytes through the page cache, writes dirty-logged. */
static void bt_file(struct kunit *test)
{
	struct memtopo_backing *b, *rom;
	struct memtopo_region *mr;
	struct page *pages[2];
	struct bt_env e;
	struct file *f;
	u64 bits = 0;
	loff_t pos;
	char buf[8] = {};
	u8 *k;

	f = shmem_file_setup("memtopo-kunit", 4 * PAGE_SIZE, 0);
	KUNIT_ASSERT_FALSE(test, IS_ERR(f));
	/* the errno contract of memtopo_backing_file() */
	KUNIT_EXPECT_PTR_EQ(test, memtopo_backing_file(f, 1, PAGE_SIZE, true), ERR_PTR(-EINVAL));
	KUNIT_EXPECT_PTR_EQ(test, memtopo_backing_file(f, 0, 100, true), ERR_PTR(-EINVAL));
	KUNIT_EXPECT_PTR_EQ(test, memtopo_backing_file(f, 0, 0, true), ERR_PTR(-EINVAL));
	KUNIT_EXPECT_PTR_EQ(test, memtopo_backing_file(f, 0, 5 * PAGE_SIZE, true),
			    ERR_PTR(-ENXIO));
	KUNIT_EXPECT_PTR_EQ(test, memtopo_backing_file(f, 4 * PAGE_SIZE, PAGE_SIZE, true),
			    ERR_PTR(-ENXIO));
	KUNIT_EXPECT_PTR_EQ(test, memtopo_backing_file(f, U64_MAX & PAGE_MASK, PAGE_SIZE, true),
			    ERR_PTR(-EINVAL));

	bt_env_init(test, &e);
	b = memtopo_backing_file(f, PAGE_SIZE, 2 * PAGE_SIZE, true);
	KUNIT_ASSERT_FALSE(test, IS_ERR(b));
	KUNIT_EXPECT_PTR_EQ(test, b->file, f);
	KUNIT_EXPECT_EQ(test, b->file_offset, (u64)PAGE_SIZE);
	mr = bt_ram(test, &e, MEMTOPO_RAM, 0x10000, 2 * PAGE_SIZE, b);
	memtopo_backing_put(b);
	KUNIT_ASSERT_EQ(test, memtopo_region_set_dirty_log(mr, MEMTOPO_DIRTY_VGA, true), 0);

	/* a write through the space lands in the file, a page in */
	KUNIT_EXPECT_EQ(test, memtopo_space_write(e.as, 0x10000 + PAGE_SIZE + 8, "hello", 5), 0);
	pos = 2 * PAGE_SIZE + 8;
	KUNIT_EXPECT_EQ(test, kernel_read(f, buf, 5, &pos), 5);
	KUNIT_EXPECT_EQ(test, memcmp(buf, "hello", 5), 0);
	KUNIT_EXPECT_EQ(test, memtopo_region_get_dirty_log(mr, MEMTOPO_DIRTY_VGA, 0, 2, &bits,
							   true), 0);
	KUNIT_EXPECT_EQ(test, bits, 2ULL);
	/* what the file holds reads back through the space */
	pos = PAGE_SIZE;
	KUNIT_EXPECT_EQ(test, kernel_write(f, "file", 4, &pos), 4);
	memset(buf, 0, sizeof(buf));
	KUNIT_EXPECT_EQ(test, memtopo_space_read(e.as, 0x10000, buf, 4), 0);
	KUNIT_EXPECT_EQ(test, memcmp(buf, "file", 4), 0);

	/* the pages a consumer maps are the page cache's */
	KUNIT_ASSERT_EQ(test, memtopo_backing_get_pages(memtopo_region_backing(mr), 0, 2, false,
							pages), 0);
	k = kmap_local_page(pages[1]);
	KUNIT_EXPECT_EQ(test, memcmp(k + 8, "hello", 5), 0);
	kunmap_local(k);
	put_page(pages[0]);
	put_page(pages[1]);
	KUNIT_EXPECT_EQ(test, memtopo_backing_get_pages(memtopo_region_backing(mr), 0, 3, false,
							pages), -EINVAL);

	/* a ROM's file backing is not writable, even through the kernel API */
	rom = memtopo_backing_file(f, 0, PAGE_SIZE, false);
	KUNIT_ASSERT_FALSE(test, IS_ERR(rom));
	KUNIT_EXPECT_EQ(test, memtopo_backing_access(rom, 0, buf, 4, true), -EROFS);
	KUNIT_EXPECT_EQ(test, memtopo_backing_access(rom, 0, buf, 4, false), 0);
	memtopo_backing_put(rom);

	memtopo_ctx_put(e.ctx);
	/* the backings hold their own file references */
	fput(f);
}

/* A label is not memory; a process backing needs a process. */
static void bt_label_process(struct kunit *test)
{
	struct memtopo_backing *b;
	struct bt_env e;
	struct page *page;
	u8 buf[4];

	bt_env_init(test, &e);
	b = memtopo_backing_label(0x7f0000000000ULL);
	KUNIT_ASSERT_FALSE(test, IS_ERR(b));
	KUNIT_EXPECT_EQ(test, b->kind, MEMTOPO_BACKING_NONE);
	KUNIT_EXPECT_EQ(test, b->uaddr, 0x7f0000000000ULL);
	/* no memory at all, however many bytes are asked for */
	KUNIT_EXPECT_EQ(test, memtopo_backing_access(b, 0, buf, 0, false), -EOPNOTSUPP);
	KUNIT_EXPECT_EQ(test, memtopo_backing_access(b, 0, buf, 4, false), -EOPNOTSUPP);
	KUNIT_EXPECT_EQ(test, memtopo_backing_access(b, 0, buf, 4, true), -EOPNOTSUPP);
	KUNIT_EXPECT_EQ(test, memtopo_backing_get_pages(b, 0, 1, false, &page), -EOPNOTSUPP);
	bt_ram(test, &e, MEMTOPO_RAM, 0, 0x1000, b);
	memtopo_backing_put(b);
	KUNIT_EXPECT_EQ(test, memtopo_space_read(e.as, 0, buf, 4), -EOPNOTSUPP);
	memtopo_ctx_put(e.ctx);

	/* KUnit runs in a kernel thread: no mm to record */
	KUNIT_EXPECT_PTR_EQ(test, memtopo_backing_process(0x10000, PAGE_SIZE), ERR_PTR(-ESRCH));
	KUNIT_EXPECT_PTR_EQ(test, memtopo_backing_process(0x10001, PAGE_SIZE), ERR_PTR(-EINVAL));
}

static struct kunit_case bt_cases[] = {
	KUNIT_CASE(bt_kernel_lifetime),
	KUNIT_CASE(bt_refused),
	KUNIT_CASE(bt_file),
	KUNIT_CASE(bt_label_process),
	{}
};

static struct kunit_suite bt_suite = {
	.name = "memtopo_backing",
	.test_cases = bt_cases,
};

kunit_test_suite(bt_suite);
