/* SPDX-License-Identifier: GPL-2.0 */
/*
 * probe.h - does a memcached server answer on a port? Used to tell when
 * a backend has started, and that a port is free before one is started.
 */
#ifndef XKV_LOADER_PROBE_H
#define XKV_LOADER_PROBE_H

/**
 * xkv_probe_version() - send "version" over TCP to one of the candidate
 * addresses and wait (briefly) for "VERSION ...".
 * @listen: the backend's -l address, or NULL: try 127.0.0.1, ::1 and
 *          the addresses of @ifname
 * @ifname: the interface xkv serves
 * @port:   TCP port
 *
 * Return: 0 when a server answered, else -errno (-ECONNREFUSED ...).
 */
int xkv_probe_version(const char *listen, const char *ifname,
		      unsigned int port);

/**
 * xkv_probe_command() - send one command over TCP to one of the candidate
 * addresses (as xkv_probe_version() picks them) and check the reply.
 * @listen: the backend's -l address, or NULL
 * @ifname: the interface xkv serves
 * @port:   TCP port
 * @req:    the command, with its "\r\n" (at most 63 bytes of reply read)
 * @expect: what the reply must start with
 *
 * Return: 0 when a server gave the expected reply, else -errno.
 */
int xkv_probe_command(const char *listen, const char *ifname,
		      unsigned int port, const char *req, const char *expect);

/**
 * xkv_probe_port_free() - try to bind the wildcard address on a port.
 * @port:  the port
 * @type:  SOCK_STREAM or SOCK_DGRAM
 *
 * Return: 0 when the bind works (and it is released again), else -errno
 * (-EADDRINUSE when a server has it).
 */
int xkv_probe_port_free(unsigned int port, int type);

#endif /* XKV_LOADER_PROBE_H */
