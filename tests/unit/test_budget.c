// SPDX-License-Identifier: GPL-2.0
/*
 * test_budget.c - the connections' buffer budget and the streamed get:
 * take and give back, the read buffers' half, a get that stops between
 * keys and resumes to the exact reply, sessions that stall when the
 * budget is spent and go on once it is given back, and nothing left
 * charged when every session is gone.
 */
#include "budget.h"
#include "inbuf.h"
#include "tap.h"
#include "unit_util.h"

#define VAL 200000
#define BIG 1000000

static struct xkv_store *store_with_budget(u64 limit)
{
	struct xkv_settings set;
	struct xkv_store *st;

	xkv_settings_default(&set, 1);
	set.maxbytes = 64ULL << 20;
	set.read_buf_mem_limit = limit;
	st = xkv_store_create(&set, 1);
	if (!st)
		tap_bail("store");
	return st;
}

static void set_value(struct xkv_store *st, const char *key, size_t n)
{
	char *v = malloc(n);

	if (!v)
		tap_bail("out of memory");
	memset(v, key[0], n);
	if (uu_store_op(st, XKV_OP_SET, key, v, n, 0, 0, 0) != XKV_STORED)
		tap_bail("set");
	free(v);
}

static struct xkv_sess *tcp_sess(struct xkv_store *st)
{
	struct xkv_sess *s = xkv_sess_new(st, xkv_store_stats_slot(st, 0),
					  false);

	if (!s)
		tap_bail("session");
	return s;
}

/* what a client reads: everything pending, appended to @got */
static void drain(struct xkv_sess *s, char *got, size_t *len, size_t cap)
{
	struct xkv_buf *out = xkv_sess_out(s);
	size_t n = xkv_buf_pending(out);

	if (*len + n > cap)
		tap_bail("reply longer than expected");
	memcpy(got + *len, out->data + out->off, n);
	*len += n;
	xkv_buf_consume(out, n);
}

static void test_take_give(void)
{
	struct xkv_budget b;

	xkv_budget_init(&b, 1000);
	tap_ok(xkv_budget_take(&b, 600, false), "take 600 of 1000");
	tap_ok(!xkv_budget_take(&b, 500, false), "500 more: refused");
	tap_is_u64(xkv_budget_used(&b), 600, "a refusal takes nothing");
	tap_ok(xkv_budget_take(&b, 100, true), "a read buffer takes 100");
	tap_is_u64(xkv_budget_used(&b), 700, "both count: 700");
	xkv_budget_give(&b, 600, false);
	xkv_budget_give(&b, 100, true);
	tap_ok(xkv_budget_take(&b, 500, true), "read buffers: half, 500");
	tap_ok(!xkv_budget_take(&b, 1, true), "... and not a byte more");
	tap_ok(xkv_budget_take(&b, 500, false), "replies take the rest");
	xkv_budget_give(&b, 500, true);
	xkv_budget_give(&b, 500, false);
	tap_is_u64(xkv_budget_used(&b), 0, "all given back");
	xkv_budget_init(&b, 0);
	tap_ok(xkv_budget_take(&b, 1ULL << 40, false), "limit 0: no limit");
}

/* a get of four 200 KB values stops at 256 KiB pending and resumes */
static void test_streamed_get(void)
{
	static const char line[] = "get a b c d\r\n";
	struct xkv_store *st = store_with_budget(XKV_BUDGET_AUTO);
	struct xkv_sess *s = tcp_sess(st);
	size_t cap = 4 * (VAL + 64) + 16, len = 0, used, i, pos = 0;
	char *got = malloc(cap), head[64];
	int rounds = 0;
	bool ok = true;

	if (!got)
		tap_bail("out of memory");
	set_value(st, "a", VAL);
	set_value(st, "b", VAL);
	set_value(st, "c", VAL);
	set_value(st, "d", VAL);
	do {
		used = xkv_sess_input(s, line, sizeof(line) - 1);
		tap_ok(xkv_buf_pending(xkv_sess_out(s)) <= XKV_SESS_OUT_HIGH +
							   VAL + 64,
		       "round %d: pending %zu <= 256 KiB + one value",
		       rounds, xkv_buf_pending(xkv_sess_out(s)));
		drain(s, got, &len, cap);
		rounds++;
	} while (!used && rounds < 10);
	tap_is_u64(used, sizeof(line) - 1, "the line is used in the end");
	tap_ok(rounds >= 2, "the get stopped between keys (%d rounds)",
	       rounds);
	for (i = 0; i < 4 && ok; i++) {
		int n = snprintf(head, sizeof(head), "VALUE %c 0 %d\r\n",
				 (int)('a' + i), VAL);

		ok = pos + (size_t)n + VAL + 2 <= len &&
		     !memcmp(got + pos, head, (size_t)n);
		pos += (size_t)n;
		for (size_t j = 0; ok && j < VAL; j++)
			ok = got[pos + j] == (char)('a' + i);
		pos += VAL;
		ok = ok && !memcmp(got + pos, "\r\n", 2);
		pos += 2;
	}
	tap_ok(ok && len == pos + 5 && !memcmp(got + pos, "END\r\n", 5),
	       "the reply is exact: 4 values, each once, then END");
	xkv_sess_free(s);
	tap_is_u64(xkv_budget_used(xkv_store_budget(st)), 0,
		   "nothing charged once the session is gone");
	free(got);
	xkv_store_destroy(st);
}

