/* SPDX-License-Identifier: GPL-2.0 */
/*
 * tcpfast.h - the TCP fast path's plumbing (bpf/TCPFAST.md): the XDP
 * object's two TC programs on the interface's clsact hooks, the answer
 * switch (map xkv_tcp_ctl), and the translation state that outlives XDP.
 *
 * Once XDP has answered a GET on a TCP connection, that connection's
 * sequence numbers differ between the wire and the kernel socket, and
 * xkv_tc_in (ingress) and xkv_tc_out (egress) translate every segment of
 * it, with the map xkv_tcp_conn. So the two filters must stay attached
 * while such a connection lives: after XDP is detached, after the
 * backend is gone. The rule the loader keeps:
 *
 *  - "up" attaches the filters before XDP and turns answering on once
 *    XDP is attached (xkv_tcpf_attach(), xkv_tcpf_answer_set()).
 *  - A connection needs the filters while XDP has answered on it and it
 *    has been neither reset nor closed both ways: "live" entries of
 *    xkv_tcp_conn (the map also keeps connections never answered on, and
 *    closed ones for a while).
 *  - "down" turns answering off, stops the backend (which closes its
 *    connections), waits up to XKV_TCPF_DRAIN_MS for the map to have no
 *    live entry, and detaches XDP. If it still has some, the filters
 *    stay attached and the interface's pin directory keeps the pins of
 *    XKV_TCPF_LEFTOVER_PINS only: it is left "draining"
 *    (xkv_tcpf_leftover()). A later "down" removes the filters (and the
 *    pins) once no entry is live, or at once with --force, which breaks
 *    the connections still translated. A later "up" does the same, and
 *    refuses while one is (xkv_tcpf_reclaim()).
 *  - The filters are found by handle and priority on the interface, not
 *    through pins, and their map through their program: filters whose
 *    pins are gone are still seen and handled by the same rule.
 *  - Whether xkv created the clsact qdisc is recorded in the filters'
 *    handle: XKV_TCPF_HANDLE_OWN if it did (the qdisc goes with the
 *    filters then, unless learning filters are on it), XKV_TCPF_HANDLE if
 *    the qdisc was there before.
 *
 * Every function prints nothing unless it says so.
 */
#ifndef XKV_LOADER_TCPFAST_H
#define XKV_LOADER_TCPFAST_H

#include <linux/types.h>
#include <stdbool.h>
#include <stddef.h>

#include "paths.h"

/* the filters: one of these handles, this priority, on both hooks */
#define XKV_TCPF_HANDLE 0x7874		/* clsact qdisc was there */
#define XKV_TCPF_HANDLE_OWN 0x7875	/* xkv created the clsact qdisc */
#define XKV_TCPF_PRIO 0x77		/* before learning's 0x78 */

/* how long "down" waits for translated connections to close */
#define XKV_TCPF_DRAIN_MS 2000

/* the pins a "draining" pin directory keeps, ended by NULL */
#define XKV_TCPF_LEFTOVER_PINS                                            \
	{ XKV_PIN_TCP_CONN, XKV_PIN_TCP_STATS, XKV_PIN_TCP_CTL,           \
	  XKV_PIN_RODATA, NULL }

/* --tcp-fast */
enum xkv_tcpf_mode {
	XKV_TCPF_UNSET = 0,	/* on, unless the backend cannot have it */
	XKV_TCPF_ON = 1,
	XKV_TCPF_OFF = 2,
};

/**
 * struct xkv_tcpf_state - the fast path's filters on one interface.
 * @in_id:     id of the ingress filter's program, 0 = none
 * @out_id:    id of the egress filter's program, 0 = none
 * @own_qdisc: xkv created the clsact qdisc they are on
 * @conn_map:  id of their xkv_tcp_conn map, 0 = not found
 * @conns:     its entries (connections followed), or -errno (unknown)
 * @live:      those that need the filters, or -errno (unknown)
 */
struct xkv_tcpf_state {
	__u32 in_id;
	__u32 out_id;
	bool own_qdisc;
	__u32 conn_map;
	long conns;
	long live;
};

/**
 * xkv_tcpf_query() - what of the fast path is attached to an interface.
 * @ifindex: the interface (in this network namespace)
 * @st:      out
 *
 * Return: 0 (also with nothing attached, or no clsact qdisc), or -errno.
 */
int xkv_tcpf_query(int ifindex, struct xkv_tcpf_state *st);

