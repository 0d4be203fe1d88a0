// SPDX-License-Identifier: GPL-2.0
/*
 * Commands that change the map.  Each map-changing command turns into one
 * operation (op_cmds[]): alone it is applied as one transaction, `script`
 * applies a file of them as one batch.  import-mtree builds its batch from
 * QEMU's text (mtree_import.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "memtopoctl.h"

/* Where an operation is being parsed; the parsers leave their message in @err. */
struct op_parse {
	int fd;
	struct names *nm;
	__u32 index;		/* the operation's position in its batch */
	char *err;
	size_t errlen;
};

static int perr(struct op_parse *p, int ret, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(p->err, p->errlen, fmt, ap);
	va_end(ap);
	return ret;
}

/* Between @min and @max words (the command included). */
static int nargs(struct op_parse *p, int argc, char **argv, int min, int max)
{
	if (argc < min)
		return perr(p, -EINVAL, "%s: missing arguments", argv[0]);
	if (argc > max)
		return perr(p, -EINVAL, "%s: too many arguments", argv[0]);
	return 0;
}

static int copy_name(struct op_parse *p, char *dst, const char *src)
{
	if (strlen(src) >= MEMTOPO_NAME_LEN)
		return perr(p, -EINVAL, "name \"%s\" is longer than %d bytes", src,
			    MEMTOPO_NAME_LEN - 1);
	strcpy(dst, src);
	return 0;
}

static int num(struct op_parse *p, const char *what, const char *s, __u64 *v, bool *is_2_64)
{
	if (parse_u64(s, v, is_2_64))
		return perr(p, -EINVAL, "bad %s \"%s\"", what, s);
	return 0;
}

/* A size, 2^64 included. */
static int size(struct op_parse *p, const char *s, struct memtopo_op *op)
{
	bool big;
	int ret = num(p, "size", s, &op->length, &big);

	if (big)
		op->flags |= MEMTOPO_OP_F_SIZE_2_64;
	return ret;
}

static int prio(struct op_parse *p, const char *s, __s32 *v)
{
	if (parse_s32(s, v))
		return perr(p, -EINVAL, "bad priority \"%s\"", s);
	return 0;
}

static int region(struct op_parse *p, const char *s, __u32 *id)
{
	return resolve(p->fd, p->nm, s, false, id, p->err, p->errlen);
}

static int space(struct op_parse *p, const char *s, __u32 *id)
{
	return resolve(p->fd, p->nm, s, true, id, p->err, p->errlen);
}

/*
 * kernel=FILE: the initial contents of kernel-owned RAM, zero-padded to the
 * region's size.  The buffer lives until the process exits (a script's
 * batch is applied after every line is parsed).
 */
