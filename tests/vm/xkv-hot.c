// SPDX-License-Identifier: GPL-2.0
/*
 * xkv-hot - the XDP hot tier in front of xkv.ko, checked from inside the
 * VM after "xkv up IFACE --backend module" (TAP on stdout).
 *
 *   xkv-hot [-p PORT] [-U PORT] [-i IFACE] [-x XKV] [-n ROUNDS]
 *   xkv-hot -T CYCLES [-i IFACE]
 *
 * /dev/xkv (abi/xkv_ioctl.h):
 *   - XKV_IOC_INFO names the interface's pinned xkv_hot map and the ports;
 *   - a second XKV_IOC_HOT_ATTACH is refused with EBUSY; a bad fd, a
 *     non-map fd, a read-only map fd and maps that are not an xkv hot
 *     cache (hash, not mmapable, wrong value size, slots not a power of
 *     two) are refused; an unknown ioctl is ENOTTY;
 *   - without CAP_NET_ADMIN both open() and ioctl() fail with EPERM.
 * The hot tier (IPv4 UDP to 127.0.0.1, generic XDP on lo):
 *   - a value stored over TCP is served to UDP GETs byte for byte (frame
 *     header with the request id, VALUE line, data, END), and the XDP
 *     "hits" counter (xkv stats IFACE -j) proves that XDP answered them;
 *   - ROUNDS times: SET a new value over TCP, then one UDP GET: it must
 *     return the new value, never the old one, and XDP answers each;
 *   - delete and flush_all remove the key's entry: the next GET is END,
 *     from the module;
 *   - after XKV_IOC_HOT_DETACH nothing is served from the slots, and the
 *     module's replies are still right; re-attaching works;
 *   - GETs over TCP running while flush_all is sent: once it answered OK,
 *     every UDP GET of a key stored before it misses (rounds of it);
 *   - the guest's wall clock stepped 2 h forward, then back, with an item
 *     cached: XDP and the module both keep serving it (the store's clock
 *     is monotonic, as memcached's); an item that expires is refused by
 *     both, XDP not answering it;
 *   - slots written through the map (mmap()ed writable) as a broken or
 *     hostile process would: the map's last slot filled with 0xff bytes
 *     (@used and every entry field out of range), a cached key's slot
 *     left at an odd sequence. The module neither reads past the map nor
 *     hangs: writers of those keys are acknowledged promptly, no stale
 *     value is served, flush_all works.
 *
 * The TCP fast path's table (XKV_IOC_TCP_ATTACH, a map made here, as no
 * XDP object pins one yet):
 *   - maps that are not an xkv_tcp_ans table are refused; attaching frees
 *     an entry a dead backend left;
 *   - a new TCP connection is registered at its addresses (LIVE, family 4,
 *     ports), and once it is answered "done" counts exactly the bytes
 *     sent and received; a set's value sent in pieces is not published
 *     until it ends; closing frees the entry;
 *   - XKV_IOC_TCP_DETACH frees the entries of open connections, which are
 *     served on; a second detach is ENOENT.
 *
 * -T: only detach and re-attach the hot cache CYCLES times, as fast as
 * the module allows (run it while xkv-load keeps the workers busy: the
 * store's hot-cache pointer changes under their feet).
 *
 * Built statically with glibc (it needs the kernel's uapi headers, which
 * musl lacks); no name lookups, only numeric addresses.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <linux/bpf.h>
#include <linux/capability.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "xkv_ioctl.h"
#include "xkv_slot.h"
#include "xkv_tcp.h"
#include "tap.h"
#include "vmclient.h"

#define UDP_HDR 8
#define BUF_MAX 4096
#define SLOT_SIZE ((int)sizeof(struct xkv_slot))

static int rounds = 100;
static int tcp_fd = -1, udp_fd = -1;
static uint16_t req_id;

/* --- bpf(2) and /dev/xkv -------------------------------------------------- */

static int pin_get(const char *path, __u32 flags)
{
	union bpf_attr a;

	memset(&a, 0, sizeof(a));
	a.pathname = (__u64)(unsigned long)path;
	a.file_flags = flags;
	return sys_bpf(BPF_OBJ_GET, &a);
}

static __u32 map_id(int fd, __u32 *max_entries)
{
	struct bpf_map_info info;

	if (vm_obj_info(fd, &info, sizeof(info)))
		return 0;
	if (max_entries)
		*max_entries = info.max_entries;
	return info.id;
}

static int map_create(__u32 type, __u32 value_size, __u32 entries,
		      __u32 flags)
{
	union bpf_attr a;

	memset(&a, 0, sizeof(a));
	a.map_type = type;
	a.key_size = 4;
	a.value_size = value_size;
	a.max_entries = entries;
	a.map_flags = flags;
	return sys_bpf(BPF_MAP_CREATE, &a);
}

