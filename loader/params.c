// SPDX-License-Identifier: GPL-2.0
/*
 * params.c - getopt_long() driven by a command's option table.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "params.h"

/* long-only options get codes above any character */
#define XKV_LONG_BASE 256
#define XKV_MAX_PARAMS 48

/* the options every command has */
enum {
	XKV_COMMON_HELP = 'h',
	XKV_COMMON_VERBOSE = 'v',
	XKV_COMMON_QUIET = 'q',
};

int xkv_parse_uint(const char *s, unsigned long min, unsigned long max,
		   unsigned long *out)
{
	unsigned long v = 0;
	const char *p = s;

	if (*p < '0' || *p > '9')
		return -EINVAL;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (v > (~0UL - 9) / 10)
			return -EINVAL;
		v = v * 10 + (unsigned long)(*p - '0');
	}
	if (*p || v < min || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

static void print_names(FILE *f, const struct xkv_param_name *n)
{
	for (; n->name; n++)
		fprintf(f, "%s%s", n->name, n[1].name ? "|" : "");
}

#define XKV_HELP_COL 29
#define XKV_HELP_WIDTH 79

/* "  LEFT   help text", the help wrapped at word boundaries */
static void print_option(const char *left, const char *help,
			 const struct xkv_param_name *names)
{
	char text[512];
	const char *p = text, *sp;
	int col, n;

	n = snprintf(text, sizeof(text), "%s", help);
	if (names) {
		n += snprintf(text + n, sizeof(text) - (size_t)n, ": ");
		for (; names->name && (size_t)n < sizeof(text); names++)
			n += snprintf(text + n, sizeof(text) - (size_t)n,
				      "%s%s", names->name,
				      names[1].name ? "|" : "");
	}
	col = printf("  %-*s", XKV_HELP_COL - 3, left);
	if (col > XKV_HELP_COL - 1) {
		printf("\n%*s", XKV_HELP_COL - 1, "");
		col = XKV_HELP_COL - 1;
	}
	while (*p) {
		const char *end = p;

		/* the next word, and its space */
		sp = strchr(p, ' ');
		end = sp ? sp : p + strlen(p);
		if (col + 1 + (end - p) > XKV_HELP_WIDTH &&
		    col > XKV_HELP_COL - 1) {
			printf("\n%*s", XKV_HELP_COL - 1, "");
			col = XKV_HELP_COL - 1;
		}
		col += printf(" %.*s", (int)(end - p), p);
		p = sp ? sp + 1 : end;
	}
	putchar('\n');
}

void xkv_params_usage(const char *cmd, const struct xkv_param *params,
		      const struct xkv_cmd_doc *doc)
{
	const struct xkv_param *p;
	char left[64];
	int n;

	printf("Usage: xkv %s [OPTION]...%s%s\n", cmd,
	       doc->usage ? " " : "", doc->usage ? doc->usage : "");
	printf("%s\n\nOptions:\n", doc->summary);
	for (p = params; p->name; p++) {
		if (p->key)
			n = snprintf(left, sizeof(left), "-%c, --%s", p->key,
				     p->name);
		else
			n = snprintf(left, sizeof(left), "    --%s", p->name);
		if (p->metavar && n > 0 && (size_t)n < sizeof(left))
			snprintf(left + n, sizeof(left) - (size_t)n, " %s",
				 p->metavar);
		print_option(left, p->help, p->type == XKV_PT_ENUM ?
						    p->names : NULL);
	}
	print_option("-v, --verbose", "say more (-vv: libbpf's messages too)",
		     NULL);
	print_option("-q, --quiet", "print warnings only", NULL);
	print_option("-h, --help", "print this help and exit", NULL);
	if (doc->extra)
		printf("\n%s", doc->extra);
}

static int store(const char *cmd, const struct xkv_param *p, void *cfg,
		 const char *arg)
{
	char *field = (char *)cfg + p->off;
	const struct xkv_param_name *n;
	unsigned long v;

	switch (p->type) {
	case XKV_PT_BOOL:
		*(bool *)field = true;
		return 0;
	case XKV_PT_UINT:
		if (xkv_parse_uint(arg, p->min, p->max, &v)) {
			pr_warn("%s: --%s: '%s' is not a number in %lu..%lu\n",
				cmd, p->name, arg, p->min, p->max);
			return -EINVAL;
		}
		*(unsigned int *)field = (unsigned int)v;
		return 0;
	case XKV_PT_STRING:
		*(const char **)field = arg;
		return 0;
	case XKV_PT_ENUM:
		for (n = p->names; n->name; n++) {
			if (!strcmp(n->name, arg)) {
				*(unsigned int *)field = n->value;
				return 0;
			}
		}
		pr_warn("%s: --%s: '%s' is not one of: ", cmd, p->name, arg);
		print_names(stderr, p->names);
		fputc('\n', stderr);
		return -EINVAL;
	}
	return -EINVAL;
}

/* Split argv at the first "--": getopt would mix what follows into the
 * command's own arguments when it permutes them. */
static int split_rest(int argc, char **argv, struct xkv_args *args)
{
	int i;

	args->rest_argc = -1;
	args->rest_argv = NULL;
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--")) {
			args->rest_argc = argc - i - 1;
			args->rest_argv = argv + i + 1;
			return i;
		}
	}
	return argc;
}

