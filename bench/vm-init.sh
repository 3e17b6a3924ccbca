#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# vm-init.sh - /init of bench/vmbench.sh's initramfs (busybox sh, no bash).
#
# Inside the guest, on 127.0.0.1 port 11211, static xkv-bench measures
#   memcached  /bin/memcached -l 127.0.0.1 -p 11211 -U 11211 -t N
#              (only when vmbench.sh -i copied it in)
#   xkv.ko     insmod /xkv.ko tcp_port=11211 udp_port=11211 threads=N
#   xkvd       /bin/xkvd -l 127.0.0.1 -p 11211 -U 11211 -t N
#   xkv.ko+xdp-hot, xkv.ko+xdp-store  (only when vmbench.sh -L copied the
#              loader in) xkv up lo --backend module --module /xkv.ko
#              --tcp-fast off -t N -m MEM_MB, with --xdp-store off, then
#              with --xdp-store on --cache-slots 64 (GETs from the store)
# each over TCP (preloading every key first) then UDP (keys already there),
# with the settings of /bench.conf (written by vmbench.sh; the client
# runs at nice CLIENT_NICE).
#
# With VETH=1 (vmbench.sh -X) the client runs in its own network namespace
# behind a veth pair instead: xs (10.99.0.1, the servers') and xc
# (10.99.0.2, the client's), both with a native XDP program (xdp_pass, two
# instructions, on xc always and on xs when no xkv tier is there: the same
# path for every row) and both with threaded NAPI, so the frames each end
# receives are handled by its own kernel thread ("napi/xs-N", "napi/xc-N")
# rather than in whichever task raised the softirq. The rows are then
# memcached, xkv.ko and xkvd alone, and, through "xkv up xs" (native XDP,
# TCP fast path on): xkv.ko+xdp (hot cache of 16384 slots, XDP store path
# on), xkv.ko+xdp-store (the same with 64 slots: GETs mostly from the
# store) and xkvd+xdp (xkvd behind the same hot cache and TCP fast path).
# Every run
# prints one line on the console:
#   XKV-VMBENCH {"server": ..., "proto": ..., "rc": N, "bench": {...}}
# with xkv-bench's own JSON (null when it printed none); the last line is
# "XKV-VMBENCH-END failed=N", after which the VM powers off.

PATH=/bin
export PATH

# vm_guest_start (scripts/vm-guest.sh)
# shellcheck source=scripts/vm-guest.sh
. /vm-guest.sh
vm_guest_start

# DURATION WARMUP KEYS THREADS MEM_MB ICOUNT CLIENT_NICE VETH
VETH=0
# shellcheck source=/dev/null
. /bench.conf

PORT=11211
SRV=127.0.0.1
# how the client is started: in its namespace with VETH=1
CNS=
IN_CLIENT=
# 11211 = 0x2BCB
HEXPORT=2BCB
CLIENT="-t 1 -c 4 -w 4 -k $KEYS -K 16 -v 32 -r 1:0 -z 0.99"
T_RUN=$((DURATION + WARMUP + 120))
FAILED=0

say() {
	echo "xkv-vmbench: $*"
}

# listening: TCP in LISTEN and a UDP socket bound on PORT (IPv4 or, for
# "any", IPv6)
listening() {
	grep -q ":$HEXPORT [0-9A-F:]* 0A" /proc/net/tcp /proc/net/tcp6 &&
		grep -q ":$HEXPORT " /proc/net/udp /proc/net/udp6
}

wait_listen() {	# wait_listen WHAT
	i=0
	while ! listening; do
		i=$((i + 1))
		if [ $i -ge 100 ]; then
			say "FAIL: $1 does not listen on $PORT"
			FAILED=$((FAILED + 1))
			return 1
		fi
		sleep 0.1
	done
	return 0
}

