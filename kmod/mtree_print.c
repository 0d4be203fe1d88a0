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

/* memory_region_type() of a region that is no alias, from its description */
static const char *mt_type_name(const struct memtopo_region_state *st)
{
	switch (st->kind) {
	case MEMTOPO_RAM_DEVICE:
		return "ramd";
	case MEMTOPO_ROM_DEVICE:
		return (st->flags & MEMTOPO_RS_ROMD) ? "romd" : "i/o";
	case MEMTOPO_RAM:
	case MEMTOPO_ROM:
		return (st->flags & MEMTOPO_RS_READONLY) ? "rom" : "ram";
	default:
		return "i/o";
	}
}

/**
 * memtopo_region_type_name() - QEMU's memory_region_type().
 * @mr: a region.
 *
 * Context: the context mutex held.
 * Return: "ramd", "romd", "rom", "ram" or "i/o"; an alias answers for
 * its final target.
 */
const char *memtopo_region_type_name(const struct memtopo_region *mr)
{
	const struct memtopo_region *target;
	struct memtopo_region_state st;

	while ((target = memtopo_region_alias_target(mr)))
		mr = target;
	memtopo_region_describe_locked(mr, &st);
	return mt_type_name(&st);
}

static void mt_enqueue_alias(struct memtopo_mtree_buf *b, struct memtopo_region *target)
{
	u32 id = memtopo_region_id(target);

	if (b->err || xa_load(&b->queued, id))
		return;
	if (b->nr_queue == b->cap_queue) {
		b->err = memtopo_grow((void **)&b->queue, &b->cap_queue, sizeof(*b->queue),
				      U32_MAX);
		if (b->err)
			return;
	}
	b->err = xa_err(xa_store(&b->queued, id, target, GFP_KERNEL));
	if (!b->err)
		b->queue[b->nr_queue++] = target;
}

struct mt_child {
	struct memtopo_region *mr;
	u64 addr;
	s32 priority;
	u32 rank;	/* position in render order: QEMU's subregions list */
};

/* QEMU's print queue: by address, then higher priority, then list order. */
static int mt_child_cmp(const void *a, const void *b)
{
	const struct mt_child *x = a, *y = b;

	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	if (x->priority != y->priority)
		return x->priority > y->priority ? -1 : 1;
	return x->rank < y->rank ? -1 : 1;
}

/*
 * @mr's own line; returns where it starts, its children's base.  Out of
 * line, as mt_children() is, so that the recursion's frames do not each
 * hold a region's description.
 */
static noinline_for_stack u64 mt_print_line(struct memtopo_mtree_buf *b,
					    struct memtopo_region *mr, unsigned int level,
					    u64 base, bool disabled)
{
	struct memtopo_region *target = memtopo_region_alias_target(mr);
	struct memtopo_region_state st;
	u64 cur_start, cur_end;
	bool enabled;
	unsigned int i;

	memtopo_region_describe_locked(mr, &st);
	cur_start = base + st.addr;
	cur_end = cur_start + mt_size_m1(mr);
	enabled = st.flags & MEMTOPO_RS_ENABLED;
	/* QEMU warns this way, before the indent, even for hidden regions */
	if (cur_start < base || cur_end < cur_start)
		mt_printf(b, "[DETECTED OVERFLOW!] ");
	if (target)
		mt_enqueue_alias(b, target);
	if (enabled || disabled) {
		for (i = 0; i < level; i++)
			mt_printf(b, MTREE_INDENT);
		mt_printf(b, "%016llx-%016llx (prio %d, %s%s): ", cur_start, cur_end,
			  st.priority, (st.flags & MEMTOPO_RS_NONVOLATILE) ? "nv-" : "",
			  target ? memtopo_region_type_name(target) : mt_type_name(&st));
		if (target)
			mt_printf(b, "alias %s @%s %016llx-%016llx", st.name,
				  memtopo_region_name(target), st.alias_offset,
				  st.alias_offset + mt_size_m1(mr));
		else
			mt_printf(b, "%s", st.name);
		mt_printf(b, "%s\n", enabled ? "" : " [disabled]");
	}
	return cur_start;
}

/* @mr's children in print order (kvfree() them), or NULL: none, or b->err set. */
static noinline_for_stack struct mt_child *mt_children(struct memtopo_mtree_buf *b,
						       struct memtopo_region *mr, u32 *n)
{
	struct memtopo_region_state st;
	struct memtopo_region *child;
	struct mt_child *kids;
	u32 i;

	*n = 0;
	for (child = memtopo_region_first_child(mr); child;
	     child = memtopo_region_next_sibling(child))
		(*n)++;
	if (!*n || b->err)
		return NULL;
	kids = kvmalloc_array(*n, sizeof(*kids), GFP_KERNEL);
	if (!kids) {
		b->err = -ENOMEM;
		return NULL;
	}
	for (i = 0, child = memtopo_region_first_child(mr); child;
	     child = memtopo_region_next_sibling(child), i++) {
		memtopo_region_describe_locked(child, &st);
		kids[i].mr = child;
		kids[i].addr = st.addr;
		kids[i].priority = st.priority;
		kids[i].rank = i;
	}
	sort(kids, *n, sizeof(*kids), mt_child_cmp, NULL);
	return kids;
}

static void mt_print_mr(struct memtopo_mtree_buf *b, struct memtopo_region *mr,
			unsigned int level, u64 base, bool disabled)
{
	u64 cur_start = mt_print_line(b, mr, level, base, disabled);
	struct mt_child *kids;
	u32 n, i;

	kids = mt_children(b, mr, &n);
	if (!kids)
		return;
	for (i = 0; i < n; i++)
		mt_print_mr(b, kids[i].mr, level + 1, cur_start, disabled);
	kvfree(kids);
}

