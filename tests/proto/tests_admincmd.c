// SPDX-License-Identifier: GPL-2.0
/*
 * memcached's admin commands: shutdown (not enabled), cache_memlimit,
 * slabs reassign/automove, lru_crawler (metadump), stats sizes, stats
 * conns, and the settings they show (the whole "stats settings" list:
 * tests_settings.c). Written against memcached 1.6.18
 * started without -A and -X; only what both servers must answer alike is
 * checked (item sizes and slab class numbers differ between them).
 */
#include <arpa/inet.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "prototest.h"

/* lines of a metadump the tests look through at most */
#define DUMP_MAX_LINES 2000000
/* keys of the streaming test: 250 bytes, most of them uri-encoded */
#define DUMP_KEYS 400

static void t_shutdown_disabled(struct conn *c)
{
	pt_cmd(c, "shutdown\r\n", "ERROR: shutdown not enabled\r\n");
	pt_cmd(c, "shutdown graceful\r\n", "ERROR: shutdown not enabled\r\n");
	pt_cmd(c, "shutdown bogus\r\n", "ERROR: shutdown not enabled\r\n");
}

/* send @req then "version": its reply must be the only one */
static void version_after(struct conn *c, const char *req)
{
	struct sbuf line;

	sbuf_init(&line);
	pt_line_prefix(c, pt_str("%sversion\r\n", req), "VERSION ", &line);
	sbuf_free(&line);
}

static bool read_setting(struct conn *c, const char *name, uint64_t *v)
{
	struct sbuf st;
	bool ok;

	sbuf_init(&st);
	ok = pt_stats(c, "settings", &st) && pt_stat_u64(&st, name, v);
	sbuf_free(&st);
	return ok;
}

static void t_cache_memlimit(struct conn *c)
{
	uint64_t orig = 0, now = 0, limit = 0;
	struct sbuf st;

	pt_cmd(c, "cache_memlimit\r\n", "ERROR\r\n");
	pt_cmd(c, "cache_memlimit 1 2 3\r\n", "ERROR\r\n");
	pt_cmd(c, "cache_memlimit x\r\n", "ERROR\r\n");
	pt_cmd(c, "cache_memlimit -5\r\n", "ERROR\r\n");
	pt_cmd(c, "cache_memlimit 7\r\n",
	       "MEMLIMIT_TOO_SMALL cannot set maxbytes to less than 8m\r\n");
	pt_cmd(c, "cache_memlimit 1000000001\r\n",
	       "MEMLIMIT_ADJUST_FAILED input value is megabytes not bytes\r\n");
	if (!read_setting(c, "maxbytes", &orig))
		return;
	/* below 8 MB (--evict runs) it could not be set back */
	if (orig < 8 * 1048576) {
		tap_diag("maxbytes %" PRIu64 " below 8 MB: not changed", orig);
		return;
	}
	/* raise it by one MB: the limit moves, nothing else happens */
	pt_cmd(c, pt_str("cache_memlimit %" PRIu64 "\r\n",
			 orig / 1048576 + 1), "OK\r\n");
	read_setting(c, "maxbytes", &now);
	pt_check(now == (orig / 1048576 + 1) * 1048576,
		 "maxbytes %" PRIu64 " after cache_memlimit", now);
	sbuf_init(&st);
	if (pt_stats(c, NULL, &st) && pt_stat_u64(&st, "limit_maxbytes",
						  &limit))
		pt_check(limit == now, "limit_maxbytes %" PRIu64
			 " is not maxbytes %" PRIu64, limit, now);
	sbuf_free(&st);
	/* noreply, and back to what it was */
	version_after(c, pt_str("cache_memlimit %" PRIu64 " noreply\r\n",
				orig / 1048576));
	read_setting(c, "maxbytes", &now);
	pt_check(now == orig / 1048576 * 1048576,
		 "maxbytes %" PRIu64 " not restored to %" PRIu64, now, orig);
}

