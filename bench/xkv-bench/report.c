// SPDX-License-Identifier: GPL-2.0
/*
 * report.c - print what a run measured.
 *
 * Operations are completed GETs (hits and misses) and STORED SETs; errors
 * are the sum of wrong values, malformed replies, error lines and socket
 * errors. Latency percentiles come from the merged histograms (hist.h),
 * in microseconds.
 */
#include <stdio.h>

#include "report.h"

/* u64 is unsigned long on 64-bit Linux: cast for %llu */
static unsigned long long ull(u64 v)
{
	return v;
}

static u64 ops_of(const struct bench_stats *st)
{
	return st->hits + st->misses + st->sets;
}

static u64 errors_of(const struct bench_stats *st)
{
	return st->bad_values + st->proto_errors + st->server_errors +
	       st->net_errors;
}

static double us(u64 ns)
{
	return (double)ns / 1000;
}

static double rate(u64 n, double seconds)
{
	return seconds > 0 ? (double)n / seconds : 0;
}

static double mean_us(const struct hist *h)
{
	return h->count ? us(h->sum / h->count) : 0;
}

static double max_us(const struct hist *h)
{
	return h->count ? us(h->max) : 0;
}

static void text_keys(const struct bench_opts *o)
{
	printf("  keys     %u x %u B, ", o->keys, o->key_size);
	if (o->zipf_s > 0)
		printf("zipf %g", o->zipf_s);
	else
		printf("uniform");
	if (o->value_min == o->value_max)
		printf(", values %u B", o->value_min);
	else
		printf(", values %u-%u B", o->value_min, o->value_max);
	printf(", GET:SET %u:%u%s\n", o->get_weight, o->set_weight,
	       o->verify ? "" : ", values not verified");
}

/**
 * report_text() - print a human-readable report on stdout.
 * @r: what to print
 */
void report_text(const struct bench_report *r)
{
	const struct bench_opts *o = r->sh->o;
	const struct bench_stats *st = &r->run->st;
	const struct hist *h = &st->lat;

	printf("xkv-bench: %s %s, %u thread%s x %u %s, window %u\n",
	       o->udp ? "udp" : "tcp", r->server, r->run->threads,
	       r->run->threads == 1 ? "" : "s", o->conns,
	       o->udp ? "flows" : "conns", o->window);
	text_keys(o);
	if (r->pre)
		printf("  preload  %u keys in %.2f s\n", o->keys,
		       r->pre->seconds);
	printf("  time     %.2f s\n", r->run->seconds);
	printf("  ops/s    %.0f\n", rate(ops_of(st), r->run->seconds));
	printf("  gets     %llu (hits %llu, misses %llu)\n",
	       ull(st->hits + st->misses), ull(st->hits), ull(st->misses));
	printf("  sets     %llu\n", ull(st->sets));
	printf("  errors   %llu (wrong values %llu, malformed %llu, server %llu, network %llu)\n",
	       ull(errors_of(st)), ull(st->bad_values), ull(st->proto_errors),
	       ull(st->server_errors), ull(st->net_errors));
	printf("  timeouts %llu (late replies %llu)\n", ull(st->timeouts),
	       ull(st->late));
	printf("  latency  p50 %.1f us, p99 %.1f us, p99.9 %.1f us, max %.1f us\n",
	       us(hist_quantile(h, 0.5)), us(hist_quantile(h, 0.99)),
	       us(hist_quantile(h, 0.999)), max_us(h));
	if (r->run->cpu.ok)
		printf("  cpu      machine busy %.2f s of %.2f s, this client %.2f s\n",
		       (double)r->run->cpu.busy / r->run->cpu.hz,
		       (double)r->run->cpu.total / r->run->cpu.hz,
		       r->run->cpu.client_s);
}

/* JSON members: every one after the first starts with a comma */
static void j_str(const char *k, const char *v)
{
	printf(",\"%s\":\"%s\"", k, v);
}

static void j_u64(const char *k, u64 v)
{
	printf(",\"%s\":%llu", k, ull(v));
}

