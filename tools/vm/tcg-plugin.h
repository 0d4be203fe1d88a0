/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The part of QEMU 7.2's TCG plugin API (version 1, as Debian bookworm's
 * qemu-system-x86 exports it) that tools/vm/tcg-count.c uses, declared
 * here: the distribution ships no header for it.
 */
#ifndef TCG_PLUGIN_H
#define TCG_PLUGIN_H

#include <stdbool.h>
#include <stddef.h>

#define QEMU_PLUGIN_VERSION	1

struct qemu_plugin_tb;
struct qemu_plugin_insn;

typedef void (*tcg_count_exec_cb)(unsigned int vcpu, void *udata);
typedef void (*tcg_count_mem_cb)(unsigned int vcpu, unsigned int info,
				 unsigned long long vaddr, void *udata);
typedef void (*tcg_count_trans_cb)(unsigned long long id, struct qemu_plugin_tb *tb);

#define QEMU_PLUGIN_CB_NO_REGS	0
#define QEMU_PLUGIN_MEM_RW	3

void qemu_plugin_register_vcpu_tb_trans_cb(unsigned long long id, tcg_count_trans_cb cb);
void qemu_plugin_register_vcpu_tb_exec_cb(struct qemu_plugin_tb *tb, tcg_count_exec_cb cb,
					  int flags, void *udata);
void qemu_plugin_register_vcpu_insn_exec_cb(struct qemu_plugin_insn *insn, tcg_count_exec_cb cb,
					    int flags, void *udata);
void qemu_plugin_register_vcpu_mem_cb(struct qemu_plugin_insn *insn, tcg_count_mem_cb cb,
				      int flags, int rw, void *udata);
size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb *tb);
struct qemu_plugin_insn *qemu_plugin_tb_get_insn(const struct qemu_plugin_tb *tb, size_t idx);
const void *qemu_plugin_insn_data(const struct qemu_plugin_insn *insn);
size_t qemu_plugin_insn_size(const struct qemu_plugin_insn *insn);
bool qemu_plugin_mem_is_store(unsigned int info);
void qemu_plugin_outs(const char *string);

#endif
