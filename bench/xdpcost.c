// SPDX-License-Identifier: GPL-2.0
/*
 * xdpcost.c - what the XDP hot tier costs per packet, and the floor
 * program bench/compare puts on an interface.
 *
 *   xdpcost cost [-n CALLS] [-r ROUNDS] [-k KEYLEN] [-v VALLEN] [-j]
 *   xdpcost spread [-K KEYS] [-s SLOTS] [-z S] [-n GETS] [-r ROUNDS] [-j]
 *   xdpcost mem [-R LIST] [-n CALLS] [-p READS] [-r ROUNDS] [-j]
 *   xdpcost attach IFACE [-p PORT] [-m native|generic]
 *   xdpcost detach IFACE
 *
 * cost: loads the hot tier (build/bpf/xkv.o, through its skeleton) the way
 * "xkv up" configures it (allowlist on, a client prefix allowed), installs
 * one key in the hot cache through the map's mmap()ed memory with the
 * slot seqlock of xkv_slot.h, and times, through BPF_PROG_TEST_RUN, one
 * IPv4 memcached UDP "get" frame through:
 *
 *   tx       a program that only returns XDP_TX (bench/floor.bpf.c)
 *   reflect  the bare reflector: swap MACs, IPs, ports, XDP_TX
 *   floor    the floor: answer the GET with "END", checksums and all
 *   hit      the hot tier, the key cached: the VALUE reply, XDP_TX
 *   miss     the hot tier, the key not cached: XDP_PASS
 *
 * Methods (see DESIGN.md, "Measuring the hot tier"):
 *
 *   per call  one run per BPF_PROG_TEST_RUN call (repeat = 1), so every
 *             run starts from the request the caller passed in; the
 *             kernel's duration of each call averaged over CALLS calls.
 *             The one method valid for every program, the primary one.
 *             Includes the kernel's timer reads around a single run.
 *   repeat    one call with repeat = CALLS: only valid for programs that
 *             leave the frame as they found it or swap it back and forth
 *             (tx, reflect, miss). per call - repeat of the same program
 *             is the timer overhead in the per-call figures.
 *   live      BPF_F_TEST_XDP_LIVE_FRAMES, repeat = CALLS, batches of 64,
 *             in a network namespace of our own (XDP_TX becomes a
 *             redirect to its loopback device, which fails, and the frame
 *             is dropped: the same for every program). The kernel
 *             recycles a frame's page without rewriting its content, so a
 *             program that rewrites the request would see its own reply
 *             on later runs: every program is therefore run behind
 *             xdp_restore (bench/floor.bpf.c), which writes the request
 *             back and tail-calls it; "tx" there is the wrapper's own
 *             cost. The hot tier's counters must show one reply per run,
 *             or the figure is refused. Without the wrapper, the share of
 *             live runs that were hits is printed as "unwrapped_hit_share"
 *             to show the trap.
 *
 * Each method runs ROUNDS times, the programs interleaved in each round;
 * the median round is reported, with the smallest and largest. Every run
 * is checked: the verdict must be the expected one, and the hit's reply
 * must carry the value.
 *
 * spread (bench/xdpspread.c): a hit's cost with the workload's keys spread
 * over the hot cache. mem (bench/xdpmem.c): a cold element read's cost in
 * vmalloc'ed map memory against the direct map's.
 *
 * attach: loads xdp_floor with PORT (default 11211) and attaches it to
 * IFACE in native mode, falling back to generic unless -m says which; the
 * attachment outlives the process. Prints the mode used. detach removes
 * whatever XDP program IFACE has.
 *
 * Exit status: 0 ok, 1 a measurement or attach failed, 2 bad usage.
 * Needs root (CAP_BPF, CAP_NET_ADMIN, CAP_SYS_ADMIN for the namespace).
 */
#include <errno.h>
#include <getopt.h>
#include <linux/if_link.h>
#include <net/if.h>
#include <sched.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>

#include "pkt.h"
#include "xkv_config.h"
#include "xkv_live.h"
#include "xkv_stats.h"
#include "xkv_policy.h"
#include "xkv_slot.h"	/* before the skeleton: it names our types */
#include "xkv.skel.h"
#include "floor.skel.h"
#include "xdpcost.h"

/* --- frames ------------------------------------------------------------- */

