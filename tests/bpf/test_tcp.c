// SPDX-License-Identifier: GPL-2.0
/*
 * test_tcp.c - BPF_PROG_TEST_RUN fixtures for the TCP fast path
 * (bpf/tcp/, bpf/TCPFAST.md).
 *
 * Loads bpf/xkv.bpf.c through its skeleton with a TCP port, fills the hot
 * cache as a backend does, turns answering on (xkv_tcp_ctl) and keeps the
 * backend's lease (xkv_live) running. Each fixture then drives one
 * connection by hand: the client's SYN through XDP (xkv_xdp), the
 * kernel's SYN-ACK through xkv_tc_out, an xkv_tcp_ans entry claimed and
 * published as the backend would, and from there the segments the case
 * needs, each through the program that would see it (XDP or xkv_tc_in for
 * the client's, xkv_tc_out for the kernel's). Every run checks the action,
 * the output frame byte for byte against one built here (tcppkt.c: seq,
 * ack, flags, options, payload; checksums summed again), and exactly which
 * xkv_tcp_stats counters moved. A reply's payload is also compared with
 * the body the UDP path sends for the same request line.
 *
 *   test_tcp [--verifier-stats | --verifier-log]
 *
 * --verifier-stats prints the verifier's statistics for xkv_xdp,
 * xkv_tc_in and xkv_tc_out and exits (they are also printed as TAP
 * comments on every run); --verifier-log prints its whole log (level 1:
 * every instruction it walked, up to 64 MiB a program) and exits, to see
 * where a kernel refuses the object.
 *
 * Prints TAP; exits 0 when every test passed. Needs root (CAP_BPF and
 * CAP_NET_ADMIN); otherwise prints "1..0 # SKIP" and exits 0.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <linux/pkt_cls.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>

#include "xkv_bin.h"
#include "xkv_config.h"
#include "xkv_kfunc.h"
#include "xkv_live.h"
#include "xkv_stats.h"
#include "xkv_tcp.h"
#include "xkv_tcp_conn.h"
#include "xkv_slot.h"	/* before the skeleton: it names our types */
#include "xkv.skel.h"
#include "counters.h"
#include "fixture.h"
#include "pkt.h"
#include "tcppkt.h"
#include "tap.h"

#define NSLOTS 1024
#define XKV_FRAME_HDR_LEN 8	/* memcached's UDP frame header */
#define VLOG_SIZE (1 << 20)
#define VLOG_FULL_SIZE (64 << 20)	/* --verifier-log */

struct env {
	struct xkv *skel;
	struct xkv_slot *hot;
	size_t hot_size;
	struct xkv_live *live;
	struct xkv_tcp_ans *ans;
	size_t ans_size;
	__u32 nslots;
	int fd[3];		/* PROG_* */
	int tstats_fd;
	int conn_fd;
	int ctl_fd;
};

enum { PROG_XDP, PROG_TC_IN, PROG_TC_OUT };
static const char *const prog_name[] = { "XDP", "tc_in", "tc_out" };

static char *vlog[3];
static __u32 vlog_size = VLOG_SIZE;
static __u32 vlog_level = 4;	/* 4: statistics only; 1: the whole log */

/* --- loading ------------------------------------------------------------ */

static int env_open(struct env *e, __u16 flags)
{
	struct xkv_config cfg = {
		.port = PKT_SERVER_PORT,
		.flags = flags,
		.nslots = NSLOTS,
		.max_reply = XKV_UDP_PAYLOAD_DEFAULT,
		.tcp_port = PKT_SERVER_PORT,
	};
	struct bpf_program *progs[3];
	long page = sysconf(_SC_PAGESIZE);
	struct xkv_tcp_ctl on = { .answer = 1 };
	__u32 zero = 0;
	int err, i;

	memset(e, 0, sizeof(*e));
	e->skel = xkv__open();
	if (!e->skel)
		return -errno;
	memcpy((void *)&e->skel->rodata->xkv_cfg, &cfg, sizeof(cfg));
	e->nslots = cfg.nslots;
	err = bpf_map__set_max_entries(e->skel->maps.xkv_hot, cfg.nslots);
	if (err)
		return err;
	progs[PROG_XDP] = e->skel->progs.xkv_xdp;
	progs[PROG_TC_IN] = e->skel->progs.xkv_tc_in;
	progs[PROG_TC_OUT] = e->skel->progs.xkv_tc_out;
	for (i = 0; i < 3; i++) {
		if (!vlog[i])
			vlog[i] = calloc(1, vlog_size);
		if (!vlog[i])
			return -ENOMEM;
		bpf_program__set_log_level(progs[i], vlog_level);
		bpf_program__set_log_buf(progs[i], vlog[i], vlog_size);
	}
	err = xkv__load(e->skel);
	if (err)
		return err;
	for (i = 0; i < 3; i++)
		e->fd[i] = bpf_program__fd(progs[i]);
	e->tstats_fd = bpf_map__fd(e->skel->maps.xkv_tcp_stats);
	e->conn_fd = bpf_map__fd(e->skel->maps.xkv_tcp_conn);
	e->ctl_fd = bpf_map__fd(e->skel->maps.xkv_tcp_ctl);
	e->hot_size = (size_t)cfg.nslots * sizeof(struct xkv_slot);
	e->hot_size = (e->hot_size + page - 1) / page * page;
	e->hot = fixture_map_mmap(e->skel->maps.xkv_hot, e->hot_size);
	e->live = fixture_map_mmap(e->skel->maps.xkv_live, (size_t)page);
	e->ans_size = (size_t)XKV_TCP_ANS_SLOTS * sizeof(struct xkv_tcp_ans);
	e->ans = fixture_map_mmap(e->skel->maps.xkv_tcp_ans, e->ans_size);
	if (!e->hot || !e->live || !e->ans)
		return -errno;
	if (bpf_map_update_elem(e->ctl_fd, &zero, &on, BPF_ANY))
		return -errno;
	return 0;
}

static void env_close(struct env *e)
{
	fixture_map_munmap(e->ans, e->ans_size);
	fixture_map_munmap(e->live, (size_t)sysconf(_SC_PAGESIZE));
	fixture_map_munmap(e->hot, e->hot_size);
	xkv__destroy(e->skel);
	memset(e, 0, sizeof(*e));
}

/* abi/xkv_tcp_conn.h against the object's struct xkv_tcp_conn */
static void env_check_layout(struct env *e)
{
	static const struct {
		const char *name;
		size_t off;
	} want[] = {
		{ "x", offsetof(struct xkv_tcp_conn, x) },
		{ "irs", offsetof(struct xkv_tcp_conn, irs) },
		{ "iss", offsetof(struct xkv_tcp_conn, iss) },
		{ "mss", offsetof(struct xkv_tcp_conn, mss) },
		{ "wscale", offsetof(struct xkv_tcp_conn, wscale) },
		{ "ws_s", offsetof(struct xkv_tcp_conn, ws_s) },
		{ "ans", offsetof(struct xkv_tcp_conn, ans) },
		{ "rp_ready", offsetof(struct xkv_tcp_conn, rp_ready) },
		{ "rp_una", offsetof(struct xkv_tcp_conn, rp_una) },
		{ "rp_ecr", offsetof(struct xkv_tcp_conn, rp_ecr) },
		{ "ts_val", offsetof(struct xkv_tcp_conn, ts_val) },
		{ "in_hi", offsetof(struct xkv_tcp_conn, in_hi) },
		{ "in_seen", offsetof(struct xkv_tcp_conn, in_seen) },
		{ "win", offsetof(struct xkv_tcp_conn, win) },
		{ "rp_win", offsetof(struct xkv_tcp_conn, rp_win) },
		{ "closed_ns", offsetof(struct xkv_tcp_conn, closed_ns) },
		{ "reply", offsetof(struct xkv_tcp_conn, reply) },
	};
	const struct btf *btf = bpf_object__btf(e->skel->obj);
	const struct btf_member *m;
	const struct btf_type *t;
	size_t i, found = 0;
	int id, k;
	bool ok;

	id = btf ? btf__find_by_name_kind(btf, "xkv_tcp_conn",
					  BTF_KIND_STRUCT) : -1;
	t = id > 0 ? btf__type_by_id(btf, (__u32)id) : NULL;
	ok = t && t->size == sizeof(struct xkv_tcp_conn) &&
	     bpf_map__value_size(e->skel->maps.xkv_tcp_conn) ==
		     sizeof(struct xkv_tcp_conn) &&
	     bpf_map__key_size(e->skel->maps.xkv_tcp_conn) ==
		     sizeof(struct xkv_tcp_key);
	for (k = 0; ok && k < btf_vlen(t); k++) {
		m = btf_members(t) + k;
		for (i = 0; i < sizeof(want) / sizeof(want[0]); i++)
			if (!strcmp(btf__name_by_offset(btf, m->name_off),
				    want[i].name)) {
				if (btf_member_bit_offset(t, (__u32)k) !=
				    want[i].off * 8)
					ok = false;
				found++;
			}
	}
	if (!tap_ok(ok && found == sizeof(want) / sizeof(want[0]),
		    "struct xkv_tcp_conn is laid out as the fixtures read it"))
		tap_bail("stale mirror of struct xkv_tcp_conn in the fixtures");
}

/* --- the hot cache, as a backend writes it ------------------------------ */

struct item {
	const char *key;
	const char *val;
	__u32 flags;
	__u64 cas;
};

static const struct item it_foo = { "foo", "bar", 0, 1001 };
static const struct item it_k2 = { "k2", "hello world", 42, 1002 };
static const struct item it_k3 = { "key:3", "", 4294967295u,
				   18446744073709551615ull };

/* the item's entry, as the store installs it; @xflags XKV_SLOT_F_* */
static void hot_set_x(struct env *e, const struct item *it, __u8 xflags)
{
	size_t klen = strlen(it->key);
	struct xkv_slot *s = &e->hot[xkv_hot_index(
		xkv_hot_hash(it->key, (__u32)klen), e->nslots)];
	__u32 seq = 0;

	if (!xkv_slot_take(s, &seq))
		tap_bail("a slot stays locked");
	if (!xkv_slot_put(s, xkv_hot_hash(it->key, (__u32)klen), it->key,
			  (__u32)klen, it->val, (__u32)strlen(it->val),
			  it->flags, it->cas, 0, xflags))
		tap_bail("an entry does not fit its slot");
	xkv_slot_unlock(s, seq);
}

static void hot_set(struct env *e, const struct item *it)
{
	hot_set_x(e, it, XKV_SLOT_F_META);
}

/* VALUE <key> <flags> <bytes>[ <cas>]\r\n<data>\r\n ... END\r\n */
static size_t body_of(char *b, size_t size, const struct item *const *it,
		      int n, bool gets)
{
	size_t k = 0;
	int i;

	for (i = 0; i < n; i++) {
		k += (size_t)snprintf(b + k, size - k, "VALUE %s %u %zu",
				      it[i]->key, it[i]->flags,
				      strlen(it[i]->val));
		if (gets)
			k += (size_t)snprintf(b + k, size - k, " %llu",
					      (unsigned long long)it[i]->cas);
		k += (size_t)snprintf(b + k, size - k, "\r\n%s\r\n",
				      it[i]->val);
	}
	k += (size_t)snprintf(b + k, size - k, "END\r\n");
	return k;
}

/* --- running a frame ---------------------------------------------------- */

struct res {
	int err;
	__u32 retval;
	__u32 len;
	__u8 out[PKT_MAX];
	__u64 d[XKV_TCP_STAT_NR];
};

static void run(struct env *e, int prog, const struct pkt *in, struct res *r)
{
	__u64 before[XKV_TCP_STAT_NR], after[XKV_TCP_STAT_NR];
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = in->b,
		    .data_size_in = (__u32)in->len, .data_out = r->out,
		    .data_size_out = sizeof(r->out), .repeat = 1);
	int i;

	memset(r, 0, sizeof(*r));
	xkv_live_renew(e->live, fixture_mono_ns());
	r->err = xkv_counters_read(e->tstats_fd, before, XKV_TCP_STAT_NR);
	if (!r->err && bpf_prog_test_run_opts(e->fd[prog], &opts))
		r->err = -errno;
	if (!r->err)
		r->err = xkv_counters_read(e->tstats_fd, after,
					   XKV_TCP_STAT_NR);
	r->retval = opts.retval;
	r->len = opts.data_size_out;
	for (i = 0; i < XKV_TCP_STAT_NR && !r->err; i++)
		r->d[i] = after[i] - before[i];
}

