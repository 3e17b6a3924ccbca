// SPDX-License-Identifier: GPL-2.0
/*
 * hotmap.c - open the pinned XDP hot cache and hand it to the store; the
 * backend's lease and the TCP fast path's table, pinned next to it, too.
 *
 * xkvd needs no libbpf for this: BPF_OBJ_GET on the pin gives a map fd,
 * BPF_OBJ_GET_INFO_BY_FD says whether it is the map we expect, and the
 * array is mmap'ed shared (it was created with BPF_F_MMAPABLE), so writing
 * a slot is a memory store, not a system call.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/bpf.h>
#include <string.h>
#include <sys/syscall.h>

#include "xkvd.h"
#include "xkv_hot.h"
#include "xkv_live.h"
#include "xkv_tcp.h"

static int sys_bpf(int cmd, union bpf_attr *attr)
{
	return (int)syscall(__NR_bpf, cmd, attr, sizeof(*attr));
}

static int map_check(int fd, const char *path, u32 *nslots)
{
	struct bpf_map_info info;
	union bpf_attr attr;

	memset(&info, 0, sizeof(info));
	memset(&attr, 0, sizeof(attr));
	attr.info.bpf_fd = (u32)fd;
	attr.info.info_len = sizeof(info);
	attr.info.info = (u64)(unsigned long)&info;
	if (sys_bpf(BPF_OBJ_GET_INFO_BY_FD, &attr)) {
		fprintf(stderr, "xkvd: %s: cannot read map info: %s\n", path,
			strerror(errno));
		return -errno;
	}
	if (info.type != BPF_MAP_TYPE_ARRAY ||
	    info.value_size != sizeof(struct xkv_slot) ||
	    !(info.map_flags & BPF_F_MMAPABLE)) {
		fprintf(stderr,
			"xkvd: %s: not an xkv hot cache (type %u, value %u bytes, flags %#x, %u entries)\n",
			path, info.type, info.value_size, info.map_flags,
			info.max_entries);
		return -EINVAL;
	}
	/* xkv_hot_index() masks the hash: a power of two of slots */
	if (!info.max_entries ||
	    (info.max_entries & (info.max_entries - 1))) {
		fprintf(stderr,
			"xkvd: %s: %u slots: an xkv hot cache needs a power of two\n",
			path, info.max_entries);
		return -EINVAL;
	}
	*nslots = info.max_entries;
	return 0;
}

/*
 * Map the array pinned as @name next to the hot cache at @hot_path, if it
 * is one of @entries values of @value_size bytes created mmapable; its
 * path is left in @path. @without says what goes missing when there is no
 * such pin: an XDP object without it still serves.
 * Return: the mapping, or NULL after saying why.
 */
