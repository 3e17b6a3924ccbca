/* SPDX-License-Identifier: GPL-2.0 */
/*
 * store-loss.h - "xkv-store loss": the XDP store path over TCP while
 * segments are lost and arrive out of order (tests/vm/xkv-store.c
 * includes it; its helpers are xkv-store.c's and store-tcp.h's).
 *
 * tests/vm/xdp-store-tap.sh attaches TC droppers on lo first (xdp_pass
 * -n -i P -e P lo): egress drops segments the sockets send (requests,
 * the module's replies, ACKs) before XDP sees them, ingress drops what
 * XDP passed or sent (lo loops XDP's replies back in). A lost segment
 * followed by others of a pipelined burst reaches the receiver out of
 * order, before its retransmission.
 *
 * With store-path admission off, LOSS_KEYS keys are stored over TCP and
 * read over LOSS_CONNS connections opened afterwards (so the TCP fast
 * path tracks them from their SYN), for -T seconds: a single "get" (what
 * XDP answers from the store on a quiescent connection), a 3-key "get",
 * or three "get"s each sent as its own segment back to back; between
 * them, a key is rewritten over TCP now and then. One process, one
 * request at a time, so the model is exact: every reply must be, byte
 * for byte and in order, the value last acknowledged with STORED, never
 * an older one. The TCP store program must have answered some of the
 * gets, and the kernel's counters must show retransmissions.
 */
#ifndef XKV_TESTS_VM_STORE_LOSS_H
#define XKV_TESTS_VM_STORE_LOSS_H

#include <sys/time.h>

#define LOSS_KEYS	32
#define LOSS_CONNS	2
#define LOSS_WAIT	20	/* seconds a reply may take: RTO backoff */

/* the version each key's value was last acknowledged at */
static unsigned int loss_ver[LOSS_KEYS];

static void loss_key(char *buf, size_t cap, int k)
{
	snprintf(buf, cap, "xs:loss:%04d", k);
}

/* key @k's value at version @v: 20 to 219 bytes, its length moving */
static size_t loss_val(char *buf, int k, unsigned int v)
{
	size_t n = (size_t)sprintf(buf, "key %d version %u ", k, v);
	size_t pad = (size_t)((unsigned int)k * 37u + v * 11u) % 200u;

	memset(buf + n, 'a' + (int)(v % 26), pad);
	buf[n + pad] = 0;
	return n + pad;
}

/* append key @k's current reply block to @buf at @n */
static size_t loss_block(char *buf, size_t cap, size_t n, int k)
{
	char key[32], val[256];
	size_t len;

	loss_key(key, sizeof(key), k);
	len = loss_val(val, k, loss_ver[k]);
	return n + (size_t)snprintf(buf + n, cap - n,
				    "VALUE %s 0 %zu\r\n%s\r\n", key, len, val);
}

/* the TCP stack's counter @name from /proc/net/snmp or netstat, or -1 */
static long long loss_netstat(const char *file, const char *prefix,
			      const char *name)
{
	char names[4096], vals[4096], *sn, *sv, *n, *v;
	long long r = -1;
	FILE *f = fopen(file, "r");

	if (!f)
		return -1;
	while (fgets(names, sizeof(names), f) && fgets(vals, sizeof(vals), f)) {
		if (strncmp(names, prefix, strlen(prefix)))
			continue;
		n = strtok_r(names, " \n", &sn);
		v = strtok_r(vals, " \n", &sv);
		while (n && v) {
			if (!strcmp(n, name)) {
				r = atoll(v);
				break;
			}
			n = strtok_r(NULL, " \n", &sn);
			v = strtok_r(NULL, " \n", &sv);
		}
		break;
	}
	fclose(f);
	return r;
}

/* exactly @n bytes from @fd: 0, or -1 (@got says how many came) */
static int loss_read(int fd, char *buf, size_t n, size_t *got)
{
	ssize_t r;

	*got = 0;
	while (*got < n) {
		r = recv(fd, buf + *got, n - *got, 0);
		if (r <= 0)
			return -1;
		*got += (size_t)r;
	}
	return 0;
}

/*
 * Send @nreq requests of @req (each @lens[i] bytes, one send() each, so
 * one segment each with TCP_NODELAY) on @fd, then read @want: true when
 * it came whole, in order, byte for byte.
 */
static bool loss_xchg(int fd, const char **req, const size_t *lens, int nreq,
		      const char *want, size_t wlen)
{
	static char buf[BUF_MAX * 4];
	size_t got = 0;
	int i;

	for (i = 0; i < nreq; i++) {
		if (send(fd, req[i], lens[i], MSG_NOSIGNAL) !=
		    (ssize_t)lens[i]) {
			tap_diag("loss: cannot send %.40s", req[i]);
			return false;
		}
	}
	if (wlen > sizeof(buf) || loss_read(fd, buf, wlen, &got) ||
	    memcmp(buf, want, wlen)) {
		tap_diag("loss: %.60s (%d request(s)):", req[0], nreq);
		tap_show_diff(buf, got, want, wlen);
		return false;
	}
	return true;
}

