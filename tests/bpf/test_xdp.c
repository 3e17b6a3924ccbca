// SPDX-License-Identifier: GPL-2.0
/*
 * test_xdp.c - BPF_PROG_TEST_RUN fixtures for the XDP hot tier.
 *
 * Loads bpf/xkv.bpf.c through its skeleton, fills the hot cache through
 * the map's mmap()ed memory exactly as a backend does (the seqlock
 * of xkv_slot.h), sets the allowlist, then runs hand-built
 * frames through the program one at a time and checks, for each: the
 * verdict, the output frame byte for byte (a reply is computed here
 * independently, see pkt.c; a passed frame must come back untouched), the
 * reply's checksums by summing them again, and which counter moved.
 *
 *   test_xdp [--verifier-stats | --bench]
 *
 * --verifier-stats prints the verifier's statistics for the program and
 * exits; --bench times a few requests (average of in-kernel run times, one
 * fresh frame per run) instead of testing.
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

#include <net/if.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>

#include "xkv_bin.h"
#include "xkv_config.h"
#include "xkv_live.h"
#include "xkv_stats.h"
#include "xkv_policy.h"
#include "xkv_slot.h"	/* before the skeleton: it names our types */
#include "xkv.skel.h"
#include "counters.h"
#include "fixture.h"
#include "pkt.h"
#include "tap.h"

#define NSLOTS 1024
#define VLOG_SIZE (1 << 20)

struct env {
	struct xkv *skel;
	struct xkv_slot *hot;
	size_t hot_size;
	struct xkv_live *live;	/* the backend's lease, renewed per run */
	bool dead;		/* ... unless the backend plays dead */
	int ifindex;		/* frames arrive here; 0: lo */
	__u32 nslots;
	int prog_fd;
	int stats_fd;
	int ncpus;
};

static char vlog[VLOG_SIZE];

/* --- loading ------------------------------------------------------------ */

static int env_open(struct env *e, const struct xkv_config *cfg)
{
	long page = sysconf(_SC_PAGESIZE);
	int err;

	memset(e, 0, sizeof(*e));
	e->skel = xkv__open();
	if (!e->skel)
		return -errno;
	memcpy((void *)&e->skel->rodata->xkv_cfg, cfg, sizeof(*cfg));
	e->nslots = cfg->nslots;
	err = bpf_map__set_max_entries(e->skel->maps.xkv_hot, cfg->nslots);
	if (err)
		return err;
	/*
	 * log level 4: statistics only (processed instructions); with
	 * XKV_TEST_VLOG set, every instruction too (level 1), to see why
	 * another kernel refuses the program
	 */
	bpf_program__set_log_level(e->skel->progs.xkv_xdp,
				   getenv("XKV_TEST_VLOG") ? 1 | 4 : 4);
	bpf_program__set_log_buf(e->skel->progs.xkv_xdp, vlog, sizeof(vlog));
	err = xkv__load(e->skel);
	if (err)
		return err;
	e->prog_fd = bpf_program__fd(e->skel->progs.xkv_xdp);
	e->stats_fd = bpf_map__fd(e->skel->maps.xkv_stats);
	e->ncpus = libbpf_num_possible_cpus();
	if (e->ncpus <= 0)
		return -EINVAL;
	e->hot_size = (size_t)cfg->nslots * sizeof(struct xkv_slot);
	e->hot_size = (e->hot_size + page - 1) / page * page;
	e->hot = fixture_map_mmap(e->skel->maps.xkv_hot, e->hot_size);
	e->live = fixture_map_mmap(e->skel->maps.xkv_live, (size_t)page);
	if (!e->hot || !e->live)
		return -errno;
	return 0;
}

static void env_close(struct env *e)
{
	fixture_map_munmap(e->live, (size_t)sysconf(_SC_PAGESIZE));
	fixture_map_munmap(e->hot, e->hot_size);
	xkv__destroy(e->skel);
	memset(e, 0, sizeof(*e));
}

/* what every writer of the policy's maps does after a change */
static void policy_bump(struct env *e)
{
	struct xkv_policy_gen g;
	__u32 zero = 0;
	int fd = bpf_map__fd(e->skel->maps.xkv_policy_gen);

	if (bpf_map_lookup_elem(fd, &zero, &g))
		tap_bail("cannot read xkv_policy_gen");
	g.gen++;
	if (bpf_map_update_elem(fd, &zero, &g, BPF_ANY))
		tap_bail("cannot bump xkv_policy_gen");
}

static int allow4(struct env *e, const uint8_t *addr, __u32 plen)
{
	struct xkv_lpm4 k = { .prefixlen = plen };
	__u32 one = 1;

	memcpy(k.addr, addr, 4);
	if (bpf_map_update_elem(bpf_map__fd(e->skel->maps.xkv_allow4), &k,
				&one, BPF_ANY))
		return -1;
	policy_bump(e);
	return 0;
}

/* remove IPv4 prefix @addr/@plen; @bump: as writers must, after it */
static int disallow4(struct env *e, const uint8_t *addr, __u32 plen,
		     bool bump)
{
	struct xkv_lpm4 k = { .prefixlen = plen };

	memcpy(k.addr, addr, 4);
	if (bpf_map_delete_elem(bpf_map__fd(e->skel->maps.xkv_allow4), &k))
		return -1;
	if (bump)
		policy_bump(e);
	return 0;
}

static int allow6(struct env *e, const uint8_t *addr, __u32 plen)
{
	struct xkv_lpm6 k = { .prefixlen = plen };
	__u32 one = 1;

	memcpy(k.addr, addr, 16);
	if (bpf_map_update_elem(bpf_map__fd(e->skel->maps.xkv_allow6), &k,
				&one, BPF_ANY))
		return -1;
	policy_bump(e);
	return 0;
}

/* --- the writer: the slot seqlock of xkv_slot.h ------------------------ */

/* the slot a key lives in, if anywhere */
static struct xkv_slot *slot_of(struct env *e, const void *key, size_t klen)
{
	return &e->hot[xkv_hot_index(xkv_hot_hash(key, (__u32)klen),
				     e->nslots)];
}

/* step 1: the test owns its map, so it locks a slot or takes it over */
static __u32 slot_begin(struct xkv_slot *s)
{
	__u32 seq = 0;

	if (!xkv_slot_take(s, &seq))
		tap_bail("a slot stays locked");
	return seq;
}

/* step 3: publish (odd -> even, two more than before) */
static void slot_end(struct xkv_slot *s, __u32 seq)
{
	xkv_slot_unlock(s, seq);
}

/* the key's entry, built by xkv_slot.h, in its slot; @xflags XKV_SLOT_F_* */
static void hot_set_x(struct env *e, const void *key, size_t klen,
		      const void *val, size_t vlen, __u32 flags, __u64 cas,
		      __u64 expire_ns, __u8 xflags)
{
	struct xkv_slot *s = slot_of(e, key, klen);
	__u32 seq = slot_begin(s);

	if (!xkv_slot_put(s, xkv_hot_hash(key, (__u32)klen), key,
			  (__u32)klen, val, (__u32)vlen, flags, cas, expire_ns,
			  xflags))
		tap_diag("  (the entry of a %zu-byte key and %zu-byte value "
			 "does not fit its slot)", klen, vlen);
	slot_end(s, seq);
}

static void hot_set(struct env *e, const void *key, size_t klen,
		    const void *val, size_t vlen, __u32 flags, __u64 cas,
		    __u64 expire_ns)
{
	/* as the store installs it: it knows the item's meta state */
	hot_set_x(e, key, klen, val, vlen, flags, cas, expire_ns,
		  XKV_SLOT_F_META);
}

/* the key's entry in its slot, or NULL */
static struct xkv_hot_ent *hot_ent(struct env *e, const void *key,
				   size_t klen)
{
	struct xkv_slot *s = slot_of(e, key, klen);
	int off = xkv_slot_find(s, xkv_hot_hash(key, (__u32)klen), key,
				(__u32)klen);

	return off < 0 ? NULL : xkv_slot_ent(s, (__u32)off);
}

static void slot_clear(struct xkv_slot *s)
{
	__u32 seq = slot_begin(s);

	xkv_slot_empty(s);
	slot_end(s, seq);
}

/* the key's entry out of its slot, the others kept */
static void hot_del(struct env *e, const void *key, size_t klen)
{
	struct xkv_slot *s = slot_of(e, key, klen);
	__u32 seq = slot_begin(s);
	int off = xkv_slot_find(s, xkv_hot_hash(key, (__u32)klen), key,
				(__u32)klen);

	if (off >= 0)
		xkv_slot_remove(s, (__u32)off);
	slot_end(s, seq);
}

/* --- running a frame ---------------------------------------------------- */

struct result {
	int err;
	__u32 retval;
	__u32 len;
	__u8 out[PKT_MAX];
	__u64 delta[XKV_STAT_NR];
};

static void run(struct env *e, const struct pkt *in, struct result *r)
{
	__u64 before[XKV_STAT_NR], after[XKV_STAT_NR];
	struct xdp_md md = { .ingress_ifindex = (__u32)e->ifindex };
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = in->b,
		    .data_size_in = (__u32)in->len, .data_out = r->out,
		    .data_size_out = sizeof(r->out), .repeat = 1);
	int i;

	memset(r, 0, sizeof(*r));
	/* a live backend beats at least this often */
	if (e->dead)
		xkv_live_end(e->live);
	else
		xkv_live_renew(e->live, fixture_mono_ns());
	if (e->ifindex) {
		md.data_end = (__u32)in->len;
		opts.ctx_in = &md;
		opts.ctx_size_in = sizeof(md);
	}
	r->err = xkv_counters_read(e->stats_fd, before, XKV_STAT_NR);
	if (!r->err)
		r->err = bpf_prog_test_run_opts(e->prog_fd, &opts);
	if (!r->err)
		r->err = xkv_counters_read(e->stats_fd, after, XKV_STAT_NR);
	r->retval = opts.retval;
	r->len = opts.data_size_out;
	for (i = 0; i < XKV_STAT_NR && !r->err; i++)
		r->delta[i] = after[i] - before[i];
}

#define X(name, desc) #name,
static const char *const stat_names[XKV_STAT_NR] = { XKV_STATS(X) };
#undef X

static const char *verdict(__u32 v)
{
	switch (v) {
	case XDP_ABORTED: return "XDP_ABORTED";
	case XDP_DROP: return "XDP_DROP";
	case XDP_PASS: return "XDP_PASS";
	case XDP_TX: return "XDP_TX";
	case XDP_REDIRECT: return "XDP_REDIRECT";
	}
	return "?";
}

static void diag_counters(const struct result *r)
{
	char buf[512];
	size_t n = 0;
	int i;

	buf[0] = 0;
	for (i = 0; i < XKV_STAT_NR; i++)
		if (r->delta[i] && n < sizeof(buf))
			n += (size_t)snprintf(buf + n, sizeof(buf) - n,
					      " %s+%llu", stat_names[i],
					      (unsigned long long)r->delta[i]);
	tap_diag("  counters moved:%s", buf);
}

/* The frame must pass untouched, counted under @why. */
static bool expect_pass(struct env *e, const struct pkt *in,
			enum xkv_stat_id why, const char *name)
{
	struct result r;
	bool ok;

	run(e, in, &r);
	ok = !r.err && r.retval == XDP_PASS && r.len == in->len &&
	     !memcmp(r.out, in->b, in->len) && r.delta[XKV_STAT_packets] == 1 &&
	     r.delta[why] == 1 && !r.delta[XKV_STAT_replies];
	if (tap_ok(ok, "%s: XDP_PASS untouched, %s", name, stat_names[why]))
		return true;
	if (r.err)
		tap_diag("  BPF_PROG_TEST_RUN: %s", strerror(-r.err));
	tap_diag("  verdict %s (%u), expected XDP_PASS", verdict(r.retval),
		 r.retval);
	if (r.len != in->len || memcmp(r.out, in->b, in->len))
		fixture_diag_frames(r.out, r.len, in->b, in->len);
	diag_counters(&r);
	return false;
}

/* The frame must become exactly the reply carrying @text. */
static bool expect_reply(struct env *e, const struct pkt_opts *o,
			 const struct pkt *in, const char *text, size_t tlen,
			 unsigned int nkeys, const char *name)
{
	struct pkt *want = malloc(sizeof(*want));
	struct result r;
	const char *sums;
	bool ok;

	if (!want)
		tap_bail("out of memory");
	pkt_reply(want, o, text, tlen);
	run(e, in, &r);
	sums = r.len ? pkt_check_sums(r.out, r.len) : "empty frame";
	ok = !r.err && r.retval == XDP_TX && r.len == want->len &&
	     !memcmp(r.out, want->b, want->len) && !sums &&
	     r.delta[XKV_STAT_replies] == 1 &&
	     r.delta[XKV_STAT_hits] == nkeys &&
	     r.delta[XKV_STAT_reply_bytes] == 8 + tlen;
	if (!tap_ok(ok, "%s: XDP_TX, reply byte-exact", name)) {
		if (r.err)
			tap_diag("  BPF_PROG_TEST_RUN: %s", strerror(-r.err));
		tap_diag("  verdict %s (%u), expected XDP_TX",
			 verdict(r.retval), r.retval);
		if (sums)
			tap_diag("  checksums: %s", sums);
		if (r.len != want->len || memcmp(r.out, want->b, want->len))
			fixture_diag_frames(r.out, r.len, want->b, want->len);
		diag_counters(&r);
	}
	free(want);
	return ok;
}

/* --- expected memcached text --------------------------------------------- */

struct item {
	const char *key;
	size_t klen;
	const char *val;
	size_t vlen;
	__u32 flags;
	__u64 cas;
};

static char *text;		/* PKT_MAX bytes */
static size_t text_len;

