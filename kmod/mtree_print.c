// SPDX-License-Identifier: GPL-2.0
/*
 * QEMU's "info mtree" and "info mtree -f" text, byte for byte as QEMU 7.2
 * prints it (system/memory.c: mtree_info_as(), mtree_print_mr(),
 * mtree_print_flatview()), so tools written against QEMU's monitor and
 * our parity tests can compare text.  This is the only formatter: the
 * MEMTOPO_MTREE ioctl and debugfs both call memtopo_mtree_format().
 *
 * Where QEMU iterates a hash table (the order of address-space groups and
 * of flat views), we use creation order instead; QEMU's own order changes
 * from run to run.
 */
#include <linux/kernel.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/string.h>
#include <linux/xarray.h>

#include "memtopo_main.h"
#include "memtopo_internal.h"

#define MTREE_INDENT "  "

struct memtopo_mtree_buf {
	char *buf;
	size_t len;
	u32 cap;
	int err;
	/* alias targets to print as memory-region blocks, in queue order */
	struct memtopo_region **queue;
	u32 nr_queue, cap_queue;
	struct xarray queued;
};

static __printf(2, 3) void mt_printf(struct memtopo_mtree_buf *b, const char *fmt, ...)
{
	va_list args;
	size_t need;
	int n;

	if (b->err)
		return;
	va_start(args, fmt);
	n = vsnprintf(b->buf + b->len, b->cap - b->len, fmt, args);
	va_end(args);
	need = b->len + n + 1;
	if (need > b->cap) {
		while (!b->err && need > b->cap)
			b->err = memtopo_grow((void **)&b->buf, &b->cap, 1, U32_MAX);
		if (b->err)
			return;
		va_start(args, fmt);
		vsnprintf(b->buf + b->len, b->cap - b->len, fmt, args);
		va_end(args);
	}
	b->len += n;
}

/* QEMU's MR_SIZE(): size - 1, and 0 for an empty region. */
static u64 mt_size_m1(const struct memtopo_region *mr)
{
	return memtopo_region_empty(mr) ? 0 : memtopo_region_last_off(mr);
}

/**
 * memtopo_region_type_name() - QEMU's memory_region_type().
 * @mr: a region.
 *
 * Return: "ramd", "romd", "rom", "ram" or "i/o"; an alias answers for
 * its final target.
 */
const char *memtopo_region_type_name(const struct memtopo_region *mr)
{
	while (mr->kind == MEMTOPO_ALIAS)
		mr = mr->alias;
	switch (mr->kind) {
	case MEMTOPO_RAM_DEVICE:
		return "ramd";
	case MEMTOPO_ROM_DEVICE:
		return (mr->flags & MEMTOPO_RF_ROMD) ? "romd" : "i/o";
	case MEMTOPO_RAM:
	case MEMTOPO_ROM:
		return (mr->flags & MEMTOPO_RF_READONLY) ? "rom" : "ram";
	default:
		return "i/o";
	}
}

static void mt_enqueue_alias(struct memtopo_mtree_buf *b, struct memtopo_region *target)
{
	if (b->err || xa_load(&b->queued, target->id))
		return;
	if (b->nr_queue == b->cap_queue) {
		b->err = memtopo_grow((void **)&b->queue, &b->cap_queue, sizeof(*b->queue),
				      U32_MAX);
		if (b->err)
			return;
	}
	b->err = xa_err(xa_store(&b->queued, target->id, target, GFP_KERNEL));
	if (!b->err)
		b->queue[b->nr_queue++] = target;
}

struct mt_child {
	struct memtopo_region *mr;
	u32 rank;	/* position in render order: QEMU's subregions list */
};

/* QEMU's print queue: by address, then higher priority, then list order. */
static int mt_child_cmp(const void *a, const void *b)
{
	const struct mt_child *x = a, *y = b;

	if (x->mr->addr != y->mr->addr)
		return x->mr->addr < y->mr->addr ? -1 : 1;
	if (x->mr->priority != y->mr->priority)
		return x->mr->priority > y->mr->priority ? -1 : 1;
	return x->rank < y->rank ? -1 : 1;
}

