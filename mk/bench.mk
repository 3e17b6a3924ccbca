# SPDX-License-Identifier: GPL-2.0
#
# mk/bench.mk - the load generator, build/xkv-bench, and its smoke run.
# Paths are relative to the repository root; the top-level Makefile
# includes this file, and it also works alone:
#
#   make -f mk/bench.mk bench-tools   build/xkv-bench
#   make -f mk/bench.mk bench-smoke   bench/smoke.sh: memcached vs xkvd,
#                                     TCP and UDP, ~2 s each, on 127.0.0.1
#   make -f mk/bench.mk hotsim        build/hotsim: the store's hot-cache
#                                     admission replayed under Zipf
#   make -f mk/bench.mk xdpcost       build/bench/xdpcost: the hot tier's
#                                     cost per packet (BPF_PROG_TEST_RUN)
#                                     and the floor program of
#                                     bench/compare (bench/floor.bpf.c);
#                                     "mem" loads bench/xdpmem.bpf.c
#   make -f mk/bench.mk sockmap-probe build/bench/sockmap_probe: does an
#                                     sk_skb verdict answering on a
#                                     socket keep it working here (the
#                                     socket-level route of issue 10;
#                                     bpf/TCPFAST.md; root to run)
#   make -f mk/bench.mk bench-compare        bench/compare: the full
#                                     side-by-side run (~10 min, root)
#   make -f mk/bench.mk bench-compare-smoke  bench/compare --smoke (s)
#
# xkv-bench and hotsim: plain C, pthreads and libm only. xdpcost and the
# floor need what mk/bpf.mk needs (clang, bpftool, libbpf-dev) and the hot
# tier's skeleton from mk/bpf.mk. Variables: BUILD (build), CC (gcc),
# CLANG (clang), BPFTOOL (bpftool).

BUILD ?= build
ifeq ($(origin CC),default)
CC := gcc
endif

