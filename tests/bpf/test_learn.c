// SPDX-License-Identifier: GPL-2.0
/*
 * test_learn.c - BPF_PROG_TEST_RUN fixtures for learning mode: the TC
 * ingress and egress programs of bpf/xkv_learn.bpf.c, loaded through the
 * API of loader/learn_attach.h next to the XDP program, whose hot cache they
 * share.
 *
 * Each fixture runs hand-built frames through the programs, one at a
 * time: requests (UDP and TCP) through ingress, memcached's replies
 * through egress. Every run must return TC_ACT_UNSPEC (pass) and leave the
 * frame byte for byte as it was (but for the UDP policy's drops, which
 * must return TC_ACT_SHOT); then the fixture checks which counters
 * moved and what the hot cache holds (through its mmap()), and for learned
 * values that XDP answers with exactly memcached's reply.
 *
 * The last group checks xkv_learn_attach()/xkv_learn_detach() on the
 * loopback device of a private network namespace.
 *
 *   test_learn [--verifier-stats | --bench | --verifier-log]
 *
 * --verifier-log prints the verifier's log (level 1) when a load fails.
 *
 * Prints TAP; exits 0 when every test passed. Needs root; otherwise prints
 * "1..0 # SKIP".
 */
#include <errno.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>
#include <linux/pkt_cls.h>

#include "xkv_hot.h"
#include "xkv_config.h"
#include "xkv_live.h"
#include "xkv_policy.h"
#include "xkv_learn_maps.h"
#include "xkv_learn_stats.h"	/* before the skeletons: they name our types */
#include "xkv_learn.h"	/* struct xkv_learn_req */
#include "counters.h"
#include "learn_attach.h"
#include "xkv.skel.h"
#include "xkv_learn.skel.h"
#include "fixture.h"
#include "pkt.h"
#include "tap.h"

#define NSLOTS 1024
#define NFLOWS 64
#define TTL_MS 5000
#define QUIET_MS 300
#define VLOG_SIZE (4 << 20)
/* holds(): expect the CAS unknown (XKV_SLOT_F_NO_CAS) */
#define NOCAS 0x8000000000000123ULL

struct env {
	struct xkv *xdp;
	struct xkv_learn *l;
	struct xkv_slot *hot;
	size_t hot_size;
	int in_fd, eg_fd, xdp_fd, stats_fd;
	int quiet_ms;
};

static char *vlog;

static __u32 log_level = 4;	/* --verifier-log: 1 */

/*
 * The sockets egress trusts: uid @uid (BPF_PROG_TEST_RUN runs each frame
 * with a new socket of uid 0; the fixtures load with XKV_LCFG_UDP_BY_UID,
 * since a UDP socket cookie cannot be known in advance there), or none
 * with @set false.
 */
static void env_own(struct env *e, bool set, __u32 uid)
{
	struct xkv_learn_owner o = {
		.flags = set ? XKV_LOWN_UID : 0,
		.uid = uid,
	};
	__u32 zero = 0;

	if (bpf_map_update_elem(bpf_map__fd(e->l->maps.xkv_lowner), &zero, &o,
				BPF_ANY))
		tap_bail("cannot write xkv_lowner");
}

static int env_open(struct env *e, int quiet_ms, __u32 flags, bool stats)
{
	struct xkv_config cfg = {
		.port = PKT_SERVER_PORT,
		.flags = XKV_CFG_ALLOW_ANY,
		.nslots = NSLOTS,
		.max_reply = XKV_UDP_PAYLOAD_DEFAULT,
	};
	struct xkv_learn_opts lo = XKV_LEARN_OPTS_INIT;
	struct xkv_live forever = { .until_ns = ~0ULL };
	long page = sysconf(_SC_PAGESIZE);
	__u32 zero = 0;
	int err;

	memset(e, 0, sizeof(*e));
	e->quiet_ms = quiet_ms;
	e->xdp = xkv__open();
	if (!e->xdp)
		return -errno;
	memcpy((void *)&e->xdp->rodata->xkv_cfg, &cfg, sizeof(cfg));
	err = bpf_map__set_max_entries(e->xdp->maps.xkv_hot, NSLOTS);
	if (!err)
		err = xkv__load(e->xdp);
	if (err)
		return err;
	/* the backend (the memcached these tests play) never dies */
	err = bpf_map_update_elem(bpf_map__fd(e->xdp->maps.xkv_live), &zero,
				  &forever, BPF_ANY);
	if (err)
		return -errno;
	lo.nslots = NSLOTS;
	lo.nflows = NFLOWS;
	lo.ttl_ms = TTL_MS;
	lo.quiet_ms = quiet_ms;
	lo.flags = flags | XKV_LCFG_UDP_BY_UID;
	lo.hot_fd = bpf_map__fd(e->xdp->maps.xkv_hot);
	if (stats) {
		lo.log_level = log_level;
		lo.log_buf = vlog;
		lo.log_size = VLOG_SIZE;
	}
	e->l = xkv_learn_load(&lo, &err);
	if (!e->l)
		return err;
	e->in_fd = bpf_program__fd(e->l->progs.xkv_learn_in);
	e->eg_fd = bpf_program__fd(e->l->progs.xkv_learn_eg);
	e->xdp_fd = bpf_program__fd(e->xdp->progs.xkv_xdp);
	e->stats_fd = bpf_map__fd(e->l->maps.xkv_lstats);
	e->hot_size = (size_t)NSLOTS * sizeof(struct xkv_slot);
	e->hot_size = (e->hot_size + page - 1) / page * page;
	e->hot = mmap(NULL, e->hot_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		      lo.hot_fd, 0);
	if (e->hot == MAP_FAILED) {
		e->hot = NULL;
		return -errno;
	}
	env_own(e, true, 0);
	return 0;
}

static void env_close(struct env *e)
{
	if (e->hot)
		munmap(e->hot, e->hot_size);
	xkv_learn_close(e->l);
	xkv__destroy(e->xdp);
	memset(e, 0, sizeof(*e));
}

static void zero_map(struct bpf_map *m)
{
	__u32 n = bpf_map__max_entries(m), vs = bpf_map__value_size(m), k;
	void *z = calloc(1, vs);

	if (!z)
		tap_bail("out of memory");
	for (k = 0; k < n; k++)
		if (bpf_map_update_elem(bpf_map__fd(m), &k, z, BPF_ANY))
			tap_bail("cannot reset a map");
	free(z);
}

/* no UDP request waits for its reply */
static void forget_reqs(struct env *e)
{
	int fd = bpf_map__fd(e->l->maps.xkv_lreq);
	struct xkv_learn_req k;

	while (!bpf_map_get_next_key(fd, NULL, &k))
		if (bpf_map_delete_elem(fd, &k))
			tap_bail("cannot empty xkv_lreq");
}

/* forget everything: an empty cache, no generations, no streams */
static void env_reset(struct env *e)
{
	memset(e->hot, 0, (size_t)NSLOTS * sizeof(struct xkv_slot));
	zero_map(e->l->maps.xkv_lmeta);
	zero_map(e->l->maps.xkv_locc);
	zero_map(e->l->maps.xkv_lglob);
	zero_map(e->l->maps.xkv_lflows);
	forget_reqs(e);
	env_own(e, true, 0);
}

/* as if every write and flush were long ago (for the quarantine env) */
static void forget_quiet(struct env *e)
{
	struct bpf_map *m = e->l->maps.xkv_lmeta;
	struct xkv_learn_slot ls;
	struct xkv_learn_glob g;
	__u32 k, zero = 0;

	for (k = 0; k < NSLOTS; k++) {
		if (bpf_map_lookup_elem(bpf_map__fd(m), &k, &ls))
			tap_bail("cannot read xkv_lmeta");
		if (!ls.write_ns)
			continue;
		ls.write_ns = 1;
		bpf_map_update_elem(bpf_map__fd(m), &k, &ls, BPF_ANY);
	}
	m = e->l->maps.xkv_lglob;
	if (!bpf_map_lookup_elem(bpf_map__fd(m), &zero, &g) && g.gwrite_ns) {
		g.gwrite_ns = 1;
		bpf_map_update_elem(bpf_map__fd(m), &zero, &g, BPF_ANY);
	}
}

/* --- frames --------------------------------------------------------------- */

static void put16(__u8 *p, unsigned int v)
{
	p[0] = (__u8)(v >> 8);
	p[1] = (__u8)v;
}

static void put32(__u8 *p, __u32 v)
{
	put16(p, v >> 16);
	put16(p + 2, v & 0xffff);
}

#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_PSH 0x08
#define TCP_ACK 0x10

/**
 * struct tcp_opts - a TCP frame (zero = the usual value).
 * @reply:  server to client (else client to server)
 * @ipv6:   IPv6
 * @nvlans: 802.1Q tags
 * @cport:  client port (0 = PKT_CLIENT_PORT)
 * @sport:  server port (0 = PKT_SERVER_PORT)
 */
struct tcp_opts {
	bool reply;
	bool ipv6;
	int nvlans;
	__u16 cport;
	__u16 sport;
};

/* checksums are left zero: TC sees frames before anyone checks them */
static void tcp_frame(struct pkt *p, const struct tcp_opts *o, __u32 seq,
		      __u8 flags, const void *data, size_t len)
{
	__u8 *f = p->b, *t;
	size_t off = 12, l3;
	int i;

	memset(p, 0, sizeof(*p));
	memcpy(f, o->reply ? pkt_client_mac : pkt_server_mac, 6);
	memcpy(f + 6, o->reply ? pkt_server_mac : pkt_client_mac, 6);
	for (i = 0; i < o->nvlans; i++) {
		put16(f + off, 0x8100);
		put16(f + off + 2, (unsigned int)(100 + i));
		off += 4;
	}
	put16(f + off, o->ipv6 ? 0x86dd : 0x0800);
	l3 = off + 2;
	if (!o->ipv6) {
		f[l3] = 0x45;
		put16(f + l3 + 2, (unsigned int)(20 + 20 + len));
		put16(f + l3 + 6, 0x4000);
		f[l3 + 8] = 64;
		f[l3 + 9] = 6;
		memcpy(f + l3 + 12, o->reply ? pkt_server4 : pkt_client4, 4);
		memcpy(f + l3 + 16, o->reply ? pkt_client4 : pkt_server4, 4);
		t = f + l3 + 20;
	} else {
		put32(f + l3, 0x60000000);
		put16(f + l3 + 4, (unsigned int)(20 + len));
		f[l3 + 6] = 6;
		f[l3 + 7] = 64;
		memcpy(f + l3 + 8, o->reply ? pkt_server6 : pkt_client6, 16);
		memcpy(f + l3 + 24, o->reply ? pkt_client6 : pkt_server6, 16);
		t = f + l3 + 40;
	}
	put16(t, o->reply ? (o->sport ? o->sport : PKT_SERVER_PORT) :
			    (o->cport ? o->cport : PKT_CLIENT_PORT));
	put16(t + 2, o->reply ? (o->cport ? o->cport : PKT_CLIENT_PORT) :
				(o->sport ? o->sport : PKT_SERVER_PORT));
	put32(t + 4, seq);
	put32(t + 8, 1);
	t[12] = 5 << 4;
	t[13] = flags;
	put16(t + 14, 65535);
	memcpy(t + 20, data, len);
	p->len = (size_t)(t + 20 + len - f);
}

