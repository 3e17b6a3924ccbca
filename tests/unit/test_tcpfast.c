// SPDX-License-Identifier: GPL-2.0
/*
 * test_tcpfast.c - the backend's side of the TCP fast path: claiming an
 * xkv_tcp_ans entry (index, probing, collisions, a full run, wrapping at
 * the end of the table, left-over entries), releasing it, and the pump's
 * publication of "done", driven through a fake socket: it is published
 * only when the connection owes nothing (a request split across reads, a
 * set whose value arrives in pieces, pipelined commands, partial sends, a
 * backlog behind big replies), only when it changed, never ahead of what
 * was read and sent, and the counts wrap.
 */
#include <arpa/inet.h>

#include "tap.h"
#include "tcp.h"
#include "tcpfast.h"
#include "unit_util.h"

#define NO_LIMIT ((size_t)-1)

/* a socket: bytes the client sent, what the server sent back */
struct fake {
	struct xkv_tcp t;
	char in[1 << 20];
	size_t inlen;
	size_t inoff;
	bool eof;
	char *out;
	size_t outlen;
	size_t outcap;
	size_t room;		/* bytes send() takes before -EAGAIN */
	u32 read_total;
	u32 sent_total;
	u64 ahead;		/* publications ahead of what moved */
};

static struct fake *fake_of(struct xkv_tcp *t)
{
	return (struct fake *)((char *)t - offsetof(struct fake, t));
}

/* what is published may never count bytes not yet read or sent */
static void check_not_ahead(struct fake *f)
{
	u64 done;

	if (!f->t.ans)
		return;
	done = f->t.ans->done;
	if ((u32)done != 0 && (u32)(f->read_total - (u32)done) > (1u << 30))
		f->ahead++;
	if ((u32)(done >> 32) != 0 &&
	    (u32)(f->sent_total - (u32)(done >> 32)) > (1u << 30))
		f->ahead++;
}

static long fake_recv(struct xkv_tcp *t, void *buf, size_t len)
{
	struct fake *f = fake_of(t);
	size_t n = f->inlen - f->inoff;

	check_not_ahead(f);
	if (!n)
		return f->eof ? 0 : -EAGAIN;
	if (n > len)
		n = len;
	memcpy(buf, f->in + f->inoff, n);
	f->inoff += n;
	f->read_total += (u32)n;
	return (long)n;
}

static long fake_send(struct xkv_tcp *t, const void *buf, size_t len)
{
	struct fake *f = fake_of(t);

	check_not_ahead(f);
	if (!f->room)
		return -EAGAIN;
	if (len > f->room)
		len = f->room;
	if (f->room != NO_LIMIT)
		f->room -= len;
	if (f->outlen + len + 1 > f->outcap) {
		f->outcap = (f->outlen + len + 1) * 2;
		f->out = realloc(f->out, f->outcap);
		if (!f->out)
			tap_bail("out of memory");
	}
	memcpy(f->out + f->outlen, buf, len);
	f->outlen += len;
	f->out[f->outlen] = '\0';
	f->sent_total += (u32)len;
	return (long)len;
}

static void fake_shut(struct xkv_tcp *t)
{
	(void)t;
}

static const struct xkv_tcp_ops fake_ops = {
	.recv = fake_recv,
	.send = fake_send,
	.shut = fake_shut,
};

static struct xkv_store *st;
static struct xkv_tcp_ans *tab;

static void key4(struct xkv_tcp_ans *key, const char *c, u16 cport,
		 const char *s, u16 sport)
{
	struct in_addr ca, sa;

	if (inet_pton(AF_INET, c, &ca) != 1 || inet_pton(AF_INET, s, &sa) != 1)
		tap_bail("inet_pton");
	xkv_tcp_ans_key(key, 4, &ca, &sa, htons(cport), htons(sport));
}

static u32 index_of(const struct xkv_tcp_ans *key)
{
	return xkv_tcp_ans_index(key->caddr, key->saddr, key->cport,
				 key->sport);
}

