/* SPDX-License-Identifier: GPL-2.0 */
/*
 * xkv_learn_maps.h - the learning programs' maps and settings.
 */
#ifndef XKV_ABI_LEARN_MAPS_H
#define XKV_ABI_LEARN_MAPS_H

#include "xkv_types.h"

/*
 * With a backend that has no xkv code in it, TC programs fill the hot cache
 * (bpf/xkv_learn.bpf.c; guarantees and limits in bpf/LEARNING.md): an
 * ingress program sees every request on its way to memcached, invalidates
 * the slot of every key a write names and notes the generation each GET
 * saw; an egress program learns values from memcached's GET replies and
 * installs one only if no write moved the slot's generation since the GET,
 * none was seen for a quarantine period, and the key was not written with
 * an expiry. The installer is then the owner of xkv_hot (xkv_slot.h:
 * the same seqlock, the same give-up policy). A slot holds the entries of
 * as many of its keys as fit, each learned key's built from its reply;
 * a write to any of them empties the whole slot (xkv_hot_index()), so
 * invalidating that one slot is enough.
 *
 * Maps of the learning object (the loader loads and attaches it):
 *
 *   xkv_hot     the XDP object's hot cache, shared (its fd is reused).
 *   xkv_lmeta   BPF_MAP_TYPE_ARRAY: __u32 -> struct xkv_learn_slot,
 *               nslots entries, indexed like xkv_hot.
 *   xkv_locc    BPF_MAP_TYPE_ARRAY: __u32 -> __u64, nslots / 64 entries:
 *               bit (i % 64) of word (i / 64) is set while slot i may hold
 *               a learned key (so that a flush visits only those).
 *   xkv_lglob   BPF_MAP_TYPE_ARRAY, one entry: struct xkv_learn_glob.
 *   xkv_lstats  BPF_MAP_TYPE_PERCPU_ARRAY, one entry: struct
 *               xkv_learn_stats. Sum the CPUs' copies to read it.
 *   xkv_lflows  BPF_MAP_TYPE_ARRAY: the TCP streams being followed
 *               (struct xkv_learn_flow, private to the programs),
 *               nflows entries.
 *   xkv_lifs    BPF_MAP_TYPE_HASH: __u32 ifindex -> __u32 XKV_LIF_*,
 *               written by the loader only: what attaching did, so that
 *               another process can undo exactly that.
 *   xkv_lowner  BPF_MAP_TYPE_ARRAY, one entry: struct xkv_learn_owner,
 *               written by user space (xkv_learn_own()) once memcached
 *               runs: egress learns only from packets of those sockets.
 *   xkv_lreq    BPF_MAP_TYPE_LRU_HASH: struct xkv_learn_req -> struct
 *               xkv_learn_reqv: a UDP request seen at ingress, its size
 *               and the reply bytes sent (one reply learned per request).
 *   xkv_allow4, xkv_allow6, xkv_addrs: the XDP object's maps of the same
 *               names, shared (their fds are reused; the fixtures get
 *               the object's own): the UDP policy's allowlist and the
 *               interface's broadcast addresses.
 */

/* default lifetime of a learned entry: bounds what a write this host's
 * ingress never saw, or an expiry it could not know of, leaves stale */
#define XKV_LEARN_TTL_MS_DEFAULT 10000
/* default write quarantine: a slot written (or the cache flushed) this
 * recently is not learned; must exceed memcached's request latency */
#define XKV_LEARN_QUIET_MS_DEFAULT 1000
/* default number of TCP streams followed (a power of two) */
#define XKV_LEARN_FLOWS_DEFAULT 16384
/* the fewest slots the learning object takes (one occupancy word) */
#define XKV_LEARN_SLOTS_MIN 64

/* xkv_learn_config.flags */
#define XKV_LCFG_TEXT_ONLY 0x1	/* memcached speaks only the text protocol
				 * (-B ascii): a TCP stream first seen in its
				 * middle is text, not possibly binary */
#define XKV_LCFG_NO_TCP_LEARN 0x2	/* learn from UDP replies only */
#define XKV_LCFG_UDP_BY_UID 0x4	/* fixtures only: UDP replies are checked
				 * by their socket's uid, as TCP replies
				 * are, not by socket cookie (each
				 * BPF_PROG_TEST_RUN has a new socket) */
#define XKV_LCFG_UDP_POLICY 0x8	/* enforce the UDP policy memcached
				 * cannot (LEARNING.md, "The UDP policy"):
				 * drop at ingress the datagrams to the UDP
				 * port that it refuses, and at egress what
				 * answers no request or exceeds @amp_ratio */

