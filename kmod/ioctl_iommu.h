/* SPDX-License-Identifier: GPL-2.0 */
/* ioctl handlers of IOMMU regions (ioctl_iommu.c). */
#ifndef _MEMTOPO_IOCTL_IOMMU_H
#define _MEMTOPO_IOCTL_IOMMU_H

struct memtopo_ucmd;

int memtopo_ioctl_iommu_map(struct memtopo_ucmd *ucmd);
int memtopo_ioctl_iommu_unmap(struct memtopo_ucmd *ucmd);
int memtopo_ioctl_iommu_get(struct memtopo_ucmd *ucmd);

#endif /* _MEMTOPO_IOCTL_IOMMU_H */
