#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# init.sh - /init of the VM test's initramfs (busybox sh, no bash).
#
# Steps, in order; each failure is recorded and the run goes on, so one
# console log shows everything that went wrong:
#
#   proto   insmod xkv.ko (TCP and UDP 11211, debug_clock=1), run
#           xkv-prototest --debugtime over TCP and UDP, rmmod
#   evict   insmod with memory_limit=2 udp_port=0, run
#           xkv-prototest --evict, rmmod
#   unload  insmod, start xkv-load (active, idle, half-sent and stuck
#           clients plus UDP), rmmod while it runs: rmmod must return 0
#           in time and the clients must have been served before
#   cycles  the same, five times: rmmod 0 to 1.5 s into the load, with
#           1 to 4 workers
#   reload  insmod again (the ports must be free), "version" answered
#           over TCP and UDP, rmmod with no client
#   limits  listen=127.0.0.1 conn_limit=4 verbose=2: four clients served,
#           the fifth told "ERROR Too many open connections"
#   refused bad parameters and a port in use: insmod fails, cleanly
#   dmesg   no BUG, WARNING, Oops, lockup or leak report from the kernel,
#           no taint but "out-of-tree" and "unsigned"
#
# Each TAP suite is framed on the console by
#   XKV-SUITE-BEGIN <name>  ...TAP...  XKV-SUITE-END <name> rc=<status>
# and the run ends with one "XKV-VMTEST: PASS" or "XKV-VMTEST: FAIL ..."
# line, after which the VM powers off.

PATH=/bin
export PATH

T_PROTO=300	# one prototest run
T_RMMOD=30	# rmmod, under load or not
T_LOAD=20	# xkv-load's own bound

/bin/busybox mkdir -p /proc /sys /dev /tmp
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev 2>/dev/null
mount -t tmpfs tmp /tmp
[ -c /dev/console ] && exec </dev/console >/dev/console 2>&1
ip link set lo up
# a hung rmmod shows its stack in the log long before the host gives up
[ -w /proc/sys/kernel/hung_task_timeout_secs ] &&
	echo 20 >/proc/sys/kernel/hung_task_timeout_secs

FAILED=""

say() {
	echo "xkv-vm: $*"
}

fail() {
	say "FAIL: $*"
	FAILED="$FAILED [$*]"
}

finish() {
	if [ -z "$FAILED" ]; then
		echo "XKV-VMTEST: PASS"
	else
		say "kernel log:"
		dmesg
		echo "XKV-VMTEST: FAIL$FAILED"
	fi
	sync
	poweroff -f
}

load_module() {	# load_module PARAM...
	if ! insmod /xkv.ko "$@"; then
		fail "insmod xkv.ko $*"
		return 1
	fi
	# the sockets are open when insmod returns; still, wait for a reply
	i=0
	while ! xkv-load --check -p "${PORT:-11211}" >/dev/null 2>&1; do
		i=$((i + 1))
		if [ $i -ge 20 ]; then
			fail "xkv.ko $* does not answer on port ${PORT:-11211}"
			return 1
		fi
		sleep 0.2
	done
	return 0
}

unload_module() {	# unload_module WHAT
	if ! timeout $T_RMMOD rmmod xkv; then
		fail "rmmod xkv ($1) failed or hung"
		return 1
	fi
	if grep -q '^xkv ' /proc/modules; then
		fail "xkv still loaded after rmmod ($1)"
		return 1
	fi
	return 0
}

suite() {	# suite NAME CMD...
	name=$1
	shift
	echo "XKV-SUITE-BEGIN $name"
	timeout $T_PROTO "$@" >"/tmp/$name.tap" 2>&1
	rc=$?
	cat "/tmp/$name.tap"
	echo "XKV-SUITE-END $name rc=$rc"
	pass=$(grep -c '^ok ' "/tmp/$name.tap")
	bad=$(grep -c '^not ok ' "/tmp/$name.tap")
	say "suite $name: $pass passed, $bad failed, exit $rc"
	[ "$rc" -eq 0 ] || fail "suite $name exited $rc"
}

# the firmware leaves its last line unterminated on the console
echo
say "kernel $(uname -r), $(nproc) CPUs"
START=$(cut -d. -f1 /proc/uptime)

# --- proto: the protocol suite over TCP and UDP ---------------------------
PORT=11211
if load_module tcp_port=11211 udp_port=11211 debug_clock=1 threads=2; then
	suite proto xkv-prototest -h 127.0.0.1 -p 11211 -U 11211 --debugtime
	unload_module proto
fi

