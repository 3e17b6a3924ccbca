// SPDX-License-Identifier: GPL-2.0
/*
 * kmodule.c - load xkv.ko, hand it the hot cache, unload it.
 *
 * No kmod tools are needed: finit_module(2) and delete_module(2) do the
 * work, and the module's vermagic is read from its .modinfo section with
 * libelf (which libbpf needs anyway). When a load fails, the module's own
 * messages (a bad parameter, a port in use) are read back from /dev/kmsg.
 */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "clock.h"
#include "kmodule.h"
#include "log.h"
#include "probe.h"

#define XKV_KMOD_SYSFS "/sys/module/" XKV_KMOD_NAME
#define XKV_KMOD_MISC "/sys/class/misc/" XKV_DEV_NAME "/dev"
#define XKV_POLL_MS 50
/* how long udev or devtmpfs may take to show /dev/xkv */
#define XKV_DEV_WAIT_MS 1000
/* the module's log prefix (pr_fmt in kmod/linux/xkv_os_impl.h) */
#define XKV_KLOG_PREFIX XKV_KMOD_NAME ": "

/*
 * The module's parameters (kmod/linux/settings.c). The kernel only warns
 * about a name it does not know and loads the module anyway, so names
 * are checked here.
 */
static const char *const kmod_params[] = {
	"tcp_port", "udp_port", "listen", "memory_limit", "threads",
	"conn_limit", "max_item_size", "slab_growth_factor", "slab_min_size",
	"verbose", "debug_clock", "udp_allow", "udp_amp_ratio", "sasl_pwdb",
	"auth_file", "idle_timeout", "read_buf_mem_limit", "shutdown_command",
	"disable_dumping", "xdp_store_admit", NULL,
};

/**
 * struct flag_param - an xkvd flag with a value, and its module parameter.
 * @key:   short flag
 * @name:  long flag, without "--"
 * @param: the module parameter, NULL for a flag xkvd ignores too
 */
struct flag_param {
	int key;
	const char *name;
	const char *param;
};

static const struct flag_param flag_params[] = {
	{ 'p', "port", "tcp_port" },
	{ 'U', "udp-port", "udp_port" },
	{ 'l', "listen", "listen" },
	{ 'm', "memory-limit", "memory_limit" },
	{ 't', "threads", "threads" },
	{ 'c', "conn-limit", "conn_limit" },
	{ 'I', "max-item-size", "max_item_size" },
	{ 'f', "slab-growth-factor", "slab_growth_factor" },
	{ 'n', "slab-min-size", "slab_min_size" },
	{ 'u', "user", NULL },
	{ 0, "udp-allow", "udp_allow" },
	{ 0, "udp-amp-ratio", "udp_amp_ratio" },
	{ 'Y', "auth-file", "auth_file" },
	{ 0, NULL, NULL },
};

