// SPDX-License-Identifier: GPL-2.0
/*
 * up_xkvd.c - the xkvd backend's ops: a backend process (up_process.c)
 * that attaches the hot cache and renews its lease itself, its UDP port
 * answering what XDP answers.
 */
#include <stdio.h>

#include "upbackend_int.h"

static enum xkv_up_here xkvd_probe(const struct xkv_paths *p,
				   struct xkv_up_status *st)
{
	st->pid = xkv_up_proc_pid(p);
	return st->pid ? XKV_UP_RUNNING : XKV_UP_ABSENT;
}

static void xkvd_print(const struct xkv_up_status *st)
{
	printf("    backend: pid %d running (log %s)\n", (int)st->pid,
	       st->logfile);
}

static int xkvd_start(struct xkv_up *up)
{
	int err = xkv_up_proc_start(up, false);

	if (!err)
		xkv_up_report_udp(up);
	return err;
}

const struct xkv_up_ops xkv_up_xkvd_ops = {
	.start = xkvd_start,
	.stop = xkv_up_proc_stop,
	.wait = xkv_up_proc_wait,
	.undone = "XDP detached and pins removed",
	.name = "xkvd",
	.probe = xkvd_probe,
	.print = xkvd_print,
};
