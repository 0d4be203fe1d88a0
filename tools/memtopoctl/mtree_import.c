// SPDX-License-Identifier: GPL-2.0
/*
 * import-mtree: rebuild every address space and region from QEMU's
 * "info mtree" text (with or without -D), as one batch.
 *
 * What the text leaves out is inferred the way QEMU's printer loses it
 * (qemu system/memory.c, mtree_print_mr()):
 *  - A disabled region is not printed without -D, but its subregions are,
 *    one level deeper than it would have been: a gap in the indentation
 *    stands for hidden, disabled regions.  Nothing under them renders, so
 *    we recreate them as disabled containers spanning their parent.
 *    Without a gap (the hidden region follows a printed sibling that has
 *    subregions of its own) print order tells: siblings print sorted by
 *    address and priority, so a line that sorts before the previous child
 *    starts a hidden sibling.  When the order does not tell, the lines are
 *    taken as the printed sibling's subregions; "info mtree -D" output has
 *    no such ambiguity ("[disabled]" regions are printed).
 *  - Siblings print by address, then higher priority, then QEMU's list
 *    order (most recently added first among equal priorities); we add
 *    those at one address in reverse print order so ties render as QEMU
 *    rendered them.
 *  - "@NAME" names a "memory-region: NAME" block: the alias target.  A
 *    block is the same region as a printed node with the same name and an
 *    identical subtree, so adjacent ranges of one region merge as in QEMU;
 *    a target printed nowhere else becomes a detached region.  A block
 *    whose first line is missing is a disabled target.
 *  - Address spaces listed together share one root.
 *  - A region printed nowhere as a subregion (an address space's root, or
 *    a target seen only as a "memory-region:" block) still has the address
 *    and priority its root line prints: QEMU renders a root from its
 *    address and "-f" prints a range's priority as its region's own.
 *  - An alias may hold subregions (printed under it, never rendered).
 *  - Hints: "container NAME" (an "i/o" region that is a pure container)
 *    and "readonly NAME" (a read-only alias).
 * Two things the text cannot tell at all get a warning instead of a silent
 * guess: which of two different alias targets with one name an alias
 * shows, and which of two overlapping same-priority siblings at different
 * starts was added last (siblings print by address, so that order is
 * lost; we take the one with the higher start as the later one, which is
 * what real machines do: a device mapped over part of a bigger region).
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "libmemtopo.h"
#include "memtopoctl.h"

struct mnode {
	char *name;
	int level;
	__u64 start, end;
	__u64 addr, size;
	bool size64;
	int prio;
	char type[32];
	bool nv, is_alias, disabled, placeholder, in_block;
	char *target;
	__u64 alias_off;
	struct mnode *parent;
	struct mnode **kids;
	int nkids, capkids;
	__u64 sig;
	int uf;			/* union-find parent (index into all nodes) */
	int idx;
	int op;			/* batch index of the create op of the class */
	bool attached;
};

struct mgroup {
	char **names;
	int nnames;
	struct mnode *root;
};

struct mblock {
	char *name;
	struct mnode *top;
};

struct mimport {
	struct mnode **nodes;
	int nnodes, capnodes;
	struct mgroup *groups;
	int ngroups;
	struct mblock *blocks;
	int nblocks;
	char **containers, **readonly;
	int ncontainers, nreadonly;
	char **warned;		/* target names already warned about */
	int nwarned;
	int nwarnings;
};

static void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n);
	if (!p) {
		perror("realloc");
		exit(2);
	}
	return p;
}

static char *xstrdup(const char *s)
{
	char *d = strdup(s);

	if (!d) {
		perror("strdup");
		exit(2);
	}
	return d;
}

static struct mnode *new_node(struct mimport *im)
{
	struct mnode *n = calloc(1, sizeof(*n));

	if (!n) {
		perror("calloc");
		exit(2);
	}
	if (im->nnodes == im->capnodes) {
		im->capnodes = im->capnodes ? im->capnodes * 2 : 256;
		im->nodes = xrealloc(im->nodes, im->capnodes * sizeof(*im->nodes));
	}
	n->idx = im->nnodes;
	n->uf = n->idx;
	n->op = -1;
	im->nodes[im->nnodes++] = n;
	return n;
}

