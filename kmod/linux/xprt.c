// SPDX-License-Identifier: GPL-2.0
/*
 * xprt.c - the ready list, the worker pool and the maintenance thread.
 *
 * A transport is queued when one of its flags asks for work and no worker
 * owns it (XKVM_XF_BUSY clear). The flag is set before BUSY is tested, and
 * a worker clears BUSY before it looks at the flags again, both with full
 * barriers in between: either the callback sees BUSY clear and queues the
 * transport, or the worker sees the flag and queues it. No wakeup is lost
 * and no transport is served twice at once.
 */
#include "xkvm.h"

#include <linux/jiffies.h>
#include <linux/kthread.h>
#include <linux/sched/task.h>

/* maintenance: a step this often, or every tick while work is pending */
#define XKVM_MAINT_IDLE_MS 100
#define XKVM_MAINT_BUSY_MS 1

/**
 * xkvm_xprt_init() - set up a transport with one reference.
 * @x:    transport
 * @srv:  server
 * @ops:  its kind
 * @sock: its socket
 */
void xkvm_xprt_init(struct xkvm_xprt *x, struct xkvm_server *srv,
		    const struct xkvm_xprt_ops *ops, struct socket *sock)
{
	x->ops = ops;
	x->srv = srv;
	x->sock = sock;
	x->flags = 0;
	kref_init(&x->ref);
	INIT_LIST_HEAD(&x->ready);
}

/**
 * xkvm_xprt_get() - take a reference.
 * @x: transport the caller already holds a reference to (or whose
 *     socket callbacks are attached, under sk_callback_lock)
 */
void xkvm_xprt_get(struct xkvm_xprt *x)
{
	kref_get(&x->ref);
}

static void xkvm_xprt_last_put(struct kref *ref)
{
	struct xkvm_xprt *x = container_of(ref, struct xkvm_xprt, ref);

	if (!WARN_ON_ONCE(!x->ops->free))
		x->ops->free(x);
}

/**
 * xkvm_xprt_put() - drop a reference; the last one frees a connection.
 * @x: transport
 *
 * Context: process context (freeing a session may sleep).
 */
void xkvm_xprt_put(struct xkvm_xprt *x)
{
	kref_put(&x->ref, xkvm_xprt_last_put);
}

static bool xkvm_xprt_ready(const struct xkvm_xprt *x)
{
	unsigned long f = READ_ONCE(x->flags);

	if (f & BIT(XKVM_XF_DEAD))
		return false;
	if (f & BIT(XKVM_XF_CHANGE))
		return true;
	if ((f & BIT(XKVM_XF_DATA)) && !(f & BIT(XKVM_XF_THROTTLED)))
		return true;
	return (f & BIT(XKVM_XF_WSPACE)) && (f & BIT(XKVM_XF_OUTPEND));
}

/**
 * xkvm_xprt_enqueue() - queue a transport for a worker if it needs one.
 * @x: transport
 *
 * Context: any; called from socket callbacks in softirq context.
 */
void xkvm_xprt_enqueue(struct xkvm_xprt *x)
{
	struct xkvm_server *srv = x->srv;

	if (!xkvm_xprt_ready(x))
		return;
	/* fully ordered: pairs with the barrier in xkvm_xprt_received() */
	if (test_and_set_bit(XKVM_XF_BUSY, &x->flags))
		return;
	xkvm_xprt_get(x);
	spin_lock_bh(&srv->ready_lock);
	list_add_tail(&x->ready, &srv->ready);
	spin_unlock_bh(&srv->ready_lock);
	wake_up(&srv->ready_wq);
}

/**
 * xkvm_xprt_kick() - set a flag and queue the transport.
 * @x:   transport
 * @bit: XKVM_XF_DATA, XKVM_XF_WSPACE or XKVM_XF_CHANGE
 */
void xkvm_xprt_kick(struct xkvm_xprt *x, int bit)
{
	set_bit(bit, &x->flags);
	/* the flag is visible before BUSY is tested in the enqueue */
	smp_mb__after_atomic();
	xkvm_xprt_enqueue(x);
}

/**
 * xkvm_xprt_clear() - clear a flag before looking at the socket.
 * @x:   transport the calling worker owns
 * @bit: XKVM_XF_DATA, XKVM_XF_WSPACE or XKVM_XF_CHANGE
 *
 * A callback that fires after this sets the flag again, so the event is
 * not lost even if the worker's look at the socket comes too early.
 */
void xkvm_xprt_clear(struct xkvm_xprt *x, int bit)
{
	clear_bit(bit, &x->flags);
	/* the clear is visible before the socket is read or written */
	smp_mb__after_atomic();
}

/**
 * xkvm_xprt_received() - a worker gives the transport back.
 * @x: transport the calling worker took off the ready list
 *
 * Whatever the worker changed in the transport is visible to the next
 * worker that takes it. If a flag asked for work meanwhile, the transport
 * goes back on the ready list at once.
 */
void xkvm_xprt_received(struct xkvm_xprt *x)
{
	clear_bit_unlock(XKVM_XF_BUSY, &x->flags);
	/* BUSY is clear before the flags are read: pairs with kick */
	smp_mb__after_atomic();
	xkvm_xprt_enqueue(x);
}

static struct xkvm_xprt *xkvm_xprt_dequeue(struct xkvm_server *srv)
{
	struct xkvm_xprt *x;

