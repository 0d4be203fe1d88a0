// SPDX-License-Identifier: GPL-2.0
/*
 * memtopoctl: command-line front end of /dev/memtopo.  It works on a named
 * context (-c NAME, "default" if not given) created on first use, so
 * separate invocations build one machine map; "destroy" drops it.
 * This file: the options, the usage, and the choice of the command from
 * the families' tables (see memtopoctl.h for the layout).
 */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "memtopoctl.h"

bool json_output;
const char *ctx_name = "default";

static const char usage_text[] =
"usage: memtopoctl [-c NAME] [--json] COMMAND [ARGS]\n"
"\n"
"Works on the named context NAME (default \"default\"), created on first use.\n"
"Regions and spaces are named by name (must be unique) or by #ID.\n"
"Numbers take 0x, and K/M/G/T suffixes; a size may be 2^64.\n"
"\n"
"Changing the map (each is one transaction; `script` runs many as one):\n"
"  create-region KIND NAME SIZE [uaddr=ADDR|kernel|kernel=FILE|memfd|\n"
"                file=PATH[:OFFSET]|process]\n"
"                           KIND: container ram rom romd io ramd reservation\n"
"                           iommu;\n"
"                           kernel: the kernel owns the RAM (ram, rom, romd;\n"
"                           within the context's budget), zero-filled or\n"
"                           loaded from FILE; memfd: a new memfd of SIZE;\n"
"                           file=: PATH's bytes from OFFSET (page-aligned);\n"
"                           process: memtopoctl's own memory, gone (ESRCH)\n"
"                           once it exits\n"
"  create-alias NAME TARGET OFFSET SIZE\n"
"  destroy-region REGION\n"
"  add-subregion PARENT CHILD ADDR [PRIO] [overlap]    (alias: map)\n"
"  del-subregion CHILD [PARENT]                        (alias: unmap)\n"
"  set REGION address|size|priority|alias-offset VALUE\n"
"  set REGION enabled|readonly|nonvolatile|romd 0|1\n"
"  set REGION dirty-log CLIENT 0|1                     CLIENT: 0 vga, 1 code, 2 migration\n"
"  create-space NAME ROOT\n"
"  destroy-space SPACE\n"
"  script FILE|-            the commands above, one a line (# comments), one batch\n"
"  import-mtree FILE [--hints FILE] [--dry-run]\n"
"                           rebuild QEMU's `info mtree` (with or without -D)\n"
"\n"
"Looking:\n"
"  info                     ABI version and limits\n"
"  show tree [-D]           QEMU's `info mtree` (-D: disabled regions too)\n"
"  show flat                QEMU's `info mtree -f`\n"
"  show regions|spaces      every region / address space with its ID\n"
"  flat SPACE               the flat view's ranges with the generation\n"
"  lookup SPACE ADDR        what is mapped at ADDR\n"
"  watch SPACE [--replay] [--count N] [--timeout SEC] [--events all|NAME,...]\n"
"                           print events as they arrive (eventfd driven);\n"
"                           --events: the kinds (default: region_add/del,\n"
"                           log_start/stop, commit)\n"
"  diff-flat FILE [-v]      compare `show flat` with QEMU's text per space\n"
"  diff-flat SPACE --from GEN [--to GEN]\n"
"                           the ranges removed (-) and added (+) from one\n"
"                           generation of SPACE's view to another (default:\n"
"                           the current one); recent generations only\n"
"\n"
"Accessing memory, through the kernel's access dispatch (MEMTOPO_SPACE_RW;\n"
"RAM must be kernel-owned, see create-region):\n"
"  read SPACE ADDR [SIZE]   SIZE 1, 2, 4 or 8 (default 4): a little-endian value;\n"
"                           other sizes (up to 1M): a hex dump\n"
"  write SPACE ADDR VALUE [SIZE]\n"
"                           VALUE as SIZE (1, 2, 4 or 8; default 4) bytes,\n"
"                           little-endian\n"
"\n"
"Serving a device from userspace (MEMTOPO_SERVE):\n"
"  serve REGION regs|table FILE|-|uart|rtc [--timeout MS] [--count N] [--log]\n"
"                           answer REGION's accesses with a small model (see\n"
"                           memtopoctl(8)) until the region is destroyed\n"
"\n"
"RAM discard, a virtio-mem-like manager on a RAM region (MEMTOPO_DISCARD):\n"
"  discard set-manager REGION GRANULARITY   every block starts discarded\n"
"  discard clear-manager REGION\n"
"  discard populate|discard REGION OFFSET SIZE\n"
"  discard show REGION      granularity, fill, a block map and the populated runs\n"
"\n"
"ioeventfds, coalesced MMIO, dirty logs (a region's registrations, QEMU's\n"
"dirty-log API; see memtopoctl(8)):\n"
"  ioeventfd add|del REGION OFFSET LEN [DATA]\n"
"                           LEN 0, 1, 2, 4 or 8; DATA: only writes of it signal\n"
"  ioeventfd list REGION\n"
"  coalesced add|del REGION OFFSET LENGTH\n"
"  coalesced list REGION\n"
"  dirty get REGION CLIENT [FIRST_PAGE NUM_PAGES] [--clear]\n"
"                           the dirty pages (CLIENT: vga, code, migration)\n"
"  dirty clear REGION CLIENT [FIRST_PAGE NUM_PAGES]\n"
"  dirty mark REGION OFFSET LENGTH\n"
"                           userspace wrote these bytes (userspace or kernel RAM)\n"
"  dirty global-start|global-stop [REASON...]\n"
"                           REASON: migration (default), dirty-rate, limit\n"
"  dirty global-sync        sync every log, then after-sync\n"
"  dirty vga REGION on|off  take or drop a counted VGA logging reference\n"
"  txn FILE|-               the commands of FILE, one a line, in one transaction:\n"
"                           rendered and reported once; no abort (a failing\n"
"                           line stops it, the lines before stay)\n"
"\n"
"IOMMU regions' tables (MEMTOPO_IOMMU_MAP / _UNMAP / _GET; 4K granularity):\n"
"  iommu map REGION IOVA LENGTH SPACE ADDR [r|w|rw]\n"
"                           IOVA..IOVA+LENGTH of REGION goes to ADDR of SPACE\n"
"                           (default rw)\n"
"  iommu unmap REGION IOVA LENGTH | iommu unmap REGION all\n"
"  iommu show REGION        the mappings, in IOVA order\n"
"\n"
"  destroy                  drop the named context\n"
"\n"
"Options: -c NAME, --json (machine-readable output: one JSON value for every\n"
"command that prints data, one object a line for watch), -h/--help.\n"
"Exit status: 0 success, 1 the kernel refused (the reason is printed), 2 usage.\n";

