#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# hotdensity.sh - keys the XDP hot cache serves per MiB of pinned kernel
# memory (issue 11's density figure).
#
#   bench/hotdensity.sh [-s SLOTS] [-k KEYS] [-K KEYLEN] [-V VALLEN] [-c] [-j]
#
# In two network namespaces joined by a veth pair (tests/net/lib.sh; no
# host interface is touched): "xkv up" on the server end with xkvd and
# --cache-slots SLOTS (default 1024, 2 MiB), then from the client end
# bench/hotdensity.py sets KEYS keys (default 25 x SLOTS, more than the
# cache can hold) of KEYLEN bytes (default 16) with VALLEN-byte values
# (default 32) over TCP and GETs every key over UDP four times, each time
# in a new random order (-c: in key order, a scan; see bench/hotdensity.py);
# the XDP hits of the last pass ("xkv stats -j") are the keys served. The memory
# is the pinned xkv_hot map's, as the kernel charges it (bpftool's
# bytes_memlock). Prints keys served per MiB (-j: one JSON object).
# Every UDP reply is checked against the value set; exit status 1 on a
# bad one. Run it under the heavy lock (flock /work/coord/heavy.lock, on
# the shared development machine). Needs root.
set -euo pipefail
# shellcheck source=tests/net/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../tests/net/lib.sh"

SLOTS=1024
KEYS=
KLEN=16
VLEN=32
JSON=0
ORDER=random
usage() {
	sed -n '7p' "${BASH_SOURCE[0]}" | sed 's/^#   /usage: /' >&2
	exit 2
}
while getopts "s:k:K:V:cjh" o; do
	case $o in
	s) SLOTS=$OPTARG ;;
	k) KEYS=$OPTARG ;;
	K) KLEN=$OPTARG ;;
	V) VLEN=$OPTARG ;;
	c) ORDER=cyclic ;;
	j) JSON=1 ;;
	*) usage ;;
	esac
done
KEYS=${KEYS:-$((SLOTS * 25))}

skip_unless_root >/dev/null
command -v bpftool >/dev/null || { echo "hotdensity: needs bpftool" >&2; exit 1; }

setup_pair
# a few times the item memory the keys need, so the store evicts none
mem=$(( (KEYS * (KLEN + VLEN + 64)) / 1048576 + 64 ))
xkv_up --backend xkvd --cache-slots "$SLOTS" -m "$mem" -q
out=$(in_c "$PY" bench/hotdensity.py "$XKV_ADDR_S" 11211 --xkv "$XKV" \
	--iface "$XKV_IF_S" --keys "$KEYS" --key-size "$KLEN" \
	--value-size "$VLEN" --order "$ORDER") || { echo "hotdensity: client failed: $out" >&2; exit 1; }
memlock=$(in_s bpftool map show pinned "$XKV_PINS/xkv_hot" -j |
	"$PY" -c 'import json, sys; print(json.load(sys.stdin)["bytes_memlock"])')
status=$(xkv_s status "$XKV_IF_S" | head -n 1)

"$PY" - "$out" "$memlock" "$SLOTS" "$JSON" "$status" <<'EOF'
import json, sys
r = json.loads(sys.argv[1])
memlock, slots, js = int(sys.argv[2]), int(sys.argv[3]), sys.argv[4] == "1"
mib = memlock / 1048576.0
r.update({"slots": slots, "map_bytes_memlock": memlock,
          "keys_served_per_mib": r["xdp_hits"] / mib})
if js:
    print(json.dumps(r))
else:
    print("%s" % sys.argv[5])
    print("%d keys of %d bytes, %d-byte values, %d slots (%.2f MiB "
          "pinned), %d passes in %s order: XDP served %d of them on the "
          "last pass (%d bad, %d lost replies): %.0f keys served per "
          "MiB" % (r["keys"], r["key_size"], r["value_size"], slots, mib,
                   r["passes"], r["order"], r["xdp_hits"], r["bad"],
                   r["lost"], r["keys_served_per_mib"]))
EOF
