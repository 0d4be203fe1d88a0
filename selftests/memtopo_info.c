// SPDX-License-Identifier: GPL-2.0
/*
 * MEMTOPO_GET_INFO and the errno contract every memtopo ioctl shares
 * (uapi/linux/memtopo.h): size-first structs, reserved fields, flags.
 */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/memtopo.h>

#include "kselftest_harness.h"

FIXTURE(info) {
	int fd;
};

FIXTURE_SETUP(info)
{
	self->fd = open("/dev/memtopo", O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->fd) TH_LOG("open /dev/memtopo: %s", strerror(errno));
}

FIXTURE_TEARDOWN(info)
{
	close(self->fd);
}

TEST_F(info, reports_abi_and_limits)
{
	struct memtopo_info info = { .size = sizeof(info) };

	ASSERT_EQ(0, ioctl(self->fd, MEMTOPO_GET_INFO, &info));
	EXPECT_EQ(MEMTOPO_ABI_VERSION, info.abi_version);
	EXPECT_EQ(sizeof(info), info.size);
	EXPECT_LT(1, info.max_depth);
	EXPECT_LT(0, info.max_alias_chain);
	EXPECT_LE(info.max_spaces, info.max_regions);
	EXPECT_LT(1, info.max_name);
}

TEST_F(info, short_size_is_einval)
{
	struct memtopo_info info = { .size = offsetof(struct memtopo_info, __reserved) };

	EXPECT_EQ(-1, ioctl(self->fd, MEMTOPO_GET_INFO, &info));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(0, info.abi_version);
}

TEST_F(info, longer_size_zero_tail_is_accepted)
{
	struct {
		struct memtopo_info info;
		__u64 tail[2];
	} big;

	memset(&big, 0, sizeof(big));
	big.info.size = sizeof(big);
	ASSERT_EQ(0, ioctl(self->fd, MEMTOPO_GET_INFO, &big));
	EXPECT_EQ(MEMTOPO_ABI_VERSION, big.info.abi_version);
	EXPECT_EQ(0, big.tail[0]);
	EXPECT_EQ(0, big.tail[1]);
}

TEST_F(info, longer_size_nonzero_tail_is_e2big)
{
	struct {
		struct memtopo_info info;
		__u64 tail;
	} big;

	memset(&big, 0, sizeof(big));
	big.info.size = sizeof(big);
	big.tail = 1;
	EXPECT_EQ(-1, ioctl(self->fd, MEMTOPO_GET_INFO, &big));
	EXPECT_EQ(E2BIG, errno);
}

TEST_F(info, flags_and_reserved_must_be_zero)
{
	struct memtopo_info info = { .size = sizeof(info), .flags = 1 };

	EXPECT_EQ(-1, ioctl(self->fd, MEMTOPO_GET_INFO, &info));
	EXPECT_EQ(EINVAL, errno);
	memset(&info, 0, sizeof(info));
	info.size = sizeof(info);
	info.__reserved[ARRAY_SIZE(info.__reserved) - 1] = 1;
	EXPECT_EQ(-1, ioctl(self->fd, MEMTOPO_GET_INFO, &info));
	EXPECT_EQ(EINVAL, errno);
}

TEST_F(info, bad_pointer_is_efault)
{
	EXPECT_EQ(-1, ioctl(self->fd, MEMTOPO_GET_INFO, (void *)16));
	EXPECT_EQ(EFAULT, errno);
}

TEST_F(info, unknown_ioctl_is_enotty)
{
	struct memtopo_info info = { .size = sizeof(info) };

	EXPECT_EQ(-1, ioctl(self->fd, _IO(MEMTOPO_TYPE, MEMTOPO_CMD_BASE + 0x7f), &info));
	EXPECT_EQ(ENOTTY, errno);
	EXPECT_EQ(-1, ioctl(self->fd, _IO(MEMTOPO_TYPE + 1, MEMTOPO_CMD_BASE), &info));
	EXPECT_EQ(ENOTTY, errno);
}

TEST(two_opens_are_independent)
{
	struct memtopo_info info = { .size = sizeof(info) };
	int a = open("/dev/memtopo", O_RDWR | O_CLOEXEC);
	int b = open("/dev/memtopo", O_RDWR | O_CLOEXEC);

	ASSERT_LE(0, a);
	ASSERT_LE(0, b);
	ASSERT_EQ(0, close(a));
	EXPECT_EQ(0, ioctl(b, MEMTOPO_GET_INFO, &info));
	EXPECT_EQ(0, close(b));
}

TEST_HARNESS_MAIN
