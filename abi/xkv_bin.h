/* SPDX-License-Identifier: GPL-2.0 */
/*
 * xkv_bin.h - memcached's binary protocol on the wire: the 24-byte packet
 * header, the opcodes and the response statuses (memcached 1.6's
 * protocol_binary.h numbers; see doc/protocol.txt and the binary protocol
 * wiki). One header for the store (kmod/core/bin.c), the tests and the XDP
 * fast path (bpf/xdp/binary.h).
 *
 * Every multi-byte field is big-endian, except @opaque, which a server
 * echoes as it came. A packet is the header, then @bodylen bytes: extras
 * (@extlen), key (@keylen), value (the rest).
 */
#ifndef XKV_ABI_BIN_H
#define XKV_ABI_BIN_H

#include "xkv_types.h"

#define XKV_BIN_REQ 0x80	/* magic of a request */
#define XKV_BIN_RES 0x81	/* magic of a response */

/**
 * struct xkv_bin_hdr - the header of every request and response.
 * @magic:    XKV_BIN_REQ or XKV_BIN_RES
 * @opcode:   enum xkv_bin_op
 * @keylen:   key bytes, after the extras
 * @extlen:   extras bytes, right after the header
 * @datatype: 0 (raw bytes)
 * @status:   a response's enum xkv_bin_status; a request's vbucket id
 * @bodylen:  extras + key + value bytes
 * @opaque:   the client's, copied into the response untouched
 * @cas:      a request's CAS to check (0: none); a response's new CAS
 */
struct xkv_bin_hdr {
	__u8 magic;
	__u8 opcode;
	__u16 keylen;
	__u8 extlen;
	__u8 datatype;
	__u16 status;
	__u32 bodylen;
	__u32 opaque;
	__u64 cas;
};

XKV_STATIC_ASSERT(sizeof(struct xkv_bin_hdr) == 24, "binary header size");

#define XKV_BIN_HDR_LEN 24

enum xkv_bin_op {
	XKV_BIN_GET = 0x00,
	XKV_BIN_SET = 0x01,
	XKV_BIN_ADD = 0x02,
	XKV_BIN_REPLACE = 0x03,
	XKV_BIN_DELETE = 0x04,
	XKV_BIN_INCR = 0x05,
	XKV_BIN_DECR = 0x06,
	XKV_BIN_QUIT = 0x07,
	XKV_BIN_FLUSH = 0x08,
	XKV_BIN_GETQ = 0x09,
	XKV_BIN_NOOP = 0x0a,
	XKV_BIN_VERSION = 0x0b,
	XKV_BIN_GETK = 0x0c,
	XKV_BIN_GETKQ = 0x0d,
	XKV_BIN_APPEND = 0x0e,
	XKV_BIN_PREPEND = 0x0f,
	XKV_BIN_STAT = 0x10,
	XKV_BIN_SETQ = 0x11,
	XKV_BIN_ADDQ = 0x12,
	XKV_BIN_REPLACEQ = 0x13,
	XKV_BIN_DELETEQ = 0x14,
	XKV_BIN_INCRQ = 0x15,
	XKV_BIN_DECRQ = 0x16,
	XKV_BIN_QUITQ = 0x17,
	XKV_BIN_FLUSHQ = 0x18,
	XKV_BIN_APPENDQ = 0x19,
	XKV_BIN_PREPENDQ = 0x1a,
	XKV_BIN_VERBOSITY = 0x1b,
	XKV_BIN_TOUCH = 0x1c,
	XKV_BIN_GAT = 0x1d,
	XKV_BIN_GATQ = 0x1e,
	XKV_BIN_SASL_LIST_MECHS = 0x20,
	XKV_BIN_SASL_AUTH = 0x21,
	XKV_BIN_SASL_STEP = 0x22,
	XKV_BIN_GATK = 0x23,
	XKV_BIN_GATKQ = 0x24,
};

enum xkv_bin_status {
	XKV_BIN_OK = 0x00,
	XKV_BIN_KEY_ENOENT = 0x01,
	XKV_BIN_KEY_EEXISTS = 0x02,
	XKV_BIN_E2BIG = 0x03,
	XKV_BIN_EINVAL = 0x04,
	XKV_BIN_NOT_STORED = 0x05,
	XKV_BIN_DELTA_BADVAL = 0x06,
	XKV_BIN_AUTH_ERROR = 0x20,
	XKV_BIN_AUTH_CONTINUE = 0x21,
	XKV_BIN_UNKNOWN_COMMAND = 0x81,
	XKV_BIN_ENOMEM = 0x82,
};

/* extras: set/add/replace flags + expiry; incr/decr delta, initial, expiry */
#define XKV_BIN_EXT_STORE 8
#define XKV_BIN_EXT_ARITH 20
#define XKV_BIN_EXT_TOUCH 4
/* an incr/decr expiry that means "fail on a miss, create nothing" */
#define XKV_BIN_ARITH_NO_CREATE 0xffffffffU

#endif /* XKV_ABI_BIN_H */
