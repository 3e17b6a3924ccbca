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
 *       from its first packet. Each backend is one ops table
 *       (upbackend.h), so all three take one path; a failure at any step
 *       undoes the steps before it.
 * down: turn the TCP fast path's answering off; stop the backend (it
 *       empties the hot cache on the way out): xkvd or memcached, or
 *       xkv.ko when it has this interface's hot cache (detach, rmmod);
 *       detach the learning filters (learning mode), detach XDP, and the
 *       TCP fast path's TC filters unless they still translate open
 *       connections (tcpfast.h: they stay, with their maps' pins, until
 *       a later down), remove the pins and the pin directory.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "backend.h"
#include "cmds.h"
#include "instance.h"
#include "kmodule.h"
#include "learn.h"
#include "log.h"
#include "storepath.h"
#include "tcpfast.h"
#include "upbackend.h"

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
	XKV_PARAM_ENUM("xdp-store", 0, struct xkv_up_cfg, xdp_store,
		       "SWITCH", xkv_tcpf_names,
		       "xkv.ko: XDP answers GETs that miss the hot cache from the module's store, through its kfuncs (default on when the module has them; on: fail if not)"),
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
		"Authentication as memcached's: -S (SASL PLAIN, binary protocol only,\n"
		"users from the file MEMCACHED_SASL_PWDB names) or -Y FILE (ASCII\n"
		"\"set auth\" tokens, text protocol only); xkv.ko gets sasl_pwdb= or\n"
		"auth_file= with the file's absolute path (the kernel reads it: root's,\n"
		"mode 600; write 1 to /sys/module/xkv/parameters/auth_reload to read\n"
		"it again, SIGHUP to xkvd). With either the backend's UDP is off and\n"
		"XDP answers nothing (it cannot ask who sends).\n"
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
		"memcached's -p -U -B -s -d are xkv's to set.\n"
		"\n"
		"--tcp-fast on (the default with xkvd and xkv.ko): XDP also answers\n"
		"hot GETs on TCP connections to PORT, when the backend has published\n"
		"that it answered everything before (bpf/TCPFAST.md); TC filters on\n"
		"IFACE's clsact ingress and egress translate those connections. If\n"
		"they cannot be attached, the TCP fast path stays off with a warning,\n"
		"or 'up' fails when --tcp-fast on was given. Off with --backend\n"
		"memcached: memcached cannot publish how far it has answered a\n"
		"connection. 'xkv tcp-fast IFACE on|off' switches answering later.\n"
		"\n"
		"XDP store path (xkv.ko only; --xdp-store): a GET that misses the\n"
		"hot cache is answered at XDP from the module's whole store, through\n"
		"a kfunc the module registers, under the same allowlist and budget.\n"
		"It needs a module built with BTF (make kmod KMOD_BTF=1); without,\n"
		"'up' says so and XDP serves the hot cache alone. While it is on, the\n"
		"module is in use: 'rmmod xkv' fails until 'xkv down'.\n",
};

struct down_cfg {
	unsigned int timeout;
	bool force;
};

static const struct xkv_param down_params[] = {
	XKV_PARAM_UINT("timeout", 'T', struct down_cfg, timeout, "SEC", 1, 600,
		       "grace period before the backend is killed (default 10)"),
	XKV_PARAM_BOOL("force", 'F', struct down_cfg, force,
		       "remove the TCP fast path's TC filters even while connections they translate are open (those break)"),
	XKV_PARAM_END,
};

static const struct xkv_cmd_doc down_doc = {
	.usage = "[IFACE]",
	.summary =
		"Undo 'xkv up' on IFACE (default: the one interface xkv is up on,\n"
		"else lo): turn the TCP fast path's answering off, stop the backend,\n"
		"detach the learning filters (learning mode; a clsact qdisc only if\n"
		"'up' created it), detach XDP and the TCP fast path's TC filters,\n"
		"remove the pins and the pin directory.\n"
		"While TCP connections XDP answered on are still open after a wait\n"
		"of 2 s, the TC filters stay attached to translate them, with the\n"
		"pins of their maps ('xkv status' shows them as draining); 'down'\n"
		"again removes them once those connections have closed, --force at\n"
		"once. 'up' on the interface refuses until then.",
};

/*
 * The options of one kind of backend make no sense with another: say so
 * before anything is changed.
 */
static int check_backend_opts(const struct xkv_up_cfg *cfg,
			      const struct xkv_args *args)
{
	if (cfg->user && !xkv_backend_user(cfg->user))
		return -EINVAL;
	if (cfg->backend == XKV_BACKEND_MEMCACHED &&
	    cfg->tcp_fast == XKV_TCPF_ON) {
		pr_warn("up: --tcp-fast on: not with --backend memcached: memcached cannot publish how far it has answered a connection, so XDP cannot know when one is quiescent\n");
		return -EINVAL;
	}
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
	if (xkv_kmod_serves(p, NULL)) {
		/* the store program holds the module: it goes first */
		xkv_store_down(p);
		err2 = xkv_kmod_stop(timeout);
	}
	return err ? err : err2;
}

/*
 * Take everything down again; what the exit of "up --foreground" does.
 * When the learning filters cannot be detached, XDP and the pins stay
 * (they record what is left): "xkv down" can be run again. The TCP fast
 * path stops answering before the backend goes, and its filters may stay
 * to translate the connections it answered on (xkv_inst_retire()).
 * Returns 1 then.
 */
