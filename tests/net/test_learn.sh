#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# test_learn.sh - "xkv up --backend memcached": Debian's memcached behind
# the XDP hot tier in learning mode (bpf/LEARNING.md), on the server veth.
# Refused and failed ups leave the interface as it was (no XDP program, no
# tc filter or clsact qdisc, no pins, no memcached); a value set over TCP
# is learned from memcached's reply to a UDP get and then served by XDP,
# exact bytes (the hit and learned counters of xkv stats -j say so); after
# each write command is acknowledged the next UDP get shows its effect;
# status shows learning mode and the TC programs; down leaves nothing, and
# keeps a clsact qdisc it did not create. memcached runs as an unprivileged
# user, and a forged reply sent from memcached's UDP port by a process of
# another user (nobody) is never learned. memcached's UDP port gets xkv's
# UDP policy from the TC programs: replies within 64x the request (from
# the client's namespace over the veth, and from the server's own over
# lo), no reply and no effect for spoofed datagrams from outside the
# allowlist, from memcached's own port, or that look like replies.
#
#   XKV_NET_MODE=native|generic   the XDP mode asked (default native)
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

skip_unless_root
MEMCACHED=${XKV_MEMCACHED:-/usr/bin/memcached}
if [ ! -x "$MEMCACHED" ]; then
	echo "1..0 # SKIP no $MEMCACHED (apt-get install memcached)"
	exit 0
fi

# The write quarantine: nothing is learned for a key until this long after
# a write to it. The default (1000 ms) covers a loaded memcached; here the
# only load is the test itself, and every warm-up after a write waits this
# long, so 200 ms keeps the run short.
export QUIET=200

# the write commands whose effect the next UDP get must show (mc.py);
# touch-expiry and flush_all-delay expect XDP to serve a key that has an
# expiry pending, which learning refuses to learn by design
WRITES="set add replace append prepend cas delete incr decr touch gat gats
	flush_all"

xkv_up_learn() {
	xkv_up --backend memcached --memcached "$MEMCACHED" \
		--learn-quiet "$QUIET" "$@" -- -m 64 -t 2
}

mcl() {
	mc --learn-quiet "$QUIET" "$@"
}

export UP="$PWD/tests/net/udp_policy.py"

# amp_bounded c|s: reply bytes / request bytes of UDP gets of big values,
# from the client namespace (c, over the veth) or the server's (s, lo)
amp_bounded() {
	"in_$1" "$PY" "$UP" amp --host "$XKV_ADDR_S" --port 11211 --ratio 64
}

# spoof SRC SPORT PAYLOAD [ARGS...]: a raw datagram from the client
# namespace to memcached; count what the server namespace sends in 1 s
spoof() {
	local src=$1 sport=$2 payload=$3
	shift 3
	in_c "$PY" "$UP" spoof --src "$src" --sport "$sport" \
		--host "$XKV_ADDR_S" --port 11211 --payload "$payload" \
		--count-ns "$XKV_NS_S" --secs 1 "$@"
}

# the allowlist is the client alone; 10.123.0.3, routable but not in it,
# sends a set: dropped at ingress, so no reply and no effect
spoof_not_allowed() {
	local rc=0
	xkv_s allow "$XKV_IF_S" del "$XKV_SUBNET" &&
		xkv_s allow "$XKV_IF_S" add "$XKV_ADDR_C/32" || return 1
	spoof 10.123.0.3 40000 'set na 0 0 1\r\nx\r\n' --miss na || rc=1
	spoof "$XKV_ADDR_C" 40000 'get x\r\n' --min 1 --max 1 || rc=1
	xkv_s allow "$XKV_IF_S" del "$XKV_ADDR_C/32" &&
		xkv_s allow "$XKV_IF_S" add "$XKV_SUBNET" || rc=1
	return "$rc"
}

# the UDP policy's counters, in text and JSON
stats_policy() {
	xkv_s stats "$XKV_IF_S" | grep -Eq "^  udp_drop_source +[1-9]" ||
		return 1
	xkv_s stats -j "$XKV_IF_S" | "$PY" -c '
import json, sys
l = json.load(sys.stdin)[0]["learning"]
assert l["udp_drop_source"] >= 2 and l["udp_drop_reply"] >= 1, l
assert l["udp_drop_budget"] > 0, l
print({k: v for k, v in l.items() if k.startswith("udp_drop")})'
}

