/* SPDX-License-Identifier: GPL-2.0 */
#include "shim_base.h"
#ifndef PAGE_SIZE
#define PAGE_SHIFT 12
#define PAGE_SIZE (1UL << PAGE_SHIFT)
#endif
#define offset_in_page(p) ((unsigned long)(p) & (PAGE_SIZE - 1))