static int down_all(const struct xkv_paths *p, unsigned int timeout,
		    bool force)
{
	int err, err2;

	err = xkv_tcpf_answer_pin(p, false);
	if (err && err != -ENOENT)
		pr_warn("%s: cannot turn the TCP fast path off: %s\n",
			p->ifname, strerror(-err));
	err = stop_backends(p, timeout);
	err2 = xkv_learn_down(p);
	if (err2)
		return err2;
	err2 = xkv_inst_retire(p, force);
	return err ? err : err2;
}

/*
 * "down" on an interface with no pins: the TCP fast path's filters of an
 * earlier xkv may still be there (their pins removed by hand).
 */
static int down_orphan(const struct xkv_paths *p, bool force)
{
	struct xkv_tcpf_state st;
	int ifindex, err;

	ifindex = (int)if_nametoindex(p->ifname);
	if (!ifindex || xkv_tcpf_query(ifindex, &st) ||
	    !xkv_tcpf_attached(&st)) {
		pr_warn("%s: xkv is not up here\n", p->ifname);
		return XKV_EXIT_FAIL;
	}
	if (xkv_tcpf_busy(&st) && !force) {
		xkv_tcpf_say_busy(p, &st);
		return XKV_EXIT_FAIL;
	}
	err = xkv_tcpf_detach(ifindex);
	if (err) {
		pr_warn("%s: cannot detach the TCP fast path's TC filters: %s\n",
			p->ifname, strerror(-err));
		return XKV_EXIT_FAIL;
	}
	pr_info("%s: down: removed the TCP fast path's TC filters an earlier xkv left\n",
		p->ifname);
	return XKV_EXIT_OK;
}

static void say_down(const char *ifname, const char *what, int ret)
{
	if (ret > 0)
		pr_info("%s: down: %sXDP detached; the TCP fast path's TC filters stay until its connections close\n",
			ifname, what);
	else
		pr_info("%s: down: %sXDP detached, pins removed\n", ifname,
			what);
}

int xkv_cmd_up(int argc, char **argv)
{
	struct xkv_inst_opts o;
	struct xkv_up_cfg cfg;
	struct xkv_inst inst;
	struct xkv_args args;
	const char *ifname;
	struct xkv_up up;
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
	if (cfg.backend == XKV_BACKEND_MEMCACHED)
		cfg.tcp_fast = XKV_TCPF_OFF;
	if (cfg.xdp_store == XKV_TCPF_ON && cfg.backend != XKV_BACKEND_MODULE &&
	    cfg.backend != XKV_BACKEND_AUTO) {
		pr_warn("up: --xdp-store on: only with xkv.ko as the backend\n");
		return XKV_EXIT_USAGE;
	}
	xkv_up_cfg_inst_opts(&cfg, ifname, &o);
	if (xkv_inst_check_opts(&o))
		return XKV_EXIT_USAGE;
	err = xkv_inst_init(&inst, ifname);
	if (err)
		return XKV_EXIT_FAIL;
	if (xkv_up_choose(&up, &cfg, &args, ifname))
		return XKV_EXIT_FAIL;
	if (cfg.backend == XKV_BACKEND_MEMCACHED)
		pr_info("%s: TCP fast path off: memcached cannot publish how far it has answered a connection, so XDP cannot know when one is quiescent (xkvd and xkv.ko can)\n",
			ifname);
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
	xkv_up_set_inst(&up, &inst);
	if (up.ops->attach) {
		err = up.ops->attach(&up);
		if (err)
			goto take_down;
		if (interrupted(&sigs))
			goto detach_hot;
	}
	err = up.ops->start(&up);
	if (err)
		goto detach_hot;
	if (!cfg.foreground) {
		if (interrupted(&sigs))
			goto stop_backend;
		/* exit with the signals still held: nothing undoes this */
		pr_info("%s: up ('xkv status', 'xkv stats %s', 'xkv down %s')\n",
			ifname, ifname, ifname);
		return XKV_EXIT_OK;
	}
	status = up.ops->wait(&up, &sigs);
	err = down_all(&inst.paths, XKV_STOP_TIMEOUT, false);
	if (err < 0)
		return XKV_EXIT_FAIL;
	say_down(ifname, "", err);
	return status ? XKV_EXIT_FAIL : XKV_EXIT_OK;

stop_backend:
	up.ops->stop(&up);
detach_hot:
	if (up.ops->detach && up.ops->detach(&up))
		return XKV_EXIT_FAIL;
take_down:
	xkv_inst_down(&inst.paths);
	pr_warn("%s: up failed: %s, the interface is as it was\n", ifname,
		up.ops->undone);
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
	if (xkv_iface_arg(args.argc ? args.argv[0] : NULL, ifname))
		return XKV_EXIT_USAGE;
	if (xkv_paths_init(&p, ifname))
		return XKV_EXIT_USAGE;
	if (!xkv_pin_dir_exists(&p) && !xkv_backend_running(&p)) {
		/* a stale pid file of a backend long gone */
		xkv_backend_stop(&p, cfg.timeout);
		return down_orphan(&p, cfg.force);
	}
	learning = xkv_learn_mode(&p);
	err = down_all(&p, cfg.timeout, cfg.force);
	if (err < 0) {
		pr_warn("%s: down incomplete: %s\n", ifname, strerror(-err));
		return XKV_EXIT_FAIL;
	}
	say_down(ifname, learning ? "backend stopped, learning filters and " :
				    "backend stopped, ", err);
	return XKV_EXIT_OK;
}
