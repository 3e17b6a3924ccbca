#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""mc.py - the precise parts of the network-namespace tests.

A memcached client (TCP for writes, UDP for reads) that checks what the
XDP hot tier answers, byte for byte, and with `xkv stats -j` which reads
XDP served. Standard library only; run with /usr/bin/python3 inside the
client namespace. Each subcommand checks one thing, prints what it saw on
stderr and exits 0 (pass) or 1 (fail):

  serve     a value set over TCP is served to UDP get by XDP, exact bytes
  gets      the same for "gets" (the CAS value) and a multi-key get
  binary    binary GET/GETQ/GETK/GETKQ over UDP: XDP's reply is the
            store's datagram, byte for byte
  tcpbin    binary GET/GETK(Q) over TCP: the fast path's reply is the
            store's, byte for byte
  allow     allowlist: "xkv allow none" sends GETs to the backend, and
            adding the client's address brings XDP back
  flush     "xkv flush" empties the hot tier without losing the value
  write CMD after CMD is acknowledged, the next UDP get shows its effect
  coherence concurrent TCP writers and UDP readers: no stale read
  forge CMD... learning mode: a process started with CMD (memcached's
            host, another user) binds memcached's UDP port and answers a
            GET with a forged VALUE; XDP must never serve it

With --learn-quiet MS the backend is a stock memcached in learning mode
(xkv up --backend memcached): a key is learned from a GET reply only once
MS have passed since the latest write to it, so warming a key waits that
long first, and "serve" also checks that the learning counters moved.
"""

import argparse
import base64
import json
import multiprocessing
import os
import random
import socket
import struct
import subprocess
import sys
import time

TIMEOUT = 2.0           # seconds for any one reply
WARM_TRIES = 8          # UDP gets to get a key into the hot tier


class Fail(Exception):
    """A check failed; the message says what was expected and got."""


def log(msg):
    print(msg, file=sys.stderr, flush=True)


# --- the server side: xkv stats -------------------------------------------

class Xkv:
    """Reads the XDP counters of one interface through the xkv CLI."""

    def __init__(self, binary, iface):
        self.binary = binary
        self.iface = iface

    def stats(self):
        out = subprocess.run([self.binary, "stats", self.iface, "-j"],
                             check=True, capture_output=True, timeout=10,
                             text=True).stdout
        return json.loads(out)[0]

    def run(self, *args):
        return subprocess.run([self.binary, *args], capture_output=True,
                              timeout=20, text=True)


# --- the protocol ------------------------------------------------------------

class Tcp:
    """One TCP connection; commands and their replies, raw."""

    def __init__(self, host, port):
        self.sock = socket.create_connection((host, port), timeout=TIMEOUT)
        self.buf = b""

    def close(self):
        self.sock.close()

    def _line(self):
        while b"\r\n" not in self.buf:
            data = self.sock.recv(65536)
            if not data:
                raise Fail("TCP connection closed")
            self.buf += data
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def _exact(self, n):
        while len(self.buf) < n:
            data = self.sock.recv(65536)
            if not data:
                raise Fail("TCP connection closed")
            self.buf += data
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def cmd(self, text):
        """Send one storage/arith/other command; return its reply line."""
        self.sock.sendall(text)
        return self._line()

    def get(self, cmd, *keys):
        """get/gets/gat/gats; return ({key: (flags, data, cas)}, raw)."""
        self.sock.sendall(cmd.encode() + b" " + b" ".join(
            k.encode() for k in keys) + b"\r\n")
        items, raw = {}, b""
        while True:
            line = self._line()
            raw += line + b"\r\n"
            if line == b"END":
                return items, raw
            parts = line.split(b" ")
            if parts[0] != b"VALUE":
                raise Fail("bad reply to %s: %r" % (cmd, line))
            n = int(parts[3])
            data = self._exact(n + 2)[:n]
            raw += data + b"\r\n"
            cas = int(parts[4]) if len(parts) > 4 else None
            items[parts[1].decode()] = (int(parts[2]), data, cas)


class Udp:
    """memcached over UDP: the 8-byte frame header, one datagram each."""

    def __init__(self, host, port):
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.sock = socket.socket(family, socket.SOCK_DGRAM)
        self.sock.settimeout(TIMEOUT)
        self.addr = (host, port)
        self.rid = random.randrange(1 << 16)

    def request(self, text):
        """Send @text; return the whole reply datagram (frame included)."""
        self.rid = (self.rid + 1) & 0xffff
        frame = struct.pack(">HHHH", self.rid, 0, 1, 0)
        self.sock.sendto(frame + text, self.addr)
        deadline = time.monotonic() + TIMEOUT
        while True:
            self.sock.settimeout(max(0.01, deadline - time.monotonic()))
            try:
                data, _ = self.sock.recvfrom(65536)
            except socket.timeout:
                raise Fail("no UDP reply to %r" % text) from None
            if len(data) >= 8 and struct.unpack(">H", data[:2])[0] == \
                    self.rid:
                return data

    def get(self, *keys, cmd="get"):
        return self.request(cmd.encode() + b" " + b" ".join(
            k.encode() for k in keys) + b"\r\n")


def value_block(key, flags, data, cas=None):
    head = "VALUE %s %d %d" % (key, flags, len(data))
    if cas is not None:
        head += " %d" % cas
    return head.encode() + b"\r\n" + data + b"\r\n"


def parse_udp(reply):
    """The body of a reply datagram as {key: (flags, data, cas)}."""
    body = reply[8:]
    items = {}
    while not body.startswith(b"END\r\n"):
        line, body = body.split(b"\r\n", 1)
        parts = line.split(b" ")
        if parts[0] != b"VALUE":
            raise Fail("bad UDP reply: %r" % reply)
        n = int(parts[3])
        items[parts[1].decode()] = (int(parts[2]), body[:n],
                                    int(parts[4]) if len(parts) > 4
                                    else None)
        body = body[n + 2:]
    if body != b"END\r\n":
        raise Fail("trailing bytes in UDP reply: %r" % reply)
    return items


# --- helpers that know about XDP --------------------------------------------

class Ctx:
    def __init__(self, args):
        self.host = args.host
        self.port = args.port
        # learning mode: how long after a write a key can be learned
        self.settle = (args.learn_quiet / 1000.0 + 0.1
                       if args.learn_quiet is not None else 0)
        self.xkv = Xkv(args.xkv, args.iface)
        self.tcp = Tcp(args.tcp_host or args.host, args.port)
        self.udp = Udp(args.host, args.port)

    def served_by_xdp(self, fn, nkeys=1):
        """Run @fn (one UDP request); return (its result, whether XDP
        answered it: replies +1 and hits +nkeys)."""
        before = self.xkv.stats()
        out = fn()
        after = self.xkv.stats()
        # every top-level counter that moved: which outcome XDP counted
        self.last_delta = {k: after[k] - before.get(k, 0)
                           for k, v in after.items()
                           if isinstance(v, int) and
                           v != before.get(k, 0)}
        xdp = (self.last_delta.get("replies", 0) == 1 and
               self.last_delta.get("hits", 0) == nkeys)
        return out, xdp

    def warm(self, *keys, cmd="get"):
        """UDP-get until XDP answers; return that reply. Fails if XDP
        never does (then nothing about the hot tier was tested). In
        learning mode, past the write quarantine first."""
        return self.until_xdp(lambda: self.udp.get(*keys, cmd=cmd),
                              "%s %s" % (cmd, " ".join(keys)), len(keys))

    def until_xdp(self, fn, what, nkeys=1):
        """Run @fn (one UDP request) until XDP answers it; return that
        reply. Fails if XDP never does. The tries are spread over about
        two seconds, so that a passing moment (a slot being rewritten,
        a lease beat running late) does not fail the test; every try
        XDP passed is logged with the counters that moved."""
        time.sleep(self.settle)
        deltas = []
        for i in range(WARM_TRIES):
            reply, xdp = self.served_by_xdp(fn, nkeys)
            if xdp:
                if deltas:
                    log("%s: XDP served at try %d; before that it "
                        "counted %s" % (what, i + 1, deltas))
                return reply
            deltas.append(self.last_delta)
            time.sleep(0.05 * (i + 1))
        raise Fail("XDP never served %s in %d tries (counters that moved "
                   "each try: %s; last reply %s)" %
                   (what, WARM_TRIES, deltas, repr(reply)[:80]))

    def set(self, key, data, flags=0, exptime=0):
        line = self.tcp.cmd(b"set %s %d %d %d\r\n%s\r\n" % (
            key.encode(), flags, exptime, len(data), data))
        if line != b"STORED":
            raise Fail("set %s: %r" % (key, line))


def expect(what, want, got):
    if want != got:
        raise Fail("%s: expected %r, got %r" % (what, want, got))


# --- subcommands -------------------------------------------------------------

def cmd_serve(c, args):
    key, data, flags = "serve:key", b"hello from the hot tier", 4242
    c.set(key, data, flags)
    first = c.udp.get(key)       # the backend answers, and admits the key
    expect("backend reply", struct.pack(">HHHH", c.udp.rid, 0, 1, 0) +
           value_block(key, flags, data) + b"END\r\n", first)
    before = c.xkv.stats()
    reply = c.warm(key)
    if c.settle:
        # learned from memcached's reply to one of warm's gets
        after = c.xkv.stats()
        learned = after["learning"]["learned"] - \
            before["learning"]["learned"]
        log("learning counters: %r" % after["learning"])
        expect("values learned while warming", True, learned >= 1)
    want = struct.pack(">HHHH", c.udp.rid, 0, 1, 0) + \
        value_block(key, flags, data) + b"END\r\n"
    expect("XDP reply bytes", want, reply)
    expect("XDP and backend replies equal (past the request id)",
           first[2:], reply[2:])
    log("XDP served %r" % reply)


def cmd_gets(c, args):
    keys = ["gets:a", "gets:bb", "gets:ccc"]
    for i, k in enumerate(keys):
        c.set(k, b"v%d" % i * (i + 1), flags=i)
    items, _ = c.tcp.get("gets", *keys)
    for k in keys:
        c.warm(k)
    reply = c.warm(*keys, cmd="gets")
    want = struct.pack(">HHHH", c.udp.rid, 0, 1, 0) + b"".join(
        value_block(k, items[k][0], items[k][1], items[k][2])
        for k in keys) + b"END\r\n"
    expect("XDP gets reply bytes", want, reply)
    reply = c.warm(*keys)
    want = struct.pack(">HHHH", c.udp.rid, 0, 1, 0) + b"".join(
        value_block(k, items[k][0], items[k][1]) for k in keys) + \
        b"END\r\n"
    expect("XDP multi-get reply bytes", want, reply)
    # one key missing: XDP must pass the whole request to the backend
    reply, xdp = c.served_by_xdp(lambda: c.udp.get(keys[0], "gets:none"))
    expect("partial hit served by XDP", False, xdp)
    expect("partial hit reply", struct.pack(">HHHH", c.udp.rid, 0, 1, 0) +
           value_block(keys[0], items[keys[0]][0], items[keys[0]][1]) +
           b"END\r\n", reply)


def meta_tcp(c, line, vlen):
    """@line over TCP: the reply's bytes (head, data, "\r\n")."""
    c.tcp.sock.sendall(line)
    head = c.tcp._line()
    if not head.startswith(b"VA %d" % vlen):
        raise Fail("reply to %r: %r" % (line, head))
    return head + b"\r\n" + c.tcp._exact(vlen + 2)


