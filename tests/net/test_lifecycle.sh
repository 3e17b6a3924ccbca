#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# test_lifecycle.sh - xkv up/down/attach/detach on a veth in a network
# namespace: what is refused, what a failure leaves (nothing), what down
# leaves (nothing), and the read-only commands on a running instance.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

skip_unless_root

# --- the checks (functions, run by check) -----------------------------------

help_works() {
	"$XKV" --help | grep -q "^  up "
	local c
	for c in up down attach detach status stats flush allow tcp-fast; do
		"$XKV" "$c" --help | grep -q "^Usage: xkv $c" || {
			echo "xkv $c --help"
			return 1
		}
	done
}

port_listening() {
	in_s ss -Htln "sport = :11211" | grep -q .
}

port_taken() {
	local rc=0
	# nsenter execs python: $! is the holder itself
	nsenter --net="/var/run/netns/$XKV_NS_S" "$PY" -c '
import socket, sys, time
s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("::", 11211)); s.listen(1)
print("listening", flush=True)
time.sleep(30)' >/dev/null &
	local holder=$!
	wait_for 10 port_listening
	up_refused "port 11211 is taken" || rc=$?
	kill "$holder" 2>/dev/null || true
	wait "$holder" 2>/dev/null || true
	return "$rc"
}

backend_dies() {
	XKV_BACKEND=/bin/false up_refused "exited with status 1"
}

# xkvd itself fails to bind (an address this host does not have), after
# XDP was attached: everything is undone
backend_cannot_bind() {
	up_refused "exited with status" --listen 10.99.99.99
}

# SIGINT to xkv while it waits for a backend that never answers
interrupted_up() {
	local sleeper xkv rc=0
	sleeper=$(mktemp)
	printf '#!/bin/sh\nexec sleep 60\n' >"$sleeper"
	chmod +x "$sleeper"
	XKV_BACKEND=$sleeper nsenter --net="/var/run/netns/$XKV_NS_S" \
		"$XKV" up "$XKV_IF_S" --wait 30 >/dev/null 2>&1 &
	xkv=$!
	wait_for 15 backend_alive || { echo "backend never started"; rc=1; }
	local pid
	pid=$(backend_pid)
	kill -INT "$xkv"
	wait_for 20 not alive "$xkv" || { echo "xkv still runs"; rc=1; }
	rm -f "$sleeper"
	state_clean "$pid" || rc=1
	return "$rc"
}

other_prog_kept() {
	local before after rc=0
	in_s "$XDP_PASS" "$XKV_IF_S"
	before=$(xdp_prog_id)
	up_refused "another XDP program is attached" >/dev/null || true
	after=$(xdp_prog_id)
	if [ -z "$before" ] || [ "$before" != "$after" ]; then
		echo "program changed: $before -> $after"
		rc=1
	fi
	[ ! -e "$XKV_PINS" ] || { echo "pins made"; rc=1; }
	in_s "$XDP_PASS" -d "$XKV_IF_S"
	[ -z "$(xdp_prog_id)" ] || rc=1
	return "$rc"
}

up_ok() {
	xkv_up
	[ -n "$(xdp_prog_id)" ] || { echo "no XDP program"; return 1; }
	backend_alive || { echo "no backend"; return 1; }
}

status_json() {
	xkv_s status -j | "$PY" -c '
import json, sys
s = json.load(sys.stdin)
want = sys.argv[1]
me = [x for x in s if x["ifname"] == want]
assert len(me) == 1, s
me = me[0]
assert me["state"] == "up", me
assert me["mode"] in ("native", "generic"), me
assert me["port"] == 11211 and me["slots"] == 16384, me
assert me["backend_pid"] == int(sys.argv[2]), me
assert me["prog_id"] == int(sys.argv[3]), me
print(me)' "$XKV_IF_S" "$(backend_pid)" "$(xdp_prog_id)"
}

