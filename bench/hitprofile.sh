#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# hitprofile.sh - where a live XDP hit's time goes under a real key spread:
# perf samples of every CPU while xkv-bench reads KEYS keys (Zipf 0.99)
# through the hot tier, printed as nanoseconds per GET for each BPF
# function and the kernel's top symbols.
#
#   sudo bench/hitprofile.sh [-k KEYS] [-d SECONDS] [-s SLOTS]
#
#   -k  keys (default 100000, as bench/compare's rows)
#   -d  measured seconds (default 4)
#   -s  hot cache slots (default 16384, the default 32 MiB)
#
# xkvd behind "xkv up" (native XDP) on the server end of a veth pair in
# two namespaces (tests/net/lib.sh), 8 s of warm-up GETs that also preload
# every key, then `perf record -a` for the measured run. A function's
# ns/GET = its share of all samples x CPUs x seconds / GETs: on the veth
# the XDP program runs in the client's send path, so everything here is
# serial with the client. Compare -k 1000 (every entry in cache) with the
# default to see what the lookup's memory misses cost. Needs perf, jq and
# the tools of `make` (build/xkv, build/xkvd, build/xkv-bench).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
K=100000
D=4
S=16384
while getopts "k:d:s:h" o; do
	case $o in
	k) K=$OPTARG ;;
	d) D=$OPTARG ;;
	s) S=$OPTARG ;;
	*)
		sed -n '3,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
		exit 2 ;;
	esac
done
for t in perf jq; do
	command -v "$t" >/dev/null || {
		echo "hitprofile: missing $t (apt-get install linux-perf jq)" >&2
		exit 1
	}
done
[[ $K =~ ^[0-9]+$ && $D =~ ^[0-9]+$ && $S =~ ^[0-9]+$ ]] || {
	echo "hitprofile: -k, -d and -s take whole numbers" >&2
	exit 2
}

# shellcheck source=tests/net/lib.sh
. tests/net/lib.sh
skip_unless_root
BENCH=$PWD/build/xkv-bench
OUT=$(mktemp -d)
PERF_PID=
stop_perf() {
	[ -z "$PERF_PID" ] || kill "$PERF_PID" 2>/dev/null || true
	rm -rf "$OUT"
}
trap 'stop_perf; cleanup' EXIT

setup_pair
xkv_up --cache-slots "$S" -t 2 -m 64 >/dev/null
CL=(-t 1 -c 4 -w 4 -k "$K" -K 16 -v 32 -r 1:0 -z 0.99)
in_c timeout 60 "$BENCH" -s "$XKV_ADDR_S" -b "$XKV_ADDR_C" -p 11211 -U \
	-d 8 "${CL[@]}" -j >"$OUT/warm.json"
perf record -a -o "$OUT/perf.data" -- sleep $((D + 1)) >/dev/null 2>&1 &
PERF_PID=$!
in_c timeout 60 "$BENCH" -s "$XKV_ADDR_S" -b "$XKV_ADDR_C" -p 11211 -U \
	-n -d "$D" "${CL[@]}" -j >"$OUT/run.json"
wait "$PERF_PID" || true
PERF_PID=
ops=$(jq -r .ops_per_sec "$OUT/run.json")
cpus=$(nproc)
echo "hitprofile: $K keys, $S slots, $ops GET/s; ns per GET (all CPUs):"
# the sampled window is one second longer than the run: scale by it
perf report -i "$OUT/perf.data" --no-children --sort sym -g none \
	--percent-limit 0.3 2>/dev/null | grep -v '^#' | grep -v '^$' |
	awk -v ops="$ops" -v cpus="$cpus" -v win=$((D + 1)) -v d="$D" '
	{ p = $1; sub("%", "", p)
	  printf "  %8.1f  %s\n", p / 100 * cpus * win * 1e9 / (ops * d), $3 }'
