// SPDX-License-Identifier: GPL-2.0
/*
 * xkv-stream.c - check that a memcached server's TCP streams are never
 * wrong: a small static C counterpart of tests/net/stream.py for the VM
 * (no python there).
 *
 *   xkv-stream [-h HOST] [-p PORT] [-c WRITERS] [-r READERS] [-d SECS]
 *              [-b BATCH] [-m mix|get] [-s SEED] [-E]
 *
 * Writers (-c, default 2) each own their keys, so their model of them is
 * exact. A writer sends a batch of 1 to -b (default 12) random get,
 * multi-key get, gets, set, delete, append, incr and cas commands (set
 * and delete sometimes noreply) in one write(), then checks every reply,
 * in order and byte for byte, against its model before the next batch.
 * Now and then a batch is one plain "get" of a hot key: what the TCP
 * fast path answers. With -m get, nearly every batch is one.
 *
 * Readers (-r, default 1) send one "get" or "gets" line of 1 to 4 keys of
 * any writer at a time and check that each value (or miss) is one a
 * writer wrote, never older than the newest write acknowledged to the
 * writer when the read was sent. Writers publish, per key and write, a
 * hash of the value it leaves (0: absent) in shared memory. Key names
 * carry the seed (-s), so a run never sees an earlier run's values.
 *
 * Every connection is its own process. The run ends after -d seconds
 * (default 5); a connection silent for 20 s with a reply owed fails. On
 * the first wrong byte it prints the connection, the batch, what was
 * expected and what came, and exits 1. With -E, a connection the server
 * closes or resets ends without failing (bytes before that are still
 * checked) and the run ends when all connections have ended or after -d
 * seconds: for taking the server away under load. Exit 0 prints one line:
 * "stream: ..." with what was checked.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_CONNS	32
#define NKEYS		8	/* plain keys per writer; 0 and 1 are hot */
#define NCTRS		2	/* counter keys per writer */
#define KEYS		(NKEYS + NCTRS)
#define RING		4096	/* writes remembered per key */
#define VAL_MAX		2000	/* no append past this */
#define MAX_BATCH	32
#define STALL_MS	20000
#define BUF_MAX		(256 * 1024)

/* what a writer publishes per key, for the readers */
struct shkey {
	uint32_t sent;		/* newest write sent */
	uint32_t acked;		/* newest write acknowledged */
	uint32_t hash[RING];	/* value hash after write N % RING */
};

struct shared {
	struct shkey key[MAX_CONNS][KEYS];
	unsigned long batches[MAX_CONNS];
	unsigned long ops[MAX_CONNS];
	int closed[MAX_CONNS];
};

struct key {
	char name[48];
	int present;
	uint32_t flags;
	size_t len;
	char data[VAL_MAX + 64];
	uint32_t gen;
	int cas_ok;		/* cas holds the CAS of the current value */
	int cas_stale;		/* cas is of an older value */
	unsigned long long cas;
};

/* one piece of an expected reply: bytes, or a CAS number for key k */
struct seg {
	const char *lit;
	size_t len;
	int cas_key;		/* -1: literal */
	uint32_t cas_gen;
};

static const char *host = "127.0.0.1";
static const char *port = "11211";
static int writers = 2, readers = 1, secs = 5, batch_max = 12;
static int get_mode, tolerate_close;
static unsigned int seed;
static struct shared *sh;
static int me;			/* connection index */
static int sock = -1;
static struct timespec deadline;
static char rbuf[BUF_MAX];
static size_t rlen;
static char batch[BUF_MAX];
static size_t blen;
static char lits[BUF_MAX];
static size_t llen;
static struct seg segs[MAX_BATCH * 16];
static int nsegs;
static struct key keys[KEYS];
static uint64_t rng;
static FILE *msg;		/* where a mismatch is described */
static const struct seg *expect;	/* the reply part that differed */

