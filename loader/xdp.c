// SPDX-License-Identifier: GPL-2.0
/*
 * xdp.c - load, pin, attach and detach the XDP program (the skeleton's
 * only user).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/if_link.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "xkv_config.h"	/* before the skeleton: it names our types */
#include "xkv.skel.h"
#include "log.h"
#include "xdp.h"

struct xkv_obj {
	struct xkv *skel;
};

const char *xkv_mode_name(unsigned int mode)
{
	switch (mode) {
	case XKV_MODE_NATIVE:
		return "native";
	case XKV_MODE_GENERIC:
		return "generic";
	default:
		return "none";
	}
}

static const char *const tc_progs[] = { XKV_PROG_TC_IN, XKV_PROG_TC_OUT };

#define NTC_PROGS (sizeof(tc_progs) / sizeof(tc_progs[0]))

bool xkv_xdp_has_tcp_fast(void)
{
	struct xkv *skel;
	unsigned int i;
	bool has = true;

	skel = xkv__open();
	if (!skel)
		return false;
	for (i = 0; i < NTC_PROGS; i++)
		has = has && bpf_object__find_program_by_name(skel->obj,
							      tc_progs[i]);
	xkv__destroy(skel);
	return has;
}

/*
 * The TCP fast path's programs are loaded only when it is wanted: a
 * kernel that cannot verify them still serves UDP with --tcp-fast off.
 */
static int tc_progs_autoload(struct xkv *skel, bool load)
{
	struct bpf_program *prog;
	unsigned int i;

	for (i = 0; i < NTC_PROGS; i++) {
		prog = bpf_object__find_program_by_name(skel->obj,
							tc_progs[i]);
		if (!prog && load) {
			pr_warn("this build's XDP object has no TCP fast path (no program %s)\n",
				tc_progs[i]);
			return -ENOENT;
		}
		if (prog)
			bpf_program__set_autoload(prog, load);
	}
	return 0;
}

int xkv_xdp_load(const struct xkv_xdp_opts *o, struct xkv_obj **out)
{
	struct xkv_config cfg = {
		.port = (__u16)o->port,
		.flags = (__u16)o->flags,
		.nslots = o->nslots,
		.max_reply = o->max_reply,
		.amp_ratio = o->amp_ratio,
		.tcp_port = (__u16)o->tcp_port,
	};
	struct xkv_obj *obj;
	int err;

	obj = calloc(1, sizeof(*obj));
	if (!obj)
		return -ENOMEM;
	obj->skel = xkv__open();
	if (!obj->skel) {
		err = -errno;
		pr_warn("cannot open the XDP object: %s\n", strerror(-err));
		goto free_obj;
	}
	memcpy((void *)&obj->skel->rodata->xkv_cfg, &cfg, sizeof(cfg));
	err = tc_progs_autoload(obj->skel, o->tcp_port != 0);
	if (err)
		goto destroy_skel;
	err = bpf_map__set_max_entries(obj->skel->maps.xkv_hot, o->nslots);
	if (err) {
		pr_warn("cannot size the hot cache: %s\n", strerror(-err));
		goto destroy_skel;
	}
	err = xkv__load(obj->skel);
	if (err == -EPERM) {
		pr_warn("cannot load the XDP program: %s: run xkv as root (it needs CAP_BPF, CAP_NET_ADMIN)\n",
			strerror(-err));
		goto destroy_skel;
	}
	if (err) {
		pr_warn("cannot load the XDP program: %s%s\n", strerror(-err),
			xkv_log_level() < XKV_LOG_DEBUG ?
				" (-v shows the verifier's log)" : "");
		goto destroy_skel;
	}
	pr_debug("loaded: port %u, %u slots, max reply %u, amp ratio %u, TCP fast path port %u\n",
		 o->port, o->nslots, o->max_reply, o->amp_ratio, o->tcp_port);
	*out = obj;
	return 0;

destroy_skel:
	xkv__destroy(obj->skel);
free_obj:
	free(obj);
	return err;
}

__u32 xkv_xdp_prog_id(struct xkv_obj *obj)
{
	struct bpf_prog_info info;
	__u32 len = sizeof(info);

	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(bpf_program__fd(obj->skel->progs.xkv_xdp),
				   &info, &len))
		return 0;
	return info.id;
}

int xkv_xdp_prog_fd(struct xkv_obj *obj, const char *name)
{
	struct bpf_program *prog;
	int fd;

	prog = bpf_object__find_program_by_name(obj->skel->obj, name);
	fd = prog ? bpf_program__fd(prog) : -1;
	return fd < 0 ? -ENOENT : fd;
}

int xkv_xdp_map_fd(struct xkv_obj *obj, const char *name)
{
	struct bpf_map *map;

	map = bpf_object__find_map_by_name(obj->skel->obj, name);
	return map ? bpf_map__fd(map) : -ENOENT;
}

int xkv_xdp_pinned_cfg(const struct xkv_paths *p, struct xkv_config *cfg)
{
	struct xkv__rodata ro;
	char path[PATH_MAX];
	__u32 zero = 0;
	int fd, err = 0;

	fd = bpf_obj_get(xkv_pin_path(p, XKV_PIN_RODATA, path));
	if (fd < 0)
		return -errno;
	if (bpf_map_lookup_elem(fd, &zero, &ro))
		err = -errno;
	else
		memcpy(cfg, (const void *)&ro.xkv_cfg, sizeof(*cfg));
	close(fd);
	return err;
}

