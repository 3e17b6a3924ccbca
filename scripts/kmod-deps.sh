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
#                                    DIR/vmlinux (an ELF, PVH entry) and
#                                    the modules the guest loads in
#                                    DIR/modules/ (see VM_MODULES)
#   scripts/kmod-deps.sh btf DIR     install pahole and build
#                                    resolve_btfids into DIR (once):
#                                    what giving xkv.ko BTF takes, with
#                                    the vmlinux of "kernel" as its base
#
# The ABI is never written down here: it is whatever Debian's
# linux-headers-amd64 metapackage depends on when it is installed, so a
# mirror that moved to a newer 6.1 point release just works. The kernel
# image package of the same ABI is fetched with "apt-get download" and
# unpacked with "dpkg-deb -x": it is not installed (no hooks, no initramfs,
# nothing under /boot), and only vmlinux and the few modules in
# VM_MODULES (with the modules they depend on) are kept.
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
#
# Module BTF ("btf"): Debian's headers ship neither vmlinux nor
# resolve_btfids, and without BTF the kfuncs xkv.ko registers for XDP
# cannot be called (the XDP store path, bpf/xkv_store.bpf.c). So:
#   dwarves              pahole 1.24, the version Debian's kernel was built
#                        with (CONFIG_PAHOLE_VERSION): encodes the BTF
#   python3              generates libbpf's helper list while
#                        resolve_btfids builds
#   linux-source-6.1     only downloaded ("apt-get download", ~140 MB),
#                        never installed: tools/bpf/resolve_btfids and what
#                        it builds from (tools/, scripts/bpf_doc.py,
#                        include/uapi/linux/bpf.h) are unpacked into a
#                        temporary directory and only the built tool is
#                        kept, in DIR. About 30 s once; later runs find it.
set -euo pipefail

# Modules of Debian's kernel the guest loads (their dependencies too):
# "xkv up" attaches the TCP fast path's TC programs with a clsact qdisc
# (sch_ingress) and a BPF classifier (cls_bpf), both modules in Debian's
# 6.1 config; bench/vmbench.sh -X puts its client behind a veth pair with
# native XDP (veth). DIR/modules/order lists them in loading order.
VM_MODULES=(sch_ingress cls_bpf veth)

BUILD_PKGS=(linux-headers-amd64 make gcc libc6-dev)
BTF_PKGS=(dwarves python3 libelf-dev zlib1g-dev xz-utils)
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

# modules_ok DIR: DIR/modules has every module VM_MODULES names
modules_ok() {
	local m

	for m in "${VM_MODULES[@]}"; do
		grep -qx "$m.ko" "$1/modules/order" 2>/dev/null || return 1
	done
}

# add_module ROOT DIR NAME: copy module NAME from the unpacked image ROOT
# into DIR (uncompressed), after the modules it depends on (its modinfo
# "depends="), and list it in DIR/order
add_module() {
	local root=$1 dir=$2 name=$3 src dep deps

	grep -qx "$name.ko" "$dir/order" 2>/dev/null && return 0
	src=$(find "$root/lib/modules" \( -name "$name.ko" -o \
		-name "$name.ko.xz" \) -print -quit)
	[[ -n $src ]] || die "no module $name in the image package"
	case $src in
	*.xz) xz -dc "$src" >"$dir/$name.ko" ;;
	*) cp "$src" "$dir/$name.ko" ;;
	esac
	deps=$(strings "$dir/$name.ko" | sed -n 's/^depends=//p' | head -n 1)
	for dep in ${deps//,/ }; do
		add_module "$root" "$dir" "$dep"
	done
	echo "$name.ko" >>"$dir/order"
}

# Fetch linux-image-ABI, keep its vmlinux (and config) in $1, and the
# modules the guest needs in $1/modules.
kernel() {
	local out=$1 abi tmp off m

	abi=$(abi)
	mkdir -p "$out"
	if [[ -s $out/vmlinux && "$(cat "$out/abi" 2>/dev/null)" == "$abi" ]] &&
		modules_ok "$out"; then
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

	rm -rf "$out/modules"
	mkdir -p "$out/modules"
	for m in "${VM_MODULES[@]}"; do
		add_module "$tmp/root" "$out/modules" "$m"
	done

	cp "$tmp/root/boot/config-$abi" "$out/config"
	mv "$tmp/vmlinux" "$out/vmlinux"
	echo "$abi" >"$out/abi"
	log "kernel $abi in $out/vmlinux"
}

# Build resolve_btfids from linux-source-6.1 into $1 (once).
btf_tools() {
	local out=$1 tmp src ver

	mkdir -p "$out"
	out=$(cd "$out" && pwd)
	if [[ -x $out/resolve_btfids ]]; then
		return 0
	fi
	tmp=$(mktemp -d)
	# shellcheck disable=SC2064
	trap "rm -rf '$tmp'" RETURN
	log "downloading linux-source-6.1 (for tools/bpf/resolve_btfids)"
	if ! (cd "$tmp" && apt-get -q -o APT::Sandbox::User=root \
		download linux-source-6.1 >&2); then
		log "refreshing the package lists"
		"${SUDO[@]}" apt-get update -q >&2
		(cd "$tmp" && apt-get -q -o APT::Sandbox::User=root \
			download linux-source-6.1 >&2) ||
			die "cannot download linux-source-6.1"
	fi
	ver=$(dpkg-deb -f "$tmp"/linux-source-6.1_*.deb Version)
	log "unpacking resolve_btfids' sources from linux-source-6.1 $ver"
	dpkg-deb --fsys-tarfile "$tmp"/linux-source-6.1_*.deb |
		tar -xO ./usr/src/linux-source-6.1.tar.xz |
		tar -xJ -C "$tmp" --wildcards 'linux-source-6.1/tools/*' \
			linux-source-6.1/scripts/bpf_doc.py \
			linux-source-6.1/include/uapi/linux/bpf.h ||
		die "cannot unpack linux-source-6.1"
	rm -f "$tmp"/linux-source-6.1_*.deb
	src=$tmp/linux-source-6.1
	mkdir -p "$tmp/obj"
	log "building resolve_btfids"
	make -s -C "$src/tools/bpf/resolve_btfids" O="$tmp/obj" \
		-j"$(nproc)" >"$tmp/build.log" 2>&1 || {
		cat "$tmp/build.log" >&2
		die "resolve_btfids did not build"
	}
	install -m 755 "$tmp/obj/resolve_btfids" "$out/resolve_btfids"
	echo "$ver" >"$out/resolve_btfids.version"
	log "resolve_btfids (linux-source-6.1 $ver) in $out"
}

case ${1:-install} in
install)
	do_install "${BUILD_PKGS[@]}" "${VM_PKGS[@]}" "${BTF_PKGS[@]}"
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
btf)
	[[ $# -eq 2 ]] || die "usage: $0 btf DIR"
	do_install "${BTF_PKGS[@]}"
	btf_tools "$2"
	;;
*)
	sed -n '4,18p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
	exit 2
	;;
esac