static void add_kid(struct mnode *p, struct mnode *k)
{
	if (p->nkids == p->capkids) {
		p->capkids = p->capkids ? p->capkids * 2 : 4;
		p->kids = xrealloc(p->kids, p->capkids * sizeof(*p->kids));
	}
	p->kids[p->nkids++] = k;
	k->parent = p;
}

static void rstrip(char *s)
{
	size_t n = strlen(s);

	while (n && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' '))
		s[--n] = '\0';
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && !strcmp(s + a - b, suffix);
}

/* "start-end (prio P, TYPE): rest" after the indentation. */
static int parse_line(struct mnode *n, char *p)
{
	unsigned long long s, e;
	char type[32];
	int prio, used = 0;
	char *rest;

	if (sscanf(p, "%llx-%llx (prio %d, %31[^)]): %n", &s, &e, &prio, type, &used) < 4 ||
	    !used)
		return -EINVAL;
	rest = p + used;
	n->start = s;
	n->end = e;
	n->size = e - s + 1;
	n->size64 = n->size == 0;
	n->prio = prio;
	if (!strncmp(type, "nv-", 3)) {
		n->nv = true;
		memmove(type, type + 3, strlen(type + 3) + 1);
	}
	snprintf(n->type, sizeof(n->type), "%s", type);
	if (ends_with(rest, " [disabled]")) {
		n->disabled = true;
		rest[strlen(rest) - strlen(" [disabled]")] = '\0';
	}
	if (!strncmp(rest, "alias ", 6)) {
		char *range = strrchr(rest, ' '), *at;
		unsigned long long ao, ae;

		if (!range || sscanf(range + 1, "%llx-%llx", &ao, &ae) != 2)
			return -EINVAL;
		*range = '\0';
		at = strstr(rest + 6, " @");
		if (!at)
			return -EINVAL;
		*at = '\0';
		n->is_alias = true;
		n->name = xstrdup(rest + 6);
		n->target = xstrdup(at + 2);
		n->alias_off = ao;
	} else {
		n->name = xstrdup(rest);
	}
	return 0;
}

static struct mnode *placeholder(struct mimport *im, struct mnode *parent, int level,
				 const char *name)
{
	struct mnode *n = new_node(im);

	n->name = xstrdup(name ? name : "(hidden)");
	n->level = level;
	n->placeholder = true;
	n->disabled = true;
	snprintf(n->type, sizeof(n->type), "i/o");
	if (parent) {
		n->start = parent->start;
		n->size = parent->size;
		n->size64 = parent->size64;
	} else {
		n->size64 = true;
	}
	return n;
}

/* The last child of @p that was printed (placeholders stand for hidden ones). */
static struct mnode *last_printed_kid(struct mnode *p)
{
	int i;

	for (i = p->nkids - 1; i >= 0; i--)
		if (!p->kids[i]->placeholder)
			return p->kids[i];
	return NULL;
}

/*
 * QEMU's print order of siblings under @p: address in @p (compared
 * relative to @p, as QEMU sorts mr->addr, so a wrapped "[DETECTED
 * OVERFLOW!]" start still compares right), then higher priority first.
 */
static bool prints_before(const struct mnode *p, const struct mnode *a, const struct mnode *b)
{
	__u64 ra, rb;

	if (!b)
		return false;
	ra = a->start - p->start;
	rb = b->start - p->start;
	return ra < rb || (ra == rb && a->prio > b->prio);
}

static int load_hints(struct mimport *im, const char *path)
{
	char line[512];
	FILE *f = fopen(path, "r");

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		rstrip(line);
		if (!strncmp(line, "container ", 10)) {
			im->containers = xrealloc(im->containers,
						  (im->ncontainers + 1) * sizeof(char *));
			im->containers[im->ncontainers++] = xstrdup(line + 10);
		} else if (!strncmp(line, "readonly ", 9)) {
			im->readonly = xrealloc(im->readonly, (im->nreadonly + 1) * sizeof(char *));
			im->readonly[im->nreadonly++] = xstrdup(line + 9);
		}
	}
	fclose(f);
	return 0;
}

static bool in_list(char **list, int n, const char *name)
{
	int i;

	for (i = 0; i < n; i++)
		if (!strcmp(list[i], name))
			return true;
	return false;
}

