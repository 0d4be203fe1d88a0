// SPDX-License-Identifier: GPL-2.0
/*
 * Region objects: creation, destruction, the subregion tree and attribute
 * setters.  Every mutation validates everything before it changes anything,
 * so a refused call leaves the tree exactly as it was; then it records its
 * undo (undo.c), changes the tree and, outside a transaction, commits.  A
 * failed commit replays the records through memtopo_region_undo().
 */
#include <linux/export.h>
#include <linux/prefetch.h>
#include <linux/rbtree_augmented.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/string.h>

#include "memtopo_internal.h"
#include "memtopo_hooks.h"
#include "selftest.h"

/*
 * Regions come from their own caches, the name stored at the end of the
 * object: one allocation a region, no rounding up to a kmalloc size, and
 * a few size classes so a short name does not pay for the longest.  The
 * class is the smallest that holds the name and its NUL.
 */
static const u8 memtopo_name_room[] = { 8, 16, 24, 40, MEMTOPO_MAX_NAME };
static const char * const memtopo_region_cache_name[] = {
	"memtopo_region_8", "memtopo_region_16", "memtopo_region_24", "memtopo_region_40",
	"memtopo_region_64",
};

static struct kmem_cache *memtopo_region_cache[ARRAY_SIZE(memtopo_name_room)];

static unsigned int memtopo_name_class(size_t len)
{
	unsigned int c = 0;

	while (memtopo_name_room[c] <= len)
		c++;
	return c;
}

/**
 * memtopo_region_cache_exit() - destroy the region caches (module exit,
 * after rcu_barrier() has run the last region frees).
 */
void memtopo_region_cache_exit(void)
{
	unsigned int c;

	for (c = 0; c < ARRAY_SIZE(memtopo_region_cache); c++) {
		kmem_cache_destroy(memtopo_region_cache[c]);
		memtopo_region_cache[c] = NULL;
	}
}

/**
 * memtopo_region_cache_init() - create the region caches (module init).
 *
 * Return: 0 or -ENOMEM.
 */
int memtopo_region_cache_init(void)
{
	unsigned int c;

	BUILD_BUG_ON(ARRAY_SIZE(memtopo_region_cache_name) != ARRAY_SIZE(memtopo_name_room));
	for (c = 0; c < ARRAY_SIZE(memtopo_region_cache); c++) {
		memtopo_region_cache[c] =
			kmem_cache_create(memtopo_region_cache_name[c],
					  sizeof(struct memtopo_region) + memtopo_name_room[c],
					  __alignof__(struct memtopo_region), SLAB_ACCOUNT, NULL);
		if (!memtopo_region_cache[c]) {
			memtopo_region_cache_exit();
			return -ENOMEM;
		}
	}
	return 0;
}

static void memtopo_region_free(struct memtopo_region *mr)
{
	kmem_cache_free(memtopo_region_cache[memtopo_name_class(strlen(mr->name))], mr);
}

static u64 memtopo_region_addr_last(const struct memtopo_region *mr)
{
	return mr->addr + memtopo_region_last_off(mr);
}

/*
 * The interval a child occupies in its parent's tree.  A size-0 child
 * renders nothing but is still a child (info mtree prints it): it is kept
 * at [addr, addr], and the queries that look for content skip it.
 */
static u64 memtopo_region_it_last(const struct memtopo_region *mr)
{
	return memtopo_region_empty(mr) ? mr->addr : memtopo_region_addr_last(mr);
}

RB_DECLARE_CALLBACKS_MAX(static, memtopo_it_augment, struct memtopo_region, addr_node, u64,
			 subtree_last, memtopo_region_it_last);

static struct memtopo_region *memtopo_it_entry(struct rb_node *node)
{
	return node ? rb_entry(node, struct memtopo_region, addr_node) : NULL;
}

/*
 * The one order of a parent's tree: by address, then in render order, so
 * that walking it is deterministic (a rolled-back tree walks as it did)
 * and is info mtree's order.
 */
static bool memtopo_sibling_less(const struct memtopo_region *a,
				 const struct memtopo_region *b)
{
	if (a->addr != b->addr)
		return a->addr < b->addr;
	return memtopo_region_render_before(a, b);
}

static struct memtopo_region *memtopo_prev_sibling(const struct memtopo_region *mr)
{
	return memtopo_it_entry(rb_prev(&mr->addr_node));
}

/* Do consecutive children @a then @b (either may be NULL) overlap? */
static bool memtopo_kids_meet(const struct memtopo_region *a, const struct memtopo_region *b)
{
	return a && b && memtopo_region_it_last(a) >= b->addr;
}

/*
 * How many overlapping consecutive pairs a child with interval [@first,
 * @last] makes between @prev and @next (either may be NULL), less the pair
 * it parts: what placing it there adds to its parent's count, taking it
 * out removes.  Children are in address order, so two consecutive ones
 * overlap exactly when the first's last address reaches the second.
 */
static int memtopo_kids_parted(const struct memtopo_region *prev, u64 first, u64 last,
			       const struct memtopo_region *next)
{
	return (prev && memtopo_region_it_last(prev) >= first) + (next && last >= next->addr) -
	       memtopo_kids_meet(prev, next);
}

/*
 * How many pairs of consecutive children of @mr overlap, or
 * MEMTOPO_KIDS_MANY.  None means no two children overlap at all: sorted
 * by address, each ends before the next starts.
 */
static u32 memtopo_kids_overlapping(const struct memtopo_region *mr)
{
	return (mr->flags & MEMTOPO_RF_KIDS) >> MEMTOPO_RF_KIDS_SHIFT;
}

static void memtopo_kids_set(struct memtopo_region *mr, u32 n)
{
	/* lockless readers (consumer.c) read the other bits with READ_ONCE() */
	WRITE_ONCE(mr->flags, (mr->flags & ~MEMTOPO_RF_KIDS) | (n << MEMTOPO_RF_KIDS_SHIFT));
}

/*
 * How far past its address a child of @mr can reach: a bound that grows
 * with every child placed and drops only when the last one leaves, so that
 * a child further than that before an address cannot meet it.  Only a
 * container keeps one (its alias and device fields are free); for any other
 * parent it is U64_MAX, no bound.
 */
static u64 memtopo_kids_reach(const struct memtopo_region *mr)
{
	return mr->kind == MEMTOPO_CONTAINER ? mr->kids_reach : U64_MAX;
}

static void memtopo_kids_reach_grow(struct memtopo_region *parent,
				    const struct memtopo_region *child)
{
	if (parent->kind == MEMTOPO_CONTAINER)
		parent->kids_reach = max(parent->kids_reach,
					 memtopo_region_it_last(child) - child->addr);
}

static void memtopo_kids_count(struct memtopo_region *mr, int delta)
{
	int n = memtopo_kids_overlapping(mr);

	if (!delta || n == MEMTOPO_KIDS_MANY)
		return;
	n += delta;
	if (WARN_ON_ONCE(n < 0) || n > MEMTOPO_KIDS_MANY)
		n = MEMTOPO_KIDS_MANY;
	memtopo_kids_set(mr, n);
}

/*
 * Children live only in their parent's interval tree, augmented with the
 * largest last address below each node: overlap queries are O(log n + k),
 * and render order (priority, then most recently added) is sorted out of
 * what a render actually visits, so no second per-child tree is kept.
 */
static void memtopo_children_insert(struct memtopo_region *parent,
				    struct memtopo_region *child)
{
	struct rb_node **link = &parent->by_addr.rb_node, *up = NULL;
	u64 last = memtopo_region_it_last(child);
	struct memtopo_region *other;

	while (*link) {
		up = *link;
		other = rb_entry(up, struct memtopo_region, addr_node);
		if (other->subtree_last < last)
			other->subtree_last = last;
		link = memtopo_sibling_less(child, other) ? &up->rb_left : &up->rb_right;
	}
	child->subtree_last = last;
	rb_link_node(&child->addr_node, up, link);
	rb_insert_augmented(&child->addr_node, &parent->by_addr, &memtopo_it_augment);
	memtopo_kids_count(parent,
			   memtopo_kids_parted(memtopo_prev_sibling(child), child->addr, last,
					       memtopo_region_next_sibling(child)));
	memtopo_kids_reach_grow(parent, child);
	parent->ctx->kid_finger = child;
}

