# SPDX-License-Identifier: GPL-2.0
#
# mk/loader.mk - the xkv CLI (loader/) and the network-namespace tests
# (tests/net/). Paths are relative to the repository root; the top-level
# Makefile includes this file (-include mk/*.mk), and it also works alone:
#
#   make -f mk/loader.mk loader     build/xkv (builds the BPF skeletons
#                                   first: xdp.c and learn_attach.c embed
#                                   them)
#   make -f mk/loader.mk loader-static
#                                   build/xkv.static, linked statically
#                                   (libbpf.a, libelf.a, libz.a from the
#                                   -dev packages) for the VM test's
#                                   initramfs
#   make -f mk/loader.mk test-net   build/xkv, build/xkvd and the test
#                                   helpers, then tests/net/run.sh (TAP;
#                                   needs root, skips otherwise)
#
# Needs libbpf-dev (1.1), libelf-dev, zlib1g-dev, and what mk/bpf.mk needs
# (clang, llvm, bpftool). The tests need iproute2, util-linux (nsenter),
# coreutils (timeout) and /usr/bin/python3; tests/net/test_learn.sh also
# needs Debian's memcached (it skips without it).
#
# Variables: BUILD (build), CC (gcc), NET_ARGS (arguments for
# tests/net/run.sh, e.g. "-v" or a test name).

BUILD ?= build
ifeq ($(origin CC),default)
CC := gcc
endif

# the skeleton comes from mk/bpf.mk; pull it in when run alone
ifndef BPF_SKEL
include mk/bpf.mk
endif

LOADER_SRCS := $(sort $(wildcard loader/*.c))
LOADER_HDRS := $(wildcard loader/*.h)
LOADER_OBJ := $(BUILD)/obj/loader
LOADER_OBJS := $(patsubst loader/%.c,$(LOADER_OBJ)/%.o,$(LOADER_SRCS))
LOADER_BIN := $(BUILD)/xkv
LOADER_STATIC := $(BUILD)/xkv.static

LOADER_CFLAGS := -O2 -g -Wall -Wextra -Werror -D_GNU_SOURCE \
	-I$(BPF_OUT) -Ibpf -Iabi -Iloader
LOADER_LDLIBS := -lbpf -lelf -lz

LOADER_NET_OUT := $(BUILD)/tests/net
LOADER_NET_HELPERS := $(LOADER_NET_OUT)/xdp_pass
NET_ARGS ?=

.PHONY: loader loader-static xdp-pass-static test-net

loader: $(LOADER_BIN) $(LOADER_NET_HELPERS)

# Every object depends on every header (few, and no generated .d files to
# keep in step) and on the skeletons, which embed the BPF objects.
$(LOADER_OBJ)/%.o: loader/%.c $(LOADER_HDRS) $(BPF_HDRS) $(BPF_SKEL) \
		$(LEARN_SKEL) $(STORE_SKEL)
	@mkdir -p $(@D)
	$(CC) $(LOADER_CFLAGS) -c $< -o $@

$(LOADER_BIN): $(LOADER_OBJS)
	@mkdir -p $(@D)
	$(CC) $(LOADER_CFLAGS) $^ $(LOADER_LDLIBS) -o $@

# The same objects, linked with glibc's and the libraries' static archives:
# the VM test's guest has no shared library at all.
$(LOADER_STATIC): $(LOADER_OBJS)
	@mkdir -p $(@D)
	$(CC) $(LOADER_CFLAGS) -static $^ $(LOADER_LDLIBS) -o $@

loader-static: $(LOADER_STATIC)

$(LOADER_NET_OUT)/xdp_pass: tests/net/xdp_pass.c
	@mkdir -p $(@D)
	$(CC) -O2 -g -Wall -Wextra -Werror $< -lbpf -o $@

# the same, static, for the VM test's guest (tests/vm/xdp-store-tap.sh)
$(LOADER_NET_OUT)/xdp_pass.static: tests/net/xdp_pass.c
	@mkdir -p $(@D)
	$(CC) -O2 -Wall -Wextra -Werror -static $< $(LOADER_LDLIBS) -o $@

xdp-pass-static: $(LOADER_NET_OUT)/xdp_pass.static

test-net: $(LOADER_BIN) $(LOADER_NET_HELPERS)
	@$(MAKE) --no-print-directory -f Makefile $(BUILD)/xkvd
	tests/net/run.sh $(NET_ARGS)
