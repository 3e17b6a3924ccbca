// SPDX-License-Identifier: GPL-2.0
/*
 * cmd_up.c - "xkv up" and "xkv down": the XDP tier and its backend.
 *
 * up:   check everything that can be checked first (settings, which
 *       backend and whether it can run, free port) so that most mistakes
 *       change nothing; then load, pin, fill the allowlist, attach XDP,
 *       start the backend on the pinned hot cache and wait until it
 *       answers. The backend is xkv.ko when this kernel can load it
 *       (insmod, then the pinned map handed over through /dev/xkv), else
 *       xkvd (xkvd --hot-map PIN). With --backend memcached (learning
 *       mode, bpf/LEARNING.md) the TC learning programs are loaded on the
 *       pinned hot cache, pinned and attached (learn.c) before a stock
 *       memcached is started, so that every connection to it is followed
 *       from its first packet. A failure at any step undoes the steps
 *       before it.
 * down: stop the backend (it empties the hot cache on the way out):
 *       xkvd or memcached, or xkv.ko when it has this interface's hot
 *       cache (detach, rmmod); detach the learning filters (learning
 *       mode), detach XDP, remove the pins and the pin directory.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>

#include "backend.h"
#include "cmds.h"
#include "instance.h"
#include "kmodule.h"
#include "learn.h"
#include "live.h"
#include "log.h"
#include "upcfg.h"

static const struct xkv_param_name backend_names[] = {
	{ "auto", XKV_BACKEND_AUTO },
	{ "module", XKV_BACKEND_MODULE },
	{ "xkvd", XKV_BACKEND_XKVD },
	{ "memcached", XKV_BACKEND_MEMCACHED },
	{ NULL, 0 },
};

static const struct xkv_param up_params[] = {
	XKV_XDP_PARAMS,
	XKV_PARAM_ENUM("backend", 'b', struct xkv_up_cfg, backend, "KIND",
		       backend_names,
		       "auto (xkv.ko if this kernel can load it, else xkvd), module, xkvd, or memcached (learning mode) (default auto)"),
	XKV_PARAM_STRING("backend-cmd", 0, struct xkv_up_cfg, backend_cmd,
			 "PATH",
			 "xkvd executable (default: $XKV_BACKEND, else xkvd next to xkv)"),
	XKV_PARAM_STRING("module", 0, struct xkv_up_cfg, module, "PATH",
			 "kernel module (default: $XKV_MODULE, else xkv.ko next to xkv)"),
	XKV_PARAM_STRING("memcached", 0, struct xkv_up_cfg, memcached, "PATH",
			 "--backend memcached: the memcached executable (default " XKV_MEMCACHED_DEFAULT ")"),
	XKV_PARAM_UINT("learn-ttl", 0, struct xkv_up_cfg, learn_ttl, "MS", 1,
		       86400000,
		       "--backend memcached: lifetime of a learned value (default 10000)"),
	XKV_PARAM_UINT("learn-quiet", 0, struct xkv_up_cfg, learn_quiet, "MS",
		       0, 3600000,
		       "--backend memcached: nothing is learned for a key this long after a write to it (default 1000)"),
	XKV_PARAM_STRING("listen", 'l', struct xkv_up_cfg, listen, "ADDR",
			 "backend: listen address (-l)"),
	XKV_PARAM_UINT("memory", 'm', struct xkv_up_cfg, memory, "MB", 1,
		       1UL << 20, "backend: item memory (-m)"),
	XKV_PARAM_UINT("threads", 't', struct xkv_up_cfg, threads, "N", 1,
		       1024, "backend: worker threads (-t)"),
	XKV_PARAM_UINT("conns", 'c', struct xkv_up_cfg, conns, "N", 1,
		       1UL << 20, "backend: most connections (-c)"),
	XKV_PARAM_UINT("wait", 'w', struct xkv_up_cfg, wait, "SEC", 1, 3600,
		       "how long the backend may take to answer (default 10)"),
	XKV_PARAM_BOOL("foreground", 'f', struct xkv_up_cfg, foreground,
		       "keep the backend attached; 'down' when it exits"),
	XKV_PARAM_STRING("user", 0, struct xkv_up_cfg, user, "USER",
			 "xkvd or memcached drops root for USER (-u) once its sockets are open (default " XKV_BACKEND_USER " if that user exists, else " XKV_BACKEND_USER_FALLBACK ")"),
	XKV_PARAM_END,
};

static const struct xkv_cmd_doc up_doc = {
	.usage = "[IFACE] [-- BACKEND-ARG...]",
	.summary =
		"Serve memcached on IFACE (default lo): load the XDP hot tier,\n"
		"pin its maps under /sys/fs/bpf/xkv/IFACE/, allow the interface's\n"
		"subnets and loopback, attach XDP, then start the backend on the\n"
		"pinned hot cache and wait until it answers: xkv.ko when this kernel\n"
		"can load modules and the module is built for it (insmod with\n"
		"tcp_port=PORT udp_port=PORT ..., then the map handed over through\n"
		"/dev/xkv), else xkvd (xkvd --hot-map PIN -p PORT -U PORT ...); or,\n"
		"with --backend memcached, a stock memcached in learning mode (below).\n"
		"xkvd and memcached run as daemons unless --foreground.\n"
		"The backend's UDP port (xkv.ko udp_port=, udp_allow=,\n"
		"udp_amp_ratio=; xkvd -U, --udp-allow, --udp-amp-ratio) answers only\n"
		"the sources XDP answers, as the allowlist stands at 'up' ('xkv allow'\n"
		"changes XDP's only), within the same --amp-ratio.",
	.extra =
		"Arguments after \"--\" go to the backend: xkvd takes them as they\n"
		"are; xkv.ko takes NAME=VALUE module parameters and the xkvd flags\n"
		"that have one (-m 256 is memory_limit=256, -vv is verbose=2, ...).\n"
		"\n"
		"--backend memcached (learning mode): a stock memcached, started as\n"
		"memcached -u USER -p PORT -U PORT -B ascii [ARG...], with TC\n"
		"programs on IFACE and lo that invalidate a key's slot on every write\n"
		"seen at ingress and learn values from GET replies at egress. Writes\n"
		"reaching memcached through another interface are not seen: XDP may\n"
		"then serve the value they replaced for up to --learn-ttl. The TC\n"
		"programs also give memcached's UDP port the policy it lacks: they\n"
		"drop the datagrams xkvd would not answer (the XDP allowlist as it\n"
		"stands, port 0 or PORT as the source, reply-like payloads) and\n"
		"memcached's datagrams past --amp-ratio x the request's bytes. Limits\n"
		"and guarantees: bpf/LEARNING.md. Not with --module or --backend-cmd;\n"
		"memcached's -p -U -B -s -d are xkv's to set.\n",
};

struct down_cfg {
	unsigned int timeout;
};

static const struct xkv_param down_params[] = {
	XKV_PARAM_UINT("timeout", 'T', struct down_cfg, timeout, "SEC", 1, 600,
		       "grace period before the backend is killed (default 10)"),
	XKV_PARAM_END,
};

static const struct xkv_cmd_doc down_doc = {
	.usage = "[IFACE]",
	.summary =
		"Undo 'xkv up' on IFACE (default: the one interface xkv is up on,\n"
		"else lo): stop the backend, detach the learning filters (learning\n"
		"mode; a clsact qdisc only if 'up' created it), detach XDP, remove\n"
		"the pins and the pin directory.",
};

#define XKV_STOP_TIMEOUT 10

/**
 * struct up_backend - the backend "up" settled on.
 * @kind:     XKV_BACKEND_MODULE, XKV_BACKEND_XKVD or XKV_BACKEND_MEMCACHED
 * @fallback: chosen by --backend auto: when the module does not load,
 *            start xkvd instead
 * @path:     the module file, the xkvd or the memcached executable
 * @params:   the module parameters
 * @allow:    the XDP allowlist, for the backend's UDP port ("" until XDP
 *            is up)
 */
