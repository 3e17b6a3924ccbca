// SPDX-License-Identifier: GPL-2.0
/*
 * learn.c - learning mode: load, pin, attach and detach the TC learning
 * programs through learn_attach.h.
 *
 * Where the filters go. The interface xkv is up on, and lo as well:
 *
 *  - a write must pass the ingress of an attached interface, or the
 *    learner never invalidates its key (LEARNING.md, "What is not
 *    coherent"). Clients on this host reach memcached over lo, whatever
 *    address they connect to (the interface's own included), and so does
 *    "xkv flush --all". Left out, each of their writes could leave XDP
 *    serving the value it replaced for up to ttl_ms.
 *  - lo costs little: both programs look at memcached's ports only
 *    (other packets leave after a few dozen instructions) and never
 *    change a packet. On lo a request crosses egress then ingress, a
 *    reply the same; each program only looks at one direction (ingress
 *    at packets to memcached's port, egress at packets from it), so
 *    nothing is counted twice.
 *  - XDP itself stays on the one interface: lo gets only the filters.
 *
 * Other interfaces are not attached: one instance owns one interface
 * (and lo), and a write arriving through any other is not seen, which
 * LEARNING.md lists among the limits of the mode. "up" says so in one
 * line, naming those that are up with an address
 * (xkv_learn_warn_unseen()); memcached's -l does not help there, since
 * Linux takes a packet for any local address on any interface.
 *
 * Both attaches are recorded in the one pinned xkv_lifs map (ifindex ->
 * XKV_LIF_*), which is how xkv_learn_down() finds them from another
 * process.
 */
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "learn_attach.h"	/* includes the abi/ layouts, which the
				 * skeleton needs first */
#include "xkv_learn.skel.h"
#include "learn.h"
#include "log.h"

/* every pin of the learning object, in the order xkv_learn_up() makes them */
static const char *const learn_pins[] = {
	XKV_PIN_LIFS, XKV_PIN_LSTATS, XKV_PIN_LMETA, XKV_PIN_LGLOB,
	XKV_PIN_LRODATA, XKV_PIN_LOWNER,
};

#define NPINS (sizeof(learn_pins) / sizeof(learn_pins[0]))

/* most interface names the warning of xkv_learn_warn_unseen() lists */
#define XKV_UNSEEN_MAX 8

static void unpin_all(const struct xkv_paths *p)
{
	char path[PATH_MAX];
	unsigned int i;

	for (i = 0; i < NPINS; i++) {
		if (unlink(xkv_pin_path(p, learn_pins[i], path)) &&
		    errno != ENOENT)
			pr_warn("cannot remove %s: %s\n", path,
				strerror(errno));
	}
}

static int pin_maps(struct xkv_learn *l, const struct xkv_paths *p)
{
	struct bpf_map *maps[NPINS] = {
		l->maps.xkv_lifs, l->maps.xkv_lstats, l->maps.xkv_lmeta,
		l->maps.xkv_lglob, l->maps.rodata, l->maps.xkv_lowner,
	};
	char path[PATH_MAX];
	unsigned int i;
	int err;

	for (i = 0; i < NPINS; i++) {
		err = bpf_map__pin(maps[i], xkv_pin_path(p, learn_pins[i],
							 path));
		if (err) {
			pr_warn("cannot pin %s: %s\n", path, strerror(-err));
			unpin_all(p);
			return err;
		}
	}
	return 0;
}

/* close @fd and the @n first of @fds */
static void close_all(int fd, const int *fds, size_t n)
{
	size_t i;

	close(fd);
	for (i = 0; i < n; i++)
		close(fds[i]);
}

static struct xkv_learn *load(const struct xkv_paths *p,
			      const struct xkv_learn_up_opts *o, int *err)
{
	struct xkv_learn_opts lo = XKV_LEARN_OPTS_INIT;
	/* the UDP policy's: the allowlist and addresses XDP has */
	static const char *const pol_pins[] = {
		XKV_PIN_ALLOW4, XKV_PIN_ALLOW6, XKV_PIN_ADDRS,
	};
	int pol_fd[3] = { -1, -1, -1 };
	char path[PATH_MAX];
	struct xkv_learn *l;
	int hot_fd;
	size_t i;

	/* the XDP object's own xkv_hot: what the learner fills XDP serves */
	hot_fd = bpf_obj_get(xkv_pin_path(p, XKV_PIN_HOT, path));
	if (hot_fd < 0) {
		*err = -errno;
		pr_warn("cannot open the hot cache %s: %s\n", path,
			strerror(errno));
		return NULL;
	}
	lo.tcp_port = (int)o->port;
	lo.udp_port = (int)o->port;
	lo.ttl_ms = (int)o->ttl_ms;
	lo.quiet_ms = (int)o->quiet_ms;
	lo.flags = o->flags;
	lo.hot_fd = hot_fd;
	lo.amp_ratio = (int)o->amp_ratio;
	for (i = 0; i < 3 && (o->flags & XKV_LCFG_UDP_POLICY); i++) {
		pol_fd[i] = bpf_obj_get(xkv_pin_path(p, pol_pins[i], path));
		if (pol_fd[i] < 0) {
			*err = -errno;
			pr_warn("cannot open %s: %s\n", path, strerror(errno));
			close_all(hot_fd, pol_fd, i);
			return NULL;
		}
	}
	lo.allow4_fd = pol_fd[0];
	lo.allow6_fd = pol_fd[1];
	lo.addrs_fd = pol_fd[2];
	l = xkv_learn_load(&lo, err);
	close_all(hot_fd, pol_fd, 3);	/* the object holds its own */
	if (l)
		return l;
	if (*err == -EPERM)
		pr_warn("cannot load the learning programs: %s: run xkv as root (it needs CAP_BPF, CAP_NET_ADMIN)\n",
			strerror(-*err));
	else
		pr_warn("cannot load the learning programs: %s%s\n",
			strerror(-*err),
			xkv_log_level() < XKV_LOG_DEBUG ?
				" (-v shows the verifier's log)" : "");
	return NULL;
}

