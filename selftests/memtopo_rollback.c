// SPDX-License-Identifier: GPL-2.0
/*
 * kselftests of the all-or-nothing contract:
 *  - random MEMTOPO_BATCHes over every operation kind that fail at a random
 *    index, alone or inside an open MEMTOPO_TXN, leave every region, space,
 *    view, generation and dirty log exactly as before, and tell subscribers
 *    nothing;
 *  - a batch claiming max_batch operations whose first one is bad is
 *    refused for that operation, inside a 16 MiB memory cgroup: nothing is
 *    allocated for the operations it never read;
 *  - with fail-nth (debug kernel), a MEMTOPO_TXN commit that fails at any
 *    allocation leaves the tree and every view exactly as before the
 *    transaction began (ioeventfds, coalescing ranges and dirty logging
 *    included), and a DIRTY_LOG global start that fails changes nothing.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "memtopo_failnth.h"

#ifndef fallthrough
#define fallthrough __attribute__((__fallthrough__))
#endif
#include "../tools/memtopoctl/libmemtopo.c"

static int rb_ioctl(int fd, unsigned long req, void *arg)
{
	return ioctl(fd, req, arg) ? -errno : 0;
}

/* xorshift64*: the seed is printed, a failure replays */
static __u64 rng = 0x9E3779B97F4A7C15ULL;
static __u64 rnd_below(__u64 n)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return n ? (rng * 2685821657736338717ULL) % n : 0;
}

/*
 * Everything a failed call must leave as it was, as text: the tree (with
 * disabled regions), the flat views, every region and space descriptor,
 * each space's ranges and generation, and every region's dirty logs.
 */
static char *state(int fd)
{
	struct memtopo_region_desc *r = NULL;
	struct memtopo_space_desc *s = NULL;
	struct memtopo_range *ranges;
	__u32 nr = 0, ns = 0, n, i, j, c;
	__u64 gen, bits[4];
	char *text, *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return NULL;
	if (!mt_mtree(fd, MEMTOPO_MTREE_DISABLED, &text)) {
		fprintf(f, "%s", text);
		free(text);
	}
	if (!mt_mtree(fd, MEMTOPO_MTREE_FLAT, &text)) {
		fprintf(f, "%s", text);
		free(text);
	}
	if (!mt_get_regions(fd, &r, &nr)) {
		for (i = 0; i < nr; i++) {
			fprintf(f, "region %u parent %u alias %u kind %u flags %x prio %d dl %x",
				r[i].id, r[i].parent, r[i].alias, r[i].kind, r[i].flags,
				r[i].priority, r[i].dirty_log_mask);
			fprintf(f, " @%llx +%llx ao %llx %s:", (unsigned long long)r[i].addr,
				(unsigned long long)r[i].length,
				(unsigned long long)r[i].alias_offset, r[i].name);
			for (c = 0; c < 3; c++) {
				struct memtopo_dirty_log d = {
					.size = sizeof(d), .op = MEMTOPO_DIRTY_GET,
					.region = r[i].id, .client = c, .num_pages = 1,
					.bitmap = (uintptr_t)bits,
				};

				bits[0] = 0;
				fprintf(f, " log%u=%d/%llx", c, rb_ioctl(fd, MEMTOPO_DIRTY_LOG, &d),
					(unsigned long long)bits[0]);
			}
			fprintf(f, "\n");
		}
	}
	if (!mt_get_spaces(fd, &s, &ns)) {
		for (i = 0; i < ns; i++) {
			fprintf(f, "space %u root %u gen %llu ranges %u %s\n", s[i].id, s[i].root,
				(unsigned long long)s[i].generation, s[i].nr_ranges, s[i].name);
			if (mt_get_flat(fd, s[i].id, &ranges, &n, &gen))
				continue;
			fprintf(f, "  gen %llu\n", (unsigned long long)gen);
			for (j = 0; j < n; j++)
				fprintf(f, "  %llx-%llx r%u +%llx f%x dl%x\n",
					(unsigned long long)ranges[j].start,
					(unsigned long long)ranges[j].last, ranges[j].region,
					(unsigned long long)ranges[j].offset, ranges[j].flags,
					ranges[j].dirty_log_mask);
			free(ranges);
		}
	}
	free(r);
	free(s);
	fclose(f);
	return buf;
}

