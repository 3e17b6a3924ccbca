// SPDX-License-Identifier: GPL-2.0
/*
 * learn_attach.c - load the learning-mode TC programs and attach them to an
 * interface's clsact hooks with libbpf's bpf_tc_*() calls (libbpf 1.1 has
 * no tcx). See learn_attach.h for the API.
 *
 * A TC filter holds a reference to its program, so what is attached stays
 * after the loading process exits; detaching finds the filters again by
 * their fixed handle and priority, and learns from the xkv_lifs map
 * (pinned by the loader) whether the clsact qdisc was created by the
 * attach and so must go too.
 */
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "learn_attach.h"
#include "tc.h"
#include "tcpfast.h"	/* its filters' handles: they may share the qdisc */
#include "xkv_slot.h"
#include "xkv_learn.skel.h"

static bool is_pow2(__u32 v)
{
	return v && !(v & (v - 1));
}

static int map_max_entries(int fd, __u32 *max, __u32 *value_size)
{
	struct bpf_map_info info;
	__u32 len = sizeof(info);

	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return -errno;
	*max = info.max_entries;
	*value_size = info.value_size;
	return 0;
}

/*
 * Empty every slot of the shared hot cache, each under its seqlock
 * (xkv_slot.h), before the learner owns it. Nothing else may install
 * now, so a slot that stays locked was left by a writer that died inside
 * or is held by an emptier: take it over, as a backend that starts does.
 */
static int hot_clear(int fd, __u32 nslots)
{
	size_t len = (size_t)nslots * sizeof(struct xkv_slot);
	long page = sysconf(_SC_PAGESIZE);
	struct xkv_slot *slots;
	__u32 i, seq;
	int err = 0;

	len = (len + (size_t)page - 1) / (size_t)page * (size_t)page;
	slots = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (slots == MAP_FAILED)
		return -errno;
	for (i = 0; i < nslots; i++) {
		struct xkv_slot *s = &slots[i];

		if (!xkv_slot_take(s, &seq)) {
			err = -EBUSY;	/* the count keeps moving */
			continue;
		}
		xkv_slot_empty(s);
		xkv_slot_unlock(s, seq);
	}
	munmap(slots, len);
	return err;
}

struct xkv_learn *xkv_learn_load(const struct xkv_learn_opts *o, int *err)
{
	struct xkv_learn_config cfg = {
		.tcp_port = 11211,
		.udp_port = 11211,
		.nslots = o->nslots,
		.nflows = o->nflows ? o->nflows : XKV_LEARN_FLOWS_DEFAULT,
		.ttl_ms = o->ttl_ms > 0 ? (__u32)o->ttl_ms :
					  XKV_LEARN_TTL_MS_DEFAULT,
		.quiet_ms = o->quiet_ms >= 0 ? (__u32)o->quiet_ms :
					       XKV_LEARN_QUIET_MS_DEFAULT,
		.flags = o->flags,
		.amp_ratio = o->amp_ratio < 0 ? 64 : (__u32)o->amp_ratio,
	};
	struct xkv_learn *l = NULL;
	__u32 max = 0, vsize = 0;
	int e;

	if (o->tcp_port < -1 || o->tcp_port > 65535 || o->udp_port < -1 ||
	    o->udp_port > 65535) {
		e = -EINVAL;
		goto fail;
	}
	cfg.tcp_port = o->tcp_port < 0 ? 0 : o->tcp_port ? o->tcp_port : 11211;
	cfg.udp_port = o->udp_port < 0 ? 0 : o->udp_port ? o->udp_port : 11211;
	if (o->hot_fd >= 0) {
		e = map_max_entries(o->hot_fd, &max, &vsize);
		if (e)
			goto fail;
		if (vsize != sizeof(struct xkv_slot) ||
		    (cfg.nslots && cfg.nslots != max)) {
			e = -EINVAL;
			goto fail;
		}
		cfg.nslots = max;
	} else if (!cfg.nslots) {
		cfg.nslots = XKV_HOT_SLOTS_DEFAULT;
	}
	if (!is_pow2(cfg.nslots) || cfg.nslots < XKV_LEARN_SLOTS_MIN ||
	    !is_pow2(cfg.nflows) || cfg.nflows < 2 ||
	    (cfg.flags &
	     ~(__u32)(XKV_LCFG_TEXT_ONLY | XKV_LCFG_NO_TCP_LEARN |
		      XKV_LCFG_UDP_BY_UID | XKV_LCFG_UDP_POLICY))) {
		e = -EINVAL;
		goto fail;
	}

