// SPDX-License-Identifier: GPL-2.0
/*
 * xdpmem.c - "xdpcost mem": would the hot cache's lookups get cheaper in
 * direct-map memory (2 MiB pages) than in the vmalloc'ed 4 KiB pages of
 * its BPF_F_MMAPABLE array?
 *
 *   xdpcost mem [-R LIST] [-n CALLS] [-p READS] [-r ROUNDS] [-j]
 *
 * Loads bench/xdpmem.bpf.c with its three maps sized for the largest
 * element count in LIST (default 48,1600,6400,16384: 30 KiB to 10 MiB of
 * 640-byte elements), fills the map of maps with kmalloc'ed inner arrays,
 * and for each count R times, per kind of memory,
 *
 *   mmapable  a BPF_F_MMAPABLE array (vmalloc; the hot cache's kind)
 *   array     a plain array (vmalloc over 32 KiB)
 *   inner     inner arrays of 48 elements, 30 KiB each (kmalloc: the
 *             direct map), one more lookup per read to find them
 *
 * CALLS BPF_PROG_TEST_RUN calls (default 20000) of one run each. A run
 * makes READS (default 1, as a GET reads one slot; at most 32) dependent
 * reads of three cache lines of an element picked pseudo-randomly among
 * R, timed inside the program (bpf_ktime_get_ns() around the loop; the
 * timer's cost, spread over the reads, is the same for every kind), so
 * the figure is ns per read after the system call has flushed the TLB
 * (this guest has PTI without PCID); with more reads per call, later
 * reads find the TLB refilled by earlier ones. Rounds (default
 * 5) interleave the counts and the kinds; the median is reported with
 * the smallest and largest, after one untimed pass of every kind over
 * the largest count.
 *
 * Refused rather than printed: a run whose verdict is not XDP_PASS (a
 * failed lookup aborts it), a read count in the program's .bss other
 * than CALLS x READS, an inner array not created or not installed, and
 * inner arrays that /proc/vmallocinfo shows vmalloc'ed after all.
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>

#include "pkt.h"
#include "xdpcost.h"
#include "xdpmem.h"
#include "xdpmem.skel.h"

#define MEM_COUNTS_MAX 16	/* element counts in -R */

enum mem_kind { K_MMAPABLE, K_ARRAY, K_INNER, K_NR };

static const char *const kind_name[K_NR] = { "mmapable", "array", "inner" };

struct mem_opts {
	long elems[MEM_COUNTS_MAX];
	int ncounts;
	long calls;
	long per_call;
	long rounds;
	bool json;
};

/* what the inner arrays came to */
struct mem_inner_info {
	long maps;
	long vmalloced;
};

static const char mem_usage[] =
	"usage: xdpcost mem [-R LIST] [-n CALLS] [-p READS] [-r ROUNDS] [-j]\n"
	"  -R LIST    element counts, comma-separated (48,1600,6400,16384; "
	"640 B each)\n"
	"  -n CALLS   calls per count, kind and round (20000)\n"
	"  -p READS   dependent reads per call, 1..32 (1: a GET's one slot, "
	"right after\n"
	"             the system call that runs it)\n"
	"  -r ROUNDS  rounds, the median reported (5)\n"
	"  -j         one JSON line\n";

/* -R: up to MEM_COUNTS_MAX counts of 1..MEM_ELEMS_MAX elements */
static int parse_counts(const char *arg, struct mem_opts *mo)
{
	char *copy, *tok, *save = NULL;
	int err = 0;

	copy = strdup(arg);
	if (!copy)
		return -1;
	mo->ncounts = 0;
	for (tok = strtok_r(copy, ",", &save); tok && !err;
	     tok = strtok_r(NULL, ",", &save)) {
		if (mo->ncounts == MEM_COUNTS_MAX) {
			fprintf(stderr, "xdpcost: -R: at most %d counts\n",
				MEM_COUNTS_MAX);
			err = -1;
		} else {
			err = num('R', tok, 1, MEM_ELEMS_MAX,
				  &mo->elems[mo->ncounts++]);
		}
	}
	if (!err && !mo->ncounts) {
		fprintf(stderr, "xdpcost: -R: no counts\n");
		err = -1;
	}
	free(copy);
	return err;
}

