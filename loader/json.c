// SPDX-License-Identifier: GPL-2.0
/*
 * json.c - the JSON writer.
 */
#include "json.h"

void xkv_json_init(struct xkv_json *j, FILE *f, bool pretty)
{
	j->f = f;
	j->pretty = pretty;
	j->depth = 0;
	j->after_key = false;
}

static void indent(struct xkv_json *j)
{
	int i;

	if (!j->pretty)
		return;
	fputc('\n', j->f);
	for (i = 0; i < j->depth; i++)
		fputs("    ", j->f);
}

/* the separator before a value (or a key) in the current container */
static void before_value(struct xkv_json *j)
{
	if (j->after_key) {
		j->after_key = false;
		return;
	}
	if (!j->depth)
		return;
	if (j->count[j->depth - 1]++)
		fputc(',', j->f);
	indent(j);
}

void xkv_json_open(struct xkv_json *j, char ch)
{
	before_value(j);
	fputc(ch, j->f);
	if (j->depth < XKV_JSON_DEPTH)
		j->count[j->depth++] = 0;
}

void xkv_json_close(struct xkv_json *j, char ch)
{
	unsigned int n = 0;

	if (j->depth) {
		n = j->count[j->depth - 1];
		j->depth--;
	}
	if (n)
		indent(j);
	fputc(ch, j->f);
	if (!j->depth) {
		fputc('\n', j->f);
		fflush(j->f);
	}
}

static void write_string(struct xkv_json *j, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	fputc('"', j->f);
	for (; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(j->f, "\\%c", *p);
		else if (*p < 0x20 || *p == 0x7f)
			fprintf(j->f, "\\u%04x", *p);
		else
			fputc(*p, j->f);
	}
	fputc('"', j->f);
}

void xkv_json_key(struct xkv_json *j, const char *name)
{
	before_value(j);
	write_string(j, name);
	fputs(j->pretty ? ": " : ":", j->f);
	j->after_key = true;
}

void xkv_json_str(struct xkv_json *j, const char *s)
{
	before_value(j);
	if (s)
		write_string(j, s);
	else
		fputs("null", j->f);
}

void xkv_json_u64(struct xkv_json *j, unsigned long long v)
{
	before_value(j);
	fprintf(j->f, "%llu", v);
}

void xkv_json_bool(struct xkv_json *j, bool v)
{
	before_value(j);
	fputs(v ? "true" : "false", j->f);
}

void xkv_json_kv_str(struct xkv_json *j, const char *name, const char *s)
{
	xkv_json_key(j, name);
	xkv_json_str(j, s);
}

void xkv_json_kv_u64(struct xkv_json *j, const char *name,
		     unsigned long long v)
{
	xkv_json_key(j, name);
	xkv_json_u64(j, v);
}
