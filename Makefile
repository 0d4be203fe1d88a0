# SPDX-License-Identifier: GPL-2.0
#
# memtopo: top-level build.  Everything generated goes under build/.
#
#   make                 module + guest tools + selftests for KDIR
#   make KDIR=<tree>     the same against another kernel tree (the debug one)
#   make MEMTOPO_TEST=1  with the test-only code and the test modules
#   make install         module, udev rule, memtopoctl, man page, headers
#   make docs            Documentation/ as HTML in build/docs/
#   make run             boot the stock kernel in a VM and run the demo
#   make check           the whole suite; ends with "N passed, N failed"
#   make lint            checkpatch --strict, sparse (C=2 W=1), kernel-doc
#   make bench           the engine benchmark (tools/testing)
#   make bench-median    its lookup ratios as medians of whole runs, 10^5
#                        and 10^6, into build/bench/engine-median.csv
#   make bench-growth    the one-change commit's growth from 10^5 to 10^6
#                        as medians of whole runs
#   make bench-kernel    the in-kernel lookup/commit benchmark in a VM
#   make bench-kernel-uml  the same module run natively, in a User-Mode
#                        Linux kernel (tools/vm/bench-uml)
#   make bench-served    a served device's round trip against an ioeventfd
#                        write and a RAM read, in a VM
#   make kernel          build (or reuse) the debug kernel; prints its tree
#
# See Documentation/testing.rst.

TOP := $(CURDIR)
B := $(TOP)/build

# Stock Debian headers by default; tools/vm/kernel picks the newest version
# that has both headers and a /boot image, so modules match the VM's kernel.
KDIR ?= $(shell $(TOP)/tools/vm/kernel stock 2>/dev/null)
override KDIR := $(abspath $(KDIR))

# MEMTOPO_TEST=1 defines CONFIG_MEMTOPO_TEST for Kbuild: fault injection,
# KUnit hooks and test-only exports in memtopo.ko, plus the test modules
# (kmod/selftest.h).  `make check` and tools/vm/run turn it on; a plain
# build, `make install` and DKMS leave it off.  The two builds keep
# separate trees, so switching costs nothing.
MEMTOPO_TEST ?=
ifneq ($(filter 1 y yes,$(MEMTOPO_TEST)),)
KBUILD_TEST := CONFIG_MEMTOPO_TEST=y
MODDIR := $(B)/mod/$(notdir $(KDIR))-test
else
KBUILD_TEST :=
MODDIR := $(B)/mod/$(notdir $(KDIR))
endif

# A User-Mode Linux tree (tools/vm/build-uml) takes its modules with ARCH=um.
KARCH := $(if $(shell grep -sx 'CONFIG_UML=y' $(KDIR)/.config),ARCH=um)

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
	tools/testing/selftests/kselftest_harness.h usr/gen_init_cpio.c \
	Documentation/sphinx/kerneldoc.py Documentation/sphinx/kernellog.py
# The stamp holds the list, so a longer list extracts again.
LINUX_STALE := $(if $(filter-out $(file <$(LINUX)/.extracted),$(LINUX_FILES)),FORCE)

