// SPDX-License-Identifier: GPL-2.0
/*
 * tests_settings.c - "stats settings": memcached 1.6.18's complete list of
 * keys, in its order, and the values both servers must show alike.
 * Written against memcached 1.6.18 started without -A and -X.
 *
 * memcached prints its extstore lines (ext_*, slab_automove_freeratio
 * among them) and its TLS lines (ssl_*) only when built with them:
 * Debian's build prints both blocks, xkv neither. Only memcached may
 * print them, each block whole and in its place; only xkv (its version
 * says "-xkv") prints slab_page_size and lru_policy, after the rest.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "prototest.h"

#define SETTINGS_MAX 128
#define NAME_MAX_LEN 64

/* up to and including inline_ascii_response */
static const char *const keys_head[] = {
	"maxbytes", "maxconns", "tcpport", "udpport", "inter", "verbosity",
	"oldest", "evictions", "domain_socket", "umask", "shutdown_command",
	"growth_factor", "chunk_size", "num_threads", "num_threads_per_udp",
	"stat_key_prefix", "detail_enabled", "reqs_per_event", "cas_enabled",
	"tcp_backlog", "binding_protocol", "auth_enabled_sasl",
	"auth_enabled_ascii", "item_size_max", "maxconns_fast",
	"hashpower_init", "slab_reassign", "slab_automove",
	"slab_automove_ratio", "slab_automove_window", "slab_chunk_max",
	"lru_crawler", "lru_crawler_sleep", "lru_crawler_tocrawl",
	"tail_repair_time", "flush_enabled", "dump_enabled", "hash_algorithm",
	"lru_maintainer_thread", "lru_segmented", "hot_lru_pct",
	"warm_lru_pct", "hot_max_factor", "warm_max_factor", "temp_lru",
	"temporary_ttl", "idle_timeout", "watcher_logbuf_size",
	"worker_logbuf_size", "read_buf_mem_limit", "track_sizes",
	"inline_ascii_response", NULL,
};

/* memcached built with extstore */
static const char *const keys_ext[] = {
	"ext_item_size", "ext_item_age", "ext_low_ttl", "ext_recache_rate",
	"ext_wbuf_size", "ext_compact_under", "ext_drop_under",
	"ext_max_sleep", "ext_max_frag", "slab_automove_freeratio",
	"ext_drop_unread", NULL,
};

/* memcached built with TLS */
static const char *const keys_ssl[] = {
	"ssl_enabled", "ssl_chain_cert", "ssl_key", "ssl_verify_mode",
	"ssl_keyformat", "ssl_ciphers", "ssl_ca_cert", "ssl_wbuf_size",
	"ssl_session_cache", "ssl_kernel_tls", "ssl_min_version", NULL,
};

static const char *const keys_tail[] = { "num_napi_ids", "memory_file", NULL };

static const char *const keys_xkv[] = { "slab_page_size", "lru_policy", NULL };

struct setting {
	const char *name, *val;
};

/* the same on both servers at their defaults (no -A, no -X) */
static const struct setting same[] = {
	{ "evictions", "on" },
	{ "domain_socket", "NULL" },
	{ "umask", "700" },
	{ "shutdown_command", "no" },
	{ "stat_key_prefix", ":" },
	{ "detail_enabled", "no" },
	{ "reqs_per_event", "20" },
	{ "cas_enabled", "yes" },
	{ "tcp_backlog", "1024" },
	{ "maxconns_fast", "yes" },
	{ "slab_reassign", "yes" },
	{ "slab_automove_ratio", "0.80" },
	{ "slab_automove_window", "30" },
	{ "lru_crawler", "yes" },
	{ "tail_repair_time", "0" },
	{ "flush_enabled", "yes" },
	{ "dump_enabled", "yes" },
	{ "hot_lru_pct", "20" },
	{ "warm_lru_pct", "40" },
	{ "hot_max_factor", "0.20" },
	{ "warm_max_factor", "2.00" },
	{ "temp_lru", "no" },
	{ "temporary_ttl", "61" },
	{ "watcher_logbuf_size", "262144" },
	{ "worker_logbuf_size", "65536" },
	{ "track_sizes", "no" },
	{ "inline_ascii_response", "no" },
	{ "num_napi_ids", "(null)" },
	{ "memory_file", "(null)" },
};

/* xkv's answers where memcached has the feature */
static const struct setting xkv_only[] = {
	{ "hash_algorithm", "xkv64" },
	{ "lru_maintainer_thread", "no" },
	{ "lru_segmented", "no" },
	{ "lru_policy", "clock" },
};

struct names {
	char v[SETTINGS_MAX][NAME_MAX_LEN];
	size_t n;
};

/* the names of pt_stats() output, in order */
static bool split_names(const struct sbuf *st, struct names *nm)
{
	const char *p = st->data, *end = st->data + st->len, *sp, *eol;

	nm->n = 0;
	while (p && p < end) {
		eol = memchr(p, '\n', (size_t)(end - p));
		sp = memchr(p + 5, ' ', (size_t)(end - p - 5));
		if (!eol || !sp || sp > eol || sp - p - 5 >= NAME_MAX_LEN ||
		    nm->n == SETTINGS_MAX)
			return tap_fail("cannot split the settings' names");
		memcpy(nm->v[nm->n], p + 5, (size_t)(sp - p - 5));
		nm->v[nm->n++][sp - p - 5] = '\0';
		p = eol + 1;
	}
	return true;
}