struct up_backend {
	unsigned int kind;
	bool fallback;
	char path[PATH_MAX];
	char params[XKV_KMOD_PARAMS_MAX];
	char allow[(XKV_ALLOW_ARGS + 8) * XKV_PREFIX_STRLEN];
};

static void kmod_opts(const struct xkv_up_cfg *cfg, const char *path,
		      const struct xkv_args *args, const char *allow,
		      struct xkv_kmod_opts *ko)
{
	memset(ko, 0, sizeof(*ko));
	ko->path = path;
	ko->port = cfg->port;
	ko->udp_allow = allow && allow[0] ? allow : NULL;
	ko->amp_ratio = cfg->amp_ratio;
	ko->listen = cfg->listen;
	ko->memory = cfg->memory;
	ko->threads = cfg->threads;
	ko->conns = cfg->conns;
	ko->wait_s = cfg->wait;
	if (args->rest_argc > 0) {
		ko->extra_argc = args->rest_argc;
		ko->extra_argv = args->rest_argv;
	}
}

/*
 * The module if it is asked for (or, with auto, if this kernel can take
 * it), else xkvd; say which and why. Nothing is changed yet.
 */
static int choose_backend(const struct xkv_up_cfg *cfg,
			  const struct xkv_args *args, const char *ifname,
			  struct up_backend *b)
{
	char why[XKV_KMOD_WHY_MAX];
	struct xkv_kmod_opts ko;
	struct utsname u;
	int err;

