// SPDX-License-Identifier: GPL-2.0
/*
 * memtopoctl: command-line front end of /dev/memtopo.  It works on a named
 * context (-c NAME, "default" if not given) created on first use, so
 * separate invocations build one machine map; "destroy" drops it.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "libmemtopo.h"
#include "memtopoctl.h"

static bool json;
static const char *ctx_name = "default";

static void usage(FILE *out)
{
	fputs(
"usage: memtopoctl [-c NAME] [--json] COMMAND [ARGS]\n"
"\n"
"Works on the named context NAME (default \"default\"), created on first use.\n"
"Regions and spaces are named by name (must be unique) or by #ID.\n"
"Numbers take 0x, and K/M/G/T suffixes; a size may be 2^64.\n"
"\n"
"Changing the map (each is one transaction; `script` runs many as one):\n"
"  create-region KIND NAME SIZE [uaddr=ADDR|kernel|kernel=FILE]\n"
"                           KIND: container ram rom romd io ramd reservation;\n"
"                           kernel: the kernel owns the RAM (ram, rom, romd; at\n"
"                           most 64M), zero-filled or loaded from FILE\n"
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
"  watch SPACE [--replay] [--count N] [--timeout SEC]\n"
"                           print events as they arrive (eventfd driven)\n"
"  diff-flat FILE [-v]      compare `show flat` with QEMU's text per space\n"
"\n"
"Accessing memory, through the kernel's access dispatch (MEMTOPO_SPACE_RW;\n"
"RAM must be kernel-owned, see create-region):\n"
"  read SPACE ADDR [SIZE]   SIZE 1, 2, 4 or 8 (default 4): a little-endian value;\n"
"                           other sizes (up to 1M): a hex dump\n"
"  write SPACE ADDR VALUE [SIZE]\n"
"                           VALUE as SIZE (1, 2, 4 or 8; default 4) bytes,\n"
"                           little-endian\n"
"\n"
"  destroy                  drop the named context\n"
"\n"
"Options: -c NAME, --json (machine-readable output: one JSON value for every\n"
"command that prints data, one object a line for watch), -h/--help.\n"
"Exit status: 0 success, 1 the kernel refused (the reason is printed), 2 usage.\n",
	      out);
}

static void die_usage(const char *msg)
{
	fprintf(stderr, "memtopoctl: %s\n(see memtopoctl --help)\n", msg);
	exit(2);
}

static int open_ctx(bool create)
{
	int fd = mt_open(), ret;

	if (fd < 0) {
		fprintf(stderr, "memtopoctl: /dev/memtopo: %s\n", strerror(-fd));
		exit(1);
	}
	ret = mt_attach(fd, ctx_name, create ? MEMTOPO_ATTACH_CREATE : 0, NULL);
	if (ret) {
		fprintf(stderr, "memtopoctl: context \"%s\": %s\n", ctx_name, strerror(-ret));
		exit(1);
	}
	return fd;
}

/* ---- numbers and tokens ---- */

static int parse_u64(const char *s, __u64 *v, bool *is_2_64)
{
	unsigned long long x;
	char *end;

	if (is_2_64)
		*is_2_64 = false;
	if (is_2_64 && (!strcmp(s, "2^64") || !strcmp(s, "full"))) {
		*v = 0;
		*is_2_64 = true;
		return 0;
	}
	if (!*s || *s == '-')
		return -EINVAL;
	errno = 0;
	x = strtoull(s, &end, 0);
	if (errno)
		return -errno;
	switch (toupper((unsigned char)*end)) {
	case 'K': x <<= 10; end++; break;
	case 'M': x <<= 20; end++; break;
	case 'G': x <<= 30; end++; break;
	case 'T': x <<= 40; end++; break;
	}
	if (*end)
		return -EINVAL;
	*v = x;
	return 0;
}

static int parse_s32(const char *s, int32_t *v)
{
	char *end;
	long x;

	errno = 0;
	x = strtol(s, &end, 0);
	if (errno || *end || !*s || x < INT32_MIN || x > INT32_MAX)
		return -EINVAL;
	*v = x;
	return 0;
}

/* Split a line into words; "double quotes" keep spaces (QEMU names have them). */
static int tokenize(char *line, char **argv, int max)
{
	int n = 0;
	char *p = line;

	while (*p) {
		char *w;

		while (isspace((unsigned char)*p))
			p++;
		if (!*p || *p == '#')
			break;
		if (n == max)
			return -E2BIG;
		if (*p == '"') {
			w = ++p;
			while (*p && *p != '"')
				p++;
			if (!*p)
				return -EINVAL;
		} else {
			w = p;
			while (*p && !isspace((unsigned char)*p))
				p++;
		}
		if (*p)
			*p++ = '\0';
		argv[n++] = w;
	}
	return n;
}

/* ---- name resolution ---- */

