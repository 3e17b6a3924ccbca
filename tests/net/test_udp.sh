#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# test_udp.sh - xkvd's UDP policy (issue 8), in the network namespaces of
# lib.sh: UDP is off without -U; one datagram cannot make xkvd allocate
# more than the reply budget allows; replies stay within --udp-amp-ratio;
# a spoofed ERROR between two servers starts no reply loop; nothing is
# answered (or run) for source port 0, the server's own port, a source
# outside the allowlist, a multicast source or a broadcast destination,
# nor for a datagram that looks like a reply. tests/net/udp_policy.py
# does the precise parts (raw sockets, /proc/net/snmp counters, VmHWM).
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

skip_unless_root

set -a	# for check's child shells
UP="$PWD/tests/net/udp_policy.py"
P1=11311	# default policy, on every address
P2=11312	# --udp-allow that leaves the client out
P3=11313	# no -U
PL=11320	# UDP port of the two servers on 127.0.0.1 and 127.0.0.2
PC=11330	# UDP port of a third one on 127.0.0.3
LOGD=$(mktemp -d)
PID1=
PID3=
set +a

# srv NAME PORT ARGS...: xkvd in the server namespace; sets SRV_PID
srv() {
	local name=$1 port=$2
	shift 2
	# nsenter execs xkvd: $! is xkvd itself
	nsenter --net="/var/run/netns/$XKV_NS_S" "$XKVD" -t 1 -m 16 "$@" \
		>"$LOGD/$name.log" 2>&1 &
	SRV_PID=$!
	EXTRA_PIDS+=("$SRV_PID")
	wait_for 10 in_s ss -Htln "sport = :$port" || {
		echo "xkvd $name did not start:"
		cat "$LOGD/$name.log"
		return 1
	}
}

# pc CMD ARGS...: udp_policy.py in the client namespace
pc() {
	in_c "$PY" "$UP" "$@"
}

# ps_ CMD ARGS...: udp_policy.py in the server namespace
ps_() {
	in_s "$PY" "$UP" "$@"
}

# --- the checks --------------------------------------------------------------

udp_off_by_default() {
	in_s ss -Hauln
	if in_s ss -Haulnp | grep -q "pid=$PID3,"; then
		echo "xkvd without -U has a UDP socket"
		return 1
	fi
	grep -q "UDP off" "$LOGD/noudp.log" || {
		cat "$LOGD/noudp.log"
		return 1
	}
}

rss_bounded() {
	pc rss --host "$XKV_ADDR_S" --port $P1 --pid "$PID1" --max-mib 8
}

amp_bounded() {
	pc amp --host "$XKV_ADDR_S" --port $P1 --ratio 64
}

# spoof SRC SPORT DST DPORT PAYLOAD [ARGS...]: from the client namespace,
# count what the server namespace sends
spoof() {
	local src=$1 sport=$2 dst=$3 dport=$4 payload=$5
	shift 5
	pc spoof --src "$src" --sport "$sport" --host "$dst" --port "$dport" \
		--payload "$payload" --count-ns "$XKV_NS_S" --secs 1 "$@"
}

control_answered() {
	spoof "$XKV_ADDR_C" 40000 "$XKV_ADDR_S" $P1 'get x\r\n' --min 1 --max 1
}

port0_refused() {
	spoof "$XKV_ADDR_C" 0 "$XKV_ADDR_S" $P1 'set p0 0 0 1\r\nx\r\n' \
		--miss p0
}

own_port_refused() {
	spoof "$XKV_ADDR_C" $P1 "$XKV_ADDR_S" $P1 'set own 0 0 1\r\nx\r\n' \
		--miss own
}

not_allowed_refused() {
	spoof "$XKV_ADDR_C" 40000 "$XKV_ADDR_S" $P2 'set na 0 0 1\r\nx\r\n' \
		--miss na
}

multicast_source_refused() {
	spoof 224.0.0.5 40000 "$XKV_ADDR_S" $P1 'set mc 0 0 1\r\nx\r\n' \
		--miss mc
}

broadcast_refused() {
	spoof "$XKV_ADDR_C" 40000 10.123.0.255 $P1 'get x\r\n' --broadcast
}

