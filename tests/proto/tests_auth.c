// SPDX-License-Identifier: GPL-2.0
/*
 * tests_auth.c - memcached's ASCII authentication (-Y FILE; xkv.ko
 * auth_file=), with --ascii-auth USER:PASSWORD: before a token ("set
 * <any> <any> <any> N" with "USER PASSWORD" as data) every command is
 * answered "CLIENT_ERROR unauthenticated"; a wrong token "CLIENT_ERROR
 * authentication failure", a token of one word "CLIENT_ERROR bad
 * authentication token format"; the right one STORED, per connection;
 * a binary packet is a text line (unauthenticated once a newline comes).
 * With --refused USER:PASSWORD that token is refused (a user a reload
 * took away). The same checks as
 * tests/proto/ascii_auth.sh, in C for the VM (no python there); written
 * against memcached 1.6.18.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "prototest.h"

#define UNAUTH "CLIENT_ERROR unauthenticated\r\n"
#define AUTH_FAIL "CLIENT_ERROR authentication failure\r\n"

/* "USER:PASSWORD" as the token's "USER PASSWORD" */
static const char *token(const char *up)
{
	const char *colon = strchr(up, ':');

	return pt_str("%.*s %s", (int)(colon - up), up, colon + 1);
}

/* send a token under @head ("set auth 0 0"), expect @want */
static bool send_token(struct conn *c, const char *head, const char *tok,
		       const char *want)
{
	return pt_cmd(c, pt_str("%s %zu\r\n%s\r\n", head, strlen(tok), tok),
		      want);
}

static void t_auth_unauthenticated(struct conn *c)
{
	pt_cmd(c, pt_str("get %s\r\n", pt_key("k")), UNAUTH);
	pt_cmd(c, "version\r\n", UNAUTH);
	pt_cmd(c, "stats\r\n", UNAUTH);
	pt_cmd(c, "set foo 0 0\r\n", UNAUTH);
	pt_cmd(c, "flush_all\r\n", UNAUTH);
}

static void t_auth_refused(struct conn *c)
{
	const char *user = pt_opts.ascii_auth;
	const char *colon = strchr(user, ':');

	send_token(c, "set auth 0 0",
		   pt_str("%.*s wrong-%s", (int)(colon - user), user,
			  colon + 1), AUTH_FAIL);
	send_token(c, "set auth 0 0", pt_str("nobody-here %s", colon + 1),
		   AUTH_FAIL);
	send_token(c, "set auth 0 0", pt_str("%.*s", (int)(colon - user),
					     user),
		   "CLIENT_ERROR bad authentication token format\r\n");
	/* still nothing else */
	pt_cmd(c, pt_str("get %s\r\n", pt_key("k")), UNAUTH);
}

static void t_auth_ok(struct conn *c)
{
	const char *k = pt_key("k");

	/* any key, flags and exptime: the data is the token */
	send_token(c, "set x 1 2", token(pt_opts.ascii_auth), "STORED\r\n");
	pt_set(c, k, 5, "bar");
	pt_get_is(c, k, 5, "bar");
}

static void t_auth_per_conn(struct conn *c)
{
	struct conn c2;

	send_token(c, "set auth 0 0", token(pt_opts.ascii_auth),
		   "STORED\r\n");
	if (tap_failed() || conn_open(&c2)) {
		tap_fail("cannot connect");
		return;
	}
	pt_cmd(&c2, pt_str("get %s\r\n", pt_key("k")), UNAUTH);
	/* words after the password are ignored */
	send_token(&c2, "set auth 0 0",
		   pt_str("%s extra", token(pt_opts.ascii_auth)),
		   "STORED\r\n");
	conn_close(&c2);
}

/* auth_cmds and auth_errors count every token, stats settings names -Y */
static void t_auth_stats(struct conn *c)
{
	uint64_t cmds0 = 0, errs0 = 0, cmds1 = 0, errs1 = 0;
	const char *val;
	struct sbuf st;
	struct conn c2;
	size_t vlen;

	send_token(c, "set auth 0 0", token(pt_opts.ascii_auth),
		   "STORED\r\n");
	sbuf_init(&st);
	if (pt_stats(c, NULL, &st)) {
		pt_stat_u64(&st, "auth_cmds", &cmds0);
		pt_stat_u64(&st, "auth_errors", &errs0);
	}
	sbuf_free(&st);
	if (tap_failed() || conn_open(&c2)) {
		tap_fail("cannot connect");
		return;
	}
	send_token(&c2, "set auth 0 0", "nobody-here x", AUTH_FAIL);
	conn_close(&c2);
	sbuf_init(&st);
	if (pt_stats(c, NULL, &st)) {
		pt_stat_u64(&st, "auth_cmds", &cmds1);
		pt_stat_u64(&st, "auth_errors", &errs1);
		pt_check(cmds1 == cmds0 + 1 && errs1 == errs0 + 1,
			 "auth_cmds %llu -> %llu, auth_errors %llu -> %llu: one more each expected",
			 (unsigned long long)cmds0, (unsigned long long)cmds1,
			 (unsigned long long)errs0, (unsigned long long)errs1);
	}
	sbuf_free(&st);
	sbuf_init(&st);
	if (pt_stats(c, "settings", &st) &&
	    pt_check(pt_stat_find(&st, "auth_enabled_ascii", &val, &vlen),
		     "no auth_enabled_ascii in stats settings"))
		pt_check(vlen != 2 || memcmp(val, "no", 2),
			 "stats settings: auth_enabled_ascii no");
	if (!tap_failed() &&
	    pt_check(pt_stat_find(&st, "binding_protocol", &val, &vlen),
		     "no binding_protocol in stats settings"))
		pt_check(vlen == 5 && !memcmp(val, "ascii", 5),
			 "stats settings: binding_protocol %.*s, want ascii",
			 (int)vlen, val);
	sbuf_free(&st);
}

/*
 * A binary request gets no binary reply: xkv closes the connection,
 * memcached 1.6.18 sends nothing (a second is waited for either).
 */
static void t_auth_no_binary(struct conn *c)
{
	static const char version[24] = { '\x80', '\x0b' };
	int n;

	if (!pt_send(c, version, sizeof(version)))
		return;
	/* -Y binds every connection to text: a line without its newline */
	n = conn_fill(c, 300);
	pt_check(n == -ETIMEDOUT, "a binary version request was answered");
	if (n > 0)
		tap_diag_bytes("received", c->in.data, c->in.len);
	else
		pt_cmd(c, "\r\n", UNAUTH);
}

/* --refused: a user the file no longer has (after a reload) */
static void t_auth_removed(struct conn *c)
{
	send_token(c, "set auth 0 0", token(pt_opts.refused), AUTH_FAIL);
	pt_cmd(c, pt_str("get %s\r\n", pt_key("k")), UNAUTH);
}

static const struct pt_test tests[] = {
	{ "auth_unauthenticated", t_auth_unauthenticated, PT_NEED_ASCII },
	{ "auth_refused", t_auth_refused, PT_NEED_ASCII },
	{ "auth_ok", t_auth_ok, PT_NEED_ASCII },
	{ "auth_per_conn", t_auth_per_conn, PT_NEED_ASCII },
	{ "auth_stats", t_auth_stats, PT_NEED_ASCII },
	{ "auth_no_binary", t_auth_no_binary, PT_NEED_ASCII },
	{ "auth_removed", t_auth_removed, PT_NEED_ASCII | PT_NEED_REFUSED },
};

const struct pt_group pt_group_auth = PT_GROUP("auth", tests);
