// SPDX-License-Identifier: GPL-2.0
/*
 * kmalloc() and the slab caches in userspace, shaped as the kernel's slab
 * allocator is, since the engine's allocation costs are the kernel's only
 * if the allocator behaves as the kernel's does:
 *
 * - kmalloc() rounds a request up to a size class (16 bytes to 8 KiB),
 *   a power of two aligned to its size, and a cache hands out objects of
 *   its size; either takes its most recently freed object, and a free
 *   writes nothing but the object (the kernel's also reads its struct
 *   slab).  glibc's bins would merge a freed block with its neighbours
 *   and walk the free lists, reading memory the kernel never touches.
 * - A list keeps at most SHIM_LIST_MAX objects; the rest go back to
 *   malloc(), as the kernel gives empty slabs back to the page allocator,
 *   so that a big free (a transaction's undo log) does not hold memory the
 *   next big allocation needs.
 * - The rounding is counted as the kernel pays it: what mallinfo2() says
 *   is in use includes it (and malloc's own header, which slabs do not
 *   have).  shim_slab_drain() gives the lists back first, for a count of
 *   live objects alone.
 * - Requests over 8 KiB go to malloc() as they are; the kernel's
 *   kmalloc_large() rounds them to a power of two of pages, so their
 *   bytes here are the kernel's or fewer.
 * - Every object is zeroed whole when it is handed out, as Debian's
 *   kernel does (CONFIG_INIT_ON_ALLOC_DEFAULT_ON), whatever was asked.
 * - What the kernel frees through call_rcu() comes back a grace period
 *   later (shim.c), not to the next allocation still cached.
 *
 * Not modelled: SLUB keeps its free pointer mid-object, not in the first
 * word, and reuses first what was freed to its CPU's current slab.
 *
 * The lists take no lock: the userspace tests run the engine on one
 * thread, as the shim's RCU does (rcupdate.h).
 *
 * AddressSanitizer builds allocate exact sizes and free at once, so that
 * an overrun of the size asked for or a use after free is still caught.
 */
#include <linux/slab.h>
#include <linux/string.h>
#include <malloc.h>

unsigned long shim_fail_nth;
unsigned long shim_alloc_count;
long shim_live_allocs;
long shim_live_caches;

#if defined(__SANITIZE_ADDRESS__)
#define SHIM_SLAB false
#else
#define SHIM_SLAB true
#endif

#define SHIM_LIST_MAX 256

static const size_t shim_class_size[] = {
	16, 32, 64, 96, 128, 192, 256, 512, 1024, 2048, 4096, 8192,
};

#define SHIM_NR_CLASSES ARRAY_SIZE(shim_class_size)
#define SHIM_CLASS_MAX 8192
/*
 * A larger request is given at least this much, so that a freed block's
 * usable size says which it was: a class object's is below it.
 */
#define SHIM_LARGE_MIN (SHIM_CLASS_MAX + 64)

static struct shim_freelist shim_class_free[SHIM_NR_CLASSES];
static struct kmem_cache *shim_caches;

/*
 * shim_watch_begin() .. shim_watch_end(): the objects allocated in
 * between, so that a free of one of them before the end is counted, as
 * memory a call took and gave back, and so is one handed to call_rcu()
 * (shim.c runs the callback a thousand callbacks later, never inside the
 * call).  An open-addressed set of pointers, one free slot always left so
 * that a probe ends, and the objects in the order they came, with their
 * sizes, for the call_rcu() heads inside them.
 */
#define SHIM_WATCH_BITS 13
#define SHIM_WATCH_SLOTS (1u << SHIM_WATCH_BITS)
static const void *shim_watched[SHIM_WATCH_SLOTS];
static struct {
	const char *p;
	size_t size;
} shim_watch_list[SHIM_WATCH_SLOTS];
static unsigned int shim_watch_nr;
static bool shim_watching;
static struct shim_watch shim_watch_seen;