static void tab_clear(void)
{
	memset(tab, 0, (size_t)XKV_TCP_ANS_SLOTS * sizeof(*tab));
}

/* what XDP does: the first LIVE entry of the run naming the connection */
static struct xkv_tcp_ans *lookup(const struct xkv_tcp_ans *key)
{
	u32 first = index_of(key), k;

	for (k = 0; k < XKV_TCP_ANS_PROBES; k++) {
		struct xkv_tcp_ans *e =
			&tab[(first + k) & (XKV_TCP_ANS_SLOTS - 1)];

		if (e->owner == XKV_TCP_ANS_LIVE && e->family == key->family &&
		    e->cport == key->cport && e->sport == key->sport &&
		    !memcmp(e->caddr, key->caddr, sizeof(e->caddr)) &&
		    !memcmp(e->saddr, key->saddr, sizeof(e->saddr)))
			return e;
	}
	return NULL;
}

static void test_key(void)
{
	struct xkv_tcp_ans key;
	struct in6_addr c6, s6;

	key4(&key, "10.1.2.3", 40000, "10.1.2.4", 11211);
	tap_is_u64(key.family, 4, "key: IPv4 family 4");
	tap_is_u64(key.caddr[0], htonl(0x0a010203), "key: client address");
	tap_ok(!key.caddr[1] && !key.caddr[2] && !key.caddr[3] &&
		       !key.saddr[1] && !key.saddr[2] && !key.saddr[3],
	       "key: IPv4 leaves words 1-3 zero");
	tap_is_u64(key.saddr[0], htonl(0x0a010204), "key: our address");
	tap_is_u64(key.cport, htons(40000), "key: client port, network order");
	tap_is_u64(key.sport, htons(11211), "key: our port, network order");

	inet_pton(AF_INET6, "2001:db8::1", &c6);
	inet_pton(AF_INET6, "2001:db8::2", &s6);
	xkv_tcp_ans_key(&key, 6, &c6, &s6, htons(1), htons(2));
	tap_ok(key.family == 6 && !memcmp(key.caddr, &c6, 16) &&
		       !memcmp(key.saddr, &s6, 16),
	       "key: IPv6 takes all 16 bytes");
}

static void test_claim_release(void)
{
	struct xkv_tcp_ans key, *e;
	u32 idx;

	tab_clear();
	key4(&key, "10.0.0.1", 40000, "10.0.0.2", 11211);
	idx = index_of(&key);
	e = xkv_tcp_ans_claim(tab, &key);
	tap_ok(e == &tab[idx], "claim: the entry at xkv_tcp_ans_index()");
	tap_is_u64(e->owner, XKV_TCP_ANS_LIVE, "claim: LIVE");
	tap_ok(e->family == 4 && e->cport == key.cport &&
		       e->sport == key.sport && e->caddr[0] == key.caddr[0] &&
		       e->saddr[0] == key.saddr[0] &&
		       e->proto == XKV_TCP_PROTO_NONE,
	       "claim: addresses and ports written");
	tap_ok(!e->done && !e->hits, "claim: done and hits zero");
	tap_ok(lookup(&key) == e, "claim: XDP's lookup finds it");
	xkv_tcp_ans_release(e);
	tap_is_u64(e->owner, XKV_TCP_ANS_FREE, "release: FREE");
	tap_ok(!lookup(&key), "release: XDP's lookup no longer finds it");
	tap_ok(xkv_tcp_ans_claim(tab, &key) == e, "claim again: same entry");
	xkv_tcp_ans_release(e);

	/* entries claimed before are zeroed on the next claim */
	e->done = 77;
	e->hits = 5;
	e = xkv_tcp_ans_claim(tab, &key);
	tap_ok(!e->done && !e->hits, "a reused entry starts at zero");
	xkv_tcp_ans_release(e);
}

