# SPDX-License-Identifier: GPL-2.0
"""report.py - turn what bench/compare measured into tables.

  /usr/bin/python3 bench/report.py [--check] [--md FILE] [--plot-data FILE]
                                   WORKDIR

WORKDIR holds compare's raw results: meta.json (machine, settings,
commands), runs.jsonl (one xkv-bench run per line, with the hot tier's
counters before and after), memory.jsonl (bench/fill.py), xdpcost.json,
hotsim.jsonl, tcpload.jsonl (bench/tcpload.py: memcaslap over TCP, one
line per run), udpload.jsonl (bench/tcpload.py --udp: memcaslap -U, with
the hot tier's counters at both ends of the window) and, from a full run, vm.jsonl (bench/vmbench.sh: xkv.ko and
xkvd in a qemu TCG guest) or vm-skip.txt (why not). Prints the comparison
tables (medians over the rounds, ratios against memcached) and the
targets of issues 5 and 10 on stdout; after "bench/compare --tcp-only",
only the memcaslap table and its target.

  --check      exit 1 unless every configuration has a run that completed
               with every value verified (learning mode may be "not
               available"), and the memory, XDP-cost and hotsim results
               are all there (after --tcp-only: the memcaslap rows only)
  --md FILE    also write the report as Markdown (bench/RESULTS.md)
  --plot-data FILE  write the numbers bench/results.gp draws
"""
import argparse
import json
import os
import statistics
import sys

# (config, protocol) rows in the order printed
ROWS = [
    ("memcached", "udp"), ("memcached", "tcp"),
    ("xkvd", "udp"), ("xkvd", "tcp"),
    ("xkvd+xdp", "udp"), ("xkvd+xdp-miss", "udp"), ("xkvd+xdp-all", "udp"),
    ("memcached+learn", "udp"), ("floor", "udp"),
    ("xkvd+xdp-srvcpu", "udp"), ("floor-srvcpu", "udp"),
]
# the rows with XDP on the server's CPU, and the floor each is judged by
SRVCPU_FLOOR = {"xkvd+xdp-srvcpu": "floor-srvcpu"}
LABEL = {
    "memcached": "memcached",
    "xkvd": "xkvd",
    "xkvd+xdp": "xkvd + XDP tier",
    "xkvd+xdp-miss": "xkvd + XDP tier, no hit possible",
    "xkvd+xdp-all": "xkvd + XDP tier, every key fits",
    "memcached+learn": "memcached + XDP learning",
    "floor": "floor (XDP answers END)",
    "xkvd+xdp-srvcpu": "xkvd + XDP tier, XDP on the server's CPU",
    "floor-srvcpu": "floor, XDP on the server's CPU",
}


# the memcaslap rows (bench/tcpload.py), in the order printed
TCP_ROWS = ["tcp-memcached", "tcp-xkvd", "tcp-xkv-up"]
TCP_LABEL = {
    "tcp-memcached": "memcached",
    "tcp-xkvd": "xkvd (no XDP)",
    "tcp-xkv-up": "xkv up (xkvd behind XDP)",
}

# the memcaslap -U rows (bench/tcpload.py --udp), in the order printed
UDP_ROWS = ["udp-memcached", "udp-xkvd", "udp-xdp", "udp-floor",
            "udp-xdp-srvcpu", "udp-floor-srvcpu"]
UDP_LABEL = {
    "udp-memcached": "memcached",
    "udp-xkvd": "xkvd",
    "udp-xdp": "xkvd + XDP tier",
    "udp-floor": "floor (XDP answers END)",
    "udp-xdp-srvcpu": "xkvd + XDP tier, XDP on the server's CPU",
    "udp-floor-srvcpu": "floor, XDP on the server's CPU",
}
# the floor each memcaslap -U row is judged by (none for the floors)
UDP_FLOOR = {"udp-memcached": "udp-floor", "udp-xkvd": "udp-floor",
             "udp-xdp": "udp-floor", "udp-xdp-srvcpu": "udp-floor-srvcpu"}
# the memcaslap -U rows with XDP on the server's CPU: their "ours" leaves
# out the NAPI thread, so no above floor is given from it
UDP_SRVCPU = ("udp-xdp-srvcpu", "udp-floor-srvcpu")


def load_lines(path):
    out = []
    if os.path.exists(path):
        with open(path) as f:
            for line in f:
                line = line.strip()
                if line:
                    out.append(json.loads(line))
    return out


def load_json(path):
    if not os.path.exists(path) or os.path.getsize(path) == 0:
        return None
    with open(path) as f:
        return json.load(f)


def verified(run):
    b = run.get("bench")
    return (run.get("status") == "ok" and b is not None and
            b.get("bad_values") == 0 and b.get("proto_errors") == 0 and
            b.get("gets", 0) > 0)


def live_ideal(meta, cfg):
    """The ideal hit ratio of a live row, or None when not known.

    A hot slot holds many entries (bpf/HOTCACHE.md), so the ideal is not
    the slots-many hottest keys: bench/compare asks hotsim for its ideal
    (the slots' bytes holding the keys with the most requests per byte)
    and keeps it in meta.json. Learning mode's slots hold many entries
    too: the same ideal.
    """
    ideal = meta.get("hot_ideal") or {}
    return ideal.get("slots_all" if cfg == "xkvd+xdp-all" else "slots")


def spread(vals):
    """(median, min, max) or None."""
    if not vals:
        return None
    return (statistics.median(vals), min(vals), max(vals))


class Row:
    """The medians of one (config, protocol) over its verified rounds."""

    def __init__(self, cfg, proto, runs, meta):
        self.cfg = cfg
        self.proto = proto
        self.runs = [r for r in runs if r["config"] == cfg and
                     r["proto"] == proto]
        self.ok = [r for r in self.runs if verified(r)]
        self.status = (self.runs[0]["status"] if self.runs and not self.ok
                       else ("ok" if self.ok else "not run"))
        self.modes = sorted({r["mode"] for r in self.ok if r["mode"] != "-"})
        b = [r["bench"] for r in self.ok]
        self.gets = spread([x["gets"] / x["duration_s"] for x in b])
        self.p50 = spread([x["latency_us"]["p50"] for x in b])
        self.p99 = spread([x["latency_us"]["p99"] for x in b])
        self.p999 = spread([x["latency_us"]["p999"] for x in b])
        self.timeouts = sum(x["timeouts"] for x in b)
        self.cpu = spread([x["cpu"]["busy_ticks"] / x["cpu"]["hz"] /
                           x["gets"] * 1e6 for x in b if "cpu" in x])
        self.client = spread([x["cpu"]["client_s"] / x["gets"] * 1e6
                              for x in b if "cpu" in x])
        self.ours = spread([(x["cpu"]["cgroup_s"] + x["cpu"]["ksoftirqd_s"])
                            / x["gets"] * 1e6 for x in b
                            if "cgroup_s" in x.get("cpu", {})])
        # the server side alone: the same minus the client process's CPU
        self.srv_cpu = spread([
            (x["cpu"]["busy_ticks"] / x["cpu"]["hz"] - x["cpu"]["client_s"])
            / x["gets"] * 1e6 for x in b if "cpu" in x])
        self.srv_ours = spread([
            (x["cpu"]["cgroup_s"] + x["cpu"]["ksoftirqd_s"] -
             x["cpu"]["client_s"]) / x["gets"] * 1e6 for x in b
            if "cgroup_s" in x.get("cpu", {})])
        hr = []
        for r in self.ok:
            x0, x1 = r.get("xdp_before"), r.get("xdp_after")
            if not x0 or not x1:
                continue
            h = x1["hits"] - x0["hits"]
            m = x1["misses"] - x0["misses"]
            q = x1.get("requests", 0) - x0.get("requests", 0)
            if h + m > 0:
                hr.append(h / (h + m))
            elif q > 0:
                # no hit possible: hits are 0 and misses may be too
                hr.append(h / q)
        self.hit = spread(hr)
        self.slots = meta.get("slots_all" if cfg == "xkvd+xdp-all"
                              else "slots", 0)
        self.ideal = None
        if self.hit is not None and cfg != "xkvd+xdp-miss":
            self.ideal = live_ideal(meta, cfg)

    def med(self, attr):
        v = getattr(self, attr)
        return v[0] if v else None