/* one read of the loop on @fd, of the kind @what (0..2): true if right */
static bool loss_read_one(int fd, int what)
{
	static char want[BUF_MAX * 4];
	char reqs[3][128], key[32];
	const char *req[3];
	size_t lens[3], n = 0;
	int k[3], i, nreq = what == 2 ? 3 : 1;

	for (i = 0; i < 3; i++)
		k[i] = rand() % LOSS_KEYS;
	if (what == 1) {
		/* one line of three keys, one END */
		lens[0] = 0;
		lens[0] += (size_t)sprintf(reqs[0], "get");
		for (i = 0; i < 3; i++) {
			loss_key(key, sizeof(key), k[i]);
			lens[0] += (size_t)sprintf(reqs[0] + lens[0], " %s",
						   key);
			n = loss_block(want, sizeof(want), n, k[i]);
		}
		lens[0] += (size_t)sprintf(reqs[0] + lens[0], "\r\n");
		n += (size_t)snprintf(want + n, sizeof(want) - n, "END\r\n");
	} else {
		for (i = 0; i < nreq; i++) {
			loss_key(key, sizeof(key), k[i]);
			lens[i] = (size_t)sprintf(reqs[i], "get %s\r\n", key);
			n = loss_block(want, sizeof(want), n, k[i]);
			n += (size_t)snprintf(want + n, sizeof(want) - n,
					      "END\r\n");
		}
	}
	for (i = 0; i < nreq; i++)
		req[i] = reqs[i];
	return loss_xchg(fd, req, lens, nreq, want, n);
}

static time_t loss_now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec;
}

/* the long timeouts: a reply may wait for a backed-off retransmission */
static void loss_timeouts(int fd)
{
	struct timeval tv = { .tv_sec = LOSS_WAIT };

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

static int test_loss(void)
{
	int fds[LOSS_CONNS], i, k, n, bad = 0, reads = 0, sets = 0;
	int kinds[3] = { 0 };
	long long re0, re1, ofo0, ofo1;
	struct tcounts a, b, d;
	char key[32], val[256];
	char line[128];
	time_t end;
	bool ok = true;

	tap_ok(set_admit(false),
	       "xdp_store_admit=0: the store path's hits do not admit");
	loss_timeouts(tcp_fd);
	srand(1234);
	for (k = 0; k < LOSS_KEYS; k++) {
		loss_key(key, sizeof(key), k);
		n = (int)loss_val(val, k, 0);
		ok &= tcp_set_on(tcp_fd, key, 0, 0, val, (size_t)n);
	}
	tap_ok(ok, "%d keys stored over TCP", LOSS_KEYS);
	for (i = 0; i < LOSS_CONNS; i++) {
		fds[i] = vm_sock_open(SOCK_STREAM, tcp_port);
		if (fds[i] < 0)
			tap_bail("loss: cannot connect");
		loss_timeouts(fds[i]);
	}
	tcounts_read(&a);
	re0 = loss_netstat("/proc/net/snmp", "Tcp:", "RetransSegs");
	ofo0 = loss_netstat("/proc/net/netstat", "TcpExt:", "TCPOFOQueue");
	end = loss_now() + secs;
	while (loss_now() < end) {
		k = rand() % LOSS_KEYS;
		if (rand() % 5 == 0) {
			loss_key(key, sizeof(key), k);
			n = (int)loss_val(val, k, loss_ver[k] + 1);
			if (!tcp_set_on(tcp_fd, key, 0, 0, val, (size_t)n)) {
				tap_diag("loss: set %s: no STORED", key);
				bad++;
				break;
			}
			/* acknowledged: nothing older may come back now */
			loss_ver[k]++;
			sets++;
			continue;
		}
		/* mostly single gets: what the store program answers */
		i = rand() % 8;
		i = i < 5 ? 0 : i < 7 ? 2 : 1;
		kinds[i]++;
		reads++;
		if (!loss_read_one(fds[reads % LOSS_CONNS], i)) {
			bad++;
			break;
		}
	}
	tcounts_read(&b);
	re1 = loss_netstat("/proc/net/snmp", "Tcp:", "RetransSegs");
	ofo1 = loss_netstat("/proc/net/netstat", "TcpExt:", "TCPOFOQueue");
	tap_is_i64(bad, 0,
		   "%d s: %d reads (%d single gets, %d 3-key gets, %d bursts of 3 gets) and %d sets: every reply in order, byte for byte, the last value acknowledged",
		   secs, reads, kinds[0], kinds[1], kinds[2], sets);
	tcounts_diff(&d, &a, &b);
	tap_ok(d.rep > 0, "XDP answered %lld GETs from the store under loss",
	       d.rep);
	tap_ok(re0 >= 0 && re1 > re0,
	       "segments were retransmitted (RetransSegs +%lld)", re1 - re0);
	tap_diag("out-of-order segments queued (TCPOFOQueue) +%lld",
		 ofo1 - ofo0);
	for (i = 0; i < LOSS_CONNS; i++) {
		tap_ok(vm_tcp_line(fds[i], "version\r\n", 9, line,
				   sizeof(line)) == 0 &&
			       !strncmp(line, "VERSION ", 8),
		       "connection %d usable after", i);
		close(fds[i]);
	}
	return tap_done();
}

#endif /* XKV_TESTS_VM_STORE_LOSS_H */
