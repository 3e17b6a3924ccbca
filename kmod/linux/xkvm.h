/* SPDX-License-Identifier: GPL-2.0 */
/*
 * xkvm.h - the structures shared by the files of xkv.ko's glue.
 *
 * The module runs the store core (kmod/core) behind in-kernel sockets. It
 * follows the sunrpc/ksmbd pattern rather than one thread per connection:
 *
 *  - Every socket the module serves (the TCP listener, the UDP socket and
 *    each TCP connection) is a transport, struct xkvm_xprt, with an ops
 *    table saying how a worker serves it.
 *  - The socket callbacks (sk_data_ready, sk_write_space, sk_state_change)
 *    only set a flag on the transport and queue it on the server's ready
 *    list, then wake one worker. They run in softirq context and never
 *    touch the store.
 *  - A fixed pool of worker kthreads takes transports off the ready list
 *    and serves them. XKVM_XF_BUSY says a transport is queued or being
 *    served: a transport is never on the list twice nor served by two
 *    workers at once, so a connection's buffers and session need no lock.
 *    A worker that is done clears XKVM_XF_BUSY and queues the transport
 *    again if a flag arrived meanwhile (xkvm_xprt_received()).
 *  - A maintenance kthread runs the store's background work.
 *
 * References (struct xkvm_xprt.ref): a connection holds one for being on
 * the server's connection list, one for having its callbacks attached to
 * its socket, one for being on the ready list, and one for the worker
 * serving it. A callback takes a reference (for the ready list) only
 * under sk_callback_lock while the callbacks are attached, so the
 * attachment's reference keeps the connection alive for it. The last
 * reference frees the connection, always in process context. The
 * listener and the UDP transport live inside the server and keep their
 * base reference until the server is freed.
 *
 * Unloading (xkvm_srv_stop()): mark the server stopping (no connection is
 * added after that), detach the listener's and the UDP socket's
 * callbacks, stop the workers (each finishes the transport in hand) and
 * the maintenance thread, close every connection (callbacks restored,
 * socket shut down and released), and only then drop whatever is still
 * queued - a connection's callback may queue it until it is closed.
 * Release the listener and the UDP socket, wait for the last connection
 * reference, destroy the store.
 */
#ifndef XKV_LINUX_XKVM_H
#define XKV_LINUX_XKVM_H

#include "xkv_os_impl.h"

#include <linux/kref.h>
#include <linux/list.h>
#include <linux/net.h>
#include <linux/percpu-rwsem.h>
#include <linux/socket.h>
#include <linux/spinlock.h>
#include <linux/wait.h>

#include "session.h"
#include "store.h"
#include "tcp.h"
#include "udp.h"

/* limits of the module parameters: xkv_settings_check() (store.h) */
#define XKVM_MEMORY_MB_MAX (1024u * 1024)

/*
 * struct xkvm_xprt.flags bits:
 *   BUSY       queued or being served
 *   DATA       the socket may have input (or connections to accept)
 *   WSPACE     the socket has room to send again
 *   CHANGE     the socket changed state: look at it
 *   OUTPEND    output waits for room (set by the serving worker)
 *   THROTTLED  do not read for now (set by the serving worker)
 *   DEAD       closed: never queue it again
 */
enum {
	XKVM_XF_BUSY,
	XKVM_XF_DATA,
	XKVM_XF_WSPACE,
	XKVM_XF_CHANGE,
	XKVM_XF_OUTPEND,
	XKVM_XF_THROTTLED,
	XKVM_XF_DEAD,
};

struct bpf_map;
struct xkvm_server;
struct xkvm_worker;
struct xkvm_xprt;

/**
 * struct xkvm_xprt_ops - how a kind of transport is served.
 * @name:    for log messages
 * @process: serve the transport; must call xkvm_xprt_received() exactly
 *           once, as soon as it no longer needs the transport to itself
 * @free:    the last reference is gone (NULL: lives in the server)
 */
struct xkvm_xprt_ops {
	const char *name;
	void (*process)(struct xkvm_worker *w, struct xkvm_xprt *x);
	void (*free)(struct xkvm_xprt *x);
};

/**
 * struct xkvm_xprt - a socket the workers serve.
 * @ops:              kind
 * @srv:              server
 * @sock:             the socket; NULL once released
 * @flags:            XKVM_XF_*
 * @ref:              see the top of this file
 * @ready:            entry on srv->ready
 * @old_data_ready:   callbacks to restore when detaching
 * @old_write_space:  ...
 * @old_state_change: ...
 * @attached:         our callbacks are installed (under sk_callback_lock)
 */
