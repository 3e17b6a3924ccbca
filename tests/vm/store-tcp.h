/* SPDX-License-Identifier: GPL-2.0 */
/*
 * store-tcp.h - "xkv-store tcp": the XDP store path over TCP, checked from
 * inside the VM (tests/vm/xkv-store.c includes it; its helpers are
 * xkv-store.c's).
 *
 * With store-path admission off (xdp_store_admit=0), keys stored over one
 * TCP connection are read over others opened after "xkv up", so the TCP
 * fast path tracks them from their SYN; none of the keys is ever in the
 * hot cache, so a GET XDP answers is answered from the store (program
 * xkv_store_tcp, bpf/tcp/store.h):
 *   - hit: every key's "get" answered byte for byte; the TCP store
 *     program's replies, the keys it served and the module's kfunc hits
 *     agree, XDP answered some (the fast path answers only on a quiescent
 *     connection, so not all: the backend may not have published yet),
 *     its replies carry whole, right IP and TCP checksums, and the hot
 *     cache holds none of the keys;
 *   - gets: byte for byte with a CAS, which "cas" accepts (the module's);
 *   - 3-key gets: byte for byte, three keys per store-program reply;
 *   - miss: a key never stored gets END (the module's: passed, counted
 *     tcp_misses), a stored and a missing key the module's reply;
 *   - expired: a key of 2 s served, 3.5 s later END;
 *   - coherence: set then get on the same connection and across two,
 *     rounds of it: always the new value; after delete, END;
 *   - pipelined: three gets sent back to back, rounds of it: the replies
 *     whole and in order;
 *   - binary (a connection of its own): GET, GETQ, GETK, GETKQ byte for
 *     byte with the CAS a text gets gave, a "getkq getkq getk noop"
 *     batch whole, three GETKs back to back in order, misses passed
 *     (Not found; a batch with a quiet miss; a lone GETQ: nothing);
 *   - mg: v with f s c k O q in any order byte for byte, three back to
 *     back, base64 keys (b, and k of an item stored with one), misses
 *     (EN, EN with k and O, nothing with q) and a stale item (X W, Z X)
 *     passed to meta.c;
 *   each with the store program's and the kfunc's counters checked;
 *   - the connections stay usable (version, set, get, quit).
 */
#ifndef XKV_TESTS_VM_STORE_TCP_H
#define XKV_TESTS_VM_STORE_TCP_H

/* the TCP store program's counter @name (in "xdp_store") */
static long long tstat(const char *name)
{
	return store_stat(name, false);
}

/* key @i of the TCP fixtures, "xs:tcp:%04d", and its block */
static void tkey_of(char *buf, size_t cap, int i)
{
	key_of(buf, cap, KIND_TCP, i);
}

static size_t tblock_of(char *buf, size_t cap, int i, unsigned long long cas)
{
	return kind_block_of(buf, cap, KIND_TCP, i, cas);
}

/*
 * Exactly @n bytes from @fd into @buf (3 s timeout per read), then none
 * more within 20 ms. Return: 0, or -1 (@got says how many came).
 */
static int tcp_read_n(int fd, char *buf, size_t n, size_t *got)
{
	char extra[64];
	ssize_t r;

	*got = 0;
	while (*got < n) {
		r = recv(fd, buf + *got, n - *got, 0);
		if (r <= 0)
			return -1;
		*got += (size_t)r;
	}
	usleep(20000);
	r = recv(fd, extra, sizeof(extra), MSG_DONTWAIT);
	if (r > 0) {
		tap_diag("%zd bytes more than the reply", r);
		return -1;
	}
	return 0;
}

/* send @len bytes of @req on @fd: the replies must be @wlen of @want */
static bool tcp_bytes_are(int fd, const void *req, size_t len,
			  const void *want, size_t wlen)
{
	char buf[BUF_MAX * 2];
	size_t got;

	if (wlen > sizeof(buf) ||
	    send(fd, req, len, MSG_NOSIGNAL) != (ssize_t)len) {
		tap_diag("TCP %.60s: cannot send", (const char *)req);
		return false;
	}
	if (tcp_read_n(fd, buf, wlen, &got) || memcmp(buf, want, wlen)) {
		tap_diag("TCP %.60s:", (const char *)req);
		tap_show_diff(buf, got, want, wlen);
		return false;
	}
	return true;
}

/* send @req (as it is) on @fd: the replies must be exactly @want */
static bool tcp_reply_is(int fd, const char *req, const char *want)
{
	return tcp_bytes_are(fd, req, strlen(req), want, strlen(want));
}

/* "get" of key @i on @fd, byte for byte */
static bool tcp_get_i(int fd, int i)
{
	char key[64], req[128], want[BUF_MAX];
	size_t n;

	tkey_of(key, sizeof(key), i);
	snprintf(req, sizeof(req), "get %s\r\n", key);
	n = tblock_of(want, sizeof(want), i, 0);
	snprintf(want + n, sizeof(want) - n, "END\r\n");
	return tcp_reply_is(fd, req, want);
}

/*
 * Every IPv4 TCP segment with data from the server's port the packet
 * socket caught: count those whose IP and TCP checksums are whole and
 * right in @good. XDP writes whole sums; the stack's own segments on lo
 * carry a partial one, so they do not count.
 */
static void cap_check_tcp(int fd, int *good)
{
	uint8_t buf[BUF_MAX], ph[12];
	size_t n, ihl, tot, thl;

	while ((n = cap_next(fd, buf, IPPROTO_TCP, tcp_port, &ihl))) {
		tot = (size_t)(buf[2] << 8 | buf[3]);
		if (tot > n || tot < ihl + 20)
			continue;
		thl = (size_t)(buf[ihl + 12] >> 4) * 4;
		if (tot <= ihl + thl)
			continue;	/* no data */
		memcpy(ph, buf + 12, 8);
		ph[8] = 0;
		ph[9] = IPPROTO_TCP;
		ph[10] = (uint8_t)((tot - ihl) >> 8);
		ph[11] = (uint8_t)(tot - ihl);
		if (csum_add(0, buf, ihl) == 0xffff &&
		    csum_add(csum_add(0, ph, sizeof(ph)), buf + ihl,
			     tot - ihl) == 0xffff)
			(*good)++;
	}
}

/* the counters the fixtures compare, before and after */
struct tcounts {
	long long req, rep, hits, miss, other, khits, kmiss, fast;
};

static void tcounts_read(struct tcounts *c)
{
	c->req = tstat("tcp_requests");
	c->rep = tstat("tcp_replies");
	c->hits = tstat("tcp_hits");
	c->miss = tstat("tcp_misses");
	c->other = tstat("tcp_other");
	c->khits = store_stat("hits", true);
	c->kmiss = store_stat("misses", true);
	c->fast = vm_xkv_stat("\"tcp\":{", "hits");
}

