// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit suite memtopo_dirty_global: global dirty logging by reason, a
 * log_global_start that a listener refuses, log_sync_global,
 * log_global_after_sync, log_clear and counted VGA logging, callback by
 * callback against QEMU's system/memory.c.  Each expectation names the
 * QEMU function whose order it checks.
 */
#include <kunit/test.h>
#include <linux/err.h>
#include <linux/slab.h>
#include <linux/string.h>

#include <memtopo/memtopo.h>

/* One listener's view of the world: its letter, the shared log, a veto. */
struct dt_rec {
	char name;
	char *log;
	size_t size;
	int refuse;		/* log_global_start returns it */
};

static __printf(2, 3) void dt_log(void *priv, const char *fmt, ...)
{
	struct dt_rec *r = priv;
	size_t n = strlen(r->log);
	va_list ap;

	n += scnprintf(r->log + n, r->size - n, "%c:", r->name);
	va_start(ap, fmt);
	n += vscnprintf(r->log + n, r->size - n, fmt, ap);
	va_end(ap);
	scnprintf(r->log + n, r->size - n, " ");
}

/* The log must read the concatenation of the parts (NULL-terminated). */
static void dt_check_log(struct kunit *test, const char *log, const char *const *parts)
{
	char want[1024] = "";

	for (; *parts; parts++)
		strlcat(want, *parts, sizeof(want));
	KUNIT_EXPECT_STREQ(test, log, want);
}

#define DT_EXPECT_LOG(test, e, ...)						\
	dt_check_log(test, (e)->log, (const char *const[]){ __VA_ARGS__, NULL })

static void dt_begin(void *p)
{
	dt_log(p, "begin");
}

static void dt_commit(void *p)
{
	dt_log(p, "commit");
}

static void dt_add(void *p, const struct memtopo_section *s)
{
	dt_log(p, "add%llx", s->start);
}

static void dt_log_start(void *p, const struct memtopo_section *s, u8 o, u8 n)
{
	dt_log(p, "ls%llx/%u>%u", s->start, o, n);
}

static void dt_log_stop(void *p, const struct memtopo_section *s, u8 o, u8 n)
{
	dt_log(p, "lx%llx/%u>%u", s->start, o, n);
}

static void dt_sync(void *p, const struct memtopo_section *s)
{
	dt_log(p, "sync%llx", s->start);
}

static int dt_gstart(void *p)
{
	struct dt_rec *r = p;

	dt_log(p, r->refuse ? "gs-refused" : "gs");
	return r->refuse;
}

static void dt_gstop(void *p)
{
	dt_log(p, "gx");
}

static void dt_sync_global(void *p)
{
	dt_log(p, "syncg");
}

static void dt_after_sync(void *p)
{
	dt_log(p, "after");
}

static void dt_clear(void *p, const struct memtopo_section *s)
{
	dt_log(p, "clr%llx-%llx@%llx", s->start, s->last, s->offset);
}

/* Everything but region_del/nop, which these tests do not cause. */
static const struct memtopo_listener_ops dt_ops = {
	.begin = dt_begin, .commit = dt_commit, .region_add = dt_add,
	.log_start = dt_log_start, .log_stop = dt_log_stop, .log_sync = dt_sync,
	.log_global_start = dt_gstart, .log_global_stop = dt_gstop,
	.log_global_after_sync = dt_after_sync, .log_clear = dt_clear,
};

/* A listener that can only sync everything at once (KVM's dirty ring). */
static const struct memtopo_listener_ops dt_ops_global = {
	.log_global_start = dt_gstart, .log_global_stop = dt_gstop,
	.log_sync_global = dt_sync_global, .log_global_after_sync = dt_after_sync,
};

#define DT_LISTENERS	4

struct dt_env {
	struct memtopo_ctx *ctx;
	struct memtopo_region *root, *ram, *io;
	struct memtopo_space *as, *as2;
	char log[1024];
	struct dt_rec rec[DT_LISTENERS];
	struct memtopo_listener l[DT_LISTENERS];
};

