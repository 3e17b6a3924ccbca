// SPDX-License-Identifier: GPL-2.0
/*
 * The meta protocol (mg ms md ma mn me): every command and flag
 * memcached 1.6.18 accepts, their replies and error strings, quiet mode
 * with mn, base64 keys, stale/win tokens, pipelining, split segments and
 * UDP. Written against stock memcached 1.6.18 first; where a figure is
 * the server's own (CAS values, sizes) it is read, not assumed.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "prototest.h"

#define M_SPLIT_PIECE	3	/* bytes per send() in the split test */

/* Base64 (RFC 4648, padded) of a C string. */
static const char *b64(const char *s)
{
	static const char a[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
		"0123456789+/";
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s), i, o = 0;
	char *out = malloc(n / 3 * 4 + 5);
	const char *ret;

	if (!out)
		abort();
	for (i = 0; i + 3 <= n; i += 3) {
		out[o++] = a[p[i] >> 2];
		out[o++] = a[(p[i] & 3) << 4 | p[i + 1] >> 4];
		out[o++] = a[(p[i + 1] & 15) << 2 | p[i + 2] >> 6];
		out[o++] = a[p[i + 2] & 63];
	}
	if (i < n) {
		out[o++] = a[p[i] >> 2];
		if (i + 1 == n) {
			out[o++] = a[(p[i] & 3) << 4];
			out[o++] = '=';
		} else {
			out[o++] = a[(p[i] & 3) << 4 | p[i + 1] >> 4];
			out[o++] = a[(p[i + 1] & 15) << 2];
		}
		out[o++] = '=';
	}
	out[o] = '\0';
	ret = pt_str("%s", out);
	free(out);
	return ret;
}

/*
 * Send @req, read one line "<prefix><number><suffix>\r\n" and return the
 * number through @v.
 */
static bool m_num(struct conn *c, const char *req, const char *prefix,
		  const char *suffix, uint64_t *v)
{
	struct sbuf line;
	char *end;
	bool ok;

	sbuf_init(&line);
	ok = pt_line_prefix(c, req, prefix, &line);
	if (ok) {
		*v = strtoull(line.data + strlen(prefix), &end, 10);
		ok = pt_check(end != line.data + strlen(prefix) &&
			      !strcmp(end, pt_str("%s\r\n", suffix)),
			      "reply line \"%s\" is not %s<n>%s", line.data,
			      prefix, suffix);
	}
	sbuf_free(&line);
	return ok;
}

/* the key's CAS, from "mg <key> c" */
static uint64_t m_cas(struct conn *c, const char *k)
{
	uint64_t v = 0;

	m_num(c, pt_str("mg %s c\r\n", k), "HD c", "", &v);
	return v;
}

/* a number that may move by a second between two commands */
static void m_about(struct conn *c, const char *req, const char *prefix,
		    const char *suffix, uint64_t want)
{
	uint64_t v = 0;

	if (m_num(c, req, prefix, suffix, &v))
		pt_check(v == want || v + 1 == want || v == want + 1,
			 "%s<n>: got %" PRIu64 ", expected %" PRIu64
			 " (+-1)", prefix, v, want);
}

static void t_meta_mn(struct conn *c)
{
	pt_cmd(c, "mn\r\n", "MN\r\n");
	pt_cmd(c, "mn extra tokens\r\n", "MN\r\n");
}

static void t_meta_unknown(struct conn *c)
{
	pt_cmd(c, "mx\r\n", "ERROR\r\n");
	pt_cmd(c, "mg\r\n", "ERROR\r\n");
	pt_cmd(c, "ms\r\n", "ERROR\r\n");
	pt_cmd(c, "md\r\n", "ERROR\r\n");
	pt_cmd(c, "ma\r\n", "ERROR\r\n");
	pt_cmd(c, "me\r\n", "CLIENT_ERROR bad command line format\r\n");
	pt_cmd(c, "mgg foo\r\n", "ERROR\r\n");
	pt_cmd(c, "m\r\n", "ERROR\r\n");
	pt_cmd(c, "mn\r\n", "MN\r\n");
}

static void t_meta_get_miss(struct conn *c)
{
	const char *k = pt_key("k");

	pt_cmd(c, pt_str("mg %s v\r\n", k), "EN\r\n");
	pt_cmd(c, pt_str("mg %s\r\n", k), "EN\r\n");
	pt_cmd(c, pt_str("mg %s s v O123 k f\r\n", k),
	       pt_str("EN O123 k%s\r\n", k));
	pt_cmd(c, pt_str("mg %s v q\r\nmg %s q k\r\nmn\r\n", k, k), "MN\r\n");
}