/* --- running frames ------------------------------------------------------- */

struct lres {
	int err;
	__u32 retval;
	bool same;
	__u64 d[XKV_LSTAT_NR];
};

static struct lres last;	/* of the latest run */
static struct pkt *in, *out;

static void stats_sum(struct env *e, __u64 *v)
{
	if (xkv_counters_read(e->stats_fd, v, XKV_LSTAT_NR))
		tap_bail("cannot read the learning counters");
}

static void run_tc(struct env *e, int fd, const struct pkt *p)
{
	__u64 before[XKV_LSTAT_NR], after[XKV_LSTAT_NR];
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = p->b,
		    .data_size_in = (__u32)p->len, .data_out = out->b,
		    .data_size_out = sizeof(out->b), .repeat = 1);
	int i;

	memset(&last, 0, sizeof(last));
	stats_sum(e, before);
	last.err = bpf_prog_test_run_opts(fd, &opts);
	stats_sum(e, after);
	last.retval = opts.retval;
	last.same = opts.data_size_out == p->len &&
		    !memcmp(out->b, p->b, p->len);
	for (i = 0; i < XKV_LSTAT_NR; i++)
		last.d[i] = after[i] - before[i];
}

static unsigned int n_untouched, n_runs;

/* run a frame; it must pass untouched, whatever else happens */
static bool run_ok(struct env *e, int fd, const struct pkt *p,
		   const char *what)
{
	run_tc(e, fd, p);
	n_runs++;
	if (!last.err && last.retval == (__u32)TC_ACT_UNSPEC && last.same) {
		n_untouched++;
		return true;
	}
	tap_ok(false, "%s: TC_ACT_UNSPEC and the frame untouched", what);
	if (last.err)
		tap_diag("  BPF_PROG_TEST_RUN: %s", strerror(-last.err));
	tap_diag("  verdict %d, frame %s", (int)last.retval,
		 last.same ? "untouched" : "CHANGED");
	return false;
}

static void diag_deltas(void)
{
	char buf[768];
	size_t n = 0;
	int i;

	buf[0] = 0;
	for (i = 0; i < XKV_LSTAT_NR; i++)
		if (last.d[i] && n < sizeof(buf))
			n += (size_t)snprintf(buf + n, sizeof(buf) - n,
					      " %s+%llu",
					      xkv_learn_counters[i].name,
					      (unsigned long long)last.d[i]);
	tap_diag("  counters moved:%s", buf);
}

static bool check(bool ok, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static bool check(bool ok, const char *fmt, ...)
{
	char name[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(name, sizeof(name), fmt, ap);
	va_end(ap);
	if (!tap_ok(ok, "%s", name))
		diag_deltas();
	return ok;
}

#define D(name) (last.d[XKV_LSTAT_##name])

/* UDP: text after the 8-byte frame header, request (in) or reply (eg) */
static void udp_in(struct env *e, const struct pkt_opts *o, const char *text)
{
	pkt_request(in, o, text, strlen(text));
	run_ok(e, e->in_fd, in, text);
}

static void udp_eg(struct env *e, const struct pkt_opts *o, const char *text)
{
	pkt_reply(in, o, text, strlen(text));
	run_ok(e, e->eg_fd, in, text);
}

static void tcp_in(struct env *e, const struct tcp_opts *o, __u32 seq,
		   __u8 flags, const char *text)
{
	tcp_frame(in, o, seq, flags, text, strlen(text));
	run_ok(e, e->in_fd, in, text);
}

static void tcp_in_n(struct env *e, const struct tcp_opts *o, __u32 seq,
		     __u8 flags, const void *data, size_t len)
{
	tcp_frame(in, o, seq, flags, data, len);
	run_ok(e, e->in_fd, in, "segment");
}

/* the next segment of a stream: @sq is where it starts, then past it */
static void tcp_next(struct env *e, const struct tcp_opts *o, __u32 *sq,
		     const char *text)
{
	tcp_in(e, o, *sq, TCP_ACK | TCP_PSH, text);
	*sq += (__u32)strlen(text);
}

static void tcp_eg(struct env *e, const struct tcp_opts *o, __u32 seq,
		   __u8 flags, const char *text)
{
	struct tcp_opts r = *o;

	r.reply = true;
	tcp_frame(in, &r, seq, flags, text, strlen(text));
	run_ok(e, e->eg_fd, in, text);
}

/* --- the hot cache -------------------------------------------------------- */

static struct xkv_slot *slot_of(struct env *e, const char *key, size_t klen)
{
	return &e->hot[xkv_hot_index(xkv_hot_hash(key, (__u32)klen), NSLOTS)];
}

/*
 * The entries of a stable slot, if they chain from offset 0 to exactly
 * @used, each well formed (xkv_slot_ent_size()); else -1.
 */
static int slot_ents(const struct xkv_slot *s)
{
	__u32 off = 0, n;
	int k = 0;

	if (s->seq & 1 || s->used > XKV_HOT_SLOT_ROOM)
		return -1;
	while (off < s->used) {
		n = xkv_slot_ent_size(s, off, s->used);
		if (!n)
			return -1;
		off += n;
		k++;
	}
	return k;
}

/* the entries in the slot of @key, -1 when it is not well formed */
static int nents(struct env *e, const char *key)
{
	return slot_ents(slot_of(e, key, strlen(key)));
}

/*
 * The entry of @key in its slot, or NULL: the slot is stable and well
 * formed (slot_ents()) and holds one entry of @key.
 */
static struct xkv_hot_ent *key_ent(struct env *e, const char *key)
{
	size_t klen = strlen(key);
	struct xkv_slot *s = slot_of(e, key, klen);
	int off;

	if (slot_ents(s) < 0)
		return NULL;
	off = xkv_slot_find(s, xkv_hot_hash(key, (__u32)klen), key,
			    (__u32)klen);
	return off < 0 ? NULL : xkv_slot_ent(s, (__u32)off);
}

/* the client flags in an entry's "VALUE <key> <flags> <bytes>" line */
static __u32 ent_flags(const struct xkv_hot_ent *ent)
{
	char line[300];
	size_t n = ent->line_len < sizeof(line) - 1 ? ent->line_len :
						       sizeof(line) - 1;
	const char *p;

	memcpy(line, ent->body, n);
	line[n] = 0;
	p = line + 6 + ent->key_len;
	return (__u32)strtoul(p, NULL, 10);
}

/*
 * Does the slot of @key hold exactly this (cas NOCAS: unknown)? Its entry
 * must be the one xkv_slot.h builds for it, byte for byte, with the same
 * sums: the learning programs build it, and sum it, in BPF.
 */
static bool holds(struct env *e, const char *key, const char *val,
		  size_t vlen, __u32 flags, __u64 cas)
{
	size_t klen = strlen(key);
	struct xkv_hot_ent *ent = key_ent(e, key), *want;
	static struct xkv_slot ref;
	__u64 now = fixture_mono_ns();

	if (!ent)
		return false;
	memset(&ref, 0, sizeof(ref));
	if (!xkv_slot_append(&ref, xkv_hot_hash(key, (__u32)klen), key,
			     (__u32)klen, val, (__u32)vlen, flags, 0, 0, 0))
		return false;
	want = xkv_slot_ent(&ref, 0);
	if (ent->size != want->size || ent->key_len != want->key_len ||
	    ent->line_len != want->line_len ||
	    ent->body_len != want->body_len || ent->hash != want->hash ||
	    memcmp(ent->body, want->body, want->body_len) ||
	    ent->sum_line != want->sum_line ||
	    ent->sum_body != want->sum_body)
		return false;
	if (cas == NOCAS) {
		if (!(ent->xflags & XKV_SLOT_F_NO_CAS) || ent->cas != 0)
			return false;
	} else if (ent->xflags || ent->cas != cas) {
		return false;
	}
	/* lives TTL_MS from its install (just now) */
	return ent->expire_ns > now + (TTL_MS - 1000) * 1000000ull &&
	       ent->expire_ns <= now + TTL_MS * 1000000ull;
}

static bool holds_nocas(struct env *e, const char *key, const char *val)
{
	struct xkv_hot_ent *ent = key_ent(e, key);

	return ent && holds(e, key, val, strlen(val), ent_flags(ent), NOCAS);
}

static bool empty(struct env *e, const char *key)
{
	size_t klen = strlen(key);
	struct xkv_slot *s = slot_of(e, key, klen);

	return !(s->seq & 1) &&
	       xkv_slot_find(s, xkv_hot_hash(key, (__u32)klen), key,
			     (__u32)klen) < 0;
}

/* a GET seen, then memcached's reply for it: learned */
static void learn(struct env *e, const char *key, const char *val)
{
	char buf[512];
	struct pkt_opts o = { .id = 7 };

	snprintf(buf, sizeof(buf), "get %s\r\n", key);
	udp_in(e, &o, buf);
	snprintf(buf, sizeof(buf), "VALUE %s 0 %zu\r\n%s\r\nEND\r\n", key,
		 strlen(val), val);
	udp_eg(e, &o, buf);
	if (!holds_nocas(e, key, val))
		tap_bail("learning a value failed: the basics are broken");
}

/* XDP answers "get"/"gets" @keys with exactly @text */
static bool xdp_answers(struct env *e, const char *req, const char *text)
{
	struct pkt_opts o = { .id = 9 };
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_out = out->b,
		    .data_size_out = sizeof(out->b), .repeat = 1);
	struct pkt *want = malloc(sizeof(*want));
	bool ok;

	if (!want)
		tap_bail("out of memory");
	pkt_request(in, &o, req, strlen(req));
	pkt_reply(want, &o, text, strlen(text));
	opts.data_in = in->b;
	opts.data_size_in = (__u32)in->len;
	ok = !bpf_prog_test_run_opts(e->xdp_fd, &opts) &&
	     opts.retval == XDP_TX && opts.data_size_out == want->len &&
	     !memcmp(out->b, want->b, want->len);
	free(want);
	return ok;
}

static bool xdp_passes(struct env *e, const char *req)
{
	struct pkt_opts o = { .id = 9 };
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_out = out->b,
		    .data_size_out = sizeof(out->b), .repeat = 1);

	pkt_request(in, &o, req, strlen(req));
	opts.data_in = in->b;
	opts.data_size_in = (__u32)in->len;
	return !bpf_prog_test_run_opts(e->xdp_fd, &opts) &&
	       opts.retval == XDP_PASS;
}

/* --- fixtures: UDP basics ------------------------------------------------- */

