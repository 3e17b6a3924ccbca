/* SPDX-License-Identifier: GPL-2.0 */
/*
 * budget.h - one byte budget for the buffers of every TCP connection.
 *
 * Each connection has a fixed base that is not charged: its read buffer's
 * first XKV_INBUF_INIT bytes and its reply buffer's first XKV_BUF_MIN
 * bytes. Everything a buffer grows past its base is taken from the one
 * budget of the server, or the buffer does not grow: the session stops
 * before the command (or, in a multi-key get, before the key) that needs
 * more, and the transport stops reading, until memory is given back.
 * Read buffers may hold at most half of the budget, so the replies that
 * clients are reading can always be built from the other half and the
 * server keeps moving while other clients sit on half-sent lines.
 *
 * A transport that a refusal stopped retries on its own: nothing wakes it
 * directly. xkvd's workers and xkv.ko's maintenance thread retry stalled
 * connections every XKV_BUDGET_RETRY_MS.
 */
#ifndef XKV_CORE_BUDGET_H
#define XKV_CORE_BUDGET_H

#include "os.h"

/* how often a connection stopped by the budget tries again */
#define XKV_BUDGET_RETRY_MS 10
/* default budget: this much, or 8 times the largest item if more */
#define XKV_BUDGET_DEFAULT (64ULL * 1024 * 1024)

/**
 * struct xkv_budget - bytes the connections' buffers may take together.
 * @limit: most bytes, 0 for no limit
 * @used:  bytes taken now, read buffers included
 * @input: bytes taken by read buffers
 */
struct xkv_budget {
	u64 limit;
	os_atomic64_t used;
	os_atomic64_t input;
};

/**
 * xkv_budget_default() - the budget a server gets when none is set.
 * @item_size_max: the largest item (-I)
 *
 * Return: XKV_BUDGET_DEFAULT, or 8 * @item_size_max when that is more.
 */
static inline u64 xkv_budget_default(u32 item_size_max)
{
	u64 scaled = 8ULL * item_size_max;

	return scaled > XKV_BUDGET_DEFAULT ? scaled : XKV_BUDGET_DEFAULT;
}

/**
 * xkv_budget_min() - the smallest budget that lets every reply be built.
 * @item_size_max: the largest item (-I)
 *
 * One item's reply, built in a buffer that grows by doubling, must fit
 * the half of the budget that read buffers cannot take.
 *
 * Return: bytes.
 */
static inline u64 xkv_budget_min(u32 item_size_max)
{
	return 4ULL * item_size_max + (1ULL << 20);
}

/**
 * xkv_budget_init() - an empty budget.
 * @b:     budget
 * @limit: most bytes, 0 for no limit
 */
void xkv_budget_init(struct xkv_budget *b, u64 limit);

/**
 * xkv_budget_take() - take @n bytes if the budget has them.
 * @b:     budget
 * @n:     bytes
 * @input: for a read buffer (which may take at most half of the budget)
 *
 * Return: true when taken; give them back with xkv_budget_give().
 */
bool xkv_budget_take(struct xkv_budget *b, size_t n, bool input);

/**
 * xkv_budget_force() - take @n bytes even past the limit.
 * @b: budget
 * @n: bytes
 *
 * For the small replies of a command that was let in with room for them
 * (xkv_budget_take() first reserved that room), should one run longer.
 */
void xkv_budget_force(struct xkv_budget *b, size_t n);

/**
 * xkv_budget_give() - give back bytes taken.
 * @b:     budget
 * @n:     bytes
 * @input: as they were taken
 */
void xkv_budget_give(struct xkv_budget *b, size_t n, bool input);

/**
 * xkv_budget_used() - bytes taken now.
 * @b: budget
 *
 * Return: bytes.
 */
static inline u64 xkv_budget_used(struct xkv_budget *b)
{
	return (u64)os_atomic64_read(&b->used);
}

#endif /* XKV_CORE_BUDGET_H */