def meta_same(c, line, vlen):
    """mg @line over UDP, and over TCP when the TCP fast path is on,
    answered by XDP with the bytes the store sends."""
    # the store's own reply: with "u" (no LRU bump, nothing echoed),
    # which XDP passes over TCP and UDP alike
    want = meta_tcp(c, line[:-2] + b" u\r\n", vlen)
    time.sleep(c.settle)
    for _ in range(WARM_TRIES):
        reply, xdp = c.served_by_xdp(
            lambda line=line: c.udp.request(line))
        if xdp:
            break
    else:
        raise Fail("XDP never served %r" % line)
    expect("XDP UDP reply to %r and the store's" % line, want, reply[8:])
    log("XDP served %r over UDP" % reply)
    if "tcp" not in c.xkv.stats():
        return
    for _ in range(WARM_TRIES):
        before = c.xkv.stats()["tcp"]["hits"]
        got = meta_tcp(c, line, vlen)
        expect("TCP reply to %r and the store's" % line, want, got)
        if c.xkv.stats()["tcp"]["hits"] == before + 1:
            log("XDP served %r over TCP" % got)
            return
    raise Fail("the TCP fast path never served %r" % line)


def meta_store_b64(c, raw, data):
    """ms with a base64 key ("b") over TCP: the item is stored so."""
    tok = base64.b64encode(raw)
    c.tcp.sock.sendall(b"ms %s %d b\r\n%s\r\n" % (tok, len(data), data))
    expect("ms b reply", b"HD", c.tcp._line())
    return tok


