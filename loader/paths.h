/* SPDX-License-Identifier: GPL-2.0 */
/*
 * paths.h - where xkv keeps its state, one set per interface:
 *
 *   /sys/fs/bpf/xkv/<ifname>/    pins: every map of the XDP object (with
 *                                BTF), the program (xkv_xdp) and the XDP
 *                                link (xkv_link), which holds the attach;
 *                                in learning mode (--backend memcached)
 *                                also the learning object's maps (xkv_l*);
 *                                while an earlier instance's TCP fast
 *                                path still translates connections
 *                                (tcpfast.h), only its xkv_tcp_* maps and
 *                                xkv_rodata
 *   /run/xkv/<ifname>.pid        the backend's pid (and start time)
 *   /run/xkv/<ifname>.log        the daemonised backend's stdout/stderr
 *
 * The pin directory is the record that xkv is up on an interface: it is
 * created first (mkdir is the lock against a concurrent "xkv up") and
 * removed last. XKV_BPFFS and XKV_RUNDIR override the two roots (tests).
 */
#ifndef XKV_LOADER_PATHS_H
#define XKV_LOADER_PATHS_H

#include <limits.h>
#include <net/if.h>
#include <stdbool.h>

#define XKV_BPFFS_DEFAULT "/sys/fs/bpf"
#define XKV_RUNDIR_DEFAULT "/run/xkv"

/* pin names in the pin directory besides the maps' own names */
#define XKV_PIN_PROG "xkv_xdp"
#define XKV_PIN_LINK "xkv_link"
#define XKV_PIN_HOT "xkv_hot"
#define XKV_PIN_STATS "xkv_stats"
#define XKV_PIN_ALLOW4 "xkv_allow4"
#define XKV_PIN_ALLOW6 "xkv_allow6"
#define XKV_PIN_LIVE "xkv_live"		/* the backend's lease */
#define XKV_PIN_ADDRS "xkv_addrs"	/* the interface's addresses */
#define XKV_PIN_PGEN "xkv_policy_gen"	/* bumped after each change */
#define XKV_PIN_RODATA "xkv_rodata"
/* the TCP fast path's maps (abi/xkv_tcp.h), of the XDP object */
#define XKV_PIN_TCP_ANS "xkv_tcp_ans"	/* the backend's publication */
#define XKV_PIN_TCP_STATS "xkv_tcp_stats"	/* per-CPU counters */
#define XKV_PIN_TCP_CTL "xkv_tcp_ctl"	/* the answer switch */
#define XKV_PIN_TCP_CONN "xkv_tcp_conn"	/* connections followed */
/* learning mode: maps of the TC learning object (learn_attach.h) */
#define XKV_PIN_LIFS "xkv_lifs"		/* what attaching did, per ifindex */
#define XKV_PIN_LSTATS "xkv_lstats"	/* its per-CPU counters */
#define XKV_PIN_LMETA "xkv_lmeta"	/* per-slot generations (bpftool) */
#define XKV_PIN_LGLOB "xkv_lglob"	/* global generation (bpftool) */
#define XKV_PIN_LRODATA "xkv_lrodata"	/* its struct xkv_learn_config */
#define XKV_PIN_LOWNER "xkv_lowner"	/* memcached's sockets */

/**
 * struct xkv_paths - the files of one interface.
 * @ifname:  interface name
 * @pin_dir: its pin directory
 * @pidfile: the backend's pid file
 * @logfile: the backend's log
 */
struct xkv_paths {
	char ifname[IF_NAMESIZE];
	char pin_dir[PATH_MAX];
	char pidfile[PATH_MAX];
	char logfile[PATH_MAX];
};

/**
 * xkv_paths_init() - fill in the paths for an interface name.
 * @p:      out
 * @ifname: interface name (checked: 1..15 bytes, no '/', not "."/"..")
 *
 * Return: 0, or -EINVAL for a name that cannot be an interface.
 */
int xkv_paths_init(struct xkv_paths *p, const char *ifname);

/**
 * xkv_pin_path() - the path of one pin of an interface.
 * @p:    the interface's paths
 * @name: pin name (XKV_PIN_*)
 * @buf:  out, PATH_MAX bytes
 *
 * Return: @buf.
 */
