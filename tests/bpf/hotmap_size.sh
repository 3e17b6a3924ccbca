#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# hotmap_size.sh - xkvd --hot-map refuses a map whose slot count is not a
# power of two (xkv_hot_index() masks the hash with it): a pinned mmapable
# array of 3 slots, then one of 48, must each make xkvd exit non-zero at
# once with a message that says why (it would otherwise touch slots beyond
# the map).
#
#   tests/bpf/hotmap_size.sh XKVD PORT
#
# Needs root; mounts a bpffs at /sys/fs/bpf when there is none (bpftool
# creates the maps there).
set -euo pipefail

XKVD=$1
PORT=$2
BPFFS=/sys/fs/bpf
DIR=$BPFFS/xkv-hotmap-size-$$	# bpffs names take no dots
LOG=$(mktemp)
# a fresh machine may boot without a bpffs (xkv up mounts one itself):
# mount it for the test, unmount what this script mounted
mounted=0
if ! mountpoint -q "$BPFFS"; then
	mount -t bpf bpf "$BPFFS"
	mounted=1
fi
# shellcheck disable=SC2317 # called by the trap
cleanup() {
	rm -rf "$DIR" "$LOG"
	if ((mounted)); then
		umount "$BPFFS" || true
	fi
}
trap cleanup EXIT
mkdir "$DIR"

BPF_F_MMAPABLE=1024
SLOT_SIZE=2048	# sizeof(struct xkv_slot)
bad=0

for n in 3 48; do
	bpftool map create "$DIR/hot$n" type array key 4 value $SLOT_SIZE \
		entries "$n" name "xkv_hot$n" flags $BPF_F_MMAPABLE
	rc=0
	timeout 10 "$XKVD" -p "$PORT" -l 127.0.0.1 --hot-map "$DIR/hot$n" \
		>"$LOG" 2>&1 || rc=$?
	if ((rc == 0 || rc == 124)); then
		echo "FAIL: xkvd --hot-map with $n slots did not refuse it (exit $rc)"
		bad=1
	elif ! grep -q "$n slots: an xkv hot cache needs a power of two" "$LOG"; then
		echo "FAIL: xkvd --hot-map with $n slots: no clear reason:"
		cat "$LOG"
		bad=1
	else
		echo "ok: $n slots refused: $(head -n 1 "$LOG")"
	fi
done
exit $bad
