// SPDX-License-Identifier: GPL-2.0
/*
 * cmd_tcpfast.c - "xkv tcp-fast": turn the TCP fast path's answering on
 * or off on a running instance, or say whether it is on (tcpfast.h).
 * Off, XDP answers no more TCP GET, while the TC filters keep translating
 * the connections it answered on until they close.
 */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>

#include "cmds.h"
#include "config.h"
#include "log.h"
#include "paths.h"
#include "tcpfast.h"

static const struct xkv_param tcpfast_params[] = {
	XKV_PARAM_END,
};

static const struct xkv_cmd_doc tcpfast_doc = {
	.usage = "[IFACE] [on|off]",
	.summary =
		"Turn the TCP fast path of IFACE (default: the one interface xkv is\n"
		"up on) on or off, or, without on|off, say whether it is on.\n"
		"  on    XDP answers hot GETs on TCP connections again\n"
		"  off   XDP answers no TCP GET; the TC filters keep translating the\n"
		"        connections it answered on, which all keep working\n"
		"Only an instance brought up with the TCP fast path (xkv up\n"
		"--tcp-fast on, the default with xkvd and xkv.ko) has one.",
};

static bool is_verb(const char *s)
{
	return !strcmp(s, "on") || !strcmp(s, "off");
}

/* print the state; 0, or -ENOENT when there is no fast path to switch */
static int show(const struct xkv_paths *p, const struct xkv_config *cfg,
		const struct xkv_tcpf_state *st, int answer)
{
	char n[32];

	xkv_tcpf_conns_str(st, n, sizeof(n));
	if (!cfg->tcp_port) {
		printf("%s: tcp fast path off (XDP loaded without it: --tcp-fast off, learning mode, or it could not be; up said why)\n",
		       p->ifname);
		return -ENOENT;
	}
	if (!xkv_tcpf_attached(st)) {
		printf("%s: tcp fast path off (its TC filters are not attached)\n",
		       p->ifname);
		return -ENOENT;
	}
	printf("%s: tcp fast path %s, port %u, %ld connections followed, %s translated\n",
	       p->ifname, answer == 1 ? "on" : "off", cfg->tcp_port,
	       st->conns < 0 ? 0 : st->conns, n);
	return 0;
}

int xkv_cmd_tcpfast(int argc, char **argv)
{
	const char *verb = NULL, *iface = NULL;
	char ifname[IF_NAMESIZE];
	struct xkv_tcpf_state st;
	struct xkv_config cfg;
	struct xkv_args args;
	struct xkv_paths p;
	int err, i = 0, answer;
	char unused;

	err = xkv_params_parse("tcp-fast", tcpfast_params, &tcpfast_doc,
			       &unused, argc, argv, &args);
	if (err)
		return xkv_params_exit(err);
	if (args.argc && !is_verb(args.argv[0]))
		iface = args.argv[i++];
	if (i < args.argc)
		verb = args.argv[i++];
	if (i != args.argc || args.rest_argc >= 0 || (verb && !is_verb(verb))) {
		pr_warn("tcp-fast: [IFACE] [on|off]; see 'xkv tcp-fast --help'\n");
		return XKV_EXIT_USAGE;
	}
	if (xkv_iface_arg(iface, ifname))
		return XKV_EXIT_USAGE;
	err = xkv_paths_up(&p, ifname);
	if (err)
		return err == -ENOENT ? XKV_EXIT_FAIL : XKV_EXIT_USAGE;
	if (xkv_tcpf_leftover(&p)) {
		pr_warn("%s: draining: XDP is detached, only the TC filters of the connections it answered on are left ('xkv status %s')\n",
			ifname, ifname);
		return XKV_EXIT_FAIL;
	}
	if (xkv_config_read(p.pin_dir, &cfg)) {
		pr_warn("%s: cannot read the XDP program's settings\n", ifname);
		return XKV_EXIT_FAIL;
	}
	err = xkv_tcpf_query((int)if_nametoindex(ifname), &st);
	if (err) {
		pr_warn("%s: cannot query its TC filters: %s\n", ifname,
			strerror(-err));
		return XKV_EXIT_FAIL;
	}
	answer = xkv_tcpf_answer_get(&p);
	if (!verb) {
		show(&p, &cfg, &st, answer);
		return XKV_EXIT_OK;
	}
	if (!strcmp(verb, "on") && (!cfg.tcp_port || !xkv_tcpf_attached(&st))) {
		show(&p, &cfg, &st, answer);
		pr_warn("%s: no TCP fast path to turn on: 'xkv down %s', then 'xkv up %s --tcp-fast on'\n",
			ifname, ifname, ifname);
		return XKV_EXIT_FAIL;
	}
	if (answer < 0 && answer != -ENOENT) {
		pr_warn("%s: cannot read the switch: %s\n", ifname,
			strerror(-answer));
		return XKV_EXIT_FAIL;
	}
	if (answer == -ENOENT) {
		printf("%s: tcp fast path off (its map xkv_tcp_ctl is not pinned)\n",
		       ifname);
		return strcmp(verb, "off") ? XKV_EXIT_FAIL : XKV_EXIT_OK;
	}
	err = xkv_tcpf_answer_pin(&p, !strcmp(verb, "on"));
	if (err) {
		pr_warn("%s: cannot turn the TCP fast path %s: %s\n", ifname,
			verb, strerror(-err));
		return XKV_EXIT_FAIL;
	}
	if (!strcmp(verb, "on"))
		pr_info("%s: TCP fast path on: XDP answers hot GETs over TCP\n",
			ifname);
	else
		pr_info("%s: TCP fast path off: XDP answers no TCP GET; the TC filters keep translating the connections it answered on until they close\n",
			ifname);
	return XKV_EXIT_OK;
}