static const __u8 ip_client[4] = { 10, 123, 0, 2 };
static const __u8 ip_server[4] = { 10, 123, 0, 1 };

/**
 * frame_get() - an IPv4 memcached UDP request from the client to the
 * server (DF set, both checksums right, request id 1, one datagram)
 * carrying @text, built by the XDP fixtures' tests/bpf/pkt.c.
 * @f:    the frame
 * @text: the request, "get <key>\r\n" say
 */
void frame_get(struct pkt *f, const char *text)
{
	const struct pkt_opts o = {
		.src = ip_client,
		.dst = ip_server,
		.dport = COST_PORT,
		.frag = 0x4000,
		.id = 1,
	};

	pkt_request(f, &o, text, strlen(text));
}

/* --- the hot tier, loaded as xkv up loads it --------------------------- */

/**
 * hot_open() - load the hot tier as "xkv up" configures it: allowlist on
 * with the client's /24, a backend lease that never runs out, @nslots
 * slots mapped into @h->slots.
 * @h:      filled in; hot_close() it whatever this returns
 * @nslots: hot cache slots, a power of two
 *
 * Return: 0 or -errno.
 */
int hot_open(struct hot *h, __u32 nslots)
{
	struct xkv_config cfg = {
		.port = COST_PORT,
		.nslots = nslots,
		.max_reply = XKV_UDP_PAYLOAD_DEFAULT,
		.amp_ratio = 64,	/* xkv up's default budget */
	};
	struct xkv_lpm4 pfx = { .prefixlen = 24 };
	struct xkv_live forever = { .until_ns = ~0ULL };
	long page = sysconf(_SC_PAGESIZE);
	__u32 one = 1, zero = 0;
	int err;

	memset(h, 0, sizeof(*h));
	h->nslots = nslots;
	h->skel = xkv__open();
	if (!h->skel)
		return -errno;
	memcpy((void *)&h->skel->rodata->xkv_cfg, &cfg, sizeof(cfg));
	err = bpf_map__set_max_entries(h->skel->maps.xkv_hot, nslots);
	if (!err)
		err = xkv__load(h->skel);
	if (err)
		return err;
	/* a backend that never dies: the cost of the lease check is kept */
	if (bpf_map_update_elem(bpf_map__fd(h->skel->maps.xkv_live), &zero,
				&forever, BPF_ANY))
		return -errno;
	h->prog_fd = bpf_program__fd(h->skel->progs.xkv_xdp);
	h->stats_fd = bpf_map__fd(h->skel->maps.xkv_stats);
	h->ncpus = libbpf_num_possible_cpus();
	if (h->ncpus <= 0)
		return -EINVAL;
	/* the client's /24, as xkv up allows the interface's subnets */
	memcpy(pfx.addr, ip_client, 3);
	err = bpf_map_update_elem(bpf_map__fd(h->skel->maps.xkv_allow4), &pfx,
				  &one, BPF_ANY);
	if (err)
		return -errno;
	h->map_len = (size_t)nslots * sizeof(struct xkv_slot);
	h->map_len = (h->map_len + (size_t)page - 1) / (size_t)page *
		     (size_t)page;
	h->slots = mmap(NULL, h->map_len, PROT_READ | PROT_WRITE, MAP_SHARED,
			bpf_map__fd(h->skel->maps.xkv_hot), 0);
	if (h->slots == MAP_FAILED) {
		h->slots = NULL;
		return -errno;
	}
	return 0;
}

/**
 * hot_close() - undo hot_open().
 * @h: what hot_open() filled in, even in part
 */
void hot_close(struct hot *h)
{
	if (h->slots)
		munmap(h->slots, h->map_len);
	xkv__destroy(h->skel);
}

/**
 * hot_install() - install @key -> @val in its slot, with the slot seqlock,
 * after the entries already there.
 * @h:   the hot tier
 * @key: the key, a C string
 * @val: the value, a C string
 *
 * Return: 0, or -ENOSPC when the entry does not fit its slot.
 */
int hot_install(struct hot *h, const char *key, const char *val)
{
	__u32 klen = (__u32)strlen(key), vlen = (__u32)strlen(val);
	__u32 hash = xkv_hot_hash(key, klen), seq;
	struct xkv_slot *s;
	int in;

	s = &h->slots[xkv_hot_index(hash, h->nslots)];
	/* the bench owns its map: nobody else holds a slot */
	if (!xkv_slot_take(s, &seq))
		return -EBUSY;
	in = xkv_slot_put(s, hash, key, klen, val, vlen, 0, 1, 0, 0);
	xkv_slot_unlock(s, seq);
	return in ? 0 : -ENOSPC;
}

