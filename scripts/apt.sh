# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# apt.sh - Debian package helpers for the install scripts (sourced by
# scripts/deps.sh and scripts/kmod-deps.sh).
#
# Sets SUDO: empty as root, else (sudo), for apt-get and what it owns.

# installed PKG: is the package installed?
installed() {
	dpkg-query -W -f='${Status}' "$1" 2>/dev/null |
		grep -q 'install ok installed'
}

# missing_pkgs PKG...: print those not installed, one a line
missing_pkgs() {
	local p

	for p in "$@"; do
		installed "$p" || echo "$p"
	done
}

SUDO=()
# shellcheck disable=SC2034 # used by the scripts that source this one
if [[ "$(id -u)" -ne 0 ]]; then
	SUDO=(sudo)
fi
