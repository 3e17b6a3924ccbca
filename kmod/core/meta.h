/* SPDX-License-Identifier: GPL-2.0 */
/*
 * meta.h - memcached's meta protocol: mg ms md ma mn me.
 *
 * The session (proto.c) hands meta.c every command line whose command is
 * two bytes starting with 'm'. Replies, error strings, quiet mode and
 * the flags are memcached 1.6.18's (doc/protocol.txt and what its
 * proto_text.c does). "ms" has a value, which the session streams into
 * the item xkv_meta_line() allocated, as it does for "set"; then it calls
 * xkv_meta_set_done().
 */
#ifndef XKV_CORE_META_H
#define XKV_CORE_META_H

#include "buf.h"
#include "items.h"
#include "util.h"

/* memcached's longest opaque token, 'O' included */
#define XKV_META_OPAQUE_MAX 32

/**
 * struct xkv_meta_io - where a meta command runs and answers.
 * @st:  store
 * @ts:  the worker's counters
 * @out: reply buffer
 */
struct xkv_meta_io {
	struct xkv_store *st;
	struct xkv_thread_stats *ts;
	struct xkv_buf *out;
};

/**
 * struct xkv_meta_set - what "ms" keeps while its value streams in.
 * @op:      how to store (enum xkv_store_op, after the M mode and C)
 * @quiet:   q: no "HD"
 * @stale:   I in CAS mode: a lower CAS stores the value as stale
 * @b64:     b: the key was base64
 * @req_cas: C, 0 for none
 * @ret:     the return flags asked for ('O', 'k', 'c'), in order
 * @nret:    how many
 * @opaque:  the O token
 * @nopaque: its length
 */
struct xkv_meta_set {
	u8 op;
	bool quiet;
	bool stale;
	bool b64;
	u64 req_cas;
	char ret[3];
	u8 nret;
	char opaque[XKV_META_OPAQUE_MAX];
	u8 nopaque;
};

/**
 * enum xkv_meta_res - what the session does after xkv_meta_line().
 * @XKV_META_DONE:    the command ran; its reply (if any) is in the output
 * @XKV_META_ERROR:   too few tokens or an unknown command: send "ERROR"
 * @XKV_META_NREAD:   "ms": stream the value (and "\r\n") into *@it, then
 *                    call xkv_meta_set_done()
 * @XKV_META_SWALLOW: a refused "ms": drop the next *@swallow bytes
 * @XKV_META_AGAIN:   the reply had no room in the connections' budget:
 *                    nothing was done; offer the same line again later
 */
enum xkv_meta_res {
	XKV_META_DONE,
	XKV_META_ERROR,
	XKV_META_NREAD,
	XKV_META_SWALLOW,
	XKV_META_AGAIN,
};

/**
 * xkv_meta_line() - run one meta command line.
 * @io:      store, counters, output
 * @t:       the line's tokens (xkv_tokenize(), up to 24: more than 19
 *           is refused); t[0] is the two-byte command ("m?")
 * @nt:      how many
 * @ms:      filled for "ms"
 * @it:      out: the item "ms" streams into (XKV_META_NREAD)
 * @swallow: out: bytes to drop (XKV_META_SWALLOW)
 *
 * Before it runs, the output buffer must have room for 1024 bytes (the
 * session reserves that much under the connections' budget); a value
 * read by "mg" is reserved strictly (-ENOBUFS: XKV_META_AGAIN).
 *
 * Return: what the session does next.
 */
enum xkv_meta_res xkv_meta_line(struct xkv_meta_io *io,
				const struct xkv_tok *t, u32 nt,
				struct xkv_meta_set *ms, struct xkv_item **it,
				u64 *swallow);

/**
 * xkv_meta_set_done() - store an "ms" value once it is in.
 * @io:       store, counters, output
 * @ms:       from xkv_meta_line()
 * @it:       the item it allocated, filled; consumed in every case
 * @chunk_ok: the value was followed by "\r\n"
 */
void xkv_meta_set_done(struct xkv_meta_io *io, const struct xkv_meta_set *ms,
		       struct xkv_item *it, bool chunk_ok);

#endif /* XKV_CORE_META_H */
