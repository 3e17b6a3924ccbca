// SPDX-License-Identifier: GPL-2.0
/*
 * xkv-store - the XDP store path in front of xkv.ko, checked from inside
 * the VM after "xkv up IFACE --backend module" (TAP on stdout).
 *
 *   xkv-store [-p PORT] [-U PORT] [-i IFACE] [-x XKV] [-n KEYS] [-T SECS]
 *   xkv-store ... tcp    (the TCP fixtures alone: tests/vm/store-tcp.h)
 *   xkv-store ... loss   (the TCP store path under loss: text gets for
 *                         -T seconds, binary GETs and mg for half as
 *                         long each: tests/vm/store-loss.h)
 *
 * Keys are stored over TCP and not read by the module before the checks,
 * and the store path's own hits are kept from admission (module parameter
 * xdp_store_admit=0, set first), so no key gets into the hot cache. Then,
 * over UDP to 127.0.0.1 (generic XDP on lo):
 *   - hit: KEYS keys, values of 1 to 200 bytes and various flags, each
 *     answered byte for byte to "get", "gets" and 3-key "get"s; the store
 *     program's "replies" and "hits" (xkv stats IFACE -j, "xdp_store")
 *     and the module's kfunc "hits" moved by exactly as many; none of the
 *     keys is in the hot cache (the pinned xkv_hot map, mmap()ed, holds
 *     none of their bytes); afterwards "gets" over TCP gives the CAS each
 *     XDP reply carried;
 *   - miss: a key never stored gets "END" (from the module: the request
 *     was passed), and the kfunc's and the store program's "misses"
 *     moved; a get of a stored and a missing key gets the module's reply;
 *   - binary and meta (store-proto.h): binary GET/GETQ/GETK/GETKQ and
 *     their batches, and "mg" with every flag XDP answers, answered by
 *     the store program byte for byte, CAS included; misses, quiet or
 *     not, passed; an mg of a stale item or one whose recache token went
 *     out refused by the kfunc and answered by meta.c;
 *   - expired: keys stored with exptime 2, 3.5 s later: "END", "EN" and
 *     "Not found", passed;
 *   - timings: XDP's run time per UDP GET (BPF_ENABLE_STATS on the
 *     interface's program, which includes the store program it
 *     tail-calls) for a hot-cache hit, a store hit and a miss, 2000 each,
 *     16-byte keys and 32-byte values (diagnostics; emulated time);
 *   - coherence, as the hot cache's (xkv-hot): a set then a UDP get,
 *     rounds of it: always the new value, answered by XDP; after delete
 *     and after flush_all: "END";
 *   - being written: a child rewrites one key over TCP, alternating two
 *     values of different lengths, for SECS seconds, while UDP GETs run:
 *     every reply is exactly one of the two whole values (never torn), and
 *     XDP answered some of them;
 *   - deleted: a reader sends UDP GETs of a key in a loop while the key is
 *     deleted over TCP; no GET sent after the DELETED arrived is answered
 *     with the value (rounds of it);
 *   - admission (xdp_store_admit=1, the default): keys read only over UDP,
 *     once each through the store path, are then in the hot cache (the
 *     pinned map holds their bytes) and their next GETs are answered by
 *     it byte for byte, the store program not involved; a set of such a
 *     key is followed by the new value (its slot was rewritten before
 *     STORED), rounds of it, and after delete "END".
 *
 * Built statically with glibc (uapi headers); numeric addresses only.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "xkv_hot.h"
#include "tap.h"
#include "vmclient.h"

#define UDP_HDR 8
#define BUF_MAX 4096
#define FLAGS_OF(i) ((unsigned int)(i) * 2654435761u % 100000u)

static int nkeys = 64, secs = 3;
static int tcp_fd = -1, udp_fd = -1;
static uint16_t req_id;

/* --- sockets --------------------------------------------------------- */

static bool tcp_set_on(int fd, const char *key, unsigned int flags,
		       int exptime, const char *val, size_t vlen)
{
	char req[BUF_MAX], line[256];
	int n;

	n = snprintf(req, sizeof(req), "set %s %u %d %zu\r\n", key, flags,
		     exptime, vlen);
	if (n < 0 || (size_t)n + vlen + 2 > sizeof(req))
		return false;
	memcpy(req + n, val, vlen);
	memcpy(req + n + vlen, "\r\n", 2);
	if (vm_tcp_line(fd, req, (size_t)n + vlen + 2, line, sizeof(line)))
		return false;
	if (strcmp(line, "STORED\r\n")) {
		tap_diag("set %s: %s", key, line);
		return false;
	}
	return true;
}

/*
 * "gets KEY" on @fd: the whole reply (up to "END\r\n") in @buf of
 * BUF_MAX bytes. Return: 0, or -1.
 */
static int tcp_gets_on(int fd, const char *key, char *buf)
{
	char req[512];
	size_t n = 0;
	ssize_t r;

	snprintf(req, sizeof(req), "gets %s\r\n", key);
	if (send(fd, req, strlen(req), MSG_NOSIGNAL) < 0)
		return -1;
	while (n < BUF_MAX - 1) {
		r = recv(fd, buf + n, BUF_MAX - 1 - n, 0);
		if (r <= 0)
			return -1;
		n += (size_t)r;
		buf[n] = '\0';
		if (n >= 5 && !strcmp(buf + n - 5, "END\r\n"))
			return 0;
	}
	return -1;
}

