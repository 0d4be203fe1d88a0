/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Test-only faults, injected on request at module load so the VM runner
 * can prove that it catches them (see Documentation/testing.rst).
 */
#ifndef _MEMTOPO_FAULT_SELFTEST_H
#define _MEMTOPO_FAULT_SELFTEST_H

#include <linux/types.h>

void memtopo_fault_selftest(void);
bool memtopo_fault_requested(const char *name);

#endif /* _MEMTOPO_FAULT_SELFTEST_H */
