// SPDX-License-Identifier: GPL-2.0
/* The naive reference painter and IOMMU tables: see reference.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "reference.h"

#define FR_READONLY 1u
#define FR_ROMD 2u
#define FR_NONVOLATILE 4u

#define s128 __int128
static const s128 TWO64 = (s128)1 << 64;

static s128 rsize(const struct ref_region *r)
{
	return r->size64 ? TWO64 : (s128)r->size;
}

static bool terminates(const struct ref_region *r)
{
	return r->kind != REF_CONTAINER && r->kind != REF_ALIAS;
}

/* Children of @p in precedence order, by a plain selection sort. */
static int children(const struct ref_model *m, int p, int *out)
{
	int n = 0, i, j;

	for (i = 0; i < m->n; i++)
		if (m->r[i].live && m->r[i].parent == p)
			out[n++] = i;
	for (i = 0; i < n; i++)
		for (j = i + 1; j < n; j++) {
			const struct ref_region *a = &m->r[out[i]], *b = &m->r[out[j]];

			if (b->priority > a->priority ||
			    (b->priority == a->priority && b->seq > a->seq)) {
				int t = out[i];

				out[i] = out[j];
				out[j] = t;
			}
		}
	return n;
}

bool ref_reaches(const struct ref_model *m, int from, int to)
{
	int kids[REF_MAX_REGIONS], n, i;

	if (from == to)
		return true;
	if (m->r[from].alias >= 0)
		return ref_reaches(m, m->r[from].alias, to);
	n = children(m, from, kids);
	for (i = 0; i < n; i++)
		if (ref_reaches(m, kids[i], to))
			return true;
	return false;
}

bool ref_is_ancestor(const struct ref_model *m, int mr, int of)
{
	for (; of >= 0; of = m->r[of].parent)
		if (of == mr)
			return true;
	return false;
}

int ref_effective_root(const struct ref_model *m, int mr)
{
	int kids[REF_MAX_REGIONS], n, i, found, next;

	while (mr >= 0 && m->r[mr].enabled) {
		const struct ref_region *r = &m->r[mr];

		if (r->kind == REF_ALIAS) {
			if (!r->alias_offset && rsize(r) >= rsize(&m->r[r->alias])) {
				mr = r->alias;
				continue;
			}
		} else if (!terminates(r)) {
			n = children(m, mr, kids);
			found = 0;
			next = -1;
			for (i = 0; i < n; i++) {
				const struct ref_region *c = &m->r[kids[i]];

				if (!c->enabled)
					continue;
				if (++found > 1) {
					next = -1;
					break;
				}
				if (!c->addr && rsize(r) >= rsize(c))
					next = kids[i];
			}
			if (!found)
				return -1;
			if (next >= 0) {
				mr = next;
				continue;
			}
		}
		return mr;
	}
	return -1;
}

struct owner {
	int region;
	uint64_t offset;
	unsigned int flags;
};

/* Who owns @x when rendering @mr with @base inside [cs, ce)? */
static bool owner(const struct ref_model *m, int mr, s128 base, s128 x, s128 cs, s128 ce,
		  unsigned int flags, struct owner *o)
{
	const struct ref_region *r = &m->r[mr];
	int kids[REF_MAX_REGIONS], n, i;
	s128 s, e;

	if (!r->enabled)
		return false;
	base += r->addr;
	if (r->readonly)
		flags |= FR_READONLY;
	if (r->nonvolatile)
		flags |= FR_NONVOLATILE;
	s = base > cs ? base : cs;
	e = base + rsize(r) < ce ? base + rsize(r) : ce;
	if (x < s || x >= e)
		return false;
	if (r->kind == REF_ALIAS)
		return owner(m, r->alias, base - m->r[r->alias].addr - r->alias_offset, x, s, e,
			     flags, o);
	n = children(m, mr, kids);
	for (i = 0; i < n; i++)
		if (owner(m, kids[i], base, x, s, e, flags, o))
			return true;
	if (!terminates(r))
		return false;
	o->region = mr;
	o->offset = (uint64_t)(x - base);
	o->flags = flags | ((r->kind == REF_ROMDEV && r->romd) ? FR_ROMD : 0);
	return true;
}

