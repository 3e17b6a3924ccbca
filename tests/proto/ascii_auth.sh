#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# ascii_auth.sh - -Y FILE, memcached's ASCII authentication tokens: before
# "set <any> <any> <any> N\r\n<user> <password>\r\n" every command gets
# "CLIENT_ERROR unauthenticated"; a wrong password "CLIENT_ERROR
# authentication failure", a token of one word "CLIENT_ERROR bad
# authentication token format"; the right one STORED, then get/set work;
# a binary request gets no binary reply; stats counts auth_cmds and
# auth_errors, stats settings names the file. One request per round trip
# (memcached 1.6.18 keeps only the last reply of a pipelined batch before
# the token). SIGHUP reads the file again. With "memcached" as third argument XKVD is a memcached
# binary and only the protocol checks run (written against 1.6.18).
#
#   tests/proto/ascii_auth.sh XKVD PORT [memcached]
# shellcheck source=tests/proto/xkvd_script.sh
. "$(dirname "$0")/xkvd_script.sh"
KIND=${3:-xkvd}
AUTH=$(mktemp)
trap 'cleanup; rm -f "$AUTH"' EXIT
printf 'alice:s3cret\nbob:pw two\n' >"$AUTH"
chmod 644 "$AUTH"

# memcached as root needs -u, and has UDP on unless -U 0
EXTRA=()
[ "$KIND" = memcached ] && EXTRA=(-U 0 -u nobody)

if [ "$KIND" = xkvd ]; then
	if "$XKVD" -h | grep -q -- "  -Y, --auth-file=FILE"; then
		echo "ok: -h describes -Y"
	else
		fail "xkvd -h does not describe -Y"
	fi
	# refused at startup, naming the flag
	printf 'alice\n' >"$LOG.bad"
	for what in udp sasl nofile malformed; do
		case $what in
		udp) set -- -Y "$AUTH" -U 11311 ;;
		sasl) set -- -Y "$AUTH" -S ;;
		nofile) set -- -Y "$AUTH.none" ;;
		malformed) set -- -Y "$LOG.bad" ;;
		esac
		rc=0
		err=$(MEMCACHED_SASL_PWDB=$AUTH timeout 5 "$XKVD" -l 127.0.0.1 \
			-p "$PORT" "$@" 2>&1 </dev/null) || rc=$?
		if ((rc != 0)) && grep -q -- '-Y' <<<"$err"; then
			echo "ok: xkvd $* refused: $(head -n 1 <<<"$err")"
		else
			fail "xkvd $*: exit $rc, '$err'"
		fi
	done
	rm -f "$LOG.bad"
fi

start "${EXTRA[@]}" -Y "$AUTH" || exit 1
if "$PY" - "$PORT" "$AUTH" "$KIND" <<'EOF'; then
import socket, struct, sys
port, path, kind = int(sys.argv[1]), sys.argv[2], sys.argv[3]
bad = 0

def conn():
    return socket.create_connection(("127.0.0.1", port), timeout=5)

def ask(s, req, want):
    global bad
    s.sendall(req)
    got = b""
    while len(got) < len(want):
        d = s.recv(65536)
        if not d:
            break
        got += d
    if got != want:
        print("FAIL: %r: got %r, want %r" % (req, got, want))
        bad = 1
    else:
        print("ok: %r -> %r" % (req, want))

def tok(data, head=b"set auth 0 0"):
    return b"%s %d\r\n%s\r\n" % (head, len(data), data)

def stats(s, group=b""):
    s.sendall(b"stats" + group + b"\r\n")
    got = b""
    while not got.endswith(b"END\r\n"):
        d = s.recv(65536)
        if not d:
            break
        got += d
    out = {}
    for line in got.split(b"\r\n"):
        p = line.split(b" ", 2)
        if len(p) == 3 and p[0] == b"STAT":
            out[p[1].decode()] = p[2].decode()
    return out

s = conn()
U = b"CLIENT_ERROR unauthenticated\r\n"
ask(s, b"get foo\r\n", U)
ask(s, b"version\r\n", U)
ask(s, b"stats\r\n", U)
ask(s, b"set foo 0 0\r\n", U)
ask(s, tok(b"alice nope"),
    b"CLIENT_ERROR authentication failure\r\n")
ask(s, tok(b"bob pw two"),
    b"CLIENT_ERROR authentication failure\r\n")
ask(s, tok(b"alice"),
    b"CLIENT_ERROR bad authentication token format\r\n")
