#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# xdp-store-tap.sh - the XDP store path in the VM (busybox sh; TAP, for
# tests/vm/init.sh's suite()): GETs that miss the hot cache answered at
# XDP from xkv.ko's store, through the module's kfunc. Needs /xkv.ko
# (built with module BTF), /xkv-nobtf.ko (the same without its .BTF
# section), and the guest's xkv, xkv-store and xkv-load.
#
#   1  "xkv up lo --backend module --xdp-store on": the store programs
#      (UDP and TCP) load (the verifier's counts are shown) and go in
#      their tail-call slots
#   2  "xkv status" and "xkv stats -j" show the store path on
#   3  xkv-store's fixtures (tests/vm/xkv-store.c): keys never in the hot
#      cache answered byte for byte from the store with the counters
#      moving (text get/gets, binary GET/GETQ/GETK/GETKQ and batches, mg
#      with every flag XDP answers), misses and expired items passed to
#      the module, an mg of a stale item or one whose token went out
#      passed to meta.c, a key being
#      rewritten never torn, a deleted key never served after DELETED,
#      the coherence rounds, delete and flush_all (store-path admission
#      off), then admission on: keys read only over UDP through the store
#      path served by the hot cache, bytes checked, sets and delete of
#      them coherent
#   4  "xkv-store tcp" (tests/vm/store-tcp.h): TCP GETs of keys never in
#      the hot cache answered by XDP from the store (program
#      xkv_store_tcp) byte for byte with the counters agreeing, gets and
#      its CAS, 3-key gets, misses and expired items passed to the
#      module, set-then-get coherence on one and across connections,
#      pipelined gets in order, binary GETs (batches, quiet forms,
#      pipelined) and mg (every flag XDP answers, base64 keys, t with a
#      TTL and without) answered from the store, their misses and stale
#      items passed to the module, hostile input (malformed binary and
#      meta requests, lines cut across segments, oversize keys) answered
#      by the module as memcached does and never by XDP, the connections
#      usable after
#   5  "xkv-store loss" (tests/vm/store-loss.h) while xdp_pass's TC
#      droppers lose XKV_LOSS_PCT % of the segments on lo each way (lo's
#      egress: what the sockets send; its ingress: what XDP passed or
#      sent): single, 3-key and pipelined gets, then binary GET, GETK,
#      "getkq getkq noop" and pipelined GETKs, then mg with return
#      flags, each phase on keys of its own stored over TCP, with sets
#      between them, every reply in order, byte for byte, and the last
#      value acknowledged; XDP answered some of each phase from the
#      store; both droppers dropped and the stack retransmitted
#   6  "rmmod xkv" is refused while the store program holds the module,
#      which goes on serving
#   7  "xkv down lo" unloads the module and removes everything
#   8  the module without BTF: "xkv up" says the store path is off and
#      serves with the hot cache alone (TCP and UDP answered)
#   9  the same with --xdp-store on: "up" fails, saying why, and leaves
#      nothing behind
#  10  no BUG, WARNING, Oops or lockup in the kernel log since step 1
#
# Prints "xkv-vm: vm/xdp-store ..." lines that tests/vm/run.sh shows.
#
#   XKV_STORE_KEYS  keys of the hit fixture (default 64)
#   XKV_STORE_SECS  seconds of the rewrite fixture (default 3)
#   XKV_LOSS_SECS   seconds of the loss fixture's text phase (default 6;
#                   its binary and mg phases take half as long each)
#   XKV_LOSS_PCT    percent of segments dropped each way (default 3)

IF=lo
OUT=/tmp/xdpstore.out
T_UP=60

# ok, not_ok, check, unloaded, tap_mark, dmesg_clean
# shellcheck source=tests/vm/tap-lib.sh
. /bin/xkv-tap-lib

say() {
	echo "xkv-vm: vm/xdp-store $*"
}

# nothing of xkv left: no module, no pins, no XDP
gone() {
	if [ -e /sys/fs/bpf/xkv/$IF ]; then
		echo "pins left in /sys/fs/bpf/xkv/$IF"
		return 1
	fi
	unloaded $IF
}

cleanup() {
	xdp_pass -n $IF 2>/dev/null
	timeout $T_UP xkv down $IF --force >/dev/null 2>&1
	rmmod xkv 2>/dev/null
}

up() {
	timeout $T_UP xkv up $IF --backend module --module /xkv.ko \
		--xdp-store on >/tmp/up.out 2>&1
	rc=$?
	cat /tmp/up.out
	[ $rc -eq 0 ] || return 1
	verified 'XDP store path on' xkv_store_xdp &&
		verified 'XDP store path over TCP on' xkv_store_tcp
}

# the verifier's count of program $2 from up's line saying $1
verified() {
	line=$(grep "$1" /tmp/up.out)
	[ -n "$line" ] || return 1
	insns=$(echo "$line" |
		sed -n 's/.*, \([0-9]*\) instructions verified.*/\1/p')
	say "verifier on $(uname -r): $2: $insns instructions processed"
}

