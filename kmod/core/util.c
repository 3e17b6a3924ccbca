// SPDX-License-Identifier: GPL-2.0
/*
 * util.c - number parsing and formatting, key hashing.
 */
#include "util.h"

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' ||
	       c == '\f' || c == '\r';
}

/*
 * Digits with an optional sign after optional blanks, then only blanks.
 * Mirrors what memcached accepts through strtoull/strtol plus its checks.
 */
static bool parse_mag(const char *s, size_t n, u64 *mag, bool *neg)
{
	size_t i = 0;
	u64 v = 0;
	bool any = false;

	*neg = false;
	while (i < n && is_blank(s[i]))
		i++;
	if (i < n && (s[i] == '+' || s[i] == '-')) {
		*neg = s[i] == '-';
		i++;
	}
	for (; i < n && s[i] >= '0' && s[i] <= '9'; i++) {
		u64 d = (u64)(s[i] - '0');

		if (v > (~0ULL - d) / 10)
			return false;
		v = v * 10 + d;
		any = true;
	}
	if (!any)
		return false;
	if (i < n && !is_blank(s[i]))
		return false;
	*mag = v;
	return true;
}

bool xkv_parse_u64(const char *s, size_t n, u64 *out)
{
	u64 v;
	bool neg;

	if (!parse_mag(s, n, &v, &neg))
		return false;
	if (neg && v)
		return false;
	*out = v;
	return true;
}

bool xkv_parse_u32(const char *s, size_t n, u32 *out)
{
	u64 v;

	if (!xkv_parse_u64(s, n, &v) || v > 0xffffffffULL)
		return false;
	*out = (u32)v;
	return true;
}

bool xkv_parse_s32(const char *s, size_t n, s32 *out)
{
	u64 v;
	bool neg;

	if (!parse_mag(s, n, &v, &neg))
		return false;
	if (neg) {
		if (v > 0x80000000ULL)
			return false;
		*out = (s32)(0 - (s64)v);
	} else {
		if (v > 0x7fffffffULL)
			return false;
		*out = (s32)v;
	}
	return true;
}

size_t xkv_fmt_u64(char *dst, u64 v)
{
	char tmp[20];
	size_t n = 0, i;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	for (i = 0; i < n; i++)
		dst[i] = tmp[n - 1 - i];
	return n;
}

#define XKV_HASH_M1 0x9e3779b97f4a7c15ULL
#define XKV_HASH_M2 0xbf58476d1ce4e5b9ULL

static u64 rotl64(u64 v, unsigned int r)
{
	return (v << r) | (v >> (64 - r));
}

static u64 load_le64(const u8 *p)
{
	return (u64)p[0] | (u64)p[1] << 8 | (u64)p[2] << 16 |
	       (u64)p[3] << 24 | (u64)p[4] << 32 | (u64)p[5] << 40 |
	       (u64)p[6] << 48 | (u64)p[7] << 56;
}

/*
 * Eight bytes at a time: each word is mixed into the state with a multiply
 * and a rotation, the tail is packed into one last word with the length,
 * and a final avalanche spreads every input bit over the low bits that
 * pick stripes and buckets.
 */
u64 xkv_hash(const void *key, size_t n)
{
	const u8 *p = key;
	u64 h = XKV_HASH_M1 ^ (u64)n;
	u64 w;
	size_t i;

	for (; n >= 8; n -= 8, p += 8) {
		w = load_le64(p) * XKV_HASH_M2;
		h = rotl64(h ^ w, 29) * XKV_HASH_M1;
	}
	w = 0;
	for (i = 0; i < n; i++)
		w |= (u64)p[i] << (8 * i);
	h = rotl64(h ^ (w * XKV_HASH_M2), 29) * XKV_HASH_M1;
	h ^= h >> 31;
	h *= XKV_HASH_M2;
	h ^= h >> 29;
	return h;
}

u32 xkv_tokenize(const char *line, size_t len, struct xkv_tok *t, u32 max)
{
	size_t i = 0;
	u32 nt = 0;

	while (i < len) {
		size_t start;

		while (i < len && line[i] == ' ')
			i++;
		if (i == len)
			break;
		if (nt == max - 1) {
			t[nt].p = line + i;
			t[nt].n = len - i;
			return nt + 1;
		}
		start = i;
		while (i < len && line[i] != ' ')
			i++;
		t[nt].p = line + start;
		t[nt].n = i - start;
		nt++;
	}
	return nt;
}

bool xkv_pwdb_ok(const char *db, const char *user, size_t nuser,
		 const char *pass, size_t npass)
{
	while (db && *db) {
		const char *end = db + os_strlen(db);
		const char *nl = os_memchr(db, '\n', (size_t)(end - db));
		size_t n = nl ? (size_t)(nl - db) : (size_t)(end - db);

		if (n && db[n - 1] == '\r')
			n--;
		if (n == nuser + 1 + npass && !os_memcmp(db, user, nuser) &&
		    db[nuser] == ':' && !os_memcmp(db + nuser + 1, pass, npass))
			return true;
		db = nl ? nl + 1 : end;
	}
	return false;
}

const char *xkv_pwdb_check(const char *db, size_t len, bool strict)
{
	const char *line = db, *end = db + len, *nl;

	if (len > XKV_PWDB_MAX)
		return "larger than 1 MiB";
	if (os_memchr(db, '\0', len))
		return "has a NUL byte: not a text file of user:password lines";
	while (strict && line < end) {
		nl = os_memchr(line, '\n', (size_t)(end - line));
		if (!os_memchr(line, ':', (size_t)((nl ? nl : end) - line)))
			return "has a malformed entry. Should be 'user:password'";
		line = nl ? nl + 1 : end;
	}
	return NULL;
}
