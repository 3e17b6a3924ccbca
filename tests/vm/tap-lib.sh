#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# tap-lib.sh - what the VM's TAP scripts (tcpfast-tap.sh, xdp-store-tap.sh)
# share; sourced, busybox sh. The guest has it as /bin/xkv-tap-lib.
#
#   ok DESC, not_ok DESC   one TAP line; N counts them, BAD the failures
#   check DESC CMD...      run CMD, its output as TAP comments (through
#                          $OUT), ok when it succeeds
#   unloaded IFACE         xkv.ko is not loaded and IFACE has no XDP
#   tap_mark NAME          mark the kernel log (MARK) for dmesg_clean
#   dmesg_clean            no BUG, WARNING, Oops or lockup in the kernel
#                          log since tap_mark

N=0
BAD=0

ok() {
	N=$((N + 1))
	echo "ok $N - $*"
}

not_ok() {
	N=$((N + 1))
	BAD=$((BAD + 1))
	echo "not ok $N - $*"
}

check() {
	desc=$1
	shift
	if "$@" >"$OUT" 2>&1; then
		sed 's/^/# /' "$OUT"
		ok "$desc"
	else
		sed 's/^/# /' "$OUT"
		not_ok "$desc"
	fi
}

unloaded() {
	if grep -q '^xkv ' /proc/modules; then
		echo "xkv.ko still loaded"
		return 1
	fi
	if ip link show "$1" | grep -q xdp; then
		echo "XDP still attached to $1"
		return 1
	fi
}

tap_mark() {
	MARK="xkv-vm-$1-$$"
	echo "$MARK" >/dev/kmsg
}

dmesg_clean() {
	BADRE='BUG|WARNING|Oops|Call Trace|general protection|soft lockup'
	BADRE="$BADRE|hung_task|stall|not freed|still referenced"
	! dmesg | sed -n "/$MARK/,\$p" | grep -E "$BADRE"
}
