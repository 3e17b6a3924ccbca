#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# test_live.sh - XDP input over a veth pair: keys holding every byte value
# the store accepts are served with the backend's exact reply; and when
# the backend dies (kill -9), XDP stops answering within a second, for
# xkvd and for a stock memcached in learning mode, and "xkv down" still
# cleans up after it.
#
#   XKV_NET_MODE=native|generic   the XDP mode asked (default native)
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

skip_unless_root
export MEMCACHED=${XKV_MEMCACHED:-/usr/bin/memcached}
export QUIET=200
export LIVE="$PWD/tests/net/live.py"

live() {
	in_c "$PY" "$LIVE" --host "$XKV_ADDR_S" --xkv "$XKV" \
		--iface "$XKV_IF_S" "$@"
}

# the backend dies: XDP stops answering within a second
dies() {
	local pid
	pid=$(backend_pid)
	[ -n "$pid" ] || {
		echo "no backend pid"
		return 1
	}
	live "$@" dead "$pid"
}

down_clean() {
	xkv_s down "$XKV_IF_S"
	state_clean
}

learn_up() {
	xkv_up --backend memcached --memcached "$MEMCACHED" \
		--learn-quiet "$QUIET" -- -m 64 -t 2
}

tap_plan 8
setup_pair
check "xkv up with xkvd" xkv_up
check "keys with every byte value served by XDP, the backend's bytes" \
	live keys
check "xkvd killed: XDP stops answering within 1 s" dies
check "down after the backend died leaves nothing" down_clean
if [ -x "$MEMCACHED" ]; then
	check "xkv up --backend memcached (learning mode)" learn_up
	check "learning mode: keys with every byte value, memcached's bytes" \
		live --learn-quiet "$QUIET" keys
	check "memcached killed: XDP stops answering within 1 s" \
		dies --learn-quiet "$QUIET"
	check "down after memcached died leaves nothing" down_clean
else
	for _ in 1 2 3 4; do
		TAP_N=$((TAP_N + 1))
		echo "ok $TAP_N # SKIP no $MEMCACHED"
	done
fi
tap_done
