// SPDX-License-Identifier: GPL-2.0
/*
 * Assertions on exact reply bytes. Every helper is a no-op returning
 * false once the running test has failed, so a test body is a plain
 * sequence of checks: the first failure is reported with the request,
 * the expected and the received bytes, and later steps (which would only
 * cascade or wait for timeouts) are skipped.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "prototest.h"

#define DRAIN_MS	100	/* after a mismatch, collect more for display */
#define DRAIN_MAX	4096
#define STATS_MAX_LINES	10000

enum match_result {
	MATCH_OK,
	MATCH_DIFFERS,
	MATCH_CLOSED,
	MATCH_TIMEOUT,
	MATCH_ERROR,
};

static const char *const match_msg[] = {
	[MATCH_OK] = "ok",
	[MATCH_DIFFERS] = "reply differs from expected",
	[MATCH_CLOSED] = "server closed the connection before replying in full",
	[MATCH_TIMEOUT] = "timed out waiting for the reply",
	[MATCH_ERROR] = "receive failed",
};

/* Move received bytes into @got for a while, to show what came instead. */
static void drain_into(struct conn *c, struct sbuf *got)
{
	uint64_t deadline = pt_now_ms() + DRAIN_MS;
	uint64_t now;

	sbuf_add(got, c->in.data, c->in.len);
	sbuf_consume(&c->in, c->in.len);
	while (got->len < DRAIN_MAX && (now = pt_now_ms()) < deadline) {
		if (conn_fill(c, (int)(deadline - now)) <= 0)
			break;
		sbuf_add(got, c->in.data, c->in.len);
		sbuf_consume(&c->in, c->in.len);
	}
}

/*
 * Receive until @got holds @wlen bytes equal to @want, stopping early at
 * the first differing byte so a wrong short reply does not cost a timeout.
 */
static enum match_result read_match(struct conn *c, const char *want,
				    size_t wlen, struct sbuf *got)
{
	size_t n;
	int r;

	for (;;) {
		n = wlen - got->len;
		if (n > c->in.len)
			n = c->in.len;
		if (memcmp(c->in.data ? c->in.data : "", want + got->len, n)) {
			drain_into(c, got);
			return MATCH_DIFFERS;
		}
		sbuf_add(got, c->in.data, n);
		sbuf_consume(&c->in, n);
		if (got->len == wlen)
			return MATCH_OK;
		/* The timeout runs from the last byte received. */
		r = conn_fill(c, PT_TIMEOUT_MS);
		if (r == 0 || r == -ECONNRESET) {
			sbuf_add(got, c->in.data, c->in.len);
			sbuf_consume(&c->in, c->in.len);
			return MATCH_CLOSED;
		}
		if (r == -ETIMEDOUT)
			return MATCH_TIMEOUT;
		if (r < 0)
			return MATCH_ERROR;
	}
}

/* Anything already here after a complete reply was not asked for. */
static bool no_extra_bytes(struct conn *c, struct sbuf *extra)
{
	if (!c->in.len)
		conn_fill(c, 0);
	if (!c->in.len)
		return true;
	drain_into(c, extra);
	return false;
}

/**
 * pt_send() - send bytes as part of the running test
 * @c: connection
 * @p: bytes
 * @n: how many
 *
 * Return: true when sent; false (test failed) otherwise.
 */
bool pt_send(struct conn *c, const void *p, size_t n)
{
	int err;

	if (tap_failed())
		return false;
	err = conn_send(c, p, n);
	if (err) {
		tap_fail("send of %zu bytes failed: %s", n, strerror(-err));
		return false;
	}
	return true;
}

/**
 * pt_sends() - pt_send() for a C string
 * @c: connection
 * @s: request text
 *
 * Return: true when sent.
 */
bool pt_sends(struct conn *c, const char *s)
{
	return pt_send(c, s, strlen(s));
}

/**
 * pt_expect() - send a request and check the reply is exactly @want
 * @c: connection
 * @req: request bytes, or NULL to only read
 * @rlen: request length
 * @want: the whole expected reply
 * @wlen: its length
 *
 * Bytes that follow the expected reply at once also fail the check.
 *
 * Return: true when the reply matched.
 */
