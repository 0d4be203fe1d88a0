# SPDX-License-Identifier: GPL-2.0
#
# memtopo: top-level build.  Everything generated goes under build/.
#
#   make                 module(s) + guest tools + selftests for KDIR
#   make KDIR=<tree>     the same against another kernel tree (the debug one)
#   make run             boot the stock kernel in a VM and run the demo
#   make check           the whole suite; ends with "N passed, N failed"
#   make lint            checkpatch --strict, sparse (C=2 W=1), kernel-doc
#   make bench           the engine benchmark (tools/testing)
#   make bench-kernel    the in-kernel lookup/commit benchmark in a VM
#   make kernel          build (or reuse) the debug kernel; prints its tree
#
# See Documentation/testing.rst.

TOP := $(CURDIR)
B := $(TOP)/build

# Stock Debian headers by default; tools/vm/kernel picks the newest version
# that has both headers and a /boot image, so modules match the VM's kernel.
KDIR ?= $(shell $(TOP)/tools/vm/kernel stock 2>/dev/null)
override KDIR := $(abspath $(KDIR))
MODDIR := $(B)/mod/$(notdir $(KDIR))

W ?=
C ?=
# A tree built with `make bzImage modules_prepare` (tools/vm/build-kernel)
# has vmlinux.symvers but no Module.symvers: hand modpost the former.
EXTRA_SYMBOLS := $(if $(wildcard $(KDIR)/Module.symvers),,$(wildcard $(KDIR)/vmlinux.symvers))
CC ?= gcc
GUEST_BIN := $(B)/guest-bin
# The kernel source subset (lint scripts, kselftest harness, gen_init_cpio).
LINUX_TARBALL := /usr/src/linux-source-6.1.tar.xz
LINUX := $(B)/linux
LINUX_FILES := scripts/checkpatch.pl scripts/spelling.txt \
	scripts/const_structs.checkpatch scripts/kernel-doc \
	tools/testing/selftests/kselftest.h \
	tools/testing/selftests/kselftest_harness.h usr/gen_init_cpio.c

# Other tools/<dir>/Makefile (not vm/, not testing/) are built with
# GUEST_BIN=<dir> and install static guest binaries there.
TOOL_DIRS := $(filter-out tools/vm/ tools/testing/,$(dir $(wildcard tools/*/Makefile)))
GUEST_CFLAGS := -O2 -g -Wall -Wextra -static -I$(TOP)/uapi

.PHONY: all modules tools selftests vm-tests run check lint bench bench-kernel kernel linux clean

all: modules tools selftests

# Out-of-tree builds write objects next to the sources, so each kernel gets
# its own mirror of the sources under build/mod/ (mtimes kept: incremental).
# Builds of one mirror are serialised (flock): several people share a tree.
modules:
	@test -f "$(KDIR)/Makefile" || { echo "No kernel tree at KDIR='$(KDIR)': run tools/deps or pass KDIR=" >&2; exit 1; }
	@mkdir -p $(MODDIR)
	@set -e; exec 9>$(MODDIR).lock; flock 9; \
	rsync -a --delete --exclude='*.o' --exclude='*.ko' --exclude='*.mod' \
		--exclude='*.mod.c' --exclude='.*.cmd' --exclude='*.order' \
		--exclude='*.symvers' --exclude='*.a' --exclude='.*.d' \
		$(TOP)/Kbuild $(TOP)/kmod $(TOP)/uapi $(MODDIR)/; \
	echo "$(MAKE) -C $(KDIR) M=$(MODDIR) W=$(W) C=$(C) modules"; \
	$(MAKE) -C $(KDIR) M=$(MODDIR) W=$(W) C=$(C) \
		$(if $(EXTRA_SYMBOLS),KBUILD_EXTRA_SYMBOLS=$(EXTRA_SYMBOLS)) modules

tools: $(GUEST_BIN)/memtopo-info
	@for d in $(TOOL_DIRS); do $(MAKE) -C $$d GUEST_BIN=$(GUEST_BIN) || exit 1; done

$(GUEST_BIN)/memtopo-info: tools/vm/memtopo-info.c uapi/linux/memtopo.h
	@mkdir -p $(@D)
	$(CC) $(GUEST_CFLAGS) -o $@ $<

selftests: linux
	$(MAKE) -C selftests OUT=$(B)/selftests KSFT=$(LINUX)/tools/testing/selftests

# The runner's own tests: a kselftest that must fail (see tools/check).
vm-tests: $(B)/vm-tests/failing_selftest
$(B)/vm-tests/failing_selftest: tools/vm/tests/failing_selftest.c $(LINUX)/.extracted
	@mkdir -p $(@D)
	$(CC) -O2 -Wall -static -I$(LINUX)/tools/testing/selftests -o $@ $<

linux: $(LINUX)/.extracted
$(LINUX)/.extracted: $(LINUX_TARBALL)
	@test -f $(LINUX_TARBALL) || { echo "$(LINUX_TARBALL) missing: run tools/deps" >&2; exit 1; }
	@echo "  EXTRACT $(LINUX_FILES)"
	@rm -rf $(LINUX) && mkdir -p $(LINUX)
	@tar -xJf $(LINUX_TARBALL) -C $(LINUX) --strip-components=1 \
		$(addprefix linux-source-6.1/,$(LINUX_FILES))
	@touch $@

kernel:
	@$(TOP)/tools/vm/build-kernel

run:
	@$(TOP)/tools/deps
	@$(TOP)/tools/vm/run --kernel stock --name demo \
		--files $(TOP)/tools/vm/demo.sh -- sh demo.sh

check:
	@$(TOP)/tools/check

lint: linux
	@$(TOP)/tools/lint

bench:
	@if [ -f tools/testing/Makefile ]; then $(MAKE) -C tools/testing bench; \
	else echo "bench: tools/testing/Makefile does not exist yet"; fi

bench-kernel:
	tools/vm/bench-kernel $(BENCH_KERNEL_ARGS)

clean:
	rm -rf $(B)
	@for d in $(TOOL_DIRS); do $(MAKE) -C $$d clean GUEST_BIN=$(GUEST_BIN); done
