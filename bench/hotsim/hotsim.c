// SPDX-License-Identifier: GPL-2.0
/*
 * hotsim.c - how well does the store fill the XDP hot cache?
 *
 * Runs the real store core with a hot cache in plain memory and replays a
 * Zipf-distributed GET stream: a request is an XDP hit when the key's slot
 * holds an entry for it (what the XDP program looks for, with the same
 * xkv_slot_find() walk), otherwise it goes to the backend (xkv_item_get(),
 * which counts it and may admit the key, evicting less popular entries of
 * its slot). XDP's sampled per-entry hit counter is imitated too.
 *
 * The hit ratio after a warm-up is compared with the ideal: a cache of the
 * same bytes that always holds the keys with the most requests per byte
 * of entry, as many as their entries fit in @slots x XKV_HOT_SLOT_ROOM
 * bytes (the last one in part), knowing the popularity exactly and
 * ignoring which slot a key hashes to. With one size that is the N most
 * popular keys. Deterministic for a given seed.
 *
 *   hotsim [-k KEYS] [-s SLOTS] [-z EXPONENT] [-n REQUESTS] [-S SEED]
 *          [-K KEYLEN] [-V VALLEN] [-m] [-j]
 *
 * -K/-V: every key and value that long (default 16 and 32 bytes). -m:
 * mixed sizes instead: keys of 8..64 bytes, values of 1..128 bytes for
 * 70% of the keys, 129..512 for 25% and 513..1400 (one datagram) for 5%,
 * drawn per key.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "items.h"
#include "store.h"
#include "xkv_slot.h"
#include "rng.h"
#include "zipf.h"

int xkv_os_verbose;

struct sim {
	u64 keys;
	u32 slots;
	double s;
	u64 requests;
	u64 seed;
	u32 klen;
	u32 vlen;
	bool mixed;
	bool json;
};

/* key and value lengths of the key of popularity rank @rank (from 0) */
static void key_sizes(const struct sim *o, u64 rank, u32 *klen, u32 *vlen)
{
	u64 h = mix64(rank ^ 0x5eed5eedULL);
	u32 c = (u32)(h % 100);

	if (!o->mixed) {
		*klen = o->klen;
		*vlen = o->vlen;
		return;
	}
	*klen = 8 + (u32)((h >> 8) % 57);
	if (c < 70)
		*vlen = 1 + (u32)((h >> 20) % 128);
	else if (c < 95)
		*vlen = 129 + (u32)((h >> 20) % 384);
	else
		*vlen = 513 + (u32)((h >> 20) % 888);
}

static u32 key_name(const struct sim *o, char *buf, u64 rank)
{
	u32 klen, vlen, i;
	char hex[17];

	key_sizes(o, rank, &klen, &vlen);
	/* scramble ranks so popularity has nothing to do with key order */
	snprintf(hex, sizeof(hex), "%016llx",
		 (unsigned long long)mix64(rank + 1));
	for (i = 0; i < klen; i++)
		buf[i] = hex[i % 16];
	/* keys longer than 16 bytes: make the tail differ too */
	if (klen > 16)
		buf[16] = (char)('g' + (char)(rank % 20));
	buf[klen] = 0;
	return klen;
}

/* bytes of the entry of rank @rank (flags 0) */
static u32 ent_bytes(const struct sim *o, u64 rank)
{
	u32 klen, vlen;

	key_sizes(o, rank, &klen, &vlen);
	return xkv_hot_ent_size(xkv_slot_line_len(klen, vlen, 0), vlen);
}

/* what the XDP program checks: the key has an entry in its slot */
static bool xdp_hit(struct xkv_slot *slots, u32 nslots, const char *key,
		    u32 nkey, u64 *rng)
{
	u32 hash = xkv_hot_hash(key, nkey);
	struct xkv_slot *sl = &slots[xkv_hot_index(hash, nslots)];
	int off;

	if (sl->seq & 1)
		return false;
	off = xkv_slot_find(sl, hash, key, nkey);
	if (off < 0)
		return false;
	if (rng_below(rng, XKV_HOT_HIT_SAMPLE) == 0)
		xkv_slot_ent(sl, (u32)off)->hits++;
	return true;
}

