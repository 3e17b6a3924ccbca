/* SPDX-License-Identifier: GPL-2.0 */
/*
 * xkv_os_impl.h - the platform layer of the store core for the kernel.
 * See kmod/core/os.h for the contract; kmod/user/xkv_os_impl.h is the
 * same layer for the xkvd daemon.
 *
 * Memory: everything comes from kvmalloc() and friends, which fall back to
 * vmalloc() for sizes the page allocator cannot give contiguously. The
 * flags never wake the OOM killer: a cache that cannot grow evicts or
 * answers "SERVER_ERROR out of memory", it does not push the machine out
 * of memory. Every allocation and free is counted, so the module can tell
 * at unload whether the store gave everything back (Debian's kernel has no
 * kmemleak).
 *
 * Locks: os_mutex_t is a mutex (the store sleeps under its class locks
 * while it takes a new slab page); os_spin_t is a spinlock taken with
 * bottom halves disabled, for the hash table's stripes and the hot
 * cache's sets, which xkv_store_peek() (trylock only) reads from XDP in
 * softirq. Everything else in the core runs in process context: the
 * module's kthreads, and a /dev/xkv ioctl to attach or detach the hot
 * cache (hotmap.c).
 */
#ifndef XKV_LINUX_OS_IMPL_H
#define XKV_LINUX_OS_IMPL_H

#ifndef pr_fmt
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt
#endif

#include <linux/atomic.h>
#include <linux/compiler.h>
#include <linux/errno.h>
#include <linux/inet.h>
#include <linux/kernel.h>
#include <linux/mm.h>
#include <linux/mutex.h>
#include <linux/printk.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <linux/timekeeping.h>
#include <linux/types.h>
#include <asm/barrier.h>

/* no OOM killer, no warning splat for a client-sized request */
#define XKV_GFP (GFP_KERNEL | __GFP_NOWARN | __GFP_RETRY_MAYFAIL)

/* outstanding os_*alloc() blocks; kmod/linux/main.c checks it at unload */
extern atomic_long_t xkv_os_allocs;

static inline void *os_zalloc(size_t n)
{
	void *p = kvzalloc(n, XKV_GFP);

	if (p)
		atomic_long_inc(&xkv_os_allocs);
	return p;
}

static inline void os_free(void *p)
{
	if (!p)
		return;
	atomic_long_dec(&xkv_os_allocs);
	kvfree(p);
}

static inline void *os_realloc(void *p, size_t old, size_t n)
{
	void *np = kvrealloc(p, old, n, XKV_GFP);

	if (np && !p)
		atomic_long_inc(&xkv_os_allocs);
	return np;
}

static inline void *os_big_alloc(size_t n)
{
	return os_zalloc(n);
}

static inline void os_big_free(void *p, size_t n)
{
	os_free(p);
}

static inline int os_inet_pton(const char *s, size_t n, u8 *addr)
{
	const char *end;

	if (!n)
		return 0;
	if (in4_pton(s, n, addr, -1, &end) && end == s + n)
		return 4;
	if (in6_pton(s, n, addr, -1, &end) && end == s + n)
		return 16;
	return 0;
}

typedef struct mutex os_mutex_t;

/* a function, not a macro: one lockdep class for the core's locks */
static inline void os_mutex_init(os_mutex_t *m)
{
	mutex_init(m);
}

/* the rest of the contract is the kernel's own API under another name */
#define os_mutex_destroy(m) mutex_destroy(m)
#define os_mutex_lock(m) mutex_lock(m)
#define os_mutex_unlock(m) mutex_unlock(m)
#define os_mutex_trylock(m) (mutex_trylock(m) != 0)

typedef spinlock_t os_spin_t;

/* a macro: each call site is its own lockdep class (stripes, hot sets) */
#define os_spin_init(l) spin_lock_init(l)
#define os_spin_destroy(l) ((void)(l))
/* _bh: a softirq reader (XDP) may run on this CPU while it is held */
#define os_spin_lock(l) spin_lock_bh(l)
#define os_spin_unlock(l) spin_unlock_bh(l)
#define os_spin_trylock(l) (spin_trylock_bh(l) != 0)

typedef atomic64_t os_atomic64_t;

#define os_atomic64_read(a) ((s64)atomic64_read(a))
#define os_atomic64_set(a, v) atomic64_set(a, v)
#define os_atomic64_add(v, a) atomic64_add(v, a)
#define os_atomic64_add_return(v, a) ((s64)atomic64_add_return(v, a))
#define os_atomic64_inc_return(a) ((s64)atomic64_inc_return(a))

#define OS_READ_ONCE(x) READ_ONCE(x)
#define OS_WRITE_ONCE(x, v) WRITE_ONCE(x, v)
/* the core pairs these itself (see kmod/core/store_int.h) */
#define OS_LOAD_ACQUIRE(x) smp_load_acquire(&(x))
/* ... with the acquire above */
#define OS_STORE_RELEASE(x, v) smp_store_release(&(x), (v))

static inline bool os_cmpxchg32(u32 *p, u32 old, u32 new)
{
	/* cmpxchg() is fully ordered, as the contract asks */
	return cmpxchg(p, old, new) == old;
}

/* the core pairs these itself (the hot-cache slot seqlock, hot.c) */
#define os_smp_wmb() smp_wmb()
/* ... with the write barrier above */
#define os_smp_rmb() smp_rmb()
#define os_cpu_relax() cpu_relax()

static inline u64 os_time_now(void)
{
	return (u64)ktime_get_real_seconds();
}

static inline u64 os_wall_ns(void)
{
	return (u64)ktime_get_real_ns();
}

static inline u64 os_mono_ns(void)
{
	/* the clock bpf_ktime_get_ns() reads */
	return ktime_get_ns();
}

static inline void os_cond_resched(void)
{
	cond_resched();
}

/* the module has no process: "stats" reports its first worker's pid */
extern long xkv_os_pid;

static inline long os_pid(void)
{
	return READ_ONCE(xkv_os_pid);
}

/**
 * xkv_os_rusage() - CPU time the module's kthreads have used.
 * @user_us: set to 0, kthreads run in kernel mode only
 * @sys_us:  microseconds of CPU time, workers and maintenance together
 */
void xkv_os_rusage(u64 *user_us, u64 *sys_us);

static inline void os_rusage(u64 *user_us, u64 *sys_us)
{
	xkv_os_rusage(user_us, sys_us);
}

/* the verbose= module parameter; 0 error, 1 info, 2 debug */
extern int xkv_os_verbose;

/* a client may drive any core message: keep them all ratelimited */
/* clang-format off */
#define os_log(level, fmt, ...)						\
	do {								\
		int __xkv_lvl = (level);				\
									\
		if (__xkv_lvl > READ_ONCE(xkv_os_verbose))		\
			break;						\
		if (!__xkv_lvl)						\
			pr_err_ratelimited(fmt "\n", ##__VA_ARGS__);	\
		else							\
			pr_info_ratelimited(fmt "\n", ##__VA_ARGS__);	\
	} while (0)
/* clang-format on */

#endif /* XKV_LINUX_OS_IMPL_H */
