// SPDX-License-Identifier: GPL-2.0
/*
 * settings.c - xkv.ko's module parameters, made the store's settings.
 *
 * The parameters are xkvd's flags (kmod/user/settings.c), with the same
 * ranges and defaults:
 *
 *   tcp_port=N            -p   TCP port (default 11211, 0 = off)
 *   udp_port=N            -U   UDP port (default 0: off, as memcached 1.6)
 *   udp_allow=LIST  --udp-allow  UDP sources answered: PREFIX[,PREFIX...],
 *                              any or none (default: the subnets of the
 *                              host's interfaces at load, loopback too)
 *   udp_amp_ratio=N --udp-amp-ratio  UDP replies at most N x the request's
 *                              bytes, 0 = no budget (default 64)
 *   listen=ADDR           -l   IPv4 or IPv6 literal (default: any)
 *   memory_limit=MB       -m   item memory in megabytes (default 64)
 *   threads=N             -t   worker kthreads (default: one per CPU)
 *   conn_limit=N          -c   most simultaneous connections (1024)
 *   max_item_size=SIZE    -I   largest item, k/m suffix taken (1m)
 *   slab_growth_factor=F  -f   slab class growth factor (1.25)
 *   slab_min_size=N       -n   smallest chunk for key+value+flags (48)
 *   verbose=N             -v   0, 1 (startup) or 2 (connections);
 *                              writable at run time
 *   idle_timeout=S  -o idle_timeout  close a TCP connection silent for S
 *                              seconds (default 0: never)
 *   read_buf_mem_limit=MB  -o read_buf_mem_limit  what all TCP
 *                              connections' buffers may take together
 *                              (default -1: 64, or 8 x max_item_size if
 *                              more; 0 = no limit)
 *   debug_clock=1   --debug-clock  accept "debugtime <delta>" (tests only)
 *   sasl_pwdb=PATH  -S with MEMCACHED_SASL_PWDB=PATH  binary protocol
 *                              only, SASL PLAIN first, users from PATH
 *   auth_file=PATH  -Y PATH    ASCII protocol only, "set auth" token first
 *   auth_reload=1   (SIGHUP)   write only, at run time: read the file of
 *                              sasl_pwdb= or auth_file= again
 *
 * The password file is read by the kernel at load (and at each write of
 * auth_reload), whole, at most 1 MiB: it must be a regular file owned by
 * root that no other user may read or write (chmod 600), so the
 * credentials the module holds are no local user's to read or change.
 * The module keeps a copy; reading a parameter shows the path only.
 *
 * A bad value or combination fails the load with -EINVAL and a message
 * naming the parameter: the core's xkv_settings_check(), which xkvd's
 * options use too. A password file that cannot be used fails the load,
 * or the write of auth_reload (the old credentials stay), and says why.
 */
#include "xkvm.h"

#include <linux/cpumask.h>
#include <linux/cred.h>
#include <linux/err.h>
#include <linux/fs.h>
#include <linux/kernel_read_file.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/string.h>
#include <linux/vmalloc.h>

#include "util.h"

/* the longest path sasl_pwdb= and auth_file= take */
#define XKVM_PWDB_PATH_MAX 1024

/* the verbose= parameter, read by the core's os_log() */
int xkv_os_verbose;

static unsigned int tcp_port = XKV_DEFAULT_PORT;
module_param(tcp_port, uint, 0444);
MODULE_PARM_DESC(tcp_port, "TCP port (default 11211, 0 = off)");

static int udp_port;
module_param(udp_port, int, 0444);
MODULE_PARM_DESC(udp_port, "UDP port (default 0: off)");

static char udp_allow[4096];
module_param_string(udp_allow, udp_allow, sizeof(udp_allow), 0444);
MODULE_PARM_DESC(udp_allow,
		 "UDP sources answered: PREFIX[,PREFIX...], any or none (default: the subnets of the host's interfaces)");

