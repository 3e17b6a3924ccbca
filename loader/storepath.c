// SPDX-License-Identifier: GPL-2.0
/*
 * storepath.c - the XDP store path: load the store programs (UDP and
 * TCP, one object) on the pinned maps, put them in their tail-call slots,
 * take them out (the store skeleton's only user).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "xkv_config.h"	/* before the skeleton: it names our types */
#include "xkv_store.skel.h"
#include "counters.h"
#include "kmodule.h"
#include "log.h"
#include "storepath.h"
#include "xdp.h"

#define XKV_PIN_STORE_JMP "xkv_store_jmp"
#define XKV_PIN_SSTATS "xkv_sstats"

#define KF_INFO(name, desc) { #name, desc },
static const struct xkv_counter_info kf_counters[XKV_KF_STAT_NR] = {
	XKV_KF_STATS(KF_INFO)
};

static const struct xkv_counter_info sstat_counters[XKV_SSTAT_NR] = {
	XKV_SSTATS(KF_INFO)
};
#undef KF_INFO

/*
 * Hand the store object every map of the interface's XDP object it
 * declares (by name, from the pins): the same settings memory, scratch,
 * allowlist, addresses and counters. Its own .rodata stays its own.
 */
static int reuse_maps(struct xkv_store *skel, const struct xkv_paths *p)
{
	char path[PATH_MAX];
	struct bpf_map *map;
	int fd, err;

	bpf_object__for_each_map(map, skel->obj) {
		if (bpf_map__is_internal(map))
			continue;
		fd = bpf_obj_get(xkv_pin_path(p, bpf_map__name(map), path));
		if (fd < 0) {
			err = -errno;
			pr_warn("cannot open %s: %s\n", path, strerror(-err));
			return err;
		}
		err = bpf_map__reuse_fd(map, fd);
		close(fd);
		if (err) {
			pr_warn("cannot reuse %s for the store program: %s\n",
				path, strerror(-err));
			return err;
		}
	}
	return 0;
}

/* instructions the verifier processed for the program, 0 if unknown */
static __u32 prog_insns(int fd, __u32 *id)
{
	struct bpf_prog_info info;
	__u32 len = sizeof(info);

	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return 0;
	if (id)
		*id = info.id;
	return info.verified_insns;
}

/*
 * The store program on the pinned maps, loaded, in @out. Return: 0, or
 * -errno: after printing why with *@said set, or (the load itself
 * failed: a kernel that cannot take it) not.
 */
static int store_load(const struct xkv_paths *p, struct xkv_store **out,
		      bool *said)
{
	struct xkv_config cfg;
	struct xkv_store *skel;
	int err;

	*said = true;
	err = xkv_xdp_pinned_cfg(p, &cfg);
	if (err) {
		pr_warn("%s: cannot read the XDP program's settings: %s\n",
			p->ifname, strerror(-err));
		return err;
	}
	skel = xkv_store__open();
	if (!skel) {
		err = -errno;
		pr_warn("cannot open the store program: %s\n", strerror(-err));
		return err;
	}
	memcpy((void *)&skel->rodata->xkv_cfg, &cfg, sizeof(cfg));
	err = reuse_maps(skel, p);
	if (err)
		goto destroy;
	err = xkv_store__load(skel);
	if (err) {
		*said = false;
		goto destroy;
	}
	*out = skel;
	return 0;

destroy:
	xkv_store__destroy(skel);
	return err;
}

/* empty every slot of the tail-call map @jmp (the pin at @path) */
static int store_empty(int jmp, const struct xkv_paths *p, const char *path)
{
	__u32 key;
	int err = 0;

	for (key = 0; key < XKV_STORE_JMP_SLOTS; key++) {
		if (!bpf_map_delete_elem(jmp, &key) || errno == ENOENT)
			continue;
		err = -errno;
		pr_warn("%s: cannot take the store program out of %s slot %u: %s\n",
			p->ifname, path, key, strerror(-err));
	}
	return err;
}