static struct memtopo_region *dt_region(struct kunit *test, struct dt_env *e,
					enum memtopo_kind kind, const char *name, u64 addr,
					u64 size)
{
	struct memtopo_region_info info = { .kind = kind, .name = name, .size = size };
	struct memtopo_region *mr = memtopo_region_create(e->ctx, &info);

	KUNIT_ASSERT_FALSE(test, IS_ERR(mr));
	KUNIT_ASSERT_EQ(test, memtopo_region_add_subregion(e->root, addr, mr, 0, false), 0);
	return mr;
}

/*
 * RAM at 0x10000 (16 KiB), I/O at 0x20000, two spaces over the same root:
 * "mem" with listeners A (priority 0) and B (priority 10), "mem2" with C.
 */
static struct dt_env *dt_env_init(struct kunit *test)
{
	struct memtopo_region_info info = {
		.kind = MEMTOPO_CONTAINER, .name = "root", .size_is_2_64 = true,
	};
	struct dt_env *e = kunit_kzalloc(test, sizeof(*e), GFP_KERNEL);
	int i;

	KUNIT_ASSERT_NOT_NULL(test, e);
	e->ctx = memtopo_ctx_create("dirty");
	KUNIT_ASSERT_FALSE(test, IS_ERR(e->ctx));
	e->root = memtopo_region_create(e->ctx, &info);
	KUNIT_ASSERT_FALSE(test, IS_ERR(e->root));
	e->ram = dt_region(test, e, MEMTOPO_RAM, "ram", 0x10000, 0x4000);
	e->io = dt_region(test, e, MEMTOPO_IO, "io", 0x20000, 0x1000);
	e->as = memtopo_space_create(e->ctx, "mem", e->root);
	KUNIT_ASSERT_FALSE(test, IS_ERR(e->as));
	e->as2 = memtopo_space_create(e->ctx, "mem2", e->root);
	KUNIT_ASSERT_FALSE(test, IS_ERR(e->as2));
	for (i = 0; i < DT_LISTENERS; i++) {
		e->rec[i] = (struct dt_rec){ 'A' + i, e->log, sizeof(e->log) };
		e->l[i] = (struct memtopo_listener){ .ops = &dt_ops, .priv = &e->rec[i],
						     .priority = i * 10 };
	}
	KUNIT_ASSERT_EQ(test, memtopo_listener_register(e->as, &e->l[0]), 0);
	KUNIT_ASSERT_EQ(test, memtopo_listener_register(e->as, &e->l[1]), 0);
	KUNIT_ASSERT_EQ(test, memtopo_listener_register(e->as2, &e->l[2]), 0);
	e->log[0] = 0;
	return e;
}

static void dt_env_fini(struct dt_env *e)
{
	int i;

	for (i = 0; i < DT_LISTENERS; i++)
		memtopo_listener_unregister(&e->l[i]);
	memtopo_ctx_put(e->ctx);
}

static u8 dt_mask_at(struct memtopo_space *as, u64 addr)
{
	struct memtopo_section s = {};

	rcu_read_lock();
	memtopo_space_lookup(as, addr, &s);
	rcu_read_unlock();
	return s.dirty_log_mask;
}

static u64 dt_generation(struct memtopo_space *as)
{
	u64 g;

	rcu_read_lock();
	g = memtopo_space_generation(as);
	rcu_read_unlock();
	return g;
}

