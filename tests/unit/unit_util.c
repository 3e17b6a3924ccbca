// SPDX-License-Identifier: GPL-2.0
/*
 * unit_util.c - helpers shared by the unit tests (see unit_util.h).
 */
#include <time.h>

#include "assoc.h"
#include "stats.h"
#include "tap.h"
#include "unit_util.h"
#include "util.h"

struct xkv_store *uu_store_new(u64 maxbytes, u32 hash_power)
{
	struct xkv_settings set;
	struct xkv_store *st;

	xkv_settings_default(&set, 1);
	set.maxbytes = maxbytes;
	set.hash_power = hash_power;
	st = xkv_store_create(&set, 4);
	if (!st)
		tap_bail("xkv_store_create failed");
	return st;
}

enum xkv_res uu_store_op(struct xkv_store *st, enum xkv_store_op op,
			 const char *key, const void *val, size_t vlen,
			 u32 flags, s64 exptime, u64 cas)
{
	struct xkv_item *it;
	int err = 0;

	it = xkv_item_alloc(st, key, strlen(key), flags,
			    xkv_exptime(st, exptime), (u32)vlen, &err);
	if (!it)
		return err == -E2BIG ? XKV_TOO_LARGE : XKV_NO_MEMORY;
	memcpy(xkv_item_value(it), val, vlen);
	return xkv_item_store(st, it, op, cas);
}

/* parse an unsigned decimal field ending at @end's first ' ' or '\r' */
static bool parse_field(const char **p, const char *end, char stop, u64 *v)
{
	const char *q = *p;
	u64 x = 0;

	if (q == end || *q < '0' || *q > '9')
		return false;
	while (q < end && *q >= '0' && *q <= '9')
		x = x * 10 + (u64)(*q++ - '0');
	if (q == end || *q != stop)
		return false;
	*p = q + 1;
	*v = x;
	return true;
}

int uu_get(struct xkv_store *st, const char *key, struct uu_val *v)
{
	struct xkv_get_req req = { .with_cas = true };
	struct xkv_buf b = { 0 };
	size_t nkey = strlen(key);
	const char *p, *end;
	u64 flags, len, cas;
	int hit, ret = -1;

	memset(v, 0, sizeof(*v));
	hit = xkv_item_get(st, key, nkey, &req, &b);
	v->expired = req.expired;
	v->flushed = req.flushed;
	if (hit <= 0) {
		ret = hit == 0 && b.len == 0 ? 0 : -1;
		goto out;
	}
	p = b.data;
	end = b.data + b.len;
	if (b.len < 6 + nkey + 1 || memcmp(p, "VALUE ", 6) ||
	    memcmp(p + 6, key, nkey) || p[6 + nkey] != ' ')
		goto out;
	p += 6 + nkey + 1;
	if (!parse_field(&p, end, ' ', &flags) ||
	    !parse_field(&p, end, ' ', &len) ||
	    !parse_field(&p, end, '\r', &cas))
		goto out;
	if (p == end || *p++ != '\n' || (u64)(end - p) != len + 2 ||
	    memcmp(p + len, "\r\n", 2))
		goto out;
	v->data = malloc(len + 1);
	if (!v->data)
		goto out;
	memcpy(v->data, p, len);
	v->data[len] = '\0';
	v->len = len;
	v->flags = (u32)flags;
	v->cas = cas;
	ret = 1;
out:
	xkv_buf_release(&b);
	return ret;
}

char *uu_get_str(struct xkv_store *st, const char *key)
{
	struct uu_val v;

	if (uu_get(st, key, &v) != 1) {
		uu_val_free(&v);
		return NULL;
	}
	return v.data;
}

bool uu_has(struct xkv_store *st, const char *key)
{
	struct uu_val v;
	int hit = uu_get(st, key, &v);

	uu_val_free(&v);
	return hit == 1;
}