/* XKV_IOC_HOT_ATTACH with @fd: 0 or the errno */
static int attach(int dev, int fd, struct xkv_ioc_hot *out)
{
	struct xkv_ioc_hot arg = { .map_fd = fd };

	if (ioctl(dev, XKV_IOC_HOT_ATTACH, &arg))
		return errno;
	if (out)
		*out = arg;
	return 0;
}

/* XKV_IOC_HOT_ATTACH with a fresh map of the given shape: the errno */
static int attach_map(int dev, __u32 type, __u32 value_size, __u32 entries,
		      __u32 flags)
{
	int fd = map_create(type, value_size, entries, flags), err;

	if (fd < 0) {
		tap_diag("cannot create a test map: %s", strerror(errno));
		return -1;
	}
	err = attach(dev, fd, NULL);
	close(fd);
	return err;
}

/* in a child without any capability: what open() and ioctl() say */
static void check_no_cap(int dev)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct data[2];
	struct xkv_ioc_info info;
	int status, code = 0;
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		memset(data, 0, sizeof(data));
		if (syscall(SYS_capset, &hdr, data))
			_exit(9);
		if (open(XKV_DEV_PATH, O_RDWR) >= 0 || errno != EPERM)
			code |= 1;
		if (!ioctl(dev, XKV_IOC_INFO, &info) || errno != EPERM)
			code |= 2;
		_exit(code);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		status = 0x7f00;
	code = WEXITSTATUS(status);
	tap_ok(code != 9 && !(code & 1),
	       "without CAP_NET_ADMIN, open(/dev/xkv) is EPERM");
	tap_ok(code != 9 && !(code & 2),
	       "without CAP_NET_ADMIN, an ioctl on an open /dev/xkv is EPERM");
}

static void test_ioctls(const char *pin)
{
	struct xkv_ioc_info info;
	__u32 id, nslots = 0;
	int dev, fd, ro;

	dev = open(XKV_DEV_PATH, O_RDWR | O_CLOEXEC);
	fd = pin_get(pin, 0);
	if (dev < 0 || fd < 0) {
		tap_diag("open %s: %s, %s: %s", XKV_DEV_PATH,
			 dev < 0 ? strerror(errno) : "ok", pin,
			 fd < 0 ? strerror(errno) : "ok");
		tap_bail("no /dev/xkv or no pinned hot cache");
	}
	id = map_id(fd, &nslots);
	memset(&info, 0, sizeof(info));
	tap_ok(!ioctl(dev, XKV_IOC_INFO, &info), "XKV_IOC_INFO");
	tap_is_u64(info.abi, XKV_IOC_ABI, "the module's ioctl ABI");
	tap_is_u64(info.tcp_port, tcp_port, "the module serves TCP port");
	tap_is_u64(info.udp_port, udp_port, "the module serves UDP port");
	tap_ok(id && info.hot_map_id == id,
	       "the module has %s attached (map id %u, module says %u)", pin,
	       id, info.hot_map_id);
	tap_is_u64(info.hot_nslots, nslots, "... with all its slots");

	tap_is_i64(attach(dev, fd, NULL), EBUSY,
		   "a second attach is refused with EBUSY");
	tap_is_i64(attach(dev, -1, NULL), EBADF, "attach fd -1: EBADF");
	tap_is_i64(attach(dev, dev, NULL), EINVAL,
		   "attach a fd that is not a BPF map: EINVAL");
	ro = pin_get(pin, BPF_F_RDONLY);
	tap_is_i64(ro >= 0 ? attach(dev, ro, NULL) : -1, EPERM,
		   "attach a read-only map fd: EPERM");
	if (ro >= 0)
		close(ro);
	tap_is_i64(attach_map(dev, BPF_MAP_TYPE_HASH, SLOT_SIZE, 64, 0),
		   EINVAL, "attach a hash map: EINVAL");
	tap_is_i64(attach_map(dev, BPF_MAP_TYPE_ARRAY, SLOT_SIZE, 64, 0),
		   EINVAL, "attach an array without BPF_F_MMAPABLE: EINVAL");
	tap_is_i64(attach_map(dev, BPF_MAP_TYPE_ARRAY, SLOT_SIZE / 2, 64,
			      BPF_F_MMAPABLE),
		   EINVAL, "attach an array of 1 KiB values: EINVAL");
	tap_is_i64(attach_map(dev, BPF_MAP_TYPE_ARRAY, SLOT_SIZE, 48,
			      BPF_F_MMAPABLE),
		   EINVAL,
		   "attach an array of 48 slots (not a power of two): EINVAL");
	tap_ok(ioctl(dev, _IO(XKV_IOC_MAGIC, 99)) && errno == ENOTTY,
	       "an unknown ioctl: ENOTTY");
	check_no_cap(dev);
	memset(&info, 0, sizeof(info));
	tap_ok(!ioctl(dev, XKV_IOC_INFO, &info) && info.hot_map_id == id,
	       "after all that, the hot cache is still attached");
	close(fd);
	close(dev);
}