static void test_learn_basic(struct env *e)
{
	struct pkt_opts o = { .id = 1 };

	env_reset(e);
	udp_in(e, &o, "get foo\r\n");
	check(D(in_packets) == 1 && D(in_get_keys) == 1 && D(in_lines) == 1,
	      "ingress notes the GET of foo");
	udp_eg(e, &o, "VALUE foo 5 3\r\nbar\r\nEND\r\n");
	check(D(eg_packets) == 1 && D(eg_values) == 1 && D(learned) == 1,
	      "egress learns foo from memcached's reply");
	check(holds(e, "foo", "bar", 3, 5, NOCAS),
	      "foo's slot: key, value, flags, no CAS, expiry now + TTL");
	check(xdp_answers(e, "get foo\r\n", "VALUE foo 5 3\r\nbar\r\nEND\r\n"),
	      "XDP now answers get foo, byte for byte memcached's reply");
	check(xdp_passes(e, "gets foo\r\n"),
	      "XDP passes gets foo: the CAS is not known");

	/* no GET seen: nothing learned */
	udp_in(e, &o, "get other\r\n");
	udp_eg(e, &o, "VALUE zzz 0 1\r\nz\r\nEND\r\n");
	check(D(skip_no_get) == 1 && !D(learned) && empty(e, "zzz"),
	      "a reply with no GET seen for its slot is not installed");

	/* a miss has no VALUE: nothing happens */
	udp_in(e, &o, "get nope\r\n");
	udp_eg(e, &o, "END\r\n");
	check(!D(eg_values) && !D(learned) && empty(e, "nope"),
	      "a miss (END alone) installs nothing");
}

static void test_cas(struct env *e)
{
	struct pkt_opts o = { .id = 2 };

	env_reset(e);
	udp_in(e, &o, "gets foo\r\n");
	udp_eg(e, &o, "VALUE foo 0 3 77\r\nbar\r\nEND\r\n");
	check(D(learned) == 1 && holds(e, "foo", "bar", 3, 0, 77),
	      "a gets reply is learned with its CAS");
	check(xdp_answers(e, "gets foo\r\n",
			  "VALUE foo 0 3 77\r\nbar\r\nEND\r\n"),
	      "XDP answers gets foo with the CAS");
	check(xdp_answers(e, "get foo\r\n", "VALUE foo 0 3\r\nbar\r\nEND\r\n"),
	      "... and get foo without it");
	udp_in(e, &o, "get foo\r\n");
	udp_eg(e, &o, "VALUE foo 0 3\r\nbar\r\nEND\r\n");
	check(D(learned) == 1 && holds(e, "foo", "bar", 3, 0, 77),
	      "a later get reply, no write between: the CAS is kept");
	udp_in(e, &o, "delete foo\r\n");
	udp_in(e, &o, "get foo\r\n");
	udp_eg(e, &o, "VALUE foo 0 3\r\nbaz\r\nEND\r\n");
	check(D(learned) == 1 && holds(e, "foo", "baz", 3, 0, NOCAS),
	      "after a write, a get reply installs with the CAS unknown");
	udp_in(e, &o, "gets foo\r\n");
	udp_eg(e, &o, "VALUE foo 0 3 18446744073709551615\r\nbaz\r\nEND\r\n");
	check(D(learned) == 1 &&
		      holds(e, "foo", "baz", 3, 0, 18446744073709551615ull),
	      "gets reply with the largest CAS");
}

static void test_multi(struct env *e)
{
	struct pkt_opts o = { .id = 3 };
	const char *r = "VALUE a 1 1\r\nx\r\nVALUE bb 2 2\r\nyy\r\n"
			"VALUE ccc 4294967295 0\r\n\r\nEND\r\n";

	env_reset(e);
	udp_in(e, &o, "get a bb ccc\r\n");
	check(D(in_get_keys) == 3, "a get of three keys notes all three");
	udp_eg(e, &o, r);
	check(D(eg_values) == 3 && D(learned) == 3 &&
		      holds(e, "a", "x", 1, 1, NOCAS) &&
		      holds(e, "bb", "yy", 2, 2, NOCAS) &&
		      holds(e, "ccc", "", 0, 4294967295u, NOCAS),
	      "a multi-key reply installs every key (empty value, max flags)");
	check(xdp_answers(e, "get a bb ccc\r\n", r),
	      "XDP answers the multi-get with memcached's reply");

	/* memcached leaves out a miss: the others are still learned */
	env_reset(e);
	udp_in(e, &o, "get a miss bb\r\n");
	udp_eg(e, &o, "VALUE a 0 1\r\n1\r\nVALUE bb 0 1\r\n2\r\nEND\r\n");
	check(D(learned) == 2 && holds(e, "a", "1", 1, 0, NOCAS) &&
		      holds(e, "bb", "2", 1, 0, NOCAS) && empty(e, "miss"),
	      "a partial multi-get reply installs the keys it has");

	/* several commands in one request datagram, replies in one */
	env_reset(e);
	udp_in(e, &o, "get k1\r\nget k2\r\n");
	udp_eg(e, &o,
	       "VALUE k1 0 1\r\n1\r\nEND\r\nVALUE k2 0 1\r\n2\r\nEND\r\n");
	check(D(learned) == 2 && holds(e, "k1", "1", 1, 0, NOCAS) &&
		      holds(e, "k2", "2", 1, 0, NOCAS),
	      "two gets in one datagram, two replies in one: both learned");

	/* gat replies look like get replies, but gat writes */
	env_reset(e);
	udp_in(e, &o, "get t\r\n");
	udp_in(e, &o, "gat 0 t\r\n");
	udp_eg(e, &o, "VALUE t 0 1\r\n1\r\nEND\r\n");
	check(!D(learned) && empty(e, "t"),
	      "a gat reply after the GET is not learned (gat wrote)");

	/* meta replies: VA blocks are skipped, not learned */
	env_reset(e);
	udp_in(e, &o, "get v\r\n");
	udp_eg(e, &o, "VA 16 v\r\nVALUE v 0 1\r\nX\r\n\r\nEN\r\n"
		      "VALUE v 0 1\r\nY\r\nEND\r\n");
	check(D(learned) == 1 && holds(e, "v", "Y", 1, 0, NOCAS),
	      "a VA data block that looks like a VALUE is skipped");
}

static void test_sizes(struct env *e)
{
	struct pkt_opts o = { .id = 4 };
	char *val = malloc(XKV_HOT_VAL_MAX + 2), *r = malloc(4096);
	char key[XKV_HOT_KEY_MAX + 1];

	if (!val || !r)
		tap_bail("out of memory");
	env_reset(e);
	memset(val, 'v', XKV_HOT_VAL_MAX + 1);
	val[XKV_HOT_VAL_MAX + 1] = 0;
	udp_in(e, &o, "get big\r\n");
	snprintf(r, 4096, "VALUE big 0 %d\r\n%s\r\nEND\r\n",
		 XKV_HOT_VAL_MAX + 1, val);
	udp_eg(e, &o, r);
	check(D(skip_too_big) == 1 && !D(learned) && empty(e, "big"),
	      "a value of %d bytes (one over a slot) is skipped",
	      XKV_HOT_VAL_MAX + 1);
	val[XKV_HOT_VAL_MAX] = 0;
	udp_in(e, &o, "get big\r\n");
	snprintf(r, 4096, "VALUE big 0 %d\r\n%s\r\nEND\r\n", XKV_HOT_VAL_MAX,
		 val);
	udp_eg(e, &o, r);
	check(D(learned) == 1 &&
		      holds(e, "big", val, XKV_HOT_VAL_MAX, 0, NOCAS),
	      "a value of %d bytes (a full slot) is learned",
	      XKV_HOT_VAL_MAX);

	memset(key, 'k', XKV_HOT_KEY_MAX);
	key[XKV_HOT_KEY_MAX] = 0;
	snprintf(r, 4096, "get %s\r\n", key);
	udp_in(e, &o, r);
	snprintf(r, 4096, "VALUE %s 0 1\r\nx\r\nEND\r\n", key);
	udp_eg(e, &o, r);
	check(D(learned) == 1 && holds(e, key, "x", 1, 0, NOCAS),
	      "a key of 250 bytes is learned");
	free(val);
	free(r);
}

static void test_malformed(struct env *e)
{
	static const char *const bad[] = {
		"VALUE foo 0 5\r\nbar\r\nEND\r\n",	/* count too big */
		"VALUE foo 0 2\r\nbar\r\nEND\r\n",	/* too small */
		"VALUE foo x 3\r\nbar\r\nEND\r\n",	/* flags */
		"VALUE foo 0 3x\r\nbar\r\nEND\r\n",
		"VALUE foo  0 3\r\nbar\r\nEND\r\n",	/* two spaces */
		"VALUE foo 0 3\r\nbarXY",		/* no \r\n */
		"VALUE foo 0\r\nbar\r\nEND\r\n",	/* too few */
		"VALUE foo 0 3 1 2\r\nbar\r\nEND\r\n",	/* too many */
		"VALUE foo 4294967296 3\r\nbar\r\nEND\r\n",
		"VALUE foo 0 -3\r\nbar\r\nEND\r\n",
		"VALUE foo 0 3 99999999999999999999\r\nbar\r\nEND\r\n",
	};
	struct pkt_opts o = { .id = 5 };
	unsigned int i, bad_ok = 0;

	env_reset(e);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		udp_in(e, &o, "get foo\r\n");
		udp_eg(e, &o, bad[i]);
		if (!D(learned) && D(skip_malformed) == 1 && empty(e, "foo"))
			bad_ok++;
		else
			tap_diag("  not refused: %s", bad[i]);
	}
	check(bad_ok == i, "%u malformed replies: none installed", i);

	udp_in(e, &o, "get foo\r\n");
	udp_eg(e, &o, "VALUE foo 0 3\r\nbar");
	check(!D(learned) && D(skip_split) == 1 && empty(e, "foo"),
	      "a reply cut before the data's \\r\\n is not installed");
	pkt_reply(in, &o, "VALUE foo 0 3\r\nbar\r\nEND\r\n", 26);
	in->b[in->len - 26 - 8 + 2] = 0;	/* sequence 1 */
	in->b[in->len - 26 - 8 + 3] = 1;
	run_ok(e, e->eg_fd, in, "second datagram");
	check(!D(eg_values) && empty(e, "foo"),
	      "a reply datagram other than the first is not parsed");
	pkt_reply(in, &o, "\x81\x00\x00\x03", 4);
	run_ok(e, e->eg_fd, in, "binary reply");
	check(!D(eg_values) && !D(errors), "a binary reply is left alone");
}