/* Take @child, whose interval was [@first, @last], out of @parent's tree. */
static void memtopo_children_erase(struct memtopo_region *parent, struct memtopo_region *child,
				   u64 first, u64 last)
{
	memtopo_kids_count(parent, -memtopo_kids_parted(memtopo_prev_sibling(child), first, last,
							memtopo_region_next_sibling(child)));
	rb_erase_augmented(&child->addr_node, &parent->by_addr, &memtopo_it_augment);
	if (RB_EMPTY_ROOT(&parent->by_addr)) {
		memtopo_kids_set(parent, 0);
		if (parent->kind == MEMTOPO_CONTAINER)
			parent->kids_reach = 0;
	}
	if (parent->ctx->kid_finger == child)
		parent->ctx->kid_finger = NULL;
}

static void memtopo_children_remove(struct memtopo_region *parent,
				    struct memtopo_region *child)
{
	memtopo_children_erase(parent, child, child->addr, memtopo_region_it_last(child));
}

/*
 * @child's key (address, size, render order) has just changed from an
 * interval of [@first, @last]: put it back in order.  A move that keeps it
 * between its neighbours (a BAR moving within its gap, a resize, a
 * priority change among equal addresses) only updates the largest last
 * address on the way up, which stops where it no longer changes: an erase
 * and an insert would rebalance, touching nodes off the path that at 10^6
 * children are not in the cache.
 */
static void memtopo_children_rekey(struct memtopo_region *parent,
				   struct memtopo_region *child, u64 first, u64 last)
{
	struct memtopo_region *p = memtopo_prev_sibling(child);
	struct memtopo_region *n = memtopo_region_next_sibling(child);

	if ((!p || memtopo_sibling_less(p, child)) && (!n || memtopo_sibling_less(child, n))) {
		memtopo_kids_count(parent, memtopo_kids_parted(p, child->addr,
							       memtopo_region_it_last(child), n) -
					   memtopo_kids_parted(p, first, last, n));
		memtopo_it_augment_propagate(&child->addr_node, NULL);
		memtopo_kids_reach_grow(parent, child);
		parent->ctx->kid_finger = child;
		return;
	}
	memtopo_children_erase(parent, child, first, last);
	memtopo_children_insert(parent, child);
}

/* The first region of @node's subtree whose interval meets [first, last]. */
static struct memtopo_region *memtopo_it_subtree_first(struct rb_node *node, u64 first,
						       u64 last)
{
	struct memtopo_region *mr = memtopo_it_entry(node), *side;

	for (;;) {
		/*
		 * The way on is either child, known only once the left one is
		 * read: fetch both at once.  At 10^6 children the lower levels
		 * are out of the cache, and a descent that turns right would
		 * otherwise wait for two misses, one after the other.
		 */
		prefetch(mr->addr_node.rb_right);
		side = memtopo_it_entry(mr->addr_node.rb_left);
		if (side && first <= side->subtree_last) {
			mr = side;
			continue;
		}
		/* everything to the right starts at or after mr */
		if (mr->addr > last)
			return NULL;
		if (first <= memtopo_region_it_last(mr))
			return mr;
		side = memtopo_it_entry(mr->addr_node.rb_right);
		if (!side || first > side->subtree_last)
			return NULL;
		mr = side;
	}
}

static struct memtopo_region *memtopo_it_first(const struct rb_root *root, u64 first, u64 last)
{
	struct memtopo_region *top = memtopo_it_entry(root->rb_node);

	if (!top || first > top->subtree_last)
		return NULL;
	return memtopo_it_subtree_first(root->rb_node, first, last);
}

/*
 * The most siblings memtopo_kids_first_before() steps back over by the
 * reach bound: a map of children overlapping everywhere has a few within
 * reach of an address; past this many the bound is too loose to beat a
 * descent from the root.
 */
#define MEMTOPO_KIDS_REACH_STEPS	16

/*
 * The first child of @mr in tree order meeting [@first, ...], given @c, a
 * child of @mr starting at or below the range's last address and ending at
 * or above @first, or NULL when neither of @mr's bounds finds it in a few
 * steps back from @c.  When every overlapping pair of consecutive children
 * has @c in it (none, or a region moved onto its neighbour), each child
 * before @c ends before the next one starts, so those reaching @first are
 * the ones just before @c.  Else, while no child reaches further than
 * memtopo_kids_reach() past its address, a child starting more than that
 * before @first, and any before it, ends before @first.  At 10^6 children
 * a descent from the root misses the cache on most of its lower levels;
 * @c's neighbours are a step away.
 */
static struct memtopo_region *memtopo_kids_first_before(const struct memtopo_region *mr,
							struct memtopo_region *c, u64 first)
{
	struct memtopo_region *prev = memtopo_prev_sibling(c);
	u32 k = memtopo_kids_overlapping(mr), steps = 0;
	u64 reach;

	if (!k || (k != MEMTOPO_KIDS_MANY &&
		   k == memtopo_kids_meet(prev, c) +
			memtopo_kids_meet(c, memtopo_region_next_sibling(c)))) {
		while (prev && memtopo_region_it_last(prev) >= first) {
			c = prev;
			prev = memtopo_prev_sibling(c);
		}
		return c;
	}
	reach = memtopo_kids_reach(mr);
	/* no bound: a child covering everything, or not a container */
	if (reach == U64_MAX)
		return NULL;
	for (; prev && (prev->addr >= first || first - prev->addr <= reach);
	     prev = memtopo_prev_sibling(prev)) {
		if (++steps > MEMTOPO_KIDS_REACH_STEPS)
			return NULL;
		if (memtopo_region_it_last(prev) >= first)
			c = prev;
	}
	mr->ctx->stat_reach_hits++;
	return c;
}

/*
 * The first child of @mr meeting [@first, @last], found from the context's
 * finger, or NULL to search from the root.  The finger is the child a
 * change just placed, or its ancestor among @mr's children, which a window
 * re-rendering that change meets.
 */
static struct memtopo_region *memtopo_it_first_near(const struct memtopo_region *mr, u64 first,
						    u64 last)
{
	struct memtopo_region *f = mr->ctx->kid_finger;

	while (f && f->parent != mr)
		f = f->parent;
	if (!f || f->addr > last || memtopo_region_it_last(f) < first)
		return NULL;
	return memtopo_kids_first_before(mr, f, first);
}

/* The next region after @mr, in tree order, whose interval meets [first, last]. */
static struct memtopo_region *memtopo_it_next(struct memtopo_region *mr, u64 first, u64 last)
{
	struct rb_node *node = &mr->addr_node, *right = node->rb_right, *up;
	struct memtopo_region *side;

	for (;;) {
		side = memtopo_it_entry(right);
		/* what follows the right subtree starts after all of it */
		if (side && first <= side->subtree_last)
			return memtopo_it_subtree_first(right, first, last);
		/* climb until we come up from a left child */
		do {
			up = rb_parent(node);
			if (!up)
				return NULL;
			right = up->rb_right;
			if (right != node)
				break;
			node = up;
		} while (1);
		node = up;
		mr = memtopo_it_entry(node);
		if (mr->addr > last)
			return NULL;
		if (first <= memtopo_region_it_last(mr))
			return mr;
	}
}

/**
 * memtopo_region_first_child() - the first child of a region, in address
 * order (then render order among equal addresses).
 * @mr: the parent.
 *
 * For walks that visit every child; render order is what
 * memtopo_region_children_sorted() gives.
 *
 * Return: the child or NULL.
 */
struct memtopo_region *memtopo_region_first_child(const struct memtopo_region *mr)
{
	return memtopo_it_entry(rb_first(&mr->by_addr));
}

/**
 * memtopo_region_next_sibling() - the sibling after @mr, in the order of
 * memtopo_region_first_child().
 * @mr: an attached region.
 *
 * Return: the sibling or NULL.
 */
