// SPDX-License-Identifier: GPL-2.0
/*
 * Commands that look: the context's limits, QEMU's `info mtree` texts,
 * the regions and spaces, flat views, lookups, the event stream, and a
 * comparison with QEMU's flat views.
 */
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "memtopoctl.h"

static int do_info(int argc, char **argv)
{
	struct memtopo_info info;
	int fd = mt_open(), ret;
	unsigned int i;

	if (fd < 0) {
		fprintf(stderr, "memtopoctl: /dev/memtopo: %s\n", strerror(-fd));
		return 1;
	}
	ret = mt_info(fd, &info);
	if (ret) {
		fprintf(stderr, "memtopoctl: info: %s\n", strerror(-ret));
		return 1;
	}
	{
		const struct {
			const char *name;
			__u32 value;
		} f[] = {
			{ "abi_version", info.abi_version },
			{ "max_depth", info.max_depth },
			{ "max_alias_chain", info.max_alias_chain },
			{ "max_regions", info.max_regions },
			{ "max_spaces", info.max_spaces },
			{ "max_name", info.max_name },
			{ "max_batch", info.max_batch },
			{ "max_events", info.max_events },
		};

		if (json_output)
			jopen('{');
		for (i = 0; i < ARRAY_SIZE(f); i++) {
			if (json_output)
				jnum(f[i].name, f[i].value);
			else
				printf("%s %u\n", f[i].name, f[i].value);
		}
		if (json_output) {
			jclose('}');
			putchar('\n');
		}
	}
	return 0;
}

static void json_region(const struct memtopo_region_desc *d)
{
	jopen('{');
	jnum("id", d->id);
	jstr("name", d->name);
	jstr("kind", mt_kind_name(d->kind));
	jnum("parent", d->parent);
	jnum("alias", d->alias);
	jnum("alias_offset", d->alias_offset);
	jnum("addr", d->addr);
	jnum("size", d->length);
	jflag("size_2_64", d->flags & MEMTOPO_REGION_SIZE_2_64);
	jint("priority", d->priority);
	jflag("enabled", d->flags & MEMTOPO_REGION_ENABLED);
	jflag("readonly", d->flags & MEMTOPO_REGION_READONLY);
	jflag("nonvolatile", d->flags & MEMTOPO_REGION_NONVOLATILE);
	jflag("romd", d->flags & MEMTOPO_REGION_ROMD);
	jflag("may_overlap", d->flags & MEMTOPO_REGION_MAY_OVERLAP);
	jnum("dirty_log_mask", d->dirty_log_mask);
	jnum("uaddr", d->uaddr);
	jflag("kernel_backing", d->flags & MEMTOPO_REGION_KERNEL_BACKING);
	jflag("file_backing", d->flags & MEMTOPO_REGION_FILE_BACKING);
	jflag("process_backing", d->flags & MEMTOPO_REGION_PROCESS_BACKING);
	jnum("backing_id", d->backing_id);
	jnum("backing_offset", d->backing_offset);
	jclose('}');
}

static void text_region(const struct memtopo_region_desc *d)
{
	printf("#%-5u %-11s %-24s parent #%-5u addr 0x%016llx size %s0x%llx prio %d",
	       d->id, mt_kind_name(d->kind), d->name, d->parent, d->addr,
	       d->flags & MEMTOPO_REGION_SIZE_2_64 ? "2^64 " : "", d->length, d->priority);
	printf("%s%s%s%s%s", d->flags & MEMTOPO_REGION_ENABLED ? "" : " disabled",
	       d->flags & MEMTOPO_REGION_READONLY ? " readonly" : "",
	       d->flags & MEMTOPO_REGION_KERNEL_BACKING ? " kernel-backed" : "",
	       d->flags & MEMTOPO_REGION_FILE_BACKING ? " file-backed" : "",
	       d->flags & MEMTOPO_REGION_PROCESS_BACKING ? " process-backed" : "");
	if (d->backing_id)
		printf(" backing #%llu @0x%llx", (unsigned long long)d->backing_id,
		       (unsigned long long)d->backing_offset);
	if (d->alias)
		printf(" -> #%u @0x%llx", d->alias, d->alias_offset);
	printf("\n");
}