static void j_num(const char *k, const char *fmt, double v)
{
	printf(",\"%s\":", k);
	printf(fmt, v);
}

static void json_settings(const struct bench_report *r)
{
	const struct bench_opts *o = r->sh->o;

	printf("{\"tool\":\"xkv-bench\"");
	j_str("proto", o->udp ? "udp" : "tcp");
	j_str("server", r->server);
	j_u64("threads", r->run->threads);
	j_u64("conns", o->conns);
	j_u64("window", o->window);
	j_u64("keys", o->keys);
	j_u64("key_size", o->key_size);
	j_str("dist", o->zipf_s > 0 ? "zipf" : "uniform");
	j_num("zipf_s", "%g", o->zipf_s);
	j_u64("value_min", o->value_min);
	j_u64("value_max", o->value_max);
	j_num("get_ratio", "%g",
	      (double)o->get_weight / ((double)o->get_weight + o->set_weight));
	printf(",\"verify\":%s", o->verify ? "true" : "false");
	if (r->pre) {
		j_num("preload_s", "%.3f", r->pre->seconds);
		j_u64("preload_errors",
		      errors_of(&r->pre->st) + r->pre->st.timeouts);
	}
}

/* the machine's CPU ticks in the measured window (cpustat.h) */
static void json_cpu(const struct cpu_usage *u)
{
	u32 i;

	if (!u->ok)
		return;
	printf(",\"cpu\":{\"hz\":%ld", u->hz);
	j_u64("busy_ticks", u->busy);
	j_u64("total_ticks", u->total);
	j_u64("user", u->tick[CPU_USER] + u->tick[CPU_NICE]);
	j_u64("system", u->tick[CPU_SYSTEM]);
	j_u64("irq", u->tick[CPU_IRQ]);
	j_u64("softirq", u->tick[CPU_SOFTIRQ]);
	j_u64("steal", u->tick[CPU_STEAL]);
	j_num("client_s", "%.3f", u->client_s);
	j_u64("client_ns", u->client_ns);
	j_u64("window_ns", u->window_ns);
	j_u64("client_nvcsw", u->nvcsw);
	j_u64("client_nivcsw", u->nivcsw);
	printf(",\"kthread_ns\":{");
	for (i = 0; i < u->nkt; i++)
		printf("%s\"%s\":%llu", i ? "," : "", u->kt[i].comm,
		       (unsigned long long)u->kt[i].ns);
	printf("}");
	if (u->cg_ok) {
		j_num("cgroup_s", "%.3f", u->cgroup_s);
		j_num("ksoftirqd_s", "%.3f", u->ksirq_s);
	}
	printf("}");
}

/**
 * report_json() - print one JSON object, on one line, on stdout.
 * @r: what to print
 */
void report_json(const struct bench_report *r)
{
	const struct bench_stats *st = &r->run->st;
	const struct hist *h = &st->lat;

	json_settings(r);
	j_num("duration_s", "%.3f", r->run->seconds);
	j_u64("ops", ops_of(st));
	j_num("ops_per_sec", "%.0f", rate(ops_of(st), r->run->seconds));
	j_u64("gets", st->hits + st->misses);
	j_u64("get_hits", st->hits);
	j_u64("get_misses", st->misses);
	j_u64("sets", st->sets);
	j_u64("errors", errors_of(st));
	j_u64("bad_values", st->bad_values);
	j_u64("proto_errors", st->proto_errors);
	j_u64("server_errors", st->server_errors);
	j_u64("net_errors", st->net_errors);
	j_u64("timeouts", st->timeouts);
	j_u64("late", st->late);
	printf(",\"latency_us\":{\"p50\":%.1f", us(hist_quantile(h, 0.5)));
	j_num("p99", "%.1f", us(hist_quantile(h, 0.99)));
	j_num("p999", "%.1f", us(hist_quantile(h, 0.999)));
	j_num("mean", "%.1f", mean_us(h));
	j_num("max", "%.1f", max_us(h));
	printf("}");
	json_cpu(&r->run->cpu);
	printf("}\n");
}
