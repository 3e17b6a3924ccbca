/* SPDX-License-Identifier: GPL-2.0 */
/*
 * allow.h - the source allowlist: the xkv_allow4/xkv_allow6 LPM tries.
 *
 * XDP answers a request only when its source address matches a prefix
 * here (memcached's UDP is an amplifier otherwise); everything else goes
 * to the backend. The default is the interface's own subnets and
 * loopback; "any" is 0.0.0.0/0 and ::/0, "none" is empty.
 */
#ifndef XKV_LOADER_ALLOW_H
#define XKV_LOADER_ALLOW_H

#include <linux/types.h>
#include <stdbool.h>

/* "ffff:...:ffff/128" and a NUL */
#define XKV_PREFIX_STRLEN 48

/**
 * struct xkv_prefix - an IPv4 or IPv6 prefix.
 * @family: AF_INET or AF_INET6
 * @len:    prefix length in bits
 * @addr:   address in network order (4 or 16 bytes used), host bits zero
 */
struct xkv_prefix {
	int family;
	__u32 len;
	__u8 addr[16];
};

/**
 * struct xkv_allow - the two tries of one interface.
 * @fd4: xkv_allow4
 * @fd6: xkv_allow6
 * @gen: xkv_policy_gen's mmap()ed value, bumped after every change so
 *       XDP forgets the sources it remembers as allowed; NULL before the
 *       program is attached, or for pins of an xkv without it
 */
struct xkv_allow {
	int fd4;
	int fd6;
	__u64 *gen;
};

/**
 * xkv_prefix_parse() - read "ADDR[/LEN]" (IPv4 or IPv6); host bits are
 * cleared, without LEN the prefix is the whole address.
 * @s:   text
 * @out: the prefix
 *
 * Return: 0 or -EINVAL.
 */
int xkv_prefix_parse(const char *s, struct xkv_prefix *out);

/**
 * xkv_prefix_format() - print a prefix as "ADDR/LEN".
 * @pfx: the prefix
 * @buf: out, XKV_PREFIX_STRLEN bytes
 *
 * Return: @buf.
 */
char *xkv_prefix_format(const struct xkv_prefix *pfx, char *buf);

/**
 * xkv_allow_open() - open the pinned tries of an interface.
 * @pin_dir: the interface's pin directory
 * @a:       out
 *
 * Return: 0, or -errno after printing why.
 */
int xkv_allow_open(const char *pin_dir, struct xkv_allow *a);

/**
 * xkv_allow_close() - close what xkv_allow_open() opened.
 * @a: the tries
 */
void xkv_allow_close(struct xkv_allow *a);

/**
 * xkv_allow_add() - allow a prefix (then bump @a->gen).
 * @a:   the tries
 * @pfx: the prefix
 *
 * Return: 0 or -errno.
 */
int xkv_allow_add(const struct xkv_allow *a, const struct xkv_prefix *pfx);

/**
 * xkv_allow_del() - remove a prefix (exactly as it was added), then
 * bump @a->gen: XDP checks every datagram it takes after this returns
 * against the tries without the prefix.
 * @a:   the tries
 * @pfx: the prefix
 *
 * Return: 0, -ENOENT if it was not there, or another -errno.
 */
int xkv_allow_del(const struct xkv_allow *a, const struct xkv_prefix *pfx);

/**
 * typedef xkv_prefix_fn - called for each prefix.
 * @pfx:  the prefix
 * @data: the caller's data
 *
 * Return: 0 to go on, else stop and return this.
 */
typedef int (*xkv_prefix_fn)(const struct xkv_prefix *pfx, void *data);

/**
 * xkv_allow_walk() - call @fn for every allowed prefix, IPv4 first.
 * @a:    the tries
 * @fn:   callback
 * @data: passed to @fn
 *
 * Return: 0, what @fn returned, or -errno.
 */
int xkv_allow_walk(const struct xkv_allow *a, xkv_prefix_fn fn, void *data);

/**
 * xkv_allow_clear() - remove every prefix.
 * @a: the tries
 *
 * Return: 0 or -errno.
 */
int xkv_allow_clear(const struct xkv_allow *a);

/**
 * xkv_allow_defaults() - call @fn with the default allowlist of an
 * interface: the subnet of each address the interface has (in this
 * network namespace), and nothing else. So loopback (127.0.0.0/8, ::1)
 * only on lo, whose addresses they are; an interface without addresses
 * allows nobody. XDP and the backend's UDP port use the same list.
 * @ifname: the interface
 * @fn:     callback
 * @data:   passed to @fn
 *
 * Return: 0, what @fn returned, or -errno.
 */
int xkv_allow_defaults(const char *ifname, xkv_prefix_fn fn, void *data);

/**
 * xkv_allow_any() - call @fn with 0.0.0.0/0 and ::/0.
 * @fn:   callback
 * @data: passed to @fn
 *
 * Return: 0 or what @fn returned.
 */
int xkv_allow_any(xkv_prefix_fn fn, void *data);

#endif /* XKV_LOADER_ALLOW_H */