static int do_show(int argc, char **argv)
{
	int fd = open_ctx(true), ret;
	struct names nm = {};
	__u32 i;
	char *text;

	if (argc < 2)
		die_usage("show: tree, flat, regions or spaces?");
	if (!strcmp(argv[1], "tree") || !strcmp(argv[1], "flat")) {
		__u32 flags = 0;

		if (!strcmp(argv[1], "flat"))
			flags |= MEMTOPO_MTREE_FLAT;
		if (argc > 2 && !strcmp(argv[2], "-D"))
			flags |= MEMTOPO_MTREE_DISABLED;
		ret = mt_mtree(fd, flags, &text);
		if (ret) {
			fprintf(stderr, "memtopoctl: show: %s\n", strerror(-ret));
			return 1;
		}
		if (json_output) {
			jopen('{');
			jstr("text", text);
			jclose('}');
			putchar('\n');
		} else {
			fputs(text, stdout);
		}
		free(text);
		return 0;
	}
	if (strcmp(argv[1], "regions") && strcmp(argv[1], "spaces"))
		die_usage("show: tree, flat, regions or spaces?");
	names_load(fd, &nm);
	if (json_output)
		jopen('[');
	for (i = 0; !strcmp(argv[1], "regions") && i < nm.nregions; i++) {
		if (!json_output) {
			text_region(&nm.regions[i]);
			continue;
		}
		jelem();
		json_region(&nm.regions[i]);
	}
	for (i = 0; !strcmp(argv[1], "spaces") && i < nm.nspaces; i++) {
		struct memtopo_space_desc *d = &nm.spaces[i];

		if (!json_output) {
			printf("#%-4u %-24s root #%u (%s) generation %llu ranges %u\n", d->id,
			       d->name, d->root, region_name(&nm, d->root), d->generation,
			       d->nr_ranges);
			continue;
		}
		jelem();
		jopen('{');
		jnum("id", d->id);
		jstr("name", d->name);
		jnum("root", d->root);
		jnum("generation", d->generation);
		jnum("ranges", d->nr_ranges);
		jclose('}');
	}
	if (json_output) {
		jclose(']');
		putchar('\n');
	}
	return 0;
}

static void print_range(struct names *nm, const struct memtopo_range *r)
{
	if (!json_output) {
		printf("%016llx-%016llx %s (#%u) @%llx%s%s\n", r->start, r->last,
		       region_name(nm, r->region), r->region, r->offset,
		       r->flags & MEMTOPO_RANGE_READONLY ? " readonly" : "",
		       r->flags & MEMTOPO_RANGE_ROMD ? " romd" : "");
		return;
	}
	jopen('{');
	jnum("start", r->start);
	jnum("last", r->last);
	jnum("region", r->region);
	jstr("name", region_name(nm, r->region));
	jnum("offset", r->offset);
	jflag("readonly", r->flags & MEMTOPO_RANGE_READONLY);
	jflag("romd", r->flags & MEMTOPO_RANGE_ROMD);
	jclose('}');
}

