#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# smoke.sh - a short side-by-side run of build/xkv-bench against Debian's
# memcached and build/xkvd, over TCP and UDP, so the benchmark cannot rot.
#
#   bench/smoke.sh
#
# Columns: ops/s of each server, their ratio, p99 latency in microseconds,
# then "memcached/xkvd" pairs: timeouts, and whether every reply checked
# out.
#
# Both servers get the same command line (-l 127.0.0.1 -p PORT -U PORT
# -t THREADS), each on a free port of 127.0.0.1; nothing is sent anywhere
# else. xkvd also gets --udp-amp-ratio 0: a 2000-byte value is over its
# default UDP reply budget (64 x a 30-byte get), which memcached lacks. Each run preloads every key over TCP, then measures for
# XKV_SMOKE_SECONDS (default 2) with every value checked. Prints ops/s,
# p99 latency and the xkvd/memcached ratio per protocol.
#
# Exit status: 0 when every run completed operations and saw no wrong or
# malformed reply; 1 otherwise (or when something could not start).
# Timeouts and server error lines are reported but do not fail the run:
# UDP may drop datagrams under load.
#
# Environment: XKV_SMOKE_SECONDS (2), XKV_SMOKE_THREADS (server threads,
# default: one per CPU), BUILD (build), MAKE (make). Logs and each run's
# JSON: $BUILD/test-logs/bench-smoke/.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

BUILD=${BUILD:-build}
MAKE=${MAKE:-make}
BENCH=$BUILD/xkv-bench
XKVD=$BUILD/xkvd
LOGDIR=$BUILD/test-logs/bench-smoke
HOST=127.0.0.1
SECONDS_PER_RUN=${XKV_SMOKE_SECONDS:-2}
SRV_THREADS=${XKV_SMOKE_THREADS:-$(nproc)}
# one workload for every run: 90% GETs, Zipf keys, values up to 2000 bytes
# (so some UDP replies take two datagrams and are reassembled)
BENCH_ARGS=(-t 1 -c 4 -w 4 -k 10000 -K 16 -v 16-2000 -r 9:1 -z 0.99)
T_RUN=$((${SECONDS_PER_RUN%.*} + 10))	# hard limit per bench run

SERVER_PIDS=()

log() {
	echo "smoke: $*" >&2
}

# port_busy, pick_port, listening, await_listen, stop_pids
# shellcheck source=scripts/servers.sh
source scripts/servers.sh

stop_servers() {
	stop_pids 2 "${SERVER_PIDS[@]}"
	SERVER_PIDS=()
}
trap stop_servers EXIT

# the binaries and the reference server, built or installed when missing
prepare() {
	mkdir -p "$LOGDIR"
	if ! command -v memcached >/dev/null; then
		log "installing memcached"
		apt-get install -y memcached >"$LOGDIR/apt.log" 2>&1 || {
			log "apt-get install memcached failed ($LOGDIR/apt.log)"
			return 1
		}
	fi
	if [[ ! -x $XKVD ]]; then
		log "building $XKVD"
		"$MAKE" -s BUILD="$BUILD" "$XKVD" >&2
	fi
	"$MAKE" -s -f mk/bench.mk bench-tools BUILD="$BUILD" >&2
}

# start_server NAME BINARY [ARG...]: sets SRV_PORT; the server is stopped
# on exit
start_server() {
	local name=$1 bin=$2 try port pid
	shift 2

	for ((try = 0; try < 5; try++)); do
		port=$(pick_port) || break
		"$bin" -u root -l "$HOST" -p "$port" -U "$port" \
			-t "$SRV_THREADS" "$@" >"$LOGDIR/$name.log" 2>&1 &
		pid=$!
		SERVER_PIDS+=("$pid")
		if await_listen "$pid" "$port" 5; then
			SRV_PORT=$port
			return 0
		fi
		kill -KILL "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	log "$name did not start ($LOGDIR/$name.log)"
	return 1
}

# json_num FILE KEY: a number from xkv-bench's one-line JSON
json_num() {
	sed -n "s/.*\"$2\":\([0-9.]*\).*/\1/p" "$1"
}

FAILED=0
declare -A VERDICT

# run_bench NAME PORT PROTO: writes $LOGDIR/NAME-PROTO.json, sets
# VERDICT[NAME-PROTO] to ok or FAIL
run_bench() {
	local name=$1 port=$2 proto=$3 out err rc=0

	out=$LOGDIR/$name-$proto.json
	err=$LOGDIR/$name-$proto.err
	VERDICT[$name-$proto]=ok
	timeout "$T_RUN" "$BENCH" -s "$HOST" -b "$HOST" -p "$port" \
		"--$proto" -d "$SECONDS_PER_RUN" "${BENCH_ARGS[@]}" -j \
		>"$out" 2>"$err" || rc=$?
	# 1 is xkv-bench's "wrong replies or nothing done": its JSON is
	# still there, checked below; anything else means no result
	if ((rc != 0 && rc != 1)) || [[ ! -s $out ]]; then
		log "$name $proto: xkv-bench exited with $rc:"
		sed 's/^/  /' "$err" >&2
		VERDICT[$name-$proto]=FAIL
		FAILED=1
		: >"$out"
		return 0
	fi
	if ((rc != 0)) || [[ $(json_num "$out" bad_values) != 0 ||
			     $(json_num "$out" proto_errors) != 0 ||
			     $(json_num "$out" ops) == 0 ]]; then
		log "$name $proto: wrong or malformed replies, or nothing done:"
		sed 's/^/  /' "$err" >&2
		VERDICT[$name-$proto]=FAIL
		FAILED=1
	fi
}

# cell FILE KEY: the value, or "-" when the run failed
cell() {
	local v

	v=$(json_num "$1" "$2")
	echo "${v:--}"
}

ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN {
		if (a == "-" || b == "-" || b == 0) print "-";
		else printf "%.2fx\n", a / b }'
}

main() {
	local mc_port xkvd_port proto mc x

	prepare
	start_server memcached memcached
	mc_port=$SRV_PORT
	start_server xkvd "$XKVD" --udp-amp-ratio 0
	xkvd_port=$SRV_PORT

	for proto in tcp udp; do
		run_bench memcached "$mc_port" "$proto"
		run_bench xkvd "$xkvd_port" "$proto"
	done

	echo "xkv-bench smoke: ${SECONDS_PER_RUN} s per run;" \
		"client: ${BENCH_ARGS[*]}; servers: -t $SRV_THREADS"
	printf "%-5s %14s %10s %9s %10s %10s %11s %9s\n" proto \
		"memcached op/s" "xkvd op/s" "xkvd/mc" "mc p99 us" \
		"xkvd p99" "timeouts" "verified"
	for proto in tcp udp; do
		mc=$LOGDIR/memcached-$proto.json
		x=$LOGDIR/xkvd-$proto.json
		printf "%-5s %14s %10s %9s %10s %10s %11s %9s\n" "$proto" \
			"$(cell "$mc" ops_per_sec)" "$(cell "$x" ops_per_sec)" \
			"$(ratio "$(cell "$x" ops_per_sec)" \
				"$(cell "$mc" ops_per_sec)")" \
			"$(cell "$mc" p99)" "$(cell "$x" p99)" \
			"$(cell "$mc" timeouts)/$(cell "$x" timeouts)" \
			"${VERDICT[memcached-$proto]}/${VERDICT[xkvd-$proto]}"
	done
	if ((FAILED)); then
		log "FAIL (logs: $LOGDIR)"
		return 1
	fi
	echo "smoke: ok (every value verified)"
}

main "$@"
