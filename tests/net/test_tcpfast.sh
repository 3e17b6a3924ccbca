#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# test_tcpfast.sh - the loader's side of the TCP fast path
# (loader/tcpfast.h) on the server veth: --tcp-fast parsing errors name the
# flag and change nothing; --tcp-fast off attaches no TC filter; on (the
# default) attaches xkv_tc_in at clsact ingress and xkv_tc_out at egress;
# "xkv tcp-fast IFACE off|on" flips xkv_tcp_ctl (bpftool and status -j
# agree); stats -j has a "tcp" object with "hits" and every pass reason of
# abi/xkv_tcp.h; down after a closed TCP connection leaves nothing. While
# xkv_tcp_conn has an entry (put there with bpftool, as a connection the
# fast path translates: answered on, open), down detaches XDP but leaves
# the two filters and the xkv_tcp_* pins, status says "draining", up
# refuses naming them, and once the entry is gone up replaces them; down
# --force removes them at once; entries never answered on, closed both
# ways or reset do not hold the filters (the flags the loader reads are
# abi/xkv_tcp.h's). When the filters cannot be attached, up --tcp-fast on
# fails and changes nothing, and up without it serves with the fast path
# off. Learning mode says why its TCP fast path is off.
#
#   XKV_NET_MODE=native|generic   the XDP mode asked (default native)
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

skip_unless_root
command -v bpftool >/dev/null || {
	echo "1..0 # SKIP bpftool is not installed"
	exit 0
}

# --- helpers ---------------------------------------------------------------

# the program id of the filter on HOOK (ingress|egress) of the server
# veth, empty for none
tc_prog_id() {
	in_s tc filter show dev "$XKV_IF_S" "$1" |
		sed -n 's/.* id \([0-9]*\) name xkv_tc_[a-z]* .*/\1/p' | head -n1
}

no_tc_filter() {
	local h
	for h in ingress egress; do
		if in_s tc filter show dev "$XKV_IF_S" "$h" | grep -q .; then
			echo "$h filters:"
			in_s tc filter show dev "$XKV_IF_S" "$h"
			return 1
		fi
	done
}

# status_get EXPR: evaluate EXPR (python, "me" is this veth's object of
# xkv status -j) and print it; a tuple as its items separated by spaces
status_get() {
	xkv_s status -j | "$PY" -c '
import json, sys
me = [x for x in json.load(sys.stdin) if x["ifname"] == sys.argv[1]]
assert len(me) == 1, me
me = me[0]
v = eval(sys.argv[2])
print(" ".join(map(str, v)) if isinstance(v, tuple) else v)' "$XKV_IF_S" "$1"
}

# eq GOT WANT: equal, or say both
eq() {
	[ "$1" = "$2" ] && return 0
	echo "got '$1', want '$2'"
	return 1
}

ctl_answer() {
	bpftool -j map dump pinned "$XKV_PINS/xkv_tcp_ctl" | "$PY" -c '
import json, sys
print(json.load(sys.stdin)[0]["formatted"]["value"]["answer"])'
}

