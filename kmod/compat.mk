# SPDX-License-Identifier: GPL-2.0
# Feature probes for compat.h: look at the kernel's own headers rather than
# its version number, so backports and vendor kernels get the right side.

# v6.8 dropped eventfd_signal()'s count argument.
ifneq ($(shell grep -s -E 'eventfd_signal\(struct eventfd_ctx \*ctx\);' $(srctree)/include/linux/eventfd.h),)
ccflags-y += -DMEMTOPO_EVENTFD_SIGNAL_NO_COUNT
endif