#define X(name, desc) #name,
static const char *const tstat_names[XKV_TCP_STAT_NR] = { XKV_TCP_STATS(X) };
#undef X

/* the counters a run must move: ST(S(hits, 1), S(keys, 2)) */
#define S(name, n) [XKV_TCP_STAT_##name] = (n)
#define ST(...) ((const __u64[XKV_TCP_STAT_NR]){ __VA_ARGS__ })

static const char *action(int prog, __u32 v)
{
	if (prog == PROG_XDP) {
		switch (v) {
		case XDP_ABORTED: return "XDP_ABORTED";
		case XDP_DROP: return "XDP_DROP";
		case XDP_PASS: return "XDP_PASS";
		case XDP_TX: return "XDP_TX";
		}
		return "XDP_?";
	}
	switch ((int)v) {
	case TC_ACT_OK: return "TC_ACT_OK";
	case TC_ACT_SHOT: return "TC_ACT_SHOT";
	}
	return "TC_ACT_?";
}

static void diag_counters(const __u64 *got, const __u64 *want)
{
	char buf[768];
	size_t n = 0;
	int i;

	buf[0] = 0;
	for (i = 0; i < XKV_TCP_STAT_NR && n < sizeof(buf); i++)
		if (got[i] != want[i])
			n += (size_t)snprintf(buf + n, sizeof(buf) - n,
					      " %s+%llu(want +%llu)",
					      tstat_names[i],
					      (unsigned long long)got[i],
					      (unsigned long long)want[i]);
	tap_diag("  counters:%s", buf);
}

static struct res res;		/* the last run's */

/*
 * Run @in through @prog: the action must be @ret, the counters exactly
 * @stats, and the output (unless dropped) @want, or @in untouched when
 * @want is NULL. A rewritten frame's sums are checked again.
 */
static __attribute__((format(printf, 7, 8))) bool
expect(struct env *e, int prog, const struct pkt *in, __u32 ret,
       const struct pkt *want, const __u64 *stats, const char *fmt, ...)
{
	bool dropped = ret == XDP_DROP || (prog != PROG_XDP &&
					   ret == TC_ACT_SHOT);
	const char *sums = NULL;
	struct tcpview v;
	char name[256];
	bool ok, frame;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(name, sizeof(name), fmt, ap);
	va_end(ap);
	if (!want)
		want = in;
	run(e, prog, in, &res);
	frame = dropped || (res.len == want->len &&
			    !memcmp(res.out, want->b, want->len));
	if (!dropped && want != in)
		sums = tcppkt_check(res.out, res.len, &v);
	ok = !res.err && res.retval == ret && frame && !sums &&
	     !memcmp(res.d, stats, sizeof(res.d));
	if (tap_ok(ok, "%s: %s %s, %s", name, prog_name[prog],
		   action(prog, ret),
		   dropped ? "dropped" : want == in ? "untouched" :
		   "frame byte-exact"))
		return true;
	if (res.err)
		tap_diag("  BPF_PROG_TEST_RUN: %s", strerror(-res.err));
	if (res.retval != ret)
		tap_diag("  action %s (%u), expected %s", action(prog,
			 res.retval), res.retval, action(prog, ret));
	if (sums)
		tap_diag("  sums: %s", sums);
	if (!frame)
		fixture_diag_frames(res.out, res.len, want->b, want->len);
	if (memcmp(res.d, stats, sizeof(res.d)))
		diag_counters(res.d, stats);
	return false;
}

/*
 * The body the UDP path sends for @line (its payload after the 8-byte
 * frame header), into @b; returns its length, 0 when it did not answer.
 */
static size_t udp_body(struct env *e, const char *line, __u8 *b)
{
	struct pkt_opts o = { .id = 7 };
	struct pkt *p = malloc(sizeof(*p));
	struct res *r = malloc(sizeof(*r));
	size_t off, n = 0;

	if (!p || !r)
		tap_bail("out of memory");
	pkt_request(p, &o, line, strlen(line));
	run(e, PROG_XDP, p, r);
	off = 14 + 20 + 8 + 8;
	if (!r->err && r->retval == XDP_TX && r->len > off) {
		n = r->len - off;
		memcpy(b, r->out + off, n);
	}
	free(p);
	free(r);
	return n;
}

/* --- a connection, driven by hand ---------------------------------------- */

/**
 * struct conn - one connection as a fixture drives it.
 * @ipv6, @ts, @nvlans: its shape (@ts: both sides offer timestamps)
 * @ws:     the client's window scale shift + 1 (0: none offered)
 * @mss:    the client's MSS option (0: none)
 * @cwin:   the client's window field after the handshake
 * @cport:  the client's port
 * @irs:    the client's ISN
 * @iss:    the kernel's
 * @cw:     the client's next sequence number, on the wire
 * @ck:     ... as the kernel counts it
 * @sw:     the kernel's next sequence number, on the wire
 * @sk:     ... as the kernel counts it
 * @tsc:    the client's clock (its next TSval)
 * @tss:    the kernel's last TSval
 * @swin:   the kernel's last window field (what an XDP reply carries)
 * @ans:    its xkv_tcp_ans index
 * @in_done, @out_done: what the backend published
 * @req:    the last request XDP answered, and its reply
 * @reply:  ...
 */
struct conn {
	bool ipv6;
	bool ts;
	int nvlans;
	__u8 ws;
	__u16 mss;
	__u16 cwin;
	__u16 cport;
	__u32 irs;
	__u32 iss;
	__u32 cw;
	__u32 ck;
	__u32 sw;
	__u32 sk;
	__u32 tsc;
	__u32 tss;
	__u16 swin;
	__u32 ans;
	__u32 in_done;
	__u32 out_done;
	struct pkt req;
	struct pkt reply;
};

static __u16 next_cport = 41000;

static void conn_init(struct conn *c, bool ipv6, bool ts)
{
	memset(c, 0, sizeof(*c));
	c->ipv6 = ipv6;
	c->ts = ts;
	c->ws = 8;			/* shift 7 */
	c->mss = 1460;
	c->cwin = 502;			/* 64256 with the shift */
	c->cport = next_cport++;
	c->irs = 0x10000000u + (__u32)c->cport * 7919u;
	c->iss = 0xfffff000u + c->cport;	/* wraps soon */
	c->tsc = 1000;
	c->tss = 900000;
}

static void conn_key(const struct conn *c, struct xkv_tcp_key *k)
{
	memset(k, 0, sizeof(*k));
	if (c->ipv6) {
		memcpy(k->caddr, pkt_client6, 16);
		memcpy(k->saddr, pkt_server6, 16);
	} else {
		memcpy(k->caddr, pkt_client4, 4);
		memcpy(k->saddr, pkt_server4, 4);
	}
	k->cport = htons(c->cport);
	k->sport = htons(PKT_SERVER_PORT);
	k->family = c->ipv6 ? 6 : 4;
}

static int conn_state(struct env *e, const struct conn *c,
		      struct xkv_tcp_conn *t)
{
	struct xkv_tcp_key k;

	conn_key(c, &k);
	return bpf_map_lookup_elem(e->conn_fd, &k, t) ? -errno : 0;
}

/* a client segment at its next seq, acking the kernel's next (wire) */
static struct tcpseg c_seg(struct conn *c, __u8 flags, const char *data)
{
	struct tcpseg s = {
		.ipv6 = c->ipv6, .nvlans = c->nvlans, .cport = c->cport,
		.seq = c->cw, .ack = c->sw, .flags = flags, .win = c->cwin,
		.ts = c->ts, .tsval = c->tsc++, .tsecr = c->tss,
		.data = data, .len = data ? strlen(data) : 0,
	};

	return s;
}

/* a kernel segment in the kernel's space; its TSval ticks */
static struct tcpseg k_seg(struct conn *c, __u8 flags, const char *data)
{
	struct tcpseg s = {
		.ipv6 = c->ipv6, .nvlans = c->nvlans, .cport = c->cport,
		.out = true, .seq = c->sk, .ack = c->ck, .flags = flags,
		.win = 509, .ts = c->ts, .tsval = ++c->tss,
		.tsecr = c->tsc - 1, .data = data,
		.len = data ? strlen(data) : 0,
	};

	c->swin = s.win;
	return s;
}

/* the reply XDP sends on @c: @len bytes of @data at @seq, acking @ack */
static struct tcpseg x_seg(const struct conn *c, __u32 seq, __u32 ack,
			   __u32 tsecr, const char *data, size_t len)
{
	struct tcpseg r = {
		.ipv6 = c->ipv6, .nvlans = c->nvlans, .cport = c->cport,
		.out = true, .xdp = true, .seq = seq, .ack = ack,
		.flags = TCPF_ACK | TCPF_PSH, .win = c->swin, .ts = c->ts,
		.tsval = c->tss, .tsecr = tsecr, .data = data, .len = len,
	};

	return r;
}

static struct pkt *in, *want;

/* claim an xkv_tcp_ans entry for @c the way the backend does */
static void conn_claim(struct env *e, struct conn *c)
{
	struct xkv_tcp_key k;
	__u32 base, i, idx, free_ = XKV_TCP_ANS_FREE;
	struct xkv_tcp_ans *a;

	conn_key(c, &k);
	base = xkv_tcp_ans_index(k.caddr, k.saddr, k.cport, k.sport);
	for (i = 0; i < XKV_TCP_ANS_PROBES; i++) {
		idx = (base + i) & (XKV_TCP_ANS_SLOTS - 1);
		a = &e->ans[idx];
		free_ = XKV_TCP_ANS_FREE;
		if (__atomic_compare_exchange_n(&a->owner, &free_,
						XKV_TCP_ANS_BUSY, false,
						__ATOMIC_ACQUIRE,
						__ATOMIC_RELAXED))
			break;
	}
	if (i == XKV_TCP_ANS_PROBES)
		tap_bail("no free xkv_tcp_ans entry");
	a->family = k.family;
	a->cport = k.cport;
	a->sport = k.sport;
	a->proto = XKV_TCP_PROTO_NONE;
	memcpy(a->caddr, k.caddr, 16);
	memcpy(a->saddr, k.saddr, 16);
	a->done = 0;
	a->hits = 0;
	__atomic_store_n(&a->owner, XKV_TCP_ANS_LIVE, __ATOMIC_RELEASE);
	c->ans = idx;
}

static void conn_release(struct env *e, struct conn *c)
{
	struct xkv_tcp_ans *a = &e->ans[c->ans];

	__atomic_store_n(&a->owner, XKV_TCP_ANS_BUSY, __ATOMIC_RELEASE);
	__atomic_store_n(&a->owner, XKV_TCP_ANS_FREE, __ATOMIC_RELEASE);
}

/* the backend answered @in bytes more with @out bytes more */
static void conn_publish(struct env *e, struct conn *c, __u32 in_, __u32 out)
{
	c->in_done += in_;
	c->out_done += out;
	__atomic_store_n(&e->ans[c->ans].done,
			 xkv_tcp_ans_pack(c->in_done, c->out_done),
			 __ATOMIC_RELEASE);
}

/*
 * The backend read the @in_ bytes XDP passed last and answered them with
 * @out bytes, which the client has: quiescent again, past them. (A
 * passed request is the kernel's from then on: XDP must never answer it,
 * even sent again.)
 */
static void be_answered(struct env *e, struct conn *c, __u32 in_,
			__u32 out)
{
	conn_publish(e, c, in_, out);
	c->ck += in_;
	c->sk += out;
	c->sw += out;
}

/*
 * SYN through XDP, SYN-ACK through tc_out, the handshake's last ACK
 * through XDP; @claim: then register it as the backend would.
 */
static bool conn_open_ws(struct env *e, struct conn *c, __u8 ws_s,
			 const char *name);

static bool conn_open(struct env *e, struct conn *c, bool claim,
		      const char *name)
{
	bool ok = conn_open_ws(e, c, 8, name);

	if (claim)
		conn_claim(e, c);
	return ok;
}