shows() {
	xkv status $IF || return 1
	xkv status $IF | grep -q 'XDP store path: on' || return 1
	xkv stats -j $IF | tr -d ' \n' | grep -q '"xdp_store":{"on":true' ||
		return 1
	xkv status -j $IF | tr -d ' \n' | grep -q '"xdp_store":{"on":true'
}

fixtures() {
	xkv-store -p 11211 -U 11211 -i $IF -x xkv \
		-n "${XKV_STORE_KEYS:-64}" -T "${XKV_STORE_SECS:-3}"
	rc=$?
	xkv status $IF
	say "$(grep -c '^ok ' $OUT 2>/dev/null || true) fixtures passed;" \
		"$(sed -n 's/^# \([0-9]* UDP gets while.*\)/\1/p' $OUT)"
	say "$(sed -n 's/^# \(XDP time per UDP GET.*\)/\1/p' $OUT)"
	say "$(sed -n 's/^# \(store-path admission:.*\)/\1/p' $OUT)"
	return $rc
}

# the TCP fixtures: "xkv-store tcp" (tests/vm/store-tcp.h)
fixtures_tcp() {
	xkv-store -p 11211 -U 11211 -i $IF -x xkv \
		-n "${XKV_STORE_KEYS:-64}" tcp
	rc=$?
	xkv status $IF
	say "tcp: $(grep -c '^ok ' $OUT 2>/dev/null || true) checks passed;" \
		"$(sed -n 's/^ok [0-9]* - \(XDP answered [0-9]* of [0-9]*\).*/\1/p' \
			$OUT | head -n 1) TCP GETs from the store"
	return $rc
}

# the TCP fixtures under loss: "xkv-store loss" (tests/vm/store-loss.h)
# while xdp_pass's TC droppers drop segments both ways on lo
fixtures_loss() {
	pct=${XKV_LOSS_PCT:-3}
	xdp_pass -n -i "$pct" -e "$pct" $IF || return 1
	timeout 150 xkv-store -p 11211 -U 11211 -i $IF -x xkv \
		-T "${XKV_LOSS_SECS:-6}" loss
	rc=$?
	drops=$(xdp_pass -s $IF)
	xdp_pass -n $IF || rc=1
	echo "$drops"
	say "loss $pct% each way: $(sed -n 's/^ok [0-9]* - \([a-z]*:* *[0-9]* s: [0-9]* reads\).*/\1/p' \
		$OUT | tr '\n' ';')" \
		"XDP answered from the store: $(sed -n 's/^ok [0-9]* - \([a-z]*:* *\)XDP answered \([0-9]*\) GETs.*/\1\2/p' \
			$OUT | tr '\n' ';')" \
		"$(echo "$drops" | tr '\n' ' ')"
	[ $rc -eq 0 ] || return 1
	for d in rx tx; do
		if ! echo "$drops" | grep -q "^$d: seen [0-9]*, dropped [1-9]"; then
			echo "no segment dropped ($d)"
			return 1
		fi
	done
}

rmmod_refused() {
	if rmmod xkv; then
		echo "rmmod xkv succeeded with the store program loaded"
		return 1
	fi
	grep -q '^xkv ' /proc/modules || return 1
	xkv-load --check -p 11211 && xkv-load --udp-check -U 11211
}

down() {
	timeout $T_UP xkv down $IF || return 1
	gone
}

up_nobtf() {
	timeout $T_UP xkv up $IF --backend module --module /xkv-nobtf.ko \
		>/tmp/up.out 2>&1
	rc=$?
	cat /tmp/up.out
	[ $rc -eq 0 ] || return 1
	grep -q 'XDP store path off: xkv.ko was built without module BTF' \
		/tmp/up.out || return 1
	xkv-load --check -p 11211 && xkv-load --udp-check -U 11211 ||
		return 1
	xkv status $IF | grep -q 'XDP store path: off' || return 1
	timeout $T_UP xkv down $IF || return 1
	gone
}

refused_nobtf() {
	if timeout $T_UP xkv up $IF --backend module \
		--module /xkv-nobtf.ko --xdp-store on; then
		echo "up --xdp-store on succeeded without module BTF"
		return 1
	fi
	gone
}

tap_mark xdpstore
echo "1..10"
check "xkv up $IF --backend module --xdp-store on" up
check "status and stats -j show the store path on" shows
check "xkv-store: hits, misses, expired, rewritten, deleted, coherence" \
	fixtures
check "xkv-store tcp: TCP GETs, binary and mg answered from the store, misses, expired, gets, coherence, pipelined" \
	fixtures_tcp
check "xkv-store loss: TCP GETs (text, binary, mg) from the store while segments are lost both ways, replies in order, never stale" \
	fixtures_loss
check "rmmod refused while the store program holds the module" \
	rmmod_refused
check "xkv down unloads the module" down
cleanup
check "without module BTF: up says the store path is off, serves" up_nobtf
cleanup
check "without module BTF, --xdp-store on: up refused, nothing left" \
	refused_nobtf
cleanup
check "no oops or warning in the kernel log" dmesg_clean
[ $BAD -eq 0 ]