static void test_untouched(struct env *e)
{
	struct pkt_opts o = { .id = 6 };
	struct tcp_opts t = { .sport = 80 };
	unsigned int n0 = n_untouched, r0 = n_runs;
	bool quiet = true;

	env_reset(e);
	learn(e, "foo", "bar");
	o.dport = 53;
	pkt_request(in, &o, "delete foo\r\n", 12);
	run_ok(e, e->in_fd, in, "UDP to port 53");
	quiet = quiet && !D(in_packets) && !D(in_write_keys);
	pkt_reply(in, &o, "VALUE foo 0 3\r\nxxx\r\nEND\r\n", 26);
	run_ok(e, e->eg_fd, in, "UDP from port 53");
	quiet = quiet && !D(eg_packets) && !D(learned);
	tcp_in(e, &t, 1, TCP_ACK, "delete foo\r\n");
	quiet = quiet && !D(in_packets) && !D(in_write_keys);
	o.dport = 0;
	o.proto = 1;	/* ICMP */
	pkt_request(in, &o, "delete foo\r\n", 12);
	run_ok(e, e->in_fd, in, "ICMP");
	quiet = quiet && !D(in_packets);
	memset(in, 0, sizeof(*in));	/* ARP */
	memset(in->b, 0xff, 6);
	memcpy(in->b + 6, pkt_client_mac, 6);
	put16(in->b + 12, 0x0806);
	in->len = 60;
	run_ok(e, e->in_fd, in, "ARP");
	run_ok(e, e->eg_fd, in, "ARP egress");
	quiet = quiet && !D(eg_packets) && !D(errors);
	check(quiet && holds_nocas(e, "foo", "bar"),
	      "other ports and protocols are ignored (foo still served)");
	check(n_untouched - n0 == n_runs - r0,
	      "and passed untouched (TC_ACT_UNSPEC)");
}

/* --- fixtures: writes ----------------------------------------------------- */

/* every way to write foo; the value written is "new" */
static const char *const writes[] = {
	"set foo 0 0 3\r\nnew\r\n",
	"add foo 0 0 3\r\nnew\r\n",
	"replace foo 0 0 3\r\nnew\r\n",
	"append foo 0 0 3\r\nnew\r\n",
	"prepend foo 0 0 3\r\nnew\r\n",
	"cas foo 0 0 3 1\r\nnew\r\n",
	"delete foo\r\n",
	"incr foo 1\r\n",
	"decr foo 1\r\n",
	"touch foo 0\r\n",
	"gat 0 foo\r\n",
	"gats 0 foo\r\n",
	"flush_all\r\n",
	"set foo 0 0 3 noreply\r\nnew\r\n",
	"add foo 0 0 3 noreply\r\nnew\r\n",
	"cas foo 0 0 3 1 noreply\r\nnew\r\n",
	"delete foo noreply\r\n",
	"delete foo 0 noreply\r\n",
	"incr foo 1 noreply\r\n",
	"decr foo 1 noreply\r\n",
	"touch foo 0 noreply\r\n",
	"flush_all noreply\r\n",
	"flush_all 0\r\n",
	"ms foo 3\r\nnew\r\n",
	"ms foo 3 q\r\nnew\r\n",
	"md foo\r\n",
	"md foo q I\r\n",
	"ma foo\r\n",
	"ma foo MD q\r\n",
	"mg foo T0\r\n",
	"mg foo N0 v\r\n",
	"get x\r\nset foo 0 0 3\r\nnew\r\nget y\r\n",	/* pipelined */
};
#define NWRITES (sizeof(writes) / sizeof(writes[0]))

static void test_writes(struct env *e)
{
	struct pkt_opts o = { .id = 8 };
	struct tcp_opts t = { 0 };
	unsigned int i, udp_inv = 0, udp_race = 0, tcp_inv = 0, tcp_race = 0;
	unsigned int n = 0;

	for (i = 0; i < NWRITES; i++) {
		n++;
		/* UDP: an installed value is emptied */
		env_reset(e);
		learn(e, "foo", "old");
		udp_in(e, &o, writes[i]);
		if (empty(e, "foo") && xdp_passes(e, "get foo\r\n"))
			udp_inv++;
		else
			tap_diag("  UDP %s did not invalidate", writes[i]);
		/* UDP: GET, write, then the reply: not installed */
		env_reset(e);
		udp_in(e, &o, "get foo\r\n");
		udp_in(e, &o, writes[i]);
		udp_eg(e, &o, "VALUE foo 0 3\r\nold\r\nEND\r\n");
		if (!D(learned) && D(skip_raced) == 1 && empty(e, "foo"))
			udp_race++;
		else
			tap_diag("  UDP %s: a racing reply was installed",
				 writes[i]);

		/* TCP, on a connection followed from its SYN */
		t.cport = (__u16)(41000 + i);
		env_reset(e);
		learn(e, "foo", "old");
		tcp_in(e, &t, 1000, TCP_SYN, "");
		tcp_in(e, &t, 1001, TCP_ACK | TCP_PSH, writes[i]);
		if (empty(e, "foo") && !D(in_flush_unsure))
			tcp_inv++;
		else
			tap_diag("  TCP %s did not invalidate", writes[i]);
		env_reset(e);
		tcp_in(e, &t, 1000, TCP_SYN, "");
		udp_in(e, &o, "get foo\r\n");
		tcp_in(e, &t, 1001, TCP_ACK | TCP_PSH, writes[i]);
		udp_eg(e, &o, "VALUE foo 0 3\r\nold\r\nEND\r\n");
		if (!D(learned) && D(skip_raced) == 1)
			tcp_race++;
		else
			tap_diag("  TCP %s: a racing reply was installed",
				 writes[i]);
	}
	check(udp_inv == n, "%u writes over UDP (incl. noreply, meta, "
	      "pipelined) empty an installed slot", n);
	check(udp_race == n, "... and a reply to a GET seen before the write "
	      "is not installed");
	check(tcp_inv == n, "the same %u writes over TCP empty the slot", n);
	check(tcp_race == n, "... and keep a racing UDP reply out");

	/* "set foo\t0 ...": memcached's key is "foo\t0", not foo */
	env_reset(e);
	learn(e, "foo", "old");
	udp_in(e, &o, "set foo\t0 0 0 3\r\nnew\r\n");
	check(holds_nocas(e, "foo", "old") && D(in_write_keys) == 2,
	      "a tab is part of a key (foo\\t0 written, foo kept)");
}

static void test_flush(struct env *e)
{
	struct pkt_opts o = { .id = 10 };

	env_reset(e);
	learn(e, "a", "1");
	learn(e, "b", "2");
	udp_in(e, &o, "flush_all\r\n");
	check(D(in_flush_all) == 1 && D(slots_cleared) == 2 && empty(e, "a") &&
		      empty(e, "b"),
	      "flush_all empties every learned slot");
	udp_in(e, &o, "get a\r\n");
	udp_eg(e, &o, "VALUE a 0 1\r\n1\r\nEND\r\n");
	check(D(learned) == 1, "a GET after the flush is learned again");
	udp_in(e, &o, "get b\r\n");
	udp_in(e, &o, "flush_all\r\n");
	udp_eg(e, &o, "VALUE b 0 1\r\n2\r\nEND\r\n");
	check(!D(learned) && D(skip_raced) == 1 && empty(e, "b"),
	      "a reply to a GET from before a flush_all is not installed");
	udp_in(e, &o, "flush_all 100\r\n");
	udp_in(e, &o, "get b\r\n");
	udp_eg(e, &o, "VALUE b 0 1\r\n2\r\nEND\r\n");
	check(!D(learned) && D(skip_volatile) == 1 && empty(e, "a"),
	      "flush_all 100: nothing learned until the delay has passed");
}

static void test_expiry(struct env *e)
{
	static const char *const vol[] = {
		"set foo 0 100 3\r\nnew\r\n",
		"set foo 0 -1 3\r\nnew\r\n",
		"set foo 0 4000000000 3\r\nnew\r\n",	/* 32 bits: < 0 */
		"set foo 0 2000000000 3\r\nnew\r\n",	/* unix time */
		"touch foo 100\r\n",
		"gat 100 foo\r\n",
		"mg foo T100\r\n",
		"ms foo 3 T100\r\nnew\r\n",
	};
	struct pkt_opts o = { .id = 11 };
	unsigned int i, ok = 0;

	for (i = 0; i < sizeof(vol) / sizeof(vol[0]); i++) {
		env_reset(e);
		udp_in(e, &o, vol[i]);
		udp_in(e, &o, "get foo\r\n");
		udp_eg(e, &o, "VALUE foo 0 3\r\nnew\r\nEND\r\n");
		if (!D(learned) && D(skip_volatile) == 1 && empty(e, "foo"))
			ok++;
		else
			tap_diag("  learned after %s", vol[i]);
	}
	check(ok == i, "%u writes with an expiry: their keys are not learned",
	      i);
	env_reset(e);
	udp_in(e, &o, "set foo 0 0 3\r\nnew\r\n");
	udp_in(e, &o, "get foo\r\n");
	udp_eg(e, &o, "VALUE foo 0 3\r\nnew\r\nEND\r\n");
	check(D(learned) == 1, "written with exptime 0: learned");
}

static void test_busy(struct env *e)
{
	struct pkt_opts o = { .id = 12 };
	struct xkv_slot *s;
	__u32 seq;

	env_reset(e);
	s = slot_of(e, "foo", 3);
	udp_in(e, &o, "get foo\r\n");
	seq = s->seq;
	s->seq = seq + 1;	/* a writer inside */
	udp_eg(e, &o, "VALUE foo 0 3\r\nbar\r\nEND\r\n");
	check(D(skip_busy) == 1 && !D(learned),
	      "a slot being written is not waited for");
	s->seq = seq + 2;
	udp_in(e, &o, "get foo\r\n");
	udp_eg(e, &o, "VALUE foo 0 3\r\nbar\r\nEND\r\n");
	check(D(learned) == 1, "and learned at the next reply");
}

/*
 * @n keys other than @key whose slot is @key's, "k<number>", into
 * @keys[0..n-1] (each up to 15 bytes)
 */
static void same_slot_keys(struct env *e, const char *key, char (*keys)[16],
			   unsigned int n)
{
	struct xkv_slot *want = slot_of(e, key, strlen(key));
	unsigned int i, k = 0;

	for (i = 0; i < 1000000 && k < n; i++) {
		snprintf(keys[k], 16, "k%u", i);
		if (slot_of(e, keys[k], strlen(keys[k])) == want &&
		    strcmp(keys[k], key))
			k++;
	}
	if (k < n)
		tap_bail("not enough keys share a slot with the one asked");
}

/* memcached's reply to "get @key": @val, @vlen bytes, reaches egress */
static void learn_val(struct env *e, const char *key, const char *val,
		      size_t vlen)
{
	struct pkt_opts o = { .id = 13 };
	char buf[4096];

	snprintf(buf, sizeof(buf), "get %s\r\n", key);
	udp_in(e, &o, buf);
	snprintf(buf, sizeof(buf), "VALUE %s 0 %zu\r\n%.*s\r\nEND\r\n", key,
		 vlen, (int)vlen, val);
	udp_eg(e, &o, buf);
}

/* memcached's reply to "get @key" (value "new") reaches egress */
static void contest(struct env *e, const char *key)
{
	learn_val(e, key, "new", 3);
}

/* XDP answers "get @key" with @val, @vlen bytes */
static bool xdp_serves_n(struct env *e, const char *key, const char *val,
			 size_t vlen)
{
	char req[64], rep[1600];

	snprintf(req, sizeof(req), "get %s\r\n", key);
	snprintf(rep, sizeof(rep), "VALUE %s 0 %zu\r\n%.*s\r\nEND\r\n",
		 key, vlen, (int)vlen, val);
	return xdp_answers(e, req, rep);
}

