// SPDX-License-Identifier: GPL-2.0
/*
 * learn_tool.c - a small loader for the learning-mode network test
 * (tests/net/learn_memcached.sh): what the xkv CLI does for
 * "--backend memcached", through loader/learn_attach.h, with each step a
 * separate process so that state must survive in pins and filters.
 *
 *   xkv-learn-tool up IFACE PIN_DIR [--port N] [--mode native|generic]
 *                  [--ttl MS] [--quiet MS] [--text-only] [--pid PID]
 *       load the XDP program (answers any source) and the learning
 *       programs sharing its hot cache, attach both to IFACE, pin the
 *       maps in PIN_DIR (a directory on the bpffs), exit; learning
 *       trusts the replies of process PID's sockets (memcached's), of
 *       none without --pid
 *   xkv-learn-tool down IFACE PIN_DIR
 *       detach both, remove the pins
 *   xkv-learn-tool stats PIN_DIR
 *       "name value" lines: XDP counters (xdp_*) and learning counters
 *   xkv-learn-tool slot PIN_DIR KEY
 *       what the hot cache holds for KEY
 *
 * Exit status 0 on success, 1 on failure (with a message on stderr).
 */
#include <errno.h>
#include <getopt.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_link.h>

#include "xkv_slot.h"
#include "xkv_config.h"
#include "xkv_live.h"
#include "xkv_stats.h"
#include "xkv_learn_maps.h"
#include "xkv_learn_stats.h"
#include "counters.h"
#include "learn_attach.h"
#include "xkv.skel.h"
#include "xkv_learn.skel.h"

#define NSLOTS 1024

static int fail(const char *what, int err)
{
	fprintf(stderr, "xkv-learn-tool: %s: %s\n", what, strerror(-err));
	return 1;
}

static int pin(struct bpf_map *m, const char *dir, const char *name)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return bpf_map__pin(m, path);
}

static int pinned(const char *dir, const char *name)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return bpf_obj_get(path);
}

static void unpin(const char *dir, const char *name)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	unlink(path);
}

static const char *const pins[] = { "xkv_hot", "xkv_stats", "xkv_lstats",
				    "xkv_lifs", "xkv_lmeta", "xkv_lglob" };

static int cmd_up(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "port", required_argument, NULL, 'p' },
		{ "mode", required_argument, NULL, 'm' },
		{ "ttl", required_argument, NULL, 't' },
		{ "quiet", required_argument, NULL, 'q' },
		{ "text-only", no_argument, NULL, 'T' },
		{ "pid", required_argument, NULL, 'P' },
		{ NULL, 0, NULL, 0 },
	};
	/* on a veth: its local senders' partial checksums are fine */
	struct xkv_config cfg = {
		.port = 11211,
		.flags = XKV_CFG_ALLOW_ANY | XKV_CFG_CSUM_PARTIAL,
		.nslots = NSLOTS,
		.max_reply = XKV_UDP_PAYLOAD_DEFAULT,
	};
	struct xkv_live forever = { .until_ns = ~0ULL };
	struct xkv_learn_opts lo = XKV_LEARN_OPTS_INIT;
	__u32 xflags = XDP_FLAGS_DRV_MODE | XDP_FLAGS_UPDATE_IF_NOEXIST;
	struct xkv_learn *l = NULL;
	struct xkv *x;
	const char *ifname, *dir;
	int c, err, ifindex, port = 11211, pid = 0;

	optind = 3;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			port = atoi(optarg);
			break;
		case 'm':
			if (!strcmp(optarg, "generic"))
				xflags = XDP_FLAGS_SKB_MODE |
					 XDP_FLAGS_UPDATE_IF_NOEXIST;
			break;
		case 't':
			lo.ttl_ms = atoi(optarg);
			break;
		case 'q':
			lo.quiet_ms = atoi(optarg);
			break;
		case 'T':
			lo.flags |= XKV_LCFG_TEXT_ONLY;
			break;
		case 'P':
			pid = atoi(optarg);
			break;
		default:
			return 1;
		}
	}
	ifname = argv[1];
	dir = argv[2];
	ifindex = (int)if_nametoindex(ifname);
	if (!ifindex)
		return fail(ifname, -errno);
	mkdir(dir, 0700);

	cfg.port = (__u16)port;
	x = xkv__open();
	if (!x)
		return fail("open the XDP object", -errno);
	memcpy((void *)&x->rodata->xkv_cfg, &cfg, sizeof(cfg));
	err = bpf_map__set_max_entries(x->maps.xkv_hot, NSLOTS);
	if (!err)
		err = xkv__load(x);
	if (err)
		return fail("load the XDP program", err);
	/* no watcher here: the memcached of the test lives as long as XDP */
	if (bpf_map_update_elem(bpf_map__fd(x->maps.xkv_live), &(__u32){ 0 },
				&forever, BPF_ANY))
		return fail("start the backend's lease", -errno);

	lo.tcp_port = lo.udp_port = port;
	lo.nslots = NSLOTS;
	lo.hot_fd = bpf_map__fd(x->maps.xkv_hot);
	l = xkv_learn_load(&lo, &err);
	if (!l)
		return fail("load the learning programs", err);
	if (pid) {
		err = xkv_learn_own(bpf_map__fd(l->maps.xkv_lowner), pid, port,
				    port, NULL);
		if (err < 0)
			return fail("find memcached's sockets", err);
	}

	err = pin(x->maps.xkv_hot, dir, "xkv_hot");
	if (!err)
		err = pin(x->maps.xkv_stats, dir, "xkv_stats");
	if (!err)
		err = pin(l->maps.xkv_lstats, dir, "xkv_lstats");
	if (!err)
		err = pin(l->maps.xkv_lifs, dir, "xkv_lifs");
	if (!err)
		err = pin(l->maps.xkv_lmeta, dir, "xkv_lmeta");
	if (!err)
		err = pin(l->maps.xkv_lglob, dir, "xkv_lglob");
	if (err)
		return fail("pin the maps", err);

	err = bpf_xdp_attach(ifindex, bpf_program__fd(x->progs.xkv_xdp),
			     xflags, NULL);
	if (err)
		return fail("attach XDP", err);
	err = xkv_learn_attach(l, ifindex);
	if (err) {
		bpf_xdp_detach(ifindex, 0, NULL);
		return fail("attach the learning programs", err);
	}
	printf("attached XDP (%s) and learning to %s\n",
	       xflags & XDP_FLAGS_SKB_MODE ? "generic" : "native", ifname);
	xkv_learn_close(l);
	xkv__destroy(x);
	return 0;
}

