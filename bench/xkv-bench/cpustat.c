// SPDX-License-Identifier: GPL-2.0
/*
 * cpustat.c - read /proc/stat's "cpu" line and this process's rusage.
 *
 * The "cpu" line is "cpu  user nice system idle iowait irq softirq steal
 * guest guest_nice" in USER_HZ ticks, every CPU summed (proc(5)). Guest
 * time is already counted in user, so it is left out.
 *
 * With a cgroup, also its CPU time (cgroup v1 "cpuacct.usage" in ns, or
 * v2 "cpu.stat" usage_usec) and the ksoftirqd threads' (they run softirq
 * work for everybody, ours included, outside any cgroup of ours): the CPU
 * time of what a benchmark started, wherever its packets were processed,
 * without other work on the machine.
 *
 * Always, the run time of the kernel threads that do packet work for
 * others (threaded NAPI pollers, "napi/<dev>-<id>", and ksoftirqd), each
 * by name, from /proc/PID/schedstat in ns: under qemu's -icount shift=0
 * that is an instruction count (bench/vmbench.sh -X splits the server
 * side with it).
 */
#include <ctype.h>
#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "cpustat.h"

static u64 tv_ns(const struct timeval *tv)
{
	return (u64)tv->tv_sec * NSEC_PER_SEC + (u64)tv->tv_usec * 1000;
}

/* a cgroup's CPU time in ns: v1 cpuacct.usage, else v2 cpu.stat */
static int cgroup_ns(const char *dir, u64 *ns)
{
	unsigned long long v;
	char path[4096], key[64];
	FILE *f;
	int ok = 0;

	snprintf(path, sizeof(path), "%s/cpuacct.usage", dir);
	f = fopen(path, "r");
	if (f) {
		ok = fscanf(f, "%llu", &v) == 1;
		fclose(f);
		*ns = v;
		return ok ? 0 : -1;
	}
	snprintf(path, sizeof(path), "%s/cpu.stat", dir);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fscanf(f, "%63s %llu", key, &v) == 2)
		if (!strcmp(key, "usage_usec")) {
			*ns = v * 1000;
			ok = 1;
			break;
		}
	fclose(f);
	return ok ? 0 : -1;
}

/* user + system ticks of every ksoftirqd/N thread */
static u64 ksoftirqd_ticks(void)
{
	unsigned long long ut, st;
	char path[300], buf[1024], *p;
	struct dirent *de;
	u64 sum = 0;
	DIR *d;
	FILE *f;

	d = opendir("/proc");
	if (!d)
		return 0;
	while ((de = readdir(d))) {
		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		snprintf(path, sizeof(path), "/proc/%s/stat", de->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		p = fgets(buf, sizeof(buf), f);
		fclose(f);
		if (!p || !strstr(buf, "(ksoftirqd/"))
			continue;
		/* after "(comm) ": state, then fields 4..13; 14, 15 */
		p = strrchr(buf, ')');
		if (p && sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u "
				"%*u %*u %llu %llu", &ut, &st) == 2)
			sum += ut + st;
	}
	closedir(d);
	return sum;
}

/* the run time of every "napi/..." and "ksoftirqd/..." thread, into @s */
static void kthread_sample(struct cpu_sample *s)
{
	char path[300], comm[CPU_COMM_LEN];
	unsigned long long ns;
	struct dirent *de;
	DIR *d;
	FILE *f;
	int ok;

	d = opendir("/proc");
	if (!d)
		return;
	while ((de = readdir(d)) && s->nkt < CPU_KTHREADS_MAX) {
		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		snprintf(path, sizeof(path), "/proc/%s/comm", de->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		ok = fscanf(f, "%15s", comm) == 1;
		fclose(f);
		if (!ok || (strncmp(comm, "napi/", 5) &&
			    strncmp(comm, "ksoftirqd/", 10)))
			continue;
		snprintf(path, sizeof(path), "/proc/%s/schedstat", de->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		ok = fscanf(f, "%llu", &ns) == 1;
		fclose(f);
		if (!ok)
			continue;
		memcpy(s->kt[s->nkt].comm, comm, sizeof(comm));
		s->kt[s->nkt++].ns = ns;
	}
	closedir(d);
}

/**
 * cpu_sample() - read the machine's and this process's CPU time now.
 * @s:      where to put it; @s->ok is false when /proc/stat could not be
 *          read
 * @cgroup: a cgroup directory whose CPU time to read too, or NULL
 */
void cpu_sample(struct cpu_sample *s, const char *cgroup)
{
	unsigned long long v[CPU_NR];
	struct timespec ts;
	struct rusage ru;
	FILE *f;
	int i, n;

	memset(s, 0, sizeof(*s));
	f = fopen("/proc/stat", "r");
	if (!f)
		return;
	n = fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0],
		   &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7]);
	fclose(f);
	if (n != CPU_NR)
		return;
	for (i = 0; i < CPU_NR; i++)
		s->tick[i] = v[i];
	if (!getrusage(RUSAGE_SELF, &ru)) {
		s->self_ns = tv_ns(&ru.ru_utime) + tv_ns(&ru.ru_stime);
		s->nvcsw = ru.ru_nvcsw;
		s->nivcsw = ru.ru_nivcsw;
	}
	if (!clock_gettime(CLOCK_MONOTONIC, &ts))
		s->mono_ns = (u64)ts.tv_sec * NSEC_PER_SEC + (u64)ts.tv_nsec;
	kthread_sample(s);
	if (cgroup && !cgroup_ns(cgroup, &s->cg_ns)) {
		s->ksirq = ksoftirqd_ticks();
		s->cg_ok = true;
	}
	s->ok = true;
}

/**
 * cpu_usage() - the CPU time spent between two samples.
 * @a: the earlier sample
 * @b: the later one
 * @u: the result; @u->ok is false unless both samples were read
 */
void cpu_usage(const struct cpu_sample *a, const struct cpu_sample *b,
	       struct cpu_usage *u)
{
	u32 j, k;
	int i;

	memset(u, 0, sizeof(*u));
	if (!a->ok || !b->ok)
		return;
	for (j = 0; j < b->nkt; j++)
		for (k = 0; k < a->nkt; k++)
			if (!strcmp(a->kt[k].comm, b->kt[j].comm)) {
				u->kt[u->nkt] = b->kt[j];
				u->kt[u->nkt++].ns -= a->kt[k].ns;
				break;
			}
	u->hz = sysconf(_SC_CLK_TCK);
	for (i = 0; i < CPU_NR; i++) {
		u->tick[i] = b->tick[i] - a->tick[i];
		u->total += u->tick[i];
	}
	u->busy = u->tick[CPU_USER] + u->tick[CPU_NICE] +
		  u->tick[CPU_SYSTEM] + u->tick[CPU_IRQ] +
		  u->tick[CPU_SOFTIRQ];
	u->client_ns = b->self_ns - a->self_ns;
	u->client_s = (double)u->client_ns / NSEC_PER_SEC;
	u->window_ns = b->mono_ns - a->mono_ns;
	u->nvcsw = b->nvcsw - a->nvcsw;
	u->nivcsw = b->nivcsw - a->nivcsw;
	u->ok = u->hz > 0;
	if (u->ok && a->cg_ok && b->cg_ok) {
		u->cg_ok = true;
		u->cgroup_s = (double)(b->cg_ns - a->cg_ns) / NSEC_PER_SEC;
		u->ksirq_s = (double)(b->ksirq - a->ksirq) / (double)u->hz;
	}
}
