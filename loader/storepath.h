/* SPDX-License-Identifier: GPL-2.0 */
/*
 * storepath.h - the XDP store path: with xkv.ko as the backend, GETs that
 * miss the hot cache are answered at XDP from the module's store, through
 * the kfunc the module registers (abi/xkv_kfunc.h).
 *
 * "up" loads the store program (bpf/xkv_store.bpf.c, its own skeleton) on
 * the maps the interface's XDP object pinned, once the module is loaded,
 * and puts it in the pinned xkv_store_jmp slot the XDP program
 * tail-calls. Nothing else is pinned: the slot holds the program, and the
 * program holds a reference to the module (so "rmmod xkv" fails with
 * EAGAIN while it is there). "down" empties the slot before it unloads
 * the module.
 */
#ifndef XKV_LOADER_STOREPATH_H
#define XKV_LOADER_STOREPATH_H

#include <linux/types.h>
#include <stdbool.h>

#include "json.h"
#include "paths.h"
#include "xkv_ioctl.h"
#include "xkv_kfunc.h"

/**
 * struct xkv_store_state - the store path of one interface.
 * @prog_id:  the store program in the interface's xkv_store_jmp slot, 0
 *            when the store path is off
 * @insns:    instructions the verifier processed to load it (0: unknown)
 * @kinfo_ok: @kinfo was read from the module
 * @kinfo:    the module's kfunc flags and counters
 * @sstats_ok: @sstats was read
 * @sstats:   the store program's counters (struct xkv_sstats), summed
 */
struct xkv_store_state {
	__u32 prog_id;
	__u32 insns;
	__u32 tcp_prog_id;
	__u32 tcp_insns;
	bool kinfo_ok;
	struct xkv_ioc_store kinfo;
	bool sstats_ok;
	__u64 sstats[XKV_SSTAT_NR];
};

/**
 * xkv_store_up() - turn the XDP store path on for an interface whose
 * backend is the loaded module.
 * @p:        the interface's paths (its XDP object pinned)
 * @required: fail when it cannot be turned on (--xdp-store on); else say
 *            why in one line and go on with the hot cache alone
 *
 * Return: 0 (also when it stays off and is not @required), or -errno
 * after printing why.
 */
int xkv_store_up(const struct xkv_paths *p, bool required);

/**
 * xkv_store_down() - empty the interface's xkv_store_jmp slot: XDP
 * passes hot-cache misses again and the store program goes, with its
 * reference to the module.
 * @p: the interface's paths
 *
 * Return: 0 (also when the slot was empty or is not pinned), or -errno
 * after printing why.
 */
int xkv_store_down(const struct xkv_paths *p);

/**
 * xkv_store_state() - what "status" and "stats" show of the store path.
 * @p:  the interface's paths
 * @st: out
 */
void xkv_store_state(const struct xkv_paths *p, struct xkv_store_state *st);

/**
 * xkv_store_print() - the store path's lines for "status".
 * @st: from xkv_store_state()
 */
void xkv_store_print(const struct xkv_store_state *st);

/**
 * xkv_store_json() - the "xdp_store" object for "status -j" and
 * "stats -j".
 * @j:  the writer, inside an object
 * @st: from xkv_store_state()
 */
void xkv_store_json(struct xkv_json *j, const struct xkv_store_state *st);

#endif /* XKV_LOADER_STOREPATH_H */