def cmd_meta(c, args):
    """mg over UDP answered by XDP with the bytes the store sends."""
    key, data, flags = "meta:key", b"meta from the hot tier", 77
    c.set(key, data, flags)
    for fl in ("v", "v f", "s v f c Oab q", "O1 c v", "v k",
               "k s v Oxy q f", "v b"):
        kt = key.encode()
        if "b" in fl.split():
            kt = base64.b64encode(kt)
        meta_same(c, b"mg %s %s\r\n" % (kt, fl.encode()), len(data))
    # stored with a base64 key: k echoes it in base64 and " b"
    raw, bdata = b"meta b64\x01key", b"binary-keyed"
    tok = meta_store_b64(c, raw, bdata)
    for fl in ("b v k", "v k b c f s O9"):
        meta_same(c, b"mg %s %s\r\n" % (tok, fl.encode()), len(bdata))
    raw, bdata = b"meta:b64", b"printable, stored with b"
    tok = meta_store_b64(c, raw, bdata)
    for fl in ("v k", "k v f"):
        meta_same(c, b"mg %s %s\r\n" % (raw, fl.encode()), len(bdata))
    meta_same(c, b"mg %s b k v\r\n" % tok, len(bdata))
    # with a flag XDP does not answer: the backend does, every time
    line = b"mg %s v t\r\n" % key.encode()
    for _ in range(3):
        reply, xdp = c.served_by_xdp(
                lambda line=line: c.udp.request(line))
        expect("mg with t served by XDP", False, xdp)
    expect("mg v t from the backend", True,
           reply[8:].startswith(b"VA %d t-1\r\n" % len(data)))
    # a recache token handed out: the slot is cleared, the store says Z
    c.tcp.sock.sendall(b"ms %s %d T100\r\n%s\r\n" %
                       (key.encode(), len(data), data))
    expect("ms T100 reply", b"HD", c.tcp._line())
    meta_same(c, b"mg %s v\r\n" % key.encode(), len(data))
    c.tcp.sock.sendall(b"mg %s v R200\r\n" % key.encode())
    expect("mg R reply", b"VA %d W" % len(data), c.tcp._line())
    c.tcp._exact(len(data) + 2)
    line = b"mg %s v\r\n" % key.encode()
    for _ in range(3):
        reply, xdp = c.served_by_xdp(
                lambda line=line: c.udp.request(line))
        expect("mg after a W served by XDP", False, xdp)
        expect("mg after a W", b"VA %d Z\r\n" % len(data),
               reply[8:8 + len(b"VA %d Z\r\n" % len(data))])
        got = meta_tcp(c, line, len(data))
        expect("mg after a W over TCP", b"VA %d Z\r\n" % len(data),
               got[:len(b"VA %d Z\r\n" % len(data))])


