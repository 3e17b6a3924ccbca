/* SPDX-License-Identifier: GPL-2.0 */
/*
 * clock.h - the monotonic clock in milliseconds, and sleeping, for the
 * loader's waits (a backend starting or stopping, xkv.ko unloading).
 */
#ifndef XKV_LOADER_CLOCK_H
#define XKV_LOADER_CLOCK_H

/**
 * xkv_now_ms() - CLOCK_MONOTONIC in milliseconds.
 *
 * Return: the time.
 */
unsigned long long xkv_now_ms(void);

/**
 * xkv_sleep_ms() - sleep, the whole time even if signals interrupt it.
 * @ms: how long
 */
void xkv_sleep_ms(unsigned int ms);

#endif /* XKV_LOADER_CLOCK_H */
