// SPDX-License-Identifier: GPL-2.0
/*
 * hotsim.c - how well does the store fill the XDP hot cache?
 *
 * Runs the real store core with a hot cache in plain memory and replays a
 * Zipf-distributed GET stream: a request is an XDP hit when the key's slot
 * holds the key (what the XDP program checks), otherwise it goes to the
 * backend (xkv_item_get(), which counts it and may admit the key). XDP's
 * sampled per-slot hit counter is imitated too. The hit ratio after a
 * warm-up is compared with the ideal: the @slots hottest keys always
 * cached. Deterministic for a given seed.
 *
 *   hotsim [-k KEYS] [-s SLOTS] [-z EXPONENT] [-n REQUESTS] [-S SEED] [-j]
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
#include "xkv_hot.h"
#include "rng.h"
#include "zipf.h"

int xkv_os_verbose;

struct sim {
	u64 keys;
	u32 slots;
	double s;
	u64 requests;
	u64 seed;
	bool json;
};

static int key_name(char *buf, size_t len, u64 rank)
{
	/* scramble ranks so popularity has nothing to do with key order */
	return snprintf(buf, len, "key:%016llx",
			(unsigned long long)mix64(rank + 1));
}

/* what the XDP program checks: the key is in one slot of its set */
static bool xdp_hit(struct xkv_slot *slots, u32 nslots, const char *key,
		    u32 nkey, u64 *rng)
{
	u32 hash = xkv_hot_hash(key, nkey), w;

	for (w = 0; w < XKV_HOT_WAYS; w++) {
		struct xkv_slot *sl = &slots[xkv_hot_way(hash, nslots, w)];

		if ((sl->seq & 1) || sl->key_len != nkey ||
		    memcmp(sl->key, key, nkey))
			continue;
		if (rng_below(rng, XKV_HOT_HIT_SAMPLE) == 0)
			sl->hits++;
		return true;
	}
	return false;
}

/* the ideal: the @slots most popular of @keys ranks, always cached */
static double ideal_ratio(const struct sim *o)
{
	double top = 0, all = 0;
	u64 k;

	for (k = 1; k <= o->keys; k++) {
		double p = pow((double)k, -o->s);

		all += p;
		if (k <= o->slots)
			top += p;
	}
	return top / all;
}

static int run(const struct sim *o)
{
	struct xkv_get_req req = { 0 };
	struct xkv_buf out = { 0 };
	struct xkv_settings set;
	struct xkv_slot *slots;
	struct xkv_store *st;
	struct zipf z;
	u64 rng = o->seed, i, hits = 0, warm = o->requests / 4;
	u64 installs, rejects;
	double ratio, ideal;
	char key[64];
	int n;

	if (zipf_init(&z, o->keys, o->s))
		return -EINVAL;
	xkv_settings_default(&set, 1);
	set.maxbytes = 1ULL << 30;
	st = xkv_store_create(&set, 1);
	slots = calloc(o->slots, sizeof(*slots));
	if (!st || !slots || xkv_store_attach_hot(st, slots, o->slots))
		return -ENOMEM;
	for (i = 0; i < o->keys; i++) {
		struct xkv_item *it;
		int err;

		n = key_name(key, sizeof(key), i);
		it = xkv_item_alloc(st, key, (size_t)n, 0, 0, 32, &err);
		if (!it)
			return err;
		memset(xkv_item_value(it), 'v', 32);
		xkv_item_store(st, it, XKV_OP_SET, 0);
	}
	for (i = 0; i < warm + o->requests; i++) {
		u64 rank = zipf_sample(&z, &rng) - 1;

		n = key_name(key, sizeof(key), rank);
		if (xdp_hit(slots, o->slots, key, (u32)n, &rng)) {
			hits += i >= warm;
			continue;
		}
		xkv_item_get(st, key, (size_t)n, &req, &out);
		xkv_buf_reset(&out);
	}
	xkv_store_hot_stats(st, &installs, &rejects);
	ratio = (double)hits / (double)o->requests;
	ideal = ideal_ratio(o);
	if (o->json)
		printf("{\"keys\":%llu,\"slots\":%u,\"zipf\":%.2f,"
		       "\"requests\":%llu,\"hit_ratio\":%.4f,"
		       "\"ideal\":%.4f,\"of_ideal\":%.4f,"
		       "\"installs\":%llu,\"rejects\":%llu}\n",
		       (unsigned long long)o->keys, o->slots, o->s,
		       (unsigned long long)o->requests, ratio, ideal,
		       ratio / ideal, (unsigned long long)installs,
		       (unsigned long long)rejects);
	else
		printf("keys %llu, slots %u, zipf %.2f: hit ratio %.4f, "
		       "ideal %.4f (%.1f%% of ideal), %llu installs, "
		       "%llu rejects\n",
		       (unsigned long long)o->keys, o->slots, o->s, ratio,
		       ideal, 100 * ratio / ideal,
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
		.requests = 4000000, .seed = 1,
	};
	int c;

	while ((c = getopt(argc, argv, "k:s:z:n:S:jh")) != -1) {
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
		case 'j':
			o.json = true;
			break;
		default:
			fprintf(stderr, "usage: hotsim [-k KEYS] [-s SLOTS] "
				"[-z EXPONENT] [-n REQUESTS] [-S SEED] [-j]\n");
			return 2;
		}
	}
	if (!o.keys || !o.slots || (o.slots & (o.slots - 1)) ||
	    o.slots > o.keys || o.s <= 0 || !o.requests) {
		fprintf(stderr, "hotsim: need KEYS >= SLOTS (a power of two) "
			"> 0, EXPONENT > 0, REQUESTS > 0\n");
		return 2;
	}
	if (run(&o)) {
		fprintf(stderr, "hotsim: setup failed\n");
		return 1;
	}
	return 0;
}
