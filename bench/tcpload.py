# SPDX-License-Identifier: GPL-2.0
"""tcpload.py - server CPU per GET under a third-party load generator.

  /usr/bin/python3 bench/tcpload.py --netns NAME --server ADDR:PORT
      [-d SECONDS] [-W SECONDS] [-c CONNS] [-T THREADS] [-w WINDOW]
      [-K KEY_SIZE] [-V VALUE_SIZE] [--cgroup DIR] [--log FILE]
      [--udp] [--allow-misses] [--stats-cmd CMD]

The measurement issue 10's goal is judged by: a GET-only load of hot keys
from a TCP load generator we did not write, with CONNS connections (16),
one single-key request in flight on each (no pipelining) and KEY_SIZE-byte
keys (64), and the server side's CPU time per GET: the whole machine's
busy CPU time (/proc/stat: user + nice + system + irq + softirq, every
CPU) minus the client process's own (/proc/PID/stat utime + stime, every
thread), over the GETs done in the same window.

The generator is Debian's memcaslap (libmemcached-tools), unmodified,
started in network namespace NAME (nsenter --net) as

  stdbuf -oL memcaslap -s ADDR:PORT -F CFG -T THREADS -c CONNS -w WINDOW
                       -t (W + D)s -S 1s -v 1

with CFG giving KEY_SIZE-byte keys, VALUE_SIZE-byte values and GETs only.
What it does with that (its source, ms_task.c and ms_conn.c): each of the
CONNS connections owns WINDOW keys of its own (WINDOW >= 1024, a multiple
of 1024) and first stores all of them ("warm-up", counted as cmd_set);
then it sends one single-key "get" at a time and waits for its reply
before the next (no pipelining), for a key drawn uniformly from its
window, and checks the value (-v 1: every GET). So the key set, CONNS x
WINDOW keys, is preloaded and every GET should hit.

--udp adds memcaslap's -U: every request, the preloading sets included,
goes in one datagram with memcached's 8-byte UDP frame header (request id,
sequence, count), one in flight per connection ("concurrency"); memcaslap
matches replies by request id, counts a reply without a value as a miss
(Get_miss) and checks the value of each hit (-v 1). Its own counters
packet_drop, packet_disorder and udp_timeout go into "totals" too.
--allow-misses: misses are expected (a server that answers every GET with
END, the floor) and do not fail the run. --stats-cmd CMD: a shell command
printing JSON (e.g. "xkv stats -j IFACE" in the server namespace) run at
both ends of the window, its output kept as stats_before / stats_after.

-S 1s makes it print cumulative GET counts once a second (stdbuf -oL
gets each line to us as it is printed); the window is from the report at
second W (warm: its connections are already in their GET loop) to the
one at second W + D, and at each of those two reports this script reads
/proc/stat, the client's /proc/PID/stat and, with --cgroup, that cgroup's
CPU time and the ksoftirqd threads' (as xkv-bench does: everything the
caller started, without other work on the machine).

Prints one JSON object (below); exit status 0 when the run completed, the
window holds GETs, and memcaslap saw no miss and no wrong value; 1
otherwise (the JSON then says why in "error"); 2 on bad arguments.

  gets, duration_s, gets_per_sec    in the window
  cpu.busy_ticks, cpu.hz            the machine's busy time in the window
  cpu.client_ticks, cpu.client_s    the client process's
  cpu.cgroup_s, cpu.ksoftirqd_s     with --cgroup
  server_us_per_get                 (busy - client) / gets
  ours_us_per_get                   (cgroup + ksoftirqd - client) / gets
  client_us_per_get                 client / gets
  totals                            memcaslap's own end-of-run counters:
                                    cmd_get, cmd_set, get_misses,
                                    verify_misses, verify_failed
"""
import argparse
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time

GLOBAL = re.compile(r"^Global\s+(\d+)\s+(\d+)\s+\S+\s+\S+\s+(\d+)")
TOTAL = re.compile(r"^(cmd_get|cmd_set|get_misses|verify_misses|"
                   r"verify_failed|packet_drop|packet_disorder|"
                   r"udp_timeout): (\d+)$")


