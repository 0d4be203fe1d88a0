// SPDX-License-Identifier: GPL-2.0
/*
 * tcg-count: a QEMU TCG plugin that counts what the guest's code costs
 * under TCG between markers the guest executes: guest instructions,
 * translation blocks, loads and stores, and the refills a software TLB
 * like QEMU's would take (direct-mapped by page number, with 8 victim
 * entries; 1024 to 16384 entries, data accesses only: QEMU sizes its
 * TLB at each full flush, see bench_tlb_size() in the benchmark).  Under TCG a
 * lookup's time follows these, not cache misses, and unlike times they
 * do not move with the load of a shared host.
 *
 * A marker is the 7-byte nop "nopl 0x4d5400NN(%rax)" (0f 1f 80 NN 00 54
 * 4d): phase NN (1..255) starts there, phase 0 is not counted.  At each
 * marker the phase that ends is printed to QEMU's log (-d plugin -D FILE)
 * as one line: "tcg-count phase=NN insns=... tbs=... loads=... stores=...
 * tlb1k=... tlb2k=... tlb4k=... tlb8k=... tlb16k=...".  Only the vCPU
 * that ran the last marker counts.
 *
 * tools/vm/bench-kernel --count builds and loads it.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "tcg-plugin.h"

int qemu_plugin_version = QEMU_PLUGIN_VERSION;

enum { C_INSNS, C_TBS, C_LOADS, C_STORES, C_TLB, C_NR = C_TLB + 5 };
static const char *const c_name[C_NR] = {
	"insns", "tbs", "loads", "stores", "tlb1k", "tlb2k", "tlb4k", "tlb8k", "tlb16k"
};

#define VICTIMS 8

struct soft_tlb {
	unsigned int bits;
	unsigned long long *page;	/* page number + 1; 0 is empty */
	unsigned long long victim[VICTIMS];
	unsigned int next_victim;
};

/* tlbs[t] has 1024 << t entries */
static struct soft_tlb tlbs[C_NR - C_TLB];
static unsigned long long count[C_NR];
/* the vCPU whose accesses count; the other one idles meanwhile */
static int active = -1;
static unsigned int phase;

/*
 * One access to page number @pg (stored + 1).  Return: whether it needed
 * a refill: neither its slot nor a victim held it.  As QEMU does, the
 * slot's previous page goes to the victims, round robin, and a victim hit
 * swaps back.
 */
static bool soft_tlb_refill(struct soft_tlb *t, unsigned long long pg)
{
	unsigned long long *slot = &t->page[pg & ((1ULL << t->bits) - 1)];
	unsigned int v;

	if (*slot == pg)
		return false;
	for (v = 0; v < VICTIMS; v++) {
		if (t->victim[v] == pg) {
			t->victim[v] = *slot;
			*slot = pg;
			return false;
		}
	}
	if (*slot)
		t->victim[t->next_victim++ % VICTIMS] = *slot;
	*slot = pg;
	return true;
}

static void on_mem(unsigned int vcpu, unsigned int info, unsigned long long vaddr, void *udata)
{
	unsigned long long pg = (vaddr >> 12) + 1;
	unsigned int t;

	if ((int)vcpu != active)
		return;
	count[qemu_plugin_mem_is_store(info) ? C_STORES : C_LOADS]++;
	for (t = 0; t < C_NR - C_TLB; t++)
		count[C_TLB + t] += soft_tlb_refill(&tlbs[t], pg);
}

static void on_tb(unsigned int vcpu, void *udata)
{
	if ((int)vcpu != active)
		return;
	count[C_INSNS] += (unsigned long)udata;
	count[C_TBS]++;
}

static void on_marker(unsigned int vcpu, void *udata)
{
	char line[256];
	int len, c;

	if (phase) {
		len = snprintf(line, sizeof(line), "tcg-count phase=%u", phase);
		for (c = 0; c < C_NR; c++)
			len += snprintf(line + len, sizeof(line) - len, " %s=%llu", c_name[c],
					count[c]);
		snprintf(line + len, sizeof(line) - len, "\n");
		qemu_plugin_outs(line);
	}
	for (c = 0; c < C_NR; c++)
		count[c] = 0;
	phase = (unsigned long)udata;
	active = vcpu;
}

static bool is_marker(const unsigned char *d, size_t size)
{
	return size == 7 && d[0] == 0x0f && d[1] == 0x1f && d[2] == 0x80 && d[4] == 0 &&
	       d[5] == 0x54 && d[6] == 0x4d;
}

static void on_translate(unsigned long long id, struct qemu_plugin_tb *tb)
{
	size_t n = qemu_plugin_tb_n_insns(tb), i;

	qemu_plugin_register_vcpu_tb_exec_cb(tb, on_tb, QEMU_PLUGIN_CB_NO_REGS,
					     (void *)(unsigned long)n);
	for (i = 0; i < n; i++) {
		struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);
		const unsigned char *d = qemu_plugin_insn_data(insn);

		if (is_marker(d, qemu_plugin_insn_size(insn)))
			qemu_plugin_register_vcpu_insn_exec_cb(insn, on_marker,
							       QEMU_PLUGIN_CB_NO_REGS,
							       (void *)(unsigned long)d[3]);
		qemu_plugin_register_vcpu_mem_cb(insn, on_mem, QEMU_PLUGIN_CB_NO_REGS,
						 QEMU_PLUGIN_MEM_RW, NULL);
	}
}

int qemu_plugin_install(unsigned long long id, const void *info, int argc, char **argv)
{
	unsigned int t;

	for (t = 0; t < C_NR - C_TLB; t++) {
		tlbs[t].bits = 10 + t;
		tlbs[t].page = calloc(1ULL << tlbs[t].bits, sizeof(*tlbs[t].page));
		if (!tlbs[t].page)
			return 1;
	}
	qemu_plugin_register_vcpu_tb_trans_cb(id, on_translate);
	return 0;
}
