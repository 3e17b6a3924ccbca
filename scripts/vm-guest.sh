# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=sh
#
# vm-guest.sh - how every /init of ours starts (busybox sh, no bash):
# sourced as /vm-guest.sh, which scripts/vm-host.sh puts in the initramfs,
# by tests/vm/init.sh and bench/vm-init.sh, with PATH=/bin.

# vm_guest_start: busybox's applets in /bin; /proc, /sys, /dev and /tmp
# mounted; the console on stdin, stdout and stderr; lo up
vm_guest_start() {
	/bin/busybox mkdir -p /proc /sys /dev /tmp
	/bin/busybox --install -s /bin
	mount -t proc proc /proc
	mount -t sysfs sys /sys
	mount -t devtmpfs dev /dev 2>/dev/null
	mount -t tmpfs tmp /tmp
	[ -c /dev/console ] && exec </dev/console >/dev/console 2>&1
	ip link set lo up
}
