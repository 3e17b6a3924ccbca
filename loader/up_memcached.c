// SPDX-License-Identifier: GPL-2.0
/*
 * up_memcached.c - the memcached backend's ops, learning mode: the TC
 * learning programs attached to the hot cache first (learn.h), then a
 * stock memcached (up_process.c), whose sockets the programs are told
 * and whose lease a watcher renews (live.h); status shows the programs.
 */
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "learn.h"
#include "live.h"
#include "log.h"
#include "upbackend_int.h"

/* the TC programs on the pinned hot cache, attached */
static int memcached_attach(struct xkv_up *up)
{
	const struct xkv_up_cfg *cfg = up->cfg;
	struct xkv_learn_up_opts lo = {
		.port = cfg->port,
		.ttl_ms = cfg->learn_ttl != XKV_UP_UNSET ?
				  cfg->learn_ttl :
				  XKV_LEARN_TTL_MS_DEFAULT,
		.quiet_ms = cfg->learn_quiet != XKV_UP_UNSET ?
				    cfg->learn_quiet :
				    XKV_LEARN_QUIET_MS_DEFAULT,
		/* memcached runs with -B ascii (backend.c); its UDP port
		 * gets the policy memcached lacks, XDP's allowlist */
		.flags = XKV_LCFG_TEXT_ONLY | XKV_LCFG_UDP_POLICY,
		.amp_ratio = cfg->amp_ratio,
	};
	const char *ifname = up->inst->paths.ifname;
	int err;

	err = xkv_learn_up(&up->inst->paths, up->inst->ifindex, &lo);
	if (err)
		return err;
	pr_info("%s: learning programs attached (TC ingress and egress on %s%s): learned values live %u ms, none for %u ms after a write\n",
		ifname, ifname, strcmp(ifname, "lo") ? " and lo" : "",
		lo.ttl_ms, lo.quiet_ms);
	pr_info("%s: memcached's UDP port %u: the TC programs pass only what the XDP allowlist ('xkv allow') lets through, replies at most %u x the request%s\n",
		ifname, cfg->port, cfg->amp_ratio,
		cfg->amp_ratio ? "" : " (no budget)");
	xkv_learn_warn_unseen(ifname, lo.ttl_ms);
	return 0;
}

static int memcached_detach(struct xkv_up *up)
{
	const char *ifname = up->inst->paths.ifname;
	int err;

	err = xkv_learn_down(&up->inst->paths);
	if (err)
		pr_warn("%s: up failed, and the learning filters could not all be detached: run 'xkv down %s'\n",
			ifname, ifname);
	return err;
}

static int memcached_start(struct xkv_up *up)
{
	const struct xkv_paths *p = &up->inst->paths;
	int err;

	err = xkv_up_proc_start(up, true);
	if (err)
		return err;
	/* learning: only replies from memcached's own sockets */
	err = xkv_learn_own_backend(p, up->pid, up->cfg->port);
	if (err)
		goto stop_memcached;
	/* memcached does not renew the lease XDP checks: beat for it */
	err = xkv_live_watch(p, up->pid);
	if (err)
		goto stop_memcached;
	return 0;

stop_memcached:
	xkv_up_proc_stop(up);
	return err;
}

/* learning mode, whether or not memcached runs */
static enum xkv_up_here memcached_probe(const struct xkv_paths *p,
					struct xkv_up_status *st)
{
	if (!xkv_learn_mode(p))
		return XKV_UP_ABSENT;
	if (xkv_learn_config_read(p->pin_dir, &st->lcfg))
		memset(&st->lcfg, 0, sizeof(st->lcfg));
	st->nlifs = xkv_learn_ifaces(p, st->lifs, XKV_LEARN_IFACES_MAX);
	if (st->nlifs < 0)
		st->nlifs = 0;
	st->pid = xkv_up_proc_pid(p);
	return st->pid ? XKV_UP_RUNNING : XKV_UP_STOPPED;
}

static void memcached_print(const struct xkv_up_status *st)
{
	if (st->pid)
		printf("    backend: memcached pid %d (learning mode), log %s\n",
		       (int)st->pid, st->logfile);
	else
		printf("    backend: none (memcached is not running; 'xkv down %s' removes the learning filters too)\n",
		       st->ifname);
}

/* the learning programs: settings, and where they are attached */
static void memcached_print_more(const struct xkv_up_status *st)
{
	const struct xkv_learn_iface *li;

	printf("    learning: ");
	if (st->lcfg.ttl_ms)
		printf("learned values live %u ms, none learned for %u ms after a write%s\n",
		       st->lcfg.ttl_ms, st->lcfg.quiet_ms,
		       st->lcfg.flags & XKV_LCFG_TEXT_ONLY ?
			       ", text protocol only" : "");
	else
		printf("settings unreadable\n");
	if (st->lcfg.flags & XKV_LCFG_UDP_POLICY)
		printf("      UDP policy on memcached's port: XDP's allowlist, replies at most %u x the request\n",
		       st->lcfg.amp_ratio);
	for (li = st->lifs; li < st->lifs + st->nlifs; li++) {
		if (li->in_id || li->eg_id)
			printf("      tc on %s: ingress prog id %u, egress prog id %u%s\n",
			       li->ifname, li->in_id, li->eg_id,
			       li->own_qdisc ? " (clsact qdisc added by xkv)" :
					       "");
		else
			printf("      tc on %s (ifindex %d): no learning filter attached\n",
			       li->ifname, li->ifindex);
	}
}

static void memcached_json_learning(struct xkv_json *j,
				    const struct xkv_up_status *st)
{
	const struct xkv_learn_iface *li;

	xkv_json_open(j, '{');
	xkv_json_kv_u64(j, "ttl_ms", st->lcfg.ttl_ms);
	xkv_json_kv_u64(j, "quiet_ms", st->lcfg.quiet_ms);
	xkv_json_key(j, "text_only");
	xkv_json_bool(j, st->lcfg.flags & XKV_LCFG_TEXT_ONLY);
	xkv_json_key(j, "udp_policy");
	xkv_json_bool(j, st->lcfg.flags & XKV_LCFG_UDP_POLICY);
	xkv_json_kv_u64(j, "amp_ratio", st->lcfg.amp_ratio);
	xkv_json_key(j, "tc");
	xkv_json_open(j, '[');
	for (li = st->lifs; li < st->lifs + st->nlifs; li++) {
		xkv_json_open(j, '{');
		xkv_json_kv_str(j, "ifname", li->ifname);
		xkv_json_kv_u64(j, "ifindex", (unsigned long long)li->ifindex);
		xkv_json_kv_u64(j, "ingress_prog_id", li->in_id);
		xkv_json_kv_u64(j, "egress_prog_id", li->eg_id);
		xkv_json_key(j, "own_qdisc");
		xkv_json_bool(j, li->own_qdisc);
		xkv_json_close(j, '}');
	}
	xkv_json_close(j, ']');
	xkv_json_close(j, '}');
}

const struct xkv_up_ops xkv_up_memcached_ops = {
	.attach = memcached_attach,
	.detach = memcached_detach,
	.start = memcached_start,
	.stop = xkv_up_proc_stop,
	.wait = xkv_up_proc_wait,
	.undone = "learning filters and XDP detached, pins removed",
	.name = "memcached",
	.probe = memcached_probe,
	.print = memcached_print,
	.print_more = memcached_print_more,
	.json_learning = memcached_json_learning,
};