/* the first line of a small file, without its newline */
static int read_line(const char *path, char *buf, size_t len)
{
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -EIO;
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

int xkv_kmod_find(const char *cmd, char *buf)
{
	if (!cmd || !*cmd)
		cmd = getenv("XKV_MODULE");
	if (cmd && *cmd) {
		snprintf(buf, PATH_MAX, "%s", cmd);
		return 0;
	}
	return xkv_self_path(XKV_KMOD_FILE, buf);
}

/* "vermagic=6.1.0-56-amd64 SMP preempt ..." in .modinfo: the release */
static int modinfo_vermagic(const char *info, size_t size, char *buf,
			    size_t len)
{
	static const char key[] = "vermagic=";
	const char *p = info, *end = info + size, *v;
	size_t n;

	while (p < end) {
		n = strnlen(p, (size_t)(end - p));
		if (n > sizeof(key) - 1 && !strncmp(p, key, sizeof(key) - 1)) {
			v = p + sizeof(key) - 1;
			n = strcspn(v, " ");
			if (!n || n >= len || v + n > end)
				return -ENOEXEC;
			memcpy(buf, v, n);
			buf[n] = '\0';
			return 0;
		}
		p += n + 1;
	}
	return -ENOEXEC;
}

/* the kernel release a module file was built for */
static int module_release(const char *path, char *buf, size_t len)
{
	Elf_Scn *scn = NULL;
	size_t shstrndx;
	GElf_Shdr sh;
	Elf_Data *d;
	const char *name;
	int fd, err = -ENOEXEC;
	Elf *e;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (elf_version(EV_CURRENT) == EV_NONE)
		goto close_fd;
	e = elf_begin(fd, ELF_C_READ, NULL);
	if (!e)
		goto close_fd;
	if (elf_kind(e) != ELF_K_ELF || elf_getshdrstrndx(e, &shstrndx))
		goto end_elf;
	while ((scn = elf_nextscn(e, scn))) {
		if (!gelf_getshdr(scn, &sh))
			break;
		name = elf_strptr(e, shstrndx, sh.sh_name);
		if (!name || strcmp(name, ".modinfo"))
			continue;
		d = elf_getdata(scn, NULL);
		if (d && d->d_buf)
			err = modinfo_vermagic(d->d_buf, d->d_size, buf, len);
		break;
	}
end_elf:
	elf_end(e);
close_fd:
	close(fd);
	return err;
}

bool xkv_kmod_loaded(void)
{
	return !access(XKV_KMOD_SYSFS, F_OK);
}

int xkv_kmod_check(const char *path, char *why)
{
	char release[128], flag[16];
	struct utsname u;
	int err;

	if (access("/proc/modules", F_OK)) {
		snprintf(why, XKV_KMOD_WHY_MAX,
			 "this kernel has no loadable module support");
		return -ENOSYS;
	}
	if (!read_line("/proc/sys/kernel/modules_disabled", flag,
		       sizeof(flag)) &&
	    !strcmp(flag, "1")) {
		snprintf(why, XKV_KMOD_WHY_MAX,
			 "this kernel loads no more modules (kernel.modules_disabled = 1)");
		return -EPERM;
	}
	if (xkv_kmod_loaded()) {
		snprintf(why, XKV_KMOD_WHY_MAX,
			 "xkv.ko is loaded already ('xkv status' shows where it serves; 'rmmod xkv' removes it)");
		return -EEXIST;
	}
	err = module_release(path, release, sizeof(release));
	if (err == -ENOENT) {
		snprintf(why, XKV_KMOD_WHY_MAX,
			 "there is no %s ('make kmod' builds it; --module names another)",
			 path);
		return err;
	}
	if (err) {
		snprintf(why, XKV_KMOD_WHY_MAX,
			 "%s is not a kernel module (%s)", path,
			 err == -ENOEXEC ? "no vermagic" : strerror(-err));
		return err;
	}
	if (uname(&u)) {
		err = -errno;
		snprintf(why, XKV_KMOD_WHY_MAX, "uname: %s", strerror(errno));
		return err;
	}
	if (strcmp(release, u.release)) {
		snprintf(why, XKV_KMOD_WHY_MAX,
			 "%s is built for kernel %s, this one is %s", path,
			 release, u.release);
		return -ENOEXEC;
	}
	return 0;
}

static bool param_known(const char *nv)
{
	size_t n = strcspn(nv, "=");
	int i;

	for (i = 0; kmod_params[i]; i++) {
		if (strlen(kmod_params[i]) == n &&
		    !strncmp(kmod_params[i], nv, n))
			return true;
	}
	return false;
}

/* a value the kernel's parameter parser takes as it is */
static bool value_ok(const char *v)
{
	return *v && !strpbrk(v, " \t\n\"'");
}

/* append "name=value" (@value NULL: @name is "name=value" already) */
static int add_param(char *buf, size_t *len, const char *name,
		     const char *value, char *why)
{
	int n;

	n = snprintf(buf + *len, XKV_KMOD_PARAMS_MAX - *len, "%s%s%s%s",
		     *len ? " " : "", name, value ? "=" : "",
		     value ? value : "");
	if (n < 0 || (size_t)n >= XKV_KMOD_PARAMS_MAX - *len) {
		snprintf(why, XKV_KMOD_WHY_MAX, "too many module parameters");
		return -E2BIG;
	}
	*len += (size_t)n;
	return 0;
}

/*
 * -S (with MEMCACHED_SASL_PWDB, as xkvd and memcached) or -Y FILE: the
 * file's absolute path, which the module opens itself (at load, and at
 * each write of auth_reload, from another directory)
 */
static int add_pwdb(char *buf, size_t *len, const char *flag,
		    const char *param, const char *file, char *why)
{
	char path[PATH_MAX];

	if (!file || !*file) {
		snprintf(why, XKV_KMOD_WHY_MAX,
			 "backend argument '%s' needs MEMCACHED_SASL_PWDB=FILE in the environment, a file of user:password lines",
			 flag);
		return -EINVAL;
	}
	if (!realpath(file, path)) {
		snprintf(why, XKV_KMOD_WHY_MAX, "backend argument '%s': %s: %s",
			 flag, file, strerror(errno));
		return -EINVAL;
	}
	if (!value_ok(path)) {
		snprintf(why, XKV_KMOD_WHY_MAX,
			 "backend argument '%s': xkv.ko's %s takes no path with spaces or quotes",
			 flag, param);
		return -EINVAL;
	}
	return add_param(buf, len, param, path, why);
}

static const struct flag_param *flag_long(const char *name, size_t n)
{
	const struct flag_param *f;

	for (f = flag_params; f->name; f++) {
		if (strlen(f->name) == n && !strncmp(f->name, name, n))
			return f;
	}
	return NULL;
}

static const struct flag_param *flag_short(int key)
{
	const struct flag_param *f;

	for (f = flag_params; f->name; f++) {
		if (f->key == key)
			return f;
	}
	return NULL;
}

/* one backend argument (and maybe its value, the next one) */
static int add_arg(char **argv, int argc, int *i, char *buf, size_t *len,
		   unsigned int *verbose, char *why)
{
	const char *a = argv[*i], *val = NULL, *eq;
	const struct flag_param *f;

	if (a[0] != '-') {
		if (!strchr(a, '=') || !param_known(a) ||
		    !value_ok(strchr(a, '=') + 1)) {
			snprintf(why, XKV_KMOD_WHY_MAX,
				 "backend argument '%s' is not a parameter of xkv.ko",
				 a);
			return -EINVAL;
		}
		return add_param(buf, len, a, NULL, why);
	}
	if (!strcmp(a, "--debug-clock"))
		return add_param(buf, len, "debug_clock", "1", why);
	if (!strcmp(a, "-A") || !strcmp(a, "--enable-shutdown"))
		return add_param(buf, len, "shutdown_command", "1", why);
	if (!strcmp(a, "-X") || !strcmp(a, "--disable-dumping"))
		return add_param(buf, len, "disable_dumping", "1", why);
	if (!strcmp(a, "-S") || !strcmp(a, "--enable-sasl"))
		return add_pwdb(buf, len, a, "sasl_pwdb",
				getenv("MEMCACHED_SASL_PWDB"), why);
	if (!strcmp(a, "--verbose")) {
		(*verbose)++;
		return 0;
	}
	if (a[1] == 'v' && strspn(a + 1, "v") == strlen(a + 1)) {
		*verbose += (unsigned int)strlen(a + 1);
		return 0;
	}
	if (a[1] == '-') {
		eq = strchr(a + 2, '=');
		f = flag_long(a + 2, eq ? (size_t)(eq - a - 2) : strlen(a + 2));
		val = eq ? eq + 1 : NULL;
	} else {
		f = a[1] ? flag_short(a[1]) : NULL;
		val = f && a[2] ? a + 2 : NULL;
	}
	if (!f) {
		snprintf(why, XKV_KMOD_WHY_MAX,
			 "backend argument '%s' has no xkv.ko parameter", a);
		return -EINVAL;
	}
	if (!val) {
		if (*i + 1 >= argc) {
			snprintf(why, XKV_KMOD_WHY_MAX,
				 "backend argument '%s' needs a value", a);
			return -EINVAL;
		}
		val = argv[++*i];
	}
	if (!f->param)
		return 0;
	if (f->key == 'Y')
		return add_pwdb(buf, len, a, f->param, val, why);
	if (!value_ok(val)) {
		snprintf(why, XKV_KMOD_WHY_MAX,
			 "'%s' is not a value for xkv.ko's %s", val, f->param);
		return -EINVAL;
	}
	return add_param(buf, len, f->param, val, why);
}

int xkv_kmod_params(const struct xkv_serve_opts *o, char *buf, char *why)
{
	unsigned int verbose = 0;
	char num[16];
	size_t len = 0;
	int err = 0, i;

	buf[0] = '\0';
	snprintf(num, sizeof(num), "%u", o->port);
	err = add_param(buf, &len, "tcp_port", num, why);
	/* memcached refuses UDP with -S or -Y, and so does the module */
	err = err ?: add_param(buf, &len, "udp_port", o->auth ? "0" : num,
			       why);
	if (o->udp_allow && !err)
		err = add_param(buf, &len, "udp_allow", o->udp_allow, why);
	snprintf(num, sizeof(num), "%u", o->amp_ratio);
	err = err ?: add_param(buf, &len, "udp_amp_ratio", num, why);
	if (o->listen && !err) {
		if (!value_ok(o->listen)) {
			snprintf(why, XKV_KMOD_WHY_MAX,
				 "'%s' is not a listen address", o->listen);
			return -EINVAL;
		}
		err = add_param(buf, &len, "listen", o->listen, why);
	}
	if (o->memory && !err) {
		snprintf(num, sizeof(num), "%u", o->memory);
		err = add_param(buf, &len, "memory_limit", num, why);
	}
	if (o->threads && !err) {
		snprintf(num, sizeof(num), "%u", o->threads);
		err = add_param(buf, &len, "threads", num, why);
	}
	if (o->conns && !err) {
		snprintf(num, sizeof(num), "%u", o->conns);
		err = add_param(buf, &len, "conn_limit", num, why);
	}
	/* later parameters win, as later flags do for xkvd */
	for (i = 0; i < o->extra_argc && !err; i++)
		err = add_arg(o->extra_argv, o->extra_argc, &i, buf, &len,
			      &verbose, why);
	if (verbose && !err) {
		snprintf(num, sizeof(num), "%u", verbose > 2 ? 2 : verbose);
		err = add_param(buf, &len, "verbose", num, why);
	}
	return err;
}

/* a /dev/kmsg reader placed at the end of the log, or -1 */
static int klog_open(void)
{
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);

	if (fd >= 0 && lseek(fd, 0, SEEK_END) < 0) {
		close(fd);
		fd = -1;
	}
	return fd;
}