#define MAX_LEVELS 128

static int parse_file(struct mimport *im, FILE *f, const char *path)
{
	struct mnode *stack[MAX_LEVELS + 1];
	struct mgroup *g = NULL;
	struct mblock *blk = NULL;
	bool tree_started = false;
	int top = 0, lineno = 0;
	char line[4096];

	while (fgets(line, sizeof(line), f)) {
		char *p = line;
		struct mnode *n, *parent;
		int spaces = 0, level;

		lineno++;
		rstrip(line);
		if (!line[0])
			continue;
		if (!strncmp(line, "address-space: ", 15)) {
			if (!g || tree_started || blk) {
				im->groups = xrealloc(im->groups, (im->ngroups + 1) * sizeof(*g));
				g = &im->groups[im->ngroups++];
				memset(g, 0, sizeof(*g));
				tree_started = false;
				blk = NULL;
				top = 0;
			}
			g->names = xrealloc(g->names, (g->nnames + 1) * sizeof(char *));
			g->names[g->nnames++] = xstrdup(line + 15);
			continue;
		}
		if (!strncmp(line, "memory-region: ", 15)) {
			im->blocks = xrealloc(im->blocks, (im->nblocks + 1) * sizeof(*blk));
			blk = &im->blocks[im->nblocks++];
			memset(blk, 0, sizeof(*blk));
			blk->name = xstrdup(line + 15);
			g = NULL;
			top = 0;
			continue;
		}
		if (!g && !blk) {
			fprintf(stderr, "%s:%d: region line outside an address space\n", path,
				lineno);
			return -EINVAL;
		}
		while (!strncmp(p, "[DETECTED OVERFLOW!] ", 21))
			p += 21;
		while (p[spaces] == ' ')
			spaces++;
		level = spaces / 2;
		if (level < 1 || level > MAX_LEVELS || spaces % 2) {
			fprintf(stderr, "%s:%d: bad indentation\n", path, lineno);
			return -EINVAL;
		}
		n = new_node(im);
		if (parse_line(n, p + spaces)) {
			fprintf(stderr, "%s:%d: cannot parse: %s\n", path, lineno, line);
			return -EINVAL;
		}
		n->level = level;
		n->in_block = !!blk;
		if (top >= level)
			top = level - 1;
		/* an indentation gap: hidden (disabled) regions in between */
		while (top < level - 1) {
			struct mnode *h;
			const char *hname = NULL;

			/* a block whose target itself is hidden is named by its title */
			if (top == 0 && blk)
				hname = blk->name;
			h = placeholder(im, top ? stack[top] : NULL, top + 1, hname);
			h->in_block = !!blk;
			if (top)
				add_kid(stack[top], h);
			else if (blk)
				blk->top = h;
			else
				g->root = h;
			stack[++top] = h;
		}
		parent = top ? stack[top] : NULL;
		/*
		 * Siblings print by address, then higher priority: a line that
		 * sorts before the last printed child of its would-be parent
		 * cannot be that parent's child.  It is the child of a hidden
		 * (disabled) sibling of the parent, printed after it.
		 */
		if (parent && top >= 2 && prints_before(parent, n, last_printed_kid(parent))) {
			struct mnode *h = placeholder(im, stack[top - 1], top, NULL);

			h->in_block = !!blk;
			add_kid(stack[top - 1], h);
			stack[top] = h;
			parent = h;
		}
		if (parent) {
			add_kid(parent, n);
			n->addr = n->start - parent->start;
		} else if (blk ? !!blk->top : !!g->root) {
			fprintf(stderr, "%s:%d: second %s\n", path, lineno,
				blk ? "top-level region in a block" : "root for one address space");
			return -EINVAL;
		} else if (blk) {
			n->addr = n->start;
			blk->top = n;
		} else {
			n->addr = n->start;
			g->root = n;
			tree_started = true;
		}
		stack[++top] = n;
	}
	return 0;
}

/* FNV-1a over everything that makes two printed subtrees the same region. */
static __u64 fnv(__u64 h, const void *data, size_t len)
{
	const unsigned char *p = data;

	while (len--) {
		h ^= *p++;
		h *= 0x100000001b3ULL;
	}
	return h;
}

