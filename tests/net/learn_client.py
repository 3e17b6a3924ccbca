#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
#
# learn_client.py - the client side of tests/net/learn_memcached.sh: drives
# a stock memcached behind xkv's XDP tier in learning mode and checks that
# values are learned, served by XDP, and never stale after a write was
# acknowledged: step by step, then with concurrent TCP writers and UDP
# readers.
#
#   learn_client.py HOST PORT QUIET_MS STATS_CMD...
#
# STATS_CMD is a command printing the XDP and learning counters ("name value"
# lines), run between steps to tell XDP's answers from memcached's. Prints
# one line per check ("ok"/"not ok", TAP) and exits 0 when all passed.

import os
import random
import socket
import subprocess
import sys
import threading
import time

HOST, PORT, QUIET = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]) / 1000.0
STATS_CMD = sys.argv[4:]
SETTLE = QUIET + 0.15
count = 0
failed = 0


def check(cond, name, detail=""):
    global count, failed
    count += 1
    if not cond:
        failed += 1
    print("%sok %d - %s" % ("" if cond else "not ", count, name))
    if not cond and detail:
        print("#   " + detail)
    sys.stdout.flush()
    return cond


def stats():
    out = subprocess.run(STATS_CMD, capture_output=True, text=True,
                         check=True).stdout
    return {k: int(v) for k, v in (l.split() for l in out.splitlines())}


class Udp:
    def __init__(self):
        self.s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.s.settimeout(1.0)
        self.rid = random.randrange(1, 60000)

    def request(self, line):
        """One request datagram, the whole reply (all datagrams)."""
        self.rid = (self.rid + 1) & 0xffff
        hdr = self.rid.to_bytes(2, "big") + b"\0\0\0\1\0\0"
        self.s.sendto(hdr + line, (HOST, PORT))
        parts, total = {}, None
        while total is None or len(parts) < total:
            data = self.s.recv(65536)
            if int.from_bytes(data[0:2], "big") != self.rid:
                continue                # a late reply to an earlier one
            parts[int.from_bytes(data[2:4], "big")] = data[8:]
            total = int.from_bytes(data[4:6], "big")
        return b"".join(parts[i] for i in range(total))

    def get(self, key, cmd="get"):
        """(value, flags, cas) or None for a miss."""
        r = self.request(b"%s %s\r\n" % (cmd.encode(), key.encode()))
        if r == b"END\r\n":
            return None
        line, rest = r.split(b"\r\n", 1)
        t = line.split(b" ")
        assert t[0] == b"VALUE" and t[1] == key.encode(), r
        n = int(t[3])
        assert rest[n:] == b"\r\nEND\r\n", r
        return (rest[:n].decode(), int(t[2]),
                int(t[4]) if len(t) > 4 else None)


class Tcp:
    def __init__(self):
        self.s = socket.create_connection((HOST, PORT))
        self.s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""

    def line(self):
        while b"\r\n" not in self.buf:
            d = self.s.recv(65536)
            if not d:
                raise EOFError
            self.buf += d
        l, self.buf = self.buf.split(b"\r\n", 1)
        return l.decode()

    def cmd(self, text, reply=True):
        self.s.sendall(text.encode())
        return self.line() if reply else None

    def get(self, key):
        self.s.sendall(b"gets %s\r\n" % key.encode())
        l = self.line()
        if l == "END":
            return None
        t = l.split(" ")
        n = int(t[3])
        while len(self.buf) < n + 2:
            self.buf += self.s.recv(65536)
        v, self.buf = self.buf[:n].decode(), self.buf[n + 2:]
        assert self.line() == "END"
        return (v, int(t[2]), int(t[4]))


udp, tcp = Udp(), Tcp()


def learned_and_served(key, want):
    """After the quarantine: one GET learns, the next ones come from XDP."""
    time.sleep(SETTLE)
    got = udp.get(key)
    s0 = stats()
    vals = [udp.get(key) for _ in range(5)]
    s1 = stats()
    hits = s1["xdp_hits"] - s0["xdp_hits"]
    return (got and got[0] == want and all(v and v[0] == want for v in vals)
            and hits == 5), hits, got


# --- 1. learn, serve from XDP -----------------------------------------------
check(tcp.cmd("set k1 0 0 2\r\nv1\r\n") == "STORED", "set k1 over TCP")
s0 = stats()
ok, hits, got = learned_and_served("k1", "v1")
s1 = stats()
check(ok, "UDP get k1 learned, next 5 answered by XDP",
      "hits %d, got %r" % (hits, got))
check(s1["learned"] - s0["learned"] >= 1, "the learned counter moved")
r = udp.get("k1", "gets")
check(r and r[0] == "v1" and r[2] is not None,
      "gets k1 (the CAS is unknown to XDP): memcached answers with a CAS")

# --- 2. coherence: every acknowledged set is seen by the next GET -------------
stale, xdp_served, n = 0, 0, 300
for i in range(n):
    v = "val%d-%d" % (i, random.randrange(1 << 30))
    if tcp.cmd("set k1 0 0 %d\r\n%s\r\n" % (len(v), v)) != "STORED":
        stale += 1000
    got = udp.get("k1")
    if not got or got[0] != v:
        stale += 1
        print("#   after set %s, get returned %r" % (v, got))
    if i % 30 == 29:
        ok, hits, _ = learned_and_served("k1", v)
        xdp_served += hits
check(stale == 0, "%d sets over TCP, each followed by a UDP get: 0 stale "
      "reads (got %d)" % (n, stale))
check(xdp_served >= 40, "meanwhile XDP served k1 between sets (%d gets)"
      % xdp_served)