/**
 * hot_stat() - one counter of the hot tier, summed over CPUs.
 * @h:   the hot tier
 * @id:  the counter
 * @val: its sum
 *
 * Return: 0 or -errno.
 */
int hot_stat(struct hot *h, enum xkv_stat_id id, __u64 *val)
{
	struct xkv_stats *per;
	__u32 zero = 0;
	int cpu, err;

	per = calloc((size_t)h->ncpus, sizeof(*per));
	if (!per)
		return -ENOMEM;
	err = bpf_map_lookup_elem(h->stats_fd, &zero, per) ? -errno : 0;
	*val = 0;
	for (cpu = 0; !err && cpu < h->ncpus; cpu++)
		*val += ((__u64 *)&per[cpu])[id];
	free(per);
	return err;
}

/* --- timing ------------------------------------------------------------- */

static const char *const method_name[M_NR] = { "per_call", "repeat", "live" };

enum prog_id { P_TX, P_REFLECT, P_FLOOR, P_HIT, P_MISS, P_NR };

static const char *const prog_name[P_NR] = {
	"tx", "reflect", "floor", "hit", "miss"
};

struct result {
	double ns[ROUNDS_MAX];
	int n;
};

/**
 * verdict() - an XDP verdict's name.
 * @v: XDP_ABORTED .. XDP_REDIRECT
 *
 * Return: its name, or "?".
 */
const char *verdict(__u32 v)
{
	static const char *const names[] = { "XDP_ABORTED", "XDP_DROP",
					     "XDP_PASS", "XDP_TX",
					     "XDP_REDIRECT" };

	return v < 5 ? names[v] : "?";
}

/**
 * time_per_call() - @calls runs of @t, one per BPF_PROG_TEST_RUN call.
 * @t:     the program, its request, the verdict and reply text wanted
 * @calls: how many
 * @ns:    the kernel's mean duration of a run
 *
 * Every run's verdict is checked, the first one's reply for @t->want_text.
 *
 * Return: 0, -errno, or -EPROTO after saying what was wrong on stderr.
 */
int time_per_call(const struct target *t, int calls, double *ns)
{
	static __u8 out[FRAME_MAX + 256];
	__u64 total = 0;
	int i;

	for (i = 0; i < calls; i++) {
		LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = t->in->b,
			    .data_size_in = t->in->len, .data_out = out,
			    .data_size_out = sizeof(out), .repeat = 1);

		if (bpf_prog_test_run_opts(t->fd, &o))
			return -errno;
		if (o.retval != t->want) {
			fprintf(stderr, "xdpcost: verdict %s, expected %s\n",
				verdict(o.retval), verdict(t->want));
			return -EPROTO;
		}
		if (t->want_text && i == 0 &&
		    !memmem(out, o.data_size_out, t->want_text,
			    strlen(t->want_text))) {
			fprintf(stderr, "xdpcost: reply lacks \"%s\"\n",
				t->want_text);
			return -EPROTO;
		}
		total += o.duration;
	}
	*ns = (double)total / calls;
	return 0;
}

static int time_repeat(const struct target *t, int calls, __u32 flags,
		       double *ns)
{
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = t->in->b,
		    .data_size_in = t->in->len, .repeat = calls,
		    .flags = flags);
	int fd = t->fd;
	__u32 zero = 0;

	if (flags) {
		o.batch_size = 64;
		if (t->wrap_fd >= 0) {
			/* live: run behind xdp_restore */
			memcpy(t->fl->bss->restore_frame, t->in->b,
			       t->in->len);
			t->fl->bss->restore_len = t->in->len;
			if (bpf_map_update_elem(t->next_fd, &zero, &t->fd,
						BPF_ANY))
				return -errno;
			fd = t->wrap_fd;
		}
	}
	if (bpf_prog_test_run_opts(fd, &o))
		return -errno;
	if (!flags && o.retval != t->want) {
		fprintf(stderr, "xdpcost: repeat: verdict %s, expected %s\n",
			verdict(o.retval), verdict(t->want));
		return -EPROTO;
	}
	*ns = o.duration;
	return 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/**
 * median() - the median of @n (1..ROUNDS_MAX) values, with their extremes.
 * @v:  the values, left as they are
 * @n:  how many
 * @lo: the smallest
 * @hi: the largest
 *
 * Return: the median.
 */