struct memtopo_region *memtopo_region_next_sibling(const struct memtopo_region *mr)
{
	return memtopo_it_entry(rb_next(&mr->addr_node));
}

/**
 * memtopo_region_sole_enabled_child() - the one enabled child of @mr.
 * @mr: a region.
 * @none: set to whether @mr has no enabled child at all.
 *
 * Which children are enabled is asked, not in what order: the tree's top
 * three nodes settle a container of many enabled children at once, where
 * a walk in address order first descends to its leftmost child (some 20
 * cache misses a commit over 10^6 leaves: the effective root is asked at
 * every commit).
 *
 * Context: the context mutex held.
 * Return: the only enabled child; NULL when there is none or several.
 */
struct memtopo_region *memtopo_region_sole_enabled_child(const struct memtopo_region *mr,
							 bool *none)
{
	struct rb_node *top = mr->by_addr.rb_node;
	struct memtopo_region *child, *one = NULL;
	unsigned int near = 0;

	*none = false;
	if (top) {
		near = memtopo_region_enabled(memtopo_it_entry(top));
		if (top->rb_left)
			near += memtopo_region_enabled(memtopo_it_entry(top->rb_left));
		if (top->rb_right)
			near += memtopo_region_enabled(memtopo_it_entry(top->rb_right));
	}
	if (near > 1)
		return NULL;
	for (child = memtopo_region_first_child(mr); child;
	     child = memtopo_region_next_sibling(child)) {
		if (!memtopo_region_enabled(child))
			continue;
		if (one)
			return NULL;
		one = child;
	}
	*none = !one;
	return one;
}

/**
 * memtopo_region_visit_children() - call @v for each child of @mr that
 * renders inside [@first, @last] (in @mr's coordinates), in address order;
 * size-0 children render nothing and are left out.
 * @mr: the parent.
 * @first: first offset.
 * @last: last offset.
 * @v: its visit() is called with each child; a non-zero return stops the
 *	walk.
 *
 * O(log n + k) for k matches: what lets a windowed render skip the
 * siblings it cannot touch.  The renderer sorts what it is given into
 * render order (memtopo_region_render_key()) while each child is still in
 * the cache.
 *
 * Context: the context mutex held (or the tree otherwise kept from changing,
 *	as by a test's one thread): the search starts from the context's finger.
 *
 * Return: 0, or what visit() returned.
 */
int memtopo_region_visit_children(struct memtopo_region *mr, u64 first, u64 last,
				  struct memtopo_child_visitor *v)
{
	struct memtopo_region *child, *top = memtopo_it_entry(mr->by_addr.rb_node);
	/* every child meets the range: a plain in-order walk is cheaper */
	bool all = top && !first && last >= top->subtree_last;
	int ret;

	if (all)
		child = memtopo_region_first_child(mr);
	else
		child = memtopo_it_first_near(mr, first, last) ?:
			memtopo_it_first(&mr->by_addr, first, last);
	for (; child; child = all ? memtopo_region_next_sibling(child) :
				     memtopo_it_next(child, first, last)) {
		if (memtopo_region_empty(child))
			continue;
		ret = v->visit(v, child);
		if (ret)
			return ret;
	}
	return 0;
}

static int memtopo_sibling_cmp(const void *a, const void *b)
{
	const struct memtopo_region *x = *(const struct memtopo_region * const *)a;
	const struct memtopo_region *y = *(const struct memtopo_region * const *)b;

	return memtopo_region_render_before(x, y) ? -1 : 1;
}

/**
 * memtopo_region_children_sorted() - every child of @mr, size-0 ones
 * included, in render order (priority desc, then most recently added).
 * @mr: the parent, context locked.
 * @buf: a growable array (kvmalloc'ed, grown here); the children replace
 *	its contents.
 * @nr: set to the number of children.
 * @cap: entries allocated.
 *
 * For the slow paths that list children in render order (GET_REGIONS);
 * the renderer sorts only what it visits.
 *
 * Return: 0 or -ENOMEM.
 */
int memtopo_region_children_sorted(const struct memtopo_region *mr,
				   struct memtopo_region ***buf, u32 *nr, u32 *cap)
{
	struct memtopo_region *child;
	int ret;

	*nr = 0;
	for (child = memtopo_region_first_child(mr); child;
	     child = memtopo_region_next_sibling(child)) {
		if (*nr == *cap) {
			ret = memtopo_grow((void **)buf, cap, sizeof(**buf), U32_MAX / 2);
			if (ret)
				return ret;
		}
		(*buf)[(*nr)++] = child;
	}
	if (*nr > 1)
		sort(*buf, *nr, sizeof(**buf), memtopo_sibling_cmp, NULL);
	return 0;
}

static int memtopo_seq_cmp(const void *a, const void *b)
{
	u32 x = (*(const struct memtopo_region * const *)a)->seq;
	u32 y = (*(const struct memtopo_region * const *)b)->seq;

	return x < y ? -1 : x > y;
}

/**
 * memtopo_region_renumber() - give the attached regions sequence numbers
 * 1..n in the order they have, so the counter never wraps.
 * @ctx: the context, locked, with an empty undo log (records hold
 *	sequence numbers).
 *
 * Only the order of sequence numbers among siblings matters, so rendering
 * is unchanged.  This runs once every 2^31 attaches; if the array cannot be
 * allocated, the next commit tries again.
 */
void memtopo_region_renumber(struct memtopo_ctx *ctx)
{
	struct memtopo_region **all, *mr;
	unsigned long id;
	u32 n = 0, i;

	memtopo_assert_locked(ctx);
	if (WARN_ON_ONCE(ctx->undo.nr))
		return;
	all = kvmalloc_array(max(ctx->nr_regions, 1u), sizeof(*all), GFP_KERNEL_ACCOUNT);
	if (!all)
		return;
	xa_for_each(&ctx->objects, id, mr)
		if (mr->parent && n < ctx->nr_regions)
			all[n++] = mr;
	sort(all, n, sizeof(*all), memtopo_seq_cmp, NULL);
	for (i = 0; i < n; i++)
		all[i]->seq = i + 1;
	ctx->seq = n;
	kvfree(all);
}

static bool memtopo_kind_valid(enum memtopo_kind kind)
{
	return (unsigned int)kind < MEMTOPO_KIND_COUNT;
}

/* addr + size must not pass 2^64. */
static bool memtopo_range_fits(u64 addr, u64 size, bool size64)
{
	if (size64)
		return addr == 0;
	return !size || addr <= U64_MAX - (size - 1);
}

static unsigned int memtopo_alias_chain(const struct memtopo_region *mr)
{
	unsigned int n = 0;

	for (; mr && mr->kind == MEMTOPO_ALIAS; mr = mr->alias)
		n++;
	return n;
}

/*
 * The one writer of a region's parent: an alias that gains or loses one
 * is counted down its chain of targets (memtopo_region_is_mapped()).
 */
static void memtopo_set_parent(struct memtopo_region *child, struct memtopo_region *parent)
{
	if (child->kind == MEMTOPO_ALIAS && !child->parent != !parent)
		memtopo_hook_alias_mapped(child, parent ? 1 : -1);
	child->parent = parent;
}

/*
 * What a region costs the context's memory budget: its object, name
 * included, and the kernel memory of its backing (kernel-owned RAM), which
 * it holds alive until it is freed.
 */
static size_t memtopo_region_cost(const struct memtopo_region *mr)
{
	return sizeof(*mr) + memtopo_name_room[memtopo_name_class(strlen(mr->name))] +
	       (mr->backing ? mr->backing->charge : 0);
}

/**
 * memtopo_region_space_users() - how many spaces are rooted at a region.
 * @mr: the region, context locked.
 *
 * Counted when asked (destroy, tests) rather than kept in every region: a
 * context has at most MEMTOPO_MAX_SPACES spaces.
 *
 * Context: the context mutex held (asserted).
 * Return: the number of live spaces whose root is @mr.
 */
u32 memtopo_region_space_users(const struct memtopo_region *mr)
{
	struct memtopo_space *as;
	u32 n = 0;

	memtopo_assert_locked(mr->ctx);
	list_for_each_entry(as, &mr->ctx->spaces, link)
		n += as->root == mr;
	return n;
}
EXPORT_SYMBOL_FOR_MEMTOPO_TESTS(memtopo_region_space_users);