static void t_slabs_reassign_errors(struct conn *c)
{
	pt_cmd(c, "slabs\r\n", "ERROR\r\n");
	pt_cmd(c, "slabs foo\r\n", "ERROR\r\n");
	pt_cmd(c, "slabs reassign\r\n", "ERROR\r\n");
	pt_cmd(c, "slabs reassign 1\r\n", "ERROR\r\n");
	pt_cmd(c, "slabs reassign 1 2 3\r\n", "ERROR\r\n");
	pt_cmd(c, "slabs reassign x 2\r\n",
	       "CLIENT_ERROR bad command line format\r\n");
	pt_cmd(c, "slabs reassign 1 y\r\n",
	       "CLIENT_ERROR bad command line format\r\n");
	pt_cmd(c, "slabs reassign 3 3\r\n",
	       "SAME src and dst class are identical\r\n");
	pt_cmd(c, "slabs reassign 200 1\r\n",
	       "BADCLASS invalid src or dst class id\r\n");
	pt_cmd(c, "slabs reassign 1 200\r\n",
	       "BADCLASS invalid src or dst class id\r\n");
	pt_cmd(c, "slabs reassign -2 1\r\n",
	       "BADCLASS invalid src or dst class id\r\n");
	/* memcached's global page pool (class 0) has nothing to give */
	pt_cmd(c, "slabs reassign 0 1\r\n",
	       "NOSPARE source class has no spare pages\r\n");
}

static void t_slabs_automove(struct conn *c)
{
	uint64_t orig = 0, v = 0;

	if (!read_setting(c, "slab_automove", &orig))
		return;
	pt_cmd(c, "slabs automove\r\n", "ERROR\r\n");
	pt_cmd(c, "slabs automove 3\r\n", "ERROR\r\n");
	pt_cmd(c, "slabs automove x\r\n",
	       "CLIENT_ERROR bad command line format\r\n");
	pt_cmd(c, "slabs automove -1\r\n",
	       "CLIENT_ERROR bad command line format\r\n");
	pt_cmd(c, "slabs automove 2\r\n", "OK\r\n");
	read_setting(c, "slab_automove", &v);
	pt_check(v == 2, "slab_automove is %" PRIu64 ", not 2", v);
	pt_cmd(c, "slabs automove 0 noreply\r\nslabs automove 3\r\n",
	       "ERROR\r\n");
	read_setting(c, "slab_automove", &v);
	pt_check(v == 0, "slab_automove is %" PRIu64 " after noreply 0", v);
	pt_cmd(c, pt_str("slabs automove %" PRIu64 "\r\n", orig), "OK\r\n");
}

static void t_lru_crawler_args(struct conn *c)
{
	struct sbuf line;

	pt_cmd(c, "lru_crawler\r\n", "ERROR\r\n");
	pt_cmd(c, "lru_crawler bogus\r\n", "ERROR\r\n");
	pt_cmd(c, "lru_crawler bogus 1\r\n", "ERROR\r\n");
	pt_cmd(c, "lru_crawler sleep\r\n", "ERROR\r\n");
	pt_cmd(c, "lru_crawler sleep x\r\n",
	       "CLIENT_ERROR bad command line format\r\n");
	pt_cmd(c, "lru_crawler sleep 1000001\r\n",
	       "CLIENT_ERROR sleep must be one second or less\r\n");
	pt_cmd(c, "lru_crawler sleep 100\r\n", "OK\r\n");
	pt_cmd(c, "lru_crawler tocrawl x\r\n",
	       "CLIENT_ERROR bad command line format\r\n");
	pt_cmd(c, "lru_crawler tocrawl 0\r\n", "OK\r\n");
	pt_cmd(c, "lru_crawler crawl 0\r\n", "BADCLASS invalid class id\r\n");
	pt_cmd(c, "lru_crawler crawl 64\r\n", "BADCLASS invalid class id\r\n");
	pt_cmd(c, "lru_crawler crawl 1,x\r\n",
	       "BADCLASS invalid class id\r\n");
	pt_cmd(c, "lru_crawler metadump 0\r\n",
	       "BADCLASS invalid class id\r\n");
	pt_cmd(c, "lru_crawler metadump 1,64\r\n",
	       "BADCLASS invalid class id\r\n");
	/* memcached may still be busy with another crawl */
	sbuf_init(&line);
	if (pt_send(c, "lru_crawler crawl all\r\n", 23) &&
	    !conn_read_line(c, &line))
		pt_check(!strcmp(line.data, "OK\r\n") ||
			 !strcmp(line.data, "BUSY currently processing "
				 "crawler request\r\n"),
			 "crawl all: %s", line.data);
	sbuf_free(&line);
}

