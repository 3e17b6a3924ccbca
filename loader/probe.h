/* SPDX-License-Identifier: GPL-2.0 */
/*
 * probe.h - does a memcached server answer on a port? Used to tell when
 * a backend has started, and that a port is free before one is started.
 */
#ifndef XKV_LOADER_PROBE_H
#define XKV_LOADER_PROBE_H

/*
 * How clients must authenticate to a backend (xkvd and xkv.ko, as
 * memcached): SASL (-S, sasl_pwdb=): binary only, and "version" is one of
 * the few requests answered before; ASCII tokens (-Y, auth_file=): text
 * only, every command but the token answered "CLIENT_ERROR
 * unauthenticated".
 */
enum xkv_auth {
	XKV_AUTH_NONE = 0,
	XKV_AUTH_SASL = 1,
	XKV_AUTH_ASCII = 2,
};

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
 * xkv_probe_ready() - xkv_probe_version() for a backend that may ask
 * clients to authenticate first.
 * @listen: the backend's -l address, or NULL
 * @ifname: the interface xkv serves
 * @port:   TCP port
 * @auth:   enum xkv_auth: NONE "version"; SASL a binary version request,
 *          a binary reply; ASCII "version", "CLIENT_ERROR unauthenticated"
 *
 * Return: 0 when a server answered as it should, else -errno.
 */
int xkv_probe_ready(const char *listen, const char *ifname,
		    unsigned int port, unsigned int auth);

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
