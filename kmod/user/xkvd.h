/* SPDX-License-Identifier: GPL-2.0 */
/*
 * xkvd.h - the structures shared by the files of the xkvd daemon.
 *
 * xkvd runs the store core (kmod/core) in user space. The main thread
 * parses the command line, opens the sockets, starts the threads and then
 * only waits for SIGTERM/SIGINT. Each worker thread owns one epoll
 * instance, the TCP connections it accepted and one UDP session; nothing a
 * worker owns is touched by another thread. One maintenance thread runs
 * the store's background work.
 *
 * Shutdown: the main thread writes the stop eventfd once and never reads
 * it, so it stays readable and wakes every epoll instance and the
 * maintenance thread's poll() at once.
 */
#ifndef XKV_USER_XKVD_H
#define XKV_USER_XKVD_H

#include <netinet/in.h>
#include <pthread.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "busy.h"
#include "session.h"
#include "store.h"
#include "tcp.h"
#include "udp.h"

/* sysexits.h values, for exit statuses memcached users already know */
#define XKVD_EX_USAGE 64
#define XKVD_EX_NOUSER 67
#define XKVD_EX_OSERR 71

/* datagrams sent per sendmmsg() call (received: XKV_UDP_BATCH, udp.h) */
#define XKVD_UDP_SEND_BATCH 64
/* room for the IP_PKTINFO and IPV6_PKTINFO of one datagram */
#define XKVD_UDP_CMSG_SIZE 128
/* --busy-poll: its default behind XDP (--hot-map), and its largest value */
#define XKVD_BUSY_POLL_HOT_US 20
#define XKVD_BUSY_POLL_MAX_US 1000000

#define xkvd_container_of(ptr, type, member) \
	((type *)((char *)(ptr) - offsetof(type, member)))

/* what an epoll_event's data.ptr points at says what it belongs to */
enum xkvd_ev_kind {
	XKVD_EV_STOP,
	XKVD_EV_LISTEN,
	XKVD_EV_UDP,
	XKVD_EV_HANDOFF,
	XKVD_EV_CONN,
};

struct xkvd_ev {
	enum xkvd_ev_kind kind;
};

struct xkvd_server;
struct xkvd_worker;

/**
 * struct xkvd_conn - one TCP client, owned by one worker.
 * @ev:        epoll tag
 * @fd:        the socket
 * @w:         owning worker
 * @tcp:       session, read buffer and pump state (kmod/core/tcp.h);
 *             when stalled, the worker's tick tries it again
 * @events:    the epoll interest set currently registered
 * @active_ms: when a byte last came or went (xkvd_now_ms()), for the
 *             idle timeout
 * @prev:      worker's connection list
 * @next:      worker's connection list
 * @peer:      printable client address, for -vv logs
 */
struct xkvd_conn {
	struct xkvd_ev ev;
	int fd;
	struct xkvd_worker *w;
	struct xkv_tcp tcp;
	u32 events;
	u64 active_ms;
	struct xkvd_conn *prev;
	struct xkvd_conn *next;
	char peer[INET6_ADDRSTRLEN + 16];
};

/**
 * struct xkvd_udp - one worker's UDP state.
 * @io:    session, receive buffers and reply headers (kmod/core/udp.h)
 * @rmsg:  recvmmsg() descriptors
 * @riov:  one iovec per receive buffer
 * @peer:  source address of each received datagram
 * @cmsg:  control messages of each (its destination address)
 * @smsg:  sendmmsg() descriptors
 * @siov:  header and payload iovecs of each datagram sent
 * @npend: one-datagram replies waiting in @pend, sent together once the
 *         datagrams received with them are answered (smsg[0..npend))
 * @pend:  their bytes, frame header included
 */