	l = xkv_learn__open();
	if (!l) {
		e = -errno;
		goto fail;
	}
	memcpy((void *)&l->rodata->xkv_lcfg, &cfg, sizeof(cfg));
	e = bpf_map__set_max_entries(l->maps.xkv_hot, cfg.nslots);
	if (!e)
		e = bpf_map__set_max_entries(l->maps.xkv_lmeta, cfg.nslots);
	if (!e)
		e = bpf_map__set_max_entries(l->maps.xkv_locc,
					     cfg.nslots / 64);
	if (!e)
		e = bpf_map__set_max_entries(l->maps.xkv_lflows, cfg.nflows);
	if (!e && o->hot_fd >= 0)
		e = bpf_map__reuse_fd(l->maps.xkv_hot, o->hot_fd);
	if (!e && o->allow4_fd >= 0)
		e = bpf_map__reuse_fd(l->maps.xkv_allow4, o->allow4_fd);
	if (!e && o->allow6_fd >= 0)
		e = bpf_map__reuse_fd(l->maps.xkv_allow6, o->allow6_fd);
	if (!e && o->addrs_fd >= 0)
		e = bpf_map__reuse_fd(l->maps.xkv_addrs, o->addrs_fd);
	if (e)
		goto fail;
	if (o->log_level && o->log_buf && o->log_size) {
		bpf_program__set_log_level(l->progs.xkv_learn_in, o->log_level);
		bpf_program__set_log_level(l->progs.xkv_learn_eg, o->log_level);
		bpf_program__set_log_buf(l->progs.xkv_learn_in, o->log_buf,
					 o->log_size);
		bpf_program__set_log_buf(l->progs.xkv_learn_eg, o->log_buf,
					 o->log_size);
	}
	e = xkv_learn__load(l);
	if (e)
		goto fail;
	if (o->hot_fd >= 0) {
		e = hot_clear(o->hot_fd, cfg.nslots);
		if (e)
			goto fail;
	}
	*err = 0;
	return l;
fail:
	xkv_learn__destroy(l);
	*err = e < 0 ? e : -EINVAL;
	return NULL;
}

void xkv_learn_close(struct xkv_learn *l)
{
	xkv_learn__destroy(l);
}

/*
 * libbpf prints the kernel's message for every failed netlink request;
 * for probes whose failure is an answer ("no such filter") that is noise.
 */
static int print_nothing(enum libbpf_print_level level, const char *fmt,
			 va_list ap)
{
	(void)level;
	(void)fmt;
	(void)ap;
	return 0;
}

/*
 * Our filter on one hook: with @id, query it (its program id, 0 = none);
 * without, detach it. No such filter, or no clsact qdisc, is no error.
 */
static int filter_op(int ifindex, enum bpf_tc_attach_point where, __u32 *id)
{
	libbpf_print_fn_t old;
	struct bpf_tc_hook h;
	struct bpf_tc_opts t;
	int e;

	xkv_tc_hook_init(&h, ifindex, where);
	xkv_tc_opts_init(&t, XKV_LEARN_TC_HANDLE, XKV_LEARN_TC_PRIO, 0);
	if (id)
		*id = 0;
	old = libbpf_set_print(print_nothing);
	e = id ? bpf_tc_query(&h, &t) : bpf_tc_detach(&h, &t);
	libbpf_set_print(old);
	if (e == -ENOENT || e == -EINVAL)
		return 0;
	if (!e && id)
		*id = t.prog_id;
	return e;
}

int xkv_learn_query(int ifindex, __u32 *in_id, __u32 *eg_id)
{
	int e = filter_op(ifindex, BPF_TC_INGRESS, in_id);

	if (!e)
		e = filter_op(ifindex, BPF_TC_EGRESS, eg_id);
	return e;
}

