// SPDX-License-Identifier: GPL-2.0
/*
 * keyval.c - keys and self-checking values (see keyval.h).
 */
#include <errno.h>
#include <string.h>

#include "keyval.h"
#include "rng.h"

#define KV_SALT 0x786b762d62656e63ULL /* "xkv-benc" */
/* body bytes: 6 random bits each, shifted into '0'..'o' */
#define KV_BYTE_MASK 0x3f3f3f3f3f3f3f3fULL
#define KV_BYTE_BASE 0x3030303030303030ULL

static const char hexdig[] = "0123456789abcdef";

/**
 * kv_key_min_size() - the shortest key size that can name every key.
 * @keys: key space size, at least 1
 *
 * Return: 1 (the 'k') plus the decimal digits of the largest id.
 */
u32 kv_key_min_size(u32 keys)
{
	u32 last = keys - 1, digits = 1;

	while (last >= 10) {
		last /= 10;
		digits++;
	}
	return 1 + digits;
}

/**
 * kv_set_request_max() - the longest "set" request, in bytes.
 * @key_size:  key length
 * @value_max: longest value
 *
 * Return: bytes of "set <key> <flags> 0 <len>\r\n<value>\r\n" at most.
 */
size_t kv_set_request_max(u32 key_size, u32 value_max)
{
	/* "set " key " " 5 digits " 0 " 10 digits "\r\n" value "\r\n" */
	return 4 + key_size + 1 + 5 + 3 + 10 + 2 + (size_t)value_max + 2;
}

/**
 * kv_key() - write a key.
 * @f:   key shape
 * @id:  key id
 * @out: receives exactly @f->key_size bytes, no terminator
 */
void kv_key(const struct kv_fmt *f, u32 id, char *out)
{
	char *p = out + f->key_size;

	out[0] = 'k';
	do {
		*--p = (char)('0' + id % 10);
		id /= 10;
	} while (id);
	memset(out + 1, '0', (size_t)(p - (out + 1)));
}

static u64 kv_hash(u32 id, u32 ver)
{
	return mix64(((u64)id << 32 | ver) ^ KV_SALT);
}

static void kv_shape(const struct kv_fmt *f, u64 h, u32 *len, u32 *flags)
{
	u32 span = f->value_max - f->value_min;

	*len = f->value_min + (span ? (u32)(h % ((u64)span + 1)) : 0);
	*flags = (u32)(h >> 48);
}

/**
 * kv_value_shape() - length and flags of a value.
 * @f:     value shape
 * @id:    key id
 * @ver:   version
 * @len:   receives the length
 * @flags: receives the client flags to store with it
 */
void kv_value_shape(const struct kv_fmt *f, u32 id, u32 ver, u32 *len,
		    u32 *flags)
{
	kv_shape(f, kv_hash(id, ver), len, flags);
}

static void put_hex32(char *p, u32 v)
{
	int i;

	for (i = 7; i >= 0; i--) {
		p[i] = hexdig[v & 15];
		v >>= 4;
	}
}

static int get_hex32(const char *p, u32 *out)
{
	u32 v = 0;
	int i, d;

	for (i = 0; i < 8; i++) {
		if (p[i] >= '0' && p[i] <= '9')
			d = p[i] - '0';
		else if (p[i] >= 'a' && p[i] <= 'f')
			d = p[i] - 'a' + 10;
		else
			return -EINVAL;
		v = v << 4 | (u32)d;
	}
	*out = v;
	return 0;
}

/**
 * kv_value_fill() - write a value.
 * @f:   value shape
 * @id:  key id
 * @ver: version
 * @out: receives the value: kv_value_shape() gives its length
 */
void kv_value_fill(const struct kv_fmt *f, u32 id, u32 ver, char *out)
{
	u64 h = kv_hash(id, ver), state = h, w;
	u32 len, flags, at;

	kv_shape(f, h, &len, &flags);
	put_hex32(out, id);
	put_hex32(out + 8, ver);
	for (at = KV_HDR_LEN; at + 8 <= len; at += 8) {
		w = (rng_next(&state) & KV_BYTE_MASK) + KV_BYTE_BASE;
		memcpy(out + at, &w, 8);
	}
	if (at < len) {
		w = (rng_next(&state) & KV_BYTE_MASK) + KV_BYTE_BASE;
		memcpy(out + at, &w, len - at);
	}
}

/**
 * kv_value_check() - is this a value this client wrote for this key?
 * @f:     value shape
 * @id:    the key id that was asked for
 * @data:  the value returned
 * @len:   its length
 * @flags: the flags returned with it
 *
 * Return: 0 if @data is the value of key @id at the version it names,
 * with the right length and flags; -EBADMSG otherwise.
 */
int kv_value_check(const struct kv_fmt *f, u32 id, const char *data, u32 len,
		   u32 flags)
{
	u32 got_id, ver, want_len, want_flags, at;
	u64 h, state, w, got;

	if (len < KV_HDR_LEN || get_hex32(data, &got_id) || got_id != id ||
	    get_hex32(data + 8, &ver))
		return -EBADMSG;
	h = kv_hash(id, ver);
	kv_shape(f, h, &want_len, &want_flags);
	if (len != want_len || flags != want_flags)
		return -EBADMSG;
	state = h;
	for (at = KV_HDR_LEN; at + 8 <= len; at += 8) {
		w = (rng_next(&state) & KV_BYTE_MASK) + KV_BYTE_BASE;
		memcpy(&got, data + at, 8);
		if (got != w)
			return -EBADMSG;
	}
	if (at < len) {
		w = (rng_next(&state) & KV_BYTE_MASK) + KV_BYTE_BASE;
		if (memcmp(data + at, &w, len - at))
			return -EBADMSG;
	}
	return 0;
}
