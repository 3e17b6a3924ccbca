// SPDX-License-Identifier: GPL-2.0
/*
 * main.c - xkv.ko: loading and unloading (the parameters: settings.c).
 *
 * The /dev/xkv control device (hotmap.c: the loader hands the module the
 * XDP hot cache through it) is created last, once the server is serving,
 * and removed first, while it still serves: no ioctl ever sees a server
 * that is half started or half stopped.
 */
#include "xkvm.h"

#include <linux/inet.h>
#include <linux/module.h>
#include <linux/netdevice.h>
#include <linux/sched/task.h>

/* how long unloading waits for the last connection reference */
#define XKVM_DRAIN_TIMEOUT (10 * HZ)

atomic_long_t xkv_os_allocs = ATOMIC_LONG_INIT(0);
long xkv_os_pid;
struct xkvm_server *xkvm_srv;

static void xkvm_srv_init(struct xkvm_server *srv,
			  const struct xkv_settings *set)
{
	srv->set = *set;
	spin_lock_init(&srv->ready_lock);
	INIT_LIST_HEAD(&srv->ready);
	init_waitqueue_head(&srv->ready_wq);
	spin_lock_init(&srv->conns_lock);
	INIT_LIST_HEAD(&srv->conns);
	atomic_set(&srv->nconns, 0);
	init_waitqueue_head(&srv->conns_wq);
	xkvm_xprt_init(&srv->listen, srv, &xkvm_listen_ops, NULL);
	xkvm_xprt_init(&srv->udp, srv, &xkvm_udp_ops, NULL);
}

/* Open the sockets the settings ask for; each starts unattached. */
static int xkvm_srv_open_sockets(struct xkvm_server *srv)
{
	const struct xkv_settings *set = &srv->set;
	int err;

	if (set->tcp_port) {
		err = xkvm_sock_open(set->listen, set->tcp_port, SOCK_STREAM,
				     &srv->listen.sock, &srv->tcp_addr);
		if (err)
			return err;
	}
	if (set->udp_port) {
		err = xkvm_sock_open(set->listen, set->udp_port, SOCK_DGRAM,
				     &srv->udp.sock, &srv->udp_addr);
		if (!err)
			err = xkvm_udp_policy_open(srv);
		if (err) {
			xkvm_sock_release(&srv->udp);
			xkvm_sock_release(&srv->listen);
			return err;
		}
	}
	return 0;
}

/*
 * Start serving: the store, the sockets, the threads, and last the
 * callbacks that feed the threads.
 */
static int xkvm_srv_start(struct xkvm_server *srv,
			  const struct xkv_settings *set)
{
	int err;

	xkvm_srv_init(srv, set);
	err = percpu_init_rwsem(&srv->hot_rwsem);
	if (err)
		return err;
	/* the name /sys/kernel/slab shows, as before the xkvm_ prefix */
	srv->conn_cache =
		kmem_cache_create("xkv_conn", sizeof(struct xkvm_conn),
				  __alignof__(struct xkvm_conn), 0, NULL);
	if (!srv->conn_cache) {
		err = -ENOMEM;
		goto free_rwsem;
	}
	srv->st = xkv_store_create(set, set->threads);
	if (!srv->st) {
		err = -ENOMEM;
		goto destroy_cache;
	}

	err = xkvm_srv_open_sockets(srv);
	if (err)
		goto destroy_store;
	xkvm_sock_register(srv);
	err = xkvm_workers_start(srv);
	if (err)
		goto stop_workers;
	err = xkvm_maint_start(srv);
	if (err)
		goto stop_workers;

	if (srv->listen.sock) {
		xkvm_sock_attach(&srv->listen, false, NULL);
		xkvm_xprt_kick(&srv->listen, XKVM_XF_DATA);
	}
	if (srv->udp.sock) {
		xkvm_sock_attach(&srv->udp, false, NULL);
		xkvm_xprt_kick(&srv->udp, XKVM_XF_DATA);
	}
	return 0;

stop_workers:
	xkvm_workers_stop(srv);
	xkvm_xprt_drain(srv);
	xkvm_sock_release(&srv->udp);
	xkvm_sock_release(&srv->listen);
	xkvm_udp_policy_close(srv);
destroy_store:
	xkv_store_destroy(srv->st);
destroy_cache:
	kmem_cache_destroy(srv->conn_cache);
free_rwsem:
	percpu_free_rwsem(&srv->hot_rwsem);
	return err;
}

