/* SPDX-License-Identifier: GPL-2.0 */
/*
 * store-loss.h - "xkv-store loss": the XDP store path over TCP while
 * segments are lost and arrive out of order (tests/vm/xkv-store.c
 * includes it; its helpers are xkv-store.c's, store-proto.h's and
 * store-tcp.h's).
 *
 * tests/vm/xdp-store-tap.sh attaches TC droppers on lo first (xdp_pass
 * -n -i P -e P lo): egress drops segments the sockets send (requests,
 * the module's replies, ACKs) before XDP sees them, ingress drops what
 * XDP passed or sent (lo loops XDP's replies back in). A lost segment
 * followed by others of a pipelined burst reaches the receiver out of
 * order, before its retransmission.
 *
 * With store-path admission off, keys are read over connections opened
 * after "xkv up" (so the TCP fast path tracks them from their SYN), in
 * three phases, each with LOSS_KEYS keys of its own stored over TCP
 * first ("ms ... c": their CAS), so that none is in the hot cache when
 * it starts (a read the module answers, one of a burst say, puts its
 * key there: the phases' diagnostics say how many XDP answered from
 * each):
 *   - text, -T seconds on LOSS_CONNS connections: a single "get" (what
 *     XDP answers from the store on a quiescent connection), a 3-key
 *     "get", or three "get"s each sent as its own segment back to back;
 *   - binary, half as long on a connection of its own: GET, GETK, a
 *     batch "getkq getkq noop", or three GETKs sent apart;
 *   - mg, half as long on the text connections: "mg <key> v" with return
 *     flags (k f s c O q in various orders), or three of them sent apart;
 * between the reads of each, a key is rewritten over TCP now and then.
 * One process, one request at a time, so the model is exact: every
 * reply must be, byte for byte and in order, what the store sends for
 * the value last acknowledged (flags, CAS, key as asked), never an older
 * one. The TCP store program must have answered some of each phase's
 * requests, and the kernel's counters must show retransmissions.
 */
#ifndef XKV_TESTS_VM_STORE_LOSS_H
#define XKV_TESTS_VM_STORE_LOSS_H

#include <sys/time.h>

#define LOSS_KEYS	32
#define LOSS_CONNS	2	/* text connections (and one binary) */
#define LOSS_WAIT	20	/* seconds a reply may take: RTO backoff */
#define LOSS_FLAGS(k)	(1000u + (unsigned int)(k))

/**
 * struct loss_keys - the keys of a phase, as last acknowledged.
 * @base: their numbers are @base to @base + LOSS_KEYS - 1 (fresh each
 *        phase: no read of the module has put them in the hot cache)
 * @ver:  each one's version
 * @cas:  ... and CAS
 */
struct loss_keys {
	int base;
	unsigned int ver[LOSS_KEYS];
	unsigned long long cas[LOSS_KEYS];
};

static struct loss_keys loss_k;

