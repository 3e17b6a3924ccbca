/* SPDX-License-Identifier: GPL-2.0 */
/*
 * learn_attach.h - load the learning-mode TC programs
 * (bpf/xkv_learn.bpf.c) and attach them to interfaces, as xdp.h does for
 * the XDP program: the libbpf layer under learn.h ("--backend memcached"),
 * also linked by the TC fixtures and tests/bpf/learn_tool.c. Guarantees
 * and limits of the mode: bpf/LEARNING.md.
 *
 * Typical use, next to an XDP object already loaded (its xkv_hot map is
 * shared, so that what TC learns XDP serves):
 *
 *	struct xkv_learn_opts lo = XKV_LEARN_OPTS_INIT;
 *	struct xkv_learn *l;
 *	int err;
 *
 *	lo.tcp_port = lo.udp_port = 11211;
 *	lo.nslots = nslots;			// xkv_hot's max_entries
 *	lo.hot_fd = bpf_map__fd(xdp_skel->maps.xkv_hot);
 *	l = xkv_learn_load(&lo, &err);		// err: -errno
 *	...pin bpf_map__... of l->maps if wanted (xkv_lstats, xkv_lifs, ...)
 *	err = xkv_learn_attach(l, ifindex);	// -EEXIST: already attached
 *	...
 *	xkv_learn_close(l);	// the filters keep the programs loaded
 *
 * and later, from any process ("xkv down"), with the pinned xkv_lifs map:
 *
 *	err = xkv_learn_detach(ifindex, lifs_fd);
 *
 * Every function returns 0 or a negative errno and prints nothing; the
 * loader says what failed.
 */
#ifndef XKV_LOADER_LEARN_ATTACH_H
#define XKV_LOADER_LEARN_ATTACH_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#include "xkv_hot.h"
#include "xkv_learn_maps.h"

/* the skeleton's type (build/bpf/xkv_learn.skel.h): maps, programs */
struct xkv_learn;

/*
 * The TC filters: this handle at this priority on the clsact qdisc's
 * ingress and egress hooks. Priority 0x78 runs before filters added
 * without one (tc picks 49152 and up). The programs answer
 * TC_ACT_UNSPEC, so filters after them still run.
 */
#define XKV_LEARN_TC_HANDLE 0x786b
#define XKV_LEARN_TC_PRIO 0x78

/**
 * struct xkv_learn_opts - how to load the learning programs.
 * @tcp_port: memcached's TCP port; 0 = 11211, -1 = none.
 * @udp_port: memcached's UDP port; 0 = 11211, -1 = none.
 * @nslots:   slots of the hot cache (a power of two >= 64, equal to the
 *            max_entries of the map in @hot_fd); 0 = the map's, or
 *            XKV_HOT_SLOTS_DEFAULT without @hot_fd.
 * @nflows:   TCP streams followed at once (power of two >= 2; each takes
 *            a 168-byte entry); 0 = XKV_LEARN_FLOWS_DEFAULT.
 * @ttl_ms:   lifetime of a learned entry; <= 0 = XKV_LEARN_TTL_MS_DEFAULT.
 * @quiet_ms: write quarantine; < 0 = XKV_LEARN_QUIET_MS_DEFAULT (0 turns
 *            it off: only for tests).
 * @flags:    XKV_LCFG_*. Set XKV_LCFG_TEXT_ONLY when memcached runs with
 *            "-B ascii": TCP connections that were open before attaching
 *            are then followed, instead of flushing the cache on each of
 *            their segments.
 * @hot_fd:   fd of the XDP object's xkv_hot map, shared; -1 = a map of
 *            the learning object's own (fixtures). A shared map is
 *            emptied at load: slots the learner did not fill would escape
 *            its flushes.
 * @amp_ratio: with XKV_LCFG_UDP_POLICY, the UDP reply budget (reply
 *            bytes per request byte, 0 = none); < 0 = 64.
 * @allow4_fd: fd of the XDP object's xkv_allow4 map, shared; -1 = a map
 *            of the learning object's own (fixtures fill it).
 * @allow6_fd: the same for xkv_allow6.
 * @addrs_fd: the same for xkv_addrs.
 * @log_level: verifier log level for both programs (0 = none; 4 prints
 *            statistics into @log_buf).
 * @log_buf:  where the verifier's log goes, or NULL.
 * @log_size: its size.
 */
