#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# run.sh - build xkv and run its tests; the last line is "N passed, N failed".
#
#   tests/run.sh [-n] [-v] [SUITE...]
#
#   -n      do not build first (use what is in build/)
#   -v      print every suite's whole output, not only failures
#   SUITE   any of: unit asan bpf proto evict asan-proto memccapable
#           net bench vm fuzz (default: all)
#
# Suites:
#   unit         build/unit/test_*        (TAP, one per tests/unit/test_*.c)
#   asan         build/asan/test_*        the same, clang + ASan/UBSan
#   proto        xkv-prototest --debugtime over TCP and UDP against
#                "xkvd --debug-clock"; xkvd --busy-poll's checks
#                (tests/proto/busy_poll.sh); xkvd -A and -X
#                (tests/proto/admin_flags.sh); xkv-prototest --sasl against
#                "xkvd -S" (binary SASL PLAIN, MEMCACHED_SASL_PWDB);
#                xkvd -Y (tests/proto/ascii_auth.sh, SIGHUP reload too);
#                xkv-prototest --ascii-auth against "xkvd -Y"
#   evict        xkv-prototest --debugtime --evict over TCP and UDP against
#                "xkvd -m 2 --debug-clock"
#   asan-proto   the proto suite against build/asan/xkvd (ASan/UBSan; a
#                leak or error report makes its exit status non-zero)
#   bpf          build/bpf/test_xdp: the XDP program's BPF_PROG_TEST_RUN
#                fixtures (TAP; needs root), build/bpf/test_tcp: the TCP
#                fast path's (XDP answering, xkv_tc_in/xkv_tc_out
#                translating; TAP; needs root), build/bpf/fuzz_xdp for
#                XKV_XDP_FUZZ_TIME seconds (default 5: mutated requests,
#                every XDP reply against the store's), and xkvd
#                --hot-map refusing maps whose slot count is not a
#                power of two (tests/bpf/hotmap_size.sh)
#   memccapable  memccapable -a, then memccapable -b (the binary
#                protocol), against xkvd (one test each: exit status 0)
#   connmem      tests/connmem/connmem.py against xkvd: a 100-key get of
#                1 MB values read whole; 200 connections that never read
#                keep xkvd's peak RSS within the stated bound; readers
#                under a small read_buf_mem_limit all finish; half-line
#                connections filling -c are closed by -o idle_timeout
#   net          tests/net/run.sh: xkv up/down in network namespaces
#                joined by a veth pair, XDP serving UDP gets from xkvd's
#                hot cache, every write command's coherence, and a
#                concurrent writers/readers stale-read check, and
#                "xkv up --backend memcached" (TAP), xkvd's UDP policy
#                (test_udp.sh: off by default, peak RSS and reply budget,
#                spoofed sources, no reply loop), TCP streams
#                (test_stream.sh: pipelined batches checked against a
#                model, readers never older than acknowledged, also with
#                2% of frames lost each way; memcached, xkvd and, when
#                xkv up has it, the TCP fast path); and learning mode
#                (tests/net/learn_memcached.sh): Debian's memcached behind
#                XDP with the TC learning programs
#   bench        bench/smoke.sh: a few seconds of xkv-bench against
#                memcached and xkvd, values verified (one test),
#                bench/compare --smoke: every configuration of the
#                side-by-side comparison runs and verifies, memcaslap -U
#                and memcaslap over TCP included (one test), and
#                bench/memcheck.sh: a short "xdpcost mem", a figure
#                for every kind of memory at every count (one test)
#   vm           make vmtest: xkv.ko built against Debian's 6.1 headers,
#                booted under qemu (TCG) with the protocol suites, eviction,
#                rmmod under load, memccapable, the XDP fixtures and
#                "xkv up lo --backend module" (XDP answering from the hot
#                cache the module keeps), the TCP fast path's fixtures
#                (vm/tcp) and its checked TCP streams and rmmod with
#                connections open (vm/tcpfast) run inside (one test per
#                guest suite)
#   fuzz         build/fuzz/fuzz_proto for XKV_FUZZ_TIME seconds (default 60;
#                one test: no crash, leak or timeout), and build/fuzz/
#                fuzz_udp (datagrams through the UDP policy, every reply
#                checked against the budget) and build/fuzz/fuzz_bin (the
#                binary protocol: scripted packets with lying lengths, cut
#                anywhere; every reply well formed) for XKV_FUZZ_TIME
#                seconds each (default 20), and fuzz_proto again from the
#                meta protocol's seeds (tests/fuzz/corpus_meta, meta.dict)
#                for XKV_META_FUZZ_TIME seconds (default 20)
# Each xkvd started also counts as one test: it must exit 0 on SIGTERM.
#
# TAP suites count one result per "ok"/"not ok" line; a suite that crashes,
# times out, prints no plan or fewer results than planned is a failure too.
# A missing binary is a failure, never a silent skip. Servers bind
# 127.0.0.1 on free ports and are stopped on exit, whatever happens.
# Logs: build/test-logs/.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

