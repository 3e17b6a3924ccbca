/* SPDX-License-Identifier: GPL-2.0 */
/*
 * keyval.h - keys and values, each derived from numbers alone, so that
 * every value read back can be checked without remembering what was sent.
 *
 * Key id i (0..keys-1) is 'k' followed by i in decimal, zero-padded to the
 * key size: "k000000000000042" for 16 bytes.
 *
 * The value written for key id i at version v (0 for the preload; each
 * SET after it uses a new one) is
 *
 *	<i: 8 hex digits><v: 8 hex digits><body>
 *
 * where the body's bytes (printable, '0'..'o') and the value's length and
 * flags all come from a hash of (i, v). A GET hit is accepted only if the
 * embedded id is the key asked for and length, flags and every byte of
 * the body are what (i, v) gives: a value of another key, a truncated or
 * corrupted one, or one this client never wrote is caught. A stale value
 * (an older version of the right key) is a correct value here; detecting
 * staleness is the coherence tests' job.
 */
#ifndef XKV_BENCH_KEYVAL_H
#define XKV_BENCH_KEYVAL_H

#include "bench.h"

#define KV_HDR_LEN 16 /* bytes of id and version in a value */

/**
 * struct kv_fmt - the shape of keys and values.
 * @key_size:  key length, bytes
 * @value_min: shortest value
 * @value_max: longest value; lengths are uniform in min..max
 */
struct kv_fmt {
	u32 key_size;
	u32 value_min;
	u32 value_max;
};

u32 kv_key_min_size(u32 keys);
size_t kv_set_request_max(u32 key_size, u32 value_max);
void kv_key(const struct kv_fmt *f, u32 id, char *out);
void kv_value_shape(const struct kv_fmt *f, u32 id, u32 ver, u32 *len,
		    u32 *flags);
void kv_value_fill(const struct kv_fmt *f, u32 id, u32 ver, char *out);
int kv_value_check(const struct kv_fmt *f, u32 id, const char *data, u32 len,
		   u32 flags);

#endif /* XKV_BENCH_KEYVAL_H */
