/* SPDX-License-Identifier: GPL-2.0 */
/*
 * store-proto.h - xkv-store's fixtures for binary GETs and meta "mg" over
 * UDP answered by the XDP store path (bpf/xdp/store_bin.h), part of
 * tests/vm/xkv-store.c (compiled there, after its helpers).
 *
 * Keys "xs:bin:NNNN" and "xs:mg:NNNN" are stored over TCP and never read
 * by the module before their UDP checks (store-path admission is off), so
 * the hot cache never holds them: every reply checked here came from the
 * store program, which the counters show (its "replies", "hits",
 * "misses", "state"; the kfunc's "hits", "misses", "state"). The bytes
 * are checked against the replies memcached's protocols define, built
 * here from the stored flags and values and the CAS a UDP "gets" gave,
 * then against the module's own answer to the same request over TCP.
 */
#ifndef XKV_VM_STORE_PROTO_H
#define XKV_VM_STORE_PROTO_H

#define BIN_GET 0x00
#define BIN_GETQ 0x09
#define BIN_NOOP 0x0a
#define BIN_GETK 0x0c
#define BIN_GETKQ 0x0d
#define BIN_HDR 24
/* binary keys stored: the first BIN_KEYS of "xs:bin:NNNN" */
#define BIN_KEYS 8

static void put_be(uint8_t *p, uint64_t v, int n)
{
	int j;

	for (j = 0; j < n; j++)
		p[j] = (uint8_t)(v >> (8 * (n - 1 - j)));
}

/* a binary request packet for @key (NULL: a NOOP) at @p: its length */
static size_t bin_req(uint8_t *p, uint8_t op, const char *key,
		      uint32_t opaque)
{
	size_t klen = key ? strlen(key) : 0;

	memset(p, 0, BIN_HDR);
	p[0] = 0x80;
	p[1] = op;
	put_be(p + 2, klen, 2);
	put_be(p + 8, klen, 4);
	put_be(p + 12, opaque, 4);
	if (klen)
		memcpy(p + BIN_HDR, key, klen);
	return BIN_HDR + klen;
}

static bool bin_with_key(uint8_t op)
{
	return op == BIN_GETK || op == BIN_GETKQ;
}

/**
 * struct vm_item - an item as the fixtures expect the store to send it.
 * @key:   its key
 * @val:   its value, @vlen bytes
 * @vlen:  ...
 * @flags: its client flags
 * @cas:   its CAS
 * @opq:   the opaque an mg's "O" sends for it ("Oq<opq>")
 */
struct vm_item {
	const char *key;
	const char *val;
	size_t vlen;
	unsigned int flags;
	unsigned long long cas;
	int opq;
};

/* the store's reply to a hit of @it for binary @op, at @p: its length */
static size_t bin_hit_of(uint8_t *p, uint8_t op, const struct vm_item *it,
			 uint32_t opaque)
{
	size_t kout = bin_with_key(op) ? strlen(it->key) : 0;

	memset(p, 0, BIN_HDR);
	p[0] = 0x81;
	p[1] = op;
	put_be(p + 2, kout, 2);
	p[4] = 4;
	put_be(p + 8, 4 + kout + it->vlen, 4);
	put_be(p + 12, opaque, 4);
	put_be(p + 16, it->cas, 8);
	put_be(p + BIN_HDR, it->flags, 4);
	memcpy(p + BIN_HDR + 4, it->key, kout);
	memcpy(p + BIN_HDR + 4 + kout, it->val, it->vlen);
	return BIN_HDR + 4 + kout + it->vlen;
}

/* key @i of @kind as stored, with @cas; @key: 64 bytes, @val: 256 */
static void kind_item(struct vm_item *it, char *key, char *val,
		      const char *kind, int i, unsigned long long cas)
{
	key_of(key, 64, kind, i);
	it->key = key;
	it->val = val;
	it->vlen = kind_val_of(val, kind, i);
	it->flags = FLAGS_OF(i);
	it->cas = cas;
	it->opq = i;
}

/* the store's reply to a hit of key @i of @kind for @op, at @p */
static size_t bin_hit(uint8_t *p, uint8_t op, const char *kind, int i,
		      uint32_t opaque, unsigned long long cas)
{
	char key[64], val[256];
	struct vm_item it;

	kind_item(&it, key, val, kind, i, cas);
	return bin_hit_of(p, op, &it, opaque);
}

