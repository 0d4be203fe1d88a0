// SPDX-License-Identifier: GPL-2.0
/*
 * memtopo_kunit.ko: the KUnit suites of memtopo.  Each suite lives in its own
 * file of this directory and registers itself with kunit_test_suite(); KUnit
 * runs them all when the module loads (memtopo.ko must be loaded first) and
 * keeps the results in /sys/kernel/debug/kunit/<suite>/results until it is
 * unloaded.
 */
#include <linux/module.h>

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("memtopo KUnit tests");
MODULE_AUTHOR("memtopo developers");
MODULE_IMPORT_NS(MEMTOPO);
