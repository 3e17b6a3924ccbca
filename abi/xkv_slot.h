/* SPDX-License-Identifier: GPL-2.0 */
/*
 * xkv_slot.h - the one implementation of the hot-cache slot seqlock.
 *
 * Every writer and reader of struct xkv_slot (xkv_hot.h) uses these
 * functions: the XDP program and the learning programs (BPF), the store
 * core in xkvd (user space) and in xkv.ko (kernel), the loader, the bench
 * and the tests. Only compiler builtins, so the same code compiles as BPF,
 * as user-space C and in the kernel. The C-only part (bounded waiting,
 * taking a slot over, filling it) is left out of BPF objects.
 */
#ifndef XKV_SLOT_H
#define XKV_SLOT_H

#include "xkv_hot.h"

/**
 * DOC: the slot seqlock
 *
 * @seq is both the readers' sequence counter and the writers' lock: even
 * means stable, odd means a writer is inside. Every write adds 2 to it.
 *
 * Who writes. A map has one *owner*, the only writer that puts keys and
 * values into slots: the store backend (kmod/core/hot.c, in xkvd or
 * xkv.ko), or, in learning mode, the TC programs (xkv_learn.bpf.c). Every
 * other writer is an *emptier* (`xkv flush`) and only ever stores
 * @key_len = 0 and @xflags = 0 (xkv_slot_empty()), a store that is
 * harmless at any moment: it can only turn a slot that would be served
 * into a miss. A write is:
 *
 *  1. xkv_slot_trylock(): @seq from even s to s + 1 with a compare-and-
 *     swap, a full barrier, so no store of step 2 is seen before it;
 *  2. plain stores to any fields but @seq (an install writes @key_len
 *     last, see xkv_slot_put());
 *  3. xkv_slot_unlock(): @seq from s + 1 to s + 2, again with a compare-
 *     and-swap. It fails only if the slot was taken over (below): then
 *     the writer changes nothing more.
 *
 * Readers (XDP): xkv_slot_read_begin(); if odd, pass the request; copy what
 * is needed; read @seq again and serve the copy only if it did not move.
 * XDP never serves an odd slot, nor one whose count moved during the copy.
 *
 * Giving up, the one policy. No writer waits without bound: it tries a
 * slot XKV_SLOT_TRIES times (xkv_slot_lock(); in BPF the caller's bounded
 * loop) and then, by role:
 *
 *  - an install that nobody waits for (admission, learning) is skipped;
 *  - an emptier leaves the slot alone and reports it;
 *  - the store, when it must change or empty a slot, takes it over with
 *    xkv_slot_steal(): the odd count it found becomes the next odd count,
 *    so the stuck holder's unlock fails and can never make the slot even
 *    again; if even that fails (the count keeps moving), the write to
 *    that slot is skipped;
 *  - the learning programs never take over: their invalidations bump a
 *    generation first, which their installer checks under the slot lock.
 *
 * Why giving up never makes a value older than an acknowledged write
 * servable:
 *
 *  (a) XDP serves nothing from an odd slot, so while the slot stays odd
 *      its contents, however old, are unserved.
 *  (b) The store serialises its own writers: writers of one key hold the
 *      key's stripe lock, and every store write to a set of XKV_HOT_WAYS
 *      slots holds that set's lock, in memory no other process can reach.
 *      So a slot the store finds odd is never held by the store itself:
 *      its holder is an emptier (alive or dead) or nothing at all (a dead
 *      writer, or a bad write through the map).
 *  (c) An emptier that finishes late stores only @key_len = 0, which
 *      empties the slot, or, if the store took the slot over meanwhile,
 *      lands before the store's own @key_len store (which then wins) or
 *      after it (a miss). Its unlock fails after a take-over, so it never
 *      makes a slot even while the store is writing it.
 *  (d) So when the store skips a write to a slot (its count kept moving),
 *      only emptiers were moving it: the slot is odd, and stays so until
 *      an emptier empties it or the store takes it over at a later write,
 *      or it was just emptied. Either way the old value is never served
 *      again. When the store takes a slot over, its write is complete,
 *      and the slot even, before the client is answered.
 *  (e) In learning mode the holder is the installer, which re-checks the
 *      generation the invalidator bumped before it tried and empties the
 *      slot, or an emptier, or nobody: (a) and (c) again.
 *
 * A new owner takes over and empties every slot before it serves (a dead
 * writer may have left slots odd): the store when the map is attached,
 * the loader for the learning programs before it attaches them. The store
 * never trusts a field it reads back: @key_len is bounded with
 * xkv_slot_klen() before it is used as a length. XDP bounds @key_len and
 * @val_len itself.
 *
 * Coherence: the write is complete (step 3) before the backend
 * acknowledges, so a GET that XDP starts after the client saw the
 * acknowledgement finds the new contents or a busy slot (and passes). A
 * GET already in flight may return the old value, as memcached may.
 */

