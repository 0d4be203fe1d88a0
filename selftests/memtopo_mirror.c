// SPDX-License-Identifier: GPL-2.0
/*
 * The test consumer module (kmod/memtopo_mirror.c) mirrors a space's flat
 * view from region_add/region_del alone; after every one of many random
 * changes its mirror must equal MEMTOPO_GET_FLAT.  Skipped when the module
 * is not loaded (tools/memtopoctl/mirror-test loads it).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "../tools/memtopoctl/libmemtopo.c"
#include "../kmod/memtopo_mirror.h"

static int mirror_get(int mfd, struct memtopo_range *r, __u32 cap, __u32 *n)
{
	struct memtopo_mirror_get g = { .size = sizeof(g), .count = cap, .ranges = (uintptr_t)r };

	if (ioctl(mfd, MEMTOPO_MIRROR_GET, &g))
		return -errno;
	*n = g.count;
	return 0;
}

TEST(mirror_equals_view)
{
	enum { NREG = 40, STEPS = 1500 };
	static struct memtopo_range mirror[4096];
	struct memtopo_mirror_attach a = { .size = sizeof(a) };
	struct memtopo_op ops[2 * NREG + 4];
	struct memtopo_range *flat;
	__u32 ids[NREG + 1], idx, n, m = 0, i, nops = 0;
	int fd, mfd, step, k;
	__u64 gen;

	mfd = open("/dev/memtopo_mirror", O_RDWR);
	if (mfd < 0)
		SKIP(return, "memtopo_mirror.ko is not loaded");
	fd = mt_open();
	ASSERT_LE(0, fd);
	srand(12345);

	mt_op_init(&ops[nops], MEMTOPO_OP_REGION_CREATE);
	strcpy(ops[nops].name, "root");
	ops[nops++].flags = MEMTOPO_OP_F_SIZE_2_64;
	for (k = 0; k < NREG; k++) {
		mt_op_init(&ops[nops], MEMTOPO_OP_REGION_CREATE);
		ops[nops].kind = (k % 5 == 4) ? MEMTOPO_KIND_ALIAS :
				 (k % 3 ? MEMTOPO_KIND_RAM : MEMTOPO_KIND_IO);
		if (ops[nops].kind == MEMTOPO_KIND_ALIAS) {
			ops[nops].ref = MEMTOPO_ID_BATCH_REF | 1;
			ops[nops].addr = (rand() % 16) * 0x100;
		}
		ops[nops].length = 0x100 * (1 + rand() % 64);
		sprintf(ops[nops].name, "r%d", k);
		nops++;
	}
	for (k = 0; k < NREG; k++) {
		mt_op_init(&ops[nops], MEMTOPO_OP_ADD_SUBREGION);
		ops[nops].id = MEMTOPO_ID_BATCH_REF | (k + 1);
		ops[nops].ref = MEMTOPO_ID_BATCH_REF | 0;
		ops[nops].addr = 0x100 * (rand() % 256);
		ops[nops].priority = rand() % 5 - 2;
		nops++;
	}
	mt_op_init(&ops[nops], MEMTOPO_OP_SPACE_CREATE);
	ops[nops].ref = MEMTOPO_ID_BATCH_REF | 0;
	strcpy(ops[nops++].name, "mirrored");
	ASSERT_EQ(0, mt_batch(fd, ops, nops, &idx));
	for (k = 0; k <= NREG; k++)
		ids[k] = ops[k].id;

	a.memtopo_fd = fd;
	a.space = ops[nops - 1].id;
	ASSERT_EQ(0, ioctl(mfd, MEMTOPO_MIRROR_ATTACH, &a));
	a.memtopo_fd = mfd;	/* not /dev/memtopo */
	EXPECT_EQ(-1, ioctl(mfd, MEMTOPO_MIRROR_ATTACH, &a));

	for (step = 0; step < STEPS; step++) {
		struct memtopo_op op;
		__u32 r = ids[1 + rand() % NREG];
		int what = rand() % 4;

		mt_op_init(&op, what == 0 ? MEMTOPO_OP_SET_ADDRESS :
				what == 1 ? MEMTOPO_OP_SET_PRIORITY :
				what == 2 ? MEMTOPO_OP_SET_ENABLED : MEMTOPO_OP_SET_READONLY);
		op.id = r;
		op.addr = what == 0 ? 0x100 * (rand() % 256) : 0;
		op.priority = what == 1 ? rand() % 5 - 2 : 0;
		op.value = what >= 2 ? rand() % 2 : 0;
		ASSERT_EQ(0, mt_op(fd, &op));

		ASSERT_EQ(0, mt_get_flat(fd, a.space, &flat, &n, &gen));
		ASSERT_EQ(0, mirror_get(mfd, mirror, 4096, &m));
		ASSERT_EQ(n, m) TH_LOG("step %d", step);
		for (i = 0; i < n; i++) {
			ASSERT_EQ(flat[i].start, mirror[i].start);
			ASSERT_EQ(flat[i].last, mirror[i].last);
			ASSERT_EQ(flat[i].region, mirror[i].region);
			ASSERT_EQ(flat[i].offset, mirror[i].offset);
			ASSERT_EQ(flat[i].flags, mirror[i].flags);
		}
		free(flat);
	}
	/* the mirror holds a context reference: closing /dev/memtopo first is fine */
	close(fd);
	ASSERT_EQ(0, mirror_get(mfd, mirror, 4096, &m));
	close(mfd);
}

TEST_HARNESS_MAIN
