/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A deliberately naive model of QEMU's memory API: its own copy of the
 * tree (no rbtrees, no sweep), and a painter that asks "who owns this
 * address?" for every elementary interval.  Slow and obviously right.
 */
#ifndef _MEMTOPO_REFERENCE_H
#define _MEMTOPO_REFERENCE_H

#include <stdbool.h>
#include <stdint.h>

#define REF_MAX_REGIONS 64
#define REF_MAX_RANGES 4096
/* mappings the model keeps per IOMMU; the harness maps no more */
#define REF_IOMMU_MAPS 16
#define REF_PAGE 0x1000ULL

enum ref_kind { REF_CONTAINER, REF_RAM, REF_ROM, REF_ROMDEV, REF_IO, REF_RAMDEV, REF_ALIAS,
		REF_IOMMU };

/* One IOMMU mapping: IOVAs [iova, last] go to addr on in space @space. */
struct ref_iommu_map {
	uint64_t iova, last, addr;
	int space;
	unsigned int perm;	/* 1 read, 2 write */
};

struct ref_region {
	enum ref_kind kind;
	bool live;
	int parent;		/* -1 when detached */
	uint64_t addr;
	uint64_t size;
	bool size64;
	int priority;
	uint64_t seq;
	bool enabled, readonly, nonvolatile, romd;
	uint8_t dirty;
	int alias;		/* target index, -1 if not an alias */
	uint64_t alias_offset;
	void *engine;		/* the engine's struct memtopo_region */
	/* a discard manager: granularity (0: none), bytes managed, populated blocks */
	uint64_t dgran, dsize, dbits;
	/*
	 * An IOMMU (renders as I/O): its mappings in IOVA order, programmed
	 * through the engine's table, or, with @iommu_ops, through kernel ops
	 * the harness implements (then each mapping is one aligned block).
	 */
	bool iommu_ops;
	int nmap;
	struct ref_iommu_map map[REF_IOMMU_MAPS];
};

struct ref_model {
	struct ref_region r[REF_MAX_REGIONS];
	int n;
	uint64_t seq;
};

/* One entry of a painted view; region -1 is a hole. */
struct ref_range {
	uint64_t start;		/* entries partition [0, 2^64) */
	int region;
	uint64_t offset;
	unsigned int flags;	/* MEMTOPO_FR_* */
	uint8_t dirty;
};

int ref_effective_root(const struct ref_model *m, int root);
/* Paints the view of @root (an index, or -1 for nothing); returns entries. */
int ref_paint(const struct ref_model *m, int root, struct ref_range *out, int max);
/*
 * Would rendering @from reach @to?  A region renders its subregions, an
 * alias only its target: an alias's own subregions are never rendered.
 */
bool ref_reaches(const struct ref_model *m, int from, int to);
/* Is @mr @of itself or an ancestor of it (subregion edges, any kind)? */
bool ref_is_ancestor(const struct ref_model *m, int mr, int of);

/*
 * IOMMU tables after iommufd's IOMMU_IOAS_MAP / _UNMAP: page-granular, all
 * or nothing.  ref_iommu_map() and ref_iommu_unmap() return the errno the
 * engine must give (@target_ok: the target is a live space of the context)
 * and apply the change only when it is 0.
 */
int ref_iommu_map(struct ref_region *r, uint64_t iova, uint64_t size, int space,
		  bool target_ok, uint64_t addr, unsigned int perm);
int ref_iommu_unmap(struct ref_region *r, uint64_t iova, uint64_t size);
/* The mapping holding IOVA @off, or -1. */
int ref_iommu_find(const struct ref_region *r, uint64_t off);
/*
 * The IOTLB entry around @off: the largest power-of-two block aligned in
 * both the IOVA and the target space that lies inside mapping @mp.
 */
uint64_t ref_iommu_block_mask(const struct ref_iommu_map *mp, uint64_t off);

#endif