static void tcounts_diff(struct tcounts *d, const struct tcounts *a,
			 const struct tcounts *b)
{
	d->req = b->req - a->req;
	d->rep = b->rep - a->rep;
	d->hits = b->hits - a->hits;
	d->miss = b->miss - a->miss;
	d->other = b->other - a->other;
	d->khits = b->khits - a->khits;
	d->kmiss = b->kmiss - a->kmiss;
	d->fast = b->fast - a->fast;
	tap_diag("TCP store program: requests +%lld, replies +%lld, keys +%lld, misses +%lld, other +%lld; kfunc hits +%lld, misses +%lld; fast path hits +%lld",
		 d->req, d->rep, d->hits, d->miss, d->other, d->khits,
		 d->kmiss, d->fast);
}

static void ttest_hits(int fd)
{
	struct tcounts a, b, d;
	char key[64], val[256], *hot;
	int i, good = 0, cap, sums = 0;
	size_t len, found = 0;
	bool stored = true;

	for (i = 0; i < nkeys; i++) {
		tkey_of(key, sizeof(key), i);
		len = kind_val_of(val, KIND_TCP, i);
		stored &= tcp_set_on(tcp_fd, key, FLAGS_OF(i), 0, val, len);
	}
	tap_ok(stored, "%d keys stored over TCP", nkeys);
	tcounts_read(&a);
	tap_ok(a.req >= 0 && a.rep >= 0 && a.hits >= 0 && a.miss >= 0 &&
		       a.other >= 0 && a.khits >= 0 && a.fast >= 0,
	       "xkv stats -j shows the TCP store program's counters");
	cap = cap_open();
	/* twice: a GET passed while the backend had not published yet
	 * goes to the module, the next one on a quiet connection to XDP */
	for (i = 0; i < 2 * nkeys; i++)
		good += tcp_get_i(fd, i % nkeys);
	tcounts_read(&b);
	tap_is_i64(good, 2 * nkeys, "get over TCP: every key byte for byte");
	tcounts_diff(&d, &a, &b);
	tap_ok(d.rep > 0, "XDP answered %lld of %d from the store", d.rep,
	       2 * nkeys);
	tap_is_i64(d.hits, d.rep, "one key per store-program reply");
	tap_is_i64(d.req, d.rep + d.miss + d.other,
		   "every request the store program got counted once");
	tap_is_i64(d.miss, 0, "no store-program misses");
	tap_ok(d.khits >= d.hits && d.khits <= d.req,
	       "the module's kfunc found every key served (%lld)", d.khits);
	tap_ok(d.fast >= d.rep,
	       "the fast path's counters count them as XDP replies");
	if (cap >= 0) {
		cap_check_tcp(cap, &sums);
		close(cap);
	}
	tap_ok(cap >= 0 && sums >= d.rep,
	       "XDP's TCP replies carry right IP and TCP checksums (%d, %lld sent)",
	       sums, d.rep);
	hot = hot_map(&len);
	if (hot) {
		for (i = 0; i < nkeys; i++) {
			tkey_of(key, sizeof(key), i);
			if (memmem(hot, len, key, strlen(key)))
				found++;
		}
		munmap(hot, len);
	}
	tap_ok(hot && !found, "none of the keys is in the hot cache");
}

/* "gets" of key @i on @fd: its CAS, 0 if the reply is not the block */
static unsigned long long tcp_gets_i(int fd, int i)
{
	char key[64], buf[BUF_MAX], want[BUF_MAX], *p, *e;
	unsigned long long cas;
	size_t n;

	tkey_of(key, sizeof(key), i);
	if (tcp_gets_on(fd, key, buf))
		return 0;
	p = strchr(buf, '\r');
	if (!p)
		return 0;
	for (e = p; e > buf && e[-1] != ' '; e--)
		;
	cas = strtoull(e, NULL, 10);
	n = tblock_of(want, sizeof(want), i, cas);
	snprintf(want + n, sizeof(want) - n, "END\r\n");
	if (!cas || strcmp(buf, want)) {
		tap_show_diff(buf, strlen(buf), want, strlen(want));
		return 0;
	}
	return cas;
}

static void ttest_gets(int fd)
{
	char key[64], val[256], req[512], line[128];
	unsigned long long cas;
	struct tcounts a, b, d;
	int i, good = 0, n = 0, casok = 0;
	size_t len;

	tcounts_read(&a);
	for (i = 0; i < nkeys; i++) {
		good += tcp_gets_i(fd, i) != 0;
		n++;
	}
	tcounts_read(&b);
	tcounts_diff(&d, &a, &b);
	tap_is_i64(good, n, "gets over TCP: byte for byte, with a CAS");
	tap_ok(d.rep > 0, "... XDP answered %lld of them from the store",
	       d.rep);
	/* the CAS XDP sent is the one the module checks */
	for (i = 0; i < 8 && i < nkeys; i++) {
		cas = tcp_gets_i(fd, i);
		tkey_of(key, sizeof(key), i);
		len = kind_val_of(val, KIND_TCP, i);
		snprintf(req, sizeof(req), "cas %s %u 0 %zu %llu\r\n%s\r\n",
			 key, FLAGS_OF(i), len, cas, val);
		casok += cas && !vm_tcp_line(fd, req, strlen(req), line,
					     sizeof(line)) &&
			 !strcmp(line, "STORED\r\n");
	}
	tap_is_i64(casok, i, "cas with each CAS gets returned: STORED");
}

/* key @i of the 3-key gets: short values, three replies fit lo's room */
static void mkey_of(char *buf, size_t cap, int i)
{
	snprintf(buf, cap, "xs:tm:%02d", i);
}

static size_t mval_of(char *buf, int i)
{
	size_t len = 1 + (size_t)i % 16, k;

	for (k = 0; k < len; k++)
		buf[k] = (char)('a' + (i + 3 * k) % 26);
	buf[len] = '\0';
	return len;
}

#define TMULTI 24

static void ttest_multi(int fd)
{
	char req[512], want[BUF_MAX], ks[3][64], val[32];
	struct tcounts a, b, d;
	int i, j, good = 0, n = 0;
	bool stored = true;
	size_t len;

	for (i = 0; i < TMULTI; i++) {
		mkey_of(ks[0], sizeof(ks[0]), i);
		len = mval_of(val, i);
		stored &= tcp_set_on(tcp_fd, ks[0], (unsigned int)i, 0, val,
				     len);
	}
	tap_ok(stored, "%d short keys stored", TMULTI);
	tcounts_read(&a);
	for (i = 0; i + 2 < TMULTI; i++) {
		len = 0;
		for (j = 0; j < 3; j++) {
			mkey_of(ks[j], sizeof(ks[j]), i + j);
			mval_of(val, i + j);
			len += (size_t)snprintf(want + len, sizeof(want) - len,
						"VALUE %s %d %zu\r\n%s\r\n",
						ks[j], i + j, strlen(val), val);
		}
		snprintf(want + len, sizeof(want) - len, "END\r\n");
		snprintf(req, sizeof(req), "get %s %s %s\r\n", ks[0], ks[1],
			 ks[2]);
		/* twice, as for one key */
		good += tcp_reply_is(fd, req, want);
		good += tcp_reply_is(fd, req, want);
		n += 2;
	}
	tcounts_read(&b);
	tcounts_diff(&d, &a, &b);
	tap_is_i64(good, n, "3-key gets byte for byte");
	tap_ok(d.rep > 0, "... XDP answered %lld of them from the store",
	       d.rep);
	tap_is_i64(d.hits, 3 * d.rep, "three keys per store-program reply");
}