static void dt_global_reasons(struct kunit *test)
{
	struct dt_env *e = dt_env_init(test);

	/* bad reasons: none, or one QEMU does not have */
	KUNIT_EXPECT_EQ(test, memtopo_global_dirty_log_start(e->ctx, 0), -EINVAL);
	KUNIT_EXPECT_EQ(test, memtopo_global_dirty_log_start(e->ctx, BIT(3)), -EINVAL);
	KUNIT_EXPECT_EQ(test, memtopo_global_dirty_log_stop(e->ctx,
							    MEMTOPO_DIRTY_REASON_MIGRATION),
			-EINVAL);
	KUNIT_EXPECT_STREQ(test, e->log, "");

	/*
	 * memory_global_dirty_log_start(): the first reason calls
	 * log_global_start forward (MEMORY_LISTENER_CALL_GLOBAL over every
	 * space's listeners), then its memory_region_transaction_commit()
	 * sends begin to all, log_start (forward) for the RAM range only
	 * (MIGRATION is 1 << 2) space by space, and commit to all.
	 */
	KUNIT_EXPECT_EQ(test, memtopo_global_dirty_log_start(e->ctx,
							     MEMTOPO_DIRTY_REASON_DIRTY_RATE), 0);
	DT_EXPECT_LOG(test, e, "A:gs B:gs C:gs A:begin B:begin C:begin A:ls10000/0>4 ",
		      "B:ls10000/0>4 C:ls10000/0>4 A:commit B:commit C:commit ");
	KUNIT_EXPECT_EQ(test, memtopo_global_dirty_reasons(e->ctx),
			MEMTOPO_DIRTY_REASON_DIRTY_RATE);
	KUNIT_EXPECT_EQ(test, dt_mask_at(e->as, 0x10000), BIT(MEMTOPO_DIRTY_MIGRATION));
	KUNIT_EXPECT_EQ(test, dt_mask_at(e->as, 0x20000), 0);

	/* "flags &= ~global_dirty_tracking; if (!flags) return;" */
	e->log[0] = 0;
	KUNIT_EXPECT_EQ(test, memtopo_global_dirty_log_start(e->ctx,
							     MEMTOPO_DIRTY_REASON_DIRTY_RATE), 0);
	KUNIT_EXPECT_EQ(test, memtopo_global_dirty_log_start(e->ctx,
							     MEMTOPO_DIRTY_REASON_MIGRATION |
							     MEMTOPO_DIRTY_REASON_DIRTY_RATE), 0);
	KUNIT_EXPECT_STREQ(test, e->log, "");
	KUNIT_EXPECT_EQ(test, memtopo_global_dirty_reasons(e->ctx),
			MEMTOPO_DIRTY_REASON_MIGRATION | MEMTOPO_DIRTY_REASON_DIRTY_RATE);

	/* memory_global_dirty_log_do_stop() asserts every reason is on */
	KUNIT_EXPECT_EQ(test, memtopo_global_dirty_log_stop(e->ctx,
							    MEMTOPO_DIRTY_REASON_LIMIT |
							    MEMTOPO_DIRTY_REASON_MIGRATION),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, memtopo_global_dirty_reasons(e->ctx),
			MEMTOPO_DIRTY_REASON_MIGRATION | MEMTOPO_DIRTY_REASON_DIRTY_RATE);
	/* a reason left on: "if (!global_dirty_tracking)" is false, nothing */
	KUNIT_EXPECT_EQ(test, memtopo_global_dirty_log_stop(e->ctx,
							    MEMTOPO_DIRTY_REASON_MIGRATION), 0);
	KUNIT_EXPECT_STREQ(test, e->log, "");
	KUNIT_EXPECT_EQ(test, dt_mask_at(e->as, 0x10000), BIT(MEMTOPO_DIRTY_MIGRATION));

	/*
	 * memory_global_dirty_log_do_stop() of the last reason: the commit
	 * first (log_stop, reverse), then log_global_stop in reverse.
	 */
	KUNIT_EXPECT_EQ(test, memtopo_global_dirty_log_stop(e->ctx,
							    MEMTOPO_DIRTY_REASON_DIRTY_RATE), 0);
	DT_EXPECT_LOG(test, e, "A:begin B:begin C:begin B:lx10000/4>0 A:lx10000/4>0 ",
		      "C:lx10000/4>0 A:commit B:commit C:commit C:gx B:gx A:gx ");
	KUNIT_EXPECT_EQ(test, memtopo_global_dirty_reasons(e->ctx), 0);
	KUNIT_EXPECT_EQ(test, dt_mask_at(e->as, 0x10000), 0);
	dt_env_fini(e);
}