/* print the module's messages logged since klog_open() */
static void klog_print(int fd)
{
	char rec[1024], *msg;
	ssize_t n;

	if (fd < 0)
		return;
	for (;;) {
		n = read(fd, rec, sizeof(rec) - 1);
		if (n < 0 && errno == EPIPE)
			continue;	/* overwritten records: go on */
		if (n <= 0)
			break;
		rec[n] = '\0';
		/* "PRI,SEQ,TS,FLAGS;message\n" and continuation lines */
		msg = strchr(rec, ';');
		if (!msg)
			continue;
		msg++;
		msg[strcspn(msg, "\n")] = '\0';
		/* the module's own words, not the loader's taint notices */
		if (!strncmp(msg, XKV_KLOG_PREFIX, strlen(XKV_KLOG_PREFIX)) &&
		    !strstr(msg, "taint"))
			pr_warn("kernel: %s\n", msg);
	}
}

int xkv_kmod_load(const char *path, const char *params)
{
	int fd, klog, err = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		pr_warn("cannot open %s: %s\n", path, strerror(errno));
		return err;
	}
	pr_debug("finit_module(%s, \"%s\")\n", path, params);
	klog = klog_open();
	if (syscall(__NR_finit_module, fd, params, 0)) {
		err = -errno;
		pr_warn("cannot load %s: %s\n", path, strerror(errno));
		klog_print(klog);
	}
	if (klog >= 0)
		close(klog);
	close(fd);
	return err;
}