char *xkv_pin_path(const struct xkv_paths *p, const char *name, char *buf);

/**
 * xkv_bpffs_root() - the bpffs mount point in use.
 *
 * Return: XKV_BPFFS from the environment, else /sys/fs/bpf.
 */
const char *xkv_bpffs_root(void);

/**
 * xkv_bpffs_ensure() - make sure a bpffs is mounted at the bpffs root,
 * mounting one if not (as "ip netns exec" leaves /sys/fs/bpf).
 * @mounted: out: true if this call mounted it
 *
 * Return: 0, or -errno after printing why.
 */
int xkv_bpffs_ensure(bool *mounted);

/**
 * xkv_bpffs_is_mounted() - is the bpffs root a bpffs?
 *
 * Return: true if it is.
 */
bool xkv_bpffs_is_mounted(void);

/**
 * xkv_pin_dir_create() - create the interface's pin directory (and the
 * parent "xkv" directory).
 * @p: the interface's paths
 *
 * Return: 0, -EEXIST if it already exists (xkv is up there, or stale
 * state), or another -errno after printing why.
 */
int xkv_pin_dir_create(const struct xkv_paths *p);

/**
 * xkv_pin_dir_exists() - is there a pin directory for the interface?
 * @p: the interface's paths
 *
 * Return: true if there is.
 */
bool xkv_pin_dir_exists(const struct xkv_paths *p);

/**
 * xkv_pin_dir_remove() - remove every pin of the interface and its pin
 * directory (and the parent "xkv" directory when it is left empty).
 * @p: the interface's paths
 *
 * Return: 0, or the first -errno (after trying everything).
 */
int xkv_pin_dir_remove(const struct xkv_paths *p);

/**
 * xkv_pin_dir_prune() - remove every pin of the interface but some.
 * @p:    the interface's paths
 * @keep: names of the pins to keep, ended by NULL
 *
 * Return: 0, or the first -errno (after trying everything).
 */
int xkv_pin_dir_prune(const struct xkv_paths *p, const char *const *keep);

/**
 * xkv_run_dir_ensure() - create the run directory for pid and log files.
 *
 * Return: 0 or -errno.
 */
int xkv_run_dir_ensure(void);

/**
 * typedef xkv_iface_fn - called for each interface xkv has state for.
 * @ifname: the interface's name
 * @data:   the caller's data
 *
 * Return: 0 to go on, anything else stops the walk and is returned.
 */
typedef int (*xkv_iface_fn)(const char *ifname, void *data);

/**
 * xkv_for_each_iface() - walk the pin directories, sorted by name.
 * @fn:   called for each
 * @data: passed to @fn
 *
 * Return: the number of interfaces walked, or what @fn returned when it
 * stopped the walk (non-zero), or -errno.
 */
int xkv_for_each_iface(xkv_iface_fn fn, void *data);

/**
 * xkv_iface_arg() - the interface a command means: the one it names, else
 * the one interface xkv has state for, else "lo".
 * @arg: the IFACE argument, or NULL
 * @buf: out, IF_NAMESIZE bytes
 *
 * Return: 0, or -EINVAL after printing that several are up.
 */
int xkv_iface_arg(const char *arg, char *buf);

/**
 * xkv_paths_up() - the paths of an interface xkv must be up on.
 * @p:      out
 * @ifname: the interface
 *
 * Return: 0; -ENOENT after printing that xkv is not up there; another
 * -errno when @ifname cannot be an interface name (xkv_paths_init()).
 */
int xkv_paths_up(struct xkv_paths *p, const char *ifname);

/**
 * xkv_self_path() - a file next to the running xkv binary.
 * @name: its name ("xkvd", "xkv.ko")
 * @buf:  out, PATH_MAX bytes: "DIR/NAME", DIR the xkv binary's directory
 *
 * Return: 0, or -errno when /proc/self/exe cannot be read (nothing
 * printed).
 */
int xkv_self_path(const char *name, char *buf);

#endif /* XKV_LOADER_PATHS_H */
