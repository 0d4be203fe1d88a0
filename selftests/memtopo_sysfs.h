/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The module's parameters and debugfs files, read and written by the
 * selftests that need a module-wide setting or a context's statistics.
 */
#ifndef MEMTOPO_SELFTEST_SYSFS_H
#define MEMTOPO_SELFTEST_SYSFS_H

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DBG		"/sys/kernel/debug/memtopo"
#define PARAM_MEM_MAX	"/sys/module/memtopo/parameters/ctx_mem_max"
#define PARAM_NAMED_MAX	"/sys/module/memtopo/parameters/named_max_per_user"
#define PARAM_HISTORY_SHARE	"/sys/module/memtopo/parameters/history_share"

/* The file's text, in a buffer the next call reuses; NULL if unreadable. */
static inline char *read_file(const char *path)
{
	static char buf[8192];
	ssize_t n;
	int fd = open(path, O_RDONLY);

	if (fd < 0)
		return NULL;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0)
		return NULL;
	buf[n] = '\0';
	return buf;
}

static inline int write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, text, strlen(text));
	close(fd);
	return n < 0 ? -errno : 0;
}

static inline int write_long(const char *path, long v)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%ld", v);
	return write_file(path, buf);
}

/*
 * A module parameter's value (-1 if unreadable), and @set written in its
 * place unless negative: a test sets one and puts the old value back.
 */
static inline long swap_param(const char *path, long set)
{
	char *s = read_file(path);
	long old = s ? atol(s) : -1;

	if (s && set >= 0 && write_long(path, set))
		return -1;
	return old;
}

#endif