/**
 * memtopo_region_create_locked() - create a detached region.
 * @ctx: the owner, locked.
 * @info: what to create.
 *
 * Context: process context, the context mutex held (asserted); may sleep.
 * Return: the region (the context holds its reference until
 * memtopo_region_destroy()), or ERR_PTR(): -EINVAL for a bad kind, name,
 * or a missing or foreign alias target, -ENOENT for a destroyed one,
 * -EMLINK for an alias chain longer than MEMTOPO_MAX_ALIAS_CHAIN, -ENOSPC
 * at MEMTOPO_MAX_REGIONS or past the context's memory budget, -ENOMEM.
 * IDs are allocated cyclically: one is not handed out again until the ID
 * space wraps.  A refused create, or one a failed commit undoes, leaves the
 * cursor where it was: the next region gets the ID it would have had.
 */
struct memtopo_region *memtopo_region_create_locked(struct memtopo_ctx *ctx,
						    const struct memtopo_region_info *info)
{
	struct memtopo_region *mr;
	const char *name = info->name ? info->name : "";
	size_t len = strnlen(name, MEMTOPO_MAX_NAME);
	struct memtopo_undo *u;
	int ret;

	memtopo_assert_locked(ctx);
	if (!memtopo_kind_valid(info->kind) || len >= MEMTOPO_MAX_NAME)
		return ERR_PTR(-EINVAL);
	if (info->kind == MEMTOPO_ALIAS) {
		struct memtopo_region *target = info->alias_target;

		if (!target || target->ctx != ctx)
			return ERR_PTR(-EINVAL);
		ret = memtopo_region_check_live(target);
		if (ret)
			return ERR_PTR(ret);
		if (memtopo_alias_chain(target) + 1 > MEMTOPO_MAX_ALIAS_CHAIN)
			return ERR_PTR(-EMLINK);
	} else if (info->alias_target) {
		return ERR_PTR(-EINVAL);
	}
	if (info->backing && !memtopo_kind_has_ram(info->kind))
		return ERR_PTR(-EINVAL);
	if (ctx->nr_regions >= MEMTOPO_MAX_REGIONS)
		return ERR_PTR(-ENOSPC);
	/* attaching the alias later cannot fail: what it counts on is made now */
	if (info->kind == MEMTOPO_ALIAS) {
		ret = memtopo_hook_alias_create(info->alias_target);
		if (ret)
			return ERR_PTR(ret);
	}

	u = memtopo_undo_push(ctx, MEMTOPO_UNDO_REGION_CREATE, NULL);
	if (IS_ERR(u))
		return ERR_CAST(u);
	mr = kmem_cache_zalloc(memtopo_region_cache[memtopo_name_class(len)], GFP_KERNEL_ACCOUNT);
	if (!mr) {
		ret = -ENOMEM;
		goto err_undo;
	}
	memcpy(mr->name, name, len + 1);
	mr->backing = info->backing;
	ret = memtopo_ctx_charge_locked(ctx, memtopo_region_cost(mr));
	if (ret)
		goto err_free;

	mr->ctx = ctx;
	mr->kind = info->kind;
	mr->size = info->size_is_2_64 ? 0 : info->size;
	mr->flags = MEMTOPO_RF_ENABLED | (info->size_is_2_64 ? MEMTOPO_RF_SIZE64 : 0);
	if (info->kind == MEMTOPO_ROM)
		mr->flags |= MEMTOPO_RF_READONLY;
	if (info->kind == MEMTOPO_ROM_DEVICE)
		mr->flags |= MEMTOPO_RF_ROMD;
	mr->by_addr = RB_ROOT;
	if (info->kind == MEMTOPO_IO || info->kind == MEMTOPO_ROM_DEVICE) {
		mr->ops = info->ops;
		mr->opaque = info->opaque;
	}
	refcount_set(&mr->ref, 1);
	/* RAM created while global dirty logging is on needs its bitmap now */
	ret = memtopo_hook_dirty_prepare(mr, memtopo_hook_dirty_log_mask(mr), NULL);
	if (ret)
		goto err_parity;
	/*
	 * Cyclic, as PIDs: a stale ID names nothing until the space wraps,
	 * except an undone create's, which the next create is given again:
	 * a rollback puts the cursor back (memtopo_region_undo()).  Taken
	 * last, once nothing else can refuse the create, because a refused
	 * create must not move the cursor; and it publishes the region to
	 * lockless walkers of the ID table only once it is whole.
	 */
	u->id_next = ctx->next_region_id;
	ret = xa_alloc_cyclic(&ctx->objects, &mr->id, mr, XA_LIMIT(1, INT_MAX),
			      &ctx->next_region_id, GFP_KERNEL_ACCOUNT);
	if (ret < 0)
		goto err_parity;
	if (info->kind == MEMTOPO_ALIAS) {
		mr->alias = info->alias_target;
		mr->alias_offset = info->alias_offset;
		memtopo_region_get(mr->alias);
		mr->alias->alias_users++;
		memtopo_hook_alias_link(mr, true);
	}
	if (mr->backing)
		memtopo_backing_get(mr->backing);
	ctx->nr_regions++;
	u->obj = mr;
	/* nothing to render: this only forgets the record outside a transaction */
	memtopo_ctx_settle(ctx);
	return mr;

err_parity:
	memtopo_hook_region_free(mr);
	memtopo_ctx_uncharge_locked(ctx, memtopo_region_cost(mr));
err_free:
	memtopo_region_free(mr);
err_undo:
	memtopo_undo_cancel(ctx);
	return ERR_PTR(ret);
}
EXPORT_SYMBOL_NS_GPL(memtopo_region_create_locked, MEMTOPO);

MEMTOPO_LOCKED_WRAPPER_PTR(region, region_create, ctx,
			   (struct memtopo_ctx *ctx, const struct memtopo_region_info *info),
			   (ctx, info));

/**
 * memtopo_region_get() - take a reference on a region.
 * @mr: the region.
 *
 * Context: any; the caller already holds a reference, or the context mutex
 * while @mr is not destroyed.
 */
void memtopo_region_get(struct memtopo_region *mr)
{
	refcount_inc(&mr->ref);
}
EXPORT_SYMBOL_NS_GPL(memtopo_region_get, MEMTOPO);

static void memtopo_region_free_rcu(struct rcu_head *head)
{
	struct memtopo_region *mr = container_of(head, struct memtopo_region, rcu);

	memtopo_hook_region_free(mr);
	memtopo_backing_put(mr->backing);
	memtopo_region_free(mr);
}

/**
 * memtopo_region_put() - drop a reference; the last one frees the region
 * after an RCU grace period.
 * @mr: the region (may be NULL).
 *
 * Context: any; never sleeps (the free runs after an RCU grace period).
 */
void memtopo_region_put(struct memtopo_region *mr)
{
	struct memtopo_region *target;

	while (mr && refcount_dec_and_test(&mr->ref)) {
		target = memtopo_region_alias_target(mr);
		call_rcu(&mr->rcu, memtopo_region_free_rcu);
		/* iterate, not recurse: alias chains stay off the stack */
		mr = target;
	}
}
EXPORT_SYMBOL_NS_GPL(memtopo_region_put, MEMTOPO);

/*
 * Destroyed, but its ID stays reserved (lookups find nothing, no new region
 * takes it) until the commit, so undoing this allocates nothing.
 */
static void memtopo_region_kill(struct memtopo_region *mr)
{
	struct memtopo_ctx *ctx = mr->ctx;

	mr->flags |= MEMTOPO_RF_DESTROYED;
	/* storing over a present entry never allocates */
	WARN_ON(xa_err(xa_store(&ctx->objects, mr->id, NULL, GFP_KERNEL)));
	ctx->nr_regions--;
	if (mr->kind == MEMTOPO_ALIAS) {
		mr->alias->alias_users--;
		memtopo_hook_alias_link(mr, false);
	}
}