BIN_OPS = {"GET": 0x00, "GETQ": 0x09, "GETK": 0x0c, "GETKQ": 0x0d}


def bin_request(op, key, opaque):
    """One binary request packet: @op for @key, the opaque as given."""
    k = key.encode()
    return struct.pack(">BBHBBHIII", 0x80, op, len(k), 0, 0, 0, len(k),
                       opaque, 0) + b"\0" * 4 + k


def cmd_binary(c, args):
    """Binary GET/GETQ/GETK/GETKQ over UDP: the store's reply datagram
    first (a key the hot tier has not seen), then XDP's, byte for byte
    (only the request id differs)."""
    for name, op in BIN_OPS.items():
        key = "bin:%s:%d" % (name.lower(), random.randrange(1 << 30))
        data, flags = b"binary from the hot tier " + name.encode(), 0x7abc
        c.set(key, data, flags)
        req = bin_request(op, key, 0xa0b1c2d3)
        ref, xdp = c.served_by_xdp(lambda req=req: c.udp.request(req))
        expect("the first %s of %s served by XDP" % (name, key), False,
               xdp)
        if ref[8] != 0x81 or ref[9] != op or ref[14:16] != b"\0\0":
            raise Fail("backend reply to %s: %r" % (name, ref))
        reply = c.until_xdp(lambda req=req: c.udp.request(req),
                            "binary %s %s" % (name, key))
        expect("XDP's binary %s reply and the store's" % name, ref[2:],
               reply[2:])
        log("XDP served binary %s: %r" % (name, reply))
    # a miss: the store answers (GET: "Not found"), XDP never does
    req = bin_request(BIN_OPS["GET"], "bin:absent", 7)
    reply, xdp = c.served_by_xdp(lambda: c.udp.request(req))
    expect("binary GET miss served by XDP", False, xdp)
    expect("binary GET miss: status 1, Not found", (1, b"Not found"),
           (struct.unpack(">H", reply[14:16])[0], reply[32:]))