/* wait (up to 2 s) for "stats settings" to say lru_crawler @want */
static bool crawler_is(struct conn *c, const char *want)
{
	struct sbuf st;
	const char *s;
	size_t n;
	bool is = false;
	int i;

	for (i = 0; i < 20 && !is && !tap_failed(); i++) {
		if (i)
			pt_msleep(100);
		sbuf_init(&st);
		if (pt_stats(c, "settings", &st) &&
		    pt_stat_find(&st, "lru_crawler", &s, &n))
			is = n == strlen(want) && !memcmp(s, want, n);
		sbuf_free(&st);
	}
	return is;
}

static void t_lru_crawler_disable(struct conn *c)
{
	pt_cmd(c, "lru_crawler disable\r\n", "OK\r\n");
	/* memcached stops its crawler thread after answering */
	pt_check(crawler_is(c, "no"), "lru_crawler not \"no\" when disabled");
	pt_cmd(c, "lru_crawler metadump all\r\n",
	       "CLIENT_ERROR lru crawler disabled\r\n");
	pt_cmd(c, "lru_crawler crawl all\r\n",
	       "CLIENT_ERROR lru crawler disabled\r\n");
	/* disabling twice is fine; enabling twice is not */
	pt_cmd(c, "lru_crawler disable\r\n", "OK\r\n");
	pt_cmd(c, "lru_crawler enable\r\n", "OK\r\n");
	pt_check(crawler_is(c, "yes"), "lru_crawler not \"yes\" once enabled");
	pt_cmd(c, "lru_crawler enable\r\n",
	       "ERROR failed to start lru crawler thread\r\n");
}

/* one parsed metadump line */
struct dump_item {
	char key[800];
	long long exp;
	unsigned long long la, cas, size;
	unsigned int cls;
	char fetch[4];
};

static bool parse_dump_line(const char *line, struct dump_item *d)
{
	return sscanf(line, "key=%799s exp=%lld la=%llu cas=%llu fetch=%3s "
		      "cls=%u size=%llu\n", d->key, &d->exp, &d->la, &d->cas,
		      d->fetch, &d->cls, &d->size) == 7;
}

/*
 * Run a metadump and call @fn for every line; checks the framing (lines
 * end with "\n" alone, the reply with "END\r\n").
 */
static void metadump(struct conn *c, const char *classes,
		     void (*fn)(const struct dump_item *d, void *arg),
		     void *arg)
{
	struct dump_item d;
	struct sbuf line;
	long i;

	if (!pt_sends(c, pt_str("lru_crawler metadump %s\r\n", classes)))
		return;
	sbuf_init(&line);
	for (i = 0; i < DUMP_MAX_LINES; i++) {
		line.len = 0;
		if (conn_read_line(c, &line)) {
			tap_fail("metadump: no END");
			break;
		}
		if (!strcmp(line.data, "END\r\n"))
			break;
		if (line.len < 2 || line.data[line.len - 2] == '\r' ||
		    !parse_dump_line(line.data, &d)) {
			tap_fail("metadump: malformed line");
			tap_diag_bytes("line", line.data, line.len);
			break;
		}
		fn(&d, arg);
	}
	sbuf_free(&line);
}

struct want_keys {
	const char *key[4];
	struct dump_item got[4];
	int seen[4];
};

static void find_keys(const struct dump_item *d, void *arg)
{
	struct want_keys *w = arg;
	int i;

	for (i = 0; i < 4; i++)
		if (w->key[i] && !strcmp(d->key, w->key[i])) {
			w->got[i] = *d;
			w->seen[i]++;
		}
}