static void ttest_miss(int fd)
{
	char req[256], want[BUF_MAX], key[64];
	struct tcounts a, b, d;
	int i, good = 0, mixed = 0;
	size_t n;

	tcounts_read(&a);
	for (i = 0; i < 20; i++)
		good += tcp_reply_is(fd, "get xs:tcp:never\r\n", "END\r\n");
	tkey_of(key, sizeof(key), 1);
	snprintf(req, sizeof(req), "get %s xs:tcp:never\r\n", key);
	n = tblock_of(want, sizeof(want), 1, 0);
	snprintf(want + n, sizeof(want) - n, "END\r\n");
	for (i = 0; i < 10; i++)
		mixed += tcp_reply_is(fd, req, want);
	tcounts_read(&b);
	tcounts_diff(&d, &a, &b);
	tap_is_i64(good, 20, "miss: a key never stored gets END");
	tap_is_i64(mixed, 10, "a stored and a missing key: the module's reply");
	tap_ok(d.miss > 0 && d.rep == 0,
	       "the store program passed the misses (%lld), answered none",
	       d.miss);
	tap_ok(d.kmiss >= d.miss, "the module's kfunc counted them");
}

static void ttest_expired(int fd)
{
	/* 2 s: the clock ticks in seconds, a 1 s item may expire at once */
	struct timespec wait = { .tv_sec = 3, .tv_nsec = 500000000 };
	int i, ok = 0;

	tap_ok(tcp_set_on(tcp_fd, "xs:tcp:soon", 3, 2, "soon", 4),
	       "a key of 2 s stored");
	for (i = 0; i < 3; i++)
		ok += tcp_reply_is(fd, "get xs:tcp:soon\r\n",
				   "VALUE xs:tcp:soon 3 4\r\nsoon\r\nEND\r\n");
	tap_is_i64(ok, 3, "served at once");
	nanosleep(&wait, NULL);
	ok = 0;
	for (i = 0; i < 3; i++)
		ok += tcp_reply_is(fd, "get xs:tcp:soon\r\n", "END\r\n");
	tap_is_i64(ok, 3, "3.5 s later: END");
}

/* set on @wfd, then get on @rfd: @rounds times the new value */
static int tcp_rounds(int wfd, int rfd, int rounds, const char *tag)
{
	char val[96], want[256];
	int i, fresh = 0;

	for (i = 0; i < rounds; i++) {
		snprintf(val, sizeof(val), "%s %d of %d, %08x", tag, i,
			 rounds, (unsigned int)(i * 2654435761u));
		if (!tcp_set_on(wfd, "xs:tcp:rw", 9, 0, val, strlen(val)))
			continue;
		snprintf(want, sizeof(want),
			 "VALUE xs:tcp:rw 9 %zu\r\n%s\r\nEND\r\n",
			 strlen(val), val);
		fresh += tcp_reply_is(rfd, "get xs:tcp:rw\r\n", want);
	}
	return fresh;
}

static void ttest_coherence(int fd, int fd2)
{
	struct tcounts a, b, d;
	char line[64];
	int rounds = 50;

	tcounts_read(&a);
	tap_is_i64(tcp_rounds(fd, fd, rounds, "same"), rounds,
		   "set then get on one connection: the new value, %d rounds",
		   rounds);
	tap_is_i64(tcp_rounds(fd2, fd, rounds, "other"), rounds,
		   "set on another connection, then get: the new value");
	tap_is_i64(tcp_rounds(fd, fd2, rounds, "back"), rounds,
		   "... and the other way round");
	tcounts_read(&b);
	tcounts_diff(&d, &a, &b);
	/*
	 * Which tier answers is timing: a get the module answers (the set's
	 * reply not yet acknowledged) admits the key to the hot cache, whose
	 * entry every later set rewrites. What must hold is that XDP
	 * answered (from either) and every value above was the new one.
	 */
	tap_ok(d.rep + d.fast > 0,
	       "XDP answered %lld of the gets (%lld from the store, %lld from the hot cache)",
	       d.rep + d.fast, d.rep, d.fast);
	tap_ok(!vm_tcp_line(fd2, "delete xs:tcp:rw\r\n", 18, line,
			    sizeof(line)) && !strcmp(line, "DELETED\r\n"),
	       "delete over TCP: DELETED");
	tap_ok(tcp_reply_is(fd, "get xs:tcp:rw\r\n", "END\r\n"),
	       "the get after delete: END");
}

static void ttest_pipelined(int fd)
{
	char req[128], want[BUF_MAX * 2], buf[BUF_MAX * 2], key[64];
	int r, i, j, good = 0, rounds = 20;
	size_t n, wl, got;
	bool sent;

	for (r = 0; r < rounds; r++) {
		wl = 0;
		sent = true;
		for (j = 0; j < 3; j++) {
			i = (r * 3 + j) % nkeys;
			tkey_of(key, sizeof(key), i);
			n = (size_t)snprintf(req, sizeof(req), "get %s\r\n",
					     key);
			/* separate segments (TCP_NODELAY), not waiting */
			sent &= send(fd, req, n, MSG_NOSIGNAL) == (ssize_t)n;
			wl += tblock_of(want + wl, sizeof(want) - wl, i, 0);
			wl += (size_t)snprintf(want + wl, sizeof(want) - wl,
					       "END\r\n");
		}
		if (sent && !tcp_read_n(fd, buf, wl, &got) &&
		    !memcmp(buf, want, wl))
			good++;
		else if (sent)
			tap_show_diff(buf, got, want, wl);
	}
	tap_is_i64(good, rounds,
		   "3 gets sent back to back: the replies whole and in order");
	tap_ok(tcp_get_i(fd, 0), "a get after them: byte for byte");
}

/* binary gets of the first TBIN keys; the batch: keys 0, 5, 10 */
#define TBIN 8

/* the binary and mg fixtures' keys: never read before they are */
#define KIND_TBIN KIND_TCP "b"
#define KIND_TMG KIND_TCP "m"