def cmd_tcpbin(c, args):
    """Binary GET/GETK over TCP: on one binary connection the store
    answers a key first; once the key is hot the TCP fast path answers
    the same request with the same bytes."""
    tcp = Tcp(args.tcp_host or args.host, args.port)
    try:
        for name in ("GETK", "GET", "GETKQ", "GETQ"):
            key = "tcpbin:%s:%d" % (name.lower(), random.randrange(1 << 30))
            data = b"binary over TCP from XDP " + name.encode()
            c.set(key, data, 0x1234)
            req = bin_request(BIN_OPS[name], key, 0x11223344)
            # the reply's length is in its header
            def ask(req=req):
                tcp.sock.sendall(req)
                head = tcp._exact(24)
                return head + tcp._exact(struct.unpack(">I", head[8:12])[0])
            before = c.xkv.stats()["tcp"]["hits"]
            ref = ask()
            expect("the store's %s of %s answered by XDP" % (name, key),
                   before, c.xkv.stats()["tcp"]["hits"])
            c.warm(key)
            for _ in range(WARM_TRIES):
                before = c.xkv.stats()["tcp"]["hits"]
                reply = ask()
                xdp = c.xkv.stats()["tcp"]["hits"] - before == 1
                expect("binary %s over TCP" % name, ref, reply)
                if xdp:
                    break
                time.sleep(0.05)
            else:
                raise Fail("the TCP fast path never answered binary %s"
                           % name)
            log("TCP fast path served binary %s: %r" % (name, reply))
    finally:
        tcp.close()


def cmd_allow(c, args):
    key, data = "allow:key", b"allowlisted"
    c.set(key, data)
    c.warm(key)
    res = c.xkv.run("allow", args.iface, "none")
    expect("xkv allow none", 0, res.returncode)
    before = c.xkv.stats()
    reply, xdp = c.served_by_xdp(lambda: c.udp.get(key))
    after = c.xkv.stats()
    expect("served by XDP with an empty allowlist", False, xdp)
    expect("pass_not_allowed moved", True,
           after["pass_not_allowed"] > before["pass_not_allowed"])
    expect("backend reply", value_block(key, 0, data) + b"END\r\n",
           reply[8:])
    res = c.xkv.run("allow", args.iface, "add", args.client + "/32")
    expect("xkv allow add", 0, res.returncode)
    listed = c.xkv.run("allow", args.iface, "list").stdout.split()
    expect("allow list", [args.client + "/32"], listed)
    c.warm(key)
    # back to the defaults: the interface's subnet
    for cmdline in (["allow", args.iface, "del", args.client + "/32"],
                    ["allow", args.iface, "add", args.subnet]):
        res = c.xkv.run(*cmdline)
        expect(" ".join(cmdline), 0, res.returncode)
    c.warm(key)


def cmd_flush(c, args):
    key, data = "flush:key", b"still here"
    c.set(key, data)
    c.warm(key)
    res = c.xkv.run("flush", args.iface)
    expect("xkv flush", 0, res.returncode)
    log(res.stdout.strip())
    reply, xdp = c.served_by_xdp(lambda: c.udp.get(key))
    expect("served by XDP right after xkv flush", False, xdp)
    expect("value after xkv flush", value_block(key, 0, data) + b"END\r\n",
           reply[8:])
    c.warm(key)


def tcp_body(c, key, cmd="get"):
    """What the backend says now, as a UDP reply body."""
    _, raw = c.tcp.get(cmd, key)
    return raw