static int detach_one(int ifindex, enum bpf_tc_attach_point where)
{
	return filter_op(ifindex, where, NULL);
}

/* is a filter of the TCP fast path (tcpfast.h) on the interface? */
static bool tcpfast_filters(int ifindex)
{
	static const __u32 handles[] = { XKV_TCPF_HANDLE, XKV_TCPF_HANDLE_OWN };
	static const enum bpf_tc_attach_point hooks[] = { BPF_TC_INGRESS,
							  BPF_TC_EGRESS };
	libbpf_print_fn_t old;
	struct bpf_tc_hook h;
	struct bpf_tc_opts t;
	unsigned int i, k;
	bool found = false;

	old = libbpf_set_print(print_nothing);
	for (k = 0; k < 2 && !found; k++) {
		xkv_tc_hook_init(&h, ifindex, hooks[k]);
		for (i = 0; i < 2 && !found; i++) {
			xkv_tc_opts_init(&t, handles[i], XKV_TCPF_PRIO, 0);
			found = !bpf_tc_query(&h, &t);
		}
	}
	libbpf_set_print(old);
	return found;
}

/* the qdisc, unless the TCP fast path's filters are on it too */
static int destroy_qdisc(int ifindex)
{
	if (tcpfast_filters(ifindex))
		return 0;
	return xkv_tc_qdisc_destroy(ifindex);
}

int xkv_learn_attach(struct xkv_learn *l, int ifindex)
{
	struct bpf_tc_hook h;
	struct bpf_tc_opts t;
	__u32 in_id, eg_id, key = (__u32)ifindex, rec;
	libbpf_print_fn_t old;
	bool created = false;
	int e, lifs_fd;

	if (!l || ifindex <= 0)
		return -EINVAL;
	lifs_fd = bpf_map__fd(l->maps.xkv_lifs);
	e = xkv_learn_query(ifindex, &in_id, &eg_id);
	if (e)
		return e;
	if (in_id || eg_id)
		return -EEXIST;

	xkv_tc_hook_init(&h, ifindex, BPF_TC_INGRESS | BPF_TC_EGRESS);
	old = libbpf_set_print(print_nothing);
	e = bpf_tc_hook_create(&h);
	libbpf_set_print(old);
	if (!e)
		created = true;
	else if (e != -EEXIST)
		return e;

	xkv_tc_hook_init(&h, ifindex, BPF_TC_INGRESS);
	xkv_tc_opts_init(&t, XKV_LEARN_TC_HANDLE, XKV_LEARN_TC_PRIO,
			 bpf_program__fd(l->progs.xkv_learn_in));
	e = bpf_tc_attach(&h, &t);
	if (e)
		goto undo_qdisc;
	xkv_tc_hook_init(&h, ifindex, BPF_TC_EGRESS);
	xkv_tc_opts_init(&t, XKV_LEARN_TC_HANDLE, XKV_LEARN_TC_PRIO,
			 bpf_program__fd(l->progs.xkv_learn_eg));
	e = bpf_tc_attach(&h, &t);
	if (e)
		goto undo_ingress;
	rec = XKV_LIF_ATTACHED | (created ? XKV_LIF_OWN_QDISC : 0);
	if (bpf_map_update_elem(lifs_fd, &key, &rec, BPF_ANY)) {
		e = -errno;
		goto undo_egress;
	}
	return 0;

undo_egress:
	detach_one(ifindex, BPF_TC_EGRESS);
undo_ingress:
	detach_one(ifindex, BPF_TC_INGRESS);
undo_qdisc:
	if (created)
		destroy_qdisc(ifindex);
	return e;
}

int xkv_learn_detach(int ifindex, int lifs_fd)
{
	__u32 key = (__u32)ifindex, rec = 0;
	int e, e2;

	if (ifindex <= 0)
		return -EINVAL;
	e = detach_one(ifindex, BPF_TC_INGRESS);
	e2 = detach_one(ifindex, BPF_TC_EGRESS);
	if (!e)
		e = e2;
	if (lifs_fd >= 0 && !bpf_map_lookup_elem(lifs_fd, &key, &rec)) {
		if (rec & XKV_LIF_OWN_QDISC) {
			e2 = destroy_qdisc(ifindex);
			if (!e)
				e = e2;
		}
		bpf_map_delete_elem(lifs_fd, &key);
	}
	return e;
}