u64 uu_cas(struct xkv_store *st, const char *key)
{
	struct uu_val v;
	u64 cas = 0;

	if (uu_get(st, key, &v) == 1)
		cas = v.cas;
	uu_val_free(&v);
	return cas;
}

void uu_val_free(struct uu_val *v)
{
	free(v->data);
	v->data = NULL;
}

bool uu_peek(struct xkv_store *st, const char *key, struct xkv_item *hdr)
{
	size_t nkey = strlen(key);
	u64 hv = xkv_hash(key, nkey);
	struct xkv_stripe *sp = xkv_stripe_of(st, hv);
	struct xkv_item *it;

	os_spin_lock(&sp->lock);
	it = do_assoc_find(st, sp, hv, key, nkey);
	if (it)
		memcpy(hdr, it, sizeof(*hdr));
	os_spin_unlock(&sp->lock);
	return it != NULL;
}

u64 uu_stat(struct xkv_store *st, const char *name)
{
	struct xkv_buf b = { 0 };
	size_t n = strlen(name);
	u64 v = ~0ULL;
	const char *p, *end;

	xkv_stats_general(st, &b);
	p = b.data;
	end = b.data + b.len;
	while (p && p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));

		if (!nl)
			break;
		if ((size_t)(nl - p) > 5 + n + 1 && !memcmp(p, "STAT ", 5) &&
		    !memcmp(p + 5, name, n) && p[5 + n] == ' ') {
			const char *q = p + 5 + n + 1;

			if (!parse_field(&q, nl + 1, '\r', &v))
				v = ~0ULL;
			break;
		}
		p = nl + 1;
	}
	xkv_buf_release(&b);
	return v;
}

u64 uu_class_sum(struct xkv_store *st, size_t field_off)
{
	u64 sum = 0;
	u32 i;

	for (i = 0; i < st->nclasses; i++) {
		struct xkv_class *c = &st->cls[i];

		os_mutex_lock(&c->lock);
		sum += *(u64 *)((char *)c + field_off);
		os_mutex_unlock(&c->lock);
	}
	return sum;
}

u64 uu_check_table(struct xkv_store *st, u64 *items, u64 *bytes)
{
	u64 bad = 0, ni = 0, nb = 0;
	u32 s, b;

	for (s = 0; s < XKV_STRIPES; s++) {
		struct xkv_stripe *sp = &st->stripes[s];
		u32 count = 0;

		os_spin_lock(&sp->lock);
		for (b = 0; b <= sp->mask; b++) {
			struct xkv_item *it;

			for (it = sp->buckets[b]; it; it = it->h_next) {
				u64 hv = xkv_hash(xkv_item_key(it), it->nkey);

				if ((hv & (XKV_STRIPES - 1)) != s ||
				    ((hv >> XKV_STRIPE_BITS) & sp->mask) != b ||
				    !(it->iflags & XKV_IT_LINKED))
					bad++;
				count++;
				nb += xkv_item_total(it->nkey, it->nbytes);
				if (count > (1u << 28))
					break;
			}
		}
		if (count != sp->count)
			bad++;
		ni += count;
		os_spin_unlock(&sp->lock);
	}
	*items = ni;
	*bytes = nb;
	return bad;
}

void uu_wall_settle(void)
{
	for (;;) {
		struct timespec ts, d;
		time_t t = time(NULL);

		clock_gettime(CLOCK_REALTIME, &ts);
		if (ts.tv_sec == t && ts.tv_nsec >= 30000000L &&
		    ts.tv_nsec <= 700000000L && time(NULL) == t)
			return;
		d.tv_sec = 0;
		if (ts.tv_nsec > 700000000L)
			d.tv_nsec = 1000000000L - ts.tv_nsec + 30000000L;
		else
			d.tv_nsec = 5000000L;
		if (d.tv_nsec > 999999999L)
			d.tv_nsec = 999999999L;
		nanosleep(&d, NULL);
	}
}

