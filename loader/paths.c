// SPDX-License-Identifier: GPL-2.0
/*
 * paths.c - pin directories, the bpffs mount, the run directory.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "log.h"
#include "paths.h"

#define XKV_PIN_SUBDIR "xkv"
#define XKV_MAX_IFACES 256

static const char *env_or(const char *name, const char *def)
{
	const char *v = getenv(name);

	return v && *v ? v : def;
}

const char *xkv_bpffs_root(void)
{
	return env_or("XKV_BPFFS", XKV_BPFFS_DEFAULT);
}

static const char *run_root(void)
{
	return env_or("XKV_RUNDIR", XKV_RUNDIR_DEFAULT);
}

static bool path_fits(int n, size_t size)
{
	return n > 0 && (size_t)n < size;
}

int xkv_paths_init(struct xkv_paths *p, const char *ifname)
{
	size_t len = strlen(ifname);

	if (!len || len >= IF_NAMESIZE || strchr(ifname, '/') ||
	    !strcmp(ifname, ".") || !strcmp(ifname, "..")) {
		pr_warn("'%s' is not an interface name\n", ifname);
		return -EINVAL;
	}
	memset(p, 0, sizeof(*p));
	memcpy(p->ifname, ifname, len);
	if (!path_fits(snprintf(p->pin_dir, sizeof(p->pin_dir), "%s/%s/%s",
				xkv_bpffs_root(), XKV_PIN_SUBDIR, ifname),
		       sizeof(p->pin_dir)) ||
	    !path_fits(snprintf(p->pidfile, sizeof(p->pidfile), "%s/%s.pid",
				run_root(), ifname),
		       sizeof(p->pidfile)) ||
	    !path_fits(snprintf(p->logfile, sizeof(p->logfile), "%s/%s.log",
				run_root(), ifname),
		       sizeof(p->logfile)))
		return -ENAMETOOLONG;
	return 0;
}

char *xkv_pin_path(const struct xkv_paths *p, const char *name, char *buf)
{
	if (!path_fits(snprintf(buf, PATH_MAX, "%s/%s", p->pin_dir, name),
		       PATH_MAX))
		buf[0] = '\0';	/* cannot happen: pin_dir is short */
	return buf;
}

bool xkv_bpffs_is_mounted(void)
{
	struct statfs sfs;

	return !statfs(xkv_bpffs_root(), &sfs) &&
	       sfs.f_type == (typeof(sfs.f_type))BPF_FS_MAGIC;
}

int xkv_bpffs_ensure(bool *mounted)
{
	const char *root = xkv_bpffs_root();
	int err;

	*mounted = false;
	if (xkv_bpffs_is_mounted())
		return 0;
	if (mkdir(root, 0700) && errno != EEXIST) {
		err = -errno;
		pr_warn("no bpffs at %s and cannot create it: %s\n", root,
			strerror(errno));
		return err;
	}
	if (mount("bpf", root, "bpf", 0, "mode=0700")) {
		err = -errno;
		pr_warn("cannot mount a bpffs at %s: %s\n", root,
			strerror(errno));
		return err;
	}
	*mounted = true;
	pr_info("mounted a bpffs at %s\n", root);
	return 0;
}

static int mkdir_one(const char *path, bool exist_ok)
{
	if (!mkdir(path, 0700))
		return 0;
	if (errno == EEXIST && exist_ok)
		return 0;
	return -errno;
}

int xkv_pin_dir_create(const struct xkv_paths *p)
{
	char parent[PATH_MAX];
	int err;

	snprintf(parent, sizeof(parent), "%s/%s", xkv_bpffs_root(),
		 XKV_PIN_SUBDIR);
	err = mkdir_one(parent, true);
	if (err) {
		pr_warn("cannot create %s: %s\n", parent, strerror(-err));
		return err;
	}
	err = mkdir_one(p->pin_dir, false);
	if (err && err != -EEXIST)
		pr_warn("cannot create %s: %s\n", p->pin_dir, strerror(-err));
	return err;
}

bool xkv_pin_dir_exists(const struct xkv_paths *p)
{
	struct stat st;

	return !stat(p->pin_dir, &st) && S_ISDIR(st.st_mode);
}