/*
 * Store keys 0..@n-1 of @kind with "ms ... c" on @fd, their CAS in @cas:
 * a write, so no read of the module's admits them to the hot cache.
 * Return: true when every one was stored.
 */
static bool tcp_ms_cas(int fd, const char *kind, unsigned long long *cas,
		       int n)
{
	char key[64], val[256], req[512], line[128], *e = NULL;
	bool ok = true;
	size_t len;
	int i;

	for (i = 0; i < n; i++) {
		key_of(key, sizeof(key), kind, i);
		len = kind_val_of(val, kind, i);
		snprintf(req, sizeof(req), "ms %s %zu F%u c\r\n%s\r\n", key,
			 len, FLAGS_OF(i), val);
		cas[i] = 0;
		if (!vm_tcp_line(fd, req, strlen(req), line, sizeof(line)) &&
		    !strncmp(line, "HD c", 4))
			cas[i] = strtoull(line + 4, &e, 10);
		if (!cas[i] || strcmp(e, "\r\n")) {
			tap_diag("%.60s -> %.60s", req, line);
			ok = false;
		}
	}
	return ok;
}

/*
 * The counters of @sent requests of @what for keys only the store holds,
 * answered by XDP from the store
 */
static void tcounts_served(const struct tcounts *d, const char *what,
			  int sent)
{
	tap_ok(d->rep > 0, "%s over TCP: XDP answered %lld of %d from the "
	       "store", what, d->rep, sent);
	tap_is_i64(d->hits, d->rep, "%s over TCP: one key per reply", what);
	tap_is_i64(d->miss, 0, "%s over TCP: no store-program misses", what);
	tap_ok(d->khits >= d->hits && d->khits <= d->req,
	       "%s over TCP: the kfunc found every key served (%lld)", what,
	       d->khits);
	/* keys only the store holds: no XDP reply came from the hot cache */
	tap_is_i64(d->fast, d->rep, "%s over TCP: every XDP reply was the "
		   "store program's", what);
}

/*
 * Send the @n requests in @reqs (lengths @lens, one after another) on
 * @fd in segments of their own, not waiting: the replies must be @wlen
 * bytes of @want, whole and in order.
 */
static bool tcp_pipe_is(int fd, const char *reqs, const size_t *lens,
			int n, const char *want, size_t wlen)
{
	char got[BUF_MAX * 2];
	size_t off = 0, gl;
	int j;

	for (j = 0; j < n; j++) {
		if (send(fd, reqs + off, lens[j], MSG_NOSIGNAL) !=
		    (ssize_t)lens[j])
			return false;
		off += lens[j];
	}
	if (!tcp_read_n(fd, got, wlen, &gl) && !memcmp(got, want, wlen))
		return true;
	tap_show_diff(got, gl, want, wlen);
	return false;
}

/*
 * Binary GET, GETQ, GETK and GETKQ over TCP of keys only the store holds,
 * on a connection of their own (its first bytes make it binary):
 * answered by the TCP store program byte for byte, twice each (the
 * first may reach the module before it published the connection); a
 * batch "getkq getkq getk noop" whole; three GETKs sent back to back,
 * their replies whole and in order; misses passed to the module: GET
 * "Not found", a batch with a quiet miss (the hit and the NOOP), a lone
 * GETQ miss (nothing: the NOOP after it answers next).
 */
static void ttest_binary(int tfd)
{
	static const uint8_t ops[] = { BIN_GET, BIN_GETQ, BIN_GETK,
				       BIN_GETKQ };
	uint8_t req[BUF_MAX], want[BUF_MAX];
	unsigned long long cas[11];
	struct tcounts a, b, d;
	char key[64], k2[64], k3[64];
	int i, j, r, fd, good = 0, sent = 0;
	size_t n, w, lens[3];
	bool ok;

	tap_ok(tcp_ms_cas(tfd, KIND_TBIN, cas, 11),
	       "binary over TCP: 11 keys stored (ms c), their CAS");
	fd = vm_sock_open(SOCK_STREAM, tcp_port);
	if (fd < 0)
		tap_bail("cannot open a binary TCP connection");
	/* its first bytes make it binary; the module answers the NOOP */
	n = bin_req(req, BIN_NOOP, NULL, 0x7cb0);
	w = bin_noop(want, 0x7cb0);
	tap_ok(tcp_bytes_are(fd, req, n, want, w),
	       "binary over TCP: a NOOP first, the module's");
	tcounts_read(&a);
	for (i = 0; i < TBIN; i++) {
		key_of(key, sizeof(key), KIND_TBIN, i);
		for (j = 0; j < 8; j++) {
			n = bin_req(req, ops[j % 4], key, 0x7cb00000u + i);
			w = bin_hit(want, ops[j % 4], KIND_TBIN, i,
				    0x7cb00000u + i, cas[i]);
			good += tcp_bytes_are(fd, req, n, want, w);
			sent++;
		}
	}
	tcounts_read(&b);
	tcounts_diff(&d, &a, &b);
	tap_is_i64(good, sent, "binary over TCP: GET, GETQ, GETK, GETKQ of "
		   "%d keys byte for byte", TBIN);
	tcounts_served(&d, "binary", sent);

	/* a client's multi-get, small values: keys 0, 5, 10 */
	key_of(key, sizeof(key), KIND_TBIN, 0);
	key_of(k2, sizeof(k2), KIND_TBIN, 5);
	key_of(k3, sizeof(k3), KIND_TBIN, 10);
	n = bin_req(req, BIN_GETKQ, key, 1);
	n += bin_req(req + n, BIN_GETKQ, k2, 2);
	n += bin_req(req + n, BIN_GETK, k3, 3);
	n += bin_req(req + n, BIN_NOOP, NULL, 4);
	w = bin_hit(want, BIN_GETKQ, KIND_TBIN, 0, 1, cas[0]);
	w += bin_hit(want + w, BIN_GETKQ, KIND_TBIN, 5, 2, cas[5]);
	w += bin_hit(want + w, BIN_GETK, KIND_TBIN, 10, 3, cas[10]);
	w += bin_noop(want + w, 4);
	tcounts_read(&a);
	for (r = 0, good = 0; r < 6; r++)
		good += tcp_bytes_are(fd, req, n, want, w);
	tcounts_read(&b);
	tcounts_diff(&d, &a, &b);
	tap_is_i64(good, 6, "binary over TCP: getkq getkq getk noop answered "
		   "whole, in order");
	tap_ok(d.rep > 0 && d.hits == 3 * d.rep,
	       "binary over TCP: XDP answered %lld batches, three keys each",
	       d.rep);

	/* pipelined: three GETKs in three segments, not waiting */
	for (r = 0, good = 0; r < 10; r++) {
		for (j = 0, n = 0, w = 0; j < 3; j++) {
			i = (r + j) % TBIN;
			key_of(key, sizeof(key), KIND_TBIN, i);
			lens[j] = bin_req(req + n, BIN_GETK, key, 0x900u + j);
			n += lens[j];
			w += bin_hit(want + w, BIN_GETK, KIND_TBIN, i,
				     0x900u + j, cas[i]);
		}
		good += tcp_pipe_is(fd, (char *)req, lens, 3, (char *)want,
				    w);
	}
	tap_is_i64(good, 10, "binary over TCP: 3 GETKs back to back: the "
		   "replies whole and in order");

	/* misses: passed, the module answers */
	tcounts_read(&a);
	n = bin_req(req, BIN_GET, "xs:tcp:never", 0xabcd);
	w = bin_err(want, BIN_GET, 1, "Not found", 0xabcd);
	tap_ok(tcp_bytes_are(fd, req, n, want, w) &&
		       tcp_bytes_are(fd, req, n, want, w),
	       "binary over TCP: GET of a missing key: the module's Not found");
	key_of(key, sizeof(key), KIND_TBIN, 0);
	n = bin_req(req, BIN_GETKQ, key, 9);
	n += bin_req(req + n, BIN_GETKQ, "xs:tcp:never", 10);
	n += bin_req(req + n, BIN_NOOP, NULL, 11);
	w = bin_hit(want, BIN_GETKQ, KIND_TBIN, 0, 9, cas[0]);
	w += bin_noop(want + w, 11);
	tap_ok(tcp_bytes_are(fd, req, n, want, w) &&
		       tcp_bytes_are(fd, req, n, want, w),
	       "binary over TCP: a batch with a quiet miss: the module's "
	       "reply (the hit, the NOOP)");
	n = bin_req(req, BIN_GETQ, "xs:tcp:never", 12);
	ok = send(fd, req, n, MSG_NOSIGNAL) == (ssize_t)n;
	usleep(50000);
	n = bin_req(req, BIN_NOOP, NULL, 13);
	w = bin_noop(want, 13);
	tap_ok(ok && tcp_bytes_are(fd, req, n, want, w),
	       "binary over TCP: a lone GETQ miss gets nothing (the NOOP "
	       "sent after it answers next)");
	tcounts_read(&b);
	tcounts_diff(&d, &a, &b);
	tap_ok(d.miss > 0 && d.rep == 0,
	       "binary over TCP: the store program passed the misses (%lld), "
	       "answered none", d.miss);
	tap_ok(d.kmiss >= d.miss, "binary over TCP: the kfunc counted them");
	close(fd);
}

