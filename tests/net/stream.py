#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""stream.py - check that a memcached server's TCP streams are never wrong.

  stream.py [OPTION]... HOST [PORT]

Writers: -c connections, each with its own keys (so its model of them is
exact). Each sends a batch of random get, multi-key get, gets, set,
delete, append, incr and cas commands (some with noreply) in one send(),
then checks every reply, in order and byte for byte, against its model,
before it sends the next batch. A few keys of each writer are hot: most
reads go to them.

Readers: -r connections that send one "get" or "gets" line of 1 to 4 of
the writers' keys at a time, and check that each value is one the writer
wrote (flags and bytes), never older than the newest write acknowledged
to the writer, or already read by any reader, when the read was sent;
and that one write's CAS value is the same wherever it is read and
differs from every other write's. Every write makes a key's value
distinguishable: a value starts with the write's number, an append adds
its own number, a counter only grows.

Connections: half of them leave Nagle on, a quarter advertise a small
receive window (SO_RCVBUF 4 KB), and now and then (--churn) one ends
between two batches and another takes its place: closed, reset (RST),
half-closed after its next batch (its replies, then the server's EOF,
must still come) or reset while reads are still being answered.

Modes (-m): "mix" (the above; batches of 1 to -b commands), "get"
(writers send one plain single-key get at a time, mostly of hot keys, with
a set now and then: the fast path's hit case, over and over) and "burst"
(the same commands, two to four of them sent back to back, each with its
own send() and Nagle off, so each travels in a segment of its own: a
request answered below the socket followed by ones the server must
answer after it).

The run ends after -d seconds (what is in flight is still checked). On
the first wrong byte it prints the connection, the batch sent, what was
expected and what came, and exits 1; a connection silent for --stall
seconds with a reply owed, closed or reset also fails. Exit 0 prints one
summary line (ops checked per second). Standard library only.
"""

import argparse
import collections
import errno
import hashlib
import os
import random
import selectors
import socket
import struct
import sys
import time

STALL = 15.0            # seconds a connection may owe a reply silently
HIST = 512              # writes remembered per key for the readers
BIG = 3000              # largest value a set writes
MAX_APPEND = 6000       # no append to a value longer than this
CHURN = {"mix": 0.01, "get": 0.002, "burst": 0.002}  # default --churn
KEY_CHARS = (b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
             b"0123456789_-.:/#!~")

# mode -> (weights of command kinds, largest batch or None for -b)
MODES = {
    "mix": ({"get": 30, "mget": 10, "gets": 10, "mgets": 4, "set": 18,
             "setq": 4, "delete": 5, "deleteq": 1, "append": 7,
             "incr": 7, "incrq": 1, "cas": 3}, None),
    "get": ({"get": 88, "mget": 3, "gets": 4, "set": 5}, 1),
    "burst": ({"get": 80, "mget": 3, "gets": 7, "set": 10}, 4),
}


class Mismatch(Exception):
    """The server's bytes differ from the model's; the message says how."""


def show(b, limit=600):
    """Bytes for a message: repr, shortened in the middle."""
    b = bytes(b)
    if len(b) > limit:
        b = b[:limit // 2] + b"<...%d bytes...>" % (len(b) - limit) + \
            b[-limit // 2:]
    return repr(b)[2:-1] if b else "(nothing)"


def digest(state):
    """A short fingerprint of a key's state: None (absent) or (flags,
    data)."""
    if state is None:
        return b"-"
    return hashlib.blake2b(b"%d:" % state[0] + state[1],
                           digest_size=12).digest()


class Key:
    """One key of one writer: the model (exact), and its history for
    the readers."""

    def __init__(self, name, counter):
        self.name = name
        self.counter = counter      # holds a number: incr, numeric sets
        self.state = None           # None or (flags, data)
        self.gen = 0                # writes sent (that changed the state)
        self.acked = 0              # newest write acknowledged
        self.seen = 0               # newest write a reader has read
        self.top = 0                # largest number a counter ever held
        self.hist = collections.deque([(0, digest(None), b"")],
                                      maxlen=HIST)
        self.cas = {}               # gen -> CAS value seen for it
        self.cas_gen = {}           # CAS value -> gen
        self.last_cas = None        # (gen, cas) a writer can use for cas

    def write(self, state):
        """The writer sends a write that leaves @state: a new generation."""
        self.gen += 1
        self.state = state
        self.hist.append((self.gen, digest(state),
                          b"" if state is None else state[1][:40]))
        return self.gen

    def find(self, state):
        """The generation whose write left @state, the newest first; or
        None."""
        d = digest(state)
        for gen, dg, _ in reversed(self.hist):
            if dg == d:
                return gen
        return None

    def saw_cas(self, gen, cas):
        """A gets showed CAS @cas for write @gen: one write, one CAS."""
        old = self.cas.get(gen)
        if old is not None and old != cas:
            raise Mismatch("key %s write %d: CAS %d, earlier %d" %
                           (show(self.name), gen, cas, old))
        other = self.cas_gen.get(cas)
        if other is not None and other != gen:
            raise Mismatch("key %s: CAS %d for write %d and for write %d" %
                           (show(self.name), cas, gen, other))
        self.cas[gen] = cas
        self.cas_gen[cas] = gen
        if len(self.cas) > 4 * HIST:
            for g in sorted(self.cas)[:HIST]:
                self.cas_gen.pop(self.cas.pop(g), None)


class Op:
    """One command of a batch and the reply it must get.

    @want is a list of bytes and CAS markers ("cas", key, gen): the reply
    is those bytes, with a decimal number for each marker. @acks are the
    (key, gen) writes this reply acknowledges (with any noreply writes
    before it)."""

    def __init__(self, text, want, acks=()):
        self.text = text
        self.want = want
        self.acks = list(acks)


class Conn:
    """A connection, its outgoing bytes and the replies it is owed."""

    def __init__(self, run, role, idx):
        self.run = run
        self.role = role
        self.idx = idx
        self.sock = None
        self.rbuf = bytearray()
        self.ops = collections.deque()  # owed replies, oldest first
        self.batch = b""                # the batch those came in
        self.out = b""                  # what send() has not taken yet
        self.since = time.monotonic()   # last progress
        self.batches = 0
        self.partial_sends = 0
        self.half = False               # shut down for writing: EOF due
        self.connect()

    def connect(self):
        run = self.run
        fam, typ, proto, _, addr = socket.getaddrinfo(
            run.host, run.port, type=socket.SOCK_STREAM)[0]
        s = socket.socket(fam, typ, proto)
        # a quarter of them advertise a small window: the server's
        # replies are then limited by it
        if self.idx % 4 == 3:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.settimeout(5)
        s.connect(addr)
        s.setblocking(False)
        # half of them leave Nagle on: segments then carry what it merges
        # (none in burst mode: one command, one segment)
        if self.idx % 2 == 0 or self.run.args.mode == "burst":
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock = s
        self.name = "%s %d (local port %d)" % (self.role, self.idx,
                                              s.getsockname()[1])
        self.half = False
        self.since = time.monotonic()
        run.sel.register(s, selectors.EVENT_READ, self)

    def reconnect(self, how):
        """End this connection (close, or reset: RST) and open another."""
        self.run.sel.unregister(self.sock)
        if how.startswith("reset"):
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                 struct.pack("ii", 1, 0))
        self.sock.close()
        self.run.churned[how] += 1
        self.connect()

    def churn(self, kinds):
        """Between two batches, now and then: one of @kinds. True if the
        connection was replaced."""
        rnd = self.run.rnd
        if self.run.done or rnd.random() >= self.run.churn:
            return False
        how = rnd.choice(kinds)
        if how == "half":
            # the next batch, then shutdown(SHUT_WR): its replies, then EOF
            self.half = True
            return False
        if how == "reset_owed":
            # reads still being answered when the RST comes
            self.sock.send(b"".join(b"get %s\r\n" % k.name
                                    for k in self.keys[:8]))
        self.reconnect(how)
        return True

    def fail(self, what, op=None):
        msg = ["stream: MISMATCH on %s: %s" % (self.name, what)]
        if op is not None:
            msg.append("  command: %s" % show(op.text, 300))
            if op.want:
                exp = b"".join(p if isinstance(p, bytes) else b"<CAS>"
                               for p in op.want)
                msg.append("  expected: %s" % show(exp, 1200))
        msg.append("  got: %s" % show(self.rbuf, 1200))
        msg.append("  batch %d sent in one write (%d bytes, %d commands "
                   "still owed):" % (self.batches, len(self.batch),
                                     len(self.ops)))
        msg.append("    %s" % show(self.batch, 3000))
        raise Mismatch("\n".join(msg))

    def send(self, batch, ops, pieces=None):
        """Send @batch (in @pieces, one send() each, when given); @ops
        are the replies it asks for."""
        self.batch = batch
        self.ops.extend(ops)
        self.batches += 1
        self.since = time.monotonic()
        n = 0
        for piece in pieces or [batch]:
            try:
                k = self.sock.send(piece)
            except BlockingIOError:
                k = 0
            n += k
            if k < len(piece):
                break
        self.out = batch[n:]
        if self.out:
            self.partial_sends += 1
            self.run.sel.modify(self.sock, selectors.EVENT_READ |
                                selectors.EVENT_WRITE, self)
        elif self.half:
            self.sock.shutdown(socket.SHUT_WR)

    def writable(self):
        try:
            n = self.sock.send(self.out)
        except BlockingIOError:
            return
        self.out = self.out[n:]
        if not self.out:
            self.run.sel.modify(self.sock, selectors.EVENT_READ, self)
            if self.half:
                self.sock.shutdown(socket.SHUT_WR)

    def readable(self):
        try:
            data = self.sock.recv(262144)
        except BlockingIOError:
            return
        except OSError as e:
            self.fail("recv: %s" % os.strerror(e.errno or errno.EIO))
        if not data:
            if not self.half or self.ops or self.rbuf:
                self.fail("the server closed the connection")
            # half-closed, every reply in: the server's EOF was due
            self.reconnect("half")
            self.next_batch()
            return
        self.rbuf += data
        self.since = time.monotonic()
        self.consume()

    def consume(self):
        raise NotImplementedError


class Writer(Conn):
    """Sends batches of commands on its own keys, checks replies exactly."""

    def __init__(self, run, idx):
        super().__init__(run, "writer", idx)
        rnd = run.rnd
        self.keys = []
        for i in range(run.nkeys + run.ncounters):
            counter = i >= run.nkeys
            base = b"s%s.%d.%s%d" % (run.tag, idx, b"c" if counter else
                                     b"k", i)
            # some long keys: up to the protocol's 250 bytes
            r = rnd.random()
            want = 250 if r < 0.05 else 64 if r < 0.3 else len(base)
            name = base + bytes(rnd.choice(KEY_CHARS)
                                for _ in range(want - len(base)))
            self.keys.append(Key(name, counter))
        self.data_keys = self.keys[:run.nkeys]
        self.counters = self.keys[run.nkeys:]
        self.pending_acks = []      # noreply writes not yet followed
        self.end_sent = False

    def hot(self, keys):
        """A key, most often one of the first few (the hot ones)."""
        return keys[int(len(keys) * self.run.rnd.random() ** 3)]

    def any_key(self):
        rnd = self.run.rnd
        if rnd.random() < 0.15:
            return self.hot(self.counters)
        return self.hot(self.data_keys)

    def value(self, gen):
        """A value for write @gen: starts with its number, random bytes
        (any byte, \\r and \\n included) after."""
        rnd = self.run.rnd
        r = rnd.random()
        n = (rnd.randint(0, 60) if r < 0.8 else rnd.randint(60, 1400)
             if r < 0.95 else rnd.randint(1400, BIG))
        head = b"%d." % gen
        tail = rnd.randbytes(n) if hasattr(rnd, "randbytes") else \
            bytes(rnd.getrandbits(8) for _ in range(n))
        return head + tail

    @staticmethod
    def reply_value(k, cas_gen=None):
        """The VALUE block of @k's current state; with a CAS marker if
        @cas_gen is given."""
        flags, data = k.state
        if cas_gen is None:
            return [b"VALUE %s %d %d\r\n" % (k.name, flags, len(data)),
                    data + b"\r\n"]
        return [b"VALUE %s %d %d " % (k.name, flags, len(data)),
                ("cas", k, cas_gen), b"\r\n" + data + b"\r\n"]

    def op_get(self, cmd, keys):
        want = []
        for k in keys:
            if k.state is not None:
                want += self.reply_value(k, k.gen if cmd == b"gets"
                                         else None)
        want.append(b"END\r\n")
        return Op(cmd + b" " + b" ".join(k.name for k in keys) + b"\r\n",
                  want)

    @staticmethod
    def op_store(k, state, noreply, cmd=b"set", data=None):
        """A storage command that leaves @state (sending @data, if given,
        instead of the whole value: append)."""
        flags, value = state
        data = value if data is None else data
        line = b"%s %s %d 0 %d%s\r\n" % (cmd, k.name, flags, len(data),
                                         b" noreply" if noreply else b"")
        gen = k.write(state)
        return line + data + b"\r\n", [(k, gen)]

    def make_op(self, kind):
        """One command of @kind on the model's current state, applied to
        the model; None if @kind does not apply now."""
        rnd = self.run.rnd
        noreply = kind.endswith("q")
        kind = kind.rstrip("q")
        if kind in ("get", "gets"):
            return self.op_get(kind.encode(), [self.any_key()])
        if kind in ("mget", "mgets"):
            n = rnd.randint(2, 8)
            return self.op_get(kind[1:].encode(),
                               [self.any_key() for _ in range(n)])
        if kind == "set":
            if rnd.random() < 0.2:
                k = self.hot(self.counters)
                k.top += rnd.randint(1, 1000)
                state = (rnd.randint(0, 65535), b"%d" % k.top)
            else:
                k = self.hot(self.data_keys)
                state = (rnd.choice((0, 1, rnd.randint(0, 2 ** 32 - 1))),
                         self.value(k.gen + 1))
            text, acks = self.op_store(k, state, noreply)
            return Op(text, [] if noreply else [b"STORED\r\n"], acks)
        if kind == "delete":
            k = self.any_key()
            text = b"delete %s%s\r\n" % (k.name,
                                         b" noreply" if noreply else b"")
            if k.state is None:
                return Op(text, [] if noreply else [b"NOT_FOUND\r\n"])
            gen = k.write(None)
            return Op(text, [] if noreply else [b"DELETED\r\n"],
                      [(k, gen)])
        if kind == "append":
            k = self.hot(self.data_keys)
            add = b"|%d." % (k.gen + 1) + bytes(
                rnd.choice(KEY_CHARS) for _ in range(rnd.randint(0, 20)))
            if k.state is None:
                return Op(b"append %s 0 0 %d\r\n%s\r\n" %
                          (k.name, len(add), add), [b"NOT_STORED\r\n"])
            if len(k.state[1]) > MAX_APPEND:
                return None
            # append keeps the flags (the line's are ignored)
            text, acks = self.op_store(k, (k.state[0], k.state[1] + add),
                                       False, b"append", add)
            return Op(text, [b"STORED\r\n"], acks)
        if kind == "incr":
            k = self.hot(self.counters)
            delta = rnd.choice((1, 1, 7, rnd.randint(1, 10 ** 6)))
            text = b"incr %s %d%s\r\n" % (k.name, delta,
                                          b" noreply" if noreply else b"")
            if k.state is None:
                return Op(text, [] if noreply else [b"NOT_FOUND\r\n"])
            n = int(k.state[1]) + delta
            k.top = max(k.top, n)
            gen = k.write((k.state[0], b"%d" % n))
            return Op(text, [] if noreply else [b"%d\r\n" % n], [(k, gen)])
        if kind == "cas":
            k = self.hot(self.data_keys)
            if k.last_cas is None:
                return None
            gen, cas = k.last_cas
            state = (rnd.randint(0, 65535), self.value(k.gen + 1))
            line = b"cas %s %d 0 %d %d\r\n%s\r\n" % (
                k.name, state[0], len(state[1]), cas, state[1])
            if k.state is None:
                return Op(line, [b"NOT_FOUND\r\n"])
            if gen != k.gen:
                return Op(line, [b"EXISTS\r\n"])
            k.last_cas = None
            gen = k.write(state)
            return Op(line, [b"STORED\r\n"], [(k, gen)])
        raise ValueError(kind)

    def next_batch(self):
        run = self.run
        rnd = run.rnd
        if run.done:
            if self.end_sent:
                return
            # last batch: every key, exactly
            self.end_sent = True
            ops = [self.op_get(b"get", self.keys[i:i + 20])
                   for i in range(0, len(self.keys), 20)]
        else:
            n = 1 if run.maxbatch == 1 or rnd.random() < 0.3 else \
                rnd.randint(2, run.maxbatch)
            ops = []
            while len(ops) < n:
                op = self.make_op(run.pick())
                if op is not None:
                    ops.append(op)
        # a noreply write is acknowledged by the next reply after it
        for op in ops:
            if not op.want:
                self.pending_acks += op.acks
                op.acks = []
            else:
                op.acks = self.pending_acks + op.acks
                self.pending_acks = []
        if self.pending_acks:
            ops.append(self.op_get(b"get", [self.keys[0]]))
            ops[-1].acks = self.pending_acks
            self.pending_acks = []
        self.send(b"".join(op.text for op in ops),
                  [op for op in ops if op.want],
                  [op.text for op in ops] if run.args.mode == "burst"
                  else None)

    def consume(self):
        buf = self.rbuf
        pos = 0
        while self.ops:
            op = self.ops[0]
            end = match(buf, pos, op.want)
            if end is None:
                break
            if end < 0:
                self.rbuf = buf[pos:]
                self.fail("reply %d of the batch differs" %
                          (self.batch_ops - len(self.ops) + 1), op)
            # the CAS values, now that the reply is whole
            self.check_cas(buf, pos, op)
            for k, gen in op.acks:
                k.acked = max(k.acked, gen)
            self.run.ops += 1
            pos = end
            self.ops.popleft()
        del buf[:pos]
        if not self.ops:
            if buf:
                self.fail("bytes nobody asked for")
            if self.half:
                return          # EOF next
            self.churn(("close", "reset", "half", "reset_owed"))
            self.next_batch()

    def check_cas(self, buf, pos, op):
        for p in op.want:
            if isinstance(p, bytes):
                pos += len(p)
                continue
            end = pos
            while buf[end:end + 1].isdigit():
                end += 1
            cas = int(buf[pos:end])
            _, k, gen = p
            try:
                k.saw_cas(gen, cas)
            except Mismatch as e:
                self.rbuf = bytearray(buf)
                self.fail(str(e), op)
            k.last_cas = (gen, cas)
            pos = end

    def send(self, batch, ops, pieces=None):
        self.batch_ops = len(ops)
        super().send(batch, ops, pieces)


def match(buf, pos, want):
    """Does @buf from @pos hold the reply @want? Its end, None while it
    could still come, -1 when it differs."""
    for p in want:
        if isinstance(p, bytes):
            have = buf[pos:pos + len(p)]
            if have != p[:len(have)]:
                return -1
            if len(have) < len(p):
                return None
            pos += len(p)
            continue
        end = pos
        while end < len(buf) and 48 <= buf[end] <= 57:
            end += 1
        if end == len(buf):
            return None
        if end == pos or end - pos > 20:
            return -1
        pos = end
    return pos


class Reader(Conn):
    """Reads writers' keys one line at a time: never older than
    acknowledged."""

    def __init__(self, run, idx):
        super().__init__(run, "reader", idx)
        self.asked = None       # [(key, acked gen when sent)], cas wanted

    def next_batch(self):
        run = self.run
        if run.done:
            return
        rnd = run.rnd
        w = rnd.choice(run.writers)
        n = 1 if rnd.random() < 0.8 else rnd.randint(2, 4)
        keys = [w.any_key() for _ in range(n)]
        cas = rnd.random() < 0.2
        # what a read may not be older than: the newest write acknowledged
        # to its writer, or read by anyone, when the read is sent
        self.asked = ([(k, k.acked, k.seen) for k in keys], cas)
        text = (b"gets " if cas else b"get ") + \
            b" ".join(k.name for k in keys) + b"\r\n"
        self.send(text, [Op(text, [])])

    def consume(self):
        buf = self.rbuf
        pos = 0
        got = []
        if not self.ops:
            self.fail("bytes nobody asked for")
        while True:
            nl = buf.find(b"\r\n", pos)
            if nl < 0:
                if len(buf) - pos > 600:
                    self.fail("a line without its end", self.ops[0])
                return
            line = bytes(buf[pos:nl])
            if line == b"END":
                pos = nl + 2
                break
            f = line.split(b" ")
            if f[0] != b"VALUE" or len(f) != (5 if self.asked[1] else 4):
                self.fail("not a VALUE line: %s" % show(line), self.ops[0])
            try:
                flags, n = int(f[2]), int(f[3])
                cas = int(f[4]) if self.asked[1] else None
            except ValueError:
                self.fail("bad VALUE line: %s" % show(line), self.ops[0])
            if len(buf) < nl + 2 + n + 2:
                return
            if buf[nl + 2 + n:nl + 4 + n] != b"\r\n":
                self.fail("the value's end is not \\r\\n", self.ops[0])
            got.append((f[1], flags, bytes(buf[nl + 2:nl + 2 + n]), cas))
            pos = nl + 4 + n
        if len(buf) > pos:
            self.fail("bytes after END", self.ops[0])
        self.check(got)
        self.rbuf = bytearray()
        self.ops.clear()
        self.run.reads += 1
        self.run.ops += 1
        self.churn(("close", "reset"))
        self.next_batch()

    def check(self, got):
        asked, _ = self.asked
        i = 0
        for k, acked, seen in asked:
            if i < len(got) and got[i][0] == k.name:
                _, flags, data, cas = got[i]
                i += 1
                state = (flags, data)
            else:
                state, cas = None, None
            gen = k.find(state)
            if gen is not None and gen >= max(acked, seen):
                if state is not None:
                    # a value is one write's (a miss could be any delete's)
                    self.run.read_hits += 1
                    k.seen = max(k.seen, gen)
                if cas is not None and state is not None:
                    try:
                        k.saw_cas(gen, cas)
                    except Mismatch as e:
                        self.fail(str(e), self.ops[0])
                continue
            newest = k.hist[-1]
            what = ("a value never written" if gen is None else
                    "write %d, older than write %d (acknowledged: write %d, "
                    "read by then: write %d)" %
                    (gen, max(acked, seen), acked, seen))
            self.fail("key %s: read %s (writes sent %d, acked %d; newest "
                      "starts %s)" %
                      (show(k.name, 80),
                       "a miss" if state is None else
                       "flags %d, %d bytes starting %s" %
                       (state[0], len(state[1]), show(state[1][:40])),
                       k.gen, k.acked, show(newest[2])) + ": " + what,
                      self.ops[0])
        if i != len(got):
            self.fail("a VALUE not asked for, or out of order",
                      self.ops[0])


class Run:
    def __init__(self, args):
        self.host = args.host
        self.port = args.port
        self.rnd = random.Random(args.seed)
        self.tag = b"%x" % (args.seed & 0xffffff)
        self.nkeys = args.keys
        self.ncounters = max(2, args.keys // 8)
        weights, maxbatch = MODES[args.mode]
        self.maxbatch = maxbatch or args.batch
        self.kinds = list(weights)
        self.cum = []
        t = 0
        for k in self.kinds:
            t += weights[k]
            self.cum.append(t)
        self.sel = selectors.DefaultSelector()
        self.done = False
        self.ops = 0
        self.reads = 0
        self.read_hits = 0
        self.writers = []
        self.readers = []
        self.args = args
        self.churn = args.churn if args.churn is not None else \
            CHURN[args.mode]
        self.churned = collections.Counter()

    def pick(self):
        r = self.rnd.random() * self.cum[-1]
        for k, c in zip(self.kinds, self.cum):
            if r < c:
                return k
        return self.kinds[-1]

    def run(self):
        args = self.args
        for i in range(args.conns):
            self.writers.append(Writer(self, i))
        for i in range(args.readers):
            self.readers.append(Reader(self, i))
        conns = self.writers + self.readers
        # the writers fill their keys first, so reads hit from the start
        for w in self.writers:
            ops = []
            for k in w.keys:
                if k.counter:
                    k.top = self.rnd.randint(0, 1000)
                    text, acks = w.op_store(k, (0, b"%d" % k.top), False)
                else:
                    text, acks = w.op_store(k, (0, w.value(k.gen + 1)),
                                            False)
                ops.append(Op(text, [b"STORED\r\n"], acks))
            w.send(b"".join(op.text for op in ops), ops)
        t0 = time.monotonic()
        deadline = t0 + args.duration
        started = False
        while True:
            now = time.monotonic()
            # once every writer's keys are filled (its 2nd batch is out)
            if not started and all(w.batches > 1 or not w.ops
                                   for w in self.writers):
                started = True
                for r in self.readers:
                    r.next_batch()
            if now >= deadline and not self.done:
                self.done = True
                # a half-closed writer sends its last batch on the
                # connection that replaces it, once the server's EOF came
                for w in self.writers:
                    if not w.ops and not w.half:
                        w.next_batch()
            if self.done and not any(c.ops or c.half for c in conns):
                break
            for key, mask in self.sel.select(0.5):
                if mask & selectors.EVENT_WRITE:
                    key.data.writable()
                if mask & selectors.EVENT_READ:
                    key.data.readable()
            now = time.monotonic()
            for c in conns:
                if (c.ops or c.half) and now - c.since > args.stall:
                    c.fail("no reply for %.0f s" % (now - c.since),
                           c.ops[0] if c.ops else None)
        secs = time.monotonic() - t0
        for c in conns:
            c.sock.close()
        parts = sum(c.partial_sends for c in conns)
        print("stream: %s mode, %d writers, %d readers: %d replies checked "
              "in %.1f s (%.0f/s), %d reads by readers (%d values), "
              "%d batches, %d sends split, connections replaced: %s; "
              "0 mismatches" %
              (args.mode, len(self.writers), len(self.readers), self.ops,
               secs, self.ops / secs, self.reads, self.read_hits,
               sum(w.batches for w in self.writers), parts,
               ", ".join("%d %s" % (n, how) for how, n in
                         sorted(self.churned.items())) or "none"))


def main():
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("host")
    ap.add_argument("port", nargs="?", type=int, default=11211)
    ap.add_argument("-m", "--mode", choices=sorted(MODES), default="mix")
    ap.add_argument("-d", "--duration", type=float, default=10,
                    help="seconds of new batches (default 10)")
    ap.add_argument("-c", "--conns", type=int, default=8,
                    help="writer connections (default 8)")
    ap.add_argument("-r", "--readers", type=int, default=2,
                    help="reader connections (default 2)")
    ap.add_argument("-k", "--keys", type=int, default=32,
                    help="keys per writer (default 32, and 1/8 as many "
                    "counters)")
    ap.add_argument("-b", "--batch", type=int, default=24,
                    help="most commands in one batch (default 24)")
    ap.add_argument("-s", "--seed", type=int, default=None,
                    help="random seed (default: from the time)")
    ap.add_argument("--churn", type=float, default=None,
                    help="chance, after each batch, that a connection "
                    "ends (close, RST, half-close, RST with replies owed) "
                    "and another opens (default: mix %g, get %g)" %
                    (CHURN["mix"], CHURN["get"]))
    ap.add_argument("--stall", type=float, default=STALL,
                    help="seconds a connection may owe a reply (default "
                    "%g)" % STALL)
    args = ap.parse_args()
    if args.seed is None:
        args.seed = int(time.time() * 1000) & 0xffffffff
    print("stream: seed %d" % args.seed, file=sys.stderr, flush=True)
    try:
        Run(args).run()
    except Mismatch as e:
        print(e, file=sys.stderr)
        print("stream: seed %d" % args.seed, file=sys.stderr)
        return 1
    except OSError as e:
        print("stream: %s" % e, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
