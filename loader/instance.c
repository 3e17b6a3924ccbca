// SPDX-License-Identifier: GPL-2.0
/*
 * instance.c - the XDP tier of one interface, up and down.
 */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>

#include "xkv_hot.h"
#include "xkv_config.h"
#include "iface.h"
#include "instance.h"
#include "log.h"
#include "tcpfast.h"

/* most slots --cache-slots accepts: 2^22 slots of 2 KiB = 8 GiB */
#define XKV_SLOTS_MAX (1U << 22)
/* fewest: one slot (a bucket of entries; xkv_hot_index() masks the hash) */
#define XKV_SLOTS_MIN 1

int xkv_inst_init(struct xkv_inst *inst, const char *ifname)
{
	int err;

	memset(inst, 0, sizeof(*inst));
	err = xkv_paths_init(&inst->paths, ifname);
	if (err)
		return err;
	inst->ifindex = (int)if_nametoindex(ifname);
	if (!inst->ifindex) {
		pr_warn("%s: no such interface in this network namespace\n",
			ifname);
		return -ENODEV;
	}
	return 0;
}

struct allow_list {
	struct xkv_prefix *pfx;
	unsigned int n;
	unsigned int max;
};

static int allow_list_add(const struct xkv_prefix *pfx, void *data)
{
	struct allow_list *l = data;
	unsigned int i;

	for (i = 0; i < l->n; i++) {
		if (!memcmp(&l->pfx[i], pfx, sizeof(*pfx)))
			return 0;
	}
	if (l->n == l->max)
		return -E2BIG;
	l->pfx[l->n++] = *pfx;
	return 0;
}

/* --allow as prefixes; NULL means the interface's defaults */
static int allow_parse(const char *spec, const char *ifname,
		       struct allow_list *l)
{
	char buf[XKV_ALLOW_ARGS * XKV_PREFIX_STRLEN], *tok, *save = NULL;
	struct xkv_prefix pfx;
	int err;

