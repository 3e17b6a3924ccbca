// SPDX-License-Identifier: GPL-2.0
/*
 * Commands about the server rather than items: version, verbosity, quit,
 * unknown commands and the stats family.
 */
#include <inttypes.h>
#include <string.h>

#include "prototest.h"

/*
 * Background work (the LRU crawler reclaiming expired items) can move
 * item counts; a delta check is retried this many times.
 */
#define DELTA_TRIES	3

static void t_version(struct conn *c)
{
	struct sbuf line;

	sbuf_init(&line);
	if (pt_line_prefix(c, "version\r\n", "VERSION ", &line))
		pt_check(line.len > 10 && !memchr(line.data + 8, ' ',
						  line.len - 10),
			 "version string empty or has spaces");
	sbuf_free(&line);
	pt_cmd(c, "get\r\n", "ERROR\r\n");
}

static void t_verbosity(struct conn *c)
{
	pt_cmd(c, "verbosity 0\r\n", "OK\r\n");
	pt_cmd(c, "verbosity 0 noreply\r\nverbosity 0\r\n", "OK\r\n");
	pt_cmd(c, "verbosity\r\n", "ERROR\r\n");
	pt_cmd(c, "verbosity 1 2 3\r\n", "ERROR\r\n");
	/* memcached 1.6 parses the level with safe_strtoul() */
	pt_cmd(c, "verbosity invalid\r\n",
	       "CLIENT_ERROR bad command line format\r\n");
	pt_cmd(c, "verbosity -1\r\n",
	       "CLIENT_ERROR bad command line format\r\n");
	pt_cmd(c, "verbosity 1 2\r\n", "OK\r\n");
	pt_cmd(c, "verbosity 99999999999\r\n", "OK\r\n");
	pt_cmd(c, "verbosity noreply\r\nverbosity 0\r\n", "OK\r\n");
}

static void t_quit(struct conn *c)
{
	pt_sends(c, "quit\r\n");
	pt_closed(c);
}

static void t_quit_pipelined(struct conn *c)
{
	/* Replies before quit are sent; commands after it are not run. */
	const char *k = pt_key("k");

	struct conn c2;
	int err;

	pt_sends(c, pt_str("set %s 0 0 1\r\nv\r\nquit\r\nset %s 0 0 1\r\nw\r\n",
			   k, k));
	pt_cmd(c, NULL, "STORED\r\n");
	pt_closed(c);
	err = conn_open(&c2);
	pt_check(!err, "reconnect failed: %s", strerror(-err));
	pt_get_is(&c2, k, 0, "v");
	conn_close(&c2);
}

static void t_unknown_command(struct conn *c)
{
	pt_cmd(c, "bogus\r\n", "ERROR\r\n");
	pt_cmd(c, "bogus with args\r\n", "ERROR\r\n");
	/* Commands are case-sensitive. */
	pt_cmd(c, "GET x\r\n", "ERROR\r\n");
	pt_cmd(c, "STATS\r\n", "ERROR\r\n");
}

static void t_empty_line(struct conn *c)
{
	pt_cmd(c, "\r\n", "ERROR\r\n");
	pt_cmd(c, "\r\n\r\n", "ERROR\r\nERROR\r\n");
	/* A bare "\n" ends a command line too. */
	pt_cmd(c, "\n", "ERROR\r\n");
	pt_cmd(c, pt_str("get %s\n", pt_key("k")), "END\r\n");
}

static void require_stats(const struct sbuf *st, const char *const *names)
{
	const char *v;
	size_t vlen;

	for (; *names; names++)
		if (!pt_stat_find(st, *names, &v, &vlen))
			tap_fail("stat \"%s\" missing", *names);
}

static void t_stats(struct conn *c)
{
	static const char *const names[] = {
		"pid", "uptime", "time", "version", "curr_connections",
		"total_connections", "cmd_get", "cmd_set", "get_hits",
		"get_misses", "curr_items", "total_items", "bytes",
		"evictions", "limit_maxbytes", "threads", NULL,
	};
	struct sbuf st;
	uint64_t v;

	sbuf_init(&st);
	pt_stats(c, NULL, &st);
	require_stats(&st, names);
	pt_stat_u64(&st, "limit_maxbytes", &v);
	pt_check(v > 0, "limit_maxbytes is 0");
	pt_stat_u64(&st, "time", &v);
	pt_check(v > 1000000000, "time %" PRIu64 " is not a unix time", v);
	pt_stat_u64(&st, "curr_connections", &v);
	pt_check(v >= 1, "curr_connections is 0 on a live connection");
	sbuf_free(&st);
}

