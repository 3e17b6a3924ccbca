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
#
# Plain C, pthreads and libm only. Variables: BUILD (build), CC (gcc).

BUILD ?= build
ifeq ($(origin CC),default)
CC := gcc
endif

BENCH_SRCS := $(sort $(wildcard bench/xkv-bench/*.c))
BENCH_HDRS := $(wildcard bench/xkv-bench/*.h)
BENCH_OBJ := $(BUILD)/obj/bench-tools
BENCH_OBJS := $(patsubst bench/xkv-bench/%.c,$(BENCH_OBJ)/%.o,$(BENCH_SRCS))
BENCH_BIN := $(BUILD)/xkv-bench

BENCH_CFLAGS := -O2 -g -Wall -Wextra -Werror -pthread -D_GNU_SOURCE
BENCH_LDLIBS := -pthread -lm

HOTSIM_BIN := $(BUILD)/hotsim
HOTSIM_SRCS := bench/hotsim/hotsim.c bench/xkv-bench/zipf.c \
	$(sort $(wildcard kmod/core/*.c))
HOTSIM_HDRS := $(wildcard kmod/core/*.h kmod/user/*.h bpf/*.h) \
	$(BENCH_HDRS)

.PHONY: bench-tools bench-smoke hotsim

bench-tools: $(BENCH_BIN) $(HOTSIM_BIN)

hotsim: $(HOTSIM_BIN)

$(HOTSIM_BIN): $(HOTSIM_SRCS) $(HOTSIM_HDRS)
	@mkdir -p $(@D)
	$(CC) $(BENCH_CFLAGS) -Ikmod/core -Ikmod/user $(HOTSIM_SRCS) \
		$(BENCH_LDLIBS) -o $@

# Every object depends on every header: there are few, and it keeps the
# rules free of generated dependency files.
$(BENCH_OBJ)/%.o: bench/xkv-bench/%.c $(BENCH_HDRS)
	@mkdir -p $(@D)
	$(CC) $(BENCH_CFLAGS) -c $< -o $@

$(BENCH_BIN): $(BENCH_OBJS)
	@mkdir -p $(@D)
	$(CC) $(BENCH_CFLAGS) $^ $(BENCH_LDLIBS) -o $@

bench-smoke: $(BENCH_BIN)
	bench/smoke.sh
