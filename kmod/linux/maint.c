// SPDX-License-Identifier: GPL-2.0
/*
 * maint.c - the maintenance kthread: the store's background work (expiry
 * crawler, hash table growth) in small steps, about ten times a second,
 * and every millisecond while the store says more work is pending, as
 * xkvd's (kmod/user/maint.c); it also retries a paused accept and queues
 * stalled and idle connections (tcp.c).
 */
#include "xkvm.h"

#include <linux/jiffies.h>
#include <linux/kthread.h>
#include <linux/sched/task.h>

/* maintenance: a step this often, or every tick while work is pending */
#define XKVM_MAINT_IDLE_MS 100
#define XKVM_MAINT_BUSY_MS 1

/*
 * Connections the budget stopped are queued again every
 * XKV_BUDGET_RETRY_MS, and with idle_timeout every connection is looked
 * at once a second (tcp.c).
 */
static long xkvm_maint_conns(struct xkvm_server *srv, unsigned long *idle_at)
{
	bool idle = srv->set.idle_timeout &&
		    time_after_eq(jiffies, *idle_at);
	bool stalled = atomic_read(&srv->nstalled);

	if (idle)
		*idle_at = jiffies + HZ;
	if (idle || stalled)
		xkvm_conns_tick(srv, idle);
	return stalled ? msecs_to_jiffies(XKV_BUDGET_RETRY_MS) : LONG_MAX;
}

/*
 * "shutdown" (module parameter shutdown_command): a module cannot unload
 * itself, so the server stops taking connections; the one that asked
 * closes, the others are served until they quit, and rmmod does the rest.
 */
static void xkvm_maint_shutdown(struct xkvm_server *srv)
{
	if (READ_ONCE(srv->stopping) ||
	    !xkv_store_shutdown_requested(srv->st))
		return;
	spin_lock(&srv->conns_lock);
	srv->stopping = true;
	spin_unlock(&srv->conns_lock);
	pr_info("shutdown asked by a client: no longer accepting\n");
}

static int xkvm_maint_main(void *arg)
{
	struct xkvm_server *srv = arg;
	unsigned long retry, idle_at = jiffies;
	long wait, conns;
	bool more;

	while (!kthread_should_stop()) {
		percpu_down_read(&srv->hot_rwsem);
		more = xkv_store_maintain(srv->st);
		percpu_up_read(&srv->hot_rwsem);
		xkvm_maint_shutdown(srv);

		/* accept failed for want of memory: try again now */
		retry = READ_ONCE(srv->accept_retry);
		if (retry && time_after_eq(jiffies, retry)) {
			WRITE_ONCE(srv->accept_retry, 0);
			xkvm_xprt_kick(&srv->listen, XKVM_XF_DATA);
		}

		conns = xkvm_maint_conns(srv, &idle_at);

		wait = msecs_to_jiffies(more ? XKVM_MAINT_BUSY_MS :
					       XKVM_MAINT_IDLE_MS);
		wait = min(wait, conns);
		set_current_state(TASK_INTERRUPTIBLE);
		if (!kthread_should_stop())
			schedule_timeout(wait);
		__set_current_state(TASK_RUNNING);
	}
	return 0;
}

/**
 * xkvm_maint_start() - start the maintenance thread.
 * @srv: server with its store
 *
 * Return: 0 or -errno.
 */
int xkvm_maint_start(struct xkvm_server *srv)
{
	struct task_struct *t;

	t = kthread_run(xkvm_maint_main, srv, "xkv-maint");
	if (IS_ERR(t)) {
		pr_err("cannot start the maintenance thread: %ld\n",
		       PTR_ERR(t));
		return PTR_ERR(t);
	}
	get_task_struct(t);
	srv->maint = t;
	return 0;
}

/**
 * xkvm_maint_stop() - stop the maintenance thread.
 * @srv: server whose workers are stopped (they read the thread's CPU time)
 */
void xkvm_maint_stop(struct xkvm_server *srv)
{
	if (!srv->maint)
		return;
	kthread_stop(srv->maint);
	put_task_struct(srv->maint);
	srv->maint = NULL;
}