/*
 * mg over TCP of keys only the store holds: v with every flag XDP
 * answers (f s c k O q), in any order, byte for byte as meta.c, twice
 * each; three mg back to back; base64 keys (b; k of an item stored
 * with a base64 key); misses (EN, EN with k and O, nothing for a quiet
 * one) and an mg of a stale item passed to the module.
 */
static void ttest_meta(int fd, int tfd)
{
	static const char *const sets[] = { "", "f", "fsckOq", "kcsfO",
					    "qOk", "cqf" };
	char cmd[512], want[BUF_MAX], val[256];
	unsigned long long cas[4];
	struct tcounts a, b, d;
	long long ks0, ks1;
	int i, j, r, good = 0, sent = 0;
	size_t n, w, lens[3];
	bool ok;

	tap_ok(tcp_ms_cas(tfd, KIND_TMG, cas, 4),
	       "mg over TCP: 4 keys stored (ms c), their CAS");
	tcounts_read(&a);
	for (i = 0; i < 4; i++) {
		for (j = 0; j < (int)(sizeof(sets) / sizeof(sets[0])); j++) {
			mg_cmd(cmd, sizeof(cmd), KIND_TMG, i, sets[j]);
			strcat(cmd, "\r\n");
			n = mg_head(want, sizeof(want), KIND_TMG, i, sets[j],
				    cas[i]);
			kind_val_of(val, KIND_TMG, i);
			snprintf(want + n, sizeof(want) - n, "%s\r\n", val);
			good += tcp_reply_is(fd, cmd, want);
			good += tcp_reply_is(fd, cmd, want);
			sent += 2;
		}
	}
	tcounts_read(&b);
	tcounts_diff(&d, &a, &b);
	tap_is_i64(good, sent, "mg over TCP: v with f s c k O q in any "
		   "order: meta.c's bytes");
	tcounts_served(&d, "mg", sent);

	/* pipelined: three mg in three segments, not waiting */
	for (r = 0, good = 0; r < 10; r++) {
		for (j = 0, n = 0, w = 0; j < 3; j++) {
			i = (r + j) % 4;
			mg_cmd(cmd + n, sizeof(cmd) - n - 2, KIND_TMG, i,
			       "sfk");
			strcat(cmd + n, "\r\n");
			lens[j] = strlen(cmd + n);
			n += lens[j];
			w += mg_head(want + w, sizeof(want) - w, KIND_TMG, i,
				     "sfk", 0);
			kind_val_of(val, KIND_TMG, i);
			w += (size_t)snprintf(want + w, sizeof(want) - w,
					      "%s\r\n", val);
		}
		good += tcp_pipe_is(fd, cmd, lens, 3, want, w);
	}
	tap_is_i64(good, 10, "mg over TCP: 3 mg back to back: the replies "
		   "whole and in order");

	/* base64: "xs:tcp:b64" is eHM6dGNwOmI2NA== */
	tcounts_read(&a);
	ok = tcp_reply_is(tfd, "ms eHM6dGNwOmI2NA== 3 b\r\nb64\r\n",
			  "HD\r\n");
	tap_ok(ok, "mg over TCP: a key stored with a base64 key (ms b)");
	for (r = 0, good = 0; r < 2; r++) {
		good += tcp_reply_is(fd, "mg eHM6dGNwOmI2NA== b k v s\r\n",
				     "VA 3 keHM6dGNwOmI2NA== b s3\r\n"
				     "b64\r\n");
		good += tcp_reply_is(fd, "mg xs:tcp:b64 k v\r\n",
				     "VA 3 keHM6dGNwOmI2NA== b\r\nb64\r\n");
		key_of(cmd, sizeof(cmd), KIND_TMG, 1);
		kind_val_of(val, KIND_TMG, 1);
		snprintf(want, sizeof(want), "VA %zu k%s\r\n%s\r\n",
			 strlen(val), cmd, val);
		/* xs:tcpm:0001, stored as it is, asked in base64 */
		good += tcp_reply_is(fd, "mg eHM6dGNwbTowMDAx b k v\r\n", want);
	}
	tcounts_read(&b);
	tcounts_diff(&d, &a, &b);
	tap_is_i64(good, 6, "mg over TCP: base64 keys (b) decoded, k echoed "
		   "as stored");
	tap_ok(d.rep > 0, "mg over TCP: XDP answered %lld of them from the "
	       "store", d.rep);

	/* misses and meta states: passed, meta.c answers */
	tcounts_read(&a);
	ks0 = store_stat("state", true);
	ok = tcp_reply_is(fd, "mg xs:tcp:never v\r\n", "EN\r\n") &&
	     tcp_reply_is(fd, "mg xs:tcp:never v\r\n", "EN\r\n");
	tap_ok(ok, "mg over TCP: a missing key: EN (the module's)");
	tap_ok(tcp_reply_is(fd, "mg xs:tcp:never k v Oab\r\n",
			    "EN kxs:tcp:never Oab\r\n"),
	       "mg over TCP: ... with k and O: meta.c echoes them");
	ok = send(fd, "mg xs:tcp:never v q\r\n", 21, MSG_NOSIGNAL) == 21;
	usleep(50000);
	tap_ok(ok && tcp_reply_is(fd, "mn\r\n", "MN\r\n"),
	       "mg over TCP: a quiet miss gets nothing (the mn after it "
	       "answers next)");
	tap_ok(tcp_set_on(tfd, "xs:tcp:stale", 1, 0, "old", 3) &&
		       tcp_reply_is(tfd, "md xs:tcp:stale I\r\n", "HD\r\n"),
	       "mg over TCP: a key marked stale (md I)");
	tap_ok(tcp_reply_is(fd, "mg xs:tcp:stale v\r\n",
			    "VA 3 X W\r\nold\r\n") &&
		       tcp_reply_is(fd, "mg xs:tcp:stale v\r\n",
				    "VA 3 Z X\r\nold\r\n"),
	       "mg over TCP: a stale item: meta.c's X W, then Z X");
	tcounts_read(&b);
	ks1 = store_stat("state", true);
	tcounts_diff(&d, &a, &b);
	tap_ok(d.miss > 0 && d.rep == 0,
	       "mg over TCP: the store program passed the misses (%lld), "
	       "answered none", d.miss);
	tap_ok(d.kmiss >= d.miss, "mg over TCP: the kfunc counted them");
	tap_is_i64(ks1 - ks0, d.other, "mg over TCP: the kfunc refused "
		   "(state) each stale mg the store program passed");
}

