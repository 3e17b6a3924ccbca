// SPDX-License-Identifier: GPL-2.0
/*
 * budget.c - the connections' buffer budget (see budget.h).
 */
#include "budget.h"

void xkv_budget_init(struct xkv_budget *b, u64 limit)
{
	b->limit = limit;
	os_atomic64_set(&b->used, 0);
	os_atomic64_set(&b->input, 0);
}

bool xkv_budget_take(struct xkv_budget *b, size_t n, bool input)
{
	s64 used;

	if (!n)
		return true;
	if (input) {
		used = os_atomic64_add_return((s64)n, &b->input);
		if (b->limit && (u64)used > b->limit / 2) {
			os_atomic64_add(-(s64)n, &b->input);
			return false;
		}
	}
	used = os_atomic64_add_return((s64)n, &b->used);
	if (b->limit && (u64)used > b->limit) {
		os_atomic64_add(-(s64)n, &b->used);
		if (input)
			os_atomic64_add(-(s64)n, &b->input);
		return false;
	}
	return true;
}

void xkv_budget_force(struct xkv_budget *b, size_t n)
{
	os_atomic64_add((s64)n, &b->used);
}

void xkv_budget_give(struct xkv_budget *b, size_t n, bool input)
{
	if (!n)
		return;
	if (input)
		os_atomic64_add(-(s64)n, &b->input);
	os_atomic64_add(-(s64)n, &b->used);
}