void print_usage(FILE *out)
{
	fputs(usage_text, out);
}

static int do_destroy(int argc, char **argv)
{
	int fd = mt_open(), ret;

	if (fd < 0) {
		fprintf(stderr, "memtopoctl: /dev/memtopo: %s\n", strerror(-fd));
		return 1;
	}
	ret = mt_ctx_destroy(fd, ctx_name);
	if (ret) {
		fprintf(stderr, "memtopoctl: destroy \"%s\": %s\n", ctx_name, strerror(-ret));
		return 1;
	}
	return 0;
}

static int do_help(int argc, char **argv)
{
	print_usage(stdout);
	return 0;
}

static const struct cmd main_cmds[] = {
	{ "destroy",	do_destroy },
	{ "help",	do_help },
	{}
};

/* Every family's table; the map-changing operations are map.c's do_op(). */
static const struct cmd *const families[] = {
	map_cmds, show_cmds, access_cmds, serve_cmds, discard_cmds, mmio_cmds, dirty_cmds,
	txn_cmds, iommu_cmds, main_cmds,
};

const struct cmd *cmd_find(const char *name)
{
	const struct cmd *c;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(families); i++)
		for (c = families[i]; c->name; c++)
			if (!strcmp(c->name, name))
				return c;
	return NULL;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "context", required_argument, NULL, 'c' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	const struct cmd *cmd;
	int c;

	/* options only before the command: its own arguments may start with '-' */
	while ((c = getopt_long(argc, argv, "+c:jh", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			ctx_name = optarg;
			break;
		case 'j':
			json_output = true;
			break;
		case 'h':
			print_usage(stdout);
			return 0;
		default:
			print_usage(stderr);
			return 2;
		}
	}
	argc -= optind;
	argv += optind;
	if (!argc) {
		print_usage(stderr);
		return 2;
	}
	cmd = cmd_find(argv[0]);
	return cmd ? cmd->func(argc, argv) : do_op(argc, argv);
}
