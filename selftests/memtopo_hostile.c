// SPDX-License-Identifier: GPL-2.0
/*
 * Hostile callers of /dev/memtopo: every ioctl with its argument struct
 * (and every user pointer inside one) in a read-only page, in an unmapped
 * page, and straddling a page boundary into unmapped memory.  A failed call
 * must change nothing: after each one the whole observable state (regions,
 * spaces, views, generations, mtree text, dirty bitmap, kernel-owned RAM,
 * queued events, open transactions, debugfs stats) is compared byte for
 * byte with a snapshot taken just before.  On a kernel with fail-nth the
 * same calls run with every allocation and user copy failed in turn.
 *
 * Also the limits: an exact loop check (a legal alias bomb is accepted, a
 * real loop refused, a view too large to render is E2BIG), cyclic IDs, out
 * fields ignored on input, the anonymous debugfs namespace reserved, event
 * rings that grow with use, and the per-context memory budget.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/ioctl.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"
/* the same small ioctl library memtopoctl uses */
#include "../tools/memtopoctl/libmemtopo.c"
#include "memtopo_failnth.h"
#include "memtopo_sysfs.h"

#define RAM_BASE	0x100000ull
#define RAM_SIZE	0x80000ull	/* 128 pages: a two-word dirty bitmap */
#define RAM_SEEN	0x1000ull	/* what a snapshot reads of it */
#define IO_BASE		0x200000ull
/* the DISCARD scenarios' own RAM: the world's is placed, so takes no manager */
#define DRAM_BASE	0x400000ull
#define DRAM_SIZE	0x10000ull	/* 16 blocks of DRAM_BLOCK */
#define DRAM_BLOCK	0x1000ull
/* dirty-log clients as memtopo_dirty_log.client numbers them */
#define CLIENT_VGA	0
#define CLIENT_MIGRATION	2
/*
 * the twins hear ioeventfd, coalescing and discard changes too: the world
 * has none
 */
#define WORLD_MASK	(MEMTOPO_EVENT_MASK_DEFAULT |				\
			 (1u << MEMTOPO_EVENT_EVENTFD_ADD) |			\
			 (1u << MEMTOPO_EVENT_EVENTFD_DEL) |			\
			 (1u << MEMTOPO_EVENT_COALESCED_ADD) |			\
			 (1u << MEMTOPO_EVENT_COALESCED_DEL) |			\
			 (1u << MEMTOPO_EVENT_DISCARD_POPULATE) |		\
			 (1u << MEMTOPO_EVENT_DISCARD_DISCARD))

static long pg;

/* ---- small helpers ---------------------------------------------------- */

static int raw(int fd, unsigned long req, void *arg)
{
	return ioctl(fd, req, arg) ? -errno : 0;
}

static int op_alias(int fd, const char *name, __u32 target, __u64 off, __u64 size)
{
	struct memtopo_op op;
	int ret;

	mt_op_init(&op, MEMTOPO_OP_REGION_CREATE);
	op.kind = MEMTOPO_KIND_ALIAS;
	op.ref = target;
	op.addr = off;
	op.length = size;
	strcpy(op.name, name);
	ret = mt_op(fd, &op);
	return ret ? ret : (int)op.id;
}

static int op_set(int fd, __u32 code, __u32 id, __u64 addr, __u64 value, __u32 kind)
{
	struct memtopo_op op;

	mt_op_init(&op, code);
	op.id = id;
	op.addr = addr;
	op.value = value;
	op.kind = kind;
	return mt_op(fd, &op);
}

static int dirty_get(int fd, __u32 region, __u64 *bits, __u32 flags)
{
	struct memtopo_dirty_log d = {
		.size = sizeof(d), .flags = flags, .op = MEMTOPO_DIRTY_GET, .region = region,
		.client = CLIENT_MIGRATION, .num_pages = RAM_SIZE / 4096,
		.bitmap = (uintptr_t)bits,
	};

	return raw(fd, MEMTOPO_DIRTY_LOG, &d);
}

/* Failed DISCARD calls that left the caller's struct changed. */
static int discard_struct_changed;

/* MEMTOPO_DISCARD @op of the range [@off, @off + @len) of @region. */
static int discard_op(int fd, __u32 op, __u32 region, __u64 off, __u64 len)
{
	struct memtopo_discard d = { .size = sizeof(d), .op = op, .region = region,
				     .offset = off, .length = len }, in;
	int ret;

	if (op == MEMTOPO_DISCARD_SET_MANAGER)
		d.granularity = DRAM_BLOCK;
	in = d;
	ret = raw(fd, MEMTOPO_DISCARD, &d);
	if (ret && memcmp(&in, &d, sizeof(d)))
		discard_struct_changed++;
	return ret;
}

/*
 * The debugfs directory of the anonymous context holding the space named
 * @space (a name unique to the caller): the tests stay on anonymous
 * contexts, so a test that dies leaves nothing behind to pin the module.
 */
static int dbg_dir_of(const char *space, char *out, size_t len)
{
	char path[512], want[128], *text;
	struct dirent *e;
	DIR *d = opendir(DBG);
	int ret = -ENOENT;

	if (!d)
		return -errno;
	snprintf(want, sizeof(want), "\"%s\"", space);
	while ((e = readdir(d))) {
		if (strncmp(e->d_name, "anon-", 5))
			continue;
		snprintf(path, sizeof(path), DBG "/%s/stats", e->d_name);
		text = read_file(path);
		if (text && strstr(text, want)) {
			ret = strlen(e->d_name) < len ? 0 : -ENAMETOOLONG;
			if (!ret)
				strcpy(out, e->d_name);
			break;
		}
	}
	closedir(d);
	return ret;
}

/* Bytes charged to the budget of the context in debugfs directory @name. */
/*
 * Drop the views the context's spaces keep for resync by difference: a
 * region's destruction drops them (kmod/history.c).
 */
static int drop_kept_views(int fd)
{
	int id = mt_region_create(fd, MEMTOPO_KIND_IO, "flush", 0x1000, 0);

	if (id <= 0)
		return -1;
	return mt_region_destroy(fd, id);
}

static long ctx_memory(const char *name)
{
	char path[256], *s, *m;

	snprintf(path, sizeof(path), DBG "/%s/stats", name);
	s = read_file(path);
	if (!s)
		return -1;
	m = strstr(s, "\nmemory ");
	return m ? atol(m + 8) : -1;
}

/* ---- the hostile memory ----------------------------------------------
 * page 0 read-write, page 1 unmapped, page 2 read-only, page 3 unmapped.
 */
struct hostile_mem {
	char *base;
};

enum placement { P_RO, P_UNMAPPED, P_STRADDLE_HEAD, P_STRADDLE_TAIL, P_NR };
static const char *const placement_name[] = {
	"read-only", "unmapped", "straddling after 8 bytes", "straddling before the last 4",
};

