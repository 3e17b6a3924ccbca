// SPDX-License-Identifier: GPL-2.0
/*
 * log.c - message levels, and libbpf's messages routed through them.
 */
#include <stdarg.h>
#include <stdio.h>

#include <bpf/libbpf.h>

#include "log.h"

static int log_level = XKV_LOG_INFO;

static int libbpf_print(enum libbpf_print_level level, const char *fmt,
			va_list ap)
{
	int want;

	switch (level) {
	case LIBBPF_WARN:
		want = XKV_LOG_DEBUG;
		break;
	case LIBBPF_INFO:
		want = XKV_LOG_DEBUG;
		break;
	default:
		want = XKV_LOG_LIBBPF;
		break;
	}
	/*
	 * libbpf warns about every failure it returns, and the loader
	 * explains those failures itself; show libbpf's own words with -v.
	 */
	if (log_level < want)
		return 0;
	fputs("libbpf: ", stderr);
	return vfprintf(stderr, fmt, ap);
}

void xkv_log_set_level(int level)
{
	log_level = level;
	libbpf_set_print(libbpf_print);
}

int xkv_log_level(void)
{
	return log_level;
}

void xkv_log(int level, const char *fmt, ...)
{
	FILE *out = level == XKV_LOG_INFO ? stdout : stderr;
	va_list ap;

	if (level > log_level && level != XKV_LOG_WARN)
		return;
	va_start(ap, fmt);
	fputs("xkv: ", out);
	vfprintf(out, fmt, ap);
	va_end(ap);
	if (out == stdout)
		fflush(stdout);
}