/* the product's high bits: objects aligned to their size differ in those */
static unsigned int shim_watch_slot(const void *p)
{
	unsigned int i = ((u64)(uintptr_t)p * 0x9e3779b97f4a7c15ull) >> (64 - SHIM_WATCH_BITS);

	while (shim_watched[i] && shim_watched[i] != p)
		i = (i + 1) % SHIM_WATCH_SLOTS;
	return i;
}

static void shim_watch_alloc(const void *p, size_t size)
{
	if (!shim_watching)
		return;
	/* more than a call's worth: the caller is not what this watches */
	assert(shim_watch_nr < SHIM_WATCH_SLOTS - 1);
	shim_watched[shim_watch_slot(p)] = p;
	shim_watch_list[shim_watch_nr].p = p;
	shim_watch_list[shim_watch_nr].size = size;
	shim_watch_nr++;
}

static void shim_watch_free(const void *p)
{
	if (shim_watching && shim_watched[shim_watch_slot(p)] == p)
		shim_watch_seen.freed++;
}

/**
 * shim_watch_rcu() - count a call_rcu() whose head lies in a watched object.
 * @head: the head handed to call_rcu().
 */
void shim_watch_rcu(const void *head)
{
	unsigned int i;

	for (i = 0; shim_watching && i < shim_watch_nr; i++) {
		if ((const char *)head >= shim_watch_list[i].p &&
		    (const char *)head < shim_watch_list[i].p + shim_watch_list[i].size) {
			shim_watch_seen.deferred++;
			return;
		}
	}
}

/**
 * shim_watch_begin() - start watching allocations (see shim_watch_end()).
 */
void shim_watch_begin(void)
{
	memset(shim_watched, 0, sizeof(shim_watched));
	shim_watch_nr = 0;
	memset(&shim_watch_seen, 0, sizeof(shim_watch_seen));
	shim_watching = true;
}

/**
 * shim_watch_end() - stop watching.
 *
 * Return: the objects allocated since shim_watch_begin(), and of them
 * those freed again, at once or through call_rcu().
 */
struct shim_watch shim_watch_end(void)
{
	shim_watching = false;
	shim_watch_seen.allocs = shim_watch_nr;
	return shim_watch_seen;
}

static bool shim_fail(void)
{
	shim_alloc_count++;
	return shim_fail_nth && !--shim_fail_nth;
}

static void *shim_list_pop(struct shim_freelist *l)
{
	void *p = l->head;

	if (p) {
		l->head = *(void **)p;
		l->nr--;
		/*
		 * as SLUB prefetches the next object's free pointer, which it
		 * keeps mid-object, not in the first word as here
		 */
		__builtin_prefetch(l->head);
	}
	return p;
}

static void shim_list_push(struct shim_freelist *l, void *p)
{
	if (l->nr == SHIM_LIST_MAX) {
		free(p);
		return;
	}
	*(void **)p = l->head;
	l->head = p;
	l->nr++;
}

static void shim_list_drain(struct shim_freelist *l)
{
	void *p;

	while ((p = shim_list_pop(l)))
		free(p);
}

static void *shim_block(size_t size)
{
	void *p;

	/*
	 * The kernel's kmalloc-512 and larger caches hand out objects aligned
	 * to their size; view nodes rely on cache-line alignment for speed.
	 */
	if (size >= 512)
		return posix_memalign(&p, 64, size) ? NULL : p;
	return malloc(size ? size : 1);
}

/*
 * A kmalloc() class's object: a power of two is aligned to its size.  Not
 * 32: glibc's memalign gives such a block up to 72 usable bytes, which
 * shim_class_held() would take for a 64-byte object.
 */
static void *shim_class_block(unsigned int c)
{
	size_t size = shim_class_size[c];
	void *p;

	if (size >= 64 && !(size & (size - 1)))
		return posix_memalign(&p, size, size) ? NULL : p;
	return shim_block(size);
}

static unsigned int shim_class_of(size_t size)
{
	unsigned int c = 0;

	while (shim_class_size[c] < size)
		c++;
	return c;
}

/* A kmalloc()ed block's class: the largest it holds; -1 for a large one. */
static int shim_class_held(const void *p)
{
	size_t usable = malloc_usable_size((void *)p);
	int c = SHIM_NR_CLASSES - 1;

	if (!SHIM_SLAB || usable >= SHIM_LARGE_MIN)
		return -1;
	while (shim_class_size[c] > usable)
		c--;
	return c;
}

