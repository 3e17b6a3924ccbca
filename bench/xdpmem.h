/* SPDX-License-Identifier: GPL-2.0 */
/*
 * xdpmem.h - what bench/xdpmem.bpf.c and "xdpcost mem" (bench/xdpmem.c)
 * share: the element read and the shape of the maps holding it.
 *
 * MEM_INNER elements of MEM_ELEM_SIZE bytes (30 KiB) keep each inner
 * array of the map of maps under the 32 KiB up to which the kernel
 * kmallocs a plain array (bpf_map_area_alloc()), so those elements sit in
 * the direct map; bigger arrays, and every BPF_F_MMAPABLE one, are
 * vmalloc'ed in 4 KiB pages.
 */
#ifndef XKV_BENCH_XDPMEM_H
#define XKV_BENCH_XDPMEM_H

#include <linux/types.h>

#define MEM_ELEM_SIZE 640	/* bytes of one element */
#define MEM_INNER 48		/* elements of one inner array */
#define MEM_READS 32		/* dependent reads per run, at most */
#define MEM_ELEMS_MAX 65536	/* elements at most: 40 MiB a map */

/**
 * struct mem_elem - one element: a run reads its words 0, 8 and 16, one
 * from each of its first three cache lines.
 * @w: its words
 */
struct mem_elem {
	__u64 w[MEM_ELEM_SIZE / 8];
};

#endif /* XKV_BENCH_XDPMEM_H */