static uint32_t rnd(uint32_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return n ? (uint32_t)(rng % n) : 0;
}

static uint32_t vhash(uint32_t flags, const char *d, size_t len)
{
	uint32_t h = 2166136261u;
	size_t i;

	for (i = 0; i < 4; i++)
		h = (h ^ ((flags >> (8 * i)) & 0xff)) * 16777619u;
	for (i = 0; i < len; i++)
		h = (h ^ (unsigned char)d[i]) * 16777619u;
	return h | 1;
}

static int past_deadline(void)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return now.tv_sec > deadline.tv_sec ||
	       (now.tv_sec == deadline.tv_sec &&
		now.tv_nsec >= deadline.tv_nsec);
}

/* printable form of up to max bytes */
static void show(const char *what, const char *b, size_t n, size_t max)
{
	FILE *out = msg ? msg : stderr;
	size_t i;

	fprintf(out, "  %s (%zu bytes): ", what, n);
	for (i = 0; i < n && i < max; i++) {
		unsigned char c = (unsigned char)b[i];

		if (c == '\r')
			fputs("\\r", out);
		else if (c == '\n')
			fputs("\\n", out);
		else if (c < 32 || c > 126)
			fprintf(out, "\\x%02x", c);
		else
			fputc(c, out);
	}
	if (n > max)
		fputs("...", out);
	fputc('\n', out);
}

static void __attribute__((noreturn, format(printf, 1, 2)))
mismatch(const char *fmt, ...)
{
	char *text = NULL;
	size_t size = 0;
	va_list ap;

	/* one write, not interleaved with another connection's report */
	msg = open_memstream(&text, &size);
	if (!msg)
		msg = stderr;
	fprintf(msg, "stream: MISMATCH on %s %d: ",
		me < writers ? "writer" : "reader", me);
	va_start(ap, fmt);
	vfprintf(msg, fmt, ap);
	va_end(ap);
	fputc('\n', msg);
	if (expect)
		show("expected", expect->lit, expect->len, 1500);
	show("batch sent in one write", batch, blen, 3000);
	show("got", rbuf, rlen, 1500);
	if (msg != stderr && !fclose(msg))
		fputs(text, stderr);
	exit(1);
}

static void __attribute__((noreturn)) closed(void)
{
	if (!tolerate_close)
		mismatch("the server closed the connection");
	__atomic_store_n(&sh->closed[me], 1, __ATOMIC_RELAXED);
	exit(0);
}

static void connect_server(void)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *ai;
	int one = 1, err;

	err = getaddrinfo(host, port, &hints, &ai);
	if (err) {
		fprintf(stderr, "stream: %s: %s\n", host, gai_strerror(err));
		exit(2);
	}
	sock = socket(ai->ai_family, SOCK_STREAM, 0);
	if (sock < 0 || connect(sock, ai->ai_addr, ai->ai_addrlen)) {
		fprintf(stderr, "stream: connect %s:%s: %s\n", host, port,
			strerror(errno));
		exit(2);
	}
	freeaddrinfo(ai);
	/* half of them leave Nagle on */
	if (me % 2 == 0)
		setsockopt(sock, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

/* write the batch whole, reading replies meanwhile (no deadlock) */
static int fill(int timeout);

static void send_batch(void)
{
	size_t off = 0;
	ssize_t n;

	while (off < blen) {
		n = send(sock, batch + off, blen - off,
			 MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n > 0) {
			off += (size_t)n;
			continue;
		}
		if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
			if (errno == EPIPE || errno == ECONNRESET)
				closed();
			mismatch("send: %s", strerror(errno));
		}
		if (fill(50) < 0)
			closed();
	}
}

/*
 * fill: read what is there (waiting up to timeout ms); 1 when bytes came,
 * 0 when none, -1 at EOF or reset
 */
