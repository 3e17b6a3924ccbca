// SPDX-License-Identifier: GPL-2.0
/*
 * xdp_pass.c - attach an XDP program that passes every frame to an
 * interface in native mode, or one that drops a share of them at random;
 * optionally drop a share of the frames the interface sends, too.
 *
 *   xdp_pass [-p PERCENT] [-e PERCENT] IFACE   attach (outlives us)
 *   xdp_pass -n [-i PERCENT] [-e PERCENT] IFACE
 *                                              TC droppers only
 *   xdp_pass -s IFACE                          print the drop counters
 *   xdp_pass -d IFACE                          detach
 *
 * Why the tests need it: on a veth pair, a frame that native XDP on one
 * end sends with XDP_TX is only delivered if the peer end has a native
 * XDP program too (see DESIGN.md). Without -p the program is two
 * instructions, "r0 = XDP_PASS; exit".
 *
 * -p PERCENT: the XDP program drops about PERCENT % of the frames the
 * interface receives (bpf_get_prandom_u32() below a threshold) and passes
 * the rest; it counts both in a one-entry array. -e PERCENT: a TC program
 * on the interface's egress (clsact, handle 1, priority 1) does the same
 * to the frames it sends. The host kernel has no netem, so this is how
 * the tests lose segments in both directions. Attaching without -e takes
 * an earlier egress dropper off again.
 *
 * -n leaves the interface's XDP program alone (lo in the VM test, where
 * it is xkv's): -i PERCENT drops on TC ingress instead (handle 1,
 * priority 1: before xkv's filters, after XDP, so it also drops the
 * replies XDP sends, which lo loops back in), -e as above; "-n IFACE"
 * alone takes both TC droppers off. -s prints "rx: seen N, dropped M"
 * (the TC ingress dropper if there is one, else the XDP one) and "tx:
 * ..." for the droppers attached. The programs are loaded
 * straight from instructions in memory, so no BPF object or compiler is
 * involved.
 */
#include <errno.h>
#include <linux/bpf.h>
#include <linux/if_link.h>
#include <linux/pkt_cls.h>
#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

/* the egress dropper's tc filter */
#define TC_HANDLE 1
#define TC_PRIO 1

#define INSN(c, d, s, o, i)						\
	((struct bpf_insn){ .code = (c), .dst_reg = (d),		\
			    .src_reg = (s), .off = (o), .imm = (i) })

/* the counters of a dropper: its map's one value */
struct drop_count {
	__u64 seen;
	__u64 dropped;
};

static int usage(void)
{
	fprintf(stderr,
		"usage: xdp_pass [-p PERCENT] [-e PERCENT] IFACE\n"
		"       xdp_pass -n [-i PERCENT] [-e PERCENT] IFACE\n"
		"       xdp_pass -s IFACE\n"
		"       xdp_pass -d IFACE\n");
	return 2;
}

/**
 * percent_arg() - parse a drop share.
 * @s:   the argument, a number from 0 to 100 (fractions allowed)
 * @thr: set to the threshold below which a random u32 means "drop"
 *
 * Return: 0, or -EINVAL if @s is not such a number.
 */
static int percent_arg(const char *s, __u32 *thr)
{
	char *end;
	double p;

	errno = 0;
	p = strtod(s, &end);
	if (errno || end == s || *end || !(p >= 0 && p <= 100))
		return -EINVAL;
	*thr = p >= 100 ? UINT32_MAX : (__u32)(p / 100 * 4294967296.0);
	return 0;
}

/**
 * load_dropper() - load a program that drops a random share of packets.
 * @type:    BPF_PROG_TYPE_XDP or BPF_PROG_TYPE_SCHED_CLS
 * @thr:     drop when bpf_get_prandom_u32() is below this
 * @v_pass:  the program's verdict to let a packet through
 * @v_drop:  its verdict to drop one
 *
 * The program counts every packet, and every drop, in a one-entry array
 * of struct drop_count that it holds (-s finds it through the program).
 *
 * Return: the program's fd, or -errno.
 */
