// SPDX-License-Identifier: GPL-2.0
/* Userspace implementations behind the shim headers. */
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/xarray.h>
#include <linux/rcupdate.h>

const char *kstrdup_const(const char *s, gfp_t g)
{
	size_t n = strlen(s) + 1;
	char *d = shim_alloc(n, false);

	(void)g;
	if (d)
		memcpy(d, s, n);
	return d;
}

void kfree_const(const void *p)
{
	shim_free(p);
}

ssize_t strscpy(char *dst, const char *src, size_t n)
{
	size_t len = strnlen(src, n);

	if (!n)
		return -E2BIG;
	if (len == n) {
		memcpy(dst, src, n - 1);
		dst[n - 1] = 0;
		return -E2BIG;
	}
	memcpy(dst, src, len + 1);
	return len;
}

void *memchr_inv(const void *p, int c, size_t n)
{
	const unsigned char *b = p;
	size_t i;

	for (i = 0; i < n; i++)
		if (b[i] != (unsigned char)c)
			return (void *)(b + i);
	return NULL;
}

void xa_init_flags(struct xarray *xa, unsigned int flags)
{
	memset(xa, 0, sizeof(*xa));
	xa->next_free = (flags & XA_FLAGS_ALLOC1) ? 1 : 0;
}

int xa_alloc(struct xarray *xa, u32 *id, void *entry, struct xa_limit limit, gfp_t gfp)
{
	unsigned long i = xa->next_free;

	(void)gfp;
	while (i < xa->nr && xa->slots[i])
		i++;
	if (i > limit.max)
		return -EBUSY;
	if (i >= xa->nr) {
		unsigned long nr = xa->nr ? xa->nr * 2 : 64;
		void **s;

		shim_alloc_count++;
		if (shim_fail_nth && !--shim_fail_nth)
			return -ENOMEM;
		s = realloc(xa->slots, nr * sizeof(*s));
		if (!s)
			return -ENOMEM;
		if (!xa->slots)
			shim_live_allocs++;
		memset(s + xa->nr, 0, (nr - xa->nr) * sizeof(*s));
		xa->slots = s;
		xa->nr = nr;
	}
	xa->slots[i] = entry;
	xa->count++;
	xa->next_free = i + 1;
	*id = i;
	return 0;
}

/*
 * As the kernel's allocating xarray: storing NULL over an entry reserves
 * its index (loads and walks see nothing, allocation skips it) until
 * xa_erase(); storing into an existing index never allocates.
 */
static char shim_xa_reserved;
#define SHIM_XA_RESERVED ((void *)&shim_xa_reserved)

void *xa_load(struct xarray *xa, unsigned long index)
{
	void *e = index < xa->nr ? xa->slots[index] : NULL;

	return e == SHIM_XA_RESERVED ? NULL : e;
}

void *xa_store(struct xarray *xa, unsigned long index, void *entry, gfp_t gfp)
{
	void *old;

	(void)gfp;
	/* only ever called on an allocated index: no growth */
	assert(index < xa->nr && xa->slots[index]);
	old = xa_load(xa, index);
	xa->slots[index] = entry ? entry : SHIM_XA_RESERVED;
	return old;
}

/*
 * The kernel's cyclic allocation: the first free index from *next up to
 * the limit, then from the bottom; 1 when it wrapped.  The flat array grows
 * to the highest index handed out, which a test's few IDs keep small.
 */
int xa_alloc_cyclic(struct xarray *xa, u32 *id, void *entry, struct xa_limit limit, u32 *next,
		    gfp_t gfp)
{
	unsigned long lo = xa->next_free > limit.min ? xa->next_free : limit.min;
	unsigned long start = *next > lo ? *next : lo;
	unsigned long saved = xa->next_free;
	int wrapped = 0, ret;

	for (;;) {
		xa->next_free = start;
		ret = xa_alloc(xa, id, entry, limit, gfp);
		if (ret != -EBUSY || wrapped || start == lo)
			break;
		start = lo;
		wrapped = 1;
	}
	/* still at or below the lowest free index: xa_alloc() scans from it */
	xa->next_free = saved;
	if (ret)
		return ret;
	*next = *id + 1;
	return wrapped;
}

void *xa_erase(struct xarray *xa, unsigned long index)
{
	void *old = index < xa->nr ? xa->slots[index] : NULL;

	if (old) {
		xa->slots[index] = NULL;
		xa->count--;
		if (old == SHIM_XA_RESERVED)
			old = NULL;
		if (index < xa->next_free)
			xa->next_free = index;
	}
	return old;
}

void *xa_find(struct xarray *xa, unsigned long *index, unsigned long max, int mark)
{
	unsigned long i;

	(void)mark;
	for (i = *index; i < xa->nr && i <= max; i++) {
		if (xa->slots[i] && xa->slots[i] != SHIM_XA_RESERVED) {
			*index = i;
			return xa->slots[i];
		}
	}
	return NULL;
}

void xa_destroy(struct xarray *xa)
{
	if (xa->slots)
		shim_live_allocs--;
	free(xa->slots);
	memset(xa, 0, sizeof(*xa));
}

/*
 * The kernel runs a call_rcu() callback a grace period later, some
 * milliseconds: at one-change commits a few microseconds apart, about a
 * thousand commits later, each queueing one (its old view's).  So does
 * this, counted in callbacks: run at once, each commit's frees would be
 * handed back to the next commit's allocations still in the cache, which
 * the kernel's commits never see.
 */
#define SHIM_RCU_DEFER 1024

static struct rcu_head *shim_rcu_head;
static struct rcu_head **shim_rcu_tail = &shim_rcu_head;
static unsigned long shim_rcu_pending;

static void shim_rcu_run_oldest(void)
{
	struct rcu_head *h = shim_rcu_head;

	shim_rcu_head = h->next;
	if (!shim_rcu_head)
		shim_rcu_tail = &shim_rcu_head;
	shim_rcu_pending--;
	h->func(h);
}

void call_rcu(struct rcu_head *h, void (*f)(struct rcu_head *))
{
	shim_watch_rcu(h);
	h->func = f;
	h->next = NULL;
	*shim_rcu_tail = h;
	shim_rcu_tail = &h->next;
	if (++shim_rcu_pending > SHIM_RCU_DEFER)
		shim_rcu_run_oldest();
}

void rcu_barrier(void)
{
	/* a callback may queue another: run until none is left */
	while (shim_rcu_head)
		shim_rcu_run_oldest();
}