/*
 * mg "t" over TCP of keys only the store holds: the seconds left on the
 * store's clock (xkv_item_ttl(), which the kfunc gives XDP), answered by
 * XDP with the bytes meta.c sends for the same item in the same second
 * (tcp_mg_head() on another connection before and after; asked again
 * when the clock ticked between), and t-1 for an item without one; the
 * counters show XDP answered both kinds from the store.
 */
static void ttest_meta_ttl(int fd, int tfd)
{
	char t1[256], t2[256], want[512], got[512];
	int i, sent = 0, good = 0, good1 = 0;
	struct tcounts a, b, d;
	unsigned int ttl = 0;
	size_t n, gl;

	/* 500 s: three digits whichever second it is read in */
	tap_ok(tcp_reply_is(tfd, "ms xs:tcp:ttl 3 T500\r\nttl\r\n", "HD\r\n") &&
		       tcp_reply_is(tfd, "ms xs:tcp:nottl 3\r\nnot\r\n",
				    "HD\r\n"),
	       "mg t over TCP: keys of 500 s and of no expiry stored (ms)");
	tcounts_read(&a);
	for (i = 0; i < 8 && sent < 4; i++) {
		if (!tcp_mg_head("xs:tcp:ttl k v t s", t1, sizeof(t1)))
			break;
		n = (size_t)snprintf(want, sizeof(want), "%sttl\r\n", t1);
		if (send(fd, "mg xs:tcp:ttl k v t s\r\n", 23, MSG_NOSIGNAL) !=
			    23 ||
		    tcp_read_n(fd, got, n, &gl) ||
		    !tcp_mg_head("xs:tcp:ttl k v t s", t2, sizeof(t2)))
			break;
		if (strcmp(t1, t2))
			continue;	/* the clock ticked: again */
		sent++;
		good += !memcmp(got, want, n);
		if (memcmp(got, want, n))
			tap_show_diff(got, n, want, n);
		sscanf(t1, "VA 3 kxs:tcp:ttl t%u", &ttl);
	}
	tcounts_read(&b);
	tcounts_diff(&d, &a, &b);
	tap_ok(sent >= 4 && good == sent && ttl >= 498 && ttl <= 500,
	       "mg t over TCP: k v t s of a 500 s item: meta.c's bytes, %d of %d (t%u)",
	       good, sent, ttl);
	tap_ok(d.rep > 0 && d.fast == d.rep,
	       "mg t over TCP: XDP answered %lld of them from the store",
	       d.rep);
	tcounts_read(&a);
	for (i = 0; i < 4; i++)
		good1 += tcp_reply_is(fd, "mg xs:tcp:nottl t v\r\n",
				      "VA 3 t-1\r\nnot\r\n");
	tcounts_read(&b);
	tcounts_diff(&d, &a, &b);
	tap_ok(good1 == 4 && tcp_mg_head("xs:tcp:nottl t v", t1, sizeof(t1)) &&
		       !strcmp(t1, "VA 3 t-1\r\n"),
	       "mg t over TCP: an item that never expires: t-1, as meta.c");
	tap_ok(d.rep > 0 && d.fast == d.rep,
	       "mg t over TCP: XDP answered %lld of the t-1 from the store",
	       d.rep);
}

/*
 * The hostile fixtures' keys, each only in the store until its case:
 * binary cases 0..THOST_BIN - 1 and the split one use keys 0..THOST_BIN,
 * the text cases THOST_TEXT on, the checks after them the last two.
 */
#define KIND_THOST KIND_TCP "h"
#define THOST_BIN 5
#define THOST_TEXT (THOST_BIN + 1)
#define THOST_KEYS (THOST_TEXT + 7 + 2)

/*
 * Hostile binary request @c (below THOST_BIN) for key @c at @p, its
 * length in *@n, and what the store answers at @w, *@wl bytes
 * (memcached's: it then hangs up). Return: the case's name.
 */
