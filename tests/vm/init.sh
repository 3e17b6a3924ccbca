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
#   connmem a 100-key get of 1 MB values comes back whole (streamed, under
#           read_buf_mem_limit=8); with conn_limit=3 idle_timeout=1,
#           half-line connections are closed and a new client is served
#   udpoff  insmod without udp_port=: no UDP socket (UDP is off unless
#           asked for); with udp_port= the policy is logged
#   refused bad parameters and a port in use: insmod fails, cleanly; a
#           slab_min_size between half and all of max_item_size is
#           refused by name (the core's one settings check)
#   bpf     the XDP program's BPF_PROG_TEST_RUN fixtures (test_xdp) on
#           this kernel: it verifies and behaves; prints the verifier's
#           instruction count
#   tcp     the TCP fast path's BPF_PROG_TEST_RUN fixtures (test_tcp):
#           xkv_xdp, xkv_tc_in and xkv_tc_out verify and behave on this
#           kernel; prints each one's verifier instruction count
#   memccapable
#           insmod, memccapable -a (libmemcached's conformance test), rmmod
#   memccapable-b
#           insmod, memccapable -b (the same for the binary protocol), rmmod
#   auth    xkv.ko sasl_pwdb= (xkvd -S) and auth_file= (-Y): the prototest
#           --sasl and --ascii-auth suites xkvd passes; auth_reload reads
#           the file again (a user added works, a removed one is refused,
#           a bad file fails the write and the old users stay); UDP,
#           both at once, missing, malformed, unsafe (mode, owner) files
#           refused at insmod by name; "xkv up -- -Y FILE" hands it on
#   hot     "xkv up lo --backend module": XDP (generic, on lo) in front of
#           the module, the hot cache handed over through /dev/xkv;
#           xkv-hot checks the ioctls and that UDP GETs of values stored
#           over TCP are answered by XDP, byte for byte, and never stale
#           after a SET, nor after a flush_all raced by GETs, nor past
#           the expiry the module applies when the wall clock steps; that
#           slots damaged through the map (key_len 65535, a sequence left
#           odd) cause no oops, no hang and no stale value; then detaches
#           and re-attaches the hot cache under load (toggle); "xkv
#           status" names the module and shows it renewing XDP's lease;
#           "xkv down" detaches, rmmods, unpins
#   auto    "xkv up lo" picks the module by itself; rmmod with the hot
#           cache attached is clean, empties it and ends XDP's lease;
#           "xkv down" then removes XDP and the pins
#   refused-up
#           xkv up with a missing module, one built for another kernel, a
#           parameter the module lacks, or one it refuses: fails, with the
#           reason (the module's own from the kernel log), and leaves no
#           module, pin or XDP program behind
#   foreground
#           "xkv up lo --backend module --foreground" until SIGTERM, which
#           takes everything down again
#   tcpfast "xkv up lo --backend module --tcp-fast on": xkv-stream's
#           checked TCP streams pass and the fast path's hits move; "xkv
#           down" (rmmod) with its connections open: they close or keep
#           working, the TC filters follow the draining rule, no oops
#           (tests/vm/tcpfast-tap.sh)
#   xdp-store
#           "xkv up lo --backend module --xdp-store on": GETs missing the
#           hot cache answered at XDP from the module's store through its
#           kfunc (xkv-store's fixtures), rmmod refused while the store
#           program holds the module, the module without BTF serving with
#           the store path off (tests/vm/xdp-store-tap.sh)
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
T_UP=60		# xkv up, xkv down

# vm_guest_start (scripts/vm-guest.sh)
# shellcheck source=scripts/vm-guest.sh
. /vm-guest.sh
vm_guest_start
mount -t bpf bpf /sys/fs/bpf
mkdir -p /run
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

# the kernel's own modules "xkv up" needs for the TCP fast path's TC
# filters (sch_ingress, cls_bpf), in tests/vm/run.sh's order
while read -r m; do
	insmod "/modules/$m" || fail "insmod /modules/$m"
done </modules/order

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

# --- connmem: streamed multi-get, idle timeout ------------------------------
PORT=11216
if load_module tcp_port=11216 udp_port=0 threads=2 read_buf_mem_limit=8; then
	xkv-load --bigget -p 11216 || fail "100-key get of 1 MB values"
	unload_module bigget
