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
 */
#ifndef XKV_LOADER_UPBACKEND_H
#define XKV_LOADER_UPBACKEND_H

#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/types.h>

#include "instance.h"
#include "kmodule.h"
#include "upcfg.h"

/* how long a backend may take to stop when "up" undoes it */
#define XKV_STOP_TIMEOUT 10

struct xkv_up_ops;

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
 * order. A step that fails leaves nothing of itself behind; "up" then
 * undoes the steps before it, in reverse.
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
 */
struct xkv_up_ops {
	int (*attach)(struct xkv_up *up);
	int (*detach)(struct xkv_up *up);
	int (*start)(struct xkv_up *up);
	void (*stop)(struct xkv_up *up);
	int (*wait)(struct xkv_up *up, const sigset_t *sigs);
	const char *undone;
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

#endif /* XKV_LOADER_UPBACKEND_H */