static int fill(int timeout)
{
	struct pollfd p = { .fd = sock, .events = POLLIN };
	ssize_t n;

	if (rlen == sizeof(rbuf))
		mismatch("more than %zu bytes of reply", sizeof(rbuf));
	if (poll(&p, 1, timeout) <= 0)
		return 0;
	n = recv(sock, rbuf + rlen, sizeof(rbuf) - rlen, MSG_DONTWAIT);
	if (n > 0) {
		rlen += (size_t)n;
		return 1;
	}
	if (n == 0 || errno == ECONNRESET)
		return -1;
	if (errno == EAGAIN || errno == EINTR)
		return 0;
	mismatch("recv: %s", strerror(errno));
}

/* need: at least n bytes in rbuf, or fail/close after a stall */
static void need(size_t n)
{
	int waited = 0, r;

	while (rlen < n) {
		r = fill(1000);
		if (r < 0)
			closed();
		if (r == 0 && (waited += 1000) >= STALL_MS)
			mismatch("no reply for %d s (%zu of %zu bytes)",
				 STALL_MS / 1000, rlen, n);
		if (r > 0)
			waited = 0;
	}
}

/* --- writers ------------------------------------------------------------ */

static void bput(const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(batch + blen, sizeof(batch) - blen, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(batch) - blen)
		abort();
	blen += (size_t)n;
}

static void bdata(const char *d, size_t n)
{
	memcpy(batch + blen, d, n);
	blen += n;
	bput("\r\n");
}

/* an expected literal, appended to the previous one when it can be */
static void want(const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(lits + llen, sizeof(lits) - llen, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(lits) - llen)
		abort();
	if (nsegs && segs[nsegs - 1].cas_key < 0 &&
	    segs[nsegs - 1].lit + segs[nsegs - 1].len == lits + llen) {
		segs[nsegs - 1].len += (size_t)n;
	} else {
		segs[nsegs].lit = lits + llen;
		segs[nsegs].len = (size_t)n;
		segs[nsegs].cas_key = -1;
		nsegs++;
	}
	llen += (size_t)n;
}

static void want_data(const char *d, size_t n)
{
	if (llen + n + 2 > sizeof(lits))
		abort();
	if (nsegs && segs[nsegs - 1].cas_key < 0 &&
	    segs[nsegs - 1].lit + segs[nsegs - 1].len == lits + llen) {
		segs[nsegs - 1].len += n;
	} else {
		segs[nsegs].lit = lits + llen;
		segs[nsegs].len = n;
		segs[nsegs].cas_key = -1;
		nsegs++;
	}
	memcpy(lits + llen, d, n);
	llen += n;
	want("\r\n");
}

static void want_cas(int k)
{
	segs[nsegs].cas_key = k;
	segs[nsegs].cas_gen = keys[k].gen;
	segs[nsegs].lit = NULL;
	segs[nsegs].len = 0;
	nsegs++;
}

/* the writer changed key k: a new write, published before it is sent */
static void wrote(int k)
{
	struct key *key = &keys[k];
	struct shkey *s = &sh->key[me][k];

	key->gen++;
	s->hash[key->gen % RING] = key->present ?
		vhash(key->flags, key->data, key->len) : 0;
	__atomic_store_n(&s->sent, key->gen, __ATOMIC_RELEASE);
	if (key->cas_ok) {
		key->cas_ok = 0;
		key->cas_stale = 1;
	}
}

static void want_value(int k, int with_cas)
{
	struct key *key = &keys[k];

	if (!key->present)
		return;
	want("VALUE %s %u %zu", key->name, key->flags, key->len);
	if (with_cas) {
		want(" ");
		want_cas(k);
	}
	want("\r\n");
	want_data(key->data, key->len);
}

static int hot_key(void)
{
	return rnd(4) ? (int)rnd(2) : (int)rnd(NKEYS);
}