# conn_entry add [FLAGS]|del: an entry of the pinned xkv_tcp_conn with a
# zeroed key, which no real connection has, and a zeroed value but for
# its x.flags (found through the map's BTF): FLAGS, default 0x10 (XDP
# answered on it, still open: it needs translating)
conn_entry() {
	local spec
	spec=$(bpftool -j map show pinned "$XKV_PINS/xkv_tcp_conn" |
		"$PY" -c '
import json, subprocess, sys
m = json.load(sys.stdin)
types = json.loads(subprocess.run(
    ["bpftool", "-j", "btf", "dump", "id", str(m["btf_id"])],
    capture_output=True, check=True).stdout)["types"]
byid = {t["id"]: t for t in types}
def resolve(i):
    while byid[i]["kind"] in ("TYPEDEF", "CONST", "VOLATILE"):
        i = byid[i]["type_id"]
    return byid[i]
def member(t, name):
    m = [x for x in t["members"] if x["name"] == name][0]
    return m["bits_offset"] // 8, resolve(m["type_id"])
conn = [t for t in types if t["kind"] == "STRUCT" and
        t["name"] == "xkv_tcp_conn"][0]
ox, x = member(conn, "x")
of, _ = member(x, "flags")
print(m["bytes_key"], m["bytes_value"], ox + of)')
	read -r klen vlen off <<<"$spec"
	"$PY" - "$1" "${2:-0x10}" "$klen" "$vlen" "$off" \
		"$XKV_PINS/xkv_tcp_conn" <<'PY'
import struct, subprocess, sys
op, flags, klen, vlen, off, pin = sys.argv[1:]
key = bytes(int(klen))
val = bytearray(int(vlen))
struct.pack_into("<I", val, int(off), int(flags, 0))
hexs = lambda b: [f"{c:02x}" for c in b]
cmd = ["bpftool", "map", "update" if op == "add" else "delete",
       "pinned", pin, "key", "hex"] + hexs(key)
if op == "add":
    cmd += ["value", "hex"] + hexs(val)
subprocess.run(cmd, check=True)
PY
}

# says PATTERN CMD...: CMD succeeds and prints PATTERN (stdout or stderr);
# all of its output is shown
says() {
	local pattern=$1 out
	shift
	out=$("$@" 2>&1)
	echo "$out"
	output_has "$pattern" "$out"
}

version_over_tcp() {
	in_c "$PY" -c '
import socket
s = socket.create_connection(("'"$XKV_ADDR_S"'", 11211), 2)
s.sendall(b"version\r\n")
assert s.recv(100).startswith(b"VERSION")
s.close()'
}

# --- the checks (each failing step returns 1) -----------------------------

bad_flag() {
	up_refused "--tcp-fast: 'maybe' is not one of" --tcp-fast maybe
}

bad_switch() {
	local out rc=0
	out=$(xkv_s tcp-fast "$XKV_IF_S" sideways 2>&1) || rc=$?
	echo "$out"
	eq "$rc" 2 || return 1
	echo "$out" | grep -q "on|off"
}

memcached_on_refused() {
	[ -x /usr/bin/memcached ] || { echo "no memcached: not run"; return 0; }
	up_refused "--tcp-fast on: not with --backend memcached" \
		--backend memcached --tcp-fast on
}

off_no_filter() {
	says "TCP fast path off" xkv_up --tcp-fast off || return 1
	no_tc_filter || return 1
	eq "$(status_get '(me["tcp_fast"], me["tcp"])')" "False None" ||
		return 1
	xkv_s stats "$XKV_IF_S" -j | "$PY" -c '
import json, sys
assert "tcp" in json.load(sys.stdin)[0]' || return 1
	# nothing to switch on
	not xkv_s tcp-fast "$XKV_IF_S" on || return 1
	xkv_s down "$XKV_IF_S" || return 1
	state_clean
}

on_both_filters() {
	local in out
	says "TCP fast path on, port 11211" xkv_up || return 1
	in=$(tc_prog_id ingress)
	out=$(tc_prog_id egress)
	[ -n "$in" ] || { echo "no ingress filter"; return 1; }
	[ -n "$out" ] || { echo "no egress filter"; return 1; }
	in_s tc filter show dev "$XKV_IF_S" ingress | grep -q "name xkv_tc_in " ||
		return 1
	in_s tc filter show dev "$XKV_IF_S" egress | grep -q "name xkv_tc_out " ||
		return 1
	eq "$(status_get '(me["tcp_fast"], me["tcp"]["port"],
		me["tcp"]["ingress_prog_id"], me["tcp"]["egress_prog_id"])')" \
		"True 11211 $in $out" || return 1
	eq "$(ctl_answer)" 1
}

switch_off_on() {
	xkv_s tcp-fast "$XKV_IF_S" off || return 1
	eq "$(ctl_answer)" 0 || return 1
	eq "$(status_get '(me["tcp_fast"], me["tcp"]["answer"])')" \
		"False False" || return 1
	says "tcp fast path: off" xkv_s status "$XKV_IF_S" || return 1
	# the filters stay: they translate what was answered
	[ -n "$(tc_prog_id ingress)" ] || return 1
	[ -n "$(tc_prog_id egress)" ] || return 1
	xkv_s tcp-fast "$XKV_IF_S" on || return 1
	eq "$(ctl_answer)" 1 || return 1
	eq "$(status_get '(me["tcp_fast"], me["tcp"]["answer"])')" \
		"True True" || return 1
	says "tcp fast path on" xkv_s tcp-fast "$XKV_IF_S"
}

