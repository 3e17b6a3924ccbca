// SPDX-License-Identifier: GPL-2.0
/*
 * binpkt.c - binary protocol packets for xkv-prototest (binpkt.h).
 */
#include <string.h>

#include "binpkt.h"

void put16(unsigned char *p, uint16_t v)
{
	p[0] = (unsigned char)(v >> 8);
	p[1] = (unsigned char)v;
}

void put32(unsigned char *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

void put64(unsigned char *p, uint64_t v)
{
	put32(p, (uint32_t)(v >> 32));
	put32(p + 4, (uint32_t)v);
}

uint32_t get32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

uint64_t get64(const unsigned char *p)
{
	return (uint64_t)get32(p) << 32 | get32(p + 4);
}

/* append a request packet to @b */
void breq(struct sbuf *b, uint8_t op, const void *ext, size_t next,
	  const char *key, const void *val, size_t nval, uint32_t opaque,
	  uint64_t cas)
{
	size_t nkey = key ? strlen(key) : 0;
	unsigned char h[B_HDR] = { B_REQ, op };

	put16(h + 2, (uint16_t)nkey);
	h[4] = (unsigned char)next;
	put32(h + 8, (uint32_t)(next + nkey + nval));
	memcpy(h + 12, &opaque, 4);
	put64(h + 16, cas);
	sbuf_add(b, h, sizeof(h));
	sbuf_add(b, ext, next);
	sbuf_add(b, key, nkey);
	sbuf_add(b, val, nval);
}

/* the extras of set/add/replace */
const void *ext_store(unsigned char *e, uint32_t flags, uint32_t exp)
{
	put32(e, flags);
	put32(e + 4, exp);
	return e;
}

/* the extras of incr/decr */
const void *ext_arith(unsigned char *e, uint64_t delta, uint64_t initial,
		      uint32_t exp)
{
	put64(e, delta);
	put64(e + 8, initial);
	put32(e + 16, exp);
	return e;
}

void bres_init(struct bres *r)
{
	memset(r, 0, sizeof(*r));
	sbuf_init(&r->ext);
	sbuf_init(&r->key);
	sbuf_init(&r->val);
}

void bres_free(struct bres *r)
{
	sbuf_free(&r->ext);
	sbuf_free(&r->key);
	sbuf_free(&r->val);
}

/* read one response into @r (freed first) */
bool bread(struct conn *c, struct bres *r)
{
	struct sbuf h, body;
	unsigned char *p;
	uint32_t nbody, nkey, next;
	bool ok = false;

	bres_free(r);
	bres_init(r);
	if (tap_failed())
		return false;
	sbuf_init(&h);
	sbuf_init(&body);
	if (conn_read_n(c, B_HDR, &h)) {
		tap_fail("no response header");
		goto out;
	}
	p = (unsigned char *)h.data;
	if (p[0] != B_RES) {
		tap_fail("response magic 0x%02x", p[0]);
		goto out;
	}
	r->opcode = p[1];
	nkey = (uint32_t)(p[2] << 8 | p[3]);
	next = p[4];
	r->status = (uint16_t)(p[6] << 8 | p[7]);
	nbody = get32(p + 8);
	memcpy(&r->opaque, p + 12, 4);
	r->cas = get64(p + 16);
	if (nkey + next > nbody) {
		tap_fail("response lengths: key %u extras %u body %u", nkey,
			 next, nbody);
		goto out;
	}
	if (nbody && conn_read_n(c, nbody, &body)) {
		tap_fail("response body of %u bytes missing", nbody);
		goto out;
	}
	sbuf_add(&r->ext, body.data, next);
	sbuf_add(&r->key, body.data + next, nkey);
	sbuf_add(&r->val, body.data + next + nkey, nbody - next - nkey);
	ok = true;
out:
	sbuf_free(&h);
	sbuf_free(&body);
	return ok;
}

bool sbuf_is(const struct sbuf *b, const char *s, size_t n)
{
	return b->len == n && (!n || !memcmp(b->data, s, n));
}

/*
 * Read a response and check opcode, status, opaque, key and value (a
 * message for an error); @cas, if not NULL, gets its CAS.
 */
bool bexpect(struct conn *c, uint8_t op, uint16_t status, uint32_t opaque,
	     const char *key, const char *val, uint64_t *cas)
{
	struct bres r;
	bool ok;

	bres_init(&r);
	ok = bread(c, &r);
	if (ok)
		ok = pt_check(r.opcode == op, "opcode 0x%02x, want 0x%02x",
			      r.opcode, op) &&
		     pt_check(r.status == status, "status 0x%x, want 0x%x",
			      r.status, status) &&
		     pt_check(r.opaque == opaque, "opaque %u, want %u",
			      r.opaque, opaque) &&
		     pt_check(sbuf_is(&r.key, key, key ? strlen(key) : 0),
			      "key of %zu bytes, want %s", r.key.len,
			      key ? key : "none") &&
		     pt_check(sbuf_is(&r.val, val, val ? strlen(val) : 0),
			      "value \"%.*s\", want \"%s\"", (int)r.val.len,
			      r.val.data ? r.val.data : "", val ? val : "");
	if (ok && cas)
		*cas = r.cas;
	bres_free(&r);
	return ok;
}

bool bsend(struct conn *c, struct sbuf *b)
{
	bool ok = pt_send(c, b->data, b->len);

	sbuf_free(b);
	sbuf_init(b);
	return ok;
}

/* set @key to @val (flags @flags), expect success; its CAS in @cas */
bool bset(struct conn *c, uint8_t op, const char *key, uint32_t flags,
	  const char *val, uint64_t req_cas, uint64_t *cas)
{
	unsigned char e[8];
	struct sbuf b;

	sbuf_init(&b);
	breq(&b, op, ext_store(e, flags, 0), 8, key, val, strlen(val), 7,
	     req_cas);
	return bsend(c, &b) && bexpect(c, op, ST_OK, 7, NULL, NULL, cas);
}

/* a get hit: flags in extras, value, CAS */
bool bget_is(struct conn *c, const char *key, uint32_t flags,
	     const char *val, uint64_t *cas)
{
	struct sbuf b;
	struct bres r;
	bool ok;

	sbuf_init(&b);
	breq(&b, OP_GET, NULL, 0, key, NULL, 0, 9, 0);
	if (!bsend(c, &b))
		return false;
	bres_init(&r);
	ok = bread(c, &r) &&
	     pt_check(r.status == ST_OK, "get status 0x%x", r.status) &&
	     pt_check(r.ext.len == 4 &&
			      get32((unsigned char *)r.ext.data) == flags,
		      "get flags") &&
	     pt_check(r.key.len == 0, "get returned a key") &&
	     pt_check(sbuf_is(&r.val, val, strlen(val)),
		      "get value \"%.*s\", want \"%s\"", (int)r.val.len,
		      r.val.data ? r.val.data : "", val) &&
	     pt_check(r.cas != 0, "get CAS 0");
	if (ok && cas)
		*cas = r.cas;
	bres_free(&r);
	return ok;
}

bool bget_miss(struct conn *c, const char *key)
{
	struct sbuf b;

	sbuf_init(&b);
	breq(&b, OP_GET, NULL, 0, key, NULL, 0, 9, 0);
	return bsend(c, &b) &&
	       bexpect(c, OP_GET, ST_ENOENT, 9, NULL, MSG_ENOENT, NULL);
}

/* a simple request without extras or value, and its expected reply */
bool bcmd(struct conn *c, uint8_t op, const char *key, uint64_t req_cas,
	  uint16_t status, const char *val)
{
	struct sbuf b;

	sbuf_init(&b);
	breq(&b, op, NULL, 0, key, NULL, 0, 3, req_cas);
	return bsend(c, &b) && bexpect(c, op, status, 3, NULL, val, NULL);
}

bool bnoop(struct conn *c)
{
	return bcmd(c, OP_NOOP, NULL, 0, ST_OK, NULL);
}
