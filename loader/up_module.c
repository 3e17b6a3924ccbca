// SPDX-License-Identifier: GPL-2.0
/*
 * up_module.c - the xkv.ko backend's ops: the module loaded with the
 * settings as module parameters, then handed the hot cache and its lease
 * through /dev/xkv (kmodule.h); with --backend auto, xkvd when it does
 * not load.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "backend.h"
#include "log.h"
#include "storepath.h"
#include "tcpfast.h"
#include "upbackend_int.h"

/* load the module; with auto, hand over to xkvd if it does not load */
static int module_load(struct xkv_up *up)
{
	const char *ifname = up->inst->paths.ifname;
	char why[XKV_KMOD_WHY_MAX];
	struct xkv_serve_opts so;
	int err;

	/* again, now with the allowlist */
	xkv_up_serve_opts(up, up->allow, &so);
	err = xkv_kmod_params(&so, up->params, why);
	if (err) {
		pr_warn("up: %s\n", why);
		return err;
	}
	err = xkv_kmod_load(up->path, up->params);
	if (!err) {
		pr_info("%s: loaded %s (%s)\n", ifname, up->path, up->params);
		return 0;
	}
	if (!up->fallback)
		return err;
	err = xkv_backend_find(up->cfg->backend_cmd, up->path);
	if (err)
		return err;
	pr_warn("%s: xkv.ko did not load: starting xkvd instead\n", ifname);
	up->ops = &xkv_up_xkvd_ops;
	return 0;
}

static int module_start(struct xkv_up *up)
{
	struct xkv_serve_opts so;
	int err;

	err = module_load(up);
	if (err)
		return err;
	if (up->ops != &xkv_up_module_ops)
		return up->ops->start(up);	/* it fell back to xkvd */
	xkv_up_serve_opts(up, up->allow, &so);
	err = xkv_kmod_attach(&so, &up->inst->paths);
	if (err)
		goto unload_module;
	if (up->cfg->xdp_store != XKV_TCPF_OFF) {
		err = xkv_store_up(&up->inst->paths,
				   up->cfg->xdp_store == XKV_TCPF_ON);
		if (err)
			goto unload_module;
	}
	pr_info("%s: backend xkv.ko answering on port %u\n",
		up->inst->paths.ifname, up->cfg->port);
	xkv_up_report_udp(up);
	return 0;

unload_module:
	xkv_store_down(&up->inst->paths);
	xkv_kmod_stop(XKV_STOP_TIMEOUT);
	return err;
}

static void module_stop(struct xkv_up *up)
{
	xkv_store_down(&up->inst->paths);
	xkv_kmod_stop(XKV_STOP_TIMEOUT);
}

/* until a signal, or the module is gone */
static int module_wait(struct xkv_up *up, const sigset_t *sigs)
{
	const struct xkv_paths *p = &up->inst->paths;
	struct timespec ts = { .tv_sec = 1 };
	siginfo_t info;
	int sig;

	pr_info("%s: xkv.ko serves in the kernel; Ctrl-C takes xkv down\n",
		p->ifname);
	for (;;) {
		sig = sigtimedwait(sigs, &info, &ts);
		if (sig > 0) {
			pr_info("%s: stopping the backend\n", strsignal(sig));
			return 0;
		}
		if (!xkv_kmod_serves(p, NULL)) {
			pr_warn("%s: xkv.ko no longer serves here\n",
				p->ifname);
			return 1;
		}
	}
}

static enum xkv_up_here module_probe(const struct xkv_paths *p,
				     struct xkv_up_status *st)
{
	return xkv_kmod_serves(p, &st->kinfo) ? XKV_UP_RUNNING : XKV_UP_ABSENT;
}

static void module_print(const struct xkv_up_status *st)
{
	printf("    backend: xkv.ko, TCP port %u, UDP port %u, hot cache map id %u (%llu installs, %llu rejects)\n",
	       st->kinfo.tcp_port, st->kinfo.udp_port, st->kinfo.hot_map_id,
	       (unsigned long long)st->kinfo.hot_installs,
	       (unsigned long long)st->kinfo.hot_rejects);
}

/* the XDP store path's lines */
static void module_print_more(const struct xkv_up_status *st)
{
	struct xkv_store_state ss;
	struct xkv_paths p;

	if (xkv_paths_init(&p, st->ifname))
		return;
	xkv_store_state(&p, &ss);
	xkv_store_print(&ss);
}

const struct xkv_up_ops xkv_up_module_ops = {
	.start = module_start,
	.stop = module_stop,
	.wait = module_wait,
	.undone = "XDP detached and pins removed",
	.name = "module",
	.probe = module_probe,
	.print = module_print,
	.print_more = module_print_more,
};