static void new_value(struct key *key, size_t len)
{
	size_t i;

	key->len = (size_t)snprintf(key->data, sizeof(key->data), "%d.%u:",
				    me, key->gen + 1);
	for (i = key->len; i < len; i++)
		key->data[i] = (char)('a' + rnd(26));
	if (len > key->len)
		key->len = len;
}

static size_t value_len(void)
{
	switch (rnd(10)) {
	case 0:
		return 200 + rnd(1200);
	case 1:
		return 0;
	default:
		return 8 + rnd(60);
	}
}

/* one random command into the batch; returns whether it has a reply */
static int add_command(int last)
{
	struct key *key;
	int k, kind, n, i, noreply, ks[4];
	unsigned long long delta;
	char num[32];

	kind = (int)rnd(100);
	if (kind < 25) {			/* get */
		k = hot_key();
		bput("get %s\r\n", keys[k].name);
		want_value(k, 0);
		want("END\r\n");
		return 1;
	}
	if (kind < 35) {			/* multi-key get(s) */
		n = 2 + (int)rnd(3);
		for (i = 0; i < n; i++)
			ks[i] = (int)rnd(KEYS);
		bput(kind < 30 ? "get" : "gets");
		for (i = 0; i < n; i++)
			bput(" %s", keys[ks[i]].name);
		bput("\r\n");
		for (i = 0; i < n; i++)
			want_value(ks[i], kind >= 30);
		want("END\r\n");
		return 1;
	}
	if (kind < 45) {			/* gets */
		k = hot_key();
		bput("gets %s\r\n", keys[k].name);
		want_value(k, 1);
		want("END\r\n");
		return 1;
	}
	noreply = !last && rnd(5) == 0;
	if (kind < 68) {			/* set */
		k = rnd(5) ? hot_key() : (int)rnd(KEYS);
		key = &keys[k];
		key->present = 1;
		key->flags = rnd(3) ? 0 : rnd(65536);
		if (k >= NKEYS) {
			key->len = (size_t)snprintf(key->data,
						    sizeof(key->data), "%u",
						    rnd(1000000));
		} else {
			new_value(key, value_len());
		}
		bput("set %s %u 0 %zu%s\r\n", key->name, key->flags,
		     key->len, noreply ? " noreply" : "");
		bdata(key->data, key->len);
		wrote(k);
		if (!noreply)
			want("STORED\r\n");
		return !noreply;
	}
	if (kind < 74) {			/* delete */
		k = (int)rnd(KEYS);
		key = &keys[k];
		bput("delete %s%s\r\n", key->name, noreply ? " noreply" : "");
		if (!noreply)
			want(key->present ? "DELETED\r\n" : "NOT_FOUND\r\n");
		if (key->present) {
			key->present = 0;
			wrote(k);
		}
		return !noreply;
	}
	if (kind < 84) {			/* append */
		k = (int)rnd(NKEYS);
		key = &keys[k];
		n = snprintf(num, sizeof(num), "+%d.%u", me, key->gen + 1);
		if (key->present && key->len + (size_t)n > VAL_MAX)
			k = -1;
		if (k < 0) {			/* too long: a get instead */
			bput("get %s\r\n", key->name);
			want_value((int)(key - keys), 0);
			want("END\r\n");
			return 1;
		}
		bput("append %s 0 0 %d\r\n%s\r\n", key->name, n, num);
		if (key->present) {
			memcpy(key->data + key->len, num, (size_t)n);
			key->len += (size_t)n;
			wrote(k);
			want("STORED\r\n");
		} else {
			want("NOT_STORED\r\n");
		}
		return 1;
	}
	if (kind < 94) {			/* incr */
		k = NKEYS + (int)rnd(NCTRS);
		key = &keys[k];
		delta = 1 + rnd(1000);
		bput("incr %s %llu\r\n", key->name, delta);
		if (key->present) {
			delta += strtoull(key->data, NULL, 10);
			key->len = (size_t)snprintf(key->data,
						    sizeof(key->data),
						    "%llu", delta);
			wrote(k);
			want("%llu\r\n", delta);
		} else {
			want("NOT_FOUND\r\n");
		}
		return 1;
	}
	/* cas: with the CAS of the current value, or an older one */
	k = (int)rnd(NKEYS);
	key = &keys[k];
	if (!key->cas_ok && !key->cas_stale) {
		bput("gets %s\r\n", key->name);
		want_value(k, 1);
		want("END\r\n");
		return 1;
	}
	if (!key->present) {
		bput("cas %s 0 0 1 %llu\r\nx\r\n", key->name, key->cas);
		want("NOT_FOUND\r\n");
		return 1;
	}
	if (key->cas_stale) {
		bput("cas %s 0 0 1 %llu\r\nx\r\n", key->name, key->cas);
		want("EXISTS\r\n");
		return 1;
	}
	key->flags = 7;
	new_value(key, value_len());
	bput("cas %s %u 0 %zu %llu\r\n", key->name, key->flags, key->len,
	     key->cas);
	bdata(key->data, key->len);
	wrote(k);
	want("STORED\r\n");
	return 1;
}