/* the NOOP's reply */
static size_t bin_noop(uint8_t *p, uint32_t opaque)
{
	memset(p, 0, BIN_HDR);
	p[0] = 0x81;
	p[1] = BIN_NOOP;
	put_be(p + 12, opaque, 4);
	return BIN_HDR;
}

/* an error reply to @op and @opaque: status @st, message @msg, at @p */
static size_t bin_err(uint8_t *p, uint8_t op, uint16_t st, const char *msg,
		      uint32_t opaque)
{
	size_t n = bin_noop(p, opaque);

	p[1] = op;
	put_be(p + 6, st, 2);
	put_be(p + 8, strlen(msg), 4);
	memcpy(p + BIN_HDR, msg, strlen(msg));
	return n + strlen(msg);
}

/* is the UDP reply to @pkts exactly @want? */
static bool bin_is(const char *what, const uint8_t *pkts, size_t n,
		   const uint8_t *want, size_t wlen)
{
	uint8_t got[BUF_MAX];
	ssize_t r = udp_xchg(pkts, n, got, sizeof(got));

	if (r == (ssize_t)wlen && !memcmp(got, want, wlen))
		return true;
	tap_diag("binary %s: %zd bytes, want %zu", what, r, wlen);
	if (r > 0)
		tap_show_diff((char *)got, (size_t)r, (const char *)want, wlen);
	return false;
}