double median(const double *v, int n, double *lo, double *hi)
{
	double s[ROUNDS_MAX];

	memcpy(s, v, sizeof(*v) * (size_t)n);
	qsort(s, (size_t)n, sizeof(*s), cmp_double);
	*lo = s[0];
	*hi = s[n - 1];
	return n & 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

/* --- cost --------------------------------------------------------------- */

struct cost_opts {
	int calls;
	int rounds;
	int klen;
	int vlen;
	bool json;
	double unwrapped_share;	/* live hits without xdp_restore */
};

static int libbpf_quiet(enum libbpf_print_level level, const char *fmt,
			va_list ap)
{
	if (level == LIBBPF_WARN)
		return vfprintf(stderr, fmt, ap);
	return 0;
}

/**
 * make_key() - the key of length @len the benchmark would use: "key:",
 * zeros, then @id's digits.
 * @key: room for @len + 1 bytes
 * @len: 5..XKV_HOT_KEY_MAX, enough for @id's digits after "key:"
 * @id:  which key
 */
void make_key(char *key, int len, unsigned int id)
{
	char digits[32];
	int i, n;

	n = snprintf(digits, sizeof(digits), "%u", id);
	memcpy(key, "key:", 4);
	for (i = 4; i < len; i++)
		key[i] = '0';
	memcpy(key + len - n, digits, (size_t)n);
	key[len] = 0;
}

static void print_cost(const struct cost_opts *co,
		       struct result res[M_NR][P_NR],
		       struct target tg[P_NR])
{
	double lo, hi, med[M_NR][P_NR] = { { 0 } };
	int m, p;

	for (m = 0; m < M_NR; m++)
		for (p = 0; p < P_NR; p++)
			if (res[m][p].n)
				med[m][p] = median(res[m][p].ns, res[m][p].n,
						   &lo, &hi);
	if (!co->json) {
		printf("XDP cost per packet, ns (median of %d rounds of %d; "
		       "%d-byte key, %d-byte value)\n", co->rounds, co->calls,
		       co->klen, co->vlen);
		printf("%-8s", "program");
		for (m = 0; m < M_NR; m++)
			printf(" %22s", method_name[m]);
		printf("\n");
		for (p = 0; p < P_NR; p++) {
			printf("%-8s", prog_name[p]);
			for (m = 0; m < M_NR; m++) {
				if (!res[m][p].n) {
					printf(" %22s", "-");
					continue;
				}
				median(res[m][p].ns, res[m][p].n, &lo, &hi);
				printf(" %8.1f [%5.0f-%5.0f]", med[m][p], lo,
				       hi);
			}
			printf("\n");
		}
		printf("live frames without xdp_restore: %.3f of \"hit\" "
		       "runs were hits (pages are recycled unrewritten)\n",
		       co->unwrapped_share);
		printf("hit / reflect (per call): %.2fx\n",
		       med[M_CALL][P_HIT] / med[M_CALL][P_REFLECT]);
		printf("miss / reflect (per call): %.2fx\n",
		       med[M_CALL][P_MISS] / med[M_CALL][P_REFLECT]);
		if (res[M_LIVE][P_HIT].n && res[M_LIVE][P_REFLECT].n)
			printf("hit / reflect (live): %.2fx\n",
			       med[M_LIVE][P_HIT] / med[M_LIVE][P_REFLECT]);
		return;
	}
	printf("{\"tool\":\"xdpcost\",\"calls\":%d,\"rounds\":%d,"
	       "\"key_len\":%d,\"value_len\":%d", co->calls, co->rounds,
	       co->klen, co->vlen);
	for (m = 0; m < M_NR; m++) {
		bool first = true;

		printf(",\"%s\":{", method_name[m]);
		for (p = 0; p < P_NR; p++) {
			if (!res[m][p].n)
				continue;
			median(res[m][p].ns, res[m][p].n, &lo, &hi);
			printf("%s\"%s\":{\"ns\":%.1f,\"min\":%.1f,"
			       "\"max\":%.1f", first ? "" : ",", prog_name[p],
			       med[m][p], lo, hi);
			printf("}");
			first = false;
		}
		printf("}");
	}
	printf(",\"unwrapped_hit_share\":%.4f}\n", co->unwrapped_share);
	(void)tg;
}

static int cmd_cost(struct cost_opts *co)
{
	static struct result res[M_NR][P_NR];
	static struct pkt get_hit, get_miss;
	struct target tg[P_NR];
	char key[256], key2[256], val[2048], req[600];
	struct floor *fl = NULL;
	__u64 before, after;
	struct hot h;
	int err, r, m, p;
	double ns;

	if (unshare(CLONE_NEWNET)) {
		fprintf(stderr, "xdpcost: unshare(CLONE_NEWNET): %s\n",
			strerror(errno));
		return 1;
	}
	err = hot_open(&h, COST_NSLOTS);
	if (err) {
		fprintf(stderr, "xdpcost: cannot load the hot tier: %s\n",
			strerror(-err));
		hot_close(&h);
		return 1;
	}
	fl = floor__open();
	if (!fl) {
		err = -errno;
		goto out;
	}
	fl->rodata->floor_port = COST_PORT;
	err = floor__load(fl);
	if (err)
		goto out;

	make_key(key, co->klen, 42);
	make_key(key2, co->klen, 43);
	memset(val, 'v', (size_t)co->vlen);
	val[co->vlen] = 0;
	err = hot_install(&h, key, val);
	if (err)
		goto out;
	snprintf(req, sizeof(req), "get %s\r\n", key);
	frame_get(&get_hit, req);
	snprintf(req, sizeof(req), "get %s\r\n", key2);
	frame_get(&get_miss, req);

	memset(tg, 0, sizeof(tg));
	/* the trap first: live frames without the wrapper */
	tg[P_HIT] = (struct target){ .fd = h.prog_fd, .in = &get_hit,
				     .wrap_fd = -1 };
	err = hot_stat(&h, XKV_STAT_replies, &before);
	if (!err)
		err = time_repeat(&tg[P_HIT], co->calls,
				  BPF_F_TEST_XDP_LIVE_FRAMES, &ns);
	if (!err)
		err = hot_stat(&h, XKV_STAT_replies, &after);
	if (err)
		goto out;
	co->unwrapped_share = (double)(after - before) / co->calls;

	tg[P_TX] = (struct target){
		.fd = bpf_program__fd(fl->progs.xdp_tx), .in = &get_hit,
		.want = XDP_TX, .methods = { true, true, true } };
	tg[P_REFLECT] = (struct target){
		.fd = bpf_program__fd(fl->progs.xdp_reflect), .in = &get_hit,
		.want = XDP_TX, .methods = { true, true, true } };
	tg[P_FLOOR] = (struct target){
		.fd = bpf_program__fd(fl->progs.xdp_floor), .in = &get_hit,
		.want = XDP_TX, .want_text = "END\r\n",
		.methods = { true, false, true } };
	tg[P_HIT] = (struct target){
		.fd = h.prog_fd, .in = &get_hit, .want = XDP_TX,
		.want_text = val, .methods = { true, false, true } };
	tg[P_MISS] = (struct target){
		.fd = h.prog_fd, .in = &get_miss, .want = XDP_PASS,
		.methods = { true, true, false } };
	for (p = 0; p < P_NR; p++) {
		tg[p].fl = fl;
		tg[p].wrap_fd = bpf_program__fd(fl->progs.xdp_restore);
		tg[p].next_fd = bpf_map__fd(fl->maps.restore_next);
	}

	for (r = 0; r < co->rounds; r++) {
		for (m = 0; m < M_NR; m++) {
			for (p = 0; p < P_NR; p++) {
				struct result *rs = &res[m][p];
				before = after = 0;
				ns = 0;

				if (!tg[p].methods[m])
					continue;
				if (p == P_HIT &&
				    (err = hot_stat(&h, XKV_STAT_replies,
						    &before)))
					goto out;
				if (m == M_CALL)
					err = time_per_call(&tg[p], co->calls,
							    &ns);
				else
					err = time_repeat(&tg[p], co->calls,
						m == M_LIVE ?
						BPF_F_TEST_XDP_LIVE_FRAMES : 0,
						&ns);
				if (!err && p == P_HIT)
					err = hot_stat(&h, XKV_STAT_replies,
						       &after);
				if (err) {
					fprintf(stderr, "xdpcost: %s %s: %s\n",
						prog_name[p], method_name[m],
						strerror(-err));
					goto out;
				}
				if (p == P_HIT && m != M_REPEAT &&
				    after - before != (__u64)co->calls) {
					fprintf(stderr, "xdpcost: hit %s: %llu "
						"replies in %d runs\n",
						method_name[m],
						(unsigned long long)(after -
								     before),
						co->calls);
					err = -EPROTO;
					goto out;
				}
				rs->ns[rs->n++] = ns;
			}
		}
	}
	print_cost(co, res, tg);
out:
	if (err && err != -EPROTO)
		fprintf(stderr, "xdpcost: %s\n", strerror(-err));
	floor__destroy(fl);
	hot_close(&h);
	return err ? 1 : 0;
}

/* --- attach / detach ---------------------------------------------------- */

static int cmd_attach(const char *ifname, unsigned int port, int mode)
{
	unsigned int ifindex = if_nametoindex(ifname);
	struct floor *fl;
	int fd, err;

	if (!ifindex) {
		fprintf(stderr, "xdpcost: %s: %s\n", ifname, strerror(errno));
		return 1;
	}
	fl = floor__open();
	if (!fl) {
		fprintf(stderr, "xdpcost: open: %s\n", strerror(errno));
		return 1;
	}
	fl->rodata->floor_port = (__u16)port;
	err = floor__load(fl);
	if (err) {
		fprintf(stderr, "xdpcost: load: %s\n", strerror(-err));
		floor__destroy(fl);
		return 1;
	}
	fd = bpf_program__fd(fl->progs.xdp_floor);
	err = -EOPNOTSUPP;
	if (mode != XDP_FLAGS_SKB_MODE) {
		err = bpf_xdp_attach((int)ifindex, fd, XDP_FLAGS_DRV_MODE,
				     NULL);
		if (!err)
			printf("native\n");
		else if (mode == XDP_FLAGS_DRV_MODE)
			fprintf(stderr, "xdpcost: native attach: %s\n",
				strerror(-err));
		else
			fprintf(stderr, "xdpcost: native attach failed (%s), "
				"trying generic\n", strerror(-err));
	}
	if (err && mode != XDP_FLAGS_DRV_MODE) {
		err = bpf_xdp_attach((int)ifindex, fd, XDP_FLAGS_SKB_MODE,
				     NULL);
		if (!err)
			printf("generic\n");
		else
			fprintf(stderr, "xdpcost: generic attach: %s\n",
				strerror(-err));
	}
	floor__destroy(fl);	/* the attachment keeps the program */
	return err ? 1 : 0;
}

static int cmd_detach(const char *ifname)
{
	unsigned int ifindex = if_nametoindex(ifname);
	LIBBPF_OPTS(bpf_xdp_query_opts, q);
	__u32 flags;
	int err;

	if (!ifindex) {
		fprintf(stderr, "xdpcost: %s: %s\n", ifname, strerror(errno));
		return 1;
	}
	err = bpf_xdp_query((int)ifindex, 0, &q);
	if (err) {
		fprintf(stderr, "xdpcost: query %s: %s\n", ifname,
			strerror(-err));
		return 1;
	}
	switch (q.attach_mode) {
	case XDP_ATTACHED_NONE:
		return 0;
	case XDP_ATTACHED_SKB:
		flags = XDP_FLAGS_SKB_MODE;
		break;
	case XDP_ATTACHED_DRV:
		flags = XDP_FLAGS_DRV_MODE;
		break;
	default:
		flags = 0;
		break;
	}
	err = bpf_xdp_detach((int)ifindex, flags, NULL);
	if (err) {
		fprintf(stderr, "xdpcost: detach %s: %s\n", ifname,
			strerror(-err));
		return 1;
	}
	return 0;
}

/* --- main --------------------------------------------------------------- */

static int usage(FILE *f)
{
	fprintf(f,
		"usage: xdpcost cost [-n CALLS] [-r ROUNDS] [-k KEYLEN] [-v VALLEN] [-j]\n"
		"       xdpcost spread [-K KEYS] [-s SLOTS] [-z S] [-n GETS] [-r ROUNDS] [-j]\n"
		"       xdpcost mem [-R LIST] [-n CALLS] [-p READS] [-r ROUNDS] "
		"[-j]\n"
		"       xdpcost attach IFACE [-p PORT] [-m native|generic]\n"
		"       xdpcost detach IFACE\n"
		"cost: per-packet cost of the hot tier (hit, miss) against a\n"
		"bare XDP_TX reflector, through BPF_PROG_TEST_RUN (default\n"
		"20000 calls x 3 rounds, 16-byte key, 32-byte value).\n"
		"spread: a hit's cost per call, its keys drawn from Zipf S\n"
		"over KEYS keys in SLOTS slots, against one key's (default\n"
		"100000 keys, 16384 slots, Zipf 0.99, 20000 GETs x 5\n"
		"rounds; S = 0: uniform; bench/xdpspread.c).\n"
		"mem: a cold read of a 640-byte element in a BPF_F_MMAPABLE\n"
		"array, a plain one and kmalloc'ed inner arrays (the direct\n"
		"map), over R elements (default R 48,1600,6400,16384,\n"
		"20000 calls x 5 rounds; bench/xdpmem.c).\n"
		"attach: put the floor (answer every GET with END) on IFACE.\n");
	return f == stdout ? 0 : 2;
}

/**
 * num() - parse a whole decimal number in [@lo, @hi], or say why not.
 * @flag: the option it came with, named in the message
 * @s:   the text
 * @lo:  smallest allowed
 * @hi:  largest allowed
 * @out: the number
 *
 * Return: 0, or -1 after a message on stderr.
 */
int num(char flag, const char *s, long lo, long hi, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || end == s || v < lo || v > hi) {
		fprintf(stderr, "xdpcost: -%c: bad number \"%s\" (%ld..%ld)\n",
			flag, s, lo, hi);
		return -1;
	}
	*out = v;
	return 0;
}