struct xkvm_xprt {
	const struct xkvm_xprt_ops *ops;
	struct xkvm_server *srv;
	struct socket *sock;
	unsigned long flags;
	struct kref ref;
	struct list_head ready;
	void (*old_data_ready)(struct sock *sk);
	void (*old_write_space)(struct sock *sk);
	void (*old_state_change)(struct sock *sk);
	bool attached;
};

/**
 * struct xkvm_conn - one TCP client.
 * @xprt:      transport, first
 * @node:      entry on srv->conns (while it holds the list reference)
 * @listed:    on srv->conns
 * @tcp:       session, read buffer and pump state (kmod/core/tcp.h);
 *             when stalled, the maintenance thread queues it again
 *             (xkvm_conns_tick())
 * @active:    jiffies when a byte last came or went, for idle_timeout
 * @peer:      client address, for verbose logs
 */
struct xkvm_conn {
	struct xkvm_xprt xprt;
	struct list_head node;
	bool listed;
	struct xkv_tcp tcp;
	unsigned long active;
	struct sockaddr_storage peer;
};

/**
 * struct xkvm_udp_state - one worker's UDP buffers and session.
 * @io:      session, receive buffers and reply headers (kmod/core/udp.h)
 * @skb:     the datagrams taken off the socket, until they are served
 * @data:    the payload of each: in its skb, or copied into @io's
 *           receive buffer of the same slot when the skb is not linear
 * @len:     its length
 * @peer:    the sender of each, as recvmsg() would name it (the reply's
 *           destination)
 * @peerlen: length of each @peer
 * @src:     the sender, for the policy
 * @dst:     the address it was sent to, for the policy
 */
struct xkvm_udp_state {
	struct xkv_udp_io io;
	struct sk_buff *skb[XKV_UDP_BATCH];
	const u8 *data[XKV_UDP_BATCH];
	size_t len[XKV_UDP_BATCH];
	struct sockaddr_storage peer[XKV_UDP_BATCH];
	int peerlen[XKV_UDP_BATCH];
	struct xkv_udp_addr src[XKV_UDP_BATCH];
	struct xkv_udp_addr dst[XKV_UDP_BATCH];
};

/**
 * struct xkvm_worker - one kthread of the pool.
 * @srv:   server
 * @index: number, also its statistics slot
 * @task:  the kthread (a task reference is held)
 * @stats: counters only this worker writes
 * @udp:   UDP state, NULL when UDP is off
 */
struct xkvm_worker {
	struct xkvm_server *srv;
	u32 index;
	struct task_struct *task;
	struct xkv_thread_stats *stats;
	struct xkvm_udp_state *udp;
};

/**
 * struct xkvm_server - the module's one server.
 * @set:          settings the parameters produced
 * @st:           the store
 * @tcp_addr:     where the listener is bound (family 0: TCP off)
 * @udp_addr:     where the UDP socket is bound (family 0: UDP off)
 * @listen:       the TCP listener transport (sock NULL: TCP off)
 * @udp:          the UDP transport (sock NULL: UDP off)
 * @udp_pol:      whom UDP answers and how much (udp_policy.c)
 * @ready_lock:   guards @ready
 * @ready:        transports waiting for a worker
 * @ready_wq:     idle workers sleep here (exclusive waits)
 * @conns_lock:   guards @conns and @stopping
 * @conns:        every open connection
 * @stopping:     no new connection may be added to @conns
 * @nconns:       connections not yet freed
 * @conns_wq:     woken when @nconns drops
 * @accept_retry: jiffies after which to retry a failing accept (0: none)
 * @nstalled:     connections that may be stalled by the budget (counted
 *                again by xkvm_conns_tick())
 * @conn_cache:   slab cache of struct xkvm_conn
 * @workers:      the pool
 * @nworkers:     its size
 * @maint:        the maintenance kthread (a task reference is held)
 * @hot_rwsem:    read side: anything that may use the store's hot cache
 *                (a worker serving a transport, a maintenance step);
 *                write side: attaching or detaching it, and @hot_map
 *                (see hotmap.c)
 * @hot_map:      the XDP hot cache handed over through /dev/xkv (a
 *                reference is held), NULL when there is none
 * @live_map:     the lease XDP checks, under @hot_rwsem's write side as
 *                @hot_map
 * @tcp_map:      the TCP fast path's table handed over through /dev/xkv
 *                (a reference is held), NULL when there is none; under
 *                @hot_rwsem's write side as @hot_map
 * @tcp_ans:      its entries (the array's memory), NULL when none: a
 *                connection claims one when it is accepted and releases
 *                it when it closes, both on a worker, so under the read
 *                side
 */