pins_have_btf() {
	local m
	for m in xkv_hot xkv_stats xkv_allow4 xkv_allow6 xkv_rodata \
		 xkv_link xkv_xdp; do
		[ -e "$XKV_PINS/$m" ] || { echo "no pin $m"; return 1; }
	done
	bpftool map dump pinned "$XKV_PINS/xkv_rodata" | grep -q '"port": 11211'
	bpftool map dump pinned "$XKV_PINS/xkv_stats" | grep -q '"hits":'
	bpftool -j map show pinned "$XKV_PINS/xkv_hot" |
		grep -q '"max_entries":16384'
}

second_up_refused() {
	local before
	before=$(xdp_prog_id)
	up_refused_running "already up" || return 1
	[ "$(xdp_prog_id)" = "$before" ] || { echo "program changed"; return 1; }
	# attach is refused the same way
	up_refused_running "already up" attach || return 1
}

# like up_refused, for a running instance: must stay as it is
up_refused_running() {
	local pattern=$1 cmd=${2:-up} out rc=0
	out=$(xkv_s "$cmd" "$XKV_IF_S" 2>&1) || rc=$?
	echo "$out"
	[ "$rc" != 0 ] && echo "$out" | grep -q "$pattern"
}

detach_refused() {
	local out rc=0
	out=$(xkv_s detach "$XKV_IF_S" 2>&1) || rc=$?
	echo "$out"
	[ "$rc" != 0 ] && echo "$out" | grep -q "xkv down" &&
		[ -n "$(xdp_prog_id)" ]
}

stats_json() {
	xkv_s stats "$XKV_IF_S" -j | "$PY" -c '
import json, sys
s = json.load(sys.stdin)[0]
for k in ("packets", "requests", "hits", "replies", "misses", "errors",
          "pass_not_allowed", "pass_busy"):
    assert isinstance(s[k], int), k
print(s)'
	# every packet is counted once by its outcome
	xkv_s stats "$XKV_IF_S" -j | "$PY" -c '
import json, sys
s = json.load(sys.stdin)[0]
out = s["replies"] + s["misses"] + s["errors"] + sum(
    v for k, v in s.items() if k.startswith("pass_"))
assert s["packets"] == out, (s["packets"], out)'
}

stats_watch() {
	local n
	n=$(xkv_s stats "$XKV_IF_S" -w --count 3 -i 100 -j | wc -l)
	[ "$n" = 3 ] || { echo "$n samples, want 3"; return 1; }
	xkv_s stats "$XKV_IF_S" -w --count 2 -i 100 | grep -q "/s "
}

allow_default() {
	local l
	l=$(xkv_s allow "$XKV_IF_S" list)
	echo "$l"
	echo "$l" | grep -qx "$XKV_SUBNET" &&
		echo "$l" | grep -qx "fd00:123::/64" &&
		! echo "$l" | grep -Eq "^(127\.|::1/)"
}

down_clean() {
	local pid
	pid=$(backend_pid)
	xkv_s down "$XKV_IF_S"
	state_clean "$pid"
}

attach_detach() {
	xkv_s attach "$XKV_IF_S" --mode native
	[ -n "$(xdp_prog_id)" ] || return 1
	xkv_s status "$XKV_IF_S" | grep -q "^$XKV_IF_S: attached, xdp "
	xkv_s detach "$XKV_IF_S"
	state_clean
}