static void *sibling_map_open(const char *hot_path, const char *name,
			      u32 value_size, u32 entries, const char *without,
			      char *path, size_t path_len)
{
	const char *slash = strrchr(hot_path, '/');
	int dir = slash ? (int)(slash - hot_path) + 1 : 0;
	union bpf_attr attr;
	struct bpf_map_info info;
	void *base;
	int fd;

	snprintf(path, path_len, "%.*s%s", dir, hot_path, name);
	memset(&attr, 0, sizeof(attr));
	attr.pathname = (u64)(unsigned long)path;
	fd = sys_bpf(BPF_OBJ_GET, &attr);
	if (fd < 0) {
		os_log(1, "no map %s (%s): %s", path, strerror(errno),
		       without);
		return NULL;
	}
	memset(&info, 0, sizeof(info));
	memset(&attr, 0, sizeof(attr));
	attr.info.bpf_fd = (u32)fd;
	attr.info.info_len = sizeof(info);
	attr.info.info = (u64)(unsigned long)&info;
	if (sys_bpf(BPF_OBJ_GET_INFO_BY_FD, &attr) ||
	    info.type != BPF_MAP_TYPE_ARRAY ||
	    info.value_size != value_size ||
	    !(info.map_flags & BPF_F_MMAPABLE) ||
	    info.max_entries != entries) {
		fprintf(stderr,
			"xkvd: %s: not the xkv map %s (type %u, value %u bytes, flags %#x, %u entries)\n",
			path, name, info.type, info.value_size, info.map_flags,
			info.max_entries);
		close(fd);
		return NULL;
	}
	base = mmap(NULL, (size_t)entries * value_size,
		    PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (base == MAP_FAILED) {
		fprintf(stderr, "xkvd: %s: mmap: %s\n", path, strerror(errno));
		return NULL;
	}
	return base;
}

/*
 * The backend's lease (struct xkv_live), pinned next to the hot cache as
 * "xkv_live": mapped, and renewed by the store at each maintenance step.
 */
static void live_open(struct xkvd_server *srv, const char *hot_path)
{
	char path[4096];

	srv->live = sibling_map_open(hot_path, "xkv_live",
				     sizeof(struct xkv_live), 1,
				     "XDP does not check a lease",
				     path, sizeof(path));
	if (!srv->live)
		return;
	xkv_store_attach_live(srv->st, srv->live);
	os_log(1, "lease %s: renewed every %u ms", path, XKV_LIVE_BEAT_MS);
}

/*
 * The TCP fast path's table (abi/xkv_tcp.h), pinned next to the hot cache
 * as "xkv_tcp_ans": mapped, emptied of what a previous backend left, and
 * from then on every accepted connection claims an entry in it (tcp.c).
 */
static void tcp_ans_open(struct xkvd_server *srv, const char *hot_path)
{
	char path[4096];
	u32 stale;

	srv->tcp_ans = sibling_map_open(hot_path, "xkv_tcp_ans",
					sizeof(struct xkv_tcp_ans),
					XKV_TCP_ANS_SLOTS,
					"XDP answers no TCP GET",
					path, sizeof(path));
	if (!srv->tcp_ans)
		return;
	stale = xkv_tcp_ans_reset(srv->tcp_ans);
	os_log(1,
	       "TCP fast path %s: %u connections at most (%u left over, freed)",
	       path, XKV_TCP_ANS_SLOTS, stale);
}

/**
 * xkvd_hot_map_open() - map the hot cache pinned at @path into the store.
 * @srv:  server, with its store created and no client served yet
 * @path: bpffs pin of the xkv_hot map
 *
 * Return: 0, or -errno after printing what failed.
 */
int xkvd_hot_map_open(struct xkvd_server *srv, const char *path)
{
	union bpf_attr attr;
	u32 nslots = 0;
	void *base;
	size_t len;
	int fd, err;

	memset(&attr, 0, sizeof(attr));
	attr.pathname = (u64)(unsigned long)path;
	fd = sys_bpf(BPF_OBJ_GET, &attr);
	if (fd < 0) {
		err = -errno;
		fprintf(stderr, "xkvd: --hot-map %s: %s\n", path,
			strerror(errno));
		return err;
	}
	err = map_check(fd, path, &nslots);
	if (err)
		goto close_fd;
	len = (size_t)nslots * sizeof(struct xkv_slot);
	base = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (base == MAP_FAILED) {
		err = -errno;
		fprintf(stderr, "xkvd: --hot-map %s: mmap: %s\n", path,
			strerror(errno));
		goto close_fd;
	}
	err = xkv_store_attach_hot(srv->st, base, nslots);
	if (err) {
		fprintf(stderr, "xkvd: --hot-map %s: attach: %s\n", path,
			strerror(-err));
		goto unmap;
	}
	srv->hot_base = base;
	srv->hot_len = len;
	close(fd);
	os_log(1, "hot cache %s: %u slots", path, nslots);
	live_open(srv, path);
	tcp_ans_open(srv, path);
	return 0;

unmap:
	munmap(base, len);
close_fd:
	close(fd);
	return err;
}

/**
 * xkvd_hot_map_close() - unmap the hot cache (the store has let go).
 * @srv: server
 */
void xkvd_hot_map_close(struct xkvd_server *srv)
{
	if (srv->tcp_ans) {
		/* every connection released its entry when it closed */
		munmap(srv->tcp_ans,
		       (size_t)XKV_TCP_ANS_SLOTS * sizeof(struct xkv_tcp_ans));
		srv->tcp_ans = NULL;
	}
	if (srv->live) {
		/* the store is gone: XDP serves nothing from now on */
		xkv_live_end(srv->live);
		munmap(srv->live, sizeof(struct xkv_live));
		srv->live = NULL;
	}
	if (srv->hot_base)
		munmap(srv->hot_base, srv->hot_len);
	srv->hot_base = NULL;
}
