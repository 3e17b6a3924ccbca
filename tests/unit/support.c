// SPDX-License-Identifier: GPL-2.0
/*
 * support.c - what the store core needs from its platform besides the
 * inline functions of kmod/user/xkv_os_impl.h, for the unit tests.
 *
 * Every .c file in tests/unit/ that is not a test_*.c is linked into every
 * unit test binary (see the Makefile).
 */

#include "os.h"

/* os_log() prints when its level is at most this; weak so a test may set
 * its own. 0: errors only.
 */
int xkv_os_verbose __attribute__((weak));