struct xkvm_server {
	struct xkv_settings set;
	struct xkv_store *st;
	struct sockaddr_storage tcp_addr;
	struct sockaddr_storage udp_addr;
	struct xkvm_xprt listen;
	struct xkvm_xprt udp;
	struct xkv_udp_policy *udp_pol;
	spinlock_t ready_lock; /* guards @ready */
	struct list_head ready;
	wait_queue_head_t ready_wq;
	spinlock_t conns_lock; /* guards @conns, @stopping */
	struct list_head conns;
	bool stopping;
	atomic_t nconns;
	wait_queue_head_t conns_wq;
	unsigned long accept_retry;
	atomic_t nstalled;
	struct kmem_cache *conn_cache;
	struct xkvm_worker *workers;
	u32 nworkers;
	struct task_struct *maint;
	struct percpu_rw_semaphore hot_rwsem;
	struct bpf_map *hot_map;
	struct bpf_map *live_map;
	struct bpf_map *tcp_map;
	struct xkv_tcp_ans *tcp_ans;
};

/* main.c: the server, for xkv_os_rusage() */
extern struct xkvm_server *xkvm_srv;

/*
 * The log level: the verbose= parameter (writable in sysfs) or the
 * protocol's "verbosity" command, whichever is higher.
 */
static inline int xkvm_verbose(const struct xkvm_server *srv)
{
	const struct xkv_settings *set = xkv_store_settings(srv->st);

	return max(READ_ONCE(xkv_os_verbose), READ_ONCE(set->verbose));
}

/* settings.c */
int xkvm_params_to_settings(struct xkv_settings *set);
void xkvm_params_done(struct xkv_settings *set);
void xkvm_params_serving(struct xkvm_server *srv);

/* hotmap.c */
int xkvm_ctl_register(void);
void xkvm_ctl_unregister(struct xkvm_server *srv);

/* kfunc.c */
struct xkv_ioc_store;
void xkvm_kfunc_register(void);
void xkvm_kfunc_info(struct xkv_ioc_store *info);

/* xprt.c */
void xkvm_xprt_init(struct xkvm_xprt *x, struct xkvm_server *srv,
		    const struct xkvm_xprt_ops *ops, struct socket *sock);
void xkvm_xprt_get(struct xkvm_xprt *x);
void xkvm_xprt_put(struct xkvm_xprt *x);
void xkvm_xprt_enqueue(struct xkvm_xprt *x);
void xkvm_xprt_kick(struct xkvm_xprt *x, int bit);
void xkvm_xprt_clear(struct xkvm_xprt *x, int bit);
void xkvm_xprt_received(struct xkvm_xprt *x);
struct xkvm_xprt *xkvm_xprt_dequeue(struct xkvm_server *srv);
void xkvm_xprt_drain(struct xkvm_server *srv);

/* worker.c */
int xkvm_workers_start(struct xkvm_server *srv);
void xkvm_workers_stop(struct xkvm_server *srv);

/* maint.c */
int xkvm_maint_start(struct xkvm_server *srv);
void xkvm_maint_stop(struct xkvm_server *srv);

/* sock.c */
int xkvm_sock_check_addr(const char *addr);
void xkvm_conn_addrs(struct socket *sock, struct xkv_sess *sess);
void xkvm_sock_register(struct xkvm_server *srv);
int xkvm_sock_open(const char *addr, u32 port, int type, struct socket **res,
		   struct sockaddr_storage *ss);
void xkvm_sock_attach(struct xkvm_xprt *x, bool conn,
		      void (*old_data_ready)(struct sock *sk));
void xkvm_sock_detach(struct xkvm_xprt *x);
void xkvm_sock_restore_child(struct xkvm_server *srv, struct socket *sock);
void xkvm_sock_release(struct xkvm_xprt *x);

/* accept.c */
extern const struct xkvm_xprt_ops xkvm_listen_ops;

/* tcp.c */
int xkvm_conn_new(struct xkvm_server *srv, struct socket *sock);
void xkvm_conns_close_all(struct xkvm_server *srv);
void xkvm_conns_tick(struct xkvm_server *srv, bool idle);
void xkvm_conns_fast_release(struct xkvm_server *srv);

/* udp.c */
extern const struct xkvm_xprt_ops xkvm_udp_ops;
int xkvm_udp_worker_init(struct xkvm_worker *w);
void xkvm_udp_worker_exit(struct xkvm_worker *w);

/* udp_policy.c */
int xkvm_udp_policy_open(struct xkvm_server *srv);
void xkvm_udp_policy_close(struct xkvm_server *srv);

#endif /* XKV_LINUX_XKVM_H */
