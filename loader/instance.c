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

/* most slots --cache-slots accepts: 2^22 slots of 2 KiB = 8 GiB */
#define XKV_SLOTS_MAX (1U << 22)
/* fewest: one set of ways, when the hot cache is set-associative */
#ifdef XKV_HOT_WAYS
#define XKV_SLOTS_MIN XKV_HOT_WAYS
#else
#define XKV_SLOTS_MIN 1
#endif

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
	if (o->xdp.max_reply < 8 + 5 || o->xdp.max_reply > XKV_UDP_PAYLOAD_CAP) {
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

/* refuse to stack: xkv already here, or someone else's XDP program */
static int check_free(const struct xkv_inst *inst)
{
	const struct xkv_paths *p = &inst->paths;
	struct xkv_link_state ls;
	unsigned int mode;
	__u32 prog_id;
	int err;

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

int xkv_inst_up(struct xkv_inst *inst, const struct xkv_inst_opts *o)
{
	const struct xkv_paths *p = &inst->paths;
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
	/* the pin directory is the lock: a concurrent "up" stops here */
	err = xkv_pin_dir_create(p);
	if (err == -EEXIST) {
		pr_warn("%s: xkv is being brought up here already\n",
			p->ifname);
		return err;
	}
	if (err)
		return err;
	err = xkv_xdp_load(&o->xdp, &obj);
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
	err = xkv_xdp_attach(obj, p, inst->ifindex, o->xdp.mode, &inst->mode);
	if (err)
		goto unpin;
	inst->prog_id = xkv_xdp_prog_id(obj);
	xkv_xdp_close(obj);
	return 0;

unpin:	/* the pins go with the directory, below */
close_obj:
	xkv_xdp_close(obj);
remove_dir:
	xkv_pin_dir_remove(p);
	return err;
}

int xkv_inst_down(const struct xkv_paths *paths)
{
	int err, err2;

	err = xkv_xdp_detach(paths);
	err2 = xkv_pin_dir_remove(paths);
	return err ? err : err2;
}