static __u64 compute_sig(struct mnode *n)
{
	__u64 h = 0xcbf29ce484222325ULL;
	int i;

	h = fnv(h, n->name, strlen(n->name) + 1);
	h = fnv(h, &n->addr, sizeof(n->addr));
	h = fnv(h, &n->size, sizeof(n->size));
	h = fnv(h, &n->size64, sizeof(n->size64));
	h = fnv(h, &n->prio, sizeof(n->prio));
	h = fnv(h, n->type, strlen(n->type) + 1);
	h = fnv(h, &n->nv, 1);
	h = fnv(h, &n->is_alias, 1);
	h = fnv(h, &n->disabled, 1);
	h = fnv(h, &n->placeholder, 1);
	if (n->is_alias) {
		h = fnv(h, n->target, strlen(n->target) + 1);
		h = fnv(h, &n->alias_off, sizeof(n->alias_off));
	}
	for (i = 0; i < n->nkids; i++) {
		__u64 k = compute_sig(n->kids[i]);

		h = fnv(h, &k, sizeof(k));
	}
	n->sig = h;
	return h;
}

static int uf_find(struct mimport *im, int i)
{
	while (im->nodes[i]->uf != i) {
		im->nodes[i]->uf = im->nodes[im->nodes[i]->uf]->uf;
		i = im->nodes[i]->uf;
	}
	return i;
}

/* Prefer a node printed in an address space over one in a block. */
static void uf_union(struct mimport *im, struct mnode *a, struct mnode *b)
{
	int ra = uf_find(im, a->idx), rb = uf_find(im, b->idx);
	struct mnode *na = im->nodes[ra], *nb = im->nodes[rb];

	if (ra == rb)
		return;
	if (na->in_block && !nb->in_block)
		na->uf = rb;
	else if (!na->in_block && nb->in_block)
		nb->uf = ra;
	else if (ra < rb)
		nb->uf = ra;
	else
		na->uf = rb;
}

static void unify(struct mimport *im, struct mnode *a, struct mnode *b)
{
	int i;

	uf_union(im, a, b);
	for (i = 0; i < a->nkids && i < b->nkids; i++)
		unify(im, a->kids[i], b->kids[i]);
}

static bool inside(const struct mnode *n, const struct mnode *top)
{
	for (; n; n = n->parent)
		if (n == top)
			return true;
	return false;
}

static struct mnode *rep(struct mimport *im, struct mnode *n)
{
	return im->nodes[uf_find(im, n->idx)];
}

/*
 * The block an alias names; with repeated titles prefer the matching type.
 * Different targets of one name that the type does not tell apart make
 * the choice a guess: say so, once per name.
 */
static struct mblock *find_block(struct mimport *im, const struct mnode *alias)
{
	struct mblock *first = NULL, *typed = NULL;
	bool ambiguous = false, typed_ambiguous = false;
	int i;

	for (i = 0; i < im->nblocks; i++) {
		struct mblock *b = &im->blocks[i];

		if (strcmp(b->name, alias->target) || !b->top)
			continue;
		if (!first)
			first = b;
		else if (b->top->sig != first->top->sig)
			ambiguous = true;
		if (b->top->placeholder || b->top->is_alias || strcmp(b->top->type, alias->type))
			continue;
		if (!typed)
			typed = b;
		else if (b->top->sig != typed->top->sig)
			typed_ambiguous = true;
	}
	if ((typed ? typed_ambiguous : ambiguous) &&
	    !in_list(im->warned, im->nwarned, alias->target)) {
		im->nwarnings++;
		fprintf(stderr,
			"import-mtree: warning: different alias targets are named \"%s\"; the text does not say which one alias \"%s\" shows: taking the first\n",
			alias->target, alias->name);
		im->warned = xrealloc(im->warned, (im->nwarned + 1) * sizeof(char *));
		im->warned[im->nwarned++] = xstrdup(alias->target);
	}
	return typed ? typed : first;
}

struct opbuf {
	struct memtopo_op *ops;
	int n, cap;
};

static struct memtopo_op *emit(struct opbuf *ob, __u32 code)
{
	if (ob->n == ob->cap) {
		ob->cap = ob->cap ? ob->cap * 2 : 256;
		ob->ops = xrealloc(ob->ops, ob->cap * sizeof(*ob->ops));
	}
	mt_op_init(&ob->ops[ob->n], code);
	return &ob->ops[ob->n++];
}