struct rank_w {
	double p;
	u32 bytes;
};

static int by_density(const void *a, const void *b)
{
	const struct rank_w *x = a, *y = b;
	double dx = x->p / x->bytes, dy = y->p / y->bytes;

	return dx < dy ? 1 : dx > dy ? -1 : 0;
}

/*
 * The ideal: the fractional knapsack of the slots' room by requests per
 * byte. Also gives how many keys it holds whole.
 */
static double ideal_ratio(const struct sim *o, u64 *held)
{
	double room = (double)o->slots * XKV_HOT_SLOT_ROOM, top = 0, all = 0;
	struct rank_w *w = malloc(o->keys * sizeof(*w));
	u64 k;

	*held = 0;
	if (!w)
		return 0;
	for (k = 0; k < o->keys; k++) {
		w[k].p = pow((double)(k + 1), -o->s);
		w[k].bytes = ent_bytes(o, k);
		all += w[k].p;
	}
	qsort(w, o->keys, sizeof(*w), by_density);
	for (k = 0; k < o->keys && room > 0; k++) {
		if (w[k].bytes <= room) {
			top += w[k].p;
			room -= w[k].bytes;
			(*held)++;
		} else {
			top += w[k].p * room / w[k].bytes;
			room = 0;
		}
	}
	free(w);
	return top / all;
}

static int run(const struct sim *o)
{
	static char val[XKV_HOT_SLOT_SIZE];
	struct xkv_get_req req = { 0 };
	struct xkv_buf out = { 0 };
	struct xkv_settings set;
	struct xkv_slot *slots;
	struct xkv_store *st;
	struct zipf z;
	u64 rng = o->seed, i, hits = 0, warm = o->requests / 4, held;
	u64 installs, rejects, cached = 0;
	double ratio, ideal;
	char key[XKV_HOT_KEY_MAX + 1];
	u32 n, klen, vlen;

	if (zipf_init(&z, o->keys, o->s))
		return -EINVAL;
	memset(val, 'v', sizeof(val));
	xkv_settings_default(&set, 1);
	set.maxbytes = 1ULL << 31;
	st = xkv_store_create(&set, 1);
	slots = calloc(o->slots, sizeof(*slots));
	if (!st || !slots || xkv_store_attach_hot(st, slots, o->slots))
		return -ENOMEM;
	for (i = 0; i < o->keys; i++) {
		struct xkv_item *it;
		int err;

		n = key_name(o, key, i);
		key_sizes(o, i, &klen, &vlen);
		it = xkv_item_alloc(st, key, n, 0, 0, vlen, &err);
		if (!it)
			return err;
		memcpy(xkv_item_value(it), val, vlen);
		xkv_item_store(st, it, XKV_OP_SET, 0);
	}
	for (i = 0; i < warm + o->requests; i++) {
		u64 rank = zipf_sample(&z, &rng) - 1;

		n = key_name(o, key, rank);
		if (xdp_hit(slots, o->slots, key, n, &rng)) {
			hits += i >= warm;
			continue;
		}
		xkv_item_get(st, key, n, &req, &out);
		xkv_buf_reset(&out);
	}
	for (i = 0; i < o->slots; i++) {
		u32 used = xkv_slot_used(&slots[i]), off = 0, e, sz;

		for (e = 0; e < XKV_HOT_ENTS_MAX; e++, off += sz) {
			sz = xkv_slot_ent_size(&slots[i], off, used);
			if (!sz)
				break;
			cached++;
		}
	}
	xkv_store_hot_stats(st, &installs, &rejects);
	ratio = (double)hits / (double)o->requests;
	ideal = ideal_ratio(o, &held);
	if (o->json)
		printf("{\"keys\":%llu,\"slots\":%u,\"zipf\":%.2f,"
		       "\"sizes\":\"%s\",\"key_len\":%u,\"val_len\":%u,"
		       "\"requests\":%llu,\"hit_ratio\":%.4f,"
		       "\"ideal\":%.4f,\"of_ideal\":%.4f,"
		       "\"ideal_keys\":%llu,\"cached_keys\":%llu,"
		       "\"installs\":%llu,\"rejects\":%llu}\n",
		       (unsigned long long)o->keys, o->slots, o->s,
		       o->mixed ? "mixed" : "fixed", o->mixed ? 0 : o->klen,
		       o->mixed ? 0 : o->vlen,
		       (unsigned long long)o->requests, ratio, ideal,
		       ratio / ideal, (unsigned long long)held,
		       (unsigned long long)cached,
		       (unsigned long long)installs,
		       (unsigned long long)rejects);
	else
		printf("keys %llu (%s), slots %u (%.2f MiB), zipf %.2f: "
		       "hit ratio %.4f, ideal %.4f (%.1f%% of ideal); "
		       "%llu keys cached at the end, the ideal holds %llu; "
		       "%llu installs, %llu rejects\n",
		       (unsigned long long)o->keys,
		       o->mixed ? "mixed sizes" : "fixed sizes", o->slots,
		       o->slots * (double)XKV_HOT_SLOT_SIZE / (1 << 20), o->s,
		       ratio, ideal, 100 * ratio / ideal,
		       (unsigned long long)cached, (unsigned long long)held,
		       (unsigned long long)installs,
		       (unsigned long long)rejects);
	xkv_buf_release(&out);
	xkv_store_destroy(st);
	free(slots);
	return 0;
}