# attach --mode native where native XDP is missing (a bridge has none):
# generic mode, with the program loaded again with generic mode's
# settings (XKV_CFG_HEAD_ONLY, 0x8: loader/upcfg.c), not native mode's
native_fallback() {
	local br=xkvbr0 out rc=0 flags='' mode=''
	local pins=/sys/fs/bpf/xkv/$br
	in_s ip link add "$br" type bridge || return 1
	in_s ip link set "$br" up
	out=$(xkv_s attach "$br" --mode native 2>&1) || rc=$?
	echo "$out"
	if [ "$rc" = 0 ]; then
		flags=$(bpftool -j map dump pinned "$pins/xkv_rodata" |
			"$PY" -c 'import json, sys
print(json.load(sys.stdin)[0]["formatted"]["value"][".rodata"][0]["xkv_cfg"]["flags"])')
		mode=$(xkv_s status -j "$br" | "$PY" -c 'import json, sys
print(json.load(sys.stdin)[0]["mode"])')
		xkv_s detach "$br" || rc=1
	fi
	in_s ip link del "$br"
	echo "attach exit $rc, mode $mode, flags $flags"
	[ "$rc" = 0 ] && [ ! -e "$pins" ] && [ "$mode" = generic ] &&
		echo "$out" | grep -q "native XDP not available" &&
		[ -n "$flags" ] && [ $((flags & 8)) = 8 ]
}

# "ip netns exec" remounts /sys: xkv mounts a bpffs itself there
netns_exec() {
	# shellcheck disable=SC2016 # expanded by the inner shell
	ip netns exec "$XKV_NS_S" sh -c '
		mount | grep -q " /sys/fs/bpf type bpf" && exit 3
		"$1" attach "$2" && "$1" status "$2" | grep -q "^$2: attached" &&
			"$1" detach "$2"' sh "$XKV" "$XKV_IF_S"
	state_clean
}

foreground_down() {
	local xkv pid
	nsenter --net="/var/run/netns/$XKV_NS_S" "$XKV" up "$XKV_IF_S" \
		--mode native --foreground >/dev/null 2>&1 &
	xkv=$!
	wait_for 15 backend_alive || { echo "no backend"; return 1; }
	wait_for 15 in_c "$PY" -c '
import socket; s = socket.create_connection(("'"$XKV_ADDR_S"'", 11211), 1)
s.sendall(b"version\r\n"); assert s.recv(100).startswith(b"VERSION")'
	pid=$(backend_pid)
	kill -TERM "$xkv"
	wait_for 20 not alive "$xkv" || { echo "xkv still runs"; return 1; }
	wait "$xkv" || { echo "xkv exited with status $?"; return 1; }
	state_clean "$pid"
}

# --- the plan ---------------------------------------------------------------

tap_plan 21
setup_pair
check "xkv and every subcommand have --help" help_works
check "up --learn-ttl without --backend memcached is refused, changes nothing" \
	up_refused "with --backend memcached only" --learn-ttl 500
check "up --cache-slots 1000 is refused and changes nothing" \
	up_refused "power of two" --cache-slots 1000
check "up on a taken port is refused and changes nothing" port_taken
check "up whose backend dies is undone: interface as it was" backend_dies
check "up whose xkvd cannot bind is undone: interface as it was" \
	backend_cannot_bind
check "Ctrl-C during up undoes it: interface as it was" interrupted_up
check "up next to another XDP program refuses, keeps that program" \
	other_prog_kept
check "up attaches XDP on the veth and starts the backend" up_ok
check "status -j: up, mode, port, slots, backend pid, prog id" status_json
check "pins carry BTF (bpftool map dump pinned)" pins_have_btf
check "a second up (and attach) is refused, nothing stacked" \
	second_up_refused
check "detach is refused while the backend runs" detach_refused
check "stats -j has the counters; packets = sum of outcomes" stats_json
check "stats -w --count N prints N samples with rates" stats_watch
check "default allowlist: the veth's subnets, no loopback" allow_default
check "down: no XDP program, no pins, no backend" down_clean
check "attach/detach without a backend leave nothing behind" \
	attach_detach
check "attach --mode native without native XDP: generic, loaded with its settings (HEAD_ONLY)" \
	native_fallback
check "under ip netns exec xkv mounts a bpffs; attach/detach work" \
	netns_exec
check "up --foreground: SIGTERM to xkv takes everything down" \
	foreground_down
tap_done
