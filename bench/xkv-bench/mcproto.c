// SPDX-License-Identifier: GPL-2.0
/*
 * mcproto.c - build requests and check replies (see mcproto.h).
 */
#include <string.h>

#include "mcproto.h"
#include "util.h"

/**
 * mc_request_max() - the longest request mc_build() may write.
 * @f: key and value shape
 *
 * Return: a buffer size, in bytes.
 */
size_t mc_request_max(const struct kv_fmt *f)
{
	return kv_set_request_max(f->key_size, f->value_max);
}

/**
 * mc_build() - write one request.
 * @f:   key and value shape
 * @op:  MC_GET or MC_SET
 * @id:  key id
 * @ver: version of the value (MC_SET only)
 * @out: at least mc_request_max() bytes
 *
 * Return: the request's length.
 */
size_t mc_build(const struct kv_fmt *f, enum mc_op op, u32 id, u32 ver,
		char *out)
{
	u32 len, flags;
	char *p = out;

	if (op == MC_GET) {
		memcpy(p, "get ", 4);
		p += 4;
		kv_key(f, id, p);
		p += f->key_size;
		*p++ = '\r';
		*p++ = '\n';
		return (size_t)(p - out);
	}
	kv_value_shape(f, id, ver, &len, &flags);
	memcpy(p, "set ", 4);
	p += 4;
	kv_key(f, id, p);
	p += f->key_size;
	*p++ = ' ';
	p += xkv_fmt_u64(p, flags);
	memcpy(p, " 0 ", 3);
	p += 3;
	p += xkv_fmt_u64(p, len);
	*p++ = '\r';
	*p++ = '\n';
	kv_value_fill(f, id, ver, p);
	p += len;
	*p++ = '\r';
	*p++ = '\n';
	return (size_t)(p - out);
}

/* read a decimal u32 at *p, up to @end; advance *p */
static int get_u32(const char **p, const char *end, u32 *out)
{
	const char *s = *p;
	u64 v = 0;

	if (s == end || *s < '0' || *s > '9')
		return -1;
	for (; s < end && *s >= '0' && *s <= '9'; s++) {
		v = v * 10 + (u64)(*s - '0');
		if (v > UINT32_MAX)
			return -1;
	}
	*out = (u32)v;
	*p = s;
	return 0;
}

static bool line_is(const char *line, size_t n, const char *word)
{
	size_t w = strlen(word);

	return n == w && !memcmp(line, word, w);
}

static bool line_starts(const char *line, size_t n, const char *word)
{
	size_t w = strlen(word);

	return n >= w && !memcmp(line, word, w);
}

/* ERROR, CLIENT_ERROR <msg>, SERVER_ERROR <msg> */
static bool is_error_line(const char *line, size_t n)
{
	return line_is(line, n, "ERROR") ||
	       line_starts(line, n, "CLIENT_ERROR ") ||
	       line_starts(line, n, "SERVER_ERROR ");
}

/* a key in a reply: the one asked for? */
static bool key_matches(const struct kv_fmt *f, u32 id, const char *key,
			size_t klen)
{
	char want[256]; /* key_size <= 250 */

	if (klen != f->key_size)
		return false;
	kv_key(f, id, want);
	return !memcmp(key, want, klen);
}

/*
 * "VALUE <key> <flags> <bytes>[ <cas>]": @line is that line (@n bytes,
 * CRLF not counted), @head its length with the CRLF; @avail bytes follow
 * it in the buffer.
 */
static enum mc_result parse_value(const struct kv_fmt *f, bool verify, u32 id,
				  const char *line, size_t n, size_t head,
				  size_t avail, size_t *used)
{
	const char *p = line + 6, *end = line + n, *key = p, *data;
	u32 flags, bytes;
	size_t klen;

	while (p < end && *p != ' ')
		p++;
	klen = (size_t)(p - key);
	if (!klen || p == end)
		return MC_PROTO_ERR;
	p++;
	if (get_u32(&p, end, &flags) || p == end || *p++ != ' ' ||
	    get_u32(&p, end, &bytes))
		return MC_PROTO_ERR;
	if (p < end) { /* " <cas>": 64 bits, digits only */
		if (*p++ != ' ' || p == end)
			return MC_PROTO_ERR;
		while (p < end && *p >= '0' && *p <= '9')
			p++;
		if (p != end)
			return MC_PROTO_ERR;
	}
	/* data, CRLF, "END", CRLF */
	*used = head + bytes + 7;
	if (avail < (size_t)bytes + 7)
		return MC_MORE;
	data = line + head;
	if (memcmp(data + bytes, "\r\nEND\r\n", 7))
		return MC_PROTO_ERR;
	if (!key_matches(f, id, key, klen))
		return MC_BAD_VALUE;
	if (verify && kv_value_check(f, id, data, bytes, flags))
		return MC_BAD_VALUE;
	return MC_HIT;
}

/**
 * mc_parse() - check the reply to one request.
 * @f:      key and value shape
 * @verify: check a GET's value bytes (key, framing are always checked)
 * @op:     the request: MC_GET or MC_SET
 * @id:     its key id
 * @buf:    bytes received, starting with the reply
 * @len:    how many
 * @used:   the reply's length when complete; on MC_MORE, the length it
 *          will have if already known, else 0
 *
 * Return: what the reply was (enum mc_result).
 */
enum mc_result mc_parse(const struct kv_fmt *f, bool verify, enum mc_op op,
			u32 id, const char *buf, size_t len, size_t *used)
{
	const char *nl;
	size_t n, head;

	*used = 0;
	nl = memchr(buf, '\n', len < MC_LINE_MAX ? len : MC_LINE_MAX);
	if (!nl)
		return len < MC_LINE_MAX ? MC_MORE : MC_PROTO_ERR;
	if (nl == buf || nl[-1] != '\r')
		return MC_PROTO_ERR;
	n = (size_t)(nl - buf) - 1; /* line length without CRLF */
	head = n + 2;
	if (op == MC_GET) {
		if (line_starts(buf, n, "VALUE "))
			return parse_value(f, verify, id, buf, n, head,
					   len - head, used);
		*used = head;
		if (line_is(buf, n, "END"))
			return MC_MISS;
		if (is_error_line(buf, n))
			return MC_SERVER_ERR;
		return MC_PROTO_ERR;
	}
	*used = head;
	if (line_is(buf, n, "STORED"))
		return MC_STORED;
	if (is_error_line(buf, n) || line_is(buf, n, "NOT_STORED") ||
	    line_is(buf, n, "EXISTS") || line_is(buf, n, "NOT_FOUND"))
		return MC_SERVER_ERR;
	return MC_PROTO_ERR;
}