/* ... with the kernel's window scale option @ws_s (shift + 1, 0 none) */
static bool conn_open_ws(struct env *e, struct conn *c, __u8 ws_s,
			 const char *name)
{
	struct tcpseg s = {
		.ipv6 = c->ipv6, .nvlans = c->nvlans, .cport = c->cport,
		.seq = c->irs, .flags = TCPF_SYN, .win = 64240,
		.mss = c->mss, .ws = c->ws, .sack_ok = true, .ts = c->ts,
		.tsval = c->tsc++,
	};
	bool ok;

	tcppkt_build(in, &s);
	ok = expect(e, PROG_XDP, in, XDP_PASS, NULL,
		    ST(S(segments, 1), S(tracked, 1)), "%s: SYN", name);
	memset(&s, 0, sizeof(s));
	s = (struct tcpseg){
		.ipv6 = c->ipv6, .nvlans = c->nvlans, .cport = c->cport,
		.out = true, .seq = c->iss, .ack = c->irs + 1,
		.flags = TCPF_SYN | TCPF_ACK, .win = 65160, .mss = 1460,
		.ws = ws_s, .sack_ok = true, .ts = c->ts, .tsval = c->tss,
		.tsecr = c->tsc - 1,
	};
	tcppkt_build(in, &s);
	ok &= expect(e, PROG_TC_OUT, in, TC_ACT_OK, NULL, ST(0),
		     "%s: SYN-ACK", name);
	c->swin = ws_s ? 65160 >> (ws_s - 1) : 65160;
	c->cw = c->ck = c->irs + 1;
	c->sw = c->sk = c->iss + 1;
	s = c_seg(c, TCPF_ACK, NULL);
	tcppkt_build(in, &s);
	ok &= expect(e, PROG_XDP, in, XDP_PASS, NULL, ST(S(segments, 1)),
		     "%s: handshake ACK", name);
	return ok;
}

/*
 * The client sends @line at its next seq; XDP must answer with @body
 * (@nkeys keys). Keeps the request and the reply in @c.
 */
static bool conn_hit(struct env *e, struct conn *c, const char *line,
		     const char *body, size_t blen, unsigned int nkeys,
		     const char *name)
{
	struct tcpseg s = c_seg(c, TCPF_ACK | TCPF_PSH, line);
	struct tcpseg r = x_seg(c, c->sw, c->cw + (__u32)s.len, s.tsval,
				body, blen);
	__u64 hits = e->ans[c->ans].hits;
	__u8 ubody[PKT_MAX];
	size_t ulen;
	bool ok;

	tcppkt_build(&c->req, &s);
	tcppkt_build(&c->reply, &r);
	ok = expect(e, PROG_XDP, &c->req, XDP_TX, &c->reply,
		    ST(S(segments, 1), S(hits, 1), S(keys, nkeys),
		       S(reply_bytes, blen)), "%s", name);
	ok &= tap_is_u64(e->ans[c->ans].hits, hits + 1,
			 "%s: the backend's entry counts the hit", name);
	if (XKV_FRAME_HDR_LEN + blen <= XKV_UDP_PAYLOAD_DEFAULT) {
		ulen = udp_body(e, line, ubody);
		ok &= tap_ok(ulen == blen && !memcmp(ubody, body, blen),
			     "%s: reply payload is the UDP path's body", name);
	} else {
		tap_skip(1, "the UDP path does not send a reply this long");
	}
	c->cw += (__u32)s.len;
	c->sw += (__u32)blen;
	return ok;
}

/* The client acknowledges everything on the wire (XDP passes it). */
static bool conn_ack(struct env *e, struct conn *c, const char *name)
{
	struct tcpseg s = c_seg(c, TCPF_ACK, NULL);

	tcppkt_build(in, &s);
	return expect(e, PROG_XDP, in, XDP_PASS, NULL, ST(S(segments, 1)),
		      "%s", name);
}

/* --- fixtures ------------------------------------------------------------- */

static char body[PKT_MAX];

static void test_hits(struct env *e)
{
	static const struct {
		bool ipv6, ts, gets;
		int nvlans;
		const char *line;
		const struct item *it[3];
		int n;
	} cases[] = {
		{ false, true, false, 0, "get foo\r\n", { &it_foo }, 1 },
		{ false, false, false, 0, "get foo\r\n", { &it_foo }, 1 },
		{ true, true, false, 0, "get foo\r\n", { &it_foo }, 1 },
		{ true, false, false, 0, "get foo\r\n", { &it_foo }, 1 },
		{ false, true, true, 0, "gets k2\r\n", { &it_k2 }, 1 },
		{ false, true, false, 0, "get foo k2 key:3\r\n",
		  { &it_foo, &it_k2, &it_k3 }, 3 },
		{ true, false, true, 0, "gets key:3 foo k2\r\n",
		  { &it_k3, &it_foo, &it_k2 }, 3 },
		{ true, true, true, 2, "gets foo k2\r\n",
		  { &it_foo, &it_k2 }, 2 },
		{ false, true, false, 0, "get foo foo\n",
		  { &it_foo, &it_foo }, 2 },
	};
	struct conn *c = malloc(sizeof(*c));
	char name[160];
	size_t i, blen;

	if (!c)
		tap_bail("out of memory");
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		conn_init(c, cases[i].ipv6, cases[i].ts);
		c->nvlans = cases[i].nvlans;
		snprintf(name, sizeof(name), "hit %zu (IPv%d, %s%s, %.*s)", i,
			 c->ipv6 ? 6 : 4, c->ts ? "timestamps" :
			 "no timestamps", c->nvlans ? ", two tags" : "",
			 (int)strcspn(cases[i].line, "\r\n"), cases[i].line);
		conn_open(e, c, true, name);
		blen = body_of(body, sizeof(body), cases[i].it, cases[i].n,
			       cases[i].gets);
		conn_hit(e, c, cases[i].line, body, blen,
			 (unsigned int)cases[i].n, name);
		conn_release(e, c);
	}

	/* the reply's TSval is the kernel's last one, not the SYN-ACK's */
	conn_init(c, false, true);
	conn_open(e, c, true, "hit after a kernel segment");
	{
		struct tcpseg s = k_seg(c, TCPF_ACK, NULL);

		s.win = 777;
		c->swin = 777;
		tcppkt_build(in, &s);
		expect(e, PROG_TC_OUT, in, TC_ACT_OK, NULL, ST(0),
		       "hit after a kernel segment: its ACK (TSval %u, "
		       "window 777)", s.tsval);
	}
	blen = body_of(body, sizeof(body),
		       (const struct item *const[]){ &it_foo }, 1, false);
	conn_hit(e, c, "get foo\r\n", body, blen, 1,
		 "hit after a kernel segment: reply carries its TSval "
		 "and window");
	conn_release(e, c);
	free(c);
}

static size_t foo_body(void)
{
	return body_of(body, sizeof(body),
		       (const struct item *const[]){ &it_foo }, 1, false);
}

/* segment @s from the client, passed for the stack to see (pass_segment) */
static bool seg_passed(struct env *e, const struct tcpseg *s,
		       const char *name)
{
	tcppkt_build(in, s);
	return expect(e, PROG_XDP, in, XDP_PASS, NULL,
		      ST(S(segments, 1), S(pass_segment, 1)), "%s", name);
}

/* the client sends @line; XDP passes it untouched, counted as @why */
static bool c_pass(struct env *e, struct conn *c, const char *line,
		   enum xkv_tcp_stat_id why, const char *name)
{
	struct tcpseg s = c_seg(c, TCPF_ACK | TCPF_PSH, line);
	__u64 st[XKV_TCP_STAT_NR] = { 0 };

	st[XKV_TCP_STAT_segments] = 1;
	st[why]++;
	tcppkt_build(in, &s);
	c->cw += (__u32)s.len;
	return expect(e, PROG_XDP, in, XDP_PASS, NULL, st, "%s (%s)", name,
		      tstat_names[why]);
}

/* --- binary GET/GETK over TCP ------------------------------------------- */

static void be_put(__u8 *p, __u64 v, int n)
{
	int j;

	for (j = 0; j < n; j++)
		p[j] = (__u8)(v >> ((n - 1 - j) * 8));
}

/* a binary @op request for @key with opaque @opq into @b; its length */
static size_t bin_request(__u8 *b, __u8 op, const char *key, __u32 opq)
{
	size_t klen = strlen(key);

	memset(b, 0, XKV_BIN_HDR_LEN);
	b[0] = XKV_BIN_REQ;
	b[1] = op;
	be_put(b + 2, klen, 2);
	be_put(b + 8, klen, 4);
	be_put(b + 12, opq, 4);
	memcpy(b + XKV_BIN_HDR_LEN, key, klen);
	return XKV_BIN_HDR_LEN + klen;
}

/* what kmod/core/bin.c sends for a hit of @it, into @b; its length */
static size_t bin_reply(__u8 *b, const struct item *it, __u8 op, __u32 opq)
{
	size_t kout = op == XKV_BIN_GETK || op == XKV_BIN_GETKQ ?
			      strlen(it->key) : 0, vlen = strlen(it->val);

	memset(b, 0, 28);
	b[0] = XKV_BIN_RES;
	b[1] = op;
	be_put(b + 2, kout, 2);
	b[4] = 4;
	be_put(b + 8, 4 + kout + vlen, 4);
	be_put(b + 12, opq, 4);
	be_put(b + 16, it->cas, 8);
	be_put(b + 24, it->flags, 4);
	memcpy(b + 28, it->key, kout);
	memcpy(b + 28 + kout, it->val, vlen);
	return 28 + kout + vlen;
}

/* the client sends @rq (@rlen bytes): XDP answers @rp, or passes (@why) */
static bool bin_seg(struct env *e, struct conn *c, const __u8 *rq,
		    size_t rlen, const __u8 *rp, size_t plen,
		    enum xkv_tcp_stat_id why, const char *name)
{
	struct tcpseg s = c_seg(c, TCPF_ACK | TCPF_PSH, NULL);
	struct tcpseg r = x_seg(c, c->sw, c->cw + (__u32)rlen, s.tsval,
				(const char *)rp, plen);
	__u64 st[XKV_TCP_STAT_NR] = { 0 };
	bool ok;

	s.data = (const char *)rq;
	s.len = rlen;
	tcppkt_build(&c->req, &s);
	st[XKV_TCP_STAT_segments] = 1;
	c->cw += (__u32)rlen;
	if (!rp) {
		st[why]++;
		return expect(e, PROG_XDP, &c->req, XDP_PASS, NULL, st,
			      "%s (%s)", name, tstat_names[why]);
	}
	st[XKV_TCP_STAT_hits] = 1;
	st[XKV_TCP_STAT_keys] = 1;
	st[XKV_TCP_STAT_reply_bytes] = plen;
	tcppkt_build(&c->reply, &r);
	ok = expect(e, PROG_XDP, &c->req, XDP_TX, &c->reply, st, "%s", name);
	c->sw += (__u32)plen;
	return ok;
}

/* a new IPv4 connection with timestamps, its entry saying @proto */
static void bin_conn(struct env *e, struct conn *c, __u32 proto,
		     const char *name)
{
	conn_init(c, false, true);
	conn_open(e, c, true, name);
	e->ans[c->ans].proto = proto;
}