static int cmd_down(int argc, char **argv)
{
	int ifindex, lifs, err;
	unsigned int i;

	if (argc < 4)
		return 1;
	ifindex = (int)if_nametoindex(argv[2]);
	if (!ifindex)
		return fail(argv[2], -errno);
	lifs = pinned(argv[3], "xkv_lifs");
	/* whichever mode it is in */
	err = bpf_xdp_detach(ifindex, XDP_FLAGS_DRV_MODE, NULL);
	if (!err)
		err = bpf_xdp_detach(ifindex, XDP_FLAGS_SKB_MODE, NULL);
	if (err)
		fail("detach XDP", err);
	err = xkv_learn_detach(ifindex, lifs);
	if (err)
		return fail("detach the learning programs", err);
	for (i = 0; i < sizeof(pins) / sizeof(pins[0]); i++)
		unpin(argv[3], pins[i]);
	rmdir(argv[3]);
	printf("detached from %s\n", argv[2]);
	return 0;
}

static int cmd_stats(int argc, char **argv)
{
	__u64 sum[XKV_STAT_NR], lsum[XKV_LSTAT_NR];
	int fd, i;

	if (argc < 3)
		return 1;
	fd = pinned(argv[2], "xkv_stats");
	if (fd < 0 || xkv_counters_read(fd, sum, XKV_STAT_NR))
		return fail("read xkv_stats", -errno);
	for (i = 0; i < XKV_STAT_NR; i++)
		printf("xdp_%s %llu\n", xkv_counters[i].name,
		       (unsigned long long)sum[i]);
	fd = pinned(argv[2], "xkv_lstats");
	if (fd < 0 || xkv_counters_read(fd, lsum, XKV_LSTAT_NR))
		return fail("read xkv_lstats", -errno);
	for (i = 0; i < XKV_LSTAT_NR; i++)
		printf("%s %llu\n", xkv_learn_counters[i].name,
		       (unsigned long long)lsum[i]);
	return 0;
}

static int cmd_slot(int argc, char **argv)
{
	size_t len = (size_t)NSLOTS * sizeof(struct xkv_slot), klen;
	__u32 hash, line, vlen;
	struct xkv_hot_ent *ent;
	struct xkv_slot *hot, *s;
	int fd, off;

	if (argc < 4)
		return 1;
	fd = pinned(argv[2], "xkv_hot");
	if (fd < 0)
		return fail("open xkv_hot", -errno);
	hot = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
	if (hot == MAP_FAILED)
		return fail("mmap xkv_hot", -errno);
	klen = strlen(argv[3]);
	hash = xkv_hot_hash(argv[3], (__u32)klen);
	s = &hot[xkv_hot_index(hash, NSLOTS)];
	off = xkv_slot_find(s, hash, argv[3], (__u32)klen);
	if (off < 0) {
		printf("empty\n");
		return 0;
	}
	ent = xkv_slot_ent(s, (__u32)off);
	/* the body: "VALUE <key> <flags> <bytes>\r\n<data>\r\n" */
	line = ent->line_len;
	vlen = ent->body_len - line - 4;
	printf("key=%.*s value=%.*s flags=%lu cas=%llu%s\n", (int)klen,
	       (const char *)ent->body + 6, (int)vlen,
	       (const char *)ent->body + line + 2,
	       strtoul((const char *)ent->body + 6 + klen, NULL, 10),
	       (unsigned long long)ent->cas,
	       ent->xflags & XKV_SLOT_F_NO_CAS ? " (cas unknown)" : "");
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 3 && !strcmp(argv[1], "up"))
		return cmd_up(argc - 1, argv + 1);
	if (argc >= 4 && !strcmp(argv[1], "down"))
		return cmd_down(argc, argv);
	if (argc >= 3 && !strcmp(argv[1], "stats"))
		return cmd_stats(argc, argv);
	if (argc >= 4 && !strcmp(argv[1], "slot"))
		return cmd_slot(argc, argv);
	fprintf(stderr, "usage: xkv-learn-tool up IFACE PIN_DIR [opts] | "
		"down IFACE PIN_DIR | stats PIN_DIR | slot PIN_DIR KEY\n");
	return 2;
}
