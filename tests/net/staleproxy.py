#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""staleproxy.py - a broken "fast path", to show stream.py catches one.

  staleproxy.py [-t SECONDS] LISTEN_PORT HOST PORT

Relays every connection made to 127.0.0.1:LISTEN_PORT to HOST:PORT,
except that a read that is exactly one "get KEY" line is answered from
the proxy's own cache once KEY is in it, the way the fast path answers
a hit. The cache is filled from a side connection and never updated, so
what it serves may be older than a write acknowledged since (and, on a
connection with replies still owed, overtake them).

Exits after -t SECONDS (default 60), or when killed. It closes every
file descriptor it inherited but stdin, stdout and stderr, so a lock its
starter holds (flock(1)) is never kept by it. Standard library only.
"""

import argparse
import os
import socket
import sys
import threading
import time


def read_reply(sock, buf):
    """One get reply (VALUE blocks, END) from @sock; @buf holds what was
    already read. Returns (reply, rest)."""
    pos = 0
    while True:
        nl = buf.find(b"\r\n", pos)
        if nl >= 0:
            line = buf[pos:nl]
            if line == b"END":
                return buf[:nl + 2], buf[nl + 2:]
            if line.startswith(b"VALUE "):
                end = nl + 2 + int(line.split(b" ")[3]) + 2
                if len(buf) >= end:
                    pos = end
                    continue
            elif line:
                raise ValueError("not a get reply: %r" % line[:80])
        data = sock.recv(65536)
        if not data:
            raise EOFError("side connection closed")
        buf += data


class Proxy:
    def __init__(self, args):
        self.args = args
        self.cache = {}
        self.lock = threading.Lock()

    def fill(self, key):
        """The server's reply to "get KEY", now, into the cache."""
        with socket.create_connection((self.args.host, self.args.port)) as s:
            s.sendall(b"get " + key + b"\r\n")
            reply, _ = read_reply(s, b"")
        with self.lock:
            self.cache.setdefault(key, reply)

    def serve(self, client):
        up = socket.create_connection((self.args.host, self.args.port))
        send_lock = threading.Lock()

        def upstream():
            try:
                while True:
                    data = up.recv(65536)
                    if not data:
                        break
                    with send_lock:
                        client.sendall(data)
            except OSError:
                pass
            client.close()

        threading.Thread(target=upstream, daemon=True).start()
        try:
            while True:
                data = client.recv(65536)
                if not data:
                    break
                words = data.split(b" ")
                if (len(words) == 2 and words[0] == b"get" and
                        data.endswith(b"\r\n") and data.count(b"\n") == 1):
                    key = words[1][:-2]
                    with self.lock:
                        hit = self.cache.get(key)
                    if hit is not None:
                        with send_lock:
                            client.sendall(hit)
                        continue
                    self.fill(key)
                up.sendall(data)
        except (OSError, ValueError, EOFError):
            pass
        up.close()

    def run(self):
        end = time.monotonic() + self.args.lifetime
        ls = socket.socket()
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        ls.bind(("127.0.0.1", self.args.listen))
        ls.listen(64)
        ls.settimeout(0.5)
        while time.monotonic() < end:
            try:
                c, _ = ls.accept()
            except socket.timeout:
                continue
            c.settimeout(None)
            threading.Thread(target=self.serve, args=(c,),
                             daemon=True).start()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("-t", "--lifetime", type=float, default=60)
    ap.add_argument("listen", type=int)
    ap.add_argument("host")
    ap.add_argument("port", type=int)
    args = ap.parse_args()
    os.closerange(3, os.sysconf("SC_OPEN_MAX"))
    Proxy(args).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