int main(int argc, char **argv)
{
	struct sim o = {
		.keys = 100000, .slots = 4096, .s = 0.99,
		.requests = 4000000, .seed = 1, .klen = 16, .vlen = 32,
	};
	int c;

	while ((c = getopt(argc, argv, "k:s:z:n:S:K:V:mjh")) != -1) {
		switch (c) {
		case 'k':
			o.keys = strtoull(optarg, NULL, 10);
			break;
		case 's':
			o.slots = (u32)strtoul(optarg, NULL, 10);
			break;
		case 'z':
			o.s = strtod(optarg, NULL);
			break;
		case 'n':
			o.requests = strtoull(optarg, NULL, 10);
			break;
		case 'S':
			o.seed = strtoull(optarg, NULL, 10);
			break;
		case 'K':
			o.klen = (u32)strtoul(optarg, NULL, 10);
			break;
		case 'V':
			o.vlen = (u32)strtoul(optarg, NULL, 10);
			break;
		case 'm':
			o.mixed = true;
			break;
		case 'j':
			o.json = true;
			break;
		default:
			fprintf(stderr, "usage: hotsim [-k KEYS] [-s SLOTS] "
				"[-z EXPONENT] [-n REQUESTS] [-S SEED] "
				"[-K KEYLEN] [-V VALLEN] [-m] [-j]\n");
			return 2;
		}
	}
	if (!o.keys || !o.slots || (o.slots & (o.slots - 1)) || o.s <= 0 ||
	    !o.requests || o.klen < 1 || o.klen > XKV_HOT_KEY_MAX ||
	    o.vlen > XKV_HOT_VAL_MAX) {
		fprintf(stderr, "hotsim: need KEYS > 0, SLOTS a power of two, "
			"EXPONENT > 0, REQUESTS > 0, KEYLEN 1..%u, VALLEN "
			"0..%u\n", XKV_HOT_KEY_MAX, XKV_HOT_VAL_MAX);
		return 2;
	}
	if (run(&o)) {
		fprintf(stderr, "hotsim: setup failed\n");
		return 1;
	}
	return 0;
}
