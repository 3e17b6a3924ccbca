#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""pyclient.py - pymemcache, a client library we did not write, against
a server: every answer checked.

  pyclient.py [-n GETS] [-c CLIENTS] HOST [PORT]

Sets hot keys (flags 0, values of 1 to 1000 bytes) with -c pymemcache
clients, reads them GETS times with get() (one plain "get KEY" line at a
time: what the TCP fast path answers), gets()/cas(), get_many(), incr()
and append() between, and checks every value. Exits 0 and prints a
summary line, or 1 with what differed.
"""

import argparse
import random
import sys
import time

from pymemcache.client.base import Client


def fail(msg):
    print("pyclient: " + msg, file=sys.stderr)
    sys.exit(1)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("host")
    ap.add_argument("port", nargs="?", type=int, default=11211)
    ap.add_argument("-n", "--gets", type=int, default=4000)
    ap.add_argument("-c", "--clients", type=int, default=4)
    args = ap.parse_args()
    rnd = random.Random(1)
    tag = "py%x" % (int(time.time() * 1000) & 0xffffff)
    clients = [Client((args.host, args.port), connect_timeout=5,
                      timeout=10, no_delay=True)
               for _ in range(args.clients)]
    keys = ["%s:%d" % (tag, i) for i in range(16)]
    model = {}
    for i, k in enumerate(keys):
        v = (b"%d:" % i) + bytes(rnd.choice(b"abcdefgh") for _ in
                                 range(rnd.randint(1, 1000)))
        if not clients[i % len(clients)].set(k, v, noreply=False):
            fail("set %s not stored" % k)
        model[k] = v
    writes = 0
    for n in range(args.gets):
        c = clients[n % len(clients)]
        k = keys[int(len(keys) * rnd.random() ** 2)]
        got = c.get(k)
        if got != model[k]:
            fail("get %s: %r, expected %r" % (k, got, model[k]))
        if n % 97 == 0:
            # a write now and then, on another connection
            w = clients[(n + 1) % len(clients)]
            v = model[k] + b"+%d" % n
            if not w.append(k, b"+%d" % n, noreply=False):
                fail("append %s not stored" % k)
            model[k] = v
            writes += 1
        if n % 151 == 0:
            got, cas = c.gets(k)
            if got != model[k]:
                fail("gets %s: %r, expected %r" % (k, got, model[k]))
            v = b"cas%d" % n
            if not c.cas(k, v, cas, noreply=False):
                fail("cas %s with the CAS gets gave: not stored" % k)
            model[k] = v
            writes += 1
        if n % 211 == 0:
            want = {k: model[k] for k in rnd.sample(keys, 5)}
            got = c.get_many(list(want))
            if got != want:
                fail("get_many: %r, expected %r" % (got, want))
    ctr = tag + ":ctr"
    clients[0].set(ctr, b"10", noreply=False)
    for i in range(50):
        v = clients[i % len(clients)].incr(ctr, 3, noreply=False)
        if v != 13 + 3 * i:
            fail("incr: %r, expected %d" % (v, 13 + 3 * i))
        got = clients[(i + 1) % len(clients)].get(ctr)
        if got != b"%d" % v:
            fail("get after incr: %r, expected %d" % (got, v))
    for c in clients:
        c.close()
    print("pyclient: %d gets of %d hot keys by %d clients, %d writes "
          "between, all values right" % (args.gets, len(keys),
                                          len(clients), writes))
    return 0


if __name__ == "__main__":
    sys.exit(main())
