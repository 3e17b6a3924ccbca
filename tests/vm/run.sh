#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# run.sh - boot Debian's kernel in qemu with xkv.ko and run tests/vm/init.sh.
#
#   tests/vm/run.sh -k VMLINUX -m XKV.KO -p PROTOTEST -l LOAD -x TEST_XDP
#                   -L XKV -H XKV_HOT -S XKV_STREAM -T TEST_TCP
#                   -X XKV_STORE -D DROPPER [-K MODDIR] [-o DIR] [-i INIT]
#                   [-t SECONDS] [-v]
#
#   -k  kernel to boot (ELF vmlinux with a PVH entry, or a bzImage)
#   -m  the module
#   -p  static xkv-prototest
#   -l  static xkv-load
#   -x  static test_xdp (the XDP program's BPF_PROG_TEST_RUN fixtures)
#   -L  static xkv (the loader)
#   -H  static xkv-hot (/dev/xkv and the hot tier, from the guest)
#   -S  static xkv-stream (TCP streams checked against a model)
#   -T  static test_tcp (the TCP fast path's BPF_PROG_TEST_RUN fixtures)
#   -X  static xkv-store (the XDP store path's fixtures, from the guest)
#   -D  static xdp_pass (tests/net/xdp_pass.c: TC droppers, for the store
#       path's fixtures under loss)
#   -K  the kernel's own modules the guest loads before "xkv up": their
#       files and "order", the loading order (default: modules/ next to
#       the kernel, as scripts/kmod-deps.sh kernel leaves them)
#   -o  where the initramfs and console.log go (default build/vm)
#   -i  the guest's /init (default tests/vm/init.sh next to this script)
#   -t  bound on the whole boot and test (default 300)
#   -v  print the whole console log even when everything passed
#
# The guest is qemu TCG (this machine's /dev/kvm cannot run a stock
# kernel), 2 vCPUs, serial console to DIR/console.log. The result is read
# from the log: every TAP line of every suite, the suites' exit statuses
# and the guest's own "XKV-VMTEST: PASS" line. On any failure, a timeout
# or a guest that never got that far, the whole log is printed and the
# exit status is 1. The last line is "vmtest: N passed, N failed".
#
# Besides the static programs, the guest gets memccapable (from
# libmemcached-tools, found in $PATH) with the shared libraries ldd lists
# for it, the dynamic loader included, at the same paths as here.
set -euo pipefail

KERNEL='' MODULE='' PROTOTEST='' LOAD='' TEST_XDP='' LOADER='' HOT=''
STREAM='' TEST_TCP='' STORE='' DROPPER='' KMODS=''
INIT='' OUT=build/vm TIMEOUT=300 VERBOSE=0

usage() {
	sed -n '4,30p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
	exit 2
}

while getopts "k:m:p:l:x:L:H:S:T:X:D:K:o:i:t:vh" opt; do
	case $opt in
	k) KERNEL=$OPTARG ;;
	m) MODULE=$OPTARG ;;
	p) PROTOTEST=$OPTARG ;;
	l) LOAD=$OPTARG ;;
	x) TEST_XDP=$OPTARG ;;
	L) LOADER=$OPTARG ;;
	H) HOT=$OPTARG ;;
	S) STREAM=$OPTARG ;;
	T) TEST_TCP=$OPTARG ;;
	X) STORE=$OPTARG ;;
	D) DROPPER=$OPTARG ;;
	K) KMODS=$OPTARG ;;
	o) OUT=$OPTARG ;;
	i) INIT=$OPTARG ;;
	t) TIMEOUT=$OPTARG ;;
	v) VERBOSE=1 ;;
	*) usage ;;
	esac
done
[[ -n $KERNEL && -n $MODULE && -n $PROTOTEST && -n $LOAD && -n $TEST_XDP &&
	-n $LOADER && -n $HOT && -n $STREAM && -n $TEST_TCP && -n $STORE &&
	-n $DROPPER ]] ||
	usage
KMODS=${KMODS:-$(dirname "$KERNEL")/modules}

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
INIT=${INIT:-$HERE/init.sh}

die() {
	echo "vmtest: $*" >&2
	echo "vmtest: 0 passed, 1 failed"
	exit 1
}

# vm_static, vm_need_tools, vm_check_module, vm_root, vm_pack, vm_boot,
# vm_boot_problem
# shellcheck source=scripts/vm-host.sh
source "$HERE/../../scripts/vm-host.sh"

