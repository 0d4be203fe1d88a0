// SPDX-License-Identifier: GPL-2.0
/*
 * memtopoctl serve: answer an I/O or ROM-device region's accesses from
 * userspace (MEMTOPO_SERVE), with one of a few small device models:
 *   regs          a register file: writes are stored, reads return them
 *   table FILE|-  reads answered from "OFFSET VALUE" lines (a script or
 *                 stdin); other offsets read as 0; writes stored and printed
 *   uart          the transmit side of a 16550: bytes written at offset 0
 *                 go to stdout; the line status register (offset 5) reads
 *                 "transmitter empty" (0x60)
 *   rtc           an MC146818 CMOS clock: index register at offset 0, data
 *                 at offset 1, the host's UTC time in BCD
 * The server runs until the region is destroyed (end of file on the
 * device fd), --count requests were answered, or it is killed.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "memtopoctl.h"

#define SERVE_REGS	4096

struct model {
	const char *name;
	__u64 (*read)(struct model *m, __u64 offset, __u32 len);
	void (*write)(struct model *m, __u64 offset, __u32 len, __u64 data);
	__u8 regs[SERVE_REGS];
	__u8 index;		/* rtc */
	bool log;
};

static __u64 regs_load(struct model *m, __u64 offset, __u32 len)
{
	__u64 v = 0;
	__u32 i;

	for (i = 0; i < len && offset + i < SERVE_REGS; i++)
		v |= (__u64)m->regs[offset + i] << (8 * i);
	return v;
}

static void regs_store(struct model *m, __u64 offset, __u32 len, __u64 data)
{
	__u32 i;

	for (i = 0; i < len && offset + i < SERVE_REGS; i++)
		m->regs[offset + i] = data >> (8 * i);
}

static void table_write(struct model *m, __u64 offset, __u32 len, __u64 data)
{
	printf("write 0x%llx/%u = 0x%llx\n", (unsigned long long)offset, len,
	       (unsigned long long)data);
	fflush(stdout);
	regs_store(m, offset, len, data);
}

#define UART_THR	0
#define UART_LSR	5
#define UART_LSR_TEMT_THRE	0x60

static __u64 uart_read(struct model *m, __u64 offset, __u32 len)
{
	return offset == UART_LSR ? UART_LSR_TEMT_THRE : 0;
}

static void uart_write(struct model *m, __u64 offset, __u32 len, __u64 data)
{
	if (offset != UART_THR)
		return;
	/* a terminal's byte: straight out, unbuffered */
	putchar((int)(data & 0xff));
	fflush(stdout);
}

static __u8 bcd(int v)
{
	return (v / 10) << 4 | v % 10;
}

static __u64 rtc_read(struct model *m, __u64 offset, __u32 len)
{
	time_t now = time(NULL);
	struct tm tm;

	if (offset != 1)
		return m->index;
	gmtime_r(&now, &tm);
	switch (m->index) {
	case 0x00: return bcd(tm.tm_sec);
	case 0x02: return bcd(tm.tm_min);
	case 0x04: return bcd(tm.tm_hour);
	case 0x06: return bcd(tm.tm_wday + 1);
	case 0x07: return bcd(tm.tm_mday);
	case 0x08: return bcd(tm.tm_mon + 1);
	case 0x09: return bcd(tm.tm_year % 100);
	case 0x0a: return 0x26;		/* 32.768 kHz, no update in progress */
	case 0x0b: return 0x02;		/* BCD, 24-hour */
	case 0x0d: return 0x80;		/* battery good */
	case 0x32: return bcd(19 + tm.tm_year / 100);
	default: return 0;
	}
}

static void rtc_write(struct model *m, __u64 offset, __u32 len, __u64 data)
{
	if (offset == 0)
		m->index = data & 0x7f;	/* bit 7 is the NMI mask */
}