static int do_flat(int argc, char **argv)
{
	int fd = open_ctx(true), ret;
	struct memtopo_range *r;
	struct names nm = {};
	__u32 space, n, i;
	__u64 gen;
	char err[256];

	if (argc != 2)
		die_usage("flat SPACE");
	if (resolve(fd, &nm, argv[1], true, &space, err, sizeof(err))) {
		fprintf(stderr, "memtopoctl: %s\n", err);
		return 1;
	}
	names_load(fd, &nm);
	ret = mt_get_flat(fd, space, &r, &n, &gen);
	if (ret) {
		fprintf(stderr, "memtopoctl: flat: %s\n", strerror(-ret));
		return 1;
	}
	if (json_output) {
		jopen('{');
		jnum("generation", gen);
		jkey("ranges");
		jopen('[');
	} else {
		printf("generation %llu, %u ranges\n", gen, n);
	}
	for (i = 0; i < n; i++) {
		if (json_output)
			jelem();
		print_range(&nm, &r[i]);
	}
	if (json_output) {
		jclose(']');
		jclose('}');
		putchar('\n');
	}
	free(r);
	return 0;
}

static int do_lookup(int argc, char **argv)
{
	int fd = open_ctx(true), ret;
	struct memtopo_range r;
	struct names nm = {};
	__u32 space;
	__u64 addr, gen;
	char err[256];

	if (argc != 3)
		die_usage("lookup SPACE ADDR");
	if (resolve(fd, &nm, argv[1], true, &space, err, sizeof(err))) {
		fprintf(stderr, "memtopoctl: %s\n", err);
		return 1;
	}
	if (parse_u64(argv[2], &addr, NULL))
		die_usage("lookup: bad address");
	ret = mt_lookup(fd, space, addr, &r, &gen);
	if (ret == -ENOENT) {
		if (json_output)
			printf("null\n");
		else
			printf("0x%llx: unassigned\n", addr);
		return 1;
	}
	if (ret) {
		fprintf(stderr, "memtopoctl: lookup: %s\n", strerror(-ret));
		return 1;
	}
	names_load(fd, &nm);
	if (!json_output)
		printf("0x%llx: offset 0x%llx in ", addr, r.offset + (addr - r.start));
	print_range(&nm, &r);
	if (json_output)
		printf("\n");
	return 0;
}

/* Events about a section of the space (every kind but these has one). */
static bool event_has_section(__u32 type)
{
	return type != MEMTOPO_EVENT_COMMIT && type != MEMTOPO_EVENT_OVERFLOW &&
	       type != MEMTOPO_EVENT_LOG_GLOBAL_START && type != MEMTOPO_EVENT_LOG_GLOBAL_STOP &&
	       type != MEMTOPO_EVENT_LOG_GLOBAL_AFTER_SYNC &&
	       type != MEMTOPO_EVENT_LOG_SYNC_GLOBAL &&
	       type != MEMTOPO_EVENT_IOMMU_MAP && type != MEMTOPO_EVENT_IOMMU_UNMAP &&
	       type != MEMTOPO_EVENT_IOMMU_DEVIOTLB_UNMAP;
}

/* --json watch: one object a line */
static void json_event(struct names *nm, const struct memtopo_event *e)
{
	jopen('{');
	jnum("seq", e->seq);
	jnum("generation", e->generation);
	jstr("type", mt_event_name(e->type));
	if (e->region) {
		jnum("region", e->region);
		jstr("name", region_name(nm, e->region));
	}
	if (event_has_section(e->type)) {
		jnum("start", e->start);
		jnum("last", e->last);
		jnum("offset", e->offset);
		jflag("readonly", e->range_flags & MEMTOPO_RANGE_READONLY);
		jflag("romd", e->range_flags & MEMTOPO_RANGE_ROMD);
		if (e->type == MEMTOPO_EVENT_LOG_START || e->type == MEMTOPO_EVENT_LOG_STOP)
			jnum("old_mask", e->old_mask);
		jnum("new_mask", e->new_mask);
	}
	switch (e->type) {
	case MEMTOPO_EVENT_EVENTFD_ADD:
	case MEMTOPO_EVENT_EVENTFD_DEL:
		jnum("addr", e->ioeventfd.addr);
		jnum("len", e->ioeventfd.len);
		jflag("datamatch", e->ioeventfd.flags & MEMTOPO_EVENT_IOEVENTFD_DATAMATCH);
		jnum("data", e->ioeventfd.data);
		break;
	case MEMTOPO_EVENT_COALESCED_ADD:
	case MEMTOPO_EVENT_COALESCED_DEL:
		jnum("addr", e->coalesced.addr);
		jnum("length", e->coalesced.length);
		break;
	case MEMTOPO_EVENT_IOMMU_MAP:
	case MEMTOPO_EVENT_IOMMU_UNMAP:
	case MEMTOPO_EVENT_IOMMU_DEVIOTLB_UNMAP:
		jnum("iova", e->iommu.iova);
		jnum("translated_addr", e->iommu.translated_addr);
		jnum("addr_mask", e->iommu.addr_mask);
		jnum("perm", e->iommu.perm);
		jnum("target_space", e->iommu.target_space);
		jnum("iommu_idx", e->iommu.iommu_idx);
		break;
	case MEMTOPO_EVENT_DISCARD_POPULATE:
	case MEMTOPO_EVENT_DISCARD_DISCARD:
		jnum("region_offset", e->discard.offset);
		jnum("length", e->discard.length);
		break;
	}
	jclose('}');
	putchar('\n');
}

