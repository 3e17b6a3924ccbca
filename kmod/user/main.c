// SPDX-License-Identifier: GPL-2.0
/*
 * main.c - the xkv store as a user-space daemon: startup and shutdown.
 *
 * Order of things: parse the command line (EX_USAGE on any bad flag),
 * block SIGTERM and SIGINT in every thread, bind the sockets (a bind
 * failure names the address and port and exits with EX_OSERR, as
 * memcached does), build the store, open the hot cache, drop root (-u
 * USER, privs.c), start the workers and the maintenance thread, then wait
 * for a signal (SIGHUP reloads the -Y or -S password file, as memcached
 * reloads -Y's). On SIGTERM or SIGINT the stop eventfd
 * wakes every thread; they close their connections and are joined, the
 * store is destroyed, and xkvd exits 0.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "xkvd.h"

/*
 * Descriptors besides connections: an epoll instance and a handoff pipe
 * per worker, and these for stdio, sockets, the eventfd and slack.
 */
#define SPARE_FDS 64

/* read by os_log() in the store core */
int xkv_os_verbose;

/*
 * memcached sets the open file limit to fit -c; do the same, as far as
 * we are allowed (raising the hard limit needs CAP_SYS_RESOURCE).
 */
static void raise_nofile(const struct xkv_settings *set)
{
	rlim_t need = (rlim_t)set->maxconns + 3 * set->threads + SPARE_FDS;
	struct rlimit rl;
	rlim_t hard;

	if (getrlimit(RLIMIT_NOFILE, &rl) || rl.rlim_cur >= need)
		return;
	hard = rl.rlim_max;
	rl.rlim_cur = need;
	if (hard != RLIM_INFINITY && hard < need)
		rl.rlim_max = need;
	if (!setrlimit(RLIMIT_NOFILE, &rl))
		return;
	rl.rlim_cur = hard;
	rl.rlim_max = hard;
	setrlimit(RLIMIT_NOFILE, &rl);
	fprintf(stderr, "xkvd: cannot raise the open file limit to %llu\n",
		(unsigned long long)need);
}

static int open_sockets(struct xkvd_server *srv)
{
	const struct xkv_settings *set = &srv->set;
	int fd;

	if (set->tcp_port) {
		fd = xkvd_sock_open(set->listen, set->tcp_port, SOCK_STREAM,
				    srv->tcp_addr, sizeof(srv->tcp_addr));
		if (fd < 0)
			return fd;
		srv->tcp_fd = fd;
	}
	if (set->udp_port) {
		fd = xkvd_sock_open(set->listen, set->udp_port, SOCK_DGRAM,
				    srv->udp_addr, sizeof(srv->udp_addr));
		if (fd < 0)
			return fd;
		srv->udp_fd = fd;
		return xkvd_udp_policy_open(srv);
	}
	return 0;
}

static void close_sockets(struct xkvd_server *srv)
{
	xkvd_udp_policy_close(srv);
	if (srv->udp_fd >= 0)
		close(srv->udp_fd);
	if (srv->tcp_fd >= 0)
		close(srv->tcp_fd);
	srv->udp_fd = -1;
	srv->tcp_fd = -1;
}

static void log_startup(const struct xkvd_server *srv)
{
	const struct xkv_settings *set = xkv_store_settings(srv->st);

	if (xkv_os_verbose < 1)
		return;
	fprintf(stderr,
		"xkvd: xkv %s: TCP %s, UDP %s, %llu MB, item max %u, "
		"growth %u.%02u, %u threads, %u connections max, "
		"busy poll %u us%s\n",
		XKV_VERSION, set->tcp_port ? srv->tcp_addr : "off",
		set->udp_port ? srv->udp_addr : "off",
		(unsigned long long)(set->maxbytes >> 20), set->item_size_max,
		set->growth_x100 / 100, set->growth_x100 % 100, set->threads,
		set->maxconns, srv->busy_poll_us,
		set->debug_clock ? ", debug clock" : "");
}

/*
 * Wait for SIGTERM or SIGINT (xkvd_fatal() sends SIGTERM too). SIGHUP, as
 * memcached's, reads the -Y file again (with -S the MEMCACHED_SASL_PWDB
 * one); without either it does nothing.
 */