/* check the whole reply to the batch against segs[] */
static void check_replies(void)
{
	size_t pos = 0, end, done, n;
	int i, k;

	for (i = 0; i < nsegs; i++) {
		if (segs[i].cas_key < 0) {
			/* byte by byte as they come: a wrong byte fails at
			 * once, not after a stall */
			for (done = 0; done < segs[i].len; done += n) {
				need(pos + done + 1);
				n = rlen - pos - done;
				if (n > segs[i].len - done)
					n = segs[i].len - done;
				if (!memcmp(rbuf + pos + done,
					    segs[i].lit + done, n))
					continue;
				expect = &segs[i];
				mismatch("wrong reply at byte %zu", pos);
			}
			pos += segs[i].len;
			continue;
		}
		/* a CAS: digits up to the "\r\n" that follows */
		end = pos;
		for (;;) {
			need(end + 1);
			if (rbuf[end] < '0' || rbuf[end] > '9')
				break;
			end++;
		}
		if (end == pos || end - pos > 20)
			mismatch("no CAS number at reply byte %zu", pos);
		k = segs[i].cas_key;
		if (keys[k].gen == segs[i].cas_gen) {
			keys[k].cas = strtoull(rbuf + pos, NULL, 10);
			keys[k].cas_ok = 1;
			keys[k].cas_stale = 0;
		}
		pos = end;
	}
	/* nothing more may come: give it a moment only at the end */
	if (rlen > pos)
		mismatch("%zu bytes more than the replies owed", rlen - pos);
}

static void writer(void)
{
	int i, n, k, replies, last;

	for (k = 0; k < KEYS; k++)
		snprintf(keys[k].name, sizeof(keys[k].name), "x%x.w%d.%c%d",
			 seed, me, k < NKEYS ? 'k' : 'c', k);
	while (!past_deadline()) {
		blen = llen = 0;
		nsegs = 0;
		replies = 0;
		if (get_mode ? rnd(10) != 0 : rnd(3) == 0) {
			/* one plain get of a hot key: the fast path's case */
			k = hot_key();
			bput("get %s\r\n", keys[k].name);
			want_value(k, 0);
			want("END\r\n");
			n = 1;
		} else {
			n = 1 + (int)rnd((uint32_t)batch_max);
			for (i = 0; i < n; i++) {
				last = i == n - 1;
				replies += add_command(last);
			}
		}
		rlen = 0;
		send_batch();
		check_replies();
		/* every write of the batch is acknowledged now */
		for (k = 0; k < KEYS; k++)
			__atomic_store_n(&sh->key[me][k].acked, keys[k].gen,
					 __ATOMIC_RELEASE);
		sh->batches[me]++;
		sh->ops[me] += (unsigned long)n;
		(void)replies;
	}
}

