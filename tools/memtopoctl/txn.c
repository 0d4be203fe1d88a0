// SPDX-License-Identifier: GPL-2.0
/*
 * txn FILE|-: a scripted transaction.  memtopoctl is one process per
 * command and a transaction (MEMTOPO_TXN) belongs to the file that opened
 * it and is committed when that file closes, so `txn begin` and `txn
 * commit` cannot be two commands.  Instead `txn` opens the transaction on
 * its own file, runs every line of the script as a memtopoctl command (map
 * changes, ioeventfd, coalesced, dirty ...) in this process on that same
 * file (the kernel refuses changes from any other file of the context
 * while the transaction is open: EBUSY), and commits:
 * the context renders and its listeners and subscribers hear about
 * everything once, at the commit.  The ABI has no abort: a line that fails
 * stops the script and what ran before it is committed (its output says
 * which line).  For all-or-nothing map changes use `script`, one batch.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "memtopoctl.h"

static int do_txn(int argc, char **argv)
{
	int fd, ret = 0, done = 0, nwords;
	struct script sc;
	__u32 depth;

	if (argc != 2)
		die_usage("txn FILE|-");
	if (script_open(&sc, argv[1]))
		return 1;
	fd = open_ctx(true);
	ret = mt_txn(fd, MEMTOPO_TXN_BEGIN, &depth);
	if (ret) {
		fprintf(stderr, "memtopoctl: txn begin: %s\n", strerror(-ret));
		return 1;
	}
	txn_fd = fd;
	while ((nwords = script_next(&sc)) > 0) {
		const struct cmd *c;
		char **words = sc.words;

		if (!strcmp(words[0], "txn") || !strcmp(words[0], "script") ||
		    !strcmp(words[0], "destroy") || !strcmp(words[0], "watch") ||
		    !strcmp(words[0], "serve")) {
			fprintf(stderr, "%s:%d: %s cannot run inside a transaction\n", sc.path,
				sc.lineno, words[0]);
			ret = 2;
			break;
		}
		c = cmd_find(words[0]);
		ret = c ? c->func(nwords, words) : do_op(nwords, words);
		if (ret) {
			fprintf(stderr, "%s:%d: failed; %d earlier command%s committed\n", sc.path,
				sc.lineno, done, done == 1 ? " is" : "s are");
			break;
		}
		done++;
	}
	if (nwords < 0)
		ret = 2;
	script_close(&sc);
	txn_fd = -1;
	/* the commit renders everything at once; a render error undid it all */
	if (mt_txn(fd, MEMTOPO_TXN_COMMIT, &depth)) {
		fprintf(stderr, "memtopoctl: txn commit: %s\n", strerror(errno));
		return 1;
	}
	if (json_output && !ret) {
		jopen('{');
		jnum("commands", done);
		jclose('}');
		putchar('\n');
	}
	return ret;
}

const struct cmd txn_cmds[] = {
	{ "txn",	do_txn },
	{}
};
