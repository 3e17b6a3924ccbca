/* SPDX-License-Identifier: GPL-2.0 */
/*
 * upbackend_int.h - inside the backends of "xkv up" (upbackend.c and
 * up_*.c): each backend's ops table, and what they share.
 */
#ifndef XKV_LOADER_UPBACKEND_INT_H
#define XKV_LOADER_UPBACKEND_INT_H

#include <signal.h>
#include <stdbool.h>
#include <sys/types.h>

#include "backend.h"
#include "paths.h"
#include "upbackend.h"

extern const struct xkv_up_ops xkv_up_xkvd_ops; /* up_xkvd.c */
extern const struct xkv_up_ops xkv_up_module_ops; /* up_module.c */
extern const struct xkv_up_ops xkv_up_memcached_ops; /* up_memcached.c */

/**
 * xkv_up_serve_opts() - what every backend is told.
 * @up:    the "up"
 * @allow: its UDP port's allowlist; "" or NULL: its default
 * @so:    out
 */
void xkv_up_serve_opts(const struct xkv_up *up, const char *allow,
		       struct xkv_serve_opts *so);

/**
 * xkv_up_report_udp() - xkvd and xkv.ko: says that their UDP port
 * answers what XDP answers.
 * @up: after the backend started
 */
void xkv_up_report_udp(const struct xkv_up *up);

/**
 * xkv_up_proc_start() - start the backend process on the pinned hot
 * cache and wait until it answers.
 * @up:        @path is the executable; out: @pid
 * @memcached: a stock memcached (learning mode), not xkvd
 *
 * Return: 0, or -errno after printing why.
 */
int xkv_up_proc_start(struct xkv_up *up, bool memcached);

/**
 * xkv_up_proc_stop() - stop the backend process.
 * @up: after xkv_up_proc_start()
 */
void xkv_up_proc_stop(struct xkv_up *up);

/**
 * xkv_up_proc_wait() - --foreground: until the backend process is gone.
 * @up:   after xkv_up_proc_start()
 * @sigs: held; they reach it through xkv_backend_wait()
 *
 * Return: its exit status.
 */
int xkv_up_proc_wait(struct xkv_up *up, const sigset_t *sigs);

/**
 * xkv_up_proc_pid() - the backend process of an interface, if it runs.
 * @p: the interface's paths
 *
 * Return: its pid, 0 if none runs.
 */
pid_t xkv_up_proc_pid(const struct xkv_paths *p);

#endif /* XKV_LOADER_UPBACKEND_INT_H */