class TcpRow:
    """The medians of one memcaslap configuration over its rounds."""

    def __init__(self, cfg, runs):
        self.cfg = cfg
        self.runs = [r for r in runs if r["config"] == cfg]
        self.ok = [r for r in self.runs if r.get("status") == "ok" and
                   (r.get("result") or {}).get("ok")]
        self.status = (self.runs[0]["status"] if self.runs and not self.ok
                       else ("ok" if self.ok else "not run"))
        res = [r["result"] for r in self.ok]
        self.gets = spread([x["gets_per_sec"] for x in res])
        self.server = spread([x["server_us_per_get"] for x in res])
        self.ours = spread([x["ours_us_per_get"] for x in res
                            if "ours_us_per_get" in x])
        self.client = spread([x["client_us_per_get"] for x in res])
        # the machine's busy time that is not ours (other work), as a
        # share of all its CPU time in the window
        self.other = spread([
            (x["cpu"]["busy_ticks"] / x["cpu"]["hz"] - x["cpu"]["cgroup_s"] -
             x["cpu"]["ksoftirqd_s"]) / (x["cpu"]["total_ticks"] /
                                         x["cpu"]["hz"])
            for x in res if "cgroup_s" in x["cpu"] and
            x["cpu"]["total_ticks"] > 0])

    def med(self, attr):
        v = getattr(self, attr)
        return v[0] if v else None


class UdpRow(TcpRow):
    """A memcaslap -U configuration: TcpRow's figures, the machine's and
    our CPU per GET client included, and the hot tier's hit ratio."""

    def __init__(self, cfg, runs):
        super().__init__(cfg, runs)
        res = [r["result"] for r in self.ok]
        self.cpu = spread([x["cpu"]["busy_ticks"] / x["cpu"]["hz"] /
                           x["gets"] * 1e6 for x in res])
        self.ours_all = spread([
            (x["cpu"]["cgroup_s"] + x["cpu"]["ksoftirqd_s"]) / x["gets"] *
            1e6 for x in res if "cgroup_s" in x["cpu"]])
        hr = []
        drops = 0
        for x in res:
            t = x.get("totals") or {}
            drops += t.get("udp_timeout", 0) + t.get("packet_drop", 0)
            x0, x1 = x.get("stats_before"), x.get("stats_after")
            if not x0 or not x1:
                continue
            x0, x1 = x0[0], x1[0]
            h = x1["hits"] - x0["hits"]
            m = x1["misses"] - x0["misses"]
            if h + m > 0:
                hr.append(h / (h + m))
        self.hit = spread(hr)
        self.drops = drops
        self.misses = sum(x.get("get_misses", 0) for x in res)


def known(d, *names):
    """The values of @names in record @d, "?" for one it lacks, a tuple."""
    return tuple(d.get(n, "?") for n in names)


def fmt(v, f="%.0f", none="-"):
    return none if v is None else f % v


def ratio(a, b):
    if a is None or b is None or b == 0:
        return None
    return a / b


def noise(sp):
    """Spread of a (median, min, max) as +-% of the median."""
    if not sp or sp[0] == 0:
        return None
    return 100.0 * (sp[2] - sp[1]) / 2 / sp[0]


def build(work):
    meta = load_json(os.path.join(work, "meta.json")) or {}
    runs = load_lines(os.path.join(work, "runs.jsonl"))
    rows = {(c, p): Row(c, p, runs, meta) for c, p in ROWS}
    mem = {m["server"]: m for m in
           load_lines(os.path.join(work, "memory.jsonl"))}
    cost = load_json(os.path.join(work, "xdpcost.json"))
    if cost is not None:
        cost["spread"] = load_lines(os.path.join(work, "xdpspread.jsonl"))
    hot = load_lines(os.path.join(work, "hotsim.jsonl"))
    tcp = load_lines(os.path.join(work, "tcpload.jsonl"))
    rows.update({c: TcpRow(c, tcp) for c in TCP_ROWS})
    udp = load_lines(os.path.join(work, "udpload.jsonl"))
    rows.update({c: UdpRow(c, udp) for c in UDP_ROWS})
    return meta, rows, mem, cost, hot


def main_table(meta, rows):
    """Lines of the comparison table (Markdown)."""
    mc = {p: rows[("memcached", p)] for p in ("udp", "tcp")}
    floor = rows[("floor", "udp")]
    floor_cpu = floor.med("cpu")
    floor_ours = floor.med("ours")
    mc_above = mc_above_o = None
    if mc["udp"].med("cpu") is not None and floor_cpu is not None:
        mc_above = mc["udp"].med("cpu") - floor_cpu
    if mc["udp"].med("ours") is not None and floor_ours is not None:
        mc_above_o = mc["udp"].med("ours") - floor_ours
    out = [
        "| configuration | proto | GET/s | vs memcached | p50 us | p99 us "
        "| p99.9 us | hot-tier hits (ideal) | CPU us/GET (machine) "
        "| above floor | vs memcached | CPU us/GET (ours) | above floor "
        "| vs memcached | runs |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:"
        "|---:|---|",
    ]
    for c, p in ROWS:
        r = rows[(c, p)]
        if meta.get("rows") and r.status == "not run":
            continue
        name = LABEL[c]
        if r.modes:
            name += " (%s)" % "/".join(r.modes)
        if not r.ok:
            out.append("| %s | %s | %s | | | | | | | | | | | | |" %
                       (name, p, r.status))
            continue
        above = above_o = None
        f_cpu, f_ours = floor_cpu, floor_ours
        if c in SRVCPU_FLOOR:
            # its own floor; "ours" misses the NAPI thread (compare -h)
            f_cpu, f_ours = rows[(SRVCPU_FLOOR[c], "udp")].med("cpu"), None
        if (p == "udp" and f_cpu is not None and
                not r.cfg.startswith("floor")):
            above = r.med("cpu") - f_cpu
        if (p == "udp" and f_ours is not None and
                not r.cfg.startswith("floor") and r.med("ours") is not None):
            above_o = r.med("ours") - f_ours
        hit = "-"
        if r.hit and r.ideal is None:
            hit = "%.1f%% (none possible)" % (100 * r.hit[0])
        elif r.hit:
            hit = "%.1f%% (%.1f%%)" % (100 * r.hit[0], 100 * r.ideal)
        out.append(
            "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s "
            "| %s | %s | %d%s |" % (
                name, p, fmt(r.med("gets")),
                fmt(ratio(r.med("gets"), mc[p].med("gets")), "%.2fx"),
                fmt(r.med("p50"), "%.1f"), fmt(r.med("p99"), "%.1f"),
                fmt(r.med("p999"), "%.1f"), hit,
                fmt(r.med("cpu"), "%.2f"), fmt(above, "%.2f"),
                fmt(ratio(above, mc_above), "%.2fx"),
                fmt(r.med("ours"), "%.2f"), fmt(above_o, "%.2f"),
                fmt(ratio(above_o, mc_above_o), "%.2fx"), len(r.ok),
                "" if len(r.ok) == len(r.runs) else
                " of %d" % len(r.runs)))
    return out


def tcp_label(meta, c):
    name = TCP_LABEL[c]
    if c == "tcp-xkv-up":
        name += (", TCP fast path on" if (meta.get("tcp") or {}).get(
            "fast_path") == "yes" else ", no TCP fast path in this tree")
    return name


def tcp_table(meta, rows):
    """Lines of the memcaslap table (Markdown)."""
    mc = rows["tcp-memcached"]
    out = [
        "| configuration | GET/s | vs memcached | server CPU us/GET "
        "(machine - client) | vs memcached | server CPU us/GET "
        "(ours - client) | vs memcached | client us/GET | other work "
        "| GET/s min-max | server us/GET min-max | runs |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---|---:|",
    ]
    for c in TCP_ROWS:
        r = rows[c]
        if not r.ok:
            out.append("| %s | %s | | | | | | | | | | |" % (
                tcp_label(meta, c), r.status))
            continue
        out.append("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s-%s "
                   "| %s-%s | %d%s |" % (
                       tcp_label(meta, c), fmt(r.med("gets")),
                       fmt(ratio(r.med("gets"), mc.med("gets")), "%.2fx"),
                       fmt(r.med("server"), "%.2f"),
                       fmt(ratio(r.med("server"), mc.med("server")),
                           "%.2fx"),
                       fmt(r.med("ours"), "%.2f"),
                       fmt(ratio(r.med("ours"), mc.med("ours")), "%.2fx"),
                       fmt(r.med("client"), "%.2f"),
                       fmt(r.other and 100 * r.other[0], "%.0f%%"),
                       fmt(r.gets[1]), fmt(r.gets[2]),
                       fmt(r.server[1], "%.2f"), fmt(r.server[2], "%.2f"),
                       len(r.ok), "" if len(r.ok) == len(r.runs) else
                       " of %d" % len(r.runs)))
    return out


