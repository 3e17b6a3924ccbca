// SPDX-License-Identifier: GPL-2.0
/*
 * sockmap_probe - does the socket-level route of issue 10 keep a TCP
 * connection working on this kernel?
 *
 *   sockmap_probe [-t MS]
 *
 * For each mode of sockmap_probe.bpf.c (echo: the redirected reply is the
 * request itself; rewrite: a memcached VALUE reply, longer than the
 * request), on a fresh loopback connection whose server side is in a
 * sockmap with the verdict program attached:
 *
 *   1. "set" (passed): the server reads it and answers STORED;
 *   2. "get" (answered by the program, redirected to the same socket);
 *   3. "set" again: does the server still receive what is passed?
 *   4. "get" again: does the program still see new bytes?
 *
 * Each step waits at most -t ms (default 1000) for its reply and prints
 * what came back. Exit status: 0 when every step of every mode was
 * answered, 2 when a step was not (the route wedges a connection here),
 * 1 when the probe could not run (not root, no sockmap support).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "sockmap_probe.skel.h"

static int timeout_ms = 1000;

/* read what @fd has within the timeout; returns the byte count */
static ssize_t read_some(int fd, char *buf, size_t len)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	ssize_t n;

	if (poll(&p, 1, timeout_ms) <= 0)
		return 0;
	n = read(fd, buf, len - 1);
	if (n < 0)
		return 0;
	buf[n] = '\0';
	return n;
}

/*
 * One request from the client. A passed request is answered by the
 * server side here; a redirected one by the program. True when the
 * client got an answer.
 */
static bool step(int cli, int srv, const char *what, const char *req,
		 bool passed)
{
	char buf[512];
	ssize_t n;

	if (write(cli, req, strlen(req)) != (ssize_t)strlen(req))
		return false;
	if (passed) {
		n = read_some(srv, buf, sizeof(buf));
		if (!n) {
			printf("    %-22s server got nothing\n", what);
			return false;
		}
		if (write(srv, "STORED\r\n", 8) != 8)
			return false;
	}
	n = read_some(cli, buf, sizeof(buf));
	printf("    %-22s client got %zd bytes%s\n", what, n,
	       n ? "" : " (no reply)");
	return n > 0;
}

static int connect_pair(int *cli, int *srv)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t al = sizeof(a);
	int lfd, err = -1;

	*cli = -1;
	*srv = -1;
	lfd = socket(AF_INET, SOCK_STREAM, 0);
	if (lfd < 0)
		return -1;
	if (bind(lfd, (struct sockaddr *)&a, sizeof(a)) || listen(lfd, 1) ||
	    getsockname(lfd, (struct sockaddr *)&a, &al))
		goto close_listener;
	*cli = socket(AF_INET, SOCK_STREAM, 0);
	if (*cli < 0 || connect(*cli, (struct sockaddr *)&a, sizeof(a)))
		goto close_listener;
	*srv = accept(lfd, NULL, NULL);
	if (*srv >= 0)
		err = 0;
close_listener:
	close(lfd);
	return err;
}

/* one mode on a fresh connection; 0, 2 (a step unanswered) or 1 */
static int probe(__u32 rewrite)
{
	static const char set1[] = "set a 0 0 1\r\nx\r\n";
	static const char set2[] = "set b 0 0 1\r\ny\r\n";
	struct sockmap_probe *skel;
	int cli, srv, prog, map, ret = 1;
	bool ok = true;
	__u32 zero = 0;
	__u64 fd;

	skel = sockmap_probe__open();
	if (!skel)
		return 1;
	skel->rodata->rewrite = rewrite;
	if (sockmap_probe__load(skel)) {
		fprintf(stderr, "sockmap_probe: cannot load the program\n");
		goto destroy;
	}
	prog = bpf_program__fd(skel->progs.probe_verdict);
	map = bpf_map__fd(skel->maps.probe_socks);
	if (bpf_prog_attach(prog, map, BPF_SK_SKB_VERDICT, 0)) {
		perror("sockmap_probe: attach");
		goto destroy;
	}
	if (connect_pair(&cli, &srv)) {
		perror("sockmap_probe: loopback connection");
		goto close_socks;
	}
	fd = (__u64)srv;
	if (bpf_map_update_elem(map, &zero, &fd, BPF_ANY)) {
		perror("sockmap_probe: sockmap insert");
		goto close_socks;
	}
	printf("%s: the redirected reply is %s\n",
	       rewrite ? "rewrite" : "echo",
	       rewrite ? "a VALUE reply, longer than the request" :
			 "the request itself");
	ok &= step(cli, srv, "1. set (passed)", set1, true);
	ok &= step(cli, srv, "2. get (redirected)", "get k1\r\n", false);
	ok &= step(cli, srv, "3. set (passed)", set2, true);
	ok &= step(cli, srv, "4. get (redirected)", "get k2\r\n", false);
	printf("    program: %llu redirected, %llu passed: %s\n",
	       (unsigned long long)skel->bss->redirected,
	       (unsigned long long)skel->bss->passed,
	       ok ? "every step answered" : "the connection wedged");
	ret = ok ? 0 : 2;
close_socks:
	if (cli >= 0)
		close(cli);
	if (srv >= 0)
		close(srv);
destroy:
	sockmap_probe__destroy(skel);
	return ret;
}

int main(int argc, char **argv)
{
	int opt, a, b;

	while ((opt = getopt(argc, argv, "t:")) != -1) {
		if (opt != 't' || atoi(optarg) <= 0) {
			fprintf(stderr, "usage: sockmap_probe [-t MS]\n");
			return 1;
		}
		timeout_ms = atoi(optarg);
	}
	a = probe(0);
	b = probe(1);
	if (a == 1 || b == 1)
		return 1;
	return a || b ? 2 : 0;
}