static void t_meta_get_flags(struct conn *c)
{
	const char *k = pt_key("k");

	pt_cmd(c, pt_str("ms %s 3 F5\r\nbar\r\n", k), "HD\r\n");
	pt_cmd(c, pt_str("mg %s\r\n", k), "HD\r\n");
	pt_cmd(c, pt_str("mg %s v\r\n", k), "VA 3\r\nbar\r\n");
	pt_cmd(c, pt_str("mg %s s v f t\r\n", k),
	       "VA 3 s3 f5 t-1\r\nbar\r\n");
	/* return flags come back in the order asked */
	pt_cmd(c, pt_str("mg %s k O99 f s\r\n", k),
	       pt_str("HD k%s O99 f5 s3\r\n", k));
	pt_cmd(c, pt_str("mg %s O99 k q v\r\n", k),
	       pt_str("VA 3 O99 k%s\r\nbar\r\n", k));
	/* proxy flags P and L, and the other commands' flags, are ignored */
	pt_cmd(c, pt_str("mg %s P L F7 C1 D3 J4 I s\r\n", k), "HD s3\r\n");
	pt_cmd(c, pt_str("mg %s c\r\n", k),
	       pt_str("HD c%" PRIu64 "\r\n", m_cas(c, k)));
}

static void t_meta_get_ttl(struct conn *c)
{
	const char *k = pt_key("k");

	pt_cmd(c, pt_str("ms %s 1 T100\r\nx\r\n", k), "HD\r\n");
	m_about(c, pt_str("mg %s t\r\n", k), "HD t", "", 100);
	/* T sets a new TTL (a touch); t after it shows it */
	m_about(c, pt_str("mg %s T500 t\r\n", k), "HD t", "", 500);
	pt_cmd(c, pt_str("mg %s T0 t\r\n", k), "HD t-1\r\n");
	pt_cmd(c, pt_str("mg %s T-1\r\n", k), "HD\r\n");
	pt_cmd(c, pt_str("mg %s v\r\n", k), "EN\r\n");
	pt_cmd(c, pt_str("ms %s 1 T-1\r\nx\r\n", k), "HD\r\n");
	pt_cmd(c, pt_str("mg %s v\r\n", k), "EN\r\n");
}

static void t_meta_hit_before(struct conn *c)
{
	const char *k = pt_key("k");

	pt_cmd(c, pt_str("ms %s 1\r\nx\r\n", k), "HD\r\n");
	m_about(c, pt_str("mg %s h l\r\n", k), "HD h0 l", "", 0);
	pt_cmd(c, pt_str("mg %s h\r\n", k), "HD h1\r\n");
	/* u: no bump, the item stays unfetched */
	pt_cmd(c, pt_str("ms %s 1\r\nx\r\n", k), "HD\r\n");
	pt_cmd(c, pt_str("mg %s u h\r\n", k), "HD h0\r\n");
	pt_cmd(c, pt_str("mg %s h\r\n", k), "HD h0\r\n");
	pt_cmd(c, pt_str("mg %s h\r\n", k), "HD h1\r\n");
	/* a text get fetches too */
	pt_cmd(c, pt_str("ms %s 1\r\nx\r\n", k), "HD\r\n");
	pt_cmd(c, pt_str("get %s\r\n", k),
	       pt_str("VALUE %s 0 1\r\nx\r\nEND\r\n", k));
	pt_cmd(c, pt_str("mg %s h\r\n", k), "HD h1\r\n");
}

static void t_meta_set_modes(struct conn *c)
{
	const char *k = pt_key("k");

	pt_cmd(c, pt_str("ms %s 1 MR\r\nx\r\n", k), "NS\r\n");
	pt_cmd(c, pt_str("ms %s 1 MA\r\nx\r\n", k), "NS\r\n");
	pt_cmd(c, pt_str("ms %s 1 MP\r\nx\r\n", k), "NS\r\n");
	pt_cmd(c, pt_str("ms %s 2 ME\r\nab\r\n", k), "HD\r\n");
	pt_cmd(c, pt_str("ms %s 2 ME\r\nzz\r\n", k), "NS\r\n");
	pt_cmd(c, pt_str("ms %s 2 MA\r\ncd\r\n", k), "HD\r\n");
	pt_cmd(c, pt_str("ms %s 1 MP\r\n_\r\n", k), "HD\r\n");
	pt_cmd(c, pt_str("mg %s v\r\n", k), "VA 5\r\n_abcd\r\n");
	pt_cmd(c, pt_str("ms %s 2 MR F3\r\nxy\r\n", k), "HD\r\n");
	pt_cmd(c, pt_str("mg %s v f\r\n", k), "VA 2 f3\r\nxy\r\n");
	/* append keeps the old flags */
	pt_cmd(c, pt_str("ms %s 1 MA F9\r\nz\r\n", k), "HD\r\n");
	pt_cmd(c, pt_str("mg %s v f\r\n", k), "VA 3 f3\r\nxyz\r\n");
	pt_cmd(c, pt_str("ms %s 1 MS\r\n1\r\n", k), "HD\r\n");
	pt_cmd(c, pt_str("ms %s 1 MX\r\nx\r\nmn\r\n", k),
	       "CLIENT_ERROR invalid mode for ms M token\r\nMN\r\n");
	pt_cmd(c, pt_str("ms %s 1 MSS\r\nx\r\nmn\r\n", k),
	       "CLIENT_ERROR incorrect length for M token\r\nMN\r\n");
	pt_cmd(c, pt_str("mg %s v\r\n", k), "VA 1\r\n1\r\n");
}

