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
 *   - expired: a key of 1 s served, 2.5 s later END;
 *   - coherence: set then get on the same connection and across two,
 *     rounds of it: always the new value; after delete, END;
 *   - pipelined: three gets sent back to back, rounds of it: the replies
 *     whole and in order;
 *   - mg (not answered from the store over TCP): the module's reply;
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

/* send @req (as it is) on @fd: the replies must be exactly @want */
static bool tcp_reply_is(int fd, const char *req, const char *want)
{
	size_t len = strlen(req), wlen = strlen(want), got;
	char buf[BUF_MAX * 2];

	if (wlen > sizeof(buf) ||
	    send(fd, req, len, MSG_NOSIGNAL) != (ssize_t)len) {
		tap_diag("TCP %.60s: cannot send", req);
		return false;
	}
	if (tcp_read_n(fd, buf, wlen, &got) || memcmp(buf, want, wlen)) {
		tap_diag("TCP %.60s:", req);
		tap_show_diff(buf, got, want, wlen);
		return false;
	}
	return true;
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
	tap_is_i64(ok, 3, "2.5 s later: END");
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
	tap_ok(d.rep > 0, "XDP answered %lld of the gets from the store",
	       d.rep);
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

static void ttest_meta(int fd)
{
	char req[128], want[512], key[64], val[256];
	size_t len;

	tkey_of(key, sizeof(key), 2);
	len = kind_val_of(val, KIND_TCP, 2);
	snprintf(req, sizeof(req), "mg %s v\r\n", key);
	snprintf(want, sizeof(want), "VA %zu\r\n%s\r\n", len, val);
	tap_ok(tcp_reply_is(fd, req, want) && tcp_reply_is(fd, req, want),
	       "mg over TCP of a store-only key: the module's reply");
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
	ttest_meta(fd2);
	ttest_usable(fd, fd2);
	close(fd);
	close(fd2);
	tap_ok(set_admit(true), "xdp_store_admit=1 again");
	return tap_done();
}

#endif /* XKV_TESTS_VM_STORE_TCP_H */
