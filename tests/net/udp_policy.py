#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""udp_policy.py - the UDP policy of xkvd, seen from the network.

Run by tests/net/test_udp.sh inside network namespaces it created.
Standard library only. Each subcommand checks one thing, prints what it
saw on stderr and exits 0 (pass) or 1 (fail):

  rss      the datagram of issue 8 finding 1 (10 lines of "get" naming a
           1,047,900-byte value 63 times): xkvd's peak RSS (VmHWM) grows
           by less than --max-mib, and the reply is nothing or one short
           SERVER_ERROR
  amp      reply bytes / request bytes stay within --ratio for a big
           value, many small values and many copies of one key
  silent   a datagram given with --payload (frame header added) from a
           normal socket gets no reply
  spoof    send one datagram from a raw socket with any source address
           and port (IPv4), then count the UDP datagrams the namespace
           --count-ns sends for --secs seconds: between --min and --max
           (default 0 and 0); with --miss KEY, a TCP get of KEY must
           then miss (the datagram was not run either)
  reply    a plain get from this host is answered (the control case)

Frame header: request id, sequence, count (1), reserved; 16-bit each.
"""

import argparse
import socket
import struct
import subprocess
import sys
import time

BIG = 1047900


def log(*a):
    print(*a, file=sys.stderr)


def frame(body, rid=1):
    return struct.pack(">HHHH", rid, 0, 1, 0) + body


def tcp_cmd(host, port, data, want):
    with socket.create_connection((host, port), timeout=10) as s:
        s.sendall(data)
        got = b""
        while not got.endswith(want):
            chunk = s.recv(65536)
            if not chunk:
                break
            got += chunk
        return got


def tcp_set(host, port, key, value):
    got = tcp_cmd(host, port, b"set %s 0 0 %d\r\n%s\r\n" %
                  (key, len(value), value), b"\r\n")
    if got != b"STORED\r\n":
        raise SystemExit("set %r: %r" % (key, got))


def udp_ask(host, port, payload, wait=0.5):
    """Send one request; every datagram that comes back within @wait."""
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(fam, socket.SOCK_DGRAM) as u:
        u.connect((host, port))
        u.send(payload)
        got = []
        end = time.monotonic() + wait
        while True:
            left = end - time.monotonic()
            if left <= 0:
                break
            u.settimeout(left)
            try:
                got.append(u.recv(65536))
            except socket.timeout:
                break
        return got


def vm_hwm(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    raise SystemExit("no VmHWM for pid %d" % pid)


def cmd_rss(a):
    tcp_set(a.host, a.port, b"a", b"v" * BIG)
    line = b"get" + b" a" * 63 + b"\r\n"
    req = frame(line * 10)
    before = vm_hwm(a.pid)
    got = udp_ask(a.host, a.port, req, wait=2)
    after = vm_hwm(a.pid)
    grew = (after - before) / 1024
    log("request %d bytes; VmHWM %d kB -> %d kB (+%.1f MiB); %d datagram(s)"
        % (len(req), before, after, grew, len(got)))
    for d in got[:3]:
        log("  reply: %r" % d[:80])
    ok = grew < a.max_mib
    if got:
        ok = ok and len(got) == 1 and len(got[0]) <= 64 and \
            got[0][8:].startswith(b"SERVER_ERROR")
    return 0 if ok else 1


def cmd_amp(a):
    tcp_set(a.host, a.port, b"big", b"b" * 500000)
    tcp_set(a.host, a.port, b"one", b"o" * 1000)
    keys = []
    for i in range(150):
        k = b"s%d" % i
        tcp_set(a.host, a.port, k, b"s" * 400)
        keys.append(k)
    cases = [
        ("a big value", b"get big\r\n"),
        ("many small values", b"get " + b" ".join(keys) + b"\r\n"),
        ("many copies of one key", b"get" + b" one" * 200 + b"\r\n"),
        ("gets, many copies", b"gets" + b" one" * 200 + b"\r\n"),
    ]
    bad = 0
    for name, body in cases:
        req = frame(body)
        got = udp_ask(a.host, a.port, req)
        total = sum(len(d) for d in got)
        ratio = total / len(req)
        first = got[0][8:60] if got else b""
        log("%s: request %d B, reply %d B in %d datagram(s), ratio %.1f "
            "(limit %d) %r" % (name, len(req), total, len(got), ratio,
                               a.ratio, first))
        if ratio > a.ratio:
            bad += 1
    # within the budget, a reply still comes whole
    req = frame(b"get one" + b" " * 40 + b"\r\n")
    got = udp_ask(a.host, a.port, req)
    want = b"VALUE one 0 1000\r\n" + b"o" * 1000 + b"\r\nEND\r\n"
    log("within budget: request %d B, reply %d B" %
        (len(req), sum(len(d) for d in got)))
    if len(got) != 1 or got[0][8:] != want:
        bad += 1
    return 1 if bad else 0


def cmd_silent(a):
    got = udp_ask(a.host, a.port, frame(a.payload.encode().decode(
        "unicode_escape").encode("latin-1")))
    log("%d datagram(s): %r" % (len(got), [d[:60] for d in got]))
    return 0 if not got else 1


def cmd_reply(a):
    tcp_set(a.host, a.port, b"ctl", b"yes")
    got = udp_ask(a.host, a.port, frame(b"get ctl\r\n"))
    log("%d datagram(s): %r" % (len(got), [d[:60] for d in got]))
    return 0 if got and got[0][8:] == b"VALUE ctl 0 3\r\nyes\r\nEND\r\n" \
        else 1


def udp_out(ns):
    """UDP OutDatagrams of network namespace @ns (host's if empty)."""
    cmd = ["cat", "/proc/net/snmp"]
    if ns:
        cmd = ["nsenter", "--net=/var/run/netns/" + ns] + cmd
    out = subprocess.run(cmd, check=True, capture_output=True,
                         text=True).stdout.splitlines()
    names = values = None
    for line in out:
        if line.startswith("Udp:"):
            if names is None:
                names = line.split()
            else:
                values = line.split()
    return int(values[names.index("OutDatagrams")])


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


def cmd_spoof(a):
    payload = frame(a.payload.encode().decode("unicode_escape")
                    .encode("latin-1"))
    src = socket.inet_aton(a.src)
    dst = socket.inet_aton(a.host)
    udp = struct.pack("!HHHH", a.sport, a.port, 8 + len(payload), 0)
    pseudo = src + dst + struct.pack("!BBH", 0, 17, len(udp) + len(payload))
    csum = checksum(pseudo + udp + payload) or 0xffff
    udp = struct.pack("!HHHH", a.sport, a.port, 8 + len(payload), csum)
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp) + len(payload),
                     1, 0, 64, 17, 0, src, dst)
    ip = ip[:10] + struct.pack("!H", checksum(ip)) + ip[12:]
    before = udp_out(a.count_ns)
    with socket.socket(socket.AF_INET, socket.SOCK_RAW,
                       socket.IPPROTO_RAW) as r:
        if a.broadcast:
            r.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
        r.sendto(ip + udp + payload, (a.host, 0))
    time.sleep(a.secs)
    sent = udp_out(a.count_ns) - before
    log("%s:%d -> %s:%d %r: %d UDP datagram(s) sent in %.1f s" %
        (a.src, a.sport, a.host, a.port, payload[8:], sent, a.secs))
    ok = a.min <= sent <= a.max
    if a.miss:
        got = tcp_cmd(a.host, a.port, b"get %s\r\n" % a.miss.encode(),
                      b"END\r\n")
        log("get %s over TCP: %r" % (a.miss, got))
        ok = ok and got == b"END\r\n"
    return 0 if ok else 1


def main():
    p = argparse.ArgumentParser()
    p.add_argument("cmd", choices=["rss", "amp", "silent", "spoof", "reply"])
    p.add_argument("--host", required=True)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--pid", type=int)
    p.add_argument("--max-mib", type=float, default=8)
    p.add_argument("--ratio", type=float, default=64)
    p.add_argument("--payload", default="get x\\r\\n")
    p.add_argument("--src")
    p.add_argument("--sport", type=int)
    p.add_argument("--count-ns", default="")
    p.add_argument("--secs", type=float, default=2)
    p.add_argument("--min", type=int, default=0)
    p.add_argument("--max", type=int, default=0)
    p.add_argument("--miss")
    p.add_argument("--broadcast", action="store_true")
    a = p.parse_args()
    return {"rss": cmd_rss, "amp": cmd_amp, "silent": cmd_silent,
            "spoof": cmd_spoof, "reply": cmd_reply}[a.cmd](a)


if __name__ == "__main__":
    sys.exit(main())
