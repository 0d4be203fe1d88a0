/* SPDX-License-Identifier: GPL-2.0 */
/*
 * memtopoctl internals shared between its source files.
 *
 * Layout (bpftool's): main.c parses the options and picks the command from
 * the command families' tables; each family lives in one file with its
 * handlers and its table:
 *   map.c     commands that change the map (one operation each; `script`
 *             batches them), import-mtree
 *   show.c    commands that look: info, show, flat, lookup, watch, diff-flat
 *   access.c  read, write (MEMTOPO_SPACE_RW)
 *   serve.c   serve (MEMTOPO_SERVE: a device model answering a region)
 *   discard.c discard (MEMTOPO_DISCARD: a RAM region's discard manager)
 *   mmio.c    ioeventfd, coalesced: a region's registrations
 *   dirty.c   dirty: logs, marking, global logging by reason
 *   txn.c     txn: a script of commands in one transaction
 *   iommu.c   iommu map|unmap|show (an IOMMU region's table)
 *   resync.c  diff-flat between generations, watch's resync (MEMTOPO_GET_FLAT_DIFF)
 *   main.c    destroy, help
 * common.c holds what several families need (numbers, names, the context),
 * json.c the --json writer; libmemtopo.c is the ioctl library the
 * selftests share.  To add a command, add its handler and a line to its
 * family's table, and its usage to main.c and memtopoctl.8.
 */
#ifndef MEMTOPOCTL_H
#define MEMTOPOCTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "libmemtopo.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/*
 * One command: @func gets the command word in argv[0] and its arguments
 * after it; it returns the exit status (0 success, 1 the kernel refused,
 * 2 usage).  Tables end with an empty entry.
 */
struct cmd {
	const char *name;
	int (*func)(int argc, char **argv);
};

extern const struct cmd map_cmds[];
extern const struct cmd show_cmds[];
extern const struct cmd access_cmds[];
extern const struct cmd serve_cmds[];
extern const struct cmd discard_cmds[];
extern const struct cmd mmio_cmds[];
extern const struct cmd dirty_cmds[];
extern const struct cmd txn_cmds[];

/* main.c: the command of that name in any family's table, or NULL */
const struct cmd *cmd_find(const char *name);
extern const struct cmd iommu_cmds[];

/* The map-changing commands (map.c): whatever no table names. */
int do_op(int argc, char **argv);

/* main.c: the options and the usage. */
extern bool json_output;
extern const char *ctx_name;
void print_usage(FILE *out);

/* common.c */
void die_usage(const char *msg);
/*
 * The kernel refused "CMD SUB" (@sub may be NULL) with @err; @why, if not
 * NULL, says why in the uapi's words.  Returns the exit status, 1.
 */
int refused(const char *cmd, const char *sub, int err, const char *why);
/*
 * A file attached to the context (exits on failure); while txn_fd is not
 * -1, a duplicate of it, the file that holds `txn`'s transaction.
 */
extern int txn_fd;
int open_ctx(bool create);
int parse_u64(const char *s, __u64 *v, bool *is_2_64);
int parse_s32(const char *s, __s32 *v);
int tokenize(char *line, char **argv, int max);

/*
 * A script of commands, a line each (script, txn): a file, or "-" for
 * stdin.  script_open() reports a file it cannot open and returns 1;
 * script_next() splits the next line that has words into @words and
 * returns how many, 0 at the end, -1 for a line it cannot split (reported
 * as PATH:LINE); script_close() closes what script_open() opened.
 */
struct script {
	const char *path;
	FILE *f;
	int lineno;
	char line[4096];
	char *words[16];
};

int script_open(struct script *s, const char *path);
int script_next(struct script *s);
void script_close(struct script *s);
char *slurp(const char *path);

/*
 * Regions and spaces by name or #ID.  The context's lists are read on
 * first need; names created earlier in the same batch resolve to their
 * batch reference (remember()).
 */
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

void names_load(int fd, struct names *nm);
void names_reload(int fd, struct names *nm);
const char *region_name(struct names *nm, __u32 id);
int resolve(int fd, struct names *nm, const char *s, bool space, __u32 *id, char *err,
	    size_t errlen);
void remember(struct names *nm, const char *name, __u32 ref, bool space);

/*
 * A command's positional arguments, one table entry per word, in order;
 * the table ends with an entry without a name.  @name is the word's name
 * in the usage; @out is a __u32 * for a region or space (name or #ID), a
 * __u64 * for a number (parse_u64(), suffixes K, M, G, T).
 */
enum arg_kind { ARG_REGION, ARG_SPACE, ARG_U64 };

struct arg {
	const char *name;
	enum arg_kind kind;
	void *out;
};

/*
 * parse_args() - @argv's words against @args (the caller checked the
 * count).  A bad number is a usage error ("CMD: bad NAME", exit status 2);
 * a name that does not resolve is reported and returns 1; 0 when all
 * parsed.
 */
int parse_args(int fd, struct names *nm, const char *cmd, char **argv,
	       const struct arg *args);

/* json.c: --json values built a field at a time, commas placed by nesting depth. */
void jopen(char c);
void jclose(char c);
/* Before each element of an array opened with jopen('['). */
void jelem(void);
void jkey(const char *key);
void jnum(const char *key, unsigned long long v);
void jint(const char *key, long long v);
void jstr(const char *key, const char *v);
void jflag(const char *key, unsigned int v);
/* Print @s as a JSON string (quoted, escaped) on stdout. */
void mt_json_str(const char *s);

/* mtree_import.c, flat_diff.c */
int mt_import_mtree(int fd, const char *path, const char *hints, bool dry_run, bool json,
		    int *nops);
int mt_diff_flat(const char *expected_text, const char *actual_text, bool verbose, bool json);
/* resync.c: diff-flat SPACE --from GEN [--to GEN], and watch's resync */
int mt_diff_generations(int argc, char **argv);
int mt_watch_resync_diff(int fd, __u32 space, __u64 *have);
void mt_json_resync_begin(void);
void mt_json_resync_end(void);

#endif
