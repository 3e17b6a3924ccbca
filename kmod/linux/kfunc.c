// SPDX-License-Identifier: GPL-2.0
/*
 * kfunc.c - the XDP store path: a kfunc XDP programs call to answer a GET
 * from the whole store, not only from the hot cache.
 *
 * On a hot-cache miss the XDP program (bpf/xkv.bpf.c) tail-calls the
 * store program (bpf/xkv_store.bpf.c), which calls xkv_xdp_store_get()
 * once per key of the request: the store copies the key's reply block
 * ("VALUE ...\r\n<data>\r\n") into the program's per-CPU buffer under the
 * key's stripe lock (xkv_store_peek(), which only tries the lock and never
 * sleeps: XDP runs in softirq), with what a binary GET's or an mg's
 * reply needs besides it (the CAS, the line's length, the key's base64
 * state; an mg of an item in a meta state is refused). A hit also
 * counts toward the key's admission into the hot cache, as a backend
 * read does, and installs it there when it earns a place, without
 * waiting for the hot tier's locks (bpf/HOTCACHE.md; module parameter
 * xdp_store_admit, writable at run time, turns that off). The program
 * builds the reply (text, binary or mg) from the block, adds the headers
 * and the checksums and sends it. The arguments and counters are in
 * abi/xkv_kfunc.h.
 *
 * Registration: register_btf_kfunc_id_set() for BPF_PROG_TYPE_XDP at
 * module load. Linux 6.1 has no way to unregister: the set lives in the
 * module's BTF and goes with it. It only works when the module was built
 * with BTF (mk/kmod.mk: pahole and resolve_btfids): without BTF the kernel
 * only warns and "succeeds", and without resolve_btfids the set is empty,
 * so both are checked here and reported through XKV_IOC_STORE_INFO, and
 * the loader loads no store program.
 *
 * Lifetime: a BPF program that calls a module's kfunc holds a reference
 * to the module from its load until it is freed, and a module's kfuncs
 * can only be resolved once its init has returned; so every call runs
 * between the end of xkvm_init() and the start of xkvm_exit(), while the
 * server and its store exist. (The other side of it: rmmod fails with
 * EAGAIN while the store program is loaded; "xkv down" unloads it first.)
 */
#include "xkvm.h"

#include <linux/bpf.h>
#include <linux/btf.h>
#include <linux/btf_ids.h>
#include <linux/module.h>
#include <net/checksum.h>
#include <linux/percpu.h>

#include "xkv_kfunc.h"
#include "xkv_ioctl.h"

static DEFINE_PER_CPU(u64[XKV_KF_STAT_NR], xkvm_kf_stats);

/* did register_btf_kfunc_id_set() take a usable set? */
static bool xkvm_kf_usable;

/* store-path hits feed the hot cache's admission (bpf/HOTCACHE.md) */
static bool xkvm_kf_admit = true;
module_param_named(xdp_store_admit, xkvm_kf_admit, bool, 0644);
MODULE_PARM_DESC(xdp_store_admit,
		 "GETs the XDP store path answers count toward hot-cache admission, as the module's own reads do (default 1)");

static inline void xkvm_kf_count(enum xkv_kf_stat_id id)
{
	this_cpu_inc(xkvm_kf_stats[id]);
}

__diag_push();
__diag_ignore_all("-Wmissing-prototypes",
		  "kfuncs are called from BPF programs only");

/**
 * xkv_xdp_store_get() - a key's reply block, for an XDP program.
 * @key:     the key
 * @key__sz: its length, 1..XKV_KEY_MAX
 * @out:     the reply body
 * @out__sz: its room
 * @arg:     where in @out, whether with the CAS, whether an mg; out: the
 *           block's sum, its line's length, the CAS, the key's state
 *
 * The "__sz" suffixes tell the verifier that each pointer comes with its
 * size: it checks the program may read and write that many bytes there
 * (and sizeof(*@arg) at @arg). Callable from softirq: never sleeps, never
 * waits for a lock.
 *
 * Return: the block's length, or -ENOENT, -ENOSPC, -EBUSY, -EAGAIN,
 * -EINVAL, -ENODEV (abi/xkv_kfunc.h).
 */