	spin_lock_bh(&srv->ready_lock);
	x = list_first_entry_or_null(&srv->ready, struct xkvm_xprt, ready);
	if (x)
		list_del_init(&x->ready);
	spin_unlock_bh(&srv->ready_lock);
	return x;
}

/**
 * xkvm_xprt_drain() - drop every transport still on the ready list.
 * @srv: server whose workers are stopped
 */
void xkvm_xprt_drain(struct xkvm_server *srv)
{
	struct xkvm_xprt *x;

	while ((x = xkvm_xprt_dequeue(srv))) {
		clear_bit_unlock(XKVM_XF_BUSY, &x->flags);
		xkvm_xprt_put(x);
	}
}

static bool xkvm_worker_wanted(struct xkvm_server *srv)
{
	return !list_empty(&srv->ready) || kthread_should_stop();
}

/* Sleep until a transport is queued (one worker is woken per transport). */
static void xkvm_worker_sleep(struct xkvm_server *srv)
{
	wait_event_interruptible_exclusive(srv->ready_wq,
					   xkvm_worker_wanted(srv));
}

static int xkvm_worker_main(void *arg)
{
	struct xkvm_worker *w = arg;
	struct xkvm_server *srv = w->srv;
	struct xkvm_xprt *x;

	while (!kthread_should_stop()) {
		x = xkvm_xprt_dequeue(srv);
		if (!x) {
			xkvm_worker_sleep(srv);
			continue;
		}
		/* see hotmap.c: the hot cache cannot change meanwhile */
		percpu_down_read(&srv->hot_rwsem);
		x->ops->process(w, x);
		percpu_up_read(&srv->hot_rwsem);
		xkvm_xprt_put(x);
		cond_resched();
	}
	return 0;
}

/**
 * xkvm_workers_start() - create and start the worker pool.
 * @srv: server with its store and sockets open
 *
 * On failure, xkvm_workers_stop() cleans up what was started.
 *
 * Return: 0 or -errno.
 */
int xkvm_workers_start(struct xkvm_server *srv)
{
	struct xkvm_worker *w;
	u32 i;
	int err;

	srv->workers =
		kcalloc(srv->set.threads, sizeof(*srv->workers), GFP_KERNEL);
	if (!srv->workers)
		return -ENOMEM;
	srv->nworkers = srv->set.threads;
	for (i = 0; i < srv->nworkers; i++) {
		w = &srv->workers[i];
		w->srv = srv;
		w->index = i;
		w->stats = xkv_store_stats_slot(srv->st, i);
		if (srv->udp.sock) {
			err = xkvm_udp_worker_init(w);
			if (err)
				return err;
		}
	}
	for (i = 0; i < srv->nworkers; i++) {
		struct task_struct *t;

		w = &srv->workers[i];
		t = kthread_create(xkvm_worker_main, w, "xkv-worker/%u", i);
		if (IS_ERR(t)) {
			pr_err("cannot start worker %u: %ld\n", i, PTR_ERR(t));
			return PTR_ERR(t);
		}
		get_task_struct(t);
		w->task = t;
		if (!i)
			WRITE_ONCE(xkv_os_pid, (long)task_pid_nr(t));
		wake_up_process(t);
	}
	return 0;
}

/**
 * xkvm_workers_stop() - stop the pool and free what the workers own.
 * @srv: server
 *
 * Each worker finishes the transport it is serving. Transports still
 * queued afterwards are left for xkvm_xprt_drain().
 */
void xkvm_workers_stop(struct xkvm_server *srv)
{
	struct xkvm_worker *w;
	u32 i;

	if (!srv->workers)
		return;
	/*
	 * Stop them all before dropping any task reference: a worker still
	 * running may read the others' tasks for "stats" (xkv_os_rusage()).
	 */
	for (i = 0; i < srv->nworkers; i++) {
		w = &srv->workers[i];
		if (w->task)
			kthread_stop(w->task);
	}
	for (i = 0; i < srv->nworkers; i++) {
		w = &srv->workers[i];
		if (w->task)
			put_task_struct(w->task);
		w->task = NULL;
		xkvm_udp_worker_exit(w);
	}
	kfree(srv->workers);
	srv->workers = NULL;
	srv->nworkers = 0;
}

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

/**
 * xkv_os_rusage() - CPU time the module's kthreads have used.
 * @user_us: set to 0: kthreads never run in user mode
 * @sys_us:  microseconds, workers and maintenance thread together
 *
 * Called by "stats" from a worker, so the pool is up; every task pointer
 * read here is pinned by a task reference until the pool is freed.
 */
void xkv_os_rusage(u64 *user_us, u64 *sys_us)
{
	struct xkvm_server *srv = READ_ONCE(xkvm_srv);
	u64 ns = 0;
	u32 i;

	*user_us = 0;
	*sys_us = 0;
	if (!srv || !srv->workers)
		return;
	for (i = 0; i < srv->nworkers; i++) {
		struct task_struct *t = READ_ONCE(srv->workers[i].task);

		if (t)
			ns += READ_ONCE(t->se.sum_exec_runtime);
	}
	if (srv->maint)
		ns += READ_ONCE(srv->maint->se.sum_exec_runtime);
	*sys_us = div_u64(ns, NSEC_PER_USEC);
}
