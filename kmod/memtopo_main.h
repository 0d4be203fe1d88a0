/* SPDX-License-Identifier: GPL-2.0 */
/* Glue between the misc device, its files and the ioctl layer. */
#ifndef _MEMTOPO_MAIN_H
#define _MEMTOPO_MAIN_H

#include <linux/fs.h>
#include <uapi/linux/memtopo.h>

struct memtopo_ctx;

/**
 * struct memtopo_file - state of one open of /dev/memtopo.
 * @ctx: the context this file works on (its own, or an attached named one).
 */
struct memtopo_file {
	struct memtopo_ctx *ctx;
};

long memtopo_fops_ioctl(struct file *filp, unsigned int cmd, unsigned long arg);

#endif /* _MEMTOPO_MAIN_H */