ask(s, b"get foo\r\n", U)
ask(s, tok(b"alice s3cret", b"set x 1 2"), b"STORED\r\n")
ask(s, b"set foo 5 0 3\r\nbar\r\n", b"STORED\r\n")
ask(s, b"get foo\r\n", b"VALUE foo 5 3\r\nbar\r\nEND\r\n")
st = stats(s)
# SASL and -Y share the counters: 3 tokens checked, 2 refused
for k, v in (("auth_cmds", "3"), ("auth_errors", "2")):
    if st.get(k) != v:
        print("FAIL: stats %s %r, want %s" % (k, st.get(k), v))
        bad = 1
    else:
        print("ok: stats %s %s" % (k, v))
st = stats(s, b" settings")
for k, v in (("auth_enabled_ascii", path), ("binding_protocol", "ascii")):
    if st.get(k) != v:
        print("FAIL: stats settings %s %r, want %s" % (k, st.get(k), v))
        bad = 1
    else:
        print("ok: stats settings %s" % k)
# the token is per connection
s2 = conn()
ask(s2, b"get foo\r\n", U)
# extra words after the password are ignored
ask(s2, tok(b"alice s3cret extra"), b"STORED\r\n")
s2.close()
# binary: a version request never gets a binary reply
b = conn()
b.settimeout(1)
b.sendall(struct.pack(">BBHBBHIIQ", 0x80, 0x0b, 0, 0, 0, 0, 0, 0, 0))
try:
    got = b.recv(64)
except socket.timeout:
    got = b""
if got[:1] == b"\x81":
    print("FAIL: binary version answered: %r" % got)
    bad = 1
else:
    print("ok: binary refused (%r)" % got)
sys.exit(bad)
EOF
	echo "ok: $KIND -Y protocol checks"
else
	fail "$KIND -Y protocol checks"
fi

# SIGHUP reads the file again (memcached 1.6.18: at its next clock tick,
# within a second): a token added works, a removed one is refused, a
# connection already authenticated stays so; a malformed file is not
# taken, the one before stays in force
reload_check() {	# reload_check WANT-ALICE WANT-CAROL: a token each
	"$PY" - "$PORT" "$@" <<'EOF2'
import socket, sys, time
port, alice, carol = int(sys.argv[1]), sys.argv[2], sys.argv[3]
want = {"ok": b"STORED\r\n", "refused": b"CLIENT_ERROR authentication failure\r\n"}
bad = 0
for tok, w in ((b"alice s3cret", alice), (b"carol n3w", carol)):
    # memcached reloads at its next tick: up to 3 s for the new file
    for attempt in range(30):
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
        s.sendall(b"set auth 0 0 %d\r\n%s\r\n" % (len(tok), tok))
        got = s.makefile("rb").readline()
        s.close()
        if got == want[w]:
            break
        time.sleep(0.1)
    if got != want[w]:
        print("FAIL: token %r: got %r, want %r" % (tok, got, want[w]))
        bad = 1
    else:
        print("ok: token %r %s" % (tok, w))
sys.exit(bad)
EOF2
}
# a connection authenticated before the reload
exec 3<>"/dev/tcp/127.0.0.1/$PORT"
printf 'set auth 0 0 12\r\nalice s3cret\r\n' >&3
read -r -t 5 line <&3 || line=
[ "${line%$'\r'}" = STORED ] || fail "token before SIGHUP: '$line'"
printf 'carol:n3w\nbob:pw two\n' >"$AUTH"
kill -HUP "$PID"
if reload_check refused ok; then
	echo "ok: $KIND SIGHUP: carol added works, alice removed is refused"
else
	fail "$KIND SIGHUP: the file was not read again"
fi
printf 'get foo\r\n' >&3
read -r -t 5 line <&3 || line=
case ${line%$'\r'} in
VALUE* | END) echo "ok: $KIND SIGHUP: a connection authenticated before stays so" ;;
*) fail "$KIND SIGHUP: authenticated connection got '$line'" ;;
esac
exec 3<&-
printf 'alice\n' >"$AUTH"
kill -HUP "$PID"
sleep 1.5
if reload_check refused ok; then
	echo "ok: $KIND SIGHUP with a malformed file: the old one stays"
else
	fail "$KIND SIGHUP with a malformed file changed the tokens"
fi
kill -0 "$PID" 2>/dev/null || fail "$KIND died of SIGHUP"
if [ "$KIND" = xkvd ]; then
	grep -q "malformed entry" "$LOG" ||
		fail "xkvd did not say the reloaded -Y file is malformed"
fi
exit "$bad"
