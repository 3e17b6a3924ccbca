// SPDX-License-Identifier: GPL-2.0
/*
 * cmd_status.c - "xkv status": each interface xkv has pins for, its XDP
 * attach, settings, hot cache use and backend; in learning mode the
 * memcached backend and the TC learning programs; the TCP fast path and
 * what an earlier instance's left to translate (tcpfast.h). Which
 * backend, and its lines, come from the backends' ops tables
 * (upbackend.h).
 */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>

#include "cmds.h"
#include "config.h"
#include "hotmap.h"
#include "json.h"
#include "live.h"
#include "log.h"
#include "paths.h"
#include "storepath.h"
#include "tcpfast.h"
#include "upbackend.h"
#include "xdp.h"

struct status_cfg {
	bool json;
	bool pretty;
};

static const struct xkv_param status_params[] = {
	XKV_PARAM_BOOL("json", 'j', struct status_cfg, json,
		       "print JSON (an array, one object per interface)"),
	XKV_PARAM_BOOL("pretty", 'p', struct status_cfg, pretty,
		       "indent the JSON"),
	XKV_PARAM_END,
};

static const struct xkv_cmd_doc status_doc = {
	.usage = "[IFACE]",
	.summary =
		"Show, for each interface xkv is up on (or IFACE): the XDP mode and\n"
		"program id, the port, hot cache slots in use and keys in\n"
		"them, and the backend (in learning mode: memcached, and the\n"
		"TC programs on each interface),\n"
		"and how long the backend's lease lets XDP serve (0: it passes all);\n"
		"whether the TCP fast path is on, its TC filters and the TCP\n"
		"connections it follows; with xkv.ko, whether the XDP store path is\n"
		"on (hot-cache misses answered from the module's store) and its\n"
		"counters (\"xdp_store\" in JSON). State: up (XDP and backend), attached (XDP,\n"
		"no backend), stale (XDP gone with its interface: 'xkv down IFACE'\n"
		"cleans up), draining (XDP gone, the TCP fast path's TC filters left\n"
		"to translate connections still open: 'xkv down IFACE' removes them\n"
		"once they have closed).",
};

/**
 * struct iface_status - what status found out about one interface.
 * @ifname:  name
 * @state:   "up", "attached" or "stale"
 * @ls:      the pinned link (link_id 0: none)
 * @mode:    enum xkv_mode, 0 if unknown (another network namespace)
 * @here:    the link's interface is this namespace's @ifname
 * @cfg:     the program's settings (port 0: unreadable)
 * @nslots:  hot cache slots, 0 if unreadable
 * @used:    slots holding a key
 * @keys:    entries in them
 * @be:      its backend, as the backends' ops tables report it
 * @lease_err: the backend's lease could not be read (-errno)
 * @lease_ms: ms it has left, 0 when it ran out: XDP passes everything
 * @tcp:     the TCP fast path's filters on the interface
 * @tcp_answer: its switch: 1 on, 0 off, -errno unreadable
 * @draining: only the fast path's filters of an earlier instance are left
 */
struct iface_status {
	const char *ifname;
	const char *state;
	struct xkv_link_state ls;
	unsigned int mode;
	bool here;
	struct xkv_config cfg;
	__u32 nslots;
	__u32 used;
	__u32 keys;
	struct xkv_up_status be;
	int lease_err;
	unsigned long long lease_ms;
	struct xkv_tcpf_state tcp;
	int tcp_answer;
	bool draining;
};

/* answering: loaded for TCP, the filters attached, the switch on */
static bool tcp_on(const struct iface_status *st)
{
	return !st->draining && st->cfg.tcp_port &&
	       xkv_tcpf_attached(&st->tcp) && st->tcp_answer == 1;
}

static void gather(const struct xkv_paths *p, struct iface_status *st)
{
	struct xkv_hotmap hm;
	unsigned int mode;
	__u32 prog_id;
	int ifindex;

	memset(st, 0, sizeof(*st));
	st->ifname = p->ifname;
	xkv_xdp_link_state(p, &st->ls);
	ifindex = (int)if_nametoindex(p->ifname);
	if (st->ls.ifindex && ifindex == (int)st->ls.ifindex &&
	    !xkv_xdp_query(ifindex, &prog_id, &mode) &&
	    prog_id == st->ls.prog_id) {
		st->here = true;
		st->mode = mode;
	}
	if (xkv_config_read(p->pin_dir, &st->cfg))
		memset(&st->cfg, 0, sizeof(st->cfg));
	if (!xkv_hotmap_open(p->pin_dir, false, &hm)) {
		st->nslots = hm.nslots;
		st->used = xkv_hotmap_used(&hm, &st->keys);
		xkv_hotmap_close(&hm);
	}
	st->lease_err = xkv_live_left_ms(p, &st->lease_ms);
	xkv_up_status(p, &st->be);
	st->draining = xkv_tcpf_leftover(p);
	st->tcp_answer = xkv_tcpf_answer_get(p);
	/* TC filters are per namespace: only where XDP is seen attached */
	if ((st->here || st->draining) && ifindex > 0 &&
	    xkv_tcpf_query(ifindex, &st->tcp))
		memset(&st->tcp, 0, sizeof(st->tcp));
	if (st->draining)
		st->state = "draining";
	else if (!st->ls.link_id || !st->ls.ifindex)
		st->state = "stale";
	else
		st->state = st->be.running ? "up" : "attached";
}