/* the module's reply to @pkts over a new binary TCP connection */
static ssize_t bin_tcp(const uint8_t *pkts, size_t n, uint8_t *out,
		       size_t want)
{
	int fd = vm_sock_open(SOCK_STREAM, tcp_port);
	size_t got = 0;
	ssize_t r = -1;

	if (fd < 0)
		return -1;
	if (send(fd, pkts, n, MSG_NOSIGNAL) != (ssize_t)n)
		goto close_fd;
	while (got < want) {
		r = recv(fd, out + got, want - got, 0);
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	r = (ssize_t)got;
close_fd:
	close(fd);
	return r;
}

/*
 * Binary GET, GETQ, GETK and GETKQ over UDP of keys only the store holds:
 * each answered by the store program byte for byte (opcode, key for
 * GETK(Q), 4 bytes of flags, the CAS, the opaque echoed); a client's
 * batch "getkq getkq getk noop" answered whole; a batch with a quiet
 * miss, a GET miss and a lone quiet miss passed to the module, which
 * answers them ("Not found", nothing for the quiet ones); the replies
 * equal the module's own over TCP.
 */
static void test_binary(void)
{
	static const uint8_t ops[] = { BIN_GET, BIN_GETQ, BIN_GETK,
				       BIN_GETKQ };
	unsigned long long cas[BIN_KEYS];
	uint8_t req[BUF_MAX], want[BUF_MAX], got[BUF_MAX], tcp[BUF_MAX];
	long long r0, h0, k0, m0, km0, r1, h1, k1, m1, km1;
	char key[64], val[256], key2[64], key3[64];
	int i, j, good = 0, sent = 0, cas_good = 0, cap;
	bool ok = true;
	size_t n, w;
	ssize_t r;

	for (i = 0; i < BIN_KEYS; i++) {
		key_of(key, sizeof(key), "bin", i);
		ok &= tcp_set_on(tcp_fd, key, FLAGS_OF(i), 0, val,
				 val_of(val, i));
	}
	tap_ok(ok, "binary: %d keys stored over TCP", BIN_KEYS);
	/* their CAS, from text gets answered by the store path too */
	for (i = 0, ok = true; i < BIN_KEYS; i++) {
		cas[i] = kind_gets_cas("bin", i);
		ok &= cas[i] != 0;
	}
	tap_ok(ok, "binary: each key's CAS from a UDP gets");

	r0 = store_stat("replies", false);
	h0 = store_stat("hits", false);
	k0 = store_stat("hits", true);
	cap = cap_open();
	for (i = 0; i < BIN_KEYS; i++) {
		key_of(key, sizeof(key), "bin", i);
		for (j = 0; j < 4; j++) {
			n = bin_req(req, ops[j], key, 0x5ea10000u + i);
			w = bin_hit(want, ops[j], "bin", i, 0x5ea10000u + i,
				    cas[i]);
			good += bin_is("get", req, n, want, w);
			sent++;
		}
	}
	tap_is_i64(good, sent, "binary: GET, GETQ, GETK, GETKQ of %d keys "
		   "answered byte for byte", BIN_KEYS);

	/* a client's multi-get: getkq getkq getk noop (small values) */
	key_of(key, sizeof(key), "bin", 0);
	key_of(key2, sizeof(key2), "bin", 7);
	key_of(key3, sizeof(key3), "bin", 5);
	n = bin_req(req, BIN_GETKQ, key, 1);
	n += bin_req(req + n, BIN_GETKQ, key2, 2);
	n += bin_req(req + n, BIN_GETK, key3, 3);
	n += bin_req(req + n, BIN_NOOP, NULL, 4);
	w = bin_hit(want, BIN_GETKQ, "bin", 0, 1, cas[0]);
	w += bin_hit(want + w, BIN_GETKQ, "bin", 7, 2, cas[7]);
	w += bin_hit(want + w, BIN_GETK, "bin", 5, 3, cas[5]);
	w += bin_noop(want + w, 4);
	tap_ok(bin_is("batch", req, n, want, w),
	       "binary: getkq getkq getk noop answered whole, in order");
	cap_expect(cap, sent + 1, "binary");
	r1 = store_stat("replies", false);
	h1 = store_stat("hits", false);
	k1 = store_stat("hits", true);
	tap_is_i64(r1 - r0, sent + 1, "binary: the store program sent every "
		   "reply");
	tap_is_i64(h1 - h0, sent + 3, "binary: ... with every key");
	tap_is_i64(k1 - k0, sent + 3, "binary: the kfunc found every key");

	/* misses: passed, the module answers */
	m0 = store_stat("misses", false);
	km0 = store_stat("misses", true);
	n = bin_req(req, BIN_GETKQ, key, 9);
	n += bin_req(req + n, BIN_GETKQ, "xs:bin:never", 10);
	n += bin_req(req + n, BIN_NOOP, NULL, 11);
	w = bin_hit(want, BIN_GETKQ, "bin", 0, 9, cas[0]);
	w += bin_noop(want + w, 11);
	tap_ok(bin_is("batch with a quiet miss", req, n, want, w),
	       "binary: a batch with a quiet miss: the module's reply (the "
	       "hit, the NOOP)");
	n = bin_req(req, BIN_GET, "xs:bin:never", 12);
	r = udp_xchg(req, n, got, sizeof(got));
	tap_ok(r >= BIN_HDR && got[0] == 0x81 && got[6] == 0 && got[7] == 1 &&
		       !memcmp(got + 12, req + 12, 4),
	       "binary: GET of a missing key: the module's Not found");
	/* a lone GETQ miss: nothing; the NOOP after it is the next reply */
	n = bin_req(req, BIN_GETQ, "xs:bin:never", 13);
	req_id++;
	udp_send_raw(udp_fd, req_id, req, n);
	n = bin_req(req, BIN_NOOP, NULL, 14);
	req_id++;
	udp_send_raw(udp_fd, req_id, req, n);
	r = recv(udp_fd, got, sizeof(got), 0);
	tap_ok(r == UDP_HDR + BIN_HDR &&
		       got[0] == (uint8_t)(req_id >> 8) &&
		       got[1] == (uint8_t)req_id &&
		       got[UDP_HDR + 1] == BIN_NOOP,
	       "binary: a lone GETQ miss gets no reply (the next datagram "
	       "answers the NOOP after it)");
	m1 = store_stat("misses", false);
	km1 = store_stat("misses", true);
	tap_is_i64(m1 - m0, 3, "binary: the store program passed the three "
		   "misses");
	tap_is_i64(km1 - km0, 3, "binary: the kfunc counted three misses");

	/* the module's own answer, now that its reads do not matter */
	for (i = 0, j = 0; i < BIN_KEYS; i++) {
		key_of(key, sizeof(key), "bin", i);
		n = bin_req(req, BIN_GETK, key, 0x7700u + i);
		w = bin_hit(want, BIN_GETK, "bin", i, 0x7700u + i, cas[i]);
		r = bin_tcp(req, n, tcp, w);
		cas_good += r == (ssize_t)w && !memcmp(tcp, want, w);
		j++;
	}
	tap_is_i64(cas_good, j, "binary: the module's GETK over TCP: the same "
		   "bytes, CAS included");
}

/* a meta line over TCP, its first reply line in @line */
static bool tcp_meta(const char *req, const char *want)
{
	char line[512];

	if (vm_tcp_line(tcp_fd, req, strlen(req), line, sizeof(line)))
		return false;
	if (strcmp(line, want)) {
		tap_diag("%.60s -> %s (want %s)", req, line, want);
		return false;
	}
	return true;
}

/* the mg hit line of @it to the flags of @flags, in order */
static size_t mg_head_of(char *buf, size_t cap, const struct vm_item *it,
			 const char *flags)
{
	size_t n = (size_t)snprintf(buf, cap, "VA %zu", it->vlen);
	const char *f;

	for (f = flags; *f; f++) {
		if (*f == 'f')
			n += (size_t)snprintf(buf + n, cap - n, " f%u",
					      it->flags);
		else if (*f == 's')
			n += (size_t)snprintf(buf + n, cap - n, " s%zu",
					      it->vlen);
		else if (*f == 'c')
			n += (size_t)snprintf(buf + n, cap - n, " c%llu",
					      it->cas);
		else if (*f == 'k')
			n += (size_t)snprintf(buf + n, cap - n, " k%s",
					      it->key);
		else if (*f == 'O')
			n += (size_t)snprintf(buf + n, cap - n, " Oq%d",
					      it->opq);
	}
	return n + (size_t)snprintf(buf + n, cap - n, "\r\n");
}

/* the mg hit line of key @i of @kind to the flags of @flags, in order */
static size_t mg_head(char *buf, size_t cap, const char *kind, int i,
		      const char *flags, unsigned long long cas)
{
	char key[64], val[256];
	struct vm_item it;

	kind_item(&it, key, val, kind, i, cas);
	return mg_head_of(buf, cap, &it, flags);
}

/* the command "mg <@key> v" and the flags, O with opaque "q<@opq>" */
static size_t mg_cmd_of(char *buf, size_t cap, const char *key, int opq,
			const char *flags)
{
	size_t n = (size_t)snprintf(buf, cap, "mg %s v", key);
	const char *f;

	for (f = flags; *f; f++) {
		if (*f == 'O')
			n += (size_t)snprintf(buf + n, cap - n, " Oq%d", opq);
		else
			n += (size_t)snprintf(buf + n, cap - n, " %c", *f);
	}
	return n;
}

/* the command: "mg <key> v" and the flags, O with its opaque */
static void mg_cmd(char *buf, size_t cap, const char *kind, int i,
		   const char *flags)
{
	char key[64];

	key_of(key, sizeof(key), kind, i);
	mg_cmd_of(buf, cap, key, i, flags);
}

#define MG_KEYS 4

/*
 * meta.c's header line for "mg <@args>" into @line: sent over TCP with
 * "h" added, which XDP never answers (so meta.c does, not the TCP store
 * path), and its " h0" or " h1" taken off again; the data line is read.
 */
static bool tcp_mg_head(const char *args, char *line, size_t cap)
{
	char req[256], data[512];
	size_t n;

	snprintf(req, sizeof(req), "mg %s h\r\n", args);
	if (vm_tcp_line(tcp_fd, req, strlen(req), line, cap) ||
	    vm_tcp_line(tcp_fd, "", 0, data, sizeof(data)))
		return false;
	n = strlen(line);
	if (n < 5 || strcmp(line + n - 2, "\r\n") ||
	    strncmp(line + n - 5, " h", 2))
		return false;
	strcpy(line + n - 5, "\r\n");
	return true;
}

/*
 * mg "t" over UDP of keys only the store holds: the seconds left on the
 * store's clock (or -1 for none), answered by the store program with the
 * bytes meta.c sends over TCP for the same item in the same second (a
 * TCP mg before and after, tcp_mg_head(); asked again when the clock
 * ticked between).
 */
static void test_meta_ttl(void)
{
	char udp[512], t1[256], t2[256], want[512];
	long long r0, r1;
	unsigned int ttl = 0;
	bool same = false;
	int i, sent = 0;

	tap_ok(tcp_meta("ms xs:mg:ttl 3 T100\r\nttl\r\n", "HD\r\n") &&
		       tcp_meta("ms xs:mg:nottl 3\r\nnot\r\n", "HD\r\n"),
	       "meta t: keys of 100 s and of no expiry stored (ms)");
	r0 = store_stat("replies", false);
	for (i = 0; i < 3 && !same; i++) {
		if (!tcp_mg_head("xs:mg:ttl k v t s", t1, sizeof(t1)) ||
		    udp_cmd("mg xs:mg:ttl k v t s", udp, sizeof(udp)) < 0 ||
		    !tcp_mg_head("xs:mg:ttl k v t s", t2, sizeof(t2)))
			break;
		sent++;
		if (strcmp(t1, t2))
			continue;	/* the clock ticked: again */
		snprintf(want, sizeof(want), "%sttl\r\n", t1);
		same = !strcmp(udp, want);
		if (!same)
			tap_diag("mg t over UDP: %s, meta.c's: %s", udp, want);
		sscanf(t1, "VA 3 kxs:mg:ttl t%u", &ttl);
	}
	tap_ok(same && ttl >= 98 && ttl <= 100,
	       "meta t: mg k v t s of a 100 s item: meta.c's bytes (t%u)",
	       ttl);
	tap_ok(reply_is("mg xs:mg:nottl t v", "VA 3 t-1\r\nnot\r\n") &&
		       tcp_mg_head("xs:mg:nottl t v", t1, sizeof(t1)) &&
		       !strcmp(t1, "VA 3 t-1\r\n"),
	       "meta t: of an item that never expires, t-1 (as meta.c)");
	r1 = store_stat("replies", false);
	tap_is_i64(r1 - r0, sent + 1,
		   "meta t: the store program answered every mg with t");
}

/*
 * mg over UDP of keys only the store holds: "v" with every flag XDP answers
 * (f s c k O q b; t: test_meta_ttl()), in any order, answered by the store
 * program byte for byte as meta.c; a base64 key (b) and the base64 echo of a
 * key stored in base64 (k); a miss (EN, with k and O) and a quiet miss
 * (nothing) passed to the module; an mg of a stale item and of one whose
 * recache token went out refused by the kfunc ("state") and answered by
 * meta.c (X W, then Z X; Z); the same header as the module's own over TCP.
 */
static void test_meta(void)
{
	static const char *const sets[] = { "", "f", "fsckOq", "kcsfO",
					    "qOk", "cqf" };
	unsigned long long cas[MG_KEYS];
	char key[64], val[256], cmd[512], want[BUF_MAX], line[512];
	long long r0, k0, m0, km0, s0, ks0, r1, k1, m1, km1, s1, ks1;
	int i, j, good = 0, sent = 0, cap;
	bool ok = true;
	size_t n;
	ssize_t r;

	for (i = 0; i < MG_KEYS; i++) {
		key_of(key, sizeof(key), "mg", i);
		ok &= tcp_set_on(tcp_fd, key, FLAGS_OF(i), 0, val,
				 val_of(val, i));
	}
	tap_ok(ok, "meta: %d keys stored over TCP", MG_KEYS);
	for (i = 0, ok = true; i < MG_KEYS; i++) {
		cas[i] = kind_gets_cas("mg", i);
		ok &= cas[i] != 0;
	}
	tap_ok(ok, "meta: each key's CAS from a UDP gets");
	tap_ok(tcp_meta("ms eHM6bWc6YjY0 3 b\r\nb64\r\n", "HD\r\n"),
	       "meta: a key stored with a base64 key (ms b)");

	r0 = store_stat("replies", false);
	k0 = store_stat("hits", true);
	cap = cap_open();
	for (i = 0; i < MG_KEYS; i++) {
		for (j = 0; j < (int)(sizeof(sets) / sizeof(sets[0])); j++) {
			mg_cmd(cmd, sizeof(cmd), "mg", i, sets[j]);
			n = mg_head(want, sizeof(want), "mg", i, sets[j],
				    cas[i]);
			val_of(val, i);
			snprintf(want + n, sizeof(want) - n, "%s\r\n", val);
			good += reply_is(cmd, want);
			sent++;
		}
	}
	tap_is_i64(good, sent, "meta: mg v with f s c k O q in any order: "
		   "meta.c's bytes (%d of %d)", good, sent);
	tap_ok(reply_is("mg eHM6bWc6YjY0 b k v s", "VA 3 keHM6bWc6YjY0 b s3\r\n"
			"b64\r\n"),
	       "meta: mg of a base64 key (b): decoded, echoed in base64");
	tap_ok(reply_is("mg xs:mg:b64 k v", "VA 3 keHM6bWc6YjY0 b\r\nb64\r\n"),
	       "meta: k of an item stored with a base64 key: base64 and b");
	cap_expect(cap, sent + 2, "meta");
	r1 = store_stat("replies", false);
	k1 = store_stat("hits", true);
	tap_is_i64(r1 - r0, sent + 2, "meta: the store program sent every "
		   "reply");
	tap_is_i64(k1 - k0, sent + 2, "meta: the kfunc found every key");

	/* misses: passed, meta.c answers EN, or nothing with q */
	m0 = store_stat("misses", false);
	km0 = store_stat("misses", true);
	tap_ok(reply_is("mg xs:mg:never v", "EN\r\n"),
	       "meta: mg of a missing key: EN (the module's)");
	tap_ok(reply_is("mg xs:mg:never k v Oab",
			"EN kxs:mg:never Oab\r\n"),
	       "meta: ... with k and O: meta.c echoes them");
	req_id++;
	udp_send(udp_fd, req_id, "mg xs:mg:never v q");
	req_id++;
	udp_send(udp_fd, req_id, "mn");
	r = recv(udp_fd, want, sizeof(want), 0);
	tap_ok(r == UDP_HDR + 4 && (uint8_t)want[0] == (uint8_t)(req_id >> 8) &&
		       (uint8_t)want[1] == (uint8_t)req_id &&
		       !memcmp(want + UDP_HDR, "MN\r\n", 4),
	       "meta: a quiet miss gets no reply (the next datagram answers "
	       "the mn after it)");
	m1 = store_stat("misses", false);
	km1 = store_stat("misses", true);
	tap_is_i64(m1 - m0, 3, "meta: the store program passed the misses");
	tap_is_i64(km1 - km0, 3, "meta: the kfunc counted them");

	/* meta states: the kfunc refuses, meta.c answers */
	s0 = store_stat("state", false);
	ks0 = store_stat("state", true);
	tap_ok(tcp_set_on(tcp_fd, "xs:mg:stale", 1, 0, "old", 3) &&
		       tcp_meta("md xs:mg:stale I\r\n", "HD\r\n"),
	       "meta: a key marked stale (md I)");
	tap_ok(reply_is("mg xs:mg:stale v", "VA 3 X W\r\nold\r\n"),
	       "meta: mg of a stale item: meta.c's X W (token handed out)");
	tap_ok(reply_is("mg xs:mg:stale v", "VA 3 Z X\r\nold\r\n"),
	       "meta: then Z X (meta.c's)");
	tap_ok(tcp_meta("ms xs:won 1 T100\r\nw\r\n", "HD\r\n"),
	       "meta: a key with a TTL");
	tap_ok(reply_is("mg xs:won v", "VA 1\r\nw\r\n"),
	       "meta: served by the store program before any token");
	tap_ok(reply_is("mg xs:won v R200", "VA 1 W\r\nw\r\n"),
	       "meta: mg R hands out the recache token (W; passed by XDP)");
	for (i = 0, ok = true; i < 3; i++)
		ok &= reply_is("mg xs:won v", "VA 1 Z\r\nw\r\n");
	tap_ok(ok, "meta: every later mg says Z (meta.c's)");
	s1 = store_stat("state", false);
	ks1 = store_stat("state", true);
	tap_is_i64(s1 - s0, 5, "meta: the store program passed the five mg "
		   "of items in a meta state (state)");
	tap_is_i64(ks1 - ks0, 5, "meta: the kfunc refused them (state)");

	/* the module's own answer over TCP: the same header */
	for (i = 0, ok = true; i < MG_KEYS; i++) {
		mg_cmd(cmd, sizeof(cmd), "mg", i, "fsckO");
		strcat(cmd, "\r\n");
		mg_head(want, sizeof(want), "mg", i, "fsckO", cas[i]);
		if (vm_tcp_line(tcp_fd, cmd, strlen(cmd), line,
				sizeof(line)) ||
		    strcmp(line, want)) {
			tap_diag("TCP %s -> %s (want %s)", cmd, line, want);
			ok = false;
		}
		/* the data line */
		vm_tcp_line(tcp_fd, "", 0, line, sizeof(line));
	}
	tap_ok(ok, "meta: the module's mg over TCP: the same header");
	test_meta_ttl();
}

#endif /* XKV_VM_STORE_PROTO_H */