void *shim_alloc(size_t size, bool zero)
{
	void *p;

	if (shim_fail())
		return NULL;
	if (!SHIM_SLAB) {
		p = shim_block(size);
	} else if (size > SHIM_CLASS_MAX) {
		p = shim_block(max_t(size_t, size, SHIM_LARGE_MIN));
		zero = true;	/* init_on_alloc, the pages' */
	} else {
		unsigned int c = shim_class_of(size);

		p = shim_list_pop(&shim_class_free[c]);
		if (!p)
			p = shim_class_block(c);
		/* init_on_alloc: the whole object, whatever was asked */
		size = shim_class_size[c];
		zero = true;
	}
	if (!p)
		return NULL;
	if (zero)
		memset(p, 0, size);
	shim_live_allocs++;
	shim_watch_alloc(p, size);
	return p;
}

void shim_free(const void *p)
{
	int c;

	if (!p)
		return;
	shim_watch_free(p);
	shim_live_allocs--;
	c = shim_class_held(p);
	if (c < 0)
		free((void *)p);
	else
		shim_list_push(&shim_class_free[c], (void *)p);
}

/* The kernel's ksize(): the class's size, or the block's. */
static size_t shim_ksize(const void *p)
{
	int c = shim_class_held(p);

	return c < 0 ? malloc_usable_size((void *)p) : shim_class_size[c];
}

void *krealloc_array(void *p, size_t n, size_t s, gfp_t g)
{
	size_t b, have = p ? shim_ksize(p) : 0;
	void *q;

	if (__builtin_mul_overflow(n, s, &b))
		return NULL;
	/* as the kernel's: an object that already holds the request is kept */
	if (SHIM_SLAB && p && b <= have)
		return p;
	q = shim_alloc(b, g & __GFP_ZERO);
	if (q && p) {
		memcpy(q, p, min(have, b));
		shim_free(p);
	}
	return q;
}

/**
 * shim_slab_drain() - give every free object on the lists back to
 * malloc(), so that what mallinfo2() counts in use is the live objects.
 */
void shim_slab_drain(void)
{
	struct kmem_cache *c;
	unsigned int i;

	for (i = 0; i < SHIM_NR_CLASSES; i++)
		shim_list_drain(&shim_class_free[i]);
	for (c = shim_caches; c; c = c->next)
		shim_list_drain(&c->free);
}

/* Creating a cache allocates (its struct, its name): fail-nth reaches it. */
struct kmem_cache *shim_kmem_cache_create(size_t size)
{
	struct kmem_cache *c;

	if (shim_fail())
		return NULL;
	c = calloc(1, sizeof(*c));
	if (c) {
		c->size = size;
		c->next = shim_caches;
		shim_caches = c;
		shim_live_caches++;
	}
	return c;
}

void kmem_cache_destroy(struct kmem_cache *c)
{
	struct kmem_cache **link;

	if (!c)
		return;
	shim_list_drain(&c->free);
	for (link = &shim_caches; *link != c; link = &(*link)->next)
		;
	*link = c->next;
	shim_live_caches--;
	free(c);
}

/* A cache's objects are of its size exactly, not of a kmalloc() class. */
void *shim_cache_alloc(struct kmem_cache *c, bool zero)
{
	void *p;

	if (!SHIM_SLAB)
		return shim_alloc(c->size, zero);
	if (shim_fail())
		return NULL;
	p = shim_list_pop(&c->free);
	if (!p)
		p = shim_block(c->size);
	if (!p)
		return NULL;
	/* init_on_alloc */
	memset(p, 0, c->size);
	shim_live_allocs++;
	shim_watch_alloc(p, c->size);
	return p;
}

void shim_cache_free(struct kmem_cache *c, void *p)
{
	if (!SHIM_SLAB || !p) {
		shim_free(p);
		return;
	}
	shim_watch_free(p);
	shim_live_allocs--;
	shim_list_push(&c->free, p);
}