/* --- readers ------------------------------------------------------------ */

/* value hash h (0: miss) of writer w's key k, read while acked was lo */
static void check_read(int w, int k, uint32_t lo, uint32_t h,
		       const char *name)
{
	struct shkey *s = &sh->key[w][k];
	uint32_t hi = __atomic_load_n(&s->sent, __ATOMIC_ACQUIRE), g;

	if (hi - lo >= RING - 1)
		return;			/* too far behind to tell */
	for (g = lo; g <= hi; g++)
		if (s->hash[g % RING] == h)
			return;
	mismatch("%s: %s is none of writes %u..%u (older than the newest acknowledged?)",
		 name, h ? "the value" : "a miss", lo, hi);
}

static void reader(void)
{
	int n, i, j, w[4], k[4], with_cas;
	uint32_t lo[4], flags;
	char name[48], *p, *eol;
	size_t pos, len;
	int seen[4];

	while (!past_deadline()) {
		n = 1 + (rnd(3) ? 0 : (int)rnd(4));
		with_cas = rnd(4) == 0;
		blen = 0;
		bput(with_cas ? "gets" : "get");
		for (i = 0; i < n; i++) {
			w[i] = (int)rnd((uint32_t)writers);
			k[i] = rnd(4) ? (int)rnd(2) : (int)rnd(KEYS);
			for (j = 0; j < i; j++)
				if (w[j] == w[i] && k[j] == k[i])
					break;
			if (j < i) {		/* no key twice */
				n = i;
				break;
			}
			lo[i] = __atomic_load_n(&sh->key[w[i]][k[i]].acked,
						__ATOMIC_ACQUIRE);
			bput(" x%x.w%d.%c%d", seed, w[i],
			     k[i] < NKEYS ? 'k' : 'c', k[i]);
			seen[i] = 0;
		}
		bput("\r\n");
		rlen = 0;
		send_batch();
		pos = 0;
		i = 0;
		for (;;) {
			/* a line */
			for (;;) {
				eol = memmem(rbuf + pos, rlen - pos, "\r\n", 2);
				if (eol)
					break;
				need(rlen + 1);
			}
			if (eol == rbuf + pos + 3 &&
			    !memcmp(rbuf + pos, "END", 3)) {
				pos += 5;
				break;
			}
			*eol = 0;
			p = rbuf + pos;
			if (sscanf(p, "VALUE %47s %u %zu", name, &flags,
				   &len) != 3)
				mismatch("not a VALUE line at byte %zu", pos);
			*eol = '\r';
			/* keys come back in request order, misses left out */
			for (; i < n; i++) {
				char want_name[48];

				snprintf(want_name, sizeof(want_name),
					 "x%x.w%d.%c%d", seed, w[i],
					 k[i] < NKEYS ? 'k' : 'c', k[i]);
				if (!strcmp(want_name, name))
					break;
			}
			if (i == n)
				mismatch("VALUE %s: not asked for, or out of order",
					 name);
			pos = (size_t)(eol - rbuf) + 2;
			need(pos + len + 2);
			if (memcmp(rbuf + pos + len, "\r\n", 2))
				mismatch("%s: value not ended by \\r\\n", name);
			check_read(w[i], k[i], lo[i],
				   vhash(flags, rbuf + pos, len), name);
			seen[i] = 1;
			pos += len + 2;
			i++;
		}
		if (rlen > pos)
			mismatch("bytes after END");
		for (i = 0; i < n; i++)
			if (!seen[i])
				check_read(w[i], k[i], lo[i], 0, "miss");
		sh->batches[me]++;
		sh->ops[me] += (unsigned long)n;
	}
}

static void usage(void)
{
	fputs("usage: xkv-stream [-h HOST] [-p PORT] [-c WRITERS] [-r READERS]\n"
	      "                  [-d SECS] [-b BATCH] [-m mix|get] [-s SEED] [-E]\n",
	      stderr);
	exit(2);
}

