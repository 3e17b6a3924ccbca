/* SPDX-License-Identifier: GPL-2.0 */
/*
 * mcproto.h - the memcached text protocol, as much as xkv-bench speaks:
 * "get <key>" and "set <key> <flags> 0 <bytes>" requests, and a parser
 * for their replies that checks them against the request.
 */
#ifndef XKV_BENCH_MCPROTO_H
#define XKV_BENCH_MCPROTO_H

#include "bench.h"
#include "keyval.h"

/* a reply line longer than this is not memcached's */
#define MC_LINE_MAX 1024

enum mc_op {
	MC_GET,
	MC_SET,
};

/**
 * enum mc_result - what one reply was.
 * @MC_MORE:       incomplete: wait for more bytes
 * @MC_HIT:        GET: the value, and it checked out
 * @MC_MISS:       GET: END, no value
 * @MC_STORED:     SET: STORED
 * @MC_SERVER_ERR: a well-formed error line (ERROR, CLIENT_ERROR ...,
 *                 SERVER_ERROR ...) or another SET status
 * @MC_BAD_VALUE:  GET: a well-formed VALUE reply with the wrong key,
 *                 flags, length or bytes
 * @MC_PROTO_ERR:  not a valid reply to this request; a byte stream is out
 *                 of step from here on
 */
enum mc_result {
	MC_MORE,
	MC_HIT,
	MC_MISS,
	MC_STORED,
	MC_SERVER_ERR,
	MC_BAD_VALUE,
	MC_PROTO_ERR,
};

size_t mc_request_max(const struct kv_fmt *f);
size_t mc_build(const struct kv_fmt *f, enum mc_op op, u32 id, u32 ver,
		char *out);
enum mc_result mc_parse(const struct kv_fmt *f, bool verify, enum mc_op op,
			u32 id, const char *buf, size_t len, size_t *used);

#endif /* XKV_BENCH_MCPROTO_H */
