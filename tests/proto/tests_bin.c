// SPDX-License-Identifier: GPL-2.0
/*
 * The binary protocol, as memcached 1.6.18 speaks it: every opcode with
 * its success and error replies (status, message body, CAS, opaque),
 * quiet commands and the replies they still owe, pipelined batches,
 * packets split across segments, values too large, malformed packets
 * (answered and hung up on), and binary over UDP (with -U). Each test's
 * connection is binary from its first byte. The flush test wipes the
 * server: this group runs after the text flush group.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "binpkt.h"

static void t_bin_get_set(struct conn *c)
{
	const char *k = pt_key("k"), *m = pt_key("missing");
	uint64_t cas1 = 0, cas2 = 0, cas3 = 0;
	struct sbuf b;

	bget_miss(c, m);
	bset(c, OP_SET, k, 0xdeadbeef, "hello", 0, &cas1);
	pt_check(cas1 != 0, "set returned CAS 0");
	bget_is(c, k, 0xdeadbeef, "hello", &cas2);
	pt_check(cas1 == cas2, "set CAS %llu, get CAS %llu",
		 (unsigned long long)cas1, (unsigned long long)cas2);
	/* getk: the key comes back; a getk miss has the key as its body */
	sbuf_init(&b);
	breq(&b, OP_GETK, NULL, 0, k, NULL, 0, 0xa1b2c3d4, 0);
	breq(&b, OP_GETK, NULL, 0, m, NULL, 0, 5, 0);
	bsend(c, &b);
	bexpect(c, OP_GETK, ST_OK, 0xa1b2c3d4, k, "hello", NULL);
	bexpect(c, OP_GETK, ST_ENOENT, 5, m, NULL, NULL);
	/* a new set, a new CAS; an empty value */
	bset(c, OP_SET, k, 0, "", 0, &cas3);
	pt_check(cas3 != cas1, "second set kept CAS %llu",
		 (unsigned long long)cas3);
	bget_is(c, k, 0, "", NULL);
	/* text clients see what binary ones stored */
}

static void t_bin_add_replace_cas(struct conn *c)
{
	const char *k = pt_key("k"), *m = pt_key("m");
	unsigned char e[8];
	uint64_t cas = 0, cas2 = 0;
	struct sbuf b;

	bset(c, OP_ADD, k, 1, "a", 0, &cas);
	sbuf_init(&b);
	breq(&b, OP_ADD, ext_store(e, 0, 0), 8, k, "b", 1, 7, 0);
	breq(&b, OP_REPLACE, ext_store(e, 0, 0), 8, m, "b", 1, 7, 0);
	/* a CAS on set/add/replace makes it a cas */
	breq(&b, OP_SET, ext_store(e, 0, 0), 8, k, "c", 1, 7, cas + 1000);
	breq(&b, OP_ADD, ext_store(e, 0, 0), 8, m, "c", 1, 7, 12345);
	bsend(c, &b);
	bexpect(c, OP_ADD, ST_EEXISTS, 7, NULL, MSG_EEXISTS, NULL);
	bexpect(c, OP_REPLACE, ST_ENOENT, 7, NULL, MSG_ENOENT, NULL);
	bexpect(c, OP_SET, ST_EEXISTS, 7, NULL, MSG_EEXISTS, NULL);
	bexpect(c, OP_ADD, ST_ENOENT, 7, NULL, MSG_ENOENT, NULL);
	bget_is(c, k, 1, "a", NULL);
	bset(c, OP_REPLACE, k, 2, "d", cas, &cas2);
	bget_is(c, k, 2, "d", NULL);
	/* delete: a wrong CAS, the right one, then a miss */
	bcmd(c, OP_DELETE, k, cas2 + 1, ST_EEXISTS, MSG_EEXISTS);
	bcmd(c, OP_DELETE, k, cas2, ST_OK, NULL);
	bcmd(c, OP_DELETE, k, 0, ST_ENOENT, MSG_ENOENT);
	bget_miss(c, k);
}

