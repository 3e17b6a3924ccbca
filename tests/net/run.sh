#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# run.sh - run the network-namespace tests; the last line is
# "net: N passed, N failed" (", N skipped" when not root).
#
#   tests/net/run.sh [-v] [TEST...]
#
#   -v     print every test's whole TAP output (default: failures only)
#   TEST   NAME or NAME@MODE: runs tests/net/test_NAME.sh, with
#          XKV_NET_MODE=MODE (native or generic) if given. Default:
#          lifecycle tcpfast serve serve@generic coherence
#          coherence@generic learn learn@generic udp live stream
#
# Needs build/xkv, build/xkvd and build/tests/net/xdp_pass
# ("make -f mk/loader.mk test-net" builds them and runs this); learn
# needs Debian's memcached (skipped without it). Each
# script is bounded by XKV_T_NET seconds (default 300).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")"

T_NET=${XKV_T_NET:-300}
VERBOSE=0
if [ "${1:-}" = "-v" ]; then
	VERBOSE=1
	shift
fi
TESTS=("$@")
if [ ${#TESTS[@]} = 0 ]; then
	TESTS=(lifecycle tcpfast serve serve@generic coherence
		coherence@generic learn learn@generic udp live stream)
fi

passed=0
failed=0
skipped=0
why=
for t in "${TESTS[@]}"; do
	script=./test_${t%@*}.sh
	mode=native
	[ "${t#*@}" = "$t" ] || mode=${t#*@}
	if [ ! -x "$script" ]; then
		echo "net: no test $script" >&2
		failed=$((failed + 1))
		continue
	fi
	rc=0
	out=$(XKV_NET_MODE=$mode timeout "$T_NET" "$script" 2>&1) || rc=$?
	plan=$(echo "$out" | sed -n 's/^1\.\.\([0-9]*\).*/\1/p' | head -n1)
	ok=$(echo "$out" | grep -c '^ok ' || true)
	nok=$(echo "$out" | grep -c '^not ok ' || true)
	if echo "$out" | grep -q '^1\.\.0 # SKIP'; then
		echo "$t: skipped ($(echo "$out" | sed -n 's/^1\.\.0 # SKIP //p'))"
		skipped=$((skipped + 1))
		continue
	fi
	passed=$((passed + ok))
	failed=$((failed + nok))
	# a crash, a timeout or a short run fails too
	if [ -z "$plan" ] || [ $((ok + nok)) != "$plan" ] || [ "$rc" != 0 ] &&
		[ "$nok" = 0 ]; then
		failed=$((failed + 1))
		echo "$t: exit status $rc, plan ${plan:-none}, ran $((ok + nok))"
	fi
	if [ "$VERBOSE" = 1 ] || [ "$nok" != 0 ] || [ "$rc" != 0 ]; then
		echo "$out"
	fi
	echo "$t: $ok passed, $nok failed"
	why+=$(echo "$out" | sed -n "s/^# failed /$t /p")$'\n'
done
# the failures' last words again, where a log's tail shows them
[ -z "${why//$'\n'/}" ] || printf 'net failures:\n%s' "$(echo "$why" |
	sed '/^$/d')"$'\n'
if [ "$skipped" != 0 ]; then
	echo "net: $passed passed, $failed failed, $skipped skipped"
else
	echo "net: $passed passed, $failed failed"
fi
[ "$failed" = 0 ]
