// SPDX-License-Identifier: GPL-2.0
/*
 * store.c - creating and destroying a store, its clock and counters.
 */
#include "assoc.h"
#include "hot.h"
#include "items.h"
#include "slab.h"
#include "udp_policy.h"

void xkv_settings_default(struct xkv_settings *s, u32 ncpu)
{
	os_memset(s, 0, sizeof(*s));
	s->maxbytes = 64ULL * 1024 * 1024;
	s->item_size_max = 1024 * 1024;
	s->growth_x100 = 125;
	s->chunk_min = 48;
	s->hash_power = 16;
	s->threads = ncpu ? ncpu : 1;
	s->maxconns = 1024;
	s->tcp_port = XKV_DEFAULT_PORT;
	s->read_buf_mem_limit = XKV_BUDGET_AUTO;
	s->udp_port = 0;
	s->udp_amp_ratio = XKV_UDP_AMP_DEFAULT;
}

/*
 * What the store itself needs (tests build stores with tiny limits);
 * xkv_settings_check() refuses all of this and more.
 */
static bool store_buildable(const struct xkv_settings *s)
{
	return s->maxbytes && s->item_size_max >= XKV_ITEM_SIZE_MIN &&
	       s->item_size_max <= XKV_ITEM_SIZE_MAX &&
	       s->growth_x100 > 100 && s->chunk_min >= 1 &&
	       s->chunk_min <= s->item_size_max / 2 &&
	       s->hash_power <= 31 && s->threads >= 1;
}

/* each rule, and the message that names the setting it refuses */
int xkv_settings_check(const struct xkv_settings *s, const char **why)
{
	const char *bad = NULL;

	if (s->maxbytes < (1ULL << 20) || s->maxbytes > XKV_MEMORY_MAX)
		bad = "memory_limit (-m) must be 1..1048576 megabytes";
	else if (s->item_size_max < XKV_ITEM_SIZE_MIN ||
		 s->item_size_max > XKV_ITEM_SIZE_MAX)
		bad = "max_item_size (-I) must be 1k..1024m";
	else if (s->growth_x100 <= 100 || s->growth_x100 > XKV_GROWTH_X100_MAX)
		bad = "slab_growth_factor (-f) must be over 1, at most 100";
	else if (s->chunk_min < 1 || s->chunk_min > XKV_CHUNK_MIN_MAX)
		bad = "slab_min_size (-n) must be 1..1048576";
	else if (s->hash_power > 31)
		bad = "hash_power must be at most 31";
	else if (s->threads < 1 || s->threads > XKV_THREADS_MAX)
		bad = "threads (-t) must be 1..256";
	else if (s->maxconns < 1 || s->maxconns > XKV_CONNS_MAX)
		bad = "conn_limit (-c) must be 1..1048576";
	else if (s->tcp_port > 65535)
		bad = "tcp_port (-p) must be 0..65535";
	else if (s->udp_port > 65535)
		bad = "udp_port (-U) must be 0..65535";
	else if (s->item_size_max > s->maxbytes / 2)
		bad = "max_item_size (-I) cannot be more than half of memory_limit (-m)";
	else if (s->chunk_min > s->item_size_max / 2)
		bad = "slab_min_size (-n) cannot be more than half of max_item_size (-I)";
	else if (s->read_buf_mem_limit &&
		 s->read_buf_mem_limit != XKV_BUDGET_AUTO &&
		 s->read_buf_mem_limit < xkv_budget_min(s->item_size_max))
		bad = "read_buf_mem_limit (-o read_buf_mem_limit) must be 0 or at least 4 x max_item_size (-I) + 1 megabyte";
	else if (s->idle_timeout > XKV_IDLE_TIMEOUT_MAX)
		bad = "idle_timeout (-o idle_timeout) must be 0..31622400 seconds";
	else if (!s->tcp_port && !s->udp_port)
		bad = "tcp_port (-p) and udp_port (-U) are both 0: nothing to serve";
	else if (s->udp_allow && s->udp_allow[0] &&
		 xkv_udp_allow_parse(NULL, s->udp_allow))
		bad = "udp_allow (--udp-allow) must be any, none or PREFIX[/LEN][,PREFIX[/LEN]...], at most 64";
	else if (s->udp_amp_ratio > XKV_UDP_AMP_MAX)
		bad = "udp_amp_ratio (--udp-amp-ratio) must be 0..1000000";
	else if (s->sasl && s->udp_port)
		bad = "Cannot enable UDP while using binary SASL authentication (-S, sasl_pwdb=)";
	else if (s->sasl && s->auth_file)
		bad = "SASL (-S, sasl_pwdb=) and ASCII authentication (-Y, auth_file=) cannot be used together: -S allows only the binary protocol, -Y only the ASCII one";
	else if (s->auth_file && s->udp_port)
		bad = "Cannot use UDP with ascii authentication enabled (-Y, auth_file=; -U 0 to disable)";
	else if (s->auth_file && !s->pwdb)
		bad = "ASCII authentication (-Y) needs a file of user:password lines";
	else if (s->sasl && !s->pwdb)
		bad = "SASL (-S) needs a password file: MEMCACHED_SASL_PWDB=FILE of user:password lines";
	if (why)
		*why = bad;
	return bad ? -EINVAL : 0;
}

/* copy @len bytes of password file in, NUL-terminated, over the old copy */
static int store_copy_pwdb(struct xkv_store *st, const char *db, size_t len)
{
	char *copy, *old;

	copy = os_zalloc(len + 1);
	if (!copy)
		return -ENOMEM;
	os_memcpy(copy, db, len);
	os_mutex_lock(&st->pwdb_lock);
	old = st->pwdb;
	st->pwdb = copy;
	os_mutex_unlock(&st->pwdb_lock);
	if (old)
		os_memset(old, 0, os_strlen(old));
	os_free(old);
	return 0;
}

