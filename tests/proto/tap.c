// SPDX-License-Identifier: GPL-2.0
/*
 * TAP output. A test runs between tap_begin() and tap_end(); the first
 * tap_fail() marks it failed and later diagnostics are kept until the
 * "not ok" line has been printed, so they follow it as TAP expects.
 * Bytes are shown escaped: \r \n \t \\ \" and \xHH for anything else
 * that is not printable ASCII.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "prototest.h"

#define DIAG_WIDTH	72	/* escaped characters per diagnostic line */
#define SHOW_WHOLE	320	/* longer byte strings are shown in part */
#define WINDOW_BEFORE	32
#define WINDOW_AFTER	96

static unsigned int tap_count;
static unsigned int tap_failures;
static unsigned int tap_skips;
static const char *cur_name = "";
static bool cur_failed;
static struct sbuf cur_diag;

static void escape_byte(struct sbuf *out, unsigned char ch)
{
	switch (ch) {
	case '\r':
		sbuf_adds(out, "\\r");
		break;
	case '\n':
		sbuf_adds(out, "\\n");
		break;
	case '\t':
		sbuf_adds(out, "\\t");
		break;
	case '\\':
		sbuf_adds(out, "\\\\");
		break;
	case '"':
		sbuf_adds(out, "\\\"");
		break;
	default:
		if (ch >= 0x20 && ch < 0x7f)
			sbuf_add(out, &ch, 1);
		else
			sbuf_addf(out, "\\x%02x", ch);
	}
}

/* Append escaped bytes as diagnostic lines of at most DIAG_WIDTH. */
static void diag_escaped(struct sbuf *out, const unsigned char *p, size_t n)
{
	struct sbuf line;
	size_t i;

	sbuf_init(&line);
	for (i = 0; i < n; i++) {
		escape_byte(&line, p[i]);
		if (line.len >= DIAG_WIDTH || p[i] == '\n') {
			sbuf_addf(out, "#     \"%s\"\n", line.data);
			line.len = 0;
		}
	}
	if (line.len || !n)
		sbuf_addf(out, "#     \"%s\"\n", line.len ? line.data : "");
	sbuf_free(&line);
}

static void diag_window(struct sbuf *out, const char *label,
			const unsigned char *p, size_t n, size_t at)
{
	size_t from = at > WINDOW_BEFORE ? at - WINDOW_BEFORE : 0;
	size_t to = at + WINDOW_AFTER < n ? at + WINDOW_AFTER : n;

	sbuf_addf(out, "#   %s (%zu bytes), bytes %zu..%zu:\n",
		  label, n, from, to);
	diag_escaped(out, p + from, to - from);
}

/**
 * tap_begin() - start a test
 * @name: TAP name; also used by pt_key()
 */
void tap_begin(const char *name)
{
	cur_name = name;
	cur_failed = false;
	cur_diag.len = 0;
	if (cur_diag.data)
		cur_diag.data[0] = '\0';
}

/**
 * tap_name() - name of the running test
 *
 * Return: the name given to tap_begin().
 */
const char *tap_name(void)
{
	return cur_name;
}

/**
 * tap_failed() - has the running test failed yet?
 *
 * Return: true after the first tap_fail() of this test.
 */
bool tap_failed(void)
{
	return cur_failed;
}

/**
 * tap_fail() - mark the running test failed, with a reason
 * @fmt: printf format of the reason (one line)
 *
 * Return: false, so checks can "return tap_fail(...)".
 */
bool tap_fail(const char *fmt, ...)
{
	va_list ap;
	char msg[512];

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	cur_failed = true;
	sbuf_addf(&cur_diag, "#   %s\n", msg);
	return false;
}

/**
 * tap_diag() - add a diagnostic line to the running test's report
 * @fmt: printf format (one line)
 */
void tap_diag(const char *fmt, ...)
{
	va_list ap;
	char msg[512];

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	sbuf_addf(&cur_diag, "#   %s\n", msg);
}

/**
 * tap_diag_bytes() - show bytes, escaped, in the running test's report
 * @label: what they are ("request", "received", ...)
 * @p: bytes
 * @n: how many; long strings show only their start and end
 */
void tap_diag_bytes(const char *label, const void *p, size_t n)
{
	const unsigned char *b = p;

	if (n <= SHOW_WHOLE) {
		sbuf_addf(&cur_diag, "#   %s (%zu bytes):\n", label, n);
		diag_escaped(&cur_diag, b, n);
		return;
	}
	sbuf_addf(&cur_diag, "#   %s (%zu bytes), first 160 and last 64:\n",
		  label, n);
	diag_escaped(&cur_diag, b, 160);
	sbuf_adds(&cur_diag, "#     ...\n");
	diag_escaped(&cur_diag, b + n - 64, 64);
}

/**
 * tap_diag_mismatch() - show expected against received bytes
 * @want: expected bytes
 * @wlen: their length
 * @got: received bytes
 * @glen: their length
 *
 * Short replies are shown whole; long ones around the first difference.
 */
void tap_diag_mismatch(const void *want, size_t wlen,
		       const void *got, size_t glen)
{
	const unsigned char *w = want, *g = got;
	size_t at = 0;

	if (wlen <= SHOW_WHOLE && glen <= SHOW_WHOLE) {
		tap_diag_bytes("expected", want, wlen);
		tap_diag_bytes("received", got, glen);
		return;
	}
	while (at < wlen && at < glen && w[at] == g[at])
		at++;
	sbuf_addf(&cur_diag, "#   first difference at byte %zu\n", at);
	diag_window(&cur_diag, "expected", w, wlen, at);
	diag_window(&cur_diag, "received", g, glen, at);
}

/**
 * tap_log() - print traffic as TAP comments at once (-v)
 * @dir: direction tag, e.g. ">" for sent and "<" for received
 * @p: bytes
 * @n: how many; only the first 200 are shown
 */
void tap_log(const char *dir, const void *p, size_t n)
{
	struct sbuf s;

	sbuf_init(&s);
	sbuf_addf(&s, "# %s %zu bytes\n", dir, n);
	diag_escaped(&s, p, n > 200 ? 200 : n);
	fputs(s.data, stdout);
	fflush(stdout);
	sbuf_free(&s);
}

/**
 * tap_end() - print the running test's result line and its diagnostics
 */
void tap_end(void)
{
	tap_count++;
	if (cur_failed)
		tap_failures++;
	printf("%sok %u - %s\n", cur_failed ? "not " : "", tap_count,
	       cur_name);
	if (cur_failed && cur_diag.len)
		fputs(cur_diag.data, stdout);
	fflush(stdout);
	pt_scratch_release();
}

/**
 * tap_skip() - report a test that did not run
 * @name: TAP name
 * @reason: why, shown after "# SKIP"
 */
void tap_skip(const char *name, const char *reason)
{
	tap_count++;
	tap_skips++;
	printf("ok %u - %s # SKIP %s\n", tap_count, name, reason);
	fflush(stdout);
}

/**
 * tap_finish() - print the plan and a summary
 *
 * Return: process exit status: 0 when every test passed, else 1.
 */
int tap_finish(void)
{
	printf("# %u passed, %u failed, %u skipped\n",
	       tap_count - tap_failures - tap_skips, tap_failures, tap_skips);
	printf("1..%u\n", tap_count);
	fflush(stdout);
	sbuf_free(&cur_diag);
	return tap_failures ? 1 : 0;
}
