// SPDX-License-Identifier: GPL-2.0
/*
 * Resync by difference (MEMTOPO_GET_FLAT_DIFF): the REGION_DEL / REGION_ADD
 * events that turn one generation of a space's flat view into another.
 * diff-flat SPACE --from GEN [--to GEN] prints them between two
 * generations; watch, after an overflow, prints those from the last
 * generation it saw committed to the current one.  A generation the space
 * no longer keeps is ESTALE: then only the full view will do.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "memtopoctl.h"

#define USAGE "diff-flat SPACE --from GEN [--to GEN]"

static void print_event(struct names *nm, const struct memtopo_event *e)
{
	bool add = e->type == MEMTOPO_EVENT_REGION_ADD;

	if (json_output) {
		jelem();
		jopen('{');
		jstr("type", mt_event_name(e->type));
		jnum("start", e->start);
		jnum("last", e->last);
		jnum("region", e->region);
		jstr("name", region_name(nm, e->region));
		jnum("offset", e->offset);
		jflag("readonly", e->range_flags & MEMTOPO_RANGE_READONLY);
		jflag("romd", e->range_flags & MEMTOPO_RANGE_ROMD);
		jnum("dirty_log_mask", e->new_mask);
		jclose('}');
		return;
	}
	printf("%c %016llx-%016llx %s @%llx%s%s\n", add ? '+' : '-', e->start, e->last,
	       region_name(nm, e->region), e->offset,
	       e->range_flags & MEMTOPO_RANGE_READONLY ? " readonly" : "",
	       e->new_mask ? " logging" : "");
}

/**
 * mt_json_resync_begin() - open watch's --json resync record,
 * {"resync": {, for the fields that follow; the last is the list of what
 * the resync holds, opened with jkey() and jopen('[').
 */
void mt_json_resync_begin(void)
{
	jopen('{');
	jkey("resync");
	jopen('{');
}

/**
 * mt_json_resync_end() - close what mt_json_resync_begin() and the list
 * opened, and end the record's line: watch prints one value a line.
 */
void mt_json_resync_end(void)
{
	jclose(']');
	jclose('}');
	jclose('}');
	putchar('\n');
}

/**
 * mt_watch_resync_diff() - watch's resync after an overflow, by difference.
 * @fd: the context.
 * @space: the watched space.
 * @have: in, the generation of the last COMMIT the watcher read (what a
 *	mirror built from its events holds); out, the generation reached.
 *
 * Prints the difference as one resync record: text "resync generation
 * FROM -> TO by difference: N events" and one indented line per event, or
 * one JSON object a line {"resync": {"from", "generation", "events": [...]}}.
 * Events the watcher read after its last COMMIT are an incomplete commit
 * (the overflow cut it): the difference starts before them.
 *
 * Return: 0 with the difference printed; a negative errno, nothing
 * printed (-ESTALE: @have is gone, read the whole view).
 */
int mt_watch_resync_diff(int fd, __u32 space, __u64 *have)
{
	struct memtopo_event *ev;
	struct names nm = {};
	__u64 reached;
	__u32 n, i;
	int ret;

	ret = mt_get_flat_diff(fd, space, *have, 0, &ev, &n, &reached);
	if (ret)
		return ret;
	names_load(fd, &nm);
	if (json_output) {
		mt_json_resync_begin();
		jnum("from", *have);
		jnum("generation", reached);
		jkey("events");
		jopen('[');
	} else {
		printf("resync generation %llu -> %llu by difference: %u events\n", *have, reached,
		       n);
	}
	for (i = 0; i < n; i++) {
		if (!json_output)
			printf("  ");
		print_event(&nm, &ev[i]);
	}
	if (json_output)
		mt_json_resync_end();
	free(ev);
	*have = reached;
	return 0;
}

/**
 * mt_diff_generations() - the diff-flat form that takes generations.
 * @argc: arguments, argv[0] being "diff-flat".
 * @argv: SPACE --from GEN [--to GEN].
 *
 * Return: 0, 1 if the kernel refused (ESTALE: the generation is gone), 2
 * for bad usage.
 */
int mt_diff_generations(int argc, char **argv)
{
	__u64 from = 0, to = 0, reached, current;
	struct memtopo_event *ev;
	struct memtopo_range *r;
	struct names nm = {};
	bool have_from = false;
	__u32 space, n, i;
	char err[256];
	int fd, ret;

	if (argc < 4)
		die_usage(USAGE);
	for (i = 2; i < (__u32)argc; i++) {
		if (!strcmp(argv[i], "--from") && i + 1 < (__u32)argc) {
			if (parse_u64(argv[++i], &from, NULL))
				die_usage(USAGE);
			have_from = true;
		} else if (!strcmp(argv[i], "--to") && i + 1 < (__u32)argc) {
			if (parse_u64(argv[++i], &to, NULL))
				die_usage(USAGE);
		} else {
			die_usage(USAGE);
		}
	}
	if (!have_from)
		die_usage(USAGE);
	fd = open_ctx(false);
	if (resolve(fd, &nm, argv[1], true, &space, err, sizeof(err))) {
		fprintf(stderr, "memtopoctl: %s\n", err);
		return 1;
	}
	ret = mt_get_flat_diff(fd, space, from, to, &ev, &n, &reached);
	if (ret == -ESTALE && !mt_get_flat(fd, space, &r, &i, &current)) {
		free(r);
		fprintf(stderr, "memtopoctl: diff-flat: %s (generation %llu) with `flat %s`\n",
			"a generation asked for is not kept any more: read the whole view",
			current, argv[1]);
		return 1;
	}
	if (ret) {
		fprintf(stderr, "memtopoctl: diff-flat: %s\n", strerror(-ret));
		return 1;
	}
	names_load(fd, &nm);
	if (json_output) {
		jopen('{');
		jnum("from", from);
		jnum("to", reached);
		jkey("events");
		jopen('[');
	} else {
		printf("generation %llu -> %llu: %u events\n", from, reached, n);
	}
	for (i = 0; i < n; i++)
		print_event(&nm, &ev[i]);
	if (json_output) {
		jclose(']');
		jclose('}');
		putchar('\n');
	}
	free(ev);
	return 0;
}