for f in "$KERNEL" "$MODULE" "$PROTOTEST" "$LOAD" "$TEST_XDP" "$LOADER" \
	"$HOT" "$STREAM" "$TEST_TCP" "$STORE" "$DROPPER" "$INIT" \
	"$HERE/memccapable-tap.sh" "$HERE/tcpfast-tap.sh" \
	"$HERE/xdp-store-tap.sh" "$HERE/tap-lib.sh" "$KMODS/order"; do
	[[ -f $f ]] || die "missing $f"
done
# the guest has only the libraries copied in for memccapable
for f in "$PROTOTEST" "$LOAD" "$TEST_XDP" "$LOADER" "$HOT" "$STREAM" \
	"$TEST_TCP" "$STORE" "$DROPPER"; do
	vm_static "$f" || die "$f is not linked statically"
done
MEMCCAPABLE=$(command -v memccapable || true)
[[ -n $MEMCCAPABLE ]] ||
	die "memccapable not found (libmemcached-tools: scripts/kmod-deps.sh)"
vm_need_tools
vm_check_module "$KERNEL" "$MODULE"

# --- initramfs ------------------------------------------------------------

mkdir -p "$OUT"
ROOT=$(mktemp -d)
trap 'rm -rf "$ROOT"' EXIT
vm_root "$ROOT" "$INIT" "$MODULE"
cp "$PROTOTEST" "$ROOT/bin/xkv-prototest"
cp "$LOAD" "$ROOT/bin/xkv-load"
cp "$TEST_XDP" "$ROOT/bin/test_xdp"
# the loader embeds the XDP object (its skeleton)
cp "$LOADER" "$ROOT/bin/xkv"
cp "$HOT" "$ROOT/bin/xkv-hot"
cp "$STREAM" "$ROOT/bin/xkv-stream"
cp "$TEST_TCP" "$ROOT/bin/test_tcp"
cp "$HERE/tcpfast-tap.sh" "$ROOT/bin/xkv-tcpfast-tap"
cp "$STORE" "$ROOT/bin/xkv-store"
cp "$DROPPER" "$ROOT/bin/xdp_pass"
cp "$HERE/xdp-store-tap.sh" "$ROOT/bin/xkv-xdp-store-tap"
cp "$HERE/tap-lib.sh" "$ROOT/bin/xkv-tap-lib"
# the module as a build without module BTF would be: the XDP store path
# must then be off, and the module work as before
objcopy --remove-section=.BTF "$ROOT/xkv.ko" "$ROOT/xkv-nobtf.ko" ||
	die "cannot make a copy of the module without BTF"
# the kernel's modules (sch_ingress, cls_bpf: the fast path's TC side)
mkdir -p "$ROOT/modules"
while read -r m; do
	[[ -f $KMODS/$m ]] || die "missing $KMODS/$m (in $KMODS/order)"
	vm_check_module "$KERNEL" "$KMODS/$m"
	cp "$KMODS/$m" "$ROOT/modules/$m"
done <"$KMODS/order"
cp "$KMODS/order" "$ROOT/modules/order"
# kver and mver of xkv.ko again (the fake vermagic below uses mver)
vm_check_module "$KERNEL" "$MODULE"
cp "$HERE/memccapable-tap.sh" "$ROOT/bin/memccapable-tap"

# memccapable with what ldd says it needs, at the same paths; /lib and
# /lib64 lead into /usr as on a merged-/usr Debian, so "/lib/..." and
# "/usr/bin/../lib/..." both land in /usr/lib
mkdir -p "$ROOT"/usr/{bin,lib,lib64}
ln -s usr/lib "$ROOT/lib"
ln -s usr/lib64 "$ROOT/lib64"
cp "$MEMCCAPABLE" "$ROOT/usr/bin/memccapable"
mapfile -t libs < <(ldd "$MEMCCAPABLE" |
	awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }')