static void dt_global_refused(struct kunit *test)
{
	struct dt_env *e = dt_env_init(test);
	u64 gen = dt_generation(e->as);
	u64 bits[1];

	/*
	 * memory_global_dirty_log_do_start(): B refuses; the listeners before
	 * it are stopped newest first (only A), B itself is not, C is never
	 * started, and the reason is dropped again.
	 */
	e->rec[1].refuse = -EBUSY;
	KUNIT_EXPECT_EQ(test, memtopo_global_dirty_log_start(e->ctx,
							     MEMTOPO_DIRTY_REASON_MIGRATION),
			-EBUSY);
	KUNIT_EXPECT_STREQ(test, e->log, "A:gs B:gs-refused A:gx ");
	KUNIT_EXPECT_EQ(test, memtopo_global_dirty_reasons(e->ctx), 0);
	KUNIT_EXPECT_EQ(test, dt_generation(e->as), gen);
	KUNIT_EXPECT_EQ(test, dt_mask_at(e->as, 0x10000), 0);
	/* the MIGRATION bitmap it allocated went with it: there is no log */
	KUNIT_EXPECT_EQ(test, memtopo_region_get_dirty_log(e->ram, MEMTOPO_DIRTY_MIGRATION, 0, 4,
							   bits, false), -ENOENT);

	/* C, in the second space, refuses: A and B (first space) stop, B first */
	e->log[0] = 0;
	e->rec[1].refuse = 0;
	e->rec[2].refuse = -EIO;
	KUNIT_EXPECT_EQ(test, memtopo_global_dirty_log_start(e->ctx,
							     MEMTOPO_DIRTY_REASON_LIMIT), -EIO);
	KUNIT_EXPECT_STREQ(test, e->log, "A:gs B:gs C:gs-refused B:gx A:gx ");
	KUNIT_EXPECT_EQ(test, memtopo_global_dirty_reasons(e->ctx), 0);

	/* inside a transaction the refusal is immediate and undoes only itself */
	e->log[0] = 0;
	memtopo_transaction_begin(e->ctx);
	KUNIT_EXPECT_EQ(test, memtopo_region_set_address(e->io, 0x30000), 0);
	KUNIT_EXPECT_EQ(test, memtopo_global_dirty_log_start(e->ctx,
							     MEMTOPO_DIRTY_REASON_LIMIT), -EIO);
	KUNIT_EXPECT_EQ(test, memtopo_transaction_commit(e->ctx), 0);
	KUNIT_EXPECT_EQ(test, memtopo_global_dirty_reasons(e->ctx), 0);
	KUNIT_EXPECT_EQ(test, memtopo_region_address(e->io), 0x30000);

	/* accepted: everyone starts, the range logs */
	e->log[0] = 0;
	e->rec[2].refuse = 0;
	KUNIT_EXPECT_EQ(test, memtopo_global_dirty_log_start(e->ctx,
							     MEMTOPO_DIRTY_REASON_MIGRATION), 0);
	KUNIT_EXPECT_EQ(test, dt_mask_at(e->as2, 0x10000), BIT(MEMTOPO_DIRTY_MIGRATION));

	/*
	 * listener_add_address_space(): a listener registering while global
	 * logging is on gets log_global_start right after begin; D refuses,
	 * so it is not registered (QEMU aborts) and gets its commit only.
	 */
	e->log[0] = 0;
	e->rec[3].refuse = -EPERM;
	KUNIT_EXPECT_EQ(test, memtopo_listener_register(e->as, &e->l[3]), -EPERM);
	KUNIT_EXPECT_STREQ(test, e->log, "D:begin D:gs-refused D:commit ");
	/* and may try again: begin, log_global_start, the ranges, commit */
	e->log[0] = 0;
	e->rec[3].refuse = 0;
	KUNIT_EXPECT_EQ(test, memtopo_listener_register(e->as, &e->l[3]), 0);
	KUNIT_EXPECT_STREQ(test, e->log,
			   "D:begin D:gs D:add10000 D:ls10000/0>4 D:add30000 D:commit ");
	KUNIT_EXPECT_EQ(test, memtopo_global_dirty_log_stop(e->ctx,
							    MEMTOPO_DIRTY_REASON_MIGRATION), 0);
	dt_env_fini(e);
}

