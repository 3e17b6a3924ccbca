// SPDX-License-Identifier: GPL-2.0
/*
 * tcpfast.c - the TCP fast path's TC filters, answer switch and leftover
 * translation state (tcpfast.h has the rule). The filters are attached
 * with libbpf's bpf_tc_*() calls: Debian 12's libbpf 1.1 and kernel 6.1
 * have no tcx links, and a filter holds its program, and through it the
 * maps, after this process exits.
 */
#include <errno.h>
#include <net/if.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "learn_attach.h"
#include "log.h"
#include "tc.h"
#include "tcpfast.h"
#include "xkv_tcp.h"

/* most maps of a program looked at to find its xkv_tcp_conn */
#define XKV_TCPF_PROG_MAPS 64
/* how often xkv_tcpf_drain() looks */
#define XKV_TCPF_POLL_MS 50
/* and how long it lets the last segments of closes pass after */
#define XKV_TCPF_SETTLE_MS 200

/*
 * An entry of xkv_tcp_conn needs the filters while XDP has answered on
 * its connection (the numbers differ) and the connection has been
 * neither reset nor closed both ways. Its flags are the value's x.flags,
 * found by name in the map's BTF, with the bits of abi/xkv_tcp.h (XKV_TC_*).
 */

/*
 * The program id of our filter on one hook, 0 for none, and which of the
 * two handles it has. No filter there, or no clsact qdisc, is no error.
 */
static int hook_query(int ifindex, enum bpf_tc_attach_point where,
		      __u32 *id, __u32 *handle)
{
	static const __u32 handles[] = { XKV_TCPF_HANDLE, XKV_TCPF_HANDLE_OWN };
	struct bpf_tc_hook h;
	struct bpf_tc_opts t;
	unsigned int i;
	int err;

	*id = 0;
	*handle = 0;
	xkv_tc_hook_init(&h, ifindex, where);
	for (i = 0; i < sizeof(handles) / sizeof(handles[0]); i++) {
		xkv_tc_opts_init(&t, handles[i], XKV_TCPF_PRIO, 0);
		err = bpf_tc_query(&h, &t);
		if (err == -ENOENT || err == -EINVAL)
			continue;
		if (err)
			return err;
		*id = t.prog_id;
		*handle = handles[i];
		return 0;
	}
	return 0;
}

static int hook_detach(int ifindex, enum bpf_tc_attach_point where,
		       __u32 handle)
{
	struct bpf_tc_hook h;
	struct bpf_tc_opts t;
	int err;

	xkv_tc_hook_init(&h, ifindex, where);
	xkv_tc_opts_init(&t, handle, XKV_TCPF_PRIO, 0);
	err = bpf_tc_detach(&h, &t);
	return err == -ENOENT ? 0 : err;
}

/* byte offset of member @name of struct type @id, or -ENOENT; @id out */
static long member_offset(const struct btf *btf, __u32 *id, const char *name)
{
	const struct btf_type *t;
	const struct btf_member *m;
	__u16 i;

	*id = (__u32)btf__resolve_type(btf, *id);
	t = btf__type_by_id(btf, *id);
	if (!t || !btf_is_struct(t))
		return -ENOENT;
	m = btf_members(t);
	for (i = 0; i < btf_vlen(t); i++, m++) {
		if (strcmp(btf__name_by_offset(btf, m->name_off), name))
			continue;
		*id = m->type;
		return btf_member_bit_offset(t, i) / 8;
	}
	return -ENOENT;
}

/* where the value's x.flags is, or -errno (no BTF, another layout) */
static long flags_offset(const struct bpf_map_info *info)
{
	__u32 id = info->btf_value_type_id;
	struct btf *btf;
	long x, f;

	btf = btf__load_from_kernel_by_id(info->btf_id);
	if (!btf)
		return -errno;
	x = member_offset(btf, &id, "x");
	f = x < 0 ? x : member_offset(btf, &id, "flags");
	btf__free(btf);
	if (f < 0)
		return f;
	if (x + f + (long)sizeof(__u32) > (long)info->value_size)
		return -EINVAL;
	return x + f;
}