struct xkv_learn_opts {
	int tcp_port;
	int udp_port;
	__u32 nslots;
	__u32 nflows;
	int ttl_ms;
	int quiet_ms;
	__u32 flags;
	int hot_fd;
	int amp_ratio;
	int allow4_fd;
	int allow6_fd;
	int addrs_fd;
	__u32 log_level;
	char *log_buf;
	size_t log_size;
};

#define XKV_LEARN_OPTS_INIT                                                   \
	{                                                                     \
		.tcp_port = 0, .udp_port = 0, .nslots = 0, .nflows = 0,       \
		.ttl_ms = 0, .quiet_ms = -1, .flags = 0, .hot_fd = -1,        \
		.amp_ratio = -1, .allow4_fd = -1, .allow6_fd = -1,            \
		.addrs_fd = -1, .log_level = 0, .log_buf = NULL,              \
		.log_size = 0,                                                \
	}

/**
 * xkv_learn_load() - open the learning object, write its settings, share
 * the hot cache, load it (both programs pass the verifier here).
 * @o:   settings
 * @err: out: 0, or -errno (-EINVAL for bad settings, the verifier's error
 *       otherwise)
 *
 * Return: the loaded skeleton (maps in ->maps, programs in ->progs:
 * xkv_learn_in, xkv_learn_eg), or NULL.
 */
struct xkv_learn *xkv_learn_load(const struct xkv_learn_opts *o, int *err);

/**
 * xkv_learn_attach() - attach both programs to an interface.
 * @l:       loaded skeleton
 * @ifindex: the interface (the one memcached's clients reach it through;
 *           attach to every such interface, lo included if local clients
 *           write)
 *
 * Creates the clsact qdisc if the interface has none, adds the ingress
 * and egress filters, and records in the object's xkv_lifs map whether
 * the qdisc was created here. On failure the interface is left as it was.
 *
 * Return: 0; -EEXIST if learning filters are attached already; -errno.
 */
int xkv_learn_attach(struct xkv_learn *l, int ifindex);

/**
 * xkv_learn_detach() - remove the learning filters from an interface.
 * @ifindex: the interface
 * @lifs_fd: fd of the xkv_lifs map the attach recorded into (the object's,
 *           or its pin), or -1
 *
 * Removes both filters, then the clsact qdisc only if xkv_lifs says the
 * attach created it (with @lifs_fd -1 the qdisc always stays).
 *
 * Return: 0 (also when nothing was attached); -errno.
 */
int xkv_learn_detach(int ifindex, int lifs_fd);

/**
 * xkv_learn_query() - the programs attached to an interface.
 * @ifindex: the interface
 * @in_id:   out: id of the ingress learning program, 0 = none
 * @eg_id:   out: id of the egress one, 0 = none
 *
 * Return: 0; -errno.
 */
int xkv_learn_query(int ifindex, __u32 *in_id, __u32 *eg_id);

/**
 * xkv_learn_own() - tell egress which sockets are memcached's (struct
 * xkv_learn_owner): the cookies of the UDP sockets bound to @udp_port
 * and the owner of the TCP sockets listening on @tcp_port, found in the
 * file table of process @pid (with pidfd_getfd(): needs the right to
 * ptrace it, as root has). Until this is done egress learns nothing; a
 * restarted memcached has new sockets and must be told again.
 * @owner_fd: fd of xkv_lowner (the object's, or its pin)
 * @pid:      memcached
 * @tcp_port: its TCP port, host order; 0 = no TCP learning
 * @udp_port: its UDP port, host order; 0 = no UDP learning
 * @uid:      out, or NULL: the uid of its TCP sockets (~0U: none found)
 *
 * Return: the number of sockets found (at least 1); -ENOENT when @pid has
 * none bound to these ports, -E2BIG with more than XKV_LEARN_SOCKS_MAX UDP
 * sockets, -EINVAL when its TCP sockets have different owners; -errno.
 */
int xkv_learn_own(int owner_fd, int pid, int tcp_port, int udp_port,
		  __u32 *uid);

/**
 * xkv_learn_close() - free the skeleton. Attached filters keep their
 * programs (and through them the maps) alive until detached.
 * @l: skeleton, or NULL
 */
void xkv_learn_close(struct xkv_learn *l);

#endif /* XKV_LOADER_LEARN_ATTACH_H */