/* VALUE <key> <flags> <bytes>[ <cas>]\r\n<data>\r\n ... END\r\n */
static void expect_text(const struct item *it, int n, bool gets)
{
	size_t k = 0;
	int i;

	for (i = 0; i < n; i++) {
		k += (size_t)snprintf(text + k, PKT_MAX - k, "VALUE ");
		memcpy(text + k, it[i].key, it[i].klen);
		k += it[i].klen;
		k += (size_t)snprintf(text + k, PKT_MAX - k, " %u %zu",
				      it[i].flags, it[i].vlen);
		if (gets)
			k += (size_t)snprintf(text + k, PKT_MAX - k, " %llu",
					      (unsigned long long)it[i].cas);
		k += (size_t)snprintf(text + k, PKT_MAX - k, "\r\n");
		memcpy(text + k, it[i].val, it[i].vlen);
		k += it[i].vlen;
		k += (size_t)snprintf(text + k, PKT_MAX - k, "\r\n");
	}
	k += (size_t)snprintf(text + k, PKT_MAX - k, "END\r\n");
	text_len = k;
}

/*
 * The reply xkvd's meta.c sends to "mg <key> <flags>" for a hit, built
 * from the item as it builds it: "VA <bytes>", then for each flag in the
 * order asked " f<flags>", " s<bytes>", " c<cas>" or " O<opaque>" (v and
 * q add nothing), "\r\n", the data and "\r\n". @flags: the request's flag
 * tokens, space-separated.
 */
static size_t b64_enc(char *dst, const char *src, size_t n)
{
	static const char al[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				 "abcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t i, k = 0;
	__u32 w;

	for (i = 0; i < n; i += 3) {
		w = (__u32)(__u8)src[i] << 16;
		if (i + 1 < n)
			w |= (__u32)(__u8)src[i + 1] << 8;
		if (i + 2 < n)
			w |= (__u8)src[i + 2];
		dst[k++] = al[w >> 18 & 63];
		dst[k++] = al[w >> 12 & 63];
		dst[k++] = i + 1 < n ? al[w >> 6 & 63] : '=';
		dst[k++] = i + 2 < n ? al[w & 63] : '=';
	}
	return k;
}

/*
 * " k<key>" at @k of text, or " k<base64 key> b" for an item stored with
 * a base64 key (@b64; meta.c's put_key()). Return: the new length.
 */
static size_t put_key(const struct item *it, bool b64, size_t k)
{
	memcpy(text + k, " k", 2);
	k += 2;
	if (!b64) {
		memcpy(text + k, it->key, it->klen);
		return k + it->klen;
	}
	k += b64_enc(text + k, it->key, it->klen);
	memcpy(text + k, " b", 2);
	return k + 2;
}

static void expect_mg_x(const struct item *it, bool b64, const char *flags)
{
	char tok[64];
	const char *p = flags;
	size_t k, n;

	k = (size_t)snprintf(text, PKT_MAX, "VA %zu", it->vlen);
	while (*p) {
		n = strcspn(p, " ");
		snprintf(tok, sizeof(tok), "%.*s", (int)n, p);
		p += n;
		p += strspn(p, " ");
		if (tok[0] == 'f')
			k += (size_t)snprintf(text + k, PKT_MAX - k, " f%u",
					      it->flags);
		else if (tok[0] == 's')
			k += (size_t)snprintf(text + k, PKT_MAX - k, " s%zu",
					      it->vlen);
		else if (tok[0] == 'c')
			k += (size_t)snprintf(text + k, PKT_MAX - k, " c%llu",
					      (unsigned long long)it->cas);
		else if (tok[0] == 'O')
			k += (size_t)snprintf(text + k, PKT_MAX - k, " %s",
					      tok);
		else if (tok[0] == 'k')
			k = put_key(it, b64, k);
	}
	k += (size_t)snprintf(text + k, PKT_MAX - k, "\r\n");
	memcpy(text + k, it->val, it->vlen);
	k += it->vlen;
	k += (size_t)snprintf(text + k, PKT_MAX - k, "\r\n");
	text_len = k;
}

static void expect_mg(const struct item *it, const char *flags)
{
	expect_mg_x(it, false, flags);
}

/* --- fixtures ------------------------------------------------------------ */

static struct pkt *in;

static void req(const struct pkt_opts *o, const char *line)
{
	pkt_request(in, o, line, strlen(line));
}

static const struct item it_foo = { "foo", 3, "bar", 3, 0, 1001 };
static const struct item it_k2 = { "k2", 2, "hello world", 11, 42, 1002 };
static const struct item it_k3 = { "key:3", 5, "", 0, 4294967295u,
				   18446744073709551615ull };

static void install(struct env *e, const struct item *it)
{
	hot_set(e, it->key, it->klen, it->val, it->vlen, it->flags, it->cas,
		0);
}

/* the keys the fixtures install must not share slots */
static void test_fixture_keys(struct env *e)
{
	static const char *const keys[] = { "foo", "k2", "key:3", "big",
					    "half", "ttl", "cl\xc3\xa9" };
	char k250[250];
	size_t i, j, n = sizeof(keys) / sizeof(keys[0]);
	bool distinct = true;

	memset(k250, 'K', sizeof(k250));
	for (i = 0; i < n; i++) {
		for (j = 0; j < i; j++)
			if (slot_of(e, keys[i], strlen(keys[i])) ==
			    slot_of(e, keys[j], strlen(keys[j])))
				distinct = false;
		if (slot_of(e, keys[i], strlen(keys[i])) ==
		    slot_of(e, k250, sizeof(k250)))
			distinct = false;
	}
	tap_ok(distinct, "fixture keys map to distinct slots");
}

static void test_basic(struct env *e)
{
	struct pkt_opts o = { .id = 0x1234 };
	const struct item multi[] = { it_foo, it_k2, it_k3 };
	const struct item dup[] = { it_foo, it_foo };

	install(e, &it_foo);
	install(e, &it_k2);
	install(e, &it_k3);

	req(&o, "get foo\r\n");
	expect_text(&it_foo, 1, false);
	expect_reply(e, &o, in, text, text_len, 1, "get hit");

	req(&o, "get nokey\r\n");
	expect_pass(e, in, XKV_STAT_misses, "get miss");

	req(&o, "get foo k2 key:3\r\n");
	expect_text(multi, 3, false);
	expect_reply(e, &o, in, text, text_len, 3, "multi-get all hit");

	req(&o, "get foo nokey k2\r\n");
	expect_pass(e, in, XKV_STAT_misses, "multi-get partial hit");

	req(&o, "gets foo k2 key:3\r\n");
	expect_text(multi, 3, true);
	expect_reply(e, &o, in, text, text_len, 3,
		     "gets with CAS (incl. max flags and CAS)");

	req(&o, "get foo foo\r\n");
	expect_text(dup, 2, false);
	expect_reply(e, &o, in, text, text_len, 2, "get the same key twice");

	req(&o, "get  foo   k2 \r\n");
	expect_text(multi, 2, false);
	expect_reply(e, &o, in, text, text_len, 2,
		     "extra spaces between and after keys");

	req(&o, "get foo\n");
	expect_text(&it_foo, 1, false);
	expect_reply(e, &o, in, text, text_len, 1, "line ending in bare \\n");

	o.seq = 7;
	o.reserved = 0x0100;
	o.id = 0xfffe;
	req(&o, "get foo\r\n");
	expect_text(&it_foo, 1, false);
	expect_reply(e, &o, in, text, text_len, 1,
		     "any sequence and reserved value (memcaslap's 01 00)");

	{
		/* any byte but control characters and space: UTF-8 too */
		const struct item utf = { "cl\xc3\xa9", 4, "\r\n\0\xff", 4, 1,
					  2 };

		install(e, &utf);
		req(&o, "get cl\xc3\xa9\r\n");
		expect_text(&utf, 1, false);
		expect_reply(e, &o, in, text, text_len, 1,
			     "UTF-8 key, binary value");
	}

	o = (struct pkt_opts){ .id = 9, .pad_to = 60 };
	req(&o, "get foo\n");
	expect_text(&it_foo, 1, false);
	expect_reply(e, &o, in, text, text_len, 1,
		     "padded minimum-size frame");
}

/* mg requests XDP passes, each counted as @why */
struct mg_pass {
	const char *line;
	enum xkv_stat_id why;
	const char *name;
};

#define NPASS(a) (sizeof(a) / sizeof((a)[0]))

static void mg_passes(struct env *e, const struct pkt_opts *o,
		      const struct mg_pass *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		req(o, p[i].line);
		expect_pass(e, in, p[i].why, p[i].name);
	}
}

/* misses, flags XDP does not answer, malformed lines */
static const struct mg_pass meta_passes[] = {
	{ "mg nokey v\r\n", XKV_STAT_misses,
	  "mg miss" },
	{ "mg nokey v q\r\n", XKV_STAT_misses,
	  "mg miss with q (the store stays quiet)" },
	{ "mg foo v t\r\n", XKV_STAT_misses,
	  "mg with t (the store's: the hot cache misses it)" },
	{ "mg foo v h\r\n", XKV_STAT_pass_not_get,
	  "mg with h" },
	{ "mg foo v T30\r\n", XKV_STAT_pass_not_get,
	  "mg with T30" },
	{ "mg foo v b\r\n", XKV_STAT_pass_not_get,
	  "mg with b, key foo not base64" },
	{ "mg foo f s\r\n", XKV_STAT_pass_not_get,
	  "mg without v (HD)" },
	{ "mg foo\r\n", XKV_STAT_pass_not_get,
	  "mg without flags" },
	{ "mg foo vf\r\n", XKV_STAT_pass_not_get,
	  "mg with a flag token vf" },
	{ "mg foo v O01234567890123456789012345678901\r\n",
	  XKV_STAT_pass_not_get,
	  "mg with a 32-byte opaque (the store: too long)" },
	{ "mg foo v f f f f f f f\r\n", XKV_STAT_pass_not_get,
	  "mg with eight flags" },
	{ "mg foo k2 v\r\n", XKV_STAT_pass_not_get,
	  "mg of two keys" },
	{ "mg foo v", XKV_STAT_pass_malformed,
	  "mg without line end" },
};

/* k and b misses; what the store reads its own way, or refuses */
static const struct mg_pass meta_key_passes[] = {
	{ "mg bm9rZXk= b v k\r\n", XKV_STAT_misses,
	  "mg b miss (nokey)" },
	{ "mg bm9rZXk= b v k q\r\n", XKV_STAT_misses,
	  "mg b miss, quiet" },
	{ "mg nokey v k O1\r\n", XKV_STAT_misses, "mg k miss" },
	{ "mg YmseCg== b v\r\n", XKV_STAT_misses,
	  "mg b of an unknown key" },
	{ "mg Zh== b v\r\n", XKV_STAT_pass_not_get,
	  "mg b: stray bits (Zh==)" },
	{ "mg Zm9= b v\r\n", XKV_STAT_pass_not_get,
	  "mg b: stray bits (Zm9=)" },
	{ "mg Zg b v\r\n", XKV_STAT_pass_not_get,
	  "mg b: not whole groups" },
	{ "mg Z=g= b v\r\n", XKV_STAT_pass_not_get,
	  "mg b: padding inside" },
	{ "mg Zg==Zg== b v\r\n", XKV_STAT_pass_not_get,
	  "mg b: padding mid-key" },
	{ "mg Zm.v b v\r\n", XKV_STAT_pass_not_get,
	  "mg b: a byte outside the alphabet" },
	{ "mg ==== b v\r\n", XKV_STAT_pass_not_get,
	  "mg b: all padding" },
	{ "mg YmI= b b v\r\n", XKV_STAT_pass_not_get,
	  "mg b twice" },
	{ "mg plain v k k\r\n", XKV_STAT_pass_not_get,
	  "mg k twice" },
	{ "mg plain v v\r\n", XKV_STAT_pass_not_get,
	  "mg v twice" },
	{ "mg plain v O1 O2\r\n", XKV_STAT_pass_not_get,
	  "mg O twice" },
	{ "mg plain v kx\r\n", XKV_STAT_pass_not_get,
	  "mg with a flag token kx" },
};

/* "mg <tok> <flags>" hits, each compared with the bytes meta.c sends */
static void mg_hit_tok(struct env *e, const struct pkt_opts *o,
		       const struct item *it, bool b64, const char *tok,
		       const char *flags, const char *eol)
{
	char line[600], name[600];

	snprintf(line, sizeof(line), "mg %s %s%s", tok, flags, eol);
	snprintf(name, sizeof(name), "mg %.40s %s", tok, flags);
	req(o, line);
	expect_mg_x(it, b64, flags);
	expect_reply(e, o, in, text, text_len, 1, name);
}

/* @b64: the item was stored with a base64 key */
static void mg_hit_x(struct env *e, const struct pkt_opts *o,
		     const struct item *it, bool b64, const char *flags,
		     const char *eol)
{
	char tok[260];

	snprintf(tok, sizeof(tok), "%.*s", (int)it->klen, it->key);
	mg_hit_tok(e, o, it, b64, tok, flags, eol);
}

static void mg_hit(struct env *e, const struct pkt_opts *o,
		   const struct item *it, const char *flags, const char *eol)
{
	mg_hit_x(e, o, it, false, flags, eol);
}

/* "mg <base64 of the item's key> <flags>" */
static void mg_hit_b64(struct env *e, const struct pkt_opts *o,
		       const struct item *it, bool b64, const char *flags)
{
	char tok[400];

	tok[b64_enc(tok, it->key, it->klen)] = 0;
	mg_hit_tok(e, o, it, b64, tok, flags, "\r\n");
}

/*
 * "k" and "b": the key echoed as the store echoes it (as stored: plain,
 * or base64 and " b"), a base64 key decoded for the lookup; anything the
 * store reads its own way passed.
 */
