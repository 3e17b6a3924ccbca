#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# test_live.sh - XDP input over a veth pair: XDP knows the veth's own and
# broadcast addresses (what the stack drops from or to them, it passes);
# keys holding every byte value
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

# xkv_addrs holds the veth's addresses and its /24's broadcast address
own_addrs() {
	bpftool -j map dump pinned "$XKV_PINS/xkv_addrs" | "$PY" -c '
import json, sys
got = {tuple(e["formatted"]["key"]["addr"]): e["formatted"]["value"]
       for e in json.load(sys.stdin)}
v4 = lambda *a: (0,) * 10 + (255, 255) + a
want = {v4(10, 123, 0, 1): 1, v4(10, 123, 0, 255): 2,
        (0xfd, 0, 1, 0x23) + (0,) * 11 + (1,): 1}
print(got)
sys.exit(any(got.get(k) != v for k, v in want.items()))'
}

down_clean() {
	xkv_s down "$XKV_IF_S"
	state_clean
}

learn_up() {
	xkv_up --backend memcached --memcached "$MEMCACHED" \
		--learn-quiet "$QUIET" -- -m 64 -t 2
}

tap_plan 9
setup_pair
check "xkv up with xkvd" xkv_up
check "XDP knows the veth's own and broadcast addresses" own_addrs
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
