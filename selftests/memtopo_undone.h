/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A commit that fails for want of memory, so that what its transaction
 * created is undone: for the tests of what stays attached to a space
 * that goes that way.  Include after libmemtopo.c.
 */
#ifndef MEMTOPO_SELFTEST_UNDONE_H
#define MEMTOPO_SELFTEST_UNDONE_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* I/O regions in the bank: their view is some pages, past a page of budget. */
#define UNDONE_BANK	200

/*
 * A container of @n I/O regions of a page each, a page apart, mapped
 * nowhere: its ID, or -errno; the regions' IDs in @kids unless NULL.
 */
static inline int undone_bank_of(int fd, __u32 n, int *kids)
{
	struct memtopo_op *ops = calloc(1 + 2 * n, sizeof(*ops));
	__u32 err, k;
	int ret;

	if (!ops)
		return -ENOMEM;
	mt_op_init(&ops[0], MEMTOPO_OP_REGION_CREATE);
	ops[0].kind = MEMTOPO_KIND_CONTAINER;
	ops[0].length = 2ULL * n * 0x1000;
	strcpy(ops[0].name, "bank");
	for (k = 0; k < n; k++) {
		mt_op_init(&ops[1 + 2 * k], MEMTOPO_OP_REGION_CREATE);
		ops[1 + 2 * k].kind = MEMTOPO_KIND_IO;
		ops[1 + 2 * k].length = 0x1000;
		snprintf(ops[1 + 2 * k].name, sizeof(ops[0].name), "r%u", k);
		mt_op_init(&ops[2 + 2 * k], MEMTOPO_OP_ADD_SUBREGION);
		ops[2 + 2 * k].id = MEMTOPO_ID_BATCH_REF | (1 + 2 * k);
		ops[2 + 2 * k].ref = MEMTOPO_ID_BATCH_REF | 0;
		ops[2 + 2 * k].addr = k * 0x2000ULL;
	}
	ret = mt_batch(fd, ops, 1 + 2 * n, &err);
	for (k = 0; !ret && kids && k < n; k++)
		kids[k] = ops[1 + 2 * k].id;
	ret = ret ?: (int)ops[0].id;
	free(ops);
	return ret;
}

/* A bank of UNDONE_BANK regions: its view is some pages, past a page of budget. */
static inline int undone_bank(int fd)
{
	return undone_bank_of(fd, UNDONE_BANK, NULL);
}

/*
 * Close @fd's open transaction with a commit that fails: @bank (from
 * undone_bank()) mapped into @root, whose view, rendered at the commit,
 * does not fit a budget a page above the use.  Returns the commit's
 * result, -ENOSPC when it went as meant; -EPROTO when a step before the
 * commit, or setting the budget back to the ceiling, failed.
 */
static inline int undone_commit(int fd, int root, int bank)
{
	struct memtopo_budget b = { 0 };
	int ret;

	if (mt_budget(fd, 0, 0, &b) ||
	    mt_budget(fd, MEMTOPO_BUDGET_SET, b.mem_used + 4096, NULL) ||
	    mt_add_subregion(fd, root, bank, 0x10000000, 0))
		ret = -EPROTO;
	else
		ret = mt_txn(fd, MEMTOPO_TXN_COMMIT, NULL);
	if (mt_budget(fd, MEMTOPO_BUDGET_SET, 0, NULL))
		ret = -EPROTO;
	return ret;
}

/* What undone_begin() made: the space is the transaction's, to be undone. */
struct undone {
	int root;
	int bank;
	int space;
};

/*
 * A root container with a bank beside it, committed, then a transaction
 * opened on @fd and a space over the root created in it: what
 * undone_commit(fd, u->root, u->bank) undoes.  0, or -errno.
 */
static inline int undone_begin(int fd, struct undone *u)
{
	int ret;

	u->root = mt_region_create(fd, MEMTOPO_KIND_CONTAINER, "root", 0,
				   MEMTOPO_OP_F_SIZE_2_64);
	if (u->root < 0)
		return u->root;
	u->bank = undone_bank(fd);
	if (u->bank < 0)
		return u->bank;
	ret = mt_txn(fd, MEMTOPO_TXN_BEGIN, NULL);
	if (ret)
		return ret;
	u->space = mt_space_create(fd, "undone", u->root);
	return u->space < 0 ? u->space : 0;
}

#endif
