// SPDX-License-Identifier: GPL-2.0
/*
 * vmm-example: the program Documentation/vmm.rst walks through.  It is the
 * memory half of a tiny VMM, written against <linux/memtopo.h> alone:
 *
 *  1. guest RAM is a memfd, mapped into this process;
 *  2. a named context describes the guest's memory in one batch: the RAM
 *     region backed by the memfd, seen through an alias at 0, and the
 *     "memory" address space (`make run` then adds the rest of a PC to the
 *     same context with memtopoctl);
 *  3. a "guest image" is written through this process's mapping;
 *  4. a kernel consumer reads it: memtopo_vhost (the vhost-like test
 *     module) is handed one request whose input is the image, and answers
 *     with the image's length and byte sum, read through
 *     memtopo_space_map() from the memfd's pages.
 *
 * The context is named, so other processes see the same map and memory:
 * `memtopoctl -c NAME read memory 0x100000 32` reads the image back through
 * MEMTOPO_SPACE_RW.
 *
 *   vmm-example [-c NAME] [-m MiB]
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/memtopo.h>
#include "../../kmod/memtopo_vhost.h"

/* Where the "guest image" goes, as a PC loader puts a kernel at 1 MiB. */
#define IMAGE_GPA	0x100000ull
/* A page of guest RAM for the ring the consumer reads. */
#define RING_GPA	0x8000ull
#define OUT_GPA		0x9000ull

static const char image[] =
	"memtopo guest image: in a memfd, mapped by the VMM, read by the kernel through the map\n";

static int die(const char *what)
{
	fprintf(stderr, "vmm-example: %s: %s\n", what, strerror(errno));
	return 1;
}

/* One operation of a batch; @ref names an earlier one by index. */
static struct memtopo_op op(__u32 code, const char *name)
{
	struct memtopo_op o = { .size = sizeof(o), .op = code };

	if (name)
		snprintf(o.name, sizeof(o.name), "%s", name);
	return o;
}

#define REF(i)	(MEMTOPO_ID_BATCH_REF | (i))

/* The memory map: a PC's RAM, below 4 GiB. */
static int build_map(int fd, int memfd, __u64 ram_size, __u32 *space)
{
	struct memtopo_op ops[5];
	struct memtopo_batch b = {
		.size = sizeof(b), .op_size = sizeof(ops[0]), .ops = (uintptr_t)ops,
	};
	unsigned int n = 0;

	ops[n] = op(MEMTOPO_OP_REGION_CREATE, "system");		/* 0 */
	ops[n++].flags = MEMTOPO_OP_F_SIZE_2_64;
	ops[n] = op(MEMTOPO_OP_REGION_CREATE, "pc.ram");		/* 1 */
	ops[n].kind = MEMTOPO_KIND_RAM;
	ops[n].flags = MEMTOPO_OP_F_FILE_BACKING;	/* the bytes are the memfd's */
	ops[n].backing_fd = memfd;
	ops[n].backing_offset = 0;
	ops[n++].length = ram_size;
	ops[n] = op(MEMTOPO_OP_REGION_CREATE, "ram-below-4g");	/* 2 */
	ops[n].kind = MEMTOPO_KIND_ALIAS;
	ops[n].ref = REF(1);
	ops[n++].length = ram_size;
	ops[n] = op(MEMTOPO_OP_ADD_SUBREGION, NULL);
	ops[n].id = REF(2);
	ops[n++].ref = REF(0);
	ops[n] = op(MEMTOPO_OP_SPACE_CREATE, "memory");		/* 4 */
	ops[n++].ref = REF(0);
	b.count = n;
	if (ioctl(fd, MEMTOPO_BATCH, &b))
		return -errno;
	*space = ops[4].id;
	return 0;
}

/*
 * Ask the kernel consumer to read the image: a two-descriptor request
 * (input: the image; output: a header and the transformed bytes).
 */