static void t_meta_set_cas(struct conn *c)
{
	const char *k = pt_key("k"), *miss = pt_key("miss");
	uint64_t cas, got = 0;

	pt_cmd(c, pt_str("ms %s 1 C5\r\nx\r\n", miss), "NF\r\n");
	pt_cmd(c, pt_str("ms %s 1\r\nx\r\n", k), "HD\r\n");
	cas = m_cas(c, k);
	pt_cmd(c, pt_str("ms %s 1 C%" PRIu64 "\r\ny\r\n", k, cas + 1000),
	       "EX\r\n");
	pt_cmd(c, pt_str("ms %s 1 C0\r\ny\r\n", k), "EX\r\n");
	pt_cmd(c, pt_str("ms %s 1 C%" PRIu64 " MR\r\ny\r\n", k, cas),
	       "HD\r\n");
	pt_cmd(c, pt_str("ms %s 1 C%" PRIu64 "\r\nz\r\n", k, cas), "EX\r\n");
	pt_cmd(c, pt_str("mg %s v\r\n", k), "VA 1\r\ny\r\n");
	/* c returns the new CAS; append checks C too */
	if (!m_num(c, pt_str("ms %s 1 c\r\nq\r\n", k), "HD c", "", &got))
		return;
	pt_check(got == m_cas(c, k), "ms c returned the stored CAS");
	pt_cmd(c, pt_str("ms %s 1 MA C%" PRIu64 "\r\nr\r\n", k, got + 1),
	       "EX\r\n");
	pt_cmd(c, pt_str("ms %s 1 MA C%" PRIu64 "\r\nr\r\n", k, got),
	       "HD\r\n");
	pt_cmd(c, pt_str("ms %s 1 ME C1\r\nr\r\n", k), "NS\r\n");
}

static void t_meta_set_flags(struct conn *c)
{
	const char *k = pt_key("k");
	uint64_t got = 0;

	pt_cmd(c, pt_str("ms %s 3 O1 k q\r\nabc\r\nmn\r\n", k), "MN\r\n");
	pt_cmd(c, pt_str("ms %s 3 O1 k\r\nabc\r\n", k),
	       pt_str("HD O1 k%s\r\n", k));
	pt_cmd(c, pt_str("ms %s 3 k O1 MR\r\nabc\r\n", pt_key("none")),
	       pt_str("NS k%s O1\r\n", pt_key("none")));
	if (m_num(c, pt_str("ms %s 3 c ME\r\nabc\r\n", k), "NS c", "", &got))
		pt_check(got == 0, "c of a store that failed is 0");
	pt_cmd(c, pt_str("ms %s 1 F4294967295\r\nx\r\n", k), "HD\r\n");
	pt_cmd(c, pt_str("mg %s f\r\n", k), "HD f4294967295\r\n");
	pt_cmd(c, pt_str("ms %s 1 Fx\r\nx\r\nmn\r\n", k),
	       "CLIENT_ERROR bad command line format\r\nMN\r\n");
	/* ms ignores the flags it does not use */
	pt_cmd(c, pt_str("ms %s 1 s v t f h l u N5 R5 P L D1 J1\r\nx\r\n",
			 k), "HD\r\n");
	pt_cmd(c, pt_str("mg %s v t\r\n", k), "VA 1 t-1\r\nx\r\n");
}

static void t_meta_set_errors(struct conn *c)
{
	const char *k = pt_key("k");

	pt_cmd(c, pt_str("ms %s\r\n", k),
	       "CLIENT_ERROR bad command line format\r\n");
	/* a bad length: nothing is swallowed, the value is a command */
	pt_cmd(c, pt_str("ms %s bar\r\nmn\r\n", k),
	       "CLIENT_ERROR bad command line format\r\nMN\r\n");
	pt_cmd(c, pt_str("ms %s -1\r\n", k),
	       "CLIENT_ERROR bad command line format\r\n");
	pt_cmd(c, pt_str("ms %s 2\r\nabc\r\n", k),
	       "CLIENT_ERROR bad data chunk\r\nERROR\r\n");
	pt_cmd(c, pt_str("ms %s 2 q\r\nabcd\r\nmn\r\n", k),
	       "CLIENT_ERROR bad data chunk\r\nERROR\r\nMN\r\n");
	/* flag errors swallow the value */
	pt_cmd(c, pt_str("ms %s 1 v v\r\nx\r\nmn\r\n", k),
	       "CLIENT_ERROR duplicate flag\r\nMN\r\n");
	pt_cmd(c, pt_str("ms %s 1 x\r\nx\r\nmn\r\n", k),
	       "CLIENT_ERROR invalid flag\r\nMN\r\n");
	pt_cmd(c, pt_str("ms %s 1 S1\r\nx\r\nmn\r\n", k),
	       "CLIENT_ERROR invalid flag\r\nMN\r\n");
	pt_cmd(c, pt_str("ms %s 1 E5\r\nx\r\nmn\r\n", k),
	       "CLIENT_ERROR invalid flag\r\nMN\r\n");
	pt_cmd(c, pt_str("ms %s 1 Tx\r\nx\r\nmn\r\n", k),
	       "CLIENT_ERROR bad token in command line format\r\nMN\r\n");
	pt_cmd(c, pt_str("ms %s 1 O123456789012345678901234567890123\r\n"
			 "x\r\nmn\r\n", k),
	       "CLIENT_ERROR opaque token too long\r\nMN\r\n");
	pt_cmd(c, pt_str("mg %s v\r\n", k), "EN\r\n");
}

