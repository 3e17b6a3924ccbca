// SPDX-License-Identifier: GPL-2.0
/*
 * test_util.c - number parsing and formatting with memcached's rules, the
 * key hash, and the password file (-S, -Y): its check, and the store's
 * copy that a reload replaces.
 */
#include "store_int.h"
#include "tap.h"
#include "unit_util.h"
#include "util.h"

#define POISON_U64 0xdeadbeefcafef00dULL
#define POISON_U32 0xdeadbeefU
#define POISON_S32 ((s32)0x5eadbeef)

/* @s made printable for a test name (static buffer, one at a time) */
static const char *esc(const char *s)
{
	static char buf[128];
	size_t o = 0;

	for (; *s && o < sizeof(buf) - 5; s++) {
		unsigned char c = (unsigned char)*s;

		if (c >= 0x20 && c < 0x7f && c != '\\')
			buf[o++] = (char)c;
		else
			o += (size_t)snprintf(buf + o, 5, "\\x%02x", c);
	}
	buf[o] = '\0';
	return buf;
}

/* ---- xkv_parse_u64 ---- */

static void u64_ok(const char *s, u64 want)
{
	u64 v = POISON_U64;
	bool ok = xkv_parse_u64(s, strlen(s), &v);

	tap_ok(ok, "parse_u64 accepts \"%s\"", esc(s));
	tap_is_u64(v, want, "parse_u64 \"%s\" == %llu", esc(s),
		   (unsigned long long)want);
}

static void u64_bad(const char *s)
{
	u64 v = POISON_U64;
	bool ok = xkv_parse_u64(s, strlen(s), &v);

	tap_ok(!ok, "parse_u64 rejects \"%s\"", esc(s));
	tap_is_u64(v, POISON_U64, "parse_u64 \"%s\" leaves out alone", esc(s));
}

static void test_parse_u64(void)
{
	char buf[8];
	u64 v;

	u64_ok("0", 0);
	u64_ok("1", 1);
	u64_ok("42", 42);
	u64_ok("007", 7);
	u64_ok("  42", 42);
	u64_ok("\t\n\v\f\r 9", 9);
	u64_ok("+5", 5);
	u64_ok("-0", 0);
	u64_ok("+0", 0);
	u64_ok("42 ", 42);
	u64_ok("42\r", 42);
	u64_ok("42\t", 42);
	u64_ok("42 junk", 42); /* strtoull stops at the blank */
	u64_ok("4294967296", 4294967296ULL);
	u64_ok("18446744073709551615", 18446744073709551615ULL);
	u64_ok("00000000000000000000018446744073709551615",
	       18446744073709551615ULL);

	u64_bad("");
	u64_bad(" ");
	u64_bad("+");
	u64_bad("-");
	u64_bad("-1");
	u64_bad("-00001");
	u64_bad("-18446744073709551615");
	u64_bad("18446744073709551616");
	u64_bad("18446744073709551620");
	u64_bad("99999999999999999999");
	u64_bad("184467440737095516150");
	u64_bad("12a");
	u64_bad("a12");
	u64_bad("1.5");
	u64_bad("0x10");
	u64_bad("+-1");
	u64_bad("--1");
	u64_bad("- 1");
	u64_bad("1,000");

	/* the token is (s, n): bytes after n are not looked at */
	memcpy(buf, "123x5", 6);
	v = POISON_U64;
	tap_ok(xkv_parse_u64(buf, 3, &v), "parse_u64 stops at n");
	tap_is_u64(v, 123, "parse_u64 of the first 3 bytes of \"123x5\"");
	v = POISON_U64;
	tap_ok(!xkv_parse_u64(buf, 4, &v), "parse_u64 sees the x within n");
	v = POISON_U64;
	tap_ok(!xkv_parse_u64(buf, 0, &v) && v == POISON_U64,
	       "parse_u64 with n == 0 is empty");
}

/* ---- xkv_parse_u32 ---- */

static void u32_ok(const char *s, u32 want)
{
	u32 v = POISON_U32;
	bool ok = xkv_parse_u32(s, strlen(s), &v);

	tap_ok(ok, "parse_u32 accepts \"%s\"", esc(s));
	tap_is_u64(v, want, "parse_u32 \"%s\" == %u", esc(s), want);
}

static void u32_bad(const char *s)
{
	u32 v = POISON_U32;
	bool ok = xkv_parse_u32(s, strlen(s), &v);

	tap_ok(!ok, "parse_u32 rejects \"%s\"", esc(s));
	tap_is_u64(v, POISON_U32, "parse_u32 \"%s\" leaves out alone", esc(s));
}

static void test_parse_u32(void)
{
	u32_ok("0", 0);
	u32_ok(" +17 ", 17);
	u32_ok("-0", 0);
	u32_ok("4294967295", 4294967295U);
	u32_bad("4294967296");
	u32_bad("18446744073709551615");
	u32_bad("18446744073709551616");
	u32_bad("-1");
	u32_bad("");
	u32_bad("7z");
}

