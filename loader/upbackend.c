// SPDX-License-Identifier: GPL-2.0
/*
 * upbackend.c - the backends of "xkv up": choosing one, and what all of
 * them share (what they are told, their UDP port's report); "status"
 * asking them in turn. Each backend's ops table is in a file of its own:
 * up_xkvd.c, up_module.c, up_memcached.c (upbackend_int.h).
 */
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>

#include "backend.h"
#include "log.h"
#include "upbackend_int.h"

void xkv_up_serve_opts(const struct xkv_up *up, const char *allow,
		       struct xkv_serve_opts *so)
{
	const struct xkv_up_cfg *cfg = up->cfg;

	memset(so, 0, sizeof(*so));
	so->port = cfg->port;
	so->udp_allow = allow && allow[0] ? allow : NULL;
	so->amp_ratio = cfg->amp_ratio;
	so->listen = cfg->listen;
	so->memory = cfg->memory;
	so->threads = cfg->threads;
	so->conns = cfg->conns;
	so->wait_s = cfg->wait;
	if (up->args->rest_argc > 0) {
		so->extra_argc = up->args->rest_argc;
		so->extra_argv = up->args->rest_argv;
		so->auth = xkv_serve_auth(so->extra_argc, so->extra_argv);
	}
}

int xkv_up_choose(struct xkv_up *up, const struct xkv_up_cfg *cfg,
		  const struct xkv_args *args, const char *ifname)
{
	char why[XKV_KMOD_WHY_MAX];
	struct xkv_serve_opts so;
	struct utsname u;
	int err;

	memset(up, 0, sizeof(*up));
	up->cfg = cfg;
	up->args = args;
	if (cfg->backend == XKV_BACKEND_MEMCACHED) {
		up->ops = &xkv_up_memcached_ops;
		err = xkv_memcached_find(cfg->memcached, up->path);
		if (!err)
			pr_info("%s: backend %s, learning mode (TC programs keep the hot cache)\n",
				ifname, up->path);
		return err;
	}
	if (cfg->backend == XKV_BACKEND_XKVD) {
		snprintf(why, sizeof(why), "--backend xkvd");
		goto xkvd;
	}
	err = xkv_kmod_find(cfg->module, up->path);
	if (err)
		snprintf(why, sizeof(why), "cannot find the xkv binary: %s",
			 strerror(-err));
	else
		err = xkv_kmod_check(up->path, why);
	if (!err) {
		xkv_up_serve_opts(up, NULL, &so);
		err = xkv_kmod_params(&so, up->params, why);
	}
	if (!err) {
		up->ops = &xkv_up_module_ops;
		up->fallback = cfg->backend == XKV_BACKEND_AUTO;
		uname(&u);
		pr_info("%s: backend xkv.ko: kernel %s loads modules and %s is built for it\n",
			ifname, u.release, up->path);
		return 0;
	}
	if (cfg->backend == XKV_BACKEND_MODULE) {
		pr_warn("up: --backend module: %s\n", why);
		pr_warn("up: nothing was changed (--backend xkvd runs the user-space store)\n");
		return err;
	}
xkvd:
	up->ops = &xkv_up_xkvd_ops;
	err = xkv_backend_find(cfg->backend_cmd, up->path);
	if (!err)
		pr_info("%s: backend xkvd, not xkv.ko: %s\n", ifname, why);
	else if (cfg->backend == XKV_BACKEND_AUTO)
		pr_warn("up: no backend: no xkvd, and xkv.ko cannot be used: %s\n",
			why);
	return err;
}

/* "none" when the allowlist is empty */
void xkv_up_set_inst(struct xkv_up *up, const struct xkv_inst *inst)
{
	char buf[XKV_PREFIX_STRLEN];
	size_t n = 0;
	unsigned int i;

	up->inst = inst;
	snprintf(up->allow, sizeof(up->allow), "none");
	for (i = 0; i < inst->nallow; i++)
		n += (size_t)snprintf(up->allow + n, sizeof(up->allow) - n,
				      "%s%s", i ? "," : "",
				      xkv_prefix_format(&inst->allow[i], buf));
}

void xkv_up_report_udp(const struct xkv_up *up)
{
	const struct xkv_up_cfg *cfg = up->cfg;

	if (up->args->rest_argc > 0 &&
	    xkv_serve_auth(up->args->rest_argc, up->args->rest_argv)) {
		pr_info("%s: backend UDP off, and nothing for XDP to answer: clients authenticate first (-S or -Y), and XDP cannot ask them\n",
			up->inst->paths.ifname);
		return;
	}
	pr_info("%s: backend UDP on port %u, answering only %s, replies at most %u x the request%s (the XDP allowlist and --amp-ratio)\n",
		up->inst->paths.ifname, cfg->port, up->allow, cfg->amp_ratio,
		cfg->amp_ratio ? "" : " (no budget)");
}

/* --- status ------------------------------------------------------------- */

/*
 * In the order status asks them: memcached first, since its process has
 * the pid file xkvd's would have.
 */
static const struct xkv_up_ops *const status_order[] = {
	&xkv_up_memcached_ops,
	&xkv_up_xkvd_ops,
	&xkv_up_module_ops,
	NULL,
};

/*
 * @shown is the first backend the interface is set up for, @running the
 * first that runs: learning mode without memcached shows memcached's
 * lines, while xkv.ko, should it have the hot cache, is the one running.
 */
void xkv_up_status(const struct xkv_paths *p, struct xkv_up_status *st)
{
	const struct xkv_up_ops *const *ops;
	enum xkv_up_here here;

	memset(st, 0, sizeof(*st));
	st->ifname = p->ifname;
	st->logfile = p->logfile;
	for (ops = status_order; *ops; ops++) {
		here = (*ops)->probe(p, st);
		if (here != XKV_UP_ABSENT && !st->shown)
			st->shown = *ops;
		if (here == XKV_UP_RUNNING) {
			st->running = *ops;
			return;
		}
	}
}
