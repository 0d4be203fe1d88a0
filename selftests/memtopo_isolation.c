// SPDX-License-Identifier: GPL-2.0
/*
 * kselftests of isolation between processes and of what closing
 * /dev/memtopo frees:
 *  - two processes (fork) with their own opens cannot see or touch each
 *    other's objects: every ioctl naming the other's IDs is ENOENT, and
 *    what one does leaves the other's map exactly as it was;
 *  - a named context admits only its creator's uid (or CAP_SYS_ADMIN):
 *    another uid gets EPERM and cannot destroy it, but may make its own;
 *  - closing the last file of an anonymous context frees everything: its
 *    debugfs directory goes and the kernel-owned RAM it held is given back
 *    (VmallocUsed in /proc/meminfo), even when the process just exits with
 *    a subscription, an ioeventfd and an open transaction;
 *  - a named context outlives its creator's process until it is destroyed,
 *    then attaching to it fails;
 *  - a transaction is its file's: while one file of a named context has
 *    one open, another file's changes are refused (EBUSY) and change
 *    nothing, its reads work, and after the commit its changes work again.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "memtopo_sysfs.h"
#include "memtopo_uffd.h"
#include "../tools/memtopoctl/libmemtopo.c"
#include "memtopo_undone.h"

/* Kernel-owned RAM held by the context that is closed: big enough to see. */
#define BIG_RAM		(32u << 20)

static int i_ioctl(int fd, unsigned long req, void *arg)
{
	return ioctl(fd, req, arg) ? -errno : 0;
}

/* A small map: root container, kernel-owned RAM, an I/O region, a space. */
struct map {
	int root, ram, io, alias, space;
};

static int build_map(int fd, struct map *m, const char *space_name)
{
	struct memtopo_op op;

	m->root = mt_region_create(fd, MEMTOPO_KIND_CONTAINER, "root", 0x100000000ULL, 0);
	m->ram = mt_region_create(fd, MEMTOPO_KIND_RAM, "ram", 0x2000, MEMTOPO_OP_F_KERNEL_BACKING);
	m->io = mt_region_create(fd, MEMTOPO_KIND_IO, "io", 0x100, 0);
	if (m->root < 0 || m->ram < 0 || m->io < 0)
		return -1;
	mt_op_init(&op, MEMTOPO_OP_REGION_CREATE);
	op.kind = MEMTOPO_KIND_ALIAS;
	op.ref = m->ram;
	op.length = 0x1000;
	strcpy(op.name, "alias");
	if (mt_op(fd, &op))
		return -1;
	m->alias = op.id;
	if (mt_region_set(fd, MEMTOPO_OP_ADD_SUBREGION, m->ram, m->root, 0x10000, 0) ||
	    mt_region_set(fd, MEMTOPO_OP_ADD_SUBREGION, m->io, m->root, 0x20000, 0) ||
	    mt_region_set(fd, MEMTOPO_OP_ADD_SUBREGION, m->alias, m->root, 0x30000, 0))
		return -1;
	m->space = mt_space_create(fd, space_name, m->root);
	return m->space < 0 ? -1 : 0;
}

static int alias_of(int fd, __u32 target)
{
	struct memtopo_op op;

	mt_op_init(&op, MEMTOPO_OP_REGION_CREATE);
	op.kind = MEMTOPO_KIND_ALIAS;
	op.ref = target;
	op.length = 0x1000;
	strcpy(op.name, "x");
	return mt_op(fd, &op);
}

/*
 * Every ioctl that names an object, with @m's IDs, on @fd: all must be
 * ENOENT.  Failures are written to @out (one line each) for the parent.
 */
