// SPDX-License-Identifier: GPL-2.0
/*
 * pidfile.c - pid files, and telling our process from a reused pid.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pidfile.h"

/* field 22 of /proc/PID/stat (start time), and field 3 (state) */
static unsigned long long proc_start_time(pid_t pid, char *state)
{
	char path[64], buf[1024], *p;
	unsigned long long start = 0;
	ssize_t n;
	int fd, i;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	p = strrchr(buf, ')');	/* the name may hold spaces and ')' */
	if (!p || !p[1])
		return 0;
	p += 2;
	if (state)
		*state = *p;
	for (i = 3; i < 22 && p; i++) {
		p = strchr(p, ' ');
		if (p)
			p++;
	}
	if (p)
		start = strtoull(p, NULL, 10);
	return start;
}

int xkv_pidfile_write(const struct xkv_paths *p, pid_t pid)
{
	char tmp[PATH_MAX + 8];
	int err;
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.tmp", p->pidfile);
	f = fopen(tmp, "we");
	if (!f)
		return -errno;
	fprintf(f, "%d\n%llu\n", (int)pid, proc_start_time(pid, NULL));
	if (fclose(f) || rename(tmp, p->pidfile)) {
		err = -errno;
		unlink(tmp);
		return err;
	}
	return 0;
}

int xkv_pidfile_read(const struct xkv_paths *p, pid_t *pid,
		     unsigned long long *start)
{
	int ipid = 0;
	FILE *f;

	*pid = 0;
	*start = 0;
	f = fopen(p->pidfile, "re");
	if (!f)
		return errno == ENOENT ? 0 : -errno;
	if (fscanf(f, "%d %llu", &ipid, start) < 1 || ipid <= 0)
		ipid = 0;
	fclose(f);
	*pid = ipid;
	return 0;
}

bool xkv_proc_alive(pid_t pid, unsigned long long start)
{
	unsigned long long now;
	char state = '?';

	if (kill(pid, 0) && errno == ESRCH)
		return false;
	now = proc_start_time(pid, &state);
	if (!now || state == 'Z' || state == 'X')
		return false;
	return !start || now == start;
}
