/* SPDX-License-Identifier: GPL-2.0 */
/*
 * xkv_ioctl.h - the /dev/xkv control device of xkv.ko: its ioctls and
 * their arguments.
 *
 * One header for both sides: the module (kmod/linux/hotmap.c) and the loader
 * (loader/kmodule.c) include it. Only <linux/ioctl.h> and <linux/types.h>,
 * which exist in the kernel and in user space, so it compiles unchanged in
 * both.
 *
 * The device is a misc device, mode 0600; every ioctl also needs
 * CAP_NET_ADMIN. The typical use is the loader's "xkv up": load the XDP
 * object, pin its maps, insmod xkv.ko, open /dev/xkv, hand it the pinned
 * xkv_hot map with XKV_IOC_HOT_ATTACH and close the device. The module
 * keeps a reference to the map until XKV_IOC_HOT_DETACH or rmmod, so the
 * hot cache stays coherent whatever happens to the loader.
 *
 * The ioctl number space below is not registered in the kernel's
 * ioctl-number.rst: only /dev/xkv ever sees these numbers.
 */
#ifndef XKV_UAPI_IOCTL_H
#define XKV_UAPI_IOCTL_H

#include <linux/ioctl.h>
#include <linux/types.h>

/* the device node the module's misc device gets (devtmpfs, udev) */
#define XKV_DEV_NAME "xkv"
#define XKV_DEV_PATH "/dev/xkv"

/* bumped when an ioctl or a structure below changes incompatibly */
#define XKV_IOC_ABI 1

/**
 * struct xkv_ioc_info - what XKV_IOC_INFO reports.
 * @abi:          the module's XKV_IOC_ABI
 * @tcp_port:     TCP port the module serves, 0 = off
 * @udp_port:     UDP port the module serves, 0 = off
 * @hot_map_id:   id of the attached hot cache (bpftool map show id N),
 *                0 when none is attached
 * @hot_nslots:   its slots, 0 when none
 * @hot_installs: keys installed into a slot since the attach
 * @hot_rejects:  admissions refused in favour of the slot's entries
 */
struct xkv_ioc_info {
	__u32 abi;
	__u16 tcp_port;
	__u16 udp_port;
	__u32 hot_map_id;
	__u32 hot_nslots;
	__u64 hot_installs;
	__u64 hot_rejects;
};

/**
 * struct xkv_ioc_hot - XKV_IOC_HOT_ATTACH's argument.
 * @map_fd: in: a file descriptor, open for writing, of the XDP object's
 *          xkv_hot map: BPF_MAP_TYPE_ARRAY, BPF_F_MMAPABLE, not frozen,
 *          value_size sizeof(struct xkv_slot) (abi/xkv_hot.h),
 *          max_entries a power of two
 * @flags:  in: 0 (none is defined yet)
 * @map_id: out: the map's id
 * @nslots: out: the slots the store now owns (the map's max_entries)
 */
struct xkv_ioc_hot {
	__s32 map_fd;
	__u32 flags;
	__u32 map_id;
	__u32 nslots;
};

/**
 * struct xkv_ioc_map - the argument of the ioctls that hand the module
 * one more of the XDP object's maps: XKV_IOC_LIVE_ATTACH and
 * XKV_IOC_TCP_ATTACH.
 * @map_fd: in: a file descriptor, open for writing, of the map:
 *          XKV_IOC_LIVE_ATTACH: xkv_live, BPF_MAP_TYPE_ARRAY,
 *          BPF_F_MMAPABLE, one entry of sizeof(struct xkv_live)
 *          (abi/xkv_live.h);
 *          XKV_IOC_TCP_ATTACH: xkv_tcp_ans, BPF_MAP_TYPE_ARRAY,
 *          BPF_F_MMAPABLE, XKV_TCP_ANS_SLOTS entries of
 *          sizeof(struct xkv_tcp_ans) (abi/xkv_tcp.h)
 * @flags:  in: 0 (none is defined yet)
 * @map_id: out: the map's id
 */
struct xkv_ioc_map {
	__s32 map_fd;
	__u32 flags;
	__u32 map_id;
};

/* struct xkv_ioc_store.flags */
#define XKV_STORE_F_KFUNCS 0x1	/* the kfuncs are registered and usable:
				 * the module has BTF and its kfunc ids
				 * were resolved at build time */