static bool conn_live(__u32 flags)
{
	__u32 both = XKV_TC_FIN_C | XKV_TC_FIN_S;

	return (flags & XKV_TC_MOVED) && !(flags & XKV_TC_RST) &&
	       (flags & both) != both;
}

/*
 * Count the entries of xkv_tcp_conn (at most max_entries + 1) into
 * @st->conns, and those that need the filters into @st->live (all of
 * them when their flags cannot be found). -errno.
 */
static int conn_count(int fd, struct xkv_tcpf_state *st)
{
	struct bpf_map_info info;
	__u32 len = sizeof(info), flags;
	void *cur = NULL, *next, *keys, *val;
	long off, n = 0, live = 0;
	int err = 0;

	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return -errno;
	off = flags_offset(&info);
	keys = calloc(2, info.key_size ? info.key_size : 1);
	val = calloc(1, info.value_size ? info.value_size : 1);
	if (!keys || !val) {
		err = -ENOMEM;
		goto free_bufs;
	}
	next = keys;
	while (n <= (long)info.max_entries) {
		if (bpf_map_get_next_key(fd, cur, next)) {
			if (errno != ENOENT)
				err = -errno;
			break;
		}
		n++;
		if (off < 0) {
			live++;
		} else if (!bpf_map_lookup_elem(fd, next, val)) {
			memcpy(&flags, (char *)val + off, sizeof(flags));
			live += conn_live(flags);
		}
		cur = next;
		next = (char *)keys + (next == keys ? info.key_size : 0);
	}
	st->conns = err ? err : n;
	st->live = err ? err : live;
free_bufs:
	free(val);
	free(keys);
	return err;
}

/* the xkv_tcp_conn map program @prog_id uses: an fd, or -errno */
static int prog_conn_map(__u32 prog_id, __u32 *map_id)
{
	__u32 ids[XKV_TCPF_PROG_MAPS], len, i, n;
	struct bpf_prog_info info;
	struct bpf_map_info mi;
	int fd, mfd, err = -ENOENT;

	fd = bpf_prog_get_fd_by_id(prog_id);
	if (fd < 0)
		return -errno;
	memset(&info, 0, sizeof(info));
	info.nr_map_ids = XKV_TCPF_PROG_MAPS;
	info.map_ids = (__u64)(uintptr_t)ids;
	len = sizeof(info);
	if (bpf_obj_get_info_by_fd(fd, &info, &len)) {
		err = -errno;
		goto close_prog;
	}
	n = info.nr_map_ids < XKV_TCPF_PROG_MAPS ? info.nr_map_ids :
						   XKV_TCPF_PROG_MAPS;
	for (i = 0; i < n; i++) {
		mfd = bpf_map_get_fd_by_id(ids[i]);
		if (mfd < 0)
			continue;
		memset(&mi, 0, sizeof(mi));
		len = sizeof(mi);
		if (!bpf_obj_get_info_by_fd(mfd, &mi, &len) &&
		    !strcmp(mi.name, XKV_PIN_TCP_CONN)) {
			*map_id = mi.id;
			err = mfd;
			break;
		}
		close(mfd);
	}
close_prog:
	close(fd);
	return err;
}