/* the device numbers the module's misc device has, from sysfs */
static int dev_number(dev_t *dev)
{
	unsigned int maj, min;
	char buf[32];
	int err;

	err = read_line(XKV_KMOD_MISC, buf, sizeof(buf));
	if (err)
		return err;
	if (sscanf(buf, "%u:%u", &maj, &min) != 2)
		return -EINVAL;
	*dev = makedev(maj, min);
	return 0;
}

/* open a private node for @dev, for systems without devtmpfs or udev */
static int open_private_node(dev_t dev)
{
	char dir[] = "/tmp/xkv-dev.XXXXXX", node[64];
	int fd, err;

	if (!mkdtemp(dir))
		return -errno;
	snprintf(node, sizeof(node), "%s/%s", dir, XKV_DEV_NAME);
	if (mknod(node, S_IFCHR | 0600, dev)) {
		err = -errno;
		rmdir(dir);
		return err;
	}
	fd = open(node, O_RDWR | O_CLOEXEC);
	err = fd < 0 ? -errno : fd;
	unlink(node);
	rmdir(dir);
	return err;
}

/*
 * Open the module's control device: /dev/xkv when it is the module's
 * (a node left from an earlier load may name another device now).
 */
static int open_dev(unsigned int wait_ms)
{
	unsigned long long deadline = xkv_now_ms() + wait_ms;
	struct stat st;
	dev_t dev = 0;
	int fd, err;

	for (;;) {
		err = dev_number(&dev);
		if (!err) {
			fd = open(XKV_DEV_PATH, O_RDWR | O_CLOEXEC);
			if (fd >= 0 && !fstat(fd, &st) &&
			    S_ISCHR(st.st_mode) && st.st_rdev == dev)
				return fd;
			if (fd >= 0)
				close(fd);
		}
		if (xkv_now_ms() >= deadline)
			break;
		xkv_sleep_ms(XKV_POLL_MS);
	}
	if (err)
		return err == -ENOENT ? -ENODEV : err;
	return open_private_node(dev);
}