static void memtopo_region_revive(struct memtopo_region *mr)
{
	struct memtopo_ctx *ctx = mr->ctx;

	mr->flags &= ~MEMTOPO_RF_DESTROYED;
	WARN_ON(xa_err(xa_store(&ctx->objects, mr->id, mr, GFP_KERNEL)));
	ctx->nr_regions++;
	if (mr->kind == MEMTOPO_ALIAS) {
		mr->alias->alias_users++;
		memtopo_hook_alias_link(mr, true);
	}
}

/**
 * memtopo_region_finish_destroy() - a commit published views without a
 * destroyed region: free its ID and drop the context's reference.
 * @mr: the region, context locked.
 */
void memtopo_region_finish_destroy(struct memtopo_region *mr)
{
	xa_erase(&mr->ctx->objects, mr->id);
	/* charged until no view can show it: an undone destroy keeps it */
	memtopo_ctx_uncharge_locked(mr->ctx, memtopo_region_cost(mr));
	memtopo_hook_region_destroyed(mr);
	memtopo_region_put(mr);
}

/**
 * memtopo_region_destroy_locked() - drop the context's hold on a region.
 * @mr: a detached region with no subregions, no aliases targeting it and
 *	not the root of a space.
 *
 * Context: process context, the context mutex held (asserted); may sleep.
 * Return: 0, -EBUSY if it is still in use, -ENOENT if already destroyed,
 * -ENOSPC past the context's memory budget (its undo record), -ENOMEM.
 */
int memtopo_region_destroy_locked(struct memtopo_region *mr)
{
	struct memtopo_ctx *ctx = mr->ctx;
	struct memtopo_undo *u;
	int ret;

	memtopo_assert_locked(ctx);
	ret = memtopo_region_check_live(mr);
	if (ret)
		return ret;
	if (mr->parent || !RB_EMPTY_ROOT(&mr->by_addr) || mr->alias_users ||
	    memtopo_region_space_users(mr))
		return -EBUSY;
	u = memtopo_undo_push(ctx, MEMTOPO_UNDO_REGION_DESTROY, mr);
	if (IS_ERR(u))
		return PTR_ERR(u);
	memtopo_region_kill(mr);
	/* the published views may still show it: the commit puts it */
	list_add_tail(&mr->deferred, &ctx->deferred_puts);
	return memtopo_ctx_settle(ctx);
}
EXPORT_SYMBOL_NS_GPL(memtopo_region_destroy_locked, MEMTOPO);

MEMTOPO_LOCKED_WRAPPER(region_destroy, mr->ctx,
		       (struct memtopo_region *mr),
		       (mr));

/**
 * memtopo_region_destroy_all() - tear down every region of a dying context.
 * @ctx: the context, locked, with no spaces left.
 */
void memtopo_region_destroy_all(struct memtopo_ctx *ctx)
{
	struct memtopo_region *mr, *child;
	unsigned long id;

	memtopo_assert_locked(ctx);
	/* detach everything first so no destroy below sees a user */
	xa_for_each(&ctx->objects, id, mr) {
		while ((child = memtopo_region_first_child(mr))) {
			memtopo_children_remove(mr, child);
			memtopo_set_parent(child, NULL);
		}
	}
	xa_for_each(&ctx->objects, id, mr) {
		memtopo_region_kill(mr);
		list_add_tail(&mr->deferred, &ctx->deferred_puts);
	}
	list_for_each_entry_safe(mr, child, &ctx->deferred_puts, deferred) {
		list_del(&mr->deferred);
		memtopo_region_finish_destroy(mr);
	}
}

/* Longest chain of tree edges below @mr (0 for a leaf). */
static int memtopo_region_height(struct memtopo_region *mr, int limit)
{
	struct memtopo_region *child;
	int h = 0, sub;

	if (limit < 0)
		return 1;
	for (child = memtopo_region_first_child(mr); child;
	     child = memtopo_region_next_sibling(child)) {
		sub = memtopo_region_height(child, limit - 1) + 1;
		if (sub > h)
			h = sub;
		if (h > limit)
			break;
	}
	return h;
}

static int memtopo_region_depth(const struct memtopo_region *mr)
{
	int d = 0;

	for (; mr->parent; mr = mr->parent)
		d++;
	return d;
}

/*
 * Can rendering @from reach @to, through subregions and alias targets?
 * A breadth-first walk over distinct regions: each one is marked
 * MEMTOPO_RF_VISITED when queued, so a subtree shared by many aliases is
 * walked once and the work is bounded by the region count, not by the
 * number of paths (six levels of 16 aliases are 2^24 paths over 97
 * regions).  The answer is exact: there is no step budget.  The queue is
 * on the heap, as nesting and alias chains multiply, and doubles as the
 * list of marks to clear.
 * Return: 1 if it reaches, 0 if not, -ENOMEM.
 */
static int memtopo_region_reaches(struct memtopo_region *from,
				  const struct memtopo_region *to)
{
	struct memtopo_region **seen = NULL, *mr, *child, *target;
	u32 n = 0, i, cap = 0;
	int ret;

	ret = memtopo_grow((void **)&seen, &cap, sizeof(*seen), U32_MAX);
	if (ret)
		return ret;
	from->flags |= MEMTOPO_RF_VISITED;
	seen[n++] = from;
	for (i = 0; i < n && !ret; i++) {
		mr = seen[i];
		if (mr == to) {
			ret = 1;
			break;
		}
		target = memtopo_region_alias_target(mr);
		for (child = target ? target : memtopo_region_first_child(mr); child;
		     child = target ? NULL : memtopo_region_next_sibling(child)) {
			if (child->flags & MEMTOPO_RF_VISITED)
				continue;
			if (n == cap) {
				ret = memtopo_grow((void **)&seen, &cap, sizeof(*seen), U32_MAX);
				if (ret)
					break;
			}
			child->flags |= MEMTOPO_RF_VISITED;
			seen[n++] = child;
		}
	}
	for (i = 0; i < n; i++)
		seen[i]->flags &= ~MEMTOPO_RF_VISITED;
	kvfree(seen);
	return ret;
}

/*
 * Is @mr @of itself or one of its ancestors?  Subregion edges must stay a
 * forest whatever the kinds: "info mtree" prints an alias's subregions
 * too, though rendering never visits them.
 */
static bool memtopo_region_is_ancestor(const struct memtopo_region *mr,
				       const struct memtopo_region *of)
{
	for (; of; of = of->parent)
		if (of == mr)
			return true;
	return false;
}

/* Does @other, a sibling of @child, overlap it where QEMU would warn? */
static bool memtopo_overlap_warned(const struct memtopo_region *child,
				   const struct memtopo_region *other)
{
	return other && other != child && !(other->flags & MEMTOPO_RF_MAY_OVERLAP) &&
	       memtopo_region_enabled(other) && !memtopo_region_empty(other) &&
	       other->addr <= memtopo_region_addr_last(child) &&
	       child->addr <= memtopo_region_addr_last(other);
}

static void memtopo_note_overlap(struct memtopo_region *parent,
				 struct memtopo_region *child)
{
	struct memtopo_region *other, *prev, *next;
	u32 k = memtopo_kids_overlapping(parent);

	if ((child->flags & MEMTOPO_RF_MAY_OVERLAP) || memtopo_region_empty(child) || !k)
		return;
	prev = memtopo_prev_sibling(child);
	next = memtopo_region_next_sibling(child);
	if (k == memtopo_kids_meet(prev, child) + memtopo_kids_meet(child, next)) {
		/*
		 * Every overlapping pair has @child in it, so the children
		 * on either side end in order: before it only its neighbour
		 * can reach it, after it those starting inside it.
		 */
		other = memtopo_overlap_warned(child, prev) ? prev : NULL;
		for (; !other && next && next->addr <= memtopo_region_addr_last(child);
		     next = memtopo_region_next_sibling(next))
			if (memtopo_overlap_warned(child, next))
				other = next;
	} else {
		for (other = memtopo_kids_first_before(parent, child, child->addr) ?:
			     memtopo_it_first(&parent->by_addr, child->addr,
					      memtopo_region_addr_last(child));
		     other && !memtopo_overlap_warned(child, other);
		     other = memtopo_it_next(other, child->addr,
					     memtopo_region_addr_last(child)))
			;
	}
	if (!other)
		return;
	parent->ctx->stat_overlaps++;
	pr_debug("%s: subregion %s overlaps %s without may-overlap\n",
		 parent->name, child->name, other->name);
}

