// SPDX-License-Identifier: GPL-2.0
/*
 * run.c - start the threads of a phase, run them, sum their counters.
 *
 * The threads open their sockets first and meet the main thread at a
 * barrier; the main thread then sets the run window (so connecting is
 * never part of it) and lets them go through a second barrier. No shared
 * state is written after that: each thread stops on its own at t_end.
 *
 * During a run the main thread, idle otherwise, samples the machine's CPU
 * time (cpustat.h) at the window's start and end.
 *
 * The preload uses one TCP connection per thread (at most one thread per
 * key), each SETting its own slice of the key ids with PRELOAD_WINDOW
 * requests pipelined, and no time limit: it ends when every key is
 * STORED, or fails when a request times out or a connection is lost.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "rng.h"
#include "run.h"

/**
 * struct run_ctx - one phase.
 * @sh:    shared settings
 * @ws:    the workers
 * @n:     how many
 * @ready: every thread has set up
 * @go:    the run window is set
 * @abort: a thread failed to set up: nobody runs
 */
struct run_ctx {
	const struct bench_shared *sh;
	struct bench_worker *ws;
	u32 n;
	pthread_barrier_t ready;
	pthread_barrier_t go;
	bool abort;
};

struct run_arg {
	struct run_ctx *ctx;
	struct bench_worker *w;
};

/* the thread's epoll instance and transport state, then its sockets */
static int worker_setup(struct bench_worker *w)
{
	w->epfd = epoll_create1(EPOLL_CLOEXEC);
	w->engine = calloc(1, w->tr->engine_size);
	if (w->epfd < 0 || !w->engine)
		return -ENOMEM;
	return w->tr->setup(w);
}

static void worker_teardown(struct bench_worker *w)
{
	if (w->engine)
		w->tr->teardown(w);
	free(w->engine);
	w->engine = NULL;
	if (w->epfd >= 0)
		close(w->epfd);
}

static void *run_thread(void *p)
{
	struct run_arg *a = p;
	struct bench_worker *w = a->w;
	int err;

	err = worker_setup(w);
	if (err) {
		w->failed = true;
		if (err == -ENOMEM)
			fprintf(stderr, "xkv-bench: thread %u: out of memory\n",
				w->idx);
	}
	pthread_barrier_wait(&a->ctx->ready);
	pthread_barrier_wait(&a->ctx->go);
	if (!a->ctx->abort)
		w->tr->loop(w);
	worker_teardown(w);
	return NULL;
}

static void worker_init(struct run_ctx *ctx, enum bench_mode mode, u32 i)
{
	const struct bench_shared *sh = ctx->sh;
	const struct bench_opts *o = sh->o;
	struct bench_worker *w = &ctx->ws[i];

	w->sh = sh;
	w->mode = mode;
	w->idx = i;
	w->rng = mix64(o->seed + (u64)i * RNG_GOLDEN);
	bench_stats_init(&w->st);
	if (mode == BENCH_PRELOAD) {
		w->tr = &bench_tcp;
		w->conns = 1;
		w->window = PRELOAD_WINDOW;
		w->dst = &sh->tcp_dst;
		w->pre_next = (u32)((u64)o->keys * i / ctx->n);
		w->pre_end = (u32)((u64)o->keys * (i + 1) / ctx->n);
		w->t_start = 0;
		w->t_end = UINT64_MAX;
	} else {
		w->tr = o->udp ? &bench_udp : &bench_tcp;
		w->conns = o->conns;
		w->window = o->window;
		w->dst = &sh->dst;
	}
}

/* sleep until CLOCK_MONOTONIC time @t (ns) */
static void sleep_until(u64 t)
{
	struct timespec ts = {
		.tv_sec = (time_t)(t / NSEC_PER_SEC),
		.tv_nsec = (long)(t % NSEC_PER_SEC),
	};

	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) ==
	       EINTR)
		;
}

/**
 * bench_run() - run one phase.
 * @sh:   shared settings
 * @mode: BENCH_PRELOAD or BENCH_RUN
 * @out:  what it did
 *
 * Return: 0, or -errno when threads could not be made (reported).
 */
int bench_run(const struct bench_shared *sh, enum bench_mode mode,
	      struct bench_phase *out)
{
	const struct bench_opts *o = sh->o;
	struct run_ctx ctx = { .sh = sh };
	struct cpu_sample c0 = { 0 }, c1 = { 0 };
	struct run_arg *args;
	pthread_t *tids;
	u64 t0, t1 = 0;
	u32 i;
	int err;

	ctx.n = o->threads;
	if (mode == BENCH_PRELOAD && ctx.n > o->keys)
		ctx.n = o->keys;
	ctx.ws = calloc(ctx.n, sizeof(*ctx.ws));
	args = calloc(ctx.n, sizeof(*args));
	tids = calloc(ctx.n, sizeof(*tids));
	if (!ctx.ws || !args || !tids) {
		fprintf(stderr, "xkv-bench: out of memory\n");
		err = -ENOMEM;
		goto out_free;
	}
	pthread_barrier_init(&ctx.ready, NULL, ctx.n + 1);
	pthread_barrier_init(&ctx.go, NULL, ctx.n + 1);
	for (i = 0; i < ctx.n; i++) {
		worker_init(&ctx, mode, i);
		args[i].ctx = &ctx;
		args[i].w = &ctx.ws[i];
		err = pthread_create(&tids[i], NULL, run_thread, &args[i]);
		if (err) {
			/* the barriers would wait forever: give up now */
			fprintf(stderr, "xkv-bench: pthread_create: %s\n",
				strerror(err));
			exit(BENCH_EX_USAGE);
		}
	}
	pthread_barrier_wait(&ctx.ready);
	for (i = 0; i < ctx.n; i++)
		if (ctx.ws[i].failed)
			ctx.abort = true;
	t0 = now_ns();
	if (mode == BENCH_RUN) {
		t0 += (u64)(o->warmup * NSEC_PER_SEC);
		t1 = t0 + (u64)(o->duration * NSEC_PER_SEC);
		for (i = 0; i < ctx.n; i++) {
			ctx.ws[i].t_start = t0;
			ctx.ws[i].t_end = t1;
		}
	}
	pthread_barrier_wait(&ctx.go);
	if (mode == BENCH_RUN && !ctx.abort) {
		sleep_until(t0);
		cpu_sample(&c0, o->cpu_cgroup);
		sleep_until(t1);
		cpu_sample(&c1, o->cpu_cgroup);
	}
	for (i = 0; i < ctx.n; i++)
		pthread_join(tids[i], NULL);
	t1 = mode == BENCH_RUN ? t1 : now_ns();

	memset(out, 0, sizeof(*out));
	bench_stats_init(&out->st);
	out->seconds = (double)(t1 - t0) / NSEC_PER_SEC;
	out->threads = ctx.n;
	out->failed = ctx.abort;
	cpu_usage(&c0, &c1, &out->cpu);
	for (i = 0; i < ctx.n; i++) {
		bench_stats_add(&out->st, &ctx.ws[i].st);
		if (ctx.ws[i].failed)
			out->failed = true;
	}
	pthread_barrier_destroy(&ctx.ready);
	pthread_barrier_destroy(&ctx.go);
	err = 0;
out_free:
	free(tids);
	free(args);
	free(ctx.ws);
	return err;
}