static void test_binary(struct env *e)
{
	static const __u8 ops[] = { XKV_BIN_GET, XKV_BIN_GETQ, XKV_BIN_GETK,
				    XKV_BIN_GETKQ };
	static const __u32 proto[] = { XKV_TCP_PROTO_NONE, XKV_TCP_PROTO_BIN,
				       XKV_TCP_PROTO_NONE, XKV_TCP_PROTO_BIN };
	/* passed: op XKV_BIN_NOOP stands for a text "get foo" */
	static const struct {
		__u32 proto;
		__u8 op;
		const char *key;
		enum xkv_tcp_stat_id why;
		const char *name;
	} passes[] = {
		{ XKV_TCP_PROTO_NONE, XKV_BIN_GETQ, "nokey",
		  XKV_TCP_STAT_pass_miss,
		  "binary GETQ miss: the store stays quiet" },
		{ XKV_TCP_PROTO_TEXT, XKV_BIN_GET, "foo",
		  XKV_TCP_STAT_pass_not_get,
		  "binary GET on a text connection" },
		{ XKV_TCP_PROTO_BIN, XKV_BIN_NOOP, NULL,
		  XKV_TCP_STAT_pass_not_get,
		  "text get on a binary connection" },
		{ XKV_TCP_PROTO_OFF, XKV_BIN_GET, "foo",
		  XKV_TCP_STAT_pass_not_get,
		  "binary GET where clients authenticate first" },
		{ XKV_TCP_PROTO_OFF, XKV_BIN_NOOP, NULL,
		  XKV_TCP_STAT_pass_not_get,
		  "text get where clients authenticate first" },
	};
	struct conn *c = malloc(sizeof(*c));
	__u8 rq[300], rp[300];
	size_t i, rl, pl;
	char name[160];

	if (!c)
		tap_bail("out of memory");
	hot_set(e, &it_foo);
	hot_set(e, &it_k2);
	hot_set(e, &it_k3);
	for (i = 0; i < sizeof(ops); i++) {
		const struct item *it = i & 1 ? &it_k3 : &it_k2;

		conn_init(c, i >= 2, i != 1);
		snprintf(name, sizeof(name), "binary %zu (IPv%d, opcode 0x%02x,"
			 " %s, proto %u)", i, c->ipv6 ? 6 : 4, ops[i], it->key,
			 proto[i]);
		conn_open(e, c, true, name);
		e->ans[c->ans].proto = proto[i];
		rl = bin_request(rq, ops[i], it->key, 0xa1b2c3d4u + (__u32)i);
		pl = bin_reply(rp, it, ops[i], 0xa1b2c3d4u + (__u32)i);
		bin_seg(e, c, rq, rl, rp, pl, 0, name);
		conn_release(e, c);
	}

	/* misses, the connection's protocol, authentication */
	for (i = 0; i < sizeof(passes) / sizeof(passes[0]); i++) {
		bin_conn(e, c, passes[i].proto, passes[i].name);
		if (passes[i].op == XKV_BIN_NOOP) {
			c_pass(e, c, "get foo\r\n", passes[i].why,
			       passes[i].name);
		} else {
			rl = bin_request(rq, passes[i].op, passes[i].key,
					 (__u32)i);
			bin_seg(e, c, rq, rl, NULL, 0, passes[i].why,
				passes[i].name);
		}
		conn_release(e, c);
	}

	bin_conn(e, c, XKV_TCP_PROTO_NONE, "binary batch");
	rl = bin_request(rq, XKV_BIN_GETKQ, "foo", 4);
	rl += bin_request(rq + rl, XKV_BIN_NOOP, "", 5);
	pl = bin_reply(rp, &it_foo, XKV_BIN_GETKQ, 4);
	memset(rp + pl, 0, XKV_BIN_HDR_LEN);
	rp[pl] = XKV_BIN_RES;
	rp[pl + 1] = XKV_BIN_NOOP;
	be_put(rp + pl + 12, 5, 4);
	pl += XKV_BIN_HDR_LEN;
	bin_seg(e, c, rq, rl, rp, pl, 0,
		"binary GETKQ + NOOP: the hit's reply, then the NOOP's");
	conn_release(e, c);
	free(c);
}

/*
 * mg over TCP: the reply meta.c sends (and the UDP path's, which
 * conn_hit() compares), no END; what XDP does not answer passed.
 */
static void test_meta(struct env *e)
{
	/* stored with a base64 key ("ms Yms= ... b"): k echoes base64 */
	static const struct item it_bk = { "bk", "stored with b", 6, 1004 };
	static const struct {
		bool ipv6, ts;
		const char *line, *reply;
	} hits[] = {
		{ false, true, "mg foo v\r\n", "VA 3\r\nbar\r\n" },
		{ true, false, "mg foo v\n", "VA 3\r\nbar\r\n" },
		{ false, false, "mg k2 v f s c k Oab q\r\n",
		  "VA 11 f42 s11 c1002 kk2 Oab\r\nhello world\r\n" },
		{ true, true, "mg key:3 k c f v\r\n",
		  "VA 0 kkey:3 c18446744073709551615 f4294967295\r\n"
		  "\r\n" },
		{ false, true, "mg Zm9v b k v\r\n", "VA 3 kfoo\r\nbar\r\n" },
		{ false, true, "mg Yms= b v k\r\n",
		  "VA 13 kYms= b\r\nstored with b\r\n" },
		{ true, true, "mg bk k v s\r\n",
		  "VA 13 kYms= b s13\r\nstored with b\r\n" },
	};
	static const struct {
		const char *line;
		enum xkv_tcp_stat_id why;
	} pass[] = {
		{ "mg nokey v\r\n", XKV_TCP_STAT_pass_miss },
		{ "mg nokey v q\r\n", XKV_TCP_STAT_pass_miss },
		{ "mg bm9rZXk= b v k\r\n", XKV_TCP_STAT_pass_miss },
		{ "mg foo v t\r\n", XKV_TCP_STAT_pass_miss },
		{ "mg foo v k k\r\n", XKV_TCP_STAT_pass_not_get },
		{ "mg foo f\r\n", XKV_TCP_STAT_pass_not_get },
		{ "mg Zh== b v\r\n", XKV_TCP_STAT_pass_not_get },
		{ "mg foo v q\r\nmn\r\n", XKV_TCP_STAT_pass_not_get },
		{ "mg foo v", XKV_TCP_STAT_pass_not_get },
	};
	struct conn *c = malloc(sizeof(*c));
	char name[160];
	size_t i;

	if (!c)
		tap_bail("out of memory");
	hot_set_x(e, &it_bk, XKV_SLOT_F_META | XKV_SLOT_F_KEY_B64);
	for (i = 0; i < sizeof(hits) / sizeof(hits[0]); i++) {
		conn_init(c, hits[i].ipv6, hits[i].ts);
		snprintf(name, sizeof(name), "mg hit %zu (IPv%d, %.*s)", i,
			 c->ipv6 ? 6 : 4,
			 (int)strcspn(hits[i].line, "\r\n"), hits[i].line);
		conn_open(e, c, true, name);
		conn_hit(e, c, hits[i].line, hits[i].reply,
			 strlen(hits[i].reply), 1, name);
		conn_release(e, c);
	}
	for (i = 0; i < sizeof(pass) / sizeof(pass[0]); i++) {
		conn_init(c, false, true);
		snprintf(name, sizeof(name), "mg passed %zu (%.*s)", i,
			 (int)strcspn(pass[i].line, "\r\n"), pass[i].line);
		conn_open(e, c, true, name);
		c_pass(e, c, pass[i].line, pass[i].why, name);
		conn_release(e, c);
	}
	free(c);
}

/* --- the store program's slot ------------------------------------------- */

/*
 * A stand-in for the store program (bpf/tcp/store.h) in xkv_store_jmp's
 * TCP slot: it drops, so a fixture sees which segments XDP hands to the
 * store. Return: its fd, or a negative errno.
 */
static int store_mark_load(void)
{
	const struct bpf_insn insns[] = {
		/* r0 = XDP_DROP; exit */
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0,
		  .imm = XDP_DROP },
		{ .code = BPF_JMP | BPF_EXIT },
	};

	/* what libbpf gives SEC("xdp"): a slot takes only its like */
	LIBBPF_OPTS(bpf_prog_load_opts, opts,
		    .expected_attach_type = BPF_XDP);

	return bpf_prog_load(BPF_PROG_TYPE_XDP, "xkv_store_mark", "GPL",
			     insns, sizeof(insns) / sizeof(insns[0]), &opts);
}

/* the client sends @len bytes of @data; XDP hands them to the store */
static bool c_store(struct env *e, struct conn *c, const void *data,
		    size_t len, const char *name)
{
	struct tcpseg s = c_seg(c, TCPF_ACK | TCPF_PSH, "");
	__u64 st[XKV_TCP_STAT_NR] = { 0 };

	s.data = data;
	s.len = len;
	st[XKV_TCP_STAT_segments] = 1;
	tcppkt_build(in, &s);
	c->cw += (__u32)len;
	return expect(e, PROG_XDP, in, XDP_DROP, NULL, st,
		      "%s: handed to the store program", name);
}

/*
 * What a hot-cache miss hands to the store program (its tail-call slot
 * holds a stand-in that drops): a text get, a binary GET and a batch
 * with a quiet miss, an mg with or without q; what it does not: an mg
 * the split passes (a flag twice), a binary GET on a text connection.
 */
static void test_store_offer(struct env *e)
{
	static const struct {
		bool ipv6, ts;
		const char *line, *name;
	} lines[] = {
		{ false, true, "get nokey\r\n", "store: text get miss" },
		{ true, true, "gets foo nokey\r\n",
		  "store: gets, second key a miss" },
		{ false, true, "mg nokey v f\r\n", "store: mg miss" },
		{ false, false, "mg bm9rZXk= b v k q\r\n",
		  "store: mg quiet miss, base64 key" },
	};
	int mfd = store_mark_load(), jfd;
	__u32 slot = XKV_STORE_JMP_TCP;
	struct conn *c = malloc(sizeof(*c));
	__u8 rq[300];
	size_t rl, i;

	if (!c)
		tap_bail("out of memory");
	jfd = bpf_map__fd(e->skel->maps.xkv_store_jmp);
	if (!tap_ok(mfd >= 0 && !bpf_map_update_elem(jfd, &slot, &mfd, 0),
		    "a stand-in store program in the TCP slot")) {
		tap_diag("  load or update: %s", strerror(errno));
		free(c);
		return;
	}
	for (i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		conn_init(c, lines[i].ipv6, lines[i].ts);
		conn_open(e, c, true, lines[i].name);
		c_store(e, c, lines[i].line, strlen(lines[i].line),
			lines[i].name);
		conn_release(e, c);
	}
	bin_conn(e, c, XKV_TCP_PROTO_NONE, "store: binary GET");
	rl = bin_request(rq, XKV_BIN_GET, "nokey", 1);
	c_store(e, c, rq, rl, "store: binary GET miss");
	conn_release(e, c);
	bin_conn(e, c, XKV_TCP_PROTO_BIN, "store: binary batch");
	rl = bin_request(rq, XKV_BIN_GETKQ, "foo", 2);
	rl += bin_request(rq + rl, XKV_BIN_GETKQ, "nokey", 3);
	rl += bin_request(rq + rl, XKV_BIN_NOOP, "", 4);
	c_store(e, c, rq, rl, "store: binary GETKQ hit, GETKQ miss, NOOP");
	conn_release(e, c);
	bin_conn(e, c, XKV_TCP_PROTO_TEXT, "store: binary on text");
	rl = bin_request(rq, XKV_BIN_GET, "nokey", 5);
	bin_seg(e, c, rq, rl, NULL, 0, XKV_TCP_STAT_pass_not_get,
		"store: binary GET on a text connection: not handed over");
	conn_release(e, c);

	conn_init(c, false, true);
	conn_open(e, c, true, "store: mg k k");
	c_pass(e, c, "mg nokey v k k\r\n", XKV_TCP_STAT_pass_not_get,
	       "store: mg with a flag twice: not handed over");
	conn_release(e, c);

	tap_ok(!bpf_map_delete_elem(jfd, &slot), "the TCP slot emptied");
	close(mfd);
	free(c);
}