fi
if load_module tcp_port=11216 udp_port=0 conn_limit=3 idle_timeout=1; then
	xkv-load --idle 3 -p 11216 || fail "idle_timeout=1 with conn_limit=3"
	unload_module idle
fi

# --- udpoff: no UDP socket unless udp_port= asks for one --------------------
# 11217 = 0x2BD1
PORT=11217
if load_module tcp_port=11217 threads=1; then
	if grep -q ':2BD1 ' /proc/net/udp /proc/net/udp6; then
		fail "xkv.ko without udp_port= opened UDP port 11217"
	fi
	unload_module udpoff
fi
if load_module tcp_port=11217 udp_port=11217 udp_amp_ratio=10 \
	udp_allow=127.0.0.1/32 threads=1; then
	grep -q ':2BD1 ' /proc/net/udp /proc/net/udp6 ||
		fail "xkv.ko udp_port=11217 opened no UDP socket"
	dmesg | grep -q 'UDP answers 127.0.0.1/32, replies at most 10 x' ||
		fail "xkv.ko did not log its UDP policy"
	unload_module udppolicy
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
refuse "budget under 4 x max_item_size" read_buf_mem_limit=2
refuse "bad UDP allowlist" udp_port=11218 udp_allow=10.0.0.0/33
# finding 12: refused by the settings check, by name, not -ENOMEM
refuse "slab_min_size over half max_item_size" slab_min_size=600000
dmesg | tail -n 20 | grep -q 'invalid settings: slab_min_size' ||
	fail "slab_min_size=600000 not refused by name"
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

# --- bpf: the XDP program on this kernel --------------------------------------
suite bpf test_xdp
say "XDP program on $(uname -r): verifier" \
	"$(sed -n 's/^# verifier: //p' /tmp/bpf.tap | head -n 1)"

# --- tcp: the TCP fast path's programs on this kernel ------------------------
suite tcp test_tcp
sed -n 's/^# verifier (\([^)]*\)): /\1 /p' /tmp/tcp.tap |
	while read -r prog stats; do
		say "verifier on $(uname -r): $prog: $stats"
	done

# --- memccapable: libmemcached's conformance test against the module ---------
PORT=11215
if load_module tcp_port=11215 udp_port=0 threads=2; then
	suite memccapable memccapable-tap -a -t 5 -h 127.0.0.1 -p 11215
	unload_module memccapable
fi
if load_module tcp_port=11215 udp_port=0 threads=2; then
	suite memccapable-b memccapable-tap -b -t 5 -h 127.0.0.1 -p 11215
	unload_module memccapable-b
fi

# --- auth: SASL and ASCII tokens in the module, as xkvd -S and -Y ------------
# every line says what it checks; the suites are the ones xkvd passes
# (tests/run.sh: prototest --sasl, prototest --ascii-auth)
PW=/run/xkv-auth.pw
listening() {	# listening PORT: a TCP listener on PORT within 5 s
	hex=$(printf '%04X' "$1")
	i=0
	while ! grep -q ":$hex [0-9A-F:]* 0A" /proc/net/tcp /proc/net/tcp6; do
		i=$((i + 1))
		[ $i -lt 50 ] || return 1
		sleep 0.1
	done
}
load_auth() {	# load_auth PORT PARAM...: insmod, wait for the listener
	aport=$1
	shift
	if ! insmod /xkv.ko tcp_port="$aport" threads=2 "$@"; then
		fail "insmod xkv.ko tcp_port=$aport $*"
		return 1
	fi
	listening "$aport" || fail "xkv.ko $* does not listen on $aport"
}
reload_auth() {	# reload_auth WHAT: echo 1 > auth_reload must work
	if ! echo 1 >/sys/module/xkv/parameters/auth_reload; then
		fail "auth_reload ($1) refused"
	fi
}
must_log() {	# must_log PATTERN WHAT: the kernel said PATTERN lately
	dmesg | tail -n 20 | grep -q "$1" || fail "$2: no '$1' in dmesg"
}
printf 'xkvtest:pwA\nother:x\n' >$PW
chmod 600 $PW
say "auth-sasl: xkv.ko sasl_pwdb=FILE runs xkv-prototest --sasl (xkvd -S)"
if load_auth 11219 sasl_pwdb=$PW; then
	suite auth-sasl xkv-prototest -p 11219 --sasl xkvtest:pwA
	grep -q ':2BD3 ' /proc/net/udp /proc/net/udp6 &&
		fail "xkv.ko sasl_pwdb= opened UDP port 11219"
	say "auth-sasl-reload: a user added to the file authenticates after" \
		"auth_reload, a removed one is refused"
	printf 'carol:n3w\nother:x\n' >$PW
	reload_auth sasl_pwdb
	suite auth-sasl-reload xkv-prototest -p 11219 --sasl carol:n3w \
		--refused xkvtest:pwA
	say "auth-sasl-badreload: a reload of a file others may read fails" \
		"the write, carol still authenticates"
	chmod 644 $PW
	echo 1 >/sys/module/xkv/parameters/auth_reload 2>/dev/null &&
		fail "auth_reload of a mode 644 file accepted"
	must_log "sasl_pwdb=$PW: readable by users other than root" \
		"auth_reload of a mode 644 file"
	chmod 600 $PW
	suite auth-sasl-badreload xkv-prototest -p 11219 --sasl carol:n3w
	unload_module auth-sasl