static int touch_all(int fd, const struct map *m, char *out, size_t outlen)
{
	struct memtopo_ioeventfd iofd = { .size = sizeof(iofd), .region = m->io, .len = 4 };
	struct memtopo_coalesced co = { .size = sizeof(co), .region = m->io, .length = 4 };
	struct memtopo_dirty_log dl = { .size = sizeof(dl), .op = MEMTOPO_DIRTY_GET,
					.region = m->ram, .num_pages = 1 };
	__u8 byte = 0x42;
	struct memtopo_space_rw rw = { .size = sizeof(rw), .space = m->space, .addr = 0x10000,
				       .length = 1, .buf = (uintptr_t)&byte };
	struct memtopo_serve serve = { .size = sizeof(serve), .region = m->io };
	struct memtopo_discard disc = { .size = sizeof(disc), .op = MEMTOPO_DISCARD_SET_MANAGER,
					.region = m->ram, .granularity = 0x1000 };
	struct memtopo_iommu_mapping im[1];
	struct memtopo_iommu_map imap = { .size = sizeof(imap), .flags = MEMTOPO_IOMMU_MAP_READ,
					  .region = m->io, .space = m->space, .length = 0x1000 };
	struct memtopo_iommu_unmap iunmap = { .size = sizeof(iunmap), .region = m->io,
					      .flags = MEMTOPO_IOMMU_UNMAP_ALL };
	struct memtopo_iommu_get iget = { .size = sizeof(iget), .region = m->io, .count = 1,
					  .mappings = (uintptr_t)im,
					  .mapping_size = sizeof(im[0]) };
	struct memtopo_get_flat_diff fdiff = { .size = sizeof(fdiff), .space = m->space,
					       .from_generation = 1,
					       .event_size = sizeof(struct memtopo_event) };
	struct memtopo_range r, *rs;
	__u64 bits = 0;
	__u32 n, sub;
	int efd = eventfd(0, EFD_CLOEXEC), fails = 0;
	size_t used = 0;
	struct {
		const char *what;
		int ret;
	} c[24];
	int nc = 0, i;

	dl.bitmap = (uintptr_t)&bits;
	iofd.fd = efd;
#define ADD(w, expr) do { c[nc].what = (w); c[nc].ret = (expr); nc++; } while (0)
	ADD("set enabled", mt_region_set(fd, MEMTOPO_OP_SET_ENABLED, m->ram, 0, 0, 0));
	ADD("set address", mt_region_set(fd, MEMTOPO_OP_SET_ADDRESS, m->io, 0, 0x40000, 0));
	ADD("map into their root",
	    mt_region_set(fd, MEMTOPO_OP_ADD_SUBREGION, m->ram, m->root, 0, 0));
	ADD("unmap", mt_region_set(fd, MEMTOPO_OP_DEL_SUBREGION, m->io, 0, 0, 0));
	ADD("destroy region", mt_region_set(fd, MEMTOPO_OP_REGION_DESTROY, m->alias, 0, 0, 0));
	ADD("destroy space", mt_region_set(fd, MEMTOPO_OP_SPACE_DESTROY, m->space, 0, 0, 0));
	ADD("alias their region", alias_of(fd, m->ram));
	ADD("lookup", mt_lookup(fd, m->space, 0x10000, &r, NULL));
	rs = NULL;
	ADD("get flat", mt_get_flat(fd, m->space, &rs, &n, NULL));
	free(rs);
	ADD("subscribe", mt_subscribe(fd, m->space, -1, 0, 0, &sub));
	ADD("space rw", i_ioctl(fd, MEMTOPO_SPACE_RW, &rw));
	ADD("ioeventfd", i_ioctl(fd, MEMTOPO_IOEVENTFD, &iofd));
	ADD("coalesced", i_ioctl(fd, MEMTOPO_COALESCED, &co));
	ADD("dirty log", i_ioctl(fd, MEMTOPO_DIRTY_LOG, &dl));
	ADD("serve", i_ioctl(fd, MEMTOPO_SERVE, &serve));
	ADD("discard manager", i_ioctl(fd, MEMTOPO_DISCARD, &disc));
	ADD("iommu map", i_ioctl(fd, MEMTOPO_IOMMU_MAP, &imap));
	ADD("iommu unmap", i_ioctl(fd, MEMTOPO_IOMMU_UNMAP, &iunmap));
	ADD("iommu get", i_ioctl(fd, MEMTOPO_IOMMU_GET, &iget));
	ADD("flat diff", i_ioctl(fd, MEMTOPO_GET_FLAT_DIFF, &fdiff));
#undef ADD
	for (i = 0; i < nc; i++) {
		if (c[i].ret == -ENOENT)
			continue;
		fails++;
		used += snprintf(out + used, used < outlen ? outlen - used : 0,
				 "%s: %s instead of ENOENT\n", c[i].what, strerror(-c[i].ret));
	}
	close(efd);
	return fails;
}

static char *mtree_of(int fd)
{
	char *a = NULL, *b = NULL, *all;

	if (mt_mtree(fd, MEMTOPO_MTREE_DISABLED, &a) || mt_mtree(fd, MEMTOPO_MTREE_FLAT, &b)) {
		free(a);
		return NULL;
	}
	if (asprintf(&all, "%s----\n%s", a, b) < 0)
		all = NULL;
	free(a);
	free(b);
	return all;
}

static ssize_t read_full(int fd, void *buf, size_t len)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n = read(fd, (char *)buf + got, len - got);

		if (n <= 0)
			return n < 0 ? -1 : (ssize_t)got;
		got += n;
	}
	return got;
}

/*
 * Two processes, each with its own open: neither can name the other's
 * objects, and the child's activity (building a map with the same IDs,
 * changing and destroying it) leaves the parent's map as it was.
 */
TEST(two_processes_are_isolated)
{
	int fd = mt_open(), p2c[2], c2p[2], status;
	struct memtopo_space_desc *sd;
	struct map mine;
	__u32 ns;
	char *before, *after, report[4096] = "";
	ssize_t n;
	pid_t pid;

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, build_map(fd, &mine, "parent-mem"));
	before = mtree_of(fd);
	ASSERT_NE(NULL, before);
	ASSERT_EQ(0, pipe(p2c));
	ASSERT_EQ(0, pipe(c2p));

	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		/* the child: its own open, not the inherited file */
		int cfd = mt_open(), fails;
		char out[4096] = "";
		size_t len;
		struct map its;
		__u32 nreg = 99;
		struct memtopo_region_desc *d;

		close(fd);
		if (cfd < 0) {
			len = snprintf(out, sizeof(out), "open: %s\n", strerror(-cfd));
			goto report;
		}
		fails = touch_all(cfd, &mine, out, sizeof(out));
		len = strlen(out);
		if (mt_get_regions(cfd, &d, &nreg) || nreg != 0)
			len += snprintf(out + len, sizeof(out) - len,
					"the child sees %u regions\n", nreg);
		/* the same IDs, its own objects; then change and destroy them */
		if (build_map(cfd, &its, "child-mem") || its.root != mine.root ||
		    its.space != mine.space)
			len += snprintf(out + len, sizeof(out) - len,
					"the child's map did not get the same IDs\n");
		if (mt_region_set(cfd, MEMTOPO_OP_SET_ENABLED, its.ram, 0, 0, 0) ||
		    mt_region_set(cfd, MEMTOPO_OP_DEL_SUBREGION, its.alias, 0, 0, 0) ||
		    mt_region_set(cfd, MEMTOPO_OP_REGION_DESTROY, its.alias, 0, 0, 0) ||
		    mt_region_set(cfd, MEMTOPO_OP_SPACE_DESTROY, its.space, 0, 0, 0))
			len += snprintf(out + len, sizeof(out) - len,
					"the child could not change its own map\n");
		(void)fails;