bool pt_expect(struct conn *c, const void *req, size_t rlen,
	       const void *want, size_t wlen)
{
	enum match_result m;
	struct sbuf got;

	if (req && !pt_send(c, req, rlen))
		return false;
	if (tap_failed())
		return false;
	sbuf_init(&got);
	m = read_match(c, want, wlen, &got);
	if (m == MATCH_OK && !no_extra_bytes(c, &got)) {
		tap_fail("unexpected bytes after the reply");
	} else if (m != MATCH_OK) {
		tap_fail("%s", match_msg[m]);
	}
	if (tap_failed()) {
		if (req)
			tap_diag_bytes("request", req, rlen);
		tap_diag_mismatch(want, wlen, got.data ? got.data : "",
				  got.len);
	}
	sbuf_free(&got);
	return !tap_failed();
}

/**
 * pt_cmd() - pt_expect() for requests and replies without NUL bytes
 * @c: connection
 * @req: request, or NULL to only read
 * @want: expected reply ("" when none is expected: then nothing at all
 *	  may be waiting, so follow it with a command that does reply)
 *
 * Return: true when the reply matched.
 */
bool pt_cmd(struct conn *c, const char *req, const char *want)
{
	return pt_expect(c, req, req ? strlen(req) : 0, want, strlen(want));
}

/**
 * pt_set() - "set" a value with exptime 0 and expect STORED
 * @c: connection
 * @key: key
 * @flags: client flags
 * @val: value (a C string)
 *
 * Return: true when stored.
 */
bool pt_set(struct conn *c, const char *key, uint32_t flags,
	    const char *val)
{
	return pt_cmd(c, pt_str("set %s %" PRIu32 " 0 %zu\r\n%s\r\n", key,
				flags, strlen(val), val), "STORED\r\n");
}

/**
 * pt_get_is() - "get" a key and expect exactly this value and flags
 * @c: connection
 * @key: key
 * @flags: expected client flags
 * @val: expected value (a C string)
 *
 * Return: true when the reply matched.
 */
bool pt_get_is(struct conn *c, const char *key, uint32_t flags,
	       const char *val)
{
	return pt_cmd(c, pt_str("get %s\r\n", key),
		      pt_str("VALUE %s %" PRIu32 " %zu\r\n%s\r\nEND\r\n", key,
			     flags, strlen(val), val));
}

/**
 * pt_get_miss() - "get" a key and expect a miss (END alone)
 * @c: connection
 * @key: key
 *
 * Return: true on a miss.
 */
bool pt_get_miss(struct conn *c, const char *key)
{
	return pt_cmd(c, pt_str("get %s\r\n", key), "END\r\n");
}

static bool parse_u64(const char *s, size_t n, uint64_t *v)
{
	uint64_t x = 0;
	size_t i;

	if (!n || n > 20)
		return false;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		if (x > (UINT64_MAX - (uint64_t)(s[i] - '0')) / 10)
			return false;
		x = x * 10 + (uint64_t)(s[i] - '0');
	}
	*v = x;
	return true;
}

/* Check a "VALUE ..." header line; with @cas, parse its CAS token too. */
static bool check_value_line(const struct sbuf *line, const char *prefix,
			     uint64_t *cas)
{
	size_t plen = strlen(prefix);
	const char *rest = line->data + plen;
	size_t rlen = line->len - plen;

	if (line->len < plen + 2 || memcmp(line->data, prefix, plen) ||
	    memcmp(line->data + line->len - 2, "\r\n", 2))
		return false;
	if (!cas)
		return rlen == 2;
	return rest[0] == ' ' && parse_u64(rest + 1, rlen - 3, cas);
}

/**
 * pt_read_value() - read a one-item retrieval reply
 * @c: connection (the get/gets/gat/gats request has been sent)
 * @key: expected key
 * @flags: expected flags
 * @val: expected value bytes
 * @vlen: their length
 * @cas: NULL when the reply must not carry a CAS token; else the token
 *	 is required and stored here
 *
 * Return: true when the reply is "VALUE ...\r\n<val>\r\nEND\r\n".
 */
