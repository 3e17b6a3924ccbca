#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# test_stream.sh - TCP streams stay right over the veth pair: stream.py's
# pipelining writers (every reply checked in order against a model) and
# its readers (never a value older than one acknowledged or read), in
# "mix" and plain-"get" modes, against a stock memcached and a plain xkvd
# (no XDP on the server side), each also while xdp_pass drops 2% of the
# frames the client end receives and 2% of those it sends. A broken fast
# path (staleproxy.py: a cache that answers single gets and is never
# invalidated) must make stream.py fail.
#
# When "xkv up -h" offers --tcp-fast (issue 10), the same runs go through
# "xkv up" with the TCP fast path: its hit counter (xkv stats -j: .tcp.hits)
# must move; with loss, also in "burst" mode (gets sent back to back, a
# segment each: one XDP answers, the ones behind it the backend);
# pymemcache (pyclient.py) and libmemcached's memcaslap are served
# through it, memccp/memccat and memccapable -a work through it;
# "xkv tcp-fast IFACE off" halfway through a run leaves every open
# connection working, and so does
# "xkv tcp-fast IFACE on" (connections that existed before it), after
# which new connections are answered again. Without --tcp-fast those tests
# are skipped. stream.py's connections also end and reopen now and then
# (close, RST, half-close): see its --churn.
#
#   XKV_STREAM_D   seconds of each stream.py run (default 5)
#   XKV_DROP       percent of frames dropped each way (default 2)
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

skip_unless_root
set -a
MEMCACHED=${XKV_MEMCACHED:-/usr/bin/memcached}
STREAM="$PWD/tests/net/stream.py"
PROXY="$PWD/tests/net/staleproxy.py"
PYCLIENT="$PWD/tests/net/pyclient.py"
D=${XKV_STREAM_D:-5}
DROP=${XKV_DROP:-2}
PORT=11211
LOGD=$(mktemp -d)
SRV_PID=
RUN_USER=memcache
set +a
id "$RUN_USER" >/dev/null 2>&1 || RUN_USER=nobody

# stream ARGS...: stream.py in the client namespace against the server
stream() {
	in_c "$PY" "$STREAM" "$@" "$XKV_ADDR_S" "$PORT"
}

# srv NAME CMD...: a server in the server namespace (not under check: its
# pid must reach EXTRA_PIDS); "listening" checks that it came up
srv() {
	local name=$1
	shift
	# nsenter execs CMD: $! is the server itself
	nsenter --net="/var/run/netns/$XKV_NS_S" "$@" \
		>"$LOGD/$name.log" 2>&1 &
	SRV_PID=$!
	EXTRA_PIDS+=("$SRV_PID")
	wait_for 10 in_s ss -Htln "sport = :$PORT" || true
}

