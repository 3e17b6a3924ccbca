#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# memcheck.sh - a short run of "xdpcost mem" (bench/xdpmem.c), so that it
# cannot rot: every element count must give a figure for each of the
# three kinds of memory (mmapable, array, inner).
#
#   bench/memcheck.sh               build xdpcost, run it short, check
#   bench/memcheck.sh --check FILE  only check FILE, "xdpcost mem -j" output
#
# Exit status: 0 when the run succeeded and every figure is there; 1
# otherwise. Needs root (CAP_BPF, /proc/vmallocinfo). Environment: BUILD
# (build), MAKE (make). The run's output: $BUILD/test-logs/bench-mem.json.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

BUILD=${BUILD:-build}
MAKE=${MAKE:-make}
COUNTS=48,1600
NCOUNTS=2
KINDS='["mmapable", "array", "inner"]'

# check FILE NCOUNTS: one row per count, each with a positive figure for
# every kind
check() {
	jq -e --argjson n "$2" --argjson kinds "$KINDS" '
		.tool == "xdpmem" and (.rows | length) == $n and
		all(.rows[]; . as $row |
		    all($kinds[]; ($row[.].ns | type) == "number" and
				  $row[.].ns > 0))' "$1" >/dev/null
}

if [[ ${1:-} == --check ]]; then
	if ! check "$2" "$(jq '.rows | length' "$2")" ||
	   ! jq -e '.rows | length > 0' "$2" >/dev/null; then
		echo "memcheck: $2: a figure is missing" >&2
		exit 1
	fi
	echo "memcheck: $2: every figure there"
	exit 0
fi

mkdir -p "$BUILD/test-logs"
out=$BUILD/test-logs/bench-mem.json
"$MAKE" -s -f mk/bench.mk xdpcost BUILD="$BUILD" >&2
"$BUILD/bench/xdpcost" mem -R "$COUNTS" -n 500 -r 2 -j >"$out"
cat "$out"
if ! check "$out" "$NCOUNTS"; then
	echo "memcheck: FAIL: not every count has a figure for" \
		"$(jq -r 'join(", ")' <<<"$KINDS")" >&2
	exit 1
fi
echo "memcheck: ok ($COUNTS elements, three kinds each)"