static void loss_key(char *buf, size_t cap, int k)
{
	snprintf(buf, cap, "xs:loss:%04d", loss_k.base + k);
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

/* key @k as last acknowledged; @key: 32 bytes, @val: 256 */
static void loss_item(struct vm_item *it, char *key, char *val, int k)
{
	loss_key(key, 32, k);
	it->key = key;
	it->val = val;
	it->vlen = loss_val(val, k, loss_k.ver[k]);
	it->flags = LOSS_FLAGS(k);
	it->cas = loss_k.cas[k];
	it->opq = k;
}

/* append key @k's current reply block to @buf at @n */
static size_t loss_block(char *buf, size_t cap, size_t n, int k)
{
	char key[32], val[256];
	struct vm_item it;

	loss_item(&it, key, val, k);
	return n + (size_t)snprintf(buf + n, cap - n,
				    "VALUE %s %u %zu\r\n%s\r\n", key,
				    it.flags, it.vlen, val);
}

/*
 * Key @k at version @v, written over TCP with "ms ... c": true once the
 * store acknowledged it, and from then on the model expects it.
 */
static bool loss_store(int k, unsigned int v)
{
	char key[32], val[256], req[512], line[128], *e = NULL;
	unsigned long long cas = 0;
	size_t n;

	loss_key(key, sizeof(key), k);
	n = loss_val(val, k, v);
	snprintf(req, sizeof(req), "ms %s %zu F%u c\r\n%s\r\n", key, n,
		 LOSS_FLAGS(k), val);
	if (!vm_tcp_line(tcp_fd, req, strlen(req), line, sizeof(line)) &&
	    !strncmp(line, "HD c", 4))
		cas = strtoull(line + 4, &e, 10);
	if (!cas || strcmp(e, "\r\n")) {
		tap_diag("loss: ms %s: no HD c<cas>", key);
		return false;
	}
	/* acknowledged: nothing older may come back now */
	loss_k.ver[k] = v;
	loss_k.cas[k] = cas;
	return true;
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
 * it came whole, in order, byte for byte. @what names them.
 */
static bool loss_xchg(int fd, const char *what, const char **req,
		      const size_t *lens, int nreq, const char *want,
		      size_t wlen)
{
	static char buf[BUF_MAX * 4];
	size_t got = 0;
	int i;

	for (i = 0; i < nreq; i++) {
		if (send(fd, req[i], lens[i], MSG_NOSIGNAL) !=
		    (ssize_t)lens[i]) {
			tap_diag("loss: cannot send %.60s", what);
			return false;
		}
	}
	if (wlen > sizeof(buf) || loss_read(fd, buf, wlen, &got) ||
	    memcmp(buf, want, wlen)) {
		tap_diag("loss: %.60s (%d request(s)):", what, nreq);
		tap_show_diff(buf, got, want, wlen);
		return false;
	}
	return true;
}

/* text: 0 one "get", 1 a 3-key "get", 2 three "get"s sent apart */
static bool loss_text_one(int fd, int what)
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
	return loss_xchg(fd, reqs[0], req, lens, nreq, want, n);
}

/*
 * binary: 0 GET, 1 GETK, 2 a batch "getkq getkq noop", 3 three GETKs
 * sent apart; the replies the store sends (bin_hit_of(), bin_noop())
 */
static bool loss_bin_one(int fd, int what)
{
	static const char *const names[] = { "binary GET", "binary GETK",
		"binary getkq getkq noop", "3 binary GETKs sent apart" };
	static const uint8_t ops[] = { BIN_GET, BIN_GETK, BIN_GETKQ,
				       BIN_GETK };
	static uint8_t want[BUF_MAX * 4];
	uint8_t reqs[3][4 * (BIN_HDR + 32)];
	size_t lens[3] = { 0 }, n = 0;
	int i, j, nkeys = what < 2 ? 1 : what == 2 ? 2 : 3;
	char key[32], val[256];
	const char *req[3];
	struct vm_item it;
	uint32_t opq;

	for (i = 0; i < nkeys; i++) {
		loss_item(&it, key, val, rand() % LOSS_KEYS);
		opq = (uint32_t)rand();
		j = what == 3 ? i : 0;
		lens[j] += bin_req(reqs[j] + lens[j], ops[what], key, opq);
		n += bin_hit_of(want + n, ops[what], &it, opq);
	}
	if (what == 2) {
		opq = (uint32_t)rand();
		lens[0] += bin_req(reqs[0] + lens[0], BIN_NOOP, NULL, opq);
		n += bin_noop(want + n, opq);
	}
	for (i = 0; i < 3; i++)
		req[i] = (const char *)reqs[i];
	return loss_xchg(fd, names[what], req, lens, what == 3 ? 3 : 1,
			 (const char *)want, n);
}

/* mg's return flags asked, each with "v" (O: "Oq<key number>") */
static const char *const loss_mg_flags[] = { "kfsc", "csfk", "sfO", "fqck",
					     "" };

/* mg: 0 one "mg <key> v <flags>", 1 three of them sent apart */
static bool loss_mg_one(int fd, int what)
{
	static char want[BUF_MAX * 4];
	char reqs[3][160], key[32], val[256];
	int i, nreq = what ? 3 : 1;
	const char *req[3], *fl;
	size_t lens[3], n = 0;
	struct vm_item it;

	for (i = 0; i < nreq; i++) {
		loss_item(&it, key, val, rand() % LOSS_KEYS);
		fl = loss_mg_flags[rand() % (int)(sizeof(loss_mg_flags) /
						  sizeof(loss_mg_flags[0]))];
		lens[i] = mg_cmd_of(reqs[i], sizeof(reqs[i]) - 2, key, it.opq,
				    fl);
		lens[i] += (size_t)sprintf(reqs[i] + lens[i], "\r\n");
		req[i] = reqs[i];
		n += mg_head_of(want + n, sizeof(want) - n, &it, fl);
		n += (size_t)snprintf(want + n, sizeof(want) - n, "%s\r\n",
				      val);
	}
	return loss_xchg(fd, reqs[0], req, lens, nreq, want, n);
}

/**
 * struct loss_proto - one phase's reads.
 * @name:   prefix of its TAP lines ("" for text: the lines it always had)
 * @one:    one read of kind @what on @fd, checked: true if right
 * @nkinds: how many kinds @one knows
 * @weight: how often each kind is picked, relative to the others
 * @kinds:  each kind's name, plural
 */
struct loss_proto {
	const char *name;
	bool (*one)(int fd, int what);
	int nkinds;
	int weight[4];
	const char *kinds[4];
};

/* mostly single requests: what the store program answers */
static const struct loss_proto loss_text = {
	"", loss_text_one, 3, { 5, 1, 2 },
	{ "single gets", "3-key gets", "bursts of 3 gets" },
};

static const struct loss_proto loss_bin = {
	"binary: ", loss_bin_one, 4, { 2, 2, 2, 1 },
	{ "GETs", "GETKs", "getkq getkq noop batches", "bursts of 3 GETKs" },
};

static const struct loss_proto loss_meta = {
	"mg: ", loss_mg_one, 2, { 3, 1 },
	{ "single mg", "bursts of 3 mg" },
};

static int loss_pick(const struct loss_proto *p)
{
	int i, r, total = 0;

	for (i = 0; i < p->nkinds; i++)
		total += p->weight[i];
	r = rand() % total;
	for (i = 0; r >= p->weight[i]; i++)
		r -= p->weight[i];
	return i;
}

static time_t loss_now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec;
}

