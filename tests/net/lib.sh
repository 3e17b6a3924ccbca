# SPDX-License-Identifier: GPL-2.0
#
# lib.sh - shared parts of the network-namespace tests (sourced).
#
# Two namespaces joined by a veth pair, created inside the namespaces so
# that no host interface is ever touched:
#
#   client ns  XKV_NS_C  iface XKV_IF_C  10.123.0.2/24  fd00:123::2/64
#   server ns  XKV_NS_S  iface XKV_IF_S  10.123.0.1/24  fd00:123::1/64
#
# The client end gets an XDP_PASS program in native mode (native XDP_TX on
# one veth end is only delivered when the peer has native XDP too). Names
# carry the shell's pid, so tests can run side by side. Namespaces are
# entered with nsenter --net, never "ip netns exec", which remounts /sys
# and hides the bpffs pins. A trap removes the namespaces, pins, pid
# files and any backend left behind, whatever happens.
#
# TAP: tap_plan N, then check NAME CMD... per test; tap_done at the end
# exits 1 if any failed. Not root: "1..0 # SKIP" and exit 0. check runs
# CMD under timeout(1) in a child bash, so CMD may be a shell function:
# tap_plan exports every function defined by then, and these variables
# are exported.

cd "$(dirname "${BASH_SOURCE[0]}")/../.." || exit 1

set -a	# export every variable set below, for check's child shells
BUILD=${BUILD:-build}
XKV=${XKV:-$PWD/$BUILD/xkv}
XKVD=${XKVD:-$PWD/$BUILD/xkvd}
XDP_PASS=${XDP_PASS:-$PWD/$BUILD/tests/net/xdp_pass}
PY=/usr/bin/python3
MC="$PWD/tests/net/mc.py"
T_CMD=${XKV_T_CMD:-60}		# bound on any one command, seconds
XKV_NET_MODE=${XKV_NET_MODE:-native}	# XDP mode asked of xkv up

XKV_NS_S=xkvs$$
XKV_NS_C=xkvc$$
XKV_IF_S=xks$$
XKV_IF_C=xkc$$
XKV_ADDR_S=10.123.0.1
XKV_ADDR_C=10.123.0.2
XKV_ADDR6_S=fd00:123::1
XKV_ADDR6_C=fd00:123::2
XKV_SUBNET=10.123.0.0/24
XKV_PINS=/sys/fs/bpf/xkv/$XKV_IF_S
XKV_RUN=/run/xkv

set +a

TAP_N=0
TAP_FAILED=0
TAP_LOG=$(mktemp)
EXTRA_PIDS=()

skip_unless_root() {
	if [ "$(id -u)" != 0 ]; then
		echo "1..0 # SKIP network namespace tests need root"
		exit 0
	fi
	local t
	for t in ip nsenter timeout "$PY"; do
		if ! command -v "$t" >/dev/null; then
			echo "1..0 # SKIP $t is not installed"
			exit 0
		fi
	done
	for t in "$XKV" "$XKVD" "$XDP_PASS"; do
		if [ ! -x "$t" ]; then
			echo "Bail out! $t is not built (make -f mk/loader.mk test-net)"
			exit 1
		fi
	done
}

tap_plan() {
	local f

	for f in $(compgen -A function); do
		export -f "${f?}"
	done
	echo "1..$1"
}

# check NAME CMD...: run CMD (bounded), print "ok N - NAME" or "not ok"
# with CMD's output as TAP comments.
check() {
	local name=$1 rc=0
	shift
	TAP_N=$((TAP_N + 1))
	timeout "$T_CMD" bash -c '"$@"' check "$@" >"$TAP_LOG" 2>&1 || rc=$?
	if [ "$rc" = 0 ]; then
		echo "ok $TAP_N - $name"
		[ -z "${VERBOSE:-}${SHOW:-}" ] || sed 's/^/# /' "$TAP_LOG"
	else
		echo "not ok $TAP_N - $name"
		sed 's/^/# /' "$TAP_LOG"
		[ "$rc" != 124 ] || echo "# (timed out after $T_CMD s)"
		# one line that run.sh repeats at the end of the run
		echo "# failed $TAP_N: $(grep -v '^[[:space:]]*$' "$TAP_LOG" |
			tail -n1 | cut -c1-600)"
		TAP_FAILED=$((TAP_FAILED + 1))
	fi
}