/**
 * xkv_tcpf_attached() - is any of the fast path's filters attached?
 * @st: from xkv_tcpf_query()
 *
 * Return: true if one is.
 */
static inline bool xkv_tcpf_attached(const struct xkv_tcpf_state *st)
{
	return st->in_id || st->out_id;
}

/**
 * xkv_tcpf_attach() - attach the two programs to the interface's clsact
 * hooks, creating the qdisc if it has none.
 * @ifindex: the interface
 * @in_fd:   xkv_tc_in, for ingress
 * @out_fd:  xkv_tc_out, for egress
 *
 * On failure the interface is left as it was.
 *
 * Return: 0; -EEXIST if the fast path's filters are attached already;
 * another -errno.
 */
int xkv_tcpf_attach(int ifindex, int in_fd, int out_fd);

/**
 * xkv_tcpf_detach() - remove the fast path's filters from an interface,
 * and the clsact qdisc if xkv created it and no learning filter is on it.
 * @ifindex: the interface
 *
 * Return: 0 (also when nothing was attached); -errno.
 */
int xkv_tcpf_detach(int ifindex);

/**
 * xkv_tcpf_answer_set() - turn answering on or off (xkv_tcp_ctl).
 * @ctl_fd: the xkv_tcp_ctl map (the object's, or its pin)
 * @on:     answer
 *
 * Off, XDP answers nothing more while the filters keep translating the
 * connections it answered on.
 *
 * Return: 0 or -errno.
 */
int xkv_tcpf_answer_set(int ctl_fd, bool on);

/**
 * xkv_tcpf_answer_pin() - xkv_tcpf_answer_set() on the pinned map.
 * @p:  the interface's paths
 * @on: answer
 *
 * Return: 0; -ENOENT when the map is not pinned; -errno.
 */
int xkv_tcpf_answer_pin(const struct xkv_paths *p, bool on);

/**
 * xkv_tcpf_answer_get() - is answering on (pinned xkv_tcp_ctl)?
 * @p: the interface's paths
 *
 * Return: 1 on, 0 off, or -errno (-ENOENT: not pinned).
 */
int xkv_tcpf_answer_get(const struct xkv_paths *p);

/**
 * xkv_tcpf_drain() - wait until no connection needs the filters, then a
 * little more for the last segments of the closes just seen.
 * @ifindex: the interface
 * @ms:      at most this long
 * @st:      out: the state when the wait ended
 *
 * Return: 0, or -errno from xkv_tcpf_query().
 */
int xkv_tcpf_drain(int ifindex, unsigned int ms, struct xkv_tcpf_state *st);

/**
 * xkv_tcpf_busy() - do the filters still translate connections?
 * @st: from xkv_tcpf_query()
 *
 * Return: true when filters are attached and their xkv_tcp_conn has a
 * live entry (or cannot be read: then it is assumed it has).
 */
static inline bool xkv_tcpf_busy(const struct xkv_tcpf_state *st)
{
	return xkv_tcpf_attached(st) && st->live != 0;
}

/**
 * xkv_tcpf_leftover() - is the interface's pin directory what "down" left
 * for an earlier instance's open connections (no XDP link, but
 * xkv_tcp_conn)?
 * @p: the interface's paths
 *
 * Return: true if so.
 */
bool xkv_tcpf_leftover(const struct xkv_paths *p);

/**
 * xkv_tcpf_conns_str() - @st->live for a message.
 * @st:   from xkv_tcpf_query()
 * @buf:  out
 * @size: its size (32 is enough)
 *
 * Return: @buf: "N", or "an unknown number of".
 */
const char *xkv_tcpf_conns_str(const struct xkv_tcpf_state *st, char *buf,
			       size_t size);

/**
 * xkv_tcpf_say_busy() - print (stderr) that an earlier instance's filters
 * still translate connections, naming them, and what to do.
 * @p:  the interface's paths
 * @st: their state
 */
void xkv_tcpf_say_busy(const struct xkv_paths *p,
		       const struct xkv_tcpf_state *st);

/**
 * xkv_tcpf_reclaim() - before "up" or "attach": remove what an earlier
 * instance's fast path left on the interface (its filters, its
 * "draining" pin directory), unless it still translates connections.
 * @p:       the interface's paths
 * @ifindex: the interface
 *
 * Return: 0 (nothing left, or removed); -EBUSY after printing which
 * filters and how many connections; another -errno after printing why.
 */
int xkv_tcpf_reclaim(const struct xkv_paths *p, int ifindex);

#endif /* XKV_LOADER_TCPFAST_H */
