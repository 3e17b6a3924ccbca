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
#include "xkv_slot.h"

/* slots left locked by another writer are tried again this many times in
 * all, this far apart, before flush reports them */
#define XKV_FLUSH_PASSES 100
#define XKV_FLUSH_PAUSE_MS 10

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

__u32 xkv_hotmap_used(const struct xkv_hotmap *hm, __u32 *keys)
{
	__u32 i, n = 0, used, off, e, sz;

	*keys = 0;
	for (i = 0; i < hm->nslots; i++) {
		const struct xkv_slot *sl = &hm->slots[i];

		used = xkv_slot_used(sl);
		if (!used)
			continue;
		n++;
		/* a racy walk, bounded like every reader's */
		for (off = 0, e = 0; e < XKV_HOT_ENTS_MAX; e++, off += sz) {
			sz = xkv_slot_ent_size(sl, off, used);
			if (!sz)
				break;
			(*keys)++;
		}
	}
	return n;
}

/* one pass over the slots: empty what can be locked, count the rest */
static void flush_pass(const struct xkv_hotmap *hm, __u32 *emptied,
		       __u32 *stuck)
{
	__u32 i, s;

	*stuck = 0;
	for (i = 0; i < hm->nslots; i++) {
		struct xkv_slot *sl = &hm->slots[i];

		/* only the owner installs keys: an empty slot stays so */
		if (!__atomic_load_n(&sl->used, __ATOMIC_RELAXED))
			continue;
		/* an emptier (xkv_slot.h): give up on a stuck slot */
		if (!xkv_slot_lock(sl, &s)) {
			(*stuck)++;
			continue;
		}
		if (sl->used)
			(*emptied)++;
		xkv_slot_empty(sl);
		xkv_slot_unlock(sl, s);
	}
}

int xkv_hotmap_flush(const struct xkv_hotmap *hm, __u32 *emptied,
		     __u32 *stuck)
{
	const struct timespec pause = {
		.tv_nsec = XKV_FLUSH_PAUSE_MS * 1000000L,
	};
	int pass;

	*emptied = 0;
	flush_pass(hm, emptied, stuck);
	/* a backend thread preempted inside a slot gets some time */
	for (pass = 1; *stuck && pass < XKV_FLUSH_PASSES; pass++) {
		nanosleep(&pause, NULL);
		flush_pass(hm, emptied, stuck);
	}
	return 0;
}