/* BPF arrays' vmalloc'ed areas, by start address (hashed, but stable) */
struct vm_areas {
	unsigned long long *start;
	size_t n;
};

static int cmp_ull(const void *a, const void *b)
{
	unsigned long long x = *(const unsigned long long *)a;
	unsigned long long y = *(const unsigned long long *)b;

	return x < y ? -1 : x > y;
}

/*
 * The areas /proc/vmallocinfo lists for BPF arrays, sorted: their caller
 * is array_map_alloc(), or bpf_map_area_alloc() where not inlined.
 */
static int map_vmallocs(struct vm_areas *va)
{
	unsigned long long *grown;
	size_t room = 0;
	char line[512];
	FILE *f;

	va->start = NULL;
	va->n = 0;
	f = fopen("/proc/vmallocinfo", "r");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (!strstr(line, " array_map_alloc+") &&
		    !strstr(line, " bpf_map_area"))
			continue;
		if (va->n == room) {
			room = room ? 2 * room : 64;
			grown = realloc(va->start, room * sizeof(*grown));
			if (!grown) {
				fclose(f);
				free(va->start);
				va->start = NULL;
				return -ENOMEM;
			}
			va->start = grown;
		}
		va->start[va->n++] = strtoull(line, NULL, 16);
	}
	fclose(f);
	qsort(va->start, va->n, sizeof(*va->start), cmp_ull);
	return 0;
}

/*
 * How many of the areas in @after are not in @before: made in between
 * (other processes' maps freed meanwhile do not count). Frees both.
 */
static long vm_new(struct vm_areas *before, struct vm_areas *after)
{
	long n = 0;
	size_t i;

	for (i = 0; i < after->n; i++)
		if (!bsearch(&after->start[i], before->start, before->n,
			     sizeof(*before->start), cmp_ull))
			n++;
	free(before->start);
	free(after->start);
	return n;
}

/*
 * Fill the map of maps @outer_fd with @n inner arrays, each of its own
 * fd closed once installed (the outer map holds it), and check that every
 * entry names one. How many of them were vmalloc'ed goes to @info.
 */
static int install_inner(int outer_fd, __u32 n, struct mem_inner_info *info)
{
	struct vm_areas before, after;
	__u32 i, id;
	int fd, err;

	err = map_vmallocs(&before);
	if (err)
		return err;
	for (i = 0; i < n; i++) {
		fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "xdpmem_inner",
				    sizeof(__u32), sizeof(struct mem_elem),
				    MEM_INNER, NULL);
		if (fd < 0) {
			err = -errno;
			goto free_before;
		}
		err = bpf_map_update_elem(outer_fd, &i, &fd, BPF_ANY) ?
		      -errno : 0;
		close(fd);
		if (err)
			goto free_before;
	}
	err = map_vmallocs(&after);
	if (err)
		goto free_before;
	info->vmalloced = vm_new(&before, &after);
	for (i = 0; i < n; i++) {
		/* from user space, an outer entry reads as its map's id */
		if (bpf_map_lookup_elem(outer_fd, &i, &id) || !id) {
			fprintf(stderr, "xdpcost: mem: inner array %u of %u "
				"not installed\n", i, n);
			return -EPROTO;
		}
	}
	info->maps = n;
	return 0;

free_before:
	free(before.start);
	return err;
}

/*
 * Load the programs with every map sized for @elems elements and fill
 * the map of maps; the inner arrays' record in @info. Checks that
 * /proc/vmallocinfo shows the load's vmalloc'ed arrays (the mmapable ones
 * at least, so that it can tell) and not the inner arrays (so that they
 * are in the direct map).
 */
static int mem_load(struct xdpmem *skel, long elems,
		    struct mem_inner_info *info)
{
	__u32 nouter = (__u32)((elems + MEM_INNER - 1) / MEM_INNER);
	struct vm_areas before, after;
	long made;
	int err;