BENCH_SRCS := $(sort $(wildcard bench/xkv-bench/*.c))
# the store core's number formatting (kmod/core/util.c), built for
# xkv-bench with its user-space platform header (kmod/user)
BENCH_CORE_SRCS := kmod/core/util.c
BENCH_HDRS := $(wildcard bench/xkv-bench/*.h) kmod/core/util.h \
	kmod/core/os.h kmod/user/xkv_os_impl.h
BENCH_OBJ := $(BUILD)/obj/bench-tools
BENCH_OBJS := $(patsubst bench/xkv-bench/%.c,$(BENCH_OBJ)/%.o,$(BENCH_SRCS)) \
	$(patsubst kmod/core/%.c,$(BENCH_OBJ)/core/%.o,$(BENCH_CORE_SRCS))
BENCH_BIN := $(BUILD)/xkv-bench

BENCH_CFLAGS := -O2 -g -Wall -Wextra -Werror -pthread -D_GNU_SOURCE
BENCH_INC := -Ikmod/core -Ikmod/user
BENCH_LDLIBS := -pthread -lm

HOTSIM_BIN := $(BUILD)/hotsim
HOTSIM_SRCS := bench/hotsim/hotsim.c bench/xkv-bench/zipf.c \
	$(sort $(wildcard kmod/core/*.c))
HOTSIM_HDRS := $(wildcard kmod/core/*.h kmod/user/*.h abi/*.h) \
	$(BENCH_HDRS)

# the floor (bench/floor.bpf.c) and xdpcost, which loads it, the hot
# tier and "mem"'s programs (bench/xdpmem.bpf.c) through their skeletons
CLANG ?= clang
BPFTOOL ?= bpftool
BENCH_OUT := $(BUILD)/bench
FLOOR_SKEL := $(BENCH_OUT)/floor.skel.h
MEM_SKEL := $(BENCH_OUT)/xdpmem.skel.h
XDPCOST_BIN := $(BENCH_OUT)/xdpcost
XKV_SKEL := $(BUILD)/bpf/xkv.skel.h
BENCH_BPF_CFLAGS := -g -O2 -target bpf -mcpu=v3 -Wall -Werror \
	-I/usr/include/$(shell $(CC) -print-multiarch 2>/dev/null || \
			   echo $$(uname -m)-linux-gnu)
XDPCOST_CFLAGS := -O2 -g -Wall -Wextra -Werror -D_GNU_SOURCE \
	-I$(BENCH_OUT) -I$(BUILD)/bpf -Ibpf -Iabi -Itests/bpf
# xdpcost builds its request frames with the XDP fixtures' builder, and
# "spread" draws its keys with xkv-bench's Zipf sampler
XDPCOST_SRCS := bench/xdpcost.c bench/xdpspread.c bench/xdpmem.c \
	tests/bpf/pkt.c bench/xkv-bench/zipf.c
XDPCOST_LDLIBS := -lbpf -lelf -lz -lm
PROBE_SKEL := $(BENCH_OUT)/sockmap_probe.skel.h
PROBE_BIN := $(BENCH_OUT)/sockmap_probe

# alone (make -f mk/bench.mk), the hot tier's skeleton rule comes from
# mk/bpf.mk; the top-level Makefile includes that file itself
ifeq ($(firstword $(MAKEFILE_LIST)),mk/bench.mk)
include mk/bpf.mk
endif

.PHONY: bench-tools bench-smoke hotsim xdpcost sockmap-probe bench-compare \
	bench-compare-smoke

bench-tools: $(BENCH_BIN) $(HOTSIM_BIN) $(XDPCOST_BIN) $(PROBE_BIN)

sockmap-probe: $(PROBE_BIN)

$(PROBE_BIN): bench/sockmap_probe.c $(PROBE_SKEL)
	$(CC) $(XDPCOST_CFLAGS) $< $(XDPCOST_LDLIBS) -o $@

xdpcost: $(XDPCOST_BIN)

# bench/NAME.bpf.c -> build/bench/NAME.skel.h, skeleton struct NAME
$(BENCH_OUT)/%.bpf.o: bench/%.bpf.c
	@mkdir -p $(@D)
	$(CLANG) $(BENCH_BPF_CFLAGS) -c $< -o $@

# the header "mem"'s programs share with bench/xdpmem.c
$(BENCH_OUT)/xdpmem.bpf.o: bench/xdpmem.h

$(BENCH_OUT)/%.linked.o: $(BENCH_OUT)/%.bpf.o
	$(BPFTOOL) gen object $@ $<

$(BENCH_OUT)/%.skel.h: $(BENCH_OUT)/%.linked.o
	$(BPFTOOL) gen skeleton $< name $* > $@.tmp
	mv $@.tmp $@

$(XDPCOST_BIN): $(XDPCOST_SRCS) tests/bpf/pkt.h bench/xdpcost.h \
		bench/xdpmem.h bench/xkv-bench/zipf.h bench/xkv-bench/rng.h \
		$(FLOOR_SKEL) $(MEM_SKEL) $(XKV_SKEL) $(BPF_HDRS)
	$(CC) $(XDPCOST_CFLAGS) -Ibench/xkv-bench $(XDPCOST_SRCS) \
		$(XDPCOST_LDLIBS) -o $@

hotsim: $(HOTSIM_BIN)

$(HOTSIM_BIN): $(HOTSIM_SRCS) $(HOTSIM_HDRS)
	@mkdir -p $(@D)
	$(CC) $(BENCH_CFLAGS) $(BENCH_INC) -Iabi -Ibench/xkv-bench \
		$(HOTSIM_SRCS) $(BENCH_LDLIBS) -o $@

# Every object depends on every header: there are few, and it keeps the
# rules free of generated dependency files.
$(BENCH_OBJ)/%.o: bench/xkv-bench/%.c $(BENCH_HDRS)
	@mkdir -p $(@D)
	$(CC) $(BENCH_CFLAGS) $(BENCH_INC) -c $< -o $@

$(BENCH_OBJ)/core/%.o: kmod/core/%.c $(BENCH_HDRS)
	@mkdir -p $(@D)
	$(CC) $(BENCH_CFLAGS) $(BENCH_INC) -c $< -o $@

$(BENCH_BIN): $(BENCH_OBJS)
	@mkdir -p $(@D)
	$(CC) $(BENCH_CFLAGS) $^ $(BENCH_LDLIBS) -o $@

bench-smoke: $(BENCH_BIN)
	bench/smoke.sh

bench-compare: bench-tools
	bench/compare

bench-compare-smoke: bench-tools
	bench/compare --smoke