static void test_meta_key(struct env *e)
{
	struct pkt_opts o = { .id = 0x4b42 };
	static char k250[251], v[40];
	/* raw bytes no text request can carry: space, NUL, CR LF, 0xff */
	struct item bin = { "a b\0c\r\n\xff", 8, "binary key", 10, 5, 501 };
	struct item bk = { "bk", 2, "stored with b", 13, 6, 502 };
	struct item one = { "f", 1, "1", 1, 0, 503 };
	struct item two = { "fo", 2, "2", 1, 0, 504 };
	struct item pl = { "plain", 5, "text set", 8, 9, 505 };
	struct item big = { k250, 186, v, sizeof(v), 1, 506 };
	char tok[400], line[420];
	size_t i;

	for (i = 0; i < 187; i++)
		k250[i] = (char)(0x30 + i % 70);
	memset(v, 'v', sizeof(v));
	hot_set_x(e, bin.key, bin.klen, bin.val, bin.vlen, bin.flags, bin.cas,
		  0, XKV_SLOT_F_META | XKV_SLOT_F_KEY_B64);
	hot_set_x(e, bk.key, bk.klen, bk.val, bk.vlen, bk.flags, bk.cas, 0,
		  XKV_SLOT_F_META | XKV_SLOT_F_KEY_B64);
	hot_set_x(e, one.key, one.klen, one.val, one.vlen, one.flags, one.cas,
		  0, XKV_SLOT_F_META | XKV_SLOT_F_KEY_B64);
	hot_set_x(e, two.key, two.klen, two.val, two.vlen, two.flags, two.cas,
		  0, XKV_SLOT_F_META | XKV_SLOT_F_KEY_B64);
	hot_set_x(e, big.key, big.klen, big.val, big.vlen, big.flags, big.cas,
		  0, XKV_SLOT_F_META | XKV_SLOT_F_KEY_B64);
	install(e, &pl);

	/* k of a plain key: the key as it is */
	mg_hit(e, &o, &pl, "v k", "\r\n");
	mg_hit(e, &o, &pl, "k f v O77 s", "\r\n");
	mg_hit(e, &o, &pl, "q v k", "\r\n");
	mg_hit(e, &o, &it_foo, "k v c", "\n");
	/* a base64 request for a key stored plain: k echoes it plain */
	mg_hit_b64(e, &o, &pl, false, "b v k");
	mg_hit_b64(e, &o, &pl, false, "v b");
	/* stored with b: k echoes base64 and " b", asked with b or not */
	mg_hit_b64(e, &o, &bin, true, "b v k");
	mg_hit_b64(e, &o, &bin, true, "v k f s c b Oxy");
	mg_hit_b64(e, &o, &bin, true, "b v q");
	mg_hit_x(e, &o, &bk, true, "v k", "\r\n");
	mg_hit_b64(e, &o, &bk, true, "k b v");
	mg_hit_b64(e, &o, &one, true, "b v k");
	mg_hit_b64(e, &o, &two, true, "b k v");
	mg_hit_x(e, &o, &one, true, "v k", "\r\n");
	mg_hit_x(e, &o, &two, true, "k v", "\r\n");
	mg_hit_b64(e, &o, &big, true, "b v k s");
	o.ipv6 = true;
	mg_hit_b64(e, &o, &bin, true, "k v b O1");
	o.ipv6 = false;

	/* misses, with b and k, quiet or not: the store answers EN */
	tok[b64_enc(tok, bin.key, bin.klen - 1)] = 0;
	strcat(tok, " b v k\r\n");
	snprintf(line, sizeof(line), "mg %s", tok);
	req(&o, line);
	expect_pass(e, in, XKV_STAT_misses, "mg b miss (a key's prefix)");
	/* more misses; what the store reads its own way, or refuses */
	mg_passes(e, &o, meta_key_passes, NPASS(meta_key_passes));
	/* an entry the store did not vouch for (learning mode): passed */
	hot_set_x(e, pl.key, pl.klen, pl.val, pl.vlen, pl.flags, pl.cas, 0,
		  0);
	req(&o, "mg plain v\r\n");
	expect_pass(e, in, XKV_STAT_misses, "mg of an entry without META");
	req(&o, "get plain\r\n");
	expect_text(&pl, 1, false);
	expect_reply(e, &o, in, text, text_len, 1,
		     "... which get still serves");

	hot_del(e, bin.key, bin.klen);
	hot_del(e, bk.key, bk.klen);
	hot_del(e, one.key, one.klen);
	hot_del(e, two.key, two.klen);
	hot_del(e, big.key, big.klen);
	hot_del(e, pl.key, pl.klen);
}

static void test_meta(struct env *e)
{
	static const uint8_t other4[4] = { 192, 0, 2, 1 };
	struct pkt_opts o = { .id = 0x4d47 };
	struct item ttl = { "ttl", 3, "soon", 4, 7, 77 };
	char line[160];

	install(e, &it_foo);
	install(e, &it_k2);
	install(e, &it_k3);

	mg_hit(e, &o, &it_foo, "v", "\r\n");
	mg_hit(e, &o, &it_foo, "v", "\n");
	mg_hit(e, &o, &it_k2, "v f", "\r\n");
	mg_hit(e, &o, &it_k2, "s v f", "\r\n");
	mg_hit(e, &o, &it_k2, "f s c v", "\r\n");
	mg_hit(e, &o, &it_k3, "v c f s", "\r\n");
	mg_hit(e, &o, &it_k3, "v q", "\r\n");
	mg_hit(e, &o, &it_k2, "v Oabc", "\r\n");
	mg_hit(e, &o, &it_k2, "O v f q s c", "\r\n");
	mg_hit(e, &o, &it_k2,
	       "v O0123456789012345678901234567890 f", "\r\n");
	o.ipv6 = true;
	mg_hit(e, &o, &it_k3, "c s f v", "\r\n");
	o.ipv6 = false;

	mg_passes(e, &o, meta_passes, NPASS(meta_passes));

	hot_set(e, ttl.key, ttl.klen, ttl.val, ttl.vlen, ttl.flags, ttl.cas,
		fixture_mono_ns() + 3600ull * 1000000000ull);
	mg_hit(e, &o, &ttl, "v f c", "\r\n");
	hot_set(e, ttl.key, ttl.klen, ttl.val, ttl.vlen, ttl.flags, ttl.cas,
		fixture_mono_ns() - 1);
	req(&o, "mg ttl v\r\n");
	expect_pass(e, in, XKV_STAT_pass_expired, "mg of an expired entry");
	hot_del(e, ttl.key, ttl.klen);

	/* learning mode (no META): the store decides; c of a NO_CAS one */
	hot_set_x(e, ttl.key, ttl.klen, ttl.val, ttl.vlen, ttl.flags, 0, 0,
		  XKV_SLOT_F_NO_CAS);
	req(&o, "mg ttl v f s\r\n");
	expect_pass(e, in, XKV_STAT_misses, "mg of a learned entry");
	hot_set_x(e, ttl.key, ttl.klen, ttl.val, ttl.vlen, ttl.flags, 0, 0,
		  XKV_SLOT_F_NO_CAS | XKV_SLOT_F_META);
	ttl.cas = 0;
	mg_hit(e, &o, &ttl, "v f s", "\r\n");
	req(&o, "mg ttl v c\r\n");
	expect_pass(e, in, XKV_STAT_misses, "mg c of a NO_CAS entry");
	hot_del(e, ttl.key, ttl.klen);

	o.src = other4;
	snprintf(line, sizeof(line), "mg foo v\r\n");
	req(&o, line);
	expect_pass(e, in, XKV_STAT_pass_not_allowed,
		    "mg from a source not allowed");
}

/* --- binary GET, GETQ, GETK, GETKQ ---------------------------------------- */

static __u8 *bin;		/* PKT_MAX bytes: a binary request */
static size_t bin_len;

static void be_put(__u8 *p, __u64 v, int n)
{
	int j;

	for (j = 0; j < n; j++)
		p[j] = (__u8)(v >> ((n - 1 - j) * 8));
}

/*
 * A binary request at bin: @op for @key, with @extlen bytes of extras
 * (zeros), a body length of @body (the extras and the key: pass
 * (size_t)-1), and the opaque @opaque as it goes on the wire.
 */
static void bin_req(__u8 op, const char *key, size_t klen, __u8 extlen,
		    size_t body, const __u8 opaque[4])
{
	memset(bin, 0, XKV_BIN_HDR_LEN + extlen);
	bin[0] = XKV_BIN_REQ;
	bin[1] = op;
	be_put(bin + 2, klen, 2);
	bin[4] = extlen;
	be_put(bin + 8, body == (size_t)-1 ? klen + extlen : body, 4);
	memcpy(bin + 12, opaque, 4);
	/* a request's CAS: the store ignores it on a get */
	be_put(bin + 16, 0x0102030405060708ull, 8);
	memcpy(bin + XKV_BIN_HDR_LEN + extlen, key, klen);
	bin_len = XKV_BIN_HDR_LEN + extlen + klen;
}

/*
 * The reply kmod/core/bin.c sends for a hit, built as it builds it: magic
 * 0x81, the opcode, the key length for GETK(Q) else 0, 4 bytes of extras,
 * status 0, the body length, the opaque as it came, the item's CAS, the
 * client flags, the key for GETK(Q), the data.
 */
static void expect_bin(const struct item *it, __u8 op, const __u8 opaque[4])
{
	size_t kout = op == XKV_BIN_GETK || op == XKV_BIN_GETKQ ? it->klen : 0;

	memset(text, 0, XKV_BIN_HDR_LEN + 4);
	text[0] = (char)XKV_BIN_RES;
	text[1] = (char)op;
	be_put((__u8 *)text + 2, kout, 2);
	text[4] = 4;
	be_put((__u8 *)text + 8, 4 + kout + it->vlen, 4);
	memcpy(text + 12, opaque, 4);
	be_put((__u8 *)text + 16, it->cas, 8);
	be_put((__u8 *)text + 24, it->flags, 4);
	memcpy(text + 28, it->key, kout);
	memcpy(text + 28 + kout, it->val, it->vlen);
	text_len = 28 + kout + it->vlen;
}

static const char *bin_op_name(__u8 op)
{
	switch (op) {
	case XKV_BIN_GET:
		return "GET";
	case XKV_BIN_GETQ:
		return "GETQ";
	case XKV_BIN_GETK:
		return "GETK";
	case XKV_BIN_GETKQ:
		return "GETKQ";
	default:
		return "op";
	}
}

static void bin_hit(struct env *e, const struct pkt_opts *o, __u8 op,
		    const struct item *it, const __u8 opaque[4])
{
	char name[160];

	bin_req(op, it->key, it->klen, 0, (size_t)-1, opaque);
	pkt_request(in, o, bin, bin_len);
	expect_bin(it, op, opaque);
	snprintf(name, sizeof(name), "binary %s %.*s hit%s",
		 bin_op_name(op), (int)(it->klen > 20 ? 20 : it->klen),
		 it->key, o->ipv6 ? " (IPv6)" : "");
	expect_reply(e, o, in, text, text_len, 1, name);
}

static void bin_pass(struct env *e, const struct pkt_opts *o,
		     enum xkv_stat_id why, const char *name)
{
	pkt_request(in, o, bin, bin_len);
	expect_pass(e, in, why, name);
}

/* append packet @op for @key (NULL: none) with opaque @opq to bin */
static void bin_add(__u8 op, const char *key, const __u8 opq[4])
{
	size_t klen = key ? strlen(key) : 0;

	memset(bin + bin_len, 0, XKV_BIN_HDR_LEN);
	bin[bin_len] = XKV_BIN_REQ;
	bin[bin_len + 1] = op;
	be_put(bin + bin_len + 2, klen, 2);
	be_put(bin + bin_len + 8, klen, 4);
	memcpy(bin + bin_len + 12, opq, 4);
	memcpy(bin + bin_len + XKV_BIN_HDR_LEN, key, klen);
	bin_len += XKV_BIN_HDR_LEN + klen;
}

/* append the store's reply to packet @op of @it (NULL: a NOOP) to text */
static void bin_want(__u8 op, const struct item *it, const __u8 opq[4])
{
	char *save = text;
	size_t k = text_len;

	text += k;
	if (it) {
		expect_bin(it, op, opq);
	} else {
		memset(text, 0, XKV_BIN_HDR_LEN);
		text[0] = (char)XKV_BIN_RES;
		text[1] = XKV_BIN_NOOP;
		memcpy(text + 12, opq, 4);
		text_len = XKV_BIN_HDR_LEN;
	}
	text = save;
	text_len += k;
}

/* a client's batch: getkq ... noop, and gets one after another */
static void test_bin_batch(struct env *e, const struct pkt_opts *o)
{
	static const __u8 q1[4] = { 1, 1, 1, 1 }, q2[4] = { 2, 2, 2, 2 },
			  q3[4] = { 3, 3, 3, 3 }, q4[4] = { 4, 4, 4, 4 };
	size_t i;

	bin_len = 0;
	text_len = 0;
	bin_add(XKV_BIN_GETKQ, "foo", q1);
	bin_add(XKV_BIN_GETKQ, "k2", q2);
	bin_add(XKV_BIN_GETKQ, "key:3", q3);
	bin_add(XKV_BIN_NOOP, NULL, q4);
	bin_want(XKV_BIN_GETKQ, &it_foo, q1);
	bin_want(XKV_BIN_GETKQ, &it_k2, q2);
	bin_want(XKV_BIN_GETKQ, &it_k3, q3);
	bin_want(XKV_BIN_NOOP, NULL, q4);
	pkt_request(in, o, bin, bin_len);
	expect_reply(e, o, in, text, text_len, 3,
		     "binary GETKQ x3 + NOOP: every reply, then the NOOP's");

	bin_len = 0;
	text_len = 0;
	bin_add(XKV_BIN_GET, "k2", q1);
	bin_add(XKV_BIN_GETK, "foo", q2);
	bin_add(XKV_BIN_GETQ, "k2", q3);
	bin_want(XKV_BIN_GET, &it_k2, q1);
	bin_want(XKV_BIN_GETK, &it_foo, q2);
	bin_want(XKV_BIN_GETQ, &it_k2, q3);
	pkt_request(in, o, bin, bin_len);
	expect_reply(e, o, in, text, text_len, 3,
		     "binary GET, GETK, GETQ in one datagram, no NOOP");

	bin_len = 0;
	bin_add(XKV_BIN_GETKQ, "foo", q1);
	bin_add(XKV_BIN_GETKQ, "nokey", q2);
	bin_add(XKV_BIN_NOOP, NULL, q4);
	bin_pass(e, o, XKV_STAT_misses,
		 "binary batch with a miss (the store stays quiet for it)");

	bin_len = 0;
	bin_add(XKV_BIN_NOOP, NULL, q4);
	bin_pass(e, o, XKV_STAT_pass_not_get, "binary NOOP alone");

	bin_len = 0;
	bin_add(XKV_BIN_GETKQ, "foo", q1);
	bin_add(XKV_BIN_NOOP, NULL, q4);
	bin_add(XKV_BIN_GETKQ, "k2", q2);
	bin_pass(e, o, XKV_STAT_pass_not_get, "binary NOOP before a get");

	bin_len = 0;
	bin_add(XKV_BIN_GETKQ, "foo", q1);
	bin_add(XKV_BIN_SET, "k2", q2);
	bin_pass(e, o, XKV_STAT_pass_not_get, "binary get then SET");

	bin_len = 0;
	bin_add(XKV_BIN_GETKQ, "foo", q1);
	bin_add(XKV_BIN_GETKQ, "k2", q2);
	bin_len -= 1;
	bin_pass(e, o, XKV_STAT_pass_malformed, "binary batch cut short");

	bin_len = 0;
	for (i = 0; i < 33; i++)
		bin_add(XKV_BIN_GETKQ, "foo", q1);
	bin_pass(e, o, XKV_STAT_pass_too_big, "binary batch of 33 gets");
}