static void memtopo_attach(struct memtopo_region *parent, struct memtopo_region *child)
{
	memtopo_set_parent(child, parent);
	child->seq = ++parent->ctx->seq;
	memtopo_children_insert(parent, child);
	memtopo_note_overlap(parent, child);
}

/**
 * memtopo_region_add_subregion_locked() - map @child at @offset in @parent.
 * @parent: a region.  As in QEMU it may be an alias: its
 *	subregions are kept and printed by "info mtree" but never rendered,
 *	because rendering an alias shows its target instead.
 * @offset: address of @child within @parent.
 * @child: a detached region of the same context.
 * @priority: higher wins; among equals the most recently added wins.
 * @may_overlap: the caller expects @child to overlap its siblings.
 *
 * Context: process context, the context mutex held (asserted); may sleep.
 * Return: 0; -EINVAL for a foreign region; -ENOENT if either region was
 * destroyed; -EBUSY if @child already has a parent; -ELOOP if @child is
 * @parent or one of its ancestors, or if @parent renders its subregions
 * and @child would render it (reaches it through an alias); -EOVERFLOW if
 * @offset + size passes 2^64; -EMLINK beyond MEMTOPO_MAX_DEPTH; -ENOSPC
 * past the context's memory budget (its undo record); -ENOMEM; or,
 * outside a transaction, a render error (the change is then undone).
 */
int memtopo_region_add_subregion_locked(struct memtopo_region *parent, u64 offset,
					struct memtopo_region *child, int priority,
					bool may_overlap)
{
	struct memtopo_ctx *ctx = parent->ctx;
	struct memtopo_undo *u;
	int ret;

	memtopo_assert_locked(ctx);
	if (child->ctx != ctx)
		return -EINVAL;
	ret = memtopo_region_check_live(parent) ?: memtopo_region_check_live(child);
	if (ret)
		return ret;
	if (child->parent)
		return -EBUSY;
	if (!memtopo_range_fits(offset, child->size, child->flags & MEMTOPO_RF_SIZE64))
		return -EOVERFLOW;
	if (memtopo_region_is_ancestor(child, parent))
		return -ELOOP;
	/* an alias's subregions are no render edge: they cannot close a cycle */
	ret = parent->kind == MEMTOPO_ALIAS ? 0 : memtopo_region_reaches(child, parent);
	if (ret)
		return ret < 0 ? ret : -ELOOP;
	if (memtopo_region_depth(parent) + 1 +
	    memtopo_region_height(child, MEMTOPO_MAX_DEPTH) > MEMTOPO_MAX_DEPTH)
		return -EMLINK;

	u = memtopo_undo_push(ctx, MEMTOPO_UNDO_ATTACH, child);
	if (IS_ERR(u))
		return PTR_ERR(u);
	u->addr = child->addr;
	u->priority = child->priority;
	u->seq = child->seq;
	u->flags = child->flags;
	/* a detached region may be a space's root: its old place counts */
	memtopo_note_region(child);
	child->addr = offset;
	child->priority = priority;
	if (may_overlap)
		child->flags |= MEMTOPO_RF_MAY_OVERLAP;
	else
		child->flags &= ~MEMTOPO_RF_MAY_OVERLAP;
	memtopo_attach(parent, child);
	return memtopo_ctx_region_changed(child);
}
EXPORT_SYMBOL_NS_GPL(memtopo_region_add_subregion_locked, MEMTOPO);

MEMTOPO_LOCKED_WRAPPER(region_add_subregion, parent->ctx,
		       (struct memtopo_region *parent, u64 offset, struct memtopo_region *child,
			int priority, bool may_overlap),
		       (parent, offset, child, priority, may_overlap));

/**
 * memtopo_region_del_subregion_locked() - unmap @child from @parent.
 * @parent: the container.
 * @child: a subregion of @parent.
 *
 * Context: process context, the context mutex held (asserted); may sleep.
 * Return: 0, -ENOENT if @child is not a subregion of @parent; -ENOSPC past
 * the context's memory budget or -ENOMEM for its undo record (nothing
 * changed); or, outside a transaction, a render error (-E2BIG, -ENOSPC or
 * -ENOMEM; the change is then undone).
 */
int memtopo_region_del_subregion_locked(struct memtopo_region *parent,
					struct memtopo_region *child)
{
	struct memtopo_undo *u;

	memtopo_assert_locked(parent->ctx);
	if (child->parent != parent)
		return -ENOENT;
	u = memtopo_undo_push(parent->ctx, MEMTOPO_UNDO_DETACH, child);
	if (IS_ERR(u))
		return PTR_ERR(u);
	u->aux = parent;
	memtopo_note_region(child);
	memtopo_children_remove(parent, child);
	memtopo_set_parent(child, NULL);
	return memtopo_ctx_region_changed(child);
}
EXPORT_SYMBOL_NS_GPL(memtopo_region_del_subregion_locked, MEMTOPO);

MEMTOPO_LOCKED_WRAPPER(region_del_subregion, parent->ctx,
		       (struct memtopo_region *parent, struct memtopo_region *child),
		       (parent, child));

/*
 * Re-insert an attached region after its key changed.  As QEMU's
 * memory_region_readd_subregion(), it becomes the most recently added of
 * its priority unless @seq asks for a specific place (undo).
 */
static void memtopo_readd(struct memtopo_region *mr, u64 addr, u64 size, bool size64,
			  s32 priority, u32 seq)
{
	struct memtopo_region *parent = mr->parent;
	u64 first = mr->addr, last = memtopo_region_it_last(mr);

	mr->addr = addr;
	mr->size = size64 ? 0 : size;
	mr->flags = (mr->flags & ~MEMTOPO_RF_SIZE64) | (size64 ? MEMTOPO_RF_SIZE64 : 0);
	mr->priority = priority;
	if (parent) {
		mr->seq = seq ? seq : ++mr->ctx->seq;
		memtopo_children_rekey(parent, mr, first, last);
		if (!seq)
			memtopo_note_overlap(parent, mr);
	}
}

/* Record where @mr sits in its parent before its key changes. */
static int memtopo_undo_place(struct memtopo_region *mr)
{
	struct memtopo_undo *u = memtopo_undo_push(mr->ctx, MEMTOPO_UNDO_PLACE, mr);

	if (IS_ERR(u))
		return PTR_ERR(u);
	u->addr = mr->addr;
	u->size = mr->size;
	u->flags = mr->flags;
	u->priority = mr->priority;
	u->seq = mr->seq;
	return 0;
}

/**
 * memtopo_region_set_address_locked() - move a region within its parent.
 * @mr: the region.
 * @addr: new address.
 *
 * Context: process context, the context mutex held (asserted); may sleep.
 * Return: 0, -ENOENT if @mr was destroyed, -EOVERFLOW if the region would
 * pass 2^64, -ENOSPC past the context's memory budget or -ENOMEM for the
 * change's undo record (nothing changed); or, outside a transaction, a
 * render error (-E2BIG, -ENOSPC or -ENOMEM; the change is then undone).
 */
int memtopo_region_set_address_locked(struct memtopo_region *mr, u64 addr)
{
	int ret;

	memtopo_assert_locked(mr->ctx);
	ret = memtopo_region_check_live(mr);
	if (ret)
		return ret;
	if (!memtopo_range_fits(addr, mr->size, mr->flags & MEMTOPO_RF_SIZE64))
		return -EOVERFLOW;
	if (addr == mr->addr)
		return 0;
	ret = memtopo_undo_place(mr);
	if (ret)
		return ret;
	memtopo_note_region(mr);
	memtopo_readd(mr, addr, mr->size, mr->flags & MEMTOPO_RF_SIZE64, mr->priority, 0);
	return memtopo_ctx_region_changed(mr);
}
EXPORT_SYMBOL_NS_GPL(memtopo_region_set_address_locked, MEMTOPO);