/* A machine: a root with RAM, ROM, a ROM device, I/O and an alias, one space. */
struct rb_tree {
	int fd, root, space, ids[8], nids;
};

static void rb_build(struct __test_metadata *_metadata, struct rb_tree *t)
{
	static const __u32 kinds[] = {
		MEMTOPO_KIND_RAM, MEMTOPO_KIND_ROM, MEMTOPO_KIND_ROM_DEVICE, MEMTOPO_KIND_IO,
		MEMTOPO_KIND_CONTAINER, MEMTOPO_KIND_RAM,
	};
	struct memtopo_op op;
	int i, id;

	t->fd = mt_open();
	ASSERT_GE(t->fd, 0);
	t->root = mt_region_create(t->fd, MEMTOPO_KIND_CONTAINER, "root", 0,
				   MEMTOPO_OP_F_SIZE_2_64);
	ASSERT_GT(t->root, 0);
	t->nids = 0;
	t->ids[t->nids++] = t->root;
	for (i = 0; i < 6; i++) {
		id = mt_region_create(t->fd, kinds[i], "r", 0x4000, 0);
		ASSERT_GT(id, 0);
		ASSERT_EQ(0, mt_add_subregion(t->fd, t->root, id, 0x10000 * i, 0));
		t->ids[t->nids++] = id;
	}
	mt_op_init(&op, MEMTOPO_OP_REGION_CREATE);
	op.kind = MEMTOPO_KIND_ALIAS;
	strcpy(op.name, "alias");
	op.length = 0x2000;
	op.ref = t->ids[1];
	op.addr = 0x1000;
	ASSERT_EQ(0, mt_op(t->fd, &op));
	ASSERT_EQ(0, mt_add_subregion(t->fd, t->root, op.id, 0x100000, 0));
	t->ids[t->nids++] = op.id;
	t->space = mt_space_create(t->fd, "mem", t->root);
	ASSERT_GT(t->space, 0);
}

/* A random operation of kind @code on the tree's regions (it may fail). */
static void rb_random_op(struct rb_tree *t, struct memtopo_op *op, __u32 code)
{
	__u32 any = t->ids[rnd_below(t->nids)];

	mt_op_init(op, code);
	switch (code) {
	case MEMTOPO_OP_REGION_CREATE:
		op->kind = rnd_below(2) ? MEMTOPO_KIND_RAM : MEMTOPO_KIND_IO;
		strcpy(op->name, "new");
		op->length = 0x1000 * (1 + rnd_below(4));
		break;
	case MEMTOPO_OP_REGION_DESTROY:
	case MEMTOPO_OP_DEL_SUBREGION:
		op->id = any;
		break;
	case MEMTOPO_OP_ADD_SUBREGION:
		op->id = any;
		op->ref = t->root;
		op->addr = 0x1000 * rnd_below(0x200);
		op->priority = (int)rnd_below(3) - 1;
		break;
	case MEMTOPO_OP_SET_ADDRESS:
	case MEMTOPO_OP_SET_ALIAS_OFFSET:
		op->id = any;
		op->addr = 0x1000 * rnd_below(0x200);
		break;
	case MEMTOPO_OP_SET_SIZE:
		op->id = any;
		op->length = 0x1000 * rnd_below(8);
		break;
	case MEMTOPO_OP_SET_PRIORITY:
		op->id = any;
		op->priority = (int)rnd_below(5) - 2;
		break;
	case MEMTOPO_OP_SET_DIRTY_LOG:
		op->kind = rnd_below(3);
		fallthrough;
	case MEMTOPO_OP_SET_ENABLED:
	case MEMTOPO_OP_SET_READONLY:
	case MEMTOPO_OP_SET_NONVOLATILE:
	case MEMTOPO_OP_SET_ROMD:
		op->id = any;
		op->value = rnd_below(2);
		break;
	case MEMTOPO_OP_SPACE_CREATE:
		op->ref = any;
		strcpy(op->name, "sp");
		break;
	case MEMTOPO_OP_SPACE_DESTROY:
		/* the batch's own space, if it made one; else the tree's (busy) */
		op->id = t->space;
		break;
	}
}

