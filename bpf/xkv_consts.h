/* SPDX-License-Identifier: GPL-2.0 */
/*
 * xkv_consts.h - constants and small helpers of the BPF programs: the
 * request and reply buffers of the XDP program, the header limits of the
 * one parser (xkv_parse.h) that both programs use.
 *
 * What the backend and the loader also need lives in abi/. Each limit
 * here can be overridden with -D at build time (keep the masks powers of
 * two minus one).
 */
#ifndef XKV_CONSTS_H
#define XKV_CONSTS_H

#include "xkv_hot.h"
#include "xkv_config.h"

/* most keys one get/gets may carry and still be answered by XDP */
#ifndef XKV_MAX_KEYS
#define XKV_MAX_KEYS 32
#endif

/* largest request UDP payload (frame header included) XDP looks at */
#ifndef XKV_REQ_MAX
#define XKV_REQ_MAX 2048
#endif
#define XKV_REQ_MASK (XKV_REQ_MAX - 1)
/* room for a key read 8 bytes at a time: XKV_HOT_KEY_MAX rounded up to 8 */
#define XKV_KEY_ROOM 256
/* the request buffer: a masked offset plus a key read 8 bytes at a time */
#define XKV_REQ_BUF (XKV_REQ_MAX + XKV_KEY_ROOM + 8)

/* memcached UDP frame header: id, seq, count, reserved (16 bits each) */
#define XKV_FRAME_HDR 8

/*
 * The reply is built in the per-CPU scratch "out" buffer with its UDP
 * header at a fixed offset, the L2 and L3 headers just before it (their
 * start depends on VLAN tags and IP version) and the text body at a
 * fixed offset after the frame header.
 */
#define XKV_OUT_L4 128
#define XKV_OUT_BODY (XKV_OUT_L4 + 8 + XKV_FRAME_HDR)
#define XKV_BODY_MASK (XKV_UDP_PAYLOAD_CAP - 1)
/* most bytes one copy into the body writes: a whole entry body */
#define XKV_COPY_MAX 2048
#define XKV_OUT_BUF (XKV_OUT_BODY + XKV_BODY_MASK + 1 + XKV_COPY_MAX + 64)

/* an "out" write at a masked body offset must stay in the buffer */
_Static_assert(XKV_HOT_SLOT_ROOM - XKV_HOT_ENT_HDR <= XKV_COPY_MAX &&
	       XKV_KEY_ROOM + 8 <= XKV_COPY_MAX,
	       "XKV_COPY_MAX too small");
_Static_assert(XKV_KEY_ROOM >= XKV_HOT_KEY_MAX && XKV_KEY_ROOM % 8 == 0,
	       "XKV_KEY_ROOM must hold the longest key, in words");
_Static_assert(XKV_UDP_PAYLOAD_CAP + 8 + 40 + 22 + XKV_OUT_L4 <= XKV_OUT_BUF,
	       "XKV_OUT_BUF too small for a whole frame");
_Static_assert((XKV_MAX_KEYS & (XKV_MAX_KEYS - 1)) == 0,
	       "XKV_MAX_KEYS must be a power of two");
_Static_assert((XKV_REQ_MAX & (XKV_REQ_MAX - 1)) == 0,
	       "XKV_REQ_MAX must be a power of two");

/* the smallest request payload: frame header + "get k\n" */
#define XKV_REQ_MIN (XKV_FRAME_HDR + 6)

/* "END\r\n" */
#define XKV_END_LEN 5

/* VLAN tags, and the IPv4 fragment field's bits */
#define XKV_VLAN_HLEN 4
#define XKV_MAX_VLANS 2
#define XKV_IP_DF 0x4000
#define XKV_IP_MF 0x2000
#define XKV_IP_OFFMASK 0x1fff

/* reply IP header fields, as the kernel's defaults would set them */
#define XKV_REPLY_TTL 64

#ifndef barrier
#define barrier() asm volatile("" ::: "memory")
#endif
#ifndef READ_ONCE
#define READ_ONCE(x) (*(const volatile __typeof__(x) *)&(x))
#endif
#ifndef WRITE_ONCE
#define WRITE_ONCE(x, v) (*(volatile __typeof__(x) *)&(x) = (v))
#endif

#endif /* XKV_CONSTS_H */
