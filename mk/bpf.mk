# SPDX-License-Identifier: GPL-2.0
#
# mk/bpf.mk - the XDP hot tier: BPF object, skeleton, fixture tests.
#
# Included by the top-level Makefile (-include mk/*.mk); also works alone:
#
#   make -f mk/bpf.mk bpf        build/bpf/xkv.bpf.o and build/bpf/xkv.skel.h,
#                                and the XDP store path's program
#                                build/bpf/xkv_store.bpf.o and
#                                build/bpf/xkv_store.skel.h (it calls
#                                xkv.ko's kfunc: loaded only with it)
#   make -f mk/bpf.mk test-bpf   build and run the BPF_PROG_TEST_RUN
#                                fixtures (TAP; needs root)
#   make -f mk/bpf.mk bpf-stats  load the program once and print the
#                                verifier's statistics (needs root)
#   make -f mk/bpf.mk test-tcp   build and run the TCP fast path's
#                                BPF_PROG_TEST_RUN fixtures (XDP, xkv_tc_in,
#                                xkv_tc_out; TAP; needs root)
#   make -f mk/bpf.mk tcp-stats  the verifier's statistics of xkv_xdp,
#                                xkv_tc_in and xkv_tc_out (needs root)
#   make -f mk/bpf.mk store-stats
#                                the verifier's statistics of the store
#                                program with its kfunc stubbed
#                                (tests/bpf/store_stub.bpf.c; needs root,
#                                not xkv.ko)
#   make -f mk/bpf.mk tcp-test-static
#                                build/bpf/test_tcp.static, for a VM's
#                                initramfs
#   make -f mk/bpf.mk bpf-test-static
#                                build/bpf/test_xdp.static, the fixtures
#                                linked statically for a VM's initramfs
#                                (they pass on Debian's 6.1 kernel too)
#
# Learning mode (a stock memcached backend, bpf/LEARNING.md):
#
#   make -f mk/bpf.mk bpf-learn  build/bpf/xkv_learn.bpf.o and its skeleton
#                                build/bpf/xkv_learn.skel.h
#   make -f mk/bpf.mk test-learn build and run the TC fixtures
#                                (build/bpf/test_learn; TAP; needs root),
#                                which load and attach the programs
#                                through loader/learn_attach.c
#   make -f mk/bpf.mk learn-stats
#                                verifier statistics of both TC programs
#   make -f mk/bpf.mk test-learn-net
#                                the network-namespace test with a real
#                                memcached (tests/net/learn_memcached.sh;
#                                needs root, memcached, python3)
#   make -f mk/bpf.mk bpf-learn-test-static
#                                build/bpf/test_learn.static for a VM's
#                                initramfs (passes on Debian's 6.1 too)
#
# Sources: bpf/xkv.bpf.c (XDP; its parts in bpf/xdp/) and
# bpf/xkv_learn.bpf.c (TC; its parts in bpf/learn/), each one compilation
# unit; headers both use are in bpf/ (parser, key compare, bounds, maps)
# and abi/.
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
BPF_HDRS := $(wildcard bpf/*.h bpf/learn/*.h bpf/xdp/*.h bpf/tcp/*.h abi/*.h)
BPF_OBJ := $(BPF_OUT)/xkv.bpf.o
BPF_LINKED := $(BPF_OUT)/xkv.o
BPF_SKEL := $(BPF_OUT)/xkv.skel.h
BPF_TEST := $(BPF_OUT)/test_xdp
# the XDP store path (bpf/xkv_store.bpf.c), a second object
STORE_SRC := bpf/xkv_store.bpf.c
STORE_OBJ := $(BPF_OUT)/xkv_store.bpf.o
STORE_LINKED := $(BPF_OUT)/xkv_store.o
STORE_SKEL := $(BPF_OUT)/xkv_store.skel.h
# the store program with its kfunc stubbed, and what loads it
STORE_STUB_OBJ := $(BPF_OUT)/store_stub.bpf.o
STORE_VSTAT := $(BPF_OUT)/store_vstat
BPF_TEST_STATIC := $(BPF_OUT)/test_xdp.static
# what every fixture links: tests/bpf/fixture.c (start, clock, mapping,
# frame diagnostics) and the loader's counter summing (loader/counters.c)
FIXTURE_SRCS := tests/bpf/fixture.c loader/counters.c
BPF_TEST_SRCS := tests/bpf/test_xdp.c tests/bpf/pkt.c $(FIXTURE_SRCS)
# the TCP fast path (bpf/tcp/): XDP answering, TC translating
TCP_TEST := $(BPF_OUT)/test_tcp
TCP_TEST_SRCS := tests/bpf/test_tcp.c tests/bpf/tcppkt.c tests/bpf/pkt.c \
	$(FIXTURE_SRCS)
TCP_TEST_STATIC := $(BPF_OUT)/test_tcp.static
# the XDP program against the store core, linked in (tests/bpf/fuzz_xdp.c)
BPF_FUZZ := $(BPF_OUT)/fuzz_xdp
BPF_FUZZ_SRCS := tests/bpf/fuzz_xdp.c tests/bpf/pkt.c tests/bpf/fixture.c \
	$(sort $(wildcard kmod/core/*.c))
BPF_FUZZ_HDRS := $(wildcard kmod/core/*.h kmod/user/xkv_os_impl.h)
BPF_TEST_HDRS := $(wildcard tests/bpf/*.h) tests/unit/tap.h loader/counters.h

LEARN_SRC := bpf/xkv_learn.bpf.c
LEARN_OBJ := $(BPF_OUT)/xkv_learn.bpf.o
LEARN_LINKED := $(BPF_OUT)/xkv_learn.o
LEARN_SKEL := $(BPF_OUT)/xkv_learn.skel.h
# the loader's libbpf layer for the TC programs and its counter summing,
# compiled into the fixtures and the test tool as into build/xkv
# (mk/loader.mk)
LEARN_API_SRCS := loader/learn_attach.c loader/counters.c
LEARN_API_HDRS := loader/learn_attach.h loader/counters.h
LEARN_TEST := $(BPF_OUT)/test_learn
LEARN_TOOL := $(BPF_OUT)/xkv-learn-tool
LEARN_PASS_OBJ := $(BPF_OUT)/xdp_pass.bpf.o
LEARN_TEST_SRCS := tests/bpf/test_learn.c tests/bpf/pkt.c tests/bpf/fixture.c
LEARN_TEST_STATIC := $(BPF_OUT)/test_learn.static

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
	-Wall -Werror -Ibpf -Iabi -I/usr/include/$(BPF_MULTIARCH)

BPF_TEST_CFLAGS := -O2 -g -Wall -Wextra -Werror -D_GNU_SOURCE \
	-I$(BPF_OUT) -Ibpf -Iabi -Itests/unit
# test_xdp and test_tcp: with loader/counters.h
FIXTURE_CFLAGS := $(BPF_TEST_CFLAGS) -Iloader
BPF_TEST_LDLIBS := -lbpf -lelf -lz
LEARN_TEST_CFLAGS := $(BPF_TEST_CFLAGS) -Iloader

.PHONY: store-stats
.PHONY: bpf test-bpf bpf-stats bpf-test-static fuzz-xdp bpf-learn test-learn \
	learn-stats test-learn-net bpf-learn-test-static test-tcp tcp-stats \
	tcp-test-static

bpf: $(BPF_OBJ) $(BPF_SKEL) $(STORE_OBJ) $(STORE_SKEL)

$(BPF_OBJ): $(BPF_SRC) $(BPF_HDRS)
	@mkdir -p $(@D)
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BPF_LINKED): $(BPF_OBJ)
	$(BPFTOOL) gen object $@ $<

$(BPF_SKEL): $(BPF_LINKED)
	$(BPFTOOL) gen skeleton $< name xkv > $@.tmp
	mv $@.tmp $@

$(STORE_OBJ): $(STORE_SRC) $(BPF_HDRS)
	@mkdir -p $(@D)
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(STORE_LINKED): $(STORE_OBJ)
	$(BPFTOOL) gen object $@ $<

$(STORE_SKEL): $(STORE_LINKED)
	$(BPFTOOL) gen skeleton $< name xkv_store > $@.tmp
	mv $@.tmp $@

$(STORE_STUB_OBJ): tests/bpf/store_stub.bpf.c $(STORE_SRC) $(BPF_HDRS)
	@mkdir -p $(@D)
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(STORE_VSTAT): tests/bpf/store_vstat.c
	@mkdir -p $(@D)
	$(CC) $(BPF_TEST_CFLAGS) $< $(BPF_TEST_LDLIBS) -o $@

store-stats: $(STORE_STUB_OBJ) $(STORE_VSTAT)
	$(STORE_VSTAT) $(STORE_STUB_OBJ) | grep -E 'loaded|processed'

$(BPF_TEST): $(BPF_TEST_SRCS) $(BPF_TEST_HDRS) $(BPF_SKEL) $(BPF_HDRS)
	$(CC) $(FIXTURE_CFLAGS) $(BPF_TEST_SRCS) $(BPF_TEST_LDLIBS) -o $@

$(BPF_TEST_STATIC): $(BPF_TEST_SRCS) $(BPF_TEST_HDRS) $(BPF_SKEL) $(BPF_HDRS)
	$(CC) $(FIXTURE_CFLAGS) -static $(BPF_TEST_SRCS) $(BPF_TEST_LDLIBS) \
		-o $@

bpf-test-static: $(BPF_TEST_STATIC)

$(TCP_TEST): $(TCP_TEST_SRCS) $(BPF_TEST_HDRS) $(BPF_SKEL) $(BPF_HDRS)
	$(CC) $(FIXTURE_CFLAGS) $(TCP_TEST_SRCS) $(BPF_TEST_LDLIBS) -o $@

$(TCP_TEST_STATIC): $(TCP_TEST_SRCS) $(BPF_TEST_HDRS) $(BPF_SKEL) $(BPF_HDRS)
	$(CC) $(FIXTURE_CFLAGS) -static $(TCP_TEST_SRCS) $(BPF_TEST_LDLIBS) \
		-o $@

tcp-test-static: $(TCP_TEST_STATIC)

test-tcp: $(TCP_TEST)
	$(TCP_TEST)

tcp-stats: $(TCP_TEST)
	$(TCP_TEST) --verifier-stats

$(BPF_FUZZ): $(BPF_FUZZ_SRCS) $(BPF_FUZZ_HDRS) $(BPF_TEST_HDRS) $(BPF_SKEL) \
		$(BPF_HDRS)
	$(CC) $(BPF_TEST_CFLAGS) -pthread -Ikmod/core -Ikmod/user \
		$(BPF_FUZZ_SRCS) $(BPF_TEST_LDLIBS) -o $@

# a bench-length run: a million frames, every XDP reply against the store's
fuzz-xdp: $(BPF_FUZZ)
	$(BPF_FUZZ) -n 1000000

test-bpf: $(BPF_TEST)
	$(BPF_TEST)

bpf-stats: $(BPF_TEST)
	$(BPF_TEST) --verifier-stats

# --- learning mode -----------------------------------------------------------

bpf-learn: $(LEARN_OBJ) $(LEARN_SKEL)

$(LEARN_OBJ): $(LEARN_SRC) $(BPF_HDRS)
	@mkdir -p $(@D)
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(LEARN_LINKED): $(LEARN_OBJ)
	$(BPFTOOL) gen object $@ $<

$(LEARN_SKEL): $(LEARN_LINKED)
	$(BPFTOOL) gen skeleton $< name xkv_learn > $@.tmp
	mv $@.tmp $@

$(LEARN_PASS_OBJ): tests/bpf/xdp_pass.bpf.c
	@mkdir -p $(@D)
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(LEARN_TEST): $(LEARN_TEST_SRCS) $(BPF_TEST_HDRS) $(LEARN_API_SRCS) \
		$(LEARN_API_HDRS) $(BPF_SKEL) $(LEARN_SKEL) $(BPF_HDRS)
	$(CC) $(LEARN_TEST_CFLAGS) $(LEARN_TEST_SRCS) $(LEARN_API_SRCS) \
		$(BPF_TEST_LDLIBS) -o $@

$(LEARN_TOOL): tests/bpf/learn_tool.c $(LEARN_API_SRCS) $(LEARN_API_HDRS) \
		$(BPF_SKEL) $(LEARN_SKEL) $(BPF_HDRS)
	$(CC) $(LEARN_TEST_CFLAGS) tests/bpf/learn_tool.c $(LEARN_API_SRCS) \
		$(BPF_TEST_LDLIBS) -o $@

$(LEARN_TEST_STATIC): $(LEARN_TEST_SRCS) $(BPF_TEST_HDRS) \
		$(LEARN_API_SRCS) $(LEARN_API_HDRS) $(BPF_SKEL) \
		$(LEARN_SKEL) $(BPF_HDRS)
	$(CC) $(LEARN_TEST_CFLAGS) -static $(LEARN_TEST_SRCS) \
		$(LEARN_API_SRCS) $(BPF_TEST_LDLIBS) -o $@

bpf-learn-test-static: $(LEARN_TEST_STATIC)

test-learn: $(LEARN_TEST)
	$(LEARN_TEST)

learn-stats: $(LEARN_TEST)
	$(LEARN_TEST) --verifier-stats

test-learn-net: $(LEARN_TOOL) $(LEARN_PASS_OBJ)
	tests/net/learn_memcached.sh
