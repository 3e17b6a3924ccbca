// SPDX-License-Identifier: GPL-2.0
/*
 * xdp_pass.c - attach an XDP program that passes every frame to an
 * interface in native mode, or take it off again.
 *
 *   xdp_pass IFACE        attach (native mode; the attach outlives us)
 *   xdp_pass -d IFACE     detach
 *
 * Why the tests need it: on a veth pair, a frame that native XDP on one
 * end sends with XDP_TX is only delivered if the peer end has a native
 * XDP program too (see DESIGN.md). The program is two instructions,
 * "r0 = XDP_PASS; exit", loaded straight from memory, so no BPF object or
 * compiler is involved.
 */
#include <errno.h>
#include <linux/bpf.h>
#include <linux/if_link.h>
#include <net/if.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

static int usage(void)
{
	fprintf(stderr, "usage: xdp_pass [-d] IFACE\n");
	return 2;
}

int main(int argc, char **argv)
{
	const struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0,
		  .imm = XDP_PASS },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	bool detach = argc == 3 && !strcmp(argv[1], "-d");
	const char *ifname = argv[argc - 1];
	unsigned int ifindex;
	int fd, err;

	if (argc != 2 && !detach)
		return usage();
	ifindex = if_nametoindex(ifname);
	if (!ifindex) {
		fprintf(stderr, "xdp_pass: %s: %s\n", ifname, strerror(errno));
		return 1;
	}
	if (detach) {
		err = bpf_xdp_detach((int)ifindex, XDP_FLAGS_DRV_MODE, NULL);
		if (err)
			fprintf(stderr, "xdp_pass: detach %s: %s\n", ifname,
				strerror(-err));
		return err ? 1 : 0;
	}
	fd = bpf_prog_load(BPF_PROG_TYPE_XDP, "xdp_pass", "GPL", insns,
			   sizeof(insns) / sizeof(insns[0]), NULL);
	if (fd < 0) {
		fprintf(stderr, "xdp_pass: load: %s\n", strerror(errno));
		return 1;
	}
	err = bpf_xdp_attach((int)ifindex, fd, XDP_FLAGS_DRV_MODE, NULL);
	close(fd);
	if (err) {
		fprintf(stderr, "xdp_pass: attach %s (native): %s\n", ifname,
			strerror(-err));
		return 1;
	}
	return 0;
}