/* tries at an odd or contended slot before a writer gives up */
#define XKV_SLOT_TRIES (1 << 14)

#define XKV_SLOT_SEQ(sl) (*(volatile __u32 *)&(sl)->seq)

/**
 * xkv_slot_trylock() - one attempt to enter a slot (step 1).
 * @sl:  slot
 * @seq: out: the even count found, to give to xkv_slot_unlock()
 *
 * Return: 1 when the slot is now held (odd), 0 when it was odd or another
 * writer took it first.
 */
static inline int xkv_slot_trylock(struct xkv_slot *sl, __u32 *seq)
{
	__u32 s = XKV_SLOT_SEQ(sl);

	if (s & 1)
		return 0;
	if (__sync_val_compare_and_swap(&sl->seq, s, s + 1) != s)
		return 0;
	*seq = s;
	return 1;
}

/**
 * xkv_slot_unlock() - publish a write (step 3).
 * @sl:  slot
 * @seq: what xkv_slot_trylock() (or xkv_slot_steal()) gave
 *
 * Return: 1, or 0 when the slot was taken over meanwhile (nothing done).
 */
static inline int xkv_slot_unlock(struct xkv_slot *sl, __u32 seq)
{
	return __sync_val_compare_and_swap(&sl->seq, seq + 1, seq + 2) ==
	       seq + 1;
}

/**
 * xkv_slot_empty() - what an emptier writes (step 2), slot held.
 * @sl: slot
 */
static inline void xkv_slot_empty(struct xkv_slot *sl)
{
	*(volatile __u16 *)&sl->key_len = 0;
	*(volatile __u8 *)&sl->xflags = 0;
}

#ifdef __bpf__

/**
 * xkv_slot_seq_read() - the readers' load of @seq.
 * @sl: slot
 *
 * x86 keeps loads in order (TSO): a plain load between compiler barriers.
 * Elsewhere (arm64) an atomic read, which is a full barrier in BPF.
 *
 * Return: the count.
 */
static __always_inline __u32 xkv_slot_seq_read(struct xkv_slot *sl)
{
#ifdef __TARGET_ARCH_x86
	__u32 v;

	asm volatile("" ::: "memory");
	v = XKV_SLOT_SEQ(sl);
	asm volatile("" ::: "memory");
	return v;
#else
	return __sync_fetch_and_add(&sl->seq, 0);
#endif
}

/**
 * xkv_slot_read_begin() - start a read of a slot (BPF readers).
 * @sl:  slot
 * @seq: out: the count, for xkv_slot_read_retry()
 *
 * Return: 1 when the slot is stable, 0 when a writer is inside (odd):
 * then nothing read from it may be used.
 */
static __always_inline int xkv_slot_read_begin(struct xkv_slot *sl, __u32 *seq)
{
	*seq = xkv_slot_seq_read(sl);
	return !(*seq & 1);
}

/**
 * xkv_slot_read_retry() - end a read begun with xkv_slot_read_begin().
 * @sl:  slot
 * @seq: what xkv_slot_read_begin() gave
 *
 * Return: 1 when a writer came in meanwhile: what was read is not to be
 * used; 0 when it is a consistent copy.
 */
static __always_inline int xkv_slot_read_retry(struct xkv_slot *sl, __u32 seq)
{
	return xkv_slot_seq_read(sl) != seq;
}

#else /* C: the store, the loader, the tests, the bench */

#ifndef XKV_SLOT_RELAX
#if defined(__x86_64__) || defined(__i386__)
#define XKV_SLOT_RELAX() __asm__ __volatile__("pause" ::: "memory")
#elif defined(__aarch64__)
#define XKV_SLOT_RELAX() __asm__ __volatile__("yield" ::: "memory")
#else
#define XKV_SLOT_RELAX() __asm__ __volatile__("" ::: "memory")
#endif
#endif