fi
printf 'alice:s3cret\nbob:pw two\n' >$PW
say "auth-ascii: xkv.ko auth_file=FILE runs xkv-prototest --ascii-auth (xkvd -Y)"
if load_auth 11219 auth_file=$PW; then
	suite auth-ascii xkv-prototest -p 11219 --ascii-auth alice:s3cret
	say "auth-ascii-reload: a token added to the file works after" \
		"auth_reload, a removed one is refused"
	printf 'carol:n3w\nbob:pw two\n' >$PW
	reload_auth auth_file
	suite auth-ascii-reload xkv-prototest -p 11219 \
		--ascii-auth carol:n3w --refused alice:s3cret
	say "auth-ascii-badreload: a malformed file fails the write," \
		"carol's token still works"
	printf 'carol\n' >$PW
	echo 1 >/sys/module/xkv/parameters/auth_reload 2>/dev/null &&
		fail "auth_reload of a malformed -Y file accepted"
	must_log "has a malformed entry" "auth_reload of a malformed file"
	suite auth-ascii-badreload xkv-prototest -p 11219 \
		--ascii-auth carol:n3w
	unload_module auth-ascii
fi
# refused at load, each with its reason in dmesg
say "auth-refused: UDP, both kinds, missing, malformed, unsafe files and" \
	"auth_reload at load fail insmod with the reason named"
printf 'alice:s3cret\n' >$PW
chmod 600 $PW
refuse "SASL with UDP" sasl_pwdb=$PW udp_port=11219
must_log "Cannot enable UDP while using binary SASL" "sasl_pwdb= udp_port="
refuse "-Y with UDP" auth_file=$PW udp_port=11219
must_log "Cannot use UDP with ascii authentication" "auth_file= udp_port="
refuse "SASL and -Y" sasl_pwdb=$PW auth_file=$PW
must_log "cannot be used together" "sasl_pwdb= auth_file="
refuse "no such file" auth_file=/run/nonexistent.pw
must_log "auth_file=/run/nonexistent.pw: cannot open it" "a missing file"
chmod 604 $PW
refuse "a file others may read" auth_file=$PW
must_log "readable by users other than root" "a mode 604 file"
chmod 620 $PW
chown 0:1000 $PW
refuse "a file a group may write" sasl_pwdb=$PW
must_log "writable by users other than root" "a group-writable file"
chmod 600 $PW
chown 1000:0 $PW
refuse "a file not root's" sasl_pwdb=$PW
must_log "not owned by root" "a file owned by uid 1000"
chown 0:0 $PW
printf 'alice\n' >$PW
refuse "a malformed -Y file" auth_file=$PW
must_log "auth_file=$PW has a malformed entry" "a malformed -Y file"
printf 'alice:s3cret\n' >$PW
refuse "auth_reload at load" auth_file=$PW auth_reload=1
must_log "auth_reload: only at run time" "auth_reload=1 at insmod"

# --- auth-up: xkv up hands -Y to the module --------------------------------
say "auth-up: xkv up lo --backend module -- -Y FILE -A -X" \
	"idle_timeout=30: auth_file= given, -A and -X and idle_timeout=" \
	"reach the module, UDP off, prototest --ascii-auth passes, xkv down"