/* one read-only ioctl on /dev/xkv into a zeroed @buf of @len bytes */
static int kmod_query(unsigned long cmd, void *buf, size_t len)
{
	int fd, err = 0;

	if (!xkv_kmod_loaded())
		return -ENOENT;
	fd = open_dev(0);
	if (fd < 0)
		return fd;
	memset(buf, 0, len);
	if (ioctl(fd, cmd, buf))
		err = -errno;
	close(fd);
	return err;
}

int xkv_kmod_info(struct xkv_ioc_info *info)
{
	return kmod_query(XKV_IOC_INFO, info, sizeof(*info));
}

int xkv_kmod_store_info(struct xkv_ioc_store *info)
{
	return kmod_query(XKV_IOC_STORE_INFO, info, sizeof(*info));
}

/* the id of the interface's pinned hot cache, 0 if there is none */
static __u32 pinned_hot_id(const struct xkv_paths *p)
{
	struct bpf_map_info mi;
	__u32 len = sizeof(mi);
	char path[PATH_MAX];
	int fd;

	fd = bpf_obj_get(xkv_pin_path(p, XKV_PIN_HOT, path));
	if (fd < 0)
		return 0;
	memset(&mi, 0, sizeof(mi));
	if (bpf_obj_get_info_by_fd(fd, &mi, &len))
		mi.id = 0;
	close(fd);
	return mi.id;
}

bool xkv_kmod_serves(const struct xkv_paths *p, struct xkv_ioc_info *info)
{
	struct xkv_ioc_info mine;
	__u32 id;

	if (!info)
		info = &mine;
	memset(info, 0, sizeof(*info));
	if (xkv_kmod_info(info) || !info->hot_map_id)
		return false;
	id = pinned_hot_id(p);
	return id && id == info->hot_map_id;
}

/* until the module answers "version" over TCP, or the time is up */
static int wait_ready(const struct xkv_serve_opts *o,
		      const struct xkv_paths *p)
{
	unsigned long long deadline = xkv_now_ms() + o->wait_s * 1000ULL;
	int err;

	for (;;) {
		err = xkv_probe_ready(o->listen, p->ifname, o->port, o->auth);
		if (!err)
			return 0;
		if (!xkv_kmod_loaded()) {
			pr_warn("xkv.ko was unloaded while starting\n");
			return -ENODEV;
		}
		if (xkv_now_ms() >= deadline)
			break;
		xkv_sleep_ms(XKV_POLL_MS);
	}
	pr_warn("xkv.ko did not answer on port %u within %u s (%s)\n",
		o->port, o->wait_s, strerror(-err));
	return -ETIMEDOUT;
}

/**
 * struct map_handoff - one more map xkv_kmod_attach() hands the module.
 * @pin:      its pin's name (XKV_PIN_*)
 * @cmd:      the ioctl that hands it over (argument struct xkv_ioc_map)
 * @what:     what it is, for the messages
 * @passed:   which requests XDP passes to the module without it
 * @taken:    what the module does with it, for the message
 * @optional: an object may have no such pin: its absence is no warning
 */
struct map_handoff {
	const char *pin;
	unsigned long cmd;
	const char *what;
	const char *passed;
	const char *taken;
	bool optional;
};

/*
 * The backend's lease: the module renews it while it runs. Without it
 * (an older module) XDP serves nothing.
 */
static const struct map_handoff handoff_live = {
	.pin = XKV_PIN_LIVE,
	.cmd = XKV_IOC_LIVE_ATTACH,
	.what = "lease",
	.passed = "every request",
	.taken = "renews the lease",
};

/*
 * The TCP fast path's table: the connections the module accepts then
 * register there. Without the pin (an XDP object without a TCP fast
 * path) or with an older module, XDP answers no TCP GET.
 */