/*
 * Operations of kind @code that succeed on a freshly built tree (with what
 * they need before them): the first rounds apply each kind once for sure.
 * Return: how many were written to @ops.
 */
static __u32 rb_forced(struct rb_tree *t, struct memtopo_op *ops, __u32 code)
{
	__u32 n = 0, spare = t->ids[6];	/* RAM at 0x50000 */

	switch (code) {
	case MEMTOPO_OP_REGION_DESTROY:
		mt_op_init(&ops[n], MEMTOPO_OP_DEL_SUBREGION);
		ops[n++].id = spare;
		break;
	case MEMTOPO_OP_ADD_SUBREGION:
		rb_random_op(t, &ops[n++], MEMTOPO_OP_REGION_CREATE);
		spare = MEMTOPO_ID_BATCH_REF | 0;
		break;
	case MEMTOPO_OP_SPACE_DESTROY:
		mt_op_init(&ops[n], MEMTOPO_OP_SPACE_CREATE);
		ops[n].ref = t->ids[5];
		strcpy(ops[n++].name, "sp");
		break;
	}
	mt_op_init(&ops[n], code);
	switch (code) {
	case MEMTOPO_OP_REGION_CREATE:
		rb_random_op(t, &ops[n], code);
		break;
	case MEMTOPO_OP_ADD_SUBREGION:
		ops[n].ref = t->root;
		ops[n].addr = 0x200000;
		fallthrough;
	case MEMTOPO_OP_REGION_DESTROY:
	case MEMTOPO_OP_DEL_SUBREGION:
		ops[n].id = spare;
		break;
	case MEMTOPO_OP_SET_ADDRESS:
		ops[n].id = spare;
		ops[n].addr = 0x300000;
		break;
	case MEMTOPO_OP_SET_SIZE:
		ops[n].id = spare;
		ops[n].length = 0x2000;
		break;
	case MEMTOPO_OP_SET_PRIORITY:
		ops[n].id = spare;
		ops[n].priority = 1;
		break;
	case MEMTOPO_OP_SET_ALIAS_OFFSET:
		ops[n].id = t->ids[7];
		ops[n].addr = 0x2000;
		break;
	case MEMTOPO_OP_SET_ENABLED:
		ops[n].id = spare;
		break;
	case MEMTOPO_OP_SET_READONLY:
	case MEMTOPO_OP_SET_NONVOLATILE:
		ops[n].id = spare;
		ops[n].value = 1;
		break;
	case MEMTOPO_OP_SET_ROMD:
		ops[n].id = t->ids[3];	/* a ROM device in romd mode */
		break;
	case MEMTOPO_OP_SET_DIRTY_LOG:
		ops[n].id = t->ids[1];
		ops[n].value = 1;
		break;
	case MEMTOPO_OP_SPACE_CREATE:
		ops[n].ref = t->ids[5];
		strcpy(ops[n].name, "sp");
		break;
	case MEMTOPO_OP_SPACE_DESTROY:
		ops[n].id = MEMTOPO_ID_BATCH_REF | 0;
		break;
	}
	return n + 1;
}

/*
 * Random batches failing at a random index, over every operation kind
 * (each applied for sure in the first rounds), for 400 rounds or 20 s.
 */