/**
 * struct xkv_learn_config - the learning programs' settings, fixed before
 * load (the object's read-only data, like struct xkv_config).
 * @tcp_port: memcached's TCP port, host byte order; 0 = no TCP.
 * @udp_port: memcached's UDP port, host byte order; 0 = no UDP.
 * @nslots:   slots of xkv_hot (a power of two, >= XKV_LEARN_SLOTS_MIN);
 *            xkv_lmeta has as many entries, xkv_locc nslots / 64.
 * @nflows:   entries of xkv_lflows, a power of two >= 2.
 * @ttl_ms:   lifetime of a learned entry in ms (its expire_ns), >= 1.
 * @quiet_ms: write quarantine in ms: nothing is learned for a slot within
 *            @quiet_ms of a write to it, nor anywhere within @quiet_ms of
 *            a flush. It must exceed the time memcached takes to apply a
 *            request after it passed this host's ingress plus the time to
 *            send a reply after reading the value (see LEARNING.md).
 * @flags:    XKV_LCFG_*.
 * @amp_ratio: with XKV_LCFG_UDP_POLICY, the datagrams answering a UDP
 *            request add up to at most @amp_ratio x its UDP payload
 *            (frame headers included on both sides); 0 = no budget.
 */
struct xkv_learn_config {
	__u16 tcp_port;
	__u16 udp_port;
	__u32 nslots;
	__u32 nflows;
	__u32 ttl_ms;
	__u32 quiet_ms;
	__u32 flags;
	__u32 amp_ratio;
};

/**
 * struct xkv_learn_slot - what ingress saw of the keys of one slot.
 * @gen:          writes seen for keys of this slot (wraps).
 * @seen:         1 once a GET for a key of this slot was seen.
 * @req_gens:     (@gen << 32 | xkv_learn_glob.ggen) as the latest GET for
 *                a key of this slot found them.
 * @write_ns:     bpf_ktime_get_ns() of the latest write seen.
 * @vol_until_ns: a key of this slot was written with an expiry: learn
 *                nothing for the slot before this time (the latest such
 *                item's expiry, rounded up).
 */
struct xkv_learn_slot {
	__u32 gen;
	__u32 seen;
	__u64 req_gens;
	__u64 write_ns;
	__u64 vol_until_ns;
};

/**
 * struct xkv_learn_glob - state for all slots.
 * @ggen:          flushes (flush_all, or ingress unsure of a write).
 * @pad:           zero.
 * @gwrite_ns:     time of the latest flush.
 * @no_learn_until_ns: a "flush_all <delay>" is pending: learn nothing
 *                 before this time.
 */
struct xkv_learn_glob {
	__u32 ggen;
	__u32 pad;
	__u64 gwrite_ns;
	__u64 no_learn_until_ns;
};

/* most UDP sockets of memcached that xkv_learn_owner lists */
#define XKV_LEARN_SOCKS_MAX 8
/* xkv_learn_owner.flags */
#define XKV_LOWN_UID 0x1	/* @uid is set: TCP replies may be learned */

/**
 * struct xkv_learn_owner - the sockets whose replies egress may learn
 * from: memcached's, found by user space in its file table. Until it is
 * written (all zero) nothing is learned. Another local process can bind
 * memcached's UDP port too (memcached sets SO_REUSEADDR) or serve TCP on
 * that port at another address: its packets carry another socket.
 * @flags:  XKV_LOWN_*.
 * @uid:    owner of memcached's sockets (bpf_get_socket_uid()); a TCP
 *          reply is learned only from a socket of this uid (an accepted
 *          connection has its own cookie, unknown in advance).
 * @nsocks: entries used in @udp_cookie.
 * @pad:    zero.
 * @udp_cookie: socket cookies (SO_COOKIE) of memcached's UDP sockets: a
 *          UDP reply is learned only from one of them.
 */
struct xkv_learn_owner {
	__u32 flags;
	__u32 uid;
	__u32 nsocks;
	__u32 pad;
	__u64 udp_cookie[XKV_LEARN_SOCKS_MAX];
};

/* UDP requests remembered at once (xkv_lreq entries; the oldest go) */
#define XKV_LEARN_REQS 8192

/**
 * struct xkv_learn_reqv - what ingress noted of a UDP request (the value
 * of xkv_lreq).
 * @ns:      bpf_ktime_get_ns() at ingress.
 * @sent:    reply bytes sent so far (UDP payloads, frame headers
 *           included); once a datagram would pass the budget,
 *           XKV_LREQ_OVER is added: the rest of that reply is dropped.
 * @bytes:   its UDP payload, frame header included (from the UDP length:
 *           the whole datagram's, even when it came in fragments).
 * @learned: 1 once a reply to it was parsed for learning (one only).
 */
struct xkv_learn_reqv {
	__u64 ns;
	__u64 sent;
	__u32 bytes;
	__u32 learned;
};

#define XKV_LREQ_OVER (1ULL << 62)

/* xkv_lifs values */
#define XKV_LIF_ATTACHED 0x1	/* our filters are on the interface */
#define XKV_LIF_OWN_QDISC 0x2	/* and attaching created its clsact qdisc */

#endif /* XKV_ABI_LEARN_MAPS_H */