static void dt_sync_and_clear(struct kunit *test)
{
	struct dt_env *e = dt_env_init(test);
	struct memtopo_region_info info = {
		.kind = MEMTOPO_ALIAS, .name = "alias", .size = 0x2000,
		.alias_offset = 0x2000,
	};
	struct memtopo_listener g = { .ops = &dt_ops_global, .priority = 5 };
	struct dt_rec grec = { 'G', e->log, sizeof(e->log) };
	struct memtopo_region *alias;
	u64 bits[1];

	/* the RAM's last 8 KiB shows again at 0x40000 through an alias */
	info.alias_target = e->ram;
	alias = memtopo_region_create(e->ctx, &info);
	KUNIT_ASSERT_FALSE(test, IS_ERR(alias));
	KUNIT_ASSERT_EQ(test, memtopo_region_add_subregion(e->root, 0x40000, alias, 0, false), 0);
	g.priv = &grec;
	KUNIT_ASSERT_EQ(test, memtopo_listener_register(e->as, &g), 0);
	KUNIT_ASSERT_EQ(test, memtopo_global_dirty_log_start(e->ctx,
							     MEMTOPO_DIRTY_REASON_MIGRATION), 0);

	/*
	 * memory_global_dirty_log_sync() = memory_region_sync_dirty_bitmap(NULL):
	 * per listener, log_sync for each logging range, or log_sync_global
	 * when it has no log_sync.  "mem": A, G (priority 5), B; then "mem2": C.
	 */
	e->log[0] = 0;
	memtopo_ctx_lock(e->ctx);
	memtopo_global_dirty_log_sync_locked(e->ctx);
	DT_EXPECT_LOG(test, e, "A:sync10000 A:sync40000 G:syncg B:sync10000 B:sync40000 ",
		      "C:sync10000 C:sync40000 ");
	/* memory_global_after_dirty_log_sync(): log_global_after_sync, forward */
	e->log[0] = 0;
	memtopo_global_after_dirty_log_sync_locked(e->ctx);
	KUNIT_EXPECT_STREQ(test, e->log, "A:after G:after B:after C:after ");
	memtopo_ctx_unlock(e->ctx);

	/* fetching without clearing syncs (the region's ranges only), no log_clear */
	e->log[0] = 0;
	KUNIT_EXPECT_EQ(test, memtopo_region_get_dirty_log(e->ram, MEMTOPO_DIRTY_MIGRATION, 0, 4,
							   bits, false), 0);
	DT_EXPECT_LOG(test, e, "A:sync10000 A:sync40000 G:syncg B:sync10000 B:sync40000 ",
		      "C:sync10000 C:sync40000 ");

	/*
	 * memory_region_clear_dirty_bitmap(): pages 0-2 of the RAM (bytes
	 * 0-0x2fff) were cleared; each flat range of the RAM is shrunk to
	 * what it shows of them: 0x10000-0x12fff directly, and through the
	 * alias (which shows bytes 0x2000-0x3fff) 0x40000-0x40fff at 0x2000.
	 */
	e->log[0] = 0;
	bits[0] = 0x7;
	KUNIT_EXPECT_EQ(test, memtopo_region_clear_dirty_log(e->ram, MEMTOPO_DIRTY_MIGRATION, 0,
							     3, bits), 0);
	DT_EXPECT_LOG(test, e, "A:clr10000-12fff@0 A:clr40000-40fff@2000 ",
		      "B:clr10000-12fff@0 B:clr40000-40fff@2000 ",
		      "C:clr10000-12fff@0 C:clr40000-40fff@2000 ");
	/* fetch-and-clear of page 0 only: sync, then the clear of that page */
	e->log[0] = 0;
	KUNIT_EXPECT_EQ(test, memtopo_region_get_dirty_log(e->ram, MEMTOPO_DIRTY_MIGRATION, 0, 1,
							   bits, true), 0);
	DT_EXPECT_LOG(test, e, "A:sync10000 A:sync40000 G:syncg B:sync10000 B:sync40000 ",
		      "C:sync10000 C:sync40000 A:clr10000-10fff@0 B:clr10000-10fff@0 ",
		      "C:clr10000-10fff@0 ");
	memtopo_listener_unregister(&g);
	KUNIT_ASSERT_EQ(test, memtopo_global_dirty_log_stop(e->ctx,
							    MEMTOPO_DIRTY_REASON_MIGRATION), 0);
	dt_env_fini(e);
}