struct names {
	struct memtopo_region_desc *regions;
	uint32_t nregions;
	struct memtopo_space_desc *spaces;
	uint32_t nspaces;
	bool loaded;
	/* names created earlier in this batch */
	struct {
		char *name;
		uint32_t ref;
		bool space;
	} *local;
	int nlocal;
};

static void names_load(int fd, struct names *nm)
{
	int ret;

	if (nm->loaded)
		return;
	ret = mt_get_regions(fd, &nm->regions, &nm->nregions);
	if (!ret)
		ret = mt_get_spaces(fd, &nm->spaces, &nm->nspaces);
	if (ret) {
		fprintf(stderr, "memtopoctl: listing the context: %s\n", strerror(-ret));
		exit(1);
	}
	nm->loaded = true;
}

static const char *region_name(struct names *nm, uint32_t id)
{
	uint32_t i;

	for (i = 0; i < nm->nregions; i++)
		if (nm->regions[i].id == id)
			return nm->regions[i].name;
	return "?";
}

static int resolve(int fd, struct names *nm, const char *s, bool space, uint32_t *id,
		   char *err, size_t errlen)
{
	uint32_t i, found = 0, n;
	int k;

	if (s[0] == '#') {
		__u64 v;

		if (parse_u64(s + 1, &v, NULL) || !v || v >= MEMTOPO_ID_BATCH_REF) {
			snprintf(err, errlen, "bad ID \"%s\"", s);
			return -EINVAL;
		}
		*id = v;
		return 0;
	}
	for (k = nm->nlocal - 1; k >= 0; k--) {
		if (nm->local[k].space == space && !strcmp(nm->local[k].name, s)) {
			*id = nm->local[k].ref;
			return 0;
		}
	}
	names_load(fd, nm);
	n = 0;
	if (space) {
		for (i = 0; i < nm->nspaces; i++)
			if (!strcmp(nm->spaces[i].name, s)) {
				found = nm->spaces[i].id;
				n++;
			}
	} else {
		for (i = 0; i < nm->nregions; i++)
			if (!strcmp(nm->regions[i].name, s)) {
				found = nm->regions[i].id;
				n++;
			}
	}
	if (!n) {
		snprintf(err, errlen, "no %s named \"%s\"", space ? "address space" : "region", s);
		return -ENOENT;
	}
	if (n > 1) {
		snprintf(err, errlen, "%u %ss are named \"%s\": use #ID (show %s)", n,
			 space ? "address space" : "region", s, space ? "spaces" : "regions");
		return -EINVAL;
	}
	*id = found;
	return 0;
}

static void remember(struct names *nm, const char *name, uint32_t ref, bool space)
{
	nm->local = realloc(nm->local, (nm->nlocal + 1) * sizeof(*nm->local));
	if (!nm->local)
		exit(2);
	nm->local[nm->nlocal].name = strdup(name);
	nm->local[nm->nlocal].ref = ref;
	nm->local[nm->nlocal].space = space;
	nm->nlocal++;
}

/* ---- commands that change the map ---- */

#define NEED(n) do { if (argc < (n)) { snprintf(err, errlen, "%s: missing arguments", argv[0]); return -EINVAL; } } while (0)
#define MAXARGS(n) do { if (argc > (n)) { snprintf(err, errlen, "%s: too many arguments", argv[0]); return -EINVAL; } } while (0)

static int copy_name(char *dst, const char *src, char *err, size_t errlen)
{
	if (strlen(src) >= MEMTOPO_NAME_LEN) {
		snprintf(err, errlen, "name \"%s\" is longer than %d bytes", src,
			 MEMTOPO_NAME_LEN - 1);
		return -EINVAL;
	}
	strcpy(dst, src);
	return 0;
}

static int num(const char *what, const char *s, __u64 *v, bool *is_2_64, char *err,
	       size_t errlen)
{
	if (parse_u64(s, v, is_2_64)) {
		snprintf(err, errlen, "bad %s \"%s\"", what, s);
		return -EINVAL;
	}
	return 0;
}

/*
 * kernel=FILE: the initial contents of kernel-owned RAM, zero-padded to the
 * region's size.  The buffer lives until the process exits (a script's
 * batch is applied after every line is parsed).
 */
static int load_image(const char *path, struct memtopo_op *op, char *err, size_t errlen)
{
	FILE *f;
	char *buf;
	size_t got;

	/* too big for the kernel anyway: let it say so (E2BIG) */
	if ((op->flags & MEMTOPO_OP_F_SIZE_2_64) || op->length > MEMTOPO_KERNEL_BACKING_MAX ||
	    !op->length)
		return 0;
	f = fopen(path, "rb");
	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -EINVAL;
	}
	buf = calloc(1, op->length + 1);
	if (!buf)
		exit(2);
	got = fread(buf, 1, op->length + 1, f);
	if (ferror(f) || got > op->length) {
		snprintf(err, errlen, "%s: %s", path,
			 ferror(f) ? "read error" : "larger than the region");
		fclose(f);
		free(buf);
		return -EINVAL;
	}
	fclose(f);
	op->value = (uintptr_t)buf;
	return 0;
}