# memcached processes living in the server namespace
ns_memcached() {
	local p
	for p in $(ip netns pids "$XKV_NS_S" 2>/dev/null); do
		[ "$(ps -o comm= -p "$p" 2>/dev/null)" != memcached ] ||
			echo "$p"
	done
}

# our filters on an interface of the server namespace (none: empty)
learn_filters() {
	in_s tc filter show dev "$1" ingress 2>/dev/null | grep xkv_learn || true
	in_s tc filter show dev "$1" egress 2>/dev/null | grep xkv_learn || true
}

# state_clean, and nothing on the server's lo either, no memcached left
learn_clean() {
	state_clean "$@" || return 1
	if in_s tc qdisc show dev lo | grep -q clsact; then
		echo "qdisc left on lo:"
		in_s tc qdisc show dev lo
		return 1
	fi
	if [ -n "$(learn_filters "$XKV_IF_S")$(learn_filters lo)" ]; then
		echo "learning filters left"
		return 1
	fi
	if ! wait_for 5 test -z "$(ns_memcached)"; then
		echo "memcached left running: $(ns_memcached)"
		return 1
	fi
}

# up_refused PATTERN ARG...: up must fail, say PATTERN, change nothing
up_refused() {
	refused "$1" learn_clean xkv_up_learn "${@:2}"
}

refused_usage() {
	local out rc
	up_refused "memcached '/nonexistent'" --memcached /nonexistent || return 1
	up_refused "are for xkv.ko and xkvd" --module /tmp/xkv.ko || return 1
	up_refused "are for xkv.ko and xkvd" --backend-cmd /bin/true || return 1
	up_refused "at least 64" --cache-slots 16 || return 1
	up_refused "no such user" --user xkv-no-such-user || return 1
	# memcached flags xkv sets itself
	rc=0
	out=$(xkv_up --backend memcached -- -B binary 2>&1) || rc=$?
	echo "$out"
	if [ "$rc" = 0 ] || ! echo "$out" | grep -q "flag '-B'"; then
		return 1
	fi
	learn_clean || return 1
	# learning options without learning mode
	rc=0
	out=$(xkv_up --backend xkvd --learn-ttl 500 2>&1) || rc=$?
	echo "$out"
	if [ "$rc" = 0 ] || ! echo "$out" | grep -q "with --backend memcached"; then
		return 1
	fi
	learn_clean
}

port_listening() {
	in_s ss -Htln "sport = :11211" | grep -q .
}

port_taken() {
	local holder rc=0
	# nsenter execs python: $! is the holder itself
	nsenter --net="/var/run/netns/$XKV_NS_S" "$PY" -c '
import socket, time
s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("::", 11211)); s.listen(1)
time.sleep(30)' >/dev/null &
	holder=$!
	wait_for 10 port_listening || rc=1
	up_refused "port 11211 is taken" || rc=1
	kill "$holder" 2>/dev/null || true
	wait "$holder" 2>/dev/null || true
	return "$rc"
}

# memcached cannot bind (an address this host does not have): it exits
# after XDP and the learning filters were attached; all of it is undone
memcached_fails() {
	up_refused "exited with status" --listen 10.99.99.99
}

# SIGINT to xkv while it waits for a memcached that never answers
interrupted_up() {
	local sleeper xkv pid rc=0
	sleeper=$(mktemp)
	printf '#!/bin/sh\nexec sleep 60\n' >"$sleeper"
	chmod +x "$sleeper"
	nsenter --net="/var/run/netns/$XKV_NS_S" "$XKV" up "$XKV_IF_S" \
		--backend memcached --memcached "$sleeper" --wait 30 \
		>/dev/null 2>&1 &
	xkv=$!
	wait_for 15 backend_alive || { echo "backend never started"; rc=1; }
	pid=$(backend_pid)
	[ -n "$(learn_filters "$XKV_IF_S")" ] || { echo "no filters"; rc=1; }
	kill -INT "$xkv"
	wait_for 20 not alive "$xkv" || { echo "xkv still runs"; rc=1; }
	rm -f "$sleeper"
	learn_clean "$pid" || rc=1
	return "$rc"
}

