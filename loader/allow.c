// SPDX-License-Identifier: GPL-2.0
/*
 * allow.c - prefixes, and the allowlist tries they go into.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "xkv_policy.h"
#include "allow.h"
#include "log.h"
#include "params.h"
#include "paths.h"

static __u32 addr_bytes(int family)
{
	return family == AF_INET ? 4 : 16;
}

static void clear_host_bits(struct xkv_prefix *pfx)
{
	__u32 i, n = addr_bytes(pfx->family);

	for (i = 0; i < n; i++) {
		if (pfx->len >= (i + 1) * 8)
			continue;
		if (pfx->len <= i * 8)
			pfx->addr[i] = 0;
		else
			pfx->addr[i] &= (__u8)(0xff00 >> (pfx->len - i * 8));
	}
}

int xkv_prefix_parse(const char *s, struct xkv_prefix *out)
{
	char host[INET6_ADDRSTRLEN];
	const char *slash = strchr(s, '/');
	size_t hlen = slash ? (size_t)(slash - s) : strlen(s);
	unsigned long len;

	if (!hlen || hlen >= sizeof(host))
		return -EINVAL;
	memcpy(host, s, hlen);
	host[hlen] = '\0';
	memset(out, 0, sizeof(*out));
	if (inet_pton(AF_INET, host, out->addr) == 1)
		out->family = AF_INET;
	else if (inet_pton(AF_INET6, host, out->addr) == 1)
		out->family = AF_INET6;
	else
		return -EINVAL;
	len = addr_bytes(out->family) * 8;
	if (slash && xkv_parse_uint(slash + 1, 0, len, &len))
		return -EINVAL;
	out->len = (__u32)len;
	clear_host_bits(out);
	return 0;
}

char *xkv_prefix_format(const struct xkv_prefix *pfx, char *buf)
{
	char host[INET6_ADDRSTRLEN];

	if (!inet_ntop(pfx->family, pfx->addr, host, sizeof(host)))
		snprintf(host, sizeof(host), "?");
	snprintf(buf, XKV_PREFIX_STRLEN, "%s/%u", host, pfx->len);
	return buf;
}

/*
 * xkv_policy_gen of @pin_dir, mapped, in @a->gen; a pin directory without
 * it (an older xkv's, whose XDP program remembers nothing) leaves NULL.
 */
static int gen_open(const char *pin_dir, struct xkv_allow *a)
{
	char path[PATH_MAX];
	void *p;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", pin_dir, XKV_PIN_PGEN);
	fd = bpf_obj_get(path);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	p = mmap(NULL, sizeof(struct xkv_policy_gen), PROT_READ | PROT_WRITE,
		 MAP_SHARED, fd, 0);
	close(fd);
	if (p == MAP_FAILED)
		return -errno;
	a->gen = &((struct xkv_policy_gen *)p)->gen;
	return 0;
}

/* after a change: XDP checks sources against the tries again */
static void gen_bump(const struct xkv_allow *a)
{
	if (a->gen)
		__atomic_fetch_add(a->gen, 1, __ATOMIC_SEQ_CST);
}

int xkv_allow_open(const char *pin_dir, struct xkv_allow *a)
{
	char path[PATH_MAX];
	int err;

	a->fd4 = -1;
	a->fd6 = -1;
	a->gen = NULL;
	snprintf(path, sizeof(path), "%s/%s", pin_dir, XKV_PIN_ALLOW4);
	a->fd4 = bpf_obj_get(path);
	if (a->fd4 < 0)
		goto fail;
	snprintf(path, sizeof(path), "%s/%s", pin_dir, XKV_PIN_ALLOW6);
	a->fd6 = bpf_obj_get(path);
	if (a->fd6 < 0)
		goto fail;
	err = gen_open(pin_dir, a);
	if (err) {
		pr_warn("cannot map %s/%s: %s\n", pin_dir, XKV_PIN_PGEN,
			strerror(-err));
		xkv_allow_close(a);
		return err;
	}
	return 0;

fail:
	err = -errno;
	pr_warn("cannot open %s: %s\n", path, strerror(errno));
	xkv_allow_close(a);
	return err;
}

void xkv_allow_close(struct xkv_allow *a)
{
	if (a->fd4 >= 0)
		close(a->fd4);
	if (a->fd6 >= 0)
		close(a->fd6);
	if (a->gen)
		munmap(a->gen, sizeof(struct xkv_policy_gen));
	a->fd4 = -1;
	a->fd6 = -1;
	a->gen = NULL;
}

/* a key of either trie */
union lpm_key {
	struct xkv_lpm4 k4;
	struct xkv_lpm6 k6;
};

