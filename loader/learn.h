/* SPDX-License-Identifier: GPL-2.0 */
/*
 * learn.h - learning mode ("xkv up --backend memcached"): the TC programs
 * of bpf/xkv_learn.bpf.c keep the XDP hot cache for a stock memcached.
 * This wraps learn_attach.h for the commands: load the programs on the
 * pinned hot cache, pin their maps next to the XDP object's, attach them,
 * and undo all of it later from any process, with the pins alone.
 *
 * The record that an interface is in learning mode is its xkv_lifs pin:
 * it says which interfaces carry the filters and whether attaching created
 * their clsact qdisc (then detaching removes it; a qdisc that was there
 * before stays).
 */
#ifndef XKV_LOADER_LEARN_H
#define XKV_LOADER_LEARN_H

#include <net/if.h>
#include <stdbool.h>
#include <sys/types.h>

#include <linux/types.h>

#include "xkv_learn_maps.h"
#include "paths.h"

/* most interfaces one instance attaches the learning programs to */
#define XKV_LEARN_IFACES_MAX 8

/**
 * struct xkv_learn_up_opts - how to load the learning programs.
 * @port:     memcached's TCP and UDP port
 * @ttl_ms:   lifetime of a learned entry
 * @quiet_ms: write quarantine (0 turns it off: tests only)
 * @flags:    XKV_LCFG_* (XKV_LCFG_TEXT_ONLY when memcached runs with
 *            "-B ascii"; XKV_LCFG_UDP_POLICY: the UDP policy, with the
 *            interface's XDP allowlist and addresses)
 * @amp_ratio: the UDP reply budget (--amp-ratio; 0 = none)
 */
struct xkv_learn_up_opts {
	unsigned int port;
	unsigned int ttl_ms;
	unsigned int quiet_ms;
	__u32 flags;
	unsigned int amp_ratio;
};

/**
 * struct xkv_learn_iface - an interface the learning filters were
 * attached to, as the pinned xkv_lifs map records it.
 * @ifindex:   its index
 * @ifname:    its name ("?" when it is gone)
 * @own_qdisc: attaching created its clsact qdisc
 * @in_id:     id of the ingress program attached now, 0 = none
 * @eg_id:     id of the egress program attached now, 0 = none
 */
struct xkv_learn_iface {
	int ifindex;
	char ifname[IF_NAMESIZE];
	bool own_qdisc;
	__u32 in_id;
	__u32 eg_id;
};

/**
 * xkv_learn_up() - load the learning programs on the interface's pinned
 * hot cache, pin their maps in its pin directory, attach them to the
 * interface and to lo.
 * @p:       the interface's paths (XDP is up there: xkv_hot is pinned)
 * @ifindex: the interface
 * @o:       settings
 *
 * On failure nothing of this is left: no filter, no qdisc created here,
 * no learning pin.
 *
 * Return: 0, or -errno after printing why (-EEXIST: learning filters
 * are attached already).
 */
int xkv_learn_up(const struct xkv_paths *p, int ifindex,
		 const struct xkv_learn_up_opts *o);

/**
 * xkv_learn_own_backend() - tell the learning programs which sockets are
 * memcached's (learn_attach.h, xkv_learn_own()): replies from any
 * other socket, another local process's on the same port included, are
 * never learned. Call it once memcached answers; until then nothing is
 * learned.
 * @p:    the interface's paths (the learning maps are pinned)
 * @pid:  memcached
 * @port: its TCP and UDP port
 *
 * Return: 0, or -errno after printing why.
 */
int xkv_learn_own_backend(const struct xkv_paths *p, pid_t pid,
			  unsigned int port);

/**
 * xkv_learn_down() - detach the learning filters from every interface
 * the pinned xkv_lifs map names (removing a clsact qdisc only if the
 * attach created it), then remove the learning pins.
 * @p: the interface's paths
 *
 * Does nothing when the interface is not in learning mode. When a detach
 * fails the pins stay, so that "xkv down" can be run again.
 *
 * Return: 0, or the first -errno (after trying every interface).
 */
int xkv_learn_down(const struct xkv_paths *p);

/**
 * xkv_learn_mode() - is the interface in learning mode (xkv_lifs pinned)?
 * @p: the interface's paths
 *
 * Return: true if so.
 */
bool xkv_learn_mode(const struct xkv_paths *p);

/**
 * xkv_learn_ifaces() - the interfaces the learning filters were attached
 * to, with the programs attached there now.
 * @p:   the interface's paths
 * @out: out, @max entries
 * @max: room in @out
 *
 * Return: how many were filled in, or -errno (-ENOENT: not in learning
 * mode).
 */
int xkv_learn_ifaces(const struct xkv_paths *p, struct xkv_learn_iface *out,
		     int max);

/**
 * xkv_learn_warn_unseen() - one warning line naming the other interfaces
 * that are up with an address: writes to memcached arriving through them
 * pass no learning filter (a limit of learning mode, bpf/LEARNING.md).
 * @ifname: the interface learning is attached to (besides lo)
 * @ttl_ms: how long a learned value may then be served stale
 */
void xkv_learn_warn_unseen(const char *ifname, unsigned int ttl_ms);

#endif /* XKV_LOADER_LEARN_H */