BUILD=${BUILD:-build}
MAKE=${MAKE:-make}
LOGDIR=$BUILD/test-logs
XKVD=$BUILD/xkvd
XKVD_ASAN=$BUILD/asan/xkvd
PROTOTEST=$BUILD/xkv-prototest
FUZZ_TIME=${XKV_FUZZ_TIME:-60}
HOST=127.0.0.1

# time limits, in seconds
T_BUILD=${XKV_T_BUILD:-900}
T_UNIT=${XKV_T_UNIT:-120}
T_PROTO=${XKV_T_PROTO:-300}
T_MEMCCAPABLE=${XKV_T_MEMCCAPABLE:-120}
T_VM=${XKV_T_VM:-900}
T_START=10			# xkvd must listen within this
T_STOP=10			# ... and exit within this after SIGTERM

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:halt_on_error=1:strict_string_checks=1:check_initialization_order=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

PASSED=0
FAILED=0
SKIPPED=0
FAILED_NAMES=()
SERVER_PIDS=()
STEP_PID=
VERBOSE=0
BUILD_FIRST=1
SUITES=()

usage() {
	sed -n '4,/^# Logs/p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
	exit 2
}

while getopts "nvh" opt; do
	case $opt in
	n) BUILD_FIRST=0 ;;
	v) VERBOSE=1 ;;
	*) usage ;;
	esac
done
shift $((OPTIND - 1))
for s in "$@"; do
	case $s in
	unit | asan | bpf | proto | evict | asan-proto | memccapable | \
		connmem | net | bench | vm | fuzz)
		SUITES+=("$s")
		;;
	*)
		echo "run.sh: unknown suite '$s'" >&2
		usage
		;;
	esac
done

