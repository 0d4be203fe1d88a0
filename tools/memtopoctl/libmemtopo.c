// SPDX-License-Identifier: GPL-2.0
/* libmemtopo: see libmemtopo.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "libmemtopo.h"

#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#endif

static int mt_ioctl(int fd, unsigned long req, void *arg)
{
	return ioctl(fd, req, arg) ? -errno : 0;
}

int mt_open(void)
{
	int fd = open("/dev/memtopo", O_RDWR | O_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

int mt_info(int fd, struct memtopo_info *info)
{
	memset(info, 0, sizeof(*info));
	info->size = sizeof(*info);
	return mt_ioctl(fd, MEMTOPO_GET_INFO, info);
}

int mt_attach(int fd, const char *name, __u32 flags, int *created)
{
	struct memtopo_ctx_attach a = { .size = sizeof(a), .flags = flags };
	int ret;

	if (strlen(name) >= sizeof(a.name))
		return -ENAMETOOLONG;
	strcpy(a.name, name);
	ret = mt_ioctl(fd, MEMTOPO_CTX_ATTACH, &a);
	if (!ret && created)
		*created = a.created;
	return ret;
}

int mt_ctx_destroy(int fd, const char *name)
{
	struct memtopo_ctx_destroy d = { .size = sizeof(d) };

	if (strlen(name) >= sizeof(d.name))
		return -ENAMETOOLONG;
	strcpy(d.name, name);
	return mt_ioctl(fd, MEMTOPO_CTX_DESTROY, &d);
}

void mt_op_init(struct memtopo_op *op, __u32 code)
{
	memset(op, 0, sizeof(*op));
	op->size = sizeof(*op);
	op->op = code;
}

int mt_op(int fd, struct memtopo_op *op)
{
	return mt_ioctl(fd, MEMTOPO_OP, op);
}

int mt_region_create(int fd, __u32 kind, const char *name, __u64 size, __u32 flags)
{
	struct memtopo_op op;
	int ret;

	mt_op_init(&op, MEMTOPO_OP_REGION_CREATE);
	op.kind = kind;
	snprintf(op.name, sizeof(op.name), "%s", name);
	op.length = size;
	op.flags = flags;
	ret = mt_op(fd, &op);
	return ret ? ret : (int)op.id;
}

int mt_add_subregion(int fd, __u32 parent, __u32 child, __u64 addr, int prio)
{
	struct memtopo_op op;

	mt_op_init(&op, MEMTOPO_OP_ADD_SUBREGION);
	op.ref = parent;
	op.id = child;
	op.addr = addr;
	op.priority = prio;
	return mt_op(fd, &op);
}

int mt_space_create(int fd, const char *name, __u32 root)
{
	struct memtopo_op op;
	int ret;

	mt_op_init(&op, MEMTOPO_OP_SPACE_CREATE);
	op.ref = root;
	snprintf(op.name, sizeof(op.name), "%s", name);
	ret = mt_op(fd, &op);
	return ret ? ret : (int)op.id;
}

int mt_region_set(int fd, __u32 code, __u32 id, __u32 ref, __u64 addr, __u64 value)
{
	struct memtopo_op op;

	mt_op_init(&op, code);
	op.id = id;
	op.ref = ref;
	op.addr = addr;
	op.value = value;
	return mt_op(fd, &op);
}

int mt_region_destroy(int fd, __u32 id)
{
	return mt_region_set(fd, MEMTOPO_OP_REGION_DESTROY, id, 0, 0, 0);
}

int mt_space_destroy(int fd, __u32 id)
{
	return mt_region_set(fd, MEMTOPO_OP_SPACE_DESTROY, id, 0, 0, 0);
}

int mt_batch(int fd, struct memtopo_op *ops, __u32 count, __u32 *error_index)
{
	struct memtopo_batch b = {
		.size = sizeof(b), .count = count, .op_size = sizeof(*ops),
		.ops = (uintptr_t)ops,
	};
	int ret = mt_ioctl(fd, MEMTOPO_BATCH, &b);

	if (error_index)
		*error_index = ret ? b.error_index : count;
	return ret;
}

int mt_txn(int fd, __u32 op, __u32 *depth)
{
	struct memtopo_txn t = { .size = sizeof(t), .op = op };
	int ret = mt_ioctl(fd, MEMTOPO_TXN, &t);

	if (!ret && depth)
		*depth = t.depth;
	return ret;
}

int mt_budget(int fd, __u32 flags, __u64 mem_max, struct memtopo_budget *out)
{
	struct memtopo_budget b = { .size = sizeof(b), .flags = flags, .mem_max = mem_max };
	int ret = mt_ioctl(fd, MEMTOPO_BUDGET, &b);

	if (!ret && out)
		*out = b;
	return ret;
}

/* Size-then-fill loop shared by the list ioctls: retry while the list grows. */
static int mt_list(int fd, unsigned long req, void *cmd, __u32 *cmd_count, __u64 *cmd_ptr,
		   size_t elem, void **out, __u32 *count)
{
	void *buf = NULL;
	__u32 cap = 0;
	int r;

	for (;;) {
		*cmd_count = cap;
		*cmd_ptr = (uintptr_t)buf;
		r = mt_ioctl(fd, req, cmd);
		if (r != -ENOSPC)
			break;
		free(buf);
		cap = *cmd_count;
		buf = calloc(cap ? cap : 1, elem);
		if (!buf)
			return -ENOMEM;
	}
	if (r) {
		free(buf);
		return r;
	}
	*out = buf;
	*count = *cmd_count;
	return 0;
}