static void test_binary(struct env *e)
{
	static const __u8 op0[4] = { 0, 0, 0, 0 };
	static const __u8 opx[4] = { 0xde, 0xad, 0xbe, 0xef };
	static const __u8 opy[4] = { 0x01, 0x02, 0x03, 0x04 };
	static const uint8_t other4[4] = { 192, 0, 2, 1 };
	static const __u8 ops[] = { XKV_BIN_GET, XKV_BIN_GETQ, XKV_BIN_GETK,
				    XKV_BIN_GETKQ };
	struct pkt_opts o = { .id = 0x6269 };
	struct item ttl = { "ttl", 3, "soon", 4, 7, 77 };
	struct item big = { "big", 3, NULL, 600, 0x01020304, 5 };
	char k250[250], *v600;
	struct item long_key = { k250, 250, "v", 1, 1, 2 };
	const struct item *hits[] = { &it_foo, &it_k2, &it_k3 };
	size_t i, j;

	install(e, &it_foo);
	install(e, &it_k2);
	install(e, &it_k3);

	for (i = 0; i < sizeof(ops); i++)
		for (j = 0; j < 3; j++)
			bin_hit(e, &o, ops[i], hits[j], j == 1 ? opx : opy);
	bin_hit(e, &o, XKV_BIN_GET, &it_foo, op0);
	o.ipv6 = true;
	bin_hit(e, &o, XKV_BIN_GETK, &it_k2, opx);
	o.ipv6 = false;

	memset(k250, 'K', sizeof(k250));
	install(e, &long_key);
	bin_hit(e, &o, XKV_BIN_GETK, &long_key, opx);
	bin_hit(e, &o, XKV_BIN_GET, &long_key, opy);
	hot_del(e, k250, sizeof(k250));

	v600 = malloc(600);
	if (!v600)
		tap_bail("out of memory");
	for (i = 0; i < 600; i++)
		v600[i] = (char)(i * 7);
	big.val = v600;
	install(e, &big);
	bin_hit(e, &o, XKV_BIN_GETKQ, &big, opx);
	bin_hit(e, &o, XKV_BIN_GET, &big, opy);
	hot_del(e, big.key, big.klen);
	free(v600);

	/* misses: the store answers (a quiet one with nothing) */
	for (i = 0; i < sizeof(ops); i++) {
		char name[80];

		bin_req(ops[i], "nokey", 5, 0, (size_t)-1, opx);
		snprintf(name, sizeof(name), "binary %s miss",
			 bin_op_name(ops[i]));
		bin_pass(e, &o, XKV_STAT_misses, name);
	}

	/* expiry, and an entry without its CAS: passed */
	hot_set(e, ttl.key, ttl.klen, ttl.val, ttl.vlen, ttl.flags, ttl.cas,
		fixture_mono_ns() + 3600ull * 1000000000ull);
	bin_hit(e, &o, XKV_BIN_GETK, &ttl, opx);
	hot_set(e, ttl.key, ttl.klen, ttl.val, ttl.vlen, ttl.flags, ttl.cas,
		fixture_mono_ns() - 1);
	bin_req(XKV_BIN_GET, "ttl", 3, 0, (size_t)-1, opx);
	bin_pass(e, &o, XKV_STAT_pass_expired,
		 "binary GET of an expired entry");
	hot_set_x(e, ttl.key, ttl.klen, ttl.val, ttl.vlen, ttl.flags, 0, 0,
		  XKV_SLOT_F_NO_CAS);
	bin_pass(e, &o, XKV_STAT_misses,
		 "binary GET of a NO_CAS entry (learning mode)");
	hot_del(e, ttl.key, ttl.klen);

	/* headers the store refuses or answers otherwise */
	bin_req(XKV_BIN_GET, "foo", 3, 4, (size_t)-1, opx);
	bin_pass(e, &o, XKV_STAT_pass_malformed, "binary GET with extras");
	bin_req(XKV_BIN_GET, "foo", 3, 0, 4, opx);
	bin_len++;
	bin_pass(e, &o, XKV_STAT_pass_malformed,
		 "binary GET with a value after the key");
	bin_req(XKV_BIN_GET, "foo", 3, 0, 2, opx);
	bin_pass(e, &o, XKV_STAT_pass_malformed,
		 "binary GET, body shorter than the key");
	bin_req(XKV_BIN_GET, "", 0, 0, (size_t)-1, opx);
	bin_pass(e, &o, XKV_STAT_pass_malformed, "binary GET without a key");
	bin_req(XKV_BIN_GET, k250, 250, 0, (size_t)-1, opx);
	be_put(bin + 2, 251, 2);
	be_put(bin + 8, 251, 4);
	bin[bin_len++] = 'K';
	bin_pass(e, &o, XKV_STAT_pass_malformed,
		 "binary GET of a 251-byte key");
	bin_req(XKV_BIN_GET, "foo", 3, 0, (size_t)-1, opx);
	bin_len--;
	bin_pass(e, &o, XKV_STAT_pass_malformed, "binary GET cut short");
	test_bin_batch(e, &o);
	bin_req(XKV_BIN_SET, "foo", 3, 8, (size_t)-1, opx);
	bin_pass(e, &o, XKV_STAT_pass_not_get, "binary SET");
	bin_req(XKV_BIN_GAT, "foo", 3, 4, (size_t)-1, opx);
	bin_pass(e, &o, XKV_STAT_pass_not_get, "binary GAT (touches the item)");
	bin_req(XKV_BIN_NOOP, "", 0, 0, (size_t)-1, opx);
	bin_pass(e, &o, XKV_STAT_pass_not_get, "binary NOOP");
	bin_req(XKV_BIN_GET, "foo", 3, 0, (size_t)-1, opx);
	bin[0] = XKV_BIN_RES;
	bin_pass(e, &o, XKV_STAT_pass_not_get,
		 "binary response magic (0x81) as a request");

	/* the datagram rules and the allowlist are the get path's */
	o.count = 2;
	bin_req(XKV_BIN_GET, "foo", 3, 0, (size_t)-1, opx);
	bin_pass(e, &o, XKV_STAT_pass_malformed,
		 "binary GET in a datagram of two");
	o.count = 0;
	o.src = other4;
	bin_pass(e, &o, XKV_STAT_pass_not_allowed,
		 "binary GET from a source not allowed");
}

static void test_layers(struct env *e)
{
	struct pkt_opts o = { .id = 77 };

	o.ipv6 = true;
	req(&o, "get foo k2\r\n");
	{
		const struct item two[] = { it_foo, it_k2 };

		expect_text(two, 2, false);
	}
	expect_reply(e, &o, in, text, text_len, 2, "IPv6 hit");

	o = (struct pkt_opts){ .id = 78, .nvlans = 1 };
	req(&o, "get foo\r\n");
	expect_text(&it_foo, 1, false);
	expect_reply(e, &o, in, text, text_len, 1, "one VLAN tag");

	o = (struct pkt_opts){ .id = 79, .nvlans = 2 };
	req(&o, "gets foo\r\n");
	expect_text(&it_foo, 1, true);
	expect_reply(e, &o, in, text, text_len, 1, "two VLAN tags (QinQ)");

	o = (struct pkt_opts){ .id = 80, .nvlans = 2, .ipv6 = true };
	req(&o, "get k2\r\n");
	expect_text(&it_k2, 1, false);
	expect_reply(e, &o, in, text, text_len, 1, "two VLAN tags, IPv6");

	o = (struct pkt_opts){ .id = 81, .nvlans = 3 };
	req(&o, "get foo\r\n");
	expect_pass(e, in, XKV_STAT_pass_not_udp, "three VLAN tags");

	o = (struct pkt_opts){ .id = 82, .ihl = 15 };
	req(&o, "get foo\r\n");
	expect_text(&it_foo, 1, false);
	expect_reply(e, &o, in, text, text_len, 1,
		     "IPv4 with 40 bytes of options (IHL 15)");

	o = (struct pkt_opts){ .dport = 11212 };
	req(&o, "get foo\r\n");
	expect_pass(e, in, XKV_STAT_pass_other_port, "other UDP port");

	o = (struct pkt_opts){ .proto = 6 };
	req(&o, "get foo\r\n");
	expect_pass(e, in, XKV_STAT_pass_not_udp, "TCP");

	o = (struct pkt_opts){ .frag = 0x2000 };
	req(&o, "get foo\r\n");
	expect_pass(e, in, XKV_STAT_pass_fragment,
		    "IPv4 first fragment (MF)");

	o = (struct pkt_opts){ .frag = 0x0010 };
	req(&o, "get foo\r\n");
	expect_pass(e, in, XKV_STAT_pass_fragment,
		    "IPv4 later fragment (offset)");

	o = (struct pkt_opts){ .ipv6 = true, .v6frag = true };
	req(&o, "get foo\r\n");
	expect_pass(e, in, XKV_STAT_pass_fragment,
		    "IPv6 fragment header");

	o = (struct pkt_opts){ 0 };
	req(&o, "get foo\r\n");
	in->b[12] = 0x08;
	in->b[13] = 0x06;		/* ARP */
	expect_pass(e, in, XKV_STAT_pass_not_udp, "ARP frame");

	/* never answer from a group address */
	req(&o, "get foo\r\n");
	memset(in->b, 0xff, 6);
	expect_pass(e, in, XKV_STAT_pass_group,
		    "to the broadcast MAC");
	req(&o, "get foo\r\n");
	in->b[0] = 0x01;		/* 01:00:5e:..: IPv4 multicast MAC */
	in->b[1] = 0x00;
	in->b[2] = 0x5e;
	expect_pass(e, in, XKV_STAT_pass_group,
		    "to a multicast MAC");
	{
		/* 224.0.0.251 with a unicast MAC; fix the IP checksum */
		static const uint8_t mc[4] = { 224, 0, 0, 251 };
		uint16_t c;

		req(&o, "get foo\r\n");
		memcpy(in->b + 30, mc, 4);
		in->b[24] = 0;
		in->b[25] = 0;
		c = (uint16_t)~pkt_csum_add(0, in->b + 14, 20);
		in->b[24] = (uint8_t)(c >> 8);
		in->b[25] = (uint8_t)c;
		expect_pass(e, in, XKV_STAT_pass_group,
			    "to an IPv4 multicast address");
	}
	o.ipv6 = true;
	req(&o, "get foo\r\n");
	in->b[14 + 24] = 0xff;		/* ff02::... */
	in->b[14 + 25] = 0x02;
	expect_pass(e, in, XKV_STAT_pass_group,
		    "to an IPv6 multicast address");
}

