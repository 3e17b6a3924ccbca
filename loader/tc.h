/* SPDX-License-Identifier: GPL-2.0 */
/*
 * tc.h - libbpf's TC hook and filter descriptions, filled the one way
 * the loader's two users of clsact filters need them: the learning
 * programs (learn_attach.c) and the TCP fast path (tcpfast.c).
 */
#ifndef XKV_LOADER_TC_H
#define XKV_LOADER_TC_H

#include <errno.h>
#include <string.h>
#include <bpf/libbpf.h>

/**
 * xkv_tc_hook_init() - describe a clsact hook.
 * @h:       the description to fill
 * @ifindex: the interface
 * @where:   BPF_TC_INGRESS, BPF_TC_EGRESS, or both (the qdisc itself)
 */
static inline void xkv_tc_hook_init(struct bpf_tc_hook *h, int ifindex,
				    enum bpf_tc_attach_point where)
{
	memset(h, 0, sizeof(*h));
	h->sz = sizeof(*h);
	h->ifindex = ifindex;
	h->attach_point = where;
}

/**
 * xkv_tc_opts_init() - describe one filter on a hook.
 * @t:       the description to fill
 * @handle:  the filter's handle
 * @prio:    its priority
 * @prog_fd: the program to attach, 0 to query or detach
 */
static inline void xkv_tc_opts_init(struct bpf_tc_opts *t, __u32 handle,
				    __u32 prio, int prog_fd)
{
	memset(t, 0, sizeof(*t));
	t->sz = sizeof(*t);
	t->handle = handle;
	t->priority = prio;
	t->prog_fd = prog_fd;
}

/**
 * xkv_tc_qdisc_destroy() - remove an interface's clsact qdisc, with every
 * filter on it.
 * @ifindex: the interface
 *
 * Return: 0 (no such qdisc is no error), or -errno.
 */
static inline int xkv_tc_qdisc_destroy(int ifindex)
{
	struct bpf_tc_hook h;
	int err;

	xkv_tc_hook_init(&h, ifindex, BPF_TC_INGRESS | BPF_TC_EGRESS);
	err = bpf_tc_hook_destroy(&h);
	return err == -ENOENT || err == -EINVAL ? 0 : err;
}

#endif /* XKV_LOADER_TC_H */
