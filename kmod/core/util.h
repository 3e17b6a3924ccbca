/* SPDX-License-Identifier: GPL-2.0 */
/*
 * util.h - number parsing and formatting with memcached's rules, and the
 * key hash.
 */
#ifndef XKV_CORE_UTIL_H
#define XKV_CORE_UTIL_H

#include "os.h"

/**
 * xkv_parse_u64() - parse an unsigned decimal token like strtoull.
 * @s:   token bytes (not NUL-terminated)
 * @n:   token length
 * @out: result
 *
 * Leading blanks and a '+' sign are accepted, as is a '-' that yields zero;
 * anything after the digits but white space, overflow, or a negative value
 * is rejected.
 *
 * Return: true when @out was set.
 */
bool xkv_parse_u64(const char *s, size_t n, u64 *out);

/**
 * xkv_parse_u32() - xkv_parse_u64() limited to 32 bits.
 * @s:   token bytes
 * @n:   token length
 * @out: result
 *
 * Return: true when @out was set.
 */
bool xkv_parse_u32(const char *s, size_t n, u32 *out);

/**
 * xkv_parse_s32() - parse a signed decimal token like strtol into 32 bits.
 * @s:   token bytes
 * @n:   token length
 * @out: result
 *
 * Return: true when @out was set.
 */
bool xkv_parse_s32(const char *s, size_t n, s32 *out);

/**
 * xkv_fmt_u64() - write @v in decimal.
 * @dst: at least 20 bytes
 * @v:   value
 *
 * Return: number of characters written (no NUL).
 */
size_t xkv_fmt_u64(char *dst, u64 v);

/**
 * struct xkv_tok - one token of a command line.
 * @p: its first byte, in the line
 * @n: its length
 */
struct xkv_tok {
	const char *p;
	size_t n;
};

/**
 * xkv_tokenize() - split a command line on spaces, as memcached does.
 * @line: the line, without its "\r\n"
 * @len:  its length
 * @t:    room for @max tokens
 * @max:  most tokens; like memcached's, the last one keeps the rest of
 *        the line, spaces and all
 *
 * Return: how many tokens @t holds.
 */
u32 xkv_tokenize(const char *line, size_t len, struct xkv_tok *t, u32 max);

/**
 * xkv_pwdb_ok() - is "user:password" a line of a password file?
 * @db:    the file's contents, NUL-terminated ("user:password" lines, "\n"
 *         or "\r\n" ended; the same file for SASL -S and ASCII -Y)
 * @user:  user name
 * @nuser: its length
 * @pass:  password
 * @npass: its length
 *
 * Return: true when a line holds exactly this user and password.
 */
bool xkv_pwdb_ok(const char *db, const char *user, size_t nuser,
		 const char *pass, size_t npass);

/* the largest password file xkvd and xkv.ko read (memcached has none) */
#define XKV_PWDB_MAX (1024 * 1024)

/**
 * xkv_pwdb_check() - is a password file's contents usable?
 * @db:     the contents
 * @len:    their length, at most XKV_PWDB_MAX
 * @strict: every line must hold a ':' (memcached's rule for -Y)
 *
 * One check for xkvd and xkv.ko, at start and at every reload.
 *
 * Return: NULL, or why not (a sentence for the log).
 */
const char *xkv_pwdb_check(const char *db, size_t len, bool strict);

/**
 * xkv_hash() - 64-bit hash of a key.
 * @key: key bytes
 * @n:   key length
 *
 * Return: the hash; the low bits pick a lock stripe, the next ones a bucket.
 */
u64 xkv_hash(const void *key, size_t n);

#endif /* XKV_CORE_UTIL_H */