def write_case(c, name):
    """Set up a hot key, run write @name, return (old, expected) bodies:
    what a stale read would look like and what the next read must be
    (None: whatever the backend says after the write, but not @old)."""
    k = "w:" + name
    old = b"old-value"
    if name in ("incr", "decr"):
        old = b"99" if name == "incr" else b"100"
    c.set(k, old, flags=7)
    stale = c.warm(k)[8:]
    end = b"END\r\n"
    if name == "set":
        expect("set", b"STORED", c.tcp.cmd(
            b"set %s 9 0 3\r\nnew\r\n" % k.encode()))
        return k, stale, value_block(k, 9, b"new") + end
    if name == "add":
        # add to an existing key is refused and must change nothing ...
        expect("add (exists)", b"NOT_STORED", c.tcp.cmd(
            b"add %s 0 0 3\r\nnew\r\n" % k.encode()))
        expect("get after refused add", stale, c.udp.get(k)[8:])
        # ... and after delete, add creates the new value
        expect("delete", b"DELETED", c.tcp.cmd(b"delete %s\r\n" %
                                                k.encode()))
        expect("add", b"STORED", c.tcp.cmd(
            b"add %s 3 0 5\r\nadded\r\n" % k.encode()))
        return k, stale, value_block(k, 3, b"added") + end
    if name == "replace":
        expect("replace", b"STORED", c.tcp.cmd(
            b"replace %s 5 0 8\r\nreplaced\r\n" % k.encode()))
        return k, stale, value_block(k, 5, b"replaced") + end
    if name == "append":
        expect("append", b"STORED", c.tcp.cmd(
            b"append %s 0 0 4\r\n_app\r\n" % k.encode()))
        return k, stale, value_block(k, 7, old + b"_app") + end
    if name == "prepend":
        expect("prepend", b"STORED", c.tcp.cmd(
            b"prepend %s 0 0 4\r\npre_\r\n" % k.encode()))
        return k, stale, value_block(k, 7, b"pre_" + old) + end
    if name == "cas":
        items, _ = c.tcp.get("gets", k)
        cas = items[k][2]
        expect("cas (stale unique)", b"EXISTS", c.tcp.cmd(
            b"cas %s 0 0 3 %d\r\nbad\r\n" % (k.encode(), cas + 1000)))
        expect("get after refused cas", stale, c.udp.get(k)[8:])
        expect("cas", b"STORED", c.tcp.cmd(
            b"cas %s 1 0 3 %d\r\ncas\r\n" % (k.encode(), cas)))
        return k, stale, value_block(k, 1, b"cas") + end
    if name == "delete":
        expect("delete", b"DELETED", c.tcp.cmd(b"delete %s\r\n" %
                                                k.encode()))
        return k, stale, end
    if name == "incr":
        expect("incr", b"100", c.tcp.cmd(b"incr %s 1\r\n" % k.encode()))
        return k, stale, value_block(k, 7, b"100") + end
    if name == "decr":
        # memcached keeps the length and pads with a space: "99 "
        expect("decr", b"99", c.tcp.cmd(b"decr %s 1\r\n" % k.encode()))
        return k, stale, None
    if name == "touch":
        expect("touch", b"TOUCHED", c.tcp.cmd(b"touch %s -1\r\n" %
                                               k.encode()))
        return k, stale, end
    if name == "touch-expiry":
        # xkvd hands XDP an expiry a second early (it rounds down), so
        # an item that expires in 3 s is served by XDP for about 2 s
        expect("touch", b"TOUCHED", c.tcp.cmd(b"touch %s 3\r\n" %
                                               k.encode()))
        c.warm(k)
        time.sleep(3.5)
        return k, stale, end
    if name == "gat":
        items, raw = c.tcp.get("gat -1", k)
        expect("gat", value_block(k, 7, old) + end, raw)
        return k, stale, end
    if name == "gats":
        items, raw = c.tcp.get("gats 0", k)
        expect("gats", old, items[k][1])
        return k, stale, value_block(k, 7, old) + end
    if name == "flush_all":
        expect("flush_all", b"OK", c.tcp.cmd(b"flush_all\r\n"))
        return k, stale, end
    if name == "flush_all-delay":
        expect("flush_all 3", b"OK", c.tcp.cmd(b"flush_all 3\r\n"))
        c.warm(k)       # valid until the flush time ...
        time.sleep(3.5)  # ... and gone after it, from XDP too
        return k, stale, end
    raise Fail("unknown write command %s" % name)


def cmd_write(c, args):
    key, stale, want = write_case(c, args.what)
    # the very next read, over UDP, before anything else touches the key
    got = c.udp.get(key)[8:]
    truth = tcp_body(c, key)
    log("after %s: UDP %r, backend %r" % (args.what, got, truth))
    if want is not None:
        expect("backend state after %s" % args.what, want, truth)
        expect("UDP get after %s" % args.what, want, got)
    else:
        expect("UDP get after %s equals the backend's" % args.what,
               truth, got)
    if got == stale and stale != truth:
        raise Fail("stale value served after %s" % args.what)
    # and once the key is hot again (if it exists), XDP serves the new
    # state too
    if truth != b"END\r\n":
        expect("XDP reply after %s" % args.what, truth,
               c.warm(key)[8:])