/* phase @phase's keys, fresh, stored over TCP: true if all were */
static bool loss_keys_store(int phase)
{
	bool ok = true;
	int k;

	memset(&loss_k, 0, sizeof(loss_k));
	loss_k.base = phase * LOSS_KEYS;
	for (k = 0; k < LOSS_KEYS; k++)
		ok &= loss_store(k, 0);
	return ok;
}

/*
 * Phase @phase: @p's reads of its own keys on @fds (@nfds of them, in
 * turn) for @secs seconds, a key rewritten now and then: every reply
 * right, some of them XDP's from the store.
 */
static void loss_phase(int phase, const struct loss_proto *p, const int *fds,
		       int nfds, int secs)
{
	int kinds[4] = { 0 }, i, k, bad = 0, reads = 0, sets = 0;
	struct tcounts a, b, d;
	char list[256];
	size_t n = 0;
	time_t end;

	tap_ok(loss_keys_store(phase),
	       "%s%d keys stored over TCP (ms c: their CAS)", p->name,
	       LOSS_KEYS);
	tcounts_read(&a);
	end = loss_now() + secs;
	while (!bad && loss_now() < end) {
		k = rand() % LOSS_KEYS;
		if (rand() % 5 == 0) {
			bad += !loss_store(k, loss_k.ver[k] + 1);
			sets++;
			continue;
		}
		i = loss_pick(p);
		kinds[i]++;
		reads++;
		bad += !p->one(fds[reads % nfds], i);
	}
	tcounts_read(&b);
	for (i = 0; i < p->nkinds; i++)
		n += (size_t)snprintf(list + n, sizeof(list) - n, "%s%d %s",
				      i ? ", " : "", kinds[i], p->kinds[i]);
	tap_is_i64(bad, 0,
		   "%s%d s: %d reads (%s) and %d sets: every reply in order, byte for byte, the last value acknowledged",
		   p->name, secs, reads, list, sets);
	tcounts_diff(&d, &a, &b);
	tap_ok(d.rep > 0, "%sXDP answered %lld GETs from the store under loss",
	       p->name, d.rep);
	tap_diag("%sXDP answered %lld from the store, %lld from the hot "
		 "cache", p->name, d.rep, d.fast - d.rep);
}