static void t_meta_too_large_clears(struct conn *c)
{
	const char *k = pt_key("k");
	struct sbuf req;

	pt_cmd(c, pt_str("ms %s 1\r\nx\r\n", k), "HD\r\n");
	sbuf_init(&req);
	sbuf_addf(&req, "ms %s 2000000\r\n", k);
	sbuf_fill(&req, 'v', 2000000);
	sbuf_adds(&req, "\r\nmn\r\n");
	pt_expect(c, req.data, req.len,
		  "SERVER_ERROR object too large for cache\r\nMN\r\n", 45);
	sbuf_free(&req);
	/* a failed store does not leave the old value readable */
	pt_cmd(c, pt_str("mg %s v\r\n", k), "EN\r\n");
}

static void t_meta_delete(struct conn *c)
{
	const char *k = pt_key("k");
	uint64_t cas;

	pt_cmd(c, pt_str("md %s\r\n", k), "NF\r\n");
	pt_cmd(c, pt_str("md %s q\r\nmn\r\n", k), "NF\r\nMN\r\n");
	pt_cmd(c, pt_str("ms %s 1\r\nx\r\n", k), "HD\r\n");
	pt_cmd(c, pt_str("md %s q\r\nmn\r\n", k), "MN\r\n");
	pt_cmd(c, pt_str("mg %s\r\n", k), "EN\r\n");
	pt_cmd(c, pt_str("ms %s 1\r\nx\r\n", k), "HD\r\n");
	pt_cmd(c, pt_str("md %s k O7\r\n", k), pt_str("HD k%s O7\r\n", k));
	pt_cmd(c, pt_str("md %s O7 k\r\n", k), pt_str("NF O7 k%s\r\n", k));
	pt_cmd(c, pt_str("ms %s 1\r\nx\r\n", k), "HD\r\n");
	cas = m_cas(c, k);
	pt_cmd(c, pt_str("md %s C%" PRIu64 "\r\n", k, cas + 1), "EX\r\n");
	pt_cmd(c, pt_str("md %s C%" PRIu64 " q\r\n", k, cas + 1), "EX\r\n");
	pt_cmd(c, pt_str("md %s C%" PRIu64 "\r\n", k, cas), "HD\r\n");
	pt_cmd(c, pt_str("md %s v v\r\n", k),
	       "CLIENT_ERROR invalid or duplicate flag\r\n");
	pt_cmd(c, pt_str("md %s x\r\n", k),
	       "CLIENT_ERROR invalid or duplicate flag\r\n");
	pt_cmd(c, pt_str("md %s O123456789012345678901234567890123\r\n", k),
	       "CLIENT_ERROR opaque token too long\r\n");
}

static void t_meta_invalidate(struct conn *c)
{
	const char *k = pt_key("k");
	uint64_t cas, cas2;

	pt_cmd(c, pt_str("ms %s 3 T100\r\nold\r\n", k), "HD\r\n");
	cas = m_cas(c, k);
	pt_cmd(c, pt_str("md %s I T30\r\n", k), "HD\r\n");
	/* the first reader after invalidation wins the token (W) */
	if (m_num(c, pt_str("mg %s c\r\n", k), "HD c", " X W", &cas2))
		pt_check(cas2 > cas, "invalidation gives a new CAS");
	pt_cmd(c, pt_str("mg %s v\r\n", k), "VA 3 Z X\r\nold\r\n");
	m_about(c, pt_str("mg %s t\r\n", k), "HD t", " Z X", 30);
	/* a text get still sees the stale value */
	pt_cmd(c, pt_str("get %s\r\n", k),
	       pt_str("VALUE %s 0 3\r\nold\r\nEND\r\n", k));
	/* I with an older CAS stores, but as stale, token kept */
	pt_cmd(c, pt_str("ms %s 3 I C%" PRIu64 "\r\nnew\r\n", k, cas),
	       "HD\r\n");
	pt_cmd(c, pt_str("mg %s v\r\n", k), "VA 3 Z X\r\nnew\r\n");
	/* a plain store makes it fresh */
	pt_cmd(c, pt_str("ms %s 3\r\nnow\r\n", k), "HD\r\n");
	pt_cmd(c, pt_str("mg %s v\r\n", k), "VA 3\r\nnow\r\n");
	/* I on md q: HD dropped */
	pt_cmd(c, pt_str("md %s I q\r\nmn\r\n", k), "MN\r\n");
	pt_cmd(c, pt_str("mg %s\r\n", k), "HD X W\r\n");
	/* I without a lower CAS is a plain CAS mismatch */
	pt_cmd(c, pt_str("ms %s 1 I C%" PRIu64 "\r\nx\r\n", k,
			 (uint64_t)1 << 60), "EX\r\n");
}

