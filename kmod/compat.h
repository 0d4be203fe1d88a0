/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Kernel API differences between the versions memtopo builds against, in
 * one place so every caller stays free of #ifdefs.  compat.mk probes the
 * kernel's headers and defines the MEMTOPO_* switches used here.
 */
#ifndef _MEMTOPO_COMPAT_H
#define _MEMTOPO_COMPAT_H

#include <linux/eventfd.h>
#include <linux/mm.h>

/* v6.8 (commit 3652117f8548) dropped eventfd_signal()'s count argument. */
#ifdef MEMTOPO_EVENTFD_SIGNAL_NO_COUNT
#define memtopo_eventfd_signal(ctx) eventfd_signal(ctx)
#else
#define memtopo_eventfd_signal(ctx) eventfd_signal(ctx, 1)
#endif

/* v6.5 dropped get_user_pages_remote()'s vmas argument. */
#ifdef MEMTOPO_GUP_REMOTE_NO_VMAS
#define memtopo_gup_remote(mm, start, nr, flags, pages)			\
	get_user_pages_remote(mm, start, nr, flags, pages, NULL)
#else
#define memtopo_gup_remote(mm, start, nr, flags, pages)			\
	get_user_pages_remote(mm, start, nr, flags, pages, NULL, NULL)
#endif

/* v6.3 put vma->vm_flags behind vm_flags_set(). */
#ifdef MEMTOPO_HAVE_VM_FLAGS_SET
#define memtopo_vm_flags_set(vma, flags) vm_flags_set(vma, flags)
#else
#define memtopo_vm_flags_set(vma, flags) ((vma)->vm_flags |= (flags))
#endif

#ifdef CONFIG_HUGETLBFS
#include <linux/hugetlb.h>
#include <linux/pagemap.h>

/*
 * The huge page of a hugetlbfs file at huge-page index @idx, locked and
 * referenced, or NULL for a hole.  v6.1 indexes that page cache by huge
 * page (find_lock_page() at @idx, as its hugetlbfs_read_iter() does);
 * kernels that offer filemap_lock_hugetlb_folio() translate the index
 * there, which later kernels need since their cache counts base pages.
 */
#ifdef MEMTOPO_HAVE_FILEMAP_LOCK_HUGETLB_FOLIO
static inline struct page *memtopo_hugetlb_lock_page(struct hstate *h,
						     struct address_space *mapping,
						     pgoff_t idx)
{
	struct folio *folio = filemap_lock_hugetlb_folio(h, mapping, idx);

	return IS_ERR_OR_NULL(folio) ? NULL : &folio->page;
}
#else
#define memtopo_hugetlb_lock_page(h, mapping, idx) find_lock_page(mapping, idx)
#endif
#endif /* CONFIG_HUGETLBFS */

#endif /* _MEMTOPO_COMPAT_H */