/*
 * Turn one command into an operation.  @index is its position in the
 * batch (for names created by it).  Returns 1 if @argv is not a
 * map-changing command.
 */
static int parse_op(int fd, struct names *nm, int argc, char **argv, uint32_t index,
		    struct memtopo_op *op, char *err, size_t errlen)
{
	const char *cmd = argv[0];
	bool big;
	int ret;

	if (!strcmp(cmd, "create-region")) {
		int kind;

		NEED(4);
		MAXARGS(5);
		kind = mt_kind_parse(argv[1]);
		if (kind < 0 || kind == MEMTOPO_KIND_ALIAS) {
			snprintf(err, errlen, "unknown region kind \"%s\"", argv[1]);
			return -EINVAL;
		}
		mt_op_init(op, MEMTOPO_OP_REGION_CREATE);
		op->kind = kind;
		ret = copy_name(op->name, argv[2], err, errlen);
		if (!ret)
			ret = num("size", argv[3], &op->length, &big, err, errlen);
		if (ret)
			return ret;
		if (big)
			op->flags |= MEMTOPO_OP_F_SIZE_2_64;
		if (argc == 5) {
			if (!strcmp(argv[4], "kernel") || !strncmp(argv[4], "kernel=", 7)) {
				op->flags |= MEMTOPO_OP_F_KERNEL_BACKING;
				if (argv[4][6] == '=')
					ret = load_image(argv[4] + 7, op, err, errlen);
			} else if (!strncmp(argv[4], "uaddr=", 6)) {
				ret = num("uaddr", argv[4] + 6, &op->value, NULL, err, errlen);
			} else {
				snprintf(err, errlen, "unknown option \"%s\"", argv[4]);
				return -EINVAL;
			}
			if (ret)
				return ret;
		}
		remember(nm, argv[2], MEMTOPO_ID_BATCH_REF | index, false);
		return 0;
	}
	if (!strcmp(cmd, "create-alias")) {
		NEED(5);
		MAXARGS(5);
		mt_op_init(op, MEMTOPO_OP_REGION_CREATE);
		op->kind = MEMTOPO_KIND_ALIAS;
		ret = copy_name(op->name, argv[1], err, errlen);
		if (!ret)
			ret = resolve(fd, nm, argv[2], false, &op->ref, err, errlen);
		if (!ret)
			ret = num("offset", argv[3], &op->addr, NULL, err, errlen);
		if (!ret)
			ret = num("size", argv[4], &op->length, &big, err, errlen);
		if (ret)
			return ret;
		if (big)
			op->flags |= MEMTOPO_OP_F_SIZE_2_64;
		remember(nm, argv[1], MEMTOPO_ID_BATCH_REF | index, false);
		return 0;
	}
	if (!strcmp(cmd, "destroy-region")) {
		NEED(2);
		MAXARGS(2);
		mt_op_init(op, MEMTOPO_OP_REGION_DESTROY);
		return resolve(fd, nm, argv[1], false, &op->id, err, errlen);
	}
	if (!strcmp(cmd, "add-subregion") || !strcmp(cmd, "map")) {
		int i;

		NEED(4);
		MAXARGS(6);
		mt_op_init(op, MEMTOPO_OP_ADD_SUBREGION);
		ret = resolve(fd, nm, argv[1], false, &op->ref, err, errlen);
		if (!ret)
			ret = resolve(fd, nm, argv[2], false, &op->id, err, errlen);
		if (!ret)
			ret = num("address", argv[3], &op->addr, NULL, err, errlen);
		if (ret)
			return ret;
		for (i = 4; i < argc; i++) {
			if (!strcmp(argv[i], "overlap")) {
				op->flags |= MEMTOPO_OP_F_MAY_OVERLAP;
			} else if (parse_s32(argv[i], &op->priority)) {
				snprintf(err, errlen, "bad priority \"%s\"", argv[i]);
				return -EINVAL;
			}
		}
		return 0;
	}
	if (!strcmp(cmd, "del-subregion") || !strcmp(cmd, "unmap")) {
		NEED(2);
		MAXARGS(3);
		mt_op_init(op, MEMTOPO_OP_DEL_SUBREGION);
		ret = resolve(fd, nm, argv[1], false, &op->id, err, errlen);
		if (!ret && argc == 3)
			ret = resolve(fd, nm, argv[2], false, &op->ref, err, errlen);
		return ret;
	}
	if (!strcmp(cmd, "set")) {
		static const struct {
			const char *name;
			uint32_t code;
		} attrs[] = {
			{ "address", MEMTOPO_OP_SET_ADDRESS },
			{ "size", MEMTOPO_OP_SET_SIZE },
			{ "priority", MEMTOPO_OP_SET_PRIORITY },
			{ "alias-offset", MEMTOPO_OP_SET_ALIAS_OFFSET },
			{ "enabled", MEMTOPO_OP_SET_ENABLED },
			{ "readonly", MEMTOPO_OP_SET_READONLY },
			{ "nonvolatile", MEMTOPO_OP_SET_NONVOLATILE },
			{ "romd", MEMTOPO_OP_SET_ROMD },
			{ "dirty-log", MEMTOPO_OP_SET_DIRTY_LOG },
		};
		unsigned int i;
		__u64 v;

		NEED(4);
		for (i = 0; i < sizeof(attrs) / sizeof(attrs[0]); i++)
			if (!strcmp(argv[2], attrs[i].name))
				break;
		if (i == sizeof(attrs) / sizeof(attrs[0])) {
			snprintf(err, errlen, "unknown attribute \"%s\"", argv[2]);
			return -EINVAL;
		}
		mt_op_init(op, attrs[i].code);
		ret = resolve(fd, nm, argv[1], false, &op->id, err, errlen);
		if (ret)
			return ret;
		switch (attrs[i].code) {
		case MEMTOPO_OP_SET_ADDRESS:
		case MEMTOPO_OP_SET_ALIAS_OFFSET:
			MAXARGS(4);
			return num("address", argv[3], &op->addr, NULL, err, errlen);
		case MEMTOPO_OP_SET_SIZE:
			MAXARGS(4);
			ret = num("size", argv[3], &op->length, &big, err, errlen);
			if (big)
				op->flags |= MEMTOPO_OP_F_SIZE_2_64;
			return ret;
		case MEMTOPO_OP_SET_PRIORITY:
			MAXARGS(4);
			if (parse_s32(argv[3], &op->priority)) {
				snprintf(err, errlen, "bad priority \"%s\"", argv[3]);
				return -EINVAL;
			}
			return 0;
		case MEMTOPO_OP_SET_DIRTY_LOG:
			NEED(5);
			MAXARGS(5);
			ret = num("client", argv[3], &v, NULL, err, errlen);
			if (ret)
				return ret;
			op->kind = v;
			return num("value", argv[4], &op->value, NULL, err, errlen);
		default:
			MAXARGS(4);
			return num("value", argv[3], &op->value, NULL, err, errlen);
		}
	}
	if (!strcmp(cmd, "create-space")) {
		NEED(3);
		MAXARGS(3);
		mt_op_init(op, MEMTOPO_OP_SPACE_CREATE);
		ret = copy_name(op->name, argv[1], err, errlen);
		if (!ret)
			ret = resolve(fd, nm, argv[2], false, &op->ref, err, errlen);
		if (!ret)
			remember(nm, argv[1], MEMTOPO_ID_BATCH_REF | index, true);
		return ret;
	}
	if (!strcmp(cmd, "destroy-space")) {
		NEED(2);
		MAXARGS(2);
		mt_op_init(op, MEMTOPO_OP_SPACE_DESTROY);
		return resolve(fd, nm, argv[1], true, &op->id, err, errlen);
	}
	return 1;
}