report:
		if (write(c2p[1], out, len) != (ssize_t)len)
			_exit(3);
		close(c2p[1]);
		/* keep the file open until the parent has compared */
		if (read(p2c[0], out, 1) < 0)
			_exit(4);
		_exit(0);
	}
	close(c2p[1]);
	close(p2c[0]);
	n = read_full(c2p[0], report, sizeof(report) - 1);
	ASSERT_LE(0, n);
	report[n] = '\0';
	EXPECT_STREQ("", report);
	/* the parent's IDs still name the parent's objects, unchanged */
	after = mtree_of(fd);
	ASSERT_NE(NULL, after);
	EXPECT_STREQ(before, after);
	EXPECT_EQ(0, mt_region_set(fd, MEMTOPO_OP_SET_ENABLED, mine.ram, 0, 0, 1));
	/* and the parent cannot see the child's space by name either */
	ASSERT_EQ(0, mt_get_spaces(fd, &sd, &ns));
	ASSERT_EQ(1, ns);
	EXPECT_STREQ("parent-mem", sd[0].name);
	free(sd);
	ASSERT_EQ(1, write(p2c[1], "x", 1));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	free(before);
	free(after);
	close(fd);
}

/*
 * Named contexts across processes and uids: the creator's uid gets in,
 * another uid without CAP_SYS_ADMIN gets EPERM for attach and destroy,
 * and may create a name of its own, which root may still enter.
 */
TEST(named_context_owner_rule)
{
	const char *name = "kselftest-owner", *other = "kselftest-other";
	int fd = mt_open(), cfd, p[2], status, created = 0;
	struct memtopo_region_desc *d;
	char out[1024] = "";
	__u32 nr;
	ssize_t n;
	pid_t pid;

	ASSERT_LE(0, fd);
	if (geteuid() != 0)
		SKIP(return, "needs root to switch to another uid");
	mt_ctx_destroy(fd, name);
	mt_ctx_destroy(fd, other);
	ASSERT_EQ(0, mt_attach(fd, name, MEMTOPO_ATTACH_CREATE | MEMTOPO_ATTACH_EXCL, &created));
	EXPECT_EQ(1, created);
	ASSERT_LT(0, mt_region_create(fd, MEMTOPO_KIND_CONTAINER, "root", 0x1000, 0));
	ASSERT_EQ(0, pipe(p));

	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		size_t len = 0;
		int ret, a, b;

		close(p[0]);
		/* opened as root (the node is 0660 root:kvm), used as nobody */
		a = mt_open();
		b = mt_open();
		if (a < 0 || b < 0 || setgroups(0, NULL) || setresgid(65534, 65534, 65534) ||
		    setresuid(65534, 65534, 65534)) {
			len = snprintf(out, sizeof(out), "cannot become nobody\n");
			goto report;
		}
		ret = mt_attach(a, name, 0, NULL);
		if (ret != -EPERM)
			len += snprintf(out + len, sizeof(out) - len,
					"attach by another uid: %s instead of EPERM\n",
					strerror(-ret));
		ret = mt_attach(a, name, MEMTOPO_ATTACH_CREATE, NULL);
		if (ret != -EPERM)
			len += snprintf(out + len, sizeof(out) - len,
					"attach/create by another uid: %s instead of EPERM\n",
					strerror(-ret));
		ret = mt_ctx_destroy(a, name);
		if (ret != -EPERM)
			len += snprintf(out + len, sizeof(out) - len,
					"destroy by another uid: %s instead of EPERM\n",
					strerror(-ret));
		/* refused attaches left the file on its own anonymous context */
		if (mt_region_create(a, MEMTOPO_KIND_RAM, "mine", 0x1000, 0) != 1)
			len += snprintf(out + len, sizeof(out) - len,
					"the refused file lost its own context\n");
		ret = mt_attach(b, other, MEMTOPO_ATTACH_CREATE, NULL);
		if (ret)
			len += snprintf(out + len, sizeof(out) - len,
					"nobody cannot create its own name: %s\n", strerror(-ret));
report:
		if (write(p[1], out, len) != (ssize_t)len)
			_exit(3);
		_exit(0);
	}
	close(p[1]);
	n = read_full(p[0], out, sizeof(out) - 1);
	ASSERT_LE(0, n);
	out[n] = '\0';
	EXPECT_STREQ("", out);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	/* the owner's context is intact: still one region */
	ASSERT_EQ(0, mt_get_regions(fd, &d, &nr));
	EXPECT_EQ(1, nr);
	free(d);
	/* root (CAP_SYS_ADMIN) may enter nobody's context and destroy it */
	cfd = mt_open();
	ASSERT_LE(0, cfd);
	EXPECT_EQ(0, mt_attach(cfd, other, 0, NULL));
	EXPECT_EQ(0, mt_ctx_destroy(cfd, other));
	EXPECT_EQ(0, mt_ctx_destroy(cfd, name));
	close(cfd);
	close(fd);
}