# --- evict: a 2 MB store ----------------------------------------------------
PORT=11212
if load_module tcp_port=11212 udp_port=0 memory_limit=2 threads=2; then
	suite evict xkv-prototest -h 127.0.0.1 -p 11212 --evict
	unload_module evict
fi

# --- unload: rmmod with clients connected and traffic in flight -----------
PORT=11211
if load_module tcp_port=11211 udp_port=11211 threads=2; then
	xkv-load -p 11211 -U 11211 -c 32 -s $T_LOAD >/tmp/load.out 2>&1 &
	LOAD=$!
	# traffic flows, then a little more of it, then pull the module
	i=0
	while ! grep -q 'replies are coming' /tmp/load.out; do
		i=$((i + 1))
		[ $i -lt 100 ] || break
		sleep 0.1
	done
	sleep 1
	if ! kill -0 $LOAD 2>/dev/null; then
		fail "xkv-load ended before rmmod"
	fi
	say "rmmod under load"
	T0=$(cut -d' ' -f1 /proc/uptime)
	unload_module "under load"
	T1=$(cut -d' ' -f1 /proc/uptime)
	say "rmmod took $T0 -> $T1 s (uptime)"
	wait $LOAD
	rc=$?
	cat /tmp/load.out
	[ $rc -eq 0 ] || fail "xkv-load exited $rc (no replies before rmmod?)"
fi

# --- cycles: rmmod at different moments of the load, different pools ------
for c in 0:1 0.2:4 0.5:1 1:3 1.5:2; do
	delay=${c%:*}
	workers=${c#*:}
	if load_module tcp_port=11211 udp_port=11211 threads="$workers"; then
		xkv-load -p 11211 -U 11211 -c 24 -s 10 >/tmp/cycle.out 2>&1 &
		LOAD=$!
		sleep "$delay"
		unload_module "cycle after ${delay}s, $workers workers"
		wait $LOAD
		say "cycle after ${delay}s, $workers workers:" \
			"$(tail -n 1 /tmp/cycle.out)"
	fi
done

# --- reload: the ports are free again ---------------------------------------
if load_module tcp_port=11211 udp_port=11211; then
	xkv-load --check -p 11211 || fail "no reply after reload"
	xkv-load --udp-check -U 11211 || fail "no UDP reply after reload"
	unload_module reload
fi

# --- limits: listen address, connection limit, verbose logging ---------------
PORT=11213
if load_module tcp_port=11213 udp_port=0 listen=127.0.0.1 conn_limit=4 \
	verbose=2; then
	xkv-load --limit 4 -p 11213 || fail "conn_limit=4 not enforced"
	unload_module limits
fi

# --- refused: bad parameters and a busy port fail the load cleanly ----------
refuse() {	# refuse WHY PARAM...
	why=$1
	shift
	if insmod /xkv.ko "$@" 2>/dev/null; then
		fail "insmod $* succeeded ($why)"
		rmmod xkv
	elif grep -q '^xkv ' /proc/modules; then
		fail "xkv loaded after a failed insmod $*"
	fi
}
refuse "no memory" memory_limit=0
refuse "item over half the memory" memory_limit=4 max_item_size=3m
refuse "not an address" listen=no.such.address
refuse "nothing to serve" tcp_port=0 udp_port=0
refuse "bad growth factor" slab_growth_factor=1.0
nc -l -p 11214 >/dev/null 2>&1 &
NC=$!
i=0
# 11214 = 0x2BCE; state 0A = LISTEN
while ! grep -q ':2BCE [0-9A-F:]* 0A' /proc/net/tcp /proc/net/tcp6; do
	i=$((i + 1))
	[ $i -lt 50 ] || break
	sleep 0.1
done
refuse "port in use" tcp_port=11214 udp_port=0
kill $NC 2>/dev/null
wait $NC 2>/dev/null

# --- phase 2 hooks -----------------------------------------------------------
# memccapable -a against the module (shipped with its libraries by run.sh)
# and the XDP hot-cache checks through /dev/xkv go here, each in its own
# load_module ... unload_module block.

# --- dmesg: what the kernel saw ---------------------------------------------
BAD='BUG|WARNING|Oops|Call Trace|general protection|soft lockup|hung_task'
BAD="$BAD|stall|not freed|still referenced|Objects remaining"
if dmesg | grep -E "$BAD"; then
	fail "the kernel log reports a problem (above)"
fi
# taint bits other than O (4096, out-of-tree) and E (8192, unsigned)
taint=$(cat /proc/sys/kernel/tainted)
if [ $((taint & ~(4096 | 8192))) -ne 0 ]; then
	fail "kernel tainted: $taint"
fi

END=$(cut -d. -f1 /proc/uptime)
say "tests took $((END - START)) s of guest time"
finish
