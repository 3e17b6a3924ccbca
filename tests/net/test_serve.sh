#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# test_serve.sh - the hot tier serving a client in another namespace:
# a value set over TCP is served to UDP gets by XDP (the hit counter says
# so) with the exact bytes the backend would send, over IPv4 and IPv6;
# the allowlist and "xkv flush" work; and after every write command is
# acknowledged, the next UDP get shows its effect, never the old value.
# xkvd, started by xkv up as root, runs as an unprivileged user.
#
#   XKV_NET_MODE=native|generic   the XDP mode asked (default native)
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

skip_unless_root

WRITES="set add replace append prepend cas delete incr decr touch
	touch-expiry gat gats flush_all flush_all-delay"

mc6() {
	in_c "$PY" "$MC" --host "$XKV_ADDR6_S" --tcp-host "$XKV_ADDR_S" \
		--xkv "$XKV" --iface "$XKV_IF_S" "$@"
}

up_ok() {
	local mode
	xkv_up
	xkv_s status "$XKV_IF_S"
	mode=$(xkv_mode)
	# native may fall back to generic; generic must be generic
	[ "$XKV_NET_MODE" = native ] || [ "$mode" = "$XKV_NET_MODE" ] || {
		echo "mode $mode, asked $XKV_NET_MODE"
		return 1
	}
}

xkvd_unprivileged() {
	local pid
	pid=$(backend_pid)
	if [ -z "$pid" ]; then
		echo "no backend process: xkv.ko serves"
		return 0
	fi
	runs_unprivileged "$pid"
}

down_clean() {
	local pid
	pid=$(backend_pid)
	xkv_s down "$XKV_IF_S"
	state_clean "$pid"
}

n=0
for w in $WRITES; do
	n=$((n + 1))
done
tap_plan $((n + 11))
setup_pair
check "xkv up on the server veth ($XKV_NET_MODE mode asked)" up_ok
check "the backend runs as an unprivileged user" xkvd_unprivileged
check "set over TCP, then UDP get served by XDP, exact bytes" mc serve
check "gets (CAS) and multi-get served by XDP; partial hit passed" \
	mc gets
check "IPv6: UDP get served by XDP, exact bytes" mc6 serve
check "mg (k b O q) over UDP and TCP: XDP sends what xkvd does; not after W" \
	mc meta
check "binary GETs over UDP served by XDP with the bytes xkvd sends" \
	mc binary
check "binary GETs over TCP answered by the fast path as xkvd does" \
	mc tcpbin
check "allowlist: none passes to the backend, add brings XDP back" \
	mc allow
check "xkv flush empties the hot tier, values stay" mc flush
for w in $WRITES; do
	check "after $w is acknowledged the next UDP get shows it" \
		mc write "$w"
done
check "down leaves nothing" down_clean
tap_done