int mt_get_regions(int fd, struct memtopo_region_desc **out, __u32 *count)
{
	struct memtopo_get_regions c = { .size = sizeof(c), .desc_size = sizeof(**out) };

	return mt_list(fd, MEMTOPO_GET_REGIONS, &c, &c.count, &c.regions, sizeof(**out),
		       (void **)out, count);
}

int mt_get_spaces(int fd, struct memtopo_space_desc **out, __u32 *count)
{
	struct memtopo_get_spaces c = { .size = sizeof(c), .desc_size = sizeof(**out) };

	return mt_list(fd, MEMTOPO_GET_SPACES, &c, &c.count, &c.spaces, sizeof(**out),
		       (void **)out, count);
}

int mt_get_flat(int fd, __u32 space, struct memtopo_range **out, __u32 *count,
		__u64 *generation)
{
	struct memtopo_get_flat c;
	struct memtopo_range *buf = NULL;
	__u32 cap = 0;
	int r;

	for (;;) {
		memset(&c, 0, sizeof(c));
		c.size = sizeof(c);
		c.space = space;
		c.count = cap;
		c.range_size = sizeof(*buf);
		c.ranges = (uintptr_t)buf;
		r = mt_ioctl(fd, MEMTOPO_GET_FLAT, &c);
		if (r != -ENOSPC)
			break;
		free(buf);
		cap = c.count;
		buf = calloc(cap ? cap : 1, sizeof(*buf));
		if (!buf)
			return -ENOMEM;
	}
	if (r) {
		free(buf);
		return r;
	}
	*out = buf;
	*count = c.count;
	if (generation)
		*generation = c.generation;
	return 0;
}

int mt_lookup(int fd, __u32 space, __u64 addr, struct memtopo_range *range,
	      __u64 *generation)
{
	struct memtopo_lookup l = { .size = sizeof(l), .space = space, .addr = addr };
	int ret = mt_ioctl(fd, MEMTOPO_LOOKUP, &l);

	if (!ret) {
		*range = l.range;
		if (generation)
			*generation = l.generation;
	}
	return ret;
}

int mt_mtree(int fd, __u32 flags, char **text)
{
	struct memtopo_mtree m;
	char *buf = NULL;
	__u32 cap = 0;
	int r;

	for (;;) {
		memset(&m, 0, sizeof(m));
		m.size = sizeof(m);
		m.flags = flags;
		m.len = cap;
		m.buf = (uintptr_t)buf;
		r = mt_ioctl(fd, MEMTOPO_MTREE, &m);
		if (r || m.len <= cap)
			break;
		free(buf);
		cap = m.len + 4096;
		buf = malloc(cap + 1);
		if (!buf)
			return -ENOMEM;
	}
	if (r) {
		free(buf);
		return r;
	}
	if (!buf) {
		buf = malloc(1);
		if (!buf)
			return -ENOMEM;
	}
	buf[m.len] = '\0';
	*text = buf;
	return 0;
}

int mt_subscribe(int fd, __u32 space, int eventfd, __u32 mask, __u32 flags,
		 __u32 *id)
{
	struct memtopo_subscribe s = {
		.size = sizeof(s), .flags = flags, .space = space, .eventfd = eventfd,
		.mask = mask,
	};
	int ret = mt_ioctl(fd, MEMTOPO_SUBSCRIBE, &s);

	if (!ret)
		*id = s.id;
	return ret;
}

int mt_unsubscribe(int fd, __u32 id)
{
	struct memtopo_unsubscribe u = { .size = sizeof(u), .id = id };

	return mt_ioctl(fd, MEMTOPO_UNSUBSCRIBE, &u);
}

int mt_read_events(int fd, __u32 id, struct memtopo_event *ev, __u32 *count,
		   __u32 *pending)
{
	struct memtopo_read_events r = {
		.size = sizeof(r), .id = id, .count = *count, .events = (uintptr_t)ev,
		.event_size = sizeof(*ev),
	};
	int ret = mt_ioctl(fd, MEMTOPO_READ_EVENTS, &r);

	if (!ret) {
		*count = r.count;
		if (pending)
			*pending = r.pending;
	}
	return ret;
}

