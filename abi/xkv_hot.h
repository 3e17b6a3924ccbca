/* SPDX-License-Identifier: GPL-2.0 */
/*
 * xkv_hot.h - the hot cache: the slot layout and where a key lives.
 *
 * Map xkv_hot (its name in the BPF object and in the pins under
 * /sys/fs/bpf/xkv/<if>/): BPF_MAP_TYPE_ARRAY, BPF_F_MMAPABLE, __u32 ->
 * struct xkv_slot, max_entries = xkv_config.nslots (a power of two). A
 * slot is a bucket of variable-size entries (struct xkv_hot_ent), each the
 * built reply block of one key. Its owner (the backend, or learning mode's
 * programs) installs, others may only empty, each under the slot's seqlock
 * (xkv_slot.h).
 */
#ifndef XKV_ABI_HOT_H
#define XKV_ABI_HOT_H

#include "xkv_types.h"

/* bytes of one slot; a power of two, two slots per 4 KiB page */
#define XKV_HOT_SLOT_SIZE 2048
/* bytes before a slot's entries: @seq, @used, @rsvd */
#define XKV_HOT_SLOT_HDR 8
/* room for entries in a slot */
#define XKV_HOT_SLOT_ROOM (XKV_HOT_SLOT_SIZE - XKV_HOT_SLOT_HDR)
/* longest key (memcached's KEY_MAX_LENGTH) */
#define XKV_HOT_KEY_MAX 250
/* bytes of an entry's header, before its body */
#define XKV_HOT_ENT_HDR 40
/* entries are laid out on this boundary; every @size is a multiple */
#define XKV_HOT_ENT_ALIGN 8
/* longest "VALUE <key> <flags> <bytes>": 250-byte key, 10-digit flags */
#define XKV_HOT_LINE_MAX (6 + XKV_HOT_KEY_MAX + 1 + 10 + 1 + 4)
/*
 * longest value (the data alone) that fits a slot whatever its key and
 * flags: a lone entry with the longest line, its "\r\n" and the data's
 * "\r\n". Shorter keys leave room for a little more; the writer decides
 * with xkv_hot_ent_size().
 */
#define XKV_HOT_VAL_MAX \
	(XKV_HOT_SLOT_ROOM - XKV_HOT_ENT_HDR - XKV_HOT_LINE_MAX - 4)
/* smallest entry: header and "VALUE k 0 0\r\n\r\n" (15), aligned */
#define XKV_HOT_ENT_MIN (XKV_HOT_ENT_HDR + 16)
/* most entries a slot can hold: the bound of every walk over a slot */
#define XKV_HOT_ENTS_MAX (XKV_HOT_SLOT_ROOM / XKV_HOT_ENT_MIN)
/* default slot count (32 MiB); the loader may choose any power of two */
#define XKV_HOT_SLOTS_DEFAULT 16384
/* XDP bumps xkv_hot_ent.hits once per this many hits, on average */
#define XKV_HOT_HIT_SAMPLE 16

/**
 * struct xkv_slot - one hot-cache bucket, XKV_HOT_SLOT_SIZE bytes.
 * @seq:  sequence counter, the slot's seqlock (xkv_slot.h), for the whole
 *        slot: every entry in it. Even: stable. Odd: a writer is inside.
 *        Every write adds 2 in total.
 * @used: bytes of entries at the start of @data, 0..XKV_HOT_SLOT_ROOM, a
 *        multiple of XKV_HOT_ENT_ALIGN; 0 = empty slot. An emptier stores
 *        0 here and nothing else.
 * @rsvd: 0.
 * @data: the entries (struct xkv_hot_ent), packed one after another from
 *        @data[0]: the first at offset 0, each next one @size bytes after
 *        the previous, up to @used.
 *
 * Every key whose xkv_hot_index() is this slot's number may live here, in
 * one entry at most; it lives in no other slot. A slot holds as many keys
 * as their entries fit: for 16-byte keys and 32-byte values an entry is
 * 104 bytes, 19 to a slot, 9,728 per MiB of map (the old layout, one key
 * per slot, held 512 per MiB).
 *
 * Nothing read from a slot is trusted: anyone with the map may write it.
 * A reader bounds @used by XKV_HOT_SLOT_ROOM, each entry's @size by what
 * is left (at least XKV_HOT_ENT_MIN, a multiple of XKV_HOT_ENT_ALIGN),
 * stops after XKV_HOT_ENTS_MAX entries, and bounds @key_len, @line_len and
 * @body_len by the entry's @size.
 */
