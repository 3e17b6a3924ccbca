/* SPDX-License-Identifier: GPL-2.0 */
/*
 * log.h - the loader's messages, at three levels (as xdp-tools prints):
 *
 *   pr_warn()   something failed or needs attention: stderr, always
 *   pr_info()   what a command did: stdout, unless -q
 *   pr_debug()  details: stderr, with -v (libbpf's own with -vv)
 *
 * Every line starts with "xkv: ".
 */
#ifndef XKV_LOADER_LOG_H
#define XKV_LOADER_LOG_H

enum xkv_log_level {
	XKV_LOG_QUIET = -1,
	XKV_LOG_WARN = 0,
	XKV_LOG_INFO = 1,
	XKV_LOG_DEBUG = 2,
	XKV_LOG_LIBBPF = 3,
};

/**
 * xkv_log_set_level() - choose what is printed from now on.
 * @level: XKV_LOG_QUIET (warnings only) ... XKV_LOG_LIBBPF (everything)
 *
 * Also routes libbpf's messages through this module.
 */
void xkv_log_set_level(int level);

/**
 * xkv_log_level() - the level in force.
 *
 * Return: the level set by xkv_log_set_level().
 */
int xkv_log_level(void);

/**
 * xkv_log() - print one message at @level.
 * @level: XKV_LOG_WARN, XKV_LOG_INFO or XKV_LOG_DEBUG
 * @fmt:   printf() format, usually ending in "\n"
 */
void xkv_log(int level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define pr_warn(...) xkv_log(XKV_LOG_WARN, __VA_ARGS__)
#define pr_info(...) xkv_log(XKV_LOG_INFO, __VA_ARGS__)
#define pr_debug(...) xkv_log(XKV_LOG_DEBUG, __VA_ARGS__)

#endif /* XKV_LOADER_LOG_H */