static __u32 ref_of(struct mimport *im, struct mnode *n)
{
	return MEMTOPO_ID_BATCH_REF | rep(im, n)->op;
}

static int kind_of(struct mimport *im, const struct mnode *n)
{
	if (n->is_alias)
		return MEMTOPO_KIND_ALIAS;
	if (n->placeholder)
		return MEMTOPO_KIND_CONTAINER;
	if (!strcmp(n->type, "ram"))
		return MEMTOPO_KIND_RAM;
	if (!strcmp(n->type, "rom"))
		return MEMTOPO_KIND_ROM;
	if (!strcmp(n->type, "romd"))
		return MEMTOPO_KIND_ROM_DEVICE;
	if (!strcmp(n->type, "ramd"))
		return MEMTOPO_KIND_RAM_DEVICE;
	if (in_list(im->containers, im->ncontainers, n->name))
		return MEMTOPO_KIND_CONTAINER;
	return MEMTOPO_KIND_IO;
}

static int create_class(struct mimport *im, struct opbuf *ob, struct mnode *r, int depth)
{
	struct memtopo_op *op;
	struct mnode *target = NULL;

	if (r->op >= 0)
		return 0;
	if (depth > 64) {
		fprintf(stderr, "import: alias chain too long at %s\n", r->name);
		return -ELOOP;
	}
	if (r->is_alias) {
		struct mblock *b = find_block(im, r);
		int ret;

		if (!b) {
			fprintf(stderr, "import: no memory-region block for @%s\n", r->target);
			return -ENOENT;
		}
		target = rep(im, b->top);
		ret = create_class(im, ob, target, depth + 1);
		if (ret)
			return ret;
	}
	op = emit(ob, MEMTOPO_OP_REGION_CREATE);
	op->kind = kind_of(im, r);
	snprintf(op->name, sizeof(op->name), "%s", r->name);
	if (r->size64)
		op->flags |= MEMTOPO_OP_F_SIZE_2_64;
	else
		op->length = r->size;
	if (target) {
		op->ref = MEMTOPO_ID_BATCH_REF | target->op;
		op->addr = r->alias_off;
	}
	r->op = ob->n - 1;
	return 0;
}

static void set_flag(struct opbuf *ob, struct mimport *im, struct mnode *r, __u32 code,
		     __u64 value)
{
	struct memtopo_op *op = emit(ob, code);

	op->id = ref_of(im, r);
	op->value = value;
}

/* Does @n render anything (printed, enabled, not empty)? */
static bool shows(const struct mnode *n)
{
	return !n->placeholder && !n->disabled && (n->size64 || n->size);
}

/*
 * Same-priority siblings that overlap at different starts: QEMU renders
 * the one added last on top, but prints them by address, so the text
 * does not say which that was.  Warn (once per pair).
 */
static void warn_unordered(struct mimport *im, const struct mnode *p)
{
	int i, j;

	for (i = 0; i < p->nkids; i++) {
		const struct mnode *a = p->kids[i];

		for (j = i + 1; j < p->nkids; j++) {
			const struct mnode *b = p->kids[j];
			__u64 a_last = a->addr + (a->size64 ? ~0ULL : a->size - 1);
			__u64 b_last = b->addr + (b->size64 ? ~0ULL : b->size - 1);

			char key[3 * 80];

			if (!shows(a) || !shows(b) || a->prio != b->prio || a->addr == b->addr ||
			    b->addr > a_last || a->addr > b_last)
				continue;
			/* a region printed in several places: one warning */
			snprintf(key, sizeof(key), "%s\n%s\n%s", p->name, a->name, b->name);
			if (in_list(im->warned, im->nwarned, key))
				continue;
			im->warned = xrealloc(im->warned, (im->nwarned + 1) * sizeof(char *));
			im->warned[im->nwarned++] = xstrdup(key);
			im->nwarnings++;
			fprintf(stderr,
				"import-mtree: warning: in \"%s\", \"%s\" and \"%s\" overlap with priority %d at different starts; the text does not say which was added last: taking \"%s\"\n",
				p->name, a->name, b->name, a->prio,
				a->addr > b->addr ? a->name : b->name);
		}
	}
}

