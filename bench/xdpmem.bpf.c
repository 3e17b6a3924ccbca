// SPDX-License-Identifier: GPL-2.0
/*
 * xdpmem.bpf.c - the programs of "xdpcost mem" (bench/xdpmem.c): what a
 * cold read of an element costs in each kind of memory a BPF map can
 * give. Each program makes mem_per_call (1..MEM_READS) dependent reads:
 * look element k up,
 * read one word from each of its first three cache lines, and derive the
 * next k from what was read, so no read can start before the one before
 * it ends. k is spread pseudo-randomly over the first mem_range elements.
 *
 *   xdp_mem_mmapable  a BPF_F_MMAPABLE array, as the hot cache xkv_hot:
 *                     vmalloc'ed, 4 KiB pages
 *   xdp_mem_array     a plain array of the same size: vmalloc'ed too
 *                     once over 32 KiB
 *   xdp_mem_inner     an array of arrays of MEM_INNER elements each, set
 *                     up from user space: each inner array is kmalloc'ed,
 *                     in the direct map (2 MiB pages); one more lookup,
 *                     in the small outer array, per read
 *
 * Each run adds its reads to mem_reads and the time they took
 * (bpf_ktime_get_ns() before and after the loop) to mem_ns; both are in
 * .bss, zeroed and read from user space. A lookup that fails ends the run
 * with XDP_ABORTED, and nothing is added; otherwise XDP_PASS.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "xdpmem.h"

char LICENSE[] SEC("license") = "GPL";

/* no initializers: these stay in .bss, which user space sets and reads */
__u32 mem_range;	/* elements the reads spread over */
__u32 mem_per_call;	/* reads per run, 1..MEM_READS */
__u64 mem_reads;	/* reads done */
__u64 mem_ns;		/* ns they took */
__u64 mem_sink;		/* what was read, so the reads are kept */

/* max_entries of all three are set from user space before load */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct mem_elem);
} mem_mmapable SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct mem_elem);
} mem_array SEC(".maps");

struct mem_inner {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, MEM_INNER);
	__type(key, __u32);
	__type(value, struct mem_elem);
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 1);
	__type(key, __u32);
	__array(values, struct mem_inner);
} mem_outer SEC(".maps");

enum mem_kind { MEM_MMAPABLE, MEM_ARRAY, MEM_INNER_MAP };

static __always_inline struct mem_elem *mem_lookup(enum mem_kind kind,
						   __u32 k)
{
	__u32 outer = k / MEM_INNER, inner = k % MEM_INNER;
	void *map;

	if (kind == MEM_MMAPABLE)
		return bpf_map_lookup_elem(&mem_mmapable, &k);
	if (kind == MEM_ARRAY)
		return bpf_map_lookup_elem(&mem_array, &k);
	map = bpf_map_lookup_elem(&mem_outer, &outer);
	if (!map)
		return NULL;
	return bpf_map_lookup_elem(map, &inner);
}

static __always_inline int mem_walk(enum mem_kind kind)
{
	__u32 x = bpf_get_prandom_u32(), range = mem_range, k;
	__u32 per = mem_per_call;
	struct mem_elem *e;
	__u64 t0, acc = 0;
	int i;

	if (!range || !per || per > MEM_READS)
		return XDP_ABORTED;
	t0 = bpf_ktime_get_ns();
	for (i = 0; i < MEM_READS; i++) {
		if (i == per)
			break;
		k = (x >> 8) % range;
		e = mem_lookup(kind, k);
		if (!e)
			return XDP_ABORTED;
		acc += e->w[0] + e->w[8] + e->w[16];
		/* the next index waits for this element's words */
		x = x * 2654435761u + (__u32)acc + 12345;
	}
	mem_ns += bpf_ktime_get_ns() - t0;
	mem_reads += per;
	mem_sink = acc;
	return XDP_PASS;
}

SEC("xdp")
int xdp_mem_mmapable(struct xdp_md *ctx)
{
	return mem_walk(MEM_MMAPABLE);
}

SEC("xdp")
int xdp_mem_array(struct xdp_md *ctx)
{
	return mem_walk(MEM_ARRAY);
}

SEC("xdp")
int xdp_mem_inner(struct xdp_md *ctx)
{
	return mem_walk(MEM_INNER_MAP);
}