/**
 * struct xkv_ioc_store - what XKV_IOC_STORE_INFO reports: the XDP store
 * path (abi/xkv_kfunc.h).
 * @flags:    XKV_STORE_F_*
 * @nstats:   counters below the module filled in (XKV_KF_STAT_NR of its
 *            build; the loader reads at most its own)
 * @stats:    the kfunc's counters, summed over CPUs, indexed by enum
 *            xkv_kf_stat_id
 */
struct xkv_ioc_store {
	__u32 flags;
	__u32 nstats;
	__u64 stats[16];
};

#define XKV_IOC_MAGIC 0xCB

/*
 * XKV_IOC_INFO: fill struct xkv_ioc_info. Errors: -EPERM without
 * CAP_NET_ADMIN, -EFAULT.
 */
#define XKV_IOC_INFO _IOR(XKV_IOC_MAGIC, 0, struct xkv_ioc_info)

/*
 * XKV_IOC_HOT_ATTACH: the store takes the map's slots (it empties them
 * first) and from then on writes or invalidates a key's slot under the
 * item's lock before it acknowledges a write, and admits keys into slots
 * by popularity, exactly as xkvd --hot-map does. The module holds a
 * reference to the map while attached. Errors: -EPERM (no CAP_NET_ADMIN,
 * descriptor not open for writing, map frozen), -EBADF (not a descriptor),
 * -EINVAL (not a BPF map, not an xkv hot cache, flags not 0), -EBUSY (a
 * hot cache is attached already), -ENOMEM, -EFAULT.
 */
#define XKV_IOC_HOT_ATTACH _IOWR(XKV_IOC_MAGIC, 1, struct xkv_ioc_hot)

/*
 * XKV_IOC_HOT_DETACH: empty every slot and let go of the map; the module
 * goes on serving without a hot cache. Errors: -EPERM, -ENOENT (none is
 * attached).
 */
#define XKV_IOC_HOT_DETACH _IO(XKV_IOC_MAGIC, 2)

/*
 * XKV_IOC_LIVE_ATTACH: the module renews the lease in the map (struct
 * xkv_live) from its maintenance thread every XKV_LIVE_BEAT_MS, so that
 * XDP stops serving the hot cache once the module is gone or stuck. It
 * holds a reference to the map until rmmod, which ends the lease first,
 * or until the next XKV_IOC_LIVE_ATTACH, whose map replaces it (the old
 * lease is ended). Added after XKV_IOC_ABI 1 without changing it: a
 * module without it answers -ENOTTY, and XDP then serves nothing (its
 * lease never starts). Errors: as XKV_IOC_HOT_ATTACH, -EINVAL for a map
 * that is not an xkv lease.
 */
#define XKV_IOC_LIVE_ATTACH _IOWR(XKV_IOC_MAGIC, 3, struct xkv_ioc_map)

/*
 * XKV_IOC_TCP_ATTACH: the TCP fast path's table. The module frees every
 * entry a previous backend left, then each connection it accepts from
 * then on claims an entry from its addresses, publishes there how far it
 * has answered, and releases it before its socket closes (see
 * abi/xkv_tcp.h). It holds a reference to the map until
 * XKV_IOC_TCP_DETACH, rmmod, or the next XKV_IOC_TCP_ATTACH, whose map
 * replaces it; each of these releases every entry the module holds in
 * the old map first. Added after XKV_IOC_ABI 1 without changing it: a
 * module without it answers -ENOTTY, and XDP then answers no TCP GET
 * (no connection is registered). Errors: as XKV_IOC_HOT_ATTACH, -EINVAL
 * for a map that is not an xkv_tcp_ans table.
 */
#define XKV_IOC_TCP_ATTACH _IOWR(XKV_IOC_MAGIC, 4, struct xkv_ioc_map)

/*
 * XKV_IOC_TCP_DETACH: release every entry the module holds and let go of
 * the map; connections are served on without the fast path. Errors:
 * -EPERM, -ENOENT (none is attached).
 */
#define XKV_IOC_TCP_DETACH _IO(XKV_IOC_MAGIC, 5)

/*
 * XKV_IOC_STORE_INFO: fill struct xkv_ioc_store: whether XDP programs can
 * call the module's kfuncs (the XDP store path) and how often they did.
 * Added after XKV_IOC_ABI 1 without changing it: a module without it
 * answers -ENOTTY (no store path). Errors: -EPERM, -EFAULT.
 */
#define XKV_IOC_STORE_INFO _IOR(XKV_IOC_MAGIC, 6, struct xkv_ioc_store)

#endif /* XKV_UAPI_IOCTL_H */
