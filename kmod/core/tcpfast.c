// SPDX-License-Identifier: GPL-2.0
/*
 * tcpfast.c - claiming and releasing xkv_tcp_ans entries (see tcpfast.h).
 */
#include "tcpfast.h"

void xkv_tcp_ans_key(struct xkv_tcp_ans *key, u32 family, const void *caddr,
		     const void *saddr, __be16 cport, __be16 sport)
{
	size_t alen = family == 4 ? 4 : 16;

	os_memset(key, 0, sizeof(*key));
	key->family = family;
	key->cport = cport;
	key->sport = sport;
	os_memcpy(key->caddr, caddr, alen);
	os_memcpy(key->saddr, saddr, alen);
}

/* does the entry name the same connection as @key? */
static bool same_conn(const struct xkv_tcp_ans *e,
		      const struct xkv_tcp_ans *key)
{
	return e->family == key->family && e->cport == key->cport &&
	       e->sport == key->sport &&
	       !os_memcmp(e->caddr, key->caddr, sizeof(key->caddr)) &&
	       !os_memcmp(e->saddr, key->saddr, sizeof(key->saddr));
}

/* fill an entry we hold BUSY, then make it LIVE */
static void fill(struct xkv_tcp_ans *e, const struct xkv_tcp_ans *key)
{
	e->family = key->family;
	e->cport = key->cport;
	e->sport = key->sport;
	e->proto = key->proto;
	os_memcpy(e->caddr, key->caddr, sizeof(e->caddr));
	os_memcpy(e->saddr, key->saddr, sizeof(e->saddr));
	OS_WRITE_ONCE(e->done, 0);
	OS_WRITE_ONCE(e->hits, 0);
	/* the fields above are visible to whoever sees LIVE */
	OS_STORE_RELEASE(e->owner, XKV_TCP_ANS_LIVE);
}

struct xkv_tcp_ans *xkv_tcp_ans_claim(struct xkv_tcp_ans *tab,
				      const struct xkv_tcp_ans *key)
{
	u32 first = xkv_tcp_ans_index(key->caddr, key->saddr, key->cport,
				      key->sport);
	struct xkv_tcp_ans *e;
	u32 k;

	/* a left-over entry for these addresses would shadow a new one */
	for (k = 0; k < XKV_TCP_ANS_PROBES; k++) {
		e = &tab[(first + k) & (XKV_TCP_ANS_SLOTS - 1)];
		if (OS_LOAD_ACQUIRE(e->owner) == XKV_TCP_ANS_LIVE &&
		    same_conn(e, key) &&
		    os_cmpxchg32(&e->owner, XKV_TCP_ANS_LIVE,
				 XKV_TCP_ANS_BUSY)) {
			fill(e, key);
			return e;
		}
	}
	for (k = 0; k < XKV_TCP_ANS_PROBES; k++) {
		e = &tab[(first + k) & (XKV_TCP_ANS_SLOTS - 1)];
		if (OS_READ_ONCE(e->owner) == XKV_TCP_ANS_FREE &&
		    os_cmpxchg32(&e->owner, XKV_TCP_ANS_FREE,
				 XKV_TCP_ANS_BUSY)) {
			fill(e, key);
			return e;
		}
	}
	return NULL;
}

void xkv_tcp_ans_release(struct xkv_tcp_ans *e)
{
	/* not valid from here: XDP stops answering on it */
	OS_WRITE_ONCE(e->owner, XKV_TCP_ANS_BUSY);
	os_smp_wmb();
	OS_STORE_RELEASE(e->owner, XKV_TCP_ANS_FREE);
}

u32 xkv_tcp_ans_reset(struct xkv_tcp_ans *tab)
{
	u32 i, n = 0;

	for (i = 0; i < XKV_TCP_ANS_SLOTS; i++) {
		if (OS_READ_ONCE(tab[i].owner) == XKV_TCP_ANS_FREE)
			continue;
		xkv_tcp_ans_release(&tab[i]);
		n++;
	}
	return n;
}
