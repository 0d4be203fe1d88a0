# SPDX-License-Identifier: GPL-2.0
# Feature probes for compat.h: look at the kernel's own headers rather than
# its version number, so backports and vendor kernels get the right side.

# v6.8 dropped eventfd_signal()'s count argument.  The closing parenthesis
# right after ctx tells: v6.8 defines it inline, so no semicolon follows.
ifneq ($(shell grep -s -E 'eventfd_signal\(struct eventfd_ctx \*ctx\)' $(srctree)/include/linux/eventfd.h),)
ccflags-y += -DMEMTOPO_EVENTFD_SIGNAL_NO_COUNT
endif

# v6.5 dropped get_user_pages_remote()'s vmas argument.
memtopo_gup_proto := $(shell grep -s -A4 '^long get_user_pages_remote.struct mm_struct' \
	$(srctree)/include/linux/mm.h)
ifeq ($(findstring vmas,$(memtopo_gup_proto)),)
ccflags-y += -DMEMTOPO_GUP_REMOTE_NO_VMAS
endif

# v6.3 made vma->vm_flags read-only behind vm_flags_set().
ifneq ($(shell grep -s 'static inline void vm_flags_set.struct' $(srctree)/include/linux/mm.h),)
ccflags-y += -DMEMTOPO_HAVE_VM_FLAGS_SET
endif

# filemap_lock_hugetlb_folio() looks up hugetlbfs's page cache however the
# kernel indexes it (by huge page in v6.1, by base page later).
ifneq ($(shell grep -s 'filemap_lock_hugetlb_folio' $(srctree)/include/linux/hugetlb.h),)
ccflags-y += -DMEMTOPO_HAVE_FILEMAP_LOCK_HUGETLB_FOLIO
endif