static void t_bin_append_prepend(struct conn *c)
{
	const char *k = pt_key("k"), *m = pt_key("m");
	uint64_t cas = 0, cas2 = 0;
	struct sbuf b;

	sbuf_init(&b);
	breq(&b, OP_APPEND, NULL, 0, m, "x", 1, 4, 0);
	breq(&b, OP_PREPEND, NULL, 0, m, "x", 1, 4, 0);
	bsend(c, &b);
	bexpect(c, OP_APPEND, ST_NOT_STORED, 4, NULL, MSG_NOT_STORED, NULL);
	bexpect(c, OP_PREPEND, ST_NOT_STORED, 4, NULL, MSG_NOT_STORED, NULL);
	bset(c, OP_SET, k, 77, "mid", 0, &cas);
	breq(&b, OP_APPEND, NULL, 0, k, "-end", 4, 4, 0);
	breq(&b, OP_PREPEND, NULL, 0, k, "start-", 6, 4, 0);
	bsend(c, &b);
	bexpect(c, OP_APPEND, ST_OK, 4, NULL, NULL, &cas2);
	pt_check(cas2 != cas, "append kept the CAS");
	bexpect(c, OP_PREPEND, ST_OK, 4, NULL, NULL, &cas2);
	bget_is(c, k, 77, "start-mid-end", NULL);
	/* with a CAS: a stale one fails, the current one works */
	breq(&b, OP_APPEND, NULL, 0, k, "!", 1, 4, cas);
	breq(&b, OP_APPEND, NULL, 0, k, "?", 1, 4, cas2);
	breq(&b, OP_APPENDQ, NULL, 0, k, "q", 1, 4, 0);
	breq(&b, OP_PREPENDQ, NULL, 0, k, "p", 1, 4, 0);
	breq(&b, OP_APPENDQ, NULL, 0, m, "q", 1, 5, 0);
	bsend(c, &b);
	bexpect(c, OP_APPEND, ST_EEXISTS, 4, NULL, MSG_EEXISTS, NULL);
	bexpect(c, OP_APPEND, ST_OK, 4, NULL, NULL, NULL);
	/* the quiet ones that worked say nothing; the failed one does */
	bexpect(c, OP_APPENDQ, ST_NOT_STORED, 5, NULL, MSG_NOT_STORED, NULL);
	bget_is(c, k, 77, "pstart-mid-end?q", NULL);
}

static void t_bin_incr_decr(struct conn *c)
{
	const char *k = pt_key("k"), *m = pt_key("m"), *t = pt_key("t");
	unsigned char e[20];
	uint64_t cas = 0;
	struct sbuf b;
	struct bres r;

	sbuf_init(&b);
	bres_init(&r);
	/* a miss with expiry 0xffffffff fails; otherwise it creates */
	breq(&b, OP_INCR, ext_arith(e, 1, 5, 0xffffffff), 20, m, NULL, 0, 1,
	     0);
	breq(&b, OP_INCR, ext_arith(e, 1, 10, 0), 20, k, NULL, 0, 2, 0);
	breq(&b, OP_INCR, ext_arith(e, 5, 10, 0), 20, k, NULL, 0, 3, 0);
	breq(&b, OP_DECR, ext_arith(e, 100, 10, 0), 20, k, NULL, 0, 4, 0);
	bsend(c, &b);
	bexpect(c, OP_INCR, ST_ENOENT, 1, NULL, MSG_ENOENT, NULL);
	if (bread(c, &r))
		pt_check(r.status == 0 && r.val.len == 8 &&
				 get64((unsigned char *)r.val.data) == 10 &&
				 r.cas,
			 "incr that creates: status 0x%x, %zu bytes",
			 r.status, r.val.len);
	if (bread(c, &r))
		pt_check(r.status == 0 && r.val.len == 8 &&
				 get64((unsigned char *)r.val.data) == 15,
			 "incr 5: status 0x%x", r.status);
	cas = r.cas;
	if (bread(c, &r))
		pt_check(r.status == 0 && r.val.len == 8 &&
				 get64((unsigned char *)r.val.data) == 0,
			 "decr below 0 stops at 0");
	pt_check(r.cas != cas, "decr kept the CAS");
	bget_is(c, k, 0, "0 ", NULL);
	/* CAS: a wrong one fails; the current one works */
	breq(&b, OP_INCR, ext_arith(e, 1, 0, 0), 20, k, NULL, 0, 6,
	     r.cas + 1);
	breq(&b, OP_INCR, ext_arith(e, 1, 0, 0), 20, k, NULL, 0, 7, r.cas);
	/* quiet: nothing, then the value is there */
	breq(&b, OP_INCRQ, ext_arith(e, 10, 0, 0), 20, k, NULL, 0, 8, 0);
	breq(&b, OP_DECRQ, ext_arith(e, 1, 0, 0), 20, k, NULL, 0, 8, 0);
	breq(&b, OP_DECRQ, ext_arith(e, 1, 0, 0xffffffff), 20, m, NULL, 0,
	     9, 0);
	bsend(c, &b);
	bexpect(c, OP_INCR, ST_EEXISTS, 6, NULL, MSG_EEXISTS, NULL);
	if (bread(c, &r))
		pt_check(r.status == 0 &&
				 get64((unsigned char *)r.val.data) == 1,
			 "incr with CAS");
	bexpect(c, OP_DECRQ, ST_ENOENT, 9, NULL, MSG_ENOENT, NULL);
	bget_is(c, k, 0, "10", NULL);
	/* wraps at 2^64; a value that is not a number */
	bset(c, OP_SET, k, 0, "18446744073709551615", 0, NULL);
	breq(&b, OP_INCR, ext_arith(e, 2, 0, 0), 20, k, NULL, 0, 1, 0);
	bsend(c, &b);
	if (bread(c, &r))
		pt_check(r.status == 0 &&
				 get64((unsigned char *)r.val.data) == 1,
			 "incr wraps at 2^64");
	bset(c, OP_SET, t, 0, "abc", 0, NULL);
	breq(&b, OP_INCR, ext_arith(e, 1, 0, 0), 20, t, NULL, 0, 1, 0);
	bsend(c, &b);
	bexpect(c, OP_INCR, ST_BADVAL, 1, NULL, MSG_BADVAL, NULL);
	/* an empty value is non-numeric before a wrong CAS is looked at */
	bset(c, OP_SET, t, 0, "", 0, NULL);
	breq(&b, OP_INCR, ext_arith(e, 1, 0, 0), 20, t, NULL, 0, 2,
	     0x7fffffffffffULL);
	bsend(c, &b);
	bexpect(c, OP_INCR, ST_BADVAL, 2, NULL, MSG_BADVAL, NULL);
	bres_free(&r);
}