	memset(b, 0, sizeof(*b));
	if (cfg->backend == XKV_BACKEND_MEMCACHED) {
		b->kind = XKV_BACKEND_MEMCACHED;
		err = xkv_memcached_find(cfg->memcached, b->path);
		if (!err)
			pr_info("%s: backend %s, learning mode (TC programs keep the hot cache)\n",
				ifname, b->path);
		return err;
	}
	if (cfg->backend == XKV_BACKEND_XKVD) {
		snprintf(why, sizeof(why), "--backend xkvd");
		goto xkvd;
	}
	err = xkv_kmod_find(cfg->module, b->path);
	if (err)
		snprintf(why, sizeof(why), "cannot find the xkv binary: %s",
			 strerror(-err));
	else
		err = xkv_kmod_check(b->path, why);
	if (!err) {
		kmod_opts(cfg, b->path, args, NULL, &ko);
		err = xkv_kmod_params(&ko, b->params, why);
	}
	if (!err) {
		b->kind = XKV_BACKEND_MODULE;
		b->fallback = cfg->backend == XKV_BACKEND_AUTO;
		uname(&u);
		pr_info("%s: backend xkv.ko: kernel %s loads modules and %s is built for it\n",
			ifname, u.release, b->path);
		return 0;
	}
	if (cfg->backend == XKV_BACKEND_MODULE) {
		pr_warn("up: --backend module: %s\n", why);
		pr_warn("up: nothing was changed (--backend xkvd runs the user-space store)\n");
		return err;
	}
xkvd:
	b->kind = XKV_BACKEND_XKVD;
	err = xkv_backend_find(cfg->backend_cmd, b->path);
	if (!err)
		pr_info("%s: backend xkvd, not xkv.ko: %s\n", ifname, why);
	else if (cfg->backend == XKV_BACKEND_AUTO)
		pr_warn("up: no backend: no xkvd, and xkv.ko cannot be used: %s\n",
			why);
	return err;
}

/*
 * The backend's UDP port answers what XDP answers: the interface's
 * allowlist as XDP got it, "none" when it is empty.
 */
static void backend_allow(const struct xkv_inst *inst, struct up_backend *b)
{
	char buf[XKV_PREFIX_STRLEN];
	size_t n = 0;
	unsigned int i;

	snprintf(b->allow, sizeof(b->allow), "none");
	for (i = 0; i < inst->nallow; i++)
		n += (size_t)snprintf(b->allow + n, sizeof(b->allow) - n,
				      "%s%s", i ? "," : "",
				      xkv_prefix_format(&inst->allow[i], buf));
}

static void report_udp(const struct xkv_up_cfg *cfg, const char *ifname,
		       const struct up_backend *b)
{
	pr_info("%s: backend UDP on port %u, answering only %s, replies at most %u x the request%s (the XDP allowlist and --amp-ratio)\n",
		ifname, cfg->port, b->allow, cfg->amp_ratio,
		cfg->amp_ratio ? "" : " (no budget)");
}