static const char *thost_bin_req(int c, uint8_t *p, size_t *n, uint8_t *w,
				 size_t *wl)
{
	char key[64], k2[256];
	size_t klen;

	key_of(key, sizeof(key), KIND_THOST, c);
	klen = strlen(key);
	switch (c) {
	case 0:
		*n = bin_req(p, BIN_GETK, key, 0x4a00);
		p[0] = 0x81;
		*wl = 0;
		return "a GETK with the reply's magic 0x81: nothing";
	case 1:
		snprintf(k2, sizeof(k2), "%s12345678", key);
		*n = bin_req(p, BIN_GETK, k2, 0x4a01);
		put_be(p + 8, klen, 4);
		*wl = bin_err(w, BIN_GETK, 0x81, "Unknown command", 0x4a01);
		return "a GETK whose key runs 8 bytes past its body: Unknown command";
	case 2:
		memset(k2, 'a', 251);
		k2[251] = '\0';
		*n = bin_req(p, BIN_GET, k2, 0x4a02);
		*wl = bin_err(w, BIN_GET, 4, "Invalid arguments", 0x4a02);
		return "a GET of a 251-byte key: Invalid arguments";
	case 3:
		*n = bin_req(p, BIN_GET, key, 0x4a03) + 4;
		memmove(p + BIN_HDR + 4, p + BIN_HDR, klen);
		memset(p + BIN_HDR, 0, 4);
		p[4] = 4;
		put_be(p + 8, 4 + klen, 4);
		*wl = bin_err(w, BIN_GET, 4, "Invalid arguments", 0x4a03);
		return "a GET with 4 bytes of extras: Invalid arguments";
	default:
		/* memcached drops the GETK's reply it has not sent yet */
		*n = bin_req(p, BIN_GETK, key, 0x4a04);
		memset(p + *n, 0, BIN_HDR);
		p[*n] = 0x81;
		*n += BIN_HDR;
		*wl = 0;
		return "a GETK and a header with the reply's magic in one "
		       "segment: nothing";
	}
}

/*
 * A binary connection opened now, on which XDP would answer: two NOOPs
 * answered (the module's; they read no key, and the first makes the
 * connection binary). Return: its fd, or -1.
 */
static int thost_bin_open(void)
{
	int fd = vm_sock_open(SOCK_STREAM, tcp_port), r;
	uint8_t req[BIN_HDR], want[BIN_HDR];
	size_t n = bin_req(req, BIN_NOOP, NULL, 0x4e00);

	bin_noop(want, 0x4e00);
	for (r = 0; fd >= 0 && r < 2; r++) {
		if (!tcp_bytes_are(fd, req, n, want, BIN_HDR)) {
			close(fd);
			return -1;
		}
	}
	return fd;
}

/* the hostile binary requests, each on its connection of @fds: closed */
static void thost_bin_closing(const int *fds)
{
	uint8_t req[BUF_MAX], want[BUF_MAX];
	const char *name;
	size_t n, w;
	int i;
	char c;

	for (i = 0; i < THOST_BIN; i++) {
		name = thost_bin_req(i, req, &n, want, &w);
		tap_ok(fds[i] >= 0 && tcp_bytes_are(fds[i], req, n, want, w) &&
			       recv(fds[i], &c, 1, 0) == 0,
		       "hostile over TCP: %s, then the hang-up", name);
	}
}

/* a binary GETK of key @i on @fd (its CAS @cas), byte for byte */
static bool thost_getk(int fd, int i, unsigned long long cas)
{
	uint8_t req[BUF_MAX], want[BUF_MAX];
	char key[64];
	size_t n, w;

	key_of(key, sizeof(key), KIND_THOST, i);
	n = bin_req(req, BIN_GETK, key, 0x4057);
	w = bin_hit(want, BIN_GETK, KIND_THOST, i, 0x4057, cas);
	return tcp_bytes_are(fd, req, n, want, w);
}

/*
 * A binary GETKQ and the first 10 bytes of a GETK of key @i in one
 * segment, the rest of the GETK in the next, on @fd: the GETKQ's reply,
 * then the GETK's once it is whole.
 */
static void thost_bin_split(int fd, int i, unsigned long long cas)
{
	uint8_t req[BUF_MAX], want[BUF_MAX];
	size_t n, m, w;
	char key[64];
	bool ok;

	key_of(key, sizeof(key), KIND_THOST, i);
	n = bin_req(req, BIN_GETKQ, key, 0x4a10);
	m = bin_req(req + n, BIN_GETK, key, 0x4a11);
	w = bin_hit(want, BIN_GETKQ, KIND_THOST, i, 0x4a10, cas);
	ok = fd >= 0 && tcp_bytes_are(fd, req, n + 10, want, w);
	w = bin_hit(want, BIN_GETK, KIND_THOST, i, 0x4a11, cas);
	ok = ok && tcp_bytes_are(fd, req + n + 10, m - 10, want, w);
	tap_ok(ok, "hostile over TCP: a GETKQ and a GETK cut after 10 bytes: "
	       "the GETKQ's reply, the GETK's once whole");
}

/* "get" of key @i on @fd, byte for byte */
static bool thost_get(int fd, int i)
{
	char key[64], req[128], want[BUF_MAX];
	size_t n;

	key_of(key, sizeof(key), KIND_THOST, i);
	snprintf(req, sizeof(req), "get %s\r\n", key);
	n = kind_block_of(want, sizeof(want), KIND_THOST, i, 0);
	snprintf(want + n, sizeof(want) - n, "END\r\n");
	return tcp_reply_is(fd, req, want);
}

/* @a, then 50 ms later @b (if not NULL), on @fd: the reply is @want */
static void thost_text(int fd, const char *what, const char *a,
		       const char *b, const char *want)
{
	bool ok = true;

	if (b) {
		ok = send(fd, a, strlen(a), MSG_NOSIGNAL) == (ssize_t)strlen(a);
		usleep(50000);
		a = b;
	}
	tap_ok(ok && tcp_reply_is(fd, a, want), "hostile over TCP: %s", what);
}

/* the malformed meta and text lines on @fd, keys THOST_TEXT on */
static void thost_text_bad(int fd)
{
	char key[64], req[512], big[252];
	int i = THOST_TEXT;

	memset(big, 'a', 251);
	big[251] = '\0';
	key_of(key, sizeof(key), KIND_THOST, i++);
	snprintf(req, sizeof(req), "mg %s v s s\r\n", key);
	thost_text(fd, "mg with a flag given twice: duplicate flag", req, NULL,
		   "CLIENT_ERROR duplicate flag\r\n");
	key_of(key, sizeof(key), KIND_THOST, i++);
	snprintf(req, sizeof(req), "mg %s s v O%s\r\n", key,
		 "01234567890123456789012345678901");
	thost_text(fd, "mg with a 32-byte opaque: opaque token too long", req,
		   NULL, "CLIENT_ERROR opaque token too long\r\n");
	snprintf(req, sizeof(req), "mg %s v\r\n", big);
	thost_text(fd, "mg of a 251-byte key: bad command line format", req,
		   NULL, "CLIENT_ERROR bad command line format\r\n");
	key_of(key, sizeof(key), KIND_THOST, i);
	snprintf(req, sizeof(req), "get %s %s\r\n", key, big);
	thost_text(fd, "get of a stored key and a 251-byte one: bad command "
		   "line format", req, NULL,
		   "CLIENT_ERROR bad command line format\r\n");
}

/*
 * Requests of keys THOST_TEXT + 3 on cut before their end or followed
 * by a line that is no command, on @fd: the whole request's reply.
 */
