// SPDX-License-Identifier: GPL-2.0
/*
 * stats.c - the "stats" reports.
 */
#include "assoc.h"
#include "slab.h"
#include "stats.h"

#define STAT_LINE 160

void xkv_stat_u64(struct xkv_buf *out, const char *name, u64 v)
{
	char line[STAT_LINE];
	int n = os_snprintf(line, sizeof(line), "STAT %s %llu\r\n", name,
			    (unsigned long long)v);

	if (n > 0 && n < STAT_LINE)
		xkv_buf_add(out, line, (size_t)n);
}

void xkv_stat_str(struct xkv_buf *out, const char *name, const char *v)
{
	char line[STAT_LINE];
	int n = os_snprintf(line, sizeof(line), "STAT %s %s\r\n", name, v);

	if (n > 0 && n < STAT_LINE)
		xkv_buf_add(out, line, (size_t)n);
}

static void stat_cls(struct xkv_buf *out, const char *group, u32 id,
		     const char *name, u64 v)
{
	char line[STAT_LINE];
	int n;

	if (group)
		n = os_snprintf(line, sizeof(line), "STAT %s:%u:%s %llu\r\n",
				group, id, name, (unsigned long long)v);
	else
		n = os_snprintf(line, sizeof(line), "STAT %u:%s %llu\r\n", id,
				name, (unsigned long long)v);
	if (n > 0 && n < STAT_LINE)
		xkv_buf_add(out, line, (size_t)n);
}

static void stat_usec(struct xkv_buf *out, const char *name, u64 us)
{
	char v[48];

	os_snprintf(v, sizeof(v), "%llu.%06llu",
		    (unsigned long long)(us / 1000000),
		    (unsigned long long)(us % 1000000));
	xkv_stat_str(out, name, v);
}

/* a counter of the store's, read once */
static void stat_count(struct xkv_buf *out, const char *name,
		       const os_atomic64_t *a)
{
	xkv_stat_u64(out, name, (u64)os_atomic64_read(a));
}

static void sum_slots(struct xkv_store *st, struct xkv_thread_stats *sum)
{
	const u64 *src;
	u64 *dst = (u64 *)sum;
	size_t n = sizeof(*sum) / sizeof(u64), i;
	u32 s;

	os_memset(sum, 0, sizeof(*sum));
	for (s = 0; s < st->nslots; s++) {
		src = (const u64 *)&st->slots[s];
		for (i = 0; i < n; i++)
			dst[i] += OS_READ_ONCE(src[i]);
	}
	/* xkv_store_peek()'s gets, kept per stripe */
	for (s = 0; s < XKV_STRIPES; s++) {
		const struct xkv_peek_stats *ps = &st->stripes[s].peek;
		u64 hits = OS_READ_ONCE(ps->hits);
		u64 misses = OS_READ_ONCE(ps->misses);

		sum->cmd_get += hits + misses;
		sum->get_hits += hits;
		sum->get_misses += misses;
		sum->get_expired += OS_READ_ONCE(ps->expired);
		sum->get_flushed += OS_READ_ONCE(ps->flushed);
		sum->bytes_written += OS_READ_ONCE(ps->bytes);
	}
}

/* per-class counters summed over all classes, read under each lock */
struct class_sums {
	u64 evicted;
	u64 evicted_unfetched;
	u64 reclaimed;
	u64 expired_unfetched;
	u64 crawler_reclaimed;
	u64 outofmemory;
};

static void sum_classes(struct xkv_store *st, struct class_sums *cs)
{
	u32 i;

	os_memset(cs, 0, sizeof(*cs));
	for (i = 0; i < st->nclasses; i++) {
		struct xkv_class *c = &st->cls[i];

		os_mutex_lock(&c->lock);
		cs->evicted += c->evicted;
		cs->evicted_unfetched += c->evicted_unfetched;
		cs->reclaimed += c->reclaimed;
		cs->expired_unfetched += c->expired_unfetched;
		cs->crawler_reclaimed += c->crawler_reclaimed;
		cs->outofmemory += c->outofmemory;
		os_mutex_unlock(&c->lock);
	}
}

static u32 log2_u64(u64 v)
{
	u32 n = 0;

	while (v > 1) {
		v >>= 1;
		n++;
	}
	return n;
}