int mt_get_flat_diff(int fd, __u32 space, __u64 from, __u64 to, struct memtopo_event **out,
		     __u32 *count, __u64 *reached)
{
	struct memtopo_get_flat_diff d = {
		.size = sizeof(d), .space = space, .from_generation = from,
		.event_size = sizeof(**out),
	};
	struct memtopo_event *ev = NULL;
	int ret;

	/* the first call sizes the answer; the view may change in between */
	for (;;) {
		d.to_generation = to;
		d.events = (uintptr_t)ev;
		ret = mt_ioctl(fd, MEMTOPO_GET_FLAT_DIFF, &d);
		if (ret != -ENOSPC)
			break;
		free(ev);
		ev = malloc((d.count ? d.count : 1) * sizeof(*ev));
		if (!ev)
			return -ENOMEM;
	}
	if (ret) {
		free(ev);
		return ret;
	}
	*out = ev;
	*count = d.count;
	if (reached)
		*reached = d.to_generation;
	return 0;
}

int mt_space_rw(int fd, __u32 space, __u64 addr, void *buf, __u64 len, int write)
{
	struct memtopo_space_rw rw = {
		.size = sizeof(rw), .flags = write ? MEMTOPO_SPACE_RW_WRITE : 0,
		.space = space, .addr = addr, .length = len, .buf = (uintptr_t)buf,
	};

	return mt_ioctl(fd, MEMTOPO_SPACE_RW, &rw);
}

int mt_iommu_map(int fd, __u32 region, __u64 iova, __u64 length, __u32 space, __u64 addr,
		 __u32 flags)
{
	struct memtopo_iommu_map m = {
		.size = sizeof(m), .flags = flags, .region = region, .space = space,
		.iova = iova, .length = length, .addr = addr,
	};

	return mt_ioctl(fd, MEMTOPO_IOMMU_MAP, &m);
}

int mt_iommu_unmap(int fd, __u32 region, __u64 iova, __u64 length, __u32 flags)
{
	struct memtopo_iommu_unmap u = {
		.size = sizeof(u), .flags = flags, .region = region, .iova = iova,
		.length = length,
	};

	return mt_ioctl(fd, MEMTOPO_IOMMU_UNMAP, &u);
}

int mt_iommu_get(int fd, __u32 region, struct memtopo_iommu_mapping **out, __u32 *count)
{
	struct memtopo_iommu_get g = {
		.size = sizeof(g), .region = region,
		.mapping_size = sizeof(struct memtopo_iommu_mapping),
	};
	struct memtopo_iommu_mapping *buf = NULL;
	int ret;

	/* ask for the count, then retry while the table grows meanwhile */
	for (;;) {
		g.mappings = (uintptr_t)buf;
		ret = mt_ioctl(fd, MEMTOPO_IOMMU_GET, &g);
		if (ret != -ENOSPC)
			break;
		free(buf);
		buf = calloc(g.count ? g.count : 1, sizeof(*buf));
		if (!buf)
			return -ENOMEM;
	}
	if (ret) {
		free(buf);
		return ret;
	}
	*out = buf;
	*count = g.count;
	return 0;
}

static const char *const mt_kinds[] = {
	[MEMTOPO_KIND_CONTAINER] = "container",
	[MEMTOPO_KIND_RAM] = "ram",
	[MEMTOPO_KIND_ROM] = "rom",
	[MEMTOPO_KIND_ROM_DEVICE] = "romd",
	[MEMTOPO_KIND_IO] = "io",
	[MEMTOPO_KIND_RAM_DEVICE] = "ramd",
	[MEMTOPO_KIND_RESERVATION] = "reservation",
	[MEMTOPO_KIND_ALIAS] = "alias",
	[MEMTOPO_KIND_IOMMU] = "iommu",
};

const char *mt_kind_name(__u32 kind)
{
	return kind < ARRAY_SIZE(mt_kinds) ? mt_kinds[kind] : "?";
}

int mt_kind_parse(const char *s)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(mt_kinds); i++)
		if (!strcasecmp(s, mt_kinds[i]))
			return i;
	if (!strcasecmp(s, "i/o") || !strcasecmp(s, "mmio"))
		return MEMTOPO_KIND_IO;
	return -EINVAL;
}

