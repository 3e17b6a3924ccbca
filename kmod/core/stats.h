/* SPDX-License-Identifier: GPL-2.0 */
/*
 * stats.h - the "stats" command's reports, in memcached's format.
 */
#ifndef XKV_CORE_STATS_H
#define XKV_CORE_STATS_H

#include "buf.h"
#include "store_int.h"

/**
 * xkv_stat_u64() - append "STAT <name> <v>\r\n".
 * @out:  reply buffer
 * @name: statistic's name
 * @v:    its value
 */
void xkv_stat_u64(struct xkv_buf *out, const char *name, u64 v);

/**
 * xkv_stat_str() - append "STAT <name> <v>\r\n".
 * @out:  reply buffer
 * @name: statistic's name
 * @v:    its value, a string
 */
void xkv_stat_str(struct xkv_buf *out, const char *name, const char *v);

/**
 * xkv_stats_general() - "stats": STAT lines for the whole server.
 * @st:  store
 * @out: reply buffer; "END\r\n" is appended
 */
void xkv_stats_general(struct xkv_store *st, struct xkv_buf *out);

/**
 * xkv_stats_settings() - "stats settings" (stats_settings.c): every line
 * memcached 1.6.18 built without extstore and TLS prints, in its order,
 * then xkv's own slab_page_size and lru_policy.
 * @st:  store
 * @out: reply buffer; "END\r\n" is appended
 */
void xkv_stats_settings(struct xkv_store *st, struct xkv_buf *out);

/**
 * xkv_stats_items() - "stats items": per slab class item counters.
 * @st:  store
 * @out: reply buffer
 */
void xkv_stats_items(struct xkv_store *st, struct xkv_buf *out);

/**
 * xkv_stats_slabs() - "stats slabs": per slab class memory use.
 * @st:  store
 * @out: reply buffer
 */
void xkv_stats_slabs(struct xkv_store *st, struct xkv_buf *out);

/**
 * xkv_stats_admin() - "stats sizes", "stats sizes_enable",
 * "stats sizes_disable" and "stats conns".
 * @st:  store
 * @sub: the word after "stats"
 * @n:   its length
 * @out: where the reply goes
 *
 * Return: false when @sub is none of them (nothing written).
 */
bool xkv_stats_admin(struct xkv_store *st, const char *sub, size_t n,
		     struct xkv_buf *out);

/**
 * xkv_stats_reset() - "stats reset": zero the counters that can be.
 * @st: store
 */
void xkv_stats_reset(struct xkv_store *st);

#endif /* XKV_CORE_STATS_H */