static void test_probe(void)
{
	struct xkv_tcp_ans key, *e;
	u32 idx, k;
	u16 port;

	tab_clear();
	key4(&key, "10.0.0.1", 40001, "10.0.0.2", 11211);
	idx = index_of(&key);
	tab[idx].owner = XKV_TCP_ANS_LIVE;
	tab[idx].family = 6;
	tab[(idx + 1) & (XKV_TCP_ANS_SLOTS - 1)].owner = XKV_TCP_ANS_BUSY;
	e = xkv_tcp_ans_claim(tab, &key);
	tap_ok(e == &tab[(idx + 2) & (XKV_TCP_ANS_SLOTS - 1)],
	       "probe: skips a LIVE and a BUSY entry");
	tap_ok(lookup(&key) == e, "probe: XDP's lookup finds it further on");
	xkv_tcp_ans_release(e);

	tab_clear();
	for (k = 0; k < XKV_TCP_ANS_PROBES; k++)
		tab[(idx + k) & (XKV_TCP_ANS_SLOTS - 1)].owner =
			XKV_TCP_ANS_LIVE;
	tap_ok(!xkv_tcp_ans_claim(tab, &key),
	       "probe: no free entry in the run: none");
	tab[(idx + XKV_TCP_ANS_PROBES) & (XKV_TCP_ANS_SLOTS - 1)].owner =
		XKV_TCP_ANS_FREE;
	tap_ok(!xkv_tcp_ans_claim(tab, &key),
	       "probe: an entry past the run is not taken");

	/* a run that starts at the last entry goes on at the first */
	tab_clear();
	for (port = 1; port; port++) {
		key4(&key, "10.0.0.1", port, "10.0.0.2", 11211);
		if (index_of(&key) == XKV_TCP_ANS_SLOTS - 1)
			break;
	}
	if (!port)
		tap_bail("no port hashes to the last entry");
	tab[XKV_TCP_ANS_SLOTS - 1].owner = XKV_TCP_ANS_LIVE;
	e = xkv_tcp_ans_claim(tab, &key);
	tap_ok(e == &tab[0], "probe: wraps from the last entry to the first");
	tap_ok(lookup(&key) == e, "probe: XDP's lookup wraps the same way");
}

static void test_collision(void)
{
	struct xkv_tcp_ans a, b, c, *ea, *eb, *ec;
	char addr[32];
	u32 idx, host;
	u16 port;
	int found = 0;

	tab_clear();
	key4(&a, "192.168.1.1", 50000, "192.168.1.2", 11211);
	idx = index_of(&a);
	/* two more connections whose runs start at the same entry */
	for (host = 2; host < 250 && found < 2; host++) {
		snprintf(addr, sizeof(addr), "192.168.1.%u", host);
		for (port = 1; port && found < 2; port++) {
			struct xkv_tcp_ans *k = found ? &c : &b;

			key4(k, addr, port, "192.168.1.2", 11211);
			if (index_of(k) == idx)
				found++;
		}
	}
	if (found < 2)
		tap_bail("no colliding connections");
	ea = xkv_tcp_ans_claim(tab, &a);
	eb = xkv_tcp_ans_claim(tab, &b);
	tap_ok(ea == &tab[idx] &&
		       eb == &tab[(idx + 1) & (XKV_TCP_ANS_SLOTS - 1)],
	       "collision: the second takes the next entry");
	xkv_tcp_ans_release(ea);
	tap_ok(lookup(&b) == eb,
	       "collision: the second is found after a free one");
	tap_ok(!lookup(&a), "collision: the released one is gone");
	ec = xkv_tcp_ans_claim(tab, &c);
	tap_ok(ec == ea, "collision: a third takes the freed entry");
	tap_ok(lookup(&b) == eb && lookup(&c) == ec,
	       "collision: both found, each its own");
	xkv_tcp_ans_release(eb);
	xkv_tcp_ans_release(ec);
}

