#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""live.py - XDP input checks of the network-namespace tests.

Uses mc.py's client. Subcommands (exit 0 pass, 1 fail, what was seen on
stderr):

  keys      keys holding every byte value the store accepts (all but
            space, "\\n" and NUL), set over TCP: XDP serves UDP gets of
            them with exactly the backend's reply
  dead PID  warm a key, kill -9 PID (the backend): XDP must stop
            answering within 1 s (its lease runs out), and stay stopped
"""

import os
import signal
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mc  # noqa: E402

DEAD_WITHIN = 1.0       # seconds from the kill until XDP stops answering
POLL = 0.05             # seconds between UDP gets while waiting for it


def key_bytes():
    """Two keys that hold every accepted byte value (1..255 but space
    and \\n), "\\r" included but not last."""
    vals = bytes(b for b in range(1, 256) if b not in (0x0a, 0x20))
    return [vals[:126] + b"k", vals[126:] + b"k"]


def tcp_get_raw(c, key):
    """The store's whole reply to "get KEY" over TCP, bytes as sent."""
    c.tcp.sock.sendall(b"get " + key + b"\r\n")
    raw = b""
    while True:
        line = c.tcp._line()
        raw += line + b"\r\n"
        if line == b"END":
            return raw
        raw += c.tcp._exact(int(line.rsplit(b" ", 1)[1]) + 2)


def xdp_get(c, key):
    """UDP-get @key until XDP answers (the backend's own UDP replies do
    not matter here); return XDP's reply datagram."""
    time.sleep(c.settle)
    for _ in range(mc.WARM_TRIES):
        before = c.xkv.stats()
        try:
            reply = c.udp.request(b"get " + key + b"\r\n")
        except mc.Fail:
            reply = None
        after = c.xkv.stats()
        if reply and after["replies"] - before["replies"] == 1:
            return reply
        tcp_get_raw(c, key)     # a read makes the store admit the key
    raise mc.Fail("XDP never served a %d-byte key" % len(key))


def cmd_keys(c, args):
    keys = key_bytes()
    for i, k in enumerate(keys):
        line = c.tcp.cmd(b"set " + k + b" %d 0 3\r\nv%02d\r\n" % (i, i))
        mc.expect("set of a key with control bytes", b"STORED", line)
    for i, k in enumerate(keys):
        want = tcp_get_raw(c, k)
        mc.expect("the store's reply to key %d" % i, b"VALUE " + k +
                  b" %d 3\r\nv%02d\r\nEND\r\n" % (i, i), want)
        reply = xdp_get(c, k)
        mc.expect("XDP reply: frame header, then the store's reply",
                  struct.pack(">HHHH", c.udp.rid, 0, 1, 0) + want, reply)
    mc.log("XDP served both keys, byte for byte the store's replies")


def served(c, key, t0=0):
    """One UDP get with a short timeout: did XDP answer it? Also when it
    was sent (monotonic seconds after @t0)."""
    before = c.xkv.stats()
    t = time.monotonic() - t0
    try:
        mc.TIMEOUT = POLL
        c.udp.get(key)
    except mc.Fail:
        pass
    after = c.xkv.stats()
    return after["replies"] > before["replies"], after, t


def lease_alive(c):
    """Does xkv status -j say the backend's lease lets XDP serve?"""
    out = c.xkv.run("status", c.xkv.iface, "-j")
    return mc.json.loads(out.stdout)[0]["lease_alive"]


def cmd_dead(c, args):
    key = "live:key"
    c.set(key, b"served while the backend lives")
    tcp_get_raw(c, key.encode())
    xdp_get(c, key.encode())
    mc.expect("xkv status: a live backend's lease", True, lease_alive(c))
    os.kill(args.pid, signal.SIGKILL)
    t0 = time.monotonic()
    while True:
        xdp, st, t = served(c, key, t0)
        if not xdp:
            break
        mc.log("a get sent %.3f s after the kill was served by XDP" % t)
        if t > DEAD_WITHIN:
            raise mc.Fail("XDP still answers %.2f s after the kill" % t)
    mc.log("XDP did not answer a get sent %.3f s after the kill" % t)
    time.sleep(max(0, DEAD_WITHIN - (time.monotonic() - t0)))
    for _ in range(3):
        xdp, st, t = served(c, key, t0)
        mc.expect("XDP silent %.3f s after the kill" % t, False, xdp)
    mc.expect("xkv status: the lease ran out", False, lease_alive(c))
    mc.log("passed for want of a lease: %d" % st["pass_no_backend"])
    mc.expect("counted as pass_no_backend", True,
              st["pass_no_backend"] >= 3)


def main():
    ap = mc.argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--host", required=True)
    ap.add_argument("--tcp-host")
    ap.add_argument("--port", type=int, default=11211)
    ap.add_argument("--xkv", required=True)
    ap.add_argument("--iface", required=True)
    ap.add_argument("--client")
    ap.add_argument("--subnet")
    ap.add_argument("--learn-quiet", type=int, metavar="MS")
    sub = ap.add_subparsers(dest="cmd", required=True)
    sub.add_parser("keys")
    d = sub.add_parser("dead")
    d.add_argument("pid", type=int)
    args = ap.parse_args()
    fn = {"keys": cmd_keys, "dead": cmd_dead}[args.cmd]
    try:
        fn(mc.Ctx(args), args)
    except mc.Fail as e:
        mc.log("FAIL: %s" % e)
        return 1
    except (OSError, mc.subprocess.SubprocessError, ValueError) as e:
        mc.log("FAIL: %r" % e)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