static void t_bin_touch_gat(struct conn *c)
{
	const char *k = pt_key("k"), *m = pt_key("m");
	unsigned char e[4];
	uint64_t cas = 0;
	struct sbuf b;
	struct bres r;

	sbuf_init(&b);
	bres_init(&r);
	bset(c, OP_SET, k, 42, "val", 0, &cas);
	put32(e, 100);
	breq(&b, OP_TOUCH, e, 4, k, NULL, 0, 1, 0);
	breq(&b, OP_GAT, e, 4, k, NULL, 0, 2, 0);
	breq(&b, OP_GATK, e, 4, k, NULL, 0, 3, 0);
	breq(&b, OP_GATQ, e, 4, m, NULL, 0, 4, 0);
	breq(&b, OP_GATKQ, e, 4, m, NULL, 0, 4, 0);
	breq(&b, OP_GATKQ, e, 4, k, NULL, 0, 5, 0);
	breq(&b, OP_TOUCH, e, 4, m, NULL, 0, 6, 0);
	breq(&b, OP_GAT, e, 4, m, NULL, 0, 7, 0);
	breq(&b, OP_GATK, e, 4, m, NULL, 0, 8, 0);
	bsend(c, &b);
	/* touch: the flags, no value */
	if (bread(c, &r))
		pt_check(r.opcode == OP_TOUCH && r.status == 0 &&
				 r.opaque == 1 && r.ext.len == 4 &&
				 get32((unsigned char *)r.ext.data) == 42 &&
				 !r.key.len && !r.val.len && r.cas == cas,
			 "touch reply");
	if (bread(c, &r))
		pt_check(r.opcode == OP_GAT && r.status == 0 &&
				 r.ext.len == 4 && !r.key.len &&
				 sbuf_is(&r.val, "val", 3) && r.cas == cas,
			 "gat reply");
	bexpect(c, OP_GATK, ST_OK, 3, k, "val", NULL);
	bexpect(c, OP_GATKQ, ST_OK, 5, k, "val", NULL);
	bexpect(c, OP_TOUCH, ST_ENOENT, 6, NULL, MSG_ENOENT, NULL);
	bexpect(c, OP_GAT, ST_ENOENT, 7, NULL, MSG_ENOENT, NULL);
	bexpect(c, OP_GATK, ST_ENOENT, 8, m, NULL, NULL);
	bres_free(&r);
}

/* Quiet commands: only errors and get hits answer; noop ends a batch. */
static void t_bin_quiet_batch(struct conn *c)
{
	const char *a = pt_key("a"), *bk = pt_key("b"), *m = pt_key("m");
	unsigned char e[8];
	struct sbuf b;

	sbuf_init(&b);
	breq(&b, OP_SETQ, ext_store(e, 1, 0), 8, a, "A", 1, 10, 0);
	breq(&b, OP_SETQ, ext_store(e, 2, 0), 8, bk, "B", 1, 11, 0);
	breq(&b, OP_ADDQ, ext_store(e, 0, 0), 8, a, "x", 1, 12, 0);
	breq(&b, OP_REPLACEQ, ext_store(e, 0, 0), 8, m, "x", 1, 13, 0);
	breq(&b, OP_GETQ, NULL, 0, m, NULL, 0, 14, 0);
	breq(&b, OP_GETKQ, NULL, 0, m, NULL, 0, 15, 0);
	breq(&b, OP_GETQ, NULL, 0, a, NULL, 0, 16, 0);
	breq(&b, OP_GETKQ, NULL, 0, bk, NULL, 0, 17, 0);
	breq(&b, OP_DELETEQ, NULL, 0, a, NULL, 0, 18, 0);
	breq(&b, OP_DELETEQ, NULL, 0, a, NULL, 0, 19, 0);
	breq(&b, OP_REPLACEQ, ext_store(e, 3, 0), 8, bk, "C", 1, 20, 0);
	breq(&b, OP_NOOP, NULL, 0, NULL, NULL, 0, 21, 0);
	bsend(c, &b);
	bexpect(c, OP_ADDQ, ST_EEXISTS, 12, NULL, MSG_EEXISTS, NULL);
	bexpect(c, OP_REPLACEQ, ST_ENOENT, 13, NULL, MSG_ENOENT, NULL);
	bexpect(c, OP_GETQ, ST_OK, 16, NULL, "A", NULL);
	bexpect(c, OP_GETKQ, ST_OK, 17, bk, "B", NULL);
	bexpect(c, OP_DELETEQ, ST_ENOENT, 19, NULL, MSG_ENOENT, NULL);
	bexpect(c, OP_NOOP, ST_OK, 21, NULL, NULL, NULL);
	bget_is(c, bk, 3, "C", NULL);
	bget_miss(c, a);
}