stats_tcp() {
	xkv_s stats "$XKV_IF_S" -j | "$PY" -c '
import json, re, sys
names = re.findall(r"^\s*X\((\w+),", open("abi/xkv_tcp.h").read(), re.M)
assert "hits" in names and len(names) > 5, names
t = json.load(sys.stdin)[0]["tcp"]
for n in names:
    assert isinstance(t[n], int), n
assert sorted(t) == sorted(names), (sorted(t), sorted(names))
print(len(names), "counters,", sum(1 for n in names if n.startswith("pass_")),
      "pass reasons")' || return 1
	says "TCP fast path:" xkv_s stats "$XKV_IF_S"
}

down_after_conn() {
	local pid
	pid=$(backend_pid)
	version_over_tcp || return 1
	says "pins removed" xkv_s down "$XKV_IF_S" || return 1
	no_tc_filter || return 1
	state_clean "$pid"
}

leftover_kept() {
	local in out pid
	xkv_up || return 1
	in=$(tc_prog_id ingress)
	out=$(tc_prog_id egress)
	pid=$(backend_pid)
	conn_entry add || return 1
	says "stay attached to translate them" xkv_s down "$XKV_IF_S" ||
		return 1
	[ -z "$(xdp_prog_id)" ] || { echo "XDP still attached"; return 1; }
	wait_for 5 not alive "$pid" || { echo "backend runs"; return 1; }
	eq "$(tc_prog_id ingress) $(tc_prog_id egress)" "$in $out" || return 1
	eq "$(cd "$XKV_PINS" && ls | sort | tr '\n' ' ')" \
		"xkv_rodata xkv_tcp_conn xkv_tcp_ctl xkv_tcp_stats " || return 1
	eq "$(status_get '(me["state"], me["tcp"]["connections"],
		me["tcp"]["translated"], me["tcp_fast"])')" "draining 1 1 False" ||
		return 1
	says "still translate 1 connections" xkv_s status "$XKV_IF_S" ||
		return 1
	xkv_s stats "$XKV_IF_S" -j | "$PY" -c '
import json, sys
s = json.load(sys.stdin)[0]
assert "tcp" in s and "packets" not in s, s'
}

leftover_refuses_up() {
	local out rc=0 in
	in=$(tc_prog_id ingress)
	out=$(xkv_up 2>&1) || rc=$?
	echo "$out"
	[ "$rc" != 0 ] || { echo "up succeeded"; return 1; }
	echo "$out" | grep -q "still translates 1 connections" || return 1
	echo "$out" | grep -q "ingress prog id $in" || return 1
	[ -z "$(xdp_prog_id)" ] || { echo "XDP attached"; return 1; }
	eq "$(tc_prog_id ingress)" "$in" || return 1
	eq "$(status_get 'me["state"]')" draining
}

leftover_replaced() {
	local in
	in=$(tc_prog_id ingress)
	conn_entry del || return 1
	says "removed the TCP fast path's TC filters an earlier xkv left" \
		xkv_up || return 1
	[ -n "$(tc_prog_id ingress)" ] || return 1
	[ "$(tc_prog_id ingress)" != "$in" ] || { echo "same filter"; return 1; }
	eq "$(status_get '(me["state"], me["tcp_fast"])')" "up True"
}

# entries that need no translation: never answered on (0), closed both
# ways (MOVED|FIN_C|FIN_S), reset (MOVED|RST): down removes everything
down_idle_entries() {
	local pid
	xkv_up || return 1
	pid=$(backend_pid)
	conn_entry add 0 || return 1
	eq "$(status_get '(me["tcp"]["connections"], me["tcp"]["translated"])')" \
		"1 0" || return 1
	conn_entry del || return 1
	conn_entry add 0x70 || return 1
	conn_entry del || return 1
	conn_entry add 0x90 || return 1
	eq "$(status_get '(me["tcp"]["connections"], me["tcp"]["translated"])')" \
		"1 0" || return 1
	says "pins removed" xkv_s down "$XKV_IF_S" || return 1
	state_clean "$pid"
}

down_force() {
	local pid
	pid=$(backend_pid)
	conn_entry add || return 1
	xkv_s down --force "$XKV_IF_S" || return 1
	state_clean "$pid"
}