/**
 * memtopo_region_set_size_locked() - resize a region.
 * @mr: the region.
 * @size: new size (ignored if @size_is_2_64).
 * @size_is_2_64: the new size is 2^64.
 *
 * Context: process context, the context mutex held (asserted); may sleep.
 * Return: 0, -ENOENT if @mr was destroyed, -EOVERFLOW if the region would
 * pass 2^64, -ENOSPC past the context's memory budget or -ENOMEM for the
 * change's undo record (nothing changed); or, outside a transaction, a
 * render error (-E2BIG, -ENOSPC or -ENOMEM; the change is then undone).
 */
int memtopo_region_set_size_locked(struct memtopo_region *mr, u64 size, bool size_is_2_64)
{
	int ret;

	memtopo_assert_locked(mr->ctx);
	ret = memtopo_region_check_live(mr);
	if (ret)
		return ret;
	if (!memtopo_range_fits(mr->addr, size, size_is_2_64))
		return -EOVERFLOW;
	if (size_is_2_64 == !!(mr->flags & MEMTOPO_RF_SIZE64) && (size_is_2_64 || size == mr->size))
		return 0;
	ret = memtopo_undo_place(mr);
	if (ret)
		return ret;
	/* keep the render position: only the interval tree key changes */
	memtopo_note_region(mr);
	memtopo_readd(mr, mr->addr, size, size_is_2_64, mr->priority, mr->seq);
	return memtopo_ctx_region_changed(mr);
}
EXPORT_SYMBOL_NS_GPL(memtopo_region_set_size_locked, MEMTOPO);

/**
 * memtopo_region_set_priority_locked() - change a region's priority.
 * @mr: the region.
 * @priority: new priority; the region becomes the newest of its priority.
 *
 * Context: process context, the context mutex held (asserted); may sleep.
 * Return: 0, -ENOENT if @mr was destroyed, -ENOSPC past the context's
 * memory budget or -ENOMEM for the change's undo record (nothing changed);
 * or, outside a transaction, a render error (-E2BIG, -ENOSPC or -ENOMEM;
 * the change is then undone).
 */
int memtopo_region_set_priority_locked(struct memtopo_region *mr, int priority)
{
	int ret;

	memtopo_assert_locked(mr->ctx);
	ret = memtopo_region_check_live(mr);
	if (ret)
		return ret;
	if (priority == mr->priority)
		return 0;
	ret = memtopo_undo_place(mr);
	if (ret)
		return ret;
	memtopo_note_region(mr);
	memtopo_readd(mr, mr->addr, mr->size, mr->flags & MEMTOPO_RF_SIZE64, priority, 0);
	return memtopo_ctx_region_changed(mr);
}
EXPORT_SYMBOL_NS_GPL(memtopo_region_set_priority_locked, MEMTOPO);

/**
 * memtopo_region_set_alias_offset_locked() - move an alias's window.
 * @mr: an alias.
 * @offset: new offset into the target.
 *
 * Context: process context, the context mutex held (asserted); may sleep.
 * Return: 0, -EINVAL if @mr is not an alias, -ENOENT if it was destroyed,
 * -ENOSPC past the context's memory budget or -ENOMEM for the change's undo
 * record (nothing changed); or, outside a transaction, a render error
 * (-E2BIG, -ENOSPC or -ENOMEM; the change is then undone).
 */
int memtopo_region_set_alias_offset_locked(struct memtopo_region *mr, u64 offset)
{
	struct memtopo_undo *u;
	int ret;

	memtopo_assert_locked(mr->ctx);
	if (mr->kind != MEMTOPO_ALIAS)
		return -EINVAL;
	ret = memtopo_region_check_live(mr);
	if (ret)
		return ret;
	if (offset == mr->alias_offset)
		return 0;
	u = memtopo_undo_push(mr->ctx, MEMTOPO_UNDO_ALIAS_OFFSET, mr);
	if (IS_ERR(u))
		return PTR_ERR(u);
	u->addr = mr->alias_offset;
	mr->alias_offset = offset;
	return memtopo_ctx_region_changed(mr);
}
EXPORT_SYMBOL_NS_GPL(memtopo_region_set_alias_offset_locked, MEMTOPO);

static int memtopo_region_set_flag(struct memtopo_region *mr, u16 flag, bool on)
{
	struct memtopo_undo *u;
	int ret;

	memtopo_assert_locked(mr->ctx);
	ret = memtopo_region_check_live(mr);
	if (ret)
		return ret;
	if (!!(mr->flags & flag) == on)
		return 0;
	u = memtopo_undo_push(mr->ctx, MEMTOPO_UNDO_FLAGS, mr);
	if (IS_ERR(u))
		return PTR_ERR(u);
	u->flags = mr->flags;
	mr->flags ^= flag;
	return memtopo_ctx_region_changed(mr);
}

/**
 * memtopo_region_set_enabled_locked() - show or hide a region's subtree.
 * @mr: the region.
 * @enabled: new state.
 *
 * Context: process context, the context mutex held (asserted); may sleep.
 * Return: 0, -ENOENT if @mr was destroyed, -ENOSPC past the context's
 * memory budget or -ENOMEM for the change's undo record (nothing changed);
 * or, outside a transaction, a render error (-E2BIG, -ENOSPC or -ENOMEM;
 * the change is then undone).
 */
int memtopo_region_set_enabled_locked(struct memtopo_region *mr, bool enabled)
{
	return memtopo_region_set_flag(mr, MEMTOPO_RF_ENABLED, enabled);
}
EXPORT_SYMBOL_NS_GPL(memtopo_region_set_enabled_locked, MEMTOPO);

/**
 * memtopo_region_set_readonly_locked() - make a region (and what renders
 * through it) read-only.
 * @mr: the region.
 * @readonly: new state.
 *
 * Context: process context, the context mutex held (asserted); may sleep.
 * Return: 0, -ENOENT if @mr was destroyed, -ENOSPC past the context's
 * memory budget or -ENOMEM for the change's undo record (nothing changed);
 * or, outside a transaction, a render error (-E2BIG, -ENOSPC or -ENOMEM;
 * the change is then undone).
 */
int memtopo_region_set_readonly_locked(struct memtopo_region *mr, bool readonly)
{
	return memtopo_region_set_flag(mr, MEMTOPO_RF_READONLY, readonly);
}
EXPORT_SYMBOL_NS_GPL(memtopo_region_set_readonly_locked, MEMTOPO);

/**
 * memtopo_region_set_nonvolatile_locked() - mark a region non-volatile.
 * @mr: the region.
 * @nonvolatile: new state.
 *
 * Context: process context, the context mutex held (asserted); may sleep.
 * Return: 0, -ENOENT if @mr was destroyed, -ENOSPC past the context's
 * memory budget or -ENOMEM for the change's undo record (nothing changed);
 * or, outside a transaction, a render error (-E2BIG, -ENOSPC or -ENOMEM;
 * the change is then undone).
 */
int memtopo_region_set_nonvolatile_locked(struct memtopo_region *mr, bool nonvolatile)
{
	return memtopo_region_set_flag(mr, MEMTOPO_RF_NONVOLATILE, nonvolatile);
}
EXPORT_SYMBOL_NS_GPL(memtopo_region_set_nonvolatile_locked, MEMTOPO);

/**
 * memtopo_region_set_romd_locked() - switch a ROM device between romd
 * (reads as RAM) and MMIO mode.
 * @mr: a MEMTOPO_ROM_DEVICE region.
 * @romd: new mode.
 *
 * Context: process context, the context mutex held (asserted); may sleep.
 * Return: 0, -EINVAL for other kinds, -ENOENT if @mr was destroyed,
 * -ENOSPC past the context's memory budget or -ENOMEM for the change's
 * undo record (nothing changed); or, outside a transaction, a render error
 * (-E2BIG, -ENOSPC or -ENOMEM; the change is then undone).
 */
int memtopo_region_set_romd_locked(struct memtopo_region *mr, bool romd)
{
	if (mr->kind != MEMTOPO_ROM_DEVICE)
		return -EINVAL;
	return memtopo_region_set_flag(mr, MEMTOPO_RF_ROMD, romd);
}
EXPORT_SYMBOL_NS_GPL(memtopo_region_set_romd_locked, MEMTOPO);

