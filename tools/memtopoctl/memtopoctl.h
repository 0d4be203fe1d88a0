/* SPDX-License-Identifier: GPL-2.0 */
/* memtopoctl internals shared between its source files. */
#ifndef MEMTOPOCTL_H
#define MEMTOPOCTL_H

#include <stdbool.h>

int mt_import_mtree(int fd, const char *path, const char *hints, bool dry_run, bool json,
		    int *nops);
int mt_diff_flat(const char *expected_text, const char *actual_text, bool verbose, bool json);
/* Print @s as a JSON string (quoted, escaped) on stdout. */
void mt_json_str(const char *s);

#endif