# --- coherence ---------------------------------------------------------------

def coh_writer(args, keys, acked, stop, out):
    tcp = Tcp(args.tcp_host or args.host, args.port)
    writes = 0
    try:
        versions = {i: 0 for i, _ in keys}   # the parent set them to 0
        while not stop.is_set():
            for i, k in keys:
                v = versions[i] + 1
                if k.startswith("inc:"):
                    line = tcp.cmd(b"incr %s 1\r\n" % k.encode())
                    if int(line) != v:
                        raise Fail("incr %s: %r, want %d" % (k, line, v))
                else:
                    data = b"%d" % v
                    line = tcp.cmd(b"set %s 0 0 %d\r\n%s\r\n" % (
                        k.encode(), len(data), data))
                    if line != b"STORED":
                        raise Fail("set %s: %r" % (k, line))
                # acknowledged: from now on, no read may return < v
                acked[i] = v
                versions[i] = v
                writes += 1
        out.put(("writer", writes, 0, 0, 0, ""))
    except Exception as e:      # report, never hang the parent
        out.put(("writer", writes, 0, 0, 0, "writer: %r" % e))


def coh_reader(args, keys, acked, stop, out):
    udp = Udp(args.host, args.port)
    reads = stale = missing = lost = 0
    worst = ""
    rng = random.Random(os.getpid())
    try:
        while not stop.is_set():
            i, k = rng.choice(keys)
            floor = acked[i]    # acknowledged before the read is sent
            try:
                reply = udp.get(k)
            except Fail:
                lost += 1
                continue
            items = parse_udp(reply)
            reads += 1
            if k not in items:
                missing += 1
                continue
            v = int(items[k][1])
            if v < floor:
                stale += 1
                worst = worst or "%s: read %d after %d was acked" % (
                    k, v, floor)
        out.put(("reader", reads, stale, missing, lost, worst))
    except Exception as e:
        out.put(("reader", reads, stale, missing, lost,
                 "reader: %r" % e))


def cmd_coherence(c, args):
    keys = [(i, ("inc:%d" % i) if i % 2 else ("set:%d" % i))
            for i in range(args.keys)]
    acked = multiprocessing.Array("q", len(keys), lock=False)
    stop = multiprocessing.Event()
    out = multiprocessing.Queue()
    procs = []
    for w in range(args.writers):
        mine = keys[w::args.writers]
        procs.append(multiprocessing.Process(
            target=coh_writer, args=(args, mine, acked, stop, out)))
    for _ in range(args.readers):
        procs.append(multiprocessing.Process(
            target=coh_reader, args=(args, keys, acked, stop, out)))
    # every key exists (version 0) before any reader starts
    for i, k in keys:
        c.set(k, b"0")
    before = c.xkv.stats()
    for p in procs:
        p.start()
    # optionally "xkv flush" now and then: the loader as one more writer
    # of the slots, racing the backend's
    flushes, flush_errors = 0, []
    end = time.monotonic() + args.time
    while time.monotonic() < end:
        if not args.flush_every:
            time.sleep(end - time.monotonic())
            break
        time.sleep(min(args.flush_every, max(0, end - time.monotonic())))
        res = c.xkv.run("flush", args.iface)
        flushes += 1
        if res.returncode:
            flush_errors.append(res.stderr.strip())
    stop.set()
    results = []
    for _ in procs:
        try:
            results.append(out.get(timeout=10))
        except Exception:
            results.append(("lost", 0, 0, 0, 0, "a worker did not report"))
    for p in procs:
        p.join(timeout=5)
        if p.is_alive():
            p.kill()
    after = c.xkv.stats()
    writes = sum(r[1] for r in results if r[0] == "writer")
    reads = sum(r[1] for r in results if r[0] == "reader")
    stale = sum(r[2] for r in results)
    missing = sum(r[3] for r in results)
    lost = sum(r[4] for r in results)
    errors = [r[5] for r in results if r[5]]
    hits = after["hits"] - before["hits"]
    busy = after["pass_busy"] - before["pass_busy"]
    print("coherence: %.1f s, %d keys, %d writes, %d reads, %d stale, "
          "%d missing, %d lost, %d XDP hits, %d passed busy, %d flushes" %
          (args.time, len(keys), writes, reads, stale, missing, lost, hits,
           busy, flushes))
    errors += flush_errors
    for e in errors:
        log(e)
    if errors:
        raise Fail("; ".join(errors))
    if stale or missing:
        raise Fail("%d stale and %d missing reads" % (stale, missing))
    if not writes or not reads:
        raise Fail("no writes or no reads")
    if not hits:
        raise Fail("XDP served none of the reads")
    if lost > reads // 100:
        raise Fail("%d of %d UDP reads lost" % (lost, reads))


