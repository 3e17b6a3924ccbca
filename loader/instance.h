/* SPDX-License-Identifier: GPL-2.0 */
/*
 * instance.h - xkv on one interface: bring the XDP tier up (check, lock,
 * load, pin, fill the allowlist, attach the TCP fast path's TC filters
 * and XDP, turn TCP answering on) and take it down again, each step
 * undone in reverse order when a later one fails.
 */
#ifndef XKV_LOADER_INSTANCE_H
#define XKV_LOADER_INSTANCE_H

#include <linux/types.h>

#include "allow.h"
#include "paths.h"
#include "xdp.h"

/* most prefixes --allow may list */
#define XKV_ALLOW_ARGS 64

/**
 * struct xkv_inst_opts - what "xkv up" and "xkv attach" were asked.
 * @xdp:    the program's settings and the attach mode
 * @allow:  --allow: NULL for the defaults, "any", "none", or a comma
 *          separated list of prefixes
 * @tcp_fast: enum xkv_tcpf_mode: ON, OFF, or UNSET (on, but when the TC
 *          filters cannot be attached, off with a warning); @xdp.tcp_port
 *          is 0 when OFF
 */
struct xkv_inst_opts {
	struct xkv_xdp_opts xdp;
	const char *allow;
	unsigned int tcp_fast;
};

/**
 * struct xkv_inst - an interface xkv runs on.
 * @paths:    its files
 * @ifindex:  its index in this network namespace
 * @prog_id:  the XDP program's id
 * @mode:     enum xkv_mode it is attached in
 * @nallow:   prefixes put in the allowlist
 * @allow:    them
 * @tcp_fast: the TCP fast path's filters are attached and it answers
 * @tcp_why:  why it is off although asked for (-errno of the TC attach),
 *            0 if it is on or was not asked for
 */
struct xkv_inst {
	struct xkv_paths paths;
	int ifindex;
	__u32 prog_id;
	unsigned int mode;
	unsigned int nallow;
	struct xkv_prefix allow[XKV_ALLOW_ARGS + 8];
	bool tcp_fast;
	int tcp_why;
};

/**
 * xkv_inst_init() - look the interface up and fill in its paths.
 * @inst:   out
 * @ifname: interface name
 *
 * Return: 0, or -errno after printing why (-ENODEV: no such interface in
 * this network namespace).
 */
int xkv_inst_init(struct xkv_inst *inst, const char *ifname);

/**
 * xkv_inst_check_opts() - check settings before anything is changed.
 * @o: the settings
 *
 * Return: 0, or -EINVAL after printing what is wrong.
 */
int xkv_inst_check_opts(const struct xkv_inst_opts *o);

/**
 * xkv_inst_up() - load, pin, fill the allowlist and attach XDP.
 * @inst: from xkv_inst_init(); @prog_id, @mode, @allow are filled in
 * @o:    checked settings
 *
 * Refuses (-EEXIST) when xkv is already up on the interface or another
 * XDP program is attached there, and (-EBUSY) while the TCP fast path of
 * an earlier instance still translates connections there (tcpfast.h);
 * removes what such an instance left otherwise. On any failure the
 * interface is left as it was: nothing attached, nothing pinned.
 *
 * Return: 0 or -errno, after printing why.
 */
int xkv_inst_up(struct xkv_inst *inst, const struct xkv_inst_opts *o);

/**
 * xkv_inst_down() - detach XDP and the TCP fast path's filters, remove
 * every pin and the pin directory (the backend must be stopped first).
 * @paths: the interface's files
 *
 * Works on partial state (a failed or interrupted up). Connections the
 * fast path translates break: a failed "up" had no backend to answer
 * them; "down" uses xkv_inst_retire().
 *
 * Return: 0, or the first -errno (after trying everything).
 */
int xkv_inst_down(const struct xkv_paths *paths);

/**
 * xkv_inst_retire() - "down" and "detach" (the backend stopped first):
 * XDP goes; so do the TCP fast path's filters and every pin, unless the
 * filters still translate connections after a wait of up to
 * XKV_TCPF_DRAIN_MS. Then the filters stay and the pin directory keeps
 * the fast path's maps only ("draining", tcpfast.h), which is said on
 * stdout.
 * @paths: the interface's files
 * @force: remove the filters even so (those connections break)
 *
 * Answering is turned off first; callers that stop a backend do that
 * themselves before (xkv_tcpf_answer_pin()).
 *
 * Return: 0 when everything is gone, 1 when the filters were left to
 * translate, or the first -errno (after trying everything).
 */
int xkv_inst_retire(const struct xkv_paths *paths, bool force);

#endif /* XKV_LOADER_INSTANCE_H */