second_down() {
	xkv_up || return 1
	conn_entry add || return 1
	xkv_s down "$XKV_IF_S" >/dev/null || return 1
	eq "$(status_get 'me["state"]')" draining || return 1
	# still there: down again keeps them, and says so
	says "stay attached" xkv_s down "$XKV_IF_S" || return 1
	[ -n "$(tc_prog_id ingress)" ] || return 1
	conn_entry del || return 1
	xkv_s down "$XKV_IF_S" || return 1
	state_clean
}

# an "ingress" qdisc (not clsact) on the veth: no egress hook to attach to
tc_attach_fails() {
	local pid out
	in_s tc qdisc add dev "$XKV_IF_S" ingress || return 1
	out=$(xkv_up --tcp-fast on 2>&1) && { echo "up succeeded"; return 1; }
	echo "$out"
	echo "$out" | grep -q "cannot attach the TCP fast path's TC filters" ||
		return 1
	[ -z "$(xdp_prog_id)" ] || { echo "XDP attached"; return 1; }
	[ ! -e "$XKV_PINS" ] || { echo "pins left"; return 1; }
	no_tc_filter || return 1
	# by default: a warning, and XDP serves without the TCP fast path
	says "the TCP fast path stays off" xkv_up || return 1
	eq "$(status_get '(me["state"], me["tcp_fast"], me["tcp"]["answer"])')" \
		"up False False" || return 1
	eq "$(ctl_answer)" 0 || return 1
	not xkv_s tcp-fast "$XKV_IF_S" on || return 1
	pid=$(backend_pid)
	xkv_s down "$XKV_IF_S" || return 1
	in_s tc qdisc del dev "$XKV_IF_S" ingress || return 1
	state_clean "$pid"
}

attach_detach() {
	xkv_s attach "$XKV_IF_S" --mode "$XKV_NET_MODE" --tcp-fast on ||
		return 1
	[ -n "$(tc_prog_id ingress)" ] || return 1
	[ -n "$(tc_prog_id egress)" ] || return 1
	xkv_s detach "$XKV_IF_S" || return 1
	state_clean
}

memcached_off() {
	[ -x /usr/bin/memcached ] || { echo "no memcached: not run"; return 0; }
	local pid
	says "TCP fast path off: memcached cannot publish" \
		xkv_up --backend memcached -- -m 16 -t 1 || return 1
	# the learning filters only
	if in_s tc filter show dev "$XKV_IF_S" ingress | grep -q xkv_tc_in; then
		echo "TCP fast path filter attached"
		return 1
	fi
	eq "$(status_get '(me["tcp_fast"], me["tcp"])')" "False None" ||
		return 1
	pid=$(backend_pid)
	xkv_s down "$XKV_IF_S" || return 1
	state_clean "$pid"
}

# --- the plan ---------------------------------------------------------------

tap_plan 17
setup_pair
check "up --tcp-fast maybe: refused, names the flag, changes nothing" bad_flag
check "tcp-fast IFACE sideways: usage error" bad_switch
check "up --backend memcached --tcp-fast on: refused, changes nothing" \
	memcached_on_refused
check "up --tcp-fast off: no TC filter, status says off" off_no_filter
check "up: xkv_tc_in at ingress, xkv_tc_out at egress, answer = 1" \
	on_both_filters
check "tcp-fast off/on flips xkv_tcp_ctl, status -j follows" switch_off_on
check "stats -j: a tcp object with hits and every pass reason" stats_tcp
check "down after a closed TCP connection: nothing left" down_after_conn
check "down with a followed connection: filters and tcp pins stay, draining" \
	leftover_kept
check "up refuses while the leftover translates, naming it" \
	leftover_refuses_up
check "once the connection is gone, up replaces the leftover filters" \
	leftover_replaced
check "down --force removes filters with a connection open" down_force
check "down with entries that need no translation: nothing left" \
	down_idle_entries
check "down again keeps a busy leftover, removes an idle one" second_down
check "TC attach fails: --tcp-fast on refuses, default serves without" \
	tc_attach_fails
check "attach --tcp-fast on / detach" attach_detach
check "learning mode: TCP fast path off, and up says why" memcached_off
tap_done