struct xkv_store *xkv_store_create(const struct xkv_settings *s, u32 nslots)
{
	struct xkv_store *st;

	if (!store_buildable(s))
		return NULL;
	st = os_zalloc(sizeof(*st));
	if (!st)
		return NULL;
	st->set = *s;
	/* the caller's buffer is not ours to keep: the store has a copy */
	st->set.pwdb = NULL;
	os_mutex_init(&st->pwdb_lock);
	if (s->pwdb && store_copy_pwdb(st, s->pwdb, os_strlen(s->pwdb)))
		goto free_store;
	st->nslots = nslots ? nslots : 1;
	st->slots = os_zalloc(sizeof(*st->slots) * st->nslots);
	if (!st->slots)
		goto free_store;
	if (xkv_slab_init(st))
		goto free_slots;
	if (xkv_assoc_init(st))
		goto destroy_slab;
	os_mutex_init(&st->mem_lock);
	os_mutex_init(&st->flush_lock);
	xkv_admin_init(st);
	xkv_budget_init(&st->budget,
			s->read_buf_mem_limit == XKV_BUDGET_AUTO ?
				xkv_budget_default(s->item_size_max) :
				s->read_buf_mem_limit);
	st->clock_base_ns = os_wall_ns() - os_mono_ns();
	st->started = xkv_store_now(st);
	return st;

destroy_slab:
	xkv_slab_destroy(st);
free_slots:
	os_free(st->slots);
free_store:
	os_free(st->pwdb);
	os_mutex_destroy(&st->pwdb_lock);
	os_free(st);
	return NULL;
}

void xkv_store_destroy(struct xkv_store *st)
{
	if (!st)
		return;
	xkv_store_detach_hot(st);
	xkv_assoc_destroy(st);
	xkv_slab_destroy(st);
	xkv_admin_destroy(st);
	os_mutex_destroy(&st->flush_lock);
	os_mutex_destroy(&st->mem_lock);
	if (st->pwdb)
		os_memset(st->pwdb, 0, os_strlen(st->pwdb));
	os_free(st->pwdb);
	os_mutex_destroy(&st->pwdb_lock);
	os_free(st->slots);
	os_free(st);
}

bool xkv_store_auth(const struct xkv_store *st)
{
	return st->set.sasl || st->set.auth_file;
}

int xkv_store_set_pwdb(struct xkv_store *st, const char *db, size_t len)
{
	if (!xkv_store_auth(st))
		return -EINVAL;
	return store_copy_pwdb(st, db, len);
}

bool xkv_store_pwdb_ok(struct xkv_store *st, const char *user, size_t nuser,
		       const char *pass, size_t npass)
{
	bool ok;

	os_mutex_lock(&st->pwdb_lock);
	ok = xkv_pwdb_ok(st->pwdb, user, nuser, pass, npass);
	os_mutex_unlock(&st->pwdb_lock);
	return ok;
}

const struct xkv_settings *xkv_store_settings(const struct xkv_store *st)
{
	return &st->set;
}

struct xkv_budget *xkv_store_budget(struct xkv_store *st)
{
	return &st->budget;
}

struct xkv_thread_stats *xkv_store_stats_slot(struct xkv_store *st, u32 i)
{
	return &st->slots[i < st->nslots ? i : st->nslots - 1];
}

bool xkv_store_maintain(struct xkv_store *st)
{
	bool more = false;
	u32 i;

	/* one slice per class per call at most; "lru_crawler disable" */
	if (OS_READ_ONCE(st->adm.crawler_off))
		xkv_flush_poll(st, xkv_store_now(st));
	else
		for (i = 0; i < st->nclasses; i++)
			more |= xkv_items_crawl(st);
	xkv_store_beat(st);
	return more;
}

/*
 * As memcached's clock: the wall clock is read once, at creation, and the
 * store's time moves on with the monotonic clock, so a step of the wall
 * clock changes nothing (an absolute exptime is a time on this clock).
 * The hot tier's expiry is on the monotonic clock too: the two agree to
 * the nanosecond (xkv_store_mono_ns()).
 */
u64 xkv_store_now(const struct xkv_store *st)
{
	return (os_mono_ns() + st->clock_base_ns) / XKV_NS_PER_SEC +
	       (u64)os_atomic64_read(&st->clock_offset);
}

u64 xkv_store_mono_ns(const struct xkv_store *st, u64 t)
{
	u64 s = t - (u64)os_atomic64_read(&st->clock_offset);

	return s * XKV_NS_PER_SEC - st->clock_base_ns;
}

void xkv_store_advance_clock(struct xkv_store *st, s64 delta)
{
	os_atomic64_add(delta, &st->clock_offset);
	/* slot expiry times were computed against the old clock */
	xkv_hot_clear(st);
}

bool xkv_store_conn_opened(struct xkv_store *st)
{
	s64 n = os_atomic64_inc_return(&st->curr_conns);

	if (n > (s64)st->set.maxconns) {
		os_atomic64_add(-1, &st->curr_conns);
		return false;
	}
	os_atomic64_add(1, &st->total_conns);
	return true;
}

void xkv_store_conn_closed(struct xkv_store *st)
{
	os_atomic64_add(-1, &st->curr_conns);
}

void xkv_store_conn_rejected(struct xkv_store *st)
{
	os_atomic64_add(1, &st->rejected_conns);
}

void xkv_store_tcp_fast_unclaimed(struct xkv_store *st)
{
	os_atomic64_add(1, &st->tcp_fast_unclaimed);
}
