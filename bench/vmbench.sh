#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# vmbench.sh - xkv.ko against xkvd (and memcached) inside a qemu TCG guest.
#
#   bench/vmbench.sh [-i] [-X] [-N NICE] [-L XKV] [-o FILE] [-d SECONDS]
#                    [-t SECONDS] [-k VMLINUX] [-m XKV.KO] [-n]
#
#   -i  count guest instructions: one vCPU, qemu -icount shift=0,sleep=off,
#       memcached measured too; reports instructions per GET (below)
#   -X  the client in its own network namespace behind a veth pair with
#       native XDP and threaded NAPI on both ends (needs -L; below), rows
#       memcached, xkv.ko, xkvd, xkv.ko+xdp, xkv.ko+xdp-store, xkvd+xdp
#   -N  the client's nice value in the guest (default 0)
#   -L  a static loader (xkv): also measure xkv.ko behind XDP on lo, "xkv
#       up lo --backend module", with the hot cache alone (--xdp-store off)
#       and with the XDP store path and a 64-slot hot cache (--xdp-store
#       on: a module with BTF and kfuncs; the kernel's modules in
#       modules/ next to VMLINUX are loaded first, as make vmtest does)
#   -o  where the results go, one JSON line per run (default
#       $BUILD/vm/vmbench.jsonl, with -i $BUILD/vm/vmbench-icount.jsonl)
#   -d  measured seconds per run (default 3, with -i 1 guest second, i.e.
#       10^9 guest instructions; plus 1 s of warm-up)
#   -t  bound on the whole boot and benchmark (default 240, with -i 900)
#   -k  kernel to boot (default: Debian's, as make vmtest)
#   -m  the module (default $BUILD/xkv.ko)
#   -n  build nothing: use the kernel, module and objects already there
#
# Boots the kernel of make vmtest as tests/vm/run.sh does (through
# scripts/vm-host.sh: qemu TCG, 2 vCPUs, serial console) with an
# initramfs of busybox, the module, and xkv-bench and xkvd linked
# statically from $BUILD/obj; its /init, bench/vm-init.sh, measures
# xkv.ko then xkvd on 127.0.0.1, TCP then UDP GETs (the workload of
# bench/compare with 10000 keys; every value checked), and prints one
# "XKV-VMBENCH {json}" line per run. These lines, with the guest's kernel
# and CPU count added, go to FILE. The figures measure the emulator as
# much as the server: compare the module with xkvd, never with the host's
# numbers.
#
# With -i the guest has one vCPU and one server thread, and qemu runs
# with -icount shift=0,sleep=off: guest time advances one nanosecond per
# guest instruction (idle time is skipped), so CPU time in the guest is an
# instruction count, the same from run to run. Debian's memcached (its
# binary and shared libraries copied into the initramfs; -U for UDP) is
# measured first, with the same client. For each server and protocol,
# over the measured window: "total" is the guest's CLOCK_MONOTONIC delta
# (every instruction the guest ran), "client" xkv-bench's own CPU time
# (getrusage), and server instructions per GET = (total - client) / GETs.
# The guest kernel has no IRQ_TIME_ACCOUNTING: softirq work done on the
# way out of the client's send (loopback delivers the request into the
# server's socket there) counts as the client's, the reply's delivery as
# the server's, for every server alike. The figures go to FILE (field
# "insn") and as a table to stdout. Run it twice to see the repeatability
# (the same figures to about four digits). On one vCPU the client and the
# server take turns, and how the guest's instructions split between them
# depends on the scheduler: -N moves the split, and the total with it.
#
# -X takes the stack's loopback shortcut out: the client sends from its
# own namespace over a veth pair, xs (the servers') and xc (the client's),
# each with a native XDP program (xkv's on xs in the XDP rows, else a
# two-instruction XDP_PASS, so every row takes the same path) and threaded
# NAPI. Then what each end receives is processed in its own kernel thread
# (napi/xs-N: the request's receive, XDP and the store path included;
# napi/xc-N: the reply's), not in the task that sent it. The guest kernel
# has no IRQ_TIME_ACCOUNTING (softirq time is charged to whatever task
# runs it; /proc/stat's softirq column only counts ticks that land in
# one), so with -X "client" is what xkv-bench's own syscalls ran up to the
# veth's transmit (the request's send, the reply's copy out of its
# socket) plus any softirq work that happened to run in its time slice
# (timers), and server = total - client is everything else: the server
# process or threads, both NAPI threads (the reply's delivery into the
# client's socket included, for every row alike), ksoftirqd, idle-loop
# overhead. The NAPI threads' own time is printed too (napi/xs, napi/xc).
#
# Exit status 0 when all runs completed with every value right; 1
# otherwise, with the reason on the last line ("vmbench: FAIL: ...") and
# the console log in $BUILD/vm/vmbench-console.log.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
BUILD=${BUILD:-build}
MAKE=${MAKE:-make}
OUT=
DURATION=
TIMEOUT=
ICOUNT=0
CLIENT_NICE=0
LOADER=
KERNEL=$BUILD/vm/kernel/vmlinux
MODULE=$BUILD/xkv.ko
BUILDIT=1
KEYS=10000
THREADS=2
MEM_MB=64

