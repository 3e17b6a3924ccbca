/* SPDX-License-Identifier: GPL-2.0 */
/*
 * admin.h - memcached's commands about the server rather than items:
 * shutdown, cache_memlimit, slabs automove/reassign, lru_crawler (with
 * metadump), and the state behind "stats sizes" and "stats conns".
 *
 * The text protocol (proto.c) hands every line whose first word is one
 * of these commands to xkv_admin_line().
 */
#ifndef XKV_CORE_ADMIN_H
#define XKV_CORE_ADMIN_H

#include "buf.h"
#include "os.h"
#include "util.h"

struct xkv_store;
struct xkv_item;

/* "stats sizes": memcached's histogram, 32-byte buckets of item size */
#define XKV_SIZES_BUCKET 32
/* no item counted (histogram off, or being reset) */
#define XKV_SIZES_OFF (~0ULL)

/* "shutdown" requests */
#define XKV_SHUTDOWN_NONE 0
#define XKV_SHUTDOWN_NOW 1
#define XKV_SHUTDOWN_GRACEFUL 2

/* "stats conns": longest address string ("tcp6:[v6]:port" fits) */
#define XKV_ADDR_STR 64

/**
 * struct xkv_conn_info - one TCP session in "stats conns".
 * @next, @prev: the registry's list (struct xkv_admin.conns)
 * @id:          number printed before each line (memcached prints fds)
 * @peer:        "tcp:1.2.3.4:5678" or "tcp6:[::1]:5678", "" if unknown
 * @local:       the listener's address, same form
 * @state:       XKV_CONN_* below, written by the session's thread
 * @last_cmd:    store time of the last command line
 */
struct xkv_conn_info {
	struct xkv_conn_info *next;
	struct xkv_conn_info *prev;
	u64 id;
	char peer[XKV_ADDR_STR];
	char local[XKV_ADDR_STR];
	u32 state;
	u64 last_cmd;
};

enum xkv_conn_state {
	XKV_CONN_READ,		/* awaiting a command (memcached's conn_read) */
	XKV_CONN_PARSE_CMD,	/* running commands */
	XKV_CONN_NREAD,		/* reading a value */
	XKV_CONN_SWALLOW,	/* discarding a refused value */
	XKV_CONN_MWRITE,	/* a get or metadump paused while it is sent */
	XKV_CONN_CLOSING,
};

/* how many connections "stats conns" lists at most (its reply bound) */
#define XKV_CONNS_LIST_MAX 4096
/* how many listeners and UDP sockets it knows */
#define XKV_LISTENERS_MAX 8

/**
 * struct xkv_admin - the admin commands' state in a store.
 * @lock:           guards the histogram's allocation, the dump owner
 *                  and the connection registry; a mutex: nothing on a
 *                  worker's per-command path takes it
 * @sizes:          histogram buckets, allocated on the first
 *                  "stats sizes_enable", freed with the store
 * @nsizes:         number of buckets (item_size_max / 32 + 1)
 * @sizes_cas_min:  items with a CAS below this are not counted;
 *                  XKV_SIZES_OFF while the histogram is off
 * @dumping:        1 while a metadump runs (one at a time per store)
 * @automove:       "slabs automove" level (accepted, inert: see README)
 * @crawler_off:    "lru_crawler disable": the background crawler stops
 * @crawler_sleep:  "lru_crawler sleep" (accepted, inert)
 * @crawler_tocrawl: "lru_crawler tocrawl" (accepted, inert)
 * @shutdown:       XKV_SHUTDOWN_* asked by a client; the platform polls
 *                  xkv_store_shutdown_requested()
 * @conns:          registry of TCP sessions (list head, circular)
 * @nconns:         entries in @conns
 * @conn_ids:       last id given
 * @listeners:      listening and UDP sockets, as "stats conns" prints
 * @nlisteners:     entries in @listeners
 * @started:        store time the listeners were registered
 */
struct xkv_admin {
	os_mutex_t lock;
	os_atomic64_t *sizes;
	u32 nsizes;
	os_atomic64_t sizes_cas_min;
	u32 dumping;
	u32 automove;
	u32 crawler_off;
	u32 crawler_sleep;
	u32 crawler_tocrawl;
	u32 shutdown;
	struct xkv_conn_info conns;
	u32 nconns;
	u64 conn_ids;
	struct {
		char addr[XKV_ADDR_STR];
		bool udp;
	} listeners[XKV_LISTENERS_MAX];
	u32 nlisteners;
	u64 started;
};

