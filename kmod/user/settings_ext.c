// SPDX-License-Identifier: GPL-2.0
/*
 * settings_ext.c - memcached's "-o NAME=VALUE[,NAME=VALUE...]" settings.
 *
 * -o may be given more than once; each takes a comma-separated list. A
 * name xkvd does not know is refused by name, so a memcached setting that
 * xkvd lacks is never silently ignored. To add a setting, add a row to
 * ext_opts[].
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "xkvd.h"

#define MB_MAX (1024ULL * 1024) /* 1 TiB */

struct ext_opt {
	const char *name;
	const char *range;
	u64 max;
	int (*set)(struct xkv_settings *set, u64 v);
};

static int set_idle_timeout(struct xkv_settings *set, u64 v)
{
	set->idle_timeout = (u32)v;
	return 0;
}

static int set_read_buf_mem_limit(struct xkv_settings *set, u64 v)
{
	set->read_buf_mem_limit = v << 20;
	return 0;
}

static const struct ext_opt ext_opts[] = {
	{ "idle_timeout", "seconds, 0..31622400", XKV_IDLE_TIMEOUT_MAX,
	  set_idle_timeout },
	{ "read_buf_mem_limit", "megabytes, 0..1048576", MB_MAX,
	  set_read_buf_mem_limit },
};

/* a whole decimal number of at most @max, nothing else */
static int parse_num(const char *s, size_t n, u64 max, u64 *out)
{
	u64 v = 0;
	size_t i;

	if (!n)
		return -EINVAL;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		v = v * 10 + (u64)(s[i] - '0');
		if (v > max)
			return -EINVAL;
	}
	*out = v;
	return 0;
}

static int parse_item(struct xkv_settings *set, const char *s, size_t n)
{
	const char *eq = memchr(s, '=', n);
	size_t nlen = eq ? (size_t)(eq - s) : n;
	const struct ext_opt *o;
	u64 v;

	for (o = ext_opts; o < ext_opts + sizeof(ext_opts) / sizeof(*o); o++) {
		if (strlen(o->name) != nlen || memcmp(o->name, s, nlen))
			continue;
		if (!eq || parse_num(eq + 1, n - nlen - 1, o->max, &v)) {
			fprintf(stderr,
				"xkvd: invalid value for -o %s: '%.*s': %s\n",
				o->name, (int)n, s, o->range);
			return -EINVAL;
		}
		return o->set(set, v);
	}
	fprintf(stderr, "xkvd: -o: unknown setting '%.*s' in '%.*s'\n",
		(int)nlen, s, (int)n, s);
	return -EINVAL;
}

/**
 * xkvd_parse_ext() - apply one -o argument.
 * @set: settings
 * @arg: NAME=VALUE[,NAME=VALUE...]
 *
 * Names the bad setting or value on stderr.
 *
 * Return: 0 or -EINVAL.
 */
int xkvd_parse_ext(struct xkv_settings *set, const char *arg)
{
	const char *p = arg, *comma;
	size_t n;
	int err;

	do {
		comma = strchr(p, ',');
		n = comma ? (size_t)(comma - p) : strlen(p);
		err = parse_item(set, p, n);
		if (err)
			return err;
		p += n + 1;
	} while (comma);
	return 0;
}
