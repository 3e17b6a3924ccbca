/* SPDX-License-Identifier: GPL-2.0 */
/*
 * xkv_os_impl.h - the platform layer of the store core for user space.
 * See kmod/core/os.h for the contract.
 */
#ifndef XKV_USER_OS_IMPL_H
#define XKV_USER_OS_IMPL_H

#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint64_t u64;
typedef int32_t s32;
typedef int64_t s64;

#ifndef likely
#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)
#endif

/*
 * The kernel forbids sleeping under an os_spin_t; user space would let
 * it pass. A program that defines xkv_os_lock_check as true (the unit
 * tests do, tests/unit/lockcheck.c) gets the rule checked: every call
 * that may sleep in the kernel (allocation, free, mutex, resched) aborts
 * while the calling thread holds an os_spin_t. Weak, so xkvd has them,
 * false: a load and a branch per call.
 */
__attribute__((weak)) bool xkv_os_lock_check;
__attribute__((weak)) __thread u32 xkv_os_spin_held;

static inline void os_may_sleep(const char *what)
{
	if (unlikely(xkv_os_lock_check && xkv_os_spin_held)) {
		fprintf(stderr, "xkv: %s with an os_spin_t held\n", what);
		abort();
	}
}

static inline void *os_zalloc(size_t n)
{
	os_may_sleep("os_zalloc");
	return calloc(1, n);
}

static inline void os_free(void *p)
{
	os_may_sleep("os_free");
	free(p);
}

static inline void *os_realloc(void *p, size_t old, size_t n)
{
	(void)old;
	os_may_sleep("os_realloc");
	return realloc(p, n);
}

static inline void *os_big_alloc(size_t n)
{
	void *p;

	os_may_sleep("os_big_alloc");
	p = mmap(NULL, n, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	return p == MAP_FAILED ? NULL : p;
}

static inline void os_big_free(void *p, size_t n)
{
	os_may_sleep("os_big_free");
	if (p)
		munmap(p, n);
}

static inline int os_inet_pton(const char *s, size_t n, u8 *addr)
{
	char tmp[INET6_ADDRSTRLEN];

	if (!n || n >= sizeof(tmp))
		return 0;
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	if (inet_pton(AF_INET, tmp, addr) == 1)
		return 4;
	if (inet_pton(AF_INET6, tmp, addr) == 1)
		return 16;
	return 0;
}

typedef pthread_mutex_t os_mutex_t;

static inline void os_mutex_init(os_mutex_t *m)
{
	pthread_mutex_init(m, NULL);
}

static inline void os_mutex_destroy(os_mutex_t *m)
{
	pthread_mutex_destroy(m);
}

static inline void os_mutex_lock(os_mutex_t *m)
{
	os_may_sleep("os_mutex_lock");
	pthread_mutex_lock(m);
}

static inline void os_mutex_unlock(os_mutex_t *m)
{
	pthread_mutex_unlock(m);
}

static inline bool os_mutex_trylock(os_mutex_t *m)
{
	return pthread_mutex_trylock(m) == 0;
}

/*
 * os_spin_t: nothing in xkvd runs in softirq, so the kind is the one that
 * costs xkvd least. XKV_USER_SPIN 0 (the default) is a pthread mutex, 1 a
 * pthread spinlock. bench/compare's workload, 5 rounds, both builds and
 * memcached in one run (2026-12-03), server CPU per GET over memcached's:
 * UDP 0.726 (mutex) vs 0.736 (spin), TCP 0.451 vs 0.448, memcaslap 1.08
 * vs 1.14: no gain from spinning, within the spread, so the mutex, which
 * sleeps rather than burns a CPU when a holder is preempted.
 */
#ifndef XKV_USER_SPIN
#define XKV_USER_SPIN 0
#endif

#if XKV_USER_SPIN
/* in a struct: a pointer to it is not a pointer to volatile */
typedef struct {
	pthread_spinlock_t l;
} os_spin_t;
/* the pthread lock in an os_spin_t, and the pthread call @op on it */
#define OS_SPIN_PT(l) (&(l)->l)
#define OS_SPIN_OP(op) pthread_spin_##op
#else
typedef pthread_mutex_t os_spin_t;
#define OS_SPIN_PT(l) (l)
#define OS_SPIN_OP(op) pthread_mutex_##op
#endif

static inline void os_spin_init(os_spin_t *l)
{
#if XKV_USER_SPIN
	pthread_spin_init(OS_SPIN_PT(l), PTHREAD_PROCESS_PRIVATE);
#else
	pthread_mutex_init(OS_SPIN_PT(l), NULL);
#endif
}

static inline void os_spin_destroy(os_spin_t *l)
{
	OS_SPIN_OP(destroy)(OS_SPIN_PT(l));
}

static inline void os_spin_lock(os_spin_t *l)
{
	OS_SPIN_OP(lock)(OS_SPIN_PT(l));
	if (xkv_os_lock_check)
		xkv_os_spin_held++;
}

static inline void os_spin_unlock(os_spin_t *l)
{
	if (xkv_os_lock_check)
		xkv_os_spin_held--;
	OS_SPIN_OP(unlock)(OS_SPIN_PT(l));
}

static inline bool os_spin_trylock(os_spin_t *l)
{
	if (OS_SPIN_OP(trylock)(OS_SPIN_PT(l)))
		return false;
	if (xkv_os_lock_check)
		xkv_os_spin_held++;
	return true;
}

typedef struct {
	s64 counter;
} os_atomic64_t;

static inline s64 os_atomic64_read(const os_atomic64_t *a)
{
	return __atomic_load_n(&a->counter, __ATOMIC_RELAXED);
}

static inline void os_atomic64_set(os_atomic64_t *a, s64 v)
{
	__atomic_store_n(&a->counter, v, __ATOMIC_RELAXED);
}

static inline void os_atomic64_add(s64 v, os_atomic64_t *a)
{
	__atomic_fetch_add(&a->counter, v, __ATOMIC_RELAXED);
}

static inline s64 os_atomic64_add_return(s64 v, os_atomic64_t *a)
{
	return __atomic_add_fetch(&a->counter, v, __ATOMIC_SEQ_CST);
}

static inline s64 os_atomic64_inc_return(os_atomic64_t *a)
{
	return os_atomic64_add_return(1, a);
}

#define OS_READ_ONCE(x) __atomic_load_n(&(x), __ATOMIC_RELAXED)
#define OS_LOAD_ACQUIRE(x) __atomic_load_n(&(x), __ATOMIC_ACQUIRE)
#define OS_STORE_RELEASE(x, v) __atomic_store_n(&(x), (v), __ATOMIC_RELEASE)
#define OS_WRITE_ONCE(x, v) __atomic_store_n(&(x), (v), __ATOMIC_RELAXED)

static inline bool os_cmpxchg32(u32 *p, u32 old, u32 new)
{
	return __atomic_compare_exchange_n(p, &old, new, false,
					   __ATOMIC_SEQ_CST, __ATOMIC_RELAXED);
}

#define os_smp_wmb() __atomic_thread_fence(__ATOMIC_RELEASE)
#define os_smp_rmb() __atomic_thread_fence(__ATOMIC_ACQUIRE)

static inline void os_cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield" ::: "memory");
#else
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
#endif
}