static void test_malformed(struct env *e)
{
	struct pkt_opts o = { 0 }, o6 = { .ipv6 = true };
	struct pkt good;
	size_t l3 = 14, l4 = 34;

	req(&o, "get foo\r\n");
	good = *in;

	/*
	 * Truncated at each layer: the frame simply ends early.
	 * BPF_PROG_TEST_RUN refuses frames shorter than an Ethernet header,
	 * so the shortest case is the header alone.
	 */
	in->len = 14;
	expect_pass(e, in, XKV_STAT_pass_malformed,
		    "Ethernet header alone (IPv4 type)");
	o.nvlans = 1;
	req(&o, "get foo\r\n");
	in->len = 16;
	expect_pass(e, in, XKV_STAT_pass_malformed, "truncated VLAN tag");
	o.nvlans = 0;
	*in = good;
	in->len = l3 + 12;
	expect_pass(e, in, XKV_STAT_pass_malformed, "truncated IPv4 header");
	o.ihl = 8;
	req(&o, "get foo\r\n");
	in->len = l3 + 24;
	expect_pass(e, in, XKV_STAT_pass_malformed,
		    "truncated IPv4 options");
	o.ihl = 0;
	*in = good;
	in->len = l4 + 4;
	expect_pass(e, in, XKV_STAT_pass_malformed, "truncated UDP header");
	req(&o6, "get foo\r\n");
	in->len = l3 + 30;
	expect_pass(e, in, XKV_STAT_pass_malformed, "truncated IPv6 header");
	*in = good;
	in->len -= 3;			/* IP and UDP lengths now lie */
	expect_pass(e, in, XKV_STAT_pass_malformed,
		    "IPv4 total length beyond the frame");

	*in = good;
	in->b[l3] = 0x44;		/* IHL 4 */
	expect_pass(e, in, XKV_STAT_pass_malformed, "IPv4 IHL below 5");
	*in = good;
	in->b[l3] = 0x65;		/* version 6 in an IPv4 frame */
	expect_pass(e, in, XKV_STAT_pass_malformed, "IPv4 bad version");
	*in = good;
	in->b[l3 + 10] ^= 0x01;
	expect_pass(e, in, XKV_STAT_pass_malformed,
		    "IPv4 bad header checksum");
	*in = good;
	in->b[l4 + 4] = 0x10;		/* UDP length 4096 > IP payload */
	expect_pass(e, in, XKV_STAT_pass_malformed,
		    "UDP length beyond IP payload");
	*in = good;
	in->b[l4 + 4] = 0;
	in->b[l4 + 5] = 7;		/* UDP length below its header */
	expect_pass(e, in, XKV_STAT_pass_malformed, "UDP length below 8");

	o.no_frame = true;
	req(&o, "get foo\r\n");
	expect_pass(e, in, XKV_STAT_pass_malformed,
		    "no memcached frame header");
	o.no_frame = false;
	req(&o, "");
	expect_pass(e, in, XKV_STAT_pass_malformed,
		    "frame header and nothing else");
	req(&o, "get foo");
	expect_pass(e, in, XKV_STAT_pass_malformed,
		    "request line without newline (truncated)");
	req(&o, "get foo\r");
	expect_pass(e, in, XKV_STAT_pass_malformed,
		    "request line cut after \\r");
	req(&o, "get foo\r\nget k2\r\n");
	expect_pass(e, in, XKV_STAT_pass_malformed,
		    "two commands in one datagram");
	pkt_request(in, &o, "get fo\0o\r\n", 11);
	expect_pass(e, in, XKV_STAT_pass_malformed,
		    "NUL in a key (the store ends the line there)");
	pkt_request(in, &o, "get foo\r\n\0", 12);
	expect_pass(e, in, XKV_STAT_pass_malformed, "NUL after the line");
	req(&o, "get \r\n");
	expect_pass(e, in, XKV_STAT_pass_malformed, "get without keys");
	req(&o, "get\r\n");
	expect_pass(e, in, XKV_STAT_pass_malformed, "bare get");

	o.count = 2;
	req(&o, "get foo\r\n");
	expect_pass(e, in, XKV_STAT_pass_malformed,
		    "bad frame header: count 2");
	o.count = 0;
	o.count_zero = true;
	req(&o, "get foo\r\n");
	expect_pass(e, in, XKV_STAT_pass_malformed,
		    "bad frame header: count 0");
	o.count_zero = false;

	req(&o, "set foo 0 0 3\r\nbaz\r\n");
	expect_pass(e, in, XKV_STAT_pass_not_get, "set");
	req(&o, "gat 0 foo\r\n");
	expect_pass(e, in, XKV_STAT_pass_not_get, "gat");
	req(&o, "GET foo\r\n");
	expect_pass(e, in, XKV_STAT_pass_not_get, "upper-case GET");
	req(&o, "getsfoo\r\n");
	expect_pass(e, in, XKV_STAT_pass_not_get, "getsfoo");
}

/*
 * Keys as the store splits them: any byte but space, "\n" and NUL, "\r"
 * included unless it ends the line. Two 250-byte keys hold every such
 * byte value (1..255 without 0x0a and 0x20, "\r" in the middle).
 */
static void test_keys(struct env *e)
{
	struct pkt_opts o = { .id = 21 };
	char k[2][250], line[600], name[64];
	struct item it[2];
	size_t n = 0, i, len;
	int b;

	memset(k, 'x', sizeof(k));
	for (b = 1; b < 256; b++)
		if (b != '\n' && b != ' ')
			k[n / 250][n % 250] = (char)b, n++;
	tap_ok(n == 253, "253 byte values may be key bytes");
	for (i = 0; i < 2; i++) {
		it[i] = (struct item){ k[i], 250, "v", 1, (__u32)i, 30 + i };
		install(e, &it[i]);
	}
	len = (size_t)snprintf(line, sizeof(line), "get ");
	for (i = 0; i < 2; i++) {
		memcpy(line + len, k[i], 250);
		len += 250;
		line[len++] = i ? '\r' : ' ';
	}
	line[len++] = '\n';
	pkt_request(in, &o, line, len);
	expect_text(it, 2, false);
	expect_reply(e, &o, in, text, text_len, 2,
		     "keys holding every byte value the store accepts");

	/* one byte value per key, at either end and alone */
	for (b = 1; b < 256; b++) {
		static const char *const form[] = { "%c", "a%c", "%cz" };
		char key[4];
		bool ok = true;

		if (b == '\n' || b == ' ')
			continue;
		for (i = 0; i < 3 && ok; i++) {
			struct result r;
			struct pkt *want = malloc(sizeof(*want));
			struct item one;
			int kl = snprintf(key, sizeof(key), form[i], b);

			if (!want)
				tap_bail("out of memory");
			one = (struct item){ key, (size_t)kl, "V", 1, 0, 1 };
			install(e, &one);
			len = (size_t)snprintf(line, sizeof(line), "get %s\r\n",
					       key);
			pkt_request(in, &o, line, len);
			expect_text(&one, 1, false);
			pkt_reply(want, &o, text, text_len);
			run(e, in, &r);
			ok = !r.err && r.retval == XDP_TX &&
			     r.len == want->len &&
			     !memcmp(r.out, want->b, want->len);
			hot_del(e, key, (size_t)kl);
			free(want);
		}
		if (!ok) {
			snprintf(name, sizeof(name),
				 "key byte 0x%02x (form %zu): XDP_TX exact",
				 b, i - 1);
			tap_ok(false, "%s", name);
			return;
		}
	}
	tap_ok(true, "every key byte alone, first and last: served exactly");

	/* a key that ends in "\r": "get a\r\r\n" names "a\r" */
	it[0] = (struct item){ "a\r", 2, "cr", 2, 0, 1 };
	install(e, &it[0]);
	req(&o, "get a\r\r\n");
	expect_text(&it[0], 1, false);
	expect_reply(e, &o, in, text, text_len, 1, "key ending in \\r");
	req(&o, "get a\r\n");
	expect_pass(e, in, XKV_STAT_misses,
		    "\\r\\n ends the line: key \"a\", not \"a\\r\"");
	hot_del(e, "a\r", 2);
	/* these keys took whatever slots they hash to: restore the usual */
	install(e, &it_foo);
	install(e, &it_k2);
	install(e, &it_k3);
}

/* did the request at in get, as XDP_TX, exactly the reply in text? */
static bool served(struct env *e, const struct pkt_opts *o)
{
	struct pkt *want = malloc(sizeof(*want));
	struct result r;
	bool ok;

	if (!want)
		tap_bail("out of memory");
	pkt_reply(want, o, text, text_len);
	run(e, in, &r);
	ok = !r.err && r.retval == XDP_TX && r.len == want->len &&
	     !memcmp(r.out, want->b, want->len);
	free(want);
	return ok;
}

/*
 * The slot hash is taken a word at a time (the one-key path, binary),
 * a word at any phase or a byte at a time (the key list parser), and a
 * decoded byte at a time (mg's base64 key); the store's xkv_hot_hash()
 * placed the key. Every length, at several phases: each must find it.
 */
static void test_hash_lengths(struct env *e)
{
	static const char *const form[] = {
		"get %.*s\r\n",		/* one-key path */
		"gets %.*s\r\n",	/* one-key path, another phase */
		"get  %.*s\n",		/* key list parser, phase 1 */
		"get %.*s %.*s\r\n",	/* the second at phase L + 1 */
	};
	static const __u8 opq[4] = { 1, 2, 3, 4 };
	struct pkt_opts o = { .id = 23 };
	char key[XKV_HOT_KEY_MAX], line[600], tok[400];
	struct item it = { 0 }, two[2];
	size_t len, l, f = 0, j;
	bool ok = true;

	for (l = 1; l <= XKV_HOT_KEY_MAX && ok; l++) {
		for (j = 0; j < l; j++)
			key[j] = (char)('!' + (j * 7 + l) % 90);
		it = (struct item){ key, l, "v", 1, (__u32)l, 100 + l };
		install(e, &it);
		for (f = 0; f < 4 && ok; f++) {
			len = (size_t)snprintf(line, sizeof(line), form[f],
					       (int)l, key, (int)l, key);
			pkt_request(in, &o, line, len);
			two[0] = it;
			two[1] = it;
			expect_text(two, f == 3 ? 2 : 1, f == 1);
			ok = served(e, &o);
		}
		if (ok) {
			bin_req(XKV_BIN_GETK, key, l, 0, (size_t)-1, opq);
			pkt_request(in, &o, bin, bin_len);
			expect_bin(&it, XKV_BIN_GETK, opq);
			ok = served(e, &o);
			f++;
		}
		if (ok && (l + 2) / 3 * 4 <= XKV_HOT_KEY_MAX) {
			tok[b64_enc(tok, key, l)] = 0;
			len = (size_t)snprintf(line, sizeof(line),
					       "mg %s b v\r\n", tok);
			pkt_request(in, &o, line, len);
			expect_mg_x(&it, false, "v");
			ok = served(e, &o);
			f++;
		}
		hot_del(e, key, l);
	}
	if (!ok)
		tap_diag("  first miss: a %zu-byte key, request form %zu",
			 l - 1, f - 1);
	tap_ok(ok, "keys of every length 1..250: found by every parser's "
	       "hash (one-key, key list at two phases, binary, mg b)");
	install(e, &it_foo);
	install(e, &it_k2);
	install(e, &it_k3);
}

/* --- the one-key path (bpf/xdp/fast.h) ----------------------------------- */

/*
 * Did the last request take the one-key path? It leaves s->rsum_ok set in
 * the scratch memory, which the general path clears: found by name in the
 * object's BTF, read for every CPU after they were all cleared.
 */
static int scratch_field(struct env *e, const char *name, size_t *vsize)
{
	const struct btf *btf = bpf_object__btf(e->skel->obj);
	const struct btf_member *m;
	const struct btf_type *t;
	int id, i;

	id = btf ? btf__find_by_name_kind(btf, "xkv_scratch",
					  BTF_KIND_STRUCT) : -1;
	if (id < 0)
		return -1;
	t = btf__type_by_id(btf, (__u32)id);
	*vsize = (t->size + 7) / 8 * 8;
	m = btf_members(t);
	for (i = 0; i < btf_vlen(t); i++, m++)
		if (!strcmp(btf__name_by_offset(btf, m->name_off), name))
			return (int)(btf_member_bit_offset(t, (__u32)i) / 8);
	return -1;
}

static __u8 *scratch_buf;	/* every CPU's scratch memory */

static void fast_clear(struct env *e, size_t vsize)
{
	__u32 zero = 0;

	memset(scratch_buf, 0, vsize * (size_t)e->ncpus);
	bpf_map_update_elem(bpf_map__fd(e->skel->maps.xkv_scratch), &zero,
			    scratch_buf, BPF_ANY);
}

static bool fast_taken(struct env *e, int off, size_t vsize)
{
	__u32 zero = 0, v;
	int cpu;

	if (bpf_map_lookup_elem(bpf_map__fd(e->skel->maps.xkv_scratch), &zero,
				scratch_buf))
		return false;
	for (cpu = 0; cpu < e->ncpus; cpu++) {
		memcpy(&v, scratch_buf + (size_t)cpu * vsize + (size_t)off,
		       sizeof(v));
		if (v)
			return true;
	}
	return false;
}

/*
 * A request and what must come of it: a reply carrying @it (@n of them,
 * "gets" if @gets), or passed for @why; and whether the one-key path
 * takes it (@fast) or leaves it to the general one.
 */
struct fast_case {
	const char *line;
	size_t len;		/* 0: strlen(line) */
	struct pkt_opts o;
	const struct item *it;
	int n;
	bool gets;
	enum xkv_stat_id why;
	bool fast;
	const char *name;
};

static void fast_check(struct env *e, const struct fast_case *c)
{
	size_t vsize = 0, len = c->len ? c->len : strlen(c->line);
	int off = scratch_field(e, "rsum_ok", &vsize);
	bool fast;

	if (off < 0) {
		tap_ok(false, "%s: rsum_ok found in the BTF", c->name);
		return;
	}
	if (!scratch_buf) {
		scratch_buf = calloc((size_t)e->ncpus, vsize);
		if (!scratch_buf)
			tap_bail("out of memory");
	}
	pkt_request(in, &c->o, c->line, len);
	fast_clear(e, vsize);
	if (c->it) {
		expect_text(c->it, c->n, c->gets);
		expect_reply(e, &c->o, in, text, text_len, (unsigned int)c->n,
			     c->name);
	} else {
		expect_pass(e, in, c->why, c->name);
	}
	fast = fast_taken(e, off, vsize);
	tap_ok(fast == c->fast, "%s: %s path", c->name,
	       c->fast ? "one-key" : "general");
}