/*
 * Five sessions each hold one 1 MB reply of a 5 MiB budget; a sixth
 * stalls before building anything, and goes on once one client reads.
 */
static void test_stall(void)
{
	static const char line[] = "get big big\r\n";
	struct xkv_store *st = store_with_budget(5ULL << 20);
	struct xkv_budget *b = xkv_store_budget(st);
	struct xkv_sess *s[6];
	size_t cap = 2 * (BIG + 64) + 16, len = 0, used;
	char *got = malloc(cap);
	int i, stalled = -1;

	if (!got)
		tap_bail("out of memory");
	set_value(st, "big", BIG);
	for (i = 0; i < 6; i++) {
		s[i] = tcp_sess(st);
		xkv_sess_input(s[i], line, sizeof(line) - 1);
		if (stalled < 0 && xkv_sess_stalled(s[i]))
			stalled = i;
	}
	tap_ok(stalled > 0, "a session stalls once the budget is spent "
	       "(the %d%s)", stalled + 1, stalled == 0 ? "st" : "th");
	tap_ok(xkv_budget_used(b) <= (5ULL << 20), "used %llu <= 5 MiB",
	       (unsigned long long)xkv_budget_used(b));
	if (stalled > 0) {
		tap_is_u64(xkv_buf_pending(xkv_sess_out(s[stalled])), 0,
			   "the stalled session built nothing");
		used = xkv_sess_input(s[stalled], line, sizeof(line) - 1);
		tap_ok(!used && xkv_sess_stalled(s[stalled]),
		       "offered again while spent: still stalled");
		/* a client reads its whole reply; its memory goes back */
		do {
			len = 0;
			drain(s[0], got, &len, cap);
		} while (!xkv_sess_input(s[0], line, sizeof(line) - 1));
		drain(s[0], got, &len, cap);
		xkv_sess_input(s[stalled], line, sizeof(line) - 1);
		tap_ok(!xkv_sess_stalled(s[stalled]) &&
		       xkv_buf_pending(xkv_sess_out(s[stalled])) > BIG,
		       "once a reader drained, the stalled session goes on");
	}
	for (i = 0; i < 6; i++)
		xkv_sess_free(s[i]);
	tap_is_u64(xkv_budget_used(b), 0, "all given back");
	free(got);
	xkv_store_destroy(st);
}

/*
 * The same for meta: an "mg ... v" whose value has no room stalls with
 * nothing built or changed (its line stays unused), and answers in full
 * once a reader gives memory back.
 */
static void test_meta_stall(void)
{
	static const char line[] = "mg big v s\r\n";
	struct xkv_store *st = store_with_budget(5ULL << 20);
	struct xkv_budget *b = xkv_store_budget(st);
	struct xkv_sess *s[7];
	size_t cap = BIG + 64, len = 0, used, n;
	char *got = malloc(cap), head[64];
	int i, stalled = -1;

	if (!got)
		tap_bail("out of memory");
	set_value(st, "big", BIG);
	for (i = 0; i < 7; i++) {
		s[i] = tcp_sess(st);
		used = xkv_sess_input(s[i], line, sizeof(line) - 1);
		if (stalled < 0 && xkv_sess_stalled(s[i]) && !used)
			stalled = i;
	}
	tap_ok(stalled > 0, "meta: an mg stalls once the budget is spent "
	       "(session %d)", stalled + 1);
	if (stalled > 0) {
		tap_is_u64(xkv_buf_pending(xkv_sess_out(s[stalled])), 0,
			   "meta: the stalled mg built nothing");
		tap_ok(!xkv_sess_between(s[stalled]),
		       "meta: ... and is not between commands");
		len = 0;
		drain(s[0], got, &len, cap);
		used = xkv_sess_input(s[stalled], line, sizeof(line) - 1);
		len = 0;
		drain(s[stalled], got, &len, cap);
		n = (size_t)snprintf(head, sizeof(head), "VA %d s%d\r\n", BIG,
				     BIG);
		tap_ok(used == sizeof(line) - 1 && len == n + BIG + 2 &&
			       !memcmp(got, head, n) && got[n] == 'b' &&
			       got[n + BIG - 1] == 'b' &&
			       !memcmp(got + n + BIG, "\r\n", 2),
		       "meta: once a reader drained, the mg answers in full");
	}
	for (i = 0; i < 7; i++)
		xkv_sess_free(s[i]);
	tap_is_u64(xkv_budget_used(b), 0, "meta: all given back");
	free(got);
	xkv_store_destroy(st);
}

/* a read buffer's growth past its first 16 KiB is charged, then freed */
static void test_inbuf(void)
{
	struct xkv_budget b;
	struct xkv_inbuf ib;
	int err = 0;

	xkv_budget_init(&b, 256 * 1024);
	if (xkv_inbuf_init(&ib, &b))
		tap_bail("inbuf");
	while (!err) {
		err = xkv_inbuf_room(&ib);
		if (!err)
			xkv_inbuf_added(&ib, xkv_inbuf_space(&ib));
	}
	tap_is_i64(err, -ENOBUFS, "growth stops at the read buffers' half");
	tap_ok(xkv_budget_used(&b) <= 128 * 1024, "charged %llu <= 128 KiB",
	       (unsigned long long)xkv_budget_used(&b));
	xkv_inbuf_release(&ib);
	tap_is_u64(xkv_budget_used(&b), 0, "released: nothing charged");
}

int main(void)
{
	test_take_give();
	test_streamed_get();
	test_stall();
	test_meta_stall();
	test_inbuf();
	return tap_done();
}