listening() {
	if ! in_s ss -Htln "sport = :$PORT" | grep -q .; then
		echo "nothing listens on :$PORT; log:"
		cat "$LOGD"/*.log
		return 1
	fi
}

# srv_stop: SIGTERM the last server started, and wait for it
srv_stop() {
	[ -n "$SRV_PID" ] || return 0
	kill -TERM "$SRV_PID" 2>/dev/null || true
	wait "$SRV_PID" 2>/dev/null || true
	SRV_PID=
	wait_for 10 not in_s ss -Htln "sport = :$PORT" || true
}

# drops_on / drops_off: the client end's droppers (xdp_pass -p/-e), or
# its plain XDP_PASS program again
drops_on() {
	in_c "$XDP_PASS" -p "$DROP" -e "$DROP" "$XKV_IF_C"
}

drops_off() {
	in_c "$XDP_PASS" "$XKV_IF_C"
}

# lossy ARGS...: stream.py while frames are dropped both ways; the drop
# counters and the client's retransmissions must show that frames were lost
lossy() {
	local rc=0 out
	drops_on || return 1
	NSTAT_HISTORY=$LOGD/nstat.c in_c nstat -n
	NSTAT_HISTORY=$LOGD/nstat.s in_s nstat -n
	stream "$@" || rc=$?
	out=$(in_c "$XDP_PASS" -s "$XKV_IF_C")
	drops_off || return 1
	echo "$out"
	echo "client, then server: segments retransmitted, SACK recoveries"
	NSTAT_HISTORY=$LOGD/nstat.c in_c nstat TcpRetransSegs \
		TcpExtTCPSackRecovery | sed -n '2,$p'
	NSTAT_HISTORY=$LOGD/nstat.s in_s nstat TcpRetransSegs \
		TcpExtTCPSackRecovery | sed -n '2,$p'
	[ "$rc" = 0 ] || return 1
	for d in rx tx; do
		if ! echo "$out" | grep -q "^$d: seen [0-9]*, dropped [1-9]"; then
			echo "no frame dropped ($d)"
			return 1
		fi
	done
}

# stale_caught: stream.py through staleproxy.py (in the client namespace)
# must report a mismatch
stale_caught() {
	local rc=0 pid
	# nsenter execs the proxy, so $! is the proxy itself; it also ends
	# by itself (-t) and drops inherited fds (a flock(1) lock)
	nsenter --net="/var/run/netns/$XKV_NS_C" "$PY" "$PROXY" -t 30 \
		11311 "$XKV_ADDR_S" "$PORT" &
	pid=$!
	wait_for 5 in_c ss -Htln "sport = :11311"
	in_c "$PY" "$STREAM" -m get -d 4 127.0.0.1 11311 \
		>"$LOGD/stale.out" 2>&1 || rc=$?
	kill "$pid"
	wait "$pid" 2>/dev/null || true
	head -c 1500 "$LOGD/stale.out"
	echo
	[ "$rc" = 1 ] && grep -q "MISMATCH" "$LOGD/stale.out"
}

# --- the TCP fast path (guarded) -------------------------------------------

# the fast path's counters on the server veth (xkv stats -j: .tcp), one
# "name value" a line, hits first
tcp_stats() {
	xkv_s stats -j "$XKV_IF_S" | "$PY" -c '
import json, sys
tcp = json.load(sys.stdin)[0]["tcp"]
print("hits", tcp["hits"])
for k, v in tcp.items():
    if k != "hits" and v:
        print(k, v)'
}

# hits_move CMD...: CMD passes, and the fast path answered while it ran;
# the counters that moved are printed either way
hits_move() {
	local before after rc=0
	before=$(tcp_stats) || return 1
	"$@" || rc=1
	after=$(tcp_stats) || return 1
	echo "fast path counters that moved, before -> after:"
	join -a 2 <(echo "$before" | sort) <(echo "$after" | sort) |
		awk '{ if (NF == 2) print "  " $1 ": 0 -> " $2;
		       else if ($2 != $3) print "  " $1 ": " $2 " -> " $3 }' |
		grep . || echo "  none ($(echo "$after" | head -n1))"
	[ "$rc" = 0 ] || return 1
	[ "$(echo "$after" | sed -n 's/^hits //p')" -gt \
		"$(echo "$before" | sed -n 's/^hits //p')" ]
}

pyclient() {
	in_c "$PY" "$PYCLIENT" "$XKV_ADDR_S" "$PORT"
}

# libmemcached's tools: memccp stores a file, memccat reads it back (one
# "get" a connection), 200 times. A first request on a fresh connection
# usually arrives before the backend has accepted it and published it, so
# memccat is served by the backend: checked for bytes only
memc_tools() {
	local f="$LOGD/memc.data" key=memc.data i got
	head -c 30 /dev/urandom | base64 -w 0 >"$f"
	in_c memccp --servers="$XKV_ADDR_S:$PORT" "$f" || return 1
	for i in $(seq 200); do
		got=$(in_c memccat --servers="$XKV_ADDR_S:$PORT" "$key") ||
			return 1
		if [ "$got" != "$(cat "$f")" ]; then
			echo "memccat read $i: ${got:0:80}..., not the file"
			return 1
		fi
	done
	echo "memccat read the file back 200 times"
}

# libmemcached's load generator: 4 connections store 1024 keys each,
# then GET them one at a time for 2 s, checking every value (-v 1); no
# miss and no wrong value may be reported
memcaslap_gets() {
	local cfg="$LOGD/caslap.cfg" out
	printf 'key\n16 16 1\nvalue\n32 32 1\ncmd\n0 0\n1 1\n' >"$cfg"
	out=$(in_c timeout 30 memcaslap -s "$XKV_ADDR_S:$PORT" -F "$cfg" \
		-T 1 -c 4 -w 1k -t 3s -v 1 2>&1) || { echo "$out"; return 1; }
	echo "$out" | grep -E "^(cmd_get|get_misses|verify_misses|verify_failed)"
	echo "$out" | grep -Eq "^verify_failed: *0$" &&
		echo "$out" | grep -Eq "^get_misses: *0$" &&
		echo "$out" | grep -Eq "^verify_misses: *0$"
}

memccapable_through() {
	in_c memccapable -a -t 5 -h "$XKV_ADDR_S" -p "$PORT"
}

# switch_midway on|off: stream.py runs 2*D s (no churn: its connections
# all open before the switch); after D s the fast path is switched; every
# connection must keep working to the end
switch_midway() {
	local rc=0 pid
	stream --churn 0 -d $((2 * D)) >"$LOGD/switch.out" 2>&1 &
	pid=$!
	sleep "$D"
	xkv_s tcp-fast "$XKV_IF_S" "$1" || rc=1
	wait "$pid" || rc=1
	cat "$LOGD/switch.out"
	xkv_s status "$XKV_IF_S" || rc=1
	return "$rc"
}

# down_drained: "xkv down" keeps the fast path's TC filters while
# connections it follows are open; every client has gone, so within 15 s
# another "xkv down" must leave nothing
drained() {
	state_clean && return 0
	xkv_s down -q "$XKV_IF_S"
	state_clean
}

down_drained() {
	if ! wait_for 15 drained; then
		xkv_s status "$XKV_IF_S"
		in_s ss -Htan "sport = :$PORT" | awk '{ print $1 }' |
			sort | uniq -c
		state_clean
		return 1
	fi
}

FAST=0
if "$XKV" up -h 2>&1 | grep -q -- --tcp-fast; then
	FAST=1
fi

tap_plan 25
setup_pair

if [ -x "$MEMCACHED" ]; then
	srv memcached "$MEMCACHED" -u "$RUN_USER" -l "$XKV_ADDR_S" -p "$PORT" \
		-U 0 -m 64 -t 2
	check "memcached listens" listening
	check_show "memcached: pipelined mix, readers never see an older value" \
		stream -d "$D"
	check_show "memcached: plain single gets of hot keys" \
		stream -m get -d "$D"
	check_show "memcached: mix while $DROP% of frames are lost each way" \
		lossy -d "$D"
	drops_off	# if the check timed out
	srv_stop
else
	for _ in 1 2 3 4; do
		TAP_N=$((TAP_N + 1))
		echo "ok $TAP_N # SKIP no $MEMCACHED"
	done
fi

srv xkvd "$XKVD" -u "$RUN_USER" -l "$XKV_ADDR_S" -p "$PORT" -t 2 -m 64
check "xkvd listens" listening
check_show "xkvd: pipelined mix, readers never see an older value" \
	stream -d "$D"
check_show "xkvd: plain single gets of hot keys" stream -m get -d "$D"
check_show "xkvd: mix while $DROP% of frames are lost each way" \
	lossy -d "$D"
drops_off
check_show "a stale cache in front of xkvd makes stream.py fail" \
	stale_caught
srv_stop

if [ "$FAST" = 1 ]; then
	check "xkv up with the TCP fast path" xkv_up
	check_show "fast path: pipelined mix (hits counted)" \
		hits_move stream -d "$D"
	check_show "fast path: plain single gets of hot keys (hits counted)" \
		hits_move stream -m get -d "$D"
	check_show "fast path: mix while $DROP% of frames are lost each way" \
		hits_move lossy -d "$D"
	check_show "fast path: get mode while $DROP% of frames are lost" \
		hits_move lossy -m get -d "$D"
	check_show "fast path: bursts of gets, a segment each, while $DROP% of frames are lost" \
		hits_move lossy -m burst -d "$D"
	drops_off
	check_show "fast path: pymemcache served (hits counted)" \
		hits_move pyclient
	check_show "fast path: memccp/memccat through it" memc_tools
	check_show "fast path: memcaslap GETs served (hits counted)" \
		hits_move memcaslap_gets
	check_show "fast path: memccapable -a through it" memccapable_through
	check_show "fast path off halfway through a run: connections work" \
		switch_midway off
	check_show "while off: new connections work" stream -d 2
	check_show "fast path on halfway through a run: connections work" \
		switch_midway on
	check_show "on again: new connections answered (hits counted)" \
		hits_move stream -m get -d 2
	check_show "xkv down" xkv_s down "$XKV_IF_S"
	check_show "nothing left within 15 s (connections closed)" down_drained
else
	for _ in $(seq 16); do
		TAP_N=$((TAP_N + 1))
		echo "ok $TAP_N # SKIP xkv up has no --tcp-fast"
	done
fi
stop_extra
rm -rf "$LOGD"
tap_done