static void test_not_quiet(struct env *e)
{
	struct conn *c = malloc(sizeof(*c));
	const char *set = "set a 0 0 1\r\nZ\r\n";
	struct xkv_tcp_ctl ctl = { .answer = 0 };
	struct tcpseg s;
	__u32 zero = 0, cw, rseq;
	size_t blen;

	if (!c)
		tap_bail("out of memory");
	blen = foo_body();

	/* a set, then a get while the backend still owes the set's reply */
	conn_init(c, false, true);
	conn_open(e, c, true, "owed");
	c_pass(e, c, set, XKV_TCP_STAT_pass_not_get, "owed: a set");
	c->ck = c->cw;
	c_pass(e, c, "get foo\r\n", XKV_TCP_STAT_pass_owed,
	       "owed: get before the backend answered the set");
	c->ck = c->cw;
	/* both answered, but the client has not acknowledged them yet */
	conn_publish(e, c, (__u32)strlen(set) + 9, 8 + (__u32)blen);
	c_pass(e, c, "get foo\r\n", XKV_TCP_STAT_pass_unacked,
	       "unacked: get before the client acknowledged STORED");
	s = k_seg(c, TCPF_ACK | TCPF_PSH, "STORED\r\n");
	tcppkt_build(in, &s);
	expect(e, PROG_TC_OUT, in, TC_ACT_OK, NULL, ST(0),
	       "unacked: the kernel's STORED, untranslated");
	c->sk += 8;
	c->sw += 8 + (__u32)blen;
	/* the kernel answers the get XDP passed */
	be_answered(e, c, 9, (__u32)blen);
	conn_hit(e, c, "get foo\r\n", body, blen, 1,
		 "quiescent once all is acknowledged: hit");
	conn_release(e, c);

	/* done.in ahead of the request: the backend read bytes XDP did not
	 * see go by (they must not be answered twice) */
	conn_init(c, true, false);
	conn_open(e, c, true, "owed (backend ahead)");
	conn_publish(e, c, 3, 0);
	c_pass(e, c, "get foo\r\n", XKV_TCP_STAT_pass_owed,
	       "owed: backend's count is not the request's offset");
	conn_release(e, c);

	/*
	 * Later bytes already went to the stack: the first of two gets was
	 * lost and comes again after the second, which the kernel holds out
	 * of order. Consuming the first would shift the kernel seq of bytes
	 * it already queued: it goes to the kernel too.
	 */
	conn_init(c, false, true);
	conn_open(e, c, true, "ahead");
	cw = c->cw;
	c->cw = cw + 9;
	c_pass(e, c, "get foo\r\n", XKV_TCP_STAT_pass_owed,
	       "ahead: the second get, the first still missing");
	c->cw = cw;
	c_pass(e, c, "get foo\r\n", XKV_TCP_STAT_pass_ahead,
	       "ahead: the first get, sent again after it");
	/* the backend answered both; the client has the replies */
	c->cw = cw + 18;
	be_answered(e, c, 18, 2 * (__u32)blen);
	conn_hit(e, c, "get foo\r\n", body, blen, 1,
		 "ahead: once the kernel has them all: hit");
	conn_release(e, c);

	/* XDP's own reply not acknowledged yet: the next get goes up */
	conn_init(c, false, true);
	conn_open(e, c, true, "unacked XDP reply");
	rseq = c->sw;
	conn_hit(e, c, "get foo\r\n", body, blen, 1,
		 "unacked XDP reply: a hit");
	s = c_seg(c, TCPF_ACK | TCPF_PSH, "get foo\r\n");
	s.ack = rseq;	/* the reply's start: not acknowledged */
	tcppkt_build(in, &s);
	expect(e, PROG_XDP, in, XDP_PASS, NULL,
	       ST(S(segments, 1), S(pass_unacked, 1)),
	       "unacked XDP reply: the next get, acking before it, passed");
	/* the client gets the reply and sends that get again (a tail loss
	 * probe, say) before the backend read the copy that went up: it
	 * would answer it too */
	conn_ack(e, c, "unacked XDP reply: now acknowledged");
	c_pass(e, c, "get foo\r\n", XKV_TCP_STAT_pass_ahead,
	       "unacked XDP reply: the passed get sent again, still unread");
	conn_release(e, c);

	/* unregistered, then registered */
	conn_init(c, false, true);
	conn_open(e, c, false, "unregistered");
	c_pass(e, c, "get foo\r\n", XKV_TCP_STAT_pass_unregistered,
	       "unregistered: no xkv_tcp_ans entry");
	conn_claim(e, c);
	e->ans[c->ans].owner = XKV_TCP_ANS_BUSY;
	c_pass(e, c, "get foo\r\n", XKV_TCP_STAT_pass_unregistered,
	       "unregistered: entry being claimed (BUSY)");
	__atomic_store_n(&e->ans[c->ans].owner, XKV_TCP_ANS_LIVE,
			 __ATOMIC_RELEASE);
	be_answered(e, c, 18, 2 * (__u32)blen);
	conn_hit(e, c, "get foo\r\n", body, blen, 1,
		 "unregistered: hit once the entry is LIVE");
	conn_release(e, c);

	/* off */
	conn_init(c, false, true);
	conn_open(e, c, true, "off");
	if (bpf_map_update_elem(e->ctl_fd, &zero, &ctl, BPF_ANY))
		tap_bail("cannot write xkv_tcp_ctl");
	c_pass(e, c, "get foo\r\n", XKV_TCP_STAT_pass_off,
	       "off: xkv_tcp_ctl.answer = 0");
	ctl.answer = 1;
	if (bpf_map_update_elem(e->ctl_fd, &zero, &ctl, BPF_ANY))
		tap_bail("cannot write xkv_tcp_ctl");
	be_answered(e, c, 9, (__u32)blen);
	conn_hit(e, c, "get foo\r\n", body, blen, 1, "off: on again: hit");
	conn_release(e, c);

	/* misses; the backend answers each (END: 5 bytes) */
	conn_init(c, false, true);
	conn_open(e, c, true, "miss");
	c_pass(e, c, "get nothere\r\n", XKV_TCP_STAT_pass_miss,
	       "miss: one key");
	be_answered(e, c, 13, 5);
	c_pass(e, c, "get foo nothere\r\n", XKV_TCP_STAT_pass_miss,
	       "miss: second of two keys");
	be_answered(e, c, 17, (__u32)blen);
	cw = c->cw;
	s = c_seg(c, TCPF_ACK | TCPF_PSH, "get foo\r\n");
	s.bad_csum = true;
	seg_passed(e, &s,
		   "bad TCP checksum: passed for the stack to drop");
	c->cw = cw;
	s = c_seg(c, TCPF_ACK | TCPF_PSH, "get foo\r\n");
	s.nsack = 1;
	s.sack[0][0] = c->sw + 100;
	s.sack[0][1] = c->sw + 200;
	seg_passed(e, &s, "request carrying a SACK block: passed");
	c->cw = cw;
	s = c_seg(c, TCPF_ACK | TCPF_PSH, "get foo\r\n");
	s.xopt = (const __u8[]){ 1, 30, 5 };	/* runs past the options */
	s.xlen = 3;
	seg_passed(e, &s, "request with malformed options: passed");
	c->cw = cw;
	s = c_seg(c, TCPF_ACK | TCPF_PSH, "get foo\r\n");
	s.ts = !s.ts;
	seg_passed(e, &s, "request without the negotiated timestamps: passed");
	/* nothing above moved the connection */
	s = k_seg(c, TCPF_ACK, NULL);
	tcppkt_build(in, &s);
	expect(e, PROG_TC_OUT, in, TC_ACT_OK, NULL, ST(0),
	       "after passes only: the kernel's ACK is untranslated");
	/* the stack took one of those copies: the backend answers it */
	c->cw = cw + 9;
	be_answered(e, c, 9, (__u32)blen);
	conn_hit(e, c, "get foo\r\n", body, blen, 1, "miss: then a hit");
	conn_release(e, c);
	free(c);
}

static void test_segments(struct env *e)
{
	struct conn *c = malloc(sizeof(*c));
	struct tcpseg s;
	size_t blen;
	__u32 cw;

	if (!c)
		tap_bail("out of memory");
	blen = foo_body();

	/* a request split across two segments */
	conn_init(c, false, true);
	conn_open(e, c, true, "split");
	c_pass(e, c, "get fo", XKV_TCP_STAT_pass_not_get,
	       "split: first part");
	c_pass(e, c, "o\r\n", XKV_TCP_STAT_pass_owed, "split: second part");
	conn_release(e, c);

	/* pipelined: a get and a set in one segment, two gets */
	conn_init(c, true, true);
	conn_open(e, c, true, "pipelined");
	c_pass(e, c, "get foo\r\nget foo\r\n", XKV_TCP_STAT_pass_not_get,
	       "pipelined: get + get");
	be_answered(e, c, 18, 2 * (__u32)blen);
	c_pass(e, c, "get foo\r\nset x 0 0 1\r\nA\r\n",
	       XKV_TCP_STAT_pass_not_get, "pipelined: get + set");
	be_answered(e, c, 25, (__u32)blen + 8);
	c_pass(e, c, "set x 0 0 1\r\nA\r\nget foo\r\n",
	       XKV_TCP_STAT_pass_not_get, "pipelined: set + get");
	conn_release(e, c);

	/* the client's window: no scaling, 24 bytes (the reply is 25) */
	conn_init(c, false, true);
	c->ws = 0;
	c->cwin = (__u16)(blen - 1);
	conn_open(e, c, true, "window");
	c_pass(e, c, "get foo\r\n", XKV_TCP_STAT_pass_too_big,
	       "window one byte short of the reply");
	c->cwin = (__u16)blen;
	be_answered(e, c, 9, (__u32)blen);
	conn_hit(e, c, "get foo\r\n", body, blen, 1,
		 "window exactly the reply: hit");
	conn_release(e, c);

	/* scaled window: field 0 with shift 7 */
	conn_init(c, true, false);
	conn_open(e, c, true, "zero window");
	c->cwin = 0;
	c_pass(e, c, "get foo\r\n", XKV_TCP_STAT_pass_too_big,
	       "zero window");
	conn_release(e, c);

	/* the client offers window scaling, the kernel does not: the
	 * client's window field is not scaled */
	conn_init(c, false, true);
	c->cwin = (__u16)(blen - 1);
	conn_open_ws(e, c, 0, "window scaling refused");
	conn_claim(e, c);
	c_pass(e, c, "get foo\r\n", XKV_TCP_STAT_pass_too_big,
	       "window scaling refused by the kernel: window unscaled");
	conn_release(e, c);

	/* the client's MSS, with timestamps taking 12 bytes of it */
	conn_init(c, false, true);
	c->mss = (__u16)(blen + 11);
	conn_open(e, c, true, "MSS with timestamps");
	cw = c->cw;
	c_pass(e, c, "get foo\r\n", XKV_TCP_STAT_pass_too_big,
	       "MSS with timestamps: 12 bytes of options leave no room");
	conn_release(e, c);
	conn_init(c, false, true);
	c->mss = (__u16)(blen + 12);
	conn_open(e, c, true, "MSS with timestamps (fits)");
	conn_hit(e, c, "get foo\r\n", body, blen, 1,
		 "MSS with timestamps: reply plus options fit: hit");
	conn_release(e, c);

	/* the largest reply kept (XKV_TCP_REPLY_MAX), and one byte more */
	{
		static char val[1400];
		struct item big = { "big", val, 7, 77 };
		size_t n;

		for (n = 0; n < 1383; n++)
			val[n] = (char)('!' + n % 90);
		val[n] = 0;
		hot_set(e, &big);
		n = body_of(body, sizeof(body),
			    (const struct item *const[]){ &big }, 1, false);
		conn_init(c, true, true);
		conn_open(e, c, true, "largest reply");
		conn_hit(e, c, "get big\r\n", body, n, 1,
			 "largest reply kept (1408 bytes): hit");
		tap_is_u64(n, XKV_TCP_REPLY_MAX,
			   "that reply is XKV_TCP_REPLY_MAX");
		/* lost: the retransmitted request gets all of it again */
		expect(e, PROG_XDP, &c->req, XDP_TX, &c->reply,
		       ST(S(segments, 1), S(resent, 1)),
		       "largest reply resent byte-identical");
		conn_ack(e, c, "largest reply acknowledged");
		val[1383] = 'x';
		val[1384] = 0;
		hot_set(e, &big);
		c_pass(e, c, "get big\r\n", XKV_TCP_STAT_pass_too_big,
		       "one byte over XKV_TCP_REPLY_MAX");
		conn_release(e, c);
		foo_body();
	}

	/* the client's MSS */
	conn_init(c, false, false);
	c->mss = (__u16)(blen - 1);
	conn_open(e, c, true, "MSS");
	c_pass(e, c, "get foo\r\n", XKV_TCP_STAT_pass_too_big,
	       "MSS one byte short of the reply");
	conn_release(e, c);

	/* flags */
	conn_init(c, false, true);
	conn_open(e, c, true, "flags");
	cw = c->cw;
	s = c_seg(c, TCPF_ACK | TCPF_PSH | 0x20, "get foo\r\n");
	seg_passed(e, &s, "URG: passed");
	/* the kernel takes urgent data: the backend answers it */
	c->cw = cw + 9;
	be_answered(e, c, 9, (__u32)blen);
	s = c_seg(c, TCPF_PSH, "get foo\r\n");
	seg_passed(e, &s, "no ACK: passed");
	conn_hit(e, c, "get foo\r\n", body, blen, 1, "flags: then a hit");
	conn_release(e, c);
	free(c);
}

/*
 * segment @s through TC program @prog (PROG_TC_OUT: a kernel segment to
 * the wire, PROG_TC_IN: a client segment to the kernel), let through as @w
 */
static bool translated(struct env *e, int prog, const struct tcpseg *s,
		       const struct tcpseg *w, const __u64 *st,
		       const char *name)
{
	struct pkt *p = malloc(sizeof(*p));
	bool ok;

	if (!p)
		tap_bail("out of memory");
	tcppkt_build(p, s);
	tcppkt_build(want, w);
	ok = expect(e, prog, p, TC_ACT_OK, want, st, "%s", name);
	free(p);
	return ok;
}

/* kernel segment @s through tc_out, expected on the wire as @w */
static bool k_out(struct env *e, const struct tcpseg *s,
		  const struct tcpseg *w, const __u64 *st, const char *name)
{
	return translated(e, PROG_TC_OUT, s, w, st, name);
}

