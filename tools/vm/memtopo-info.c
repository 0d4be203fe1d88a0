// SPDX-License-Identifier: GPL-2.0
/*
 * memtopo-info: print MEMTOPO_GET_INFO of /dev/memtopo (the demo of
 * `make run` until memtopoctl replaces it).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/memtopo.h>

int main(int argc, char **argv)
{
	const char *dev = argc > 1 ? argv[1] : "/dev/memtopo";
	struct memtopo_info info = { .size = sizeof(info) };
	int fd;

	fd = open(dev, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "memtopo-info: %s: %s\n", dev, strerror(errno));
		return 1;
	}
	if (ioctl(fd, MEMTOPO_GET_INFO, &info)) {
		fprintf(stderr, "memtopo-info: MEMTOPO_GET_INFO: %s\n", strerror(errno));
		close(fd);
		return 1;
	}
	close(fd);
	printf("abi_version      %u\n", info.abi_version);
	printf("max_depth        %u\n", info.max_depth);
	printf("max_alias_chain  %u\n", info.max_alias_chain);
	printf("max_regions      %u\n", info.max_regions);
	printf("max_spaces       %u\n", info.max_spaces);
	printf("max_name         %u\n", info.max_name);
	return 0;
}
