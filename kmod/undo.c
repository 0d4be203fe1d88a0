// SPDX-License-Identifier: GPL-2.0
/*
 * The undo log: every mutation records, before it changes anything, what it
 * takes to put the change back, so every transaction is all or nothing
 * whoever runs it (a kernel user, MEMTOPO_TXN, MEMTOPO_BATCH).  A commit
 * that publishes forgets the log; a commit that fails replays it backwards
 * (memtopo_undo_rollback()), which restores the tree exactly (render order
 * of equal priorities included) while the old views stay published, and
 * publishes nothing.  A batch that fails part-way inside an outer
 * transaction replays only its own records, back to its mark.
 *
 * Replaying cannot fail: destroys keep the object and its ID until the
 * commit (regions and spaces are only marked dead, their ID slot reserved),
 * deletions keep what they removed in the record, so nothing is allocated
 * on the way back.  Records live in chunks that never move; the log grows
 * one chunk at a time with the changes actually made, and one empty chunk
 * is kept for the next commit.  Every chunk, the kept one too, is charged
 * to the context's budget while it exists, so a transaction too big for
 * the budget stops at the change whose record does not fit, with ENOSPC
 * like any other charge the budget refuses (memtopo_undo_push() returns
 * the errno, not just NULL: a caller cannot tell the two apart otherwise).
 */
#include <linux/slab.h>

#include "memtopo_internal.h"
#include "memtopo_hooks.h"

/**
 * memtopo_undo_push() - record a change about to be made.
 * @ctx: the context, locked.
 * @kind: MEMTOPO_UNDO_*.
 * @obj: the region or space changed.
 *
 * The caller has validated the change, then fills the record with the old
 * state, then makes the change; a caller that gives up before changing
 * anything drops the record with memtopo_undo_cancel().
 *
 * Context: may sleep.
 * Return: the zeroed record with @kind and @obj set, or ERR_PTR(-ENOSPC)
 * for a new chunk past the context's budget, ERR_PTR(-ENOMEM); on error
 * the caller must change nothing and return the errno.
 */
struct memtopo_undo *memtopo_undo_push(struct memtopo_ctx *ctx, u8 kind, void *obj)
{
	struct memtopo_undo_log *log = &ctx->undo;
	struct memtopo_undo_chunk *c = log->top;
	struct memtopo_undo *u;

	/* one record more would double the chunk's kmalloc size class */
	BUILD_BUG_ON(sizeof(*c) > 4096 || sizeof(*c) + sizeof(c->rec[0]) <= 4096);
	memtopo_assert_locked(ctx);
	if (!c || c->nr == MEMTOPO_UNDO_CHUNK) {
		if (log->spare) {
			c = log->spare;
			log->spare = NULL;
		} else {
			if (memtopo_ctx_charge_locked(ctx, sizeof(*c)))
				return ERR_PTR(-ENOSPC);
			c = kmalloc(sizeof(*c), GFP_KERNEL_ACCOUNT);
			if (!c) {
				memtopo_ctx_uncharge_locked(ctx, sizeof(*c));
				return ERR_PTR(-ENOMEM);
			}
		}
		c->nr = 0;
		c->prev = log->top;
		log->top = c;
	}
	u = &c->rec[c->nr++];
	memset(u, 0, sizeof(*u));
	u->kind = kind;
	u->obj = obj;
	INIT_LIST_HEAD(&u->list);
	log->nr++;
	return u;
}

/* Unlink the newest record; its chunk goes to the spare slot once empty. */
static struct memtopo_undo *memtopo_undo_pop(struct memtopo_ctx *ctx)
{
	struct memtopo_undo_log *log = &ctx->undo;
	struct memtopo_undo_chunk *c = log->top;
	struct memtopo_undo *u = &c->rec[--c->nr];

	log->nr--;
	if (!c->nr) {
		log->top = c->prev;
		if (log->spare)
			memtopo_ctx_uncharge_locked(ctx, sizeof(*c));
		kfree(log->spare);
		log->spare = c;
	}
	return u;
}

/**
 * memtopo_undo_cancel() - drop the newest record: its change was not made.
 * @ctx: the context, locked.
 */
void memtopo_undo_cancel(struct memtopo_ctx *ctx)
{
	memtopo_assert_locked(ctx);
	memtopo_undo_pop(ctx);
}

/**
 * memtopo_undo_mark() - where the log is now, for a partial rollback.
 * @ctx: the context, locked.
 *
 * Return: the number of records.
 */
u32 memtopo_undo_mark(const struct memtopo_ctx *ctx)
{
	memtopo_assert_locked(ctx);
	return ctx->undo.nr;
}

static void memtopo_undo_one(struct memtopo_undo *u)
{
	switch ((enum memtopo_undo_kind)u->kind) {
	case MEMTOPO_UNDO_REGION_CREATE:
	case MEMTOPO_UNDO_REGION_DESTROY:
	case MEMTOPO_UNDO_ATTACH:
	case MEMTOPO_UNDO_DETACH:
	case MEMTOPO_UNDO_PLACE:
	case MEMTOPO_UNDO_ALIAS_OFFSET:
	case MEMTOPO_UNDO_FLAGS:
	case MEMTOPO_UNDO_DIRTY_LOG:
		memtopo_region_undo(u);
		return;
	case MEMTOPO_UNDO_SPACE_CREATE:
	case MEMTOPO_UNDO_SPACE_DESTROY:
		memtopo_space_undo(u);
		return;
	case MEMTOPO_UNDO_PARITY:
		memtopo_hook_undo(u);
		return;
	case MEMTOPO_UNDO_KINDS:
		break;
	}
	WARN_ONCE(1, "memtopo: undo record of unknown kind %u\n", u->kind);
}

/**
 * memtopo_undo_rollback() - undo every change recorded after @mark, newest
 * first.
 * @ctx: the context, locked.
 * @mark: from memtopo_undo_mark(); 0 undoes everything since the last
 *	commit.
 *
 * Cannot fail.  Rolled back to a mark inside a transaction, the windows
 * the undone changes noted stay noted, so the transaction's commit still
 * re-renders wherever they could have shown; a failed outermost commit
 * drops them right after, with nothing to re-render.
 */
void memtopo_undo_rollback(struct memtopo_ctx *ctx, u32 mark)
{
	memtopo_assert_locked(ctx);
	while (ctx->undo.nr > mark)
		memtopo_undo_one(memtopo_undo_pop(ctx));
}

/**
 * memtopo_undo_forget() - a commit published: the changes stay, drop what
 * the records kept for undoing them.
 * @ctx: the context, locked.
 */
void memtopo_undo_forget(struct memtopo_ctx *ctx)
{
	struct memtopo_undo *u;

	memtopo_assert_locked(ctx);
	while (ctx->undo.nr) {
		u = memtopo_undo_pop(ctx);
		if (u->kind == MEMTOPO_UNDO_PARITY)
			memtopo_hook_undo_forget(u);
	}
}

/**
 * memtopo_undo_destroy() - free the log of a dying context.
 * @ctx: the context; the log was forgotten.
 */
void memtopo_undo_destroy(struct memtopo_ctx *ctx)
{
	WARN_ON(ctx->undo.nr);
	if (ctx->undo.spare)
		memtopo_ctx_uncharge(ctx, sizeof(*ctx->undo.spare));
	kfree(ctx->undo.spare);
	ctx->undo.spare = NULL;
}
