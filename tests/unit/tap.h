/* SPDX-License-Identifier: GPL-2.0 */
/*
 * tap.h - a tiny Test Anything Protocol helper for the unit tests.
 *
 * Each check prints "ok N - name" or "not ok N - name", followed on failure
 * by "#" lines saying where and what was expected. tap_done() prints the
 * plan "1..N" and returns the exit status for main():
 *
 *	int main(void)
 *	{
 *		tap_ok(slab_init(&s) == 0, "slab init");
 *		tap_is_u64(s.nclasses, 42, "class count");
 *		tap_is_str(buf, "STORED\r\n", "set reply");
 *		return tap_done();
 *	}
 *
 * tests/run.sh counts the ok/not ok lines and shows the "#" lines of the
 * failures. Output is flushed after every line, so a crash loses nothing.
 */
#ifndef XKV_TESTS_TAP_H
#define XKV_TESTS_TAP_H

#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct tap_state {
	unsigned int count;
	unsigned int failed;
};

static inline struct tap_state *tap_state(void)
{
	static struct tap_state st;

	return &st;
}

/**
 * tap_diag() - print a diagnostic line ("# ...").
 * @fmt: printf format
 */
static inline __attribute__((format(printf, 1, 2))) void
tap_diag(const char *fmt, ...)
{
	va_list ap;

	fputs("# ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
	fflush(stdout);
}

static inline void tap_vresult(bool pass, const char *file, int line,
			       const char *fmt, va_list ap)
{
	struct tap_state *st = tap_state();

	st->count++;
	if (!pass)
		st->failed++;
	printf("%sok %u - ", pass ? "" : "not ", st->count);
	vprintf(fmt, ap);
	fputc('\n', stdout);
	if (!pass)
		printf("#   Failed test at %s line %d.\n", file, line);
	fflush(stdout);
}

static inline __attribute__((format(printf, 4, 5))) bool
tap_ok_at(bool pass, const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	tap_vresult(pass, file, line, fmt, ap);
	va_end(ap);
	return pass;
}

/*
 * tap_is_u64() and tap_is_i64(): @got and @want as 64-bit patterns (equal
 * as such exactly when equal as numbers), shown signed when @is_signed
 */
static inline __attribute__((format(printf, 7, 8))) bool
tap_is_num_at(uint64_t got, uint64_t want, bool is_signed, const char *file,
	      int line, const char *expr, const char *fmt, ...)
{
	bool pass = got == want;
	va_list ap;

	va_start(ap, fmt);
	tap_vresult(pass, file, line, fmt, ap);
	va_end(ap);
	if (!pass && is_signed)
		tap_diag("  %s: got %" PRId64 ", expected %" PRId64, expr,
			 (int64_t)got, (int64_t)want);
	else if (!pass)
		tap_diag("  %s: got %" PRIu64 ", expected %" PRIu64, expr,
			 got, want);
	return pass;
}

/* Print @n bytes as a C string literal, escaping what is not printable. */
static inline void tap_put_escaped(const char *p, size_t n)
{
	size_t i;

	putchar('"');
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];

		if (c == '\r')
			fputs("\\r", stdout);
		else if (c == '\n')
			fputs("\\n", stdout);
		else if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20 || c >= 0x7f)
			printf("\\x%02x", c);
		else
			putchar(c);
	}
	putchar('"');
}

/* Print up to 160 bytes of @p from @from, marking cut ends with "...". */
static inline void tap_put_window(const char *label, const char *p,
				  size_t n, size_t from)
{
	size_t len = n - from < 160 ? n - from : 160;

	printf("#   %9s: %s", label, from ? "..." : "");
	tap_put_escaped(p + from, len);
	printf("%s (%zu bytes)\n", from + len < n ? "..." : "", n);
}

/*
 * Show what differs: short values whole, long ones as a window around the
 * first differing byte.
 */
static inline void tap_show_diff(const void *got, size_t glen,
				 const void *want, size_t wlen)
{
	const char *g = got, *w = want;
	size_t d = 0, from;

	while (g && w && d < glen && d < wlen && g[d] == w[d])
		d++;
	from = d > 48 ? d - 48 : 0;
	if (from)
		printf("#   first difference at byte %zu\n", d);
	if (g)
		tap_put_window("got", g, glen, from < glen ? from : glen);
	else
		printf("#         got: NULL\n");
	if (w)
		tap_put_window("expected", w, wlen, from < wlen ? from : wlen);
	else
		printf("#    expected: NULL\n");
	fflush(stdout);
}

