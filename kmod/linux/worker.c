// SPDX-License-Identifier: GPL-2.0
/*
 * worker.c - the worker pool: kthreads that take transports off the
 * ready list (xprt.c) and serve them, one at a time each, as xkvd's
 * workers (kmod/user/worker.c) serve their epoll events.
 */
#include "xkvm.h"

#include <linux/kthread.h>
#include <linux/sched/task.h>

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