static void mt_print_mr(struct memtopo_mtree_buf *b, struct memtopo_region *mr,
			unsigned int level, u64 base, bool disabled)
{
	u64 cur_start = base + mr->addr, cur_end = cur_start + mt_size_m1(mr);
	bool enabled = memtopo_region_enabled(mr);
	struct memtopo_region *child;
	struct mt_child *kids;
	u32 n = 0, i;

	/* QEMU warns this way, before the indent, even for hidden regions */
	if (cur_start < base || cur_end < cur_start)
		mt_printf(b, "[DETECTED OVERFLOW!] ");
	if (mr->kind == MEMTOPO_ALIAS)
		mt_enqueue_alias(b, mr->alias);
	if (enabled || disabled) {
		for (i = 0; i < level; i++)
			mt_printf(b, MTREE_INDENT);
		mt_printf(b, "%016llx-%016llx (prio %d, %s%s): ", cur_start, cur_end,
			  mr->priority, (mr->flags & MEMTOPO_RF_NONVOLATILE) ? "nv-" : "",
			  memtopo_region_type_name(mr));
		if (mr->kind == MEMTOPO_ALIAS)
			mt_printf(b, "alias %s @%s %016llx-%016llx", mr->name, mr->alias->name,
				  mr->alias_offset, mr->alias_offset + mt_size_m1(mr));
		else
			mt_printf(b, "%s", mr->name);
		mt_printf(b, "%s\n", enabled ? "" : " [disabled]");
	}

	for (child = memtopo_region_first_child(mr); child;
	     child = memtopo_region_next_sibling(child))
		n++;
	if (!n || b->err)
		return;
	kids = kvmalloc_array(n, sizeof(*kids), GFP_KERNEL);
	if (!kids) {
		b->err = -ENOMEM;
		return;
	}
	for (i = 0, child = memtopo_region_first_child(mr); child;
	     child = memtopo_region_next_sibling(child), i++) {
		kids[i].mr = child;
		kids[i].rank = i;
	}
	sort(kids, n, sizeof(*kids), mt_child_cmp, NULL);
	for (i = 0; i < n; i++)
		mt_print_mr(b, kids[i].mr, level + 1, cur_start, disabled);
	kvfree(kids);
}

static int mt_space_name_cmp(const void *a, const void *b)
{
	const struct memtopo_space *x = *(const struct memtopo_space **)a;
	const struct memtopo_space *y = *(const struct memtopo_space **)b;

	return strcmp(x->name, y->name);
}

/* "info mtree": spaces grouped by root (names sorted), then alias targets. */
static void mt_format_tree(struct memtopo_mtree_buf *b, struct memtopo_ctx *ctx, bool disabled)
{
	struct memtopo_space **spaces, *as;
	bool *done;
	u32 n = 0, i, j, k;

	spaces = kvmalloc_array(max(ctx->nr_spaces, 1u) * 2, sizeof(*spaces), GFP_KERNEL);
	done = kvcalloc(max(ctx->nr_spaces, 1u), sizeof(*done), GFP_KERNEL);
	if (!spaces || !done) {
		b->err = -ENOMEM;
		goto out;
	}
	list_for_each_entry(as, &ctx->spaces, link)
		spaces[n++] = as;
	for (i = 0; i < n; i++) {
		struct memtopo_space **group = spaces + n;
		u32 g = 0;

		if (done[i])
			continue;
		for (j = i; j < n; j++) {
			if (!done[j] && spaces[j]->root == spaces[i]->root) {
				done[j] = true;
				group[g++] = spaces[j];
			}
		}
		sort(group, g, sizeof(*group), mt_space_name_cmp, NULL);
		for (k = 0; k < g; k++)
			mt_printf(b, "address-space: %s\n", group[k]->name);
		mt_print_mr(b, spaces[i]->root, 1, 0, disabled);
		mt_printf(b, "\n");
	}
	/* the queue grows while it is printed, as in QEMU */
	for (i = 0; i < b->nr_queue && !b->err; i++) {
		mt_printf(b, "memory-region: %s\n", b->queue[i]->name);
		mt_print_mr(b, b->queue[i], 1, 0, disabled);
		mt_printf(b, "\n");
	}
out:
	kvfree(done);
	kvfree(spaces);
}

