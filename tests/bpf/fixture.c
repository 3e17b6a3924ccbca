// SPDX-License-Identifier: GPL-2.0
/*
 * fixture.c - the BPF_PROG_TEST_RUN fixtures' common helpers
 * (fixture.h).
 */
#include <stdio.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "fixture.h"
#include "tap.h"

bool fixture_start(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (geteuid() != 0) {
		printf("1..0 # SKIP needs root to load BPF programs "
		       "(BPF_PROG_TEST_RUN)\n");
		return false;
	}
	libbpf_set_print(fixture_libbpf_quiet);
	return true;
}

int fixture_libbpf_quiet(enum libbpf_print_level level, const char *fmt,
			 va_list ap)
{
	if (level == LIBBPF_WARN)
		return vfprintf(stderr, fmt, ap);
	return 0;
}

__u64 fixture_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ull + (__u64)ts.tv_nsec;
}

void *fixture_map_mmap(struct bpf_map *m, size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED,
		       bpf_map__fd(m), 0);

	return p == MAP_FAILED ? NULL : p;
}

void fixture_map_munmap(void *p, size_t len)
{
	if (p)
		munmap(p, len);
}

void fixture_diag_frames(const __u8 *got, size_t glen, const __u8 *want,
			 size_t wlen)
{
	size_t i, n = glen < wlen ? glen : wlen, at = n, from, to, k;
	char line[256];

	for (i = 0; i < n; i++)
		if (got[i] != want[i]) {
			at = i;
			break;
		}
	tap_diag("  frame: got %zu bytes, expected %zu; first difference "
		 "at byte %zu", glen, wlen, at);
	from = at > 16 ? (at - 16) & ~(size_t)15 : 0;
	to = from + 48;
	for (i = 0; i < 2; i++) {
		const __u8 *p = i ? want : got;
		size_t len = i ? wlen : glen;

		k = (size_t)snprintf(line, sizeof(line), "  %s @%zu:",
				     i ? "want" : " got", from);
		for (n = from; n < to && n < len && k < sizeof(line) - 4; n++)
			k += (size_t)snprintf(line + k, sizeof(line) - k,
					      " %02x", p[n]);
		tap_diag("%s", line);
	}
}