static uint64_t server_time(struct conn *c)
{
	uint64_t t = 0;
	struct sbuf st;

	sbuf_init(&st);
	if (pt_stats(c, NULL, &st))
		pt_stat_u64(&st, "time", &t);
	sbuf_free(&st);
	return t;
}

static void t_metadump(struct conn *c)
{
	const char *plain = pt_key("plain");
	const char *odd = pt_key("a%b/c");
	const char *dead = pt_key("dead");
	struct want_keys w;
	uint64_t now, cas = 0;
	struct sbuf line;

	memset(&w, 0, sizeof(w));
	pt_set(c, plain, 0, "v");
	pt_cmd(c, pt_str("set %s 3 100 2\r\nvv\r\n", odd), "STORED\r\n");
	pt_cmd(c, pt_str("set %s 0 -1 1\r\nx\r\n", dead), "STORED\r\n");
	/* a gets reads the CAS and marks the item fetched */
	sbuf_init(&line);
	if (pt_sends(c, pt_str("gets %s\r\n", plain)) &&
	    !conn_read_line(c, &line))
		sscanf(line.data, "VALUE %*s %*u %*u %" SCNu64, &cas);
	sbuf_free(&line);
	pt_cmd(c, NULL, "v\r\nEND\r\n");
	now = server_time(c);
	w.key[0] = plain;
	/* uri-encoded as memcached does: '%' and '/' are not unreserved */
	w.key[1] = pt_key("a%25b%2Fc");
	w.key[2] = dead;
	metadump(c, "all", find_keys, &w);
	if (tap_failed())
		return;
	pt_check(w.seen[0] == 1, "%s listed %d times", plain, w.seen[0]);
	pt_check(w.seen[1] == 1, "%s listed %d times", w.key[1], w.seen[1]);
	pt_check(!w.seen[2], "an expired item was listed");
	if (tap_failed())
		return;
	pt_check(w.got[0].exp == -1, "exp=%lld for no expiry", w.got[0].exp);
	pt_check(w.got[0].cas == cas, "cas=%llu, gets said %" PRIu64,
		 w.got[0].cas, cas);
	pt_check(!strcmp(w.got[0].fetch, "yes"), "fetch=%s after a gets",
		 w.got[0].fetch);
	pt_check(!strcmp(w.got[1].fetch, "no"), "fetch=%s, never read",
		 w.got[1].fetch);
	pt_check(w.got[1].exp >= (long long)now + 95 &&
		 w.got[1].exp <= (long long)now + 101,
		 "exp=%lld for 100 s from %" PRIu64, w.got[1].exp, now);
	pt_check(w.got[0].la + 5 >= now && w.got[0].la <= now + 1,
		 "la=%llu, time is %" PRIu64, w.got[0].la, now);
	pt_check(w.got[0].cls >= 1 && w.got[0].size > 0,
		 "cls=%u size=%llu", w.got[0].cls, w.got[0].size);
	/* the connection serves commands again after END */
	pt_get_is(c, plain, 0, "v");
}

static void t_metadump_pipelined(struct conn *c)
{
	struct sbuf line;

	/* memcached refuses a metadump behind replies not yet sent */
	sbuf_init(&line);
	pt_line_prefix(c, "version\r\nlru_crawler metadump all\r\n",
		       "VERSION ", &line);
	sbuf_free(&line);
	pt_cmd(c, NULL, "ERROR cannot pipeline other commands before "
			"metadump\r\n");
	version_after(c, "");
}

struct stream_check {
	const char *prefix;
	size_t plen;
	unsigned char *seen;
	long lines;
};

static void count_keys(const struct dump_item *d, void *arg)
{
	struct stream_check *s = arg;
	unsigned int i;

	s->lines++;
	if (strncmp(d->key, s->prefix, s->plen) ||
	    sscanf(d->key + s->plen, "%u", &i) != 1 || i >= DUMP_KEYS)
		return;
	if (s->seen[i] < 255)
		s->seen[i]++;
}