if timeout $T_UP xkv up lo --backend module --module /xkv.ko \
	--xdp-store off -- -Y $PW -A -X idle_timeout=30 >/tmp/up.out 2>&1; then
	cat /tmp/up.out
	P=/sys/module/xkv/parameters
	[ "$(cat $P/shutdown_command)" = Y ] ||
		fail "xkv up -- -A: shutdown_command is $(cat $P/shutdown_command)"
	[ "$(cat $P/disable_dumping)" = Y ] ||
		fail "xkv up -- -X: disable_dumping is $(cat $P/disable_dumping)"
	[ "$(cat $P/idle_timeout)" = 30 ] ||
		fail "xkv up -- idle_timeout=30: it is $(cat $P/idle_timeout)"
	grep -q "auth_file=$PW" /tmp/up.out ||
		fail "xkv up -- -Y: no auth_file= in what it loaded"
	grep -q ':2BCB ' /proc/net/udp /proc/net/udp6 &&
		fail "xkv up -- -Y: the module opened UDP port 11211"
	suite auth-up xkv-prototest -p 11211 --ascii-auth alice:s3cret
	timeout $T_UP xkv down lo || fail "xkv down lo (-Y)"
else
	cat /tmp/up.out
	fail "xkv up lo --backend module -- -Y $PW"
	timeout $T_UP xkv down lo
	rmmod xkv 2>/dev/null
fi
say "auth-up-nopwdb: xkv up -- -S without MEMCACHED_SASL_PWDB is refused" \
	"naming -S"
if timeout $T_UP xkv up lo --backend module --module /xkv.ko -- -S \
	>/tmp/up.out 2>&1; then
	fail "xkv up -- -S without MEMCACHED_SASL_PWDB succeeded"
	timeout $T_UP xkv down lo
else
	grep -q "'-S' needs MEMCACHED_SASL_PWDB" /tmp/up.out ||
		fail "xkv up -- -S: no reason naming -S: $(cat /tmp/up.out)"
fi
timeout $T_UP xkv down lo >/dev/null 2>&1
rmmod xkv 2>/dev/null
[ -e /sys/fs/bpf/xkv/lo ] && fail "pins left in /sys/fs/bpf/xkv/lo after auth-up"
rm -f $PW

# --- hot: xkv up with the module behind XDP on lo ----------------------------
not_up() {	# not_up WHAT: xkv down left nothing behind
	if grep -q '^xkv ' /proc/modules; then
		fail "xkv.ko still loaded after $1"
	fi
	if [ -e /sys/fs/bpf/xkv/lo ]; then
		fail "pins left in /sys/fs/bpf/xkv/lo after $1"
	fi
	if ip link show lo | grep -q xdp; then
		fail "XDP still attached to lo after $1"
	fi
}

say "xkv up lo --backend module"
# the hot cache alone: with the XDP store path on, misses would be
# answered from the store and the hot cache's counters not be its own
# (the store path has its suite, xdp-store, below)
if timeout $T_UP xkv up lo --backend module --module /xkv.ko \
	--xdp-store off >/tmp/up.out 2>&1; then
	cat /tmp/up.out
	suite hot xkv-hot -p 11211 -U 11211 -i lo -x /bin/xkv -n 200
	# the hot cache changes hands while the workers are busy
	xkv-load -p 11211 -U 11211 -c 16 -s 10 >/tmp/load.out 2>&1 &
	LOAD=$!
	sleep 1
	suite toggle xkv-hot -i lo -T 20
	wait $LOAD
	rc=$?
	say "load during the toggles: $(tail -n 1 /tmp/load.out)"
	[ $rc -eq 0 ] || fail "xkv-load exited $rc during the toggles"
	xkv status lo >/tmp/status.out 2>&1
	cat /tmp/status.out
	grep -q 'backend: xkv.ko' /tmp/status.out ||
		fail "xkv status does not name xkv.ko as lo's backend"
	grep -Eq 'lease: [1-9][0-9]* ms left' /tmp/status.out ||
		fail "xkv status: xkv.ko does not renew XDP's lease"
	xkv stats lo | grep -E '^  (hits|replies|misses|pass_busy) '
	if ! timeout $T_UP xkv down lo; then
		fail "xkv down lo (module backend)"
	fi
	not_up "xkv down (module backend)"
else
	cat /tmp/up.out
	fail "xkv up lo --backend module"
	timeout $T_UP xkv down lo
	rmmod xkv 2>/dev/null
fi