/* --- clients -------------------------------------------------------------- */

/* one TCP command, its one-line reply into @line */
static int tcp_cmd(const char *req, char *line, size_t cap)
{
	return vm_tcp_line(tcp_fd, req, strlen(req), line, cap);
}

static bool tcp_expect(const char *req, const char *want)
{
	char line[256];

	if (tcp_cmd(req, line, sizeof(line))) {
		tap_diag("TCP: no reply to %.40s", req);
		return false;
	}
	if (strcmp(line, want)) {
		tap_diag("TCP: %.40s got %s", req, line);
		return false;
	}
	return true;
}

static bool tcp_set(const char *key, const char *val)
{
	char req[BUF_MAX];

	snprintf(req, sizeof(req), "set %s 7 0 %zu\r\n%s\r\n", key,
		 strlen(val), val);
	return tcp_expect(req, "STORED\r\n");
}

/* one UDP "get KEY": the reply's payload, frame header included */
static ssize_t udp_get(const char *key, char *reply, size_t cap)
{
	char req[512];
	size_t n;
	ssize_t r;

	req_id++;
	req[0] = (char)(req_id >> 8);
	req[1] = (char)req_id;
	memset(req + 2, 0, 6);
	req[5] = 1;	/* one datagram */
	n = UDP_HDR + (size_t)snprintf(req + UDP_HDR, sizeof(req) - UDP_HDR,
				       "get %s\r\n", key);
	if (send(udp_fd, req, n, 0) != (ssize_t)n)
		return -1;
	/* a late reply to an earlier request would carry another id */
	for (;;) {
		r = recv(udp_fd, reply, cap, 0);
		if (r < UDP_HDR)
			return -1;
		if ((uint8_t)reply[0] == (uint8_t)(req_id >> 8) &&
		    (uint8_t)reply[1] == (uint8_t)req_id)
			return r;
	}
}

/* the exact reply to "get KEY": frame header, then the text */
static size_t expected(const char *key, const char *val, char *buf,
		       size_t cap)
{
	memset(buf, 0, UDP_HDR);
	buf[0] = (char)(req_id >> 8);
	buf[1] = (char)req_id;
	buf[5] = 1;
	if (!val)
		return UDP_HDR + (size_t)snprintf(buf + UDP_HDR, cap - UDP_HDR,
						  "END\r\n");
	return UDP_HDR + (size_t)snprintf(buf + UDP_HDR, cap - UDP_HDR,
					  "VALUE %s 7 %zu\r\n%s\r\nEND\r\n",
					  key, strlen(val), val);
}

/* a UDP get whose reply must be exactly @val (NULL: a miss) */
static bool get_is(const char *key, const char *val, bool quiet)
{
	char got[BUF_MAX], want[BUF_MAX];
	ssize_t n = udp_get(key, got, sizeof(got));
	size_t wn;

	if (n < 0) {
		tap_diag("UDP get %s: no reply (%s)", key, strerror(errno));
		return false;
	}
	wn = expected(key, val, want, sizeof(want));
	if ((size_t)n == wn && !memcmp(got, want, wn))
		return true;
	if (!quiet)
		tap_show_diff(got, (size_t)n, want, wn);
	return false;
}

/* the XDP counter @name, summed over the CPUs, from "xkv stats -j" */
static long long xdp_stat(const char *name)
{
	return vm_xkv_stat(NULL, name);
}

/* --- the hot tier --------------------------------------------------------- */

static void test_serve(void)
{
	const char *key = "vm:hot:key";
	const char *v1 = "the first value, 32 bytes long!!";
	long long h0, h1;
	int i, good = 0;

	tap_ok(tcp_set(key, v1), "set %s over TCP: STORED", key);
	/* the module answers the first GET and admits the key */
	tap_ok(get_is(key, v1, false), "the first UDP get returns it exactly");
	h0 = xdp_stat("hits");
	for (i = 0; i < 50; i++)
		good += get_is(key, v1, good < i);
	h1 = xdp_stat("hits");
	tap_is_u64(good, 50, "50 more UDP gets return it byte for byte");
	tap_diag("XDP hits %lld -> %lld", h0, h1);
	tap_ok(h0 >= 0 && h1 - h0 == 50, "XDP answered all 50 (hits +%lld)",
	       h1 - h0);
}