run() {	# run SERVER PROTO XKV-BENCH-ARGS...
	srv=$1
	proto=$2
	shift 2
	# shellcheck disable=SC2086
	# shellcheck disable=SC2016 # $0, $$ and $@ are the inner shell's
	timeout $T_RUN $IN_CLIENT \
		sh -c 'renice -n "$0" $$ >/dev/null; exec "$@"' \
		"$CLIENT_NICE" xkv-bench -s $SRV -p $PORT $CLIENT "$@" \
		-W "$WARMUP" -d "$DURATION" -j >/tmp/run.json 2>/tmp/run.err
	rc=$?
	json=$(tr -d '\n' </tmp/run.json)
	[ -n "$json" ] || json=null
	echo "XKV-VMBENCH {\"server\": \"$srv\", \"proto\": \"$proto\"," \
		"\"rc\": $rc, \"bench\": $json}"
	if [ $rc -ne 0 ]; then
		sed 's/^/xkv-vmbench: /' /tmp/run.err
		FAILED=$((FAILED + 1))
	fi
}

# both protocols: TCP preloads every key, UDP reads them. Over the veth
# TCP keeps one GET in flight per connection (-w 1): the TCP fast path
# answers only when the backend owes nothing before, which a window of
# pipelined GETs never allows; every row there gets the same client.
TCP_WINDOW=
[ "$VETH" = 1 ] && TCP_WINDOW="-w 1"
both() {	# both SERVER
	# shellcheck disable=SC2086
	run "$1" tcp -T $TCP_WINDOW
	run "$1" udp -U -n -o 1000
}

echo
say "kernel $(uname -r), $(nproc) CPUs, ${DURATION} s runs"

# threaded NAPI on IFACE (it needs the NAPI instances an XDP program
# creates); in the client's namespace with "client"
napi_threaded() {	# napi_threaded IFACE [client]
	if [ "$2" = client ]; then
		# /sys shows the namespace that mounted it: mount the client's
		# shellcheck disable=SC2016 # $0 is the inner shell's
		$IN_CLIENT unshare -m sh -c 'mount -t sysfs sysfs /sys &&
			echo 1 >/sys/class/net/$0/threaded' "$1"
	else
		echo 1 >"/sys/class/net/$1/threaded"
	fi || say "FAIL: threaded NAPI on $1"
}

# the plain XDP_PASS program back on xs, NAPI threaded again
xs_pass() {
	xdp_pass xs || say "FAIL: xdp_pass xs"
	napi_threaded xs
}

veth_setup() {
	me=$(readlink /proc/self/ns/net)
	unshare -n sleep 1000000 &
	CNS=$!
	i=0
	while [ "$(readlink /proc/$CNS/ns/net)" = "$me" ] && [ $i -lt 50 ]; do
		i=$((i + 1))
		sleep 0.1
	done
	IN_CLIENT="nsenter --net=/proc/$CNS/ns/net"
	# busybox's ip names the peer veth0
	if ! { ip link add xs type veth &&
		ip link set veth0 netns $CNS &&
		$IN_CLIENT ip link set veth0 name xc &&
		ip addr add 10.99.0.1/24 dev xs && ip link set xs up &&
		$IN_CLIENT ip addr add 10.99.0.2/24 dev xc &&
		$IN_CLIENT ip link set xc up && $IN_CLIENT ip link set lo up &&
		$IN_CLIENT xdp_pass xc; }; then
		say "FAIL: veth pair"
		FAILED=$((FAILED + 1))
		return 1
	fi
	napi_threaded xc client
	xs_pass
	SRV=10.99.0.1
	say "veth: $(ip -o link show xs | cut -c 1-60)"
	say "veth: NAPI threads:" \
		"$(ps | sed -n 's/.*\[\(napi\/[^]]*\)\].*/\1/p' | tr '\n' ' ')"
}

# the kernel's modules vmbench.sh copied in (-L: clsact, cls_bpf, veth)
if [ -f /modules/order ]; then
	while read -r m; do
		insmod "/modules/$m"
	done </modules/order
