// SPDX-License-Identifier: GPL-2.0
/*
 * What several command families need: the context, numbers, words and
 * region / space names.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "memtopoctl.h"

void die_usage(const char *msg)
{
	fprintf(stderr, "memtopoctl: %s\n(see memtopoctl --help)\n", msg);
	exit(2);
}

int refused(const char *cmd, const char *sub, int err, const char *why)
{
	fprintf(stderr, "memtopoctl: %s%s%s: %s%s%s\n", cmd, sub ? " " : "", sub ? sub : "",
		strerror(-err), why ? ": " : "", why ? why : "");
	return 1;
}

int txn_fd = -1;

int open_ctx(bool create)
{
	int fd, ret;

	/*
	 * Inside `txn` every command works on the transaction's own file: the
	 * kernel refuses another file's changes while it is open.
	 */
	if (txn_fd >= 0) {
		fd = fcntl(txn_fd, F_DUPFD_CLOEXEC, 0);
		if (fd < 0) {
			fprintf(stderr, "memtopoctl: /dev/memtopo: %s\n", strerror(errno));
			exit(1);
		}
		return fd;
	}
	fd = mt_open();
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

int parse_u64(const char *s, __u64 *v, bool *is_2_64)
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

int parse_s32(const char *s, __s32 *v)
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
int tokenize(char *line, char **argv, int max)
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

int script_open(struct script *s, const char *path)
{
	s->path = path;
	s->lineno = 0;
	s->f = strcmp(path, "-") ? fopen(path, "r") : stdin;
	if (!s->f) {
		fprintf(stderr, "memtopoctl: %s: %s\n", path, strerror(errno));
		return 1;
	}
	return 0;
}

int script_next(struct script *s)
{
	int n;

	while (fgets(s->line, sizeof(s->line), s->f)) {
		s->lineno++;
		n = tokenize(s->line, s->words, ARRAY_SIZE(s->words));
		if (n < 0) {
			fprintf(stderr, "%s:%d: cannot split the line\n", s->path, s->lineno);
			return -1;
		}
		if (n)
			return n;
	}
	return 0;
}

void script_close(struct script *s)
{
	if (s->f != stdin)
		fclose(s->f);
}

/* ---- name resolution ---- */

void names_load(int fd, struct names *nm)
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

/* The lists again (watch: regions come and go between events). */
void names_reload(int fd, struct names *nm)
{
	nm->loaded = false;
	free(nm->regions);
	free(nm->spaces);
	nm->regions = NULL;
	nm->spaces = NULL;
	names_load(fd, nm);
}

const char *region_name(struct names *nm, __u32 id)
{
	__u32 i;

	for (i = 0; i < nm->nregions; i++)
		if (nm->regions[i].id == id)
			return nm->regions[i].name;
	return "?";
}

int resolve(int fd, struct names *nm, const char *s, bool space, __u32 *id, char *err,
	    size_t errlen)
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

void remember(struct names *nm, const char *name, __u32 ref, bool space)
{
	nm->local = realloc(nm->local, (nm->nlocal + 1) * sizeof(*nm->local));
	if (!nm->local)
		exit(2);
	nm->local[nm->nlocal].name = strdup(name);
	nm->local[nm->nlocal].ref = ref;
	nm->local[nm->nlocal].space = space;
	nm->nlocal++;
}

int parse_args(int fd, struct names *nm, const char *cmd, char **argv,
	       const struct arg *args)
{
	const struct arg *a;
	char err[256];

	for (a = args; a->name; a++, argv++) {
		if (a->kind == ARG_U64) {
			if (parse_u64(*argv, a->out, NULL)) {
				snprintf(err, sizeof(err), "%s: bad %s", cmd, a->name);
				die_usage(err);
			}
		} else if (resolve(fd, nm, *argv, a->kind == ARG_SPACE, a->out, err,
				   sizeof(err))) {
			fprintf(stderr, "memtopoctl: %s\n", err);
			return 1;
		}
	}
	return 0;
}

char *slurp(const char *path)
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