static unsigned int udp_amp_ratio = XKV_UDP_AMP_DEFAULT;
module_param(udp_amp_ratio, uint, 0444);
MODULE_PARM_DESC(udp_amp_ratio,
		 "UDP replies at most N x the request's bytes, 0 = no budget (default 64)");

static char listen_addr[XKV_LISTEN_MAX];
module_param_string(listen, listen_addr, sizeof(listen_addr), 0444);
MODULE_PARM_DESC(listen, "IPv4 or IPv6 address to listen on (default: any)");

static unsigned int memory_limit = 64;
module_param(memory_limit, uint, 0444);
MODULE_PARM_DESC(memory_limit, "item memory in megabytes (default 64)");

static unsigned int threads;
module_param(threads, uint, 0444);
MODULE_PARM_DESC(threads, "worker kthreads (default 0: one per CPU)");

static unsigned int conn_limit = 1024;
module_param(conn_limit, uint, 0444);
MODULE_PARM_DESC(conn_limit, "most simultaneous connections (default 1024)");

static int xkvm_param_set_size(const char *val, const struct kernel_param *kp)
{
	unsigned long long v;
	char *end;

	v = memparse(val, &end);
	if (end == val || (*end && *end != '\n'))
		return -EINVAL;
	if (v < XKV_ITEM_SIZE_MIN || v > XKV_ITEM_SIZE_MAX)
		return -EINVAL;
	*(unsigned int *)kp->arg = (unsigned int)v;
	return 0;
}

static const struct kernel_param_ops xkvm_param_size_ops = {
	.set = xkvm_param_set_size,
	.get = param_get_uint,
};

static unsigned int max_item_size = 1024 * 1024;
module_param_cb(max_item_size, &xkvm_param_size_ops, &max_item_size, 0444);
MODULE_PARM_DESC(max_item_size,
		 "largest item, bytes or k/m suffix, 1k..1024m (default 1m)");

/*
 * A decimal factor such as "1.25", kept as a whole number of hundredths,
 * as xkvd's -f: the third decimal rounds, further digits are ignored.
 */
static int xkvm_param_set_factor(const char *val, const struct kernel_param *kp)
{
	u64 whole = 0, milli = 0;
	int digits = 0;
	const char *p = val;

	if (*p < '0' || *p > '9')
		return -EINVAL;
	for (; *p >= '0' && *p <= '9'; p++) {
		whole = whole * 10 + (*p - '0');
		if (whole > XKV_GROWTH_X100_MAX / 100)
			return -EINVAL;
	}
	if (*p == '.') {
		for (p++; *p >= '0' && *p <= '9'; p++, digits++) {
			if (digits < 3)
				milli = milli * 10 + (*p - '0');
		}
		if (!digits)
			return -EINVAL;
		for (; digits < 3; digits++)
			milli *= 10;
	}
	if (*p && *p != '\n')
		return -EINVAL;
	whole = whole * 100 + (milli + 5) / 10;
	if (whole <= 100 || whole > XKV_GROWTH_X100_MAX)
		return -EINVAL;
	*(unsigned int *)kp->arg = (unsigned int)whole;
	return 0;
}

static int xkvm_param_get_factor(char *buf, const struct kernel_param *kp)
{
	unsigned int v = *(unsigned int *)kp->arg;

	return sysfs_emit(buf, "%u.%02u\n", v / 100, v % 100);
}

static const struct kernel_param_ops xkvm_param_factor_ops = {
	.set = xkvm_param_set_factor,
	.get = xkvm_param_get_factor,
};

static unsigned int slab_growth_x100 = 125;
module_param_cb(slab_growth_factor, &xkvm_param_factor_ops, &slab_growth_x100,
		0444);
MODULE_PARM_DESC(slab_growth_factor,
		 "slab class growth factor, up to two decimals (default 1.25)");

static unsigned int slab_min_size = 48;
module_param(slab_min_size, uint, 0444);
MODULE_PARM_DESC(slab_min_size,
		 "smallest chunk for key+value+flags (default 48)");

module_param_named(verbose, xkv_os_verbose, int, 0644);
MODULE_PARM_DESC(verbose, "log startup (1) and connections (2)");