static void text_event(struct names *nm, const struct memtopo_event *e)
{
	printf("%6llu gen %-4llu %-16s", e->seq, e->generation, mt_event_name(e->type));
	if (event_has_section(e->type))
		printf(" %016llx-%016llx %s @%llx%s", e->start, e->last,
		       region_name(nm, e->region), e->offset,
		       e->range_flags & MEMTOPO_RANGE_READONLY ? " readonly" : "");
	switch (e->type) {
	case MEMTOPO_EVENT_LOG_START:
	case MEMTOPO_EVENT_LOG_STOP:
		printf(" mask %#x->%#x", e->old_mask, e->new_mask);
		break;
	case MEMTOPO_EVENT_EVENTFD_ADD:
	case MEMTOPO_EVENT_EVENTFD_DEL:
		printf(" addr 0x%llx len %u", e->ioeventfd.addr, e->ioeventfd.len);
		if (e->ioeventfd.flags & MEMTOPO_EVENT_IOEVENTFD_DATAMATCH)
			printf(" data 0x%llx", e->ioeventfd.data);
		break;
	case MEMTOPO_EVENT_COALESCED_ADD:
	case MEMTOPO_EVENT_COALESCED_DEL:
		printf(" addr 0x%llx len 0x%llx", e->coalesced.addr, e->coalesced.length);
		break;
	case MEMTOPO_EVENT_IOMMU_MAP:
	case MEMTOPO_EVENT_IOMMU_UNMAP:
	case MEMTOPO_EVENT_IOMMU_DEVIOTLB_UNMAP:
		printf(" %s iova 0x%llx mask 0x%llx -> space %u 0x%llx perm %s%s",
		       region_name(nm, e->region), e->iommu.iova, e->iommu.addr_mask,
		       e->iommu.target_space, e->iommu.translated_addr,
		       e->iommu.perm & MEMTOPO_EVENT_IOMMU_READ ? "r" : "-",
		       e->iommu.perm & MEMTOPO_EVENT_IOMMU_WRITE ? "w" : "-");
		break;
	case MEMTOPO_EVENT_DISCARD_POPULATE:
	case MEMTOPO_EVENT_DISCARD_DISCARD:
		printf(" region offset 0x%llx len 0x%llx", e->discard.offset, e->discard.length);
		break;
	}
	putchar('\n');
}

/* The generation of @space's current view; -ENOENT if it has none. */
static int space_generation(int fd, __u32 space, __u64 *gen)
{
	struct memtopo_space_desc *d;
	int ret = -ENOENT;
	__u32 n, i;

	if (mt_get_spaces(fd, &d, &n))
		return ret;
	for (i = 0; i < n; i++) {
		if (d[i].id == space) {
			*gen = d[i].generation;
			ret = 0;
		}
	}
	free(d);
	return ret;
}