static void thost_text_cut(int fd)
{
	char key[64], val[256], req[512], want[BUF_MAX];
	int i = THOST_TEXT + 3;
	size_t n;

	key_of(key, sizeof(key), KIND_THOST, i);
	kind_val_of(val, KIND_THOST, i);
	snprintf(req, sizeof(req), "mg %s s v", key);
	n = mg_head(want, sizeof(want), KIND_THOST, i, "sf", 0);
	snprintf(want + n, sizeof(want) - n, "%s\r\n", val);
	thost_text(fd, "an mg line cut before its flag f and its end: the "
		   "whole mg's reply", req, " f\r\n", want);
	key_of(key, sizeof(key), KIND_THOST, ++i);
	snprintf(req, sizeof(req), "get %s\r", key);
	n = kind_block_of(want, sizeof(want), KIND_THOST, i, 0);
	snprintf(want + n, sizeof(want) - n, "END\r\n");
	thost_text(fd, "a get cut between its \\r and \\n: the get's reply",
		   req, "\n", want);
	key_of(key, sizeof(key), KIND_THOST, ++i);
	kind_val_of(val, KIND_THOST, i);
	snprintf(req, sizeof(req), "mg %s v\r\nbogus\r\n", key);
	snprintf(want, sizeof(want), "VA %zu\r\n%s\r\nERROR\r\n", strlen(val),
		 val);
	thost_text(fd, "an mg and a line that is no command in one segment: "
		   "the mg's reply, ERROR", req, NULL, want);
}

/*
 * Hostile input over TCP, each case on a key only the store holds and
 * on a connection where XDP would answer it (quiescent, its protocol
 * published): malformed binary requests (memcached's error, or nothing,
 * then the hang-up memcached gives), a binary request split after 10
 * bytes, malformed meta and text lines (memcached's error line), lines
 * cut before their end or followed by garbage (the whole request's
 * reply). XDP answers none of them; then it answers a get and a binary
 * GETK from the store again, byte for byte, and the module answers on.
 */
static void ttest_hostile(int fd, int tfd)
{
	unsigned long long cas[THOST_KEYS];
	int bfds[THOST_BIN + 1], i, good;
	struct tcounts a, b, d;
	char line[64];

	tap_ok(tcp_ms_cas(tfd, KIND_THOST, cas, THOST_KEYS),
	       "hostile over TCP: %d keys stored (ms c), only in the store",
	       THOST_KEYS);
	for (i = 0, good = 0; i <= THOST_BIN; i++) {
		bfds[i] = thost_bin_open();
		good += bfds[i] >= 0;
	}
	tap_ok(good == THOST_BIN + 1 &&
		       !vm_tcp_line(fd, "version\r\n", 9, line, sizeof(line)) &&
		       !strncmp(line, "VERSION ", 8),
	       "hostile over TCP: %d binary connections and the text one "
	       "answer", THOST_BIN + 1);
	tcounts_read(&a);
	thost_bin_closing(bfds);
	thost_bin_split(bfds[THOST_BIN], THOST_BIN, cas[THOST_BIN]);
	thost_text_bad(fd);
	thost_text_cut(fd);
	tcounts_read(&b);
	tcounts_diff(&d, &a, &b);
	tap_ok(d.rep == 0 && d.fast == 0,
	       "hostile over TCP: XDP answered none of them");
	/* the store and the connections that stay go on, XDP with them */
	i = THOST_KEYS - 2;
	good = thost_get(fd, i) + thost_get(fd, i);
	good += bfds[THOST_BIN] >= 0 &&
		thost_getk(bfds[THOST_BIN], i + 1, cas[i + 1]) &&
		thost_getk(bfds[THOST_BIN], i + 1, cas[i + 1]);
	tcounts_read(&a);
	tcounts_diff(&d, &b, &a);
	tap_ok(good == 3 && d.rep > 0 && d.fast == d.rep,
	       "hostile over TCP: then get and binary GETK of keys only the "
	       "store holds, byte for byte, XDP answering (%lld)", d.rep);
	tap_ok(!vm_tcp_line(tcp_fd, "version\r\n", 9, line, sizeof(line)) &&
		       !strncmp(line, "VERSION ", 8),
	       "hostile over TCP: the module answers on");
	for (i = 0; i <= THOST_BIN; i++)
		if (bfds[i] >= 0)
			close(bfds[i]);
}

static void ttest_usable(int fd, int fd2)
{
	char line[128];
	bool ok;

	ok = !vm_tcp_line(fd, "version\r\n", 9, line, sizeof(line)) &&
	     !strncmp(line, "VERSION ", 8);
	tap_ok(ok, "the connection still answers version");
	ok = tcp_set_on(fd, "xs:tcp:last", 1, 0, "last", 4) &&
	     tcp_reply_is(fd2, "get xs:tcp:last\r\n",
			  "VALUE xs:tcp:last 1 4\r\nlast\r\nEND\r\n") &&
	     tcp_reply_is(fd, "get xs:tcp:last\r\n",
			  "VALUE xs:tcp:last 1 4\r\nlast\r\nEND\r\n");
	tap_ok(ok, "set and get still right on both connections");
	ok = send(fd, "quit\r\n", 6, MSG_NOSIGNAL) == 6 &&
	     recv(fd, line, sizeof(line), 0) == 0;
	tap_ok(ok, "quit: the server closes the connection");
}

/* "xkv-store tcp": the TCP fixtures alone */
static int test_tcp(void)
{
	int fd, fd2;

	tap_ok(set_admit(false),
	       "xdp_store_admit=0: the store path's hits do not admit");
	/* opened now: the fast path tracks connections from their SYN */
	fd = vm_sock_open(SOCK_STREAM, tcp_port);
	fd2 = vm_sock_open(SOCK_STREAM, tcp_port);
	if (fd < 0 || fd2 < 0)
		tap_bail("cannot reach the module over TCP");
	tap_ok(tcp_reply_is(fd, "get xs:tcp:first\r\n", "END\r\n") &&
		       tcp_reply_is(fd2, "get xs:tcp:first\r\n", "END\r\n"),
	       "two connections answer");
	ttest_hits(fd);
	ttest_gets(fd);
	ttest_multi(fd2);
	ttest_miss(fd);
	ttest_expired(fd2);
	ttest_coherence(fd, fd2);
	ttest_pipelined(fd);
	ttest_binary(fd);
	ttest_meta(fd2, fd);
	ttest_meta_ttl(fd2, fd);
	ttest_hostile(fd2, fd);
	ttest_usable(fd, fd2);
	close(fd);
	close(fd2);
	tap_ok(set_admit(true), "xdp_store_admit=1 again");
	return tap_done();
}

#endif /* XKV_TESTS_VM_STORE_TCP_H */