/*
 * Build the batch.  Returns the number of operations in *ops (malloc()ed)
 * and, per operation, the source description in *what (for errors).
 */
static int build_ops(struct mimport *im, struct opbuf *ob)
{
	int i, j, ret;

	/* an empty block: a disabled target without subregions */
	for (i = 0; i < im->nblocks; i++) {
		if (!im->blocks[i].top) {
			im->blocks[i].top = placeholder(im, NULL, 1, im->blocks[i].name);
			im->blocks[i].top->in_block = true;
		}
	}
	for (i = 0; i < im->ngroups; i++)
		if (im->groups[i].root)
			compute_sig(im->groups[i].root);
	for (i = 0; i < im->nblocks; i++)
		if (im->blocks[i].top)
			compute_sig(im->blocks[i].top);

	/* a block is the printed region with its name and subtree */
	for (i = 0; i < im->nblocks; i++) {
		struct mnode *t = im->blocks[i].top, *cand = NULL;

		if (!t || t->placeholder)
			continue;
		for (j = 0; j < im->nnodes && !cand; j++) {
			struct mnode *n = im->nodes[j];

			if (n != t && !n->in_block && !n->placeholder && n->sig == t->sig &&
			    !strcmp(n->name, t->name))
				cand = n;
		}
		for (j = 0; j < im->nnodes && !cand; j++) {
			struct mnode *n = im->nodes[j];

			if (n->in_block && !inside(n, t) && !n->placeholder && n->sig == t->sig &&
			    !strcmp(n->name, t->name))
				cand = n;
		}
		if (cand)
			unify(im, t, cand);
	}

	/* regions: targets before their aliases */
	for (i = 0; i < im->nnodes; i++) {
		ret = create_class(im, ob, rep(im, im->nodes[i]), 0);
		if (ret)
			return ret;
	}
	for (i = 0; i < im->nnodes; i++) {
		struct mnode *r = im->nodes[i];

		if (rep(im, r) != r)
			continue;
		if (r->disabled)
			set_flag(ob, im, r, MEMTOPO_OP_SET_ENABLED, 0);
		if (r->nv)
			set_flag(ob, im, r, MEMTOPO_OP_SET_NONVOLATILE, 1);
		if (r->is_alias && in_list(im->readonly, im->nreadonly, r->name))
			set_flag(ob, im, r, MEMTOPO_OP_SET_READONLY, 1);
	}
	/*
	 * Subregions: siblings at one address in reverse print order (that is
	 * QEMU's list order, exact); groups at different addresses in print
	 * (address) order, so of two same-priority siblings that overlap at
	 * different starts the higher start is the later added and wins.
	 */
	for (i = 0; i < im->nnodes; i++) {
		struct mnode *r = im->nodes[i];
		int g, next;

		if (rep(im, r) != r)
			continue;
		for (g = 0; g < r->nkids; g = next) {
			next = g + 1;
			while (next < r->nkids && r->kids[next]->addr == r->kids[g]->addr)
				next++;
			for (j = next - 1; j >= g; j--) {
				struct mnode *k = rep(im, r->kids[j]);
				struct memtopo_op *op;

				if (k->attached)
					continue;
				k->attached = true;
				op = emit(ob, MEMTOPO_OP_ADD_SUBREGION);
				op->id = MEMTOPO_ID_BATCH_REF | k->op;
				op->ref = MEMTOPO_ID_BATCH_REF | r->op;
				op->addr = r->kids[j]->addr;
				op->priority = r->kids[j]->prio;
			}
		}
	}
	/* printed nowhere as a subregion: keep its root line's address and priority */
	for (i = 0; i < im->nnodes; i++) {
		struct mnode *r = im->nodes[i];

		if (rep(im, r) != r || r->attached || r->placeholder)
			continue;
		if (r->addr) {
			struct memtopo_op *op = emit(ob, MEMTOPO_OP_SET_ADDRESS);

			op->id = ref_of(im, r);
			op->addr = r->addr;
		}
		if (r->prio) {
			struct memtopo_op *op = emit(ob, MEMTOPO_OP_SET_PRIORITY);

			op->id = ref_of(im, r);
			op->priority = r->prio;
		}
	}
	for (i = 0; i < im->nnodes; i++)
		if (rep(im, im->nodes[i]) == im->nodes[i])
			warn_unordered(im, im->nodes[i]);
	for (i = 0; i < im->ngroups; i++) {
		struct mgroup *g = &im->groups[i];

		if (!g->root)
			continue;
		for (j = 0; j < g->nnames; j++) {
			struct memtopo_op *op = emit(ob, MEMTOPO_OP_SPACE_CREATE);

			op->ref = ref_of(im, g->root);
			snprintf(op->name, sizeof(op->name), "%s", g->names[j]);
		}
	}
	return 0;
}