/*
 * Steps the unit tests add to the clocks: the wall clock stepped (ns),
 * time passed (ns). Weak, so any program built on the core has them; 0
 * in xkvd.
 */
__attribute__((weak)) s64 xkv_os_wall_step_ns;
__attribute__((weak)) s64 xkv_os_mono_step_ns;

static inline u64 os_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (u64)ts.tv_sec * 1000000000ULL + (u64)ts.tv_nsec +
	       (u64)xkv_os_mono_step_ns;
}

static inline u64 os_wall_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (u64)ts.tv_sec * 1000000000ULL + (u64)ts.tv_nsec +
	       (u64)xkv_os_wall_step_ns;
}

static inline u64 os_time_now(void)
{
	return os_wall_ns() / 1000000000ULL;
}

static inline void os_cond_resched(void)
{
	os_may_sleep("os_cond_resched");
	sched_yield();
}

static inline long os_pid(void)
{
	return (long)getpid();
}

static inline void os_rusage(u64 *user_us, u64 *sys_us)
{
	struct rusage ru;

	if (getrusage(RUSAGE_SELF, &ru)) {
		*user_us = 0;
		*sys_us = 0;
		return;
	}
	*user_us = (u64)ru.ru_utime.tv_sec * 1000000 + (u64)ru.ru_utime.tv_usec;
	*sys_us = (u64)ru.ru_stime.tv_sec * 1000000 + (u64)ru.ru_stime.tv_usec;
}

extern int xkv_os_verbose;

#define os_log(level, fmt, ...)                                          \
	do {                                                             \
		if ((level) <= xkv_os_verbose)                           \
			fprintf(stderr, "xkvd: " fmt "\n", ##__VA_ARGS__); \
	} while (0)

#endif /* XKV_USER_OS_IMPL_H */
