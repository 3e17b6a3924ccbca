// SPDX-License-Identifier: GPL-2.0
/*
 * workload.c - what to send next: the preload's SET of every key in the
 * thread's range, or the measured mix of GETs and SETs over keys drawn
 * uniformly or from the Zipf sampler (rank r is key id r - 1).
 *
 * SET versions: the preload writes version 0; a thread's later SETs use
 * (thread << 24) | n with n counting 1..2^24-1 and wrapping, so the
 * versions of different threads never collide and are never 0.
 */
#include "rng.h"
#include "worker.h"

#define VER_SEQ_MASK 0xffffffu

static u32 next_version(struct bench_worker *w)
{
	w->ver_seq = w->ver_seq % VER_SEQ_MASK + 1;
	return w->idx << 24 | w->ver_seq;
}

/**
 * workload_next() - choose the next request.
 * @w:  the thread
 * @op: filled with the request
 *
 * Return: false when there is nothing left to send (the preload's range
 * is done); a measured run never runs dry.
 */
bool workload_next(struct bench_worker *w, struct bench_op *op)
{
	const struct bench_shared *sh = w->sh;

	if (w->mode == BENCH_PRELOAD) {
		if (w->pre_next >= w->pre_end)
			return false;
		op->op = MC_SET;
		op->key = w->pre_next++;
		op->ver = 0;
		return true;
	}
	if (sh->o->zipf_s > 0)
		op->key = (u32)(zipf_sample(&sh->zipf, &w->rng) - 1);
	else
		op->key = rng_below(&w->rng, sh->o->keys);
	if ((rng_next(&w->rng) >> 32) < sh->get_thresh) {
		op->op = MC_GET;
		op->ver = 0;
	} else {
		op->op = MC_SET;
		op->ver = next_version(w);
	}
	return true;
}
