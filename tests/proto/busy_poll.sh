#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# busy_poll.sh - xkvd --busy-poll: -h describes it; a bad value (not a
# number, over 1000000, missing) makes xkvd exit 64 at once with a message
# that names the option and the value; with --busy-poll=50 xkvd starts,
# says so at -v, and answers a GET over UDP (on 127.0.0.1 the kernel
# either busy-polls or sleeps at once: both must serve), then exits 0 on
# SIGTERM.
#
#   tests/proto/busy_poll.sh XKVD PORT
# shellcheck source=tests/proto/xkvd_script.sh
. "$(dirname "$0")/xkvd_script.sh"

if "$XKVD" -h | grep -q -- "--busy-poll=USECS"; then
	echo "ok: -h describes --busy-poll"
else
	fail "xkvd -h does not describe --busy-poll"
fi

# refused VALUE-ARGS... WANT: exit 64, stderr containing WANT
refused() {
	local want=${*: -1} rc=0
	timeout 10 "$XKVD" -p 0 -l 127.0.0.1 "${@:1:$#-1}" >"$LOG" 2>&1 ||
		rc=$?
	if ((rc != 64)); then
		fail "xkvd ${*:1:$#-1}: exit $rc, not 64"
	elif ! grep -qF -- "$want" "$LOG"; then
		fail "xkvd ${*:1:$#-1}: no \"$want\" in: $(head -n 1 "$LOG")"
	else
		echo "ok: ${*:1:$#-1} refused: $(head -n 1 "$LOG")"
	fi
}
refused --busy-poll=x "invalid value for --busy-poll: 'x'"
refused --busy-poll=1000001 "invalid value for --busy-poll: '1000001'"
refused --busy-poll=-1 "invalid value for --busy-poll: '-1'"
refused --busy-poll "option needs a value: --busy-poll"

"$XKVD" -l 127.0.0.1 -p "$PORT" -U "$PORT" --busy-poll=50 -v \
	>"$LOG" 2>&1 </dev/null &
PID=$!
up=0
for ((i = 0; i < 50; i++)); do
	if grep -q "busy poll 50 us" "$LOG"; then
		up=1
		break
	fi
	sleep 0.1
done
((up)) || fail "xkvd --busy-poll=50 -v did not say so: $(cat "$LOG")"

# set over TCP, get over UDP (frame header: id 7, seq 0, count 1)
if "$PY" - "$PORT" <<'EOF'; then
import socket, sys
port = int(sys.argv[1])
t = socket.create_connection(("127.0.0.1", port), timeout=5)
t.sendall(b"set bp 0 0 5\r\nhello\r\n")
assert t.recv(64) == b"STORED\r\n"
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.settimeout(5)
u.sendto(b"\x00\x07\x00\x00\x00\x01\x00\x00get bp\r\n",
         ("127.0.0.1", port))
d = u.recv(2048)
want = b"\x00\x07\x00\x00\x00\x01\x00\x00VALUE bp 0 5\r\nhello\r\nEND\r\n"
if d != want:
    print("got %r" % d)
    sys.exit(1)
EOF
	echo "ok: --busy-poll=50 answers a UDP get"
else
	fail "--busy-poll=50: UDP get not answered right"
fi

rc=0
kill -TERM "$PID" 2>/dev/null || true
for ((i = 0; i < 50; i++)); do
	kill -0 "$PID" 2>/dev/null || break
	sleep 0.1
done
wait "$PID" || rc=$?
PID=
((rc == 0)) || fail "xkvd --busy-poll=50 exited $rc on SIGTERM"
((bad == 0)) && echo "ok: exits 0 on SIGTERM"
exit "$bad"
