/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _SHIM_MODULE_H
#define _SHIM_MODULE_H
#include "shim_base.h"
struct module;
#define THIS_MODULE ((struct module *)0)
static inline bool try_module_get(struct module *m) { (void)m; return true; }
static inline void module_put(struct module *m) { (void)m; }
#endif