static void t_meta_vivify(struct conn *c)
{
	const char *k = pt_key("k");

	pt_cmd(c, pt_str("mg %s N30 v s\r\n", k), "VA 0 s0 W\r\n\r\n");
	pt_cmd(c, pt_str("mg %s N30 v s\r\n", k), "VA 0 s0 Z\r\n\r\n");
	m_about(c, pt_str("mg %s t\r\n", k), "HD t", " Z", 30);
	pt_cmd(c, pt_str("get %s\r\n", k),
	       pt_str("VALUE %s 0 0\r\n\r\nEND\r\n", k));
	/* the winner stores the real value */
	pt_cmd(c, pt_str("ms %s 3 T100\r\nabc\r\n", k), "HD\r\n");
	pt_cmd(c, pt_str("mg %s N30 v\r\n", k), "VA 3\r\nabc\r\n");
	/* recache: a TTL below R's wins once */
	pt_cmd(c, pt_str("mg %s R30 v\r\n", k), "VA 3\r\nabc\r\n");
	pt_cmd(c, pt_str("mg %s R200 v\r\n", k), "VA 3 W\r\nabc\r\n");
	pt_cmd(c, pt_str("mg %s R200 v\r\n", k), "VA 3 Z\r\nabc\r\n");
	/* quiet vivify: nothing on a miss turned hit either way */
	pt_cmd(c, pt_str("mg %s N30 q\r\nmn\r\n", pt_key("q")),
	       "HD W\r\nMN\r\n");
}

static void t_meta_arith(struct conn *c)
{
	const char *k = pt_key("k");

	pt_cmd(c, pt_str("ma %s\r\n", k), "NF\r\n");
	pt_cmd(c, pt_str("ma %s q\r\nmn\r\n", k), "NF\r\nMN\r\n");
	pt_cmd(c, pt_str("ma %s N0 J10 v\r\n", k), "VA 2\r\n10\r\n");
	pt_cmd(c, pt_str("ma %s v\r\n", k), "VA 2\r\n11\r\n");
	pt_cmd(c, pt_str("ma %s\r\n", k), "HD\r\n");
	pt_cmd(c, pt_str("ma %s v MD D5\r\n", k), "VA 1\r\n7\r\n");
	pt_cmd(c, pt_str("ma %s v M- D500\r\n", k), "VA 1\r\n0\r\n");
	pt_cmd(c, pt_str("ma %s v M+ D18446744073709551615\r\n", k),
	       "VA 20\r\n18446744073709551615\r\n");
	pt_cmd(c, pt_str("ma %s v MI\r\n", k), "VA 1\r\n0\r\n");
	pt_cmd(c, pt_str("ma %s q\r\nma %s q v\r\nmn\r\n", k, k), "MN\r\n");
	/* 20 digits wrapped to 0 in place: padded with spaces */
	pt_cmd(c, pt_str("mg %s v\r\n", k), pt_str("VA 20\r\n%-20s\r\n", "2"));
	pt_cmd(c, pt_str("ma %s O5 k v\r\n", k),
	       pt_str("VA 1 O5 k%s\r\n3\r\n", k));
	pt_cmd(c, pt_str("ma %s MX\r\n", k),
	       "CLIENT_ERROR invalid mode for ma M token\r\n");
	pt_cmd(c, pt_str("ma %s Dabc\r\n", k),
	       "CLIENT_ERROR invalid or duplicate flag\r\n");
	pt_cmd(c, pt_str("ma %s J-1\r\n", k),
	       "CLIENT_ERROR invalid or duplicate flag\r\n");
	pt_cmd(c, pt_str("ms %s 3\r\nabc\r\n", k), "HD\r\n");
	pt_cmd(c, pt_str("ma %s\r\n", k),
	       "CLIENT_ERROR cannot increment or decrement non-numeric "
	       "value\r\n");
	pt_cmd(c, pt_str("ms %s 0\r\n\r\n", k), "HD\r\n");
	pt_cmd(c, pt_str("ma %s\r\n", k),
	       "CLIENT_ERROR cannot increment or decrement non-numeric "
	       "value\r\n");
}

static void t_meta_arith_cas_ttl(struct conn *c)
{
	const char *k = pt_key("k"), *v = pt_key("viv");
	uint64_t cas, got = 0;

	pt_cmd(c, pt_str("ms %s 2 T100\r\n10\r\n", k), "HD\r\n");
	cas = m_cas(c, k);
	pt_cmd(c, pt_str("ma %s C%" PRIu64 "\r\n", k, cas + 7), "EX\r\n");
	pt_cmd(c, pt_str("ma %s C%" PRIu64 " O1 k\r\n", k, cas + 7),
	       pt_str("EX O1 k%s\r\n", k));
	if (m_num(c, pt_str("ma %s C%" PRIu64 " c\r\n", k, cas), "HD c", "",
		  &got))
		pt_check(got > cas && got == m_cas(c, k),
			 "ma c returns the new CAS");
	m_about(c, pt_str("ma %s t\r\n", k), "HD t", "", 100);
	pt_cmd(c, pt_str("ma %s T0 t v\r\n", k), "VA 2 t-1\r\n13\r\n");
	/* a created item answers even in quiet mode; N sets its TTL */
	pt_cmd(c, pt_str("ma %s N0 J5 q v\r\n", v), "VA 1\r\n5\r\n");
	pt_cmd(c, pt_str("ma %s q v\r\nmn\r\n", v), "MN\r\n");
	pt_cmd(c, pt_str("md %s q\r\n", v), "");
	m_about(c, pt_str("ma %s N50 J5 t\r\n", v), "HD t", "", 50);
	pt_cmd(c, pt_str("ma %s N0 J18446744073709551615 MD v\r\n",
			 pt_key("big")),
	       "VA 20\r\n18446744073709551615\r\n");
	pt_cmd(c, pt_str("ma %s MD v\r\n", pt_key("big")),
	       "VA 20\r\n18446744073709551614\r\n");
}

