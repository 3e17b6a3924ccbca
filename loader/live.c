// SPDX-License-Identifier: GPL-2.0
/*
 * live.c - renew the backend's lease on behalf of a stock memcached.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "xkv_live.h"
#include "live.h"
#include "log.h"

/* the user the watcher runs as once the lease is mapped */
#define XKV_LIVE_USER "nobody"

static __u64 mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ULL + (__u64)ts.tv_nsec;
}

/* the watcher: beat until @pidfd says the backend has exited */
static void __attribute__((noreturn)) watch(struct xkv_live *l, int pidfd)
{
	struct pollfd pfd = { .fd = pidfd, .events = POLLIN };
	const struct passwd *pw = getpwnam(XKV_LIVE_USER);
	int fd, r;

	prctl(PR_SET_NAME, "xkv-live", 0, 0, 0);
	prctl(PR_SET_PDEATHSIG, 0, 0, 0, 0);
	fd = open("/dev/null", O_RDWR);
	if (fd >= 0) {
		dup2(fd, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		if (fd > 2)
			close(fd);
	}
	if (pw && !getuid() && (setgroups(0, NULL) || setgid(pw->pw_gid) ||
				setuid(pw->pw_uid)))
		_exit(1);
	for (;;) {
		xkv_live_renew(l, mono_ns());
		r = poll(&pfd, 1, XKV_LIVE_BEAT_MS);
		if (r > 0 || (r < 0 && errno != EINTR))
			break;
	}
	xkv_live_end(l);
	_exit(0);
}

int xkv_live_left_ms(const struct xkv_paths *p, unsigned long long *left)
{
	struct xkv_live l;
	char path[PATH_MAX];
	__u32 zero = 0;
	__u64 now;
	int fd, err = 0;

	*left = 0;
	fd = bpf_obj_get(xkv_pin_path(p, XKV_PIN_LIVE, path));
	if (fd < 0)
		return -errno;
	if (bpf_map_lookup_elem(fd, &zero, &l))
		err = -errno;
	close(fd);
	now = mono_ns();
	if (!err && l.until_ns > now)
		*left = (l.until_ns - now) / 1000000;
	return err;
}

int xkv_live_watch(const struct xkv_paths *p, pid_t pid)
{
	char path[PATH_MAX];
	struct xkv_live *l;
	int map_fd, pidfd, status, err = 0;
	pid_t child;

	map_fd = bpf_obj_get(xkv_pin_path(p, XKV_PIN_LIVE, path));
	if (map_fd < 0) {
		err = -errno;
		pr_warn("cannot open %s: %s\n", path, strerror(errno));
		return err;
	}
	l = mmap(NULL, sizeof(*l), PROT_READ | PROT_WRITE, MAP_SHARED, map_fd,
		 0);
	close(map_fd);
	if (l == MAP_FAILED) {
		err = -errno;
		pr_warn("cannot map %s: %s\n", path, strerror(errno));
		return err;
	}
	pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (pidfd < 0) {
		err = -errno;
		pr_warn("cannot watch the backend (pid %d): %s\n", (int)pid,
			strerror(errno));
		goto unmap;
	}
	/* twice, so that the watcher is nobody's child to reap */
	child = fork();
	if (child < 0) {
		err = -errno;
		pr_warn("cannot start the lease watcher: %s\n",
			strerror(errno));
		goto close_pidfd;
	}
	if (!child) {
		setsid();
		if (fork() > 0)
			_exit(0);
		watch(l, pidfd);
	}
	if (waitpid(child, &status, 0) < 0 || !WIFEXITED(status) ||
	    WEXITSTATUS(status)) {
		err = -ECHILD;
		pr_warn("the lease watcher did not start\n");
	} else {
		pr_debug("%s: lease renewed while pid %d runs\n", p->ifname,
			 (int)pid);
	}
close_pidfd:
	close(pidfd);
unmap:
	munmap(l, sizeof(*l));
	return err;
}
