// SPDX-License-Identifier: GPL-2.0
/*
 * upbackend.c - the backends of "xkv up": choosing one, and the ops table
 * of each (xkvd, xkv.ko, memcached in learning mode).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "backend.h"
#include "config.h"
#include "learn.h"
#include "live.h"
#include "log.h"
#include "upbackend.h"

static const struct xkv_up_ops xkvd_ops, module_ops, memcached_ops;

/* what every backend is told; @allow "" or NULL: its default */
static void serve_opts(const struct xkv_up *up, const char *allow,
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
		up->ops = &memcached_ops;
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
		serve_opts(up, NULL, &so);
		err = xkv_kmod_params(&so, up->params, why);
	}
	if (!err) {
		up->ops = &module_ops;
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
	up->ops = &xkvd_ops;
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

/* xkvd and xkv.ko: their UDP port answers what XDP answers */
static void report_udp(const struct xkv_up *up)
{
	const struct xkv_up_cfg *cfg = up->cfg;

	pr_info("%s: backend UDP on port %u, answering only %s, replies at most %u x the request%s (the XDP allowlist and --amp-ratio)\n",
		up->inst->paths.ifname, cfg->port, up->allow, cfg->amp_ratio,
		cfg->amp_ratio ? "" : " (no budget)");
}

/* --- a backend process: xkvd, or memcached ---------------------------- */

static int process_start(struct xkv_up *up, bool memcached)
{
	const struct xkv_up_cfg *cfg = up->cfg;
	const struct xkv_paths *p = &up->inst->paths;
	struct xkv_backend_opts bo = {
		.path = up->path,
		.memcached = memcached,
		.foreground = cfg->foreground,
	};
	bool root = !geteuid();
	char hot[PATH_MAX];
	int err;

	bo.hot_map = xkv_pin_path(p, XKV_PIN_HOT, hot);
	bo.user = xkv_backend_user(cfg->user);
	if (!bo.user)
		return -EINVAL;
	serve_opts(up, up->allow, &bo.serve);
	err = xkv_backend_start(&bo, p, &up->pid);
	if (err)
		return err;
	if (cfg->foreground)
		pr_info("%s: backend %s in the foreground (pid %d%s%s), answering on port %u; Ctrl-C takes xkv down\n",
			p->ifname, up->path, (int)up->pid,
			root ? ", user " : "", root ? bo.user : "", cfg->port);
	else
		pr_info("%s: backend %s started (pid %d%s%s, log %s), answering on port %u\n",
			p->ifname, up->path, (int)up->pid,
			root ? ", user " : "", root ? bo.user : "", p->logfile,
			cfg->port);
	return 0;
}

static void process_stop(struct xkv_up *up)
{
	xkv_backend_stop(&up->inst->paths, XKV_STOP_TIMEOUT);
}

/* SIGINT, SIGTERM, SIGHUP (held) reach it through xkv_backend_wait() */
static int process_wait(struct xkv_up *up, const sigset_t *sigs)
{
	int status;

	(void)sigs;
	status = xkv_backend_wait(up->pid, XKV_STOP_TIMEOUT);
	pr_info("%s: backend exited (status %d): taking xkv down\n",
		up->inst->paths.ifname, status);
	return status;
}

/* the backend process's pid, 0 if none runs */
static pid_t process_pid(const struct xkv_paths *p)
{
	pid_t pid = xkv_backend_running(p);

	return pid > 0 ? pid : 0;
}

static enum xkv_up_here xkvd_probe(const struct xkv_paths *p,
				   struct xkv_up_status *st)
{
	st->pid = process_pid(p);
	return st->pid ? XKV_UP_RUNNING : XKV_UP_ABSENT;
}

static void xkvd_print(const struct xkv_up_status *st)
{
	printf("    backend: pid %d running (log %s)\n", (int)st->pid,
	       st->logfile);
}

static int xkvd_start(struct xkv_up *up)
{
	int err = process_start(up, false);

	if (!err)
		report_udp(up);
	return err;
}

static const struct xkv_up_ops xkvd_ops = {
	.start = xkvd_start,
	.stop = process_stop,
	.wait = process_wait,
	.undone = "XDP detached and pins removed",
	.name = "xkvd",
	.probe = xkvd_probe,
	.print = xkvd_print,
};

/* --- xkv.ko ------------------------------------------------------------- */

/* load the module; with auto, hand over to xkvd if it does not load */
static int module_load(struct xkv_up *up)
{
	const char *ifname = up->inst->paths.ifname;
	char why[XKV_KMOD_WHY_MAX];
	struct xkv_serve_opts so;
	int err;

	/* again, now with the allowlist */
	serve_opts(up, up->allow, &so);
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
	up->ops = &xkvd_ops;
	return 0;
}

static int module_start(struct xkv_up *up)
{
	struct xkv_serve_opts so;
	int err;

	err = module_load(up);
	if (err)
		return err;
	if (up->ops != &module_ops)
		return up->ops->start(up);	/* it fell back to xkvd */
	serve_opts(up, up->allow, &so);
	err = xkv_kmod_attach(&so, &up->inst->paths);
	if (err)
		goto unload_module;
	pr_info("%s: backend xkv.ko answering on port %u\n",
		up->inst->paths.ifname, up->cfg->port);
	report_udp(up);
	return 0;

unload_module:
	xkv_kmod_stop(XKV_STOP_TIMEOUT);
	return err;
}

static void module_stop(struct xkv_up *up)
{
	(void)up;
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

static const struct xkv_up_ops module_ops = {
	.start = module_start,
	.stop = module_stop,
	.wait = module_wait,
	.undone = "XDP detached and pins removed",
	.name = "module",
	.probe = module_probe,
	.print = module_print,
};

/* --- memcached, learning mode ------------------------------------------- */

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

	err = process_start(up, true);
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
	process_stop(up);
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
	st->pid = process_pid(p);
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

static const struct xkv_up_ops memcached_ops = {
	.attach = memcached_attach,
	.detach = memcached_detach,
	.start = memcached_start,
	.stop = process_stop,
	.wait = process_wait,
	.undone = "learning filters and XDP detached, pins removed",
	.name = "memcached",
	.probe = memcached_probe,
	.print = memcached_print,
	.print_more = memcached_print_more,
	.json_learning = memcached_json_learning,
};

/* --- status ------------------------------------------------------------- */

/*
 * In the order status asks them: memcached first, since its process has
 * the pid file xkvd's would have.
 */
static const struct xkv_up_ops *const status_order[] = {
	&memcached_ops,
	&xkvd_ops,
	&module_ops,
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
