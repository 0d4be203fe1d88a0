// SPDX-License-Identifier: GPL-2.0
/*
 * memtopoctl: command-line front end of /dev/memtopo.  It works on a named
 * context (-c NAME, "default" if not given) created on first use, so
 * separate invocations build one machine map; "destroy" drops it.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
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

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static bool json;
static const char *ctx_name = "default";

static const char usage_text[] =
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
"Exit status: 0 success, 1 the kernel refused (the reason is printed), 2 usage.\n";

static void print_usage(FILE *out)
{
	fputs(usage_text, out);
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
	static const char suffixes[] = "KMGT";
	unsigned long long x;
	const char *p;
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
	p = strchr(suffixes, toupper((unsigned char)*end));
	if (*end && p) {
		int shift = 10 * (p - suffixes + 1);

		if (x > ULLONG_MAX >> shift)
			return -ERANGE;
		x <<= shift;
		end++;
	}
	if (*end)
		return -EINVAL;
	*v = x;
	return 0;
}

static int parse_s32(const char *s, __s32 *v)
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
	__u32 nregions;
	struct memtopo_space_desc *spaces;
	__u32 nspaces;
	bool loaded;
	/* names created earlier in this batch */
	struct {
		char *name;
		__u32 ref;
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

static const char *region_name(struct names *nm, __u32 id)
{
	__u32 i;

	for (i = 0; i < nm->nregions; i++)
		if (nm->regions[i].id == id)
			return nm->regions[i].name;
	return "?";
}

static int resolve(int fd, struct names *nm, const char *s, bool space, __u32 *id,
		   char *err, size_t errlen)
{
	__u32 i, found = 0, n;
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

static void remember(struct names *nm, const char *name, __u32 ref, bool space)
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

/* Between @min and @max words (the command included); 0 or -EINVAL with @err set. */
static int nargs(int argc, char **argv, int min, int max, char *err, size_t errlen)
{
	if (argc < min)
		snprintf(err, errlen, "%s: missing arguments", argv[0]);
	else if (argc > max)
		snprintf(err, errlen, "%s: too many arguments", argv[0]);
	else
		return 0;
	return -EINVAL;
}

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
static int parse_op(int fd, struct names *nm, int argc, char **argv, __u32 index,
		    struct memtopo_op *op, char *err, size_t errlen)
{
	const char *cmd = argv[0];
	bool big;
	int ret;

	if (!strcmp(cmd, "create-region")) {
		int kind;

		ret = nargs(argc, argv, 4, 5, err, errlen);
		if (ret)
			return ret;
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
		ret = nargs(argc, argv, 5, 5, err, errlen);
		if (ret)
			return ret;
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
		ret = nargs(argc, argv, 2, 2, err, errlen);
		if (ret)
			return ret;
		mt_op_init(op, MEMTOPO_OP_REGION_DESTROY);
		return resolve(fd, nm, argv[1], false, &op->id, err, errlen);
	}
	if (!strcmp(cmd, "add-subregion") || !strcmp(cmd, "map")) {
		int i;

		ret = nargs(argc, argv, 4, 6, err, errlen);
		if (ret)
			return ret;
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
		ret = nargs(argc, argv, 2, 3, err, errlen);
		if (ret)
			return ret;
		mt_op_init(op, MEMTOPO_OP_DEL_SUBREGION);
		ret = resolve(fd, nm, argv[1], false, &op->id, err, errlen);
		if (!ret && argc == 3)
			ret = resolve(fd, nm, argv[2], false, &op->ref, err, errlen);
		return ret;
	}
	if (!strcmp(cmd, "set")) {
		static const struct {
			const char *name;
			__u32 code;
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

		ret = nargs(argc, argv, 4, 5, err, errlen);
		if (ret)
			return ret;
		for (i = 0; i < ARRAY_SIZE(attrs); i++)
			if (!strcmp(argv[2], attrs[i].name))
				break;
		if (i == ARRAY_SIZE(attrs)) {
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
			ret = nargs(argc, argv, 4, 4, err, errlen);
			if (ret)
				return ret;
			return num("address", argv[3], &op->addr, NULL, err, errlen);
		case MEMTOPO_OP_SET_SIZE:
			ret = nargs(argc, argv, 4, 4, err, errlen);
			if (ret)
				return ret;
			ret = num("size", argv[3], &op->length, &big, err, errlen);
			if (big)
				op->flags |= MEMTOPO_OP_F_SIZE_2_64;
			return ret;
		case MEMTOPO_OP_SET_PRIORITY:
			ret = nargs(argc, argv, 4, 4, err, errlen);
			if (ret)
				return ret;
			if (parse_s32(argv[3], &op->priority)) {
				snprintf(err, errlen, "bad priority \"%s\"", argv[3]);
				return -EINVAL;
			}
			return 0;
		case MEMTOPO_OP_SET_DIRTY_LOG:
			ret = nargs(argc, argv, 5, 5, err, errlen);
			if (ret)
				return ret;
			ret = num("client", argv[3], &v, NULL, err, errlen);
			if (ret)
				return ret;
			op->kind = v;
			return num("value", argv[4], &op->value, NULL, err, errlen);
		default:
			ret = nargs(argc, argv, 4, 4, err, errlen);
			if (ret)
				return ret;
			return num("value", argv[3], &op->value, NULL, err, errlen);
		}
	}
	if (!strcmp(cmd, "create-space")) {
		ret = nargs(argc, argv, 3, 3, err, errlen);
		if (ret)
			return ret;
		mt_op_init(op, MEMTOPO_OP_SPACE_CREATE);
		ret = copy_name(op->name, argv[1], err, errlen);
		if (!ret)
			ret = resolve(fd, nm, argv[2], false, &op->ref, err, errlen);
		if (!ret)
			remember(nm, argv[1], MEMTOPO_ID_BATCH_REF | index, true);
		return ret;
	}
	if (!strcmp(cmd, "destroy-space")) {
		ret = nargs(argc, argv, 2, 2, err, errlen);
		if (ret)
			return ret;
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
	__u32 err_index;

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
		if (err_index < (__u32)n)
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

/* --json: values built a field at a time, commas placed by nesting depth. */
static bool jmore[16];
static int jdepth;

static void jopen(char c)
{
	putchar(c);
	jmore[++jdepth] = false;
}

static void jclose(char c)
{
	putchar(c);
	jdepth--;
}

/* Before each element of an array opened with jopen('['). */
static void jelem(void)
{
	if (jmore[jdepth])
		fputs(", ", stdout);
	jmore[jdepth] = true;
}

static void jkey(const char *key)
{
	jelem();
	printf("\"%s\": ", key);
}

static void jnum(const char *key, unsigned long long v)
{
	jkey(key);
	printf("%llu", v);
}

static void jint(const char *key, long long v)
{
	jkey(key);
	printf("%lld", v);
}

static void jstr(const char *key, const char *v)
{
	jkey(key);
	mt_json_str(v);
}

static void jflag(const char *key, unsigned int v)
{
	jkey(key);
	fputs(v ? "true" : "false", stdout);
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

static int cmd_info(void)
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

		if (json)
			jopen('{');
		for (i = 0; i < ARRAY_SIZE(f); i++) {
			if (json)
				jnum(f[i].name, f[i].value);
			else
				printf("%s %u\n", f[i].name, f[i].value);
		}
		if (json) {
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
	jclose('}');
}

static void text_region(const struct memtopo_region_desc *d)
{
	printf("#%-5u %-11s %-24s parent #%-5u addr 0x%016llx size %s0x%llx prio %d",
	       d->id, mt_kind_name(d->kind), d->name, d->parent, d->addr,
	       d->flags & MEMTOPO_REGION_SIZE_2_64 ? "2^64 " : "", d->length, d->priority);
	printf("%s%s%s", d->flags & MEMTOPO_REGION_ENABLED ? "" : " disabled",
	       d->flags & MEMTOPO_REGION_READONLY ? " readonly" : "",
	       d->flags & MEMTOPO_REGION_KERNEL_BACKING ? " kernel-backed" : "");
	if (d->alias)
		printf(" -> #%u @0x%llx", d->alias, d->alias_offset);
	printf("\n");
}

static int cmd_show(int argc, char **argv)
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
		if (json) {
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
	if (json)
		jopen('[');
	for (i = 0; !strcmp(argv[1], "regions") && i < nm.nregions; i++) {
		if (!json) {
			text_region(&nm.regions[i]);
			continue;
		}
		jelem();
		json_region(&nm.regions[i]);
	}
	for (i = 0; !strcmp(argv[1], "spaces") && i < nm.nspaces; i++) {
		struct memtopo_space_desc *d = &nm.spaces[i];

		if (!json) {
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
	if (json) {
		jclose(']');
		putchar('\n');
	}
	return 0;
}

static void print_range(struct names *nm, const struct memtopo_range *r)
{
	if (!json) {
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

static int cmd_flat(int argc, char **argv)
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
	if (json) {
		jopen('{');
		jnum("generation", gen);
		jkey("ranges");
		jopen('[');
	} else {
		printf("generation %llu, %u ranges\n", gen, n);
	}
	for (i = 0; i < n; i++) {
		if (json)
			jelem();
		print_range(&nm, &r[i]);
	}
	if (json) {
		jclose(']');
		jclose('}');
		putchar('\n');
	}
	free(r);
	return 0;
}

static int cmd_lookup(int argc, char **argv)
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
		if (json)
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
	if (!json)
		printf("0x%llx: offset 0x%llx in ", addr, r.offset + (addr - r.start));
	print_range(&nm, &r);
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
		return "the kernel cannot access it (not its RAM, or no device callback)";
	case -EINVAL: return "access size or alignment refused";
	case -EOVERFLOW: return "the access passes 2^64";
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

static int cmd_read(int argc, char **argv)
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
	if (json) {
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

static int cmd_write(int argc, char **argv)
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

/* --json watch: one object a line */
static void json_event(struct names *nm, const struct memtopo_event *e)
{
	jopen('{');
	jnum("seq", e->seq);
	jnum("generation", e->generation);
	jstr("type", mt_event_name(e->type));
	if (e->type <= MEMTOPO_EVENT_LOG_STOP) {
		jnum("start", e->start);
		jnum("last", e->last);
		jnum("region", e->region);
		jstr("name", region_name(nm, e->region));
		jnum("offset", e->offset);
		jflag("readonly", e->range_flags & MEMTOPO_RANGE_READONLY);
		jflag("romd", e->range_flags & MEMTOPO_RANGE_ROMD);
		jnum("old_mask", e->old_mask);
		jnum("new_mask", e->new_mask);
	}
	jclose('}');
	putchar('\n');
}

static void text_event(struct names *nm, const struct memtopo_event *e)
{
	if (e->type > MEMTOPO_EVENT_LOG_STOP) {
		printf("%6llu gen %-4llu %s\n", e->seq, e->generation, mt_event_name(e->type));
		return;
	}
	printf("%6llu gen %-4llu %-10s %016llx-%016llx %s @%llx%s\n", e->seq, e->generation,
	       mt_event_name(e->type), e->start, e->last, region_name(nm, e->region), e->offset,
	       e->range_flags & MEMTOPO_RANGE_READONLY ? " readonly" : "");
}

static void print_flat_resync(int fd, __u32 space)
{
	struct memtopo_range *r;
	struct names nm = {};
	__u32 n, i;
	__u64 gen;

	names_load(fd, &nm);
	if (mt_get_flat(fd, space, &r, &n, &gen))
		return;
	if (json) {
		jopen('{');
		jkey("resync");
		jopen('{');
		jnum("generation", gen);
		jkey("ranges");
		jopen('[');
	} else {
		printf("resync generation %llu: %u ranges\n", gen, n);
	}
	for (i = 0; i < n; i++) {
		if (json)
			jelem();
		else
			printf("  ");
		print_range(&nm, &r[i]);
	}
	if (json) {
		jclose(']');
		jclose('}');
		jclose('}');
		putchar('\n');
	}
	free(r);
}

static int cmd_watch(int argc, char **argv)
{
	int fd = open_ctx(true), efd, ret, i;
	long count = -1, timeout_ms = -1;
	__u32 space, id, flags = 0;
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
			nm.loaded = false;
			free(nm.regions);
			free(nm.spaces);
			nm.regions = NULL;
			nm.spaces = NULL;
			names_load(fd, &nm);
			for (i = 0; i < (int)n && count; i++) {
				struct memtopo_event *e = &ev[i];

				if (json)
					json_event(&nm, e);
				else
					text_event(&nm, e);
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
		jopen('{');
		jstr("file", file);
		jstr("context", ctx_name);
		jnum("operations", nops);
		jclose('}');
		putchar('\n');
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
		return print_usage(stdout), 0;
	return cmd_single_op(argc, argv);
}