struct mt_space {
	struct memtopo_space *as;
	struct memtopo_space_state st;
};

/* The context's spaces in creation order, as memtopo_ctx_walk_spaces_locked() visits them. */
struct mt_spaces {
	struct mt_space *sp;
	u32 n, cap;
};

static int mt_space_collect(struct memtopo_space *as, void *arg)
{
	struct mt_spaces *s = arg;

	if (s->n == s->cap)
		return -EOVERFLOW;
	s->sp[s->n].as = as;
	memtopo_space_describe_locked(as, &s->sp[s->n].st);
	s->n++;
	return 0;
}

static int mt_spaces_get(struct memtopo_ctx *ctx, struct mt_spaces *s)
{
	struct memtopo_ctx_state cs;

	memtopo_ctx_describe_locked(ctx, &cs);
	s->n = 0;
	s->cap = cs.nr_spaces;
	s->sp = kvmalloc_array(max(s->cap, 1u), sizeof(*s->sp), GFP_KERNEL);
	if (!s->sp)
		return -ENOMEM;
	return memtopo_ctx_walk_spaces_locked(ctx, mt_space_collect, s);
}

static int mt_space_name_cmp(const void *a, const void *b)
{
	const struct mt_space *x = *(const struct mt_space **)a;
	const struct mt_space *y = *(const struct mt_space **)b;

	return strcmp(x->st.name, y->st.name);
}

/* "info mtree": spaces grouped by root (names sorted), then alias targets. */
static void mt_format_tree(struct memtopo_mtree_buf *b, struct memtopo_ctx *ctx, bool disabled)
{
	struct mt_spaces s = {};
	const struct mt_space **group = NULL;
	bool *done = NULL;
	u32 i, j, k;

	b->err = mt_spaces_get(ctx, &s);
	if (b->err)
		goto out;
	group = kvmalloc_array(max(s.n, 1u), sizeof(*group), GFP_KERNEL);
	done = kvcalloc(max(s.n, 1u), sizeof(*done), GFP_KERNEL);
	if (!group || !done) {
		b->err = -ENOMEM;
		goto out;
	}
	for (i = 0; i < s.n; i++) {
		u32 g = 0;

		if (done[i])
			continue;
		for (j = i; j < s.n; j++) {
			if (!done[j] && s.sp[j].st.root == s.sp[i].st.root) {
				done[j] = true;
				group[g++] = &s.sp[j];
			}
		}
		sort(group, g, sizeof(*group), mt_space_name_cmp, NULL);
		for (k = 0; k < g; k++)
			mt_printf(b, "address-space: %s\n", group[k]->st.name);
		mt_print_mr(b, memtopo_region_by_id_locked(ctx, s.sp[i].st.root), 1, 0, disabled);
		mt_printf(b, "\n");
	}
	/* the queue grows while it is printed, as in QEMU */
	for (i = 0; i < b->nr_queue && !b->err; i++) {
		mt_printf(b, "memory-region: %s\n", memtopo_region_name(b->queue[i]));
		mt_print_mr(b, b->queue[i], 1, 0, disabled);
		mt_printf(b, "\n");
	}
out:
	kvfree(done);
	kvfree(group);
	kvfree(s.sp);
}

static void mt_print_view(struct memtopo_mtree_buf *b, struct memtopo_view *view)
{
	struct memtopo_region_state st;
	struct memtopo_view_pos p;
	struct memtopo_section s;

	mt_printf(b, " Root memory region: %s\n",
		  view->root ? memtopo_region_name(view->root) : "(none)");
	if (!view->nr_ranges) {
		mt_printf(b, MTREE_INDENT "No rendered FlatView\n\n");
		return;
	}
	/* a range's region is never an alias: the render resolved them */
	for (memtopo_pos_walk(&p, view); memtopo_pos_shown(&p, &s); memtopo_pos_next_ahead(&p)) {
		memtopo_region_describe_locked(s.mr, &st);
		mt_printf(b, MTREE_INDENT "%016llx-%016llx (prio %d, %s%s): %s",
			  s.start, s.last, st.priority,
			  (s.flags & MEMTOPO_FR_NONVOLATILE) ? "nv-" : "",
			  (s.flags & MEMTOPO_FR_READONLY) ? "rom" : mt_type_name(&st), st.name);
		if (s.offset)
			mt_printf(b, " @%016llx", s.offset);
		mt_printf(b, "\n");
	}
	mt_printf(b, "\n");
}

/* "info mtree -f": each flat view once, with the spaces that share it. */
static void mt_format_flat(struct memtopo_mtree_buf *b, struct memtopo_ctx *ctx)
{
	struct memtopo_region *root, *target;
	struct mt_spaces s = {};
	u32 counter = 0, i, j;

	b->err = mt_spaces_get(ctx, &s);
	for (i = 0; i < s.n && !b->err; i++) {
		struct memtopo_view *view = memtopo_space_view_locked(s.sp[i].as);

		for (j = 0; j < i; j++)
			if (memtopo_space_view_locked(s.sp[j].as) == view)
				break;
		if (j < i)
			continue;
		mt_printf(b, "FlatView #%u\n", counter++);
		for (j = i; j < s.n; j++) {
			if (memtopo_space_view_locked(s.sp[j].as) != view)
				continue;
			root = memtopo_region_by_id_locked(ctx, s.sp[j].st.root);
			mt_printf(b, " AS \"%s\", root: %s", s.sp[j].st.name,
				  memtopo_region_name(root));
			target = memtopo_region_alias_target(root);
			if (target)
				mt_printf(b, ", alias %s", memtopo_region_name(target));
			mt_printf(b, "\n");
		}
		mt_print_view(b, view);
	}
	kvfree(s.sp);
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
