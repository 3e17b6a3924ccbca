// SPDX-License-Identifier: GPL-2.0
/*
 * backend.c - start, watch and stop the backend process.
 */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "backend.h"
#include "clock.h"
#include "log.h"
#include "pidfile.h"
#include "probe.h"

#define XKV_BACKEND_ARGS 64
#define XKV_POLL_MS 50
#define XKV_KILL_WAIT_S 2
#define XKV_LOG_TAIL 2048

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* a bare command name, looked up in $PATH as execvp() would */
static void path_lookup(const char *name, char *buf)
{
	const char *path = getenv("PATH"), *p, *end;

	snprintf(buf, PATH_MAX, "%s", name);
	for (p = path; p && *p; p = *end ? end + 1 : end) {
		end = strchrnul(p, ':');
		snprintf(buf, PATH_MAX, "%.*s/%s", (int)(end - p), p, name);
		if (!access(buf, X_OK))
			return;
	}
	snprintf(buf, PATH_MAX, "%s", name);
}

int xkv_backend_find(const char *cmd, char *buf)
{
	int err;

	if (!cmd || !*cmd)
		cmd = getenv("XKV_BACKEND");
	if (cmd && *cmd && !strchr(cmd, '/')) {
		path_lookup(cmd, buf);
	} else if (cmd && *cmd) {
		snprintf(buf, PATH_MAX, "%s", cmd);
	} else {
		err = xkv_self_path("xkvd", buf);
		if (err) {
			pr_warn("cannot find the xkv binary: %s\n",
				strerror(-err));
			return err;
		}
	}
	if (access(buf, X_OK)) {
		err = -errno;
		pr_warn("backend '%s': %s (build it with 'make', or name one with --backend-cmd or XKV_BACKEND)\n",
			buf, strerror(errno));
		return err;
	}
	return 0;
}

int xkv_memcached_find(const char *cmd, char *buf)
{
	int err;

	if (!cmd || !*cmd)
		cmd = XKV_MEMCACHED_DEFAULT;
	if (!strchr(cmd, '/'))
		path_lookup(cmd, buf);
	else
		snprintf(buf, PATH_MAX, "%s", cmd);
	if (access(buf, X_OK)) {
		err = -errno;
		pr_warn("memcached '%s': %s (on Debian: apt-get install memcached; or name one with --memcached PATH)\n",
			buf, strerror(errno));
		return err;
	}
	return 0;
}

/* a memcached flag xkv keeps for itself, and why */
struct mc_flag {
	char opt;
	const char *lopt;
	const char *why;
};

static const struct mc_flag mc_flags[] = {
	{ 'p', "port", "xkv passes -p from --port" },
	{ 'U', "udp-port", "xkv passes -U from --port" },
	{ 'B', "protocol",
	  "xkv passes -B ascii: the learning programs then follow TCP streams seen mid-way instead of flushing on them" },
	{ 's', "unix-socket",
	  "writes over a unix socket bypass the learning programs" },
	{ 'd', "daemon", "xkv runs memcached in the background itself" },
};

/* does @arg name long option @lopt ("--port", "--port=N")? */
static bool is_long_opt(const char *arg, const char *lopt)
{
	size_t n = strlen(lopt);

	return !strncmp(arg, "--", 2) && !strncmp(arg + 2, lopt, n) &&
	       (arg[2 + n] == '\0' || arg[2 + n] == '=');
}

int xkv_memcached_args_check(int argc, char **argv)
{
	const struct mc_flag *f;
	int i;

	for (i = 0; i < argc; i++) {
		const char *a = argv[i];

		if (a[0] != '-')
			continue;
		for (f = mc_flags; f < mc_flags + ARRAY_SIZE(mc_flags); f++) {
			if (a[1] == f->opt || is_long_opt(a, f->lopt)) {
				pr_warn("up: memcached flag '%s' after --: %s\n",
					a, f->why);
				return -EINVAL;
			}
		}
	}
	return 0;
}

const char *xkv_backend_user(const char *user)
{
	if (user) {
		if (getpwnam(user))
			return user;
		pr_warn("up: --user %s: no such user\n", user);
		return NULL;
	}
	return getpwnam(XKV_BACKEND_USER) ? XKV_BACKEND_USER :
					    XKV_BACKEND_USER_FALLBACK;
}

