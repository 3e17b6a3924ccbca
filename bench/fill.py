# SPDX-License-Identifier: GPL-2.0
"""fill.py - fill a memcached-protocol server until it starts evicting.

  /usr/bin/python3 bench/fill.py HOST PORT [--key-size N] [--value-size N]
                                 [--batch N] [--max-items N]

Sends "set" commands with noreply over one TCP connection, in batches;
after each batch asks "stats" (the server answers it after every set
before it) and stops once "evictions" is above 0. Keys are distinct,
exactly --key-size bytes; values --value-size bytes. Prints one JSON
object: the server's limit_maxbytes, curr_items and evictions at that
point, the sets sent, and the overhead per item:

  limit_maxbytes / curr_items - (key size + value size)

that is, every byte of the memory limit not holding a key or a value,
spread over the items that fit. Exit status 0, or 1 when the server
never evicted within --max-items sets or the connection failed.
"""
import argparse
import json
import socket
import sys


def stats(sock, buf):
    """Send "stats", return (dict of its lines, rest of the buffer)."""
    sock.sendall(b"stats\r\n")
    while b"\r\nEND\r\n" not in buf and not buf.startswith(b"END\r\n"):
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("server closed the connection")
        buf += chunk
    if buf.startswith(b"END\r\n"):
        head, rest = b"", buf[5:]
    else:
        head, rest = buf.split(b"\r\nEND\r\n", 1)
    out = {}
    for line in head.split(b"\r\n"):
        parts = line.decode(errors="replace").split(" ", 2)
        if len(parts) == 3 and parts[0] == "STAT":
            out[parts[1]] = parts[2]
        elif line:
            raise ValueError("unexpected reply line: %r" % line)
    return out, rest


def main():
    ap = argparse.ArgumentParser(description="fill a server until eviction")
    ap.add_argument("host")
    ap.add_argument("port", type=int)
    ap.add_argument("--key-size", type=int, default=16)
    ap.add_argument("--value-size", type=int, default=32)
    ap.add_argument("--batch", type=int, default=5000)
    ap.add_argument("--max-items", type=int, default=50000000)
    a = ap.parse_args()
    if a.key_size < 8 or a.key_size > 250:
        ap.error("--key-size must be 8..250")

    value = b"v" * a.value_size
    sock = socket.create_connection((a.host, a.port), timeout=30)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    buf = b""
    sent = 0
    st = {}
    width = a.key_size - 2
    while sent < a.max_items:
        cmds = []
        for i in range(sent, sent + a.batch):
            key = b"k:" + str(i).zfill(width).encode()
            cmds.append(b"set %s 0 0 %d noreply\r\n%s\r\n" %
                        (key, a.value_size, value))
        sock.sendall(b"".join(cmds))
        sent += a.batch
        st, buf = stats(sock, buf)
        if int(st.get("evictions", "0")) > 0:
            break
    sock.close()
    items = int(st.get("curr_items", "0"))
    limit = int(st.get("limit_maxbytes", "0"))
    res = {
        "key_size": a.key_size,
        "value_size": a.value_size,
        "sets": sent,
        "limit_maxbytes": limit,
        "curr_items": items,
        "evictions": int(st.get("evictions", "0")),
        "bytes": int(st.get("bytes", "0")),
        "overhead_per_item": (limit / items - a.key_size - a.value_size)
        if items else None,
    }
    print(json.dumps(res))
    return 0 if res["evictions"] > 0 and items > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
