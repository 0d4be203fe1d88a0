/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _SHIM_SLAB_H
#define _SHIM_SLAB_H
#include "shim_base.h"
#include <linux/overflow.h>

/* the kernel's saturating size helpers (linux/overflow.h), which tools/include lacks */
static inline size_t size_mul(size_t a, size_t b)
{
	size_t r;

	return __builtin_mul_overflow(a, b, &r) ? SIZE_MAX : r;
}

static inline size_t size_add(size_t a, size_t b)
{
	size_t r;

	return __builtin_add_overflow(a, b, &r) ? SIZE_MAX : r;
}

static inline void *kmalloc(size_t n, gfp_t g) { return shim_alloc(n, g & __GFP_ZERO); }
static inline void *kzalloc(size_t n, gfp_t g) { (void)g; return shim_alloc(n, true); }
static inline void *kmalloc_array(size_t n, size_t s, gfp_t g)
{
	size_t b;

	if (__builtin_mul_overflow(n, s, &b))
		return NULL;
	return kmalloc(b, g);
}
static inline void *kcalloc(size_t n, size_t s, gfp_t g)
{
	return kmalloc_array(n, s, g | __GFP_ZERO);
}
#define kvmalloc_array kmalloc_array
#define kvmalloc kmalloc
#define kvzalloc kzalloc
#define kvcalloc kcalloc
static inline void kfree(const void *p) { shim_free(p); }
#define kvfree kfree
void *krealloc_array(void *p, size_t n, size_t s, gfp_t g);
static inline void *krealloc(void *p, size_t n, gfp_t g) { return krealloc_array(p, 1, n, g); }

/* freed objects, most recent first, linked through their first word */
struct shim_freelist {
	void *head;
	unsigned int nr;
};

struct kmem_cache {
	size_t size;
	struct shim_freelist free;
	struct kmem_cache *next;	/* every cache, for shim_slab_drain() */
};

#define SLAB_ACCOUNT 0u
#define KMEM_CACHE(s, flags) shim_kmem_cache_create(sizeof(struct s))
struct kmem_cache *shim_kmem_cache_create(size_t size);
static inline struct kmem_cache *kmem_cache_create(const char *name, unsigned int size,
						   unsigned int align, unsigned int flags,
						   void (*ctor)(void *))
{
	(void)name;
	(void)align;
	(void)flags;
	(void)ctor;
	return shim_kmem_cache_create(size);
}
void *shim_cache_alloc(struct kmem_cache *c, bool zero);
void shim_cache_free(struct kmem_cache *c, void *p);
static inline void *kmem_cache_zalloc(struct kmem_cache *c, gfp_t g)
{
	(void)g;
	return shim_cache_alloc(c, true);
}

static inline void *kmem_cache_alloc(struct kmem_cache *c, gfp_t g)
{
	(void)g;
	return shim_cache_alloc(c, false);
}

static inline void kmem_cache_free(struct kmem_cache *c, void *p)
{
	shim_cache_free(c, p);
}

void kmem_cache_destroy(struct kmem_cache *c);
void shim_slab_drain(void);
#endif