int main(int argc, char **argv)
{
	struct cost_opts co = { .calls = 20000, .rounds = 3, .klen = 16,
				.vlen = 32 };
	const char *cmd, *ifname = NULL;
	long port = COST_PORT, v;
	int mode = 0, c;

	if (argc < 2)
		return usage(stderr);
	cmd = argv[1];
	if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help"))
		return usage(stdout);
	if (!strcmp(cmd, "spread") || !strcmp(cmd, "mem")) {
		setvbuf(stdout, NULL, _IOLBF, 0);
		libbpf_set_print(libbpf_quiet);
		if (!strcmp(cmd, "mem"))
			return cmd_mem(argc - 1, argv + 1);
		return cmd_spread(argc - 1, argv + 1);
	}
	if (strcmp(cmd, "cost") && strcmp(cmd, "attach") &&
	    strcmp(cmd, "detach"))
		return usage(stderr);
	argc--;
	argv++;
	while ((c = getopt(argc, argv, "n:r:k:v:jp:m:h")) != -1) {
		switch (c) {
		case 'n':
			if (num('n', optarg, 1, 100000000, &v))
				return 2;
			co.calls = (int)v;
			break;
		case 'r':
			if (num('r', optarg, 1, ROUNDS_MAX, &v))
				return 2;
			co.rounds = (int)v;
			break;
		case 'k':
			if (num('k', optarg, 5, XKV_HOT_KEY_MAX, &v))
				return 2;
			co.klen = (int)v;
			break;
		case 'v':
			if (num('v', optarg, 0, 1000, &v))
				return 2;
			co.vlen = (int)v;
			break;
		case 'j':
			co.json = true;
			break;
		case 'p':
			if (num('p', optarg, 1, 65535, &port))
				return 2;
			break;
		case 'm':
			if (!strcmp(optarg, "native"))
				mode = XDP_FLAGS_DRV_MODE;
			else if (!strcmp(optarg, "generic"))
				mode = XDP_FLAGS_SKB_MODE;
			else
				return usage(stderr);
			break;
		case 'h':
			return usage(stdout);
		default:
			return usage(stderr);
		}
	}
	if (strcmp(cmd, "cost")) {
		if (optind != argc - 1)
			return usage(stderr);
		ifname = argv[optind];
	} else if (optind != argc) {
		return usage(stderr);
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	libbpf_set_print(libbpf_quiet);
	if (!strcmp(cmd, "cost"))
		return cmd_cost(&co);
	if (!strcmp(cmd, "attach"))
		return cmd_attach(ifname, (unsigned int)port, mode);
	return cmd_detach(ifname);
}