/*
 * A dump larger than any output buffer: 400 keys of 250 bytes, most of
 * them "%2F", so about 330 KB of lines. Every key exactly once.
 */
static void t_metadump_stream(struct conn *c)
{
	unsigned char seen[DUMP_KEYS] = { 0 };
	struct stream_check s = { .seen = seen };
	struct sbuf req, key;
	int i, missing = 0;

	s.prefix = pt_key("");
	s.plen = strlen(s.prefix);
	sbuf_init(&req);
	sbuf_init(&key);
	for (i = 0; i < DUMP_KEYS; i++) {
		key.len = 0;
		sbuf_addf(&key, "%s%05d", pt_key(""), i);
		while (key.len < 250)
			sbuf_add(&key, "/", 1);
		sbuf_addf(&req, "set %.*s 0 0 1 noreply\r\nx\r\n",
			  (int)key.len, key.data);
	}
	sbuf_add(&req, "", 1);
	version_after(c, req.data);
	sbuf_free(&req);
	sbuf_free(&key);
	if (tap_failed())
		return;
	metadump(c, "all", count_keys, &s);
	if (tap_failed())
		return;
	for (i = 0; i < DUMP_KEYS; i++) {
		pt_check(seen[i] <= 1, "key %d listed %d times", i, seen[i]);
		missing += !seen[i];
	}
	/* with a tiny -m the keys may evict each other */
	if (!pt_opts.evict)
		pt_check(!missing, "%d of %d keys not listed", missing,
			 DUMP_KEYS);
	pt_check(s.lines >= DUMP_KEYS - missing, "only %ld lines", s.lines);
}

/* sum of the counts of "stats sizes", and how many buckets */
static bool sizes_sum(struct conn *c, uint64_t *sum, int *buckets)
{
	struct sbuf st;
	char *p, *end;

	*sum = 0;
	*buckets = 0;
	sbuf_init(&st);
	if (!pt_stats(c, "sizes", &st)) {
		sbuf_free(&st);
		return false;
	}
	sbuf_add(&st, "", 1);
	for (p = st.data; (end = strstr(p, "\r\n")); p = end + 2) {
		unsigned long long size, n;

		if (sscanf(p, "STAT %llu %llu", &size, &n) != 2) {
			tap_fail("stats sizes: unexpected line");
			tap_diag_bytes("line", p, (size_t)(end - p));
			break;
		}
		pt_check(size % 32 == 0, "bucket %llu is not 32-byte", size);
		*sum += n;
		(*buckets)++;
	}
	sbuf_free(&st);
	return !tap_failed();
}

static void t_stats_sizes(struct conn *c)
{
	uint64_t sum = 0;
	int buckets = 0, i;

	pt_cmd(c, "stats sizes_disable\r\n", "STAT sizes_status disabled\r\n");
	pt_cmd(c, "stats sizes\r\n",
	       "STAT sizes_status disabled\r\nEND\r\n");
	/* no END after these two, as memcached */
	pt_cmd(c, "stats sizes_enable\r\n", "STAT sizes_status enabled\r\n");
	sizes_sum(c, &sum, &buckets);
	pt_check(!sum, "%" PRIu64 " items counted before any was stored",
		 sum);
	for (i = 0; i < 3; i++)
		pt_set(c, pt_key(pt_str("k%d", i)), 0, "0123456789");
	sizes_sum(c, &sum, &buckets);
	pt_check(sum == 3 && buckets == 1,
		 "3 items of one size: %" PRIu64 " in %d buckets", sum,
		 buckets);
	/* enabling again keeps the counts */
	pt_cmd(c, "stats sizes_enable\r\n", "STAT sizes_status enabled\r\n");
	pt_cmd(c, pt_str("delete %s\r\n", pt_key("k0")), "DELETED\r\n");
	/* a replaced item leaves its bucket for the new one's */
	pt_set(c, pt_key("k1"), 0, "0123456789");
	sizes_sum(c, &sum, &buckets);
	pt_check(sum == 2 && buckets == 1,
		 "after a delete: %" PRIu64 " in %d buckets", sum, buckets);
	pt_cmd(c, "stats sizes_disable\r\n", "STAT sizes_status disabled\r\n");
	pt_cmd(c, "stats sizes\r\n",
	       "STAT sizes_status disabled\r\nEND\r\n");
}