def tcp_target(meta, rows):
    """Issue 10's target, or None when a row it needs did not run."""
    mc, x = rows["tcp-memcached"], rows["tcp-xkv-up"]
    if not (mc.ok and x.ok) or not mc.med("server"):
        return None
    r = x.med("server") / mc.med("server")
    g = x.med("gets") / mc.med("gets")
    t = meta.get("tcp") or {}
    return ("TCP fast path (issue 10): server CPU/GET <= 0.5x memcached's "
            "and GET/s >= memcached's (memcaslap, %s connections, no "
            "pipelining, %s-byte keys; xkv up; CPU: machine - client)" % (
                t.get("connections", "?"), t.get("key_size", "?")),
            "%.2f us vs %.2f us = %.2fx; %.0f vs %.0f GET/s = %.2fx" % (
                x.med("server"), mc.med("server"), r, x.med("gets"),
                mc.med("gets"), g),
            r <= 0.5 and g >= 1.0)


def udp_table(meta, rows):
    """Lines of the memcaslap -U table (Markdown)."""
    keys = ("cpu", "ours_all", "server")

    def floor_of(c):
        f = rows.get(UDP_FLOOR.get(c))
        return {k: (f.med(k) if f is not None and f.ok else None)
                for k in keys}

    mc = rows["udp-memcached"]
    mc_base = floor_of("udp-memcached")
    mc_above = {k: (mc.med(k) - mc_base[k] if mc.ok and mc_base[k]
                    is not None and mc.med(k) is not None else None)
                for k in keys}
    out = [
        "| configuration | GET/s | vs memcached | vs floor "
        "| CPU us/GET (machine) | above floor | vs memcached "
        "| CPU us/GET (ours) | above floor | vs memcached "
        "| server CPU us/GET (machine - client) | above floor "
        "| vs memcached | client us/GET | hot-tier hits | GET misses "
        "(memcaslap) | GET/s min-max | machine us/GET min-max | runs |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:"
        "|---:|---:|---:|---|---|---:|",
    ]
    for c in UDP_ROWS:
        r = rows[c]
        if r.status == "not run" and (meta.get("rows") or
                                      c in UDP_SRVCPU):
            continue
        if not r.ok:
            out.append("| %s | %s |%s" % (UDP_LABEL[c], r.status,
                                           " |" * 17))
            continue
        base = floor_of(c)
        fl = rows.get(UDP_FLOOR.get(c, c))
        cells = []
        for k in keys:
            v = r.med(k)
            above = (v - base[k] if v is not None and base[k] is not None
                     and not (k == "ours_all" and c in UDP_SRVCPU)
                     else None)
            cells += [fmt(v, "%.2f"), fmt(above, "%.2f"),
                      fmt(ratio(above, mc_above[k]), "%.2fx")]
        out.append("| %s | %s | %s | %s | %s | %s | %s | %s | %s-%s "
                   "| %s-%s | %d%s |" % (
                       UDP_LABEL[c], fmt(r.med("gets")),
                       fmt(ratio(r.med("gets"), mc.med("gets")), "%.2fx"),
                       fmt(ratio(r.med("gets"), fl.med("gets")
                                 if fl.ok else None), "%.3fx"),
                       " | ".join(cells), fmt(r.med("client"), "%.2f"),
                       fmt(r.hit and 100 * r.hit[0], "%.1f%%"),
                       r.misses, fmt(r.gets[1]), fmt(r.gets[2]),
                       fmt(r.cpu[1], "%.2f"), fmt(r.cpu[2], "%.2f"),
                       len(r.ok), "" if len(r.ok) == len(r.runs) else
                       " of %d" % len(r.runs)))
    return out


def udp_targets(rows):
    """Issue 11's targets under memcaslap -U (empty without its rows)."""
    return floor_targets(rows["udp-memcached"], rows["udp-xdp"],
                         rows["udp-floor"],
                         (("cpu", "whole machine"), ("ours_all", "ours"),
                          ("server", "machine - client")),
                         "memcaslap -U, xkvd + XDP") + srvcpu_target(
        rows["udp-xdp-srvcpu"], rows["udp-floor-srvcpu"], "memcaslap -U, ")


def round_gets(row):
    """{round: GET/s} of a row's verified rounds (xkv-bench or memcaslap)."""
    out = {}
    for r in row.ok:
        if "bench" in r:
            out[r["round"]] = r["bench"]["gets"] / r["bench"]["duration_s"]
        else:
            out[r["round"]] = r["result"]["gets_per_sec"]
    return out


def per_round(x, fl):
    """' (per round: ...)': @x's GET/s over @fl's in each round both ran
    (the two rows run minutes apart within a round, so the machine's
    drift between rounds cancels out); '' with fewer than two."""
    a, b = round_gets(x), round_gets(fl)
    rs = sorted(r for r in a if r in b and b[r] > 0)
    if len(rs) < 2:
        return ""
    return " (per round: %s)" % ", ".join("%.1f%%" % (100 * a[r] / b[r])
                                          for r in rs)


def srvcpu_target(x, fl, what=""):
    """The GET/s target with XDP on the server's CPU, from the row @x and
    its floor @fl: a list of one triple, empty unless both ran."""
    if not (x.ok and fl.ok):
        return []
    r = x.med("gets") / fl.med("gets")
    return [("GET/s >= 95%% of the floor's (%sxkvd + XDP), XDP on the "
             "server's CPU as on a NIC (server veth NAPI threaded on CPU "
             "1, client on CPU 0)" % what,
             "%.0f vs %.0f = %.1f%%%s" % (x.med("gets"), fl.med("gets"),
                                           100 * r, per_round(x, fl)),
             r >= 0.95)]


def cpu_target(what, b, a, most):
    """The target that @b us of CPU be at most @most times @a us: a
    targets row (what, the figures, met); not met when @a is not above
    0."""
    r = b / a if a > 0 else float("nan")
    return (what, "%.2f us vs %.2f us = %.2fx" % (b, a, r), r <= most)


def floor_targets(mc, x, fl, keys, what):
    """Issue 11's two targets for memcached, xkvd + XDP and the floor's
    rows: CPU per GET above the floor (each of @keys: (attribute, name))
    and GET/s against the floor's; empty unless all three ran."""
    out = []
    if not (mc.ok and x.ok and fl.ok):
        return out
    for key, cpu in keys:
        if None in (mc.med(key), x.med(key), fl.med(key)):
            continue
        a_mc = mc.med(key) - fl.med(key)
        a_x = x.med(key) - fl.med(key)
        out.append(cpu_target("server CPU/GET above the floor <= 0.10x "
                              "memcached's (UDP, %s; CPU: %s)" % (what, cpu),
                              a_x, a_mc, 0.10))
    r = x.med("gets") / fl.med("gets")
    out.append(("GET/s >= 95%% of the floor's (%s)" % what,
                "%.0f vs %.0f = %.1f%%%s" % (x.med("gets"), fl.med("gets"),
                                              100 * r, per_round(x, fl)),
                r >= 0.95))
    return out