static int consumer_read(int fd, __u32 space, __u8 *ram, __u32 *len, __u32 *sum)
{
	struct memtopo_vhost_attach a = { .size = sizeof(a) };
	struct memtopo_vhost_desc *d = (void *)(ram + RING_GPA);
	__u16 *avail = (void *)(ram + RING_GPA + 0x100);
	__u16 *used = (void *)(ram + RING_GPA + 0x200);
	struct memtopo_vhost_out_hdr hdr;
	struct pollfd p;
	__u64 v;
	int vfd;

	vfd = open("/dev/memtopo_vhost", O_RDWR);
	if (vfd < 0)
		return -errno;
	a.memtopo_fd = fd;
	a.space = space;
	a.call_fd = eventfd(0, 0);
	a.num = 2;
	a.desc_addr = RING_GPA;
	a.avail_addr = RING_GPA + 0x100;
	a.used_addr = RING_GPA + 0x200;
	if (a.call_fd < 0 || ioctl(vfd, MEMTOPO_VHOST_ATTACH, &a))
		return -errno;
	d[0] = (struct memtopo_vhost_desc){ .addr = IMAGE_GPA, .len = sizeof(image) - 1,
					    .flags = MEMTOPO_VHOST_DESC_F_NEXT, .next = 1 };
	d[1] = (struct memtopo_vhost_desc){ .addr = OUT_GPA, .len = 0x1000,
					    .flags = MEMTOPO_VHOST_DESC_F_WRITE };
	avail[2] = 0;					/* ring[0]: head 0 */
	__atomic_store_n(&avail[1], 1, __ATOMIC_RELEASE);	/* idx */
	if (ioctl(vfd, MEMTOPO_VHOST_KICK))
		return -errno;
	p = (struct pollfd){ .fd = a.call_fd, .events = POLLIN };
	if (poll(&p, 1, 10000) != 1 || read(a.call_fd, &v, sizeof(v)) != sizeof(v))
		return -ETIMEDOUT;
	if (__atomic_load_n(&used[1], __ATOMIC_ACQUIRE) != 1)
		return -EIO;
	memcpy(&v, used + 2, sizeof(struct memtopo_vhost_used_elem));	/* ring[0] */
	if ((__u32)(v >> 32) & MEMTOPO_VHOST_USED_ERROR)
		return -(int)((__u32)(v >> 32) & ~MEMTOPO_VHOST_USED_ERROR);
	memcpy(&hdr, ram + OUT_GPA, sizeof(hdr));
	*len = hdr.len;
	*sum = hdr.sum;
	close(a.call_fd);
	close(vfd);
	return 0;
}

int main(int argc, char **argv)
{
	struct memtopo_ctx_attach at = { .size = sizeof(at), .flags = MEMTOPO_ATTACH_CREATE };
	const char *name = "vmm-example";
	__u64 ram_size = 16 << 20;
	__u32 space = 0, len = 0, sum = 0, mine = 0;
	__u8 *ram;
	int fd, memfd, c, ret;
	size_t i;

	while ((c = getopt(argc, argv, "c:m:")) != -1) {
		if (c == 'c')
			name = optarg;
		else if (c == 'm')
			ram_size = strtoull(optarg, NULL, 0) << 20;
		else
			return fprintf(stderr, "usage: vmm-example [-c NAME] [-m MiB]\n"), 2;
	}
	if (ram_size < 2 << 20)
		return fprintf(stderr, "vmm-example: -m: at least 2 MiB\n"), 2;

	/* 1. guest RAM: a memfd, mapped here like any VMM maps its RAM */
	memfd = memfd_create("guest-ram", MFD_CLOEXEC);
	if (memfd < 0 || ftruncate(memfd, ram_size))
		return die("memfd");
	ram = mmap(NULL, ram_size, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);
	if (ram == MAP_FAILED)
		return die("mmap");

	/* 2. the memory map, in a context other processes can attach to */
	fd = open("/dev/memtopo", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return die("/dev/memtopo");
	snprintf(at.name, sizeof(at.name), "%s", name);
	if (ioctl(fd, MEMTOPO_CTX_ATTACH, &at))
		return die("MEMTOPO_CTX_ATTACH");
	ret = build_map(fd, memfd, ram_size, &space);
	if (ret)
		return errno = -ret, die("MEMTOPO_BATCH");
	/* the region holds its own reference to the file */
	close(memfd);
	printf("context %s: %llu MiB of memfd RAM at 0, space 'memory' is %u\n", name,
	       (unsigned long long)(ram_size >> 20), space);

	/* 3. the guest image, written through our own mapping */
	memcpy(ram + IMAGE_GPA, image, sizeof(image) - 1);
	for (i = 0; i < sizeof(image) - 1; i++)
		mine += (__u8)image[i];
	printf("wrote %zu bytes of guest image at %#llx\n", sizeof(image) - 1,
	       (unsigned long long)IMAGE_GPA);

	/* 4. a kernel consumer reads it through the map */
	ret = consumer_read(fd, space, ram, &len, &sum);
	if (ret == -ENOENT) {
		printf("memtopo_vhost.ko not loaded: no kernel consumer to ask\n");
		return 0;
	}
	if (ret)
		return errno = -ret, die("kernel consumer");
	printf("kernel consumer read %u bytes, sum %#x (written: %zu bytes, sum %#x): %s\n",
	       len, sum, sizeof(image) - 1, mine,
	       len == sizeof(image) - 1 && sum == mine ? "match" : "MISMATCH");
	return len == sizeof(image) - 1 && sum == mine ? 0 : 1;
}
