#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""connmem.py - what a TCP client can make xkvd hold, and what it gets.

Runs one check against a running xkvd and prints TAP (one "ok"/"not ok"
line per assertion). Standard library only.

  multiget  a 100-key get of 1 MB values (a 100 MB reply) comes back
            whole and byte-exact to a client that reads it
  readers   several clients read large multi-gets at once from a server
            with a small budget (-o read_buf_mem_limit): all complete
  hold      many connections ask for large values and never read: the
            peak RSS of xkvd (VmHWM) grows by no more than the stated
            bound, read_buf_mem_limit + conns x base, plus --slack MiB
  idle      connections holding half a line fill every slot (-c N); with
            -o idle_timeout=T they are closed and a new client is served

Usage: connmem.py CHECK --port P [--pid PID] [...]
"""

import argparse
import os
import select
import socket
import sys
import time

HOST = "127.0.0.1"
VALUE = 1000 * 1000     # bytes of each large value
ERRORS = (b"ERROR", b"ERROR\r\n", b"CLIENT_ERROR", b"SERVER_ERROR")
BASE = 20 * 1024        # bytes per connection the budget does not cover
                        # (16 KiB read buffer, 2 KiB reply, the structs)


class Tap:
    def __init__(self):
        self.n = 0
        self.failed = 0

    def check(self, ok, what, why=""):
        self.n += 1
        if ok:
            print(f"ok {self.n} - {what}", flush=True)
        else:
            self.failed += 1
            print(f"not ok {self.n} - {what}: {why}", flush=True)

    def done(self):
        print(f"1..{self.n}", flush=True)
        return 1 if self.failed else 0


def connect(port, timeout=10.0):
    s = socket.create_connection((HOST, port), timeout=timeout)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def recv_until(s, end, limit):
    """Read until the reply ends with @end; at most @limit bytes."""
    buf = bytearray()
    while not buf.endswith(end):
        if buf.endswith(b"\r\n") and buf.split(b" ", 1)[0] in ERRORS:
            break
        chunk = s.recv(1 << 20)
        if not chunk:
            raise EOFError(f"closed after {len(buf)} bytes")
        buf += chunk
        if len(buf) > limit:
            raise ValueError(f"over {limit} bytes")
    return bytes(buf)


def value_of(i):
    """A 1 MB value that differs from every other key's."""
    head = f"value-{i}-".encode()
    return (head * (VALUE // len(head) + 1))[:VALUE]


def set_values(port, n):
    s = connect(port)
    for i in range(n):
        s.sendall(b"set big%d 0 0 %d\r\n" % (i, VALUE) + value_of(i) +
                  b"\r\n")
        got = recv_until(s, b"\r\n", 100)
        if got != b"STORED\r\n":
            raise ValueError(f"set big{i}: {got!r}")
    s.close()


def parse_get(reply, keys):
    """Check a get reply holds exactly @keys' values, in order."""
    pos = 0
    for k in keys:
        nl = reply.index(b"\r\n", pos)
        head = reply[pos:nl].split()
        if head[:2] != [b"VALUE", b"big%d" % k] or int(head[3]) != VALUE:
            return f"at byte {pos}: {reply[pos:pos + 60]!r}"
        data = reply[nl + 2:nl + 2 + VALUE]
        if data != value_of(k):
            return f"value of big{k} differs"
        pos = nl + 2 + VALUE + 2
    if reply[pos:] != b"END\r\n":
        return f"tail {reply[pos:pos + 60]!r}"
    return ""


def multiget_keys(nvalues, nkeys):
    return [i % nvalues for i in range(nkeys)]


def get_line(keys):
    return b"get " + b" ".join(b"big%d" % k for k in keys) + b"\r\n"


def check_multiget(t, a):
    set_values(a.port, a.values)
    keys = multiget_keys(a.values, a.keys)
    s = connect(a.port, timeout=30)
    start = time.monotonic()
    s.sendall(get_line(keys))
    try:
        reply = recv_until(s, b"END\r\n", len(keys) * (VALUE + 64) + 64)
        why = parse_get(reply, keys)
    except (OSError, EOFError, ValueError) as e:
        why = str(e)
        reply = b""
    t.check(not why, f"a {len(keys)}-key get of 1 MB values returns "
            f"{len(keys)} MB exactly ({time.monotonic() - start:.1f}s)",
            why or reply[:80])
    s.sendall(b"version\r\n")
    got = recv_until(s, b"\r\n", 100)
    t.check(got.startswith(b"VERSION "), "the connection serves on", got)


def check_readers(t, a):
    set_values(a.port, a.values)
    keys = multiget_keys(a.values, a.keys)
    line = get_line(keys)
    want = len(keys) * (VALUE + 64) + 64
    socks = [connect(a.port, timeout=30) for _ in range(a.conns)]
    bufs = {s: bytearray() for s in socks}
    for s in socks:
        s.sendall(line)
        s.setblocking(False)
    deadline = time.monotonic() + a.wait
    busy = set(socks)
    while busy and time.monotonic() < deadline:
        ready, _, _ = select.select(list(busy), [], [], 0.5)
        for s in ready:
            chunk = s.recv(1 << 20)
            if not chunk:
                busy.discard(s)
                continue
            bufs[s] += chunk
            if bufs[s].endswith(b"END\r\n") or len(bufs[s]) > want:
                busy.discard(s)
    bad = [parse_get(bytes(b), keys) for b in bufs.values()]
    bad = [w for w in bad if w]
    t.check(not busy and not bad,
            f"{a.conns} clients reading {len(keys)}-key gets at once all "
            f"get their whole reply",
            f"{len(busy)} unfinished, {len(bad)} wrong: {bad[:1]}")
    for s in socks:
        s.close()


def proc_kib(pid, field):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise ValueError(f"no {field} for pid {pid}")


def check_hold(t, a):
    set_values(a.port, a.values)
    # every connection asks for all of the values, several times over
    line = get_line(multiget_keys(a.values, a.keys))
    base_hwm = proc_kib(a.pid, "VmHWM")
    base_rss = proc_kib(a.pid, "VmRSS")
    socks = []
    for _ in range(a.conns):
        s = connect(a.port)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.sendall(line)
        socks.append(s)
    # let the server build what it will; stop once RSS stops growing
    start = time.monotonic()
    last, still, end = -1, 0, start + a.wait
    while time.monotonic() < end and (still < 5 or
                                      time.monotonic() < start + 2):
        time.sleep(0.2)
        rss = proc_kib(a.pid, "VmRSS")
        still = still + 1 if rss == last else 0
        last = rss
    hwm = proc_kib(a.pid, "VmHWM")
    bound = a.budget * 1024 + a.conns * BASE // 1024 + a.slack * 1024
    grew = hwm - base_hwm
    print(f"# xkvd pid {a.pid}: VmRSS {base_rss} -> {last} KiB, VmHWM "
          f"{base_hwm} -> {hwm} KiB (+{grew} KiB); bound +{bound} KiB",
          flush=True)
    t.check(grew <= bound,
            f"{a.conns} connections that never read grow xkvd's peak RSS "
            f"by {grew // 1024} MiB, within the bound of {bound // 1024} MiB",
            f"grew by {grew} KiB")
    for s in socks:
        s.close()
    # and the server still answers
    s = connect(a.port)
    s.sendall(b"version\r\n")
    got = recv_until(s, b"\r\n", 100)
    t.check(got.startswith(b"VERSION "), "the server still answers", got)
    s.close()


def check_idle(t, a):
    held = []
    refused = False
    # xkvd's workers accept from one socket side by side, so connects
    # that come at once may be counted in another order than they were
    # made: have each one answered before the next, so that the refused
    # one is the one past -c
    for i in range(a.conns + 1):
        s = connect(a.port)
        if i < a.conns:
            s.sendall(b"version\r\n")
            s.settimeout(5)
            try:
                got = recv_until(s, b"\r\n", 100)
            except (OSError, EOFError, ValueError) as e:
                got = repr(e).encode()
            t.check(got.startswith(b"VERSION "),
                    f"connection {i + 1} of {a.conns} is served", got)
        s.sendall(b"get half-a-line")
        held.append(s)
    # the server refuses the one past -c with an error and a close
    last = held[-1]
    last.settimeout(2)
    try:
        refused = last.recv(100).startswith(b"ERROR Too many")
    except OSError:
        pass
    t.check(refused, f"half-line connections fill all {a.conns} slots")
    # the store's clock ticks in seconds: a silent connection is closed
    # between idle and idle + 1 s after it went silent, then at the next
    # sweep; wait for each close up to a deadline well past that
    deadline = time.monotonic() + a.idle + 4
    closed = 0
    for s in held[:-1]:
        s.settimeout(max(0.1, deadline - time.monotonic()))
        try:
            closed += s.recv(100) == b""
        except OSError:
            pass
    t.check(closed == a.conns, f"idle_timeout={a.idle} closed the "
            f"{a.conns} silent connections", f"{closed} closed")
    s = connect(a.port)
    s.settimeout(2)
    s.sendall(b"version\r\n")
    try:
        got = recv_until(s, b"\r\n", 100)
    except (OSError, EOFError, ValueError) as e:
        got = repr(e).encode()
    t.check(got.startswith(b"VERSION "), "a new client is served", got)
    for s in held:
        s.close()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("check", choices=["multiget", "readers", "hold", "idle"])
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--pid", type=int)
    p.add_argument("--conns", type=int, default=200)
    p.add_argument("--values", type=int, default=20,
                   help="distinct 1 MB values to set")
    p.add_argument("--keys", type=int, default=100,
                   help="keys named in each get line")
    p.add_argument("--budget", type=int, default=64,
                   help="read_buf_mem_limit of the server, MiB")
    p.add_argument("--slack", type=int, default=16,
                   help="MiB allowed for what is not connection buffers")
    p.add_argument("--idle", type=int, default=1)
    p.add_argument("--wait", type=float, default=4.0)
    a = p.parse_args()
    t = Tap()
    try:
        globals()["check_" + a.check](t, a)
    except (OSError, EOFError, ValueError) as e:
        t.check(False, a.check, repr(e))
    return t.done()


if __name__ == "__main__":
    sys.exit(main())
