# SPDX-License-Identifier: GPL-2.0
#
# xkv top-level build.
#
#   make            build everything whose sources exist into build/
#   make test       build, then run every test (tests/run.sh)
#   make up         install what is missing, build, run xkvd in the foreground
#   make deps       install build and test dependencies (scripts/deps.sh)
#   make clean      remove build/
#
# Sources are found with wildcards, so a new .c file is picked up without
# editing this file:
#
#   kmod/core/*.c          the store core (linked into everything below)
#   kmod/user/*.c          + core -> build/xkvd, and with clang + ASan/UBSan
#                          build/asan/xkvd (the protocol tests run on both)
#   tests/proto/*.c        -> build/xkv-prototest
#   tests/unit/test_*.c    + core + tests/unit/<other>.c -> build/unit/test_*
#                          and, with clang + ASan/UBSan, build/asan/test_*
#   tests/fuzz/fuzz_*.c    + core, clang + libFuzzer -> build/fuzz/fuzz_*
#
# A target whose sources do not exist yet is left out of "make" instead of
# breaking it.

CC_DEFAULT := gcc
ifeq ($(origin CC),default)
CC := $(CC_DEFAULT)
endif
CLANG ?= clang

BUILD ?= build

CFLAGS ?= -O2 -g
# _GNU_SOURCE with an empty value: a source file's own "#define _GNU_SOURCE"
# is then an identical redefinition, not a warning.
XKV_CFLAGS := -Wall -Wextra -Werror -pthread -Ikmod/core -Ikmod/user -Iabi \
	      -D_GNU_SOURCE=
DEPFLAGS = -MMD -MP
LDLIBS := -pthread

SAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer \
	     -fno-sanitize-recover=all
FUZZ_CFLAGS := -O1 -g -fno-omit-frame-pointer -fno-sanitize-recover=all \
	       -fsanitize=fuzzer-no-link,address,undefined
FUZZ_LDFLAGS := -fsanitize=fuzzer,address,undefined

