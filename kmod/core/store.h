/* SPDX-License-Identifier: GPL-2.0 */
/*
 * store.h - the xkv store: settings, lifetime, clock, statistics.
 *
 * One struct xkv_store holds every item of one server. It is shared by all
 * worker threads; each worker owns one struct xkv_thread_stats slot that
 * only it writes. Locking rules live in items.c.
 */
#ifndef XKV_CORE_STORE_H
#define XKV_CORE_STORE_H

#include "os.h"

#define XKV_VERSION "1.6.18-xkv-0.1.0"
#define XKV_KEY_MAX 250
#define XKV_DEFAULT_PORT 11211
#define XKV_LISTEN_MAX 64
/* read_buf_mem_limit: the default, xkv_budget_default() */
#define XKV_BUDGET_AUTO (~0ULL)
#define XKV_IDLE_TIMEOUT_MAX (366u * 24 * 3600)
/* listen() backlog of the TCP socket, xkvd and xkv.ko (memcached's -b) */
#define XKV_LISTEN_BACKLOG 1024

/**
 * struct xkv_settings - everything a user can set, in memcached's units.
 * @maxbytes:      memory limit for items (-m, given in MB on the command line)
 * @item_size_max: largest item, header and key included (-I)
 * @growth_x100:   slab class growth factor times 100 (-f 1.25 -> 125)
 * @chunk_min:     smallest value space of the first class (-n)
 * @hash_power:    log2 of the initial number of hash buckets
 * @threads:       worker threads (-t)
 * @maxconns:      connection limit (-c)
 * @tcp_port:      TCP port (-p), 0 = off
 * @udp_port:      UDP port (-U), 0 = off (the default, as memcached 1.6)
 * @udp_allow:     UDP source allowlist (--udp-allow, udp_allow=): "any",
 *                 "none" or PREFIX[,PREFIX...]; NULL or empty = the
 *                 subnets of the host's interfaces, loopback included
 * @udp_amp_ratio: UDP reply budget, reply bytes per request byte
 *                 (--udp-amp-ratio, udp_amp_ratio=; 0 = only the
 *                 datagram-count cap); see kmod/core/udp_policy.h
 * @read_buf_mem_limit: bytes every TCP connection's buffers may take
 *                 together past their base (-o read_buf_mem_limit=MB,
 *                 read_buf_mem_limit=; kmod/core/budget.h), 0 = no limit,
 *                 XKV_BUDGET_AUTO = xkv_budget_default()
 * @idle_timeout:  close a TCP connection that moved no byte for this many
 *                 seconds (-o idle_timeout=, idle_timeout=), 0 = never
 * @listen:        listen address (-l), empty = any
 * @verbose:       log level (-v, -vv)
 * @debug_clock:   accept the "debugtime <delta>" command (tests only)
 * @shutdown_command: accept "shutdown" (xkvd -A, shutdown_command=)
 * @dump_disabled: refuse "lru_crawler metadump" (xkvd -X, no_dump=)
 * @sasl:          binary protocol only, SASL PLAIN authentication first
 *                 (-S; as memcached: no text protocol, no UDP)
 * @pwdb:          with @sasl or @auth_file: "user:password" lines, one
 *                 per user (the contents of memcached's MEMCACHED_SASL_PWDB
 *                 file, or of the -Y file), NUL-terminated; the store
 *                 copies it (xkv_store_set_pwdb() replaces the copy)
 * @auth_file:     ASCII protocol only, "set auth" token first (-Y FILE;
 *                 as memcached: no binary protocol, no UDP, no -S); the
 *                 file's name, NULL without -Y
 */
struct xkv_settings {
	u64 maxbytes;
	u32 item_size_max;
	u32 growth_x100;
	u32 chunk_min;
	u32 hash_power;
	u32 threads;
	u32 maxconns;
	u32 tcp_port;
	u32 udp_port;
	const char *udp_allow;
	u32 udp_amp_ratio;
	u64 read_buf_mem_limit;
	u32 idle_timeout;
	char listen[XKV_LISTEN_MAX];
	int verbose;
	bool debug_clock;
	bool shutdown_command;
	bool dump_disabled;
	bool sasl;
	const char *pwdb;
	const char *auth_file;
};

/**
 * struct xkv_thread_stats - counters one worker thread writes alone.
 *
 * Names follow memcached's "stats" output. The reader sums all slots and
 * tolerates reading while they move.
 */