static void mt_print_view(struct memtopo_mtree_buf *b, struct memtopo_view *view)
{
	u32 i;

	mt_printf(b, " Root memory region: %s\n", view->root ? view->root->name : "(none)");
	if (!view->nr_ranges) {
		mt_printf(b, MTREE_INDENT "No rendered FlatView\n\n");
		return;
	}
	for (i = 0; i < view->nr; i++) {
		const struct memtopo_fr *fr = memtopo_view_fr(view, i);
		u64 last = i + 1 < view->nr ? memtopo_view_start(view, i + 1) - 1 : U64_MAX;

		if (!fr->mr)
			continue;
		mt_printf(b, MTREE_INDENT "%016llx-%016llx (prio %d, %s%s): %s",
			  memtopo_view_start(view, i), last, fr->mr->priority,
			  (fr->flags & MEMTOPO_FR_NONVOLATILE) ? "nv-" : "",
			  (fr->flags & MEMTOPO_FR_READONLY) ? "rom" :
			  memtopo_region_type_name(fr->mr), fr->mr->name);
		if (fr->offset)
			mt_printf(b, " @%016llx", fr->offset);
		mt_printf(b, "\n");
	}
	mt_printf(b, "\n");
}

/* "info mtree -f": each flat view once, with the spaces that share it. */
static void mt_format_flat(struct memtopo_mtree_buf *b, struct memtopo_ctx *ctx)
{
	struct memtopo_space *as, *other;
	u32 counter = 0;

	list_for_each_entry(as, &ctx->spaces, link) {
		struct memtopo_view *view = memtopo_space_view_locked(as);
		bool seen = false;

		list_for_each_entry(other, &ctx->spaces, link) {
			if (other == as)
				break;
			if (memtopo_space_view_locked(other) == view) {
				seen = true;
				break;
			}
		}
		if (seen)
			continue;
		mt_printf(b, "FlatView #%u\n", counter++);
		list_for_each_entry(other, &ctx->spaces, link) {
			if (memtopo_space_view_locked(other) != view)
				continue;
			mt_printf(b, " AS \"%s\", root: %s", other->name, other->root->name);
			if (other->root->kind == MEMTOPO_ALIAS)
				mt_printf(b, ", alias %s", other->root->alias->name);
			mt_printf(b, "\n");
		}
		mt_print_view(b, view);
	}
}

/**
 * memtopo_mtree_format() - QEMU's "info mtree" text of a context.
 * @ctx: the context, locked.
 * @flags: MEMTOPO_MTREE_FLAT for "-f", MEMTOPO_MTREE_DISABLED for "-D".
 * @len: out, length of the text (no NUL counted).
 *
 * Return: a kvmalloc()ed NUL-terminated text (kvfree() it), or an
 * ERR_PTR(-ENOMEM), or ERR_PTR(-E2BIG) for a text past 4 GiB.
 */
char *memtopo_mtree_format(struct memtopo_ctx *ctx, u32 flags, size_t *len)
{
	struct memtopo_mtree_buf b = {};

	memtopo_assert_locked(ctx);
	xa_init(&b.queued);
	if (memtopo_grow((void **)&b.buf, &b.cap, 1, U32_MAX))
		return ERR_PTR(-ENOMEM);
	b.buf[0] = '\0';
	if (flags & MEMTOPO_MTREE_FLAT)
		mt_format_flat(&b, ctx);
	else
		mt_format_tree(&b, ctx, flags & MEMTOPO_MTREE_DISABLED);
	xa_destroy(&b.queued);
	kvfree(b.queue);
	if (b.err) {
		kvfree(b.buf);
		return ERR_PTR(b.err);
	}
	*len = b.len;
	return b.buf;
}