TEST(random_batches_fail_at_random_index)
{
	struct memtopo_op ops[24];
	__u32 applied[MEMTOPO_OP_COUNT] = {}, idx, code, k, bad, i, j, depth;
	struct memtopo_event ev[8];
	struct rb_tree t;
	int round, efd, ret, rollbacks = 0;
	time_t start;
	__u32 sub;
	char *before, *after;
	__u32 pending, n;

	rb_build(_metadata, &t);
	efd = eventfd(0, EFD_NONBLOCK);
	ASSERT_GE(efd, 0);
	ASSERT_EQ(0, mt_subscribe(t.fd, t.space, efd, 0, 0, &sub));
	TH_LOG("seed %llx", (unsigned long long)rng);
	start = time(NULL);
	for (round = 0; round < 400 && (round < 60 || time(NULL) - start < 20); round++) {
		bool forced = round < MEMTOPO_OP_COUNT - 1;
		bool outer = !forced && rnd_below(3) == 0;
		__u32 first = 0;

		/* drain what building (or the last outer commit) queued */
		do {
			n = 8;
			ASSERT_EQ(0, mt_read_events(t.fd, sub, ev, &n, &pending));
		} while (n);
		if (outer) {
			ASSERT_EQ(0, mt_txn(t.fd, MEMTOPO_TXN_BEGIN, &depth));
			mt_op_init(&ops[0], MEMTOPO_OP_SET_PRIORITY);
			ops[0].id = t.ids[1 + rnd_below(t.nids - 1)];
			ops[0].priority = (int)rnd_below(3);
			ASSERT_EQ(0, mt_op(t.fd, &ops[0]));
		}
		before = state(t.fd);
		ASSERT_NE(NULL, before);
		if (forced)
			first = rb_forced(&t, ops, round + 1);
		k = first + rnd_below(16);
		bad = first + rnd_below(k - first + 1);
		for (i = first; i < k + 1; i++) {
			code = 1 + rnd_below(MEMTOPO_OP_COUNT - 1);
			rb_random_op(&t, &ops[i], code);
			/* refer to what the batch made, now and then */
			if (i && rnd_below(4) == 0 && ops[i - 1].op == MEMTOPO_OP_REGION_CREATE &&
			    code != MEMTOPO_OP_REGION_CREATE && code != MEMTOPO_OP_SPACE_CREATE)
				ops[i].id = MEMTOPO_ID_BATCH_REF | (i - 1);
			/* a space the batch made can go (the tree's is subscribed) */
			for (j = i; code == MEMTOPO_OP_SPACE_DESTROY && j--; )
				if (ops[j].op == MEMTOPO_OP_SPACE_CREATE) {
					ops[i].id = MEMTOPO_ID_BATCH_REF | j;
					break;
				}
			if (i == bad)
				ops[i].__reserved = 1;	/* refused whatever it is */
		}
		ret = mt_batch(t.fd, ops, k + 1, &idx);
		ASSERT_NE(0, ret);
		ASSERT_LE(idx, bad);
		if (idx == bad)
			ASSERT_EQ(-EINVAL, ret);
		for (i = 0; i < idx; i++)
			applied[ops[i].op]++;
		after = state(t.fd);
		ASSERT_NE(NULL, after);
		if (strcmp(before, after))
			TH_LOG("round %d: before:\n%s\nafter:\n%s", round, before, after);
		ASSERT_EQ(0, strcmp(before, after));
		free(before);
		free(after);
		rollbacks++;
		/* subscribers saw nothing */
		n = 8;
		ASSERT_EQ(0, mt_read_events(t.fd, sub, ev, &n, &pending));
		ASSERT_EQ(0, n);
		if (outer)
			ASSERT_EQ(0, mt_txn(t.fd, MEMTOPO_TXN_COMMIT, &depth));
	}
	for (code = 1; code < MEMTOPO_OP_COUNT; code++) {
		if (!applied[code])
			TH_LOG("operation %u was never applied before a failure", code);
		EXPECT_LT(0, applied[code]);
	}
	TH_LOG("%d failed batches rolled back exactly", rollbacks);
	close(efd);
	close(t.fd);
}