struct xkv_thread_stats {
	u64 cmd_get;
	u64 cmd_touch;
	u64 get_hits;
	u64 get_misses;
	u64 get_expired;
	u64 get_flushed;
	u64 cmd_set;
	u64 delete_hits;
	u64 delete_misses;
	u64 incr_hits;
	u64 incr_misses;
	u64 decr_hits;
	u64 decr_misses;
	u64 cas_hits;
	u64 cas_misses;
	u64 cas_badval;
	u64 touch_hits;
	u64 touch_misses;
	u64 cmd_flush;
	u64 store_too_large;
	u64 store_no_memory;
	u64 auth_cmds;
	u64 auth_errors;
	u64 bytes_read;
	u64 bytes_written;
};

struct xkv_store;

/**
 * xkv_settings_default() - fill @s with memcached's defaults.
 * @s:     settings to fill
 * @ncpu:  number of CPUs, used for the default thread count
 */
void xkv_settings_default(struct xkv_settings *s, u32 ncpu);

/* the limits xkv_settings_check() applies, the same for xkvd and xkv.ko */
#define XKV_ITEM_SIZE_MIN 1024u
#define XKV_ITEM_SIZE_MAX (1024u * 1024 * 1024)
#define XKV_MEMORY_MAX (1024ULL * 1024 * 1024 * 1024) /* 1 TiB */
#define XKV_THREADS_MAX 256u
#define XKV_CONNS_MAX (1024u * 1024)
#define XKV_CHUNK_MIN_MAX (1024u * 1024)
#define XKV_GROWTH_X100_MAX 10000u

/**
 * xkv_settings_check() - may a server run with these settings?
 * @s:   settings
 * @why: out: on failure, a message naming the bad setting by its module
 *       parameter and xkvd flag, e.g. "slab_min_size (-n) ..."
 *
 * The one check of every setting and of how they fit together, for
 * xkvd's command line and xkv.ko's parameters alike: settings it passes
 * always build a store (xkv_store_create() checks a subset only).
 *
 * Return: 0 or -EINVAL.
 */
int xkv_settings_check(const struct xkv_settings *s, const char **why);

/**
 * xkv_store_create() - build an empty store.
 * @s:      settings, copied
 * @nslots: how many struct xkv_thread_stats slots to provide
 *
 * Return: the store, or NULL when memory is short or @s is invalid.
 */
struct xkv_store *xkv_store_create(const struct xkv_settings *s, u32 nslots);

/**
 * xkv_store_destroy() - free a store and every item in it.
 * @st: store; no session may use it any more
 */
void xkv_store_destroy(struct xkv_store *st);

/**
 * xkv_store_settings() - the settings the store runs with.
 * @st: store
 *
 * Return: read-only settings.
 */
const struct xkv_settings *xkv_store_settings(const struct xkv_store *st);

/**
 * xkv_store_auth() - does every client have to authenticate first?
 * @st: store
 *
 * True with SASL (-S) or ASCII tokens (-Y). The store then feeds nothing
 * to the XDP tier, which answers without asking who sends: no hot-cache
 * admission, and xkv_store_peek() refuses.
 *
 * Return: true when authentication is on.
 */
bool xkv_store_auth(const struct xkv_store *st);

/**
 * xkv_store_set_pwdb() - replace the password file the store checks.
 * @st:  store started with SASL (-S) or ASCII tokens (-Y)
 * @db:  the new file's contents, checked with xkv_pwdb_check()
 * @len: their length
 *
 * A reload (xkvd's SIGHUP, xkv.ko's parameter written again): the store
 * keeps a copy; checks in progress finish on the old one, the next use
 * the new one. Sessions already authenticated stay so (as memcached).
 *
 * Return: 0, -EINVAL (authentication off), or -ENOMEM (the old file stays).
 */
int xkv_store_set_pwdb(struct xkv_store *st, const char *db, size_t len);

/**
 * xkv_store_pwdb_ok() - xkv_pwdb_ok() on the store's password file.
 * @st:    store
 * @user:  user name
 * @nuser: its length
 * @pass:  password
 * @npass: its length
 *
 * May sleep (it takes a mutex): a session's thread only.
 *
 * Return: true when the file holds exactly this user and password.
 */
bool xkv_store_pwdb_ok(struct xkv_store *st, const char *user, size_t nuser,
		       const char *pass, size_t npass);

struct xkv_budget;

/**
 * xkv_store_budget() - the budget of every TCP connection's buffers.
 * @st: store
 *
 * Return: the budget (kmod/core/budget.h), whose limit the settings'
 * @read_buf_mem_limit gave.
 */
struct xkv_budget *xkv_store_budget(struct xkv_store *st);

