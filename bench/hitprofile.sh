#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# hitprofile.sh - where a live XDP hit's time goes under a real key spread:
# perf samples of every CPU while xkv-bench reads KEYS keys (Zipf 0.99)
# through the hot tier, printed as nanoseconds per GET for each BPF
# function and the kernel's top symbols.
#
#   sudo bench/hitprofile.sh [-k KEYS] [-d SECONDS] [-s SLOTS] [-F]
#
#   -k  keys (default 100000, as bench/compare's rows)
#   -d  measured seconds (default 4)
#   -s  hot cache slots (default 16384, the default 32 MiB)
#   -F  profile the floor too (bench/floor.bpf.c answering END in front
#       of xkvd, as bench/compare's floor row) on the same pair, then
#       print ns per GET by command for both and the symbols whose cost
#       per GET differs most: where a hit's GET/s and CPU go beyond the
#       floor's (bench/compare's "GET/s >= 95% of the floor's")
#
# xkvd behind "xkv up" (native XDP) on the server end of a veth pair in
# two namespaces (tests/net/lib.sh), 8 s of warm-up GETs that also preload
# every key, then `perf record -a` for the measured run. A function's
# ns/GET = its share of all samples x CPUs x seconds / GETs: on the veth
# the XDP program runs in the client's send path, so everything here is
# serial with the client. Compare -k 1000 (every entry in cache) with the
# default to see what the lookup's memory misses cost. Needs perf, jq and
# the tools of `make` (build/xkv, build/xkvd, build/xkv-bench; -F also
# build/bench/xdpcost: make -f mk/bench.mk bench-tools).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
K=100000
D=4
S=16384
FLOOR=0
while getopts "k:d:s:Fh" o; do
	case $o in
	k) K=$OPTARG ;;
	d) D=$OPTARG ;;
	s) S=$OPTARG ;;
	F) FLOOR=1 ;;
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
XDPCOST=$PWD/build/bench/xdpcost
OUT=$(mktemp -d)
PERF_PID=
stop_perf() {
	[ -z "$PERF_PID" ] || kill "$PERF_PID" 2>/dev/null || true
	rm -rf "$OUT"
}
trap 'stop_perf; cleanup' EXIT
if [ $FLOOR = 1 ] && [ ! -x "$XDPCOST" ]; then
	echo "hitprofile: -F needs $XDPCOST (make -f mk/bench.mk bench-tools)" >&2
	exit 1
fi
CL=(-t 1 -c 4 -w 4 -k "$K" -K 16 -v 32 -r 1:0 -z 0.99)
CPUS=$(nproc)

# profile NAME: a warm-up, then the measured run under perf; leaves
# NAME.ops, NAME.sym and NAME.comm (ns per GET) in $OUT
profile() {
	local name=$1 ops

	in_c timeout 60 "$BENCH" -s "$XKV_ADDR_S" -b "$XKV_ADDR_C" \
		-p 11211 -U -d 8 "${CL[@]}" -j >"$OUT/$name.warm.json"
	perf record -a -o "$OUT/$name.data" -- sleep $((D + 1)) \
		>/dev/null 2>&1 &
	PERF_PID=$!
	in_c timeout 60 "$BENCH" -s "$XKV_ADDR_S" -b "$XKV_ADDR_C" \
		-p 11211 -U -n -d "$D" "${CL[@]}" -j >"$OUT/$name.json"
	wait "$PERF_PID" || true
	PERF_PID=
	ops=$(jq -r .ops_per_sec "$OUT/$name.json")
	echo "$ops" >"$OUT/$name.ops"
	per_get "$name" sym "$ops" >"$OUT/$name.sym"
	per_get "$name" comm "$ops" >"$OUT/$name.comm"
}

# per_get NAME KEY OPS: "ns-per-GET name" for each perf report line; the
# sampled window is one second longer than the run: scale by it
per_get() {
	perf report -i "$OUT/$1.data" --no-children --sort "$2" -g none \
		--percent-limit 0 2>/dev/null | grep -v '^#' | grep -v '^$' |
		awk -v ops="$3" -v cpus="$CPUS" -v win=$((D + 1)) -v d="$D" '
		{ p = $1; sub("%", "", p); $1 = ""; if ($2 == "[k]" ||
		  $2 == "[.]") $2 = ""; sub(/^ +/, "")
		  printf "%.1f %s\n", p / 100 * cpus * win * 1e9 / (ops * d),
			 $0 }'
}

# side_by_side KIND: "name hits floor" for each name in hit.KIND or
# floor.KIND (sym or comm), 0 where one has none
side_by_side() {
	join -a1 -a2 -e 0 -o 0,1.2,2.2 -j 1 \
		<(awk '{ print $2, $1 }' "$OUT/hit.$1" | sort) \
		<(awk '{ print $2, $1 }' "$OUT/floor.$1" | sort)
}

setup_pair
xkv_up --cache-slots "$S" -t 2 -m 64 >/dev/null
profile hit
echo "hitprofile: $K keys, $S slots, $(cat "$OUT/hit.ops") GET/s;" \
	"ns per GET (all CPUs):"
# awk reads it all: head would stop sort early, which pipefail counts
sort -k1,1 -g -r "$OUT/hit.sym" |
	awk 'NR <= 40 { printf "  %8.1f  %s\n", $1, $2 }'
[ $FLOOR = 1 ] || exit 0

if ! msg=$(timeout 20 nsenter --net="/var/run/netns/$XKV_NS_S" "$XKV" down \
	"$XKV_IF_S" 2>&1); then
	echo "hitprofile: xkv down failed: $msg" >&2
	exit 1
fi
# nsenter itself, not in_s (a subshell in the background): $! is xkvd
nsenter --net="/var/run/netns/$XKV_NS_S" "$PWD/build/xkvd" -l "$XKV_ADDR_S" \
	-p 11211 -U 11211 -t 2 -m 64 >"$OUT/floor-xkvd.log" 2>&1 &
FLOOR_PID=$!
EXTRA_PIDS+=("$FLOOR_PID")
wait_for 5 in_s sh -c 'ss -lun | grep -q ":11211 "' || {
	echo "hitprofile: xkvd did not answer for the floor" >&2
	exit 1
}
in_s "$XDPCOST" attach "$XKV_IF_S" -p 11211 >/dev/null
profile floor
in_s "$XDPCOST" detach "$XKV_IF_S" || true
kill "$FLOOR_PID" 2>/dev/null || true
wait "$FLOOR_PID" 2>/dev/null || true
echo "hitprofile: floor (END from XDP): $(cat "$OUT/floor.ops") GET/s;" \
	"GET/s of the hits $(awk -v h="$(cat "$OUT/hit.ops")" \
	-v f="$(cat "$OUT/floor.ops")" 'BEGIN { printf "%.1f", 100 * h / f }')%" \
	"of the floor's"
echo "ns per GET by command (swapper: idle), hits / floor:"
side_by_side comm |
	awk '$2 + $3 >= 5 { printf "  %8.1f  %8.1f  %s\n", $2, $3, $1 }' |
	sort -k1,1 -g -r
echo "symbols whose ns per GET differ most, hits / floor / difference:"
side_by_side sym |
	awk '{ d = $2 - $3; printf "  %8.1f  %8.1f  %+8.1f  %s\n", $2, $3, d,
	       $1; if ($1 ~ /^bpf_prog_/) { bh += $2; bf += $3 } }
	     END { printf "  %8.1f  %8.1f  %+8.1f  (all BPF programs)\n",
		   bh, bf, bh - bf }' |
	sort -k3,3 -g -r | awk 'NR <= 25 || /all BPF/'
