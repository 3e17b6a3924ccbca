// SPDX-License-Identifier: GPL-2.0
/*
 * stats_settings.c - "stats settings": memcached 1.6.18's list, complete,
 * in its order, as a memcached built without extstore and TLS prints it
 * (its ext_* lines, slab_automove_freeratio among them, and its ssl_*
 * lines are compiled in only with those; so are drop_privileges and the
 * proxy's two lines, which Debian's build lacks too).
 *
 * Each line says what xkv does. A tunable of a feature xkv does not have
 * (segmented LRU, temporary LRU, loggers, automover, detail stats, unix
 * socket) shows the value memcached runs with by default, since nothing
 * in xkv sets it (README lists them). xkv's own slab_page_size and
 * lru_policy come last.
 */
#include "slab.h"
#include "stats.h"

/*
 * memcached's relative clock counts from process_started, which it sets
 * ITEM_UPDATE_INTERVAL (60 s) plus 2 s before it really started, so that
 * a relative time is never 0; "oldest" is printed on that clock.
 */
#define MC_CLOCK_EARLY 62

/* memcached's defaults for what xkv has no setting of */
#define MC_UMASK "700"
#define MC_PREFIX ":"
#define MC_REQS_PER_EVENT 20
#define MC_AUTOMOVE_RATIO "0.80"
#define MC_AUTOMOVE_WINDOW 30
#define MC_HOT_LRU_PCT 20
#define MC_WARM_LRU_PCT 40
#define MC_HOT_MAX_FACTOR "0.20"
#define MC_WARM_MAX_FACTOR "2.00"
#define MC_TEMPORARY_TTL 61
#define MC_WATCHER_LOGBUF (256 * 1024)
#define MC_WORKER_LOGBUF (64 * 1024)

/* xkv_hash() (util.c): xkv's own 64-bit multiply-rotate hash */
#define XKV_HASH_NAME "xkv64"

static const char *yes_no(bool v)
{
	return v ? "yes" : "no";
}

/* memcached's settings.oldest_live, on its relative clock */
static u64 oldest_live(const struct xkv_store *st)
{
	u64 at = (u64)os_atomic64_read(&st->oldest);
	u64 base = st->started - MC_CLOCK_EARLY;

	return at > base ? at - base : 0;
}

/* maxbytes .. num_threads_per_udp: memory, sockets, threads */
static void settings_server(struct xkv_store *st, struct xkv_buf *out)
{
	const struct xkv_settings *s = &st->set;
	char v[32];

	xkv_stat_u64(out, "maxbytes", OS_READ_ONCE(st->set.maxbytes));
	xkv_stat_u64(out, "maxconns", s->maxconns);
	xkv_stat_u64(out, "tcpport", s->tcp_port);
	xkv_stat_u64(out, "udpport", s->udp_port);
	xkv_stat_str(out, "inter", s->listen[0] ? s->listen : "NULL");
	xkv_stat_u64(out, "verbosity", (u64)OS_READ_ONCE(st->set.verbose));
	xkv_stat_u64(out, "oldest", oldest_live(st));
	xkv_stat_str(out, "evictions", "on");
	/* no unix socket: memcached prints NULL when it has none */
	xkv_stat_str(out, "domain_socket", "NULL");
	xkv_stat_str(out, "umask", MC_UMASK);
	xkv_stat_str(out, "shutdown_command", yes_no(s->shutdown_command));
	os_snprintf(v, sizeof(v), "%u.%02u", s->growth_x100 / 100,
		    s->growth_x100 % 100);
	xkv_stat_str(out, "growth_factor", v);
	xkv_stat_u64(out, "chunk_size", s->chunk_min);
	xkv_stat_u64(out, "num_threads", s->threads);
	/* every worker takes datagrams from the one UDP socket */
	xkv_stat_u64(out, "num_threads_per_udp", s->threads);
}