/* The anon-<n> directories of /sys/kernel/debug/memtopo, as a sorted list. */
static int anon_dirs(char *buf, size_t len)
{
	struct dirent **ents;
	size_t used = 0;
	int n, i;

	n = scandir(DBG, &ents, NULL, alphasort);
	if (n < 0)
		return -errno;
	buf[0] = '\0';
	for (i = 0; i < n; i++) {
		if (!strncmp(ents[i]->d_name, "anon-", 5) && used < len)
			used += snprintf(buf + used, len - used, "%s ", ents[i]->d_name);
		free(ents[i]);
	}
	free(ents);
	return 0;
}

/* VmallocUsed from /proc/meminfo, in bytes; -1 if absent. */
static long long vmalloc_used(void)
{
	char line[256];
	long long kb = -1;
	FILE *f = fopen("/proc/meminfo", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmallocUsed: %lld kB", &kb) == 1)
			break;
	fclose(f);
	return kb < 0 ? -1 : kb * 1024;
}

static void sleep_ms(int ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/*
 * A process builds a map holding 32 MiB of kernel-owned RAM, subscribes,
 * registers an ioeventfd, opens a transaction, and exits without closing
 * anything: its context, its debugfs directory and the RAM are freed.
 */
TEST(close_frees_everything)
{
	char dirs_before[4096], dirs_open[4096], dirs_after[4096];
	long long vm_before, vm_open, vm_after = -1;
	int p2c[2], c2p[2], status, i;
	bool have_debugfs;
	char c;
	pid_t pid;

	have_debugfs = anon_dirs(dirs_before, sizeof(dirs_before)) == 0;
	vm_before = vmalloc_used();
	ASSERT_EQ(0, pipe(p2c));
	ASSERT_EQ(0, pipe(c2p));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		int fd = mt_open(), efd = eventfd(0, 0), root, ram, io, space;
		struct memtopo_ioeventfd iofd = { .size = sizeof(iofd), .len = 4 };
		__u32 sub, depth;
		char ok = 'y';

		root = mt_region_create(fd, MEMTOPO_KIND_CONTAINER, "root", 0, 0);
		ram = mt_region_create(fd, MEMTOPO_KIND_RAM, "big", BIG_RAM,
				       MEMTOPO_OP_F_KERNEL_BACKING);
		io = mt_region_create(fd, MEMTOPO_KIND_IO, "io", 0x100, 0);
		iofd.region = io;
		iofd.fd = efd;
		if (fd < 0 || efd < 0 || root < 0 || ram < 0 || io < 0 ||
		    mt_region_set(fd, MEMTOPO_OP_SET_SIZE, root, 0, 0, 0) ||
		    mt_region_set(fd, MEMTOPO_OP_ADD_SUBREGION, ram, root, 0, 0) ||
		    mt_region_set(fd, MEMTOPO_OP_ADD_SUBREGION, io, root, BIG_RAM, 0))
			ok = 'n';
		space = ok == 'y' ? mt_space_create(fd, "mem", root) : -1;
		if (space < 0 || mt_subscribe(fd, space, efd, 0, MEMTOPO_SUBSCRIBE_REPLAY, &sub) ||
		    i_ioctl(fd, MEMTOPO_IOEVENTFD, &iofd) || mt_txn(fd, MEMTOPO_TXN_BEGIN, &depth))
			ok = 'n';
		if (write(c2p[1], &ok, 1) != 1 || read(p2c[0], &ok, 1) != 1)
			_exit(3);
		/* exit with everything still open */
		_exit(0);
	}
	close(c2p[1]);
	close(p2c[0]);
	ASSERT_EQ(1, read(c2p[0], &c, 1));
	ASSERT_EQ('y', c);
	vm_open = vmalloc_used();
	if (have_debugfs) {
		ASSERT_EQ(0, anon_dirs(dirs_open, sizeof(dirs_open)));
		EXPECT_STRNE(dirs_before, dirs_open);
	}
	if (vm_before >= 0)
		EXPECT_LE(vm_before + (long long)BIG_RAM * 3 / 4, vm_open)
			TH_LOG("VmallocUsed %lld -> %lld with 32 MiB held", vm_before, vm_open);
	ASSERT_EQ(1, write(p2c[1], "x", 1));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);

	/* the RAM is freed after an RCU grace period: give it a few seconds */
	for (i = 0; i < 100; i++) {
		vm_after = vmalloc_used();
		if (vm_after < 0 || vm_after + (long long)BIG_RAM * 3 / 4 <= vm_open)
			break;
		sleep_ms(100);
	}
	if (vm_before >= 0)
		EXPECT_GE(vm_open - (long long)BIG_RAM * 3 / 4, vm_after)
			TH_LOG("VmallocUsed %lld -> %lld -> %lld", vm_before, vm_open, vm_after);
	if (have_debugfs) {
		ASSERT_EQ(0, anon_dirs(dirs_after, sizeof(dirs_after)));
		EXPECT_STREQ(dirs_before, dirs_after);
	}
}