/* "gets KEY" over TCP: the CAS, 0 on failure (the rest is drained) */
static unsigned long long tcp_cas(const char *key)
{
	unsigned long long cas = 0;
	char buf[BUF_MAX];
	char *p;

	if (tcp_gets_on(tcp_fd, key, buf))
		return 0;
	p = strchr(buf, '\r');
	if (!p)
		return 0;
	*p = '\0';
	/* VALUE key flags bytes cas */
	p = strrchr(buf, ' ');
	if (p)
		cas = strtoull(p + 1, NULL, 10);
	return cas;
}

/* send datagram @id: the frame header, then @n bytes of @pay */
static int udp_send_raw(int fd, uint16_t id, const void *pay, size_t n)
{
	char req[BUF_MAX];

	if (n > sizeof(req) - UDP_HDR)
		return -1;
	req[0] = (char)(id >> 8);
	req[1] = (char)id;
	memset(req + 2, 0, 6);
	req[5] = 1;
	memcpy(req + UDP_HDR, pay, n);
	n += UDP_HDR;
	return send(fd, req, n, 0) == (ssize_t)n ? 0 : -1;
}

/* send a UDP request "CMD\r\n" with the next id */
static int udp_send(int fd, uint16_t id, const char *cmd)
{
	char line[1024];
	int n = snprintf(line, sizeof(line), "%s\r\n", cmd);

	if (n < 0 || (size_t)n >= sizeof(line))
		return -1;
	return udp_send_raw(fd, id, line, (size_t)n);
}

/* the reply to request @id, frame header included */
static ssize_t udp_recv(int fd, uint16_t id, char *reply, size_t cap)
{
	ssize_t r;

	for (;;) {
		r = recv(fd, reply, cap, 0);
		if (r < UDP_HDR)
			return -1;
		if ((uint8_t)reply[0] == (uint8_t)(id >> 8) &&
		    (uint8_t)reply[1] == (uint8_t)id)
			return r;
	}
}

/*
 * One datagram of @n bytes of @pay on the main socket, with the next id;
 * the reply after its frame header into @out (at most @cap bytes).
 */
static ssize_t udp_xchg(const void *pay, size_t n, void *out, size_t cap)
{
	char reply[BUF_MAX];
	ssize_t r;

	req_id++;
	if (udp_send_raw(udp_fd, req_id, pay, n))
		return -1;
	r = udp_recv(udp_fd, req_id, reply, sizeof(reply));
	if (r < 0 || (size_t)(r - UDP_HDR) > cap)
		return -1;
	memcpy(out, reply + UDP_HDR, (size_t)(r - UDP_HDR));
	return r - UDP_HDR;
}

/* one UDP request on the main socket; the reply's text after the header */
static ssize_t udp_cmd(const char *cmd, char *text, size_t cap)
{
	char line[1024];
	int n = snprintf(line, sizeof(line), "%s\r\n", cmd);
	ssize_t r;

	if (n < 0 || (size_t)n >= sizeof(line) || !cap)
		return -1;
	r = udp_xchg(line, (size_t)n, text, cap - 1);
	if (r >= 0)
		text[r] = '\0';
	return r;
}

/* --- counters ------------------------------------------------------------- */

/*
 * The store path's counter @name from "xkv stats IFACE -j": the store
 * program's (in "xdp_store") or, with @module, the kfunc's (in
 * "xdp_store"."module"). -1 when absent.
 */
static long long store_stat(const char *name, bool module)
{
	return vm_xkv_stat(module ? "\"module\":" : "\"xdp_store\":", name);
}

/* --- the replies on the wire: their checksums ---------------------------- */

/*
 * A packet socket on the interface: it sees the replies XDP sends back
 * in as they enter the stack again (lo loops them), headers and
 * checksums as XDP wrote them. -1 if it cannot be opened.
 */
static int cap_open(void)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET };
	int fd, size = 8 << 20;

	fd = socket(AF_PACKET, SOCK_DGRAM, htons(ETH_P_IP));
	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	sll.sll_protocol = htons(ETH_P_IP);
	sll.sll_ifindex = (int)if_nametoindex(iface);
	if (bind(fd, (struct sockaddr *)&sll, sizeof(sll))) {
		close(fd);
		return -1;
	}
	return fd;
}