int xkv_params_parse(const char *cmd, const struct xkv_param *params,
		     const struct xkv_cmd_doc *doc, void *cfg, int argc,
		     char **argv, struct xkv_args *args)
{
	struct option longopts[XKV_MAX_PARAMS + 4];
	char shortopts[3 * XKV_MAX_PARAMS + 8];
	int n = 0, s = 0, verbose = 0, quiet = 0, opt, i;
	const struct xkv_param *p;

	shortopts[s++] = ':';	/* report a missing argument as ':' */
	for (p = params; p->name; p++, n++) {
		if (n == XKV_MAX_PARAMS)
			return -EINVAL;
		longopts[n].name = p->name;
		longopts[n].has_arg = p->type == XKV_PT_BOOL ?
					      no_argument : required_argument;
		longopts[n].flag = NULL;
		longopts[n].val = p->key ? p->key : XKV_LONG_BASE + n;
		if (p->key) {
			shortopts[s++] = (char)p->key;
			if (p->type != XKV_PT_BOOL)
				shortopts[s++] = ':';
		}
	}
	longopts[n++] = (struct option){ "help", no_argument, NULL, 'h' };
	longopts[n++] = (struct option){ "verbose", no_argument, NULL, 'v' };
	longopts[n++] = (struct option){ "quiet", no_argument, NULL, 'q' };
	longopts[n] = (struct option){ NULL, 0, NULL, 0 };
	memcpy(shortopts + s, "hvq", 4);

	argc = split_rest(argc, argv, args);
	opterr = 0;
	optind = 1;
	while ((opt = getopt_long(argc, argv, shortopts, longopts, NULL)) !=
	       -1) {
		switch (opt) {
		case XKV_COMMON_HELP:
			xkv_params_usage(cmd, params, doc);
			return 1;
		case XKV_COMMON_VERBOSE:
			verbose++;
			continue;
		case XKV_COMMON_QUIET:
			quiet = 1;
			continue;
		case ':':
			pr_warn("%s: option '%s' needs an argument\n", cmd,
				argv[optind - 1]);
			goto usage;
		case '?':
			pr_warn("%s: unknown option '%s'\n", cmd,
				argv[optind - 1]);
			goto usage;
		}
		for (i = 0, p = params; p->name; p++, i++) {
			if (opt == (p->key ? p->key : XKV_LONG_BASE + i))
				break;
		}
		if (!p->name)
			goto usage;
		if (store(cmd, p, cfg, optarg))
			goto usage;
	}
	if (quiet)
		xkv_log_set_level(XKV_LOG_QUIET);
	else if (verbose)
		xkv_log_set_level(XKV_LOG_INFO + verbose);
	args->argc = argc - optind;
	args->argv = argv + optind;
	return 0;

usage:
	pr_warn("see 'xkv %s --help'\n", cmd);
	return -EINVAL;
}