def busy_ticks():
    """(busy, total) ticks of /proc/stat's "cpu" line."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:9]]
    # user nice system idle iowait irq softirq steal
    return v[0] + v[1] + v[2] + v[5] + v[6], sum(v)


def proc_ticks(pid):
    """utime + stime of a process (every thread), in ticks."""
    with open("/proc/%d/stat" % pid) as f:
        s = f.read()
    fields = s[s.rindex(")") + 2:].split()
    # fields[0] is field 3 (state); utime, stime are fields 14, 15
    return int(fields[11]) + int(fields[12])


def cgroup_s(d):
    """A cgroup's CPU seconds: v1 cpuacct.usage, else v2 cpu.stat."""
    p = os.path.join(d, "cpuacct.usage")
    if os.path.exists(p):
        with open(p) as f:
            return int(f.read()) / 1e9
    with open(os.path.join(d, "cpu.stat")) as f:
        for line in f:
            k, v = line.split()
            if k == "usage_usec":
                return int(v) / 1e6
    raise OSError("no usage_usec in %s/cpu.stat" % d)


def ksoftirqd_ticks():
    total = 0
    for e in os.listdir("/proc"):
        if not e.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % e) as f:
                s = f.read()
        except OSError:
            continue
        if "(ksoftirqd/" not in s:
            continue
        fields = s[s.rindex(")") + 2:].split()
        total += int(fields[11]) + int(fields[12])
    return total


def sample(pid, cg):
    busy, total = busy_ticks()
    s = {"t": time.monotonic(), "busy": busy, "total": total,
         "client": proc_ticks(pid)}
    if cg:
        s["cgroup_s"] = cgroup_s(cg)
        s["ksirq"] = ksoftirqd_ticks()
    return s


def run_stats(cmd):
    """The JSON a --stats-cmd printed, or None."""
    try:
        r = subprocess.run(cmd, shell=True, capture_output=True, text=True,
                           timeout=10)
        return json.loads(r.stdout)
    except (subprocess.SubprocessError, ValueError):
        return None


def on_term(signum, frame):
    # timeout(1) around us: unwind, so that memcaslap is killed too
    raise SystemExit(1)