static void test_fast(struct env *e)
{
	static const char kpat[] = "0123456789abcdefghijklmnopqrstuvwxyz"
				   "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
	static const size_t klens[] = { 1, 5, 6, 7, 8, 9, 15, 16, 17, 250 };
	const struct item two[] = { it_foo, it_k2 };
	const struct pkt_opts v6 = { .ipv6 = true, .nvlans = 2, .id = 7 };
	const struct pkt_opts none = { .csum = PKT_CSUM_NONE, .id = 8 };
	const struct pkt_opts bad = { .csum = PKT_CSUM_BAD, .id = 9 };
	const struct pkt_opts two_dg = { .count = 2 };
	const struct fast_case cases[] = {
		{ "get foo\r\n", 0, { .id = 1 }, &it_foo, 1, false, 0, true,
		  "one key" },
		{ "gets foo\r\n", 0, { .id = 2 }, &it_foo, 1, true, 0, true,
		  "gets, one key" },
		{ "get foo\n", 0, { .id = 3 }, &it_foo, 1, false, 0, true,
		  "one key, line ends in \\n" },
		{ "get key:3\r\n", 0, v6, &it_k3, 1, false, 0, true,
		  "one key, IPv6, two tags" },
		{ "gets foo\r\n", 0, none, &it_foo, 1, true, 0, true,
		  "one key, no UDP checksum" },
		{ "get foo\r\n", 0, bad, NULL, 0, false,
		  XKV_STAT_pass_checksum, true, "one key, bad checksum" },
		{ "get k2x\r\n", 0, bad, NULL, 0, false, XKV_STAT_misses,
		  true, "one key, bad checksum, miss" },
		{ "get nokey\r\n", 0, { 0 }, NULL, 0, false, XKV_STAT_misses,
		  true, "one key, miss" },
		{ "get foo k2\r\n", 0, { 0 }, two, 2, false, 0, false,
		  "two keys" },
		{ "get  foo\r\n", 0, { 0 }, &it_foo, 1, false, 0, false,
		  "two spaces before the key" },
		{ "get foo \r\n", 0, { 0 }, &it_foo, 1, false, 0, false,
		  "a space after the key" },
		{ "get fo\x01o\r\n", 0, { 0 }, NULL, 0, false,
		  XKV_STAT_misses, false, "a control byte in the key" },
		{ "get foo\r\r\n", 0, { 0 }, NULL, 0, false, XKV_STAT_misses,
		  false, "\\r ending the key" },
		{ "get foo\r\nx", 0, { 0 }, NULL, 0, false,
		  XKV_STAT_pass_malformed, false, "bytes after the line" },
		{ "get foo", 0, { 0 }, NULL, 0, false,
		  XKV_STAT_pass_malformed, false, "no line end" },
		{ "get \r\n", 0, { 0 }, NULL, 0, false,
		  XKV_STAT_pass_malformed, false, "no key" },
		{ "getx foo\r\n", 0, { 0 }, NULL, 0, false,
		  XKV_STAT_pass_not_get, false, "no space after get" },
		{ "get foo\0\r\n", 10, { 0 }, NULL, 0, false,
		  XKV_STAT_pass_malformed, false, "a NUL in the key" },
		{ "get foo\r\n", 0, two_dg, NULL, 0, false,
		  XKV_STAT_pass_malformed, false, "two datagrams" },
		{ "set foo 0 0 1\r\n", 0, { 0 }, NULL, 0, false,
		  XKV_STAT_pass_not_get, false, "set" },
	};
	char key[251], line[300], name[80];
	struct fast_case c;
	struct item it;
	size_t i;
	int g;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		fast_check(e, &cases[i]);

	/* every key length across word ends, get and gets, both sums */
	for (i = 0; i < sizeof(klens) / sizeof(klens[0]); i++) {
		size_t k;

		for (k = 0; k < klens[i]; k++)
			key[k] = kpat[(k + i) % (sizeof(kpat) - 1)];
		it = (struct item){ key, klens[i], "value", 5, 3, 77 };
		install(e, &it);
		for (g = 0; g < 2; g++) {
			memcpy(line, g ? "gets " : "get ", 4 + (size_t)g);
			memcpy(line + 4 + g, key, klens[i]);
			memcpy(line + 4 + g + klens[i], "\r\n", 2);
			c = (struct fast_case){ line, 6 + (size_t)g + klens[i],
						{ .id = (__u16)i }, &it, 1,
						g == 1, 0, true, name };
			snprintf(name, sizeof(name), "%s, %zu-byte key",
				 g ? "gets" : "get", klens[i]);
			fast_check(e, &c);
			c.o.csum = PKT_CSUM_BAD;
			c.it = NULL;
			c.why = XKV_STAT_pass_checksum;
			snprintf(name, sizeof(name),
				 "%s, %zu-byte key, bad checksum",
				 g ? "gets" : "get", klens[i]);
			fast_check(e, &c);
		}
		hot_del(e, key, klens[i]);
	}
	/* one byte over the longest key: the general path says malformed */
	memset(key, 'L', sizeof(key));
	memcpy(line, "get ", 4);
	memcpy(line + 4, key, sizeof(key));
	memcpy(line + 4 + sizeof(key), "\r\n", 2);
	c = (struct fast_case){ line, 6 + sizeof(key), { 0 }, NULL, 0, false,
				XKV_STAT_pass_malformed, false,
				"251-byte key" };
	fast_check(e, &c);
	free(scratch_buf);
	scratch_buf = NULL;
}

static void test_limits(struct env *e)
{
	struct pkt_opts o = { .id = 5 };
	char key[300], line[600], *val;
	struct item it;
	size_t i;

	val = malloc(2048);
	if (!val)
		tap_bail("out of memory");
	for (i = 0; i < 2048; i++)
		val[i] = (char)('a' + i % 26);

	/* keys of 250 (the limit) and 251 bytes */
	memset(key, 'K', sizeof(key));
	it = (struct item){ key, 250, "v250", 4, 7, 7 };
	install(e, &it);
	snprintf(line, sizeof(line), "get %.250s\r\n", key);
	req(&o, line);
	expect_text(&it, 1, false);
	expect_reply(e, &o, in, text, text_len, 1, "key of 250 bytes: hit");
	snprintf(line, sizeof(line), "get %.251s\r\n", key);
	req(&o, line);
	expect_pass(e, in, XKV_STAT_pass_malformed,
		    "key of 251 bytes: passed");

	/* the largest reply that fits memcached's 1400-byte datagram */
	it = (struct item){ "big", 3, val, 1367, 0, 1 };
	install(e, &it);
	req(&o, "get big\r\n");
	expect_text(&it, 1, false);
	expect_reply(e, &o, in, text, text_len, 1,
		     "reply of exactly 1400 bytes");
	it.vlen = 1368;
	install(e, &it);
	req(&o, "get big\r\n");
	expect_pass(e, in, XKV_STAT_pass_too_big,
		    "reply of 1401 bytes: too big");
	it.vlen = XKV_HOT_VAL_MAX;
	install(e, &it);
	req(&o, "get big\r\n");
	expect_pass(e, in, XKV_STAT_pass_too_big,
		    "largest slot value: too big for a datagram");

	it = (struct item){ "half", 4, val, 700, 0, 1 };
	install(e, &it);
	req(&o, "get half half\r\n");
	expect_pass(e, in, XKV_STAT_pass_too_big,
		    "multi-get whose reply is too big");

	/* 32 keys are served, 33 are not */
	strcpy(line, "get");
	for (i = 0; i < 32; i++)
		strcat(line, " foo");
	strcat(line, "\r\n");
	req(&o, line);
	{
		struct item many[32];

		for (i = 0; i < 32; i++)
			many[i] = it_foo;
		expect_text(many, 32, false);
	}
	expect_reply(e, &o, in, text, text_len, 32, "32 keys");
	strcpy(line, "get");
	for (i = 0; i < 33; i++)
		strcat(line, " foo");
	strcat(line, "\r\n");
	req(&o, line);
	expect_pass(e, in, XKV_STAT_pass_too_big, "33 keys");
	free(val);
}

static void test_slots(struct env *e)
{
	struct pkt_opts o = { .id = 11 };
	struct item it = { "ttl", 3, "short-lived", 11, 3, 5 };
	struct xkv_slot *s;
	char a[16], b[16], name[64];
	__u32 seq, hits0;
	int i, j, found = 0;

	/* expiry is CLOCK_MONOTONIC ns, like bpf_ktime_get_ns() */
	hot_set(e, it.key, it.klen, it.val, it.vlen, it.flags, it.cas,
		fixture_mono_ns() + 3600ull * 1000000000ull);
	req(&o, "get ttl\r\n");
	expect_text(&it, 1, false);
	expect_reply(e, &o, in, text, text_len, 1, "not yet expired: hit");
	hot_set(e, it.key, it.klen, it.val, it.vlen, it.flags, it.cas,
		fixture_mono_ns() - 1);
	expect_pass(e, in, XKV_STAT_pass_expired, "expired slot");

	/* a writer inside (odd sequence): pass; done: served again */
	install(e, &it_foo);
	s = slot_of(e, "foo", 3);
	seq = slot_begin(s);
	req(&o, "get foo\r\n");
	expect_pass(e, in, XKV_STAT_pass_busy, "slot being written (odd)");
	slot_end(s, seq);
	expect_text(&it_foo, 1, false);
	expect_reply(e, &o, in, text, text_len, 1, "slot written again");

	hot_del(e, "foo", 3);
	expect_pass(e, in, XKV_STAT_misses, "invalidated slot: miss");
	install(e, &it_foo);

	/* two keys of the same length in one slot: an entry each */
	for (i = 0; i < 1000 && !found; i++) {
		snprintf(a, sizeof(a), "c%04d", i);
		for (j = 0; j < i; j++) {
			snprintf(b, sizeof(b), "c%04d", j);
			if (slot_of(e, a, 5) == slot_of(e, b, 5)) {
				found = 1;
				break;
			}
		}
	}
	if (tap_ok(found, "found two keys sharing a slot")) {
		struct item ia = { a, 5, "A", 1, 0, 0 };
		struct item ib = { b, 5, "BB", 2, 3, 4 };

		install(e, &ia);
		snprintf(name, sizeof(name), "get %s\r\n", b);
		req(&o, name);
		expect_pass(e, in, XKV_STAT_misses,
			    "other key in the slot: miss");
		install(e, &ib);
		expect_text(&ib, 1, false);
		expect_reply(e, &o, in, text, text_len, 1,
			     "second key of a slot: hit");
		snprintf(name, sizeof(name), "get %s\r\n", a);
		req(&o, name);
		expect_text(&ia, 1, false);
		expect_reply(e, &o, in, text, text_len, 1,
			     "first key of a slot still served");
		hot_del(e, a, 5);
		expect_pass(e, in, XKV_STAT_misses,
			    "first key removed from the slot: miss");
		snprintf(name, sizeof(name), "get %s\r\n", b);
		req(&o, name);
		expect_text(&ib, 1, false);
		expect_reply(e, &o, in, text, text_len, 1,
			     "the other key stays: hit");
		hot_del(e, b, 5);
	}

	/* XDP counts hits per entry, 1 in XKV_HOT_HIT_SAMPLE on average */
	{
		struct xkv_hot_ent *ent = hot_ent(e, "foo", 3);
		__u32 h1;

		if (!ent)
			tap_bail("foo has no entry");
		struct xkv_slot *fs = slot_of(e, "foo", 3);
		__u32 seq0 = fs->seq, seq1;

		hits0 = __atomic_load_n(&ent->hits, __ATOMIC_RELAXED);
		req(&o, "get foo\r\n");
		for (i = 0; i < 400; i++) {
			struct result r;

			run(e, in, &r);
			if (r.retval != XDP_TX)
				break;
		}
		h1 = __atomic_load_n(&ent->hits, __ATOMIC_RELAXED);
		tap_ok(i == 400 && h1 > hits0 && h1 - hits0 < 400,
		       "entry hit counter moves (sampled): %u after 400 hits",
		       h1 - hits0);
		/* each sampled add takes the slot's lock: 2 per add */
		seq1 = fs->seq;
		tap_ok(!(seq1 & 1) && seq1 - seq0 == 2 * (h1 - hits0),
		       "each sampled add under the slot lock: slot even, "
		       "sequence +%u for %u adds", seq1 - seq0, h1 - hits0);
	}
	(void)s;
}

/* --- buckets: several entries per slot ----------------------------------- */

/* up to @n keys of different lengths that share the slot of @first */
static int same_slot_keys(struct env *e, const char *first,
			  char keys[][32], int n)
{
	static const char *const fmt[] = { "%d", "x%02d", "yy%03d",
					   "zzz%04d", "w_%05d", "v__%06d" };
	struct xkv_slot *want = slot_of(e, first, strlen(first));
	int got = 0, f, i;

	for (f = 0; f < 6 && got < n; f++)
		for (i = 0; i < 100000 && got < n; i++) {
			char k[32];

			snprintf(k, sizeof(k), fmt[f], i);
			if (slot_of(e, k, strlen(k)) == want) {
				strcpy(keys[got++], k);
				break;
			}
		}
	return got;
}

/* body bytes of an item's entry ("VALUE" line, data, both "\r\n") */
static size_t body_len(const struct item *it, bool gets)
{
	char d[48];

	return 6 + it->klen + 1 + 2 + it->vlen + 2 +
	       (size_t)snprintf(d, sizeof(d), "%u %zu", it->flags, it->vlen) +
	       (gets ? (size_t)snprintf(d, sizeof(d), " %llu",
					(unsigned long long)it->cas) :
		       0);
}

/* which of @n items, served in order, start at an odd payload offset */
static int odd_starts(const struct item *it, int n, bool gets)
{
	size_t off = 8;		/* the frame header */
	int i, odd = 0;

	for (i = 0; i < n; i++) {
		odd += (int)(off & 1);
		off += body_len(&it[i], gets);
	}
	return odd + (int)(off & 1);	/* and "END" */
}

