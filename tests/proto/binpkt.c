// SPDX-License-Identifier: GPL-2.0
/*
 * binpkt.c - binary protocol packets for xkv-prototest (binpkt.h).
 */
#include <string.h>

#include "binpkt.h"

/**
 * put16() - store @v big-endian at @p (put32(), put64() alike)
 * @p: where
 * @v: value
 */
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

/**
 * get32() - the big-endian 32-bit value at @p (get64() alike)
 * @p: where
 *
 * Return: the value.
 */
uint32_t get32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

uint64_t get64(const unsigned char *p)
{
	return (uint64_t)get32(p) << 32 | get32(p + 4);
}

/**
 * breq() - append a request packet to @b
 * @b:      buffer
 * @op:     opcode
 * @ext:    extras, @next bytes
 * @next:   how many
 * @key:    key, or NULL
 * @val:    value, @nval bytes
 * @nval:   how many
 * @opaque: opaque, sent as it is in memory
 * @cas:    CAS
 */
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

/**
 * ext_store() - the extras of set/add/replace, at @e (8 bytes)
 * @e:     where
 * @flags: client flags
 * @exp:   expiry
 *
 * Return: @e.
 */
const void *ext_store(unsigned char *e, uint32_t flags, uint32_t exp)
{
	put32(e, flags);
	put32(e + 4, exp);
	return e;
}

/**
 * ext_arith() - the extras of incr/decr, at @e (20 bytes)
 * @e:       where
 * @delta:   delta
 * @initial: initial value
 * @exp:     expiry (0xffffffff: no creation)
 *
 * Return: @e.
 */
const void *ext_arith(unsigned char *e, uint64_t delta, uint64_t initial,
		      uint32_t exp)
{
	put64(e, delta);
	put64(e + 8, initial);
	put32(e + 16, exp);
	return e;
}

/**
 * bres_init() - an empty response; bres_free() frees one
 * @r: response
 */
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

/**
 * bread() - read one response into @r (freed first)
 * @c: connection
 * @r: response
 *
 * Return: true when a whole, well-formed response came (else the test
 * failed).
 */
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

/**
 * sbuf_is() - does @b hold exactly the @n bytes at @s?
 * @b: buffer
 * @s: bytes
 * @n: how many
 *
 * Return: true when it does.
 */
bool sbuf_is(const struct sbuf *b, const char *s, size_t n)
{
	return b->len == n && (!n || !memcmp(b->data, s, n));
}

/**
 * bexpect() - read a response and check it
 * @c:      connection
 * @op:     opcode expected
 * @status: status expected
 * @opaque: opaque expected
 * @key:    key expected, or NULL for none
 * @val:    value (an error's message) expected, or NULL for none
 * @cas:    if not NULL, gets the response's CAS
 *
 * Return: true when it is the one expected.
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

/**
 * bsend() - send @b and empty it
 * @c: connection
 * @b: request packets
 *
 * Return: true when sent.
 */
bool bsend(struct conn *c, struct sbuf *b)
{
	bool ok = pt_send(c, b->data, b->len);

	sbuf_free(b);
	sbuf_init(b);
	return ok;
}

/**
 * bset() - store @key, expect success
 * @c:       connection
 * @op:      set, add or replace (or a quiet form)
 * @key:     key
 * @flags:   client flags
 * @val:     value
 * @req_cas: CAS to compare, 0 for none
 * @cas:     if not NULL, gets the new CAS
 *
 * Return: true on success.
 */
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

/**
 * bget_is() - a get of @key is a hit with @flags and @val
 * @c:     connection
 * @key:   key
 * @flags: client flags expected
 * @val:   value expected
 * @cas:   if not NULL, gets its CAS
 *
 * Return: true when it is.
 */
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

/**
 * bget_miss() - a get of @key is a miss
 * @c:   connection
 * @key: key
 *
 * Return: true when it is.
 */
bool bget_miss(struct conn *c, const char *key)
{
	struct sbuf b;

	sbuf_init(&b);
	breq(&b, OP_GET, NULL, 0, key, NULL, 0, 9, 0);
	return bsend(c, &b) &&
	       bexpect(c, OP_GET, ST_ENOENT, 9, NULL, MSG_ENOENT, NULL);
}

/**
 * bcmd() - a request without extras or value, and its expected reply
 * @c:       connection
 * @op:      opcode
 * @key:     key, or NULL
 * @req_cas: CAS to send
 * @status:  status expected
 * @val:     value (or message) expected, or NULL
 *
 * Return: true when the reply is the one expected.
 */
bool bcmd(struct conn *c, uint8_t op, const char *key, uint64_t req_cas,
	  uint16_t status, const char *val)
{
	struct sbuf b;

	sbuf_init(&b);
	breq(&b, op, NULL, 0, key, NULL, 0, 3, req_cas);
	return bsend(c, &b) && bexpect(c, op, status, 3, NULL, val, NULL);
}

/**
 * bnoop() - a noop, answered
 * @c: connection
 *
 * Return: true when answered.
 */
bool bnoop(struct conn *c)
{
	return bcmd(c, OP_NOOP, NULL, 0, ST_OK, NULL);
}