/* put program @prog in slot @key of @jmp; Return: 0 or -errno, said */
static int store_slot(int jmp, __u32 key, int prog,
		      const struct xkv_paths *p, const char *path)
{
	int err;

	if (!bpf_map_update_elem(jmp, &key, &prog, BPF_ANY))
		return 0;
	err = -errno;
	pr_warn("%s: cannot put the store program in %s slot %u: %s\n",
		p->ifname, path, key, strerror(-err));
	return err;
}

int xkv_store_up(const struct xkv_paths *p, bool required)
{
	const char *off = required ? "" : ": XDP serves the hot cache alone";
	__u32 id = 0, insns, tid = 0, tinsns;
	struct xkv_ioc_store info;
	char path[PATH_MAX];
	struct xkv_store *skel = NULL;
	int jmp, prog, tprog, err;
	bool said;

	err = xkv_kmod_store_info(&info);
	if (err || !(info.flags & XKV_STORE_F_KFUNCS)) {
		pr_info("%s: XDP store path %s: xkv.ko %s%s\n", p->ifname,
			required ? "unavailable" : "off",
			err == -ENOTTY ? "has no kfuncs (an older module)" :
			err ? "does not say whether it has kfuncs" :
			      "was built without module BTF, its kfuncs cannot be called (see mk/kmod.mk)",
			off);
		return required ? (err ? err : -ENOTSUP) : 0;
	}
	jmp = bpf_obj_get(xkv_pin_path(p, XKV_PIN_STORE_JMP, path));
	if (jmp < 0) {
		err = -errno;
		pr_info("%s: XDP store path %s: no %s (%s): this XDP program has no store hook%s\n",
			p->ifname, required ? "unavailable" : "off", path,
			strerror(-err), off);
		return required ? err : 0;
	}
	err = store_load(p, &skel, &said);
	if (err) {
		if (!said)
			pr_info("%s: XDP store path %s: the store program does not load on this kernel (%s%s)%s\n",
				p->ifname, required ? "unavailable" : "off",
				strerror(-err),
				xkv_log_level() < XKV_LOG_DEBUG ?
					"; -v shows why" : "",
				off);
		close(jmp);
		return required ? err : 0;
	}
	prog = bpf_program__fd(skel->progs.xkv_store_xdp);
	tprog = bpf_program__fd(skel->progs.xkv_store_tcp);
	insns = prog_insns(prog, &id);
	tinsns = prog_insns(tprog, &tid);
	err = store_slot(jmp, XKV_STORE_JMP_GET, prog, p, path);
	if (!err)
		err = store_slot(jmp, XKV_STORE_JMP_TCP, tprog, p, path);
	if (err) {
		store_empty(jmp, p, path);
		xkv_store__destroy(skel);
		close(jmp);
		return required ? err : 0;
	}
	/* the slots hold the programs from now on */
	xkv_store__destroy(skel);
	close(jmp);
	pr_info("%s: XDP store path on: hot-cache misses are answered from xkv.ko's store (store program id %u, %u instructions verified)\n",
		p->ifname, id, insns);
	pr_info("%s: XDP store path over TCP on: GETs the TCP fast path misses in the hot cache too (TCP store program id %u, %u instructions verified)\n",
		p->ifname, tid, tinsns);
	return 0;
}

int xkv_store_down(const struct xkv_paths *p)
{
	char path[PATH_MAX];
	int jmp, err;

	jmp = bpf_obj_get(xkv_pin_path(p, XKV_PIN_STORE_JMP, path));
	if (jmp < 0)
		return 0;
	err = store_empty(jmp, p, path);
	if (!err)
		pr_debug("%s: XDP store path off\n", p->ifname);
	close(jmp);
	return err;
}

/* the id of the program in slot @key of @jmp, and its verifier count */
static __u32 store_slot_prog(int jmp, __u32 key, __u32 *insns)
{
	__u32 id = 0;
	int fd;

	*insns = 0;
	/* a program array answers the program's id */
	if (bpf_map_lookup_elem(jmp, &key, &id) || !id)
		return 0;
	fd = bpf_prog_get_fd_by_id(id);
	if (fd >= 0) {
		*insns = prog_insns(fd, NULL);
		close(fd);
	}
	return id;
}

