# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# vm-host.sh - boot Debian's kernel under qemu with xkv.ko in an
# initramfs: the host side shared by tests/vm/run.sh (make vmtest) and
# bench/vmbench.sh (sourced by both). The sourcing script defines
# die MESSAGE (report, exit 1).
#
# The guest is qemu TCG (this machine's /dev/kvm cannot run a stock
# kernel), 1 GB, no reboot, its serial console written to a file. Its
# whole user space is a static busybox; its /init, a busybox sh script,
# starts with scripts/vm-guest.sh (copied in as /vm-guest.sh).

VM_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# VM_ACCEL: qemu's accelerator and clock options for vm_boot, an array
# the sourcing script may replace: multi-threaded TCG by default;
# bench/vmbench.sh -i sets (-accel tcg -icount shift=0,sleep=off), one
# guest instruction per guest nanosecond (icount needs single-threaded
# TCG, and the guest then one vCPU)
# shellcheck disable=SC2054 # commas inside a qemu option
VM_ACCEL=(-accel tcg,thread=multi)

# vm_static FILE: is it linked statically (the guest has no libraries)?
vm_static() {
	! readelf -l "$1" 2>/dev/null | grep -q INTERP
}

# vm_need_tools: qemu and a static busybox are here; sets BUSYBOX
vm_need_tools() {
	command -v qemu-system-x86_64 >/dev/null ||
		die "qemu-system-x86_64 not found (scripts/kmod-deps.sh install)"
	BUSYBOX=$(command -v busybox || true)
	[[ -n $BUSYBOX ]] ||
		die "busybox not found (scripts/kmod-deps.sh install)"
	vm_static "$BUSYBOX" ||
		die "$BUSYBOX is not static (install busybox-static)"
}

# vm_check_module KERNEL MODULE: sets kver and mver, the versions the
# kernel and the module's vermagic name (empty when not found); a module
# built for another kernel would only fail at insmod
vm_check_module() {
	kver=$(grep -a -o -m 1 'Linux version [^ ]*' "$1" | head -n 1 |
		cut -d' ' -f3 || true)
	mver=$(grep -a -o -m 1 'vermagic=[^ ]*' "$2" | head -n 1 |
		cut -d= -f2 || true)
	if [[ -n $kver && -n $mver && $kver != "$mver" ]]; then
		die "$2 is built for $mver, $1 is $kver"
	fi
}

# vm_root ROOT INIT MODULE: what every initramfs has: busybox (also as
# /bin/sh), INIT as /init with /vm-guest.sh, the module as /xkv.ko and an
# early console
vm_root() {
	local root=$1

	mkdir -p "$root"/{bin,dev,proc,sys,tmp}
	cp "$BUSYBOX" "$root/bin/busybox"
	ln -s busybox "$root/bin/sh"
	cp "$2" "$root/init"
	chmod 755 "$root/init"
	cp "$VM_LIB_DIR/vm-guest.sh" "$root/vm-guest.sh"
	# debug info only makes the image bigger; symbols stay for backtraces
	strip --strip-debug -o "$root/xkv.ko" "$3"
	# early console for /init; without root, /init opens it itself
	mknod -m 600 "$root/dev/console" c 5 1 2>/dev/null || true
}

# vm_pack ROOT INITRD: ROOT as a gzipped cpio archive
vm_pack() {
	(cd "$1" && find . | cpio -o -H newc --quiet) | gzip -1 >"$2"
}

# vm_boot SECS CPUS LOG KERNEL INITRD APPEND: boot, wait for the guest to
# power off (at most SECS); returns qemu's status, timeout(1)'s on a
# timeout
vm_boot() {
	: >"$3"
	timeout -k 10 "$1" qemu-system-x86_64 \
		"${VM_ACCEL[@]}" -cpu max -smp "$2" -m 1024 \
		-nographic -nodefaults -no-reboot -monitor none \
		-serial "file:$3" -kernel "$4" -initrd "$5" -append "$6" \
		</dev/null
}

# vm_boot_problem RC SECS: what vm_boot's status RC says went wrong, or
# nothing
vm_boot_problem() {
	if (($1 == 124 || $1 == 137)); then
		echo "timed out after ${2}s"
	elif (($1 != 0)); then
		echo "qemu exited with status $1"
	fi
}