/* Every edge of every rendered instance, through aliases. */
static void edges(const struct ref_model *m, int mr, s128 base, s128 cs, s128 ce,
		  uint64_t *out, int *n, int max)
{
	const struct ref_region *r = &m->r[mr];
	int kids[REF_MAX_REGIONS], k, i;
	s128 s, e;

	if (!r->enabled)
		return;
	base += r->addr;
	s = base > cs ? base : cs;
	e = base + rsize(r) < ce ? base + rsize(r) : ce;
	if (s >= e)
		return;
	if (*n + 2 <= max) {
		out[(*n)++] = (uint64_t)s;
		if (e < TWO64)
			out[(*n)++] = (uint64_t)e;
	}
	if (r->kind == REF_ALIAS) {
		edges(m, r->alias, base - m->r[r->alias].addr - r->alias_offset, s, e, out, n, max);
		return;
	}
	k = children(m, mr, kids);
	for (i = 0; i < k; i++)
		edges(m, kids[i], base, s, e, out, n, max);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

int ref_paint(const struct ref_model *m, int root, struct ref_range *out, int max)
{
	static uint64_t pts[REF_MAX_RANGES * 2];
	int np = 0, n = 0, i;

	pts[np++] = 0;
	if (root >= 0)
		edges(m, root, 0, 0, TWO64, pts, &np, REF_MAX_RANGES * 2);
	qsort(pts, np, sizeof(pts[0]), cmp_u64);
	for (i = 0; i < np; i++) {
		struct owner o = { .region = -1 };
		struct ref_range *prev = n ? &out[n - 1] : NULL;

		if (i && pts[i] == pts[i - 1])
			continue;
		if (root >= 0)
			owner(m, root, 0, pts[i], 0, TWO64, 0, &o);
		if (prev && prev->region == o.region && prev->flags == o.flags &&
		    (o.region < 0 || (prev->dirty == m->r[o.region].dirty &&
				      prev->offset + (pts[i] - prev->start) == o.offset)))
			continue;
		if (n == max)
			return -1;
		out[n].start = pts[i];
		out[n].region = o.region;
		out[n].offset = o.region < 0 ? 0 : o.offset;
		out[n].flags = o.region < 0 ? 0 : o.flags;
		out[n].dirty = o.region < 0 ? 0 : m->r[o.region].dirty;
		n++;
	}
	return n;
}

/* The argument checks map and unmap share: a table IOMMU, whole pages, no wrap. */
static int iommu_range_check(const struct ref_region *r, uint64_t iova, uint64_t size)
{
	if (r->kind != REF_IOMMU || r->iommu_ops)
		return -EINVAL;
	if (!size || iova % REF_PAGE || size % REF_PAGE)
		return -EINVAL;
	if (size - 1 > UINT64_MAX - iova)
		return -EOVERFLOW;
	return 0;
}

int ref_iommu_map(struct ref_region *r, uint64_t iova, uint64_t size, int space,
		  bool target_ok, uint64_t addr, unsigned int perm)
{
	uint64_t last = iova + size - 1;
	int ret = iommu_range_check(r, iova, size), i, j;

	if (ret)
		return ret;
	if (!perm || perm & ~3u || addr % REF_PAGE || !target_ok)
		return -EINVAL;
	if (size - 1 > UINT64_MAX - addr)
		return -EOVERFLOW;
	for (i = 0; i < r->nmap; i++)
		if (!(last < r->map[i].iova || iova > r->map[i].last))
			return -EEXIST;
	if (r->nmap == REF_IOMMU_MAPS)
		abort();	/* the harness keeps below the model's capacity */
	for (i = 0; i < r->nmap && r->map[i].iova < iova; i++)
		;
	for (j = r->nmap; j > i; j--)
		r->map[j] = r->map[j - 1];
	r->map[i] = (struct ref_iommu_map){ .iova = iova, .last = last, .addr = addr,
					     .space = space, .perm = perm };
	r->nmap++;
	return 0;
}

int ref_iommu_unmap(struct ref_region *r, uint64_t iova, uint64_t size)
{
	struct ref_iommu_map out[REF_IOMMU_MAPS + 1];
	uint64_t last = iova + size - 1, at = iova;
	int ret = iommu_range_check(r, iova, size), i, n = 0;
	bool covered = false;

	if (ret)
		return ret;
	/* every page of [iova, last] mapped, or nothing happens */
	for (i = 0; i < r->nmap && !covered; i++) {
		const struct ref_iommu_map *mp = &r->map[i];

		if (mp->last < iova || mp->iova > last)
			continue;
		if (mp->iova > at)
			return -ENOENT;
		if (mp->last >= last)
			covered = true;
		else
			at = mp->last + 1;
	}
	if (!covered)
		return -ENOENT;
	for (i = 0; i < r->nmap; i++) {
		const struct ref_iommu_map *mp = &r->map[i];

		if (mp->last < iova || mp->iova > last) {
			out[n++] = *mp;
			continue;
		}
		if (mp->iova < iova) {
			out[n] = *mp;
			out[n++].last = iova - 1;
		}
		if (mp->last > last) {
			out[n] = *mp;
			out[n].iova = last + 1;
			out[n++].addr = mp->addr + (last + 1 - mp->iova);
		}
	}
	if (n > REF_IOMMU_MAPS)
		abort();
	memcpy(r->map, out, n * sizeof(out[0]));
	r->nmap = n;
	return 0;
}

int ref_iommu_find(const struct ref_region *r, uint64_t off)
{
	int i;

	for (i = 0; i < r->nmap; i++)
		if (r->map[i].iova <= off && off <= r->map[i].last)
			return i;
	return -1;
}

uint64_t ref_iommu_block_mask(const struct ref_iommu_map *mp, uint64_t off)
{
	int k;

	for (k = 63; k > 12; k--) {
		uint64_t mask = (1ULL << k) - 1, base = off & ~mask;

		if (!((mp->addr - mp->iova) & mask) && base >= mp->iova && base + mask <= mp->last)
			return mask;
	}
	return REF_PAGE - 1;
}