static const char *op_name(__u32 code)
{
	switch (code) {
	case MEMTOPO_OP_REGION_CREATE: return "create region";
	case MEMTOPO_OP_ADD_SUBREGION: return "add subregion";
	case MEMTOPO_OP_SET_ENABLED: return "set enabled";
	case MEMTOPO_OP_SET_NONVOLATILE: return "set nonvolatile";
	case MEMTOPO_OP_SET_READONLY: return "set readonly";
	case MEMTOPO_OP_SET_ADDRESS: return "set address";
	case MEMTOPO_OP_SET_PRIORITY: return "set priority";
	case MEMTOPO_OP_SPACE_CREATE: return "create space";
	default: return "operation";
	}
}

/* --dry-run: one operation, a line of text or an element of a JSON array. */
static void print_op(int i, const struct memtopo_op *op, bool json)
{
	if (!json) {
		printf("%d: %s id=%#x ref=%#x kind=%u prio=%d ", i, op_name(op->op), op->id,
		       op->ref, op->kind, op->priority);
		printf("addr=%#llx len=%#llx flags=%#x value=%llu name=\"%s\"\n", op->addr,
		       op->length, op->flags, op->value, op->name);
		return;
	}
	printf("%s{\"index\": %d, \"op\": \"%s\", \"id\": %u, \"ref\": %u, ", i ? ", " : "", i,
	       op_name(op->op), op->id, op->ref);
	printf("\"kind\": %u, \"priority\": %d, \"addr\": %llu, \"length\": %llu, ", op->kind,
	       op->priority, op->addr, op->length);
	printf("\"flags\": %u, \"value\": %llu, \"name\": ", op->flags, op->value);
	mt_json_str(op->name);
	printf("}");
}

/**
 * mt_import_mtree() - apply QEMU "info mtree" text to the context of @fd.
 * @fd: /dev/memtopo, attached to the target context.
 * @path: the text.
 * @hints: hints file or NULL.
 * @dry_run: print the operations instead of applying them.
 * @json: print them (dry run) as a JSON array.
 * @nops: out, the number of operations of the batch.
 *
 * Return: 0, or a negative errno after printing why.
 */
int mt_import_mtree(int fd, const char *path, const char *hints, bool dry_run, bool json,
		    int *nops)
{
	struct mimport im = {};
	struct opbuf ob = {};
	__u32 err_index;
	FILE *f;
	int ret, i;

	if (hints) {
		ret = load_hints(&im, hints);
		if (ret) {
			fprintf(stderr, "%s: %s\n", hints, strerror(-ret));
			return ret;
		}
	}
	f = strcmp(path, "-") ? fopen(path, "r") : stdin;
	if (!f) {
		ret = -errno;
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		return ret;
	}
	ret = parse_file(&im, f, path);
	if (f != stdin)
		fclose(f);
	if (ret)
		return ret;
	ret = build_ops(&im, &ob);
	if (ret)
		return ret;
	*nops = ob.n;
	if (dry_run) {
		if (json)
			printf("[");
		for (i = 0; i < ob.n; i++)
			print_op(i, &ob.ops[i], json);
		if (json)
			printf("]\n");
		return 0;
	}
	ret = mt_batch(fd, ob.ops, ob.n, &err_index);
	if (ret) {
		struct memtopo_op *op = err_index < (__u32)ob.n ? &ob.ops[err_index] : NULL;

		if (op)
			fprintf(stderr, "%s: operation %u (%s \"%s\"): %s\n", path, err_index,
				op_name(op->op), op->name, strerror(-ret));
		else
			fprintf(stderr, "%s: commit: %s\n", path, strerror(-ret));
	}
	free(ob.ops);
	return ret;
}