	if (!spec)
		return ifname ? xkv_allow_defaults(ifname, allow_list_add, l) :
				0;
	if (!strcmp(spec, "any"))
		return xkv_allow_any(allow_list_add, l);
	if (!strcmp(spec, "none"))
		return 0;
	if (strlen(spec) >= sizeof(buf))
		return -E2BIG;
	strcpy(buf, spec);
	for (tok = strtok_r(buf, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		if (xkv_prefix_parse(tok, &pfx)) {
			pr_warn("--allow: '%s' is not an address or prefix\n",
				tok);
			return -EINVAL;
		}
		err = allow_list_add(&pfx, l);
		if (err)
			return err;
	}
	return 0;
}

int xkv_inst_check_opts(const struct xkv_inst_opts *o)
{
	struct xkv_prefix pfx[XKV_ALLOW_ARGS];
	struct allow_list l = { .pfx = pfx, .max = XKV_ALLOW_ARGS };
	unsigned int n = o->xdp.nslots;

	if (n < XKV_SLOTS_MIN || (n & (n - 1)) || n > XKV_SLOTS_MAX) {
		pr_warn("--cache-slots %u: must be a power of two, %u..%u\n",
			n, XKV_SLOTS_MIN, XKV_SLOTS_MAX);
		return -EINVAL;
	}
	if (o->xdp.max_reply < 8 + 5 ||
	    o->xdp.max_reply > XKV_UDP_PAYLOAD_CAP) {
		pr_warn("--max-reply %u: must be %u..%u bytes\n",
			o->xdp.max_reply, 8 + 5, XKV_UDP_PAYLOAD_CAP);
		return -EINVAL;
	}
	if (allow_parse(o->allow, NULL, &l)) {
		pr_warn("--allow: bad list (up to %d prefixes, comma separated)\n",
			XKV_ALLOW_ARGS);
		return -EINVAL;
	}
	return 0;
}

/*
 * Refuse to stack: xkv already here, or someone else's XDP program; an
 * earlier instance's TCP fast path that still translates connections.
 * What such an instance left otherwise goes.
 */
static int check_free(const struct xkv_inst *inst)
{
	const struct xkv_paths *p = &inst->paths;
	struct xkv_link_state ls;
	unsigned int mode;
	__u32 prog_id;
	int err;

	if (xkv_tcpf_leftover(p) || !xkv_pin_dir_exists(p)) {
		err = xkv_tcpf_reclaim(p, inst->ifindex);
		if (err)
			return err;
	}
	if (xkv_pin_dir_exists(p)) {
		err = xkv_xdp_link_state(p, &ls);
		if (err || !ls.ifindex)
			pr_warn("%s: stale xkv state in %s (XDP no longer attached): run 'xkv down %s' first\n",
				p->ifname, p->pin_dir, p->ifname);
		else
			pr_warn("%s: xkv is already up here (XDP prog id %u, link id %u): run 'xkv down %s' first\n",
				p->ifname, ls.prog_id, ls.link_id, p->ifname);
		return -EEXIST;
	}
	err = xkv_xdp_query(inst->ifindex, &prog_id, &mode);
	if (err) {
		pr_warn("%s: cannot query XDP: %s\n", p->ifname,
			strerror(-err));
		return err;
	}
	if (prog_id) {
		pr_warn("%s: another XDP program is attached (id %u, %s mode); xkv does not stack programs: remove it first\n",
			p->ifname, prog_id, xkv_mode_name(mode));
		return -EEXIST;
	}
	return 0;
}

static int allow_fill(struct xkv_inst *inst, struct xkv_obj *obj,
		      const struct xkv_inst_opts *o)
{
	struct allow_list l = { .pfx = inst->allow,
				.max = sizeof(inst->allow) /
				       sizeof(inst->allow[0]) };
	struct xkv_allow a = {
		.fd4 = xkv_xdp_map_fd(obj, XKV_PIN_ALLOW4),
		.fd6 = xkv_xdp_map_fd(obj, XKV_PIN_ALLOW6),
	};
	char buf[XKV_PREFIX_STRLEN];
	unsigned int i;
	int err;

	err = allow_parse(o->allow, inst->paths.ifname, &l);
	if (err) {
		pr_warn("%s: cannot list the default prefixes: %s\n",
			inst->paths.ifname, strerror(-err));
		return err;
	}
	inst->nallow = l.n;
	for (i = 0; i < l.n; i++) {
		err = xkv_allow_add(&a, &l.pfx[i]);
		if (err) {
			pr_warn("cannot allow %s: %s\n",
				xkv_prefix_format(&l.pfx[i], buf),
				strerror(-err));
			return err;
		}
	}
	return 0;
}

/*
 * The TCP fast path's filters. Asked for with --tcp-fast on, failing to
 * attach them fails "up"; by default the fast path stays off instead
 * (answering is never turned on) and XDP serves UDP as before.
 */
static int tcp_attach(struct xkv_inst *inst, struct xkv_obj *obj,
		      const struct xkv_inst_opts *o)
{
	const char *ifname = inst->paths.ifname;
	int err;

	err = xkv_tcpf_attach(inst->ifindex,
			      xkv_xdp_prog_fd(obj, XKV_PROG_TC_IN),
			      xkv_xdp_prog_fd(obj, XKV_PROG_TC_OUT));
	if (!err) {
		inst->tcp_fast = true;
		return 0;
	}
	if (o->tcp_fast == XKV_TCPF_ON) {
		pr_warn("%s: cannot attach the TCP fast path's TC filters (clsact ingress and egress): %s; --tcp-fast off serves without it\n",
			ifname, strerror(-err));
		return err;
	}
	inst->tcp_why = err;
	pr_warn("%s: warning: cannot attach the TCP fast path's TC filters (clsact ingress and egress): %s: the TCP fast path stays off (--tcp-fast on makes this an error)\n",
		ifname, strerror(-err));
	return 0;
}

/*
 * Native XDP was not available: undo what xkv_inst_up() did after the
 * load (the TC filters, the pins; the pin directory stays, as its lock)
 * and close @obj, for a load with generic mode's settings (@xo).
 */
static int reload_generic(struct xkv_inst *inst, struct xkv_obj *obj,
			  struct xkv_xdp_opts *xo)
{
	int err;

