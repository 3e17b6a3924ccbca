/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pidfile.h - the record of a daemonised backend: its pid and its start
 * time (field 22 of /proc/PID/stat), so that a pid reused by another
 * process after the backend died is never taken for it.
 *
 *   /run/xkv/<ifname>.pid:  "PID\nSTARTTIME\n"
 */
#ifndef XKV_LOADER_PIDFILE_H
#define XKV_LOADER_PIDFILE_H

#include <stdbool.h>
#include <sys/types.h>

#include "paths.h"

/**
 * xkv_pidfile_write() - record a process (atomically: write, rename).
 * @p:   the interface's paths
 * @pid: the process
 *
 * Return: 0 or -errno.
 */
int xkv_pidfile_write(const struct xkv_paths *p, pid_t pid);

/**
 * xkv_pidfile_read() - the recorded process.
 * @p:     the interface's paths
 * @pid:   out: its pid, 0 when none is recorded
 * @start: out: its start time, 0 if unknown
 *
 * Return: 0 (also when there is no pid file), or -errno.
 */
int xkv_pidfile_read(const struct xkv_paths *p, pid_t *pid,
		     unsigned long long *start);

/**
 * xkv_proc_alive() - is @pid still the process recorded, and not a
 * zombie waiting to be reaped?
 * @pid:   process id
 * @start: its recorded start time, 0 to skip that check
 *
 * Return: true if so.
 */
bool xkv_proc_alive(pid_t pid, unsigned long long start);

#endif /* XKV_LOADER_PIDFILE_H */