/* ---- xkv_parse_s32 ---- */

static void s32_ok(const char *s, s32 want)
{
	s32 v = POISON_S32;
	bool ok = xkv_parse_s32(s, strlen(s), &v);

	tap_ok(ok, "parse_s32 accepts \"%s\"", esc(s));
	tap_is_i64(v, want, "parse_s32 \"%s\" == %d", esc(s), want);
}

static void s32_bad(const char *s)
{
	s32 v = POISON_S32;
	bool ok = xkv_parse_s32(s, strlen(s), &v);

	tap_ok(!ok, "parse_s32 rejects \"%s\"", esc(s));
	tap_is_i64(v, POISON_S32, "parse_s32 \"%s\" leaves out alone", esc(s));
}

static void test_parse_s32(void)
{
	s32_ok("0", 0);
	s32_ok("-0", 0);
	s32_ok("+0", 0);
	s32_ok("-1", -1);
	s32_ok("  -12 ", -12);
	s32_ok("+12", 12);
	s32_ok("2147483647", 2147483647);
	s32_ok("-2147483648", -2147483647 - 1);
	s32_ok("-2592000", -2592000);
	s32_bad("2147483648");
	s32_bad("-2147483649");
	s32_bad("4294967295");
	s32_bad("-4294967296");
	s32_bad("18446744073709551615");
	s32_bad("99999999999999999999999");
	s32_bad("");
	s32_bad("-");
	s32_bad("+");
	s32_bad("1-");
	s32_bad("--1");
	s32_bad("1e3");
}

/* ---- xkv_fmt_u64 ---- */

static void fmt_is(u64 v, const char *want)
{
	char buf[32];
	size_t n;

	memset(buf, '#', sizeof(buf));
	n = xkv_fmt_u64(buf, v);
	tap_is_mem(buf, n, want, strlen(want), "fmt_u64(%llu)",
		   (unsigned long long)v);
	tap_ok(n < sizeof(buf) && buf[n] == '#',
	       "fmt_u64(%llu) writes no byte past its length",
	       (unsigned long long)v);
}

static void test_fmt_u64(void)
{
	u64 rng = 0x1234567, bad = 0;
	int i;

	fmt_is(0, "0");
	fmt_is(1, "1");
	fmt_is(9, "9");
	fmt_is(10, "10");
	fmt_is(100, "100");
	fmt_is(1234567890, "1234567890");
	fmt_is(4294967295ULL, "4294967295");
	fmt_is(10000000000000000000ULL, "10000000000000000000");
	fmt_is(18446744073709551615ULL, "18446744073709551615");

	/* round trip through the parser */
	for (i = 0; i < 100000; i++) {
		u64 v = uu_rand(&rng) >> (uu_rand(&rng) % 64), back = 0;
		char buf[24];
		size_t n = xkv_fmt_u64(buf, v);

		if (!xkv_parse_u64(buf, n, &back) || back != v)
			bad++;
	}
	tap_is_u64(bad, 0, "fmt_u64 -> parse_u64 round trip of 100k values");
}

/* ---- xkv_hash ---- */

static u64 hash_str(const char *s)
{
	return xkv_hash(s, strlen(s));
}

static int cmp_u64(const void *a, const void *b)
{
	u64 x = *(const u64 *)a, y = *(const u64 *)b;

	return x < y ? -1 : x > y;
}

/*
 * Spread of one bit field of the hash over 1024 bins. Prints min, max and
 * chi-square; the checks allow what a random function gives with
 * overwhelming probability.
 */
static void spread(const u64 *h, u32 n, u32 shift, const char *what)
{
	static u32 bins[1024];
	double mean = (double)n / 1024, chi = 0;
	u32 i, lo = ~0u, hi = 0;

	memset(bins, 0, sizeof(bins));
	for (i = 0; i < n; i++)
		bins[(h[i] >> shift) & 1023]++;
	for (i = 0; i < 1024; i++) {
		double d = bins[i] - mean;

		chi += d * d / mean;
		if (bins[i] < lo)
			lo = bins[i];
		if (bins[i] > hi)
			hi = bins[i];
	}
	tap_diag("%s: %u keys in 1024 bins: min %u max %u (mean %.1f), "
		 "chi2 %.0f (1023 dof)", what, n, lo, hi, mean, chi);
	tap_ok(lo >= mean * 0.5 && hi <= mean * 1.6,
	       "%s: min %u and max %u within 50%%..160%% of the mean", what,
	       lo, hi);
	tap_ok(chi < 1250, "%s: chi-square %.0f < 1250", what, chi);
}