static void t_meta_base64(struct conn *c)
{
	const char *k = pt_key("k"), *bk = b64(k);
	const char *bin = "\x01\x02\x03 \r\xff";
	const char *bb = b64(bin);

	pt_cmd(c, pt_str("ms %s 3 b k\r\nabc\r\n", bk),
	       pt_str("HD k%s b\r\n", bk));
	/* the same key as text */
	pt_cmd(c, pt_str("get %s\r\n", k),
	       pt_str("VALUE %s 0 3\r\nabc\r\nEND\r\n", k));
	pt_cmd(c, pt_str("mg %s b k v\r\n", bk),
	       pt_str("VA 3 k%s b\r\nabc\r\n", bk));
	/* k of an item stored with a base64 key is base64 */
	pt_cmd(c, pt_str("mg %s k\r\n", k), pt_str("HD k%s b\r\n", bk));
	pt_cmd(c, pt_str("md %s b q\r\nmn\r\n", bk), "MN\r\n");
	pt_cmd(c, pt_str("mg %s b k O2\r\n", bk),
	       pt_str("EN k%s b O2\r\n", bk));
	/* keys with bytes the text protocol cannot carry */
	pt_cmd(c, pt_str("ms %s 1 b\r\nx\r\n", bb), "HD\r\n");
	pt_cmd(c, pt_str("mg %s b v k\r\n", bb),
	       pt_str("VA 1 k%s b\r\nx\r\n", bb));
	pt_cmd(c, pt_str("ma %s b N0 J3 v\r\n", b64(pt_key("n"))),
	       "VA 1\r\n3\r\n");
	pt_cmd(c, pt_str("md %s b\r\n", bb), "HD\r\n");
	pt_cmd(c, "mg !!!! b\r\n", "CLIENT_ERROR error decoding key\r\n");
	pt_cmd(c, "mg Zm9 b\r\n", "CLIENT_ERROR error decoding key\r\n");
	pt_cmd(c, "md Zm9 b\r\n", "CLIENT_ERROR invalid or duplicate flag\r\n");
	pt_cmd(c, "ms Zm9 1 b\r\nx\r\nmn\r\n",
	       "CLIENT_ERROR error decoding key\r\nMN\r\n");
}

static void t_meta_debug(struct conn *c)
{
	const char *k = pt_key("k");
	struct sbuf line;

	pt_cmd(c, pt_str("me %s\r\n", k), "EN\r\n");
	pt_cmd(c, pt_str("ms %s 3\r\nabc\r\n", k), "HD\r\n");
	sbuf_init(&line);
	if (pt_line_prefix(c, pt_str("me %s\r\n", k),
			   pt_str("ME %s exp=-1 la=", k), &line))
		pt_check(strstr(line.data, pt_str(" cas=%" PRIu64
						  " fetch=no cls=",
						  m_cas(c, k))) &&
			 strstr(line.data, " size="),
			 "me line: %s", line.data);
	sbuf_free(&line);
	/* me does not fetch; mg does */
	pt_cmd(c, pt_str("mg %s\r\n", k), "HD\r\n");
	sbuf_init(&line);
	if (pt_line_prefix(c, pt_str("me %s b\r\n", b64(k)),
			   pt_str("ME %s exp=-1 la=", k), &line))
		pt_check(strstr(line.data, " fetch=yes cls=") != NULL,
			 "me line: %s", line.data);
	sbuf_free(&line);
	pt_cmd(c, "me !!! b\r\n", "CLIENT_ERROR bad command line format\r\n");
	pt_cmd(c, pt_str("ms %s 1 T100\r\nx\r\n", k), "HD\r\n");
	sbuf_init(&line);
	pt_line_prefix(c, pt_str("me %s\r\n", k), pt_str("ME %s exp=-", k),
		       &line);
	sbuf_free(&line);
}