static void test_left_over(void)
{
	struct xkv_tcp_ans key, other, *e;
	u32 idx;

	tab_clear();
	key4(&key, "10.9.9.9", 33333, "10.9.9.1", 11211);
	key4(&other, "10.9.9.8", 33333, "10.9.9.1", 11211);
	idx = index_of(&key);
	/* an unrelated entry first, then one a dead backend left for us */
	tab[idx] = other;
	tab[idx].owner = XKV_TCP_ANS_LIVE;
	tab[(idx + 1) & (XKV_TCP_ANS_SLOTS - 1)] = key;
	tab[(idx + 1) & (XKV_TCP_ANS_SLOTS - 1)].owner = XKV_TCP_ANS_LIVE;
	tab[(idx + 1) & (XKV_TCP_ANS_SLOTS - 1)].done = 12345;
	e = xkv_tcp_ans_claim(tab, &key);
	tap_ok(e == &tab[(idx + 1) & (XKV_TCP_ANS_SLOTS - 1)],
	       "left over: a LIVE entry with our addresses is taken over");
	tap_ok(e->owner == XKV_TCP_ANS_LIVE && !e->done,
	       "left over: ... and starts again at zero");
	tap_ok(tab[idx].owner == XKV_TCP_ANS_LIVE && tab[idx].caddr[0] ==
							other.caddr[0],
	       "left over: the other connection's entry is left alone");

	tab[7].owner = XKV_TCP_ANS_BUSY;
	tap_is_u64(xkv_tcp_ans_reset(tab), 3, "reset: three entries in use");
	tap_ok(e->owner == XKV_TCP_ANS_FREE &&
		       tab[idx].owner == XKV_TCP_ANS_FREE &&
		       tab[7].owner == XKV_TCP_ANS_FREE,
	       "reset: all FREE");
	tap_is_u64(xkv_tcp_ans_reset(tab), 0, "reset: nothing left");
}

/* ---- the pump ---- */

static struct fake *fake_new(bool claim)
{
	struct fake *f = calloc(1, sizeof(*f));
	struct xkv_tcp_ans key;

	if (!f)
		tap_bail("out of memory");
	f->room = NO_LIMIT;
	if (xkv_tcp_init(&f->t, &fake_ops, st, xkv_store_stats_slot(st, 0)))
		tap_bail("xkv_tcp_init");
	key4(&key, "10.0.0.1", 41000, "10.0.0.2", 11211);
	if (claim && !xkv_tcp_fast_claim(&f->t, st, tab, &key))
		tap_bail("claim");
	return f;
}

static void fake_free(struct fake *f)
{
	tap_is_u64(f->ahead, 0, "never published ahead of a read or a send");
	xkv_tcp_fast_release(&f->t);
	xkv_tcp_release(&f->t);
	free(f->out);
	free(f);
}

static void feed(struct fake *f, const char *s)
{
	size_t n = strlen(s);

	if (f->inlen + n > sizeof(f->in))
		tap_bail("fake input full");
	memcpy(f->in + f->inlen, s, n);
	f->inlen += n;
}

static int pump(struct fake *f)
{
	return xkv_tcp_pump(&f->t, xkv_store_stats_slot(st, 0), true);
}

static u64 done_of(const struct fake *f)
{
	return f->t.ans->done;
}

/* everything read and sent so far, as published */
static u64 all_of(const struct fake *f)
{
	return xkv_tcp_ans_pack(f->read_total, f->sent_total);
}

#define HIT_K "VALUE k 0 5\r\nhello\r\nEND\r\n"

static void test_split_request(void)
{
	struct fake *f = fake_new(true);

	feed(f, "ge");
	tap_is_u64(pump(f), XKV_TCP_OPEN, "split: open");
	tap_is_u64(done_of(f), 0, "split: half a line: nothing published");
	feed(f, "t k\r");
	pump(f);
	tap_is_u64(done_of(f), 0, "split: no newline yet: nothing published");
	feed(f, "\n");
	pump(f);
	tap_is_str(f->out, HIT_K, "split: the reply");
	tap_is_u64(done_of(f), xkv_tcp_ans_pack(7, sizeof(HIT_K) - 1),
		   "split: whole line answered: done = 7 in, reply out");
	fake_free(f);
}