static void test_bucket(struct env *e)
{
	struct pkt_opts o = { .id = 21 };
	char keys[4][32], line[256], name[128];
	struct item it[4], order[4];
	struct xkv_slot *s;
	__u32 seq;
	int i, n;

	/* four keys of one slot, of lengths 1..4 or so */
	strcpy(keys[0], "b");
	n = 1 + same_slot_keys(e, "b", keys + 1, 3);
	if (!tap_ok(n == 4, "found four keys of different lengths in one "
		    "slot"))
		return;
	slot_clear(slot_of(e, "b", 1));
	it[0] = (struct item){ keys[0], strlen(keys[0]), "one", 3, 1, 11 };
	it[1] = (struct item){ keys[1], strlen(keys[1]), "second", 6, 22,
			       222 };
	it[2] = (struct item){ keys[2], strlen(keys[2]), "", 0, 333, 3 };
	it[3] = (struct item){ keys[3], strlen(keys[3]), "4444", 4,
			       4294967295u, 18446744073709551615ull };
	for (i = 0; i < 4; i++)
		install(e, &it[i]);
	s = slot_of(e, "b", 1);
	tap_ok(xkv_slot_find(s, xkv_hot_hash("b", 1), "b", 1) == 0 &&
	       xkv_slot_find(s, xkv_hot_hash(keys[3], (__u32)it[3].klen),
			     keys[3], (__u32)it[3].klen) > 0,
	       "four entries in one slot, the first at offset 0");

	for (i = 0; i < 4; i++) {
		static const char *const where[] = { "first", "second",
						     "third", "last" };

		snprintf(line, sizeof(line), "get %s\r\n", keys[i]);
		req(&o, line);
		expect_text(&it[i], 1, false);
		snprintf(name, sizeof(name), "key %s of four in its slot: get",
			 where[i]);
		expect_reply(e, &o, in, text, text_len, 1, name);
		snprintf(line, sizeof(line), "gets %s\r\n", keys[i]);
		req(&o, line);
		expect_text(&it[i], 1, true);
		snprintf(name, sizeof(name), "key %s of four in its slot: gets",
			 where[i]);
		expect_reply(e, &o, in, text, text_len, 1, name);
	}

	/* every order, so entries land at odd and even offsets */
	order[0] = it[3];
	order[1] = it[0];
	order[2] = it[2];
	order[3] = it[1];
	snprintf(line, sizeof(line), "get %s %s %s %s\r\n", keys[3], keys[0],
		 keys[2], keys[1]);
	req(&o, line);
	expect_text(order, 4, false);
	snprintf(name, sizeof(name), "multi-get of one slot's four keys, "
		 "%d pieces at odd offsets", odd_starts(order, 4, false));
	tap_ok(odd_starts(order, 4, false) > 0, "the get puts a piece at an "
	       "odd offset");
	expect_reply(e, &o, in, text, text_len, 4, name);
	snprintf(line, sizeof(line), "gets %s %s %s %s\r\n", keys[3],
		 keys[0], keys[2], keys[1]);
	req(&o, line);
	expect_text(order, 4, true);
	snprintf(name, sizeof(name), "multi-gets of one slot's four keys, "
		 "%d pieces at odd offsets", odd_starts(order, 4, true));
	tap_ok(odd_starts(order, 4, true) > 0, "the gets puts a piece at an "
	       "odd offset");
	expect_reply(e, &o, in, text, text_len, 4, name);
	snprintf(line, sizeof(line), "gets %s %s %s %s %s\r\n", keys[1],
		 keys[1], keys[0], keys[3], keys[1]);
	req(&o, line);
	{
		struct item rep[5] = { it[1], it[1], it[0], it[3], it[1] };

		expect_text(rep, 5, true);
		expect_reply(e, &o, in, text, text_len, 5,
			     "multi-gets, repeated keys, odd CAS widths");
	}

	/* the middle key removed: the last is still found behind it */
	hot_del(e, keys[1], it[1].klen);
	snprintf(line, sizeof(line), "get %s\r\n", keys[1]);
	req(&o, line);
	expect_pass(e, in, XKV_STAT_misses, "removed middle entry: miss");
	snprintf(line, sizeof(line), "gets %s %s\r\n", keys[3], keys[0]);
	req(&o, line);
	order[0] = it[3];
	order[1] = it[0];
	expect_text(order, 2, true);
	expect_reply(e, &o, in, text, text_len, 2,
		     "entries after a removed one: hit");

	/* CAS unknown (learning mode): get served, gets passed */
	hot_set_x(e, keys[2], it[2].klen, it[2].val, it[2].vlen, it[2].flags,
		  it[2].cas, 0, XKV_SLOT_F_NO_CAS);
	snprintf(line, sizeof(line), "get %s\r\n", keys[2]);
	req(&o, line);
	expect_text(&it[2], 1, false);
	expect_reply(e, &o, in, text, text_len, 1, "NO_CAS entry: get hit");
	snprintf(line, sizeof(line), "gets %s\r\n", keys[2]);
	req(&o, line);
	expect_pass(e, in, XKV_STAT_misses, "NO_CAS entry: gets passed");
	snprintf(line, sizeof(line), "gets %s %s\r\n", keys[0], keys[2]);
	req(&o, line);
	expect_pass(e, in, XKV_STAT_misses,
		    "gets of a CAS entry and a NO_CAS one: passed");

	/* an expired entry among live ones */
	hot_set(e, keys[0], it[0].klen, it[0].val, it[0].vlen, it[0].flags,
		it[0].cas, fixture_mono_ns() - 1000000000ull);
	snprintf(line, sizeof(line), "get %s\r\n", keys[0]);
	req(&o, line);
	expect_pass(e, in, XKV_STAT_pass_expired, "expired entry in a bucket");
	snprintf(line, sizeof(line), "get %s\r\n", keys[3]);
	req(&o, line);
	expect_text(&it[3], 1, false);
	expect_reply(e, &o, in, text, text_len, 1,
		     "its slot's other entries served");

	/* a writer inside: every key of the slot passes */
	seq = slot_begin(s);
	expect_pass(e, in, XKV_STAT_pass_busy, "bucket being written (odd)");
	slot_end(s, seq);
	slot_clear(s);
	expect_pass(e, in, XKV_STAT_misses, "emptied bucket: miss");
}

/*
 * Garbage in a slot (anyone with the map may write it): never served,
 * never a fault. The key's entry is built, then one field is broken.
 */
static void test_garbage(struct env *e)
{
	static const char key[] = "foo";
	struct pkt_opts o = { .id = 23 };
	struct xkv_slot *s = slot_of(e, key, 3);
	__u32 hash = xkv_hot_hash(key, 3), seq, good_used;
	struct xkv_hot_ent *ent;
	struct {
		const char *name;
		int field;
		__u32 val;
	} cases[] = {
		{ "@used past the slot's room", 0, 0xffff },
		{ "@used shorter than the entry", 0, 48 },
		{ "entry size 0", 1, 0 },
		{ "entry size odd", 1, 57 },
		{ "entry size below the smallest entry", 1, 48 },
		{ "entry size past @used", 1, 2040 },
		{ "entry size huge", 1, 0xfff8 },
		{ "key_len 255", 2, 255 },
		{ "key_len 0", 2, 0 },
		{ "body_len past the entry", 3, 2000 },
		{ "body_len 0", 3, 0 },
		{ "line_len past the body", 4, 1000 },
		{ "line_len shorter than the key", 4, 5 },
		{ "a bad entry before the key's", 5, 0 },
	};
	size_t i;

	req(&o, "get foo\r\n");
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		slot_clear(s);
		install(e, &it_foo);
		seq = slot_begin(s);
		ent = xkv_slot_ent(s, 0);
		good_used = s->used;
		switch (cases[i].field) {
		case 0:
			s->used = (__u16)cases[i].val;
			break;
		case 1:
			ent->size = (__u16)cases[i].val;
			break;
		case 2:
			ent->key_len = (__u8)cases[i].val;
			break;
		case 3:
			ent->body_len = (__u16)cases[i].val;
			break;
		case 4:
			ent->line_len = (__u16)cases[i].val;
			break;
		case 5:
			/* a 64-byte entry of zeros first, then foo's */
			memmove(s->data + 64, s->data, good_used);
			memset(s->data, 0, 64);
			s->used = (__u16)(good_used + 64);
			break;
		}
		slot_end(s, seq);
		expect_pass(e, in, XKV_STAT_misses, cases[i].name);
	}
	/* the same hash, a different key of the same length */
	slot_clear(s);
	install(e, &it_foo);
	seq = slot_begin(s);
	ent = xkv_slot_ent(s, 0);
	ent->body[6] = 'g';
	ent->hash = hash;
	slot_end(s, seq);
	expect_pass(e, in, XKV_STAT_misses,
		    "hash and length match, key bytes differ: miss");
	slot_clear(s);
	install(e, &it_foo);
	expect_text(&it_foo, 1, false);
	expect_reply(e, &o, in, text, text_len, 1, "rebuilt entry: hit");
}

static void test_allow(struct env *e)
{
	static const uint8_t other4[4] = { 192, 0, 2, 1 };
	static const uint8_t other6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0,
					    0, 0, 0, 0, 0, 0, 0, 0, 1 };
	struct pkt_opts o = { .src = other4 };

	req(&o, "get foo\r\n");
	expect_pass(e, in, XKV_STAT_pass_not_allowed,
		    "IPv4 source not allowed");
	o = (struct pkt_opts){ .ipv6 = true, .src = other6 };
	req(&o, "get foo\r\n");
	expect_pass(e, in, XKV_STAT_pass_not_allowed,
		    "IPv6 source not allowed");

	/*
	 * The per-CPU memo of the last allowed source lasts while the
	 * policy's generation does: a removal counts once it is bumped.
	 */
	o = (struct pkt_opts){ .id = 50 };
	req(&o, "get foo\r\n");
	expect_text(&it_foo, 1, false);
	expect_reply(e, &o, in, text, text_len, 1,
		     "allowed source: served (and remembered)");
	if (disallow4(e, pkt_client4, 8, false))
		tap_bail("cannot remove the client's prefix");
	expect_reply(e, &o, in, text, text_len, 1,
		     "prefix removed, generation not bumped: still served");
	policy_bump(e);
	expect_pass(e, in, XKV_STAT_pass_not_allowed,
		    "prefix removed, generation bumped: not allowed");
	expect_pass(e, in, XKV_STAT_pass_not_allowed,
		    "... and not remembered as allowed");
	if (allow4(e, pkt_client4, 8))
		tap_bail("cannot allow the client's prefix again");
	expect_reply(e, &o, in, text, text_len, 1,
		     "prefix allowed again: served");
	o = (struct pkt_opts){ .id = 51, .ipv6 = true };
	req(&o, "get foo\r\n");
	expect_text(&it_foo, 1, false);
	expect_reply(e, &o, in, text, text_len, 1,
		     "another source (IPv6) allowed: served");
	o = (struct pkt_opts){ .id = 52, .src = other4 };
	req(&o, "get foo\r\n");
	expect_pass(e, in, XKV_STAT_pass_not_allowed,
		    "a source not allowed after allowed ones: not allowed");
}

/* note @a (4 or 16 bytes) in xkv_addrs as the loader does */
static void addr_set(struct env *e, const uint8_t *a, size_t alen, __u32 f)
{
	struct xkv_addr k = { .addr = { 0 } };

	if (alen == 4) {
		k.addr[10] = 0xff;
		k.addr[11] = 0xff;
		memcpy(k.addr + 12, a, 4);
	} else {
		memcpy(k.addr, a, 16);
	}
	if (bpf_map_update_elem(bpf_map__fd(e->skel->maps.xkv_addrs), &k, &f,
				BPF_ANY))
		tap_bail("cannot fill xkv_addrs");
	policy_bump(e);
}

/* passed as a martian (@martian), or anything but that */
static void expect_martian(struct env *e, const struct pkt *in, bool martian,
			   const char *name)
{
	struct result r;

	if (martian) {
		expect_pass(e, in, XKV_STAT_pass_martian, name);
		return;
	}
	run(e, in, &r);
	tap_ok(!r.err && r.delta[XKV_STAT_packets] == 1 &&
	       !r.delta[XKV_STAT_pass_martian], "%s: not a martian", name);
}

/* an interface other than lo to receive frames on, 0 when none */
static int other_ifindex(void)
{
	struct if_nameindex *ifs = if_nameindex(), *i;
	int idx = 0;

	for (i = ifs; i && i->if_index && !idx; i++)
		if (i->if_index != 1)
			idx = (int)i->if_index;
	if (ifs)
		if_freenameindex(ifs);
	return idx;
}

/*
 * What the stack would drop is passed: a wrong UDP checksum, port 0, our
 * own port, martian addresses; and nothing is served once the backend's
 * lease ran out.
 */
