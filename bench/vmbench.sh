#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# vmbench.sh - xkv.ko against xkvd inside a qemu TCG guest.
#
#   bench/vmbench.sh [-o FILE] [-d SECONDS] [-t SECONDS] [-k VMLINUX]
#                    [-m XKV.KO] [-n]
#
#   -o  where the results go, one JSON line per run (default
#       $BUILD/vm/vmbench.jsonl)
#   -d  measured seconds per run (default 3; plus 1 s of warm-up)
#   -t  bound on the whole boot and benchmark (default 240)
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
# Exit status 0 when all four runs completed with every value right; 1
# otherwise, with the reason on the last line ("vmbench: FAIL: ...") and
# the console log in $BUILD/vm/vmbench-console.log.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
BUILD=${BUILD:-build}
MAKE=${MAKE:-make}
OUT=$BUILD/vm/vmbench.jsonl
DURATION=3
TIMEOUT=240
KERNEL=$BUILD/vm/kernel/vmlinux
MODULE=$BUILD/xkv.ko
BUILDIT=1
KEYS=10000
THREADS=2
MEM_MB=64

usage() {
	sed -n '4,15p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
	exit 2
}

while getopts "o:d:t:k:m:nh" opt; do
	case $opt in
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

# vm_need_tools, vm_check_module, vm_root, vm_pack, vm_boot,
# vm_boot_problem
# shellcheck source=scripts/vm-host.sh
source scripts/vm-host.sh

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

printf 'DURATION=%s\nWARMUP=1\nKEYS=%s\nTHREADS=%s\nMEM_MB=%s\n' \
	"$DURATION" "$KEYS" "$THREADS" "$MEM_MB" >"$ROOT/bench.conf"
vm_pack "$ROOT" "$TMP/initrd"

# --- boot -----------------------------------------------------------------

echo "vmbench: booting $(basename "$KERNEL") ($kver) with" \
	"$(basename "$MODULE"), ${DURATION} s runs (timeout ${TIMEOUT}s)"
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
		'. + {guest_kernel: $kernel, guest_cpus: ($cpus | tonumber? // null),
		      emulator: "qemu TCG"}' <<<"$line" >>"$TMP/out" 2>/dev/null ||
		echo "vmbench: unparsable line: $line" >&2
done < <(sed -n 's/^XKV-VMBENCH \({.*}\)$/\1/p' "$TMP/console")
mv "$TMP/out" "$OUT"

jq -r '"vmbench: \(.server) \(.proto): " + (if .bench then
	"\(.bench.ops_per_sec) GET/s, p50 \(.bench.latency_us.p50) us, " +
	"\(.bench.bad_values) bad values, \(.bench.timeouts) timeouts"
	else "no result" end) + " (exit \(.rc))"' "$OUT"

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
((good == 4)) || problems+=("$good of 4 runs completed with every value right")
if ((${#problems[@]} > 0)); then
	echo "vmbench: console log: $LOG" >&2
	tail -n 30 "$TMP/console" | sed 's/^/vmbench:   /' >&2
	die "$(IFS=';'; echo "${problems[*]}")"
fi
echo "vmbench: ok, results in $OUT"