struct xkvd_udp {
	struct xkv_udp_io io;
	struct mmsghdr rmsg[XKV_UDP_BATCH];
	struct iovec riov[XKV_UDP_BATCH];
	struct sockaddr_storage peer[XKV_UDP_BATCH];
	u64 cmsg[XKV_UDP_BATCH][XKVD_UDP_CMSG_SIZE / 8];
	struct mmsghdr smsg[XKVD_UDP_SEND_BATCH];
	struct iovec siov[XKVD_UDP_SEND_BATCH][2];
	u32 npend;
	u8 pend[XKV_UDP_BATCH][XKV_UDP_PAYLOAD];
};

/**
 * struct xkvd_worker - one worker thread.
 * @srv:          the server
 * @index:        worker number, also its statistics slot
 * @thread:       thread handle
 * @started:      @thread was created and must be joined
 * @epfd:         the worker's epoll instance
 * @stats:        counters only this worker writes
 * @conns:        connections this worker owns
 * @load:         connections owned or on their way here (atomic: other
 *                workers read it to choose, and add to it when handing one
 *                over)
 * @handoff_rd:   pipe that brings accepted sockets from other workers
 * @handoff_wr:   its write end, used by the other workers
 * @ev_handoff:   epoll tag of @handoff_rd
 * @udp:          UDP state, NULL when UDP is off
 * @accept_off:   the listen socket is out of @epfd after EMFILE and friends
 * @accept_at_ms: when to put it back (CLOCK_MONOTONIC milliseconds)
 * @warned_ms:    when the last accept warning was printed
 * @nstalled:     connections that may be stalled (counted again by the
 *                tick)
 * @stall_at_ms:  when to try stalled connections again
 * @idle_at_ms:   when to look for idle connections next
 * @busy_ok:      the kernel took @epfd's busy-poll parameters (worker.c)
 * @busy:         busy polling's state: on now or not, and the event rate
 *                it follows (busy.h)
 */
struct xkvd_worker {
	struct xkvd_server *srv;
	u32 index;
	pthread_t thread;
	bool started;
	int epfd;
	struct xkv_thread_stats *stats;
	struct xkvd_conn *conns;
	u32 load;
	int handoff_rd;
	int handoff_wr;
	struct xkvd_ev ev_handoff;
	struct xkvd_udp *udp;
	bool accept_off;
	u64 accept_at_ms;
	u64 warned_ms;
	u32 nstalled;
	u64 stall_at_ms;
	u64 idle_at_ms;
	bool busy_ok;
	struct xkvd_busy busy;
};

/**
 * struct xkvd_server - the whole daemon.
 * @set:           settings the command line produced
 * @st:            the store
 * @tcp_fd:        listen socket, -1 when TCP is off
 * @udp_fd:        UDP socket, -1 when UDP is off
 * @stop_fd:       eventfd written once at shutdown
 * @tcp_addr:      printable TCP address and port
 * @udp_addr:      printable UDP address and port
 * @ev_listen:     epoll tag of @tcp_fd
 * @ev_udp:        epoll tag of @udp_fd
 * @ev_stop:       epoll tag of @stop_fd
 * @workers:       worker array
 * @nworkers:      its length
 * @next_pick:     where the next search for the least loaded worker starts
 * @maint:         maintenance thread
 * @maint_started: @maint was created and must be joined
 * @fatal:         a thread hit an error it cannot recover from
 * @udp_pol:       whom UDP answers and how much (udp_policy.c)
 * @hot_base:      the mapped hot cache, NULL when none
 * @hot_len:       its length
 * @live:          the mapped lease, NULL when none
 * @tcp_ans:       the mapped TCP fast path table (XKV_TCP_ANS_SLOTS
 *                 entries), NULL when none: connections claim an entry
 *                 at accept and release it at close (tcp.c)
 * @busy_poll_us:  how long a worker busy-polls before it sleeps, 0 = never
 *                 (worker.c)
 * @busy_poll_asked: --busy-poll was given: say so if the kernel refuses it
 */