static int cmd_single_op(int argc, char **argv)
{
	struct names nm = {};
	struct memtopo_op op;
	char err[256];
	int fd = open_ctx(true), ret;

	ret = parse_op(fd, &nm, argc, argv, 0, &op, err, sizeof(err));
	if (ret > 0) {
		fprintf(stderr, "memtopoctl: unknown command \"%s\" (see --help)\n", argv[0]);
		return 2;
	}
	if (ret) {
		fprintf(stderr, "memtopoctl: %s\n", err);
		return ret == -ENOENT ? 1 : 2;
	}
	ret = mt_op(fd, &op);
	if (ret) {
		fprintf(stderr, "memtopoctl: %s: %s\n", argv[0], strerror(-ret));
		return 1;
	}
	if (op.op == MEMTOPO_OP_REGION_CREATE || op.op == MEMTOPO_OP_SPACE_CREATE) {
		if (json)
			printf("{\"id\": %u}\n", op.id);
		else
			printf("%s #%u\n", op.op == MEMTOPO_OP_REGION_CREATE ? "region" : "space",
			       op.id);
	}
	return 0;
}

static int cmd_script(const char *path)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "r") : stdin;
	struct memtopo_op *ops = NULL;
	int *lines = NULL, n = 0, cap = 0, lineno = 0, fd, ret;
	struct names nm = {};
	char line[4096], err[256];
	uint32_t err_index;

	if (!f) {
		fprintf(stderr, "memtopoctl: %s: %s\n", path, strerror(errno));
		return 1;
	}
	fd = open_ctx(true);
	while (fgets(line, sizeof(line), f)) {
		char *argv[16];
		int argc;

		lineno++;
		argc = tokenize(line, argv, 16);
		if (argc < 0) {
			fprintf(stderr, "%s:%d: cannot split the line\n", path, lineno);
			return 2;
		}
		if (!argc)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			ops = realloc(ops, cap * sizeof(*ops));
			lines = realloc(lines, cap * sizeof(*lines));
			if (!ops || !lines)
				return 2;
		}
		ret = parse_op(fd, &nm, argc, argv, n, &ops[n], err, sizeof(err));
		if (ret) {
			fprintf(stderr, "%s:%d: %s\n", path, lineno,
				ret > 0 ? "not a command that changes the map" : err);
			return 2;
		}
		lines[n++] = lineno;
	}
	if (f != stdin)
		fclose(f);
	ret = mt_batch(fd, ops, n, &err_index);
	if (ret) {
		if (err_index < (uint32_t)n)
			fprintf(stderr, "%s:%d: %s (nothing was applied)\n", path,
				lines[err_index], strerror(-ret));
		else
			fprintf(stderr, "%s: commit: %s (nothing was applied)\n", path,
				strerror(-ret));
		return 1;
	}
	if (json)
		printf("{\"operations\": %d}\n", n);
	else
		printf("applied %d operations\n", n);
	return 0;
}

