/* SPDX-License-Identifier: GPL-2.0 */
/*
 * xkv_types.h - what every header of abi/ builds on.
 *
 * The ABI folder holds what the BPF programs (bpf/), the store core in xkvd
 * and xkv.ko (kmod/), the loader (loader/), the bench and the tests share:
 * map layouts, the hot slot and its seqlock, the control device's ioctls.
 * Plain fixed-width types only (__u8 ... __u64 from <linux/types.h>), no
 * libc, no kernel-only calls, so every header compiles unchanged as BPF, as
 * user-space C and in the kernel.
 */
#ifndef XKV_ABI_TYPES_H
#define XKV_ABI_TYPES_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#ifdef __cplusplus
#define XKV_STATIC_ASSERT(c, msg) static_assert(c, msg)
#else
#define XKV_STATIC_ASSERT(c, msg) _Static_assert(c, msg)
#endif

/* small helpers of the headers here: always inlined, in BPF too */
#ifdef __always_inline
#define XKV_ABI_INLINE static __always_inline
#else
#define XKV_ABI_INLINE static inline __attribute__((__always_inline__))
#endif

#endif /* XKV_ABI_TYPES_H */