# Run by "forge" as another user on the server: bind memcached's UDP port
# (memcached sets SO_REUSEADDR, so anyone may) at the server's own address,
# which takes the datagrams memcached's wildcard socket would get, answer
# the first one with argv[4] under its request id, exit.
FORGER = r'''
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], int(sys.argv[2])))
print("ready", flush=True)
s.settimeout(float(sys.argv[3]))
data, peer = s.recvfrom(65536)
s.sendto(data[:2] + b"\0\0\0\1\0\0" + sys.argv[4].encode(), peer)
'''


def cmd_forge(c, args):
    key, real, fake = "forge:victim", b"honest", b"forge"
    forged = value_block(key, 0, fake) + b"END\r\n"
    c.set(key, real)
    time.sleep(c.settle)        # past the quarantine: learnable
    before = c.xkv.stats()["learning"]
    forger = subprocess.Popen(
        args.forger + ["-c", FORGER, c.host, str(c.port), str(TIMEOUT),
                       forged.decode()],
        stdout=subprocess.PIPE, text=True)
    try:
        expect("forger", "ready", forger.stdout.readline().strip())
        # the forger, not memcached, answers this one
        reply = c.udp.get(key)
        expect("forged reply", forged, reply[8:])
        expect("forger exit", 0, forger.wait(timeout=10))
    finally:
        if forger.poll() is None:
            forger.kill()
            forger.wait()
    after = c.xkv.stats()["learning"]
    log("learning counters after the forged reply: %r" % after)
    for _ in range(WARM_TRIES):
        reply, xdp = c.served_by_xdp(lambda: c.udp.get(key))
        got = parse_udp(reply).get(key)
        if got and got[1] == fake:
            raise Fail("%s served the forged value" %
                       ("XDP" if xdp else "memcached"))
    expect("forged replies counted as foreign", True,
           after["skip_foreign"] > before["skip_foreign"])
    # XDP does serve what memcached itself answers
    reply = c.warm(key)
    expect("XDP reply after the forgery",
           value_block(key, 0, real) + b"END\r\n", reply[8:])


# --- main --------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--host", required=True, help="server address (UDP)")
    ap.add_argument("--tcp-host", help="server address for TCP")
    ap.add_argument("--port", type=int, default=11211)
    ap.add_argument("--xkv", required=True, help="the xkv binary")
    ap.add_argument("--iface", required=True, help="server interface")
    ap.add_argument("--client", default="10.123.0.2")
    ap.add_argument("--subnet", default="10.123.0.0/24")
    ap.add_argument("--learn-quiet", type=int, metavar="MS",
                    help="learning mode, with this write quarantine")
    sub = ap.add_subparsers(dest="cmd", required=True)
    sub.add_parser("serve")
    sub.add_parser("gets")
    sub.add_parser("allow")
    sub.add_parser("meta")
    sub.add_parser("binary")
    sub.add_parser("tcpbin")
    sub.add_parser("flush")
    w = sub.add_parser("write")
    w.add_argument("what")
    co = sub.add_parser("coherence")
    co.add_argument("--time", type=float, default=5.0)
    co.add_argument("--keys", type=int, default=4)
    co.add_argument("--writers", type=int, default=2)
    co.add_argument("--readers", type=int, default=2)
    co.add_argument("--flush-every", type=float, default=0,
                    help="run xkv flush every this many seconds")
    fo = sub.add_parser("forge")
    fo.add_argument("forger", nargs=argparse.REMAINDER,
                    help="command that runs python3 as another user "
                    "on the server")
    args = ap.parse_args()
    fn = {"serve": cmd_serve, "gets": cmd_gets, "allow": cmd_allow,
          "meta": cmd_meta, "binary": cmd_binary, "tcpbin": cmd_tcpbin,
          "flush": cmd_flush, "write": cmd_write,
          "coherence": cmd_coherence, "forge": cmd_forge}[args.cmd]
    try:
        c = Ctx(args)
        fn(c, args)
    except Fail as e:
        log("FAIL: %s" % e)
        return 1
    except (OSError, subprocess.SubprocessError, ValueError) as e:
        log("FAIL: %r" % e)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