/* ---- commands that look ---- */

static int cmd_info(void)
{
	struct memtopo_info info;
	int fd = mt_open(), ret;

	if (fd < 0) {
		fprintf(stderr, "memtopoctl: /dev/memtopo: %s\n", strerror(-fd));
		return 1;
	}
	ret = mt_info(fd, &info);
	if (ret) {
		fprintf(stderr, "memtopoctl: info: %s\n", strerror(-ret));
		return 1;
	}
	if (json)
		printf("{\"abi_version\": %u, \"max_depth\": %u, \"max_alias_chain\": %u, \"max_regions\": %u, \"max_spaces\": %u, \"max_name\": %u, \"max_batch\": %u, \"max_events\": %u}\n",
		       info.abi_version, info.max_depth, info.max_alias_chain, info.max_regions,
		       info.max_spaces, info.max_name, info.max_batch, info.max_events);
	else
		printf("abi_version %u\nmax_depth %u\nmax_alias_chain %u\nmax_regions %u\nmax_spaces %u\nmax_name %u\nmax_batch %u\nmax_events %u\n",
		       info.abi_version, info.max_depth, info.max_alias_chain, info.max_regions,
		       info.max_spaces, info.max_name, info.max_batch, info.max_events);
	return 0;
}

static const char *jbool(unsigned int v)
{
	return v ? "true" : "false";
}

void mt_json_str(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			printf("\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			printf("\\u%04x", *s);
		else
			putchar(*s);
	}
	putchar('"');
}

static int cmd_show(int argc, char **argv)
{
	int fd = open_ctx(true), ret;
	struct names nm = {};
	uint32_t i;
	char *text;

	if (argc < 2)
		die_usage("show: tree, flat, regions or spaces?");
	if (!strcmp(argv[1], "tree") || !strcmp(argv[1], "flat")) {
		uint32_t flags = 0;

		if (!strcmp(argv[1], "flat"))
			flags |= MEMTOPO_MTREE_FLAT;
		if (argc > 2 && !strcmp(argv[2], "-D"))
			flags |= MEMTOPO_MTREE_DISABLED;
		ret = mt_mtree(fd, flags, &text);
		if (ret) {
			fprintf(stderr, "memtopoctl: show: %s\n", strerror(-ret));
			return 1;
		}
		if (json) {
			printf("{\"text\": ");
			mt_json_str(text);
			printf("}\n");
		} else {
			fputs(text, stdout);
		}
		free(text);
		return 0;
	}
	names_load(fd, &nm);
	if (!strcmp(argv[1], "regions")) {
		if (json)
			printf("[");
		for (i = 0; i < nm.nregions; i++) {
			struct memtopo_region_desc *d = &nm.regions[i];

			if (json) {
				printf("%s{\"id\": %u, \"name\": ", i ? ", " : "", d->id);
				mt_json_str(d->name);
				printf(", \"kind\": \"%s\", \"parent\": %u, \"alias\": %u, \"alias_offset\": %" PRIu64 ", \"addr\": %" PRIu64 ", \"size\": %" PRIu64 ", \"size_2_64\": %s, \"priority\": %d",
				       mt_kind_name(d->kind), d->parent, d->alias,
				       (uint64_t)d->alias_offset, (uint64_t)d->addr,
				       (uint64_t)d->length, jbool(d->flags & MEMTOPO_REGION_SIZE_2_64),
				       d->priority);
				printf(", \"enabled\": %s, \"readonly\": %s, \"nonvolatile\": %s, \"romd\": %s, \"may_overlap\": %s, \"dirty_log_mask\": %u, \"uaddr\": %" PRIu64 ", \"kernel_backing\": %s}",
				       jbool(d->flags & MEMTOPO_REGION_ENABLED),
				       jbool(d->flags & MEMTOPO_REGION_READONLY),
				       jbool(d->flags & MEMTOPO_REGION_NONVOLATILE),
				       jbool(d->flags & MEMTOPO_REGION_ROMD),
				       jbool(d->flags & MEMTOPO_REGION_MAY_OVERLAP),
				       d->dirty_log_mask, (uint64_t)d->uaddr,
				       jbool(d->flags & MEMTOPO_REGION_KERNEL_BACKING));
			} else {
				printf("#%-5u %-11s %-24s parent #%-5u addr 0x%016" PRIx64 " size %s0x%" PRIx64 " prio %d%s%s%s",
				       d->id, mt_kind_name(d->kind), d->name, d->parent,
				       (uint64_t)d->addr,
				       d->flags & MEMTOPO_REGION_SIZE_2_64 ? "2^64 " : "",
				       (uint64_t)d->length, d->priority,
				       d->flags & MEMTOPO_REGION_ENABLED ? "" : " disabled",
				       d->flags & MEMTOPO_REGION_READONLY ? " readonly" : "",
				       d->flags & MEMTOPO_REGION_KERNEL_BACKING ? " kernel-backed" : "");
				if (d->alias)
					printf(" -> #%u @0x%" PRIx64, d->alias, (uint64_t)d->alias_offset);
				printf("\n");
			}
		}
		if (json)
			printf("]\n");
		return 0;
	}
	if (!strcmp(argv[1], "spaces")) {
		if (json)
			printf("[");
		for (i = 0; i < nm.nspaces; i++) {
			struct memtopo_space_desc *d = &nm.spaces[i];

			if (json) {
				printf("%s{\"id\": %u, \"name\": ", i ? ", " : "", d->id);
				mt_json_str(d->name);
				printf(", \"root\": %u, \"generation\": %" PRIu64 ", \"ranges\": %u}",
				       d->root, (uint64_t)d->generation, d->nr_ranges);
			} else {
				printf("#%-4u %-24s root #%u (%s) generation %" PRIu64 " ranges %u\n",
				       d->id, d->name, d->root, region_name(&nm, d->root),
				       (uint64_t)d->generation, d->nr_ranges);
			}
		}
		if (json)
			printf("]\n");
		return 0;
	}
	die_usage("show: tree, flat, regions or spaces?");
	return 2;
}