int xkv_backend_port_free(unsigned int port)
{
	int err;

	err = xkv_probe_port_free(port, SOCK_STREAM);
	if (err) {
		pr_warn("TCP port %u is taken (%s): another server runs there\n",
			port, strerror(-err));
		return -EADDRINUSE;
	}
	err = xkv_probe_port_free(port, SOCK_DGRAM);
	if (err) {
		pr_warn("UDP port %u is taken (%s): another server runs there\n",
			port, strerror(-err));
		return -EADDRINUSE;
	}
	return 0;
}

pid_t xkv_backend_running(const struct xkv_paths *p)
{
	unsigned long long start;
	pid_t pid;
	int err;

	err = xkv_pidfile_read(p, &pid, &start);
	if (err)
		return err;
	return pid && xkv_proc_alive(pid, start) ? pid : 0;
}

static void print_log_tail(const struct xkv_paths *p)
{
	char buf[XKV_LOG_TAIL + 1];
	ssize_t n;
	off_t size;
	int fd;

	fd = open(p->logfile, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	size = lseek(fd, 0, SEEK_END);
	if (size > XKV_LOG_TAIL)
		lseek(fd, size - XKV_LOG_TAIL, SEEK_SET);
	else
		lseek(fd, 0, SEEK_SET);
	n = read(fd, buf, XKV_LOG_TAIL);
	close(fd);
	if (n <= 0)
		return;
	buf[n] = '\0';
	pr_warn("backend log (%s):\n%s%s", p->logfile, buf,
		buf[n - 1] == '\n' ? "" : "\n");
}

unsigned int xkv_serve_auth(int argc, char **argv)
{
	unsigned int auth = XKV_AUTH_NONE;
	const char *a;
	int i;

	/* the last one counts, as the backend would refuse both anyway */
	for (i = 0; i < argc; i++) {
		a = argv[i];
		if (!strcmp(a, "-S") || !strcmp(a, "--enable-sasl") ||
		    !strncmp(a, "sasl_pwdb=", 10))
			auth = XKV_AUTH_SASL;
		else if (!strncmp(a, "-Y", 2) ||
			 !strncmp(a, "--auth-file", 11) ||
			 !strncmp(a, "auth_file=", 10))
			auth = XKV_AUTH_ASCII;
	}
	return auth;
}

static void build_argv(const struct xkv_backend_opts *o, char **argv,
		       char nums[5][16])
{
	int n = 0, i;

	argv[n++] = (char *)o->path;
	/* both drop root once their sockets are open (memcached refuses
	 * to run as root without -u) */
	if (geteuid() == 0) {
		argv[n++] = "-u";
		argv[n++] = (char *)o->user;
	}
	if (!o->memcached) {
		argv[n++] = "--hot-map";
		argv[n++] = (char *)o->hot_map;
	}
	snprintf(nums[0], 16, "%u", o->serve.port);
	argv[n++] = "-p";
	argv[n++] = nums[0];
	argv[n++] = "-U";
	/* memcached refuses UDP with -S or -Y, and so does xkvd */
	argv[n++] = o->serve.auth ? "0" : nums[0];
	if (!o->memcached) {
		if (o->serve.udp_allow) {
			argv[n++] = "--udp-allow";
			argv[n++] = (char *)o->serve.udp_allow;
		}
		snprintf(nums[4], 16, "%u", o->serve.amp_ratio);
		argv[n++] = "--udp-amp-ratio";
		argv[n++] = nums[4];
	}
	if (o->memcached) {
		argv[n++] = "-B";
		argv[n++] = "ascii";
	}
	if (o->serve.listen) {
		argv[n++] = "-l";
		argv[n++] = (char *)o->serve.listen;
	}
	if (o->serve.memory) {
		snprintf(nums[1], 16, "%u", o->serve.memory);
		argv[n++] = "-m";
		argv[n++] = nums[1];
	}
	if (o->serve.threads) {
		snprintf(nums[2], 16, "%u", o->serve.threads);
		argv[n++] = "-t";
		argv[n++] = nums[2];
	}
	if (o->serve.conns) {
		snprintf(nums[3], 16, "%u", o->serve.conns);
		argv[n++] = "-c";
		argv[n++] = nums[3];
	}
	for (i = 0; i < o->serve.extra_argc && n < XKV_BACKEND_ARGS - 1; i++)
		argv[n++] = o->serve.extra_argv[i];
	argv[n] = NULL;
}

static void fg_signals(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGHUP);
	sigaddset(set, SIGCHLD);
}