/* XDP answers "get @key" with @val */
static bool xdp_serves(struct env *e, const char *key, const char *val)
{
	return xdp_serves_n(e, key, val, strlen(val));
}

static void test_share(struct env *e)
{
	struct pkt_opts o = { .id = 14 };
	struct xkv_hot_ent *ent;
	char other[1][16], r[64], want[128];

	env_reset(e);
	same_slot_keys(e, "foo", other, 1);
	learn(e, "foo", "bar");
	learn(e, other[0], "two");
	check(D(learned) == 1 && nents(e, "foo") == 2 &&
		      holds_nocas(e, "foo", "bar") &&
		      holds_nocas(e, other[0], "two"),
	      "two keys of one slot: both installed, side by side");
	snprintf(r, sizeof(r), "get foo %s\r\n", other[0]);
	snprintf(want, sizeof(want), "VALUE foo 0 3\r\nbar\r\n"
		 "VALUE %s 0 3\r\ntwo\r\nEND\r\n", other[0]);
	check(xdp_serves(e, "foo", "bar") && xdp_serves(e, other[0], "two") &&
		      xdp_answers(e, r, want),
	      "XDP serves both, alone and in one get");

	/* a reply for a key already there replaces it, hits kept */
	ent = key_ent(e, "foo");
	ent->hits = 5;
	contest(e, "foo");
	ent = key_ent(e, "foo");
	check(D(learned) == 1 && nents(e, "foo") == 2 && ent &&
		      ent->hits == 5 && holds_nocas(e, "foo", "new") &&
		      holds_nocas(e, other[0], "two") &&
		      xdp_serves(e, "foo", "new") &&
		      xdp_serves(e, other[0], "two"),
	      "a reply for a key in the slot replaces its entry: the new "
	      "value served, one entry, its hits kept");

	/* get, then gets, then get for one key: one entry, CAS kept */
	udp_in(e, &o, "gets foo\r\n");
	udp_eg(e, &o, "VALUE foo 0 3 77\r\nbar\r\nEND\r\n");
	check(D(learned) == 1 && nents(e, "foo") == 2 &&
		      holds(e, "foo", "bar", 3, 0, 77) &&
		      xdp_answers(e, "gets foo\r\n",
				  "VALUE foo 0 3 77\r\nbar\r\nEND\r\n"),
	      "a gets reply after a get reply: one entry, with the CAS");
	udp_in(e, &o, "get foo\r\n");
	udp_eg(e, &o, "VALUE foo 0 3\r\nbar\r\nEND\r\n");
	check(D(learned) == 1 && nents(e, "foo") == 2 &&
		      holds(e, "foo", "bar", 3, 0, 77) &&
		      holds_nocas(e, other[0], "two"),
	      "... and a get reply after it keeps the CAS");

	/* a write to one key empties the slot: the other key goes too */
	udp_in(e, &o, "delete foo\r\n");
	snprintf(r, sizeof(r), "get %s\r\n", other[0]);
	check(nents(e, "foo") == 0 && empty(e, other[0]) &&
		      xdp_passes(e, "get foo\r\n") && xdp_passes(e, r),
	      "a write to one key empties its slot: neither key is served");
}

/* value bytes that make an entry of a 2..6-byte key take 664 bytes */
#define FILL_VLEN 600

static void test_full(struct env *e)
{
	struct xkv_hot_ent *ent;
	char k[6][16], val[1300];
	unsigned int n, kept = 0, i;

	memset(val, 'v', sizeof(val));
	env_reset(e);
	same_slot_keys(e, "foo", k, 6);
	/* three entries of 664 bytes fill a slot (2040 bytes) */
	for (i = 0; i < 3; i++)
		learn_val(e, k[i], val, FILL_VLEN);
	check(nents(e, "foo") == 3 && key_ent(e, k[0]) && key_ent(e, k[1]) &&
		      key_ent(e, k[2]) &&
		      slot_of(e, "foo", 3)->used + 664 > XKV_HOT_SLOT_ROOM,
	      "three %d-byte values fill a slot", FILL_VLEN);
	key_ent(e, k[0])->hits = 5;
	key_ent(e, k[2])->hits = 3;
	learn_val(e, k[3], val, FILL_VLEN);
	check(D(learned) == 1 && D(evicted) == 1 && nents(e, "foo") == 3 &&
		      empty(e, k[1]) && key_ent(e, k[0])->hits == 5 &&
		      key_ent(e, k[2])->hits == 3 && key_ent(e, k[3]),
	      "a full slot drops the entry of fewest hits (%s, none)", k[1]);

	/* every entry has hits: the one of fewest spends them first */
	key_ent(e, k[3])->hits = 2;
	learn_val(e, k[1], val, FILL_VLEN);
	ent = key_ent(e, k[3]);
	check(D(skip_kept) == 1 && !D(learned) && nents(e, "foo") == 3 &&
		      ent && ent->hits >= 1 && ent->hits <= 2 &&
		      key_ent(e, k[0])->hits == 5 &&
		      key_ent(e, k[2])->hits == 3,
	      "with hits on every entry, a new key is kept out; only the "
	      "entry of fewest hits spends (2 -> %u)", ent ? ent->hits : 0);
	for (n = 1; n < 2000 && key_ent(e, k[3]); n++) {
		learn_val(e, k[1], val, FILL_VLEN);
		kept += D(skip_kept) == 1;
	}
	check(!key_ent(e, k[3]) && key_ent(e, k[1]) && n >= 3 &&
		      kept == n - 2 && key_ent(e, k[0])->hits == 5 &&
		      key_ent(e, k[2])->hits == 3,
	      "each contest spends a hit 1 time in %u: given up after %u",
	      XKV_HOT_HIT_SAMPLE, n);

	/* a large count is cut; an expired entry gives way, hits or not */
	key_ent(e, k[1])->hits = 1000;
	key_ent(e, k[0])->hits = 1000;
	key_ent(e, k[2])->hits = 1000;
	learn_val(e, k[4], val, FILL_VLEN);
	check(D(skip_kept) == 1 && key_ent(e, k[0])->hits <= XKV_LEARN_KEEP_MAX
	      && key_ent(e, k[0])->hits >= XKV_LEARN_KEEP_MAX - 1 &&
	      key_ent(e, k[2])->hits == 1000,
	      "a large count is cut to %u when contested (got %u)",
	      XKV_LEARN_KEEP_MAX, key_ent(e, k[0])->hits);
	key_ent(e, k[2])->expire_ns = 1;
	learn_val(e, k[4], val, FILL_VLEN);
	check(D(learned) == 1 && D(evicted) == 1 && empty(e, k[2]) &&
		      nents(e, "foo") == 3 && key_ent(e, k[0]) &&
		      key_ent(e, k[1]) && key_ent(e, k[4]),
	      "an expired entry gives its place up, hits or not");
	check(xdp_serves_n(e, k[0], val, FILL_VLEN) &&
		      xdp_serves_n(e, k[1], val, FILL_VLEN) &&
		      xdp_serves_n(e, k[4], val, FILL_VLEN),
	      "XDP serves every entry left, each well formed (nents())");

	/* a bigger value drops as many entries as it needs, oldest first */
	env_reset(e);
	for (i = 0; i < 3; i++)
		learn_val(e, k[i], val, FILL_VLEN);
	learn_val(e, k[5], val, 1300);
	check(D(learned) == 1 && D(evicted) == 2 && nents(e, "foo") == 2 &&
		      empty(e, k[0]) && empty(e, k[1]) && key_ent(e, k[2]) &&
		      key_ent(e, k[5]),
	      "a 1300-byte value drops the two oldest never-hit entries");
	check(xdp_serves_n(e, k[2], val, FILL_VLEN) &&
		      xdp_serves_n(e, k[5], val, 1300),
	      "XDP serves both entries left");

	/* small entries: many keys, every one well formed and served */
	env_reset(e);
	for (i = 0; i < 6; i++)
		learn(e, k[i], k[i]);
	for (i = 0, n = 0; i < 6; i++)
		n += holds_nocas(e, k[i], k[i]) && xdp_serves(e, k[i], k[i]);
	check(n == 6 && nents(e, "foo") == 6,
	      "six keys of one slot all held and served (%u)", n);
}

/* --- fixtures: TCP streams ------------------------------------------------ */

static void test_tcp_framing(struct env *e)
{
	struct tcp_opts t = { .cport = 42000 };
	char big[300];
	__u32 sq = 5000;
	int n;

	/* a write split in its key, and in its data block */
	env_reset(e);
	learn(e, "foo", "old");
	tcp_in(e, &t, sq++, TCP_SYN, "");
	tcp_next(e, &t, &sq, "set fo");
	check(holds_nocas(e, "foo", "old"),
	      "half a command line: nothing happens yet");
	tcp_next(e, &t, &sq, "o 0 0 3\r\nne");
	check(empty(e, "foo") && !D(in_flush_unsure),
	      "the line's end: foo emptied (key split across segments)");
	learn(e, "foo", "old");	/* memcached has not stored it yet */
	tcp_next(e, &t, &sq, "w\r\n");
	check(empty(e, "foo") && !D(in_flush_unsure),
	      "the data block's end: foo emptied again (the store is now)");

	/* pipelined, and a data block that looks like commands */
	learn(e, "foo", "old");
	learn(e, "a", "1");
	tcp_next(e, &t, &sq,
		 "set x 0 0 12\r\ndelete foo\r\n\r\ndelete a\r\nget b\r\n");
	check(holds_nocas(e, "foo", "old") && empty(e, "a") &&
		      D(in_write_keys) == 3 && D(in_get_keys) == 1 &&
		      !D(in_flush_unsure),
	      "pipelined: data block skipped by its count, a deleted, b noted");

	/* memcached refuses these lines without reading a data block, so
	 * what follows is a command */
	learn(e, "foo", "old");
	tcp_next(e, &t, &sq, "set x 0 0 abc\r\ndelete foo\r\n");
	check(empty(e, "foo"), "set with a bad byte count: the next line is "
	      "a command (foo deleted)");
	learn(e, "foo", "old");
	memcpy(big, "set ", 4);
	memset(big + 4, 'k', 251);
	n = 255 + snprintf(big + 255, sizeof(big) - 255,
			   " 0 0 12\r\ndelete foo\r\n\r\n");
	tcp_in_n(e, &t, sq, TCP_ACK, big, (size_t)n);
	sq += (__u32)n;
	check(empty(e, "foo"), "set with a 251-byte key: the next line is a "
	      "command (foo deleted)");
	learn(e, "foo", "old");
	tcp_next(e, &t, &sq, "set x 0 0 +2\r\nZZ\r\ndelete foo\r\n");
	check(empty(e, "foo") && !D(in_flush_unsure),
	      "a byte count as strtol reads it (+2) is skipped exactly");
	learn(e, "foo", "old");
	tcp_next(e, &t, &sq, "set x 0 0 4294967298\r\nZZ\r\ndelete foo\r\n");
	check(empty(e, "foo") && !D(in_flush_unsure),
	      "... also when memcached truncates it to 32 bits (2)");
	learn(e, "foo", "old");
	tcp_next(e, &t, &sq, "set x 0 0 2\r\nZZYYdelete foo\r\n");
	check(empty(e, "foo") && !D(in_flush_unsure),
	      "a block without its \\r\\n: memcached goes on right after it");

	/* a NUL ends the tokens; a \r inside a key is part of it */
	learn(e, "foo", "old");
	tcp_in_n(e, &t, sq, TCP_ACK, "delete foo\0bar\r\n", 16);
	sq += 16;
	check(empty(e, "foo"), "delete foo\\0bar: memcached deletes foo");
	learn(e, "a\rb", "x");
	tcp_next(e, &t, &sq, "delete a\rb\r\n");
	check(empty(e, "a\rb"), "delete a\\rb: the key has the \\r");
	check(!D(in_flush_unsure), "no flush on this stream");
}