int xkv_xdp_pin(struct xkv_obj *obj, const struct xkv_paths *p)
{
	char path[PATH_MAX];
	int err;

	/* every map, named as in the object ("xkv.rodata" -> xkv_rodata) */
	err = bpf_object__pin_maps(obj->skel->obj, p->pin_dir);
	if (err) {
		pr_warn("cannot pin the maps in %s: %s\n", p->pin_dir,
			strerror(-err));
		return err;
	}
	err = bpf_program__pin(obj->skel->progs.xkv_xdp,
			       xkv_pin_path(p, XKV_PIN_PROG, path));
	if (err) {
		pr_warn("cannot pin the program at %s: %s\n", path,
			strerror(-err));
		goto unpin_maps;
	}
	pr_debug("pinned maps and program in %s\n", p->pin_dir);
	return 0;

unpin_maps:
	bpf_object__unpin_maps(obj->skel->obj, p->pin_dir);
	return err;
}

static int link_create(int prog_fd, int ifindex, unsigned int mode)
{
	LIBBPF_OPTS(bpf_link_create_opts, opts);
	int fd;

	opts.flags = mode == XKV_MODE_NATIVE ? XDP_FLAGS_DRV_MODE :
					       XDP_FLAGS_SKB_MODE;
	fd = bpf_link_create(prog_fd, ifindex, BPF_XDP, &opts);
	return fd < 0 ? -errno : fd;
}

void xkv_xdp_opts_generic(struct xkv_xdp_opts *o)
{
	o->mode = XKV_MODE_GENERIC;
	o->flags |= XKV_CFG_HEAD_ONLY;
}

int xkv_xdp_attach(struct xkv_obj *obj, const struct xkv_paths *p,
		   int ifindex, unsigned int mode, unsigned int *got)
{
	int prog_fd = bpf_program__fd(obj->skel->progs.xkv_xdp);
	char path[PATH_MAX];
	int fd, err;

	fd = link_create(prog_fd, ifindex, mode);
	if (fd < 0 && mode == XKV_MODE_NATIVE && fd != -EBUSY &&
	    fd != -EEXIST) {
		pr_info("%s: native XDP not available (%s): using generic mode\n",
			p->ifname, strerror(-fd));
		return XKV_XDP_NO_NATIVE;
	}
	if (fd < 0) {
		err = fd;
		if (err == -EBUSY || err == -EEXIST)
			pr_warn("%s: another XDP program is attached: %s\n",
				p->ifname, strerror(-err));
		else
			pr_warn("%s: cannot attach XDP (%s mode): %s\n",
				p->ifname, xkv_mode_name(mode),
				strerror(-err));
		return err;
	}
	if (bpf_obj_pin(fd, xkv_pin_path(p, XKV_PIN_LINK, path))) {
		err = -errno;
		pr_warn("cannot pin the XDP link at %s: %s\n", path,
			strerror(-err));
		goto detach;
	}
	close(fd);
	*got = mode;
	return 0;

detach:
	bpf_link_detach(fd);
	close(fd);
	return err;
}

void xkv_xdp_close(struct xkv_obj *obj)
{
	if (!obj)
		return;
	xkv__destroy(obj->skel);
	free(obj);
}

static int link_info(int fd, struct bpf_link_info *info)
{
	__u32 len = sizeof(*info);

	memset(info, 0, sizeof(*info));
	if (bpf_obj_get_info_by_fd(fd, info, &len))
		return -errno;
	return 0;
}

int xkv_xdp_detach(const struct xkv_paths *p)
{
	struct bpf_link_info info;
	char path[PATH_MAX];
	int fd, err = 0;

	fd = bpf_obj_get(xkv_pin_path(p, XKV_PIN_LINK, path));
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!link_info(fd, &info) && !info.xdp.ifindex)
		goto close_fd;	/* the interface went away with it */
	if (bpf_link_detach(fd)) {
		err = -errno;
		pr_warn("%s: cannot detach the XDP link: %s\n", p->ifname,
			strerror(-err));
	} else {
		pr_debug("%s: detached XDP link %u\n", p->ifname, info.id);
	}
close_fd:
	close(fd);
	return err;
}

int xkv_xdp_link_state(const struct xkv_paths *p, struct xkv_link_state *ls)
{
	struct bpf_link_info info;
	char path[PATH_MAX];
	int fd, err;

	memset(ls, 0, sizeof(*ls));
	fd = bpf_obj_get(xkv_pin_path(p, XKV_PIN_LINK, path));
	if (fd < 0)
		return -errno;
	err = link_info(fd, &info);
	close(fd);
	if (err)
		return err;
	ls->link_id = info.id;
	ls->prog_id = info.prog_id;
	ls->ifindex = info.xdp.ifindex;
	return 0;
}

int xkv_xdp_query(int ifindex, __u32 *prog_id, unsigned int *mode)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, opts);
	int err;

	*prog_id = 0;
	*mode = 0;
	err = bpf_xdp_query(ifindex, 0, &opts);
	if (err)
		return err;
	*prog_id = opts.prog_id;
	switch (opts.attach_mode) {
	case XDP_ATTACHED_DRV:
		*mode = XKV_MODE_NATIVE;
		break;
	case XDP_ATTACHED_SKB:
		*mode = XKV_MODE_GENERIC;
		break;
	case XDP_ATTACHED_MULTI:
		*mode = opts.drv_prog_id ? XKV_MODE_NATIVE : XKV_MODE_GENERIC;
		*prog_id = opts.drv_prog_id ? opts.drv_prog_id :
					      opts.skb_prog_id;
		break;
	default:
		break;
	}
	return 0;
}
