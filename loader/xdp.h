/* SPDX-License-Identifier: GPL-2.0 */
/*
 * xdp.h - the XDP object: load it with its settings, pin it, attach it
 * through a pinned bpf_link, detach it, and read back what is attached.
 *
 * Only xdp.c includes the skeleton (build/bpf/xkv.skel.h); the rest of the
 * loader sees the object through struct xkv_obj and the pins.
 */
#ifndef XKV_LOADER_XDP_H
#define XKV_LOADER_XDP_H

#include <linux/types.h>
#include <stdbool.h>

#include "paths.h"

/* the TCP fast path's TC programs in the object (tcpfast.h attaches them) */
#define XKV_PROG_TC_IN "xkv_tc_in"	/* clsact ingress */
#define XKV_PROG_TC_OUT "xkv_tc_out"	/* clsact egress */

enum xkv_mode {
	XKV_MODE_NATIVE = 1,	/* driver mode, falls back to generic */
	XKV_MODE_GENERIC = 2,	/* skb mode */
};

/**
 * struct xkv_xdp_opts - what the program is loaded and attached with.
 * @port:      UDP port of memcached requests
 * @nslots:    hot cache slots, a power of two
 * @max_reply: largest reply UDP payload XDP sends
 * @amp_ratio: reply/request budget, 0 = none
 * @flags:     XKV_CFG_* of abi/xkv_config.h
 * @mode:      enum xkv_mode wanted
 * @tcp_port:  TCP port of the TCP fast path, 0 = none (its TC programs
 *             are then not even loaded); the object must have them
 *             (xkv_xdp_has_tcp_fast())
 */
struct xkv_xdp_opts {
	unsigned int port;
	unsigned int nslots;
	unsigned int max_reply;
	unsigned int amp_ratio;
	unsigned int flags;
	unsigned int mode;
	unsigned int tcp_port;
};

struct xkv_obj;

/**
 * xkv_xdp_load() - open the object, write its settings, load it.
 * @o:   settings (already checked by the caller)
 * @out: the loaded object
 *
 * Return: 0, or -errno after printing why (the verifier's log with -v).
 */
int xkv_xdp_load(const struct xkv_xdp_opts *o, struct xkv_obj **out);

/**
 * xkv_xdp_has_tcp_fast() - does this build's object have the TCP fast
 * path's programs (XKV_PROG_TC_IN, XKV_PROG_TC_OUT)?
 *
 * Return: true if it has both.
 */
bool xkv_xdp_has_tcp_fast(void);

/**
 * xkv_xdp_prog_id() - the loaded program's id.
 * @obj: loaded object
 *
 * Return: the id, 0 if unknown.
 */
__u32 xkv_xdp_prog_id(struct xkv_obj *obj);

/**
 * xkv_xdp_prog_fd() - a program of the loaded object by name.
 * @obj:  loaded object
 * @name: program name (XKV_PROG_TC_IN ...)
 *
 * Return: its fd (owned by @obj), or -ENOENT (no such program, or not
 * loaded).
 */
int xkv_xdp_prog_fd(struct xkv_obj *obj, const char *name);

/**
 * xkv_xdp_map_fd() - a map of the loaded object by name.
 * @obj:  loaded object
 * @name: map name (XKV_PIN_ALLOW4 ...)
 *
 * Return: its fd (owned by @obj), or -ENOENT.
 */
int xkv_xdp_map_fd(struct xkv_obj *obj, const char *name);

struct xkv_config;

/**
 * xkv_xdp_pinned_cfg() - the settings the interface's XDP program was
 * loaded with, read back from its pinned .rodata (XKV_PIN_RODATA).
 * @p:   the interface's paths
 * @cfg: out
 *
 * Return: 0, or -errno (nothing printed).
 */
int xkv_xdp_pinned_cfg(const struct xkv_paths *p, struct xkv_config *cfg);

/**
 * xkv_xdp_pin() - pin every map of the object and the program in the
 * interface's pin directory (which exists and is empty).
 * @obj: loaded object
 * @p:   the interface's paths
 *
 * Return: 0, or -errno after printing why (nothing is left pinned).
 */
int xkv_xdp_pin(struct xkv_obj *obj, const struct xkv_paths *p);

/**
 * xkv_xdp_opts_generic() - make @o generic mode's: the mode and the
 * settings the program needs there (XKV_CFG_HEAD_ONLY: generic XDP sets
 * the skb's end wrongly after a tail resize, bpf/TCPFAST.md).
 * @o: settings to change
 */
void xkv_xdp_opts_generic(struct xkv_xdp_opts *o);

/* xkv_xdp_attach(): native XDP is not available on the interface */
#define XKV_XDP_NO_NATIVE 1

/**
 * xkv_xdp_attach() - attach the program to an interface with a bpf_link
 * and pin the link, so the attach outlives this process.
 * @obj:     loaded object
 * @p:       the interface's paths
 * @ifindex: the interface
 * @mode:    enum xkv_mode wanted
 * @got:     out: enum xkv_mode attached
 *
 * Native mode does not fall back to generic here: the program was loaded
 * with native mode's settings, so the caller reloads it with
 * xkv_xdp_opts_generic()'s and attaches that.
 *
 * Return: 0; XKV_XDP_NO_NATIVE (after saying so) when @mode is native and
 * the interface has no native XDP; or -errno after printing why (nothing
 * is left attached either way).
 */
int xkv_xdp_attach(struct xkv_obj *obj, const struct xkv_paths *p,
		   int ifindex, unsigned int mode, unsigned int *got);

/**
 * xkv_xdp_close() - release the object (pins and the link stay).
 * @obj: object, or NULL
 */
void xkv_xdp_close(struct xkv_obj *obj);

/**
 * xkv_xdp_detach() - detach the pinned link of an interface now.
 * @p: the interface's paths
 *
 * Detaching the link takes the program off the interface at once;
 * removing the pins alone would leave that to a deferred release.
 *
 * Return: 0 (also when there was no link, or it was detached already),
 * or -errno after printing why.
 */
int xkv_xdp_detach(const struct xkv_paths *p);

/**
 * struct xkv_link_state - what a pinned link says.
 * @link_id: the link's id
 * @prog_id: its program's id
 * @ifindex: the interface it holds, 0 once detached (interface gone)
 */
struct xkv_link_state {
	__u32 link_id;
	__u32 prog_id;
	__u32 ifindex;
};

/**
 * xkv_xdp_link_state() - read the interface's pinned link.
 * @p:  the interface's paths
 * @ls: out
 *
 * Return: 0, -ENOENT without a pinned link, or another -errno.
 */
int xkv_xdp_link_state(const struct xkv_paths *p, struct xkv_link_state *ls);

/**
 * xkv_xdp_query() - what is attached to an interface, as the kernel
 * reports it (in this network namespace).
 * @ifindex: the interface
 * @prog_id: out: the attached program's id, 0 for none
 * @mode:    out: enum xkv_mode, 0 for none or another mode (offload)
 *
 * Return: 0 or -errno.
 */
int xkv_xdp_query(int ifindex, __u32 *prog_id, unsigned int *mode);

/**
 * xkv_mode_name() - "native", "generic" or "none".
 * @mode: enum xkv_mode or 0
 *
 * Return: a static string.
 */
const char *xkv_mode_name(unsigned int mode);

#endif /* XKV_LOADER_XDP_H */