# check_show NAME CMD...: check, and print CMD's output even on success
check_show() {
	SHOW=1 check "$@"
}

# not CMD...: succeed when CMD fails
not() {
	if "$@"; then
		echo "expected a failure, got success"
		return 1
	fi
	return 0
}

tap_done() {
	rm -f "$TAP_LOG"
	[ "$TAP_FAILED" = 0 ]
}

in_s() {
	nsenter --net="/var/run/netns/$XKV_NS_S" "$@"
}

in_c() {
	nsenter --net="/var/run/netns/$XKV_NS_C" "$@"
}

xkv_s() {
	in_s "$XKV" "$@"
}

# mc SUBCOMMAND...: the python client, in the client namespace
mc() {
	in_c "$PY" "$MC" --host "$XKV_ADDR_S" --xkv "$XKV" \
		--iface "$XKV_IF_S" --client "$XKV_ADDR_C" \
		--subnet "$XKV_SUBNET" "$@"
}

setup_pair() {
	ip netns add "$XKV_NS_S"
	ip netns add "$XKV_NS_C"
	ip link add "$XKV_IF_S" netns "$XKV_NS_S" type veth \
		peer name "$XKV_IF_C" netns "$XKV_NS_C"
	in_s ip link set lo up
	in_c ip link set lo up
	in_s ip addr add "$XKV_ADDR_S/24" dev "$XKV_IF_S"
	in_c ip addr add "$XKV_ADDR_C/24" dev "$XKV_IF_C"
	in_s ip addr add "$XKV_ADDR6_S/64" dev "$XKV_IF_S" nodad
	in_c ip addr add "$XKV_ADDR6_C/64" dev "$XKV_IF_C" nodad
	in_s ip link set "$XKV_IF_S" up
	in_c ip link set "$XKV_IF_C" up
	# native XDP on the peer, or native XDP_TX replies are dropped
	in_c "$XDP_PASS" "$XKV_IF_C"
	wait_for 10 links_up
}

links_up() {
	in_s ip -o link show dev "$XKV_IF_S" | grep -q "state UP" &&
		in_c ip -o link show dev "$XKV_IF_C" | grep -q "state UP"
}

# wait_for SEC CMD...: retry CMD every 0.1 s until it works, at most SEC
wait_for() {
	local end=$((SECONDS + $1))
	shift
	until "$@" >/dev/null 2>&1; do
		[ "$SECONDS" -lt "$end" ] || return 1
		sleep 0.1
	done
}

# the server namespace's XDP program id on its veth, empty for none
xdp_prog_id() {
	in_s ip -d link show dev "$XKV_IF_S" |
		sed -n 's/.*prog\/xdp id \([0-9]*\).*/\1/p' | head -n1
}

# the pid recorded for the backend, empty for none
backend_pid() {
	head -n1 "$XKV_RUN/$XKV_IF_S.pid" 2>/dev/null || true
}

# is the recorded backend alive?
backend_alive() {
	local pid
	pid=$(backend_pid)
	[ -n "$pid" ] && alive "$pid"
}

