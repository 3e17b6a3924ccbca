// SPDX-License-Identifier: GPL-2.0
/*
 * store_stub.bpf.c - the XDP store path's program (bpf/xkv_store.bpf.c)
 * with its kfunc replaced by a BPF stub, so that a kernel without xkv.ko
 * (this machine's: no loadable modules) can verify it and say what it
 * costs the verifier (make -f mk/bpf.mk store-stats). Not loaded anywhere
 * else: the stub answers nothing real.
 *
 * The stub returns an unknown length (or error) and unknown results, as
 * the kfunc does to the verifier; it is a static subprogram, walked at
 * each of its call sites, a few instructions each.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

/* the kfunc's declaration becomes the stub's */
#undef __ksym
#define __ksym
#define xkv_xdp_store_get xkv_stub_store_get

/* a TCP port, so that the verifier walks xkv_store_tcp (0 prunes it) */
#define XKV_CFG_TCP_PORT_DEFAULT 11211

struct xkv_kf_get;
static __attribute__((noinline)) int
xkv_stub_store_get(const __u8 *key, __u32 key__sz, __u8 *out, __u32 out__sz,
		   struct xkv_kf_get *arg);

#include "xkv_store.bpf.c"

static __attribute__((noinline)) int
xkv_stub_store_get(const __u8 *key, __u32 key__sz, __u8 *out, __u32 out__sz,
		   struct xkv_kf_get *arg)
{
	__u32 r = bpf_get_prandom_u32();

	arg->sum = r & 0xffff;
	arg->line = r >> 20;
	arg->state = r & XKV_KF_KEY_B64;
	arg->cas = r;
	out[0] = key[0];
	return (int)(r & 0xfff) - 8;
}