fi
if [ "$VETH" = 1 ]; then
	# the loader's pid files (xkvd behind "xkv up")
	mkdir -p /run
	veth_setup
fi

# a daemon in the background: start it, measure both protocols, stop it
daemon() {	# daemon NAME COMMAND...
	name=$1
	shift
	"$@" >/tmp/daemon.log 2>&1 &
	pid=$!
	if wait_listen "$name"; then
		both "$name"
	fi
	kill -TERM $pid 2>/dev/null
	wait $pid
	sed "s/^/xkv-vmbench: $name: /" /tmp/daemon.log
	# the port is free again before the next server binds it
	i=0
	while listening && [ $i -lt 50 ]; do
		i=$((i + 1))
		sleep 0.1
	done
}

if [ -x /bin/memcached ]; then
	daemon memcached memcached -l $SRV -p $PORT -U $PORT \
		-t "$THREADS" -m "$MEM_MB" -u root
fi

if insmod /xkv.ko tcp_port=$PORT udp_port=$PORT threads="$THREADS" \
	memory_limit="$MEM_MB" listen=$SRV; then
	wait_listen xkv.ko && both xkv.ko
	if ! timeout 30 rmmod xkv; then
		say "FAIL: rmmod xkv"
		FAILED=$((FAILED + 1))
	fi
else
	say "FAIL: insmod xkv.ko"
	FAILED=$((FAILED + 1))
fi

# xkv.ko behind XDP on lo, through the loader (issue 11): the hot cache
# alone, then the XDP store path (GETs answered from the module's store
# through its kfunc) with a hot cache too small to matter
xdp_up() {	# xdp_up NAME XKV-UP-ARGS...
	name=$1
	shift
	if [ "$VETH" = 1 ]; then
		xdp_pass -d xs
	fi
	if timeout 60 xkv up $XDP_IF -t "$THREADS" -m "$MEM_MB" "$@" \
		>/tmp/up.out 2>&1; then
		sed "s/^/xkv-vmbench: $name: /" /tmp/up.out
		[ "$VETH" = 1 ] && napi_threaded xs
		wait_listen "$name" && both "$name"
		xkv stats $XDP_IF 2>&1 | sed "s/^/xkv-vmbench: $name: /"
	else
		sed "s/^/xkv-vmbench: $name: /" /tmp/up.out
		say "FAIL: xkv up ($name)"
		FAILED=$((FAILED + 1))
	fi
	timeout 60 xkv down $XDP_IF >/dev/null 2>&1
	rmmod xkv 2>/dev/null
	if [ "$VETH" = 1 ]; then
		xs_pass
	fi
}

if [ -x /bin/xkv ]; then
	mount -t bpf bpf /sys/fs/bpf
	if [ "$VETH" = 1 ]; then
		XDP_IF=xs
		MOD="--backend module --module /xkv.ko --tcp-fast on"
		# shellcheck disable=SC2086
		xdp_up xkv.ko+xdp $MOD --xdp-store on
		# shellcheck disable=SC2086
		xdp_up xkv.ko+xdp-store $MOD --xdp-store on --cache-slots 64
		xdp_up xkvd+xdp --backend xkvd --backend-cmd /bin/xkvd \
			--user root --tcp-fast on
	else
		XDP_IF=lo
		MOD="--backend module --module /xkv.ko --tcp-fast off"
		# shellcheck disable=SC2086
		xdp_up xkv.ko+xdp-hot $MOD --xdp-store off
		# shellcheck disable=SC2086
		xdp_up xkv.ko+xdp-store $MOD --xdp-store on --cache-slots 64
	fi
fi

daemon xkvd xkvd -l $SRV -p $PORT -U $PORT -t "$THREADS" -m "$MEM_MB"

if [ -n "$CNS" ]; then
	kill "$CNS" 2>/dev/null
	ip link del xs 2>/dev/null
fi

echo "XKV-VMBENCH-END failed=$FAILED"
sync
poweroff -f