/* client segment @s through tc_in, expected in the kernel as @w */
static bool c_in(struct env *e, const struct tcpseg *s,
		 const struct tcpseg *w, const __u64 *st, const char *name)
{
	return translated(e, PROG_TC_IN, s, w, st, name);
}

static void test_translate(struct env *e, bool ipv6)
{
	struct conn *c = malloc(sizeof(*c));
	const char *get = "get foo\r\n", *set = "set a 0 0 1\r\nZ\r\n";
	__u32 rs, rl, qs, ql;
	struct tcpseg s, w;
	char name[64];
	size_t blen;

	if (!c)
		tap_bail("out of memory");
	snprintf(name, sizeof(name), "translate (IPv%d)", ipv6 ? 6 : 4);
	blen = foo_body();
	conn_init(c, ipv6, true);
	/* both sequence spaces wrap inside the request and the reply */
	c->irs = 0xfffffffau;
	c->iss = 0xfffffff0u;
	conn_open(e, c, true, name);
	qs = c->cw;
	ql = (__u32)strlen(get);
	rs = c->sw;
	rl = (__u32)blen;
	conn_hit(e, c, get, body, blen, 1, name);

	/* the kernel's ACK while the reply is unacked: held at the request */
	s = k_seg(c, TCPF_ACK, NULL);
	w = s;
	w.seq = s.seq + rl;
	w.ack = qs;
	k_out(e, &s, &w, ST(S(acks_held, 1)),
	      "unacked reply: kernel ACK's seq up by the reply, ack held at "
	      "the request");
	/* the same with a SACK block of client data past the request */
	s = k_seg(c, TCPF_ACK, NULL);
	s.nsack = 1;
	s.sack[0][0] = c->ck + 10;
	s.sack[0][1] = c->ck + 30;
	w = s;
	w.seq = s.seq + rl;
	w.ack = qs;
	w.sack[0][0] = s.sack[0][0] + ql;
	w.sack[0][1] = s.sack[0][1] + ql;
	k_out(e, &s, &w, ST(S(acks_held, 1)),
	      "unacked reply: kernel SACK block up by the request");

	/* a client ACK that covers half the reply, through tc_in */
	s = c_seg(c, TCPF_ACK, NULL);
	s.ack = rs + rl / 2;
	w = s;
	w.seq = c->ck;
	w.ack = rs;
	c_in(e, &s, &w, ST(0),
	     "client ACK inside the reply: seq down by the request, ack to "
	     "where the reply went in");

	/* the client acknowledges the reply: with XDP gone, tc_in sees it */
	s = c_seg(c, TCPF_ACK, NULL);
	w = s;
	w.seq = c->ck;
	w.ack = c->sk;
	c_in(e, &s, &w, ST(0),
	     "client ACK of the reply through tc_in: seq and ack down");
	conn_ack(e, c, "client acknowledges the reply: XDP passes it");

	/* the kernel's ACK now acknowledges the request */
	s = k_seg(c, TCPF_ACK, NULL);
	w = s;
	w.seq = s.seq + rl;
	w.ack = s.ack + ql;
	k_out(e, &s, &w, ST(0),
	      "acked reply: kernel ACK's seq up by the reply, ack up by the "
	      "request");

	/* a set from the client: XDP passes it, tc_in moves it */
	s = c_seg(c, TCPF_ACK | TCPF_PSH, set);
	tcppkt_build(in, &s);
	expect(e, PROG_XDP, in, XDP_PASS, NULL,
	       ST(S(segments, 1), S(pass_not_get, 1)),
	       "translate: a set after the hit");
	w = s;
	w.seq = c->ck;
	w.ack = c->sk;
	c_in(e, &s, &w, ST(0), "the set through tc_in: seq and ack down");
	c->cw += (__u32)strlen(set);
	c->ck += (__u32)strlen(set);

	/* the kernel's STORED */
	s = k_seg(c, TCPF_ACK | TCPF_PSH, "STORED\r\n");
	w = s;
	w.seq = s.seq + rl;
	w.ack = s.ack + ql;
	k_out(e, &s, &w, ST(0),
	      "kernel data: seq up by the reply, ack up by the request");
	c->sk += 8;
	c->sw += 8;
	conn_publish(e, c, (__u32)strlen(set), 8);

	/* SACK blocks from the client, wire to kernel */
	s = c_seg(c, TCPF_ACK, NULL);
	s.ack = c->sw - 8;
	s.nsack = 2;
	s.sack[0][0] = c->sw + 100;	/* beyond every reply */
	s.sack[0][1] = c->sw + 200;
	s.sack[1][0] = rs + 3;		/* inside the XDP reply */
	s.sack[1][1] = rs + rl;		/* its end */
	w = s;
	w.seq = c->ck;
	w.ack = c->sk - 8;
	w.sack[0][0] = s.sack[0][0] - rl;
	w.sack[0][1] = s.sack[0][1] - rl;
	w.sack[1][0] = rs;
	w.sack[1][1] = rs;
	c_in(e, &s, &w, ST(0),
	     "client SACK blocks: past the reply down by it, inside it to "
	     "where it went in");

	/* the consumed request again, reaching tc_in: dropped */
	s = c_seg(c, TCPF_ACK | TCPF_PSH, get);
	s.seq = qs;
	tcppkt_build(in, &s);
	expect(e, PROG_TC_IN, in, TC_ACT_SHOT, NULL, ST(S(dropped, 1)),
	       "client segment over the consumed request at tc_in");
	s = c_seg(c, TCPF_ACK | TCPF_PSH, "o\r\nset a 0 0 1\r\n");
	s.seq = qs + ql - 3;
	tcppkt_build(in, &s);
	expect(e, PROG_TC_IN, in, TC_ACT_SHOT, NULL, ST(S(dropped, 1)),
	       "client segment overlapping the request's tail at tc_in");
	/* ... but a segment ending right at it is moved */
	s = c_seg(c, TCPF_ACK | TCPF_PSH, "xy");
	s.seq = qs - 2;
	w = s;
	w.ack = c->sk;
	c_in(e, &s, &w, ST(0),
	     "client segment ending where the request began: only the ack "
	     "moves");
	/* a keepalive probe right after the request: one before rcv_nxt */
	s = c_seg(c, TCPF_ACK, NULL);
	s.seq = qs + ql - 1;
	w = s;
	w.seq = qs - 1;
	w.ack = c->sk;
	c_in(e, &s, &w, ST(0),
	     "keepalive probe at the consumed request's last byte: one "
	     "before the kernel's rcv_nxt");

	/* options that do not parse: the segment cannot be moved */
	s = c_seg(c, TCPF_ACK | TCPF_PSH, "version\r\n");
	s.xopt = (const __u8[]){ 30, 40 };	/* longer than the options */
	s.xlen = 2;
	tcppkt_build(in, &s);
	expect(e, PROG_TC_IN, in, TC_ACT_SHOT, NULL, ST(S(dropped, 1)),
	       "client segment with malformed options at tc_in");
	s = k_seg(c, TCPF_ACK, NULL);
	s.xopt = (const __u8[]){ 30, 1 };	/* length below 2 */
	s.xlen = 2;
	tcppkt_build(in, &s);
	expect(e, PROG_TC_OUT, in, TC_ACT_SHOT, NULL, ST(S(dropped, 1)),
	       "kernel segment with malformed options at tc_out");

	/* a kernel segment across the point the reply went in */
	s = k_seg(c, TCPF_ACK | TCPF_PSH, "0123456789");
	s.seq = rs - 4;
	tcppkt_build(in, &s);
	expect(e, PROG_TC_OUT, in, TC_ACT_SHOT, NULL, ST(S(dropped, 1)),
	       "kernel segment straddling the reply's insertion point");
	/* and one that ends there is not moved */
	s = k_seg(c, TCPF_ACK | TCPF_PSH, "0123");
	s.seq = rs - 4;
	w = s;
	w.ack = s.ack + ql;
	k_out(e, &s, &w, ST(0),
	      "kernel segment ending at the insertion point: seq kept");
	/* a kernel FIN: seq moved, flag recorded */
	s = k_seg(c, TCPF_ACK | TCPF_FIN, NULL);
	w = s;
	w.seq = s.seq + rl;
	w.ack = s.ack + ql;
	k_out(e, &s, &w, ST(0), "kernel FIN: moved like any segment");
	{
		struct xkv_tcp_conn t;

		tap_ok(!conn_state(e, c, &t) && (t.x.flags & XKV_TC_FIN_S) &&
		       (t.x.flags & XKV_TC_MOVED) && t.closed_ns,
		       "kernel FIN recorded");
	}
	conn_release(e, c);
	free(c);
}

static void test_retransmit(struct env *e)
{
	struct conn *c = malloc(sizeof(*c));
	struct tcpseg s, r;
	__u32 rs, rl, qs, ql;
	size_t blen;

	if (!c)
		tap_bail("out of memory");
	blen = foo_body();
	conn_init(c, false, true);
	conn_open(e, c, true, "retransmit");
	qs = c->cw;
	rs = c->sw;
	ql = 9;
	rl = (__u32)blen;
	conn_hit(e, c, "get foo\r\n", body, blen, 1, "retransmit: hit");

	/* the very same segment again: the very same reply */
	expect(e, PROG_XDP, &c->req, XDP_TX, &c->reply,
	       ST(S(segments, 1), S(resent, 1)),
	       "retransmitted request: reply sent again byte-identical");
	/* a later retransmission (new TSval): same payload, new TSecr */
	s = c_seg(c, TCPF_ACK | TCPF_PSH, "get foo\r\n");
	s.seq = qs;
	s.ack = rs;
	r = x_seg(c, rs, qs + ql, s.tsval, body, blen);
	tcppkt_build(in, &s);
	tcppkt_build(want, &r);
	expect(e, PROG_XDP, in, XDP_TX, want,
	       ST(S(segments, 1), S(resent, 1)),
	       "retransmitted request with a new TSval: reply again, TSecr "
	       "echoes it");

	/* the kernel sends data after the reply (answering a later set
	 * the client sent along); the client got that, not the reply */
	{
		const char *set = "set a 0 0 1\r\nZ\r\n";
		struct tcpseg w;

		s = c_seg(c, TCPF_ACK | TCPF_PSH, set);
		s.ack = rs;	/* the client has not got the reply */
		tcppkt_build(in, &s);
		expect(e, PROG_XDP, in, XDP_PASS, NULL,
		       ST(S(segments, 1), S(pass_unacked, 1)),
		       "a set while the reply is unacked");
		c->cw += (__u32)strlen(set);
		c->ck += (__u32)strlen(set);
		s = k_seg(c, TCPF_ACK | TCPF_PSH, "STORED\r\n");
		w = s;
		w.seq = s.seq + rl;
		w.ack = qs;
		k_out(e, &s, &w, ST(S(acks_held, 1)),
		      "STORED while the reply is unacked: ack held");
		c->sk += 8;
		c->sw += 8;
	}
	/* duplicate ACK: ack at the reply, SACK of STORED */
	s = c_seg(c, TCPF_ACK, NULL);
	s.ack = rs;
	s.nsack = 1;
	s.sack[0][0] = rs + rl;
	s.sack[0][1] = rs + rl + 8;
	r.tsval = c->tss;		/* the kernel's last TSval now */
	r.tsecr = s.tsval;
	r.win = c->swin;
	tcppkt_build(in, &s);
	tcppkt_build(want, &r);
	expect(e, PROG_XDP, in, XDP_TX, want,
	       ST(S(segments, 1), S(resent, 1)),
	       "duplicate ACK with a SACK block past the reply: resent");
	/* a duplicate ACK whose SACK block does not show the reply lost */
	s = c_seg(c, TCPF_ACK, NULL);
	s.ack = rs;
	s.nsack = 1;
	s.sack[0][0] = rs + rl + 100;
	s.sack[0][1] = rs + rl + 108;
	s.ack = rs - 1;
	tcppkt_build(in, &s);
	expect(e, PROG_XDP, in, XDP_PASS, NULL, ST(S(segments, 1)),
	       "ACK below the reply with a SACK block: passed");

	/* the client acknowledges everything: the reply is gone */
	conn_ack(e, c, "client acknowledges reply and STORED");
	s = c_seg(c, TCPF_ACK | TCPF_PSH, "get foo\r\n");
	s.seq = qs;
	tcppkt_build(in, &s);
	expect(e, PROG_XDP, in, XDP_DROP, NULL,
	       ST(S(segments, 1), S(dropped, 1), S(handed_back, 1)),
	       "retransmitted request after the reply was acknowledged: "
	       "dropped, connection handed back");
	tcppkt_build(in, &s);
	expect(e, PROG_XDP, in, XDP_DROP, NULL,
	       ST(S(segments, 1), S(dropped, 1)),
	       "the same again: dropped, handed back only once");
	s = c_seg(c, TCPF_ACK, NULL);
	s.ack = rs;
	s.nsack = 1;
	s.sack[0][0] = rs + rl;
	s.sack[0][1] = rs + rl + 8;
	tcppkt_build(in, &s);
	expect(e, PROG_XDP, in, XDP_PASS, NULL, ST(S(segments, 1)),
	       "old duplicate ACK after the reply was acknowledged: passed");
	/* handed back: never answered again, still translated */
	c_pass(e, c, "get foo\r\n", XKV_TCP_STAT_pass_untracked,
	       "handed back: a hit is left to the backend");
	{
		struct tcpseg w;

		s = k_seg(c, TCPF_ACK, NULL);
		w = s;
		w.seq = s.seq + rl;
		w.ack = s.ack + ql;
		k_out(e, &s, &w, ST(0),
		      "handed back: the kernel's segments still translated");
	}
	conn_release(e, c);
	free(c);
}