static void test_value_in_pieces(void)
{
	struct fake *f = fake_new(true);
	u64 before;

	feed(f, "get k\r\n");
	pump(f);
	before = done_of(f);
	tap_is_u64(before, all_of(f), "value: the get before is published");
	feed(f, "set v 0 0 10\r\n0123");
	pump(f);
	tap_ok(!f->t.in.len && !xkv_sess_between(f->t.sess),
	       "value: bytes consumed, but inside the value");
	tap_is_u64(done_of(f), before, "value: not published inside it");
	feed(f, "456789");
	pump(f);
	tap_is_u64(done_of(f), before,
		   "value: whole value, no \\r\\n: not yet");
	feed(f, "\r");
	pump(f);
	tap_is_u64(done_of(f), before, "value: \\r alone: not yet");
	feed(f, "\n");
	pump(f);
	tap_is_str(f->out + sizeof(HIT_K) - 1, "STORED\r\n", "value: STORED");
	tap_is_u64(done_of(f), all_of(f),
		   "value: published once the data block ends");
	tap_is_u64((u32)done_of(f), 7 + 14 + 12, "value: in counts every byte");

	/* a refused value is swallowed: inside it too */
	before = done_of(f);
	feed(f, "set v 0 0 2000000\r\nabc");
	pump(f);
	tap_ok(strstr(f->out, "SERVER_ERROR object too large for cache\r\n"),
	       "value: too large: its error is sent ...");
	tap_ok(!f->t.in.len && !xkv_tcp_out_pending(&f->t),
	       "value: ... nothing waits in the buffers ...");
	tap_is_u64(done_of(f), before,
		   "value: ... but its value is still swallowed: not published");
	fake_free(f);
}

static void test_pipelined(void)
{
	struct fake *f = fake_new(true);
	const char *want = HIT_K "END\r\nNOT_FOUND\r\n";

	feed(f, "get k\r\nget nokey\r\nset p 0 0 1 noreply\r\nx\r\n"
		"delete nokey\r\n");
	pump(f);
	tap_is_str(f->out, want, "pipelined: every reply, in order");
	tap_is_u64(done_of(f), all_of(f),
		   "pipelined: one publication for all of them");
	feed(f, "get k\r\nget k");
	pump(f);
	tap_is_u64(f->sent_total, strlen(want) + sizeof(HIT_K) - 1,
		   "pipelined: the complete get is answered");
	tap_ok(done_of(f) != all_of(f),
	       "pipelined: a partial line after it: not published");
	tap_is_u64(done_of(f), xkv_tcp_ans_pack(
					    (u32)strlen("get k\r\nget nokey\r\n"
						"set p 0 0 1 noreply\r\n"
						"x\r\ndelete nokey\r\n"),
					    (u32)strlen(want)),
		   "pipelined: the old value stays");
	feed(f, "\r\n");
	pump(f);
	tap_is_u64(done_of(f), all_of(f), "pipelined: line ends: published");
	feed(f, "set q 0 0 1 noreply\r\ny\r\n");
	pump(f);
	tap_is_u64(done_of(f), all_of(f),
		   "pipelined: noreply: in moves, out does not");
	fake_free(f);
}

static void test_partial_send(void)
{
	struct fake *f = fake_new(true);

	f->room = 10;
	feed(f, "get k\r\n");
	pump(f);
	tap_is_u64(f->sent_total, 10, "partial send: 10 bytes taken");
	tap_is_u64(done_of(f), 0, "partial send: not published");
	f->room = 5;
	pump(f);
	tap_is_u64(done_of(f), 0, "partial send: 15 bytes: not yet");
	f->room = NO_LIMIT;
	pump(f);
	tap_is_str(f->out, HIT_K, "partial send: the whole reply");
	tap_is_u64(done_of(f), xkv_tcp_ans_pack(7, sizeof(HIT_K) - 1),
		   "partial send: published once all of it is sent");
	fake_free(f);
}

