// SPDX-License-Identifier: GPL-2.0
/*
 * RAM discard (MEMTOPO_DISCARD): a virtio-mem-like discard manager on a RAM
 * region, populating and discarding parts of it, showing its state.
 *   discard set-manager REGION GRANULARITY
 *   discard clear-manager REGION
 *   discard populate|discard REGION OFFSET SIZE
 *   discard show REGION
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "memtopoctl.h"

static const char discard_usage[] =
	"discard set-manager REGION GRANULARITY | clear-manager REGION |\n"
	"       populate REGION OFFSET SIZE | discard REGION OFFSET SIZE | show REGION";

static int discard_ioctl(int fd, struct memtopo_discard *d)
{
	d->size = sizeof(*d);
	return ioctl(fd, MEMTOPO_DISCARD, d) ? -errno : 0;
}

/* Why the kernel refused, in the uapi's words. */
static const char *discard_reason(__u32 op, int err)
{
	switch (err) {
	case -ENOENT:
		return op == MEMTOPO_DISCARD_SET_MANAGER ? "no such region" :
		       "no such region, or it has no discard manager";
	case -EINVAL:
		return op == MEMTOPO_DISCARD_SET_MANAGER ?
		       "not RAM, or the granularity is not a power of two >= 4K dividing its size" :
		       "empty, unaligned to the granularity, or past the managed size";
	case -EBUSY:
		return op == MEMTOPO_DISCARD_SET_MANAGER ? "the region has a manager already" :
		       "a kernel discard listener is registered";
	case -EOVERFLOW: return "the range passes 2^64";
	case -E2BIG: return "too many blocks";
	default: return NULL;
	}
}

static int discard_failed(const char *what, __u32 op, int err)
{
	return refused("discard", what, err, discard_reason(op, err));
}

static void discard_print_result(const char *region, const struct memtopo_discard *d)
{
	if (json_output) {
		jopen('{');
		jstr("region", region);
		jnum("granularity", d->granularity);
		jnum("managed", d->managed);
		jnum("populated", d->populated);
		jclose('}');
		putchar('\n');
		return;
	}
	printf("%s: granularity 0x%llx, %llu of %llu blocks populated (0x%llx of 0x%llx bytes)\n",
	       region, (unsigned long long)d->granularity,
	       (unsigned long long)(d->granularity ? d->populated / d->granularity : 0),
	       (unsigned long long)(d->granularity ? d->managed / d->granularity : 0),
	       (unsigned long long)d->populated, (unsigned long long)d->managed);
}

static int pop(const __u64 *bits, __u64 b)
{
	return (bits[b / 64] >> (b % 64)) & 1;
}

/* Blocks drawn on one line of `discard show`. */
#define SHOW_LINE	64

static int discard_show(int fd, __u32 region, const char *name)
{
	struct memtopo_discard d = { .op = MEMTOPO_DISCARD_GET_STATE, .region = region };
	__u64 nr, b, start, *bits;
	int ret;

	/* the shape first (length 0), to size the bitmap */
	ret = discard_ioctl(fd, &d);
	if (ret)
		return discard_failed("show", d.op, ret);
	nr = d.managed / d.granularity;
	bits = calloc((nr + 63) / 64, sizeof(*bits));
	if (!bits)
		return 2;
	d.offset = 0;
	d.length = d.managed;
	d.bitmap = (uintptr_t)bits;
	ret = discard_ioctl(fd, &d);
	if (ret) {
		free(bits);
		return discard_failed("show", MEMTOPO_DISCARD_GET_STATE, ret);
	}
	if (json_output) {
		jopen('{');
		jstr("region", name);
		jnum("granularity", d.granularity);
		jnum("managed", d.managed);
		jnum("populated", d.populated);
		jkey("runs");
		jopen('[');
		for (b = 0; b < nr; b++) {
			if (!pop(bits, b))
				continue;
			for (start = b; b + 1 < nr && pop(bits, b + 1); b++)
				;
			jelem();
			jopen('{');
			jnum("offset", start * d.granularity);
			jnum("size", (b - start + 1) * d.granularity);
			jclose('}');
		}
		jclose(']');
		jclose('}');
		putchar('\n');
	} else {
		discard_print_result(name, &d);
		for (b = 0; b < nr; b++) {
			if (b % SHOW_LINE == 0)
				printf("  %010llx ", (unsigned long long)(b * d.granularity));
			putchar(pop(bits, b) ? '#' : '.');
			if (b % SHOW_LINE == SHOW_LINE - 1 || b == nr - 1)
				putchar('\n');
		}
		for (b = 0; b < nr; b++) {
			if (!pop(bits, b))
				continue;
			for (start = b; b + 1 < nr && pop(bits, b + 1); b++)
				;
			printf("  populated 0x%llx-0x%llx\n",
			       (unsigned long long)(start * d.granularity),
			       (unsigned long long)((b + 1) * d.granularity - 1));
		}
	}
	free(bits);
	return 0;
}

static int do_discard(int argc, char **argv)
{
	struct memtopo_discard d = {};
	struct names nm = {};
	const struct arg region_arg[] = { { "REGION", ARG_REGION, &d.region }, {} };
	const struct arg granularity[] = { { "GRANULARITY", ARG_U64, &d.granularity }, {} };
	const struct arg range[] = {
		{ "OFFSET", ARG_U64, &d.offset },
		{ "SIZE", ARG_U64, &d.length },
		{}
	};
	const char *sub;
	__u32 region;
	int fd, ret;

	if (argc < 3)
		die_usage(discard_usage);
	sub = argv[1];
	fd = open_ctx(true);
	if (parse_args(fd, &nm, "discard", argv + 2, region_arg))
		return 1;
	region = d.region;
	if (!strcmp(sub, "show")) {
		if (argc != 3)
			die_usage(discard_usage);
		return discard_show(fd, region, argv[2]);
	}
	if (!strcmp(sub, "set-manager")) {
		if (argc != 4)
			die_usage(discard_usage);
		if (parse_args(fd, &nm, "discard set-manager", argv + 3, granularity))
			return 1;
		d.op = MEMTOPO_DISCARD_SET_MANAGER;
	} else if (!strcmp(sub, "clear-manager")) {
		if (argc != 3)
			die_usage(discard_usage);
		d.op = MEMTOPO_DISCARD_CLEAR_MANAGER;
	} else if (!strcmp(sub, "populate") || !strcmp(sub, "discard")) {
		if (argc != 5)
			die_usage(discard_usage);
		if (parse_args(fd, &nm, "discard", argv + 3, range))
			return 1;
		d.op = sub[0] == 'p' ? MEMTOPO_DISCARD_POPULATE : MEMTOPO_DISCARD_DISCARD;
	} else {
		die_usage(discard_usage);
	}
	ret = discard_ioctl(fd, &d);
	if (ret)
		return discard_failed(sub, d.op, ret);
	discard_print_result(argv[2], &d);
	return 0;
}

const struct cmd discard_cmds[] = {
	{ "discard",	do_discard },
	{}
};