void xkv_stats_general(struct xkv_store *st, struct xkv_buf *out)
{
	struct xkv_thread_stats t;
	struct class_sums cs;
	u64 now = xkv_store_now(st), user_us, sys_us;

	sum_slots(st, &t);
	sum_classes(st, &cs);
	os_rusage(&user_us, &sys_us);

	xkv_stat_u64(out, "pid", (u64)os_pid());
	xkv_stat_u64(out, "uptime", now > st->started ? now - st->started : 0);
	xkv_stat_u64(out, "time", now);
	xkv_stat_str(out, "version", XKV_VERSION);
	xkv_stat_u64(out, "pointer_size", 8 * sizeof(void *));
	stat_usec(out, "rusage_user", user_us);
	stat_usec(out, "rusage_system", sys_us);
	xkv_stat_u64(out, "max_connections", st->set.maxconns);
	stat_count(out, "curr_connections", &st->curr_conns);
	stat_count(out, "total_connections", &st->total_conns);
	stat_count(out, "rejected_connections", &st->rejected_conns);
	xkv_stat_u64(out, "cmd_get", t.cmd_get);
	xkv_stat_u64(out, "cmd_set", t.cmd_set);
	xkv_stat_u64(out, "cmd_flush", t.cmd_flush);
	xkv_stat_u64(out, "cmd_touch", t.cmd_touch);
	xkv_stat_u64(out, "get_hits", t.get_hits);
	xkv_stat_u64(out, "get_misses", t.get_misses);
	xkv_stat_u64(out, "get_expired", t.get_expired);
	xkv_stat_u64(out, "get_flushed", t.get_flushed);
	xkv_stat_u64(out, "delete_misses", t.delete_misses);
	xkv_stat_u64(out, "delete_hits", t.delete_hits);
	xkv_stat_u64(out, "incr_misses", t.incr_misses);
	xkv_stat_u64(out, "incr_hits", t.incr_hits);
	xkv_stat_u64(out, "decr_misses", t.decr_misses);
	xkv_stat_u64(out, "decr_hits", t.decr_hits);
	xkv_stat_u64(out, "cas_misses", t.cas_misses);
	xkv_stat_u64(out, "cas_hits", t.cas_hits);
	xkv_stat_u64(out, "cas_badval", t.cas_badval);
	xkv_stat_u64(out, "touch_hits", t.touch_hits);
	xkv_stat_u64(out, "touch_misses", t.touch_misses);
	xkv_stat_u64(out, "store_too_large", t.store_too_large);
	xkv_stat_u64(out, "store_no_memory", t.store_no_memory);
	xkv_stat_u64(out, "auth_cmds", t.auth_cmds);
	xkv_stat_u64(out, "auth_errors", t.auth_errors);
	xkv_stat_u64(out, "bytes_read", t.bytes_read);
	xkv_stat_u64(out, "bytes_written", t.bytes_written);
	xkv_stat_u64(out, "limit_maxbytes", st->set.maxbytes);
	xkv_stat_u64(out, "threads", st->set.threads);
	xkv_stat_u64(out, "hash_power_level", log2_u64(xkv_assoc_buckets(st)));
	stat_count(out, "hash_bytes", &st->hash_bytes);
	xkv_stat_u64(out, "hash_is_expanding", 0);
	stat_count(out, "bytes", &st->bytes);
	stat_count(out, "curr_items", &st->curr_items);
	stat_count(out, "total_items", &st->total_items);
	xkv_stat_u64(out, "expired_unfetched", cs.expired_unfetched);
	xkv_stat_u64(out, "evicted_unfetched", cs.evicted_unfetched);
	xkv_stat_u64(out, "evictions", cs.evicted);
	xkv_stat_u64(out, "reclaimed", cs.reclaimed);
	xkv_stat_u64(out, "crawler_reclaimed", cs.crawler_reclaimed);
	stat_count(out, "tcp_fast_unclaimed", &st->tcp_fast_unclaimed);
	xkv_buf_str(out, "END\r\n");
}