static void test_rewrite(void)
{
	const char *key = "vm:hot:key";
	char val[64], prev[64] = "";
	int i, fresh = 0, stale = 0, setok = 0;
	long long h0, h1;

	h0 = xdp_stat("hits");
	for (i = 0; i < rounds; i++) {
		snprintf(val, sizeof(val), "round %d of %d, value %08x", i,
			 rounds, (unsigned int)(i * 2654435761u));
		setok += tcp_set(key, val);
		if (get_is(key, val, fresh < i))
			fresh++;
		else if (prev[0] && get_is(key, prev, true))
			stale++;
		snprintf(prev, sizeof(prev), "%s", val);
	}
	h1 = xdp_stat("hits");
	tap_is_u64(setok, rounds, "%d sets over TCP: STORED", rounds);
	tap_is_u64(fresh, rounds,
		   "the UDP get after each set returns the new value");
	tap_is_u64(stale, 0, "no UDP get after a set returned the old value");
	tap_diag("XDP hits %lld -> %lld over %d rounds", h0, h1, rounds);
	tap_ok(h0 >= 0 && h1 - h0 == rounds,
	       "XDP answered every one of them from the rewritten slot (hits +%lld)",
	       h1 - h0);
}

static void test_invalidate(void)
{
	const char *key = "vm:hot:key";
	long long h0, h1;

	tap_ok(tcp_expect("delete vm:hot:key\r\n", "DELETED\r\n"),
	       "delete over TCP: DELETED");
	h0 = xdp_stat("hits");
	tap_ok(get_is(key, NULL, false), "the UDP get after delete: END");
	tap_ok(tcp_set(key, "back again"), "set it again");
	tap_ok(get_is(key, "back again", false) &&
		       get_is(key, "back again", false),
	       "two UDP gets return the new value");
	tap_ok(tcp_expect("flush_all\r\n", "OK\r\n"), "flush_all: OK");
	tap_ok(get_is(key, NULL, false), "the UDP get after flush_all: END");
	h1 = xdp_stat("hits");
	tap_diag("XDP hits %lld -> %lld", h0, h1);
	tap_ok(h1 - h0 <= 1, "XDP served nothing that was deleted or flushed");
}

static void test_detach(const char *pin)
{
	const char *key = "vm:detach";
	struct xkv_ioc_info info;
	struct xkv_ioc_hot arg = { 0 };
	long long h0, h1;
	int dev, fd, i, err, good = 0;

	tap_ok(tcp_set(key, "cached") && get_is(key, "cached", false) &&
		       get_is(key, "cached", false),
	       "a key in the hot cache before detaching");
	dev = open(XKV_DEV_PATH, O_RDWR | O_CLOEXEC);
	tap_ok(dev >= 0 && !ioctl(dev, XKV_IOC_HOT_DETACH),
	       "XKV_IOC_HOT_DETACH");
	tap_ok(ioctl(dev, XKV_IOC_HOT_DETACH) && errno == ENOENT,
	       "a second detach: ENOENT");
	memset(&info, 0, sizeof(info));
	tap_ok(!ioctl(dev, XKV_IOC_INFO, &info) && !info.hot_map_id,
	       "XKV_IOC_INFO: no hot cache");
	h0 = xdp_stat("hits");
	for (i = 0; i < 10; i++)
		good += get_is(key, "cached", good < i);
	tap_ok(tcp_set(key, "changed") && get_is(key, "changed", false),
	       "set then get without a hot cache: the new value");
	h1 = xdp_stat("hits");
	tap_is_u64(good, 10, "the module answers UDP gets itself");
	tap_ok(h1 == h0,
	       "XDP serves nothing from the emptied slots (hits +%lld)",
	       h1 - h0);
	fd = pin_get(pin, 0);
	err = fd >= 0 ? attach(dev, fd, &arg) : EBADF;
	tap_ok(!err && arg.map_id == map_id(fd, NULL),
	       "re-attach the hot cache (map id %u, %u slots): %s", arg.map_id,
	       arg.nslots, strerror(err));
	if (fd >= 0)
		close(fd);
	if (dev >= 0)
		close(dev);
	get_is(key, "changed", true);	/* admits it again */
	h0 = xdp_stat("hits");
	tap_ok(get_is(key, "changed", false), "UDP get after re-attach");
	h1 = xdp_stat("hits");
	tap_ok(h1 - h0 == 1, "... answered by XDP again (hits +%lld)", h1 - h0);
}

/* --- the TCP fast path's table ------------------------------------------- */

#define TCP_ANS_LEN ((size_t)XKV_TCP_ANS_SLOTS * sizeof(struct xkv_tcp_ans))

/* XKV_IOC_TCP_ATTACH with a fresh map of the given shape: the errno */
static int tcp_attach_map(int dev, __u32 type, __u32 value_size,
			  __u32 entries, __u32 flags)
{
	struct xkv_ioc_map arg = { 0 };
	int fd = map_create(type, value_size, entries, flags), err = 0;

	if (fd < 0)
		return -1;
	arg.map_fd = fd;
	if (ioctl(dev, XKV_IOC_TCP_ATTACH, &arg))
		err = errno;
	close(fd);
	return err;
}