/*
 * A seed no earlier run in this boot had: key names carry it, and the
 * store keeps what earlier runs wrote, so a repeated seed would make this
 * run's fresh model meet another run's values. time(NULL) ^ getpid() did
 * repeat (two runs of the tcpfast suite a few seconds and a few pids
 * apart got the same one). From getrandom(2); if that fails, the
 * nanosecond clocks and the pid, mixed.
 */
static unsigned int fresh_seed(void)
{
	struct timespec m, r;
	unsigned int v;
	uint64_t x;

	if (getrandom(&v, sizeof(v), GRND_NONBLOCK) == sizeof(v))
		return v;
	clock_gettime(CLOCK_MONOTONIC, &m);
	clock_gettime(CLOCK_REALTIME, &r);
	x = (uint64_t)m.tv_sec * 1000000000u + (uint64_t)m.tv_nsec;
	x ^= ((uint64_t)r.tv_sec * 1000000000u + (uint64_t)r.tv_nsec) << 1;
	x ^= (uint64_t)getpid() << 40;
	/* splitmix64's finaliser: every input bit reaches every output bit */
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return (unsigned int)(x ^ (x >> 31));
}

int main(int argc, char **argv)
{
	int opt, i, status, rc = 0, nclosed = 0;
	unsigned long batches = 0, ops = 0;
	pid_t pids[MAX_CONNS];
	struct timespec t0, t1;
	double el;

	seed = fresh_seed();
	while ((opt = getopt(argc, argv, "h:p:c:r:d:b:m:s:E")) != -1) {
		switch (opt) {
		case 'h': host = optarg; break;
		case 'p': port = optarg; break;
		case 'c': writers = atoi(optarg); break;
		case 'r': readers = atoi(optarg); break;
		case 'd': secs = atoi(optarg); break;
		case 'b': batch_max = atoi(optarg); break;
		case 'm': get_mode = !strcmp(optarg, "get"); break;
		case 's': seed = (unsigned int)strtoul(optarg, NULL, 0); break;
		case 'E': tolerate_close = 1; break;
		default: usage();
		}
	}
	if (writers < 1 || readers < 0 || writers + readers > MAX_CONNS ||
	    secs < 1 || batch_max < 1 || batch_max > MAX_BATCH)
		usage();
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED) {
		perror("stream: mmap");
		return 2;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	deadline = t0;
	deadline.tv_sec += secs;
	signal(SIGPIPE, SIG_IGN);
	for (i = 0; i < writers + readers; i++) {
		pids[i] = fork();
		if (pids[i] < 0) {
			perror("stream: fork");
			return 2;
		}
		if (pids[i] == 0) {
			me = i;
			rng = ((uint64_t)seed << 16) ^ (uint64_t)(i + 1) *
			      0x9e3779b97f4a7c15ull;
			rnd(1);
			connect_server();
			if (i < writers)
				writer();
			else
				reader();
			exit(0);
		}
	}
	for (i = 0; i < writers + readers; i++) {
		if (waitpid(pids[i], &status, 0) < 0 || !WIFEXITED(status) ||
		    WEXITSTATUS(status)) {
			if (!rc)
				rc = WIFEXITED(status) ? WEXITSTATUS(status) :
				     1;
		}
		batches += sh->batches[i];
		ops += sh->ops[i];
		nclosed += sh->closed[i];
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	el = (double)(t1.tv_sec - t0.tv_sec) +
	     (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	if (rc) {
		fprintf(stderr, "stream: FAILED (seed %u)\n", seed);
		return rc;
	}
	printf("stream: %d writers, %d readers, %s: %lu batches, %lu commands checked in %.1f s (%.0f/s), %d connections closed by the server, seed %u\n",
	       writers, readers, get_mode ? "get" : "mix", batches, ops, el,
	       (double)ops / el, nclosed, seed);
	return 0;
}
