/* SPDX-License-Identifier: GPL-2.0 */
/*
 * params.h - option tables for the subcommands (in the spirit of
 * xdp-tools' params.h).
 *
 * A command describes its options once, as an array of struct xkv_param
 * that points into the command's own settings struct; xkv_params_parse()
 * builds the getopt_long() tables from it, stores each value where its
 * entry says, checks ranges and names, and prints the command's --help
 * from the same array. Every command gets -h/--help, -v/--verbose and
 * -q/--quiet without listing them.
 */
#ifndef XKV_LOADER_PARAMS_H
#define XKV_LOADER_PARAMS_H

#include <stdbool.h>
#include <stddef.h>

enum xkv_param_type {
	XKV_PT_BOOL,	/* bool field, set by the flag's presence */
	XKV_PT_UINT,	/* unsigned int field, decimal, within [min, max] */
	XKV_PT_STRING,	/* const char * field */
	XKV_PT_ENUM,	/* unsigned int field, one of the names in @names */
};

/**
 * struct xkv_param_name - one accepted word of an XKV_PT_ENUM option.
 * @name:  the word
 * @value: the value stored for it
 */
struct xkv_param_name {
	const char *name;
	unsigned int value;
};

/**
 * struct xkv_param - one option of a command.
 * @name:    long name, without "--"
 * @key:     short option character, or 0 for none
 * @type:    how the argument is read
 * @off:     offset of the field in the command's settings struct
 * @metavar: name of the argument in --help (NULL for XKV_PT_BOOL)
 * @help:    one line of help
 * @min:     XKV_PT_UINT: smallest value accepted
 * @max:     XKV_PT_UINT: largest value accepted
 * @names:   XKV_PT_ENUM: accepted words, ended by a NULL name
 */
struct xkv_param {
	const char *name;
	int key;
	enum xkv_param_type type;
	size_t off;
	const char *metavar;
	const char *help;
	unsigned long min;
	unsigned long max;
	const struct xkv_param_name *names;
};

/* offsetof(T, f), refused at compile time unless f has type FT */
#define XKV_PARAM_OFF(T, f, FT)						\
	(offsetof(T, f) +						\
	 0 * sizeof(char[1 - 2 * !__builtin_types_compatible_p(		\
				 __typeof__(((T *)0)->f), FT)]))

#define XKV_PARAM_BOOL(n, k, T, f, h)					\
	{ .name = (n), .key = (k), .type = XKV_PT_BOOL,			\
	  .off = XKV_PARAM_OFF(T, f, bool), .help = (h) }
#define XKV_PARAM_UINT(n, k, T, f, mv, lo, hi, h)			\
	{ .name = (n), .key = (k), .type = XKV_PT_UINT,			\
	  .off = XKV_PARAM_OFF(T, f, unsigned int), .metavar = (mv),	\
	  .min = (lo), .max = (hi), .help = (h) }
#define XKV_PARAM_STRING(n, k, T, f, mv, h)				\
	{ .name = (n), .key = (k), .type = XKV_PT_STRING,		\
	  .off = XKV_PARAM_OFF(T, f, const char *), .metavar = (mv),	\
	  .help = (h) }
#define XKV_PARAM_ENUM(n, k, T, f, mv, nm, h)				\
	{ .name = (n), .key = (k), .type = XKV_PT_ENUM,			\
	  .off = XKV_PARAM_OFF(T, f, unsigned int), .metavar = (mv),	\
	  .names = (nm), .help = (h) }
#define XKV_PARAM_END { .name = NULL }

/**
 * struct xkv_cmd_doc - what --help prints around the option list.
 * @usage:   the arguments after "xkv CMD [OPTION]...", e.g. "[IFACE]"
 * @summary: one paragraph on what the command does (may span lines)
 * @extra:   text printed after the options, or NULL
 */
struct xkv_cmd_doc {
	const char *usage;
	const char *summary;
	const char *extra;
};

/**
 * struct xkv_args - the non-option arguments a command was given.
 * @argc:      how many before any "--"
 * @argv:      them
 * @rest_argc: how many after "--" (-1: there was no "--")
 * @rest_argv: them, for a command that passes them on
 */
struct xkv_args {
	int argc;
	char **argv;
	int rest_argc;
	char **rest_argv;
};

/**
 * xkv_params_parse() - parse a command's options into its settings.
 * @cmd:    the command's name, for messages ("up")
 * @params: its options, ended by XKV_PARAM_END
 * @doc:    its --help text
 * @cfg:    its settings struct, holding the defaults on entry
 * @argc:   argument count, argv[0] being the command's name
 * @argv:   arguments
 * @args:   out: the remaining arguments
 *
 * Return: 0 to go on, 1 when --help was printed (exit 0), or -EINVAL
 * after printing what was wrong (a usage error).
 */
int xkv_params_parse(const char *cmd, const struct xkv_param *params,
		     const struct xkv_cmd_doc *doc, void *cfg, int argc,
		     char **argv, struct xkv_args *args);

/**
 * xkv_params_usage() - print a command's --help.
 * @cmd:    the command's name
 * @params: its options
 * @doc:    its help text
 */
void xkv_params_usage(const char *cmd, const struct xkv_param *params,
		      const struct xkv_cmd_doc *doc);

/**
 * xkv_parse_uint() - a whole decimal number within bounds.
 * @s:   text
 * @min: smallest accepted
 * @max: largest accepted
 * @out: the value
 *
 * Return: 0, or -EINVAL (not a number, trailing text, out of range).
 */
int xkv_parse_uint(const char *s, unsigned long min, unsigned long max,
		   unsigned long *out);

#endif /* XKV_LOADER_PARAMS_H */