bool pt_read_value(struct conn *c, const char *key, uint32_t flags,
		   const void *val, size_t vlen, uint64_t *cas)
{
	const char *prefix;
	struct sbuf line, tail;
	bool ok;
	int err;

	if (tap_failed())
		return false;
	prefix = pt_str("VALUE %s %" PRIu32 " %zu", key, flags, vlen);
	sbuf_init(&line);
	err = conn_read_line(c, &line);
	ok = !err && check_value_line(&line, prefix, cas);
	if (!ok) {
		tap_fail("bad VALUE line (%s)",
			 err ? strerror(-err) : "format");
		tap_diag("expected \"%s%s\\r\\n\"", prefix,
			 cas ? " <cas>" : "");
		tap_diag_bytes("received", line.data ? line.data : "",
			       line.len);
	}
	sbuf_free(&line);
	if (!ok)
		return false;
	sbuf_init(&tail);
	sbuf_add(&tail, val, vlen);
	sbuf_adds(&tail, "\r\nEND\r\n");
	ok = pt_expect(c, NULL, 0, tail.data, tail.len);
	sbuf_free(&tail);
	return ok;
}

/**
 * pt_gets() - "gets" a key with flags 0 and return its CAS value
 * @c: connection
 * @key: key
 * @val: expected value (a C string)
 * @cas: the CAS value is stored here
 *
 * Return: true when the reply matched.
 */
bool pt_gets(struct conn *c, const char *key, const char *val,
	     uint64_t *cas)
{
	if (!pt_sends(c, pt_str("gets %s\r\n", key)))
		return false;
	return pt_read_value(c, key, 0, val, strlen(val), cas);
}

/**
 * pt_line_prefix() - send a request, read one reply line, check its start
 * @c: connection
 * @req: request, or NULL to only read
 * @prefix: what the line must start with; it must also end in "\r\n"
 * @line: receives the line (caller initialises and frees)
 *
 * Return: true when the line matched.
 */
bool pt_line_prefix(struct conn *c, const char *req, const char *prefix,
		    struct sbuf *line)
{
	size_t plen = strlen(prefix);
	int err;

	if (req && !pt_send(c, req, strlen(req)))
		return false;
	if (tap_failed())
		return false;
	err = conn_read_line(c, line);
	if (!err && line->len >= plen + 2 &&
	    !memcmp(line->data, prefix, plen) &&
	    !memcmp(line->data + line->len - 2, "\r\n", 2))
		return true;
	tap_fail("reply line (%s) does not start with \"%s\"",
		 err ? strerror(-err) : "format", prefix);
	tap_diag_bytes("received", line->data ? line->data : "", line->len);
	return false;
}

/**
 * pt_closed() - expect the server to close the connection, silently
 * @c: connection
 *
 * Return: true when it closed without sending anything.
 */
bool pt_closed(struct conn *c)
{
	struct sbuf extra;
	int err;

	if (tap_failed())
		return false;
	sbuf_init(&extra);
	err = conn_wait_closed(c, &extra);
	if (err)
		tap_fail("connection still open after %d ms", PT_TIMEOUT_MS);
	else if (extra.len)
		tap_fail("server sent bytes before closing");
	if (extra.len)
		tap_diag_bytes("received", extra.data, extra.len);
	sbuf_free(&extra);
	return !tap_failed();
}

/**
 * pt_check() - assert a condition computed by the test
 * @cond: the condition
 * @fmt: printf format of the failure message
 *
 * Return: @cond, or false if the test had already failed.
 */
bool pt_check(bool cond, const char *fmt, ...)
{
	va_list ap;
	char msg[512];

	if (tap_failed())
		return false;
	if (cond)
		return true;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return tap_fail("%s", msg);
}