static int write_str(const char *path, const char *v)
{
	int fd = open(path, O_WRONLY), ok;

	if (fd < 0)
		return -1;
	ok = write(fd, v, strlen(v)) == (ssize_t)strlen(v);
	close(fd);
	return ok ? 0 : -1;
}

/* In the cgroup: the batch's errno as the exit status (255: no device). */
static int huge_batch_child(void)
{
	struct memtopo_info info = { .size = sizeof(info) };
	struct memtopo_op op;
	__u32 idx;
	int fd, ret;

	fd = mt_open();
	if (fd < 0 || mt_info(fd, &info))
		return 255;
	/* only the first operation is ever read: the rest need not exist */
	mt_op_init(&op, MEMTOPO_OP_SET_ENABLED);
	op.__reserved = 1;
	ret = mt_batch(fd, &op, info.max_batch, &idx);
	return ret == -EINVAL && idx == 0 ? 0 : -ret;
}

/*
 * A batch claiming max_batch operations whose first one is refused, from a
 * task in a 16 MiB memory cgroup: the undo log grows with the operations
 * applied, so the refusal is the operation's EINVAL, not an ENOMEM (or an
 * OOM kill) for 64 MiB of undo records sized from the count.
 */
TEST(huge_batch_bad_first_op)
{
	const char *cg = "/tmp/memtopo-cg", *t = "/tmp/memtopo-cg/batch";
	int status = -1;
	pid_t pid;

	mkdir(cg, 0755);
	if (mount("none", cg, "cgroup2", 0, NULL) && errno != EBUSY)
		SKIP(return, "no cgroup2 (%s)", strerror(errno));
	write_str("/tmp/memtopo-cg/cgroup.subtree_control", "+memory");
	mkdir(t, 0755);
	if (write_str("/tmp/memtopo-cg/batch/memory.max", "16777216")) {
		rmdir(t);
		umount(cg);
		SKIP(return, "no memory controller");
	}
	pid = fork();
	ASSERT_GE(pid, 0);
	if (!pid) {
		if (write_str("/tmp/memtopo-cg/batch/cgroup.procs", "0"))
			_exit(254);
		_exit(huge_batch_child());
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	rmdir(t);
	umount(cg);
	if (!WIFEXITED(status))
		TH_LOG("the batch was killed by signal %d", WTERMSIG(status));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status));
}

/*
 * Injection points tried per call: more than either call below reaches,
 * within 25 s (the harness allows 30) on a slow debug kernel.
 */
#define FAILNTH_MAX	120
#define FAILNTH_SECONDS	25