/* Many packets in one send, answered in order. */
static void t_bin_pipeline(struct conn *c)
{
	unsigned char e[8];
	struct sbuf b;
	int i;

	sbuf_init(&b);
	for (i = 0; i < 200; i++) {
		const char *k = pt_key(pt_str("k%d", i));
		const char *v = pt_str("value-%d", i);

		breq(&b, OP_SET, ext_store(e, (uint32_t)i, 0), 8, k, v,
		     strlen(v), (uint32_t)i, 0);
		breq(&b, OP_GETK, NULL, 0, k, NULL, 0, (uint32_t)i + 1000, 0);
	}
	bsend(c, &b);
	for (i = 0; i < 200 && !tap_failed(); i++) {
		bexpect(c, OP_SET, ST_OK, (uint32_t)i, NULL, NULL, NULL);
		bexpect(c, OP_GETK, ST_OK, (uint32_t)i + 1000,
			pt_key(pt_str("k%d", i)), pt_str("value-%d", i),
			NULL);
	}
	bnoop(c);
}

/* Every packet cut into pieces that arrive apart. */
static void t_bin_split(struct conn *c)
{
	const char *k = pt_key("k");
	unsigned char e[8];
	struct sbuf b;
	size_t i, step;

	sbuf_init(&b);
	breq(&b, OP_SET, ext_store(e, 5, 0), 8, k, "split-value", 11, 1, 0);
	breq(&b, OP_GETK, NULL, 0, k, NULL, 0, 2, 0);
	breq(&b, OP_NOOP, NULL, 0, NULL, NULL, 0, 3, 0);
	for (i = 0; i < b.len && !tap_failed(); i += step) {
		/* 1, 2, 3 ... bytes: cuts land in every field */
		step = i % 7 + 1;
		if (step > b.len - i)
			step = b.len - i;
		pt_send(c, b.data + i, step);
		usleep(2000);
	}
	sbuf_free(&b);
	bexpect(c, OP_SET, ST_OK, 1, NULL, NULL, NULL);
	bexpect(c, OP_GETK, ST_OK, 2, k, "split-value", NULL);
	bexpect(c, OP_NOOP, ST_OK, 3, NULL, NULL, NULL);
}

/* A large value in and out; one too large is refused and skipped. */
static void t_bin_large(struct conn *c)
{
	const char *k = pt_key("k");
	size_t n = 512 * 1024;
	unsigned char e[8];
	struct sbuf b, v;
	struct bres r;

	sbuf_init(&b);
	sbuf_init(&v);
	bres_init(&r);
	sbuf_fill(&v, 'x', n);
	memcpy(v.data + n - 3, "end", 3);
	breq(&b, OP_SET, ext_store(e, 0, 0), 8, k, v.data, n, 1, 0);
	breq(&b, OP_GET, NULL, 0, k, NULL, 0, 2, 0);
	bsend(c, &b);
	bexpect(c, OP_SET, ST_OK, 1, NULL, NULL, NULL);
	if (bread(c, &r))
		pt_check(r.status == 0 && sbuf_is(&r.val, v.data, n),
			 "large value back: %zu bytes", r.val.len);
	sbuf_free(&v);
	/* 2 MB: too large (-I 1m); the old value goes; the body is skipped */
	n = 2 * 1024 * 1024;
	sbuf_fill(&v, 'y', n);
	breq(&b, OP_SET, ext_store(e, 0, 0), 8, k, v.data, n, 3, 0);
	bsend(c, &b);
	bexpect(c, OP_SET, ST_E2BIG, 3, NULL, MSG_E2BIG, NULL);
	bget_miss(c, k);
	bnoop(c);
	sbuf_free(&v);
	bres_free(&r);
}

/*
 * 12 quiet gets of a 512 KB value and a noop in one send: 6 MB of
 * replies, which the server sends as the client reads (it stops between
 * packets while its output is full and goes on), every one whole.
 */
