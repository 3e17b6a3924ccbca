// SPDX-License-Identifier: GPL-2.0
/*
 * test_proto.c - the text protocol session, driven without sockets: exact
 * reply bytes, the same input in any split, noreply, values across calls,
 * overlong lines, the UDP reset, pipelining and output back-pressure.
 */
#include "slab.h"
#include "stats.h"
#include "tap.h"
#include "unit_util.h"

/* ---- a growable string for building inputs and expected outputs ---- */

struct sb {
	char *p;
	size_t n;
	size_t cap;
};

static void sb_add(struct sb *b, const void *p, size_t n)
{
	if (b->n + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;

		while (cap < b->n + n + 1)
			cap *= 2;
		b->p = realloc(b->p, cap);
		if (!b->p)
			tap_bail("out of memory");
		b->cap = cap;
	}
	if (n)
		memcpy(b->p + b->n, p, n);
	b->n += n;
	b->p[b->n] = '\0';
}

static void sb_str(struct sb *b, const char *s)
{
	sb_add(b, s, strlen(s));
}

static __attribute__((format(printf, 2, 3))) void
sb_fmt(struct sb *b, const char *fmt, ...)
{
	char tmp[4096];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(tmp))
		tap_bail("sb_fmt overflow");
	sb_add(b, tmp, (size_t)n);
}

static void sb_fill(struct sb *b, char c, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		sb_add(b, &c, 1);
}