def main():
    ap = argparse.ArgumentParser(
        description="server CPU per GET under memcaslap (TCP or UDP)")
    ap.add_argument("--netns", required=True,
                    help="network namespace to run the client in")
    ap.add_argument("--server", required=True, help="ADDR:PORT")
    ap.add_argument("-d", type=int, default=5, dest="duration",
                    help="measured seconds (default 5)")
    ap.add_argument("-W", type=int, default=1, dest="warm",
                    help="seconds of GETs before the window (default 1)")
    ap.add_argument("-c", type=int, default=16, dest="conns",
                    help="connections (default 16)")
    ap.add_argument("-T", type=int, default=1, dest="threads",
                    help="client threads (default 1)")
    ap.add_argument("-w", type=int, default=1024, dest="window",
                    help="keys per connection, a multiple of 1024")
    ap.add_argument("-K", type=int, default=64, dest="key_size")
    ap.add_argument("-V", type=int, default=32, dest="value_size")
    ap.add_argument("--cgroup", help="cgroup directory whose CPU to read")
    ap.add_argument("--log", help="memcaslap's whole output goes here")
    ap.add_argument("--udp", action="store_true",
                    help="memcaslap -U: requests and replies over UDP")
    ap.add_argument("--allow-misses", action="store_true",
                    help="misses do not fail the run (the floor)")
    ap.add_argument("--stats-cmd",
                    help="shell command printing JSON, run at both ends "
                         "of the window")
    a = ap.parse_args()
    if (a.window < 1024 or a.window % 1024 or a.duration < 1 or
            a.warm < 1 or a.conns % a.threads or a.key_size < 16):
        print("tcpload: -w must be a multiple of 1024, -d and -W >= 1, "
              "-c a multiple of -T, -K >= 16", file=sys.stderr)
        return 2

    cfg = tempfile.NamedTemporaryFile("w", prefix="tcpload-",
                                      suffix=".cnf", delete=False)
    # key: min max proportion; value: the same; cmd: type (0 set,
    # 1 get) proportion
    cfg.write("key\n%d %d 1\nvalue\n%d %d 1\ncmd\n0 0\n1 1\n" % (
        a.key_size, a.key_size, a.value_size, a.value_size))
    cfg.close()
    run_s = a.warm + a.duration
    cmd = ["memcaslap", "-s", a.server, "-F", cfg.name, "-T",
           str(a.threads), "-c", str(a.conns), "-w", "%dk" % (a.window //
                                                              1024),
           "-t", "%ds" % run_s, "-S", "1s", "-v", "1"]
    if a.udp:
        cmd.append("-U")
    out = {"client": "memcaslap", "command": " ".join(cmd[:3] + [
        "CFG"] + cmd[4:]), "config": "key %d, value %d, GETs only" % (
        a.key_size, a.value_size), "connections": a.conns,
        "threads": a.threads, "key_size": a.key_size,
        "value_size": a.value_size, "keys": a.conns * a.window,
        "warm_s": a.warm, "window_s": a.duration,
        "proto": "udp" if a.udp else "tcp"}
    log = open(a.log, "w") if a.log else None
    p = subprocess.Popen(["nsenter", "--net=/var/run/netns/" + a.netns,
                          "stdbuf", "-oL"] + cmd,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         text=True, errors="replace")
    signal.signal(signal.SIGTERM, on_term)
    deadline = time.monotonic() + run_s + 60
    section = None
    s0 = s1 = None
    ops = {}
    misses = {}
    totals = {}
    err = None
    done = False
    try:
        for line in p.stdout:
            if log:
                log.write(line)
            line = line.replace("\033[1;1H\033[2J", "").rstrip("\n")
            if line.endswith("Statistics"):
                section = line.split()[0]
                continue
            m = GLOBAL.match(line)
            if m and section == "Get":
                sec = int(m.group(1))
                if sec in (a.warm, run_s):
                    s = sample(p.pid, a.cgroup)
                    if a.stats_cmd:
                        key = ("stats_before" if sec == a.warm else
                               "stats_after")
                        out[key] = run_stats(a.stats_cmd)
                    if sec == a.warm:
                        s0 = s
                    else:
                        s1 = s
                ops[sec] = int(m.group(2))
                misses[sec] = int(m.group(3))
                continue
            m = TOTAL.match(line)
            if m:
                totals[m.group(1)] = int(m.group(2))
            if time.monotonic() > deadline:
                err = "memcaslap ran past its time"
                break
        done = True
    finally:
        if p.poll() is None and (err or not done):
            p.kill()
        rc = p.wait()
        if log:
            log.close()
        os.unlink(cfg.name)
    out["rc"] = rc
    out["totals"] = totals
    if not err and rc != 0:
        err = "memcaslap exited with %d" % rc
    if not err and (s0 is None or s1 is None):
        err = ("no GET report at second %d and %d (memcaslap prints one "
               "only while every connection is up)" % (a.warm, run_s))
    if s0 and s1:
        gets = ops[run_s] - ops[a.warm]
        dt = s1["t"] - s0["t"]
        hz = os.sysconf("SC_CLK_TCK")
        busy = s1["busy"] - s0["busy"]
        client = s1["client"] - s0["client"]
        out.update({"gets": gets, "duration_s": round(dt, 4),
                    "gets_per_sec": gets / dt if dt > 0 else 0,
                    "get_misses": misses[run_s] - misses[a.warm]})
        cpu = {"hz": hz, "busy_ticks": busy,
               "total_ticks": s1["total"] - s0["total"],
               "client_ticks": client, "client_s": client / hz}
        if gets > 0:
            out["server_us_per_get"] = (busy - client) / hz / gets * 1e6
            out["client_us_per_get"] = client / hz / gets * 1e6
        if a.cgroup:
            cpu["cgroup_s"] = s1["cgroup_s"] - s0["cgroup_s"]
            cpu["ksoftirqd_s"] = (s1["ksirq"] - s0["ksirq"]) / hz
            if gets > 0:
                out["ours_us_per_get"] = (cpu["cgroup_s"] +
                                          cpu["ksoftirqd_s"] -
                                          client / hz) / gets * 1e6
        out["cpu"] = cpu
        if not err and gets <= 0:
            err = "no GET in the window"
    if not err:
        for k in ("cmd_get", "get_misses", "verify_misses",
                  "verify_failed"):
            if k not in totals:
                err = "memcaslap did not report %s" % k
                break
    if not err and totals["cmd_get"] <= 0:
        err = "memcaslap did no GET"
    if not err and totals["verify_failed"]:
        err = "memcaslap saw %d wrong values" % totals["verify_failed"]
    if not err and not a.allow_misses and (totals["get_misses"] or
                                           totals["verify_misses"]):
        err = "memcaslap saw %d misses, %d verify misses" % (
            totals["get_misses"], totals["verify_misses"])
    if not err and totals.get("cmd_set") != a.conns * a.window:
        err = "memcaslap preloaded %s keys, not %d" % (
            totals.get("cmd_set"), a.conns * a.window)
    out["ok"] = err is None
    if err:
        out["error"] = err
    print(json.dumps(out))
    return 0 if err is None else 1


if __name__ == "__main__":
    sys.exit(main())