struct xkv_slot {
	__u32 seq;
	__u16 used;
	__u16 rsvd;
	__u8 data[XKV_HOT_SLOT_ROOM];
};

/**
 * struct xkv_hot_ent - one key in a slot: its reply block, built.
 * @size:      bytes of the entry, header included, a multiple of
 *             XKV_HOT_ENT_ALIGN: xkv_hot_ent_size().
 * @key_len:   key length, 1..XKV_HOT_KEY_MAX. The key's bytes are in
 *             @body at offset 6, after "VALUE ".
 * @xflags:    XKV_SLOT_F_*; the store sets XKV_SLOT_F_META (and KEY_B64),
 *             learning mode XKV_SLOT_F_NO_CAS when it lacks the CAS.
 * @line_len:  bytes of "VALUE <key> <flags> <bytes>" at the start of
 *             @body (no CAS, no "\r\n").
 * @body_len:  bytes of @body: @line_len + 2 + value bytes + 2.
 * @hash:      xkv_hot_hash() of the key: compared before the key's bytes.
 * @hits:      approximate XDP hits since the key was installed: XDP adds 1
 *             with probability 1/XKV_HOT_HIT_SAMPLE per key it serves, with
 *             an atomic add, outside the seqlock. A popularity hint for the
 *             owner's admission; never exact.
 * @cas:       the item's CAS unique, which "gets" inserts after the line.
 * @expire_ns: CLOCK_MONOTONIC time in ns at which the item expires, 0 =
 *             never. XDP serves the entry only while
 *             bpf_ktime_get_ns() < @expire_ns. The store's clock runs on
 *             CLOCK_MONOTONIC too, so the store and XDP expire an item
 *             together.
 * @sum_line:  xkv_hot_csum() of the first @line_len bytes of @body.
 * @sum_body:  xkv_hot_csum() of all @body_len bytes of @body.
 * @rsvd:      0.
 * @body:      "VALUE <key> <flags> <bytes>\r\n<data>\r\n", byte for byte
 *             the block memcached sends for the key in a "get" reply: XDP
 *             copies it whole for "get"; for "gets" it copies @line_len
 *             bytes, " <cas>", then the rest. Bytes past @body_len up to
 *             @size are ignored.
 *
 * The checksums let XDP fill in a UDP or TCP checksum without summing the
 * payload: an entry whose body lands at an odd offset of the payload adds
 * its sum byte-swapped (RFC 1071).
 */
struct xkv_hot_ent {
	__u16 size;
	__u8 key_len;
	__u8 xflags;
	__u16 line_len;
	__u16 body_len;
	__u32 hash;
	__u32 hits;
	__u64 cas;
	__u64 expire_ns;
	__u16 sum_line;
	__u16 sum_body;
	__u32 rsvd;
	__u8 body[];
};

/*
 * xkv_hot_ent.xflags: the CAS unique is not known (learning mode installed
 * the value from a "get" reply, which carries none): XDP serves "get" from
 * the entry but passes "gets" to the backend.
 */
#define XKV_SLOT_F_NO_CAS 0x01
/*
 * xkv_hot_ent.xflags: the owner knows the item's meta state (the store,
 * not learning mode): it is neither stale nor has a recache token out (the
 * store keeps such items out of the slots), and XKV_SLOT_F_KEY_B64 says
 * how it was stored. XDP answers a meta "mg" only from such an entry.
 */
#define XKV_SLOT_F_META 0x02
/*
 * xkv_hot_ent.xflags: the item was stored with a base64 key (meta "b"):
 * an "mg ... k" echoes the key in base64 and " b" (memcached's
 * ITEM_KEY_BINARY). Meaningful only with XKV_SLOT_F_META.
 */
#define XKV_SLOT_F_KEY_B64 0x04

XKV_STATIC_ASSERT(sizeof(struct xkv_slot) == XKV_HOT_SLOT_SIZE,
		  "struct xkv_slot must be XKV_HOT_SLOT_SIZE bytes");
XKV_STATIC_ASSERT(__builtin_offsetof(struct xkv_slot, data) ==
			  XKV_HOT_SLOT_HDR,
		  "the slot header must be XKV_HOT_SLOT_HDR bytes");