static int load_dropper(enum bpf_prog_type type, __u32 thr, int v_pass,
			int v_drop)
{
	int map_fd, fd, err;

	map_fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "xkv_drop", sizeof(__u32),
				sizeof(struct drop_count), 1, NULL);
	if (map_fd < 0)
		return -errno;
	{
		const struct bpf_insn insns[] = {
			/* key = 0; r0 = lookup(map, &key) */
			INSN(BPF_ST | BPF_MEM | BPF_W, BPF_REG_10, 0, -4, 0),
			INSN(BPF_LD | BPF_IMM | BPF_DW, BPF_REG_1,
			     BPF_PSEUDO_MAP_FD, 0, map_fd),
			INSN(0, 0, 0, 0, 0),
			INSN(BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_2,
			     BPF_REG_10, 0, 0),
			INSN(BPF_ALU64 | BPF_ADD | BPF_K, BPF_REG_2, 0, 0, -4),
			INSN(BPF_JMP | BPF_CALL, 0, 0, 0,
			     BPF_FUNC_map_lookup_elem),
			/* 6: no entry (cannot happen): pass, at 16 */
			INSN(BPF_JMP | BPF_JEQ | BPF_K, BPF_REG_0, 0, 9, 0),
			/* seen += 1 */
			INSN(BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_6,
			     BPF_REG_0, 0, 0),
			INSN(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_1, 0, 0, 1),
			INSN(BPF_STX | BPF_ATOMIC | BPF_DW, BPF_REG_6,
			     BPF_REG_1, 0, BPF_ADD),
			INSN(BPF_JMP | BPF_CALL, 0, 0, 0,
			     BPF_FUNC_get_prandom_u32),
			/* 11: random >= thr (unsigned 32 bit): pass, at 16 */
			INSN(BPF_JMP32 | BPF_JGE | BPF_K, BPF_REG_0, 0, 4,
			     (__s32)thr),
			/* dropped += 1; drop */
			INSN(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_1, 0, 0, 1),
			INSN(BPF_STX | BPF_ATOMIC | BPF_DW, BPF_REG_6,
			     BPF_REG_1, 8, BPF_ADD),
			INSN(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0,
			     v_drop),
			INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0),
			/* 16: pass */
			INSN(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0,
			     v_pass),
			INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0),
		};

		fd = bpf_prog_load(type, "xkv_drop", "GPL", insns,
				   sizeof(insns) / sizeof(insns[0]), NULL);
	}
	err = fd < 0 ? -errno : 0;
	close(map_fd);		/* the program holds the map */
	return err ? err : fd;
}

/* the two-instruction XDP_PASS program */
static int load_pass(void)
{
	const struct bpf_insn insns[] = {
		INSN(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, XDP_PASS),
		INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0),
	};
	int fd;

	fd = bpf_prog_load(BPF_PROG_TYPE_XDP, "xdp_pass", "GPL", insns,
			   sizeof(insns) / sizeof(insns[0]), NULL);
	return fd < 0 ? -errno : fd;
}

static void tc_hook(struct bpf_tc_hook *hook, struct bpf_tc_opts *opts,
		    int ifindex, enum bpf_tc_attach_point where)
{
	memset(hook, 0, sizeof(*hook));
	hook->sz = sizeof(*hook);
	hook->ifindex = ifindex;
	hook->attach_point = where;
	memset(opts, 0, sizeof(*opts));
	opts->sz = sizeof(*opts);
	opts->handle = TC_HANDLE;
	opts->priority = TC_PRIO;
}

/**
 * tc_set() - attach a TC dropper, or take it off.
 * @ifindex: the interface
 * @where:   BPF_TC_EGRESS or BPF_TC_INGRESS
 * @thr:     drop threshold; 0 with !@on
 * @on:      attach (replacing an earlier one) or detach
 *
 * Return: 0 or -errno.
 */
static int tc_set(int ifindex, enum bpf_tc_attach_point where, __u32 thr,
		  bool on)
{
	struct bpf_tc_hook hook;
	struct bpf_tc_opts opts;
	int fd, err;

	tc_hook(&hook, &opts, ifindex, where);
	if (!on) {
		if (bpf_tc_query(&hook, &opts))
			return 0;	/* none there */
		opts.prog_id = 0;
		opts.prog_fd = 0;
		opts.flags = 0;
		return bpf_tc_detach(&hook, &opts);
	}
	err = bpf_tc_hook_create(&hook);
	if (err && err != -EEXIST)
		return err;
	/* not TC_ACT_OK: the filters after ours (xkv's) must still run */
	fd = load_dropper(BPF_PROG_TYPE_SCHED_CLS, thr, TC_ACT_UNSPEC,
			  TC_ACT_SHOT);
	if (fd < 0)
		return fd;
	opts.prog_fd = fd;
	opts.flags = BPF_TC_F_REPLACE;
	err = bpf_tc_attach(&hook, &opts);
	close(fd);
	return err;
}

/**
 * print_count() - print one dropper's counters, found by program id.
 * @what:    "rx" or "tx"
 * @prog_id: the program, 0 for none
 *
 * Return: 0, or -errno if the program or its map cannot be read.
 */