static void dt_vga_count(struct kunit *test)
{
	struct dt_env *e = dt_env_init(test);

	/* memory_region_set_log() asserts client == DIRTY_MEMORY_VGA */
	KUNIT_EXPECT_EQ(test, memtopo_region_set_log(e->ram, true, MEMTOPO_DIRTY_CODE), -EINVAL);
	/* a reference never taken cannot be dropped */
	KUNIT_EXPECT_EQ(test, memtopo_region_set_log(e->ram, false, MEMTOPO_DIRTY_VGA), -EINVAL);
	KUNIT_EXPECT_STREQ(test, e->log, "");

	/* "if (!!old_logging == !!mr->vga_logging_count) return;": only 0 <-> 1 commits */
	KUNIT_EXPECT_EQ(test, memtopo_region_set_log(e->ram, true, MEMTOPO_DIRTY_VGA), 0);
	DT_EXPECT_LOG(test, e, "A:begin B:begin C:begin A:ls10000/0>1 B:ls10000/0>1 ",
		      "C:ls10000/0>1 A:commit B:commit C:commit ");
	e->log[0] = 0;
	KUNIT_EXPECT_EQ(test, memtopo_region_set_log(e->ram, true, MEMTOPO_DIRTY_VGA), 0);
	KUNIT_EXPECT_EQ(test, memtopo_region_vga_logging_count(e->ram), 2);
	KUNIT_EXPECT_EQ(test, memtopo_region_set_log(e->ram, false, MEMTOPO_DIRTY_VGA), 0);
	KUNIT_EXPECT_STREQ(test, e->log, "");
	KUNIT_EXPECT_EQ(test, memtopo_region_vga_logging_count(e->ram), 1);
	KUNIT_EXPECT_EQ(test, dt_mask_at(e->as, 0x10000), BIT(MEMTOPO_DIRTY_VGA));
	/* the last reference: log_stop in reverse */
	KUNIT_EXPECT_EQ(test, memtopo_region_set_log(e->ram, false, MEMTOPO_DIRTY_VGA), 0);
	DT_EXPECT_LOG(test, e, "A:begin B:begin C:begin B:lx10000/1>0 A:lx10000/1>0 ",
		      "C:lx10000/1>0 A:commit B:commit C:commit ");
	KUNIT_EXPECT_EQ(test, memtopo_region_vga_logging_count(e->ram), 0);
	KUNIT_EXPECT_EQ(test, dt_mask_at(e->as, 0x10000), 0);
	KUNIT_EXPECT_EQ(test, memtopo_region_set_log(e->ram, false, MEMTOPO_DIRTY_VGA), -EINVAL);

	/* inside a transaction: one commit, after the count went 0 -> 2 -> 1 */
	e->log[0] = 0;
	memtopo_transaction_begin(e->ctx);
	KUNIT_EXPECT_EQ(test, memtopo_region_set_log(e->ram, true, MEMTOPO_DIRTY_VGA), 0);
	KUNIT_EXPECT_EQ(test, memtopo_region_set_log(e->ram, true, MEMTOPO_DIRTY_VGA), 0);
	KUNIT_EXPECT_EQ(test, memtopo_region_set_log(e->ram, false, MEMTOPO_DIRTY_VGA), 0);
	KUNIT_EXPECT_STREQ(test, e->log, "");
	KUNIT_EXPECT_EQ(test, memtopo_transaction_commit(e->ctx), 0);
	DT_EXPECT_LOG(test, e, "A:begin B:begin C:begin A:ls10000/0>1 B:ls10000/0>1 ",
		      "C:ls10000/0>1 A:commit B:commit C:commit ");
	KUNIT_EXPECT_EQ(test, memtopo_region_vga_logging_count(e->ram), 1);
	dt_env_fini(e);
}

static struct kunit_case memtopo_dirty_global_cases[] = {
	KUNIT_CASE(dt_global_reasons),
	KUNIT_CASE(dt_global_refused),
	KUNIT_CASE(dt_sync_and_clear),
	KUNIT_CASE(dt_vga_count),
	{}
};

static struct kunit_suite memtopo_dirty_global_suite = {
	.name = "memtopo_dirty_global",
	.test_cases = memtopo_dirty_global_cases,
};

kunit_test_suite(memtopo_dirty_global_suite);