static bool kept(const char *name, const char *const *keep)
{
	for (; keep && *keep; keep++) {
		if (!strcmp(name, *keep))
			return true;
	}
	return false;
}

int xkv_pin_dir_prune(const struct xkv_paths *p, const char *const *keep)
{
	char path[PATH_MAX];
	struct dirent *de;
	int err = 0;
	DIR *d;

	d = opendir(p->pin_dir);
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..") ||
		    kept(de->d_name, keep))
			continue;
		if (!path_fits(snprintf(path, sizeof(path), "%s/%s",
					p->pin_dir, de->d_name),
			       sizeof(path)))
			continue;
		if (unlink(path) && errno != ENOENT) {
			if (!err)
				err = -errno;
			pr_warn("cannot remove %s: %s\n", path,
				strerror(errno));
		} else {
			pr_debug("removed %s\n", path);
		}
	}
	closedir(d);
	return err;
}

int xkv_pin_dir_remove(const struct xkv_paths *p)
{
	char parent[PATH_MAX];
	int err;

	err = xkv_pin_dir_prune(p, NULL);
	if (rmdir(p->pin_dir) && errno != ENOENT) {
		if (!err)
			err = -errno;
		pr_warn("cannot remove %s: %s\n", p->pin_dir,
			strerror(errno));
	}
	snprintf(parent, sizeof(parent), "%s/%s", xkv_bpffs_root(),
		 XKV_PIN_SUBDIR);
	rmdir(parent);	/* only when empty: other interfaces keep it */
	return err;
}

int xkv_run_dir_ensure(void)
{
	const char *root = run_root();
	int err;

	err = mkdir_one(root, true);
	if (err)
		pr_warn("cannot create %s: %s\n", root, strerror(-err));
	return err;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int xkv_for_each_iface(xkv_iface_fn fn, void *data)
{
	char dir[PATH_MAX], *names[XKV_MAX_IFACES];
	int n = 0, i, ret = 0;
	struct dirent *de;
	DIR *d;

	snprintf(dir, sizeof(dir), "%s/%s", xkv_bpffs_root(), XKV_PIN_SUBDIR);
	d = opendir(dir);
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((de = readdir(d)) && n < XKV_MAX_IFACES) {
		if (de->d_name[0] == '.' || de->d_type != DT_DIR ||
		    strlen(de->d_name) >= IF_NAMESIZE)
			continue;
		names[n] = strdup(de->d_name);
		if (names[n])
			n++;
	}
	closedir(d);
	qsort(names, (size_t)n, sizeof(names[0]), name_cmp);
	for (i = 0; i < n; i++) {
		if (!ret)
			ret = fn(names[i], data);
		free(names[i]);
	}
	return ret ? ret : n;
}

static int remember(const char *ifname, void *data)
{
	char *buf = data;

	if (buf[0])
		return -EINVAL;
	snprintf(buf, IF_NAMESIZE, "%s", ifname);
	return 0;
}

int xkv_iface_arg(const char *arg, char *buf)
{
	int n;

	if (arg) {
		snprintf(buf, IF_NAMESIZE, "%s", arg);
		return 0;
	}
	buf[0] = '\0';
	n = xkv_for_each_iface(remember, buf);
	if (n == -EINVAL) {
		pr_warn("xkv is up on several interfaces: name one (see 'xkv status')\n");
		return -EINVAL;
	}
	if (!buf[0])
		snprintf(buf, IF_NAMESIZE, "lo");
	return 0;
}

int xkv_paths_up(struct xkv_paths *p, const char *ifname)
{
	int err;

	err = xkv_paths_init(p, ifname);
	if (err)
		return err;
	if (!xkv_pin_dir_exists(p)) {
		pr_warn("%s: xkv is not up here\n", ifname);
		return -ENOENT;
	}
	return 0;
}

int xkv_self_path(const char *name, char *buf)
{
	char self[PATH_MAX];
	ssize_t n;

	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n < 0)
		return -errno;
	self[n] = '\0';
	snprintf(buf, PATH_MAX, "%s/%s", dirname(self), name);
	return 0;
}
