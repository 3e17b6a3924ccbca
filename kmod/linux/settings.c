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
 *
 * A bad value or combination fails the load with -EINVAL and a message
 * naming the parameter: the core's xkv_settings_check(), which xkvd's
 * options use too.
 */
#include "xkvm.h"

#include <linux/cpumask.h>
#include <linux/moduleparam.h>

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

static int xkvm_bad_param(const char *name, const char *why)
{
	pr_err("invalid value for %s: %s\n", name, why);
	return -EINVAL;
}

/**
 * xkvm_params_to_settings() - the parameters as store settings.
 * @set: filled in
 *
 * Checked as xkvd checks its flags; a bad value is logged by name.
 *
 * Return: 0 or -EINVAL.
 */
int xkvm_params_to_settings(struct xkv_settings *set)
{
	const char *why;

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

	if (xkv_settings_check(set, &why)) {
		pr_err("invalid settings: %s\n", why);
		return -EINVAL;
	}
	return 0;
}