/* stat_key_prefix .. hashpower_init: protocol and limits */
static void settings_proto(struct xkv_store *st, struct xkv_buf *out)
{
	const struct xkv_settings *s = &st->set;

	xkv_stat_str(out, "stat_key_prefix", MC_PREFIX);
	xkv_stat_str(out, "detail_enabled", "no");
	xkv_stat_u64(out, "reqs_per_event", MC_REQS_PER_EVENT);
	xkv_stat_str(out, "cas_enabled", "yes");
	xkv_stat_u64(out, "tcp_backlog", XKV_LISTEN_BACKLOG);
	/* memcached: both protocols by default, one alone with -S or -Y */
	xkv_stat_str(out, "binding_protocol", s->sasl ? "binary" :
		     s->auth_file ? "ascii" : "auto-negotiate");
	xkv_stat_str(out, "auth_enabled_sasl", yes_no(s->sasl));
	/* memcached prints the -Y file's name */
	xkv_stat_str(out, "auth_enabled_ascii",
		     s->auth_file ? s->auth_file : "no");
	xkv_stat_u64(out, "item_size_max", s->item_size_max);
	/* at the limit a client gets an ERROR and is closed (accept.c) */
	xkv_stat_str(out, "maxconns_fast", "yes");
	xkv_stat_u64(out, "hashpower_init", s->hash_power);
}

/* slab_reassign .. hash_algorithm: slabs, crawler, admin switches */
static void settings_slabs(struct xkv_store *st, struct xkv_buf *out)
{
	const struct xkv_settings *s = &st->set;
	const struct xkv_admin *adm = &st->adm;

	xkv_stat_str(out, "slab_reassign", "yes");
	xkv_stat_u64(out, "slab_automove", OS_READ_ONCE(adm->automove));
	xkv_stat_str(out, "slab_automove_ratio", MC_AUTOMOVE_RATIO);
	xkv_stat_u64(out, "slab_automove_window", MC_AUTOMOVE_WINDOW);
	/* an item is one chunk: the largest class's */
	xkv_stat_u64(out, "slab_chunk_max", st->cls[st->nclasses - 1].size);
	xkv_stat_str(out, "lru_crawler",
		     yes_no(!OS_READ_ONCE(adm->crawler_off)));
	xkv_stat_u64(out, "lru_crawler_sleep",
		     OS_READ_ONCE(adm->crawler_sleep));
	xkv_stat_u64(out, "lru_crawler_tocrawl",
		     OS_READ_ONCE(adm->crawler_tocrawl));
	/* no tail repair: an item in use is never taken back by force */
	xkv_stat_u64(out, "tail_repair_time", 0);
	xkv_stat_str(out, "flush_enabled", "yes");
	xkv_stat_str(out, "dump_enabled", yes_no(!s->dump_disabled));
	xkv_stat_str(out, "hash_algorithm", XKV_HASH_NAME);
}

/* lru_maintainer_thread .. memory_file: LRU, loggers, buffers */
static void settings_lru(struct xkv_store *st, struct xkv_buf *out)
{
	const struct xkv_admin *adm = &st->adm;

	xkv_stat_str(out, "lru_maintainer_thread", "no");
	xkv_stat_str(out, "lru_segmented", "no");
	xkv_stat_u64(out, "hot_lru_pct", MC_HOT_LRU_PCT);
	xkv_stat_u64(out, "warm_lru_pct", MC_WARM_LRU_PCT);
	xkv_stat_str(out, "hot_max_factor", MC_HOT_MAX_FACTOR);
	xkv_stat_str(out, "warm_max_factor", MC_WARM_MAX_FACTOR);
	xkv_stat_str(out, "temp_lru", "no");
	xkv_stat_u64(out, "temporary_ttl", MC_TEMPORARY_TTL);
	xkv_stat_u64(out, "idle_timeout", st->set.idle_timeout);
	xkv_stat_u64(out, "watcher_logbuf_size", MC_WATCHER_LOGBUF);
	xkv_stat_u64(out, "worker_logbuf_size", MC_WORKER_LOGBUF);
	xkv_stat_u64(out, "read_buf_mem_limit", xkv_store_budget(st)->limit);
	xkv_stat_str(out, "track_sizes",
		     yes_no((u64)os_atomic64_read(&adm->sizes_cas_min) !=
			    XKV_SIZES_OFF));
	xkv_stat_str(out, "inline_ascii_response", "no");
	/* memcached prints its NULL pointers through printf's "%s" */
	xkv_stat_str(out, "num_napi_ids", "(null)");
	xkv_stat_str(out, "memory_file", "(null)");
}

void xkv_stats_settings(struct xkv_store *st, struct xkv_buf *out)
{
	settings_server(st, out);
	settings_proto(st, out);
	settings_slabs(st, out);
	settings_lru(st, out);
	/* xkv's own */
	xkv_stat_u64(out, "slab_page_size", st->page_size);
	xkv_stat_str(out, "lru_policy", "clock");
	xkv_buf_str(out, "END\r\n");
}
