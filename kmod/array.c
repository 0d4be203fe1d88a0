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
 * memtopo_grow_pair() - make room for more elements in two parallel
 * kvmalloc()ed arrays that share one capacity.
 * @a: the first array (NULL while it has none), replaced by a larger copy.
 * @elem_a: the size of one of its elements.
 * @b: the second array, or NULL when there is only @a.
 * @elem_b: the size of one of its elements.
 * @cap: the capacity in elements of both, updated.
 * @limit: the most elements the arrays may hold.
 *
 * The capacity doubles (from 16), so filling an array costs amortised
 * O(1) per element; memory is charged to the caller's memcg.  Starting
 * small matters to arrays kept between uses (a context's render scratch):
 * what they keep is what was used, not a fixed first size.  Both arrays
 * grow or neither does, so one capacity stays true of both.
 *
 * Context: may sleep.
 * Return: 0; -E2BIG if @cap already reached @limit, -ENOMEM.  On failure
 * the arrays and @cap are left as they were.
 */
int memtopo_grow_pair(void **a, size_t elem_a, void **b, size_t elem_b, u32 *cap, u32 limit)
{
	u32 new_cap = *cap ? *cap * 2 : 16;
	void *big_a, *big_b = NULL;

	if (*cap >= limit)
		return -E2BIG;
	if (new_cap > limit || new_cap < *cap)
		new_cap = limit;
	big_a = kvmalloc_array(new_cap, elem_a, GFP_KERNEL_ACCOUNT);
	if (!big_a)
		return -ENOMEM;
	if (b) {
		big_b = kvmalloc_array(new_cap, elem_b, GFP_KERNEL_ACCOUNT);
		if (!big_b) {
			kvfree(big_a);
			return -ENOMEM;
		}
	}
	if (*a) {
		memcpy(big_a, *a, (size_t)*cap * elem_a);
		kvfree(*a);
	}
	*a = big_a;
	if (b) {
		if (*b) {
			memcpy(big_b, *b, (size_t)*cap * elem_b);
			kvfree(*b);
		}
		*b = big_b;
	}
	*cap = new_cap;
	return 0;
}

/**
 * memtopo_grow() - make room for more elements in a kvmalloc()ed array.
 * @array: the array (NULL while it has none), replaced by a larger copy.
 * @cap: its capacity in elements, updated.
 * @elem: the size of one element.
 * @limit: the most elements the array may hold.
 *
 * As memtopo_grow_pair() for one array.
 *
 * Context: may sleep.
 * Return: 0; -E2BIG if @cap already reached @limit, -ENOMEM.  On failure
 * the array and @cap are left as they were.
 */
int memtopo_grow(void **array, u32 *cap, size_t elem, u32 limit)
{
	return memtopo_grow_pair(array, elem, NULL, 0, cap, limit);
}
