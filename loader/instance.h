/* SPDX-License-Identifier: GPL-2.0 */
/*
 * instance.h - xkv on one interface: bring the XDP tier up (check, lock,
 * load, pin, fill the allowlist, attach) and take it down again, each
 * step undone in reverse order when a later one fails.
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
 */
struct xkv_inst_opts {
	struct xkv_xdp_opts xdp;
	const char *allow;
};

/**
 * struct xkv_inst - an interface xkv runs on.
 * @paths:    its files
 * @ifindex:  its index in this network namespace
 * @prog_id:  the XDP program's id
 * @mode:     enum xkv_mode it is attached in
 * @nallow:   prefixes put in the allowlist
 * @allow:    them
 */
struct xkv_inst {
	struct xkv_paths paths;
	int ifindex;
	__u32 prog_id;
	unsigned int mode;
	unsigned int nallow;
	struct xkv_prefix allow[XKV_ALLOW_ARGS + 8];
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
 * XDP program is attached there. On any failure the interface is left
 * as it was: nothing attached, nothing pinned.
 *
 * Return: 0 or -errno, after printing why.
 */
int xkv_inst_up(struct xkv_inst *inst, const struct xkv_inst_opts *o);

/**
 * xkv_inst_down() - detach XDP and remove every pin and the pin
 * directory (the backend must be stopped first).
 * @paths: the interface's files
 *
 * Works on partial state (a failed or interrupted up).
 *
 * Return: 0, or the first -errno (after trying everything).
 */
int xkv_inst_down(const struct xkv_paths *paths);

#endif /* XKV_LOADER_INSTANCE_H */