static void sb_free(struct sb *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

/* ---- a session on a fresh store ---- */

struct env {
	struct xkv_store *st;
	struct xkv_sess *s;
};

static void env_new(struct env *e, bool udp)
{
	e->st = uu_store_new(64ULL << 20, 16);
	e->s = xkv_sess_new(e->st, xkv_store_stats_slot(e->st, 0), udp);
	if (!e->s)
		tap_bail("xkv_sess_new");
}

static void env_free(struct env *e)
{
	xkv_sess_free(e->s);
	xkv_store_destroy(e->st);
}

/* feed @in (@n bytes) whole; the output must be @want */
static bool cmdn(struct env *e, const char *in, size_t n, const char *want,
		 size_t wn, const char *name)
{
	struct uu_run r;
	bool ok;

	uu_drive(e->s, in, n, UU_WHOLE, 0, &r);
	ok = tap_is_mem(r.out, r.outlen, want, wn, "%s", name);
	if (r.left)
		tap_diag("  (%zu input bytes left unconsumed)", r.left);
	free(r.out);
	return ok;
}

/* a command with NUL bytes, as string literals */
#define CMDL(e, in, want, name) \
	cmdn(e, in, sizeof(in) - 1, want, sizeof(want) - 1, name)

static bool cmd(struct env *e, const char *in, const char *want)
{
	char name[120];
	size_t i, o = 0;

	/* the command itself, escaped, names the test */
	for (i = 0; in[i] && o < 80; i++) {
		if (in[i] == '\r' || in[i] == '\n') {
			name[o++] = '\\';
			name[o++] = in[i] == '\r' ? 'r' : 'n';
		} else if ((unsigned char)in[i] < 0x20) {
			name[o++] = '?';
		} else {
			name[o++] = in[i];
		}
	}
	name[o < sizeof(name) ? o : sizeof(name) - 1] = '\0';
	if (in[i])
		snprintf(name + 80, sizeof(name) - 80, "...");
	return cmdn(e, in, strlen(in), want, strlen(want), name);
}

/* ---- exact replies ---- */

static void test_replies(void)
{
	struct xkv_thread_stats *ts;
	struct env e;
	struct sb b = { 0 }, w = { 0 };
	char key[300];

	env_new(&e, false);
	ts = xkv_store_stats_slot(e.st, 0);
	cmd(&e, "set foo 5 0 3\r\nbar\r\n", "STORED\r\n");
	cmd(&e, "get foo\r\n", "VALUE foo 5 3\r\nbar\r\nEND\r\n");
	cmd(&e, "gets foo\r\n", "VALUE foo 5 3 1\r\nbar\r\nEND\r\n");
	cmd(&e, "get nope\r\n", "END\r\n");
	cmd(&e, "get foo nope foo\r\n",
	    "VALUE foo 5 3\r\nbar\r\nVALUE foo 5 3\r\nbar\r\nEND\r\n");
	cmd(&e, "get   foo  \r\n", "VALUE foo 5 3\r\nbar\r\nEND\r\n");
	cmd(&e, "get foo\n", "VALUE foo 5 3\r\nbar\r\nEND\r\n");
	cmd(&e, "get\r\n", "ERROR\r\n");
	tap_is_u64(ts->cmd_set, 1, "cmd_set counted");
	tap_is_u64(ts->cmd_get, 8, "cmd_get counts keys");
	tap_is_u64(ts->get_hits, 6, "get_hits");
	tap_is_u64(ts->get_misses, 2, "get_misses");

	cmd(&e, "add foo 0 0 1\r\nx\r\n", "NOT_STORED\r\n");
	cmd(&e, "replace nope 0 0 1\r\nx\r\n", "NOT_STORED\r\n");
	cmd(&e, "append nope 0 0 1\r\nx\r\n", "NOT_STORED\r\n");
	cmd(&e, "append foo 0 0 3\r\nbaz\r\n", "STORED\r\n");
	cmd(&e, "prepend foo 0 0 1\r\n<\r\n", "STORED\r\n");
	cmd(&e, "gets foo\r\n", "VALUE foo 5 7 3\r\n<barbaz\r\nEND\r\n");
	cmd(&e, "cas foo 0 0 1 2\r\nx\r\n", "EXISTS\r\n");
	cmd(&e, "cas foo 9 0 1 3\r\nx\r\n", "STORED\r\n");
	cmd(&e, "cas nope 0 0 1 1\r\nx\r\n", "NOT_FOUND\r\n");
	cmd(&e, "cas foo 0 0 1 abc\r\nx\r\n",
	    "CLIENT_ERROR bad command line format\r\nERROR\r\n");
	cmd(&e, "cas foo 0 0 1\r\nx\r\n", "ERROR\r\nERROR\r\n");
	cmd(&e, "gets foo\r\n", "VALUE foo 9 1 4\r\nx\r\nEND\r\n");
	tap_is_u64(ts->cas_hits, 1, "cas_hits");
	tap_is_u64(ts->cas_badval, 1, "cas_badval");
	tap_is_u64(ts->cas_misses, 1, "cas_misses");
	cmd(&e, "set e 0 0 0\r\n\r\n", "STORED\r\n");
	cmd(&e, "get e\r\n", "VALUE e 0 0\r\n\r\nEND\r\n");
	CMDL(&e, "set bin 4294967295 0 5\r\na\r\n\0b\r\n", "STORED\r\n",
	     "set of a value holding \\r\\n and NUL");
	CMDL(&e, "get bin\r\n",
	     "VALUE bin 4294967295 5\r\na\r\n\0b\r\nEND\r\n",
	     "... reads back byte for byte, flags 2^32 - 1");

	/* incr / decr */
	cmd(&e, "incr n 1\r\n", "NOT_FOUND\r\n");
	cmd(&e, "decr n 1\r\n", "NOT_FOUND\r\n");
	cmd(&e, "set n 0 0 2\r\n10\r\n", "STORED\r\n");
	cmd(&e, "incr n 5\r\n", "15\r\n");
	cmd(&e, "decr n 100\r\n", "0\r\n");
	cmd(&e, "get n\r\n", "VALUE n 0 2\r\n0 \r\nEND\r\n");
	cmd(&e, "incr n 18446744073709551615\r\n", "18446744073709551615\r\n");
	cmd(&e, "incr n 1\r\n", "0\r\n");
	cmd(&e, "incr foo 1\r\n",
	    "CLIENT_ERROR cannot increment or decrement non-numeric value\r\n");
	cmd(&e, "incr n abc\r\n",
	    "CLIENT_ERROR invalid numeric delta argument\r\n");
	cmd(&e, "incr n -1\r\n",
	    "CLIENT_ERROR invalid numeric delta argument\r\n");
	cmd(&e, "decr n 18446744073709551616\r\n",
	    "CLIENT_ERROR invalid numeric delta argument\r\n");
	cmd(&e, "incr n\r\n", "ERROR\r\n");
	cmd(&e, "incr n 1 2 3\r\n", "ERROR\r\n");

	/* touch, gat */
	cmd(&e, "touch foo 100\r\n", "TOUCHED\r\n");
	cmd(&e, "touch nope 100\r\n", "NOT_FOUND\r\n");
	cmd(&e, "touch foo abc\r\n",
	    "CLIENT_ERROR invalid exptime argument\r\n");
	cmd(&e, "touch foo\r\n", "ERROR\r\n");
	cmd(&e, "gat 100 foo nope\r\n", "VALUE foo 9 1\r\nx\r\nEND\r\n");
	cmd(&e, "gats 100 foo\r\n", "VALUE foo 9 1 4\r\nx\r\nEND\r\n");
	cmd(&e, "gat abc foo\r\n", "CLIENT_ERROR invalid exptime argument\r\n");
	cmd(&e, "touch foo -1\r\n", "TOUCHED\r\n");
	cmd(&e, "get foo\r\n", "END\r\n");

	/* delete */
	cmd(&e, "set d 0 0 1\r\nd\r\n", "STORED\r\n");
	cmd(&e, "delete d\r\n", "DELETED\r\n");
	cmd(&e, "delete d\r\n", "NOT_FOUND\r\n");
	cmd(&e, "delete n 0\r\n", "DELETED\r\n");
	cmd(&e, "delete n 5\r\n", "CLIENT_ERROR bad command line format.  "
				  "Usage: delete <key> [noreply]\r\n");
	cmd(&e, "delete\r\n", "ERROR\r\n");
	cmd(&e, "delete a b c d\r\n", "ERROR\r\n");

	/* storage command errors */
	cmd(&e, "set k 0 0\r\n", "ERROR\r\n");
	cmd(&e, "set\r\n", "ERROR\r\n");
	cmd(&e, "set k 0 0 1 noreply extra\r\n", "ERROR\r\n");
	cmd(&e, "set k 0 0 -1\r\n",
	    "CLIENT_ERROR bad command line format\r\n");
	cmd(&e, "set k 0 0 abc\r\n",
	    "CLIENT_ERROR bad command line format\r\n");
	cmd(&e, "set k abc 0 1\r\nx\r\n",
	    "CLIENT_ERROR bad command line format\r\nERROR\r\n");
	cmd(&e, "set k -1 0 1\r\nx\r\n",
	    "CLIENT_ERROR bad command line format\r\nERROR\r\n");
	cmd(&e, "set k 0 abc 1\r\nx\r\n",
	    "CLIENT_ERROR bad command line format\r\nERROR\r\n");
	cmd(&e, "get k\r\n", "END\r\n");
	memset(key, 'k', 251);
	key[251] = '\0';
	sb_fmt(&b, "set %s 0 0 1\r\nx\r\n", key);
	cmd(&e, b.p, "CLIENT_ERROR bad command line format\r\nERROR\r\n");
	b.n = 0;
	sb_fmt(&b, "get foo %s\r\n", key);
	cmd(&e, b.p, "CLIENT_ERROR bad command line format\r\n");
	b.n = 0;
	key[250] = '\0';
	sb_fmt(&b, "set %s 0 0 1\r\nx\r\nget %s\r\n", key, key);
	sb_fmt(&w, "STORED\r\nVALUE %s 0 1\r\nx\r\nEND\r\n", key);
	cmdn(&e, b.p, b.n, w.p, w.n, "a 250-byte key works");

	/* a bad data chunk keeps the old value */
	cmd(&e, "set bd 0 0 3\r\nold\r\n", "STORED\r\n");
	cmd(&e, "set bd 0 0 3\r\nabcde\r\n",
	    "CLIENT_ERROR bad data chunk\r\nERROR\r\n");
	cmd(&e, "set bd 0 0 3\r\nabcdefgh\r\n",
	    "CLIENT_ERROR bad data chunk\r\nERROR\r\n");
	cmd(&e, "get bd\r\n", "VALUE bd 0 3\r\nold\r\nEND\r\n");

	/* too large: the data is swallowed, the old value unlinked */
	b.n = 0;
	sb_str(&b, "set bd 0 0 1048576\r\n");
	sb_fill(&b, 'z', 1048576);
	sb_str(&b, "\r\nget bd\r\nset bd 0 0 5\r\nafter\r\nget bd\r\n");
	{
		const char *want =
			"SERVER_ERROR object too large for cache\r\nEND\r\n"
			"STORED\r\nVALUE bd 0 5\r\nafter\r\nEND\r\n";

		cmdn(&e, b.p, b.n, want, strlen(want),
		     "a 1 MB value: too large, swallowed, old value gone");
	}
	tap_is_u64(ts->store_too_large, 1, "store_too_large counted");

	/* flush_all, version, verbosity, misc */
	cmd(&e, "flush_all\r\n", "OK\r\n");
	cmd(&e, "get bd\r\n", "END\r\n");
	cmd(&e, "flush_all 0\r\n", "OK\r\n");
	cmd(&e, "flush_all 100\r\n", "OK\r\n");
	cmd(&e, "flush_all abc\r\n",
	    "CLIENT_ERROR invalid exptime argument\r\n");
	cmd(&e, "flush_all 1 2 3\r\n", "ERROR\r\n");
	cmd(&e, "flush_all 0\r\n", "OK\r\n");
	cmd(&e, "version\r\n", "VERSION " XKV_VERSION "\r\n");
	cmd(&e, "verbosity 1\r\n", "OK\r\n");
	cmd(&e, "verbosity\r\n", "ERROR\r\n");
	cmd(&e, "verbosity 1 2 3\r\n", "ERROR\r\n");
	cmd(&e, "shutdown\r\n", "ERROR: shutdown not enabled\r\n");
	cmd(&e, "bogus\r\n", "ERROR\r\n");
	cmd(&e, "bogus with args\r\n", "ERROR\r\n");
	cmd(&e, "x\r\n", "ERROR\r\n");
	cmd(&e, "\r\n", "ERROR\r\n");
	cmd(&e, "GET foo\r\n", "ERROR\r\n");
	cmd(&e, "debugtime 10\r\n", "ERROR\r\n");
	cmd(&e, "set nul 0 0 1\r\nv\r\n", "STORED\r\n");
	CMDL(&e, "get nul\0 junk\r\n", "VALUE nul 0 1\r\nv\r\nEND\r\n",
	     "a NUL ends the command line");
	CMDL(&e, "ver\0sion\r\n", "ERROR\r\n", "ver\\0sion: ERROR");
	CMDL(&e, "\0\r\n", "ERROR\r\n", "\\0 alone: ERROR");
	tap_ok(!xkv_sess_closing(e.s), "none of that closed the session");

	cmd(&e, "stats bogus\r\n", "ERROR\r\n");
	env_free(&e);

	/* stats, on a store holding one item */
	env_new(&e, false);
	ts = xkv_store_stats_slot(e.st, 0);
	cmd(&e, "set a 0 0 1\r\na\r\nget a b\r\nflush_all 1000\r\n",
	    "STORED\r\nVALUE a 0 1\r\na\r\nEND\r\nOK\r\n");
	{
		struct uu_run r;

		uu_drive(e.s, "stats\r\n", 7, UU_WHOLE, 0, &r);
		tap_ok(r.outlen > 10 && !memcmp(r.out, "STAT pid ", 9),
		       "stats starts with STAT pid");
		tap_ok(r.outlen > 5 && !strcmp(r.out + r.outlen - 5, "END\r\n"),
		       "stats ends with END");
		tap_ok(strstr(r.out, "\r\nSTAT curr_items 1\r\n") != NULL,
		       "stats: curr_items 1");
		tap_ok(strstr(r.out, "\r\nSTAT cmd_flush 1\r\n") != NULL,
		       "stats: cmd_flush 1");
		tap_ok(strstr(r.out, "\r\nSTAT get_hits 1\r\n") &&
			       strstr(r.out, "\r\nSTAT get_misses 1\r\n") &&
			       strstr(r.out, "\r\nSTAT cmd_set 1\r\n") &&
			       strstr(r.out, "\r\nSTAT bytes 38\r\n"),
		       "stats: get_hits 1, get_misses 1, cmd_set 1, bytes 38");
		free(r.out);
		uu_drive(e.s, "stats settings\r\n", 16, UU_WHOLE, 0, &r);
		tap_ok(!strncmp(r.out, "STAT maxbytes 67108864\r\n", 24) &&
			       strstr(r.out,
				      "STAT item_size_max 1048576\r\n") &&
			       !strcmp(r.out + r.outlen - 5, "END\r\n"),
		       "stats settings");
		free(r.out);
		uu_drive(e.s, "stats items\r\n", 13, UU_WHOLE, 0, &r);
		tap_ok(!strncmp(r.out, "STAT items:1:number 1\r\n", 23) &&
			       !strcmp(r.out + r.outlen - 5, "END\r\n"),
		       "stats items");
		free(r.out);
		uu_drive(e.s, "stats slabs\r\n", 13, UU_WHOLE, 0, &r);
		tap_ok(strstr(r.out, "STAT 1:chunk_size 88\r\n") &&
			       strstr(r.out, "STAT active_slabs ") &&
			       !strcmp(r.out + r.outlen - 5, "END\r\n"),
		       "stats slabs");
		free(r.out);
	}
	cmd(&e, "stats reset\r\n", "RESET\r\n");
	tap_is_u64(ts->cmd_get, 0, "stats reset zeroed cmd_get");

	/* quit: nothing more is read */
	{
		struct uu_run r;
		const char *in = "quit\r\nget a\r\n";

		uu_drive(e.s, in, strlen(in), UU_WHOLE, 0, &r);
		tap_is_mem(r.out, r.outlen, "", 0, "quit: no reply");
		tap_ok(r.closing, "quit: the session is closing");
		tap_is_u64(r.left, 0, "quit: the rest of the input is dropped");
		free(r.out);
	}
	env_free(&e);

	env_new(&e, false);
	{
		struct uu_run r;
		const char *in = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";

		uu_drive(e.s, in, strlen(in), UU_WHOLE, 0, &r);
		tap_ok(r.closing && r.outlen == 0,
		       "an HTTP request closes the session silently");
		free(r.out);
	}
	env_free(&e);

	/* the clock command exists only with debug_clock */
	{
		struct xkv_settings set;

		xkv_settings_default(&set, 1);
		set.debug_clock = true;
		e.st = xkv_store_create(&set, 1);
		e.s = xkv_sess_new(e.st, xkv_store_stats_slot(e.st, 0), false);
		if (!e.st || !e.s)
			tap_bail("store");
		uu_wall_settle();
		cmd(&e, "set t 0 10 1\r\nt\r\n", "STORED\r\n");
		cmd(&e, "debugtime 9\r\nget t\r\n",
		    "OK\r\nVALUE t 0 1\r\nt\r\nEND\r\n");
		cmd(&e, "debugtime 1\r\nget t\r\n", "OK\r\nEND\r\n");
		cmd(&e, "debugtime x\r\n",
		    "CLIENT_ERROR bad command line format\r\n");
		env_free(&e);
	}
	sb_free(&b);
	sb_free(&w);
}

/* ---- the counters a session keeps ---- */

static void test_counters(void)
{
	struct xkv_thread_stats *ts;
	struct env e;

	env_new(&e, false);
	ts = xkv_store_stats_slot(e.st, 0);
	uu_wall_settle();
	cmd(&e, "set k 0 1 1\r\nk\r\nset f 0 0 1\r\nf\r\n",
	    "STORED\r\nSTORED\r\n");
	xkv_store_advance_clock(e.st, 1);
	cmd(&e, "get k\r\n", "END\r\n");
	tap_is_u64(ts->get_expired, 1, "get of an expired key: get_expired");
	tap_is_u64(ts->get_misses, 1, "... and a miss");
	xkv_flush_all(e.st, 0);
	cmd(&e, "get f\r\n", "END\r\n");
	tap_is_u64(ts->get_flushed, 1, "get of a flushed key: get_flushed");
	tap_is_u64(ts->get_expired, 1, "... not get_expired");
	cmd(&e, "set g 0 0 1\r\ng\r\ngat 0 g nope\r\n",
	    "STORED\r\nVALUE g 0 1\r\ng\r\nEND\r\n");
	tap_is_u64(ts->cmd_touch, 2, "gat of two keys: cmd_touch 2");
	tap_is_u64(ts->touch_hits, 1, "touch_hits 1");
	tap_is_u64(ts->touch_misses, 1, "touch_misses 1");
	tap_is_u64(ts->cmd_get, 2, "gat does not count as a get");
	tap_is_u64(ts->get_hits, 0, "... nor as a get hit");
	cmd(&e, "touch g 0\r\ntouch h 0\r\n", "TOUCHED\r\nNOT_FOUND\r\n");
	tap_is_u64(ts->cmd_touch, 4, "touch counts too");
	cmd(&e, "incr g 1\r\nset n 0 0 1\r\n1\r\nincr n 1\r\ndecr n 1\r\n"
		"decr x 1\r\nincr x 1\r\n",
	    "CLIENT_ERROR cannot increment or decrement non-numeric value\r\n"
	    "STORED\r\n2\r\n1\r\nNOT_FOUND\r\nNOT_FOUND\r\n");
	tap_ok(ts->incr_hits == 1 && ts->decr_hits == 1 &&
		       ts->incr_misses == 1 && ts->decr_misses == 1,
	       "incr/decr hits and misses");
	cmd(&e, "delete n\r\ndelete n\r\n", "DELETED\r\nNOT_FOUND\r\n");
	tap_ok(ts->delete_hits == 1 && ts->delete_misses == 1,
	       "delete hits and misses");
	env_free(&e);
}

/* ---- noreply ---- */

static void test_noreply(void)
{
	struct env e;
	struct sb b = { 0 };

	env_new(&e, false);
	cmd(&e, "set k 0 0 1 noreply\r\nv\r\n", "");
	cmd(&e, "add k 0 0 1 noreply\r\nx\r\n", "");
	cmd(&e, "get k\r\n", "VALUE k 0 1\r\nv\r\nEND\r\n");
	cmd(&e, "replace k 3 0 1 noreply\r\nw\r\n", "");
	cmd(&e, "append k 0 0 1 noreply\r\n2\r\n", "");
	cmd(&e, "prepend k 0 0 1 noreply\r\n1\r\n", "");
	cmd(&e, "get k\r\n", "VALUE k 3 3\r\n1w2\r\nEND\r\n");
	cmd(&e, "cas k 0 0 1 999 noreply\r\nz\r\n", "");
	cmd(&e, "cas k 0 0 1 4 noreply\r\nz\r\n", "");
	cmd(&e, "cas none 0 0 1 5 noreply\r\nz\r\n", "");
	cmd(&e, "get k\r\n", "VALUE k 0 1\r\nz\r\nEND\r\n");
	cmd(&e, "incr n 1 noreply\r\n", "");
	cmd(&e, "set n 0 0 1 noreply\r\n5\r\nincr n 10 noreply\r\n"
		"decr n 1 noreply\r\nincr k 1 noreply\r\nget n\r\n",
	    "VALUE n 0 2\r\n14\r\nEND\r\n");
	cmd(&e, "incr n abc noreply\r\n", "");
	cmd(&e, "touch k 100 noreply\r\ntouch none 1 noreply\r\n", "");
	cmd(&e, "touch k abc noreply\r\n", "");
	cmd(&e, "delete k noreply\r\ndelete k noreply\r\nget k\r\n", "END\r\n");
	cmd(&e, "delete n 0 noreply\r\nget n\r\n", "END\r\n");
	cmd(&e, "delete n 5 noreply\r\n", "");
	cmd(&e, "verbosity 1 noreply\r\nget\r\n", "ERROR\r\n");
	cmd(&e, "set k abc 0 1 noreply\r\n", "");
	cmd(&e, "set k 0 0 -1 noreply\r\n", "");
	cmd(&e, "set f 0 0 1\r\nf\r\n", "STORED\r\n");
	cmd(&e, "flush_all noreply\r\nget f\r\n", "END\r\n");
	cmd(&e, "set f 0 0 1\r\nf\r\n", "STORED\r\n");
	cmd(&e, "flush_all 0 noreply\r\nget f\r\n", "END\r\n");
	cmd(&e, "flush_all abc noreply\r\n", "");
	/* too large with noreply: swallowed silently, then back to normal */
	sb_str(&b, "set big 0 0 2000000 noreply\r\n");
	sb_fill(&b, 'q', 2000000);
	sb_str(&b, "\r\nget big\r\n");
	cmdn(&e, b.p, b.n, "END\r\n", 5, "too large + noreply: no error");
	/* a bad data chunk with noreply: silent; the rest is a command */
	cmd(&e, "set k 0 0 1 noreply\r\nxyz\r\n", "ERROR\r\n");
	/* noreply does not leak into the next command */
	cmd(&e, "set k 0 0 1 noreply\r\nv\r\nset k 0 0 1\r\nw\r\n",
	    "STORED\r\n");
	/* get has no noreply: it is one more key */
	cmd(&e, "get k noreply\r\n", "VALUE k 0 1\r\nw\r\nEND\r\n");
	sb_free(&b);
	env_free(&e);
}

/* ---- the same input in any split ---- */

static void build_script(struct sb *in, struct sb *want)
{
	u32 i;

#define CMD(c, r)                   \
	do {                        \
		sb_str(in, c);      \
		sb_str(want, r);    \
	} while (0)

	CMD("set a 1 0 5\r\nhello\r\n", "STORED\r\n");
	CMD("get a\r\n", "VALUE a 1 5\r\nhello\r\nEND\r\n");
	CMD("set crlf 0 0 8\r\n\r\n\r\n\r\n\r\n\r\n", "STORED\r\n");
	CMD("get crlf a\r\n",
	    "VALUE crlf 0 8\r\n\r\n\r\n\r\n\r\n\r\n"
	    "VALUE a 1 5\r\nhello\r\nEND\r\n");
	CMD("set end 0 0 12\r\nEND\r\nVALUE\r\n\r\n", "STORED\r\n");
	CMD("get end\r\n", "VALUE end 0 12\r\nEND\r\nVALUE\r\n\r\nEND\r\n");
	CMD("add a 0 0 1\r\nx\r\n", "NOT_STORED\r\n");
	CMD("append a 0 0 6\r\n world\r\n", "STORED\r\n");
	CMD("get a\n", "VALUE a 1 11\r\nhello world\r\nEND\r\n");
	CMD("set n 0 0 3 noreply\r\n100\r\n", "");
	CMD("decr n 1\r\n", "99\r\n");
	CMD("incr n 2 noreply\r\n", "");
	CMD("get n\r\n", "VALUE n 0 3\r\n101\r\nEND\r\n");
	CMD("bogus\r\n", "ERROR\r\n");
	CMD("\r\n", "ERROR\r\n");
	CMD("set bad 0 0 2\r\nabcd\r\n",
	    "CLIENT_ERROR bad data chunk\r\nERROR\r\n");
	CMD("set x 0 0 -5\r\n", "CLIENT_ERROR bad command line format\r\n");
	CMD("delete a\r\n", "DELETED\r\n");
	CMD("delete a\r\n", "NOT_FOUND\r\n");
	CMD("touch n 0\r\n", "TOUCHED\r\n");
	CMD("version\r\n", "VERSION " XKV_VERSION "\r\n");
	/* a too-large value, swallowed */
	sb_str(in, "set huge 0 0 1100000\r\n");
	sb_fill(in, 'h', 1100000);
	sb_str(in, "\r\n");
	sb_str(want, "SERVER_ERROR object too large for cache\r\n");
	CMD("get huge\r\n", "END\r\n");
	/* a 30 KB value */
	sb_str(in, "set mid 0 0 30000\r\n");
	for (i = 0; i < 30000; i++)
		sb_add(in, &"0123456789\r\n"[i % 12], 1);
	sb_str(in, "\r\n");
	sb_str(want, "STORED\r\n");
	sb_str(in, "get mid\r\n");
	sb_str(want, "VALUE mid 0 30000\r\n");
	for (i = 0; i < 30000; i++)
		sb_add(want, &"0123456789\r\n"[i % 12], 1);
	sb_str(want, "\r\nEND\r\n");
	/* a multiget line of 3300 bytes: fine even when it arrives slowly */
	sb_str(in, "get");
	for (i = 0; i < 300; i++)
		sb_fmt(in, " miss:%05u", i);
	sb_str(in, " n\r\n");
	sb_str(want, "VALUE n 0 3\r\n101\r\nEND\r\n");
	for (i = 0; i < 50; i++) {
		sb_fmt(in, "set p%u 0 0 %u\r\n%0*u\r\n", i, 4 + i % 3,
		       (int)(4 + i % 3), i);
		sb_str(want, "STORED\r\n");
	}
	for (i = 0; i < 50; i += 7) {
		sb_fmt(in, "get p%u\r\n", i);
		sb_fmt(want, "VALUE p%u 0 %u\r\n%0*u\r\nEND\r\n", i, 4 + i % 3,
		       (int)(4 + i % 3), i);
	}
	/* an unfinished command at the very end stays unconsumed */
	sb_str(in, "get p1");
#undef CMD
}

static void test_splits(void)
{
	static const struct {
		enum uu_split split;
		u64 seed;
		const char *name;
	} modes[] = {
		{ UU_WHOLE, 0, "whole" },
		{ UU_BYTES, 0, "byte by byte" },
		{ UU_RANDOM, 1, "random splits, seed 1" },
		{ UU_RANDOM, 2, "random splits, seed 2" },
		{ UU_RANDOM, 3, "random splits, seed 3" },
	};
	struct sb in = { 0 }, want = { 0 };
	struct uu_run first = { 0 };
	size_t m;

	build_script(&in, &want);
	tap_diag("split script: %zu input bytes, %zu output bytes", in.n,
		 want.n);
	for (m = 0; m < sizeof(modes) / sizeof(modes[0]); m++) {
		struct uu_run r;
		struct env e;

		env_new(&e, false);
		uu_drive(e.s, in.p, in.n, modes[m].split, modes[m].seed, &r);
		tap_is_mem(r.out, r.outlen, want.p, want.n,
			   "%s: output is exactly as expected", modes[m].name);
		tap_is_u64(r.left, 6, "%s: \"get p1\" left unconsumed",
			   modes[m].name);
		tap_ok(!r.closing, "%s: not closing", modes[m].name);
		tap_is_u64(uu_stat(e.st, "curr_items"), 54,
			   "%s: 54 items stored", modes[m].name);
		tap_diag("%s: %llu xkv_sess_input calls", modes[m].name,
			 (unsigned long long)r.calls);
		if (m == 0) {
			first = r;
		} else {
			tap_is_mem(r.out, r.outlen, first.out, first.outlen,
				   "%s: identical to whole", modes[m].name);
			free(r.out);
		}
		env_free(&e);
	}
	free(first.out);
	sb_free(&in);
	sb_free(&want);
}

/* ---- a value split across calls ---- */

static void test_value_split(void)
{
	struct env e;
	size_t used;
	char *out;

	env_new(&e, false);
	used = xkv_sess_input(e.s, "set k 0 0 10\r\nhello", 19);
	tap_is_u64(used, 19, "command line and 5 value bytes consumed");
	tap_is_u64(xkv_buf_pending(xkv_sess_out(e.s)), 0, "no reply yet");
	used = xkv_sess_input(e.s, "wor", 3);
	tap_is_u64(used, 3, "3 more value bytes consumed");
	used = xkv_sess_input(e.s, "ld\r", 3);
	tap_is_u64(used, 3, "last value bytes and the \\r consumed");
	tap_is_u64(xkv_buf_pending(xkv_sess_out(e.s)), 0, "still no reply");
	used = xkv_sess_input(e.s, "\nget k\r\nget", 11);
	tap_is_u64(used, 8, "the \\n and \"get k\\r\\n\" consumed, "
			    "\"get\" left");
	out = uu_take_out(e.s, NULL);
	tap_is_str(out, "STORED\r\nVALUE k 0 10\r\nhelloworld\r\nEND\r\n",
		   "value assembled across four calls");
	free(out);
	used = xkv_sess_input(e.s, "get", 3);
	tap_is_u64(used, 0, "a partial line is not consumed");
	used = xkv_sess_input(e.s, "get k\r", 6);
	tap_is_u64(used, 0, "... nor one ending in \\r");
	used = xkv_sess_input(e.s, "get k\r\n", 7);
	tap_is_u64(used, 7, "the completed line is");
	out = uu_take_out(e.s, NULL);
	tap_is_str(out, "VALUE k 0 10\r\nhelloworld\r\nEND\r\n", "its reply");
	free(out);
	tap_is_u64(xkv_sess_input(e.s, "", 0), 0, "empty input: 0");
	env_free(&e);

	/* free a session with a half-read value: nothing leaks (ASan) */
	env_new(&e, false);
	xkv_sess_input(e.s, "set k 0 0 100\r\nabc", 18);
	env_free(&e);
	tap_ok(1, "freeing a session mid-value");
}

/* ---- lines without a newline ---- */

static void long_line(const char *prefix, size_t total, bool closes,
		      const char *name)
{
	struct sb b = { 0 };
	struct env e;
	size_t used;

	env_new(&e, false);
	sb_str(&b, prefix);
	while (b.n < total)
		sb_str(&b, b.n % 11 == 10 ? " " : "k");
	b.n = total;
	used = xkv_sess_input(e.s, b.p, b.n);
	if (closes) {
		tap_ok(xkv_sess_closing(e.s), "%s: closes", name);
		tap_is_u64(used, total, "%s: all input consumed", name);
	} else {
		tap_ok(!xkv_sess_closing(e.s), "%s: stays open", name);
		tap_is_u64(used, 0, "%s: nothing consumed yet", name);
	}
	tap_is_u64(xkv_buf_pending(xkv_sess_out(e.s)), 0, "%s: no reply",
		   name);
	sb_free(&b);
	env_free(&e);
}

static void test_long_lines(void)
{
	struct sb b = { 0 };
	struct uu_run r;
	struct env e;
	u32 i;

	long_line("set ", 2048, false, "2048 bytes of set");
	long_line("set ", 2049, true, "2049 bytes of set");
	long_line("", 3000, true, "3000 bytes of k");
	long_line("get ", 3000, false, "3000 bytes of get");
	long_line("gets ", 3000, false, "3000 bytes of gets");
	long_line("gat 0 ", 3000, true, "3000 bytes of gat");
	long_line("getx", 3000, true, "3000 bytes of getx");
	long_line("get", 3000, true, "3000 bytes of get without a blank");
	long_line("                                        get ", 3000, false,
		  "get after 40 blanks");
	long_line("                                                  "
		  "                                                  "
		  " get ", 3000, true, "get after 101 blanks");

	/* even a get line has a bound: 1 MB */
	env_new(&e, false);
	sb_str(&b, "get");
	while (b.n <= XKV_MULTIGET_LINE_MAX)
		sb_str(&b, " k123456789");
	tap_is_u64(xkv_sess_input(e.s, b.p, XKV_MULTIGET_LINE_MAX), 0,
		   "a 1 MB get line without newline: still waiting");
	tap_ok(!xkv_sess_closing(e.s), "... and open");
	tap_is_u64(xkv_sess_input(e.s, b.p, XKV_MULTIGET_LINE_MAX + 1),
		   XKV_MULTIGET_LINE_MAX + 1, "1 MB + 1: consumed");
	tap_ok(xkv_sess_closing(e.s), "... and closing");
	env_free(&e);
	b.n = 0;

	/* a long multiget completes */
	env_new(&e, false);
	cmd(&e, "set mk 0 0 2\r\nmv\r\n", "STORED\r\n");
	sb_str(&b, "get");
	for (i = 0; i < 1000; i++)
		sb_fmt(&b, " k%04u", i);
	sb_str(&b, " mk\r\n");
	uu_drive(e.s, b.p, b.n, UU_RANDOM, 9, &r);
	tap_is_str(r.out, "VALUE mk 0 2\r\nmv\r\nEND\r\n",
		   "a 6 KB multiget in pieces is answered");
	tap_ok(!r.closing && !r.left, "... and nothing is left");
	free(r.out);
	/* a long line that has its newline is just a command */
	b.n = 0;
	sb_str(&b, "bogus");
	sb_fill(&b, ' ', 3000);
	sb_str(&b, "x\r\n");
	cmdn(&e, b.p, b.n, "ERROR\r\n", 7,
	     "a 3 KB bogus line with its newline: ERROR");
	tap_ok(!xkv_sess_closing(e.s), "... and the session stays open");
	sb_free(&b);
	env_free(&e);
}

/* ---- UDP: a reset drops a half-read value ---- */

static void test_udp_reset(void)
{
	struct env e;
	struct xkv_class *c;
	u64 nfree;
	u32 id;
	char *out;

	env_new(&e, true);
	id = xkv_slab_class_for(e.st, xkv_item_total(1, 10));
	c = &e.st->cls[id];
	xkv_sess_reset(e.s);
	tap_is_u64(xkv_sess_input(e.s, "set k 0 0 10\r\nhel", 17), 17,
		   "udp: a datagram ending mid-value is consumed");
	nfree = c->nfree;
	xkv_sess_reset(e.s);
	tap_is_u64(c->nfree, nfree + 1, "reset gave the item's chunk back");
	tap_is_u64(xkv_buf_pending(xkv_sess_out(e.s)), 0, "no output");
	tap_is_u64(xkv_sess_input(e.s, "get k\r\n", 7), 7,
		   "next datagram: a command, not value bytes");
	out = uu_take_out(e.s, NULL);
	tap_is_str(out, "END\r\n", "the half-read set stored nothing");
	free(out);
	tap_is_u64(uu_stat(e.st, "curr_items"), 0, "curr_items 0");

	xkv_sess_reset(e.s);
	xkv_sess_input(e.s, "set k 0 0 2\r\nhi\r\nget k\r\n", 24);
	out = uu_take_out(e.s, NULL);
	tap_is_str(out, "STORED\r\nVALUE k 0 2\r\nhi\r\nEND\r\n",
		   "a whole datagram works after the reset");
	free(out);

	/* reset drops pending output and the closing flag */
	xkv_sess_reset(e.s);
	xkv_sess_input(e.s, "version\r\n", 9);
	xkv_sess_reset(e.s);
	tap_is_u64(xkv_buf_pending(xkv_sess_out(e.s)), 0,
		   "reset drops unsent output");
	xkv_sess_input(e.s, "quit\r\n", 6);
	tap_ok(xkv_sess_closing(e.s), "quit sets closing");
	xkv_sess_reset(e.s);
	tap_ok(!xkv_sess_closing(e.s), "reset clears closing");

	/* reset in the middle of swallowing a too-large value */
	xkv_sess_input(e.s, "set big 0 0 2000000\r\nzzzz", 25);
	out = uu_take_out(e.s, NULL);
	tap_is_str(out, "SERVER_ERROR object too large for cache\r\n",
		   "too large in a datagram");
	free(out);
	xkv_sess_reset(e.s);
	xkv_sess_input(e.s, "get k\r\n", 7);
	out = uu_take_out(e.s, NULL);
	tap_is_str(out, "VALUE k 0 2\r\nhi\r\nEND\r\n",
		   "reset ends the swallowing");
	free(out);

	/* a half-read value with noreply: the next datagram replies */
	xkv_sess_reset(e.s);
	xkv_sess_input(e.s, "set q 0 0 5 noreply\r\nab", 23);
	xkv_sess_reset(e.s);
	xkv_sess_input(e.s, "get q\r\n", 7);
	out = uu_take_out(e.s, NULL);
	tap_is_str(out, "END\r\n", "reset also forgets noreply");
	free(out);
	env_free(&e);
}

/* ---- pipelining ---- */

static void test_pipeline(void)
{
	struct sb in = { 0 }, want = { 0 };
	struct env e;
	size_t used;
	char *out;
	size_t n;
	u32 i;

	env_new(&e, false);
	for (i = 0; i < 1000; i++) {
		int vl = snprintf(NULL, 0, "v%u", i - i % 4);

		switch (i % 4) {
		case 0:
			sb_fmt(&in, "set k%u %u 0 %d\r\nv%u\r\n", i, i, vl, i);
			sb_str(&want, "STORED\r\n");
			break;
		case 1:
			sb_fmt(&in, "get k%u\r\n", i - 1);
			sb_fmt(&want, "VALUE k%u %u %d\r\nv%u\r\nEND\r\n",
			       i - 1, i - 1, vl, i - 1);
			break;
		case 2:
			sb_fmt(&in, "delete k%u\r\n", i - 2);
			sb_str(&want, "DELETED\r\n");
			break;
		default:
			sb_fmt(&in, "incr k%u 1\r\n", i - 3);
			sb_str(&want, "NOT_FOUND\r\n");
			break;
		}
	}
	used = xkv_sess_input(e.s, in.p, in.n);
	tap_is_u64(used, in.n, "1000 pipelined commands consumed at once");
	out = uu_take_out(e.s, &n);
	tap_is_mem(out, n, want.p, want.n, "their 1000 replies in order");
	free(out);
	tap_is_u64(uu_stat(e.st, "curr_items"), 0, "curr_items 0");
	tap_is_u64(xkv_store_stats_slot(e.st, 0)->cmd_set, 250, "cmd_set 250");
	tap_is_u64(xkv_store_stats_slot(e.st, 0)->delete_hits, 250,
		   "delete_hits 250");
	sb_free(&in);
	sb_free(&want);
	env_free(&e);
}

/* ---- output back-pressure ---- */

static void test_backpressure(void)
{
	const size_t vlen = 100000;
	struct sb in = { 0 }, one = { 0 }, all = { 0 };
	size_t used, off = 0, reply;
	struct env e;
	struct uu_run r;
	u32 i;

	env_new(&e, false);
	sb_fmt(&in, "set big 0 0 %zu\r\n", vlen);
	sb_fill(&in, 'B', vlen);
	sb_str(&in, "\r\n");
	cmdn(&e, in.p, in.n, "STORED\r\n", 8, "store a 100 KB value");
	sb_fmt(&one, "VALUE big 0 %zu\r\n", vlen);
	sb_fill(&one, 'B', vlen);
	sb_str(&one, "\r\nEND\r\n");
	reply = one.n;

	in.n = 0;
	for (i = 0; i < 10; i++) {
		sb_str(&in, "get big\r\n");
		sb_add(&all, one.p, one.n);
	}
	sb_str(&in, "version\r\n");
	sb_str(&all, "VERSION " XKV_VERSION "\r\n");

	/* 3 replies pass 256 KB: the call stops after the third get */
	used = xkv_sess_input(e.s, in.p, in.n);
	tap_is_u64(used, 27, "stops after 3 gets (%zu reply bytes > %u)",
		   3 * reply, XKV_SESS_OUT_HIGH);
	tap_is_u64(xkv_buf_pending(xkv_sess_out(e.s)), 3 * reply,
		   "3 replies pending");
	tap_ok(in.p[used - 1] == '\n' && !memcmp(in.p + used, "get ", 4),
	       "it stopped at a command boundary");
	xkv_buf_consume(xkv_sess_out(e.s), 3 * reply);
	off = used;
	used = xkv_sess_input(e.s, in.p + off, in.n - off);
	tap_is_u64(used, 27, "after draining, the next 3 gets run");
	xkv_buf_consume(xkv_sess_out(e.s),
			xkv_buf_pending(xkv_sess_out(e.s)));
	off += used;
	used = xkv_sess_input(e.s, in.p + off, in.n - off);
	tap_is_u64(used, 27, "then 3 more");
	xkv_buf_consume(xkv_sess_out(e.s),
			xkv_buf_pending(xkv_sess_out(e.s)));
	off += used;
	used = xkv_sess_input(e.s, in.p + off, in.n - off);
	tap_is_u64(off + used, in.n, "then the last get and version");
	tap_is_u64(xkv_buf_pending(xkv_sess_out(e.s)),
		   reply + strlen("VERSION " XKV_VERSION "\r\n"),
		   "their replies pending");
	xkv_buf_consume(xkv_sess_out(e.s),
			xkv_buf_pending(xkv_sess_out(e.s)));

	/* the transport's loop gets every reply, in order */
	uu_drive(e.s, in.p, in.n, UU_WHOLE, 0, &r);
	tap_is_mem(r.out, r.outlen, all.p, all.n,
		   "driven like a transport: all 11 replies, in order");
	tap_ok(r.calls >= 4, "in %llu calls", (unsigned long long)r.calls);
	free(r.out);

	/* a UDP session never stops early: the datagram is all there is */
	{
		struct xkv_sess *u = xkv_sess_new(e.st,
						  xkv_store_stats_slot(e.st, 1),
						  true);
		size_t n = in.n - strlen("version\r\n");

		if (!u)
			tap_bail("xkv_sess_new");
		xkv_sess_reset(u);
		tap_is_u64(xkv_sess_input(u, in.p, n), n,
			   "udp: 10 big gets run in one call");
		tap_is_u64(xkv_buf_pending(xkv_sess_out(u)), 10 * reply,
			   "udp: all 10 replies pending");
		xkv_sess_free(u);
	}

	/* a storage command completing does not stop early by itself */
	in.n = 0;
	for (i = 0; i < 5; i++)
		sb_str(&in, "get big\r\n");
	sb_str(&in, "set s 0 0 1\r\ns\r\n");
	used = xkv_sess_input(e.s, in.p, in.n);
	tap_is_u64(used, 27, "5 gets then a set: stops after 3 gets");
	xkv_buf_consume(xkv_sess_out(e.s),
			xkv_buf_pending(xkv_sess_out(e.s)));
	sb_free(&in);
	sb_free(&one);
	sb_free(&all);
	env_free(&e);
}

int main(void)
{
	test_replies();
	test_counters();
	test_noreply();
	test_splits();
	test_value_split();
	test_long_lines();
	test_udp_reset();
	test_pipeline();
	test_backpressure();
	return tap_done();
}