static void test_backlog(void)
{
	struct fake *f = fake_new(true);
	size_t vlen = 200000, rounds = 0, want;
	char *v = malloc(vlen);

	if (!v)
		tap_bail("out of memory");
	memset(v, 'b', vlen);
	if (uu_store_op(st, XKV_OP_SET, "big", v, vlen, 0, 0, 0) != XKV_STORED)
		tap_bail("set big");
	free(v);
	want = 2 * (strlen("VALUE big 0 200000\r\n") + vlen + 7) +
	       sizeof(HIT_K) - 1;
	feed(f, "get big\r\nget big\r\nget k\r\n");
	f->room = 0;
	pump(f);
	tap_ok(f->t.in.backlog, "backlog: the last get waits");
	tap_is_u64(done_of(f), 0, "backlog: not published");
	while (f->sent_total < want && rounds++ < 100) {
		f->room = 65536;
		pump(f);
		if (f->sent_total < want && done_of(f))
			break;
	}
	tap_is_u64(f->sent_total, want, "backlog: every reply sent");
	tap_is_u64(done_of(f), all_of(f),
		   "backlog: published only at the end, with everything");
	fake_free(f);
}

static void test_only_when_changed(void)
{
	struct fake *f = fake_new(true);

	feed(f, "get k\r\n");
	pump(f);
	tap_is_u64(done_of(f), all_of(f), "changed: published");
	/* a store would overwrite the mark (old, so never ahead) */
	f->t.ans->done = xkv_tcp_ans_pack(1, 1);
	pump(f);
	pump(f);
	tap_is_u64(done_of(f), xkv_tcp_ans_pack(1, 1), "unchanged: no store");
	feed(f, "get k\r\n");
	pump(f);
	tap_is_u64(done_of(f), all_of(f), "changed again: stored");
	fake_free(f);
}

static void test_closing(void)
{
	struct fake *f = fake_new(true);

	feed(f, "get k\r\nquit\r\n");
	tap_is_u64(pump(f), XKV_TCP_DONE_CLOSING, "quit: closing");
	tap_is_u64(done_of(f), 0, "quit: nothing published");
	fake_free(f);

	f = fake_new(true);
	feed(f, "get k\r\n");
	f->eof = true;
	tap_is_u64(pump(f), XKV_TCP_DONE_EOF, "eof: done");
	tap_is_u64(done_of(f), 0, "eof: nothing published");
	fake_free(f);
}

static void test_wrap(void)
{
	struct fake *f = fake_new(true);
	int i;

	f->t.in_read = 0xfffffff0u;
	f->t.out_sent = 0xffffffffu;
	f->read_total = 0xfffffff0u;
	f->sent_total = 0xffffffffu;
	for (i = 0; i < 3; i++)
		feed(f, "get k\r\n");
	pump(f);
	tap_is_u64(done_of(f),
		   xkv_tcp_ans_pack(0xfffffff0u + 21,
				    0xffffffffu + 3 * (u32)(sizeof(HIT_K) - 1)),
		   "wrap: both counts wrap at 32 bits");
	tap_ok((u32)done_of(f) < 0x100 && (done_of(f) >> 32) < 0x100,
	       "wrap: ... past zero");
	fake_free(f);
}

static void test_hits_and_release(void)
{
	struct fake *f = fake_new(true);
	struct xkv_tcp_ans *e = f->t.ans;

	tap_ok(!xkv_tcp_fast_active(&f->t), "hits: none yet");
	e->hits += 3;
	tap_ok(xkv_tcp_fast_active(&f->t), "hits: a change is activity");
	tap_ok(!xkv_tcp_fast_active(&f->t), "hits: ... once");
	e->hits += 1;
	tap_ok(xkv_tcp_fast_active(&f->t), "hits: another change");

	xkv_tcp_fast_release(&f->t);
	tap_ok(!f->t.ans && e->owner == XKV_TCP_ANS_FREE,
	       "release: entry FREE, connection forgets it");
	e->done = 0xdeadULL;
	feed(f, "get k\r\n");
	pump(f);
	tap_is_str(f->out, HIT_K, "released: still served");
	tap_is_u64(e->done, 0xdeadULL, "released: the entry is not written");
	tap_ok(!xkv_tcp_fast_active(&f->t), "released: no activity from it");
	fake_free(f);
}

