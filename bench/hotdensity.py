# SPDX-License-Identifier: GPL-2.0
"""hotdensity.py - the client half of bench/hotdensity.sh.

  /usr/bin/python3 bench/hotdensity.py HOST PORT --xkv XKV --iface IFACE
                   [--keys N] [--key-size N] [--value-size N]
                   [--passes N] [--order random|cyclic]

Sets N distinct keys (exactly --key-size bytes, values of --value-size
bytes, flags 0) over one TCP connection with noreply, waits for a
"version" answer (every set before it is done), then GETs every key once
over UDP, --passes times (default 4), each pass in a new random order
(--order cyclic: always in key order). The earlier passes are backend
reads that let the store admit keys into the hot cache; around the last
one it reads the XDP counters ("xkv stats IFACE -j") and counts the GETs
XDP answered.

In key order every pass, a key the cache does not hold is read by the
backend (and counted by the store's sketch) once a pass while the keys
XDP serves are counted only through XDP's 1-in-16 sampled hits, so
misses keep evicting the entries about to be read next: a scan, the
worst case of admission-on-miss. Random order, the default, measures
what the memory holds. Every reply is checked against the value set. Prints one
JSON object: keys, sizes, replies, bad replies, lost datagrams, and the
XDP hits, misses and replies of the last pass. Exit status 0, or 1 on any bad
reply or failure.
"""
import argparse
import json
import random
import socket
import struct
import subprocess
import sys

TIMEOUT = 1.0


def key_of(i, size):
    k = b"k%d:" % i
    return k + b"x" * (size - len(k))


def value_of(i, size):
    v = b"%d|" % i
    return (v * (size // len(v) + 1))[:size]


def xdp_stats(xkv, iface):
    out = subprocess.run([xkv, "stats", iface, "-j"], check=True,
                         capture_output=True, timeout=10, text=True).stdout
    return json.loads(out)[0]


def fill(host, port, n, ksize, vsize):
    s = socket.create_connection((host, port), timeout=10)
    batch = []
    for i in range(n):
        v = value_of(i, vsize)
        batch.append(b"set %s 0 0 %d noreply\r\n%s\r\n" %
                     (key_of(i, ksize), len(v), v))
        if len(batch) == 256 or i == n - 1:
            s.sendall(b"".join(batch))
            batch = []
    s.sendall(b"version\r\n")
    buf = b""
    while b"\r\n" not in buf:
        chunk = s.recv(4096)
        if not chunk:
            raise ConnectionError("server closed the connection")
        buf += chunk
    if not buf.startswith(b"VERSION "):
        raise RuntimeError("after the sets: %r" % buf[:200])
    s.close()


def get_pass(sock, addr, order, ksize, vsize, res):
    """One UDP GET of every key; count replies, bad ones, lost ones."""
    for i in order:
        rid = i & 0xffff
        k = key_of(i, ksize)
        sock.sendto(struct.pack("!HHHH", rid, 0, 1, 0) + b"get " + k +
                    b"\r\n", addr)
        want = (b"VALUE %s 0 %d\r\n%s\r\nEND\r\n" %
                (k, vsize, value_of(i, vsize)))
        while True:
            try:
                d = sock.recv(4096)
            except socket.timeout:
                res["lost"] += 1
                break
            if struct.unpack("!H", d[:2])[0] != rid:
                continue        # a late reply to an earlier request
            res["replies"] += 1
            if d[8:] != want:
                res["bad"] += 1
                if res["bad"] <= 3:
                    print("bad reply for %r: %r" % (k, d[8:200]),
                          file=sys.stderr)
            break


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("host")
    ap.add_argument("port", type=int)
    ap.add_argument("--xkv", required=True)
    ap.add_argument("--iface", required=True)
    ap.add_argument("--keys", type=int, default=25600)
    ap.add_argument("--key-size", type=int, default=16)
    ap.add_argument("--value-size", type=int, default=32)
    ap.add_argument("--passes", type=int, default=4)
    ap.add_argument("--order", choices=("random", "cyclic"),
                    default="random")
    a = ap.parse_args()
    if a.key_size < 8 or a.key_size > 250 or a.passes < 1:
        ap.error("--key-size 8..250, --passes >= 1")
    fill(a.host, a.port, a.keys, a.key_size, a.value_size)
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.settimeout(TIMEOUT)
    addr = (a.host, a.port)
    res = {"replies": 0, "bad": 0, "lost": 0}
    rng = random.Random(1)
    order = list(range(a.keys))
    for _ in range(a.passes - 1):
        if a.order == "random":
            rng.shuffle(order)
        get_pass(sock, addr, order, a.key_size, a.value_size, res)
    last = {"replies": 0, "bad": 0, "lost": 0}
    if a.order == "random":
        rng.shuffle(order)
    before = xdp_stats(a.xkv, a.iface)
    get_pass(sock, addr, order, a.key_size, a.value_size, last)
    after = xdp_stats(a.xkv, a.iface)
    out = {
        "keys": a.keys, "key_size": a.key_size,
        "value_size": a.value_size, "passes": a.passes,
        "order": a.order,
        "replies": res["replies"] + last["replies"],
        "bad": res["bad"] + last["bad"],
        "lost": res["lost"] + last["lost"],
        "last_pass_replies": last["replies"],
        "xdp_hits": after["hits"] - before["hits"],
        "xdp_misses": after["misses"] - before["misses"],
        "xdp_replies": after["replies"] - before["replies"],
    }
    print(json.dumps(out))
    return 1 if out["bad"] else 0


if __name__ == "__main__":
    sys.exit(main())
