// SPDX-License-Identifier: GPL-2.0
/*
 * maint.c - the maintenance thread: the store's background work (expiry
 * crawler, hash table growth) in small steps, about ten times a second,
 * and every millisecond while the store says more work is pending. It
 * sleeps in poll() on the stop eventfd, so shutdown does not wait for it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "xkvd.h"

#define MAINT_IDLE_MS 100
#define MAINT_BUSY_MS 1

static void *maint_main(void *arg)
{
	struct xkvd_server *srv = arg;
	struct pollfd pfd = { .fd = srv->stop_fd, .events = POLLIN };
	bool more, asked = false;

	for (;;) {
		more = xkv_store_maintain(srv->st);
		/* "shutdown" (-A): stop as on SIGTERM, once */
		if (xkv_store_shutdown_requested(srv->st) && !asked) {
			asked = true;
			fprintf(stderr, "xkvd: shutdown asked by a client\n");
			kill(getpid(), SIGTERM);
		}
		if (poll(&pfd, 1, more ? MAINT_BUSY_MS : MAINT_IDLE_MS) > 0)
			break;
	}
	return NULL;
}

/**
 * xkvd_maint_start() - start the maintenance thread.
 * @srv: server, with its store and stop eventfd
 *
 * Return: 0 or -errno.
 */
int xkvd_maint_start(struct xkvd_server *srv)
{
	int err;

	err = pthread_create(&srv->maint, NULL, maint_main, srv);
	if (err) {
		fprintf(stderr, "xkvd: cannot start maintenance: %s\n",
			strerror(err));
		return -err;
	}
	srv->maint_started = true;
	return 0;
}

/**
 * xkvd_maint_stop() - wait for the maintenance thread to end.
 * @srv: server; its stop eventfd must have been written
 */
void xkvd_maint_stop(struct xkvd_server *srv)
{
	if (!srv->maint_started)
		return;
	pthread_join(srv->maint, NULL);
	srv->maint_started = false;
}
