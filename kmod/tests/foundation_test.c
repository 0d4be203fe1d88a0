// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit suite "memtopo_foundation": the ABI layout of MEMTOPO_GET_INFO,
 * context creation and reference counting, and the runner's own
 * deliberately failing case (memtopo.selftest_fault=kunit_fail).
 */
#include <kunit/test.h>
#include <linux/err.h>
#include <linux/stddef.h>
#include <linux/string.h>

#include <memtopo/memtopo.h>
#include <uapi/linux/memtopo.h>
#include "selftest.h"

/*
 * The GET_INFO struct is ABI: the first version's fields keep their
 * offsets, it stays size-first and 8-byte granular, new fields only
 * replace reserved space at the end.
 */
static void memtopo_info_layout_test(struct kunit *test)
{
	KUNIT_EXPECT_EQ(test, sizeof(struct memtopo_info), 48);
	KUNIT_EXPECT_EQ(test, offsetof(struct memtopo_info, size), 0);
	KUNIT_EXPECT_EQ(test, offsetof(struct memtopo_info, flags), 4);
	KUNIT_EXPECT_EQ(test, offsetof(struct memtopo_info, abi_version), 8);
	KUNIT_EXPECT_EQ(test, offsetof(struct memtopo_info, max_name), 28);
	KUNIT_EXPECT_EQ(test, offsetofend(struct memtopo_info, __reserved),
			sizeof(struct memtopo_info));
	KUNIT_EXPECT_EQ(test, _IOC_NR(MEMTOPO_GET_INFO), MEMTOPO_CMD_BASE);
	KUNIT_EXPECT_EQ(test, _IOC_TYPE(MEMTOPO_GET_INFO), MEMTOPO_TYPE);
}

/* The limits GET_INFO reports must be usable (and fit its __u32 fields). */
static void memtopo_info_limits_test(struct kunit *test)
{
	KUNIT_EXPECT_GE(test, MEMTOPO_MAX_DEPTH, 2);
	KUNIT_EXPECT_GE(test, MEMTOPO_MAX_ALIAS_CHAIN, 1);
	KUNIT_EXPECT_GE(test, MEMTOPO_MAX_REGIONS, MEMTOPO_MAX_SPACES);
	KUNIT_EXPECT_GT(test, MEMTOPO_MAX_NAME, 1);
	KUNIT_EXPECT_LE(test, (u64)MEMTOPO_MAX_REGIONS, (u64)U32_MAX);
}

/* A context lives while referenced; the last put frees it (kmemleak). */
static void memtopo_ctx_refcount_test(struct kunit *test)
{
	char long_name[2 * MEMTOPO_MAX_NAME];
	struct memtopo_ctx *anon, *named;

	/* Longer than the limit: copied truncated, never overrun (KASAN). */
	memset(long_name, 'n', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = '\0';
	anon = memtopo_ctx_create(NULL);
	KUNIT_ASSERT_FALSE(test, IS_ERR_OR_NULL(anon));
	named = memtopo_ctx_create(long_name);
	if (IS_ERR_OR_NULL(named)) {
		memtopo_ctx_put(anon);
		KUNIT_FAIL(test, "named context: %ld", PTR_ERR(named));
		return;
	}
	memtopo_ctx_get(anon);
	memtopo_ctx_put(anon);
	memtopo_ctx_lock(anon);
	memtopo_ctx_unlock(anon);
	memtopo_ctx_put(anon);
	memtopo_ctx_put(named);
	memtopo_ctx_put(NULL);
}

/*
 * Fails only when asked to, so `make check` can prove that a failing KUnit
 * case fails the VM run.  The switch is a memtopo.ko parameter because
 * KUnit runs a module's suites before that module's own parameters are
 * parsed (MODULE_STATE_COMING in 6.1).
 */
static void memtopo_selftest_kunit_fail_test(struct kunit *test)
{
	if (memtopo_fault_requested("kunit_fail"))
		KUNIT_FAIL(test, "deliberate failure (memtopo.selftest_fault=kunit_fail)");
}

static struct kunit_case memtopo_foundation_cases[] = {
	KUNIT_CASE(memtopo_info_layout_test),
	KUNIT_CASE(memtopo_info_limits_test),
	KUNIT_CASE(memtopo_ctx_refcount_test),
	KUNIT_CASE(memtopo_selftest_kunit_fail_test),
	{}
};

static struct kunit_suite memtopo_foundation_suite = {
	.name = "memtopo_foundation",
	.test_cases = memtopo_foundation_cases,
};

kunit_test_suite(memtopo_foundation_suite);