/*
 * XDP sends a kept reply again from @off, answering @s: whole, or a
 * piece when the frame has no room for it all. Checks the frame byte for
 * byte, for the length it has; the piece's ACK is the request's start
 * unless it ends the reply. Return: the piece's length, 0 on a failure.
 */
static size_t piece(struct env *e, struct conn *c, const struct tcpseg *s,
		    __u32 qs, __u32 ql, __u32 rs, size_t blen, size_t off,
		    const char *name)
{
	const char *sums;
	struct tcpview v;
	struct tcpseg r;
	size_t len = 0;
	bool last, ok;

	tcppkt_build(in, s);
	run(e, PROG_XDP, in, &res);
	sums = tcppkt_check(res.out, res.len, &v);
	if (!res.err && res.retval == XDP_TX && !sums)
		len = v.len <= blen - off ? v.len : 0;
	last = off + len == blen;
	r = x_seg(c, rs + (__u32)off, last ? qs + ql : qs, s->tsval,
		  body + off, len);
	tcppkt_build(want, &r);
	ok = len && res.len == want->len &&
	     !memcmp(res.out, want->b, want->len) &&
	     !memcmp(res.d, ST(S(segments, 1), S(resent, 1),
			       S(resent_part, len < blen - off)),
		     sizeof(res.d));
	if (tap_ok(ok, "%s: XDP_TX of bytes %zu-%zu of %zu, %s, byte-exact",
		   name, off, off + len, blen,
		   last ? "acknowledging the request" :
			  "the request left unacknowledged"))
		return len;
	tap_diag("  %s, %u bytes%s%s", action(PROG_XDP, res.retval), res.len,
		 sums ? ": " : "", sums ? sums : "");
	if (len)
		fixture_diag_frames(res.out, res.len, want->b, want->len);
	return 0;
}

/*
 * The request comes first in a roomy buffer (here: the frame padded
 * after its IP packet), and XDP answers it with a reply far longer; the
 * reply is lost. Its retransmissions come in tight buffers (veth's vary
 * from frame to frame; here XKV_CFG_HEAD_ONLY leaves BPF_PROG_TEST_RUN's
 * 256 bytes of headroom, less the kernel's xdp_frame, to grow into)
 * where the whole reply cannot go: it goes out in pieces, each sent
 * when the client acknowledges the one before, the last one
 * acknowledging the request. A lost piece: the request's next
 * retransmission gets it again. Before, such a frame was dropped, every
 * time: the connection hung (net/stream's "get mode while 2% of frames
 * are lost").
 */
static void test_pieces(void)
{
	static char val[701];
	static const struct item it_big = { "big", val, 7, 1004 };
	struct conn *c = malloc(sizeof(*c));
	size_t blen, off = 0, n;
	struct tcpseg s, r;
	struct env env, *e = &env;
	__u32 qs, rs, ql;
	int rounds = 0;

	if (!c)
		tap_bail("out of memory");
	if (env_open(e, XKV_CFG_ALLOW_ANY | XKV_CFG_HEAD_ONLY))
		tap_bail("cannot load the XDP object with HEAD_ONLY");
	memset(val, 'v', sizeof(val) - 1);
	val[0] = '<';
	val[sizeof(val) - 2] = '>';
	hot_set(e, &it_big);
	blen = body_of(body, sizeof(body),
		       (const struct item *const[]){ &it_big }, 1, false);
	conn_init(c, false, true);
	conn_open(e, c, true, "pieces");
	qs = c->cw;
	rs = c->sw;
	ql = 9;

	s = c_seg(c, TCPF_ACK | TCPF_PSH, "get big\r\n");
	tcppkt_build(&c->req, &s);
	*in = c->req;
	memset(in->b + in->len, 0, 1200);
	in->len += 1200;
	r = x_seg(c, rs, qs + ql, s.tsval, body, blen);
	tcppkt_build(want, &r);
	expect(e, PROG_XDP, in, XDP_TX, want,
	       ST(S(segments, 1), S(hits, 1), S(keys, 1),
		  S(reply_bytes, blen)),
	       "pieces: a %zu-byte reply from a roomy frame", blen);
	c->cw += ql;

	/* lost; the request again, in a frame with no room for the reply */
	s = c_seg(c, TCPF_ACK | TCPF_PSH, "get big\r\n");
	s.seq = qs;
	n = piece(e, c, &s, qs, ql, rs, blen, off,
		  "pieces: retransmitted request");
	tap_ok(n && n < blen, "pieces: a piece, not the whole reply");
	while (n && off + n < blen && rounds++ < 64) {
		off += n;
		s = c_seg(c, TCPF_ACK, NULL);
		s.ack = rs + (__u32)off;
		if (rounds == 2) {
			/* this piece is lost: the request comes again */
			tcppkt_build(in, &s);
			run(e, PROG_XDP, in, &res);
			s = c_seg(c, TCPF_ACK | TCPF_PSH, "get big\r\n");
			s.seq = qs;
			s.ack = rs + (__u32)off;
			n = piece(e, c, &s, qs, ql, rs, blen, off,
				  "pieces: after a lost piece, the request");
			continue;
		}
		n = piece(e, c, &s, qs, ql, rs, blen, off,
			  "pieces: the client's ACK of the piece before");
		if (rounds == 1) {
			/* the same ACK again asks for nothing */
			tcppkt_build(in, &s);
			expect(e, PROG_XDP, in, XDP_PASS, NULL,
			       ST(S(segments, 1)),
			       "pieces: a duplicate of that ACK: passed");
		}
	}
	tap_ok(n && off + n == blen, "pieces: the whole reply went out");
	c->sw = rs + (__u32)blen;
	conn_ack(e, c, "pieces: the client acknowledges the reply");
	hot_set(e, &it_foo);
	conn_hit(e, c, "get foo\r\n", body, foo_body(), 1,
		 "pieces: then the next GET is answered");
	conn_release(e, c);
	env_close(e);
	free(c);
}

static void test_two_hits(struct env *e, bool ipv6)
{
	struct conn *c = malloc(sizeof(*c));
	const char *set = "set a 0 0 1\r\nZ\r\n";
	__u32 rl2, skset;
	const char *l2 = "get foo k2\r\n";
	struct tcpseg s, w;
	char *body2 = malloc(PKT_MAX);
	size_t blen, blen2;

	if (!c || !body2)
		tap_bail("out of memory");
	blen2 = body_of(body2, PKT_MAX,
			(const struct item *const[]){ &it_foo, &it_k2 }, 2,
			false);
	blen = foo_body();
	conn_init(c, ipv6, !ipv6);
	conn_open(e, c, true, ipv6 ? "two hits (IPv6)" : "two hits (IPv4)");
	conn_hit(e, c, "get foo\r\n", body, blen, 1, "two hits: first");
	expect(e, PROG_XDP, &c->req, XDP_TX, &c->reply,
	       ST(S(segments, 1), S(resent, 1)),
	       "two hits: first request retransmitted (%s): resent",
	       c->ts ? "timestamps" : "no timestamps");
	conn_ack(e, c, "two hits: client acknowledges the first reply");
	rl2 = (__u32)blen2;
	conn_hit(e, c, l2, body2, blen2, 2, "two hits: second");
	conn_ack(e, c, "two hits: client acknowledges the second reply");

	s = k_seg(c, TCPF_ACK, NULL);
	w = s;
	w.seq = s.seq + (__u32)blen + rl2;
	w.ack = s.ack + 9 + (__u32)strlen(l2);
	k_out(e, &s, &w, ST(0),
	      "two hits: kernel ACK moved by both requests and replies");
	s = c_seg(c, TCPF_ACK | TCPF_PSH, set);
	w = s;
	w.seq = c->ck;
	w.ack = c->sk;
	c_in(e, &s, &w, ST(0),
	     "two hits: a set through tc_in moved by both");
	tcppkt_build(in, &s);
	expect(e, PROG_XDP, in, XDP_PASS, NULL,
	       ST(S(segments, 1), S(pass_not_get, 1)),
	       "two hits: the set through XDP");
	c->cw += (__u32)strlen(set);
	c->ck += (__u32)strlen(set);
	skset = c->sk;
	s = k_seg(c, TCPF_ACK | TCPF_PSH, "STORED\r\n");
	w = s;
	w.seq = s.seq + (__u32)blen + rl2;
	w.ack = s.ack + 9 + (__u32)strlen(l2);
	k_out(e, &s, &w, ST(0), "two hits: STORED moved by both");
	c->sk += 8;
	c->sw += 8;
	conn_publish(e, c, (__u32)strlen(set), 8);
	conn_ack(e, c, "two hits: client acknowledges STORED");

	/* a third hit after backend traffic: the reply goes in elsewhere */
	conn_hit(e, c, "get foo\r\n", body, blen, 1,
		 "third hit, after the backend's STORED");
	conn_ack(e, c, "third hit: client acknowledges it");
	/* STORED sent again by the kernel: before the new insertion point */
	s = k_seg(c, TCPF_ACK | TCPF_PSH, "STORED\r\n");
	s.seq = skset;
	w = s;
	w.seq = skset + (__u32)blen + rl2;
	w.ack = s.ack + 9 + (__u32)strlen(l2) + 9;
	k_out(e, &s, &w, ST(0),
	      "third hit: STORED retransmitted keeps the first two shifts");
	s = k_seg(c, TCPF_ACK, NULL);
	w = s;
	w.seq = s.seq + (__u32)blen * 2 + rl2;
	w.ack = s.ack + 9 + (__u32)strlen(l2) + 9;
	k_out(e, &s, &w, ST(0), "third hit: kernel ACK moved by all three");
	s = c_seg(c, TCPF_ACK, NULL);
	s.nsack = 1;
	s.sack[0][0] = c->sw + 10;
	s.sack[0][1] = c->sw + 20;
	w = s;
	w.seq = c->ck;
	w.ack = c->sk;
	w.sack[0][0] = s.sack[0][0] - ((__u32)blen * 2 + rl2);
	w.sack[0][1] = s.sack[0][1] - ((__u32)blen * 2 + rl2);
	c_in(e, &s, &w, ST(0), "third hit: client ACK + SACK moved by all");
	conn_release(e, c);
	free(body2);
	free(c);
}

