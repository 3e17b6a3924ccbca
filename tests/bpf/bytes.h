/* SPDX-License-Identifier: GPL-2.0 */
/*
 * bytes.h - network byte order for the frame builders (pkt.c, tcppkt.c):
 * 16- and 32-bit big-endian fields, and the RFC 1071 sum over them.
 */
#ifndef XKV_TESTS_BPF_BYTES_H
#define XKV_TESTS_BPF_BYTES_H

#include <stddef.h>
#include <stdint.h>

static inline void put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

static inline void put32(uint8_t *p, uint32_t v)
{
	put16(p, v >> 16);
	put16(p + 2, v & 0xffff);
}

static inline uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t get32(const uint8_t *p)
{
	return (uint32_t)get16(p) << 16 | get16(p + 2);
}

/* RFC 1071: add 16-bit big-endian words, an odd byte padded with zero */
static inline uint32_t sum16(uint32_t sum, const uint8_t *p, size_t len)
{
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += get16(p + i);
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	return sum;
}

#endif /* XKV_TESTS_BPF_BYTES_H */
