# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# ports.sh - free-port helpers for scripts that start servers on this
# machine (sourced by tests/run.sh and bench/smoke.sh).
#
# HOST (default 127.0.0.1) is only used when ss(8) is missing.

# port_busy PORT: is anything bound to it (TCP or UDP)?
port_busy() {
	if command -v ss >/dev/null; then
		ss -Htuan 2>/dev/null | awk '{print $5}' | grep -Eq "[:.]$1\$"
	else
		(exec 3<>"/dev/tcp/${HOST:-127.0.0.1}/$1") 2>/dev/null
	fi
}

# pick_port: print a port in 20000..49999 that nothing is bound to
pick_port() {
	local i p

	for ((i = 0; i < 100; i++)); do
		p=$((20000 + (RANDOM * 32768 + RANDOM) % 30000))
		port_busy "$p" || {
			echo "$p"
			return 0
		}
	done
	return 1
}