/*
 * A named context survives its creator's process, and only until it is
 * destroyed: attaching afterwards fails with ENOENT.
 */
TEST(named_context_outlives_process_until_destroyed)
{
	const char *name = "kselftest-outlive";
	int fd = mt_open(), status;
	struct memtopo_region_desc *d;
	__u32 n;
	pid_t pid;

	ASSERT_LE(0, fd);
	mt_ctx_destroy(fd, name);
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		int cfd = mt_open();

		if (cfd < 0 || mt_attach(cfd, name, MEMTOPO_ATTACH_CREATE, NULL) ||
		    mt_region_create(cfd, MEMTOPO_KIND_RAM, "kept", 0x1000,
				     MEMTOPO_OP_F_KERNEL_BACKING) < 0)
			_exit(1);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	ASSERT_EQ(0, mt_attach(fd, name, 0, NULL));
	ASSERT_EQ(0, mt_get_regions(fd, &d, &n));
	ASSERT_EQ(1, n);
	EXPECT_STREQ("kept", d[0].name);
	EXPECT_TRUE(d[0].flags & MEMTOPO_REGION_KERNEL_BACKING);
	free(d);
	EXPECT_EQ(0, mt_ctx_destroy(fd, name));
	close(fd);
	fd = mt_open();
	ASSERT_LE(0, fd);
	EXPECT_EQ(-ENOENT, mt_attach(fd, name, 0, NULL));
	EXPECT_EQ(-ENOENT, mt_ctx_destroy(fd, name));
	close(fd);
}

static int region_count(int fd, __u32 *n)
{
	struct memtopo_region_desc *d;
	int ret = mt_get_regions(fd, &d, n);

	if (!ret)
		free(d);
	return ret;
}

/*
 * Two files on a named context @name made afresh (a run before may have
 * left one): 0, or -errno with neither file open.
 */
static int two_files_on(const char *name, int *fd1, int *fd2)
{
	int ret;

	*fd1 = mt_open();
	*fd2 = mt_open();
	ret = *fd1 < 0 ? *fd1 : *fd2 < 0 ? *fd2 : 0;
	if (!ret) {
		mt_ctx_destroy(*fd1, name);
		ret = mt_attach(*fd1, name, MEMTOPO_ATTACH_CREATE | MEMTOPO_ATTACH_EXCL, NULL) ?:
		      mt_attach(*fd2, name, 0, NULL);
	}
	if (ret) {
		if (*fd1 >= 0)
			close(*fd1);
		if (*fd2 >= 0)
			close(*fd2);
	}
	return ret;
}

/* A MEMTOPO_DIRTY_LOG op that names at most a region and client 0. */
static int dirty_op(int fd, __u32 op, __u32 region)
{
	struct memtopo_dirty_log d = { .op = op, .region = region };

	return mt_dirty_log(fd, &d);
}

/* How many ioeventfds plus coalesced ranges @io has; -1 if unreadable. */
static int io_entries(int fd, __u32 io)
{
	struct memtopo_coalesced_entry *co = NULL;
	struct memtopo_ioeventfd_entry *ev = NULL;
	__u32 nr_co, nr_ev;

	if (mt_ioeventfd_list(fd, io, &ev, &nr_ev) || mt_coalesced_list(fd, io, &co, &nr_co))
		return -1;
	free(ev);
	free(co);
	return nr_ev + nr_co;
}

/*
 * Every kind of change @fd2 may not make while another file's transaction
 * is open on its context, adds and removals: with @busy each must be EBUSY
 * and write nothing back; without, the same calls must succeed (and are
 * then undone).  @kept_efd is registered at 0x100 of @io, beside a
 * coalesced range there, a dirty log reference on @ram and a global log:
 * what the removals remove.
 */
