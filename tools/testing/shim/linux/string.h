/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _SHIM_STRING_H
#define _SHIM_STRING_H
#include "shim_base.h"
const char *kstrdup_const(const char *s, gfp_t g);
void kfree_const(const void *p);
ssize_t strscpy(char *dst, const char *src, size_t n);
void *memchr_inv(const void *p, int c, size_t n);
#endif
