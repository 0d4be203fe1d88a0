// SPDX-License-Identifier: GPL-2.0
/*
 * IOMMU regions' tables: iommu map, iommu unmap, iommu show
 * (MEMTOPO_IOMMU_MAP, _UNMAP, _GET).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "memtopoctl.h"

/* Why the table refused, in the uapi's words. */
static const char *iommu_reason(int err)
{
	switch (err) {
	case -EEXIST: return "part of the IOVA range is mapped already";
	case -ENOENT: return "no such region or space, or a page of the range is not mapped";
	case -EINVAL:
		return "not an IOMMU region, or an IOVA, length or address not 4K-aligned";
	case -EOVERFLOW: return "the range passes 2^64";
	case -ENOSPC: return "the table is full";
	default: return NULL;
	}
}

static int iommu_failed(const char *what, int err)
{
	return refused("iommu", what, err, iommu_reason(err));
}

static int parse_perm(const char *s, __u32 *flags)
{
	if (!strcmp(s, "r"))
		*flags = MEMTOPO_IOMMU_MAP_READ;
	else if (!strcmp(s, "w"))
		*flags = MEMTOPO_IOMMU_MAP_WRITE;
	else if (!strcmp(s, "rw"))
		*flags = MEMTOPO_IOMMU_MAP_READ | MEMTOPO_IOMMU_MAP_WRITE;
	else
		return -EINVAL;
	return 0;
}

static const char *perm_name(__u32 flags)
{
	static const char *const names[] = { "-", "r", "w", "rw" };

	return names[flags & 3];
}

static int iommu_map(int fd, struct names *nm, __u32 region, int argc, char **argv)
{
	__u64 iova, len, addr;
	__u32 space, flags = MEMTOPO_IOMMU_MAP_READ | MEMTOPO_IOMMU_MAP_WRITE;
	const struct arg args[] = {
		{ "IOVA", ARG_U64, &iova },
		{ "LENGTH", ARG_U64, &len },
		{ "SPACE", ARG_SPACE, &space },
		{ "ADDR", ARG_U64, &addr },
		{}
	};
	int ret;

	if (argc < 7 || argc > 8)
		die_usage("iommu map REGION IOVA LENGTH SPACE ADDR [r|w|rw]");
	if (parse_args(fd, nm, "iommu map", argv + 3, args))
		return 1;
	if (argc == 8 && parse_perm(argv[7], &flags))
		die_usage("iommu map: permissions are r, w or rw");
	ret = mt_iommu_map(fd, region, iova, len, space, addr, flags);
	return ret ? iommu_failed("map", ret) : 0;
}

static int iommu_unmap(int fd, __u32 region, int argc, char **argv)
{
	__u64 iova, len;
	const struct arg args[] = {
		{ "IOVA", ARG_U64, &iova },
		{ "LENGTH", ARG_U64, &len },
		{}
	};
	int ret;

	if (argc == 4 && !strcmp(argv[3], "all")) {
		ret = mt_iommu_unmap(fd, region, 0, 0, MEMTOPO_IOMMU_UNMAP_ALL);
		return ret ? iommu_failed("unmap", ret) : 0;
	}
	if (argc != 5)
		die_usage("iommu unmap REGION IOVA LENGTH | iommu unmap REGION all");
	if (parse_args(fd, NULL, "iommu unmap", argv + 3, args))
		return 1;
	ret = mt_iommu_unmap(fd, region, iova, len, 0);
	return ret ? iommu_failed("unmap", ret) : 0;
}

static const char *space_name(struct names *nm, __u32 id)
{
	__u32 i;

	for (i = 0; i < nm->nspaces; i++)
		if (nm->spaces[i].id == id)
			return nm->spaces[i].name;
	return NULL;
}

/*
 * The name of a mapping's target space, NULL when it is gone: its ID may
 * name a newer space by now (an undone create's), which is not the target.
 */
static const char *target_name(struct names *nm, const struct memtopo_iommu_mapping *m)
{
	return m->flags & MEMTOPO_IOMMU_MAPPING_GONE ? NULL : space_name(nm, m->space);
}

static int iommu_show(int fd, struct names *nm, __u32 region, int argc, char **argv)
{
	struct memtopo_iommu_mapping *m = NULL;
	__u32 n = 0, i;
	int ret;

	if (argc != 3)
		die_usage("iommu show REGION");
	ret = mt_iommu_get(fd, region, &m, &n);
	if (ret)
		return iommu_failed("show", ret);
	names_load(fd, nm);
	if (json_output) {
		jopen('{');
		jstr("region", region_name(nm, region));
		jnum("id", region);
		jkey("mappings");
		jopen('[');
		for (i = 0; i < n; i++) {
			const char *s = target_name(nm, &m[i]);

			jelem();
			jopen('{');
			jnum("iova", m[i].iova);
			jnum("length", m[i].length);
			jnum("space_id", m[i].space);
			if (s)
				jstr("space", s);
			jflag("gone", m[i].flags & MEMTOPO_IOMMU_MAPPING_GONE);
			jnum("addr", m[i].addr);
			jstr("perm", perm_name(m[i].flags));
			jclose('}');
		}
		jclose(']');
		jclose('}');
		putchar('\n');
	} else {
		printf("iommu %s (#%u): %u mapping%s\n", region_name(nm, region), region, n,
		       n == 1 ? "" : "s");
		for (i = 0; i < n; i++) {
			const char *s = target_name(nm, &m[i]);

			printf("  %016llx-%016llx -> %s%s#%u %016llx (%s)\n",
			       (unsigned long long)m[i].iova,
			       (unsigned long long)(m[i].iova + m[i].length - 1),
			       s ? s : "(gone)", " ", m[i].space,
			       (unsigned long long)m[i].addr, perm_name(m[i].flags));
		}
	}
	free(m);
	return 0;
}

static int do_iommu(int argc, char **argv)
{
	struct names nm = {};
	__u32 region;
	const struct arg args[] = { { "REGION", ARG_REGION, &region }, {} };
	int fd;

	if (argc < 3)
		die_usage("iommu map|unmap|show REGION ...");
	fd = open_ctx(true);
	if (parse_args(fd, &nm, "iommu", argv + 2, args))
		return 1;
	if (!strcmp(argv[1], "map"))
		return iommu_map(fd, &nm, region, argc, argv);
	if (!strcmp(argv[1], "unmap"))
		return iommu_unmap(fd, region, argc, argv);
	if (!strcmp(argv[1], "show"))
		return iommu_show(fd, &nm, region, argc, argv);
	die_usage("iommu map|unmap|show REGION ...");
	return 2;
}

const struct cmd iommu_cmds[] = {
	{ "iommu",	do_iommu },
	{}
};