/* Counters that one round of commands must move by a known amount. */
static const char *const delta_names[] = {
	"cmd_get", "get_hits", "get_misses", "curr_items", "total_items",
	"cmd_set",
};

#define NDELTA	(sizeof(delta_names) / sizeof(delta_names[0]))

static bool read_counters(struct conn *c, uint64_t *v)
{
	struct sbuf st;
	size_t i;

	sbuf_init(&st);
	pt_stats(c, NULL, &st);
	for (i = 0; i < NDELTA; i++)
		pt_stat_u64(&st, delta_names[i], &v[i]);
	sbuf_free(&st);
	return !tap_failed();
}

/*
 * One round: 3 stores (2 new items), 5 keys looked up (3 hits), 1 delete.
 * Expected moves: cmd_get +5 (one per key), get_hits +3, get_misses +2,
 * curr_items +1, total_items +3, cmd_set +3.
 */
static bool stats_round(struct conn *c, int round)
{
	const char *a = pt_key(pt_str("a%d", round));
	const char *b = pt_key(pt_str("b%d", round));
	const char *m = pt_key(pt_str("m%d", round));

	pt_set(c, a, 0, "1");
	pt_set(c, b, 0, "2");
	pt_set(c, a, 0, "3");
	pt_cmd(c, pt_str("get %s %s %s\r\n", a, m, b),
	       pt_str("VALUE %s 0 1\r\n3\r\nVALUE %s 0 1\r\n2\r\nEND\r\n",
		      a, b));
	pt_cmd(c, pt_str("gets %s\r\n", m), "END\r\n");
	pt_cmd(c, pt_str("delete %s\r\n", b), "DELETED\r\n");
	pt_cmd(c, pt_str("get %s\r\n", a),
	       pt_str("VALUE %s 0 1\r\n3\r\nEND\r\n", a));
	return !tap_failed();
}

static void t_stats_deltas(struct conn *c)
{
	static const int64_t want[NDELTA] = { 5, 3, 2, 1, 3, 3 };
	uint64_t before[NDELTA] = { 0 }, after[NDELTA] = { 0 };
	int round;
	size_t i;
	bool ok = false;

	for (round = 0; round < DELTA_TRIES && !ok && !tap_failed(); round++) {
		read_counters(c, before);
		stats_round(c, round);
		if (!read_counters(c, after))
			break;
		ok = true;
		for (i = 0; i < NDELTA; i++)
			ok &= (int64_t)(after[i] - before[i]) == want[i];
	}
	for (i = 0; !ok && !tap_failed() && i < NDELTA; i++)
		if ((int64_t)(after[i] - before[i]) != want[i])
			tap_fail("%s moved by %" PRId64 ", expected %" PRId64,
				 delta_names[i],
				 (int64_t)(after[i] - before[i]), want[i]);
}

/* Open one more connection; true when both counters moved by one. */
static bool connection_counted(struct conn *c)
{
	uint64_t cur0 = 0, tot0 = 0, cur1 = 0, tot1 = 0;
	struct sbuf st;
	struct conn c2;
	int err;

	sbuf_init(&st);
	pt_stats(c, NULL, &st);
	pt_stat_u64(&st, "curr_connections", &cur0);
	pt_stat_u64(&st, "total_connections", &tot0);
	err = conn_open(&c2);
	pt_check(!err, "second connection failed: %s", strerror(-err));
	/* A reply proves the server has accepted the connection. */
	pt_cmd(&c2, "get\r\n", "ERROR\r\n");
	st.len = 0;
	pt_stats(c, NULL, &st);
	pt_stat_u64(&st, "curr_connections", &cur1);
	pt_stat_u64(&st, "total_connections", &tot1);
	conn_close(&c2);
	sbuf_free(&st);
	if (cur1 == cur0 + 1 && tot1 == tot0 + 1)
		return true;
	tap_diag("curr_connections %" PRIu64 " -> %" PRIu64
		 ", total_connections %" PRIu64 " -> %" PRIu64
		 " after one connect", cur0, cur1, tot0, tot1);
	return false;
}

static void t_stats_connections(struct conn *c)
{
	int i;

	/*
	 * Connections closed by earlier tests may still be on their way
	 * out of curr_connections: let them settle, and retry.
	 */
	for (i = 0; i < DELTA_TRIES && !tap_failed(); i++) {
		pt_msleep(20);
		if (connection_counted(c))
			return;
	}
	pt_check(false, "connection counters did not move by one");
}

