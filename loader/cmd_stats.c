// SPDX-License-Identifier: GPL-2.0
/*
 * cmd_stats.c - "xkv stats": the XDP program's counters, summed over
 * CPUs, once or every second (-w) with rates; the TCP fast path's; in
 * learning mode the TC learning programs' counters too (counters.h reads
 * them all).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cmds.h"
#include "counters.h"
#include "json.h"
#include "log.h"
#include "paths.h"
#include "storepath.h"

#define XKV_STATS_IFACES 64

struct stats_cfg {
	bool watch;
	bool json;
	bool pretty;
	unsigned int count;
	unsigned int interval;
};

static const struct xkv_param stats_params[] = {
	XKV_PARAM_BOOL("watch", 'w', struct stats_cfg, watch,
		       "print again every interval, with rates, until Ctrl-C"),
	XKV_PARAM_UINT("count", 'n', struct stats_cfg, count, "N", 1,
		       1000000, "with -w: stop after N samples"),
	XKV_PARAM_UINT("interval", 'i', struct stats_cfg, interval, "MS", 10,
		       3600000,
		       "with -w: milliseconds between samples (default 1000)"),
	XKV_PARAM_BOOL("json", 'j', struct stats_cfg, json,
		       "print JSON: an array of one object per interface (one array per line with -w)"),
	XKV_PARAM_BOOL("pretty", 'p', struct stats_cfg, pretty,
		       "indent the JSON"),
	XKV_PARAM_END,
};

static const struct xkv_cmd_doc stats_doc = {
	.usage = "[IFACE]",
	.summary =
		"Print the XDP hot tier's counters for IFACE (default: every\n"
		"interface xkv is up on), summed over CPUs. Every packet is counted\n"
		"once in \"packets\" and once in replies, misses, errors or one\n"
		"pass_* reason; \"hits\" counts keys served. The TCP fast path's\n"
		"counters follow (\"tcp\" in JSON): GETs answered over TCP (\"hits\"),\n"
		"requests passed to the backend and why (pass_*), connections\n"
		"handed back. In learning mode (--backend memcached) the TC\n"
		"learning programs' counters follow (\"learning\" in JSON): values\n"
		"learned, and why others were not. With xkv.ko's XDP store path,\n"
		"its counters follow (\"xdp_store\" in JSON): the store program's,\n"
		"and the module's kfunc calls (\"module\"). An interface left\n"
		"draining (xkv status) has the TCP counters only.",
};

/**
 * struct stats_iface - one interface being watched.
 * @ifname: its name
 * @fd:     its stats map, -1 when draining (tcpfast.h)
 * @lfd:    its learning counters (xkv_lstats), -1 unless learning mode
 * @tfd:    its TCP fast path counters (xkv_tcp_stats), -1 if none
 * @prev:   the previous sample
 * @now:    this sample
 * @lprev:  the previous sample of the learning counters
 * @lnow:   this one
 * @tprev:  the previous sample of the TCP counters
 * @tnow:   this one
 * @ss:     the XDP store path (xkv.ko), as of this sample
 * @paths:  its files
 */
struct stats_iface {
	char ifname[IF_NAMESIZE];
	int fd;
	int lfd;
	int tfd;
	__u64 prev[XKV_STAT_NR];
	__u64 now[XKV_STAT_NR];
	__u64 lprev[XKV_LSTAT_NR];
	__u64 lnow[XKV_LSTAT_NR];
	__u64 tprev[XKV_TCP_STAT_NR];
	__u64 tnow[XKV_TCP_STAT_NR];
	struct xkv_store_state ss;
	struct xkv_paths paths;
};