up_ok() {
	local out
	out=$(xkv_up_learn)
	echo "$out"
	[ -n "$(xdp_prog_id)" ] || { echo "no XDP program"; return 1; }
	backend_alive || { echo "no backend"; return 1; }
	[ "$(ps -o comm= -p "$(backend_pid)")" = memcached ] || {
		echo "the backend is not memcached"
		return 1
	}
	if ! learn_filters "$XKV_IF_S" | grep -q xkv_learn_in ||
		! learn_filters "$XKV_IF_S" | grep -q xkv_learn_eg ||
		! learn_filters lo | grep -q xkv_learn_in; then
		echo "learning filters missing"
		return 1
	fi
}

memcached_unprivileged() {
	runs_unprivileged "$(backend_pid)"
}

# nobody binds memcached's UDP port (SO_REUSEADDR) and answers a GET
forged_reply() {
	mcl forge nsenter --net="/var/run/netns/$XKV_NS_S" \
		setpriv --reuid=nobody --regid=nogroup --clear-groups "$PY"
}

second_up_refused() {
	local out rc=0 before
	before=$(xkv_s status -j "$XKV_IF_S")
	out=$(xkv_up_learn 2>&1) || rc=$?
	echo "$out"
	[ "$rc" != 0 ] && echo "$out" | grep -q "already up" &&
		[ "$(xkv_s status -j "$XKV_IF_S")" = "$before" ]
}

# the ids tc reports for our filter on a hook of an interface
tc_prog_id() {
	in_s tc filter show dev "$1" "$2" |
		sed -n 's/.*xkv_learn_[a-z]*:\[\([0-9]*\)\].*/\1/p' | head -n1
}

status_learning() {
	local out in_id eg_id pid
	out=$(xkv_s status "$XKV_IF_S")
	echo "$out"
	pid=$(backend_pid)
	in_id=$(tc_prog_id "$XKV_IF_S" ingress)
	eg_id=$(tc_prog_id "$XKV_IF_S" egress)
	echo "$out" | grep -q "backend: memcached pid $pid (learning mode)" &&
		echo "$out" | grep -q "tc on $XKV_IF_S: ingress prog id $in_id, egress prog id $eg_id" &&
		echo "$out" | grep -q "tc on lo: ingress prog id $in_id" &&
		echo "$out" | grep -q "none learned for $QUIET ms" &&
		echo "$out" | grep -q "UDP policy on memcached's port: XDP's allowlist, replies at most 64 x" ||
		return 1
	xkv_s status -j "$XKV_IF_S" | "$PY" -c '
import json, sys
s = json.load(sys.stdin)[0]
assert s["state"] == "up" and s["backend"] == "memcached", s
assert s["backend_pid"] == int(sys.argv[1]), s
l = s["learning"]
assert l["quiet_ms"] == int(sys.argv[2]) and l["text_only"], l
assert l["udp_policy"] and l["amp_ratio"] == 64, l
tc = {t["ifname"]: t for t in l["tc"]}
assert tc[sys.argv[3]]["ingress_prog_id"] == int(sys.argv[4]), tc
assert tc[sys.argv[3]]["egress_prog_id"] == int(sys.argv[5]), tc
assert tc["lo"]["own_qdisc"], tc' "$pid" "$QUIET" "$XKV_IF_S" "$in_id" "$eg_id"
}

stats_learning() {
	xkv_s stats "$XKV_IF_S" | grep -q "learning (TC):" &&
		xkv_s stats "$XKV_IF_S" | grep -Eq "^  learned +[1-9]" || return 1
	xkv_s stats -j "$XKV_IF_S" | "$PY" -c '
import json, sys
s = json.load(sys.stdin)[0]
l = s["learning"]
assert l["learned"] > 0 and l["in_write_keys"] > 0 and l["eg_values"] > 0, l
assert l["errors"] == 0, l
print(l)'
}

down_clean() {
	local pid
	pid=$(backend_pid)
	xkv_s down "$XKV_IF_S"
	learn_clean "$pid"
}

