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
 * A slot (xkv_hot.h) is a bucket: up to XKV_HOT_SLOT_ROOM bytes of
 * entries, one per key, packed from @data[0] up to @used. @seq guards the
 * whole slot, every entry in it, and is both the readers' sequence counter
 * and the writers' lock: even means stable, odd means a writer is inside.
 * Every write adds 2 to it.
 *
 * Who writes. A map has one *owner*, the only writer that puts entries
 * into slots: the store backend (kmod/core/hot.c, in xkvd or xkv.ko), or,
 * in learning mode, the TC programs (xkv_learn.bpf.c). Every other writer
 * is an *emptier* (`xkv flush`) and only ever stores @used = 0
 * (xkv_slot_empty()), a store that is harmless at any moment: it can only
 * turn entries that would be served into misses, never change one. A
 * write is:
 *
 *  1. xkv_slot_trylock(): @seq from even s to s + 1 with a compare-and-
 *     swap, a full barrier, so no store of step 2 is seen before it;
 *  2. plain stores to @data and @used. The owner removes, rewrites and
 *     appends entries with xkv_slot_remove(), xkv_slot_append() and
 *     xkv_slot_put(); each computes @used from the bytes it read once at
 *     its start and stores it last, and never changes the bytes of an
 *     entry it keeps but by moving them whole, so whatever an emptier's
 *     @used = 0 lands between, the slot holds entries the owner wrote in
 *     full (or none);
 *  3. xkv_slot_unlock(): @seq from s + 1 to s + 2, again with a compare-
 *     and-swap. It fails only if the slot was taken over (below): then
 *     the writer changes nothing more.
 *
 * Readers (XDP): xkv_slot_read_begin(); if odd, pass the request; walk the
 * entries and copy what is needed; read @seq again and serve the copy only
 * if it did not move. XDP never serves from an odd slot, nor from one
 * whose count moved during the copy.
 *
 * Giving up, the one policy. No writer waits without bound: it tries a
 * slot XKV_SLOT_TRIES times (xkv_slot_lock(); in BPF the caller's bounded
 * loop) and then, by role:
 *
 *  - an install that nobody waits for (admission, learning) is skipped;
 *  - an emptier leaves the slot alone and reports it;
 *  - the store, when it must change or remove an entry, takes the slot
 *    over with xkv_slot_steal(): the odd count it found becomes the next
 *    odd count, so the stuck holder's unlock fails and can never make the
 *    slot even again; if even that fails (the count keeps moving), the
 *    write to that slot is skipped;
 *  - the learning programs never take over: their invalidations bump a
 *    generation first, which their installer checks under the slot lock.
 *
 * Why giving up never makes a value older than an acknowledged write
 * servable:
 *
 *  (a) XDP serves nothing from an odd slot, so while the slot stays odd
 *      its entries, however old, are unserved.
 *  (b) The store serialises its own writers: writers of one key hold the
 *      key's stripe lock, and every store write to a slot holds that
 *      slot's lock (the per-slot set lock of kmod/core/hot.c), in memory
 *      no other process can reach. So a slot the store finds odd is never
 *      held by the store itself: its holder is an emptier (alive or dead)
 *      or nothing at all (a dead writer, or a bad write through the map).
 *  (c) An emptier that finishes late stores only @used = 0, which empties
 *      the slot, or, if the store took the slot over meanwhile, lands
 *      before the store's own @used store (which then wins, over entries
 *      the store wrote in full) or after it (misses). Its unlock fails
 *      after a take-over, so it never makes a slot even while the store
 *      is writing it.
 *  (d) So when the store skips a write to a slot (its count kept moving),
 *      only emptiers were moving it: the slot is odd, and stays so until
 *      an emptier empties it or the store takes it over at a later write,
 *      or it was just emptied. Either way the old entry is never served
 *      again. When the store takes a slot over, its write is complete,
 *      and the slot even, before the client is answered.
 *  (e) In learning mode the holder is the installer, which re-checks the
 *      generation the invalidator bumped before it tried and removes the
 *      entry, or an emptier, or nobody: (a) and (c) again.
 *
 * A new owner takes over and empties every slot before it serves (a dead
 * writer may have left slots odd): the store when the map is attached,
 * the loader for the learning programs before it attaches them. Nobody
 * trusts a field read from a slot: xkv_slot_used() and xkv_slot_ent_size()
 * bound @used, each @size and the walk, xkv_slot_find() @key_len, before
 * they are used as lengths or offsets; a slot whose entries do not chain
 * is cut at the first bad one. XDP bounds every field itself.
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
 * xkv_slot_empty() - what an emptier writes (step 2), slot held: @used = 0.
 * @sl: slot
 */