/* the LIVE entry of the connection on socket @fd, as XDP finds it */
static struct xkv_tcp_ans *tcp_entry(struct xkv_tcp_ans *tab, int fd,
				     __u32 *first)
{
	struct sockaddr_in me, peer;
	socklen_t len = sizeof(me);
	__be32 c[4] = { 0 }, s[4] = { 0 };
	__u32 idx, k;

	if (getsockname(fd, (struct sockaddr *)&me, &len))
		return NULL;
	len = sizeof(peer);
	if (getpeername(fd, (struct sockaddr *)&peer, &len))
		return NULL;
	/* the server's client is us: its client address is our own */
	c[0] = me.sin_addr.s_addr;
	s[0] = peer.sin_addr.s_addr;
	idx = xkv_tcp_ans_index(c, s, me.sin_port, peer.sin_port);
	if (first)
		*first = idx;
	for (k = 0; k < XKV_TCP_ANS_PROBES; k++) {
		struct xkv_tcp_ans *e =
			&tab[(idx + k) & (XKV_TCP_ANS_SLOTS - 1)];

		if (__atomic_load_n(&e->owner, __ATOMIC_ACQUIRE) ==
			    XKV_TCP_ANS_LIVE &&
		    e->family == 4 && e->cport == me.sin_port &&
		    e->sport == peer.sin_port && !memcmp(e->caddr, c, 16) &&
		    !memcmp(e->saddr, s, 16))
			return e;
	}
	return NULL;
}

/* wait up to 2 s for the module to publish @want on @e */
static bool tcp_done_is(struct xkv_tcp_ans *e, __u64 want)
{
	int i;

	for (i = 0; i < 200; i++) {
		if (__atomic_load_n(&e->done, __ATOMIC_ACQUIRE) == want)
			return true;
		usleep(10000);
	}
	tap_diag("done: got in %u out %u, want in %u out %u",
		 (unsigned int)e->done, (unsigned int)(e->done >> 32),
		 (unsigned int)want, (unsigned int)(want >> 32));
	return false;
}

/* wait up to 2 s for the entry at @idx's run to hold no LIVE entry */
static bool tcp_run_free(struct xkv_tcp_ans *tab, __u32 idx)
{
	int i, k, live;

	for (i = 0; i < 200; i++) {
		for (k = 0, live = 0; k < XKV_TCP_ANS_PROBES; k++)
			live += tab[(idx + k) & (XKV_TCP_ANS_SLOTS - 1)].owner
				!= XKV_TCP_ANS_FREE;
		if (!live)
			return true;
		usleep(10000);
	}
	return false;
}

/* send @req, read until the reply ends with @end; the reply's length */
static ssize_t tcp_exchange(int fd, const char *req, const char *end)
{
	size_t n = 0, elen = strlen(end);
	char buf[BUF_MAX];
	ssize_t r;

	if (req && send(fd, req, strlen(req), MSG_NOSIGNAL) !=
			       (ssize_t)strlen(req))
		return -1;
	while (n < sizeof(buf) - 1) {
		r = recv(fd, buf + n, sizeof(buf) - 1 - n, 0);
		if (r <= 0)
			return -1;
		n += (size_t)r;
		if (n >= elen && !memcmp(buf + n - elen, end, elen))
			return (ssize_t)n;
	}
	return -1;
}