/**
 * xkv_slot_lock() - enter a slot, trying XKV_SLOT_TRIES times.
 * @sl:  slot
 * @seq: out, for xkv_slot_unlock()
 *
 * Return: 1 when held, 0 when the writer gives up (see the DOC).
 */
static inline int xkv_slot_lock(struct xkv_slot *sl, __u32 *seq)
{
	__u32 i;

	for (i = 0; i < XKV_SLOT_TRIES; i++) {
		if (xkv_slot_trylock(sl, seq))
			return 1;
		XKV_SLOT_RELAX();
	}
	return 0;
}

/**
 * xkv_slot_steal() - the store takes over a slot it could not lock.
 * @sl:  slot
 * @seq: out, for xkv_slot_unlock()
 *
 * Only for the store, holding the slot's set lock (see the DOC, (b)-(d)):
 * an odd count o becomes o + 2, still odd, so XDP keeps passing and the
 * holder's unlock (o to o + 1) fails.
 *
 * Return: 1 when held, 0 when the count moved under it.
 */
static inline int xkv_slot_steal(struct xkv_slot *sl, __u32 *seq)
{
	__u32 o = XKV_SLOT_SEQ(sl);

	if (!(o & 1))
		return xkv_slot_trylock(sl, seq);
	if (__sync_val_compare_and_swap(&sl->seq, o, o + 2) != o)
		return 0;
	*seq = o + 1;
	return 1;
}

/**
 * xkv_slot_take() - the store enters a slot: lock, else take it over.
 * @sl:  slot
 * @seq: out, for xkv_slot_unlock()
 *
 * Return: 1 when held, 0 when the write to this slot is to be skipped.
 */
static inline int xkv_slot_take(struct xkv_slot *sl, __u32 *seq)
{
	return xkv_slot_lock(sl, seq) || xkv_slot_steal(sl, seq);
}

/**
 * xkv_slot_klen() - a slot's key length, read once and bounded.
 * @sl: slot (anyone may be writing it)
 *
 * Return: @key_len, or 0 when it is beyond XKV_HOT_KEY_MAX.
 */
static inline __u32 xkv_slot_klen(const struct xkv_slot *sl)
{
	__u32 n = *(const volatile __u16 *)&sl->key_len;

	return n <= XKV_HOT_KEY_MAX ? n : 0;
}

/**
 * xkv_slot_has_key() - does the slot seem to hold @key?
 * @sl:   slot
 * @key:  key
 * @klen: its length, 1..XKV_HOT_KEY_MAX
 *
 * Without the slot held this is only a hint; with it, the answer.
 *
 * Return: 1 when @key_len and the key bytes match.
 */
static inline int xkv_slot_has_key(const struct xkv_slot *sl,
				   const void *key, __u32 klen)
{
	return xkv_slot_klen(sl) == klen &&
	       !__builtin_memcmp(sl->key, key, klen);
}

/**
 * xkv_slot_put() - install a key and its value (step 2), slot held.
 * @sl:     slot
 * @key:    key, 1..XKV_HOT_KEY_MAX bytes
 * @klen:   key length
 * @val:    value, at most XKV_HOT_VAL_MAX bytes
 * @vlen:   value length
 * @flags:  client flags
 * @cas:    CAS unique
 * @exp_ns: CLOCK_MONOTONIC expiry in ns, 0 = never
 *
 * @hits restarts at 0 when the key changes; @key_len is written last.
 */
static inline void xkv_slot_put(struct xkv_slot *sl, const void *key,
				__u32 klen, const void *val, __u32 vlen,
				__u32 flags, __u64 cas, __u64 exp_ns)
{
	if (!xkv_slot_has_key(sl, key, klen))
		__atomic_store_n(&sl->hits, 0, __ATOMIC_RELAXED);
	sl->cas = cas;
	sl->expire_ns = exp_ns;
	sl->flags = flags;
	sl->val_len = (__u16)vlen;
	sl->xflags = 0;
	__builtin_memcpy(sl->val, val, vlen);
	__builtin_memcpy(sl->key, key, klen);
	*(volatile __u16 *)&sl->key_len = (__u16)klen;
}

#endif /* __bpf__ */

#endif /* XKV_SLOT_H */