static void t_bin_big_batch(struct conn *c)
{
	const char *k = pt_key("k");
	size_t n = 512 * 1024;
	unsigned char e[8];
	struct sbuf b, v;
	struct bres r;
	int i;

	sbuf_init(&b);
	sbuf_init(&v);
	bres_init(&r);
	sbuf_fill(&v, 'z', n);
	memcpy(v.data, "head", 4);
	memcpy(v.data + n - 4, "tail", 4);
	breq(&b, OP_SETQ, ext_store(e, 6, 0), 8, k, v.data, n, 1, 0);
	for (i = 0; i < 12; i++)
		breq(&b, OP_GETKQ, NULL, 0, k, NULL, 0, (uint32_t)i, 0);
	breq(&b, OP_NOOP, NULL, 0, NULL, NULL, 0, 99, 0);
	bsend(c, &b);
	for (i = 0; i < 12 && !tap_failed(); i++) {
		if (bread(c, &r))
			pt_check(r.opcode == OP_GETKQ && r.status == 0 &&
					 r.opaque == (uint32_t)i &&
					 sbuf_is(&r.key, k, strlen(k)) &&
					 sbuf_is(&r.val, v.data, n),
				 "reply %d of the batch", i);
	}
	bexpect(c, OP_NOOP, ST_OK, 99, NULL, NULL, NULL);
	sbuf_free(&v);
	bres_free(&r);
}

/*
 * binary "stat settings": the lines of the text reply (on a text
 * connection of its own: a connection speaks one protocol), one packet
 * each
 */
static void stat_settings_same(struct conn *c, struct sbuf *b,
			       struct bres *r)
{
	struct sbuf text, bin;
	struct conn tc;
	int n = 0;

	sbuf_init(&text);
	sbuf_init(&bin);
	if (conn_open(&tc)) {
		tap_fail("cannot open a second connection");
		goto free;
	}
	pt_stats(&tc, "settings", &text);
	conn_close(&tc);
	if (tap_failed())
		goto free;
	breq(b, OP_STAT, NULL, 0, "settings", NULL, 0, 3, 0);
	bsend(c, b);
	while (bread(c, r) && r->key.len && n++ < 1000) {
		sbuf_adds(&bin, "STAT ");
		sbuf_add(&bin, r->key.data, r->key.len);
		sbuf_adds(&bin, " ");
		sbuf_add(&bin, r->val.data, r->val.len);
		sbuf_adds(&bin, "\r\n");
	}
	if (!tap_failed() && (bin.len != text.len ||
			      memcmp(bin.data, text.data, text.len))) {
		tap_fail("binary stat settings differs from the text reply");
		tap_diag_mismatch(text.data, text.len, bin.data, bin.len);
	}
free:
	sbuf_free(&text);
	sbuf_free(&bin);
}

static void t_bin_admin(struct conn *c)
{
	struct sbuf b;
	struct bres r;
	int n = 0;
	bool pid = false;

	sbuf_init(&b);
	bres_init(&r);
	breq(&b, OP_VERSION, NULL, 0, NULL, NULL, 0, 1, 0);
	bsend(c, &b);
	if (bread(c, &r))
		pt_check(r.status == 0 && r.val.len > 4 &&
				 !memcmp(r.val.data, "1.6.", 4),
			 "version \"%.*s\"", (int)r.val.len,
			 r.val.data ? r.val.data : "");
	/* stat: one packet per statistic, an empty one at the end */
	breq(&b, OP_STAT, NULL, 0, NULL, NULL, 0, 2, 0);
	bsend(c, &b);
	while (bread(c, &r) && r.key.len && n < 1000) {
		pt_check(r.opcode == OP_STAT && r.status == 0 &&
				 r.opaque == 2,
			 "stat packet");
		if (sbuf_is(&r.key, "pid", 3))
			pid = r.val.len > 0;
		n++;
	}
	pt_check(n > 20 && pid, "stat: %d statistics, pid %s", n,
		 pid ? "there" : "missing");
	pt_check(!r.val.len && r.opaque == 2, "stat end packet");
	/* a group; one that does not exist */
	stat_settings_same(c, &b, &r);
	breq(&b, OP_STAT, NULL, 0, "items", NULL, 0, 3, 0);
	bsend(c, &b);
	while (bread(c, &r) && r.key.len && n < 1000)
		n++;
	bcmd(c, OP_STAT, "nonsense", 0, ST_ENOENT, MSG_ENOENT);
	/* "sizes" is a group in binary too; "conns" is text-only */
	n = 0;
	pid = false;
	breq(&b, OP_STAT, NULL, 0, "sizes", NULL, 0, 5, 0);
	bsend(c, &b);
	while (bread(c, &r) && r.key.len && n < 100000) {
		if (sbuf_is(&r.key, "sizes_status", 12))
			pid = true;
		n++;
	}
	pt_check(r.status == 0 && r.opaque == 5 && !r.key.len &&
			 (pid || n > 0),
		 "stat sizes: %d statistics, then the end packet", n);
	bcmd(c, OP_STAT, "conns", 0, ST_ENOENT, MSG_ENOENT);
	/* memcached ends sizes_enable and sizes_disable without the end */
	breq(&b, OP_STAT, NULL, 0, "sizes_enable", NULL, 0, 6, 0);
	breq(&b, OP_STAT, NULL, 0, "sizes_disable", NULL, 0, 7, 0);
	bsend(c, &b);
	bexpect(c, OP_STAT, ST_OK, 6, "sizes_status", "enabled", NULL);
	bexpect(c, OP_STAT, ST_OK, 7, "sizes_status", "disabled", NULL);
	bnoop(c);
	/* verbosity is gone from 1.6's binary protocol; so is SASL */
	bcmd(c, OP_VERBOSITY, NULL, 0, ST_UNKNOWN, MSG_UNKNOWN);
	bcmd(c, 0x20, NULL, 0, ST_UNKNOWN, MSG_UNKNOWN);
	/* an unknown opcode's body is skipped: the next packet works */
	breq(&b, 0x55, NULL, 0, NULL, "body", 4, 4, 0);
	bsend(c, &b);
	bexpect(c, 0x55, ST_UNKNOWN, 4, NULL, MSG_UNKNOWN, NULL);
	bnoop(c);
	bres_free(&r);
}