def udp_markdown(meta, rows):
    u = meta.get("udp") or {}
    L = ["## UDP clients: memcaslap -U (issue 11)", ""]
    L.append("A UDP GET load generator we did not write: Debian's "
             "memcaslap -U (libmemcached-tools), driven by bench/tcpload.py "
             "--udp from the client namespace: one thread, %s "
             "concurrencies with one single-key `get` datagram in flight "
             "each, %s-byte keys, %s-byte values, GETs only, uniformly "
             "over %s keys it stores first over UDP, every value checked "
             "(memcaslap counts a reply without the value as a miss); %s "
             "s of GETs (%s s behind XDP: a key enters the hot cache on its "
             "first GET, so every key must have been asked), then %s s "
             "measured, medians of %d rounds, each on a fresh "
             "server (-t %s, -m %s; xkv up with %s hot slots, the default "
             "32 MiB). What differs from the xkv-bench rows: uniform keys, "
             "not Zipf 0.99 (memcaslap has no skew), %s keys, not %s; "
             "memcaslap's own keys and values. CPU us/GET as for the "
             "xkv-bench rows (machine: /proc/stat; ours: our cgroup plus "
             "ksoftirqd; client included in both), then the machine's "
             "minus the memcaslap process's own. Hot-tier hits: `xkv "
             "stats -j` at both ends of the window. The floor's GETs are "
             "all misses to memcaslap (END); every other row must have "
             "none. The last two rows repeat xkvd + XDP and the floor "
             "with XDP on the server's CPU, as the xkv-bench rows of that "
             "name (memcaslap and tcpload.py pinned to CPU 0): judged "
             "against that floor, and their ours leaves out the NAPI "
             "thread, so no above floor is given from it." % (
                 known(u, "connections", "key_size", "value_size", "keys",
                       "warmup", "warmup_hot", "duration") +
                 (meta.get("rounds", 0),) +
                 known(meta, "threads", "mem_mb", "slots") +
                 known(u, "keys") + known(meta, "keys")))
    L.append("")
    L.extend(udp_table(meta, rows))
    L.append("")
    return L


def noise_table(rows):
    out = [
        "| configuration | proto | GET/s min-max | +-% | CPU us/GET "
        "(machine) min-max | +-% | CPU us/GET (ours) min-max | +-% "
        "| client process us/GET | UDP timeouts |",
        "|---|---|---|---:|---|---:|---|---:|---:|---:|",
    ]
    for c, p in ROWS:
        r = rows[(c, p)]
        if not r.ok:
            continue
        o = r.ours or (None, None, None)
        out.append("| %s | %s | %s-%s | %s | %s-%s | %s | %s-%s | %s | %s "
                   "| %d |" % (
                       LABEL[c], p, fmt(r.gets[1]), fmt(r.gets[2]),
                       fmt(noise(r.gets), "%.1f"), fmt(r.cpu[1], "%.2f"),
                       fmt(r.cpu[2], "%.2f"), fmt(noise(r.cpu), "%.1f"),
                       fmt(o[1], "%.2f"), fmt(o[2], "%.2f"),
                       fmt(noise(r.ours), "%.1f"),
                       fmt(r.med("client"), "%.2f"), r.timeouts))
    return out


def cost_table(cost):
    if not cost:
        return ["XDP cost: not measured (xdpcost failed)."]
    names = [("tx", "returns XDP_TX only"),
             ("reflect", "bare reflector (swap MAC/IP/ports)"),
             ("floor", "floor: GET -> END"),
             ("hit", "xkv hit (16-byte key, 32-byte value)"),
             ("miss", "xkv miss (passed)")]
    out = [
        "| program | per call ns | repeat ns | live frames ns |",
        "|---|---:|---:|---:|",
    ]
    for k, desc in names:
        cells = []
        for m in ("per_call", "repeat", "live"):
            v = cost.get(m, {}).get(k)
            cells.append("%.0f [%.0f-%.0f]" % (v["ns"], v["min"], v["max"])
                         if v else "-")
        out.append("| %s | %s |" % (desc, " | ".join(cells)))
    for sp in cost.get("spread", []):
        how = ("Zipf %.2f" % sp["zipf"] if sp["zipf"] > 0 else "uniform")
        out.append("| xkv hit, keys spread (%s over %s keys, %d slots; "
                   "one key's in the same rounds %.0f [%.0f-%.0f]: the "
                   "spread adds %.0f ns) | %.0f [%.0f-%.0f] | - | - |" % (
                       how, fmt(sp["keys"]), sp["slots"], sp["one"]["ns"],
                       sp["one"]["min"], sp["one"]["max"], sp["added_ns"],
                       sp["spread"]["ns"], sp["spread"]["min"],
                       sp["spread"]["max"]))
    return out