static void other_file_changes(struct __test_metadata *_metadata, int fd2, int busy,
			       __u32 io, __u32 ram, int kept_efd)
{
	int efd = eventfd(0, EFD_CLOEXEC), want = busy ? -EBUSY : 0;
	struct memtopo_op op;
	struct memtopo_batch b = {
		.size = sizeof(b), .count = 1, .op_size = sizeof(op), .ops = (uintptr_t)&op,
		.error_index = 0x5a5a5a5a,
	};
	struct memtopo_txn t = { .size = sizeof(t), .op = MEMTOPO_TXN_BEGIN, .depth = 77 };
	int id;

	ASSERT_LE(0, efd);
	id = mt_region_create(fd2, MEMTOPO_KIND_CONTAINER, "late", 0x1000, 0);
	if (busy) {
		EXPECT_EQ(-EBUSY, id)
			TH_LOG("another file's change was taken into an open transaction");
	} else {
		EXPECT_LT(0, id) TH_LOG("create after the commit: %s", strerror(-id));
	}
	mt_op_init(&op, MEMTOPO_OP_REGION_CREATE);
	op.kind = MEMTOPO_KIND_CONTAINER;
	op.length = 0x1000;
	EXPECT_EQ(want, ioctl(fd2, MEMTOPO_BATCH, &b) ? -errno : 0);
	if (busy)
		EXPECT_EQ(0x5a5a5a5a, b.error_index) TH_LOG("a refused batch wrote its struct");
	EXPECT_EQ(want, mt_ioeventfd(fd2, io, efd, 0, 4, 0, 0));
	EXPECT_EQ(want, mt_coalesced(fd2, io, 0, 0x10, 0));
	EXPECT_EQ(want, dirty_op(fd2, MEMTOPO_DIRTY_LOG_REF, ram));
	EXPECT_EQ(want, dirty_op(fd2, MEMTOPO_DIRTY_GLOBAL_START, 0));
	EXPECT_EQ(want, ioctl(fd2, MEMTOPO_TXN, &t) ? -errno : 0);
	if (!busy) {
		EXPECT_EQ(0, mt_txn(fd2, MEMTOPO_TXN_COMMIT, NULL));
		EXPECT_EQ(0, mt_region_destroy(fd2, op.id));
	}
	/* the removals: of this call's adds, then of what was there before */
	EXPECT_EQ(want, dirty_op(fd2, MEMTOPO_DIRTY_GLOBAL_STOP, 0));
	EXPECT_EQ(want, dirty_op(fd2, MEMTOPO_DIRTY_LOG_UNREF, ram));
	if (!busy) {
		EXPECT_EQ(0, mt_coalesced(fd2, io, 0, 0x10, MEMTOPO_COALESCED_DEL));
		EXPECT_EQ(0, mt_ioeventfd(fd2, io, efd, 0, 4, MEMTOPO_IOEVENTFD_DEASSIGN, 0));
	}
	EXPECT_EQ(want, mt_coalesced(fd2, io, 0x100, 0x10, MEMTOPO_COALESCED_DEL));
	EXPECT_EQ(want, mt_ioeventfd(fd2, io, kept_efd, 0x100, 4, MEMTOPO_IOEVENTFD_DEASSIGN, 0));
	if (busy) {
		EXPECT_EQ(77, t.depth) TH_LOG("a refused BEGIN wrote its struct");
		EXPECT_EQ(2, io_entries(fd2, io)) TH_LOG("a refused call changed @io's lists");
		EXPECT_EQ(0, dirty_op(fd2, MEMTOPO_DIRTY_GLOBAL_SYNC, 0))
			TH_LOG("a sync changes nothing: it is not refused");
	} else {
		EXPECT_EQ(0, io_entries(fd2, io));
		/* the reference taken before the transaction, and no other */
		EXPECT_EQ(0, dirty_op(fd2, MEMTOPO_DIRTY_LOG_UNREF, ram));
		EXPECT_EQ(-EINVAL, dirty_op(fd2, MEMTOPO_DIRTY_LOG_UNREF, ram));
	}
	close(efd);
}

/*
 * Two files on one named context: the second file's changes while the
 * first has a transaction open would join it, stay unpublished, and be
 * undone if its commit failed; they are refused instead.
 */
TEST(txn_belongs_to_its_file)
{
	const char *name = "kselftest-txn-owner";
	int fd1, fd2, kept_efd = eventfd(0, EFD_CLOEXEC), kept, io, ram;
	__u32 depth, n;

	ASSERT_LE(0, kept_efd);
	ASSERT_EQ(0, two_files_on(name, &fd1, &fd2));
	kept = mt_region_create(fd2, MEMTOPO_KIND_CONTAINER, "kept", 0x1000, 0);
	ASSERT_LT(0, kept);
	io = mt_region_create(fd2, MEMTOPO_KIND_IO, "io", 0x1000, 0);
	ASSERT_LT(0, io);
	ram = mt_region_create(fd2, MEMTOPO_KIND_RAM, "ram", 0x1000, 0);
	ASSERT_LT(0, ram);
	ASSERT_EQ(0, mt_ioeventfd(fd2, io, kept_efd, 0x100, 4, 0, 0));
	ASSERT_EQ(0, mt_coalesced(fd2, io, 0x100, 0x10, 0));
	ASSERT_EQ(0, dirty_op(fd2, MEMTOPO_DIRTY_LOG_REF, ram));
	ASSERT_EQ(0, dirty_op(fd2, MEMTOPO_DIRTY_GLOBAL_START, 0));

	ASSERT_EQ(0, mt_txn(fd1, MEMTOPO_TXN_BEGIN, &depth));
	ASSERT_EQ(1, depth);
	other_file_changes(_metadata, fd2, 1, io, ram, kept_efd);
	EXPECT_EQ(-EBUSY, mt_region_destroy(fd2, kept));
	/* refused calls changed nothing, and reading is allowed */
	ASSERT_EQ(0, region_count(fd2, &n));
	EXPECT_EQ(3, n);
	/* the owner's own changes go on */
	EXPECT_LT(0, mt_region_create(fd1, MEMTOPO_KIND_CONTAINER, "owner", 0x1000, 0));
	ASSERT_EQ(0, mt_txn(fd1, MEMTOPO_TXN_COMMIT, &depth));
	EXPECT_EQ(0, depth);

	/* the same calls, the transaction closed: they go through */
	other_file_changes(_metadata, fd2, 0, io, ram, kept_efd);
	ASSERT_EQ(0, region_count(fd2, &n));
	EXPECT_EQ(5, n);
	EXPECT_EQ(0, mt_txn(fd2, MEMTOPO_TXN_BEGIN, &depth));
	EXPECT_EQ(-EBUSY, mt_region_destroy(fd1, kept));
	EXPECT_EQ(0, mt_txn(fd2, MEMTOPO_TXN_COMMIT, &depth));
	EXPECT_EQ(0, mt_region_destroy(fd1, kept));

	close(kept_efd);
	EXPECT_EQ(0, mt_ctx_destroy(fd1, name));
	close(fd2);
	close(fd1);
}