# --- 3. every kind of write invalidates --------------------------------------
writes = [
    ("delete k2\r\n", "DELETED"),
    ("delete k2 noreply\r\n", None),
    ("incr k2 5\r\n", "15"),
    ("incr k2 5 noreply\r\n", None),
    ("decr k2 3\r\n", "7"),
    ("append k2 0 0 1\r\nA\r\n", "STORED"),
    ("prepend k2 0 0 1\r\nP\r\n", "STORED"),
    ("replace k2 0 0 3\r\nrep\r\n", "STORED"),
    ("set k2 0 0 3 noreply\r\nnr1\r\n", None),
    ("cas k2 0 0 3 CAS\r\ncas\r\n", "STORED"),
    ("touch k2 0\r\n", "TOUCHED"),
    ("gat 0 k2\r\n", None),
    ("flush_all\r\n", "OK"),
    ("flush_all noreply\r\n", None),
    ("ms k2 2\r\nms\r\n", "HD"),
    ("md k2\r\n", "HD"),
    ("ma k2\r\n", "HD"),
]
for w, ack in writes:
    tcp.cmd("set k2 0 0 2\r\n10\r\n")
    ok, hits, got = learned_and_served("k2", "10")
    if "CAS" in w:
        w = w.replace("CAS", str(tcp.get("k2")[2]))
    if w.startswith("gat"):
        tcp.s.sendall(w.encode())
        while tcp.line() != "END":
            pass
        r = None
    else:
        r = tcp.cmd(w, ack is not None)
    truth = tcp.get("k2")       # after the write, same connection
    now = udp.get("k2")
    check(ok and (ack is None or r == ack) and
          (now[0] if now else None) == (truth[0] if truth else None),
          "%s: acked %r, next UDP get %r (memcached has %r)"
          % (w.split("\r\n")[0], r, now and now[0], truth and truth[0]))

# --- 4. learning from TCP replies ---------------------------------------------
tcp2 = Tcp()                     # a connection followed from its SYN
tcp2.cmd("set k3 7 0 5\r\nhello\r\n")
time.sleep(SETTLE)
s0 = stats()
tcp2.get("k3")                   # "gets" over TCP: learned with its CAS
tcp2.s.sendall(b"get k3\r\n")
tcp2.line(); tcp2.buf = b""
s1 = stats()
vals = [udp.get("k3", "gets") for _ in range(3)]
s2 = stats()
check(s1["learned"] - s0["learned"] >= 1 and
      s2["xdp_hits"] - s1["xdp_hits"] == 3 and
      all(v and v[0] == "hello" and v[1] == 7 for v in vals),
      "a gets reply over TCP is learned; XDP answers UDP gets with its CAS",
      "learned %d, xdp hits %d, %r" % (s1["learned"] - s0["learned"],
                                      s2["xdp_hits"] - s1["xdp_hits"], vals))

# --- 5. expiry ----------------------------------------------------------------
tcp.cmd("set k4 0 2 3\r\nexp\r\n")
time.sleep(SETTLE)
s0 = stats()
udp.get("k4"); udp.get("k4")
s1 = stats()
check(s1["skip_volatile"] - s0["skip_volatile"] >= 1 and
      s1["xdp_hits"] == s0["xdp_hits"],
      "a key set with an expiry is not learned")
time.sleep(2.5)
check(udp.get("k4") is None, "... and is gone when memcached expires it")

# --- 6. concurrent writers and readers ----------------------------------------
KEYS = ["c%d" % i for i in range(4)]
acked = {k: -1 for k in KEYS}
stop = threading.Event()
bad, reads, errors = [], [0], [0]


def writer(key):
    c, v = Tcp(), 0
    while not stop.is_set():
        v += 1
        val = "%s-%d" % (key, v)
        if c.cmd("set %s 0 0 %d\r\n%s\r\n" % (key, len(val), val)) != \
                "STORED":
            errors[0] += 1
        acked[key] = v          # acknowledged: no read may be older now
        # pause now and then past the quarantine, so that XDP gets to
        # learn and serve the key between writes
        time.sleep(SETTLE if random.random() < 0.1 else 0.001)


def version(key, val):
    """The write a value of KEY carries: "KEY-N" is write N; "0", what
    every key holds before its writer's first write, is 0; anything else
    is no value of KEY's (None)."""
    if val == "0":
        return 0
    head, _, n = val.rpartition("-")
    return int(n) if head == key and n.isdigit() else None


def reader():
    u = Udp()
    while not stop.is_set():
        key = random.choice(KEYS)
        floor = acked[key]
        try:
            got = u.get(key)
        except (socket.timeout, AssertionError):
            errors[0] += 1
            continue
        reads[0] += 1
        v = version(key, got[0]) if got else -1
        if v is None or v < floor:
            bad.append((key, floor, got[0] if got else None))


for k in KEYS:
    tcp.cmd("set %s 0 0 1\r\n0\r\n" % k)
s0 = stats()
threads = [threading.Thread(target=writer, args=(k,)) for k in KEYS] + \
    [threading.Thread(target=reader) for _ in range(3)]
for t in threads:
    t.start()
time.sleep(8)
stop.set()
for t in threads:
    t.join()
s1 = stats()
check(not bad and reads[0] > 1000,
      "4 writers (TCP) and 3 readers (UDP) for 8 s: %d reads, %d older than "
      "an acknowledged write" % (reads[0], len(bad)), repr(bad[:5]))
check(s1["xdp_hits"] - s0["xdp_hits"] > 50 and errors[0] == 0,
      "... XDP answered %d of them, %d errors"
      % (s1["xdp_hits"] - s0["xdp_hits"], errors[0]))

print("1..%d" % count)
if failed:
    print("# Looks like you failed %d tests of %d." % (failed, count))
sys.exit(1 if failed else 0)