XKV_STATIC_ASSERT(sizeof(struct xkv_hot_ent) == XKV_HOT_ENT_HDR,
		  "the entry header must be XKV_HOT_ENT_HDR bytes");
XKV_STATIC_ASSERT(XKV_HOT_ENT_HDR + XKV_HOT_LINE_MAX + 4 + XKV_HOT_VAL_MAX <=
			  XKV_HOT_SLOT_ROOM,
		  "a value of XKV_HOT_VAL_MAX bytes must fit any key");

/**
 * xkv_hot_ent_size() - bytes an entry takes in a slot.
 * @line_len: bytes of "VALUE <key> <flags> <bytes>"
 * @vlen:     value bytes
 *
 * Return: XKV_HOT_ENT_HDR + @line_len + 2 + @vlen + 2, rounded up to
 * XKV_HOT_ENT_ALIGN. An entry fits a slot when this is at most
 * XKV_HOT_SLOT_ROOM minus the slot's other entries.
 */
XKV_ABI_INLINE __u32 xkv_hot_ent_size(__u32 line_len, __u32 vlen)
{
	__u32 n = XKV_HOT_ENT_HDR + line_len + 2 + vlen + 2;

	return (n + XKV_HOT_ENT_ALIGN - 1) & ~(__u32)(XKV_HOT_ENT_ALIGN - 1);
}

/**
 * xkv_hot_csum() - the checksum of a run of bytes, as an entry keeps it.
 * @p:   bytes
 * @len: how many
 *
 * The 16-bit ones'-complement sum (RFC 1071), folded and not inverted, of
 * the bytes taken two at a time as native-endian 16-bit words from @p (a
 * last odd byte padded with a zero byte after it): what the kernel's
 * csum_partial() and bpf_csum_diff() sum, folded. The same bytes starting
 * at an odd offset of a packet add this sum with its two bytes swapped.
 *
 * Return: the sum, 0..0xffff.
 */
static inline __u16 xkv_hot_csum(const void *p, __u32 len)
{
	const __u8 *b = (const __u8 *)p;
	__u64 sum = 0;
	__u16 w;
	__u32 i;

	for (i = 0; i + 1 < len; i += 2) {
		__builtin_memcpy(&w, b + i, 2);
		sum += w;
	}
	if (len & 1) {
		__u8 last[2] = { b[len - 1], 0 };

		__builtin_memcpy(&w, last, 2);
		sum += w;
	}
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)sum;
}

/*
 * Writing and reading a slot: the seqlock, who may write what, and when a
 * writer gives up, are in xkv_slot.h, the one implementation of it.
 */

/*
 * The slot hash, 8 key bytes per step: the key is read as little-endian
 * 64-bit words (the last one zero-padded), each mixed into the state with
 * one multiply and one xorshift (xkv_hot_hash_mix()), then the length is
 * mixed in and a multiply-xorshift finaliser makes the low bits (the slot
 * index) depend on every byte (xkv_hot_hash_end()). A 16-byte key costs
 * four dependent multiplies, not sixteen.
 *
 * Parsers that see a key one byte at a time use the streaming form
 * (xkv_hot_hash_byte(), or xkv_hot_hash_word() for eight bytes at any
 * phase): it gathers bytes into a word and mixes every eighth, and gives
 * the same value as xkv_hot_hash(). Every side (the store, learning mode,
 * XDP, the tests) must compute the same value: an ABI of the slots.
 */
#define XKV_HOT_HASH_SEED 0x9e3779b97f4a7c15ULL
#define XKV_HOT_HASH_MUL 0xbf58476d1ce4e5b9ULL
#define XKV_HOT_HASH_FIN 0x94d049bb133111ebULL

/**
 * struct xkv_hot_hs - a running slot hash.
 * @h: the state: XKV_HOT_HASH_SEED mixed with every whole word so far.
 * @w: the bytes of the word being gathered, little-endian (byte i of the
 *     word at bits 8i..8i+7), the rest zero.
 *
 * How many bytes went in is the caller's to count (a parser knows its
 * token's length): every function takes it.
 */
struct xkv_hot_hs {
	__u64 h;
	__u64 w;
};

/**
 * xkv_hot_hash_mix() - mix one 8-byte word into the state.
 * @h: the state
 * @w: eight key bytes, little-endian
 *
 * Return: the new state.
 */