static void print_tcp(const struct iface_status *st)
{
	char n[32];

	xkv_tcpf_conns_str(&st->tcp, n, sizeof(n));
	if (st->draining) {
		printf("    tcp fast path: XDP detached; its TC filters (ingress prog id %u, egress prog id %u) still translate %s connections: 'xkv down %s' removes them once those have closed\n",
		       st->tcp.in_id, st->tcp.out_id, n, st->ifname);
		return;
	}
	if (!st->here && !st->ls.ifindex)
		return;	/* stale: gone with its interface */
	if (!st->here) {
		printf("    tcp fast path: %s; its TC filters are not in this network namespace\n",
		       st->tcp_answer == 1 ? "answering on" : "answering off");
		return;
	}
	if (!st->cfg.tcp_port) {
		printf("    tcp fast path: off (XDP loaded without it: --tcp-fast off, learning mode, or it could not be; up said why)\n");
		return;
	}
	if (!xkv_tcpf_attached(&st->tcp)) {
		printf("    tcp fast path: off (its TC filters are not attached)\n");
		return;
	}
	printf("    tcp fast path: %s, port %u, TC ingress prog id %u, egress prog id %u, %ld connections followed, %s translated\n",
	       tcp_on(st) ? "on" : "off", st->cfg.tcp_port, st->tcp.in_id,
	       st->tcp.out_id, st->tcp.conns < 0 ? 0 : st->tcp.conns, n);
	if (!tcp_on(st))
		printf("      answering is off ('xkv tcp-fast %s on'); the filters keep translating the connections it answered on\n",
		       st->ifname);
}

static void print_text(const struct iface_status *st)
{
	const struct xkv_up_ops *shown = st->be.shown;

	printf("%s: %s", st->ifname, st->state);
	if (st->ls.link_id && st->ls.ifindex) {
		printf(", xdp %s, prog id %u, link id %u",
		       st->here ? xkv_mode_name(st->mode) :
				  "(another network namespace)",
		       st->ls.prog_id, st->ls.link_id);
	}
	if (st->cfg.port)
		printf(", port %u", st->cfg.port);
	if (st->nslots)
		printf(", hot slots %u/%u in use (%u keys)", st->used,
		       st->nslots, st->keys);
	printf("\n");
	if (st->draining) {
		print_tcp(st);
		return;
	}
	if (shown)
		shown->print(&st->be);
	else
		printf("    backend: none\n");
	if (st->lease_err)
		printf("    lease: unreadable (%s)\n",
		       strerror(-st->lease_err));
	else if (st->lease_ms)
		printf("    lease: %llu ms left, renewed by the backend: XDP serves\n",
		       st->lease_ms);
	else
		printf("    lease: run out: XDP passes every request to the stack\n");
	print_tcp(st);
	if (shown && shown->print_more)
		shown->print_more(&st->be);
}

static void json_tcp(struct xkv_json *j, const struct iface_status *st)
{
	xkv_json_key(j, "tcp_fast");
	xkv_json_bool(j, tcp_on(st));
	xkv_json_key(j, "tcp");
	if (!st->cfg.tcp_port && !xkv_tcpf_attached(&st->tcp)) {
		xkv_json_str(j, NULL);
		return;
	}
	xkv_json_open(j, '{');
	xkv_json_kv_u64(j, "port", st->cfg.tcp_port);
	xkv_json_key(j, "answer");
	xkv_json_bool(j, st->tcp_answer == 1);
	xkv_json_kv_u64(j, "ingress_prog_id", st->tcp.in_id);
	xkv_json_kv_u64(j, "egress_prog_id", st->tcp.out_id);
	xkv_json_key(j, "connections");
	if (xkv_tcpf_attached(&st->tcp) && st->tcp.conns >= 0)
		xkv_json_u64(j, (unsigned long long)st->tcp.conns);
	else
		xkv_json_str(j, NULL);
	xkv_json_key(j, "translated");
	if (xkv_tcpf_attached(&st->tcp) && st->tcp.live >= 0)
		xkv_json_u64(j, (unsigned long long)st->tcp.live);
	else
		xkv_json_str(j, NULL);
	xkv_json_close(j, '}');
}

