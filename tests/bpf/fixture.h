/* SPDX-License-Identifier: GPL-2.0 */
/*
 * fixture.h - what the BPF_PROG_TEST_RUN fixtures (test_xdp, test_tcp,
 * test_learn, fuzz_xdp) share: starting as root with libbpf's chatter
 * cut to warnings, the clock a backend's lease is renewed from, mapping
 * an mmapable map, and showing where an output frame differs from the
 * expected one.
 */
#ifndef XKV_TESTS_BPF_FIXTURE_H
#define XKV_TESTS_BPF_FIXTURE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include <bpf/libbpf.h>
#include <linux/types.h>

/**
 * fixture_start() - line-buffer stdout, check for root and quiet libbpf.
 *
 * Without root (loading needs CAP_BPF and CAP_NET_ADMIN) prints the TAP
 * plan "1..0 # SKIP" with the reason.
 *
 * Return: true to go on, false when the fixture is skipped (exit 0).
 */
bool fixture_start(void);

/**
 * fixture_libbpf_quiet() - libbpf print callback passing warnings only.
 * @level: the message's level
 * @fmt:   its format
 * @ap:    its arguments
 *
 * Return: what vfprintf() returns, or 0 for a message left out.
 */
int fixture_libbpf_quiet(enum libbpf_print_level level, const char *fmt,
			 va_list ap);

/**
 * fixture_mono_ns() - CLOCK_MONOTONIC in nanoseconds, the clock of
 * struct xkv_live and of item expiry.
 *
 * Return: the time.
 */
__u64 fixture_mono_ns(void);

/**
 * fixture_map_mmap() - map @len bytes of an mmapable BPF map, shared.
 * @m:   the map
 * @len: the length (whole pages)
 *
 * Return: the mapping, or NULL (errno set).
 */
void *fixture_map_mmap(struct bpf_map *m, size_t len);

/**
 * fixture_map_munmap() - undo fixture_map_mmap(); nothing for NULL.
 * @p:   the mapping, or NULL
 * @len: its length
 */
void fixture_map_munmap(void *p, size_t len);

/**
 * fixture_diag_frames() - TAP diagnostics for two frames that differ: the
 * lengths, the first differing byte and 48 bytes of each around it.
 * @got:  the frame the program left
 * @glen: its length
 * @want: the expected frame
 * @wlen: its length
 */
void fixture_diag_frames(const __u8 *got, size_t glen, const __u8 *want,
			 size_t wlen);

#endif /* XKV_TESTS_BPF_FIXTURE_H */