# a clsact qdisc that was on the veth before stays: after a failed up,
# and after up and down (lo's, which xkv added, goes)
foreign_qdisc_kept() {
	local rc=0 pid
	in_s tc qdisc add dev "$XKV_IF_S" clsact
	if xkv_up_learn --listen 10.99.99.99 >/dev/null 2>&1; then
		echo "up with a bad address succeeded"
		rc=1
	fi
	in_s tc qdisc show dev "$XKV_IF_S" | grep -q clsact ||
		{ echo "failed up removed the qdisc"; rc=1; }
	xkv_up_learn >/dev/null || rc=1
	pid=$(backend_pid)
	xkv_s status "$XKV_IF_S" | grep "tc on" || true
	xkv_s down "$XKV_IF_S" || rc=1
	in_s tc qdisc show dev "$XKV_IF_S" | grep -q clsact ||
		{ echo "down removed a qdisc it did not add"; rc=1; }
	[ -z "$(learn_filters "$XKV_IF_S")" ] || { echo "filters left"; rc=1; }
	in_s tc qdisc del dev "$XKV_IF_S" clsact
	learn_clean "$pid" || rc=1
	return "$rc"
}

# --foreground: SIGTERM to xkv stops memcached and takes everything down
foreground_down() {
	local xkv pid
	nsenter --net="/var/run/netns/$XKV_NS_S" "$XKV" up "$XKV_IF_S" \
		--mode "$XKV_NET_MODE" --backend memcached --foreground \
		--learn-quiet "$QUIET" >/dev/null 2>&1 &
	xkv=$!
	wait_for 15 backend_alive || { echo "no backend"; return 1; }
	pid=$(backend_pid)
	kill -TERM "$xkv"
	wait_for 20 not alive "$xkv" || { echo "xkv still runs"; return 1; }
	wait "$xkv" || { echo "xkv exited with status $?"; return 1; }
	learn_clean "$pid"
}

n=0
for w in $WRITES; do
	n=$((n + 1))
done
tap_plan $((n + 22))
setup_pair
check "refused: no memcached, module/xkvd options, few slots, -B, learn opts alone" \
	refused_usage
check "up on a taken port is refused and changes nothing" port_taken
check "memcached failing after attach: everything undone" memcached_fails
check "Ctrl-C while memcached starts: everything undone" interrupted_up
check "up --backend memcached: XDP, TC on the veth and lo, memcached" up_ok
check "a second up is refused, nothing changed" second_up_refused
check "status: memcached pid, learning mode, TC program ids" \
	status_learning
check "memcached runs as an unprivileged user" memcached_unprivileged
check "set over TCP, UDP get learned, then served by XDP, exact bytes" \
	mcl serve
check "a forged reply from another user's process on memcached's port is never served" \
	forged_reply
for w in $WRITES; do
	check "after $w is acknowledged the next UDP get shows it" \
		mcl write "$w"
done
check "UDP policy: gets of big values draw at most 64x (veth)" \
	amp_bounded c
check "UDP policy: gets of big values draw at most 64x (lo)" \
	amp_bounded s
check "UDP policy: a spoofed get from the client is answered (control)" \
	spoof "$XKV_ADDR_C" 40000 'get x\r\n' --min 1 --max 1
check "UDP policy: a spoofed set from outside the allowlist: no reply, not run" \
	spoof_not_allowed
check "UDP policy: a spoofed set from memcached's own port: no reply, not run" \
	spoof "$XKV_ADDR_C" 11211 'set own 0 0 1\r\nx\r\n' --miss own
check "UDP policy: a spoofed ERROR line draws no reply (no loop)" \
	spoof "$XKV_ADDR_C" 40000 'ERROR\r\n'
check "UDP policy: drop counters in stats, text and JSON" stats_policy
check "stats: learning counters in text and JSON" stats_learning
check "down: no XDP, tc filter, qdisc, pins or memcached left" down_clean
check "a clsact qdisc that was there stays (failed up, up and down)" \
	foreign_qdisc_kept
check "up --foreground: SIGTERM to xkv takes everything down" \
	foreground_down
check "nothing left at the end" learn_clean
tap_done
