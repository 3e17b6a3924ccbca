/* SPDX-License-Identifier: GPL-2.0 */
/*
 * cpustat.h - the whole machine's CPU time (/proc/stat) and the client's
 * own, sampled at the edges of the measured window, so that a caller can
 * divide CPU time by the operations done in exactly that window.
 */
#ifndef XKV_BENCH_CPUSTAT_H
#define XKV_BENCH_CPUSTAT_H

#include "bench.h"

/* the fields of /proc/stat's "cpu" line that we use, in clock ticks */
enum cpu_field {
	CPU_USER,
	CPU_NICE,
	CPU_SYSTEM,
	CPU_IDLE,
	CPU_IOWAIT,
	CPU_IRQ,
	CPU_SOFTIRQ,
	CPU_STEAL,
	CPU_NR
};

/* kernel threads whose CPU time is read one by one (kthread_sample()) */
#define CPU_KTHREADS_MAX 8
#define CPU_COMM_LEN 16

/**
 * struct cpu_kthread - one kernel thread's run time.
 * @comm: its name ("napi/<dev>-<id>" or "ksoftirqd/<cpu>")
 * @ns:   its time on a CPU, ns (/proc/PID/schedstat: precise, unlike the
 *        ticks of /proc/PID/stat)
 */
struct cpu_kthread {
	char comm[CPU_COMM_LEN];
	u64 ns;
};

/**
 * struct cpu_sample - one reading.
 * @ok:       /proc/stat was read
 * @tick:     the "cpu" line (every CPU summed), clock ticks, by cpu_field
 * @self_ns:  this process's user + system time (getrusage), ns
 * @mono_ns:  CLOCK_MONOTONIC when it was read, ns
 * @nvcsw:    this process's voluntary context switches (getrusage)
 * @nivcsw:   and involuntary ones
 * @cg_ok:    the cgroup's time was read
 * @cg_ns:    CPU time of the cgroup given to cpu_sample(), ns
 * @ksirq:    user + system ticks of the ksoftirqd threads
 * @nkt:      entries of @kt
 * @kt:       the threaded NAPI pollers ("napi/...") and ksoftirqd threads
 */
struct cpu_sample {
	bool ok;
	u64 tick[CPU_NR];
	u64 self_ns;
	u64 mono_ns;
	u64 nvcsw;
	u64 nivcsw;
	bool cg_ok;
	u64 cg_ns;
	u64 ksirq;
	u32 nkt;
	struct cpu_kthread kt[CPU_KTHREADS_MAX];
};

/**
 * struct cpu_usage - what happened between two samples.
 * @ok:       both samples were read
 * @hz:       clock ticks per second (sysconf(_SC_CLK_TCK))
 * @tick:     tick deltas, by cpu_field
 * @busy:     user + nice + system + irq + softirq (guest time is inside
 *            user; idle, iowait and steal are not busy)
 * @total:    every field above summed, steal included
 * @client_s: CPU seconds of this process
 * @client_ns: the same in ns (getrusage's microseconds; under qemu's
 *            -icount shift=0 one ns is one guest instruction)
 * @window_ns: CLOCK_MONOTONIC between the two samples, ns
 * @nvcsw:    voluntary context switches of this process (it waited)
 * @nivcsw:   involuntary ones (it was preempted)
 * @cg_ok:    @cgroup_s and @ksirq_s are known
 * @cgroup_s: CPU seconds of the cgroup (cpu_sample()'s @cgroup)
 * @ksirq_s:  CPU seconds of the ksoftirqd threads
 * @nkt:      entries of @kt
 * @kt:       each kernel thread of the samples' @kt (by name) and its run
 *            time between them, ns
 */
struct cpu_usage {
	bool ok;
	long hz;
	u64 tick[CPU_NR];
	u64 busy;
	u64 total;
	double client_s;
	u64 client_ns;
	u64 window_ns;
	u64 nvcsw;
	u64 nivcsw;
	bool cg_ok;
	double cgroup_s;
	double ksirq_s;
	u32 nkt;
	struct cpu_kthread kt[CPU_KTHREADS_MAX];
};

void cpu_sample(struct cpu_sample *s, const char *cgroup);
void cpu_usage(const struct cpu_sample *a, const struct cpu_sample *b,
	       struct cpu_usage *u);

#endif /* XKV_BENCH_CPUSTAT_H */