static void print_range(struct names *nm, const struct memtopo_range *r, bool first)
{
	if (json) {
		printf("%s{\"start\": %" PRIu64 ", \"last\": %" PRIu64 ", \"region\": %u, \"name\": ",
		       first ? "" : ", ", (uint64_t)r->start, (uint64_t)r->last, r->region);
		mt_json_str(region_name(nm, r->region));
		printf(", \"offset\": %" PRIu64 ", \"readonly\": %s, \"romd\": %s}",
		       (uint64_t)r->offset, r->flags & MEMTOPO_RANGE_READONLY ? "true" : "false",
		       r->flags & MEMTOPO_RANGE_ROMD ? "true" : "false");
	} else {
		printf("%016" PRIx64 "-%016" PRIx64 " %s (#%u) @%" PRIx64 "%s%s\n",
		       (uint64_t)r->start, (uint64_t)r->last, region_name(nm, r->region),
		       r->region, (uint64_t)r->offset,
		       r->flags & MEMTOPO_RANGE_READONLY ? " readonly" : "",
		       r->flags & MEMTOPO_RANGE_ROMD ? " romd" : "");
	}
}

static int cmd_flat(int argc, char **argv)
{
	int fd = open_ctx(true), ret;
	struct memtopo_range *r;
	struct names nm = {};
	uint32_t space, n, i;
	uint64_t gen;
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
	if (json)
		printf("{\"generation\": %" PRIu64 ", \"ranges\": [", gen);
	else
		printf("generation %" PRIu64 ", %u ranges\n", gen, n);
	for (i = 0; i < n; i++)
		print_range(&nm, &r[i], !i);
	if (json)
		printf("]}\n");
	free(r);
	return 0;
}

static int cmd_lookup(int argc, char **argv)
{
	int fd = open_ctx(true), ret;
	struct memtopo_range r;
	struct names nm = {};
	uint32_t space;
	__u64 addr; uint64_t gen;
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
		if (json)
			printf("null\n");
		else
			printf("0x%" PRIx64 ": unassigned\n", (uint64_t)addr);
		return 1;
	}
	if (ret) {
		fprintf(stderr, "memtopoctl: lookup: %s\n", strerror(-ret));
		return 1;
	}
	names_load(fd, &nm);
	if (!json)
		printf("0x%" PRIx64 ": offset 0x%" PRIx64 " in ", (uint64_t)addr,
		       (uint64_t)(r.offset + (addr - r.start)));
	print_range(&nm, &r, true);
	if (json)
		printf("\n");
	return 0;
}

/* Why a dispatched access was refused, in the uapi's words. */
static const char *rw_reason(int err)
{
	switch (err) {
	case -ENXIO: return "unassigned address";
	case -EROFS: return "read-only memory";
	case -EOPNOTSUPP:
		return "the kernel cannot access it (RAM it does not own, or a device without callbacks)";
	case -EINVAL: return "access size or alignment refused";
	case -EOVERFLOW: return "the access passes 2^64";
	default: return NULL;
	}
}

