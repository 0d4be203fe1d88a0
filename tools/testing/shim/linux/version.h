/* SPDX-License-Identifier: GPL-2.0 */
#include "shim_base.h"
#define LINUX_VERSION_CODE 0x060100
#define KERNEL_VERSION(a, b, c) (((a) << 16) + ((b) << 8) + (c))