static void t_meta_flag_errors(struct conn *c)
{
	const char *k = pt_key("k");
	const char *many = "k s t c f v h l O1 P L u F0 C0 D1 J1 R5";

	pt_cmd(c, pt_str("mg %s v v\r\n", k),
	       "CLIENT_ERROR duplicate flag\r\n");
	pt_cmd(c, pt_str("mg %s \x80\r\n", k),
	       "CLIENT_ERROR duplicate flag\r\n");
	pt_cmd(c, pt_str("mg %s x\r\n", k), "CLIENT_ERROR invalid flag\r\n");
	pt_cmd(c, pt_str("mg %s Tx\r\n", k),
	       "CLIENT_ERROR bad token in command line format\r\n");
	pt_cmd(c, pt_str("mg %s N\r\n", k),
	       "CLIENT_ERROR bad token in command line format\r\n");
	pt_cmd(c, pt_str("mg %s MXX\r\n", k),
	       "CLIENT_ERROR incorrect length for M token\r\n");
	pt_cmd(c, pt_str("mg %s J-5\r\n", k),
	       "CLIENT_ERROR invalid numeric initial value\r\n");
	pt_cmd(c, pt_str("mg %s Dx\r\n", k),
	       "CLIENT_ERROR invalid numeric delta value\r\n");
	/* errors are sent in quiet mode too */
	pt_cmd(c, pt_str("mg %s q O123456789012345678901234567890123\r\n",
			 k), "CLIENT_ERROR opaque token too long\r\n");
	pt_cmd(c, pt_str("mg %s O1234567890123456789012345678901\r\n", k),
	       "EN O1234567890123456789012345678901\r\n");
	pt_cmd(c, pt_str("mg %s O12345678901234567890123456789012\r\n", k),
	       "CLIENT_ERROR opaque token too long\r\n");
	/* at most 19 tokens, command and key included */
	pt_cmd(c, pt_str("mg %s %s\r\n", k, many), pt_str("EN k%s O1\r\n", k));
	pt_cmd(c, pt_str("mg %s %s I\r\n", k, many),
	       "CLIENT_ERROR options flags are too long\r\n");
	pt_cmd(c, pt_str("md %s %s I\r\n", k, many),
	       "CLIENT_ERROR options flags too long\r\n");
	pt_cmd(c, pt_str("ma %s %s I\r\n", k, many),
	       "CLIENT_ERROR options flags too long\r\n");
	pt_cmd(c, pt_str("ms %s 1 %s\r\n", k, many),
	       "CLIENT_ERROR options flags too long\r\n");
	pt_cmd(c, pt_str("mg %s\r\n", pt_str("%0251d", 7)),
	       "CLIENT_ERROR bad command line format\r\n");
	pt_cmd(c, pt_str("md %s\r\n", pt_str("%0251d", 7)),
	       "CLIENT_ERROR bad command line format\r\n");
}

/* One batch of quiet commands, closed by mn: only what must be said. */
static void t_meta_quiet_batch(struct conn *c)
{
	const char *a = pt_key("a"), *b = pt_key("b"), *m = pt_key("m");

	pt_cmd(c, pt_str("ms %s 1 q\r\nA\r\nms %s 1 q\r\nB\r\n"
			 "ms %s 1 q MR\r\nM\r\n"
			 "mg %s q v k\r\nmg %s q\r\nmg %s q v\r\n"
			 "md %s q\r\nmd %s q\r\nma %s q\r\nmn\r\n",
			 a, b, m, a, m, b, b, m, m),
	       pt_str("NS\r\nVA 1 k%s\r\nA\r\nVA 1\r\nB\r\nNF\r\nNF\r\n"
		      "MN\r\n", a));
}

/* Many commands in one write, answered in order. */
static void t_meta_pipeline(struct conn *c)
{
	struct sbuf req, want;
	const char *k;
	int i;

	sbuf_init(&req);
	sbuf_init(&want);
	for (i = 0; i < 50; i++) {
		k = pt_key(pt_str("%d", i));
		sbuf_addf(&req, "ms %s %d F%d O%d\r\nv%d\r\n", k,
			  i < 10 ? 2 : 3, i, i, i);
		sbuf_addf(&want, "HD O%d\r\n", i);
		sbuf_addf(&req, "mg %s v f O%d\r\n", k, i);
		sbuf_addf(&want, "VA %d f%d O%d\r\nv%d\r\n",
			  i < 10 ? 2 : 3, i, i, i);
		sbuf_addf(&req, "ma %s N0 J%d v\r\nmd %s q\r\n",
			  pt_key(pt_str("n%d", i)), i, k);
		sbuf_addf(&want, "VA %d\r\n%d\r\n", i < 10 ? 1 : 2, i);
	}
	sbuf_adds(&req, "mn\r\n");
	sbuf_adds(&want, "MN\r\n");
	pt_expect(c, req.data, req.len, want.data, want.len);
	sbuf_free(&req);
	sbuf_free(&want);
}

/* The same commands with every segment a few bytes long. */
static void t_meta_split(struct conn *c)
{
	const char *k = pt_key("k");
	struct sbuf req, want;
	size_t off;

	sbuf_init(&req);
	sbuf_init(&want);
	sbuf_addf(&req, "ms %s 12 T0 F1 k\r\nhello\r\nworld\r\n", k);
	sbuf_addf(&want, "HD k%s\r\n", k);
	sbuf_addf(&req, "mg %s v f s\r\nmg %s q\r\nma %s N0 J9 v\r\n",
		  k, pt_key("miss"), pt_key("n"));
	sbuf_adds(&want, "VA 12 f1 s12\r\nhello\r\nworld\r\nVA 1\r\n9\r\n");
	sbuf_addf(&req, "md %s\r\nmn\r\n", k);
	sbuf_adds(&want, "HD\r\nMN\r\n");
	for (off = 0; off < req.len && !tap_failed(); off += M_SPLIT_PIECE) {
		size_t n = req.len - off;

		pt_send(c, req.data + off, n < M_SPLIT_PIECE ?
			n : M_SPLIT_PIECE);
		pt_msleep(1);
	}
	pt_expect(c, NULL, 0, want.data, want.len);
	sbuf_free(&req);
	sbuf_free(&want);
}

