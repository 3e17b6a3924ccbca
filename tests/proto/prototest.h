// SPDX-License-Identifier: GPL-2.0
/*
 * xkv-prototest: memcached text, binary and meta protocol conformance
 * tests.
 *
 * One program, several files: util.c (buffers, scratch strings, keys),
 * client.c (TCP/UDP sockets with timeouts), tap.c (TAP output),
 * check.c (assertions on exact reply bytes), main.c (command line and
 * run order) and tests_*.c (one group of tests each).
 */
#ifndef XKV_PROTOTEST_H
#define XKV_PROTOTEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Every socket operation gives up after this long. */
#define PT_TIMEOUT_MS		3000
/* memcached's longest key. */
#define PT_KEY_MAX		250

#define __pt_printf(a, b)	__attribute__((format(printf, a, b)))

/**
 * struct pt_opts - what the command line asked for
 * @host:	server address, dotted IPv4
 * @tcp_port:	server TCP port
 * @udp_port:	server UDP port, 0 when UDP tests are off
 * @debugtime:	server understands "debugtime <seconds>"
 * @evict:	server runs with a small memory limit: run eviction tests
 * @sleep:	really sleep to let time pass (slow; for stock memcached)
 * @verbose:	log every request and reply as TAP comments
 * @sasl:	"USER:PASSWORD": the server runs with SASL (-S): only the
 *		SASL tests run, authenticating as USER
 * @ascii_auth:	"USER:PASSWORD": the server runs with -Y (ASCII tokens):
 *		only the auth group runs, authenticating as USER
 * @refused:	"USER:PASSWORD" the server must refuse (with @sasl or
 *		@ascii_auth: a user a reload of the file took away)
 */
struct pt_opts {
	const char *host;
	uint16_t tcp_port;
	uint16_t udp_port;
	bool debugtime;
	bool evict;
	bool sleep;
	bool verbose;
	const char *sasl;
	const char *ascii_auth;
	const char *refused;
};

extern struct pt_opts pt_opts;

/* ---- util.c ---- */

/**
 * struct sbuf - growable byte buffer, always NUL-terminated
 * @data:	bytes (NULL until something is added)
 * @len:	bytes in use, not counting the terminating NUL
 * @cap:	bytes allocated
 */
struct sbuf {
	char *data;
	size_t len;
	size_t cap;
};

void sbuf_init(struct sbuf *b);
void sbuf_free(struct sbuf *b);
void sbuf_reserve(struct sbuf *b, size_t extra);
void sbuf_add(struct sbuf *b, const void *p, size_t n);
void sbuf_adds(struct sbuf *b, const char *s);
void sbuf_addf(struct sbuf *b, const char *fmt, ...) __pt_printf(2, 3);
void sbuf_fill(struct sbuf *b, char c, size_t n);
void sbuf_consume(struct sbuf *b, size_t n);

const char *pt_str(const char *fmt, ...) __pt_printf(1, 2);
const char *pt_key(const char *suffix);
void pt_scratch_release(void);
void pt_set_run_id(void);
uint64_t pt_now_ms(void);
void pt_msleep(unsigned int ms);

/* ---- client.c ---- */

/**
 * struct conn - one TCP connection to the server under test
 * @fd:		socket, -1 when closed
 * @in:		bytes received and not yet consumed
 */
struct conn {
	int fd;
	struct sbuf in;
};

int conn_open(struct conn *c);
void conn_close(struct conn *c);
int conn_send(struct conn *c, const void *p, size_t n);
int conn_fill(struct conn *c, int timeout_ms);
int conn_read_n(struct conn *c, size_t n, struct sbuf *out);
int conn_read_line(struct conn *c, struct sbuf *out);
int conn_wait_closed(struct conn *c, struct sbuf *extra);
int udp_open(void);
int udp_send(int fd, uint16_t id, uint16_t reserved, const void *p, size_t n);
int udp_recv(int fd, void *buf, size_t cap, int timeout_ms);

/* ---- tap.c ---- */

