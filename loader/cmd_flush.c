// SPDX-License-Identifier: GPL-2.0
/*
 * cmd_flush.c - "xkv flush": empty the hot cache.
 *
 * By default xkv empties every slot itself, as an emptier of the slot
 * seqlock (abi/xkv_slot.h): XDP stops answering from the hot tier at
 * once, and nothing is lost, since the backend still holds every item
 * and admits keys again as they are read. This is safe while the backend
 * runs (the slot's sequence counter is the writers' lock) and works with
 * no backend at all (xkv attach). With --all, xkv instead sends the
 * backend "flush_all", which empties the store too; the backend then
 * empties the slots itself, under its own locks, before it says OK.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cmds.h"
#include "config.h"
#include "hotmap.h"
#include "log.h"
#include "paths.h"
#include "probe.h"

struct flush_cfg {
	bool all;
	const char *listen;
};

static const struct xkv_param flush_params[] = {
	XKV_PARAM_BOOL("all", 'a', struct flush_cfg, all,
		       "send the backend flush_all: every item is dropped"),
	XKV_PARAM_STRING("listen", 'l', struct flush_cfg, listen, "ADDR",
			 "with --all: the backend's address, if it has -l"),
	XKV_PARAM_END,
};

static const struct xkv_cmd_doc flush_doc = {
	.usage = "[IFACE]",
	.summary =
		"Empty the hot cache of IFACE (default: the one interface xkv is up\n"
		"on). The backend keeps its items and admits keys again as they are\n"
		"read; with --all the backend drops every item (flush_all).",
};

static int flush_slots(const struct xkv_paths *p)
{
	struct xkv_hotmap hm;
	__u32 emptied, stuck;
	int err;

	err = xkv_hotmap_open(p->pin_dir, true, &hm);
	if (err)
		return err;
	xkv_hotmap_flush(&hm, &emptied, &stuck);
	xkv_hotmap_close(&hm);
	pr_info("%s: emptied %u of %u hot slots\n", p->ifname, emptied,
		hm.nslots);
	if (stuck) {
		pr_warn("%s: %u slots stayed locked by another writer for a second and were left alone (XDP serves no locked slot)\n",
			p->ifname, stuck);
		return -EBUSY;
	}
	return 0;
}

static int flush_backend(const struct xkv_paths *p, const char *listen)
{
	struct xkv_config cfg;
	int err;

	err = xkv_config_read(p->pin_dir, &cfg);
	if (err) {
		pr_warn("%s: cannot read the port from %s: %s\n", p->ifname,
			p->pin_dir, strerror(-err));
		return err;
	}
	err = xkv_probe_command(listen, p->ifname, cfg.port,
				"flush_all\r\n", "OK\r\n");
	if (err) {
		pr_warn("%s: the backend on port %u did not take flush_all: %s\n",
			p->ifname, cfg.port, strerror(-err));
		return err;
	}
	pr_info("%s: the backend on port %u flushed every item (flush_all)\n",
		p->ifname, cfg.port);
	return 0;
}

int xkv_cmd_flush(int argc, char **argv)
{
	struct flush_cfg cfg = { 0 };
	char ifname[IF_NAMESIZE];
	struct xkv_args args;
	struct xkv_paths p;
	int err;

	err = xkv_params_parse("flush", flush_params, &flush_doc, &cfg, argc,
			       argv, &args);
	if (err)
		return xkv_params_exit(err);
	if (args.argc > 1 || args.rest_argc >= 0) {
		pr_warn("flush: one interface at most\n");
		return XKV_EXIT_USAGE;
	}
	if (xkv_iface_arg(args.argc ? args.argv[0] : NULL, ifname))
		return XKV_EXIT_USAGE;
	err = xkv_paths_up(&p, ifname);
	if (err)
		return err == -ENOENT ? XKV_EXIT_FAIL : XKV_EXIT_USAGE;
	err = cfg.all ? flush_backend(&p, cfg.listen) : flush_slots(&p);
	return err ? XKV_EXIT_FAIL : XKV_EXIT_OK;
}