TEST(txn_commit_fail_nth)
{
	struct memtopo_coalesced co = { .size = sizeof(co), .length = 0x100 };
	struct memtopo_ioeventfd io = { .size = sizeof(io), .len = 4 };
	int nth, n, ret, failures = 0, efd, late;
	struct memtopo_op op;
	time_t start;
	struct rb_tree t;
	char *before, *after;
	__u32 depth;

	nth = failnth_open();
	if (nth < 0)
		SKIP(return, "no /proc/thread-self/fail-nth (needs CONFIG_FAULT_INJECTION)");
	efd = eventfd(0, 0);
	ASSERT_GE(efd, 0);
	for (n = 1, start = time(NULL); n <= FAILNTH_MAX && time(NULL) - start < FAILNTH_SECONDS;
	     n++) {
		rb_build(_metadata, &t);
		before = state(t.fd);
		ASSERT_NE(NULL, before);
		ASSERT_EQ(0, mt_txn(t.fd, MEMTOPO_TXN_BEGIN, &depth));
		/* every kind of change, each undone if the commit fails */
		late = mt_region_create(t.fd, MEMTOPO_KIND_RAM, "late", 0x3000, 0);
		ASSERT_GT(late, 0);
		ASSERT_EQ(0, mt_add_subregion(t.fd, t.root, late, 0x800000, 0));
		mt_op_init(&op, MEMTOPO_OP_SET_ADDRESS);
		op.id = t.ids[1];
		op.addr = 0x900000;
		ASSERT_EQ(0, mt_op(t.fd, &op));
		mt_op_init(&op, MEMTOPO_OP_SET_DIRTY_LOG);
		op.id = t.ids[1];
		op.kind = 2;	/* MIGRATION */
		op.value = 1;
		ASSERT_EQ(0, mt_op(t.fd, &op));
		mt_op_init(&op, MEMTOPO_OP_SET_ENABLED);
		op.id = t.ids[2];
		ASSERT_EQ(0, mt_op(t.fd, &op));
		io.region = t.ids[4];
		io.fd = efd;
		ASSERT_EQ(0, rb_ioctl(t.fd, MEMTOPO_IOEVENTFD, &io));
		co.region = t.ids[4];
		ASSERT_EQ(0, rb_ioctl(t.fd, MEMTOPO_COALESCED, &co));
		ASSERT_GT(mt_space_create(t.fd, "mem", t.ids[1]), 0);

		failnth_set(nth, n);
		ret = mt_txn(t.fd, MEMTOPO_TXN_COMMIT, &depth);
		failnth_clear(nth);
		if (ret == -EFAULT) {
			/* the answer could not be written: nothing was committed */
			ASSERT_EQ(0, mt_txn(t.fd, MEMTOPO_TXN_COMMIT, &depth));
		} else if (ret) {
			ASSERT_EQ(-ENOMEM, ret);
			failures++;
			after = state(t.fd);
			ASSERT_NE(NULL, after);
			if (strcmp(before, after))
				TH_LOG("fail-nth %d: before:\n%s\nafter:\n%s", n, before, after);
			ASSERT_EQ(0, strcmp(before, after));
			free(after);
			/* the transaction is over */
			ASSERT_EQ(-EINVAL, mt_txn(t.fd, MEMTOPO_TXN_COMMIT, &depth));
		}
		free(before);
		close(t.fd);
	}
	TH_LOG("%d failed commits rolled back exactly", failures);
	ASSERT_LT(0, failures);
	close(efd);
	close(nth);
}

TEST(dirty_global_start_fail_nth)
{
	struct memtopo_dirty_log d = { .size = sizeof(d) };
	int nth, n, ret, failures = 0;
	struct rb_tree t;
	time_t start;
	char *before, *after;

	nth = failnth_open();
	if (nth < 0)
		SKIP(return, "no /proc/thread-self/fail-nth (needs CONFIG_FAULT_INJECTION)");
	for (n = 1, start = time(NULL); n <= FAILNTH_MAX && time(NULL) - start < FAILNTH_SECONDS;
	     n++) {
		rb_build(_metadata, &t);
		before = state(t.fd);
		ASSERT_NE(NULL, before);
		d.op = MEMTOPO_DIRTY_GLOBAL_START;
		failnth_set(nth, n);
		ret = rb_ioctl(t.fd, MEMTOPO_DIRTY_LOG, &d);
		failnth_clear(nth);
		if (ret) {
			/* the argument's copy (EFAULT) or an allocation failed */
			ASSERT_TRUE(ret == -ENOMEM || ret == -EFAULT);
			failures += ret == -ENOMEM;
			/* no MIGRATION log anywhere, no range shows the client */
			after = state(t.fd);
			ASSERT_NE(NULL, after);
			if (strcmp(before, after))
				TH_LOG("fail-nth %d: before:\n%s\nafter:\n%s", n, before, after);
			ASSERT_EQ(0, strcmp(before, after));
			free(after);
			/* the global count did not move */
			d.op = MEMTOPO_DIRTY_GLOBAL_STOP;
			ASSERT_EQ(-EINVAL, rb_ioctl(t.fd, MEMTOPO_DIRTY_LOG, &d));
		}
		free(before);
		close(t.fd);
	}
	TH_LOG("%d failed global starts changed nothing", failures);
	ASSERT_LT(0, failures);
	close(nth);
}

TEST_HARNESS_MAIN