XKV_ABI_INLINE __u64 xkv_hot_hash_mix(__u64 h, __u64 w)
{
	h = (h ^ w) * XKV_HOT_HASH_MUL;
	return h ^ (h >> 32);
}

/**
 * xkv_hot_hash_init() - start a running hash.
 * @s: the hash
 */
XKV_ABI_INLINE void xkv_hot_hash_init(struct xkv_hot_hs *s)
{
	s->h = XKV_HOT_HASH_SEED;
	s->w = 0;
}

/**
 * xkv_hot_hash_byte() - fold one key byte into a running hash.
 * @s: the hash
 * @n: bytes folded in before this one
 * @c: the byte
 */
XKV_ABI_INLINE void xkv_hot_hash_byte(struct xkv_hot_hs *s, __u32 n, __u8 c)
{
	s->w |= (__u64)c << ((n & 7) * 8);
	if ((n & 7) == 7) {
		s->h = xkv_hot_hash_mix(s->h, s->w);
		s->w = 0;
	}
}

/**
 * xkv_hot_hash_word() - fold eight key bytes into a running hash.
 * @s: the hash
 * @n: bytes folded in before these
 * @w: the bytes, little-endian (the first at bits 0..7)
 *
 * The same as eight xkv_hot_hash_byte() calls, at any @n.
 */
XKV_ABI_INLINE void xkv_hot_hash_word(struct xkv_hot_hs *s, __u32 n, __u64 w)
{
	__u32 r = (n & 7) * 8;

	if (!r) {
		s->h = xkv_hot_hash_mix(s->h, w);
		return;
	}
	s->h = xkv_hot_hash_mix(s->h, s->w | (w << r));
	s->w = w >> (64 - r);
}

/**
 * xkv_hot_hash_fin() - the hash of a state whose last word is mixed in.
 * @h:   the state after the key's last (zero-padded) word
 * @len: key length
 *
 * Return: the key's hash.
 */
XKV_ABI_INLINE __u32 xkv_hot_hash_fin(__u64 h, __u32 len)
{
	h = xkv_hot_hash_mix(h, len);
	h *= XKV_HOT_HASH_FIN;
	return (__u32)(h >> 32);
}

/**
 * xkv_hot_hash_end() - finish a running hash.
 * @s:   the hash after the key's last byte
 * @len: key length (bytes folded in)
 *
 * Return: the key's hash, xkv_hot_hash()'s.
 */
XKV_ABI_INLINE __u32 xkv_hot_hash_end(const struct xkv_hot_hs *s, __u32 len)
{
	__u64 h = s->h;

	if (len & 7)
		h = xkv_hot_hash_mix(h, s->w);
	return xkv_hot_hash_fin(h, len);
}

/**
 * xkv_hot_hash_le64() - eight bytes as a little-endian word.
 * @p: the bytes, any alignment
 *
 * Return: the word.
 */
static inline __u64 xkv_hot_hash_le64(const __u8 *p)
{
	__u64 w;

	__builtin_memcpy(&w, p, 8);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	w = __builtin_bswap64(w);
#endif
	return w;
}

/**
 * xkv_hot_hash() - hash of a whole key, a word at a time.
 * @key: key bytes
 * @len: key length
 *
 * Return: the hash; xkv_hot_index() turns it into a slot number.
 */
static inline __u32 xkv_hot_hash(const void *key, __u32 len)
{
	const __u8 *p = (const __u8 *)key;
	__u64 h = XKV_HOT_HASH_SEED, w = 0;
	__u32 i;

	for (i = 0; i + 8 <= len; i += 8)
		h = xkv_hot_hash_mix(h, xkv_hot_hash_le64(p + i));
	if (len & 7) {
		for (; i < len; i++)
			w |= (__u64)p[i] << ((i & 7) * 8);
		h = xkv_hot_hash_mix(h, w);
	}
	return xkv_hot_hash_fin(h, len);
}

/**
 * xkv_hot_index() - slot number of a hash.
 * @hash:   xkv_hot_hash() of the key
 * @nslots: slot count, a power of two (the map's max_entries)
 *
 * Return: the slot index, below @nslots.
 */
XKV_ABI_INLINE __u32 xkv_hot_index(__u32 hash, __u32 nslots)
{
	return hash & (nslots - 1);
}

#endif /* XKV_ABI_HOT_H */