struct xkvd_server {
	struct xkv_settings set;
	struct xkv_store *st;
	int tcp_fd;
	int udp_fd;
	int stop_fd;
	char tcp_addr[INET6_ADDRSTRLEN + 16];
	char udp_addr[INET6_ADDRSTRLEN + 16];
	struct xkvd_ev ev_listen;
	struct xkvd_ev ev_udp;
	struct xkvd_ev ev_stop;
	struct xkvd_worker *workers;
	u32 nworkers;
	u32 next_pick;
	pthread_t maint;
	bool maint_started;
	int fatal;
	struct xkv_udp_policy *udp_pol;
	void *hot_base;
	size_t hot_len;
	struct xkv_live *live;
	struct xkv_tcp_ans *tcp_ans;
	u32 busy_poll_us;
	bool busy_poll_asked;
};

/**
 * struct xkvd_opts - what the command line sets besides the store's
 * settings.
 * @hot_map:      the --hot-map path, or NULL
 * @busy_poll_us: --busy-poll, or -1 when not given (then
 *                XKVD_BUSY_POLL_HOT_US with --hot-map, else 0)
 */
struct xkvd_opts {
	const char *hot_map;
	int busy_poll_us;
};

/* settings.c */
int xkvd_parse_args(struct xkv_settings *set, struct xkvd_opts *opts,
		    int argc, char **argv);
int xkvd_reload_pwdb(const struct xkv_settings *set, struct xkv_store *st);

/* settings_ext.c */
int xkvd_parse_ext(struct xkv_settings *set, const char *arg);

/* privs.c */
extern const char *xkvd_user;
int xkvd_drop_root(void);

/* hotmap.c */
int xkvd_hot_map_open(struct xkvd_server *srv, const char *path);
void xkvd_hot_map_close(struct xkvd_server *srv);

/* sock.c */
int xkvd_sock_open(const char *addr, u32 port, int type, char *name,
		   size_t name_len);
void xkvd_sock_name(const struct sockaddr *sa, socklen_t len, char *buf,
		    size_t buf_len);
u64 xkvd_now_ms(void);

/* accept.c */
int xkvd_tcp_watch(struct xkvd_worker *w);
int xkvd_tcp_resume(struct xkvd_worker *w, u64 now_ms);
void xkvd_tcp_accept(struct xkvd_worker *w);
int xkvd_tcp_handoff_init(struct xkvd_worker *w);
void xkvd_tcp_handoff_read(struct xkvd_worker *w);
void xkvd_tcp_handoff_exit(struct xkvd_worker *w);
void xkvd_conn_addrs(int fd, struct xkv_sess *sess);
void xkvd_sock_register(struct xkvd_server *srv);

/* tcp.c */
int xkvd_conn_new(struct xkvd_worker *w, int fd);
void xkvd_conn_event(struct xkvd_conn *c, u32 events);
void xkvd_conn_close(struct xkvd_conn *c);
int xkvd_conns_tick(struct xkvd_worker *w, u64 now_ms);

/* udp_policy.c */
struct xkv_udp_addr;
int xkvd_udp_policy_open(struct xkvd_server *srv);
void xkvd_udp_policy_close(struct xkvd_server *srv);
void xkvd_udp_peer(const struct msghdr *m, struct xkv_udp_addr *src,
		   struct xkv_udp_addr *dst);

/* udp.c */
int xkvd_udp_init(struct xkvd_worker *w);
void xkvd_udp_exit(struct xkvd_worker *w);
void xkvd_udp_read(struct xkvd_worker *w);

/* worker.c */
int xkvd_workers_start(struct xkvd_server *srv);
void xkvd_workers_stop(struct xkvd_server *srv);
void xkvd_fatal(struct xkvd_server *srv);

/* maint.c */
int xkvd_maint_start(struct xkvd_server *srv);
void xkvd_maint_stop(struct xkvd_server *srv);

#endif /* XKV_USER_XKVD_H */