static void hm_init(struct hostile_mem *hm)
{
	hm->base = mmap(NULL, 4 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (hm->base == MAP_FAILED)
		abort();
	munmap(hm->base + pg, pg);
	munmap(hm->base + 3 * pg, pg);
	mprotect(hm->base + 2 * pg, pg, PROT_READ);
}

/* Put @len bytes of @src where @p says; return the pointer to pass. */
static void *hm_place(struct hostile_mem *hm, enum placement p, const void *src, size_t len)
{
	char *at;

	switch (p) {
	case P_RO:
		mprotect(hm->base + 2 * pg, pg, PROT_READ | PROT_WRITE);
		memcpy(hm->base + 2 * pg, src, len);
		mprotect(hm->base + 2 * pg, pg, PROT_READ);
		return hm->base + 2 * pg;
	case P_UNMAPPED:
		return hm->base + pg;
	case P_STRADDLE_HEAD:
		at = hm->base + pg - 8;
		memcpy(at, src, len < 8 ? len : 8);
		return at;
	case P_STRADDLE_TAIL:
	default:
		at = hm->base + pg - (len - 4);
		memcpy(at, src, len - 4);
		return at;
	}
}

/* ---- the state a failed call must not change --------------------------- */

struct snap {
	char *buf;
	size_t len, cap;
	char what[32][24];
	size_t at[32];
	int parts;
};

static void snap_add(struct snap *s, const char *what, const void *p, size_t len)
{
	if (s->len + len + 8 > s->cap) {
		s->cap = (s->len + len + 8) * 2;
		s->buf = realloc(s->buf, s->cap);
	}
	if (s->parts < 32) {
		snprintf(s->what[s->parts], sizeof(s->what[0]), "%s", what);
		s->at[s->parts++] = s->len;
	}
	memcpy(s->buf + s->len, &len, sizeof(len));
	memcpy(s->buf + s->len + sizeof(len), p, len);
	s->len += len + sizeof(len);
}

/*
 * What a list call returned: its return value always, the entries when
 * it succeeded (@list is then freed).
 */
static void snap_add_list(struct snap *s, const char *what, int ret, void *list, size_t len)
{
	snap_add(s, what, &ret, sizeof(ret));
	if (!ret) {
		snap_add(s, what, list, len);
		free(list);
	}
}

struct world {
	int fd;
	char name[48];
	int root, ram, io, alias;
	int as;
	int iommu;	/* detached, one mapping into @as */
	int dram;	/* a DISCARD scenario's own RAM, or 0 */
	__u32 sub_a, sub_b;	/* twins: same replay, so the same event stream */
};

/*
 * The lines of debugfs stats that are the context's state: its object
 * counts and per space its ranges, listeners and view generation.  The
 * other lines count work (renders, overlaps seen, view numbers handed out,
 * module-wide overflows), which a failed or rolled-back call may well have
 * done, or memory that includes the render scratch a context keeps (up to
 * 64 KiB, grown by a render that failed too); that every charge is given
 * back is checked when the context is freed (a warning, so a splat).
 */
static void stats_state(char *text)
{
	static const char *const keep[] = { "regions ", "spaces ", "space " };
	char *line = text, *out = text, *next;
	size_t i, len;

	for (; *line; line = next) {
		next = strchr(line, '\n');
		next = next ? next + 1 : line + strlen(line);
		len = next - line;
		for (i = 0; i < ARRAY_SIZE(keep); i++) {
			if (!strncmp(line, keep[i], strlen(keep[i]))) {
				memmove(out, line, len);
				out += len;
				break;
			}
		}
	}
	*out = 0;
}

/* Everything observable; the twin subscription @drain is emptied into it. */
static void snap_take(struct world *w, struct snap *s, __u32 drain)
{
	struct memtopo_region_desc *rd;
	struct memtopo_space_desc *sd;
	struct memtopo_ioeventfd_entry *iofds;
	struct memtopo_coalesced_entry *coal;
	struct memtopo_iommu_mapping *maps;
	struct memtopo_range *r;
	struct memtopo_event ev[512];
	__u64 gen, bits[RAM_SIZE / 4096 / 64] = { 0 };
	__u32 n, depth = 0, i;
	char ram[RAM_SEEN], *text;
	int ret;

	memset(s, 0, sizeof(*s));
	ret = mt_get_regions(w->fd, &rd, &n);
	snap_add(s, "regions", &ret, sizeof(ret));
	if (!ret) {
		/* backing IDs and mmap offsets are unique per boot, not per world */
		for (i = 0; i < n; i++) {
			rd[i].backing_id = !!rd[i].backing_id;
			if (rd[i].flags & MEMTOPO_REGION_KERNEL_BACKING)
				rd[i].backing_offset = !!rd[i].backing_offset;
		}
		snap_add(s, "regions", rd, n * sizeof(*rd));
		free(rd);
	}
	ret = mt_get_spaces(w->fd, &sd, &n);
	snap_add(s, "spaces", &ret, sizeof(ret));
	if (!ret) {
		snap_add(s, "spaces", sd, n * sizeof(*sd));
		for (i = 0; i < n; i++) {
			__u32 nr;

			ret = mt_get_flat(w->fd, sd[i].id, &r, &nr, &gen);
			snap_add(s, "view", &ret, sizeof(ret));
			if (!ret) {
				snap_add(s, "view", r, nr * sizeof(*r));
				snap_add(s, "generation", &gen, sizeof(gen));
				free(r);
			}
		}
		free(sd);
	}
	if (!mt_mtree(w->fd, 0, &text)) {
		snap_add(s, "mtree", text, strlen(text));
		free(text);
	}
	if (!mt_mtree(w->fd, MEMTOPO_MTREE_FLAT, &text)) {
		snap_add(s, "mtree -f", text, strlen(text));
		free(text);
	}
	ret = mt_ioeventfd_list(w->fd, w->io, &iofds, &n);
	snap_add_list(s, "ioeventfds", ret, iofds, ret ? 0 : n * sizeof(*iofds));
	ret = mt_coalesced_list(w->fd, w->io, &coal, &n);
	snap_add_list(s, "coalesced", ret, coal, ret ? 0 : n * sizeof(*coal));
	ret = mt_iommu_get(w->fd, w->iommu, &maps, &n);
	snap_add_list(s, "iommu", ret, maps, ret ? 0 : n * sizeof(*maps));
	if (w->dram) {
		__u64 dbits[DRAM_SIZE / DRAM_BLOCK / 64 + 1] = { 0 };
		struct memtopo_discard d = { .size = sizeof(d), .op = MEMTOPO_DISCARD_GET_STATE,
					     .region = w->dram, .length = DRAM_SIZE,
					     .bitmap = (uintptr_t)dbits };

		ret = raw(w->fd, MEMTOPO_DISCARD, &d);
		d.bitmap = 0;
		snap_add(s, "discard", &ret, sizeof(ret));
		snap_add(s, "discard", &d, sizeof(d));
		snap_add(s, "discard", dbits, sizeof(dbits));
	}
	ret = dirty_get(w->fd, w->ram, bits, 0);
	snap_add(s, "dirty log", &ret, sizeof(ret));
	snap_add(s, "dirty log", bits, sizeof(bits));
	ret = mt_space_rw(w->fd, w->as, RAM_BASE, ram, RAM_SEEN, 0);
	snap_add(s, "ram", &ret, sizeof(ret));
	snap_add(s, "ram", ram, sizeof(ram));
	/* the file's open transactions: one more and back */
	ret = mt_txn(w->fd, MEMTOPO_TXN_BEGIN, &depth);
	if (!ret)
		ret = mt_txn(w->fd, MEMTOPO_TXN_COMMIT, &depth);
	snap_add(s, "transactions", &ret, sizeof(ret));
	snap_add(s, "transactions", &depth, sizeof(depth));
	if (drain) {
		n = 512;
		ret = mt_read_events(w->fd, drain, ev, &n, NULL);
		snap_add(s, "events", &ret, sizeof(ret));
		if (!ret) {
			/* as in the region list: backings are unique per boot */
			for (i = 0; i < n; i++) {
				if (ev[i].type != MEMTOPO_EVENT_REGION_ADD &&
				    ev[i].type != MEMTOPO_EVENT_REGION_DEL &&
				    ev[i].type != MEMTOPO_EVENT_REGION_NOP)
					continue;
				ev[i].backing.id = !!ev[i].backing.id;
				if (ev[i].backing.kind == MEMTOPO_EVENT_BACKING_KERNEL)
					ev[i].backing.offset = !!ev[i].backing.offset;
			}
			snap_add(s, "events", ev, n * sizeof(*ev));
		}
	}
	{
		char path[128];

		snprintf(path, sizeof(path), DBG "/%s/stats", w->name);
		text = read_file(path);
		if (text) {
			stats_state(text);
			snap_add(s, "stats", text, strlen(text));
		}
	}
}

static const char *snap_diff(const struct snap *a, const struct snap *b)
{
	size_t i, n = a->len < b->len ? a->len : b->len;
	int p;

	if (a->len == b->len && !memcmp(a->buf, b->buf, a->len))
		return NULL;
	for (i = 0; i < n && a->buf[i] == b->buf[i]; i++)
		;
	for (p = a->parts - 1; p > 0 && a->at[p] > i; p--)
		;
	if (a->parts && !strcmp(a->what[p], "stats"))
		fprintf(stderr, "# before:\n%.*s\n# after:\n%.*s\n",
			(int)(a->len - a->at[p]), a->buf + a->at[p] + sizeof(size_t),
			(int)(b->len - a->at[p]), b->buf + a->at[p] + sizeof(size_t));
	return a->parts ? a->what[p] : "?";
}

static void snap_free(struct snap *s)
{
	free(s->buf);
}

/*
 * Queue a few events in both twins (move the I/O region and back) and
 * dirty a page in each bitmap word (rewriting what is there).
 */
static int world_stir(struct world *w)
{
	char data[64] = "memtopo hostile";

	return op_set(w->fd, MEMTOPO_OP_SET_ADDRESS, w->io, IO_BASE + 0x10000, 0, 0) ?:
	       op_set(w->fd, MEMTOPO_OP_SET_ADDRESS, w->io, IO_BASE, 0, 0) ?:
	       mt_space_rw(w->fd, w->as, RAM_BASE + 0x10, data, sizeof(data), 1) ?:
	       mt_space_rw(w->fd, w->as, RAM_BASE + 0x70010, data, sizeof(data), 1);
}

static int world_build(struct world *w, const char *tag)
{
	static int serial;
	int ret;

	char space[64];
	int probe, as;

	memset(w, 0, sizeof(*w));
	w->fd = mt_open();
	if (w->fd < 0)
		return w->fd;
	/*
	 * Find the context's debugfs directory through a space with a unique
	 * name, gone before the map is built: every world is then the same,
	 * IDs and names alike, and can be compared with another.
	 */
	snprintf(space, sizeof(space), "hostile-%d-%s-%d", getpid(), tag, serial++);
	probe = mt_region_create(w->fd, MEMTOPO_KIND_CONTAINER, "probe", 0x1000, 0);
	if (probe < 0)
		return probe;
	as = mt_space_create(w->fd, space, probe);
	if (as < 0)
		return as;
	ret = dbg_dir_of(space, w->name, sizeof(w->name));
	if (ret)
		return ret;
	ret = mt_space_destroy(w->fd, as) ?: mt_region_destroy(w->fd, probe);
	if (ret)
		return ret;
	w->root = mt_region_create(w->fd, MEMTOPO_KIND_CONTAINER, "system", 0,
				   MEMTOPO_OP_F_SIZE_2_64);
	w->ram = mt_region_create(w->fd, MEMTOPO_KIND_RAM, "ram", RAM_SIZE,
				  MEMTOPO_OP_F_KERNEL_BACKING);
	w->io = mt_region_create(w->fd, MEMTOPO_KIND_IO, "io", 0x1000, 0);
	if (w->root < 0 || w->ram < 0 || w->io < 0)
		return -EIO;
	w->alias = op_alias(w->fd, "ram-alias", w->ram, 0x1000, 0x1000);
	if (w->alias < 0)
		return w->alias;
	ret = mt_add_subregion(w->fd, w->root, w->ram, RAM_BASE, 0) ?:
	      mt_add_subregion(w->fd, w->root, w->io, IO_BASE, 0) ?:
	      mt_add_subregion(w->fd, w->root, w->alias, 0x300000, 0);
	if (ret)
		return ret;
	w->as = mt_space_create(w->fd, "memory", w->root);
	if (w->as < 0)
		return w->as;
	w->iommu = mt_region_create(w->fd, MEMTOPO_KIND_IOMMU, "iommu", 0x100000, 0);
	if (w->iommu < 0)
		return w->iommu;
	ret = mt_iommu_map(w->fd, w->iommu, 0, 0x4000, w->as, RAM_BASE,
			   MEMTOPO_IOMMU_MAP_READ | MEMTOPO_IOMMU_MAP_WRITE);
	if (ret)
		return ret;
	ret = op_set(w->fd, MEMTOPO_OP_SET_DIRTY_LOG, w->ram, 0, 1, CLIENT_MIGRATION);
	if (ret)
		return ret;
	ret = mt_subscribe(w->fd, w->as, -1, WORLD_MASK, MEMTOPO_SUBSCRIBE_REPLAY, &w->sub_a) ?:
	      mt_subscribe(w->fd, w->as, -1, WORLD_MASK, MEMTOPO_SUBSCRIBE_REPLAY, &w->sub_b);
	return ret ?: world_stir(w);
}

static void world_free(struct world *w)
{
	if (w->fd >= 0)
		close(w->fd);
}

/* One hostile call: @req with @arg (@len bytes) placed at @p. */
struct call {
	const char *name;
	unsigned long req;
	void *arg;
	size_t len;
	bool read_only_ok;	/* the struct has no out field: read-only is fine */
};

/*
 * Run @c with its struct at every placement; each failure must be EFAULT
 * and change nothing.
 */
static void hostile_struct(struct __test_metadata *_metadata, struct world *w,
			   struct hostile_mem *hm, const struct call *c)
{
	struct snap before, after;
	enum placement p;
	const char *diff;
	int ret;

	for (p = 0; p < P_NR; p++) {
		ASSERT_EQ(0, world_stir(w));
		snap_take(w, &before, w->sub_b);
		ret = raw(w->fd, c->req, hm_place(hm, p, c->arg, c->len));
		if (p == P_RO && c->read_only_ok) {
			EXPECT_EQ(0, ret) TH_LOG("%s, struct %s: %s", c->name, placement_name[p],
						 strerror(-ret));
			/* it did its work, which both twins may have heard: resync them */
			snap_free(&before);
			snap_take(w, &before, w->sub_a);
			snap_free(&before);
			snap_take(w, &before, w->sub_b);
			snap_free(&before);
			continue;
		}
		EXPECT_EQ(-EFAULT, ret) TH_LOG("%s, struct %s", c->name, placement_name[p]);
		snap_take(w, &after, w->sub_a);
		diff = snap_diff(&before, &after);
		EXPECT_EQ(NULL, diff) TH_LOG("%s, struct %s: %s changed", c->name,
					     placement_name[p], diff);
		snap_free(&before);
		snap_free(&after);
	}
}

FIXTURE(hostile) {
	struct world w;
	struct hostile_mem hm;
};

FIXTURE_SETUP(hostile)
{
	int ret;

	pg = sysconf(_SC_PAGESIZE);
	hm_init(&self->hm);
	ret = world_build(&self->w, "fx");
	ASSERT_EQ(0, ret) TH_LOG("building the map: %s", strerror(-ret));
}

FIXTURE_TEARDOWN(hostile)
{
	world_free(&self->w);
}

/* Every ioctl's argument struct: read-only, unmapped, straddling. */
TEST_F(hostile, every_struct)
{
	struct world *w = &self->w;
	__u64 bits[4];
	struct memtopo_range ranges[16];
	struct memtopo_region_desc rdesc[16];
	struct memtopo_space_desc sdesc[4];
	struct memtopo_event ev[64];
	char text[4096], buf[64];
	struct memtopo_info info = { .size = sizeof(info) };
	struct memtopo_op create, move;
	struct memtopo_op ops[2];
	struct memtopo_batch batch = { .size = sizeof(batch), .count = 2,
				       .op_size = sizeof(ops[0]), .ops = (uintptr_t)ops };
	struct memtopo_txn begin = { .size = sizeof(begin), .op = MEMTOPO_TXN_BEGIN };
	struct memtopo_txn commit = { .size = sizeof(commit), .op = MEMTOPO_TXN_COMMIT };
	struct memtopo_get_flat flat = { .size = sizeof(flat), .space = w->as, .count = 16,
					 .ranges = (uintptr_t)ranges,
					 .range_size = sizeof(ranges[0]) };
	struct memtopo_get_regions regions = { .size = sizeof(regions), .count = 16,
					       .desc_size = sizeof(rdesc[0]),
					       .regions = (uintptr_t)rdesc };
	struct memtopo_get_spaces spaces = { .size = sizeof(spaces), .count = 4,
					     .desc_size = sizeof(sdesc[0]),
					     .spaces = (uintptr_t)sdesc };
	struct memtopo_lookup lookup = { .size = sizeof(lookup), .space = w->as,
					 .addr = RAM_BASE };
	struct memtopo_mtree mtree = { .size = sizeof(mtree), .len = sizeof(text),
				       .buf = (uintptr_t)text };
	struct memtopo_subscribe sub = { .size = sizeof(sub), .space = w->as, .eventfd = -1,
					 .flags = MEMTOPO_SUBSCRIBE_REPLAY };
	struct memtopo_read_events rd = { .size = sizeof(rd), .id = w->sub_a, .count = 64,
					  .events = (uintptr_t)ev, .event_size = sizeof(ev[0]) };
	struct memtopo_ctx_attach attach = { .size = sizeof(attach),
					     .flags = MEMTOPO_ATTACH_CREATE };
	struct memtopo_coalesced coal = { .size = sizeof(coal), .region = w->io,
					  .offset = 0, .length = 8 };
	struct memtopo_dirty_log dirty = { .size = sizeof(dirty), .op = MEMTOPO_DIRTY_GET,
					   .region = w->ram, .client = CLIENT_MIGRATION,
					   .num_pages = RAM_SIZE / 4096,
					   .bitmap = (uintptr_t)bits };
	struct memtopo_space_rw rw = { .size = sizeof(rw), .space = w->as, .addr = RAM_BASE,
				       .length = sizeof(buf), .buf = (uintptr_t)buf };
	__u32 unsub_id;
	struct memtopo_unsubscribe unsub = { .size = sizeof(unsub) };
	int efd = eventfd(0, EFD_CLOEXEC);
	struct memtopo_ioeventfd ioev = { .size = sizeof(ioev), .region = w->io, .fd = efd,
					  .len = 4, .offset = 0x100 };
	struct memtopo_ctx_destroy destroy = { .size = sizeof(destroy) };
	struct memtopo_serve serve = { .size = sizeof(serve), .region = w->io };
	struct memtopo_discard disc = { .size = sizeof(disc), .op = MEMTOPO_DISCARD_SET_MANAGER,
					.region = w->ram, .granularity = 4096 };
	struct memtopo_ioeventfd_entry io_entries[4];
	struct memtopo_ioeventfd_list iolist = { .size = sizeof(iolist), .region = w->io,
						 .num_entries = 4,
						 .entries = (uintptr_t)io_entries };
	struct memtopo_coalesced_entry co_entries[4];
	struct memtopo_coalesced_list colist = { .size = sizeof(colist), .region = w->io,
						 .num_entries = 4,
						 .entries = (uintptr_t)co_entries };
	struct memtopo_dirty_mark mark = { .size = sizeof(mark), .region = w->ram,
					   .offset = 0x2000, .length = 0x10 };
	int mmu = mt_region_create(w->fd, MEMTOPO_KIND_IOMMU, "mmu", 0, MEMTOPO_OP_F_SIZE_2_64);
	struct memtopo_iommu_mapping imaps[4];
	struct memtopo_iommu_map imap = { .size = sizeof(imap), .flags = MEMTOPO_IOMMU_MAP_READ,
					  .region = mmu, .space = w->as, .iova = 0x1000,
					  .length = 0x1000, .addr = RAM_BASE };
	struct memtopo_iommu_unmap iunmap = { .size = sizeof(iunmap), .region = mmu,
					      .flags = MEMTOPO_IOMMU_UNMAP_ALL };
	struct memtopo_iommu_get iget = { .size = sizeof(iget), .region = mmu, .count = 4,
					  .mappings = (uintptr_t)imaps,
					  .mapping_size = sizeof(imaps[0]) };
	struct memtopo_budget budget = { .size = sizeof(budget) };
	struct memtopo_budget budget_set = { .size = sizeof(budget_set),
					     .flags = MEMTOPO_BUDGET_SET };
	/* faults before it looks at the generation: any one will do */
	struct memtopo_get_flat_diff fdiff = { .size = sizeof(fdiff), .space = w->as,
					       .count = 64, .events = (uintptr_t)ev,
					       .event_size = sizeof(ev[0]), .from_generation = 1 };
	int other = mt_open();
	struct call calls[] = {
		{ "GET_INFO", MEMTOPO_GET_INFO, &info, sizeof(info) },
		{ "OP create", MEMTOPO_OP, &create, sizeof(create) },
		{ "OP set_address", MEMTOPO_OP, &move, sizeof(move) },
		{ "BATCH", MEMTOPO_BATCH, &batch, sizeof(batch) },
		{ "TXN begin", MEMTOPO_TXN, &begin, sizeof(begin) },
		{ "GET_FLAT", MEMTOPO_GET_FLAT, &flat, sizeof(flat) },
		{ "GET_REGIONS", MEMTOPO_GET_REGIONS, &regions, sizeof(regions) },
		{ "GET_SPACES", MEMTOPO_GET_SPACES, &spaces, sizeof(spaces) },
		{ "LOOKUP", MEMTOPO_LOOKUP, &lookup, sizeof(lookup) },
		{ "MTREE", MEMTOPO_MTREE, &mtree, sizeof(mtree) },
		{ "SUBSCRIBE", MEMTOPO_SUBSCRIBE, &sub, sizeof(sub) },
		{ "READ_EVENTS", MEMTOPO_READ_EVENTS, &rd, sizeof(rd) },
		{ "COALESCED", MEMTOPO_COALESCED, &coal, sizeof(coal), true },
		{ "DIRTY_LOG get", MEMTOPO_DIRTY_LOG, &dirty, sizeof(dirty), true },
		{ "SPACE_RW read", MEMTOPO_SPACE_RW, &rw, sizeof(rw), true },
		{ "IOEVENTFD", MEMTOPO_IOEVENTFD, &ioev, sizeof(ioev), true },
		{ "SERVE", MEMTOPO_SERVE, &serve, sizeof(serve) },
		{ "DISCARD set_manager", MEMTOPO_DISCARD, &disc, sizeof(disc) },
		{ "IOEVENTFD_LIST", MEMTOPO_IOEVENTFD_LIST, &iolist, sizeof(iolist) },
		{ "COALESCED_LIST", MEMTOPO_COALESCED_LIST, &colist, sizeof(colist) },
		{ "DIRTY_MARK", MEMTOPO_DIRTY_MARK, &mark, sizeof(mark), true },
		{ "IOMMU_MAP", MEMTOPO_IOMMU_MAP, &imap, sizeof(imap), true },
		{ "IOMMU_UNMAP all", MEMTOPO_IOMMU_UNMAP, &iunmap, sizeof(iunmap), true },
		{ "IOMMU_GET", MEMTOPO_IOMMU_GET, &iget, sizeof(iget) },
		{ "BUDGET", MEMTOPO_BUDGET, &budget, sizeof(budget) },
		{ "BUDGET set", MEMTOPO_BUDGET, &budget_set, sizeof(budget_set) },
		{ "GET_FLAT_DIFF", MEMTOPO_GET_FLAT_DIFF, &fdiff, sizeof(fdiff) },
	};
	struct call commit_call = { "TXN commit", MEMTOPO_TXN, &commit, sizeof(commit) };
	struct call unsub_call = { "UNSUBSCRIBE", MEMTOPO_UNSUBSCRIBE, &unsub, sizeof(unsub),
				   true };
	struct snap before, after;
	enum placement p;
	__u32 depth;
	int ret, created;
	size_t i;

	ASSERT_LE(0, efd);
	ASSERT_LE(0, other);
	ASSERT_LT(0, mmu);
	mt_op_init(&create, MEMTOPO_OP_REGION_CREATE);
	create.kind = MEMTOPO_KIND_IO;
	create.length = 0x1000;
	strcpy(create.name, "new");
	mt_op_init(&move, MEMTOPO_OP_SET_ADDRESS);
	move.id = w->ram;
	move.addr = 0x800000;
	mt_op_init(&ops[0], MEMTOPO_OP_REGION_CREATE);
	ops[0].kind = MEMTOPO_KIND_IO;
	ops[0].length = 0x1000;
	strcpy(ops[0].name, "batched");
	mt_op_init(&ops[1], MEMTOPO_OP_ADD_SUBREGION);
	ops[1].id = MEMTOPO_ID_BATCH_REF | 0;
	ops[1].ref = w->root;
	ops[1].addr = 0x900000;
	snprintf(attach.name, sizeof(attach.name), "hostile-%d-new", getpid());

	for (i = 0; i < ARRAY_SIZE(calls); i++) {
		/* each IN call that succeeds must be undoable for the next placement */
		if (calls[i].req == MEMTOPO_COALESCED)
			coal.flags = 0;
		hostile_struct(_metadata, w, &self->hm, &calls[i]);
		if (calls[i].req == MEMTOPO_COALESCED) {
			coal.flags = MEMTOPO_COALESCED_DEL;
			EXPECT_EQ(0, raw(w->fd, MEMTOPO_COALESCED, &coal));
		}
		if (calls[i].req == MEMTOPO_IOMMU_MAP)
			EXPECT_EQ(0, mt_iommu_unmap(w->fd, mmu, 0, 0, MEMTOPO_IOMMU_UNMAP_ALL));
		if (calls[i].req == MEMTOPO_IOEVENTFD) {
			ioev.flags = MEMTOPO_IOEVENTFD_DEASSIGN;
			EXPECT_EQ(0, raw(w->fd, MEMTOPO_IOEVENTFD, &ioev));
			ioev.flags = 0;
		}
	}

	/* TXN commit with a transaction open: it stays open */
	ASSERT_EQ(0, mt_txn(w->fd, MEMTOPO_TXN_BEGIN, &depth));
	ASSERT_EQ(1, depth);
	hostile_struct(_metadata, w, &self->hm, &commit_call);
	EXPECT_EQ(0, mt_txn(w->fd, MEMTOPO_TXN_COMMIT, &depth));
	EXPECT_EQ(0, depth);
	EXPECT_EQ(-EINVAL, mt_txn(w->fd, MEMTOPO_TXN_COMMIT, &depth));

	/* UNSUBSCRIBE only reads its struct: read-only works, the rest fault */
	ASSERT_EQ(0, mt_subscribe(w->fd, w->as, -1, 0, 0, &unsub_id));
	unsub.id = unsub_id;
	hostile_struct(_metadata, w, &self->hm, &unsub_call);
	EXPECT_EQ(-ENOENT, mt_unsubscribe(w->fd, unsub_id));

	/* CTX_ATTACH (on a file without subscriptions): nothing created, not moved */
	ASSERT_LT(0, mt_region_create(other, MEMTOPO_KIND_IO, "other's own", 0x1000, 0));
	for (p = 0; p < P_NR; p++) {
		struct memtopo_region_desc *d1, *d2;
		__u32 n1, n2;

		ASSERT_EQ(0, mt_get_regions(other, &d1, &n1));
		ret = raw(other, MEMTOPO_CTX_ATTACH,
			  hm_place(&self->hm, p, &attach, sizeof(attach)));
		EXPECT_EQ(-EFAULT, ret) TH_LOG("CTX_ATTACH, struct %s", placement_name[p]);
		{
			int probe = mt_open();

			EXPECT_EQ(-ENOENT, mt_attach(probe, attach.name, 0, NULL));
			close(probe);
		}
		ASSERT_EQ(0, mt_get_regions(other, &d2, &n2));
		EXPECT_EQ(n1, n2);
		EXPECT_EQ(0, memcmp(d1, d2, n1 * sizeof(*d1)));
		free(d1);
		free(d2);
	}
	/* CTX_DESTROY only reads its struct */
	ASSERT_EQ(0, mt_attach(other, attach.name, MEMTOPO_ATTACH_CREATE, &created));
	ASSERT_EQ(1, created);
	strcpy(destroy.name, attach.name);
	for (p = P_UNMAPPED; p < P_NR; p++)
		EXPECT_EQ(-EFAULT, raw(other, MEMTOPO_CTX_DESTROY,
				       hm_place(&self->hm, p, &destroy, sizeof(destroy))));
	EXPECT_EQ(0, raw(other, MEMTOPO_CTX_DESTROY,
			 hm_place(&self->hm, P_RO, &destroy, sizeof(destroy))));
	EXPECT_EQ(-ENOENT, mt_ctx_destroy(other, attach.name));

	/* and the state is still the one the twins agree on */
	snap_take(w, &before, w->sub_b);
	snap_take(w, &after, w->sub_a);
	EXPECT_EQ(NULL, snap_diff(&before, &after));
	snap_free(&before);
	snap_free(&after);
	close(other);
	close(efd);
}

/* Put @len bytes at @p for a user pointer inside an argument. */
static __u64 hm_ptr(struct hostile_mem *hm, enum placement p, const void *src, size_t len)
{
	return (uintptr_t)hm_place(hm, p, src, len);
}

/*
 * Every user pointer inside an argument.  An output buffer that cannot be
 * written and an input that cannot be read are EFAULT, with nothing
 * changed: no events dequeued, no dirty bit taken, no region created.
 */
TEST_F(hostile, every_pointer)
{
	struct world *w = &self->w;
	struct snap before, after;
	struct memtopo_range ranges[16];
	struct memtopo_event ev[64];
	struct memtopo_op ops[3];
	__u64 bits[RAM_SIZE / 4096 / 64] = { ~0ull, ~0ull };
	char rom[0x1000] = "contents";
	char text[4096];
	enum placement p;
	const char *diff;
	int ret, k;

	memset(ranges, 0, sizeof(ranges));
	memset(ev, 0, sizeof(ev));
	for (p = 0; p < P_NR; p++) {
		for (k = 0; k < 8; k++) {
			struct memtopo_get_flat flat = { .size = sizeof(flat), .space = w->as,
							 .count = 16,
							 .range_size = sizeof(ranges[0]) };
			struct memtopo_read_events rd = { .size = sizeof(rd), .id = w->sub_a,
							  .count = 64,
							  .event_size = sizeof(ev[0]) };
			struct memtopo_mtree mtree = { .size = sizeof(mtree), .len = sizeof(text) };
			struct memtopo_dirty_log dirty = {
				.size = sizeof(dirty), .op = MEMTOPO_DIRTY_GET,
				.flags = MEMTOPO_DIRTY_F_CLEAR, .region = w->ram,
				.client = CLIENT_MIGRATION, .num_pages = RAM_SIZE / 4096,
			};
			struct memtopo_space_rw rw = { .size = sizeof(rw), .space = w->as,
						       .addr = RAM_BASE + 0x20, .length = 256 };
			struct memtopo_batch batch = { .size = sizeof(batch), .count = 3,
						       .op_size = sizeof(ops[0]) };
			struct memtopo_op create;
			const char *name = "?";
			bool ro_reads = false;

			struct memtopo_range *r;
			__u32 nr, pending;
			__u64 gen;
			char *t;

			ASSERT_EQ(0, world_stir(w));
			/* buffers of exactly the size the answer needs: straddling faults */
			ASSERT_EQ(0, mt_get_flat(w->fd, w->as, &r, &nr, &gen));
			free(r);
			flat.count = nr;
			nr = 0;
			ASSERT_EQ(0, mt_read_events(w->fd, w->sub_a, ev, &nr, &pending));
			ASSERT_LT(0, pending);
			ASSERT_GE(64, pending);
			rd.count = pending;
			ASSERT_EQ(0, mt_mtree(w->fd, 0, &t));
			mtree.len = strlen(t);
			free(t);
			snap_take(w, &before, w->sub_b);
			switch (k) {
			case 0:
				name = "GET_FLAT ranges";
				flat.ranges = hm_ptr(&self->hm, p, ranges,
						     flat.count * sizeof(*ranges));
				ret = raw(w->fd, MEMTOPO_GET_FLAT, &flat);
				break;
			case 1:
				name = "READ_EVENTS events";
				rd.events = hm_ptr(&self->hm, p, ev, rd.count * sizeof(*ev));
				ret = raw(w->fd, MEMTOPO_READ_EVENTS, &rd);
				break;
			case 2:
				name = "MTREE buf";
				mtree.buf = hm_ptr(&self->hm, p, text, mtree.len);
				ret = raw(w->fd, MEMTOPO_MTREE, &mtree);
				break;
			case 3:
				name = "DIRTY_LOG get+clear bitmap";
				dirty.bitmap = hm_ptr(&self->hm, p, bits, sizeof(bits));
				ret = raw(w->fd, MEMTOPO_DIRTY_LOG, &dirty);
				break;
			case 4:
				name = "DIRTY_LOG clear bitmap";
				ro_reads = true;
				dirty.op = MEMTOPO_DIRTY_CLEAR;
				dirty.flags = 0;
				dirty.bitmap = hm_ptr(&self->hm, p, bits, sizeof(bits));
				ret = raw(w->fd, MEMTOPO_DIRTY_LOG, &dirty);
				break;
			case 5:
				name = "SPACE_RW read buf";
				rw.buf = hm_ptr(&self->hm, p, text, 256);
				ret = raw(w->fd, MEMTOPO_SPACE_RW, &rw);
				break;
			case 6:
				name = "BATCH ops";
				mt_op_init(&ops[0], MEMTOPO_OP_REGION_CREATE);
				ops[0].kind = MEMTOPO_KIND_IO;
				ops[0].length = 0x1000;
				strcpy(ops[0].name, "b0");
				mt_op_init(&ops[1], MEMTOPO_OP_ADD_SUBREGION);
				ops[1].id = MEMTOPO_ID_BATCH_REF | 0;
				ops[1].ref = w->root;
				ops[1].addr = 0xa00000;
				mt_op_init(&ops[2], MEMTOPO_OP_SET_ENABLED);
				ops[2].id = w->io;
				ops[2].value = 0;
				/* straddling: the first operations fit, a later one faults */
				batch.ops = hm_ptr(&self->hm, p, ops, sizeof(ops));
				ret = raw(w->fd, MEMTOPO_BATCH, &batch);
				break;
			default:
				name = "OP create kernel RAM contents";
				ro_reads = true;
				mt_op_init(&create, MEMTOPO_OP_REGION_CREATE);
				create.kind = MEMTOPO_KIND_ROM;
				create.flags = MEMTOPO_OP_F_KERNEL_BACKING;
				create.length = sizeof(rom);
				strcpy(create.name, "rom");
				create.value = hm_ptr(&self->hm, p, rom, sizeof(rom));
				ret = raw(w->fd, MEMTOPO_OP, &create);
				if (!ret && p == P_RO)
					EXPECT_EQ(0, mt_region_destroy(w->fd, create.id));
				break;
			}
			if (p == P_RO && ro_reads) {
				EXPECT_EQ(0, ret) TH_LOG("%s %s", name, placement_name[p]);
				snap_free(&before);
				snap_take(w, &before, w->sub_a);
				snap_free(&before);
				continue;
			}
			EXPECT_EQ(-EFAULT, ret) TH_LOG("%s %s", name, placement_name[p]);
			snap_take(w, &after, w->sub_a);
			diff = snap_diff(&before, &after);
			EXPECT_EQ(NULL, diff) TH_LOG("%s %s: %s changed", name, placement_name[p],
						     diff);
			snap_free(&before);
			snap_free(&after);
		}
	}
}

/*
 * The entry arrays of the list ioctls, sized exactly for the answer: at
 * every placement EFAULT, and nothing changed.
 */
TEST_F(hostile, list_entries_pointer)
{
	struct world *w = &self->w;
	struct memtopo_ioeventfd_entry ioe[1];
	struct memtopo_coalesced_entry coe[1];
	struct snap before, after;
	int efd = eventfd(0, EFD_CLOEXEC), ret, k;
	enum placement p;
	const char *diff;

	ASSERT_LE(0, efd);
	ASSERT_EQ(0, mt_ioeventfd(w->fd, w->io, efd, 0x200, 4, 0, 0));
	ASSERT_EQ(0, mt_coalesced(w->fd, w->io, 0x300, 0x10, 0));
	for (p = 0; p < P_NR; p++) {
		for (k = 0; k < 2; k++) {
			struct memtopo_ioeventfd_list il = { .size = sizeof(il), .region = w->io,
							     .num_entries = 1 };
			struct memtopo_coalesced_list cl = { .size = sizeof(cl), .region = w->io,
							     .num_entries = 1 };

			ASSERT_EQ(0, world_stir(w));
			snap_take(w, &before, w->sub_b);
			if (k) {
				cl.entries = hm_ptr(&self->hm, p, coe, sizeof(coe));
				ret = raw(w->fd, MEMTOPO_COALESCED_LIST, &cl);
			} else {
				il.entries = hm_ptr(&self->hm, p, ioe, sizeof(ioe));
				ret = raw(w->fd, MEMTOPO_IOEVENTFD_LIST, &il);
			}
			EXPECT_EQ(-EFAULT, ret) TH_LOG("list %d, %s", k, placement_name[p]);
			snap_take(w, &after, w->sub_a);
			diff = snap_diff(&before, &after);
			EXPECT_EQ(NULL, diff) TH_LOG("list %d %s: %s changed", k, placement_name[p],
						     diff);
			snap_free(&before);
			snap_free(&after);
		}
	}
	EXPECT_EQ(0, mt_ioeventfd(w->fd, w->io, -1, 0x200, 4, MEMTOPO_IOEVENTFD_DEASSIGN, 0));
	EXPECT_EQ(0, mt_coalesced(w->fd, w->io, 0x300, 0x10, MEMTOPO_COALESCED_DEL));
	close(efd);
}

/*
 * The cases by name: a begin or commit that cannot answer opens or
 * closes nothing; a READ_EVENTS that cannot answer loses no event.
 */
TEST_F(hostile, txn_and_events_by_name)
{
	struct world *w = &self->w;
	struct memtopo_txn t = { .size = sizeof(t), .op = MEMTOPO_TXN_BEGIN };
	struct memtopo_event ev[64];
	struct memtopo_read_events rd = { .size = sizeof(rd), .id = w->sub_a, .count = 64,
					  .events = (uintptr_t)ev, .event_size = sizeof(ev[0]) };
	__u32 depth, n = 64, pending;

	EXPECT_EQ(-EFAULT, raw(w->fd, MEMTOPO_TXN, hm_place(&self->hm, P_RO, &t, sizeof(t))));
	EXPECT_EQ(-EINVAL, mt_txn(w->fd, MEMTOPO_TXN_COMMIT, &depth)) TH_LOG("begin opened one");
	ASSERT_EQ(0, mt_txn(w->fd, MEMTOPO_TXN_BEGIN, &depth));
	t.op = MEMTOPO_TXN_COMMIT;
	EXPECT_EQ(-EFAULT, raw(w->fd, MEMTOPO_TXN, hm_place(&self->hm, P_RO, &t, sizeof(t))));
	EXPECT_EQ(0, mt_txn(w->fd, MEMTOPO_TXN_COMMIT, &depth)) TH_LOG("commit closed it");

	/* 15 events queued; a read that cannot answer leaves all 15 */
	n = 0;
	ASSERT_EQ(0, mt_read_events(w->fd, w->sub_a, ev, &n, &pending));
	ASSERT_LT(0, pending);
	EXPECT_EQ(-EFAULT, raw(w->fd, MEMTOPO_READ_EVENTS,
			       hm_place(&self->hm, P_RO, &rd, sizeof(rd))));
	n = 64;
	ASSERT_EQ(0, mt_read_events(w->fd, w->sub_a, ev, &n, NULL));
	EXPECT_EQ(pending, n) TH_LOG("events lost");
	EXPECT_EQ(1, ev[0].seq);
}

/* ---- fail-nth: every allocation and user copy failed in turn ---------- */

typedef int (*scenario_fn)(struct world *w);

static int sc_create(struct world *w)
{
	return mt_region_create(w->fd, MEMTOPO_KIND_RAM, "new", 0x2000,
				MEMTOPO_OP_F_KERNEL_BACKING) < 0 ?
	       -1 : 0;
}

static int sc_batch(struct world *w)
{
	struct memtopo_op ops[3];
	__u32 idx;

	mt_op_init(&ops[0], MEMTOPO_OP_REGION_CREATE);
	ops[0].kind = MEMTOPO_KIND_IO;
	ops[0].length = 0x1000;
	strcpy(ops[0].name, "b0");
	mt_op_init(&ops[1], MEMTOPO_OP_ADD_SUBREGION);
	ops[1].id = MEMTOPO_ID_BATCH_REF | 0;
	ops[1].ref = w->root;
	ops[1].addr = 0xa00000;
	mt_op_init(&ops[2], MEMTOPO_OP_SET_DIRTY_LOG);
	ops[2].id = w->ram;
	ops[2].kind = CLIENT_VGA;
	ops[2].value = 1;
	return mt_batch(w->fd, ops, 3, &idx);
}

static int sc_txn(struct world *w)
{
	__u32 depth;

	return mt_txn(w->fd, MEMTOPO_TXN_BEGIN, &depth);
}

static int sc_subscribe(struct world *w)
{
	__u32 id;

	return mt_subscribe(w->fd, w->as, -1, 0, MEMTOPO_SUBSCRIBE_REPLAY, &id);
}

static int sc_read_events(struct world *w)
{
	struct memtopo_event ev[64];
	__u32 n = 64;

	return mt_read_events(w->fd, w->sub_a, ev, &n, NULL);
}

static int sc_dirty_get_clear(struct world *w)
{
	__u64 bits[4];

	return dirty_get(w->fd, w->ram, bits, MEMTOPO_DIRTY_F_CLEAR);
}

static int sc_space_write(struct world *w)
{
	char data[32] = "overwritten";

	return mt_space_rw(w->fd, w->as, RAM_BASE + 0x18, data, sizeof(data), 1);
}

/* Listeners hear of it at once, outside any transaction. */
static int sc_ioeventfd(struct world *w)
{
	int efd = eventfd(0, EFD_CLOEXEC), ret;

	if (efd < 0)
		return -errno;
	ret = mt_ioeventfd(w->fd, w->io, efd, 0x10, 4, 0, 0);
	close(efd);
	return ret;
}

/* Deletes what sc_ioeventfd() registered (fd -1: whichever eventfd is there). */
static int sc_ioeventfd_del(struct world *w)
{
	return mt_ioeventfd(w->fd, w->io, -1, 0x10, 4, MEMTOPO_IOEVENTFD_DEASSIGN, 0);
}

static int sc_coalesced(struct world *w)
{
	return mt_coalesced(w->fd, w->io, 0, 0x100, 0);
}

static int sc_iommu_map(struct world *w)
{
	return mt_iommu_map(w->fd, w->iommu, 0x10000, 0x1000, w->as, RAM_BASE,
			    MEMTOPO_IOMMU_MAP_READ);
}

/* The middle page of the mapping: the table grows by one */
static int sc_iommu_unmap(struct world *w)
{
	return mt_iommu_unmap(w->fd, w->iommu, 0x1000, 0x1000, 0);
}

/* A RAM region of its own, not placed: it may still take a manager. */
static int sc_dram(struct world *w)
{
	w->dram = mt_region_create(w->fd, MEMTOPO_KIND_RAM, "dram", DRAM_SIZE,
				   MEMTOPO_OP_F_KERNEL_BACKING);
	return w->dram < 0 ? w->dram : 0;
}

static int sc_discard_set_manager(struct world *w)
{
	return discard_op(w->fd, MEMTOPO_DISCARD_SET_MANAGER, w->dram, 0, 0);
}

/* Managed, not placed (or it could not be cleared), two blocks populated. */
static int sc_dram_unplaced(struct world *w)
{
	return sc_dram(w) ?: sc_discard_set_manager(w) ?:
	       discard_op(w->fd, MEMTOPO_DISCARD_POPULATE, w->dram, 4 * DRAM_BLOCK,
			  2 * DRAM_BLOCK);
}

static int sc_discard_clear_manager(struct world *w)
{
	return discard_op(w->fd, MEMTOPO_DISCARD_CLEAR_MANAGER, w->dram, 0, 0);
}

/* Managed and mapped (subscribers see its changes), two blocks populated. */
static int sc_dram_managed(struct world *w)
{
	return sc_dram_unplaced(w) ?: mt_add_subregion(w->fd, w->root, w->dram, DRAM_BASE, 0);
}

/* Two discarded runs around the populated blocks: two announcements. */
static int sc_discard_populate(struct world *w)
{
	return discard_op(w->fd, MEMTOPO_DISCARD_POPULATE, w->dram, 0, DRAM_SIZE);
}

/* Two discarded blocks in the middle of a populated region. */
static int sc_dram_populated(struct world *w)
{
	return sc_dram_managed(w) ?: sc_discard_populate(w) ?:
	       discard_op(w->fd, MEMTOPO_DISCARD_DISCARD, w->dram, 4 * DRAM_BLOCK,
			  2 * DRAM_BLOCK);
}

static int sc_discard_discard(struct world *w)
{
	return discard_op(w->fd, MEMTOPO_DISCARD_DISCARD, w->dram, 0, DRAM_SIZE);
}

/* @prep, if any, runs before the snapshot and without faults. */
static const struct {
	const char *name;
	scenario_fn fn;
	scenario_fn prep;
} scenarios[] = {
	{ "OP create kernel RAM", sc_create },
	{ "BATCH create, map, dirty log", sc_batch },
	{ "TXN begin", sc_txn },
	{ "SUBSCRIBE replay", sc_subscribe },
	{ "READ_EVENTS", sc_read_events },
	{ "DIRTY_LOG get+clear", sc_dirty_get_clear },
	{ "SPACE_RW write", sc_space_write },
	{ "IOEVENTFD add", sc_ioeventfd },
	{ "IOEVENTFD delete", sc_ioeventfd_del, sc_ioeventfd },
	{ "COALESCED add", sc_coalesced },
	{ "IOMMU_MAP", sc_iommu_map },
	{ "IOMMU_UNMAP cutting a mapping", sc_iommu_unmap },
	{ "DISCARD set_manager", sc_discard_set_manager, sc_dram },
	{ "DISCARD clear_manager", sc_discard_clear_manager, sc_dram_unplaced },
	{ "DISCARD populate", sc_discard_populate, sc_dram_managed },
	{ "DISCARD discard", sc_discard_discard, sc_dram_populated },
};

/*
 * The IDs the next region, space and subscription get, in that order (or
 * the errno):
 * state a snapshot cannot read without changing it, so taken after one.
 * Cyclic IDs make them tell whether a failed call took one and gave it
 * back.
 */
struct next_ids {
	int region, space, sub;
};

static void next_ids_take(struct world *w, struct next_ids *n)
{
	__u32 id;
	int ret;

	n->region = mt_region_create(w->fd, MEMTOPO_KIND_CONTAINER, "next", 0x1000, 0);
	n->space = n->region < 0 ? n->region : mt_space_create(w->fd, "next", n->region);
	ret = mt_subscribe(w->fd, w->as, -1, 0, 0, &id);
	n->sub = ret ? ret : (int)id;
}

/*
 * Each scenario under fail-nth n = 1, 2, ... until it no longer reaches
 * the nth fault point: a failed call must leave exactly the state before,
 * the next IDs included, a successful one exactly the state a fault-free
 * run leaves.
 */
/* fail-nth walks take minutes on a debug kernel under TCG */
FIXTURE(nth) {
	int unused;
};

FIXTURE_SETUP(nth)
{
	pg = sysconf(_SC_PAGESIZE);
}

FIXTURE_TEARDOWN(nth)
{
}

TEST_F_TIMEOUT(nth, changes_nothing, 600)
{
	struct world w;
	struct next_ids ids, ids_before, ids_want;
	struct snap before, after, want;
	const struct next_ids *wids;
	const char *diff;
	size_t s;
	int n, ret, failfd;

	failfd = failnth_open();
	if (failfd < 0)
		SKIP(return, "no fail-nth in this kernel");
	for (s = 0; s < ARRAY_SIZE(scenarios); s++) {
		ret = world_build(&w, "ref") ?: (scenarios[s].prep ? scenarios[s].prep(&w) : 0);
		ASSERT_EQ(0, ret) TH_LOG("%s: building: %s", scenarios[s].name, strerror(-ret));
		ASSERT_EQ(0, scenarios[s].fn(&w)) TH_LOG("%s without faults", scenarios[s].name);
		snap_take(&w, &want, w.sub_a);
		next_ids_take(&w, &ids_want);
		world_free(&w);
		ret = world_build(&w, "ref") ?: (scenarios[s].prep ? scenarios[s].prep(&w) : 0);
		ASSERT_EQ(0, ret) TH_LOG("%s: building: %s", scenarios[s].name, strerror(-ret));
		next_ids_take(&w, &ids_before);
		world_free(&w);
		for (n = 1; n < 2000; n++) {
			bool unused;

			ret = world_build(&w, "nth") ?:
			      (scenarios[s].prep ? scenarios[s].prep(&w) : 0);
			ASSERT_EQ(0, ret) TH_LOG("%s, fault %d: building: %s",
						 scenarios[s].name, n, strerror(-ret));
			snap_take(&w, &before, w.sub_b);
			failnth_set(failfd, n);
			ret = scenarios[s].fn(&w);
			unused = failnth_unused(failfd);
			snap_take(&w, &after, w.sub_a);
			diff = snap_diff(ret ? &before : &want, &after);
			EXPECT_EQ(NULL, diff) TH_LOG("%s, fault %d (%s): %s differs",
						     scenarios[s].name, n,
						     ret ? "failed" : "succeeded", diff);
			next_ids_take(&w, &ids);
			wids = ret ? &ids_before : &ids_want;
			EXPECT_EQ(0, memcmp(wids, &ids, sizeof(ids)))
				TH_LOG("%s, fault %d (%s): next IDs %d %d %d, not %d %d %d",
				       scenarios[s].name, n, ret ? "failed" : "succeeded",
				       ids.region, ids.space, ids.sub,
				       wids->region, wids->space, wids->sub);
			snap_free(&before);
			snap_free(&after);
			world_free(&w);
			if (unused) {
				EXPECT_EQ(0, ret);
				break;
			}
		}
		snap_free(&want);
	}
	close(failfd);
	EXPECT_EQ(0, discard_struct_changed) TH_LOG("a failed DISCARD changed its struct");
}

/*
 * A commit queues more events than a fresh ring holds (a disabled bank of
 * 80 regions is enabled), with each fault point of that one call failed in
 * turn: it fails with nothing changed, or it succeeds with the view a
 * fault-free run gives and its events complete or cut short by the
 * overflow marker, numbered without a gap: a ring that could not grow
 * loses nothing silently.
 */
#define BANK	80

static int bank_build(struct world *w, const char *tag, __u32 *sub, int *bank)
{
	struct memtopo_op ops[1 + 2 * BANK + 2];
	__u32 idx, n = 0;
	int k, ret;

	ret = world_build(w, tag);
	if (ret)
		return ret;
	mt_op_init(&ops[n], MEMTOPO_OP_REGION_CREATE);
	ops[n].kind = MEMTOPO_KIND_CONTAINER;
	ops[n].flags = MEMTOPO_OP_F_SIZE_2_64;
	strcpy(ops[n++].name, "bank");
	for (k = 0; k < BANK; k++) {
		mt_op_init(&ops[n], MEMTOPO_OP_REGION_CREATE);
		ops[n].kind = MEMTOPO_KIND_IO;
		ops[n].length = 0x1000;
		sprintf(ops[n++].name, "g%d", k);
		mt_op_init(&ops[n], MEMTOPO_OP_ADD_SUBREGION);
		ops[n].id = MEMTOPO_ID_BATCH_REF | (n - 1);
		ops[n].ref = MEMTOPO_ID_BATCH_REF | 0;
		ops[n++].addr = 0x40000000ull + k * 0x2000ull;
	}
	mt_op_init(&ops[n], MEMTOPO_OP_SET_ENABLED);
	ops[n].id = MEMTOPO_ID_BATCH_REF | 0;
	ops[n++].value = 0;
	mt_op_init(&ops[n], MEMTOPO_OP_ADD_SUBREGION);
	ops[n].id = MEMTOPO_ID_BATCH_REF | 0;
	ops[n++].ref = w->root;
	ret = mt_batch(w->fd, ops, n, &idx);
	if (ret)
		return ret;
	*bank = ops[0].id;
	/* an empty, one-page ring: what enabling the bank overflows */
	return mt_subscribe(w->fd, w->as, -1, 0, 0, sub);
}

TEST_F_TIMEOUT(nth, ring_growth, 600)
{
	struct memtopo_range *want_r, *r;
	struct memtopo_event ev[256];
	struct snap before, after;
	__u32 want_n, nr, n, i, id;
	int nth, ret, bank, failfd, overflowed = 0, complete = 0;
	const char *diff;
	struct world w;
	__u64 gen;

	failfd = failnth_open();
	if (failfd < 0)
		SKIP(return, "no fail-nth in this kernel");
	ret = bank_build(&w, "gref", &id, &bank);
	ASSERT_EQ(0, ret) TH_LOG("building: %s", strerror(-ret));
	ASSERT_EQ(0, op_set(w.fd, MEMTOPO_OP_SET_ENABLED, bank, 0, 1, 0));
	ASSERT_EQ(0, mt_get_flat(w.fd, w.as, &want_r, &want_n, &gen));
	world_free(&w);
	for (nth = 1; nth < 1000; nth++) {
		bool unused;

		ret = bank_build(&w, "gnth", &id, &bank);
		ASSERT_EQ(0, ret) TH_LOG("fault %d: building: %s", nth, strerror(-ret));
		snap_take(&w, &before, w.sub_b);
		failnth_set(failfd, nth);
		ret = op_set(w.fd, MEMTOPO_OP_SET_ENABLED, bank, 0, 1, 0);
		unused = failnth_unused(failfd);
		if (ret) {
			snap_take(&w, &after, w.sub_a);
			diff = snap_diff(&before, &after);
			EXPECT_EQ(NULL, diff) TH_LOG("fault %d: %s changed", nth, diff);
			snap_free(&after);
			n = 1;
			EXPECT_EQ(0, mt_read_events(w.fd, id, ev, &n, NULL));
			EXPECT_EQ(0, n) TH_LOG("fault %d: events of a failed call", nth);
		} else {
			ASSERT_EQ(0, mt_get_flat(w.fd, w.as, &r, &nr, &gen));
			EXPECT_EQ(want_n, nr);
			EXPECT_EQ(0, memcmp(want_r, r, nr * sizeof(*r))) TH_LOG("fault %d", nth);
			free(r);
			n = 256;
			ASSERT_EQ(0, mt_read_events(w.fd, id, ev, &n, NULL));
			ASSERT_LT(0, n);
			for (i = 0; i < n; i++)
				EXPECT_EQ(i + 1, ev[i].seq);
			if (ev[n - 1].type == MEMTOPO_EVENT_OVERFLOW) {
				overflowed++;
			} else {
				EXPECT_EQ(BANK + 1, n) TH_LOG("fault %d: events lost", nth);
				EXPECT_EQ(MEMTOPO_EVENT_COMMIT, ev[n - 1].type);
				complete++;
			}
		}
		snap_free(&before);
		world_free(&w);
		if (unused)
			break;
	}
	free(want_r);
	close(failfd);
	/*
	 * A single injected fault rarely stops the growth itself (kvmalloc
	 * falls back to vmalloc); the budget test makes it fail for sure.
	 */
	TH_LOG("%d faults, %d overflowed, %d complete", nth, overflowed, complete);
	EXPECT_LT(0, complete);
}

/* ---- limits: loop check, IDs, out fields, names, memory --------------- */

FIXTURE(lim) {
	int fd;
	int root, as;
};

FIXTURE_SETUP(lim)
{
	self->fd = mt_open();
	ASSERT_LE(0, self->fd);
	self->root = mt_region_create(self->fd, MEMTOPO_KIND_CONTAINER, "system", 0,
				      MEMTOPO_OP_F_SIZE_2_64);
	ASSERT_LT(0, self->root);
	self->as = mt_space_create(self->fd, "memory", self->root);
	ASSERT_LT(0, self->as);
}

FIXTURE_TEARDOWN(lim)
{
	close(self->fd);
}

/*
 * Six levels of 16 aliases: 97 regions, 2^24 paths.  Legal (it has no
 * loop), so it maps anywhere no view renders it; in a space it is E2BIG
 * (more pieces than a render takes); a real loop through it is ELOOP.
 */
/* the refused render does up to MEMTOPO_MAX_RENDER_PIECES of work first */
TEST_F_TIMEOUT(lim, loop_check_is_exact, 300)
{
	struct memtopo_region_desc *d;
	int level[7], a, l, i, parked, loop, ret;
	time_t t0;
	__u32 n, k;
	__u64 size = 0x1000;
	char name[32];

	level[0] = mt_region_create(self->fd, MEMTOPO_KIND_RAM, "leaf", size, 0);
	ASSERT_LT(0, level[0]);
	for (l = 1; l <= 6; l++) {
		snprintf(name, sizeof(name), "level%d", l);
		level[l] = mt_region_create(self->fd, MEMTOPO_KIND_CONTAINER, name, size * 16, 0);
		ASSERT_LT(0, level[l]);
		for (i = 0; i < 16; i++) {
			snprintf(name, sizeof(name), "l%d-a%d", l, i);
			a = op_alias(self->fd, name, level[l - 1], 0, size);
			ASSERT_LT(0, a);
			ASSERT_EQ(0, mt_add_subregion(self->fd, level[l], a, i * size, 0));
		}
		size *= 16;
	}
	parked = mt_region_create(self->fd, MEMTOPO_KIND_CONTAINER, "parked", 0,
				  MEMTOPO_OP_F_SIZE_2_64);
	ASSERT_LT(0, parked);
	EXPECT_EQ(0, mt_add_subregion(self->fd, parked, level[6], 0, 0))
		TH_LOG("a legal map refused");
	EXPECT_EQ(0, mt_op(self->fd, &(struct memtopo_op){
		.size = sizeof(struct memtopo_op), .op = MEMTOPO_OP_DEL_SUBREGION,
		.id = level[6], .ref = parked }));

	/* a loop through the bomb is still found */
	loop = op_alias(self->fd, "loop", level[6], 0, 0x1000);
	ASSERT_LT(0, loop);
	EXPECT_EQ(-ELOOP, mt_add_subregion(self->fd, level[1], loop, 0x100000, 0));
	EXPECT_EQ(-ELOOP, mt_add_subregion(self->fd, level[3], level[6], 0, 0));

	/* rendered, it is too big: the documented E2BIG, and nothing changed */
	t0 = time(NULL);
	ret = mt_add_subregion(self->fd, self->root, level[6], 0, 0);
	EXPECT_EQ(-E2BIG, ret) TH_LOG("rendering 2^24 pieces: %s", strerror(-ret));
	TH_LOG("refused in %ld s", (long)(time(NULL) - t0));
	ASSERT_EQ(0, mt_get_regions(self->fd, &d, &n));
	for (k = 0; k < n; k++)
		if (d[k].id == (__u32)level[6])
			EXPECT_EQ(0, d[k].parent);
	free(d);
}

/* A destroyed object's ID is not handed out again at once. */
TEST_F(lim, ids_are_cyclic)
{
	int a, b, s1, s2;
	__u32 sub1, sub2;

	a = mt_region_create(self->fd, MEMTOPO_KIND_IO, "a", 0x1000, 0);
	ASSERT_LT(0, a);
	ASSERT_EQ(0, mt_region_destroy(self->fd, a));
	b = mt_region_create(self->fd, MEMTOPO_KIND_IO, "b", 0x1000, 0);
	ASSERT_LT(0, b);
	EXPECT_NE(a, b) TH_LOG("region ID %d reused at once", a);
	EXPECT_LT(a, b);

	s1 = mt_space_create(self->fd, "s1", self->root);
	ASSERT_LT(0, s1);
	EXPECT_EQ(0, mt_op(self->fd, &(struct memtopo_op){
		.size = sizeof(struct memtopo_op), .op = MEMTOPO_OP_SPACE_DESTROY, .id = s1 }));
	s2 = mt_space_create(self->fd, "s2", self->root);
	ASSERT_LT(0, s2);
	EXPECT_NE(s1, s2) TH_LOG("space ID %d reused at once", s1);

	ASSERT_EQ(0, mt_subscribe(self->fd, self->as, -1, 0, 0, &sub1));
	ASSERT_EQ(0, mt_unsubscribe(self->fd, sub1));
	ASSERT_EQ(0, mt_subscribe(self->fd, self->as, -1, 0, 0, &sub2));
	EXPECT_NE(sub1, sub2) TH_LOG("subscription ID %u reused at once", sub1);
	/* the stale IDs name nothing */
	EXPECT_EQ(-ENOENT, op_set(self->fd, MEMTOPO_OP_SET_ENABLED, a, 0, 1, 0));
	EXPECT_EQ(-ENOENT, mt_unsubscribe(self->fd, sub1));
}

/*
 * A refused SUBSCRIBE takes no ID: the next subscription's ID is the one
 * it would have had without the refusals, whatever they were for.
 */
TEST_F(lim, refused_subscribe_takes_no_id)
{
	__u32 first, id = 0, next;
	int efd;

	ASSERT_EQ(0, mt_subscribe(self->fd, self->as, -1, 0, 0, &first));
	EXPECT_EQ(-ENOENT, mt_subscribe(self->fd, self->as + 1000, -1, 0, 0, &id));
	EXPECT_EQ(-EINVAL, mt_subscribe(self->fd, self->as, -1, 0, ~0u, &id));
	EXPECT_EQ(-EINVAL, mt_subscribe(self->fd, self->as, self->fd, 0, 0, &id));
	efd = eventfd(0, 0);
	ASSERT_LE(0, efd);
	close(efd);
	EXPECT_EQ(-EBADF, mt_subscribe(self->fd, self->as, efd, 0, 0, &id));
	ASSERT_EQ(0, mt_subscribe(self->fd, self->as, -1, 0, 0, &next));
	EXPECT_EQ(first + 1, next) TH_LOG("a refused subscription took ID %u", first + 1);
	EXPECT_EQ(0, mt_unsubscribe(self->fd, first));
	EXPECT_EQ(0, mt_unsubscribe(self->fd, next));
}

/*
 * A batch that fails after its creates takes no IDs: it undoes them, the
 * cursors too, so the next region and space get the IDs they would have
 * had without it.
 */
TEST_F(lim, undone_create_takes_no_id)
{
	struct memtopo_op ops[3];
	int region, space, id;
	__u32 idx;

	region = mt_region_create(self->fd, MEMTOPO_KIND_IO, "first", 0x1000, 0);
	ASSERT_LT(0, region);
	space = mt_space_create(self->fd, "first", self->root);
	ASSERT_LT(0, space);
	mt_op_init(&ops[0], MEMTOPO_OP_REGION_CREATE);
	ops[0].kind = MEMTOPO_KIND_CONTAINER;
	ops[0].length = 0x1000;
	strcpy(ops[0].name, "undone");
	mt_op_init(&ops[1], MEMTOPO_OP_SPACE_CREATE);
	ops[1].ref = MEMTOPO_ID_BATCH_REF | 0;
	strcpy(ops[1].name, "undone");
	/* names nothing: the batch fails here, after both creates */
	mt_op_init(&ops[2], MEMTOPO_OP_SET_ENABLED);
	ops[2].id = region + 1000;
	EXPECT_EQ(-ENOENT, mt_batch(self->fd, ops, 3, &idx));
	EXPECT_EQ(2, idx);
	id = mt_region_create(self->fd, MEMTOPO_KIND_IO, "next", 0x1000, 0);
	EXPECT_EQ(region + 1, id) TH_LOG("the undone region took ID %d", region + 1);
	id = mt_space_create(self->fd, "next", self->root);
	EXPECT_EQ(space + 1, id) TH_LOG("the undone space took ID %d", space + 1);
}

/* Out fields hold garbage on input (a struct reused in a loop): ignored. */
TEST_F(lim, out_fields_ignored_on_input)
{
	struct memtopo_range ranges[8];
	struct memtopo_event ev[8];
	struct memtopo_get_flat flat = { .size = sizeof(flat), .space = self->as, .count = 8,
					 .ranges = (uintptr_t)ranges,
					 .range_size = sizeof(ranges[0]), .generation = ~0ull };
	struct memtopo_lookup lookup = { .size = sizeof(lookup), .space = self->as,
					 .addr = 0x1000, .generation = 77 };
	struct memtopo_txn txn = { .size = sizeof(txn), .op = MEMTOPO_TXN_BEGIN, .depth = 9 };
	struct memtopo_subscribe sub = { .size = sizeof(sub), .space = self->as, .eventfd = -1,
					 .id = 1234 };
	struct memtopo_read_events rd = { .size = sizeof(rd), .count = 8,
					  .events = (uintptr_t)ev, .event_size = sizeof(ev[0]),
					  .pending = 99 };
	struct memtopo_ctx_attach attach = { .size = sizeof(attach),
					     .flags = MEMTOPO_ATTACH_CREATE, .created = 5 };
	struct memtopo_info info = { .size = sizeof(info), .abi_version = 3, .max_depth = 4 };
	struct memtopo_batch batch = { .size = sizeof(batch), .count = 0,
				       .op_size = sizeof(struct memtopo_op), .error_index = 8 };
	int ram, i, other;

	ram = mt_region_create(self->fd, MEMTOPO_KIND_RAM, "ram", 0x2000, 0);
	ASSERT_LT(0, ram);
	ASSERT_EQ(0, mt_add_subregion(self->fd, self->root, ram, 0x1000, 0));
	/* two more ranges, so a replay queues more than three events */
	for (i = 0; i < 2; i++)
		ASSERT_EQ(0, mt_add_subregion(self->fd, self->root,
					      mt_region_create(self->fd, MEMTOPO_KIND_IO, "io",
							       0x1000, 0),
					      0x10000 + i * 0x2000, 0));
	EXPECT_EQ(0, raw(self->fd, MEMTOPO_GET_INFO, &info));
	EXPECT_EQ(MEMTOPO_ABI_VERSION, info.abi_version);
	EXPECT_EQ(0, raw(self->fd, MEMTOPO_BATCH, &batch));
	EXPECT_EQ(0, raw(self->fd, MEMTOPO_GET_FLAT, &flat));
	EXPECT_NE(~0ull, flat.generation);
	memset(&lookup.range, 0xa5, sizeof(lookup.range));
	EXPECT_EQ(0, raw(self->fd, MEMTOPO_LOOKUP, &lookup));
	EXPECT_EQ((__u32)ram, lookup.range.region);
	EXPECT_EQ(flat.generation, lookup.generation);
	EXPECT_EQ(0, raw(self->fd, MEMTOPO_TXN, &txn));
	EXPECT_EQ(1, txn.depth);
	txn.op = MEMTOPO_TXN_COMMIT;
	EXPECT_EQ(0, raw(self->fd, MEMTOPO_TXN, &txn));
	EXPECT_EQ(0, txn.depth);
	sub.flags = MEMTOPO_SUBSCRIBE_REPLAY;
	EXPECT_EQ(0, raw(self->fd, MEMTOPO_SUBSCRIBE, &sub));
	EXPECT_NE(1234, sub.id);
	/* one struct reused: the second call sees the first one's answers */
	rd.id = sub.id;
	rd.count = 1;
	for (i = 0; i < 3; i++) {
		EXPECT_EQ(0, raw(self->fd, MEMTOPO_READ_EVENTS, &rd)) TH_LOG("read %d", i);
		EXPECT_EQ(1, rd.count);
		EXPECT_EQ((__u64)i + 1, ev[0].seq);
	}
	other = mt_open();
	ASSERT_LE(0, other);
	snprintf(attach.name, sizeof(attach.name), "outfields-%d", getpid());
	EXPECT_EQ(0, raw(other, MEMTOPO_CTX_ATTACH, &attach));
	EXPECT_EQ(1, attach.created);
	attach.flags = 0;
	EXPECT_EQ(0, raw(other, MEMTOPO_CTX_ATTACH, &attach));
	EXPECT_EQ(0, attach.created);
	EXPECT_EQ(0, mt_ctx_destroy(other, attach.name));
	close(other);
	/* reserved fields still must be zero */
	lookup.__reserved = 1;
	EXPECT_EQ(-EINVAL, raw(self->fd, MEMTOPO_LOOKUP, &lookup));
}

/* Named contexts cannot take an anonymous context's debugfs name. */
TEST(anon_names_reserved)
{
	char name[64];
	int fd = mt_open(), other = mt_open();

	ASSERT_LE(0, fd);
	ASSERT_LE(0, other);
	EXPECT_EQ(-EINVAL, mt_attach(fd, "anon-0", MEMTOPO_ATTACH_CREATE, NULL));
	EXPECT_EQ(-EINVAL, mt_attach(fd, "anon-1", MEMTOPO_ATTACH_CREATE, NULL));
	EXPECT_EQ(-EINVAL, mt_attach(fd, "anon-x", MEMTOPO_ATTACH_CREATE, NULL));
	/* a prefix of it is just a name */
	snprintf(name, sizeof(name), "anon%d", getpid());
	EXPECT_EQ(0, mt_attach(fd, name, MEMTOPO_ATTACH_CREATE | MEMTOPO_ATTACH_EXCL, NULL));
	EXPECT_EQ(0, mt_ctx_destroy(fd, name));
	close(fd);
	close(other);
}

/*
 * A subscription keeps one page of ring until it needs more; the ring grows
 * to max_events; every byte is charged to the context's budget and given
 * back when the subscription goes.
 */
TEST(rings_grow_with_use)
{
	struct memtopo_info info;
	struct memtopo_event *ev;
	struct memtopo_op *ops;
	char name[64], space[64];
	long m0, m1, m2, m3;

	__u32 id, n, i, nops = 0, idx;
	int fd, root, as, k;

	fd = mt_open();
	ASSERT_LE(0, fd);
	snprintf(space, sizeof(space), "rings-%d", getpid());
	ASSERT_EQ(0, mt_info(fd, &info));
	root = mt_region_create(fd, MEMTOPO_KIND_CONTAINER, "system", 0, MEMTOPO_OP_F_SIZE_2_64);
	as = mt_space_create(fd, space, root);
	ASSERT_LT(0, as);
	ASSERT_EQ(0, dbg_dir_of(space, name, sizeof(name)));
	m0 = ctx_memory(name);
	ASSERT_LE(0, m0) TH_LOG("no memory line in debugfs stats");
	ASSERT_EQ(0, mt_subscribe(fd, as, -1, 0, 0, &id));
	m1 = ctx_memory(name);
	EXPECT_GE(8192, m1 - m0) TH_LOG("a quiet subscription pins %ld bytes", m1 - m0);
	EXPECT_LT(0, m1 - m0);

	ops = calloc(2 * info.max_events, sizeof(*ops));
	ASSERT_NE(NULL, ops);
	for (k = 0; k < (int)info.max_events / 2; k++) {
		mt_op_init(&ops[nops], MEMTOPO_OP_REGION_CREATE);
		ops[nops].kind = MEMTOPO_KIND_IO;
		ops[nops].length = 0x1000;
		sprintf(ops[nops].name, "d%d", k);
		nops++;
		mt_op_init(&ops[nops], MEMTOPO_OP_ADD_SUBREGION);
		ops[nops].id = MEMTOPO_ID_BATCH_REF | (nops - 1);
		ops[nops].ref = root;
		ops[nops].addr = 0x10000000ull + k * 0x2000ull;
		nops++;
	}
	ASSERT_EQ(0, mt_batch(fd, ops, nops, &idx));
	m2 = ctx_memory(name);
	EXPECT_LT(m1 + (long)(info.max_events / 4 * sizeof(*ev)), m2) TH_LOG("ring did not grow");
	ev = calloc(info.max_events, sizeof(*ev));
	n = info.max_events;
	ASSERT_EQ(0, mt_read_events(fd, id, ev, &n, NULL));
	EXPECT_EQ(info.max_events / 2 + 1, n);
	for (i = 0; i < n; i++)
		EXPECT_EQ(i + 1, ev[i].seq);
	EXPECT_EQ(MEMTOPO_EVENT_COMMIT, ev[n - 1].type);
	/* unsubscribing gives the grown ring back; a new one costs a page again */
	ASSERT_EQ(0, mt_unsubscribe(fd, id));
	m3 = ctx_memory(name);
	EXPECT_GT(m2 - (long)(info.max_events / 4 * sizeof(*ev)), m3);
	ASSERT_EQ(0, mt_subscribe(fd, as, -1, 0, 0, &id));
	EXPECT_EQ(m1 - m0, ctx_memory(name) - m3);
	free(ev);
	free(ops);
	close(fd);
}

static void mem_max_set(long v)
{
	write_long(PARAM_MEM_MAX, v);
}

/*
 * The budget: a subscription or region past it is ENOSPC with nothing
 * half-made; a ring that cannot grow past it overflows with the marker
 * (nothing lost silently).
 */
/* The ceiling is module-wide: whatever happens, the test puts it back. */
FIXTURE(budget) {
	long saved;
};

FIXTURE_SETUP(budget)
{
	char *s = read_file(PARAM_MEM_MAX);

	ASSERT_NE(NULL, s) TH_LOG("no memtopo.ctx_mem_max parameter");
	self->saved = atol(s);
}

FIXTURE_TEARDOWN(budget)
{
	if (self->saved > 0)
		mem_max_set(self->saved);
}

TEST_F(budget, enforced)
{
	struct memtopo_region_desc *d;
	struct memtopo_event ev[600];
	struct memtopo_op ops[403];
	char name[64], space[64];
	long used, saved, view;
	__u32 id, id2, first, n, n2, i, idx;
	int fd, root, as, k, ret;

	saved = self->saved;
	EXPECT_EQ(1L << 30, saved);
	fd = mt_open();
	ASSERT_LE(0, fd);
	snprintf(space, sizeof(space), "budget-%d", getpid());
	root = mt_region_create(fd, MEMTOPO_KIND_CONTAINER, "system", 0, MEMTOPO_OP_F_SIZE_2_64);
	as = mt_space_create(fd, space, root);
	ASSERT_LT(0, as);
	ASSERT_EQ(0, dbg_dir_of(space, name, sizeof(name)));
	ASSERT_EQ(0, mt_subscribe(fd, as, -1, 0, 0, &id));
	used = ctx_memory(name);
	ASSERT_LT(0, used);
	first = id;

	/* room for a little more: the next subscription does not fit */
	mem_max_set(used + 1024);
	ASSERT_EQ(0, mt_get_regions(fd, &d, &n));
	free(d);
	EXPECT_EQ(-ENOSPC, mt_subscribe(fd, as, -1, 0, 0, &id2));
	EXPECT_EQ(used, ctx_memory(name)) TH_LOG("a refused subscription left a charge");
	/* regions are charged too: a few fit, then ENOSPC, nothing half-made */
	for (k = 0; k < 64; k++) {
		ret = mt_region_create(fd, MEMTOPO_KIND_IO, "r", 0x1000, 0);
		if (ret < 0)
			break;
	}
	EXPECT_EQ(-ENOSPC, ret);
	EXPECT_LT(0, k);
	ASSERT_EQ(0, mt_get_regions(fd, &d, &n2));
	free(d);
	EXPECT_EQ(n + k, n2);
	EXPECT_GE(used + 1024, ctx_memory(name));
	mem_max_set(saved);

	/*
	 * A ring that cannot grow: a disabled bank of 200 regions, enabled
	 * and disabled once so the render scratch is already the size that
	 * render needs (it keeps that much), then a fresh subscription and a
	 * ceiling a little above the use: enabling the bank again renders
	 * within the budget, but its 201 events end with the overflow marker,
	 * numbered without a gap.
	 */
	ASSERT_EQ(0, mt_unsubscribe(fd, id));
	mt_op_init(&ops[0], MEMTOPO_OP_REGION_CREATE);
	ops[0].kind = MEMTOPO_KIND_CONTAINER;
	ops[0].flags = MEMTOPO_OP_F_SIZE_2_64;
	strcpy(ops[0].name, "bank");
	mt_op_init(&ops[1], MEMTOPO_OP_SET_ENABLED);
	ops[1].id = MEMTOPO_ID_BATCH_REF | 0;
	mt_op_init(&ops[2], MEMTOPO_OP_ADD_SUBREGION);
	ops[2].id = MEMTOPO_ID_BATCH_REF | 0;
	ops[2].ref = root;
	for (k = 0; k < 200; k++) {
		mt_op_init(&ops[3 + 2 * k], MEMTOPO_OP_REGION_CREATE);
		ops[3 + 2 * k].kind = MEMTOPO_KIND_IO;
		ops[3 + 2 * k].length = 0x1000;
		sprintf(ops[3 + 2 * k].name, "e%d", k);
		mt_op_init(&ops[4 + 2 * k], MEMTOPO_OP_ADD_SUBREGION);
		ops[4 + 2 * k].id = MEMTOPO_ID_BATCH_REF | (3 + 2 * k);
		ops[4 + 2 * k].ref = MEMTOPO_ID_BATCH_REF | 0;
		ops[4 + 2 * k].addr = 0x10000000ull + k * 0x2000ull;
	}
	ASSERT_EQ(0, mt_batch(fd, ops, 403, &idx));
	ASSERT_EQ(0, op_set(fd, MEMTOPO_OP_SET_ENABLED, ops[0].id, 0, 1, 0));
	/*
	 * The published view is charged too: what the bank adds to it.  The
	 * views a space keeps for resync by difference are charged as well;
	 * a region's destruction drops them, so they are out of the figures.
	 */
	ASSERT_EQ(0, drop_kept_views(fd));
	view = ctx_memory(name);
	ASSERT_EQ(0, op_set(fd, MEMTOPO_OP_SET_ENABLED, ops[0].id, 0, 0, 0));
	ASSERT_EQ(0, drop_kept_views(fd));
	view -= ctx_memory(name);
	ASSERT_LT(0, view);
	ASSERT_EQ(0, mt_subscribe(fd, as, -1, 0, 0, &id));
	EXPECT_EQ(first + 1, id) TH_LOG("the subscription refused for the budget took an ID");
	used = ctx_memory(name);
	mem_max_set(used + view + 2048);
	EXPECT_EQ(0, op_set(fd, MEMTOPO_OP_SET_ENABLED, ops[0].id, 0, 1, 0));
	mem_max_set(saved);
	n = 600;
	ASSERT_EQ(0, mt_read_events(fd, id, ev, &n, NULL));
	EXPECT_GT(201, n) TH_LOG("the ring grew past the budget");
	ASSERT_LT(0, n);
	for (i = 0; i < n; i++)
		EXPECT_EQ(i + 1, ev[i].seq);
	EXPECT_EQ(MEMTOPO_EVENT_OVERFLOW, ev[n - 1].type);

	EXPECT_EQ(0, mt_unsubscribe(fd, id));
	close(fd);
}

TEST_HARNESS_MAIN
