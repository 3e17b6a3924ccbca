// SPDX-License-Identifier: GPL-2.0
/*
 * Eviction (only with --evict; the server runs with a tiny memory limit
 * such as -m 2): writing far more than the limit must keep working, evict
 * old items, keep the newest ones and keep an item that is read often.
 */
#include <inttypes.h>
#include <string.h>

#include "prototest.h"

#define EV_VALUE	(10 * 1024)
#define EV_ITEMS	1000		/* 10 MB in all */
#define EV_BATCH	20		/* sets per write */
#define EV_RECENT	20		/* newest items that must survive */

static void ev_value(struct sbuf *b, int i)
{
	b->len = 0;
	sbuf_addf(b, "item-%d:", i);
	sbuf_fill(b, (char)('a' + i % 26), EV_VALUE - b->len);
}

static const char *ev_key(int i)
{
	return pt_key(pt_str("%d", i));
}

static void get_exact(struct conn *c, const char *k, const struct sbuf *v)
{
	pt_sends(c, pt_str("get %s\r\n", k));
	pt_read_value(c, k, 0, v->data, v->len, NULL);
}

/* Store items [from, from + EV_BATCH) in one write. */
static void set_batch(struct conn *c, int from, struct sbuf *val)
{
	struct sbuf req, want;
	int i;

	sbuf_init(&req);
	sbuf_init(&want);
	for (i = from; i < from + EV_BATCH; i++) {
		ev_value(val, i);
		sbuf_addf(&req, "set %s 0 0 %d\r\n", ev_key(i), EV_VALUE);
		sbuf_add(&req, val->data, val->len);
		sbuf_adds(&req, "\r\n");
		sbuf_adds(&want, "STORED\r\n");
	}
	pt_expect(c, req.data, req.len, want.data, want.len);
	sbuf_free(&req);
	sbuf_free(&want);
}

static void t_evict_fill(struct conn *c)
{
	const char *hot = pt_key("hot");
	struct sbuf val, hotval;
	uint64_t ev0 = 0, ev1 = 0;
	struct sbuf st;
	int i;

	sbuf_init(&val);
	sbuf_init(&hotval);
	sbuf_init(&st);
	pt_stats(c, NULL, &st);
	pt_stat_u64(&st, "evictions", &ev0);
	ev_value(&hotval, -1);
	pt_set(c, hot, 0, hotval.data);
	for (i = 0; i < EV_ITEMS && !tap_failed(); i += EV_BATCH) {
		set_batch(c, i, &val);
		get_exact(c, hot, &hotval);
	}
	st.len = 0;
	pt_stats(c, NULL, &st);
	pt_stat_u64(&st, "evictions", &ev1);
	pt_check(ev1 > ev0, "evictions did not move (%" PRIu64 ")", ev1);
	for (i = EV_ITEMS - EV_RECENT; i < EV_ITEMS; i++) {
		ev_value(&val, i);
		get_exact(c, ev_key(i), &val);
	}
	get_exact(c, hot, &hotval);
	/* The oldest item cannot have survived 10 MB in a 2 MB cache. */
	pt_get_miss(c, ev_key(0));
	sbuf_free(&st);
	sbuf_free(&val);
	sbuf_free(&hotval);
}

static const struct pt_test tests[] = {
	{ "evict_fill_10mb", t_evict_fill, PT_NEED_EVICT },
};

const struct pt_group pt_group_evict = PT_GROUP("evict", tests);