	err = bpf_map__set_max_entries(skel->maps.mem_mmapable,
				       (__u32)elems);
	if (!err)
		err = bpf_map__set_max_entries(skel->maps.mem_array,
					       (__u32)elems);
	if (!err)
		err = bpf_map__set_max_entries(skel->maps.mem_outer, nouter);
	if (err)
		return err;
	err = map_vmallocs(&before);
	if (err)
		return err;
	err = xdpmem__load(skel);
	if (err)
		goto free_before;
	err = map_vmallocs(&after);
	if (err)
		goto free_before;
	made = vm_new(&before, &after);
	err = install_inner(bpf_map__fd(skel->maps.mem_outer), nouter, info);
	if (err)
		return err;
	if (made < 2) {
		fprintf(stderr, "xdpcost: mem: /proc/vmallocinfo does not "
			"show the arrays' allocations: cannot check where "
			"the inner arrays are\n");
		return -EPROTO;
	}
	if (info->vmalloced >= info->maps) {
		fprintf(stderr, "xdpcost: mem: %ld vmalloc'ed areas for %ld "
			"inner arrays: they are not in the direct map\n",
			info->vmalloced, info->maps);
		return -EPROTO;
	}
	return 0;

free_before:
	free(before.start);
	return err;
}

/*
 * @calls runs of @t over @elems elements; the mean ns per read the
 * program measured in *@ns, its read count checked.
 */
static int time_reads(struct xdpmem *skel, const struct target *t,
		      enum mem_kind kind, long elems, const struct mem_opts *mo,
		      double *ns)
{
	__u64 want = (__u64)mo->calls * mo->per_call;
	double per_call;
	int err;

	skel->bss->mem_range = (__u32)elems;
	skel->bss->mem_per_call = (__u32)mo->per_call;
	skel->bss->mem_reads = 0;
	skel->bss->mem_ns = 0;
	err = time_per_call(t, (int)mo->calls, &per_call);
	if (err == -EPROTO)
		fprintf(stderr, "xdpcost: mem: %s, %ld elements: a run "
			"aborted (a lookup failed)\n", kind_name[kind], elems);
	if (err)
		return err;
	if (skel->bss->mem_reads != want) {
		fprintf(stderr, "xdpcost: mem: %s, %ld elements: %llu reads "
			"counted, %llu made\n", kind_name[kind], elems,
			(unsigned long long)skel->bss->mem_reads,
			(unsigned long long)want);
		return -EPROTO;
	}
	*ns = (double)skel->bss->mem_ns / (double)want;
	return 0;
}

/* KiB the first @elems elements span */
static long span_kib(long elems)
{
	return elems * MEM_ELEM_SIZE / 1024;
}

static void print_mem(const struct mem_opts *mo,
		      const struct mem_inner_info *info,
		      double res[][K_NR][ROUNDS_MAX])
{
	double med, lo, hi;
	int c, k;

	if (mo->json) {
		printf("{\"tool\":\"xdpmem\",\"elem_bytes\":%d,"
		       "\"reads_per_call\":%ld,\"calls\":%ld,\"rounds\":%ld,"
		       "\"inner_elems\":%d,\"inner_maps\":%ld,"
		       "\"inner_vmalloced\":%ld,\"rows\":[", MEM_ELEM_SIZE,
		       mo->per_call, mo->calls, mo->rounds, MEM_INNER,
		       info->maps, info->vmalloced);
		for (c = 0; c < mo->ncounts; c++) {
			printf("%s{\"elements\":%ld,\"kib\":%ld", c ? "," : "",
			       mo->elems[c], span_kib(mo->elems[c]));
			for (k = 0; k < K_NR; k++) {
				med = median(res[c][k], (int)mo->rounds, &lo,
					     &hi);
				printf(",\"%s\":{\"ns\":%.1f,\"min\":%.1f,"
				       "\"max\":%.1f}", kind_name[k], med, lo,
				       hi);
			}
			printf("}");
		}
		printf("]}\n");
		return;
	}
	printf("Cold element reads, ns per read, timed in the program "
	       "(median [min-max] of %ld rounds of %ld calls x %ld dependent "
	       "reads of 3 lines of a %d-byte element)\n", mo->rounds,
	       mo->calls, mo->per_call, MEM_ELEM_SIZE);
	printf("%8s %8s", "elements", "KiB");
	for (k = 0; k < K_NR; k++)
		printf(" %22s", kind_name[k]);
	printf("\n");
	for (c = 0; c < mo->ncounts; c++) {
		printf("%8ld %8ld", mo->elems[c], span_kib(mo->elems[c]));
		for (k = 0; k < K_NR; k++) {
			med = median(res[c][k], (int)mo->rounds, &lo, &hi);
			printf(" %8.1f [%5.0f-%5.0f]", med, lo, hi);
		}
		printf("\n");
	}
	printf("inner: %ld arrays of %d elements, %ld vmalloc'ed areas "
	       "while they were made (/proc/vmallocinfo)\n", info->maps,
	       MEM_INNER, info->vmalloced);
}