static void test_tcp_unsure(struct env *e)
{
	struct tcp_opts t = { .cport = 43000 };
	static const __u8 bin_get[24] = { 0x80, 0x00, 0x00, 0x03 };
	__u32 sq;

	/* first seen in the middle, binary possible: flush every segment */
	env_reset(e);
	learn(e, "foo", "old");
	sq = 77;
	tcp_next(e, &t, &sq, "get x\r\n");
	check(D(in_flush_unsure) == 1 && empty(e, "foo"),
	      "a stream first seen in its middle flushes the cache");
	learn(e, "foo", "old");
	tcp_next(e, &t, &sq, "get y\r\n");
	check(D(in_flush_unsure) == 1 && empty(e, "foo"),
	      "... and keeps flushing: it could be the binary protocol");

	/* followed from the SYN: a gap, a retransmission */
	t.cport = 43001;
	env_reset(e);
	sq = 100;
	tcp_in(e, &t, sq++, TCP_SYN, "");
	tcp_next(e, &t, &sq, "get a\r\n");
	learn(e, "foo", "old");
	tcp_in(e, &t, sq - 7, TCP_ACK, "get a\r\n");
	check(D(in_flush_unsure) == 1 && empty(e, "foo"),
	      "a retransmission flushes (the first copy may have been "
	      "dropped after TC)");
	learn(e, "foo", "old");
	sq += 93;
	tcp_next(e, &t, &sq, "et b\r\ndelete z\r\n");
	check(D(in_flush_unsure) == 1 && D(in_unsure) == 1 &&
		      empty(e, "foo"),
	      "a gap flushes, and the stream is followed without certainty");
	learn(e, "foo", "old");
	learn(e, "z", "1");
	tcp_next(e, &t, &sq, "delete foo\r\n");
	check(empty(e, "foo") && holds_nocas(e, "z", "1") &&
		      !D(in_flush_unsure) && D(in_unsure) == 1,
	      "... contiguous segments after it need no flush");
	learn(e, "foo", "old");
	tcp_next(e, &t, &sq, "set k 0 0 12\r\ndelete foo\r\n\r\n");
	check(empty(e, "foo") && !D(in_flush_unsure),
	      "unsure: data blocks are parsed too (a command in a value "
	      "counts)");
	tcp_in(e, &t, sq, TCP_FIN | TCP_ACK, "");
	tcp_next(e, &t, &sq, "get q\r\n");
	check(D(in_flush_unsure) == 1,
	      "after FIN the stream is forgotten (more data: flush)");

	/* binary protocol from the first byte */
	t.cport = 43002;
	env_reset(e);
	tcp_in(e, &t, 300, TCP_SYN, "");
	learn(e, "foo", "old");
	tcp_in_n(e, &t, 301, TCP_ACK, bin_get, sizeof(bin_get));
	check(D(in_flush_unsure) == 1 && empty(e, "foo"),
	      "a binary-protocol connection flushes on every segment");

	/* a base64 meta key: which slot is unknown */
	learn(e, "foo", "old");
	udp_in(e, &(struct pkt_opts){ .id = 1 }, "md Zm9v b\r\n");
	check(D(in_flush_unsure) == 1 && empty(e, "foo"),
	      "md with a base64 key flushes");
}

static void test_tcp_text_only(struct env *e)
{
	struct tcp_opts t = { .cport = 44000 };
	__u32 sq = 500;

	/* -B ascii: a stream seen mid-way is text; one flush, then parsed */
	env_reset(e);
	learn(e, "foo", "old");
	learn(e, "k", "1");
	tcp_next(e, &t, &sq, "t foo 0 0 3\r\nbar\r\ndelete k\r\n");
	check(D(in_flush_unsure) == 1 && empty(e, "foo") && empty(e, "k"),
	      "TEXT_ONLY: first seen mid-stream: one flush");
	forget_quiet(e);
	learn(e, "foo", "old");
	learn(e, "k", "1");
	tcp_next(e, &t, &sq, "delete k\r\n");
	check(!D(in_flush_unsure) && empty(e, "k") &&
		      holds_nocas(e, "foo", "old"),
	      "... then its commands are parsed: no more flushes");
	/* a storage command whose block lacks its \r\n: memcached resumes
	 * right after the block, where no line starts */
	tcp_next(e, &t, &sq, "set s 0 0 2\r\nxyZZdelete foo\r\n");
	check(empty(e, "foo") && D(in_flush_unsure) == 1,
	      "unsure: a block without its \\r\\n: the line after it flushes");
}

static void test_tcp_learn(struct env *e)
{
	struct tcp_opts t = { .cport = 45000 };
	struct pkt_opts o = { .id = 13 };
	__u32 s = 9000;

	env_reset(e);
	tcp_in(e, &t, 100, TCP_SYN, "");
	tcp_in(e, &t, 101, TCP_ACK, "get foo k2\r\n");
	tcp_eg(e, &t, s, TCP_SYN | TCP_ACK, "");
	tcp_eg(e, &t, s + 1, TCP_ACK,
	       "VALUE foo 3 3\r\nbar\r\nVALUE k2 0 5 42\r\nhello\r\nEND\r\n");
	check(D(learned) == 2 && holds(e, "foo", "bar", 3, 3, NOCAS) &&
		      holds(e, "k2", "hello", 5, 0, 42),
	      "TCP replies (followed from the SYN-ACK) are learned");
	tcp_eg(e, &t, s + 1, TCP_ACK,
	       "VALUE foo 3 3\r\nbar\r\nVALUE k2 0 5 42\r\nhello\r\nEND\r\n");
	check(!D(learned) && !D(eg_values), "a retransmitted reply is not");

	/* a VALUE block across two segments: not learned, framing kept */
	env_reset(e);
	tcp_in(e, &t, 100, TCP_SYN, "");
	tcp_in(e, &t, 101, TCP_ACK, "get big\r\nget x\r\n");
	tcp_eg(e, &t, s, TCP_SYN | TCP_ACK, "");
	tcp_eg(e, &t, s + 1, TCP_ACK, "VALUE big 0 30\r\nVALUE x 0 3\r\nbad");
	check(D(skip_split) == 1 && !D(learned), "a block split across "
	      "packets is not learned");
	tcp_eg(e, &t, s + 33, TCP_ACK,
	       "\r\n1234567890ab\r\nEND\r\nVALUE x 0 3\r\ngud\r\nEND\r\n");
	check(D(learned) == 1 && holds(e, "x", "gud", 3, 0, NOCAS),
	      "... the VALUE inside its data is skipped, the real one learned");

	/* mid-stream replies, and a gap: never learned */
	env_reset(e);
	t.cport = 45001;
	udp_in(e, &o, "get foo\r\n");
	tcp_eg(e, &t, s, TCP_ACK, "VALUE foo 0 3\r\nbar\r\nEND\r\n");
	check(!D(learned) && D(skip_unsure) == 1 && empty(e, "foo"),
	      "replies on a connection not followed from its start: skipped");
	tcp_eg(e, &t, s, TCP_SYN | TCP_ACK, "");
	tcp_eg(e, &t, s + 50, TCP_ACK, "VALUE foo 0 3\r\nbar\r\nEND\r\n");
	check(!D(learned) && D(skip_unsure) == 1,
	      "a gap in the replies: the stream is not learned from");
}

/* replies from a socket that is not memcached's install nothing */
static void test_owner(struct env *e)
{
	struct tcp_opts t = { .cport = 45100 };
	struct pkt_opts o = { .id = 14 };
	__u32 s = 7000;

	env_reset(e);
	env_own(e, false, 0);
	udp_in(e, &o, "get foo\r\n");
	udp_eg(e, &o, "VALUE foo 0 3\r\nbad\r\nEND\r\n");
	check(D(skip_foreign) == 1 && !D(learned) && !D(eg_values) &&
		      empty(e, "foo"),
	      "memcached's sockets not known yet: a UDP reply installs nothing");

	/* the frames' socket has uid 0: memcached's is another user */
	env_reset(e);
	env_own(e, true, 65534);
	udp_in(e, &o, "get foo\r\n");
	udp_eg(e, &o, "VALUE foo 0 3\r\nbad\r\nEND\r\n");
	check(D(skip_foreign) == 1 && !D(learned) && empty(e, "foo"),
	      "a UDP reply from another user's socket installs nothing");
	tcp_in(e, &t, 100, TCP_SYN, "");
	tcp_in(e, &t, 101, TCP_ACK, "get foo\r\n");
	tcp_eg(e, &t, s, TCP_SYN | TCP_ACK, "");
	tcp_eg(e, &t, s + 1, TCP_ACK, "VALUE foo 0 3\r\nbad\r\nEND\r\n");
	check(D(skip_foreign) == 1 && !D(learned) && empty(e, "foo"),
	      "a TCP reply from another user's socket installs nothing");
	env_own(e, true, 0);
	udp_in(e, &o, "get foo\r\n");
	udp_eg(e, &o, "VALUE foo 0 3\r\nbar\r\nEND\r\n");
	check(D(learned) == 1 && holds(e, "foo", "bar", 3, 0, NOCAS),
	      "... and from memcached's, the same reply is learned");
}

