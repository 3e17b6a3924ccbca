// SPDX-License-Identifier: GPL-2.0
/*
 * lockcheck.c - turn on the user-space check that nothing which may sleep
 * in the kernel (allocation, free, mutex, resched) is called while an
 * os_spin_t is held (kmod/user/xkv_os_impl.h): linked into every unit
 * test, so each test that runs the store checks the rule on its paths.
 */
#include <stdbool.h>

/* overrides the weak false of xkv_os_impl.h */
bool xkv_os_lock_check = true;
