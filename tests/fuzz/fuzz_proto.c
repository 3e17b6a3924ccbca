// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz_proto.c - libFuzzer target for the text protocol.
 *
 * One small store (4 MB, debug clock on) lives for the whole run, so items
 * stored by one input are there for the next ones, and eviction, expiry and
 * the "debugtime" command all get exercised. Each input is fed twice:
 *
 *  1. to a TCP-style session, cut into a few chunks at points derived from
 *     the input, the way a transport would: unused bytes (a partial line)
 *     are kept and offered again with the next chunk, and output is drained
 *     after every call. Partial command lines and values split across reads
 *     both happen this way.
 *  2. to a UDP-style session, after xkv_sess_reset(), in one call.
 *
 * An input that starts with "set " is also fed, TCP-style, to a session of
 * a second store started as with -Y (ASCII authentication tokens).
 *
 * Run: build/fuzz/fuzz_proto -dict=tests/fuzz/proto.dict CORPUS_DIR...
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "session.h"
#include "store.h"

/* The platform's log level (kmod/user defines it for xkvd). */
int xkv_os_verbose __attribute__((weak));

#define FUZZ_MAXBYTES (4ULL << 20)
#define FUZZ_MAX_CUTS 4

static struct xkv_store *fuzz_store, *fuzz_auth_store;
static struct xkv_thread_stats *fuzz_stats, *fuzz_auth_stats;
static unsigned long fuzz_iter;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_init(void)
{
	struct xkv_settings set;

	xkv_settings_default(&set, 1);
	set.maxbytes = FUZZ_MAXBYTES;
	set.threads = 1;
	set.debug_clock = true;
	fuzz_store = xkv_store_create(&set, 1);
	if (!fuzz_store)
		abort();
	fuzz_stats = xkv_store_stats_slot(fuzz_store, 0);
	set.auth_file = "fuzz";
	set.pwdb = "u:p\nuser:pass word\r\n:pw\nab:";
	fuzz_auth_store = xkv_store_create(&set, 1);
	if (!fuzz_auth_store)
		abort();
	fuzz_auth_stats = xkv_store_stats_slot(fuzz_auth_store, 0);
}

static void drain(struct xkv_sess *s)
{
	struct xkv_buf *out = xkv_sess_out(s);

	xkv_buf_consume(out, xkv_buf_pending(out));
}

/* FNV-1a: cut points follow the input, so a corpus entry replays exactly. */
static uint64_t hash(const uint8_t *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	while (n--)
		h = (h ^ *p++) * 0x100000001b3ULL;
	return h;
}

static int cmp_size(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * Feed @data like a TCP transport whose reads end at @cuts. @pend holds
 * what the session has not used yet; it may grow up to the whole input.
 * Returns early once the session asks to close.
 */
static void feed_tcp(struct xkv_sess *s, const uint8_t *data, size_t size,
		     const size_t *cuts, size_t ncuts, char *pend)
{
	size_t plen = 0, pos = 0, i;

	for (i = 0; i <= ncuts; i++) {
		size_t end = i < ncuts ? cuts[i] : size;

		memcpy(pend + plen, data + pos, end - pos);
		plen += end - pos;
		pos = end;
		/* run every complete command the session will take */
		while (plen) {
			size_t used = xkv_sess_input(s, pend, plen);

			drain(s);
			if (used > plen)
				abort();	/* contract broken */
			if (xkv_sess_closing(s))
				return;
			if (!used)
				break;
			memmove(pend, pend + used, plen - used);
			plen -= used;
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t cuts[FUZZ_MAX_CUTS], ncuts = 0, i;
	struct xkv_sess *s;
	uint64_t h;
	char *pend;

	if (!fuzz_store)
		fuzz_init();

	h = hash(data, size);
	if (size > 1) {
		ncuts = 1 + h % FUZZ_MAX_CUTS;
		for (i = 0; i < ncuts; i++) {
			h = h * 6364136223846793005ULL + 1442695040888963407ULL;
			cuts[i] = (size_t)((h >> 33) % (size + 1));
		}
		qsort(cuts, ncuts, sizeof(cuts[0]), cmp_size);
	}

	/* 1. TCP-style: one session, input in chunks */
	pend = malloc(size + 1);
	s = xkv_sess_new(fuzz_store, fuzz_stats, false);
	if (pend && s)
		feed_tcp(s, data, size, cuts, ncuts, pend);
	xkv_sess_free(s);
	/* 1b. the same against -Y, for inputs that may carry a token */
	if (pend && size >= 4 && !memcmp(data, "set ", 4)) {
		s = xkv_sess_new(fuzz_auth_store, fuzz_auth_stats, false);
		if (s)
			feed_tcp(s, data, size, cuts, ncuts, pend);
		xkv_sess_free(s);
	}
	free(pend);

	/* 2. UDP-style: a fresh datagram session, the input as one payload */
	s = xkv_sess_new(fuzz_store, fuzz_stats, true);
	if (s) {
		xkv_sess_reset(s);
		xkv_sess_input(s, (const char *)data, size);
		drain(s);
		xkv_sess_free(s);
	}

	/* background work now and then, bounded */
	if (++fuzz_iter % 64 == 0)
		for (i = 0; i < 16 && xkv_store_maintain(fuzz_store); i++)
			;
	return 0;
}
