#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# kmod-deps.sh - what building xkv.ko and testing it in a VM needs.
#
#   scripts/kmod-deps.sh [install]   install the packages below if missing
#   scripts/kmod-deps.sh abi         print the kernel ABI (6.1.0-N-amd64)
#   scripts/kmod-deps.sh kdir        install what building the module
#                                    needs, then print the headers dir
#   scripts/kmod-deps.sh kernel DIR  install what the VM test needs, then
#                                    put the matching kernel in
#                                    DIR/vmlinux (an ELF, PVH entry)
#
# The ABI is never written down here: it is whatever Debian's
# linux-headers-amd64 metapackage depends on when it is installed, so a
# mirror that moved to a newer 6.1 point release just works. The kernel
# image package of the same ABI is fetched with "apt-get download" and
# unpacked with "dpkg-deb -x": it is not installed (no hooks, no initramfs,
# nothing under /boot), and only vmlinux is kept.
#
# Why each package is here:
#   linux-headers-amd64  Kbuild tree for Debian's kernel (pulls gcc-12 and
#                        linux-kbuild-6.1)
#   make gcc libc6-dev   the module build, and the host side of the test
#   qemu-system-x86      boots that kernel under TCG (the host's /dev/kvm
#                        cannot run a stock kernel)
#   busybox-static       the guest's whole user space
#   musl-tools           musl-gcc -static: small static test programs
#   xz-utils             vmlinuz carries vmlinux xz-compressed
#   cpio                 packs the initramfs
#   coreutils            timeout(1) around qemu
#   binutils             readelf, to check the extracted vmlinux
#   libmemcached-tools   memccapable, run in the guest against the module
#   libbpf-dev libelf-dev zlib1g-dev
#                        libbpf.a, libelf.a, libz.a: the loader and the
#                        XDP fixtures linked statically for the guest
set -euo pipefail

BUILD_PKGS=(linux-headers-amd64 make gcc libc6-dev)
VM_PKGS=(qemu-system-x86 busybox-static musl-tools xz-utils cpio coreutils
	binutils libmemcached-tools libbpf-dev libelf-dev zlib1g-dev)

log() {
	echo "kmod-deps: $*" >&2
}

die() {
	log "error: $*"
	exit 1
}

# installed PKG, missing_pkgs PKG..., SUDO
# shellcheck source=scripts/apt.sh
source "$(dirname "${BASH_SOURCE[0]}")/apt.sh"

do_install() {	# do_install PKG...
	local missing p

	mapfile -t missing < <(missing_pkgs "$@")
	((${#missing[@]} == 0)) && return 0
	log "installing: ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	"${SUDO[@]}" apt-get update -q >&2
	"${SUDO[@]}" apt-get install -y -q --no-install-recommends \
		"${missing[@]}" >&2
	for p in "$@"; do
		installed "$p" || die "$p is still not installed"
	done
}

# "linux-headers-6.1.0-56-amd64 (= 6.1.192-2)" -> "6.1.0-56-amd64"
abi() {
	local dep

	installed linux-headers-amd64 ||
		die "linux-headers-amd64 is not installed (run $0 install)"
	dep=$(dpkg-query -W -f='${Depends}' linux-headers-amd64 |
		grep -o 'linux-headers-[^ ,]*' | head -n 1)
	[[ -n "$dep" ]] || die "linux-headers-amd64 depends on no headers"
	echo "${dep#linux-headers-}"
}

kdir() {
	local dir

	dir="/usr/src/linux-headers-$(abi)"
	[[ -f "$dir/Makefile" ]] || die "$dir is not a kernel build tree"
	echo "$dir"
}

# The offset of the first xz stream in a bzImage, or nothing.
xz_offset() {
	LC_ALL=C grep -abo -m 1 $'\xfd7zXZ' "$1" 2>/dev/null | head -n 1 |
		cut -d: -f1 || true
}

# Download linux-image-$2 into directory $1. The unsigned image is the
# same kernel without the Secure Boot signature; take the signed one when
# a mirror lacks it.
download_image() {
	local dir=$1 abi=$2 pkg

	for pkg in "linux-image-$abi-unsigned" "linux-image-$abi"; do
		log "downloading $pkg"
		if (cd "$dir" && apt-get -q -o APT::Sandbox::User=root \
			download "$pkg" >&2); then
			return 0
		fi
	done
	return 1
}

# Fetch linux-image-ABI, keep its vmlinux (and config) in $1.
kernel() {
	local out=$1 abi tmp off

	abi=$(abi)
	mkdir -p "$out"
	if [[ -s $out/vmlinux && "$(cat "$out/abi" 2>/dev/null)" == "$abi" ]]
	then
		return 0
	fi
	tmp=$(mktemp -d)
	# shellcheck disable=SC2064
	trap "rm -rf '$tmp'" RETURN

	if ! download_image "$tmp" "$abi"; then
		# Stale package lists, or the mirror moved to a newer ABI and
		# dropped this one: follow it, headers included (the module
		# is then rebuilt against them).
		log "refreshing the package lists"
		"${SUDO[@]}" apt-get update -q >&2
		"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive \
			apt-get install -y -q --no-install-recommends \
			linux-headers-amd64 >&2
		abi=$(abi)
		download_image "$tmp" "$abi" ||
			die "cannot download linux-image-$abi"
	fi
	dpkg-deb -x "$tmp"/*.deb "$tmp/root"
	[[ -f "$tmp/root/boot/vmlinuz-$abi" ]] ||
		die "no boot/vmlinuz-$abi in the image package"

	off=$(xz_offset "$tmp/root/boot/vmlinuz-$abi")
	[[ -n "$off" ]] || die "vmlinuz-$abi carries no xz payload"
	# xz stops at the end of its stream and complains about the bytes
	# after it (the rest of the bzImage): that is expected.
	tail -c +"$((off + 1))" "$tmp/root/boot/vmlinuz-$abi" |
		xz -dc >"$tmp/vmlinux" 2>/dev/null || true
	readelf -h "$tmp/vmlinux" >/dev/null 2>&1 ||
		die "the xz payload of vmlinuz-$abi is not an ELF vmlinux"

	cp "$tmp/root/boot/config-$abi" "$out/config"
	mv "$tmp/vmlinux" "$out/vmlinux"
	echo "$abi" >"$out/abi"
	log "kernel $abi in $out/vmlinux"
}

case ${1:-install} in
install)
	do_install "${BUILD_PKGS[@]}" "${VM_PKGS[@]}"
	;;
abi)
	abi
	;;
kdir)
	do_install "${BUILD_PKGS[@]}"
	kdir
	;;
kernel)
	[[ $# -eq 2 ]] || die "usage: $0 kernel DIR"
	do_install "${BUILD_PKGS[@]}" "${VM_PKGS[@]}"
	kernel "$2"
	;;
*)
	sed -n '4,12p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
	exit 2
	;;
esac