static void wait_for_signal(struct xkvd_server *srv, const sigset_t *sigs)
{
	siginfo_t info;
	int sig;

	for (;;) {
		sig = sigwaitinfo(sigs, &info);
		if (sig < 0 && errno == EINTR)
			continue;
		if (sig != SIGHUP)
			break;
		if (!xkvd_reload_pwdb(&srv->set, srv->st))
			fprintf(stderr, "xkvd: SIGHUP: read %s again\n",
				srv->set.sasl ? getenv("MEMCACHED_SASL_PWDB") :
						srv->set.auth_file);
	}
	if (sig > 0 && xkv_os_verbose >= 1)
		fprintf(stderr, "xkvd: %s, shutting down\n", strsignal(sig));
}

int main(int argc, char **argv)
{
	struct xkvd_server srv = {
		.tcp_fd = -1,
		.udp_fd = -1,
		.stop_fd = -1,
		.ev_listen.kind = XKVD_EV_LISTEN,
		.ev_udp.kind = XKVD_EV_UDP,
		.ev_stop.kind = XKVD_EV_STOP,
	};
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	int ret = XKVD_EX_OSERR;
	struct xkvd_opts opts;
	sigset_t sigs;

	xkv_settings_default(&srv.set, ncpu > 0 ? (u32)ncpu : 1);
	switch (xkvd_parse_args(&srv.set, &opts, argc, argv)) {
	case 0:
		break;
	case 1:
		return 0;
	default:
		return XKVD_EX_USAGE;
	}
	xkv_os_verbose = srv.set.verbose;
	srv.busy_poll_asked = opts.busy_poll_us >= 0;
	if (opts.busy_poll_us >= 0)
		srv.busy_poll_us = (u32)opts.busy_poll_us;
	else if (opts.hot_map)
		srv.busy_poll_us = XKVD_BUSY_POLL_HOT_US;

	/*
	 * Every thread inherits this mask; only main waits for them. A shell
	 * starts background jobs with SIGINT ignored, and an ignored signal
	 * is dropped even while blocked: take it back first.
	 */
	signal(SIGPIPE, SIG_IGN);
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);

	raise_nofile(&srv.set);
	if (open_sockets(&srv))
		goto close_sockets;
	srv.stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (srv.stop_fd < 0) {
		fprintf(stderr, "xkvd: eventfd: %s\n", strerror(errno));
		goto close_sockets;
	}
	srv.st = xkv_store_create(&srv.set, srv.set.threads);
	if (!srv.st) {
		fprintf(stderr, "xkvd: cannot create the store: %s\n",
			"out of memory, or -m/-I/-f/-n do not fit together");
		goto close_stop;
	}
	/* the store has its copy of the password file */
	if (srv.set.pwdb) {
		explicit_bzero((void *)srv.set.pwdb, strlen(srv.set.pwdb));
		free((void *)srv.set.pwdb);
		srv.set.pwdb = NULL;
	}
	xkvd_sock_register(&srv);
	if (opts.hot_map && xkvd_hot_map_open(&srv, opts.hot_map))
		goto destroy_store;
	/* what needs root is open: no thread reads the network yet */
	ret = xkvd_drop_root();
	if (ret)
		goto destroy_store;
	ret = XKVD_EX_OSERR;
	if (xkvd_workers_start(&srv) || xkvd_maint_start(&srv))
		goto stop_threads;

	log_startup(&srv);
	wait_for_signal(&srv, &sigs);
	ret = __atomic_load_n(&srv.fatal, __ATOMIC_SEQ_CST) ? 1 : 0;

stop_threads:
	eventfd_write(srv.stop_fd, 1);
	xkvd_maint_stop(&srv);
	xkvd_workers_stop(&srv);
destroy_store:
	/* empties the hot slots first: XDP stops answering for us */
	xkv_store_destroy(srv.st);
	xkvd_hot_map_close(&srv);
close_stop:
	close(srv.stop_fd);
close_sockets:
	close_sockets(&srv);
	return ret;
}