static int table_load(struct model *m, const char *path)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "r") : stdin;
	unsigned long long off, val;
	char line[256];
	int n = 0;

	if (!f) {
		fprintf(stderr, "memtopoctl: serve: %s: %s\n", path, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		char *p = line + strspn(line, " \t");

		n++;
		if (*p == '#' || *p == '\n' || !*p)
			continue;
		if (sscanf(p, "%lli %lli", &off, &val) != 2 || off >= SERVE_REGS) {
			fprintf(stderr, "memtopoctl: serve: %s:%d: want OFFSET VALUE\n", path, n);
			if (f != stdin)
				fclose(f);
			return -1;
		}
		regs_store(m, off, 1, val);
	}
	if (f != stdin)
		fclose(f);
	return 0;
}

static void serve_usage(void)
{
	fputs("usage: memtopoctl serve REGION regs|table FILE|uart|rtc\n"
	      "       [--timeout MS] [--count N] [--log]\n", stderr);
	exit(2);
}

static int do_serve(int argc, char **argv)
{
	static struct model m;
	struct names nm = {};
	char err[160];
	struct memtopo_serve s = { .size = sizeof(s) };
	struct memtopo_served_req q[32];
	struct memtopo_served_reply r[32];
	unsigned long long count = 0, done = 0;
	int fd, ret, i, k, argi = 3;
	ssize_t got;
	__u32 region;

	if (argc < 3)
		serve_usage();
	m.name = argv[2];
	m.read = regs_load;
	m.write = regs_store;
	if (!strcmp(m.name, "table")) {
		if (argc < 4 || table_load(&m, argv[3]))
			serve_usage();
		m.write = table_write;
		argi = 4;
	} else if (!strcmp(m.name, "uart")) {
		m.read = uart_read;
		m.write = uart_write;
	} else if (!strcmp(m.name, "rtc")) {
		m.read = rtc_read;
		m.write = rtc_write;
	} else if (strcmp(m.name, "regs")) {
		serve_usage();
	}
	for (i = argi; i < argc; i++) {
		if (!strcmp(argv[i], "--timeout") && i + 1 < argc)
			s.timeout_ms = strtoul(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "--count") && i + 1 < argc)
			count = strtoull(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "--log"))
			m.log = true;
		else
			serve_usage();
	}

	fd = open_ctx(false);
	ret = resolve(fd, &nm, argv[1], false, &region, err, sizeof(err));
	if (ret) {
		fprintf(stderr, "memtopoctl: serve: %s\n", err);
		return 1;
	}
	s.region = region;
	if (ioctl(fd, MEMTOPO_SERVE, &s)) {
		fprintf(stderr, "memtopoctl: serve %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	/* the device fd is all we need: the region stays with the context */
	close(fd);
	fprintf(stderr, "memtopoctl: serving %s (#%u) as %s\n", argv[1], region, m.name);

	while (!count || done < count) {
		got = read(s.out_fd, q, sizeof(q));
		if (got == 0)
			break;			/* the region was destroyed */
		if (got < 0) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "memtopoctl: serve: %s\n", strerror(errno));
			return 1;
		}
		k = got / sizeof(q[0]);
		for (i = 0; i < k; i++) {
			bool w = q[i].flags & MEMTOPO_SERVED_WRITE;

			r[i] = (struct memtopo_served_reply){ .seq = q[i].seq };
			if (w)
				m.write(&m, q[i].offset, q[i].len, q[i].data);
			else
				r[i].data = m.read(&m, q[i].offset, q[i].len);
			if (m.log)
				fprintf(stderr, "serve: #%llu %s 0x%llx/%u %s 0x%llx\n",
					(unsigned long long)q[i].seq, w ? "write" : "read",
					(unsigned long long)q[i].offset, q[i].len, w ? "<-" : "->",
					(unsigned long long)(w ? q[i].data : r[i].data));
		}
		for (i = 0; i < k;) {
			got = write(s.out_fd, &r[i], (k - i) * sizeof(r[0]));
			if (got > 0) {
				i += got / sizeof(r[0]);
			} else if (errno == ENOENT) {
				i++;	/* its accessor was killed or timed out */
			} else {
				fprintf(stderr, "memtopoctl: serve: reply: %s\n", strerror(errno));
				return 1;
			}
		}
		done += k;
	}
	return 0;
}

const struct cmd serve_cmds[] = {
	{ "serve",	do_serve },
	{}
};