/* memcached's: the non-empty buckets, "STAT <size> <count>" */
static void stats_sizes(struct xkv_store *st, struct xkv_buf *out)
{
	struct xkv_admin *adm = &st->adm;
	char name[16];
	u32 i;

	os_mutex_lock(&adm->lock);
	if ((u64)os_atomic64_read(&adm->sizes_cas_min) == XKV_SIZES_OFF) {
		xkv_stat_str(out, "sizes_status", "disabled");
	} else {
		for (i = 0; i < adm->nsizes; i++) {
			s64 n = os_atomic64_read(&adm->sizes[i]);

			if (n <= 0)
				continue;
			os_snprintf(name, sizeof(name), "%u",
				    i * XKV_SIZES_BUCKET);
			xkv_stat_u64(out, name, (u64)n);
		}
	}
	os_mutex_unlock(&adm->lock);
	xkv_buf_str(out, "END\r\n");
}

static void stat_conn(struct xkv_buf *out, u64 id, const char *name,
		      const char *v)
{
	char line[STAT_LINE];
	int n = os_snprintf(line, sizeof(line), "STAT %llu:%s %s\r\n",
			    (unsigned long long)id, name, v);

	if (n > 0 && n < STAT_LINE)
		xkv_buf_add(out, line, (size_t)n);
}

static const char *const conn_state_text[] = {
	[XKV_CONN_READ] = "conn_read",
	[XKV_CONN_PARSE_CMD] = "conn_parse_cmd",
	[XKV_CONN_NREAD] = "conn_nread",
	[XKV_CONN_SWALLOW] = "conn_swallow",
	[XKV_CONN_MWRITE] = "conn_mwrite",
	[XKV_CONN_CLOSING] = "conn_closing",
};

/*
 * memcached's "stats conns": listeners and UDP sockets first, then the
 * TCP sessions, at most XKV_CONNS_LIST_MAX of them (the reply's bound).
 * The registry's mutex is held while the lines are written; sessions
 * take it only when they open and close.
 */
static void stats_conns(struct xkv_store *st, struct xkv_buf *out)
{
	struct xkv_admin *adm = &st->adm;
	const struct xkv_conn_info *ci;
	u64 now = xkv_store_now(st), id = 0;
	char v[24];
	u32 i, n = 0;

	os_mutex_lock(&adm->lock);
	for (i = 0; i < adm->nlisteners; i++) {
		id++;
		if (adm->listeners[i].udp)
			stat_conn(out, id, "UDP", "UDP");
		stat_conn(out, id, "addr", adm->listeners[i].addr);
		stat_conn(out, id, "state", adm->listeners[i].udp ?
			  "conn_read" : "conn_listening");
		os_snprintf(v, sizeof(v), "%llu",
			    (unsigned long long)(now - adm->started));
		stat_conn(out, id, "secs_since_last_cmd", v);
	}
	for (ci = adm->conns.next; ci != &adm->conns &&
	     n < XKV_CONNS_LIST_MAX; ci = ci->next, n++) {
		u64 last = OS_READ_ONCE(ci->last_cmd);
		u32 state = OS_READ_ONCE(ci->state);

		id = adm->nlisteners + ci->id;
		stat_conn(out, id, "addr", ci->peer[0] ? ci->peer : "unknown");
		if (ci->local[0])
			stat_conn(out, id, "listen_addr", ci->local);
		stat_conn(out, id, "state",
			  state <= XKV_CONN_CLOSING ? conn_state_text[state] :
						      "conn_parse_cmd");
		os_snprintf(v, sizeof(v), "%llu",
			    (unsigned long long)(now > last ? now - last : 0));
		stat_conn(out, id, "secs_since_last_cmd", v);
	}
	os_mutex_unlock(&adm->lock);
	xkv_buf_str(out, "END\r\n");
}

bool xkv_stats_admin(struct xkv_store *st, const char *sub, size_t n,
		     struct xkv_buf *out)
{
	if (n == 5 && !os_memcmp(sub, "sizes", 5)) {
		stats_sizes(st, out);
	} else if (n == 12 && !os_memcmp(sub, "sizes_enable", 12)) {
		if (xkv_sizes_set(st, true)) {
			xkv_stat_str(out, "sizes_status", "error");
			xkv_stat_str(out, "sizes_error", "no_memory");
		} else {
			xkv_stat_str(out, "sizes_status", "enabled");
		}
		/* memcached ends these two without "END" */
	} else if (n == 13 && !os_memcmp(sub, "sizes_disable", 13)) {
		xkv_sizes_set(st, false);
		xkv_stat_str(out, "sizes_status", "disabled");
	} else if (n == 5 && !os_memcmp(sub, "conns", 5)) {
		stats_conns(st, out);
	} else {
		return false;
	}
	return true;
}

