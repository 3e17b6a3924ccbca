// SPDX-License-Identifier: GPL-2.0
/*
 * cmd_attach.c - "xkv attach" and "xkv detach": the XDP tier alone,
 * without a backend (for a backend started by hand with --hot-map, or to
 * look at the program and its maps).
 */
#include <stdio.h>

#include "backend.h"
#include "cmds.h"
#include "instance.h"
#include "learn.h"
#include "log.h"
#include "upcfg.h"

static const struct xkv_param attach_params[] = {
	XKV_XDP_PARAMS,
	XKV_PARAM_END,
};

static const struct xkv_cmd_doc attach_doc = {
	.usage = "IFACE",
	.summary =
		"Load the XDP hot tier, pin it under /sys/fs/bpf/xkv/IFACE/, fill\n"
		"the allowlist and attach it to IFACE, without starting a backend;\n"
		"with the TCP fast path (--tcp-fast, default on) its TC filters too.\n"
		"A backend started with --hot-map /sys/fs/bpf/xkv/IFACE/xkv_hot\n"
		"fills the hot cache.",
};

static const struct xkv_param detach_params[] = {
	XKV_PARAM_END,
};

static const struct xkv_cmd_doc detach_doc = {
	.usage = "IFACE",
	.summary =
		"Detach the XDP hot tier from IFACE and remove its pins. Refused\n"
		"while a backend started by 'xkv up' runs: use 'xkv down IFACE'.\n"
		"The TCP fast path's TC filters stay while connections they\n"
		"translate are open, as with 'xkv down' (see 'xkv down --help').",
};

int xkv_cmd_attach(int argc, char **argv)
{
	struct xkv_inst_opts o;
	struct xkv_up_cfg cfg;
	struct xkv_inst inst;
	struct xkv_args args;
	int err;

	xkv_up_cfg_init(&cfg);
	err = xkv_params_parse("attach", attach_params, &attach_doc, &cfg,
			       argc, argv, &args);
	if (err)
		return xkv_params_exit(err);
	if (args.argc != 1 || args.rest_argc >= 0) {
		pr_warn("attach: name one interface; see 'xkv attach --help'\n");
		return XKV_EXIT_USAGE;
	}
	xkv_up_cfg_inst_opts(&cfg, args.argv[0], &o);
	if (xkv_inst_check_opts(&o))
		return XKV_EXIT_USAGE;
	if (xkv_inst_init(&inst, args.argv[0]))
		return XKV_EXIT_FAIL;
	if (xkv_inst_up(&inst, &o))
		return XKV_EXIT_FAIL;
	xkv_up_report(&inst, &o);
	return XKV_EXIT_OK;
}

int xkv_cmd_detach(int argc, char **argv)
{
	struct xkv_args args;
	struct xkv_paths p;
	bool learning;
	char unused;
	pid_t pid;
	int err;

	err = xkv_params_parse("detach", detach_params, &detach_doc, &unused,
			       argc, argv, &args);
	if (err)
		return xkv_params_exit(err);
	if (args.argc != 1 || args.rest_argc >= 0) {
		pr_warn("detach: name one interface; see 'xkv detach --help'\n");
		return XKV_EXIT_USAGE;
	}
	if (xkv_paths_init(&p, args.argv[0]))
		return XKV_EXIT_USAGE;
	if (!xkv_pin_dir_exists(&p)) {
		pr_warn("%s: xkv is not attached here\n", p.ifname);
		return XKV_EXIT_FAIL;
	}
	pid = xkv_backend_running(&p);
	if (pid > 0) {
		pr_warn("%s: the backend (pid %d) still owns the hot cache: use 'xkv down %s'\n",
			p.ifname, (int)pid, p.ifname);
		return XKV_EXIT_FAIL;
	}
	/* learning mode whose memcached is gone: its filters go too */
	learning = xkv_learn_mode(&p);
	if (xkv_learn_down(&p))
		return XKV_EXIT_FAIL;
	err = xkv_inst_retire(&p, false);
	if (err < 0)
		return XKV_EXIT_FAIL;
	pr_info("%s: %sXDP detached%s\n", p.ifname,
		learning ? "learning filters and " : "",
		err ?
		"; the TCP fast path's TC filters stay until its connections close" :
		", pins removed");
	return XKV_EXIT_OK;
}