want() {
	local s
	((${#SUITES[@]} == 0)) && return 0
	for s in "${SUITES[@]}"; do
		[[ $s == "$1" ]] && return 0
	done
	return 1
}

# --- cleanup --------------------------------------------------------------

alive() {
	kill -0 "$1" 2>/dev/null
}

# port_busy, pick_port, listening, await_listen, stop_pids
# shellcheck source=scripts/servers.sh
source scripts/servers.sh

cleanup() {
	trap - EXIT INT TERM
	if [[ -n $STEP_PID ]] && alive "$STEP_PID"; then
		kill -TERM "$STEP_PID" 2>/dev/null || true
		wait "$STEP_PID" 2>/dev/null || true
	fi
	stop_pids 5 "${SERVER_PIDS[@]}"
	SERVER_PIDS=()
}
trap cleanup EXIT
trap 'echo "run.sh: interrupted" >&2; exit 130' INT TERM

# --- results --------------------------------------------------------------

slug() {
	echo "$1" | tr -c 'A-Za-z0-9.\n-' '_'
}

indent() {
	sed 's/^/      /'
}

record_pass() {	# record_pass NAME N_OK N_SKIP [DETAIL]
	PASSED=$((PASSED + $2))
	SKIPPED=$((SKIPPED + $3))
	if [[ -n ${4:-} ]]; then
		printf 'PASS  %-36s %s\n' "$1" "$4"
	else
		printf 'PASS  %s\n' "$1"
	fi
}

record_fail() {	# record_fail NAME N_OK N_FAIL N_SKIP DETAIL
	PASSED=$((PASSED + $2))
	FAILED=$((FAILED + $3))
	SKIPPED=$((SKIPPED + $4))
	FAILED_NAMES+=("$1")
	printf 'FAIL  %-36s %s\n' "$1" "$5"
}

# A step that could not run at all: one failure.
fail_step() {	# fail_step NAME WHY
	record_fail "$1" 0 1 0 "$2"
}

show_tail() {	# show_tail LOG LINES
	echo "      --- last $2 lines of $1:"
	tail -n "$2" "$1" | indent
}

# Show a sanitizer report from LOG if there is one, else its last lines.
show_crash() {	# show_crash LOG LINES
	local report
	report=$(awk '
		/==[0-9]+==ERROR|runtime error:|^SUMMARY: |^==[0-9]+== ?ERROR/ {
			on = 1
		}
		/^Shadow bytes around|^MS: [0-9]+ / { on = 0 }
		on
	' "$1" | head -n "$2")
	if [[ -n $report ]]; then
		echo "      --- sanitizer report from $1:"
		echo "$report" | indent
	else
		show_tail "$1" "$2"
	fi
}

# Run a command with a time limit, output to LOG; returns its status.
# It runs in the background so that a signal reaches our trap at once.
run_bounded() {	# run_bounded SECS LOG CMD...
	local secs=$1 log=$2 rc=0
	shift 2
	timeout -k 5 "$secs" "$@" >"$log" 2>&1 </dev/null &
	STEP_PID=$!
	wait "$STEP_PID" || rc=$?
	STEP_PID=
	return "$rc"
}

why_status() {	# why_status RC SECS
	case $1 in
	124 | 137) echo "timed out after ${2}s" ;;
	*) echo "exited with status $1" ;;
	esac
}

# Count TAP results: prints "ok fail skip plan bail" (plan -1 if none).
tap_count() {
	awk '
	function directive(line) {
		line = tolower(line)
		return line ~ /#[ \t]*(skip|todo)/
	}
	/^ok([ \t]|$)/     { if (directive($0)) s++; else p++; next }
	/^not ok([ \t]|$)/ { if (directive($0)) s++; else f++; next }
	/^1\.\.[0-9]+/     { sub(/^1\.\./, ""); plan = $0 + 0; has = 1; next }
	/^Bail out!/       { bail = 1 }
	END { printf "%d %d %d %d %d\n", p, f, s, has ? plan : -1, bail }
	' "$1"
}

# The "not ok" lines of a TAP log, each with the "#" lines that follow it.
tap_failures() {
	awk '
	/^not ok/ && tolower($0) !~ /#[ \t]*todo/ { show = 1; print; next }
	/^(ok|1\.\.)/ { show = 0; next }
	show && /^[ \t]*#/ { print; next }
	{ show = 0 }
	' "$1" | head -n 200
}

# Run a TAP-producing test binary as one suite.
run_tap() {	# run_tap NAME SECS CMD...
	local name=$1 secs=$2 log rc=0 p f s plan bail why=() odd=0
	shift 2
	log=$LOGDIR/$(slug "$name").log
	if [[ ! -x $1 ]]; then
		fail_step "$name" "missing binary $1 (not built)"
		return 0
	fi
	run_bounded "$secs" "$log" "$@" || rc=$?
	read -r p f s plan bail < <(tap_count "$log")
	# failing tests make a suite exit 1; anything else is odd
	if ((rc != 0)); then
		why+=("$(why_status "$rc" "$secs")")
		((rc != 1 || f == 0)) && odd=1
	fi
	if ((plan < 0)); then
		why+=("no plan line 1..N")
		odd=1
	elif ((p + f + s < plan)); then
		why+=("$((p + f + s)) of $plan planned tests ran")
		f=$((f + plan - p - f - s))
		odd=1
	elif ((p + f + s > plan)); then
		why+=("$((p + f + s)) results for a plan of $plan")
		odd=1
	fi
	((p + f + s == 0)) && why+=("no TAP results")
	((bail)) && why+=("bailed out") && odd=1
	if ((f == 0 && ${#why[@]} == 0)); then
		local detail="$p ok"
		((s)) && detail+=", $s skipped"
		record_pass "$name" "$p" "$s" "$detail"
		((VERBOSE)) && indent <"$log"
		return 0
	fi
	((f == 0)) && f=1
	local detail="$f failed, $p ok" w
	for w in "${why[@]}"; do
		detail+="; $w"
	done
	record_fail "$name" "$p" "$f" "$s" "$detail"
	tap_failures "$log" | indent
	if ((VERBOSE)); then
		indent <"$log"
	elif ((odd)); then
		show_crash "$log" 40
	fi
	echo "      log: $log"
}

# Run a command that is one test: pass iff it exits 0.
run_one() {	# run_one NAME SECS CMD...
	local name=$1 secs=$2 log rc=0
	shift 2
	log=$LOGDIR/$(slug "$name").log
	if ! command -v "$1" >/dev/null; then
		fail_step "$name" "missing program $1"
		return 0
	fi
	run_bounded "$secs" "$log" "$@" || rc=$?
	if ((rc == 0)); then
		record_pass "$name" 1 0
		((VERBOSE)) && indent <"$log"
		return 0
	fi
	record_fail "$name" 0 1 0 "$(why_status "$rc" "$secs")"
	if ((VERBOSE)); then
		indent <"$log"
	elif grep -Eq '==[0-9]+== ?ERROR|runtime error:' "$log"; then
		show_crash "$log" 60
		# libFuzzer: where the input that failed was saved
		grep -E '^(MS: |artifact_prefix|Base64: )' "$log" | indent || true
	elif (($(wc -l <"$log") <= 100)); then
		indent <"$log"
	else
		show_tail "$log" 100
	fi
	echo "      log: $log"
}

# --- servers --------------------------------------------------------------

# Drop a reaped server from the cleanup list (its pid may be reused).
forget_pid() {	# forget_pid PID
	local p keep=()
	for p in "${SERVER_PIDS[@]}"; do
		[[ $p == "$1" ]] || keep+=("$p")
	done
	SERVER_PIDS=("${keep[@]}")
}

# SIGTERM, then SIGKILL after T_STOP seconds; returns the exit status.
kill_wait() {	# kill_wait PID
	local i rc=0
	kill -TERM "$1" 2>/dev/null || true
	for ((i = 0; i < T_STOP * 10; i++)); do
		alive "$1" || break
		sleep 0.1
	done
	if alive "$1"; then
		kill -KILL "$1" 2>/dev/null || true
	fi
	wait "$1" 2>/dev/null || rc=$?
	forget_pid "$1"
	return "$rc"
}

# Start xkvd ($SRV_BIN, default build/xkvd) on a free port; sets SRV_PID
# and SRV_PORT. "@PORT@" in the arguments becomes the port ("-U @PORT@").
start_xkvd() {	# start_xkvd NAME ARGS...
	local name=$1 bin=${SRV_BIN:-$XKVD} log try port pid args
	shift
	log=$LOGDIR/xkvd-$(slug "$name").log
	SRV_PID=
	SRV_PORT=
	if [[ ! -x $bin ]]; then
		echo "missing binary $bin (not built)"
		return 1
	fi
	for ((try = 0; try < 5; try++)); do
		port=$(pick_port) || break
		args=("${@//@PORT@/$port}")
		echo "+ $bin -l $HOST -p $port ${args[*]}" >"$log"
		# not under timeout(1): it would send SIGTERM twice. The
		# EXIT trap stops servers, whatever ends this script.
		"$bin" -l "$HOST" -p "$port" "${args[@]}" >>"$log" 2>&1 \
			</dev/null &
		pid=$!
		SERVER_PIDS+=("$pid")
		if await_listen "$pid" "$port" "$T_START"; then
			SRV_PID=$pid
			SRV_PORT=$port
			return 0
		fi
		if alive "$pid"; then
			kill_wait "$pid" || true
			echo "xkvd did not listen on $HOST:$port within ${T_START}s"
			tail -n 20 "$log"
			return 1
		fi
		wait "$pid" 2>/dev/null || true
		forget_pid "$pid"
		# lost a race for the port: try another one
		grep -qi 'in use' "$log" || break
	done
	echo "xkvd did not start; its output:"
	tail -n 20 "$log"
	return 1
}

# Stop a server with SIGTERM; it counts as a test: it must exit 0 in time.
stop_xkvd() {	# stop_xkvd NAME PID
	local name=$1 pid=$2 rc=0 log
	log=$LOGDIR/xkvd-$(slug "${name#xkvd }").log
	if ! alive "$pid"; then
		wait "$pid" || rc=$?
		forget_pid "$pid"
		record_fail "$name exits 0 on SIGTERM" 0 1 0 \
			"xkvd was already gone (status $rc)"
		show_crash "$log" 40
		return 0
	fi
	kill_wait "$pid" || rc=$?
	if ((rc == 137)); then
		record_fail "$name exits 0 on SIGTERM" 0 1 0 \
			"still running ${T_STOP}s after SIGTERM (killed)"
		show_crash "$log" 40
	elif ((rc == 0)); then
		record_pass "$name exits 0 on SIGTERM" 1 0
	else
		record_fail "$name exits 0 on SIGTERM" 0 1 0 \
			"exited with status $rc"
		show_crash "$log" 40
	fi
}

# --- steps ----------------------------------------------------------------

mkdir -p "$LOGDIR"
echo "xkv tests: $(date -u '+%Y-%m-%d %H:%M:%S UTC'), logs in $LOGDIR/"

if ((BUILD_FIRST)); then
	jobs=()
	[[ ${MAKEFLAGS:-} == *j* ]] || jobs=("-j$(nproc)")
	rc=0
	run_bounded "$T_BUILD" "$LOGDIR/build.log" \
		"$MAKE" "${jobs[@]}" all || rc=$?
	if ((rc == 0)); then
		record_pass build 1 0
	else
		record_fail build 0 1 0 "$(why_status "$rc" "$T_BUILD")"
		if grep -Eq 'error:|warning:|undefined reference' \
			"$LOGDIR/build.log"; then
			grep -E 'error:|warning:|undefined reference|\*\*\*' \
				"$LOGDIR/build.log" | head -n 40 | indent
			echo "      log: $LOGDIR/build.log"
		else
			show_tail "$LOGDIR/build.log" 30
		fi
	fi
fi

mapfile -t UNIT_SRCS < <(ls tests/unit/test_*.c 2>/dev/null || true)

if want unit; then
	if ((${#UNIT_SRCS[@]} == 0)); then
		fail_step unit "no unit tests (tests/unit/test_*.c)"
	fi
	for src in "${UNIT_SRCS[@]}"; do
		t=$(basename "$src" .c)
		run_tap "unit/$t" "$T_UNIT" "$BUILD/unit/$t"
	done
fi

if want asan; then
	if ((${#UNIT_SRCS[@]} == 0)); then
		fail_step asan "no unit tests (tests/unit/test_*.c)"
	fi
	for src in "${UNIT_SRCS[@]}"; do
		t=$(basename "$src" .c)
		run_tap "asan/$t" "$T_UNIT" "$BUILD/asan/$t"
	done
fi

# Start an xkvd (sets SRV_PID/SRV_PORT in this shell) or record why not.
server_or_fail() {	# server_or_fail SUITE-NAME SERVER-NAME ARGS...
	local suite=$1 srv=$2 out
	shift 2
	out=$LOGDIR/start-$(slug "$srv").txt
	if start_xkvd "$srv" "$@" >"$out"; then
		return 0
	fi
	fail_step "$suite" "$(head -n 1 "$out")"
	tail -n +2 "$out" | indent
	return 1
}

if want proto; then
	name="prototest tcp+udp --debugtime"
	if [[ ! -x $PROTOTEST ]]; then
		fail_step "$name" "missing binary $PROTOTEST (not built)"
	elif server_or_fail "$name" main -U @PORT@ --debug-clock; then
		run_tap "$name" "$T_PROTO" "$PROTOTEST" -h "$HOST" \
			-p "$SRV_PORT" -U "$SRV_PORT" --debugtime
		stop_xkvd "xkvd main" "$SRV_PID"
	fi
	run_one "xkvd --busy-poll: help, bad values named, UDP served" \
		"$T_UNIT" tests/proto/busy_poll.sh "$XKVD" "$(pick_port)"
	run_one "xkvd -A (shutdown) and -X (no metadump)" \
		"$T_UNIT" tests/proto/admin_flags.sh "$XKVD" "$(pick_port)"
	run_one "xkvd -Y (ASCII authentication tokens, memcached's rules)" \
		"$T_UNIT" tests/proto/ascii_auth.sh "$XKVD" "$(pick_port)"
	# SASL: binary only, PLAIN against a memcached-style password file
	name="prototest --sasl against xkvd -S"
	printf 'xkvtest:pw%s\nother:x\n' "$$" >"$LOGDIR/sasl-pwdb"
	export MEMCACHED_SASL_PWDB=$LOGDIR/sasl-pwdb
	if [[ -x $PROTOTEST ]] && server_or_fail "$name" sasl -S; then
		run_tap "$name" "$T_PROTO" "$PROTOTEST" -h "$HOST" \
			-p "$SRV_PORT" --sasl "xkvtest:pw$$"
		stop_xkvd "xkvd sasl" "$SRV_PID"
	fi
	unset MEMCACHED_SASL_PWDB
	# -Y: the prototest auth group the VM runs against xkv.ko too
	name="prototest --ascii-auth against xkvd -Y"
	if [[ -x $PROTOTEST ]] &&
		server_or_fail "$name" ascii -Y "$LOGDIR/sasl-pwdb"; then
		run_tap "$name" "$T_PROTO" "$PROTOTEST" -h "$HOST" \
			-p "$SRV_PORT" --ascii-auth "xkvtest:pw$$" \
			--refused "gone:pw$$"
		stop_xkvd "xkvd ascii" "$SRV_PID"
	fi
fi

if want evict; then
	name="prototest --evict (xkvd -m 2)"
	if [[ ! -x $PROTOTEST ]]; then
		fail_step "$name" "missing binary $PROTOTEST (not built)"
	elif server_or_fail "$name" evict -m 2 -U @PORT@ --debug-clock; then
		# every suite again, now with a full store, plus eviction
		run_tap "$name" "$T_PROTO" "$PROTOTEST" -h "$HOST" \
			-p "$SRV_PORT" -U "$SRV_PORT" --debugtime --evict
		stop_xkvd "xkvd evict" "$SRV_PID"
	fi
fi

if want asan-proto; then
	name="prototest on ASan xkvd"
	if [[ ! -x $PROTOTEST ]]; then
		fail_step "$name" "missing binary $PROTOTEST (not built)"
	elif SRV_BIN=$XKVD_ASAN server_or_fail "$name" asan \
		-U @PORT@ --debug-clock; then
		run_tap "$name" "$T_PROTO" "$PROTOTEST" -h "$HOST" \
			-p "$SRV_PORT" -U "$SRV_PORT" --debugtime
		stop_xkvd "xkvd asan" "$SRV_PID"
	fi
	run_one "ASan xkvd -Y (ASCII authentication tokens)" \
		"$T_UNIT" tests/proto/ascii_auth.sh "$XKVD_ASAN" "$(pick_port)"
fi

if want bpf; then
	run_tap "bpf fixtures" "$T_UNIT" "$BUILD/bpf/test_xdp"
	run_tap "bpf TCP fast path fixtures" "$T_UNIT" "$BUILD/bpf/test_tcp"
	run_tap "xdp fuzz ${XKV_XDP_FUZZ_TIME:-5}s vs the store" "$T_UNIT" \
		"$BUILD/bpf/fuzz_xdp" -t "${XKV_XDP_FUZZ_TIME:-5}"
	run_tap "bpf learning-mode fixtures" "$T_UNIT" "$BUILD/bpf/test_learn"
	run_one "xkvd --hot-map refuses a map of 3 or 48 slots" "$T_UNIT" \
		tests/bpf/hotmap_size.sh "$XKVD" "$(pick_port)"
fi

if want memccapable; then
	name="memccapable -a"
	if ! command -v memccapable >/dev/null; then
		fail_step "$name" "memccapable not installed (scripts/deps.sh)"
	elif server_or_fail "$name" memccapable -U 0; then
		run_one "$name" "$T_MEMCCAPABLE" memccapable -a -t 5 \
			-h "$HOST" -p "$SRV_PORT"
		run_one "memccapable -b" "$T_MEMCCAPABLE" memccapable -b \
			-t 5 -h "$HOST" -p "$SRV_PORT"
		stop_xkvd "xkvd memccapable" "$SRV_PID"
	fi
fi

if want connmem; then
	CONNMEM=(/usr/bin/python3 tests/connmem/connmem.py)
	name="connmem: large multi-get, never-reading clients"
	# the default budget, read_buf_mem_limit=64 (MiB), is the bound
	if server_or_fail "$name" connmem -U 0; then
		run_tap "connmem multiget" "$T_UNIT" "${CONNMEM[@]}" multiget \
			--port "$SRV_PORT"
		run_tap "connmem hold (RSS)" "$T_UNIT" "${CONNMEM[@]}" hold \
			--port "$SRV_PORT" --pid "$SRV_PID" --conns 200 \
			--keys 4 --budget 64
		stop_xkvd "xkvd connmem" "$SRV_PID"
	fi
	name="connmem: readers under a small budget"
	if server_or_fail "$name" connmem-small -U 0 \
		-o read_buf_mem_limit=8; then
		run_tap "$name" "$T_UNIT" "${CONNMEM[@]}" readers \
			--port "$SRV_PORT" --conns 8 --keys 30 --wait 30
		stop_xkvd "xkvd connmem-small" "$SRV_PID"
	fi
	name="connmem: idle_timeout frees the slots"
	if server_or_fail "$name" connmem-idle -U 0 -c 3 \
		-o idle_timeout=2; then
		run_tap "$name" "$T_UNIT" "${CONNMEM[@]}" idle \
			--port "$SRV_PORT" --conns 3 --idle 2
		stop_xkvd "xkvd connmem-idle" "$SRV_PID"
	fi
fi

if want net; then
	name="net: xkv in network namespaces"
	log=$LOGDIR/net.log
	rc=0
	run_bounded "$T_VM" "$log" tests/net/run.sh || rc=$?
	# tests/net/run.sh: "TEST[@MODE]: N passed, N failed" per script
	while read -r t p f; do
		if ((f == 0)); then
			record_pass "net/$t" "$p" 0 "$p ok"
		else
			record_fail "net/$t" "$p" "$f" 0 "$f failed"
		fi
	done < <(sed -n 's/^\([a-z@]*\): \([0-9]*\) passed, \([0-9]*\) failed$/\1 \2 \3/p' "$log" | grep -v '^net ')
	if ((rc == 0)); then
		record_pass "$name" 1 0
	else
		record_fail "$name" 0 1 0 "$(why_status "$rc" "$T_VM")"
		show_tail "$log" 80
		echo "      log: $log"
	fi
fi

if want net; then
	# learning mode: Debian's memcached behind XDP, values learned at TC
	run_one "net: learning mode with memcached" "$T_PROTO" \
		tests/net/learn_memcached.sh
fi

if want bench; then
	run_one "bench smoke" "$T_PROTO" bench/smoke.sh
	# every configuration of the side-by-side comparison, a second each
	run_one "bench compare --smoke" "$T_PROTO" bench/compare --smoke
	# xdpcost mem: every kind of map memory timed
	run_one "bench xdpcost mem" "$T_PROTO" bench/memcheck.sh
fi

if want vm; then
	name="vmtest: xkv.ko in qemu"
	log=$LOGDIR/vmtest.log
	rc=0
	run_bounded "$T_VM" "$log" "$MAKE" --no-print-directory vmtest || rc=$?
	# tests/vm/run.sh: "vmtest: suite NAME: N passed, N failed, exit N"
	while read -r suite p f; do
		if ((f == 0)); then
			record_pass "vm/$suite" "$p" 0 "$p ok"
		else
			record_fail "vm/$suite" "$p" "$f" 0 "$f failed"
		fi
	done < <(sed -n 's/^vmtest: suite \([^:]*\): \([0-9]*\) passed, \([0-9]*\) failed.*/\1 \2 \3/p' "$log")
	if ((rc == 0)); then
		record_pass "$name" 1 0
	else
		record_fail "$name" 0 1 0 "$(why_status "$rc" "$T_VM")"
		show_tail "$log" 60
		echo "      log: $log"
	fi
fi

# A libFuzzer target for SECS seconds, from its corpus in build/ and tests/,
# with tests/fuzz/DICT (default proto.dict).
run_fuzz() {	# run_fuzz BIN SECS CORPUS-NAME [DICT]
	local bin=$BUILD/fuzz/$1 name="$1 ${2}s" dict=${4:-proto.dict}
	[[ $3 == corpus ]] || name+=" $3"
	if [[ ! -x $bin ]]; then
		fail_step "$name" "missing binary $bin (not built)"
		return 0
	fi
	mkdir -p "$BUILD/fuzz/$3"
	run_one "$name" $(($2 + 120)) "$bin" \
		-max_total_time="$2" -timeout=10 \
		-rss_limit_mb=2048 -max_len=8192 -print_final_stats=1 \
		-dict="tests/fuzz/$dict" \
		-artifact_prefix="$LOGDIR/$1-$3-" \
		"$BUILD/fuzz/$3" "tests/fuzz/$3"
}

if want fuzz; then
	run_fuzz fuzz_proto "$FUZZ_TIME" corpus
	# the meta protocol's parser, from meta seeds and words
	run_fuzz fuzz_proto "${XKV_META_FUZZ_TIME:-20}" corpus_meta meta.dict
	run_fuzz fuzz_udp "${XKV_FUZZ_TIME:-20}" corpus_udp
	run_fuzz fuzz_bin "${XKV_FUZZ_TIME:-20}" corpus_bin
fi

cleanup

if ((${#FAILED_NAMES[@]})); then
	echo "Failed:"
	printf '  %s\n' "${FAILED_NAMES[@]}"
fi
summary="$PASSED passed, $FAILED failed"
((SKIPPED)) && summary+=", $SKIPPED skipped"
echo "$summary"
((FAILED == 0))
