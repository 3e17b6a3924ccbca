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
# runs at nice CLIENT_NICE). Every run
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

# DURATION WARMUP KEYS THREADS MEM_MB ICOUNT CLIENT_NICE
# shellcheck source=/dev/null
. /bench.conf

PORT=11211
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
	timeout $T_RUN sh -c 'renice -n "$0" $$ >/dev/null; exec "$@"' \
		"$CLIENT_NICE" xkv-bench -s 127.0.0.1 -p $PORT "$@" $CLIENT \
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

# both protocols: TCP preloads every key, UDP reads them
both() {	# both SERVER
	run "$1" tcp -T
	run "$1" udp -U -n -o 1000
}

echo
say "kernel $(uname -r), $(nproc) CPUs, ${DURATION} s runs"

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
	daemon memcached memcached -l 127.0.0.1 -p $PORT -U $PORT \
		-t "$THREADS" -m "$MEM_MB" -u root
fi

if insmod /xkv.ko tcp_port=$PORT udp_port=$PORT threads="$THREADS" \
	memory_limit="$MEM_MB"; then
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
	if timeout 60 xkv up lo --backend module --module /xkv.ko \
		--tcp-fast off -t "$THREADS" -m "$MEM_MB" "$@" \
		>/tmp/up.out 2>&1; then
		sed "s/^/xkv-vmbench: $name: /" /tmp/up.out
		wait_listen "$name" && both "$name"
		xkv stats lo 2>&1 | sed "s/^/xkv-vmbench: $name: /"
	else
		sed "s/^/xkv-vmbench: $name: /" /tmp/up.out
		say "FAIL: xkv up ($name)"
		FAILED=$((FAILED + 1))
	fi
	timeout 60 xkv down lo >/dev/null 2>&1
	rmmod xkv 2>/dev/null
}

if [ -x /bin/xkv ]; then
	mount -t bpf bpf /sys/fs/bpf
	if [ -f /modules/order ]; then
		while read -r m; do
			insmod "/modules/$m"
		done </modules/order
	fi
	xdp_up xkv.ko+xdp-hot --xdp-store off
	xdp_up xkv.ko+xdp-store --xdp-store on --cache-slots 64
fi

daemon xkvd xkvd -l 127.0.0.1 -p $PORT -U $PORT -t "$THREADS" -m "$MEM_MB"

echo "XKV-VMBENCH-END failed=$FAILED"
sync
poweroff -f