void xkv_stats_items(struct xkv_store *st, struct xkv_buf *out)
{
	u32 i;

	for (i = 0; i < st->nclasses; i++) {
		struct xkv_class *c = &st->cls[i];
		u64 n = (u64)os_atomic64_read(&c->nlinked);
		u32 id = i + 1;

		if (!n)
			continue;
		os_mutex_lock(&c->lock);
		stat_cls(out, "items", id, "number", n);
		stat_cls(out, "items", id, "evicted", c->evicted);
		stat_cls(out, "items", id, "outofmemory", c->outofmemory);
		stat_cls(out, "items", id, "reclaimed", c->reclaimed);
		stat_cls(out, "items", id, "expired_unfetched",
			 c->expired_unfetched);
		stat_cls(out, "items", id, "evicted_unfetched",
			 c->evicted_unfetched);
		stat_cls(out, "items", id, "crawler_reclaimed",
			 c->crawler_reclaimed);
		os_mutex_unlock(&c->lock);
	}
	xkv_buf_str(out, "END\r\n");
}

void xkv_stats_slabs(struct xkv_store *st, struct xkv_buf *out)
{
	u32 i, active = 0;
	u64 malloced;

	for (i = 0; i < st->nclasses; i++) {
		struct xkv_class *c = &st->cls[i];
		u64 total, end_free;
		u32 id = i + 1;

		os_mutex_lock(&c->lock);
		if (!c->npages) {
			os_mutex_unlock(&c->lock);
			continue;
		}
		active++;
		total = (u64)c->npages * c->perpage;
		end_free = c->perpage - c->carved;
		stat_cls(out, NULL, id, "chunk_size", c->size);
		stat_cls(out, NULL, id, "chunks_per_page", c->perpage);
		stat_cls(out, NULL, id, "total_pages", c->npages);
		stat_cls(out, NULL, id, "total_chunks", total);
		stat_cls(out, NULL, id, "used_chunks",
			 total - c->nfree - end_free);
		stat_cls(out, NULL, id, "free_chunks", c->nfree);
		stat_cls(out, NULL, id, "free_chunks_end", end_free);
		os_mutex_unlock(&c->lock);
	}
	os_mutex_lock(&st->mem_lock);
	malloced = st->malloced;
	os_mutex_unlock(&st->mem_lock);
	xkv_stat_u64(out, "active_slabs", active);
	xkv_stat_u64(out, "total_malloced", malloced);
	xkv_buf_str(out, "END\r\n");
}

void xkv_stats_reset(struct xkv_store *st)
{
	u32 i;

	for (i = 0; i < st->nslots; i++) {
		u64 *p = (u64 *)&st->slots[i];
		size_t n = sizeof(st->slots[i]) / sizeof(u64), k;

		for (k = 0; k < n; k++)
			OS_WRITE_ONCE(p[k], 0);
	}
	for (i = 0; i < XKV_STRIPES; i++) {
		struct xkv_stripe *sp = &st->stripes[i];

		os_spin_lock(&sp->lock);
		os_memset(&sp->peek, 0, sizeof(sp->peek));
		os_spin_unlock(&sp->lock);
	}
	os_atomic64_set(&st->total_items, 0);
	os_atomic64_set(&st->total_conns, 0);
	os_atomic64_set(&st->rejected_conns, 0);
	os_atomic64_set(&st->tcp_fast_unclaimed, 0);
	for (i = 0; i < st->nclasses; i++) {
		struct xkv_class *c = &st->cls[i];

		os_mutex_lock(&c->lock);
		c->evicted = 0;
		c->evicted_unfetched = 0;
		c->reclaimed = 0;
		c->expired_unfetched = 0;
		c->crawler_reclaimed = 0;
		c->outofmemory = 0;
		os_mutex_unlock(&c->lock);
	}
}