/* in the child: become what was asked, exec; report errno on @errfd */
static void __attribute__((noreturn))
child_exec(const struct xkv_backend_opts *o, const struct xkv_paths *p,
	   char **argv, int errfd)
{
	sigset_t all;
	int fd, err;

	sigemptyset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	signal(SIGPIPE, SIG_DFL);
	if (!o->foreground) {
		setsid();
		if (chdir("/"))
			goto fail;
		fd = open("/dev/null", O_RDONLY);
		if (fd < 0 || dup2(fd, STDIN_FILENO) < 0)
			goto fail;
		if (fd != STDIN_FILENO)
			close(fd);
		fd = open(p->logfile, O_WRONLY | O_CREAT | O_TRUNC, 0640);
		if (fd < 0 || dup2(fd, STDOUT_FILENO) < 0 ||
		    dup2(fd, STDERR_FILENO) < 0)
			goto fail;
		if (fd > STDERR_FILENO)
			close(fd);
	}
	execv(o->path, argv);
fail:
	err = errno;
	if (write(errfd, &err, sizeof(err)) < 0)
		_exit(127);
	_exit(127);
}

/* did exec work? the CLOEXEC pipe closes on exec, or carries errno */
static int exec_result(int rfd)
{
	ssize_t n;
	int err;

	do {
		n = read(rfd, &err, sizeof(err));
	} while (n < 0 && errno == EINTR);
	close(rfd);
	return n == (ssize_t)sizeof(err) ? -err : 0;
}

static int reap(pid_t pid, int *status, bool block)
{
	pid_t r;

	do {
		r = waitpid(pid, status, block ? 0 : WNOHANG);
	} while (r < 0 && errno == EINTR);
	return r == pid;
}