static int attach(struct xkv_learn *l, const char *ifname, int ifindex)
{
	int err;

	err = xkv_learn_attach(l, ifindex);
	if (err == -EEXIST)
		pr_warn("%s: learning filters (tc handle 0x%x, prio 0x%x) are attached already: another learning loader runs here\n",
			ifname, XKV_LEARN_TC_HANDLE, XKV_LEARN_TC_PRIO);
	else if (err)
		pr_warn("%s: cannot attach the learning programs: %s\n",
			ifname, strerror(-err));
	return err;
}

int xkv_learn_up(const struct xkv_paths *p, int ifindex,
		 const struct xkv_learn_up_opts *o)
{
	struct xkv_learn *l;
	int err, lo_index;

	l = load(p, o, &err);
	if (!l)
		return err;
	err = pin_maps(l, p);
	if (err)
		goto close_obj;
	err = attach(l, p->ifname, ifindex);
	if (err)
		goto unpin;
	/* lo as well: why, at the top of this file */
	if (strcmp(p->ifname, "lo")) {
		lo_index = (int)if_nametoindex("lo");
		if (!lo_index) {
			err = -errno;
			pr_warn("lo: %s\n", strerror(errno));
			goto detach_iface;
		}
		err = attach(l, "lo", lo_index);
		if (err)
			goto detach_iface;
	}
	xkv_learn_close(l);	/* the filters keep the programs */
	return 0;

detach_iface:
	xkv_learn_detach(ifindex, bpf_map__fd(l->maps.xkv_lifs));
unpin:
	unpin_all(p);
close_obj:
	xkv_learn_close(l);
	return err;
}

int xkv_learn_own_backend(const struct xkv_paths *p, pid_t pid,
			  unsigned int port)
{
	char path[PATH_MAX];
	__u32 uid;
	int fd, n;

	fd = bpf_obj_get(xkv_pin_path(p, XKV_PIN_LOWNER, path));
	if (fd < 0) {
		n = -errno;
		pr_warn("cannot open %s: %s\n", path, strerror(errno));
		return n;
	}
	n = xkv_learn_own(fd, (int)pid, (int)port, (int)port, &uid);
	close(fd);
	if (n < 0) {
		pr_warn("%s: cannot find memcached's sockets (pid %d): %s: learning would trust no reply\n",
			p->ifname, (int)pid, strerror(-n));
		return n;
	}
	if (uid == ~0U)
		pr_info("%s: learning trusts only memcached's own sockets (%d found, no TCP listener: UDP replies only)\n",
			p->ifname, n);
	else
		pr_info("%s: learning trusts only memcached's own sockets (%d found; TCP replies from uid %u)\n",
			p->ifname, n, uid);
	return 0;
}

static int lifs_open(const struct xkv_paths *p)
{
	char path[PATH_MAX];
	int fd;

	fd = bpf_obj_get(xkv_pin_path(p, XKV_PIN_LIFS, path));
	return fd < 0 ? -errno : fd;
}

/* the ifindexes recorded in xkv_lifs, with their XKV_LIF_* flags */
static int lifs_read(int fd, __u32 *keys, __u32 *vals, int max)
{
	__u32 key, next;
	int n = 0, err;

	err = bpf_map_get_next_key(fd, NULL, &next);
	while (!err && n < max) {
		key = next;
		if (!bpf_map_lookup_elem(fd, &key, &vals[n]))
			keys[n++] = key;
		err = bpf_map_get_next_key(fd, &key, &next);
	}
	if (err && errno != ENOENT)
		return -errno;
	return n;
}

bool xkv_learn_mode(const struct xkv_paths *p)
{
	char path[PATH_MAX];

	return !access(xkv_pin_path(p, XKV_PIN_LIFS, path), F_OK);
}

