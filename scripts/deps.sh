#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# deps.sh - install what xkv needs to build and test on Debian 12.
#
# Idempotent: packages already installed are left alone, and "apt-get
# update" only runs when something is missing. Needs root (uses sudo when
# run as another user).
#
# Why each package is here:
#   make gcc libc6-dev     build xkvd, the unit tests and xkv-prototest
#   clang llvm             ASan/UBSan unit tests, the libFuzzer target
#   libclang-rt-14-dev     clang 14's sanitizer and libFuzzer runtimes
#                          (-fsanitize=fuzzer); only a Recommends of clang
#   memcached              the reference server to compare xkvd against
#   libmemcached-tools     memccapable (conformance test), memcaslap
#                          (bench/compare's TCP and UDP load,
#                          bench/tcpload.py)
#   musl-tools             small static test programs (VM tests)
#   procps iproute2        kill/ps, ss (free ports) for tests/run.sh
#   coreutils              timeout(1) around every test step, stdbuf(1)
#                          (memcaslap's reports line by line)
#   libbpf-dev bpftool     the XDP tier: skeleton, loader, fixtures
#   libelf-dev zlib1g-dev  libbpf's own link dependencies
#   python3 util-linux     tests/net: its precise client (mc.py), nsenter
#   python3-pymemcache     tests/net/test_stream.sh: a client library we
#                          did not write, served by the TCP fast path
#   jq gnuplot-nox         bench/compare: reading xkv stats -j, the chart
set -euo pipefail

PKGS=(
	make gcc libc6-dev
	clang llvm libclang-rt-14-dev
	memcached libmemcached-tools
	musl-tools
	procps iproute2 coreutils
	libbpf-dev bpftool libelf-dev zlib1g-dev
	python3 util-linux python3-pymemcache
	jq gnuplot-nox
)

log() {
	echo "deps: $*"
}

# installed PKG, missing_pkgs PKG..., SUDO
# shellcheck source=scripts/apt.sh
source "$(dirname "${BASH_SOURCE[0]}")/apt.sh"

mapfile -t missing < <(missing_pkgs "${PKGS[@]}")

if ((${#missing[@]} == 0)); then
	log "all ${#PKGS[@]} packages present"
	exit 0
fi

log "installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive

# memcached's package starts a server on port 11211 right away and at every
# boot, which is the port xkvd serves by default. It is only a reference
# here: keep it from starting during the install (policy-rc.d, honoured by
# invoke-rc.d and deb-systemd-invoke) and disable it afterwards.
new_memcached=0
policy_made=0
for p in "${missing[@]}"; do
	[[ "$p" == memcached ]] && new_memcached=1
done

cleanup() {
	if ((policy_made)); then
		"${SUDO[@]}" rm -f /usr/sbin/policy-rc.d
	fi
}
trap cleanup EXIT

if ((new_memcached)) && [[ ! -e /usr/sbin/policy-rc.d ]]; then
	printf '#!/bin/sh\nexit 101\n' |
		"${SUDO[@]}" tee /usr/sbin/policy-rc.d >/dev/null
	"${SUDO[@]}" chmod 755 /usr/sbin/policy-rc.d
	policy_made=1
fi

"${SUDO[@]}" apt-get update -q
"${SUDO[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"

if ((new_memcached)) && [[ -d /run/systemd/system ]]; then
	log "disabling the memcached service (port 11211 is xkvd's)"
	"${SUDO[@]}" systemctl disable --now memcached.service || true
fi

for p in "${PKGS[@]}"; do
	if ! installed "$p"; then
		log "error: $p is still not installed" >&2
		exit 1
	fi
done
log "done"