static const struct map_handoff handoff_tcp = {
	.pin = XKV_PIN_TCP_ANS,
	.cmd = XKV_IOC_TCP_ATTACH,
	.what = "TCP fast path table",
	.passed = "every TCP request",
	.taken = "registers its TCP connections",
	.optional = true,
};

/*
 * Hand the module the map @h says, after the hot cache. Without it XDP
 * passes more to the module, which is safe: say so.
 */
static void attach_map(int dev, const struct xkv_paths *p,
		       const struct map_handoff *h)
{
	struct xkv_ioc_map arg;
	char path[PATH_MAX];
	int fd;

	xkv_pin_path(p, h->pin, path);
	fd = bpf_obj_get(path);
	if (fd < 0) {
		if (h->optional)
			pr_debug("%s: no %s %s (%s)\n", p->ifname, h->what,
				 path, strerror(errno));
		else
			pr_warn("cannot open %s: %s\n", path, strerror(errno));
		return;
	}
	memset(&arg, 0, sizeof(arg));
	arg.map_fd = fd;
	if (ioctl(dev, h->cmd, &arg))
		pr_warn("%s: xkv.ko did not take the %s %s (%s): XDP will pass %s to it\n",
			p->ifname, h->what, path, strerror(errno), h->passed);
	else
		pr_debug("%s: xkv.ko %s (map id %u)\n", p->ifname, h->taken,
			 arg.map_id);
	close(fd);
}

int xkv_kmod_attach(const struct xkv_serve_opts *o,
		    const struct xkv_paths *p)
{
	struct xkv_ioc_hot arg;
	char path[PATH_MAX];
	int map_fd, dev, err;

	xkv_pin_path(p, XKV_PIN_HOT, path);
	map_fd = bpf_obj_get(path);
	if (map_fd < 0) {
		err = -errno;
		pr_warn("cannot open %s: %s\n", path, strerror(errno));
		return err;
	}
	dev = open_dev(XKV_DEV_WAIT_MS);
	if (dev < 0) {
		err = dev;
		pr_warn("cannot open %s: %s\n", XKV_DEV_PATH, strerror(-err));
		goto close_map;
	}
	memset(&arg, 0, sizeof(arg));
	arg.map_fd = map_fd;
	if (ioctl(dev, XKV_IOC_HOT_ATTACH, &arg)) {
		err = -errno;
		pr_warn("%s: xkv.ko refused the hot cache %s: %s\n", p->ifname,
			path, strerror(errno));
		goto close_dev;
	}
	pr_info("%s: xkv.ko owns the hot cache (map id %u, %u slots)\n",
		p->ifname, arg.map_id, arg.nslots);
	attach_map(dev, p, &handoff_live);
	attach_map(dev, p, &handoff_tcp);
	err = wait_ready(o, p);

close_dev:
	close(dev);
close_map:
	close(map_fd);
	return err;
}

int xkv_kmod_stop(unsigned int timeout_s)
{
	unsigned long long deadline = xkv_now_ms() + timeout_s * 1000ULL;
	int fd, err;

	if (!xkv_kmod_loaded())
		return 0;
	/* empty the slots first, so XDP stops serving even if rmmod fails */
	fd = open_dev(0);
	if (fd >= 0) {
		if (ioctl(fd, XKV_IOC_HOT_DETACH) && errno != ENOENT)
			pr_warn("cannot detach xkv.ko's hot cache: %s\n",
				strerror(errno));
		/* ENOTTY: a module without the TCP fast path */
		if (ioctl(fd, XKV_IOC_TCP_DETACH) && errno != ENOENT &&
		    errno != ENOTTY)
			pr_warn("cannot detach xkv.ko's TCP fast path table: %s\n",
				strerror(errno));
		close(fd);
	}
	for (;;) {
		if (!syscall(__NR_delete_module, XKV_KMOD_NAME, O_NONBLOCK))
			break;
		err = -errno;
		if (err == -ENOENT)
			break;
		if (err != -EWOULDBLOCK && err != -EAGAIN && err != -EBUSY) {
			pr_warn("cannot unload xkv.ko: %s\n", strerror(-err));
			return err;
		}
		if (xkv_now_ms() >= deadline) {
			pr_warn("cannot unload xkv.ko: still in use after %u s\n",
				timeout_s);
			return err;
		}
		xkv_sleep_ms(XKV_POLL_MS * 2);
	}
	pr_info("unloaded xkv.ko\n");
	return 0;
}