/* the trie key of @pfx; returns the trie's fd */
static int trie_key(const struct xkv_allow *a, const struct xkv_prefix *pfx,
		    union lpm_key *key)
{
	memset(key, 0, sizeof(*key));
	if (pfx->family == AF_INET) {
		key->k4.prefixlen = pfx->len;
		memcpy(key->k4.addr, pfx->addr, 4);
		return a->fd4;
	}
	key->k6.prefixlen = pfx->len;
	memcpy(key->k6.addr, pfx->addr, 16);
	return a->fd6;
}

int xkv_allow_add(const struct xkv_allow *a, const struct xkv_prefix *pfx)
{
	union lpm_key key;
	int fd = trie_key(a, pfx, &key);
	__u32 one = 1;

	if (bpf_map_update_elem(fd, &key, &one, BPF_ANY))
		return -errno;
	gen_bump(a);
	return 0;
}

int xkv_allow_del(const struct xkv_allow *a, const struct xkv_prefix *pfx)
{
	union lpm_key key;
	int fd = trie_key(a, pfx, &key);

	if (bpf_map_delete_elem(fd, &key))
		return -errno;
	gen_bump(a);
	return 0;
}

/* Walk one trie. Keys are collected first: deleting while iterating
 * (xkv_allow_clear) would restart the iteration. */
static int walk_one(int fd, int family, xkv_prefix_fn fn, void *data)
{
	static struct xkv_lpm6 keys[XKV_ALLOW_MAX];
	struct xkv_lpm6 cur, next;
	struct xkv_prefix pfx;
	__u32 n = 0, i;
	void *prev = NULL;
	int ret;

	while (n < XKV_ALLOW_MAX && !bpf_map_get_next_key(fd, prev, &next)) {
		keys[n++] = next;
		cur = next;
		prev = &cur;
	}
	if (errno != ENOENT && n < XKV_ALLOW_MAX)
		return -errno;
	for (i = 0; i < n; i++) {
		memset(&pfx, 0, sizeof(pfx));
		pfx.family = family;
		pfx.len = keys[i].prefixlen;
		memcpy(pfx.addr, keys[i].addr, addr_bytes(family));
		ret = fn(&pfx, data);
		if (ret)
			return ret;
	}
	return 0;
}

int xkv_allow_walk(const struct xkv_allow *a, xkv_prefix_fn fn, void *data)
{
	int ret;

	ret = walk_one(a->fd4, AF_INET, fn, data);
	if (ret)
		return ret;
	return walk_one(a->fd6, AF_INET6, fn, data);
}

static int del_cb(const struct xkv_prefix *pfx, void *data)
{
	int err = xkv_allow_del(data, pfx);

	return err == -ENOENT ? 0 : err;
}

int xkv_allow_clear(const struct xkv_allow *a)
{
	return xkv_allow_walk(a, del_cb, (void *)a);
}

static __u32 mask_len(const __u8 *mask, __u32 n)
{
	__u32 i, len = 0;

	for (i = 0; i < n; i++)
		len += (__u32)__builtin_popcount(mask[i]);
	return len;
}

int xkv_allow_defaults(const char *ifname, xkv_prefix_fn fn, void *data)
{
	struct ifaddrs *ifa0, *ifa;
	struct xkv_prefix pfx;
	int ret = 0;

	if (getifaddrs(&ifa0))
		return -errno;
	for (ifa = ifa0; ifa; ifa = ifa->ifa_next) {
		const struct sockaddr *sa = ifa->ifa_addr,
				      *nm = ifa->ifa_netmask;

		if (!sa || !nm || strcmp(ifa->ifa_name, ifname))
			continue;
		memset(&pfx, 0, sizeof(pfx));
		if (sa->sa_family == AF_INET) {
			pfx.family = AF_INET;
			memcpy(pfx.addr,
			       &((const struct sockaddr_in *)sa)->sin_addr, 4);
			pfx.len = mask_len((const __u8 *)&(
				(const struct sockaddr_in *)nm)->sin_addr, 4);
		} else if (sa->sa_family == AF_INET6) {
			pfx.family = AF_INET6;
			memcpy(pfx.addr,
			       &((const struct sockaddr_in6 *)sa)->sin6_addr,
			       16);
			pfx.len = mask_len((const __u8 *)&(
				(const struct sockaddr_in6 *)nm)->sin6_addr,
				16);
		} else {
			continue;
		}
		clear_host_bits(&pfx);
		ret = fn(&pfx, data);
		if (ret)
			break;
	}
	freeifaddrs(ifa0);
	return ret;
}

int xkv_allow_any(xkv_prefix_fn fn, void *data)
{
	struct xkv_prefix pfx;
	int ret;

	ret = xkv_prefix_parse("0.0.0.0/0", &pfx) ?: fn(&pfx, data);
	if (!ret)
		ret = xkv_prefix_parse("::/0", &pfx) ?: fn(&pfx, data);
	return ret;
}
