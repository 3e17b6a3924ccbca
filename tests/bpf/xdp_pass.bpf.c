// SPDX-License-Identifier: GPL-2.0
/*
 * xdp_pass.bpf.c - an XDP program that passes everything. On a veth, a
 * frame sent with XDP_TX by the peer is only delivered when this side has
 * a native XDP program too; the namespace tests put this one on the
 * client's end.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

SEC("xdp")
int xdp_pass(struct xdp_md *ctx)
{
	return XDP_PASS;
}