/*
 * A file subscribed to a space that another file's transaction created:
 * when that transaction's commit fails the space is undone, and the
 * subscription, which the other file's rollback cannot remove, ends: its
 * eventfd fires and READ_EVENTS is ENODEV until it is unsubscribed.
 */
TEST(subscription_to_another_files_undone_space)
{
	const char *name = "kselftest-undone-sub";
	int fd1, fd2, efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	struct memtopo_event ev;
	struct undone u;
	__u32 sub, n = 1;
	__u64 fired = 0;

	ASSERT_LE(0, efd);
	ASSERT_EQ(0, two_files_on(name, &fd1, &fd2));
	ASSERT_EQ(0, undone_begin(fd1, &u));
	ASSERT_EQ(0, mt_subscribe(fd2, u.space, efd, 0, 0, &sub));
	ASSERT_EQ(-ENOSPC, undone_commit(fd1, u.root, u.bank));
	EXPECT_EQ(sizeof(fired), read(efd, &fired, sizeof(fired)))
		TH_LOG("the end of the other file's subscription woke nobody");
	EXPECT_EQ(-ENODEV, mt_read_events(fd2, sub, &ev, &n, NULL));
	EXPECT_EQ(0, mt_unsubscribe(fd2, sub));

	EXPECT_EQ(0, mt_ctx_destroy(fd1, name));
	close(efd);
	close(fd2);
	close(fd1);
}

/* An ioctl on a thread of its own, to be held inside the kernel. */
struct bg_call {
	int fd;
	unsigned long req;
	void *arg;
	pid_t tid;
	int ret;	/* 0 or -errno */
};

static void *bg_call_run(void *opaque)
{
	struct bg_call *c = opaque;

	__atomic_store_n(&c->tid, (pid_t)syscall(SYS_gettid), __ATOMIC_SEQ_CST);
	c->ret = ioctl(c->fd, c->req, c->arg) ? -errno : 0;
	return NULL;
}

static pid_t bg_tid(struct bg_call *c)
{
	while (!__atomic_load_n(&c->tid, __ATOMIC_SEQ_CST))
		usleep(1000);
	return c->tid;
}

/*
 * MEMTOPO_CTX_ATTACH with MEMTOPO_ATTACH_CREATE looks the name up, answers,
 * and looks it up again to carry the answer out.  If another file created
 * the name in between, it goes round again and attaches to that context;
 * the context it had made for the name must then be freed (the debug
 * VM's kmemleak scan reports one that is not).  The window is held open
 * without a race: a GET_REGIONS on the same file, its records a
 * userfaultfd page not yet there, holds the file's lock; the attach passes
 * its write probe and waits for that lock; its struct's page is then taken
 * away, so that its answer, after the first lookup, faults too, and
 * another file creates the name before the page comes back.
 */
TEST(named_create_loses_race)
{
	const char *name = "kselftest-race";
	long page = sysconf(_SC_PAGESIZE);
	struct memtopo_get_regions gr = {
		.size = sizeof(gr), .count = 1,
		.desc_size = sizeof(struct memtopo_region_desc),
	};
	struct bg_call hold = {}, attach = {};
	int fd = mt_open(), other = mt_open(), uffd, created = -1;
	pthread_t th_hold, th_attach;
	struct memtopo_ctx_attach *a;
	char *mem;

	ASSERT_LE(0, fd);
	ASSERT_LE(0, other);
	mt_ctx_destroy(fd, name);
	ASSERT_LT(0, mt_region_create(fd, MEMTOPO_KIND_RAM, "held", 0x1000, 0));
	mem = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, mem);
	uffd = uffd_register(mem, 2 * page);
	if (uffd < 0)
		SKIP(return, "no userfaultfd: %s", strerror(errno));
	/* the first page stays missing: GET_REGIONS's records; the second is there */
	a = (struct memtopo_ctx_attach *)(mem + page);
	ASSERT_EQ(0, uffd_fill(uffd, (uintptr_t)a));
	a->size = sizeof(*a);
	a->flags = MEMTOPO_ATTACH_CREATE;
	strcpy(a->name, name);

	gr.regions = (uintptr_t)mem;
	hold = (struct bg_call){ .fd = fd, .req = MEMTOPO_GET_REGIONS, .arg = &gr };
	ASSERT_EQ(0, pthread_create(&th_hold, NULL, bg_call_run, &hold));
	ASSERT_EQ((uintptr_t)mem, uffd_wait_fault(uffd)) TH_LOG("GET_REGIONS never faulted");
	attach = (struct bg_call){ .fd = fd, .req = MEMTOPO_CTX_ATTACH, .arg = a };
	ASSERT_EQ(0, pthread_create(&th_attach, NULL, bg_call_run, &attach));
	ASSERT_EQ(0, wait_blocked(bg_tid(&attach))) TH_LOG("the attach never waited for the lock");
	ASSERT_EQ(0, madvise(a, page, MADV_DONTNEED));
	ASSERT_EQ(0, uffd_fill(uffd, (uintptr_t)mem));
	ASSERT_EQ((uintptr_t)a, uffd_wait_fault(uffd)) TH_LOG("the attach never answered");

	/* between the attach's two lookups */
	EXPECT_EQ(0, mt_attach(other, name, MEMTOPO_ATTACH_CREATE, &created));
	EXPECT_EQ(1, created);
	ASSERT_EQ(0, uffd_fill(uffd, (uintptr_t)a));
	pthread_join(th_attach, NULL);
	pthread_join(th_hold, NULL);
	EXPECT_EQ(0, hold.ret);
	EXPECT_EQ(0, attach.ret) TH_LOG("attach: %s", strerror(-attach.ret));
	EXPECT_EQ(0, a->created) TH_LOG("both files created the name");

	/* one context, the other file's: the held file's region went with its own */
	EXPECT_EQ(1, mt_region_create(other, MEMTOPO_KIND_RAM, "shared", 0x1000, 0));
	EXPECT_EQ(2, mt_region_create(fd, MEMTOPO_KIND_RAM, "second", 0x1000, 0));
	EXPECT_EQ(0, mt_ctx_destroy(fd, name));
	close(uffd);
	munmap(mem, 2 * page);
	close(other);
	close(fd);
}