static int rw_failed(const char *what, uint64_t addr, int err)
{
	const char *why = rw_reason(err);

	fprintf(stderr, "memtopoctl: %s 0x%" PRIx64 ": %s%s%s\n", what, addr, strerror(-err),
		why ? ": " : "", why ? why : "");
	return 1;
}

static bool is_word(uint64_t size)
{
	return size == 1 || size == 2 || size == 4 || size == 8;
}

static int cmd_read(int argc, char **argv)
{
	int fd = open_ctx(true), ret;
	struct names nm = {};
	__u64 addr, size = 4;
	uint64_t value = 0, i;
	uint32_t space;
	uint8_t *buf;
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
		value |= (uint64_t)buf[i] << (8 * i);
	if (json) {
		printf("{\"addr\": %" PRIu64 ", \"size\": %" PRIu64, (uint64_t)addr,
		       (uint64_t)size);
		if (is_word(size))
			printf(", \"value\": %" PRIu64, value);
		printf(", \"bytes\": \"");
		for (i = 0; i < size; i++)
			printf("%02x", buf[i]);
		printf("\"}\n");
	} else if (is_word(size)) {
		printf("0x%0*" PRIx64 "\n", (int)size * 2, value);
	} else {
		for (i = 0; i < size; i++)
			printf("%s%02x%s", i % 16 ? " " : "", buf[i],
			       i % 16 == 15 || i == size - 1 ? "\n" : "");
	}
	free(buf);
	return 0;
}

static int cmd_write(int argc, char **argv)
{
	int fd = open_ctx(true), ret;
	struct names nm = {};
	__u64 addr, value, size = 4;
	uint32_t space, i;
	uint8_t buf[8];
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

static void print_flat_resync(int fd, uint32_t space)
{
	struct memtopo_range *r;
	struct names nm = {};
	uint32_t n, i;
	uint64_t gen;

	names_load(fd, &nm);
	if (mt_get_flat(fd, space, &r, &n, &gen))
		return;
	if (json)
		printf("{\"resync\": {\"generation\": %" PRIu64 ", \"ranges\": [", gen);
	else
		printf("resync generation %" PRIu64 ": %u ranges\n", gen, n);
	for (i = 0; i < n; i++) {
		if (!json)
			printf("  ");
		print_range(&nm, &r[i], !i);
	}
	if (json)
		printf("]}}\n");
	free(r);
}

static int cmd_watch(int argc, char **argv)
{
	int fd = open_ctx(true), efd, ret, i;
	long count = -1, timeout_ms = -1;
	uint32_t space, id, flags = 0;
	struct memtopo_event ev[64];
	struct names nm = {};
	char err[256];

	if (argc < 2)
		die_usage("watch SPACE");
	for (i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "--replay"))
			flags |= MEMTOPO_SUBSCRIBE_REPLAY;
		else if (!strcmp(argv[i], "--count") && i + 1 < argc)
			count = atol(argv[++i]);
		else if (!strcmp(argv[i], "--timeout") && i + 1 < argc)
			timeout_ms = atol(argv[++i]) * 1000;
		else
			die_usage("watch SPACE [--replay] [--count N] [--timeout SEC]");
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
	ret = mt_subscribe(fd, space, efd, 0, flags, &id);
	if (ret) {
		fprintf(stderr, "memtopoctl: watch: %s\n", strerror(-ret));
		return 1;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!json)
		printf("watching %s (subscription %u)\n", argv[1], id);
	while (count) {
		struct pollfd p = { .fd = efd, .events = POLLIN };
		uint64_t ticks;
		uint32_t n, pending;

		ret = poll(&p, 1, timeout_ms);
		if (ret == 0)
			break;
		if (ret < 0 || read(efd, &ticks, sizeof(ticks)) != sizeof(ticks))
			break;
		do {
			n = sizeof(ev) / sizeof(ev[0]);
			ret = mt_read_events(fd, id, ev, &n, &pending);
			if (ret) {
				fprintf(stderr, "memtopoctl: read events: %s\n", strerror(-ret));
				return 1;
			}
			nm.loaded = false;
			free(nm.regions);
			free(nm.spaces);
			nm.regions = NULL;
			nm.spaces = NULL;
			names_load(fd, &nm);
			for (i = 0; i < (int)n && count; i++) {
				struct memtopo_event *e = &ev[i];

				if (json) {
					printf("{\"seq\": %" PRIu64 ", \"generation\": %" PRIu64 ", \"type\": \"%s\"",
					       (uint64_t)e->seq, (uint64_t)e->generation,
					       mt_event_name(e->type));
					if (e->type <= MEMTOPO_EVENT_LOG_STOP) {
						printf(", \"start\": %" PRIu64 ", \"last\": %" PRIu64 ", \"region\": %u, \"name\": ",
						       (uint64_t)e->start, (uint64_t)e->last, e->region);
						mt_json_str(region_name(&nm, e->region));
						printf(", \"offset\": %" PRIu64, (uint64_t)e->offset);
					}
					printf("}\n");
				} else if (e->type <= MEMTOPO_EVENT_LOG_STOP) {
					printf("%6" PRIu64 " gen %-4" PRIu64 " %-10s %016" PRIx64 "-%016" PRIx64 " %s @%" PRIx64 "%s\n",
					       (uint64_t)e->seq, (uint64_t)e->generation,
					       mt_event_name(e->type), (uint64_t)e->start,
					       (uint64_t)e->last, region_name(&nm, e->region),
					       (uint64_t)e->offset,
					       e->range_flags & MEMTOPO_RANGE_READONLY ? " readonly" : "");
				} else {
					printf("%6" PRIu64 " gen %-4" PRIu64 " %s\n", (uint64_t)e->seq,
					       (uint64_t)e->generation, mt_event_name(e->type));
				}
				if (e->type == MEMTOPO_EVENT_OVERFLOW)
					print_flat_resync(fd, space);
				if (e->type == MEMTOPO_EVENT_COMMIT && count > 0)
					count--;
			}
		} while (pending && count);
	}
	return 0;
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	size_t n = 0, cap = 65536;
	char *buf;

	if (!f)
		return NULL;
	buf = malloc(cap + 1);
	while (buf) {
		size_t got = fread(buf + n, 1, cap - n, f);

		n += got;
		if (n < cap)
			break;
		cap *= 2;
		buf = realloc(buf, cap + 1);
	}
	fclose(f);
	if (buf)
		buf[n] = '\0';
	return buf;
}