/**
 * xkv_store_stats_slot() - the counters slot @i (0 <= i < nslots).
 * @st: store
 * @i:  slot index; an index past the end gets the last slot
 *
 * Return: the slot. Each slot must have a single writer.
 */
struct xkv_thread_stats *xkv_store_stats_slot(struct xkv_store *st, u32 i);

/**
 * xkv_store_attach_live() - beat in the XDP program's xkv_live map.
 * @st:   store
 * @live: the map's value (struct xkv_live of abi/xkv_live.h)
 *
 * Renews the lease now and then at every xkv_store_maintain() step, so
 * XDP stops serving the hot cache within XKV_LIVE_LEASE_NS of this
 * process's (or module's) death. Call it where xkv_store_attach_hot()
 * may be called (no maintenance step running).
 */
struct xkv_live;
void xkv_store_attach_live(struct xkv_store *st, struct xkv_live *live);

/**
 * xkv_store_detach_live() - end the lease (XDP serves nothing from now
 * on) and forget the map. Same calling rules as xkv_store_attach_live().
 * @st: store
 */
void xkv_store_detach_live(struct xkv_store *st);

/**
 * xkv_store_beat() - renew the lease, if a map is attached.
 * @st: store
 *
 * xkv_store_maintain() calls it: a maintenance thread that runs at least
 * every XKV_LIVE_BEAT_MS keeps XDP serving.
 */
void xkv_store_beat(struct xkv_store *st);

/**
 * xkv_store_maintain() - one bounded step of background work.
 * @st: store
 *
 * Reclaims a slice of expired and flushed items and moves a slice of hash
 * buckets when the table is growing. Call it from one thread, a few times a
 * second or more; it never holds a lock for long.
 *
 * Return: true when more work is pending (call again soon).
 */
bool xkv_store_maintain(struct xkv_store *st);

/**
 * xkv_store_now() - the store's clock, in Unix seconds.
 * @st: store
 *
 * Return: the wall clock time at creation plus the CLOCK_MONOTONIC time
 * elapsed since (a step of the wall clock does not move it), plus the
 * offset set by xkv_store_advance_clock().
 */
u64 xkv_store_now(const struct xkv_store *st);

/**
 * xkv_store_advance_clock() - move the store's clock forward (tests).
 * @st:    store
 * @delta: seconds to add to the offset; may be negative
 */
void xkv_store_advance_clock(struct xkv_store *st, s64 delta);

/**
 * xkv_store_conn_opened() - account for a new client connection.
 * @st: store
 *
 * Return: false when the connection limit is reached; the caller must then
 * refuse the connection and call xkv_store_conn_rejected().
 */
bool xkv_store_conn_opened(struct xkv_store *st);

/**
 * xkv_store_conn_closed() - account for a closed client connection.
 * @st: store
 */
void xkv_store_conn_closed(struct xkv_store *st);

/**
 * xkv_store_conn_rejected() - count a connection refused at the limit.
 * @st: store
 */
void xkv_store_conn_rejected(struct xkv_store *st);

/**
 * xkv_store_tcp_fast_unclaimed() - count a connection the TCP fast path's
 * table had no free entry for ("tcp_fast_unclaimed" in "stats").
 * @st: store
 */
void xkv_store_tcp_fast_unclaimed(struct xkv_store *st);

/**
 * xkv_store_attach_hot() - let the store own an XDP hot cache.
 * @st:     store
 * @slots:  the xkv_hot map's memory: @nslots struct xkv_slot
 *          (abi/xkv_hot.h), mapped writable
 * @nslots: slot count, a power of two
 *
 * The slots are emptied first. From then on every write keeps them
 * coherent and backend reads decide which keys get a slot. Attach before
 * serving clients.
 *
 * Return: 0, -EINVAL, -EBUSY (already attached) or -ENOMEM.
 */
int xkv_store_attach_hot(struct xkv_store *st, void *slots, u32 nslots);

/**
 * xkv_store_detach_hot() - empty the slots and forget them.
 * @st: store; no client may be served any more
 */
void xkv_store_detach_hot(struct xkv_store *st);

/**
 * xkv_store_hot_stats() - hot-tier admission counters.
 * @st:       store
 * @installs: out: keys installed into a slot
 * @rejects:  out: admissions refused in favour of the incumbent
 */
void xkv_store_hot_stats(struct xkv_store *st, u64 *installs, u64 *rejects);