usage() {
	sed -n '4,27p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
	exit 2
}

VETH=0
while getopts "iXN:L:o:d:t:k:m:nh" opt; do
	case $opt in
	i) ICOUNT=1 ;;
	X) VETH=1 ;;
	N) CLIENT_NICE=$OPTARG ;;
	L) LOADER=$OPTARG ;;
	o) OUT=$OPTARG ;;
	d) DURATION=$OPTARG ;;
	t) TIMEOUT=$OPTARG ;;
	k) KERNEL=$OPTARG ;;
	m) MODULE=$OPTARG ;;
	n) BUILDIT=0 ;;
	*) usage ;;
	esac
done

die() {
	echo "vmbench: FAIL: $*" >&2
	exit 1
}

((VETH == 0)) || [[ -n $LOADER ]] || die "-X needs -L XKV"
if ((ICOUNT)); then
	OUT=${OUT:-$BUILD/vm/vmbench-icount.jsonl}
	DURATION=${DURATION:-1}
	TIMEOUT=${TIMEOUT:-900}
	# one vCPU: with two the 6.1 guest hangs at boot under icount
	THREADS=1
	RUNS=6
	[[ -z $LOADER ]] || RUNS=10
	((VETH == 0)) || RUNS=12
else
	OUT=${OUT:-$BUILD/vm/vmbench.jsonl}
	DURATION=${DURATION:-3}
	TIMEOUT=${TIMEOUT:-240}
	RUNS=4
	[[ -z $LOADER ]] || RUNS=8
	((VETH == 0)) || RUNS=10
fi

# vm_need_tools, vm_check_module, vm_root, vm_pack, vm_boot,
# vm_boot_problem
# shellcheck source=scripts/vm-host.sh
source scripts/vm-host.sh
# shellcheck disable=SC2054 # commas inside qemu options
((ICOUNT == 0)) || VM_ACCEL=(-accel tcg -icount shift=0,sleep=off)

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
ROOT=$TMP/root
LOG=$BUILD/vm/vmbench-console.log
mkdir -p "$BUILD/vm" "$(dirname "$OUT")"

# --- what the guest runs ------------------------------------------------------

vm_need_tools

if ((BUILDIT)); then
	# the kernel first: fetching it may move the headers to a newer ABI
	"$MAKE" -s -f mk/kmod.mk BUILD="$BUILD" vm-kernel >"$TMP/make.log" 2>&1 ||
		die "cannot get the VM kernel: $(tail -n 3 "$TMP/make.log")"
	"$MAKE" -s -f mk/kmod.mk BUILD="$BUILD" kmod >"$TMP/make.log" 2>&1 ||
		die "cannot build xkv.ko: $(tail -n 3 "$TMP/make.log")"
	"$MAKE" -s -f mk/bench.mk BUILD="$BUILD" bench-tools \
		>"$TMP/make.log" 2>&1 ||
		die "cannot build xkv-bench: $(tail -n 3 "$TMP/make.log")"
	"$MAKE" -s BUILD="$BUILD" "$BUILD/xkvd" >"$TMP/make.log" 2>&1 ||
		die "cannot build xkvd: $(tail -n 3 "$TMP/make.log")"
fi
[[ -f $KERNEL ]] || die "no kernel $KERNEL (make -f mk/kmod.mk vm-kernel)"
[[ -f $MODULE ]] || die "no module $MODULE (make kmod)"
vm_check_module "$KERNEL" "$MODULE"
vm_root "$ROOT" bench/vm-init.sh "$MODULE"