/* the 16-bit one's complement sum of @n bytes at @p, plus @sum */
static uint32_t csum_add(uint32_t sum, const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		sum += (uint32_t)p[n - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return sum;
}

/*
 * The next IPv4 packet of protocol @proto from the server's port @port
 * the socket caught (not one of ours going out) into @buf of BUF_MAX
 * bytes, with its IP header's length in @ihl.
 * Return: its length, 0 when none is left.
 */
static size_t cap_next(int fd, uint8_t *buf, int proto, int port, size_t *ihl)
{
	struct sockaddr_ll from;
	socklen_t flen;
	ssize_t n;

	for (;;) {
		flen = sizeof(from);
		n = recvfrom(fd, buf, BUF_MAX, MSG_DONTWAIT,
			     (struct sockaddr *)&from, &flen);
		if (n <= 0)
			return 0;
		if (from.sll_pkttype == PACKET_OUTGOING || n < 28 ||
		    buf[0] >> 4 != 4 || buf[9] != proto)
			continue;
		*ihl = (size_t)(buf[0] & 15) * 4;
		if ((size_t)n >= *ihl + 8 &&
		    (buf[*ihl] << 8 | buf[*ihl + 1]) == port)
			return (size_t)n;
	}
}

/*
 * Every IPv4 UDP datagram from the server's port the socket caught: its
 * IP header and UDP checksums must be whole and right (XDP computes
 * both; the stack's own replies on lo would carry a partial sum, so call
 * this only where XDP answered everything). Counts into @good, @bad.
 */
static void cap_check(int fd, int *good, int *bad)
{
	uint8_t buf[BUF_MAX], ph[12];
	size_t n, ihl, ulen;
	uint32_t sum;

	while ((n = cap_next(fd, buf, IPPROTO_UDP, udp_port, &ihl))) {
		ulen = (size_t)(buf[ihl + 4] << 8 | buf[ihl + 5]);
		if (ihl + ulen > n) {
			(*bad)++;
			continue;
		}
		memcpy(ph, buf + 12, 8);	/* addresses */
		ph[8] = 0;
		ph[9] = IPPROTO_UDP;
		ph[10] = (uint8_t)(ulen >> 8);
		ph[11] = (uint8_t)ulen;
		sum = csum_add(csum_add(0, ph, sizeof(ph)), buf + ihl, ulen);
		if (csum_add(0, buf, ihl) == 0xffff && sum == 0xffff)
			(*good)++;
		else if ((*bad)++ < 3)
			tap_diag("bad checksum in a reply of %zu bytes", ulen);
	}
}

/*
 * The checksums of what the socket @cap (cap_open(), closed here) caught:
 * exactly @want replies, every one right. @what names them.
 */
static void cap_expect(int cap, int want, const char *what)
{
	int good = 0, bad = 0;

	if (cap >= 0) {
		cap_check(cap, &good, &bad);
		close(cap);
	}
	tap_ok(cap >= 0 && bad == 0 && good == want,
	       "%s: every reply's IP and UDP checksums are right (%d of %d, "
	       "%d bad)", what, good, want, bad);
}

/* --- the hot cache: is any byte string of ours in it? --------------------- */

/* the pinned xkv_hot map, mmap()ed read-only; its size in @len */
static void *hot_map(size_t *len)
{
	struct bpf_map_info info;
	char path[256];
	union bpf_attr a;
	void *p;
	int fd;

	snprintf(path, sizeof(path), "/sys/fs/bpf/xkv/%s/xkv_hot", iface);
	memset(&a, 0, sizeof(a));
	a.pathname = (__u64)(unsigned long)path;
	fd = sys_bpf(BPF_OBJ_GET, &a);
	if (fd < 0)
		return NULL;
	if (vm_obj_info(fd, &info, sizeof(info))) {
		close(fd);
		return NULL;
	}
	*len = (size_t)info.value_size * info.max_entries;
	p = mmap(NULL, *len, PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	return p == MAP_FAILED ? NULL : p;
}

/* --- the fixtures ------------------------------------------------------- */

static void key_of(char *buf, size_t cap, const char *kind, int i)
{
	snprintf(buf, cap, "xs:%s:%04d", kind, i);
}

/* the TCP fixtures' keys (kind "tcp", tests/vm/store-tcp.h) */
#define KIND_TCP "tcp"

/*
 * value @i of keys of @kind: 1 to 200 bytes (generic XDP on lo grows a
 * frame by ~300 bytes at most: larger replies are passed, see
 * DESIGN.md), 1 to 120 for KIND_TCP and the kinds named from it (a TCP
 * reply grows at the head only in generic mode, by about 200 bytes), its
 * bytes a function of @i
 */
static size_t kind_val_of(char *buf, const char *kind, int i)
{
	size_t max = strncmp(kind, KIND_TCP, strlen(KIND_TCP)) ? 200 : 120;
	size_t len = 1 + (size_t)(i * 97) % max, k;

	for (k = 0; k < len; k++)
		buf[k] = (char)('a' + (i + k) % 26);
	buf[len] = '\0';
	return len;
}

static size_t val_of(char *buf, int i)
{
	return kind_val_of(buf, "hit", i);
}

/* "VALUE <key> <flags> <bytes>[ <cas>]\r\n<data>\r\n" of key @i */
static size_t kind_block_of(char *buf, size_t cap, const char *kind, int i,
			    unsigned long long cas)
{
	char key[64], val[256];
	size_t n;

	key_of(key, sizeof(key), kind, i);
	kind_val_of(val, kind, i);
	n = (size_t)snprintf(buf, cap, "VALUE %s %u %zu", key, FLAGS_OF(i),
			     strlen(val));
	if (cas)
		n += (size_t)snprintf(buf + n, cap - n, " %llu", cas);
	n += (size_t)snprintf(buf + n, cap - n, "\r\n%s\r\n", val);
	return n;
}

static size_t block_of(char *buf, size_t cap, int i, unsigned long long cas)
{
	return kind_block_of(buf, cap, "hit", i, cas);
}

static bool reply_is(const char *cmd, const char *want)
{
	char got[BUF_MAX];
	ssize_t n = udp_cmd(cmd, got, sizeof(got));

	if (n < 0) {
		tap_diag("UDP %.60s: no reply (%s)", cmd, strerror(errno));
		return false;
	}
	if ((size_t)n == strlen(want) && !memcmp(got, want, (size_t)n))
		return true;
	tap_diag("UDP %.60s:", cmd);
	tap_show_diff(got, (size_t)n, want, strlen(want));
	return false;
}

/* a "gets" reply for key @i, any CAS: the CAS, 0 if the rest differs */
static unsigned long long kind_gets_cas(const char *kind, int i)
{
	char key[64], cmd[128], got[BUF_MAX], want[BUF_MAX], *p, *e;
	unsigned long long cas;
	ssize_t n;

	key_of(key, sizeof(key), kind, i);
	snprintf(cmd, sizeof(cmd), "gets %s", key);
	n = udp_cmd(cmd, got, sizeof(got));
	if (n < 0)
		return 0;
	/* the CAS is the fifth field of the first line */
	p = got;
	for (int f = 0; f < 4 && p; f++) {
		p = strchr(p, ' ');
		if (p)
			p++;
	}
	if (!p)
		return 0;
	cas = strtoull(p, &e, 10);
	if (!cas || *e != '\r')
		return 0;
	n = (ssize_t)kind_block_of(want, sizeof(want), kind, i, cas);
	snprintf(want + n, sizeof(want) - (size_t)n, "END\r\n");
	if (strcmp(got, want)) {
		tap_show_diff(got, strlen(got), want, strlen(want));
		return 0;
	}
	return cas;
}

static unsigned long long gets_cas(int i)
{
	return kind_gets_cas("hit", i);
}

static void test_hits(void)
{
	unsigned long long cas[1024];
	long long r0, h0, k0, r1, h1, k1;
	char key[64], val[256], cmd[512], want[BUF_MAX];
	int i, j, good = 0, ngets = 0, gets_good = 0, multi = 0,
		  multi_good = 0, cas_good = 0, cap;
	bool stored = true;
	size_t n, len, found = 0;
	char *hot;

	if (nkeys > 1024)
		nkeys = 1024;
	for (i = 0; i < nkeys; i++) {
		key_of(key, sizeof(key), "hit", i);
		len = val_of(val, i);
		stored &= tcp_set_on(tcp_fd, key, FLAGS_OF(i), 0, val, len);
	}
	tap_ok(stored, "%d keys stored over TCP", nkeys);

	r0 = store_stat("replies", false);
	h0 = store_stat("hits", false);
	k0 = store_stat("hits", true);
	tap_ok(r0 >= 0 && h0 >= 0 && k0 >= 0,
	       "xkv stats -j shows the store path's counters and the module's");
	cap = cap_open();

	for (i = 0; i < nkeys; i++) {
		key_of(key, sizeof(key), "hit", i);
		snprintf(cmd, sizeof(cmd), "get %s", key);
		n = block_of(want, sizeof(want), i, 0);
		snprintf(want + n, sizeof(want) - n, "END\r\n");
		good += reply_is(cmd, want);
	}
	tap_is_i64(good, nkeys, "get: every key answered byte for byte");

	for (i = 0; i < nkeys; i += 3) {
		cas[ngets] = gets_cas(i);
		gets_good += cas[ngets] != 0;
		ngets++;
	}
	tap_is_i64(gets_good, ngets,
		   "gets: every key answered byte for byte, with a CAS");

	/* three keys in one datagram */
	for (i = 0; i + 2 < nkeys; i += 5) {
		char ks[3][64];

		n = 0;
		for (j = 0; j < 3; j++) {
			key_of(ks[j], sizeof(ks[j]), "hit", i + j);
			n += block_of(want + n, sizeof(want) - n, i + j, 0);
		}
		snprintf(want + n, sizeof(want) - n, "END\r\n");
		/* generic XDP on lo: the frame grows by ~300 bytes only */
		if (n + 5 > 280)
			continue;
		snprintf(cmd, sizeof(cmd), "get %s %s %s", ks[0], ks[1],
			 ks[2]);
		multi_good += reply_is(cmd, want);
		multi++;
	}
	tap_ok(multi > 0 && multi_good == multi,
	       "3-key gets answered byte for byte (%d of %d)", multi_good,
	       multi);

	cap_expect(cap, nkeys + ngets + multi, "get, gets");
	r1 = store_stat("replies", false);
	h1 = store_stat("hits", false);
	k1 = store_stat("hits", true);
	tap_diag("store program replies +%lld, hits +%lld; kfunc hits +%lld",
		 r1 - r0, h1 - h0, k1 - k0);
	tap_is_i64(r1 - r0, nkeys + ngets + multi,
		   "the store program sent every reply (XDP_TX)");
	tap_is_i64(h1 - h0, nkeys + ngets + 3 * multi,
		   "... with every key (store program hits)");
	tap_is_i64(k1 - k0, nkeys + ngets + 3 * multi,
		   "the module's kfunc found every key");

	hot = hot_map(&len);
	tap_ok(hot != NULL, "the hot cache map mmap()s (%s)",
	       hot ? "ok" : strerror(errno));
	if (hot) {
		for (i = 0; i < nkeys; i++) {
			key_of(key, sizeof(key), "hit", i);
			if (memmem(hot, len, key, strlen(key)))
				found++;
		}
		munmap(hot, len);
	}
	tap_is_u64(found, 0, "none of the keys is in the hot cache");

	/* the module's own word on the CAS, now that reads do not matter */
	for (i = 0, j = 0; i < nkeys; i += 3, j++) {
		key_of(key, sizeof(key), "hit", i);
		cas_good += cas[j] && tcp_cas(key) == cas[j];
	}
	tap_is_i64(cas_good, ngets, "every CAS XDP sent is the module's");
}

static void test_miss(void)
{
	long long m0, k0, m1, k1;
	char key[64], cmd[512], want[BUF_MAX];
	size_t n;

	m0 = store_stat("misses", false);
	k0 = store_stat("misses", true);
	tap_ok(reply_is("get xs:never:stored", "END\r\n"),
	       "miss: a key never stored gets END (from the module)");
	key_of(key, sizeof(key), "hit", 1);
	snprintf(cmd, sizeof(cmd), "get %s xs:never:stored", key);
	n = block_of(want, sizeof(want), 1, 0);
	snprintf(want + n, sizeof(want) - n, "END\r\n");
	tap_ok(reply_is(cmd, want),
	       "a stored and a missing key: the module's reply");
	m1 = store_stat("misses", false);
	k1 = store_stat("misses", true);
	tap_is_i64(m1 - m0, 2, "the store program passed both requests");
	tap_is_i64(k1 - k0, 2, "the module's kfunc counted both misses");
}

#include "store-proto.h"

/*
 * Keys of 2 s, 3.5 s later: a miss for the kfunc in every protocol,
 * passed; the module answers END, EN, Not found. Not 1 s: the store's
 * clock ticks in seconds, so a 1 s item can expire at once.
 */
static void test_expired(void)
{
	struct timespec wait = { .tv_sec = 3, .tv_nsec = 500000000 };
	uint8_t req[BIN_HDR + 64], got[BUF_MAX];
	long long m0, m1;
	size_t n;
	ssize_t r;

	tap_ok(tcp_set_on(tcp_fd, "xs:soon", 3, 2, "soon", 4) &&
		       tcp_set_on(tcp_fd, "xs:soon:mg", 3, 2, "soon", 4) &&
		       tcp_set_on(tcp_fd, "xs:soon:bin", 3, 2, "soon", 4),
	       "keys of 2 s stored");
	tap_ok(reply_is("get xs:soon",
			"VALUE xs:soon 3 4\r\nsoon\r\nEND\r\n") &&
		       reply_is("mg xs:soon:mg v f", "VA 4 f3\r\nsoon\r\n"),
	       "served at once");
	nanosleep(&wait, NULL);
	m0 = store_stat("misses", true);
	tap_ok(reply_is("get xs:soon", "END\r\n"), "3.5 s later: END");
	tap_ok(reply_is("mg xs:soon:mg v f", "EN\r\n"), "... mg: EN");
	n = bin_req(req, BIN_GETK, "xs:soon:bin", 77);
	r = udp_xchg(req, n, got, sizeof(got));
	tap_ok(r >= BIN_HDR && got[0] == 0x81 && got[6] == 0 && got[7] == 1,
	       "... binary GETK: Not found");
	m1 = store_stat("misses", true);
	tap_is_i64(m1 - m0, 3, "the kfunc found them expired (misses)");
}

static void test_coherence(void)
{
	char val[64], cmd[128], want[256];
	int i, fresh = 0, setok = 0, rounds = 100;
	long long r0, r1;
	bool flushed = true;

	r0 = store_stat("replies", false);
	for (i = 0; i < rounds; i++) {
		snprintf(val, sizeof(val), "round %d of %d, value %08x", i,
			 rounds, (unsigned int)(i * 2654435761u));
		setok += tcp_set_on(tcp_fd, "xs:rw", 9, 0, val, strlen(val));
		snprintf(want, sizeof(want),
			 "VALUE xs:rw 9 %zu\r\n%s\r\nEND\r\n", strlen(val),
			 val);
		fresh += reply_is("get xs:rw", want);
	}
	r1 = store_stat("replies", false);
	tap_is_i64(setok, rounds, "%d sets over TCP: STORED", rounds);
	tap_is_i64(fresh, rounds,
		   "the UDP get after each set returns the new value");
	tap_is_i64(r1 - r0, rounds, "... answered by XDP from the store");

	tap_ok(vm_tcp_line(tcp_fd, "delete xs:rw\r\n", 14, val, sizeof(val)) ==
			       0 && !strcmp(val, "DELETED\r\n"),
	       "delete over TCP: DELETED");
	tap_ok(reply_is("get xs:rw", "END\r\n"),
	       "the UDP get after delete: END");
	tap_ok(vm_tcp_line(tcp_fd, "flush_all\r\n", 11, val,
			   sizeof(val)) == 0 &&
		       !strcmp(val, "OK\r\n"),
	       "flush_all: OK");
	for (i = 0; i < nkeys; i++) {
		snprintf(cmd, sizeof(cmd), "get xs:hit:%04d", i);
		flushed &= reply_is(cmd, "END\r\n");
	}
	tap_ok(flushed, "after flush_all every key gets END");
}

/* the writer: alternate two values of @key until @stop, or @secs + 5 s */
static void writer(const char *key, const char *a, const char *b,
		   volatile int *stop)
{
	double end = vm_now_s() + secs + 5;
	int fd = vm_sock_open(SOCK_STREAM, tcp_port);
	unsigned int i;

	if (fd < 0)
		_exit(2);
	for (i = 0; !*stop && vm_now_s() < end; i++) {
		const char *v = i & 1 ? b : a;

		if (!tcp_set_on(fd, key, 5, 0, v, strlen(v)))
			_exit(1);
	}
	_exit(0);
}

static void test_writer(volatile int *shared)
{
	char a[48], b[160], wa[256], wb[256], got[BUF_MAX];
	long long r0, r1;
	int gets = 0, ga = 0, gb = 0, torn = 0, lost = 0, st = 0;
	double end;
	pid_t pid;

	memset(a, 'A', sizeof(a) - 1);
	a[sizeof(a) - 1] = '\0';
	memset(b, 'b', sizeof(b) - 1);
	b[sizeof(b) - 1] = '\0';
	snprintf(wa, sizeof(wa), "VALUE xs:w 5 %zu\r\n%s\r\nEND\r\n",
		 strlen(a), a);
	snprintf(wb, sizeof(wb), "VALUE xs:w 5 %zu\r\n%s\r\nEND\r\n",
		 strlen(b), b);
	tap_ok(tcp_set_on(tcp_fd, "xs:w", 5, 0, a, strlen(a)),
	       "the written key stored");
	shared[0] = 0;
	r0 = store_stat("replies", false);
	pid = fork();
	if (pid == 0)
		writer("xs:w", a, b, shared);
	end = vm_now_s() + secs;
	while (pid > 0 && vm_now_s() < end && gets < 100000) {
		ssize_t n = udp_cmd("get xs:w", got, sizeof(got));

		gets++;
		if (n < 0)
			lost++;
		else if (!strcmp(got, wa))
			ga++;
		else if (!strcmp(got, wb))
			gb++;
		else if (torn++ < 3)
			tap_diag("torn or wrong: %.120s", got);
	}
	shared[0] = 1;
	if (pid > 0)
		waitpid(pid, &st, 0);
	r1 = store_stat("replies", false);
	tap_diag("%d UDP gets while the key was rewritten: %d of A, %d of B, %d torn, %d unanswered; XDP answered %lld",
		 gets, ga, gb, torn, lost, r1 - r0);
	tap_ok(pid > 0 && WIFEXITED(st) && !WEXITSTATUS(st),
	       "the writer's sets were all STORED");
	tap_is_i64(torn, 0, "no reply was torn or wrong");
	tap_is_i64(lost, 0, "every get was answered");
	tap_ok(ga > 0 && gb > 0, "both values were seen");
	tap_ok(r1 - r0 > 0, "XDP answered from the store while it was written");
}

/*
 * The reader: UDP gets of xs:d until told to stop; a get sent after the
 * parent saw DELETED for round r (shared[1] == 2r + 1) must not return
 * round r's value. Counts those in shared[2], replies in shared[3].
 */
static void reader(volatile int *shared)
{
	char got[BUF_MAX], gone[64];
	int fd = vm_sock_open(SOCK_DGRAM, udp_port), f;
	double end = vm_now_s() + 60;
	uint16_t id = 0x8000;
	ssize_t n;

	if (fd < 0)
		_exit(2);
	while (!shared[0] && vm_now_s() < end) {
		f = shared[1];
		if (udp_send(fd, ++id, "get xs:d"))
			_exit(1);
		n = udp_recv(fd, id, got, sizeof(got) - 1);
		if (n < 0)
			continue;
		got[n] = '\0';
		shared[3]++;
		if (!(f & 1))
			continue;
		snprintf(gone, sizeof(gone), "\r\nround %d\r\n", f / 2);
		if (strstr(got + UDP_HDR, gone))
			shared[2]++;
	}
	_exit(0);
}

static void test_deleted(volatile int *shared)
{
	struct timespec pause = { .tv_nsec = 20 * 1000000 };
	char val[32], line[64];
	int r, rounds = 30, ok = 0, st = 0;
	long long r0, r1;
	pid_t pid;

	shared[0] = 0;
	shared[1] = 0;
	shared[2] = 0;
	shared[3] = 0;
	r0 = store_stat("replies", false);
	pid = fork();
	if (pid == 0)
		reader(shared);
	for (r = 0; pid > 0 && r < rounds; r++) {
		snprintf(val, sizeof(val), "round %d", r);
		if (!tcp_set_on(tcp_fd, "xs:d", 0, 0, val, strlen(val)))
			break;
		shared[1] = 2 * r;
		nanosleep(&pause, NULL);
		if (vm_tcp_line(tcp_fd, "delete xs:d\r\n", 13, line,
			       sizeof(line)) ||
		    strcmp(line, "DELETED\r\n"))
			break;
		/* from here on, round r's value is gone for every reader */
		shared[1] = 2 * r + 1;
		ok++;
		nanosleep(&pause, NULL);
	}
	shared[0] = 1;
	if (pid > 0)
		waitpid(pid, &st, 0);
	r1 = store_stat("replies", false);
	tap_diag("%d rounds of delete under %d UDP gets; XDP answered %lld",
		 ok, shared[3], r1 - r0);
	tap_is_i64(ok, rounds, "%d rounds: set, then delete: DELETED", rounds);
	tap_ok(pid > 0 && WIFEXITED(st) && !WEXITSTATUS(st),
	       "the reader ran to the end");
	tap_is_i64(shared[2], 0,
		   "no get sent after DELETED returned the deleted value");
	tap_ok(r1 - r0 > 0, "XDP answered some of the gets from the store");
}

/* xkv.ko's xdp_store_admit parameter: write @on, true when it took */
static bool set_admit(bool on)
{
	const char *path = "/sys/module/xkv/parameters/xdp_store_admit";
	char got[8] = "";
	FILE *f = fopen(path, "w");
	bool ok;

	if (!f)
		return false;
	ok = fputs(on ? "1\n" : "0\n", f) >= 0;
	ok &= !fclose(f);
	f = fopen(path, "r");
	if (!f)
		return false;
	ok &= fgets(got, sizeof(got), f) != NULL && got[0] == (on ? 'Y' : 'N');
	fclose(f);
	return ok;
}

/* how many of the keys "xs:adm:%04d", 0 <= i < @n, the hot map holds */
static int adm_cached(int n)
{
	char key[64];
	size_t len;
	int i, found = 0;
	char *hot = hot_map(&len);

	if (!hot)
		return -1;
	for (i = 0; i < n; i++) {
		key_of(key, sizeof(key), "adm", i);
		found += memmem(hot, len, key, strlen(key)) != NULL;
	}
	munmap(hot, len);
	return found;
}

/* GET "xs:adm:%04d", 0 <= i < @n, over UDP: the count answered exactly */
static int adm_read(int n)
{
	char key[64], cmd[512], want[BUF_MAX];
	int i, good = 0;
	size_t len;

	for (i = 0; i < n; i++) {
		key_of(key, sizeof(key), "adm", i);
		snprintf(cmd, sizeof(cmd), "get %s", key);
		len = kind_block_of(want, sizeof(want), "adm", i, 0);
		snprintf(want + len, sizeof(want) - len, "END\r\n");
		good += reply_is(cmd, want);
	}
	return good;
}

/*
 * Store-path hits feed admission: a key read only over UDP ends up served
 * by the hot cache, and writes still rewrite or clear its slot first.
 */
static void test_admit(void)
{
	char key[64], val[256], want[BUF_MAX];
	long long r0, r1, r2, x1, x2;
	int i, n = nkeys < 32 ? nkeys : 32, good, again, fresh = 0;
	int setok = 0, rounds = 50, before, after;
	size_t len;

	tap_ok(set_admit(true), "xdp_store_admit=1: store-path hits admit");
	for (i = 0; i < n; i++) {
		key_of(key, sizeof(key), "adm", i);
		len = val_of(val, i);
		setok += tcp_set_on(tcp_fd, key, FLAGS_OF(i), 0, val, len);
	}
	before = adm_cached(n);
	tap_ok(setok == n && before == 0,
	       "%d keys stored over TCP, none in the hot cache", n);
	r0 = store_stat("replies", false);
	good = adm_read(n);
	r1 = store_stat("replies", false);
	after = adm_cached(n);
	tap_ok(good == n && r1 - r0 == n,
	       "each key read once over UDP, answered by the store path "
	       "byte for byte (%d, store replies +%lld)", good, r1 - r0);
	tap_is_i64(after, n, "... and now every one is in the hot cache");
	x1 = vm_xkv_stat(NULL, "hits");
	again = adm_read(n);
	r2 = store_stat("replies", false);
	x2 = vm_xkv_stat(NULL, "hits");
	tap_diag("store-path admission: %d of %d keys read once over UDP cached; second reads: hot-cache hits +%lld, store replies +%lld",
		 after, n, x2 - x1, r2 - r1);
	tap_ok(again == n && r2 - r1 == 0 && x2 - x1 == n,
	       "their next GETs are answered by the hot cache byte for byte, "
	       "not the store path");

	/* coherence with the key in its slot: each set rewrites it first */
	r0 = store_stat("replies", false);
	setok = 0;
	for (i = 0; i < rounds; i++) {
		snprintf(val, sizeof(val), "admitted %d, %08x", i,
			 (unsigned int)(i * 2654435761u));
		setok += tcp_set_on(tcp_fd, "xs:adm:0000", 3, 0, val,
				    strlen(val));
		snprintf(want, sizeof(want),
			 "VALUE xs:adm:0000 3 %zu\r\n%s\r\nEND\r\n",
			 strlen(val), val);
		fresh += reply_is("get xs:adm:0000", want);
	}
	r1 = store_stat("replies", false);
	tap_ok(setok == rounds && fresh == rounds && r1 - r0 == 0,
	       "%d rounds of set then UDP get of an admitted key: always the "
	       "new value, from the hot cache (store replies +%lld)", rounds,
	       r1 - r0);
	tap_ok(vm_tcp_line(tcp_fd, "delete xs:adm:0000\r\n", 20, val,
			   sizeof(val)) == 0 && !strcmp(val, "DELETED\r\n") &&
		       reply_is("get xs:adm:0000", "END\r\n"),
	       "after delete of an admitted key: END");
	tap_ok(set_admit(false), "xdp_store_admit=0 again");
}

/* the interface's XDP program (its pin): cumulative run time and runs */
static int prog_stats(int fd, unsigned long long *ns, unsigned long long *cnt)
{
	struct bpf_prog_info info;

	if (vm_obj_info(fd, &info, sizeof(info)))
		return -1;
	*ns = info.run_time_ns;
	*cnt = info.run_cnt;
	return 0;
}

/* "get KEY" over TCP, the reply drained: the module reads the key */
static bool tcp_read(const char *key)
{
	char req[128], buf[BUF_MAX];
	size_t n = 0;
	ssize_t r;

	snprintf(req, sizeof(req), "get %s\r\n", key);
	if (send(tcp_fd, req, strlen(req), MSG_NOSIGNAL) < 0)
		return false;
	while (n < sizeof(buf) - 1) {
		r = recv(tcp_fd, buf + n, sizeof(buf) - 1 - n, 0);
		if (r <= 0)
			return false;
		n += (size_t)r;
		buf[n] = '\0';
		if (n >= 5 && !strcmp(buf + n - 5, "END\r\n"))
			return strncmp(buf, "VALUE", 5) == 0;
	}
	return false;
}

/*
 * XDP's time per GET, from the kernel's BPF run-time statistics
 * (BPF_ENABLE_STATS) of the interface's XDP program, which include the
 * store program it tail-calls: @n gets of @key, each a request and, on
 * lo, the reply passing XDP again. Under TCG this is emulated time: only
 * the ratios between the kinds mean something.
 */
static double ns_per_get(int prog, const char *key, const char *want, int n,
			 int *bad)
{
	unsigned long long t0, c0, t1, c1;
	char cmd[128];
	int i;

	snprintf(cmd, sizeof(cmd), "get %s", key);
	if (prog_stats(prog, &t0, &c0))
		return -1;
	for (i = 0; i < n; i++)
		*bad += !reply_is(cmd, want);
	if (prog_stats(prog, &t1, &c1))
		return -1;
	tap_diag("%s: %d gets, %llu XDP runs, %llu ns", key, n, c1 - c0,
		 t1 - t0);
	return (double)(t1 - t0) / n;
}

static void test_timing(void)
{
	const char *val = "a 32-byte value for the timings";
	char path[256], want[256];
	long long r0, r1, r2;
	double hot, store, miss;
	int prog, stats, bad = 0, n = 2000;
	union bpf_attr a;

	snprintf(path, sizeof(path), "/sys/fs/bpf/xkv/%s/xkv_xdp", iface);
	memset(&a, 0, sizeof(a));
	a.pathname = (__u64)(unsigned long)path;
	prog = sys_bpf(BPF_OBJ_GET, &a);
	memset(&a, 0, sizeof(a));
	a.enable_stats.type = BPF_STATS_RUN_TIME;
	stats = sys_bpf(BPF_ENABLE_STATS, &a);
	tap_ok(prog >= 0 && stats >= 0, "BPF run-time statistics on");
	if (prog < 0 || stats < 0)
		return;
	/* 16-byte keys, 32-byte values, as the figures */
	/*
	 * The read over TCP admits the key whoever answers it: the module,
	 * or XDP from the store (the TCP store path) with admission on.
	 */
	tap_ok(tcp_set_on(tcp_fd, "xs:time:hot:0001", 0, 0, val, strlen(val)) &&
		       tcp_set_on(tcp_fd, "xs:time:sto:0001", 0, 0, val,
				  strlen(val)) &&
		       set_admit(true) && tcp_read("xs:time:hot:0001") &&
		       set_admit(false),
	       "one key read over TCP (admitted), one not");
	snprintf(want, sizeof(want),
		 "VALUE xs:time:hot:0001 0 %zu\r\n%s\r\nEND\r\n",
		 strlen(val), val);
	r0 = store_stat("replies", false);
	hot = ns_per_get(prog, "xs:time:hot:0001", want, n, &bad);
	r1 = store_stat("replies", false);
	snprintf(want, sizeof(want),
		 "VALUE xs:time:sto:0001 0 %zu\r\n%s\r\nEND\r\n",
		 strlen(val), val);
	store = ns_per_get(prog, "xs:time:sto:0001", want, n, &bad);
	r2 = store_stat("replies", false);
	miss = ns_per_get(prog, "xs:time:none:001", "END\r\n", n, &bad);
	close(stats);
	close(prog);
	tap_is_i64(bad, 0, "every timed get answered right");
	tap_is_i64(r1 - r0, 0, "the hot key was served by the hot cache");
	tap_is_i64(r2 - r1, n, "the other by the store path");
	tap_diag("XDP time per UDP GET (request and reply runs) under TCG: hot-cache hit %.0f ns, store hit %.0f ns (%.2fx), miss passed to the module %.0f ns (%.2fx)",
		 hot, store, hot > 0 ? store / hot : 0, miss,
		 hot > 0 ? miss / hot : 0);
}

/* the TCP fixtures ("xkv-store tcp") */
#include "store-tcp.h"
/* the TCP store path under loss ("xkv-store loss") */
#include "store-loss.h"

int main(int argc, char **argv)
{
	volatile int *shared;

	if (vm_getopt(argc, argv, &nkeys, &secs,
		      "xkv-store [-p PORT] [-U PORT] [-i IFACE] [-x XKV] [-n KEYS] [-T SECS] [tcp|loss]"))
		return 2;
	signal(SIGPIPE, SIG_IGN);
	tcp_fd = vm_sock_open(SOCK_STREAM, tcp_port);
	udp_fd = vm_sock_open(SOCK_DGRAM, udp_port);
	if (tcp_fd < 0 || udp_fd < 0)
		tap_bail("cannot reach the module");
	if (optind < argc && !strcmp(argv[optind], "tcp"))
		return test_tcp();
	if (optind < argc && !strcmp(argv[optind], "loss"))
		return test_loss();
	shared = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
		      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (shared == MAP_FAILED)
		tap_bail("mmap");
	tap_ok(set_admit(false),
	       "xdp_store_admit=0: the store path's hits do not admit");
	test_hits();
	test_miss();
	test_binary();
	test_meta();
	test_expired();
	test_writer(shared);
	test_deleted(shared);
	test_timing();
	test_admit();
	/* last: it empties the store */
	test_coherence();
	return tap_done();
}