/* with -S (or -Y) XDP answers nothing: it cannot know who authenticated */
static void test_proto_auth(void)
{
	struct xkv_store *plain = st;
	struct xkv_settings set;
	struct fake *f;

	xkv_settings_default(&set, 1);
	set.maxbytes = 16ULL << 20;
	set.hash_power = 12;
	set.sasl = true;
	st = xkv_store_create(&set, 4);
	if (!st)
		tap_bail("xkv_store_create (-S) failed");
	f = fake_new(true);
	tap_is_u64(f->t.ans->proto, XKV_TCP_PROTO_OFF,
		   "proto: with -S the entry is claimed OFF");
	fake_free(f);
	xkv_store_destroy(st);
	st = plain;
}

/* the entry says what the connection's first byte chose, before XDP may
 * answer past it */
static void test_proto(void)
{
	static const char bin_noop[24] = { (char)0x80, 0x0a };
	struct fake *f = fake_new(true);

	tap_is_u64(f->t.ans->proto, XKV_TCP_PROTO_NONE,
		   "proto: nothing read, none yet");
	feed(f, "get k\r\n");
	pump(f);
	tap_is_u64(f->t.ans->proto, XKV_TCP_PROTO_TEXT,
		   "proto: a text command, text");
	fake_free(f);

	f = fake_new(true);
	memcpy(f->in, bin_noop, sizeof(bin_noop));
	f->inlen = sizeof(bin_noop);
	pump(f);
	tap_is_u64(f->t.ans->proto, XKV_TCP_PROTO_BIN,
		   "proto: a binary NOOP, binary");
	tap_is_u64(done_of(f), xkv_tcp_ans_pack(24, 24),
		   "proto: ... published with the NOOP's count");
	fake_free(f);
	test_proto_auth();
}

static void test_unclaimed(void)
{
	u64 before = uu_stat(st, "tcp_fast_unclaimed");
	struct xkv_tcp_ans key;
	struct fake *f;
	u32 idx, k;

	tab_clear();
	key4(&key, "10.0.0.1", 41000, "10.0.0.2", 11211);
	idx = index_of(&key);
	for (k = 0; k < XKV_TCP_ANS_PROBES; k++)
		tab[(idx + k) & (XKV_TCP_ANS_SLOTS - 1)].owner =
			XKV_TCP_ANS_LIVE;
	f = fake_new(false);
	tap_ok(!xkv_tcp_fast_claim(&f->t, st, tab, &key) && !f->t.ans,
	       "full: the claim fails");
	tap_is_u64(uu_stat(st, "tcp_fast_unclaimed"), before + 1,
		   "full: counted in stats");
	feed(f, "get k\r\n");
	pump(f);
	tap_is_str(f->out, HIT_K, "full: served all the same");
	fake_free(f);
	tab_clear();
}

int main(void)
{
	tab = calloc(XKV_TCP_ANS_SLOTS, sizeof(*tab));
	if (!tab)
		tap_bail("out of memory");
	st = uu_store_new(64ULL << 20, 16);
	if (uu_set(st, "k", "hello") != XKV_STORED)
		tap_bail("set k");

	test_key();
	test_claim_release();
	test_probe();
	test_collision();
	test_left_over();

	tab_clear();
	test_split_request();
	test_value_in_pieces();
	test_pipelined();
	test_partial_send();
	test_backlog();
	test_only_when_changed();
	test_closing();
	test_wrap();
	test_hits_and_release();
	test_unclaimed();
	test_proto();

	xkv_store_destroy(st);
	free(tab);
	return tap_done();
}