# runs_unprivileged PID: every thread of PID runs as the user xkv up gives
# a backend (memcache if it exists, else nobody): real, effective, saved
# and filesystem uid and gid, no supplementary group
runs_unprivileged() {
	local user uid gid f ids want n=0
	user=memcache
	id "$user" >/dev/null 2>&1 || user=nobody
	uid=$(id -u "$user")
	gid=$(id -g "$user")
	want="Uid: $uid $uid $uid $uid
Gid: $gid $gid $gid $gid
Groups:"
	for f in /proc/"$1"/task/*/status; do
		ids=$(grep -E '^(Uid|Gid|Groups):' "$f" | tr -s '\t ' ' ' |
			sed 's/ $//') || return 1
		if [ "$ids" != "$want" ]; then
			echo "$f, not $user ($uid:$gid):"
			echo "$ids"
			return 1
		fi
		n=$((n + 1))
	done
	echo "$n threads of pid $1 run as $user ($uid:$gid)"
	[ "$n" -gt 0 ]
}

# is a process alive (a zombie waiting for init does not count)?
alive() {
	local st
	st=$(ps -o stat= -p "$1" 2>/dev/null) || return 1
	case $st in
	Z*|X*|"") return 1 ;;
	esac
	return 0
}

# state_clean: no XDP program or TC qdisc on the server veth, no pins, no
# pid file,
# and no backend process still running (checked: $1, a pid, if given)
state_clean() {
	local id
	id=$(xdp_prog_id)
	if [ -n "$id" ]; then
		echo "XDP program $id still attached:"
		in_s ip -d link show dev "$XKV_IF_S"
		return 1
	fi
	if in_s tc qdisc show dev "$XKV_IF_S" | grep -Eq "clsact|ingress"; then
		echo "qdisc left:"
		in_s tc qdisc show dev "$XKV_IF_S"
		return 1
	fi
	if [ -e "$XKV_PINS" ]; then
		echo "pins left: $(ls "$XKV_PINS")"
		return 1
	fi
	if [ -e "$XKV_RUN/$XKV_IF_S.pid" ]; then
		echo "pid file left: $XKV_RUN/$XKV_IF_S.pid"
		return 1
	fi
	if [ -n "${1:-}" ] && ! wait_for 5 not alive "$1"; then
		echo "backend pid $1 still running"
		return 1
	fi
	return 0
}

# shellcheck disable=SC2120 # arguments are optional
# up in XKV_NET_MODE (default native: xkv falls back to generic when the
# veth does not take it)
xkv_up() {
	xkv_s up "$XKV_IF_S" --mode "$XKV_NET_MODE" "$@"
}

# the XDP mode xkv status reports for the server veth
xkv_mode() {
	xkv_s status -j "$XKV_IF_S" |
		"$PY" -c 'import json, sys; print(json.load(sys.stdin)[0]["mode"])'
}

# output_has PATTERN TEXT: TEXT holds PATTERN (grep), or say that it does not
output_has() {
	echo "$2" | grep -q -- "$1" && return 0
	echo "no '$1' in the output"
	return 1
}

# refused PATTERN CLEAN CMD...: CMD fails and prints PATTERN (all of its
# output is shown), and then CLEAN (what must hold after it) passes
refused() {
	local pattern=$1 clean=$2 out rc=0
	shift 2
	out=$("$@" 2>&1) || rc=$?
	echo "$out"
	[ "$rc" != 0 ] || { echo "$1 succeeded"; return 1; }
	output_has "$pattern" "$out" || return 1
	"$clean"
}

# up_refused PATTERN ARGS...: up fails, prints PATTERN, changes nothing
up_refused() {
	refused "$1" state_clean xkv_up "${@:2}"
}

# stop_extra: stop what a test started in the background (EXTRA_PIDS)
stop_extra() {
	local p
	for p in "${EXTRA_PIDS[@]}"; do
		kill -TERM "$p" 2>/dev/null || true
	done
	wait "${EXTRA_PIDS[@]}" 2>/dev/null || true
	EXTRA_PIDS=()
}

cleanup() {
	local pid p
	pid=$(backend_pid)
	if [ -e "$XKV_PINS" ] || [ -n "$pid" ]; then
		timeout 20 nsenter --net="/var/run/netns/$XKV_NS_S" \
			"$XKV" down -q "$XKV_IF_S" >/dev/null 2>&1 || true
	fi
	for p in $pid "${EXTRA_PIDS[@]}"; do
		kill -KILL "$p" 2>/dev/null || true
	done
	ip netns del "$XKV_NS_S" 2>/dev/null || true
	ip netns del "$XKV_NS_C" 2>/dev/null || true
	# only this test's own pins and files
	rm -rf "$XKV_PINS" "$XKV_RUN/$XKV_IF_S".* 2>/dev/null || true
	rmdir /sys/fs/bpf/xkv 2>/dev/null || true
	rm -f "$TAP_LOG"
}

trap cleanup EXIT
trap 'exit 130' INT TERM
