// SPDX-License-Identifier: GPL-2.0
/*
 * xprt.c - transports and the ready list the workers take them from
 * (worker.c).
 *
 * A transport is queued when one of its flags asks for work and no worker
 * owns it (XKVM_XF_BUSY clear). The flag is set before BUSY is tested, and
 * a worker clears BUSY before it looks at the flags again, both with full
 * barriers in between: either the callback sees BUSY clear and queues the
 * transport, or the worker sees the flag and queues it. No wakeup is lost
 * and no transport is served twice at once.
 */
#include "xkvm.h"

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

/**
 * xkvm_xprt_dequeue() - take the first transport off the ready list.
 * @srv: server
 *
 * Return: the transport, with the ready list's reference, or NULL.
 */
struct xkvm_xprt *xkvm_xprt_dequeue(struct xkvm_server *srv)
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
