// SPDX-License-Identifier: GPL-2.0
/*
 * Accessing memory through the kernel's access dispatch (MEMTOPO_SPACE_RW):
 * read and write.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "memtopoctl.h"

/* Why a dispatched access was refused, in the uapi's words. */
static const char *rw_reason(int err)
{
	switch (err) {
	case -ENXIO: return "unassigned address (or an IOVA no IOMMU maps)";
	case -EACCES: return "an IOMMU on the way does not permit it";
	case -ELOOP: return "too many IOMMUs on the way";
	case -EROFS: return "read-only memory";
	case -EOPNOTSUPP:
		return "the kernel cannot access it (not its RAM, or no device callback)";
	case -EINVAL: return "access size or alignment refused";
	case -EOVERFLOW: return "the access passes 2^64";
	case -ETIMEDOUT: return "its server did not answer in time (device now broken)";
	case -EIO: return "a broken served device, or its server failed the access";
	case -ENODEV: return "its server is gone (device fd closed, or region destroyed)";
	case -EDEADLK: return "the device's own server, inside its handler";
	default: return NULL;
	}
}

static int rw_failed(const char *what, __u64 addr, int err)
{
	const char *why = rw_reason(err);

	fprintf(stderr, "memtopoctl: %s 0x%llx: %s%s%s\n", what, addr, strerror(-err),
		why ? ": " : "", why ? why : "");
	return 1;
}

static bool is_word(__u64 size)
{
	return size == 1 || size == 2 || size == 4 || size == 8;
}

static int do_read(int argc, char **argv)
{
	int fd = open_ctx(true), ret;
	struct names nm = {};
	__u64 addr, size = 4;
	__u64 value = 0, i;
	__u32 space;
	__u8 *buf;
	char err[256];

	if (argc < 3 || argc > 4)
		die_usage("read SPACE ADDR [SIZE]");
	if (resolve(fd, &nm, argv[1], true, &space, err, sizeof(err))) {
		fprintf(stderr, "memtopoctl: %s\n", err);
		return 1;
	}
	if (parse_u64(argv[2], &addr, NULL))
		die_usage("read: bad address");
	if (argc == 4 && (parse_u64(argv[3], &size, NULL) || !size ||
			  size > MEMTOPO_SPACE_RW_MAX))
		die_usage("read: SIZE is 1 to 1M bytes");
	buf = calloc(1, size);
	if (!buf)
		return 2;
	ret = mt_space_rw(fd, space, addr, buf, size, 0);
	if (ret)
		return rw_failed("read", addr, ret);
	/* the bytes are memory order; a value reads them little-endian */
	for (i = 0; is_word(size) && i < size; i++)
		value |= (__u64)buf[i] << (8 * i);
	if (json_output) {
		jopen('{');
		jnum("addr", addr);
		jnum("size", size);
		if (is_word(size))
			jnum("value", value);
		jkey("bytes");
		putchar('"');
		for (i = 0; i < size; i++)
			printf("%02x", buf[i]);
		putchar('"');
		jclose('}');
		putchar('\n');
	} else if (is_word(size)) {
		printf("0x%0*llx\n", (int)size * 2, value);
	} else {
		for (i = 0; i < size; i++)
			printf("%s%02x%s", i % 16 ? " " : "", buf[i],
			       i % 16 == 15 || i == size - 1 ? "\n" : "");
	}
	free(buf);
	return 0;
}

static int do_write(int argc, char **argv)
{
	int fd = open_ctx(true), ret;
	struct names nm = {};
	__u64 addr, value, size = 4;
	__u32 space, i;
	__u8 buf[8];
	char err[256];

	if (argc < 4 || argc > 5)
		die_usage("write SPACE ADDR VALUE [SIZE]");
	if (resolve(fd, &nm, argv[1], true, &space, err, sizeof(err))) {
		fprintf(stderr, "memtopoctl: %s\n", err);
		return 1;
	}
	if (parse_u64(argv[2], &addr, NULL))
		die_usage("write: bad address");
	if (parse_u64(argv[3], &value, NULL))
		die_usage("write: bad value");
	if (argc == 5 && (parse_u64(argv[4], &size, NULL) || !is_word(size)))
		die_usage("write: SIZE is 1, 2, 4 or 8");
	if (size < 8 && value >> (8 * size))
		die_usage("write: VALUE does not fit in SIZE bytes");
	for (i = 0; i < size; i++)
		buf[i] = value >> (8 * i);
	ret = mt_space_rw(fd, space, addr, buf, size, 1);
	if (ret)
		return rw_failed("write", addr, ret);
	return 0;
}

const struct cmd access_cmds[] = {
	{ "read",	do_read },
	{ "write",	do_write },
	{}
};
