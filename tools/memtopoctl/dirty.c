// SPDX-License-Identifier: GPL-2.0
/*
 * Dirty logging (MEMTOPO_DIRTY_LOG, MEMTOPO_DIRTY_MARK): dirty get, clear,
 * mark, global-start, global-stop, global-sync and vga.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "memtopoctl.h"

#define DIRTY_USAGE \
	"dirty get REGION CLIENT [FIRST_PAGE NUM_PAGES] [--clear] | " \
	"dirty clear REGION CLIENT [FIRST_PAGE NUM_PAGES] | dirty mark REGION OFFSET LENGTH | " \
	"dirty global-start|global-stop [REASON...] | dirty global-sync | " \
	"dirty vga REGION on|off"

static int parse_client(const char *s, __u32 *client)
{
	static const char *const names[] = { "vga", "code", "migration" };
	__u64 v;
	__u32 i;

	for (i = 0; i < ARRAY_SIZE(names); i++)
		if (!strcmp(s, names[i])) {
			*client = i;
			return 0;
		}
	if (parse_u64(s, &v, NULL) || v > 0xffffffffull)
		return -EINVAL;
	*client = v;
	return 0;
}

/* QEMU's GLOBAL_DIRTY_* by name; none given means migration. */
static int parse_reasons(int argc, char **argv, __u32 *reasons)
{
	int i;

	*reasons = 0;
	for (i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "migration"))
			*reasons |= MEMTOPO_GLOBAL_DIRTY_MIGRATION;
		else if (!strcmp(argv[i], "dirty-rate"))
			*reasons |= MEMTOPO_GLOBAL_DIRTY_DIRTY_RATE;
		else if (!strcmp(argv[i], "limit"))
			*reasons |= MEMTOPO_GLOBAL_DIRTY_LIMIT;
		else
			return -EINVAL;
	}
	if (!*reasons)
		*reasons = MEMTOPO_GLOBAL_DIRTY_MIGRATION;
	return 0;
}

/* The region's pages, capped at one call's worth. */
static __u64 region_pages(int fd, struct names *nm, __u32 region)
{
	__u64 bytes = 0;
	__u32 i;

	names_load(fd, nm);
	for (i = 0; i < nm->nregions; i++) {
		if (nm->regions[i].id != region)
			continue;
		bytes = nm->regions[i].length;
		if (nm->regions[i].flags & MEMTOPO_REGION_SIZE_2_64)
			return MEMTOPO_DIRTY_MAX_PAGES_PER_CALL;
	}
	bytes = (bytes + 4095) / 4096;
	return bytes < MEMTOPO_DIRTY_MAX_PAGES_PER_CALL ? bytes : MEMTOPO_DIRTY_MAX_PAGES_PER_CALL;
}

/* Dirty pages as ranges: "1-3 15". */
static void print_pages(const __u64 *bits, __u64 first, __u64 n)
{
	__u64 i, start = 0;
	bool in = false, any = false;

	for (i = 0; i <= n; i++) {
		bool set = i < n && (bits[i / 64] >> (i % 64) & 1);

		if (set && !in) {
			start = i;
			in = true;
		} else if (!set && in) {
			printf("%s%llu", any ? " " : "", (unsigned long long)(first + start));
			if (i - 1 > start)
				printf("-%llu", (unsigned long long)(first + i - 1));
			in = false;
			any = true;
		}
	}
	puts(any ? "" : "none");
}