static void t_bin_quit(struct conn *c)
{
	struct conn c2;

	bcmd(c, OP_QUIT, NULL, 0, ST_OK, NULL);
	pt_closed(c);
	if (tap_failed())
		return;
	if (conn_open(&c2)) {
		tap_fail("cannot connect");
	} else {
		struct sbuf b;

		sbuf_init(&b);
		breq(&b, OP_QUITQ, NULL, 0, NULL, NULL, 0, 1, 0);
		bsend(&c2, &b);
		pt_closed(&c2);
	}
	conn_close(&c2);
}

/* memcached answers a malformed packet with an error and hangs up */
static void malformed(const void *p, size_t n, uint8_t op, uint16_t status,
		      const char *msg)
{
	struct conn c2;

	if (tap_failed())
		return;
	if (conn_open(&c2)) {
		tap_fail("cannot connect");
		return;
	}
	if (pt_send(&c2, p, n) &&
	    bexpect(&c2, op, status, 0, NULL, msg, NULL))
		pt_closed(&c2);
	conn_close(&c2);
}

static void t_bin_malformed(struct conn *c)
{
	char key[300];
	unsigned char e[8];
	struct sbuf b;

	sbuf_init(&b);
	/* a get with extras */
	breq(&b, OP_GET, "abcd", 4, "k", NULL, 0, 0, 0);
	malformed(b.data, b.len, OP_GET, ST_EINVAL, MSG_EINVAL);
	sbuf_free(&b);
	/* a key longer than 250 bytes */
	memset(key, 'k', 251);
	key[251] = '\0';
	breq(&b, OP_GET, NULL, 0, key, NULL, 0, 0, 0);
	malformed(b.data, b.len, OP_GET, ST_EINVAL, MSG_EINVAL);
	sbuf_free(&b);
	/* a set without extras; a noop with a body */
	breq(&b, OP_SET, NULL, 0, "k", "v", 1, 0, 0);
	malformed(b.data, b.len, OP_SET, ST_EINVAL, MSG_EINVAL);
	sbuf_free(&b);
	breq(&b, OP_NOOP, NULL, 0, NULL, "v", 1, 0, 0);
	malformed(b.data, b.len, OP_NOOP, ST_EINVAL, MSG_EINVAL);
	sbuf_free(&b);
	/* key and extras longer than the body: unknown command */
	breq(&b, OP_SET, ext_store(e, 0, 0), 8, "key", NULL, 0, 0, 0);
	put32((unsigned char *)b.data + 8, 5);
	malformed(b.data, b.len, OP_SET, ST_UNKNOWN, MSG_UNKNOWN);
	sbuf_free(&b);
	/* a packet with the wrong magic: hung up on, no reply */
	bnoop(c);
	pt_send(c, "\x81\x0a\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0",
		24);
	pt_closed(c);
}

/*
 * A body length of ~4 GB is refused and skipped, not allocated (memcached
 * sends its "Too large." once it has skipped it all, xkv at once: the
 * test waits for neither).
 */
static void t_bin_bogus_length(struct conn *c)
{
	const char *k = pt_key("k");
	unsigned char e[8];
	struct conn c2;
	struct sbuf b;

	sbuf_init(&b);
	breq(&b, OP_SET, ext_store(e, 0, 0), 8, k, "v", 1, 1, 0);
	put32((unsigned char *)b.data + 8, 0xfffffff0);
	bsend(c, &b);
	/* the server still serves others */
	if (tap_failed() || conn_open(&c2))
		return;
	bnoop(&c2);
	bget_miss(&c2, k);
	conn_close(&c2);
}

/* Text clients read what binary ones wrote, and the other way round. */
static void t_bin_text_mix(struct conn *c)
{
	const char *k = pt_key("k"), *t = pt_key("t");
	struct conn c2;

	bset(c, OP_SET, k, 3, "from-binary", 0, NULL);
	if (tap_failed() || conn_open(&c2))
		return;
	pt_get_is(&c2, k, 3, "from-binary");
	pt_set(&c2, t, 4, "from-text");
	conn_close(&c2);
	bget_is(c, t, 4, "from-text", NULL);
}

