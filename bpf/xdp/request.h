/* SPDX-License-Identifier: GPL-2.0 */
/*
 * request.h - the request line: "get"/"gets" and its keys, split as the
 * store splits them.
 *
 * Part of the XDP program, compiled as one unit by bpf/xkv.bpf.c, which
 * includes the parts in order.
 */
#ifndef XKV_XDP_REQUEST_H
#define XKV_XDP_REQUEST_H

static __always_inline long xkv_end_key(struct xkv_scratch *s, __u32 pos)
{
	__u32 n = s->nkeys;

	if (n >= XKV_MAX_KEYS) {
		s->fail = XKV_STAT_pass_too_big;
		return 1;
	}
	s->keys[n].off = s->kstart;
	s->keys[n].len = pos - s->kstart;
	s->keys[n].hash = xkv_hot_hash_end(&s->hs, pos - s->kstart);
	s->nkeys = n + 1;
	s->in_key = 0;
	return 0;
}

/*
 * One byte of the key list, split as the store splits it (like memcached):
 * keys are separated by spaces, the line ends at "\n", and a "\r" right
 * before it is not part of the line; every other byte is a key byte,
 * control bytes and "\r" elsewhere included. The line must end exactly at
 * the end of the payload. A NUL (the store ends the line there), a key
 * over XKV_HOT_KEY_MAX bytes or anything after the line end fails the
 * request.
 * Return: 0 to go on, 1 to stop.
 */
static __always_inline long xkv_parse_byte(struct xkv_scratch *s, __u32 pos)
{
	__u32 end;
	__u8 c;

	if (pos >= s->plen)
		return 1;	/* no line end: not done, malformed */
	c = s->req[pos & XKV_REQ_MASK];
	if (c == ' ') {
		if (s->in_key)
			return xkv_end_key(s, pos);
		return 0;
	}
	if (c == '\r' || c == '\n') {
		/* "\n" or "\r\n", and then the payload ends */
		end = pos + 1;
		if (c == '\r') {
			if (s->req[end & XKV_REQ_MASK] != '\n')
				goto key;	/* a "\r" inside a key */
			end++;
		}
		if (end != s->plen)
			goto bad;
		if (s->in_key && xkv_end_key(s, pos))
			return 1;
		s->done = 1;
		return 1;
	}
	if (!c)
		goto bad;
key:
	if (!s->in_key) {
		s->in_key = 1;
		s->kstart = pos;
		xkv_hot_hash_init(&s->hs);
	} else if (pos - s->kstart >= XKV_HOT_KEY_MAX) {
		goto bad;
	}
	xkv_hot_hash_byte(&s->hs, pos - s->kstart, c);
	return 0;
bad:
	s->fail = XKV_STAT_pass_malformed;
	return 1;
}

#define XKV_ONES 0x0101010101010101ULL
#define XKV_HIGHS 0x8080808080808080ULL

/* a word loaded from memory as xkv_hot_hash_mix() takes it */
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define XKV_LE64(w) (w)
#else
#define XKV_LE64(w) __builtin_bswap64(w)
#endif

/*
 * Eight bytes of the key list per bpf_loop() round. A word with no byte
 * below 0x21 (so no space, "\r", "\n" or NUL: the usual SWAR test, exact
 * about whether such a byte exists) inside the payload is all key bytes
 * and is hashed at once (xkv_hot_hash_word(), at whatever phase the key
 * started); any other word goes byte by byte.
 */
static long xkv_parse_cb(__u32 i, void *data)
{
	struct xkv_scratch *s = ((struct xkv_cb_ctx *)data)->s;
	__u32 pos = s->start + i * 8, j;
	__u64 w;

	if (pos + 8 <= s->plen) {
		w = *(const __u64 *)(s->req + (pos & XKV_REQ_MASK));
		if (!((w - 0x21 * XKV_ONES) & ~w & XKV_HIGHS)) {
			if (!s->in_key) {
				s->in_key = 1;
				s->kstart = pos;
				xkv_hot_hash_init(&s->hs);
			}
			if (pos + 7 - s->kstart >= XKV_HOT_KEY_MAX) {
				s->fail = XKV_STAT_pass_malformed;
				return 1;
			}
			xkv_hot_hash_word(&s->hs, pos - s->kstart, XKV_LE64(w));
			return 0;
		}
	}
#pragma unroll
	for (j = 0; j < 8; j++)
		if (xkv_parse_byte(s, pos + j))
			return 1;
	return 0;
}

#endif /* XKV_XDP_REQUEST_H */