/* how many of @block's names stand at @i, in order */
static size_t match(const struct names *nm, size_t i, const char *const *block)
{
	size_t k;

	for (k = 0; block[k]; k++)
		if (i + k >= nm->n || strcmp(nm->v[i + k], block[k]))
			break;
	return k;
}

/* does @block stand whole at @i? then step over it */
static bool take(const struct names *nm, size_t *i, const char *const *block)
{
	size_t k = match(nm, *i, block);

	if (block[k])
		return false;
	*i += k;
	return true;
}

/* the name where @block and the reply part at @i */
static const char *where(const struct names *nm, size_t i,
			 const char *const *block)
{
	i += match(nm, i, block);
	return i < nm->n ? nm->v[i] : "the end";
}

static bool is_xkv(struct conn *c)
{
	struct sbuf line;
	bool xkv;

	sbuf_init(&line);
	pt_line_prefix(c, "version\r\n", "VERSION ", &line);
	xkv = line.data && strstr(line.data, "-xkv");
	sbuf_free(&line);
	return xkv;
}

static void check_order(const struct names *nm, bool xkv)
{
	size_t i = 0;

	if (!pt_check(take(nm, &i, keys_head),
		      "settings: memcached's first keys: %s out of place",
		      where(nm, i, keys_head)))
		return;
	if (!xkv) {
		take(nm, &i, keys_ext);
		take(nm, &i, keys_ssl);
	}
	if (!pt_check(take(nm, &i, keys_tail),
		      "settings: %s where num_napi_ids, memory_file end",
		      where(nm, i, keys_tail)))
		return;
	if (xkv)
		pt_check(take(nm, &i, keys_xkv),
			 "settings: no slab_page_size, lru_policy at the end");
	pt_check(i == nm->n, "settings: %s after the list",
		 i < nm->n ? nm->v[i] : "nothing");
}

static bool val_is(const struct sbuf *st, const char *name, const char *want)
{
	const char *v;
	size_t n;

	return pt_check(pt_stat_find(st, name, &v, &n) &&
			n == strlen(want) && !memcmp(v, want, n),
			"settings: %s is not %s", name, want);
}

static void check_values(const struct sbuf *st, bool xkv)
{
	uint64_t threads = 0, udp = 1, isize = 0, chunk = 0;
	size_t i;

	for (i = 0; i < sizeof(same) / sizeof(same[0]); i++)
		val_is(st, same[i].name, same[i].val);
	for (i = 0; xkv && i < sizeof(xkv_only) / sizeof(xkv_only[0]); i++)
		val_is(st, xkv_only[i].name, xkv_only[i].val);
	pt_stat_u64(st, "num_threads", &threads);
	pt_stat_u64(st, "num_threads_per_udp", &udp);
	pt_check(threads == udp, "num_threads_per_udp %" PRIu64
		 ", num_threads %" PRIu64, udp, threads);
	/* memcached: half a page by default; xkv: one chunk per item */
	pt_stat_u64(st, "item_size_max", &isize);
	pt_stat_u64(st, "slab_chunk_max", &chunk);
	pt_check(xkv ? chunk >= isize : chunk == isize / 2,
		 "slab_chunk_max %" PRIu64 ", item_size_max %" PRIu64, chunk,
		 isize);
}

static void t_stats_settings_complete(struct conn *c)
{
	struct names *nm = calloc(1, sizeof(*nm));
	bool xkv = is_xkv(c);
	struct sbuf st;

	sbuf_init(&st);
	if (nm && pt_stats(c, "settings", &st) && split_names(&st, nm)) {
		check_order(nm, xkv);
		check_values(&st, xkv);
	}
	pt_check(nm != NULL, "out of memory");
	free(nm);
	sbuf_free(&st);
}

static bool read_oldest(struct conn *c, uint64_t *v)
{
	struct sbuf st;
	bool ok;

	sbuf_init(&st);
	ok = pt_stats(c, "settings", &st) && pt_stat_u64(&st, "oldest", v);
	sbuf_free(&st);
	return ok;
}

/*
 * memcached's oldest_live: a second before the last flush_all's point,
 * on its clock (seconds since it started, plus 62); a delayed flush_all
 * sets it ahead, the next flush_all back.
 */
static void t_stats_settings_oldest(struct conn *c)
{
	uint64_t now = 0, later = 0, again = 0;

	if (!pt_cmd(c, "flush_all\r\n", "OK\r\n") || !read_oldest(c, &now))
		return;
	pt_check(now >= 61, "oldest %" PRIu64 " after flush_all", now);
	if (!pt_cmd(c, "flush_all 1000\r\n", "OK\r\n") ||
	    !read_oldest(c, &later))
		return;
	pt_check(later >= now + 1000 && later <= now + 1002,
		 "oldest %" PRIu64 " after flush_all 1000, %" PRIu64
		 " before", later, now);
	if (!pt_cmd(c, "flush_all\r\n", "OK\r\n") || !read_oldest(c, &again))
		return;
	pt_check(again >= now && again <= now + 2,
		 "oldest %" PRIu64 " after flush_all again, %" PRIu64
		 " the first time", again, now);
}

static const struct pt_test tests[] = {
	{ "stats_settings_complete", t_stats_settings_complete, 0 },
	{ "stats_settings_oldest", t_stats_settings_oldest, 0 },
};

const struct pt_group pt_group_settings = PT_GROUP("settings", tests);
