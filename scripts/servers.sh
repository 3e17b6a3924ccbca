# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# servers.sh - helpers for scripts that start servers on this machine:
# free ports, waiting for a server to listen, stopping servers (sourced
# by tests/run.sh and bench/smoke.sh).
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

# listening PORT: is a TCP socket listening on it? ss sees it without
# connecting, so the server's connection counters stay untouched.
listening() {
	if command -v ss >/dev/null; then
		[[ -n $(ss -Htln "( sport = :$1 )" 2>/dev/null) ]]
	else
		(exec 3<>"/dev/tcp/${HOST:-127.0.0.1}/$1") 2>/dev/null
	fi
}

# await_listen PID PORT SECS: wait until process PID listens on TCP PORT;
# fails when it exits first or SECS seconds pass
await_listen() {
	local i

	for ((i = 0; i < $3 * 10; i++)); do
		kill -0 "$1" 2>/dev/null || return 1
		listening "$2" && return 0
		sleep 0.1
	done
	return 1
}

# stop_pids SECS PID...: SIGTERM to each child PID, SIGKILL to those still
# running SECS seconds later; reaps them all
stop_pids() {
	local secs=$1 pid i
	shift

	for pid in "$@"; do
		kill -TERM "$pid" 2>/dev/null || true
	done
	for pid in "$@"; do
		for ((i = 0; i < secs * 10; i++)); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
}