/* the id "stats conns" gives the connection @c2 ("" when not listed) */
static int conn_id(const struct sbuf *st, const struct conn *c2)
{
	struct sockaddr_in me;
	socklen_t len = sizeof(me);
	const char *want, *p, *end;
	char name[64];
	int id = -1, i;

	if (getsockname(c2->fd, (struct sockaddr *)&me, &len))
		return -1;
	want = pt_str("tcp:%s:%u", pt_opts.host, ntohs(me.sin_port));
	for (p = st->data; (end = strstr(p, "\r\n")); p = end + 2)
		if (sscanf(p, "STAT %d:addr %63s", &i, name) == 2 &&
		    !strcmp(name, want))
			id = i;
	return id;
}

static bool conn_stat_is(const struct sbuf *st, int id, const char *name,
			 const char *want)
{
	const char *v;
	size_t n;

	return pt_stat_find(st, pt_str("%d:%s", id, name), &v, &n) &&
	       n == strlen(want) && !memcmp(v, want, n);
}

static void t_stats_conns(struct conn *c)
{
	struct conn idle, nread;
	struct sbuf st;
	int id, id_idle, id_nread;
	const char *v;
	size_t n;

	if (conn_open(&idle) || conn_open(&nread)) {
		tap_fail("cannot open more connections");
		return;
	}
	version_after(&idle, "");
	/* a value half sent */
	pt_sends(&nread, pt_str("set %s 0 0 10\r\nabc", pt_key("k")));
	pt_msleep(200);
	sbuf_init(&st);
	if (!pt_stats(c, "conns", &st))
		goto out;
	sbuf_add(&st, "", 1);
	id = conn_id(&st, c);
	id_idle = conn_id(&st, &idle);
	id_nread = conn_id(&st, &nread);
	pt_check(id >= 0 && id_idle >= 0 && id_nread >= 0,
		 "connections not listed by their address");
	pt_check(strstr(st.data, ":state conn_listening\r\n") != NULL,
		 "no listener");
	if (tap_failed())
		goto out;
	pt_check(conn_stat_is(&st, id, "state", "conn_parse_cmd"),
		 "the asking connection is not conn_parse_cmd");
	pt_check(conn_stat_is(&st, id_idle, "state", "conn_read"),
		 "an idle connection is not conn_read");
	pt_check(conn_stat_is(&st, id_nread, "state", "conn_nread"),
		 "a connection inside a value is not conn_nread");
	pt_check(conn_stat_is(&st, id, "listen_addr",
			      pt_str("tcp:%s:%u", pt_opts.host,
				     pt_opts.tcp_port)),
		 "listen_addr is not the server's address");
	pt_check(pt_stat_find(&st, pt_str("%d:secs_since_last_cmd", id), &v,
			      &n) && n == 1 && (*v == '0' || *v == '1'),
		 "secs_since_last_cmd not 0 on an active connection");
out:
	sbuf_free(&st);
	conn_close(&idle);
	conn_close(&nread);
}

static const struct pt_test tests[] = {
	{ "shutdown_disabled", t_shutdown_disabled, 0 },
	{ "cache_memlimit", t_cache_memlimit, 0 },
	{ "slabs_reassign_errors", t_slabs_reassign_errors, 0 },
	{ "slabs_automove", t_slabs_automove, 0 },
	{ "lru_crawler_args", t_lru_crawler_args, 0 },
	{ "lru_crawler_disable", t_lru_crawler_disable, 0 },
	{ "metadump", t_metadump, 0 },
	{ "metadump_pipelined", t_metadump_pipelined, 0 },
	{ "metadump_stream", t_metadump_stream, 0 },
	{ "stats_sizes", t_stats_sizes, 0 },
	{ "stats_conns", t_stats_conns, 0 },
};

const struct pt_group pt_group_admincmd = PT_GROUP("admincmd", tests);