struct stats_set {
	struct stats_iface ifs[XKV_STATS_IFACES];
	int n;
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int add_iface(const char *ifname, void *data)
{
	struct stats_set *set = data;
	struct stats_iface *si;
	char path[PATH_MAX];
	struct xkv_paths p;
	int fd, tfd;

	if (set->n == XKV_STATS_IFACES || xkv_paths_init(&p, ifname))
		return 0;
	fd = xkv_counters_open(p.pin_dir, XKV_PIN_STATS);
	tfd = xkv_counters_open(p.pin_dir, XKV_PIN_TCP_STATS);
	if (fd < 0 && tfd < 0) {
		pr_warn("cannot open %s: %s\n",
			xkv_pin_path(&p, XKV_PIN_STATS, path), strerror(-fd));
		return 0;
	}
	si = &set->ifs[set->n++];
	memset(si, 0, sizeof(*si));
	snprintf(si->ifname, sizeof(si->ifname), "%s", ifname);
	si->paths = p;
	si->fd = fd < 0 ? -1 : fd;
	si->tfd = tfd < 0 ? -1 : tfd;
	si->lfd = xkv_counters_open(p.pin_dir, XKV_PIN_LSTATS);
	if (si->lfd < 0)
		si->lfd = -1;
	return 0;
}

static void print_counter(const char *name, const char *desc, __u64 now,
			  __u64 prev, bool rates, double secs)
{
	printf("  %-18s %14llu", name, (unsigned long long)now);
	if (rates)
		printf(" %12.0f/s", (double)(now - prev) / secs);
	printf("  %s\n", desc);
}

static void print_text(const struct stats_iface *si, bool rates,
		       double secs)
{
	int i;

	if (si->fd >= 0) {
		printf("%s:\n", si->ifname);
		for (i = 0; i < XKV_STAT_NR; i++)
			print_counter(xkv_counters[i].name,
				      xkv_counters[i].desc, si->now[i],
				      si->prev[i], rates, secs);
	}
	if (si->tfd >= 0) {
		printf("%s TCP fast path:\n", si->ifname);
		for (i = 0; i < XKV_TCP_STAT_NR; i++)
			print_counter(xkv_tcp_counters[i].name,
				      xkv_tcp_counters[i].desc, si->tnow[i],
				      si->tprev[i], rates, secs);
	}
	if (si->ss.prog_id || si->ss.kinfo_ok) {
		printf("%s XDP store path:\n", si->ifname);
		xkv_store_print(&si->ss);
	}
	if (si->lfd < 0)
		return;
	printf("%s learning (TC):\n", si->ifname);
	for (i = 0; i < XKV_LSTAT_NR; i++)
		print_counter(xkv_learn_counters[i].name,
			      xkv_learn_counters[i].desc, si->lnow[i],
			      si->lprev[i], rates, secs);
}

static void json_counters(struct xkv_json *j,
			  const struct xkv_counter_info *info,
			  const __u64 *now, const __u64 *prev, int n,
			  bool rates, double secs)
{
	int i;

	for (i = 0; i < n; i++)
		xkv_json_kv_u64(j, info[i].name,
				rates ? (unsigned long long)(
						(double)(now[i] - prev[i]) /
						secs) :
					(unsigned long long)now[i]);
}

/* the counters of one object: totals, or with @rates per second */
static void json_all(struct xkv_json *j, const struct stats_iface *si,
		     bool rates, double secs)
{
	if (si->fd >= 0)
		json_counters(j, xkv_counters, si->now, si->prev, XKV_STAT_NR,
			      rates, secs);
	if (si->tfd >= 0) {
		xkv_json_key(j, "tcp");
		xkv_json_open(j, '{');
		json_counters(j, xkv_tcp_counters, si->tnow, si->tprev,
			      XKV_TCP_STAT_NR, rates, secs);
		xkv_json_close(j, '}');
	}
	if (si->lfd >= 0) {
		xkv_json_key(j, "learning");
		xkv_json_open(j, '{');
		json_counters(j, xkv_learn_counters, si->lnow, si->lprev,
			      XKV_LSTAT_NR, rates, secs);
		xkv_json_close(j, '}');
	}
}

static void print_json(struct xkv_json *j, const struct stats_iface *si,
		       bool rates, double secs)
{
	xkv_json_open(j, '{');
	xkv_json_kv_str(j, "ifname", si->ifname);
	json_all(j, si, false, 1);
	xkv_store_json(j, &si->ss);
	if (rates) {
		xkv_json_key(j, "rates");
		xkv_json_open(j, '{');
		json_all(j, si, true, secs);
		xkv_json_close(j, '}');
	}
	xkv_json_close(j, '}');
}

static int sample(struct stats_set *set)
{
	int i, err;

	for (i = 0; i < set->n; i++) {
		struct stats_iface *si = &set->ifs[i];

		xkv_store_state(&si->paths, &si->ss);
		memcpy(si->prev, si->now, sizeof(si->prev));
		err = si->fd < 0 ? 0 :
			xkv_counters_read(si->fd, si->now, XKV_STAT_NR);
		if (err) {
			pr_warn("%s: cannot read the counters: %s\n",
				si->ifname, strerror(-err));
			return err;
		}
		memcpy(si->tprev, si->tnow, sizeof(si->tprev));
		err = si->tfd < 0 ? 0 :
			xkv_counters_read(si->tfd, si->tnow, XKV_TCP_STAT_NR);
		if (err) {
			pr_warn("%s: cannot read the TCP fast path's counters: %s\n",
				si->ifname, strerror(-err));
			return err;
		}
		if (si->lfd < 0)
			continue;
		memcpy(si->lprev, si->lnow, sizeof(si->lprev));
		err = xkv_counters_read(si->lfd, si->lnow, XKV_LSTAT_NR);
		if (err) {
			pr_warn("%s: cannot read the learning counters: %s\n",
				si->ifname, strerror(-err));
			return err;
		}
	}
	return 0;
}

static void print_all(const struct stats_cfg *cfg, struct stats_set *set,
		      bool rates, double secs)
{
	struct xkv_json j;
	int i;

	if (cfg->json) {
		xkv_json_init(&j, stdout, cfg->pretty);
		xkv_json_open(&j, '[');
		for (i = 0; i < set->n; i++)
			print_json(&j, &set->ifs[i], rates, secs);
		xkv_json_close(&j, ']');
		return;
	}
	for (i = 0; i < set->n; i++)
		print_text(&set->ifs[i], rates, secs);
	fflush(stdout);
}

static void sleep_ms(unsigned int ms)
{
	struct timespec ts = { .tv_sec = ms / 1000,
			       .tv_nsec = (long)(ms % 1000) * 1000000 };

	/* a signal ends the wait early: that is how -w stops */
	nanosleep(&ts, NULL);
}

static int watch(const struct stats_cfg *cfg, struct stats_set *set)
{
	unsigned int interval = cfg->interval ? cfg->interval : 1000;
	struct sigaction sa = { .sa_handler = on_signal };
	unsigned int done = 0;
	struct timespec t0, t1;
	double secs;

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if (sample(set))
		return XKV_EXIT_FAIL;
	print_all(cfg, set, false, 1);
	done++;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (!stop && (!cfg->count || done < cfg->count)) {
		sleep_ms(interval);
		if (stop)
			break;
		clock_gettime(CLOCK_MONOTONIC, &t1);
		secs = (double)(t1.tv_sec - t0.tv_sec) +
		       (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
		t0 = t1;
		if (sample(set))
			return XKV_EXIT_FAIL;
		if (!cfg->json)
			printf("\n");
		print_all(cfg, set, true, secs > 0 ? secs : 1);
		done++;
	}
	return XKV_EXIT_OK;
}

int xkv_cmd_stats(int argc, char **argv)
{
	struct stats_cfg cfg = { 0 };
	static struct stats_set set;
	struct xkv_args args;
	int err, ret, i;

	err = xkv_params_parse("stats", stats_params, &stats_doc, &cfg, argc,
			       argv, &args);
	if (err)
		return xkv_params_exit(err);
	if (args.argc > 1 || args.rest_argc >= 0) {
		pr_warn("stats: one interface at most\n");
		return XKV_EXIT_USAGE;
	}
	if (args.argc) {
		add_iface(args.argv[0], &set);
		if (!set.n) {
			pr_warn("%s: xkv is not up here\n", args.argv[0]);
			return XKV_EXIT_FAIL;
		}
	} else {
		err = xkv_for_each_iface(add_iface, &set);
		if (err < 0) {
			pr_warn("cannot list %s/xkv: %s\n", xkv_bpffs_root(),
				strerror(-err));
			return XKV_EXIT_FAIL;
		}
		if (!set.n) {
			pr_warn("xkv is not up on any interface\n");
			return XKV_EXIT_FAIL;
		}
	}
	if (cfg.watch) {
		ret = watch(&cfg, &set);
	} else {
		ret = sample(&set) ? XKV_EXIT_FAIL : XKV_EXIT_OK;
		if (!ret)
			print_all(&cfg, &set, false, 1);
	}
	for (i = 0; i < set.n; i++) {
		if (set.ifs[i].fd >= 0)
			close(set.ifs[i].fd);
		if (set.ifs[i].tfd >= 0)
			close(set.ifs[i].tfd);
		if (set.ifs[i].lfd >= 0)
			close(set.ifs[i].lfd);
	}
	return ret;
}
