#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# tcpfast-tap.sh - the TCP fast path in the VM with xkv.ko behind it (busybox
# sh; TAP, for tests/vm/init.sh's suite()). Needs sch_ingress and cls_bpf
# loaded, /xkv.ko, and the guest's xkv, xkv-stream and xkv-load.
#
#   1  "xkv up lo --backend module --tcp-fast on": XDP and the TC filters
#      (clsact on lo) in front of the module
#   2  xkv-stream, pipelined mix (every reply checked in order against a
#      model; a reader never sees a value older than one acknowledged):
#      passes, and the fast path's hit counter (xkv stats -j: .tcp.hits)
#      moves
#   3  the same with plain single gets of hot keys (-m get)
#   4  "xkv down lo" (which unloads the module) while xkv-stream's
#      connections are open and being answered by XDP: it returns, the
#      module is gone, XDP is detached
#   5  those connections are closed by the server or keep working: no
#      wrong byte, no connection left silent (xkv-stream -E)
#   6  the TC filters follow the loader's draining rule: either gone with
#      the pins, or "xkv status lo" says draining; then, once the clients
#      have closed, "xkv down lo" removes everything
#   7  no BUG, WARNING, Oops or lockup in the kernel log since step 1
#
# Prints "xkv-vm: vm/tcp-fast ..." lines that tests/vm/run.sh shows.
#
#   XKV_STREAM_D  seconds of each xkv-stream run (default 3)

IF=lo
D=${XKV_STREAM_D:-3}
OUT=/tmp/tcpfast.out

# ok, not_ok, check, unloaded, tap_mark, dmesg_clean
# shellcheck source=tests/vm/tap-lib.sh
. /bin/xkv-tap-lib

say() {
	echo "xkv-vm: vm/tcp-fast $*"
}

# the fast path's hit counter on lo (empty without its stats map)
hits() {
	xkv stats -j $IF | tr -d ' \n' |
		sed -n 's/.*"tcp":{[^}]*"hits":\([0-9]*\).*/\1/p'
}

# stream WHAT ARGS...: xkv-stream passes and the hit counter moves
stream() {
	what=$1
	shift
	h0=$(hits)
	xkv-stream -p 11211 -d "$D" "$@" >/tmp/stream.out 2>&1
	rc=$?
	h1=$(hits)
	cat /tmp/stream.out
	say "$what: $(tail -n 1 /tmp/stream.out | sed 's/^stream: //');" \
		"tcp hits ${h0:-?} -> ${h1:-?}"
	[ $rc -eq 0 ] || return 1
	[ -n "$h0" ] && [ -n "$h1" ] && [ "$h1" -gt "$h0" ]
}

# verifier_log: why the XDP program did not load, from the verifier's
# log (xkv up -v): the instructions before the error and the error
verifier_log() {
	timeout 60 xkv up $IF -v --backend module --module /xkv.ko \
		--tcp-fast on -- threads=2 >/tmp/vlog.out 2>&1
	timeout 60 xkv down $IF --force >/dev/null 2>&1
	rmmod xkv 2>/dev/null
	n=$(grep -n -m 1 'processed [0-9]* insns' /tmp/vlog.out | cut -d: -f1)
	[ -n "$n" ] || return 0
	echo "the verifier's log before its verdict ($(wc -l </tmp/vlog.out) lines):"
	sed -n "$((n > 80 ? n - 80 : 1)),${n}p" /tmp/vlog.out
}

# wait_answer: the module answers on 11211 (10 s at most)
wait_answer() {
	i=0
	while ! xkv-load --check -p 11211 >/dev/null 2>&1; do
		i=$((i + 1))
		[ $i -lt 50 ] || return 1
		sleep 0.2
	done
}

# up: xkv up with the fast path on; when that fails, up without it (the
# fast path off), so that the later tests still run (and fail on hits)
up() {
	if ! timeout 60 xkv up $IF --backend module --module /xkv.ko \
		--tcp-fast on -- threads=2; then
		verifier_log
		echo "up again without --tcp-fast on, for the tests after this"
		timeout 60 xkv up $IF --backend module --module /xkv.ko \
			-- threads=2 && wait_answer
		return 1
	fi
	wait_answer || return 1
	xkv status $IF
	[ -n "$(hits)" ]
}

STREAM_PID=
# down_open: xkv down while xkv-stream -E's connections are open
down_open() {
	xkv-stream -p 11211 -c 3 -r 1 -m get -d 25 -E >/tmp/open.out 2>&1 &
	STREAM_PID=$!
	h0=$(hits)
	i=0
	# answered by XDP before the module goes: those are translated
	while [ "$(hits)" -le "${h0:-0}" ] 2>/dev/null; do
		i=$((i + 1))
		[ $i -lt 50 ] || break
		sleep 0.2
	done
	sleep 1
	kill -0 "$STREAM_PID" || { echo "xkv-stream ended early"; return 1; }
	say "rmmod with connections open: tcp hits $h0 -> $(hits) before"
	T0=$(cut -d' ' -f1 /proc/uptime)
	timeout 60 xkv down $IF
	rc=$?
	T1=$(cut -d' ' -f1 /proc/uptime)
	say "xkv down with connections open: exit $rc, $T0 -> $T1 s (uptime)"
	xkv status $IF >/tmp/status1.out 2>&1
	cat /tmp/status1.out
	[ $rc -eq 0 ] || return 1
	unloaded $IF
}

open_conns() {
	[ -n "$STREAM_PID" ] || return 1
	wait "$STREAM_PID"
	rc=$?
	cat /tmp/open.out
	say "connections open at rmmod: $(tail -n 1 /tmp/open.out |
		sed 's/^stream: //')"
	[ $rc -eq 0 ]
}

drained() {
	if [ -e /sys/fs/bpf/xkv/$IF ]; then
		# filters left: only as draining, and only until the clients
		# have closed (they have: xkv-stream ended)
		grep -q 'draining' /tmp/status1.out || {
			echo "pins left, but xkv status did not say draining"
			return 1
		}
		say "TC filters stayed (draining) after rmmod"
		timeout 60 xkv down $IF || return 1
	else
		say "TC filters removed with the pins at rmmod"
	fi
	xkv status $IF
	if [ -e /sys/fs/bpf/xkv/$IF ]; then
		echo "pins left in /sys/fs/bpf/xkv/$IF"
		return 1
	fi
	# the module is gone: the port is closed
	if xkv-load --check -p 11211 >/dev/null 2>&1; then
		echo "something still answers on 11211"
		return 1
	fi
}

tap_mark tcpfast
echo "1..7"
check "xkv up $IF --backend module --tcp-fast on" up
check "pipelined mix: replies in order, no stale read, hits counted" \
	stream mix -c 2 -r 1
check "single gets of hot keys: hits counted" stream get -c 2 -r 1 -m get
check "xkv down (rmmod) with connections open" down_open
check "open connections closed or working, no wrong byte" open_conns
check "TC filters per the draining rule, then all removed" drained
timeout 60 xkv down $IF --force >/dev/null 2>&1
rmmod xkv 2>/dev/null
check "no oops or warning in the kernel log" dmesg_clean
[ $BAD -eq 0 ]
