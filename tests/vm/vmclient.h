/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vmclient.h - what the VM's C clients (xkv-hot.c, xkv-store.c) share:
 * their command line, sockets to the server on 127.0.0.1, one TCP reply
 * line, "xkv stats -j", the monotonic clock. Included once per program
 * (it defines the settings below); after <sys/socket.h>, <netinet/tcp.h>,
 * <arpa/inet.h>, <getopt.h>, <time.h>, <linux/bpf.h>, <sys/syscall.h>
 * and "tap.h".
 */
#ifndef XKV_TESTS_VM_VMCLIENT_H
#define XKV_TESTS_VM_VMCLIENT_H

#define HOST "127.0.0.1"

/* -p -U -i -x: the server's ports, the interface, the loader's path */
static int tcp_port = 11211, udp_port = 11211;
static const char *iface = "lo", *xkv = "xkv";

/**
 * vm_getopt() - the clients' command line: -p PORT -U PORT -i IFACE
 * -x XKV, and -n N -T N, whose meaning is each program's.
 * @argc, @argv: main()'s
 * @n:     -n's value, unchanged without it
 * @t:     -T's value, unchanged without it
 * @usage: printed on anything else
 *
 * Return: 0, or 2 (printed @usage) for main() to return.
 */
static inline int vm_getopt(int argc, char **argv, int *n, int *t,
			    const char *usage)
{
	int c;

	while ((c = getopt(argc, argv, "p:U:i:x:n:T:")) != -1) {
		switch (c) {
		case 'p':
			tcp_port = atoi(optarg);
			break;
		case 'U':
			udp_port = atoi(optarg);
			break;
		case 'i':
			iface = optarg;
			break;
		case 'x':
			xkv = optarg;
			break;
		case 'n':
			*n = atoi(optarg);
			break;
		case 'T':
			*t = atoi(optarg);
			break;
		default:
			fprintf(stderr, "usage: %s\n", usage);
			return 2;
		}
	}
	return 0;
}

static inline void vm_addr_of(struct sockaddr_in *sa, int port)
{
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_port = htons((uint16_t)port);
	inet_pton(AF_INET, HOST, &sa->sin_addr);
}

/* a socket of @type connected to HOST:@port (3 s timeouts), or -1 */
static inline int vm_sock_open(int type, int port)
{
	struct timeval tv = { .tv_sec = 3 };
	struct sockaddr_in sa;
	int fd, one = 1;

	fd = socket(AF_INET, type, 0);
	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (type == SOCK_STREAM)
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	vm_addr_of(&sa, port);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		close(fd);
		return -1;
	}
	return fd;
}

/* send @len bytes of @req on @fd, the first reply line into @line */
static inline int vm_tcp_line(int fd, const char *req, size_t len,
			      char *line, size_t cap)
{
	size_t n = 0;
	ssize_t r;

	if (send(fd, req, len, MSG_NOSIGNAL) != (ssize_t)len)
		return -1;
	while (n < cap - 1) {
		r = recv(fd, line + n, 1, 0);
		if (r <= 0)
			return -1;
		n++;
		if (n >= 2 && line[n - 2] == '\r' && line[n - 1] == '\n')
			break;
	}
	line[n] = '\0';
	return 0;
}

/*
 * The number after "@name": in "xkv stats IFACE -j", from the first
 * @within (NULL: the start) on. -1 when absent.
 */
static inline long long vm_xkv_stat(const char *within, const char *name)
{
	char cmd[512], out[8192], key[64], *p;
	size_t n;
	FILE *f;

	snprintf(cmd, sizeof(cmd), "%s stats %s -j 2>/dev/null", xkv, iface);
	f = popen(cmd, "r");
	if (!f)
		return -1;
	n = fread(out, 1, sizeof(out) - 1, f);
	pclose(f);
	out[n] = '\0';
	p = within ? strstr(out, within) : out;
	if (!p)
		return -1;
	snprintf(key, sizeof(key), "\"%s\":", name);
	p = strstr(p, key);
	return p ? strtoll(p + strlen(key), NULL, 10) : -1;
}

static inline int sys_bpf(int cmd, union bpf_attr *attr)
{
	return (int)syscall(__NR_bpf, cmd, attr, sizeof(*attr));
}

/* BPF_OBJ_GET_INFO_BY_FD: @fd's program or map info into @info */
static inline int vm_obj_info(int fd, void *info, __u32 len)
{
	union bpf_attr a;

	memset(info, 0, len);
	memset(&a, 0, sizeof(a));
	a.info.bpf_fd = (__u32)fd;
	a.info.info_len = len;
	a.info.info = (__u64)(unsigned long)info;
	return sys_bpf(BPF_OBJ_GET_INFO_BY_FD, &a);
}

static inline double vm_now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

#endif /* XKV_TESTS_VM_VMCLIENT_H */
