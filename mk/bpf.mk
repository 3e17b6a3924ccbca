# SPDX-License-Identifier: GPL-2.0
#
# mk/bpf.mk - the XDP hot tier: BPF object, skeleton, fixture tests.
#
# Included by the top-level Makefile (-include mk/*.mk); also works alone:
#
#   make -f mk/bpf.mk bpf        build/bpf/xkv.bpf.o and build/bpf/xkv.skel.h
#   make -f mk/bpf.mk test-bpf   build and run the BPF_PROG_TEST_RUN
#                                fixtures (TAP; needs root)
#   make -f mk/bpf.mk bpf-stats  load the program once and print the
#                                verifier's statistics (needs root)
#   make -f mk/bpf.mk bpf-test-static
#                                build/bpf/test_xdp.static, the fixtures
#                                linked statically for a VM's initramfs
#                                (they pass on Debian's 6.1 kernel too)
#
# Pipeline (libbpf-bootstrap's): clang -target bpf -> bpftool gen object
# (static linking, a clean ELF) -> bpftool gen skeleton. Needs clang, llvm,
# bpftool, libbpf-dev, libelf-dev, zlib1g-dev.
#
# Variables: BUILD (build), CLANG (clang), BPFTOOL (bpftool), CC (cc).

BUILD ?= build
CLANG ?= clang
BPFTOOL ?= bpftool

BPF_OUT := $(BUILD)/bpf
BPF_SRC := bpf/xkv.bpf.c
BPF_HDRS := $(wildcard bpf/*.h)
BPF_OBJ := $(BPF_OUT)/xkv.bpf.o
BPF_LINKED := $(BPF_OUT)/xkv.o
BPF_SKEL := $(BPF_OUT)/xkv.skel.h
BPF_TEST := $(BPF_OUT)/test_xdp
BPF_TEST_STATIC := $(BPF_OUT)/test_xdp.static
BPF_TEST_SRCS := $(wildcard tests/bpf/*.c)
BPF_TEST_HDRS := $(wildcard tests/bpf/*.h)

# Target architecture for the BPF program's own #ifdefs (the seqlock read
# differs between x86 and weakly ordered CPUs) and the multiarch include
# directory that holds <asm/types.h>.
BPF_HOST_ARCH := $(shell uname -m)
BPF_ARCH := $(shell echo $(BPF_HOST_ARCH) | sed -e 's/x86_64/x86/' \
	-e 's/aarch64/arm64/' -e 's/ppc64le/powerpc/' -e 's/s390x/s390/' \
	-e 's/riscv64/riscv/' -e 's/loongarch64/loongarch/')
BPF_MULTIARCH := $(shell $(CC) -print-multiarch 2>/dev/null || \
	echo $(BPF_HOST_ARCH)-linux-gnu)

# -mcpu=v3: 32-bit jumps and ALU, atomics (kernel 5.12+ is needed anyway)
BPF_CFLAGS := -g -O2 -target bpf -mcpu=v3 -D__TARGET_ARCH_$(BPF_ARCH) \
	-Wall -Werror -Ibpf -I/usr/include/$(BPF_MULTIARCH)

BPF_TEST_CFLAGS := -O2 -g -Wall -Wextra -Werror -D_GNU_SOURCE \
	-I$(BPF_OUT) -Ibpf
BPF_TEST_LDLIBS := -lbpf -lelf -lz

.PHONY: bpf test-bpf bpf-stats bpf-test-static

bpf: $(BPF_OBJ) $(BPF_SKEL)

$(BPF_OBJ): $(BPF_SRC) $(BPF_HDRS)
	@mkdir -p $(@D)
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BPF_LINKED): $(BPF_OBJ)
	$(BPFTOOL) gen object $@ $<

$(BPF_SKEL): $(BPF_LINKED)
	$(BPFTOOL) gen skeleton $< name xkv > $@.tmp
	mv $@.tmp $@

$(BPF_TEST): $(BPF_TEST_SRCS) $(BPF_TEST_HDRS) $(BPF_SKEL) $(BPF_HDRS)
	$(CC) $(BPF_TEST_CFLAGS) $(BPF_TEST_SRCS) $(BPF_TEST_LDLIBS) -o $@

$(BPF_TEST_STATIC): $(BPF_TEST_SRCS) $(BPF_TEST_HDRS) $(BPF_SKEL) $(BPF_HDRS)
	$(CC) $(BPF_TEST_CFLAGS) -static $(BPF_TEST_SRCS) $(BPF_TEST_LDLIBS) \
		-o $@

bpf-test-static: $(BPF_TEST_STATIC)

test-bpf: $(BPF_TEST)
	$(BPF_TEST)

bpf-stats: $(BPF_TEST)
	$(BPF_TEST) --verifier-stats