static void test_hash(void)
{
	const u32 n = 100000;
	u64 *h = malloc(sizeof(*h) * n), *sorted = malloc(sizeof(*h) * n);
	char key[64], copy[72];
	u64 rng = 99, dups = 0, flips = 0, trials = 0;
	u32 i;

	if (!h || !sorted)
		tap_bail("out of memory");

	/* deterministic, independent of alignment */
	tap_is_u64(hash_str("foo"), hash_str("foo"), "hash is deterministic");
	strcpy(copy + 1, "some:key:that:is:longer:than:eight");
	tap_is_u64(xkv_hash(copy + 1, strlen(copy + 1)),
		   hash_str("some:key:that:is:longer:than:eight"),
		   "hash does not depend on the key's address");

	/* different keys differ */
	tap_ok(hash_str("a") != hash_str("b"), "hash(a) != hash(b)");
	tap_ok(hash_str("foo") != hash_str("oof"), "hash(foo) != hash(oof)");
	tap_ok(xkv_hash("", 0) != xkv_hash("\0", 1),
	       "hash(\"\") != hash(\"\\0\")");
	tap_ok(xkv_hash("\0", 1) != xkv_hash("\0\0", 2),
	       "hash(\"\\0\") != hash(\"\\0\\0\")");
	tap_ok(xkv_hash("abcdefgh", 8) != xkv_hash("abcdefgh\0", 9),
	       "hash of 8 bytes != the same with a NUL added");
	tap_ok(hash_str("abcdefgh") != hash_str("abcdefgi"),
	       "a change in the last byte of a full word shows");
	tap_ok(hash_str("abcdefghijklmnopq") != hash_str("abcdefghijklmnopr"),
	       "a change in the tail shows");
	tap_ok(hash_str("Xbcdefghijklmnopq") != hash_str("abcdefghijklmnopq"),
	       "a change in the first byte of a long key shows");

	/* 100k sequential keys: no 64-bit collision, low bits well spread */
	for (i = 0; i < n; i++) {
		int len = snprintf(key, sizeof(key), "key:%u", i);

		h[i] = xkv_hash(key, (size_t)len);
	}
	memcpy(sorted, h, sizeof(*h) * n);
	qsort(sorted, n, sizeof(*sorted), cmp_u64);
	for (i = 1; i < n; i++)
		dups += sorted[i] == sorted[i - 1];
	tap_is_u64(dups, 0, "no two of 100k keys share a 64-bit hash");
	spread(h, n, 0, "stripe bits (0..9), \"key:N\"");
	spread(h, n, XKV_STRIPE_BITS, "bucket bits (10..19), \"key:N\"");
	spread(h, n, 54, "top bits (54..63), \"key:N\"");

	/* long keys that differ only near the end */
	for (i = 0; i < n; i++) {
		int len = snprintf(key, sizeof(key),
				   "user:session:0000000000000000:%08u", i);

		h[i] = xkv_hash(key, (size_t)len);
	}
	spread(h, n, 0, "stripe bits, 39-byte keys differing at the end");

	/* binary keys: 4 little-endian bytes */
	for (i = 0; i < n; i++) {
		u8 b[4] = { (u8)i, (u8)(i >> 8), (u8)(i >> 16), 0 };

		h[i] = xkv_hash(b, 4);
	}
	spread(h, n, 0, "stripe bits, 4-byte binary keys");

	/* avalanche: one flipped input bit flips about half the output */
	for (i = 0; i < 2000; i++) {
		u32 len = 1 + (u32)(uu_rand(&rng) % 40), j;
		u64 a, b;

		for (j = 0; j < len; j++)
			key[j] = (char)uu_rand(&rng);
		a = xkv_hash(key, len);
		j = (u32)(uu_rand(&rng) % (len * 8));
		key[j / 8] ^= (char)(1u << (j % 8));
		b = xkv_hash(key, len);
		flips += (u64)__builtin_popcountll(a ^ b);
		trials++;
	}
	tap_diag("avalanche: %.2f of 64 output bits flip per input bit",
		 (double)flips / trials);
	tap_ok(flips >= trials * 29 && flips <= trials * 35,
	       "avalanche: %.2f bits flip on average (29..35)",
	       (double)flips / trials);

	free(h);
	free(sorted);
}

/*
 * Strict avalanche on the bits that pick a stripe and a bucket: for every
 * input bit and each of the low 20 output bits, flipping the input bit
 * flips the output bit in about half of 2000 random keys. A hash without
 * a final mix fails this by far (bias near 0.5); a good one stays near
 * 0.04 (3.6 standard deviations over 3000-odd cells).
 */
