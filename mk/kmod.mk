# SPDX-License-Identifier: GPL-2.0
#
# kmod.mk - the kernel module and its VM test. Paths are relative to the
# repository root; the top-level Makefile includes this file, and it also
# works alone:
#
#   make -f mk/kmod.mk kmod      build/xkv.ko against Debian's 6.1 headers,
#                                with module BTF when the tools for it
#                                are there (KMOD_BTF below)
#   make -f mk/kmod.mk vmtest    boot Debian's 6.1 kernel under qemu (TCG)
#                                with the module and run tests/vm/ in it:
#                                the protocol suites, eviction, rmmod
#                                under load, memccapable, the XDP
#                                fixtures, and "xkv up lo --backend
#                                module" with the hot cache handed to the
#                                module through /dev/xkv, and its TCP
#                                fast path (streams checked, rmmod with
#                                connections open), and the XDP store
#                                path (vm/xdp-store: XDP answering from
#                                the module's store through its kfunc)
#   make -f mk/kmod.mk vmbench   bench/vmbench.sh: xkv.ko against xkvd
#                                in the same guest (GET/s under TCG)
#   make -f mk/kmod.mk vmbench-icount  bench/vmbench.sh -i: guest
#                                instructions per GET (qemu -icount,
#                                one vCPU), memcached too (~1 min)
#   make -f mk/kmod.mk vmbench-veth  bench/vmbench.sh -i -X: the same
#                                with the client in its own namespace
#                                behind a veth pair with native XDP, and
#                                xkv.ko and xkvd behind xkv's XDP tier
#                                there (~5 min; not in make test)
#   make -f mk/kmod.mk kmod-clean
#
# Variables:
#   KDIR=DIR        kernel build tree (default: the headers Debian's
#                   linux-headers-amd64 points at, installed if missing)
#   VM_KERNEL=FILE  kernel to boot (default: the matching Debian image,
#                   downloaded once into build/vm/kernel/)
#   VM_TIMEOUT=SEC  bound on the whole boot and test (default 600)
#   VM_ARGS=...     more arguments for tests/vm/run.sh (e.g. -v)
#   KMOD_BTF=auto   give the module BTF when pahole, resolve_btfids
#                   (BTF_TOOLS/resolve_btfids) and the matching kernel's
#                   vmlinux (BTF_BASE) are all there, else build it
#                   without (default); 1: fetch and build what is missing
#                   first, and fail without BTF (vmtest does this); 0:
#                   never
#   BTF_BASE=FILE   vmlinux whose BTF the module's is split from (default
#                   the VM kernel's, build/vm/kernel/vmlinux)
#   BTF_TOOLS=DIR   where resolve_btfids is built (default build/tools)
#
# Module BTF: Debian's headers have no vmlinux and no resolve_btfids, so
# Kbuild skips the module's BTF ("Skipping BTF generation"). After Kbuild
# this file runs the two commands Kbuild's Makefile.modfinal would (pahole
# -J with the kernel's pahole flags and --btf_base vmlinux, then
# resolve_btfids -b vmlinux) on a copy of the module, with the vmlinux
# scripts/kmod-deps.sh unpacks from Debian's image package of the same
# ABI. Without BTF the module works the same, but the kfuncs it registers
# for XDP cannot be called: "xkv up" then serves the hot cache alone.
#
# Kbuild runs in build/kmod/src/kmod/, inside a mirror of the parts of the
# repository the module is built from (kmod/Kbuild, kmod/core/,
# kmod/linux/ and abi/, the headers shared with the BPF programs and the
# loader), made of symlinks and laid out as in the repository, so
# that no object file lands in the source tree. The build fails on any
# compiler or modpost warning.

BUILD ?= build
# this file, for the recursive make in vmtest
KMOD_MK := $(lastword $(MAKEFILE_LIST))

KMOD_DEPS := scripts/kmod-deps.sh
# recursive on purpose: only evaluated (and the headers only installed)
# when a kmod target runs
KDIR ?= $(shell $(KMOD_DEPS) kdir)