# objs DIR SRC...: the object of each source under DIR
objs() {
	local dir=$1 s
	shift
	for s in "$@"; do
		echo "$dir/$(basename "${s%.c}").o"
	done
}
# static links of the objects make built (the guest has no libraries);
# getaddrinfo only ever sees numeric addresses there, so no NSS is needed
mapfile -t bobjs < <(objs "$BUILD/obj/bench-tools" bench/xkv-bench/*.c
	objs "$BUILD/obj/bench-tools/core" kmod/core/util.c)
mapfile -t xobjs < <(for d in kmod/user kmod/core; do
	objs "$BUILD/obj/$d" "$d"/*.c
done)
for o in "${bobjs[@]}" "${xobjs[@]}"; do
	[[ -f $o ]] || die "missing $o (make bench-tools xkvd)"
done
gcc -static -pthread -o "$ROOT/bin/xkv-bench" "${bobjs[@]}" -lm \
	2>"$TMP/ld.log" || die "static xkv-bench: $(tail -n 3 "$TMP/ld.log")"
gcc -static -pthread -o "$ROOT/bin/xkvd" "${xobjs[@]}" \
	2>"$TMP/ld.log" || die "static xkvd: $(tail -n 3 "$TMP/ld.log")"
strip "$ROOT/bin/xkv-bench" "$ROOT/bin/xkvd"

# copy_dynamic BIN: BIN into ROOT's /bin, its shared libraries and loader
# at the paths ldd names
copy_dynamic() {
	local lib
	cp "$1" "$ROOT/bin/"
	while read -r lib; do
		mkdir -p "$ROOT$(dirname "$lib")"
		cp -L "$lib" "$ROOT$lib"
	done < <(ldd "$1" | grep -o '/[^ ]*')
}
if ((ICOUNT)); then
	MEMCACHED=$(command -v memcached || true)
	[[ -n $MEMCACHED ]] ||
		die "memcached not found (apt-get install memcached)"
	copy_dynamic "$MEMCACHED"
	# memcached started as root wants a user to switch to (-u root)
	mkdir -p "$ROOT/etc"
	echo 'root:x:0:0:root:/:/bin/sh' >"$ROOT/etc/passwd"
	echo 'root:x:0:' >"$ROOT/etc/group"
fi

if [[ -n $LOADER ]]; then
	vm_static "$LOADER" || die "$LOADER is not linked statically"
	cp "$LOADER" "$ROOT/bin/xkv"
	kmods=$(dirname "$KERNEL")/modules
	mkdir -p "$ROOT/modules"
	if [[ -f $kmods/order ]]; then
		while read -r m; do
			cp "$kmods/$m" "$ROOT/modules/$m"
		done <"$kmods/order"
		cp "$kmods/order" "$ROOT/modules/order"
	fi
	if ((VETH)); then
		grep -qx veth.ko "$ROOT/modules/order" 2>/dev/null ||
			die "no veth.ko in $kmods (make -f mk/kmod.mk vm-kernel)"
		gcc -static -O2 -o "$ROOT/bin/xdp_pass" tests/net/xdp_pass.c \
			-lbpf -lelf -lz 2>"$TMP/ld.log" ||
			die "static xdp_pass: $(tail -n 3 "$TMP/ld.log")"
		strip "$ROOT/bin/xdp_pass"
	fi
fi

printf 'DURATION=%s\nWARMUP=1\nKEYS=%s\nTHREADS=%s\nMEM_MB=%s\nICOUNT=%s\n' \
	"$DURATION" "$KEYS" "$THREADS" "$MEM_MB" "$ICOUNT" >"$ROOT/bench.conf"
[[ $CLIENT_NICE =~ ^-?[0-9]+$ ]] || die "-N wants a number"
echo "CLIENT_NICE=$CLIENT_NICE" >>"$ROOT/bench.conf"
echo "VETH=$VETH" >>"$ROOT/bench.conf"
vm_pack "$ROOT" "$TMP/initrd"

# --- boot -----------------------------------------------------------------

echo "vmbench: booting $(basename "$KERNEL") ($kver) with" \
	"$(basename "$MODULE"), ${DURATION} s runs (timeout ${TIMEOUT}s)" \
	"${VM_ACCEL[*]}"
start=$SECONDS
rc=0
vm_boot "$TIMEOUT" "$THREADS" "$LOG" "$KERNEL" "$TMP/initrd" \
	"console=ttyS0 loglevel=4 panic=-1 rdinit=/init" || rc=$?
echo "vmbench: the VM ran $((SECONDS - start)) s"

# --- result ---------------------------------------------------------------

tr -d '\r' <"$LOG" >"$TMP/console"
sed -n 's/^xkv-vmbench: /vmbench: guest: /p' "$TMP/console"
guest=$(sed -n 's/^xkv-vmbench: kernel \([^,]*\), \([0-9]*\) CPUs.*/\1 \2/p' \
	"$TMP/console" | head -n 1)
: >"$TMP/out"
while IFS= read -r line; do
	jq -c --arg kernel "${guest% *}" --arg cpus "${guest#* }" \
		--arg accel "${VM_ACCEL[*]}" \
		'. + {guest_kernel: $kernel, guest_cpus: ($cpus | tonumber? // null),
		      emulator: "qemu TCG", qemu_accel: $accel} |
		if ($accel | test("icount")) and .bench.cpu.window_ns != null
		   and .bench.gets > 0 then
			.insn = {total: .bench.cpu.window_ns,
				 client: .bench.cpu.client_ns,
				 gets: .bench.gets,
				 idle_ticks: (.bench.cpu.total_ticks -
					      .bench.cpu.busy_ticks),
				 total_per_get: (.bench.cpu.window_ns /
						 .bench.gets),
				 server_per_get: ((.bench.cpu.window_ns -
						   .bench.cpu.client_ns) /
						  .bench.gets),
				 napi_xs: ([(.bench.cpu.kthread_ns // {}) |
					    to_entries[] |
					    select(.key | startswith("napi/xs-")) |
					    .value] | add // 0),
				 napi_xc: ([(.bench.cpu.kthread_ns // {}) |
					    to_entries[] |
					    select(.key | startswith("napi/xc-")) |
					    .value] | add // 0),
				 ksoftirqd: ([(.bench.cpu.kthread_ns // {}) |
					      to_entries[] |
					      select(.key |
						     startswith("ksoftirqd/")) |
					      .value] | add // 0)}
		else . end' <<<"$line" >>"$TMP/out" 2>/dev/null ||
		echo "vmbench: unparsable line: $line" >&2
done < <(sed -n 's/^XKV-VMBENCH \({.*}\)$/\1/p' "$TMP/console")
mv "$TMP/out" "$OUT"

jq -r '"vmbench: \(.server) \(.proto): " + (if .bench then
	"\(.bench.ops_per_sec) GET/s, p50 \(.bench.latency_us.p50) us, " +
	"\(.bench.bad_values) bad values, \(.bench.timeouts) timeouts"
	else "no result" end) + " (exit \(.rc))"' "$OUT"
if ((ICOUNT)); then
	echo "vmbench: guest instructions per GET (server = total - client;" \
		"napi/xs, napi/xc, ksoftirqd: part of server; -xc: server" \
		"without napi/xc; x xkvd: / xkvd's, same protocol):"
	jq -r -s '(map(select(.insn and .server == "xkvd")) |
		   map({key: .proto, value: .insn}) | from_entries) as $x |
		def r(a; b): if b > 0 then a / b else 0 end;
		.[] | select(.insn) | .insn as $i |
		($i.server_per_get - $i.napi_xc / $i.gets) as $s2 |
		[.server, .proto, $i.gets,
		($i.total_per_get | round), ($i.client / $i.gets | round),
		($i.server_per_get | round),
		($i.napi_xs / $i.gets | round),
		($i.napi_xc / $i.gets | round),
		($i.ksoftirqd / $i.gets | round),
		r($i.server_per_get; $x[.proto].server_per_get // 0),
		($s2 | round),
		r($s2; ($x[.proto] // {server_per_get: 0, napi_xc: 0,
				       gets: 1}) |
			 .server_per_get - .napi_xc / .gets),
		$i.idle_ticks] | @tsv' "$OUT" |
		awk -F'\t' 'BEGIN { printf "vmbench:   %-16s %-5s %7s %7s %7s %7s %7s %7s %6s %6s %7s %6s %4s\n",
			"server", "proto", "GETs", "total", "client", "server",
			"napi/xs", "napi/xc", "ksirqd", "x xkvd", "-xc",
			"x xkvd", "idle" }
			{ printf "vmbench:   %-16s %-5s %7d %7d %7d %7d %7d %7d %6d %6.3f %7d %6.3f %4d\n",
				$1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13 }'
fi

problems=()
why=$(vm_boot_problem "$rc" "$TIMEOUT")
[[ -z $why ]] || problems+=("$why")
end=$(grep -m 1 '^XKV-VMBENCH-END ' "$TMP/console" || true)
if [[ -z $end ]]; then
	problems+=("the guest never finished (crash, hang or panic?)")
elif [[ $end != "XKV-VMBENCH-END failed=0" ]]; then
	problems+=("the guest reports ${end#XKV-VMBENCH-END } runs")
fi
good=$(jq -s '[.[] | select(.rc == 0 and .bench != null and
	.bench.bad_values == 0 and .bench.proto_errors == 0 and
	.bench.gets > 0)] | length' "$OUT")
((good == RUNS)) ||
	problems+=("$good of $RUNS runs completed with every value right")
if ((${#problems[@]} > 0)); then
	echo "vmbench: console log: $LOG" >&2
	tail -n 30 "$TMP/console" | sed 's/^/vmbench:   /' >&2
	die "$(IFS=';'; echo "${problems[*]}")"
fi
echo "vmbench: ok, results in $OUT"