noinline int xkv_xdp_store_get(const u8 *key, u32 key__sz, u8 *out,
			       u32 out__sz, struct xkv_kf_get *arg)
{
	struct xkvm_server *srv = READ_ONCE(xkvm_srv);
	struct xkv_store *st;
	struct xkv_peek pk = { 0 };
	u32 at;
	int n;

	xkvm_kf_count(XKV_KF_STAT_calls);
	st = srv ? READ_ONCE(srv->st) : NULL;
	if (!st) {
		xkvm_kf_count(XKV_KF_STAT_errors);
		return -ENODEV;
	}
	at = arg->at;
	if (!key__sz || key__sz > XKV_KEY_MAX || at > out__sz) {
		xkvm_kf_count(XKV_KF_STAT_errors);
		return -EINVAL;
	}
	if (arg->flags & XKV_KF_CAS)
		pk.flags |= XKV_PEEK_CAS;
	if (arg->flags & XKV_KF_META)
		pk.flags |= XKV_PEEK_META;
	if (READ_ONCE(xkvm_kf_admit))
		pk.flags |= XKV_PEEK_ADMIT;
	n = xkv_store_peek(st, (const char *)key, key__sz, &pk, out + at,
			   out__sz - at);
	switch (n) {
	case -ENOENT:
		xkvm_kf_count(XKV_KF_STAT_misses);
		break;
	case -EBUSY:
		xkvm_kf_count(XKV_KF_STAT_busy);
		break;
	case -ENOSPC:
		xkvm_kf_count(XKV_KF_STAT_too_big);
		break;
	case -EAGAIN:
		xkvm_kf_count(XKV_KF_STAT_state);
		break;
	default:
		if (n < 0) {
			xkvm_kf_count(XKV_KF_STAT_errors);
			break;
		}
		/* csum_fold() complements: undo it, the caller adds more */
		arg->sum = (__force u16)~csum_fold(csum_partial(out + at, n,
								 0));
		arg->line = pk.line;
		arg->state = pk.state & XKV_PEEK_KEY_B64 ? XKV_KF_KEY_B64 : 0;
		if (pk.state & XKV_PEEK_TTL_NONE)
			arg->state |= XKV_KF_TTL_NONE;
		arg->ttl = pk.ttl;
		arg->cas = pk.cas;
		xkvm_kf_count(XKV_KF_STAT_hits);
	}
	return n;
}

__diag_pop();

BTF_SET8_START(xkvm_kf_ids)
BTF_ID_FLAGS(func, xkv_xdp_store_get)
BTF_SET8_END(xkvm_kf_ids)

static const struct btf_kfunc_id_set xkvm_kf_set = {
	.owner = THIS_MODULE,
	.set = &xkvm_kf_ids,
};

/* Was the module built with BTF, and its kfunc ids resolved? */
static bool xkvm_kf_built_in(void)
{
#ifdef CONFIG_DEBUG_INFO_BTF_MODULES
	if (!THIS_MODULE->btf_data_size)
		return false;
#else
	return false;
#endif
	/* resolve_btfids fills in the count and the ids; 0 without it */
	return xkvm_kf_ids.cnt && xkvm_kf_ids.pairs[0].id;
}

/**
 * xkvm_kfunc_register() - offer the kfuncs to XDP programs.
 *
 * Call once at module load, with the server serving. A failure is not
 * fatal: the module serves without the XDP store path, and says why.
 */
void xkvm_kfunc_register(void)
{
	int err;

	if (!xkvm_kf_built_in()) {
		pr_info("XDP store path unavailable: xkv.ko was built without module BTF (pahole, resolve_btfids: see mk/kmod.mk)\n");
		return;
	}
	err = register_btf_kfunc_id_set(BPF_PROG_TYPE_XDP, &xkvm_kf_set);
	if (err) {
		pr_warn("XDP store path unavailable: cannot register the kfuncs: %d\n",
			err);
		return;
	}
	xkvm_kf_usable = true;
	pr_info("XDP store path: kfunc %s registered for XDP\n",
		XKV_KF_STORE_GET);
}

/**
 * xkvm_kfunc_info() - fill XKV_IOC_STORE_INFO's answer.
 * @info: out
 */
void xkvm_kfunc_info(struct xkv_ioc_store *info)
{
	int cpu, i;

	BUILD_BUG_ON(XKV_KF_STAT_NR > ARRAY_SIZE(info->stats));
	memset(info, 0, sizeof(*info));
	if (xkvm_kf_usable)
		info->flags |= XKV_STORE_F_KFUNCS;
	info->nstats = XKV_KF_STAT_NR;
	for_each_possible_cpu(cpu)
		for (i = 0; i < XKV_KF_STAT_NR; i++)
			info->stats[i] += per_cpu(xkvm_kf_stats, cpu)[i];
}
