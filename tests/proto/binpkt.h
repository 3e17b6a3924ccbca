/* SPDX-License-Identifier: GPL-2.0 */
/*
 * binpkt.h - binary protocol packets for xkv-prototest: requests built,
 * responses read and checked (binpkt.c), shared by the binary test
 * groups (tests_bin.c, tests_binframe.c).
 */
#ifndef XKV_PROTO_BINPKT_H
#define XKV_PROTO_BINPKT_H

#include <stdbool.h>
#include <stdint.h>

#include "prototest.h"

#define B_REQ		0x80
#define B_RES		0x81
#define B_HDR		24

enum {
	OP_GET = 0x00, OP_SET, OP_ADD, OP_REPLACE, OP_DELETE, OP_INCR,
	OP_DECR, OP_QUIT, OP_FLUSH, OP_GETQ, OP_NOOP, OP_VERSION, OP_GETK,
	OP_GETKQ, OP_APPEND, OP_PREPEND, OP_STAT, OP_SETQ, OP_ADDQ,
	OP_REPLACEQ, OP_DELETEQ, OP_INCRQ, OP_DECRQ, OP_QUITQ, OP_FLUSHQ,
	OP_APPENDQ, OP_PREPENDQ, OP_VERBOSITY, OP_TOUCH, OP_GAT, OP_GATQ,
	OP_GATK = 0x23, OP_GATKQ = 0x24,
};

enum {
	ST_OK = 0, ST_ENOENT, ST_EEXISTS, ST_E2BIG, ST_EINVAL, ST_NOT_STORED,
	ST_BADVAL, ST_UNKNOWN = 0x81,
};

#define MSG_ENOENT	"Not found"
#define MSG_EEXISTS	"Data exists for key."
#define MSG_E2BIG	"Too large."
#define MSG_EINVAL	"Invalid arguments"
#define MSG_NOT_STORED	"Not stored."
#define MSG_BADVAL	"Non-numeric server-side value for incr or decr"
#define MSG_UNKNOWN	"Unknown command"

/**
 * struct bres - one response, parsed
 * @opcode: opcode
 * @status: status
 * @opaque: opaque, as sent
 * @cas:    CAS
 * @ext:    extras
 * @key:    key
 * @val:    value
 */
struct bres {
	uint8_t opcode;
	uint16_t status;
	uint32_t opaque;
	uint64_t cas;
	struct sbuf ext;
	struct sbuf key;
	struct sbuf val;
};

void put16(unsigned char *p, uint16_t v);
void put32(unsigned char *p, uint32_t v);
void put64(unsigned char *p, uint64_t v);
uint32_t get32(const unsigned char *p);
uint64_t get64(const unsigned char *p);
void breq(struct sbuf *b, uint8_t op, const void *ext, size_t next,
	  const char *key, const void *val, size_t nval, uint32_t opaque,
	  uint64_t cas);
const void *ext_store(unsigned char *e, uint32_t flags, uint32_t exp);
const void *ext_arith(unsigned char *e, uint64_t delta, uint64_t initial,
		      uint32_t exp);
void bres_init(struct bres *r);
void bres_free(struct bres *r);
bool bread(struct conn *c, struct bres *r);
bool sbuf_is(const struct sbuf *b, const char *s, size_t n);
bool bexpect(struct conn *c, uint8_t op, uint16_t status, uint32_t opaque,
	     const char *key, const char *val, uint64_t *cas);
bool bsend(struct conn *c, struct sbuf *b);
bool bset(struct conn *c, uint8_t op, const char *key, uint32_t flags,
	  const char *val, uint64_t req_cas, uint64_t *cas);
bool bget_is(struct conn *c, const char *key, uint32_t flags,
	     const char *val, uint64_t *cas);
bool bget_miss(struct conn *c, const char *key);
bool bcmd(struct conn *c, uint8_t op, const char *key, uint64_t req_cas,
	  uint16_t status, const char *val);
bool bnoop(struct conn *c);

#endif /* XKV_PROTO_BINPKT_H */