int xkv_tcpf_query(int ifindex, struct xkv_tcpf_state *st)
{
	__u32 in_handle, out_handle;
	int err, mfd;

	memset(st, 0, sizeof(*st));
	if (ifindex <= 0)
		return 0;
	err = hook_query(ifindex, BPF_TC_INGRESS, &st->in_id, &in_handle);
	if (!err)
		err = hook_query(ifindex, BPF_TC_EGRESS, &st->out_id,
				 &out_handle);
	if (err)
		return err;
	st->own_qdisc = in_handle == XKV_TCPF_HANDLE_OWN ||
			out_handle == XKV_TCPF_HANDLE_OWN;
	if (!xkv_tcpf_attached(st))
		return 0;
	mfd = prog_conn_map(st->in_id ? st->in_id : st->out_id,
			    &st->conn_map);
	if (mfd < 0) {
		st->conns = mfd;
		st->live = mfd;
		return 0;
	}
	if (conn_count(mfd, st) == -ENOMEM) {
		close(mfd);
		return -ENOMEM;
	}
	close(mfd);
	return 0;
}

int xkv_tcpf_attach(int ifindex, int in_fd, int out_fd)
{
	struct xkv_tcpf_state st;
	struct bpf_tc_hook h;
	struct bpf_tc_opts t;
	bool created = false;
	__u32 handle;
	int err;

	err = xkv_tcpf_query(ifindex, &st);
	if (err)
		return err;
	if (xkv_tcpf_attached(&st))
		return -EEXIST;
	xkv_tc_hook_init(&h, ifindex, BPF_TC_INGRESS | BPF_TC_EGRESS);
	err = bpf_tc_hook_create(&h);
	if (!err)
		created = true;
	else if (err != -EEXIST)
		return err;
	handle = created ? XKV_TCPF_HANDLE_OWN : XKV_TCPF_HANDLE;

	xkv_tc_hook_init(&h, ifindex, BPF_TC_INGRESS);
	xkv_tc_opts_init(&t, handle, XKV_TCPF_PRIO, in_fd);
	err = bpf_tc_attach(&h, &t);
	if (err)
		goto destroy_qdisc;
	xkv_tc_hook_init(&h, ifindex, BPF_TC_EGRESS);
	xkv_tc_opts_init(&t, handle, XKV_TCPF_PRIO, out_fd);
	err = bpf_tc_attach(&h, &t);
	if (err)
		goto detach_in;
	return 0;

detach_in:
	hook_detach(ifindex, BPF_TC_INGRESS, handle);
destroy_qdisc:
	if (created)
		xkv_tc_qdisc_destroy(ifindex);
	return err;
}

int xkv_tcpf_detach(int ifindex)
{
	__u32 in_id, in_handle, out_id, out_handle, lin, lout;
	int err, err2 = 0;

	if (ifindex <= 0)
		return 0;
	err = hook_query(ifindex, BPF_TC_INGRESS, &in_id, &in_handle);
	if (!err)
		err = hook_query(ifindex, BPF_TC_EGRESS, &out_id, &out_handle);
	if (err)
		return err;
	if (in_id)
		err = hook_detach(ifindex, BPF_TC_INGRESS, in_handle);
	if (out_id)
		err2 = hook_detach(ifindex, BPF_TC_EGRESS, out_handle);
	if (err || err2)
		return err ? err : err2;
	if (in_handle != XKV_TCPF_HANDLE_OWN &&
	    out_handle != XKV_TCPF_HANDLE_OWN)
		return 0;
	/* learning mode's filters may have come to live on our qdisc */
	if (!xkv_learn_query(ifindex, &lin, &lout) && (lin || lout))
		return 0;
	return xkv_tc_qdisc_destroy(ifindex);
}

int xkv_tcpf_answer_set(int ctl_fd, bool on)
{
	struct xkv_tcp_ctl ctl = { .answer = on ? 1 : 0 };
	__u32 zero = 0;

	if (bpf_map_update_elem(ctl_fd, &zero, &ctl, BPF_ANY))
		return -errno;
	return 0;
}

static int ctl_open(const struct xkv_paths *p)
{
	char path[PATH_MAX];
	int fd;

	fd = bpf_obj_get(xkv_pin_path(p, XKV_PIN_TCP_CTL, path));
	return fd < 0 ? -errno : fd;
}

