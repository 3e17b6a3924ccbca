#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# admin_flags.sh - xkvd's -A and -X, as memcached's: -h describes both;
# with -X "lru_crawler metadump" is refused ("ERROR metadump not
# allowed") and "stats settings" says dump_enabled no; with -A "shutdown
# bogus" is a client error, "shutdown" closes the connection and xkvd
# exits 0 by itself, and so does "shutdown graceful".
#
#   tests/proto/admin_flags.sh XKVD PORT
# shellcheck source=tests/proto/xkvd_script.sh
. "$(dirname "$0")/xkvd_script.sh"

for opt in -A -X; do
	if "$XKVD" -h | grep -q -- "  $opt, "; then
		echo "ok: -h describes $opt"
	else
		fail "xkvd -h does not describe $opt"
	fi
done

# talk REQUEST WANT: the reply to REQUEST is exactly WANT ("EOF": closed)
talk() {
	"$PY" - "$PORT" "$1" "$2" <<'EOF'
import socket, sys
port, req, want = int(sys.argv[1]), sys.argv[2], sys.argv[3]
s = socket.create_connection(("127.0.0.1", port), timeout=5)
s.sendall(req.encode().decode("unicode_escape").encode("latin-1"))
got = b""
while True:
    try:
        d = s.recv(4096)
    except socket.timeout:
        break
    if not d:
        got += b"EOF"
        break
    got += d
    if want != "EOF" and len(got) >= len(want.encode().decode("unicode_escape")):
        break
w = want.encode().decode("unicode_escape").encode("latin-1")
if got != w:
    print("got %r, want %r" % (got, w))
    sys.exit(1)
EOF
}

# exited_zero WHAT: xkvd must have exited 0 by itself within 5 s
exited_zero() {
	local rc=0
	for ((i = 0; i < 50; i++)); do
		kill -0 "$PID" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$PID" 2>/dev/null; then
		fail "$1: xkvd still running"
		return
	fi
	wait "$PID" || rc=$?
	PID=
	((rc == 0)) && echo "ok: $1: xkvd exited 0" ||
		fail "$1: xkvd exited $rc"
}

if start -X; then
	talk 'lru_crawler metadump all\r\n' 'ERROR metadump not allowed\r\n' &&
		echo "ok: -X refuses metadump" || fail "-X: metadump not refused"
	if "$PY" - "$PORT" <<'EOF'; then
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
s.sendall(b"stats settings\r\n")
got = b""
while not got.endswith(b"END\r\n"):
    got += s.recv(65536)
sys.exit(0 if b"STAT dump_enabled no\r\n" in got and
         b"STAT shutdown_command no\r\n" in got else 1)
EOF
		echo "ok: -X: dump_enabled no"
	else
		fail "-X: stats settings does not say dump_enabled no"
	fi
	talk 'shutdown\r\n' 'ERROR: shutdown not enabled\r\n' &&
		echo "ok: without -A shutdown is refused" ||
		fail "shutdown accepted without -A"
	kill -TERM "$PID"
	exited_zero "-X, SIGTERM"
fi

for mode in "" " graceful"; do
	start -A || continue
	talk 'shutdown bogus\r\n' 'CLIENT_ERROR invalid shutdown mode\r\n' &&
		echo "ok: shutdown bogus refused" ||
		fail "shutdown bogus not refused"
	talk "shutdown$mode\\r\\n" 'EOF' &&
		echo "ok: shutdown$mode closes the connection" ||
		fail "shutdown$mode did not close the connection"
	exited_zero "-A, shutdown$mode"
done
exit "$bad"