static void test_input(struct env *e)
{
	static const struct {
		uint8_t a[4];
		bool dst;
		bool lo_ok;
		const char *name;
	} m4[] = {
		{ { 0, 1, 2, 3 }, false, false, "source 0.1.2.3 (0/8)" },
		{ { 127, 0, 0, 1 }, false, true, "source 127.0.0.1" },
		{ { 224, 0, 0, 1 }, false, false, "source 224.0.0.1" },
		{ { 239, 1, 2, 3 }, false, false, "source 239.1.2.3" },
		{ { 240, 0, 0, 1 }, false, false, "source 240.0.0.1" },
		{ { 255, 255, 255, 255 }, false, false,
		  "source 255.255.255.255" },
		{ { 0, 0, 0, 0 }, true, false, "to 0.0.0.0" },
		{ { 127, 0, 0, 1 }, true, true, "to 127.0.0.1" },
		{ { 250, 1, 1, 1 }, true, false, "to 250.1.1.1 (240/4)" },
	};
	static const struct {
		uint8_t a[16];
		bool dst;
		bool lo_ok;
		const char *name;
	} m6[] = {
		{ { 0 }, false, false, "source ::" },
		{ { [15] = 1 }, false, true, "source ::1" },
		{ { 0xff, 0x02, [15] = 1 }, false, false, "source ff02::1" },
		{ { [10] = 0xff, [11] = 0xff, 10, 0, 0, 2 }, false, false,
		  "source ::ffff:10.0.0.2 (IPv4-mapped)" },
		{ { 0 }, true, false, "to ::" },
		{ { [15] = 1 }, true, true, "to ::1" },
	};
	struct pkt_opts o = { .id = 31 };
	char name[96];
	size_t i;
	int lo;

	/* checksums: complete, absent (IPv4), wrong, partial (no flag) */
	req(&o, "get foo\r\n");
	expect_text(&it_foo, 1, false);
	expect_reply(e, &o, in, text, text_len, 1,
		     "IPv4, complete UDP checksum: served");
	o.csum = PKT_CSUM_NONE;
	req(&o, "get foo\r\n");
	expect_reply(e, &o, in, text, text_len, 1,
		     "IPv4, no UDP checksum (0): served");
	o.csum = PKT_CSUM_BAD;
	req(&o, "get foo\r\n");
	expect_pass(e, in, XKV_STAT_pass_checksum, "IPv4, wrong UDP checksum");
	req(&o, "get foo k2 key:3 foo k2 key:3 foo k2 key:3 foo k2\r\n");
	expect_pass(e, in, XKV_STAT_pass_checksum,
		    "IPv4, wrong UDP checksum, longer request");
	o.csum = PKT_CSUM_PARTIAL;
	req(&o, "get foo\r\n");
	expect_pass(e, in, XKV_STAT_pass_checksum,
		    "IPv4, partial sum without XKV_CFG_CSUM_PARTIAL");
	o = (struct pkt_opts){ .id = 32, .ipv6 = true };
	req(&o, "get foo\r\n");
	expect_reply(e, &o, in, text, text_len, 1,
		     "IPv6, complete UDP checksum: served");
	o.csum = PKT_CSUM_NONE;
	req(&o, "get foo\r\n");
	expect_pass(e, in, XKV_STAT_pass_checksum,
		    "IPv6, UDP checksum 0 (invalid on IPv6)");
	o.csum = PKT_CSUM_BAD;
	req(&o, "get foo\r\n");
	expect_pass(e, in, XKV_STAT_pass_checksum, "IPv6, wrong UDP checksum");
	o = (struct pkt_opts){ .id = 33 };
	req(&o, "get foo\r\n");
	/* a corrupted request id: every key still hits, the sum is wrong */
	in->b[in->len - 17] ^= 0x20;
	expect_pass(e, in, XKV_STAT_pass_checksum,
		    "payload changed after the sum");

	/* ports */
	o = (struct pkt_opts){ .id = 34, .sport_zero = true };
	req(&o, "get foo\r\n");
	expect_pass(e, in, XKV_STAT_pass_martian, "source port 0");
	o = (struct pkt_opts){ .id = 35, .sport = PKT_SERVER_PORT };
	req(&o, "get foo\r\n");
	expect_pass(e, in, XKV_STAT_pass_martian,
		    "source port = our port (reply loop)");

	/* martians, on lo (ifindex 1) and on another interface */
	for (lo = 1; lo >= 0; lo--) {
		e->ifindex = lo ? 0 : other_ifindex();
		if (!lo && !e->ifindex) {
			tap_skip(1, "no interface but lo to run frames on");
			break;
		}
		for (i = 0; i < sizeof(m4) / sizeof(m4[0]); i++) {
			o = (struct pkt_opts){ .id = 36 };
			if (m4[i].dst)
				o.dst = m4[i].a;
			else
				o.src = m4[i].a;
			req(&o, "get foo\r\n");
			snprintf(name, sizeof(name), "%s on %s", m4[i].name,
				 lo ? "lo" : "another interface");
			expect_martian(e, in, !(lo && m4[i].lo_ok), name);
		}
		for (i = 0; i < sizeof(m6) / sizeof(m6[0]); i++) {
			o = (struct pkt_opts){ .id = 37, .ipv6 = true };
			if (m6[i].dst)
				o.dst = m6[i].a;
			else
				o.src = m6[i].a;
			req(&o, "get foo\r\n");
			snprintf(name, sizeof(name), "%s on %s", m6[i].name,
				 lo ? "lo" : "another interface");
			expect_martian(e, in, !(lo && m6[i].lo_ok), name);
		}
	}
	e->ifindex = 0;

	/*
	 * The interface's own addresses and subnet broadcast (xkv_addrs): a
	 * source of ours only on lo; a broadcast address neither way, even
	 * behind a unicast MAC.
	 */
	{
		static const uint8_t bcast4[4] = { 10, 0, 0, 255 };

		addr_set(e, pkt_server4, 4, XKV_ADDR_LOCAL);
		addr_set(e, pkt_server6, 16, XKV_ADDR_LOCAL);
		addr_set(e, bcast4, 4, XKV_ADDR_BCAST);
		for (lo = 1; lo >= 0; lo--) {
			e->ifindex = lo ? 0 : other_ifindex();
			if (!lo && !e->ifindex) {
				tap_skip(2, "no interface but lo");
				break;
			}
			o = (struct pkt_opts){ .id = 40, .src = pkt_server4 };
			req(&o, "get foo\r\n");
			snprintf(name, sizeof(name),
				 "source: our own address, on %s",
				 lo ? "lo" : "another interface");
			expect_martian(e, in, !lo, name);
			o = (struct pkt_opts){ .id = 41, .ipv6 = true,
					       .src = pkt_server6 };
			req(&o, "get foo\r\n");
			snprintf(name, sizeof(name),
				 "IPv6 source: our own address, on %s",
				 lo ? "lo" : "another interface");
			expect_martian(e, in, !lo, name);
		}
		e->ifindex = 0;
		o = (struct pkt_opts){ .id = 42, .dst = bcast4 };
		req(&o, "get foo\r\n");
		expect_pass(e, in, XKV_STAT_pass_group,
			    "to our subnet's broadcast, unicast MAC");
		o = (struct pkt_opts){ .id = 43, .src = bcast4 };
		req(&o, "get foo\r\n");
		expect_pass(e, in, XKV_STAT_pass_martian,
			    "from our subnet's broadcast address");
	}

	/* the backend's lease */
	o = (struct pkt_opts){ .id = 38 };
	req(&o, "get foo\r\n");
	e->dead = true;
	expect_pass(e, in, XKV_STAT_pass_no_backend,
		    "backend's lease ended: nothing served");
	e->dead = false;
	xkv_live_renew(e->live, fixture_mono_ns() - XKV_LIVE_LEASE_NS - 1);
	{
		/* run without the per-run beat: the lease is in the past */
		static __u8 out[PKT_MAX];
		LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = in->b,
			    .data_size_in = (__u32)in->len, .data_out = out,
			    .data_size_out = sizeof(out), .repeat = 1);

		tap_ok(!bpf_prog_test_run_opts(e->prog_fd, &opts) &&
		       opts.retval == XDP_PASS,
		       "last beat longer than a lease ago: XDP_PASS");
	}
	expect_text(&it_foo, 1, false);
	expect_reply(e, &o, in, text, text_len, 1, "beating again: served");
}

/* a second program with other settings: port, allow-any, budget */
static void test_config(void)
{
	static const uint8_t other4[4] = { 192, 0, 2, 1 };
	struct xkv_config cfg = {
		.port = 11300,
		.flags = XKV_CFG_ALLOW_ANY | XKV_CFG_CSUM_PARTIAL,
		.nslots = 64,
		.max_reply = 1400,
		.amp_ratio = 3,
	};
	struct pkt_opts o = { .src = other4, .dport = 11300, .id = 3 };
	struct item small = { "k", 1, "x", 1, 0, 0 };
	struct item large = { "L", 1,
			      "0123456789012345678901234567890123456789",
			      40, 0, 0 };
	struct env e;
	int err;

	err = env_open(&e, &cfg);
	if (!tap_ok(!err, "load with port 11300, allow-any, budget 3x, "
		    "partial checksums")) {
		tap_diag("  %s", strerror(-err));
		env_close(&e);
		return;
	}
	install(&e, &small);
	install(&e, &large);
	req(&o, "get k\r\n");
	expect_text(&small, 1, false);
	expect_reply(&e, &o, in, text, text_len, 1,
		     "configured port, any source allowed, within budget");
	req(&o, "get L\r\n");
	expect_pass(&e, in, XKV_STAT_pass_budget,
		    "reply over 3x the request: budget");
	req(&o, "mg L v\r\n");
	expect_pass(&e, in, XKV_STAT_pass_budget,
		    "mg reply over 3x the request: budget");
	req(&o, "mg k v f\r\n");
	expect_mg(&small, "v f");
	expect_reply(&e, &o, in, text, text_len, 1,
		     "mg within budget, any source allowed");
	expect_text(&small, 1, false);
	/* what lo and veth carry from local senders with offload */
	o.csum = PKT_CSUM_PARTIAL;
	req(&o, "get k\r\n");
	expect_reply(&e, &o, in, text, text_len, 1,
		     "IPv4, partial (offload) checksum: served");
	o.ipv6 = true;
	o.src = NULL;
	req(&o, "get k\r\n");
	expect_reply(&e, &o, in, text, text_len, 1,
		     "IPv6, partial (offload) checksum: served");
	o.csum = PKT_CSUM_BAD;
	req(&o, "get k\r\n");
	expect_pass(&e, in, XKV_STAT_pass_checksum,
		    "IPv6, wrong checksum, partial allowed: passed");
	o.ipv6 = false;
	o.src = other4;
	req(&o, "get k\r\n");
	expect_pass(&e, in, XKV_STAT_pass_checksum,
		    "IPv4, wrong checksum, partial allowed: passed");
	o.csum = PKT_CSUM_FULL;
	o.dport = 11211;
	req(&o, "get k\r\n");
	expect_pass(&e, in, XKV_STAT_pass_other_port,
		    "default port is not the configured one");
	env_close(&e);

	/* growing at the head: every header rewritten at the new start */
	cfg = (struct xkv_config){ .port = 11211, .flags = XKV_CFG_HEAD_FIRST,
				   .nslots = 64, .max_reply = 1400 };
	err = env_open(&e, &cfg);
	if (!tap_ok(!err, "load with head-first growth")) {
		tap_diag("  %s", strerror(-err));
		env_close(&e);
		return;
	}
	if (allow4(&e, pkt_client4, 32) || allow6(&e, pkt_client6, 128))
		tap_bail("cannot fill the allowlist");
	install(&e, &large);
	o = (struct pkt_opts){ .id = 4, .nvlans = 1 };
	req(&o, "get L\r\n");
	expect_text(&large, 1, false);
	expect_reply(&e, &o, in, text, text_len, 1,
		     "reply grown at the head (IPv4, VLAN)");
	o = (struct pkt_opts){ .id = 5, .ipv6 = true, .nvlans = 2 };
	req(&o, "gets L\r\n");
	expect_text(&large, 1, true);
	expect_reply(&e, &o, in, text, text_len, 1,
		     "reply grown at the head (IPv6, two tags)");
	o = (struct pkt_opts){ .id = 6, .pad_to = 200 };
	req(&o, "get L\r\n");
	expect_text(&large, 1, false);
	expect_reply(&e, &o, in, text, text_len, 1,
		     "reply shorter than a padded request: shrunk at the tail");
	env_close(&e);
}

static void test_invariant(struct env *e)
{
	__u64 sum[XKV_STAT_NR], outcomes = 0;
	int i;

	if (xkv_counters_read(e->stats_fd, sum, XKV_STAT_NR)) {
		tap_ok(0, "read counters");
		return;
	}
	for (i = 0; i < XKV_STAT_NR; i++)
		if (i == XKV_STAT_replies || i == XKV_STAT_misses ||
		    i == XKV_STAT_errors ||
		    !strncmp(stat_names[i], "pass_", 5))
			outcomes += sum[i];
	tap_is_u64(sum[XKV_STAT_packets], outcomes,
		   "every packet counted under exactly one outcome");
	tap_is_u64(sum[XKV_STAT_errors], 0, "no errors counted");
}

/* average BPF_PROG_TEST_RUN duration of @in, one run per call */
static void bench_one(struct env *e, const struct pkt *in, const char *name)
{
	struct result *r = malloc(sizeof(*r));
	LIBBPF_OPTS(bpf_test_run_opts, opts);
	__u64 total = 0;
	int i, n = 20000;

	if (!r)
		tap_bail("out of memory");
	for (i = 0; i < n; i++) {
		opts.data_in = in->b;
		opts.data_size_in = (__u32)in->len;
		opts.data_out = r->out;
		opts.data_size_out = sizeof(r->out);
		opts.repeat = 1;
		if (bpf_prog_test_run_opts(e->prog_fd, &opts))
			break;
		total += opts.duration;
	}
	printf("%-44s %s %6.0f ns\n", name, verdict(opts.retval),
	       i ? (double)total / i : 0.0);
	free(r);
}

static void bench(struct env *e)
{
	struct pkt_opts o = { .id = 1 };
	struct item it = { "user:00000042", 13, NULL, 32, 0, 7 };
	char val[1024];

	memset(val, 'v', sizeof(val));
	it.val = val;
	install(e, &it);
	req(&o, "get user:00000042\r\n");
	bench_one(e, in, "hit, 13-byte key, 32-byte value");
	req(&o, "gets user:00000042\r\n");
	bench_one(e, in, "gets hit, 13-byte key, 32-byte value");
	it.vlen = 1000;
	install(e, &it);
	req(&o, "get user:00000042\r\n");
	bench_one(e, in, "hit, 13-byte key, 1000-byte value");
	req(&o, "get user:00000043\r\n");
	bench_one(e, in, "miss, 13-byte key");
	it.vlen = 32;
	install(e, &it);
	req(&o, "get user:00000042 user:00000042 user:00000042 "
		"user:00000042\r\n");
	bench_one(e, in, "4-key hit, 32-byte values");
	o.dport = 53;
	req(&o, "get user:00000042\r\n");
	bench_one(e, in, "other port");
}

static void print_verifier_stats(bool all)
{
	const char *p = strstr(vlog, "processed ");
	const char *end;

	if (all) {
		fputs(vlog, stdout);
		return;
	}
	if (!p)
		return;
	end = strchr(p, '\n');
	tap_diag("verifier: %.*s", end ? (int)(end - p) : (int)strlen(p), p);
}

int main(int argc, char **argv)
{
	struct xkv_config cfg = {
		.port = PKT_SERVER_PORT,
		.nslots = NSLOTS,
		.max_reply = XKV_UDP_PAYLOAD_DEFAULT,
	};
	bool vstats = argc > 1 && !strcmp(argv[1], "--verifier-stats");
	bool do_bench = argc > 1 && !strcmp(argv[1], "--bench");
	struct env e;
	int err;

	if (!fixture_start())
		return 0;
	in = malloc(sizeof(*in));
	text = malloc(PKT_MAX);
	bin = malloc(PKT_MAX);
	if (!in || !text || !bin)
		tap_bail("out of memory");

	err = env_open(&e, &cfg);
	if (err) {
		fputs(vlog, stdout);
		printf("Bail out! cannot load the XDP program: %s\n",
		       strerror(-err));
		return 1;
	}
	if (vstats) {
		print_verifier_stats(true);
		env_close(&e);
		return 0;
	}
	print_verifier_stats(false);
	if (allow4(&e, pkt_client4, 8) || allow6(&e, pkt_client6, 8))
		tap_bail("cannot fill the allowlist");
	if (do_bench) {
		bench(&e);
		env_close(&e);
		return 0;
	}

	test_fixture_keys(&e);
	test_basic(&e);
	test_meta(&e);
	test_meta_key(&e);
	test_binary(&e);
	test_layers(&e);
	test_malformed(&e);
	test_keys(&e);
	test_hash_lengths(&e);
	test_fast(&e);
	test_limits(&e);
	test_slots(&e);
	test_bucket(&e);
	test_garbage(&e);
	test_allow(&e);
	test_input(&e);
	test_invariant(&e);
	env_close(&e);
	test_config();

	free(in);
	free(text);
	return tap_done();
}