void xkv_store_state(const struct xkv_paths *p, struct xkv_store_state *st)
{
	char path[PATH_MAX];
	int jmp, fd;

	memset(st, 0, sizeof(*st));
	jmp = bpf_obj_get(xkv_pin_path(p, XKV_PIN_STORE_JMP, path));
	if (jmp >= 0) {
		st->prog_id = store_slot_prog(jmp, XKV_STORE_JMP_GET,
					      &st->insns);
		st->tcp_prog_id = store_slot_prog(jmp, XKV_STORE_JMP_TCP,
						  &st->tcp_insns);
		close(jmp);
	}
	fd = xkv_counters_open(p->pin_dir, XKV_PIN_SSTATS);
	if (fd >= 0) {
		st->sstats_ok = !xkv_counters_read(fd, st->sstats,
						   XKV_SSTAT_NR);
		close(fd);
	}
	if (xkv_kmod_serves(p, NULL))
		st->kinfo_ok = !xkv_kmod_store_info(&st->kinfo);
}

void xkv_store_print(const struct xkv_store_state *st)
{
	unsigned int i;

	if (!st->prog_id) {
		printf("    XDP store path: off%s\n",
		       st->kinfo_ok && !(st->kinfo.flags & XKV_STORE_F_KFUNCS) ?
			       " (xkv.ko has no module BTF)" : "");
		return;
	}
	printf("    XDP store path: on, store program id %u (%u instructions verified)\n",
	       st->prog_id, st->insns);
	if (st->tcp_prog_id)
		printf("    XDP store path over TCP: on, program id %u (%u instructions verified)\n",
		       st->tcp_prog_id, st->tcp_insns);
	if (st->sstats_ok)
		for (i = 0; i < XKV_SSTAT_NR; i++)
			printf("      %-12s %14llu  %s\n",
			       sstat_counters[i].name,
			       (unsigned long long)st->sstats[i],
			       sstat_counters[i].desc);
	if (!st->kinfo_ok)
		return;
	printf("    xkv.ko kfunc %s:\n", XKV_KF_STORE_GET);
	for (i = 0; i < XKV_KF_STAT_NR && i < st->kinfo.nstats; i++)
		printf("      %-12s %14llu  %s\n", kf_counters[i].name,
		       (unsigned long long)st->kinfo.stats[i],
		       kf_counters[i].desc);
}

void xkv_store_json(struct xkv_json *j, const struct xkv_store_state *st)
{
	unsigned int i;

	xkv_json_key(j, "xdp_store");
	xkv_json_open(j, '{');
	xkv_json_key(j, "on");
	xkv_json_bool(j, st->prog_id != 0);
	xkv_json_kv_u64(j, "prog_id", st->prog_id);
	xkv_json_kv_u64(j, "verified_insns", st->insns);
	xkv_json_key(j, "tcp_on");
	xkv_json_bool(j, st->tcp_prog_id != 0);
	xkv_json_kv_u64(j, "tcp_prog_id", st->tcp_prog_id);
	xkv_json_kv_u64(j, "tcp_verified_insns", st->tcp_insns);
	if (st->sstats_ok)
		for (i = 0; i < XKV_SSTAT_NR; i++)
			xkv_json_kv_u64(j, sstat_counters[i].name,
					st->sstats[i]);
	if (st->kinfo_ok) {
		xkv_json_key(j, "kfuncs");
		xkv_json_bool(j, st->kinfo.flags & XKV_STORE_F_KFUNCS);
		xkv_json_key(j, "module");
		xkv_json_open(j, '{');
		for (i = 0; i < XKV_KF_STAT_NR && i < st->kinfo.nstats; i++)
			xkv_json_kv_u64(j, kf_counters[i].name,
					st->kinfo.stats[i]);
		xkv_json_close(j, '}');
	}
	xkv_json_close(j, '}');
}