int xkv_tcpf_answer_pin(const struct xkv_paths *p, bool on)
{
	int fd, err;

	fd = ctl_open(p);
	if (fd < 0)
		return fd;
	err = xkv_tcpf_answer_set(fd, on);
	close(fd);
	return err;
}

int xkv_tcpf_answer_get(const struct xkv_paths *p)
{
	struct xkv_tcp_ctl ctl;
	__u32 zero = 0;
	int fd, err;

	fd = ctl_open(p);
	if (fd < 0)
		return fd;
	err = bpf_map_lookup_elem(fd, &zero, &ctl) ? -errno : !!ctl.answer;
	close(fd);
	return err;
}

static unsigned long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (unsigned long long)ts.tv_sec * 1000 +
	       (unsigned long long)ts.tv_nsec / 1000000;
}

int xkv_tcpf_drain(int ifindex, unsigned int ms, struct xkv_tcpf_state *st)
{
	unsigned long long end = now_ms() + ms;
	const struct timespec poll = {
		.tv_nsec = XKV_TCPF_POLL_MS * 1000000L,
	};
	const struct timespec settle = {
		.tv_nsec = XKV_TCPF_SETTLE_MS * 1000000L,
	};
	bool waited = false;
	int err;

	for (;;) {
		err = xkv_tcpf_query(ifindex, st);
		if (err || now_ms() >= end)
			return err;
		if (!xkv_tcpf_busy(st))
			break;
		waited = true;
		nanosleep(&poll, NULL);
	}
	/* the closes just seen: their last ACKs still go through TC */
	if (waited)
		nanosleep(&settle, NULL);
	return 0;
}

bool xkv_tcpf_leftover(const struct xkv_paths *p)
{
	char path[PATH_MAX];

	return xkv_pin_dir_exists(p) &&
	       access(xkv_pin_path(p, XKV_PIN_LINK, path), F_OK) &&
	       !access(xkv_pin_path(p, XKV_PIN_TCP_CONN, path), F_OK);
}

const char *xkv_tcpf_conns_str(const struct xkv_tcpf_state *st, char *buf,
			       size_t size)
{
	if (st->live < 0)
		snprintf(buf, size, "an unknown number of");
	else
		snprintf(buf, size, "%ld", st->live);
	return buf;
}

void xkv_tcpf_say_busy(const struct xkv_paths *p,
		       const struct xkv_tcpf_state *st)
{
	char n[32];

	xkv_tcpf_conns_str(st, n, sizeof(n));
	pr_warn("%s: the TCP fast path of an earlier xkv still translates %s connections it answered on: its TC filters (ingress prog id %u, egress prog id %u, map xkv_tcp_conn id %u) stay until they close\n",
		p->ifname, n, st->in_id, st->out_id, st->conn_map);
	pr_warn("%s: wait for them ('xkv status %s'), or 'xkv down --force %s', which breaks them\n",
		p->ifname, p->ifname, p->ifname);
}

int xkv_tcpf_reclaim(const struct xkv_paths *p, int ifindex)
{
	struct xkv_tcpf_state st;
	int err;

	err = xkv_tcpf_query(ifindex, &st);
	if (err) {
		pr_warn("%s: cannot query its TC filters: %s\n", p->ifname,
			strerror(-err));
		return err;
	}
	if (xkv_tcpf_busy(&st)) {
		xkv_tcpf_say_busy(p, &st);
		return -EBUSY;
	}
	err = xkv_tcpf_detach(ifindex);
	if (err) {
		pr_warn("%s: cannot remove the TCP fast path's old TC filters: %s\n",
			p->ifname, strerror(-err));
		return err;
	}
	if (xkv_tcpf_attached(&st))
		pr_info("%s: removed the TCP fast path's TC filters an earlier xkv left (no connection left to translate)\n",
			p->ifname);
	if (xkv_tcpf_leftover(p))
		return xkv_pin_dir_remove(p);
	return 0;
}