/* A large value read by mg, streamed both ways. */
static void t_meta_large(struct conn *c)
{
	const char *k = pt_key("k");
	const size_t n = 500 * 1024;
	struct sbuf req, want;

	sbuf_init(&req);
	sbuf_init(&want);
	sbuf_addf(&req, "ms %s %zu\r\n", k, n);
	sbuf_fill(&req, 'L', n);
	sbuf_addf(&req, "\r\nmg %s v s\r\n", k);
	sbuf_addf(&want, "HD\r\nVA %zu s%zu\r\n", n, n);
	sbuf_fill(&want, 'L', n);
	sbuf_adds(&want, "\r\n");
	pt_expect(c, req.data, req.len, want.data, want.len);
	sbuf_free(&req);
	sbuf_free(&want);
}

/* one request datagram, one reply datagram: its payload must be @want */
static void m_udp(int fd, uint16_t id, const char *req, const char *want)
{
	unsigned char d[2048];
	size_t wl = want ? strlen(want) : 0;
	int len;

	if (tap_failed())
		return;
	if (udp_send(fd, id, 0, req, strlen(req))) {
		tap_fail("UDP send failed");
		return;
	}
	len = udp_recv(fd, d, sizeof(d), want ? PT_TIMEOUT_MS : 200);
	if (!want) {
		if (len >= 0)
			tap_fail("a reply to a request that wants none");
		return;
	}
	if (len < 8) {
		tap_fail("no reply datagram to %s", req);
		return;
	}
	if (d[0] != id >> 8 || d[1] != (id & 0xff) || d[5] != 1) {
		tap_fail("frame header of the reply");
		return;
	}
	if ((size_t)len - 8 != wl || memcmp(d + 8, want, wl)) {
		tap_fail("UDP reply differs");
		tap_diag_mismatch(want, wl, d + 8, (size_t)len - 8);
	}
}

static void t_meta_udp(struct conn *c)
{
	const char *k = pt_key("k");
	int fd = udp_open();

	if (fd < 0) {
		tap_fail("UDP socket");
		return;
	}
	m_udp(fd, 1, pt_str("ms %s 3 T0 F2\r\nabc\r\n", k), "HD\r\n");
	m_udp(fd, 2, pt_str("mg %s v f k O9\r\n", k),
	      pt_str("VA 3 f2 k%s O9\r\nabc\r\n", k));
	m_udp(fd, 3, pt_str("mg %s q\r\nmn\r\n", pt_key("miss")), "MN\r\n");
	m_udp(fd, 4, pt_str("ma %s N0 J1 v\r\n", pt_key("n")),
	      "VA 1\r\n1\r\n");
	m_udp(fd, 5, pt_str("mg %s b v\r\n", b64(k)), "VA 3\r\nabc\r\n");
	m_udp(fd, 6, pt_str("md %s q\r\n", k), NULL);
	m_udp(fd, 7, pt_str("mg %s v\r\n", k), "EN\r\n");
	m_udp(fd, 8, pt_str("mg %s x\r\n", k),
	      "CLIENT_ERROR invalid flag\r\n");
	m_udp(fd, 9, "mn\r\n", "MN\r\n");
	(void)c;
	close(fd);
}

static const struct pt_test tests[] = {
	{ "meta_mn", t_meta_mn, 0 },
	{ "meta_unknown", t_meta_unknown, 0 },
	{ "meta_get_miss", t_meta_get_miss, 0 },
	{ "meta_get_flags", t_meta_get_flags, 0 },
	{ "meta_get_ttl", t_meta_get_ttl, 0 },
	{ "meta_hit_before", t_meta_hit_before, 0 },
	{ "meta_set_modes", t_meta_set_modes, 0 },
	{ "meta_set_cas", t_meta_set_cas, 0 },
	{ "meta_set_flags", t_meta_set_flags, 0 },
	{ "meta_set_errors", t_meta_set_errors, 0 },
	{ "meta_too_large_clears", t_meta_too_large_clears, 0 },
	{ "meta_delete", t_meta_delete, 0 },
	{ "meta_invalidate", t_meta_invalidate, 0 },
	{ "meta_vivify", t_meta_vivify, 0 },
	{ "meta_arith", t_meta_arith, 0 },
	{ "meta_arith_cas_ttl", t_meta_arith_cas_ttl, 0 },
	{ "meta_base64", t_meta_base64, 0 },
	{ "meta_debug", t_meta_debug, 0 },
	{ "meta_flag_errors", t_meta_flag_errors, 0 },
	{ "meta_quiet_batch", t_meta_quiet_batch, 0 },
	{ "meta_pipeline", t_meta_pipeline, 0 },
	{ "meta_split", t_meta_split, 0 },
	{ "meta_large", t_meta_large, 0 },
	{ "meta_udp", t_meta_udp, PT_NEED_UDP },
};

const struct pt_group pt_group_meta = PT_GROUP("meta", tests);