static int udp_bin(int fd, uint16_t id, struct sbuf *req,
		   unsigned char *buf, size_t cap)
{
	int n;

	if (udp_send(fd, id, 0, req->data, req->len))
		return -1;
	sbuf_free(req);
	sbuf_init(req);
	n = udp_recv(fd, buf, cap, PT_TIMEOUT_MS);
	if (n < 8 + B_HDR)
		return -1;
	if (buf[0] != id >> 8 || buf[1] != (id & 0xff) || buf[5] != 1)
		return -1;
	return n;
}

/* memcached's UDP binary: the frame header, then a binary packet */
static void t_bin_udp(struct conn *c)
{
	const char *k = pt_key("k"), *u = pt_key("u");
	unsigned char buf[2048], e[8], *p;
	struct sbuf b;
	int fd, n;

	bset(c, OP_SET, k, 9, "over-udp", 0, NULL);
	fd = udp_open();
	if (fd < 0) {
		tap_fail("udp socket");
		return;
	}
	sbuf_init(&b);
	breq(&b, OP_GETK, NULL, 0, k, NULL, 0, 77, 0);
	n = udp_bin(fd, 0x1234, &b, buf, sizeof(buf));
	p = buf + 8;
	pt_check(n == 8 + B_HDR + 4 + (int)strlen(k) + 8 && p[0] == B_RES &&
			 p[1] == OP_GETK && !p[6] && !p[7] &&
			 get32(p + 24) == 9 &&
			 !memcmp(p + 28 + strlen(k), "over-udp", 8),
		 "binary getk over UDP: %d bytes", n);
	breq(&b, OP_SET, ext_store(e, 0, 0), 8, u, "dgram", 5, 78, 0);
	n = udp_bin(fd, 0x1235, &b, buf, sizeof(buf));
	pt_check(n == 8 + B_HDR && p[1] == OP_SET && !p[7],
		 "binary set over UDP: %d bytes", n);
	breq(&b, OP_GET, NULL, 0, pt_key("missing"), NULL, 0, 79, 0);
	n = udp_bin(fd, 0x1236, &b, buf, sizeof(buf));
	pt_check(n == 8 + B_HDR + 9 && p[7] == ST_ENOENT,
		 "binary miss over UDP: %d bytes", n);
	/* a text datagram on the same socket is still text */
	udp_send(fd, 0x1237, 0, pt_str("get %s\r\n", u),
		 strlen(pt_str("get %s\r\n", u)));
	n = udp_recv(fd, buf, sizeof(buf), PT_TIMEOUT_MS);
	pt_check(n > 8 && !memcmp(buf + 8, "VALUE ", 6),
		 "text get over UDP after binary: %d bytes", n);
	close(fd);
	bget_is(c, u, 0, "dgram", NULL);
}

/* flush, flushq, flush with a delay (cancelled by the next flush) */
static void t_bin_flush(struct conn *c)
{
	const char *k = pt_key("k");
	unsigned char e[4];
	struct sbuf b;

	sbuf_init(&b);
	bset(c, OP_SET, k, 0, "v", 0, NULL);
	bcmd(c, OP_FLUSH, NULL, 0, ST_OK, NULL);
	bget_miss(c, k);
	bset(c, OP_SET, k, 0, "v", 0, NULL);
	breq(&b, OP_FLUSHQ, NULL, 0, NULL, NULL, 0, 1, 0);
	bsend(c, &b);
	bget_miss(c, k);
	bset(c, OP_SET, k, 0, "v", 0, NULL);
	put32(e, 3);
	breq(&b, OP_FLUSH, e, 4, NULL, NULL, 0, 2, 0);
	bsend(c, &b);
	bexpect(c, OP_FLUSH, ST_OK, 2, NULL, NULL, NULL);
	bget_is(c, k, 0, "v", NULL);
	bcmd(c, OP_FLUSH, NULL, 0, ST_OK, NULL);
	bget_miss(c, k);
}

/* the PLAIN message: authzid NUL user NUL password */
static void sasl_auth(struct sbuf *b, uint8_t op, const char *mech,
		      const char *zid, const char *user, const char *pass)
{
	struct sbuf d;

	sbuf_init(&d);
	sbuf_adds(&d, zid);
	sbuf_add(&d, "", 1);
	sbuf_adds(&d, user);
	sbuf_add(&d, "", 1);
	sbuf_adds(&d, pass);
	breq(b, op, NULL, 0, mech, d.data, d.len, 31, 0);
	sbuf_free(&d);
}

/* --refused: a user the password file no longer has (after a reload) */
static void t_bin_sasl_removed(struct conn *c)
{
	char user[128], *pass;
	struct sbuf b;

	snprintf(user, sizeof(user), "%s", pt_opts.refused);
	pass = strchr(user, ':');
	*pass++ = '\0';
	sbuf_init(&b);
	sasl_auth(&b, 0x21, "PLAIN", "", user, pass);
	bsend(c, &b);
	bexpect(c, 0x21, 0x20, 31, NULL, "Auth failure.", NULL);
	/* and nothing else before a good one */
	breq(&b, OP_GET, NULL, 0, pt_key("k"), NULL, 0, 5, 0);
	bsend(c, &b);
	bexpect(c, OP_GET, 0x20, 5, NULL, "Auth failure.", NULL);
	sbuf_free(&b);
}