	if (inst->tcp_fast)
		xkv_tcpf_detach(inst->ifindex);
	inst->tcp_fast = false;
	xkv_xdp_close(obj);
	err = xkv_pin_dir_prune(&inst->paths, NULL);
	if (err) {
		pr_warn("%s: cannot remove the pins of the native load: %s\n",
			inst->paths.ifname, strerror(-err));
		return err;
	}
	xkv_xdp_opts_generic(xo);
	return 0;
}

int xkv_inst_up(struct xkv_inst *inst, const struct xkv_inst_opts *o)
{
	const struct xkv_paths *p = &inst->paths;
	struct xkv_xdp_opts xo = o->xdp;
	struct xkv_obj *obj = NULL;
	bool mounted;
	int err;

	err = xkv_bpffs_ensure(&mounted);
	if (err)
		return err;
	if (mounted) {
		pr_warn("%s had no bpffs (\"ip netns exec\" remounts /sys?)\n",
			xkv_bpffs_root());
		pr_warn("the pins, and the XDP attach they hold, last only as long as this mount namespace: enter network namespaces with \"nsenter --net=/var/run/netns/NAME\" instead\n");
	}
	err = check_free(inst);
	if (err)
		return err;
	if (xo.tcp_port && !xkv_xdp_has_tcp_fast()) {
		if (o->tcp_fast == XKV_TCPF_ON) {
			pr_warn("%s: --tcp-fast on: this build's XDP object has no TCP fast path (no %s, %s programs)\n",
				p->ifname, XKV_PROG_TC_IN, XKV_PROG_TC_OUT);
			return -ENOENT;
		}
		pr_warn("%s: warning: this build's XDP object has no TCP fast path: it stays off\n",
			p->ifname);
		inst->tcp_why = -ENOENT;
		xo.tcp_port = 0;
	}
	/* the pin directory is the lock: a concurrent "up" stops here */
	err = xkv_pin_dir_create(p);
	if (err == -EEXIST) {
		pr_warn("%s: xkv is being brought up here already\n",
			p->ifname);
		return err;
	}
	if (err)
		return err;
load:
	err = xkv_xdp_load(&xo, &obj);
	if (err && err != -EPERM && xo.tcp_port &&
	    o->tcp_fast != XKV_TCPF_ON) {
		/* a kernel that cannot verify the TCP code still serves UDP */
		pr_warn("%s: warning: the XDP program does not load with the TCP fast path: loading it without (--tcp-fast on makes this an error)\n",
			p->ifname);
		inst->tcp_why = err;
		xo.tcp_port = 0;
		err = xkv_xdp_load(&xo, &obj);
	}
	if (err)
		goto remove_dir;
	err = xkv_xdp_pin(obj, p);
	if (err)
		goto close_obj;
	err = allow_fill(inst, obj, o);
	if (err)
		goto unpin;
	/* what the stack drops: our own addresses, subnet broadcasts */
	err = xkv_iface_addrs(p->ifname,
			      xkv_xdp_map_fd(obj, XKV_PIN_ADDRS));
	if (err < 0) {
		pr_warn("%s: cannot list its addresses: %s\n", p->ifname,
			strerror(-err));
		goto unpin;
	}
	/* translation before XDP can answer anything */
	if (xo.tcp_port) {
		err = tcp_attach(inst, obj, o);
		if (err)
			goto unpin;
	}
	err = xkv_xdp_attach(obj, p, inst->ifindex, xo.mode, &inst->mode);
	if (err == XKV_XDP_NO_NATIVE) {
		/* again from the load, with generic mode's settings */
		err = reload_generic(inst, obj, &xo);
		obj = NULL;
		if (err)
			goto remove_dir;
		goto load;
	}
	if (err)
		goto detach_tc;
	if (inst->tcp_fast) {
		err = xkv_tcpf_answer_set(xkv_xdp_map_fd(obj, XKV_PIN_TCP_CTL),
					  true);
		if (err) {
			pr_warn("%s: cannot turn the TCP fast path on: %s\n",
				p->ifname, strerror(-err));
			goto detach_xdp;
		}
	}
	inst->prog_id = xkv_xdp_prog_id(obj);
	xkv_xdp_close(obj);
	return 0;

detach_xdp:
	xkv_xdp_detach(p);
detach_tc:
	if (inst->tcp_fast)
		xkv_tcpf_detach(inst->ifindex);
	inst->tcp_fast = false;
unpin:	/* the pins go with the directory, below */
close_obj:
	xkv_xdp_close(obj);
remove_dir:
	xkv_pin_dir_remove(p);
	return err;
}

int xkv_inst_down(const struct xkv_paths *paths)
{
	int err, err2, err3;

	err = xkv_xdp_detach(paths);
	err2 = xkv_tcpf_detach((int)if_nametoindex(paths->ifname));
	if (err2)
		pr_warn("%s: cannot detach the TCP fast path's TC filters: %s\n",
			paths->ifname, strerror(-err2));
	err3 = xkv_pin_dir_remove(paths);
	return err ? err : err2 ? err2 : err3;
}

int xkv_inst_retire(const struct xkv_paths *paths, bool force)
{
	static const char *const keep[] = XKV_TCPF_LEFTOVER_PINS;
	const char *ifname = paths->ifname;
	struct xkv_tcpf_state st;
	int ifindex, err, err2;
	char n[32];

	err = xkv_tcpf_answer_pin(paths, false);
	if (err && err != -ENOENT)
		pr_warn("%s: cannot turn the TCP fast path off: %s\n", ifname,
			strerror(-err));
	ifindex = (int)if_nametoindex(ifname);
	if (force)
		return xkv_inst_down(paths);
	err = xkv_tcpf_drain(ifindex, XKV_TCPF_DRAIN_MS, &st);
	if (err) {
		pr_warn("%s: cannot query the TCP fast path's TC filters: %s: they stay ('xkv down --force %s' removes them)\n",
			ifname, strerror(-err), ifname);
		st.live = err;
	} else if (!xkv_tcpf_busy(&st)) {
		return xkv_inst_down(paths);
	}
	err = xkv_xdp_detach(paths);
	err2 = xkv_pin_dir_prune(paths, keep);
	pr_info("%s: %s TCP connections the fast path answered on are still open: its TC filters (ingress prog id %u, egress prog id %u) stay attached to translate them, with their maps pinned in %s\n",
		ifname, xkv_tcpf_conns_str(&st, n, sizeof(n)), st.in_id,
		st.out_id, paths->pin_dir);
	pr_info("%s: 'xkv down %s' removes them once those connections have closed ('xkv status %s' counts them; 'xkv down --force %s' now, breaking them)\n",
		ifname, ifname, ifname, ifname);
	return err ? err : err2 ? err2 : 1;
}