static void describe_exit(int status)
{
	if (WIFEXITED(status))
		pr_warn("the backend exited with status %d\n",
			WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		pr_warn("the backend was killed by signal %d (%s)\n",
			WTERMSIG(status), strsignal(WTERMSIG(status)));
}

/* did SIGINT, SIGTERM or SIGHUP arrive while blocked? */
static bool interrupted(void)
{
	sigset_t pending;

	if (sigpending(&pending))
		return false;
	return sigismember(&pending, SIGINT) ||
	       sigismember(&pending, SIGTERM) ||
	       sigismember(&pending, SIGHUP);
}

/* until it answers, exits, or the time is up (or xkv is interrupted) */
static int wait_ready(const struct xkv_backend_opts *o,
		      const struct xkv_paths *p, pid_t pid)
{
	unsigned long long deadline = xkv_now_ms() + o->serve.wait_s * 1000ULL;
	int status, err;

	for (;;) {
		if (reap(pid, &status, false)) {
			describe_exit(status);
			if (!o->foreground)
				print_log_tail(p);
			return -ECHILD;
		}
		err = xkv_probe_ready(o->serve.listen, p->ifname,
				      o->serve.port, o->serve.auth);
		if (!err)
			return 0;
		if (interrupted()) {
			pr_warn("interrupted while waiting for the backend\n");
			return -EINTR;
		}
		if (xkv_now_ms() >= deadline)
			break;
		xkv_sleep_ms(XKV_POLL_MS);
	}
	pr_warn("the backend did not answer on port %u within %u s (%s)\n",
		o->serve.port, o->serve.wait_s, strerror(-err));
	if (!o->foreground)
		print_log_tail(p);
	return -ETIMEDOUT;
}

/*
 * SIGTERM, wait, SIGKILL; for our own child (@status: its wait status) or
 * a recorded daemon (@status NULL).
 */
static void terminate(pid_t pid, unsigned long long start, int *status,
		      unsigned int timeout_s)
{
	unsigned long long deadline = xkv_now_ms() + timeout_s * 1000ULL;

	kill(pid, SIGTERM);
	for (;;) {
		if (status ? reap(pid, status, false) :
			     !xkv_proc_alive(pid, start))
			return;
		if (xkv_now_ms() >= deadline)
			break;
		xkv_sleep_ms(XKV_POLL_MS / 5);
	}
	pr_warn("backend pid %d did not stop within %u s: killing it\n",
		(int)pid, timeout_s);
	kill(pid, SIGKILL);
	deadline = xkv_now_ms() + XKV_KILL_WAIT_S * 1000;
	while (xkv_now_ms() < deadline) {
		if (status ? reap(pid, status, false) :
			     !xkv_proc_alive(pid, start))
			return;
		xkv_sleep_ms(XKV_POLL_MS / 5);
	}
}

int xkv_backend_start(const struct xkv_backend_opts *o,
		      const struct xkv_paths *p, pid_t *pid_out)
{
	char *argv[XKV_BACKEND_ARGS], nums[5][16];
	sigset_t set, old;
	int pfd[2], err, i;
	pid_t pid;

	if (o->serve.extra_argc > XKV_BACKEND_ARGS - 24) {
		pr_warn("too many backend arguments\n");
		return -E2BIG;
	}
	build_argv(o, argv, nums);
	if (xkv_log_level() >= XKV_LOG_DEBUG) {
		pr_debug("starting:");
		for (i = 0; argv[i]; i++)
			fprintf(stderr, " %s", argv[i]);
		fputc('\n', stderr);
	}
	err = xkv_run_dir_ensure();
	if (err)
		return err;
	if (pipe2(pfd, O_CLOEXEC))
		return -errno;
	fg_signals(&set);
	sigprocmask(SIG_BLOCK, &set, &old);
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		err = -errno;
		pr_warn("fork: %s\n", strerror(errno));
		goto restore_mask;
	}
	if (!pid) {
		close(pfd[0]);
		child_exec(o, p, argv, pfd[1]);
	}
	close(pfd[1]);
	pfd[1] = -1;
	err = exec_result(pfd[0]);
	if (err) {
		pr_warn("cannot run %s: %s\n", o->path, strerror(-err));
		reap(pid, &i, true);
		goto restore_mask;
	}
	err = xkv_pidfile_write(p, pid);
	if (err) {
		pr_warn("cannot write %s: %s\n", p->pidfile, strerror(-err));
		goto stop_child;
	}
	err = wait_ready(o, p, pid);
	if (err == -ECHILD)
		goto remove_pidfile;	/* already exited and reaped */
	if (err)
		goto remove_pidfile_stop;
	if (!o->foreground)
		sigprocmask(SIG_SETMASK, &old, NULL);
	*pid_out = pid;
	return 0;

remove_pidfile_stop:
	unlink(p->pidfile);
stop_child:
	terminate(pid, 0, &i, XKV_KILL_WAIT_S);
	goto restore_mask;
remove_pidfile:
	unlink(p->pidfile);
restore_mask:
	if (pfd[1] >= 0)
		close(pfd[1]);
	sigprocmask(SIG_SETMASK, &old, NULL);
	return err;
}

int xkv_backend_wait(pid_t pid, unsigned int timeout_s)
{
	siginfo_t info;
	sigset_t set;
	int status, sig;

	fg_signals(&set);
	for (;;) {
		if (reap(pid, &status, false))
			break;
		sig = sigwaitinfo(&set, &info);
		if (sig < 0)
			continue;
		if (sig == SIGCHLD)
			continue;
		pr_info("%s: stopping the backend\n", strsignal(sig));
		status = -1;
		terminate(pid, 0, &status, timeout_s);
		if (status == -1 && !reap(pid, &status, true))
			return 1;
		break;
	}
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}

int xkv_backend_stop(const struct xkv_paths *p, unsigned int timeout_s)
{
	unsigned long long start;
	pid_t pid;
	int err;

	err = xkv_pidfile_read(p, &pid, &start);
	if (err) {
		pr_warn("cannot read %s: %s\n", p->pidfile, strerror(-err));
		return err;
	}
	if (pid && xkv_proc_alive(pid, start)) {
		terminate(pid, start, NULL, timeout_s);
		if (xkv_proc_alive(pid, start)) {
			pr_warn("backend pid %d is still running\n", (int)pid);
			return -EBUSY;
		}
		pr_info("%s: stopped the backend (pid %d)\n", p->ifname,
			(int)pid);
	}
	if (unlink(p->pidfile) && errno != ENOENT)
		return -errno;
	return 0;
}
