#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# test_coherence.sh - the coherence invariant under load: writers over
# TCP (one per key, versions counting up, each acknowledged version
# recorded before the next write) and readers over UDP through XDP on a
# few keys for a bounded time. No read may return a version older than
# one acknowledged before the read was sent; XDP must have served reads.
# With the default hot cache; with "xkv flush" (the loader writing the
# slots too) racing the backend; and with one slot for 48 keys, of which
# about 31 fit its 2 KiB: every rewrite moves the entries after the key's
# within the slot, and keys keep evicting each other.
#
#   XKV_COH_TIME=SEC              how long each round runs (default 5)
#   XKV_NET_MODE=native|generic   the XDP mode asked (default native)
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

skip_unless_root

export COH_TIME=${XKV_COH_TIME:-5}

# coherence KEYS [ARG...]: one round
coherence() {
	local keys=$1
	shift
	mc coherence --time "$COH_TIME" --keys "$keys" --writers 2 \
		--readers 2 "$@"
}

down_clean() {
	local pid
	pid=$(backend_pid)
	xkv_s down "$XKV_IF_S"
	state_clean "$pid"
}

tap_plan 7
setup_pair
check "xkv up on the server veth ($XKV_NET_MODE mode asked)" xkv_up
check_show "4 keys: concurrent TCP writes, UDP reads: 0 stale, XDP hits" \
	coherence 4
check_show "the same with 'xkv flush' every 0.5 s" coherence 4 \
	--flush-every 0.5
check "down" down_clean
check "xkv up with 1 hot slot" xkv_up --cache-slots 1
check_show "48 keys in 1 slot: 0 stale, XDP hits" coherence 48
check "down" down_clean
tap_done
