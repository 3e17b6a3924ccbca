#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# learn_memcached.sh - learning mode end to end: Debian's memcached in a
# server network namespace, a client namespace joined to it by a veth pair,
# xkv's XDP program and the learning TC programs on the server's veth
# (loaded, attached, inspected and detached by build/bpf/xkv-learn-tool,
# each step its own process, through loader/learn_attach.h).
#
#   tests/net/learn_memcached.sh [-m native|generic] [-T] [-q QUIET_MS]
#
#   -m   XDP mode on the server veth (default native; the client veth then
#        gets an XDP_PASS program so that XDP_TX frames arrive)
#   -T   run memcached with -B ascii and load with XKV_LCFG_TEXT_ONLY
#   -q   the write quarantine (default 200 ms, to keep the test short)
#
# The client (tests/net/learn_client.py) checks: a value set over TCP is
# learned from a UDP get reply and then served by XDP; 300 sets over TCP
# each followed at once by a UDP get return the new value (0 stale reads)
# while XDP serves in between; every kind of write invalidates; a gets
# reply over TCP is learned with its CAS; a key with an expiry is not
# learned; 4 writers over TCP and 3 readers over UDP for 8 s never read a
# value older than one whose write was acknowledged before the read began
# (and XDP answers a good share of the reads). Afterwards the interface
# must have no XDP program, no filter and no clsact qdisc left. With -q 0
# (no quarantine) the concurrent check is expected to fail: it shows why
# the generation check alone is not enough.
#
# Exit status: 0 pass, 1 fail, 77 skipped (not root, no memcached). Bounded
# by timeouts; only namespaces, links and processes it made are touched.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/../.."
BUILD=${BUILD:-build}
TOOL=$BUILD/bpf/xkv-learn-tool
PASS_OBJ=$BUILD/bpf/xdp_pass.bpf.o
PY=/usr/bin/python3
PORT=11311
MODE=native
TEXT_ONLY=0
QUIET=200

while getopts "m:Tq:" opt; do
	case $opt in
	m) MODE=$OPTARG ;;
	T) TEXT_ONLY=1 ;;
	q) QUIET=$OPTARG ;;
	*) exit 2 ;;
	esac
done

skip() {
	echo "SKIP: $*"
	exit 77
}
[[ $EUID -eq 0 ]] || skip "needs root"
command -v memcached >/dev/null || skip "no memcached"
[[ -x $PY ]] || skip "no $PY"
[[ -x $TOOL && -f $PASS_OBJ ]] || {
	echo "build first: make -f mk/bpf.mk $TOOL $PASS_OBJ" >&2
	exit 1
}

NS_S=xkvl-srv-$$
NS_C=xkvl-cli-$$
PIN=/sys/fs/bpf/xkvl-test-$$
MC_PID=
UP=0
in_s() { nsenter --net="/var/run/netns/$NS_S" "$@"; }
in_c() { nsenter --net="/var/run/netns/$NS_C" "$@"; }

cleanup() {
	trap - EXIT
	if [[ $UP == 1 ]]; then
		in_s "$TOOL" down xkvl-s "$PIN" >/dev/null 2>&1 || true
	fi
	if [[ -n $MC_PID ]]; then
		kill "$MC_PID" 2>/dev/null || true
		wait "$MC_PID" 2>/dev/null || true
	fi
	ip netns del "$NS_S" 2>/dev/null || true
	ip netns del "$NS_C" 2>/dev/null || true
	rm -rf "$PIN"
	[[ -n ${MC_LOG:-} ]] && rm -f "$MC_LOG"
}
trap cleanup EXIT

ip netns add "$NS_S"
ip netns add "$NS_C"
ip link add xkvl-s netns "$NS_S" type veth peer name xkvl-c netns "$NS_C"
in_s ip addr add 10.77.0.1/24 dev xkvl-s
in_c ip addr add 10.77.0.2/24 dev xkvl-c
in_s ip link set lo up
in_c ip link set lo up
in_s ip link set xkvl-s up
in_c ip link set xkvl-c up

MC_ARGS=(-u memcache -l 10.77.0.1 -p "$PORT" -U "$PORT" -t 2 -m 64)
id memcache >/dev/null 2>&1 || MC_ARGS[1]=nobody
TOOL_ARGS=(--port "$PORT" --mode "$MODE" --quiet "$QUIET")
if [[ $TEXT_ONLY == 1 ]]; then
	MC_ARGS+=(-B ascii)
	TOOL_ARGS+=(--text-only)
fi
# nsenter execs memcached: $! is memcached itself
MC_LOG=$(mktemp /tmp/xkvl-memcached.XXXXXX)
nsenter --net="/var/run/netns/$NS_S" memcached "${MC_ARGS[@]}" \
	>"$MC_LOG" 2>&1 </dev/null &
MC_PID=$!
for _ in $(seq 50); do
	in_s bash -c "exec 3<>/dev/tcp/10.77.0.1/$PORT" 2>/dev/null && break
	sleep 0.1
done

if [[ $MODE == native ]]; then
	in_c ip link set dev xkvl-c xdpdrv obj "$PASS_OBJ" sec xdp
fi
TOOL_ARGS+=(--pid "$MC_PID")
in_s "$TOOL" up xkvl-s "$PIN" "${TOOL_ARGS[@]}"
UP=1
echo "# server: $(in_s tc filter show dev xkvl-s ingress | head -1)"
echo "# server: $(in_s ip -o link show xkvl-s | grep -o 'prog/xdp[a-z]* id [0-9]*')"

rc=0
timeout 180 nsenter --net="/var/run/netns/$NS_C" "$PY" \
	tests/net/learn_client.py 10.77.0.1 "$PORT" "$QUIET" \
	nsenter --net="/var/run/netns/$NS_S" "$TOOL" stats "$PIN" || rc=1

echo "# counters:"
in_s "$TOOL" stats "$PIN" | grep -v ' 0$' | sed 's/^/#   /'

in_s "$TOOL" down xkvl-s "$PIN"
UP=0
left=$(in_s tc qdisc show dev xkvl-s | grep -c clsact || true)
xdp=$(in_s ip -o link show xkvl-s | grep -c 'prog/xdp' || true)
if [[ $left != 0 || $xdp != 0 ]]; then
	echo "not ok - down left clsact=$left xdp=$xdp on xkvl-s"
	rc=1
else
	echo "ok - down left no XDP program, filter or qdisc"
fi
exit $rc
