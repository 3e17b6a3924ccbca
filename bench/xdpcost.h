/* SPDX-License-Identifier: GPL-2.0 */
/*
 * xdpcost.h - what xdpcost's subcommands share (bench/xdpcost.c): the hot
 * tier loaded as "xkv up" loads it, request frames, keys and numbers.
 * "spread" lives in bench/xdpspread.c, "mem" in bench/xdpmem.c.
 */
#ifndef XKV_BENCH_XDPCOST_H
#define XKV_BENCH_XDPCOST_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#include "xkv_stats.h"

#define FRAME_MAX 2048
#define COST_NSLOTS 1024
#define COST_PORT 11211
#define ROUNDS_MAX 99

struct floor;
struct pkt;
struct xkv;
struct xkv_slot;

/* how a program is timed (xdpcost.c's top comment) */
enum method { M_CALL, M_REPEAT, M_LIVE, M_NR };

/**
 * struct target - a program to time, and what each run must give.
 * @fd:        the program
 * @wrap_fd:   xdp_restore, for live frames; -1: none
 * @next_fd:   its prog array
 * @fl:        the floor's skeleton, which holds xdp_restore's frame
 * @in:        the request frame
 * @want:      the verdict expected
 * @want_text: bytes the reply must contain, NULL: none checked
 * @methods:   which methods are valid for it
 */
struct target {
	int fd;
	int wrap_fd;
	int next_fd;
	struct floor *fl;
	const struct pkt *in;
	__u32 want;
	const char *want_text;
	bool methods[M_NR];
};

/**
 * struct hot - the hot tier, loaded and mapped.
 * @skel:     its skeleton
 * @slots:    the hot cache, mmap()ed
 * @map_len:  bytes mapped
 * @nslots:   slots in it
 * @prog_fd:  the XDP program
 * @stats_fd: its per-CPU counters
 * @ncpus:    possible CPUs (per-CPU values)
 */
struct hot {
	struct xkv *skel;
	struct xkv_slot *slots;
	size_t map_len;
	__u32 nslots;
	int prog_fd;
	int stats_fd;
	int ncpus;
};

int hot_open(struct hot *h, __u32 nslots);
void hot_close(struct hot *h);
int hot_install(struct hot *h, const char *key, const char *val);
int hot_stat(struct hot *h, enum xkv_stat_id id, __u64 *val);
void frame_get(struct pkt *f, const char *text);
void make_key(char *key, int len, unsigned int id);
const char *verdict(__u32 v);
int time_per_call(const struct target *t, int calls, double *ns);
double median(const double *v, int n, double *lo, double *hi);
int num(char flag, const char *s, long lo, long hi, long *out);

int cmd_spread(int argc, char **argv);
int cmd_mem(int argc, char **argv);

#endif /* XKV_BENCH_XDPCOST_H */