static unsigned int idle_timeout;
module_param(idle_timeout, uint, 0444);
MODULE_PARM_DESC(idle_timeout,
		 "close a TCP connection silent this many seconds (default 0: never)");

static int read_buf_mem_limit = -1;
module_param(read_buf_mem_limit, int, 0444);
MODULE_PARM_DESC(read_buf_mem_limit,
		 "megabytes all TCP connections' buffers may take (default -1: 64, or 8 x max_item_size; 0 = no limit)");

static bool debug_clock;
module_param(debug_clock, bool, 0444);
MODULE_PARM_DESC(debug_clock, "accept \"debugtime <delta>\" (tests only)");

static bool shutdown_command;
module_param(shutdown_command, bool, 0444);
MODULE_PARM_DESC(shutdown_command,
		 "accept \"shutdown\": the module stops accepting TCP connections and closes the asking one (xkvd -A; default off)");

static bool disable_dumping;
module_param(disable_dumping, bool, 0444);
MODULE_PARM_DESC(disable_dumping,
		 "refuse \"lru_crawler metadump\" (xkvd -X; default off)");

static char sasl_pwdb[XKVM_PWDB_PATH_MAX];
module_param_string(sasl_pwdb, sasl_pwdb, sizeof(sasl_pwdb), 0444);
MODULE_PARM_DESC(sasl_pwdb,
		 "xkvd -S with MEMCACHED_SASL_PWDB=PATH: binary protocol only, SASL PLAIN first, users from PATH (user:password lines; root's, mode 600)");

static char auth_file[XKVM_PWDB_PATH_MAX];
module_param_string(auth_file, auth_file, sizeof(auth_file), 0444);
MODULE_PARM_DESC(auth_file,
		 "xkvd -Y PATH: ASCII protocol only, a \"set auth\" token of a user:password line of PATH first (root's, mode 600)");

/* a password file's contents from xkvm_read_pwdb(), wiped; NULL is fine */
static void xkvm_free_pwdb(char *buf)
{
	if (!buf)
		return;
	memzero_explicit(buf, strlen(buf));
	vfree(buf);
}

/*
 * Why a password file is not fit to hold credentials, or NULL: anyone but
 * root who may read or change it could learn or forge them.
 */
static const char *xkvm_pwdb_unsafe(const struct inode *ino)
{
	bool root_group = gid_eq(ino->i_gid, GLOBAL_ROOT_GID);

	if (!S_ISREG(ino->i_mode))
		return "not a regular file";
	if (!uid_eq(ino->i_uid, GLOBAL_ROOT_UID))
		return "not owned by root: its owner could change the credentials";
	if ((ino->i_mode & S_IWOTH) || ((ino->i_mode & S_IWGRP) && !root_group))
		return "writable by users other than root: chmod 600 it";
	if ((ino->i_mode & S_IROTH) || ((ino->i_mode & S_IRGRP) && !root_group))
		return "readable by users other than root: chmod 600 it";
	return NULL;
}

/**
 * xkvm_read_pwdb() - read a password file, as the kernel, for a parameter.
 * @param:  the parameter that names it, for messages
 * @path:   the file
 * @strict: every line must hold a ':' (auth_file=, as xkvd -Y)
 *
 * Whole, at most XKV_PWDB_MAX bytes, from a file xkvm_pwdb_unsafe()
 * accepts, checked with xkv_pwdb_check(); every refusal is logged with
 * @param and @path.
 *
 * Return: the contents, NUL-terminated (xkvm_free_pwdb() them), or an
 * ERR_PTR: -ENOENT and the like from the open, -EPERM for an unsafe
 * file, -EFBIG, -EINVAL for a malformed one, -ENOMEM.
 */