static void test_close(struct env *e)
{
	struct conn *c = malloc(sizeof(*c));
	struct tcpseg s, w;
	struct xkv_tcp_conn t;
	struct xkv_tcp_key k;
	size_t blen;
	__u32 irs;
	int err;

	if (!c)
		tap_bail("out of memory");
	memset(&t, 0, sizeof(t));
	blen = foo_body();

	/* FIN from the client on a moved connection, then from the kernel */
	conn_init(c, false, true);
	conn_open(e, c, true, "close");
	conn_hit(e, c, "get foo\r\n", body, blen, 1, "close: hit");
	conn_ack(e, c, "close: reply acknowledged");
	s = c_seg(c, TCPF_ACK | TCPF_FIN, NULL);
	tcppkt_build(in, &s);
	expect(e, PROG_XDP, in, XDP_PASS, NULL,
	       ST(S(segments, 1), S(closed, 1)), "client FIN through XDP");
	tap_ok(!conn_state(e, c, &t) && (t.x.flags & XKV_TC_FIN_C) &&
	       (t.x.flags & XKV_TC_MOVED) && t.closed_ns,
	       "client FIN recorded, translation kept");
	w = s;
	w.seq = c->ck;
	w.ack = c->sk;
	c_in(e, &s, &w, ST(0), "client FIN through tc_in: moved");
	c->cw++;
	c->ck++;
	s = c_seg(c, TCPF_ACK | TCPF_PSH, "get foo\r\n");
	tcppkt_build(in, &s);
	expect(e, PROG_XDP, in, XDP_PASS, NULL,
	       ST(S(segments, 1), S(pass_untracked, 1)),
	       "a request after the client's FIN: not answered");
	/* a SYN now (only one side closed) must not restart tracking */
	irs = c->irs;
	s = (struct tcpseg){ .cport = c->cport, .seq = irs + 5000,
			     .flags = TCPF_SYN, .win = 64240, .mss = 1460,
			     .ts = true, .tsval = 5 };
	tcppkt_build(in, &s);
	expect(e, PROG_XDP, in, XDP_PASS, NULL, ST(S(segments, 1)),
	       "SYN on a half-closed moved tuple");
	tap_ok(!conn_state(e, c, &t) && t.irs == irs &&
	       (t.x.flags & XKV_TC_MOVED), "half-closed: translation kept");
	s = k_seg(c, TCPF_ACK | TCPF_FIN, NULL);
	w = s;
	w.seq = s.seq + (__u32)blen;
	w.ack = s.ack + 9;
	k_out(e, &s, &w, ST(0), "kernel FIN: moved");
	tap_ok(!conn_state(e, c, &t) && (t.x.flags & XKV_TC_FIN_S),
	       "kernel FIN recorded");
	/* both closed: a new SYN restarts tracking */
	s = (struct tcpseg){ .cport = c->cport, .seq = irs + 7000,
			     .flags = TCPF_SYN, .win = 64240, .mss = 1400,
			     .ws = 3, .ts = false };
	tcppkt_build(in, &s);
	expect(e, PROG_XDP, in, XDP_PASS, NULL, ST(S(segments, 1)),
	       "new SYN on a closed tuple");
	err = conn_state(e, c, &t);
	tap_ok(!err && t.x.flags == XKV_TC_SYN &&
	       t.irs == irs + 7000 && t.mss == 1400 && t.wscale == 2 &&
	       !t.x.in_s && !t.x.in_e && !t.x.in_after && !t.x.out_after &&
	       !t.x.rp_len && !t.closed_ns,
	       "new SYN: tracking restarted from it (flags %#x irs %u)",
	       t.x.flags, t.irs - irs);
	conn_release(e, c);

	/* a reset from the client on a moved connection */
	conn_init(c, true, true);
	conn_open(e, c, true, "reset");
	conn_hit(e, c, "get foo\r\n", body, blen, 1, "reset: hit");
	s = c_seg(c, TCPF_RST, NULL);
	tcppkt_build(in, &s);
	expect(e, PROG_XDP, in, XDP_PASS, NULL, ST(S(segments, 1)),
	       "client RST through XDP");
	tap_ok(!conn_state(e, c, &t) && (t.x.flags & XKV_TC_RST) && t.closed_ns,
	       "client RST recorded");
	s = c_seg(c, TCPF_ACK | TCPF_PSH, "get foo\r\n");
	tcppkt_build(in, &s);
	expect(e, PROG_XDP, in, XDP_PASS, NULL,
	       ST(S(segments, 1), S(pass_untracked, 1)),
	       "a request after a reset: not answered");
	s = (struct tcpseg){ .ipv6 = true, .cport = c->cport, .seq = 77,
			     .flags = TCPF_SYN, .win = 64240, .ts = true };
	tcppkt_build(in, &s);
	expect(e, PROG_XDP, in, XDP_PASS, NULL, ST(S(segments, 1)),
	       "new SYN after a reset");
	tap_ok(!conn_state(e, c, &t) &&
	       t.x.flags == (XKV_TC_SYN | XKV_TC_TS_C) &&
	       t.irs == 77 && t.mss == 536 && !(t.x.flags & XKV_TC_MOVED),
	       "after a reset: tracking restarted (no MSS: 536)");
	conn_release(e, c);

	/* the kernel resets a connection nothing was answered on */
	conn_init(c, false, false);
	conn_open(e, c, true, "kernel reset");
	s = k_seg(c, TCPF_RST | TCPF_ACK, NULL);
	tcppkt_build(in, &s);
	expect(e, PROG_TC_OUT, in, TC_ACT_OK, NULL, ST(0),
	       "kernel RST on an untranslated connection: untouched");
	conn_key(c, &k);
	tap_ok(bpf_map_lookup_elem(e->conn_fd, &k, &t) && errno == ENOENT,
	       "kernel RST: the connection's entry is gone");
	s = c_seg(c, TCPF_ACK | TCPF_PSH, "get foo\r\n");
	tcppkt_build(in, &s);
	expect(e, PROG_XDP, in, XDP_PASS, NULL,
	       ST(S(segments, 1), S(pass_untracked, 1)),
	       "after the kernel RST: untracked");
	conn_release(e, c);

	/* the kernel resets a moved connection: kept, moved */
	conn_init(c, false, true);
	conn_open(e, c, true, "kernel reset (moved)");
	conn_hit(e, c, "get foo\r\n", body, blen, 1, "kernel reset: hit");
	conn_ack(e, c, "kernel reset: reply acknowledged");
	s = k_seg(c, TCPF_RST | TCPF_ACK, NULL);
	w = s;
	w.seq = s.seq + (__u32)blen;
	w.ack = s.ack + 9;
	k_out(e, &s, &w, ST(0), "kernel RST on a moved connection: moved");
	tap_ok(!conn_state(e, c, &t) && (t.x.flags & XKV_TC_RST) &&
	       (t.x.flags & XKV_TC_MOVED), "kernel RST on a moved connection: "
	       "entry kept, reset recorded");
	conn_release(e, c);

	/* a connection the path never saw open */
	conn_init(c, false, true);
	c->cw = c->ck = c->irs + 1;
	c->sw = c->sk = c->iss + 1;
	s = c_seg(c, TCPF_ACK | TCPF_PSH, "get foo\r\n");
	tcppkt_build(in, &s);
	expect(e, PROG_XDP, in, XDP_PASS, NULL,
	       ST(S(segments, 1), S(pass_untracked, 1)),
	       "unknown connection: request passed");
	s = c_seg(c, TCPF_ACK, NULL);
	tcppkt_build(in, &s);
	expect(e, PROG_XDP, in, XDP_PASS, NULL, ST(S(segments, 1)),
	       "unknown connection: ACK passed");
	s = c_seg(c, TCPF_ACK | TCPF_FIN, NULL);
	tcppkt_build(in, &s);
	expect(e, PROG_XDP, in, XDP_PASS, NULL, ST(S(segments, 1)),
	       "unknown connection: FIN passed");
	s = c_seg(c, TCPF_ACK | TCPF_PSH, "get foo\r\n");
	tcppkt_build(in, &s);
	expect(e, PROG_TC_IN, in, TC_ACT_OK, NULL, ST(0),
	       "unknown connection: tc_in leaves it");
	s = k_seg(c, TCPF_ACK | TCPF_PSH, "VALUE foo 0 3\r\nbar\r\nEND\r\n");
	tcppkt_build(in, &s);
	expect(e, PROG_TC_OUT, in, TC_ACT_OK, NULL, ST(0),
	       "unknown connection: tc_out leaves it");
	s.sport = 11212;
	tcppkt_build(in, &s);
	expect(e, PROG_TC_OUT, in, TC_ACT_OK, NULL, ST(0),
	       "other port: tc_out leaves it");
	s = c_seg(c, TCPF_ACK | TCPF_PSH, "get foo\r\n");
	s.sport = 11212;
	tcppkt_build(in, &s);
	expect(e, PROG_XDP, in, XDP_PASS, NULL, ST(0),
	       "other port: XDP passes it, uncounted");
	free(c);
}

/* XKV_CFG_CSUM_PARTIAL, as the loader sets it on veth and lo */
static void test_partial(void)
{
	struct conn *c = malloc(sizeof(*c));
	struct tcpseg s;
	struct env e;
	size_t blen;

	if (!c)
		tap_bail("out of memory");
	if (env_open(&e, XKV_CFG_ALLOW_ANY | XKV_CFG_CSUM_PARTIAL))
		tap_bail("cannot load the XDP object with CSUM_PARTIAL");
	hot_set(&e, &it_foo);
	blen = foo_body();
	/* each on a connection of its own: a copy XDP saw go up stays
	 * the kernel's, even one the stack drops */
	conn_init(c, true, true);
	conn_open(&e, c, true, "partial checksums");
	s = c_seg(c, TCPF_ACK | TCPF_PSH, "get foo\r\n");
	s.partial = true;
	s.bad_csum = true;
	seg_passed(&e, &s,
		   "CSUM_PARTIAL: a pseudo-header sum off by one is checked in "
		   "full, and fails");
	conn_release(&e, c);
	conn_init(c, true, true);
	conn_open(&e, c, true, "full checksum");
	s = c_seg(c, TCPF_ACK | TCPF_PSH, "get foo\r\n");
	s.bad_csum = true;
	seg_passed(&e, &s, "CSUM_PARTIAL: a wrong full checksum still fails");
	conn_release(&e, c);
	conn_init(c, true, true);
	conn_open(&e, c, true, "pseudo-header sum");
	{
		struct tcpseg r;

		s = c_seg(c, TCPF_ACK | TCPF_PSH, "get foo\r\n");
		s.partial = true;
		r = (struct tcpseg){
			.ipv6 = true, .cport = c->cport, .out = true,
			.xdp = true, .seq = c->sw, .ack = c->cw + 9,
			.flags = TCPF_ACK | TCPF_PSH, .win = c->swin,
			.ts = true, .tsval = c->tss, .tsecr = s.tsval,
			.data = body, .len = blen,
		};
		tcppkt_build(in, &s);
		tcppkt_build(want, &r);
		expect(&e, PROG_XDP, in, XDP_TX, want,
		       ST(S(segments, 1), S(hits, 1), S(keys, 1),
			  S(reply_bytes, blen)),
		       "CSUM_PARTIAL: a request with the pseudo-header sum: "
		       "hit, reply summed in full");
	}
	conn_release(&e, c);
	env_close(&e);
	free(c);
}

static void print_verifier_stats(bool all)
{
	const char *p, *end;
	int i;

	for (i = 0; i < 3; i++) {
		if (all) {
			printf("--- %s\n%s", prog_name[i], vlog[i]);
			continue;
		}
		p = strstr(vlog[i], "processed ");
		if (!p)
			continue;
		end = strchr(p, '\n');
		tap_diag("verifier (%s): %.*s", prog_name[i],
			 end ? (int)(end - p) : (int)strlen(p), p);
	}
}

int main(int argc, char **argv)
{
	bool vlogall = argc > 1 && !strcmp(argv[1], "--verifier-log");
	bool vstats = vlogall ||
		      (argc > 1 && !strcmp(argv[1], "--verifier-stats"));
	struct env e;
	int err;

	if (!fixture_start())
		return 0;
	if (vlogall) {
		vlog_level = 1;
		vlog_size = VLOG_FULL_SIZE;
	}
	in = malloc(sizeof(*in));
	want = malloc(sizeof(*want));
	if (!in || !want)
		tap_bail("out of memory");
	err = env_open(&e, XKV_CFG_ALLOW_ANY);
	if (err) {
		print_verifier_stats(true);
		printf("Bail out! cannot load the XDP object: %s\n",
		       strerror(-err));
		return 1;
	}
	if (vstats) {
		print_verifier_stats(true);
		env_close(&e);
		return 0;
	}
	print_verifier_stats(false);
	env_check_layout(&e);
	hot_set(&e, &it_foo);
	hot_set(&e, &it_k2);
	hot_set(&e, &it_k3);

	test_hits(&e);
	test_binary(&e);
	test_meta(&e);
	test_store_offer(&e);
	test_not_quiet(&e);
	test_segments(&e);
	test_translate(&e, false);
	test_translate(&e, true);
	test_retransmit(&e);
	test_two_hits(&e, false);
	test_two_hits(&e, true);
	test_close(&e);
	env_close(&e);

	test_partial();
	test_pieces();
	free(in);
	free(want);
	return tap_done();
}