/* the long timeouts: a reply may wait for a backed-off retransmission */
static void loss_timeouts(int fd)
{
	struct timeval tv = { .tv_sec = LOSS_WAIT };

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

/*
 * A connection opened now (tracked from its SYN), with the long
 * timeouts. A try gives up after 3 s: a SYN or SYN-ACK lost twice.
 */
static int loss_open(void)
{
	int fd = -1, i;

	for (i = 0; fd < 0 && i < 5; i++)
		fd = vm_sock_open(SOCK_STREAM, tcp_port);
	if (fd < 0)
		tap_bail("loss: cannot connect");
	loss_timeouts(fd);
	return fd;
}

/* the connections still answer: version on text ones, NOOP on @bfd */
static void loss_usable(const int *fds, int bfd)
{
	uint8_t noop[BIN_HDR], want[BIN_HDR];
	size_t len = bin_req(noop, BIN_NOOP, NULL, 0x1055);
	const char *req[1] = { (const char *)noop };
	char line[128];
	int i;

	for (i = 0; i < LOSS_CONNS; i++)
		tap_ok(vm_tcp_line(fds[i], "version\r\n", 9, line,
				   sizeof(line)) == 0 &&
			       !strncmp(line, "VERSION ", 8),
		       "connection %d usable after", i);
	bin_noop(want, 0x1055);
	tap_ok(loss_xchg(bfd, "binary NOOP", req, &len, 1, (char *)want,
			 BIN_HDR),
	       "the binary connection usable after (NOOP)");
}

static int test_loss(void)
{
	int fds[LOSS_CONNS], bfd, i, half = secs / 2 > 2 ? secs / 2 : 2;
	long long re0, re1, ofo0, ofo1;

	tap_ok(set_admit(false),
	       "xdp_store_admit=0: the store path's hits do not admit");
	loss_timeouts(tcp_fd);
	srand(1234);
	for (i = 0; i < LOSS_CONNS; i++)
		fds[i] = loss_open();
	bfd = loss_open();
	re0 = loss_netstat("/proc/net/snmp", "Tcp:", "RetransSegs");
	ofo0 = loss_netstat("/proc/net/netstat", "TcpExt:", "TCPOFOQueue");
	loss_phase(0, &loss_text, fds, LOSS_CONNS, secs);
	loss_phase(1, &loss_bin, &bfd, 1, half);
	loss_phase(2, &loss_meta, fds, LOSS_CONNS, half);
	re1 = loss_netstat("/proc/net/snmp", "Tcp:", "RetransSegs");
	ofo1 = loss_netstat("/proc/net/netstat", "TcpExt:", "TCPOFOQueue");
	tap_ok(re0 >= 0 && re1 > re0,
	       "segments were retransmitted (RetransSegs +%lld)", re1 - re0);
	tap_diag("out-of-order segments queued (TCPOFOQueue) +%lld",
		 ofo1 - ofo0);
	loss_usable(fds, bfd);
	for (i = 0; i < LOSS_CONNS; i++)
		close(fds[i]);
	close(bfd);
	return tap_done();
}

#endif /* XKV_TESTS_VM_STORE_LOSS_H */