# Other tools/<dir>/Makefile (not vm/, not testing/) are built with
# GUEST_BIN=<dir> and install static guest binaries there.
TOOL_DIRS := $(filter-out tools/vm/ tools/testing/,$(dir $(wildcard tools/*/Makefile)))
GUEST_CFLAGS := -O2 -g -Wall -Wextra -static -I$(TOP)/uapi

.PHONY: all modules tools selftests vm-tests run check lint bench bench-median bench-growth bench-kernel bench-kernel-uml bench-served kernel linux clean \
	install install-module install-tools install-headers dkms-src docs FORCE

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
	echo "$(MAKE) -C $(KDIR) $(KARCH) M=$(MODDIR) W=$(W) C=$(C) $(KBUILD_TEST) modules"; \
	$(MAKE) -C $(KDIR) $(KARCH) M=$(MODDIR) W=$(W) C=$(C) $(KBUILD_TEST) \
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
$(LINUX)/.extracted: $(LINUX_TARBALL) $(LINUX_STALE)
	@test -f $(LINUX_TARBALL) || { echo "$(LINUX_TARBALL) missing: run tools/deps" >&2; exit 1; }
	@echo "  EXTRACT $(LINUX_FILES)"
	@rm -rf $(LINUX) && mkdir -p $(LINUX)
	@tar -xJf $(LINUX_TARBALL) -C $(LINUX) --strip-components=1 \
		$(addprefix linux-source-6.1/,$(LINUX_FILES))
	@echo "$(LINUX_FILES)" >$@

kernel:
	@$(TOP)/tools/vm/build-kernel

# Installing, the way out-of-tree modules are installed: the module with the
# kernel's modules_install, and everything under DESTDIR when it is set.
# Kernel consumers build with -I$(KAPIDIR)/include and
# KBUILD_EXTRA_SYMBOLS=$(KAPIDIR)/<release>/Module.symvers.
VERSION := $(shell sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' $(TOP)/dkms.conf)
DESTDIR ?=
PREFIX ?= /usr/local
SBINDIR ?= $(PREFIX)/sbin
MANDIR ?= $(PREFIX)/share/man
INCLUDEDIR ?= $(PREFIX)/include
KAPIDIR ?= $(PREFIX)/src/memtopo
UDEVRULESDIR ?= /etc/udev/rules.d
DKMSDIR ?= /usr/src/memtopo-$(VERSION)
DEPMOD ?= depmod
# Debian's headers name the release only in utsrelease.h (kernel.release
# there holds the upstream version).
KRELEASE = $(shell sed -n 's/^\#define UTS_RELEASE "\(.*\)"/\1/p' $(KDIR)/include/generated/utsrelease.h)

# Distribution headers carry no signing key: sign only with the tree's own
# (DKMS signs with its MOK key).
SIG_KEY = $(shell sed -n 's/^CONFIG_MODULE_SIG_KEY="\(.*\)"/\1/p' $(KDIR)/.config 2>/dev/null)
NO_SIGN = $(if $(filter pkcs11:%,$(SIG_KEY))$(wildcard $(SIG_KEY) $(KDIR)/$(SIG_KEY)),,CONFIG_MODULE_SIG_ALL=)

install: install-module install-tools install-headers

# M= names kmod/, so the module lands as extra/memtopo.ko, not extra/kmod/.
install-module: modules
	@test -z "$(KBUILD_TEST)" || { echo "install: not with MEMTOPO_TEST (test code stays out of installs)" >&2; exit 1; }
	$(MAKE) -C $(KDIR) M=$(MODDIR)/kmod KERNELRELEASE=$(KRELEASE) $(NO_SIGN) \
		INSTALL_MOD_PATH=$(DESTDIR) INSTALL_MOD_DIR=extra modules_install
	install -D -m 0644 kmod/60-memtopo.rules $(DESTDIR)$(UDEVRULESDIR)/60-memtopo.rules
	@if [ -z "$(DESTDIR)" ]; then echo "$(DEPMOD) -a $(KRELEASE)"; $(DEPMOD) -a $(KRELEASE); fi

install-tools: tools
	install -D -m 0755 $(GUEST_BIN)/memtopoctl $(DESTDIR)$(SBINDIR)/memtopoctl
	install -D -m 0644 tools/memtopoctl/memtopoctl.8 $(DESTDIR)$(MANDIR)/man8/memtopoctl.8

# The uapi header twice: for userspace in INCLUDEDIR/linux, and for kernel
# consumers where <uapi/linux/memtopo.h> finds it.
install-headers: modules
	install -D -m 0644 uapi/linux/memtopo.h $(DESTDIR)$(INCLUDEDIR)/linux/memtopo.h
	install -D -m 0644 kmod/include/memtopo/memtopo.h $(DESTDIR)$(KAPIDIR)/include/memtopo/memtopo.h
	install -D -m 0644 uapi/linux/memtopo.h $(DESTDIR)$(KAPIDIR)/include/uapi/linux/memtopo.h
	install -d $(DESTDIR)$(KAPIDIR)/$(KRELEASE)
	sed 's|\t[^\t]*/kmod/memtopo\t|\textra/memtopo\t|' $(MODDIR)/Module.symvers \
		>$(DESTDIR)$(KAPIDIR)/$(KRELEASE)/Module.symvers

# The source tree dkms.conf builds from (DKMS: dkms add memtopo/$(VERSION)).
dkms-src:
	@mkdir -p $(DESTDIR)$(DKMSDIR)
	rsync -a --delete --exclude='*.o' --exclude='*.ko' --exclude='*.mod' \
		--exclude='*.mod.c' --exclude='.*.cmd' --exclude='*.order' \
		--exclude='*.symvers' --exclude='*.a' --exclude='.*.d' --exclude=/kmod/tests/ \
		$(TOP)/dkms.conf $(TOP)/Kbuild $(TOP)/kmod $(TOP)/uapi $(DESTDIR)$(DKMSDIR)/

# HTML with Sphinx and the kernel's kernel-doc extension; any warning
# (kernel-doc's included) fails it.  -E: read every page each time, so a
# warning is never hidden by a previous run's cache (a few seconds).
DOCS := $(B)/docs
docs: linux
	@for f in $$(grep -lE '^EXPORT_SYMBOL(_NS)?(_GPL)?\(' kmod/*.c); do \
		case $$f in *_selftest.c) continue ;; esac; \
		grep -q "kernel-doc:: $$f" Documentation/api.rst || \
		{ echo "docs: Documentation/api.rst does not include $$f's exports" >&2; exit 1; }; \
	done
	KDOC_WERROR=1 sphinx-build -b html -E -W --keep-going -q -d $(DOCS)/.doctrees \
		Documentation $(DOCS)
	@echo "docs: $(DOCS)/index.html"

run:
	@$(TOP)/tools/deps
	@$(TOP)/tools/vm/run --kernel stock --name demo \
		--files $(TOP)/tools/vm/demo.sh \
		--files $(TOP)/tools/vm/demo-iommu.sh -- sh demo.sh

check:
	@$(TOP)/tools/check

lint: linux
	@$(TOP)/tools/lint

bench:
	@if [ -f tools/testing/Makefile ]; then $(MAKE) -C tools/testing bench; \
	else echo "bench: tools/testing/Makefile does not exist yet"; fi

bench-median:
	$(MAKE) -C tools/testing bench-median

bench-growth:
	$(MAKE) -C tools/testing bench-growth

bench-kernel:
	tools/vm/bench-kernel $(BENCH_KERNEL_ARGS)

bench-kernel-uml:
	tools/vm/bench-uml $(BENCH_KERNEL_ARGS)

bench-served:
	tools/vm/bench-served $(BENCH_SERVED_ARGS)

FORCE:

clean:
	rm -rf $(B)
	@for d in $(TOOL_DIRS); do $(MAKE) -C $$d clean GUEST_BIN=$(GUEST_BIN); done