void tap_begin(const char *name);
bool tap_fail(const char *fmt, ...) __pt_printf(1, 2);
void tap_diag(const char *fmt, ...) __pt_printf(1, 2);
void tap_diag_bytes(const char *label, const void *p, size_t n);
void tap_diag_mismatch(const void *want, size_t wlen,
		       const void *got, size_t glen);
void tap_log(const char *dir, const void *p, size_t n);
bool tap_failed(void);
const char *tap_name(void);
void tap_end(void);
void tap_skip(const char *name, const char *reason);
int tap_finish(void);

/* ---- check.c ---- */

bool pt_expect(struct conn *c, const void *req, size_t rlen,
	       const void *want, size_t wlen);
bool pt_cmd(struct conn *c, const char *req, const char *want);
bool pt_send(struct conn *c, const void *p, size_t n);
bool pt_sends(struct conn *c, const char *s);
bool pt_set(struct conn *c, const char *key, uint32_t flags,
	    const char *val);
bool pt_get_is(struct conn *c, const char *key, uint32_t flags,
	       const char *val);
bool pt_get_miss(struct conn *c, const char *key);
bool pt_read_value(struct conn *c, const char *key, uint32_t flags,
		   const void *val, size_t vlen, uint64_t *cas);
bool pt_gets(struct conn *c, const char *key, const char *val,
	     uint64_t *cas);
bool pt_line_prefix(struct conn *c, const char *req, const char *prefix,
		    struct sbuf *line);
bool pt_closed(struct conn *c);
bool pt_check(bool cond, const char *fmt, ...) __pt_printf(2, 3);
bool pt_stats(struct conn *c, const char *sub, struct sbuf *out);
bool pt_stat_find(const struct sbuf *st, const char *name, const char **val,
		  size_t *vlen);
bool pt_stat_u64(const struct sbuf *st, const char *name, uint64_t *v);
bool pt_advance(struct conn *c, unsigned int seconds);

/* ---- tests_*.c ---- */

/* What a test needs from the command line before it can run. */
#define PT_NEED_UDP	0x1
#define PT_NEED_EVICT	0x2
#define PT_NEED_TIME	0x4
#define PT_NEED_SASL	0x8	/* runs only, and alone, with --sasl */
#define PT_NEED_ASCII	0x10	/* runs only, and alone, with --ascii-auth */
#define PT_NEED_REFUSED	0x20	/* needs --refused */

/**
 * struct pt_test - one test: a TAP line of its own
 * @name:	TAP name, also part of every key the test uses
 * @fn:		body; runs on a fresh connection and reports through tap_*()
 * @needs:	PT_NEED_* flags; the test is skipped when one is missing
 */
struct pt_test {
	const char *name;
	void (*fn)(struct conn *c);
	unsigned int needs;
};

/**
 * struct pt_group - tests of one area, run in order
 * @name:	group name, for -v
 * @tests:	the tests
 * @count:	how many
 */
struct pt_group {
	const char *name;
	const struct pt_test *tests;
	size_t count;
};

#define PT_GROUP(gname, arr) \
	{ .name = (gname), .tests = (arr), \
	  .count = sizeof(arr) / sizeof((arr)[0]) }

extern const struct pt_group pt_group_get;
extern const struct pt_group pt_group_store;
extern const struct pt_group pt_group_arith;
extern const struct pt_group pt_group_admin;
extern const struct pt_group pt_group_admincmd;
extern const struct pt_group pt_group_settings;
extern const struct pt_group pt_group_noreply;
extern const struct pt_group pt_group_stream;
extern const struct pt_group pt_group_robust;
extern const struct pt_group pt_group_udp;
extern const struct pt_group pt_group_expiry;
extern const struct pt_group pt_group_evict;
extern const struct pt_group pt_group_flush;
extern const struct pt_group pt_group_bin;
extern const struct pt_group pt_group_binframe;
extern const struct pt_group pt_group_meta;
extern const struct pt_group pt_group_auth;

#endif /* XKV_PROTOTEST_H */