#define WATCH_USAGE "watch SPACE [--replay] [--count N] [--timeout SEC] [--events all|NAME,...]"

/* "all", or event names separated by commas: a subscription mask. */
static int parse_event_mask(const char *list, __u32 *mask)
{
	char *copy = strdup(list), *tok, *save = NULL;
	int type, ret = 0;

	if (!copy)
		return -ENOMEM;
	*mask = 0;
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (!strcmp(tok, "all")) {
			*mask |= MEMTOPO_EVENT_MASK_ALL;
			continue;
		}
		type = mt_event_parse(tok);
		if (type < 0) {
			fprintf(stderr, "memtopoctl: watch: unknown event %s\n", tok);
			ret = -EINVAL;
			break;
		}
		*mask |= 1u << type;
	}
	free(copy);
	return ret;
}

/* The whole view, when the generation a watcher had is no longer kept. */
static int print_flat_resync(int fd, __u32 space, __u64 *have)
{
	struct memtopo_range *r;
	struct names nm = {};
	__u32 n, i;
	__u64 gen;
	int ret;

	names_load(fd, &nm);
	ret = mt_get_flat(fd, space, &r, &n, &gen);
	if (ret)
		return ret;
	if (json_output) {
		mt_json_resync_begin();
		jnum("generation", gen);
		jkey("ranges");
		jopen('[');
	} else {
		printf("resync generation %llu: %u ranges\n", gen, n);
	}
	for (i = 0; i < n; i++) {
		if (json_output)
			jelem();
		else
			printf("  ");
		print_range(&nm, &r[i]);
	}
	if (json_output)
		mt_json_resync_end();
	free(r);
	*have = gen;
	return 0;
}

/*
 * After an OVERFLOW: by difference from the last generation committed to
 * the watcher (@have, 0 if none), or the whole view when that one is gone.
 */
static int watch_resync(int fd, __u32 space, __u64 *have)
{
	int ret = *have ? mt_watch_resync_diff(fd, space, have) : -ESTALE;

	if (ret == -ESTALE)
		ret = print_flat_resync(fd, space, have);
	if (ret)
		fprintf(stderr, "memtopoctl: watch: resync: %s\n", strerror(-ret));
	return ret;
}

/*
 * Events of a commit a resync already contained (queued between the drain
 * and the resync): a mirror must not apply them twice.
 */
static bool watch_contained(const struct memtopo_event *e, __u64 have)
{
	switch (e->type) {
	case MEMTOPO_EVENT_REGION_ADD:
	case MEMTOPO_EVENT_REGION_DEL:
	case MEMTOPO_EVENT_REGION_NOP:
	case MEMTOPO_EVENT_LOG_START:
	case MEMTOPO_EVENT_LOG_STOP:
	case MEMTOPO_EVENT_COMMIT:
		return e->generation <= have;
	}
	return false;
}

