// SPDX-License-Identifier: GPL-2.0
/*
 * hotmap.c - count or empty the hot cache's slots through mmap().
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "hotmap.h"
#include "log.h"
#include "paths.h"

/* how long a slot may stay odd before flush gives up on it */
#define XKV_SLOT_WAIT_NS 1000000000ULL

#if defined(__x86_64__) || defined(__i386__)
#define cpu_relax() __builtin_ia32_pause()
#elif defined(__aarch64__)
#define cpu_relax() asm volatile("yield" ::: "memory")
#else
#define cpu_relax() asm volatile("" ::: "memory")
#endif

int xkv_hotmap_open(const char *pin_dir, bool writable,
		    struct xkv_hotmap *hm)
{
	struct bpf_map_info info;
	__u32 ilen = sizeof(info);
	char path[PATH_MAX];
	void *base;
	int fd, err;

	memset(hm, 0, sizeof(*hm));
	snprintf(path, sizeof(path), "%s/%s", pin_dir, XKV_PIN_HOT);
	fd = bpf_obj_get(path);
	if (fd < 0) {
		err = -errno;
		pr_warn("cannot open %s: %s\n", path, strerror(errno));
		return err;
	}
	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(fd, &info, &ilen)) {
		err = -errno;
		pr_warn("%s: cannot read map info: %s\n", path,
			strerror(errno));
		goto close_fd;
	}
	if (info.type != BPF_MAP_TYPE_ARRAY ||
	    info.value_size != sizeof(struct xkv_slot) ||
	    !(info.map_flags & BPF_F_MMAPABLE) || !info.max_entries) {
		err = -EINVAL;
		pr_warn("%s: not an xkv hot cache\n", path);
		goto close_fd;
	}
	hm->nslots = info.max_entries;
	hm->len = (size_t)info.max_entries * sizeof(struct xkv_slot);
	base = mmap(NULL, hm->len, PROT_READ | (writable ? PROT_WRITE : 0),
		    MAP_SHARED, fd, 0);
	if (base == MAP_FAILED) {
		err = -errno;
		pr_warn("%s: mmap: %s\n", path, strerror(errno));
		goto close_fd;
	}
	hm->slots = base;
	err = 0;
close_fd:
	close(fd);	/* the mapping holds the map */
	return err;
}

void xkv_hotmap_close(struct xkv_hotmap *hm)
{
	if (hm->slots)
		munmap(hm->slots, hm->len);
	hm->slots = NULL;
}

__u32 xkv_hotmap_used(const struct xkv_hotmap *hm)
{
	__u32 i, n = 0;

	for (i = 0; i < hm->nslots; i++) {
		if (__atomic_load_n(&hm->slots[i].key_len, __ATOMIC_RELAXED))
			n++;
	}
	return n;
}

static __u64 mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ULL + (__u64)ts.tv_nsec;
}

/* step 1 of the writer protocol; false if the slot stayed odd too long */
static bool slot_begin(struct xkv_slot *sl, __u32 *seq)
{
	__u64 deadline = 0;
	__u32 s;

	for (;;) {
		s = __atomic_load_n(&sl->seq, __ATOMIC_RELAXED);
		if (!(s & 1) &&
		    __atomic_compare_exchange_n(&sl->seq, &s, s + 1, false,
						__ATOMIC_SEQ_CST,
						__ATOMIC_RELAXED))
			break;
		if (!deadline)
			deadline = mono_ns() + XKV_SLOT_WAIT_NS;
		else if (mono_ns() > deadline)
			return false;
		cpu_relax();
	}
	__atomic_thread_fence(__ATOMIC_RELEASE);
	*seq = s;
	return true;
}

int xkv_hotmap_flush(const struct xkv_hotmap *hm, __u32 *emptied,
		     __u32 *stuck)
{
	__u32 i, s;

	*emptied = 0;
	*stuck = 0;
	for (i = 0; i < hm->nslots; i++) {
		struct xkv_slot *sl = &hm->slots[i];

		/* only a backend installs keys: an empty slot stays so */
		if (!__atomic_load_n(&sl->key_len, __ATOMIC_RELAXED))
			continue;
		if (!slot_begin(sl, &s)) {
			(*stuck)++;
			continue;
		}
		if (sl->key_len)
			(*emptied)++;
		/* step 2: key_len = 0 invalidates */
		__atomic_store_n(&sl->key_len, 0, __ATOMIC_RELAXED);
		/* step 3 */
		__atomic_store_n(&sl->seq, s + 2, __ATOMIC_RELEASE);
	}
	return 0;
}