/* a UDP reply is learned only as the answer to a request seen */
static void test_requests(struct env *e)
{
	struct pkt_opts o = { .id = 15 }, other = { .id = 16 };
	static const __u8 elsewhere[4] = { 10, 0, 0, 99 };
	struct xkv_learn_req k;
	int fd = bpf_map__fd(e->l->maps.xkv_lreq);
	struct xkv_learn_reqv old;

	env_reset(e);
	udp_in(e, &o, "get foo\r\n");
	udp_eg(e, &other, "VALUE foo 0 3\r\nbad\r\nEND\r\n");
	check(D(skip_no_req) == 1 && !D(learned) && empty(e, "foo"),
	      "a reply with another request id installs nothing");
	other.id = o.id;
	other.src = elsewhere;
	udp_eg(e, &other, "VALUE foo 0 3\r\nbad\r\nEND\r\n");
	check(D(skip_no_req) == 1 && !D(learned) && empty(e, "foo"),
	      "a reply to another client installs nothing");
	udp_eg(e, &o, "VALUE foo 0 3\r\nbar\r\nEND\r\n");
	check(D(learned) == 1 && holds(e, "foo", "bar", 3, 0, NOCAS),
	      "the reply to the request is learned");
	udp_eg(e, &o, "VALUE foo 0 3\r\nbad\r\nEND\r\n");
	check(D(skip_no_req) == 1 && !D(learned) &&
		      holds(e, "foo", "bar", 3, 0, NOCAS),
	      "a second reply to the same request installs nothing");

	env_reset(e);
	udp_in(e, &o, "get foo\r\n");
	if (bpf_map_get_next_key(fd, NULL, &k) ||
	    bpf_map_lookup_elem(fd, &k, &old))
		tap_bail("cannot age the request");
	old.ns = 1;
	if (bpf_map_update_elem(fd, &k, &old, BPF_EXIST))
		tap_bail("cannot age the request");
	udp_eg(e, &o, "VALUE foo 0 3\r\nbar\r\nEND\r\n");
	check(D(skip_no_req) == 1 && !D(learned) && empty(e, "foo"),
	      "a reply to a request older than the TTL installs nothing");
}

static void test_layers(struct env *e)
{
	struct pkt_opts o = { .id = 14, .ipv6 = true, .nvlans = 2 };
	struct tcp_opts t = { .cport = 46000, .ipv6 = true, .nvlans = 1 };

	env_reset(e);
	udp_in(e, &o, "get v6\r\n");
	udp_eg(e, &o, "VALUE v6 0 2\r\nok\r\nEND\r\n");
	check(D(learned) == 1 && holds(e, "v6", "ok", 2, 0, NOCAS),
	      "IPv6 with two VLAN tags: learned");
	tcp_in(e, &t, 1, TCP_SYN, "");
	tcp_in(e, &t, 2, TCP_ACK, "delete v6\r\n");
	check(empty(e, "v6") && !D(in_flush_unsure),
	      "IPv6 TCP with a tag: delete invalidates");
	o.ipv6 = false;
	o.frag = 0x2000;	/* first fragment of a bigger datagram */
	learn(e, "foo", "old");
	udp_in(e, &o, "get foo\r\n");
	check(D(in_flush_unsure) == 1 && empty(e, "foo"),
	      "a fragmented UDP request flushes");
	o.frag = 0x0010;	/* a later fragment: no ports, ignored */
	learn(e, "foo", "old");
	udp_in(e, &o, "delete foo\r\n");
	check(!D(in_packets) && holds_nocas(e, "foo", "old"),
	      "later fragments are left to the first");
	o.frag = 0;
	o.ipv6 = true;
	o.v6frag = true;	/* IPv6 fragment header, offset 0 */
	udp_in(e, &o, "get foo\r\n");
	check(D(in_flush_unsure) == 1, "an IPv6 first fragment flushes too");
}

/* --- the UDP policy (XKV_LCFG_UDP_POLICY) --------------------------------- */

/* run a frame that must be dropped; the counter @id must say why */
static bool shot(struct env *e, int fd, const struct pkt *p, int id)
{
	run_tc(e, fd, p);
	return !last.err && last.retval == (__u32)TC_ACT_SHOT &&
	       last.d[id] == 1;
}

#define SHOT_IN(e, o, text, name)                                             \
	(pkt_request(in, (o), (text), strlen(text)),                         \
	 shot((e), (e)->in_fd, in, XKV_LSTAT_##name))

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* a request that ingress must drop: how it is built, the counter, why */
struct shot_case {
	struct pkt_opts o;
	int id;			/* XKV_LSTAT_* */
	const char *name;
};

/* "get foo" built as each of @cases says, each dropped at ingress */
static void shot_gets(struct env *e, const struct shot_case *cases, size_t n)
{
	static const char get[] = "get foo\r\n";
	size_t i;

	for (i = 0; i < n; i++) {
		pkt_request(in, &cases[i].o, get, sizeof(get) - 1);
		check(shot(e, e->in_fd, in, cases[i].id), "%s",
		      cases[i].name);
	}
}

/* UDP payload offset of pkt_request()/pkt_reply() frames (IPv4, no tag) */
#define PAY4 (14 + 20 + 8)

/*
 * memcached's datagram @seq of @count answering request @id: @n bytes of
 * UDP payload (frame header included), the body not memcached's format
 * (only the bytes count here).
 */
static void dgram(struct pkt_opts *o, __u16 seq, __u16 count, size_t n)
{
	static char body[PKT_MAX];

	memset(body, 'x', n - 8);
	pkt_reply(in, o, body, n - 8);
	put16(in->b + PAY4 + 2, seq);
	put16(in->b + PAY4 + 4, count);
}

static void allow4(struct env *e, const __u8 *a, __u32 len)
{
	struct xkv_lpm4 k = { .prefixlen = len };
	__u32 one = 1;

	memcpy(k.addr, a, 4);
	if (bpf_map_update_elem(bpf_map__fd(e->l->maps.xkv_allow4), &k, &one,
				BPF_ANY))
		tap_bail("cannot fill xkv_allow4");
}

static void test_policy_in(struct env *e)
{
	static const __u8 outside[4] = { 192, 0, 2, 7 };
	static const __u8 group[4] = { 224, 0, 0, 1 };
	static const __u8 bcast[4] = { 255, 255, 255, 255 };
	static const __u8 zero4[4] = { 0, 0, 0, 9 };
	static const struct shot_case src_drops[] = {
		{ { .id = 30, .src = outside }, XKV_LSTAT_udp_drop_source,
		  "policy: a get from outside the allowlist is dropped" },
		{ { .id = 30, .sport_zero = true }, XKV_LSTAT_udp_drop_source,
		  "policy: source port 0 is dropped" },
		{ { .id = 30, .sport = PKT_SERVER_PORT },
		  XKV_LSTAT_udp_drop_source,
		  "policy: memcached's own port as the source is dropped" },
		{ { .id = 30, .src = group }, XKV_LSTAT_udp_drop_source,
		  "policy: a multicast source is dropped" },
		{ { .id = 30, .src = zero4 }, XKV_LSTAT_udp_drop_source,
		  "policy: a 0/8 source is dropped" },
		{ { .id = 30, .dst = bcast }, XKV_LSTAT_udp_drop_source,
		  "policy: a request to 255.255.255.255 is dropped" },
	};
	static const struct shot_case frame_drops[] = {
		{ { .id = 30, .count = 2 }, XKV_LSTAT_udp_drop_reply,
		  "policy: a request claiming two datagrams is dropped" },
		{ { .id = 30, .no_frame = true }, XKV_LSTAT_udp_drop_reply,
		  "policy: a datagram without a frame header is dropped" },
		{ { .id = 30, .ipv6 = true }, XKV_LSTAT_udp_drop_source,
		  "policy: an IPv6 source outside the allowlist is dropped" },
	};
	struct pkt_opts o = { .id = 30 }, x;
	struct xkv_addr ba = { .addr = { 0 } };
	int afd = bpf_map__fd(e->l->maps.xkv_addrs);
	__u32 bf = XKV_ADDR_BCAST;

	env_reset(e);
	udp_in(e, &o, "get foo\r\n");
	check(D(in_get_keys) == 1 && !D(udp_drop_source) &&
		      !D(udp_drop_reply),
	      "policy: a get from the allowlist goes to memcached");
	learn(e, "foo", "old");
	x = o;
	x.src = outside;
	check(SHOT_IN(e, &x, "set foo 0 0 3\r\nnew\r\n", udp_drop_source) &&
		      !D(in_write_keys) && holds_nocas(e, "foo", "old"),
	      "policy: a set from outside the allowlist is dropped");
	shot_gets(e, src_drops, ARRAY_SIZE(src_drops));
	ba.addr[10] = 0xff;
	ba.addr[11] = 0xff;
	memcpy(ba.addr + 12, pkt_server4, 4);
	if (bpf_map_update_elem(afd, &ba, &bf, BPF_ANY))
		tap_bail("cannot fill xkv_addrs");
	check(SHOT_IN(e, &o, "get foo\r\n", udp_drop_source),
	      "policy: a request to a subnet broadcast address is dropped");
	bpf_map_delete_elem(afd, &ba);

	check(SHOT_IN(e, &o, "ERROR\r\n", udp_drop_reply),
	      "policy: an error line is dropped (no ERROR ping-pong)");
	check(SHOT_IN(e, &o, "VALUE foo 0 3\r\nbad\r\nEND\r\n",
		      udp_drop_reply) && holds_nocas(e, "foo", "old"),
	      "policy: a reply-like datagram is dropped");
	check(SHOT_IN(e, &o, "  END\r\n", udp_drop_reply),
	      "policy: ... after leading spaces too");
	check(SHOT_IN(e, &o, "12\r\n", udp_drop_reply),
	      "policy: a line starting with a digit is dropped");
	shot_gets(e, frame_drops, ARRAY_SIZE(frame_drops));
	udp_in(e, &o, "delete foo\r\n");
	check(D(in_write_keys) == 1 && empty(e, "foo"),
	      "policy: a delete from the allowlist still invalidates");
}

static void test_policy_eg(struct env *e)
{
	struct pkt_opts o = { .id = 40 };
	/* "get k\r\n" after the frame header: 15 bytes, 64 x 15 = 960 */
	const char *req = "get k\r\n";

	static const __u8 outside[4] = { 192, 0, 2, 7 };
	struct pkt_opts x;
	bool ok;

	env_reset(e);
	pkt_reply(in, &o, "END\r\n", 5);
	check(shot(e, e->eg_fd, in, XKV_LSTAT_udp_drop_no_req),
	      "policy: a datagram from memcached's port answering no request is dropped");
	udp_in(e, &o, "get foo\r\n");
	udp_eg(e, &o, "VALUE foo 0 3\r\nbar\r\nEND\r\n");
	check(D(learned) == 1 && !D(udp_drop_budget) &&
		      holds(e, "foo", "bar", 3, 0, NOCAS),
	      "policy: the reply to a request goes out, and is learned");
	udp_eg(e, &o, "VALUE foo 0 3\r\nbar\r\nEND\r\n");
	check(D(skip_no_req) == 1 && !D(learned),
	      "policy: a second reply within the budget goes out, not learned");

	o.id = 41;
	udp_in(e, &o, req);
	dgram(&o, 0, 2, 560);
	ok = run_ok(e, e->eg_fd, in, "datagram 1 of 2");
	dgram(&o, 1, 2, 400);
	ok = run_ok(e, e->eg_fd, in, "datagram 2 of 2") && ok;
	check(ok && !D(udp_drop_budget),
	      "policy: a reply of 2 datagrams, 960 bytes for a 15-byte request (64x), goes out whole");

	o.id = 42;
	udp_in(e, &o, req);
	dgram(&o, 0, 3, 900);
	ok = run_ok(e, e->eg_fd, in, "datagram 1 of 3");
	dgram(&o, 1, 3, 100);
	ok = shot(e, e->eg_fd, in, XKV_LSTAT_udp_drop_budget) && ok;
	dgram(&o, 2, 3, 20);
	check(ok && shot(e, e->eg_fd, in, XKV_LSTAT_udp_drop_budget),
	      "policy: past 64x the request's bytes the rest of the reply is dropped");

	o.id = 43;
	udp_in(e, &o, req);
	dgram(&o, 0, 1, 961);
	check(shot(e, e->eg_fd, in, XKV_LSTAT_udp_drop_budget),
	      "policy: one datagram of 961 bytes for a 15-byte request is dropped");

	x = o;
	x.id = 44;
	x.src = outside;
	ok = SHOT_IN(e, &x, "get foo\r\n", udp_drop_source);
	pkt_reply(in, &x, "END\r\n", 5);
	check(ok && shot(e, e->eg_fd, in, XKV_LSTAT_udp_drop_no_req),
	      "policy: a request dropped at ingress lets no reply out");
}

static void test_quiet(struct env *q)
{
	struct pkt_opts o = { .id = 15 };

	env_reset(q);
	udp_in(q, &o, "get foo\r\n");
	udp_in(q, &o, "set foo 0 0 3\r\nnew\r\n");
	udp_in(q, &o, "get foo\r\n");
	udp_eg(q, &o, "VALUE foo 0 3\r\nold\r\nEND\r\n");
	check(!D(learned) && D(skip_quiet) == 1,
	      "GET, write, GET, then a reply (maybe the first GET's): held "
	      "back by the %d ms quarantine", QUIET_MS);
	usleep((QUIET_MS + 50) * 1000);
	udp_in(q, &o, "get foo\r\n");
	udp_eg(q, &o, "VALUE foo 0 3\r\nnew\r\nEND\r\n");
	check(D(learned) == 1 && holds_nocas(q, "foo", "new"),
	      "after the quarantine the key is learned");
	udp_in(q, &o, "flush_all\r\n");
	udp_in(q, &o, "get foo\r\n");
	udp_eg(q, &o, "VALUE foo 0 3\r\nnew\r\nEND\r\n");
	check(!D(learned) && D(skip_quiet) == 1,
	      "a flush starts a quarantine for every key");
}

/* --- the attach API ------------------------------------------------------- */

static void test_attach(struct env *e)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = 1,
			    .attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS);
	int lifs = bpf_map__fd(e->l->maps.xkv_lifs), err;
	struct bpf_prog_info info;
	__u32 in_id = 0, eg_id = 0, len = sizeof(info), rec = 0, key = 1;

	/* a private network namespace: its lo is ifindex 1 */
	if (unshare(CLONE_NEWNET)) {
		tap_skip(6, "cannot make a network namespace");
		return;
	}
	err = xkv_learn_attach(e->l, 1);
	check(!err, "attach to lo (no qdisc yet): %s", strerror(-err));
	xkv_learn_query(1, &in_id, &eg_id);
	memset(&info, 0, sizeof(info));
	bpf_obj_get_info_by_fd(e->in_fd, &info, &len);
	check(in_id && eg_id && in_id == info.id &&
		      !bpf_map_lookup_elem(lifs, &key, &rec) &&
		      rec == (XKV_LIF_ATTACHED | XKV_LIF_OWN_QDISC),
	      "both programs attached; the qdisc recorded as ours");
	err = xkv_learn_attach(e->l, 1);
	check(err == -EEXIST, "a second attach says so (-EEXIST): %d", err);
	err = xkv_learn_detach(1, lifs);
	xkv_learn_query(1, &in_id, &eg_id);
	check(!err && !in_id && !eg_id &&
		      bpf_tc_hook_create(&hook) == 0,
	      "detach removes the filters and the clsact qdisc it made");
	/* now a clsact qdisc exists that is not ours */
	err = xkv_learn_attach(e->l, 1);
	rec = 0;
	bpf_map_lookup_elem(lifs, &key, &rec);
	check(!err && rec == XKV_LIF_ATTACHED,
	      "attach next to an existing qdisc: recorded as not ours");
	err = xkv_learn_detach(1, lifs);
	xkv_learn_query(1, &in_id, &eg_id);
	libbpf_set_print(NULL);	/* the probe's failure is the answer */
	check(!err && !in_id && !eg_id &&
		      bpf_tc_hook_create(&hook) == -EEXIST,
	      "detach leaves a qdisc it did not create");
	libbpf_set_print(fixture_libbpf_quiet);
	bpf_tc_hook_destroy(&hook);
}

