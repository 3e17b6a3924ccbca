/* SPDX-License-Identifier: GPL-2.0 */
/*
 * unit_util.h - helpers shared by the unit tests: building a store, storing
 * and reading items through the public item API, peeking at internals, a
 * stable wall clock, a PRNG and a session driver.
 */
#ifndef XKV_TESTS_UNIT_UTIL_H
#define XKV_TESTS_UNIT_UTIL_H

#include "items.h"
#include "session.h"
#include "store_int.h"

/**
 * uu_store_new() - a store with memcached's defaults but @maxbytes.
 * @maxbytes:   memory limit in bytes
 * @hash_power: log2 of the initial bucket count
 *
 * Bails out of the test when the store cannot be built.
 *
 * Return: the store.
 */
struct xkv_store *uu_store_new(u64 maxbytes, u32 hash_power);

/**
 * uu_store_op() - run a storage command through xkv_item_alloc/store.
 * @st:      store
 * @op:      command
 * @key:     NUL-terminated key
 * @val:     value bytes
 * @vlen:    value length
 * @flags:   client flags
 * @exptime: client exptime (0, relative, absolute or negative)
 * @cas:     CAS for XKV_OP_CAS
 *
 * Return: the result; XKV_TOO_LARGE or XKV_NO_MEMORY when the allocation
 * fails.
 */
enum xkv_res uu_store_op(struct xkv_store *st, enum xkv_store_op op,
			 const char *key, const void *val, size_t vlen,
			 u32 flags, s64 exptime, u64 cas);

/* set @key to the string @val, flags 0, no expiry */
static inline enum xkv_res uu_set(struct xkv_store *st, const char *key,
				  const char *val)
{
	return uu_store_op(st, XKV_OP_SET, key, val, strlen(val), 0, 0, 0);
}

/**
 * struct uu_val - a value read back.
 * @data:  value bytes, NUL-terminated for convenience (malloc'd)
 * @len:   value length
 * @flags: client flags
 * @cas:   CAS unique
 * @expired: the read found the key expired
 * @flushed: the read found the key flushed
 */
struct uu_val {
	char *data;
	size_t len;
	u32 flags;
	u64 cas;
	bool expired;
	bool flushed;
};

/**
 * uu_get() - read a key with xkv_item_get() (as "gets") and parse the reply.
 * @st:  store
 * @key: NUL-terminated key
 * @v:   result; free with uu_val_free() (also after a miss)
 *
 * Return: 1 hit, 0 miss, -1 when the reply is malformed or out of memory.
 */
int uu_get(struct xkv_store *st, const char *key, struct uu_val *v);

/**
 * uu_get_str() - read a key, compare nothing, return the value.
 * @st:  store
 * @key: key
 *
 * Return: a malloc'd NUL-terminated copy of the value, or NULL on a miss.
 */
char *uu_get_str(struct xkv_store *st, const char *key);

/* true when @key reads as a hit */
bool uu_has(struct xkv_store *st, const char *key);

/* @key's CAS unique, 0 on a miss */
u64 uu_cas(struct xkv_store *st, const char *key);

void uu_val_free(struct uu_val *v);

/**
 * uu_peek() - copy the header of @key's linked item, dead or alive.
 * @st:  store
 * @key: NUL-terminated key
 * @hdr: out: the header (not the data)
 *
 * Takes the stripe lock, touches nothing (no expiry, no ref bit).
 *
 * Return: true when the key is linked.
 */
bool uu_peek(struct xkv_store *st, const char *key, struct xkv_item *hdr);

/**
 * uu_stat() - one value of "stats" (xkv_stats_general()).
 * @st:   store
 * @name: stat name
 *
 * Return: the value; ~0 when the stat is missing.
 */
u64 uu_stat(struct xkv_store *st, const char *name);

/* sum of a per-class counter: offsetof(struct xkv_class, field) */
u64 uu_class_sum(struct xkv_store *st, size_t field_off);

#define UU_CLASS_SUM(st, field) \
	uu_class_sum((st), offsetof(struct xkv_class, field))

/**
 * uu_check_table() - walk the whole hash table under the stripe locks.
 * @st:    store
 * @items: out: items linked
 * @bytes: out: sum of xkv_item_total() over them
 *
 * Return: 0 when every item sits in the stripe and bucket its key hashes
 * to, every stripe's count matches its chains, and every item is marked
 * linked; else the number of inconsistencies found.
 */
u64 uu_check_table(struct xkv_store *st, u64 *items, u64 *bytes);

/**
 * uu_wall_settle() - make sure the wall clock second will not change soon.
 *
 * Sleeps when the current second is about to end, so the few
 * microseconds of a timing-sensitive check that follows all see the same
 * time(NULL). Gives at least ~250 ms.
 */
void uu_wall_settle(void);

/* xorshift64*: deterministic pseudo-random numbers */
static inline u64 uu_rand(u64 *s)
{
	u64 x = *s;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * 0x2545f4914f6cdd1dULL;
}

/* monotonic time in nanoseconds */
u64 uu_now_ns(void);

enum uu_split {
	UU_WHOLE,	/* everything in one offer */
	UU_BYTES,	/* one new byte per offer */
	UU_RANDOM,	/* new bytes in random pieces of 1..97 */
};

/**
 * struct uu_run - what a session produced for one input.
 * @out:     every reply byte, in order (malloc'd, NUL-terminated)
 * @outlen:  its length
 * @left:    bytes offered but never consumed at the end
 * @closing: xkv_sess_closing() at the end
 * @calls:   how many xkv_sess_input() calls were made
 */
struct uu_run {
	char *out;
	size_t outlen;
	size_t left;
	bool closing;
	u64 calls;
};

/**
 * uu_drive() - feed @in to @s the way a transport does.
 * @s:     session
 * @in:    input
 * @len:   its length
 * @split: how new bytes arrive
 * @seed:  PRNG seed for UU_RANDOM
 * @r:     result; free r->out
 *
 * Unconsumed bytes are kept and offered again with the next piece; after
 * each call the output is drained (as if sent) and, while the session
 * makes progress, the remaining bytes are offered again (back-pressure).
 * Stops early when the session is closing.
 */
void uu_drive(struct xkv_sess *s, const char *in, size_t len,
	      enum uu_split split, u64 seed, struct uu_run *r);

/**
 * uu_reply_is() - feed @in to @s whole; is its reply @want?
 * @s:    session
 * @in:   a command line (or several), NUL-terminated
 * @want: the reply expected, NUL-terminated
 *
 * A different reply is printed as a TAP diagnostic.
 * Return: true when the reply is exactly @want.
 */
bool uu_reply_is(struct xkv_sess *s, const char *in, const char *want);

/**
 * uu_bin_pkt() - a binary protocol request packet.
 * @p:           where to write it (24 + @next + key + value bytes)
 * @op:          opcode
 * @key:         key, NUL-terminated ("" for none)
 * @ext:         extras, @next bytes
 * @next:        how many
 * @val:         value, NUL-terminated, or NULL
 * @bodylen_lie: when not 0, the body length the header claims
 *
 * Return: the packet's length.
 */
size_t uu_bin_pkt(u8 *p, u8 op, const char *key, const void *ext, u8 next,
		  const char *val, u32 bodylen_lie);

/* take the session's pending output as a malloc'd string, mark it sent */
char *uu_take_out(struct xkv_sess *s, size_t *len);

#endif /* XKV_TESTS_UNIT_UTIL_H */