/* "STAT <name> <value>\r\n": name without spaces, value not empty. */
static bool stat_line_ok(const struct sbuf *l)
{
	const char *name = l->data + 5;
	const char *sp, *end = l->data + l->len - 2;

	if (l->len < 10 || memcmp(l->data, "STAT ", 5) ||
	    memcmp(end, "\r\n", 2))
		return false;
	sp = memchr(name, ' ', (size_t)(end - name));
	if (!sp || sp == name || sp + 1 >= end)
		return false;
	return !memchr(l->data, '\r', l->len - 2);
}

/**
 * pt_stats() - run a stats command and check the reply's shape
 * @c: connection
 * @sub: sub-command ("settings", "items", ...) or NULL for plain "stats"
 * @out: receives every STAT line (caller initialises and frees)
 *
 * Return: true when the reply was well-formed STAT lines, then END.
 */
bool pt_stats(struct conn *c, const char *sub, struct sbuf *out)
{
	const char *req = sub ? pt_str("stats %s\r\n", sub) : "stats\r\n";
	struct sbuf line;
	int i, err = 0;

	if (!pt_send(c, req, strlen(req)))
		return false;
	sbuf_init(&line);
	for (i = 0; i < STATS_MAX_LINES; i++) {
		line.len = 0;
		err = conn_read_line(c, &line);
		if (err || !strcmp(line.data, "END\r\n"))
			break;
		if (!stat_line_ok(&line)) {
			tap_fail("malformed line in \"%.*s\" reply",
				 (int)strlen(req) - 2, req);
			tap_diag_bytes("line", line.data, line.len);
			break;
		}
		sbuf_add(out, line.data, line.len);
	}
	if (!tap_failed() && (err || i == STATS_MAX_LINES))
		tap_fail("no END after stats lines (%s)",
			 err ? strerror(-err) : "too many lines");
	sbuf_free(&line);
	return !tap_failed();
}

/**
 * pt_stat_find() - look a statistic up in pt_stats() output
 * @st: output of pt_stats()
 * @name: statistic name
 * @val: set to its value (not NUL-terminated)
 * @vlen: set to the value's length
 *
 * Return: true when present.
 */
bool pt_stat_find(const struct sbuf *st, const char *name, const char **val,
		  size_t *vlen)
{
	size_t nlen = strlen(name);
	const char *p = st->data, *end = st->data + st->len;
	const char *eol;

	while (p && p < end) {
		eol = memchr(p, '\n', (size_t)(end - p));
		if (!eol)
			break;
		if ((size_t)(eol - p) > nlen + 7 &&
		    !memcmp(p + 5, name, nlen) && p[5 + nlen] == ' ') {
			*val = p + 6 + nlen;
			*vlen = (size_t)(eol - 1 - *val);
			return true;
		}
		p = eol + 1;
	}
	return false;
}

/**
 * pt_stat_u64() - numeric statistic from pt_stats() output
 * @st: output of pt_stats()
 * @name: statistic name
 * @v: receives the value
 *
 * Fails the running test when the statistic is missing or not a number.
 *
 * Return: true when found and numeric.
 */
bool pt_stat_u64(const struct sbuf *st, const char *name, uint64_t *v)
{
	const char *val;
	size_t vlen;

	if (tap_failed())
		return false;
	if (!pt_stat_find(st, name, &val, &vlen))
		return tap_fail("stat \"%s\" missing", name);
	if (!parse_u64(val, vlen, v))
		return tap_fail("stat \"%s\" is not a number: \"%.*s\"", name,
				(int)vlen, val);
	return true;
}

/**
 * pt_advance() - let @seconds of server time pass
 * @c: connection
 * @seconds: how many
 *
 * With --debugtime the server's clock jumps ("debugtime N" -> "OK"),
 * with --sleep the test really sleeps.
 *
 * Return: true when time has passed.
 */
bool pt_advance(struct conn *c, unsigned int seconds)
{
	if (tap_failed())
		return false;
	if (pt_opts.debugtime)
		return pt_cmd(c, pt_str("debugtime %u\r\n", seconds), "OK\r\n");
	if (pt_opts.sleep) {
		pt_msleep(seconds * 1000);
		return true;
	}
	return tap_fail("neither --debugtime nor --sleep given");
}