static void test_tcp_fast(void)
{
	static const char set1[] = "set vm:tf 0 0 5\r\nabc";
	static const char set2[] = "de\r\n";
	static const char get[] = "get vm:tf\r\n";
	struct xkv_ioc_map arg = { 0 };
	struct xkv_tcp_ans *tab, *e;
	__u32 in = 0, out = 0, idx = 0;
	int dev, fd, c1, c2;
	ssize_t n;

	dev = open(XKV_DEV_PATH, O_RDWR | O_CLOEXEC);
	if (dev < 0)
		tap_bail("cannot open " XKV_DEV_PATH);
	tap_is_u64(tcp_attach_map(dev, BPF_MAP_TYPE_ARRAY,
				  sizeof(struct xkv_tcp_ans),
				  XKV_TCP_ANS_SLOTS, 0),
		   EINVAL, "TCP fast path: a map that is not mmapable: EINVAL");
	tap_is_u64(tcp_attach_map(dev, BPF_MAP_TYPE_ARRAY, 32,
				  XKV_TCP_ANS_SLOTS, BPF_F_MMAPABLE),
		   EINVAL, "TCP fast path: wrong value size: EINVAL");
	tap_is_u64(tcp_attach_map(dev, BPF_MAP_TYPE_ARRAY,
				  sizeof(struct xkv_tcp_ans), 1024,
				  BPF_F_MMAPABLE),
		   EINVAL, "TCP fast path: wrong entry count: EINVAL");

	fd = map_create(BPF_MAP_TYPE_ARRAY, sizeof(struct xkv_tcp_ans),
			XKV_TCP_ANS_SLOTS, BPF_F_MMAPABLE);
	tab = fd < 0 ? MAP_FAILED :
		       mmap(NULL, TCP_ANS_LEN, PROT_READ | PROT_WRITE,
			    MAP_SHARED, fd, 0);
	if (tab == MAP_FAILED)
		tap_bail("cannot make an xkv_tcp_ans map");
	tab[5].owner = XKV_TCP_ANS_LIVE;	/* left by a dead backend */
	arg.map_fd = fd;
	n = ioctl(dev, XKV_IOC_TCP_ATTACH, &arg);
	tap_ok(!n && arg.map_id && arg.map_id == map_id(fd, NULL),
	       "XKV_IOC_TCP_ATTACH (map id %u)", arg.map_id);
	tap_is_u64(tab[5].owner, XKV_TCP_ANS_FREE,
		   "attaching frees a left-over entry");

	c1 = vm_sock_open(SOCK_STREAM, tcp_port);
	/* the module claims when it accepts: give it a moment */
	for (n = 0; c1 >= 0 && n < 200 && !(e = tcp_entry(tab, c1, &idx));
	     n++)
		usleep(10000);
	e = c1 >= 0 ? tcp_entry(tab, c1, &idx) : NULL;
	tap_ok(e, "a new connection is registered at its addresses");
	if (!e)
		goto detach;
	tap_ok(!e->done && !e->hits, "... nothing answered yet");

	n = send(c1, set1, strlen(set1), MSG_NOSIGNAL);
	in += (__u32)n;
	usleep(200000);
	tap_is_u64(e->done, 0, "inside a set's value: nothing published");
	n = tcp_exchange(c1, set2, "STORED\r\n");
	in += (__u32)strlen(set2);
	out += (__u32)n;
	tap_ok(n > 0 && tcp_done_is(e, xkv_tcp_ans_pack(in, out)),
	       "the set answered: done = %u in, %u out", in, out);
	n = tcp_exchange(c1, get, "END\r\n");
	in += (__u32)strlen(get);
	out += (__u32)n;
	tap_ok(n > 0 && tcp_done_is(e, xkv_tcp_ans_pack(in, out)),
	       "a get answered: done = %u in, %u out", in, out);
	close(c1);
	tap_ok(tcp_run_free(tab, idx), "closing frees the entry");

	c2 = vm_sock_open(SOCK_STREAM, tcp_port);
	for (n = 0; c2 >= 0 && n < 200 && !tcp_entry(tab, c2, &idx); n++)
		usleep(10000);
	tap_ok(c2 >= 0 && tcp_entry(tab, c2, &idx),
	       "a second connection is registered");
	tap_ok(!ioctl(dev, XKV_IOC_TCP_DETACH), "XKV_IOC_TCP_DETACH");
	tap_ok(tcp_run_free(tab, idx),
	       "detaching frees an open connection's entry");
	tap_ok(c2 >= 0 && tcp_exchange(c2, get, "END\r\n") > 0,
	       "... which is served on");
	tap_ok(ioctl(dev, XKV_IOC_TCP_DETACH) && errno == ENOENT,
	       "a second detach: ENOENT");
	if (c2 >= 0)
		close(c2);
	munmap(tab, TCP_ANS_LEN);
	close(fd);
	close(dev);
	return;

detach:
	ioctl(dev, XKV_IOC_TCP_DETACH);
	if (c1 >= 0)
		close(c1);
	munmap(tab, TCP_ANS_LEN);
	close(fd);
	close(dev);
}

/* --- races, clocks and a damaged map -------------------------------------- */

/* "get KEY" over TCP: 1 and the value in @val, 0 for END, -1 on error */
static int tcp_get(const char *key, char *val, size_t cap)
{
	char req[300], line[BUF_MAX];

	snprintf(req, sizeof(req), "get %s\r\n", key);
	if (tcp_cmd(req, line, sizeof(line)))
		return -1;
	if (!strcmp(line, "END\r\n"))
		return 0;
	if (strncmp(line, "VALUE ", 6))
		return -1;
	/* the data line, then END: read them with empty requests */
	if (tcp_cmd("", line, sizeof(line)))
		return -1;
	snprintf(val, cap, "%.*s", (int)strcspn(line, "\r"), line);
	if (tcp_cmd("", line, sizeof(line)) || strcmp(line, "END\r\n"))
		return -1;
	return 1;
}

#define RACE_KEYS 16
#define RACE_ROUNDS 40

/*
 * A child reads the keys over its own TCP connection all along; the
 * parent stores them, sends flush_all, and after OK (and a little time for
 * any late install) asks for each key over UDP: every one must miss.
 */
