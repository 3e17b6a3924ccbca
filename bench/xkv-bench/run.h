/* SPDX-License-Identifier: GPL-2.0 */
/*
 * run.h - run the client threads of one phase (preload or measured run).
 */
#ifndef XKV_BENCH_RUN_H
#define XKV_BENCH_RUN_H

#include "cpustat.h"
#include "worker.h"

/**
 * struct bench_phase - what a phase did.
 * @st:      counters, summed over threads
 * @seconds: measured time (run) or time taken (preload)
 * @threads: threads used
 * @failed:  a thread could not start, or the preload lost requests
 * @cpu:     the run only: CPU time of the machine and of this process in
 *           the measured window (sampled by the main thread at its edges)
 */
struct bench_phase {
	struct bench_stats st;
	double seconds;
	u32 threads;
	bool failed;
	struct cpu_usage cpu;
};

int bench_run(const struct bench_shared *sh, enum bench_mode mode,
	      struct bench_phase *out);

#endif /* XKV_BENCH_RUN_H */
