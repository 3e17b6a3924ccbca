/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kmodule.h - xkv.ko as the backend: can this kernel take the module,
 * load it with the backend settings as module parameters, hand it the
 * pinned hot cache, its lease and the TCP fast path's table through
 * /dev/xkv (abi/xkv_ioctl.h), take it down again.
 *
 * There is one module, so at most one interface has it as its backend:
 * the one whose pinned xkv_hot map the module has attached (the map ids
 * match). That is also how "down" and "status" recognise it: no state is
 * kept besides the module's own.
 */
#ifndef XKV_LOADER_KMODULE_H
#define XKV_LOADER_KMODULE_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

#include "backend.h"
#include "paths.h"
#include "xkv_ioctl.h"

#define XKV_KMOD_NAME "xkv"
/* the file looked for next to the xkv binary */
#define XKV_KMOD_FILE "xkv.ko"
/* room for the module parameters */
#define XKV_KMOD_PARAMS_MAX 8192
/* room for the reason a module cannot be used */
#define XKV_KMOD_WHY_MAX 256

/**
 * xkv_kmod_find() - the module file: @cmd if given, else $XKV_MODULE,
 * else xkv.ko in the directory of the running xkv binary.
 * @cmd: --module, or NULL
 * @buf: out, PATH_MAX bytes
 *
 * Return: 0, or -errno (nothing printed).
 */
int xkv_kmod_find(const char *cmd, char *buf);

/**
 * xkv_kmod_check() - could this kernel load the module file now?
 * @path: the module file
 * @why:  out: when not, why, in a few words (XKV_KMOD_WHY_MAX bytes)
 *
 * Checks that the kernel has loadable module support and allows loading,
 * that no xkv module is loaded yet, and that the file's vermagic names
 * the running kernel's release (uname -r).
 *
 * Return: 0 when it could, else -errno with @why filled in (nothing
 * printed).
 */
int xkv_kmod_check(const char *path, char *why);

/**
 * xkv_kmod_params() - the module parameters for @o.
 * @o:   settings, as tcp_port= and udp_port= (UDP is on), listen=,
 *       memory_limit=, threads=, conn_limit=, udp_allow=,
 *       udp_amp_ratio=; the arguments after "--" are "name=value" module
 *       parameters or xkvd's flags that have one (-m 256, -t 2, -vv, ...;
 *       -S is sasl_pwdb=$MEMCACHED_SASL_PWDB, -Y FILE auth_file=FILE,
 *       both made absolute; with either, udp_port=0)
 * @buf: out, XKV_KMOD_PARAMS_MAX bytes: "tcp_port=11211 udp_port=..."
 * @why: out: when an argument has no module parameter, which
 *       (XKV_KMOD_WHY_MAX bytes)
 *
 * Return: 0, or -EINVAL with @why filled in (nothing printed).
 */
int xkv_kmod_params(const struct xkv_serve_opts *o, char *buf, char *why);

/**
 * xkv_kmod_load() - load the module file with @params.
 * @path:   the module file
 * @params: from xkv_kmod_params()
 *
 * The module opens its sockets before this returns.
 *
 * Return: 0, or -errno after printing why (with the module's own
 * messages from the kernel log).
 */
int xkv_kmod_load(const char *path, const char *params);

/**
 * xkv_kmod_attach() - hand the loaded module the interface's pinned hot
 * cache (and, when pinned, the lease and the TCP fast path's table), then
 * wait until it answers.
 * @o: settings (port, listen, wait_s)
 * @p: the interface's paths
 *
 * Return: 0, or -errno after printing why; the module is left loaded.
 */
int xkv_kmod_attach(const struct xkv_serve_opts *o,
		    const struct xkv_paths *p);

/**
 * xkv_kmod_loaded() - is an xkv module loaded?
 *
 * Return: true if so.
 */
bool xkv_kmod_loaded(void);

/**
 * xkv_kmod_info() - ask the loaded module what it serves.
 * @info: out
 *
 * Return: 0, -ENOENT when no module is loaded, or another -errno.
 */
int xkv_kmod_info(struct xkv_ioc_info *info);

/**
 * xkv_kmod_store_info() - ask the loaded module about its kfuncs (the XDP
 * store path).
 * @info: out
 *
 * Return: 0, -ENOENT when no module is loaded, -ENOTTY for a module
 * without them, or another -errno.
 */
int xkv_kmod_store_info(struct xkv_ioc_store *info);

/**
 * xkv_kmod_serves() - is the module the backend of this interface (has
 * it attached the interface's pinned hot cache)?
 * @p:    the interface's paths
 * @info: out, may be NULL: what the module reported
 *
 * Return: true if so.
 */
bool xkv_kmod_serves(const struct xkv_paths *p, struct xkv_ioc_info *info);

/**
 * xkv_kmod_stop() - detach the hot cache and the TCP fast path's table,
 * and unload the module.
 * @timeout_s: how long to retry while the module is busy
 *
 * Return: 0 (also when none was loaded), or -errno after printing why.
 */
int xkv_kmod_stop(unsigned int timeout_s);

#endif /* XKV_LOADER_KMODULE_H */
