// SPDX-License-Identifier: GPL-2.0
/*
 * Deliberately broken behaviour, for testing the test machinery only.
 *
 * memtopo.selftest_fault=<name>[,<name>...] injects each named fault at
 * module load.  `make check` loads the module with all of them in the debug
 * kernel and requires the VM runner to report every one; without the
 * parameter nothing here runs.
 */
#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/preempt.h>
#include <linux/rcupdate.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "selftest.h"

static char *selftest_fault;
module_param(selftest_fault, charp, 0400);
MODULE_PARM_DESC(selftest_fault,
		 "test only: comma-separated faults to inject at load: rcu,sleep,lock_order,warn,ubsan,uaf,leak,pin,kunit_fail");

static DEFINE_MUTEX(fault_lock_a);
static DEFINE_MUTEX(fault_lock_b);
static int __rcu *fault_rcu_ptr;

/**
 * memtopo_fault_requested() - is a test-only fault requested?
 * @name: the fault's name in memtopo.selftest_fault.
 *
 * Context: any; reads the module parameter, set at load.
 * Return: true if @name is one of the comma-separated selftest_fault words.
 */
bool memtopo_fault_requested(const char *name)
{
	const char *p = selftest_fault;
	size_t len = strlen(name);

	while (p && *p) {
		if (!strncmp(p, name, len) && (p[len] == ',' || !p[len]))
			return true;
		p = strchr(p, ',');
		if (p)
			p++;
	}
	return false;
}
EXPORT_SYMBOL_NS_GPL(memtopo_fault_requested, MEMTOPO);

static void memtopo_fault_uaf(void)
{
	char *p = kmalloc(16, GFP_KERNEL);

	if (!p)
		return;
	kfree(p);
	OPTIMIZER_HIDE_VAR(p);
	pr_info("selftest_fault uaf: %d\n", READ_ONCE(p[0]));
}

/*
 * The order matters: lockdep and RCU checks turn themselves off after the
 * first lockdep report or a KASAN report, so the lock checks come first.
 */
static void memtopo_fault_inject(void)
{
	if (memtopo_fault_requested("rcu"))
		pr_info("selftest_fault rcu: %p\n", rcu_dereference(fault_rcu_ptr));

	if (memtopo_fault_requested("sleep")) {
		preempt_disable();
		might_sleep();
		preempt_enable();
	}

	if (memtopo_fault_requested("lock_order")) {
		mutex_lock(&fault_lock_a);
		mutex_lock(&fault_lock_b);
		mutex_unlock(&fault_lock_b);
		mutex_unlock(&fault_lock_a);
		mutex_lock(&fault_lock_b);
		mutex_lock(&fault_lock_a);
		mutex_unlock(&fault_lock_a);
		mutex_unlock(&fault_lock_b);
	}

	WARN(memtopo_fault_requested("warn"), "selftest_fault warn\n");

	if (memtopo_fault_requested("ubsan")) {
		unsigned int shift = 40;

		OPTIMIZER_HIDE_VAR(shift);
		pr_info("selftest_fault ubsan: %u\n", 1u << shift);
	}

	if (memtopo_fault_requested("uaf"))
		memtopo_fault_uaf();

	/*
	 * Several objects: a stale copy of the last pointer can survive in a
	 * dead stack that kmemleak scans, but each call overwrites the slots
	 * of the previous one, so the earlier objects are surely unreferenced.
	 */
	if (memtopo_fault_requested("leak")) {
		int i;

		for (i = 0; i < 4; i++) {
			void *p = kzalloc(128, GFP_KERNEL);

			OPTIMIZER_HIDE_VAR(p);
		}
	}

	if (memtopo_fault_requested("pin"))
		__module_get(THIS_MODULE);
}

/**
 * memtopo_fault_selftest() - inject the faults named in selftest_fault.
 *
 * Called once from module init; does nothing when the parameter is unset.
 */
void memtopo_fault_selftest(void)
{
	if (selftest_fault && *selftest_fault) {
		pr_warn("injecting test-only faults: %s\n", selftest_fault);
		memtopo_fault_inject();
	}
}