static void t_stats_gat_counts_as_touch(struct conn *c)
{
	static const char *const names[] = {
		"cmd_get", "cmd_touch", "touch_hits", "touch_misses",
	};
	uint64_t b[4] = { 0 }, a[4] = { 0 };
	const char *k = pt_key("k");
	struct sbuf st;
	int i;

	pt_set(c, k, 0, "v");
	sbuf_init(&st);
	pt_stats(c, NULL, &st);
	for (i = 0; i < 4; i++)
		pt_stat_u64(&st, names[i], &b[i]);
	/* memcached counts gat keys under cmd_touch, not cmd_get. */
	pt_cmd(c, pt_str("gat 0 %s %s\r\n", k, pt_key("none")),
	       pt_str("VALUE %s 0 1\r\nv\r\nEND\r\n", k));
	pt_cmd(c, pt_str("touch %s 0\r\n", k), "TOUCHED\r\n");
	st.len = 0;
	pt_stats(c, NULL, &st);
	for (i = 0; i < 4; i++)
		pt_stat_u64(&st, names[i], &a[i]);
	pt_check(a[0] == b[0] && a[1] == b[1] + 3 && a[2] == b[2] + 2 &&
		 a[3] == b[3] + 1,
		 "cmd_get +%" PRIu64 " cmd_touch +%" PRIu64 " touch_hits +%"
		 PRIu64 " touch_misses +%" PRIu64 ", expected +0 +3 +2 +1",
		 a[0] - b[0], a[1] - b[1], a[2] - b[2], a[3] - b[3]);
	sbuf_free(&st);
}

static void t_stats_settings(struct conn *c)
{
	static const char *const names[] = {
		"maxbytes", "maxconns", "tcpport", "udpport", "evictions",
		"growth_factor", "item_size_max", "num_threads", NULL,
	};
	struct sbuf st;
	uint64_t v = 0;

	sbuf_init(&st);
	pt_stats(c, "settings", &st);
	require_stats(&st, names);
	pt_stat_u64(&st, "tcpport", &v);
	pt_check(v == pt_opts.tcp_port, "tcpport %" PRIu64 ", we use %u", v,
		 pt_opts.tcp_port);
	pt_stat_u64(&st, "udpport", &v);
	pt_check(!pt_opts.udp_port || v == pt_opts.udp_port,
		 "udpport %" PRIu64 ", we use %u", v, pt_opts.udp_port);
	pt_stat_u64(&st, "item_size_max", &v);
	pt_check(v >= 1024, "item_size_max %" PRIu64, v);
	sbuf_free(&st);
}

static void t_stats_items(struct conn *c)
{
	const char *p, *end;
	struct sbuf st;

	pt_set(c, pt_key("k"), 0, "v");
	sbuf_init(&st);
	pt_stats(c, "items", &st);
	pt_check(st.len > 0, "no STAT lines with an item stored");
	/* Every line is "STAT items:<class>:<name> <value>". */
	end = st.data + st.len;
	p = st.data;
	while (p && p < end && !tap_failed()) {
		pt_check(!strncmp(p, "STAT items:", 11),
			 "line does not start with \"STAT items:\": %.40s", p);
		p = memchr(p, '\n', (size_t)(end - p));
		if (p)
			p++;
	}
	sbuf_free(&st);
}

static void t_stats_slabs(struct conn *c)
{
	struct sbuf st;
	uint64_t v = 0;

	pt_set(c, pt_key("k"), 0, "v");
	sbuf_init(&st);
	pt_stats(c, "slabs", &st);
	pt_stat_u64(&st, "active_slabs", &v);
	pt_check(v >= 1, "active_slabs is 0 with an item stored");
	pt_stat_u64(&st, "total_malloced", &v);
	pt_check(v > 0, "total_malloced is 0 with an item stored");
	sbuf_free(&st);
}

static void t_stats_nonsense(struct conn *c)
{
	pt_cmd(c, "stats nonsense\r\n", "ERROR\r\n");
	pt_cmd(c, "stats nonsense with args\r\n", "ERROR\r\n");
}

static const struct pt_test tests[] = {
	{ "version", t_version, 0 },
	{ "verbosity", t_verbosity, 0 },
	{ "quit", t_quit, 0 },
	{ "quit_pipelined", t_quit_pipelined, 0 },
	{ "unknown_command", t_unknown_command, 0 },
	{ "empty_line", t_empty_line, 0 },
	{ "stats", t_stats, 0 },
	{ "stats_deltas", t_stats_deltas, 0 },
	{ "stats_connections", t_stats_connections, 0 },
	{ "stats_gat_counts_as_touch", t_stats_gat_counts_as_touch, 0 },
	{ "stats_settings", t_stats_settings, 0 },
	{ "stats_items", t_stats_items, 0 },
	{ "stats_slabs", t_stats_slabs, 0 },
	{ "stats_nonsense", t_stats_nonsense, 0 },
};

const struct pt_group pt_group_admin = PT_GROUP("admin", tests);
