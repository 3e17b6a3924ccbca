/* SPDX-License-Identifier: GPL-2.0 */
/*
 * upcfg.h - the settings of "xkv up" and "xkv attach", and the option
 * table entries the two commands share.
 */
#ifndef XKV_LOADER_UPCFG_H
#define XKV_LOADER_UPCFG_H

#include <limits.h>

#include "instance.h"
#include "params.h"

/*
 * AUTO: the module when this kernel can load build/xkv.ko, else xkvd.
 * MODULE and XKVD force one (MODULE fails when the module cannot load).
 * MEMCACHED: a stock memcached, the hot cache kept by the TC learning
 * programs (learning mode, bpf/LEARNING.md); never chosen by AUTO.
 */
enum xkv_backend_kind {
	XKV_BACKEND_XKVD = 1,
	XKV_BACKEND_MEMCACHED = 2,
	XKV_BACKEND_MODULE = 3,
	XKV_BACKEND_AUTO = 4,
};

/**
 * struct xkv_up_cfg - everything "xkv up" can be told.
 * @port:        --port
 * @slots:       --cache-slots
 * @mode:        --mode (0: native, but generic on lo)
 * @max_reply:   --max-reply
 * @amp_ratio:   --amp-ratio
 * @allow:       --allow
 * @backend:     --backend (enum xkv_backend_kind)
 * @backend_cmd: --backend-cmd
 * @module:      --module
 * @listen:      --listen, passed to the backend as -l
 * @memory:      --memory, -m for the backend
 * @threads:     --threads, -t for the backend
 * @conns:       --conns, -c for the backend
 * @wait:        --wait: seconds the backend may take to answer
 * @foreground:  --foreground
 * @memcached:   --memcached: the memcached executable (learning mode)
 * @learn_ttl:   --learn-ttl: lifetime of a learned entry, ms
 *               (XKV_UP_UNSET: not given)
 * @learn_quiet: --learn-quiet: write quarantine, ms (XKV_UP_UNSET: not
 *               given)
 * @user:        --user: the user xkvd or memcached runs as (NULL: see
 *               xkv_backend_user())
 * @tcp_fast:    --tcp-fast: enum xkv_tcpf_mode
 * @xdp_store:   --xdp-store: enum xkv_tcpf_mode's values (UNSET: on when
 *               the module can, else off with a line saying why)
 */
struct xkv_up_cfg {
	unsigned int port;
	unsigned int slots;
	unsigned int mode;
	unsigned int max_reply;
	unsigned int amp_ratio;
	const char *allow;
	unsigned int backend;
	const char *backend_cmd;
	const char *module;
	const char *listen;
	unsigned int memory;
	unsigned int threads;
	unsigned int conns;
	unsigned int wait;
	bool foreground;
	const char *memcached;
	unsigned int learn_ttl;
	unsigned int learn_quiet;
	const char *user;
	unsigned int tcp_fast;
	unsigned int xdp_store;
};

/* an unsigned option left at this was not given */
#define XKV_UP_UNSET UINT_MAX

extern const struct xkv_param_name xkv_mode_names[];
extern const struct xkv_param_name xkv_tcpf_names[];

/* the XDP options, for a table over struct xkv_up_cfg */
#define XKV_XDP_PARAMS							\
	XKV_PARAM_UINT("port", 'p', struct xkv_up_cfg, port, "PORT", 1,	\
		       65535,						\
		       "memcached TCP/UDP port (default 11211)"),	\
	XKV_PARAM_UINT("cache-slots", 's', struct xkv_up_cfg, slots,	\
		       "N", 1, 1UL << 30,				\
		       "hot cache slots of 2 KiB, a power of two "	\
		       "(default 16384)"),				\
	XKV_PARAM_ENUM("mode", 'M', struct xkv_up_cfg, mode, "MODE",	\
		       xkv_mode_names,					\
		       "XDP mode; native falls back to generic "	\
		       "(default native, generic on lo)"),		\
	XKV_PARAM_UINT("max-reply", 0, struct xkv_up_cfg, max_reply,	\
		       "BYTES", 0, 1UL << 20,				\
		       "largest reply XDP sends, UDP payload "		\
		       "(default 1400)"),				\
	XKV_PARAM_UINT("amp-ratio", 0, struct xkv_up_cfg, amp_ratio,	\
		       "N", 0, 1000000,					\
		       "answer only if reply <= N x request, "		\
		       "0 = no limit (default 64)"),			\
	XKV_PARAM_STRING("allow", 'a', struct xkv_up_cfg, allow,	\
			 "LIST",					\
			 "sources XDP answers: PREFIX[,PREFIX...], "	\
			 "any or none (default: the interface's "	\
			 "subnets and loopback)"),			\
	XKV_PARAM_ENUM("tcp-fast", 0, struct xkv_up_cfg, tcp_fast,	\
		       "SWITCH", xkv_tcpf_names,			\
		       "TCP fast path: XDP answers hot GETs on TCP "	\
		       "connections too (default on; off with "		\
		       "--backend memcached)")

/**
 * xkv_up_cfg_init() - the defaults.
 * @cfg: out
 */
void xkv_up_cfg_init(struct xkv_up_cfg *cfg);

/**
 * xkv_up_cfg_inst_opts() - the instance settings of a configuration.
 * @cfg:    parsed options
 * @ifname: the interface (the default mode depends on it)
 * @o:      out
 */
void xkv_up_cfg_inst_opts(const struct xkv_up_cfg *cfg, const char *ifname,
			  struct xkv_inst_opts *o);

/**
 * xkv_up_report() - print what bringing the XDP tier up did.
 * @inst: the instance after xkv_inst_up()
 * @o:    its settings
 */
void xkv_up_report(const struct xkv_inst *inst,
		   const struct xkv_inst_opts *o);

#endif /* XKV_LOADER_UPCFG_H */
