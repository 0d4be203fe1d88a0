// SPDX-License-Identifier: GPL-2.0
/*
 * Compare two "info mtree -f" texts address space by address space: QEMU
 * prints the flat views in hash-table order with numbers to match, so only
 * what belongs to one space is comparable: its AS line, the root memory
 * region line and the ranges (or "No rendered FlatView").
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "memtopoctl.h"

struct as_block {
	char *name;
	char *as_line;
	char *body;	/* lines after the AS lines, up to the blank line */
};

struct as_set {
	struct as_block *v;
	int n;
};

static char *dupn(const char *s, size_t n)
{
	char *d = malloc(n + 1);

	if (!d)
		exit(2);
	memcpy(d, s, n);
	d[n] = '\0';
	return d;
}

static void split(const char *text, struct as_set *set)
{
	const char *p = text;

	while (*p) {
		const char *eol, *body;
		const char *as_lines[256];
		int nas = 0, i;

		if (strncmp(p, "FlatView #", 10)) {
			eol = strchr(p, '\n');
			if (!eol)
				break;
			p = eol + 1;
			continue;
		}
		p = strchr(p, '\n');
		if (!p)
			break;
		p++;
		while (!strncmp(p, " AS \"", 5) && nas < 256) {
			as_lines[nas++] = p;
			p = strchr(p, '\n');
			if (!p)
				return;
			p++;
		}
		body = p;
		while (*p && *p != '\n') {
			eol = strchr(p, '\n');
			p = eol ? eol + 1 : p + strlen(p);
		}
		for (i = 0; i < nas; i++) {
			const char *q = as_lines[i] + 5, *end = strstr(q, "\", root: ");
			const char *le = strchr(as_lines[i], '\n');
			struct as_block *b;

			set->v = realloc(set->v, (set->n + 1) * sizeof(*set->v));
			if (!set->v || !end)
				exit(2);
			b = &set->v[set->n++];
			b->name = dupn(q, end - q);
			b->as_line = dupn(as_lines[i], le - as_lines[i]);
			b->body = dupn(body, p - body);
		}
		if (*p == '\n')
			p++;
	}
}

/*
 * Pair each expected space with an actual one of the same name.  Names
 * need not be unique (every PCI device behind QEMU's intel-iommu has an
 * address space "vtd-root"), so pair identical blocks first, then blocks
 * with the same AS line (name and root), then any of the same name; what
 * stays unpaired is missing or unexpected.  @pair[i]: the actual block of
 * expected block i, or -1.  Return: a calloc()ed array of the actual
 * blocks' paired flags.
 */
static bool *pair_up(const struct as_set *e, const struct as_set *a, int *pair)
{
	bool *used = calloc(a->n + 1, sizeof(*used));
	int pass, i, j;

	if (!used)
		exit(2);
	for (i = 0; i < e->n; i++)
		pair[i] = -1;
	for (pass = 0; pass < 3; pass++) {
		for (i = 0; i < e->n; i++) {
			const struct as_block *x = &e->v[i];

			for (j = 0; j < a->n && pair[i] < 0; j++) {
				const struct as_block *y = &a->v[j];

				if (used[j] || strcmp(x->name, y->name) ||
				    (pass < 2 && strcmp(x->as_line, y->as_line)) ||
				    (pass < 1 && strcmp(x->body, y->body)))
					continue;
				pair[i] = j;
				used[j] = true;
			}
		}
	}
	return used;
}

static void json_strn(const char *s, size_t n)
{
	char *d = dupn(s, n);

	mt_json_str(d);
	free(d);
}

/* Print the first differing line of two bodies. */
static void show_diff(const char *a, const char *b, bool json)
{
	int line = 1;

	while (*a || *b) {
		const char *ea = strchrnul(a, '\n'), *eb = strchrnul(b, '\n');

		if (ea - a != eb - b || memcmp(a, b, ea - a)) {
			if (json) {
				printf(", \"line\": %d, \"expected\": ", line);
				json_strn(a, ea - a);
				printf(", \"actual\": ");
				json_strn(b, eb - b);
				return;
			}
			printf("    line %d:\n      expected: %.*s\n      actual:   %.*s\n", line,
			       (int)(ea - a), a, (int)(eb - b), b);
			return;
		}
		a = *ea ? ea + 1 : ea;
		b = *eb ? eb + 1 : eb;
		line++;
	}
}

/* --json: one object per address space, whatever its outcome. */
static void json_space(int *n, const char *name, const char *status)
{
	printf("%s{\"space\": ", (*n)++ ? ", " : "");
	mt_json_str(name);
	printf(", \"status\": \"%s\"", status);
}

static int diff_json(struct as_set *e, struct as_set *a, const int *pair, const bool *used)
{
	int i, bad = 0, n = 0;

	for (i = 0; i < e->n; i++) {
		struct as_block *x = &e->v[i], *y = pair[i] < 0 ? NULL : &a->v[pair[i]];

		if (!y) {
			json_space(&n, x->name, "missing");
			bad++;
		} else if (strcmp(x->as_line, y->as_line)) {
			json_space(&n, x->name, "differs");
			printf(", \"line\": 0, \"expected\": ");
			mt_json_str(x->as_line);
			printf(", \"actual\": ");
			mt_json_str(y->as_line);
			bad++;
		} else if (strcmp(x->body, y->body)) {
			json_space(&n, x->name, "differs");
			show_diff(x->body, y->body, true);
			bad++;
		} else {
			json_space(&n, x->name, "identical");
		}
		printf("}");
	}
	for (i = 0; i < a->n; i++) {
		if (!used[i]) {
			json_space(&n, a->v[i].name, "unexpected");
			printf("}");
			bad++;
		}
	}
	return bad;
}

/**
 * mt_diff_flat() - compare flat-view texts per address space.
 * @expected_text: QEMU's "info mtree -f".
 * @actual_text: ours.
 * @verbose: also list the spaces that match.
 * @json: print a JSON array's elements instead, one object per address
 *	space: {"space", "status": identical|differs|missing|unexpected, and
 *	for differs the first differing "line" (0: the AS line), "expected",
 *	"actual"}.
 *
 * Return: the number of address spaces that differ (or are missing).
 */
int mt_diff_flat(const char *expected_text, const char *actual_text, bool verbose, bool json)
{
	struct as_set e = {}, a = {};
	int i, bad = 0, *pair;
	bool *used;

	split(expected_text, &e);
	split(actual_text, &a);
	pair = calloc(e.n + 1, sizeof(*pair));
	if (!pair)
		exit(2);
	used = pair_up(&e, &a, pair);
	if (json) {
		bad = diff_json(&e, &a, pair, used);
		goto out;
	}
	for (i = 0; i < e.n; i++) {
		struct as_block *x = &e.v[i], *y = pair[i] < 0 ? NULL : &a.v[pair[i]];

		if (!y) {
			printf("  AS \"%s\": missing\n", x->name);
			bad++;
		} else if (strcmp(x->as_line, y->as_line) || strcmp(x->body, y->body)) {
			printf("  AS \"%s\": differs\n", x->name);
			if (strcmp(x->as_line, y->as_line))
				printf("      expected: %s\n      actual:   %s\n", x->as_line,
				       y->as_line);
			else
				show_diff(x->body, y->body, false);
			bad++;
		} else if (verbose) {
			printf("  AS \"%s\": identical\n", x->name);
		}
	}
	for (i = 0; i < a.n; i++) {
		if (!used[i]) {
			printf("  AS \"%s\": not in the expected text\n", a.v[i].name);
			bad++;
		}
	}
out:
	free(pair);
	free(used);
	return bad;
}