static inline __attribute__((format(printf, 7, 8))) bool
tap_is_mem_at(const void *got, size_t glen, const void *want, size_t wlen,
	      const char *file, int line, const char *fmt, ...)
{
	bool pass;
	va_list ap;

	if (!got || !want)
		pass = got == want;
	else
		pass = glen == wlen && memcmp(got, want, glen) == 0;
	va_start(ap, fmt);
	tap_vresult(pass, file, line, fmt, ap);
	va_end(ap);
	if (!pass)
		tap_show_diff(got, glen, want, wlen);
	return pass;
}

static inline __attribute__((format(printf, 5, 6))) bool
tap_is_str_at(const char *got, const char *want, const char *file, int line,
	      const char *fmt, ...)
{
	size_t glen = got ? strlen(got) : 0, wlen = want ? strlen(want) : 0;
	bool pass = (!got || !want) ? got == want :
				      glen == wlen && !memcmp(got, want, glen);
	va_list ap;

	va_start(ap, fmt);
	tap_vresult(pass, file, line, fmt, ap);
	va_end(ap);
	if (!pass)
		tap_show_diff(got, glen, want, wlen);
	return pass;
}

/**
 * tap_ok() - pass when @cond is true.
 * @cond: condition
 * @...:  printf format and arguments naming the test
 *
 * Return: @cond as a bool, so a test can stop early on failure.
 */
#define tap_ok(cond, ...) tap_ok_at(!!(cond), __FILE__, __LINE__, __VA_ARGS__)

/** tap_is_u64() - pass when two unsigned integers are equal. */
#define tap_is_u64(got, want, ...)					\
	tap_is_num_at((uint64_t)(got), (uint64_t)(want), false, __FILE__, \
		      __LINE__, #got, __VA_ARGS__)

/** tap_is_i64() - pass when two signed integers are equal. */
#define tap_is_i64(got, want, ...)					\
	tap_is_num_at((uint64_t)(int64_t)(got), (uint64_t)(int64_t)(want), \
		      true, __FILE__, __LINE__, #got, __VA_ARGS__)

/** tap_is_mem() - pass when two byte ranges are equal (NULL == NULL). */
#define tap_is_mem(got, glen, want, wlen, ...)                          \
	tap_is_mem_at((got), (glen), (want), (wlen), __FILE__, __LINE__, \
		      __VA_ARGS__)

/** tap_is_str() - pass when two NUL-terminated strings are equal. */
#define tap_is_str(got, want, ...) \
	tap_is_str_at((got), (want), __FILE__, __LINE__, __VA_ARGS__)

/**
 * tap_skip() - record @n skipped tests.
 * @n:      how many
 * @reason: why
 */
static inline void tap_skip(unsigned int n, const char *reason)
{
	struct tap_state *st = tap_state();

	while (n--) {
		st->count++;
		printf("ok %u # SKIP %s\n", st->count, reason);
	}
	fflush(stdout);
}

/**
 * tap_bail() - give up: print "Bail out!" and exit non-zero.
 * @reason: why
 */
static inline __attribute__((noreturn)) void tap_bail(const char *reason)
{
	printf("Bail out! %s\n", reason);
	fflush(stdout);
	exit(2);
}

/**
 * tap_failed() - how many checks failed so far.
 *
 * Return: the count.
 */
static inline unsigned int tap_failed(void)
{
	return tap_state()->failed;
}

/**
 * tap_done() - print the plan and return main()'s exit status.
 *
 * Return: 0 when every check passed (and there was at least one), else 1.
 */
static inline int tap_done(void)
{
	struct tap_state *st = tap_state();

	printf("1..%u\n", st->count);
	if (st->failed)
		printf("# Looks like you failed %u test%s of %u.\n",
		       st->failed, st->failed == 1 ? "" : "s", st->count);
	fflush(stdout);
	return st->failed || !st->count ? 1 : 0;
}

#endif /* XKV_TESTS_TAP_H */
