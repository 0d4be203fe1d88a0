// SPDX-License-Identifier: GPL-2.0
/*
 * debugfs: /sys/kernel/debug/memtopo/<context>/{mtree,flat,stats}.
 * Named contexts appear under their name, anonymous ones as anon-<n>; the
 * registry refuses names with that prefix, so they cannot collide.
 *
 * A directory is removed by whoever added it (the file for an anonymous
 * context, the registry for a named one), through the handle
 * memtopo_debugfs_add_ctx() gave it, before it drops its context
 * reference; debugfs_remove() waits for readers in progress, so a show
 * callback never sees a freed context.
 */
#include <linux/debugfs.h>
#include <linux/idr.h>
#include <linux/seq_file.h>
#include <linux/slab.h>

#include "memtopo_main.h"
/*
 * For memtopo_assert_not_locked() (the engine exports no lock assertion)
 * and the context's struct, which parity.h's counter accessor reads
 */
#include "memtopo_internal.h"
#include "parity.h"
#include <memtopo/memtopo.h>

struct memtopo_dbg {
	struct memtopo_ctx *ctx;
	struct dentry *dir;
	int anon_id;
};

static struct dentry *memtopo_dbg_root;
static DEFINE_IDA(memtopo_dbg_ida);

static int memtopo_dbg_text(struct seq_file *m, u32 flags)
{
	struct memtopo_ctx *ctx = m->private;
	size_t len;
	char *text;

	memtopo_ctx_lock(ctx);
	text = memtopo_mtree_format(ctx, flags, &len);
	memtopo_ctx_unlock(ctx);
	if (IS_ERR(text))
		return PTR_ERR(text);
	seq_write(m, text, len);
	kvfree(text);
	return 0;
}

static int memtopo_dbg_mtree_show(struct seq_file *m, void *v)
{
	return memtopo_dbg_text(m, 0);
}
DEFINE_SHOW_ATTRIBUTE(memtopo_dbg_mtree);

static int memtopo_dbg_mtree_disabled_show(struct seq_file *m, void *v)
{
	return memtopo_dbg_text(m, MEMTOPO_MTREE_DISABLED);
}
DEFINE_SHOW_ATTRIBUTE(memtopo_dbg_mtree_disabled);

static int memtopo_dbg_flat_show(struct seq_file *m, void *v)
{
	return memtopo_dbg_text(m, MEMTOPO_MTREE_FLAT);
}
DEFINE_SHOW_ATTRIBUTE(memtopo_dbg_flat);

static int memtopo_dbg_space_show(struct memtopo_space *as, void *arg)
{
	struct memtopo_space_state st;

	memtopo_space_describe_locked(as, &st);
	seq_printf(arg, "space %u \"%s\" ranges %u listeners %u generation %llu kept %u\n",
		   st.id, st.name, st.nr_ranges, st.nr_listeners, st.generation, st.nr_kept);
	return 0;
}

static int memtopo_dbg_stats_show(struct seq_file *m, void *v)
{
	struct memtopo_ctx *ctx = m->private;
	struct memtopo_ctx_state cs;

	memtopo_ctx_lock(ctx);
	memtopo_ctx_describe_locked(ctx, &cs);
	seq_printf(m, "regions %u\nspaces %u\ncommits %llu\nfull_renders %llu\noverlaps %llu\n"
		   "reach_hits %llu\ngeneration %llu\n", cs.nr_regions, cs.nr_spaces,
		   cs.commits, cs.full_renders, cs.overlaps, cs.reach_hits, cs.generation);
	seq_printf(m, "overflows %llu\n", memtopo_ctx_stat_overflows(ctx));
	seq_printf(m, "ioeventfd_set_builds %llu\n", memtopo_ctx_ioeventfd_set_builds(ctx));
	seq_printf(m, "memory %zu\n", memtopo_ctx_mem_used(ctx));
	memtopo_ctx_walk_spaces_locked(ctx, memtopo_dbg_space_show, m);
	memtopo_ctx_unlock(ctx);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(memtopo_dbg_stats);

/**
 * memtopo_debugfs_add_ctx() - publish a context's files.
 * @ctx: the context; the caller keeps it alive until it passes the handle
 *	to memtopo_debugfs_remove().
 * @name: directory name, or NULL for anon-<n>.
 *
 * Failures are not errors: debugfs is best effort.  A named directory
 * still there from a destroyed context of the same name (its removal
 * waiting for a reader) is not replaced: nothing is published, and the
 * registry adds the new one once the old one is gone.
 *
 * Return: the handle, or NULL if nothing was published.
 */
struct memtopo_dbg *memtopo_debugfs_add_ctx(struct memtopo_ctx *ctx, const char *name)
{
	struct memtopo_dbg *d;
	struct dentry *old;
	char anon[24];

	if (IS_ERR_OR_NULL(memtopo_dbg_root))
		return NULL;
	if (name) {
		old = debugfs_lookup(name, memtopo_dbg_root);
		if (old) {
			dput(old);
			return NULL;
		}
	}
	d = kzalloc(sizeof(*d), GFP_KERNEL);
	if (!d)
		return NULL;
	d->anon_id = -1;
	if (!name) {
		d->anon_id = ida_alloc(&memtopo_dbg_ida, GFP_KERNEL);
		if (d->anon_id < 0) {
			kfree(d);
			return NULL;
		}
		snprintf(anon, sizeof(anon), MEMTOPO_DEBUGFS_ANON_PREFIX "%d", d->anon_id);
		name = anon;
	}
	d->ctx = ctx;
	d->dir = debugfs_create_dir(name, memtopo_dbg_root);
	if (IS_ERR(d->dir)) {
		if (d->anon_id >= 0)
			ida_free(&memtopo_dbg_ida, d->anon_id);
		kfree(d);
		return NULL;
	}
	debugfs_create_file("mtree", 0400, d->dir, ctx, &memtopo_dbg_mtree_fops);
	debugfs_create_file("mtree-disabled", 0400, d->dir, ctx,
			    &memtopo_dbg_mtree_disabled_fops);
	debugfs_create_file("flat", 0400, d->dir, ctx, &memtopo_dbg_flat_fops);
	debugfs_create_file("stats", 0400, d->dir, ctx, &memtopo_dbg_stats_fops);
	return d;
}

/**
 * memtopo_debugfs_remove() - remove a context's files, waiting for readers
 * in progress.
 * @d: what memtopo_debugfs_add_ctx() returned (NULL: nothing to remove).
 *
 * Context: not under the context's mutex (the readers it waits for take it).
 */
void memtopo_debugfs_remove(struct memtopo_dbg *d)
{
	if (!d)
		return;
	memtopo_assert_not_locked(d->ctx);
	debugfs_remove(d->dir);
	if (d->anon_id >= 0)
		ida_free(&memtopo_dbg_ida, d->anon_id);
	kfree(d);
}

/** memtopo_debugfs_init() - create /sys/kernel/debug/memtopo. */
void memtopo_debugfs_init(void)
{
	memtopo_dbg_root = debugfs_create_dir("memtopo", NULL);
}

/** memtopo_debugfs_exit() - remove /sys/kernel/debug/memtopo. */
void memtopo_debugfs_exit(void)
{
	debugfs_remove(memtopo_dbg_root);
	ida_destroy(&memtopo_dbg_ida);
}