static int mem_run(const struct mem_opts *mo)
{
	static double res[MEM_COUNTS_MAX][K_NR][ROUNDS_MAX];
	struct mem_inner_info info = { 0 };
	struct target tg[K_NR];
	struct xdpmem *skel;
	long largest = 0;
	struct pkt f;
	int c, k, r, err;
	double ns;

	for (c = 0; c < mo->ncounts; c++)
		if (mo->elems[c] > largest)
			largest = mo->elems[c];
	skel = xdpmem__open();
	if (!skel) {
		err = -errno;
		goto report_err;
	}
	err = mem_load(skel, largest, &info);
	if (err)
		goto destroy_skel;

	/* the programs ignore the frame; any frame will do */
	frame_get(&f, "get mem\r\n");
	memset(tg, 0, sizeof(tg));
	tg[K_MMAPABLE].fd = bpf_program__fd(skel->progs.xdp_mem_mmapable);
	tg[K_ARRAY].fd = bpf_program__fd(skel->progs.xdp_mem_array);
	tg[K_INNER].fd = bpf_program__fd(skel->progs.xdp_mem_inner);
	for (k = 0; k < K_NR; k++) {
		tg[k].wrap_fd = -1;
		tg[k].in = &f;
		tg[k].want = XDP_PASS;
	}

	/* warm-up, not timed: one pass of each kind over the largest count */
	for (k = 0; !err && k < K_NR; k++)
		err = time_reads(skel, &tg[k], k, largest, mo, &ns);
	for (r = 0; !err && r < mo->rounds; r++)
		for (c = 0; !err && c < mo->ncounts; c++)
			for (k = 0; !err && k < K_NR; k++)
				err = time_reads(skel, &tg[k], k,
						 mo->elems[c], mo,
						 &res[c][k][r]);
	if (!err)
		print_mem(mo, &info, res);
destroy_skel:
	xdpmem__destroy(skel);
report_err:
	if (err && err != -EPROTO)
		fprintf(stderr, "xdpcost: mem: %s\n", strerror(-err));
	return err ? 1 : 0;
}

/**
 * cmd_mem() - "xdpcost mem": parse its options and run it.
 * @argc: arguments after "xdpcost", "mem" first
 * @argv: them
 *
 * Return: the exit status (0 ok, 1 a measurement failed, 2 bad usage).
 */
int cmd_mem(int argc, char **argv)
{
	struct mem_opts mo = { .elems = { 48, 1600, 6400, 16384 },
			       .ncounts = 4, .calls = 20000, .per_call = 1,
			       .rounds = 5 };
	int c;

	while ((c = getopt(argc, argv, "R:n:p:r:jh")) != -1) {
		switch (c) {
		case 'R':
			if (parse_counts(optarg, &mo))
				return 2;
			break;
		case 'n':
			if (num('n', optarg, 1, 10000000, &mo.calls))
				return 2;
			break;
		case 'p':
			if (num('p', optarg, 1, MEM_READS, &mo.per_call))
				return 2;
			break;
		case 'r':
			if (num('r', optarg, 1, ROUNDS_MAX, &mo.rounds))
				return 2;
			break;
		case 'j':
			mo.json = true;
			break;
		case 'h':
			printf("%s", mem_usage);
			return 0;
		default:
			fprintf(stderr, "%s", mem_usage);
			return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "xdpcost: mem: unexpected \"%s\"\n%s",
			argv[optind], mem_usage);
		return 2;
	}
	return mem_run(&mo);
}
