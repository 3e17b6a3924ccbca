/* SPDX-License-Identifier: GPL-2.0 */
/*
 * upbackend.h - the backends "xkv up" runs on the pinned hot cache, one
 * ops table each, so that "up" has one path and one unwind:
 *
 *   xkvd       run as a daemon with --hot-map PIN: it attaches the hot
 *              cache and renews its lease itself (backend.h)
 *   module     xkv.ko, loaded with the settings as module parameters,
 *              then handed the hot cache and its lease through /dev/xkv
 *              (kmodule.h); with --backend auto, xkvd when it does not
 *              load
 *   memcached  learning mode: the TC learning programs attached to the
 *              hot cache first (learn.h), then a stock memcached, whose
 *              sockets the programs are told and whose lease a watcher
 *              renews (live.h)
 *
 * "xkv status" asks the same tables which backend an interface has and
 * prints the backend's own lines (xkv_up_status()). Each table is in a
 * file of its own, with all of its backend's code: up_xkvd.c,
 * up_module.c, up_memcached.c (the process of the first and last in
 * up_process.c); choosing one and asking them in turn in upbackend.c.
 */
#ifndef XKV_LOADER_UPBACKEND_H
#define XKV_LOADER_UPBACKEND_H

#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/types.h>

#include "instance.h"
#include "json.h"
#include "kmodule.h"
#include "learn.h"
#include "upcfg.h"

/* how long a backend may take to stop when "up" undoes it */
#define XKV_STOP_TIMEOUT 10

struct xkv_up_ops;

/**
 * enum xkv_up_here - what a backend's status probe found on an interface.
 * @XKV_UP_ABSENT:  not this backend
 * @XKV_UP_STOPPED: set up for this backend, which is not running
 *                  (learning mode without memcached)
 * @XKV_UP_RUNNING: this backend serves the interface
 */
enum xkv_up_here {
	XKV_UP_ABSENT,
	XKV_UP_STOPPED,
	XKV_UP_RUNNING,
};

/**
 * struct xkv_up_status - the backend "xkv status" found on one interface.
 * @shown:    the backend the interface is set up for, whose lines status
 *            prints; NULL: none
 * @running:  the backend serving the interface; NULL: none
 * @ifname:   the interface
 * @logfile:  the backend process's log
 * @pid:      the backend process (xkvd or memcached), 0 for none
 * @kinfo:    what xkv.ko reported
 * @lcfg:     learning mode: the programs' settings (ttl_ms 0: unreadable)
 * @nlifs:    learning mode: interfaces the learning filters were attached
 *            to
 * @lifs:     them, with the program ids attached there now
 */
struct xkv_up_status {
	const struct xkv_up_ops *shown;
	const struct xkv_up_ops *running;
	const char *ifname;
	const char *logfile;
	pid_t pid;
	struct xkv_ioc_info kinfo;
	struct xkv_learn_config lcfg;
	int nlifs;
	struct xkv_learn_iface lifs[XKV_LEARN_IFACES_MAX];
};

/**
 * struct xkv_up - one "xkv up" and the backend it settled on.
 * @cfg:      its settings
 * @args:     the backend arguments after "--"
 * @inst:     the interface, once XDP is up there
 * @ops:      the backend
 * @fallback: chosen by --backend auto: when the module does not load,
 *            start xkvd instead
 * @path:     the module file, the xkvd or the memcached executable
 * @params:   the module parameters
 * @allow:    the XDP allowlist, for the backend's UDP port ("" until XDP
 *            is up)
 * @pid:      the backend process once started (0 for the module)
 */
struct xkv_up {
	const struct xkv_up_cfg *cfg;
	const struct xkv_args *args;
	const struct xkv_inst *inst;
	const struct xkv_up_ops *ops;
	bool fallback;
	char path[PATH_MAX];
	char params[XKV_KMOD_PARAMS_MAX];
	char allow[(XKV_ALLOW_ARGS + 8) * XKV_PREFIX_STRLEN];
	pid_t pid;
};

/**
 * struct xkv_up_ops - what "up" does with one kind of backend, in this
 * order (@attach to @undone), and what "status" asks of it (@name to
 * @json_learning). A step of "up" that fails leaves nothing of itself
 * behind; "up" then undoes the steps before it, in reverse.
 * @attach: NULL, or attach the hot cache's keeper before the backend
 *          runs (learning mode: the TC programs, so that memcached has
 *          no connection they missed). xkvd and xkv.ko attach the hot
 *          cache themselves, in @start.
 * @detach: undo @attach; on failure XDP and the pins must stay (they
 *          record what is left): says so, with what to run
 * @start:  run the backend on the hot cache and wait until it answers;
 *          may hand the rest of "up" to another backend (@ops changes:
 *          xkv.ko falling back to xkvd)
 * @stop:   stop the backend @start ran
 * @wait:   --foreground: until the backend is gone or one of @sigs
 *          (held) arrives; its exit status ("up" then takes it all down)
 * @undone: what a failed "up" says it undid
 * @name:   status -j: its "backend" when it runs
 * @probe:  status: is the interface of @p set up for this backend, and
 *          is it running? Fills in what the printers below show of it.
 * @print:  status: its "backend:" line
 * @print_more: status: NULL, or its lines after the lease's
 * @json_learning: status -j: NULL, or the value of "learning" (else
 *          null)
 */
struct xkv_up_ops {
	int (*attach)(struct xkv_up *up);
	int (*detach)(struct xkv_up *up);
	int (*start)(struct xkv_up *up);
	void (*stop)(struct xkv_up *up);
	int (*wait)(struct xkv_up *up, const sigset_t *sigs);
	const char *undone;
	const char *name;
	enum xkv_up_here (*probe)(const struct xkv_paths *p,
				  struct xkv_up_status *st);
	void (*print)(const struct xkv_up_status *st);
	void (*print_more)(const struct xkv_up_status *st);
	void (*json_learning)(struct xkv_json *j,
			      const struct xkv_up_status *st);
};

/**
 * xkv_up_choose() - the backend: the module if it is asked for (or, with
 * auto, if this kernel can take it), else xkvd; or memcached. Says which
 * and why; nothing is changed yet.
 * @up:     out: filled in, @inst still NULL
 * @cfg:    the settings (checked)
 * @args:   the backend arguments after "--"
 * @ifname: the interface
 *
 * Return: 0, or -errno after printing why.
 */
int xkv_up_choose(struct xkv_up *up, const struct xkv_up_cfg *cfg,
		  const struct xkv_args *args, const char *ifname);

/**
 * xkv_up_set_inst() - XDP is up: the interface the backend runs for, and
 * its allowlist, which the backend's UDP port answers too.
 * @up:   from xkv_up_choose()
 * @inst: after xkv_inst_up()
 */
void xkv_up_set_inst(struct xkv_up *up, const struct xkv_inst *inst);

/**
 * xkv_up_status() - which backend the interface of @p is set up for,
 * and which serves it, with what status shows of them.
 * @p:  the interface's paths
 * @st: out
 */
void xkv_up_status(const struct xkv_paths *p, struct xkv_up_status *st);

#endif /* XKV_LOADER_UPBACKEND_H */