int xkv_learn_down(const struct xkv_paths *p)
{
	__u32 keys[XKV_LEARN_IFACES_MAX], vals[XKV_LEARN_IFACES_MAX];
	__u32 in_id, eg_id;
	char name[IF_NAMESIZE];
	int fd, n, i, err = 0, e;

	fd = lifs_open(p);
	if (fd == -ENOENT)
		return 0;	/* not in learning mode */
	if (fd < 0) {
		pr_warn("%s: cannot open %s: %s\n", p->ifname, XKV_PIN_LIFS,
			strerror(-fd));
		return fd;
	}
	n = lifs_read(fd, keys, vals, XKV_LEARN_IFACES_MAX);
	if (n < 0) {
		err = n;
		pr_warn("%s: cannot read %s: %s\n", p->ifname, XKV_PIN_LIFS,
			strerror(-err));
		goto close_fd;
	}
	for (i = 0; i < n; i++) {
		int ifindex = (int)keys[i];

		if (!if_indextoname((unsigned int)ifindex, name))
			snprintf(name, sizeof(name), "ifindex %d", ifindex);
		/*
		 * Nothing of ours there any more (the interface went, taking
		 * its filters and qdisc along): forget it, and never remove
		 * a qdisc that may now belong to another interface.
		 */
		e = xkv_learn_query(ifindex, &in_id, &eg_id);
		if (e == -ENODEV || (!e && !in_id && !eg_id)) {
			bpf_map_delete_elem(fd, &keys[i]);
			continue;
		}
		e = xkv_learn_detach(ifindex, fd);
		if (e) {
			pr_warn("%s: cannot detach the learning programs: %s\n",
				name, strerror(-e));
			if (!err)
				err = e;
			continue;
		}
		pr_debug("%s: learning programs detached%s\n", name,
			 vals[i] & XKV_LIF_OWN_QDISC ?
				 ", clsact qdisc removed" : "");
	}
close_fd:
	close(fd);
	if (!err)
		unpin_all(p);
	return err;
}

int xkv_learn_ifaces(const struct xkv_paths *p, struct xkv_learn_iface *out,
		     int max)
{
	__u32 keys[XKV_LEARN_IFACES_MAX], vals[XKV_LEARN_IFACES_MAX], own;
	int fd, n, i;

	fd = lifs_open(p);
	if (fd < 0)
		return fd;
	if (max > XKV_LEARN_IFACES_MAX)
		max = XKV_LEARN_IFACES_MAX;
	n = lifs_read(fd, keys, vals, max);
	close(fd);
	/* the instance's own interface first, then lo */
	own = if_nametoindex(p->ifname);
	for (i = 1; i < n; i++) {
		if (keys[i] == own) {
			__u32 k = keys[0], v = vals[0];

			keys[0] = keys[i];
			vals[0] = vals[i];
			keys[i] = k;
			vals[i] = v;
		}
	}
	for (i = 0; i < n; i++) {
		struct xkv_learn_iface *li = &out[i];

		memset(li, 0, sizeof(*li));
		li->ifindex = (int)keys[i];
		li->own_qdisc = vals[i] & XKV_LIF_OWN_QDISC;
		if (!if_indextoname(keys[i], li->ifname))
			snprintf(li->ifname, sizeof(li->ifname), "?");
		else
			xkv_learn_query(li->ifindex, &li->in_id, &li->eg_id);
	}
	return n;
}

/* is @name one of the first @n of @names? */
static bool listed(char (*names)[IF_NAMESIZE], int n, const char *name)
{
	int i;

	for (i = 0; i < n; i++) {
		if (!strcmp(names[i], name))
			return true;
	}
	return false;
}

void xkv_learn_warn_unseen(const char *ifname, unsigned int ttl_ms)
{
	char names[XKV_UNSEEN_MAX][IF_NAMESIZE], line[XKV_UNSEEN_MAX * 18];
	struct ifaddrs *ifa, *i;
	int n = 0, k;
	size_t len = 0;

	if (getifaddrs(&ifa))
		return;
	for (i = ifa; i && n < XKV_UNSEEN_MAX; i = i->ifa_next) {
		int fam = i->ifa_addr ? i->ifa_addr->sa_family : AF_UNSPEC;

		if ((fam != AF_INET && fam != AF_INET6) ||
		    !(i->ifa_flags & IFF_UP) ||
		    (i->ifa_flags & IFF_LOOPBACK) ||
		    !strcmp(i->ifa_name, ifname) ||
		    listed(names, n, i->ifa_name))
			continue;
		snprintf(names[n++], IF_NAMESIZE, "%s", i->ifa_name);
	}
	freeifaddrs(ifa);
	if (!n)
		return;
	line[0] = '\0';
	for (k = 0; k < n; k++)
		len += (size_t)snprintf(line + len, sizeof(line) - len, "%s%s",
					k ? ", " : "", names[k]);
	pr_warn("warning: %s: writes reaching memcached through %s%s are not seen by learning (only %s and lo are): XDP may serve the value they replaced for up to %u ms (bpf/LEARNING.md)\n",
		ifname, line, n == XKV_UNSEEN_MAX ? ", ..." : "", ifname,
		ttl_ms);
}
