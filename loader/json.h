/* SPDX-License-Identifier: GPL-2.0 */
/*
 * json.h - a small streaming JSON writer for -j output (compact like
 * "bpftool -j", or indented with -p).
 */
#ifndef XKV_LOADER_JSON_H
#define XKV_LOADER_JSON_H

#include <stdbool.h>
#include <stdio.h>

#define XKV_JSON_DEPTH 8

/**
 * struct xkv_json - writer state.
 * @f:          where to write
 * @pretty:     indent and break lines
 * @depth:      containers open
 * @count:      values written so far in each open container
 * @after_key:  a key was written, its value comes next
 */
struct xkv_json {
	FILE *f;
	bool pretty;
	int depth;
	unsigned int count[XKV_JSON_DEPTH];
	bool after_key;
};

/**
 * xkv_json_init() - start writing a document.
 * @j:      writer
 * @f:      output
 * @pretty: indented output
 */
void xkv_json_init(struct xkv_json *j, FILE *f, bool pretty);

/**
 * xkv_json_open() - open an object ('{') or an array ('[').
 * @j:  writer
 * @ch: '{' or '['
 */
void xkv_json_open(struct xkv_json *j, char ch);

/**
 * xkv_json_close() - close the innermost object ('}') or array (']');
 * closing the outermost ends the line.
 * @j:  writer
 * @ch: '}' or ']'
 */
void xkv_json_close(struct xkv_json *j, char ch);

/**
 * xkv_json_key() - write an object member's name.
 * @j:    writer
 * @name: the name
 */
void xkv_json_key(struct xkv_json *j, const char *name);

/**
 * xkv_json_str() - write a string value (escaped).
 * @j: writer
 * @s: the string, or NULL for null
 */
void xkv_json_str(struct xkv_json *j, const char *s);

/**
 * xkv_json_u64() - write a number.
 * @j: writer
 * @v: the number
 */
void xkv_json_u64(struct xkv_json *j, unsigned long long v);

/**
 * xkv_json_bool() - write true or false.
 * @j: writer
 * @v: the value
 */
void xkv_json_bool(struct xkv_json *j, bool v);

/**
 * xkv_json_kv_str() - write a member with a string value.
 * @j:    writer
 * @name: member name
 * @s:    value, or NULL for null
 */
void xkv_json_kv_str(struct xkv_json *j, const char *name, const char *s);

/**
 * xkv_json_kv_u64() - write a member with a number value.
 * @j:    writer
 * @name: member name
 * @v:    value
 */
void xkv_json_kv_u64(struct xkv_json *j, const char *name,
		     unsigned long long v);

#endif /* XKV_LOADER_JSON_H */
