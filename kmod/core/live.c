// SPDX-License-Identifier: GPL-2.0
/*
 * live.c - the backend's lease on the XDP hot cache.
 *
 * XDP serves the hot cache only while struct xkv_live (abi/xkv_live.h)
 * says the backend is alive. The store renews it at each maintenance
 * step, which xkvd's maintenance thread and xkv.ko's maintenance kthread
 * run about every XKV_LIVE_BEAT_MS; a backend that dies stops renewing it
 * and XDP passes every request to the stack once it has run out. The
 * pointer changes only while no maintenance step runs (the callers'
 * rule, as for the hot cache itself).
 */
#include "store_int.h"

void xkv_store_attach_live(struct xkv_store *st, struct xkv_live *live)
{
	st->live = live;
	xkv_store_beat(st);
}

void xkv_store_detach_live(struct xkv_store *st)
{
	if (st->live)
		xkv_live_end(st->live);
	st->live = NULL;
}

void xkv_store_beat(struct xkv_store *st)
{
	if (st->live)
		xkv_live_renew(st->live, os_mono_ns());
}