static int dirty_bitmap(int fd, int argc, char **argv, bool get)
{
	struct memtopo_dirty_log d = { .op = get ? MEMTOPO_DIRTY_GET : MEMTOPO_DIRTY_CLEAR };
	const struct arg region_arg[] = { { "REGION", ARG_REGION, &d.region }, {} };
	const struct arg pages[] = {
		{ "FIRST_PAGE", ARG_U64, &d.first_page },
		{ "NUM_PAGES", ARG_U64, &d.num_pages },
		{}
	};
	struct names nm = {};
	__u64 *bits, i;
	int ret;

	if (get && argc > 2 && !strcmp(argv[argc - 1], "--clear")) {
		d.flags = MEMTOPO_DIRTY_F_CLEAR;
		argc--;
	}
	if (argc != 2 && argc != 4)
		die_usage(DIRTY_USAGE);
	if (parse_args(fd, &nm, "dirty", argv, region_arg))
		return 1;
	if (parse_client(argv[1], &d.client))
		die_usage("dirty: CLIENT is vga, code, migration or 0-2");
	if (argc == 4) {
		if (parse_args(fd, &nm, "dirty", argv + 2, pages))
			return 1;
	} else {
		d.num_pages = region_pages(fd, &nm, d.region);
	}
	bits = calloc((d.num_pages + 63) / 64 + 1, sizeof(*bits));
	if (!bits)
		return refused("dirty", get ? "get" : "clear", -ENOMEM, NULL);
	if (!get)
		for (i = 0; i < (d.num_pages + 63) / 64; i++)
			bits[i] = ~0ull;
	d.bitmap = (uintptr_t)bits;
	ret = mt_dirty_log(fd, &d);
	if (ret) {
		free(bits);
		return refused("dirty", get ? "get" : "clear", ret, NULL);
	}
	if (!get) {
		free(bits);
		return 0;
	}
	if (json_output) {
		jopen('{');
		jnum("region", d.region);
		jnum("client", d.client);
		jnum("first_page", d.first_page);
		jnum("num_pages", d.num_pages);
		jkey("dirty");
		jopen('[');
		for (i = 0; i < d.num_pages; i++)
			if (bits[i / 64] >> (i % 64) & 1) {
				jelem();
				printf("%llu", (unsigned long long)(d.first_page + i));
			}
		jclose(']');
		jclose('}');
		putchar('\n');
	} else {
		print_pages(bits, d.first_page, d.num_pages);
	}
	free(bits);
	return 0;
}

static int do_dirty(int argc, char **argv)
{
	struct memtopo_dirty_log d = {};
	__u64 offset, length;
	const struct arg region_arg[] = { { "REGION", ARG_REGION, &d.region }, {} };
	const struct arg mark[] = {
		{ "REGION", ARG_REGION, &d.region },
		{ "OFFSET", ARG_U64, &offset },
		{ "LENGTH", ARG_U64, &length },
		{}
	};
	struct names nm = {};
	const char *sub;
	int fd, ret;

	if (argc < 2)
		die_usage(DIRTY_USAGE);
	sub = argv[1];
	fd = open_ctx(true);
	if (!strcmp(sub, "get") || !strcmp(sub, "clear"))
		return dirty_bitmap(fd, argc - 2, argv + 2, !strcmp(sub, "get"));
	if (!strcmp(sub, "mark")) {
		if (argc != 5)
			die_usage(DIRTY_USAGE);
		if (parse_args(fd, &nm, "dirty mark", argv + 2, mark))
			return 1;
		ret = mt_dirty_mark(fd, d.region, offset, length);
		return ret ? refused("dirty", "mark", ret, NULL) : 0;
	}
	if (!strcmp(sub, "global-start") || !strcmp(sub, "global-stop")) {
		if (parse_reasons(argc - 2, argv + 2, &d.reasons))
			die_usage("dirty: REASON is migration, dirty-rate or limit");
		d.op = !strcmp(sub, "global-start") ? MEMTOPO_DIRTY_GLOBAL_START :
						      MEMTOPO_DIRTY_GLOBAL_STOP;
		ret = mt_dirty_log(fd, &d);
		return ret ? refused("dirty", sub, ret, NULL) : 0;
	}
	if (!strcmp(sub, "global-sync")) {
		if (argc != 2)
			die_usage(DIRTY_USAGE);
		/* QEMU's migration sync: sync every log, then after-sync */
		d.op = MEMTOPO_DIRTY_GLOBAL_SYNC;
		ret = mt_dirty_log(fd, &d);
		if (!ret) {
			d.op = MEMTOPO_DIRTY_GLOBAL_AFTER_SYNC;
			ret = mt_dirty_log(fd, &d);
		}
		return ret ? refused("dirty", sub, ret, NULL) : 0;
	}
	if (!strcmp(sub, "vga")) {
		if (argc != 4 || (strcmp(argv[3], "on") && strcmp(argv[3], "off")))
			die_usage(DIRTY_USAGE);
		if (parse_args(fd, &nm, "dirty vga", argv + 2, region_arg))
			return 1;
		d.op = !strcmp(argv[3], "on") ? MEMTOPO_DIRTY_LOG_REF : MEMTOPO_DIRTY_LOG_UNREF;
		ret = mt_dirty_log(fd, &d);
		return ret ? refused("dirty", sub, ret, NULL) : 0;
	}
	die_usage(DIRTY_USAGE);
	return 2;
}

const struct cmd dirty_cmds[] = {
	{ "dirty",	do_dirty },
	{}
};