((${#libs[@]} > 0)) || die "ldd lists no library for $MEMCCAPABLE"
for lib in "${libs[@]}"; do
	dest=$(realpath -m -s "$lib")
	mkdir -p "$ROOT$(dirname "$dest")"
	cp -L "$lib" "$ROOT$dest" || die "cannot copy $lib"
done
# the same module claiming another kernel (same length: the ELF stays
# valid), which xkv up must refuse to load
if [[ -n $mver ]]; then
	fake=$(printf '%*s' ${#mver} '' | tr ' ' 9)
	perl -0777 -pe "s/vermagic=\Q$mver\E/vermagic=$fake/" \
		"$ROOT/xkv.ko" >"$ROOT/xkv-other.ko"
fi

INITRD=$OUT/initramfs.cpio.gz
vm_pack "$ROOT" "$INITRD"

# --- boot -----------------------------------------------------------------

LOG=$OUT/console.log
# slab_nomerge + slub_debug: the module's own slab cache reports objects
# left at unload, and poisoning turns a use-after-free into a report
APPEND="console=ttyS0 loglevel=4 panic=-1 slab_nomerge slub_debug=FZP"
APPEND+=" rdinit=/init"

echo "vmtest: booting $(basename "$KERNEL") with $(basename "$MODULE")" \
	"(timeout ${TIMEOUT}s, log $LOG)"
start=$(date +%s)
rc=0
vm_boot "$TIMEOUT" 2 "$LOG" "$KERNEL" "$INITRD" "$APPEND" || rc=$?
secs=$(($(date +%s) - start))

# --- result ---------------------------------------------------------------

[[ -f $LOG ]] || die "$LOG vanished while the VM ran"
CLEAN=$(mktemp)
trap 'rm -rf "$ROOT" "$CLEAN"' EXIT
tr -d '\r' <"$LOG" >"$CLEAN"

passed=0
failed=0
problems=()

why=$(vm_boot_problem "$rc" "$TIMEOUT")
[[ -z $why ]] || problems+=("$why")

# every suite: its TAP lines and its exit status
mapfile -t suites < <(sed -n 's/^XKV-SUITE-BEGIN \(.*\)$/\1/p' "$CLEAN")
for s in "${suites[@]}"; do
	block=$(sed -n "/^XKV-SUITE-BEGIN $s\$/,/^XKV-SUITE-END $s /p" \
		"$CLEAN")
	p=$(grep -c '^ok ' <<<"$block" || true)
	f=$(grep -c '^not ok ' <<<"$block" || true)
	end=$(grep "^XKV-SUITE-END $s " <<<"$block" || true)
	plan=$(grep -m 1 -o '^1\.\.[0-9]*' <<<"$block" || true)
	src=${end##*rc=}
	echo "vmtest: suite $s: $p passed, $f failed, exit ${src:-?}"
	passed=$((passed + p))
	failed=$((failed + f))
	if [[ -z $end ]]; then
		problems+=("suite $s did not finish")
		failed=$((failed + 1))
	elif [[ $src != 0 ]]; then
		((f > 0)) || failed=$((failed + 1))
		problems+=("suite $s exited $src")
	fi
	if [[ -z $plan ]]; then
		problems+=("suite $s printed no TAP plan")
	elif ((p + f < ${plan#1..})); then
		problems+=("suite $s ran $((p + f)) of ${plan#1..} tests")
	fi
	grep '^not ok ' <<<"$block" | sed 's/^/vmtest:   /' || true
done
((${#suites[@]} > 0)) || problems+=("no test suite ran")

# the guest's own checks (rmmod under load, reload, dmesg) count as one
if grep -q '^XKV-VMTEST: PASS$' "$CLEAN"; then
	passed=$((passed + 1))
else
	failed=$((failed + 1))
	verdict=$(grep -m 1 '^XKV-VMTEST: ' "$CLEAN" || true)
	[[ -n $verdict ]] ||
		verdict="the guest never reported (crash, hang or panic?)"
	problems+=("$verdict")
fi
grep '^xkv-vm: rmmod took' "$CLEAN" | sed 's/^/vmtest: /' || true
grep '^xkv-vm: XDP program on ' "$CLEAN" | sed 's/^xkv-vm: /vmtest: /' || true
# (tcpfast's lines come inside its TAP, as comments)
grep -E '^(# )?xkv-vm: (vm/tcp-fast|vm/xdp-store|verifier|auth[a-z-]*:) ' "$CLEAN" |
	sed 's/^\(# \)\{0,1\}xkv-vm: /vmtest: /' || true

if ((${#problems[@]} > 0 || failed > 0 || VERBOSE)); then
	echo "vmtest: ---- console log ($LOG) ----"
	cat "$CLEAN"
	echo "vmtest: ---- end of console log ----"
fi
for p in "${problems[@]}"; do
	echo "vmtest: FAIL: $p"
done
echo "vmtest: boot and tests took ${secs}s"
echo "vmtest: $passed passed, $failed failed"
((${#problems[@]} == 0 && failed == 0))
