/* SPDX-License-Identifier: GPL-2.0 */
/*
 * os.h - the only door from the store core to its platform.
 *
 * Every file under kmod/core/ includes this header and nothing else from
 * the outside world. The platform supplies "xkv_os_impl.h" on the include
 * path: kmod/user/ for the xkvd daemon, kmod/linux/ for xkv.ko. Each must
 * provide exactly the names below with the same meaning.
 *
 * Types:   u8 u16 u32 u64 s32 s64 bool size_t true false NULL
 * Memory:  os_zalloc(n)             zeroed allocation, may sleep, NULL on fail
 *          os_free(p)               NULL is fine
 *          os_realloc(p, old, new)  grow or shrink, keeps old contents
 *          os_big_alloc(n)          zeroed, for slab pages and hash arrays
 *          os_big_free(p, n)
 * Bytes:   os_memcpy os_memmove os_memset os_memcmp os_memchr os_strlen
 *          os_snprintf              the C99 subset both sides share, by
 *                                   the same names: defined below
 *          os_inet_pton(s, n, addr) the IPv4 or IPv6 literal in the @n
 *                                   bytes at @s into @addr (16 bytes);
 *                                   returns 4, 16, or 0 if it is neither
 * Locks:   os_mutex_t, os_mutex_init/destroy/lock/unlock/trylock
 *          (trylock returns true when it took the lock; lock may sleep)
 *          os_spin_t, os_spin_init/destroy/lock/unlock/trylock: a lock
 *          whose holder never sleeps, for what softirq (XDP) reads too.
 *          In the kernel a spinlock_t taken with bottom halves disabled
 *          (spin_lock_bh), so a softirq on the holder's CPU cannot spin
 *          on it; its trylock is the only form softirq code may use. In
 *          user space whichever measured cheaper (xkv_os_impl.h says).
 *          Under an os_spin_t: no os_mutex_*, no allocation, nothing
 *          that may sleep or take long. Each os_spin_init() call site is
 *          one lock class for the kernel's lock checker.
 * Atomics: os_atomic64_t, os_atomic64_read/set/add/inc_return/add_return,
 *          OS_READ_ONCE(x), OS_WRITE_ONCE(x, v),
 *          OS_LOAD_ACQUIRE(x), OS_STORE_RELEASE(x, v),
 *          os_cmpxchg32(p, old, new)  full barrier, true when it swapped
 *          os_smp_wmb(), os_smp_rmb(), os_cpu_relax()
 * Time:    os_time_now()            seconds since the Unix epoch, u64
 *          os_wall_ns()             ns since the Unix epoch, u64
 *          os_mono_ns()             CLOCK_MONOTONIC in ns (bpf_ktime_get_ns)
 * Misc:    os_cond_resched()        a long loop may yield here
 *          os_pid()                 process id reported by "stats"
 *          os_rusage(&user_us, &sys_us)  CPU time used by the server
 *          likely(x) unlikely(x)
 *          os_log(level, fmt, ...)  level: 0 error, 1 info, 2 debug
 */
#ifndef XKV_CORE_OS_H
#define XKV_CORE_OS_H

#include "xkv_os_impl.h"

/* the C library's names, which the kernel has too */
#define os_memcpy memcpy
#define os_memmove memmove
#define os_memset memset
#define os_memcmp memcmp
#define os_memchr memchr
#define os_strlen strlen
#define os_snprintf snprintf

#endif /* XKV_CORE_OS_H */