/* --- timing --------------------------------------------------------------- */

/* average ns per run of @p through program @fd, over @n runs */
static double time_run(int fd, const struct pkt *p, __u32 n)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = p->b,
		    .data_size_in = (__u32)p->len, .repeat = n);

	if (bpf_prog_test_run_opts(fd, &opts))
		return -1;
	return opts.duration;
}

static void bench(struct env *e)
{
	static char val[33] = "0123456789abcdef0123456789abcdef";
	struct pkt_opts o = { .id = 1 };
	struct tcp_opts t = { .cport = 47000 };
	char text[256];
	double ns, sum = 0;
	__u32 sq = 1000, i, n = 2000;

	env_reset(e);
	pkt_request(in, &o, "get user:00000042\r\n", 19);
	tap_diag("ingress, UDP get (16-byte key): %.0f ns",
		 time_run(e->in_fd, in, 100000));
	snprintf(text, sizeof(text), "set user:00000042 0 0 32\r\n%s\r\n",
		 val);
	pkt_request(in, &o, text, strlen(text));
	tap_diag("ingress, UDP set (32-byte value): %.0f ns",
		 time_run(e->in_fd, in, 100000));
	o.dport = 53;
	pkt_request(in, &o, "get user:00000042\r\n", 19);
	tap_diag("ingress, UDP to another port: %.0f ns",
		 time_run(e->in_fd, in, 100000));
	o.dport = 0;
	snprintf(text, sizeof(text),
		 "VALUE user:00000042 0 32\r\n%s\r\nEND\r\n", val);
	pkt_reply(in, &o, text, strlen(text));
	tap_diag("egress, reply with no GET seen: %.0f ns",
		 time_run(e->eg_fd, in, 100000));
	pkt_request(out, &o, "get user:00000042\r\n", 19);
	run_tc(e, e->in_fd, out);
	tap_diag("egress, reply learned (installed each run): %.0f ns",
		 time_run(e->eg_fd, in, 100000));
	tcp_in(e, &t, sq++, TCP_SYN, "");
	for (i = 0; i < n; i++) {
		tcp_frame(in, &t, sq, TCP_ACK | TCP_PSH,
			  "get user:00000042\r\n", 19);
		ns = time_run(e->in_fd, in, 1);
		sum += ns;
		sq += 19;
	}
	tap_diag("ingress, TCP get on a followed stream: %.0f ns", sum / n);
	tcp_frame(in, &t, 1, TCP_ACK, "get x\r\n", 7);
	tap_diag("ingress, out-of-order TCP segment (flush, cache empty): "
		 "%.0f ns", time_run(e->in_fd, in, 1000));
	/* a flush of a full cache: every slot learned, then one flush */
	for (i = 0, sum = 0; i < 20; i++) {
		__u32 k;

		for (k = 0; k < NSLOTS; k++) {
			struct xkv_slot *sl = &e->hot[k];
			__u32 w = k / 64;
			__u64 bits = ~0ULL;

			sl->used = XKV_HOT_ENT_MIN;
			if (!(k & 63))
				bpf_map_update_elem(bpf_map__fd(
					e->l->maps.xkv_locc), &w, &bits,
					BPF_ANY);
		}
		sum += time_run(e->in_fd, in, 1);
	}
	tap_diag("ingress, flush of %d learned slots: %.0f ns", NSLOTS,
		 sum / 20);
}

static __u32 verified_insns(int fd)
{
	struct bpf_prog_info info;
	__u32 len = sizeof(info);

	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return 0;
	return info.verified_insns;
}

static void print_verifier_stats(struct env *e)
{
	const char *p = vlog;

	while ((p = strstr(p, "processed ")) != NULL) {
		const char *end = strchr(p, '\n');

		tap_diag("verifier: %.*s",
			 end ? (int)(end - p) : (int)strlen(p), p);
		p = end ? end : p + strlen(p);
	}
	tap_diag("verifier: ingress %u, egress %u instructions processed",
		 verified_insns(e->in_fd), verified_insns(e->eg_fd));
}

int main(int argc, char **argv)
{
	bool vstats = argc > 1 && !strcmp(argv[1], "--verifier-stats");
	bool do_bench = argc > 1 && !strcmp(argv[1], "--bench");

	if (argc > 1 && !strcmp(argv[1], "--verifier-log"))
		log_level = 1;
	struct env e, q, pol;
	int err;

	if (!fixture_start())
		return 0;
	in = malloc(sizeof(*in));
	out = malloc(sizeof(*out));
	vlog = calloc(1, VLOG_SIZE);
	if (!in || !out || !vlog)
		tap_bail("out of memory");

	err = env_open(&e, 0, 0, true);
	if (err) {
		fputs(vlog, stdout);
		printf("Bail out! cannot load the learning programs: %s\n",
		       strerror(-err));
		return 1;
	}
	print_verifier_stats(&e);
	/* as "xkv up" loads them: with the UDP policy */
	err = env_open(&pol, 0, XKV_LCFG_TEXT_ONLY | XKV_LCFG_UDP_POLICY,
		       true);
	if (err) {
		fputs(vlog, stdout);
		tap_bail("cannot load the learning programs with the UDP policy");
	}
	tap_diag("with XKV_LCFG_UDP_POLICY:");
	print_verifier_stats(&pol);
	if (vstats || do_bench) {
		if (do_bench)
			bench(&e);
		env_close(&pol);
		env_close(&e);
		return 0;
	}
	test_learn_basic(&e);
	test_cas(&e);
	test_multi(&e);
	test_sizes(&e);
	test_malformed(&e);
	test_untouched(&e);
	test_writes(&e);
	test_flush(&e);
	test_expiry(&e);
	test_busy(&e);
	test_share(&e);
	test_full(&e);
	test_tcp_framing(&e);
	test_tcp_unsure(&e);
	test_tcp_learn(&e);
	test_owner(&e);
	test_requests(&e);
	test_layers(&e);

	err = env_open(&q, QUIET_MS, XKV_LCFG_TEXT_ONLY, false);
	if (err)
		tap_bail("cannot load the learning programs a second time");
	test_tcp_text_only(&q);
	test_quiet(&q);
	env_close(&q);

	allow4(&pol, pkt_client4, 24);
	test_policy_in(&pol);
	test_policy_eg(&pol);
	env_close(&pol);

	test_attach(&e);
	tap_diag("%u frames run through TC, %u passed untouched", n_runs,
		 n_untouched);
	env_close(&e);
	free(in);
	free(out);
	free(vlog);
	return tap_done();
}