KMOD_MIRROR := $(BUILD)/kmod/src
KMOD_TREE := $(KMOD_MIRROR)/kmod
KMOD_KO := $(BUILD)/xkv.ko
KMOD_SRCS = kmod/Kbuild $(sort $(wildcard kmod/core/*.c kmod/core/*.h \
					  kmod/linux/*.c kmod/linux/*.h \
					  abi/*.h))

VM_DIR := $(BUILD)/vm
VM_KERNEL_DIR := $(VM_DIR)/kernel
KMOD_BTF ?= auto
BTF_BASE ?= $(VM_KERNEL_DIR)/vmlinux
BTF_TOOLS ?= $(BUILD)/tools
RESOLVE_BTFIDS := $(BTF_TOOLS)/resolve_btfids
# pahole's flags for this kernel: scripts/pahole-flags.sh of Linux 6.1
# for pahole 1.24 (floats, parallel, no Rust units)
PAHOLE_FLAGS ?= --btf_gen_floats -j --lang_exclude=rust
KMOD_BTF_KO := $(BUILD)/kmod/xkv-btf.ko
VM_KERNEL ?= $(VM_KERNEL_DIR)/vmlinux
VM_TIMEOUT ?= 600
VM_ARGS ?=
VM_MUSL_CC ?= musl-gcc
VM_PROTOTEST := $(VM_DIR)/xkv-prototest
VM_LOAD := $(VM_DIR)/xkv-load
VM_HOT := $(VM_DIR)/xkv-hot
VM_STREAM := $(VM_DIR)/xkv-stream
VM_STORE := $(VM_DIR)/xkv-store
# built by mk/bpf.mk and mk/loader.mk (recursively: this file works alone)
VM_TEST_XDP := $(BUILD)/bpf/test_xdp.static
VM_TEST_TCP := $(BUILD)/bpf/test_tcp.static
VM_LOADER := $(BUILD)/xkv.static
VM_DROPPER := $(BUILD)/tests/net/xdp_pass.static
VM_PROTO_SRCS = $(sort $(wildcard tests/proto/*.c))
VM_PROTO_HDRS = $(sort $(wildcard tests/proto/*.h))
VM_CFLAGS := -static -O2 -Wall -Wextra
# xkv-hot needs the kernel's uapi headers (<linux/bpf.h>), which musl
# lacks: glibc, static
VM_HOT_CC ?= gcc

.PHONY: kmod kmod-clean vmtest vm-kernel vmbench vmbench-icount vmbench-veth

kmod:
	@mkdir -p $(KMOD_TREE)
	@find $(KMOD_MIRROR) -type l -delete
	@for f in $(KMOD_SRCS); do \
		d=$(KMOD_MIRROR)/$$f; \
		mkdir -p "$${d%/*}" && ln -s "$(CURDIR)/$$f" "$$d" || exit 1; \
	done
	@kdir='$(KDIR)'; \
	if [ -z "$$kdir" ] || [ ! -f "$$kdir/Makefile" ]; then \
		echo "kmod: no kernel build tree (KDIR='$$kdir')" >&2; \
		exit 1; \
	fi; \
	log=$(KMOD_TREE)/build.log; \
	$(MAKE) -C "$$kdir" M="$(CURDIR)/$(KMOD_TREE)" modules >$$log 2>&1; \
	rc=$$?; cat $$log; \
	if [ $$rc -ne 0 ]; then exit $$rc; fi; \
	if grep -qi 'warning' $$log; then \
		echo "kmod: the build printed warnings" >&2; exit 1; \
	fi
	@if [ "$(KMOD_BTF)" = 1 ]; then \
		$(KMOD_DEPS) btf $(BTF_TOOLS) || exit 1; \
		if [ "$(BTF_BASE)" = "$(VM_KERNEL_DIR)/vmlinux" ]; then \
			$(KMOD_DEPS) kernel $(VM_KERNEL_DIR) || exit 1; \
		fi; \
	fi
	@rm -f $(KMOD_BTF_KO)
	@why=''; \
	if [ "$(KMOD_BTF)" = 0 ]; then why='KMOD_BTF=0'; \
	elif ! command -v pahole >/dev/null; then \
		why='no pahole (package dwarves)'; \
	elif [ ! -x $(RESOLVE_BTFIDS) ]; then \
		why='no $(RESOLVE_BTFIDS)'; \
	elif [ ! -f $(BTF_BASE) ]; then why='no $(BTF_BASE)'; \
	else \
		kver=$$(grep -a -o -m 1 'Linux version [^ ]*' $(BTF_BASE) | \
			head -n 1 | cut -d' ' -f3); \
		mver=$$(grep -a -o -m 1 'vermagic=[^ ]*' \
			$(KMOD_TREE)/xkv.ko | head -n 1 | cut -d= -f2); \
		if [ "$$kver" != "$$mver" ]; then \
			why="$(BTF_BASE) is $$kver, the module is for $$mver"; \
		fi; \
	fi; \
	if [ -z "$$why" ]; then \
		cp $(KMOD_TREE)/xkv.ko $(KMOD_BTF_KO).tmp && \
		LLVM_OBJCOPY=objcopy pahole -J $(PAHOLE_FLAGS) \
			--btf_base $(BTF_BASE) $(KMOD_BTF_KO).tmp && \
		$(RESOLVE_BTFIDS) -b $(BTF_BASE) $(KMOD_BTF_KO).tmp && \
		mv $(KMOD_BTF_KO).tmp $(KMOD_BTF_KO) || \
		{ rm -f $(KMOD_BTF_KO).tmp; \
		  echo "kmod: adding module BTF failed" >&2; exit 1; }; \
	elif [ "$(KMOD_BTF)" = 1 ]; then \
		echo "kmod: no module BTF: $$why" >&2; exit 1; \
	else \
		echo "kmod: no module BTF ($$why): the XDP store path" \
			"will be unavailable (make kmod KMOD_BTF=1 fetches" \
			"what it needs)"; \
	fi
	@src=$(KMOD_TREE)/xkv.ko; \
	if [ -f $(KMOD_BTF_KO) ]; then src=$(KMOD_BTF_KO); fi; \
	cmp -s $$src $(KMOD_KO) || cp $$src $(KMOD_KO)
	@if readelf -S $(KMOD_KO) | grep -q ' \.BTF '; then \
		echo "kmod: $(KMOD_KO) (with module BTF)"; \
	else \
		echo "kmod: $(KMOD_KO)"; \
	fi

kmod-clean:
	rm -rf $(BUILD)/kmod $(KMOD_KO) $(VM_DIR)/initramfs* \
		$(VM_PROTOTEST) $(VM_LOAD) $(VM_HOT) $(VM_STREAM) $(VM_STORE)

# Static test programs for the guest (musl: small, no NSS).
$(VM_PROTOTEST): $(VM_PROTO_SRCS) $(VM_PROTO_HDRS)
	@mkdir -p $(@D)
	@command -v $(VM_MUSL_CC) >/dev/null || $(KMOD_DEPS) install
	$(VM_MUSL_CC) $(VM_CFLAGS) -o $@ $(VM_PROTO_SRCS)

$(VM_LOAD): tests/vm/xkv-load.c
	@mkdir -p $(@D)
	@command -v $(VM_MUSL_CC) >/dev/null || $(KMOD_DEPS) install
	$(VM_MUSL_CC) $(VM_CFLAGS) -o $@ $<

$(VM_STREAM): tests/vm/xkv-stream.c
	@mkdir -p $(@D)
	@command -v $(VM_MUSL_CC) >/dev/null || $(KMOD_DEPS) install
	$(VM_MUSL_CC) $(VM_CFLAGS) -Werror -o $@ $<

$(VM_HOT): tests/vm/xkv-hot.c tests/vm/vmclient.h tests/unit/tap.h \
	  abi/xkv_ioctl.h abi/xkv_hot.h abi/xkv_slot.h abi/xkv_tcp.h
	@mkdir -p $(@D)
	$(VM_HOT_CC) $(VM_CFLAGS) -Werror -Iabi -Itests/unit -o $@ $<

$(VM_STORE): tests/vm/xkv-store.c tests/vm/store-tcp.h tests/vm/store-proto.h \
	  tests/vm/store-loss.h \
	  tests/vm/vmclient.h tests/unit/tap.h abi/xkv_hot.h
	@mkdir -p $(@D)
	$(VM_HOT_CC) $(VM_CFLAGS) -Werror -Iabi -Itests/unit -o $@ $<

# Cheap when present: the script compares the ABI it recorded.
vm-kernel:
	@if [ "$(VM_KERNEL)" = "$(VM_KERNEL_DIR)/vmlinux" ]; then \
		$(KMOD_DEPS) kernel $(VM_KERNEL_DIR); fi

# The kernel first: fetching it may move the headers to a newer ABI, and
# the module must be built against the kernel that boots.
vmtest: vm-kernel $(VM_PROTOTEST) $(VM_LOAD) $(VM_HOT) $(VM_STREAM) \
		$(VM_STORE)
	@$(MAKE) --no-print-directory -f $(KMOD_MK) BUILD=$(BUILD) \
		KMOD_BTF=1 kmod
	@$(MAKE) --no-print-directory -f mk/bpf.mk BUILD=$(BUILD) \
		bpf-test-static tcp-test-static
	@$(MAKE) --no-print-directory -f mk/loader.mk BUILD=$(BUILD) \
		loader-static xdp-pass-static
	tests/vm/run.sh -k $(VM_KERNEL) -m $(KMOD_KO) -p $(VM_PROTOTEST) \
		-l $(VM_LOAD) -x $(VM_TEST_XDP) -L $(VM_LOADER) -H $(VM_HOT) \
		-S $(VM_STREAM) -T $(VM_TEST_TCP) -X $(VM_STORE) \
		-D $(VM_DROPPER) -o $(VM_DIR) \
		-t $(VM_TIMEOUT) $(VM_ARGS)

# builds what it needs itself (kernel, module, static xkv-bench and xkvd)
vmbench:
	BUILD=$(BUILD) bench/vmbench.sh

vmbench-icount:
	BUILD=$(BUILD) bench/vmbench.sh -i

vmbench-veth: vm-kernel
	@$(MAKE) --no-print-directory -f mk/loader.mk BUILD=$(BUILD) \
		loader-static
	BUILD=$(BUILD) bench/vmbench.sh -i -X -L $(VM_LOADER)
