// SPDX-License-Identifier: GPL-2.0
/*
 * ioeventfds and coalesced MMIO ranges of a region: ioeventfd add|del|list
 * (MEMTOPO_IOEVENTFD, MEMTOPO_IOEVENTFD_LIST) and coalesced add|del|list
 * (MEMTOPO_COALESCED, MEMTOPO_COALESCED_LIST).
 *
 * memtopoctl is one process per command, so `ioeventfd add` registers an
 * eventfd of its own that nobody reads: the kernel keeps it (and its
 * registration, which listeners see) until `ioeventfd del` removes it by
 * its offset, length and data alone (DEASSIGN with fd -1).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "memtopoctl.h"

/* REGION OFFSET and a size (ioeventfd: LEN, coalesced: LENGTH). */
static int region_and_range(int fd, const char *cmd, const char *size_name, char **argv,
			    __u32 *region, __u64 *offset, __u64 *size)
{
	struct names nm = {};
	const struct arg args[] = {
		{ "REGION", ARG_REGION, region },
		{ "OFFSET", ARG_U64, offset },
		{ size_name, ARG_U64, size },
		{}
	};

	return parse_args(fd, &nm, cmd, argv, args);
}

/* REGION: the word after "list". */
static int list_region(int fd, char **argv, __u32 *region)
{
	struct names nm = {};
	const struct arg args[] = { { "REGION", ARG_REGION, region }, {} };

	return parse_args(fd, &nm, "list", argv, args);
}

static int ioeventfd_list(int fd, char **argv)
{
	struct memtopo_ioeventfd_entry *e = NULL;
	__u32 region, n, i;
	int ret;

	if (list_region(fd, argv, &region))
		return 1;
	ret = mt_ioeventfd_list(fd, region, &e, &n);
	if (ret)
		return refused("ioeventfd", "list", ret, NULL);
	if (json_output) {
		jopen('[');
		for (i = 0; i < n; i++) {
			jelem();
			jopen('{');
			jnum("offset", e[i].offset);
			jnum("len", e[i].len);
			jflag("datamatch", e[i].flags & MEMTOPO_IOEVENTFD_DATAMATCH);
			jnum("data", e[i].data);
			jclose('}');
		}
		jclose(']');
		putchar('\n');
	} else {
		for (i = 0; i < n; i++) {
			printf("0x%llx len %u", (unsigned long long)e[i].offset, e[i].len);
			if (e[i].flags & MEMTOPO_IOEVENTFD_DATAMATCH)
				printf(" data 0x%llx", (unsigned long long)e[i].data);
			putchar('\n');
		}
	}
	free(e);
	return 0;
}

static int do_ioeventfd(int argc, char **argv)
{
	int fd, efd = -1, ret;
	__u64 offset, len, data = 0;
	__u32 region, flags = 0;
	bool add;

	if (argc == 3 && !strcmp(argv[1], "list"))
		return ioeventfd_list(open_ctx(true), argv + 2);
	if (argc < 5 || argc > 6 || (strcmp(argv[1], "add") && strcmp(argv[1], "del")))
		die_usage("ioeventfd add|del REGION OFFSET LEN [DATA] | ioeventfd list REGION");
	add = !strcmp(argv[1], "add");
	fd = open_ctx(true);
	if (region_and_range(fd, "ioeventfd", "LEN", argv + 2, &region, &offset, &len))
		return 1;
	if (argc == 6) {
		if (parse_u64(argv[5], &data, NULL))
			die_usage("ioeventfd: bad DATA");
		flags |= MEMTOPO_IOEVENTFD_DATAMATCH;
	}
	if (add) {
		efd = eventfd(0, EFD_CLOEXEC);
		if (efd < 0)
			return refused("eventfd", NULL, -errno, NULL);
	} else {
		flags |= MEMTOPO_IOEVENTFD_DEASSIGN;
	}
	ret = mt_ioeventfd(fd, region, efd, offset, len, flags, data);
	if (efd >= 0)
		close(efd);
	if (ret)
		return refused("ioeventfd", argv[1], ret, NULL);
	return 0;
}

static int coalesced_list(int fd, char **argv)
{
	struct memtopo_coalesced_entry *e = NULL;
	__u32 region, n, i;
	int ret;

	if (list_region(fd, argv, &region))
		return 1;
	ret = mt_coalesced_list(fd, region, &e, &n);
	if (ret)
		return refused("coalesced", "list", ret, NULL);
	if (json_output) {
		jopen('[');
		for (i = 0; i < n; i++) {
			jelem();
			jopen('{');
			jnum("offset", e[i].offset);
			jnum("length", e[i].length);
			jclose('}');
		}
		jclose(']');
		putchar('\n');
	} else {
		for (i = 0; i < n; i++)
			printf("0x%llx length 0x%llx\n", (unsigned long long)e[i].offset,
			       (unsigned long long)e[i].length);
	}
	free(e);
	return 0;
}

static int do_coalesced(int argc, char **argv)
{
	__u64 offset, length;
	__u32 region;
	bool add;
	int fd, ret;

	if (argc == 3 && !strcmp(argv[1], "list"))
		return coalesced_list(open_ctx(true), argv + 2);
	if (argc != 5 || (strcmp(argv[1], "add") && strcmp(argv[1], "del")))
		die_usage("coalesced add|del REGION OFFSET LENGTH | coalesced list REGION");
	add = !strcmp(argv[1], "add");
	fd = open_ctx(true);
	if (region_and_range(fd, "coalesced", "LENGTH", argv + 2, &region, &offset, &length))
		return 1;
	ret = mt_coalesced(fd, region, offset, length, add ? 0 : MEMTOPO_COALESCED_DEL);
	if (ret)
		return refused("coalesced", argv[1], ret, NULL);
	return 0;
}

const struct cmd mmio_cmds[] = {
	{ "ioeventfd",	do_ioeventfd },
	{ "coalesced",	do_coalesced },
	{}
};