CORE_SRCS := $(sort $(wildcard kmod/core/*.c))
USER_SRCS := $(sort $(wildcard kmod/user/*.c))
PROTO_SRCS := $(sort $(wildcard tests/proto/*.c))
UNIT_TESTS := $(sort $(wildcard tests/unit/test_*.c))
UNIT_LIBS := $(filter-out $(UNIT_TESTS),$(sort $(wildcard tests/unit/*.c)))
FUZZ_SRCS := $(sort $(wildcard tests/fuzz/fuzz_*.c))

# Object trees: one per compiler/flag set, each mirroring the source tree.
OBJ := $(BUILD)/obj
ASAN_OBJ := $(BUILD)/asan/obj
FUZZ_OBJ := $(BUILD)/fuzz/obj

obj = $(patsubst %.c,$(OBJ)/%.o,$(1))
asan_obj = $(patsubst %.c,$(ASAN_OBJ)/%.o,$(1))
fuzz_obj = $(patsubst %.c,$(FUZZ_OBJ)/%.o,$(1))

CORE_OBJS := $(call obj,$(CORE_SRCS))
CORE_ASAN_OBJS := $(call asan_obj,$(CORE_SRCS))
CORE_FUZZ_OBJS := $(call fuzz_obj,$(CORE_SRCS))
UNIT_LIB_OBJS := $(call obj,$(UNIT_LIBS))
UNIT_LIB_ASAN_OBJS := $(call asan_obj,$(UNIT_LIBS))

XKVD :=
XKVD_ASAN :=
ifneq ($(USER_SRCS),)
ifneq ($(CORE_SRCS),)
XKVD := $(BUILD)/xkvd
XKVD_ASAN := $(BUILD)/asan/xkvd
endif
endif

PROTOTEST :=
ifneq ($(PROTO_SRCS),)
PROTOTEST := $(BUILD)/xkv-prototest
endif

# Unit tests and the fuzzer link the core: without it there is nothing to
# build yet.
UNIT_BINS :=
ASAN_BINS :=
FUZZ_BINS :=
ifneq ($(CORE_SRCS),)
UNIT_BINS := $(patsubst tests/unit/%.c,$(BUILD)/unit/%,$(UNIT_TESTS))
ASAN_BINS := $(patsubst tests/unit/%.c,$(BUILD)/asan/%,$(UNIT_TESTS))
FUZZ_BINS := $(patsubst tests/fuzz/%.c,$(BUILD)/fuzz/%,$(FUZZ_SRCS))
endif

ALL_BINS := $(XKVD) $(XKVD_ASAN) $(PROTOTEST) $(UNIT_BINS) $(ASAN_BINS) \
	    $(FUZZ_BINS)

.PHONY: all xkvd prototest unit asan fuzz test up deps clean list
# Keep objects made through pattern rules (make would delete them as
# intermediate files and rebuild them every time); drop half-written ones.
.SECONDARY:
.DELETE_ON_ERROR:
.DEFAULT_GOAL := all

# bpf (XDP object, skeleton, fixtures), bpf-learn (learning mode's TC
# programs, fixtures, test tool), loader and bench-tools come from mk/*.mk
all: $(ALL_BINS) bpf $(BUILD)/bpf/test_xdp $(BUILD)/bpf/test_tcp \
	$(BUILD)/bpf/fuzz_xdp bench-tools \
	loader bpf-learn \
	$(BUILD)/bpf/test_learn $(BUILD)/bpf/xkv-learn-tool \
	$(BUILD)/bpf/xdp_pass.bpf.o
	@if [ -z "$(strip $(ALL_BINS))" ]; then \
		echo "make: no sources yet, nothing to build"; fi

xkvd: $(XKVD) $(XKVD_ASAN)
prototest: $(PROTOTEST)
unit: $(UNIT_BINS)
asan: $(ASAN_BINS) $(XKVD_ASAN)
fuzz: $(FUZZ_BINS)

# Print what "make" would build (handy when a file seems not picked up).
list:
	@for f in $(ALL_BINS); do echo "$$f"; done

# --- compile rules --------------------------------------------------------

$(OBJ)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(XKV_CFLAGS) $(DEPFLAGS) -c $< -o $@

$(ASAN_OBJ)/%.o: %.c
	@mkdir -p $(@D)
	$(CLANG) $(CFLAGS) $(XKV_CFLAGS) $(SAN_FLAGS) $(DEPFLAGS) -c $< -o $@

$(FUZZ_OBJ)/%.o: %.c
	@mkdir -p $(@D)
	$(CLANG) $(FUZZ_CFLAGS) $(XKV_CFLAGS) $(DEPFLAGS) -c $< -o $@

# --- link rules -----------------------------------------------------------

$(BUILD)/xkvd: $(call obj,$(USER_SRCS)) $(CORE_OBJS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(XKV_CFLAGS) $(LDFLAGS) $^ $(LDLIBS) -o $@

# An explicit rule: it wins over the unit test pattern $(BUILD)/asan/%.
$(BUILD)/asan/xkvd: $(call asan_obj,$(USER_SRCS)) $(CORE_ASAN_OBJS)
	@mkdir -p $(@D)
	$(CLANG) $(CFLAGS) $(XKV_CFLAGS) $(SAN_FLAGS) $(LDFLAGS) $^ $(LDLIBS) \
		-o $@

$(BUILD)/xkv-prototest: $(call obj,$(PROTO_SRCS))
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(XKV_CFLAGS) $(LDFLAGS) $^ $(LDLIBS) -o $@

$(BUILD)/unit/%: $(OBJ)/tests/unit/%.o $(UNIT_LIB_OBJS) $(CORE_OBJS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(XKV_CFLAGS) $(LDFLAGS) $^ $(LDLIBS) -o $@

$(BUILD)/asan/%: $(ASAN_OBJ)/tests/unit/%.o $(UNIT_LIB_ASAN_OBJS) \
		 $(CORE_ASAN_OBJS)
	@mkdir -p $(@D)
	$(CLANG) $(CFLAGS) $(XKV_CFLAGS) $(SAN_FLAGS) $(LDFLAGS) $^ $(LDLIBS) \
		-o $@

$(BUILD)/fuzz/%: $(FUZZ_OBJ)/tests/fuzz/%.o $(CORE_FUZZ_OBJS)
	@mkdir -p $(@D)
	$(CLANG) $(FUZZ_CFLAGS) $(XKV_CFLAGS) $(FUZZ_LDFLAGS) $^ $(LDLIBS) \
		-o $@

# Header dependencies written by -MMD.
-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)

# Other parts (the BPF tier, the kernel module, benchmarks) keep their own
# rules and targets in mk/*.mk; they add nothing to "make" or "make test"
# unless wired in here.
-include $(sort $(wildcard mk/*.mk))

# --- running --------------------------------------------------------------

# tests/run.sh builds (with $(MAKE), so -j and the jobserver carry over),
# runs every suite and prints one "N passed, N failed" line.
test:
	@MAKE='$(MAKE)' tests/run.sh

deps:
	scripts/deps.sh

# "make up": the XDP hot tier on lo (generic mode there) in front of xkvd,
# in the foreground; Ctrl-C stops the backend, detaches XDP and unpins.
# XKV_UP_ARGS go to "xkv up" (e.g. --port 11311 --cache-slots 65536),
# XKVD_ARGS to xkvd (e.g. -m 256 -t 4).
XKV_UP_ARGS ?=
XKVD_ARGS ?=

up:
	scripts/deps.sh
	$(MAKE) --no-print-directory $(BUILD)/xkvd loader
	@echo "make up: $(BUILD)/xkv up lo --foreground $(XKV_UP_ARGS)" \
		"(Ctrl-C stops it)"
	@exec $(BUILD)/xkv up lo --foreground $(XKV_UP_ARGS) -- $(XKVD_ARGS)

clean:
	rm -rf $(BUILD)