static char *xkvm_read_pwdb(const char *param, const char *path, bool strict)
{
	const char *why;
	struct file *f;
	void *buf;
	ssize_t n;
	int err;

	f = filp_open(path, O_RDONLY, 0);
	if (IS_ERR(f)) {
		pr_err("%s=%s: cannot open it (error %ld)\n", param, path,
		       PTR_ERR(f));
		return ERR_CAST(f);
	}
	why = xkvm_pwdb_unsafe(file_inode(f));
	if (why) {
		pr_err("%s=%s: %s (owner %u, mode %04o)\n", param, path, why,
		       from_kuid(&init_user_ns, file_inode(f)->i_uid),
		       file_inode(f)->i_mode & 07777);
		err = -EPERM;
		goto put_file;
	}
	/* zeroed and one byte over: the contents come out NUL-terminated */
	buf = vzalloc(XKV_PWDB_MAX + 1);
	if (!buf) {
		err = -ENOMEM;
		goto put_file;
	}
	n = i_size_read(file_inode(f)) ? kernel_read_file(f, 0, &buf,
			XKV_PWDB_MAX, NULL, READING_UNKNOWN) : 0;
	fput(f);
	if (n < 0) {
		pr_err("%s=%s: %s (error %zd)\n", param, path,
		       n == -EFBIG ? "larger than 1 MiB" :
		       n == -ETXTBSY ? "open for writing: try again" :
		       "cannot read it", n);
		vfree(buf);
		return ERR_PTR(n);
	}
	why = xkv_pwdb_check(buf, (size_t)n, strict);
	if (why) {
		pr_err("%s=%s %s\n", param, path, why);
		xkvm_free_pwdb(buf);
		return ERR_PTR(-EINVAL);
	}
	return buf;

put_file:
	fput(f);
	return ERR_PTR(err);
}

/* the name and path of the password file the module was loaded with */
static bool xkvm_pwdb_param(const char **param, const char **path)
{
	*param = sasl_pwdb[0] ? "sasl_pwdb" : "auth_file";
	*path = sasl_pwdb[0] ? sasl_pwdb : auth_file;
	return **path;
}

/* the store the module serves, while it serves; under kernel_param_lock */
static struct xkv_store *xkvm_auth_store;

/**
 * xkvm_params_serving() - let auth_reload reach a server, or stop it.
 * @srv: the server, serving; NULL when it stops (before it is freed)
 */
void xkvm_params_serving(struct xkvm_server *srv)
{
	kernel_param_lock(THIS_MODULE);
	xkvm_auth_store = srv ? srv->st : NULL;
	kernel_param_unlock(THIS_MODULE);
}

/* auth_reload=: as memcached's SIGHUP; sysfs holds kernel_param_lock */
static int xkvm_param_reload(const char *val, const struct kernel_param *kp)
{
	const char *param, *path;
	char *buf;
	int err;

	if (!xkvm_auth_store) {
		pr_err("auth_reload: only at run time, written to /sys/module/xkv/parameters/auth_reload\n");
		return -EINVAL;
	}
	if (!xkvm_pwdb_param(&param, &path)) {
		pr_err("auth_reload: loaded without sasl_pwdb= or auth_file=: nothing to read again\n");
		return -EINVAL;
	}
	buf = xkvm_read_pwdb(param, path, !sasl_pwdb[0]);
	if (IS_ERR(buf)) {
		pr_err("auth_reload: the credentials read before stay\n");
		return PTR_ERR(buf);
	}
	err = xkv_store_set_pwdb(xkvm_auth_store, buf, strlen(buf));
	xkvm_free_pwdb(buf);
	if (!err)
		pr_info("auth_reload: read %s=%s again\n", param, path);
	return err;
}

static const struct kernel_param_ops xkvm_param_reload_ops = {
	.set = xkvm_param_reload,
};

module_param_cb(auth_reload, &xkvm_param_reload_ops, NULL, 0200);
MODULE_PARM_DESC(auth_reload,
		 "write 1 (root, at run time) to read the sasl_pwdb= or auth_file= file again, as memcached -Y does on SIGHUP");

/**
 * xkvm_params_done() - forget what only the store's creation needed.
 * @set: settings from xkvm_params_to_settings(), after xkv_store_create()
 *       (which keeps its own copy of the password file)
 */