static int do_watch(int argc, char **argv)
{
	int fd = open_ctx(true), efd, ret, i;
	long count = -1, timeout_ms = -1;
	__u32 space, id, flags = 0, mask = 0;
	struct memtopo_event ev[64];
	struct names nm = {};
	bool resynced = false;
	__u64 have = 0;
	char err[256];

	if (argc < 2)
		die_usage("watch SPACE");
	for (i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "--replay")) {
			flags |= MEMTOPO_SUBSCRIBE_REPLAY;
		} else if (!strcmp(argv[i], "--count") && i + 1 < argc) {
			count = atol(argv[++i]);
		} else if (!strcmp(argv[i], "--timeout") && i + 1 < argc) {
			timeout_ms = atol(argv[++i]) * 1000;
		} else if (!strcmp(argv[i], "--events") && i + 1 < argc) {
			if (parse_event_mask(argv[++i], &mask))
				return 1;
		} else {
			die_usage(WATCH_USAGE);
		}
	}
	if (resolve(fd, &nm, argv[1], true, &space, err, sizeof(err))) {
		fprintf(stderr, "memtopoctl: %s\n", err);
		return 1;
	}
	efd = eventfd(0, EFD_CLOEXEC);
	if (efd < 0) {
		perror("eventfd");
		return 1;
	}
	ret = mt_subscribe(fd, space, efd, mask, flags, &id);
	if (ret) {
		fprintf(stderr, "memtopoctl: watch: %s\n", strerror(-ret));
		return 1;
	}
	/*
	 * What an overflow's resync starts from: without --replay the view at
	 * subscription; with it, nothing until the replay's COMMIT.
	 */
	if (!(flags & MEMTOPO_SUBSCRIBE_REPLAY) && space_generation(fd, space, &have)) {
		fprintf(stderr, "memtopoctl: watch: the space is gone\n");
		return 1;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!json_output)
		printf("watching %s (subscription %u)\n", argv[1], id);
	while (count) {
		struct pollfd p = { .fd = efd, .events = POLLIN };
		__u64 ticks;
		__u32 n, pending;

		ret = poll(&p, 1, timeout_ms);
		if (ret == 0)
			break;
		if (ret < 0 || read(efd, &ticks, sizeof(ticks)) != sizeof(ticks))
			break;
		do {
			n = ARRAY_SIZE(ev);
			ret = mt_read_events(fd, id, ev, &n, &pending);
			if (ret) {
				fprintf(stderr, "memtopoctl: read events: %s\n", strerror(-ret));
				return 1;
			}
			names_reload(fd, &nm);
			for (i = 0; i < (int)n && count; i++) {
				struct memtopo_event *e = &ev[i];

				if (resynced && watch_contained(e, have))
					continue;
				if (json_output)
					json_event(&nm, e);
				else
					text_event(&nm, e);
				if (e->type == MEMTOPO_EVENT_COMMIT)
					have = e->generation;
				if (e->type == MEMTOPO_EVENT_OVERFLOW) {
					if (watch_resync(fd, space, &have))
						return 1;
					resynced = true;
				}
				if (e->type == MEMTOPO_EVENT_COMMIT && count > 0)
					count--;
			}
		} while (pending && count);
	}
	return 0;
}

static int do_diff_flat(int argc, char **argv)
{
	int fd = open_ctx(true), ret, bad;
	char *expected, *actual;

	/* between two generations of a space, not against a text */
	for (ret = 2; ret < argc; ret++)
		if (!strcmp(argv[ret], "--from"))
			return mt_diff_generations(argc, argv);
	if (argc < 2)
		die_usage("diff-flat FILE [-v]");
	expected = slurp(argv[1]);
	if (!expected) {
		fprintf(stderr, "memtopoctl: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	ret = mt_mtree(fd, MEMTOPO_MTREE_FLAT, &actual);
	if (ret) {
		fprintf(stderr, "memtopoctl: show flat: %s\n", strerror(-ret));
		return 1;
	}
	if (json_output) {
		jopen('{');
		jstr("file", argv[1]);
		jkey("spaces");
		putchar('[');
		bad = mt_diff_flat(expected, actual, false, true);
		putchar(']');
		jflag("identical", !bad);
		jclose('}');
		putchar('\n');
	} else {
		bad = mt_diff_flat(expected, actual, argc > 2 && !strcmp(argv[2], "-v"), false);
		printf("%s: %s\n", argv[1], bad ? "DIFFERENT" : "identical");
	}
	return bad ? 1 : 0;
}

const struct cmd show_cmds[] = {
	{ "info",	do_info },
	{ "show",	do_show },
	{ "flat",	do_flat },
	{ "lookup",	do_lookup },
	{ "watch",	do_watch },
	{ "diff-flat",	do_diff_flat },
	{}
};