/**
 * struct xkv_admin_cursor - where a paused metadump goes on.
 * @active:  a dump is under way on this session (it holds the store's
 *           one dump)
 * @all:     every class ("all", "hash")
 * @classes: else bit N set for class id N (1..63)
 * @cls:     slab class index
 * @chunk:   chunk number within the class
 */
struct xkv_admin_cursor {
	bool active;
	bool all;
	u64 classes;
	u32 cls;
	u64 chunk;
};

/**
 * struct xkv_admin_req - one command line handed to xkv_admin_line().
 * @st:      store
 * @out:     the session's output
 * @cur:     the session's metadump cursor
 * @udp:     the line came in a datagram
 * @resumed: the same line again after @pause was set
 * @pause:   out: leave the line unconsumed and offer it again once the
 *           output has drained (a metadump streams)
 * @close:   out: close the connection once the output is sent
 */
struct xkv_admin_req {
	struct xkv_store *st;
	struct xkv_buf *out;
	struct xkv_admin_cursor *cur;
	bool udp;
	bool resumed;
	bool pause;
	bool close;
};

/**
 * xkv_admin_is_cmd() - is this first word an admin command?
 * @cmd: the word
 * @n:   its length
 *
 * Return: true for shutdown, cache_memlimit, slabs and lru_crawler.
 */
bool xkv_admin_is_cmd(const char *cmd, size_t n);

/**
 * xkv_admin_line() - run one admin command line.
 * @r:  the request; @r->pause and @r->close are set on return
 * @t:  the line's words (t[0] is the command)
 * @nt: how many, at least 1
 */
void xkv_admin_line(struct xkv_admin_req *r, const struct xkv_tok *t,
		    u32 nt);

/**
 * xkv_admin_cursor_end() - give up a session's metadump, if any.
 * @st:  store
 * @cur: the session's cursor
 *
 * Call when the session is freed or reset: the store's one dump is free
 * again.
 */
void xkv_admin_cursor_end(struct xkv_store *st, struct xkv_admin_cursor *cur);

/**
 * xkv_admin_init() - set up the admin state of a new store.
 * @st: store
 */
void xkv_admin_init(struct xkv_store *st);

/**
 * xkv_admin_destroy() - free the admin state (the histogram).
 * @st: store; no session may use it any more
 */
void xkv_admin_destroy(struct xkv_store *st);

/**
 * xkv_sizes_set() - turn the "stats sizes" histogram on or off.
 * @st: store
 * @on: true: (re)start counting items linked from now on
 *
 * Return: 0, or -ENOMEM when the histogram could not be allocated.
 */
int xkv_sizes_set(struct xkv_store *st, bool on);

/**
 * xkv_sizes_update() - count an item linked (+1) or unlinked (-1).
 * @st:    store
 * @it:    the item, its CAS set
 * @delta: +1 or -1
 *
 * Called under the item's stripe lock: atomic adds only.
 */
void xkv_sizes_update(struct xkv_store *st, const struct xkv_item *it,
		      int delta);

/**
 * xkv_conn_register() - add a TCP session to "stats conns".
 * @st: store
 * @ci: the session's entry, zeroed or filled with its addresses
 */
void xkv_conn_register(struct xkv_store *st, struct xkv_conn_info *ci);

/**
 * xkv_conn_set_addrs() - an entry's addresses, copied under the
 * registry's lock ("stats conns" may be reading them).
 * @st:    store
 * @ci:    the entry
 * @peer:  the client's address
 * @local: the listener's address
 */
void xkv_conn_set_addrs(struct xkv_store *st, struct xkv_conn_info *ci,
			const char *peer, const char *local);

/**
 * xkv_conn_unregister() - remove an entry xkv_conn_register() added.
 * @st: store
 * @ci: the entry
 */
void xkv_conn_unregister(struct xkv_store *st, struct xkv_conn_info *ci);

#endif /* XKV_CORE_ADMIN_H */