/* the XDP store path (xkv.ko only): "xdp_store" */
static void json_store(struct xkv_json *j, const struct iface_status *st)
{
	struct xkv_store_state ss;
	struct xkv_paths p;

	memset(&ss, 0, sizeof(ss));
	if (!xkv_paths_init(&p, st->ifname))
		xkv_store_state(&p, &ss);
	xkv_store_json(j, &ss);
}

static void print_json(struct xkv_json *j, const struct iface_status *st)
{
	const struct xkv_up_ops *shown = st->be.shown;

	xkv_json_open(j, '{');
	xkv_json_kv_str(j, "ifname", st->ifname);
	xkv_json_kv_str(j, "state", st->state);
	xkv_json_kv_str(j, "mode", st->here ? xkv_mode_name(st->mode) : NULL);
	xkv_json_kv_u64(j, "prog_id", st->ls.prog_id);
	xkv_json_kv_u64(j, "link_id", st->ls.link_id);
	xkv_json_kv_u64(j, "ifindex", st->ls.ifindex);
	xkv_json_kv_u64(j, "port", st->cfg.port);
	xkv_json_kv_u64(j, "max_reply", st->cfg.max_reply);
	xkv_json_kv_u64(j, "amp_ratio", st->cfg.amp_ratio);
	xkv_json_kv_u64(j, "slots", st->nslots);
	xkv_json_kv_u64(j, "slots_used", st->used);
	xkv_json_kv_u64(j, "keys_cached", st->keys);
	xkv_json_kv_str(j, "backend",
			st->be.running ? st->be.running->name : NULL);
	xkv_json_key(j, "backend_pid");
	if (st->be.pid)
		xkv_json_u64(j, (unsigned long long)st->be.pid);
	else
		xkv_json_str(j, NULL);
	/* not the ms left: status -j stays the same while nothing changes */
	xkv_json_key(j, "lease_alive");
	xkv_json_bool(j, !st->lease_err && st->lease_ms);
	xkv_json_key(j, "learning");
	if (shown && shown->json_learning)
		shown->json_learning(j, &st->be);
	else
		xkv_json_str(j, NULL);
	json_tcp(j, st);
	json_store(j, st);
	xkv_json_close(j, '}');
}

struct status_walk {
	const struct status_cfg *cfg;
	struct xkv_json j;
	int n;
};

static int status_one(const char *ifname, void *data)
{
	struct status_walk *w = data;
	struct iface_status st;
	struct xkv_paths p;

	if (xkv_paths_init(&p, ifname))
		return 0;
	gather(&p, &st);
	if (w->cfg->json)
		print_json(&w->j, &st);
	else
		print_text(&st);
	w->n++;
	return 0;
}

int xkv_cmd_status(int argc, char **argv)
{
	struct status_cfg cfg = { 0 };
	struct status_walk w = { .cfg = &cfg };
	struct xkv_args args;
	struct xkv_paths p;
	int err;

	err = xkv_params_parse("status", status_params, &status_doc, &cfg,
			       argc, argv, &args);
	if (err)
		return xkv_params_exit(err);
	if (args.argc > 1 || args.rest_argc >= 0) {
		pr_warn("status: one interface at most\n");
		return XKV_EXIT_USAGE;
	}
	if (cfg.json)
		xkv_json_init(&w.j, stdout, cfg.pretty);
	if (cfg.json)
		xkv_json_open(&w.j, '[');
	if (args.argc) {
		if (xkv_paths_init(&p, args.argv[0]))
			return XKV_EXIT_USAGE;
		if (xkv_pin_dir_exists(&p))
			status_one(p.ifname, &w);
	} else {
		err = xkv_for_each_iface(status_one, &w);
	}
	if (cfg.json)
		xkv_json_close(&w.j, ']');
	if (err < 0) {
		pr_warn("cannot list %s/xkv: %s\n", xkv_bpffs_root(),
			strerror(-err));
		return XKV_EXIT_FAIL;
	}
	if (!w.n && !cfg.json) {
		if (args.argc)
			printf("%s: xkv is not up here\n", args.argv[0]);
		else
			printf("xkv is not up on any interface\n");
	}
	return args.argc && !w.n ? XKV_EXIT_FAIL : XKV_EXIT_OK;
}