const char *mt_event_name(__u32 type)
{
	switch (type) {
	case MEMTOPO_EVENT_REGION_ADD: return "region_add";
	case MEMTOPO_EVENT_REGION_DEL: return "region_del";
	case MEMTOPO_EVENT_LOG_START: return "log_start";
	case MEMTOPO_EVENT_LOG_STOP: return "log_stop";
	case MEMTOPO_EVENT_COMMIT: return "commit";
	case MEMTOPO_EVENT_OVERFLOW: return "overflow";
	case MEMTOPO_EVENT_REGION_NOP: return "region_nop";
	case MEMTOPO_EVENT_LOG_SYNC: return "log_sync";
	case MEMTOPO_EVENT_LOG_GLOBAL_START: return "log_global_start";
	case MEMTOPO_EVENT_LOG_GLOBAL_STOP: return "log_global_stop";
	case MEMTOPO_EVENT_EVENTFD_ADD: return "eventfd_add";
	case MEMTOPO_EVENT_EVENTFD_DEL: return "eventfd_del";
	case MEMTOPO_EVENT_COALESCED_ADD: return "coalesced_io_add";
	case MEMTOPO_EVENT_COALESCED_DEL: return "coalesced_io_del";
	case MEMTOPO_EVENT_IOMMU_MAP: return "iommu_map";
	case MEMTOPO_EVENT_IOMMU_UNMAP: return "iommu_unmap";
	case MEMTOPO_EVENT_DISCARD_POPULATE: return "discard_populate";
	case MEMTOPO_EVENT_DISCARD_DISCARD: return "discard_discard";
	case MEMTOPO_EVENT_LOG_CLEAR: return "log_clear";
	case MEMTOPO_EVENT_LOG_GLOBAL_AFTER_SYNC: return "log_global_after_sync";
	case MEMTOPO_EVENT_IOMMU_DEVIOTLB_UNMAP: return "iommu_deviotlb_unmap";
	case MEMTOPO_EVENT_LOG_SYNC_GLOBAL: return "log_sync_global";
	default: return "?";
	}
}

int mt_event_parse(const char *name)
{
	__u32 type;

	for (type = 1; type < MEMTOPO_EVENT_NR; type++)
		if (!strcmp(name, mt_event_name(type)))
			return type;
	return -EINVAL;
}

int mt_dirty_log(int fd, struct memtopo_dirty_log *d)
{
	d->size = sizeof(*d);
	return mt_ioctl(fd, MEMTOPO_DIRTY_LOG, d);
}

int mt_dirty_mark(int fd, __u32 region, __u64 offset, __u64 length)
{
	struct memtopo_dirty_mark m = {
		.size = sizeof(m), .region = region, .offset = offset, .length = length,
	};

	return mt_ioctl(fd, MEMTOPO_DIRTY_MARK, &m);
}

int mt_ioeventfd(int fd, __u32 region, int efd, __u64 offset, __u32 len, __u32 flags,
		 __u64 data)
{
	struct memtopo_ioeventfd io = {
		.size = sizeof(io), .flags = flags, .region = region, .fd = efd, .len = len,
		.offset = offset, .data = data,
	};

	return mt_ioctl(fd, MEMTOPO_IOEVENTFD, &io);
}

int mt_coalesced(int fd, __u32 region, __u64 offset, __u64 length, __u32 flags)
{
	struct memtopo_coalesced c = {
		.size = sizeof(c), .flags = flags, .region = region, .offset = offset,
		.length = length,
	};

	return mt_ioctl(fd, MEMTOPO_COALESCED, &c);
}

/*
 * The *_LIST ioctls count then fill (EMSGSIZE while the array is too
 * small); the list may grow in between, so until it fits.
 */
static int mt_list_fill(int fd, unsigned long req, void *cmd, __u32 *num, __u64 *entries,
			size_t entry_size, void **out, __u32 *count)
{
	void *buf = NULL, *bigger;
	int ret;

	*num = 0;
	*entries = 0;
	for (;;) {
		ret = mt_ioctl(fd, req, cmd);
		if (ret != -EMSGSIZE)
			break;
		bigger = realloc(buf, (size_t)*num * entry_size);
		if (!bigger) {
			ret = -ENOMEM;
			break;
		}
		buf = bigger;
		*entries = (uintptr_t)buf;
	}
	if (ret) {
		free(buf);
		return ret;
	}
	*out = buf;
	*count = *num;
	return 0;
}

int mt_ioeventfd_list(int fd, __u32 region, struct memtopo_ioeventfd_entry **out,
		      __u32 *count)
{
	struct memtopo_ioeventfd_list l = { .size = sizeof(l), .region = region };

	return mt_list_fill(fd, MEMTOPO_IOEVENTFD_LIST, &l, &l.num_entries, &l.entries,
			    sizeof(**out), (void **)out, count);
}

int mt_coalesced_list(int fd, __u32 region, struct memtopo_coalesced_entry **out,
		      __u32 *count)
{
	struct memtopo_coalesced_list l = { .size = sizeof(l), .region = region };

	return mt_list_fill(fd, MEMTOPO_COALESCED_LIST, &l, &l.num_entries, &l.entries,
			    sizeof(**out), (void **)out, count);
}