static int print_count(const char *what, __u32 prog_id)
{
	struct bpf_prog_info info;
	struct drop_count c;
	__u32 len = sizeof(info), map_id = 0, key = 0;
	int fd, map_fd, err;

	if (!prog_id) {
		printf("%s: no program\n", what);
		return 0;
	}
	fd = bpf_prog_get_fd_by_id(prog_id);
	if (fd < 0)
		return -errno;
	memset(&info, 0, sizeof(info));
	info.nr_map_ids = 1;
	info.map_ids = (__u64)(uintptr_t)&map_id;
	err = bpf_obj_get_info_by_fd(fd, &info, &len);
	close(fd);
	if (err)
		return -errno;
	if (!info.nr_map_ids) {
		printf("%s: passes everything\n", what);
		return 0;
	}
	map_fd = bpf_map_get_fd_by_id(map_id);
	if (map_fd < 0)
		return -errno;
	err = bpf_map_lookup_elem(map_fd, &key, &c);
	close(map_fd);
	if (err)
		return -errno;
	printf("%s: seen %llu, dropped %llu (%.2f%%)\n", what,
	       (unsigned long long)c.seen, (unsigned long long)c.dropped,
	       c.seen ? 100.0 * (double)c.dropped / (double)c.seen : 0.0);
	return 0;
}

static int show(int ifindex)
{
	struct bpf_tc_hook hook;
	struct bpf_tc_opts opts;
	__u32 id = 0;
	int err;

	tc_hook(&hook, &opts, ifindex, BPF_TC_INGRESS);
	if (!bpf_tc_query(&hook, &opts))
		err = print_count("rx", opts.prog_id);
	else if (!(err = bpf_xdp_query_id(ifindex, XDP_FLAGS_DRV_MODE, &id)))
		err = print_count("rx", id);
	if (err)
		return err;
	tc_hook(&hook, &opts, ifindex, BPF_TC_EGRESS);
	return print_count("tx", bpf_tc_query(&hook, &opts) ? 0 :
			   opts.prog_id);
}

int main(int argc, char **argv)
{
	__u32 rx_thr = 0, tx_thr = 0, in_thr = 0;
	bool detach = false, stats = false, rx = false, tx = false;
	bool in = false, no_xdp = false;
	const char *ifname;
	int ifindex, fd, err, opt;

	/* looking for a tc filter that is not there is no error here */
	libbpf_set_print(NULL);
	while ((opt = getopt(argc, argv, "dsnp:e:i:")) != -1) {
		switch (opt) {
		case 'd':
			detach = true;
			break;
		case 's':
			stats = true;
			break;
		case 'p':
			rx = true;
			if (percent_arg(optarg, &rx_thr))
				return usage();
			break;
		case 'e':
			tx = true;
			if (percent_arg(optarg, &tx_thr))
				return usage();
			break;
		case 'i':
			in = true;
			if (percent_arg(optarg, &in_thr))
				return usage();
			break;
		case 'n':
			no_xdp = true;
			break;
		default:
			return usage();
		}
	}
	if (optind != argc - 1 || (detach + stats > 1) ||
	    ((detach || stats) && (rx || tx || in)) ||
	    (no_xdp && (rx || detach || stats)) || (in && !no_xdp))
		return usage();
	ifname = argv[optind];
	ifindex = (int)if_nametoindex(ifname);
	if (!ifindex) {
		fprintf(stderr, "xdp_pass: %s: %s\n", ifname, strerror(errno));
		return 1;
	}
	if (stats) {
		err = show(ifindex);
		if (err)
			fprintf(stderr, "xdp_pass: counters of %s: %s\n",
				ifname, strerror(-err));
		return err ? 1 : 0;
	}
	/* no -e, -i (or detaching): an earlier TC dropper goes */
	err = tc_set(ifindex, BPF_TC_EGRESS, tx_thr, tx);
	if (!err)
		err = tc_set(ifindex, BPF_TC_INGRESS, in_thr, in);
	if (err) {
		fprintf(stderr, "xdp_pass: TC dropper on %s: %s\n", ifname,
			strerror(-err));
		return 1;
	}
	if (no_xdp)
		return 0;
	if (detach) {
		err = bpf_xdp_detach(ifindex, XDP_FLAGS_DRV_MODE, NULL);
		if (err)
			fprintf(stderr, "xdp_pass: detach %s: %s\n", ifname,
				strerror(-err));
		return err ? 1 : 0;
	}
	fd = rx ? load_dropper(BPF_PROG_TYPE_XDP, rx_thr, XDP_PASS, XDP_DROP) :
		  load_pass();
	if (fd < 0) {
		fprintf(stderr, "xdp_pass: load: %s\n", strerror(-fd));
		return 1;
	}
	err = bpf_xdp_attach(ifindex, fd, XDP_FLAGS_DRV_MODE, NULL);
	close(fd);
	if (err) {
		fprintf(stderr, "xdp_pass: attach %s (native): %s\n", ifname,
			strerror(-err));
		return 1;
	}
	return 0;
}