static inline void xkv_slot_empty(struct xkv_slot *sl)
{
	*(volatile __u16 *)&sl->used = 0;
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
 * xkv_slot_used() - a slot's @used, read once and bounded.
 * @sl: slot (anyone may be writing it)
 *
 * Return: @used rounded down to XKV_HOT_ENT_ALIGN, at most
 * XKV_HOT_SLOT_ROOM.
 */
static inline __u32 xkv_slot_used(const struct xkv_slot *sl)
{
	__u32 n = *(const volatile __u16 *)&sl->used;

	if (n > XKV_HOT_SLOT_ROOM)
		n = XKV_HOT_SLOT_ROOM;
	return n & ~(__u32)(XKV_HOT_ENT_ALIGN - 1);
}

/**
 * xkv_slot_ent() - the entry at byte @off of a slot's @data.
 * @sl:  slot
 * @off: offset, a multiple of XKV_HOT_ENT_ALIGN below XKV_HOT_SLOT_ROOM
 *
 * Return: the entry; nothing in it is checked.
 */
static inline struct xkv_hot_ent *xkv_slot_ent(const struct xkv_slot *sl,
					       __u32 off)
{
	return (struct xkv_hot_ent *)(sl->data + off);
}

/**
 * xkv_slot_ent_size() - the size of the entry at @off, read once, checked.
 * @sl:   slot
 * @off:  offset of the entry, a multiple of XKV_HOT_ENT_ALIGN
 * @used: the slot's bounded @used (xkv_slot_used())
 *
 * An entry is good when its @size is at least XKV_HOT_ENT_MIN, a multiple
 * of XKV_HOT_ENT_ALIGN, ends within @used, and its @key_len, @line_len and
 * @body_len fit it: a key of 1..XKV_HOT_KEY_MAX bytes after "VALUE ", a
 * line that holds the key and no longer than XKV_HOT_LINE_MAX, and a body
 * that holds the line and both "\r\n" within @size.
 *
 * Return: the entry's @size, or 0 when it is bad (or @off is at or past
 * @used): the walk over the slot stops there.
 */
static inline __u32 xkv_slot_ent_size(const struct xkv_slot *sl, __u32 off,
				      __u32 used)
{
	const volatile struct xkv_hot_ent *e;
	__u32 size, klen, line, body;

	if (off >= used || used - off < XKV_HOT_ENT_MIN ||
	    (off & (XKV_HOT_ENT_ALIGN - 1)))
		return 0;
	e = (const volatile struct xkv_hot_ent *)(sl->data + off);
	size = e->size;
	if (size < XKV_HOT_ENT_MIN || size > used - off ||
	    (size & (XKV_HOT_ENT_ALIGN - 1)))
		return 0;
	klen = e->key_len;
	line = e->line_len;
	body = e->body_len;
	if (!klen || klen > XKV_HOT_KEY_MAX || line < 6 + klen + 4 ||
	    line > XKV_HOT_LINE_MAX || body < line + 4 ||
	    body > size - XKV_HOT_ENT_HDR)
		return 0;
	return size;
}

/**
 * xkv_slot_end() - where a slot's good entries end.
 * @sl:   slot
 * @used: the slot's bounded @used (xkv_slot_used())
 *
 * Return: the offset just past the last entry of the chain from offset 0
 * that xkv_slot_ent_size() accepts, at most @used: where an append goes.
 */
static inline __u32 xkv_slot_end(const struct xkv_slot *sl, __u32 used)
{
	__u32 off = 0, i, n;

	for (i = 0; i < XKV_HOT_ENTS_MAX; i++) {
		n = xkv_slot_ent_size(sl, off, used);
		if (!n)
			break;
		off += n;
	}
	return off;
}

/**
 * xkv_slot_find() - where a key's entry is in a slot.
 * @sl:   slot (anyone may be writing it)
 * @hash: xkv_hot_hash() of the key
 * @key:  key bytes
 * @klen: key length, 1..XKV_HOT_KEY_MAX
 *
 * Walks at most XKV_HOT_ENTS_MAX entries, each checked with
 * xkv_slot_ent_size() before any of its bytes is read, and stops at the
 * first bad one. Without the slot held the answer is only a hint; with
 * it (and no rogue writer), the answer.
 *
 * Return: the byte offset in @sl->data of the key's entry, or -1.
 */
static inline int xkv_slot_find(const struct xkv_slot *sl, __u32 hash,
				const void *key, __u32 klen)
{
	__u32 used = xkv_slot_used(sl), off = 0, i, n;
	const struct xkv_hot_ent *e;

	if (!klen || klen > XKV_HOT_KEY_MAX)
		return -1;
	for (i = 0; i < XKV_HOT_ENTS_MAX; i++) {
		n = xkv_slot_ent_size(sl, off, used);
		if (!n)
			break;
		e = xkv_slot_ent(sl, off);
		/* n >= XKV_HOT_ENT_HDR + 6 + klen: checked above */
		if (*(const volatile __u32 *)&e->hash == hash &&
		    *(const volatile __u8 *)&e->key_len == klen &&
		    n >= XKV_HOT_ENT_HDR + 6 + klen &&
		    !__builtin_memcmp(e->body + 6, key, klen))
			return (int)off;
		off += n;
	}
	return -1;
}

/**
 * xkv_slot_remove() - remove the entry at @off (step 2), slot held.
 * @sl:  slot
 * @off: what xkv_slot_find() returned
 *
 * The entries after it move down whole and @used shrinks by its size
 * (stored last). If the entry at @off is no good entry (a rogue write),
 * the slot is cut at @off instead.
 */
static inline void xkv_slot_remove(struct xkv_slot *sl, __u32 off)
{
	__u32 used = xkv_slot_used(sl);
	__u32 end = xkv_slot_end(sl, used);
	__u32 n = xkv_slot_ent_size(sl, off, end);

	if (off >= end)
		return;
	if (!n) {
		*(volatile __u16 *)&sl->used = (__u16)off;
		return;
	}
	__builtin_memmove(sl->data + off, sl->data + off + n, end - off - n);
	*(volatile __u16 *)&sl->used = (__u16)(end - n);
}

/* decimal digits of @v into @p (room for 10); returns how many */
static inline __u32 xkv_slot_utoa(char *p, __u32 v)
{
	char tmp[10];
	__u32 n = 0, i;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	for (i = 0; i < n; i++)
		p[i] = tmp[n - 1 - i];
	return n;
}

/**
 * xkv_slot_line_len() - bytes of "VALUE <key> <flags> <bytes>".
 * @klen:  key length
 * @vlen:  value length
 * @flags: client flags
 *
 * Return: the length, without "\r\n"; xkv_hot_ent_size() of it and
 * @vlen is what an entry takes.
 */
static inline __u32 xkv_slot_line_len(__u32 klen, __u32 vlen, __u32 flags)
{
	char d[10];

	return 6 + klen + 1 + xkv_slot_utoa(d, flags) + 1 +
	       xkv_slot_utoa(d, vlen);
}

/**
 * xkv_slot_append_at() - add an entry at the end of a slot (step 2), held.
 * @sl:     slot
 * @hash:   xkv_hot_hash() of the key
 * @key:    key, 1..XKV_HOT_KEY_MAX bytes (the caller makes sure the slot
 *          does not hold it already: xkv_slot_put() does)
 * @klen:   key length
 * @val:    value
 * @vlen:   value length
 * @flags:  client flags
 * @cas:    CAS unique
 * @exp_ns: CLOCK_MONOTONIC expiry in ns, 0 = never
 * @xflags: XKV_SLOT_F_*
 *
 * Builds the entry after the slot's last good entry: the header (@hits
 * 0), "VALUE <key> <flags> <bytes>\r\n<data>\r\n" exactly as memcached
 * prints it, zeroes up to @size, both sums with xkv_hot_csum(); then
 * stores @used last.
 *
 * Return: the new entry's offset in @sl->data, or -1 when it does not fit
 * (nothing written).
 */
static inline int xkv_slot_append_at(struct xkv_slot *sl, __u32 hash,
				     const void *key, __u32 klen,
				     const void *val, __u32 vlen, __u32 flags,
				     __u64 cas, __u64 exp_ns, __u8 xflags)
{
	__u32 end, line, body, size;
	struct xkv_hot_ent *e;
	char *p;

	if (!klen || klen > XKV_HOT_KEY_MAX || vlen > XKV_HOT_SLOT_ROOM)
		return -1;
	line = xkv_slot_line_len(klen, vlen, flags);
	size = xkv_hot_ent_size(line, vlen);
	end = xkv_slot_end(sl, xkv_slot_used(sl));
	if (size > XKV_HOT_SLOT_ROOM - end)
		return -1;
	body = line + 2 + vlen + 2;
	e = xkv_slot_ent(sl, end);
	p = (char *)e->body;
	__builtin_memcpy(p, "VALUE ", 6);
	p += 6;
	__builtin_memcpy(p, key, klen);
	p += klen;
	*p++ = ' ';
	p += xkv_slot_utoa(p, flags);
	*p++ = ' ';
	p += xkv_slot_utoa(p, vlen);
	*p++ = '\r';
	*p++ = '\n';
	if (vlen)
		__builtin_memcpy(p, val, vlen);
	p += vlen;
	*p++ = '\r';
	*p++ = '\n';
	__builtin_memset(p, 0, size - XKV_HOT_ENT_HDR - body);
	e->size = (__u16)size;
	e->key_len = (__u8)klen;
	e->xflags = xflags;
	e->line_len = (__u16)line;
	e->body_len = (__u16)body;
	e->hash = hash;
	__atomic_store_n(&e->hits, 0, __ATOMIC_RELAXED);
	e->cas = cas;
	e->expire_ns = exp_ns;
	e->sum_line = xkv_hot_csum(e->body, line);
	e->sum_body = xkv_hot_csum(e->body, body);
	e->rsvd = 0;
	*(volatile __u16 *)&sl->used = (__u16)(end + size);
	return (int)end;
}

/**
 * xkv_slot_append() - xkv_slot_append_at(), answering only whether it fit.
 * @sl:     slot, held
 * @hash:   xkv_hot_hash() of the key
 * @key:    key, 1..XKV_HOT_KEY_MAX bytes, not in the slot yet
 * @klen:   key length
 * @val:    value
 * @vlen:   value length
 * @flags:  client flags
 * @cas:    CAS unique
 * @exp_ns: CLOCK_MONOTONIC expiry in ns, 0 = never
 * @xflags: XKV_SLOT_F_*
 *
 * Return: 1 when appended, 0 when it does not fit (nothing written).
 */
static inline int xkv_slot_append(struct xkv_slot *sl, __u32 hash,
				  const void *key, __u32 klen,
				  const void *val, __u32 vlen, __u32 flags,
				  __u64 cas, __u64 exp_ns, __u8 xflags)
{
	return xkv_slot_append_at(sl, hash, key, klen, val, vlen, flags, cas,
				  exp_ns, xflags) >= 0;
}

/**
 * xkv_slot_put() - install or rewrite a key's entry (step 2), slot held.
 * @sl:     slot
 * @hash:   xkv_hot_hash() of the key
 * @key:    key, 1..XKV_HOT_KEY_MAX bytes
 * @klen:   key length
 * @val:    value
 * @vlen:   value length
 * @flags:  client flags
 * @cas:    CAS unique
 * @exp_ns: CLOCK_MONOTONIC expiry in ns, 0 = never
 * @xflags: XKV_SLOT_F_*
 *
 * xkv_slot_find(), xkv_slot_remove() of the key's old entry if there is
 * one, xkv_slot_append(). A rewrite keeps the old entry's @hits.
 *
 * Return: 1 when the new entry is in, 0 when it does not fit: then the key
 * is in the slot no more (its old entry is removed either way).
 */
static inline int xkv_slot_put(struct xkv_slot *sl, __u32 hash,
			       const void *key, __u32 klen, const void *val,
			       __u32 vlen, __u32 flags, __u64 cas,
			       __u64 exp_ns, __u8 xflags)
{
	int off = xkv_slot_find(sl, hash, key, klen);
	__u32 hits = 0;

	if (off >= 0) {
		hits = __atomic_load_n(&xkv_slot_ent(sl, (__u32)off)->hits,
				       __ATOMIC_RELAXED);
		xkv_slot_remove(sl, (__u32)off);
	}
	off = xkv_slot_append_at(sl, hash, key, klen, val, vlen, flags, cas,
				 exp_ns, xflags);
	if (off < 0)
		return 0;
	if (hits)
		__atomic_store_n(&xkv_slot_ent(sl, (__u32)off)->hits, hits,
				 __ATOMIC_RELAXED);
	return 1;
}

#endif /* __bpf__ */

#endif /* XKV_SLOT_H */