u64 uu_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (u64)ts.tv_sec * 1000000000ULL + (u64)ts.tv_nsec;
}

static void out_append(struct uu_run *r, size_t *cap, const char *p,
		       size_t n)
{
	if (r->outlen + n + 1 > *cap) {
		size_t c = *cap ? *cap : 4096;

		while (c < r->outlen + n + 1)
			c *= 2;
		r->out = realloc(r->out, c);
		if (!r->out)
			tap_bail("out of memory");
		*cap = c;
	}
	memcpy(r->out + r->outlen, p, n);
	r->outlen += n;
	r->out[r->outlen] = '\0';
}

size_t uu_bin_pkt(u8 *p, u8 op, const char *key, const void *ext, u8 next,
		  const char *val, u32 bodylen_lie)
{
	size_t nkey = strlen(key), nval = val ? strlen(val) : 0;
	u32 body = bodylen_lie ? bodylen_lie : (u32)(next + nkey + nval);

	memset(p, 0, 24);
	p[0] = 0x80;
	p[1] = op;
	p[2] = (u8)(nkey >> 8);
	p[3] = (u8)nkey;
	p[4] = next;
	p[8] = (u8)(body >> 24);
	p[9] = (u8)(body >> 16);
	p[10] = (u8)(body >> 8);
	p[11] = (u8)body;
	if (next)
		memcpy(p + 24, ext, next);
	memcpy(p + 24 + next, key, nkey);
	if (nval)
		memcpy(p + 24 + next + nkey, val, nval);
	return 24 + next + nkey + nval;
}

char *uu_take_out(struct xkv_sess *s, size_t *len)
{
	struct xkv_buf *b = xkv_sess_out(s);
	size_t n = xkv_buf_pending(b);
	char *p = malloc(n + 1);

	if (!p)
		tap_bail("out of memory");
	if (n) {
		memcpy(p, b->data + b->off, n);
		xkv_buf_consume(b, n);
	}
	p[n] = '\0';
	if (len)
		*len = n;
	return p;
}

void uu_drive(struct xkv_sess *s, const char *in, size_t len,
	      enum uu_split split, u64 seed, struct uu_run *r)
{
	char *pend = malloc(len + 1);
	size_t plen = 0, pos = 0, cap = 0;
	u64 rng = seed ? seed : 1;

	if (!pend)
		tap_bail("out of memory");
	memset(r, 0, sizeof(*r));
	out_append(r, &cap, "", 0);
	while (pos < len) {
		size_t n = len - pos;

		if (split == UU_BYTES)
			n = 1;
		else if (split == UU_RANDOM && n > 1)
			n = 1 + uu_rand(&rng) % (n < 97 ? n : 97);
		memcpy(pend + plen, in + pos, n);
		plen += n;
		pos += n;
		for (;;) {
			struct xkv_buf *b;
			size_t used = xkv_sess_input(s, pend, plen);

			r->calls++;
			if (used > plen)
				tap_bail("xkv_sess_input used more than given");
			memmove(pend, pend + used, plen - used);
			plen -= used;
			b = xkv_sess_out(s);
			if (xkv_buf_pending(b)) {
				out_append(r, &cap, b->data + b->off,
					   xkv_buf_pending(b));
				xkv_buf_consume(b, xkv_buf_pending(b));
			}
			if (xkv_sess_closing(s)) {
				r->closing = true;
				goto done;
			}
			if (!used || !plen)
				break;
		}
	}
done:
	r->left = plen;
	free(pend);
}

bool uu_reply_is(struct xkv_sess *s, const char *in, const char *want)
{
	struct uu_run r;
	bool ok;

	uu_drive(s, in, strlen(in), UU_WHOLE, 0, &r);
	ok = r.out && !strcmp(r.out, want);
	if (!ok)
		tap_diag("%s -> %s (want %s)", in, r.out ? r.out : "", want);
	free(r.out);
	return ok;
}