static int load_image(struct op_parse *p, const char *path, struct memtopo_op *op)
{
	FILE *f;
	char *buf;
	size_t got;

	/* the kernel refuses these anyway: let it say why */
	if ((op->flags & MEMTOPO_OP_F_SIZE_2_64) || !op->length || op->length > SIZE_MAX / 2)
		return 0;
	f = fopen(path, "rb");
	if (!f)
		return perr(p, -EINVAL, "%s: %s", path, strerror(errno));
	buf = calloc(1, op->length + 1);
	if (!buf)
		exit(2);
	got = fread(buf, 1, op->length + 1, f);
	if (ferror(f) || got > op->length) {
		perr(p, -EINVAL, "%s: %s", path,
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
 * memfd: a new memfd of the region's size.  The kernel keeps its own
 * reference to the file, so the RAM outlives this process; the fd stays
 * open until exit (a script's batch is applied after every line is parsed).
 */
static int backing_memfd(struct op_parse *p, const char *name, struct memtopo_op *op)
{
	int fd;

	/* the kernel refuses these anyway: let it say why */
	if ((op->flags & MEMTOPO_OP_F_SIZE_2_64) || !op->length)
		return 0;
	fd = memfd_create(name, MFD_CLOEXEC);
	if (fd < 0)
		return perr(p, -EINVAL, "memfd_create: %s", strerror(errno));
	if (ftruncate(fd, op->length)) {
		int ret = perr(p, -EINVAL, "memfd of %llu bytes: %s",
			       (unsigned long long)op->length, strerror(errno));

		close(fd);
		return ret;
	}
	op->backing_fd = fd;
	return 0;
}

/*
 * file=PATH[:OFFSET]: the region's bytes are the file's from OFFSET.  A
 * suffix that is not a number is part of the path.  RAM needs the file
 * writable; a file only readable is passed as it is and the kernel says
 * EACCES for RAM, nothing for a ROM.
 */
static int backing_file(struct op_parse *p, const char *arg, struct memtopo_op *op)
{
	char path[4096];
	char *colon;
	int fd;

	if (strlen(arg) >= sizeof(path))
		return perr(p, -EINVAL, "file name too long");
	strcpy(path, arg);
	colon = strrchr(path, ':');
	if (colon && colon != path && !parse_u64(colon + 1, &op->backing_offset, NULL))
		*colon = 0;
	else
		op->backing_offset = 0;
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0 && (errno == EACCES || errno == EROFS || errno == EISDIR))
		fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return perr(p, -EINVAL, "%s: %s", path, strerror(errno));
	op->backing_fd = fd;
	return 0;
}

/*
 * process: fresh anonymous memory of this process.  Only for as long as
 * memtopoctl runs: once it exits, accesses fail with ESRCH (the kernel's
 * documented rule for an owner that is gone).  Shows that rule; a VMM
 * passes its own memory through the library instead.
 */
static int backing_process(struct op_parse *p, struct memtopo_op *op)
{
	void *mem;

	if ((op->flags & MEMTOPO_OP_F_SIZE_2_64) || !op->length || op->length > SIZE_MAX / 2)
		return 0;
	mem = mmap(NULL, op->length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		return perr(p, -EINVAL, "%llu bytes of memory: %s",
			    (unsigned long long)op->length, strerror(errno));
	op->value = (uintptr_t)mem;
	return 0;
}

/* The last word of create-region: where the RAM is. */
static int parse_backing(struct op_parse *p, const char *opt, const char *name,
			 struct memtopo_op *op)
{
	int ret = 0;

	if (!strcmp(opt, "kernel") || !strncmp(opt, "kernel=", 7)) {
		op->flags |= MEMTOPO_OP_F_KERNEL_BACKING;
		if (opt[6] == '=')
			ret = load_image(p, opt + 7, op);
	} else if (!strncmp(opt, "uaddr=", 6)) {
		ret = num(p, "uaddr", opt + 6, &op->value, NULL);
	} else if (!strcmp(opt, "memfd")) {
		op->flags |= MEMTOPO_OP_F_FILE_BACKING;
		ret = backing_memfd(p, name, op);
	} else if (!strncmp(opt, "file=", 5) && opt[5]) {
		op->flags |= MEMTOPO_OP_F_FILE_BACKING;
		ret = backing_file(p, opt + 5, op);
	} else if (!strcmp(opt, "process")) {
		op->flags |= MEMTOPO_OP_F_PROCESS_BACKING;
		ret = backing_process(p, op);
	} else {
		ret = perr(p, -EINVAL, "unknown option \"%s\"", opt);
	}
	return ret;
}

/*
 * create-region KIND NAME SIZE
 *	[uaddr=ADDR|kernel|kernel=FILE|memfd|file=PATH[:OFFSET]|process]
 */
static int parse_create_region(struct op_parse *p, int argc, char **argv,
			       struct memtopo_op *op)
{
	int kind = mt_kind_parse(argv[1]), ret;

	if (kind < 0 || kind == MEMTOPO_KIND_ALIAS)
		return perr(p, -EINVAL, "unknown region kind \"%s\"", argv[1]);
	mt_op_init(op, MEMTOPO_OP_REGION_CREATE);
	op->kind = kind;
	ret = copy_name(p, op->name, argv[2]);
	if (!ret)
		ret = size(p, argv[3], op);
	if (!ret && argc == 5)
		ret = parse_backing(p, argv[4], argv[2], op);
	if (ret)
		return ret;
	remember(p->nm, argv[2], MEMTOPO_ID_BATCH_REF | p->index, false);
	return 0;
}

/* create-alias NAME TARGET OFFSET SIZE */
static int parse_create_alias(struct op_parse *p, int argc, char **argv,
			      struct memtopo_op *op)
{
	int ret;

	mt_op_init(op, MEMTOPO_OP_REGION_CREATE);
	op->kind = MEMTOPO_KIND_ALIAS;
	ret = copy_name(p, op->name, argv[1]);
	if (!ret)
		ret = region(p, argv[2], &op->ref);
	if (!ret)
		ret = num(p, "offset", argv[3], &op->addr, NULL);
	if (!ret)
		ret = size(p, argv[4], op);
	if (ret)
		return ret;
	remember(p->nm, argv[1], MEMTOPO_ID_BATCH_REF | p->index, false);
	return 0;
}

/* destroy-region REGION */
static int parse_destroy_region(struct op_parse *p, int argc, char **argv,
				struct memtopo_op *op)
{
	mt_op_init(op, MEMTOPO_OP_REGION_DESTROY);
	return region(p, argv[1], &op->id);
}

/* add-subregion PARENT CHILD ADDR [PRIO] [overlap] */
static int parse_add_subregion(struct op_parse *p, int argc, char **argv,
			       struct memtopo_op *op)
{
	int i, ret;

	mt_op_init(op, MEMTOPO_OP_ADD_SUBREGION);
	ret = region(p, argv[1], &op->ref);
	if (!ret)
		ret = region(p, argv[2], &op->id);
	if (!ret)
		ret = num(p, "address", argv[3], &op->addr, NULL);
	for (i = 4; !ret && i < argc; i++) {
		if (!strcmp(argv[i], "overlap"))
			op->flags |= MEMTOPO_OP_F_MAY_OVERLAP;
		else
			ret = prio(p, argv[i], &op->priority);
	}
	return ret;
}

/* del-subregion CHILD [PARENT] */
static int parse_del_subregion(struct op_parse *p, int argc, char **argv,
			       struct memtopo_op *op)
{
	int ret;

	mt_op_init(op, MEMTOPO_OP_DEL_SUBREGION);
	ret = region(p, argv[1], &op->id);
	if (!ret && argc == 3)
		ret = region(p, argv[2], &op->ref);
	return ret;
}

/* set REGION ATTRIBUTE VALUE, set REGION dirty-log CLIENT 0|1 */
static int parse_set(struct op_parse *p, int argc, char **argv, struct memtopo_op *op)
{
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
	int ret;

	for (i = 0; i < ARRAY_SIZE(attrs); i++)
		if (!strcmp(argv[2], attrs[i].name))
			break;
	if (i == ARRAY_SIZE(attrs))
		return perr(p, -EINVAL, "unknown attribute \"%s\"", argv[2]);
	mt_op_init(op, attrs[i].code);
	ret = region(p, argv[1], &op->id);
	if (ret)
		return ret;
	if (attrs[i].code == MEMTOPO_OP_SET_DIRTY_LOG) {
		ret = nargs(p, argc, argv, 5, 5);
		if (!ret)
			ret = num(p, "client", argv[3], &v, NULL);
		if (ret)
			return ret;
		op->kind = v;
		return num(p, "value", argv[4], &op->value, NULL);
	}
	ret = nargs(p, argc, argv, 4, 4);
	if (ret)
		return ret;
	switch (attrs[i].code) {
	case MEMTOPO_OP_SET_ADDRESS:
	case MEMTOPO_OP_SET_ALIAS_OFFSET:
		return num(p, "address", argv[3], &op->addr, NULL);
	case MEMTOPO_OP_SET_SIZE:
		return size(p, argv[3], op);
	case MEMTOPO_OP_SET_PRIORITY:
		return prio(p, argv[3], &op->priority);
	default:
		return num(p, "value", argv[3], &op->value, NULL);
	}
}

/* create-space NAME ROOT */
static int parse_create_space(struct op_parse *p, int argc, char **argv,
			      struct memtopo_op *op)
{
	int ret;

	mt_op_init(op, MEMTOPO_OP_SPACE_CREATE);
	ret = copy_name(p, op->name, argv[1]);
	if (!ret)
		ret = region(p, argv[2], &op->ref);
	if (!ret)
		remember(p->nm, argv[1], MEMTOPO_ID_BATCH_REF | p->index, true);
	return ret;
}

/* destroy-space SPACE */
static int parse_destroy_space(struct op_parse *p, int argc, char **argv,
			       struct memtopo_op *op)
{
	mt_op_init(op, MEMTOPO_OP_SPACE_DESTROY);
	return space(p, argv[1], &op->id);
}

/* The map-changing commands: what a single command or a script line may be. */
static const struct op_cmd {
	const char *name;
	int min_words, max_words;	/* the command word included */
	int (*parse)(struct op_parse *p, int argc, char **argv, struct memtopo_op *op);
} op_cmds[] = {
	{ "create-region",	4, 5, parse_create_region },
	{ "create-alias",	5, 5, parse_create_alias },
	{ "destroy-region",	2, 2, parse_destroy_region },
	{ "add-subregion",	4, 6, parse_add_subregion },
	{ "map",		4, 6, parse_add_subregion },
	{ "del-subregion",	2, 3, parse_del_subregion },
	{ "unmap",		2, 3, parse_del_subregion },
	{ "set",		4, 5, parse_set },
	{ "create-space",	3, 3, parse_create_space },
	{ "destroy-space",	2, 2, parse_destroy_space },
};

static const struct op_cmd *op_cmd_find(const char *name)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(op_cmds); i++)
		if (!strcmp(op_cmds[i].name, name))
			return &op_cmds[i];
	return NULL;
}

/*
 * Turn one command into an operation.  Returns 1 if @argv is not a
 * map-changing command, -errno with the message in p->err if it is a
 * bad one (-ENOENT: a name that does not exist).
 */
static int parse_op(struct op_parse *p, int argc, char **argv, struct memtopo_op *op)
{
	const struct op_cmd *c = op_cmd_find(argv[0]);
	int ret;

	if (!c)
		return 1;
	ret = nargs(p, argc, argv, c->min_words, c->max_words);
	return ret ? ret : c->parse(p, argc, argv, op);
}

/* One map-changing command, or an unknown one: any command no table names. */
int do_op(int argc, char **argv)
{
	struct names nm = {};
	struct memtopo_op op;
	char err[256];
	struct op_parse p = { .nm = &nm, .err = err, .errlen = sizeof(err) };
	int ret;

	if (!op_cmd_find(argv[0])) {
		fprintf(stderr, "memtopoctl: unknown command \"%s\" (see --help)\n", argv[0]);
		return 2;
	}
	p.fd = open_ctx(true);
	ret = parse_op(&p, argc, argv, &op);
	if (ret) {
		fprintf(stderr, "memtopoctl: %s\n", err);
		return ret == -ENOENT ? 1 : 2;
	}
	ret = mt_op(p.fd, &op);
	if (ret) {
		fprintf(stderr, "memtopoctl: %s: %s\n", argv[0], strerror(-ret));
		return 1;
	}
	if (op.op == MEMTOPO_OP_REGION_CREATE || op.op == MEMTOPO_OP_SPACE_CREATE) {
		bool backed = op.backing_id != 0;

		if (json_output && backed)
			printf("{\"id\": %u, \"backing_id\": %llu, \"backing_offset\": %llu}\n",
			       op.id, (unsigned long long)op.backing_id,
			       (unsigned long long)op.backing_offset);
		else if (json_output)
			printf("{\"id\": %u}\n", op.id);
		else if (backed)
			printf("region #%u backing #%llu offset 0x%llx\n", op.id,
			       (unsigned long long)op.backing_id,
			       (unsigned long long)op.backing_offset);
		else
			printf("%s #%u\n", op.op == MEMTOPO_OP_REGION_CREATE ? "region" : "space",
			       op.id);
	}
	return 0;
}

static int do_script(int argc, char **argv)
{
	const char *path = argv[1];
	struct memtopo_op *ops = NULL;
	int *lines = NULL, n = 0, cap = 0, nwords, ret;
	struct names nm = {};
	char err[256];
	struct op_parse p = { .nm = &nm, .err = err, .errlen = sizeof(err) };
	struct script sc;
	__u32 err_index;

	if (argc != 2)
		die_usage("script FILE|-");
	if (script_open(&sc, path))
		return 1;
	p.fd = open_ctx(true);
	while ((nwords = script_next(&sc)) > 0) {
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			ops = realloc(ops, cap * sizeof(*ops));
			lines = realloc(lines, cap * sizeof(*lines));
			if (!ops || !lines)
				return 2;
		}
		p.index = n;
		ret = parse_op(&p, nwords, sc.words, &ops[n]);
		if (ret) {
			fprintf(stderr, "%s:%d: %s\n", path, sc.lineno,
				ret > 0 ? "not a command that changes the map" : err);
			return 2;
		}
		lines[n++] = sc.lineno;
	}
	script_close(&sc);
	if (nwords < 0)
		return 2;
	ret = mt_batch(p.fd, ops, n, &err_index);
	if (ret) {
		if (err_index < (__u32)n)
			fprintf(stderr, "%s:%d: %s (nothing was applied)\n", path,
				lines[err_index], strerror(-ret));
		else
			fprintf(stderr, "%s: commit: %s (nothing was applied)\n", path,
				strerror(-ret));
		return 1;
	}
	if (json_output)
		printf("{\"operations\": %d}\n", n);
	else
		printf("applied %d operations\n", n);
	return 0;
}

static int do_import(int argc, char **argv)
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
	ret = mt_import_mtree(fd, file, hints, dry, json_output, &nops);
	if (ret)
		return 1;
	if (dry)
		return 0;
	if (json_output) {
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

/* Besides the single operations (do_op). */
const struct cmd map_cmds[] = {
	{ "script",		do_script },
	{ "import-mtree",	do_import },
	{}
};
