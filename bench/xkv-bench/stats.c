// SPDX-License-Identifier: GPL-2.0
/*
 * stats.c - counting replies (the rules are in worker.h).
 */
#include <stdio.h>
#include <string.h>

#include "worker.h"

/* diagnostics per thread, so a broken server does not flood stderr */
#define WARN_MAX 3
/* bytes of a bad reply shown */
#define WARN_BYTES 120

/**
 * bench_record() - count one reply.
 * @w:      the thread
 * @r:      what the reply was
 * @t_sent: when its request was sent
 * @now:    when it completed
 */
void bench_record(struct bench_worker *w, enum mc_result r, u64 t_sent, u64 now)
{
	struct bench_stats *st = &w->st;
	bool in = now >= w->t_start && now < w->t_end;

	switch (r) {
	case MC_HIT:
	case MC_MISS:
	case MC_STORED:
		if (!in)
			return;
		if (r == MC_HIT)
			st->hits++;
		else if (r == MC_MISS)
			st->misses++;
		else
			st->sets++;
		hist_add(&st->lat, now - t_sent);
		return;
	case MC_SERVER_ERR:
		st->server_errors++;
		return;
	case MC_BAD_VALUE:
		st->bad_values++;
		return;
	case MC_MORE:
	case MC_PROTO_ERR:
		st->proto_errors++;
		return;
	}
}

/**
 * bench_warn_reply() - show a wrong or unexpected reply on stderr.
 * @w:   the thread (at most a few are shown per thread)
 * @r:   what the reply was
 * @op:  the request it answered, or NULL when none was waiting
 * @buf: the reply
 * @len: its length
 */
void bench_warn_reply(struct bench_worker *w, enum mc_result r,
		      const struct bench_op *op, const char *buf, size_t len)
{
	char shown[WARN_BYTES * 4 + 1], *p = shown;
	const char *what = "malformed";
	size_t i;

	if (w->warned >= WARN_MAX)
		return;
	w->warned++;
	for (i = 0; i < len && i < WARN_BYTES; i++) {
		unsigned char c = (unsigned char)buf[i];

		if (c >= 0x20 && c < 0x7f && c != '\\')
			*p++ = (char)c;
		else
			p += sprintf(p, "\\x%02x", c);
	}
	*p = '\0';
	if (r == MC_BAD_VALUE)
		what = "wrong";
	else if (r == MC_SERVER_ERR)
		what = "error";
	if (!op) {
		fprintf(stderr,
			"xkv-bench: thread %u: bytes with no request waiting: \"%s\"%s\n",
			w->idx, shown, len > WARN_BYTES ? "..." : "");
		return;
	}
	fprintf(stderr,
		"xkv-bench: thread %u: %s reply to %s of key %u: \"%s\"%s\n",
		w->idx, what, op->op == MC_GET ? "get" : "set", op->key, shown,
		len > WARN_BYTES ? "..." : "");
}

/**
 * bench_stats_init() - zero a set of counters.
 * @st: the counters
 */
void bench_stats_init(struct bench_stats *st)
{
	memset(st, 0, sizeof(*st));
	hist_init(&st->lat);
}

/**
 * bench_stats_add() - add one thread's counters to a sum.
 * @dst: the sum
 * @src: left unchanged
 */
void bench_stats_add(struct bench_stats *dst, const struct bench_stats *src)
{
	dst->hits += src->hits;
	dst->misses += src->misses;
	dst->sets += src->sets;
	dst->bad_values += src->bad_values;
	dst->proto_errors += src->proto_errors;
	dst->server_errors += src->server_errors;
	dst->net_errors += src->net_errors;
	dst->timeouts += src->timeouts;
	dst->late += src->late;
	hist_merge(&dst->lat, &src->lat);
}