/* Stop serving; see "Unloading" in xkvm.h. */
static void xkvm_srv_stop(struct xkvm_server *srv)
{
	spin_lock(&srv->conns_lock);
	srv->stopping = true;
	spin_unlock(&srv->conns_lock);

	xkvm_sock_detach(&srv->listen);
	xkvm_sock_detach(&srv->udp);
	xkvm_workers_stop(srv);
	xkvm_maint_stop(srv);
	/* after this no callback can queue a connection any more ... */
	xkvm_conns_close_all(srv);
	/* ... so what is queued now is all there will ever be */
	xkvm_xprt_drain(srv);
	xkvm_sock_release(&srv->listen);
	xkvm_sock_release(&srv->udp);
	xkvm_udp_policy_close(srv);
	/* a callback that fetched our function pointer has returned */
	synchronize_net();

	if (!wait_event_timeout(srv->conns_wq, !atomic_read(&srv->nconns),
				XKVM_DRAIN_TIMEOUT))
		WARN(1, "xkv: %d connections still referenced\n",
		     atomic_read(&srv->nconns));
	WARN_ON(kref_read(&srv->listen.ref) != 1);
	WARN_ON(kref_read(&srv->udp.ref) != 1);

	/* xkvm_ctl_unregister() let go of the hot cache already */
	WARN_ON(srv->hot_map);
	xkv_store_destroy(srv->st);
	srv->st = NULL;
	kmem_cache_destroy(srv->conn_cache);
	srv->conn_cache = NULL;
	percpu_free_rwsem(&srv->hot_rwsem);
}

/* "[::]:11211", or "off" for a socket not opened */
static void xkvm_addr_str(char *buf, size_t len,
			  const struct sockaddr_storage *ss)
{
	if (ss->ss_family)
		snprintf(buf, len, "%pISpc", ss);
	else
		strscpy(buf, "off", len);
}

static int __init xkvm_init(void)
{
	char tcp[INET6_ADDRSTRLEN + 16], udp[INET6_ADDRSTRLEN + 16];
	struct xkv_settings set;
	struct xkvm_server *srv;
	int err;

	err = xkvm_params_to_settings(&set);
	if (err)
		return err;
	srv = kzalloc(sizeof(*srv), GFP_KERNEL);
	if (!srv) {
		xkvm_params_done(&set);
		return -ENOMEM;
	}
	WRITE_ONCE(xkvm_srv, srv);
	err = xkvm_srv_start(srv, &set);
	/* the store has its copy of the password file, if any */
	xkvm_params_done(&set);
	srv->set.pwdb = NULL;
	if (err)
		goto free_srv;
	err = xkvm_ctl_register();
	if (err)
		goto stop_srv;
	/* last: the kfuncs run as soon as a program can resolve them */
	xkvm_kfunc_register();
	/* auth_reload= may reach the store from now on */
	xkvm_params_serving(srv);
	xkvm_addr_str(tcp, sizeof(tcp), &srv->tcp_addr);
	xkvm_addr_str(udp, sizeof(udp), &srv->udp_addr);
	pr_info("%s serving: TCP %s, UDP %s, %llu MB, %u workers\n",
		XKV_VERSION, tcp, udp, set.maxbytes >> 20, set.threads);
	return 0;

stop_srv:
	xkvm_srv_stop(srv);
free_srv:
	WRITE_ONCE(xkvm_srv, NULL);
	kfree(srv);
	return err;
}

static void __exit xkvm_exit(void)
{
	struct xkvm_server *srv = xkvm_srv;
	long left;

	xkvm_params_serving(NULL);
	xkvm_ctl_unregister(srv);
	xkvm_srv_stop(srv);
	WRITE_ONCE(xkvm_srv, NULL);
	kfree(srv);
	left = atomic_long_read(&xkv_os_allocs);
	WARN(left, "xkv: %ld allocations not freed\n", left);
	pr_info("stopped\n");
}

module_init(xkvm_init);
module_exit(xkvm_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("xkv: a memcached-compatible cache in the kernel");
MODULE_VERSION(XKV_VERSION);