void xkvm_params_done(struct xkv_settings *set)
{
	xkvm_free_pwdb((char *)set->pwdb);
	set->pwdb = NULL;
}

static int xkvm_bad_param(const char *name, const char *why)
{
	pr_err("invalid value for %s: %s\n", name, why);
	return -EINVAL;
}

/* sasl_pwdb= (-S) or auth_file= (-Y): the flags and the file's contents */
static int xkvm_params_pwdb(struct xkv_settings *set)
{
	const char *param, *path;
	char *buf;

	set->sasl = sasl_pwdb[0];
	set->auth_file = auth_file[0] ? auth_file : NULL;
	/* both: refused by name by the settings check */
	if (!xkvm_pwdb_param(&param, &path) || (set->sasl && set->auth_file))
		return 0;
	buf = xkvm_read_pwdb(param, path, !set->sasl);
	if (IS_ERR(buf))
		return PTR_ERR(buf);
	set->pwdb = buf;
	return 0;
}

/**
 * xkvm_params_to_settings() - the parameters as store settings.
 * @set: filled in
 *
 * Checked as xkvd checks its flags; a bad value is logged by name. With
 * sasl_pwdb= or auth_file= the file is read here: xkvm_params_done()
 * frees it once the store has its copy.
 *
 * Return: 0, -EINVAL, or why the password file could not be read.
 */
int xkvm_params_to_settings(struct xkv_settings *set)
{
	const char *why;
	int err;

	xkv_settings_default(set, min(num_online_cpus(), XKV_THREADS_MAX));

	if (tcp_port > 65535)
		return xkvm_bad_param("tcp_port",
				      "not a port number (0..65535)");
	set->tcp_port = tcp_port;
	if (udp_port < 0 || udp_port > 65535)
		return xkvm_bad_param("udp_port",
				      "not a port number (0..65535)");
	set->udp_port = udp_port;
	set->udp_allow = udp_allow;
	set->udp_amp_ratio = udp_amp_ratio;
	if (xkvm_sock_check_addr(listen_addr))
		return xkvm_bad_param("listen", "not an IPv4 or IPv6 address");
	strscpy(set->listen, listen_addr, sizeof(set->listen));
	if (memory_limit < 1 || memory_limit > XKVM_MEMORY_MB_MAX)
		return xkvm_bad_param("memory_limit",
				      "megabytes must be 1..1048576");
	set->maxbytes = (u64)memory_limit << 20;
	if (threads > XKV_THREADS_MAX)
		return xkvm_bad_param("threads", "threads must be 0..256");
	if (threads)
		set->threads = threads;
	if (conn_limit < 1 || conn_limit > XKV_CONNS_MAX)
		return xkvm_bad_param("conn_limit",
				      "connections must be 1..1048576");
	set->maxconns = conn_limit;
	set->item_size_max = max_item_size;
	set->growth_x100 = slab_growth_x100;
	if (slab_min_size < 1 || slab_min_size > XKV_CHUNK_MIN_MAX)
		return xkvm_bad_param("slab_min_size",
				      "chunk size must be 1..1048576");
	set->chunk_min = slab_min_size;
	set->verbose = clamp(READ_ONCE(xkv_os_verbose), 0, 2);
	set->debug_clock = debug_clock;
	set->shutdown_command = shutdown_command;
	set->dump_disabled = disable_dumping;
	set->idle_timeout = idle_timeout;
	if (read_buf_mem_limit < -1)
		return xkvm_bad_param("read_buf_mem_limit",
				      "megabytes must be -1 (default) or more");
	if (read_buf_mem_limit >= 0)
		set->read_buf_mem_limit = (u64)read_buf_mem_limit << 20;

	err = xkvm_params_pwdb(set);
	if (err)
		return err;
	if (xkv_settings_check(set, &why)) {
		pr_err("invalid settings: %s\n", why);
		xkvm_params_done(set);
		return -EINVAL;
	}
	return 0;
}