# --- auto: the module chosen by itself; rmmod with the hot cache attached ----
say "xkv up lo (auto)"
# --xdp-store off: the store program would hold the module (rmmod refused,
# as xdp-store checks)
if XKV_MODULE=/xkv.ko timeout $T_UP xkv up lo --xdp-store off \
	>/tmp/up.out 2>&1; then
	cat /tmp/up.out
	grep -q 'backend xkv.ko' /tmp/up.out ||
		fail "xkv up (auto) did not choose xkv.ko"
	xkv-load --check -p 11211 || fail "no reply from the auto backend"
	xkv-load --udp-check -U 11211 || fail "no UDP reply (auto backend)"
	# the module lets go of the hot cache by itself when it goes
	unload_module "with the hot cache attached"
	xkv status lo >/tmp/status.out 2>&1
	grep -q '^lo: attached' /tmp/status.out ||
		fail "xkv status: lo not 'attached' after rmmod"
	# a module gone ends XDP's lease: XDP serves nothing of it
	grep -q 'lease: run out' /tmp/status.out ||
		fail "xkv status: XDP's lease outlived the module"
	if ! timeout $T_UP xkv down lo; then
		fail "xkv down lo (after rmmod)"
	fi
	not_up "xkv down (after rmmod)"
else
	cat /tmp/up.out
	fail "xkv up lo (auto)"
	timeout $T_UP xkv down lo
	rmmod xkv 2>/dev/null
fi

# --- refused-up: an xkv up whose module cannot work changes nothing ----------
refuse_up() {	# refuse_up PATTERN ARG...: must fail, print PATTERN
	pattern=$1
	shift
	if timeout $T_UP xkv up lo "$@" >/tmp/refused.out 2>&1; then
		fail "xkv up lo $* succeeded"
		timeout $T_UP xkv down lo
	elif ! grep -q "$pattern" /tmp/refused.out; then
		cat /tmp/refused.out
		fail "xkv up lo $*: no '$pattern' in its messages"
	fi
	not_up "xkv up lo $* (refused)"
	rmmod xkv 2>/dev/null
}
refuse_up "there is no /nonexistent.ko" --backend module \
	--module /nonexistent.ko
refuse_up "is built for kernel 9" --backend module --module /xkv-other.ko
# auto would take xkvd, and there is none in the guest
refuse_up "xkv.ko cannot be used: /xkv-other.ko is built for kernel 9" \
	--module /xkv-other.ko
refuse_up "'bogus=1' is not a parameter of xkv.ko" --backend module \
	--module /xkv.ko -- bogus=1
# the module itself refuses: its message comes back from the kernel log
refuse_up "kernel: xkv: cannot listen on TCP 10.9.8.7:11211" \
	--backend module --module /xkv.ko -- listen=10.9.8.7

# --- foreground: "xkv up --foreground" with the module, ended by SIGTERM ------
say "xkv up lo --backend module --foreground"
xkv up lo --backend module --module /xkv.ko --foreground >/tmp/fg.out 2>&1 &
UP=$!
# the module answers as soon as it is loaded, before up has handed it the
# hot cache: wait for both (20 s at most)
i=0
while ! xkv-load --check -p 11211 >/dev/null 2>&1 ||
	! xkv status lo 2>/dev/null | grep -q 'backend: xkv.ko'; do
	i=$((i + 1))
	[ $i -lt 100 ] || break
	sleep 0.2
done
xkv status lo | grep -q 'backend: xkv.ko' ||
	fail "xkv up --foreground: xkv.ko is not lo's backend"
kill -TERM $UP
i=0
while kill -0 $UP 2>/dev/null; do
	i=$((i + 1))
	if [ $i -ge $((T_UP * 5)) ]; then
		fail "xkv up --foreground did not end on SIGTERM"
		kill -KILL $UP
		break
	fi
	sleep 0.2
done
wait $UP
rc=$?
cat /tmp/fg.out
[ $rc -eq 0 ] || fail "xkv up --foreground exited $rc after SIGTERM"
not_up "SIGTERM to xkv up --foreground"
timeout $T_UP xkv down lo >/dev/null 2>&1
rmmod xkv 2>/dev/null

# --- tcpfast: the TCP fast path with the module behind it --------------------
suite tcpfast xkv-tcpfast-tap
timeout $T_UP xkv down lo --force >/dev/null 2>&1
rmmod xkv 2>/dev/null

# --- xdp-store: XDP answers from the module's whole store ---------------------
suite xdp-store xkv-xdp-store-tap
timeout $T_UP xkv down lo --force >/dev/null 2>&1
rmmod xkv 2>/dev/null

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