# A spoofed ERROR from one server's UDP port to another's: no ping-pong
loop_same_port() {
	ps_ spoof --src 127.0.0.1 --sport $PL --host 127.0.0.2 --port $PL \
		--payload 'ERROR\r\n' --count-ns "$XKV_NS_S" --secs 2
}

loop_other_port() {
	ps_ spoof --src 127.0.0.1 --sport $PL --host 127.0.0.3 --port $PC \
		--payload 'ERROR\r\n' --count-ns "$XKV_NS_S" --secs 2
}

# PAYLOAD from an allowed client gets no reply
silent() {
	pc silent --host "$XKV_ADDR_S" --port $P1 --payload "$1"
}

replies_unanswered() {
	local p rc=0
	for p in 'ERROR\r\n' 'END\r\n' 'STORED\r\n' 'VALUE k 0 5\r\nget k\r\nEND\r\n' \
		'SERVER_ERROR x\r\n' 'CLIENT_ERROR x\r\n' '42\r\n' \
		'bogus\r\n' 'stats nonsense\r\n'; do
		silent "$p" || rc=1
	done
	return "$rc"
}

reply_control() {
	pc reply --host "$XKV_ADDR_S" --port $P1
}

reply_control6() {
	pc reply --host "$XKV_ADDR6_S" --port $P1
}

# xkv up starts xkvd with UDP on, behind the interface's allowlist and
# --amp-ratio, and says so; the client on the subnet is answered
up_hands_policy() {
	local out pid rc=0
	out=$(xkv_s up "$XKV_IF_S" --backend xkvd --mode generic \
		--amp-ratio 32 2>&1) || rc=$?
	echo "$out"
	[ "$rc" = 0 ] || return 1
	echo "$out" | grep -q "backend UDP on port 11211, answering only 10.123.0.0/24.*at most 32 x" ||
		{ echo "no UDP line in the output"; return 1; }
	pid=$(backend_pid)
	tr '\0' ' ' <"/proc/$pid/cmdline"
	echo
	tr '\0' ' ' <"/proc/$pid/cmdline" |
		grep -q -- "-U 11211 --udp-allow 10.123.0.0/24.* --udp-amp-ratio 32" ||
		{ echo "xkvd not given the allowlist and ratio"; return 1; }
	pc reply --host "$XKV_ADDR_S" --port 11211
}

# --- the run -------------------------------------------------------------------

tap_plan 15
setup_pair
# a server that does not start fails the checks that use it
srv default $P1 -p $P1 -U $P1 || true
PID1=$SRV_PID
srv notallowed $P2 -p $P2 -U $P2 --udp-allow 10.123.0.99/32 || true
srv noudp $P3 -p $P3 -v || true
PID3=$SRV_PID
srv loopa 11321 -l 127.0.0.1 -p 11321 -U $PL || true
srv loopb 11322 -l 127.0.0.2 -p 11322 -U $PL || true
srv loopc 11323 -l 127.0.0.3 -p 11323 -U $PC || true

check "xkvd without -U opens no UDP socket" udp_off_by_default
check "a plain get from the subnet is answered (control)" reply_control
check "... and over IPv6" reply_control6
check "finding 1 datagram: peak RSS grows < 8 MiB, short error or nothing" \
	rss_bounded
check "reply/request <= 64: big value, many values, many copies of a key" \
	amp_bounded
check "a spoofed get from an allowed source draws one datagram (control)" \
	control_answered
check "source port 0: no reply, nothing run" port0_refused
check "source port = the server's port: no reply, nothing run" \
	own_port_refused
check "source outside --udp-allow: no reply, nothing run" \
	not_allowed_refused
check "multicast source: no reply, nothing run" multicast_source_refused
check "to the subnet broadcast address: no reply" broadcast_refused
check "spoofed ERROR A:$PL -> B:$PL: no datagram in 2 s (no loop)" \
	loop_same_port
check "spoofed ERROR A:$PL -> C:$PC: no datagram in 2 s (no loop)" \
	loop_other_port
check "replies, errors and unknown commands get no reply" \
	replies_unanswered
check "xkv up gives xkvd -U, the allowlist and --amp-ratio, and says so" \
	up_hands_policy
stop_extra
rm -rf "$LOGD"
tap_done