#ifndef SO_COOKIE
#define SO_COOKIE 57
#endif

static int sockopt_int(int fd, int opt)
{
	socklen_t len = sizeof(int);
	int v = -1;

	if (getsockopt(fd, SOL_SOCKET, opt, &v, &len))
		return -1;
	return v;
}

/* the port @fd is bound to (host order), 0 = none or not IP */
static int bound_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &len))
		return 0;
	if (ss.ss_family == AF_INET)
		return ntohs(((struct sockaddr_in *)&ss)->sin_port);
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	return 0;
}

/*
 * Add what @fd (a copy of one of memcached's descriptors) says to @o:
 * a UDP socket on @udp_port, or a TCP socket listening on @tcp_port.
 */
static int own_one(struct xkv_learn_owner *o, int fd, int tcp_port,
		   int udp_port)
{
	int type = sockopt_int(fd, SO_TYPE), port = bound_port(fd);
	socklen_t len = sizeof(__u64);
	struct stat st;
	__u64 cookie;
	__u32 i;

	if (!port)
		return 0;
	if (type == SOCK_DGRAM && port == udp_port) {
		if (getsockopt(fd, SOL_SOCKET, SO_COOKIE, &cookie, &len))
			return -errno;
		for (i = 0; i < o->nsocks; i++) {
			if (o->udp_cookie[i] == cookie)
				return 0;	/* a dup of one seen */
		}
		if (o->nsocks == XKV_LEARN_SOCKS_MAX)
			return -E2BIG;
		o->udp_cookie[o->nsocks++] = cookie;
		return 1;
	}
	if (type == SOCK_STREAM && port == tcp_port &&
	    sockopt_int(fd, SO_ACCEPTCONN) == 1) {
		/* a socket's uid is its inode's owner (sock_init_data()) */
		if (fstat(fd, &st))
			return -errno;
		if ((o->flags & XKV_LOWN_UID) && o->uid != st.st_uid)
			return -EINVAL;
		o->flags |= XKV_LOWN_UID;
		o->uid = st.st_uid;
		return 1;
	}
	return 0;
}

int xkv_learn_own(int owner_fd, int pid, int tcp_port, int udp_port,
		  __u32 *uid)
{
	struct xkv_learn_owner o;
	char path[64], link[64];
	int pidfd, fd, n, e = 0, found = 0;
	struct dirent *d;
	__u32 zero = 0;
	ssize_t len;
	DIR *dir;

	memset(&o, 0, sizeof(o));
	pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (pidfd < 0)
		return -errno;
	snprintf(path, sizeof(path), "/proc/%d/fd", pid);
	dir = opendir(path);
	if (!dir) {
		e = -errno;
		goto close_pidfd;
	}
	while (!e && (d = readdir(dir))) {
		if (d->d_name[0] < '0' || d->d_name[0] > '9')
			continue;
		n = atoi(d->d_name);
		snprintf(path, sizeof(path), "/proc/%d/fd/%d", pid, n);
		len = readlink(path, link, sizeof(link) - 1);
		if (len <= 0)
			continue;
		link[len] = '\0';
		if (strncmp(link, "socket:", 7))
			continue;
		fd = (int)syscall(SYS_pidfd_getfd, pidfd, n, 0);
		if (fd < 0) {
			if (errno != EBADF)	/* closed meanwhile */
				e = -errno;
			continue;
		}
		e = own_one(&o, fd, tcp_port, udp_port);
		close(fd);
		if (e > 0) {
			found += e;
			e = 0;
		}
	}
	closedir(dir);
	if (!e && !found)
		e = -ENOENT;
	if (!e && bpf_map_update_elem(owner_fd, &zero, &o, BPF_ANY))
		e = -errno;
	if (uid)
		*uid = (o.flags & XKV_LOWN_UID) ? o.uid : ~0U;
close_pidfd:
	close(pidfd);
	return e ? e : found;
}
