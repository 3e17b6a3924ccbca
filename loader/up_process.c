// SPDX-License-Identifier: GPL-2.0
/*
 * up_process.c - a backend process, xkvd or memcached: started as a
 * daemon (or in the foreground) on the pinned hot cache, stopped, waited
 * for, found through its pid file (backend.h). up_xkvd.c and
 * up_memcached.c build their ops on these.
 */
#include <errno.h>
#include <limits.h>
#include <unistd.h>

#include "backend.h"
#include "log.h"
#include "upbackend_int.h"

int xkv_up_proc_start(struct xkv_up *up, bool memcached)
{
	const struct xkv_up_cfg *cfg = up->cfg;
	const struct xkv_paths *p = &up->inst->paths;
	struct xkv_backend_opts bo = {
		.path = up->path,
		.memcached = memcached,
		.foreground = cfg->foreground,
	};
	bool root = !geteuid();
	char hot[PATH_MAX];
	int err;

	bo.hot_map = xkv_pin_path(p, XKV_PIN_HOT, hot);
	bo.user = xkv_backend_user(cfg->user);
	if (!bo.user)
		return -EINVAL;
	xkv_up_serve_opts(up, up->allow, &bo.serve);
	err = xkv_backend_start(&bo, p, &up->pid);
	if (err)
		return err;
	if (cfg->foreground)
		pr_info("%s: backend %s in the foreground (pid %d%s%s), answering on port %u; Ctrl-C takes xkv down\n",
			p->ifname, up->path, (int)up->pid,
			root ? ", user " : "", root ? bo.user : "", cfg->port);
	else
		pr_info("%s: backend %s started (pid %d%s%s, log %s), answering on port %u\n",
			p->ifname, up->path, (int)up->pid,
			root ? ", user " : "", root ? bo.user : "", p->logfile,
			cfg->port);
	return 0;
}

void xkv_up_proc_stop(struct xkv_up *up)
{
	xkv_backend_stop(&up->inst->paths, XKV_STOP_TIMEOUT);
}

/* SIGINT, SIGTERM, SIGHUP (held) reach it through xkv_backend_wait() */
int xkv_up_proc_wait(struct xkv_up *up, const sigset_t *sigs)
{
	int status;

	(void)sigs;
	status = xkv_backend_wait(up->pid, XKV_STOP_TIMEOUT);
	pr_info("%s: backend exited (status %d): taking xkv down\n",
		up->inst->paths.ifname, status);
	return status;
}

pid_t xkv_up_proc_pid(const struct xkv_paths *p)
{
	pid_t pid = xkv_backend_running(p);

	return pid > 0 ? pid : 0;
}