/**
 * memtopo_region_set_dirty_log_locked() - enable or disable a dirty-log
 * client on a region.
 * @mr: the region.
 * @client: MEMTOPO_DIRTY_*.
 * @on: new state.
 *
 * Context: process context, the context mutex held (asserted); may sleep.
 * Return: 0, -EINVAL for an unknown client, -ENOENT if @mr was destroyed,
 * -ENOMEM or -E2BIG for the client's bitmap, -ENOSPC past the context's
 * memory budget (nothing changed); outside a transaction, a render error
 * (the change is then undone).
 */
int memtopo_region_set_dirty_log_locked(struct memtopo_region *mr, unsigned int client, bool on)
{
	struct memtopo_undo *u;
	u8 mask, fresh;
	int ret;

	memtopo_assert_locked(mr->ctx);
	if (client >= MEMTOPO_DIRTY_CLIENTS)
		return -EINVAL;
	ret = memtopo_region_check_live(mr);
	if (ret)
		return ret;
	mask = on ? mr->dirty_log_mask | BIT(client) : mr->dirty_log_mask & ~BIT(client);
	if (mask == mr->dirty_log_mask)
		return 0;
	/* bitmaps first: markers may see the new mask as soon as it is set */
	ret = memtopo_hook_dirty_prepare(mr, mask, &fresh);
	if (ret)
		return ret;
	u = memtopo_undo_push(mr->ctx, MEMTOPO_UNDO_DIRTY_LOG, mr);
	if (IS_ERR(u)) {
		memtopo_hook_dirty_unprepare(mr, fresh);
		return PTR_ERR(u);
	}
	u->dirty_log_mask = mr->dirty_log_mask;
	u->flags = fresh;
	WRITE_ONCE(mr->dirty_log_mask, mask);
	if (on)
		memtopo_hook_dirty_log_on(mr);
	return memtopo_ctx_region_changed(mr);
}
EXPORT_SYMBOL_NS_GPL(memtopo_region_set_dirty_log_locked, MEMTOPO);

/**
 * memtopo_region_undo() - undo one recorded region change.
 * @u: the record, newest first: every later change was undone already, so
 *	the region is exactly as the change left it.
 *
 * Called by memtopo_undo_rollback(), context locked.  Allocates nothing.
 */
void memtopo_region_undo(struct memtopo_undo *u)
{
	struct memtopo_region *mr = u->obj, *parent;
	u8 on;

	switch (u->kind) {
	case MEMTOPO_UNDO_REGION_CREATE:
		/* no published view can show it: it never was committed */
		/* newest first: the cursor ends where the oldest undone create found it */
		mr->ctx->next_region_id = u->id_next;
		memtopo_region_kill(mr);
		memtopo_region_finish_destroy(mr);
		break;
	case MEMTOPO_UNDO_REGION_DESTROY:
		list_del(&mr->deferred);
		memtopo_region_revive(mr);
		break;
	case MEMTOPO_UNDO_ATTACH:
		memtopo_children_remove(mr->parent, mr);
		memtopo_set_parent(mr, NULL);
		mr->addr = u->addr;
		mr->priority = u->priority;
		mr->seq = u->seq;
		mr->flags = (u->flags & ~MEMTOPO_RF_KIDS) | (mr->flags & MEMTOPO_RF_KIDS);
		break;
	case MEMTOPO_UNDO_DETACH:
		parent = u->aux;
		memtopo_set_parent(mr, parent);
		memtopo_children_insert(parent, mr);
		break;
	case MEMTOPO_UNDO_PLACE:
		memtopo_readd(mr, u->addr, u->size, u->flags & MEMTOPO_RF_SIZE64, u->priority,
			      u->seq);
		break;
	case MEMTOPO_UNDO_ALIAS_OFFSET:
		mr->alias_offset = u->addr;
		break;
	case MEMTOPO_UNDO_FLAGS:
		mr->flags = (u->flags & ~MEMTOPO_RF_KIDS) | (mr->flags & MEMTOPO_RF_KIDS);
		break;
	case MEMTOPO_UNDO_DIRTY_LOG:
		on = u->dirty_log_mask & ~mr->dirty_log_mask;
		WRITE_ONCE(mr->dirty_log_mask, u->dirty_log_mask);
		if (on)
			memtopo_hook_dirty_log_on(mr);
		/* bitmaps the change allocated: a log nobody enabled reads as none */
		memtopo_hook_dirty_unprepare(mr, u->flags);
		break;
	}
}

MEMTOPO_LOCKED_WRAPPER(region_set_address, mr->ctx,
		       (struct memtopo_region *mr, u64 addr),
		       (mr, addr));
MEMTOPO_LOCKED_WRAPPER(region_set_alias_offset, mr->ctx,
		       (struct memtopo_region *mr, u64 offset),
		       (mr, offset));
MEMTOPO_LOCKED_WRAPPER(region_set_enabled, mr->ctx,
		       (struct memtopo_region *mr, bool enabled),
		       (mr, enabled));
MEMTOPO_LOCKED_WRAPPER(region_set_readonly, mr->ctx,
		       (struct memtopo_region *mr, bool readonly),
		       (mr, readonly));
MEMTOPO_LOCKED_WRAPPER(region_set_nonvolatile, mr->ctx,
		       (struct memtopo_region *mr, bool nonvolatile),
		       (mr, nonvolatile));
MEMTOPO_LOCKED_WRAPPER(region_set_priority, mr->ctx,
		       (struct memtopo_region *mr, int priority),
		       (mr, priority));
MEMTOPO_LOCKED_WRAPPER(region_set_romd, mr->ctx,
		       (struct memtopo_region *mr, bool romd),
		       (mr, romd));

MEMTOPO_LOCKED_WRAPPER(region_set_size, mr->ctx,
		       (struct memtopo_region *mr, u64 size, bool size_is_2_64),
		       (mr, size, size_is_2_64));

MEMTOPO_LOCKED_WRAPPER(region_set_dirty_log, mr->ctx,
		       (struct memtopo_region *mr, unsigned int client, bool on),
		       (mr, client, on));

/**
 * memtopo_region_name() - a region's name.
 * @mr: the region.
 *
 * Context: any; the caller keeps @mr alive.
 * Return: the name, valid while the region is.
 */
const char *memtopo_region_name(const struct memtopo_region *mr)
{
	return mr->name;
}
EXPORT_SYMBOL_NS_GPL(memtopo_region_name, MEMTOPO);

/**
 * memtopo_region_kind() - a region's kind.
 * @mr: the region.
 *
 * Context: any; the caller keeps @mr alive.
 * Return: enum memtopo_kind.
 */
enum memtopo_kind memtopo_region_kind(const struct memtopo_region *mr)
{
	return mr->kind;
}
EXPORT_SYMBOL_NS_GPL(memtopo_region_kind, MEMTOPO);

/**
 * memtopo_region_backing() - the backing a RAM-like region was created with.
 * @mr: the region.
 *
 * Context: any; the backing lives at least as long as the region (take a
 * reference with memtopo_backing_get() to keep it longer).
 * Return: the backing, or NULL for a region without one.
 */
struct memtopo_backing *memtopo_region_backing(const struct memtopo_region *mr)
{
	return mr->backing;
}
EXPORT_SYMBOL_NS_GPL(memtopo_region_backing, MEMTOPO);

/**
 * memtopo_region_opaque() - the opaque pointer passed to a region's ops.
 * @mr: the region.
 *
 * Context: any; the caller keeps @mr alive.
 * Return: the pointer given at creation for an I/O or ROM device region;
 * NULL for other kinds, which have no device callbacks.
 */
void *memtopo_region_opaque(const struct memtopo_region *mr)
{
	return mr->kind == MEMTOPO_IO || mr->kind == MEMTOPO_ROM_DEVICE ? mr->opaque : NULL;
}
EXPORT_SYMBOL_NS_GPL(memtopo_region_opaque, MEMTOPO);