/* struct xkv_peek.flags (in) */
#define XKV_PEEK_CAS 0x1	/* the block carries the CAS (gets) */
#define XKV_PEEK_ADMIT 0x2	/* a hit counts toward hot-cache admission */
#define XKV_PEEK_META 0x4	/* an mg: refuse an item in a meta state */
/* struct xkv_peek.state (out) */
#define XKV_PEEK_KEY_B64 0x1	/* stored with a base64 key (mg "k") */
#define XKV_PEEK_TTL_NONE 0x2	/* never expires: mg "t" says -1 */

/**
 * struct xkv_peek - what xkv_store_peek() is asked, and what else it
 * tells of a hit besides the block (what a binary or mg reply needs and
 * the text block does not carry).
 * @flags: in: XKV_PEEK_*
 * @line:  out: the length of the block's line, "VALUE ...", without its
 *         "\r\n"
 * @state: out: XKV_PEEK_KEY_B64, XKV_PEEK_TTL_NONE
 * @ttl:   out: the seconds left as mg's "t" says them (xkv_item_ttl()),
 *         unless XKV_PEEK_TTL_NONE
 * @cas:   out: the item's CAS
 */
struct xkv_peek {
	u32 flags;
	u32 line;
	u32 state;
	u32 ttl;
	u64 cas;
};

/**
 * xkv_store_peek() - the reply block of one key of a get, without sleeping.
 * @st:       store
 * @key:      key bytes
 * @nkey:     key length, 1..XKV_KEY_MAX
 * @pk:       in: XKV_PEEK_CAS (gets: the block carries the CAS),
 *            XKV_PEEK_ADMIT (a hit counts toward the key's hot-cache
 *            admission), XKV_PEEK_META (an mg: see -EAGAIN); out, on a
 *            hit: the line's length, the CAS, the item's key state, the
 *            seconds it has left
 * @out:      where the block goes
 * @cap:      room at @out
 *
 * Copies "VALUE <key> <flags> <bytes>[ <cas>]\r\n<data>\r\n" (no "END"),
 * byte for byte what the text protocol sends for this key, into @out.
 * Never sleeps and never waits for a lock: callable from softirq (XDP) and
 * with bottom halves disabled. The key's stripe lock is only tried.
 *
 * Expiry is lazy and read-only here: an expired or flushed item is
 * reported as a miss and left linked for the next writer, reader or the
 * crawler to reclaim. A delayed flush_all whose time has come counts as
 * applied. The block is counted in "stats" as the text get counts it
 * (cmd_get, get_hits or get_misses, get_expired, get_flushed, and the
 * block's length in bytes_written; the request's bytes are the caller's,
 * bytes_read does not move) when the function returns a length or
 * -ENOENT (binary GETs and mg count the same counters, meta.c's mg
 * included); the other errors count nothing, the caller hands the
 * request to the server, which counts it. A hit sets the item's clock
 * reference bit (its LRU bump: one byte written under the stripe lock, no
 * class lock), its last access time, marks it fetched (what meta.c's mg
 * does to an item it answers without "u"), and with XKV_PEEK_ADMIT counts
 * toward the key's admission into the hot cache as a backend read does
 * (do_hot_peeked(): the hot tier's locks are only tried, so the install
 * may be skipped, never waited for).
 *
 * Return: bytes written to @out; -ENOENT when the key is missing, expired
 * or flushed; -EAGAIN with XKV_PEEK_META when the item is stale or its
 * recache token went out (meta.c appends X, Z or W and may change the
 * item: nothing written or counted); -ENOSPC when the block is longer
 * than @cap (nothing written); -EBUSY when the stripe lock is held (retry
 * on the slow path); -EINVAL when @nkey is 0 or above XKV_KEY_MAX;
 * -ENODEV with authentication on (xkv_store_auth()).
 */
int xkv_store_peek(struct xkv_store *st, const char *key, u32 nkey,
		   struct xkv_peek *pk, u8 *out, u32 cap);

/**
 * xkv_store_add_listener() - name a listening or UDP socket in
 * "stats conns" (memcached lists them first).
 * @st:   store
 * @addr: "tcp:0.0.0.0:11211", "tcp6:[::]:11211", "udp:0.0.0.0:11211"...
 * @udp:  a UDP socket (state conn_read) rather than a listener
 */
void xkv_store_add_listener(struct xkv_store *st, const char *addr, bool udp);

/**
 * xkv_store_shutdown_requested() - did a client send "shutdown"?
 * @st: store
 *
 * Only with the setting shutdown_command (xkvd -A). The platform polls
 * it and stops the server.
 *
 * Return: 0, or 1 for "shutdown", 2 for "shutdown graceful".
 */
u32 xkv_store_shutdown_requested(struct xkv_store *st);

#endif /* XKV_CORE_STORE_H */