static int cmd_diff_flat(int argc, char **argv)
{
	int fd = open_ctx(true), ret, bad;
	char *expected, *actual;

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
	if (json) {
		printf("{\"file\": ");
		mt_json_str(argv[1]);
		printf(", \"spaces\": [");
		bad = mt_diff_flat(expected, actual, false, true);
		printf("], \"identical\": %s}\n", jbool(!bad));
	} else {
		bad = mt_diff_flat(expected, actual, argc > 2 && !strcmp(argv[2], "-v"), false);
		printf("%s: %s\n", argv[1], bad ? "DIFFERENT" : "identical");
	}
	return bad ? 1 : 0;
}

static int cmd_import(int argc, char **argv)
{
	const char *file = NULL, *hints = NULL;
	bool dry = false;
	int i, fd, ret, nops = 0;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--hints") && i + 1 < argc)
			hints = argv[++i];
		else if (!strcmp(argv[i], "--dry-run"))
			dry = true;
		else if (!file)
			file = argv[i];
		else
			die_usage("import-mtree FILE [--hints FILE] [--dry-run]");
	}
	if (!file)
		die_usage("import-mtree FILE [--hints FILE] [--dry-run]");
	fd = dry ? -1 : open_ctx(true);
	ret = mt_import_mtree(fd, file, hints, dry, json, &nops);
	if (ret)
		return 1;
	if (dry)
		return 0;
	if (json) {
		printf("{\"file\": ");
		mt_json_str(file);
		printf(", \"context\": ");
		mt_json_str(ctx_name);
		printf(", \"operations\": %d}\n", nops);
	} else {
		printf("imported %s into \"%s\" (%d operations)\n", file, ctx_name, nops);
	}
	return 0;
}

static int cmd_destroy(void)
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

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "context", required_argument, NULL, 'c' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	const char *cmd;
	int c;

	/* options only before the command: its own arguments may start with '-' */
	while ((c = getopt_long(argc, argv, "+c:jh", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			ctx_name = optarg;
			break;
		case 'j':
			json = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	argc -= optind;
	argv += optind;
	if (!argc) {
		usage(stderr);
		return 2;
	}
	cmd = argv[0];
	if (!strcmp(cmd, "info"))
		return cmd_info();
	if (!strcmp(cmd, "show"))
		return cmd_show(argc, argv);
	if (!strcmp(cmd, "flat"))
		return cmd_flat(argc, argv);
	if (!strcmp(cmd, "lookup"))
		return cmd_lookup(argc, argv);
	if (!strcmp(cmd, "watch"))
		return cmd_watch(argc, argv);
	if (!strcmp(cmd, "read"))
		return cmd_read(argc, argv);
	if (!strcmp(cmd, "write"))
		return cmd_write(argc, argv);
	if (!strcmp(cmd, "script")) {
		if (argc != 2)
			die_usage("script FILE|-");
		return cmd_script(argv[1]);
	}
	if (!strcmp(cmd, "import-mtree"))
		return cmd_import(argc, argv);
	if (!strcmp(cmd, "diff-flat"))
		return cmd_diff_flat(argc, argv);
	if (!strcmp(cmd, "destroy"))
		return cmd_destroy();
	if (!strcmp(cmd, "help"))
		return usage(stdout), 0;
	return cmd_single_op(argc, argv);
}