/* load the module; with auto, fall back to xkvd if it does not load */
static int load_module(const struct xkv_up_cfg *cfg, const char *ifname,
		       const struct xkv_args *args, struct up_backend *b)
{
	char why[XKV_KMOD_WHY_MAX];
	struct xkv_kmod_opts ko;
	int err;

	/* again, now with the allowlist */
	kmod_opts(cfg, b->path, args, b->allow, &ko);
	err = xkv_kmod_params(&ko, b->params, why);
	if (err) {
		pr_warn("up: %s\n", why);
		return err;
	}
	err = xkv_kmod_load(b->path, b->params);
	if (!err) {
		pr_info("%s: loaded %s (%s)\n", ifname, b->path, b->params);
		return 0;
	}
	if (!b->fallback)
		return err;
	b->kind = XKV_BACKEND_XKVD;
	err = xkv_backend_find(cfg->backend_cmd, b->path);
	if (!err)
		pr_warn("%s: xkv.ko did not load: starting xkvd instead\n",
			ifname);
	return err;
}

static int attach_module(const struct xkv_up_cfg *cfg,
			 const struct xkv_inst *inst,
			 const struct up_backend *b,
			 const struct xkv_args *args)
{
	struct xkv_kmod_opts ko;
	int err;

	kmod_opts(cfg, b->path, args, b->allow, &ko);
	err = xkv_kmod_attach(&ko, &inst->paths);
	if (err)
		return err;
	pr_info("%s: backend xkv.ko answering on port %u\n",
		inst->paths.ifname, cfg->port);
	return 0;
}

