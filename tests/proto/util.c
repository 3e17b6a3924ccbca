// SPDX-License-Identifier: GPL-2.0
/*
 * Helpers with no protocol knowledge: growable buffers, scratch strings
 * that live until the end of the current test, per-run key names, time.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "prototest.h"

static char run_id[16];

/* Scratch strings handed out by pt_str(), freed after each test. */
static char **scratch;
static size_t scratch_len;
static size_t scratch_cap;

static void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n);
	if (!p) {
		fputs("xkv-prototest: out of memory\n", stderr);
		exit(2);
	}
	return p;
}

/**
 * sbuf_init() - make an empty buffer
 * @b: buffer
 */
void sbuf_init(struct sbuf *b)
{
	memset(b, 0, sizeof(*b));
}

/**
 * sbuf_free() - release a buffer's memory and leave it empty
 * @b: buffer
 */
void sbuf_free(struct sbuf *b)
{
	free(b->data);
	sbuf_init(b);
}

/**
 * sbuf_reserve() - make room for @extra more bytes plus the NUL
 * @b: buffer
 * @extra: bytes about to be added
 */
void sbuf_reserve(struct sbuf *b, size_t extra)
{
	size_t need = b->len + extra + 1;
	size_t cap = b->cap ? b->cap : 256;

	if (need <= b->cap)
		return;
	while (cap < need)
		cap *= 2;
	b->data = xrealloc(b->data, cap);
	b->cap = cap;
}

/**
 * sbuf_add() - append bytes
 * @b: buffer
 * @p: bytes
 * @n: how many
 */
void sbuf_add(struct sbuf *b, const void *p, size_t n)
{
	sbuf_reserve(b, n);
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
}

/**
 * sbuf_adds() - append a C string without its NUL
 * @b: buffer
 * @s: string
 */
void sbuf_adds(struct sbuf *b, const char *s)
{
	sbuf_add(b, s, strlen(s));
}

/**
 * sbuf_addf() - append printf-formatted text
 * @b: buffer
 * @fmt: format
 */
void sbuf_addf(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	sbuf_reserve(b, (size_t)n);
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

/**
 * sbuf_fill() - append @n copies of one byte
 * @b: buffer
 * @c: the byte
 * @n: how many
 */
void sbuf_fill(struct sbuf *b, char c, size_t n)
{
	sbuf_reserve(b, n);
	memset(b->data + b->len, c, n);
	b->len += n;
	b->data[b->len] = '\0';
}

/**
 * sbuf_consume() - drop bytes from the front
 * @b: buffer
 * @n: how many (clamped to the length)
 */
void sbuf_consume(struct sbuf *b, size_t n)
{
	if (n > b->len)
		n = b->len;
	if (!n)
		return;
	memmove(b->data, b->data + n, b->len - n);
	b->len -= n;
	b->data[b->len] = '\0';
}

static void scratch_keep(char *p)
{
	if (scratch_len == scratch_cap) {
		scratch_cap = scratch_cap ? scratch_cap * 2 : 64;
		scratch = xrealloc(scratch, scratch_cap * sizeof(*scratch));
	}
	scratch[scratch_len++] = p;
}

/**
 * pt_str() - format a string that lives until the current test ends
 * @fmt: printf format
 *
 * Return: the string; never NULL.
 */
const char *pt_str(const char *fmt, ...)
{
	va_list ap;
	char *p;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	p = xrealloc(NULL, (size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf(p, (size_t)n + 1, fmt, ap);
	va_end(ap);
	scratch_keep(p);
	return p;
}

/**
 * pt_scratch_release() - free every pt_str() string of the current test
 */
void pt_scratch_release(void)
{
	while (scratch_len)
		free(scratch[--scratch_len]);
}

/**
 * pt_set_run_id() - choose the tag that makes this run's keys unique
 *
 * Two runs against the same server (or a test and a leftover from an
 * earlier run) must not see each other's keys.
 */
void pt_set_run_id(void)
{
	unsigned long v = (unsigned long)time(NULL) * 2654435761UL;

	v ^= (unsigned long)getpid() << 7;
	v ^= (unsigned long)(pt_now_ms() % 1000) << 20;
	snprintf(run_id, sizeof(run_id), "%08lx", v & 0xffffffffUL);
}

/**
 * pt_key() - key name private to this run and the current test
 * @suffix: distinguishes keys within one test
 *
 * Return: "pt<run>.<test>.<suffix>", valid until the test ends.
 */
const char *pt_key(const char *suffix)
{
	return pt_str("pt%s.%s.%s", run_id, tap_name(), suffix);
}

/**
 * pt_now_ms() - monotonic time
 *
 * Return: milliseconds since an arbitrary point.
 */
uint64_t pt_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/**
 * pt_msleep() - sleep, resuming after signals
 * @ms: milliseconds
 */
void pt_msleep(unsigned int ms)
{
	struct timespec ts = {
		.tv_sec = ms / 1000,
		.tv_nsec = (long)(ms % 1000) * 1000000L,
	};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}