struct bg_read {
	int fd;
	void *buf;
	size_t len;
	ssize_t ret;
};

static void *bg_read_run(void *opaque)
{
	struct bg_read *r = opaque;

	r->ret = read(r->fd, r->buf, r->len);
	return NULL;
}

/*
 * MEMTOPO_CTX_DESTROY frees the name at once, but removes the context's
 * debugfs directory only once the reads in progress are done.  A context
 * created under the same name meanwhile must still get its directory,
 * showing its own map.  Without a race: a read of the old directory's
 * mtree, into a userfaultfd page not yet there, keeps the destroy waiting
 * while the name is created again.
 */
TEST(named_recreated_during_destroy_keeps_debugfs)
{
	const char *name = "kselftest-redo", *path = DBG "/kselftest-redo/mtree";
	struct memtopo_ctx_destroy d = { .size = sizeof(d) };
	int fd = mt_open(), other = mt_open(), third = mt_open(), uffd, dfd, root, created = 0;
	long page = sysconf(_SC_PAGESIZE);
	struct bg_call destroy = {};
	struct bg_read reader = {};
	pthread_t th_read, th_destroy;
	char *mem, *text;

	ASSERT_LE(0, fd);
	ASSERT_LE(0, other);
	ASSERT_LE(0, third);
	if (access(DBG, F_OK))
		SKIP(return, "no %s", DBG);
	mt_ctx_destroy(fd, name);
	ASSERT_EQ(0, mt_attach(fd, name, MEMTOPO_ATTACH_CREATE, NULL));
	root = mt_region_create(fd, MEMTOPO_KIND_CONTAINER, "old-root", 0x1000, 0);
	ASSERT_LT(0, root);
	ASSERT_LT(0, mt_space_create(fd, "old-space", root));
	mem = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, mem);
	uffd = uffd_register(mem, page);
	if (uffd < 0)
		SKIP(return, "no userfaultfd: %s", strerror(errno));
	dfd = open(path, O_RDONLY);
	ASSERT_LE(0, dfd) TH_LOG("%s: %s", path, strerror(errno));

	reader = (struct bg_read){ .fd = dfd, .buf = mem, .len = page };
	ASSERT_EQ(0, pthread_create(&th_read, NULL, bg_read_run, &reader));
	ASSERT_EQ((uintptr_t)mem, uffd_wait_fault(uffd)) TH_LOG("the read never faulted");
	strcpy(d.name, name);
	destroy = (struct bg_call){ .fd = other, .req = MEMTOPO_CTX_DESTROY, .arg = &d };
	ASSERT_EQ(0, pthread_create(&th_destroy, NULL, bg_call_run, &destroy));
	ASSERT_EQ(0, wait_blocked(bg_tid(&destroy))) TH_LOG("the destroy never waited");

	/* the name is free already: this creates it again */
	EXPECT_EQ(0, mt_attach(third, name, MEMTOPO_ATTACH_CREATE, &created));
	EXPECT_EQ(1, created);
	root = mt_region_create(third, MEMTOPO_KIND_CONTAINER, "new-root", 0x1000, 0);
	ASSERT_LT(0, root);
	ASSERT_LT(0, mt_space_create(third, "new-space", root));
	ASSERT_EQ(0, uffd_fill(uffd, (uintptr_t)mem));
	pthread_join(th_read, NULL);
	pthread_join(th_destroy, NULL);
	EXPECT_LT(0, reader.ret);
	EXPECT_EQ(0, destroy.ret) TH_LOG("destroy: %s", strerror(-destroy.ret));
	close(dfd);

	text = read_file(path);
	ASSERT_NE(NULL, text) TH_LOG("the re-created context has no %s", path);
	EXPECT_NE(NULL, strstr(text, "new-space")) TH_LOG("%s shows:\n%s", path, text);
	EXPECT_EQ(NULL, strstr(text, "old-space")) TH_LOG("%s shows:\n%s", path, text);
	EXPECT_EQ(0, mt_ctx_destroy(third, name));
	close(uffd);
	munmap(mem, page);
	close(third);
	close(other);
	close(fd);
}

TEST_HARNESS_MAIN
