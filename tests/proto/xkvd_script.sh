# SPDX-License-Identifier: GPL-2.0
#
# xkvd_script.sh - sourced by the scripts that start their own xkvd
# (busy_poll.sh, admin_flags.sh), called as "SCRIPT XKVD PORT": sets
# XKVD, PORT, PY, a LOG file, PID (the xkvd to kill -9 on exit), bad and
# fail().
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
