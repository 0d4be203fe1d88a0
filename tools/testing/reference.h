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

enum ref_kind { REF_CONTAINER, REF_RAM, REF_ROM, REF_ROMDEV, REF_IO, REF_RAMDEV, REF_ALIAS };

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

#endif
