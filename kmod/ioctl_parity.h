/* SPDX-License-Identifier: GPL-2.0 */
/* ioctl handlers of the QEMU-parity features (ioctl_parity.c). */
#ifndef _MEMTOPO_IOCTL_PARITY_H
#define _MEMTOPO_IOCTL_PARITY_H

struct memtopo_ucmd;

int memtopo_ioctl_ioeventfd(struct memtopo_ucmd *ucmd);
int memtopo_ioctl_coalesced(struct memtopo_ucmd *ucmd);
int memtopo_ioctl_dirty_log(struct memtopo_ucmd *ucmd);
int memtopo_ioctl_space_rw(struct memtopo_ucmd *ucmd);
/* ioctl_discard.c */
int memtopo_ioctl_discard(struct memtopo_ucmd *ucmd);
int memtopo_ioctl_ioeventfd_list(struct memtopo_ucmd *ucmd);
int memtopo_ioctl_coalesced_list(struct memtopo_ucmd *ucmd);
int memtopo_ioctl_dirty_mark(struct memtopo_ucmd *ucmd);

#endif /* _MEMTOPO_IOCTL_PARITY_H */