/* SASL PLAIN (server started with -S and MEMCACHED_SASL_PWDB) */
static void t_bin_sasl(struct conn *c)
{
	const char *k = pt_key("k");
	char user[128], *pass;
	struct conn c2;
	struct sbuf b;
	struct bres r;

	snprintf(user, sizeof(user), "%s", pt_opts.sasl);
	pass = strchr(user, ':');
	*pass++ = '\0';
	sbuf_init(&b);
	/* before authenticating: the mechanisms and the version only */
	bcmd(c, 0x20, NULL, 0, ST_OK, "PLAIN");
	breq(&b, OP_VERSION, NULL, 0, NULL, NULL, 0, 2, 0);
	bsend(c, &b);
	bres_init(&r);
	if (bread(c, &r))
		pt_check(r.opcode == OP_VERSION && r.status == ST_OK &&
				 r.val.len > 0,
			 "version before auth: status 0x%x", r.status);
	bres_free(&r);
	/* a wrong password, an unknown user, a step, an unknown mechanism */
	sasl_auth(&b, 0x21, "PLAIN", "", user, "wrong");
	sasl_auth(&b, 0x21, "PLAIN", "", "nobody-here", pass);
	sasl_auth(&b, 0x22, "PLAIN", "", user, pass);
	sasl_auth(&b, 0x21, "CRAM-MD5", "", user, pass);
	bsend(c, &b);
	bexpect(c, 0x21, 0x20, 31, NULL, "Auth failure.", NULL);
	bexpect(c, 0x21, 0x20, 31, NULL, "Auth failure.", NULL);
	bexpect(c, 0x22, 0x20, 31, NULL, "Auth failure.", NULL);
	bexpect(c, 0x21, 0x20, 31, NULL, "Auth failure.", NULL);
	/* the right one, with the user as authzid too */
	sasl_auth(&b, 0x21, "PLAIN", user, user, pass);
	bsend(c, &b);
	bexpect(c, 0x21, ST_OK, 31, NULL, "Authenticated", NULL);
	bset(c, OP_SET, k, 1, "secret", 0, NULL);
	bget_is(c, k, 1, "secret", NULL);
	/* another connection: a get before auth is refused and hung up on */
	if (tap_failed() || conn_open(&c2)) {
		tap_fail("cannot connect");
		return;
	}
	breq(&b, OP_GET, NULL, 0, k, NULL, 0, 5, 0);
	bsend(&c2, &b);
	if (bexpect(&c2, OP_GET, 0x20, 5, NULL, "Auth failure.", NULL))
		pt_closed(&c2);
	conn_close(&c2);
	/*
	 * The text protocol is off: every connection is binary, so a text
	 * line is a header that waits for its 24 bytes, then has a bad
	 * magic: hung up on, no reply.
	 */
	if (tap_failed() || conn_open(&c2)) {
		tap_fail("cannot connect");
		return;
	}
	pt_sends(&c2, "version\r\n");
	pt_check(conn_fill(&c2, 300) == -ETIMEDOUT,
		 "a short text line was not left waiting");
	pt_sends(&c2, "version\r\nversion\r\nversion\r\n");
	pt_closed(&c2);
	conn_close(&c2);
}

static const struct pt_test tests[] = {
	{ "bin_get_set", t_bin_get_set, 0 },
	{ "bin_add_replace_cas", t_bin_add_replace_cas, 0 },
	{ "bin_append_prepend", t_bin_append_prepend, 0 },
	{ "bin_incr_decr", t_bin_incr_decr, 0 },
	{ "bin_touch_gat", t_bin_touch_gat, 0 },
	{ "bin_quiet_batch", t_bin_quiet_batch, 0 },
	{ "bin_pipeline", t_bin_pipeline, 0 },
	{ "bin_split", t_bin_split, 0 },
	{ "bin_large", t_bin_large, 0 },
	{ "bin_big_batch", t_bin_big_batch, 0 },
	{ "bin_admin", t_bin_admin, 0 },
	{ "bin_quit", t_bin_quit, 0 },
	{ "bin_malformed", t_bin_malformed, 0 },
	{ "bin_bogus_length", t_bin_bogus_length, 0 },
	{ "bin_text_mix", t_bin_text_mix, 0 },
	{ "bin_udp", t_bin_udp, PT_NEED_UDP },
	{ "bin_flush", t_bin_flush, 0 },
	{ "bin_sasl", t_bin_sasl, PT_NEED_SASL },
	{ "bin_sasl_removed", t_bin_sasl_removed,
	  PT_NEED_SASL | PT_NEED_REFUSED },
};

const struct pt_group pt_group_bin = PT_GROUP("bin", tests);
