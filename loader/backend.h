/* SPDX-License-Identifier: GPL-2.0 */
/*
 * backend.h - the backend process (xkvd, or a stock memcached in learning
 * mode): find it, start it (xkvd with the hot cache's pin), wait until it
 * answers, record its pid, stop it.
 *
 * Started in the background (the default) it is a daemon: its own
 * session, stdin from /dev/null, stdout and stderr to the interface's log
 * file. Started in the foreground it stays in xkv's process group and
 * xkv waits for it.
 */
#ifndef XKV_LOADER_BACKEND_H
#define XKV_LOADER_BACKEND_H

#include <limits.h>
#include <stdbool.h>
#include <sys/types.h>

#include "paths.h"

/**
 * struct xkv_serve_opts - what every backend is told: xkvd and memcached
 * as flags, xkv.ko as module parameters (kmodule.h).
 * @port:       TCP and UDP port (-p, -U)
 * @udp_allow:  xkvd's --udp-allow, the UDP sources answered (NULL: its
 *              default, the host's subnets)
 * @amp_ratio:  xkvd's --udp-amp-ratio, the UDP reply budget
 * @listen:     -l address, or NULL for the backend's default (any)
 * @memory:     -m megabytes, 0 for the backend's default
 * @threads:    -t, 0 for the backend's default
 * @conns:      -c, 0 for the backend's default
 * @extra_argc: more arguments, passed as they are
 * @extra_argv: them
 * @wait_s:     how long it may take to answer
 * @auth:       enum xkv_auth (probe.h): the extra arguments ask clients to
 *              authenticate (xkv_serve_auth()); UDP is then off, as
 *              memcached refuses it with -S or -Y
 */
struct xkv_serve_opts {
	unsigned int port;
	const char *udp_allow;
	unsigned int amp_ratio;
	const char *listen;
	unsigned int memory;
	unsigned int threads;
	unsigned int conns;
	int extra_argc;
	char **extra_argv;
	unsigned int wait_s;
	unsigned int auth;
};

/**
 * xkv_serve_auth() - do a backend's arguments turn authentication on?
 * @argc: the arguments after "--"
 * @argv: them
 *
 * xkvd's -S / --enable-sasl, -Y / --auth-file, xkv.ko's sasl_pwdb= and
 * auth_file=.
 *
 * Return: enum xkv_auth.
 */
unsigned int xkv_serve_auth(int argc, char **argv);

/**
 * struct xkv_backend_opts - how to run the backend.
 * @path:       the executable (see xkv_backend_find(),
 *              xkv_memcached_find())
 * @memcached:  it is a stock memcached: no --hot-map; "-B ascii" (the
 *              text protocol only, what the learning programs follow
 *              best); no --udp-allow, --udp-amp-ratio
 * @hot_map:    pin of the hot cache, passed to xkvd as --hot-map
 * @user:       -u: the user it runs as when xkv runs as root (NULL:
 *              xkv_backend_user()'s default)
 * @foreground: keep it attached to xkv instead of daemonising it
 * @serve:      the settings
 */
struct xkv_backend_opts {
	const char *path;
	bool memcached;
	const char *hot_map;
	const char *user;
	bool foreground;
	struct xkv_serve_opts serve;
};

/**
 * xkv_backend_find() - the backend executable: @cmd if given, else
 * $XKV_BACKEND, else "xkvd" in the directory of the running xkv binary.
 * @cmd: --backend-cmd, or NULL
 * @buf: out, PATH_MAX bytes
 *
 * Return: 0 when it is an executable file, else -errno after printing.
 */
int xkv_backend_find(const char *cmd, char *buf);

/* the memcached "xkv up --backend memcached" runs without --memcached */
#define XKV_MEMCACHED_DEFAULT "/usr/bin/memcached"

/**
 * xkv_memcached_find() - the memcached executable: @cmd if given (a bare
 * name is looked up in $PATH), else XKV_MEMCACHED_DEFAULT.
 * @cmd: --memcached, or NULL
 * @buf: out, PATH_MAX bytes
 *
 * Return: 0 when it is an executable file, else -errno after printing.
 */
int xkv_memcached_find(const char *cmd, char *buf);

/**
 * xkv_memcached_args_check() - refuse memcached flags that xkv sets
 * itself or that would break learning mode: -p -U -B -s -d (and their
 * long forms).
 * @argc: arguments after "--"
 * @argv: them
 *
 * Return: 0, or -EINVAL after printing which flag and why.
 */
int xkv_memcached_args_check(int argc, char **argv);

/* the users a backend started by root runs as, the first that exists */
#define XKV_BACKEND_USER "memcache"	/* Debian's memcached package's */
#define XKV_BACKEND_USER_FALLBACK "nobody"

/**
 * xkv_backend_user() - the user xkvd or memcached runs as when xkv runs
 * as root (passed as -u USER; both then drop root once their sockets are
 * open).
 * @user: --user, or NULL for XKV_BACKEND_USER if it exists, else
 *        XKV_BACKEND_USER_FALLBACK
 *
 * Return: the name, or NULL after printing that @user does not exist.
 */
const char *xkv_backend_user(const char *user);

/**
 * xkv_backend_port_free() - is nothing bound to the TCP or UDP port yet?
 * @port: the port
 *
 * Return: 0, or -EADDRINUSE after printing which is taken.
 */
int xkv_backend_port_free(unsigned int port);

/**
 * xkv_backend_start() - run the backend, record its pid, wait until it
 * answers "version" over TCP.
 * @o:       how
 * @p:       the interface's paths (pid and log files; addresses to probe)
 * @pid_out: out: its pid
 *
 * In the foreground, SIGINT, SIGTERM, SIGHUP and SIGCHLD stay blocked
 * in xkv on success, for xkv_backend_wait().
 *
 * Return: 0, or -errno after printing why; on failure nothing is left
 * running and the pid file is gone.
 */
int xkv_backend_start(const struct xkv_backend_opts *o,
		      const struct xkv_paths *p, pid_t *pid_out);

/**
 * xkv_backend_wait() - wait for a foreground backend to exit; SIGINT,
 * SIGTERM or SIGHUP to xkv are passed on to it as SIGTERM.
 * @pid:       the backend
 * @timeout_s: after a signal, how long before SIGKILL
 *
 * Return: its exit status (128 + signal if it was killed).
 */
int xkv_backend_wait(pid_t pid, unsigned int timeout_s);

/**
 * xkv_backend_running() - the recorded backend, if it still runs.
 * @p: the interface's paths
 *
 * Return: its pid, 0 if none is recorded or it has exited, -errno if the
 * pid file cannot be read.
 */
pid_t xkv_backend_running(const struct xkv_paths *p);

/**
 * xkv_backend_stop() - stop the recorded backend: SIGTERM, then SIGKILL
 * after @timeout_s seconds; remove the pid file.
 * @p:         the interface's paths
 * @timeout_s: grace period
 *
 * Return: 0 (also when none was running), or -errno.
 */
int xkv_backend_stop(const struct xkv_paths *p, unsigned int timeout_s);

#endif /* XKV_LOADER_BACKEND_H */