static void test_flush_race(void)
{
	char key[32], got[BUF_MAX];
	int r, i, served = 0, setok = 0, flushok = 0;
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		struct timespec ts = { .tv_nsec = 0 };
		double end = vm_now_s() + 30;

		close(tcp_fd);
		tcp_fd = vm_sock_open(SOCK_STREAM, tcp_port);
		if (tcp_fd < 0)
			_exit(1);
		for (i = 0; vm_now_s() < end; i++) {
			snprintf(key, sizeof(key), "vm:race%d", i % RACE_KEYS);
			if (tcp_get(key, got, sizeof(got)) < 0)
				_exit(1);
			nanosleep(&ts, NULL);
		}
		_exit(0);
	}
	for (r = 0; r < RACE_ROUNDS && pid > 0; r++) {
		struct timespec late = { .tv_nsec = 20000000 };

		for (i = 0; i < RACE_KEYS; i++) {
			snprintf(key, sizeof(key), "vm:race%d", i);
			setok += tcp_set(key, "stored before flush_all");
		}
		flushok += tcp_expect("flush_all\r\n", "OK\r\n");
		nanosleep(&late, NULL);
		for (i = 0; i < RACE_KEYS; i++) {
			snprintf(key, sizeof(key), "vm:race%d", i);
			served += !get_is(key, NULL, true);
		}
	}
	if (pid > 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
	tap_ok(pid > 0 && setok == RACE_ROUNDS * RACE_KEYS &&
		       flushok == RACE_ROUNDS,
	       "%d rounds: %d sets and a flush_all, TCP gets running",
	       RACE_ROUNDS, RACE_KEYS);
	tap_is_u64(served, 0,
		   "no UDP get after flush_all's OK found a value stored before it");
}

/* step the guest's wall clock by @s seconds */
static bool wall_step(long s)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_REALTIME, &ts))
		return false;
	ts.tv_sec += s;
	return !clock_settime(CLOCK_REALTIME, &ts);
}

/* UDP (XDP) first, then TCP (the module): both give @val */
static bool both_serve(const char *key, const char *val)
{
	char got[BUF_MAX];
	bool udp = get_is(key, val, false);
	int tcp = tcp_get(key, got, sizeof(got));

	if (tcp != 1 || strcmp(got, val))
		tap_diag("TCP get %s: %s", key, tcp == 1 ? got : "no value");
	return udp && tcp == 1 && !strcmp(got, val);
}

static void test_clock(void)
{
	const char *key = "vm:clock", *val = "lives 100 s";
	char req[128], got[BUF_MAX];
	long long h0, h1;
	struct timespec wait = { .tv_sec = 2, .tv_nsec = 500000000 };

	snprintf(req, sizeof(req), "set %s 7 100 %zu\r\n%s\r\n", key,
		 strlen(val), val);
	tap_ok(tcp_expect(req, "STORED\r\n") && get_is(key, val, false),
	       "an item of 100 s, read once (admitted)");
	h0 = xdp_stat("hits");
	tap_ok(get_is(key, val, false), "served");
	h1 = xdp_stat("hits");
	tap_ok(h1 - h0 == 1, "... by XDP (hits +%lld)", h1 - h0);
	tap_ok(wall_step(7200), "the wall clock steps 2 h forward");
	tap_ok(both_serve(key, val),
	       "XDP and the module both still serve it");
	tap_ok(wall_step(-14400), "the wall clock steps 4 h back");
	tap_ok(both_serve(key, val), "XDP and the module both still serve it");
	tap_ok(wall_step(7200), "the wall clock is put back");

	snprintf(req, sizeof(req), "set vm:soon 7 2 4\r\nsoon\r\n");
	tap_ok(tcp_expect(req, "STORED\r\n") &&
		       get_is("vm:soon", "soon", false),
	       "an item of 2 s, read once (admitted)");
	nanosleep(&wait, NULL);
	h0 = xdp_stat("hits");
	tap_ok(get_is("vm:soon", NULL, false) &&
		       tcp_get("vm:soon", got, sizeof(got)) == 0,
	       "2.5 s later XDP and the module both say END");
	h1 = xdp_stat("hits");
	tap_ok(h1 == h0, "XDP served nothing of it (hits +%lld)", h1 - h0);
}

/* @key's slot if it holds an entry for the key, or NULL */
static struct xkv_slot *slot_holding(struct xkv_slot *slots, __u32 nslots,
				     const char *key)
{
	__u32 len = (__u32)strlen(key), hash = xkv_hot_hash(key, len);
	struct xkv_slot *sl = &slots[xkv_hot_index(hash, nslots)];

	return xkv_slot_find(sl, hash, key, len) >= 0 ? sl : NULL;
}