def memory_table(mem):
    out = [
        "| server | -m | items when eviction began | overhead B/item "
        "| vs memcached | RSS growth / item - 48 B |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    mc = mem.get("memcached", {}).get("overhead_per_item")
    for s in ("memcached", "xkvd"):
        m = mem.get(s)
        if not m:
            out.append("| %s | | not measured | | | |" % s)
            continue
        rss = ((m["rss_kb_after"] - m["rss_kb_before"]) * 1024.0 /
               m["curr_items"] - m["key_size"] - m["value_size"])
        out.append("| %s | %d MB | %d | %.1f | %s | %.1f |" % (
            s, m["m"], m["curr_items"], m["overhead_per_item"],
            fmt(ratio(m["overhead_per_item"], mc), "%.2fx"), rss))
    return out


def hot_table(meta, rows, hot):
    out = [
        "| source | keys | hot slots | hit ratio | ideal | of ideal |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for h in hot:
        out.append("| hotsim (simulated store + XDP lookup) | %d | %d "
                   "| %.3f | %.3f | %.1f%% |" % (
                       h["keys"], h["slots"], h["hit_ratio"], h["ideal"],
                       100 * h["of_ideal"]))
    for c in ("xkvd+xdp", "xkvd+xdp-all", "memcached+learn"):
        r = rows[(c, "udp")]
        if r.hit and r.ideal:
            out.append("| live: %s, xkv stats -j over the measured run "
                       "| %d | %d | %.3f | %.3f | %.1f%% |" % (
                           LABEL[c], meta["keys"], r.slots, r.hit[0],
                           r.ideal, 100 * r.hit[0] / r.ideal))
    return out


def targets(meta, rows, mem, cost, hot):
    """(target, measured, verdict) triples."""
    mc, x, fl = (rows[("memcached", "udp")], rows[("xkvd+xdp", "udp")],
                 rows[("floor", "udp")])
    out = floor_targets(mc, x, fl, (("cpu", "whole machine"),
                                    ("ours", "ours")), "xkvd + XDP")
    out += srvcpu_target(rows[("xkvd+xdp-srvcpu", "udp")],
                         rows[("floor-srvcpu", "udp")])
    m = miss_cost(rows, "ours")
    if m["a"] is not None and m["b"] is not None:
        out.append(cpu_target("a UDP GET behind XDP that misses costs no "
                              "more CPU than the same GET to xkvd without "
                              "XDP (no hit possible; CPU: ours, client + "
                              "servers)", m["b"], m["a"], 1.0))
    if m["a"] is not None and m["miss"] is not None:
        out.append(cpu_target("a miss in the mix (xkvd + XDP, from the mix "
                              "and the every-key rows) no dearer than a GET "
                              "without XDP (CPU: ours, client + servers)",
                              m["miss"], m["a"], 1.0))
    lr = rows[("memcached+learn", "udp")]
    if lr.ok and mc.ok and fl.ok:
        a_mc = mc.med("cpu") - fl.med("cpu")
        a_l = lr.med("cpu") - fl.med("cpu")
        out.append(cpu_target("learning mode: server CPU/GET above the "
                              "floor <= 0.10x memcached's", a_l, a_mc, 0.10))
    if cost and "per_call" in cost:
        pc = cost["per_call"]
        r = pc["hit"]["ns"] / pc["reflect"]["ns"]
        txt = "per call %.0f vs %.0f ns = %.2fx" % (
            pc["hit"]["ns"], pc["reflect"]["ns"], r)
        lv = cost.get("live", {})
        if "hit" in lv and "reflect" in lv:
            txt += "; live frames %.0f vs %.0f ns = %.2fx" % (
                lv["hit"]["ns"], lv["reflect"]["ns"],
                lv["hit"]["ns"] / lv["reflect"]["ns"])
        out.append(("XDP hit path <= 1.5x the bare reflector per packet",
                    txt, r <= 1.5))
    if "memcached" in mem and "xkvd" in mem:
        a = mem["xkvd"]["overhead_per_item"]
        b = mem["memcached"]["overhead_per_item"]
        out.append(("item overhead <= 0.8x memcached's (same -m)",
                    "%.1f vs %.1f B = %.2fx" % (a, b, a / b), a / b <= 0.8))
    for h in hot:
        out.append(("hot-tier hit ratio >= 95%% of ideal (hotsim, %d of "
                    "%d keys)" % (h["slots"], h["keys"]),
                    "%.3f vs %.3f = %.1f%%" % (h["hit_ratio"], h["ideal"],
                                               100 * h["of_ideal"]),
                    h["of_ideal"] >= 0.95))
    if x.hit and x.ideal:
        r = x.hit[0] / x.ideal
        out.append(("hot-tier hit ratio >= 95%% of ideal (live, %d of %d "
                    "keys)" % (meta["slots"], meta["keys"]),
                    "%.3f vs %.3f = %.1f%%" % (x.hit[0], x.ideal, 100 * r),
                    r >= 0.95))
    mt, xt = rows[("memcached", "tcp")], rows[("xkvd", "tcp")]
    if mt.ok and xt.ok:
        r = xt.med("gets") / mt.med("gets")
        out.append(("TCP GET/s of xkvd >= 1.3x memcached's (-t %d both)" %
                    meta.get("threads", 0),
                    "%.0f vs %.0f = %.2fx" % (xt.med("gets"), mt.med("gets"),
                                              r), r >= 1.3))
    out.extend(udp_targets(rows))
    t = tcp_target(meta, rows)
    if t:
        out.append(t)
    return out


VM_TITLE = ("xkv.ko vs xkvd in a VM (measured under emulation: qemu TCG, "
            "not comparable with the host figures)")
VM_ANCHOR = ("xkvko-vs-xkvd-in-a-vm-measured-under-emulation-qemu-tcg-"
             "not-comparable-with-the-host-figures")


def load_vm(work):
    """bench/vmbench.sh's runs, keyed (server, proto), and why not."""
    runs = load_lines(os.path.join(work, "vm.jsonl"))
    skip = None
    p = os.path.join(work, "vm-skip.txt")
    if os.path.exists(p):
        with open(p) as f:
            skip = f.read().strip()
    return runs, skip


def vm_ok(run):
    b = run.get("bench") if run else None
    return (run is not None and run.get("rc") == 0 and b is not None and
            b.get("bad_values") == 0 and b.get("proto_errors") == 0 and
            b.get("gets", 0) > 0)


def vm_table(vm):
    by = {(r.get("server"), r.get("proto")): r for r in vm}
    out = [
        "| proto | xkv.ko GET/s | xkvd GET/s | xkv.ko / xkvd "
        "| p50 us xkv.ko / xkvd | p99 us xkv.ko / xkvd |",
        "|---|---:|---:|---:|---|---|",
    ]
    for p in ("tcp", "udp"):
        k, d = by.get(("xkv.ko", p)), by.get(("xkvd", p))
        cells = []
        for r in (k, d):
            cells.append(fmt(r["bench"]["ops_per_sec"]) if vm_ok(r) else
                         "failed (exit %s)" % (r or {}).get("rc", "-"))
        rt = None
        if vm_ok(k) and vm_ok(d):
            rt = ratio(k["bench"]["ops_per_sec"], d["bench"]["ops_per_sec"])
        lat = []
        for q in ("p50", "p99"):
            lat.append(" / ".join(
                fmt(r["bench"]["latency_us"][q], "%.0f") if vm_ok(r)
                else "-" for r in (k, d)))
        out.append("| %s | %s | %s | %s | %s | %s |" % (
            p, cells[0], cells[1], fmt(rt, "%.2fx"), lat[0], lat[1]))
    return out


def miss_cost(rows, key):
    """Server CPU per GET for the misses-behind-XDP comparison.

    @key: "ours" (client, servers and ksoftirqd), "srv_ours" (ours -
    client) or "srv_cpu" (machine - client).
    Returns None when a row is missing, else a dict: "a" xkvd alone,
    "b" behind XDP with no hit possible, "c" the mix and "d" every key
    fits (server us/GET), "hc"/"hd" their hit ratios, "miss" the cost of a
    miss in the mix from (c) and (d) (two rows, two unknowns: a hit's
    and a miss's cost, each the same in both), "hit" a hit's, "miss_max"
    the mix's whole server cost charged to its misses.
    """
    a, b = rows[("xkvd", "udp")], rows[("xkvd+xdp-miss", "udp")]
    c, d = rows[("xkvd+xdp", "udp")], rows[("xkvd+xdp-all", "udp")]
    out = {}
    for n, r in (("a", a), ("b", b), ("c", c), ("d", d)):
        out[n] = r.med(key) if r.ok else None
    out["hc"] = c.med("hit") if c.ok else None
    out["hd"] = d.med("hit") if d.ok else None
    out["miss"] = out["hit"] = out["miss_max"] = None
    # only the server side can be charged to misses: the client pays
    # for hits too
    if key.startswith("srv_") and out["c"] is not None and \
            out["hc"] is not None and out["hc"] < 1:
        out["miss_max"] = out["c"] / (1 - out["hc"])
    if None not in (out["c"], out["d"], out["hc"], out["hd"]) and \
            out["hd"] - out["hc"] > 0.02:
        hc, hd = out["hc"], out["hd"]
        out["miss"] = (hd * out["c"] - hc * out["d"]) / (hd - hc)
        out["hit"] = (out["d"] - (1 - hd) * out["miss"]) / hd
    return out


MISS_MEASURES = (("ours", "ours: client + servers"),
                 ("srv_ours", "ours - client"),
                 ("srv_cpu", "machine - client"))


def miss_table(rows):
    """Lines of the misses-behind-XDP table (Markdown), or [] without
    the rows it needs."""
    if not rows[("xkvd", "udp")].ok:
        return []
    out = [
        "| CPU us/GET | xkvd alone (a) | behind XDP, "
        "no hit possible (b) | b / a | mix (c) | every key fits (d) "
        "| a hit, from c and d | a miss in the mix, from c and d "
        "| / a | mix charged to its misses | / a |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for key, what in MISS_MEASURES:
        m = miss_cost(rows, key)
        if m["a"] is None:
            continue
        out.append("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s "
                   "| %s |" % (
                       what, fmt(m["a"], "%.2f"),
                       fmt(m["b"], "%.2f"),
                       fmt(ratio(m["b"], m["a"]), "%.2fx"),
                       fmt(m["c"], "%.2f") + (
                           " (%.0f%% hits)" % (100 * m["hc"])
                           if m["hc"] is not None else ""),
                       fmt(m["d"], "%.2f") + (
                           " (%.0f%% hits)" % (100 * m["hd"])
                           if m["hd"] is not None else ""),
                       fmt(m["hit"], "%.2f"), fmt(m["miss"], "%.2f"),
                       fmt(ratio(m["miss"], m["a"]), "%.2fx"),
                       fmt(m["miss_max"], "%.2f"),
                       fmt(ratio(m["miss_max"], m["a"]), "%.2fx")))
    return out




ICOUNT_TITLE = ("Guest instructions per GET (qemu -icount, one vCPU; "
                "issue 11)")


def load_icount(work):
    """bench/vmbench.sh -i's two runs (vm-icount-1.jsonl, -2), or []."""
    runs = [load_lines(os.path.join(work, "vm-icount-%d.jsonl" % n))
            for n in (1, 2)]
    return [r for r in runs if r]


def icount_rows(run):
    return {(r.get("server"), r.get("proto")): r for r in run
            if vm_ok(r) and r.get("insn")}


def icount_table(runs):
    """Instructions per GET, each run's figure side by side."""
    keys = []
    for r in runs[0]:
        k = (r.get("server"), r.get("proto"))
        if k not in keys:
            keys.append(k)
    by = [icount_rows(run) for run in runs]
    head = " / ".join("run %d" % (i + 1) for i in range(len(runs)))
    out = [
        "| server | proto | GETs (%s) | total insn/GET | client insn/GET "
        "| server insn/GET = total - client |" % head,
        "|---|---|---|---|---|---|",
    ]

    def cells(k, f):
        return " / ".join(fmt(f(b[k]["insn"])) if k in b else "failed"
                          for b in by)

    for k in keys:
        out.append("| %s | %s | %s | %s | %s | %s |" % (
            k[0], k[1], cells(k, lambda i: i["gets"]),
            cells(k, lambda i: i["total_per_get"]),
            cells(k, lambda i: i["client"] / i["gets"]),
            cells(k, lambda i: i["server_per_get"])))
    out.append("")
    out.append("| proto | xkv.ko / xkvd, server | xkv.ko / xkvd, total "
               "| xkv.ko / memcached, server | xkv.ko / memcached, total |")
    out.append("|---|---:|---:|---:|---:|")
    b = by[0]
    for p in ("tcp", "udp"):
        k = ("xkv.ko", p)
        cs = []
        for other in ("xkvd", "memcached"):
            o = (other, p)
            for f in ("server_per_get", "total_per_get"):
                cs.append(fmt(ratio(b[k]["insn"][f], b[o]["insn"][f]),
                              "%.3fx") if k in b and o in b else "-")
        out.append("| %s | %s |" % (p, " | ".join(cs)))
    return out


def icount_markdown(runs):
    r0 = runs[0][0]
    L = ["## " + ICOUNT_TITLE, ""]
    L.append(
        "`bench/vmbench.sh -i`, run twice (the vm-icount command below). "
        "Inside a qemu TCG guest (%s, 1 vCPU) run with "
        "`%s`: guest time advances one nanosecond per guest instruction, "
        "so the figures are instruction counts, the same from run to run "
        "and independent of the host's load. Servers with 1 thread, the "
        "same client as the VM section above (xkv-bench in the guest, %s "
        "keys, Zipf 0.99, every value checked), %s s of guest time "
        "measured after 1 s of warm-up. total = the guest's "
        "CLOCK_MONOTONIC over the window (every instruction), client = "
        "xkv-bench's own CPU time (getrusage), server = total - client. "
        "Read the split with care: on one vCPU the closed-loop client and "
        "the server keep each other runnable and the scheduler, not their "
        "costs alone, divides the CPU between them (here about half "
        "each; `-N` changes the client's nice value, and with it both the "
        "split and the total), and the guest kernel has no "
        "IRQ_TIME_ACCOUNTING, so softirq work in the client's send path "
        "(loopback delivering its request, and XDP on lo answering it) "
        "counts as the client's. The total per GET is the figure that "
        "compares servers." % (
            r0.get("guest_kernel") or "?",
            r0.get("qemu_accel") or "?",
            r0["bench"]["keys"], r0["bench"]["duration_s"]))
    L.append("")
    L.extend(icount_table(runs))
    L.append("")
    return L


VETH_TITLE = ("Guest instructions per GET over a veth pair, with XDP "
              "(qemu -icount, one vCPU; issue 11)")
# the rows of bench/vmbench.sh -i -X, in its order
VETH_SERVERS = ("memcached", "xkv.ko", "xkvd", "xkv.ko+xdp",
                "xkv.ko+xdp-store", "xkvd+xdp")


def load_veth(work):
    """bench/vmbench.sh -i -X -L's run (vm-veth.jsonl): {(server, proto):
    insn} of the runs that completed with every value right."""
    return {(r.get("server"), r.get("proto")): r["insn"]
            for r in load_lines(os.path.join(work, "vm-veth.jsonl"))
            if vm_ok(r) and r.get("insn")}


def veth_table(by):
    out = [
        "| server | proto | GETs | total insn/GET | client insn/GET "
        "| server insn/GET | of which napi/xs | napi/xc "
        "| server / xkvd's | server - napi/xc | / xkvd's |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for p in ("tcp", "udp"):
        x = by.get(("xkvd", p))
        for srv in VETH_SERVERS:
            i = by.get((srv, p))
            if not i:
                continue
            g = i["gets"]
            s2 = i["server_per_get"] - i["napi_xc"] / g
            x2 = (x["server_per_get"] - x["napi_xc"] / x["gets"]
                  if x else None)
            out.append("| %s | %s | %d | %s | %s | %s | %s | %s | %s | %s "
                       "| %s |" % (
                           srv, p, g, fmt(i["total_per_get"]),
                           fmt(i["client"] / g), fmt(i["server_per_get"]),
                           fmt(i["napi_xs"] / g), fmt(i["napi_xc"] / g),
                           fmt(ratio(i["server_per_get"],
                                     x["server_per_get"] if x else None),
                               "%.3fx"),
                           fmt(s2), fmt(ratio(s2, x2), "%.3fx")))
    return out


def veth_targets(by):
    """Issue 11's instruction target, on the veth run: xkv.ko behind XDP
    (hot cache and store path) against xkvd alone, server side; xkvd
    behind the same XDP tier is shown beside it."""
    out = []
    for p in ("tcp", "udp"):
        k, x, xx = (by.get(("xkv.ko+xdp", p)), by.get(("xkvd", p)),
                    by.get(("xkvd+xdp", p)))
        if not k or not x:
            continue
        r = k["server_per_get"] / x["server_per_get"]
        txt = "%.0f vs %.0f = %.3fx" % (k["server_per_get"],
                                         x["server_per_get"], r)
        if xx:
            txt += " (xkvd behind the same XDP tier: %.0f, %.3fx of " \
                   "xkvd's)" % (xx["server_per_get"],
                                xx["server_per_get"] / x["server_per_get"])
        out.append(("xkv.ko's server instructions per %s GET <= 0.5x "
                    "xkvd's (icount, client behind a veth; xkv.ko with "
                    "its XDP hot cache and store path)" % p.upper(),
                    txt, r <= 0.5))
    return out


def veth_markdown(by):
    L = ["## " + VETH_TITLE, ""]
    L.append(
        "`bench/vmbench.sh -i -X -L build/xkv.static` (the vm-veth command "
        "below), once: instruction counts repeat to about four digits "
        "(the section above). The same guest, client and keys as above, "
        "but the client sends from its own network namespace over a veth "
        "pair (xs, the servers', and xc, the client's), both ends with a "
        "native XDP program (xkv's on xs in the XDP rows, else a "
        "two-instruction XDP_PASS) and threaded NAPI, so each end's "
        "receive runs in its own kernel thread: server = total - client "
        "holds the server, napi/xs (the request's receive, XDP and the "
        "store path) and napi/xc (the reply's delivery into the client's "
        "socket, the same work for every row). xkv.ko+xdp: `xkv up xs "
        "--backend module` with a 16384-slot hot cache, the XDP store "
        "path and the TCP fast path on; xkv.ko+xdp-store: the same with "
        "64 slots (GETs mostly from the store); xkvd+xdp: xkvd behind "
        "the same hot cache and TCP fast path.")
    L.append("")
    L.extend(veth_table(by))
    L.append("")
    return L


def targets_table(tg):
    out = ["| target | measured | |", "|---|---|---|"]
    for t, m, ok in tg:
        out.append("| %s | %s | %s |" % (t, m, "met" if ok else "NOT met"))
    return out


def plot_data(path, rows):
    # the chart draws our CPU time when we have it: other work is not in it
    key = "ours" if rows[("floor", "udp")].med("ours") is not None \
        else "cpu"
    floor_cpu = rows[("floor", "udp")].med(key) or 0
    with open(path, "w") as f:
        f.write("# label udp_gets udp_min udp_max tcp_gets tcp_min tcp_max "
                "cpu_floor_part cpu_above_floor cpu_tcp\n")
        for c in ("memcached", "xkvd", "xkvd+xdp", "xkvd+xdp-all",
                  "memcached+learn", "floor"):
            u, t = rows[(c, "udp")], rows.get((c, "tcp"))
            vals = []
            for r in (u, t):
                if r is not None and r.ok:
                    vals += [r.gets[0] / 1e3, r.gets[1] / 1e3,
                             r.gets[2] / 1e3]
                else:
                    vals += [0, 0, 0]
            cu = u.med(key) if u.ok else 0
            base = min(cu, floor_cpu)
            ct = t.med(key) if t is not None and t.ok else 0
            label = {"memcached+learn": "mc+learn",
                     "xkvd+xdp": "xkvd+XDP",
                     "xkvd+xdp-all": "XDP all-keys"}.get(c, c)
            if not u.ok and c == "memcached+learn":
                label = "learn (n/a)"
            f.write('"%s" %s %.3f %.3f %.3f\n' % (
                label, " ".join("%.2f" % v for v in vals), base, cu - base,
                ct))


def tcp_markdown(meta, rows):
    t = meta.get("tcp") or {}
    L = ["## TCP clients: memcaslap, %s connections, no pipelining "
         "(issue 10)" % t.get("connections", "?"), ""]
    L.append("A TCP load generator we did not write: Debian's memcaslap "
             "(libmemcached-tools), driven by bench/tcpload.py from the "
             "client namespace: %s connections, one single-key `get` in "
             "flight on each, %s-byte keys, %s-byte values, GETs only, "
             "uniformly over %s keys it stores first (every key hot: the "
             "xkv up row has a hot cache of %s slots), every value "
             "checked; %s s of GETs, then %s s measured, medians of %d "
             "rounds, each on a fresh server (-t %s, -m 64). Server CPU "
             "us/GET: the whole machine's busy time (/proc/stat) minus "
             "the memcaslap process's own (/proc/PID/stat), over the GETs "
             "in the window (what issue 10 is judged by); ours: the same "
             "from our cgroup plus ksoftirqd instead of the whole "
             "machine. Other work: the machine's busy time that was not "
             "ours, as a share of all its CPU time in the window (median): "
             "it is in the machine figure, for every row alike, so the "
             "machine figure is only clean when this is near 0%%." % (
                 known(t, "connections", "key_size", "value_size", "keys",
                       "slots", "warmup", "duration") +
                 (meta.get("rounds", 0), meta.get("threads", "?"))))
    if t.get("fast_path") != "yes":
        L.append("")
        L.append("This tree has no TCP fast path (`xkv up -h` offers no "
                 "`--tcp-fast`): the xkv up row is xkvd behind an XDP "
                 "program that passes TCP to it.")
    L.append("")
    L.extend(tcp_table(meta, rows))
    L.append("")
    return L


def markdown(meta, rows, mem, cost, hot, tg, bg, vm=None, vm_skip=None,
             icount=None, veth=None):
    m = meta
    cmds = m.get("commands", {})
    L = []
    L.append("# xkv against memcached: results")
    L.append("")
    L.append("Written by `bench/compare` (%s, %d s); do not edit by hand: "
             "run `sudo bench/compare` again." % (m.get("date", "?"),
                                                   m.get("seconds", 0)))
    L.append("")
    L.append("![GET/s and CPU per GET](results.png)")
    L.append("")
    L.append("## Machine")
    L.append("")
    L.append("- CPU: %s, %s cores (%s guest)" % (
        m.get("model"), m.get("cores"), m.get("hypervisor") or "no"))
    L.append("- Memory: %s; OS: %s; kernel %s" % (
        m.get("memory"), m.get("os"), m.get("kernel")))
    L.append("- %s; xkv at git %s (%s files changed in the tree)" % (
        m.get("memcached"), m.get("git"), m.get("dirty_files")))
    L.append("- Load average before / after: %s / %s; other CPU use "
             "measured in the 2 s before: %.1f%% of the machine" % (
                 m.get("load_before"), m.get("load_after"),
                 100 * (m.get("background_busy") or 0)))
    L.append("")
    L.append("## Side by side")
    L.append("")
    L.append("Client and servers share the machine's %s cores; the client "
             "is one xkv-bench thread (so it, not the server, limits GET/s "
             "here: compare CPU per GET). Medians of %d rounds of %s s; "
             "workload: %d keys of 16 bytes, 32-byte values, GETs only, "
             "Zipf 0.99, every value read back checked; servers with -t "
             "%d, hot tier with %d slots (%d in the every-key row)." % (
                 m.get("cores"), m.get("rounds"), m.get("duration"),
                 m.get("keys"), m.get("threads"), m.get("slots"),
                 m.get("slots_all", 0)))
    L.append("")
    L.extend(main_table(meta, rows))
    L.append("")
    L.append("CPU us/GET (ours): CPU time of a cgroup holding client and "
             "servers (everything bench/compare starts) plus the ksoftirqd "
             "threads, over the GETs served: the same without other work "
             "on the machine (see Noise); above floor and vs memcached as "
             "for the machine's.")
    L.append("")
    L.append("CPU us/GET (machine): busy time of the whole machine "
             "(/proc/stat user+nice+system+irq+softirq, every CPU) in the "
             "measured window over the GETs served: client, server and "
             "kernel together. Above floor: that minus the floor's, i.e. "
             "what serving the GET costs beyond a driver-level answer "
             "that looks nothing up; vs memcached: against memcached's "
             "(UDP). Hot-tier hits: XDP hits / (hits + misses) from `xkv "
             "stats -j` over the measured window; ideal: hotsim's for the "
             "same slots (their bytes holding the keys with the most "
             "requests per byte: a slot holds many entries, "
             "bpf/HOTCACHE.md; learning mode's too).")
    L.append("")
    L.append("XDP on the server's CPU: on a veth the XDP program runs in "
             "the softirq of whoever sends, so in the rows above a hit's "
             "program runs on the client's CPU and its cost comes off the "
             "one-thread client's rate; on a NIC it runs on the server's. "
             "The last two rows repeat xkvd + XDP and the floor with the "
             "server veth's NAPI threaded and its thread pinned to CPU 1, "
             "the client pinned to CPU 0: the GET/s target is judged "
             "there too, and their above floor is against the floor of "
             "the same arrangement. Their CPU (ours) leaves out the NAPI "
             "thread (neither in our cgroup nor a ksoftirqd), so no above "
             "floor is given from it.")
    if m.get("learn_available") != "yes":
        L.append("")
        L.append("memcached + XDP learning: not available in this tree "
                 "(`xkv up --backend memcached` says it is not there "
                 "yet), so not measured.")
    L.append("")
    mt = miss_table(rows)
    if mt:
        L.append("## Misses behind XDP (issue 11)")
        L.append("")
        L.append("CPU per GET (ours: client, servers and ksoftirqd; "
                 "then without the client process's own, from our cgroup "
                 "and from the whole machine) of xkvd alone (a), behind "
                 "XDP with no hit possible (b: every GET parsed, looked up "
                 "and passed to xkvd), behind XDP with the mix (c) and "
                 "with every key fitting (d). A hit's and a miss's cost in "
                 "the mix solve c and d (each assumed the same in both "
                 "rows); the last columns charge all of c's server side to "
                 "its misses (an upper bound). Where XDP runs moves with "
                 "busy polling (the client's context or xkvd's), so the "
                 "first line is the one to judge by. Goal: b and a miss "
                 "no dearer than a.")
        L.append("")
        L.extend(mt)
        L.append("")
    L.extend(udp_markdown(meta, rows))
    L.extend(tcp_markdown(meta, rows))
    L.append("## Targets (issues 5, 10 and 11)")
    L.append("")
    L.extend(targets_table(tg))
    L.append("")
    L.append("## XDP program cost per packet (BPF_PROG_TEST_RUN)")
    L.append("")
    if cost:
        L.append("Median of %d rounds of %d runs [min-max]; one IPv4 UDP "
                 "`get` of a 16-byte key, 32-byte value, allowlist on. "
                 "*per call*: repeat = 1 per syscall, every run starts "
                 "from the request (includes the kernel's timer reads "
                 "around one run); *repeat*: one call, repeat = N, only "
                 "for programs that leave the frame reusable; *live*: "
                 "BPF_F_TEST_XDP_LIVE_FRAMES behind a wrapper that writes "
                 "the request back and tail-calls the program (its cost, "
                 "the `tx` row, is in every live figure). Without the "
                 "wrapper only %.1f%% of live runs of the hit were hits: "
                 "the kernel recycles pages without rewriting them. The "
                 "*keys spread* rows (`xdpcost spread`, bench/"
                 "xdpspread.c): per call, each GET's key drawn from the "
                 "workload's spread over every key, all installed in the "
                 "default hot cache most requested first, against one "
                 "key's in the same rounds: what cold slots (cache and TLB "
                 "misses) add to a hit. The system call around each run "
                 "evicts some of what the run touched, so it is an upper "
                 "bound of what the spread adds under load." % (
                     cost["rounds"], cost["calls"],
                     100 * cost.get("unwrapped_hit_share", 0)))
        L.append("")
    L.extend(cost_table(cost))
    L.append("")
    L.append("## Memory: overhead per item")
    L.append("")
    L.append("Each server filled with 16-byte keys and 32-byte values "
             "until its `evictions` stat went above 0; overhead = "
             "limit_maxbytes / curr_items - 48. Neither counts its hash "
             "table in -m; the RSS column does (RSS growth while filling, "
             "per item, minus the 48 bytes of key and value).")
    L.append("")
    L.extend(memory_table(mem))
    L.append("")
    L.append("## Hot-tier hit ratio under Zipf 0.99")
    L.append("")
    L.extend(hot_table(meta, rows, hot))
    L.append("")
    L.append("## The module (xkv.ko)")
    L.append("")
    if vm:
        L.append("Not measured on this machine, whose kernel cannot load "
                 "modules: see [xkv.ko vs xkvd in a VM](#%s) below, "
                 "measured under emulation." % VM_ANCHOR)
    else:
        L.append("Not measured here: this machine's kernel cannot load "
                 "modules, and the VM run (the only place it runs) did "
                 "not happen: %s." % (vm_skip or "no result"))
    L.append("")
    if vm:
        L.append("## " + VM_TITLE)
        L.append("")
        L.append("Inside a qemu TCG guest (%s, %s vCPUs, no KVM), on "
                 "127.0.0.1: the same client shape as above with %d keys, "
                 "one run of %s s each after a 1 s warm-up, every value "
                 "checked; TCP preloads every key, UDP then reads them. "
                 "Both servers with 2 threads, in the same guest, one "
                 "after the other. The emulator is most of the cost of "
                 "every GET and single runs are noisy: only the module/xkvd "
                 "ratio means anything, and only roughly." % (
                     vm[0].get("guest_kernel") or "?",
                     vm[0].get("guest_cpus") or "?",
                     vm[0]["bench"]["keys"] if vm[0].get("bench") else 0,
                     vm[0]["bench"]["duration_s"] if vm[0].get("bench")
                     else "?"))
        L.append("")
        L.extend(vm_table(vm))
        L.append("")
    if icount:
        L.extend(icount_markdown(icount))
    if veth:
        L.extend(veth_markdown(veth))
    L.append("## Noise")
    L.append("")
    L.append("Spread over the rounds (+-%: half the min-max range over the "
             "median). The machine is shared: builds and VMs of other work "
             "inflate whole-machine CPU per GET (their time counts as busy) "
             "and take CPU from client and server; compare rows of the same "
             "run only, and prefer the medians.")
    L.append("")
    L.extend(noise_table(rows))
    if bg:
        L.append("")
        L.append("Other work on the machine, busy share of both CPUs in 1 s "
                 "of our idle time before each round: " +
                 ", ".join("round %d %.0f%%" % (b["round"], 100 * b["busy"])
                           for b in bg) + ".")
    L.append("")
    L.append("## Exact commands")
    L.append("")
    L.append("Full run: `sudo bench/compare` (smoke: `sudo bench/compare "
             "--smoke`). Inside it, in two network namespaces joined by a "
             "veth pair (10.123.0.1 server, 10.123.0.2 client; native "
             "XDP_PASS on the client end, `tests/net/lib.sh`):")
    L.append("")
    L.append("```")
    for k in ("client", "memcached", "xkvd", "xkvd+xdp", "xkvd+xdp-miss",
              "xkvd+xdp-all",
              "memcached+learn", "floor", "xdpcost", "hotsim", "memory",
              "vm", "vm-icount", "vm-veth", "udpload", "tcpload",
              "tcp-memcached", "tcp-xkvd", "tcp-xkv-up"):
        if k in cmds:
            L.append("%-16s %s" % (k + ":", cmds[k]))
    L.append("```")
    L.append("")
    return "\n".join(L)


def check(meta, rows, mem, cost, hot):
    bad = []
    if (meta.get("tcp") or {}).get("only"):
        return ["%s (memcaslap): %s" % (c, rows[c].status)
                for c in TCP_ROWS if not rows[c].ok]
    for c, p in ROWS:
        r = rows[(c, p)]
        if r.ok:
            continue
        if c == "memcached+learn" and r.status == "not available":
            continue
        if c in ("xkvd+xdp-srvcpu", "floor-srvcpu") and \
                r.status == "needs 2 CPUs":
            continue
        bad.append("%s %s: %s" % (c, p, r.status))
    for c in TCP_ROWS + UDP_ROWS:
        r = rows[c]
        if c in UDP_SRVCPU and r.status == "needs 2 CPUs":
            continue
        if not r.ok:
            bad.append("%s (memcaslap): %s" % (c, r.status))
    for s in ("memcached", "xkvd"):
        if s not in mem:
            bad.append("memory %s: no result" % s)
    if not cost or "per_call" not in cost:
        bad.append("xdpcost: no result")
    if cost and len(cost.get("spread", [])) != 2:
        bad.append("xdpcost spread: %d of 2 results" %
                   len(cost.get("spread", [])))
    if not hot:
        bad.append("hotsim: no result")
    return bad


def main():
    ap = argparse.ArgumentParser(description="report bench/compare results")
    ap.add_argument("work")
    ap.add_argument("--check", action="store_true")
    ap.add_argument("--md")
    ap.add_argument("--plot-data")
    a = ap.parse_args()

    meta, rows, mem, cost, hot = build(a.work)
    tg = targets(meta, rows, mem, cost, hot) + veth_targets(
        load_veth(a.work))

    def failed():
        bad = check(meta, rows, mem, cost, hot) if a.check else []
        for b in bad:
            print("compare: FAIL: " + b, file=sys.stderr)
        return bool(bad)

    if (meta.get("tcp") or {}).get("only"):
        print("\n".join(tcp_table(meta, rows)))
        print()
        print("\n".join(targets_table(tg)))
        return 1 if failed() else 0
    if meta.get("rows"):
        bench_rows = any(r.runs for k, r in rows.items() if k in ROWS)
        if bench_rows:
            print("\n".join(main_table(meta, rows)))
        if any(rows[c].ok for c in TCP_ROWS):
            print()
            print("\n".join(tcp_table(meta, rows)))
        if any(rows[c].runs for c in UDP_ROWS):
            print()
            print("UDP, memcaslap -U (issue 11):")
            print("\n".join(udp_table(meta, rows)))
        mt = miss_table(rows)
        if mt:
            print()
            print("Misses behind XDP (issue 11):")
            print("\n".join(mt))
        if bench_rows:
            print()
            print("\n".join(noise_table(rows)))
        print()
        print("\n".join(targets_table(tg)))
        return 1 if failed() else 0
    print("\n".join(main_table(meta, rows)))
    print()
    mt = miss_table(rows)
    if mt:
        print("Misses behind XDP (issue 11):")
        print("\n".join(mt))
        print()
    print("UDP, memcaslap -U (issue 11):")
    print("\n".join(udp_table(meta, rows)))
    print()
    print("TCP, memcaslap (issue 10):")
    print("\n".join(tcp_table(meta, rows)))
    print()
    print("\n".join(targets_table(tg)))
    print()
    print("\n".join(cost_table(cost)))
    print()
    print("\n".join(memory_table(mem)))
    print()
    print("\n".join(hot_table(meta, rows, hot)))
    vm, vm_skip = load_vm(a.work)
    if vm:
        print()
        print(VM_TITLE + ":")
        print("\n".join(vm_table(vm)))
    elif vm_skip:
        print()
        print("xkv.ko in a VM: skipped: " + vm_skip)
    icount = load_icount(a.work)
    if icount:
        print()
        print(ICOUNT_TITLE + ":")
        print("\n".join(icount_table(icount)))
    veth = load_veth(a.work)
    if veth:
        print()
        print(VETH_TITLE + ":")
        print("\n".join(veth_table(veth)))
    if a.md:
        with open(a.md, "w") as f:
            bg = load_lines(os.path.join(a.work, "background.jsonl"))
            f.write(markdown(meta, rows, mem, cost, hot, tg, bg,
                             vm, vm_skip, icount, veth))
    if a.plot_data:
        plot_data(a.plot_data, rows)
    if failed():
        return 1
    if a.check:
        print("compare: smoke ok (every configuration ran, every value "
              "verified)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