static void test_hash_sac(void)
{
	static const u32 lens[] = { 3, 8, 13, 20 };
	static u32 cnt[160][20];
	const u32 n = 2000;
	u64 rng = 4242;
	u32 l, s, i, j;

	for (l = 0; l < 4; l++) {
		u32 len = lens[l], wi = 0, wj = 0;
		double worst = 0;

		memset(cnt, 0, sizeof(cnt));
		for (s = 0; s < n; s++) {
			u8 k[32];
			u64 h;

			for (i = 0; i < len; i++)
				k[i] = (u8)uu_rand(&rng);
			h = xkv_hash(k, len);
			for (i = 0; i < len * 8; i++) {
				u64 d;

				k[i / 8] ^= (u8)(1u << (i % 8));
				d = h ^ xkv_hash(k, len);
				k[i / 8] ^= (u8)(1u << (i % 8));
				for (j = 0; j < 20; j++)
					cnt[i][j] += (u32)(d >> j) & 1;
			}
		}
		for (i = 0; i < len * 8; i++) {
			for (j = 0; j < 20; j++) {
				double p = (double)cnt[i][j] / n - 0.5;

				if (p < 0)
					p = -p;
				if (p > worst) {
					worst = p;
					wi = i;
					wj = j;
				}
			}
		}
		tap_ok(worst < 0.1,
		       "avalanche, %u-byte keys: worst bias %.3f (input bit "
		       "%u -> hash bit %u) < 0.1", len, worst, wi, wj);
	}
}

/* ---- password files ---- */

static void test_pwdb_check(void)
{
	static char big[XKV_PWDB_MAX + 1];
	const char *why;

	tap_ok(!xkv_pwdb_check("a:b\nc:d\n", 8, true), "pwdb: two lines");
	tap_ok(!xkv_pwdb_check("a:b\r\nc:d", 8, true),
	       "pwdb: CRLF, no newline at the end");
	tap_ok(!xkv_pwdb_check("", 0, true), "pwdb: empty");
	why = xkv_pwdb_check("a:b\nc\n", 6, true);
	tap_ok(why && strstr(why, "malformed entry"),
	       "pwdb: a line without ':' is malformed for -Y");
	tap_ok(!xkv_pwdb_check("a:b\nc\n", 6, false),
	       "pwdb: and taken for -S, as xkvd always did");
	why = xkv_pwdb_check("a:b\0c:d", 7, false);
	tap_ok(why && strstr(why, "NUL"), "pwdb: a NUL byte is refused");
	memset(big, 'a', sizeof(big));
	big[1] = ':';
	why = xkv_pwdb_check(big, sizeof(big), false);
	tap_ok(why && strstr(why, "1 MiB"), "pwdb: over 1 MiB is refused");
	tap_ok(!xkv_pwdb_check(big, sizeof(big) - 1, true),
	       "pwdb: exactly 1 MiB is taken");
}

static void test_pwdb_reload(void)
{
	struct xkv_settings set;
	struct xkv_store *st;
	char db[] = "alice:s3cret\n";
	char key[8] = "k";
	u8 out[64];

	xkv_settings_default(&set, 1);
	set.auth_file = "/a/file";
	set.pwdb = db;
	st = xkv_store_create(&set, 1);
	tap_ok(st != NULL, "store with -Y");
	if (!st)
		return;
	/* the store has its own copy: the caller's may go */
	memset(db, 'x', sizeof(db) - 1);
	tap_ok(xkv_store_pwdb_ok(st, "alice", 5, "s3cret", 6),
	       "pwdb: alice authenticates from the store's copy");
	tap_ok(!xkv_store_pwdb_ok(st, "carol", 5, "n3w", 3),
	       "pwdb: carol not yet");
	tap_is_i64(xkv_store_set_pwdb(st, "carol:n3w\n", 10), 0,
		   "pwdb: reload");
	tap_ok(xkv_store_pwdb_ok(st, "carol", 5, "n3w", 3),
	       "pwdb: carol after the reload");
	tap_ok(!xkv_store_pwdb_ok(st, "alice", 5, "s3cret", 6),
	       "pwdb: alice refused after the reload");
	tap_ok(xkv_store_auth(st), "auth on with -Y");
	tap_is_i64(xkv_store_peek(st, key, 1, &(struct xkv_peek){ 0 }, out,
				  sizeof(out)),
		   -ENODEV, "the XDP store path gets nothing with -Y");
	xkv_store_destroy(st);

	xkv_settings_default(&set, 1);
	st = xkv_store_create(&set, 1);
	tap_ok(st && !xkv_store_auth(st), "auth off without -S or -Y");
	if (st)
		tap_is_i64(xkv_store_set_pwdb(st, "a:b", 3), -EINVAL,
			   "pwdb: no reload without -S or -Y");
	xkv_store_destroy(st);
}

int main(void)
{
	test_parse_u64();
	test_parse_u32();
	test_parse_s32();
	test_fmt_u64();
	test_hash();
	test_hash_sac();
	test_pwdb_check();
	test_pwdb_reload();
	return tap_done();
}
