// SPDX-License-Identifier: GPL-2.0
/*
 * A deliberately failing kselftest: `make check` runs it in a VM and
 * requires the runner to report exactly one failed test.
 */
#include "kselftest_harness.h"

TEST(passes)
{
	EXPECT_EQ(1, 1);
}

TEST(fails_on_purpose)
{
	EXPECT_EQ(1, 2) TH_LOG("deliberate failure");
}

TEST_HARNESS_MAIN
