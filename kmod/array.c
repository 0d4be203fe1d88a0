// SPDX-License-Identifier: GPL-2.0
/*
 * Growable arrays: the one helper every doubling array of the module goes
 * through, so the growth rule, the overflow limit and the failure rule are
 * written once.
 */
#include <linux/export.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "memtopo_internal.h"

/**
 * memtopo_grow() - make room for more elements in a kvmalloc()ed array.
 * @array: the array (NULL while it has none), replaced by a larger copy.
 * @cap: its capacity in elements, updated.
 * @elem: the size of one element.
 * @limit: the most elements the array may hold.
 *
 * The capacity doubles (from 256), so filling an array costs amortised
 * O(1) per element; memory is charged to the caller's memcg.
 *
 * Context: may sleep.
 * Return: 0; -E2BIG if @cap already reached @limit, -ENOMEM.  On failure
 * the array and @cap are left as they were.
 */
int memtopo_grow(void **array, u32 *cap, size_t elem, u32 limit)
{
	u32 new_cap = *cap ? *cap * 2 : 256;
	void *bigger;

	if (*cap >= limit)
		return -E2BIG;
	if (new_cap > limit || new_cap < *cap)
		new_cap = limit;
	bigger = kvmalloc_array(new_cap, elem, GFP_KERNEL_ACCOUNT);
	if (!bigger)
		return -ENOMEM;
	if (*array) {
		memcpy(bigger, *array, (size_t)*cap * elem);
		kvfree(*array);
	}
	*array = bigger;
	*cap = new_cap;
	return 0;
}