static void test_damaged(const char *pin)
{
	const char *stuck = "vm:stuck";
	char last[32];
	struct xkv_slot *slots, *sl;
	__u32 nslots = 0, i;
	int fd, ok = 0, stale = 0;
	double t0, took;
	size_t len;

	fd = pin_get(pin, 0);
	if (fd < 0 || !map_id(fd, &nslots) || !nslots)
		tap_bail("cannot open the pinned hot cache");
	len = (size_t)nslots * sizeof(*slots);
	slots = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (slots == MAP_FAILED)
		tap_bail("cannot mmap the pinned hot cache");

	/* the map's last slot: @used and every entry field 0xff */
	for (i = 0;; i++) {
		snprintf(last, sizeof(last), "vm:last%u", i);
		if (xkv_hot_index(xkv_hot_hash(last, (__u32)strlen(last)),
				  nslots) == nslots - 1)
			break;
	}
	memset(slots[nslots - 1].data, 0xff, sizeof(slots[nslots - 1].data));
	slots[nslots - 1].used = 0xffff;
	tap_ok(tcp_set(last, "in the last slot"),
	       "set %s, whose slot is 0xff bytes", last);
	for (i = 0; i < 3; i++)
		ok += get_is(last, "in the last slot", false);
	tap_is_u64(ok, 3,
		   "UDP gets of it are answered right (the module admits it)");
	tap_ok(slot_holding(slots, nslots, last),
	       "the module installed it in the damaged slot");

	/* a cached key's slot left odd, as by a writer killed inside */
	tap_ok(tcp_set(stuck, "old value") && get_is(stuck, "old value", false),
	       "set and read %s", stuck);
	sl = slot_holding(slots, nslots, stuck);
	tap_ok(sl != NULL, "%s has a slot", stuck);
	if (!sl) {
		munmap(slots, len);
		return;
	}
	__atomic_fetch_or(&sl->seq, 1, __ATOMIC_SEQ_CST);
	t0 = vm_now_s();
	ok = tcp_set(stuck, "new value");
	took = vm_now_s() - t0;
	tap_ok(ok && took < 2, "a set of %s is acknowledged (%.3f s)", stuck,
	       took);
	ok = 0;
	for (i = 0; i < 20; i++) {
		if (get_is(stuck, "new value", true))
			ok++;
		else if (get_is(stuck, "old value", true))
			stale++;
	}
	tap_is_u64(stale, 0, "no UDP get returns the old value");
	tap_is_u64(ok, 20, "every UDP get returns the new value");
	t0 = vm_now_s();
	tap_ok(tcp_expect("flush_all\r\n", "OK\r\n") && vm_now_s() - t0 < 2,
	       "flush_all is acknowledged (%.3f s)", vm_now_s() - t0);
	tap_ok(get_is(stuck, NULL, false) && get_is(last, NULL, false),
	       "the UDP gets after it: END");
	munmap(slots, len);
}

static void test_toggle(const char *pin, int cycles)
{
	struct xkv_ioc_info info;
	int dev, fd, i, bad = 0;
	struct timespec t0, t1;

	dev = open(XKV_DEV_PATH, O_RDWR | O_CLOEXEC);
	fd = pin_get(pin, 0);
	if (dev < 0 || fd < 0)
		tap_bail("no /dev/xkv or no pinned hot cache");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < cycles; i++) {
		if (ioctl(dev, XKV_IOC_HOT_DETACH) || attach(dev, fd, NULL))
			bad++;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	tap_is_u64(bad, 0, "%d detach/attach cycles", cycles);
	tap_diag("%.1f ms per cycle",
		 ((t1.tv_sec - t0.tv_sec) * 1e3 +
		  (t1.tv_nsec - t0.tv_nsec) / 1e6) / (cycles ? cycles : 1));
	memset(&info, 0, sizeof(info));
	tap_ok(!ioctl(dev, XKV_IOC_INFO, &info) &&
		       info.hot_map_id == map_id(fd, NULL),
	       "the hot cache is attached at the end");
	close(fd);
	close(dev);
}

int main(int argc, char **argv)
{
	char pin[256];
	int toggle = 0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (vm_getopt(argc, argv, &rounds, &toggle,
		      "xkv-hot [-p PORT] [-U PORT] [-i IFACE] [-x XKV] [-n ROUNDS] [-T CYCLES]"))
		return 2;
	snprintf(pin, sizeof(pin), "/sys/fs/bpf/xkv/%s/xkv_hot", iface);
	if (toggle) {
		test_toggle(pin, toggle);
		return tap_done();
	}
	test_ioctls(pin);

	tcp_fd = vm_sock_open(SOCK_STREAM, tcp_port);
	udp_fd = vm_sock_open(SOCK_DGRAM, udp_port);
	if (tcp_fd < 0 || udp_fd < 0)
		tap_bail("cannot reach the module over TCP or UDP");
	srand((unsigned int)time(NULL));
	req_id = (uint16_t)rand();
	test_serve();
	test_rewrite();
	test_invalidate();
	test_flush_race();
	test_clock();
	test_damaged(pin);
	test_detach(pin);
	test_tcp_fast();
	close(tcp_fd);
	close(udp_fd);
	return tap_done();
}