/* --foreground with the module: until a signal, or the module is gone */
static int wait_module(const struct xkv_paths *p, const sigset_t *sigs)
{
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

static int start_backend(const struct xkv_up_cfg *cfg,
			 const struct xkv_inst *inst,
			 const struct up_backend *b,
			 const struct xkv_args *args, pid_t *pid)
{
	const char *path = b->path;
	struct xkv_backend_opts bo = {
		.path = path,
		.memcached = cfg->backend == XKV_BACKEND_MEMCACHED,
		.port = cfg->port,
		.udp_allow = b->allow,
		.amp_ratio = cfg->amp_ratio,
		.listen = cfg->listen,
		.memory = cfg->memory,
		.threads = cfg->threads,
		.conns = cfg->conns,
		.foreground = cfg->foreground,
		.wait_s = cfg->wait,
	};
	char hot[PATH_MAX];
	int err;

	bo.hot_map = xkv_pin_path(&inst->paths, XKV_PIN_HOT, hot);
	bo.user = xkv_backend_user(cfg->user);
	if (!bo.user)
		return -EINVAL;
	if (args->rest_argc > 0) {
		bo.extra_argc = args->rest_argc;
		bo.extra_argv = args->rest_argv;
	}
	err = xkv_backend_start(&bo, &inst->paths, pid);
	if (err)
		return err;
	if (cfg->foreground)
		pr_info("%s: backend %s in the foreground (pid %d%s%s), answering on port %u; Ctrl-C takes xkv down\n",
			inst->paths.ifname, path, (int)*pid,
			geteuid() ? "" : ", user ", geteuid() ? "" : bo.user,
			cfg->port);
	else
		pr_info("%s: backend %s started (pid %d%s%s, log %s), answering on port %u\n",
			inst->paths.ifname, path, (int)*pid,
			geteuid() ? "" : ", user ", geteuid() ? "" : bo.user,
			inst->paths.logfile, cfg->port);
	return 0;
}

/*
 * The options of one kind of backend make no sense with another: say so
 * before anything is changed.
 */
static int check_backend_opts(const struct xkv_up_cfg *cfg,
			      const struct xkv_args *args)
{
	if (cfg->user && !xkv_backend_user(cfg->user))
		return -EINVAL;
	if (cfg->backend != XKV_BACKEND_MEMCACHED) {
		if (cfg->memcached || cfg->learn_ttl != XKV_UP_UNSET ||
		    cfg->learn_quiet != XKV_UP_UNSET) {
			pr_warn("up: --memcached, --learn-ttl and --learn-quiet go with --backend memcached only\n");
			return -EINVAL;
		}
		return 0;
	}
	if (cfg->module || cfg->backend_cmd) {
		pr_warn("up: --backend memcached runs a stock memcached (--memcached PATH): --module and --backend-cmd are for xkv.ko and xkvd\n");
		return -EINVAL;
	}
	if (cfg->slots < XKV_LEARN_SLOTS_MIN) {
		pr_warn("--cache-slots %u: learning mode needs at least %u\n",
			cfg->slots, XKV_LEARN_SLOTS_MIN);
		return -EINVAL;
	}
	if (args->rest_argc > 0 &&
	    xkv_memcached_args_check(args->rest_argc, args->rest_argv))
		return -EINVAL;
	if (cfg->learn_quiet == 0)
		pr_warn("warning: --learn-quiet 0 turns the write quarantine off: a reply racing a write may be learned (for tests; bpf/LEARNING.md)\n");
	return 0;
}

/* learning mode: the TC programs on the pinned hot cache, attached */
static int learn_up(const struct xkv_up_cfg *cfg, const struct xkv_inst *inst)
{
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
	const char *ifname = inst->paths.ifname;
	int err;

	err = xkv_learn_up(&inst->paths, inst->ifindex, &lo);
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

/* did one of @sigs (held) arrive? */
static bool interrupted(const sigset_t *sigs)
{
	sigset_t pending;
	int sig;

	if (sigpending(&pending))
		return false;
	for (sig = 1; sig < NSIG; sig++) {
		if (sigismember(sigs, sig) == 1 &&
		    sigismember(&pending, sig) == 1) {
			pr_warn("%s: undoing what was done\n", strsignal(sig));
			return true;
		}
	}
	return false;
}

/* stop whichever backend serves the interface */
static int stop_backends(const struct xkv_paths *p, unsigned int timeout)
{
	int err, err2 = 0;

	err = xkv_backend_stop(p, timeout);
	if (xkv_kmod_serves(p, NULL))
		err2 = xkv_kmod_stop(timeout);
	return err ? err : err2;
}

/*
 * Take everything down again; what the exit of "up --foreground" does.
 * When the learning filters cannot be detached, XDP and the pins stay
 * (they record what is left): "xkv down" can be run again.
 */
static int down_all(const struct xkv_paths *p, unsigned int timeout)
{
	int err, err2;

	err = stop_backends(p, timeout);
	err2 = xkv_learn_down(p);
	if (err2)
		return err2;
	err2 = xkv_inst_down(p);
	return err ? err : err2;
}

int xkv_cmd_up(int argc, char **argv)
{
	struct up_backend b;
	struct xkv_inst_opts o;
	struct xkv_up_cfg cfg;
	struct xkv_inst inst;
	struct xkv_args args;
	const char *ifname;
	pid_t pid = 0;
	int err, status;
	sigset_t sigs;

	xkv_up_cfg_init(&cfg);
	err = xkv_params_parse("up", up_params, &up_doc, &cfg, argc, argv,
			       &args);
	if (err)
		return xkv_params_exit(err);
	if (args.argc > 1) {
		pr_warn("up: one interface at most; see 'xkv up --help'\n");
		return XKV_EXIT_USAGE;
	}
	ifname = args.argc ? args.argv[0] : "lo";
	if (check_backend_opts(&cfg, &args))
		return XKV_EXIT_USAGE;
	xkv_up_cfg_inst_opts(&cfg, ifname, &o);
	if (xkv_inst_check_opts(&o))
		return XKV_EXIT_USAGE;
	err = xkv_inst_init(&inst, ifname);
	if (err)
		return XKV_EXIT_FAIL;
	if (choose_backend(&cfg, &args, ifname, &b))
		return XKV_EXIT_FAIL;
	/* a server already on the port would answer our readiness probe */
	if (!xkv_pin_dir_exists(&inst.paths) &&
	    xkv_backend_port_free(cfg.port))
		return XKV_EXIT_FAIL;

	/*
	 * Ctrl-C half way would leave half an instance: hold the signals
	 * and look at them between steps (the backend wait does too).
	 */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGHUP);
	sigprocmask(SIG_BLOCK, &sigs, NULL);
	err = xkv_inst_up(&inst, &o);
	if (err)
		return XKV_EXIT_FAIL;
	if (interrupted(&sigs))
		goto take_down;
	xkv_up_report(&inst, &o);
	if (b.kind == XKV_BACKEND_MEMCACHED) {
		/* before memcached: it then has no connection we missed */
		err = learn_up(&cfg, &inst);
		if (err)
			goto take_down;
		if (interrupted(&sigs))
			goto detach_learning;
	}
	backend_allow(&inst, &b);
	if (b.kind == XKV_BACKEND_MODULE) {
		err = load_module(&cfg, ifname, &args, &b);
		if (err)
			goto take_down;
	}
	if (b.kind == XKV_BACKEND_MODULE) {
		err = attach_module(&cfg, &inst, &b, &args);
		if (err)
			goto unload_module;
	} else {
		err = start_backend(&cfg, &inst, &b, &args, &pid);
		if (err)
			goto detach_learning;
	}
	/* learning: only replies from memcached's own sockets */
	if (b.kind == XKV_BACKEND_MEMCACHED &&
	    xkv_learn_own_backend(&inst.paths, pid, cfg.port))
		goto stop_backend;
	/* memcached does not renew the lease XDP checks: beat for it */
	if (b.kind == XKV_BACKEND_MEMCACHED &&
	    xkv_live_watch(&inst.paths, pid))
		goto stop_backend;
	if (b.kind != XKV_BACKEND_MEMCACHED)
		report_udp(&cfg, ifname, &b);
	if (!cfg.foreground) {
		if (interrupted(&sigs))
			goto stop_backend;
		/* exit with the signals still held: nothing undoes this */
		pr_info("%s: up ('xkv status', 'xkv stats %s', 'xkv down %s')\n",
			ifname, ifname, ifname);
		return XKV_EXIT_OK;
	}
	if (b.kind == XKV_BACKEND_MODULE) {
		status = wait_module(&inst.paths, &sigs);
	} else {
		status = xkv_backend_wait(pid, XKV_STOP_TIMEOUT);
		pr_info("%s: backend exited (status %d): taking xkv down\n",
			ifname, status);
	}
	err = down_all(&inst.paths, XKV_STOP_TIMEOUT);
	if (err)
		return XKV_EXIT_FAIL;
	pr_info("%s: down: XDP detached, pins removed\n", ifname);
	return status ? XKV_EXIT_FAIL : XKV_EXIT_OK;

stop_backend:
	if (b.kind == XKV_BACKEND_MODULE)
		goto unload_module;
	xkv_backend_stop(&inst.paths, XKV_STOP_TIMEOUT);
	goto detach_learning;
unload_module:
	xkv_kmod_stop(XKV_STOP_TIMEOUT);
	goto take_down;
detach_learning:
	if (b.kind == XKV_BACKEND_MEMCACHED &&
	    xkv_learn_down(&inst.paths)) {
		pr_warn("%s: up failed, and the learning filters could not all be detached: run 'xkv down %s'\n",
			ifname, ifname);
		return XKV_EXIT_FAIL;
	}
take_down:
	xkv_inst_down(&inst.paths);
	pr_warn("%s: up failed: %s, the interface is as it was\n", ifname,
		b.kind == XKV_BACKEND_MEMCACHED ?
			"learning filters and XDP detached, pins removed" :
			"XDP detached and pins removed");
	return XKV_EXIT_FAIL;
}

int xkv_cmd_down(int argc, char **argv)
{
	struct down_cfg cfg = { .timeout = XKV_STOP_TIMEOUT };
	char ifname[IF_NAMESIZE];
	struct xkv_paths p;
	struct xkv_args args;
	bool learning;
	int err;

	err = xkv_params_parse("down", down_params, &down_doc, &cfg, argc,
			       argv, &args);
	if (err)
		return xkv_params_exit(err);
	if (args.argc > 1) {
		pr_warn("down: one interface at most\n");
		return XKV_EXIT_USAGE;
	}
	if (args.argc)
		snprintf(ifname, sizeof(ifname), "%s", args.argv[0]);
	else if (xkv_default_iface(ifname))
		return XKV_EXIT_USAGE;
	if (xkv_paths_init(&p, ifname))
		return XKV_EXIT_USAGE;
	if (!xkv_pin_dir_exists(&p) && !xkv_backend_running(&p)) {
		/* a stale pid file of a backend long gone */
		xkv_backend_stop(&p, cfg.timeout);
		pr_warn("%s: xkv is not up here\n", ifname);
		return XKV_EXIT_FAIL;
	}
	learning = xkv_learn_mode(&p);
	err = down_all(&p, cfg.timeout);
	if (err) {
		pr_warn("%s: down incomplete: %s\n", ifname, strerror(-err));
		return XKV_EXIT_FAIL;
	}
	pr_info("%s: down: backend stopped, %sXDP detached, pins removed\n",
		ifname, learning ? "learning filters and " : "");
	return XKV_EXIT_OK;
}
