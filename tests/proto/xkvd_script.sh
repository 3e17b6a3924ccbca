# SPDX-License-Identifier: GPL-2.0
#
# xkvd_script.sh - sourced by the scripts that start their own xkvd
# (busy_poll.sh, admin_flags.sh, ascii_auth.sh), called as "SCRIPT XKVD
# PORT": sets XKVD, PORT, PY, a LOG file, PID (the xkvd to kill -9 on
# exit), bad, fail() and start().
set -euo pipefail

XKVD=$1
PORT=$2
PY=/usr/bin/python3
LOG=$(mktemp)
PID=
cleanup() {
	[ -z "$PID" ] || kill -KILL "$PID" 2>/dev/null || true
	rm -f "$LOG"
}
trap cleanup EXIT
bad=0

fail() {
	echo "FAIL: $*"
	bad=1
}

# start XKVD-ARGS...: xkvd on 127.0.0.1:PORT, answering
start() {
	"$XKVD" -l 127.0.0.1 -p "$PORT" "$@" >"$LOG" 2>&1 </dev/null &
	PID=$!
	for ((i = 0; i < 50; i++)); do
		if "$PY" -c "import socket; socket.create_connection(('127.0.0.1', $PORT), timeout=1)" 2>/dev/null; then
			return 0
		fi
		sleep 0.1
	done
	fail "xkvd $* did not start: $(cat "$LOG")"
	return 1
}
